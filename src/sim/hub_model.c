/*
 * The concord hub as a simulated integration: the real engine (src/core)
 * with the memory store, reaching the virtual systems through the real
 * connector interface, driven by the daemon's own loop (core/driver.h) on
 * the simulator's clock. A webhook is queued as a body, which the driver
 * hands to the system's connector as the daemon does. A crash destroys the
 * hub object and rolls the store back to its last commit; a restart builds
 * a new hub on the same store.
 */
#include "core/driver.h"
#include "core/hub.h"
#include "sim/crashable_store.h"
#include "sim/scenario.h"
#include "sim/sim.h"
#include "sim/webhooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Entries of a system a batch of the outbox takes at once (the daemon: its concurrency). */
#define SIM_SLOTS 4

struct hub_model {
	struct sim_world *w;
	struct sim_integration *iface;
	struct cc_config cfg;
	struct cc_store store;
	struct cc_hub *hub;
	struct cc_driver *driver;
	struct sim_rng rng;
	int64_t poll_interval;
	struct sim_bodies bodies;  /* webhook bodies waiting for the driver */
	bool down;
	bool killed_in_call;
	bool trace;          /* narrate every audit decision (CONCORD_SIM_TRACE) */
	uint32_t instance;   /* the store's, part of every correlation id */
	/* the outbox's batches: SIM_SLOTS entries of a system taken at once and
	 * delivered in turn, through the same virtual connector */
	struct cc_connector slots[CC_MAX_SYSTEMS][SIM_SLOTS];
};

/*
 * The daemon runs a batch's jobs on threads; here they run in turn, which
 * keeps every seed's replay exact and still takes entries several at once
 * (an entry an earlier job of the batch already delivered or moved).
 */
static void run_in_turn(void *ctx, size_t n, void (*job)(void *arg), void **args)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++)
		job(args[i]);
}

static void no_lock(void *ctx)
{
	(void)ctx;
}

static int64_t env_now(void *ctx)
{
	return ((struct hub_model *)ctx)->w->now;
}

static uint64_t env_random(void *ctx)
{
	return sim_rng_next(&((struct hub_model *)ctx)->rng);
}

static uint64_t case_claim(const struct hub_model *m, uint64_t case_id)
{
	char corr[64];
	cc_correlation_format_in(corr, sizeof(corr), m->instance, case_id);
	return sim_claim_key(corr);
}

/* People see which records the hub links; the oracle gets claims at the end. */
static void env_audit(void *ctx, const struct cc_audit_entry *e)
{
	struct hub_model *m = ctx;
	if (m->w->narrate) {
		switch (m->trace ? CC_AUDIT_ALERT : e->decision) {
		case CC_AUDIT_CASE_CREATED:
		case CC_AUDIT_DEDUP_LINKED:
		case CC_AUDIT_DEDUP_REVIEW:
		case CC_AUDIT_LINKED:
		case CC_AUDIT_LOST_CONFLICT:
		case CC_AUDIT_REFUSED:
		case CC_AUDIT_PARKED:
		case CC_AUDIT_UNMAPPED:
		case CC_AUDIT_DEAD_LETTER:
		case CC_AUDIT_ALERT: {
			int64_t t = e->at_ms / 1000;
			char value[64] = "";
			if (e->value) {
				/* one line: a newline in a value shows as \n */
				size_t o = 0;
				for (const char *p = e->value; *p && o + 3 < sizeof(value); p++) {
					if (*p == '\n' || *p == '\r') {
						value[o++] = '\\';
						value[o++] = *p == '\n' ? 'n' : 'r';
					} else {
						value[o++] = *p;
					}
				}
				value[o] = '\0';
			}
			fprintf(m->w->narrate,
			        "%02lld:%02lld:%02lld  hub        %-11s case %llu: %s%s%s%s%s%s%s%s\n",
			        (long long)(t / 3600), (long long)(t / 60 % 60), (long long)(t % 60),
			        e->remote_id ? e->remote_id : "", (unsigned long long)e->case_id,
			        cc_decision_name(e->decision),
			        e->field >= 0 ? " " : "", e->field >= 0 ? m->cfg.fields[e->field].name : "",
			        e->value ? " = \"" : "", value, e->value ? "\"" : "",
			        e->detail ? " -- " : "", e->detail ? e->detail : "");
			break;
		}
		default:
			break;
		}
	}
	if (e->system < 0 || !e->remote_id)
		return;
	switch (e->decision) {
	case CC_AUDIT_CASE_CREATED:
	case CC_AUDIT_DEDUP_REVIEW:
	case CC_AUDIT_LINKED:
	case CC_AUDIT_DEDUP_LINKED:
	case CC_AUDIT_CREATED_REMOTE:
		sim_people_group(m->w, e->system, sim_find_record(m->w, e->system, e->remote_id),
		                 case_claim(m, e->case_id));
		break;
	default:
		break;
	}
}

