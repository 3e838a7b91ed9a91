/*
 * The ServiceNow connector's request building and parsing
 * (src/connectors/servicenow/sn_wire.c), and what the connector sends and
 * how it reads answers through the HTTP client's stand-in transport: the
 * encoded query with the keyset, the Link header (commas inside URLs and
 * quoted values), ServiceNow's times, the priority matrix (priority is
 * never written: impact and urgency are), the journal rows, the audit rows,
 * the webhook body, the Basic credential, a malformed listing (never an
 * empty page) and the data policy's 403 quoted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "connectors/registry.h"
#include "connectors/servicenow/sn_wire.h"
#include "connectors/text.h"
#include "http/client.h"

#define SID1 "0123456789abcdef0123456789abcdef"
#define SID2 "fedcba9876543210fedcba9876543210"

static void test_time(void **state)
{
	(void)state;
	int64_t t;
	assert_true(sn_time_parse("2026-12-05 10:00:01", &t));
	assert_int_equal(t, 1796464801);
	char buf[32];
	sn_time_format(buf, sizeof(buf), t);
	assert_string_equal(buf, "2026-12-05 10:00:01");
	assert_false(sn_time_parse("2026-12-05T10:00:01", &t));
	assert_false(sn_time_parse("2026-12-05 10:00:01Z", &t));
	assert_false(sn_time_parse("2026-12-05 10:00", &t));
	assert_false(sn_time_parse("2026-13-05 10:00:01", &t));
	assert_false(sn_time_parse("2026-12-05 1a:00:01", &t));
	assert_false(sn_time_parse("", &t));
	assert_false(sn_time_parse(NULL, &t));
}

static void test_list_query(void **state)
{
	(void)state;
	char *q = sn_list_query(1796464801, 0, NULL);
	assert_string_equal(q, "sys_updated_on>=2026-12-05 10:00:01"
	                       "^ORDERBYsys_updated_on^ORDERBYsys_id");
	free(q);
	/* the keyset: (t, id) strictly after, as "a AND (b OR c)" */
	q = sn_list_query(1796464801, 1796464801, SID1);
	assert_string_equal(q, "sys_updated_on>=2026-12-05 10:00:01^sys_updated_on>"
	                       "2026-12-05 10:00:01^ORsys_id>" SID1
	                       "^ORDERBYsys_updated_on^ORDERBYsys_id");
	free(q);
	/* a position before the window needs no keyset */
	q = sn_list_query(1796464801, 1796464700, SID1);
	assert_null(strstr(q, "sys_id>"));
	free(q);
	/* a first start: everything */
	q = sn_list_query(-1, 0, NULL);
	assert_string_equal(q, "sys_updated_on>=1970-01-01 00:00:00"
	                       "^ORDERBYsys_updated_on^ORDERBYsys_id");
	free(q);
	assert_null(sn_list_query(0, 5, "42^ORactive=true"));
}

