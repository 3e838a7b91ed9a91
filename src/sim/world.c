/*
 * The simulated world (see world.h): virtual systems, their connector
 * implementation, webhooks and fault injection.
 */
#include "sim/world.h"
#include "sim/webhooks.h"

#include "sim/scenario.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fault_names[] = {
	"delay", "duplicate", "reorder", "drop", "overlap", "ratelimit",
	"5xx", "timeout", "crash", "partition", "skew", "lag", "torn",
};

const char *sim_fault_name(uint32_t bit)
{
	for (size_t i = 0; i < sizeof(fault_names) / sizeof(fault_names[0]); i++)
		if (bit == 1u << i)
			return fault_names[i];
	return "?";
}

uint32_t sim_fault_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(fault_names) / sizeof(fault_names[0]); i++)
		if (strcmp(name, fault_names[i]) == 0)
			return 1u << i;
	return 0;
}

uint64_t sim_claim_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static bool active(const struct sim_world *w, uint32_t fault)
{
	return w->faults_active && (w->faults & fault);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

int64_t sim_clock_ms(const struct sim_world *w, int sys)
{
	return w->now + w->sys[sys].skew_ms;
}

static int64_t clock_s(const struct sim_world *w, int sys)
{
	return floor_div(sim_clock_ms(w, sys), 1000);
}

static char *xstrdup(struct sim_world *w, const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		w->oom++;
	return d;
}

static void replace(struct sim_world *w, char **slot, const char *v)
{
	char *n = xstrdup(w, v);
	if (n) {
		free(*slot);
		*slot = n;
	}
}

/* ---- records ---------------------------------------------------------- */

/*
 * A Jira-like issue holds a resolution only while Done: in any other status
 * the field is absent from what it shows (as the Jira connector reads it),
 * not empty.
 */
static bool resolution_hidden(enum sim_kind k, const struct sim_record *r, int f)
{
	return k == SIM_KIND_JIRA && f == SF_CLASSIFICATION &&
	       !sim_state_needs_classification(k, r->val[SF_STATE]);
}

int sim_record_observe(const struct sim_world *w, int sys, int rec, struct cc_observation *out)
{
	const struct sim_system *s = &w->sys[sys];
	const struct sim_record *r = &s->recs[rec];
	int rc = 0;
	cc_observation_init(out);
	out->system = sys;
	out->rv = r->rv;
	out->mtime_s = r->mtime_s;
	out->created_s = r->created_s;
	out->remote_id = strdup(r->id);
	out->correlation_id = r->corr ? strdup(r->corr) : NULL;
	if (!out->remote_id || (r->corr && !out->correlation_id))
		rc = -1;
	for (int f = 0; f < SF__COUNT && !rc; f++)
		if (sim_kind_carries(s->kind, f) && !resolution_hidden(s->kind, r, f))
			rc = cc_observation_set(out, f, r->val[f] ? r->val[f] : "", r->fmtime_s[f],
			                        r->fauthor[f]);
	for (size_t c = 0; c < r->ncomments && !rc; c++)
		rc = cc_observation_add_comment(out, r->comments[c].id, r->comments[c].body,
		                                r->comments[c].author, r->comments[c].created_s);
	if (rc) {
		cc_observation_clear(out);
		return CC_ENOMEM;
	}
	return 0;
}

int sim_find_record(const struct sim_world *w, int sys, const char *remote_id)
{
	const struct sim_system *s = &w->sys[sys];
	/* ids are "<prefix><index+1>" zero-padded; fall back to a scan */
	for (size_t i = 0; i < s->nrecs; i++)
		if (strcmp(s->recs[i].id, remote_id) == 0)
			return (int)i;
	return -1;
}

static void push_webhook(struct sim_world *w, int sys, const struct cc_observation *o)
{
	if (w->nwh == w->capwh) {
		size_t cap = w->capwh ? w->capwh * 2 : 64;
		struct sim_webhook *n = realloc(w->wh, cap * sizeof(*n));
		if (!n) {
			w->oom++;
			return;
		}
		w->wh = n;
		w->capwh = cap;
	}
	struct sim_webhook *h = &w->wh[w->nwh];
	if (cc_observation_copy(&h->obs, o)) {
		w->oom++;
		return;
	}
	int64_t delay = 1000;
	if (active(w, SIM_F_DELAY))
		delay = sim_rng_range(&w->rng, 500, 120000);
	if (active(w, SIM_F_REORDER))
		delay += sim_rng_range(&w->rng, 0, 30000);
	h->at = w->now + delay;
	h->seq = ++w->whseq;
	h->system = sys;
	w->nwh++;
}

/* A record changed: new version, index snapshot, webhook. */
static void record_changed(struct sim_world *w, int sys, int rec)
{
	struct sim_system *s = &w->sys[sys];
	struct sim_record *r = &s->recs[rec];
	r->rv++;
	r->mtime_s = clock_s(w, sys);
	struct sim_snapshot *n = realloc(r->hist, (r->nhist + 1) * sizeof(*n));
	if (!n) {
		w->oom++;
		return;
	}
	r->hist = n;
	struct sim_snapshot *snap = &r->hist[r->nhist];
	snap->t_ms = w->now;
	if (sim_record_observe(w, sys, rec, &snap->obs)) {
		w->oom++;
		return;
	}
	r->nhist++;
	if (!w->webhooks || (s->partition_until && w->now < s->partition_until))
		return;
	if (active(w, SIM_F_DROP) && sim_rng_chance(&w->rng, 0.15))
		return;
	push_webhook(w, sys, &snap->obs);
	if (active(w, SIM_F_DUPLICATE) && sim_rng_chance(&w->rng, 0.1))
		push_webhook(w, sys, &snap->obs);
}

static int new_record(struct sim_world *w, int sys)
{
	struct sim_system *s = &w->sys[sys];
	if (s->nrecs == s->caprecs) {
		size_t cap = s->caprecs ? s->caprecs * 2 : 32;
		struct sim_record *n = realloc(s->recs, cap * sizeof(*n));
		if (!n) {
			w->oom++;
			return CC_ENOMEM;
		}
		s->recs = n;
		s->caprecs = cap;
	}
	struct sim_record *r = &s->recs[s->nrecs];
	memset(r, 0, sizeof(*r));
	static const char *const prefix[] = { "INC", "SEN", "JRA" };
	snprintf(r->id, sizeof(r->id), "%s%07zu", prefix[s->kind], s->nrecs + 1);
	r->incident = -1;
	r->created_s = clock_s(w, sys);
	return (int)s->nrecs++;
}

static void set_field(struct sim_world *w, int sys, int rec, int f, const char *v, const char *who)
{
	struct sim_record *r = &w->sys[sys].recs[rec];
	replace(w, &r->val[f], v);
	replace(w, &r->fauthor[f], who);
	r->fmtime_s[f] = clock_s(w, sys);
}

/* The Jira-like workflow's post-function: leaving Done clears the resolution. */
static void clear_resolution(struct sim_world *w, int sys, int rec, const char *who)
{
	struct sim_record *r = &w->sys[sys].recs[rec];
	if (w->sys[sys].kind == SIM_KIND_JIRA && r->val[SF_CLASSIFICATION] &&
	    r->val[SF_CLASSIFICATION][0] && !sim_state_needs_classification(SIM_KIND_JIRA, r->val[SF_STATE]))
		set_field(w, sys, rec, SF_CLASSIFICATION, "", who);
}

static int add_comment(struct sim_world *w, int sys, int rec, const char *body, const char *who)
{
	struct sim_system *s = &w->sys[sys];
	struct sim_record *r = &s->recs[rec];
	struct sim_comment *n = realloc(r->comments, (r->ncomments + 1) * sizeof(*n));
	if (!n) {
		w->oom++;
		return CC_ENOMEM;
	}
	r->comments = n;
	char id[32];
	snprintf(id, sizeof(id), "%c%" PRIu64, "SNJ"[s->kind], ++s->next_comment);
	struct sim_comment *c = &r->comments[r->ncomments];
	c->id = xstrdup(w, id);
	c->body = xstrdup(w, body);
	c->author = xstrdup(w, who);
	c->created_s = clock_s(w, sys);
	r->ncomments++;
	return (int)r->ncomments - 1;
}

static void log_event(struct sim_world *w, const struct sim_event *e)
{
	if (sim_log_append(&w->log, e))
		w->oom++;
}

/* ---- people ----------------------------------------------------------- */

int sim_person_create(struct sim_world *w, int sys, const char *const values[SF__COUNT],
                      int incident, const char *who)
{
	int rec = new_record(w, sys);
	if (rec < 0)
		return CC_ENOMEM;
	struct sim_event e = { .kind = SIM_EV_PERSON_CREATE, .t_ms = w->now, .system = sys,
		               .record = rec, .field = -1, .incident = incident };
	for (int f = 0; f < SF__COUNT; f++) {
		if (!sim_kind_carries(w->sys[sys].kind, f))
			continue;
		set_field(w, sys, rec, f, values[f] ? values[f] : "", who);
		e.values[f] = (char *)(values[f] ? values[f] : "");
	}
	w->sys[sys].recs[rec].incident = incident;
	log_event(w, &e);
	record_changed(w, sys, rec);
	return rec;
}

int sim_person_edit(struct sim_world *w, int sys, int rec, int field, const char *value,
                    const char *who)
{
	struct sim_record *r = &w->sys[sys].recs[rec];
	const char *old = r->val[field] ? r->val[field] : "";
	if (strcmp(old, value) == 0)
		return 0;
	struct sim_event e = { .kind = SIM_EV_PERSON_EDIT, .t_ms = w->now, .system = sys,
		               .record = rec, .field = field, .old_value = (char *)old,
		               .value = (char *)value, .incident = -1 };
	log_event(w, &e);
	set_field(w, sys, rec, field, value, who);
	clear_resolution(w, sys, rec, who);
	record_changed(w, sys, rec);
	return 1;
}

int sim_person_comment(struct sim_world *w, int sys, int rec, const char *body, const char *who)
{
	if (add_comment(w, sys, rec, body, who) < 0)
		return CC_ENOMEM;
	struct sim_event e = { .kind = SIM_EV_PERSON_COMMENT, .t_ms = w->now, .system = sys,
		               .record = rec, .field = -1, .value = (char *)body, .incident = -1 };
	log_event(w, &e);
	record_changed(w, sys, rec);
	return 0;
}

/* ---- the connector ---------------------------------------------------- */

/* Every request passes here: counted, dated, and perhaps refused. */
static enum cc_result gate(struct sim_world *w, int sys, struct cc_call *call)
{
	struct sim_system *s = &w->sys[sys];
	w->api_calls++;
	call->requests = 1;
	if (s->partition_until && w->now < s->partition_until) {
		call->result = CC_RETRY;
		snprintf(call->reason, sizeof(call->reason), "connect: timed out");
		return CC_RETRY;
	}
	call->has_date = true;
	call->date_s = clock_s(w, sys);
	if (active(w, SIM_F_RATELIMIT) && sim_rng_chance(&w->rng, 0.03)) {
		call->result = CC_RETRY;
		call->retry_after_ms = sim_rng_range(&w->rng, 1, 20) * 1000;
		snprintf(call->reason, sizeof(call->reason), "429 Too Many Requests");
		return CC_RETRY;
	}
	if (active(w, SIM_F_5XX) && sim_rng_chance(&w->rng, 0.03)) {
		call->result = CC_RETRY;
		snprintf(call->reason, sizeof(call->reason), "503 Service Unavailable");
		return CC_RETRY;
	}
	call->result = CC_OK;
	return CC_OK;
}

/* After a write was applied: its answer may be lost, or the hub may die. */
static enum cc_result answered(struct sim_world *w, struct cc_call *call)
{
	if (active(w, SIM_F_CRASH) && sim_rng_chance(&w->rng, 0.01) && w->on_crash) {
		w->on_crash(w->crash_ctx);
		call->result = CC_RETRY;
		call->outcome_unknown = true;
		snprintf(call->reason, sizeof(call->reason), "process killed");
		return CC_RETRY;
	}
	if (active(w, SIM_F_TIMEOUT) && sim_rng_chance(&w->rng, 0.05)) {
		call->result = CC_RETRY;
		call->outcome_unknown = true;
		snprintf(call->reason, sizeof(call->reason), "timeout after 30 s");
		return CC_RETRY;
	}
	return CC_OK;
}

/* The index of the newest snapshot the search index shows, or -1. */
static long visible_index(const struct sim_world *w, int sys, int rec)
{
	const struct sim_record *r = &w->sys[sys].recs[rec];
	int64_t horizon = w->now - w->sys[sys].lag_ms;
	for (size_t i = r->nhist; i-- > 0;)
		if (r->hist[i].t_ms <= horizon)
			return (long)i;
	return -1;
}

/*
 * An observation of snapshot `at` of a record (hist[at], at >= 0) into
 * *out (initialized here; the caller clears it). With the torn fault, a
 * snapshot that has an earlier one is sometimes observed torn, as a
 * connector that reads a record in two requests sees it when a change
 * lands between them: either the values (and comments) of the previous
 * snapshot with the version, modification times and authors of this one,
 * or this snapshot's values with the previous version, times and authors.
 * 3 % of such observations are torn, whatever the age of the change (the
 * fault's rng draw happens only when the fault is on, so other fault sets
 * replay as before). Returns 0, or -1 when out of memory (*out is then empty).
 */
static int observe_snapshot(struct sim_world *w, int sys, int rec, size_t at,
                            struct cc_observation *out)
{
	const struct sim_record *r = &w->sys[sys].recs[rec];
	const struct cc_observation *cur = &r->hist[at].obs;
	if (at == 0 || !active(w, SIM_F_TORN) || !sim_rng_chance(&w->rng, 0.03))
		return cc_observation_copy(out, cur) ? -1 : 0;
	const struct cc_observation *prev = &r->hist[at - 1].obs;
	/* old_values: values from prev, version and times from cur */
	bool old_values = sim_rng_chance(&w->rng, 0.5);
	const struct cc_observation *vals = old_values ? prev : cur;
	const struct cc_observation *meta = old_values ? cur : prev;
	if (cc_observation_copy(out, vals))
		return CC_ENOMEM;
	out->rv = meta->rv;
	out->mtime_s = meta->mtime_s;
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		if (!out->fields[f].present || !meta->fields[f].present)
			continue;
		out->fields[f].mtime_s = meta->fields[f].mtime_s;
		char *a = NULL;
		if (meta->fields[f].author && !(a = strdup(meta->fields[f].author))) {
			cc_observation_clear(out);
			return CC_ENOMEM;
		}
		free(out->fields[f].author);
		out->fields[f].author = a;
	}
	w->torn_reads++;
	if (w->narrate)
		fprintf(w->narrate, "-- torn read of %s at %" PRId64 " ms: values of rv %" PRIu64
		        ", version and times of rv %" PRIu64 "\n", out->remote_id, w->now,
		        vals->rv, meta->rv);
	return 0;
}

