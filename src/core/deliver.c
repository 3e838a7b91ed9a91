/*
 * Deliver: the outbox, the only place retries happen. An entry says "this
 * record of this system needs sync"; what to write is computed at delivery
 * from the case and the shadow, so pending changes to one record always
 * coalesce into one request. The intent (pending values, or the create
 * with its correlation id) commits before the remote call and the outcome
 * after it; a write of unknown outcome is resolved by reading the record
 * (or looking the correlation id up) before anything is written again.
 * Backoff with jitter, Retry-After, a circuit breaker per system and dead
 * letters act on each call's OK / RETRY / ERROR / CONFLICT.
 */
#include "core/hub_internal.h"

#include "core/merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFLICTS_BEFORE_BACKOFF 3

/*
 * What the jobs of one round share (with the hub held): the polls still
 * reading (cc_hub_poll_and_deliver; 0 in a round of deliveries alone) and
 * the first store failure of one.
 */
struct round {
	int polls;
	bool reading[CC_MAX_SYSTEMS]; /* that system's poll reads: its workers wait */
	bool started[CC_MAX_SYSTEMS]; /* that system's poll job has begun */
	struct pool *pools;           /* each system's workers (nsystems) */
	int rc;
};

/*
 * A create waiting for a poll of its target during a round whose polls
 * still read is looked at again after this at least (the target's poll
 * runs again in the round: see poll_job), not over and over meanwhile.
 */
#define GATE_RECHECK_MS 250

/*
 * Deliveries at once to one system: what its workers share (with the hub
 * held). Each worker takes the next due entry no other has in hand, until
 * none is due or `left` is spent; no batch waits for its slowest call.
 */
struct pool {
	struct round *round;
	int system;
	int left;                  /* entries still to take in this round */
	int done;
	int rc;                    /* the first error of a worker */
	uint64_t in_hand[CC_HUB_SLOTS_MAX]; /* case ids being delivered (0: free) */
};

/*
 * One delivery: its outbox entry and the connector instance its calls go
 * through. A worker of a pool (parallel) holds the hub except during those
 * calls (env.lock / env.unlock): see cc_hub_env.run.
 */
struct job {
	struct cc_hub *h;
	struct cc_outbox_entry e;
	struct cc_connector *cn;
	struct pool *pool;         /* a worker's round; NULL: one delivery at a time */
	size_t slot;               /* its place in pool->in_hand */
	int poll;                  /* >= 0: not a worker but the poll of that system */
	struct round *round;       /* the poll's round */
};

/* Before and after a connector call: others may use the hub meanwhile. */
static void away(const struct job *j)
{
	if (j->pool)
		j->h->env.unlock(j->h->env.ctx);
}

static void back(const struct job *j)
{
	if (j->pool)
		j->h->env.lock(j->h->env.ctx);
}


static int64_t backoff_delay(struct cc_hub *h, uint32_t attempts, int64_t retry_after)
{
	int64_t d = h->cfg->backoff_base_ms;
	for (uint32_t i = 0; i < attempts && d < h->cfg->backoff_max_ms; i++)
		d *= 2;
	if (d > h->cfg->backoff_max_ms)
		d = h->cfg->backoff_max_ms;
	/* "equal jitter": half fixed, half random, so retries spread out */
	int64_t half = d / 2;
	d = half + (half > 0 ? (int64_t)(h->env.random(h->env.ctx) % (uint64_t)(half + 1)) : 0);
	return d > retry_after ? d : retry_after;
}

/*
 * Marks the link of a delivery refused for good, in the open transaction, so
 * that nothing queues it again (another system's delivery of the case, a
 * poll that brings no change) until the case changes or a person retries.
 */
static int mark_dead_lettered(struct cc_hub *h, const struct cc_outbox_entry *e)
{
	struct cc_case c;
	int rc = ST(h)->case_load(SS(h), e->case_id, &c);
	if (rc == CC_ENOTFOUND)
		return CC_EOK;
	if (rc)
		return cc_hub_fail(h, rc, "case_load");
	c.link[e->system].dead_lettered = true;
	rc = ST(h)->case_save(SS(h), &c);
	cc_case_clear(&c);
	return rc ? cc_hub_fail(h, rc, "case_save") : CC_EOK;
}

