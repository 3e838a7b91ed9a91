/*
 * The hub: the sync pipeline of DESIGN section 4, driven from outside.
 *
 *   observe (cc_hub_poll | cc_hub_ingest) -> journal -> diff against the
 *   shadow -> merge -> project -> outbox (cc_hub_deliver) -> shadow, audit
 *
 * The hub does no I/O of its own: remote systems are reached through
 * connectors, state lives in the store, time and randomness come from the
 * environment below. The simulator and the daemon drive the same code.
 *
 * Every function returns 0, or a negative cc_error when the store failed
 * (the caller must then stop intake: nothing acknowledged is lost, since
 * the failed transaction was rolled back).
 */
#ifndef CC_HUB_H
#define CC_HUB_H

#include "core/connector.h"
#include "core/config.h"
#include "core/resolve.h"
#include "core/store.h"

struct cc_hub_env {
	int64_t (*now_ms)(void *ctx);        /* hub clock, milliseconds */
	uint64_t (*random)(void *ctx);       /* for backoff jitter */
	/* Optional: sees every audit entry after it was appended. */
	void (*on_audit)(void *ctx, const struct cc_audit_entry *e);
	/*
	 * Optional: called at each named crash point (see docs/storage.md), so
	 * that a test can kill the process exactly there. Names:
	 * "ingest-journaled", "ingest-before-commit", "batch-middle",
	 * "poll-before-cursor", "deliver-intent-committed",
	 * "deliver-after-remote-write", "deliver-after-create",
	 * "comment-after-remote".
	 */
	void (*crash_point)(void *ctx, const char *name);
	/*
	 * Optional: rewrites a connector's reason (text that may quote a remote
	 * answer) in place before the hub keeps, logs or stores it, so that no
	 * credential reaches a status, the audit or a dead letter (cap bytes,
	 * NUL-terminated; see core/redact.h).
	 */
	void (*redact)(void *ctx, char *text, size_t cap);
	/*
	 * Optional: true once the driver is stopping. The hub then starts no
	 * further delivery or poll page, and a call that failed meanwhile (an
	 * interrupted request) is neither a failure of the system nor a failed
	 * attempt: the entry stays due and the cursor where it was.
	 */
	bool (*stopping)(void *ctx);
	/*
	 * Optional, all three or none: deliveries to different records of one
	 * system at once, through the connector instances given with
	 * cc_hub_set_delivery_slots. run(ctx, n, job, args) calls job(args[i])
	 * for each i, at once (the daemon: a thread each), and returns when
	 * every call has returned. A job holds the hub (lock) for all it does
	 * but its connector calls, so the engine's state and the store are used
	 * by one job at a time and the engine stays single-threaded; a job's
	 * record is in no other job of its batch, so each record's writes stay
	 * in order. Without them, one delivery after another.
	 */
	void (*run)(void *ctx, size_t n, void (*job)(void *arg), void **args);
	void (*lock)(void *ctx);
	void (*unlock)(void *ctx);
	/*
	 * Optional, both or none (with run, lock and unlock): polls in the
	 * same round as deliveries (cc_hub_poll_and_deliver). wait(ctx), with
	 * the hub held, lets go of it until another job's wake(ctx) or a short
	 * time, then holds it again: a worker whose system has nothing due
	 * while a poll of its round is still reading waits so for what the
	 * poll brings. Without them, polls and deliveries take turns.
	 */
	void (*wait)(void *ctx);
	void (*wake)(void *ctx);
	void *ctx;
};

struct cc_hub_stats {
	uint64_t observations;   /* observations ingested */
	uint64_t duplicates;     /* same record, same remote version: dropped */
	uint64_t stale;          /* older than what the hub already saw: dropped */
	uint64_t changes;        /* fields that differed from the shadow */
	uint64_t applied;
	uint64_t writes;         /* update calls answered OK */
	uint64_t creates;        /* create calls answered OK */
	uint64_t comments;       /* comments mirrored */
	uint64_t conflicts;      /* conditional writes refused */
	uint64_t retries;        /* calls answered RETRY */
	uint64_t dead_letters;
	uint64_t polls;
	uint64_t poll_failures;
	uint64_t cursor_resets;  /* cursors found in their system's future, taken back */
	uint64_t requests[CC_MAX_SYSTEMS]; /* API budget, every request counted */
	uint64_t polls_of[CC_MAX_SYSTEMS]; /* polls per system */
	uint64_t observations_of[CC_MAX_SYSTEMS]; /* observations ingested per system */
};

struct cc_hub;

/*
 * Creates a hub. cfg, store and the connectors array (cfg->nsystems
 * entries) are borrowed and must outlive the hub. Loads per-system state
 * from the store (connectors may be NULL for a hub that only ingests, as the
 * store benchmark's). CC_EINVAL when the store or a connector implements
 * another version of its port than this build's.
 */
int cc_hub_create(struct cc_hub **out, const struct cc_config *cfg, struct cc_store *store,
                  struct cc_connector *connectors, const struct cc_hub_env *env);
void cc_hub_destroy(struct cc_hub *h);

/* Ingests one observation (a webhook, for instance); obs is not kept. */
int cc_hub_ingest(struct cc_hub *h, const struct cc_observation *obs);

