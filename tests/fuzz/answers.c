/*
 * Scripted answers for the fuzzers (see answers.h).
 */
#include "answers.h"

#include <stdlib.h>
#include <string.h>

static void parse_one(struct cc_http_raw_answer *a, char *s, size_t len)
{
	memset(a, 0, sizeof(*a));
	a->status = 200;
	if (len >= 4 && s[0] >= '1' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' &&
	    s[2] <= '9' && s[3] == '\n') {
		a->status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
		char *h = s + 4, *stop = s + len;
		if (h < stop && h[0] == '\n') { /* no headers: a blank line, then the body */
			a->body = h + 1;
			a->body_len = (size_t)(stop - h - 1);
			return;
		}
		char *blank = NULL;
		for (char *p = h; p + 1 < stop; p++)
			if (p[0] == '\n' && p[1] == '\n') {
				blank = p;
				break;
			}
		a->headers = h;
		a->headers_len = (size_t)((blank ? blank : stop) - h);
		if (blank) {
			a->body = blank + 2;
			a->body_len = (size_t)(stop - blank - 2);
		}
		return;
	}
	a->body = s;
	a->body_len = len;
}

void fuzz_answers_parse(struct fuzz_answers *fa, const uint8_t *data, size_t size)
{
	memset(fa, 0, sizeof(*fa));
	fa->copy = malloc(size + 1);
	if (!fa->copy)
		return;
	memcpy(fa->copy, data, size);
	fa->copy[size] = '\0';
	char *s = fa->copy, *end = fa->copy + size;
	while (s <= end && fa->n < FUZZ_MAX_ANSWERS) {
		char *sep = NULL;
		for (char *p = s; p + 4 <= end; p++)
			if (memcmp(p, "\n~~~", 4) == 0 && (p + 4 == end || p[4] == '\n')) {
				sep = p;
				break;
			}
		size_t len = (size_t)((sep ? sep : end) - s);
		parse_one(&fa->a[fa->n++], s, len);
		if (!sep)
			break;
		s = sep + 4 + (sep + 4 < end);
	}
}

void fuzz_answers_free(struct fuzz_answers *fa)
{
	free(fa->copy);
	memset(fa, 0, sizeof(*fa));
}

static void exchange(void *ctx, const char *method, const char *url, const char *body,
                     const char *if_match, struct cc_http_raw_answer *out)
{
	(void)method, (void)url, (void)body, (void)if_match;
	struct fuzz_answers *fa = ctx;
	if (fa->next < fa->n)
		*out = fa->a[fa->next++];
	else
		*out = (struct cc_http_raw_answer){ .fault = CC_HTTP_REFUSED };
}

struct cc_http_transport fuzz_answers_transport(struct fuzz_answers *fa)
{
	return (struct cc_http_transport){ exchange, fa };
}
