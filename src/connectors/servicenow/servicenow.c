/*
 * The ServiceNow connector: the Table API (JSON) over the HTTP client,
 * built on the HTTP connector base (connectors/base.h), which does the
 * paged keyset search, the seen cache, the reads sent ahead, the create,
 * update and comment sequences, the budget and the connector's life; this
 * file says what ServiceNow's API makes different
 * (docs/connectors/servicenow.md). The requests' wording and the parsing
 * of what comes back without I/O are in sn_wire.c.
 *
 * A record is a row of one table (setting `table`, default incident),
 * named by its sys_id. Its observation is the row (the mapped fields and
 * what the connector needs), its journal entries (sys_journal_field, the
 * element of `comments_field`: the comments) and, for a version not seen
 * before, its audit rows (sys_audit: each field's time and author). The
 * version is sys_mod_count + 1. The Table API has no conditional write:
 * the version is read just before a PATCH, as for Redmine. A priority is
 * written as the impact and urgency the priority_matrix setting gives it.
 *
 * Ownership: struct sn owns its settings' copies, the user cache and the
 * audit cache; everything else is the base's.
 */
#include "connectors/servicenow/servicenow.h"

#include "connectors/base.h"
#include "connectors/oauth.h"
#include "connectors/servicenow/sn_wire.h"
#include "http/client.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PER_PAGE 100       /* records of a page when the hub asks for no page size */
/*
 * Listing rows per request (three short members each): more than a page,
 * so that one listing request usually holds a page and one more (the base
 * stops there) instead of two.
 */
#define LIST_LIMIT 500
#define MAX_LIST_PAGES 50
#define AUDIT_CACHE 128
#define TABLE_PATH "/api/now/table/"
#define PLAIN "sysparm_display_value=false&sysparm_exclude_reference_link=true"

/* A sys_user row: its sys_id and user_name. */
struct sn_user {
	char sys_id[SN_SYS_ID_LEN + 1];
	char *name;
};

/* The field times the audit gave for one version of a record. */
struct sn_audited {
	char id[SN_SYS_ID_LEN + 1];
	uint64_t rv;
	int64_t mtime[CC_MAX_FIELDS];
	char *user[CC_MAX_FIELDS];
};

struct sn {
	struct cc_connector_base base; /* first: self is the base too (base.h) */
	char *table;
	char *comments_field;          /* work_notes or comments */
	char *user;                    /* Basic authentication's user name (NULL with OAuth) */
	struct cc_oauth *oauth;        /* OAuth client credentials, when client_id is set */
	char *fields;                  /* sysparm_fields of a record read */
	bool audit;                    /* setting audit */
	bool audit_denied;             /* sys_audit answered 403: record times from now on */
	struct sn_matrix matrix;
	struct sn_user *users;
	size_t nusers;
	struct sn_audited audited[AUDIT_CACHE];
	size_t audited_next;
};

static enum cc_result malformed(struct sn *s, struct cc_call *call, const char *op,
                                const char *what, const char *id)
{
	return cc_base_malformed(&s->base, call, op, what, id);
}

/* The account concord writes as: the integration user, else Basic's user. */
static const char *self_name(const struct sn *s)
{
	return s->base.iuser ? s->base.iuser : s->user;
}

/* ---- requests ---------------------------------------------------------- */

