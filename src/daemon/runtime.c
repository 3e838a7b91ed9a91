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
#include "config/registry_check.h"
#include "connectors/registry.h"
#include "connectors/seen.h"
#include "daemon/connect.h"
#include "daemon/control.h"
#include "daemon/jobs.h"
#include "core/driver.h"
#include "core/hub.h"
#include "daemon/webhook.h"
#include "core/redact.h"
#include "http/client.h"
#include "store/store.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * What a configuration builds, swapped as a whole on reload: the file, one
 * connector per system, the hub over them, the listener serving them, and
 * the secrets every outside text is cleaned of.
 */
struct parts {
	struct cc_file_config *fc;
	struct cc_connector conn[CC_MAX_SYSTEMS];
	size_t nconn;
	/* per system with concurrency > 1: the instances that deliver at once
	 * and the pace all of its instances share */
	struct cc_connector slots[CC_MAX_SYSTEMS][CC_HUB_SLOTS_MAX];
	size_t nslots[CC_MAX_SYSTEMS];
	struct cc_http_pace *pace[CC_MAX_SYSTEMS];
	struct cc_seen *seen[CC_MAX_SYSTEMS]; /* shared by a system's instances */
	struct cc_hub *hub;
	struct cc_driver *driver;     /* the loop over the hub (core/driver.h) */
	struct cc_webhook_listener *listener;
	/* borrowed from fc: tokens, webhook secrets and tokens, the admin
	 * token; NULL-terminated */
	const char *secrets[3 * CC_MAX_SYSTEMS + 2];
};

/* Admin work asked during a remote call, done by the loop between hub calls. */
#define DEFERRED_RESYNCS 64

