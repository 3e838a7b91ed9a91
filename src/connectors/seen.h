/*
 * The versions a connector has already returned, by remote id: a listing
 * that shows a record at a version the connector read before (a poll's
 * overlap window, the echo of concord's own write) needs no second full
 * read. Only exact versions count (RT's newest transaction id); a system
 * whose listing shows no exact version does not use this.
 *
 * Lives in the connector's memory only: a restarted daemon reads again,
 * which is always correct. Safe to skip a read because the hub ingests
 * every observation a connector returns or stops its intake (a store
 * failure ends the daemon, and the cache with it).
 *
 * Ownership: the table owns copies of the ids. One thread at a time.
 */
#ifndef CC_CONNECTORS_SEEN_H
#define CC_CONNECTORS_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cc_seen {
	char **ids;
	uint64_t *rv;
	size_t cap;   /* slots, a power of two (0: empty table) */
	size_t n;
};

/* Remembers that the record `id` was returned at version rv (newest wins). */
void cc_seen_put(struct cc_seen *s, const char *id, uint64_t rv);
/* True when `id` was returned at version rv or a newer one. */
bool cc_seen_covers(const struct cc_seen *s, const char *id, uint64_t rv);
void cc_seen_clear(struct cc_seen *s);

#endif
