/*
 * The manual queue: conflicts the `manual` policy parked for a person, and
 * their resolution (DESIGN section 5). A parked field keeps both values:
 * the case value (its version, its origin system) and the parked side
 * (parked_value, parked_system, parked_ver in struct cc_field_state); the
 * projection leaves it out until a person resolves it here.
 *
 * cc_resolve() is pure: it decides on a case in memory, with the time it is
 * given. Loading, auditing, queueing the deliveries and saving are the
 * hub's (cc_hub_resolve in core/hub.h), which the command line, the admin
 * API and the simulator all go through.
 */
#ifndef CC_RESOLVE_H
#define CC_RESOLVE_H

#include "core/case.h"
#include "core/config.h"

/* One parked conflict of a case; the strings are borrowed from the case. */
struct cc_conflict {
	int field;
	int case_system;          /* origin of the case value (-1: none known) */
	const char *case_value;   /* canonical */
	struct cc_version case_ver;
	int parked_system;        /* the system whose change was parked */
	const char *parked_value; /* canonical */
	struct cc_version parked_ver;
};

/*
 * The conflicts parked in a case, at most CC_MAX_FIELDS, field by field:
 * fills out[] and returns how many. Pure; out borrows from c.
 */
size_t cc_case_conflicts(const struct cc_config *cfg, const struct cc_case *c,
                         struct cc_conflict out[CC_MAX_FIELDS]);

/* How a person resolves a conflict: take one side, or set a value. */
struct cc_resolution {
	int take;              /* the system whose side wins, or -1: `value` below */
	const char *value;     /* canonical terms (normalized here), when take is -1 */
	const char *by;        /* who resolved it, for the audit; NULL: "someone" */
};

/* What a resolution did, or why it was refused. */
struct cc_resolve_outcome {
	struct cc_version ver; /* the version the resolved value now has */
	int system;            /* the side taken (-1: a value was set); on CC_EUNMAPPED
	                          the system whose mapping cannot carry the value, on
	                          CC_EINVAL the system that is not a side (-1: bad field) */
	char detail[192];      /* for the audit: who, and how ("ann took rt's value") */
};

/*
 * Resolves the conflict parked in `field` of c. The value (the taken side's,
 * or how->value normalized for the field's type) becomes the case value,
 * with a version later than both sides: hub time now_ms, or one
 * millisecond past the later side when a side claims a time to come; its
 * rank is the lowest there is and its remote version 0, so a person's change
 * made at the very same corrected millisecond still wins over it. The origin
 * becomes -1 (no system): under `manual` a later change anywhere then wins by
 * the version order and an older change seen late loses, instead of being
 * parked again as a conflict with the system the value was taken from. The
 * parked side is cleared.
 *
 * Returns 0; CC_ENOTPARKED when the field has no conflict parked; CC_EINVAL
 * when field is not a field of cfg, or how->take names a system that is not
 * a side of this conflict (out->system says which); CC_EUNMAPPED when a
 * system that holds or is creating a record of the case maps the field and
 * no mapping of it covers the value (out->system says which); CC_ENOMEM. On
 * an error c is unchanged. Strings of how are borrowed for the call.
 */
int cc_resolve(const struct cc_config *cfg, struct cc_case *c, int field,
               const struct cc_resolution *how, int64_t now_ms, struct cc_resolve_outcome *out);

#endif
