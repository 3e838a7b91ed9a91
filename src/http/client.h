/*
 * The HTTP client every remote connector uses (libcurl's multi interface):
 * one client per connected system, holding its base URL, its authentication
 * header, a token-bucket rate limiter that honours Retry-After and
 * X-RateLimit-* answers, the API budget (requests counted per operation),
 * and the live connections to the system, reused from call to call.
 * Requests go one at a time (cc_http_request) or as a batch of up to
 * max_concurrency at once (cc_http_request_many), for instance to read the
 * records of one poll page.
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
	int max_concurrency;      /* requests of a batch at once, and connections kept
	                             (0: 4; at most 16) */
};

struct cc_http_response {
	long status;              /* HTTP status, 0 when no answer */
	char *body;               /* NUL-terminated; owned, NULL when empty */
	size_t len;
	bool has_date;            /* the Date header, whole seconds since the epoch */
	int64_t date_s;
	char *location;           /* Location header of a 201, or NULL; owned */
	char etag[80];            /* the ETag, without W/ and quotes; "" when none */
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

/*
 * One request of a batch. The caller sets op, method, path and json_body
 * (borrowed until cc_http_request_many returns); the client fills resp
 * (owned by the caller afterwards: release with cc_http_response_clear) and
 * call, as cc_http_request does, except that call is cleared first, so
 * call.requests is 0 (not sent) or 1.
 */
struct cc_http_batch_item {
	const char *op, *method, *path, *json_body;
	const char *if_match;     /* an ETag: sent as If-Match: "<tag>" (NULL: none) */
	struct cc_http_response resp;
	struct cc_call call;
};

/*
 * Sends the n requests, up to max_concurrency at once, on the client's
 * connections (reused); returns when every one has ended, each with its
 * own result, mapped as for cc_http_request. Each request takes a token
 * from the rate limiter before it starts (the batch may wait for it). Once
 * any answer sets a hold (Retry-After, X-RateLimit-Remaining: 0), the items
 * not yet started answer RETRY at once without sending; those under way
 * finish. Every request sent is added to the API budget. Items are started
 * in order; resp of an item not sent is empty. resp and call are
 * overwritten, not released: clear an item's resp before reusing the item.
 * A NULL client ends every item with ERROR.
 */
void cc_http_request_many(struct cc_http_client *c, struct cc_http_batch_item *items, size_t n);

/*
 * cc_http_request with If-Match: "<if_match>": a write applied only while
 * the resource's ETag is still that one; 412 (or 409) answers CONFLICT.
 */
enum cc_result cc_http_request_if_match(struct cc_http_client *c, const char *op,
                                        const char *method, const char *path,
                                        const char *json_body, const char *if_match,
                                        struct cc_http_response *resp, struct cc_call *call);

void cc_http_response_clear(struct cc_http_response *r);

/* Requests sent so far, in all (op NULL) and for one operation name. */
uint64_t cc_http_requests(const struct cc_http_client *c, const char *op);
/* Requests sent so far per operation, into out (at most max lines, in the
 * order operations were first used); returns the number of lines filled. */
size_t cc_http_budget(const struct cc_http_client *c, struct cc_budget_line *out, size_t max);

/* Percent-escapes s for a URL query value; returns a new string (caller frees). */
char *cc_http_escape(const char *s);

#endif
