/*
 * The Microsoft Sentinel connector: the incidents of one Log Analytics
 * workspace through Azure Resource Manager (Microsoft.SecurityInsights,
 * a pinned stable api-version), on the HTTP connector base
 * (connectors/base.h), authenticated by OAuth 2.0 client credentials
 * against the Microsoft identity platform (connectors/oauth.h).
 *
 * A record is an incident, named by a GUID. Its observation is the
 * incident (values, etag, lastModifiedTimeUtc as the version in 100 ns
 * ticks; as the listing, the lookup or the update's PUT answer showed it,
 * else read) and its comments. Polls list the incidents whose
 * lastModifiedTimeUtc is at or after the cursor, oldest first, following
 * nextLink on the management host only. An update reads the incident,
 * merges the values into its writable properties and PUTs them back with
 * the etag read (ARM answers 409 when it moved: CONFLICT). A create is a
 * PUT to a name derived from the correlation id, so one sent again names
 * the same incident; the correlation id is also a label a person sees. A
 * comment is a PUT to a name derived from its origin marker. Anything of
 * the wrong shape in an answer is malformed. docs/connectors/sentinel.md
 * says which API facts this relies on and where they are documented.
 */
#include "connectors/sentinel/sentinel.h"

#include "connectors/base.h"
#include "connectors/oauth.h"
#include "connectors/sentinel/arm.h"
#include "core/iso8601.h"
#include "http/client.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define API_VERSION "2025-12-01"
#define PER_PAGE 100
#define MAX_COMMENT_PAGES 50
#define CORR_PREFIX "concord-"

struct sentinel {
	struct cc_connector_base base; /* first: self is the base too (base.h) */
	char *url;                     /* the management base, as the client has it */
	char *incidents;               /* the path of the workspace's incidents */
	char *api;                     /* "api-version=..." escaped */
	char *version;                 /* the api-version */
	struct cc_oauth *oauth;
	char *next;                    /* the listing's nextLink path, between pages */
	/*
	 * name -> incident as an answer of the current call showed it (the
	 * listing's rows, the lookup's GET, the update's PUT answer): the
	 * observation that follows takes it instead of a second GET.
	 */
	json_t *shown;
	char comment[CC_ARM_UUID_LEN]; /* the name of the comment just sent */
};

/* ---- requests ---------------------------------------------------------- */

static enum cc_result malformed(struct sentinel *s, struct cc_call *call, const char *op,
                                const char *what, const char *id)
{
	return cc_base_malformed(&s->base, call, op, what, id);
}

/* ".../incidents/ID[/SUFFIX]?api-version=V" */
static char *incident_path(const struct sentinel *s, const char *id, const char *suffix)
{
	return cc_strf("%s/%s%s?%s", s->incidents, id, suffix ? suffix : "", s->api);
}

/*
 * A request whose ARM error answer is quoted: "sentinel OP ID: HTTP N
 * CODE: message" (an ERROR stays an ERROR, a 409 a CONFLICT). path taken.
 */
static enum cc_result arm_request(struct sentinel *s, const char *op, const char *method,
                                  char *path, json_t *body, json_t **out, long *status,
                                  const char *id, struct cc_call *call)
{
	if (out)
		*out = NULL;
	*status = 0;
	char *b = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (!path || (body && !b)) {
		free(path);
		free(b);
		return cc_base_oom(&s->base, call);
	}
	struct cc_http_response r;
	enum cc_result res = cc_http_request(s->base.http, op, method, path, b, &r, call);
	free(path);
	free(b);
	*status = r.status;
	char msg[120];
	if ((res == CC_ERROR || res == CC_CONFLICT) && r.status >= 400 &&
	    cc_arm_error(r.body, r.len, msg, sizeof(msg))) {
		snprintf(call->reason, sizeof(call->reason), "sentinel %s %.40s: HTTP %ld %s", op,
		         id ? id : "", r.status, msg);
		cc_http_redact(s->base.http, call->reason, sizeof(call->reason));
	}
	if (res == CC_OK && out && r.body && r.len) {
		json_error_t je;
		*out = json_loadb(r.body, r.len, 0, &je);
		if (!*out) {
			res = malformed(s, call, op, "not JSON", id);
			/* a write applied whose answer cannot be read */
			call->outcome_unknown = strcmp(method, "GET") != 0;
		}
	}
	cc_http_response_clear(&r);
	return res;
}