static bool drv_take_body(void *ctx, int system, char **body, size_t *len)
{
	struct hub_model *m = ctx;
	return sim_bodies_take(&m->bodies, system, body, len);
}

/* A kill inside a call: the driver starts nothing more of its step. */
static bool drv_stopping(void *ctx)
{
	return ((struct hub_model *)ctx)->killed_in_call;
}

static void killed(void *ctx)
{
	struct hub_model *m = ctx;
	m->killed_in_call = true;
	sim_crashable_store_crash(&m->store); /* nothing after this point commits */
}

static void hm_crash(void *self)
{
	struct hub_model *m = self;
	if (m->down)
		return;
	sim_crashable_store_crash(&m->store);
	cc_driver_destroy(m->driver);
	m->driver = NULL;
	cc_hub_destroy(m->hub);
	m->hub = NULL;
	sim_bodies_clear(&m->bodies); /* webhooks queued in a dead process are lost */
	m->down = true;
	m->killed_in_call = false;
}

static int start_hub(struct hub_model *m)
{
	struct cc_hub_env env = { .now_ms = env_now, .random = env_random, .on_audit = env_audit,
		                  .run = run_in_turn, .lock = no_lock, .unlock = no_lock,
		                  .wait = no_lock, .wake = no_lock,
		                  .ctx = m };
	char err[200];
	if (sim_crashable_store_restart(&m->store, err, sizeof(err))) {
		snprintf(m->iface->error, sizeof(m->iface->error), "store: %s", err);
		return CC_ESTORE;
	}
	if (cc_hub_create(&m->hub, &m->cfg, &m->store, m->w->conn, &env))
		return CC_ESTORE;
	for (size_t s = 0; s < m->cfg.nsystems; s++) {
		for (size_t i = 0; i < SIM_SLOTS; i++)
			m->slots[s][i] = m->w->conn[s];
		cc_hub_set_delivery_slots(m->hub, (int)s, m->slots[s], SIM_SLOTS);
	}
	/* the daemon's loop; a new hub polls every system at once (clocks) */
	struct cc_driver_env denv = { .take_body = drv_take_body, .stopping = drv_stopping,
		                      .ctx = m };
	if (cc_driver_create(&m->driver, m->hub, &m->cfg, &denv)) {
		cc_hub_destroy(m->hub);
		m->hub = NULL;
		return CC_ESTORE;
	}
	m->down = false;
	return 0;
}

static void hm_restart(void *self)
{
	struct hub_model *m = self;
	if (m->down && start_hub(m))
		snprintf(m->iface->error, sizeof(m->iface->error), "restart failed");
}

static bool hm_down(void *self)
{
	return ((struct hub_model *)self)->down;
}

