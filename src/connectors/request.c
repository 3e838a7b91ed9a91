/*
 * The one JSON request of the HTTP connectors and the answers a connector
 * gives itself (see request.h).
 */
#include "connectors/request.h"

#include "connectors/prefetch.h"
#include "http/client.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

enum cc_result cc_call_fail(struct cc_call *call, enum cc_result r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(call->reason, sizeof(call->reason), fmt, ap);
	va_end(ap);
	call->result = r;
	return r;
}

enum cc_result cc_call_malformed(struct cc_call *call, const char *who, const char *op,
                                 const char *fmt, ...)
{
	char what[112];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return cc_call_fail(call, CC_RETRY, "%s %s: malformed answer: %s", who, op, what);
}

enum cc_result cc_request_json(struct cc_http_client *http, struct cc_prefetch *ahead,
                               const char *who, const char *op, const char *method,
                               const char *path, json_t *body, json_t **out, long *status,
                               char *etag, size_t etag_len, struct cc_call *call)
{
	if (out)
		*out = NULL;
	if (status)
		*status = 0;
	if (etag && etag_len)
		etag[0] = '\0';
	char *b = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (!path || (body && !b)) {
		free(b);
		return cc_call_fail(call, CC_RETRY, "%s: out of memory", who);
	}
	struct cc_http_response resp;
	enum cc_result res = ahead && cc_prefetch_take(ahead, method, path, &resp, call)
	                             ? call->result
	                             : cc_http_request(http, op, method, path, b, &resp, call);
	free(b);
	if (status)
		*status = resp.status;
	if (etag && etag_len)
		snprintf(etag, etag_len, "%s", resp.etag);
	if (res == CC_OK && out && resp.body && resp.len) {
		json_error_t je;
		*out = json_loadb(resp.body, resp.len, 0, &je);
		if (!*out) {
			res = cc_call_malformed(call, who, op, "not JSON (%.60s)", je.text);
			/* jansson's text quotes the answer, which may echo a credential */
			cc_http_redact(http, call->reason, sizeof(call->reason));
		}
	}
	cc_http_response_clear(&resp);
	return res;
}
