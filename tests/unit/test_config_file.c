/*
 * Tests of the configuration file (src/config/: the loader, the walker and
 * the rows): the shipped example loads into the engine's configuration,
 * every kind of error names the right line and column, and secrets never
 * reach a message. Connector kinds and settings are checked through a
 * stand-in for the registry's options (rt_options below).
 *
 * Each case writes its YAML into a temporary file, as a user would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config/config_file.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef CC_SOURCE_ROOT
#define CC_SOURCE_ROOT "."
#endif

static char tmpdir[256];

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cc-config-test-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes text to DIR/name and returns the path (static buffer). */
static const char *write_file(const char *name, const char *text)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Writes len bytes (NUL bytes included) to DIR/name; returns the path. */
static const char *write_bytes(const char *name, const char *data, size_t len)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return path;
}

/* Loads yaml with the options (NULL: any kind and settings), expects a
 * failure at line:col whose message contains want. */
static void expect_error_kinds(const struct cc_config_options *opt, const char *yaml, int line,
                               int col, const char *want)
{
	char path[512];
	snprintf(path, sizeof(path), "%s", write_file("c.yaml", yaml));
	struct cc_file_config *c = (void *)1;
	char err[1024];
	int rc = cc_config_file_load(&c, path, opt, err, sizeof(err));
	if (rc == 0)
		fail_msg("loaded, expected an error containing '%s'", want);
	assert_null(c);
	char prefix[600];
	snprintf(prefix, sizeof(prefix), "%s:%d:%d: ", path, line, col);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, want))
		fail_msg("got   '%s'\nwanted '%s...%s'", err, prefix, want);
}

static void expect_error(const char *yaml, int line, int col, const char *want)
{
	expect_error_kinds(NULL, yaml, line, col, want);
}

/* Loads yaml (opt NULL: any kind), fails the test with the error if it does
 * not load; the caller frees the result. */
static struct cc_file_config *expect_load(const struct cc_config_options *opt, const char *yaml)
{
	const char *path = write_file("ok.yaml", yaml);
	struct cc_file_config *c = NULL;
	char err[1024] = "";
	if (cc_config_file_load(&c, path, opt, err, sizeof(err)))
		fail_msg("%s", err);
	assert_non_null(c);
	return c;
}

static void set_env(void)
{
	setenv("RT_REST2_URL", "https://rt.example.org/REST/2.0", 1);
	setenv("RT_TOKEN", "rt-token-7c1f", 1);
	setenv("REDMINE_URL", "https://redmine.example.org", 1);
	setenv("REDMINE_API_KEY", "redmine-key-99ab", 1);
	setenv("REDMINE_PROJECT", "ops", 1);
	setenv("RT_USER", "concord", 1);
	setenv("REDMINE_USER", "concord", 1);
}

static const struct cc_value_entry *entry(const struct cc_field_map *m, const char *remote)
{
	for (size_t i = 0; i < m->nentries; i++)
		if (strcmp(m->entries[i].remote, remote) == 0)
			return &m->entries[i];
	return NULL;
}

static void test_example_loads(void **state)
{
	set_env();
	struct cc_file_config *c;
	char err[1024] = "";
	int rc = cc_config_file_load(&c, CC_SOURCE_ROOT "/examples/rt-redmine.yaml", NULL, err,
	                             sizeof(err));
	if (rc)
		fail_msg("%s", err);
	const struct cc_config *cfg = &c->engine;
	assert_string_equal(c->store, "sqlite:concord-demo.db");
	assert_string_equal(c->listen, "127.0.0.1:8484");
	assert_int_equal(c->admin_token.source, CC_SRC_NONE);

	assert_int_equal(cfg->nfields, 4);
	int title = cc_config_field(cfg, "title"), st = cc_config_field(cfg, "state"),
	    prio = cc_config_field(cfg, "priority"), who = cc_config_field(cfg, "assignee");
	assert_true(title >= 0 && st >= 0 && prio >= 0 && who >= 0);
	assert_int_equal(cfg->fields[st].type, CC_FT_ENUM);
	assert_int_equal(cfg->fields[prio].type, CC_FT_PRIORITY);
	assert_int_equal(cfg->fields[who].type, CC_FT_USER);
	assert_int_equal(cfg->fields[prio].policy, CC_POLICY_LWW);
	assert_int_equal(cfg->dedup_title_field, title);
	assert_true(cfg->fields[title].dedup_key);

	assert_int_equal(cfg->nsystems, 2);
	int rt = cc_config_file_system(c, "rt"), rm = cc_config_file_system(c, "redmine");
	assert_int_equal(rt, 0);
	assert_int_equal(rm, 1);
	const struct cc_system_def *RT = &cfg->systems[rt], *RM = &cfg->systems[rm];
	assert_string_equal(RT->kind, "rt");
	assert_string_equal(RM->kind, "redmine");
	assert_int_equal(RT->rank, 1);
	assert_int_equal(RM->rank, 2);
	assert_int_equal(RT->poll_interval_ms, 2000);
	assert_int_equal(RT->poll_overlap_s, 30);
	assert_int_equal(RT->search_lag_ms, 5000);
	assert_int_equal(RT->page_size, 100);
	assert_true(RT->comments && RM->comments);
	assert_string_equal(RT->integration_user, "concord");
	assert_int_equal(RT->nroutes, 0);

	/* connectors' part: secrets resolved, settings, users */
	assert_string_equal(c->system[rt].url.value, "https://rt.example.org/REST/2.0");
	assert_string_equal(c->system[rt].token.value, "rt-token-7c1f");
	assert_int_equal(c->system[rt].token.source, CC_SRC_ENV);
	assert_string_equal(c->system[rt].token.from, "RT_TOKEN");
	assert_string_equal(c->system[rm].token.value, "redmine-key-99ab");
	assert_string_equal(cc_config_file_setting(c, rt, "queue"), "General");
	assert_string_equal(cc_config_file_setting(c, rt, "correlation_field"), "ExternalRef");
	assert_string_equal(cc_config_file_setting(c, rm, "correlation_field"), "ExternalRef");
	assert_string_equal(cc_config_file_setting(c, rm, "project"), "ops");
	assert_null(cc_config_file_setting(c, rm, "queue"));
	assert_string_equal(cc_config_file_person(c, rt, "alice"), "alice@example.org");
	assert_string_equal(cc_config_file_person(c, rm, "asmith"), "alice@example.org");

	/* title: identity both ways */
	assert_true(RT->map[title].mapped);
	assert_int_equal(RT->map[title].kind, CC_MAP_IDENTITY);
	assert_string_equal(RT->map[title].remote_name, "Subject");
	assert_string_equal(RM->map[title].remote_name, "subject");

	/* state: RT resolved stands for {resolved, closed}, default resolved */
	const struct cc_field_map *m = &RT->map[st];
	assert_int_equal(m->kind, CC_MAP_TABLE);
	assert_int_equal(m->nentries, 5);
	const struct cc_value_entry *e = entry(m, "resolved");
	assert_non_null(e);
	assert_string_equal(e->canonical[0], "resolved");
	assert_string_equal(e->canonical[1], "closed");
	assert_null(e->canonical[2]);
	assert_string_equal(e->dflt, "resolved");
	assert_string_equal(entry(m, "open")->canonical[0], "in_progress");
	assert_string_equal(entry(m, "stalled")->canonical[0], "feedback");
	m = &RM->map[st];
	assert_int_equal(m->nentries, 6);
	assert_string_equal(entry(m, "Closed")->canonical[0], "closed");
	assert_string_equal(entry(m, "In Progress")->canonical[0], "in_progress");

	/* priority: RT by ranges, Redmine by names */
	assert_int_equal(RT->map[prio].kind, CC_MAP_RANGE);
	assert_int_equal(RT->map[prio].nranges, 5);
	assert_string_equal(RT->map[prio].remote_name, "Priority");
	const struct cc_value_range *r = RT->map[prio].ranges;
	assert_int_equal(r[0].from, 0);
	assert_int_equal(r[0].to, 19);
	assert_string_equal(r[0].canonical, "low");
	assert_string_equal(r[0].dflt, "10");
	assert_int_equal(r[4].from, 80);
	assert_int_equal(r[4].to, 100);
	assert_string_equal(r[4].canonical, "immediate");
	assert_string_equal(r[4].dflt, "90");
	assert_string_equal(r[1].canonical, "normal");
	assert_string_equal(r[1].dflt, "30");
	assert_int_equal(RM->map[prio].kind, CC_MAP_TABLE);
	assert_string_equal(entry(&RM->map[prio], "Immediate")->canonical[0], "immediate");

	/* assignee: through the users maps */
	assert_string_equal(RT->map[who].remote_name, "Owner");
	assert_int_equal(RT->map[who].kind, CC_MAP_TABLE);
	/* the connector translates accounts; the engine sees the listed persons */
	assert_int_equal(RT->map[who].nentries, 3);
	assert_string_equal(entry(&RT->map[who], "bob@example.org")->canonical[0], "bob@example.org");
	assert_null(entry(&RT->map[who], "bob"));
	assert_string_equal(entry(&RM->map[who], "bob@example.org")->canonical[0], "bob@example.org");
	assert_string_equal(RM->map[who].remote_name, "assigned_to");

	char verr[256];
	assert_int_equal(cc_config_validate(cfg, verr, sizeof(verr)), 0);
	cc_config_file_free(c);
	cc_config_file_free(NULL);
}

