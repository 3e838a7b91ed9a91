/*
 * The growable buffer (see buf.h): one realloc policy (doubling from 256
 * bytes) for bytes and text alike.
 */
#include "core/buf.h"

#include "core/types.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cc_buf_reserve(struct cc_buf *b, size_t n)
{
	if (b->oom)
		return CC_ENOMEM;
	if (b->cap - b->len >= n)
		return 0;
	if (n > SIZE_MAX / 2 - b->len) {
		b->oom = true;
		return CC_ENOMEM;
	}
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	uint8_t *d = realloc(b->data, cap);
	if (!d) {
		b->oom = true;
		return CC_ENOMEM;
	}
	b->data = d;
	b->cap = cap;
	return 0;
}

int cc_buf_append(struct cc_buf *b, const void *p, size_t n)
{
	if (cc_buf_reserve(b, n))
		return CC_ENOMEM;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int cc_buf_add(struct cc_buf *b, const char *s)
{
	size_t n = strlen(s);
	if (cc_buf_reserve(b, n + 1))
		return CC_ENOMEM;
	memcpy(b->data + b->len, s, n + 1);
	b->len += n;
	return 0;
}

int cc_buf_addf(struct cc_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || cc_buf_reserve(b, (size_t)n + 1)) {
		b->oom = true;
		return CC_ENOMEM;
	}
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *cc_buf_take(struct cc_buf *b)
{
	if (b->oom) {
		cc_buf_free(b);
		return NULL;
	}
	char *s = b->data ? (char *)b->data : strdup("");
	memset(b, 0, sizeof(*b));
	return s;
}

void cc_buf_reset(struct cc_buf *b)
{
	b->len = 0;
	b->oom = false;
}

void cc_buf_free(struct cc_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
