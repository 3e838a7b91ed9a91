/*
 * The Jira Cloud connector: the issues of one project through the Jira
 * Cloud platform REST API v3, on the HTTP connector base
 * (connectors/base.h), authenticated by an account's email and API token
 * (Basic).
 *
 * A record is an issue, named by its numeric id. Its observation is the
 * issue (the mapped fields; `updated`, in milliseconds, is the version),
 * its changelog (each mapped field's time and author) and its comments
 * (Atlassian Document Format, read as text: jira/adf.h). Polls search with
 * JQL (`/search/jql`, nextPageToken) for the issues updated at or after the
 * cursor less a minute (JQL dates have minute precision), ordered by
 * updated then key, and the base keeps those strictly after the keyset
 * position by their exact `updated`. A status is never set: it moves
 * through the workflow's transitions (jira/workflow.h finds a path, the
 * screens' required fields come from the write's companions). The
 * correlation id is a label, or a text custom field when the settings name
 * one (correlation_field). docs/connectors/jira.md says which API facts
 * this relies on and where they are documented.
 *
 * Ownership: struct jira owns its settings' copies, the learnt workflow
 * and the answers kept between two hooks of one call; everything else is
 * the base's.
 */
#include "connectors/jira/jira.h"

#include "connectors/base.h"
#include "connectors/jira/adf.h"
#include "connectors/jira/workflow.h"
#include "core/iso8601.h"
#include "http/client.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PER_PAGE 100
#define MAX_HISTORY_PAGES 50
#define MAX_COMMENT_PAGES 50
#define MAX_STEPS 8              /* transitions of one status write, at most */
#define OVERLAP_S 60             /* JQL dates have minute precision */
#define API "/rest/api/3"

struct jira {
	struct cc_connector_base base; /* first: self is the base too (base.h) */
	char *email;                   /* the account of the API token */
	char *project;                 /* the project key */
	char *issue_type;              /* of the issues concord creates */
	char *fields;                  /* "summary,status,...": what GET issue asks */
	char *corr_field;              /* customfield_N holding the correlation id; NULL: a label */
	char corr_jql[40];             /* its JQL name, cf[N] */
	char *next;                    /* the search's nextPageToken, between pages */
	char comment[32];              /* the id of the comment just sent */
	bool prepared;                 /* the project's statuses were read */
	struct cc_jira_workflow flow;  /* its statuses, the transitions seen so far */
};

static enum cc_result malformed(struct jira *j, struct cc_call *call, const char *op,
                                const char *what, const char *id)
{
	return cc_base_malformed(&j->base, call, op, what, id);
}

/* A Jira time ("2024-01-02T03:04:05.678+1100") in seconds and milliseconds. */
static bool jira_time(const char *s, int64_t *sec, uint64_t *ms)
{
	int64_t t;
	int32_t ns;
	if (!s || !cc_iso8601_parse_ns(s, &t, &ns) || t < 0)
		return false;
	*sec = t;
	if (ms)
		*ms = (uint64_t)t * 1000u + (uint64_t)(ns / 1000000);
	return true;
}