/* After a hub call: a kill inside the call ends the process here. */
static int settle(struct hub_model *m, int rc, const char *what)
{
	if (m->killed_in_call) {
		hm_crash(m);
		return 0;
	}
	if (rc) {
		snprintf(m->iface->error, sizeof(m->iface->error), "%s: %d %s (%s)", what, rc,
		         cc_hub_last_error(m->hub), m->store.ops->last_error(m->store.self));
		return rc;
	}
	return 0;
}

static int64_t hm_next_due(void *self, int64_t now)
{
	struct hub_model *m = self;
	if (m->down)
		return INT64_MAX;
	if (sim_bodies_waiting(&m->bodies))
		return now;
	return cc_driver_next_wake(m->driver);
}

static int hm_run(void *self)
{
	struct hub_model *m = self;
	return settle(m, cc_driver_step(m->driver, false), "step");
}

/* A webhook reached the hub: its body waits for the driver's next step. */
static void hm_webhook(void *self, const struct cc_observation *o)
{
	struct hub_model *m = self;
	if (m->down)
		return;
	if (sim_bodies_push(&m->bodies, o))
		snprintf(m->iface->error, sizeof(m->iface->error), "webhook: out of memory");
}

struct claim_ctx {
	struct hub_model *m;
	int rc;
};

static int claim_visit(void *arg, const struct cc_case *c)
{
	struct claim_ctx *cx = arg;
	struct sim_world *w = cx->m->w;
	for (size_t s = 0; s < cx->m->cfg.nsystems; s++) {
		const struct cc_link *l = &c->link[s];
		if ((l->status != CC_LINK_LINKED && l->status != CC_LINK_PARKED) || !l->remote_id)
			continue;
		int rec = sim_find_record(w, (int)s, l->remote_id);
		if (rec < 0)
			continue;
		struct sim_event e = { .kind = SIM_EV_CLAIM, .t_ms = w->now, .system = (int)s,
			               .record = rec, .field = -1, .incident = -1,
			               .claim = case_claim(cx->m, c->id) };
		if (sim_log_append(&w->log, &e))
			cx->rc = -1;
	}
	return 0;
}

static int hm_finish(void *self)
{
	struct hub_model *m = self;
	struct claim_ctx cx = { .m = m };
	m->store.ops->case_scan_all(m->store.self, claim_visit, &cx);
	return cx.rc;
}

/* ---- the manual queue (sim.h: conflicts, resolve) --------------------- */

static bool linked(const struct cc_case *c, int s)
{
	return c->link[s].status == CC_LINK_LINKED && c->link[s].remote_id;
}

size_t sim_case_conflicts(const struct cc_config *cfg, const struct cc_case *c,
                          struct sim_conflict *out, size_t max)
{
	struct cc_conflict k[CC_MAX_FIELDS];
	size_t nk = cc_case_conflicts(cfg, c, k), n = 0;
	for (size_t i = 0; i < nk && n < max; i++) {
		struct sim_conflict *sc = &out[n];
		/* the record that names the case: the parked side's, else any */
		int rs = k[i].parked_system >= 0 && linked(c, k[i].parked_system) ? k[i].parked_system
		                                                                  : -1;
		for (size_t s = 0; rs < 0 && s < cfg->nsystems; s++)
			if (linked(c, (int)s))
				rs = (int)s;
		if (rs < 0)
			continue;
		*sc = (struct sim_conflict){ .case_id = c->id, .field = k[i].field,
			                     .case_system = k[i].case_system,
			                     .parked_system = k[i].parked_system, .record_system = rs };
		snprintf(sc->case_value, sizeof(sc->case_value), "%s", k[i].case_value);
		snprintf(sc->parked_value, sizeof(sc->parked_value), "%s", k[i].parked_value);
		snprintf(sc->record_id, sizeof(sc->record_id), "%s", c->link[rs].remote_id);
		n++;
	}
	return n;
}

struct conflict_scan {
	const struct cc_config *cfg;
	struct sim_conflict *out;
	size_t max, n;
};

