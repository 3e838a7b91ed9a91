/*
 * Text helpers of the connectors (see text.h).
 */
#include "connectors/text.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

char *cc_strf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

bool cc_same_text(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	while (la && strchr(" \t\r\n", a[la - 1]))
		la--;
	while (lb && strchr(" \t\r\n", b[lb - 1]))
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

char *cc_basic_credential(const char *user, const char *secret)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *plain = cc_strf("%s:%s", user ? user : "", secret ? secret : "");
	if (!plain)
		return NULL;
	size_t n = strlen(plain);
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (out) {
		size_t o = 0;
		for (size_t i = 0; i < n; i += 3) {
			unsigned v = (unsigned char)plain[i] << 16;
			if (i + 1 < n)
				v |= (unsigned char)plain[i + 1] << 8;
			if (i + 2 < n)
				v |= (unsigned char)plain[i + 2];
			out[o++] = b64[(v >> 18) & 63];
			out[o++] = b64[(v >> 12) & 63];
			out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
			out[o++] = i + 2 < n ? b64[v & 63] : '=';
		}
		out[o] = '\0';
	}
	memset(plain, 0, n);
	free(plain);
	return out;
}
