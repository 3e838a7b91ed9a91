/*
 * The Jira connector: the learnt workflow's paths (src/connectors/jira/
 * workflow.c), and the connector's requests through the HTTP client's
 * stand-in transport, against a small Jira of the test's own (one issue,
 * the workflow To Do -> In Progress -> In Review -> Done with a resolution
 * on the Done screen, Reopen back to To Do): the listing's JQL and
 * nextPageToken, a status three transitions away reached along its path
 * with the resolution filled from the write, a status the project does
 * not have never forced, and a moved issue a CONFLICT without a write.
 */
#include "connectors/jira/workflow.h"
#include "connectors/registry.h"
#include "connectors/seen.h"
#include "core/buf.h"
#include "core/types.h"
#include "http/client.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the workflow ---- */

static bool next(struct cc_jira_workflow *w, const char *from, const char *to,
                 const char *const *visited, size_t n, char *hop)
{
	return cc_jira_workflow_next(w, from, to, visited, n, hop, 64);
}

static void test_workflow_paths(void **state)
{
	(void)state;
	struct cc_jira_workflow w;
	char hop[64];
	assert_int_equal(cc_jira_workflow_init(&w), CC_EOK);
	assert_int_equal(cc_jira_workflow_status(&w, "To Do", "new"), CC_EOK);
	assert_int_equal(cc_jira_workflow_status(&w, "In Progress", "indeterminate"), CC_EOK);
	assert_int_equal(cc_jira_workflow_status(&w, "In Review", "indeterminate"), CC_EOK);
	assert_int_equal(cc_jira_workflow_status(&w, "Done", "done"), CC_EOK);
	assert_int_equal(cc_jira_workflow_status(&w, NULL, "done"), CC_EOK); /* ignored */

	/* only To Do's transitions seen: a step towards Done's category */
	assert_int_equal(cc_jira_workflow_edge(&w, "To Do", "In Progress"), CC_EOK);
	assert_true(next(&w, "To Do", "Done", NULL, 0, hop));
	assert_string_equal(hop, "In Progress");
	/* In Progress: back to To Do (further from done, and visited) or on to In Review */
	assert_int_equal(cc_jira_workflow_edge(&w, "In Progress", "To Do"), CC_EOK);
	assert_int_equal(cc_jira_workflow_edge(&w, "In Progress", "In Review"), CC_EOK);
	const char *v1[] = { "To Do" };
	assert_true(next(&w, "In Progress", "Done", v1, 1, hop));
	assert_string_equal(hop, "In Review");
	/* never away from the target's category, visited or not */
	const char *v2[] = { "In Review" };
	assert_false(next(&w, "In Progress", "Done", v2, 1, hop));
	/* a status nobody has seen is not looked for */
	assert_false(next(&w, "To Do", "Blocked", NULL, 0, hop));
	/* once the whole path is known: its first step, names in any case */
	assert_int_equal(cc_jira_workflow_edge(&w, "In Review", "Done"), CC_EOK);
	assert_int_equal(cc_jira_workflow_edge(&w, "Done", "To Do"), CC_EOK);
	assert_int_equal(cc_jira_workflow_edge(&w, "Done", "To Do"), CC_EOK); /* once */
	assert_int_equal(w.ne, 5);
	assert_true(next(&w, "to do", "DONE", NULL, 0, hop));
	assert_string_equal(hop, "In Progress");
	assert_true(next(&w, "Done", "In Review", NULL, 0, hop));
	assert_string_equal(hop, "To Do");
	assert_true(next(&w, "In Review", "Done", NULL, 0, hop));
	assert_string_equal(hop, "Done");
	cc_jira_workflow_clear(&w);
}

/* ---- a small Jira on the stand-in transport ---- */

struct seen {
	char method[8], url[512], body[2048];
};
static struct seen g_req[32];
static int g_n;
static char g_status[32];      /* the issue's status */
static char g_resolution[32];  /* "" when none */
static int64_t g_updated_ms;
static char g_answer[4096];
static const char *g_list;     /* the search answer */
static const char *g_statuses; /* the project's statuses answer (NULL: the workflow's) */
static const char *g_extra;    /* more members of the issue's fields (",\"k\":v"), or NULL */

