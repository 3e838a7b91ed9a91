/*
 * The configuration file: a YAML document (docs/configuration.md) turned
 * into the engine's configuration (struct cc_config, core/config.h) plus
 * what the connectors and the daemon need beside it (addresses, resolved
 * secrets, connector settings, user maps). Numeric ranges (`ranges:`) are
 * in the engine's map: engine.systems[s].map[f] of kind CC_MAP_RANGE.
 * Every key, its default, its range and where it lands is a row of
 * config/schema.c (see config/schema.h); what the library cannot know
 * (the connector kinds and their settings) comes through struct
 * cc_config_options.
 *
 * Everything reachable from a struct cc_file_config lives in one arena that
 * the struct owns: it stays valid until cc_config_file_free(), which wipes
 * the memory (secrets included) before releasing it. The engine borrows
 * `engine` for as long as the struct lives.
 *
 * Secrets (`admin_token`, each system's `token`, `webhook_secret` and
 * `webhook_token`) are never written inline in the file: they are
 * `{env: NAME}` or `{file: PATH}`. Their values are held here for the
 * connectors and the listener and never appear in any message.
 */
#ifndef CC_CONFIG_FILE_H
#define CC_CONFIG_FILE_H

#include "core/config.h"

/* One line of a system's `users:` map: its account name -> a person. */
struct cc_user_entry {
	const char *remote;
	const char *person;
};

/* Where a string value came from, for summaries that must not leak it. */
enum cc_value_source {
	CC_SRC_NONE = 0,   /* absent */
	CC_SRC_INLINE,     /* written in the file */
	CC_SRC_ENV,        /* {env: NAME} */
	CC_SRC_FILE,       /* {file: PATH} */
};

struct cc_sourced {
	const char *value;         /* NULL when absent */
	enum cc_value_source source;
	const char *from;          /* the variable name or the path; NULL inline */
};

/* One connector-specific setting (`settings:`), a string. */
struct cc_setting {
	const char *key;
	const char *value;
	enum cc_value_source source; /* inline, env or file */
	const char *from;            /* the variable or the path; NULL inline */
};

/* webhook_auth: whether a system without webhook_secret or webhook_token
 * refuses its webhooks (required, the default) or takes them as they come. */
enum cc_webhook_auth_word {
	CC_WEBHOOK_AUTH_REQUIRED = 0,
	CC_WEBHOOK_AUTH_UNAUTHENTICATED = 1, /* "none" */
};

/* Per system, what its connector and the listener need beside the
 * engine's cc_system_def. */
struct cc_system_file {
	struct cc_sourced url;
	struct cc_sourced token;   /* a secret: never print token.value */
	/* incoming webhooks: at most one of the two secrets (never printed) */
	struct cc_sourced webhook_secret; /* HMAC-SHA256 key of X-Concord-Signature */
	struct cc_sourced webhook_token;  /* Authorization: Bearer of senders that cannot sign */
	int webhook_auth;                 /* enum cc_webhook_auth_word */
	const struct cc_setting *settings;
	size_t nsettings;
	const struct cc_user_entry *users;
	size_t nusers;
	/* HTTP tuning, 0 / NULL for the client's defaults */
	long timeout_ms;
	double rate_per_sec;
	int max_concurrency;
	const char *ca_file;
	int64_t retry_after_max_ms; /* the longest Retry-After honoured (0: 10 min) */
};

struct cc_file_config {
	/* The engine's configuration; systems[i] pairs with system[i] below. */
	struct cc_config engine;
	struct cc_system_file system[CC_MAX_SYSTEMS];
	const char *path;          /* the file loaded, as given */
	const char *store;         /* store URL, NULL when the file names none */
	const char *listen;        /* host:port, default "127.0.0.1:8484" */
	bool listen_public;        /* listen may be a non-loopback address */
	struct cc_sourced admin_token; /* a secret: never print its value */
	struct cc_arena *arena;    /* owns everything above */
};

#define CC_DEFAULT_LISTEN "127.0.0.1:8484"

/*
 * Limits of the loader (docs/configuration.md says why):
 * CC_CONFIG_NAME_MAX   the longest name of a system, field, kind or setting,
 *                      in bytes; other parts of concord may size buffers
 *                      from it.
 * CC_CONFIG_FILE_MAX   the largest configuration file, in bytes.
 * CC_CONFIG_ALIASES_MAX, CC_CONFIG_EXPANDED_MAX, CC_CONFIG_DEPTH_MAX
 *                      a file that uses aliases: at most this many aliases,
 *                      nodes once every alias is expanded, and levels of
 *                      nesting once expanded.
 * CC_CONFIG_VALUE_FILE_MAX  the largest file a {file: PATH} value may name.
 */