/* An issue id: digits only (a key or anything else never reaches a path). */
static bool id_ok(const char *id)
{
	if (!id || !id[0] || strlen(id) >= CC_BASE_ID_MAX)
		return false;
	for (const char *p = id; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* ---- values ------------------------------------------------------------ */

/* A person of Jira's: the email when the account shows it, else its accountId. */
static const char *person_of(json_t *u)
{
	const char *e = cc_json_text(u, "emailAddress");
	return e && e[0] ? e : cc_json_text(u, "accountId");
}

/* The correlation id among the labels: the first that starts with CC_JIRA_CORR_PREFIX. */
static const char *corr_label(json_t *labels)
{
	size_t i;
	json_t *l;
	json_array_foreach(labels, i, l) {
		const char *n = json_string_value(l);
		if (n && !strncmp(n, CC_JIRA_CORR_PREFIX, strlen(CC_JIRA_CORR_PREFIX)))
			return n;
	}
	return NULL;
}

/*
 * The issue's correlation id: the custom field's value when the settings
 * name one, else (and for issues labelled before the field was chosen)
 * the label.
 */
static const char *corr_of(struct jira *j, json_t *fl)
{
	if (j->corr_field) {
		const char *v = json_string_value(json_object_get(fl, j->corr_field));
		if (v && v[0])
			return v;
	}
	return corr_label(json_object_get(fl, "labels"));
}

struct issue {
	struct jira *j;
	json_t *fields;
};

/* The value of remote field rn of an issue, in the system's terms. */
static char *issue_value(void *ctx, int f, const char *rn, bool *present)
{
	struct issue *iv = ctx;
	json_t *v = json_object_get(iv->fields, rn);
	*present = true;
	/*
	 * A resolution belongs to a done issue (Done's screen sets it, Reopen
	 * clears it): an issue in another status carries none, rather than an
	 * empty one, so that another system's resolution of a reopened case is
	 * neither taken from it nor written to it.
	 */
	if (!strcmp(rn, "resolution")) {
		const char *cat = cc_json_text(json_object_get(json_object_get(iv->fields, "status"),
		                                               "statusCategory"), "key");
		if (!cat || strcmp(cat, "done") != 0) {
			*present = false;
			return NULL;
		}
	}
	if (!json_object_get(iv->fields, rn) && strcmp(rn, "resolution") != 0 &&
	    strcmp(rn, "assignee") != 0 && strcmp(rn, "description") != 0) {
		*present = false;
		return NULL;
	}
	if (!v || json_is_null(v))
		return strdup("");
	if (!strcmp(rn, "description"))
		return cc_adf_to_text(v);
	if (!strcmp(rn, "assignee") || !strcmp(rn, "reporter")) {
		/* the accountId a write sends (an email the account shows names authors only) */
		const char *who = cc_json_text(v, "accountId");
		if (!who)
			who = person_of(v);
		if (!who)
			return strdup("");
		return strdup(cc_base_user_field(&iv->j->base, f)
		                      ? cc_usermap_person(&iv->j->base.users, who) : who);
	}
	if (!strcmp(rn, "labels")) {
		struct cc_buf b = { 0 };
		size_t i;
		json_t *l;
		bool first = true;
		json_array_foreach(v, i, l) {
			const char *n = json_string_value(l);
			if (!n || !strncmp(n, CC_JIRA_CORR_PREFIX, strlen(CC_JIRA_CORR_PREFIX)))
				continue;
			if ((!first && cc_buf_add(&b, ", ")) || cc_buf_add(&b, n)) {
				cc_buf_free(&b);
				return NULL;
			}
			first = false;
		}
		return cc_buf_take(&b);
	}
	/* status, priority, resolution, issuetype ...: objects named by `name` */
	if (json_is_object(v)) {
		const char *n = cc_json_text(v, "name");
		if (!n)
			n = cc_json_text(v, "value"); /* a select custom field */
		if (!n) {
			*present = false;
			return NULL;
		}
		return strdup(n);
	}
	char num[64];
	const char *t = cc_json_str(v, num, sizeof(num));
	if (!t) {
		*present = false;
		return NULL;
	}
	return strdup(t);
}

/* The canonical field whose remote name is the changelog item's field or fieldId, or -1. */
static int field_of_item(struct jira *j, json_t *item)
{
	const char *a = cc_json_text(item, "fieldId"), *b = cc_json_text(item, "field");
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		const char *rn = cc_base_remote_name(&j->base, f);
		if (rn && ((a && !strcasecmp(a, rn)) || (b && !strcasecmp(b, rn))))
			return f;
	}
	return -1;
}

/*
 * The changelog of an issue, every page: for each mapped field, the time
 * and author of its last change (into out). Oldest first, so the last
 * entry touching a field wins.
 */
static enum cc_result read_history(struct jira *j, const char *id, const char *op,
                                   struct cc_observation *out, struct cc_call *call)
{
	int64_t when[CC_MAX_FIELDS] = { 0 };
	const char *who[CC_MAX_FIELDS] = { 0 };
	json_t *kept = json_array(); /* the answers the authors point into */
	if (!kept)
		return cc_base_oom(&j->base, call);
	enum cc_result res = CC_OK;
	int64_t start = 0;
	int page = 0;
	for (; page < MAX_HISTORY_PAGES; page++) {
		json_t *ans, *values;
		res = cc_base_get_array(&j->base, op,
		                        cc_strf(API "/issue/%s/changelog?startAt=%" PRId64
		                                "&maxResults=100", id, start),
		                        "values", &ans, &values, "no changelog", id, call);
		if (res != CC_OK)
			break;
		json_array_append_new(kept, ans);
		size_t i, k;
		json_t *h, *item;
		const char *what = NULL;
		json_array_foreach(values, i, h) {
			int64_t t;
			json_t *items = json_object_get(h, "items");
			if (!jira_time(cc_json_text(h, "created"), &t, NULL) || !json_is_array(items)) {
				what = "a changelog entry without created or items";
				break;
			}
			json_array_foreach(items, k, item) {
				int f = field_of_item(j, item);
				if (f >= 0 && t >= when[f]) {
					when[f] = t;
					who[f] = person_of(json_object_get(h, "author"));
				}
			}
		}
		if (what) {
			res = malformed(j, call, op, what, id);
			break;
		}
		size_t n = json_array_size(values);
		json_t *last = json_object_get(ans, "isLast");
		if (n == 0 || json_is_true(last) ||
		    (!json_is_boolean(last) && start + (int64_t)n >= cc_json_int(ans, "total")))
			break;
		start += (int64_t)n;
	}
	if (res == CC_OK && page == MAX_HISTORY_PAGES)
		res = malformed(j, call, op, "more changelog pages than concord reads", id);
	for (int f = 0; res == CC_OK && f < CC_MAX_FIELDS; f++)
		if (when[f] && out->fields[f].present &&
		    cc_base_field_changed(out, f, who[f], when[f]))
			res = cc_base_oom(&j->base, call);
	json_decref(kept);
	return res;
}

/* The issue's comments, every page, oldest first, as text (ADF read by adf.h). */
static enum cc_result read_comments(struct jira *j, const char *id, const char *op,
                                    struct cc_observation *out, struct cc_call *call)
{
	int64_t start = 0;
	for (int page = 0; page < MAX_COMMENT_PAGES; page++) {
		json_t *ans, *items;
		enum cc_result res = cc_base_get_array(
			&j->base, op,
			cc_strf(API "/issue/%s/comment?orderBy=created&startAt=%" PRId64
			        "&maxResults=100", id, start),
			"comments", &ans, &items, "no comment list", id, call);
		if (res != CC_OK)
			return res;
		size_t i;
		json_t *c;
		const char *what = NULL;
		json_array_foreach(items, i, c) {
			const char *cid = cc_json_text(c, "id");
			int64_t at;
			json_t *body = json_object_get(c, "body");
			if (!cid || !json_is_object(body) || !jira_time(cc_json_text(c, "created"), &at, NULL)) {
				what = "a comment without id, body or created";
				break;
			}
			char *text = cc_adf_to_text(body);
			int rc = !text || cc_observation_add_comment(out, cid, text,
			                                             person_of(json_object_get(c, "author")),
			                                             at);
			free(text);
			if (rc) {
				json_decref(ans);
				return cc_base_oom(&j->base, call);
			}
		}
		size_t n = json_array_size(items);
		int64_t total = cc_json_int(ans, "total");
		json_decref(ans);
		if (what)
			return malformed(j, call, op, what, id);
		if (n == 0 || start + (int64_t)n >= total)
			return CC_OK;
		start += (int64_t)n;
	}
	return malformed(j, call, op, "more comment pages than concord reads", id);
}

/* GET of issue id: *issue its JSON, or NULL (and OK) when it is gone (404). */
static enum cc_result get_issue(struct jira *j, const char *id, const char *op, json_t **issue,
                                struct cc_call *call)
{
	long status;
	enum cc_result res = cc_base_request(&j->base, op, "GET",
	                                     cc_strf(API "/issue/%s?fields=%s", id, j->fields), NULL,
	                                     issue, &status, call);
	if (status == 404) {
		json_decref(*issue);
		*issue = NULL;
		call->result = CC_OK;
		call->reason[0] = '\0';
		return CC_OK;
	}
	if (res == CC_OK && (!json_is_object(*issue) ||
	                     !json_is_object(json_object_get(*issue, "fields")))) {
		json_decref(*issue);
		*issue = NULL;
		return malformed(j, call, op, "the issue is not an object with fields", id);
	}
	return res;
}

/* The issue's version and status name, from its JSON. */
static bool issue_version(json_t *issue, int64_t *mtime_s, uint64_t *rv)
{
	return jira_time(cc_json_text(json_object_get(issue, "fields"), "updated"), mtime_s, rv);
}

/*
 * The observation of issue `id` as it is now: the issue (a 404 is a
 * deleted observation), its changelog, its comments.
 */
static enum cc_result observe(struct cc_connector_base *b, const char *id, const char *op,
                              struct cc_observation *out, struct cc_call *call)
{
	struct jira *j = (struct jira *)b;
	json_t *issue = NULL;
	enum cc_result res;
	if (!id_ok(id)) {
		res = cc_call_fail(call, CC_ERROR, "jira: '%.40s' is not an issue id", id);
		goto out;
	}
	if (!(out->remote_id = strdup(id))) {
		res = cc_base_oom(b, call);
		goto out;
	}
	res = get_issue(j, id, op, &issue, call);
	if (res != CC_OK)
		goto out;
	if (!issue) {
		cc_base_gone(out, call);
		goto out;
	}
	json_t *fl = json_object_get(issue, "fields");
	const char *iid = cc_json_text(issue, "id");
	int64_t created;
	json_t *labels = json_object_get(fl, "labels");
	if (!iid || strcmp(iid, id) != 0 || !issue_version(issue, &out->mtime_s, &out->rv) ||
	    !jira_time(cc_json_text(fl, "created"), &created, NULL) ||
	    !json_is_object(json_object_get(fl, "status")) || (labels && !json_is_array(labels))) {
		res = malformed(j, call, op, "an issue without its id, updated, created or status",
		                id);
		goto out;
	}
	out->created_s = created;
	json_t *cf = j->corr_field ? json_object_get(fl, j->corr_field) : NULL;
	if (cf && !json_is_string(cf) && !json_is_null(cf)) {
		res = malformed(j, call, op, "a correlation field that is not text", id);
		goto out;
	}
	const char *corr = corr_of(j, fl);
	if (corr && !(out->correlation_id = strdup(corr))) {
		res = cc_base_oom(b, call);
		goto out;
	}
	/* learnt: this status exists, with its category */
	json_t *st = json_object_get(fl, "status");
	cc_jira_workflow_status(&j->flow, cc_json_text(st, "name"),
	                        cc_json_text(json_object_get(st, "statusCategory"), "key"));
	struct issue iv = { .j = j, .fields = fl };
	if (cc_base_fill_fields(b, out, person_of(json_object_get(fl, "reporter")), issue_value,
	                        &iv)) {
		res = cc_base_oom(b, call);
		goto out;
	}
	res = read_history(j, id, op, out, call);
	if (res == CC_OK)
		res = read_comments(j, id, op, out, call);
out:
	json_decref(issue);
	if (res != CC_OK)
		cc_observation_clear(out);
	else if (!out->deleted)
		cc_seen_put(b->seen, id, out->rv);
	return res;
}

/*
 * Once: the project's statuses with their categories (GET
 * /project/{key}/statuses, which needs no administrator): a path to a
 * status takes steps towards its category, and a status the project does
 * not have is never looked for.
 */
static enum cc_result prepare(struct cc_connector_base *b, struct cc_call *call)
{
	struct jira *j = (struct jira *)b;
	if (j->prepared)
		return CC_OK;
	json_t *types = NULL;
	long status;
	enum cc_result res = cc_base_request(b, "prepare", "GET",
	                                     cc_strf(API "/project/%s/statuses", j->project), NULL,
	                                     &types, &status, call);
	if (res != CC_OK) {
		json_decref(types);
		return res;
	}
	size_t i, k;
	json_t *t, *st;
	const char *what = json_is_array(types) ? NULL : "the project's statuses are not a list";
	json_array_foreach(types, i, t) {
		json_t *sts = json_object_get(t, "statuses");
		if (!json_is_array(sts)) {
			what = "an issue type without its statuses";
			break;
		}
		json_array_foreach(sts, k, st) {
			const char *n = cc_json_text(st, "name");
			if (!n) {
				what = "a status without a name";
				break;
			}
			if (cc_jira_workflow_status(&j->flow, n, cc_json_text(json_object_get(
				                                          st, "statusCategory"), "key"))) {
				json_decref(types);
				return cc_base_oom(b, call);
			}
		}
	}
	json_decref(types);
	if (what)
		return malformed(j, call, "prepare", what, NULL);
	j->prepared = true;
	return CC_OK;
}

/* A poll's reads of one issue, sent ahead for a page's issues at once. */
static char *read_path(struct cc_connector_base *b, const char *id, int pass)
{
	struct jira *j = (struct jira *)b;
	switch (pass) {
	case 0:
		return cc_strf(API "/issue/%s?fields=%s", id, j->fields);
	case 1:
		return cc_strf(API "/issue/%s/changelog?startAt=0&maxResults=100", id);
	case 2:
		return cc_strf(API "/issue/%s/comment?orderBy=created&startAt=0&maxResults=100", id);
	default:
		return NULL;
	}
}

/* ---- search -------------------------------------------------------------- */

/*
 * A search of the project with JQL (POST /search/jql): the JQL and the
 * page token (NULL: the first page); *ans the answer (caller decrefs),
 * *issues borrowed from it.
 */
static enum cc_result search(struct jira *j, const char *op, const char *jql, const char *token,
                             int max, const char *also, json_t **ans, json_t **issues,
                             struct cc_call *call)
{
	json_t *body = json_pack("{s:s, s:i, s:[s]}", "jql", jql, "maxResults", max, "fields",
	                         "updated");
	if (body && also)
		json_array_append_new(json_object_get(body, "fields"), json_string(also));
	if (body && token)
		json_object_set_new(body, "nextPageToken", json_string(token));
	if (!body)
		return cc_base_oom(&j->base, call);
	long status;
	*issues = NULL;
	enum cc_result res = cc_base_request(&j->base, op, "POST", strdup(API "/search/jql"), body,
	                                     ans, &status, call);
	json_decref(body);
	if (res != CC_OK)
		return res;
	*issues = json_object_get(*ans, "issues");
	if (!json_is_array(*issues)) {
		json_decref(*ans);
		*ans = NULL;
		return malformed(j, call, op, "no issue list", NULL);
	}
	return CC_OK;
}

/*
 * One page of the listing: issues updated at or after from_s less a
 * minute (JQL dates have minute precision; the time is given in
 * milliseconds since the epoch, which no time zone changes), oldest first,
 * then by key; page 2 and later follow nextPageToken.
 */
static enum cc_result fetch(struct cc_connector_base *b, struct cc_listing *l, int page,
                            struct cc_call *call)
{
	struct jira *j = (struct jira *)b;
	char *token = NULL;
	if (page == 1) {
		free(j->next);
		j->next = NULL;
	} else {
		token = j->next;
		j->next = NULL;
		if (!token)
			return malformed(j, call, "list", "a page after the last", NULL);
	}
	char *jql = l->from_s > OVERLAP_S
		            ? cc_strf("project = \"%s\" AND updated >= %" PRId64
		                      " ORDER BY updated ASC, key ASC", j->project,
		                      (l->from_s - OVERLAP_S) * 1000)
		            : cc_strf("project = \"%s\" ORDER BY updated ASC, key ASC", j->project);
	if (!jql) {
		free(token);
		return cc_base_oom(b, call);
	}
	json_t *ans, *issues;
	enum cc_result res = search(j, "list", jql, token, PER_PAGE, NULL, &ans, &issues, call);
	free(jql);
	free(token);
	if (res != CC_OK)
		return res;
	const char *what = NULL;
	size_t i;
	json_t *it;
	json_array_foreach(issues, i, it) {
		const char *id = cc_json_text(it, "id");
		int64_t m;
		uint64_t ms;
		if (!id_ok(id) || !issue_version(it, &m, &ms)) {
			what = "an issue without a usable id or updated";
			break;
		}
		if (cc_listing_add(l, id, m, ms)) {
			json_decref(ans);
			return cc_base_oom(b, call);
		}
	}
	json_t *tok = json_object_get(ans, "nextPageToken");
	json_t *last = json_object_get(ans, "isLast");
	if (!what && json_is_string(tok) && !json_is_true(last)) {
		if (!(j->next = strdup(json_string_value(tok))))
			what = "out of memory";
	} else if (!what && tok && !json_is_null(tok) && !json_is_string(tok)) {
		what = "a nextPageToken that is not a string";
	}
	json_decref(ans);
	if (what) {
		free(j->next);
		j->next = NULL;
		return malformed(j, call, "list", what, NULL);
	}
	l->more = j->next != NULL;
	return CC_OK;
}

/*
 * The issue that carries corr, if any (search: it may lag behind a create).
 * A label is matched exactly by JQL. A text custom field takes only
 * CONTAINS (~), a word search: the phrase is asked for, and the issues
 * found are kept only when the field holds exactly corr.
 */
static enum cc_result lookup(struct cc_connector_base *b, const char *corr, char *id,
                             struct cc_call *call)
{
	struct jira *j = (struct jira *)b;
	id[0] = '\0';
	for (const char *p = corr; *p; p++)
		if (*p == '"' || *p == '\\' || *p == ' ')
			return cc_call_fail(call, CC_ERROR, "jira: '%.40s' cannot be a correlation id",
			                    corr);
	char *jql = j->corr_field
		            ? cc_strf("project = \"%s\" AND %s ~ \"\\\"%s\\\"\" ORDER BY created ASC",
		                      j->project, j->corr_jql, corr)
		            : cc_strf("project = \"%s\" AND labels = \"%s\" ORDER BY created ASC",
		                      j->project, corr);
	if (!jql)
		return cc_base_oom(b, call);
	json_t *ans, *issues;
	enum cc_result res = search(j, "find", jql, NULL, j->corr_field ? 20 : 2, j->corr_field,
	                            &ans, &issues, call);
	free(jql);
	if (res != CC_OK)
		return res;
	size_t i;
	json_t *is;
	json_array_foreach(issues, i, is) {
		const char *iid = cc_json_text(is, "id");
		if (!id_ok(iid)) {
			res = malformed(j, call, "find", "an issue without a usable id", NULL);
			break;
		}
		if (j->corr_field) {
			const char *v = json_string_value(
				json_object_get(json_object_get(is, "fields"), j->corr_field));
			if (!v || strcmp(v, corr) != 0)
				continue; /* the words, not the whole value */
		}
		snprintf(id, CC_BASE_ID_MAX, "%s", iid);
		break;
	}
	json_decref(ans);
	return res;
}

/* ---- writes ---------------------------------------------------------------- */

/*
 * Remote fields a PUT of the issue does not set: the status (moved by
 * transitions only), and the resolution unless the issue stays done (a
 * write that moves the status puts it on the transition's screen; an issue
 * that is not done carries none). A resolution changed on an issue that
 * stays done is PUT: sites that put it on the edit screen take it, the
 * others answer 400 "cannot be set", quoted as the write's ERROR.
 */
static bool by_transition(const char *rn, bool moves, bool done)
{
	return !strcmp(rn, "status") || ((moves || !done) && !strcmp(rn, "resolution"));
}

/* Labels: the value's, comma-separated, and the correlation label kept (or added). */
static json_t *labels_of(const char *v, const char *corr)
{
	json_t *a = json_array();
	char *copy = strdup(v);
	if (!a || !copy) {
		json_decref(a);
		free(copy);
		return NULL;
	}
	char *save = NULL;
	for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
		json_array_append_new(a, json_string(t));
	free(copy);
	if (corr)
		json_array_append_new(a, json_string(corr));
	return a;
}

/*
 * The fields of w that an edit (or a create) sets, into fields; moves: a
 * transition follows; done: the issue is done and stays so.
 */
static enum cc_result set_values(struct jira *j, const struct cc_write *w, const char *corr,
                                 bool moves, bool done, json_t *fields, struct cc_call *call)
{
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		const char *rn = cc_base_remote_name(&j->base, f);
		const char *v = w->values[f];
		if (!rn || !v || by_transition(rn, moves, done))
			continue;
		json_t *x;
		if (!strcmp(rn, "description") || !strcmp(rn, "resolution"))
			x = !v[0] ? json_null()
			    : !strcmp(rn, "resolution") ? json_pack("{s:s}", "name", v)
			                                : cc_adf_from_text(v);
		else if (!strcmp(rn, "labels"))
			x = labels_of(v, corr);
		else if (!strcmp(rn, "priority"))
			x = json_pack("{s:s}", "name", v);
		else if (!strcmp(rn, "assignee"))
			x = v[0] ? json_pack("{s:s}", "accountId",
			                     cc_base_user_field(&j->base, f)
			                             ? cc_usermap_remote(&j->base.users, v) : v)
			         : json_null();
		else
			x = json_string(v);
		if (!x || json_object_set_new(fields, rn, x))
			return cc_base_oom(&j->base, call);
	}
	return CC_OK;
}