static const char *category(const char *st)
{
	return !strcmp(st, "To Do") ? "new" : !strcmp(st, "Done") ? "done" : "indeterminate";
}

/* From the issue's status: [id, to, needs resolution] */
static const struct {
	const char *from, *id, *to;
	bool resolution;
} g_flow[] = {
	{ "To Do", "11", "In Progress", false }, { "In Progress", "21", "To Do", false },
	{ "In Progress", "31", "In Review", false }, { "In Review", "41", "In Progress", false },
	{ "In Review", "51", "Done", true }, { "Done", "61", "To Do", false },
};

/* The issue's `updated`, as Jira writes it. */
static void updated_text(char *when, size_t len)
{
	time_t s = (time_t)(g_updated_ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	char t[32];
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when, len, "%s.%03d+0000", t, (int)(g_updated_ms % 1000));
}

static void issue_json(void)
{
	char when[48];
	updated_text(when, sizeof(when));
	snprintf(g_answer, sizeof(g_answer),
	         "{\"id\":\"10001\",\"key\":\"EMU-1\",\"fields\":{\"summary\":\"Printer\","
	         "\"updated\":\"%s\",\"created\":\"2026-12-01T10:00:00.000+1100\","
	         "\"status\":{\"name\":\"%s\",\"statusCategory\":{\"key\":\"%s\"}},"
	         "\"labels\":[\"concord-1\"],\"resolution\":%s%s%s%s}}",
	         when, g_status, category(g_status),
	         g_resolution[0] ? "{\"name\":\"" : "null", g_resolution,
	         g_resolution[0] ? "\"}" : "", g_extra ? g_extra : "");
}

static void exchange(void *ctx, const char *method, const char *url, const char *body,
                     const char *if_match, struct cc_http_raw_answer *out)
{
	(void)ctx, (void)if_match;
	struct seen *s = &g_req[g_n < 32 ? g_n : 31];
	g_n++;
	snprintf(s->method, sizeof(s->method), "%s", method);
	snprintf(s->url, sizeof(s->url), "%s", url);
	snprintf(s->body, sizeof(s->body), "%s", body ? body : "");
	long status = 200;
	if (strstr(url, "/project/EMU/statuses") && g_statuses) {
		snprintf(g_answer, sizeof(g_answer), "%s", g_statuses);
	} else if (strstr(url, "/project/EMU/statuses")) {
		snprintf(g_answer, sizeof(g_answer), "[{\"name\":\"Task\",\"statuses\":["
		         "{\"name\":\"To Do\",\"statusCategory\":{\"key\":\"new\"}},"
		         "{\"name\":\"In Progress\",\"statusCategory\":{\"key\":\"indeterminate\"}},"
		         "{\"name\":\"In Review\",\"statusCategory\":{\"key\":\"indeterminate\"}},"
		         "{\"name\":\"Done\",\"statusCategory\":{\"key\":\"done\"}}]}]");
	} else if (strstr(url, "/search/jql")) {
		snprintf(g_answer, sizeof(g_answer), "%s", g_list ? g_list : "{\"issues\":[]}");
	} else if (strstr(url, "/transitions") && !strcmp(method, "GET")) {
		struct cc_buf b = { 0 };
		cc_buf_add(&b, "{\"transitions\":[");
		bool first = true;
		for (size_t i = 0; i < sizeof(g_flow) / sizeof(g_flow[0]); i++) {
			if (strcmp(g_flow[i].from, g_status))
				continue;
			char t[300];
			snprintf(t, sizeof(t), "%s{\"id\":\"%s\",\"name\":\"t%s\",\"to\":{\"name\":\"%s\","
			         "\"statusCategory\":{\"key\":\"%s\"}},\"fields\":{%s}}", first ? "" : ",",
			         g_flow[i].id, g_flow[i].id, g_flow[i].to, category(g_flow[i].to),
			         g_flow[i].resolution ? "\"resolution\":{\"required\":true}" : "");
			cc_buf_add(&b, t);
			first = false;
		}
		cc_buf_add(&b, "]}");
		snprintf(g_answer, sizeof(g_answer), "%.*s", (int)b.len, (const char *)b.data);
		cc_buf_free(&b);
	} else if (strstr(url, "/transitions")) {
		json_t *j = json_loads(body, 0, NULL);
		const char *id = json_string_value(json_object_get(json_object_get(j, "transition"),
		                                                   "id"));
		status = 400;
		snprintf(g_answer, sizeof(g_answer), "{\"errorMessages\":[\"not valid\"]}");
		for (size_t i = 0; id && i < sizeof(g_flow) / sizeof(g_flow[0]); i++) {
			if (strcmp(g_flow[i].from, g_status) || strcmp(g_flow[i].id, id))
				continue;
			const char *res = json_string_value(json_object_get(
				json_object_get(json_object_get(j, "fields"), "resolution"), "name"));
			if (g_flow[i].resolution && !res)
				break;
			snprintf(g_status, sizeof(g_status), "%s", g_flow[i].to);
			if (res)
				snprintf(g_resolution, sizeof(g_resolution), "%s", res);
			g_updated_ms += 1000;
			status = 204;
			g_answer[0] = '\0';
		}
		json_decref(j);
	} else if (strstr(url, "/changelog")) {
		snprintf(g_answer, sizeof(g_answer), "{\"startAt\":0,\"total\":0,\"isLast\":true,"
		         "\"values\":[]}");
	} else if (strstr(url, "/comment")) {
		snprintf(g_answer, sizeof(g_answer), "{\"startAt\":0,\"total\":0,\"comments\":[]}");
	} else if (!strcmp(method, "PUT")) {
		/* an edit screen with the resolution on it */
		json_t *j = json_loads(body, 0, NULL);
		const char *res = json_string_value(json_object_get(
			json_object_get(json_object_get(j, "fields"), "resolution"), "name"));
		if (res)
			snprintf(g_resolution, sizeof(g_resolution), "%s", res);
		json_decref(j);
		g_updated_ms += 1000;
		status = 204;
		g_answer[0] = '\0';
	} else {
		issue_json();
	}
	*out = (struct cc_http_raw_answer){ .status = status, .body = g_answer,
		                            .body_len = strlen(g_answer) };
}