/* Remote text on one line: runs of blanks and control characters become one blank. */
static void one_line(char *dst, size_t len, const char *src)
{
	size_t n = 0;
	bool blank = true; /* no leading blank */
	for (const unsigned char *p = (const unsigned char *)(src ? src : ""); *p && n + 1 < len;
	     p++) {
		bool b = *p <= 0x20 || *p == 0x7f;
		if (b && blank)
			continue;
		dst[n++] = b ? ' ' : (char)*p;
		blank = b;
	}
	while (n && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

/*
 * One request whose failure quotes ServiceNow's {"error": {"message",
 * "detail"}} (a data policy's 403, a business rule's refusal); on OK,
 * *out (may be NULL) the answer's JSON. path is taken.
 */
static enum cc_result sn_send(struct sn *s, const char *op, const char *method, char *path,
                           json_t *body, json_t **out, long *status, struct cc_call *call)
{
	if (out)
		*out = NULL;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (!path || (body && !text)) {
		free(path);
		free(text);
		return cc_base_oom(&s->base, call);
	}
	struct cc_http_response resp;
	enum cc_result res = cc_http_request(s->base.http, op, method, path, text, &resp, call);
	free(path);
	free(text);
	if (status)
		*status = resp.status;
	json_t *j = resp.body ? json_loadb(resp.body, resp.len, 0, NULL) : NULL;
	if (res != CC_OK && resp.status >= 400 && resp.status < 500) {
		json_t *e = json_object_get(j, "error");
		const char *msg = cc_json_text(e, "message"), *det = cc_json_text(e, "detail");
		if (msg) {
			char m[64], d[128], all[256];
			one_line(m, sizeof(m), msg);
			one_line(d, sizeof(d), det);
			snprintf(all, sizeof(all), "servicenow %s: HTTP %ld: %s%s%s%s", op, resp.status, m,
			         d[0] ? " (" : "", d, d[0] ? ")" : "");
			/* the remote's text may echo what was sent: never a credential */
			cc_http_redact(s->base.http, all, sizeof(all));
			snprintf(call->reason, sizeof(call->reason), "%.159s", all);
		}
	}
	if (res == CC_OK && out && resp.body && !j)
		res = malformed(s, call, op, "not JSON", NULL);
	if (res == CC_OK && out) {
		*out = j;
		j = NULL;
	}
	json_decref(j);
	cc_http_response_clear(&resp);
	return res;
}

/* ---- users ------------------------------------------------------------- */

static const struct sn_user *user_by_id(const struct sn *s, const char *sys_id)
{
	for (size_t i = 0; i < s->nusers; i++)
		if (strcmp(s->users[i].sys_id, sys_id) == 0)
			return &s->users[i];
	return NULL;
}

static void user_add(struct sn *s, const char *sys_id, const char *name)
{
	struct sn_user *p = realloc(s->users, (s->nusers + 1) * sizeof(*p));
	if (!p)
		return;
	s->users = p;
	snprintf(p[s->nusers].sys_id, sizeof(p[s->nusers].sys_id), "%s", sys_id);
	if ((p[s->nusers].name = strdup(name)))
		s->nusers++;
}

/*
 * The user_name of sys_user `sys_id` (reference fields hold sys_ids);
 * the sys_id itself when the user cannot be read (the call stays OK).
 */
static const char *user_name_of(struct sn *s, const char *sys_id, struct cc_call *call)
{
	const struct sn_user *u = user_by_id(s, sys_id);
	if (u)
		return u->name;
	if (!sn_sys_id_ok(sys_id))
		return sys_id;
	json_t *j;
	if (cc_base_request(&s->base, "lookup", "GET",
	                    cc_strf(TABLE_PATH "sys_user/%s?sysparm_fields=user_name", sys_id), NULL,
	                    &j, NULL, call) == CC_OK) {
		const char *name = cc_json_text(json_object_get(j, "result"), "user_name");
		if (name && name[0])
			user_add(s, sys_id, name);
	}
	json_decref(j);
	call->result = CC_OK;
	call->reason[0] = '\0';
	u = user_by_id(s, sys_id);
	return u ? u->name : sys_id;
}

/* The sys_id of the user named `name` into out (33 bytes). */
static enum cc_result user_sys_id(struct sn *s, const char *name, char *out,
                                  struct cc_call *call)
{
	for (size_t i = 0; i < s->nusers; i++)
		if (strcmp(s->users[i].name, name) == 0) {
			snprintf(out, SN_SYS_ID_LEN + 1, "%s", s->users[i].sys_id);
			return CC_OK;
		}
	if (!sn_query_value_ok(name))
		return cc_call_fail(call, CC_ERROR, "servicenow: no user named '%.60s'", name);
	char *q = cc_strf("user_name=%s", name);
	char *qe = q ? cc_http_escape(q) : NULL;
	free(q);
	json_t *j, *rows;
	enum cc_result res = cc_base_get_array(
		&s->base, "lookup",
		qe ? cc_strf(TABLE_PATH "sys_user?sysparm_query=%s&sysparm_fields=sys_id%%2Cuser_name"
		             "&sysparm_limit=2", qe) : NULL,
		"result", &j, &rows, "no result of the user lookup", name, call);
	free(qe);
	if (res != CC_OK)
		return res;
	out[0] = '\0';
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		const char *sid = cc_json_text(row, "sys_id"), *un = cc_json_text(row, "user_name");
		if (sn_sys_id_ok(sid) && un && strcmp(un, name) == 0) {
			snprintf(out, SN_SYS_ID_LEN + 1, "%s", sid);
			user_add(s, sid, name);
			break;
		}
	}
	json_decref(j);
	if (!out[0])
		return cc_call_fail(call, CC_ERROR, "servicenow: no user named '%.60s'", name);
	return CC_OK;
}

/* Reference fields to sys_user: of type user, or ServiceNow's own user references. */
static bool is_user(const struct sn *s, int f, const char *rn)
{
	return cc_base_user_field(&s->base, f) || strcmp(rn, "assigned_to") == 0 ||
	       strcmp(rn, "caller_id") == 0;
}

/* ---- paths ------------------------------------------------------------- */

static char *record_path(const struct sn *s, const char *id)
{
	return cc_strf(TABLE_PATH "%s/%s?sysparm_fields=%s&" PLAIN, s->table, id, s->fields);
}

/* The journal of record id, in element F, oldest (desc: newest) first. */
static char *journal_path(const struct sn *s, const char *id, bool desc, int limit)
{
	char *q = cc_strf("element_id=%s^name=%s^element=%s^ORDERBY%ssys_created_on", id, s->table,
	                  s->comments_field, desc ? "DESC" : "");
	char *qe = q ? cc_http_escape(q) : NULL;
	free(q);
	char *p = qe ? cc_strf(TABLE_PATH "sys_journal_field?sysparm_query=%s&sysparm_fields="
	                       "sys_id%%2Celement%%2Cvalue%%2Csys_created_on%%2Csys_created_by"
	                       "&sysparm_limit=%d", qe, limit)
	             : NULL;
	free(qe);
	return p;
}

/* The audit of record id for the mapped fields, newest first. */
static char *audit_path(const struct sn *s, const char *id)
{
	struct cc_buf in = { 0 };
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		const char *rn = cc_base_remote_name(&s->base, f);
		if (rn)
			cc_buf_addf(&in, "%s%s", in.len ? "," : "", rn);
	}
	char *q = cc_strf("documentkey=%s^tablename=%s^fieldnameIN%s^ORDERBYDESCsys_created_on", id,
	                  s->table, in.data ? (char *)in.data : "");
	cc_buf_free(&in);
	char *qe = q ? cc_http_escape(q) : NULL;
	free(q);
	char *p = qe ? cc_strf(TABLE_PATH "sys_audit?sysparm_query=%s&sysparm_fields="
	                       "fieldname%%2Csys_created_on%%2Cuser%%2Crecord_checkpoint"
	                       "&sysparm_limit=1000", qe)
	             : NULL;
	free(qe);
	return p;
}

