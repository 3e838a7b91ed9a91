/*
 * The table of field policies (see policy.h). Each row comes from its own
 * file under policies/; the table is indexed by enum cc_policy, and a
 * build-time check makes sure every id has its row.
 */
#include "core/policy.h"

#include <string.h>

extern const struct cc_policy_def cc_policy_lww;
extern const struct cc_policy_def cc_policy_owner;
extern const struct cc_policy_def cc_policy_manual;

static const struct cc_policy_def *const table[] = {
	[CC_POLICY_LWW] = &cc_policy_lww,
	[CC_POLICY_OWNER] = &cc_policy_owner,
	[CC_POLICY_MANUAL] = &cc_policy_manual,
};

_Static_assert(sizeof(table) / sizeof(table[0]) == CC_POLICY__COUNT,
               "every enum cc_policy needs its row in the policy table");

const struct cc_policy_def *cc_policy(enum cc_policy id)
{
	return (unsigned)id < CC_POLICY__COUNT ? table[id] : NULL;
}

const struct cc_policy_def *cc_policy_find(const char *name)
{
	for (size_t i = 0; name && i < CC_POLICY__COUNT; i++)
		if (strcmp(table[i]->name, name) == 0)
			return table[i];
	return NULL;
}

const struct cc_policy_def *const *cc_policy_table(size_t *n)
{
	*n = CC_POLICY__COUNT;
	return table;
}
