/*
 * What every command that opens a store shares: the --store option, its
 * default, and turning the store's errors into one clear message.
 */
#ifndef CC_CLI_STORE_H
#define CC_CLI_STORE_H

#include "store/store.h"

/* Where the store is when no --store is given: $CONCORD_STORE, else this. */
#define CC_DEFAULT_STORE "sqlite:concord.db"

/*
 * Finds "--store URL" in argv (removing nothing) and opens that store, or
 * the default. On failure prints "concord CMD: ..." to stderr and returns
 * non-zero. The caller releases the store with st->ops->destroy().
 */
int cc_cli_open_store(const char *cmd, int argc, char **argv, struct cc_store *st);

/* The store URL the command would open (borrowed). */
const char *cc_cli_store_url(int argc, char **argv);

/*
 * A case as the user writes it, "42" or "concord-42": 0 with *id, or
 * CC_EINVAL for anything else (0, a sign, trailing text).
 */
int cc_cli_parse_case(const char *s, uint64_t *id);

/* Formats a hub time in ms: ISO 8601 UTC for real times, "+H:MM:SS.mmm"
 * for simulated ones (small values). */
void cc_cli_format_time(char *buf, size_t len, int64_t ms);

#endif
