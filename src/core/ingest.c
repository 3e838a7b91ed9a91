/*
 * Ingest: one observation into its case, in one transaction (DESIGN
 * section 4): stale and duplicate checks by remote version, the diff
 * against the shadow, pending writes confirmed, merge, comments, and for a
 * record never seen before: its correlation id, the duplicate score, or a
 * new case.
 */
#include "core/hub_internal.h"

#include "core/dedup.h"
#include "core/mapping.h"
#include "core/merge.h"

#include <stdlib.h>
#include <string.h>


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
		int rc = cc_hub_audit(h, c, S, -1, CC_AUDIT_APPLIED, cm->id, NULL, 0, "comment");
		if (rc)
			return rc;
	}
	return CC_EOK;
}

/* True when a mapped field of the observation holds another value than its shadow. */
static bool differs_from_shadows(struct cc_hub *h, const struct cc_link *L,
                                 const struct cc_observation *o)
{
	for (size_t f = 0; f < h->cfg->nfields; f++) {
		const struct cc_obs_field *of = &o->fields[f];
		if (!h->cfg->systems[o->system].map[f].mapped || !of->present)
			continue;
		if (!L->shadow[f] || !of->value || strcmp(of->value, L->shadow[f]) != 0)
			return true;
	}
	return false;
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
 * The record of observation o as it is now, read through its connector,
 * into *norm (normalized, owned by the caller; the read also samples the
 * clock). Returns CC_EOK, or an error when the read failed.
 */
static int read_now(struct cc_hub *h, const struct cc_observation *o, struct cc_observation *norm)
{
	struct cc_connector *cn = &h->conn[o->system];
	struct cc_observation fresh;
	struct cc_call call;
	cc_observation_init(&fresh);
	cc_hub_call_init(h, &call);
	enum cc_result r = cn->ops->read(cn->self, o->remote_id, &fresh, &call);
	call.recv_ms = cc_hub_now(h);
	cc_hub_count_call(h, o->system, &call);
	int rc = CC_ENOTFOUND; /* no answer: not read */
	if (r == CC_OK) {
		fresh.system = o->system;
		rc = cc_hub_normalize(h, norm, &fresh);
	}
	cc_observation_clear(&fresh);
	return rc;
}

static int apply_observation(struct cc_hub *h, struct cc_case *c, const struct cc_observation *o,
                             bool verified);

/*
 * Diffs an observation against the shadows of its link and merges every
 * real change into the case. The link must already point at the record.
 */
int cc_hub_apply_observation(struct cc_hub *h, struct cc_case *c, const struct cc_observation *o)
{
	return apply_observation(h, c, o, false);
}

/* verified: o is the third read of a version two reads disagreed on. */
static int apply_observation(struct cc_hub *h, struct cc_case *c, const struct cc_observation *o,
                             bool verified)
{
	int S = o->system;
	struct cc_link *L = &c->link[S];
	int rc;

	if (L->rv && o->rv < L->rv) {
		h->stats.stale++;
		return cc_hub_audit(h, c, S, -1, CC_AUDIT_STALE, NULL, NULL, 0, "older remote version");
	}
	/*
	 * The same remote version once more is a duplicate only when it says
	 * what the shadows hold. A record read in several requests (RT: the
	 * ticket, then its history) can be torn: values from before a change
	 * with the version from after it, or the other way round. When two
	 * reads of one version disagree, either may be the torn one: a third
	 * read settles it. If it shows that version again with the shadows'
	 * values, the observation was torn and is dropped; with other values,
	 * the earlier read was torn and they win the tie (merge.c); a newer
	 * version is simply merged. Only if that read fails is the
	 * observation taken as it is.
	 */
	bool reread = L->rv && o->rv == L->rv;
	if (reread && !differs_from_shadows(h, L, o)) {
		h->stats.duplicates++;
		return CC_EOK;
	}
	if (reread && !verified) {
		struct cc_observation again;
		if (read_now(h, o, &again) == CC_EOK) {
			rc = apply_observation(h, c, &again, true);
			cc_observation_clear(&again);
			return rc;
		}
	}
	if (o->deleted || (L->hub_created && !o->correlation_id)) {
		L->status = CC_LINK_PARKED;
		return cc_hub_audit(h, c, S, -1, CC_AUDIT_ALERT, NULL, NULL, 0,
		             o->deleted ? "record deleted or moved out of scope"
		                        : "correlation id removed");
	}
	bool first_sight = L->rv == 0 && !L->hub_created;
	if (L->needs_stamp && o->correlation_id) {
		uint64_t cid;
		if (cc_hub_correlation_parse(h, o->correlation_id, &cid) == CC_EOK && cid == c->id)
			L->needs_stamp = false;
	}
	uint64_t seq;
	rc = ST(h)->journal_append(SS(h), S, o->remote_id, o->rv, cc_hub_now(h), &seq);
	if (rc)
		return cc_hub_fail(h, rc, "journal_append");
	cc_hub_crash_point(h, "ingest-journaled");

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
		const char *iu = h->cfg->systems[S].integration_user;
		/*
		 * Set by the integration user, with the field's own change time (a
		 * field history: Jira's changelog, ServiceNow's audit, RT's and
		 * Redmine's transactions; not a record's last editor, which may
		 * have changed another field), while a write of this field is of
		 * unknown outcome (a step of a write that took several requests:
		 * Jira's transitions on the way to a status, cut short), or held
		 * since concord created the record (a create whose status could not
		 * follow): concord's own write as the system shows it, never a
		 * person's change. It is what the system holds (the shadow), the
		 * case keeps its value, and the projection writes that again where
		 * the two differ. A later edit made with the account is a change.
		 */
		bool ours_exact = iu && of->author && of->mtime_s && strcmp(of->author, iu) == 0;
		/* ... and outside a write of unknown outcome, only a value the record
		 * has held since concord created it (a person may use the account) */
		bool ours_since_create = ours_exact && o->created_s && of->mtime_s <= o->created_s;
		bool was_pending = L->pending_mask & bit;
		if (was_pending) {
			/* A person may set the very value a stale write of ours
			 * carried: that is their change, not our confirmation. */
			bool ours = !iu || !of->author || strcmp(of->author, iu) == 0;
			if (ours && cc_str_cmp(v, L->pending[f]) == 0) {
				if (cc_str_set(&L->shadow[f], v))
					return CC_ENOMEM;
				L->shadow_mtime_s[f] = of->mtime_s;
				L->pending_mask &= ~bit;
				rc = cc_hub_audit(h, c, S, (int)f, CC_AUDIT_CONFIRMED, v, NULL, 0, NULL);
				if (rc)
					return rc;
				continue;
			}
			if (same && !touched)
				continue; /* not applied, or not visible yet */
			/* superseded by someone else's change, or by a step of our
			 * own write, cut short (ours_exact, below) */
			L->pending_mask &= ~bit;
		}
		if ((was_pending ? ours_exact : ours_since_create) && !(same && !touched)) {
			if (cc_str_set(&L->shadow[f], v))
				return CC_ENOMEM;
			L->shadow_mtime_s[f] = of->mtime_s;
			rc = cc_hub_audit(h, c, S, (int)f, CC_AUDIT_ECHO, v, NULL, 0,
			                  "set by the integration user: not a change");
			if (rc)
				return rc;
			continue;
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
			.ver = cc_hub_field_version(h, o, (int)f),
			.first_sight = first_sight,
			.reread = reread,
		};
		int m = cc_merge(h->cfg, c, &ch);
		free(old);
		if (m < 0)
			return m;
		if (m == CC_MERGE_APPLIED)
			h->stats.applied++;
		rc = cc_hub_audit(h, c, S, (int)f, decision_of(m), v, &ch.ver, 0,
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
	    (cc_dedup_common_prefix(ds->title, ctitle) >= (size_t)cfg->dedup_close_words ||
	     (c->first_title && cc_dedup_common_prefix(ds->title, c->first_title) >=
	                                (size_t)cfg->dedup_close_words)))
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

/* When a record was raised: its creation time, or else as far as its
 * oldest field change tells. */
static int64_t raised_at(struct cc_hub *h, const struct cc_observation *o)
{
	if (o->created_s)
		return cc_offset_correct(&h->sys[o->system].state.offset, o->created_s);
	int64_t t = INT64_MAX;
	for (size_t f = 0; f < h->cfg->nfields; f++) {
		if (!o->fields[f].present || !h->cfg->systems[o->system].map[f].mapped)
			continue;
		struct cc_version v = cc_hub_field_version(h, o, (int)f);
		if (v.t_ms < t)
			t = v.t_ms;
	}
	return t == INT64_MAX ? cc_hub_now(h) : t;
}

int cc_hub_attach(struct cc_hub *h, struct cc_case *c, const struct cc_observation *o,
                  enum cc_decision why, int score)
{
	struct cc_link *L = &c->link[o->system];
	if (cc_str_set(&L->remote_id, o->remote_id))
		return CC_ENOMEM;
	/* Ours when it carries our correlation id or answered our create;
	 * a person's twin found by the duplicate score is not. */
	L->hub_created = (why == CC_AUDIT_LINKED && o->correlation_id) ||
	                 why == CC_AUDIT_CREATED_REMOTE;
	L->needs_stamp = h->cfg->systems[o->system].stamp_correlation && !o->correlation_id;
	L->status = CC_LINK_LINKED;
	L->create_unknown = false;
	L->dead_lettered = false; /* a create given up on, found made by hand */
	L->rv = 0;
	int rc = cc_hub_audit(h, c, o->system, -1, why, o->remote_id, NULL, score, NULL);
	if (rc)
		return rc;
	return cc_hub_apply_observation(h, c, o);
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
		rc = cc_hub_fail(h, rc, "case_new");
		goto out;
	}
	c.created_ms = cc_hub_now(h);
	c.raised_ms = raised_at(h, o);
	c.origin_system = S;
	c.review = review;
	struct cc_link *L = &c.link[S];
	rc = CC_ENOMEM;
	if (cc_str_set(&L->remote_id, o->remote_id))
		goto out;
	L->status = CC_LINK_LINKED;
	L->rv = o->rv;
	L->needs_stamp = h->cfg->systems[S].stamp_correlation && !o->correlation_id;
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
			rc = cc_hub_audit(h, &c, S, (int)f, CC_AUDIT_UNMAPPED, of->value, NULL, 0, NULL);
			if (rc)
				goto out;
			rc = CC_ENOMEM;
			continue;
		}
		if (cc_case_set_value(&c, (int)f, canon))
			goto out;
		c.f[f].ver = cc_hub_field_version(h, o, (int)f);
		c.f[f].origin = S;
	}
	if (h->cfg->dedup_title_field >= 0 &&
	    cc_str_set(&c.first_title, c.f[h->cfg->dedup_title_field].value)) {
		rc = CC_ENOMEM;
		goto out;
	}
	rc = cc_hub_audit(h, &c, S, -1, review ? CC_AUDIT_DEDUP_REVIEW : CC_AUDIT_CASE_CREATED,
	           o->remote_id, NULL, score, NULL);
	if (rc)
		goto out;
	rc = ingest_comments(h, &c, o);
	if (rc)
		goto out;
	rc = cc_hub_schedule(h, &c);
	if (rc)
		goto out;
	rc = ST(h)->case_save(SS(h), &c);
	if (rc)
		rc = cc_hub_fail(h, rc, "case_save");
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
	if (o->system >= 0 && o->system < CC_MAX_SYSTEMS)
		h->stats.observations_of[o->system]++;
	if (rc == CC_EOK) {
		rc = ST(h)->case_load(SS(h), id, &c);
		if (rc)
			return cc_hub_fail(h, rc, "case_load");
		rc = cc_hub_apply_observation(h, &c, o);
		goto save;
	}
	if (rc != CC_ENOTFOUND)
		return cc_hub_fail(h, rc, "link_find");
	if (o->deleted)
		return CC_EOK;

	/* A record the hub created (perhaps with an unknown outcome). */
	uint64_t cid;
	if (o->correlation_id && cc_hub_correlation_parse(h, o->correlation_id, &cid) == CC_EOK &&
	    ST(h)->case_load(SS(h), cid, &c) == CC_EOK) {
		if (c.link[o->system].status == CC_LINK_LINKED ||
		    c.link[o->system].status == CC_LINK_PARKED) {
			rc = cc_hub_audit(h, &c, o->system, -1, CC_AUDIT_ALERT, o->remote_id, NULL, 0,
			           "second record carries the correlation id of a linked case");
			cc_case_clear(&c);
			return rc;
		}
		rc = cc_hub_attach(h, &c, o, CC_AUDIT_LINKED, 100);
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
			                             o->system, dedup_visit, &ds);
			if (rc == CC_EOK)
				rc = ST(h)->case_scan_creating(SS(h), o->system, dedup_visit, &ds);
			if (rc)
				return cc_hub_fail(h, rc, "case scan");
		}
	}
	if (ds.best_score >= h->cfg->dedup_link_score) {
		rc = ST(h)->case_load(SS(h), ds.best_id, &c);
		if (rc)
			return cc_hub_fail(h, rc, "case_load");
		rc = cc_hub_attach(h, &c, o, CC_AUDIT_DEDUP_LINKED, ds.best_score);
		goto save;
	}
	return new_case(h, o, ds.best_score >= h->cfg->dedup_review_score, ds.best_score);

