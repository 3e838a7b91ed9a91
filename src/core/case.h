/*
 * The case aggregate: a case's canonical fields with their versions, and
 * per connected system its link, shadows and pending write. The engine
 * loads one aggregate, decides, and saves it back in one transaction.
 *
 * Ownership: a struct cc_case owns every string it points to. Initialise
 * with cc_case_init(), release with cc_case_clear(), deep-copy with
 * cc_case_copy(). Setters copy their arguments.
 */
#ifndef CC_CASE_H
#define CC_CASE_H

#include "core/types.h"

struct cc_field_state {
	char *value;             /* canonical, "" when unset; never NULL */
	struct cc_version ver;
	int origin;              /* system of the winning change, -1 none */
	/* manual policy: a real conflict parked for a person (core/resolve.h) */
	bool parked;
	char *parked_value;      /* the parked side, canonical */
	int parked_system;       /* the system it came from, -1 none */
	struct cc_version parked_ver; /* its version (unset when not parked) */
};

enum cc_link_status {
	CC_LINK_NONE = 0,  /* not routed to this system (yet) */
	CC_LINK_CREATE,    /* a create is wanted; intent durable */
	CC_LINK_LINKED,    /* linked to remote_id */
	CC_LINK_PARKED,    /* deleted, moved or lost its correlation id */
};

struct cc_link {
	enum cc_link_status status;
	char *remote_id;
	uint64_t rv;                       /* newest remote version seen */
	bool hub_created;                  /* the hub created this record */
	char *shadow[CC_MAX_FIELDS];       /* system's value, its terms; NULL unknown */
	int64_t shadow_mtime_s[CC_MAX_FIELDS]; /* that value's remote change time, 0 unknown */
	uint32_t pending_mask;             /* fields of a write of unknown outcome */
	char *pending[CC_MAX_FIELDS];
	bool needs_read;                   /* re-read before the next write */
	bool needs_stamp;                  /* write the correlation id into the record */
	uint32_t unmapped_mask;            /* fields holding a value no mapping covers */
	uint32_t ignored_mask;             /* owner/ignore: divergence accepted ... */
	struct cc_version ignored_ver[CC_MAX_FIELDS]; /* ... at this case version */
	int64_t create_not_before_ms;      /* create gate (hub time) */
	int64_t create_attempt_ms;         /* last create whose outcome is unknown */
	bool create_unknown;
	bool dead_lettered;                /* the last delivery here was given up on: none
	                                    * is queued until the case changes or a
	                                    * person retries it */
};

struct cc_comment {
	int origin_system;
	char *origin_id;
	char *body;
	char *author;
	char *mirror_id[CC_MAX_SYSTEMS];   /* the copy in each system (origin: origin_id) */
	uint32_t unknown_mask;             /* mirrors written with unknown outcome */
};

struct cc_case {
	uint64_t id;
	int64_t created_ms;
	int origin_system;
	int64_t mirrored_ms;               /* first create in another system (0: not yet) */
	int64_t raised_ms;                 /* oldest field change of the first record (hub time) */
	bool review;                       /* flagged as a possible duplicate */
	char *first_title;                 /* title when first seen: twins match it too */
	struct cc_field_state f[CC_MAX_FIELDS];
	struct cc_link link[CC_MAX_SYSTEMS];
	struct cc_comment *comments;
	size_t ncomments;
};

int cc_case_init(struct cc_case *c);
void cc_case_clear(struct cc_case *c);
int cc_case_copy(struct cc_case *dst, const struct cc_case *src);

/*
 * The case's content changed (a canonical value, a comment, a person's
 * resolution): deliveries given up on (dead_lettered) are worth one more
 * try, so the links lose that mark. cc_case_set_value (when the value
 * differs) and cc_case_add_comment call it.
 */
void cc_case_changed(struct cc_case *c);

/* Replaces *slot with a copy of value (NULL allowed). */
int cc_str_set(char **slot, const char *value);
/* strcmp that treats NULL as "". */
int cc_str_cmp(const char *a, const char *b);

int cc_case_set_value(struct cc_case *c, int field, const char *value);
/* Appends a comment; returns its index in *out_index. */
int cc_case_add_comment(struct cc_case *c, int origin_system, const char *origin_id,
                        const char *body, const char *author, size_t *out_index);
/* Index of the comment with this origin, or -1. */
long cc_case_find_comment(const struct cc_case *c, int origin_system, const char *origin_id);
/* Index of the comment whose mirror in `system` is `remote_comment_id`, or -1. */
long cc_case_find_mirror(const struct cc_case *c, int system, const char *remote_comment_id);

#endif
