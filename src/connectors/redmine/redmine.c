/*
 * The Redmine 5 connector: the REST API (JSON) over the HTTP client, built
 * on the HTTP connector base (connectors/base.h), which does the paged
 * keyset search, the seen cache, the reads sent ahead, read, the budget
 * and the connector's life; this file says what Redmine's API makes
 * different.
 *
 * A record is an issue of one project (not of its subprojects). Its
 * observation comes from one answer, the issue with its journals: current
 * values, and per journal the user, the time, the details (which attribute
 * or custom field changed) and the notes (public notes are comments).
 * Names are translated both ways through caches filled once: statuses,
 * priorities and trackers by name, users by id and login. Redmine has no
 * conditional update, so the version is checked by a read just before a
 * write (docs/connectors/redmine.md).
 */
#include "connectors/redmine/redmine.h"

#include "connectors/base.h"
#include "core/iso8601.h"
#include "http/client.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_LIST_PAGES 50
#define PER_PAGE 100
#define RV_JOURNAL_BITS 20
#define ISSUE_PATH "/issues/%s.json?include=journals"

struct named {
	int64_t id;
	char *name;
};

struct names {
	struct named *e;
	size_t n;
	bool loaded;
};

struct rm {
	struct cc_connector_base base; /* first: self is the base too (base.h) */
	char *project;        /* identifier */
	char *cf;             /* correlation custom field name */
	int64_t project_id;   /* resolved once */
	int64_t self_id;      /* the API key's user */
	struct names statuses, priorities, trackers, cfields;
	struct names logins;  /* user id -> login (or display name when hidden) */
};

/* The hub's monotonic clock in ms: when reads happened, for cc_seen_read. */
static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- requests ---------------------------------------------------------- */

/* One request; on OK with a body, *out is its JSON (caller decrefs). Frees path. */
static enum cc_result req(struct rm *r, const char *op, const char *method, char *path,
                          json_t *body, json_t **out, long *status, struct cc_call *call)
{
	return cc_base_request(&r->base, op, method, path, body, out, status, call);
}

static enum cc_result malformed(struct rm *r, struct cc_call *call, const char *op,
                                const char *what, const char *id)
{
	return cc_base_malformed(&r->base, call, op, what, id);
}

/* ---- name caches ------------------------------------------------------- */

static void names_clear(struct names *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->e[i].name);
	free(c->e);
	memset(c, 0, sizeof(*c));
}

static int names_add(struct names *c, int64_t id, const char *name)
{
	void *p = realloc(c->e, (c->n + 1) * sizeof(*c->e));
	if (!p)
		return CC_ENOMEM;
	c->e = p;
	c->e[c->n].id = id;
	c->e[c->n].name = strdup(name ? name : "");
	if (!c->e[c->n].name)
		return CC_ENOMEM;
	c->n++;
	return 0;
}

static const struct named *names_by_name(const struct names *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcasecmp(c->e[i].name, name) == 0)
			return &c->e[i];
	return NULL;
}

static const struct named *names_by_id(const struct names *c, int64_t id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].id == id)
			return &c->e[i];
	return NULL;
}

/* Fills a cache from GET path -> {key: [{id, name}, ...]}. */
static enum cc_result names_load(struct rm *r, struct names *c, const char *path,
                                 const char *key, struct cc_call *call)
{
	json_t *j, *list;
	enum cc_result res = cc_base_get_array(&r->base, "lookup", strdup(path), key, &j, &list,
	                                       "no list of names", key, call);
	if (res != CC_OK)
		return res;
	names_clear(c);
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) {
		if (names_add(c, cc_json_int(e, "id"), cc_json_text(e, "name"))) {
			json_decref(j);
			return cc_base_oom(&r->base, call);
		}
	}
	json_decref(j);
	c->loaded = true;
	return CC_OK;
}

/* The id of a name, loading the cache once and again when a name is new. */
static enum cc_result name_id(struct rm *r, struct names *c, const char *path, const char *key,
                              const char *name, int64_t *id, struct cc_call *call)
{
	const struct named *n = c->loaded ? names_by_name(c, name) : NULL;
	if (!n) {
		enum cc_result res = names_load(r, c, path, key, call);
		if (res != CC_OK)
			return res;
		n = names_by_name(c, name);
	}
	if (!n)
		return cc_call_fail(call, CC_ERROR, "redmine: no %s named '%.60s'", key, name);
	*id = n->id;
	return CC_OK;
}