/* GET of incident id: *inc its JSON, or NULL (and OK) when it is gone (404). */
static enum cc_result get_incident(struct sentinel *s, const char *id, const char *op,
                                   json_t **inc, struct cc_call *call)
{
	long status;
	enum cc_result res = cc_base_request(&s->base, op, "GET", incident_path(s, id, NULL), NULL,
	                                     inc, &status, call);
	if (status == 404) {
		*inc = NULL;
		call->result = CC_OK;
		call->reason[0] = '\0';
		return CC_OK;
	}
	if (res == CC_OK && !json_is_object(*inc)) {
		json_decref(*inc);
		*inc = NULL;
		return malformed(s, call, op, "the incident is not an object", id);
	}
	return res;
}

/* ---- values ------------------------------------------------------------ */

/* A person of ARM's: userPrincipalName, else email, else the shown name. */
static const char *person_of(json_t *o)
{
	const char *keys[] = { "userPrincipalName", "email", "assignedTo", "name" };
	for (size_t i = 0; i < 4; i++) {
		const char *v = cc_json_text(o, keys[i]);
		if (v && v[0])
			return v;
	}
	return NULL;
}

/* The correlation id among the labels: the first that starts with CORR_PREFIX. */
/*
 * An incident's version: its lastModifiedTimeUtc in 100 ns ticks plus its
 * comments' count (additionalData.commentsCount, when given): a comment
 * added in Sentinel does not move the incident's time, and an observation
 * of an unchanged version is dropped, so without the count a comment read
 * after a webhook would never be taken. Both only grow (concord deletes no
 * comment), so the version does. The listing, reads and the update's
 * check all use it.
 */
static bool incident_version(json_t *props, int64_t *mtime_s, uint64_t *rv)
{
	if (!cc_arm_time(cc_json_text(props, "lastModifiedTimeUtc"), mtime_s, rv))
		return false;
	json_t *n = json_object_get(json_object_get(props, "additionalData"), "commentsCount");
	if (json_is_integer(n) && json_integer_value(n) > 0)
		*rv += (uint64_t)json_integer_value(n);
	return true;
}

static const char *corr_label(json_t *props)
{
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(props, "labels"), i, l) {
		const char *n = cc_json_text(l, "labelName");
		if (n && strncmp(n, CORR_PREFIX, strlen(CORR_PREFIX)) == 0)
			return n;
	}
	return NULL;
}

struct incident {
	struct sentinel *s;
	json_t *props;
};

/* The value of remote field rn (an incident property) in the system's terms. */
static char *incident_value(void *ctx, int f, const char *rn, bool *present)
{
	struct incident *iv = ctx;
	json_t *v = json_object_get(iv->props, rn);
	*present = true;
	if (!strcmp(rn, "owner")) {
		const char *who = person_of(v);
		if (!who)
			return strdup("");
		return strdup(cc_base_user_field(&iv->s->base, f)
		                      ? cc_usermap_person(&iv->s->base.users, who)
		                      : who);
	}
	if (!strcmp(rn, "labels")) {
		struct cc_buf b = { 0 };
		size_t i;
		json_t *l;
		bool first = true;
		json_array_foreach(v, i, l) {
			const char *n = cc_json_text(l, "labelName");
			if (!n || strncmp(n, CORR_PREFIX, strlen(CORR_PREFIX)) == 0)
				continue;
			if ((!first && cc_buf_add(&b, ", ")) || cc_buf_add(&b, n)) {
				cc_buf_free(&b);
				return NULL;
			}
			first = false;
		}
		return cc_buf_take(&b);
	}
	if (!v || json_is_null(v))
		return cc_arm_writable(rn) ? strdup("") : (*present = false, NULL);
	char num[64];
	const char *t = cc_json_str(v, num, sizeof(num));
	if (!t) {
		*present = false; /* an object or an array: not a field we can sync */
		return NULL;
	}
	return strdup(t);
}

