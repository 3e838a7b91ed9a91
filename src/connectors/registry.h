/*
 * The connector registry: the table of connector kinds (each with its
 * settings' rows), making a connector of a kind from what the
 * configuration says about one system, and the small helpers the HTTP
 * connectors share (settings, the user map, remote times, JSON values;
 * text is built in the one growable buffer of core/buf.h).
 *
 * The factory creates the connector's HTTP client (src/http/client.h) from
 * base_url and the secret; the connector owns it and destroys it in its
 * destroy(). Nothing in a setup is borrowed after cc_connector_create()
 * returns, except cfg, which must outlive the connector (the engine's
 * configuration does).
 */
#ifndef CC_CONNECTORS_REGISTRY_H
#define CC_CONNECTORS_REGISTRY_H

#include "core/buf.h"
#include "core/connector.h"
#include "core/config.h"
#include "core/iso8601.h"

#include <stdio.h>

struct cc_http_client;
struct cc_http_transport;
struct json_t;

/* One connector-specific setting, as written in the configuration. */
struct cc_connector_setting {
	const char *key;
	const char *value;
};

/* One line of the user map: the system's account name and the person it is. */
struct cc_connector_user {
	const char *remote;  /* RT user Name, Redmine login */
	const char *person;  /* canonical person */
};

/* One key of a connector kind's `settings:` (a row of its table). */
struct cc_setting_row {
	const char *key;
	bool required;
	const char *dflt;         /* the value when not given (NULL: none) */
	const char *description;  /* one line, for check, help texts and the docs */
};

struct cc_connector_kind;

struct cc_connector_setup {
	/*
	 * The API root: RT "http://host:port/REST/2.0", Redmine
	 * "http://host:port" (no trailing slash; a trailing one is removed).
	 */
	const char *base_url;
	const char *secret;            /* RT auth token, Redmine API key; never logged */
	const char *integration_user;  /* the account concord writes as (RT Name, Redmine login) */
	const struct cc_config *cfg;   /* the engine's configuration (borrowed, must outlive) */
	int system;                    /* index of this system in cfg->systems */
	/* RT: queue, correlation_field; Redmine: project, correlation_field. */
	const struct cc_connector_setting *settings;
	size_t nsettings;
	const struct cc_connector_user *users;
	size_t nusers;
	/* HTTP tuning, 0 for the defaults of src/http/client.h. */
	long timeout_ms;
	double rate_per_sec;
	int max_concurrency;           /* requests at once (default 4) */
	const char *ca_file;
	int64_t retry_after_max_ms;    /* the longest Retry-After honoured (0: the default) */
	/* Asked while a request waits; true aborts it (see struct cc_http_options). */
	bool (*interrupt)(void *ctx);
	void *interrupt_ctx;
	/* A stand-in for the network (tests, fuzzers); NULL: the real one. */
	const struct cc_http_transport *transport;
	/* Set by cc_connector_create: the kind's row (its settings' defaults). */
	const struct cc_connector_kind *kind;
};

/*
 * A connector kind: one row of the registry's table. Adding a connector is
 * its folder (which defines this row), one line in the table of
 * registry.c, one in meson.build and one doc page (docs/connectors/README.md).
 */
struct cc_connector_kind {
	const char *kind;                      /* "rt" */
	const char *description;               /* one line, for help texts */
	/* Makes a connector (see cc_connector_create). */
	int (*create)(struct cc_connector *out, const struct cc_connector_setup *s, char *err,
	              size_t errlen);
	const struct cc_setting_row *settings; /* ended by a row whose key is NULL */
};

/* The kinds this build knows, NULL-terminated (static). */
const struct cc_connector_kind *const *cc_connector_kind_table(void);
/* The row of a kind, NULL when unknown. */
const struct cc_connector_kind *cc_connector_kind_find(const char *kind);

/*
 * Checks the keys of a system's `settings:` against its kind's rows: 0, or
 * CC_EINVAL with a message in err when the kind is unknown, a key is not
 * one of the kind's (*bad its index) or a required one is missing (*bad -1).
 */
int cc_connector_settings_check(const char *kind, const char *const *keys, size_t n,
                                long *bad, char *err, size_t errlen);

/*
 * Makes a connector of `kind` (a row of the table) into *out and checks
 * that it implements this build's connector interface
 * (CC_CONNECTOR_OPS_VERSION). Returns 0, or a negative cc_error with a
 * message in err (never the secret) that lists the known kinds when the
 * kind is unknown. Release with out->ops->destroy(out->self).
 */
