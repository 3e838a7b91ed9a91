/*
 * The versions a connector has already returned, by remote id: a listing
 * that shows a record at a version the connector read before (a poll's
 * overlap window, the echo of concord's own write) needs no second full
 * read. RT's listing shows the exact version (the newest transaction id):
 * cc_seen_covers. Redmine's shows only the second of the last change
 * (updated_on), and a change later in that same second would show the
 * same: cc_seen_read records each full read with the hub's monotonic time,
 * and a version read twice, the second read starting at least SEEN_SETTLE_MS
 * after the first one ended, is settled. The second read then took place
 * after that second was over on the system's clock (clocks run at the same
 * rate over seconds), so a later change shows a later second, and a
 * listing that shows the settled second again needs no read.
 *
 * Lives in the connector's memory only: a restarted daemon reads again,
 * which is always correct. Safe to skip a read because the hub ingests
 * every observation a connector returns or stops its intake (a store
 * failure ends the daemon, and the cache with it); a page that fails after
 * some of its records were read returns none of them, so it forgets them
 * (cc_seen_forget): kept, the next listing would skip them for good.
 *
 * Shared by the instances of one system (its polling instance and its
 * delivery slots, cc_seen_shared_new): the version a create read back is
 * the one the next poll lists, and the poll need not read that copy of
 * concord's own again: the hub takes the create's read-back whole, whether
 * the poll lists the record before or after. Where it does not (a create
 * answered after its case was linked otherwise), it audits an alert naming
 * the record; a store failure ends the daemon, and the cache with it. An
 * update's read-back stays out (base.c): the hub takes only the written
 * fields from it, so the next poll must read that version.
 *
 * Ownership: the table owns copies of the ids. A table of one instance
 * (zeroed, no mutex) is used by one thread at a time; a shared one takes
 * its mutex in every call.
 */
#ifndef CC_CONNECTORS_SEEN_H
#define CC_CONNECTORS_SEEN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEEN_SETTLE_MS 2000

struct cc_seen {
	char **ids;
	uint64_t *rv;
	int64_t *read_end_ms; /* first full read at rv ended (monotonic ms), 0: none */
	bool *settled;        /* rv read again SEEN_SETTLE_MS after that */
	size_t cap;   /* slots, a power of two (0: empty table) */
	size_t n;
	pthread_mutex_t *mu; /* a shared table's (cc_seen_shared_new), else NULL */
};

/* Remembers that the record `id` was returned at version rv (newest wins). */
void cc_seen_put(struct cc_seen *s, const char *id, uint64_t rv);
/* True when `id` was returned at version rv or a newer one. */
bool cc_seen_covers(const struct cc_seen *s, const char *id, uint64_t rv);
/*
 * Records a full read of `id` at version rv that started at start_ms and
 * ended at end_ms (monotonic): the first read of a version starts its
 * settling, a read of it again SEEN_SETTLE_MS after settles it.
 */
void cc_seen_read(struct cc_seen *s, const char *id, uint64_t rv, int64_t start_ms,
                  int64_t end_ms);
/* The version last read of `id` and whether it is settled; false when none. */
bool cc_seen_settled(const struct cc_seen *s, const char *id, uint64_t *rv);
/*
 * Forgets what was returned and read of `id`: its next listing reads it in
 * full. For observations made but never handed to the hub (a poll page
 * that failed after some of its records were read).
 */
void cc_seen_forget(struct cc_seen *s, const char *id);
void cc_seen_clear(struct cc_seen *s);

/* A table for the instances of one system, each on its own thread; NULL
 * when out of memory. Freed (with what it holds) by cc_seen_shared_free. */
struct cc_seen *cc_seen_shared_new(void);
void cc_seen_shared_free(struct cc_seen *s);

#endif
