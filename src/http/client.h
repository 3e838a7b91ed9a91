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

#include "core/connector.h"

#include <stdio.h>

/*
 * An authentication header that changes (an OAuth 2.0 bearer token,
 * src/connectors/oauth.h): asked before each call (a request or a batch)
 * for the header line to send, "Authorization: Bearer ..." in *line
 * (borrowed until the next call of the hook). With renew set, the last
 * line was refused (401): get a new one. An answer other than CC_OK ends
 * the call's requests unsent with the hook's result and reason. Requests
 * the hook made itself are added to call->requests. The client copies the
 * line, sends it like a fixed auth_header, never logs it, and wipes it.
 */
struct cc_http_auth {
	enum cc_result (*header)(void *ctx, bool renew, const char **line, struct cc_call *call);
	void *ctx;
};

struct cc_http_options {
	const char *base_url;     /* "https://rt.example.org/REST/2.0" (no trailing slash) */
	const char *auth_header;  /* whole header line, e.g. "Authorization: token ..."; may be NULL */
	/*
	 * A header that changes, in place of auth_header (NULL: none): asked
	 * before each call; a request answered 401 is sent once more after
	 * the hook was asked with renew (a second 401 is the answer).
	 */
	const struct cc_http_auth *auth;
	/*
	 * Another value no reason may show besides the auth header's (NULL:
	 * none); never sent: the password a Basic header holds encoded (the
	 * same option as the Sentinel branch's, for a client secret).
	 */
	const char *secret;
	long timeout_ms;          /* whole request (default 30000) */
	long connect_timeout_ms;  /* default 5000 */
	double rate_per_sec;      /* sustained request rate (0: unlimited) */
	double burst;             /* bucket size (default: max(1, rate)) */
	const char *ca_file;      /* extra CA bundle, or NULL for the system's */
	size_t max_body;          /* largest response accepted (default 16 MiB) */
	int max_concurrency;      /* requests of a batch at once, and connections kept
	                             (0: 4; at most 16) */
	int64_t hold_max_ms;      /* the longest Retry-After (or rate-limit reset)
	                             honoured (0: CC_HTTP_HOLD_MAX_MS) */
	/*
	 * Called at least every CC_HTTP_INTERRUPT_MS while a call waits (for
	 * answers, for a rate-limit token). When it returns true, every request
	 * under way is aborted and every one not started is not sent: they end
	 * RETRY with the reason "interrupted", outcome unknown for a write that
	 * may have left. It may do other work (the daemon answers its admin
	 * requests there) but must not use this client. NULL: never.
	 */
	bool (*interrupt)(void *ctx);
	void *interrupt_ctx;
	/*
	 * The pace to share (borrowed, must outlive the client): the token
	 * bucket and the hold a system asked for, common to every client that
	 * talks to the same system at once. NULL: the client's own, from
	 * rate_per_sec and burst (which a shared pace ignores).
	 */
	struct cc_http_pace *pace;
	/* A stand-in for the network (tests, fuzzers, replayed answers); NULL: libcurl. */
	const struct cc_http_transport *transport;
	/* When set, one line per request (time, operation, method, path, status,
	 * duration; never a header) for measuring; CONCORD_TRACE=http in the daemon. */
	FILE *trace;
};

#define CC_HTTP_INTERRUPT_MS 100
/* Requests at once when max_concurrency is 0 (the `concurrency` key's default). */
#define CC_HTTP_CONCURRENCY_DEFAULT 4
/* By default, a Retry-After (or rate-limit reset) further away than this is taken as this. */
#define CC_HTTP_HOLD_MAX_MS ((int64_t)10 * 60 * 1000)

/* How a stand-in transport's request ended. */
enum cc_http_fault {
	CC_HTTP_ANSWERED = 0, /* status, headers and body below are the answer */
	CC_HTTP_REFUSED,      /* the connection was refused: nothing was sent */
	CC_HTTP_TIMEOUT,      /* no whole answer in time: the request may have arrived */
	CC_HTTP_DROPPED,      /* the connection dropped after the request left */
};

/* One answer of a stand-in transport, in wire form. */
struct cc_http_raw_answer {
	enum cc_http_fault fault;
	long status;
	const char *headers;      /* "Name: value" lines (CRLF or LF), or NULL */
	size_t headers_len;
	const char *body;         /* or NULL */
	size_t body_len;
};

/*
 * A stand-in for the network: the client hands it each request it would
 * send and maps its answer exactly as a real one (headers parsed by the same
 * code, the same limits, rate limits and budget). Requests are answered one
 * after another, in the order they would start.
 */
