/*
 * The store port: a versioned table of functions (like sqlite3_vfs) behind
 * which the engine keeps cases, links, shadows, the journal, the outbox,
 * poll cursors and the audit log. The engine owns this interface; the
 * backends (src/store/: memory, SQLite) implement it, and nothing outside
 * src/store/ knows how a backend keeps its data. Opening a store by URL is
 * src/store/store.h.
 *
 * All calls return 0 or a negative cc_error. Every mutation between
 * begin() and commit() is atomic: after a crash, either all of it or none
 * of it is there.
 */
#ifndef CC_CORE_STORE_H
#define CC_CORE_STORE_H

#include "core/audit.h"
#include "core/case.h"
#include "core/clock.h"

#include <stddef.h>

#define CC_STORE_OPS_VERSION 4 /* 2: notes; 3: outbox_due, several entries at once;
                                  4: case_scan_recent leaves out a system's linked cases */

/* The longest note (see note_get), its NUL included. */
#define CC_NOTE_MAX 1024

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
	uint64_t id;        /* given by the store on put (ignored there); > 0 */
	uint64_t case_id;
	int system;
	int64_t at_ms;
	char reason[160];
};

/*
 * Counters of a store, for metrics and `concord status`. journal_rows and
 * audit_rows are the sequence of the newest row (both are append-only, so
 * this is their number of rows).
 */
struct cc_store_stats {
	uint64_t rows_written;  /* rows inserted, updated or deleted since open,
	                           rolled-back ones included */
	uint64_t cases;
	uint64_t journal_rows;
	uint64_t audit_rows;
	uint64_t outbox_rows;
	uint64_t dead_letters;
};

/*
 * Callbacks of the scans: return non-zero to stop. The visited object is
 * borrowed for the call only. A callback may call other store operations,
 * but not start another scan of the same kind (that scan returns
 * CC_EINVAL).
 */
typedef int (*cc_case_visit_fn)(void *arg, const struct cc_case *c);
/* seq orders the audit: it grows with every entry appended. */
typedef int (*cc_audit_visit_fn)(void *arg, const struct cc_audit_entry *e, uint64_t seq);
typedef int (*cc_dead_letter_visit_fn)(void *arg, const struct cc_dead_letter *d);

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
	/*
	 * Visits cases created at or after since_ms, newest first, leaving out
	 * those linked to a record of system `unlinked_in` (a link_find row;
	 * -1: none left out) without loading them: a first sync's dedup looks
	 * at the cases not yet in the system the new record comes from, and
	 * must not decode every case of the burst for each record of it.
	 */
	int (*case_scan_recent)(void *self, int64_t since_ms, int unlinked_in, cc_case_visit_fn fn,
	                        void *arg);
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
	/*
	 * The earliest entries of a system due at or before now, at most max,
	 * in due order (ties by case id), into out[0..*n): *n is 0 when none is
	 * due. Several at once, for deliveries to different records in parallel.
	 */
	int (*outbox_due)(void *self, int system, int64_t now_ms, struct cc_outbox_entry *out,
	                  size_t max, size_t *n);
	/* Number of entries for a system, and the earliest due time (INT64_MAX if none). */
	int (*outbox_stat)(void *self, int system, size_t *count, int64_t *earliest_ms);

	/* Dead letters; put gives the letter the next id (d->id is ignored). */
	int (*dead_letter_put)(void *self, const struct cc_dead_letter *d);
	int (*dead_letter_count)(void *self, size_t *count);
	/* Visits every dead letter, oldest (lowest id) first. */
	int (*dead_letter_scan)(void *self, cc_dead_letter_visit_fn fn, void *arg);
	/* Removes one dead letter: CC_ENOTFOUND when no letter has this id. */
	int (*dead_letter_remove)(void *self, uint64_t id);

	int (*system_state_load)(void *self, int system, struct cc_system_state *out);
	int (*system_state_save)(void *self, int system, const struct cc_system_state *st);

	/* The audit; the entry's strings are copied, NULL kept as NULL. */
	int (*audit_append)(void *self, const struct cc_audit_entry *e);
	/* Visits the audit entries of one case (every entry when case_id is 0),
	 * oldest first. */
	int (*audit_scan)(void *self, uint64_t case_id, cc_audit_visit_fn fn, void *arg);

	/* A readable message for the last failure, "" if none. Borrowed: valid
	 * until the next call on this store. */
	const char *(*last_error)(void *self);
	int (*stats)(void *self, struct cc_store_stats *out);
	/* This store's instance id, part of every correlation id it gives out
	 * (0: none, the memory store). Made once, when the store is created. */
	int (*instance)(void *self, uint32_t *out);
	/* Small named integers that survive restarts and that another process
	 * may set (pause flags). flag_get gives 0 for a flag never set. */
	int (*flag_get)(void *self, const char *name, int64_t *out);
	int (*flag_set)(void *self, const char *name, int64_t value);
	/*
	 * Small named texts (at most CC_NOTE_MAX - 1 bytes) beside the flags,
	 * for what the daemon tells other processes: its per-system status.
	 * Set outside transactions, like the flags. note_get copies the text
	 * into buf (len bytes, truncated, always NUL-terminated); "" for a note
	 * never set.
	 */
	int (*note_get)(void *self, const char *name, char *buf, size_t len);
	int (*note_set)(void *self, const char *name, const char *value);

	void (*destroy)(void *self);
};

struct cc_store {
	const struct cc_store_ops *ops;
	void *self;
};

#endif
