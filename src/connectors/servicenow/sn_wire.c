/*
 * ServiceNow's wire, without I/O (see sn_wire.h): queries, the Link
 * header, times, the priority matrix, journal and audit rows, the webhook
 * body, the Basic credential.
 */
#include "connectors/servicenow/sn_wire.h"

#include "connectors/json.h"
#include "connectors/text.h"
#include "core/iso8601.h"
#include "core/types.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

bool sn_sys_id_ok(const char *s)
{
	if (!s || strlen(s) != SN_SYS_ID_LEN)
		return false;
	return strspn(s, "0123456789abcdef") == SN_SYS_ID_LEN;
}

bool sn_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n >= 1 && n <= 80 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

bool sn_query_value_ok(const char *s)
{
	if (!s || !s[0])
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '^' || *p == '=')
			return false;
	return true;
}

bool sn_time_parse(const char *s, int64_t *out)
{
	/* exactly YYYY-MM-DD HH:MM:SS: digits where digits go, a blank between */
	static const char shape[] = "dddd-dd-dd dd:dd:dd";
	if (!s || strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	char iso[32];
	snprintf(iso, sizeof(iso), "%.10sT%.8sZ", s, s + 11);
	return cc_iso8601_parse(iso, out);
}

void sn_time_format(char *buf, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "1970-01-01 00:00:00");
}

char *sn_list_query(int64_t from_s, int64_t after_mtime_s, const char *after_id)
{
	char from[32], at[32];
	sn_time_format(from, sizeof(from), from_s < 0 ? 0 : from_s);
	if (after_id && after_mtime_s >= from_s) {
		if (!sn_sys_id_ok(after_id))
			return NULL;
		sn_time_format(at, sizeof(at), after_mtime_s);
		return cc_strf("sys_updated_on>=%s^sys_updated_on>%s^ORsys_id>%s"
		               "^ORDERBYsys_updated_on^ORDERBYsys_id", from, at, after_id);
	}
	return cc_strf("sys_updated_on>=%s^ORDERBYsys_updated_on^ORDERBYsys_id", from);
}

/* RFC 7230 token characters (a link parameter's name). */
static bool token_char(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * One link-value at *pp: "<" URI ">" *( ";" name [ "=" ( token | quoted ) ] ).
 * Sets [uri, uri_len] and *next when one of its rel values is "next";
 * moves *pp past it (to the comma or the end). false when malformed.
 */
static bool link_value(const char **pp, const char **uri, size_t *uri_len, bool *next)
{
	const char *p = skip_blanks(*pp);
	*next = false;
	if (*p != '<')
		return false;
	const char *end = strchr(p + 1, '>');
	if (!end)
		return false;
	*uri = p + 1;
	*uri_len = (size_t)(end - p - 1);
	p = skip_blanks(end + 1);
	while (*p == ';') {
		p = skip_blanks(p + 1);
		const char *name = p;
		while (token_char(*p))
			p++;
		size_t nl = (size_t)(p - name);
		if (!nl)
			return false;
		p = skip_blanks(p);
		char val[128];
		size_t vl = 0;
		if (*p == '=') {
			p = skip_blanks(p + 1);
			if (*p == '"') {
				for (p++; *p && *p != '"'; p++) {
					if (*p == '\\' && p[1])
						p++;
					if (vl < sizeof(val) - 1)
						val[vl++] = *p;
				}
				if (*p != '"')
					return false;
				p++;
			} else {
				while (token_char(*p)) {
					if (vl < sizeof(val) - 1)
						val[vl++] = *p;
					p++;
				}
				if (!vl)
					return false;
			}
			p = skip_blanks(p);
		}
		val[vl] = '\0';
		if (nl == 3 && strncasecmp(name, "rel", 3) == 0) {
			/* rel holds relation types separated by blanks */
			for (char *sv, *t = strtok_r(val, " \t", &sv); t; t = strtok_r(NULL, " \t", &sv))
				if (strcasecmp(t, "next") == 0)
					*next = true;
		}
	}
	if (*p && *p != ',')
		return false;
	*pp = p;
	return true;
}

int sn_link_next(const char *link, char *url, size_t len)
{
	const char *p = link ? link : "";
	bool any = false;
	while (*(p = skip_blanks(p))) {
		if (*p == ',') { /* empty list elements are allowed */
			p++;
			continue;
		}
		const char *uri;
		size_t ul;
		bool next;
		if (!link_value(&p, &uri, &ul, &next))
			return -1;
		any = true;
		if (next) {
			if (ul + 1 > len || !ul)
				return -1;
			memcpy(url, uri, ul);
			url[ul] = '\0';
			return 1;
		}
	}
	return any || !link || !link[0] ? 0 : -1;
}

bool sn_url_param_int(const char *url, const char *name, int64_t *out)
{
	const char *q = url ? strchr(url, '?') : NULL;
	size_t nl = strlen(name);
	/* p: at the '?' or '&' before each parameter */
	for (const char *p = q; p; p = strchr(p + 1, '&')) {
		if (strncmp(p + 1, name, nl) != 0 || p[1 + nl] != '=')
			continue;
		p++;
		const char *v = p + nl + 1;
		size_t dl = strspn(v, "0123456789");
		if (!dl || dl > 15 || (v[dl] && v[dl] != '&' && v[dl] != '#'))
			return false;
		*out = strtoll(v, NULL, 10);
		return true;
	}
	return false;
}

bool sn_total_parse(const char *s, int64_t *out)
{
	size_t n = s ? strlen(s) : 0;
	if (!n || n > 15 || strspn(s, "0123456789") != n)
		return false;
	*out = strtoll(s, NULL, 10);
	return true;
}

/* A matrix value at *pp into dst, up to a stop character; false when empty or too long. */
static bool matrix_word(const char **pp, char *dst, const char *stops)
{
	const char *p = *pp;
	size_t n = 0;
	while (*p && !strchr(stops, *p)) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
		if (n + 1 >= SN_PRIO_VALUE)
			return false;
		dst[n++] = *p++;
	}
	dst[n] = '\0';
	*pp = p;
	return n > 0;
}

