/*
 * The Redmine 5 connector: the REST API (JSON) over the HTTP client.
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

#include "connectors/prefetch.h"
#include "connectors/seen.h"
#include "http/client.h"

#include <inttypes.h>
#include <jansson.h>
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
	struct cc_http_client *http;
	const struct cc_config *cfg;
	int system;
	char *project;        /* identifier */
	char *cf;             /* correlation custom field name */
	char *iuser;          /* integration user login, may be NULL */
	int64_t project_id;   /* resolved once */
	int64_t self_id;      /* the API key's user */
	struct names statuses, priorities, trackers, cfields;
	struct names logins;  /* user id -> login (or display name when hidden) */
	struct cc_usermap users;
	struct cc_prefetch ahead; /* a poll page's issue reads, sent at once */
	struct cc_seen seen;      /* versions read, and which are settled (seen.h) */
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
	enum cc_result res = cc_request_json(r->http, &r->ahead, "redmine", op, method, path, body,
	                                     out, status, NULL, 0, call);
	free(path);
	return res;
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int64_t jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* A positive integer id of o[key]; 0 when absent or of another type. */
static int64_t jid(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) && json_integer_value(v) > 0 ? json_integer_value(v) : 0;
}

/* A time of an answer: false when absent or unreadable. */
static bool jtime(json_t *o, const char *key, int64_t *out)
{
	return cc_iso8601_parse(jstr(o, key), out);
}

/* The array o[key], NULL when o has none. */
static json_t *jarray(json_t *o, const char *key)
{
	json_t *a = json_object_get(o, key);
	return json_is_array(a) ? a : NULL;
}