/* The login of user `id` (the display name `shown` when Redmine hides it). */
static const char *login_of(struct rm *r, int64_t id, const char *shown, struct cc_call *call)
{
	const struct named *n = names_by_id(&r->logins, id);
	if (n)
		return n->name;
	json_t *j;
	const char *login = NULL;
	if (req(r, "lookup", "GET", cc_strf("/users/%" PRId64 ".json", id), NULL, &j, NULL, call) ==
	    CC_OK)
		login = cc_json_text(json_object_get(j, "user"), "login");
	/* a group, or a user the key may not see: its name stands */
	call->result = CC_OK;
	call->reason[0] = '\0';
	names_add(&r->logins, id, login ? login : shown);
	json_decref(j);
	n = names_by_id(&r->logins, id);
	return n ? n->name : shown;
}

/* The id of the user with this login (or of a group with this name). */
static enum cc_result user_id(struct rm *r, const char *login, int64_t *id, struct cc_call *call)
{
	for (size_t i = 0; i < r->logins.n; i++)
		if (strcmp(r->logins.e[i].name, login) == 0) {
			*id = r->logins.e[i].id;
			return CC_OK;
		}
	char *le = cc_http_escape(login);
	json_t *j, *users;
	enum cc_result res = cc_base_get_array(
		&r->base, "lookup", le ? cc_strf("/users.json?name=%s&limit=100", le) : NULL, "users",
		&j, &users, "no users list", login, call);
	free(le);
	if (res != CC_OK)
		return res;
	size_t i;
	json_t *u;
	*id = 0;
	json_array_foreach(users, i, u) {
		if (cc_json_text(u, "login") && strcmp(cc_json_text(u, "login"), login) == 0) {
			*id = cc_json_int(u, "id");
			names_add(&r->logins, *id, login);
			break;
		}
	}
	json_decref(j);
	if (!*id)
		return cc_call_fail(call, CC_ERROR, "redmine: no user with login '%.60s'", login);
	return CC_OK;
}

/* The project's id and the API key's own user, looked up once. */
static enum cc_result ensure_project(struct cc_connector_base *b, struct cc_call *call)
{
	struct rm *r = (struct rm *)b;
	if (r->project_id)
		return CC_OK;
	char *pe = cc_http_escape(r->project);
	json_t *j;
	enum cc_result res = req(r, "lookup", "GET", pe ? cc_strf("/projects/%s.json", pe) : NULL,
	                         NULL, &j, NULL, call);
	free(pe);
	if (res != CC_OK)
		return res;
	int64_t pid = cc_json_int_id(json_object_get(j, "project"), "id");
	json_decref(j);
	if (!pid)
		return malformed(r, call, "lookup", "no project id", r->project);
	json_t *u;
	res = req(r, "lookup", "GET", strdup("/users/current.json"), NULL, &u, NULL, call);
	if (res != CC_OK)
		return res;
	json_t *cu = json_object_get(u, "user");
	if (!cc_json_int_id(cu, "id")) {
		json_decref(u);
		return malformed(r, call, "lookup", "no id of the current user", NULL);
	}
	r->project_id = pid;
	r->self_id = cc_json_int(cu, "id");
	if (cc_json_text(cu, "login") && !names_by_id(&r->logins, r->self_id))
		names_add(&r->logins, r->self_id, cc_json_text(cu, "login"));
	json_decref(u);
	return CC_OK;
}

/* Learns the ids of the issue custom fields an issue shows. */
static void cf_learn(struct rm *r, json_t *issue)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(issue, "custom_fields"), i, c)
		if (cc_json_text(c, "name"))
			names_add(&r->cfields, cc_json_int(c, "id"), cc_json_text(c, "name"));
}

