/*
 * What the ServiceNow connector says and reads on the wire, without I/O
 * (docs/connectors/servicenow.md): the encoded queries it builds (the
 * poll's keyset search, the journal, the audit, the correlation lookup),
 * the Link header of a listing, ServiceNow's times, the priority matrix
 * that turns a priority into impact and urgency, the journal rows (the
 * comments), the audit rows (the field times) and the webhook body a
 * business rule posts. Pure functions, so that each is tested alone
 * (tests/unit/test_servicenow.c).
 *
 * Ownership: returned strings are new (caller frees); JSON values are
 * borrowed from the caller's answer.
 */
#ifndef CC_CONNECTORS_SN_WIRE_H
#define CC_CONNECTORS_SN_WIRE_H

#include "core/observation.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_t;

#define SN_SYS_ID_LEN 32
#define SN_PRIO_MAX 16        /* entries of a priority matrix */
#define SN_PRIO_VALUE 16      /* a priority, impact or urgency value and its NUL */

/* True when s is a sys_id: 32 lowercase hex digits. */
bool sn_sys_id_ok(const char *s);

/* True when s is a table or field name ServiceNow allows: [a-z0-9_], 1 to 80 characters. */
bool sn_name_ok(const char *s);

/* True when s may stand as a value in an encoded query: not empty, no '^', '=' or control. */
bool sn_query_value_ok(const char *s);

/*
 * 'YYYY-MM-DD HH:MM:SS' (UTC, what the Table API answers with
 * sysparm_display_value=false) to seconds since the epoch, through the one
 * strict parser (core/iso8601.h); false for anything else.
 */
bool sn_time_parse(const char *s, int64_t *out);

/* Seconds since the epoch as 'YYYY-MM-DD HH:MM:SS' UTC (at least 20 bytes). */
void sn_time_format(char *buf, size_t len, int64_t t);

/*
 * The poll's encoded query (not yet URL-escaped): records updated at or
 * after from_s, strictly after the keyset position (after_mtime_s,
 * after_id) when after_id is set and that second is not before from_s,
 * ordered by sys_updated_on then sys_id:
 *   sys_updated_on>=T[^sys_updated_on>T^ORsys_id>ID]^ORDERBYsys_updated_on^ORDERBYsys_id
 * (a^b^ORc is a AND (b OR c)). NULL when out of memory or after_id is not
 * a sys_id.
 */
char *sn_list_query(int64_t from_s, int64_t after_mtime_s, const char *after_id);

/*
 * The URL of the rel="next" link of a Link header (RFC 8288: a list of
 * <URI-reference>; params, separated by commas that are neither inside
 * the <...> nor inside a quoted parameter value) into url (len bytes).
 * 1: found; 0: the header has no next link; -1: the header is not a list
 * of links, or the URL does not fit.
 */
int sn_link_next(const char *link, char *url, size_t len);

/*
 * The value of the query parameter `name` of a URL (sysparm_offset) as a
 * number of 0 or more; false when absent or not digits.
 */
bool sn_url_param_int(const char *url, const char *name, int64_t *out);

/* X-Total-Count as sent: digits only; false otherwise. */
bool sn_total_parse(const char *s, int64_t *out);

/* One priority's write: the impact and urgency that give it. */
struct sn_prio {
	char priority[SN_PRIO_VALUE];
	char impact[SN_PRIO_VALUE];
	char urgency[SN_PRIO_VALUE];
};

struct sn_matrix {
	struct sn_prio e[SN_PRIO_MAX];
	size_t n;
};

/*
 * ServiceNow's default priority lookup read backwards: one impact/urgency
 * pair per priority, the one in the middle of its diagonal.
 */
#define SN_PRIORITY_MATRIX_DEFAULT "1=1/1 2=1/2 3=2/2 4=2/3 5=3/3"

/*
 * Parses a priority_matrix setting: entries PRIORITY=IMPACT/URGENCY
 * separated by blanks or commas, each value letters, digits, '-' or '_'
 * (at most 15), each priority once. 0, or CC_EINVAL with the reason in err.
 */
int sn_matrix_parse(struct sn_matrix *m, const char *text, char *err, size_t errlen);

/* The entry of priority value v, NULL when the matrix has none. */
const struct sn_prio *sn_matrix_find(const struct sn_matrix *m, const char *v);

/*
 * The journal entries of one record (the `result` array of a
 * sys_journal_field query: sys_id, element, value, sys_created_on,
 * sys_created_by) whose element is `element`, as comments of out (id: the
 * entry's sys_id). NULL, or what is malformed (a row without a sys_id, a
 * value or a readable time); *nomem when out of memory.
 */
const char *sn_journal_take(struct json_t *rows, const char *element,
                            struct cc_observation *out, bool *nomem);

/*
 * The field times of one record at version mod_count (its sys_mod_count,
 * read at updated_s) from its audit rows (the `result` array of a
 * sys_audit query ordered newest first: fieldname, sys_created_on, user,
 * record_checkpoint): for each field f mapped as names[f] (NULL: not
 * mapped), the time and user of its newest row into mtime[f] and user[f]
 * (borrowed from rows; untouched when the field has none). Rows of a later
 * version than the one read are left out (audit read after the row: a
 * change in between): record_checkpoint, the sys_mod_count of the change,
 * above mod_count, or without it a time after updated_s. NULL, or what is
 * malformed.
 */
const char *sn_audit_take(struct json_t *rows, const char *const names[CC_MAX_FIELDS],
                          int64_t mod_count, int64_t updated_s, int64_t mtime[CC_MAX_FIELDS],
                          const char *user[CC_MAX_FIELDS]);

/* The body a ServiceNow business rule posts (docs/connectors/servicenow.md). */
struct sn_hook {
	char table[81];
	char sys_id[SN_SYS_ID_LEN + 1];
	int64_t mod_count;
	int64_t updated_s;
	bool insert;
};

/*
 * Reads a webhook body {"table", "sys_id", "number", "sys_mod_count",
 * "sys_updated_on", "operation": "insert"|"update"}: NULL, or what is
 * wrong with it (then nothing in h is to be used).
 */
const char *sn_hook_parse(const char *body, size_t len, struct sn_hook *h);

#endif
