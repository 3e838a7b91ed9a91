/*
 * The RT and Redmine connectors against canned answers, through the HTTP
 * client's stand-in transport (no network, no root): a well-formed listing
 * and read work, and every answer of the wrong shape (no array, wrong types
 * inside, unreadable times, a ticket without its queue) is a failed call
 * naming a malformed answer, never an empty success and never a departure.
 * DESIGN section 12: a malformed answer never moves a cursor.
 */
#include "connectors/registry.h"
#include "http/client.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

/* ---- a routing table of canned answers ---- */

struct route {
	const char *method;
	const char *contains; /* a substring of the URL */
	long status;
	const char *headers;
	const char *body;
	int hits;
};

static struct route *g_routes;
static size_t g_nroutes;
static int g_unrouted;

static void exchange(void *ctx, const char *method, const char *url, const char *body,
                     const char *if_match, struct cc_http_raw_answer *out)
{
	(void)ctx, (void)body, (void)if_match;
	for (size_t i = 0; i < g_nroutes; i++) {
		struct route *r = &g_routes[i];
		if (strcmp(r->method, method) != 0 || !strstr(url, r->contains))
			continue;
		r->hits++;
		*out = (struct cc_http_raw_answer){
			.status = r->status,
			.headers = r->headers,
			.headers_len = r->headers ? strlen(r->headers) : 0,
			.body = r->body,
			.body_len = r->body ? strlen(r->body) : 0,
		};
		return;
	}
	g_unrouted++;
	*out = (struct cc_http_raw_answer){ .status = 404, .body = "no route", .body_len = 8 };
}

static const struct cc_http_transport g_transport = { exchange, NULL };

/* ---- a configuration of two systems, two fields ---- */

enum { F_TITLE, F_STATE, F_COUNT };
static struct cc_config g_cfg;

static void config_init(void)
{
	cc_config_defaults(&g_cfg);
	g_cfg.nfields = F_COUNT;
	g_cfg.fields[F_TITLE] = (struct cc_field_def){ .name = "title", .type = CC_FT_STRING };
	g_cfg.fields[F_STATE] = (struct cc_field_def){ .name = "state", .type = CC_FT_ENUM };
	g_cfg.nsystems = 2;
	const char *names[2][F_COUNT] = { { "Subject", "Status" }, { "subject", "status" } };
	for (int s = 0; s < 2; s++) {
		struct cc_system_def *sd = &g_cfg.systems[s];
		sd->name = s == 0 ? "rt" : "redmine";
		sd->kind = sd->name;
		sd->rank = s + 1;
		for (int f = 0; f < F_COUNT; f++)
			sd->map[f] = (struct cc_field_map){ .mapped = true, .remote_name = names[s][f] };
	}
}

static struct cc_connector make(const char *kind)
{
	static const struct cc_connector_setting rt_settings[] = { { "queue", "General" } };
	static const struct cc_connector_setting rm_settings[] = { { "project", "sync" } };
	bool rt = strcmp(kind, "rt") == 0;
	struct cc_connector_setup setup = {
		.base_url = rt ? "http://rt.test/REST/2.0" : "http://redmine.test",
		.secret = "tok-secret-1234",
		.cfg = &g_cfg,
		.system = rt ? 0 : 1,
		.settings = rt ? rt_settings : rm_settings,
		.nsettings = 1,
		.transport = &g_transport,
	};
	struct cc_connector c;
	char err[200];
	if (cc_connector_create(&c, kind, &setup, err, sizeof(err)) != 0)
		fail_msg("create %s: %s", kind, err);
	return c;
}

static enum cc_result list(struct cc_connector *c, struct cc_page *pg, struct cc_call *call)
{
	memset(call, 0, sizeof(*call));
	return c->ops->list_changes(c->self, 1000, 0, NULL, 100, pg, call);
}

static enum cc_result read_one(struct cc_connector *c, const char *id,
                               struct cc_observation *o, struct cc_call *call)
{
	memset(call, 0, sizeof(*call));
	return c->ops->read(c->self, id, o, call);
}

/* ---- RT ---- */

#define RT_QUEUE { "GET", "/queue/General", 200, NULL, "{\"id\": 1, \"Name\": \"General\"}", 0 }
#define RT_HISTORY_OK \
	"{\"items\": [{\"id\": 10, \"Type\": \"Create\", \"Created\": \"2026-11-01T10:00:00Z\", " \
	"\"Creator\": {\"id\": \"root\"}}], \"page\": 1, \"pages\": 1, \"per_page\": 100}"
#define RT_TICKET_OK \
	"{\"id\": 7, \"Subject\": \"printer on fire\", \"Status\": \"open\", " \
	"\"Queue\": {\"id\": \"1\"}, \"LastUpdated\": \"2026-11-01T10:00:00Z\", " \
	"\"Created\": \"2026-11-01T10:00:00Z\", \"CustomFields\": []}"

