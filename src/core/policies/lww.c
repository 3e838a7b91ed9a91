/*
 * The `lww` policy (the default): last writer wins, by version (DESIGN
 * section 5). A covered re-assertion re-dates the case value.
 */
#include "core/merge.h"

static int parse(struct cc_field_def *fd, const struct cc_policy_arg *args, size_t nargs,
                 char *err, size_t errlen)
{
	(void)fd, (void)args, (void)nargs, (void)err, (void)errlen;
	return CC_EOK; /* the caller refuses parameters of a scalar policy */
}

static int merge(const struct cc_config *cfg, struct cc_case *c, const struct cc_change *ch,
                 const char *canonical, bool covered)
{
	(void)cfg;
	if (covered)
		return cc_merge_redate(c, ch);
	if (cc_merge_newer(ch, &c->f[ch->field]))
		return cc_merge_apply(c, ch, canonical);
	return CC_MERGE_LOST;
}

const struct cc_policy_def cc_policy_lww = {
	.id = CC_POLICY_LWW,
	.name = "lww",
	.syntax = "policy: lww",
	.rule = "last writer wins: the change with the newest version",
	.parse = parse,
	.merge = merge,
};
