/*
 * Merge and projection: the two pure decisions at the heart of the engine.
 *
 * cc_merge() takes one changed field of one observed record and decides,
 * by the field's policy (DESIGN section 5) and the lossy-set rules
 * (section 6), what becomes of the case. cc_project() computes what one
 * system must be told so that it holds the projection of the case, in its
 * own terms, compared with its shadow (equal: no write).
 */
#ifndef CC_MERGE_H
#define CC_MERGE_H

#include "core/case.h"
#include "core/config.h"
#include "core/policy.h"

struct cc_change {
	int system;
	int field;
	const char *remote_value;  /* normalized, the system's terms */
	const char *old_shadow;    /* what the hub knew the system held before, or NULL */
	struct cc_version ver;
	bool first_sight;          /* a person's new record seen for the first time */
	bool reread;               /* the remote version last seen, read again with other
	                            * values: the earlier read of it was torn */
};

/*
 * Decides one change and updates the case: the inbound mapping first (a
 * value no mapping covers is CC_MERGE_UNMAPPED), then the field's policy
 * from the policy table. Returns CC_MERGE_* or CC_ENOMEM.
 */
int cc_merge(const struct cc_config *cfg, struct cc_case *c, const struct cc_change *ch);

/* ---- the steps every policy is made of (policies/ use them) ---- */

/* The change becomes the case value, with its version and origin. */
int cc_merge_apply(struct cc_case *c, const struct cc_change *ch, const char *canonical);
/*
 * Newer than the case value. A re-read of the very remote version the case
 * value came from wins the tie (the read it came from was torn).
 */
bool cc_merge_newer(const struct cc_change *ch, const struct cc_field_state *fs);
/* A value a person's new record carried before the case was first mirrored. */
bool cc_merge_raised(const struct cc_case *c, const struct cc_change *ch);
/*
 * A covered change (the system re-asserted the case value): the value
 * stays, but it now dates from this change when that is newer, so that an
 * older change seen later still loses to it. Returns CC_MERGE_COVERED.
 */
int cc_merge_redate(struct cc_case *c, const struct cc_change *ch);

/*
 * What system `sys` must be written so that it holds the case: values[f]
 * points at the remote value to write (borrowed from cfg or c), or NULL.
 * Fields whose canonical value no mapping of `sys` covers are left out
 * and reported in *unmapped. Returns the number of fields to write.
 * A link in CC_LINK_CREATE state is projected against empty shadows.
 */
int cc_project(const struct cc_config *cfg, const struct cc_case *c, int sys,
               const char *values[CC_MAX_FIELDS], uint32_t *unmapped);

/* Number of comments the case still has to mirror into `sys`. */
size_t cc_comments_to_mirror(const struct cc_config *cfg, const struct cc_case *c, int sys);

/* True when every routing rule of `sys` holds for the case. */
bool cc_route_allows(const struct cc_config *cfg, const struct cc_case *c, int sys);

#endif
