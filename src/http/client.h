/*
 * The HTTP client every remote connector uses (libcurl): one client per
 * connected system, holding its base URL, its authentication header, a
 * token-bucket rate limiter that honours Retry-After and X-RateLimit-*
 * answers, and the API budget (requests counted per operation).
 *
 * It never retries: each request ends OK, RETRY (with the delay the system
 * asked for), ERROR (with the reason) or CONFLICT (409/412), and the
 * engine's outbox decides what happens next (DESIGN section 4).
 * TLS verification is always on. Secrets given to it are never logged.
 */
#ifndef CC_HTTP_CLIENT_H
#define CC_HTTP_CLIENT_H

#include "connectors/connector.h"

struct cc_http_options {
	const char *base_url;     /* "https://rt.example.org/REST/2.0" (no trailing slash) */
	const char *auth_header;  /* whole header line, e.g. "Authorization: token ..."; may be NULL */
	long timeout_ms;          /* whole request (default 30000) */
	long connect_timeout_ms;  /* default 5000 */
	double rate_per_sec;      /* sustained request rate (0: unlimited) */
	double burst;             /* bucket size (default: max(1, rate)) */
	const char *ca_file;      /* extra CA bundle, or NULL for the system's */
	size_t max_body;          /* largest response accepted (default 16 MiB) */
};

struct cc_http_response {
	long status;              /* HTTP status, 0 when no answer */
	char *body;               /* NUL-terminated; owned, NULL when empty */
	size_t len;
	bool has_date;            /* the Date header, whole seconds since the epoch */
	int64_t date_s;
	char *location;           /* Location header of a 201, or NULL; owned */
};

struct cc_http_client;

/* Returns 0 or a negative cc_error with a message in err. */
int cc_http_client_create(struct cc_http_client **out, const struct cc_http_options *o,
                          char *err, size_t errlen);
void cc_http_client_destroy(struct cc_http_client *c);

/*
 * One request: method "GET", "POST", "PUT" or "DELETE"; path is appended
 * to base_url (it may carry a query string, already escaped); json_body
 * (NULL for none) is sent with Content-Type: application/json. `op` names
 * the operation for the API budget ("list", "read", "create", ...).
 * Fills *resp (release with cc_http_response_clear) and *call: result,
 * reason, retry_after_ms, has_date/date_s, requests. Mapping: 2xx OK;
 * 409 and 412 CONFLICT; 429 and 503 RETRY with Retry-After (seconds or an
 * HTTP date); other 5xx RETRY, with outcome_unknown set for anything but GET
 * (a gateway's 502 or 504 may follow an applied write); a timeout or a
 * dropped connection RETRY, with outcome_unknown set for anything but GET
 * once the request may have left; other 4xx ERROR (the reason
 * quotes the status and the start of the body).
 * The rate limiter may make the call wait (never longer than the limiter's
 * own delay); when a Retry-After is in force it answers RETRY at once
 * without sending anything.
 */
enum cc_result cc_http_request(struct cc_http_client *c, const char *op, const char *method,
                               const char *path, const char *json_body,
                               struct cc_http_response *resp, struct cc_call *call);

void cc_http_response_clear(struct cc_http_response *r);

/* Requests sent so far, in all and for one operation name. */
uint64_t cc_http_requests(const struct cc_http_client *c, const char *op);

/* Percent-escapes s for a URL query value; returns a new string (caller frees). */
char *cc_http_escape(const char *s);

#endif