/* A record on a list page: the snapshot the index shows, and where it is. */
struct listed {
	const struct cc_observation *obs; /* borrowed from the record's history */
	int rec;
	size_t at;
};

static int cmp_listed(const void *a, const void *b)
{
	const struct cc_observation *x = ((const struct listed *)a)->obs;
	const struct cc_observation *y = ((const struct listed *)b)->obs;
	if (x->mtime_s != y->mtime_s)
		return x->mtime_s < y->mtime_s ? -1 : 1;
	return strcmp(x->remote_id, y->remote_id);
}

static enum cc_result c_list(void *self, int64_t since_s, int64_t after_mtime_s,
                             const char *after_id, size_t page_size, struct cc_page *out,
                             struct cc_call *call)
{
	struct sim_conn *cn = self;
	struct sim_world *w = cn->w;
	struct sim_system *s = &w->sys[cn->system];
	memset(out, 0, sizeof(*out));
	if (gate(w, cn->system, call) != CC_OK)
		return call->result;
	struct listed *all = calloc(s->nrecs + 1, sizeof(*all));
	if (!all) {
		w->oom++;
		call->result = CC_RETRY;
		return CC_RETRY;
	}
	size_t n = 0;
	for (size_t i = 0; i < s->nrecs; i++) {
		long at = visible_index(w, cn->system, (int)i);
		if (at < 0)
			continue;
		const struct cc_observation *o = &s->recs[i].hist[at].obs;
		if (o->mtime_s < since_s)
			continue;
		if (after_id && (o->mtime_s < after_mtime_s ||
		                 (o->mtime_s == after_mtime_s && strcmp(o->remote_id, after_id) <= 0)))
			continue;
		all[n++] = (struct listed){ .obs = o, .rec = (int)i, .at = (size_t)at };
	}
	qsort(all, n, sizeof(*all), cmp_listed);
	size_t take = n < page_size ? n : page_size;
	bool repeat = take > 0 && active(w, SIM_F_OVERLAP) && sim_rng_chance(&w->rng, 0.2);
	out->items = calloc(take + 1, sizeof(*out->items));
	if (!out->items && take) {
		free(all);
		w->oom++;
		call->result = CC_RETRY;
		return CC_RETRY;
	}
	for (size_t i = 0; i < take; i++) {
		if (observe_snapshot(w, cn->system, all[i].rec, all[i].at,
		                     &out->items[out->nitems]) == 0)
			out->nitems++;
		else
			w->oom++;
	}
	if (repeat && out->nitems) {
		/* the same record twice in one answer, as a shifting page would give */
		size_t k = (size_t)sim_rng_below(&w->rng, out->nitems);
		struct cc_observation copy;
		if (cc_observation_copy(&copy, &out->items[k]) == 0) {
			/* keep the order: insert right after k */
			memmove(&out->items[k + 2], &out->items[k + 1],
			        (out->nitems - k - 1) * sizeof(*out->items));
			out->items[k + 1] = copy;
			out->nitems++;
		}
	}
	out->more = n > take;
	free(all);
	return CC_OK;
}

