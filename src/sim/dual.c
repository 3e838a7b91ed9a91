/*
 * The "dual" integration model: today's common practice, built as a careful
 * integrator would, with no concord engine code (no hub, no store).
 *
 * For every ordered pair of systems (A, B) one independent one-way pipeline
 * A->B runs once per sync cycle (start times staggered by pipeline index).
 * One run of A->B:
 *   - lists A's records changed since its cursor: the integrator's own clock
 *     at the start of its last successful run, taken as A's clock (so skew
 *     shifts it), minus a 60 s overlap; pages of 50;
 *   - skips a record whose latest change (newest field mtime or newest
 *     comment) was made by the integration user;
 *   - an unmapped record: links it when the pair's mapping is implied by two
 *     other tables (A<->C and C<->B, a join of the integrator's own tables,
 *     no remote lookup); otherwise creates it in B with every mapped value
 *     translated (no correlation id), unless the record is itself a copy the
 *     integration made (its origin's pipeline creates it) or B's routing
 *     rule refuses it; then mirrors its comments;
 *   - a mapped record: reads B and writes, in one blind update (expected_rv
 *     0), each field whose B value does not already stand for a canonical
 *     value that A's value stands for; fields owned by one system flow only
 *     from their owner, and a non-owner's differing value is written back
 *     when the owner's rule says "revert";
 *   - mirrors each person comment of A once, "[from <kind> <id>] <body>";
 *   - any RETRY or ERROR stops the run; the cursor advances only when the
 *     run completes, and then the mapping tables and mirrored-comment sets
 *     are persisted. A crash (also inside a call) loses what was not.
 *
 * Ownership: the model owns its mapping tables, mirrored-comment sets and
 * every string in them; dm_destroy frees them all. Observations and pages
 * received from connectors are owned (and cleared) by the function that
 * asked for them. The cc_config borrows static tables from scenario.c.
 */
#include "core/mapping.h"
#include "sim/scenario.h"
#include "sim/sim.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUAL_OVERLAP_S 60
#define DUAL_PAGE_SIZE 50
#define DUAL_MAX_PIPES (SIM_MAX_SYSTEMS * (SIM_MAX_SYSTEMS - 1))

/* One row of a pair's mapping table: side 0 is the lower system index. */
struct dual_link {
	char *id[2];
	int rec[2];     /* record index in its system (for claims and people) */
	int created;    /* the side the integration created, -1 when joined */
};

/* The mapping table of one unordered pair, append-only. */
struct dual_table {
	struct dual_link *links;
	size_t n, cap;
	size_t saved;   /* rows persisted */
};

/* One one-way pipeline from -> to. */
struct dual_pipe {
	int from, to;
	int64_t next_run;
	bool has_cursor;
	int64_t cursor_ms;   /* integrator clock at the start of the last good run */
	char **mirrored;     /* ids of A's comments already mirrored, append-only */
	size_t nmirrored, capmirrored;
	size_t saved;        /* ids persisted */
};

struct dual_model {
	struct sim_world *w;
	struct sim_integration *iface;
	struct cc_config cfg;
	int64_t interval;
	struct dual_pipe pipes[DUAL_MAX_PIPES];
	size_t npipes;
	struct dual_table tab[SIM_MAX_SYSTEMS][SIM_MAX_SYSTEMS]; /* [lo][hi] */
	bool down;
	bool killed;         /* a crash struck inside a connector call */
};

/* How a step of a run ended. */
enum step { STEP_OK = 0, STEP_STOP, STEP_FAIL };

/* ---- narration ---------------------------------------------------------- */

