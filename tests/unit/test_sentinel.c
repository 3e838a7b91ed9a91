/*
 * The Sentinel connector's pure parts (src/connectors/sentinel/arm.c) and
 * its requests through the HTTP client's stand-in transport: the listing
 * query ($filter at the keyset time, every value escaped), the incident
 * and comment names (stable, valid version 8 UUIDs), seven-digit ARM
 * times as versions, nextLink kept on the management host, the PUT body
 * of an update (the etag read, the writable properties, the values
 * merged in), ARM's error shape, and the connector's update sequence
 * (GET, merge, PUT with the etag; a moved version is CONFLICT without a
 * PUT). The OAuth module has its own test (test_oauth.c): token parsing
 * and refresh timing.
 */
#include "connectors/registry.h"
#include "connectors/sentinel/arm.h"
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

/* ---- names ---- */

static bool uuid_shape(const char *u)
{
	if (strlen(u) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? u[i] != '-' : !strchr("0123456789abcdef", u[i]))
			return false;
	}
	return u[14] == '8' && strchr("89ab", u[19]); /* version 8, variant 10 */
}

static void test_incident_name(void **state)
{
	(void)state;
	char a[CC_ARM_UUID_LEN], b[CC_ARM_UUID_LEN], c[CC_ARM_UUID_LEN];
	assert_int_equal(cc_arm_incident_name("concord-42", a), 0);
	assert_int_equal(cc_arm_incident_name("concord-42", b), 0);
	assert_int_equal(cc_arm_incident_name("concord-43", c), 0);
	assert_true(uuid_shape(a));
	assert_string_equal(a, b);          /* stable */
	assert_string_not_equal(a, c);
	/* the value tests/replay/sentinel_scenarios.py computes with hashlib */
	assert_string_equal(a, "a4a8c3b0-cf0f-8958-8e50-ebdb18a7b0d4");
}

static void test_comment_name(void **state)
{
	(void)state;
	char a[CC_ARM_UUID_LEN], b[CC_ARM_UUID_LEN], c[CC_ARM_UUID_LEN], d[CC_ARM_UUID_LEN];
	/* the marker decides, not the text after it (edited on the way: the same comment) */
	cc_arm_comment_name("inc-1", "[concord:9:1:77] hello", a);
	cc_arm_comment_name("inc-1", "[concord:9:1:77] hello, edited", b);
	cc_arm_comment_name("inc-2", "[concord:9:1:77] hello", c);
	cc_arm_comment_name("inc-1", "[concord:9:1:78] hello", d);
	assert_true(uuid_shape(a));
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
	/* without a marker: the whole body */
	cc_arm_comment_name("inc-1", "plain", a);
	cc_arm_comment_name("inc-1", "plain!", b);
	assert_string_not_equal(a, b);
}

static void test_name_ok(void **state)
{
	(void)state;
	assert_true(cc_arm_name_ok("73e01a99-5cd7-4139-a149-9f2736ff2ab5"));
	assert_false(cc_arm_name_ok(""));
	assert_false(cc_arm_name_ok(NULL));
	assert_false(cc_arm_name_ok(".."));
	assert_false(cc_arm_name_ok("a/b"));
	assert_false(cc_arm_name_ok("a?b"));
	assert_false(cc_arm_name_ok("a%2Fb"));
	assert_false(cc_arm_name_ok("012345678901234567890123456789012345678901234567"));
	assert_true(cc_arm_name_ok("01234567890123456789012345678901234567890123456"));
}

/* ---- times ---- */