/* The reads an observation starts with, sent ahead: the record, then its journal. */
static char *read_path(struct cc_connector_base *b, const char *id, int pass)
{
	struct sn *s = (struct sn *)b;
	if (!sn_sys_id_ok(id))
		return NULL;
	if (pass == 0)
		return record_path(s, id);
	if (pass == 1 && b->cfg->systems[b->system].comments)
		return journal_path(s, id, false, 1000);
	return NULL;
}

/* ---- observation ------------------------------------------------------- */

struct row {
	struct sn *s;
	json_t *rec;
	struct cc_call *call;
};

/* A mapped field's value in ServiceNow's terms (users through the user map). */
static char *row_value(void *ctx, int f, const char *rn, bool *present)
{
	struct row *rw = ctx;
	char num[64];
	json_t *v = json_object_get(rw->rec, rn);
	*present = v != NULL;
	if (!v)
		return NULL;
	const char *t = cc_json_str(v, num, sizeof(num));
	if (!t)
		t = "";
	if (t[0] && is_user(rw->s, f, rn))
		t = cc_usermap_person(&rw->s->base.users, user_name_of(rw->s, t, rw->call));
	return strdup(t);
}

static struct sn_audited *audited_find(struct sn *s, const char *id, uint64_t rv)
{
	for (size_t i = 0; i < AUDIT_CACHE; i++)
		if (s->audited[i].rv == rv && strcmp(s->audited[i].id, id) == 0)
			return &s->audited[i];
	return NULL;
}

static void audited_clear(struct sn_audited *a)
{
	for (int f = 0; f < CC_MAX_FIELDS; f++)
		free(a->user[f]);
	memset(a, 0, sizeof(*a));
}

/*
 * The field times of version rv of record id: from the audit cache, else
 * from sys_audit (a 403 turns the audit off for the rest of the run,
 * said once on stderr). *a NULL: no field times (record times instead).
 */
static enum cc_result audit_times(struct sn *s, const char *id, uint64_t rv,
                                  int64_t updated_s, const char *op, struct sn_audited **a,
                                  struct cc_call *call)
{
	*a = NULL;
	if (!s->audit || s->audit_denied)
		return CC_OK;
	if ((*a = audited_find(s, id, rv)))
		return CC_OK;
	json_t *j;
	long status;
	enum cc_result res = sn_send(s, op, "GET", audit_path(s, id), NULL, &j, &status, call);
	if (res != CC_OK && status == 403) {
		s->audit_denied = true;
		fprintf(stderr, "servicenow: sys_audit answered 403 (%s): field times are the "
		        "record's from now on\n", call->reason);
		call->result = CC_OK;
		call->reason[0] = '\0';
		return CC_OK;
	}
	if (res != CC_OK)
		return res;
	const char *names[CC_MAX_FIELDS];
	const char *users[CC_MAX_FIELDS] = { NULL };
	struct sn_audited *e = &s->audited[s->audited_next];
	audited_clear(e);
	for (int f = 0; f < CC_MAX_FIELDS; f++)
		names[f] = cc_base_remote_name(&s->base, f);
	const char *bad = sn_audit_take(json_object_get(j, "result"), names, (int64_t)rv - 1,
	                                updated_s, e->mtime, users);
	if (!bad) {
		for (int f = 0; f < CC_MAX_FIELDS; f++)
			if (users[f] && !(e->user[f] = strdup(users[f])))
				bad = "out of memory";
	}
	json_decref(j);
	if (bad) {
		audited_clear(e);
		return malformed(s, call, op, bad, id);
	}
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->rv = rv;
	s->audited_next = (s->audited_next + 1) % AUDIT_CACHE;
	*a = e;
	return CC_OK;
}

