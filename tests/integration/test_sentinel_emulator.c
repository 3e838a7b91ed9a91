/*
 * The Sentinel connector against the Sentinel emulator
 * (emulators/sentinel/server.py, started here on a free loopback port and
 * stopped by its process id; no root): every operation of the connector
 * interface, checked on what the emulator then holds: the OAuth token
 * taken and refreshed, creates by PUT to the derived name (twice: one
 * incident), find, read, list with paging and resumption, updates with
 * the etag, a stale version (CONFLICT), a close without a classification
 * (ERROR quoting ARM) and with one (one PUT), comments by derived name
 * (twice: one comment), a person's edit seen by a webhook body, a create
 * whose answer never came (RETRY, outcome unknown; found, sent again: still
 * one incident), 429 with Retry-After, and a token that expires while the
 * connector lives.
 *
 * Usage: test_sentinel_emulator SERVER.PY [PYTHON]
 * Exit 0 when every check holds, 1 otherwise, 77 when python3 is missing.
 */
#include "connectors/registry.h"
#include "connectors/sentinel/arm.h"
#include "core/iso8601.h"
#include "http/client.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { F_TITLE, F_STATE, F_PRIO, F_ASSIGNEE, F_CLASS, F_REASON, F_COUNT };

#define TENANT "t-concord"
#define CLIENT "concord-app"
#define SECRET "emulator-s3cret-value"
#define SUB "00000000-1111-2222-3333-444444444444"
#define INCIDENTS                                                                          \
	"/subscriptions/" SUB "/resourceGroups/rg-test/providers/"                          \
	"Microsoft.OperationalInsights/workspaces/ws-test/providers/"                       \
	"Microsoft.SecurityInsights/incidents"

static int failures, checks;

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		checks++;                                                       \
		if (!(cond)) {                                                  \
			failures++;                                             \
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
			printf(__VA_ARGS__);                                    \
			printf("\n");                                           \
		}                                                               \
	} while (0)