/* The incident's comments, every page (nextLink on the management host), into out. */
static enum cc_result read_comments(struct sentinel *s, const char *id, const char *op,
                                    struct cc_observation *out, struct cc_call *call)
{
	char *path = incident_path(s, id, "/comments");
	for (int page = 0; page < MAX_COMMENT_PAGES; page++) {
		json_t *j, *items;
		enum cc_result res = cc_base_get_array(&s->base, op, path, "value", &j, &items,
		                                       "no comment list", id, call);
		if (res != CC_OK)
			return res;
		const char *what = NULL;
		size_t i;
		json_t *c;
		json_array_foreach(items, i, c) {
			json_t *p = json_object_get(c, "properties");
			const char *name = cc_json_text(c, "name");
			const char *msg = cc_json_text(p, "message");
			int64_t at;
			uint64_t ticks;
			if (!name || !msg || !cc_arm_time(cc_json_text(p, "createdTimeUtc"), &at, &ticks)) {
				what = "a comment without name, message or createdTimeUtc";
				break;
			}
			if (cc_observation_add_comment(out, name, msg,
			                               person_of(json_object_get(p, "author")), at)) {
				json_decref(j);
				return cc_base_oom(&s->base, call);
			}
		}
		json_t *nl = json_object_get(j, "nextLink");
		path = NULL;
		if (!what && json_is_string(nl) &&
		    !(path = cc_arm_next_path(s->url, json_string_value(nl))))
			what = "a nextLink off the management host";
		else if (!what && nl && !json_is_null(nl) && !json_is_string(nl))
			what = "a nextLink that is not a string";
		json_decref(j);
		if (what) {
			free(path);
			return malformed(s, call, op, what, id);
		}
		if (!path)
			return CC_OK;
	}
	free(path);
	return malformed(s, call, op, "more comment pages than concord reads", id);
}

/*
 * The observation of incident `id` as it is now: the incident (a 404 is a
 * deleted observation), then its comments.
 */