save:
	if (rc == CC_EOK)
		rc = cc_hub_schedule(h, &c);
	if (rc == CC_EOK) {
		rc = ST(h)->case_save(SS(h), &c);
		if (rc)
			rc = cc_hub_fail(h, rc, "case_save");
	}
	cc_case_clear(&c);
	return rc;
}

static int in_transaction(struct cc_hub *h, const struct cc_observation *o)
{
	int rc = ST(h)->begin(SS(h));
	if (rc)
		return cc_hub_fail(h, rc, "begin");
	rc = ingest_locked(h, o);
	if (rc == CC_EOK) {
		cc_hub_crash_point(h, "ingest-before-commit");
		rc = ST(h)->commit(SS(h));
		if (rc)
			return cc_hub_fail(h, rc, "commit");
		return CC_EOK;
	}
	ST(h)->rollback(SS(h));
	return rc;
}

int cc_hub_ingest_normalized(struct cc_hub *h, const struct cc_observation *raw)
{
	struct cc_observation o;
	int rc = cc_hub_normalize(h, &o, raw);
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
		return cc_hub_ingest_normalized(h, obs);
	/* No clock offset yet: read the record, which measures it. */
	struct cc_observation fresh;
	int rc = read_now(h, obs, &fresh);
	if (rc)
		return CC_EOK; /* dropped: polling is the safety net */
	if (cc_offset_known(&h->sys[obs->system].state.offset))
		rc = in_transaction(h, &fresh);
	cc_observation_clear(&fresh);
	return rc; /* otherwise dropped: polling is the safety net */
}