/* The values of w by remote name, for the transitions' screens. */
static const char *value_of(struct jira *j, const struct cc_write *w, const char *rn)
{
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		const char *r = cc_base_remote_name(&j->base, f);
		if (r && w->values[f] && !strcasecmp(r, rn))
			return w->values[f];
	}
	return NULL;
}

/*
 * The default the configuration names for remote field rn as a companion
 * of status `to` (`companions:` of its value), or NULL. A write carries a
 * companion only when the system does not hold one (core/merge.c); a
 * resolution Jira cleared on a reopen is still held as far as the engine
 * knows (an issue that is not done shows none, not an empty one), so the
 * Done screen of a later write takes the default.
 */
static const char *companion_default(struct jira *j, const char *to, const char *rn)
{
	const struct cc_system_def *sd = &j->base.cfg->systems[j->base.system];
	for (size_t f = 0; f < j->base.cfg->nfields; f++) {
		const struct cc_field_map *m = &sd->map[f];
		if (!m->mapped || !m->remote_name || strcmp(m->remote_name, "status") != 0)
			continue;
		for (size_t e = 0; e < m->nentries; e++) {
			const struct cc_value_entry *ve = &m->entries[e];
			if (!ve->remote || strcasecmp(ve->remote, to) != 0)
				continue;
			for (size_t k = 0; k < ve->ncompanions; k++) {
				const struct cc_field_map *cm = &sd->map[ve->companions[k].field];
				if (cm->mapped && cm->remote_name && !strcmp(cm->remote_name, rn))
					return ve->companions[k].dflt;
			}
		}
	}
	return NULL;
}