static enum cc_result observe(struct cc_connector_base *b, const char *id, const char *op,
                              struct cc_observation *out, struct cc_call *call)
{
	struct sentinel *s = (struct sentinel *)b;
	json_t *inc = NULL;
	enum cc_result res;
	if (!(out->remote_id = strdup(id))) {
		res = cc_base_oom(b, call);
		goto out;
	}
	/*
	 * an incident this call was just shown (listed, looked up, written) is
	 * not read again; a read or a webhook always reads it as it is now
	 */
	bool shown = !strcmp(op, "list") || !strcmp(op, "find") || !strcmp(op, "update");
	inc = shown ? json_incref(json_object_get(s->shown, id)) : NULL;
	json_object_del(s->shown, id);
	res = inc ? CC_OK : get_incident(s, id, op, &inc, call);
	if (res != CC_OK)
		goto out;
	if (!inc) {
		cc_base_gone(out, call);
		goto out;
	}
	json_t *p = json_object_get(inc, "properties");
	json_t *sys = json_object_get(inc, "systemData");
	const char *name = cc_json_text(inc, "name");
	int64_t created;
	uint64_t ticks, cticks;
	if (!json_is_object(p) || !name || strcmp(name, id) != 0 ||
	    !json_is_string(json_object_get(inc, "etag")) ||
	    !incident_version(p, &out->mtime_s, &ticks) ||
	    !cc_arm_time(cc_json_text(p, "createdTimeUtc"), &created, &cticks) ||
	    !cc_json_text(p, "title") ||
	    (json_object_get(p, "labels") && !json_is_array(json_object_get(p, "labels")))) {
		res = malformed(s, call, op,
		                "an incident without its name, etag, properties, times or title", id);
		goto out;
	}
	out->created_s = created;
	out->rv = ticks;
	const char *corr = corr_label(p);
	if (corr && !(out->correlation_id = strdup(corr))) {
		res = cc_base_oom(b, call);
		goto out;
	}
	/*
	 * No field history in ARM: a field's own change time is unknown (0),
	 * so the engine dates a change by the incident's time, and a field
	 * that kept its value is never taken as set again just because the
	 * incident moved (which would let an unchanged status revert a newer
	 * change made elsewhere). The author is the incident's last editor.
	 */
	struct incident iv = { .s = s, .props = p };
	const char *editor = cc_json_text(sys, "lastModifiedBy");
	if (cc_base_fill_fields(b, out, cc_json_text(sys, "createdBy"), incident_value, &iv)) {
		res = cc_base_oom(b, call);
		goto out;
	}
	for (int f = 0; f < CC_MAX_FIELDS; f++)
		if (out->fields[f].present && cc_base_field_changed(out, f, editor, 0)) {
			res = cc_base_oom(b, call);
			goto out;
		}
	res = read_comments(s, id, op, out, call);
out:
	json_decref(inc);
	if (res != CC_OK)
		cc_observation_clear(out);
	else if (!out->deleted)
		cc_seen_put(b->seen, id, out->rv);
	return res;
}

/* ---- list_changes ------------------------------------------------------ */

/*
 * A poll's first read of an incident, sent ahead for a page's incidents at
 * once: its comments (the incident itself comes with the listing).
 */
static char *read_path(struct cc_connector_base *b, const char *id, int pass)
{
	return pass == 0 ? incident_path((const struct sentinel *)b, id, "/comments") : NULL;
}

/*
 * One page of the listing: incidents modified at or after from_s, oldest
 * first; page 2 and later follow the nextLink of the page before. Each
 * row is the whole incident, so its key is its exact version.
 */
static enum cc_result fetch(struct cc_connector_base *b, struct cc_listing *l, int page,
                            struct cc_call *call)
{
	struct sentinel *s = (struct sentinel *)b;
	char *path;
	if (page == 1) {
		free(s->next);
		s->next = NULL;
		json_object_clear(s->shown);
		char *q = cc_arm_list_query(s->version, l->from_s, PER_PAGE);
		path = q ? cc_strf("%s%s", s->incidents, q) : NULL;
		free(q);
	} else {
		path = s->next;
		s->next = NULL;
		if (!path)
			return malformed(s, call, "list", "a page after the last", NULL);
	}
	json_t *j, *items;
	enum cc_result res = cc_base_get_array(b, "list", path, "value", &j, &items,
	                                       "no incident list", NULL, call);
	if (res != CC_OK)
		return res;
	const char *what = NULL;
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) {
		const char *name = cc_json_text(it, "name");
		int64_t m;
		uint64_t ticks;
		if (!cc_arm_name_ok(name) ||
		    !incident_version(json_object_get(it, "properties"), &m, &ticks)) {
			what = "an incident without a usable name or lastModifiedTimeUtc";
			break;
		}
		if (cc_listing_add(l, name, m, ticks) || json_object_set(s->shown, name, it)) {
			json_decref(j);
			return cc_base_oom(b, call);
		}
	}
	json_t *nl = json_object_get(j, "nextLink");
	if (!what && json_is_string(nl)) {
		if (!(s->next = cc_arm_next_path(s->url, json_string_value(nl))))
			what = "a nextLink off the management host";
	} else if (!what && nl && !json_is_null(nl)) {
		what = "a nextLink that is not a string";
	}
	json_decref(j);
	if (what) {
		free(s->next);
		s->next = NULL;
		return malformed(s, call, "list", what, NULL);
	}
	l->more = s->next != NULL;
	return CC_OK;
}