/* Records a failed call on an outbox entry: backoff, breaker, dead letter. */
static int delivery_failed(struct cc_hub *h, struct cc_outbox_entry *e,
                           const struct cc_call *call)
{
	struct sys_runtime *rt = &h->sys[e->system];
	int64_t t = cc_hub_now(h);
	if (call->result == CC_RETRY && cc_hub_stopping(h)) {
		/* interrupted by a stop: no failure, due again at the next start */
		e->due_ms = t;
		int rc = ST(h)->outbox_put(SS(h), e);
		return rc ? cc_hub_fail(h, rc, "outbox_put") : CC_EOK;
	}
	h->stats.retries++;
	if (call->retry_after_ms > 0) {
		/* asked to wait: not a failure (another job may have been asked longer) */
		if (t + call->retry_after_ms > rt->not_before_ms)
			rt->not_before_ms = t + call->retry_after_ms;
	} else if (!rt->in_batch || !rt->batch_counted) {
		/* calls at once that fail at once (an outage) are one failure in a
		 * row for the breaker, not one per call in flight */
		rt->batch_counted = rt->in_batch;
		cc_hub_breaker_failure(h, e->system, ++rt->failures);
	}
	if (call->result == CC_ERROR || t - e->first_ms > h->cfg->dead_letter_after_ms) {
		struct cc_dead_letter d = { .case_id = e->case_id, .system = e->system, .at_ms = t };
		snprintf(d.reason, sizeof(d.reason), "%s",
		         call->reason[0] ? call->reason : "retried too long");
		int rc = ST(h)->dead_letter_put(SS(h), &d);
		if (rc == CC_EOK)
			rc = ST(h)->outbox_remove(SS(h), e->case_id, e->system);
		if (rc)
			return cc_hub_fail(h, rc, "dead_letter_put");
		/* refused for good: not again until something changes; a write
		 * retried too long may go through once the system is back */
		rc = call->result == CC_ERROR ? mark_dead_lettered(h, e) : CC_EOK;
		if (rc)
			return rc;
		h->stats.dead_letters++;
		struct cc_audit_entry a = { .at_ms = t, .case_id = e->case_id, .system = e->system,
		                            .field = -1, .decision = CC_AUDIT_DEAD_LETTER,
		                            .detail = d.reason, .ver = CC_VERSION_UNSET,
		                            .system_name = h->cfg->systems[e->system].name };
		rc = ST(h)->audit_append(SS(h), &a);
		if (rc)
			return cc_hub_fail(h, rc, "audit");
		if (h->env.on_audit)
			h->env.on_audit(h->env.ctx, &a);
		return CC_EOK;
	}
	e->due_ms = t + backoff_delay(h, e->attempts, call->retry_after_ms);
	e->attempts++;
	int rc = ST(h)->outbox_put(SS(h), e);
	return rc ? cc_hub_fail(h, rc, "outbox_put") : CC_EOK;
}

static void delivery_succeeded(struct cc_hub *h, int system)
{
	h->sys[system].failures = 0;
	h->sys[system].open_until_ms = 0;
}

/* Opens a transaction and loads the entry's case; CC_ENOTFOUND if gone. */
static int tx_load(struct cc_hub *h, uint64_t id, struct cc_case *c)
{
	int rc = ST(h)->begin(SS(h));
	if (rc)
		return cc_hub_fail(h, rc, "begin");
	rc = ST(h)->case_load(SS(h), id, c);
	if (rc) {
		ST(h)->rollback(SS(h));
		return rc == CC_ENOTFOUND ? rc : cc_hub_fail(h, rc, "case_load");
	}
	return CC_EOK;
}

/* Saves the case, reschedules it, commits. Always clears c. */
static int tx_save(struct cc_hub *h, struct cc_case *c)
{
	int rc = cc_hub_schedule(h, c);
	if (rc == CC_EOK) {
		rc = ST(h)->case_save(SS(h), c);
		if (rc)
			rc = cc_hub_fail(h, rc, "case_save");
	}
	if (rc == CC_EOK) {
		rc = ST(h)->commit(SS(h));
		if (rc)
			rc = cc_hub_fail(h, rc, "commit");
	} else {
		ST(h)->rollback(SS(h));
	}
	cc_case_clear(c);
	return rc;
}

/* Records a failed call in its own transaction; returns CC_ERESCHEDULED. */
static int tx_fail(struct cc_hub *h, struct cc_outbox_entry *e, const struct cc_call *call)
{
	int rc = ST(h)->begin(SS(h));
	if (rc)
		return cc_hub_fail(h, rc, "begin");
	rc = delivery_failed(h, e, call);
	if (rc) {
		ST(h)->rollback(SS(h));
		return rc;
	}
	/* The entry was rescheduled (or dead-lettered): the caller stops here. */
	return ST(h)->commit(SS(h)) ? cc_hub_fail(h, CC_ESTORE, "commit") : CC_ERESCHEDULED;
}

static int tx_put(struct cc_hub *h, const struct cc_outbox_entry *e, bool remove)
{
	int rc = ST(h)->begin(SS(h));
	if (rc)
		return cc_hub_fail(h, rc, "begin");
	rc = remove ? ST(h)->outbox_remove(SS(h), e->case_id, e->system)
	            : ST(h)->outbox_put(SS(h), e);
	if (rc) {
		ST(h)->rollback(SS(h));
		return cc_hub_fail(h, rc, "outbox");
	}
	return ST(h)->commit(SS(h)) ? cc_hub_fail(h, CC_ESTORE, "commit") : CC_EOK;
}

/* After a read of a record whose last write had an unknown outcome. */
static int resolve_unknown(struct cc_hub *h, uint64_t id, int sys, const struct cc_observation *o)
{
	struct cc_case c;
	int rc = tx_load(h, id, &c);
	if (rc)
		return rc == CC_ENOTFOUND ? CC_EOK : rc;
	rc = cc_hub_apply_observation(h, &c, o);
	if (rc == CC_EOK) {
		/* The read shows the record as it is: whatever is still pending
		 * was not applied and will be computed again. */
		struct cc_link *L = &c.link[sys];
		L->pending_mask = 0;
		L->needs_read = false;
		for (size_t i = 0; i < c.ncomments; i++)
			c.comments[i].unknown_mask &= ~(1u << sys);
	} else {
		ST(h)->rollback(SS(h));
		cc_case_clear(&c);
		return rc;
	}
	return tx_save(h, &c);
}

