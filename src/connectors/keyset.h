/*
 * Keyset order of listed records: (modification time, remote id), the
 * order in which list_changes returns records and in which the hub's
 * paging resumes (core/connector.h).
 */
#ifndef CC_CONNECTORS_KEYSET_H
#define CC_CONNECTORS_KEYSET_H

#include <stdbool.h>
#include <stdint.h>

/* Keyset order of (mtime, remote id): ids compare as numbers when both are. */
int cc_keyset_cmp(int64_t am, const char *aid, int64_t bm, const char *bid);

/* True when (m, id) comes strictly after (after_m, after_id); always without after_id. */
bool cc_keyset_after(int64_t m, const char *id, int64_t after_m, const char *after_id);

/*
 * Where a listing's search starts: since_s (0 when negative: everything),
 * or the page's keyset position when that is later.
 */
int64_t cc_list_from(int64_t since_s, int64_t after_mtime_s, const char *after_id);

#endif