/*
 * The fields a transition's screen requires, filled from the write (a
 * resolution from its companion), else from the companion's default
 * (companion_default), into *fields (a new object); ERROR naming a required
 * field neither supplies.
 */
static enum cc_result screen_fields(struct jira *j, const struct cc_write *w, json_t *tr,
                                    json_t **fields, struct cc_call *call)
{
	*fields = json_object();
	if (!*fields)
		return cc_base_oom(&j->base, call);
	const char *key;
	json_t *meta;
	json_object_foreach(json_object_get(tr, "fields"), key, meta) {
		if (!json_is_true(json_object_get(meta, "required")))
			continue;
		const char *v = value_of(j, w, key);
		if (!v || !v[0])
			v = companion_default(j, cc_json_text(json_object_get(tr, "to"), "name"), key);
		if (!v || !v[0]) {
			json_decref(*fields);
			*fields = NULL;
			return cc_call_fail(call, CC_ERROR, "jira: transition '%s' needs field %s, which "
			                    "the write does not carry (a companion of the status, "
			                    "docs/configuration.md)", cc_json_text(tr, "name"), key);
		}
		json_t *x = !strcmp(key, "resolution") || !strcmp(key, "priority")
			            ? json_pack("{s:s}", "name", v) : json_string(v);
		if (!x || json_object_set_new(*fields, key, x)) {
			json_decref(*fields);
			*fields = NULL;
			return cc_base_oom(&j->base, call);
		}
	}
	return CC_OK;
}

