/*
 * `concord status`, `pause SYSTEM`, `resume SYSTEM` and `resync CASE`: what
 * an operator asks of a running sync, answered from the store (the daemon
 * reads the pause flags on every cycle, picks re-syncs from its outbox and
 * writes its per-system status there). The work is in daemon/control.c,
 * shared with the daemon's admin API.
 */
#include "cli/cli.h"
#include "cli/cli_store.h"
#include "config/config_file.h"
#include "config/registry_check.h"
#include "core/redact.h"
#include "daemon/control.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct admin {
	struct cc_file_config *fc;
	struct cc_store st;
};

static const char *opt(int argc, char **argv, const char *a, const char *b)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], a) || (b && !strcmp(argv[i], b)))
			return argv[i + 1];
	return NULL;
}

/* Loads -c FILE and opens its store (--store overrides). */
static int open_admin(const char *cmd, int argc, char **argv, struct admin *a)
{
	const char *path = opt(argc, argv, "-c", "--config");
	char err[600];
	if (!path) {
		fprintf(stderr, "concord %s: -c FILE is needed (the configuration names the systems)\n",
		        cmd);
		return 2;
	}
	if (cc_config_file_load(&a->fc, path, cc_config_registry_options(), err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	const char *url = opt(argc, argv, "--store", NULL);
	if (!url)
		url = a->fc->store ? a->fc->store : cc_cli_store_url(argc, argv);
	if (cc_store_open(&a->st, url, err, sizeof(err))) {
		char shown[512];
		fprintf(stderr, "concord %s: cannot open store %s: %s\n", cmd,
		        cc_redact_copy(shown, sizeof(shown), url), err);
		cc_config_file_free(a->fc);
		return 2;
	}
	return 0;
}

static void close_admin(struct admin *a)
{
	a->st.ops->destroy(a->st.self);
	cc_config_file_free(a->fc);
}

/* Seconds as "4.2 s", "3 min", "2.5 h": how long ago something was. */
static void format_age(char *buf, size_t len, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	if (ms < 120 * 1000)
		snprintf(buf, len, "%.1f s ago", (double)ms / 1000.0);
	else if (ms < 120 * 60 * 1000)
		snprintf(buf, len, "%" PRId64 " min ago", ms / 60000);
	else
		snprintf(buf, len, "%.1f h ago", (double)ms / 3600000.0);
}

int cc_cmd_status(int argc, char **argv)
{
	struct admin a;
	if (open_admin("status", argc, argv, &a))
		return 2;
	const struct cc_config *cfg = &a.fc->engine;
	struct cc_system_report *rep = calloc(cfg->nsystems ? cfg->nsystems : 1, sizeof(*rep));
	size_t cases = 0, conflicts = 0;
	int rc = rep ? cc_control_report(&a.st, cfg, rep, &cases, &conflicts) : CC_ENOMEM;
	if (rc) {
		fprintf(stderr, "concord status: %s\n",
		        rep ? a.st.ops->last_error(a.st.self) : "out of memory");
		free(rep);
		close_admin(&a);
		return 1;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	printf("%zu cases, %zu conflicts parked for a person\n", cases, conflicts);
	for (size_t s = 0; s < cfg->nsystems; s++) {
		const struct cc_system_report *r = &rep[s];
		const struct cc_system_status *st = &r->status;
		char when[48], age[32];
		printf("\n%s (%s): %s\n", cfg->systems[s].name, cfg->systems[s].kind,
		       r->paused ? "paused (no poll, no delivery)" : "active");
		cc_control_format_time(when, sizeof(when), st->last_poll_ok_ms);
		if (st->last_poll_ok_ms > 0) {
			format_age(age, sizeof(age), now - st->last_poll_ok_ms);
			printf("  last good poll   %s (%s)\n", when, age);
		} else {
			printf("  last good poll   never\n");
		}
		if (st->last_failure_ms > 0) {
			cc_control_format_time(when, sizeof(when), st->last_failure_ms);
			printf("  last failure     %s: %s%s\n", when, st->last_failure,
			       st->failing ? "" : " (since recovered)");
		} else {
			printf("  last failure     none\n");
		}
		printf("  outbox           %zu waiting, %zu dead letters, %zu parked\n", r->outbox,
		       r->dead_letters, r->parked);
		if (r->has_status && st->has_cursor) {
			cc_control_format_time(when, sizeof(when), st->cursor_s * 1000);
			printf("  poll cursor      %s (the system's clock)\n", when);
		}
		if (r->has_status && st->poll_failures)
			printf("  polls failing    %d in a row (retried with backoff)\n",
			       st->poll_failures);
		if (!r->has_status) {
			printf("  breaker, requests: not known (no daemon has written a status yet)\n");
			continue;
		}
		const char *breaker = cc_control_breaker_state(st, now);
		if (strcmp(breaker, "open") == 0) {
			cc_control_format_time(when, sizeof(when), st->breaker_open_until_ms);
			printf("  breaker          open until %s (%d failures in a row)\n", when,
			       st->breaker_failures);
		} else {
			printf("  breaker          %s (%d failures in a row)\n", breaker,
			       st->breaker_failures);
		}
		printf("  API requests     %" PRIu64 " in %" PRIu64 " polls since the daemon started\n",
		       st->requests, st->polls);
		printf("  webhooks         %" PRIu64 " received, %" PRIu64 " dropped (queue full), %" PRIu64
		       " rejected (not authenticated)\n",
		       st->webhooks, st->webhooks_dropped, st->webhooks_rejected);
		cc_control_format_time(when, sizeof(when), st->updated_ms);
		format_age(age, sizeof(age), now - st->updated_ms);
		printf("  status written   %s (%s) by the daemon\n", when, age);
	}
	free(rep);
	close_admin(&a);
	return 0;
}

static int set_pause(int argc, char **argv, const char *cmd, bool value)
{
	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: concord %s SYSTEM -c FILE [--store URL]\n", cmd);
		return 2;
	}
	struct admin a;
	if (open_admin(cmd, argc, argv, &a))
		return 2;
	int status = 0;
	if (cc_config_file_system(a.fc, argv[1]) < 0) {
		fprintf(stderr, "concord %s: no system named %s in %s\n", cmd, argv[1], a.fc->path);
		status = 2;
	} else if (cc_control_pause(&a.st, argv[1], value)) {
		fprintf(stderr, "concord %s: %s\n", cmd, a.st.ops->last_error(a.st.self));
		status = 1;
	} else {
		printf("%s %s\n", argv[1], value ? "paused" : "resumed");
	}
	close_admin(&a);
	return status;
}

int cc_cmd_pause(int argc, char **argv)
{
	return set_pause(argc, argv, "pause", true);
}

int cc_cmd_resume(int argc, char **argv)
{
	return set_pause(argc, argv, "resume", false);
}

int cc_cmd_resync(int argc, char **argv)
{
	char *end;
	uint64_t id = argc >= 2 ? strtoull(argv[1], &end, 10) : 0;
	if (argc < 2 || !id || *end) {
		fprintf(stderr, "usage: concord resync CASE -c FILE [--store URL]\n"
		                "Reads every record of the case again and writes what differs.\n");
		return 2;
	}
	struct admin a;
	if (open_admin("resync", argc, argv, &a))
		return 2;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	size_t n = 0;
	int status = 0;
	int rc = cc_control_resync(&a.st, id, now, &n);
	if (rc == CC_ENOTFOUND) {
		fprintf(stderr, "concord resync: no case %" PRIu64 "\n", id);
		status = 1;
	} else if (rc) {
		fprintf(stderr, "concord resync: %s\n", a.st.ops->last_error(a.st.self));
		status = 1;
	} else {
		printf("case %" PRIu64 ": %zu record%s will be read again and brought to the case\n", id,
		       n, n == 1 ? "" : "s");
	}
	close_admin(&a);
	return status;
}