/* The id of an issue custom field by name: /custom_fields.json (admin), else an issue's. */
static enum cc_result cf_id(struct rm *r, const char *name, json_t *issue, int64_t *id,
                            struct cc_call *call)
{
	const struct named *n = names_by_name(&r->cfields, name);
	if (!n && issue) {
		cf_learn(r, issue);
		n = names_by_name(&r->cfields, name);
	}
	if (!n && !r->cfields.loaded) {
		json_t *j;
		if (req(r, "lookup", "GET", strdup("/custom_fields.json"), NULL, &j, NULL, call) ==
		    CC_OK) {
			size_t i;
			json_t *c;
			json_array_foreach(json_object_get(j, "custom_fields"), i, c)
				if (cc_json_text(c, "customized_type") &&
				    strcmp(cc_json_text(c, "customized_type"), "issue") == 0 &&
				    !names_by_id(&r->cfields, cc_json_int(c, "id")))
					names_add(&r->cfields, cc_json_int(c, "id"), cc_json_text(c, "name"));
		}
		json_decref(j);
		r->cfields.loaded = true;
		call->result = CC_OK;
		call->reason[0] = '\0';
		n = names_by_name(&r->cfields, name);
	}
	if (!n && !issue) {
		/* not an administrator: learn it from an issue of the project */
		json_t *j;
		char *pe = cc_http_escape(r->project);
		enum cc_result res = req(r, "lookup", "GET",
		                         pe ? cc_strf("/issues.json?project_id=%s&status_id=*&limit=1", pe)
		                            : NULL, NULL, &j, NULL, call);
		free(pe);
		if (res != CC_OK)
			return res;
		json_t *first = json_array_get(json_object_get(j, "issues"), 0);
		res = first ? cf_id(r, name, first, id, call) : CC_ERROR;
		json_decref(j);
		if (res == CC_OK)
			return res;
	}
	if (!n)
		return cc_call_fail(call, CC_ERROR, "redmine: no issue custom field '%.60s'", name);
	*id = n->id;
	return CC_OK;
}

/* ---- values ------------------------------------------------------------ */

static bool is_user(const struct rm *r, int f, const char *rn)
{
	return cc_base_user_field(&r->base, f) || strcmp(rn, "assigned_to") == 0 ||
	       strcmp(rn, "author") == 0;
}

/* Attributes Redmine leaves out of the JSON when they are not set. */
static bool optional_attr(const char *rn)
{
	static const char *const a[] = { "assigned_to", "category", "fixed_version", "parent",
		                         "description", "start_date", "due_date", NULL };
	for (int i = 0; a[i]; i++)
		if (strcmp(a[i], rn) == 0)
			return true;
	return false;
}

static json_t *cf_entry(json_t *issue, const char *name)
{
	return cc_json_named(json_object_get(issue, "custom_fields"), name);
}

/* "cf:Name" names a custom field explicitly; any other name may be one too. */
static const char *cf_name(const char *rn)
{
	return strncmp(rn, "cf:", 3) == 0 ? rn + 3 : rn;
}

/* An issue being observed: its answer, and per field the custom field id its journals use. */
struct issue {
	struct rm *r;
	json_t *is;
	int64_t cfids[CC_MAX_FIELDS];
	struct cc_call *call;
};

/*
 * The value of a mapped field in remote terms (user fields through the
 * user map); NULL with *present false when the issue has no such field.
 */
static char *issue_value(void *ctx, int f, const char *rn, bool *present)
{
	struct issue *iv = ctx;
	struct rm *r = iv->r;
	json_t *is = iv->is;
	char num[64];
	*present = false;
	json_t *v = strncmp(rn, "cf:", 3) == 0 ? NULL : json_object_get(is, rn);
	if (!v) {
		json_t *c = cf_entry(is, cf_name(rn));
		if (c) {
			*present = true;
			iv->cfids[f] = cc_json_int(c, "id");
			const char *s = cc_json_str(json_object_get(c, "value"), num, sizeof(num));
			return strdup(s ? s : "");
		}
		if (!optional_attr(rn))
			return NULL;
		*present = true;
		return strdup("");
	}
	*present = true;
	if (json_is_object(v)) {
		const char *name = cc_json_text(v, "name");
		if (is_user(r, f, rn)) {
			const char *login = login_of(r, cc_json_int(v, "id"), name ? name : "", iv->call);
			return strdup(cc_usermap_person(&r->base.users, login));
		}
		return strdup(name ? name : "");
	}
	const char *s = cc_json_str(v, num, sizeof(num));
	return strdup(s ? s : "");
}

/* ---- observation ------------------------------------------------------- */

/* Whether the journal detail (property, name) changed field f (remote name rn). */
static bool detail_hits(const struct issue *iv, int f, const char *rn, const char *prop,
                        const char *name)
{
	if (iv->cfids[f]) {
		char idb[24];
		snprintf(idb, sizeof(idb), "%" PRId64, iv->cfids[f]);
		return strcmp(prop, "cf") == 0 && strcmp(name, idb) == 0;
	}
	size_t l = strlen(rn);
	return strcmp(prop, "attr") == 0 && strncmp(name, rn, l) == 0 &&
	       (name[l] == '\0' || strcmp(name + l, "_id") == 0);
}

