/*
 * Keyset order of listed records (see keyset.h).
 */
#include "connectors/keyset.h"

#include <string.h>

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int cc_keyset_cmp(int64_t am, const char *aid, int64_t bm, const char *bid)
{
	if (am != bm)
		return am < bm ? -1 : 1;
	if (all_digits(aid) && all_digits(bid)) {
		size_t la = strlen(aid), lb = strlen(bid);
		if (la != lb)
			return la < lb ? -1 : 1;
	}
	return strcmp(aid, bid);
}

bool cc_keyset_after(int64_t m, const char *id, int64_t after_m, const char *after_id)
{
	return !after_id || cc_keyset_cmp(m, id, after_m, after_id) > 0;
}

int64_t cc_list_from(int64_t since_s, int64_t after_mtime_s, const char *after_id)
{
	int64_t lo = since_s < 0 ? 0 : since_s;
	return after_id && after_mtime_s > lo ? after_mtime_s : lo;
}