static int deliver_create(struct job *j, struct cc_case *c)
{
	struct cc_hub *h = j->h;
	struct cc_outbox_entry *e = &j->e;
	int T = e->system;
	struct cc_link *L = &c->link[T];
	struct cc_connector *cn = j->cn;
	int64_t t = cc_hub_now(h);
	char corr[64];
	int rc;
	cc_hub_correlation(h, c->id, corr, sizeof(corr));

	/*
	 * Wait for a poll of T that would have shown a twin raised there. That
	 * poll is brought forward to the gate time rather than waited for a
	 * whole interval (one listing more per create: cost still grows with
	 * changes), unless T's polls are backing off or held by a Retry-After
	 * or the breaker: then the create waits for the poll as scheduled.
	 */
	if (t < L->create_not_before_ms ||
	    h->sys[T].state.last_poll_start_ms < L->create_not_before_ms) {
		struct sys_runtime *rt = &h->sys[T];
		int64_t at = L->create_not_before_ms > t ? L->create_not_before_ms : t;
		if (rt->poll_backoffs == 0 && at >= rt->not_before_ms && at >= rt->open_until_ms &&
		    rt->next_poll_ms > at)
			rt->next_poll_ms = at;
		/* at >= t: a poll due now is this step's, and the entry follows it */
		int64_t next_poll = cc_hub_next_poll(h, T);
		e->due_ms = next_poll > at ? next_poll : at;
		if (j->pool && j->pool->round->polls > 0 && e->due_ms < t + GATE_RECHECK_MS)
			e->due_ms = t + GATE_RECHECK_MS;
		ST(h)->rollback(SS(h));
		cc_case_clear(c);
		return tx_put(h, e, false);
	}
	if (L->create_unknown) {
		int64_t ready = L->create_attempt_ms + h->cfg->systems[T].search_lag_ms + 1000;
		if (t < ready) {
			e->due_ms = ready;
			ST(h)->rollback(SS(h));
			cc_case_clear(c);
			return tx_put(h, e, false);
		}
		ST(h)->rollback(SS(h));
		struct cc_observation found_obs;
		bool found = false;
		struct cc_call call;
		cc_observation_init(&found_obs);
		cc_hub_call_init(h, &call);
		away(j);
		enum cc_result r = cn->ops->find_by_correlation(cn->self, corr, &found_obs, &found, &call);
		back(j);
		call.recv_ms = cc_hub_now(h);
		cc_hub_count_call(h, T, &call);
		uint64_t id = c->id;
		cc_case_clear(c);
		if (r != CC_OK) {
			cc_observation_clear(&found_obs);
			return tx_fail(h, e, &call);
		}
		if (found) {
			found_obs.system = T;
			rc = cc_hub_ingest_normalized(h, &found_obs);
			cc_observation_clear(&found_obs);
			return rc;
		}
		cc_observation_clear(&found_obs);
		rc = tx_load(h, id, c);
		if (rc)
			return rc == CC_ENOTFOUND ? CC_EOK : rc;
		L = &c->link[T];
		if (L->status != CC_LINK_CREATE) {
			return tx_save(h, c);
		}
	}

	/* Intent first: durable before the remote call. */
	const char *values[CC_MAX_FIELDS];
	uint32_t unmapped;
	cc_project(h->cfg, c, T, values, &unmapped);
	/* Every mapped field is pending, the empty ones too: the new record's
	 * values are ours, not a person's change, until it is seen. */
	L->pending_mask = 0;
	for (size_t f = 0; f < h->cfg->nfields; f++) {
		if (!h->cfg->systems[T].map[f].mapped || c->f[f].parked)
			continue;
		if (cc_str_set(&L->pending[f], values[f] ? values[f] : "")) {
			ST(h)->rollback(SS(h));
			cc_case_clear(c);
			return CC_ENOMEM;
		}
		L->pending_mask |= 1u << f;
	}
	L->create_unknown = true;
	L->create_attempt_ms = t;
	if (!c->mirrored_ms)
		c->mirrored_ms = t;
	struct cc_write w = { .correlation_id = corr };
	uint64_t id = c->id;
	struct cc_case intent; /* keeps the values alive across the call */
	rc = cc_case_copy(&intent, c);
	if (rc == CC_EOK) {
		for (size_t f = 0; f < CC_MAX_FIELDS; f++)
			w.values[f] = values[f] ? intent.link[T].pending[f] : NULL;
		rc = tx_save(h, c); /* clears c */
	} else {
		ST(h)->rollback(SS(h));
		cc_case_clear(c);
	}
	if (rc) {
		cc_case_clear(&intent);
		return rc;
	}

	struct cc_observation out;
	struct cc_call call;
	cc_observation_init(&out);
	cc_hub_call_init(h, &call);
	cc_hub_crash_point(h, "deliver-intent-committed");
	away(j);
	enum cc_result r = cn->ops->create(cn->self, &w, &out, &call);
	back(j);
	cc_hub_crash_point(h, "deliver-after-create");
	call.recv_ms = cc_hub_now(h);
	cc_hub_count_call(h, T, &call);
	cc_case_clear(&intent);

	if (r == CC_OK) {
		h->stats.creates++;
		delivery_succeeded(h, T);
		rc = tx_load(h, id, c);
		if (rc) {
			cc_observation_clear(&out);
			return rc == CC_ENOTFOUND ? CC_EOK : rc;
		}
		L = &c->link[T];
		L->hub_created = true;
		out.system = T;
		if (L->status == CC_LINK_CREATE) {
			rc = cc_hub_attach(h, c, &out, CC_AUDIT_CREATED_REMOTE, 0);
		} else {
			rc = cc_hub_audit(h, c, T, -1, CC_AUDIT_ALERT, out.remote_id, NULL, 0,
			           "create answered after the case was linked otherwise");
		}
		cc_observation_clear(&out);
		if (rc == CC_EOK)
			rc = ST(h)->outbox_remove(SS(h), id, T);
		if (rc) {
			ST(h)->rollback(SS(h));
			cc_case_clear(c);
			return rc;
		}
		return tx_save(h, c);
	}
	cc_observation_clear(&out);
	if (!call.outcome_unknown) {
		rc = tx_load(h, id, c);
		if (rc == CC_EOK) {
			c->link[T].create_unknown = false;
			c->link[T].pending_mask = 0;
			rc = tx_save(h, c);
		}
		if (rc && rc != CC_ENOTFOUND)
			return rc;
	}
	return tx_fail(h, e, &call);
}