static void rt_listing_answers(const char *body, enum cc_result want, const char *why)
{
	struct route routes[] = {
		RT_QUEUE,
		{ "GET", "/transactions?", 200, NULL, body, 0 },
	};
	g_routes = routes;
	g_nroutes = 2;
	struct cc_connector c = make("rt");
	struct cc_page pg;
	struct cc_call call;
	enum cc_result r = list(&c, &pg, &call);
	if (r != want)
		fail_msg("%s: list answered %d (%s), want %d", why, r, call.reason, want);
	if (want != CC_OK) {
		assert_non_null(strstr(call.reason, "malformed"));
		assert_int_equal(pg.nitems, 0);
	}
	cc_page_clear(&pg);
	c.ops->destroy(c.self);
}

static void test_rt_listing_shapes(void **state)
{
	(void)state;
	rt_listing_answers("{\"items\": [], \"page\": 1, \"pages\": 0, \"total\": 0}", CC_OK,
	                   "an empty listing");
	rt_listing_answers("{\"items\": []}", CC_OK, "an empty listing without pages");
	/* what RT 5.0.3 really answers to an empty search (tests/replay/rt/list-idle.json) */
	rt_listing_answers("{\"page\": 1, \"count\": 0, \"per_page\": 100, \"total\": 0, "
	                   "\"pages\": 0.0, \"items\": []}", CC_OK, "pages 0.0");
	rt_listing_answers("{\"items\": [], \"pages\": 0.5}", CC_RETRY, "pages not whole");
	rt_listing_answers("{}", CC_RETRY, "{}");
	rt_listing_answers("{\"items\": \"notalist\"}", CC_RETRY, "items not a list");
	rt_listing_answers("[]", CC_RETRY, "a list, not an object");
	rt_listing_answers("{\"items\": [1, \"x\", null]}", CC_RETRY, "items of wrong types");
	rt_listing_answers("{\"items\": [{\"id\": {\"x\": 1}, \"ObjectId\": \"7\", "
	                   "\"Created\": \"2026-11-01 10:00:00\"}]}", CC_RETRY, "an id object");
	rt_listing_answers("{\"items\": [{\"id\": 11, \"ObjectId\": \"7\", "
	                   "\"Created\": \"yesterday\"}]}", CC_RETRY, "an unreadable time");
	rt_listing_answers("{\"items\": [{\"id\": 11, \"ObjectId\": \"7\", "
	                   "\"Created\": \"2026-11-01 10:00:00\"}], \"pages\": \"many\"}",
	                   CC_RETRY, "pages not a number");
	rt_listing_answers("not json at all", CC_RETRY, "garbage");
}

static void rt_read_answers(const char *history, const char *ticket, enum cc_result want,
                            bool deleted, const char *why)
{
	struct route routes[] = {
		RT_QUEUE,
		{ "GET", "/ticket/7/history", 200, NULL, history, 0 },
		{ "GET", "/ticket/7/attachments", 200, NULL, "{\"items\": []}", 0 },
		{ "GET", "/ticket/7", 200, "ETag: \"10\"\r\n", ticket, 0 },
	};
	g_routes = routes;
	g_nroutes = 4;
	struct cc_connector c = make("rt");
	struct cc_observation o;
	struct cc_call call;
	enum cc_result r = read_one(&c, "7", &o, &call);
	if (r != want)
		fail_msg("%s: read answered %d (%s), want %d", why, r, call.reason, want);
	if (r == CC_OK) {
		assert_int_equal(o.deleted, deleted);
		assert_int_equal(o.rv, 10);
	} else {
		assert_non_null(strstr(call.reason, "malformed"));
	}
	cc_observation_clear(&o);
	c.ops->destroy(c.self);
}

static void test_rt_read_shapes(void **state)
{
	(void)state;
	rt_read_answers(RT_HISTORY_OK, RT_TICKET_OK, CC_OK, false, "a good ticket");
	rt_read_answers(RT_HISTORY_OK,
	                "{\"id\": 7, \"Queue\": {\"id\": \"2\"}, \"LastUpdated\": "
	                "\"2026-11-01T10:00:00Z\", \"Created\": \"2026-11-01T10:00:00Z\"}",
	                CC_OK, true, "a ticket in another queue has left");
	/* a ticket without its queue is a bad answer, not a departure */
	rt_read_answers(RT_HISTORY_OK,
	                "{\"id\": 7, \"LastUpdated\": \"2026-11-01T10:00:00Z\", "
	                "\"Created\": \"2026-11-01T10:00:00Z\"}", CC_RETRY, false, "no queue");
	rt_read_answers(RT_HISTORY_OK,
	                "{\"id\": 7, \"Queue\": {\"id\": \"1\"}, \"LastUpdated\": \"soon\", "
	                "\"Created\": \"2026-11-01T10:00:00Z\"}", CC_RETRY, false, "bad time");
	rt_read_answers(RT_HISTORY_OK, "[1]", CC_RETRY, false, "ticket not an object");
	rt_read_answers("{}", RT_TICKET_OK, CC_RETRY, false, "history without items");
	rt_read_answers("{\"items\": [{\"Type\": \"Set\"}]}", RT_TICKET_OK, CC_RETRY, false,
	                "a transaction without id");
}