static void test_link(void **state)
{
	(void)state;
	char url[512];
	/* commas inside the URLs: never split there */
	const char *l = "<https://i.service-now.com/api/now/table/incident?sysparm_fields=sys_id,"
	                "sys_updated_on&sysparm_offset=0&sysparm_limit=100>;rel=\"first\","
	                "<https://i.service-now.com/api/now/table/incident?sysparm_fields=sys_id,"
	                "sys_updated_on&sysparm_offset=100&sysparm_limit=100>;rel=\"next\","
	                "<https://i.service-now.com/api/now/table/incident?sysparm_offset=300>;"
	                "rel=\"last\"";
	assert_int_equal(sn_link_next(l, url, sizeof(url)), 1);
	assert_string_equal(url, "https://i.service-now.com/api/now/table/incident?sysparm_fields="
	                         "sys_id,sys_updated_on&sysparm_offset=100&sysparm_limit=100");
	int64_t off;
	assert_true(sn_url_param_int(url, "sysparm_offset", &off));
	assert_int_equal(off, 100);
	/* no next: the last page */
	assert_int_equal(sn_link_next("<https://x/a?b=1,2>;rel=\"first\", <https://x/a?c>; "
	                              "rel=\"prev\"", url, sizeof(url)), 0);
	/* a comma in a quoted parameter, several relation types, a token value */
	assert_int_equal(sn_link_next("<https://x/1>; title=\"a, b\"; rel=\"prev\", "
	                              "<https://x/2?o=5>; rel=\"last next\"", url, sizeof(url)), 1);
	assert_string_equal(url, "https://x/2?o=5");
	assert_int_equal(sn_link_next("<https://x/3>;rel=next", url, sizeof(url)), 1);
	assert_string_equal(url, "https://x/3");
	/* not a list of links */
	assert_int_equal(sn_link_next("https://x/3;rel=next", url, sizeof(url)), -1);
	assert_int_equal(sn_link_next("<https://x/3;rel=next", url, sizeof(url)), -1);
	assert_int_equal(sn_link_next("<https://x/3>;rel=\"next", url, sizeof(url)), -1);
	assert_int_equal(sn_link_next("<https://x/3>;rel=next junk", url, sizeof(url)), -1);
	assert_int_equal(sn_link_next("<https://x/3>;rel=\"next\"", url, 5), -1);
	assert_int_equal(sn_link_next("", url, sizeof(url)), 0);
	/* the offset parameter itself */
	assert_false(sn_url_param_int("https://x/a?", "sysparm_offset", &off));
	assert_false(sn_url_param_int("https://x/a?b=1&", "sysparm_offset", &off));
	assert_false(sn_url_param_int("https://x/a?sysparm_offset=", "sysparm_offset", &off));
	assert_false(sn_url_param_int("https://x/a?sysparm_offset=1e3", "sysparm_offset", &off));
	assert_false(sn_url_param_int("https://x/a?xsysparm_offset=4", "sysparm_offset", &off));
	assert_true(sn_url_param_int("https://x/a?a=1&sysparm_offset=4#f", "sysparm_offset", &off));
	assert_int_equal(off, 4);
	assert_true(sn_total_parse("120", &off));
	assert_false(sn_total_parse("12 0", &off));
	assert_false(sn_total_parse("-1", &off));
}

