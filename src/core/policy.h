/*
 * Field policies (DESIGN section 5): one table of {name, parse, merge,
 * explain}, the only place that knows what a policy does. merge.c calls a
 * field's policy through the table; the configuration loader, `concord
 * check` and `concord explain` find policies by name in it. Adding a
 * policy is one file in core/policies/ (its functions), its value in enum
 * cc_policy (types.h), its row in policy.c (a static assertion there
 * fails the build when a value has no row) and its line in meson.build.
 */
#ifndef CC_POLICY_H
#define CC_POLICY_H

#include "core/case.h"
#include "core/config.h"

struct cc_change;

/* What a merge decided (see merge.h). */
enum cc_merge_result {
	CC_MERGE_APPLIED = 0, /* the change is now the case value */
	CC_MERGE_COVERED,     /* a coarse value already standing for the case value */
	CC_MERGE_LOST,        /* older than the case value: the system is brought back */
	CC_MERGE_REFUSED,     /* not the system of record */
	CC_MERGE_PARKED,      /* manual policy: a real conflict, parked */
	CC_MERGE_UNMAPPED,    /* no mapping covers the value: parked with an alert */
};

/* One parameter of a policy as the configuration wrote it: {owner: rt}. */
struct cc_policy_arg {
	const char *key;
	const char *value;
};

struct cc_policy_def {
	enum cc_policy id;
	const char *name;        /* "lww", "owner", "manual" */
	const char *syntax;      /* how the configuration writes it */
	const char *rule;        /* one line: what the policy decides */
	/*
	 * Reads the policy's parameters into fd (fd->policy is set by the
	 * caller). 0, or CC_EINVAL with a message in err naming the parameter.
	 * A system named by a parameter is kept by name in fd->owner_name and
	 * resolved to an index once the systems are known.
	 */
	int (*parse)(struct cc_field_def *fd, const struct cc_policy_arg *args, size_t nargs,
	             char *err, size_t errlen);
	/*
	 * Decides a change of a field under this policy: `canonical` is the
	 * change's value in canonical terms, `covered` true when the system's
	 * value already stands for the case value (lossy sets: nothing changes
	 * but the version may be re-dated). Returns CC_MERGE_* or CC_ENOMEM.
	 */
	int (*merge)(const struct cc_config *cfg, struct cc_case *c, const struct cc_change *ch,
	             const char *canonical, bool covered);
	/* Optional: true when a projection must leave the field alone in `sys`. */
	bool (*holds_back)(const struct cc_field_def *fd, const struct cc_case *c, int sys, int f);
	/* Optional: true when writing the field to `sys` brings it back (a revert). */
	bool (*reverts)(const struct cc_field_def *fd, int sys);
};

/* The policy of an id (every id has one: the table is checked at build time). */
const struct cc_policy_def *cc_policy(enum cc_policy id);
/* A policy by name, NULL when none. */
const struct cc_policy_def *cc_policy_find(const char *name);
/* The table, for help texts and errors: *n rows. */
const struct cc_policy_def *const *cc_policy_table(size_t *n);

#endif
