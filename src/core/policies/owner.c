/*
 * The `owner` policy: one system of record (DESIGN section 5). Only the
 * owner's changes apply; a change elsewhere is refused and then written
 * back (`revert`) or left where it was made (`ignore`). Until the owner
 * has spoken, the records people raised for the incident settle the value
 * by last writer wins, as they stood before the case was first mirrored.
 */
#include "core/merge.h"

#include <stdio.h>
#include <string.h>

static int parse(struct cc_field_def *fd, const struct cc_policy_arg *args, size_t nargs,
                 char *err, size_t errlen)
{
	fd->owner_name = NULL;
	fd->owner_mode = CC_OWNER_REVERT;
	for (size_t i = 0; i < nargs; i++) {
		if (strcmp(args[i].key, "owner") == 0) {
			fd->owner_name = args[i].value;
		} else if (strcmp(args[i].key, "mode") == 0) {
			if (strcmp(args[i].value, "revert") == 0) {
				fd->owner_mode = CC_OWNER_REVERT;
			} else if (strcmp(args[i].value, "ignore") == 0) {
				fd->owner_mode = CC_OWNER_IGNORE;
			} else {
				snprintf(err, errlen, "mode must be revert or ignore, not '%s'",
				         args[i].value);
				return CC_EINVAL;
			}
		} else {
			snprintf(err, errlen, "an owner policy takes owner and mode, not '%s'",
			         args[i].key);
			return CC_EINVAL;
		}
	}
	if (!fd->owner_name || !fd->owner_name[0]) {
		snprintf(err, errlen, "an owner policy names its system: {owner: SYSTEM, mode: revert}");
		return CC_EINVAL;
	}
	return CC_EOK;
}

static int merge(const struct cc_config *cfg, struct cc_case *c, const struct cc_change *ch,
                 const char *canonical, bool covered)
{
	const struct cc_field_def *fd = &cfg->fields[ch->field];
	struct cc_field_state *fs = &c->f[ch->field];
	struct cc_link *link = &c->link[ch->system];
	bool owner = ch->system == fd->owner;
	bool raised = cc_merge_raised(c, ch) && fs->origin != fd->owner;
	if (covered)
		/* only the owner (or a raised value) may re-date the case value */
		return owner || raised ? cc_merge_redate(c, ch) : CC_MERGE_COVERED;
	if (owner)
		return cc_merge_apply(c, ch, canonical);
	if (raised)
		return cc_merge_newer(ch, fs) ? cc_merge_apply(c, ch, canonical) : CC_MERGE_LOST;
	if (fd->owner_mode == CC_OWNER_IGNORE) {
		link->ignored_mask |= 1u << ch->field;
		link->ignored_ver[ch->field] = fs->ver;
	}
	return CC_MERGE_REFUSED;
}

/* Under `ignore`, a system keeps its refused value until the case value changes. */
static bool holds_back(const struct cc_field_def *fd, const struct cc_case *c, int sys, int f)
{
	const struct cc_link *link = &c->link[sys];
	return fd->owner_mode == CC_OWNER_IGNORE && sys != fd->owner &&
	       (link->ignored_mask & (1u << f)) &&
	       cc_version_cmp(&link->ignored_ver[f], &c->f[f].ver) == 0;
}

static bool reverts(const struct cc_field_def *fd, int sys)
{
	return sys != fd->owner;
}

const struct cc_policy_def cc_policy_owner = {
	.id = CC_POLICY_OWNER,
	.name = "owner",
	.syntax = "policy: {owner: SYSTEM, mode: revert | ignore}",
	.rule = "owner: only the system of record's changes apply; others are refused",
	.parse = parse,
	.merge = merge,
	.holds_back = holds_back,
	.reverts = reverts,
};