/* The record's own members: what every answer of a read must hold. */
static const char *record_shape(json_t *rec, const char *id, struct cc_observation *out,
                                int64_t *mod_count)
{
	if (!json_is_object(rec))
		return "no result";
	const char *sid = cc_json_text(rec, "sys_id");
	if (!sid || strcmp(sid, id) != 0)
		return "the record's sys_id";
	if (!sn_total_parse(cc_json_text(rec, "sys_mod_count"), mod_count))
		return "the record's sys_mod_count";
	if (!sn_time_parse(cc_json_text(rec, "sys_updated_on"), &out->mtime_s) ||
	    !sn_time_parse(cc_json_text(rec, "sys_created_on"), &out->created_s))
		return "the record's sys_updated_on or sys_created_on";
	return NULL;
}

/* The record `id` as it is now: the row, its journal, its field times. */
static enum cc_result observe(struct cc_connector_base *b, const char *id, const char *op,
                              struct cc_observation *out, struct cc_call *call)
{
	struct sn *s = (struct sn *)b;
	if (!sn_sys_id_ok(id))
		return cc_call_fail(call, CC_ERROR, "servicenow %s: '%.40s' is not a sys_id", op, id);
	json_t *j = NULL, *jj = NULL;
	long status;
	enum cc_result res = cc_base_request(b, op, "GET", record_path(s, id), NULL, &j, &status,
	                                     call);
	if (!(out->remote_id = strdup(id))) {
		res = cc_base_oom(b, call);
		goto out;
	}
	if (res != CC_OK && status == 404) {
		cc_base_gone(out, call); /* gone for good: newer than any version seen */
		res = CC_OK;
		goto out;
	}
	if (res != CC_OK)
		goto out;
	json_t *rec = json_object_get(j, "result");
	int64_t mod_count;
	const char *bad = record_shape(rec, id, out, &mod_count);
	if (bad) {
		res = malformed(s, call, op, bad, id);
		goto out;
	}
	out->rv = (uint64_t)mod_count + 1;
	const char *corr = cc_json_text(rec, "correlation_id");
	if (corr && corr[0] && !(out->correlation_id = strdup(corr))) {
		res = cc_base_oom(b, call);
		goto out;
	}
	struct row rw = { .s = s, .rec = rec, .call = call };
	const char *creator = cc_json_text(rec, "sys_created_by");
	if (cc_base_fill_fields(b, out, creator, row_value, &rw)) {
		res = cc_base_oom(b, call);
		goto out;
	}
	if (b->cfg->systems[b->system].comments) {
		res = cc_base_request(b, op, "GET", journal_path(s, id, false, 1000), NULL, &jj, NULL,
		                      call);
		if (res != CC_OK)
			goto out;
		bool nomem;
		bad = sn_journal_take(json_object_get(jj, "result"), s->comments_field, out, &nomem);
		if (bad) {
			res = nomem ? cc_base_oom(b, call) : malformed(s, call, op, bad, id);
			goto out;
		}
	}
	struct sn_audited *a;
	res = audit_times(s, id, out->rv, out->mtime_s, op, &a, call);
	if (res != CC_OK)
		goto out;
	const char *updater = cc_json_text(rec, "sys_updated_by");
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		if (!out->fields[f].present)
			continue;
		/* no audit: the field's time is unknown (0), the engine takes the record's */
		int rc = !a ? cc_base_field_changed(out, f, updater, 0)
		         : a->mtime[f] ? cc_base_field_changed(out, f, a->user[f], a->mtime[f]) : 0;
		if (rc) {
			res = cc_base_oom(b, call);
			goto out;
		}
	}
	cc_seen_put(b->seen, id, out->rv);
	res = CC_OK;
out:
	json_decref(j);
	json_decref(jj);
	if (res != CC_OK)
		cc_observation_clear(out);
	return res;
}

/* ---- list_changes ------------------------------------------------------ */

/* Whether a listing page is followed by another: its Link, else X-Total-Count, else a full page. */
static const char *more_rows(const struct cc_http_response *resp, int64_t offset, size_t n,
                             bool *more)
{
	int64_t total;
	char next[2048];
	*more = false;
	if (resp->has_total && !sn_total_parse(resp->total_text, &total))
		return "X-Total-Count is not a number";
	if (resp->link) {
		int r = sn_link_next(resp->link, next, sizeof(next));
		int64_t off;
		if (r < 0)
			return "a Link header that is not a list of links";
		if (r > 0 && (!sn_url_param_int(next, "sysparm_offset", &off) ||
		              off != offset + LIST_LIMIT))
			return "a next link without the next sysparm_offset";
		*more = r > 0;
		return NULL;
	}
	*more = resp->has_total ? offset + (int64_t)n < total : n == LIST_LIMIT;
	return NULL;
}

/*
 * One page of the records updated at or after l->from_s (strictly after
 * the keyset position), by offset: sys_id, sys_updated_on, sys_mod_count.
 */