static void test_matrix(void **state)
{
	(void)state;
	struct sn_matrix m;
	char err[128];
	assert_int_equal(sn_matrix_parse(&m, SN_PRIORITY_MATRIX_DEFAULT, err, sizeof(err)), 0);
	assert_int_equal(m.n, 5);
	/* the default lookup backwards: each pair gives its priority there */
	static const char *const want[][3] = { { "1", "1", "1" }, { "2", "1", "2" },
		                               { "3", "2", "2" }, { "4", "2", "3" },
		                               { "5", "3", "3" } };
	for (size_t i = 0; i < 5; i++) {
		const struct sn_prio *p = sn_matrix_find(&m, want[i][0]);
		assert_non_null(p);
		assert_string_equal(p->impact, want[i][1]);
		assert_string_equal(p->urgency, want[i][2]);
	}
	assert_null(sn_matrix_find(&m, "6"));
	assert_null(sn_matrix_find(&m, ""));
	assert_int_equal(sn_matrix_parse(&m, "1=1/1,2=2/1, 3=3/1", err, sizeof(err)), 0);
	assert_string_equal(sn_matrix_find(&m, "2")->impact, "2");
	assert_int_equal(sn_matrix_parse(&m, "1=1/1 1=2/2", err, sizeof(err)), CC_EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(sn_matrix_parse(&m, "1=1", err, sizeof(err)), CC_EINVAL);
	assert_int_equal(sn_matrix_parse(&m, "1=1/1 2=a b/1", err, sizeof(err)), CC_EINVAL);
	assert_int_equal(sn_matrix_parse(&m, "", err, sizeof(err)), CC_EINVAL);
	assert_int_equal(sn_matrix_parse(&m, "1=1/\"2\"", err, sizeof(err)), CC_EINVAL);
}

static void test_journal(void **state)
{
	(void)state;
	json_t *rows = json_loads(
		"[{\"sys_id\":\"" SID1 "\",\"element\":\"work_notes\",\"value\":\"first\","
		"\"sys_created_on\":\"2026-12-05 10:00:01\",\"sys_created_by\":\"ann\"},"
		"{\"sys_id\":\"" SID2 "\",\"element\":\"comments\",\"value\":\"public\","
		"\"sys_created_on\":\"2026-12-05 10:00:02\",\"sys_created_by\":\"bob\"}]", 0, NULL);
	struct cc_observation o;
	cc_observation_init(&o);
	bool nomem;
	assert_null(sn_journal_take(rows, "work_notes", &o, &nomem));
	assert_int_equal(o.ncomments, 1);
	assert_string_equal(o.comments[0].id, SID1);
	assert_string_equal(o.comments[0].body, "first");
	assert_string_equal(o.comments[0].author, "ann");
	assert_int_equal(o.comments[0].created_s, 1796464801);
	cc_observation_clear(&o);
	json_decref(rows);
	/* a row without its time, an id that is no sys_id, no array */
	rows = json_loads("[{\"sys_id\":\"" SID1 "\",\"element\":\"work_notes\",\"value\":\"x\"}]",
	                  0, NULL);
	assert_non_null(sn_journal_take(rows, "work_notes", &o, &nomem));
	json_decref(rows);
	rows = json_loads("[{\"sys_id\":\"42\",\"element\":\"work_notes\",\"value\":\"x\","
	                  "\"sys_created_on\":\"2026-12-05 10:00:01\"}]", 0, NULL);
	assert_non_null(sn_journal_take(rows, "work_notes", &o, &nomem));
	json_decref(rows);
	assert_non_null(sn_journal_take(NULL, "work_notes", &o, &nomem));
	cc_observation_clear(&o);
}

static void test_audit(void **state)
{
	(void)state;
	json_t *rows = json_loads(
		"[{\"fieldname\":\"state\",\"sys_created_on\":\"2026-12-05 10:00:09\",\"user\":\"bob\"},"
		"{\"fieldname\":\"short_description\",\"sys_created_on\":\"2026-12-05 10:00:05\","
		"\"user\":\"ann\"},"
		"{\"fieldname\":\"state\",\"sys_created_on\":\"2026-12-05 10:00:01\",\"user\":\"ann\"}]",
		0, NULL);
	const char *names[CC_MAX_FIELDS] = { "short_description", "state", "priority" };
	int64_t mtime[CC_MAX_FIELDS] = { 0 };
	const char *user[CC_MAX_FIELDS] = { NULL };
	assert_null(sn_audit_take(rows, names, 9, 1796464809, mtime, user));
	assert_int_equal(mtime[0], 1796464805);
	assert_string_equal(user[0], "ann");
	assert_int_equal(mtime[1], 1796464809); /* the newest row wins */
	assert_string_equal(user[1], "bob");
	assert_int_equal(mtime[2], 0);          /* never changed */
	json_decref(rows);
	rows = json_loads("[{\"fieldname\":\"state\",\"sys_created_on\":\"yesterday\"}]", 0, NULL);
	assert_non_null(sn_audit_take(rows, names, 9, 1796464809, mtime, user));
	json_decref(rows);
	/* rows of a change after the version read (the audit read after the row) are left out */
	rows = json_loads(
		"[{\"fieldname\":\"state\",\"sys_created_on\":\"2026-12-05 10:00:09\",\"user\":\"bob\","
		"\"record_checkpoint\":\"5\"},"
		"{\"fieldname\":\"state\",\"sys_created_on\":\"2026-12-05 10:00:07\",\"user\":\"ann\","
		"\"record_checkpoint\":\"4\"},"
		"{\"fieldname\":\"short_description\",\"sys_created_on\":\"2026-12-05 10:00:09\","
		"\"user\":\"bob\"},"
		"{\"fieldname\":\"short_description\",\"sys_created_on\":\"2026-12-05 10:00:03\","
		"\"user\":\"ann\"}]", 0, NULL);
	memset(mtime, 0, sizeof(mtime));
	assert_null(sn_audit_take(rows, names, 4, 1796464807, mtime, user));
	assert_int_equal(mtime[1], 1796464807);
	assert_string_equal(user[1], "ann");
	assert_int_equal(mtime[0], 1796464803); /* no checkpoint: by time */
	json_decref(rows);
	rows = json_loads("[{\"fieldname\":\"state\",\"sys_created_on\":\"2026-12-05 10:00:07\","
	                  "\"record_checkpoint\":\"x\"}]", 0, NULL);
	assert_non_null(sn_audit_take(rows, names, 4, 1796464807, mtime, user));
	json_decref(rows);
}

static void test_hook(void **state)
{
	(void)state;
	struct sn_hook h;
	const char *ok = "{\"table\":\"incident\",\"sys_id\":\"" SID1 "\",\"number\":\"INC0010001\","
	                 "\"sys_mod_count\":4,\"sys_updated_on\":\"2026-12-05 10:00:01\","
	                 "\"operation\":\"update\"}";
	assert_null(sn_hook_parse(ok, strlen(ok), &h));
	assert_string_equal(h.table, "incident");
	assert_string_equal(h.sys_id, SID1);
	assert_int_equal(h.mod_count, 4);
	assert_int_equal(h.updated_s, 1796464801);
	assert_false(h.insert);
	static const char *const bad[] = {
		"[]", "{", "{\"table\":\"incident\"}",
		"{\"table\":\"incident\",\"sys_id\":\"42\",\"number\":\"I\",\"sys_mod_count\":4,"
		"\"sys_updated_on\":\"2026-12-05 10:00:01\",\"operation\":\"update\"}",
		"{\"table\":\"incident\",\"sys_id\":\"" SID1 "\",\"number\":\"I\",\"sys_mod_count\":-1,"
		"\"sys_updated_on\":\"2026-12-05 10:00:01\",\"operation\":\"update\"}",
		"{\"table\":\"incident\",\"sys_id\":\"" SID1 "\",\"number\":\"I\",\"sys_mod_count\":4,"
		"\"sys_updated_on\":\"2026-12-05T10:00:01Z\",\"operation\":\"update\"}",
		"{\"table\":\"incident\",\"sys_id\":\"" SID1 "\",\"number\":\"I\",\"sys_mod_count\":4,"
		"\"sys_updated_on\":\"2026-12-05 10:00:01\",\"operation\":\"delete\"}",
		"{\"table\":\"inc/../x\",\"sys_id\":\"" SID1 "\",\"number\":\"I\",\"sys_mod_count\":4,"
		"\"sys_updated_on\":\"2026-12-05 10:00:01\",\"operation\":\"insert\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_non_null(sn_hook_parse(bad[i], strlen(bad[i]), &h));
}

static void test_basic(void **state)
{
	(void)state;
	char *c = cc_basic_credential("admin", "s3cret!");
	assert_string_equal(c, "YWRtaW46czNjcmV0IQ==");
	free(c);
	c = cc_basic_credential("ab", "c");
	assert_string_equal(c, "YWI6Yw==");
	free(c);
}

/* ---- the connector through the stand-in transport ------------------------ */

struct canned {
	const char *status_headers[8]; /* "STATUS\nheaders" per answer */
	const char *bodies[8];
	size_t n, next;
	char *urls[8], *methods[8], *sent[8];
};

static void exchange(void *ctx, const char *method, const char *url, const char *body,
                     const char *if_match, struct cc_http_raw_answer *out)
{
	(void)if_match;
	struct canned *c = ctx;
	memset(out, 0, sizeof(*out));
	if (c->next >= c->n) {
		out->fault = CC_HTTP_REFUSED;
		return;
	}
	size_t i = c->next++;
	c->urls[i] = strdup(url);
	c->methods[i] = strdup(method);
	c->sent[i] = body ? strdup(body) : NULL;
	const char *sh = c->status_headers[i];
	out->status = strtol(sh, NULL, 10);
	const char *h = strchr(sh, '\n');
	out->headers = h ? h + 1 : NULL;
	out->headers_len = h ? strlen(h + 1) : 0;
	out->body = c->bodies[i];
	out->body_len = c->bodies[i] ? strlen(c->bodies[i]) : 0;
}

static void canned_free(struct canned *c)
{
	for (size_t i = 0; i < 8; i++) {
		free(c->urls[i]);
		free(c->methods[i]);
		free(c->sent[i]);
	}
}

enum { F_TITLE, F_STATE, F_PRIO, F_COUNT };
static struct cc_config cfg;

static struct cc_connector make(struct canned *cn, struct cc_http_transport *tr)
{
	cc_config_defaults(&cfg);
	cfg.nfields = F_COUNT;
	cfg.nsystems = 1;
	static const char *const rn[F_COUNT] = { "short_description", "state", "priority" };
	for (int f = 0; f < F_COUNT; f++) {
		cfg.fields[f] = (struct cc_field_def){ .name = rn[f], .type = CC_FT_STRING };
		cfg.systems[0].map[f] = (struct cc_field_map){ .mapped = true, .remote_name = rn[f] };
	}
	cfg.systems[0].name = "sn";
	cfg.systems[0].kind = "servicenow";
	*tr = (struct cc_http_transport){ .exchange = exchange, .ctx = cn };
	static const struct cc_connector_setting st[] = { { "user", "concord" } };
	struct cc_connector_setup s = { .base_url = "https://i.service-now.com", .secret = "pw1234",
		                        .cfg = &cfg, .settings = st, .nsettings = 1,
		                        .transport = tr };
	struct cc_connector c;
	char err[200];
	assert_int_equal(cc_connector_create(&c, "servicenow", &s, err, sizeof(err)), 0);
	return c;
}

#define REC(sid, mc, upd) \
	"{\"result\":{\"sys_id\":\"" sid "\",\"sys_mod_count\":\"" mc "\",\"sys_updated_on\":\"" \
	upd "\",\"sys_created_on\":\"2026-12-05 09:00:00\",\"sys_created_by\":\"ann\"," \
	"\"sys_updated_by\":\"bob\",\"short_description\":\"t\",\"state\":\"2\",\"priority\":\"3\"}}"

static void test_list_request(void **state)
{
	(void)state;
	struct canned cn = {
		.status_headers = { "200\nX-Total-Count: 3\nLink: <https://i.service-now.com/api/now/"
		                    "table/incident?sysparm_fields=sys_id,sys_updated_on&sysparm_offset="
		                    "500&sysparm_limit=500>;rel=\"next\"\n",
		                    "200\n", "200\n", "200\n" },
		.bodies = { "{\"result\":[{\"sys_id\":\"" SID2 "\",\"sys_updated_on\":"
		            "\"2026-12-05 10:00:02\",\"sys_mod_count\":\"1\"}]}",
		            "{\"result\":[]}", REC(SID2, "1", "2026-12-05 10:00:02"),
		            "{\"result\":[]}" },
		.n = 4,
	};
	struct cc_http_transport tr;
	struct cc_connector c = make(&cn, &tr);
	struct cc_page pg;
	struct cc_call call = { 0 };
	cfg.systems[0].comments = false;
	enum cc_result r = c.ops->list_changes(c.self, 1796464801, 1796464801, SID1, 1, &pg, &call);
	assert_int_equal(r, CC_OK);
	assert_int_equal(pg.nitems, 1);
	assert_false(pg.more); /* the next link was followed: the listing ran out there */
	assert_string_equal(pg.items[0].remote_id, SID2);
	assert_int_equal(pg.items[0].rv, 2);
	/* the keyset in the query, escaped; the fields the listing needs */
	assert_non_null(strstr(cn.urls[0], "/api/now/table/incident?sysparm_query="
	                                   "sys_updated_on%3E%3D2026-12-05%2010%3A00%3A01%5E"
	                                   "sys_updated_on%3E2026-12-05%2010%3A00%3A01%5EORsys_id"
	                                   "%3E" SID1 "%5EORDERBYsys_updated_on%5EORDERBYsys_id"));
	assert_non_null(strstr(cn.urls[0], "sysparm_limit=500&sysparm_offset=0&"
	                                   "sysparm_display_value=false&"
	                                   "sysparm_exclude_reference_link=true"));
	assert_non_null(strstr(cn.urls[1], "sysparm_offset=500&"));
	assert_non_null(strstr(cn.urls[2], "/api/now/table/incident/" SID2 "?sysparm_fields="));
	assert_non_null(strstr(cn.urls[3], "/api/now/table/sys_audit?sysparm_query=documentkey%3D"
	                                   SID2));
	cc_page_clear(&pg);
	c.ops->destroy(c.self);
	canned_free(&cn);
}

static void test_list_malformed(void **state)
{
	(void)state;
	static const char *const heads[] = {
		"200\nLink: https://x/?sysparm_offset=100;rel=next\n", /* not a list of links */
		"200\nX-Total-Count: many\n",
		"200\nLink: <https://x/?sysparm_offset=7>;rel=\"next\"\n", /* not the next offset */
		"200\n", "200\n", "200\n",
	};
	static const char *const bodies[] = {
		"{\"result\":[]}", "{\"result\":[]}", "{\"result\":[]}", "{\"records\":[]}",
		"{\"result\":[{\"sys_id\":\"" SID1 "\",\"sys_updated_on\":\"2026-12-05T10:00:02Z\","
		"\"sys_mod_count\":\"1\"}]}",
		"<html>",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct canned cn = { .status_headers = { heads[i] }, .bodies = { bodies[i] }, .n = 1 };
		struct cc_http_transport tr;
		struct cc_connector c = make(&cn, &tr);
		struct cc_page pg;
		struct cc_call call = { 0 };
		enum cc_result r = c.ops->list_changes(c.self, 1796464801, 0, NULL, 10, &pg, &call);
		assert_int_equal(r, CC_RETRY);
		assert_int_equal(pg.nitems, 0);
		assert_non_null(strstr(call.reason, "malformed"));
		c.ops->destroy(c.self);
		canned_free(&cn);
	}
}

static void test_update_request(void **state)
{
	(void)state;
	struct canned cn = {
		.status_headers = { "200\n", "200\n", "200\n", "200\n" },
		.bodies = { "{\"result\":{\"sys_id\":\"" SID1 "\",\"sys_mod_count\":\"4\"}}",
		            "{\"result\":{\"sys_id\":\"" SID1 "\"}}",
		            REC(SID1, "5", "2026-12-05 10:00:09"),
		            "{\"result\":[{\"fieldname\":\"priority\",\"sys_created_on\":"
		            "\"2026-12-05 10:00:09\",\"user\":\"concord\"}]}" },
		.n = 4,
	};
	struct cc_http_transport tr;
	struct cc_connector c = make(&cn, &tr);
	cfg.systems[0].comments = false;
	struct cc_write w = { .remote_id = SID1, .expected_rv = 5 };
	w.values[F_PRIO] = "3";
	w.values[F_TITLE] = "t";
	struct cc_observation o;
	struct cc_call call = { 0 };
	enum cc_result r = c.ops->update(c.self, &w, &o, &call);
	assert_int_equal(r, CC_OK);
	/* the version read just before, then one PATCH of impact and urgency, never priority */
	assert_string_equal(cn.methods[0], "GET");
	assert_non_null(strstr(cn.urls[0], "sysparm_fields=sys_id%2Csys_mod_count"));
	assert_string_equal(cn.methods[1], "PATCH");
	assert_non_null(strstr(cn.sent[1], "\"impact\":\"2\""));
	assert_non_null(strstr(cn.sent[1], "\"urgency\":\"2\""));
	assert_non_null(strstr(cn.sent[1], "\"short_description\":\"t\""));
	assert_null(strstr(cn.sent[1], "\"priority\""));
	/* the audit gave the priority's time and author */
	assert_int_equal(o.fields[F_PRIO].mtime_s, 1796464809);
	assert_string_equal(o.fields[F_PRIO].author, "concord");
	assert_int_equal(o.fields[F_TITLE].mtime_s, 1796461200); /* never changed: created */
	cc_observation_clear(&o);
	c.ops->destroy(c.self);
	canned_free(&cn);
}

static void test_update_policy(void **state)
{
	(void)state;
	struct canned cn = {
		.status_headers = { "403\nContent-Type: application/json\n" },
		.bodies = { "{\"error\":{\"message\":\"Operation Failed\",\"detail\":\"Data Policy "
		            "Exception: \\n\\tThe following fields are mandatory: Resolution code, "
		            "Resolution notes\"},\"status\":\"failure\"}" },
		.n = 1,
	};
	struct cc_http_transport tr;
	struct cc_connector c = make(&cn, &tr);
	struct cc_write w = { .remote_id = SID1 };
	w.values[F_STATE] = "6";
	struct cc_observation o;
	struct cc_call call = { 0 };
	enum cc_result r = c.ops->update(c.self, &w, &o, &call);
	assert_int_equal(r, CC_ERROR);
	/* ServiceNow's message, on one line, not the JSON it came in */
	assert_non_null(strstr(call.reason, "HTTP 403: Operation Failed (Data Policy Exception: The "
	                                    "following fields are mandatory: Resolution code, "
	                                    "Resolution notes)"));
	/* a priority the matrix does not know: nothing sent */
	w.values[F_STATE] = NULL;
	w.values[F_PRIO] = "9";
	memset(&call, 0, sizeof(call));
	r = c.ops->update(c.self, &w, &o, &call);
	assert_int_equal(r, CC_ERROR);
	assert_int_equal(call.requests, 0);
	c.ops->destroy(c.self);
	canned_free(&cn);
}

/* The audit is read for a version not seen before only: a second read of it costs the row. */
static void test_audit_once(void **state)
{
	(void)state;
	struct canned cn = {
		.status_headers = { "200\n", "200\n", "200\n", "200\n", "200\n" },
		.bodies = { REC(SID1, "5", "2026-12-05 10:00:09"),
		            "{\"result\":[{\"fieldname\":\"state\",\"sys_created_on\":"
		            "\"2026-12-05 10:00:09\",\"user\":\"bob\"}]}",
		            REC(SID1, "5", "2026-12-05 10:00:09"),
		            REC(SID1, "6", "2026-12-05 10:00:10"), "{\"result\":[]}" },
		.n = 5,
	};
	struct cc_http_transport tr;
	struct cc_connector c = make(&cn, &tr);
	cfg.systems[0].comments = false;
	for (int i = 0; i < 3; i++) {
		struct cc_observation o;
		struct cc_call call = { 0 };
		assert_int_equal(c.ops->read(c.self, SID1, &o, &call), CC_OK);
		/* version 6 (mod 5) twice: the audit once; then version 7: read again */
		assert_int_equal(call.requests, i == 1 ? 1 : 2);
		if (i < 2) {
			assert_int_equal(o.fields[F_STATE].mtime_s, 1796464809);
			assert_string_equal(o.fields[F_STATE].author, "bob");
		}
		cc_observation_clear(&o);
	}
	assert_non_null(strstr(cn.urls[4], "sys_audit"));
	c.ops->destroy(c.self);
	canned_free(&cn);
}

/* Answers by URL (the first rule whose text the URL holds); a rule may fail first. */
struct by_url {
	struct {
		const char *in_url, *body;
		int fail_first; /* answer fail_status (500 when 0) this many times first */
		int fail_status;
	} rule[6];
	int hits[6];
};

static void exchange_by_url(void *ctx, const char *method, const char *url, const char *body,
                            const char *if_match, struct cc_http_raw_answer *out)
{
	(void)method;
	(void)body;
	(void)if_match;
	struct by_url *b = ctx;
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < 6 && b->rule[i].in_url; i++) {
		if (!strstr(url, b->rule[i].in_url))
			continue;
		bool fail = b->hits[i]++ < b->rule[i].fail_first;
		out->status = !fail ? 200 : b->rule[i].fail_status ? b->rule[i].fail_status : 500;
		out->body = fail ? "{\"error\":{\"message\":\"boom\"}}" : b->rule[i].body;
		out->body_len = strlen(out->body);
		return;
	}
	out->fault = CC_HTTP_REFUSED;
}

/*
 * A connector whose listing shows SID1 and SID2 (comments off, no audit
 * rows); SID2's first read answers sid2_status, then its record.
 */
static struct cc_connector two_records(struct by_url *bu, struct cc_http_transport *tr,
                                       int sid2_status)
{
	*bu = (struct by_url){ .rule = {
		{ "sysparm_query=sys_updated_on", "{\"result\":[{\"sys_id\":\"" SID1 "\","
		  "\"sys_updated_on\":\"2026-12-05 10:00:02\",\"sys_mod_count\":\"1\"},"
		  "{\"sys_id\":\"" SID2 "\",\"sys_updated_on\":\"2026-12-05 10:00:03\","
		  "\"sys_mod_count\":\"1\"}]}", 0, 0 },
		{ "sys_audit", "{\"result\":[]}", 0, 0 },
		{ "/incident/" SID1, REC(SID1, "1", "2026-12-05 10:00:02"), 0, 0 },
		{ "/incident/" SID2, REC(SID2, "1", "2026-12-05 10:00:03"), 1, sid2_status },
	} };
	static struct canned unused = { .n = 0 };
	struct cc_connector c = make(&unused, tr);
	tr->exchange = exchange_by_url;
	tr->ctx = bu;
	cfg.systems[0].comments = false;
	return c;
}

/*
 * A poll page that fails (ERROR) after some of its records were read
 * returns none of them, and forgets having read them: the next listing
 * reads them again (kept as seen, they were skipped for good: a lost
 * change).
 */
static void test_failed_page_forgets_reads(void **state)
{
	(void)state;
	struct by_url bu;
	struct cc_http_transport tr;
	struct cc_connector c = two_records(&bu, &tr, 400);
	struct cc_page pg;
	struct cc_call call = { 0 };
	/* SID1 read, SID2's read refused: the page fails, nothing returned */
	assert_int_equal(c.ops->list_changes(c.self, 1796464801, 0, NULL, 10, &pg, &call), CC_ERROR);
	assert_int_equal(pg.nitems, 0);
	assert_true(bu.hits[2] >= 1);
	/* the same listing again: both records, SID1 read again */
	int sid1_reads = bu.hits[2];
	memset(&call, 0, sizeof(call));
	assert_int_equal(c.ops->list_changes(c.self, 1796464801, 0, NULL, 10, &pg, &call), CC_OK);
	assert_int_equal(pg.nitems, 2);
	assert_string_equal(pg.items[0].remote_id, SID1);
	assert_string_equal(pg.items[1].remote_id, SID2);
	assert_true(bu.hits[2] > sid1_reads);
	cc_page_clear(&pg);
	/* and once returned, the same versions listed again are not read again */
	sid1_reads = bu.hits[2];
	memset(&call, 0, sizeof(call));
	assert_int_equal(c.ops->list_changes(c.self, 1796464801, 0, NULL, 10, &pg, &call), CC_OK);
	assert_int_equal(pg.nitems, 0);
	assert_int_equal(bu.hits[2], sid1_reads);
	cc_page_clear(&pg);
	c.ops->destroy(c.self);
}

/*
 * A read that may pass (500) after others went well ends the page there:
 * the records read are returned, with the position the next page starts
 * after; the next page reads the rest.
 */
static void test_page_ends_at_retry(void **state)
{
	(void)state;
	struct by_url bu;
	struct cc_http_transport tr;
	struct cc_connector c = two_records(&bu, &tr, 500);
	struct cc_page pg;
	struct cc_call call = { 0 };
	assert_int_equal(c.ops->list_changes(c.self, 1796464801, 0, NULL, 10, &pg, &call), CC_OK);
	assert_int_equal(call.result, CC_OK);
	assert_int_equal(pg.nitems, 1);
	assert_string_equal(pg.items[0].remote_id, SID1);
	assert_true(pg.more);
	assert_string_equal(pg.next_id, SID1);
	assert_int_equal(pg.next_mtime_s, 1796464802);
	cc_page_clear(&pg);
	memset(&call, 0, sizeof(call));
	assert_int_equal(c.ops->list_changes(c.self, 1796464801, 1796464802, SID1, 10, &pg, &call),
	                 CC_OK);
	assert_int_equal(pg.nitems, 1);
	assert_string_equal(pg.items[0].remote_id, SID2);
	cc_page_clear(&pg);
	c.ops->destroy(c.self);
}

/* A refusal that echoes the credential: quoted without it (fuzz_servicenow found it). */
static void test_error_redacted(void **state)
{
	(void)state;
	struct canned cn = {
		.status_headers = { "403\n" },
		.bodies = { "{\"error\":{\"message\":\"Denied for Y29uY29yZDpwdzEyMzQ= with pw1234, Y29uY29yZDpwdzEyMzQ.\","
		            "\"detail\":\"\"}}" },
		.n = 1,
	};
	struct cc_http_transport tr;
	struct cc_connector c = make(&cn, &tr);
	struct cc_write w = { .remote_id = SID1 };
	w.values[F_STATE] = "2";
	struct cc_observation o;
	struct cc_call call = { 0 };
	assert_int_equal(c.ops->update(c.self, &w, &o, &call), CC_ERROR);
	assert_non_null(strstr(call.reason, "Denied for"));
	assert_null(strstr(call.reason, "Y29uY29yZDpwdzEyMzQ"));
	assert_null(strstr(call.reason, "pw1234"));
	c.ops->destroy(c.self);
	canned_free(&cn);
	/* an answer that is not JSON is quoted by jansson's message: redacted too */
	struct canned cn2 = { .status_headers = { "200\n" }, .bodies = { "{\"result\": \"pw1234\n" },
		              .n = 1 };
	c = make(&cn2, &tr);
	memset(&call, 0, sizeof(call));
	assert_int_equal(c.ops->read(c.self, SID1, &o, &call), CC_RETRY);
	assert_non_null(strstr(call.reason, "not JSON"));
	assert_null(strstr(call.reason, "pw1234"));
	c.ops->destroy(c.self);
	canned_free(&cn2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time),        cmocka_unit_test(test_list_query),
		cmocka_unit_test(test_link),        cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_journal),     cmocka_unit_test(test_audit),
		cmocka_unit_test(test_hook),        cmocka_unit_test(test_basic),
		cmocka_unit_test(test_list_request), cmocka_unit_test(test_list_malformed),
		cmocka_unit_test(test_update_request), cmocka_unit_test(test_update_policy),
		cmocka_unit_test(test_error_redacted), cmocka_unit_test(test_audit_once),
		cmocka_unit_test(test_failed_page_forgets_reads),
		cmocka_unit_test(test_page_ends_at_retry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