static const struct cc_http_transport g_transport = { exchange, NULL };

enum { F_TITLE, F_STATE, F_RESOLUTION, F_COUNT };

static struct cc_config g_cfg;
static struct cc_seen *g_seen; /* the seen cache the next connector shares, or NULL */
static const char *g_corr_field; /* the next connector's correlation_field, or NULL */

static void connector(struct cc_connector *c)
{
	cc_config_defaults(&g_cfg);
	const char *names[] = { "title", "state", "resolution" };
	const char *rn[] = { "summary", "status", "resolution" };
	for (int f = 0; f < F_COUNT; f++) {
		g_cfg.fields[f] = (struct cc_field_def){ .name = names[f], .type = CC_FT_STRING };
		g_cfg.systems[0].map[f] = (struct cc_field_map){ .mapped = true, .remote_name = rn[f] };
	}
	g_cfg.nfields = F_COUNT;
	g_cfg.nsystems = 1;
	g_cfg.systems[0].name = g_cfg.systems[0].kind = "jira";
	static struct cc_connector_setting st[] = { { "email", "ada@example.com" },
		                                    { "project", "EMU" },
		                                    { "correlation_field", NULL } };
	st[2].value = g_corr_field;
	struct cc_connector_setup setup = { .base_url = "https://site.example", .secret = "tok",
		                            .cfg = &g_cfg, .settings = st,
		                            .nsettings = g_corr_field ? 3 : 2,
		                            .transport = &g_transport, .seen = g_seen };
	char err[200];
	assert_int_equal(cc_connector_create(c, "jira", &setup, err, sizeof(err)), 0);
	snprintf(g_status, sizeof(g_status), "To Do");
	g_resolution[0] = '\0';
	g_updated_ms = 1796000000123LL;
	g_n = 0;
	g_list = NULL;
}

static int count(const char *method, const char *part)
{
	int n = 0;
	for (int i = 0; i < g_n && i < 32; i++)
		n += !strcmp(g_req[i].method, method) && strstr(g_req[i].url, part) != NULL;
	return n;
}