/*
 * The journals: public notes as comments, each detail's time and author
 * for the field it changed; *newest the newest journal id. 0 or CC_ENOMEM.
 */
static int take_journals(struct issue *iv, struct cc_observation *out, uint64_t *newest)
{
	struct rm *r = iv->r;
	size_t i;
	json_t *jo;
	*newest = 0;
	json_array_foreach(json_object_get(iv->is, "journals"), i, jo) {
		uint64_t id = (uint64_t)cc_json_int(jo, "id");
		json_t *u = json_object_get(jo, "user");
		const char *who = login_of(r, cc_json_int(u, "id"), cc_json_text(u, "name"), iv->call);
		int64_t when = 0;
		cc_json_time(jo, "created_on", &when); /* checked by observe */
		if (id > *newest)
			*newest = id;
		const char *notes = cc_json_text(jo, "notes");
		if (notes && notes[0] && !json_is_true(json_object_get(jo, "private_notes"))) {
			char idb[24];
			snprintf(idb, sizeof(idb), "%" PRIu64, id);
			if (cc_observation_add_comment(out, idb, notes, who, when))
				return CC_ENOMEM;
		}
		size_t k;
		json_t *d;
		json_array_foreach(json_object_get(jo, "details"), k, d) {
			const char *prop = cc_json_text(d, "property");
			const char *name = cc_json_text(d, "name");
			if (!prop || !name)
				continue;
			for (int f = 0; f < CC_MAX_FIELDS; f++) {
				const char *rn = cc_base_remote_name(&r->base, f);
				if (rn && out->fields[f].present && detail_hits(iv, f, rn, prop, name) &&
				    cc_base_field_changed(out, f, who, when))
					return CC_ENOMEM;
			}
		}
	}
	return 0;
}

/* The shape an issue answer must have; the reason when it has not, else NULL. */
static const char *issue_shape(json_t *is, struct cc_observation *out)
{
	json_t *journals = json_object_get(is, "journals");
	json_t *cfs = json_object_get(is, "custom_fields");
	if (!json_is_object(is))
		return "no issue";
	if (!cc_json_int_id(json_object_get(is, "project"), "id"))
		return "the issue has no project";
	if (!cc_json_time(is, "updated_on", &out->mtime_s) ||
	    !cc_json_time(is, "created_on", &out->created_s) ||
	    (journals && !json_is_array(journals)) || (cfs && !json_is_array(cfs)))
		return "the issue's times, journals or custom fields";
	/* every journal has an id and a time; details are a list */
	size_t ji;
	json_t *jv;
	json_array_foreach(journals, ji, jv) {
		int64_t when;
		json_t *det = json_object_get(jv, "details");
		if (!json_is_object(jv) || !cc_json_int_id(jv, "id") ||
		    !cc_json_time(jv, "created_on", &when) || (det && !json_is_array(det)))
			return "a journal without id, time or details list";
	}
	return NULL;
}

/*
 * The observation of issue `id` as it is now. A missing issue (404) or one
 * in another project is deleted.
 */
static enum cc_result observe(struct cc_connector_base *b, const char *id, const char *op,
                              struct cc_observation *out, struct cc_call *call)
{
	struct rm *r = (struct rm *)b;
	enum cc_result res;
	json_t *j = NULL;
	long status;
	int64_t started = mono_ms();
	res = req(r, op, "GET", cc_strf(ISSUE_PATH, id), NULL, &j, &status, call);
	out->remote_id = strdup(id);
	if (!out->remote_id) {
		res = cc_base_oom(&r->base, call);
		goto out;
	}
	if (res != CC_OK && status == 404) {
		cc_base_gone(out, call); /* gone for good: newer than any version seen */
		res = CC_OK;
		goto out;
	}
	if (res != CC_OK)
		goto out;
	struct issue iv = { .r = r, .is = json_object_get(j, "issue"), .call = call };
	const char *bad = issue_shape(iv.is, out);
	if (bad) {
		res = malformed(r, call, op, bad, id);
		goto out;
	}
	out->deleted = cc_json_int(json_object_get(iv.is, "project"), "id") != r->project_id;
	const char *corr = cc_json_text(cf_entry(iv.is, r->cf), "value");
	if (corr && corr[0] && !(out->correlation_id = strdup(corr))) {
		res = cc_base_oom(&r->base, call);
		goto out;
	}
	json_t *author = json_object_get(iv.is, "author");
	const char *creator = login_of(r, cc_json_int(author, "id"), cc_json_text(author, "name"),
	                               call);
	uint64_t newest_journal;
	if (cc_base_fill_fields(&r->base, out, creator, issue_value, &iv) ||
	    take_journals(&iv, out, &newest_journal)) {
		res = cc_base_oom(&r->base, call);
		goto out;
	}
	/* grows with every journal, and with updated_on when there is none */
	out->rv = ((uint64_t)(out->mtime_s > 0 ? out->mtime_s : 0) << RV_JOURNAL_BITS) |
	          (newest_journal & ((1u << RV_JOURNAL_BITS) - 1));
	cc_seen_read(r->base.seen, id, out->rv, started, mono_ms());
	res = CC_OK;
out:
	json_decref(j);
	if (res != CC_OK)
		cc_observation_clear(out);
	return res;
}

