/*
 * `concord status`, `pause SYSTEM`, `resume SYSTEM` and `resync CASE`: what
 * an operator asks of a running sync, answered from the store (the daemon
 * reads the pause flags on every cycle and picks re-syncs from its outbox).
 */
#include "cli/cli.h"
#include "cli/cli_store.h"
#include "config/config_file.h"

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
	if (cc_config_file_load(&a->fc, path, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	const char *url = opt(argc, argv, "--store", NULL);
	if (!url)
		url = a->fc->store ? a->fc->store : cc_cli_store_url(argc, argv);
	if (cc_store_open(&a->st, url, err, sizeof(err))) {
		fprintf(stderr, "concord %s: cannot open store %s: %s\n", cmd, url, err);
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

struct tally {
	size_t parked[CC_MAX_SYSTEMS];
	size_t conflicts;
	size_t cases;
};

static int count_case(void *arg, const struct cc_case *c)
{
	struct tally *t = arg;
	t->cases++;
	for (int s = 0; s < CC_MAX_SYSTEMS; s++)
		if (c->link[s].status == CC_LINK_PARKED || c->link[s].unmapped_mask)
			t->parked[s]++;
	for (int f = 0; f < CC_MAX_FIELDS; f++)
		if (c->f[f].parked)
			t->conflicts++;
	return 0;
}

struct dead_tally {
	size_t n[CC_MAX_SYSTEMS];
};

static int count_dead(void *arg, const struct cc_dead_letter *d)
{
	struct dead_tally *t = arg;
	if (d->system >= 0 && d->system < CC_MAX_SYSTEMS)
		t->n[d->system]++;
	return 0;
}

int cc_cmd_status(int argc, char **argv)
{
	struct admin a;
	if (open_admin("status", argc, argv, &a))
		return 2;
	struct tally t = { 0 };
	struct dead_tally d = { 0 };
	a.st.ops->case_scan_all(a.st.self, count_case, &t);
	a.st.ops->dead_letter_scan(a.st.self, count_dead, &d);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	printf("%zu cases, %zu conflicts parked for a person\n", t.cases, t.conflicts);
	printf("%-12s %-8s %-22s %-10s %-8s %-6s %s\n", "system", "state", "last good poll", "lag",
	       "outbox", "dead", "parked");
	const struct cc_config *cfg = &a.fc->engine;
	for (size_t s = 0; s < cfg->nsystems; s++) {
		struct cc_system_state ss;
		size_t depth = 0;
		int64_t earliest;
		int64_t paused = 0;
		char flag[96], when[48] = "never", lag[24] = "-";
		snprintf(flag, sizeof(flag), "paused:%s", cfg->systems[s].name);
		a.st.ops->flag_get(a.st.self, flag, &paused);
		a.st.ops->system_state_load(a.st.self, (int)s, &ss);
		a.st.ops->outbox_stat(a.st.self, (int)s, &depth, &earliest);
		if (ss.last_poll_start_ms > 0) {
			cc_cli_format_time(when, sizeof(when), ss.last_poll_start_ms);
			snprintf(lag, sizeof(lag), "%.1f s", (double)(now - ss.last_poll_start_ms) / 1000.0);
		}
		printf("%-12s %-8s %-22s %-10s %-8zu %-6zu %zu\n", cfg->systems[s].name,
		       paused ? "paused" : "active", when, lag, depth, d.n[s], t.parked[s]);
	}
	printf("breaker state and API budget: see the daemon's log (stats lines)\n");
	close_admin(&a);
	return 0;
}

static int set_pause(int argc, char **argv, const char *cmd, int64_t value)
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
	} else {
		char flag[96];
		snprintf(flag, sizeof(flag), "paused:%s", argv[1]);
		if (a.st.ops->flag_set(a.st.self, flag, value)) {
			fprintf(stderr, "concord %s: %s\n", cmd, a.st.ops->last_error(a.st.self));
			status = 1;
		} else {
			printf("%s %s\n", argv[1], value ? "paused" : "resumed");
		}
	}
	close_admin(&a);
	return status;
}

int cc_cmd_pause(int argc, char **argv)
{
	return set_pause(argc, argv, "pause", 1);
}

int cc_cmd_resume(int argc, char **argv)
{
	return set_pause(argc, argv, "resume", 0);
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
	struct cc_case c;
	int status = 0;
	if (a.st.ops->case_load(a.st.self, id, &c)) {
		fprintf(stderr, "concord resync: no case %" PRIu64 "\n", id);
		close_admin(&a);
		return 1;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	int rc = a.st.ops->begin(a.st.self);
	size_t n = 0;
	for (int s = 0; s < CC_MAX_SYSTEMS && rc == 0; s++) {
		if (c.link[s].status != CC_LINK_LINKED)
			continue;
		c.link[s].needs_read = true;
		struct cc_outbox_entry e = { .case_id = id, .system = s, .due_ms = now, .first_ms = now };
		rc = a.st.ops->outbox_put(a.st.self, &e);
		n++;
	}
	if (rc == 0)
		rc = a.st.ops->case_save(a.st.self, &c);
	if (rc == 0)
		rc = a.st.ops->commit(a.st.self);
	if (rc) {
		a.st.ops->rollback(a.st.self);
		fprintf(stderr, "concord resync: %s\n", a.st.ops->last_error(a.st.self));
		status = 1;
	} else {
		printf("case %" PRIu64 ": %zu record%s will be read again and brought to the case\n", id,
		       n, n == 1 ? "" : "s");
	}
	cc_case_clear(&c);
	close_admin(&a);
	return status;
}
