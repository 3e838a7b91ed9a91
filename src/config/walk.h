/*
 * The generic walker of the configuration library (walk.c): it reads a
 * YAML mapping through the rows of its section (schema.h), and offers the
 * readers of each type to the few rows that parse their value themselves.
 * Internal to src/config/: only this library includes it.
 *
 * Every reader records the first error as "FILE:LINE:COLUMN: message" at
 * the node at fault and returns CC_EINVAL (CC_ENOMEM when memory runs
 * out); once an error is recorded every later one is dropped.
 */
#ifndef CC_CONFIG_WALK_H
#define CC_CONFIG_WALK_H

#include "config/config_file.h"
#include "config/schema.h"

#include <sys/types.h>

/* Rows a section may have (the walker keeps one slot per row). */
#define CC_SECTION_ROWS_MAX 32

/* ---- the arena everything of a loaded configuration lives in ---- */

struct cc_arena *cc_arena_create(void);
/* n zeroed bytes, NULL when out of memory. */
void *cc_arena_alloc(struct cc_arena *a, size_t n);
char *cc_arena_strndup(struct cc_arena *a, const char *s, size_t n);
/* Wipes (secrets live here too) and frees; NULL is allowed. */
void cc_arena_destroy(struct cc_arena *a);

/* ---- the walk ---- */

struct cc_walk {
	const char *path;                     /* what messages call the file */
	const struct cc_config_options *opt;  /* may be NULL */
	char *err;
	size_t errlen;
	bool failed;
	struct cc_arena *a;
	struct cc_file_config *c;
	struct fy_node *root;
	void *schema;                         /* the schema's own state (schema.c) */
};

/* What a row was given: its key and value in the file, and the value read. */
struct cc_slot {
	struct cc_ent e;
	bool given;
	int64_t num;          /* INT, DURATION (ms), BOOL, ENUM */
	const char *str;      /* STRING, NAME, and the value of a sourced string */
};

/* One mapping being walked through its section's rows. */
struct cc_frame {
	const struct cc_section *sec;
	void *obj[2];                /* where rows land: obj[0], or obj[1] for CC_ROW_ALT */
	struct fy_node *map;         /* the mapping; NULL when absent (defaults only) */
	const struct cc_frame *up;   /* the enclosing mapping's frame */
	const char *what;            /* how messages name this mapping */
	const char *label;           /* prefix of messages about it: "field state"; may be NULL */
	size_t index;                /* its position in its list */
	struct cc_slot slot[CC_SECTION_ROWS_MAX];
};

/*
 * Walks the mapping e.v (absent: every row takes its default) through the
 * rows of sec: unknown keys are errors with a suggestion, each row is read
 * by its type and lands in obj0/obj1, a missing required key is an error,
 * and each row's check runs once it has its value. `what` names the
 * mapping in messages (NULL: sec->what); label, up and index go into the
 * frame for the checks.
 */
int cc_walk_map(struct cc_walk *w, const struct cc_section *sec, void *obj0, void *obj1,
                struct cc_ent e, const struct cc_frame *up, const char *what,
                const char *label, size_t index);

/* The slot of the row `key` of a frame (NULL when the section has none). */
struct cc_slot *cc_frame_slot(struct cc_frame *fr, const char *key);
/* The object a row lands in. */
void *cc_frame_obj(struct cc_frame *fr, const struct cc_row *row);
/* The label of the nearest frame that has one, or NULL. */
const char *cc_frame_label(const struct cc_frame *fr);

/* ---- errors ---- */

/* Records the first error, at node n (NULL: the top of the file). */
int cc_walk_fail(struct cc_walk *w, struct fy_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int cc_walk_oom(struct cc_walk *w);
/* Fills buf with " (did you mean 'X'?)" when a candidate is close, else "". */
const char *cc_suggest(char *buf, size_t len, const char *name, const char *const *cands,
                       size_t ncands);
/* The candidate close enough to name to be what was meant, or NULL. */
const char *cc_nearest(const char *name, const char *const *cands, size_t ncands);

/* ---- nodes ---- */

bool cc_present(struct cc_ent e);
struct fy_node *cc_at(struct cc_ent e);   /* the value, else the key */
bool cc_node_is_scalar(struct fy_node *n); /* a scalar, not null */
bool cc_node_is_map(struct fy_node *n);
bool cc_node_is_seq(struct fy_node *n);
/* The entry of key in map ({NULL, NULL} when absent). */
struct cc_ent cc_get(struct fy_node *map, const char *key);
/* Iterates the pairs of a mapping: *it starts NULL; false at the end. */
bool cc_map_next(struct fy_node *map, void **it, struct cc_ent *out);
/* Iterates the items of a list: *it starts NULL; NULL at the end. */
struct fy_node *cc_seq_next(struct fy_node *seq, void **it);
size_t cc_node_count(struct fy_node *n);   /* items of a list or pairs of a mapping */
/* 1-based line and column of a node (what messages point at). */
void cc_node_pos(struct fy_node *n, int *line, int *col);

/* ---- readers of values (also used by the rows' own parsers) ---- */

int cc_want_map(struct cc_walk *w, struct cc_ent e, const char *what);
int cc_want_seq(struct cc_walk *w, struct cc_ent e, const char *what);
/* Every key of map must be one of known[] (NULL-terminated). */
int cc_check_keys(struct cc_walk *w, struct fy_node *map, const char *where,
                  const char *const *known);
/* A string copied into the arena; allow_empty admits a quoted "". Never
 * for secrets: the value may appear in messages. */
int cc_get_str(struct cc_walk *w, struct cc_ent e, const char *what, bool allow_empty,
               const char **out);
/* A name: letters, digits, '_', '-', '.'; at most CC_CONFIG_NAME_MAX bytes. */
int cc_get_name(struct cc_walk *w, struct cc_ent e, const char *what, const char **out);
int cc_get_int(struct cc_walk *w, struct cc_ent e, const char *what, int64_t lo, int64_t hi,
               int64_t *out);
/* A string, {env: NAME} or {file: PATH}; a secret must be one of the last two. */
int cc_get_sourced(struct cc_walk *w, struct cc_ent e, const char *what, bool secret,
                   struct cc_sourced *out);
/* ms in the largest units that divide it: 90000 -> "1m30s", 0 -> "0". */
const char *cc_fmt_ms(char *buf, size_t len, int64_t ms);

/*
 * Reads at most max bytes of fd into buf (max + 1 bytes long, so that one
 * byte more tells a file that is too long). Returns the count, or -1 with
 * errno set. A read that would block ends with EAGAIN.
 */
ssize_t cc_read_bounded(int fd, char *buf, size_t max);

/* ---- the schema (schema.c) ---- */

/* Walks the whole document w->root into w->c through the root's rows. */
int cc_schema_walk(struct cc_walk *w);

#endif