struct cc_runtime {
	char *path;
	char *store_url;
	FILE *log;
	struct cc_store store;
	bool store_open;
	/* the running configuration's parts, and room to build the next one
	 * beside it (the hub keeps pointers into its parts: they never move) */
	struct parts part[2];
	struct parts *p;
	/* first start: records read before the system's first complete poll */
	uint64_t first_sync_read[CC_MAX_SYSTEMS];
	int poll_failures[CC_MAX_SYSTEMS]; /* as of the last poll, for episodes */
	int64_t progress_at_ms;      /* last "catching up" line */
	uint64_t progress_delivered; /* deliveries counted at that line */
	uint64_t rng;
	uint64_t dead_before;
	bool paused[CC_MAX_SYSTEMS];
	struct cc_system_status status[CC_MAX_SYSTEMS]; /* live; written after each poll */
	bool status_warned;
	/* the store's part of /admin/status as last read by the loop, for
	 * answers given during a remote call */
	struct cc_system_report report[CC_MAX_SYSTEMS];
	size_t report_cases, report_conflicts;
	int64_t report_ms;
	/* each system's API budget by operation, all its instances summed; read
	 * by the loop when no delivery is under way, for answers given during one */
	struct cc_budget_line budget[CC_MAX_SYSTEMS][16];
	size_t nbudget[CC_MAX_SYSTEMS];
	struct cc_jobs *jobs;        /* the threads of the deliveries at once */
	/* admin requests taken during a remote call (on_wait) */
	bool in_wait;
	/* a round of jobs runs (env_run): a poll's calls are then on a job's
	 * thread, where admin requests are not answered (jobs_waiting does) */
	bool in_round;
	int64_t wait_since_ms;       /* the first on_wait since the loop last had the store */
	bool trace;                  /* CONCORD_TRACE=http: a log line per request and webhook */
	bool pause_set[CC_MAX_SYSTEMS], pause_to[CC_MAX_SYSTEMS];
	uint64_t resync[DEFERRED_RESYNCS];
	size_t nresync;
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;
/* The listener's wake descriptor while the loop waits on it, else -1. */
static volatile sig_atomic_t wake_fd = -1;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
	int fd = wake_fd;
	if (fd >= 0) { /* ends the loop's wait at once (write is async-signal-safe) */
		uint64_t one = 1;
		ssize_t w = write(fd, &one, sizeof(one));
		(void)w;
	}
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

static bool env_stopping(void *ctx)
{
	(void)ctx;
	return stop_requested != 0;
}

/* The outbox's batches (cc_hub_env.run, .lock, .unlock): daemon/jobs.h. */
static void env_run(void *ctx, size_t n, void (*job)(void *arg), void **args)
{
	struct cc_runtime *rt = ctx;
	rt->in_round = true; /* set before the threads start, cleared after they end */
	cc_jobs_run(rt->jobs, n, job, args);
	rt->in_round = false;
}

static void env_wait(void *ctx)
{
	cc_jobs_wait(((struct cc_runtime *)ctx)->jobs);
}

static void env_wake(void *ctx)
{
	cc_jobs_wake(((struct cc_runtime *)ctx)->jobs);
}

static void env_lock(void *ctx)
{
	cc_jobs_lock(((struct cc_runtime *)ctx)->jobs);
}

static void env_unlock(void *ctx)
{
	cc_jobs_unlock(((struct cc_runtime *)ctx)->jobs);
}

/* Cleans a text of every configured secret and credential pattern. */
static void env_redact(void *ctx, char *text, size_t cap)
{
	struct cc_runtime *rt = ctx;
	cc_redact(text, cap, rt->p->secrets);
}

static void logf_(struct cc_runtime *rt, const char *level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void logf_(struct cc_runtime *rt, const char *level, const char *fmt, ...)
{
	if (!rt->log)
		return;
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* every line is cleaned of secrets, whatever it quotes */
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	cc_redact(line, sizeof(line), rt->p->secrets);
	fprintf(rt->log, "%s %s %s\n", ts, level, line);
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

static bool on_wait(void *ctx);
static bool on_wait_slot(void *ctx);
static void jobs_waiting(void *ctx);
static bool drv_paused(void *ctx, int system);
static bool drv_take_hint(void *ctx, int system);
static bool drv_take_body(void *ctx, int system, char **body, size_t *len);
static void drv_polled(void *ctx, int system, const struct cc_driver_poll *p);
static void drv_between(void *ctx);

/* Releases what a configuration built (the listener first: it borrows fc). */
static void parts_destroy(struct parts *p)
{
	if (p->listener) {
		cc_webhook_listener_stop(p->listener);
		p->listener = NULL;
	}
	if (p->driver) {
		cc_driver_destroy(p->driver);
		p->driver = NULL;
	}
	if (p->hub) {
		cc_hub_destroy(p->hub);
		p->hub = NULL;
	}
	for (size_t i = 0; i < p->nconn; i++) {
		if (p->conn[i].ops && p->conn[i].ops->destroy)
			p->conn[i].ops->destroy(p->conn[i].self);
		for (size_t k = 0; k < p->nslots[i]; k++)
			if (p->slots[i][k].ops && p->slots[i][k].ops->destroy)
				p->slots[i][k].ops->destroy(p->slots[i][k].self);
		p->nslots[i] = 0;
		cc_http_pace_destroy(p->pace[i]);
		p->pace[i] = NULL;
		cc_seen_shared_free(p->seen[i]);
		p->seen[i] = NULL;
	}
	memset(p->conn, 0, sizeof(p->conn));
	memset(p->slots, 0, sizeof(p->slots));
	p->nconn = 0;
	if (p->fc) {
		cc_config_file_free(p->fc);
		p->fc = NULL;
	}
}

/*
 * Loads the configuration into p and builds its connectors and hub on the
 * store (opened here at the first start: its URL may come from the file).
 * On failure p holds whatever was built (release it with parts_destroy)
 * and err says why. Returns 0 or 2.
 */
static int parts_build(struct cc_runtime *rt, struct parts *p, char *err, size_t errlen)
{
	int rc = cc_config_file_load(&p->fc, rt->path, cc_config_registry_options(), err, errlen);
	if (rc)
		return 2;
	size_t k = 0;
	for (size_t i = 0; i < p->fc->engine.nsystems; i++) {
		const struct cc_system_file *sf = &p->fc->system[i];
		if (sf->token.value)
			p->secrets[k++] = sf->token.value;
		if (sf->webhook_secret.value)
			p->secrets[k++] = sf->webhook_secret.value;
		if (sf->webhook_token.value)
			p->secrets[k++] = sf->webhook_token.value;
	}
	if (p->fc->admin_token.value)
		p->secrets[k++] = p->fc->admin_token.value;
	p->secrets[k] = NULL;
	/* Systems with a correlation field get the case id in every linked
	 * record, the records people raised included. */
	for (size_t i = 0; i < p->fc->engine.nsystems; i++)
		if (cc_config_file_setting(p->fc, i, "correlation_field"))
			p->fc->engine.systems[i].stamp_correlation = true;
	const struct cc_config *cfg = &p->fc->engine;
	if (!rt->store_open) {
		const char *url = rt->store_url ? rt->store_url
		                  : p->fc->store ? p->fc->store : "sqlite:concord.db";
		char serr[400], shown[400];
		snprintf(shown, sizeof(shown), "%s", url);
		cc_redact(shown, sizeof(shown), NULL); /* a password in the URL */
		if (cc_store_open(&rt->store, url, serr, sizeof(serr))) {
			cc_redact(serr, sizeof(serr), NULL);
			snprintf(err, errlen, "cannot open store %s: %s", shown, serr);
			return 2;
		}
		rt->store_open = true;
	}
	if (!rt->jobs && cc_jobs_create(&rt->jobs, jobs_waiting, rt)) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	for (size_t i = 0; i < cfg->nsystems; i++) {
		char cerr[300];
		const struct cc_system_file *sf = &p->fc->system[i];
		/* concurrency > 1 (absent: the default): deliveries to as many
		 * records at once, one pace for all instances of the system */
		int conc = sf->max_concurrency > 0 ? sf->max_concurrency : CC_HTTP_CONCURRENCY_DEFAULT;
		size_t n = conc > 1 ? (size_t)conc : 0;
		if (n > CC_HUB_SLOTS_MAX)
			n = CC_HUB_SLOTS_MAX;
		/* a burst no larger than the requests in flight: a steady rate
		 * (a SaaS limit counted per window refuses a burst of a whole
		 * second's requests at once, and a refused write costs a read) */
		if (n && cc_http_pace_create(&p->pace[i], sf->rate_per_sec, (double)conc)) {
			snprintf(err, errlen, "out of memory");
			return 2;
		}
		p->nconn = i + 1;
		/* one seen cache: a copy a delivery read back after writing it
		 * is not read again by the next poll */
		if (n && !(p->seen[i] = cc_seen_shared_new())) {
			snprintf(err, errlen, "out of memory");
			return 2;
		}
		if (cc_connector_create_from_file(&p->conn[i], p->fc, i, on_wait, rt, p->pace[i],
		                                  p->seen[i], rt->trace ? rt->log : NULL, cerr,
		                                  sizeof(cerr))) {
			snprintf(err, errlen, "%s: system %s: %s", rt->path, cfg->systems[i].name, cerr);
			return 2;
		}
		for (size_t slot = 0; slot < n; slot++) {
			/* asked from a delivery's thread: only whether to stop */
			if (cc_connector_create_from_file(&p->slots[i][slot], p->fc, i, on_wait_slot, rt,
			                                  p->pace[i], p->seen[i],
			                                  rt->trace ? rt->log : NULL, cerr, sizeof(cerr))) {
				snprintf(err, errlen, "%s: system %s: %s", rt->path, cfg->systems[i].name,
				         cerr);
				return 2;
			}
			p->nslots[i] = slot + 1;
		}
	}
	struct cc_hub_env env = { .now_ms = env_now, .random = env_random, .on_audit = env_audit,
		                  .redact = env_redact, .stopping = env_stopping,
		                  .run = env_run, .lock = env_lock, .unlock = env_unlock,
		                  .wait = env_wait, .wake = env_wake,
		                  .ctx = rt };
	rc = cc_hub_create(&p->hub, cfg, &rt->store, p->conn, &env);
	if (rc) {
		snprintf(err, errlen, "cannot start the hub: %s",
		         rt->store.ops->last_error(rt->store.self));
		return 2;
	}
	for (size_t i = 0; i < cfg->nsystems; i++) {
		if (cc_hub_set_delivery_slots(p->hub, (int)i, p->slots[i], p->nslots[i])) {
			snprintf(err, errlen, "system %s: a delivery instance of another version",
			         cfg->systems[i].name);
			return 2;
		}
	}
	struct cc_driver_env denv = { .paused = drv_paused, .take_hint = drv_take_hint,
		                      .take_body = drv_take_body, .polled = drv_polled,
		                      .between = drv_between, .stopping = env_stopping, .ctx = rt };
	if (cc_driver_create(&p->driver, p->hub, cfg, &denv)) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	return 0;
}

/* Starts the listener of the running parts (a failure leaves polling only). */
static void listener_start(struct cc_runtime *rt)
{
	struct parts *p = rt->p;
	if (!p->fc->listen || !p->fc->listen[0])
		return;
	char lerr[200];
	struct cc_listener_options lo = { .admin_token = p->fc->admin_token.value,
		                          .trace = rt->trace ? rt->log : NULL };
	for (size_t i = 0; i < p->fc->engine.nsystems; i++) {
		const struct cc_connector_ops *ops = p->conn[i].ops;
		const struct cc_system_file *sf = &p->fc->system[i];
		lo.keep_bodies[i] = ops && ops->version >= 2 && ops->webhook;
		if (sf->webhook_secret.value) {
			lo.auth[i] = CC_WEBHOOK_AUTH_SIGNATURE;
			lo.auth_key[i] = sf->webhook_secret.value;
		} else if (sf->webhook_token.value) {
			lo.auth[i] = CC_WEBHOOK_AUTH_TOKEN;
			lo.auth_key[i] = sf->webhook_token.value;
		} else {
			lo.auth[i] = sf->webhook_auth == CC_WEBHOOK_AUTH_UNAUTHENTICATED
			                     ? CC_WEBHOOK_AUTH_NONE : CC_WEBHOOK_AUTH_CLOSED;
		}
	}
	if (cc_webhook_listener_start(&p->listener, p->fc->listen, &p->fc->engine, &lo, lerr,
	                              sizeof(lerr)))
		logf_(rt, "WARN", "webhook listener not started: %s (polling only)", lerr);
	else
		logf_(rt, "INFO", "webhook listener on %s; admin API %s", p->fc->listen,
		      lo.admin_token && lo.admin_token[0] ? "enabled (token required)"
		                                          : "disabled: no admin_token");
	static const char *const how[] = {
		[CC_WEBHOOK_AUTH_CLOSED] = "refused (no webhook_secret or webhook_token): polled only",
		[CC_WEBHOOK_AUTH_NONE] = "accepted WITHOUT authentication (webhook_auth: none)",
		[CC_WEBHOOK_AUTH_SIGNATURE] = "signed (X-Concord-Signature, HMAC-SHA256)",
		[CC_WEBHOOK_AUTH_TOKEN] = "bearer token (Authorization: Bearer)",
	};
	for (size_t i = 0; p->listener && i < p->fc->engine.nsystems; i++)
		logf_(rt, lo.auth[i] == CC_WEBHOOK_AUTH_NONE ? "WARN" : "INFO",
		      "system=%s webhooks: %s", p->fc->engine.systems[i].name, how[lo.auth[i]]);
}

/* Per-system memory of the runtime that belongs to one configuration. */
static void reset_system_memory(struct cc_runtime *rt)
{
	memset(rt->status, 0, sizeof(rt->status));
	memset(rt->poll_failures, 0, sizeof(rt->poll_failures));
	memset(rt->first_sync_read, 0, sizeof(rt->first_sync_read));
	memset(rt->pause_set, 0, sizeof(rt->pause_set));
	memset(rt->report, 0, sizeof(rt->report));
	rt->report_ms = 0;
	rt->nresync = 0;
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
	const char *tr = getenv("CONCORD_TRACE");
	rt->trace = tr && strstr(tr, "http");
	rt->rng = (uint64_t)wall_ms() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
	if (!rt->rng)
		rt->rng = 1;
	if (!rt->path || (store_url && !rt->store_url)) {
		snprintf(err, errlen, "out of memory");
		cc_runtime_close(rt);
		return 2;
	}
	rt->p = &rt->part[0];
	int rc = parts_build(rt, rt->p, err, errlen);
	if (rc) {
		cc_redact(err, errlen, rt->p->secrets);
		cc_runtime_close(rt);
		return rc;
	}
	listener_start(rt);
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
	if (rt->p)
		parts_destroy(rt->p);
	if (rt->store_open)
		rt->store.ops->destroy(rt->store.self);
	cc_jobs_destroy(rt->jobs);
	free(rt->path);
	free(rt->store_url);
	free(rt);
}

static void audit_rejections(struct cc_runtime *rt);

/*
 * SIGHUP: the new configuration is built beside the running one; only when
 * all of it stands (file, connectors, hub) does it replace the old, else
 * the old keeps running. The store stays open (a new store URL needs a
 * restart).
 */
static void reload(struct cc_runtime *rt)
{
	char err[600];
	struct parts *next = rt->p == &rt->part[0] ? &rt->part[1] : &rt->part[0];
	memset(next, 0, sizeof(*next));
	if (parts_build(rt, next, err, sizeof(err))) {
		parts_destroy(next);
		logf_(rt, "ERROR", "reload refused, keeping the running configuration: %s", err);
		return;
	}
	audit_rejections(rt); /* the old listener's notes, before it stops */
	const char *was = rt->p->fc->store, *now = next->fc->store;
	bool store_changed = !rt->store_url && (was || now) &&
	                     (!was || !now || strcmp(was, now) != 0);
	parts_destroy(rt->p);
	rt->p = next;
	reset_system_memory(rt);
	listener_start(rt);
	logf_(rt, "INFO", "configuration reloaded%s",
	      store_changed ? "; the store stays the one opened at the start (restart to change it)"
	                    : "");
}

static void save_status(struct cc_runtime *rt, size_t s);

/*
 * After each poll (the driver's callback): one log line when a system's
 * polls start failing and one when they work again, the first sync's
 * progress, and the status written for `concord status`.
 */
static void drv_polled(void *ctx, int system, const struct cc_driver_poll *p)
{
	struct cc_runtime *rt = ctx;
	size_t s = (size_t)system;
	const struct cc_system_def *sd = &rt->p->fc->engine.systems[s];
	if (p->failures_after && !p->failures_before)
		logf_(rt, "WARN", "system=%s poll failed: %s (retried with backoff; logged once "
		      "until it recovers)", sd->name, cc_hub_last_failure(rt->p->hub, system));
	else if (!p->failures_after && p->failures_before)
		logf_(rt, "INFO", "system=%s poll recovered after %d failed poll%s", sd->name,
		      p->failures_before, p->failures_before == 1 ? "" : "s");
	if (!p->failures_after && p->first) {
		struct cc_hub_system_status hs;
		cc_hub_system_status(rt->p->hub, system, &hs);
		rt->first_sync_read[s] += p->observations;
		if (hs.last_poll_start_ms)
			logf_(rt, "INFO", "system=%s first sync: all %" PRIu64 " existing records read; "
			      "their copies follow through the outbox", sd->name, rt->first_sync_read[s]);
		else if (!stop_requested)
			logf_(rt, "INFO", "system=%s first sync: %" PRIu64 " existing records read so far",
			      sd->name, rt->first_sync_read[s]);
	} else if (!p->failures_after && p->observations) {
		logf_(rt, "INFO", "system=%s polled: %" PRIu64 " changed record%s", sd->name,
		      p->observations, p->observations == 1 ? "" : "s");
	}
	save_status(rt, s); /* at most once per poll */
}

static size_t outbox_depth(struct cc_runtime *rt);

/*
 * Progress while the outbox holds work (a first start, a burst, a system
 * back from an outage): one line every 10 s.
 */
static void log_progress(struct cc_runtime *rt)
{
	int64_t now = wall_ms();
	const struct cc_hub_stats *st = cc_hub_stats(rt->p->hub);
	uint64_t done = st->writes + st->creates + st->comments;
	if (!rt->progress_at_ms) { /* the first cycle sets the baseline */
		rt->progress_at_ms = now;
		rt->progress_delivered = done;
		return;
	}
	if (now - rt->progress_at_ms < 10000)
		return;
	size_t depth = outbox_depth(rt);
	if (depth)
		logf_(rt, "INFO", "catching up: %zu deliveries waiting in the outbox, %" PRIu64
		      " done in the last %.0f s", depth, done - rt->progress_delivered,
		      (double)(now - rt->progress_at_ms) / 1000.0);
	rt->progress_at_ms = now;
	rt->progress_delivered = done;
}

/* Adds a connector's API budget into lines (n of them, at most 16). */
static void budget_add(const struct cc_connector *cn, struct cc_budget_line *lines, size_t *n)
{
	struct cc_budget_line b[16];
	size_t nb = cn->ops && cn->ops->budget ? cn->ops->budget(cn->self, b, 16) : 0;
	for (size_t i = 0; i < nb; i++) {
		size_t k = 0;
		while (k < *n && strcmp(lines[k].op, b[i].op) != 0)
			k++;
		if (k == *n && *n == 16)
			continue;
		if (k == *n) {
			lines[k] = b[i];
			(*n)++;
		} else {
			lines[k].requests += b[i].requests;
		}
	}
}

/*
 * Reads each system's API budget, its delivery instances' added, into
 * rt->budget: by the loop only, while no delivery runs.
 */
static void budget_refresh(struct cc_runtime *rt)
{
	for (size_t s = 0; s < rt->p->nconn; s++) {
		rt->nbudget[s] = 0;
		budget_add(&rt->p->conn[s], rt->budget[s], &rt->nbudget[s]);
		for (size_t k = 0; k < rt->p->nslots[s]; k++)
			budget_add(&rt->p->slots[s][k], rt->budget[s], &rt->nbudget[s]);
	}
}

/* The API budget of a system as last read, {"list": N, ...} (new reference). */
static json_t *budget_json(const struct cc_runtime *rt, size_t s)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < rt->nbudget[s]; i++)
		json_object_set_new(o, rt->budget[s][i].op,
		                    json_integer((json_int_t)rt->budget[s][i].requests));
	return o;
}

/* Refreshes the live status of a system from the hub and the listener. */
static void refresh_status(struct cc_runtime *rt, size_t s)
{
	struct cc_system_status *st = &rt->status[s];
	struct cc_hub_system_status hs;
	cc_hub_system_status(rt->p->hub, (int)s, &hs);
	int64_t now = wall_ms();
	st->updated_ms = now;
	st->last_poll_ok_ms = hs.last_poll_start_ms;
	st->breaker_failures = hs.failures > hs.poll_failures ? hs.failures : hs.poll_failures;
	st->breaker_open_until_ms = hs.open_until_ms;
	st->poll_failures = hs.poll_failures;
	st->has_cursor = hs.has_cursor;
	st->cursor_s = hs.cursor_s;
	st->requests = cc_hub_stats(rt->p->hub)->requests[s];
	st->polls = cc_hub_stats(rt->p->hub)->polls_of[s];
	const char *failure = cc_hub_last_failure(rt->p->hub, (int)s);
	st->failing = failure[0] != '\0';
	if (st->failing) {
		snprintf(st->last_failure, sizeof(st->last_failure), "%s", failure);
		st->last_failure_ms = now;
	}
	if (rt->p->listener)
		cc_webhook_listener_counts(rt->p->listener, (int)s, &st->webhooks,
		                           &st->webhooks_dropped, &st->webhooks_rejected);
}

/* Writes the live status of a system into the store (a failure is logged
 * once: the status is for people, the sync goes on without it). */
static void save_status(struct cc_runtime *rt, size_t s)
{
	refresh_status(rt, s);
	const char *name = rt->p->fc->engine.systems[s].name;
	if (cc_control_status_save(&rt->store, name, &rt->status[s]) && !rt->status_warned) {
		rt->status_warned = true;
		logf_(rt, "WARN", "system=%s cannot write its status for `concord status`: %s", name,
		      rt->store.ops->last_error(rt->store.self));
	}
}

/* {"error": text} or {key: value...} answers, as a malloc'd string. */
static char *json_text(const char *key, const char *value)
{
	json_t *j = json_pack("{s:s}", key, value);
	char *out = j ? json_dumps(j, 0) : NULL;
	json_decref(j);
	return out;
}

/* An ISO 8601 time of wall-clock ms, or JSON null for 0 (new reference). */
static json_t *time_or_null(int64_t ms)
{
	char buf[48];
	if (ms <= 0)
		return json_null();
	cc_control_format_time(buf, sizeof(buf), ms);
	return json_string(buf);
}

/*
 * The JSON of GET /admin/status (caller frees), NULL on failure. The
 * store's part (outbox, dead letters, parked, cases) is read now, unless
 * `cached` (an answer given during a remote call, when the store is not
 * ours to use): then it is the one read last, with its time in
 * "store_counts_at".
 */
static char *status_json(struct cc_runtime *rt, bool cached, unsigned *http)
{
	const struct cc_config *cfg = &rt->p->fc->engine;
	if (!cached) {
		if (cc_control_report(&rt->store, cfg, rt->report, &rt->report_cases,
		                      &rt->report_conflicts)) {
			*http = 500;
			return json_text("error", rt->store.ops->last_error(rt->store.self));
		}
		rt->report_ms = wall_ms();
	}
	int64_t now = wall_ms();
	json_t *root = json_object(), *systems = json_array();
	bool ok = root && systems && json_object_set_new(root, "systems", systems) == 0;
	if (!ok)
		json_decref(systems);
	ok = ok &&
	     json_object_set_new(root, "cases", json_integer((json_int_t)rt->report_cases)) == 0 &&
	     json_object_set_new(root, "conflicts_parked",
	                         json_integer((json_int_t)rt->report_conflicts)) == 0 &&
	     json_object_set_new(root, "store_counts_at", time_or_null(rt->report_ms)) == 0;
	for (size_t s = 0; ok && s < cfg->nsystems; s++) {
		refresh_status(rt, s);
		const struct cc_system_status *st = &rt->status[s];
		const struct cc_system_report *rep = &rt->report[s];
		struct cc_hub_system_status hs;
		cc_hub_system_status(rt->p->hub, (int)s, &hs);
		char cursor[48];
		cc_control_format_time(cursor, sizeof(cursor), st->cursor_s * 1000);
		int64_t next_poll = hs.next_poll_ms > now ? hs.next_poll_ms : now;
		bool paused = rt->pause_set[s] ? rt->pause_to[s] : rt->paused[s];
		json_t *j = json_pack(
			"{s:s, s:s, s:b, s:o, s:o, s:o, s:{s:i, s:o}, s:I, s:I, s:I, s:{s:s, s:i, s:o}, "
			"s:o, s:o, s:b, s:{s:I, s:I, s:o}, s:{s:I, s:I, s:I}}",
			"name", cfg->systems[s].name, "kind", cfg->systems[s].kind,
			"paused", paused,
			"last_poll_ok", time_or_null(st->last_poll_ok_ms),
			"lag_s", st->last_poll_ok_ms > 0
			                 ? json_real((double)(now - st->last_poll_ok_ms) / 1000.0)
			                 : json_null(),
			"cursor", st->has_cursor ? json_string(cursor) : json_null(),
			"poll", "failures", st->poll_failures, "next",
			paused ? json_null() : time_or_null(next_poll),
			"outbox", (json_int_t)rep->outbox, "dead_letters",
			(json_int_t)rep->dead_letters, "parked", (json_int_t)rep->parked,
			"breaker", "state", cc_control_breaker_state(st, now), "failures",
			st->breaker_failures, "open_until", time_or_null(st->breaker_open_until_ms),
			"last_failure", st->last_failure_ms > 0 ? json_string(st->last_failure) : json_null(),
			"last_failure_at", time_or_null(st->last_failure_ms),
			"failing", st->failing,
			"requests", "total", (json_int_t)st->requests, "polls", (json_int_t)st->polls,
			"by_operation", budget_json(rt, s),
			"webhooks", "received", (json_int_t)st->webhooks, "dropped",
			(json_int_t)st->webhooks_dropped, "rejected", (json_int_t)st->webhooks_rejected);
		ok = j && json_array_append_new(systems, j) == 0;
	}
	char *out = ok ? json_dumps(root, JSON_INDENT(2)) : NULL;
	json_decref(root);
	*http = out ? 200 : 500;
	return out;
}

/* Persists pause flags and runs resyncs asked during a remote call. */
static void flush_deferred(struct cc_runtime *rt)
{
	const struct cc_config *cfg = &rt->p->fc->engine;
	rt->wait_since_ms = 0; /* the loop has the store again */
	for (size_t s = 0; s < cfg->nsystems; s++) {
		if (!rt->pause_set[s])
			continue;
		rt->pause_set[s] = false;
		if (cc_control_pause(&rt->store, cfg->systems[s].name, rt->pause_to[s]))
			logf_(rt, "ERROR", "admin API: %s %s not saved: %s",
			      rt->pause_to[s] ? "pause" : "resume", cfg->systems[s].name,
			      rt->store.ops->last_error(rt->store.self));
	}
	for (size_t i = 0; i < rt->nresync; i++) {
		size_t n = 0;
		int rc = cc_control_resync(&rt->store, rt->resync[i], wall_ms(), &n);
		if (rc)
			logf_(rt, "WARN", "admin API: resync case=%" PRIu64 " failed: %s", rt->resync[i],
			      rc == CC_ENOTFOUND ? "no such case"
			                         : rt->store.ops->last_error(rt->store.self));
		else
			logf_(rt, "INFO", "admin API: resync case=%" PRIu64 " (%zu record%s)",
			      rt->resync[i], n, n == 1 ? "" : "s");
	}
	rt->nresync = 0;
}

/* ---- the manual queue through the admin API -------------------------- */

/* One side of a conflict as JSON (new reference, NULL when out of memory). */
static json_t *side_json(const struct cc_config *cfg, const struct cc_conflict_side *sd)
{
	bool known = sd->system >= 0 && (size_t)sd->system < cfg->nsystems;
	bool has_ver = sd->ver.t_ms != INT64_MIN;
	return json_pack("{s:o, s:s, s:o, s:o}",
	                 "system", known ? json_string(cfg->systems[sd->system].name) : json_null(),
	                 "value", sd->value ? sd->value : "",
	                 "version", has_ver ? json_pack("{s:I, s:o, s:i, s:I}",
	                                                "t_ms", (json_int_t)sd->ver.t_ms,
	                                                "time", time_or_null(sd->ver.t_ms),
	                                                "rank", (int)sd->ver.rank,
	                                                "rv", (json_int_t)sd->ver.rv)
	                                    : json_null(),
	                 "author", sd->author ? json_string(sd->author) : json_null());
}

struct conflict_list {
	const struct cc_config *cfg;
	json_t *items;
};

static int conflict_json(void *arg, const struct cc_conflict_report *r)
{
	struct conflict_list *cl = arg;
	json_t *j = json_pack("{s:I, s:s, s:o, s:o}", "case", (json_int_t)r->case_id,
	                      "field", cl->cfg->fields[r->field].name,
	                      "case_side", side_json(cl->cfg, &r->case_side),
	                      "parked_side", side_json(cl->cfg, &r->parked));
	return j && json_array_append_new(cl->items, j) == 0 ? 0 : CC_ENOMEM;
}

/*
 * GET /admin/conflicts (arg "") and POST /admin/conflicts/CASE/FIELD with
 * {"take": SYSTEM} or {"value": VALUE} (and "by", who resolves it): the
 * same work as `concord conflicts`, through daemon/control.c. During a
 * remote call the store is the hub's: 503, try again.
 */
static char *answer_conflicts(struct cc_runtime *rt, const struct cc_admin_request *rq,
                              bool deferred, unsigned *http)
{
	const struct cc_config *cfg = &rt->p->fc->engine;
	if (deferred) {
		*http = 503;
		return json_text("error", "busy: the daemon is waiting for a remote system, try again");
	}
	if (!rq->arg[0]) {
		struct conflict_list cl = { .cfg = cfg, .items = json_array() };
		int rc = cl.items ? cc_control_conflicts(&rt->store, cfg, conflict_json, &cl)
		                  : CC_ENOMEM;
		if (rc) {
			json_decref(cl.items);
			*http = 500;
			return json_text("error", rc == CC_ENOMEM ? "out of memory"
			                                         : rt->store.ops->last_error(rt->store.self));
		}
		json_t *j = json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(cl.items),
		                      "conflicts", cl.items);
		char *out = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
		json_decref(j);
		return out;
	}

