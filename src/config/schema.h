/*
 * The configuration's schema as rows (the way Fluent Bit's config_map
 * describes a plugin's keys): each section of the YAML file is a table of
 * rows, one per key, giving its type, its default, where its value lands
 * (an offsetof() into the object the section fills, or a function for the
 * few that need one), its range and one line of description.
 *
 * One generic walker (walk.c) reads every section through its rows, so the
 * parser, the defaults, `concord check --keys` and the key tables of
 * docs/configuration.md all come from the same rows; the unit test
 * tests/unit/test_config_schema.c fails when the tables of the document and
 * the rows disagree. The rows themselves are in schema.c.
 *
 * This header is for the configuration library, `concord check` and the
 * tests; nothing in it needs libfyaml.
 */
#ifndef CC_CONFIG_SCHEMA_H
#define CC_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cc_walk;
struct cc_frame;
struct fy_node;

/* A key of a mapping and its value; both NULL when the key is absent.
 * A list item has a value and no key. */
struct cc_ent {
	struct fy_node *k, *v;
};

enum cc_row_type {
	CC_ROW_STRING,   /* a string, not empty (but see CC_ROW_EMPTY_OK): const char * */
	CC_ROW_NAME,     /* letters, digits, '_', '-', '.'; 1 to CC_CONFIG_NAME_MAX bytes */
	CC_ROW_BOOL,     /* true or false: bool */
	CC_ROW_INT,      /* an integer in [min, max]: a signed integer of `size` bytes */
	CC_ROW_DURATION, /* "1m30s", in milliseconds in [min, max]: an integer of `size` bytes */
	CC_ROW_URL,      /* a sourced string that is http(s)://HOST[:PORT][/PATH] */
	CC_ROW_SOURCED,  /* a string, {env: NAME} or {file: PATH}: struct cc_sourced, or
	                    const char * (the value only) */
	CC_ROW_SECRET,   /* {env: NAME} or {file: PATH} only: struct cc_sourced */
	CC_ROW_ENUM,     /* one of `words`; its index lands, as an integer of `size` bytes */
	CC_ROW_MAP,      /* a mapping read through the rows of `sub` into the object at offset */
	CC_ROW_LIST,     /* a list of mappings, each read through the rows of `sub` */
	CC_ROW_CUSTOM,   /* read by `parse` */
};

/* Row flags. */
#define CC_ROW_REQUIRED  0x01u /* absent: an error at the mapping */
#define CC_ROW_ALT       0x02u /* lands in the section's second object (obj[1]) */
#define CC_ROW_EMPTY_OK  0x04u /* STRING: a quoted "" is a value */
#define CC_ROW_ALWAYS    0x08u /* CUSTOM: parse is called when the key is absent too */
#define CC_ROW_ZERO_DEFAULT 0x10u /* absent: left 0, which whoever reads it takes as
                                     `dflt` (the HTTP client's own defaults) */
#define CC_ROW_INLINE    0x20u /* LIST: the items are an array inside the object, at
                                  most `max`, not allocated */

struct cc_section;

struct cc_row {
	const char *key;
	enum cc_row_type type;
	unsigned flags;
	/* The default as it would be written in the file ("60s", "true",
	 * "eq"), parsed by the row's own type when the key is absent; NULL:
	 * none (the member stays zero, or a hook sets it). */
	const char *dflt;
	size_t offset;            /* where the value lands in the object */
	size_t size;              /* sizeof that member, checked against the type */
	int64_t min, max;         /* INT and DURATION (ms); LIST: the number of items */
	const char *const *words; /* ENUM: NULL-terminated, the index is the value */
	const struct cc_section *sub; /* MAP, LIST: the rows of the mapping, of each item */
	size_t count;             /* LIST: offset of the size_t that counts the items */
	size_t elem;              /* LIST: the size of an item */
	size_t offset2, elem2;    /* LIST, INLINE: a parallel array of the second object */
	/* CUSTOM: reads e (present, or absent with CC_ROW_ALWAYS) into the
	 * frame's objects; 0 or CC_EINVAL/CC_ENOMEM with the error recorded. */
	int (*parse)(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row,
	             struct cc_ent e);
	/* INT, DURATION: lands v at `at` instead of storing an integer. */
	void (*land)(void *at, int64_t v);
	/* Called once the row has its value (given or default), in row order:
	 * the checks that need other keys of the mapping. */
	int (*check)(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row);
	const char *label;        /* how messages name the value, when not by its key */
	/* The default column of the documentation, when it is not `dflt`
	 * in backquotes, "required" or "none": "position in the list (1, 2, ...)". */
	const char *doc_dflt;
	const char *desc;         /* one line */
};

/* A section: the rows of one kind of mapping. */
struct cc_section {
	const char *what;         /* how messages name such a mapping: "a system" */
	const char *noun;         /* one item of a list of them: "system" */
	/* The line of docs/configuration.md that its key table follows
	 * ("## `systems`"); NULL when the document has no table for it. */
	const char *doc;
	const struct cc_row *rows;
	size_t nrows;
};

/* The sections the document has tables for, in the document's order (static). */
const struct cc_section *const *cc_config_sections(size_t *n);

/* The default column of a row as the documentation writes it: "`60s`",
 * "required", "none", "see below" or the row's doc_dflt. */
const char *cc_row_doc_default(const struct cc_row *r, char *buf, size_t len);

/* The range of a row in words, "1s to 24h", "1 to 16"; "" when it has
 * none beyond its type's. */
const char *cc_row_range(const struct cc_row *r, char *buf, size_t len);

/* The name of a row's type ("duration", "integer", ...). */
const char *cc_row_type_name(const struct cc_row *r);

/* Every section's rows as text tables: key, type, default, range, meaning
 * (`concord check --keys`). */
void cc_config_keys_print(FILE *f);

/*
 * Checks the rows themselves: every default parses as its row's type and
 * lies in its range, every member is of the size its type needs, every
 * section has fewer rows than the walker holds. 0, or -1 with a message.
 */
int cc_config_schema_check(char *err, size_t errlen);

#endif