static void narrate(const struct dual_model *m, const struct dual_pipe *p, const char *id,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void narrate(const struct dual_model *m, const struct dual_pipe *p, const char *id,
                    const char *fmt, ...)
{
	FILE *f = m->w->narrate;
	if (!f)
		return;
	int64_t t = m->w->now / 1000;
	char who[48];
	snprintf(who, sizeof(who), "%.4s-%d>%.4s-%d", sim_kind_name(m->w->sys[p->from].kind),
	         p->from, sim_kind_name(m->w->sys[p->to].kind), p->to);
	fprintf(f, "%02" PRId64 ":%02" PRId64 ":%02" PRId64 "  %-10s %-11s ", t / 3600,
	        (t / 60) % 60, t % 60, who, id ? id : "");
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

/* ---- mapping tables ----------------------------------------------------- */

static struct dual_table *table_of(struct dual_model *m, int a, int b)
{
	return a < b ? &m->tab[a][b] : &m->tab[b][a];
}

static int side_of(int sys, int other)
{
	return sys < other ? 0 : 1;
}

/* The row of `table(sys, other)` holding record `id` of `sys`, or NULL. */
static struct dual_link *find_link(struct dual_model *m, int sys, int other, const char *id)
{
	struct dual_table *t = table_of(m, sys, other);
	int s = side_of(sys, other);
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->links[i].id[s], id) == 0)
			return &t->links[i];
	return NULL;
}

/* Adds the row (a: ida, b: idb); created is a or b, or -1. Returns 0 or -1. */
static int add_link(struct dual_model *m, int a, const char *ida, int b, const char *idb,
                    int created)
{
	struct dual_table *t = table_of(m, a, b);
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		struct dual_link *n = realloc(t->links, cap * sizeof(*n));
		if (!n)
			return CC_ENOMEM;
		t->links = n;
		t->cap = cap;
	}
	struct dual_link *l = &t->links[t->n];
	int sa = side_of(a, b), sb = 1 - sa;
	l->id[sa] = strdup(ida);
	l->id[sb] = strdup(idb);
	if (!l->id[0] || !l->id[1]) {
		free(l->id[0]);
		free(l->id[1]);
		return CC_ENOMEM;
	}
	l->rec[sa] = sim_find_record(m->w, a, ida);
	l->rec[sb] = sim_find_record(m->w, b, idb);
	l->created = created < 0 ? -1 : side_of(created, created == a ? b : a);
	t->n++;
	return 0;
}

/* True when the integration created this record of sys (it is a copy). */
static bool is_copy(struct dual_model *m, int sys, const char *id)
{
	for (size_t o = 0; o < m->w->nsys; o++) {
		if ((int)o == sys)
			continue;
		const struct dual_link *l = find_link(m, sys, (int)o, id);
		if (l && l->created == side_of(sys, (int)o))
			return true;
	}
	return false;
}

/* B's record for A's record implied by rows A<->C and C<->B, or NULL. */
static const char *joined(struct dual_model *m, int a, const char *ida, int b)
{
	for (size_t c = 0; c < m->w->nsys; c++) {
		if ((int)c == a || (int)c == b)
			continue;
		const struct dual_link *ac = find_link(m, a, (int)c, ida);
		if (!ac)
			continue;
		const char *idc = ac->id[side_of((int)c, a)];
		const struct dual_link *cb = find_link(m, (int)c, b, idc);
		if (cb)
			return cb->id[side_of(b, (int)c)];
	}
	return NULL;
}

static bool mirrored(const struct dual_pipe *p, const char *cid)
{
	for (size_t i = 0; i < p->nmirrored; i++)
		if (strcmp(p->mirrored[i], cid) == 0)
			return true;
	return false;
}

static int add_mirrored(struct dual_pipe *p, const char *cid)
{
	if (p->nmirrored == p->capmirrored) {
		size_t cap = p->capmirrored ? p->capmirrored * 2 : 32;
		char **n = realloc(p->mirrored, cap * sizeof(*n));
		if (!n)
			return CC_ENOMEM;
		p->mirrored = n;
		p->capmirrored = cap;
	}
	char *d = strdup(cid);
	if (!d)
		return CC_ENOMEM;
	p->mirrored[p->nmirrored++] = d;
	return 0;
}

/* A run of p completed: its pair's table and its comment set are durable. */
static void persist(struct dual_model *m, struct dual_pipe *p)
{
	struct dual_table *t = table_of(m, p->from, p->to);
	t->saved = t->n;
	p->saved = p->nmirrored;
}

/* ---- values ------------------------------------------------------------- */

static const struct cc_field_map *map_of(const struct dual_model *m, int sys, int f)
{
	return &m->cfg.systems[sys].map[f];
}