static enum cc_result fetch(struct cc_connector_base *b, struct cc_listing *l, int page,
                            struct cc_call *call)
{
	struct sn *s = (struct sn *)b;
	if (l->after_id && !sn_sys_id_ok(l->after_id))
		return cc_call_fail(call, CC_ERROR, "servicenow list: '%.40s' is not a sys_id",
		                    l->after_id);
	char *q = sn_list_query(l->from_s, l->after_mtime_s, l->after_id);
	char *qe = q ? cc_http_escape(q) : NULL;
	free(q);
	int64_t offset = (int64_t)(page - 1) * LIST_LIMIT;
	char *path = qe ? cc_strf(TABLE_PATH "%s?sysparm_query=%s&sysparm_fields=sys_id%%2C"
	                          "sys_updated_on%%2Csys_mod_count&sysparm_limit=%d"
	                          "&sysparm_offset=%" PRId64 "&" PLAIN, s->table, qe, LIST_LIMIT,
	                          offset)
	                : NULL;
	free(qe);
	if (!path)
		return cc_base_oom(b, call);
	struct cc_http_response resp;
	enum cc_result res = cc_http_request(b->http, "list", "GET", path, NULL, &resp, call);
	free(path);
	if (res != CC_OK) {
		cc_http_response_clear(&resp);
		return res;
	}
	json_t *j = resp.body ? json_loadb(resp.body, resp.len, 0, NULL) : NULL;
	json_t *rows = cc_json_array(j, "result");
	const char *what = !rows ? "no result list" : more_rows(&resp, offset,
	                                                         json_array_size(rows), &l->more);
	cc_http_response_clear(&resp);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		if (what)
			break;
		const char *sid = cc_json_text(row, "sys_id");
		int64_t m, mc;
		if (!sn_sys_id_ok(sid) || !sn_time_parse(cc_json_text(row, "sys_updated_on"), &m) ||
		    !sn_total_parse(cc_json_text(row, "sys_mod_count"), &mc)) {
			what = "a record without sys_id, sys_updated_on or sys_mod_count";
			break;
		}
		if (cc_listing_add(l, sid, m, (uint64_t)mc + 1)) {
			json_decref(j);
			return cc_base_oom(b, call);
		}
	}
	json_decref(j);
	return what ? malformed(s, call, "list", what, NULL) : CC_OK;
}

/* ---- find and writes --------------------------------------------------- */

/* The record whose correlation_id is corr: sysparm_query=correlation_id=corr, exact match kept. */
static enum cc_result lookup(struct cc_connector_base *b, const char *corr, char *id,
                             struct cc_call *call)
{
	struct sn *s = (struct sn *)b;
	if (!sn_query_value_ok(corr))
		return cc_call_fail(call, CC_ERROR, "servicenow: correlation id '%.40s' cannot be "
		                    "queried", corr);
	char *q = cc_strf("correlation_id=%s^ORDERBYsys_created_on", corr);
	char *qe = q ? cc_http_escape(q) : NULL;
	free(q);
	json_t *j, *rows;
	enum cc_result res = cc_base_get_array(
		b, "find",
		qe ? cc_strf(TABLE_PATH "%s?sysparm_query=%s&sysparm_fields=sys_id%%2Ccorrelation_id"
		             "&sysparm_limit=5&" PLAIN, s->table, qe) : NULL,
		"result", &j, &rows, "no result list", corr, call);
	free(qe);
	if (res != CC_OK)
		return res;
	size_t i;
	json_t *row;
	const char *bad = NULL;
	json_array_foreach(rows, i, row) {
		const char *sid = cc_json_text(row, "sys_id"), *v = cc_json_text(row, "correlation_id");
		if (!sn_sys_id_ok(sid)) {
			bad = "a record without sys_id";
			break;
		}
		if (v && strcmp(v, corr) == 0) {
			snprintf(id, CC_BASE_ID_MAX, "%s", sid);
			break;
		}
	}
	json_decref(j);
	return bad ? malformed(s, call, "find", bad, corr) : CC_OK;
}

/*
 * The members of a write: every given field (a priority as the impact and
 * urgency of the priority_matrix, a user by its sys_id), and the
 * correlation id with correlation_display "concord" when w has one.
 * *nset: the members set.
 */
