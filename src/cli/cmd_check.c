/*
 * `concord check -c FILE`: loads and checks a configuration file, then
 * prints a short summary (systems, fields, policies) and what this build
 * knows (connector kinds, store backends, policies, from their tables).
 * Secrets are never printed: only where they come from. A `kind` that no
 * connector of this build knows, or a setting it does not read, is an
 * error here, not when the daemon starts. Exit 0 when the file is sound,
 * 2 with "FILE:LINE:COLUMN: message" on stderr when it is not.
 *
 * `concord check --keys` prints every key the file may hold, from the
 * rows of src/config/schema.c: the same rows docs/configuration.md's
 * tables are checked against.
 */
#include "cli/cli.h"
#include "config/config_file.h"
#include "config/registry_check.h"
#include "config/schema.h"
#include "connectors/registry.h"
#include "core/policy.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: concord check -c FILE\n"
	           "       concord check --keys\n"
	           "Loads the configuration FILE, checks it (keys, types, names, secrets,\n"
	           "mappings, connector kinds and settings, store, policies) and prints a\n"
	           "summary without secrets. Exit 0 when it is sound, 2 with\n"
	           "FILE:LINE:COLUMN: message when it is not. --keys lists every key of\n"
	           "the file: type, default, range and meaning.\n");
}

/* Formats ms as the largest units that divide it: 90000 -> "1m30s". */
static const char *fmt_duration(char *buf, size_t len, int64_t ms)
{
	static const struct { int64_t ms; const char *unit; } units[] = {
		{ 3600 * 1000, "h" }, { 60 * 1000, "m" }, { 1000, "s" }, { 1, "ms" },
	};
	size_t used = 0;
	buf[0] = '\0';
	if (ms == 0) {
		snprintf(buf, len, "0");
		return buf;
	}
	for (size_t i = 0; i < 4 && ms > 0 && used < len; i++) {
		if (ms >= units[i].ms) {
			int n = snprintf(buf + used, len - used, "%" PRId64 "%s", ms / units[i].ms,
			                 units[i].unit);
			if (n < 0)
				break;
			used += (size_t)n;
			ms %= units[i].ms;
		}
	}
	return buf;
}

static const char *source_word(enum cc_value_source s)
{
	switch (s) {
	case CC_SRC_ENV:
		return "env";
	case CC_SRC_FILE:
		return "file";
	default:
		return "inline";
	}
}

/* A URL without user:password@, which may hide a credential. */
static void print_url(const struct cc_sourced *u)
{
	const char *v = u->value;
	const char *scheme = strstr(v, "://");
	const char *host = scheme ? scheme + 3 : v;
	const char *slash = strchr(host, '/');
	const char *at = strchr(host, '@');
	if (at && (!slash || at < slash))
		printf("%.*s***@%s", (int)(host - v), v, at + 1);
	else
		printf("%s", v);
	if (u->source != CC_SRC_INLINE)
		printf(" (%s %s)", source_word(u->source), u->from);
}

static void print_secret(const char *label, const struct cc_sourced *s)
{
	if (s->source == CC_SRC_NONE)
		printf("%s: not set", label);
	else
		printf("%s: set (%s %s)", label, source_word(s->source), s->from);
}

static const char *const type_word[] = { "string", "text", "enum", "user", "priority",
	                                 "timestamp" };

/* What this build knows, from the registration tables. */
static void print_tables(void)
{
	printf("\nconnector kinds:\n");
	for (const struct cc_connector_kind *const *k = cc_connector_kind_table(); *k; k++) {
		printf("  %-12s %s\n", (*k)->kind, (*k)->description);
		const char *sep = "settings: ";
		printf("  %-12s ", "");
		for (const struct cc_setting_row *r = (*k)->settings; r && r->key; r++, sep = ", ")
			printf("%s%s (%s%s)", sep, r->key, r->required ? "required" : "default ",
			       r->required ? "" : r->dflt ? r->dflt : "none");
		printf("%s\n", sep[0] == 's' ? "no settings" : "");
	}
	size_t n;
	const struct cc_store_backend *b = cc_store_backends(&n);
	printf("store backends:\n");
	for (size_t i = 0; i < n; i++)
		printf("  %-12s %s\n", b[i].form, b[i].description);
	const struct cc_policy_def *const *p = cc_policy_table(&n);
	printf("policies:\n");
	for (size_t i = 0; i < n; i++)
		printf("  %-12s %s\n", p[i]->name, p[i]->syntax);
}