/* Done is three transitions away: taken one by one, the resolution on the last screen. */
static void test_status_along_its_path(void **state)
{
	(void)state;
	struct cc_connector c;
	connector(&c);
	struct cc_write w = { .remote_id = "10001", .expected_rv = (uint64_t)g_updated_ms };
	w.values[F_STATE] = "Done";
	w.values[F_RESOLUTION] = "Won't Do";
	struct cc_observation o;
	struct cc_call call = { 0 };
	assert_int_equal(c.ops->update(c.self, &w, &o, &call), CC_OK);
	assert_string_equal(g_status, "Done");
	assert_string_equal(g_resolution, "Won't Do");
	assert_int_equal(count("POST", "/transitions"), 3);
	assert_int_equal(count("PUT", "/issue/10001"), 0); /* nothing an edit sets */
	/* the order: 11, 31, 51 (with the resolution) */
	int k = 0;
	const char *want[] = { "\"11\"", "\"31\"", "\"51\"" };
	for (int i = 0; i < g_n && i < 32; i++) {
		if (strcmp(g_req[i].method, "POST") || !strstr(g_req[i].url, "/transitions"))
			continue;
		assert_non_null(strstr(g_req[i].body, want[k]));
		k++;
	}
	assert_non_null(strstr(g_req[g_n - 1 < 31 ? g_n - 1 : 31].url, "/rest/api/3/"));
	assert_string_equal(o.fields[F_STATE].value, "Done");
	assert_string_equal(o.fields[F_RESOLUTION].value, "Won't Do");
	cc_observation_clear(&o);

	/* back to To Do: one transition, no resolution needed */
	g_n = 0;
	w.expected_rv = (uint64_t)g_updated_ms;
	w.values[F_STATE] = "To Do";
	w.values[F_RESOLUTION] = NULL;
	memset(&call, 0, sizeof(call));
	assert_int_equal(c.ops->update(c.self, &w, &o, &call), CC_OK);
	assert_int_equal(count("POST", "/transitions"), 1);
	assert_string_equal(g_status, "To Do");
	cc_observation_clear(&o);

	/* a resolution changed while the status stays: an edit, no transition */
	snprintf(g_status, sizeof(g_status), "Done");
	snprintf(g_resolution, sizeof(g_resolution), "Done");
	g_n = 0;
	w.expected_rv = (uint64_t)g_updated_ms;
	w.values[F_STATE] = NULL;
	w.values[F_RESOLUTION] = "Duplicate";
	memset(&call, 0, sizeof(call));
	assert_int_equal(c.ops->update(c.self, &w, &o, &call), CC_OK);
	assert_int_equal(count("POST", "/transitions"), 0);
	assert_int_equal(count("PUT", "/issue/10001"), 1);
	assert_string_equal(g_resolution, "Duplicate");
	cc_observation_clear(&o);
	c.ops->destroy(c.self);
}

