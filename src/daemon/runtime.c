/*
 * The daemon's runtime (see runtime.h): real clock, real connectors, the
 * SQLite store, and the loop that polls each system at its interval and
 * delivers what is due. A webhook (POST /webhook/SYSTEM on the listen
 * address) is a hint: its body goes to the system's connector when that
 * reads webhooks (ops->webhook), else (or when that fails) it makes the
 * next poll of that system happen now, so concord stays correct with
 * polling alone. Admin requests that the listener queued are answered here,
 * on the thread that owns the hub and the store; so is the per-system
 * status written into the store for `concord status`.
 */
#include "daemon/runtime.h"

#include "config/config_file.h"
#include "connectors/registry.h"
#include "daemon/connect.h"
#include "daemon/control.h"
#include "core/hub.h"
#include "daemon/webhook.h"
#include "store/store.h"

#include <errno.h>
#include <jansson.h>
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
	/* first start: records read before the system's first complete poll */
	uint64_t first_sync_read[CC_MAX_SYSTEMS];
	int64_t progress_at_ms;      /* last "catching up" line */
	uint64_t progress_delivered; /* deliveries counted at that line */
	uint64_t rng;
	struct cc_webhook_listener *listener;
	uint64_t dead_before;
	bool paused[CC_MAX_SYSTEMS];
	struct cc_system_status status[CC_MAX_SYSTEMS]; /* live; written after each poll */
	bool status_warned;
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
	int rc = cc_config_file_load_kinds(&rt->fc, rt->path, cc_connector_kinds(), err, errlen);
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
	memset(rt->status, 0, sizeof(rt->status));
	if (rt->fc->listen && rt->fc->listen[0]) {
		char lerr[200];
		struct cc_listener_options lo = { .admin_token = rt->fc->admin_token.value };
		for (size_t i = 0; i < cfg->nsystems; i++) {
			const struct cc_connector_ops *ops = rt->conn[i].ops;
			lo.keep_bodies[i] = ops && ops->version >= 2 && ops->webhook;
		}
		if (cc_webhook_listener_start(&rt->listener, rt->fc->listen, cfg, &lo, lerr,
		                              sizeof(lerr)))
			logf_(rt, "WARN", "webhook listener not started: %s (polling only)", lerr);
		else
			logf_(rt, "INFO", "webhook listener on %s; admin API %s", rt->fc->listen,
			      lo.admin_token && lo.admin_token[0] ? "enabled (token required)"
			                                          : "disabled: no admin_token");
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
	struct cc_hub_system_status hs;
	cc_hub_system_status(rt->hub, (int)s, &hs);
	bool first = hs.last_poll_start_ms == 0; /* never polled through: a first start */
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
	else if (first)
		logf_(rt, "INFO", "system=%s first sync: %" PRIu64 " existing records read so far",
		      sd->name, rt->first_sync_read[s] += seen);
	else if (seen)
		logf_(rt, "INFO", "system=%s polled: %" PRIu64 " changed record%s", sd->name, seen,
		      seen == 1 ? "" : "s");
	if (first && cc_hub_stats(rt->hub)->poll_failures == failures) {
		cc_hub_system_status(rt->hub, (int)s, &hs);
		if (hs.last_poll_start_ms)
			logf_(rt, "INFO", "system=%s first sync: all %" PRIu64 " existing records read; "
			      "their copies follow through the outbox", sd->name, rt->first_sync_read[s]);
	}
	return 0;
}

static size_t outbox_depth(struct cc_runtime *rt);

/*
 * Progress while the outbox holds work (a first start, a burst, a system
 * back from an outage): one line every 10 s.
 */
static void log_progress(struct cc_runtime *rt)
{
	int64_t now = wall_ms();
	const struct cc_hub_stats *st = cc_hub_stats(rt->hub);
	uint64_t done = st->writes + st->creates + st->comments;
	if (!rt->progress_at_ms) { /* the first cycle sets the baseline */
		rt->progress_at_ms = now;
		rt->progress_delivered = done;
		return;
	}
	if (now - rt->progress_at_ms < 10000)
		return;
	size_t depth = outbox_depth(rt);
	if (depth || done != rt->progress_delivered) {
		if (depth)
			logf_(rt, "INFO", "catching up: %zu deliveries waiting in the outbox, %" PRIu64
			      " done in the last %.0f s", depth, done - rt->progress_delivered,
			      (double)(now - rt->progress_at_ms) / 1000.0);
	}
	rt->progress_at_ms = now;
	rt->progress_delivered = done;
}