static enum cc_result c_read(void *self, const char *remote_id, struct cc_observation *out,
                             struct cc_call *call)
{
	struct sim_conn *cn = self;
	struct sim_world *w = cn->w;
	cc_observation_init(out);
	if (gate(w, cn->system, call) != CC_OK)
		return call->result;
	int rec = sim_find_record(w, cn->system, remote_id);
	if (rec < 0) {
		call->result = CC_ERROR;
		snprintf(call->reason, sizeof(call->reason), "404 %s not found", remote_id);
		return CC_ERROR;
	}
	const struct sim_record *r = &w->sys[cn->system].recs[rec];
	/* the newest snapshot is the record as it is now (every change takes one) */
	int orc = r->nhist ? observe_snapshot(w, cn->system, rec, r->nhist - 1, out)
	                   : sim_record_observe(w, cn->system, rec, out);
	if (orc) {
		w->oom++;
		call->result = CC_RETRY;
		return CC_RETRY;
	}
	return CC_OK;
}

static enum cc_result c_find(void *self, const char *corr, struct cc_observation *out,
                             bool *found, struct cc_call *call)
{
	struct sim_conn *cn = self;
	struct sim_world *w = cn->w;
	struct sim_system *s = &w->sys[cn->system];
	cc_observation_init(out);
	*found = false;
	if (gate(w, cn->system, call) != CC_OK)
		return call->result;
	for (size_t i = 0; i < s->nrecs; i++) {
		long at = visible_index(w, cn->system, (int)i);
		if (at < 0)
			continue;
		const struct cc_observation *o = &s->recs[i].hist[at].obs;
		if (o->correlation_id && strcmp(o->correlation_id, corr) == 0) {
			if (observe_snapshot(w, cn->system, (int)i, (size_t)at, out)) {
				w->oom++;
				call->result = CC_RETRY;
				return CC_RETRY;
			}
			*found = true;
			break;
		}
	}
	return CC_OK;
}

