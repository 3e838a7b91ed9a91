/*
 * Opening a store by URL ("memory", "sqlite:PATH"), so that the command
 * line and the configuration name a backend without knowing its code.
 */
#include "store/store.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define ACCEPTED "accepted: \"memory\" or \"sqlite:PATH\""

int cc_store_url_parse(const char *url, struct cc_store_url *out, char *err, size_t errlen)
{
	if (errlen)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (!url || !url[0]) {
		snprintf(err, errlen, "no store given (%s)", ACCEPTED);
		return CC_EINVAL;
	}
	size_t n = strcspn(url, ":");
	bool ok = n > 0 && n < sizeof(out->scheme) && isalpha((unsigned char)url[0]);
	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)url[i]) || strchr("+-.", url[i]);
	if (!ok || (!url[n] && strcmp(url, "memory") != 0)) {
		snprintf(err, errlen, "store URL is not SCHEME:... (%s)", ACCEPTED);
		return CC_EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		out->scheme[i] = (char)tolower((unsigned char)url[i]);
	out->rest = url[n] ? url + n + 1 : url + n;
	return CC_EOK;
}

int cc_store_open(struct cc_store *out, const char *url, char *err, size_t errlen)
{
	struct cc_store_url u;
	int rc = cc_store_url_parse(url, &u, err, errlen);
	if (rc)
		return rc;
	if (strcmp(u.scheme, "memory") == 0) {
		if (u.rest[0]) {
			snprintf(err, errlen, "the memory store takes no path (%s)", ACCEPTED);
			return CC_EINVAL;
		}
		rc = cc_store_memory_open(out);
		if (rc)
			snprintf(err, errlen, "memory store: out of memory");
		return rc;
	}
	if (strcmp(u.scheme, "sqlite") == 0) {
		if (!u.rest[0]) {
			snprintf(err, errlen, "store \"sqlite:\" names no file (%s)", ACCEPTED);
			return CC_EINVAL;
		}
		return cc_store_sqlite_open(out, u.rest, NULL, err, errlen);
	}
	/* the scheme only: the rest may hold a password */
	snprintf(err, errlen, "unknown store kind \"%s:\" (%s)", u.scheme, ACCEPTED);
	return CC_EINVAL;
}
