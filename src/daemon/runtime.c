/*
 * The daemon's runtime (see runtime.h): real clock, real connectors, the
 * SQLite store, and the loop that polls each system at its interval and
 * delivers what is due. A webhook (POST /webhook/SYSTEM on the listen
 * address) is a hint: it makes the next poll of that system happen now, so
 * concord stays correct with polling alone.
 */
#include "daemon/runtime.h"

#include "config/config_file.h"
#include "daemon/connect.h"
#include "core/hub.h"
#include "daemon/webhook.h"
#include "store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct cc_runtime {
	char *path;
	char *store_url;
	FILE *log;
	struct cc_file_config *fc;
	struct cc_store store;
	bool store_open;
	struct cc_connector conn[CC_MAX_SYSTEMS];
	size_t nconn;
	struct cc_hub *hub;
	int64_t next_poll[CC_MAX_SYSTEMS];
	uint64_t rng;
	struct cc_webhook_listener *listener;
	uint64_t dead_before;
	int64_t paused[CC_MAX_SYSTEMS];
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t env_now(void *ctx)
{
	(void)ctx;
	return wall_ms();
}

static uint64_t env_random(void *ctx)
{
	struct cc_runtime *rt = ctx;
	uint64_t x = rt->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rt->rng = x;
}

static void logf_(struct cc_runtime *rt, const char *level, const char *fmt, ...)
{
	if (!rt->log)
		return;
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(rt->log, "%s %s ", ts, level);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(rt->log, fmt, ap);
	va_end(ap);
	fputc('\n', rt->log);
	fflush(rt->log);
}

/* Decisions worth a log line: what a person watching the sync wants to see. */
static void env_audit(void *ctx, const struct cc_audit_entry *e)
{
	struct cc_runtime *rt = ctx;
	switch (e->decision) {
	case CC_AUDIT_CASE_CREATED:
	case CC_AUDIT_DEDUP_LINKED:
	case CC_AUDIT_DEDUP_REVIEW:
	case CC_AUDIT_CREATED_REMOTE:
	case CC_AUDIT_WRITTEN:
	case CC_AUDIT_REVERTED:
	case CC_AUDIT_COMMENT_MIRRORED:
	case CC_AUDIT_LOST_CONFLICT:
	case CC_AUDIT_REFUSED:
	case CC_AUDIT_PARKED:
	case CC_AUDIT_UNMAPPED:
	case CC_AUDIT_DEAD_LETTER:
	case CC_AUDIT_ALERT:
		logf_(rt, e->decision == CC_AUDIT_ALERT || e->decision == CC_AUDIT_UNMAPPED ||
		                  e->decision == CC_AUDIT_DEAD_LETTER ? "WARN" : "INFO",
		      "case=%" PRIu64 " system=%s record=%s %s%s%s%s%.60s%s%s%s", e->case_id,
		      e->system_name ? e->system_name : "-", e->remote_id ? e->remote_id : "-",
		      cc_decision_name(e->decision), e->field_name ? " field=" : "",
		      e->field_name ? e->field_name : "", e->value ? " value=\"" : "",
		      e->value ? e->value : "", e->value ? "\"" : "", e->detail ? " -- " : "",
		      e->detail ? e->detail : "");
		break;
	default:
		break;
	}
}

static void close_parts(struct cc_runtime *rt)
{
	if (rt->listener) {
		cc_webhook_listener_stop(rt->listener);
		rt->listener = NULL;
	}
	if (rt->hub) {
		cc_hub_destroy(rt->hub);
		rt->hub = NULL;
	}
	for (size_t i = 0; i < rt->nconn; i++)
		if (rt->conn[i].ops && rt->conn[i].ops->destroy)
			rt->conn[i].ops->destroy(rt->conn[i].self);
	memset(rt->conn, 0, sizeof(rt->conn));
	rt->nconn = 0;
	if (rt->fc) {
		cc_config_file_free(rt->fc);
		rt->fc = NULL;
	}
}