/*
 * Ingests n observations in one transaction (group commit): all of them or
 * none. Observations of a system whose clock offset is not known yet are
 * ingested one by one through cc_hub_ingest instead.
 */
int cc_hub_ingest_batch(struct cc_hub *h, const struct cc_observation *obs, size_t n);

/*
 * Hands one webhook body of a system to its connector (ops->webhook) and
 * ingests the observations it returns in one transaction (body is
 * borrowed). *handled is false when the connector has no webhook op or
 * its answer was not OK: the caller then polls the system instead; *retry
 * (when not NULL) is true when that answer was RETRY, a failure that may
 * pass (the body itself was read: it is worth handing over again). Returns
 * 0, or a negative cc_error when the store failed.
 */
int cc_hub_webhook(struct cc_hub *h, int system, const char *body, size_t len, bool *handled,
                   bool *retry);

/* One incremental poll of a system: every page since its cursor. */
int cc_hub_poll(struct cc_hub *h, int system);

/*
 * Delivers up to max outbox entries of a system that are due now: one
 * after another, or, with env.run and delivery slots, by one worker per
 * slot at once (cc_hub_deliver_systems for this system alone).
 */
int cc_hub_deliver(struct cc_hub *h, int system, int max, int *delivered);
/*
 * Delivers what is due to every system not in skip (skip may be NULL), up
 * to max entries each: systems without delivery slots one after another,
 * then every worker of every other system in one round at once (a system's
 * workers never wait for another system's). *delivered: the total.
 */
int cc_hub_deliver_systems(struct cc_hub *h, const bool *skip, int max, int *delivered);
/*
 * Polls every system in poll (each through its own connector, as
 * cc_hub_poll) while the systems not in skip are delivered to, in one
 * round at once: what a poll page brings is delivered while the next page
 * is read (a first sync's copies start with its first page instead of
 * after its last). A system being polled is delivered to once its own
 * poll has ended (a record is never read by its poll while a worker
 * writes it). Workers keep going, past max, as long as a poll of the
 * round reads. Without env.run, env.wait and delivery slots: the polls one
 * after another, and no delivery. Returns 0, or the first store failure.
 */
int cc_hub_poll_and_deliver(struct cc_hub *h, const bool *poll, const bool *skip, int max,
                            int *delivered);
/* Deliveries at once to one system, at most. */
#define CC_HUB_SLOTS_MAX 16
/*
 * Gives a system n connector instances (borrowed, n <= CC_HUB_SLOTS_MAX)
 * for deliveries at once, one call in flight per instance; they must not
 * share a client with each other or with the system's own connector.
 * n <= 1: one delivery at a time through the system's connector. CC_EINVAL
 * for an instance of another connector port version, or n too large.
 */
int cc_hub_set_delivery_slots(struct cc_hub *h, int system, struct cc_connector *slots,
                              size_t n);

/*
 * A person resolves the conflict parked in `field` of case `case_id` (see
 * core/resolve.h), in one transaction: the case is loaded, cc_resolve()
 * decides at hub time, the resolution is audited (`resolved`, with who and
 * how), every linked system gets an outbox entry due now (and a system the
 * routing now asks for, its create), the case is saved and committed. The
 * delivery itself is the outbox's, as for any change. Returns 0;
 * CC_ENOTFOUND when there is no such case; CC_ENOTPARKED, CC_EINVAL or
 * CC_EUNMAPPED as cc_resolve (*out says which system); another negative
 * cc_error when the store failed (rolled back, see cc_hub_last_error).
 */
int cc_hub_resolve(struct cc_hub *h, uint64_t case_id, int field,
                   const struct cc_resolution *how, struct cc_resolve_outcome *out);

/* Earliest time something of this system is due (INT64_MAX when idle). */
int64_t cc_hub_next_due(struct cc_hub *h, int system);

/*
 * Hub time the next poll of a system is due: a poll interval after the
 * last one began; after failed polls the interval doubles with each
 * failure (with jitter) up to the larger of the interval and
 * CC_POLL_BACKOFF_MAX_MS; never while the breaker is open. 0: at once (no
 * poll yet).
 */
int64_t cc_hub_next_poll(const struct cc_hub *h, int system);

#define CC_POLL_BACKOFF_MAX_MS ((int64_t)5 * 60 * 1000)

const struct cc_hub_stats *cc_hub_stats(const struct cc_hub *h);
const char *cc_hub_last_error(const struct cc_hub *h);
/* What the hub knows of one system, for status reports. */
struct cc_hub_system_status {
	int64_t last_poll_start_ms;  /* hub time the last successful poll began, 0: never */
	int poll_failures;           /* consecutive failed polls (0: the last one worked) */
	int64_t next_poll_ms;        /* hub time the next poll is due (0: at once) */
	bool has_cursor;
	int64_t cursor_s;            /* the poll cursor, remote clock, seconds */
	int failures;                /* consecutive failed deliveries */
	int64_t open_until_ms;       /* breaker: open until then (0: closed; past: half-open,
	                                the next delivery tries again) */
	int64_t not_before_ms;       /* the system asked to wait until then (Retry-After) */
};
void cc_hub_system_status(const struct cc_hub *h, int system, struct cc_hub_system_status *out);

/* The reason of the last failed call to a system ("" after a success). */
const char *cc_hub_last_failure(const struct cc_hub *h, int system);

#endif
