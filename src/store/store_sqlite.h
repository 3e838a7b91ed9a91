/*
 * What only the SQLite store offers, for the command line and the
 * benchmark: online backup, explicit schema migration and a raw insert
 * measurement. Opening the store is cc_store_sqlite_open() in store.h.
 * Like store.h, this header hides sqlite3.h: nothing outside src/store/
 * includes it.
 */
#ifndef CC_STORE_SQLITE_H
#define CC_STORE_SQLITE_H

#include "store/store.h"

/* The schema version this build writes (see the migrations in store_sqlite.c). */
int cc_store_sqlite_schema_version(void);

/*
 * Copies the open SQLite store st into dest_path with SQLite's online
 * backup: a consistent snapshot of the last commit, taken while the store
 * stays usable. dest_path is created, or replaced when it exists; it opens
 * as a store like any other. Fails with CC_EINVAL (message in err) when st
 * is not a SQLite store, has a transaction open, or dest_path is its own
 * file; CC_ESTORE when the copy fails (nothing usable is left at dest_path
 * then).
 */
int cc_store_sqlite_backup(struct cc_store *st, const char *dest_path, char *err, size_t errlen);

/*
 * Brings the store at path (which must exist) to this build's schema, in
 * one transaction, and reports the version found (*from) and the version
 * now (*to); both are equal when there was nothing to do. Fails like
 * cc_store_sqlite_open(), e.g. for a schema newer than this build.
 */
int cc_store_sqlite_migrate(const char *path, int *from, int *to, char *err, size_t errlen);

/*
 * Measures raw insert speed at path, a scratch file (its table `bench` is
 * replaced): `rows` rows of `row_bytes` bytes (an integer key with its own
 * index and a blob) in transactions of `batch` rows, with the pragmas of
 * the store (opt may be NULL). Reports rows per second of wall time.
 */
int cc_sqlite_raw_insert_rate(const char *path, const struct cc_sqlite_options *opt, size_t rows,
                              size_t batch, size_t row_bytes, double *rows_per_sec);

#endif