/*
 * Moves issue id from status `from` to `to` through the workflow: reads the
 * transitions available now (with their screens' fields), takes the one
 * to `to` when there is one, else the first step of a path the workflow
 * learnt so far gives (workflow.h), one transition after another (at most
 * MAX_STEPS). A status no path reaches is an ERROR (parked, with an
 * alert), never forced.
 */
static enum cc_result transition(struct jira *j, const struct cc_write *w, const char *id,
                                 const char *from, const char *to, struct cc_call *call)
{
	char cur[128];
	snprintf(cur, sizeof(cur), "%s", from);
	char visited[MAX_STEPS + 1][128];
	int nvisited = 0;
	for (int step = 0; step < MAX_STEPS; step++) {
		if (!strcasecmp(cur, to))
			return CC_OK;
		snprintf(visited[nvisited++], sizeof(visited[0]), "%s", cur);
		json_t *ans, *trs;
		enum cc_result res = cc_base_get_array(
			&j->base, "update",
			cc_strf(API "/issue/%s/transitions?expand=transitions.fields", id), "transitions",
			&ans, &trs, "no transition list", id, call);
		if (res != CC_OK)
			return res;
		size_t i;
		json_t *tr, *take = NULL;
		for (i = 0; i < json_array_size(trs); i++) {
			tr = json_array_get(trs, i);
			json_t *dest = json_object_get(tr, "to");
			const char *tid = cc_json_text(tr, "id"), *dn = cc_json_text(dest, "name");
			if (!tid || !dn) {
				json_decref(ans);
				return malformed(j, call, "update", "a transition without id or to.name", id);
			}
			cc_jira_workflow_status(&j->flow, dn,
			                        cc_json_text(json_object_get(dest, "statusCategory"),
			                                     "key"));
			if (cc_jira_workflow_edge(&j->flow, cur, dn)) {
				json_decref(ans);
				return cc_base_oom(&j->base, call);
			}
		}
		char hop[128];
		const char *seen[MAX_STEPS + 1];
		for (int k = 0; k < nvisited; k++)
			seen[k] = visited[k];
		bool found = cc_jira_workflow_next(&j->flow, cur, to, seen, (size_t)nvisited, hop,
		                                   sizeof(hop));
		for (i = 0; found && !take && i < json_array_size(trs); i++) {
			tr = json_array_get(trs, i);
			if (!strcasecmp(cc_json_text(json_object_get(tr, "to"), "name"), hop))
				take = tr;
		}
		if (!take) {
			json_decref(ans);
			return cc_call_fail(call, CC_ERROR, "jira: no transition path from status '%s' to "
			                    "'%s' in the workflow of issue %s: not forced", cur, to, id);
		}
		json_t *fields;
		res = screen_fields(j, w, take, &fields, call);
		json_t *body = res == CC_OK ? json_pack("{s:{s:s}, s:o}", "transition", "id",
		                                        cc_json_text(take, "id"), "fields", fields)
		                            : NULL;
		json_decref(ans);
		if (res != CC_OK)
			return res;
		if (!body)
			return cc_base_oom(&j->base, call);
		long status;
		res = cc_base_request(&j->base, "update", "POST",
		                      cc_strf(API "/issue/%s/transitions", id), body, NULL, &status,
		                      call);
		json_decref(body);
		if (res != CC_OK)
			return res;
		snprintf(cur, sizeof(cur), "%s", hop);
	}
	return strcasecmp(cur, to) ? cc_call_fail(call, CC_ERROR, "jira: status '%s' is more than %d "
	                                          "transitions away from '%s' on issue %s", to,
	                                          MAX_STEPS, from, id)
	                           : CC_OK;
}