static enum cc_result write_body(struct sn *s, const struct cc_write *w, json_t *o, int *nset,
                                 struct cc_call *call)
{
	*nset = 0;
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		const char *rn = cc_base_remote_name(&s->base, f);
		const char *v = w->values[f];
		if (!rn || !v)
			continue;
		if (strncmp(rn, "sys_", 4) == 0 || strcmp(rn, "number") == 0)
			return cc_call_fail(call, CC_ERROR, "servicenow: %s is read-only", rn);
		int rc;
		if (strcmp(rn, "priority") == 0) {
			const struct sn_prio *p = sn_matrix_find(&s->matrix, v);
			if (!p)
				return cc_call_fail(call, CC_ERROR, "servicenow: priority_matrix has no "
				                    "priority '%.20s'", v);
			rc = json_object_set_new(o, "impact", json_string(p->impact)) ||
			     json_object_set_new(o, "urgency", json_string(p->urgency));
		} else if (is_user(s, f, rn) && v[0]) {
			/* a user_name, or a sys_id that read as itself (a user not readable) */
			const char *name = cc_usermap_remote(&s->base.users, v);
			char sid[SN_SYS_ID_LEN + 1];
			enum cc_result res = sn_sys_id_ok(name) ? CC_OK : user_sys_id(s, name, sid, call);
			if (res != CC_OK)
				return res;
			rc = json_object_set_new(o, rn, json_string(sn_sys_id_ok(name) ? name : sid));
		} else {
			rc = json_object_set_new(o, rn, json_string(v));
		}
		if (rc)
			return cc_base_oom(&s->base, call);
		(*nset)++;
	}
	if (w->correlation_id) {
		if (json_object_set_new(o, "correlation_id", json_string(w->correlation_id)) ||
		    json_object_set_new(o, "correlation_display", json_string("concord")))
			return cc_base_oom(&s->base, call);
		(*nset)++;
	}
	return CC_OK;
}

static char *create_url(struct cc_connector_base *b)
{
	return cc_strf(TABLE_PATH "%s?sysparm_fields=sys_id&" PLAIN, ((struct sn *)b)->table);
}

static enum cc_result create_body(struct cc_connector_base *b, const struct cc_write *w,
                                  json_t **body, struct cc_call *call)
{
	json_t *o = json_object();
	int nset;
	if (!o)
		return cc_base_oom(b, call);
	enum cc_result res = write_body((struct sn *)b, w, o, &nset, call);
	if (res != CC_OK) {
		json_decref(o);
		return res;
	}
	*body = o;
	return CC_OK;
}

/*
 * The Table API has no precondition on writes: sys_mod_count is read just
 * before the PATCH (CONFLICT when it moved), which leaves a window of one
 * round trip. Every given field goes in the one PATCH (a close with its
 * close_code and close_notes passes the data policy only together).
 */
static enum cc_result write(struct cc_connector_base *b, const struct cc_write *w, bool *wrote,
                            char *why, size_t why_len, struct cc_call *call)
{
	struct sn *s = (struct sn *)b;
	const char *id = w->remote_id;
	if (!sn_sys_id_ok(id))
		return cc_call_fail(call, CC_ERROR, "servicenow update: '%.40s' is not a sys_id", id);
	enum cc_result res;
	if (w->expected_rv) {
		json_t *j;
		long status;
		res = cc_base_request(b, "update", "GET",
		                      cc_strf(TABLE_PATH "%s/%s?sysparm_fields=sys_id%%2Csys_mod_count",
		                              s->table, id), NULL, &j, &status, call);
		if (res != CC_OK && status == 404)
			return cc_call_fail(call, CC_CONFLICT, "servicenow: record %s is gone", id);
		if (res != CC_OK)
			return res;
		int64_t mc;
		bool ok = sn_total_parse(cc_json_text(json_object_get(j, "result"), "sys_mod_count"),
		                         &mc);
		json_decref(j);
		if (!ok)
			return malformed(s, call, "update", "no sys_mod_count", id);
		if ((uint64_t)mc + 1 != w->expected_rv)
			return cc_call_fail(call, CC_CONFLICT, "servicenow: record %s at version %" PRIu64
			                    ", expected %" PRIu64, id, (uint64_t)mc + 1, w->expected_rv);
	}
	json_t *o = json_object();
	int nset;
	if (!o)
		return cc_base_oom(b, call);
	res = write_body(s, w, o, &nset, call);
	*wrote = res == CC_OK && nset;
	if (*wrote)
		res = sn_send(s, "update", "PATCH",
		           cc_strf(TABLE_PATH "%s/%s?sysparm_fields=sys_id", s->table, id), o, NULL,
		           NULL, call);
	json_decref(o);
	/* a PATCH answers 200 even when a business rule put a value back */
	snprintf(why, why_len, "put back by a business rule, an ACL or a data lookup");
	return res;
}

/* A journal entry: the comments_field of the record, nothing else. */
static enum cc_result comment(struct cc_connector_base *b, const char *id, const char *body,
                              struct cc_call *call)
{
	struct sn *s = (struct sn *)b;
	if (!sn_sys_id_ok(id))
		return cc_call_fail(call, CC_ERROR, "servicenow comment: '%.40s' is not a sys_id", id);
	json_t *o = json_pack("{s:s}", s->comments_field, body);
	if (!o)
		return cc_base_oom(b, call);
	enum cc_result res = sn_send(s, "comment", "PATCH",
	                          cc_strf(TABLE_PATH "%s/%s?sysparm_fields=sys_id", s->table, id), o,
	                          NULL, NULL, call);
	json_decref(o);
	return res;
}

/*
 * Ours is the newest journal entry of the record in comments_field,
 * written by the integration user, whose value is the body; its time,
 * stamped during the call, is a sample of the server's clock.
 */