/* ---- list_changes ------------------------------------------------------ */

/*
 * One page of the search of every project the account sees, by
 * updated_on (one request when nothing changed). Issues of other projects
 * count only when they carry a correlation id (moved out of ours: observed
 * as deleted). Deleted issues leave no trace in Redmine: a read finds them
 * gone.
 */
static enum cc_result fetch(struct cc_connector_base *b, struct cc_listing *l, int page,
                            struct cc_call *call)
{
	struct rm *r = (struct rm *)b;
	char when[32];
	cc_format_utc(when, sizeof(when), l->from_s, true);
	json_t *j;
	enum cc_result res = req(r, "list", "GET",
	                         cc_strf("/issues.json?status_id=*&updated_on=%%3E%%3D%s"
	                                 "&sort=updated_on,id&limit=%d&offset=%d", when, PER_PAGE,
	                                 (page - 1) * PER_PAGE),
	                         NULL, &j, NULL, call);
	if (res != CC_OK)
		return res;
	json_t *items = cc_json_array(j, "issues");
	bool bad = false;
	l->more = items && cc_json_more_rows(j, "total_count", page, json_array_size(items),
	                                     PER_PAGE, &bad);
	const char *what = !items ? "no issues list" : bad ? "total_count is not a number" : NULL;
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) {
		if (what)
			break;
		char idb[24];
		int64_t id = cc_json_int_id(it, "id");
		int64_t m;
		json_t *lcf = json_object_get(it, "custom_fields");
		if (!id || !cc_json_time(it, "updated_on", &m) ||
		    !cc_json_int_id(json_object_get(it, "project"), "id") ||
		    (lcf && !json_is_array(lcf))) {
			what = "an issue without id, updated_on or project";
			break;
		}
		const char *corr = cc_json_text(cf_entry(it, r->cf), "value");
		if (cc_json_int(json_object_get(it, "project"), "id") != r->project_id &&
		    !(corr && corr[0]))
			continue; /* another project's issue that was never ours */
		snprintf(idb, sizeof(idb), "%" PRId64, id);
		if (cc_listing_add(l, idb, m, 0)) {
			json_decref(j);
			return cc_base_oom(b, call);
		}
	}
	json_decref(j);
	return what ? malformed(r, call, "list", what, NULL) : CC_OK;
}

/* An issue listed at the second of a settled version needs no read. */
static bool known(struct cc_connector_base *b, const struct cc_listed *k)
{
	uint64_t rv;
	return cc_seen_settled(b->seen, k->id, &rv) &&
	       (int64_t)(rv >> RV_JOURNAL_BITS) == k->mtime_s;
}

/* Every issue's read, sent ahead at once. */
static char *read_path(struct cc_connector_base *b, const char *id, int pass)
{
	(void)b;
	return pass == 0 ? cc_strf(ISSUE_PATH, id) : NULL;
}

/* ---- find and writes --------------------------------------------------- */

/*
 * The issue carrying the correlation id, in every project (a copy moved
 * elsewhere still stops a second create): the cf_N filter matches
 * substrings, so only an exact value is kept.
 */