/* Loads the configuration and builds connectors and hub on the open store. */
static int open_parts(struct cc_runtime *rt, char *err, size_t errlen)
{
	int rc = cc_config_file_load(&rt->fc, rt->path, err, errlen);
	if (rc)
		return 2;
	/* Systems with a correlation field get the case id in every linked
	 * record, the records people raised included. */
	for (size_t i = 0; i < rt->fc->engine.nsystems; i++)
		if (cc_config_file_setting(rt->fc, i, "correlation_field"))
			rt->fc->engine.systems[i].stamp_correlation = true;
	const struct cc_config *cfg = &rt->fc->engine;
	if (!rt->store_open) {
		const char *url = rt->store_url ? rt->store_url
		                  : rt->fc->store ? rt->fc->store : "sqlite:concord.db";
		char serr[400];
		if (cc_store_open(&rt->store, url, serr, sizeof(serr))) {
			snprintf(err, errlen, "cannot open store %s: %s", url, serr);
			return 2;
		}
		rt->store_open = true;
	}
	for (size_t i = 0; i < cfg->nsystems; i++) {
		char cerr[300];
		if (cc_connector_create_from_file(&rt->conn[i], rt->fc, i, cerr, sizeof(cerr))) {
			snprintf(err, errlen, "%s: system %s: %s", rt->path, cfg->systems[i].name, cerr);
			return 2;
		}
		rt->nconn = i + 1;
	}
	struct cc_hub_env env = { .now_ms = env_now, .random = env_random, .on_audit = env_audit,
		                  .ctx = rt };
	rc = cc_hub_create(&rt->hub, cfg, &rt->store, rt->conn, &env);
	if (rc) {
		snprintf(err, errlen, "cannot start the hub: %s",
		         rt->store.ops->last_error(rt->store.self));
		return 2;
	}
	int64_t now = wall_ms();
	for (size_t i = 0; i < cfg->nsystems; i++)
		rt->next_poll[i] = now;
	if (rt->fc->listen && rt->fc->listen[0]) {
		char lerr[200];
		if (cc_webhook_listener_start(&rt->listener, rt->fc->listen, cfg, lerr, sizeof(lerr)))
			logf_(rt, "WARN", "webhook listener not started: %s (polling only)", lerr);
		else
			logf_(rt, "INFO", "webhook listener on %s", rt->fc->listen);
	}
	return 0;
}

int cc_runtime_open(struct cc_runtime **out, const char *path, const char *store_url,
                    FILE *log, char *err, size_t errlen)
{
	struct cc_runtime *rt = calloc(1, sizeof(*rt));
	if (!rt) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	rt->path = strdup(path);
	rt->store_url = store_url ? strdup(store_url) : NULL;
	rt->log = log;
	rt->rng = (uint64_t)wall_ms() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
	if (!rt->rng)
		rt->rng = 1;
	if (!rt->path || (store_url && !rt->store_url)) {
		snprintf(err, errlen, "out of memory");
		cc_runtime_close(rt);
		return 2;
	}
	int rc = open_parts(rt, err, errlen);
	if (rc) {
		cc_runtime_close(rt);
		return rc;
	}
	size_t dead = 0;
	rt->store.ops->dead_letter_count(rt->store.self, &dead);
	rt->dead_before = dead;
	*out = rt;
	return 0;
}

void cc_runtime_close(struct cc_runtime *rt)
{
	if (!rt)
		return;
	close_parts(rt);
	if (rt->store_open)
		rt->store.ops->destroy(rt->store.self);
	free(rt->path);
	free(rt->store_url);
	free(rt);
}

static int poll_system(struct cc_runtime *rt, size_t s)
{
	const struct cc_system_def *sd = &rt->fc->engine.systems[s];
	uint64_t before = cc_hub_stats(rt->hub)->observations;
	uint64_t failures = cc_hub_stats(rt->hub)->poll_failures;
	int rc = cc_hub_poll(rt->hub, (int)s);
	rt->next_poll[s] = wall_ms() + (sd->poll_interval_ms > 0 ? sd->poll_interval_ms : 60000);
	if (rc) {
		logf_(rt, "ERROR", "system=%s poll: %s (%s): intake stopped", sd->name,
		      cc_hub_last_error(rt->hub), rt->store.ops->last_error(rt->store.self));
		return rc;
	}
	uint64_t seen = cc_hub_stats(rt->hub)->observations - before;
	if (cc_hub_stats(rt->hub)->poll_failures != failures)
		logf_(rt, "WARN", "system=%s poll failed: %s; retried at the next interval", sd->name,
		      cc_hub_last_failure(rt->hub, (int)s));
	else if (seen)
		logf_(rt, "INFO", "system=%s polled: %" PRIu64 " changed record%s", sd->name, seen,
		      seen == 1 ? "" : "s");
	return 0;
}

/* Polls what is due (or hinted by a webhook), delivers what is due. */
static int cycle(struct cc_runtime *rt, bool force_poll)
{
	const struct cc_config *cfg = &rt->fc->engine;
	for (size_t s = 0; s < cfg->nsystems; s++) {
		/* `concord pause SYSTEM` sets a flag in the store */
		char flag[96];
		int64_t paused = 0;
		snprintf(flag, sizeof(flag), "paused:%s", cfg->systems[s].name);
		rt->store.ops->flag_get(rt->store.self, flag, &paused);
		if (paused != rt->paused[s]) {
			rt->paused[s] = paused;
			logf_(rt, "INFO", "system=%s %s", cfg->systems[s].name,
			      paused ? "paused: no poll, no delivery" : "resumed");
		}
		if (paused)
			continue;
		bool hinted = rt->listener && cc_webhook_listener_take(rt->listener, (int)s);
		if (force_poll || hinted || wall_ms() >= rt->next_poll[s]) {
			int rc = poll_system(rt, s);
			if (rc)
				return rc;
		}
		int n = 0;
		int rc = cc_hub_deliver(rt->hub, (int)s, 256, &n);
		if (rc) {
			logf_(rt, "ERROR", "system=%s deliver: %s (%s): stopped", cfg->systems[s].name,
			      cc_hub_last_error(rt->hub), rt->store.ops->last_error(rt->store.self));
			return rc;
		}
	}
	return 0;
}