static void test_times(void **state)
{
	(void)state;
	int64_t s;
	uint64_t t, t2;
	assert_true(cc_arm_time("2026-12-05T10:00:01.1234567Z", &s, &t));
	assert_int_equal(s, 1796464801);
	assert_int_equal(t, 17964648011234567ULL);
	/* 100 ns apart: two versions */
	assert_true(cc_arm_time("2026-12-05T10:00:01.1234568Z", &s, &t2));
	assert_true(t2 == t + 1);
	/* fewer digits, none, an offset */
	assert_true(cc_arm_time("2026-12-05T10:00:01.5Z", &s, &t));
	assert_int_equal(t, 17964648015000000ULL);
	assert_true(cc_arm_time("2026-12-05T10:00:01Z", &s, &t));
	assert_int_equal(t, 17964648010000000ULL);
	assert_true(cc_arm_time("2026-12-05T11:00:01.0000001+01:00", &s, &t));
	assert_int_equal(t, 17964648010000001ULL);
	/* more digits than seven: the eighth and ninth are below a tick */
	assert_true(cc_arm_time("2026-12-05T10:00:01.123456789Z", &s, &t));
	assert_int_equal(t, 17964648011234567ULL);
	assert_false(cc_arm_time("2026-12-05 nonsense", &s, &t));
	assert_false(cc_arm_time(NULL, &s, &t));
	assert_false(cc_arm_time("", &s, &t));
}

/* ---- the listing ---- */

static void test_list_query(void **state)
{
	(void)state;
	char *q = cc_arm_list_query("2025-12-01", 1796464801, 100);
	assert_string_equal(q, "?api-version=2025-12-01&$filter=properties%2FlastModifiedTimeUtc"
	                       "%20ge%202026-12-05T10%3A00%3A01Z&$orderby=properties%2F"
	                       "lastModifiedTimeUtc%20asc&$top=100");
	free(q);
	/* an api-version with characters to escape is escaped */
	q = cc_arm_list_query("x&y=1", 0, 5);
	assert_non_null(strstr(q, "?api-version=x%26y%3D1&"));
	assert_non_null(strstr(q, "ge%201970-01-01T00%3A00%3A00Z"));
	free(q);
}