static int jira_hops(struct sim_world *w, int sys, const char *from, const char *to)
{
	if (w->sys[sys].kind != SIM_KIND_JIRA)
		return 0;
	return sim_jira_path_len(from, to);
}

static bool valid_value(enum sim_kind k, int f, const char *v)
{
	const char *const *vals = sim_kind_values(k, f);
	if (!vals || v[0] == '\0')
		return true;
	for (; *vals; vals++)
		if (strcmp(*vals, v) == 0)
			return true;
	return false;
}

/*
 * The required fields of the state a write leaves a record in (record r,
 * NULL for a create), as the real connectors and systems treat them.
 * vals, the caller's copy of the write's values, is adjusted first: a
 * Jira-like write carries a resolution only into or within Done (the
 * transition's screen, or an edit while Done; the Jira connector leaves it
 * out otherwise), and a move into Done without one takes the Done screen's
 * default, which the Jira connector takes from the companion default of
 * its configuration (here the scenario's). Returns CC_OK, or CC_ERROR with
 * call->reason when that state needs a classification that neither the
 * write nor the record holds: ServiceNow's data policy answers 403,
 * Sentinel and Jira 400.
 */
static enum cc_result required_fields(struct sim_world *w, int sys, const struct sim_record *r,
                                      const char *vals[SF__COUNT], struct cc_call *call)
{
	enum sim_kind k = w->sys[sys].kind;
	const char *held = r && r->val[SF_STATE] ? r->val[SF_STATE] : "";
	const char *state = vals[SF_STATE] && vals[SF_STATE][0] ? vals[SF_STATE]
	                    : r ? held : sim_kind_initial_state(k);
	bool needs = sim_state_needs_classification(k, state);
	const char **cls = &vals[SF_CLASSIFICATION];
	if (k == SIM_KIND_JIRA) {
		if (!needs)
			*cls = NULL;
		else if (!sim_state_needs_classification(k, held) && (!*cls || !(*cls)[0]))
			*cls = sim_classification_default(k);
	}
	const char *after = *cls ? *cls : r && r->val[SF_CLASSIFICATION] ? r->val[SF_CLASSIFICATION] : "";
	if (!needs || after[0])
		return CC_OK;
	call->result = CC_ERROR;
	snprintf(call->reason, sizeof(call->reason), "%s",
	         k == SIM_KIND_SNOW ? "403 Data Policy Exception: close_code is mandatory"
	         : k == SIM_KIND_SENTINEL ? "400 classification is required to close an incident"
	                                  : "400 resolution is required by the Done screen");
	return CC_ERROR;
}