static enum cc_result malformed(struct cc_call *call, const char *op, const char *what,
                                const char *id)
{
	return cc_call_malformed(call, "redmine", op, "%s%s%s", what, id ? " of " : "",
	                         id ? id : "");
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
	json_t *j;
	enum cc_result res = req(r, "lookup", "GET", strdup(path), NULL, &j, NULL, call);
	if (res != CC_OK)
		return res;
	if (!jarray(j, key)) {
		json_decref(j);
		return malformed(call, "lookup", "no list of names", key);
	}
	names_clear(c);
	size_t i;
	json_t *e;
	json_array_foreach(jarray(j, key), i, e) {
		if (names_add(c, jint(e, "id"), jstr(e, "name"))) {
			json_decref(j);
			return cc_call_fail(call, CC_RETRY, "redmine: out of memory");
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
		login = jstr(json_object_get(j, "user"), "login");
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
	json_t *j;
	enum cc_result res = req(r, "lookup", "GET", le ? cc_strf("/users.json?name=%s&limit=100", le)
	                                             : NULL, NULL, &j, NULL, call);
	free(le);
	if (res != CC_OK)
		return res;
	if (!jarray(j, "users")) {
		json_decref(j);
		return malformed(call, "lookup", "no users list", login);
	}
	size_t i;
	json_t *u;
	*id = 0;
	json_array_foreach(jarray(j, "users"), i, u) {
		if (jstr(u, "login") && strcmp(jstr(u, "login"), login) == 0) {
			*id = jint(u, "id");
			names_add(&r->logins, *id, login);
			break;
		}
	}
	json_decref(j);
	if (!*id)
		return cc_call_fail(call, CC_ERROR, "redmine: no user with login '%.60s'", login);
	return CC_OK;
}

static enum cc_result ensure_project(struct rm *r, struct cc_call *call)
{
	if (r->project_id)
		return CC_OK;
	char *pe = cc_http_escape(r->project);
	json_t *j;
	enum cc_result res = req(r, "lookup", "GET", pe ? cc_strf("/projects/%s.json", pe) : NULL,
	                         NULL, &j, NULL, call);
	free(pe);
	if (res != CC_OK)
		return res;
	int64_t pid = jid(json_object_get(j, "project"), "id");
	json_decref(j);
	if (!pid)
		return malformed(call, "lookup", "no project id", r->project);
	json_t *u;
	res = req(r, "lookup", "GET", strdup("/users/current.json"), NULL, &u, NULL, call);
	if (res != CC_OK)
		return res;
	json_t *cu = json_object_get(u, "user");
	if (!jid(cu, "id")) {
		json_decref(u);
		return malformed(call, "lookup", "no id of the current user", NULL);
	}
	r->project_id = pid;
	r->self_id = jint(cu, "id");
	if (jstr(cu, "login") && !names_by_id(&r->logins, r->self_id))
		names_add(&r->logins, r->self_id, jstr(cu, "login"));
	json_decref(u);
	return CC_OK;
}

/* The id of an issue custom field by name: /custom_fields.json (admin), else an issue's. */
static enum cc_result cf_id(struct rm *r, const char *name, json_t *issue, int64_t *id,
                            struct cc_call *call)
{
	const struct named *n = names_by_name(&r->cfields, name);
	if (!n && issue) {
		size_t i;
		json_t *c;
		json_array_foreach(json_object_get(issue, "custom_fields"), i, c)
			if (jstr(c, "name"))
				names_add(&r->cfields, jint(c, "id"), jstr(c, "name"));
		n = names_by_name(&r->cfields, name);
	}
	if (!n && !r->cfields.loaded) {
		json_t *j;
		if (req(r, "lookup", "GET", strdup("/custom_fields.json"), NULL, &j, NULL, call) ==
		    CC_OK) {
			size_t i;
			json_t *c;
			json_array_foreach(json_object_get(j, "custom_fields"), i, c)
				if (jstr(c, "customized_type") &&
				    strcmp(jstr(c, "customized_type"), "issue") == 0 &&
				    !names_by_id(&r->cfields, jint(c, "id")))
					names_add(&r->cfields, jint(c, "id"), jstr(c, "name"));
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

static const char *remote_name(const struct rm *r, int f)
{
	const struct cc_field_map *m = &r->cfg->systems[r->system].map[f];
	return m->mapped && m->remote_name ? m->remote_name : NULL;
}

static bool is_user(const struct rm *r, int f, const char *rn)
{
	return r->cfg->fields[f].type == CC_FT_USER || strcmp(rn, "assigned_to") == 0 ||
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
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(issue, "custom_fields"), i, c)
		if (jstr(c, "name") && strcmp(jstr(c, "name"), name) == 0)
			return c;
	return NULL;
}

/* "cf:Name" names a custom field explicitly; any other name may be one too. */
static const char *cf_name(const char *rn)
{
	return strncmp(rn, "cf:", 3) == 0 ? rn + 3 : rn;
}

/*
 * The value of a mapped field in remote terms (user fields through the
 * user map); NULL with *present false when the issue has no such field.
 */
static char *issue_value(struct rm *r, json_t *is, int f, const char *rn, bool *present,
                         int64_t *cfid, struct cc_call *call)
{
	char num[64];
	*present = false;
	*cfid = 0;
	json_t *v = strncmp(rn, "cf:", 3) == 0 ? NULL : json_object_get(is, rn);
	if (!v) {
		json_t *c = cf_entry(is, cf_name(rn));
		if (c) {
			*present = true;
			*cfid = jint(c, "id");
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
		const char *name = jstr(v, "name");
		if (is_user(r, f, rn)) {
			const char *login = login_of(r, jint(v, "id"), name ? name : "", call);
			return strdup(cc_usermap_person(&r->users, login));
		}
		return strdup(name ? name : "");
	}
	const char *s = cc_json_str(v, num, sizeof(num));
	return strdup(s ? s : "");
}

/* ---- observation ------------------------------------------------------- */

/*
 * The observation of issue `id` as it is now; *raw (when not NULL) gets the
 * issue's JSON (caller decrefs). A missing issue (404) or one in another
 * project is deleted.
 */
static enum cc_result observe(struct rm *r, const char *id, const char *op,
                              struct cc_observation *out, json_t **raw, struct cc_call *call)
{
	cc_observation_init(out);
	if (raw)
		*raw = NULL;
	enum cc_result res = ensure_project(r, call);
	if (res != CC_OK)
		return res;
	json_t *j = NULL;
	long status;
	int64_t started = mono_ms();
	res = req(r, op, "GET", cc_strf(ISSUE_PATH, id), NULL, &j, &status, call);
	out->remote_id = strdup(id);
	if (!out->remote_id) {
		res = cc_call_fail(call, CC_RETRY, "redmine: out of memory");
		goto out;
	}
	if (res != CC_OK && status == 404) {
		out->deleted = true;
		out->rv = UINT64_MAX; /* gone for good: newer than any version seen */
		call->reason[0] = '\0';
		call->result = res = CC_OK;
		goto out;
	}
	if (res != CC_OK)
		goto out;
	json_t *is = json_object_get(j, "issue");
	json_t *journals = json_object_get(is, "journals");
	json_t *cfs = json_object_get(is, "custom_fields");
	if (!json_is_object(is) || !jtime(is, "updated_on", &out->mtime_s) ||
	    !jtime(is, "created_on", &out->created_s) || !jid(json_object_get(is, "project"), "id") ||
	    (journals && !json_is_array(journals)) || (cfs && !json_is_array(cfs))) {
		res = malformed(call, op, !json_is_object(is) ? "no issue"
		                          : !jid(json_object_get(is, "project"), "id")
		                                  ? "the issue has no project"
		                                  : "the issue's times, journals or custom fields", id);
		goto out;
	}
	/* every journal has an id and a time; details are a list */
	size_t ji;
	json_t *jv;
	json_array_foreach(journals, ji, jv) {
		int64_t when;
		json_t *det = json_object_get(jv, "details");
		if (!json_is_object(jv) || !jid(jv, "id") || !jtime(jv, "created_on", &when) ||
		    (det && !json_is_array(det))) {
			res = malformed(call, op, "a journal without id, time or details list", id);
			goto out;
		}
	}
	out->deleted = jint(json_object_get(is, "project"), "id") != r->project_id;
	json_t *corr = json_object_get(cf_entry(is, r->cf), "value");
	if (json_string_value(corr) && json_string_value(corr)[0] &&
	    !(out->correlation_id = strdup(json_string_value(corr)))) {
		res = cc_call_fail(call, CC_RETRY, "redmine: out of memory");
		goto out;
	}
	json_t *author = json_object_get(is, "author");
	const char *creator = login_of(r, jint(author, "id"), jstr(author, "name"), call);
	int64_t cfids[CC_MAX_FIELDS];
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		cfids[f] = 0;
		const char *rn = remote_name(r, f);
		if (!rn)
			continue;
		bool present;
		char *v = issue_value(r, is, f, rn, &present, &cfids[f], call);
		if (!present)
			continue;
		if (!v || cc_observation_set(out, f, v, out->created_s, creator)) {
			free(v);
			res = cc_call_fail(call, CC_RETRY, "redmine: out of memory");
			goto out;
		}
		free(v);
	}
	uint64_t newest_journal = 0;
	size_t i;
	json_t *jo;
	json_array_foreach(json_object_get(is, "journals"), i, jo) {
		uint64_t jid = (uint64_t)jint(jo, "id");
		json_t *u = json_object_get(jo, "user");
		const char *who = login_of(r, jint(u, "id"), jstr(u, "name"), call);
		int64_t when = 0;
		jtime(jo, "created_on", &when); /* checked above */
		char idb[24];
		if (jid > newest_journal)
			newest_journal = jid;
		const char *notes = jstr(jo, "notes");
		if (notes && notes[0] && !json_is_true(json_object_get(jo, "private_notes"))) {
			snprintf(idb, sizeof(idb), "%" PRIu64, jid);
			if (cc_observation_add_comment(out, idb, notes, who, when)) {
				res = cc_call_fail(call, CC_RETRY, "redmine: out of memory");
				goto out;
			}
		}
		size_t k;
		json_t *d;
		json_array_foreach(json_object_get(jo, "details"), k, d) {
			const char *prop = jstr(d, "property");
			const char *name = jstr(d, "name");
			if (!prop || !name)
				continue;
			for (int f = 0; f < CC_MAX_FIELDS; f++) {
				const char *rn = remote_name(r, f);
				if (!rn || !out->fields[f].present)
					continue;
				bool hit;
				if (cfids[f]) {
					snprintf(idb, sizeof(idb), "%" PRId64, cfids[f]);
					hit = strcmp(prop, "cf") == 0 && strcmp(name, idb) == 0;
				} else {
					size_t l = strlen(rn);
					hit = strcmp(prop, "attr") == 0 && strncmp(name, rn, l) == 0 &&
					      (name[l] == '\0' || strcmp(name + l, "_id") == 0);
				}
				if (!hit)
					continue;
				char *a = who ? strdup(who) : NULL;
				free(out->fields[f].author);
				out->fields[f].author = a;
				out->fields[f].mtime_s = when;
			}
		}
	}
	/* grows with every journal, and with updated_on when there is none */
	out->rv = ((uint64_t)(out->mtime_s > 0 ? out->mtime_s : 0) << RV_JOURNAL_BITS) |
	          (newest_journal & ((1u << RV_JOURNAL_BITS) - 1));
	cc_seen_read(&r->seen, id, out->rv, started, mono_ms());
	res = CC_OK;
out:
	if (res == CC_OK && raw) {
		*raw = j;
		j = NULL;
	}
	json_decref(j);
	if (res != CC_OK)
		cc_observation_clear(out);
	return res;
}

/* ---- list_changes ------------------------------------------------------ */

struct key {
	int64_t mtime;
	char id[24];
};

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	return cc_keyset_cmp(x->mtime, x->id, y->mtime, y->id);
}

static int keys_add(struct key **k, size_t *n, size_t *cap, int64_t mtime, const char *id)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		void *p = realloc(*k, c * sizeof(**k));
		if (!p)
			return CC_ENOMEM;
		*k = p;
		*cap = c;
	}
	(*k)[*n].mtime = mtime;
	snprintf((*k)[*n].id, sizeof((*k)[*n].id), "%s", id);
	(*n)++;
	return 0;
}

/* The value of the issue's custom field `name` in a listing, or NULL. */
static const char *listed_cf(json_t *issue, const char *name)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(issue, "custom_fields"), i, c)
		if (jstr(c, "name") && strcmp(jstr(c, "name"), name) == 0)
			return json_is_string(json_object_get(c, "value")) ? jstr(c, "value") : NULL;
	return NULL;
}