static const struct cc_value_entry *entry_of(const struct cc_field_map *map, const char *remote)
{
	for (size_t i = 0; i < map->nentries; i++)
		if (strcmp(map->entries[i].remote, remote) == 0)
			return &map->entries[i];
	return NULL;
}

/*
 * True when B's value b already stands for a canonical value that A's value
 * a stands for (free text compared in normal form). *same is the answer;
 * returns -1 when out of memory.
 */
static int stands_for_same(const struct dual_model *m, int f, const struct cc_field_map *ma,
                           const char *a, const struct cc_field_map *mb, const char *b,
                           bool *same)
{
	if (ma->kind == CC_MAP_IDENTITY || a[0] == '\0') {
		if (mb->kind == CC_MAP_IDENTITY || b[0] == '\0') {
			char *na = cc_value_normalize(m->cfg.fields[f].type, a);
			char *nb = cc_value_normalize(m->cfg.fields[f].type, b);
			if (!na || !nb) {
				free(na);
				free(nb);
				return -1;
			}
			*same = strcmp(na, nb) == 0;
			free(na);
			free(nb);
			return 0;
		}
		*same = cc_map_covers(mb, b, a);
		return 0;
	}
	const struct cc_value_entry *e = entry_of(ma, a);
	*same = true; /* a value no entry covers is left alone */
	if (!e)
		return 0;
	*same = false;
	for (const char *const *c = e->canonical; *c && !*same; c++)
		*same = cc_map_covers(mb, b, *c);
	return 0;
}

/*
 * A's value translated into B's terms, given B's current value (cur, ""
 * for a create): inbound through A's map (a lossy value takes its set's
 * default), outbound through B's. NULL when no entry covers it. Borrows.
 */
static const char *translate(const struct cc_field_map *ma, const char *a,
                             const struct cc_field_map *mb, const char *cur)
{
	const char *canonical = a, *out = NULL;
	if (cc_map_inbound(ma, a, "", &canonical) == CC_MAP_UNMAPPED)
		return NULL;
	switch (cc_map_outbound(mb, canonical, cur, &out)) {
	case CC_MAP_CHANGE:
		return out;
	case CC_MAP_SAME:
		return cur;
	case CC_MAP_UNMAPPED:
		break;
	}
	return NULL;
}

static const char *value_of(const struct cc_observation *o, int f)
{
	return o->fields[f].present && o->fields[f].value ? o->fields[f].value : "";
}

static bool both_carry(const struct dual_model *m, const struct cc_observation *a, int sa,
                       const struct cc_observation *b, int sb, int f)
{
	return a->fields[f].present && map_of(m, sa, f)->mapped &&
	       (!b || b->fields[f].present) && map_of(m, sb, f)->mapped;
}

/* Who owns field f (-1: nobody), and whether its rule writes the owner's value back. */
static int owner_of(const struct dual_model *m, int f, bool *revert)
{
	const struct cc_field_def *d = &m->cfg.fields[f];
	*revert = d->policy == CC_POLICY_OWNER && d->owner_mode == CC_OWNER_REVERT;
	return d->policy == CC_POLICY_OWNER ? d->owner : -1;
}

/* ---- one record --------------------------------------------------------- */

/* True when the latest change of the record was made by the integration user. */
static bool last_change_ours(const struct dual_model *m, const struct cc_observation *o)
{
	const char *us = m->w->integration_user;
	int64_t newest = INT64_MIN;
	for (int f = 0; f < CC_MAX_FIELDS; f++)
		if (o->fields[f].present && o->fields[f].mtime_s > newest)
			newest = o->fields[f].mtime_s;
	for (size_t c = 0; c < o->ncomments; c++)
		if (o->comments[c].created_s > newest)
			newest = o->comments[c].created_s;
	/* Ties go to people: any person change at the newest second counts. */
	bool ours = false;
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		if (!o->fields[f].present || o->fields[f].mtime_s != newest)
			continue;
		if (!o->fields[f].author || strcmp(o->fields[f].author, us) != 0)
			return false;
		ours = true;
	}
	for (size_t c = 0; c < o->ncomments; c++) {
		if (o->comments[c].created_s != newest)
			continue;
		if (!o->comments[c].author || strcmp(o->comments[c].author, us) != 0)
			return false;
		ours = true;
	}
	return ours;
}

