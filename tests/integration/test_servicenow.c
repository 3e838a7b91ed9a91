/*
 * The ServiceNow connector against the ServiceNow emulator
 * (emulators/servicenow/server.py, started by servicenow_connector.sh):
 * every operation of the connector interface, checked on what the
 * emulator then answers, with Basic and with OAuth client credentials.
 * No root: the emulator is a Python process on a loopback port.
 *
 * Usage: test_servicenow URL USER PASSWORD CLIENT_ID CLIENT_SECRET HOOKS_FILE
 * (HOOKS_FILE: the bodies of the emulator's webhooks, one a line)
 * With SN_MEASURE=N in the environment it also seeds N incidents and prints
 * what a first poll of them and a second (idle) poll cost: records,
 * requests, seconds.
 * Exit 0 when every check holds, 1 otherwise.
 */
#include "connectors/registry.h"
#include "http/client.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { F_TITLE, F_STATE, F_PRIO, F_CODE, F_NOTES, F_ASSIGNEE, F_COUNT };

static int failures, checks;
static struct cc_config cfg;

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

static void config(void)
{
	static const char *const names[F_COUNT] = { "title", "state", "priority", "close_code",
		                                    "close_notes", "assignee" };
	static const char *const remote[F_COUNT] = { "short_description", "state", "priority",
		                                     "close_code", "close_notes", "assigned_to" };
	cc_config_defaults(&cfg);
	cfg.nfields = F_COUNT;
	cfg.nsystems = 1;
	struct cc_system_def *sd = &cfg.systems[0];
	sd->name = "sn";
	sd->kind = "servicenow";
	sd->rank = 1;
	sd->comments = true;
	for (int f = 0; f < F_COUNT; f++) {
		cfg.fields[f] = (struct cc_field_def){ .name = names[f],
			                               .type = f == F_PRIO       ? CC_FT_PRIORITY
			                                       : f == F_ASSIGNEE ? CC_FT_USER
			                                                         : CC_FT_STRING };
		sd->map[f] = (struct cc_field_map){ .mapped = true, .remote_name = remote[f] };
	}
}

static struct cc_connector make(const char *url, const char *secret,
                                const struct cc_connector_setting *st, size_t n)
{
	static const struct cc_connector_user users[] = { { "ann.lee", "ann@example.org" } };
	struct cc_connector_setup s = { .base_url = url, .secret = secret, .cfg = &cfg,
		                        .system = 0, .settings = st, .nsettings = n,
		                        .users = users, .nusers = 1, .timeout_ms = 10000 };
	struct cc_connector c;
	char err[256];
	if (cc_connector_create(&c, "servicenow", &s, err, sizeof(err)) != 0) {
		printf("FAIL connector: %s\n", err);
		exit(1);
	}
	return c;
}

static void fresh(struct cc_call *call)
{
	memset(call, 0, sizeof(*call));
}

/* True when the page holds record id. */
static bool page_has(const struct cc_page *pg, const char *id)
{
	for (size_t i = 0; i < pg->nitems; i++)
		if (strcmp(pg->items[i].remote_id, id) == 0)
			return true;
	return false;
}

