/*
 * The hub pipeline (see hub.h): ingest, poll and deliver.
 *
 * Transactions: one per observation (journal, merge, shadows and outbox
 * rows together); a delivery commits its intent (pending values, or the
 * create intent) before the remote call and its outcome after it, so that
 * a crash between the two leaves a write of unknown outcome that the next
 * attempt resolves by reading the record (or looking the correlation id
 * up) before it writes again.
 */
#include "core/hub.h"

#include "core/dedup.h"
#include "core/mapping.h"
#include "core/merge.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PAGES_PER_POLL 1000
/* Internal: the entry was rescheduled, nothing more to do now. */
#define CC_ERETRY_LATER 1
#define CONFLICTS_BEFORE_BACKOFF 3

struct sys_runtime {
	struct cc_system_state state;
	int failures;          /* consecutive failed calls */
	int64_t open_until_ms; /* circuit breaker */
	int64_t not_before_ms; /* rate limit: Retry-After */
};

struct cc_hub {
	const struct cc_config *cfg;
	struct cc_store *st;
	struct cc_connector *conn;
	struct cc_hub_env env;
	struct sys_runtime sys[CC_MAX_SYSTEMS];
	struct cc_hub_stats stats;
	char err[256];
};

/* ---- small helpers ---------------------------------------------------- */

static int64_t now(struct cc_hub *h)
{
	return h->env.now_ms(h->env.ctx);
}

#define ST(h) ((h)->st->ops)
#define SS(h) ((h)->st->self)

static int fail(struct cc_hub *h, int rc, const char *what)
{
	snprintf(h->err, sizeof(h->err), "store: %s failed (%d)", what, rc);
	return rc;
}

static int audit(struct cc_hub *h, const struct cc_case *c, int system, int field,
                 enum cc_decision d, const char *value, const struct cc_version *ver,
                 int score, const char *detail)
{
	struct cc_audit_entry e = {
		.at_ms = now(h),
		.case_id = c ? c->id : 0,
		.system = system,
		.field = field,
		.decision = d,
		.value = value,
		.remote_id = (c && system >= 0) ? c->link[system].remote_id : NULL,
		.ver = ver ? *ver : CC_VERSION_UNSET,
		.score = score,
		.detail = detail,
	};
	int rc = ST(h)->audit_append(SS(h), &e);
	if (rc)
		return fail(h, rc, "audit");
	if (h->env.on_audit)
		h->env.on_audit(h->env.ctx, &e);
	return CC_EOK;
}

static void count_call(struct cc_hub *h, int system, const struct cc_call *call)
{
	h->stats.requests[system] += (uint64_t)(call->requests > 0 ? call->requests : 1);
	if (call->has_date)
		cc_offset_sample(&h->sys[system].state.offset, call->date_s, call->sent_ms,
		                 call->recv_ms);
}

static void call_init(struct cc_hub *h, struct cc_call *call)
{
	memset(call, 0, sizeof(*call));
	call->sent_ms = now(h);
	call->recv_ms = call->sent_ms;
}