/* True when a person changed the record at or after since_s (for the story only). */
static bool person_change_since(const struct dual_model *m, const struct cc_observation *o,
                                int64_t since_s)
{
	const char *us = m->w->integration_user;
	for (int f = 0; f < CC_MAX_FIELDS; f++)
		if (o->fields[f].present && o->fields[f].mtime_s >= since_s && o->fields[f].author &&
		    strcmp(o->fields[f].author, us) != 0)
			return true;
	for (size_t c = 0; c < o->ncomments; c++)
		if (o->comments[c].created_s >= since_s && o->comments[c].author &&
		    strcmp(o->comments[c].author, us) != 0)
			return true;
	return false;
}

/* After a failed call: the run stops (a crash inside the call is handled by dm_run). */
static enum step stopped(struct dual_model *m, struct dual_pipe *p, const char *id,
                         const char *what, const struct cc_call *call)
{
	narrate(m, p, id, "%s failed (%s%s): run stops, cursor stays", what, call->reason,
	        call->outcome_unknown ? ", outcome unknown" : "");
	return STEP_STOP;
}

/* Mirrors A's person comments not yet mirrored onto B's record bid. */
static enum step mirror_comments(struct dual_model *m, struct dual_pipe *p,
                                 const struct cc_observation *a, const char *bid)
{
	const char *us = m->w->integration_user;
	const char *kind = sim_kind_name(m->w->sys[p->from].kind);
	for (size_t c = 0; c < a->ncomments; c++) {
		const struct cc_obs_comment *cm = &a->comments[c];
		if ((cm->author && strcmp(cm->author, us) == 0) || mirrored(p, cm->id))
			continue;
		size_t len = strlen(kind) + strlen(cm->id) + strlen(cm->body) + 16;
		char *body = malloc(len);
		if (!body)
			return STEP_FAIL;
		snprintf(body, len, "[from %s %s] %s", kind, cm->id, cm->body);
		struct cc_call call = { 0 };
		char *out_id = NULL;
		const struct cc_connector *cb = &m->w->conn[p->to];
		enum cc_result r = cb->ops->add_comment(cb->self, bid, body, &out_id, &call);
		free(body);
		free(out_id);
		if (r != CC_OK)
			return stopped(m, p, bid, "add_comment", &call);
		if (add_mirrored(p, cm->id))
			return STEP_FAIL;
	}
	return STEP_OK;
}

/*
 * A careful integrator's write to B (system sys): a state that needs the
 * classification field (sim/scenario.h: a close code, a classification, a
 * resolution) goes with one when neither the write nor B's record (cur;
 * NULL for a create) has one, as B's form asks for it: A's value (a, of
 * system from) translated, else the field's default.
 */
static void fill_required(const struct dual_model *m, int sys, struct cc_write *wr,
                          const struct cc_observation *cur, const struct cc_observation *a,
                          int from)
{
	enum sim_kind k = m->w->sys[sys].kind;
	const char *cls = wr->values[SF_CLASSIFICATION];
	const struct cc_field_map *md = map_of(m, sys, SF_CLASSIFICATION);
	if (!sim_state_needs_classification(k, wr->values[SF_STATE]) || (cls && cls[0]) ||
	    !md->mapped)
		return;
	if (cur && value_of(cur, SF_CLASSIFICATION)[0])
		return;
	const struct cc_field_map *ms = map_of(m, from, SF_CLASSIFICATION);
	const char *v = ms->mapped && value_of(a, SF_CLASSIFICATION)[0]
	                ? translate(ms, value_of(a, SF_CLASSIFICATION), md, "") : NULL;
	wr->values[SF_CLASSIFICATION] = v && v[0] ? v : sim_classification_default(k);
}

