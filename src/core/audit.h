/*
 * Audit entries: one per decision the engine takes. The store appends
 * them; `concord audit` and `concord explain` read them back.
 */
#ifndef CC_AUDIT_H
#define CC_AUDIT_H

#include "core/types.h"

enum cc_decision {
	CC_AUDIT_CASE_CREATED = 0, /* a new record made a new case */
	CC_AUDIT_LINKED,           /* a record was linked to a case */
	CC_AUDIT_DEDUP_LINKED,     /* linked by duplicate score */
	CC_AUDIT_DEDUP_REVIEW,     /* possible duplicate, flagged for review */
	CC_AUDIT_APPLIED,          /* a change became the case value */
	CC_AUDIT_COVERED,          /* a coarse value already stands for the case value */
	CC_AUDIT_ECHO,             /* equal to the shadow: nothing happened or our own echo */
	CC_AUDIT_CONFIRMED,        /* a write of unknown outcome was seen applied */
	CC_AUDIT_STALE,            /* an older observation arrived late: dropped */
	CC_AUDIT_LOST_CONFLICT,    /* an older change lost to a newer one */
	CC_AUDIT_REFUSED,          /* refused by the system of record */
	CC_AUDIT_PARKED,           /* manual conflict parked for a person */
	CC_AUDIT_UNMAPPED,         /* a value no mapping covers: alert */
	CC_AUDIT_WRITTEN,          /* the hub wrote a value */
	CC_AUDIT_REVERTED,         /* the hub wrote the owner's value back */
	CC_AUDIT_CREATED_REMOTE,   /* the hub created a record */
	CC_AUDIT_COMMENT_MIRRORED, /* the hub mirrored a comment */
	CC_AUDIT_DEAD_LETTER,      /* delivery gave up */
	CC_AUDIT_ALERT,            /* deleted, moved, lost correlation id */
	CC_AUDIT_RESOLVED,         /* a person resolved a parked conflict (detail: who, how) */
	CC_AUDIT_WEBHOOK_REJECTED, /* the daemon refused a webhook that failed its
	                              authentication (case 0; detail: why, from where) */
	CC_AUDIT__COUNT
};

struct cc_audit_entry {
	int64_t at_ms;            /* hub time */
	uint64_t case_id;
	int system;               /* -1 when not about one system */
	int field;                /* -1 when not about one field */
	enum cc_decision decision;
	const char *value;        /* borrowed for the call */
	const char *remote_id;    /* borrowed */
	struct cc_version ver;
	int score;                /* duplicate score, when relevant */
	const char *detail;       /* borrowed */
	const char *system_name;  /* borrowed; NULL when system is -1 */
	const char *field_name;   /* borrowed; NULL when field is -1 */
};

const char *cc_decision_name(enum cc_decision d);

#endif