/* ---- find, create, update, comment ------------------------------------------ */

/* The incident a create of corr made, if any: its derived name, when it exists. */
static enum cc_result lookup(struct cc_connector_base *b, const char *corr, char *id,
                             struct cc_call *call)
{
	struct sentinel *s = (struct sentinel *)b;
	char name[CC_ARM_UUID_LEN];
	id[0] = '\0';
	if (cc_arm_incident_name(corr, name))
		return cc_base_oom(b, call);
	json_t *inc;
	json_object_clear(s->shown);
	enum cc_result res = get_incident(s, name, "find", &inc, call);
	if (res == CC_OK && inc) {
		snprintf(id, CC_BASE_ID_MAX, "%s", name);
		json_object_set(s->shown, name, inc); /* the observation takes it */
	}
	json_decref(inc);
	return res;
}

/* Sets every value of w in props (the system's terms; users through the map). */
static enum cc_result set_values(struct sentinel *s, const struct cc_write *w, json_t *props,
                                 struct cc_call *call)
{
	bool classified = false, reasoned = false;
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		const char *rn = cc_base_remote_name(&s->base, f);
		const char *v = w->values[f];
		if (!rn || !v)
			continue;
		if (!cc_arm_writable(rn))
			return cc_call_fail(call, CC_ERROR, "sentinel: %s is not a writable incident "
			                    "property", rn);
		if (!strcmp(rn, "owner") && v[0] && cc_base_user_field(&s->base, f))
			v = cc_usermap_remote(&s->base.users, v);
		if (cc_arm_set(props, rn, v, CORR_PREFIX))
			return cc_base_oom(&s->base, call);
		classified |= !strcmp(rn, "classification");
		reasoned |= !strcmp(rn, "classificationReason");
	}
	/* a classification written alone takes the reason Sentinel allows with it */
	if (classified && !reasoned && cc_arm_fit_reason(props))
		return cc_base_oom(&s->base, call);
	return CC_OK;
}

/*
 * A new incident: the values, the correlation id as a label; title,
 * severity and status, which ARM requires, default to the correlation id,
 * Medium and New.
 */
static enum cc_result create_body(struct cc_connector_base *b, const struct cc_write *w,
                                  json_t **body, struct cc_call *call)
{
	struct sentinel *s = (struct sentinel *)b;
	json_t *p = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}]}", "title", w->correlation_id,
	                      "severity", "Medium", "status", "New", "labels", "labelName",
	                      w->correlation_id, "labelType", "User");
	*body = p ? json_pack("{s:o}", "properties", p) : NULL;
	if (!*body)
		return cc_base_oom(b, call);
	enum cc_result res = set_values(s, w, p, call);
	if (res != CC_OK) {
		json_decref(*body);
		*body = NULL;
	}
	return res;
}

static enum cc_result create_at(struct cc_connector_base *b, const struct cc_write *w, char *id,
                                size_t len, char **path, struct cc_call *call)
{
	struct sentinel *s = (struct sentinel *)b;
	char name[CC_ARM_UUID_LEN];
	if (cc_arm_incident_name(w->correlation_id, name) || !(*path = incident_path(s, name, NULL)))
		return cc_base_oom(b, call);
	snprintf(id, len, "%s", name);
	return CC_OK;
}

/*
 * Reads the incident, merges every value of w into its writable properties
 * and PUTs them back with the etag read: one PUT for all the fields (a
 * status Closed and its classification go together). The version read
 * must be w->expected_rv (CONFLICT otherwise), and ARM refuses a stale
 * etag with 409 (CONFLICT).
 */