/*
 * Issues matching `filter` (already escaped, without paging), keyset-
 * filtered, into keys: those of the project, and those of other projects
 * that carry a correlation id (moved out of the project: a departure).
 * Stops after stop_at keys; *more when it stopped early.
 */
static enum cc_result search(struct rm *r, const char *filter, int64_t after_mtime_s,
                             const char *after_id, size_t stop_at, struct key **keys, size_t *n,
                             size_t *cap, bool *more, struct cc_call *call)
{
	*more = false;
	for (int page = 0; page < MAX_LIST_PAGES; page++) {
		json_t *j;
		enum cc_result res = req(r, "list", "GET",
		                         cc_strf("/issues.json?%s&sort=updated_on,id&limit=%d&offset=%d",
		                              filter, PER_PAGE, page * PER_PAGE),
		                         NULL, &j, NULL, call);
		if (res != CC_OK)
			return res;
		size_t i;
		json_t *it;
		json_t *items = jarray(j, "issues");
		json_t *tc = json_object_get(j, "total_count");
		if (!items || (tc && !json_is_integer(tc))) {
			json_decref(j);
			return malformed(call, "list", items ? "total_count is not a number"
			                                     : "no issues list", NULL);
		}
		json_array_foreach(items, i, it) {
			char idb[24];
			int64_t id = jid(it, "id");
			int64_t m;
			json_t *lcf = json_object_get(it, "custom_fields");
			if (!id || !jtime(it, "updated_on", &m) ||
			    !jid(json_object_get(it, "project"), "id") || (lcf && !json_is_array(lcf))) {
				json_decref(j);
				return malformed(call, "list",
				                 "an issue without id, updated_on or project", NULL);
			}
			snprintf(idb, sizeof(idb), "%" PRId64, id);
			if (!cc_keyset_after(m, idb, after_mtime_s, after_id))
				continue;
			const char *corr = listed_cf(it, r->cf);
			if (jint(json_object_get(it, "project"), "id") != r->project_id &&
			    !(corr && corr[0]))
				continue; /* another project's issue that was never ours */
			if (keys_add(keys, n, cap, m, idb)) {
				json_decref(j);
				return cc_call_fail(call, CC_RETRY, "redmine: out of memory");
			}
			if (*n >= stop_at) {
				*more = true;
				break;
			}
		}
		int64_t total = json_integer_value(tc);
		size_t got = json_array_size(items);
		json_decref(j);
		if (*more || got < PER_PAGE || (tc && (page + 1) * PER_PAGE >= total))
			return CC_OK;
	}
	*more = true; /* bounded: the rest on the next call */
	return CC_OK;
}