/* A status the project does not have, or Done without a resolution: ERROR, nothing forced. */
static void test_status_never_forced(void **state)
{
	(void)state;
	struct cc_connector c;
	connector(&c);
	struct cc_write w = { .remote_id = "10001", .expected_rv = (uint64_t)g_updated_ms };
	w.values[F_STATE] = "Blocked";
	struct cc_observation o;
	struct cc_call call = { 0 };
	assert_int_equal(c.ops->update(c.self, &w, &o, &call), CC_ERROR);
	assert_non_null(strstr(call.reason, "no transition path"));
	assert_int_equal(count("POST", "/transitions"), 0);
	assert_string_equal(g_status, "To Do");
	cc_observation_clear(&o);

	/* Done without the resolution its screen requires: the two steps before it only */
	g_n = 0;
	w.values[F_STATE] = "Done";
	memset(&call, 0, sizeof(call));
	assert_int_equal(c.ops->update(c.self, &w, &o, &call), CC_ERROR);
	assert_non_null(strstr(call.reason, "needs field resolution"));
	assert_int_equal(count("POST", "/transitions"), 2);
	assert_string_equal(g_status, "In Review");
	cc_observation_clear(&o);

	/* ... unless the configuration names a companion default for Done's resolution */
	static const struct cc_companion comp[] = { { F_RESOLUTION, "Cannot Reproduce" } };
	static const char *const done_set[] = { "resolved", NULL };
	static struct cc_value_entry done = { .remote = "Done", .canonical = done_set,
		                              .companions = comp, .ncompanions = 1 };
	g_cfg.systems[0].map[F_STATE].entries = &done;
	g_cfg.systems[0].map[F_STATE].nentries = 1;
	g_n = 0;
	w.expected_rv = (uint64_t)g_updated_ms;
	memset(&call, 0, sizeof(call));
	assert_int_equal(c.ops->update(c.self, &w, &o, &call), CC_OK);
	assert_string_equal(g_status, "Done");
	assert_string_equal(g_resolution, "Cannot Reproduce");
	cc_observation_clear(&o);
	g_cfg.systems[0].map[F_STATE].entries = NULL;
	g_cfg.systems[0].map[F_STATE].nentries = 0;
	snprintf(g_status, sizeof(g_status), "To Do");
	g_resolution[0] = '\0';

	/* moved since the version expected: CONFLICT, nothing written */
	g_n = 0;
	w.expected_rv = (uint64_t)g_updated_ms - 1;
	memset(&call, 0, sizeof(call));
	assert_int_equal(c.ops->update(c.self, &w, &o, &call), CC_CONFLICT);
	assert_int_equal(count("POST", "/transitions"), 0);
	assert_int_equal(count("PUT", "/issue"), 0);
	cc_observation_clear(&o);
	c.ops->destroy(c.self);
}

/* The last request whose URL holds part, or NULL. */
static const struct seen *last(const char *method, const char *part)
{
	for (int i = (g_n < 32 ? g_n : 32) - 1; i >= 0; i--)
		if (!strcmp(g_req[i].method, method) && strstr(g_req[i].url, part))
			return &g_req[i];
	return NULL;
}

/*
 * correlation_field: the id in a text custom field. The lookup asks JQL's
 * CONTAINS for the phrase (a text field takes no '=') and keeps only the
 * issue whose field holds exactly the id; a create sets the field and no
 * label; a stamp is the field in the edit.
 */
