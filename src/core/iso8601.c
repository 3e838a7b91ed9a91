/*
 * ISO 8601 times (see iso8601.h). Written by hand rather than with
 * strptime/timegm so that the result does not depend on the locale or the
 * TZ variable, and so that every field is checked: a remote answer with a
 * malformed time is a malformed answer, never the epoch.
 */
#include "core/iso8601.h"

#include <stdio.h>
#include <time.h>

/* Howard Hinnant's days_from_civil. */
int64_t cc_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* n digits at *p into *v; advances *p. */
static bool digits(const char **p, int n, int *v)
{
	int x = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		x = x * 10 + (c - '0');
	}
	*p += n;
	*v = x;
	return true;
}

bool cc_iso8601_parse_ns(const char *s, int64_t *out, int32_t *frac_ns)
{
	if (!s)
		return false;
	const char *p = s;
	int y, mo, d, h, mi, sec = 0;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		return false;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return false;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
		return false;
	int32_t ns = 0;
	if (*p == ':') {
		p++;
		if (!digits(&p, 2, &sec))
			return false;
		if (*p == '.' || *p == ',') {
			p++;
			if (*p < '0' || *p > '9')
				return false;
			int n = 0;
			for (; *p >= '0' && *p <= '9'; p++, n++)
				if (n < 9)
					ns = ns * 10 + (*p - '0');
			for (; n < 9; n++)
				ns *= 10;
		}
	}
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om = 0;
		p++;
		if (!digits(&p, 2, &oh))
			return false;
		if (*p == ':')
			p++;
		if (*p && !digits(&p, 2, &om))
			return false;
		if (oh > 23 || om > 59)
			return false;
		off = sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
	}
	if (*p != '\0')
		return false;
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 60)
		return false;
	if (d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return false;
	*out = cc_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + (int64_t)h * 3600 +
	       (int64_t)mi * 60 + sec - off;
	if (frac_ns)
		*frac_ns = ns;
	return true;
}

bool cc_iso8601_parse(const char *s, int64_t *out)
{
	return cc_iso8601_parse_ns(s, out, NULL);
}

void cc_format_utc(char *buf, size_t len, int64_t t, bool iso)
{
	time_t tt = (time_t)(t < 0 ? 0 : t);
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, len, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S", &tm);
}