static enum cc_result c_create(void *self, const struct cc_write *wr, struct cc_observation *out,
                               struct cc_call *call)
{
	struct sim_conn *cn = self;
	struct sim_world *w = cn->w;
	int sys = cn->system;
	enum sim_kind k = w->sys[sys].kind;
	cc_observation_init(out);
	if (gate(w, sys, call) != CC_OK)
		return call->result;
	const char *vals[SF__COUNT];
	memcpy(vals, wr->values, sizeof(vals));
	for (int f = 0; f < SF__COUNT; f++) {
		if (vals[f] && sim_kind_carries(k, f) && !valid_value(k, f, vals[f])) {
			call->result = CC_ERROR;
			snprintf(call->reason, sizeof(call->reason), "400 invalid value '%s'", vals[f]);
			return CC_ERROR;
		}
	}
	if (required_fields(w, sys, NULL, vals, call) != CC_OK)
		return CC_ERROR;
	int rec = new_record(w, sys);
	if (rec < 0) {
		call->result = CC_RETRY;
		return CC_RETRY;
	}
	struct sim_event e = { .kind = SIM_EV_HUB_CREATE, .t_ms = w->now, .system = sys,
		               .record = rec, .field = -1, .incident = -1 };
	for (int f = 0; f < SF__COUNT; f++) {
		if (!sim_kind_carries(k, f))
			continue;
		const char *v = vals[f] ? vals[f] : "";
		if (f == SF_STATE && !v[0])
			v = sim_kind_initial_state(k);
		if (f == SF_STATE) {
			int hops = jira_hops(w, sys, sim_kind_initial_state(k), v);
			call->requests += hops > 0 ? hops : 0;
		}
		set_field(w, sys, rec, f, v, w->integration_user);
		e.values[f] = w->sys[sys].recs[rec].val[f];
	}
	struct sim_record *r = &w->sys[sys].recs[rec];
	replace(w, &r->corr, wr->correlation_id);
	w->api_calls += (uint64_t)(call->requests - 1);
	w->hub_writes++;
	log_event(w, &e);
	if (wr->correlation_id) {
		struct sim_event c = { .kind = SIM_EV_CLAIM, .t_ms = w->now, .system = sys,
			               .record = rec, .field = -1, .incident = -1,
			               .claim = sim_claim_key(wr->correlation_id) };
		log_event(w, &c);
	}
	record_changed(w, sys, rec);
	if (answered(w, call) != CC_OK)
		return call->result;
	if (sim_record_observe(w, sys, rec, out))
		w->oom++;
	return CC_OK;
}