static enum cc_result comment_id(struct cc_connector_base *b, const char *id, const char *body,
                                 char **out_id, struct cc_call *call)
{
	struct sn *s = (struct sn *)b;
	json_t *j, *rows;
	enum cc_result res = cc_base_get_array(b, "comment", journal_path(s, id, true, 20), "result",
	                                       &j, &rows, "no journal entries", id, call);
	if (res != CC_OK)
		return res;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row) {
		const char *v = cc_json_text(row, "value"), *by = cc_json_text(row, "sys_created_by");
		const char *sid = cc_json_text(row, "sys_id");
		int64_t at;
		if (!v || !sn_sys_id_ok(sid) || !cc_same_text(v, body) ||
		    (self_name(s) && (!by || strcmp(by, self_name(s)) != 0)))
			continue;
		*out_id = strdup(sid);
		if (sn_time_parse(cc_json_text(row, "sys_created_on"), &at))
			cc_base_date_sample(call, at);
		break;
	}
	json_decref(j);
	return CC_OK;
}

/* ---- webhook ----------------------------------------------------------- */

/*
 * The body a business rule posts (docs/connectors/servicenow.md): only
 * which record changed is believed; it is read as it is now, unless the
 * version this connector returned last is already that one or newer. A
 * record of another table names nothing of ours.
 */
static enum cc_result sn_webhook(void *self, const char *body, size_t len, struct cc_page *pg,
                                 struct cc_call *call)
{
	struct sn *s = self;
	memset(pg, 0, sizeof(*pg));
	struct sn_hook h;
	const char *bad = sn_hook_parse(body, len, &h);
	if (bad)
		return cc_call_fail(call, CC_ERROR, "servicenow webhook: malformed body: %s", bad);
	if (strcmp(h.table, s->table) != 0 ||
	    cc_seen_covers(s->base.seen, h.sys_id, (uint64_t)h.mod_count + 1))
		return CC_OK;
	return cc_base_webhook_read(&s->base, h.sys_id, pg, call);
}

/* ---- the connector ------------------------------------------------------ */

/* sysparm_fields of a record read: what the connector needs, then the mapped fields. */
static int fields_list(struct sn *s, char *err, size_t errlen)
{
	struct cc_buf fl = { 0 };
	cc_buf_addf(&fl, "sys_id%%2Csys_mod_count%%2Csys_updated_on%%2Csys_updated_by"
	            "%%2Csys_created_on%%2Csys_created_by%%2Cnumber%%2Ccorrelation_id");
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		const char *rn = cc_base_remote_name(&s->base, f);
		if (!rn)
			continue;
		if (!sn_name_ok(rn)) {
			cc_buf_free(&fl);
			snprintf(err, errlen, "servicenow: '%.40s' is not a field name", rn);
			return CC_EINVAL;
		}
		cc_buf_addf(&fl, "%%2C%s", rn);
	}
	s->fields = fl.data ? strndup((char *)fl.data, fl.len) : NULL;
	cc_buf_free(&fl);
	if (!s->fields) {
		snprintf(err, errlen, "servicenow: out of memory");
		return CC_ENOMEM;
	}
	return 0;
}

/*
 * OAuth 2.0 client credentials: the token from base_url + token_path
 * (default /oauth_token.do) for client_id and client_secret, asked by the
 * HTTP client before each call and renewed once after a 401 (oauth.h).
 */
static int oauth_init(struct sn *s, const struct cc_connector_setup *st, const char *client_id,
                      char *err, size_t errlen)
{
	const char *secret = cc_setup_setting(st, "client_secret");
	const char *path = cc_setup_setting(st, "token_path");
	if (!secret || !secret[0] || !path || path[0] != '/') {
		snprintf(err, errlen, "servicenow: OAuth needs 'client_secret' and a 'token_path' "
		         "starting with '/'");
		return CC_EINVAL;
	}
	size_t bl = st->base_url ? strlen(st->base_url) : 0;
	while (bl && st->base_url[bl - 1] == '/')
		bl--;
	char *url = cc_strf("%.*s%s", (int)bl, st->base_url ? st->base_url : "", path);
	if (!url) {
		snprintf(err, errlen, "servicenow: out of memory");
		return CC_ENOMEM;
	}
	struct cc_oauth_options o = { .who = "servicenow", .token_url = url,
		                      .client_id = client_id, .client_secret = secret };
	cc_oauth_options_from_setup(&o, st);
	int rc = cc_oauth_create(&s->oauth, &o, err, errlen);
	free(url);
	if (!rc)
		s->base.auth = cc_oauth_auth(s->oauth);
	return rc;
}