struct cc_http_transport {
	/*
	 * Answers one request (method, the whole URL, the body or NULL, the
	 * If-Match tag or NULL) into *out; the pointers in *out must stay valid
	 * until the next call or until the client is destroyed.
	 */
	void (*exchange)(void *ctx, const char *method, const char *url, const char *body,
	                 const char *if_match, struct cc_http_raw_answer *out);
	void *ctx;
};

struct cc_http_response {
	long status;              /* HTTP status, 0 when no answer */
	char *body;               /* NUL-terminated; owned, NULL when empty */
	size_t len;
	bool has_date;            /* the Date header, whole seconds since the epoch */
	int64_t date_s;
	char *location;           /* Location header of a 201, or NULL; owned */
	char etag[80];            /* the ETag, without W/ and quotes; "" when none */
	/*
	 * The Link header (RFC 8288) as sent, several Link lines joined by
	 * ", " (their values are lists), or NULL; owned. Not parsed here.
	 */
	char *link;
	/* X-Total-Count (rows of a whole listing): has_total when sent, as sent in total_text. */
	bool has_total;
	char total_text[24];
};

struct cc_http_client;

/*
 * The pace of the requests to one system (a token bucket of rate_per_sec,
 * 0: unlimited, and burst, 0: max(1, rate); and the hold the system asked
 * for with Retry-After or a spent rate limit), to share between clients
 * that talk to the same system from different threads: it is locked.
 * Returns 0 or CC_ENOMEM. Destroy it after every client that uses it.
 */
struct cc_http_pace;
int cc_http_pace_create(struct cc_http_pace **out, double rate_per_sec, double burst);
void cc_http_pace_destroy(struct cc_http_pace *p);

/* Returns 0 or a negative cc_error with a message in err. */
int cc_http_client_create(struct cc_http_client **out, const struct cc_http_options *o,
                          char *err, size_t errlen);
void cc_http_client_destroy(struct cc_http_client *c);

/*
 * One request: method "GET", "POST", "PUT", "PATCH" or "DELETE"; path is appended
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
 * call.requests is 0 (not sent) or 1 (2 when a 401 made the client renew
 * its auth header and send it again, plus what the auth hook sent).
 */
struct cc_http_batch_item {
	const char *op, *method, *path, *json_body;
	/* instead of json_body: sent with Content-Type: application/x-www-form-urlencoded */
	const char *form_body;
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

/*
 * A POST of an HTML form (form, already escaped: "a=1&b=%20"), sent with
 * Content-Type: application/x-www-form-urlencoded; mapped as cc_http_request.
 */
enum cc_result cc_http_request_form(struct cc_http_client *c, const char *op, const char *path,
                                    const char *form, struct cc_http_response *resp,
                                    struct cc_call *call);

void cc_http_response_clear(struct cc_http_response *r);

/*
 * Takes the client's credentials (its auth header's value and last word,
 * options.secret) and credential-shaped text (core/redact.h) out of text,
 * in place (cap bytes): for a reason a caller writes itself from an
 * answer's body.
 */
void cc_http_redact(const struct cc_http_client *c, char *text, size_t cap);

/* Requests sent so far, in all (op NULL) and for one operation name. */
uint64_t cc_http_requests(const struct cc_http_client *c, const char *op);
/* Requests sent so far per operation, into out (at most max lines, in the
 * order operations were first used); returns the number of lines filled. */
size_t cc_http_budget(const struct cc_http_client *c, struct cc_budget_line *out, size_t max);

/*
 * Retry-After as RFC 9110 allows it: delay-seconds (digits only) or an
 * HTTP-date (IMF-fixdate, RFC 850 or asctime form), relative to now_s on the
 * system's clock; milliseconds, capped at CC_HTTP_HOLD_MAX_MS; -1 when the
 * value is none of these (it is then ignored).
 */
int64_t cc_http_retry_after_ms(const char *value, int64_t now_s);

/*
 * An HTTP-date (RFC 9110 section 5.6.7: IMF-fixdate, RFC 850, asctime) to
 * seconds since the epoch; false when the value is not exactly one.
 */
bool cc_http_date_parse(const char *value, int64_t *out);

/*
 * Redacts text (NUL-terminated, cap bytes) in place as the client redacts
 * its own reasons (core/redact.h): its credential, then credential
 * patterns. For a connector that quotes an answer's body itself.
 */
void cc_http_redact(const struct cc_http_client *c, char *text, size_t cap);

/* Percent-escapes s for a URL query value; returns a new string (caller frees). */
char *cc_http_escape(const char *s);

#endif
