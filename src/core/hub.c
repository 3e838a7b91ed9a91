/*
 * The hub (see hub.h): its life cycle, the helpers its files share, and
 * scheduling: deciding which systems have something to receive.
 * The pipeline itself lives in ingest.c, poll.c and deliver.c.
 */
#include "core/hub_internal.h"

#include "core/mapping.h"
#include "core/merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---------------------------------------------------- */

void cc_hub_correlation(struct cc_hub *h, uint64_t case_id, char *buf, size_t len)
{
	cc_correlation_format_in(buf, len, h->instance, case_id);
}

int cc_hub_correlation_parse(struct cc_hub *h, const char *s, uint64_t *case_id)
{
	return cc_correlation_parse_in(s, h->instance, case_id);
}

void cc_hub_crash_point(struct cc_hub *h, const char *name)
{
	if (h->env.crash_point)
		h->env.crash_point(h->env.ctx, name);
}

int64_t cc_hub_now(struct cc_hub *h)
{
	return h->env.now_ms(h->env.ctx);
}

int cc_hub_fail(struct cc_hub *h, int rc, const char *what)
{
	snprintf(h->err, sizeof(h->err), "store: %s failed (%d)", what, rc);
	return rc;
}

int cc_hub_audit(struct cc_hub *h, const struct cc_case *c, int system, int field,
                 enum cc_decision d, const char *value, const struct cc_version *ver,
                 int score, const char *detail)
{
	struct cc_audit_entry e = {
		.at_ms = cc_hub_now(h),
		.case_id = c ? c->id : 0,
		.system = system,
		.field = field,
		.decision = d,
		.value = value,
		.remote_id = (c && system >= 0) ? c->link[system].remote_id : NULL,
		.ver = ver ? *ver : CC_VERSION_UNSET,
		.score = score,
		.detail = detail,
		.system_name = system >= 0 ? h->cfg->systems[system].name : NULL,
		.field_name = field >= 0 ? h->cfg->fields[field].name : NULL,
	};
	int rc = ST(h)->audit_append(SS(h), &e);
	if (rc)
		return cc_hub_fail(h, rc, "audit");
	if (h->env.on_audit)
		h->env.on_audit(h->env.ctx, &e);
	return CC_EOK;
}

bool cc_hub_stopping(struct cc_hub *h)
{
	return h->env.stopping && h->env.stopping(h->env.ctx);
}

void cc_hub_breaker_failure(struct cc_hub *h, int system, int failures)
{
	if (failures >= h->cfg->breaker_failures)
		h->sys[system].open_until_ms = cc_hub_now(h) + h->cfg->breaker_open_ms;
}

void cc_hub_count_call(struct cc_hub *h, int system, struct cc_call *call)
{
	if (call->result != CC_OK && h->env.redact)
		h->env.redact(h->env.ctx, call->reason, sizeof(call->reason));
	h->stats.requests[system] += (uint64_t)(call->requests > 0 ? call->requests : 1);
	if (call->result == CC_OK)
		h->sys[system].last_failure[0] = '\0';
	else
		snprintf(h->sys[system].last_failure, sizeof(h->sys[system].last_failure), "%s",
		         call->reason[0] ? call->reason : "failed");
	if (call->has_date)
		cc_offset_sample(&h->sys[system].state.offset, call->date_s, call->sent_ms,
		                 call->recv_ms);
}

void cc_hub_call_init(struct cc_hub *h, struct cc_call *call)
{
	memset(call, 0, sizeof(*call));
	call->sent_ms = cc_hub_now(h);
	call->recv_ms = call->sent_ms;
}

int cc_hub_normalize(struct cc_hub *h, struct cc_observation *dst,
                                 const struct cc_observation *src)
{
	int rc = cc_observation_copy(dst, src);
	if (rc)
		return rc;
	for (size_t f = 0; f < h->cfg->nfields; f++) {
		struct cc_obs_field *of = &dst->fields[f];
		if (!of->present || !of->value)
			continue;
		char *n = cc_value_normalize(h->cfg->fields[f].type, of->value);
		if (!n) {
			cc_observation_clear(dst);
			return CC_ENOMEM;
		}
		free(of->value);
		of->value = n;
	}
	return CC_EOK;
}

struct cc_version cc_hub_field_version(struct cc_hub *h, const struct cc_observation *o, int f)
{
	const struct cc_obs_field *of = &o->fields[f];
	int64_t mt = of->mtime_s ? of->mtime_s : o->mtime_s;
	struct cc_version v = {
		.t_ms = cc_offset_correct(&h->sys[o->system].state.offset, mt),
		.rank = h->cfg->systems[o->system].rank,
		.rv = o->rv,
	};
	/*
	 * A change cannot be newer than the moment it was seen: a record that
	 * claims a time to come (a wrong clock, a bad answer) would otherwise win
	 * every later conflict. Beyond the clock uncertainty it is taken as now.
	 */
	int64_t latest = cc_hub_now(h) + h->cfg->clock_uncertainty_ms;
	if (v.t_ms > latest)
		v.t_ms = latest;
	return v;
}

static int64_t create_gate(struct cc_hub *h, int system, int64_t from_ms)
{
	return from_ms + h->cfg->create_settle_ms + h->cfg->systems[system].search_lag_ms;
}

/* ---- scheduling ------------------------------------------------------- */