static int deliver_comments(struct job *j, uint64_t id)
{
	struct cc_hub *h = j->h;
	struct cc_outbox_entry *e = &j->e;
	int T = e->system;
	struct cc_connector *cn = j->cn;
	for (;;) {
		struct cc_case c;
		int rc = tx_load(h, id, &c);
		if (rc)
			return rc == CC_ENOTFOUND ? CC_EOK : rc;
		struct cc_link *L = &c.link[T];
		long idx = -1;
		if (L->status == CC_LINK_LINKED && h->cfg->systems[T].comments)
			for (size_t i = 0; i < c.ncomments && idx < 0; i++)
				if (!c.comments[i].mirror_id[T])
					idx = (long)i;
		if (idx < 0) {
			ST(h)->rollback(SS(h));
			cc_case_clear(&c);
			return CC_EOK;
		}
		struct cc_comment *cm = &c.comments[idx];
		char marker[200];
		cc_comment_marker(marker, sizeof(marker), c.id, cm->origin_system, cm->origin_id);
		size_t blen = strlen(marker) + 1 + strlen(cm->body) + 1;
		char *body = malloc(blen);
		char *remote_id = strdup(L->remote_id);
		if (!body || !remote_id) {
			free(body);
			free(remote_id);
			ST(h)->rollback(SS(h));
			cc_case_clear(&c);
			return CC_ENOMEM;
		}
		snprintf(body, blen, "%s %s", marker, cm->body);
		cm->unknown_mask |= 1u << T;
		L->needs_read = true; /* until the outcome is known */
		rc = ST(h)->case_save(SS(h), &c);
		rc = rc ? rc : ST(h)->commit(SS(h));
		if (rc) {
			ST(h)->rollback(SS(h));
			cc_case_clear(&c);
			free(body);
			free(remote_id);
			return cc_hub_fail(h, rc, "comment intent");
		}
		cc_case_clear(&c);

		char *new_id = NULL;
		struct cc_call call;
		cc_hub_call_init(h, &call);
		away(j);
		enum cc_result r = cn->ops->add_comment(cn->self, remote_id, body, &new_id, &call);
		back(j);
		cc_hub_crash_point(h, "comment-after-remote");
		call.recv_ms = cc_hub_now(h);
		cc_hub_count_call(h, T, &call);
		free(body);
		free(remote_id);

		rc = tx_load(h, id, &c);
		if (rc) {
			free(new_id);
			return rc == CC_ENOTFOUND ? CC_EOK : rc;
		}
		L = &c.link[T];
		cm = &c.comments[idx];
		if (r == CC_OK) {
			h->stats.comments++;
			delivery_succeeded(h, T);
			cm->unknown_mask &= ~(1u << T);
			L->needs_read = false;
			rc = cc_str_set(&cm->mirror_id[T], new_id);
			if (rc == CC_EOK)
				rc = cc_hub_audit(h, &c, T, -1, CC_AUDIT_COMMENT_MIRRORED, new_id, NULL, 0, NULL);
			free(new_id);
			if (rc) {
				ST(h)->rollback(SS(h));
				cc_case_clear(&c);
				return rc;
			}
			rc = tx_save(h, &c);
			if (rc)
				return rc;
			continue;
		}
		free(new_id);
		if (!call.outcome_unknown) {
			cm->unknown_mask &= ~(1u << T);
			L->needs_read = false;
		}
		rc = ST(h)->case_save(SS(h), &c);
		if (rc == CC_EOK)
			rc = delivery_failed(h, e, &call);
		cc_case_clear(&c);
		if (rc) {
			ST(h)->rollback(SS(h));
			return rc;
		}
		rc = ST(h)->commit(SS(h));
		return rc ? cc_hub_fail(h, rc, "commit") : CC_ERESCHEDULED;
	}
}

static bool is_revert(const struct cc_config *cfg, int sys, int f)
{
	const struct cc_field_def *fd = &cfg->fields[f];
	const struct cc_policy_def *pol = cc_policy(fd->policy);
	return pol->reverts && pol->reverts(fd, sys);
}