static enum cc_result c_update(void *self, const struct cc_write *wr, struct cc_observation *out,
                               struct cc_call *call)
{
	struct sim_conn *cn = self;
	struct sim_world *w = cn->w;
	int sys = cn->system;
	enum sim_kind k = w->sys[sys].kind;
	cc_observation_init(out);
	if (gate(w, sys, call) != CC_OK)
		return call->result;
	int rec = sim_find_record(w, sys, wr->remote_id);
	if (rec < 0) {
		call->result = CC_ERROR;
		snprintf(call->reason, sizeof(call->reason), "404 %s not found", wr->remote_id);
		return CC_ERROR;
	}
	struct sim_record *r = &w->sys[sys].recs[rec];
	if (wr->expected_rv && wr->expected_rv != r->rv) {
		call->result = CC_CONFLICT;
		snprintf(call->reason, sizeof(call->reason), "412 Precondition Failed");
		return CC_CONFLICT;
	}
	const char *vals[SF__COUNT];
	memcpy(vals, wr->values, sizeof(vals));
	for (int f = 0; f < SF__COUNT; f++) {
		const char *v = vals[f];
		if (!v || !sim_kind_carries(k, f))
			continue;
		if (!valid_value(k, f, v) ||
		    (f == SF_STATE && jira_hops(w, sys, r->val[f], v) < 0)) {
			call->result = CC_ERROR;
			snprintf(call->reason, sizeof(call->reason), "400 invalid value '%s'", v);
			return CC_ERROR;
		}
	}
	if (required_fields(w, sys, r, vals, call) != CC_OK)
		return CC_ERROR;
	uint64_t write_id = ++w->next_write_id;
	bool changed = false;
	for (int f = 0; f < SF__COUNT; f++) {
		const char *v = vals[f];
		if (!v || !sim_kind_carries(k, f) || strcmp(v, r->val[f] ? r->val[f] : "") == 0)
			continue;
		if (f == SF_STATE) {
			int hops = jira_hops(w, sys, r->val[f], v);
			if (hops > 1) {
				call->requests += hops - 1;
				w->api_calls += (uint64_t)(hops - 1);
			}
		}
		struct sim_event e = { .kind = SIM_EV_HUB_WRITE, .t_ms = w->now, .system = sys,
			               .record = rec, .field = f, .old_value = r->val[f],
			               .value = (char *)v, .incident = -1, .write_id = write_id };
		log_event(w, &e);
		set_field(w, sys, rec, f, v, w->integration_user);
		changed = true;
	}
	clear_resolution(w, sys, rec, w->integration_user);
	if (changed) {
		w->hub_writes++;
		record_changed(w, sys, rec);
	}
	if (answered(w, call) != CC_OK)
		return call->result;
	if (sim_record_observe(w, sys, rec, out))
		w->oom++;
	return CC_OK;
}