bool cc_hub_needs_delivery(struct cc_hub *h, const struct cc_case *c, int sys)
{
	const struct cc_link *l = &c->link[sys];
	if (l->dead_lettered)
		return false; /* given up on until the case changes or a person retries */
	if (l->status == CC_LINK_CREATE)
		return true;
	if (l->status != CC_LINK_LINKED)
		return false;
	/* A write of unknown outcome is resolved by the next delivery. */
	if (l->needs_read || l->pending_mask || l->needs_stamp)
		return true;
	const char *values[CC_MAX_FIELDS];
	uint32_t unmapped;
	return cc_project(h->cfg, c, sys, values, &unmapped) > 0 ||
	       cc_comments_to_mirror(h->cfg, c, sys) > 0;
}

/*
 * Puts an outbox entry for every system that has something to receive.
 * An entry already waiting keeps its backoff; a fresh one is due at `due`.
 */
int cc_hub_schedule(struct cc_hub *h, struct cc_case *c)
{
	int64_t t = cc_hub_now(h);
	for (size_t s = 0; s < h->cfg->nsystems; s++) {
		struct cc_link *l = &c->link[s];
		if (l->status == CC_LINK_NONE && cc_route_allows(h->cfg, c, (int)s)) {
			l->status = CC_LINK_CREATE;
			l->create_not_before_ms = create_gate(h, (int)s, t);
		}
		if (!cc_hub_needs_delivery(h, c, (int)s))
			continue;
		int64_t due = l->status == CC_LINK_CREATE ? l->create_not_before_ms : t;
		struct cc_outbox_entry e;
		int rc = ST(h)->outbox_get(SS(h), c->id, (int)s, &e);
		if (rc == CC_EOK) {
			if (e.attempts > 0 || e.due_ms <= due)
				continue;
			e.due_ms = due;
		} else if (rc == CC_ENOTFOUND) {
			e = (struct cc_outbox_entry){ .case_id = c->id, .system = (int)s,
			                              .due_ms = due, .first_ms = t };
		} else {
			return cc_hub_fail(h, rc, "outbox_get");
		}
		rc = ST(h)->outbox_put(SS(h), &e);
		if (rc)
			return cc_hub_fail(h, rc, "outbox_put");
	}
	return CC_EOK;
}

int64_t cc_hub_next_due(struct cc_hub *h, int system)
{
	size_t n;
	int64_t earliest;
	if (ST(h)->outbox_stat(SS(h), system, &n, &earliest))
		return INT64_MAX;
	struct sys_runtime *rt = &h->sys[system];
	if (n == 0)
		return INT64_MAX;
	if (earliest < rt->not_before_ms)
		earliest = rt->not_before_ms;
	if (earliest < rt->open_until_ms)
		earliest = rt->open_until_ms;
	return earliest;
}

/* ---- life cycle ------------------------------------------------------- */

int cc_hub_create(struct cc_hub **out, const struct cc_config *cfg, struct cc_store *store,
                  struct cc_connector *connectors, const struct cc_hub_env *env)
{
	/* the ports: a store and connectors of this build's interfaces only */
	if (!store->ops || store->ops->version != CC_STORE_OPS_VERSION)
		return CC_EINVAL;
	for (size_t s = 0; connectors && s < cfg->nsystems; s++)
		if (!connectors[s].ops || connectors[s].ops->version != CC_CONNECTOR_OPS_VERSION)
			return CC_EINVAL;
	struct cc_hub *h = calloc(1, sizeof(*h));
	if (!h)
		return CC_ENOMEM;
	h->cfg = cfg;
	h->st = store;
	h->conn = connectors;
	h->env = *env;
	int irc = store->ops->instance(store->self, &h->instance);
	if (irc) {
		free(h);
		return irc;
	}
	for (size_t s = 0; s < cfg->nsystems; s++) {
		int rc = store->ops->system_state_load(store->self, (int)s, &h->sys[s].state);
		if (rc) {
			free(h);
			return rc;
		}
	}
	*out = h;
	return CC_EOK;
}

int cc_hub_set_delivery_slots(struct cc_hub *h, int system, struct cc_connector *slots,
                              size_t n)
{
	if (system < 0 || (size_t)system >= h->cfg->nsystems || n > CC_HUB_SLOTS_MAX)
		return CC_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!slots[i].ops || slots[i].ops->version != CC_CONNECTOR_OPS_VERSION)
			return CC_EINVAL;
	h->slots[system] = n > 1 ? slots : NULL;
	h->nslots[system] = n > 1 ? n : 0;
	return CC_EOK;
}

void cc_hub_destroy(struct cc_hub *h)
{
	free(h);
}

const struct cc_hub_stats *cc_hub_stats(const struct cc_hub *h)
{
	return &h->stats;
}

const char *cc_hub_last_failure(const struct cc_hub *h, int system)
{
	return h->sys[system].last_failure;
}

void cc_hub_system_status(const struct cc_hub *h, int system, struct cc_hub_system_status *out)
{
	const struct sys_runtime *rt = &h->sys[system];
	*out = (struct cc_hub_system_status){
		.last_poll_start_ms = rt->state.last_poll_start_ms,
		.poll_failures = rt->poll_failures,
		.next_poll_ms = cc_hub_next_poll(h, system),
		.has_cursor = rt->state.has_cursor,
		.cursor_s = rt->state.cursor_mtime_s,
		.failures = rt->failures,
		.open_until_ms = rt->open_until_ms,
		.not_before_ms = rt->not_before_ms,
	};
}

const char *cc_hub_last_error(const struct cc_hub *h)
{
	return h->err;
}