static int deliver_update(struct job *j, struct cc_case *c)
{
	struct cc_hub *h = j->h;
	struct cc_outbox_entry *e = &j->e;
	int T = e->system;
	struct cc_link *L = &c->link[T];
	struct cc_connector *cn = j->cn;
	uint64_t id = c->id;
	int rc;

	if (L->needs_read || L->pending_mask) {
		char *rid = strdup(L->remote_id);
		ST(h)->rollback(SS(h));
		cc_case_clear(c);
		if (!rid)
			return CC_ENOMEM;
		struct cc_observation o;
		struct cc_call call;
		cc_observation_init(&o);
		cc_hub_call_init(h, &call);
		away(j);
		enum cc_result r = cn->ops->read(cn->self, rid, &o, &call);
		back(j);
		call.recv_ms = cc_hub_now(h);
		cc_hub_count_call(h, T, &call);
		free(rid);
		if (r != CC_OK) {
			cc_observation_clear(&o);
			return tx_fail(h, e, &call);
		}
		o.system = T;
		struct cc_observation n;
		rc = cc_hub_normalize(h, &n, &o);
		cc_observation_clear(&o);
		if (rc)
			return rc;
		rc = resolve_unknown(h, id, T, &n);
		cc_observation_clear(&n);
		if (rc)
			return rc;
		rc = tx_load(h, id, c);
		if (rc)
			return rc == CC_ENOTFOUND ? CC_EOK : rc;
		L = &c->link[T];
		if (L->status != CC_LINK_LINKED)
			return tx_save(h, c);
	}

	const char *values[CC_MAX_FIELDS];
	uint32_t unmapped;
	int n = cc_project(h->cfg, c, T, values, &unmapped);
	bool stamp = L->needs_stamp;
	char corr[64];
	cc_hub_correlation(h, c->id, corr, sizeof(corr));
	for (size_t f = 0; f < h->cfg->nfields; f++) {
		if (!(unmapped & (1u << f)))
			continue;
		rc = cc_hub_audit(h, c, T, (int)f, CC_AUDIT_UNMAPPED, c->f[f].value, NULL, 0,
		           "no mapping for the case value: not written");
		if (rc) {
			ST(h)->rollback(SS(h));
			cc_case_clear(c);
			return rc;
		}
	}
	if (n > 0 || stamp) {
		L->pending_mask = 0;
		for (size_t f = 0; f < h->cfg->nfields; f++) {
			if (!values[f])
				continue;
			if (cc_str_set(&L->pending[f], values[f])) {
				ST(h)->rollback(SS(h));
				cc_case_clear(c);
				return CC_ENOMEM;
			}
			L->pending_mask |= 1u << f;
		}
		struct cc_write w = { .remote_id = NULL, .expected_rv = L->rv,
		                      .correlation_id = stamp ? corr : NULL };
		char *rid = strdup(L->remote_id);
		if (!rid) {
			ST(h)->rollback(SS(h));
			cc_case_clear(c);
			return CC_ENOMEM;
		}
		w.remote_id = rid;
		struct cc_case intent;
		rc = cc_case_copy(&intent, c);
		if (rc == CC_EOK) {
			for (size_t f = 0; f < CC_MAX_FIELDS; f++)
				w.values[f] = intent.link[T].pending_mask & (1u << f) ?
				                      intent.link[T].pending[f] : NULL;
			rc = ST(h)->case_save(SS(h), c);
			rc = rc ? rc : ST(h)->commit(SS(h));
			if (rc)
				ST(h)->rollback(SS(h));
		} else {
			ST(h)->rollback(SS(h));
		}
		cc_case_clear(c);
		if (rc) {
			cc_case_clear(&intent);
			free(rid);
			return rc == CC_ENOMEM ? rc : cc_hub_fail(h, rc, "write intent");
		}

		struct cc_observation out;
		struct cc_call call;
		cc_observation_init(&out);
		cc_hub_call_init(h, &call);
		cc_hub_crash_point(h, "deliver-intent-committed");
		away(j);
		enum cc_result r = cn->ops->update(cn->self, &w, &out, &call);
		back(j);
		cc_hub_crash_point(h, "deliver-after-remote-write");
		call.recv_ms = cc_hub_now(h);
		cc_hub_count_call(h, T, &call);
		free(rid);

		rc = tx_load(h, id, c);
		if (rc) {
			cc_case_clear(&intent);
			cc_observation_clear(&out);
			return rc == CC_ENOTFOUND ? CC_EOK : rc;
		}
		L = &c->link[T];
		if (r == CC_OK) {
			h->stats.writes++;
			delivery_succeeded(h, T);
			for (size_t f = 0; f < h->cfg->nfields && rc == CC_EOK; f++) {
				if (!w.values[f])
					continue;
				rc = cc_str_set(&L->shadow[f], w.values[f]);
				L->shadow_mtime_s[f] = out.fields[f].present &&
				                               cc_str_cmp(out.fields[f].value, w.values[f]) == 0
				                       ? out.fields[f].mtime_s : 0;
				if (rc == CC_EOK)
					rc = cc_hub_audit(h, c, T, (int)f,
					           is_revert(h->cfg, T, (int)f) ? CC_AUDIT_REVERTED
					                                        : CC_AUDIT_WRITTEN,
					           w.values[f], &c->f[f].ver, 0, NULL);
			}
			L->pending_mask = 0;
			if (stamp)
				L->needs_stamp = false;
			if (out.rv > L->rv)
				L->rv = out.rv;
			e->attempts = 0;
			e->first_ms = cc_hub_now(h); /* dead-letter age counts failures in a row */
		} else if (r == CC_CONFLICT) {
			h->stats.conflicts++;
			L->pending_mask = 0;
			L->needs_read = true;
		} else {
			if (call.outcome_unknown)
				L->needs_read = true;
			else
				L->pending_mask = 0;
		}
		cc_case_clear(&intent);
		cc_observation_clear(&out);
		if (rc) {
			ST(h)->rollback(SS(h));
			cc_case_clear(c);
			return rc;
		}
		if (r == CC_CONFLICT) {
			/* re-read now; back off only if the record keeps changing */
			e->due_ms = cc_hub_now(h);
			if (++e->attempts > CONFLICTS_BEFORE_BACKOFF)
				e->due_ms += backoff_delay(h, e->attempts - CONFLICTS_BEFORE_BACKOFF, 0);
			rc = ST(h)->outbox_put(SS(h), e);
			if (rc == CC_EOK)
				rc = ST(h)->case_save(SS(h), c);
			cc_case_clear(c);
			if (rc) {
				ST(h)->rollback(SS(h));
				return cc_hub_fail(h, rc, "conflict");
			}
			rc = ST(h)->commit(SS(h));
			return rc ? cc_hub_fail(h, rc, "commit") : CC_ERESCHEDULED;
		}
		if (r != CC_OK) {
			rc = ST(h)->case_save(SS(h), c);
			if (rc == CC_EOK)
				rc = delivery_failed(h, e, &call);
			cc_case_clear(c);
			if (rc) {
				ST(h)->rollback(SS(h));
				return rc;
			}
			rc = ST(h)->commit(SS(h));
			return rc ? cc_hub_fail(h, rc, "commit") : CC_ERESCHEDULED;
		}
		rc = ST(h)->outbox_put(SS(h), e);
		if (rc) {
			ST(h)->rollback(SS(h));
			cc_case_clear(c);
			return cc_hub_fail(h, rc, "outbox_put");
		}
		rc = tx_save(h, c);
		if (rc)
			return rc;
	} else {
		ST(h)->rollback(SS(h));
		cc_case_clear(c);
	}
	return deliver_comments(j, id);
}