/* ---- Redmine ---- */

#define RM_PROJECT { "GET", "/projects/sync.json", 200, NULL, "{\"project\": {\"id\": 1}}", 0 }
#define RM_ME { "GET", "/users/current.json", 200, NULL, \
	        "{\"user\": {\"id\": 1, \"login\": \"admin\"}}", 0 }

static void rm_listing_answers(const char *body, enum cc_result want, const char *why)
{
	struct route routes[] = {
		RM_PROJECT,
		RM_ME,
		{ "GET", "/issues.json?", 200, NULL, body, 0 },
	};
	g_routes = routes;
	g_nroutes = 3;
	struct cc_connector c = make("redmine");
	struct cc_page pg;
	struct cc_call call;
	enum cc_result r = list(&c, &pg, &call);
	if (r != want)
		fail_msg("%s: list answered %d (%s), want %d", why, r, call.reason, want);
	if (want != CC_OK)
		assert_non_null(strstr(call.reason, "malformed"));
	cc_page_clear(&pg);
	c.ops->destroy(c.self);
}

static void test_redmine_listing_shapes(void **state)
{
	(void)state;
	rm_listing_answers("{\"issues\": [], \"total_count\": 0, \"offset\": 0, \"limit\": 100}",
	                   CC_OK, "an empty listing");
	rm_listing_answers("{}", CC_RETRY, "{}");
	rm_listing_answers("{\"issues\": {}}", CC_RETRY, "issues not a list");
	rm_listing_answers("{\"issues\": [\"x\"]}", CC_RETRY, "issues of wrong types");
	rm_listing_answers("{\"issues\": [{\"id\": 5, \"updated_on\": \"never\", "
	                   "\"project\": {\"id\": 1}}]}", CC_RETRY, "an unreadable time");
	rm_listing_answers("{\"issues\": [{\"id\": 5, \"updated_on\": \"2026-11-01T10:00:00Z\"}]}",
	                   CC_RETRY, "an issue without project");
	rm_listing_answers("{\"issues\": [], \"total_count\": \"lots\"}", CC_RETRY,
	                   "total_count not a number");
	rm_listing_answers("<html>502</html>", CC_RETRY, "an HTML page");
}

static void rm_read_answers(const char *issue, enum cc_result want, const char *why)
{
	struct route routes[] = {
		RM_PROJECT,
		RM_ME,
		{ "GET", "/issues/5.json", 200, NULL, issue, 0 },
	};
	g_routes = routes;
	g_nroutes = 3;
	struct cc_connector c = make("redmine");
	struct cc_observation o;
	struct cc_call call;
	enum cc_result r = read_one(&c, "5", &o, &call);
	if (r != want)
		fail_msg("%s: read answered %d (%s), want %d", why, r, call.reason, want);
	if (r == CC_OK)
		assert_false(o.deleted);
	else
		assert_non_null(strstr(call.reason, "malformed"));
	cc_observation_clear(&o);
	c.ops->destroy(c.self);
}

#define RM_ISSUE(extra) \
	"{\"issue\": {\"id\": 5, \"subject\": \"s\", \"status\": {\"id\": 1, \"name\": \"New\"}, " \
	"\"project\": {\"id\": 1}, \"author\": {\"id\": 1, \"name\": \"A\"}, " \
	"\"created_on\": \"2026-11-01T10:00:00Z\", \"updated_on\": \"2026-11-01T10:00:00Z\"" extra "}}"

static void test_redmine_read_shapes(void **state)
{
	(void)state;
	rm_read_answers(RM_ISSUE(", \"journals\": []"), CC_OK, "a good issue");
	rm_read_answers("{\"issue\": 5}", CC_RETRY, "issue not an object");
	rm_read_answers(RM_ISSUE(", \"journals\": {}"), CC_RETRY, "journals not a list");
	rm_read_answers(RM_ISSUE(", \"journals\": [{\"id\": 3}]"), CC_RETRY,
	                "a journal without time");
	rm_read_answers(RM_ISSUE(", \"journals\": [{\"id\": 3, \"created_on\": "
	                         "\"2026-11-01T10:00:00Z\", \"details\": 7}]"), CC_RETRY,
	                "details not a list");
	/* an issue without its project is a bad answer, not a departure */
	rm_read_answers("{\"issue\": {\"id\": 5, \"created_on\": \"2026-11-01T10:00:00Z\", "
	                "\"updated_on\": \"2026-11-01T10:00:00Z\"}}", CC_RETRY, "no project");
}

int main(void)
{
	config_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rt_listing_shapes),
		cmocka_unit_test(test_rt_read_shapes),
		cmocka_unit_test(test_redmine_listing_shapes),
		cmocka_unit_test(test_redmine_read_shapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
