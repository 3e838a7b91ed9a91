/*
 * OAuth 2.0 client credentials (RFC 6749 section 4.4) for the HTTP
 * connectors whose system takes a bearer token (Microsoft Sentinel through
 * the Microsoft identity platform, ServiceNow's /oauth_token.do): a POST
 * of the form grant_type=client_credentials, client_id, client_secret (and
 * scope when given) to the token URL, through the project's HTTP client;
 * the answer's access_token, token_type (Bearer) and expires_in; the token
 * kept and fetched again before it expires (CC_OAUTH_MARGIN_S, or a tenth
 * of its lifetime when that is shorter; when that early fetch fails, the
 * token serves until its end), and at once after a 401.
 *
 * A connector hands cc_oauth_auth() to its base (b->auth, set in its
 * init): the HTTP client then asks for "Authorization: Bearer <token>"
 * before every call and renews it once after a 401.
 *
 * Answers: a token answer of the wrong shape is malformed (RETRY, the call
 * fails and is tried again later); 400 and 401 from the token endpoint are
 * ERROR quoting the remote's error and error_description (a wrong secret,
 * tenant or scope: a person must act); 429 and 5xx RETRY as the client
 * maps them. Neither the secret nor the token is ever in a reason: every
 * reason is redacted of both (core/redact.h) and of credential patterns.
 *
 * Ownership: struct cc_oauth owns copies of every string of its options,
 * its own HTTP client (to the token URL's host) and the token, wiped when
 * replaced or destroyed. One thread at a time, like the client it serves.
 */
#ifndef CC_CONNECTORS_OAUTH_H
#define CC_CONNECTORS_OAUTH_H

#include "connectors/registry.h"
#include "http/client.h"

#include <stdint.h>

/* A token is fetched again this long before it expires, at the latest. */
#define CC_OAUTH_MARGIN_S 300
/* The longest access_token accepted (Entra ID's are 1-3 KB). */
#define CC_OAUTH_TOKEN_MAX 16384

struct cc_oauth_options {
	const char *who;            /* the connector in reasons: "sentinel" */
	const char *token_url;      /* the whole URL the form is POSTed to */
	const char *client_id;
	const char *client_secret;  /* never logged */
	const char *scope;          /* NULL or "": none sent */
	/* The HTTP client's, as the connector's (cc_oauth_options_from_setup). */
	long timeout_ms;
	const char *ca_file;
	bool (*interrupt)(void *ctx);
	void *interrupt_ctx;
	const struct cc_http_transport *transport;
	FILE *trace;
	/* The clock in milliseconds (NULL: CLOCK_MONOTONIC); tests move it. */
	int64_t (*now_ms)(void *ctx);
	void *now_ctx;
};

struct cc_oauth;

/* Fills the HTTP part of o (timeouts, CA, interrupt, transport, trace) from a setup. */
void cc_oauth_options_from_setup(struct cc_oauth_options *o, const struct cc_connector_setup *s);

/*
 * Makes the token keeper (no request yet: the first call fetches the
 * token). 0, or a negative cc_error with a message in err (never the
 * secret).
 */
int cc_oauth_create(struct cc_oauth **out, const struct cc_oauth_options *o, char *err,
                    size_t errlen);
void cc_oauth_destroy(struct cc_oauth *a);

/*
 * The header line "Authorization: Bearer <token>" for the next request
 * (*line borrowed until the next call): the token kept while it is not
 * due for refresh, else a new one; renew fetches a new one whatever the
 * time (the last was refused). Requests sent are added to call->requests;
 * a failure is the call's (see above). The hook of struct cc_http_auth.
 */
enum cc_result cc_oauth_header(void *a, bool renew, const char **line, struct cc_call *call);

/* The hook for the base (b->auth) and the HTTP client. */
struct cc_http_auth cc_oauth_auth(struct cc_oauth *a);

/* ---- the pure parts, for tests ---- */

/*
 * The form of a client-credentials request: a new string (caller frees
 * and should wipe: it holds the secret), NULL when out of memory.
 */
char *cc_oauth_form(const char *client_id, const char *client_secret, const char *scope);

/*
 * Reads a token answer (the JSON body of a 200): *token a new string,
 * *expires_in_s its lifetime. expires_in may be an integer or a string
 * of digits (Entra ID's v1 endpoint sends "3599"), at least 1;
 * token_type must be Bearer (any case); the token printable ASCII without
 * blanks. false with what was wrong in why (never the token) otherwise.
 */
bool cc_oauth_parse(const char *body, size_t len, char **token, int64_t *expires_in_s,
                    char *why, size_t why_len);

/*
 * When a token obtained at got_ms (the request's start) and valid for
 * expires_in_s seconds is due for refresh: its expiry less
 * min(CC_OAUTH_MARGIN_S, expires_in_s / 10).
 */
int64_t cc_oauth_refresh_at_ms(int64_t got_ms, int64_t expires_in_s);

#endif