/* The API budget of a connector, {"list": N, "read": N, ...} (new reference). */
static json_t *budget_json(const struct cc_connector *cn)
{
	json_t *o = json_object();
	struct cc_budget_line b[16];
	size_t n = cn->ops && cn->ops->budget ? cn->ops->budget(cn->self, b, 16) : 0;
	for (size_t i = 0; o && i < n; i++)
		json_object_set_new(o, b[i].op, json_integer((json_int_t)b[i].requests));
	return o;
}

/* Refreshes the live status of a system from the hub and the listener. */
static void refresh_status(struct cc_runtime *rt, size_t s)
{
	struct cc_system_status *st = &rt->status[s];
	struct cc_hub_system_status hs;
	cc_hub_system_status(rt->hub, (int)s, &hs);
	int64_t now = wall_ms();
	st->updated_ms = now;
	st->last_poll_ok_ms = hs.last_poll_start_ms;
	st->breaker_failures = hs.failures;
	st->breaker_open_until_ms = hs.open_until_ms;
	st->requests = cc_hub_stats(rt->hub)->requests[s];
	st->polls = cc_hub_stats(rt->hub)->polls_of[s];
	const char *failure = cc_hub_last_failure(rt->hub, (int)s);
	st->failing = failure[0] != '\0';
	if (st->failing) {
		snprintf(st->last_failure, sizeof(st->last_failure), "%s", failure);
		st->last_failure_ms = now;
	}
	if (rt->listener)
		cc_webhook_listener_counts(rt->listener, (int)s, &st->webhooks, &st->webhooks_dropped);
}

/* Writes the live status of a system into the store (a failure is logged
 * once: the status is for people, the sync goes on without it). */
static void save_status(struct cc_runtime *rt, size_t s)
{
	refresh_status(rt, s);
	const char *name = rt->fc->engine.systems[s].name;
	if (cc_control_status_save(&rt->store, name, &rt->status[s]) && !rt->status_warned) {
		rt->status_warned = true;
		logf_(rt, "WARN", "system=%s cannot write its status for `concord status`: %s", name,
		      rt->store.ops->last_error(rt->store.self));
	}
}

/* The JSON of GET /admin/status (caller frees), NULL on failure. */
static char *status_json(struct cc_runtime *rt, unsigned *http)
{
	const struct cc_config *cfg = &rt->fc->engine;
	struct cc_system_report rep[CC_MAX_SYSTEMS];
	size_t cases = 0, conflicts = 0;
	if (cc_control_report(&rt->store, cfg, rep, &cases, &conflicts)) {
		*http = 500;
		json_t *e = json_pack("{s:s}", "error", rt->store.ops->last_error(rt->store.self));
		char *out = e ? json_dumps(e, 0) : NULL;
		json_decref(e);
		return out;
	}
	int64_t now = wall_ms();
	json_t *root = json_object(), *systems = json_array();
	bool ok = root && systems && json_object_set_new(root, "systems", systems) == 0;
	if (!ok)
		json_decref(systems);
	ok = ok && json_object_set_new(root, "cases", json_integer((json_int_t)cases)) == 0 &&
	     json_object_set_new(root, "conflicts_parked", json_integer((json_int_t)conflicts)) == 0;
	for (size_t s = 0; ok && s < cfg->nsystems; s++) {
		refresh_status(rt, s);
		const struct cc_system_status *st = &rt->status[s];
		char poll_at[48], fail_at[48], open_until[48];
		cc_control_format_time(poll_at, sizeof(poll_at), st->last_poll_ok_ms);
		cc_control_format_time(fail_at, sizeof(fail_at), st->last_failure_ms);
		cc_control_format_time(open_until, sizeof(open_until), st->breaker_open_until_ms);
		json_t *j = json_pack(
			"{s:s, s:s, s:b, s:o, s:o, s:I, s:I, s:I, s:{s:s, s:i, s:o}, s:o, s:o, s:b, "
			"s:{s:I, s:I, s:o}, s:{s:I, s:I}}",
			"name", cfg->systems[s].name, "kind", cfg->systems[s].kind,
			"paused", rep[s].paused,
			"last_poll_ok", st->last_poll_ok_ms > 0 ? json_string(poll_at) : json_null(),
			"lag_s", st->last_poll_ok_ms > 0
			                 ? json_real((double)(now - st->last_poll_ok_ms) / 1000.0)
			                 : json_null(),
			"outbox", (json_int_t)rep[s].outbox, "dead_letters",
			(json_int_t)rep[s].dead_letters, "parked", (json_int_t)rep[s].parked,
			"breaker", "state", cc_control_breaker_state(st, now), "failures",
			st->breaker_failures, "open_until",
			st->breaker_open_until_ms > 0 ? json_string(open_until) : json_null(),
			"last_failure", st->last_failure_ms > 0 ? json_string(st->last_failure) : json_null(),
			"last_failure_at", st->last_failure_ms > 0 ? json_string(fail_at) : json_null(),
			"failing", st->failing,
			"requests", "total", (json_int_t)st->requests, "polls", (json_int_t)st->polls,
			"by_operation", budget_json(&rt->conn[s]),
			"webhooks", "received", (json_int_t)st->webhooks, "dropped",
			(json_int_t)st->webhooks_dropped);
		ok = j && json_array_append_new(systems, j) == 0;
	}
	char *out = ok ? json_dumps(root, JSON_INDENT(2)) : NULL;
	json_decref(root);
	*http = out ? 200 : 500;
	return out;
}

