/*
 * libFuzzer harness: the HTTP client's reading of an answer (status,
 * headers: Date, Retry-After, X-RateLimit-*, ETag, Location; the body and
 * its limit) through the stand-in transport, for a read and a write, and
 * the header value parsers on their own. Checks the client's promises: a
 * Retry-After never exceeds CC_HTTP_HOLD_MAX_MS, a reason never holds the
 * credential, an OK answer's body is whole and NUL-terminated.
 */
#include "answers.h"
#include "core/iso8601.h"
#include "core/redact.h"

#include <stdlib.h>
#include <string.h>

#define SECRET "Zq9-fuzz-credential-77"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_answers fa;
	fuzz_answers_parse(&fa, data, size);
	struct cc_http_transport tr = fuzz_answers_transport(&fa);
	struct cc_http_options o = { .base_url = "http://h.fuzz", .auth_header =
		                     "Authorization: Bearer " SECRET, .transport = &tr,
		                     .max_body = 4096 };
	struct cc_http_client *c;
	char err[100];
	if (cc_http_client_create(&c, &o, err, sizeof(err)))
		abort();
	for (int i = 0; i < 3; i++) {
		struct cc_http_response resp;
		struct cc_call call;
		memset(&call, 0, sizeof(call));
		enum cc_result r = i == 1 ? cc_http_request_if_match(c, "update", "PUT", "/x", "{}",
		                                                    "12", &resp, &call)
		                          : cc_http_request(c, "read", "GET", "/x", NULL, &resp, &call);
		if (call.retry_after_ms < 0 || call.retry_after_ms > CC_HTTP_HOLD_MAX_MS)
			abort();
		if (strstr(call.reason, SECRET))
			abort();
		if (r == CC_OK && resp.body && strlen(resp.body) > resp.len)
			abort();
		cc_http_response_clear(&resp);
	}
	cc_http_client_destroy(c);
	/* the value parsers on the raw input, as one header value */
	char v[256];
	size_t n = size < sizeof(v) - 1 ? size : sizeof(v) - 1;
	memcpy(v, data, n);
	v[n] = '\0';
	int64_t t;
	int64_t ra = cc_http_retry_after_ms(v, 1700000000);
	if (ra > CC_HTTP_HOLD_MAX_MS || ra < -1)
		abort();
	(void)cc_http_date_parse(v, &t);
	(void)cc_iso8601_parse(v, &t);
	fuzz_answers_free(&fa);
	return 0;
}