static const char *val(const struct cc_observation *o, int f)
{
	return o->fields[f].present ? o->fields[f].value : "(absent)";
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- the emulator ---- */

static pid_t g_pid;
static char g_dir[64], g_url[64];

static int emulator_start(const char *server, const char *python)
{
	snprintf(g_dir, sizeof(g_dir), "/tmp/sentconn-XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	char db[128];
	snprintf(db, sizeof(db), "%s/sentinel.db", g_dir);
	int fd[2];
	if (pipe(fd) != 0)
		return -1;
	g_pid = fork();
	if (g_pid < 0)
		return -1;
	if (g_pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		execl(python, python, server, "--port", "0", "--db", db, "--tenant", TENANT,
		      "--client", CLIENT ":" SECRET, "--token-ttl", "3", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	FILE *f = fdopen(fd[0], "r");
	char line[128] = "";
	if (!f || !fgets(line, sizeof(line), f) || strncmp(line, "listening 127.0.0.1:", 20) != 0) {
		printf("emulator did not start: %s\n", line);
		return -1;
	}
	/* the rest of its output is not read: it writes nothing more to stdout */
	snprintf(g_url, sizeof(g_url), "http://127.0.0.1:%d", atoi(line + 20));
	return 0;
}

static void emulator_stop(void)
{
	if (g_pid > 0) {
		kill(g_pid, SIGTERM);
		waitpid(g_pid, NULL, 0);
	}
	char p[128];
	snprintf(p, sizeof(p), "%s/sentinel.db", g_dir);
	unlink(p);
	rmdir(g_dir);
}

/* A control request (/emulator/...), no authentication. */
static long control(const char *method, const char *path, const char *body, char **answer)
{
	struct cc_http_options o = { .base_url = g_url };
	struct cc_http_client *c;
	char err[128];
	if (cc_http_client_create(&c, &o, err, sizeof(err)))
		return 0;
	struct cc_http_response r;
	struct cc_call call = { 0 };
	cc_http_request(c, "control", method, path, body, &r, &call);
	long status = r.status;
	if (answer)
		*answer = r.body ? strdup(r.body) : NULL;
	cc_http_response_clear(&r);
	cc_http_client_destroy(c);
	return status;
}

/* ---- the connector ---- */

static struct cc_config g_cfg;
static struct cc_connector_setup g_setup;

static void config_init(void)
{
	cc_config_defaults(&g_cfg);
	static const char *const names[] = { "title", "state", "priority", "assignee",
		                             "classification", "reason" };
	static const char *const remote[] = { "title", "status", "severity", "owner",
		                              "classification", "classificationReason" };
	static const enum cc_field_type types[] = { CC_FT_STRING, CC_FT_ENUM, CC_FT_PRIORITY,
		                                    CC_FT_USER, CC_FT_ENUM, CC_FT_ENUM };
	for (int f = 0; f < F_COUNT; f++) {
		g_cfg.fields[f] = (struct cc_field_def){ .name = names[f], .type = types[f] };
		g_cfg.systems[0].map[f] = (struct cc_field_map){ .mapped = true,
			                                         .remote_name = remote[f] };
	}
	g_cfg.nfields = F_COUNT;
	g_cfg.systems[0].name = "sentinel";
	g_cfg.systems[0].kind = "sentinel";
	g_cfg.nsystems = 1;
}

static struct cc_connector make_timed(long timeout_ms)
{
	static struct cc_connector_setting settings[] = {
		{ "subscription", SUB }, { "resource_group", "rg-test" }, { "workspace", "ws-test" },
		{ "tenant", TENANT }, { "client_id", CLIENT }, { "login_url", NULL },
		{ "scope", "https://management.azure.com/.default" },
	};
	static struct cc_connector_user users[] = { { "alice@contoso.com", "alice" } };
	settings[5].value = g_url;
	g_setup = (struct cc_connector_setup){ .base_url = g_url, .secret = SECRET,
		                               .cfg = &g_cfg, .settings = settings,
		                               .nsettings = 7, .users = users, .nusers = 1,
		                               .timeout_ms = timeout_ms };
	struct cc_connector c = { 0 };
	char err[256];
	if (cc_connector_create(&c, "sentinel", &g_setup, err, sizeof(err)) != 0) {
		printf("FAIL connector: %s\n", err);
		exit(1);
	}
	return c;
}

static struct cc_connector make(void)
{
	return make_timed(10000);
}

static enum cc_result create(struct cc_connector *c, const char *corr, const char *title,
                             struct cc_observation *o, struct cc_call *call)
{
	struct cc_write w = { .correlation_id = corr };
	w.values[F_TITLE] = title;
	w.values[F_STATE] = "New";
	w.values[F_PRIO] = "High";
	w.values[F_ASSIGNEE] = "alice";
	memset(call, 0, sizeof(*call));
	return c->ops->create(c->self, &w, o, call);
}

/* Lists every page since since_s with page_size n: the ids in order, "," joined. */
static enum cc_result list_all(struct cc_connector *c, int64_t since_s, size_t n, char *ids,
                               size_t len, int *pages)
{
	ids[0] = '\0';
	char after[64] = "";
	int64_t after_m = 0;
	*pages = 0;
	for (;;) {
		struct cc_page pg;
		struct cc_call call = { 0 };
		enum cc_result r = c->ops->list_changes(c->self, since_s, after_m,
		                                        after[0] ? after : NULL, n, &pg, &call);
		if (r != CC_OK) {
			printf("list: %s\n", call.reason);
			return r;
		}
		(*pages)++;
		for (size_t i = 0; i < pg.nitems; i++) {
			size_t l = strlen(ids);
			snprintf(ids + l, len - l, "%s%s", l ? "," : "", pg.items[i].remote_id);
		}
		bool more = pg.more;
		if (pg.nitems) {
			snprintf(after, sizeof(after), "%s",
			         pg.next_id ? pg.next_id : pg.items[pg.nitems - 1].remote_id);
			after_m = pg.next_id ? pg.next_mtime_s : pg.items[pg.nitems - 1].mtime_s;
		}
		cc_page_clear(&pg);
		if (!more || *pages > 20)
			return CC_OK;
	}
}

static void exercise(void)
{
	struct cc_connector c = make();
	struct cc_observation o;
	struct cc_call call;
	int64_t t0 = (int64_t)time(NULL) - 5;

	/* create: a PUT to the name derived from the correlation id */
	char name[CC_ARM_UUID_LEN];
	cc_arm_incident_name("concord-1001", name);
	enum cc_result r = create(&c, "concord-1001", "Raised elsewhere", &o, &call);
	CHECK(r == CC_OK, "create: %s", call.reason);
	CHECK(o.remote_id && !strcmp(o.remote_id, name), "create named %s", o.remote_id);
	CHECK(o.correlation_id && !strcmp(o.correlation_id, "concord-1001"), "label %s",
	      o.correlation_id);
	CHECK(!strcmp(val(&o, F_TITLE), "Raised elsewhere") && !strcmp(val(&o, F_PRIO), "High") &&
	      !strcmp(val(&o, F_ASSIGNEE), "alice") && !strcmp(val(&o, F_STATE), "New"),
	      "created %s/%s/%s/%s", val(&o, F_TITLE), val(&o, F_PRIO), val(&o, F_ASSIGNEE),
	      val(&o, F_STATE));
	CHECK(call.requests == 4, "token, PUT, GET, comments: %d requests", call.requests);
	uint64_t rv1 = o.rv;
	cc_observation_clear(&o);

	/* the same create again (a retry): the same incident, not a second one */
	r = create(&c, "concord-1001", "Raised elsewhere", &o, &call);
	CHECK(r == CC_OK && o.remote_id && !strcmp(o.remote_id, name), "create again: %s",
	      call.reason);
	cc_observation_clear(&o);
	char ids[2048];
	int pages;
	struct cc_connector fresh = make(); /* c leaves out the versions it returned */
	CHECK(list_all(&fresh, t0, 100, ids, sizeof(ids), &pages) == CC_OK && !strcmp(ids, name),
	      "one incident after two creates: %s", ids);
	fresh.ops->destroy(fresh.self);

	/* find */
	bool found = false;
	memset(&call, 0, sizeof(call));
	r = c.ops->find_by_correlation(c.self, "concord-1001", &o, &found, &call);
	CHECK(r == CC_OK && found && !strcmp(o.remote_id, name), "find: %s", call.reason);
	cc_observation_clear(&o);
	r = c.ops->find_by_correlation(c.self, "concord-9999", &o, &found, &call);
	CHECK(r == CC_OK && !found, "find of none: %s", call.reason);
	cc_observation_clear(&o);

	/* read, then update at that version */
	memset(&call, 0, sizeof(call));
	r = c.ops->read(c.self, name, &o, &call);
	CHECK(r == CC_OK, "read: %s", call.reason);
	uint64_t rv = o.rv;
	CHECK(rv >= rv1, "the version only grows");
	cc_observation_clear(&o);
	struct cc_write w = { .remote_id = name, .expected_rv = rv };
	w.values[F_TITLE] = "Renamed by concord";
	memset(&call, 0, sizeof(call));
	r = c.ops->update(c.self, &w, &o, &call);
	CHECK(r == CC_OK && !strcmp(val(&o, F_TITLE), "Renamed by concord"), "update: %s",
	      call.reason);
	CHECK(o.rv > rv, "the update moved the version");
	CHECK(!strcmp(val(&o, F_PRIO), "High") && !strcmp(val(&o, F_ASSIGNEE), "alice"),
	      "the other properties kept: %s %s", val(&o, F_PRIO), val(&o, F_ASSIGNEE));
	uint64_t rv2 = o.rv;
	cc_observation_clear(&o);

	/* at a stale version: CONFLICT, nothing written */
	w.values[F_TITLE] = "Stale write";
	memset(&call, 0, sizeof(call));
	r = c.ops->update(c.self, &w, &o, &call);
	CHECK(r == CC_CONFLICT, "stale update: %d %s", r, call.reason);
	cc_observation_clear(&o);

	/* closing without a classification: ARM's 400 quoted */
	struct cc_write cl = { .remote_id = name, .expected_rv = rv2 };
	cl.values[F_STATE] = "Closed";
	memset(&call, 0, sizeof(call));
	r = c.ops->update(c.self, &cl, &o, &call);
	CHECK(r == CC_ERROR && strstr(call.reason, "HTTP 400"), "close without: %d %s", r,
	      call.reason);
	CHECK(!strstr(call.reason, SECRET), "no secret in the reason");
	cc_observation_clear(&o);
	/* with it: one PUT writes status and classification together */
	cl.values[F_CLASS] = "FalsePositive";
	cl.values[F_REASON] = "IncorrectAlertLogic";
	memset(&call, 0, sizeof(call));
	r = c.ops->update(c.self, &cl, &o, &call);
	CHECK(r == CC_OK && !strcmp(val(&o, F_STATE), "Closed") &&
	      !strcmp(val(&o, F_CLASS), "FalsePositive") &&
	      !strcmp(val(&o, F_REASON), "IncorrectAlertLogic"), "close with: %d %s", r,
	      call.reason);
	CHECK(call.requests == 3, "GET, PUT (its answer read back), comments: %d", call.requests);
	cc_observation_clear(&o);

	/* a comment, sent twice: one comment, named by its origin */
	const char *body = "[concord:7:1:55] seen in RT";
	char *cid = NULL, *cid2 = NULL;
	memset(&call, 0, sizeof(call));
	r = c.ops->add_comment(c.self, name, body, &cid, &call);
	CHECK(r == CC_OK && cid, "comment: %s", call.reason);
	r = c.ops->add_comment(c.self, name, body, &cid2, &call);
	CHECK(r == CC_OK && cid && cid2 && !strcmp(cid, cid2), "comment again: %s", call.reason);
	r = c.ops->read(c.self, name, &o, &call);
	CHECK(r == CC_OK && o.ncomments == 1 && cid && !strcmp(o.comments[0].id, cid) &&
	      !strcmp(o.comments[0].body, body), "one comment: %zu", o.ncomments);
	cc_observation_clear(&o);
	free(cid);
	free(cid2);

	/* listing: three incidents, one per page, in keyset order, resumed */
	for (int i = 0; i < 2; i++) {
		char corr[32], title[32];
		snprintf(corr, sizeof(corr), "concord-%d", 2000 + i);
		snprintf(title, sizeof(title), "Paging %d", i);
		r = create(&c, corr, title, &o, &call);
		CHECK(r == CC_OK, "create %s: %s", corr, call.reason);
		cc_observation_clear(&o);
	}
	struct cc_connector poller = make(); /* returns versions it has not returned */
	CHECK(list_all(&poller, t0, 1, ids, sizeof(ids), &pages) == CC_OK &&
	      strlen(ids) == 3 * 36 + 2, "three incidents one per page: %s", ids);
	CHECK(pages >= 3, "%d pages", pages);

	/* a person's edit, named by the playbook's body */
	char edit[512], *ans = NULL;
	snprintf(edit, sizeof(edit), "{\"incident\": \"%s\", \"properties\": {\"title\": "
	         "\"Edited in the portal\"}, \"author\": \"alice\"}", name);
	CHECK(control("POST", "/emulator/edit", edit, NULL) == 200, "edit");
	struct cc_observation now;
	memset(&call, 0, sizeof(call));
	c.ops->read(c.self, name, &now, &call);
	char hook[1024], when[40], sec[24];
	/* the edit's lastModifiedTimeUtc, as the playbook would send it */
	cc_format_utc(sec, sizeof(sec), (int64_t)(now.rv / 10000000u), true);
	snprintf(when, sizeof(when), "%.19s.%07" PRIu64 "Z", sec, now.rv % 10000000u);
	snprintf(hook, sizeof(hook), "{\"incidentId\": \"%s\", \"incidentArmId\": \"%s/%s\", "
	         "\"lastModifiedTimeUtc\": \"%s\", \"operation\": \"updated\"}", name,
	         INCIDENTS, name, when);
	cc_observation_clear(&now);
	struct cc_page pg;
	memset(&call, 0, sizeof(call));
	r = poller.ops->webhook(poller.self, hook, strlen(hook), &pg, &call);
	CHECK(r == CC_OK && pg.nitems == 1 && !strcmp(val(&pg.items[0], F_TITLE),
	                                              "Edited in the portal"),
	      "webhook: %s", call.reason);
	cc_page_clear(&pg);

	/* a create whose answer never comes (applied, then the connection hangs):
	 * RETRY with the outcome unknown; the lookup finds it, and the create
	 * sent again is the same incident */
	struct cc_connector quick = make_timed(1500);
	CHECK(control("POST", "/emulator/faults", "{\"p_timeout_after_write\": 1, "
	              "\"hang_ms\": 3000}", NULL) == 200, "faults");
	r = create(&quick, "concord-3000", "Lost answer", &o, &call);
	CHECK(r == CC_RETRY && call.outcome_unknown, "create timed out: %d %s", r, call.reason);
	cc_observation_clear(&o);
	CHECK(control("POST", "/emulator/faults", "{\"p_timeout_after_write\": 0}", NULL) == 200,
	      "faults off");
	memset(&call, 0, sizeof(call));
	r = quick.ops->find_by_correlation(quick.self, "concord-3000", &o, &found, &call);
	CHECK(r == CC_OK && found && !strcmp(val(&o, F_TITLE), "Lost answer"),
	      "the lost create is found: %s", call.reason);
	cc_observation_clear(&o);
	r = create(&quick, "concord-3000", "Lost answer", &o, &call);
	CHECK(r == CC_OK, "create again: %s", call.reason);
	cc_observation_clear(&o);
	quick.ops->destroy(quick.self);
	struct cc_connector counter = make();
	CHECK(list_all(&counter, t0, 100, ids, sizeof(ids), &pages) == CC_OK &&
	      strlen(ids) == 4 * 36 + 3, "four incidents, not five: %s", ids);
	counter.ops->destroy(counter.self);

	/* 429 with Retry-After: RETRY with its delay */
	CHECK(control("POST", "/emulator/faults", "{\"p_429\": 1}", NULL) == 200, "faults");
	memset(&call, 0, sizeof(call));
	r = c.ops->read(c.self, name, &o, &call);
	CHECK(r == CC_RETRY && call.retry_after_ms == 1000, "429: %d %" PRId64 " %s", r,
	      call.retry_after_ms, call.reason);
	cc_observation_clear(&o);
	CHECK(control("POST", "/emulator/faults", "{\"p_429\": 0}", NULL) == 200, "faults off");
	sleep_ms(1100);

	/* the token lives 3 s: refreshed before it expires, reads go on */
	sleep_ms(3100);
	memset(&call, 0, sizeof(call));
	r = c.ops->read(c.self, name, &o, &call);
	CHECK(r == CC_OK && call.requests == 3, "read after the token's life: %d %d %s", r,
	      call.requests, call.reason);
	cc_observation_clear(&o);
	CHECK(control("GET", "/emulator/stats", NULL, &ans) == 200 && ans &&
	      strstr(ans, "\"2025-12-01\""), "requests by api-version: %.300s", ans ? ans : "");
	free(ans);

	poller.ops->destroy(poller.self);
	c.ops->destroy(c.self);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *python = argc > 2 ? argv[2] : "/usr/bin/python3";
	if (argc < 2) {
		fprintf(stderr, "usage: test_sentinel_emulator SERVER.PY [PYTHON]\n");
		return 2;
	}
	if (access(python, X_OK) != 0) {
		printf("no %s (skipped)\n", python);
		return 77;
	}
	config_init();
	if (emulator_start(argv[1], python) != 0) {
		emulator_stop();
		return 1;
	}
	exercise();
	emulator_stop();
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