static enum cc_result c_comment(void *self, const char *remote_id, const char *body,
                                char **out_id, struct cc_call *call)
{
	struct sim_conn *cn = self;
	struct sim_world *w = cn->w;
	int sys = cn->system;
	*out_id = NULL;
	if (gate(w, sys, call) != CC_OK)
		return call->result;
	int rec = sim_find_record(w, sys, remote_id);
	if (rec < 0) {
		call->result = CC_ERROR;
		snprintf(call->reason, sizeof(call->reason), "404 %s not found", remote_id);
		return CC_ERROR;
	}
	int c = add_comment(w, sys, rec, body, w->integration_user);
	if (c < 0) {
		call->result = CC_RETRY;
		return CC_RETRY;
	}
	struct sim_event e = { .kind = SIM_EV_HUB_COMMENT, .t_ms = w->now, .system = sys,
		               .record = rec, .field = -1, .value = (char *)body, .incident = -1 };
	log_event(w, &e);
	w->hub_writes++;
	record_changed(w, sys, rec);
	if (answered(w, call) != CC_OK)
		return call->result;
	*out_id = xstrdup(w, w->sys[sys].recs[rec].comments[c].id);
	return CC_OK;
}

static void c_destroy(void *self)
{
	(void)self;
}

static const struct cc_connector_ops sim_connector_ops = {
	.version = CC_CONNECTOR_OPS_VERSION,
	.kind = "sim",
	.list_changes = c_list,
	.read = c_read,
	.find_by_correlation = c_find,
	.create = c_create,
	.update = c_update,
	.add_comment = c_comment,
	.webhook = sim_webhook_op,     /* the record as the system sent it */
	.destroy = c_destroy,
};

