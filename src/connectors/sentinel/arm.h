/*
 * What the Sentinel connector needs of Azure Resource Manager, pure (no
 * I/O), so that each part is unit-tested on its own: names derived from
 * concord's ids (an incident's, a comment's), ARM times with their seven
 * fractional digits as versions, the incident listing's query, nextLink
 * paging kept on the management host, the PUT body of an update (the
 * writable properties read, with the values written merged in), and the
 * reason of an ARM error answer. docs/connectors/sentinel.md says where
 * each API fact comes from.
 *
 * Ownership: every returned string and json_t is new (caller frees or
 * decrefs); arguments are borrowed.
 */
#ifndef CC_CONNECTORS_SENTINEL_ARM_H
#define CC_CONNECTORS_SENTINEL_ARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_t;

#define CC_ARM_UUID_LEN 37 /* 36 characters and the NUL */

/*
 * A name-based UUID (RFC 9562 version 8, the SHA-256 construction of its
 * appendix B.2) of `name` in concord's namespace: the same name gives the
 * same UUID, lower-case 8-4-4-4-12, into out (CC_ARM_UUID_LEN bytes).
 * 0, or CC_ENOMEM when the hash cannot be computed.
 */
int cc_arm_uuid(const char *name, char out[CC_ARM_UUID_LEN]);

/* The incident name a create of correlation id corr gives (cc_arm_uuid of it). */
int cc_arm_incident_name(const char *corr, char out[CC_ARM_UUID_LEN]);

/*
 * The comment name of a comment concord writes on incident `incident`:
 * from its origin marker ("[concord:case:system:origin]") when the body
 * starts with one, else from the whole body, so a comment sent again is
 * the same comment.
 */
int cc_arm_comment_name(const char *incident, const char *body, char out[CC_ARM_UUID_LEN]);

/*
 * An ARM time ("2026-12-05T10:11:12.1234567Z": up to seven fractional
 * digits) as seconds (*s) and as a version: 100-nanosecond ticks since
 * the epoch (*ticks), which grow with every modification the time records.
 * false when it is not a whole ISO 8601 time (core/iso8601.h).
 */
bool cc_arm_time(const char *text, int64_t *s, uint64_t *ticks);

/* True when name can be put in a path as it is: 1 to 47 of [A-Za-z0-9_.-]. */
bool cc_arm_name_ok(const char *name);

/*
 * The listing query after the incidents' path: api-version, $filter on
 * properties/lastModifiedTimeUtc ge from_s, $orderby ascending on it,
 * $top; every value escaped.
 */
char *cc_arm_list_query(const char *api_version, int64_t from_s, int top);

/*
 * The path (under base_url) a nextLink names: NULL when it does not start
 * with base_url followed by '/' (another host, scheme, port or root: not
 * followed), or holds a blank or a control character.
 */
char *cc_arm_next_path(const char *base_url, const char *next_link);

/* The incident properties a PUT may carry (the others are read-only). */
bool cc_arm_writable(const char *property);

/*
 * The body of an update of incident `read` (its GET answer): {"etag":
 * its etag, "properties": its writable properties}; set them with
 * cc_arm_set. NULL when read has no etag or properties object.
 */
struct json_t *cc_arm_put_body(struct json_t *read);

/*
 * Sets property `rn` of a PUT body's properties to the value v (the
 * system's terms): "owner" becomes {"userPrincipalName": v} ({} for ""),
 * "labels" the comma-separated names as User labels beside the labels
 * that start with keep_prefix (NULL: none kept), any other a string ("" for
 * an optional property removes it). 0, or CC_ENOMEM.
 */
int cc_arm_set(struct json_t *body_or_props, const char *rn, const char *v,
               const char *keep_prefix);

/*
 * Fits classificationReason to the classification in props, as Sentinel
 * allows them together (docs/connectors/sentinel.md): TruePositive takes
 * SuspiciousActivity, BenignPositive SuspiciousButExpected, FalsePositive
 * keeps IncorrectAlertLogic or InaccurateData (else none), Undetermined and
 * no classification take none. For a write that sets a classification but
 * no reason: a reason left from an earlier classification would make the
 * PUT a 400. 0, or CC_ENOMEM.
 */
int cc_arm_fit_reason(struct json_t *props);

/*
 * The reason of an ARM error answer {"error": {"code", "message"}}:
 * "CODE: message" into buf; false when the body has neither.
 */
bool cc_arm_error(const char *body, size_t len, char *buf, size_t buflen);

#endif