static int normalize_observation(struct cc_hub *h, struct cc_observation *dst,
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

static struct cc_version field_version(struct cc_hub *h, const struct cc_observation *o, int f)
{
	const struct cc_obs_field *of = &o->fields[f];
	int64_t mt = of->mtime_s ? of->mtime_s : o->mtime_s;
	struct cc_version v = {
		.t_ms = cc_offset_correct(&h->sys[o->system].state.offset, mt),
		.rank = h->cfg->systems[o->system].rank,
		.rv = o->rv,
	};
	return v;
}

static int64_t create_gate(struct cc_hub *h, int system, int64_t from_ms)
{
	return from_ms + h->cfg->create_settle_ms + h->cfg->systems[system].search_lag_ms;
}

/* ---- scheduling ------------------------------------------------------- */

static bool needs_delivery(struct cc_hub *h, const struct cc_case *c, int sys)
{
	const struct cc_link *l = &c->link[sys];
	if (l->status == CC_LINK_CREATE)
		return true;
	if (l->status != CC_LINK_LINKED)
		return false;
	if (l->needs_read)
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
static int schedule(struct cc_hub *h, struct cc_case *c)
{
	int64_t t = now(h);
	for (size_t s = 0; s < h->cfg->nsystems; s++) {
		struct cc_link *l = &c->link[s];
		if (l->status == CC_LINK_NONE && cc_route_allows(h->cfg, c, (int)s)) {
			l->status = CC_LINK_CREATE;
			l->create_not_before_ms = create_gate(h, (int)s, t);
		}
		if (!needs_delivery(h, c, (int)s))
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
			return fail(h, rc, "outbox_get");
		}
		rc = ST(h)->outbox_put(SS(h), &e);
		if (rc)
			return fail(h, rc, "outbox_put");
	}
	return CC_EOK;
}

/* ---- ingest ----------------------------------------------------------- */

static int ingest_comments(struct cc_hub *h, struct cc_case *c, const struct cc_observation *o)
{
	int S = o->system;
	if (!h->cfg->systems[S].comments)
		return CC_EOK;
	for (size_t i = 0; i < o->ncomments; i++) {
		const struct cc_obs_comment *cm = &o->comments[i];
		if (!cm->id || !cm->body || cc_case_find_mirror(c, S, cm->id) >= 0)
			continue;
		uint64_t mcase;
		int morigin;
		char mid[128];
		if (cc_comment_marker_parse(cm->body, &mcase, &morigin, mid, sizeof(mid))) {
			/* Our own mirror: confirm it, never take it as a new comment. */
			long idx = mcase == c->id ? cc_case_find_comment(c, morigin, mid) : -1;
			if (idx >= 0) {
				struct cc_comment *cc = &c->comments[idx];
				if (!cc->mirror_id[S] && cc_str_set(&cc->mirror_id[S], cm->id))
					return CC_ENOMEM;
				cc->unknown_mask &= ~(1u << S);
			}
			continue;
		}
		size_t idx;
		if (cc_case_add_comment(c, S, cm->id, cm->body, cm->author, &idx))
			return CC_ENOMEM;
		int rc = audit(h, c, S, -1, CC_AUDIT_APPLIED, cm->id, NULL, 0, "comment");
		if (rc)
			return rc;
	}
	return CC_EOK;
}

static enum cc_decision decision_of(int merge_result)
{
	switch (merge_result) {
	case CC_MERGE_APPLIED: return CC_AUDIT_APPLIED;
	case CC_MERGE_COVERED: return CC_AUDIT_COVERED;
	case CC_MERGE_LOST: return CC_AUDIT_LOST_CONFLICT;
	case CC_MERGE_REFUSED: return CC_AUDIT_REFUSED;
	case CC_MERGE_PARKED: return CC_AUDIT_PARKED;
	default: return CC_AUDIT_UNMAPPED;
	}
}

/*
 * Diffs an observation against the shadows of its link and merges every
 * real change into the case. The link must already point at the record.
 */
static int apply_observation(struct cc_hub *h, struct cc_case *c, const struct cc_observation *o)
{
	int S = o->system;
	struct cc_link *L = &c->link[S];
	int rc;

	if (L->rv && o->rv < L->rv) {
		h->stats.stale++;
		return audit(h, c, S, -1, CC_AUDIT_STALE, NULL, NULL, 0, "older remote version");
	}
	if (L->rv && o->rv == L->rv) {
		h->stats.duplicates++;
		return CC_EOK;
	}
	if (o->deleted || (L->hub_created && !o->correlation_id)) {
		L->status = CC_LINK_PARKED;
		return audit(h, c, S, -1, CC_AUDIT_ALERT, NULL, NULL, 0,
		             o->deleted ? "record deleted or moved out of scope"
		                        : "correlation id removed");
	}
	bool first_sight = L->rv == 0 && !L->hub_created;
	uint64_t seq;
	rc = ST(h)->journal_append(SS(h), S, o->remote_id, o->rv, now(h), &seq);
	if (rc)
		return fail(h, rc, "journal_append");

	for (size_t f = 0; f < h->cfg->nfields; f++) {
		const struct cc_obs_field *of = &o->fields[f];
		uint32_t bit = 1u << f;
		if (!h->cfg->systems[S].map[f].mapped || !of->present)
			continue;
		const char *v = of->value;
		/* Equal to the shadow: nothing happened, or our own echo; unless
		 * the field was set again since (A -> B -> A between two looks is
		 * a change), which per-field modification times reveal. */
		bool same = L->shadow[f] && strcmp(v, L->shadow[f]) == 0;
		bool touched = same && of->mtime_s && L->shadow_mtime_s[f] &&
		               of->mtime_s > L->shadow_mtime_s[f];
		if (L->pending_mask & bit) {
			if (cc_str_cmp(v, L->pending[f]) == 0) {
				if (cc_str_set(&L->shadow[f], v))
					return CC_ENOMEM;
				L->shadow_mtime_s[f] = of->mtime_s;
				L->pending_mask &= ~bit;
				rc = audit(h, c, S, (int)f, CC_AUDIT_CONFIRMED, v, NULL, 0, NULL);
				if (rc)
					return rc;
				continue;
			}
			if (same && !touched)
				continue; /* not applied, or not visible yet */
			L->pending_mask &= ~bit; /* superseded by someone else's change */
		}
		if (same && !touched) {
			if (!L->shadow_mtime_s[f])
				L->shadow_mtime_s[f] = of->mtime_s;
			continue;
		}
		L->shadow_mtime_s[f] = of->mtime_s;
		char *old = L->shadow[f];
		L->shadow[f] = NULL;
		if (cc_str_set(&L->shadow[f], v)) {
			L->shadow[f] = old;
			return CC_ENOMEM;
		}
		h->stats.changes++;
		struct cc_change ch = {
			.system = S, .field = (int)f, .remote_value = v, .old_shadow = old,
			.ver = field_version(h, o, (int)f),
			.first_sight = first_sight,
		};
		int m = cc_merge(h->cfg, c, &ch);
		free(old);
		if (m < 0)
			return m;
		if (m == CC_MERGE_APPLIED)
			h->stats.applied++;
		rc = audit(h, c, S, (int)f, decision_of(m), v, &ch.ver, 0,
		           of->author ? of->author : NULL);
		if (rc)
			return rc;
	}
	if (o->rv > L->rv)
		L->rv = o->rv;
	return ingest_comments(h, c, o);
}

struct dedup_search {
	struct cc_hub *h;
	int system;
	int64_t raised_ms;
	const char *title;
	const char *caller;
	int best_score;
	uint64_t best_id;
};

static int dedup_visit(void *arg, const struct cc_case *c)
{
	struct dedup_search *ds = arg;
	const struct cc_link *l = &c->link[ds->system];
	if (l->status == CC_LINK_LINKED || l->status == CC_LINK_PARKED)
		return 0;
	const struct cc_config *cfg = ds->h->cfg;
	const char *ctitle = c->f[cfg->dedup_title_field].value;
	const char *ccaller = cfg->dedup_caller_field >= 0 ? c->f[cfg->dedup_caller_field].value : NULL;
	int score = cc_dedup_score(ds->title, ds->caller, ctitle, ccaller);
	if (c->first_title) {
		int first = cc_dedup_score(ds->title, ds->caller, c->first_title, ccaller);
		if (first > score)
			score = first;
	}
	int64_t apart = ds->raised_ms - c->raised_ms;
	apart = apart < 0 ? -apart : apart;
	/* Raised within a minute or two, by titles that begin alike: both
	 * refined since, but the same incident. */
	if (apart <= cfg->dedup_close_ms && score < cfg->dedup_link_score &&
	    (cc_dedup_common_prefix(ds->title, ctitle) >= 4 ||
	     (c->first_title && cc_dedup_common_prefix(ds->title, c->first_title) >= 4)))
		score = cfg->dedup_link_score;
	/* Raised far apart: the same words, perhaps not the same incident.
	 * Never linked automatically; at most flagged for review. */
	if (apart > cfg->dedup_window_ms && score >= cfg->dedup_link_score)
		score = cfg->dedup_link_score - 1;
	if (score > ds->best_score) {
		ds->best_score = score;
		ds->best_id = c->id;
	}
	return 0;
}

/* Inbound value of a field of a new record, canonical terms ("" if none). */
static const char *inbound_value(struct cc_hub *h, const struct cc_observation *o, int f)
{
	if (f < 0 || !o->fields[f].present || !h->cfg->systems[o->system].map[f].mapped)
		return NULL;
	const char *out = NULL;
	if (cc_map_inbound(&h->cfg->systems[o->system].map[f], o->fields[f].value, "", &out) ==
	    CC_MAP_UNMAPPED)
		return NULL;
	return out;
}

/* When a record was raised, as far as its oldest field change tells. */
static int64_t raised_at(struct cc_hub *h, const struct cc_observation *o)
{
	int64_t t = INT64_MAX;
	for (size_t f = 0; f < h->cfg->nfields; f++) {
		if (!o->fields[f].present || !h->cfg->systems[o->system].map[f].mapped)
			continue;
		struct cc_version v = field_version(h, o, (int)f);
		if (v.t_ms < t)
			t = v.t_ms;
	}
	return t == INT64_MAX ? now(h) : t;
}

static int attach(struct cc_hub *h, struct cc_case *c, const struct cc_observation *o,
                  enum cc_decision why, int score)
{
	struct cc_link *L = &c->link[o->system];
	if (cc_str_set(&L->remote_id, o->remote_id))
		return CC_ENOMEM;
	if (L->status == CC_LINK_CREATE && L->create_unknown)
		L->hub_created = true;
	if (why == CC_AUDIT_LINKED && o->correlation_id)
		L->hub_created = true;
	L->status = CC_LINK_LINKED;
	L->create_unknown = false;
	L->rv = 0;
	int rc = audit(h, c, o->system, -1, why, o->remote_id, NULL, score, NULL);
	if (rc)
		return rc;
	return apply_observation(h, c, o);
}

static int new_case(struct cc_hub *h, const struct cc_observation *o, bool review, int score)
{
	struct cc_case c;
	int S = o->system;
	int rc = cc_case_init(&c);
	if (rc)
		return rc;
	rc = ST(h)->case_new(SS(h), &c.id);
	if (rc) {
		rc = fail(h, rc, "case_new");
		goto out;
	}
	c.created_ms = now(h);
	c.raised_ms = raised_at(h, o);
	c.origin_system = S;
	c.review = review;
	struct cc_link *L = &c.link[S];
	rc = CC_ENOMEM;
	if (cc_str_set(&L->remote_id, o->remote_id))
		goto out;
	L->status = CC_LINK_LINKED;
	L->rv = o->rv;
	for (size_t f = 0; f < h->cfg->nfields; f++) {
		const struct cc_obs_field *of = &o->fields[f];
		if (!h->cfg->systems[S].map[f].mapped || !of->present)
			continue;
		if (cc_str_set(&L->shadow[f], of->value))
			goto out;
		L->shadow_mtime_s[f] = of->mtime_s;
		const char *canon = NULL;
		if (cc_map_inbound(&h->cfg->systems[S].map[f], of->value, "", &canon) ==
		    CC_MAP_UNMAPPED) {
			L->unmapped_mask |= 1u << f;
			rc = audit(h, &c, S, (int)f, CC_AUDIT_UNMAPPED, of->value, NULL, 0, NULL);
			if (rc)
				goto out;
			rc = CC_ENOMEM;
			continue;
		}
		if (cc_case_set_value(&c, (int)f, canon))
			goto out;
		c.f[f].ver = field_version(h, o, (int)f);
		c.f[f].origin = S;
	}
	if (h->cfg->dedup_title_field >= 0 &&
	    cc_str_set(&c.first_title, c.f[h->cfg->dedup_title_field].value)) {
		rc = CC_ENOMEM;
		goto out;
	}
	rc = audit(h, &c, S, -1, review ? CC_AUDIT_DEDUP_REVIEW : CC_AUDIT_CASE_CREATED,
	           o->remote_id, NULL, score, NULL);
	if (rc)
		goto out;
	rc = ingest_comments(h, &c, o);
	if (rc)
		goto out;
	rc = schedule(h, &c);
	if (rc)
		goto out;
	rc = ST(h)->case_save(SS(h), &c);
	if (rc)
		rc = fail(h, rc, "case_save");
out:
	cc_case_clear(&c);
	return rc;
}

/* Ingests one normalized observation inside an open transaction. */
static int ingest_locked(struct cc_hub *h, const struct cc_observation *o)
{
	struct cc_case c;
	uint64_t id;
	int rc = ST(h)->link_find(SS(h), o->system, o->remote_id, &id);
	h->stats.observations++;
	if (rc == CC_EOK) {
		rc = ST(h)->case_load(SS(h), id, &c);
		if (rc)
			return fail(h, rc, "case_load");
		rc = apply_observation(h, &c, o);
		goto save;
	}
	if (rc != CC_ENOTFOUND)
		return fail(h, rc, "link_find");
	if (o->deleted)
		return CC_EOK;

	/* A record the hub created (perhaps with an unknown outcome). */
	uint64_t cid;
	if (o->correlation_id && cc_correlation_parse(o->correlation_id, &cid) == CC_EOK &&
	    ST(h)->case_load(SS(h), cid, &c) == CC_EOK) {
		if (c.link[o->system].status == CC_LINK_LINKED ||
		    c.link[o->system].status == CC_LINK_PARKED) {
			rc = audit(h, &c, o->system, -1, CC_AUDIT_ALERT, o->remote_id, NULL, 0,
			           "second record carries the correlation id of a linked case");
			cc_case_clear(&c);
			return rc;
		}
		rc = attach(h, &c, o, CC_AUDIT_LINKED, 100);
		goto save;
	}

	/* A new record: the same incident raised elsewhere, or a new case. */
	struct dedup_search ds = { .h = h, .system = o->system, .best_score = -1,
		                   .raised_ms = raised_at(h, o) };
	if (h->cfg->dedup_title_field >= 0) {
		ds.title = inbound_value(h, o, h->cfg->dedup_title_field);
		ds.caller = inbound_value(h, o, h->cfg->dedup_caller_field);
		if (ds.title && ds.title[0]) {
			/* Cases raised about when this record was (a case is made
			 * after its first record was raised), and older ones still
			 * waiting to be created here. */
			rc = ST(h)->case_scan_recent(SS(h), ds.raised_ms - h->cfg->dedup_window_ms,
			                             dedup_visit, &ds);
			if (rc == CC_EOK)
				rc = ST(h)->case_scan_creating(SS(h), o->system, dedup_visit, &ds);
			if (rc)
				return fail(h, rc, "case scan");
		}
	}
	if (ds.best_score >= h->cfg->dedup_link_score) {
		rc = ST(h)->case_load(SS(h), ds.best_id, &c);
		if (rc)
			return fail(h, rc, "case_load");
		rc = attach(h, &c, o, CC_AUDIT_DEDUP_LINKED, ds.best_score);
		goto save;
	}
	return new_case(h, o, ds.best_score >= h->cfg->dedup_review_score, ds.best_score);

save:
	if (rc == CC_EOK)
		rc = schedule(h, &c);
	if (rc == CC_EOK) {
		rc = ST(h)->case_save(SS(h), &c);
		if (rc)
			rc = fail(h, rc, "case_save");
	}
	cc_case_clear(&c);
	return rc;
}

static int in_transaction(struct cc_hub *h, const struct cc_observation *o)
{
	int rc = ST(h)->begin(SS(h));
	if (rc)
		return fail(h, rc, "begin");
	rc = ingest_locked(h, o);
	if (rc == CC_EOK) {
		rc = ST(h)->commit(SS(h));
		if (rc)
			return fail(h, rc, "commit");
		return CC_EOK;
	}
	ST(h)->rollback(SS(h));
	return rc;
}

static int ingest_normalized(struct cc_hub *h, const struct cc_observation *raw)
{
	struct cc_observation o;
	int rc = normalize_observation(h, &o, raw);
	if (rc)
		return rc;
	rc = in_transaction(h, &o);
	cc_observation_clear(&o);
	return rc;
}

int cc_hub_ingest(struct cc_hub *h, const struct cc_observation *obs)
{
	if (obs->system < 0 || (size_t)obs->system >= h->cfg->nsystems || !obs->remote_id)
		return CC_EINVAL;
	if (cc_offset_known(&h->sys[obs->system].state.offset))
		return ingest_normalized(h, obs);
	/* No clock offset yet: read the record, which measures it. */
	struct cc_connector *cn = &h->conn[obs->system];
	struct cc_observation fresh;
	struct cc_call call;
	cc_observation_init(&fresh);
	call_init(h, &call);
	enum cc_result r = cn->ops->read(cn->self, obs->remote_id, &fresh, &call);
	count_call(h, obs->system, &call);
	int rc = CC_EOK;
	if (r == CC_OK && cc_offset_known(&h->sys[obs->system].state.offset))
		rc = ingest_normalized(h, &fresh);
	cc_observation_clear(&fresh);
	return rc; /* otherwise dropped: polling is the safety net */
}

/* ---- poll ------------------------------------------------------------- */

static int save_state(struct cc_hub *h, int system)
{
	int rc = ST(h)->begin(SS(h));
	if (rc == CC_EOK)
		rc = ST(h)->system_state_save(SS(h), system, &h->sys[system].state);
	if (rc == CC_EOK)
		return ST(h)->commit(SS(h)) ? fail(h, CC_ESTORE, "commit") : CC_EOK;
	ST(h)->rollback(SS(h));
	return fail(h, rc, "system_state_save");
}

int cc_hub_poll(struct cc_hub *h, int system)
{
	struct sys_runtime *rt = &h->sys[system];
	const struct cc_system_def *sd = &h->cfg->systems[system];
	struct cc_connector *cn = &h->conn[system];
	int64_t started = now(h);
	/* No cursor yet: everything the system holds (first start). */
	int64_t since = rt->state.has_cursor ? rt->state.cursor_mtime_s - sd->poll_overlap_s
	                                     : INT64_MIN;
	int64_t newest = rt->state.has_cursor ? rt->state.cursor_mtime_s : INT64_MIN;
	int64_t after_mtime = 0;
	char *after_id = NULL;
	int rc = CC_EOK;
	size_t page_size = sd->page_size ? sd->page_size : 100;

	h->stats.polls++;
	for (int page = 0; page < MAX_PAGES_PER_POLL; page++) {
		struct cc_page pg = { 0 };
		struct cc_call call;
		call_init(h, &call);
		enum cc_result r = cn->ops->list_changes(cn->self, since, after_mtime, after_id,
		                                         page_size, &pg, &call);
		call.recv_ms = now(h);
		count_call(h, system, &call);
		if (r != CC_OK) {
			h->stats.poll_failures++;
			cc_page_clear(&pg);
			free(after_id);
			return CC_EOK; /* cursor unchanged: the next poll covers it */
		}
		for (size_t i = 0; i < pg.nitems && rc == CC_EOK; i++) {
			pg.items[i].system = system;
			rc = ingest_normalized(h, &pg.items[i]);
			if (pg.items[i].mtime_s > newest)
				newest = pg.items[i].mtime_s;
		}
		bool more = pg.more && pg.nitems > 0;
		if (more) {
			struct cc_observation *last = &pg.items[pg.nitems - 1];
			free(after_id);
			after_id = strdup(last->remote_id);
			after_mtime = last->mtime_s;
			if (!after_id)
				rc = CC_ENOMEM;
		}
		cc_page_clear(&pg);
		if (rc || !more)
			break;
	}
	free(after_id);
	if (rc)
		return rc;
	if (newest != INT64_MIN) {
		rt->state.cursor_mtime_s = newest;
		rt->state.has_cursor = true;
	}
	rt->state.last_poll_start_ms = started;
	return save_state(h, system);
}

/* ---- deliver ---------------------------------------------------------- */

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

/* Records a failed call on an outbox entry: backoff, breaker, dead letter. */
static int delivery_failed(struct cc_hub *h, struct cc_outbox_entry *e,
                           const struct cc_call *call)
{
	struct sys_runtime *rt = &h->sys[e->system];
	int64_t t = now(h);
	h->stats.retries++;
	if (call->retry_after_ms > 0) {
		rt->not_before_ms = t + call->retry_after_ms; /* asked to wait: not a failure */
	} else if (++rt->failures >= h->cfg->breaker_failures) {
		rt->open_until_ms = t + h->cfg->breaker_open_ms;
	}
	if (call->result == CC_ERROR || t - e->first_ms > h->cfg->dead_letter_after_ms) {
		struct cc_dead_letter d = { .case_id = e->case_id, .system = e->system, .at_ms = t };
		snprintf(d.reason, sizeof(d.reason), "%s",
		         call->reason[0] ? call->reason : "retried too long");
		int rc = ST(h)->dead_letter_put(SS(h), &d);
		if (rc == CC_EOK)
			rc = ST(h)->outbox_remove(SS(h), e->case_id, e->system);
		if (rc)
			return fail(h, rc, "dead_letter_put");
		h->stats.dead_letters++;
		struct cc_audit_entry a = { .at_ms = t, .case_id = e->case_id, .system = e->system,
		                            .field = -1, .decision = CC_AUDIT_DEAD_LETTER,
		                            .detail = d.reason, .ver = CC_VERSION_UNSET };
		rc = ST(h)->audit_append(SS(h), &a);
		if (rc)
			return fail(h, rc, "audit");
		if (h->env.on_audit)
			h->env.on_audit(h->env.ctx, &a);
		return CC_EOK;
	}
	e->due_ms = t + backoff_delay(h, e->attempts, call->retry_after_ms);
	e->attempts++;
	int rc = ST(h)->outbox_put(SS(h), e);
	return rc ? fail(h, rc, "outbox_put") : CC_EOK;
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
		return fail(h, rc, "begin");
	rc = ST(h)->case_load(SS(h), id, c);
	if (rc) {
		ST(h)->rollback(SS(h));
		return rc == CC_ENOTFOUND ? rc : fail(h, rc, "case_load");
	}
	return CC_EOK;
}

/* Saves the case, reschedules it, commits. Always clears c. */
static int tx_save(struct cc_hub *h, struct cc_case *c)
{
	int rc = schedule(h, c);
	if (rc == CC_EOK) {
		rc = ST(h)->case_save(SS(h), c);
		if (rc)
			rc = fail(h, rc, "case_save");
	}
	if (rc == CC_EOK) {
		rc = ST(h)->commit(SS(h));
		if (rc)
			rc = fail(h, rc, "commit");
	} else {
		ST(h)->rollback(SS(h));
	}
	cc_case_clear(c);
	return rc;
}

static int tx_fail(struct cc_hub *h, struct cc_outbox_entry *e, const struct cc_call *call)
{
	int rc = ST(h)->begin(SS(h));
	if (rc)
		return fail(h, rc, "begin");
	rc = delivery_failed(h, e, call);
	if (rc) {
		ST(h)->rollback(SS(h));
		return rc;
	}
	return ST(h)->commit(SS(h)) ? fail(h, CC_ESTORE, "commit") : CC_EOK;
}

static int tx_put(struct cc_hub *h, const struct cc_outbox_entry *e, bool remove)
{
	int rc = ST(h)->begin(SS(h));
	if (rc)
		return fail(h, rc, "begin");
	rc = remove ? ST(h)->outbox_remove(SS(h), e->case_id, e->system)
	            : ST(h)->outbox_put(SS(h), e);
	if (rc) {
		ST(h)->rollback(SS(h));
		return fail(h, rc, "outbox");
	}
	return ST(h)->commit(SS(h)) ? fail(h, CC_ESTORE, "commit") : CC_EOK;
}

/* After a read of a record whose last write had an unknown outcome. */
static int resolve_unknown(struct cc_hub *h, uint64_t id, int sys, const struct cc_observation *o)
{
	struct cc_case c;
	int rc = tx_load(h, id, &c);
	if (rc)
		return rc == CC_ENOTFOUND ? CC_EOK : rc;
	rc = apply_observation(h, &c, o);
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

static int deliver_create(struct cc_hub *h, struct cc_case *c, struct cc_outbox_entry *e)
{
	int T = e->system;
	struct cc_link *L = &c->link[T];
	struct cc_connector *cn = &h->conn[T];
	int64_t t = now(h);
	char corr[64];
	int rc;
	cc_correlation_format(corr, sizeof(corr), c->id);

	/* Wait for a poll of T that would have shown a twin raised there. */
	if (t < L->create_not_before_ms ||
	    h->sys[T].state.last_poll_start_ms < L->create_not_before_ms) {
		int64_t due = L->create_not_before_ms;
		int64_t next_poll = t + h->cfg->systems[T].poll_interval_ms;
		e->due_ms = due > t ? due : next_poll;
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
		call_init(h, &call);
		enum cc_result r = cn->ops->find_by_correlation(cn->self, corr, &found_obs, &found, &call);
		call.recv_ms = now(h);
		count_call(h, T, &call);
		uint64_t id = c->id;
		cc_case_clear(c);
		if (r != CC_OK) {
			cc_observation_clear(&found_obs);
			return tx_fail(h, e, &call);
		}
		if (found) {
			found_obs.system = T;
			rc = ingest_normalized(h, &found_obs);
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
	call_init(h, &call);
	enum cc_result r = cn->ops->create(cn->self, &w, &out, &call);
	call.recv_ms = now(h);
	count_call(h, T, &call);
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
			rc = attach(h, c, &out, CC_AUDIT_CREATED_REMOTE, 0);
		} else {
			rc = audit(h, c, T, -1, CC_AUDIT_ALERT, out.remote_id, NULL, 0,
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

static int deliver_comments(struct cc_hub *h, uint64_t id, struct cc_outbox_entry *e)
{
	int T = e->system;
	struct cc_connector *cn = &h->conn[T];
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
			return fail(h, rc, "comment intent");
		}
		cc_case_clear(&c);

		char *new_id = NULL;
		struct cc_call call;
		call_init(h, &call);
		enum cc_result r = cn->ops->add_comment(cn->self, remote_id, body, &new_id, &call);
		call.recv_ms = now(h);
		count_call(h, T, &call);
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
				rc = audit(h, &c, T, -1, CC_AUDIT_COMMENT_MIRRORED, new_id, NULL, 0, NULL);
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
		return rc ? fail(h, rc, "commit") : CC_ERETRY_LATER;
	}
}

static bool is_revert(const struct cc_config *cfg, int sys, int f)
{
	const struct cc_field_def *fd = &cfg->fields[f];
	return fd->policy == CC_POLICY_OWNER && fd->owner != sys;
}

static int deliver_update(struct cc_hub *h, struct cc_case *c, struct cc_outbox_entry *e)
{
	int T = e->system;
	struct cc_link *L = &c->link[T];
	struct cc_connector *cn = &h->conn[T];
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
		call_init(h, &call);
		enum cc_result r = cn->ops->read(cn->self, rid, &o, &call);
		call.recv_ms = now(h);
		count_call(h, T, &call);
		free(rid);
		if (r != CC_OK) {
			cc_observation_clear(&o);
			return tx_fail(h, e, &call);
		}
		o.system = T;
		struct cc_observation n;
		rc = normalize_observation(h, &n, &o);
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
	for (size_t f = 0; f < h->cfg->nfields; f++) {
		if (!(unmapped & (1u << f)))
			continue;
		rc = audit(h, c, T, (int)f, CC_AUDIT_UNMAPPED, c->f[f].value, NULL, 0,
		           "no mapping for the case value: not written");
		if (rc) {
			ST(h)->rollback(SS(h));
			cc_case_clear(c);
			return rc;
		}
	}
	if (n > 0) {
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
		struct cc_write w = { .remote_id = NULL, .expected_rv = L->rv };
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
			return rc == CC_ENOMEM ? rc : fail(h, rc, "write intent");
		}

		struct cc_observation out;
		struct cc_call call;
		cc_observation_init(&out);
		call_init(h, &call);
		enum cc_result r = cn->ops->update(cn->self, &w, &out, &call);
		call.recv_ms = now(h);
		count_call(h, T, &call);
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
					rc = audit(h, c, T, (int)f,
					           is_revert(h->cfg, T, (int)f) ? CC_AUDIT_REVERTED
					                                        : CC_AUDIT_WRITTEN,
					           w.values[f], &c->f[f].ver, 0, NULL);
			}
			L->pending_mask = 0;
			if (out.rv > L->rv)
				L->rv = out.rv;
			e->attempts = 0;
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
			e->due_ms = now(h);
			if (++e->attempts > CONFLICTS_BEFORE_BACKOFF)
				e->due_ms += backoff_delay(h, e->attempts - CONFLICTS_BEFORE_BACKOFF, 0);
			rc = ST(h)->outbox_put(SS(h), e);
			if (rc == CC_EOK)
				rc = ST(h)->case_save(SS(h), c);
			cc_case_clear(c);
			if (rc) {
				ST(h)->rollback(SS(h));
				return fail(h, rc, "conflict");
			}
			rc = ST(h)->commit(SS(h));
			return rc ? fail(h, rc, "commit") : CC_ERETRY_LATER;
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
			return rc ? fail(h, rc, "commit") : CC_ERETRY_LATER;
		}
		rc = ST(h)->outbox_put(SS(h), e);
		if (rc) {
			ST(h)->rollback(SS(h));
			cc_case_clear(c);
			return fail(h, rc, "outbox_put");
		}
		rc = tx_save(h, c);
		if (rc)
			return rc;
	} else {
		ST(h)->rollback(SS(h));
		cc_case_clear(c);
	}
	return deliver_comments(h, id, e);
}

static int deliver_one(struct cc_hub *h, struct cc_outbox_entry *e)
{
	struct cc_case c;
	int rc = tx_load(h, e->case_id, &c);
	if (rc == CC_ENOTFOUND)
		return tx_put(h, e, true);
	if (rc)
		return rc;
	switch (c.link[e->system].status) {
	case CC_LINK_CREATE:
		rc = deliver_create(h, &c, e);
		break;
	case CC_LINK_LINKED:
		rc = deliver_update(h, &c, e);
		break;
	default:
		ST(h)->rollback(SS(h));
		cc_case_clear(&c);
		return tx_put(h, e, true);
	}
	if (rc == CC_ERETRY_LATER)
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
	bool left = needs_delivery(h, &c, e->system);
	bool exists = ST(h)->outbox_get(SS(h), e->case_id, e->system, &cur) == CC_EOK;
	if (!left && exists)
		rc = ST(h)->outbox_remove(SS(h), e->case_id, e->system);
	cc_case_clear(&c);
	if (rc) {
		ST(h)->rollback(SS(h));
		return fail(h, rc, "outbox_remove");
	}
	return ST(h)->commit(SS(h)) ? fail(h, CC_ESTORE, "commit") : CC_EOK;
}

int cc_hub_deliver(struct cc_hub *h, int system, int max, int *delivered)
{
	struct sys_runtime *rt = &h->sys[system];
	int done = 0;
	if (delivered)
		*delivered = 0;
	while (done < max) {
		int64_t t = now(h);
		if (t < rt->not_before_ms || t < rt->open_until_ms)
			break;
		struct cc_outbox_entry e;
		int rc = ST(h)->outbox_next(SS(h), system, t, &e);
		if (rc == CC_ENOTFOUND)
			break;
		if (rc)
			return fail(h, rc, "outbox_next");
		rc = deliver_one(h, &e);
		if (rc)
			return rc;
		done++;
	}
	if (delivered)
		*delivered = done;
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
	struct cc_hub *h = calloc(1, sizeof(*h));
	if (!h)
		return CC_ENOMEM;
	h->cfg = cfg;
	h->st = store;
	h->conn = connectors;
	h->env = *env;
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

void cc_hub_destroy(struct cc_hub *h)
{
	free(h);
}

const struct cc_hub_stats *cc_hub_stats(const struct cc_hub *h)
{
	return &h->stats;
}

const char *cc_hub_last_error(const struct cc_hub *h)
{
	return h->err;
}