/* {"error": text} or {key: value...} answers, as a malloc'd string. */
static char *json_text(const char *key, const char *value)
{
	json_t *j = json_pack("{s:s}", key, value);
	char *out = j ? json_dumps(j, 0) : NULL;
	json_decref(j);
	return out;
}

/* One admin request, on the main loop: the same work as the CLI's. */
static void answer_admin(struct cc_runtime *rt, struct cc_admin_request *rq)
{
	unsigned http = 200;
	char *body = NULL;
	const char *name = NULL;
	switch (rq->op) {
	case CC_ADMIN_STATUS:
		body = status_json(rt, &http);
		break;
	case CC_ADMIN_PAUSE:
	case CC_ADMIN_RESUME: {
		bool pause = rq->op == CC_ADMIN_PAUSE;
		if (cc_config_file_system(rt->fc, rq->arg) < 0) {
			http = 404;
			body = json_text("error", "no such system");
			break;
		}
		name = rt->fc->engine.systems[cc_config_file_system(rt->fc, rq->arg)].name;
		if (cc_control_pause(&rt->store, name, pause)) {
			http = 500;
			body = json_text("error", rt->store.ops->last_error(rt->store.self));
			break;
		}
		logf_(rt, "INFO", "admin API: %s %s", pause ? "pause" : "resume", name);
		json_t *j = json_pack("{s:s, s:b}", "system", name, "paused", pause);
		body = j ? json_dumps(j, 0) : NULL;
		json_decref(j);
		break;
	}
	case CC_ADMIN_RESYNC: {
		char *end;
		errno = 0;
		uint64_t id = strtoull(rq->arg, &end, 10);
		if (errno || !id || *end || rq->arg[0] == '-') {
			http = 400;
			body = json_text("error", "CASE must be a case number");
			break;
		}
		size_t n = 0;
		int rc = cc_control_resync(&rt->store, id, wall_ms(), &n);
		if (rc == CC_ENOTFOUND) {
			http = 404;
			body = json_text("error", "no such case");
			break;
		}
		if (rc) {
			http = 500;
			body = json_text("error", rt->store.ops->last_error(rt->store.self));
			break;
		}
		logf_(rt, "INFO", "admin API: resync case=%" PRIu64 " (%zu record%s)", id, n,
		      n == 1 ? "" : "s");
		json_t *j = json_pack("{s:I, s:I}", "case", (json_int_t)id, "records", (json_int_t)n);
		body = j ? json_dumps(j, 0) : NULL;
		json_decref(j);
		break;
	}
	}
	if (!body)
		http = 500;
	cc_webhook_listener_answer(rt->listener, rq, http, body);
}