static int init(struct cc_connector_base *b, const struct cc_connector_setup *st, char *err,
                size_t errlen)
{
	struct sn *s = (struct sn *)b;
	const char *table = cc_setup_setting(st, "table");
	const char *cf = cc_setup_setting(st, "comments_field");
	const char *audit = cc_setup_setting(st, "audit");
	const char *user = cc_setup_setting(st, "user");
	if (!sn_name_ok(table)) {
		snprintf(err, errlen, "servicenow: setting 'table' must be a table name");
		return CC_EINVAL;
	}
	if (!cf || (strcmp(cf, "work_notes") != 0 && strcmp(cf, "comments") != 0)) {
		snprintf(err, errlen, "servicenow: setting 'comments_field' must be work_notes or "
		         "comments");
		return CC_EINVAL;
	}
	if (!audit || (strcmp(audit, "true") != 0 && strcmp(audit, "false") != 0)) {
		snprintf(err, errlen, "servicenow: setting 'audit' must be true or false");
		return CC_EINVAL;
	}
	const char *client_id = cc_setup_setting(st, "client_id");
	bool oauth = client_id && client_id[0];
	if (!oauth && (!user || !user[0] || strchr(user, ':'))) {
		snprintf(err, errlen, "servicenow: setting 'user' (Basic authentication) or "
		         "'client_id' (OAuth) is required; a user name holds no ':'");
		return CC_EINVAL;
	}
	int rc = sn_matrix_parse(&s->matrix, cc_setup_setting(st, "priority_matrix"), err, errlen);
	if (rc)
		return rc;
	s->audit = strcmp(audit, "true") == 0;
	s->table = strdup(table);
	s->comments_field = strdup(cf);
	s->user = user && user[0] ? strdup(user) : NULL;
	if (!s->table || !s->comments_field || (user && user[0] && !s->user)) {
		snprintf(err, errlen, "servicenow: out of memory");
		return CC_ENOMEM;
	}
	rc = fields_list(s, err, errlen);
	if (!rc && oauth)
		rc = oauth_init(s, st, client_id, err, errlen);
	return rc;
}

/* Basic: base64 of user:secret (with OAuth the base sends no secret). */
static char *credential(struct cc_connector_base *b, const char *secret)
{
	return cc_basic_credential(((struct sn *)b)->user, secret);
}

static void clear(struct cc_connector_base *b)
{
	struct sn *s = (struct sn *)b;
	for (size_t i = 0; i < s->nusers; i++)
		free(s->users[i].name);
	free(s->users);
	for (size_t i = 0; i < AUDIT_CACHE; i++)
		audited_clear(&s->audited[i]);
	free(s->table);
	free(s->comments_field);
	free(s->user);
	free(s->fields);
	cc_oauth_destroy(s->oauth);
}

/* ServiceNow as the HTTP connector base sees it (base.h), slots grouped by what they serve. */
static const struct cc_base_ops sn_base = {
	.who = "servicenow", .record = "record", .place = "table", .size = sizeof(struct sn),
	.auth_name = "Authorization", .auth_prefix = "Basic ", .credential = credential,
	.opaque_ids = true, .per_page = PER_PAGE, .max_list_pages = MAX_LIST_PAGES,
	.init = init, .clear = clear,
	/* polls: the keyset query by offset; a record listed at a version
	 * returned before needs no read (sys_mod_count is exact); a page's
	 * rows sent ahead at once, then their journals (a journal read after
	 * its row never misses an entry of the version read) */
	.fetch = fetch, .read_path = read_path,
	.observe = observe,            /* the row, its journal, its audit */
	.lookup = lookup,              /* correlation_id=X */
	.create_url = create_url, .create_id = "result/sys_id", .create_body = create_body,
	.write = write,                /* sys_mod_count read, PATCH */
	.comment = comment, .comment_id = comment_id, /* PATCH the journal field, then its row */
	.webhook = sn_webhook,         /* a business rule's body: read the record */
};

static const struct cc_setting_row sn_settings[] = {
	{ "user", false, NULL,
	  "the user name of Basic authentication (its password is the system's secret)" },
	{ "client_id", false, NULL,
	  "OAuth client credentials instead of Basic: the application registry's client id" },
	{ "client_secret", false, NULL, "its client secret, as {env:} or {file:}" },
	{ "token_path", false, "/oauth_token.do", "the token endpoint under base_url" },
	{ "table", false, "incident", "the table whose records are synced" },
	{ "comments_field", false, "work_notes",
	  "the journal field comments are read from and written to: work_notes or comments" },
	{ "audit", false, "true",
	  "read each field's change time from sys_audit: true or false" },
	{ "priority_matrix", false, SN_PRIORITY_MATRIX_DEFAULT,
	  "the impact and urgency written for a priority: PRIORITY=IMPACT/URGENCY entries" },
	{ NULL, false, NULL, NULL },
};

/* The resolve data policy most instances enforce (docs/connectors/servicenow.md):
 * Resolved and Closed need a close code and close notes in the same write. */
static const struct cc_companion_need sn_needs[] = {
	{ "state", (const char *const[]){ "6", "7", NULL },
	  (const char *const[]){ "close_code", "close_notes", NULL },
	  "the instance's data policy answers 403 without them" },
	{ NULL, NULL, NULL, NULL },
};

const struct cc_connector_kind cc_servicenow_kind = {
	.kind = "servicenow",
	.description = "ServiceNow, Table API in JSON (docs/connectors/servicenow.md)",
	.create = cc_base_new, .settings = sn_settings, .impl = &sn_base, .needs = sn_needs,
};