/*
 * One search of every project the account sees, by updated_on: one request
 * when nothing changed. Issues of other projects count only when they carry
 * a correlation id (moved out of ours: observed as deleted). Deleted issues
 * leave no trace in Redmine: a read finds them gone.
 */
static enum cc_result rm_list(void *self, int64_t since_s, int64_t after_mtime_s,
                              const char *after_id, size_t page_size, struct cc_page *pg,
                              struct cc_call *call)
{
	struct rm *r = self;
	memset(pg, 0, sizeof(*pg));
	if (!page_size)
		page_size = PER_PAGE;
	enum cc_result res = ensure_project(r, call);
	if (res != CC_OK)
		return res;
	int64_t lo = cc_list_from(since_s, after_mtime_s, after_id);
	char when[32];
	cc_format_utc(when, sizeof(when), lo, true);
	struct key *keys = NULL;
	size_t n = 0, cap = 0;
	bool more = false;
	char *filter = cc_strf("status_id=*&updated_on=%%3E%%3D%s", when);
	if (!filter) {
		res = cc_call_fail(call, CC_RETRY, "redmine: out of memory");
		goto out;
	}
	/* one more than a page: "more" */
	res = search(r, filter, after_mtime_s, after_id, page_size + 1, &keys, &n, &cap, &more,
	             call);
	free(filter);
	if (res != CC_OK)
		goto out;
	if (n)
		qsort(keys, n, sizeof(*keys), key_cmp);
	pg->more = more;
	if (n > page_size) {
		n = page_size;
		pg->more = true;
	}
	if (n) {
		pg->next_id = strdup(keys[n - 1].id);
		pg->next_mtime_s = keys[n - 1].mtime;
		if (!pg->next_id) {
			res = cc_call_fail(call, CC_RETRY, "redmine: out of memory");
			goto out;
		}
	}
	/* an issue listed at the second of a settled version needs no read */
	size_t w = 0;
	for (size_t k = 0; k < n; k++) {
		uint64_t rv;
		if (cc_seen_settled(&r->seen, keys[k].id, &rv) &&
		    (int64_t)(rv >> RV_JOURNAL_BITS) == keys[k].mtime)
			continue;
		keys[w++] = keys[k];
	}
	n = w;
	pg->items = calloc(n ? n : 1, sizeof(*pg->items));
	if (!pg->items) {
		res = cc_call_fail(call, CC_RETRY, "redmine: out of memory");
		goto out;
	}
	/* every issue's read sent ahead, at once */
	char **paths = n > 1 ? calloc(n, sizeof(*paths)) : NULL;
	if (paths) {
		size_t m = 0;
		for (size_t k = 0; k < n; k++)
			if ((paths[m] = cc_strf(ISSUE_PATH, keys[k].id)))
				m++;
		cc_prefetch_run(&r->ahead, r->http, "list", paths, m, call);
		for (size_t k = 0; k < m; k++)
			free(paths[k]);
		free(paths);
	}
	for (size_t k = 0; k < n; k++) {
		res = observe(r, keys[k].id, "list", &pg->items[pg->nitems], NULL, call);
		if (res != CC_OK)
			goto out;
		/* keyset position as listed, so that paging never skips a record */
		pg->items[pg->nitems++].mtime_s = keys[k].mtime;
	}
	res = CC_OK;
out:
	cc_prefetch_clear(&r->ahead);
	free(keys);
	if (res != CC_OK)
		cc_page_clear(pg);
	return res;
}

