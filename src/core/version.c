/*
 * Version ordering and correlation ids (see types.h).
 */
#include "core/types.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cc_version_cmp(const struct cc_version *a, const struct cc_version *b)
{
	if (a->t_ms != b->t_ms)
		return a->t_ms < b->t_ms ? -1 : 1;
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	if (a->rv != b->rv)
		return a->rv < b->rv ? -1 : 1;
	return 0;
}

void cc_correlation_format(char *buf, size_t len, uint64_t case_id)
{
	snprintf(buf, len, "concord-%" PRIu64, case_id);
}

int cc_correlation_parse(const char *s, uint64_t *case_id)
{
	static const char prefix[] = "concord-";
	if (!s || strncmp(s, prefix, sizeof(prefix) - 1) != 0)
		return CC_EINVAL;
	const char *p = s + sizeof(prefix) - 1;
	if (*p < '0' || *p > '9')
		return CC_EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (*end != '\0' || v == 0 || errno == ERANGE)
		return CC_EINVAL;
	*case_id = v;
	return CC_EOK;
}

void cc_correlation_format_in(char *buf, size_t len, uint32_t instance, uint64_t case_id)
{
	if (!instance)
		cc_correlation_format(buf, len, case_id);
	else
		snprintf(buf, len, "concord-%08" PRIx32 "-%" PRIu64, instance, case_id);
}

int cc_correlation_parse_in(const char *s, uint32_t instance, uint64_t *case_id)
{
	if (!instance)
		return cc_correlation_parse(s, case_id);
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "concord-%08" PRIx32 "-", instance);
	size_t n = strlen(prefix);
	if (!s || strncmp(s, prefix, n) != 0)
		return CC_EINVAL;
	char tmp[64];
	if (snprintf(tmp, sizeof(tmp), "concord-%s", s + n) >= (int)sizeof(tmp))
		return CC_EINVAL;
	return cc_correlation_parse(tmp, case_id);
}
