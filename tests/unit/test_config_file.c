/*
 * Tests of the configuration file (src/config/config_file.c): the shipped
 * example loads into the engine's configuration, every kind of error names
 * the right line and column, and secrets never reach a message.
 *
 * Each case writes its YAML into a temporary file, as a user would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config/config_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Loads yaml, expects a failure at line:col whose message contains want. */
static void expect_error(const char *yaml, int line, int col, const char *want)
{
	char path[512];
	snprintf(path, sizeof(path), "%s", write_file("c.yaml", yaml));
	struct cc_file_config *c = (void *)1;
	char err[1024];
	int rc = cc_config_file_load(&c, path, err, sizeof(err));
	if (rc == 0)
		fail_msg("loaded, expected an error containing '%s'", want);
	assert_null(c);
	char prefix[600];
	snprintf(prefix, sizeof(prefix), "%s:%d:%d: ", path, line, col);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, want))
		fail_msg("got   '%s'\nwanted '%s...%s'", err, prefix, want);
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
	int rc = cc_config_file_load(&c, CC_SOURCE_ROOT "/examples/rt-redmine.yaml", err,
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
	if (cc_config_file_load(&c, path, err, sizeof(err)))
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
	if (cc_config_file_load(&c, path, err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(c->listen_public);
	cc_config_file_free(c);
	path = write_file("local.yaml", "listen: 127.0.0.2:1\n" FIELDS
		"systems:\n  - name: a\n    kind: sim\n    fields: {title: t}\n" SYS_B);
	if (cc_config_file_load(&c, path, err, sizeof(err)))
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
	             2, 26, "policy owner names its system");
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
		int rc = cc_config_file_load(&c, path, err, sizeof(err));
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
	assert_int_not_equal(cc_config_file_load(&c, "/nonexistent/concord.yaml", err,
	                                         sizeof(err)), 0);
	assert_null(c);
	assert_non_null(strstr(err, "/nonexistent/concord.yaml: cannot open"));
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
		cmocka_unit_test(test_lossy_default),
		cmocka_unit_test(test_duplicate_rank),
		cmocka_unit_test(test_secrets_not_in_messages),
		cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