/*
 * Reads the issue (its version must be w->expected_rv: the API has no
 * conditional write, so the version is read just before, as for Redmine),
 * PUTs the fields an edit sets, then moves the status through the
 * workflow when the write changes it.
 */
static enum cc_result write(struct cc_connector_base *b, const struct cc_write *w, bool *wrote,
                            char *why, size_t why_len, struct cc_call *call)
{
	struct jira *j = (struct jira *)b;
	const char *id = w->remote_id;
	*wrote = false;
	if (!id_ok(id))
		return cc_call_fail(call, CC_ERROR, "jira: '%.40s' is not an issue id", id);
	json_t *issue;
	enum cc_result res = get_issue(j, id, "update", &issue, call);
	if (res != CC_OK)
		return res;
	if (!issue)
		return cc_call_fail(call, CC_ERROR, "jira: issue %s is gone", id);
	int64_t m;
	uint64_t rv;
	json_t *fl = json_object_get(issue, "fields");
	const char *status = cc_json_text(json_object_get(fl, "status"), "name");
	if (!issue_version(issue, &m, &rv) || !status) {
		json_decref(issue);
		return malformed(j, call, "update", "an issue without updated or status", id);
	}
	if (w->expected_rv && rv != w->expected_rv) {
		json_decref(issue);
		return cc_call_fail(call, CC_CONFLICT, "jira: issue %s moved (version %" PRIu64
		                    ", expected %" PRIu64 ")", id, rv, w->expected_rv);
	}
	char from[128];
	snprintf(from, sizeof(from), "%s", status);
	const char *cat = cc_json_text(json_object_get(json_object_get(fl, "status"),
	                                               "statusCategory"), "key");
	bool from_done = cat && !strcmp(cat, "done");
	/* the correlation label a labels write keeps (with a custom field: one
	 * set before the field was chosen, if any) */
	const char *corr = w->correlation_id && !j->corr_field
		                   ? w->correlation_id
		                   : corr_label(json_object_get(fl, "labels"));
	char corr_copy[96] = "";
	if (corr)
		snprintf(corr_copy, sizeof(corr_copy), "%s", corr);
	json_decref(issue);
	const char *target = value_of(j, w, "status");
	bool moves = target && target[0] && strcasecmp(target, from);
	bool done = !moves && from_done;
	json_t *fields = json_object();
	if (!fields)
		return cc_base_oom(b, call);
	res = set_values(j, w, corr_copy[0] ? corr_copy : NULL, moves, done, fields, call);
	if (res == CC_OK && w->correlation_id && j->corr_field &&
	    json_object_set_new(fields, j->corr_field, json_string(w->correlation_id)))
		res = cc_base_oom(b, call); /* the stamp goes with the fields' PUT */
	if (res == CC_OK && w->correlation_id && !j->corr_field &&
	    !json_object_get(fields, "labels")) {
		/* the stamp alone: the label added, the others kept */
		json_t *up = json_pack("{s:{s:[{s:s}]}}", "update", "labels", "add",
		                       w->correlation_id);
		long st;
		*wrote = true;
		res = up ? cc_base_request(b, "update", "PUT", cc_strf(API "/issue/%s", id), up, NULL,
		                           &st, call)
		         : cc_base_oom(b, call);
		json_decref(up);
	}
	/*
	 * a resolution goes alone, last: a site whose edit screen lacks it
	 * refuses it (400), and the other fields must not be refused with it
	 */
	json_t *resolution = json_object_get(fields, "resolution");
	if (resolution) {
		json_incref(resolution);
		json_object_del(fields, "resolution");
	}
	for (int put = 0; put < 2 && res == CC_OK; put++) {
		json_t *part = put == 0 ? fields : resolution;
		if (!part || (put == 0 && !json_object_size(fields)))
			continue;
		json_t *body = put == 0 ? json_pack("{s:O}", "fields", fields)
		                        : json_pack("{s:{s:O}}", "fields", "resolution", resolution);
		long st;
		*wrote = true;
		res = body ? cc_base_request(b, "update", "PUT", cc_strf(API "/issue/%s", id), body,
		                             NULL, &st, call)
		           : cc_base_oom(b, call);
		json_decref(body);
	}
	json_decref(resolution);
	json_decref(fields);
	if (res == CC_OK && moves) {
		res = prepare(b, call);
		if (res == CC_OK) {
			*wrote = true;
			res = transition(j, w, id, from, target, call);
		}
	}
	if (res != CC_OK)
		snprintf(why, why_len, "%s", call->reason);
	return res;
}