	/* CASE/FIELD */
	char arg[sizeof(rq->arg)];
	snprintf(arg, sizeof(arg), "%s", rq->arg);
	char *slash = strchr(arg, '/'), *end;
	errno = 0;
	uint64_t id = slash ? strtoull(arg, &end, 10) : 0;
	if (!slash || errno || !id || end != slash || arg[0] < '0' || arg[0] > '9') {
		*http = 400;
		return json_text("error", "use /admin/conflicts/CASE/FIELD with a case number");
	}
	const char *fname = slash + 1;
	int field = -1;
	for (size_t f = 0; f < cfg->nfields && field < 0; f++)
		if (strcmp(cfg->fields[f].name, fname) == 0)
			field = (int)f;
	if (field < 0) {
		*http = 404;
		return json_text("error", "no such field");
	}
	json_error_t jerr;
	json_t *body = json_loadb(rq->input, rq->input_len, 0, &jerr);
	json_t *take = json_object_get(body, "take"), *value = json_object_get(body, "value");
	json_t *by = json_object_get(body, "by");
	if (!json_is_object(body) || !take == !value || (take && !json_is_string(take)) ||
	    (value && !json_is_string(value)) || (by && !json_is_string(by))) {
		json_decref(body);
		*http = 400;
		return json_text("error", "the body must be {\"take\": SYSTEM} or {\"value\": VALUE}, "
		                          "with an optional \"by\": NAME");
	}
	struct cc_resolution how = { .take = -1, .value = value ? json_string_value(value) : NULL,
		                     .by = by ? json_string_value(by) : "admin-api" };
	if (take && (how.take = cc_config_file_system(rt->p->fc, json_string_value(take))) < 0) {
		json_decref(body);
		*http = 400;
		return json_text("error", "no such system");
	}
	struct cc_resolve_outcome out;
	int rc = cc_control_resolve(&rt->store, cfg, id, field, &how, wall_ms(), &out);
	json_decref(body);
	const char *sys = out.system >= 0 && (size_t)out.system < cfg->nsystems
	                          ? cfg->systems[out.system].name : NULL;
	json_t *j = NULL;
	switch (rc) {
	case CC_EOK: {
		size_t n = 0;
		struct cc_case c;
		const char *resolved = NULL;
		int lrc = rt->store.ops->case_load(rt->store.self, id, &c);
		for (size_t s = 0; lrc == CC_EOK && s < cfg->nsystems; s++)
			n += c.link[s].status == CC_LINK_LINKED;
		if (lrc == CC_EOK)
			resolved = c.f[field].value;
		logf_(rt, "INFO", "admin API: resolved case=%" PRIu64 " field=%s (%s)", id, fname,
		      out.detail);
		j = json_pack("{s:I, s:s, s:s, s:s, s:I}", "case", (json_int_t)id, "field", fname,
		              "value", resolved ? resolved : "", "resolved", out.detail, "records",
		              (json_int_t)n);
		if (lrc == CC_EOK)
			cc_case_clear(&c);
		break;
	}
	case CC_ENOTFOUND:
		*http = 404;
		return json_text("error", "no such case");
	case CC_ENOTPARKED:
		*http = 409;
		return json_text("error", "no conflict is parked in that field");
	case CC_EINVAL:
		*http = 409;
		return json_text("error", "that system is not a side of this conflict");
	case CC_EUNMAPPED:
		*http = 422;
		j = json_pack("{s:s, s:s}", "error", "a linked system cannot carry that value",
		              "system", sys ? sys : "?");
		break;
	default:
		*http = 500;
		return json_text("error", rc == CC_ENOMEM ? "out of memory"
		                                         : rt->store.ops->last_error(rt->store.self));
	}
	char *text = j ? json_dumps(j, 0) : NULL;
	json_decref(j);
	return text;
}

