/*
 * What an operator asks of a sync, shared by the command line (`concord
 * status`, `pause`, `resume`, `resync`, `conflicts`) and the daemon's admin
 * API: the pause flags, re-syncing a case, the manual queue (conflicts
 * parked for a person, and their resolution), and the per-system status that the
 * daemon writes into the store so that another process can show it.
 * Everything here goes through the store interface only; the caller owns
 * the store and calls from the thread that owns it.
 */
#ifndef CC_DAEMON_CONTROL_H
#define CC_DAEMON_CONTROL_H

#include "core/config.h"
#include "core/resolve.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sets or clears the pause flag of a system (by name; not checked here). */
int cc_control_pause(struct cc_store *st, const char *system, bool paused);
/* Reads the pause flag of a system; false when never set. */
int cc_control_paused(struct cc_store *st, const char *system, bool *out);

/*
 * Marks every linked record of a case to be read again and queues a
 * delivery for it now, in one transaction. *records receives how many.
 * Returns CC_ENOTFOUND when there is no such case, another negative
 * cc_error when the store failed (rolled back; see st's last_error).
 */
int cc_control_resync(struct cc_store *st, uint64_t case_id, int64_t now_ms, size_t *records);

/* One side of a parked conflict, as an operator sees it. */
struct cc_conflict_side {
	int system;               /* the system the value came from, -1: none known */
	const char *value;        /* canonical terms; borrowed for the visit */
	struct cc_version ver;
	const char *author;       /* who made that change, from the audit; NULL: not known */
};

/* A conflict parked for a person: the case side and the parked side. */
struct cc_conflict_report {
	uint64_t case_id;
	int field;
	struct cc_conflict_side case_side, parked;
};

/* Return non-zero to stop; the report is borrowed for the call. */
typedef int (*cc_conflict_visit_fn)(void *arg, const struct cc_conflict_report *r);

/*
 * Visits every conflict parked for a person, by case then field. The
 * authors come from the audit (the change that set the case value, the
 * change that was parked). Returns 0, what fn returned when it stopped the
 * visit, or a negative cc_error when the store failed (see last_error).
 */
int cc_control_conflicts(struct cc_store *st, const struct cc_config *cfg,
                         cc_conflict_visit_fn fn, void *arg);

/*
 * Resolves the conflict parked in `field` of a case, as a person (how->by)
 * decided, at now_ms: load, resolve, audit, an outbox entry due now for
 * every linked system, save, commit, in one transaction (cc_hub_resolve);
 * a running daemon then delivers it like any change. Returns 0;
 * CC_ENOTFOUND (no such case), CC_ENOTPARKED (nothing parked in that field),
 * CC_EINVAL (how->take is not a side: out->system), CC_EUNMAPPED (a linked
 * system cannot carry the value: out->system); another negative cc_error
 * when the store failed (rolled back; see st's last_error).
 */
int cc_control_resolve(struct cc_store *st, const struct cc_config *cfg, uint64_t case_id,
                       int field, const struct cc_resolution *how, int64_t now_ms,
                       struct cc_resolve_outcome *out);

/*
 * The status the daemon keeps per system and writes into the store (a
 * note named "status:SYSTEM") when it polled that system: at most once per
 * poll, and once when it stops.
 */
struct cc_system_status {
	int64_t updated_ms;          /* when the daemon wrote it (wall clock) */
	int64_t last_poll_ok_ms;     /* start of the last successful poll, 0: never */
	int64_t last_failure_ms;     /* when the last failure was seen, 0: never */
	char last_failure[160];      /* its reason, "" when none */
	bool failing;                /* the last call to the system failed */
	int breaker_failures;        /* consecutive failed deliveries or polls */
	int poll_failures;           /* consecutive failed polls */
	bool has_cursor;
	int64_t cursor_s;            /* the poll cursor (remote clock, seconds) */
	int64_t breaker_open_until_ms; /* 0: closed; in the past: half-open */
	uint64_t requests;           /* API requests since the daemon started */
	uint64_t polls;              /* polls since the daemon started */
	uint64_t webhooks;           /* webhook bodies received since the daemon started */
	uint64_t webhooks_dropped;   /* ... dropped because the queue was full */
	uint64_t webhooks_rejected;  /* webhooks refused: not authenticated */
};

int cc_control_status_save(struct cc_store *st, const char *system,
                           const struct cc_system_status *s);
/* *found false (and *out zeroed) when the daemon never wrote one. */
int cc_control_status_load(struct cc_store *st, const char *system,
                           struct cc_system_status *out, bool *found);

/* "closed", "open" or "half-open" (static strings). */
const char *cc_control_breaker_state(const struct cc_system_status *s, int64_t now_ms);

/* Formats wall-clock ms as ISO 8601 UTC ("never" for 0). */
void cc_control_format_time(char *buf, size_t len, int64_t ms);

/* Everything `concord status` shows of one system. */
struct cc_system_report {
	bool paused;
	size_t outbox;
	size_t dead_letters;
	size_t parked;               /* records parked or with unmapped values */
	bool has_status;             /* the daemon wrote a status (else: only the store's) */
	struct cc_system_status status;
};

/*
 * Fills out[0 .. cfg->nsystems - 1] from the store, and the number of
 * cases and of conflicts parked for a person. The status part is the one
 * the daemon last wrote; the last good poll falls back to the store's
 * system state.
 */
int cc_control_report(struct cc_store *st, const struct cc_config *cfg,
                      struct cc_system_report *out, size_t *cases, size_t *conflicts);

#endif