/*
 * A new issue: the project, the issue type, the values an edit sets and
 * the correlation id (a label, or the custom field); the summary, which
 * Jira requires, defaults to the correlation id. The status follows
 * through transitions (created).
 */
static enum cc_result create_body(struct cc_connector_base *b, const struct cc_write *w,
                                  json_t **body, struct cc_call *call)
{
	struct jira *j = (struct jira *)b;
	json_t *fields = json_pack("{s:{s:s}, s:{s:s}, s:s}", "project", "key", j->project,
	                           "issuetype", "name", j->issue_type, "summary", w->correlation_id);
	*body = fields ? json_pack("{s:o}", "fields", fields) : NULL;
	if (!*body)
		return cc_base_oom(b, call);
	const char *label = j->corr_field ? NULL : w->correlation_id;
	if (json_object_set_new(fields, j->corr_field ? j->corr_field : "labels",
	                        j->corr_field ? json_string(w->correlation_id)
	                                      : json_pack("[s]", w->correlation_id))) {
		json_decref(*body);
		*body = NULL;
		return cc_base_oom(b, call);
	}
	/* the status follows the create (created): so does a resolution */
	enum cc_result res = set_values(j, w, label, true, false, fields, call);
	if (res != CC_OK) {
		json_decref(*body);
		*body = NULL;
	}
	return res;
}

/* After the create: the status, through the workflow, then the issue as it is. */
static enum cc_result created(struct cc_connector_base *b, const struct cc_write *w,
                              const char *id, struct cc_observation *out, struct cc_call *call)
{
	struct jira *j = (struct jira *)b;
	const char *target = value_of(j, w, "status");
	if (target && target[0]) {
		json_t *issue;
		enum cc_result res = get_issue(j, id, "create", &issue, call);
		if (res != CC_OK)
			return res;
		const char *st = cc_json_text(json_object_get(json_object_get(issue, "fields"),
		                                              "status"), "name");
		char from[128];
		snprintf(from, sizeof(from), "%s", st ? st : "");
		json_decref(issue);
		if (!st)
			return malformed(j, call, "create", "an issue without status", id);
		if (strcasecmp(from, target)) {
			res = prepare(b, call);
			if (res == CC_OK)
				res = transition(j, w, id, from, target, call);
			if (res != CC_OK) {
				call->outcome_unknown = false; /* created: only its status is not */
				if (res != CC_ERROR)
					return res;
				/* the issue as it is, read below: an OK create names its issue */
				call->result = CC_OK;
				call->reason[0] = '\0';
			}
		}
	}
	return cc_base_observe(b, id, "create", out, call);
}

static enum cc_result comment(struct cc_connector_base *b, const char *id, const char *body,
                              struct cc_call *call)
{
	struct jira *j = (struct jira *)b;
	j->comment[0] = '\0';
	if (!id_ok(id))
		return cc_call_fail(call, CC_ERROR, "jira: '%.40s' is not an issue id", id);
	json_t *doc = cc_adf_from_text(body);
	json_t *req = doc ? json_pack("{s:o}", "body", doc) : NULL;
	json_t *ans = NULL;
	long status;
	enum cc_result res = req ? cc_base_request(b, "comment", "POST",
	                                           cc_strf(API "/issue/%s/comment", id), req, &ans,
	                                           &status, call)
	                         : cc_base_oom(b, call);
	json_decref(req);
	const char *cid = res == CC_OK ? cc_json_text(ans, "id") : NULL;
	if (cid && strlen(cid) < sizeof(j->comment))
		snprintf(j->comment, sizeof(j->comment), "%s", cid);
	json_decref(ans);
	return res;
}

static enum cc_result comment_id(struct cc_connector_base *b, const char *id, const char *body,
                                 char **out_id, struct cc_call *call)
{
	struct jira *j = (struct jira *)b;
	(void)id;
	(void)body;
	*out_id = j->comment[0] ? strdup(j->comment) : NULL;
	if (j->comment[0] && !*out_id)
		return cc_base_oom(b, call);
	return CC_OK;
}

/* ---- webhook ----------------------------------------------------------- */

/*
 * A Jira webhook body ({"webhookEvent": "jira:issue_updated", "issue":
 * {"id": ...}, ...}; comment events carry the issue too): only the id is
 * believed, the issue is read as it is now. An issue of another project
 * is none of this system's (an empty page).
 */
static enum cc_result jira_webhook(void *self, const char *body, size_t len,
                                   struct cc_page *pg, struct cc_call *call)
{
	struct jira *j = self;
	memset(pg, 0, sizeof(*pg));
	json_t *doc = json_loadb(body, len, 0, NULL);
	json_t *issue = json_object_get(doc, "issue");
	const char *ev = cc_json_text(doc, "webhookEvent");
	const char *id = cc_json_text(issue, "id");
	const char *key = cc_json_text(issue, "key");
	char idb[CC_BASE_ID_MAX];
	bool ok = ev && id_ok(id);
	bool ours = false;
	if (ok) {
		size_t pn = strlen(j->project);
		/* a key is PROJECT-N; without one, read it: observe checks nothing more */
		ours = !key || (!strncasecmp(key, j->project, pn) && key[pn] == '-');
		snprintf(idb, sizeof(idb), "%s", id);
	}
	json_decref(doc);
	if (!ok)
		return malformed(j, call, "webhook", "not {webhookEvent, issue: {id}}", NULL);
	if (!ours)
		return CC_OK;
	return cc_base_webhook_read(&j->base, idb, pg, call);
}

/* ---- the connector ------------------------------------------------------ */