/* Creates A's record in B; links and groups the pair. */
static enum step create_in_b(struct dual_model *m, struct dual_pipe *p,
                             const struct cc_observation *a)
{
	struct cc_write wr = { 0 };
	for (int f = 0; f < SF__COUNT; f++) {
		if (!both_carry(m, a, p->from, NULL, p->to, f))
			continue;
		wr.values[f] = translate(map_of(m, p->from, f), value_of(a, f), map_of(m, p->to, f), "");
	}
	/* B's routing rule, as the integrator's filter on this pipeline. */
	const struct cc_system_def *sb = &m->cfg.systems[p->to];
	for (size_t i = 0; i < sb->nroutes; i++) {
		const struct cc_route_rule *rr = &sb->routes[i];
		const char *canonical = "";
		if (a->fields[rr->field].present && map_of(m, p->from, rr->field)->mapped &&
		    cc_map_inbound(map_of(m, p->from, rr->field), value_of(a, rr->field), "",
		                   &canonical) == CC_MAP_UNMAPPED)
			canonical = "";
		bool eq = strcmp(canonical, rr->value) == 0;
		if (eq != (rr->op == CC_ROUTE_EQ))
			return STEP_OK;
	}
	fill_required(m, p->to, &wr, NULL, a, p->from);
	struct cc_observation out;
	struct cc_call call = { 0 };
	const struct cc_connector *cb = &m->w->conn[p->to];
	wr.correlation_id = NULL; /* today's pipelines carry no correlation id */
	enum cc_result r = cb->ops->create(cb->self, &wr, &out, &call);
	if (r != CC_OK) {
		cc_observation_clear(&out);
		return stopped(m, p, a->remote_id, "create", &call);
	}
	narrate(m, p, a->remote_id, "creates %s", out.remote_id);
	enum step st = STEP_OK;
	if (add_link(m, p->from, a->remote_id, p->to, out.remote_id, p->to)) {
		st = STEP_FAIL;
	} else {
		int ra = sim_find_record(m->w, p->from, a->remote_id);
		int rb = sim_find_record(m->w, p->to, out.remote_id);
		uint64_t g = ra >= 0 ? m->w->sys[p->from].recs[ra].group : 0;
		if (!g) {
			char key[64];
			snprintf(key, sizeof(key), "dual:%d:%d", p->from, ra);
			g = sim_claim_key(key);
		}
		sim_people_group(m->w, p->from, ra, g);
		sim_people_group(m->w, p->to, rb, g);
		st = mirror_comments(m, p, a, out.remote_id);
	}
	cc_observation_clear(&out);
	return st;
}

/* Brings B's mapped record bid up to A's values, and A's owned fields back. */
static enum step update_b(struct dual_model *m, struct dual_pipe *p,
                          const struct cc_observation *a, const char *bid)
{
	const struct cc_connector *cb = &m->w->conn[p->to];
	struct cc_observation b;
	struct cc_call call = { 0 };
	if (cb->ops->read(cb->self, bid, &b, &call) != CC_OK) {
		cc_observation_clear(&b);
		return stopped(m, p, bid, "read", &call);
	}
	struct cc_write wb = { .remote_id = bid, .expected_rv = 0 };
	struct cc_write wa = { .remote_id = a->remote_id, .expected_rv = 0 };
	bool any_b = false, any_a = false;
	enum step st = STEP_OK;
	for (int f = 0; f < SF__COUNT && st == STEP_OK; f++) {
		if (!both_carry(m, a, p->from, &b, p->to, f))
			continue;
		bool revert;
		int owner = owner_of(m, f, &revert);
		/* A field with an owner flows only from it; the owner's value may go back. */
		int src = p->from, dst = p->to;
		const struct cc_observation *so = a, *dobs = &b;
		if (owner >= 0 && owner != p->from) {
			if (owner != p->to || !revert)
				continue;
			src = p->to, dst = p->from, so = &b, dobs = a;
		}
		/* a classification the integration wrote (the default its form
		 * filled on a close, fill_required) is not news to copy on */
		const char *by = so->fields[f].author;
		if (f == SF_CLASSIFICATION && by && strcmp(by, m->w->integration_user) == 0)
			continue;
		const struct cc_field_map *ms = map_of(m, src, f), *md = map_of(m, dst, f);
		bool same;
		if (stands_for_same(m, f, ms, value_of(so, f), md, value_of(dobs, f), &same)) {
			st = STEP_FAIL;
			break;
		}
		if (same)
			continue;
		const char *v = translate(ms, value_of(so, f), md, value_of(dobs, f));
		if (!v)
			continue;
		if (dst == p->to) {
			wb.values[f] = v;
			any_b = true;
		} else {
			wa.values[f] = v;
			any_a = true;
		}
	}
	if (st == STEP_OK && any_b) {
		char names[128] = "";
		for (int f = 0; f < SF__COUNT; f++)
			if (wb.values[f])
				snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				         names[0] ? ", " : "", m->cfg.fields[f].name);
		fill_required(m, p->to, &wb, &b, a, p->from);
		narrate(m, p, a->remote_id, "updates %s blindly: %s", bid, names);
		struct cc_observation out;
		struct cc_call c2 = { 0 };
		enum cc_result r = cb->ops->update(cb->self, &wb, &out, &c2);
		cc_observation_clear(&out);
		if (r != CC_OK)
			st = stopped(m, p, bid, "update", &c2);
	}
	if (st == STEP_OK && any_a) {
		const struct cc_connector *ca = &m->w->conn[p->from];
		struct cc_observation out;
		struct cc_call c3 = { 0 };
		narrate(m, p, a->remote_id, "writes the owner's value back");
		enum cc_result r = ca->ops->update(ca->self, &wa, &out, &c3);
		cc_observation_clear(&out);
		if (r != CC_OK)
			st = stopped(m, p, a->remote_id, "update (write back)", &c3);
	}
	cc_observation_clear(&b);
	if (st == STEP_OK)
		st = mirror_comments(m, p, a, bid);
	return st;
}