static void test_correlation_field(void **state)
{
	(void)state;
	struct cc_connector c;
	g_corr_field = "customfield_10042";
	connector(&c);
	g_corr_field = NULL;
	g_list = "{\"issues\":[{\"id\":\"10009\",\"fields\":{\"updated\":\"2026-12-01T10:00:00.000+0000\","
	         "\"customfield_10042\":\"concord-ab12-17 (moved)\"}},"
	         "{\"id\":\"10001\",\"fields\":{\"updated\":\"2026-12-01T10:00:00.000+0000\","
	         "\"customfield_10042\":\"concord-ab12-17\"}}],\"isLast\":true}";
	struct cc_observation o;
	bool found = false;
	struct cc_call call = { 0 };
	cc_observation_init(&o);
	assert_int_equal(c.ops->find_by_correlation(c.self, "concord-ab12-17", &o, &found, &call),
	                 CC_OK);
	assert_true(found);
	assert_string_equal(o.remote_id, "10001");
	const struct seen *q = last("POST", "/search/jql");
	assert_non_null(q);
	json_t *body = json_loads(q->body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(body, "jql")),
	                    "project = \"EMU\" AND cf[10042] ~ \"\\\"concord-ab12-17\\\"\" "
	                    "ORDER BY created ASC");
	assert_string_equal(json_string_value(json_array_get(json_object_get(body, "fields"), 1)),
	                    "customfield_10042");
	json_decref(body);
	cc_observation_clear(&o);

	/* only a partial match: none */
	g_list = "{\"issues\":[{\"id\":\"10009\",\"fields\":{\"customfield_10042\":"
	         "\"concord-ab12-17 (moved)\"}}],\"isLast\":true}";
	memset(&call, 0, sizeof(call));
	cc_observation_init(&o);
	assert_int_equal(c.ops->find_by_correlation(c.self, "concord-ab12-17", &o, &found, &call),
	                 CC_OK);
	assert_false(found);
	cc_observation_clear(&o);

	/* a create: the field, no label */
	g_n = 0;
	struct cc_write w = { .correlation_id = "concord-ab12-18" };
	w.values[F_TITLE] = "Printer";
	memset(&call, 0, sizeof(call));
	cc_observation_init(&o);
	c.ops->create(c.self, &w, &o, &call);
	cc_observation_clear(&o);
	q = last("POST", "/rest/api/3/issue");
	assert_non_null(q);
	body = json_loads(q->body, 0, NULL);
	json_t *fields = json_object_get(body, "fields");
	assert_string_equal(json_string_value(json_object_get(fields, "customfield_10042")),
	                    "concord-ab12-18");
	assert_null(json_object_get(fields, "labels"));
	json_decref(body);

	/* a stamp: the field in the edit, the labels untouched */
	g_n = 0;
	struct cc_write s = { .remote_id = "10001", .correlation_id = "concord-ab12-19" };
	memset(&call, 0, sizeof(call));
	cc_observation_init(&o);
	assert_int_equal(c.ops->update(c.self, &s, &o, &call), CC_OK);
	cc_observation_clear(&o);
	q = last("PUT", "/rest/api/3/issue/10001");
	assert_non_null(q);
	body = json_loads(q->body, 0, NULL);
	fields = json_object_get(body, "fields");
	assert_string_equal(json_string_value(json_object_get(fields, "customfield_10042")),
	                    "concord-ab12-19");
	assert_null(json_object_get(fields, "labels"));
	assert_null(json_object_get(body, "update"));
	json_decref(body);

	/* a correlation field that is not text: malformed, nothing observed */
	g_extra = ",\"customfield_10042\":42";
	memset(&call, 0, sizeof(call));
	cc_observation_init(&o);
	assert_int_equal(c.ops->read(c.self, "10001", &o, &call), CC_RETRY);
	assert_non_null(strstr(call.reason, "not text"));
	cc_observation_clear(&o);
	g_extra = ",\"customfield_10042\":\"concord-ab12-17\"";
	memset(&call, 0, sizeof(call));
	cc_observation_init(&o);
	assert_int_equal(c.ops->read(c.self, "10001", &o, &call), CC_OK);
	assert_string_equal(o.correlation_id, "concord-ab12-17");
	cc_observation_clear(&o);
	g_extra = NULL;
	c.ops->destroy(c.self);

	/* not a custom field id: refused at start */
	struct cc_connector_setting bad[] = { { "email", "ada@example.com" }, { "project", "EMU" },
		                              { "correlation_field", "labels" } };
	struct cc_connector_setup setup = { .base_url = "https://site.example", .secret = "tok",
		                            .cfg = &g_cfg, .settings = bad, .nsettings = 3,
		                            .transport = &g_transport };
	char err[200];
	assert_int_not_equal(cc_connector_create(&c, "jira", &setup, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "not a custom field id"));
}

/* The listing: the JQL by updated (a minute's overlap, in epoch ms), then nextPageToken. */
static void test_listing(void **state)
{
	(void)state;
	struct cc_connector c;
	connector(&c);
	issue_json(); /* g_answer: the issue, for the reads */
	g_list = "{\"issues\":[{\"id\":\"10001\",\"fields\":{\"updated\":"
	         "\"2026-12-01T10:00:05.250+1100\"}}],\"nextPageToken\":\"p2\",\"isLast\":false}";
	struct cc_page pg;
	struct cc_call call = { 0 };
	assert_int_equal(c.ops->list_changes(c.self, 1796000000, 0, NULL, 50, &pg, &call), CC_OK);
	json_t *q = json_loads(g_req[1].body, 0, NULL); /* [0]: the project's statuses */
	assert_non_null(q);
	assert_string_equal(json_string_value(json_object_get(q, "jql")),
	                    "project = \"EMU\" AND updated >= 1795999940000 ORDER BY updated ASC, "
	                    "key ASC");
	json_decref(q);
	assert_non_null(strstr(g_req[2].body, "\"nextPageToken\": \"p2\"") ?
	                        g_req[2].body : strstr(g_req[2].body, "\"nextPageToken\":\"p2\""));
	cc_page_clear(&pg);

	/* the project's statuses of the wrong shape: malformed, no search sent (the
	 * cursor stays: a failed page is the poll's failure) */
	c.ops->destroy(c.self);
	connector(&c);
	g_statuses = "{\"statuses\":[]}";
	memset(&call, 0, sizeof(call));
	assert_int_not_equal(c.ops->list_changes(c.self, 1796000000, 0, NULL, 50, &pg, &call),
	                     CC_OK);
	assert_non_null(strstr(call.reason, "malformed answer"));
	assert_int_equal(pg.nitems, 0);
	assert_int_equal(count("POST", "/search/jql"), 0);
	cc_page_clear(&pg);
	g_statuses = NULL;
	g_list = "{\"issues\":[{\"id\":\"10001\",\"fields\":{\"updated\":"
	         "\"2026-12-01T10:00:05.250+1100\"}}],\"nextPageToken\":\"p2\",\"isLast\":false}";

	/* a listing without its issues: malformed, never an empty page */
	g_list = "{\"values\":[]}";
	g_n = 0;
	memset(&call, 0, sizeof(call));
	assert_int_not_equal(c.ops->list_changes(c.self, 1796000000, 0, NULL, 50, &pg, &call),
	                     CC_OK);
	assert_non_null(strstr(call.reason, "malformed answer"));
	cc_page_clear(&pg);
	c.ops->destroy(c.self);
}