static enum cc_result lookup(struct cc_connector_base *b, const char *corr, char *id,
                             struct cc_call *call)
{
	struct rm *r = (struct rm *)b;
	int64_t cfid;
	enum cc_result res = ensure_project(b, call);
	if (res == CC_OK)
		res = cf_id(r, r->cf, NULL, &cfid, call);
	if (res != CC_OK)
		return res;
	char *ce = cc_http_escape(corr);
	json_t *j, *issues;
	res = cc_base_get_array(
		b, "find",
		ce ? cc_strf("/issues.json?cf_%" PRId64 "=%s&status_id=*&sort=id&limit=5", cfid, ce)
		   : NULL, "issues", &j, &issues, "no issues list", corr, call);
	free(ce);
	if (res != CC_OK)
		return res;
	size_t i;
	json_t *it;
	json_array_foreach(issues, i, it) {
		const char *v = cc_json_text(cf_entry(it, r->cf), "value");
		if (v && strcmp(v, corr) == 0) {
			if (cc_json_int_id(it, "id"))
				snprintf(id, CC_BASE_ID_MAX, "%" PRId64, cc_json_int_id(it, "id"));
			break;
		}
	}
	json_decref(j);
	return CC_OK;
}

/* Adds {id, value} to the custom_fields of an issue write. 0 or CC_ENOMEM. */
static int add_cf(json_t *issue, int64_t cfid, const char *value)
{
	json_t *cfs = json_object_get(issue, "custom_fields");
	if (!cfs && json_object_set_new(issue, "custom_fields", cfs = json_array()))
		return CC_ENOMEM;
	return json_array_append_new(cfs, json_pack("{s:I, s:s}", "id", (json_int_t)cfid, "value",
	                                            value)) ? CC_ENOMEM : 0;
}

/* The id of a status, priority or tracker name, through its cache. */
static enum cc_result enum_id(struct rm *r, const char *rn, const char *v, int64_t *id,
                              struct cc_call *call)
{
	if (rn[0] == 's')
		return name_id(r, &r->statuses, "/issue_statuses.json", "issue_statuses", v, id, call);
	if (rn[0] == 'p')
		return name_id(r, &r->priorities, "/enumerations/issue_priorities.json",
		               "issue_priorities", v, id, call);
	return name_id(r, &r->trackers, "/trackers.json", "trackers", v, id, call);
}

/*
 * The "issue" object of a write: names become ids (status_id, priority_id,
 * tracker_id, assigned_to_id), custom fields go under custom_fields, other
 * attributes by name, and the correlation id when w has one. skip_status
 * leaves the status out. *nset: the fields set.
 */
static enum cc_result write_body(struct rm *r, const struct cc_write *w, bool skip_status,
                                 json_t *issue, int *nset, struct cc_call *call)
{
	json_t *cfs = json_array();
	*nset = 0;
	if (!cfs)
		return cc_base_oom(&r->base, call);
	enum cc_result res = CC_OK;
	for (int f = 0; f < CC_MAX_FIELDS && res == CC_OK; f++) {
		const char *rn = cc_base_remote_name(&r->base, f);
		const char *v = w->values[f];
		if (!rn || !v || (skip_status && strcmp(rn, "status") == 0))
			continue;
		int64_t id = 0;
		json_t *val = NULL;
		const char *key = rn;
		if (strcmp(rn, "status") == 0 || strcmp(rn, "priority") == 0 ||
		    strcmp(rn, "tracker") == 0) {
			res = enum_id(r, rn, v, &id, call);
			val = json_integer(id);
			key = rn[0] == 's' ? "status_id" : rn[0] == 'p' ? "priority_id" : "tracker_id";
		} else if (is_user(r, f, rn)) {
			if (strcmp(rn, "assigned_to") != 0) {
				res = cc_call_fail(call, CC_ERROR, "redmine: %s is read-only", rn);
				break;
			}
			key = "assigned_to_id";
			if (v[0]) {
				res = user_id(r, cc_usermap_remote(&r->base.users, v), &id, call);
				val = json_integer(id);
			} else {
				val = json_string("");
			}
		} else if (strncmp(rn, "cf:", 3) == 0 ||
		           (!optional_attr(rn) && strcmp(rn, "subject") != 0 &&
		            strcmp(rn, "done_ratio") != 0 && strcmp(rn, "estimated_hours") != 0 &&
		            strcmp(rn, "is_private") != 0)) {
			res = cf_id(r, cf_name(rn), NULL, &id, call);
			if (res == CC_OK)
				json_array_append_new(cfs, json_pack("{s:I, s:s}", "id", (json_int_t)id,
				                                     "value", v));
			(*nset)++;
			continue;
		} else {
			val = json_string(v);
		}
		if (res == CC_OK) {
			json_object_set_new(issue, key, val);
			(*nset)++;
		} else {
			json_decref(val);
		}
	}
	if (res == CC_OK && json_array_size(cfs))
		json_object_set(issue, "custom_fields", cfs);
	json_decref(cfs);
	if (res == CC_OK && w->correlation_id) {
		int64_t cfid = 0;
		res = cf_id(r, r->cf, NULL, &cfid, call);
		if (res == CC_OK && add_cf(issue, cfid, w->correlation_id))
			res = cc_base_oom(&r->base, call);
		*nset += res == CC_OK;
	}
	return res;
}