static enum step sync_record(struct dual_model *m, struct dual_pipe *p,
                             const struct cc_observation *a)
{
	if (last_change_ours(m, a)) {
		/* A person's change newer than the last good run is now lost here. */
		if (person_change_since(m, a, p->has_cursor ? p->cursor_ms / 1000 : INT64_MIN))
			narrate(m, p, a->remote_id,
			        "skipped: last change by the integration user hides a person's change");
		return STEP_OK;
	}
	const struct dual_link *l = find_link(m, p->from, p->to, a->remote_id);
	if (l)
		return update_b(m, p, a, l->id[side_of(p->to, p->from)]);
	const char *bid = joined(m, p->from, a->remote_id, p->to);
	if (bid) {
		char *keep = strdup(bid); /* add_link may move the row bid lives in */
		if (!keep || add_link(m, p->from, a->remote_id, p->to, keep, -1)) {
			free(keep);
			return STEP_FAIL;
		}
		narrate(m, p, a->remote_id, "linked to %s through another pair's tables", keep);
		enum step st = update_b(m, p, a, keep);
		free(keep);
		return st;
	}
	if (is_copy(m, p->from, a->remote_id))
		return STEP_OK; /* its origin's own pipeline creates it in B */
	return create_in_b(m, p, a);
}

/* ---- one run of a pipeline ---------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static enum step run_pipe(struct dual_model *m, struct dual_pipe *p)
{
	const struct cc_connector *ca = &m->w->conn[p->from];
	int64_t start = m->w->now;
	/* The integrator's clock, taken as A's clock, minus the overlap. */
	int64_t since = p->has_cursor ? floor_div(p->cursor_ms, 1000) - DUAL_OVERLAP_S : INT64_MIN;
	int64_t after_mtime = 0;
	char *after_id = NULL;
	enum step st = STEP_OK;
	bool more = true;
	while (more && st == STEP_OK) {
		struct cc_page page;
		struct cc_call call = { 0 };
		enum cc_result r = ca->ops->list_changes(ca->self, since, after_mtime, after_id,
		                                         DUAL_PAGE_SIZE, &page, &call);
		if (r != CC_OK) {
			cc_page_clear(&page);
			st = stopped(m, p, NULL, "list_changes", &call);
			break;
		}
		for (size_t i = 0; i < page.nitems && st == STEP_OK; i++)
			st = sync_record(m, p, &page.items[i]);
		if (st == STEP_OK && page.nitems) {
			const struct cc_observation *last = &page.items[page.nitems - 1];
			char *id = strdup(last->remote_id);
			if (!id)
				st = STEP_FAIL;
			free(after_id);
			after_id = id;
			after_mtime = last->mtime_s;
		}
		more = page.more;
		cc_page_clear(&page);
	}
	free(after_id);
	if (st == STEP_OK) {
		p->has_cursor = true;
		p->cursor_ms = start;
		persist(m, p);
	}
	return st;
}