/* Every record listed since since_s, page by page of page_size. */
static size_t list_all(struct cc_connector *c, int64_t since_s, size_t page_size,
                       const char *want, bool *found)
{
	char after[64] = "";
	int64_t after_m = 0;
	size_t n = 0;
	*found = false;
	for (int page = 0; page < 50; page++) {
		struct cc_page pg;
		struct cc_call call;
		fresh(&call);
		enum cc_result r = c->ops->list_changes(c->self, since_s, after_m,
		                                        after[0] ? after : NULL, page_size, &pg, &call);
		CHECK(r == CC_OK, "list: %s", call.reason);
		if (r != CC_OK)
			return n;
		CHECK(pg.nitems <= page_size, "page of %zu", pg.nitems);
		n += pg.nitems;
		*found |= page_has(&pg, want);
		if (pg.nitems || pg.next_id) {
			snprintf(after, sizeof(after), "%s",
			         pg.next_id ? pg.next_id : pg.items[pg.nitems - 1].remote_id);
			after_m = pg.next_id ? pg.next_mtime_s : pg.items[pg.nitems - 1].mtime_s;
		}
		bool more = pg.more;
		cc_page_clear(&pg);
		if (!more)
			break;
	}
	return n;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t requests_of(struct cc_connector *c)
{
	struct cc_budget_line lines[16];
	size_t n = c->ops->budget(c->self, lines, 16);
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += lines[i].requests;
	return total;
}

/* Seeds n incidents, then times a first poll of them and an idle one. */
static void measure_polls(const char *url, const char *password,
                          const struct cc_connector_setting *basic, int n)
{
	struct cc_http_client *ctl;
	char err[200], body[96];
	struct cc_http_options ho = { .base_url = url, .timeout_ms = 120000 };
	if (cc_http_client_create(&ctl, &ho, err, sizeof(err)) != 0)
		return;
	struct cc_http_response resp;
	struct cc_call call = { 0 };
	enum cc_result r = cc_http_request(ctl, "faults", "POST", "/emulator/faults",
	                                   "{\"deny_audit\":false}", &resp, &call);
	cc_http_response_clear(&resp);
	snprintf(body, sizeof(body), "{\"count\": %d, \"spread_seconds\": 600}", n);
	r = cc_http_request(ctl, "seed", "POST", "/emulator/seed", body, &resp, &call);
	CHECK(r == CC_OK, "seed: %s", call.reason);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(ctl);
	struct cc_connector p = make(url, password, basic, 1);
	for (int pass = 0; pass < 2; pass++) {
		bool seen;
		uint64_t before = requests_of(&p);
		double t0 = now_s();
		size_t got = list_all(&p, time(NULL) - 3600, 100, "", &seen);
		printf("measure: %s poll of %d seeded incidents: %zu records read, %" PRIu64
		       " requests, %.2f s\n", pass ? "second (idle)" : "first", n, got,
		       requests_of(&p) - before, now_s() - t0);
	}
	p.ops->destroy(p.self);
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: test_servicenow URL USER PASSWORD CLIENT_ID CLIENT_SECRET "
		        "HOOKS_FILE\n");
		return 2;
	}
	const char *url = argv[1];
	config();
	const struct cc_connector_setting basic[] = { { "user", argv[2] } };
	struct cc_connector c = make(url, argv[3], basic, 1);
	const struct cc_connector_ops *ops = c.ops;
	struct cc_call call;
	struct cc_observation o;
	enum cc_result r;
	char corr[64], id[64] = "";
	snprintf(corr, sizeof(corr), "concord-%ld", (long)getpid());

	/* create: the correlation id, priority through impact and urgency */
	struct cc_write w = { .correlation_id = corr };
	w.values[F_TITLE] = "printer on fire";
	w.values[F_STATE] = "1";
	w.values[F_PRIO] = "2";
	fresh(&call);
	r = ops->create(c.self, &w, &o, &call);
	CHECK(r == CC_OK, "create: %s", call.reason);
	if (r == CC_OK) {
		snprintf(id, sizeof(id), "%s", o.remote_id);
		CHECK(strlen(id) == 32, "sys_id %s", id);
		CHECK(o.correlation_id && strcmp(o.correlation_id, corr) == 0, "correlation");
		CHECK(strcmp(o.fields[F_PRIO].value, "2") == 0, "priority %s",
		      o.fields[F_PRIO].value);
		CHECK(o.rv >= 1, "rv");
	}
	int64_t created_s = o.created_s;
	cc_observation_clear(&o);

	/* find */
	bool found = false;
	fresh(&call);
	r = ops->find_by_correlation(c.self, corr, &o, &found, &call);
	CHECK(r == CC_OK && found && strcmp(o.remote_id, id) == 0, "find: %s", call.reason);
	cc_observation_clear(&o);
	fresh(&call);
	r = ops->find_by_correlation(c.self, "concord-none-such", &o, &found, &call);
	CHECK(r == CC_OK && !found, "find none: %s", call.reason);
	cc_observation_clear(&o);

	/* read */
	fresh(&call);
	r = ops->read(c.self, id, &o, &call);
	CHECK(r == CC_OK && !o.deleted, "read: %s", call.reason);
	uint64_t rv = o.rv;
	CHECK(strcmp(o.fields[F_TITLE].value, "printer on fire") == 0, "title");
	cc_observation_clear(&o);

	/* update at the version read; then a stale version */
	w = (struct cc_write){ .remote_id = id, .expected_rv = rv };
	w.values[F_TITLE] = "printer still on fire";
	w.values[F_PRIO] = "4";
	w.values[F_ASSIGNEE] = "ann@example.org"; /* sys_user ann.lee through the user map */
	fresh(&call);
	r = ops->update(c.self, &w, &o, &call);
	CHECK(r == CC_OK, "update: %s", call.reason);
	CHECK(r != CC_OK || o.rv > rv, "rv moved");
	if (r == CC_OK) {
		CHECK(strcmp(o.fields[F_PRIO].value, "4") == 0, "priority 4: %s",
		      o.fields[F_PRIO].value);
		CHECK(o.fields[F_TITLE].mtime_s >= created_s, "the title's time from the audit");
		CHECK(strcmp(o.fields[F_ASSIGNEE].value, "ann@example.org") == 0, "assignee %s",
		      o.fields[F_ASSIGNEE].value);
		rv = o.rv;
	}
	cc_observation_clear(&o);
	w.expected_rv = rv - 1;
	fresh(&call);
	r = ops->update(c.self, &w, &o, &call);
	CHECK(r == CC_CONFLICT, "stale update: %d %s", r, call.reason);
	cc_observation_clear(&o);

	/* resolve without close_code and close_notes: the data policy's 403 */
	w = (struct cc_write){ .remote_id = id, .expected_rv = rv };
	w.values[F_STATE] = "6";
	fresh(&call);
	r = ops->update(c.self, &w, &o, &call);
	CHECK(r == CC_ERROR && strstr(call.reason, "HTTP 403:") &&
	              strstr(call.reason, "Data Policy Exception: The following fields are mandatory"),
	      "policy: %d %s", r,
	      call.reason);
	cc_observation_clear(&o);
	w.values[F_CODE] = "Solved (Permanently)";
	w.values[F_NOTES] = "the printer was replaced";
	fresh(&call);
	r = ops->update(c.self, &w, &o, &call);
	CHECK(r == CC_OK, "resolve with its close fields: %s", call.reason);
	if (r == CC_OK)
		rv = o.rv;
	cc_observation_clear(&o);

	/* comment: a work note, its id the journal row's sys_id */
	char *cid = NULL;
	fresh(&call);
	r = ops->add_comment(c.self, id, "[concord:1:0:9] mirrored", &cid, &call);
	CHECK(r == CC_OK && cid && strlen(cid) == 32, "comment: %s", call.reason);
	fresh(&call);
	r = ops->read(c.self, id, &o, &call);
	CHECK(r == CC_OK && o.ncomments >= 1 && cid &&
	              strcmp(o.comments[o.ncomments - 1].id, cid) == 0,
	      "comment read back: %s (%zu)", call.reason, o.ncomments);
	CHECK(r != CC_OK || o.rv > rv, "a work note moves the version");
	if (r == CC_OK)
		rv = o.rv;
	cc_observation_clear(&o);
	free(cid);

	/* more records, then the listing page by page on a fresh connector */
	for (int i = 0; i < 3; i++) {
		struct cc_write m = { 0 };
		m.values[F_TITLE] = "another";
		fresh(&call);
		r = ops->create(c.self, &m, &o, &call);
		CHECK(r == CC_OK, "create %d: %s", i, call.reason);
		cc_observation_clear(&o);
	}
	struct cc_connector p = make(url, argv[3], basic, 1);
	bool seen;
	size_t n = list_all(&p, created_s - 30, 2, id, &seen);
	CHECK(n >= 4 && seen, "listed %zu, ours %s", n, seen ? "seen" : "not seen");
	n = list_all(&p, created_s - 30, 2, id, &seen);
	CHECK(n == 0, "listed again: %zu records read (the seen cache)", n);
	p.ops->destroy(p.self);

	/* webhook: the business rule's body names the record */
	char body[256];
	snprintf(body, sizeof(body), "{\"table\":\"incident\",\"sys_id\":\"%s\",\"number\":"
	         "\"INC0010001\",\"sys_mod_count\":%" PRIu64 ",\"sys_updated_on\":"
	         "\"2026-12-05 10:00:00\",\"operation\":\"update\"}", id, rv + 5);
	struct cc_page pg;
	fresh(&call);
	r = ops->webhook(c.self, body, strlen(body), &pg, &call);
	CHECK(r == CC_OK && pg.nitems == 1 && strcmp(pg.items[0].remote_id, id) == 0,
	      "webhook: %s", call.reason);
	cc_page_clear(&pg);
	fresh(&call);
	r = ops->webhook(c.self, "{\"table\":\"incident\"}", 20, &pg, &call);
	CHECK(r == CC_ERROR && pg.nitems == 0, "malformed webhook: %s", call.reason);
	cc_page_clear(&pg);

	/* the emulator's own webhook bodies (its business rule): each names a record we read */
	size_t hooks = 0, hooks_ok = 0;
	for (int wait = 0; wait < 50 && hooks < 5; wait++) {
		FILE *hf = fopen(argv[6], "r");
		char line[1024];
		hooks = hooks_ok = 0;
		while (hf && fgets(line, sizeof(line), hf)) {
			hooks++;
			fresh(&call);
			r = ops->webhook(c.self, line, strcspn(line, "\n"), &pg, &call);
			hooks_ok += r == CC_OK;
			CHECK(r == CC_OK, "the emulator's webhook %s: %s", line, call.reason);
			cc_page_clear(&pg);
		}
		if (hf)
			fclose(hf);
		if (hooks < 5)
			usleep(100000);
	}
	CHECK(hooks >= 5 && hooks_ok == hooks, "%zu webhooks, %zu read", hooks, hooks_ok);

	/* read of a record gone */
	fresh(&call);
	r = ops->read(c.self, "0123456789abcdef0123456789abcdef", &o, &call);
	CHECK(r == CC_OK && o.deleted, "gone: %s", call.reason);
	cc_observation_clear(&o);

	/* sys_audit refused (403): the field times fall back to the record's, read goes on */
	struct cc_http_client *ctl;
	char err[200];
	struct cc_http_options ho = { .base_url = url };
	if (cc_http_client_create(&ctl, &ho, err, sizeof(err)) == 0) {
		struct cc_http_response resp;
		fresh(&call);
		r = cc_http_request(ctl, "faults", "POST", "/emulator/faults", "{\"deny_audit\":true}",
		                    &resp, &call);
		CHECK(r == CC_OK, "faults: %s", call.reason);
		cc_http_response_clear(&resp);
		cc_http_client_destroy(ctl);
	}
	struct cc_connector d = make(url, argv[3], basic, 1);
	for (int i = 0; i < 2; i++) {
		fresh(&call);
		r = d.ops->read(d.self, id, &o, &call);
		CHECK(r == CC_OK && !o.deleted && o.fields[F_TITLE].mtime_s == 0,
		      "read without the audit: %s", call.reason);
		/* first: row, journal, audit (403), the assignee's sys_user; then row and journal */
		CHECK(call.requests == (i ? 2 : 4), "requests %d: the audit asked once", call.requests);
		cc_observation_clear(&o);
	}
	d.ops->destroy(d.self);

	/* OAuth client credentials */
	const struct cc_connector_setting oauth[] = { { "client_id", argv[4] },
		                                      { "client_secret", argv[5] } };
	struct cc_connector oc = make(url, NULL, oauth, 2);
	fresh(&call);
	r = oc.ops->read(oc.self, id, &o, &call);
	CHECK(r == CC_OK && !o.deleted, "OAuth read: %s", call.reason);
	cc_observation_clear(&o);
	oc.ops->destroy(oc.self);

	const char *measure = getenv("SN_MEASURE");
	if (measure && atoi(measure) > 0)
		measure_polls(url, argv[3], basic, atoi(measure));
	c.ops->destroy(c.self);
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