/*
 * A system's instances share one seen cache (connectors/seen.h): the issue
 * another instance read is not read again by the polling instance; with
 * caches of their own it is. An update's read-back is never shared.
 */
static void test_shared_seen(void **state)
{
	(void)state;
	for (int shared = 0; shared < 2; shared++) {
		g_seen = shared ? cc_seen_shared_new() : NULL;
		struct cc_connector delivery, poll;
		connector(&delivery);
		connector(&poll);
		struct cc_observation o;
		struct cc_call call = { 0 };
		assert_int_equal(delivery.ops->read(delivery.self, "10001", &o, &call), CC_OK);
		cc_observation_clear(&o);
		char when[48], list[200];
		updated_text(when, sizeof(when));
		snprintf(list, sizeof(list), "{\"issues\":[{\"id\":\"10001\",\"fields\":{"
		         "\"updated\":\"%s\"}}],\"isLast\":true}", when);
		g_list = list;
		g_n = 0;
		struct cc_page pg;
		memset(&call, 0, sizeof(call));
		assert_int_equal(poll.ops->list_changes(poll.self, 1796000000, 0, NULL, 50, &pg, &call),
		                 CC_OK);
		assert_int_equal(count("GET", "/issue/10001"), shared ? 0 : 3);
		assert_int_equal(pg.nitems, shared ? 0 : 1);
		cc_page_clear(&pg);

		/* an update's read-back stays out of it: the hub takes only the
		 * written fields from it, the poll reads that version again */
		struct cc_write wr = { .remote_id = "10001" };
		wr.values[F_TITLE] = "Printer"; /* the stand-in keeps its summary */
		memset(&call, 0, sizeof(call));
		assert_int_equal(delivery.ops->update(delivery.self, &wr, &o, &call), CC_OK);
		cc_observation_clear(&o);
		updated_text(when, sizeof(when));
		snprintf(list, sizeof(list), "{\"issues\":[{\"id\":\"10001\",\"fields\":{"
		         "\"updated\":\"%s\"}}],\"isLast\":true}", when);
		g_n = 0;
		memset(&call, 0, sizeof(call));
		assert_int_equal(poll.ops->list_changes(poll.self, 1796000000, 0, NULL, 50, &pg, &call),
		                 CC_OK);
		assert_int_equal(count("GET", "/issue/10001"), 3);
		assert_int_equal(pg.nitems, 1);
		cc_page_clear(&pg);
		delivery.ops->destroy(delivery.self);
		poll.ops->destroy(poll.self);
		cc_seen_shared_free(g_seen);
		g_seen = NULL;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workflow_paths),
		cmocka_unit_test(test_status_along_its_path),
		cmocka_unit_test(test_status_never_forced),
		cmocka_unit_test(test_listing),
		cmocka_unit_test(test_shared_seen),
		cmocka_unit_test(test_correlation_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