/* Every optional key, secrets from a file (relative to the config file)
 * and from the environment, and the engine-wide sections. */
static void test_every_key(void **state)
{
	write_file("admin.secret", "  admin-secret-x1\n\n");
	setenv("CC_TEST_TOKEN_A", "token-a-55", 1);
	setenv("CC_TEST_TOKEN_B", "token-b-66", 1);
	const char *path = write_file("full.yaml",
		"store: memory\n"
		"listen: '[::1]:9000'\n"
		"admin_token: {file: admin.secret}\n"
		"create_settle: 1m30s\n"
		"clock_uncertainty: 1500ms\n"
		"dedup: {title: title, caller: caller, link_score: 95, review_score: 60,\n"
		"        window: 1h, close: 90s, close_words: 4}\n"
		"outbox: {backoff_base: 2s, backoff_max: 5m, dead_letter_after: 12h,\n"
		"         breaker_failures: 3, breaker_open: 30s}\n"
		"fields:\n"
		"  - {name: title}\n"
		"  - {name: caller, type: user}\n"
		"  - {name: group, type: enum, policy: manual}\n"
		"  - {name: prio, type: priority, policy: {owner: b, mode: ignore}}\n"
		"systems:\n"
		"  - name: a\n"
		"    kind: sim\n"
		"    url: http://a.example\n"
		"    token: {env: CC_TEST_TOKEN_A}\n"
		"    rank: 10\n"
		"    page_size: 7\n"
		"    comments: false\n"
		"    timeout: 12s\n"
		"    rate_limit: 25\n"
		"    concurrency: 8\n"
		"    ca_file: /etc/ssl/certs/ca-certificates.crt\n"
		"    routes: [{field: group, op: ne, value: security}, {field: prio, value: ''}]\n"
		"    fields: {title: t, caller: c, group: g, prio: p}\n"
		"  - name: b\n"
		"    kind: sim\n"
		"    token: {env: CC_TEST_TOKEN_B}\n"
		"    rank: 5\n"
		"    fields:\n"
		"      title: t\n");
	struct cc_file_config *c;
	char err[1024] = "";
	if (cc_config_file_load(&c, path, NULL, err, sizeof(err)))
		fail_msg("%s", err);
	const struct cc_config *cfg = &c->engine;
	assert_string_equal(c->store, "memory");
	assert_string_equal(c->listen, "[::1]:9000");
	assert_string_equal(c->admin_token.value, "admin-secret-x1");
	assert_int_equal(c->admin_token.source, CC_SRC_FILE);
	assert_int_equal(cfg->create_settle_ms, 90000);
	assert_int_equal(cfg->clock_uncertainty_ms, 1500);
	assert_int_equal(cfg->dedup_title_field, 0);
	assert_int_equal(cfg->dedup_caller_field, 1);
	assert_int_equal(cfg->dedup_link_score, 95);
	assert_int_equal(cfg->dedup_review_score, 60);
	assert_int_equal(cfg->dedup_window_ms, 3600000);
	assert_int_equal(cfg->dedup_close_ms, 90000);
	assert_int_equal(cfg->dedup_close_words, 4);
	assert_int_equal(cfg->backoff_base_ms, 2000);
	assert_int_equal(cfg->backoff_max_ms, 300000);
	assert_int_equal(cfg->dead_letter_after_ms, 12 * 3600000);
	assert_int_equal(cfg->breaker_failures, 3);
	assert_int_equal(cfg->breaker_open_ms, 30000);
	assert_int_equal(cfg->fields[0].type, CC_FT_STRING);
	assert_int_equal(cfg->fields[2].policy, CC_POLICY_MANUAL);
	assert_int_equal(cfg->fields[3].policy, CC_POLICY_OWNER);
	assert_int_equal(cfg->fields[3].owner, 1);
	assert_int_equal(cfg->fields[3].owner_mode, CC_OWNER_IGNORE);
	const struct cc_system_def *a = &cfg->systems[0], *b = &cfg->systems[1];
	assert_int_equal(a->rank, 10);
	assert_int_equal(b->rank, 5);
	assert_int_equal(a->page_size, 7);
	assert_false(a->comments);
	assert_true(b->comments);
	assert_null(a->integration_user);
	assert_int_equal(a->poll_interval_ms, 60000);
	assert_int_equal(a->nroutes, 2);
	assert_int_equal(a->routes[0].field, 2);
	assert_int_equal(a->routes[0].op, CC_ROUTE_NE);
	assert_string_equal(a->routes[0].value, "security");
	assert_int_equal(a->routes[1].op, CC_ROUTE_EQ);
	assert_string_equal(a->routes[1].value, "");
	assert_int_equal(a->map[1].kind, CC_MAP_IDENTITY); /* a user field, no users map */
	assert_true(b->map[0].mapped);
	assert_false(b->map[1].mapped);
	assert_string_equal(c->system[0].url.value, "http://a.example");
	assert_int_equal(c->system[0].timeout_ms, 12000);
	assert_true(c->system[0].rate_per_sec == 25.0);
	assert_int_equal(c->system[0].max_concurrency, 8);
	assert_string_equal(c->system[0].ca_file, "/etc/ssl/certs/ca-certificates.crt");
	assert_int_equal(c->system[1].max_concurrency, 0); /* the client's default */
	assert_int_equal(c->system[0].url.source, CC_SRC_INLINE);
	assert_string_equal(c->system[1].token.value, "token-b-66");
	assert_null(c->system[1].url.value);
	cc_config_file_free(c);
}

/* A valid two-system configuration that the error cases alter. */
#define FIELDS                                   \
	"fields:\n"                                  \
	"  - {name: title, type: string}\n"          \
	"  - {name: state, type: enum}\n"
#define SYS_B                                    \
	"  - name: b\n"                              \
	"    kind: sim\n"                            \
	"    rank: 2\n"                              \
	"    fields: {title: t}\n"

static void test_bad_yaml(void **state)
{
	/* libfyaml finds the missing bracket at the end of the file */
	expect_error("fields: [a, b\nsystems: []\n", 3, 1, "invalid YAML: flow sequence without "
	             "a closing bracket");
	expect_error("store: a: b\n", 1, 9, "invalid YAML");
	expect_error("fields:\n  - name: a\n  name: b\n   x: 1\n", 3, 3, "invalid YAML");
	expect_error("a: 1\na: 2\n", 2, 1, "duplicate key");
	expect_error("", 1, 1, "empty");
	expect_error("- just\n- a list\n", 1, 3, "the configuration must be a mapping");
}