/* PUT /issues/ID.json {"issue": ...}: 204, empty; 422 {"errors": [...]} is ERROR. */
static enum cc_result put_issue(struct rm *r, const char *id, json_t *issue, const char *op,
                                struct cc_call *call)
{
	json_t *body = json_pack("{s:O}", "issue", issue);
	if (!body)
		return cc_base_oom(&r->base, call);
	enum cc_result res = req(r, op, "PUT", cc_strf("/issues/%s.json", id), body, NULL, NULL, call);
	json_decref(body);
	return res;
}

/*
 * The issue to POST in the project, with the correlation id and without
 * the status: a new issue takes its tracker's default, and the status is
 * written after the create (created).
 */
static enum cc_result create_body(struct cc_connector_base *b, const struct cc_write *w,
                                  json_t **body, struct cc_call *call)
{
	struct rm *r = (struct rm *)b;
	enum cc_result res = ensure_project(b, call);
	if (res != CC_OK)
		return res;
	json_t *issue = json_object();
	int nset;
	if (!issue)
		return cc_base_oom(b, call);
	res = write_body(r, w, true, issue, &nset, call);
	if (res == CC_OK && json_object_set_new(issue, "project_id", json_integer(r->project_id)))
		res = cc_base_oom(b, call);
	if (res != CC_OK) {
		json_decref(issue);
		return res;
	}
	*body = json_pack("{s:o}", "issue", issue); /* takes issue */
	return *body ? CC_OK : cc_base_oom(b, call);
}

/*
 * The new issue as it is, and when it does not hold the status written,
 * a PUT of the status and the issue read again. A refused status stays
 * pending for the engine's next update, never a second create.
 */
static enum cc_result created(struct cc_connector_base *b, const struct cc_write *w,
                              const char *id, struct cc_observation *out, struct cc_call *call)
{
	struct rm *r = (struct rm *)b;
	enum cc_result res = cc_base_observe(b, id, "create", out, call);
	for (int f = 0; res == CC_OK && f < CC_MAX_FIELDS; f++) {
		const char *rn = cc_base_remote_name(b, f);
		if (!rn || strcmp(rn, "status") != 0 || !w->values[f] || !w->values[f][0] ||
		    (out->fields[f].present && cc_same_text(out->fields[f].value, w->values[f])))
			continue;
		struct cc_write sw = { .remote_id = id };
		sw.values[f] = w->values[f];
		json_t *st = json_object();
		int ns;
		if (st && write_body(r, &sw, false, st, &ns, call) == CC_OK && ns)
			put_issue(r, id, st, "create", call);
		json_decref(st);
		cc_observation_clear(out);
		return cc_base_observe(b, id, "create", out, call);
	}
	return res;
}

/*
 * Redmine has no precondition on writes: the version is compared on a
 * read just before the write (CONFLICT when it moved), which leaves a
 * window of one round trip. The origin issue gets the case id too (its
 * correlation field).
 */
static enum cc_result write(struct cc_connector_base *b, const struct cc_write *w, bool *wrote,
                            char *why, size_t why_len, struct cc_call *call)
{
	struct rm *r = (struct rm *)b;
	enum cc_result res;
	if (w->expected_rv) {
		struct cc_observation now;
		res = cc_base_observe(b, w->remote_id, "update", &now, call);
		if (res != CC_OK)
			return res;
		uint64_t rv = now.rv;
		bool gone = now.deleted;
		cc_observation_clear(&now);
		if (rv != w->expected_rv || gone)
			return cc_call_fail(call, CC_CONFLICT, "redmine: issue %s at version %" PRIu64
			                    ", expected %" PRIu64, w->remote_id, rv, w->expected_rv);
	}
	json_t *issue = json_object();
	int nset;
	if (!issue)
		return cc_base_oom(b, call);
	res = write_body(r, w, false, issue, &nset, call);
	*wrote = res == CC_OK && nset;
	if (*wrote)
		res = put_issue(r, w->remote_id, issue, "update", call);
	json_decref(issue);
	/* a PUT answers 204 even when it ignored a value */
	snprintf(why, why_len, "refused by the workflow or the user's permissions");
	return res;
}

