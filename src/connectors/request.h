/*
 * The one JSON request of the HTTP connectors, and how a connector answers
 * a call itself: a failed call with its reason, or a malformed answer
 * (DESIGN section 12: a remote answer of the wrong shape is a failed call,
 * never an empty answer).
 */
#ifndef CC_CONNECTORS_REQUEST_H
#define CC_CONNECTORS_REQUEST_H

#include "core/connector.h"

#include <stddef.h>

struct cc_http_client;
struct cc_prefetch;
struct json_t;

/* A call answered by the connector itself (bad answer, unknown value). */
enum cc_result cc_call_fail(struct cc_call *call, enum cc_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A remote answer of the wrong shape (a missing array, a wrong type, an
 * unreadable time): RETRY with "WHO OP: malformed answer: WHAT" (a failed
 * call, so a poll keeps its cursor and the breaker sees it; never taken as
 * an empty answer).
 */
enum cc_result cc_call_malformed(struct cc_call *call, const char *who, const char *op,
                                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * One JSON request of a connector: the answer sent ahead in *ahead (may be
 * NULL) when there is one, else a request on http; `who` names the
 * connector in reasons. On OK with a body, *out gets its JSON (caller
 * decrefs; NULL without a body); *status (may be NULL) the HTTP status, 0
 * without an answer; etag (may be NULL, etag_len bytes) the answer's ETag.
 * A body that is not JSON is a malformed answer. A NULL path is out of
 * memory (RETRY). path and body are borrowed.
 */
enum cc_result cc_request_json(struct cc_http_client *http, struct cc_prefetch *ahead,
                               const char *who, const char *op, const char *method,
                               const char *path, struct json_t *body, struct json_t **out,
                               long *status, char *etag, size_t etag_len, struct cc_call *call);

#endif