/* The listener serves the admin API: off loopback only when said so. */
static void test_listen_loopback(void **state)
{
	(void)state;
	expect_error("listen: 0.0.0.0:8484\n" FIELDS, 1, 9,
	             "listen address '0.0.0.0:8484' is not loopback");
	expect_error("listen: 10.1.2.3:8484\nlisten_public: false\n" FIELDS, 1, 9,
	             "add 'listen_public: true'");
	expect_error("listen_public: yes\n" FIELDS, 1, 16, "listen_public must be true or false");
	const char *path = write_file("public.yaml",
		"listen: 0.0.0.0:8484\nlisten_public: true\n" FIELDS
		"systems:\n  - name: a\n    kind: sim\n    fields: {title: t}\n" SYS_B);
	struct cc_file_config *c = NULL;
	char err[512];
	if (cc_config_file_load(&c, path, NULL, err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(c->listen_public);
	cc_config_file_free(c);
	path = write_file("local.yaml", "listen: 127.0.0.2:1\n" FIELDS
		"systems:\n  - name: a\n    kind: sim\n    fields: {title: t}\n" SYS_B);
	if (cc_config_file_load(&c, path, NULL, err, sizeof(err)))
		fail_msg("%s", err);
	assert_false(c->listen_public);
	cc_config_file_free(c);
}

static void test_unknown_key(void **state)
{
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    pol_interval: 2s\n"
	             "    fields: {title: t}\n" SYS_B,
	             7, 5, "unknown key 'pol_interval' in a system (did you mean 'poll_interval'?)");
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    concurrency: 99\n"
	             "    fields: {title: t}\n" SYS_B,
	             7, 18, "concurrency must lie between 1 and 16, not 99");
	expect_error("feilds: []\n", 1, 1, "unknown key 'feilds' in the configuration "
	             "(did you mean 'fields'?)");
	/* far from everything: no suggestion */
	expect_error("zzzzzzzz: 1\n", 1, 1, "unknown key 'zzzzzzzz' in the configuration");
	/* a misspelt canonical field in a system's mapping */
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    fields: {titel: t}\n" SYS_B,
	             7, 14, "unknown field 'titel' (did you mean 'title'?)");
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    fields:\n"
	             "      state: {remote: s, values: [{remote: X, canonicle: x}]}\n" SYS_B,
	             8, 47, "unknown key 'canonicle' in a value (did you mean 'canonical'?)");
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    token: {evn: X}\n"
	             "    fields: {title: t}\n" SYS_B,
	             7, 13, "unknown key 'evn' in token (did you mean 'env'?)");
}

static void test_wrong_type(void **state)
{
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    rank: high\n"
	             "    fields: {title: t}\n" SYS_B,
	             7, 11, "rank must be an integer, not 'high'");
	expect_error("fields: {title: string}\n", 1, 10, "fields must be a list, not a mapping");
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    poll_interval: 2\n"
	             "    fields: {title: t}\n" SYS_B,
	             7, 20, "poll_interval '2' is not a duration");
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: [sim]\n"
	             "    fields: {title: t}\n" SYS_B,
	             6, 12, "kind must be a string, not a list");
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    comments: sometimes\n"
	             "    fields: {title: t}\n" SYS_B,
	             7, 15, "comments must be true or false");
	expect_error("fields:\n  - {name: x, type: strng}\n", 2, 21,
	             "unknown type 'strng': string, text, enum, user, priority or timestamp "
	             "(did you mean 'string'?)");
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind:\n"
	             "    fields: {title: t}\n" SYS_B,
	             6, 5, "kind must be a string, not nothing");
}

static void test_missing_env(void **state)
{
	unsetenv("CC_TEST_NOT_SET");
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    token: {env: CC_TEST_NOT_SET}\n"
	             "    fields: {title: t}\n" SYS_B,
	             7, 18, "token: environment variable CC_TEST_NOT_SET is not set");
	setenv("CC_TEST_EMPTY", "  ", 1);
	expect_error("admin_token: {env: CC_TEST_EMPTY}\n", 1, 20,
	             "admin_token: environment variable CC_TEST_EMPTY is empty");
	expect_error("admin_token: {file: no-such.secret}\n", 1, 21,
	             "admin_token: cannot read file");
	expect_error("admin_token: {env: A, file: b}\n", 1, 15,
	             "admin_token takes exactly one of env or file");
}

/* Webhook authentication: one of a secret and a token, and the opt-out alone. */
static void test_webhook_auth(void **state)
{
	setenv("CC_TEST_WS", "webhook-secret-1", 1);
	setenv("CC_TEST_WT", "webhook-token-1", 1);
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    webhook_secret: {env: CC_TEST_WS}\n"
	             "    webhook_token: {env: CC_TEST_WT}\n"
	             "    fields: {title: t}\n" SYS_B,
	             8, 5, "webhook_secret and webhook_token are both set");
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    webhook_token: {env: CC_TEST_WT}\n"
	             "    webhook_auth: none\n"
	             "    fields: {title: t}\n" SYS_B,
	             8, 19, "webhook_auth: none accepts webhooks without authentication, but "
	             "webhook_token is set");
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    webhook_secret: plain-text\n"
	             "    fields: {title: t}\n" SYS_B,
	             7, 21, "webhook_secret");
	struct cc_file_config *c = expect_load(NULL, FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    webhook_secret: {env: CC_TEST_WS}\n"
	             "    fields: {title: t}\n" SYS_B
	             "    webhook_auth: none\n");
	assert_string_equal(c->system[0].webhook_secret.value, "webhook-secret-1");
	assert_int_equal(c->system[0].webhook_auth, CC_WEBHOOK_AUTH_REQUIRED);
	assert_null(c->system[1].webhook_secret.value);
	assert_int_equal(c->system[1].webhook_auth, CC_WEBHOOK_AUTH_UNAUTHENTICATED);
	cc_config_file_free(c);
}

static void test_unknown_owner(void **state)
{
	expect_error("fields:\n"
	             "  - {name: title, type: string}\n"
	             "  - {name: prio, type: priority, policy: {owner: aa, mode: revert}}\n"
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    fields: {title: t}\n" SYS_B,
	             3, 50, "field prio: owner 'aa' is not a configured system (did you mean 'a'?)");
	expect_error("fields:\n"
	             "  - {name: prio, policy: {owner: a, mode: rever}}\n",
	             2, 43, "mode must be revert or ignore, not 'rever' (did you mean 'revert'?)");
	expect_error("fields:\n"
	             "  - {name: prio, policy: owner}\n",
	             2, 26, "an owner policy names its system");
}

static void test_lossy_default(void **state)
{
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    fields:\n"
	             "      state:\n"
	             "        remote: s\n"
	             "        values:\n"
	             "          - {remote: Done, canonical: [resolved, closed], default: canceled}\n"
	             SYS_B,
	             11, 68, "field state: default 'canceled' of remote value 'Done' is not in its set");
	/* a canonical value in two remote values: outbound would not be a function */
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    fields:\n"
	             "      state:\n"
	             "        remote: s\n"
	             "        values:\n"
	             "          - {remote: Done, canonical: [resolved, closed]}\n"
	             "          - {remote: Closed, canonical: closed}\n" SYS_B,
	             12, 41, "'closed' already stands in remote value 'Done'");
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    fields:\n"
	             "      state:\n"
	             "        remote: s\n"
	             "        ranges:\n"
	             "          - {from: 0, to: 19, canonical: low, default: 25}\n" SYS_B,
	             11, 56, "field state: default 25 lies outside its range 0..19");
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    fields:\n"
	             "      state:\n"
	             "        remote: s\n"
	             "        ranges:\n"
	             "          - {from: 0, to: 19, canonical: low}\n"
	             "          - {from: 15, to: 30, canonical: high}\n" SYS_B,
	             12, 20, "range 15..30 overlaps 0..19");
}

