/*
 * The --store option shared by the commands that open a store.
 */
#include "cli/cli_store.h"

#include "core/redact.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *cc_cli_store_url(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--store") == 0)
			return argv[i + 1];
	const char *env = getenv("CONCORD_STORE");
	return env && *env ? env : CC_DEFAULT_STORE;
}

int cc_cli_open_store(const char *cmd, int argc, char **argv, struct cc_store *st)
{
	const char *url = cc_cli_store_url(argc, argv);
	char err[512];
	int rc = cc_store_open(st, url, err, sizeof(err));
	if (rc) {
		char shown[512];
		fprintf(stderr, "concord %s: cannot open store %s: %s\n", cmd,
		        cc_redact_copy(shown, sizeof(shown), url), err);
		return 1;
	}
	return 0;
}

int cc_cli_parse_case(const char *s, uint64_t *id)
{
	char *end;
	if (!s || !*s)
		return CC_EINVAL;
	if (strncmp(s, "concord-", 8) == 0)
		s += 8;
	if (*s < '0' || *s > '9')
		return CC_EINVAL;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || v == 0)
		return CC_EINVAL;
	*id = v;
	return CC_EOK;
}

void cc_cli_format_time(char *buf, size_t len, int64_t ms)
{
	if (ms > 946684800000LL) { /* after 2000-01-01: a real clock */
		time_t s = (time_t)(ms / 1000);
		struct tm tm;
		gmtime_r(&s, &tm);
		char day[32];
		strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(buf, len, "%s.%03dZ", day, (int)(ms % 1000));
		return;
	}
	int64_t s = ms / 1000;
	snprintf(buf, len, "+%" PRId64 ":%02" PRId64 ":%02" PRId64 ".%03" PRId64, s / 3600,
	         (s / 60) % 60, s % 60, ms % 1000);
}