static int deliver_one(struct job *j)
{
	struct cc_hub *h = j->h;
	struct cc_outbox_entry *e = &j->e;
	struct cc_case c;
	int rc = tx_load(h, e->case_id, &c);
	if (rc == CC_ENOTFOUND)
		return tx_put(h, e, true);
	if (rc)
		return rc;
	/* Queued while the last delivery was given up on: a person's retry
	 * (concord deadletters retry). The mark goes with the next save. */
	c.link[e->system].dead_lettered = false;
	switch (c.link[e->system].status) {
	case CC_LINK_CREATE:
		rc = deliver_create(j, &c);
		break;
	case CC_LINK_LINKED:
		rc = deliver_update(j, &c);
		break;
	default:
		ST(h)->rollback(SS(h));
		cc_case_clear(&c);
		return tx_put(h, e, true);
	}
	if (rc == CC_ERESCHEDULED)
		return CC_EOK;
	if (rc)
		return rc;
	/* Done with this entry unless something is still left to deliver. */
	rc = tx_load(h, e->case_id, &c);
	if (rc == CC_ENOTFOUND)
		return CC_EOK;
	if (rc)
		return rc;
	struct cc_outbox_entry cur;
	bool left = cc_hub_needs_delivery(h, &c, e->system);
	bool exists = ST(h)->outbox_get(SS(h), e->case_id, e->system, &cur) == CC_EOK;
	if (!left && exists)
		rc = ST(h)->outbox_remove(SS(h), e->case_id, e->system);
	cc_case_clear(&c);
	if (rc) {
		ST(h)->rollback(SS(h));
		return cc_hub_fail(h, rc, "outbox_remove");
	}
	return ST(h)->commit(SS(h)) ? cc_hub_fail(h, CC_ESTORE, "commit") : CC_EOK;
}

/* Nothing may go to the system now (a Retry-After, the open breaker). */
static bool held(struct cc_hub *h, int system, int64_t t)
{
	return t < h->sys[system].not_before_ms || t < h->sys[system].open_until_ms;
}

/*
 * The next due entry of the pool's system that no worker has in hand, or
 * false. A store failure ends the round (pool->rc).
 */
static bool take_next(struct cc_hub *h, struct pool *p, struct cc_outbox_entry *out)
{
	/* the workers hold at most nslots - 1 entries besides: one more is free */
	struct cc_outbox_entry due[CC_HUB_SLOTS_MAX + 1];
	size_t n = 0;
	int rc = ST(h)->outbox_due(SS(h), p->system, cc_hub_now(h), due,
	                           h->nslots[p->system] + 1, &n);
	if (rc) {
		p->rc = cc_hub_fail(h, rc, "outbox_due");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		bool taken = false;
		for (size_t k = 0; k < h->nslots[p->system] && !taken; k++)
			taken = p->in_hand[k] == due[i].case_id;
		if (!taken) {
			*out = due[i];
			return true;
		}
	}
	return false;
}