static int init(struct cc_connector_base *b, const struct cc_connector_setup *st, char *err,
                size_t errlen)
{
	struct jira *j = (struct jira *)b;
	if (!st->secret || !st->secret[0]) {
		snprintf(err, errlen, "jira: the system's token (the account's API token) is required");
		return CC_EINVAL;
	}
	if (!st->base_url || !st->base_url[0]) {
		snprintf(err, errlen, "jira: the system's url (https://SITE.atlassian.net) is required");
		return CC_EINVAL;
	}
	const char *email = cc_setup_setting(st, "email");
	const char *project = cc_setup_setting(st, "project");
	const char *type = cc_setup_setting(st, "issue_type");
	if (!email || !email[0] || !project || !project[0]) {
		snprintf(err, errlen, "jira: settings email and project are required");
		return CC_EINVAL;
	}
	for (const char *p = project; *p; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) {
			snprintf(err, errlen, "jira: project '%.40s' is not a project key (A-Z, 0-9, _)",
			         project);
			return CC_EINVAL;
		}
	}
	const char *cf = cc_setup_setting(st, "correlation_field");
	if (cf && cf[0]) {
		const char *n = !strncmp(cf, "customfield_", 12) ? cf + 12 : "";
		size_t digits = strspn(n, "0123456789");
		if (!digits || n[digits] || digits > 12) {
			snprintf(err, errlen, "jira: correlation_field '%.40s' is not a custom field id "
			         "(customfield_NNNNN, a text field)", cf);
			return CC_EINVAL;
		}
		snprintf(j->corr_jql, sizeof(j->corr_jql), "cf[%s]", n);
		if (!(j->corr_field = strdup(cf))) {
			snprintf(err, errlen, "jira: out of memory");
			return CC_ENOMEM;
		}
	}
	j->email = strdup(email);
	j->project = strdup(project);
	j->issue_type = strdup(type && type[0] ? type : "Task");
	/* what GET issue asks for: the mapped fields and what the connector needs */
	struct cc_buf f = { 0 };
	int rc = cc_buf_add(&f, "updated,created,status,labels,reporter");
	if (rc == 0 && j->corr_field)
		rc = cc_buf_add(&f, ",") || cc_buf_add(&f, j->corr_field);
	for (int k = 0; rc == 0 && k < CC_MAX_FIELDS; k++) {
		const char *rn = cc_base_remote_name(b, k);
		if (!rn || !strcmp(rn, "updated") || !strcmp(rn, "created") || !strcmp(rn, "status") ||
		    !strcmp(rn, "labels") || !strcmp(rn, "reporter"))
			continue;
		if (j->corr_field && !strcmp(rn, j->corr_field)) {
			cc_buf_free(&f);
			snprintf(err, errlen, "jira: field '%.40s' holds the correlation id; "
			         "it cannot be mapped too", rn);
			return CC_EINVAL;
		}
		for (const char *p = rn; *p; p++) {
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '_')) {
				cc_buf_free(&f);
				snprintf(err, errlen, "jira: '%.40s' is not a Jira field id", rn);
				return CC_EINVAL;
			}
		}
		rc = cc_buf_add(&f, ",") || cc_buf_add(&f, rn);
	}
	j->fields = rc ? NULL : cc_buf_take(&f);
	cc_buf_free(&f);
	if (!j->email || !j->project || !j->issue_type || !j->fields ||
	    cc_jira_workflow_init(&j->flow)) {
		snprintf(err, errlen, "jira: out of memory");
		return CC_ENOMEM;
	}
	return CC_EOK;
}

/* Basic: base64 of email:token. */
static char *credential(struct cc_connector_base *b, const char *secret)
{
	return cc_basic_credential(((struct jira *)b)->email, secret);
}

static void clear(struct cc_connector_base *b)
{
	struct jira *j = (struct jira *)b;
	free(j->email);
	free(j->project);
	free(j->issue_type);
	free(j->fields);
	free(j->corr_field);
	free(j->next);
	cc_jira_workflow_clear(&j->flow);
}

/* Jira as the HTTP connector base sees it (base.h). */
static const struct cc_base_ops jira_base = {
	.who = "jira", .record = "issue", .place = "project",
	.size = sizeof(struct jira),
	.auth_name = "Authorization", .auth_prefix = "Basic ", .credential = credential,
	.create_path = API "/issue", .create_id = "id",
	.per_page = PER_PAGE,
	.init = init, .clear = clear,
	.prepare = prepare,            /* the project's statuses, once */
	.fetch = fetch,                /* search/jql by updated, nextPageToken */
	.read_path = read_path,        /* the issue, its changelog, its comments at once */
	.observe = observe,
	.lookup = lookup,              /* search of the correlation label (or field) */
	.create_body = create_body,    /* POST issue with the label (or field) */
	.created = created,            /* then the status through the workflow */
	.write = write,                /* read, PUT the fields, transitions */
	.comment = comment, .comment_id = comment_id, /* ADF */
	.webhook = jira_webhook,       /* {"issue": {"id"}}: read it */
};

static const struct cc_setting_row jira_settings[] = {
	{ "email", true, NULL, "the Atlassian account of the API token (Basic auth)" },
	{ "project", true, NULL, "the project key (issues of this project are synced)" },
	{ "issue_type", false, "Task", "the issue type of the issues concord creates" },
	{ "correlation_field", false, NULL,
	  "a text custom field (customfield_NNNNN) that holds the correlation id instead of a label" },
	{ NULL, false, NULL, NULL },
};

/* A Done transition's screen commonly requires a resolution. */
static const struct cc_companion_need jira_needs[] = {
	{ "status", (const char *const[]){ "Done", NULL },
	  (const char *const[]){ "resolution", NULL },
	  "a Done transition's screen requires a resolution" },
	{ NULL, NULL, NULL, NULL },
};

const struct cc_connector_kind cc_jira_kind = {
	.kind = "jira",
	.description = "Jira Cloud issues, REST API v3 (docs/connectors/jira.md)",
	.create = cc_base_new, .settings = jira_settings, .impl = &jira_base,
	.needs = jira_needs,
};