static void test_duplicate_rank(void **state)
{
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    rank: 2\n"
	             "    fields: {title: t}\n" SYS_B,
	             11, 11, "systems a and b share rank 2");
	/* a default rank (the position) that collides */
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: a\n"
	             "    kind: sim\n"
	             "    rank: 2\n"
	             "    fields: {title: t}\n"
	             "  - name: b\n"
	             "    kind: sim\n"
	             "    fields: {title: t}\n",
	             9, 11, "systems a and b share rank 2");
	expect_error(FIELDS
	             "systems:\n"
	             "  - name: b\n"
	             "    kind: sim\n"
	             "    fields: {title: t}\n" SYS_B,
	             8, 11, "system 'b' is defined twice");
	expect_error(FIELDS
	             "systems:\n" SYS_B,
	             5, 5, "at least 2 systems are needed, found 1");
}

/* Secrets reach no message: not an inline one, not one read from the
 * environment or a file before a later error. */
static void test_secrets_not_in_messages(void **state)
{
	const char *secret = "hunter2-0f9e8d7c";
	char err[1024];
	struct cc_file_config *c;

	setenv("CC_TEST_SECRET", secret, 1);
	write_file("tok.secret", "hunter2-0f9e8d7c\n");
	const char *const cases[] = {
		/* inline: refused, and not echoed */
		FIELDS "systems:\n  - name: a\n    kind: sim\n    token: hunter2-0f9e8d7c\n"
		"    fields: {title: t}\n" SYS_B,
		"admin_token: hunter2-0f9e8d7c\n",
		/* pasted where the variable's name belongs */
		"admin_token: {env: hunter2-0f9e8d7c}\n",
		/* read, then a later error */
		"admin_token: {env: CC_TEST_SECRET}\n" FIELDS
		"systems:\n  - name: a\n    kind: sim\n    token: {env: CC_TEST_SECRET}\n"
		"    rank: 2\n    fields: {title: t}\n" SYS_B,
		FIELDS "systems:\n  - name: a\n    kind: sim\n    token: {file: tok.secret}\n"
		"    fields: {titl: t}\n" SYS_B,
		/* valid: secrets from a file and the environment */
		"admin_token: {file: tok.secret}\n" FIELDS
		"systems:\n  - name: a\n    kind: sim\n    token: {env: CC_TEST_SECRET}\n"
		"    fields: {title: t}\n" SYS_B,
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = write_file("s.yaml", cases[i]);
		int rc = cc_config_file_load(&c, path, NULL, err, sizeof(err));
		if (rc == 0) {
			/* the last case is valid: the secret is held, only for connectors */
			assert_int_equal(i, 5);
			assert_string_equal(c->admin_token.value, secret);
			assert_string_equal(c->system[0].token.value, secret);
			cc_config_file_free(c);
			continue;
		}
		assert_non_null(strstr(err, path));
		if (strstr(err, "hunter2") || strstr(err, "0f9e8d7c"))
			fail_msg("case %zu leaks the secret: %s", i, err);
	}
	expect_error("admin_token: hunter2-0f9e8d7c\n", 1, 14,
	             "admin_token is a secret: write {env: NAME} or {file: PATH}");
}

static void test_missing_file(void **state)
{
	struct cc_file_config *c;
	char err[512];
	assert_int_not_equal(cc_config_file_load(&c, "/nonexistent/concord.yaml", NULL, err,
	                                         sizeof(err)), 0);
	assert_null(c);
	assert_non_null(strstr(err, "/nonexistent/concord.yaml: cannot open"));
}

/* ---- hostile files (config-hardening) ---- */

/*
 * Stands in for the connector registry (src/config/registry_check.c gives
 * the real one): the kinds rt and redmine; rt reads queue and
 * correlation_field, redmine needs project.
 */
static const char *const rt_kinds[] = { "rt", "redmine", NULL };
static const char *const rt_settings[] = { "queue", "correlation_field", NULL };
static const char *const redmine_settings[] = { "project", "correlation_field", NULL };

static const char *const *fake_settings(const char *kind)
{
	return !kind ? rt_kinds : !strcmp(kind, "rt") ? rt_settings
	       : !strcmp(kind, "redmine") ? redmine_settings : NULL;
}

static int fake_check_system(void *ctx, const char *kind, const char *const *keys, size_t n,
                             long *bad, char *err, size_t errlen)
{
	(void)ctx;
	const char *const *accepted = fake_settings(kind);
	if (!accepted) {
		*bad = CC_CONFIG_BAD_KIND;
		snprintf(err, errlen, "kind '%s' is unknown (known: rt, redmine)", kind);
		return CC_EINVAL;
	}
	bool project = false;
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (accepted[j] && strcmp(accepted[j], keys[i]) != 0)
			j++;
		if (!accepted[j]) {
			*bad = (long)i;
			snprintf(err, errlen, "setting '%s' is not one of %s's", keys[i], kind);
			return CC_EINVAL;
		}
		project = project || !strcmp(keys[i], "project");
	}
	if (!strcmp(kind, "redmine") && !project) {
		*bad = CC_CONFIG_BAD_SYSTEM;
		snprintf(err, errlen, "redmine needs the setting 'project'");
		return CC_EINVAL;
	}
	return 0;
}

static size_t fake_accepted(void *ctx, const char *kind, const char **names, size_t max)
{
	(void)ctx;
	size_t n = 0;
	for (const char *const *a = fake_settings(kind); a && *a && n < max; a++)
		names[n++] = *a;
	return n;
}

static const struct cc_config_options rt_options = {
	.check_system = fake_check_system,
	.accepted = fake_accepted,
};

/* The start of system a, whose next lines the cases write; SYS_B follows. */
#define SYS_A                                    \
	"systems:\n"                                 \
	"  - name: a\n"                              \
	"    kind: sim\n"

/* Policies come from core/policy.h's table: an unknown one lists it. */
static void test_policy_table(void **state)
{
	(void)state;
	expect_error("fields:\n  - {name: prio, policy: lwww}\n", 2, 26,
	             "unknown policy 'lwww' (known: lww, owner, manual); did you mean 'lww'?");
	expect_error("fields:\n  - {name: prio, policy: {ownr: a}}\n", 2, 27,
	             "unknown policy 'ownr' (known: lww, owner, manual); did you mean 'owner'?");
	expect_error("fields:\n  - {name: prio, policy: {lww: x}}\n", 2, 27,
	             "policy lww takes no parameters: write policy: lww");
	/* the policy whose parameters these are says what is missing */
	expect_error("fields:\n  - {name: prio, policy: {mode: ignore}}\n", 2, 27,
	             "an owner policy names its system");
	expect_error("fields:\n  - {name: prio, policy: {owner: a, mod: ignore}}\n", 2, 37,
	             "an owner policy takes owner and mode, not 'mod' (did you mean 'mode'?)");
	expect_error("fields:\n  - {name: prio, policy: {mode: revert, group: x}}\n", 2, 41,
	             "an owner policy takes owner and mode, not 'group'");
	expect_error("fields:\n  - {name: prio, policy: {group: x}}\n", 2, 27,
	             "policy names none of the policies (known: lww, owner, manual)");
	expect_error("fields:\n  - {name: prio, policy: [lww]}\n", 2, 27,
	             "policy must be a policy's name or a mapping of its parameters");
	/* the key order does not matter; manual is found by name */
	struct cc_file_config *c = expect_load(NULL,
		"fields:\n"
		"  - {name: title, policy: manual}\n"
		"  - {name: prio, policy: {mode: ignore, owner: b}}\n"
		"systems:\n"
		"  - name: a\n"
		"    kind: sim\n"
		"    fields: {title: t}\n" SYS_B);
	assert_int_equal(c->engine.fields[0].policy, CC_POLICY_MANUAL);
	assert_int_equal(c->engine.fields[1].policy, CC_POLICY_OWNER);
	assert_int_equal(c->engine.fields[1].owner, 1);
	assert_int_equal(c->engine.fields[1].owner_mode, CC_OWNER_IGNORE);
	cc_config_file_free(c);
}