static int conflict_visit(void *arg, const struct cc_case *c)
{
	struct conflict_scan *cs = arg;
	cs->n += sim_case_conflicts(cs->cfg, c, cs->out + cs->n, cs->max - cs->n);
	return cs->n == cs->max;
}

static int hm_conflicts(void *self, struct sim_conflict *out, size_t max)
{
	struct hub_model *m = self;
	if (m->down)
		return CC_ENOMEM;
	struct conflict_scan cs = { .cfg = &m->cfg, .out = out, .max = max };
	if (max && m->store.ops->case_scan_all(m->store.self, conflict_visit, &cs) < 0) {
		snprintf(m->iface->error, sizeof(m->iface->error), "conflicts: %s",
		         m->store.ops->last_error(m->store.self));
		return CC_ENOMEM;
	}
	return (int)cs.n;
}

static int hm_resolve(void *self, uint64_t case_id, int field, int take, const char *value,
                      const char *by)
{
	struct hub_model *m = self;
	if (m->down)
		return 1;
	struct cc_resolution how = { .take = take, .value = value, .by = by };
	struct cc_resolve_outcome out;
	int rc = cc_hub_resolve(m->hub, case_id, field, &how, &out);
	if (rc == CC_EOK)
		return 0;
	if (rc == CC_ENOTFOUND || rc == CC_ENOTPARKED || rc == CC_EINVAL || rc == CC_EUNMAPPED)
		return 1;
	return settle(m, rc, "resolve");
}

static void hm_destroy(void *self)
{
	struct hub_model *m = self;
	cc_driver_destroy(m->driver);
	if (m->hub)
		cc_hub_destroy(m->hub);
	sim_bodies_clear(&m->bodies);
	m->store.ops->destroy(m->store.self);
	free(m);
}

int sim_hub_model_create(struct sim_integration *out, struct sim_world *w, uint64_t seed,
                         int64_t poll_interval_ms, const char *store_url)
{
	struct hub_model *m = calloc(1, sizeof(*m));
	if (!m)
		return CC_EINVAL;
	m->w = w;
	m->iface = out;
	m->trace = getenv("CONCORD_SIM_TRACE") != NULL;
	m->poll_interval = poll_interval_ms;
	sim_rng_seed(&m->rng, seed * 0x94d049bb133111ebULL + 3);
	enum sim_kind kinds[CC_MAX_SYSTEMS];
	int64_t lags[CC_MAX_SYSTEMS];
	for (size_t s = 0; s < w->nsys; s++) {
		kinds[s] = w->sys[s].kind;
		lags[s] = 20000; /* the stated bound on search lag, not the true lag */
	}
	sim_scenario_config(&m->cfg, w->nsys, kinds, lags, poll_interval_ms);
	char err[200];
	if (cc_config_validate(&m->cfg, err, sizeof(err))) {
		snprintf(out->error, sizeof(out->error), "config: %s", err);
		free(m);
		return CC_EINVAL;
	}
	if (sim_crashable_store_open(&m->store, store_url, err, sizeof(err))) {
		snprintf(out->error, sizeof(out->error), "store: %s", err);
		free(m);
		return CC_EINVAL;
	}
	if (m->store.ops->instance(m->store.self, &m->instance)) {
		snprintf(out->error, sizeof(out->error), "store: no instance id");
		m->store.ops->destroy(m->store.self);
		free(m);
		return CC_EINVAL;
	}
	*out = (struct sim_integration){
		.self = m,
		.next_due = hm_next_due,
		.run = hm_run,
		.webhook = hm_webhook,
		.crash = hm_crash,
		.restart = hm_restart,
		.down = hm_down,
		.finish = hm_finish,
		.conflicts = hm_conflicts,
		.resolve = hm_resolve,
		.destroy = hm_destroy,
	};
	w->on_crash = killed;
	w->crash_ctx = m;
	if (start_hub(m)) {
		hm_destroy(m);
		return CC_EINVAL;
	}
	return 0;
}
