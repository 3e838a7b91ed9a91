/*
 * Basic vocabulary shared by every part of concord: limits, result codes,
 * field types, policies and the version that orders the values of a field.
 *
 * Nothing here allocates; nothing here does I/O.
 */
#ifndef CC_TYPES_H
#define CC_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hard limits keep the case aggregate a flat, fixed-size structure. */
#define CC_MAX_FIELDS  16
#define CC_MAX_SYSTEMS 8

/*
 * The one error convention (docs/architecture.md): a function that can fail
 * returns CC_EOK (0) or one of these negative codes, and says more in an
 * error message its caller can read. Lookups return an index or -1 for
 * "none" (not an error); counts and sizes are size_t; process exit codes
 * exist only at the command line's edge (src/cli/).
 */
enum cc_error {
	CC_EOK = 0,
	CC_ENOMEM = -1,
	CC_EINVAL = -2,
	CC_ENOTFOUND = -3,
	CC_ESTORE = -4,
	CC_EUNMAPPED = -5,
	CC_ENOTPARKED = -6,    /* a field with no conflict parked for a person */
	CC_EIO = -7,           /* a file, a pipe or a socket failed */
	/* internal to the outbox (deliver.c): the entry was rescheduled, stop
	 * here; never returned by a public function */
	CC_ERESCHEDULED = -8,
};

/*
 * The three-way answer of every connector call (DESIGN section 4), plus
 * CONFLICT for a conditional write refused because the record changed
 * since the hub last saw it.
 */
enum cc_result {
	CC_OK = 0,
	CC_RETRY,    /* transient: try again later (delay in retry_after_ms) */
	CC_ERROR,    /* permanent: dead-letter with the reason */
	CC_CONFLICT, /* precondition failed: re-read the record, then retry */
};

enum cc_field_type {
	CC_FT_STRING = 0,
	CC_FT_TEXT,
	CC_FT_ENUM,
	CC_FT_USER,
	CC_FT_PRIORITY,
	CC_FT_TIMESTAMP,
};

/* A field's policy: an index into the policy table (core/policy.h). */
enum cc_policy {
	CC_POLICY_LWW = 0, /* last writer wins, by version */
	CC_POLICY_OWNER,   /* one system of record */
	CC_POLICY_MANUAL,  /* real conflicts are parked for a person */
	CC_POLICY__COUNT
};

enum cc_owner_mode {
	CC_OWNER_REVERT = 0, /* a refused change is written back */
	CC_OWNER_IGNORE,     /* a refused change stays where it was made */
};

/*
 * The order key of a canonical field value (DESIGN section 5):
 * corrected remote modification time, then system rank, then the
 * record's remote version as the last tie-breaker within one system.
 * A version with t_ms == INT64_MIN is "unset" and older than any other.
 */
struct cc_version {
	int64_t t_ms;  /* remote time corrected to hub time, milliseconds */
	int32_t rank;  /* configured rank of the origin system */
	uint64_t rv;   /* remote version of the record when observed */
};

#define CC_VERSION_UNSET ((struct cc_version){ INT64_MIN, 0, 0 })

/* Returns <0, 0 or >0 as a is older than, equal to or newer than b. */
int cc_version_cmp(const struct cc_version *a, const struct cc_version *b);

/* Formats a case id as its correlation id ("concord-<id>") into buf. */
void cc_correlation_format(char *buf, size_t len, uint64_t case_id);
/* Parses a correlation id; returns 0 and sets *case_id, or CC_EINVAL. */
int cc_correlation_parse(const char *s, uint64_t *case_id);
/*
 * The same for a store with an instance id (instance 0: the forms above):
 * "concord-<instance, 8 hex digits>-<id>", so that two stores never claim
 * each other's records. Parsing refuses another instance's ids.
 */
void cc_correlation_format_in(char *buf, size_t len, uint32_t instance, uint64_t case_id);
int cc_correlation_parse_in(const char *s, uint32_t instance, uint64_t *case_id);

#endif