/* store: one of the store backends' table, in its form; nothing opened. */
static void test_store_table(void **state)
{
	(void)state;
	expect_error("store: sqlit:x.db\n", 1, 8,
	             "unknown store kind \"sqlit:\" (accepted: memory, sqlite:PATH); did you "
	             "mean 'sqlite'?");
	expect_error("store: \"sqlite:\"\n", 1, 9, "store \"sqlite:\" names nothing");
	expect_error("store: memory:x\n", 1, 8, "store memory takes nothing after its name");
	expect_error("store: concord.db\n", 1, 8, "store URL is not SCHEME:...");
	/* what follows the scheme may hold a password: never shown */
	char err[1024];
	struct cc_file_config *c;
	const char *path = write_file("st.yaml", "store: postgres://u:pw-5e1f@db/x\n");
	assert_int_not_equal(cc_config_file_load(&c, path, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "unknown store kind \"postgres:\""));
	assert_null(strstr(err, "pw-5e1f"));
	/* a store that does not exist yet is not created by a check */
	char db[600];
	snprintf(db, sizeof(db), "%s/never.db", tmpdir);
	char yaml[1024];
	snprintf(yaml, sizeof(yaml), "store: sqlite:%s\n" FIELDS SYS_A "    fields: {title: t}\n"
	         SYS_B, db);
	c = expect_load(NULL, yaml);
	cc_config_file_free(c);
	assert_int_not_equal(access(db, F_OK), 0);
}

/* 1. A kind the connectors do not know is an error when they are given. */
static void test_unknown_kind(void **state)
{
	(void)state;
	expect_error_kinds(&rt_options, FIELDS
	                   "systems:\n"
	                   "  - name: a\n"
	                   "    kind: rtt\n"
	                   "    fields: {title: t}\n"
	                   "  - name: b\n"
	                   "    kind: redmine\n"
	                   "    fields: {title: t}\n",
	                   6, 11, "kind 'rtt' is unknown (known: rt, redmine); did you mean 'rt'?");
	expect_error_kinds(&rt_options, FIELDS
	                   "systems:\n"
	                   "  - name: a\n"
	                   "    kind: rt\n"
	                   "    fields: {title: t}\n"
	                   "  - name: b\n"
	                   "    kind: nosuch\n"
	                   "    fields: {title: t}\n",
	                   9, 11, "kind 'nosuch' is unknown (known: rt, redmine)");
	/* no suggestion when nothing is close */
	char err[1024];
	struct cc_file_config *c;
	const char *path = write_file("k.yaml", FIELDS SYS_A "    fields: {title: t}\n" SYS_B);
	assert_int_not_equal(cc_config_file_load(&c, path, &rt_options, err, sizeof(err)), 0);
	assert_null(strstr(err, "did you mean"));
	/* the known kinds load; without options, any kind does */
	c = expect_load(&rt_options, FIELDS
	                "systems:\n"
	                "  - name: a\n"
	                "    kind: rt\n"
	                "    fields: {title: t}\n"
	                "  - name: b\n"
	                "    kind: redmine\n"
	                "    settings: {project: ops}\n"
	                "    fields: {title: t}\n");
	cc_config_file_free(c);
	c = expect_load(NULL, FIELDS SYS_A "    fields: {title: t}\n" SYS_B);
	assert_string_equal(c->engine.systems[0].kind, "sim");
	cc_config_file_free(c);
}

/* Settings are checked through the options: an unknown one at its key
 * with the nearest accepted one, a missing required one at the system. */