static void serve_admin(struct cc_runtime *rt)
{
	if (!rt->listener)
		return;
	struct cc_admin_request *rq;
	while ((rq = cc_webhook_listener_next_admin(rt->listener)))
		answer_admin(rt, rq);
}

/*
 * Webhook bodies of a system, to its connector. *poll_now becomes true
 * when one could not be handled (no webhook op, or it failed): the poll
 * covers it. When a poll is due anyway, the bodies are dropped unread.
 */
static int take_webhooks(struct cc_runtime *rt, size_t s, bool *poll_now)
{
	char *body;
	size_t len;
	while (cc_webhook_listener_take_body(rt->listener, (int)s, &body, &len)) {
		int rc = 0;
		if (!*poll_now) {
			bool handled = false;
			rc = cc_hub_webhook(rt->hub, (int)s, body, len, &handled);
			if (!handled)
				*poll_now = true;
		}
		free(body);
		if (rc) {
			logf_(rt, "ERROR", "system=%s webhook: %s (%s): intake stopped",
			      rt->fc->engine.systems[s].name, cc_hub_last_error(rt->hub),
			      rt->store.ops->last_error(rt->store.self));
			return rc;
		}
		serve_admin(rt); /* many bodies: admin requests do not wait for all */
	}
	return 0;
}

/* Polls what is due (or hinted by a webhook), delivers what is due. */
static int cycle(struct cc_runtime *rt, bool force_poll)
{
	const struct cc_config *cfg = &rt->fc->engine;
	serve_admin(rt);
	for (size_t s = 0; s < cfg->nsystems; s++) {
		/* `concord pause SYSTEM` (or the admin API) sets a flag in the store */
		bool paused = false;
		cc_control_paused(&rt->store, cfg->systems[s].name, &paused);
		if (paused != rt->paused[s]) {
			rt->paused[s] = paused;
			logf_(rt, "INFO", "system=%s %s", cfg->systems[s].name,
			      paused ? "paused: no poll, no delivery" : "resumed");
		}
		if (paused)
			continue;
		bool poll_now = force_poll || wall_ms() >= rt->next_poll[s];
		if (rt->listener) {
			if (cc_webhook_listener_take(rt->listener, (int)s))
				poll_now = true;
			int rc = take_webhooks(rt, s, &poll_now);
			if (rc)
				return rc;
		}
		if (poll_now) {
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
		if (poll_now)
			save_status(rt, s); /* at most once per poll */
	}
	serve_admin(rt);
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
			if (cc_config_file_load_kinds(&probe, rt->path, cc_connector_kinds(), err,
			                              sizeof(err))) {
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
		log_progress(rt);
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
	for (size_t s = 0; s < rt->fc->engine.nsystems; s++) {
		uint64_t hooks = 0, hooks_dropped = 0;
		if (rt->listener)
			cc_webhook_listener_counts(rt->listener, (int)s, &hooks, &hooks_dropped);
		char by_op[400] = "";
		struct cc_budget_line b[16];
		const struct cc_connector *cn = &rt->conn[s];
		size_t nb = cn->ops && cn->ops->budget ? cn->ops->budget(cn->self, b, 16) : 0;
		for (size_t i = 0, used = 0; i < nb && used < sizeof(by_op); i++) {
			int w = snprintf(by_op + used, sizeof(by_op) - used, " %s=%" PRIu64, b[i].op,
			                 b[i].requests);
			used += w > 0 ? (size_t)w : 0;
		}
		logf_(rt, "INFO", "stats system=%s requests=%" PRIu64 " polls=%" PRIu64
		      " webhooks=%" PRIu64 " webhooks_dropped=%" PRIu64 " by operation:%s",
		      rt->fc->engine.systems[s].name, st->requests[s], st->polls_of[s], hooks,
		      hooks_dropped, nb ? by_op : " (not counted)");
	}
	logf_(rt, "INFO", "stats writes=%" PRIu64 " creates=%" PRIu64 " comments=%" PRIu64
	      " changes=%" PRIu64 " observations=%" PRIu64, st->writes, st->creates, st->comments,
	      st->changes, st->observations);
	for (size_t s = 0; s < rt->fc->engine.nsystems; s++)
		save_status(rt, s);
	logf_(rt, "INFO", "stopping: %zu deliveries left in the outbox for the next start",
	      outbox_depth(rt));
	return rc;
}