int cc_cmd_check(int argc, char **argv)
{
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc) {
			path = argv[++i];
		} else if (!strncmp(argv[i], "--config=", 9)) {
			path = argv[i] + 9;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--keys")) {
			cc_config_keys_print(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!path) {
		usage(stderr);
		return 2;
	}
	struct cc_file_config *c;
	char err[1024];
	if (cc_config_file_load(&c, path, cc_config_registry_options(), err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	const struct cc_config *cfg = &c->engine;
	char d1[32], d2[32], d3[32];

	printf("%s: OK\n", path);
	printf("store: %s\n", c->store ? c->store : "(not set: --store or the default)");
	printf("listen: %s\n", c->listen);
	print_secret("admin_token", &c->admin_token);
	printf("\n");

	printf("systems (%zu):\n", cfg->nsystems);
	for (size_t s = 0; s < cfg->nsystems; s++) {
		const struct cc_system_def *sd = &cfg->systems[s];
		const struct cc_system_file *sf = &c->system[s];
		printf("  %s: kind %s, rank %d, poll every %s (overlap %s, search lag %s), "
		       "page %zu, comments %s\n",
		       sd->name, sd->kind, (int)sd->rank, fmt_duration(d1, sizeof(d1), sd->poll_interval_ms),
		       fmt_duration(d2, sizeof(d2), sd->poll_overlap_s * 1000),
		       fmt_duration(d3, sizeof(d3), sd->search_lag_ms), sd->page_size,
		       sd->comments ? "yes" : "no");
		printf("    url: ");
		if (sf->url.value)
			print_url(&sf->url);
		else
			printf("not set");
		printf("; ");
		print_secret("token", &sf->token);
		printf("; writes as %s\n", sd->integration_user ? sd->integration_user : "(unknown)");
		printf("    webhooks: ");
		if (sf->webhook_secret.source != CC_SRC_NONE)
			print_secret("signed, X-Concord-Signature HMAC-SHA256; webhook_secret",
			             &sf->webhook_secret);
		else if (sf->webhook_token.source != CC_SRC_NONE)
			print_secret("Authorization: Bearer; webhook_token", &sf->webhook_token);
		else if (sf->webhook_auth == CC_WEBHOOK_AUTH_UNAUTHENTICATED)
			printf("accepted without authentication (webhook_auth: none)");
		else
			printf("refused with 403 (no webhook_secret or webhook_token; polling only)");
		printf("\n");
		if (sf->nsettings) {
			printf("    settings:");
			for (size_t i = 0; i < sf->nsettings; i++) {
				const struct cc_setting *st = &sf->settings[i];
				if (st->source == CC_SRC_INLINE)
					printf(" %s=%s", st->key, st->value);
				else
					printf(" %s=(%s %s)", st->key, source_word(st->source), st->from);
			}
			printf("\n");
		}
		if (sf->nusers)
			printf("    users: %zu mapped\n", sf->nusers);
		for (size_t r = 0; r < sd->nroutes; r++)
			printf("    route: %s %s '%s'\n", cfg->fields[sd->routes[r].field].name,
			       sd->routes[r].op == CC_ROUTE_NE ? "ne" : "eq", sd->routes[r].value);
		for (size_t f = 0; f < cfg->nfields; f++) {
			const struct cc_field_map *m = &sd->map[f];
			if (!m->mapped) {
				printf("    %-12s (not carried)\n", cfg->fields[f].name);
				continue;
			}
			printf("    %-12s <-> %s", cfg->fields[f].name, m->remote_name);
			if (m->kind == CC_MAP_RANGE)
				printf(" (%zu ranges)", m->nranges);
			else if (m->kind == CC_MAP_TABLE && sf->nusers &&
			         m->entries[0].remote == sf->users[0].person)
				printf(" (users map)");
			else if (m->kind == CC_MAP_TABLE)
				printf(" (%zu values)", m->nentries);
			printf("\n");
		}
	}
	printf("\nfields (%zu):\n", cfg->nfields);
	for (size_t f = 0; f < cfg->nfields; f++) {
		const struct cc_field_def *fd = &cfg->fields[f];
		printf("  %-12s %-9s ", fd->name, type_word[fd->type]);
		printf("%s", cc_policy(fd->policy)->name);
		if (fd->policy == CC_POLICY_OWNER)
			printf(" %s (%s)", cfg->systems[fd->owner].name,
			       fd->owner_mode == CC_OWNER_REVERT ? "revert" : "ignore");
		if (fd->dedup_key)
			printf(", duplicate check");
		printf("\n");
	}
	print_tables();
	cc_config_file_free(c);
	return 0;
}