static void test_settings_checked(void **state)
{
	(void)state;
	/* the kind is checked before anything else of the system */
	expect_error_kinds(&rt_options, FIELDS
	                   "systems:\n"
	                   "  - name: a\n"
	                   "    kind: redmin\n"
	                   "    url: not-a-url\n"
	                   "    fields: {title: t}\n" SYS_B,
	                   6, 11, "kind 'redmin' is unknown (known: rt, redmine); did you mean "
	                   "'redmine'?");
	expect_error_kinds(&rt_options, FIELDS
	                   "systems:\n"
	                   "  - name: a\n"
	                   "    kind: rt\n"
	                   "    settings: {queue: General, corelation_field: X}\n"
	                   "    fields: {title: t}\n"
	                   "  - name: b\n"
	                   "    kind: redmine\n"
	                   "    settings: {project: ops}\n"
	                   "    fields: {title: t}\n",
	                   7, 32, "setting 'corelation_field' is not one of rt's; did you mean "
	                   "'correlation_field'?");
	/* missing: at settings: when there is one, else at the system */
	expect_error_kinds(&rt_options, FIELDS
	                   "systems:\n"
	                   "  - name: a\n"
	                   "    kind: rt\n"
	                   "    fields: {title: t}\n"
	                   "  - name: b\n"
	                   "    kind: redmine\n"
	                   "    settings: {correlation_field: X}\n"
	                   "    fields: {title: t}\n",
	                   10, 5, "redmine needs the setting 'project'");
	expect_error_kinds(&rt_options, FIELDS
	                   "systems:\n"
	                   "  - name: a\n"
	                   "    kind: rt\n"
	                   "    fields: {title: t}\n"
	                   "  - name: b\n"
	                   "    kind: redmine\n"
	                   "    fields: {title: t}\n",
	                   8, 5, "redmine needs the setting 'project'");
	/* without options any setting goes */
	struct cc_file_config *c = expect_load(NULL, FIELDS SYS_A "    settings: {anything: 1}\n"
	                                       "    fields: {title: t}\n" SYS_B);
	assert_string_equal(cc_config_file_setting(c, 0, "anything"), "1");
	cc_config_file_free(c);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* 2. Nine levels of nine aliases: refused at once, before any expansion. */
static void test_alias_bomb(void **state)
{
	(void)state;
	const char *bomb =
		"a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n"
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
		"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
		"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
		"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
		"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
		"i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* 9^5 nodes behind e: the first *e is where the count goes over */
	expect_error(bomb, 6, 8, "aliases expand the document to more than 10000 nodes");
	double took = seconds_since(&t0);
	print_message("the alias bomb refused in %.4f s\n", took);
	if (took > 0.25)
		fail_msg("the alias bomb took %.3f s to refuse", took);

	/* many small aliases that add up */
	char big[8192];
	int n = snprintf(big, sizeof(big), "a: &a [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,"
	                 "19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,"
	                 "43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,"
	                 "67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,"
	                 "91,92,93,94,95,96,97,98,99,100,101,102,103,104,105,106,107,108,109,110,"
	                 "111,112,113,114,115,116,117,118,119,120,121,122,123,124,125,126,127,128,"
	                 "129,130,131,132,133,134,135,136,137,138,139,140,141,142,143,144,145,146,"
	                 "147,148,149,150]\nb: [");
	for (int i = 0; i < 99; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "%s*a", i ? "," : "");
	snprintf(big + n, sizeof(big) - (size_t)n, "]\n");
	expect_error(big, 2, 5, "aliases expand the document to more than 10000 nodes");

	/* more than 100 aliases, however small */
	n = snprintf(big, sizeof(big), "a: &a 1\nb: [");
	for (int i = 0; i < 101; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "%s*a", i ? "," : "");
	snprintf(big + n, sizeof(big) - (size_t)n, "]\n");
	expect_error(big, 2, 305, "more than 100 aliases");

	/* an alias inside its own anchor, one with no anchor, one before it */
	expect_error("a: &a [1, *a]\n", 1, 11, "alias '*a' lies inside its own anchor");
	expect_error("a: &a {b: [*a]}\n", 1, 12, "alias '*a' lies inside its own anchor");
	expect_error("a: *nowhere\n", 1, 4, "alias '*nowhere' names no anchor");
	expect_error("a: *x\nb: &x 1\n", 1, 4, "alias '*x' comes before its anchor '&x'");
	expect_error("fields: *f\nsystems: &f []\n", 1, 9, "alias '*f' comes before its anchor");

	/* nesting: each level of aliases adds its anchor's depth */
	char deep[4096];
	n = snprintf(deep, sizeof(deep), "a: &a [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]\n");
	const char *prev = "a";
	static const char *const names[] = { "b", "c", "d", "e", "f" };
	for (int i = 0; i < 5; i++) {
		n += snprintf(deep + n, sizeof(deep) - (size_t)n, "%s: &%s [[[[[[[[[[[[[[[[*%s]]]]]]]]"
		              "]]]]]]]]\n", names[i], names[i], prev);
		prev = names[i];
	}
	expect_error(deep, 4, 23, "aliases nest the document deeper than 64 levels");
}

/* 2. Anchors, aliases and merge keys as a person writes them still work. */
static void test_aliases_and_merge_keys(void **state)
{
	(void)state;
	struct cc_file_config *c = expect_load(NULL,
		"fields:\n"
		"  - {name: title, type: string}\n"
		"  - {name: state, type: enum}\n"
		"systems:\n"
		"  - &first\n"
		"    name: a\n"
		"    kind: sim\n"
		"    poll_interval: 5s\n"
		"    poll_overlap: 40s\n"
		"    search_lag: 4s\n"
		"    settings: &s1 {queue: General}\n"
		"    users: &u1 {alice: alice@example.org}\n"
		"    fields: &f {title: t, state: s}\n"
		"  - <<: *first\n"
		"    name: b\n"
		"    rank: 7\n"
		"    search_lag: 9s\n"
		"    settings: {<<: [*s1, *u1], project: ops}\n"
		"    fields: *f\n");
	const struct cc_config *cfg = &c->engine;
	assert_int_equal(cfg->nsystems, 2);
	assert_string_equal(cfg->systems[0].name, "a");
	assert_string_equal(cfg->systems[1].name, "b");
	assert_string_equal(cfg->systems[1].kind, "sim");
	assert_int_equal(cfg->systems[0].poll_interval_ms, 5000);
	assert_int_equal(cfg->systems[0].search_lag_ms, 4000);
	assert_int_equal(cfg->systems[1].poll_interval_ms, 5000);
	assert_int_equal(cfg->systems[1].poll_overlap_s, 40);
	assert_int_equal(cfg->systems[1].search_lag_ms, 9000); /* its own key wins */
	assert_int_equal(cfg->systems[1].rank, 7);
	assert_string_equal(cfg->systems[1].map[1].remote_name, "s");
	assert_string_equal(cc_config_file_setting(c, 1, "queue"), "General");
	assert_string_equal(cc_config_file_setting(c, 1, "alice"), "alice@example.org");
	assert_string_equal(cc_config_file_setting(c, 1, "project"), "ops");
	assert_string_equal(cc_config_file_person(c, 1, "alice"), "alice@example.org");
	cc_config_file_free(c);
}

/* A mapping of 80,000 keys: libfyaml's own duplicate search compared each
 * key with every other (6 minutes); now a sort finds duplicates at once. */
static void test_large_mapping(void **state)
{
	(void)state;
	size_t cap = 1024 * 1024, n = 0;
	char *yaml = malloc(cap);
	assert_non_null(yaml);
	n += (size_t)snprintf(yaml + n, cap - n, "m:\n");
	for (int i = 0; i < 80000; i++)
		n += (size_t)snprintf(yaml + n, cap - n, " k%d: 1\n", i);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_error(yaml, 1, 1, "unknown key 'm' in the configuration");
	snprintf(yaml + n, cap - n, " k5: 2\n");
	expect_error(yaml, 80002, 2, "duplicate key 'k5'");
	double took = seconds_since(&t0);
	print_message("two loads of 80000 keys in %.4f s\n", took);
	free(yaml);
	/* well under a second (two under the sanitizers); minutes before */
	if (took > 10.0)
		fail_msg("two loads of 80000 keys took %.3f s", took);
	/* duplicates in flow and block style, nested, and quoted the same */
	expect_error("a: 1\nb: {x: 1, \"x\": 2}\n", 2, 12, "duplicate key 'x'");
	expect_error("fields:\n  - name: a\n    type: enum\n    name: b\n", 4, 5,
	             "duplicate key 'name'");
	/* with aliases, a duplicate is still found */
	expect_error("a: &a 1\nb: *a\nb: 2\n", 3, 1, "duplicate key 'b'");
}

/* 3. Names longer than 64 bytes are refused (two long names once shared a
 * stored flag elsewhere); 64 bytes are fine. */
static void test_name_length(void **state)
{
	(void)state;
	char name64[65], name65[66], yaml[2048];
	memset(name64, 's', 64);
	name64[64] = '\0';
	memset(name65, 's', 65);
	name65[65] = '\0';
	snprintf(yaml, sizeof(yaml), FIELDS "systems:\n  - name: %s\n    kind: sim\n"
	         "    fields: {title: t}\n" SYS_B, name65);
	expect_error(yaml, 5, 11, "system name 'ssssssssssssssssssssssss...' is 65 bytes long: "
	             "at most 64 are allowed");
	snprintf(yaml, sizeof(yaml), "fields:\n  - {name: %s}\n", name65);
	expect_error(yaml, 2, 12, "field name 'sss");
	expect_error(yaml, 2, 12, "is 65 bytes long");
	/* the tester's case: two names that differ after 88 characters */
	char long1[100], long2[100];
	memset(long1, 'n', 88);
	memcpy(long1 + 88, "-first", 7);
	memset(long2, 'n', 88);
	memcpy(long2 + 88, "-second", 8);
	snprintf(yaml, sizeof(yaml), FIELDS "systems:\n  - name: %s\n    kind: sim\n"
	         "    fields: {title: t}\n  - name: %s\n    kind: sim\n    fields: {title: t}\n",
	         long1, long2);
	expect_error(yaml, 5, 11, "is 94 bytes long: at most 64 are allowed");
	/* a kind and a setting are names too */
	char set[80];
	memset(set, 'k', 70);
	set[70] = '\0';
	snprintf(yaml, sizeof(yaml), FIELDS SYS_A "    settings: {%s: v}\n    fields: {title: t}\n"
	         SYS_B, set);
	expect_error(yaml, 7, 16, "a setting 'kkk");

	snprintf(yaml, sizeof(yaml), "fields:\n  - {name: %s}\n  - {name: title}\nsystems:\n"
	         "  - name: %s\n    kind: sim\n    fields: {%s: t}\n" SYS_B, name64, name64, name64);
	struct cc_file_config *c = expect_load(NULL, yaml);
	assert_int_equal(strlen(c->engine.systems[0].name), 64);
	assert_int_equal(strlen(c->engine.fields[0].name), 64);
	cc_config_file_free(c);
}

/* A system a whose line 7 is `key: value`. */
static void expect_system_key_error(const char *line7, int col, const char *want)
{
	char yaml[1024];
	snprintf(yaml, sizeof(yaml), FIELDS SYS_A "    %s\n    fields: {title: t}\n" SYS_B, line7);
	expect_error(yaml, 7, col, want);
}

/* 4. Durations within their ranges: no busy loop, no wait of years. */
static void test_duration_ranges(void **state)
{
	(void)state;
	expect_system_key_error("poll_interval: 1ms", 20,
	                        "poll_interval must lie between 1s and 24h, not 1ms");
	expect_system_key_error("poll_interval: 999ms", 20,
	                        "poll_interval must lie between 1s and 24h, not 999ms");
	expect_system_key_error("poll_interval: 0", 20,
	                        "poll_interval must lie between 1s and 24h, not 0");
	expect_system_key_error("poll_interval: 8760h", 20,
	                        "poll_interval must lie between 1s and 24h, not 8760h");
	expect_system_key_error("poll_overlap: 25h", 19,
	                        "poll_overlap must lie between 0 and 24h, not 25h");
	expect_system_key_error("search_lag: 2h", 17, "search_lag must lie between 0 and 1h, not 2h");
	expect_system_key_error("timeout: 20m", 14, "timeout must lie between 1s and 10m, not 20m");
	expect_error("create_settle: 9000h\n", 1, 16,
	             "create_settle must lie between 0 and 1h, not 9000h");
	expect_error("clock_uncertainty: 1h1ms\n", 1, 20,
	             "clock_uncertainty must lie between 0 and 1h, not 1h1ms");
	expect_error(FIELDS SYS_A "    fields: {title: t}\n" SYS_B "dedup: {window: 721h}\n", 12, 17,
	             "window must lie between 0 and 720h, not 721h");
	expect_error(FIELDS SYS_A "    fields: {title: t}\n" SYS_B "dedup: {close: 61m}\n", 12, 16,
	             "close must lie between 0 and 1h, not 1h1m");
	expect_error(FIELDS SYS_A "    fields: {title: t}\n" SYS_B "outbox: {backoff_base: 1ms}\n",
	             12, 24, "backoff_base must lie between 100ms and 1h, not 1ms");
	expect_error(FIELDS SYS_A "    fields: {title: t}\n" SYS_B "outbox: {backoff_max: 25h}\n",
	             12, 23, "backoff_max must lie between 100ms and 24h, not 25h");
	expect_error(FIELDS SYS_A "    fields: {title: t}\n" SYS_B "outbox: {dead_letter_after: 0}\n",
	             12, 29, "dead_letter_after must lie between 1m and 720h, not 0");
	expect_error(FIELDS SYS_A "    fields: {title: t}\n" SYS_B "outbox: {breaker_open: 0}\n",
	             12, 24, "breaker_open must lie between 1s and 1h, not 0");

	/* the bounds themselves are allowed */
	struct cc_file_config *c = expect_load(NULL,
		"create_settle: 0\nclock_uncertainty: 1h\n"
		"dedup: {window: 720h, close: 0}\n"
		"outbox: {backoff_base: 100ms, backoff_max: 24h, dead_letter_after: 1m,\n"
		"         breaker_open: 1h}\n" FIELDS SYS_A
		"    poll_interval: 1s\n    poll_overlap: 0\n    search_lag: 0\n"
		"    fields: {title: t}\n" SYS_B "    poll_interval: 24h\n    poll_overlap: 24h\n"
		"    search_lag: 1h\n    timeout: 10m\n");
	assert_int_equal(c->engine.systems[0].poll_interval_ms, 1000);
	assert_int_equal(c->engine.systems[1].poll_interval_ms, 24 * 3600 * 1000);
	assert_int_equal(c->engine.backoff_base_ms, 100);
	assert_int_equal(c->engine.dedup_window_ms, 720LL * 3600 * 1000);
	cc_config_file_free(c);
}

/* 5. A system's url is http(s)://HOST[:PORT][/PATH], checked after {env:}. */
static void test_url(void **state)
{
	(void)state;
	expect_system_key_error("url: file:///etc/passwd", 10,
	                        "url 'file:///etc/passwd' must begin with http:// or https://");
	expect_system_key_error("url: gopher://rt.example.org", 10, "must begin with http://");
	expect_system_key_error("url: rt.example.org", 10, "must begin with http://");
	expect_system_key_error("url: http://", 10, "url 'http://' has no host");
	expect_system_key_error("url: https:///REST/2.0", 10, "has no host");
	expect_system_key_error("url: http://rt.example.org:99999/", 10, "has a bad port");
	expect_system_key_error("url: 'http://rt.example.org:/x'", 11, "has a bad port");
	expect_system_key_error("url: 'http://rt.example.org/a b'", 11,
	                        "url holds a blank or a control character");
	expect_system_key_error("url: \"http://rt.example.org/\\t\"", 11, "a control character");
	expect_system_key_error("url: http://rt.example.org/x?y=1", 10, "must not hold a query");
	expect_system_key_error("url: 'http://[::1/'", 11, "has a bad [IPv6] host");
	expect_system_key_error("url: 'http://a,b/'", 11, "has a bad host");
	/* user:password@ is refused and never shown */
	char err[1024];
	struct cc_file_config *c;
	const char *path = write_file("u.yaml", FIELDS SYS_A
		"    url: https://root:pw-77aa1@rt.example.org/REST/2.0\n"
		"    fields: {title: t}\n" SYS_B);
	assert_int_not_equal(cc_config_file_load(&c, path, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "holds a user name or password"));
	assert_non_null(strstr(err, "token: {env: NAME}"));
	assert_null(strstr(err, "pw-77aa1"));
	/* from the environment: checked, and named by its variable */
	setenv("CC_TEST_URL", "gopher://hidden-77aa2.example", 1);
	expect_system_key_error("url: {env: CC_TEST_URL}", 11,
	                        "url (from environment variable CC_TEST_URL) must begin with "
	                        "http:// or https://");
	path = write_file("u.yaml", FIELDS SYS_A "    url: {env: CC_TEST_URL}\n"
	                  "    fields: {title: t}\n" SYS_B);
	assert_int_not_equal(cc_config_file_load(&c, path, NULL, err, sizeof(err)), 0);
	assert_null(strstr(err, "hidden-77aa2"));
	setenv("CC_TEST_URL", "  http://127.0.0.1:8080/REST/2.0 ", 1);
	write_file("url.txt", "https://[::1]:8443\n");
	c = expect_load(NULL, FIELDS SYS_A "    url: {env: CC_TEST_URL}\n"
	                "    fields: {title: t}\n" SYS_B "    url: {file: url.txt}\n");
	assert_string_equal(c->system[0].url.value, "http://127.0.0.1:8080/REST/2.0");
	assert_string_equal(c->system[1].url.value, "https://[::1]:8443");
	cc_config_file_free(c);
	c = expect_load(NULL, FIELDS SYS_A "    url: HTTPS://Redmine.Example.org\n"
	                "    fields: {title: t}\n" SYS_B "    url: http://rt_1.internal/rt/REST/2.0/\n");
	cc_config_file_free(c);
}

/* 6. A second YAML document is an error at its start, not ignored. */
static void test_second_document(void **state)
{
	(void)state;
	expect_error("fields: [{name: title}]\n---\nfields: [{name: other}]\n", 2, 1,
	             "a second YAML document begins here");
	expect_error("fields: [{name: title}]\n...\n\nfields: [{name: other}]\n", 4, 1,
	             "a second YAML document begins here");
	expect_error(FIELDS SYS_A "    fields: {title: t}\n" SYS_B "---\n", 12, 1,
	             "the file must hold one document only");
	/* a leading ---, and a closing ..., are one document */
	struct cc_file_config *c = expect_load(NULL, "---\n" FIELDS SYS_A "    fields: {title: t}\n"
	                                       SYS_B "...\n");
	cc_config_file_free(c);
}

/* Loads len bytes from a file; expects an error that begins with prefix
 * (after the path) and contains want. */
static void expect_bytes_error(const char *data, size_t len, const char *pos, const char *want)
{
	char path[512], prefix[600], err[1024];
	snprintf(path, sizeof(path), "%s", write_bytes("b.yaml", data, len));
	struct cc_file_config *c = (void *)1;
	if (cc_config_file_load(&c, path, NULL, err, sizeof(err)) == 0)
		fail_msg("loaded, expected '%s'", want);
	assert_null(c);
	snprintf(prefix, sizeof(prefix), "%s%s", path, pos);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, want))
		fail_msg("got   '%s'\nwanted '%s...%s'", err, prefix, want);
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "test_config_file: a load hung (SIGALRM)\n";
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(2);
}

