/*
 * An observation: what one poll, read or webhook tells about one record.
 * Field values are in the system's own terms, placed in the slot of the
 * canonical field they map to.
 *
 * Ownership: every pointer in an observation is owned by it; release with
 * cc_observation_clear(), which leaves an empty observation.
 */
#ifndef CC_OBSERVATION_H
#define CC_OBSERVATION_H

#include "core/types.h"

struct cc_obs_field {
	bool present;     /* the system carries this field */
	char *value;      /* remote terms, never NULL when present */
	int64_t mtime_s;  /* last change of this field, remote clock, seconds */
	char *author;     /* who made that change, may be NULL */
};

struct cc_obs_comment {
	char *id;         /* remote comment id */
	char *body;
	char *author;
	int64_t created_s;
};

struct cc_observation {
	int system;
	char *remote_id;
	uint64_t rv;          /* remote version: grows with every change */
	int64_t mtime_s;      /* record modification time, remote clock */
	int64_t created_s;    /* record creation time, remote clock (0: unknown) */
	char *correlation_id; /* correlation id carried by the record, or NULL */
	bool deleted;
	struct cc_obs_field fields[CC_MAX_FIELDS];
	struct cc_obs_comment *comments;
	size_t ncomments;
};

void cc_observation_init(struct cc_observation *o);
void cc_observation_clear(struct cc_observation *o);
/* Deep copy; returns CC_ENOMEM on failure (dst is then empty). */
int cc_observation_copy(struct cc_observation *dst, const struct cc_observation *src);
/* Sets a field (copies value and author). */
int cc_observation_set(struct cc_observation *o, int field, const char *value,
                       int64_t mtime_s, const char *author);
int cc_observation_add_comment(struct cc_observation *o, const char *id,
                               const char *body, const char *author,
                               int64_t created_s);

/*
 * A comment written by the hub carries a marker naming its origin, so that
 * it is recognised even when the write's outcome was unknown.
 * Marker format: "[concord:<case>:<system>:<origin comment id>]".
 */
void cc_comment_marker(char *buf, size_t len, uint64_t case_id, int origin_system,
                       const char *origin_id);
/* Returns true and fills the parts when body starts with a marker. */
bool cc_comment_marker_parse(const char *body, uint64_t *case_id, int *origin_system,
                             char *origin_id, size_t idlen);

#endif