/* ---- read and find ----------------------------------------------------- */

static enum cc_result rm_read(void *self, const char *remote_id, struct cc_observation *out,
                              struct cc_call *call)
{
	return observe(self, remote_id, "read", out, NULL, call);
}

static enum cc_result rm_find(void *self, const char *corr, struct cc_observation *out,
                              bool *found, struct cc_call *call)
{
	struct rm *r = self;
	cc_observation_init(out);
	*found = false;
	int64_t cfid;
	enum cc_result res = ensure_project(r, call);
	if (res == CC_OK)
		res = cf_id(r, r->cf, NULL, &cfid, call);
	if (res != CC_OK)
		return res;
	/* every project: a copy moved elsewhere still stops a second create */
	char *ce = cc_http_escape(corr);
	json_t *j;
	res = req(r, "find", "GET",
	          ce ? cc_strf("/issues.json?cf_%" PRId64 "=%s&status_id=*&sort=id&limit=5", cfid, ce)
	             : NULL, NULL, &j, NULL, call);
	free(ce);
	if (res != CC_OK)
		return res;
	if (!jarray(j, "issues")) {
		json_decref(j);
		return malformed(call, "find", "no issues list", corr);
	}
	int64_t id = 0;
	size_t i;
	json_t *it;
	json_array_foreach(jarray(j, "issues"), i, it) {
		/* the filter matches substrings: keep an exact value only */
		json_t *v = json_object_get(cf_entry(it, r->cf), "value");
		if (json_string_value(v) && strcmp(json_string_value(v), corr) == 0) {
			id = jint(it, "id");
			break;
		}
	}
	json_decref(j);
	if (!id)
		return CC_OK;
	char idb[24];
	snprintf(idb, sizeof(idb), "%" PRId64, id);
	res = observe(r, idb, "find", out, NULL, call);
	if (res == CC_OK)
		*found = true;
	return res;
}

/* ---- writes ------------------------------------------------------------ */

/*
 * Redmine behind thin sends no Date header. A time the server stamped
 * during this very call (the creation of our issue or note, the update of
 * our write) is as good a sample of its clock: it lies between the hub's
 * sent and received times of the call.
 */
