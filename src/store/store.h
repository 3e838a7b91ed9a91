/*
 * The store interface: a versioned table of functions (like sqlite3_vfs)
 * behind which the engine keeps cases, links, shadows, the journal, the
 * outbox, poll cursors and the audit log. Backends: memory (tests and the
 * simulator) and, later, SQLite and PostgreSQL. Nothing outside src/store/
 * knows how a backend keeps its data.
 *
 * All calls return 0 or a negative cc_error. Every mutation between
 * begin() and commit() is atomic: after a crash, either all of it or none
 * of it is there.
 */
#ifndef CC_STORE_H
#define CC_STORE_H

#include "core/audit.h"
#include "core/case.h"
#include "core/clock.h"

#define CC_STORE_OPS_VERSION 1

/* Per-system state that survives restarts. */
struct cc_system_state {
	int64_t cursor_mtime_s;      /* newest remote modification time polled */
	bool has_cursor;
	int64_t last_poll_start_ms;  /* hub time a successful poll started */
	struct cc_clock_offset offset;
};

/* One delivery due for (case, system). */
struct cc_outbox_entry {
	uint64_t case_id;
	int system;
	int64_t due_ms;
	int64_t first_ms;   /* when this delivery was first wanted */
	uint32_t attempts;  /* failed attempts so far */
};

struct cc_dead_letter {
	uint64_t case_id;
	int system;
	int64_t at_ms;
	char reason[160];
};

/* Callback for case candidates: return non-zero to stop. */
typedef int (*cc_case_visit_fn)(void *arg, const struct cc_case *c);

struct cc_store_ops {
	int version; /* CC_STORE_OPS_VERSION */
	const char *name;

	int (*begin)(void *self);
	int (*commit)(void *self);
	int (*rollback)(void *self);

	/* Cases. case_new assigns the next id; load fills *out (caller clears). */
	int (*case_new)(void *self, uint64_t *out_id);
	int (*case_load)(void *self, uint64_t id, struct cc_case *out);
	int (*case_save)(void *self, const struct cc_case *c);
	/* Case linked to (system, remote_id): CC_ENOTFOUND when none. */
	int (*link_find)(void *self, int system, const char *remote_id, uint64_t *out_id);
	/* Visits cases created at or after since_ms, newest first. */
	int (*case_scan_recent)(void *self, int64_t since_ms, cc_case_visit_fn fn, void *arg);
	/* Visits cases still waiting for their create in `system`, by id. */
	int (*case_scan_creating)(void *self, int system, cc_case_visit_fn fn, void *arg);
	/* Visits every case, by id. */
	int (*case_scan_all)(void *self, cc_case_visit_fn fn, void *arg);

	/* Journal: one row per accepted observation; returns its sequence. */
	int (*journal_append)(void *self, int system, const char *remote_id, uint64_t rv,
	                      int64_t at_ms, uint64_t *out_seq);

	/* Outbox: one entry per (case, system); put replaces. */
	int (*outbox_put)(void *self, const struct cc_outbox_entry *e);
	int (*outbox_get)(void *self, uint64_t case_id, int system, struct cc_outbox_entry *out);
	int (*outbox_remove)(void *self, uint64_t case_id, int system);
	/* Earliest entry of a system due at or before now: CC_ENOTFOUND if none. */
	int (*outbox_next)(void *self, int system, int64_t now_ms, struct cc_outbox_entry *out);
	/* Number of entries for a system, and the earliest due time (INT64_MAX if none). */
	int (*outbox_stat)(void *self, int system, size_t *count, int64_t *earliest_ms);

	int (*dead_letter_put)(void *self, const struct cc_dead_letter *d);
	int (*dead_letter_count)(void *self, size_t *count);

	int (*system_state_load)(void *self, int system, struct cc_system_state *out);
	int (*system_state_save)(void *self, int system, const struct cc_system_state *st);

	int (*audit_append)(void *self, const struct cc_audit_entry *e);

	void (*destroy)(void *self);
};

struct cc_store {
	const struct cc_store_ops *ops;
	void *self;
};

/* The in-memory backend. Returns CC_ENOMEM on failure. */
int cc_store_memory_open(struct cc_store *out);

/*
 * Simulated crash for the memory backend: rolls back the open transaction
 * and refuses every later commit until cc_store_memory_restart().
 */
void cc_store_memory_crash(struct cc_store *st);
void cc_store_memory_restart(struct cc_store *st);

#endif