/* ---- the integration interface ------------------------------------------ */

static void killed(void *ctx)
{
	((struct dual_model *)ctx)->killed = true;
}

static void dm_crash(void *self)
{
	struct dual_model *m = self;
	if (m->down)
		return;
	for (size_t a = 0; a < m->w->nsys; a++) {
		for (size_t b = a + 1; b < m->w->nsys; b++) {
			struct dual_table *t = &m->tab[a][b];
			for (size_t i = t->saved; i < t->n; i++) {
				free(t->links[i].id[0]);
				free(t->links[i].id[1]);
			}
			t->n = t->saved;
		}
	}
	for (size_t i = 0; i < m->npipes; i++) {
		struct dual_pipe *p = &m->pipes[i];
		for (size_t k = p->saved; k < p->nmirrored; k++)
			free(p->mirrored[k]);
		p->nmirrored = p->saved;
	}
	m->down = true;
	m->killed = false;
}

static void dm_restart(void *self)
{
	((struct dual_model *)self)->down = false;
}

static bool dm_down(void *self)
{
	return ((struct dual_model *)self)->down;
}

static int64_t dm_next_due(void *self, int64_t now)
{
	struct dual_model *m = self;
	(void)now;
	if (m->down)
		return INT64_MAX;
	int64_t t = INT64_MAX;
	for (size_t i = 0; i < m->npipes; i++)
		if (m->pipes[i].next_run < t)
			t = m->pipes[i].next_run;
	return t;
}

static int dm_run(void *self)
{
	struct dual_model *m = self;
	for (size_t i = 0; i < m->npipes && !m->down; i++) {
		struct dual_pipe *p = &m->pipes[i];
		if (m->w->now < p->next_run)
			continue;
		while (p->next_run <= m->w->now)
			p->next_run += m->interval;
		enum step st = run_pipe(m, p);
		if (m->killed) {
			narrate(m, p, NULL, "process killed inside a call: unpersisted state lost");
			dm_crash(m);
			return 0;
		}
		if (st == STEP_FAIL) {
			snprintf(m->iface->error, sizeof(m->iface->error), "dual: out of memory");
			return CC_ENOMEM;
		}
	}
	return 0;
}

static void dm_webhook(void *self, const struct cc_observation *o)
{
	(void)self, (void)o; /* these pipelines poll */
}