static void date_from_write(struct cc_call *call, int64_t stamped_s)
{
	if (!call->has_date && stamped_s > 0) {
		call->has_date = true;
		call->date_s = stamped_s;
	}
}

/*
 * The "issue" object of a write: names become ids (status_id, priority_id,
 * tracker_id, assigned_to_id), custom fields go under custom_fields, other
 * attributes by name. skip_status leaves the status out.
 */
static enum cc_result write_body(struct rm *r, const struct cc_write *w, bool skip_status,
                                 json_t *issue, int *nset, struct cc_call *call)
{
	json_t *cfs = json_array();
	*nset = 0;
	if (!cfs)
		return cc_call_fail(call, CC_RETRY, "redmine: out of memory");
	enum cc_result res = CC_OK;
	for (int f = 0; f < CC_MAX_FIELDS && res == CC_OK; f++) {
		const char *rn = remote_name(r, f);
		const char *v = w->values[f];
		if (!rn || !v || (skip_status && strcmp(rn, "status") == 0))
			continue;
		int64_t id = 0;
		json_t *val = NULL;
		const char *key = rn;
		if (strcmp(rn, "status") == 0 || strcmp(rn, "priority") == 0 ||
		    strcmp(rn, "tracker") == 0) {
			struct names *c = rn[0] == 's' ? &r->statuses
			                  : rn[0] == 'p' ? &r->priorities : &r->trackers;
			const char *path = rn[0] == 's' ? "/issue_statuses.json"
			                   : rn[0] == 'p' ? "/enumerations/issue_priorities.json"
			                                  : "/trackers.json";
			const char *lkey = rn[0] == 's' ? "issue_statuses"
			                   : rn[0] == 'p' ? "issue_priorities" : "trackers";
			res = name_id(r, c, path, lkey, v, &id, call);
			val = json_integer(id);
			key = rn[0] == 's' ? "status_id" : rn[0] == 'p' ? "priority_id" : "tracker_id";
		} else if (is_user(r, f, rn)) {
			if (strcmp(rn, "assigned_to") != 0) {
				res = cc_call_fail(call, CC_ERROR, "redmine: %s is read-only", rn);
				break;
			}
			key = "assigned_to_id";
			if (v[0]) {
				res = user_id(r, cc_usermap_remote(&r->users, v), &id, call);
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
	return res;
}

/* After a write: every written field must read back as written. */
static enum cc_result verify(struct rm *r, const struct cc_write *w, bool skip_status,
                             const struct cc_observation *o, struct cc_call *call)
{
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		const char *rn = remote_name(r, f);
		if (!rn || !w->values[f] || (skip_status && strcmp(rn, "status") == 0))
			continue;
		const char *got = o->fields[f].present ? o->fields[f].value : "";
		if (!cc_same_text(got, w->values[f]))
			return cc_call_fail(call, CC_ERROR,
			                    "redmine: %s not set to '%.40s' (is '%.40s'): refused by "
			                    "the workflow or the user's permissions",
			                    rn, w->values[f], got);
	}
	return CC_OK;
}

/* The reason of a 422: Redmine's {"errors": [...]}. */
static enum cc_result put_issue(struct rm *r, const char *id, json_t *issue, const char *op,
                                struct cc_call *call)
{
	json_t *body = json_pack("{s:O}", "issue", issue);
	if (!body)
		return cc_call_fail(call, CC_RETRY, "redmine: out of memory");
	enum cc_result res = req(r, op, "PUT", cc_strf("/issues/%s.json", id), body, NULL, NULL, call);
	json_decref(body);
	return res;
}

static enum cc_result rm_create(void *self, const struct cc_write *w, struct cc_observation *out,
                                struct cc_call *call)
{
	struct rm *r = self;
	cc_observation_init(out);
	enum cc_result res = ensure_project(r, call);
	if (res != CC_OK)
		return res;
	json_t *issue = json_object();
	int nset;
	if (!issue)
		return cc_call_fail(call, CC_RETRY, "redmine: out of memory");
	/* the status after the create: a new issue takes its tracker's default */
	res = write_body(r, w, true, issue, &nset, call);
	int64_t cfid = 0;
	if (res == CC_OK && w->correlation_id)
		res = cf_id(r, r->cf, NULL, &cfid, call);
	if (res != CC_OK) {
		json_decref(issue);
		return res;
	}
	json_object_set_new(issue, "project_id", json_integer(r->project_id));
	if (w->correlation_id) {
		json_t *cfs = json_object_get(issue, "custom_fields");
		if (!cfs) {
			cfs = json_array();
			json_object_set_new(issue, "custom_fields", cfs);
		}
		json_array_append_new(cfs, json_pack("{s:I, s:s}", "id", (json_int_t)cfid, "value",
		                                     w->correlation_id));
	}
	json_t *body = json_pack("{s:o}", "issue", issue);
	json_t *j;
	res = req(r, "create", "POST", strdup("/issues.json"), body, &j, NULL, call);
	json_decref(body);
	if (res != CC_OK)
		return res;
	int64_t id = jint(json_object_get(j, "issue"), "id");
	json_decref(j);
	if (!id) {
		call->outcome_unknown = true;
		return cc_call_fail(call, CC_RETRY, "redmine: create answered without an issue id");
	}
	char idb[24];
	snprintf(idb, sizeof(idb), "%" PRId64, id);
	json_t *raw = NULL;
	res = observe(r, idb, "create", out, &raw, call);
	json_decref(raw);
	if (res == CC_OK) {
		for (int f = 0; f < CC_MAX_FIELDS; f++) {
			const char *rn = remote_name(r, f);
			if (!rn || strcmp(rn, "status") != 0 || !w->values[f] || !w->values[f][0] ||
			    (out->fields[f].present && cc_same_text(out->fields[f].value, w->values[f])))
				continue;
			/* the issue exists: a refused status stays pending for the
			 * engine's next update, never a second create */
			struct cc_write sw = { .remote_id = idb };
			sw.values[f] = w->values[f];
			json_t *st = json_object();
			int ns;
			if (st && write_body(r, &sw, false, st, &ns, call) == CC_OK && ns)
				put_issue(r, idb, st, "create", call);
			json_decref(st);
			cc_observation_clear(out);
			res = observe(r, idb, "create", out, NULL, call);
			break;
		}
	}
	if (res != CC_OK) {
		call->outcome_unknown = true;
		return cc_call_fail(call, CC_RETRY, "redmine: issue %s created, read back failed", idb);
	}
	date_from_write(call, out->created_s);
	return CC_OK;
}

static enum cc_result rm_update(void *self, const struct cc_write *w, struct cc_observation *out,
                                struct cc_call *call)
{
	struct rm *r = self;
	cc_observation_init(out);
	enum cc_result res;
	/*
	 * Redmine has no precondition on writes: the version is compared on a
	 * read just before the write, which leaves a window of one round trip.
	 */
	if (w->expected_rv) {
		struct cc_observation now;
		res = observe(r, w->remote_id, "update", &now, NULL, call);
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
		return cc_call_fail(call, CC_RETRY, "redmine: out of memory");
	res = write_body(r, w, false, issue, &nset, call);
	if (res == CC_OK && w->correlation_id) {
		/* the origin issue gets the case id too (its correlation field) */
		int64_t cfid = 0;
		res = cf_id(r, r->cf, NULL, &cfid, call);
		if (res == CC_OK) {
			json_t *cfs = json_object_get(issue, "custom_fields");
			if (!cfs) {
				cfs = json_array();
				json_object_set_new(issue, "custom_fields", cfs);
			}
			json_array_append_new(cfs, json_pack("{s:I, s:s}", "id", (json_int_t)cfid,
			                                     "value", w->correlation_id));
			nset++;
		}
	}
	if (res == CC_OK && nset)
		res = put_issue(r, w->remote_id, issue, "update", call);
	json_decref(issue);
	if (res != CC_OK)
		return res;
	res = observe(r, w->remote_id, "update", out, NULL, call);
	if (res != CC_OK) {
		call->outcome_unknown = nset > 0;
		return res;
	}
	if (out->deleted)
		return cc_call_fail(call, CC_ERROR, "redmine: issue %s is gone or left the project",
		                    w->remote_id);
	if (nset && w->expected_rv && out->rv != w->expected_rv)
		date_from_write(call, out->mtime_s); /* updated_on moved during this call */
	res = verify(r, w, false, out, call);
	if (res != CC_OK)
		cc_observation_clear(out);
	return res;
}

static enum cc_result rm_comment(void *self, const char *remote_id, const char *body,
                                 char **out_id, struct cc_call *call)
{
	struct rm *r = self;
	*out_id = NULL;
	enum cc_result res = ensure_project(r, call);
	if (res != CC_OK)
		return res;
	/* a public note and nothing else: no status or field changes */
	json_t *issue = json_pack("{s:s, s:b}", "notes", body, "private_notes", 0);
	if (!issue)
		return cc_call_fail(call, CC_RETRY, "redmine: out of memory");
	res = put_issue(r, remote_id, issue, "comment", call);
	json_decref(issue);
	if (res != CC_OK)
		return res;
	/* The answer is empty: find our note among the journals, newest first. */
	json_t *j;
	res = req(r, "comment", "GET", cc_strf("/issues/%s.json?include=journals", remote_id), NULL,
	          &j, NULL, call);
	if (res != CC_OK) {
		call->outcome_unknown = true; /* written; the marker finds it later */
		return res;
	}
	json_t *js = jarray(json_object_get(j, "issue"), "journals");
	if (!js) {
		json_decref(j);
		call->outcome_unknown = true; /* written; the marker finds it later */
		return malformed(call, "comment", "no journals", remote_id);
	}
	for (size_t i = json_array_size(js); i-- > 0;) {
		json_t *jo = json_array_get(js, i);
		const char *notes = jstr(jo, "notes");
		if (!notes || !cc_same_text(notes, body) ||
		    jint(json_object_get(jo, "user"), "id") != r->self_id)
			continue;
		*out_id = cc_strf("%" PRId64, jint(jo, "id"));
		date_from_write(call, cc_parse_iso8601(jstr(jo, "created_on")));
		break;
	}
	json_decref(j);
	if (!*out_id) {
		call->outcome_unknown = true;
		return cc_call_fail(call, CC_RETRY, "redmine: note on %s written, its id not found",
		                    remote_id);
	}
	return CC_OK;
}

static size_t rm_budget(void *self, struct cc_budget_line *out, size_t max)
{
	const struct rm *r = self;
	return cc_http_budget(r->http, out, max);
}

static void rm_destroy(void *self)
{
	struct rm *r = self;
	if (!r)
		return;
	cc_prefetch_clear(&r->ahead);
	cc_seen_clear(&r->seen);
	cc_http_client_destroy(r->http);
	free(r->project);
	free(r->cf);
	free(r->iuser);
	names_clear(&r->statuses);
	names_clear(&r->priorities);
	names_clear(&r->trackers);
	names_clear(&r->cfields);
	names_clear(&r->logins);
	cc_usermap_clear(&r->users);
	free(r);
}

static const struct cc_connector_ops rm_ops = {
	.version = CC_CONNECTOR_OPS_VERSION,
	.kind = "redmine",
	.list_changes = rm_list,        /* issues of every project by updated_on */
	.read = rm_read,                /* the issue with its journals */
	.find_by_correlation = rm_find, /* cf_N filter, exact match kept */
	.create = rm_create,            /* POST /issues.json, then the status */
	.update = rm_update,            /* version read, PUT, read back */
	.add_comment = rm_comment,      /* PUT notes */
	.budget = rm_budget,
	.destroy = rm_destroy,
};

static int rm_new(struct cc_connector *out, const struct cc_connector_setup *s, char *err,
                  size_t errlen)
{
	const char *project = cc_setup_setting(s, "project");
	if (!project || !project[0]) {
		snprintf(err, errlen, "redmine: setting 'project' is required");
		return CC_EINVAL;
	}
	struct rm *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "redmine: out of memory");
		return CC_ENOMEM;
	}
	r->cfg = s->cfg;
	r->system = s->system;
	r->project = strdup(project);
	r->cf = strdup(cc_setup_setting(s, "correlation_field"));
	const char *iu = s->integration_user ? s->integration_user
	                                     : s->cfg->systems[s->system].integration_user;
	r->iuser = iu ? strdup(iu) : NULL;
	if (!r->project || !r->cf || (iu && !r->iuser) || cc_usermap_init(&r->users, s)) {
		rm_destroy(r);
		snprintf(err, errlen, "redmine: out of memory");
		return CC_ENOMEM;
	}
	int rc = cc_setup_http_client(&r->http, s, "X-Redmine-API-Key", "", err, errlen);
	if (rc) {
		rm_destroy(r);
		return rc;
	}
	out->ops = &rm_ops;
	out->self = r;
	return 0;
}

static const struct cc_setting_row rm_settings[] = {
	{ "project", true, NULL, "the identifier of the project whose issues are synced" },
	{ "correlation_field", false, "ExternalRef",
	  "the issue custom field that holds the case's correlation id" },
	{ NULL, false, NULL, NULL },
};

const struct cc_connector_kind cc_redmine_kind = {
	.kind = "redmine",
	.description = "Redmine 5, REST API in JSON (docs/connectors/redmine.md)",
	.create = rm_new,
	.settings = rm_settings,
};