static enum cc_result write(struct cc_connector_base *b, const struct cc_write *w, bool *wrote,
                            char *why, size_t why_len, struct cc_call *call)
{
	struct sentinel *s = (struct sentinel *)b;
	const char *id = w->remote_id;
	*wrote = false;
	if (!cc_arm_name_ok(id))
		return cc_call_fail(call, CC_ERROR, "sentinel: '%.40s' is not an incident name", id);
	json_t *inc;
	enum cc_result res = get_incident(s, id, "update", &inc, call);
	if (res != CC_OK)
		return res;
	if (!inc)
		return cc_call_fail(call, CC_ERROR, "sentinel: incident %s is gone", id);
	int64_t m;
	uint64_t rv;
	json_t *body = cc_arm_put_body(inc);
	bool timed = incident_version(json_object_get(inc, "properties"), &m, &rv);
	json_decref(inc);
	if (!body || !timed) {
		json_decref(body);
		return malformed(s, call, "update", "an incident without etag, properties or "
		                 "lastModifiedTimeUtc", id);
	}
	if (w->expected_rv && rv != w->expected_rv) {
		json_decref(body);
		return cc_call_fail(call, CC_CONFLICT, "sentinel: incident %s moved (version %" PRIu64
		                    ", expected %" PRIu64 ")", id, rv, w->expected_rv);
	}
	res = set_values(s, w, json_object_get(body, "properties"), call);
	json_t *after = NULL;
	json_object_clear(s->shown);
	if (res == CC_OK) {
		long status;
		*wrote = true;
		res = arm_request(s, "update", "PUT", incident_path(s, id, NULL), body, &after, &status,
		                  id, call);
		if (res != CC_OK)
			snprintf(why, why_len, "%s", call->reason);
		else if (json_is_object(after))
			json_object_set(s->shown, id, after); /* the incident as written: the read-back */
	}
	json_decref(after);
	json_decref(body);
	return res;
}

/* A PUT of the comment to a name derived from its origin: sent again, the same comment. */
static enum cc_result comment(struct cc_connector_base *b, const char *id, const char *body,
                              struct cc_call *call)
{
	struct sentinel *s = (struct sentinel *)b;
	s->comment[0] = '\0';
	if (!cc_arm_name_ok(id))
		return cc_call_fail(call, CC_ERROR, "sentinel: '%.40s' is not an incident name", id);
	char name[CC_ARM_UUID_LEN];
	if (cc_arm_comment_name(id, body, name))
		return cc_base_oom(b, call);
	char *suffix = cc_strf("/comments/%s", name);
	json_t *j = json_pack("{s:{s:s}}", "properties", "message", body);
	long status;
	enum cc_result res = suffix && j ? arm_request(s, "comment", "PUT",
	                                               incident_path(s, id, suffix), j, NULL,
	                                               &status, id, call)
	                                 : cc_base_oom(b, call);
	free(suffix);
	json_decref(j);
	if (res == CC_OK)
		memcpy(s->comment, name, sizeof(name));
	return res;
}

static enum cc_result comment_id(struct cc_connector_base *b, const char *id, const char *body,
                                 char **out_id, struct cc_call *call)
{
	struct sentinel *s = (struct sentinel *)b;
	*out_id = s->comment[0] ? strdup(s->comment) : NULL;
	if (s->comment[0] && !*out_id)
		return cc_base_oom(b, call);
	return CC_OK;
}

/* ---- webhook ----------------------------------------------------------- */

/*
 * The body an automation rule's playbook posts: {"incidentId": NAME,
 * "incidentArmId": ".../incidents/NAME", "lastModifiedTimeUtc": TIME,
 * "operation": "created"|"updated"}. Only the name is believed: the
 * incident is read as it is now, unless this connector returned that
 * version (or a newer one) already. An incident of another workspace is
 * none of this system's (an empty page).
 */
