/*
 * Opening a store by URL ("memory", "sqlite:PATH"), so that the command
 * line and the configuration name a backend without knowing its code.
 */
#include "store/store.h"

#include <stdio.h>
#include <string.h>

#define ACCEPTED "accepted: \"memory\" or \"sqlite:PATH\""

int cc_store_open(struct cc_store *out, const char *url, char *err, size_t errlen)
{
	if (errlen)
		err[0] = '\0';
	if (!url) {
		snprintf(err, errlen, "no store given (%s)", ACCEPTED);
		return CC_EINVAL;
	}
	if (strcmp(url, "memory") == 0 || strcmp(url, "memory:") == 0) {
		int rc = cc_store_memory_open(out);
		if (rc)
			snprintf(err, errlen, "memory store: out of memory");
		return rc;
	}
	if (strncmp(url, "sqlite:", 7) == 0) {
		if (!url[7]) {
			snprintf(err, errlen, "store \"%s\" names no file (%s)", url, ACCEPTED);
			return CC_EINVAL;
		}
		return cc_store_sqlite_open(out, url + 7, NULL, err, errlen);
	}
	snprintf(err, errlen, "unknown store \"%s\" (%s)", url, ACCEPTED);
	return CC_EINVAL;
}