/* ---- life cycle ------------------------------------------------------- */

int sim_world_init(struct sim_world *w, uint64_t seed, size_t nsys, uint32_t faults)
{
	memset(w, 0, sizeof(*w));
	sim_rng_seed(&w->rng, seed * 0x9e3779b97f4a7c15ULL + 1);
	w->faults = faults;
	w->faults_active = true;
	w->nsys = nsys;
	w->webhooks = true;
	w->integration_user = "concord";
	sim_log_init(&w->log);
	w->log.nsystems = nsys;
	for (size_t s = 0; s < nsys; s++) {
		struct sim_system *sy = &w->sys[s];
		sy->index = (int)s;
		sy->kind = (enum sim_kind)(s % 3);
		sy->skew_ms = (faults & SIM_F_SKEW) ? sim_rng_range(&w->rng, -300000, 300000) : 0;
		sy->lag_ms = (faults & SIM_F_LAG) ? sim_rng_range(&w->rng, 0, 20000) : 0;
		w->log.kinds[s] = sy->kind;
		w->conn_self[s] = (struct sim_conn){ .w = w, .system = (int)s };
		w->conn[s] = (struct cc_connector){ .ops = &sim_connector_ops, .self = &w->conn_self[s] };
	}
	sim_scenario_rules(&w->log);
	return 0;
}

void sim_world_clear(struct sim_world *w)
{
	for (size_t s = 0; s < w->nsys; s++) {
		struct sim_system *sy = &w->sys[s];
		for (size_t i = 0; i < sy->nrecs; i++) {
			struct sim_record *r = &sy->recs[i];
			for (int f = 0; f < SF__COUNT; f++) {
				free(r->val[f]);
				free(r->fauthor[f]);
			}
			free(r->corr);
			for (size_t c = 0; c < r->ncomments; c++) {
				free(r->comments[c].id);
				free(r->comments[c].body);
				free(r->comments[c].author);
			}
			free(r->comments);
			for (size_t h = 0; h < r->nhist; h++)
				cc_observation_clear(&r->hist[h].obs);
			free(r->hist);
		}
		free(sy->recs);
	}
	for (size_t i = 0; i < w->nwh; i++)
		cc_observation_clear(&w->wh[i].obs);
	free(w->wh);
	sim_log_clear(&w->log);
	memset(w, 0, sizeof(*w));
}

int64_t sim_webhook_due(const struct sim_world *w)
{
	int64_t best = INT64_MAX;
	for (size_t i = 0; i < w->nwh; i++)
		if (w->wh[i].at < best)
			best = w->wh[i].at;
	return best;
}

bool sim_next_webhook(struct sim_world *w, struct sim_webhook *out)
{
	size_t best = SIZE_MAX;
	for (size_t i = 0; i < w->nwh; i++) {
		if (w->wh[i].at > w->now)
			continue;
		if (best == SIZE_MAX || w->wh[i].at < w->wh[best].at ||
		    (w->wh[i].at == w->wh[best].at && w->wh[i].seq < w->wh[best].seq))
			best = i;
	}
	if (best == SIZE_MAX)
		return false;
	*out = w->wh[best];
	w->wh[best] = w->wh[--w->nwh];
	return true;
}

int sim_world_finish(struct sim_world *w)
{
	for (size_t s = 0; s < w->nsys; s++) {
		struct sim_system *sy = &w->sys[s];
		for (size_t i = 0; i < sy->nrecs; i++) {
			struct sim_record *r = &sy->recs[i];
			struct sim_final_record fr = { .system = (int)s, .record = (int)i };
			char **bodies = calloc(r->ncomments + 1, sizeof(char *));
			if (!bodies)
				return CC_ENOMEM;
			for (size_t c = 0; c < r->ncomments; c++)
				bodies[c] = r->comments[c].body;
			fr.comments = bodies;
			fr.ncomments = r->ncomments;
			for (int f = 0; f < SF__COUNT; f++)
				fr.values[f] = sim_kind_carries(sy->kind, f) ? (r->val[f] ? r->val[f] : (char *)"") : NULL;
			int rc = sim_log_final(&w->log, &fr);
			free(bodies);
			if (rc)
				return CC_ENOMEM;
		}
	}
	return 0;
}
