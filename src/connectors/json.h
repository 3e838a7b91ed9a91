/*
 * JSON scalars and shape checks for the connectors' answers (jansson):
 * members read with their type checked, so that a value of the wrong type
 * reads as absent and the caller can call the answer malformed
 * (request.h), and the paging members of a listing.
 *
 * Every returned json_t or string is borrowed from the object it was read
 * from.
 */
#ifndef CC_CONNECTORS_JSON_H
#define CC_CONNECTORS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_t;

/* A JSON scalar as a string (a number printed into buf, null and objects as NULL). */
const char *cc_json_str(struct json_t *v, char *buf, size_t len);

/* The string member o[key]; NULL when absent or not a string. */
const char *cc_json_text(struct json_t *o, const char *key);

/* The integer member o[key]; 0 when absent or not an integer. */
int64_t cc_json_int(struct json_t *o, const char *key);

/* The positive integer member o[key]; 0 when absent, not positive or not an integer. */
int64_t cc_json_int_id(struct json_t *o, const char *key);

/* A numeric id given as a positive integer or a string of digits; 0 for anything else. */
uint64_t cc_json_id(struct json_t *v);

/* The time member o[key] (ISO 8601, core/iso8601.h); false when absent or unreadable. */
bool cc_json_time(struct json_t *o, const char *key, int64_t *out);

/* The array member o[key]; NULL when absent or not an array. */
struct json_t *cc_json_array(struct json_t *o, const char *key);

/* The first object of the array a whose "name" is name; NULL when none. */
struct json_t *cc_json_named(struct json_t *a, const char *name);

/*
 * Whether a paged listing has a page after `page` (1-based): from its
 * integer member `pages_key`, the number of pages (RT's "pages"), when the
 * answer has one (null counts as none), else from a full page (n ==
 * per_page). *bad when the member is there but not a whole number of 0 or
 * more (an integer, or a real such as the 0.0 RT gives for no page).
 */
bool cc_json_more_pages(struct json_t *answer, const char *pages_key, int64_t page, size_t n,
                        size_t per_page, bool *bad);

/*
 * The same from a full page and the integer member `total_key`, the number
 * of rows in all (Redmine's "total_count"), when the answer has one: a page
 * follows page `page` (1-based, per_page rows each) while they are not all
 * read. *bad when the member is there but not an integer.
 */
bool cc_json_more_rows(struct json_t *answer, const char *total_key, int64_t page, size_t n,
                       size_t per_page, bool *bad);

#endif
