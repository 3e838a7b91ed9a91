/*
 * libFuzzer harness: the small parsers of outside text: store URLs
 * (cc_store_url_parse), credential redaction (cc_redact, which must leave
 * no secret behind) and ISO 8601 times. The input's first line is a secret,
 * the rest the text.
 */
#include "core/iso8601.h"
#include "core/redact.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct cc_store_url u;
	char err[200];
	if (cc_store_url_parse(s, &u, err, sizeof(err)) == CC_EOK &&
	    (!u.scheme[0] || !u.rest || u.rest < s || u.rest > s + size))
		abort();
	int64_t t;
	(void)cc_iso8601_parse(s, &t);

	char *nl = strchr(s, '\n');
	const char *secret = s;
	const char *text = "";
	if (nl) {
		*nl = '\0';
		text = nl + 1;
	}
	char buf[1024];
	size_t n = strlen(text) < sizeof(buf) - 1 ? strlen(text) : sizeof(buf) - 1;
	memcpy(buf, text, n);
	buf[n] = '\0';
	const char *const secrets[] = { secret, NULL };
	cc_redact(buf, sizeof(buf), secrets);
	/* no secret left, except where it straddles a marker the redaction wrote */
	if (strlen(secret) >= CC_REDACT_MIN_SECRET && strlen(buf) < sizeof(buf) - 1) {
		size_t sl = strlen(secret), ml = strlen(CC_REDACTED);
		for (const char *p = strstr(buf, secret); p; p = strstr(p + 1, secret)) {
			bool straddles = false;
			for (const char *m = strstr(buf, CC_REDACTED); m && !straddles;
			     m = strstr(m + 1, CC_REDACTED))
				straddles = m < p + sl && p < m + ml;
			if (!straddles)
				abort();
		}
	}
	free(s);
	return 0;
}