/*
 * A worker of a pool, on its own thread: with the hub held, it takes the
 * next due entry no other worker has in hand and delivers it (letting go
 * of the hub during the connector calls), and again, until nothing is due,
 * the round's entries are spent, the system asks for a pause, or a stop.
 * While a poll of its round still reads, it waits for what the poll brings
 * instead (env.wait), past the round's entries and through a pause.
 */
static void worker_run(struct job *j)
{
	struct cc_hub *h = j->h;
	struct pool *p = j->pool;
	h->env.lock(h->env.ctx);
	while (p->rc == CC_EOK && p->round->rc == CC_EOK && !cc_hub_stopping(h)) {
		bool reading = p->round->polls > 0;
		if (!reading && p->left <= 0)
			break;
		if (p->round->reading[p->system] || held(h, p->system, cc_hub_now(h)) ||
		    !take_next(h, p, &j->e)) {
			if (!reading || p->rc)
				break;
			h->env.wait(h->env.ctx);
			continue;
		}
		p->left--;
		p->in_hand[j->slot] = j->e.case_id;
		uint64_t sent = h->stats.requests[p->system];
		int rc = deliver_one(j);
		p->in_hand[j->slot] = 0;
		p->done++;
		if (rc && p->rc == CC_EOK)
			p->rc = rc;
		/*
		 * a delivery that sent nothing (a create waiting for a poll of its
		 * target) let go of the hub at no point: while polls read, the
		 * next one waits its turn, or thousands of waiting creates taken
		 * one after another would keep the polls they wait for from ever
		 * taking the hub
		 */
		if (reading && h->stats.requests[p->system] == sent)
			h->env.wait(h->env.ctx);
		else if (p->round->polls > 0)
			h->env.wake(h->env.ctx); /* a poll may wait for this one to end */
	}
	h->env.unlock(h->env.ctx);
}

/* True while a worker of s has an entry in hand. */
static bool in_hand(const struct cc_hub *h, const struct round *r, int s)
{
	for (size_t k = 0; k < h->nslots[s] && k < CC_HUB_SLOTS_MAX; k++)
		if (r->pools[s].in_hand[k])
			return true;
	return false;
}

/* True while the poll of another system than s reads in the round. */
static bool others_read(const struct cc_hub *h, const struct round *r, int s)
{
	for (size_t k = 0; k < h->cfg->nsystems; k++)
		if ((int)k != s && r->started[k] && r->reading[k])
			return true;
	return false;
}

/*
 * The poll of a round, on its own thread; the workers hear when it ends.
 * While another poll of the round still reads (a first sync's source), the
 * system is polled again whenever its poll falls due (a create into it
 * waits for a poll of it that began after the case was made: the gate
 * brings that poll forward), its workers waiting meanwhile.
 */
static void poll_job(struct job *j)
{
	struct cc_hub *h = j->h;
	struct round *r = j->round;
	int s = j->poll;
	h->env.lock(h->env.ctx);
	r->started[s] = true;
	int rc = cc_hub_poll_away(h, s);
	r->reading[s] = false;
	h->env.wake(h->env.ctx);
	while (rc == CC_EOK && r->rc == CC_EOK && !cc_hub_stopping(h) && others_read(h, r, s)) {
		if (cc_hub_now(h) < cc_hub_next_poll(h, s)) {
			h->env.wait(h->env.ctx);
			continue;
		}
		/* no record of s is written while its poll reads */
		r->reading[s] = true;
		while (in_hand(h, r, s))
			h->env.wait(h->env.ctx);
		rc = cc_hub_poll_away(h, s);
		r->reading[s] = false;
		h->env.wake(h->env.ctx);
	}
	if (rc && r->rc == CC_EOK)
		r->rc = rc;
	r->polls--;
	h->env.wake(h->env.ctx);
	h->env.unlock(h->env.ctx);
}

/* A job of a round (env.run): a worker, or a poll. */
static void job_run(void *arg)
{
	struct job *j = arg;
	if (j->poll >= 0)
		poll_job(j);
	else
		worker_run(j);
}

/* Deliveries to a system at once: its slots, when the environment runs jobs. */
static size_t pool_width(const struct cc_hub *h, int system)
{
	bool can = h->env.run && h->env.lock && h->env.unlock;
	return can && h->nslots[system] > 1 ? h->nslots[system] : 1;
}

/* One delivery after another through the system's own connector. */
static int deliver_in_turn(struct cc_hub *h, int system, int max, int *done)
{
	*done = 0;
	while (*done < max && !cc_hub_stopping(h)) {
		int64_t t = cc_hub_now(h);
		if (held(h, system, t))
			break;
		struct job j = { .h = h, .cn = &h->conn[system] };
		size_t n = 0;
		int rc = ST(h)->outbox_due(SS(h), system, t, &j.e, 1, &n);
		if (rc)
			return cc_hub_fail(h, rc, "outbox_due");
		if (n == 0)
			break;
		rc = deliver_one(&j);
		if (rc)
			return rc;
		(*done)++;
	}
	return CC_EOK;
}

/*
 * A round's workers for one system, appended at jobs[*n]: as many as
 * entries are due now, up to its slots (every slot when `all`: a poll of
 * the round brings work), each with its own instance.
 */