int cc_hub_ingest_batch(struct cc_hub *h, const struct cc_observation *obs, size_t n)
{
	struct cc_observation *norm = calloc(n ? n : 1, sizeof(*norm));
	bool *batched = calloc(n ? n : 1, sizeof(*batched));
	size_t nnorm = 0;
	int rc = CC_EOK;
	if (!norm || !batched) {
		rc = CC_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && rc == CC_EOK; i++) {
		const struct cc_observation *o = &obs[i];
		if (o->system < 0 || (size_t)o->system >= h->cfg->nsystems || !o->remote_id ||
		    !cc_offset_known(&h->sys[o->system].state.offset))
			continue;
		rc = cc_hub_normalize(h, &norm[nnorm++], o);
		batched[i] = true;
	}
	if (rc)
		goto out;
	if (nnorm) {
		rc = ST(h)->begin(SS(h));
		if (rc) {
			rc = cc_hub_fail(h, rc, "begin");
			goto out;
		}
		for (size_t i = 0; i < nnorm && rc == CC_EOK; i++) {
			if (i == nnorm / 2)
				cc_hub_crash_point(h, "batch-middle");
			rc = ingest_locked(h, &norm[i]);
		}
		if (rc == CC_EOK) {
			cc_hub_crash_point(h, "ingest-before-commit");
			rc = ST(h)->commit(SS(h));
			if (rc)
				rc = cc_hub_fail(h, rc, "commit");
		}
		if (rc) {
			ST(h)->rollback(SS(h));
			goto out;
		}
	}
	/* Systems whose clock is not measured yet: one by one, read first. */
	for (size_t i = 0; i < n && rc == CC_EOK; i++)
		if (!batched[i])
			rc = cc_hub_ingest(h, &obs[i]);
out:
	for (size_t i = 0; i < nnorm; i++)
		cc_observation_clear(&norm[i]);
	free(norm);
	free(batched);
	return rc;
}