static size_t uf_find(size_t *parent, size_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

static int dm_finish(void *self)
{
	struct dual_model *m = self;
	struct sim_world *w = m->w;
	size_t off[SIM_MAX_SYSTEMS + 1] = { 0 };
	for (size_t s = 0; s < w->nsys; s++)
		off[s + 1] = off[s] + w->sys[s].nrecs;
	size_t n = off[w->nsys];
	size_t *parent = malloc((n ? n : 1) * sizeof(size_t));
	bool *linked = calloc(n ? n : 1, sizeof(bool));
	if (!parent || !linked) {
		free(parent);
		free(linked);
		return CC_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		parent[i] = i;
	for (size_t a = 0; a < w->nsys; a++) {
		for (size_t b = a + 1; b < w->nsys; b++) {
			const struct dual_table *t = &m->tab[a][b];
			for (size_t i = 0; i < t->n; i++) {
				const struct dual_link *l = &t->links[i];
				if (l->rec[0] < 0 || l->rec[1] < 0)
					continue;
				size_t x = uf_find(parent, off[a] + (size_t)l->rec[0]);
				size_t y = uf_find(parent, off[b] + (size_t)l->rec[1]);
				linked[off[a] + (size_t)l->rec[0]] = linked[off[b] + (size_t)l->rec[1]] = true;
				if (x < y)
					parent[y] = x;
				else if (y < x)
					parent[x] = y;
			}
		}
	}
	int rc = 0;
	for (size_t s = 0; s < w->nsys && !rc; s++) {
		for (size_t r = 0; r < w->sys[s].nrecs && !rc; r++) {
			size_t i = off[s] + r;
			if (!linked[i])
				continue;
			size_t root = uf_find(parent, i);
			size_t rs = 0;
			while (off[rs + 1] <= root)
				rs++;
			char key[64];
			snprintf(key, sizeof(key), "dual:%zu:%zu", rs, root - off[rs]);
			struct sim_event e = { .kind = SIM_EV_CLAIM, .t_ms = w->now, .system = (int)s,
				               .record = (int)r, .field = -1, .incident = -1,
				               .claim = sim_claim_key(key) };
			rc = sim_log_append(&w->log, &e);
		}
	}
	free(parent);
	free(linked);
	return rc ? -1 : 0;
}

/* One-way pipelines have no manual queue: nothing is ever parked. */
static int dm_conflicts(void *self, struct sim_conflict *out, size_t max)
{
	(void)self, (void)out, (void)max;
	return 0;
}

static int dm_resolve(void *self, uint64_t case_id, int field, int take, const char *value,
                      const char *by)
{
	(void)self, (void)case_id, (void)field, (void)take, (void)value, (void)by;
	return 1;
}

static void dm_destroy(void *self)
{
	struct dual_model *m = self;
	if (!m)
		return;
	for (size_t a = 0; a < SIM_MAX_SYSTEMS; a++) {
		for (size_t b = 0; b < SIM_MAX_SYSTEMS; b++) {
			struct dual_table *t = &m->tab[a][b];
			for (size_t i = 0; i < t->n; i++) {
				free(t->links[i].id[0]);
				free(t->links[i].id[1]);
			}
			free(t->links);
		}
	}
	for (size_t i = 0; i < m->npipes; i++) {
		for (size_t k = 0; k < m->pipes[i].nmirrored; k++)
			free(m->pipes[i].mirrored[k]);
		free(m->pipes[i].mirrored);
	}
	if (m->w->on_crash == killed && m->w->crash_ctx == m) {
		m->w->on_crash = NULL;
		m->w->crash_ctx = NULL;
	}
	free(m);
}

int sim_dual_model_create(struct sim_integration *out, struct sim_world *w, uint64_t seed,
                          int64_t poll_interval_ms)
{
	(void)seed; /* the model makes no random choice */
	if (poll_interval_ms <= 0 || w->nsys > SIM_MAX_SYSTEMS || w->nsys > CC_MAX_SYSTEMS) {
		snprintf(out->error, sizeof(out->error), "dual: bad cycle or system count");
		return CC_EINVAL;
	}
	struct dual_model *m = calloc(1, sizeof(*m));
	if (!m)
		return CC_EINVAL;
	m->w = w;
	m->iface = out;
	m->interval = poll_interval_ms;
	enum sim_kind kinds[CC_MAX_SYSTEMS];
	int64_t lags[CC_MAX_SYSTEMS];
	for (size_t s = 0; s < w->nsys; s++) {
		kinds[s] = w->sys[s].kind;
		lags[s] = 20000;
	}
	sim_scenario_config(&m->cfg, w->nsys, kinds, lags, poll_interval_ms);
	/* Pipelines in a fixed order; start times spread over the first cycle. */
	size_t npipes = w->nsys * (w->nsys - 1);
	for (size_t a = 0; a < w->nsys; a++) {
		for (size_t b = 0; b < w->nsys; b++) {
			if (a == b)
				continue;
			struct dual_pipe *p = &m->pipes[m->npipes];
			p->from = (int)a;
			p->to = (int)b;
			p->next_run = (int64_t)m->npipes * poll_interval_ms / (int64_t)npipes;
			m->npipes++;
		}
	}
	*out = (struct sim_integration){
		.self = m,
		.next_due = dm_next_due,
		.run = dm_run,
		.webhook = dm_webhook,
		.crash = dm_crash,
		.restart = dm_restart,
		.down = dm_down,
		.finish = dm_finish,
		.conflicts = dm_conflicts,
		.resolve = dm_resolve,
		.destroy = dm_destroy,
	};
	w->on_crash = killed;
	w->crash_ctx = m;
	/* For the story only: the model itself never reads the true offsets. */
	for (size_t s = 0; w->narrate && s < w->nsys; s++)
		fprintf(w->narrate, "-- %s-%zu clock off by %+" PRId64 " s, search lag %" PRId64 " s\n",
		        sim_kind_name(w->sys[s].kind), s, w->sys[s].skew_ms / 1000,
		        w->sys[s].lag_ms / 1000);
	return 0;
}
