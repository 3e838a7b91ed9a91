/*
 * Names of audit decisions (see audit.h).
 */
#include "core/audit.h"

const char *cc_decision_name(enum cc_decision d)
{
	static const char *const names[CC_AUDIT__COUNT] = {
		[CC_AUDIT_CASE_CREATED] = "case-created",
		[CC_AUDIT_LINKED] = "linked",
		[CC_AUDIT_DEDUP_LINKED] = "dedup-linked",
		[CC_AUDIT_DEDUP_REVIEW] = "dedup-review",
		[CC_AUDIT_APPLIED] = "applied",
		[CC_AUDIT_COVERED] = "covered",
		[CC_AUDIT_ECHO] = "echo",
		[CC_AUDIT_CONFIRMED] = "confirmed",
		[CC_AUDIT_STALE] = "stale",
		[CC_AUDIT_LOST_CONFLICT] = "lost-conflict",
		[CC_AUDIT_REFUSED] = "refused-by-owner",
		[CC_AUDIT_PARKED] = "parked",
		[CC_AUDIT_UNMAPPED] = "unmapped",
		[CC_AUDIT_WRITTEN] = "written",
		[CC_AUDIT_REVERTED] = "reverted",
		[CC_AUDIT_CREATED_REMOTE] = "created-remote",
		[CC_AUDIT_COMMENT_MIRRORED] = "comment-mirrored",
		[CC_AUDIT_DEAD_LETTER] = "dead-letter",
		[CC_AUDIT_ALERT] = "alert",
		[CC_AUDIT_RESOLVED] = "resolved",
		[CC_AUDIT_WEBHOOK_REJECTED] = "webhook-rejected",
	};
	if ((int)d < 0 || d >= CC_AUDIT__COUNT || !names[d])
		return "unknown";
	return names[d];
}