static void test_next_link(void **state)
{
	(void)state;
	const char *base = "https://management.azure.com";
	char *p = cc_arm_next_path(base, "https://management.azure.com/subscriptions/x/incidents?"
	                                 "api-version=2025-12-01&$skipToken=abc");
	assert_string_equal(p, "/subscriptions/x/incidents?api-version=2025-12-01&$skipToken=abc");
	free(p);
	p = cc_arm_next_path("http://127.0.0.1:8080/", "http://127.0.0.1:8080/a?b");
	assert_string_equal(p, "/a?b");
	free(p);
	const char *refused[] = {
		"https://evil.example/subscriptions/x",
		"https://management.azure.com.evil.example/x",
		"http://management.azure.com/x",
		"https://management.azure.com:444/x",
		"https://management.azure.com",
		"https://management.azure.com/x y",
		"https://management.azure.com/x\r\nHost: evil",
		"/subscriptions/x",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_null(cc_arm_next_path(base, refused[i]));
	assert_null(cc_arm_next_path(base, NULL));
}

/* ---- the PUT body: etag, writable properties, merge ---- */

static const char *INCIDENT =
	"{\"id\":\"/subscriptions/s/.../incidents/n\",\"name\":\"n\",\"etag\":\"\\\"0300bf09-0001\\\"\","
	"\"properties\":{\"title\":\"T\",\"description\":\"D\",\"severity\":\"High\","
	"\"status\":\"Active\",\"owner\":{\"objectId\":\"o-1\",\"email\":\"a@x\","
	"\"userPrincipalName\":\"a@x\",\"assignedTo\":\"A\"},\"labels\":[{\"labelName\":"
	"\"concord-7\",\"labelType\":\"User\"},{\"labelName\":\"phish\",\"labelType\":\"User\"}],"
	"\"incidentNumber\":12,\"incidentUrl\":\"https://portal\",\"lastModifiedTimeUtc\":"
	"\"2026-12-05T10:00:01.1234567Z\",\"createdTimeUtc\":\"2026-12-05T09:00:00Z\","
	"\"additionalData\":{\"alertsCount\":0},\"firstActivityTimeUtc\":\"2026-12-05T08:00:00Z\"}}";

static void test_put_body(void **state)
{
	(void)state;
	json_t *read = json_loads(INCIDENT, 0, NULL);
	json_t *body = cc_arm_put_body(read);
	assert_non_null(body);
	assert_string_equal(json_string_value(json_object_get(body, "etag")), "\"0300bf09-0001\"");
	json_t *p = json_object_get(body, "properties");
	/* writable kept, read-only left out */
	assert_string_equal(json_string_value(json_object_get(p, "title")), "T");
	assert_string_equal(json_string_value(json_object_get(p, "description")), "D");
	assert_non_null(json_object_get(p, "firstActivityTimeUtc"));
	assert_null(json_object_get(p, "incidentNumber"));
	assert_null(json_object_get(p, "incidentUrl"));
	assert_null(json_object_get(p, "lastModifiedTimeUtc"));
	assert_null(json_object_get(p, "createdTimeUtc"));
	assert_null(json_object_get(p, "additionalData"));
	/* the owner by its ids, not its shown name */
	json_t *o = json_object_get(p, "owner");
	assert_string_equal(json_string_value(json_object_get(o, "objectId")), "o-1");
	assert_null(json_object_get(o, "assignedTo"));

	/* the merge: every value in one body */
	assert_int_equal(cc_arm_set(p, "status", "Closed", "concord-"), 0);
	assert_int_equal(cc_arm_set(p, "classification", "FalsePositive", "concord-"), 0);
	assert_int_equal(cc_arm_set(p, "classificationReason", "IncorrectAlertLogic", "concord-"),
	                 0);
	assert_int_equal(cc_arm_set(p, "description", "", "concord-"), 0);
	assert_int_equal(cc_arm_set(p, "owner", "b@x", "concord-"), 0);
	assert_int_equal(cc_arm_set(p, "labels", " mal , ware,", "concord-"), 0);
	assert_string_equal(json_string_value(json_object_get(p, "status")), "Closed");
	assert_string_equal(json_string_value(json_object_get(p, "classification")),
	                    "FalsePositive");
	assert_string_equal(json_string_value(json_object_get(p, "classificationReason")),
	                    "IncorrectAlertLogic");
	assert_null(json_object_get(p, "description")); /* "" of an optional one: removed */
	assert_string_equal(json_string_value(json_object_get(p, "title")), "T");
	char *owner = json_dumps(json_object_get(p, "owner"), JSON_COMPACT);
	assert_string_equal(owner, "{\"userPrincipalName\":\"b@x\"}");
	free(owner);
	char *labels = json_dumps(json_object_get(p, "labels"), JSON_COMPACT);
	/* the correlation label kept, the others replaced */
	assert_string_equal(labels, "[{\"labelName\":\"concord-7\",\"labelType\":\"User\"},"
	                            "{\"labelName\":\"mal\",\"labelType\":\"User\"},"
	                            "{\"labelName\":\"ware\",\"labelType\":\"User\"}]");
	free(labels);
	assert_int_equal(cc_arm_set(p, "owner", "", NULL), 0);
	assert_int_equal(json_object_size(json_object_get(p, "owner")), 0);
	json_decref(body);

	/* no etag or no properties: none */
	json_object_del(read, "etag");
	assert_null(cc_arm_put_body(read));
	json_decref(read);
	assert_true(cc_arm_writable("classificationComment"));
	assert_false(cc_arm_writable("incidentNumber"));
}

/* The reason a classification takes (a left-over one would be a 400). */
static void test_fit_reason(void **state)
{
	(void)state;
	static const struct {
		const char *cls, *why, *want;
	} cases[] = {
		{ "TruePositive", NULL, "SuspiciousActivity" },
		{ "TruePositive", "IncorrectAlertLogic", "SuspiciousActivity" },
		{ "BenignPositive", "SuspiciousActivity", "SuspiciousButExpected" },
		{ "FalsePositive", "InaccurateData", "InaccurateData" },
		{ "FalsePositive", "SuspiciousActivity", NULL },
		{ "FalsePositive", NULL, NULL },
		{ "Undetermined", "SuspiciousActivity", NULL },
		{ NULL, "SuspiciousActivity", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *p = json_object();
		if (cases[i].cls)
			json_object_set_new(p, "classification", json_string(cases[i].cls));
		if (cases[i].why)
			json_object_set_new(p, "classificationReason", json_string(cases[i].why));
		assert_int_equal(cc_arm_fit_reason(p), 0);
		const char *got = json_string_value(json_object_get(p, "classificationReason"));
		if (cases[i].want)
			assert_string_equal(got, cases[i].want);
		else
			assert_null(got);
		json_decref(p);
	}
}

static void test_arm_error(void **state)
{
	(void)state;
	char buf[120];
	const char *b = "{\"error\":{\"code\":\"BadRequest\",\"message\":\"Classification is "
	                "required\"}}";
	assert_true(cc_arm_error(b, strlen(b), buf, sizeof(buf)));
	assert_string_equal(buf, "BadRequest: Classification is required");
	assert_false(cc_arm_error("nope", 4, buf, sizeof(buf)));
	assert_false(cc_arm_error("{\"error\":\"x\"}", 13, buf, sizeof(buf)));
}

/* ---- the update through the connector, on a stand-in transport ---- */

struct seen {
	char method[8], url[512], body[4096];
};
static struct seen g_req[16];
static int g_n;
static const char *g_incident;
static const char *g_put_answer; /* NULL: the incident */

static void exchange(void *ctx, const char *method, const char *url, const char *body,
                     const char *if_match, struct cc_http_raw_answer *out)
{
	(void)ctx, (void)if_match;
	struct seen *s = &g_req[g_n < 16 ? g_n : 15];
	g_n++;
	snprintf(s->method, sizeof(s->method), "%s", method);
	snprintf(s->url, sizeof(s->url), "%s", url);
	snprintf(s->body, sizeof(s->body), "%s", body ? body : "");
	const char *b;
	if (strstr(url, "/oauth2/v2.0/token"))
		b = "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"tok\"}";
	else if (strstr(url, "/comments"))
		b = "{\"value\":[]}";
	else if (!strcmp(method, "PUT") && g_put_answer)
		b = g_put_answer;
	else
		b = g_incident;
	*out = (struct cc_http_raw_answer){ .status = 200, .body = b, .body_len = strlen(b) };
}

static const struct cc_http_transport g_transport = { exchange, NULL };

enum { F_TITLE, F_STATE, F_CLASS, F_COUNT };

static void test_update_sequence(void **state)
{
	(void)state;
	static struct cc_config cfg;
	cc_config_defaults(&cfg);
	const char *names[] = { "title", "state", "classification" };
	const char *rn[] = { "title", "status", "classification" };
	for (int f = 0; f < F_COUNT; f++) {
		cfg.fields[f] = (struct cc_field_def){ .name = names[f], .type = CC_FT_STRING };
		cfg.systems[0].map[f] = (struct cc_field_map){ .mapped = true, .remote_name = rn[f] };
	}
	cfg.nfields = F_COUNT;
	cfg.nsystems = 1;
	cfg.systems[0].name = cfg.systems[0].kind = "sentinel";
	struct cc_connector_setting st[] = { { "subscription", "s 1" }, { "resource_group", "rg" },
		                             { "workspace", "ws" }, { "tenant", "t" },
		                             { "client_id", "c" } };
	struct cc_connector_setup setup = { .base_url = "https://management.example", .secret = "x1y2",
		                            .cfg = &cfg, .settings = st, .nsettings = 5,
		                            .transport = &g_transport };
	struct cc_connector c;
	char err[200];
	assert_int_equal(cc_connector_create(&c, "sentinel", &setup, err, sizeof(err)), 0);
	g_incident = INCIDENT;
	g_n = 0;

	/* the incident's version: its lastModifiedTimeUtc in ticks */
	uint64_t rv = 17964648011234567ULL;
	struct cc_write w = { .remote_id = "n", .expected_rv = rv };
	w.values[F_STATE] = "Closed";
	w.values[F_CLASS] = "FalsePositive";
	struct cc_observation o;
	struct cc_call call = { 0 };
	c.ops->update(c.self, &w, &o, &call);
	cc_observation_clear(&o);
	/* token, GET, PUT, then the read back (GET, comments) */
	assert_true(g_n >= 3);
	assert_non_null(strstr(g_req[0].url, "https://login.microsoftonline.com/t/oauth2/v2.0/token"));
	assert_non_null(strstr(g_req[0].body, "scope=https%3A%2F%2Fmanagement.example%2F.default"));
	assert_string_equal(g_req[1].method, "GET");
	assert_string_equal(g_req[1].url, "https://management.example/subscriptions/s%201/"
	                                  "resourceGroups/rg/providers/Microsoft.OperationalInsights/"
	                                  "workspaces/ws/providers/Microsoft.SecurityInsights/"
	                                  "incidents/n?api-version=2025-12-01");
	assert_string_equal(g_req[2].method, "PUT");
	assert_string_equal(g_req[2].url, g_req[1].url);
	json_t *put = json_loads(g_req[2].body, 0, NULL);
	assert_non_null(put);
	assert_string_equal(json_string_value(json_object_get(put, "etag")), "\"0300bf09-0001\"");
	json_t *p = json_object_get(put, "properties");
	assert_string_equal(json_string_value(json_object_get(p, "status")), "Closed");
	assert_string_equal(json_string_value(json_object_get(p, "classification")), "FalsePositive");
	assert_string_equal(json_string_value(json_object_get(p, "title")), "T");
	assert_null(json_object_get(p, "incidentNumber"));
	json_decref(put);

	/* a PUT applied whose answer is not JSON: RETRY, the outcome unknown */
	g_n = 0;
	g_put_answer = "<html>gateway</html>";
	memset(&call, 0, sizeof(call));
	assert_int_equal(c.ops->update(c.self, &w, &o, &call), CC_RETRY);
	assert_true(call.outcome_unknown);
	cc_observation_clear(&o);
	g_put_answer = NULL;

	/* moved since the version expected: CONFLICT, nothing PUT */
	g_n = 0;
	w.expected_rv = rv - 1;
	memset(&call, 0, sizeof(call));
	assert_int_equal(c.ops->update(c.self, &w, &o, &call), CC_CONFLICT);
	cc_observation_clear(&o);
	assert_int_equal(g_n, 1);
	assert_string_equal(g_req[0].method, "GET");

	/* an incident without its etag: malformed, nothing PUT */
	g_n = 0;
	g_incident = "{\"name\":\"n\",\"properties\":{\"lastModifiedTimeUtc\":"
	             "\"2026-12-05T10:00:01.1234567Z\"}}";
	w.expected_rv = 0;
	memset(&call, 0, sizeof(call));
	assert_int_equal(c.ops->update(c.self, &w, &o, &call), CC_RETRY);
	assert_non_null(strstr(call.reason, "malformed answer"));
	cc_observation_clear(&o);
	assert_int_equal(g_n, 1);
	c.ops->destroy(c.self);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_incident_name),
		cmocka_unit_test(test_comment_name),
		cmocka_unit_test(test_name_ok),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_list_query),
		cmocka_unit_test(test_next_link),
		cmocka_unit_test(test_put_body),
		cmocka_unit_test(test_fit_reason),
		cmocka_unit_test(test_arm_error),
		cmocka_unit_test(test_update_sequence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