#define CC_CONFIG_NAME_MAX 64
#define CC_CONFIG_FILE_MAX (1024 * 1024)
#define CC_CONFIG_ALIASES_MAX 100
#define CC_CONFIG_EXPANDED_MAX 10000
#define CC_CONFIG_DEPTH_MAX 64
#define CC_CONFIG_VALUE_FILE_MAX 65536

/*
 * What the caller knows that the configuration library does not: the
 * connector kinds of this build and the settings each one reads (the
 * library does not depend on the connectors; src/config/registry_check.h
 * gives the options that ask the connector registry).
 */
struct cc_config_options {
	/*
	 * Checks a system's connector `kind` and the keys of its `settings:`
	 * (n of them, in the file's order; borrowed for the call). Returns 0
	 * when they are fine; otherwise non-zero, a message in err (no
	 * position: the loader adds it) and *bad saying what is at fault:
	 *   CC_CONFIG_BAD_KIND    the kind (reported at `kind:`);
	 *   0 .. n-1              that setting (reported at its key);
	 *   CC_CONFIG_BAD_SYSTEM  the system as a whole, such as a required
	 *                         setting missing (reported at `settings:`,
	 *                         else at the system).
	 * The loader calls it once with the kind alone (n 0), where it heeds
	 * only CC_CONFIG_BAD_KIND, and once with the settings. NULL: any kind
	 * and any settings are accepted.
	 */
	int (*check_system)(void *ctx, const char *kind, const char *const *setting_keys,
	                    size_t n, long *bad, char *err, size_t errlen);
	/*
	 * Optional, for "did you mean": writes into names (at most max) the
	 * names accepted in place of a bad one: the known kinds when kind is
	 * NULL, else the setting keys of kind. Returns how many it wrote.
	 */
	size_t (*accepted)(void *ctx, const char *kind, const char **names, size_t max);
	/*
	 * Optional: checks a system's field maps against what its kind's writes
	 * need (a value that cannot be written without companions). Returns 0,
	 * or non-zero with a message in err and *field the canonical field at
	 * fault (the loader points at it).
	 */
	int (*check_mapping)(void *ctx, const struct cc_config *cfg, const struct cc_system_def *sd,
	                     int *field, char *err, size_t errlen);
	void *ctx;
};

#define CC_CONFIG_BAD_SYSTEM (-1L)
#define CC_CONFIG_BAD_KIND (-2L)

/*
 * Loads and checks the file at `path`. On success returns 0 and sets *out
 * to a configuration the caller releases with cc_config_file_free(). On
 * failure returns a negative cc_error, sets *out to NULL and writes
 * "PATH:LINE:COLUMN: what is wrong" into err (never a secret's value).
 * opt (borrowed for the call) checks kinds and settings; NULL accepts any.
 */
int cc_config_file_load(struct cc_file_config **out, const char *path,
                        const struct cc_config_options *opt, char *err, size_t errlen);

/*
 * Loads and checks a configuration held in memory: len bytes of text (not
 * necessarily NUL-terminated, borrowed for the call only). `name` is what
 * messages call the file, and the folder of `name` is where a relative
 * {file: PATH} is looked for (the working directory when name has no '/').
 * opt, out, err: as cc_config_file_load(). The file loader reads the file
 * and calls this; so does the fuzzer (tests/fuzz/fuzz_config.c).
 */
int cc_config_file_load_text(struct cc_file_config **out, const char *name, const char *text,
                             size_t len, const struct cc_config_options *opt, char *err,
                             size_t errlen);

/* Wipes and releases c and everything it owns. NULL is allowed. */
void cc_config_file_free(struct cc_file_config *c);

/* The value of setting `key` of system `system`, or NULL (borrowed). */
const char *cc_config_file_setting(const struct cc_file_config *c, size_t system,
                                   const char *key);

/* Index of a system by name, or -1. */
int cc_config_file_system(const struct cc_file_config *c, const char *name);

/* The person that account `remote` of system `system` is, or NULL. */
const char *cc_config_file_person(const struct cc_file_config *c, size_t system,
                                  const char *remote);

#endif