int sn_matrix_parse(struct sn_matrix *m, const char *text, char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	const char *p = text ? text : "";
	for (;;) {
		p += strspn(p, " \t,");
		if (!*p)
			break;
		struct sn_prio e;
		const char *at = p;
		bool ok = matrix_word(&p, e.priority, "=") && *p++ == '=' &&
		          matrix_word(&p, e.impact, "/") && *p++ == '/' &&
		          matrix_word(&p, e.urgency, " \t,");
		if (!ok) {
			snprintf(err, errlen, "priority_matrix: '%.20s' is not PRIORITY=IMPACT/URGENCY",
			         at);
			return CC_EINVAL;
		}
		if (sn_matrix_find(m, e.priority)) {
			snprintf(err, errlen, "priority_matrix: priority %s given twice", e.priority);
			return CC_EINVAL;
		}
		if (m->n == SN_PRIO_MAX) {
			snprintf(err, errlen, "priority_matrix: more than %d entries", SN_PRIO_MAX);
			return CC_EINVAL;
		}
		m->e[m->n++] = e;
	}
	if (!m->n) {
		snprintf(err, errlen, "priority_matrix: no entry");
		return CC_EINVAL;
	}
	return 0;
}

const struct sn_prio *sn_matrix_find(const struct sn_matrix *m, const char *v)
{
	for (size_t i = 0; v && i < m->n; i++)
		if (strcmp(m->e[i].priority, v) == 0)
			return &m->e[i];
	return NULL;
}

const char *sn_journal_take(json_t *rows, const char *element, struct cc_observation *out,
                            bool *nomem)
{
	*nomem = false;
	if (!json_is_array(rows))
		return "no journal entries";
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		const char *id = cc_json_text(row, "sys_id");
		const char *el = cc_json_text(row, "element");
		const char *value = cc_json_text(row, "value");
		const char *by = cc_json_text(row, "sys_created_by");
		int64_t at;
		if (!sn_sys_id_ok(id) || !el || !value ||
		    !sn_time_parse(cc_json_text(row, "sys_created_on"), &at))
			return "a journal entry without sys_id, element, value or time";
		if (strcmp(el, element) != 0)
			continue;
		if (cc_observation_add_comment(out, id, value, by, at)) {
			*nomem = true;
			return "out of memory";
		}
	}
	return NULL;
}

const char *sn_audit_take(json_t *rows, const char *const names[CC_MAX_FIELDS],
                          int64_t mod_count, int64_t updated_s, int64_t mtime[CC_MAX_FIELDS],
                          const char *user[CC_MAX_FIELDS])
{
	if (!json_is_array(rows))
		return "no audit rows";
	bool done[CC_MAX_FIELDS] = { false };
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		const char *fn = cc_json_text(row, "fieldname");
		int64_t at;
		if (!fn || !sn_time_parse(cc_json_text(row, "sys_created_on"), &at))
			return "an audit row without fieldname or time";
		json_t *cp = json_object_get(row, "record_checkpoint");
		int64_t checkpoint;
		if (cp && !json_is_null(cp) && !(json_is_string(cp) && !json_string_value(cp)[0])) {
			if (!sn_total_parse(json_string_value(cp), &checkpoint))
				return "an audit row whose record_checkpoint is not a number";
			if (checkpoint > mod_count)
				continue; /* a change after the version read */
		} else if (at > updated_s) {
			continue;
		}
		for (int f = 0; f < CC_MAX_FIELDS; f++) {
			if (!names[f] || done[f] || strcmp(names[f], fn) != 0)
				continue;
			done[f] = true;
			mtime[f] = at;
			user[f] = cc_json_text(row, "user");
		}
	}
	return NULL;
}

const char *sn_hook_parse(const char *body, size_t len, struct sn_hook *h)
{
	memset(h, 0, sizeof(*h));
	json_error_t e;
	json_t *j = json_loadb(body ? body : "", len, 0, &e);
	const char *bad = NULL;
	if (!json_is_object(j)) {
		json_decref(j);
		return "the body is not a JSON object";
	}
	const char *table = cc_json_text(j, "table");
	const char *sid = cc_json_text(j, "sys_id");
	const char *op = cc_json_text(j, "operation");
	json_t *mc = json_object_get(j, "sys_mod_count");
	const char *mcs = json_string_value(mc);
	if (!sn_name_ok(table))
		bad = "no table";
	else if (!sn_sys_id_ok(sid))
		bad = "no sys_id";
	else if (!cc_json_text(j, "number"))
		bad = "no number";
	else if (!(json_is_integer(mc) && json_integer_value(mc) >= 0) &&
	         !(mcs && sn_total_parse(mcs, &h->mod_count)))
		bad = "no sys_mod_count";
	else if (!sn_time_parse(cc_json_text(j, "sys_updated_on"), &h->updated_s))
		bad = "no sys_updated_on";
	else if (!op || (strcmp(op, "insert") != 0 && strcmp(op, "update") != 0))
		bad = "no operation insert or update";
	if (!bad) {
		snprintf(h->table, sizeof(h->table), "%s", table);
		snprintf(h->sys_id, sizeof(h->sys_id), "%s", sid);
		if (json_is_integer(mc))
			h->mod_count = json_integer_value(mc);
		h->insert = strcmp(op, "insert") == 0;
	}
	json_decref(j);
	return bad;
}