static int add_workers(struct cc_hub *h, int system, int64_t t, int max, bool all,
                       struct round *r, struct pool *p, struct job *jobs, void **args,
                       size_t *n)
{
	struct cc_outbox_entry due[CC_HUB_SLOTS_MAX];
	size_t k = 0;
	int rc = ST(h)->outbox_due(SS(h), system, t, due, pool_width(h, system), &k);
	if (rc)
		return cc_hub_fail(h, rc, "outbox_due");
	if (all)
		k = pool_width(h, system);
	*p = (struct pool){ .round = r, .system = system, .left = max };
	for (size_t i = 0; i < k; i++, (*n)++) {
		jobs[*n] = (struct job){ .h = h, .cn = &h->slots[system][i], .pool = p, .slot = i,
			                 .poll = -1 };
		args[*n] = &jobs[*n];
	}
	h->sys[system].in_batch = k > 0;
	h->sys[system].batch_counted = false;
	return CC_EOK;
}

/*
 * One round at once: the polls of the systems in poll (jobs first, so
 * that an environment running jobs in turn reads before it delivers), and
 * the workers of every system not in skip that has slots (a polled
 * system's wait until its poll has read its last page: a record is never
 * read by the poll while a worker writes it); *done grows by the
 * deliveries made.
 */
static int round_run(struct cc_hub *h, const bool *poll, const bool *skip, int max, int *done)
{
	size_t ns = h->cfg->nsystems;
	struct round r = { 0 };
	struct pool *pools = calloc(ns, sizeof(*pools));
	r.pools = pools;
	struct job *jobs = calloc(ns * (CC_HUB_SLOTS_MAX + 1), sizeof(*jobs));
	void **args = calloc(ns * (CC_HUB_SLOTS_MAX + 1), sizeof(*args));
	int rc = pools && jobs && args ? CC_EOK : CC_ENOMEM;
	size_t n = 0;
	for (size_t s = 0; rc == CC_EOK && poll && s < ns; s++) {
		if (!poll[s] || (skip && skip[s]))
			continue;
		jobs[n] = (struct job){ .h = h, .poll = (int)s, .round = &r };
		args[n] = &jobs[n];
		n++;
		r.polls++;
		r.reading[s] = true;
	}
	int64_t t = cc_hub_now(h);
	for (size_t s = 0; rc == CC_EOK && s < ns && !cc_hub_stopping(h); s++)
		if (!(skip && skip[s]) && pool_width(h, (int)s) > 1 && !held(h, (int)s, t))
			rc = add_workers(h, (int)s, t, max, r.polls > 0, &r, &pools[s], jobs, args, &n);
	if (rc == CC_EOK && n > 0)
		h->env.run(h->env.ctx, n, job_run, args);
	for (size_t s = 0; pools && s < ns; s++) {
		h->sys[s].in_batch = false;
		*done += pools[s].done;
		if (rc == CC_EOK && pools[s].rc)
			rc = pools[s].rc;
	}
	if (rc == CC_EOK)
		rc = r.rc;
	free(pools);
	free(jobs);
	free(args);
	return rc;
}

int cc_hub_deliver_systems(struct cc_hub *h, const bool *skip, int max, int *delivered)
{
	int total = 0;
	if (delivered)
		*delivered = 0;
	/* systems delivering one at a time, one after another */
	for (size_t s = 0; s < h->cfg->nsystems && !cc_hub_stopping(h); s++) {
		if ((skip && skip[s]) || pool_width(h, (int)s) > 1)
			continue;
		int n = 0;
		int rc = deliver_in_turn(h, (int)s, max, &n);
		total += n;
		if (rc)
			return rc;
	}
	/* the others at once: every worker of every system in one round */
	int rc = round_run(h, NULL, skip, max, &total);
	if (delivered)
		*delivered = total;
	return rc;
}

int cc_hub_poll_and_deliver(struct cc_hub *h, const bool *poll, const bool *skip, int max,
                            int *delivered)
{
	if (delivered)
		*delivered = 0;
	bool others = false;
	for (size_t s = 0; s < h->cfg->nsystems; s++)
		others = others || (!(skip && skip[s]) && pool_width(h, (int)s) > 1);
	if (!others || !h->env.wait || !h->env.wake) {
		/* nobody to deliver while they read: the polls one after another */
		for (size_t s = 0; s < h->cfg->nsystems && !cc_hub_stopping(h); s++) {
			if (!poll[s] || (skip && skip[s]))
				continue;
			int rc = cc_hub_poll(h, (int)s);
			if (rc)
				return rc;
		}
		return CC_EOK;
	}
	int total = 0;
	int rc = round_run(h, poll, skip, max, &total);
	if (delivered)
		*delivered = total;
	return rc;
}

int cc_hub_deliver(struct cc_hub *h, int system, int max, int *delivered)
{
	if (pool_width(h, system) == 1) {
		int n = 0;
		int rc = deliver_in_turn(h, system, max, &n);
		if (delivered)
			*delivered = n;
		return rc;
	}
	bool skip[CC_MAX_SYSTEMS];
	for (size_t s = 0; s < CC_MAX_SYSTEMS; s++)
		skip[s] = (int)s != system;
	return cc_hub_deliver_systems(h, skip, max, delivered);
}