/* A public note and nothing else: no status or field changes. */
static enum cc_result comment(struct cc_connector_base *b, const char *id, const char *body,
                              struct cc_call *call)
{
	struct rm *r = (struct rm *)b;
	enum cc_result res = ensure_project(b, call);
	if (res != CC_OK)
		return res;
	json_t *issue = json_pack("{s:s, s:b}", "notes", body, "private_notes", 0);
	if (!issue)
		return cc_base_oom(b, call);
	res = put_issue(r, id, issue, "comment", call);
	json_decref(issue);
	return res;
}

/*
 * The answer is empty: ours is the newest journal of the integration user
 * whose notes are the body. Its time, stamped during the call, is a sample
 * of the server's clock (thin sends no Date).
 */
static enum cc_result comment_id(struct cc_connector_base *b, const char *id, const char *body,
                                 char **out_id, struct cc_call *call)
{
	struct rm *r = (struct rm *)b;
	json_t *j;
	enum cc_result res = req(r, "comment", "GET", cc_strf(ISSUE_PATH, id), NULL, &j, NULL, call);
	if (res != CC_OK)
		return res;
	json_t *js = cc_json_array(json_object_get(j, "issue"), "journals");
	if (!js) {
		json_decref(j);
		return malformed(r, call, "comment", "no journals", id);
	}
	for (size_t i = json_array_size(js); i-- > 0;) {
		json_t *jo = json_array_get(js, i);
		const char *notes = cc_json_text(jo, "notes");
		int64_t at;
		if (!notes || !cc_same_text(notes, body) ||
		    cc_json_int(json_object_get(jo, "user"), "id") != r->self_id)
			continue;
		*out_id = cc_strf("%" PRId64, cc_json_int(jo, "id"));
		if (cc_json_time(jo, "created_on", &at))
			cc_base_date_sample(call, at);
		break;
	}
	json_decref(j);
	return CC_OK;
}

/* ---- the connector ------------------------------------------------------ */

static int init(struct cc_connector_base *b, const struct cc_connector_setup *s, char *err,
                size_t errlen)
{
	struct rm *r = (struct rm *)b;
	const char *project = cc_setup_setting(s, "project");
	if (!project || !project[0]) {
		snprintf(err, errlen, "redmine: setting 'project' is required");
		return CC_EINVAL;
	}
	r->project = strdup(project);
	r->cf = strdup(cc_setup_setting(s, "correlation_field"));
	if (!r->project || !r->cf) {
		snprintf(err, errlen, "redmine: out of memory");
		return CC_ENOMEM;
	}
	return 0;
}

static void clear(struct cc_connector_base *b)
{
	struct rm *r = (struct rm *)b;
	struct names *caches[] = { &r->statuses, &r->priorities, &r->trackers, &r->cfields,
		                   &r->logins };
	for (size_t i = 0; i < sizeof(caches) / sizeof(caches[0]); i++)
		names_clear(caches[i]);
	free(r->project);
	free(r->cf);
}

/* Redmine as the HTTP connector base sees it (base.h), slots grouped by what they serve. */
static const struct cc_base_ops rm_base = {
	.who = "redmine", .record = "issue", .place = "project", .size = sizeof(struct rm),
	.auth_name = "X-Redmine-API-Key",
	.init = init, .clear = clear,
	/* polls: issues of every project by updated_on; an issue listed at the
	 * second of a settled version needs no read; the issues sent ahead */
	.prepare = ensure_project, .fetch = fetch, .known = known, .read_path = read_path,
	.observe = observe,            /* the issue with its journals */
	.lookup = lookup,              /* cf_N filter, exact match kept */
	.create_path = "/issues.json", .create_id = "issue/id", .create_body = create_body,
	.created = created,            /* the issue read, then the status */
	.write = write,                /* version read, PUT */
	.comment = comment, .comment_id = comment_id, /* PUT notes, then the journals */
};

static const struct cc_setting_row rm_settings[] = {
	{ "project", true, NULL, "the identifier of the project whose issues are synced" },
	{ "correlation_field", false, "ExternalRef",
	  "the issue custom field that holds the case's correlation id" },
	{ NULL, false, NULL, NULL },
};

const struct cc_connector_kind cc_redmine_kind = CC_BASE_KIND(
	"redmine", "Redmine 5, REST API in JSON (docs/connectors/redmine.md)", rm_settings,
	&rm_base);
