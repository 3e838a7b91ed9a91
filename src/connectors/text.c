/*
 * Text helpers of the connectors (see text.h).
 */
#include "connectors/text.h"

#include <stdarg.h>
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