static enum cc_result sentinel_webhook(void *self, const char *body, size_t len,
                                       struct cc_page *pg, struct cc_call *call)
{
	struct sentinel *s = self;
	memset(pg, 0, sizeof(*pg));
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *name = cc_json_text(j, "incidentId");
	const char *arm = cc_json_text(j, "incidentArmId");
	const char *op = cc_json_text(j, "operation");
	int64_t m = 0;
	uint64_t rv = 0;
	bool timed = cc_arm_time(cc_json_text(j, "lastModifiedTimeUtc"), &m, &rv);
	char idb[64];
	bool ok = json_is_object(j) && cc_arm_name_ok(name) && arm && timed && op &&
	          (!strcmp(op, "created") || !strcmp(op, "updated"));
	bool ours = false;
	if (ok) {
		size_t an = strlen(arm), nn = strlen(name), pn = strlen(s->incidents);
		ok = an > nn + 1 && !strcmp(arm + an - nn, name) && arm[an - nn - 1] == '/';
		/* ARM ids are case-insensitive */
		ours = ok && an == pn + 1 + nn && !strncasecmp(arm, s->incidents, pn);
		snprintf(idb, sizeof(idb), "%s", name);
	}
	json_decref(j);
	if (!ok)
		return malformed(s, call, "webhook", "not {incidentId, incidentArmId, "
		                 "lastModifiedTimeUtc, operation}", NULL);
	/*
	 * The body's time is checked, not trusted: it cannot tell a comment
	 * added (that moves no incident time), so every webhook of ours is
	 * read, a read per change.
	 */
	if (!ours)
		return CC_OK; /* another workspace's */
	return cc_base_webhook_read(&s->base, idb, pg, call);
}

/* ---- the connector ------------------------------------------------------ */

/* A setting escaped for a path segment, NULL when out of memory. */
static char *segment(const struct cc_connector_setup *st, const char *key)
{
	return cc_http_escape(cc_setup_setting(st, key));
}

static int init(struct cc_connector_base *b, const struct cc_connector_setup *st, char *err,
                size_t errlen)
{
	struct sentinel *s = (struct sentinel *)b;
	const char *url = st->base_url && st->base_url[0] ? st->base_url : b->ops->default_url;
	if (!st->secret || !st->secret[0]) {
		snprintf(err, errlen, "sentinel: the system's token (the app's client secret) is "
		         "required");
		return CC_EINVAL;
	}
	const char *keys[] = { "subscription", "resource_group", "workspace", "tenant",
		               "client_id" };
	for (size_t i = 0; i < 5; i++) {
		const char *v = cc_setup_setting(st, keys[i]);
		if (!v || !v[0]) {
			snprintf(err, errlen, "sentinel: setting %s is required", keys[i]);
			return CC_EINVAL;
		}
	}
	char *sub = segment(st, "subscription"), *rg = segment(st, "resource_group");
	char *ws = segment(st, "workspace"), *tenant = segment(st, "tenant");
	char *av = segment(st, "api_version");
	const char *login = cc_setup_setting(st, "login_url");
	s->url = strdup(url);
	size_t n = s->url ? strlen(s->url) : 0;
	while (n > 0 && s->url[n - 1] == '/')
		s->url[--n] = '\0';
	s->incidents = sub && rg && ws
		               ? cc_strf("/subscriptions/%s/resourceGroups/%s/providers/"
		                         "Microsoft.OperationalInsights/workspaces/%s/providers/"
		                         "Microsoft.SecurityInsights/incidents", sub, rg, ws)
		               : NULL;
	s->api = av ? cc_strf("api-version=%s", av) : NULL;
	s->version = strdup(cc_setup_setting(st, "api_version"));
	size_t ln = login ? strlen(login) : 0;
	while (ln > 0 && login[ln - 1] == '/')
		ln--;
	char *token_url = tenant && login ? cc_strf("%.*s/%s/oauth2/v2.0/token", (int)ln, login,
	                                            tenant)
	                                  : NULL;
	const char *sc = cc_setup_setting(st, "scope");
	char *scope = sc && sc[0] ? strdup(sc) : s->url ? cc_strf("%s/.default", s->url) : NULL;
	free(sub);
	free(rg);
	free(ws);
	free(tenant);
	free(av);
	int rc = CC_ENOMEM;
	s->shown = json_object();
	if (!s->url || !s->incidents || !s->api || !s->version || !token_url || !scope ||
	    !s->shown) {
		snprintf(err, errlen, "sentinel: out of memory");
		goto out;
	}
	struct cc_oauth_options o = { .who = "sentinel", .token_url = token_url,
		                      .client_id = cc_setup_setting(st, "client_id"),
		                      .client_secret = st->secret, .scope = scope };
	cc_oauth_options_from_setup(&o, st);
	rc = cc_oauth_create(&s->oauth, &o, err, errlen);
	if (!rc)
		b->auth = cc_oauth_auth(s->oauth);
out:
	free(token_url);
	free(scope);
	return rc;
}

