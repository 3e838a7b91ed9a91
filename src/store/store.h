/*
 * The store backends and how a store is opened by URL: one table of
 * {scheme, open} (store.c) that the command line, the configuration and
 * the simulator name a backend through, and each backend's own
 * constructor and options. The interface itself is the engine's port,
 * core/store.h.
 */
#ifndef CC_STORE_H
#define CC_STORE_H

#include "core/store.h"

/* A store URL taken apart: "SCHEME:REST", or "SCHEME" alone for a backend that takes no path. */
struct cc_store_url {
	char scheme[16];   /* lower case: "memory", "sqlite", ... */
	const char *rest;  /* what follows the first ':' (borrowed from the URL); "" if none */
};

/*
 * Parses a store URL without opening anything: a scheme of letters, digits,
 * '+', '-' or '.' (at most 15), then ':' and the rest (a scheme whose
 * backend takes no path, "memory", may stand alone). Returns 0, or
 * CC_EINVAL with a message in err that names the accepted forms; a
 * password in the URL is never echoed.
 */
int cc_store_url_parse(const char *url, struct cc_store_url *out, char *err, size_t errlen);

/* One backend of the table in store.c. */
struct cc_store_backend {
	const char *scheme;       /* "sqlite" */
	const char *form;         /* how a URL names it: "sqlite:PATH" */
	const char *description;  /* one line, for help texts */
	bool takes_path;          /* "scheme:REST" with a REST; false: the scheme alone */
	/*
	 * What was committed survives the store being closed, and its process
	 * killed, and is there when the same URL is opened again (another
	 * process may open it): the daemon's store, the simulator's crashes and
	 * its hub in a child process need it.
	 */
	bool durable;
	/* Opens the store that `rest` (what follows "scheme:") names. */
	int (*open)(struct cc_store *out, const char *rest, char *err, size_t errlen);
	/*
	 * Optional (durable backends): empties the store `rest` names, so that
	 * the next open starts from nothing (the simulator's runs, tests). 0,
	 * or a negative cc_error with a message in err.
	 */
	int (*wipe)(const char *rest, char *err, size_t errlen);
};

/* The backends this build knows (*n of them), for help texts and errors. */
const struct cc_store_backend *cc_store_backends(size_t *n);

/*
 * The backend a URL names (the URL parsed into *u, which may be NULL), or
 * NULL with a message in err listing the accepted forms (the URL's rest is
 * never echoed). Opens nothing.
 */
const struct cc_store_backend *cc_store_backend_of(const char *url, struct cc_store_url *u,
                                                   char *err, size_t errlen);

/*
 * Empties the durable store a URL names (its backend's wipe). 0, or
 * CC_EINVAL for a URL of no durable backend, or the backend's error; a
 * message in err.
 */
int cc_store_wipe(const char *url, char *err, size_t errlen);

/*
 * Opens a store named by a URL ("memory", "sqlite:PATH") through the table
 * of backends, and checks that the backend implements this build's store
 * interface (CC_STORE_OPS_VERSION). On failure returns a negative cc_error
 * (CC_EINVAL for a URL no backend takes, or another interface version) and
 * writes a message into err that lists the accepted forms and never echoes
 * what follows the scheme (it may hold a password). The caller releases
 * the store with out->ops->destroy(out->self).
 */
int cc_store_open(struct cc_store *out, const char *url, char *err, size_t errlen);

/* The in-memory backend. Returns CC_ENOMEM on failure. */
int cc_store_memory_open(struct cc_store *out);

/* Options of the SQLite backend; a NULL options pointer means the defaults. */
struct cc_sqlite_options {
	bool synchronous_full; /* fsync every commit (default: NORMAL, which in WAL
	                          mode may lose the last commits on power loss,
	                          never consistency) */
	int cache_mb;          /* page cache, MB (0: 64) */
	int busy_timeout_ms;   /* wait for another process's lock (0: 5000) */
	uint32_t max_pages;    /* cap the file at this many pages, 4 KiB each
	                          (0: no cap); a quota, and how tests fill a disk */
};

/*
 * Opens (creating when missing) the SQLite store at path, migrating an
 * older schema forward in one transaction. On failure returns CC_ESTORE
 * (CC_ENOMEM, CC_EINVAL) with a message in err naming the path: locked,
 * corrupt, not a concord store, unwritable, or a schema newer than this
 * build. See store_sqlite.h for backup and migration.
 */
int cc_store_sqlite_open(struct cc_store *out, const char *path,
                         const struct cc_sqlite_options *opt, char *err, size_t errlen);

/*
 * Simulated crash for the memory backend: rolls back the open transaction
 * and refuses every later commit until cc_store_memory_restart().
 */
void cc_store_memory_crash(struct cc_store *st);
void cc_store_memory_restart(struct cc_store *st);

#endif
