/*
 * The connector registry: the table of connector kinds (each with its
 * settings' rows), making a connector of a kind from what the
 * configuration says about one system (struct cc_connector_setup), and
 * checking a system's settings against its kind's rows. What the HTTP
 * connectors share lives in base.h and the small files it names.
 *
 * A connector creates its HTTP client (src/http/client.h) from base_url
 * and the secret; it owns it and destroys it in its destroy(). Nothing in
 * a setup is borrowed after cc_connector_create() returns, except cfg,
 * which must outlive the connector (the engine's configuration does).
 */
#ifndef CC_CONNECTORS_REGISTRY_H
#define CC_CONNECTORS_REGISTRY_H

#include "connectors/usermap.h"
#include "core/config.h"
#include "core/connector.h"

#include <stdio.h>

struct cc_http_pace;
struct cc_seen;

struct cc_http_transport;

/* One connector-specific setting, as written in the configuration. */
struct cc_connector_setting {
	const char *key;
	const char *value;
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
	/*
	 * The pace shared by every instance that talks to this system (the
	 * rate limit and the holds the system asks for; borrowed, outlives the
	 * connector). NULL: the connector's client has its own, of rate_per_sec.
	 */
	struct cc_http_pace *pace;
	/*
	 * The seen cache shared by every instance of this system
	 * (connectors/seen.h, cc_seen_shared_new; borrowed, outlives the
	 * connector). NULL: the connector keeps its own.
	 */
	struct cc_seen *seen;
	/* Asked while a request waits; true aborts it (see struct cc_http_options). */
	bool (*interrupt)(void *ctx);
	void *interrupt_ctx;
	/* A stand-in for the network (tests, fuzzers); NULL: the real one. */
	const struct cc_http_transport *transport;
	/* One line per HTTP request, for measuring (NULL: none). */
	FILE *trace;
	/* Set by cc_connector_create: the kind's row (its settings' defaults). */
	const struct cc_connector_kind *kind;
};

/*
 * A connector kind: one row of the registry's table. Adding a connector is
 * its folder (which defines this row and its meson lines), one line in the
 * table of registry.c and one doc page (docs/connectors/README.md).
 */
/*
 * What a write of some values of a remote field needs beside it: ServiceNow's
 * state 6 (Resolved) and 7 (Closed) need close_code and close_notes in the
 * same write. `concord check` refuses a mapping of the kind whose entry for
 * one of the values lacks a companion (with a default) for each needed field.
 */
struct cc_companion_need {
	const char *field;           /* the remote field ("state"); NULL ends the list */
	const char *const *values;   /* its remote values that need them, NULL-terminated */
	const char *const *needs;    /* remote fields a write of them carries, NULL-terminated */
	const char *why;             /* one line: what the system answers without them */
};

struct cc_connector_kind {
	const char *kind;                      /* "rt" */
	const char *description;               /* one line, for help texts */
	/* Makes a connector (see cc_connector_create). */
	int (*create)(struct cc_connector *out, const struct cc_connector_setup *s, char *err,
	              size_t errlen);
	const struct cc_setting_row *settings; /* ended by a row whose key is NULL */
	/* What create needs of its kind (the HTTP connectors: their struct cc_base_ops). */
	const void *impl;
	/* Values that cannot be written alone (NULL: none). */
	const struct cc_companion_need *needs;
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

#endif