static int64_t next_due(struct cc_runtime *rt)
{
	int64_t t = INT64_MAX;
	for (size_t s = 0; s < rt->fc->engine.nsystems; s++) {
		int64_t d = cc_hub_next_due(rt->hub, (int)s);
		if (d < t)
			t = d;
	}
	return t;
}

static void sleep_ms(int64_t ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !stop_requested)
		;
}

static size_t outbox_depth(struct cc_runtime *rt)
{
	size_t total = 0;
	for (size_t s = 0; s < rt->fc->engine.nsystems; s++) {
		size_t n = 0;
		int64_t e;
		if (rt->store.ops->outbox_stat(rt->store.self, (int)s, &n, &e) == 0)
			total += n;
	}
	return total;
}

struct parked_count {
	size_t n;
};

static int count_parked(void *arg, const struct cc_case *c)
{
	struct parked_count *pc = arg;
	for (int s = 0; s < CC_MAX_SYSTEMS; s++)
		if (c->link[s].status == CC_LINK_PARKED || c->link[s].unmapped_mask)
			pc->n++;
	for (int f = 0; f < CC_MAX_FIELDS; f++)
		if (c->f[f].parked)
			pc->n++;
	return 0;
}

int cc_runtime_sync_once(struct cc_runtime *rt, int64_t max_wait_ms)
{
	int64_t start = wall_ms();
	int rc = cycle(rt, true);
	while (rc == 0 && !stop_requested) {
		size_t depth = outbox_depth(rt);
		if (depth == 0)
			break;
		int64_t now = wall_ms();
		int64_t due = next_due(rt);
		if (due > start + max_wait_ms)
			break; /* only backoff waits left */
		/* a create waits for a poll of its target after the settle time */
		int64_t next_poll = INT64_MAX;
		for (size_t s = 0; s < rt->fc->engine.nsystems; s++)
			if (rt->next_poll[s] < next_poll)
				next_poll = rt->next_poll[s];
		int64_t wake = due < next_poll ? due : next_poll;
		if (wake > start + max_wait_ms)
			break;
		sleep_ms(wake - now);
		rc = cycle(rt, false);
	}
	if (rc)
		return 2;
	size_t dead = 0;
	rt->store.ops->dead_letter_count(rt->store.self, &dead);
	struct parked_count pc = { 0 };
	rt->store.ops->case_scan_all(rt->store.self, count_parked, &pc);
	size_t left = outbox_depth(rt);
	logf_(rt, "INFO", "sync done in %.1f s: %zu left in the outbox, %zu dead letters, %zu parked",
	      (double)(wall_ms() - start) / 1000.0, left, dead, pc.n);
	return dead > rt->dead_before || pc.n ? 1 : 0;
}

int cc_runtime_serve(struct cc_runtime *rt)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	logf_(rt, "INFO", "serving %zu systems from %s", rt->fc->engine.nsystems, rt->path);
	int rc = 0;
	while (!stop_requested) {
		if (reload_requested) {
			reload_requested = 0;
			char err[512];
			struct cc_file_config *probe = NULL;
			if (cc_config_file_load(&probe, rt->path, err, sizeof(err))) {
				logf_(rt, "ERROR", "reload refused, keeping the running configuration: %s", err);
			} else {
				cc_config_file_free(probe);
				close_parts(rt);
				if (open_parts(rt, err, sizeof(err))) {
					logf_(rt, "ERROR", "reload failed: %s", err);
					rc = 2;
					break;
				}
				logf_(rt, "INFO", "configuration reloaded");
			}
		}
		rc = cycle(rt, false);
		if (rc) {
			rc = 2;
			break;
		}
		int64_t now = wall_ms();
		int64_t wake = next_due(rt);
		for (size_t s = 0; s < rt->fc->engine.nsystems; s++)
			if (rt->next_poll[s] < wake)
				wake = rt->next_poll[s];
		/* short naps so webhooks, signals and reloads are seen quickly */
		int64_t nap = wake - now;
		if (nap > 200)
			nap = 200;
		sleep_ms(nap);
	}
	const struct cc_hub_stats *st = cc_hub_stats(rt->hub);
	for (size_t s = 0; s < rt->fc->engine.nsystems; s++)
		logf_(rt, "INFO", "stats system=%s requests=%" PRIu64 " polls=%" PRIu64,
		      rt->fc->engine.systems[s].name, st->requests[s],
		      st->polls / (rt->fc->engine.nsystems ? rt->fc->engine.nsystems : 1));
	logf_(rt, "INFO", "stats writes=%" PRIu64 " creates=%" PRIu64 " comments=%" PRIu64
	      " changes=%" PRIu64 " observations=%" PRIu64, st->writes, st->creates, st->comments,
	      st->changes, st->observations);
	logf_(rt, "INFO", "stopping: %zu deliveries left in the outbox for the next start",
	      outbox_depth(rt));
	return rc;
}