/* 7. UTF-16 and NUL bytes are named as such, not "empty"; UTF-8's BOM is fine. */
static void test_encoding(void **state)
{
	(void)state;
	static const char le[] = "\xff\xfe" "f\0i\0e\0l\0d\0s\0:\0 \0[\0]\0\n\0";
	static const char be[] = "\xfe\xff" "\0f\0i\0e\0l\0d\0s\0:\0 \0[\0]\0\n";
	expect_bytes_error(le, sizeof(le) - 1, ":1:1: ", "the file is UTF-16; save it as UTF-8");
	expect_bytes_error(be, sizeof(be) - 1, ":1:1: ", "the file is UTF-16; save it as UTF-8");
	static const char nul[] = "store: memory\nlisten: 127.0.0.1:1\nfie\0lds: []\n";
	expect_bytes_error(nul, sizeof(nul) - 1, ":3:4: ",
	                   "the file holds a NUL byte at line 3 (is it UTF-16?); save it as UTF-8");
	static const char nobom[] = "f\0i\0e\0l\0d\0s\0";
	expect_bytes_error(nobom, sizeof(nobom) - 1, ":1:2: ", "holds a NUL byte at line 1");
	/* not UTF-8: Latin-1, a lone continuation byte, an overlong '/', a
	 * surrogate, and the directive that made libfyaml 0.7.12 loop forever
	 * (found by tests/fuzz/fuzz_config.c) */
	signal(SIGALRM, on_alarm);
	alarm(10);
	static const char latin1[] = "store: memory\nfields: [{name: caf\xe9}]\n";
	expect_bytes_error(latin1, sizeof(latin1) - 1, ":2:20: ",
	                   "the file is not UTF-8 (byte 0xE9 at line 2); save it as UTF-8");
	expect_bytes_error("a: \x80\n", 4, ":1:4: ", "not UTF-8 (byte 0x80 at line 1)");
	expect_bytes_error("a: \xc0\xaf\n", 6, ":1:4: ", "not UTF-8 (byte 0xC0 at line 1)");
	expect_bytes_error("a: \xed\xa0\x80\n", 7, ":1:4: ", "not UTF-8 (byte 0xED at line 1)");
	expect_bytes_error("%m \xe1", 4, ":1:4: ", "not UTF-8 (byte 0xE1 at line 1)");
	alarm(0);
	char yaml[1024];
	int n = snprintf(yaml, sizeof(yaml), "\xef\xbb\xbf" FIELDS SYS_A "    fields: {title: t}\n"
	                 SYS_B "    settings: {queue: \"Caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xab\"}\n");
	const char *path = write_bytes("bom.yaml", yaml, (size_t)n);
	struct cc_file_config *c = NULL;
	char err[1024];
	if (cc_config_file_load(&c, path, NULL, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->engine.nfields, 2);
	assert_string_equal(cc_config_file_setting(c, 1, "queue"),
	                    "Caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xab");
	cc_config_file_free(c);
}

/* A value's companions: parsed into the entry; each a field of the system,
 * not the value's own field, listed once; a default is one remote value. */
#define COMP_FIELDS                              \
	"fields:\n"                                  \
	"  - {name: title, type: string}\n"          \
	"  - {name: state, type: enum}\n"            \
	"  - {name: resolution, type: enum}\n"
#define COMP_SYS(companions, extra)                                              \
	COMP_FIELDS "systems:\n"                                                 \
	"  - name: a\n"                                                            \
	"    kind: sim\n"                                                          \
	"    fields:\n"                                                            \
	"      state:\n"                                                           \
	"        remote: status\n"                                                 \
	"        values:\n"                                                        \
	"          - {remote: Active, canonical: in_progress}\n"                   \
	"          - {remote: Closed, canonical: closed, companions: " companions "}\n" \
	extra SYS_B

static void test_companions(void **state)
{
	(void)state;
	struct cc_file_config *c = expect_load(NULL, COMP_SYS(
		"{resolution: Undetermined, title: ~}",
		"      resolution: {remote: classification, values: [{remote: TruePositive, "
		"canonical: true_positive}, {remote: Undetermined, canonical: undetermined}]}\n"
		"      title: t\n"));
	const struct cc_system_def *sd = &c->engine.systems[0];
	const struct cc_value_entry *closed = entry(&sd->map[1], "Closed");
	assert_non_null(closed);
	assert_int_equal(closed->ncompanions, 2);
	assert_int_equal(closed->companions[0].field, 2);
	assert_string_equal(closed->companions[0].dflt, "Undetermined");
	assert_int_equal(closed->companions[1].field, 0);
	assert_null(closed->companions[1].dflt);
	assert_int_equal(entry(&sd->map[1], "Active")->ncompanions, 0);
	cc_config_file_free(c);

	expect_error(COMP_SYS("{resolution: x}", ""), 13, 62,
	             "companion 'resolution' of remote value 'Closed' is not a field of this system");
	expect_error(COMP_SYS("{state: x}", ""), 13, 62,
	             "'state' cannot be a companion of its own value");
	expect_error(COMP_SYS("{resolutio: x}", "      resolution: r\n"), 13, 62,
	             "unknown field 'resolutio' (did you mean 'resolution'?)");
	expect_error(COMP_SYS("{resolution: [a]}", "      resolution: r\n"), 13, 75,
	             "the default of companion 'resolution' is one remote value, or ~ for none");
	expect_error(COMP_SYS("[resolution]", "      resolution: r\n"), 13, 62,
	             "companions must be a mapping");
}

/* 8. {file: PATH} reads regular files only, and never waits on a FIFO. */
static void test_value_file_types(void **state)
{
	(void)state;
	char fifo[512];
	snprintf(fifo, sizeof(fifo), "%s/token.fifo", tmpdir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	signal(SIGALRM, on_alarm);
	alarm(10); /* without the fix, the FIFO hangs the load forever */
	expect_error("admin_token: {file: token.fifo}\n", 1, 21,
	             "admin_token: ");
	expect_error("admin_token: {file: token.fifo}\n", 1, 21,
	             "token.fifo is a FIFO: {file: PATH} reads a regular file only");
	alarm(0);
	expect_error("admin_token: {file: /dev/null}\n", 1, 21,
	             "admin_token: /dev/null is a device: {file: PATH} reads a regular file only");
	expect_error("admin_token: {file: .}\n", 1, 21, "is a directory: {file: PATH} reads a "
	             "regular file only");
	/* the size cap still holds */
	char *big = malloc(70000);
	assert_non_null(big);
	memset(big, 'x', 69999);
	big[69999] = '\0';
	write_file("big.secret", big);
	free(big);
	expect_error("admin_token: {file: big.secret}\n", 1, 21,
	             "admin_token: file");
	expect_error("admin_token: {file: big.secret}\n", 1, 21, "is larger than 65536 bytes");
	unlink(fifo);

	/* the configuration path: a directory is named as such */
	struct cc_file_config *c = (void *)1;
	char err[1024];
	assert_int_not_equal(cc_config_file_load(&c, tmpdir, NULL, err, sizeof(err)), 0);
	assert_null(c);
	char want[600];
	snprintf(want, sizeof(want), "%s: is a directory, not a configuration file", tmpdir);
	assert_string_equal(err, want);
}

/* 9. The text entry point: a buffer that need not end in NUL, named as
 * the caller says. */
static void test_load_text(void **state)
{
	(void)state;
	static const char text[] = FIELDS SYS_A "    fields: {title: t}\n" SYS_B "garbage";
	struct cc_file_config *c = NULL;
	char err[1024];
	/* the length stops before the trailing garbage */
	size_t len = sizeof(text) - 1 - strlen("garbage");
	if (cc_config_file_load_text(&c, "mem.yaml", text, len, NULL, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(c->path, "mem.yaml");
	assert_int_equal(c->engine.nsystems, 2);
	cc_config_file_free(c);
	c = (void *)1;
	assert_int_not_equal(cc_config_file_load_text(&c, "mem.yaml", text, len, &rt_options, err,
	                                              sizeof(err)), 0);
	assert_null(c);
	assert_string_equal(err, "mem.yaml:6:11: kind 'sim' is unknown (known: rt, redmine)");
	assert_int_not_equal(cc_config_file_load_text(&c, "mem.yaml", "", 0, NULL, err,
	                                              sizeof(err)), 0);
	assert_string_equal(err, "mem.yaml:1:1: the file is empty");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_loads),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_bad_yaml),
		cmocka_unit_test(test_listen_loopback),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_missing_env),
		cmocka_unit_test(test_unknown_owner),
		cmocka_unit_test(test_policy_table),
		cmocka_unit_test(test_store_table),
		cmocka_unit_test(test_lossy_default),
		cmocka_unit_test(test_duplicate_rank),
		cmocka_unit_test(test_secrets_not_in_messages),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_unknown_kind),
		cmocka_unit_test(test_settings_checked),
		cmocka_unit_test(test_alias_bomb),
		cmocka_unit_test(test_aliases_and_merge_keys),
		cmocka_unit_test(test_large_mapping),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_duration_ranges),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_second_document),
		cmocka_unit_test(test_encoding),
		cmocka_unit_test(test_value_file_types),
		cmocka_unit_test(test_companions),
		cmocka_unit_test(test_load_text),
		cmocka_unit_test(test_webhook_auth),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