/*
 * One admin request: the same work as the CLI's. On the loop (deferred
 * false) the store is used at once. During a remote call (deferred true)
 * the store may be in the middle of the hub's work: the status comes from
 * memory and the last store counts, a pause takes effect in memory at once
 * and is saved when the call is over, a resync is queued (202).
 */
static void answer_admin(struct cc_runtime *rt, struct cc_admin_request *rq, bool deferred)
{
	unsigned http = 200;
	char *body = NULL;
	switch (rq->op) {
	case CC_ADMIN_STATUS:
		body = status_json(rt, deferred, &http);
		break;
	case CC_ADMIN_PAUSE:
	case CC_ADMIN_RESUME: {
		bool pause = rq->op == CC_ADMIN_PAUSE;
		int s = cc_config_file_system(rt->p->fc, rq->arg);
		if (s < 0) {
			http = 404;
			body = json_text("error", "no such system");
			break;
		}
		const char *name = rt->p->fc->engine.systems[s].name;
		if (deferred) {
			rt->pause_set[s] = true;
			rt->pause_to[s] = pause;
		} else if (cc_control_pause(&rt->store, name, pause)) {
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
		if (deferred) {
			if (rt->nresync == DEFERRED_RESYNCS) {
				http = 503;
				body = json_text("error", "busy: too many resyncs waiting, try again");
				break;
			}
			rt->resync[rt->nresync++] = id;
			http = 202;
			json_t *j = json_pack("{s:I, s:b}", "case", (json_int_t)id, "queued", 1);
			body = j ? json_dumps(j, 0) : NULL;
			json_decref(j);
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
	case CC_ADMIN_CONFLICTS:
		body = answer_conflicts(rt, rq, deferred, &http);
		break;
	}
	if (!body)
		http = 500;
	cc_webhook_listener_answer(rt->p->listener, rq, http, body);
}

static void serve_admin(struct cc_runtime *rt, bool deferred)
{
	if (!rt->p->listener)
		return;
	struct cc_admin_request *rq;
	while ((rq = cc_webhook_listener_next_admin(rt->p->listener)))
		answer_admin(rt, rq, deferred);
}

/*
 * Asked by every connector's HTTP client while a request waits (at least
 * every CC_HTTP_INTERRUPT_MS): once the loop has been away from the store
 * for WAIT_ADMIN_MS (slow remotes), admin requests are answered here, so
 * that they never wait long; a stop aborts the request.
 */
#define WAIT_ADMIN_MS 300

static bool on_wait(void *ctx)
{
	struct cc_runtime *rt = ctx;
	if (stop_requested || rt->in_round)
		return stop_requested != 0;
	int64_t now = wall_ms();
	if (!rt->wait_since_ms)
		rt->wait_since_ms = now;
	if (!rt->in_wait && now - rt->wait_since_ms >= WAIT_ADMIN_MS) {
		rt->in_wait = true;
		serve_admin(rt, true);
		rt->in_wait = false;
	}
	return stop_requested != 0;
}

/*
 * Asked by the HTTP client of a delivery running on its own thread: only
 * whether to stop (the admin requests are the waiting thread's, below).
 */
static bool on_wait_slot(void *ctx)
{
	(void)ctx;
	return stop_requested != 0;
}

/*
 * While deliveries run at once, every JOBS_WAIT_MS with the hub held: the
 * admin requests, answered as during any remote call (deferred).
 */
static void jobs_waiting(void *ctx)
{
	struct cc_runtime *rt = ctx;
	if (!rt->in_wait) {
		rt->in_wait = true;
		serve_admin(rt, true);
		rt->in_wait = false;
	}
}

/* The driver's callbacks: the listener's queues and the pause flags. */
static bool drv_take_hint(void *ctx, int system)
{
	struct cc_runtime *rt = ctx;
	return rt->p->listener && cc_webhook_listener_take(rt->p->listener, system);
}

static bool drv_take_body(void *ctx, int system, char **body, size_t *len)
{
	struct cc_runtime *rt = ctx;
	bool got = rt->p->listener &&
	           cc_webhook_listener_take_body(rt->p->listener, system, body, len);
	if (got && rt->trace) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		fprintf(rt->log, "%lld.%03ld trace webhook %s taken (%zu bytes)\n",
		        (long long)ts.tv_sec, ts.tv_nsec / 1000000,
		        rt->p->fc->engine.systems[system].name, *len);
		fflush(rt->log);
	}
	return got;
}

static bool drv_paused(void *ctx, int system)
{
	struct cc_runtime *rt = ctx;
	return rt->paused[system] || (rt->pause_set[system] && rt->pause_to[system]);
}

/* Between the parts of a step, the loop has the store: admin requests now. */
static void drv_between(void *ctx)
{
	struct cc_runtime *rt = ctx;
	budget_refresh(rt);
	flush_deferred(rt);
	serve_admin(rt, false);
}

/* Reads every system's pause flag into rt->paused (logging a change). */
static void read_pauses(struct cc_runtime *rt)
{
	for (size_t s = 0; s < rt->p->fc->engine.nsystems; s++) {
		const char *name = rt->p->fc->engine.systems[s].name;
		/* `concord pause SYSTEM` (or the admin API) sets a flag in the store */
		bool paused = false;
		cc_control_paused(&rt->store, name, &paused);
		if (paused != rt->paused[s]) {
			rt->paused[s] = paused;
			logf_(rt, "INFO", "system=%s %s", name,
			      paused ? "paused: no poll, no delivery" : "resumed");
		}
	}
}

/*
 * The webhooks the listener refused, into the audit (case 0, decision
 * webhook-rejected) and the log: one row per rejection the listener noted,
 * which is at most CC_WEBHOOK_REJECT_NOTES an hour per system, plus a row
 * saying how many more were only counted (daemon/webhook.h). Here, because
 * only the loop touches the store.
 */
static void audit_rejections(struct cc_runtime *rt)
{
	if (!rt->p->listener)
		return;
	const struct cc_config *cfg = &rt->p->fc->engine;
	for (size_t s = 0; s < cfg->nsystems; s++) {
		struct cc_webhook_rejection notes[8];
		size_t n;
		while ((n = cc_webhook_listener_take_rejections(rt->p->listener, (int)s, notes, 8))) {
			for (size_t i = 0; i < n; i++) {
				const struct cc_webhook_rejection *x = &notes[i];
				char detail[200];
				if (x->more)
					snprintf(detail, sizeof(detail), "%" PRIu64 " more webhooks %s within "
					         "%d s (the first %d were audited)", x->more, x->reason,
					         CC_WEBHOOK_REJECT_WINDOW_S, CC_WEBHOOK_REJECT_NOTES);
				else
					snprintf(detail, sizeof(detail), "%u %s (from %s)", x->status, x->reason,
					         x->client);
				struct cc_audit_entry e = {
					.at_ms = x->at_ms, .case_id = 0, .system = (int)s, .field = -1,
					.decision = CC_AUDIT_WEBHOOK_REJECTED, .ver = CC_VERSION_UNSET,
					.detail = detail, .system_name = cfg->systems[s].name,
				};
				if (rt->store.ops->audit_append(rt->store.self, &e))
					logf_(rt, "ERROR", "system=%s webhook rejection not audited: %s",
					      cfg->systems[s].name, rt->store.ops->last_error(rt->store.self));
				logf_(rt, "WARN", "system=%s webhook-rejected -- %s", cfg->systems[s].name,
				      detail);
			}
		}
	}
}

/* One step of the driver: webhooks, polls and deliveries that are due. */
static int cycle(struct cc_runtime *rt, bool force_poll)
{
	budget_refresh(rt);
	flush_deferred(rt);
	read_pauses(rt);
	audit_rejections(rt);
	serve_admin(rt, false);
	int rc = cc_driver_step(rt->p->driver, force_poll);
	if (rc)
		logf_(rt, "ERROR", "%s (%s): intake stopped", cc_hub_last_error(rt->p->hub),
		      rt->store.ops->last_error(rt->store.self));
	flush_deferred(rt);
	serve_admin(rt, false);
	return rc;
}

/*
 * Waits up to ms for something to do: returns at once when the listener
 * queues a webhook or an admin request, or a signal arrives.
 */
static void wait_ms(struct cc_runtime *rt, int64_t ms)
{
	if (ms <= 0 || stop_requested || reload_requested)
		return;
	if (ms > INT32_MAX)
		ms = INT32_MAX;
	if (!rt->p->listener) {
		struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
		nanosleep(&ts, NULL); /* a signal ends it early */
		return;
	}
	struct pollfd pfd = { .fd = cc_webhook_listener_fd(rt->p->listener), .events = POLLIN };
	wake_fd = pfd.fd;
	if (!stop_requested && !reload_requested && poll(&pfd, 1, (int)ms) > 0)
		cc_webhook_listener_drain(rt->p->listener);
	wake_fd = -1;
}

static size_t outbox_depth(struct cc_runtime *rt)
{
	size_t total = 0;
	for (size_t s = 0; s < rt->p->fc->engine.nsystems; s++) {
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
		/* only backoff waits left, or a create waiting for a poll of its
		 * target after the settle time */
		int64_t wake = cc_driver_next_wake(rt->p->driver);
		if (wake > start + max_wait_ms)
			break;
		wait_ms(rt, wake - now);
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

static void log_stats(struct cc_runtime *rt)
{
	const struct cc_hub_stats *st = cc_hub_stats(rt->p->hub);
	for (size_t s = 0; s < rt->p->fc->engine.nsystems; s++) {
		uint64_t hooks = 0, hooks_dropped = 0, hooks_rejected = 0;
		if (rt->p->listener)
			cc_webhook_listener_counts(rt->p->listener, (int)s, &hooks, &hooks_dropped,
			                           &hooks_rejected);
		char by_op[400] = "";
		budget_refresh(rt);
		const struct cc_budget_line *b = rt->budget[s];
		size_t nb = rt->nbudget[s];
		for (size_t i = 0, used = 0; i < nb && used < sizeof(by_op); i++) {
			int w = snprintf(by_op + used, sizeof(by_op) - used, " %s=%" PRIu64, b[i].op,
			                 b[i].requests);
			used += w > 0 ? (size_t)w : 0;
		}
		logf_(rt, "INFO", "stats system=%s requests=%" PRIu64 " polls=%" PRIu64
		      " webhooks=%" PRIu64 " webhooks_dropped=%" PRIu64 " webhooks_rejected=%" PRIu64
		      " by operation:%s",
		      rt->p->fc->engine.systems[s].name, st->requests[s], st->polls_of[s], hooks,
		      hooks_dropped, hooks_rejected, nb ? by_op : " (not counted)");
	}
	logf_(rt, "INFO", "stats writes=%" PRIu64 " creates=%" PRIu64 " comments=%" PRIu64
	      " changes=%" PRIu64 " observations=%" PRIu64, st->writes, st->creates, st->comments,
	      st->changes, st->observations);
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
	logf_(rt, "INFO", "serving %zu systems from %s", rt->p->fc->engine.nsystems, rt->path);
	int rc = 0;
	while (!stop_requested) {
		if (reload_requested) {
			reload_requested = 0;
			flush_deferred(rt);
			reload(rt);
		}
		rc = cycle(rt, false);
		if (rc) {
			rc = 2;
			break;
		}
		log_progress(rt);
		/*
		 * Wait for the next due poll or delivery; a webhook, an admin call
		 * or a signal ends the wait at once. At most a second: `concord
		 * pause` from another process is seen within it.
		 */
		int64_t nap = cc_driver_next_wake(rt->p->driver) - wall_ms();
		if (nap > 1000)
			nap = 1000;
		wait_ms(rt, nap);
	}
	flush_deferred(rt);
	audit_rejections(rt);
	log_stats(rt);
	for (size_t s = 0; s < rt->p->fc->engine.nsystems; s++)
		save_status(rt, s);
	logf_(rt, "INFO", "stopping: %zu deliveries left in the outbox for the next start",
	      outbox_depth(rt));
	return rc;
}
