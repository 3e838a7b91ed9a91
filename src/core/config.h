/*
 * The engine's configuration, as plain data: canonical fields with their
 * policies, connected systems with their mappings, routing rules and
 * timing. The YAML loader (and the simulator) fill these structures; the
 * engine only reads them.
 *
 * Ownership: every string and array reachable from a struct cc_config is
 * owned by whoever built it and must outlive every engine object using it.
 */
#ifndef CC_CONFIG_H
#define CC_CONFIG_H

#include "core/types.h"

struct cc_field_def {
	const char *name;
	enum cc_field_type type;
	enum cc_policy policy;
	int owner;                    /* system index, for CC_POLICY_OWNER */
	enum cc_owner_mode owner_mode;
	bool dedup_key;               /* used by the duplicate score */
	const char *owner_name;       /* the owner as written, until resolved to `owner` */
};

/*
 * One remote value and the set of canonical values it stands for.
 * For a one-to-one value the set has one member. For a lossy value
 * ("Sentinel Closed" = {resolved, closed, canceled}) the set has several,
 * and dflt is the canonical value taken when the remote value changes the
 * case (DESIGN section 6).
 */
/*
 * A companion of a remote value: another field of the same system that a
 * write of this value carries in the same request (ServiceNow's Resolved
 * needs close_code and close_notes, Sentinel's Closed a classification).
 * It is filled from the case's value of `field`, mapped as that field is
 * mapped in this system, or with dflt (a remote value) when the case holds
 * none this system can take. While the system holds the value, the
 * projection never clears a companion (see cc_project).
 */
struct cc_companion {
	int field;                    /* canonical field */
	const char *dflt;             /* remote value; NULL: none */
};

struct cc_value_entry {
	const char *remote;
	const char *const *canonical; /* NULL-terminated */
	const char *dflt;             /* NULL means canonical[0] */
	const struct cc_companion *companions;
	size_t ncompanions;
};
/* An entry without companions, for tables written in C. */
#define CC_VALUE(r, set, d) { .remote = (r), .canonical = (set), .dflt = (d) }

/*
 * A range of remote numbers standing for one canonical value (RT's priority
 * 20..39 is "normal"): a number inside the range is left alone, any other
 * is written as dflt.
 */
struct cc_value_range {
	long from, to;        /* inclusive */
	const char *canonical;
	const char *dflt;     /* the remote number written for this value */
};

enum cc_map_kind {
	CC_MAP_IDENTITY = 0, /* values pass through (normalized) */
	CC_MAP_TABLE,        /* values translated through entries */
	CC_MAP_RANGE,        /* remote numbers by ranges */
};

struct cc_field_map {
	bool mapped;           /* false: this system does not carry the field */
	const char *remote_name;
	enum cc_map_kind kind;
	const struct cc_value_entry *entries;
	size_t nentries;
	const struct cc_value_range *ranges;  /* CC_MAP_RANGE */
	size_t nranges;
};

/* Routing: a case goes to a system only if every rule for it holds. */
enum cc_route_op { CC_ROUTE_EQ = 0, CC_ROUTE_NE };
struct cc_route_rule {
	int field;
	enum cc_route_op op;
	const char *value; /* canonical; an unset field compares as "" */
};

struct cc_system_def {
	const char *name;
	const char *kind;       /* connector kind: "servicenow", "sim-jira", ... */
	int32_t rank;           /* tie-breaker, lower wins ties last */
	struct cc_field_map map[CC_MAX_FIELDS];
	const struct cc_route_rule *routes;
	size_t nroutes;
	bool comments;          /* mirror comments to and from this system */
	/* The account concord writes as in this system (NULL: unknown). A
	 * second signal only: a value equal to a pending write confirms it only
	 * when the system says this account made the change. */
	const char *integration_user;
	/* Write the case's correlation id into records people raised here too,
	 * not only into the records concord creates. */
	bool stamp_correlation;
	int64_t poll_interval_ms;
	int64_t poll_overlap_s;  /* overlap window of the poll cursor */
	int64_t search_lag_ms;   /* upper bound on the search index lag */
	size_t page_size;
};

struct cc_config {
	struct cc_field_def fields[CC_MAX_FIELDS];
	size_t nfields;
	struct cc_system_def systems[CC_MAX_SYSTEMS];
	size_t nsystems;
	/* A new record waits this long for a near-simultaneous twin elsewhere. */
	int64_t create_settle_ms;
	/* Duplicate score thresholds, 0..100. */
	int dedup_link_score;
	int dedup_review_score;
	/* Records raised further apart than this are never linked automatically. */
	int64_t dedup_window_ms;
	/* Raised this close together, titles that begin with the same
	 * dedup_close_words words (each refined since) are linked. */
	int64_t dedup_close_ms;
	int dedup_close_words;
	int dedup_title_field;   /* canonical field compared as a title, -1 none */
	int dedup_caller_field;  /* canonical field compared as the caller, -1 none */
	/* Outbox timing. */
	int64_t backoff_base_ms;
	int64_t backoff_max_ms;
	int64_t dead_letter_after_ms; /* a write retried this long is dead-lettered */
	int breaker_failures;         /* consecutive failures that open the breaker */
	int64_t breaker_open_ms;
	/* The promise of DESIGN section 5, stated for users. */
	int64_t clock_uncertainty_ms;
};

/* Fills cfg with defaults (no fields, no systems). */
void cc_config_defaults(struct cc_config *cfg);
/* Checks internal consistency; on error writes a message into err. */
int cc_config_validate(const struct cc_config *cfg, char *err, size_t errlen);
/* Index of a field by name, or -1. */
int cc_config_field(const struct cc_config *cfg, const char *name);

#endif