int cc_connector_create(struct cc_connector *out, const char *kind,
                        const struct cc_connector_setup *setup, char *err, size_t errlen);

/* The kinds cc_connector_create() knows, NULL-terminated (static). */
const char *const *cc_connector_kinds(void);
/* True when cc_connector_create() knows `kind`. */
bool cc_connector_kind_known(const char *kind);

/* ---- helpers shared by the HTTP connectors (not for the engine) ---- */

/*
 * Creates the HTTP client of a connector from its setup: base URL, the
 * authentication header "<auth_name>: <auth_prefix><secret>" (none without a
 * secret; wiped from memory once the client holds it), timeouts, rate and CA
 * file. Returns 0, or a negative cc_error with a message in err.
 */
int cc_setup_http_client(struct cc_http_client **out, const struct cc_connector_setup *s,
                         const char *auth_name, const char *auth_prefix, char *err,
                         size_t errlen);

/* The value of a setting, else its row's default (NULL when neither). */
const char *cc_setup_setting(const struct cc_connector_setup *s, const char *key);

/*
 * A copy of the user map, owned by a connector: remote account <-> person.
 * cc_usermap_person: the person an account is, or the account itself when
 * the map does not know it (the engine then parks a value no mapping
 * covers). cc_usermap_remote: the account a person is, or the value itself.
 */
struct cc_usermap {
	char **remote;
	char **person;
	size_t n;
};
int cc_usermap_init(struct cc_usermap *m, const struct cc_connector_setup *s);
void cc_usermap_clear(struct cc_usermap *m);
const char *cc_usermap_person(const struct cc_usermap *m, const char *remote);
const char *cc_usermap_remote(const struct cc_usermap *m, const char *person);

/* "2026-11-27T21:22:02Z" (or with a +hh:mm offset) to seconds; 0 when unparsable
 * (see cc_iso8601_parse in core/iso8601.h, which tells a bad time apart). */
int64_t cc_parse_iso8601(const char *s);

/* A JSON scalar as a string (a number printed, null and objects as NULL). */
const char *cc_json_str(struct json_t *v, char *buf, size_t len);

/*
 * A remote answer of the wrong shape (a missing array, a wrong type, an
 * unreadable time): RETRY with "WHO OP: malformed answer: WHAT" (DESIGN
 * section 12: a failed call, so a poll keeps its cursor and the breaker
 * sees it; never taken as an empty answer).
 */
enum cc_result cc_call_malformed(struct cc_call *call, const char *who, const char *op,
                                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Whether a paged listing has a page after `page` (1-based): from its
 * integer member `pages_key` when the answer has one, else from a full
 * page (n == per_page). *bad when the member is there but not an integer.
 */
bool cc_json_more_pages(struct json_t *answer, const char *pages_key, int64_t page, size_t n,
                        size_t per_page, bool *bad);

/* A call answered by the connector itself (bad answer, unknown value). */
enum cc_result cc_call_fail(struct cc_call *call, enum cc_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Where a listing's search starts: since_s (0 when negative: everything),
 * or the page's keyset position when that is later.
 */
int64_t cc_list_from(int64_t since_s, int64_t after_mtime_s, const char *after_id);

/* Keyset order of (mtime, remote id): ids compare as numbers when both are. */
int cc_keyset_cmp(int64_t am, const char *aid, int64_t bm, const char *bid);
/* True when (m, id) comes strictly after (after_m, after_id); always without after_id. */
bool cc_keyset_after(int64_t m, const char *id, int64_t after_m, const char *after_id);

/* A new string from a format (caller frees); NULL when out of memory. */
char *cc_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Equal but for trailing blanks and case (systems lowercase or pad values). */
bool cc_same_text(const char *a, const char *b);

/*
 * One JSON request of a connector: the answer sent ahead in *ahead (may be
 * NULL) when there is one, else a request on http; `who` names the
 * connector in reasons. On OK with a body, *out gets its JSON (caller
 * decrefs; NULL without a body); *status (may be NULL) the HTTP status, 0
 * without an answer; etag (may be NULL, etag_len bytes) the answer's ETag.
 * A NULL path is out of memory (RETRY).
 */
struct cc_prefetch;
enum cc_result cc_request_json(struct cc_http_client *http, struct cc_prefetch *ahead,
                               const char *who, const char *op, const char *method,
                               const char *path, struct json_t *body, struct json_t **out,
                               long *status, char *etag, size_t etag_len, struct cc_call *call);

#endif