static void clear(struct cc_connector_base *b)
{
	struct sentinel *s = (struct sentinel *)b;
	cc_oauth_destroy(s->oauth);
	free(s->url);
	free(s->incidents);
	free(s->api);
	free(s->version);
	free(s->next);
	json_decref(s->shown);
}

/* Sentinel as the HTTP connector base sees it (base.h). */
static const struct cc_base_ops sentinel_base = {
	.who = "sentinel", .record = "incident", .place = "workspace",
	.size = sizeof(struct sentinel),
	.default_url = "https://management.azure.com",
	.auth_name = "Authorization", .auth_prefix = "Bearer ", /* set by oauth.c */
	.per_page = PER_PAGE,
	.init = init, .clear = clear,
	/* polls: incidents by lastModifiedTimeUtc, nextLink; the listed time is the version */
	.fetch = fetch, .read_path = read_path, /* the comments of a page's incidents at once */
	.observe = observe,            /* the incident (or as just shown), then its comments */
	.lookup = lookup,              /* GET of the name derived from the correlation id */
	.create_body = create_body,
	.create_at = create_at,        /* PUT to the derived name */
	.write = write,                /* GET, merge, PUT with the etag (409: CONFLICT) */
	.comment = comment, .comment_id = comment_id, /* PUT to a derived comment name */
	.webhook = sentinel_webhook,   /* the playbook's {"incidentId": ...}: read it */
};

static const struct cc_setting_row sentinel_settings[] = {
	{ "subscription", true, NULL, "the Azure subscription id of the workspace" },
	{ "resource_group", true, NULL, "the resource group of the workspace" },
	{ "workspace", true, NULL, "the Log Analytics workspace with Microsoft Sentinel" },
	{ "tenant", true, NULL, "the Microsoft Entra tenant id of the app registration" },
	{ "client_id", true, NULL, "the app registration's application (client) id" },
	{ "login_url", false, "https://login.microsoftonline.com",
	  "the Microsoft identity platform's sign-in host" },
	{ "api_version", false, API_VERSION, "the Microsoft.SecurityInsights api-version" },
	{ "scope", false, NULL,
	  "the token's scope (none: the management url followed by /.default)" },
	{ NULL, false, NULL, NULL },
};

/* Closing needs a classification (ARM answers 400 without one). */
static const struct cc_companion_need sentinel_needs[] = {
	{ "status", (const char *const[]){ "Closed", NULL },
	  (const char *const[]){ "classification", NULL },
	  "Sentinel answers 400 to a close without one" },
	{ NULL, NULL, NULL, NULL },
};

const struct cc_connector_kind cc_sentinel_kind = {
	.kind = "sentinel",
	.description = "Microsoft Sentinel incidents, Azure Resource Manager "
	               "(docs/connectors/sentinel.md)",
	.create = cc_base_new, .settings = sentinel_settings, .impl = &sentinel_base,
	.needs = sentinel_needs,
};
