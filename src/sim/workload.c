/*
 * Virtual people: they raise incidents (sometimes the same one in two
 * systems within a minute), edit fields in each system's own terms (Jira
 * statuses only through its transitions), close, reopen and comment, and
 * sometimes edit the same field of one incident in two systems within
 * seconds. An operator looks at the integration's manual queue every few
 * minutes and resolves each conflict parked there a while after first
 * seeing it: takes one side, or sets a value. Every action is a true event
 * in the world's log.
 */
#include "sim/sim.h"

#include "sim/scenario.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum action_kind { ACT_CREATE, ACT_EDIT };

struct pending {
	int64_t at;
	enum action_kind kind;
	int sys;
	int rec;
	int field;
	int incident;
	char *values[SF__COUNT];
};

struct sim_people {
	struct sim_world *w;
	struct sim_rng rng;
	int64_t until;
	int64_t gap;
	int64_t mean;
	int64_t next_at;
	int next_incident;
	uint64_t next_comment;
	uint64_t next_update;
	struct pending *q;
	size_t nq, capq;
	uint8_t used_titles[12 * 12 * 12 * 12 / 8]; /* titles given to incidents so far */
	/* the operator of the manual queue (sim_people_operate) */
	struct sim_integration *integ; /* NULL: nobody looks */
	struct sim_rng orng;           /* the operator's own stream: people act as before */
	int64_t op_next, op_until;
	struct seen_conflict *seen;    /* conflicts seen and not resolved yet */
	size_t nseen, capseen;
};

/* A conflict the operator has seen in the queue. */
struct seen_conflict {
	uint64_t case_id;
	int field;
	int64_t seen_ms;  /* first seen (SIM_EV_PARK_SEEN) */
	int64_t act_ms;   /* resolved at the first look from then on */
	int sys, rec;     /* the record that names it in the log */
};

#define OP_LOOK_MAX 32     /* conflicts one look takes in */
#define OP_LOOK_MIN_MS (2 * 60 * 1000)
#define OP_LOOK_MAX_MS (8 * 60 * 1000)
#define OP_DELAY_MIN_MS (5 * 60 * 1000)
#define OP_DELAY_MAX_MS (40 * 60 * 1000)
#define OP_STOP_BEFORE_QUIET_MS (30 * 60 * 1000)

static const char *const w_service[] = { "VPN", "Mail", "Printer", "Payroll", "Wiki", "Badge",
	                                 "Storage", "Firewall", "Laptop", "Phone", "Backup", "DNS" };
static const char *const w_problem[] = { "outage", "timeout", "crash", "slowness", "lockout",
	                                 "failure", "error", "leak", "alert", "freeze",
	                                 "corruption", "latency" };
static const char *const w_place[] = { "Berlin", "Paris", "Madrid", "Oslo", "Vienna", "Dublin",
	                               "Prague", "Lisbon", "Warsaw", "Athens", "Zurich", "Rome" };
static const char *const w_extra[] = { "morning", "evening", "weekend", "floor", "branch",
	                               "campus", "tower", "annex", "lab", "depot", "studio",
	                               "harbour" };
#define NW(a) (sizeof(a) / sizeof(a[0]))

static const char *pick(struct sim_rng *r, const char *const *list, size_t n)
{
	return list[sim_rng_below(r, n)];
}

static size_t count(const char *const *list)
{
	size_t n = 0;
	while (list[n])
		n++;
	return n;
}

/*
 * A new incident's title. Different incidents never share one in a run:
 * two incidents nobody could tell apart would make any duplicate detection
 * a coin toss, which is not what the simulator sets out to measure.
 */
static void make_title(struct sim_people *p, char *buf, size_t len)
{
	for (;;) {
		size_t a = (size_t)sim_rng_below(&p->rng, NW(w_service));
		size_t b = (size_t)sim_rng_below(&p->rng, NW(w_problem));
		size_t c = (size_t)sim_rng_below(&p->rng, NW(w_place));
		size_t d = (size_t)sim_rng_below(&p->rng, NW(w_extra));
		size_t key = ((a * NW(w_problem) + b) * NW(w_place) + c) * NW(w_extra) + d;
		if (p->used_titles[key / 8] & (1u << (key % 8)))
			continue;
		p->used_titles[key / 8] |= (uint8_t)(1u << (key % 8));
		snprintf(buf, len, "%s %s in %s %s", w_service[a], w_problem[b], w_place[c], w_extra[d]);
		return;
	}
}

/* The same title as another person would type it. */
static void perturb_title(struct sim_people *p, const char *in, char *buf, size_t len)
{
	switch (sim_rng_below(&p->rng, 4)) {
	case 0:
		snprintf(buf, len, "RE: %s", in);
		break;
	case 1: {
		snprintf(buf, len, "%s", in);
		for (char *c = buf; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		break;
	}
	case 2: {
		size_t o = 0;
		for (const char *c = in; *c && o + 2 < len; c++) {
			buf[o++] = *c;
			if (*c == ' ')
				buf[o++] = ' ';
		}
		buf[o] = '\0';
		break;
	}
	default: {
		/* one-letter typo inside the longest word */
		snprintf(buf, len, "%s", in);
		char *best = NULL;
		size_t bestlen = 0;
		for (char *c = buf; *c;) {
			char *s = c;
			while (*c && *c != ' ')
				c++;
			if ((size_t)(c - s) > bestlen) {
				best = s;
				bestlen = (size_t)(c - s);
			}
			while (*c == ' ')
				c++;
		}
		if (best && bestlen >= 5)
			best[bestlen / 2] = best[bestlen / 2] == 'x' ? 'y' : 'x';
		break;
	}
	}
}

static void make_description(struct sim_people *p, enum sim_kind k, char *buf, size_t len)
{
	/* Sentinel's people paste text with CR LF and trailing blanks. */
	const char *nl = k == SIM_KIND_SENTINEL ? "  \r\n" : "\n";
	snprintf(buf, len, "Users report %s since %02d:%02d.%sSeen by %s.",
	         pick(&p->rng, w_problem, NW(w_problem)), (int)sim_rng_below(&p->rng, 24),
	         (int)sim_rng_below(&p->rng, 60), nl, pick(&p->rng, w_place, NW(w_place)));
}

static const char *person(struct sim_people *p)
{
	return sim_logins[sim_rng_below(&p->rng, count(sim_logins))];
}

static int enqueue(struct sim_people *p, const struct pending *a)
{
	if (p->nq == p->capq) {
		size_t cap = p->capq ? p->capq * 2 : 16;
		struct pending *n = realloc(p->q, cap * sizeof(*n));
		if (!n)
			return CC_ENOMEM;
		p->q = n;
		p->capq = cap;
	}
	p->q[p->nq++] = *a;
	return 0;
}

static void pending_clear(struct pending *a)
{
	for (int f = 0; f < SF__COUNT; f++)
		free(a->values[f]);
}

/* A random new value for a field of a record, different from the current one. */
static bool new_value(struct sim_people *p, int sys, int rec, int f, char *buf, size_t len)
{
	struct sim_world *w = p->w;
	enum sim_kind k = w->sys[sys].kind;
	const char *cur = w->sys[sys].recs[rec].val[f] ? w->sys[sys].recs[rec].val[f] : "";
	for (int tries = 0; tries < 8; tries++) {
		switch (f) {
		case SF_TITLE: {
			/* people refine a title, they rarely replace it */
			char base[160];
			snprintf(base, sizeof(base), "%s", cur);
			char *dash = strstr(base, " - ");
			if (dash)
				*dash = '\0';
			snprintf(buf, len, "%s - %s %s", base, pick(&p->rng, w_problem, NW(w_problem)),
			         pick(&p->rng, w_extra, NW(w_extra)));
			break;
		}
		case SF_DESCRIPTION:
			make_description(p, k, buf, len);
			break;
		case SF_ASSIGNEE:
			sim_kind_user(k, person(p), buf, len);
			break;
		case SF_STATE:
		default: {
			const char *const *vals = sim_kind_values(k, f);
			if (!vals)
				return false;
			/* a Jira-like resolution is on the Done screen only */
			if (f == SF_CLASSIFICATION && k == SIM_KIND_JIRA &&
			    !sim_state_needs_classification(k, w->sys[sys].recs[rec].val[SF_STATE]))
				return false;
			const char *v = vals[sim_rng_below(&p->rng, count(vals))];
			if (f == SF_STATE && k == SIM_KIND_JIRA && !sim_jira_transition(cur, v))
				continue;
			snprintf(buf, len, "%s", v);
			break;
		}
		}
		if (strcmp(buf, cur) != 0)
			return true;
	}
	return false;
}

static const int editable[] = { SF_TITLE, SF_DESCRIPTION, SF_STATE, SF_STATE, SF_PRIORITY,
	                        SF_ASSIGNEE, SF_CLASSIFICATION };

/* The classification a new record is raised with: none on a Jira-like issue
 * (no resolution before Done). */
static const char *initial_classification(enum sim_kind k)
{
	return k == SIM_KIND_JIRA ? "" : "Undetermined";
}

static int do_create(struct sim_people *p)
{
	struct sim_world *w = p->w;
	int sys = (int)sim_rng_below(&p->rng, w->nsys);
	enum sim_kind k = w->sys[sys].kind;
	char title[160], desc[256], assignee[64];
	const char *vals[SF__COUNT] = { 0 };
	make_title(p, title, sizeof(title));
	make_description(p, k, desc, sizeof(desc));
	vals[SF_TITLE] = title;
	vals[SF_DESCRIPTION] = desc;
	vals[SF_STATE] = sim_kind_initial_state(k);
	const char *const *pr = sim_kind_values(k, SF_PRIORITY);
	vals[SF_PRIORITY] = pr[sim_rng_below(&p->rng, count(pr))];
	assignee[0] = '\0';
	if (sim_rng_chance(&p->rng, 0.5))
		sim_kind_user(k, person(p), assignee, sizeof(assignee));
	vals[SF_ASSIGNEE] = assignee;
	const char *caller = sim_callers[sim_rng_below(&p->rng, count(sim_callers))];
	vals[SF_CALLER] = sim_kind_carries(k, SF_CALLER) ? caller : NULL;
	vals[SF_CLASSIFICATION] = initial_classification(k);
	int group = (int)sim_rng_below(&p->rng, 3);
	const char *const *gv = sim_kind_values(k, SF_GROUP);
	vals[SF_GROUP] = gv ? gv[group] : NULL;
	int incident = ++p->next_incident;
	if (sim_person_create(w, sys, vals, incident, person(p)) < 0)
		return CC_ENOMEM;

	/* The same incident raised in another system within a minute. */
	if (p->gap == 0 && sim_rng_chance(&p->rng, 0.2)) {
		int sys2 = (int)((size_t)(sys + 1 + (int)sim_rng_below(&p->rng, w->nsys - 1)) % w->nsys);
		enum sim_kind k2 = w->sys[sys2].kind;
		struct pending a = { .at = w->now + sim_rng_range(&p->rng, 0, 60000),
			             .kind = ACT_CREATE, .sys = sys2, .incident = incident };
		char t2[200], d2[256];
		perturb_title(p, title, t2, sizeof(t2));
		make_description(p, k2, d2, sizeof(d2));
		const char *const *pr2 = sim_kind_values(k2, SF_PRIORITY);
		const char *const *gv2 = sim_kind_values(k2, SF_GROUP);
		const char *v2[SF__COUNT] = {
			[SF_TITLE] = t2,
			[SF_DESCRIPTION] = d2,
			[SF_STATE] = sim_kind_initial_state(k2),
			[SF_PRIORITY] = pr2[sim_rng_below(&p->rng, count(pr2))],
			[SF_ASSIGNEE] = "",
			[SF_CALLER] = sim_kind_carries(k2, SF_CALLER) ? caller : NULL,
			[SF_CLASSIFICATION] = initial_classification(k2),
			[SF_GROUP] = gv2 ? gv2[group] : NULL,
		};
		for (int f = 0; f < SF__COUNT; f++)
			if (v2[f] && !(a.values[f] = strdup(v2[f])))
				return CC_ENOMEM;
		if (enqueue(p, &a)) {
			pending_clear(&a);
			return CC_ENOMEM;
		}
	}
	return 0;
}

static int pick_record(struct sim_people *p, int *sys, int *rec)
{
	struct sim_world *w = p->w;
	for (int tries = 0; tries < 8; tries++) {
		int s = (int)sim_rng_below(&p->rng, w->nsys);
		size_t n = w->sys[s].nrecs;
		if (n == 0)
			continue;
		/* mostly recent records: that is where work happens */
		int64_t back = sim_rng_exp(&p->rng, 6) - 1;
		if ((size_t)back >= n)
			back = (int64_t)sim_rng_below(&p->rng, n);
		*sys = s;
		*rec = (int)(n - 1 - (size_t)back);
		return 0;
	}
	return CC_ENOTFOUND;
}

/* Another record the integration holds together with this one, in another system. */
static bool sibling(struct sim_people *p, int sys, int rec, int field, int *osys, int *orec)
{
	struct sim_world *w = p->w;
	uint64_t g = w->sys[sys].recs[rec].group;
	if (!g)
		return false;
	for (size_t s = 0; s < w->nsys; s++) {
		if ((int)s == sys || !sim_kind_carries(w->sys[s].kind, field))
			continue;
		for (size_t i = 0; i < w->sys[s].nrecs; i++) {
			if (w->sys[s].recs[i].group == g) {
				*osys = (int)s;
				*orec = (int)i;
				return true;
			}
		}
	}
	return false;
}

/*
 * A person's edit of field f. A state that needs the classification field
 * (scenario.h) is set with one, as the system's form asks for it: the
 * person picks a value when the record has none.
 */
static void person_edit(struct sim_people *p, int sys, int rec, int f, const char *v)
{
	struct sim_world *w = p->w;
	enum sim_kind k = w->sys[sys].kind;
	const char *who = person(p);
	if (sim_person_edit(w, sys, rec, f, v, who) <= 0 || f != SF_STATE ||
	    !sim_state_needs_classification(k, v))
		return;
	const char *cur = w->sys[sys].recs[rec].val[SF_CLASSIFICATION];
	const char *const *vals = sim_kind_values(k, SF_CLASSIFICATION);
	if ((!cur || !cur[0]) && vals)
		sim_person_edit(w, sys, rec, SF_CLASSIFICATION,
		                vals[sim_rng_below(&p->rng, count(vals))], who);
}

static int do_edit(struct sim_people *p)
{
	struct sim_world *w = p->w;
	int sys, rec;
	if (pick_record(p, &sys, &rec))
		return 0;
	int f = editable[sim_rng_below(&p->rng, NW(editable))];
	if (!sim_kind_carries(w->sys[sys].kind, f))
		return 0;
	char v[256];
	if (new_value(p, sys, rec, f, v, sizeof(v)))
		person_edit(p, sys, rec, f, v);
	int osys, orec;
	if (p->gap == 0 && sim_rng_chance(&p->rng, 0.15) && sibling(p, sys, rec, f, &osys, &orec)) {
		/* someone else edits the same field of the same incident, seconds apart */
		struct pending a = { .at = w->now + sim_rng_range(&p->rng, 0, 5000), .kind = ACT_EDIT,
			             .sys = osys, .rec = orec, .field = f, .incident = -1 };
		if (enqueue(p, &a))
			return CC_ENOMEM;
	}
	return 0;
}

static int do_comment(struct sim_people *p)
{
	int sys, rec;
	if (pick_record(p, &sys, &rec))
		return 0;
	char body[128];
	const char *who = person(p);
	snprintf(body, sizeof(body), "Note %" PRIu64 " from %s: checked again.", ++p->next_comment,
	         who);
	return sim_person_comment(p->w, sys, rec, body, who) < 0 ? -1 : 0;
}

static int run_pending(struct sim_people *p, struct pending *a)
{
	struct sim_world *w = p->w;
	int rc = 0;
	if (a->kind == ACT_CREATE) {
		const char *vals[SF__COUNT];
		for (int f = 0; f < SF__COUNT; f++)
			vals[f] = a->values[f];
		rc = sim_person_create(w, a->sys, vals, a->incident, person(p)) < 0 ? -1 : 0;
	} else {
		char v[256];
		if (new_value(p, a->sys, a->rec, a->field, v, sizeof(v)))
			person_edit(p, a->sys, a->rec, a->field, v);
	}
	return rc;
}

/* ---- the operator ------------------------------------------------------ */

static struct seen_conflict *find_seen(struct sim_people *p, uint64_t case_id, int field)
{
	for (size_t i = 0; i < p->nseen; i++)
		if (p->seen[i].case_id == case_id && p->seen[i].field == field)
			return &p->seen[i];
	return NULL;
}

static int log_queue_event(struct sim_people *p, enum sim_ev_kind kind, int sys, int rec,
                           int field, const char *value, int64_t since)
{
	struct sim_event e = { .kind = kind, .t_ms = p->w->now, .system = sys, .record = rec,
		               .field = field, .value = (char *)value, .incident = -1,
		               .since_ms = since };
	return sim_log_append(&p->w->log, &e);
}

/* Takes a side or sets a value; 0 done or not now, -1 on an error. */
static int decide(struct sim_people *p, const struct sim_conflict *k, struct seen_conflict *sc)
{
	uint64_t roll = sim_rng_below(&p->orng, 10);
	const char *by = sim_logins[sim_rng_below(&p->orng, count(sim_logins))];
	int take = k->parked_system;
	const char *value = k->parked_value;
	if (roll >= 4 && roll < 8 && k->case_system >= 0 && k->case_system != k->parked_system) {
		take = k->case_system;
		value = k->case_value;
	} else if (roll >= 8 && k->field == SF_ASSIGNEE) {
		take = -1; /* someone else takes it over */
		value = sim_logins[sim_rng_below(&p->orng, count(sim_logins))];
	}
	int rc = p->integ->resolve(p->integ->self, k->case_id, k->field, take, value, by);
	if (rc)
		return rc < 0 ? -1 : 0; /* not done: tried again at the next look */
	if (log_queue_event(p, SIM_EV_PERSON_RESOLVE, sc->sys, sc->rec, k->field, value,
	                    sc->seen_ms))
		return CC_ENOMEM;
	*sc = p->seen[--p->nseen];
	return 0;
}

/* One look at the queue: new conflicts are noted, those seen long enough decided. */
static int operator_look(struct sim_people *p)
{
	struct sim_world *w = p->w;
	struct sim_conflict list[OP_LOOK_MAX];
	int n = p->integ->conflicts(p->integ->self, list, OP_LOOK_MAX);
	if (n < 0)
		return 0; /* down: the next look */
	/* forget what is no longer there (nothing but a resolution clears it) */
	for (size_t i = 0; i < p->nseen;) {
		bool listed = false;
		for (int k = 0; k < n && !listed; k++)
			listed = list[k].case_id == p->seen[i].case_id && list[k].field == p->seen[i].field;
		if (listed || n == OP_LOOK_MAX)
			i++;
		else
			p->seen[i] = p->seen[--p->nseen];
	}
	for (int k = 0; k < n; k++) {
		struct seen_conflict *sc = find_seen(p, list[k].case_id, list[k].field);
		if (sc) {
			if (sc->act_ms <= w->now && decide(p, &list[k], sc))
				return CC_ENOMEM;
			continue;
		}
		int rec = sim_find_record(w, list[k].record_system, list[k].record_id);
		if (rec < 0)
			continue;
		if (p->nseen == p->capseen) {
			size_t cap = p->capseen ? p->capseen * 2 : 16;
			struct seen_conflict *nn = realloc(p->seen, cap * sizeof(*nn));
			if (!nn)
				return CC_ENOMEM;
			p->seen = nn;
			p->capseen = cap;
		}
		p->seen[p->nseen++] = (struct seen_conflict){
			.case_id = list[k].case_id, .field = list[k].field, .seen_ms = w->now,
			.act_ms = w->now + sim_rng_range(&p->orng, OP_DELAY_MIN_MS, OP_DELAY_MAX_MS),
			.sys = list[k].record_system, .rec = rec };
		if (log_queue_event(p, SIM_EV_PARK_SEEN, list[k].record_system, rec, list[k].field,
		                    NULL, 0))
			return CC_ENOMEM;
	}
	return 0;
}

void sim_people_operate(struct sim_people *p, struct sim_integration *integ)
{
	p->integ = integ && integ->conflicts && integ->resolve ? integ : NULL;
}

int sim_people_finish(struct sim_people *p)
{
	if (!p || !p->integ)
		return 0;
	size_t max = 4096;
	struct sim_conflict *list = calloc(max, sizeof(*list));
	if (!list)
		return CC_ENOMEM;
	int n = p->integ->conflicts(p->integ->self, list, max);
	int rc = 0;
	for (int k = 0; k < n && rc == 0; k++) {
		int rec = sim_find_record(p->w, list[k].record_system, list[k].record_id);
		if (rec >= 0)
			rc = log_queue_event(p, SIM_EV_PARKED_AT_END, list[k].record_system, rec,
			                     list[k].field, NULL, 0);
	}
	free(list);
	return rc;
}

/* ---- the people's clock ------------------------------------------------- */

int64_t sim_people_next(struct sim_people *p)
{
	int64_t t = p->next_at < p->until ? p->next_at : INT64_MAX;
	if (p->integ && p->op_next < p->op_until && p->op_next < t)
		t = p->op_next;
	for (size_t i = 0; i < p->nq; i++)
		if (p->q[i].at < t)
			t = p->q[i].at;
	return t;
}

int sim_people_act(struct sim_people *p)
{
	struct sim_world *w = p->w;
	/* queued follow-ups first, earliest first */
	for (;;) {
		size_t best = SIZE_MAX;
		for (size_t i = 0; i < p->nq; i++)
			if (p->q[i].at <= w->now && (best == SIZE_MAX || p->q[i].at < p->q[best].at))
				best = i;
		if (best == SIZE_MAX)
			break;
		struct pending a = p->q[best];
		p->q[best] = p->q[--p->nq];
		int rc = run_pending(p, &a);
		pending_clear(&a);
		if (rc)
			return rc;
	}
	if (p->integ && p->op_next <= w->now && p->op_next < p->op_until) {
		p->op_next = w->now + sim_rng_range(&p->orng, OP_LOOK_MIN_MS, OP_LOOK_MAX_MS);
		if (operator_look(p))
			return CC_ENOMEM;
	}
	if (p->next_at > w->now || p->next_at >= p->until)
		return 0;
	int64_t gap = sim_rng_exp(&p->rng, p->mean);
	if (gap < p->gap)
		gap = p->gap;
	p->next_at = w->now + gap;
	uint64_t roll = sim_rng_below(&p->rng, 100);
	bool any = false;
	for (size_t s = 0; s < w->nsys; s++)
		any = any || w->sys[s].nrecs > 0;
	if (roll < 15 || !any)
		return do_create(p);
	if (roll < 80)
		return do_edit(p);
	return do_comment(p);
}

void sim_people_group(struct sim_world *w, int sys, int rec, uint64_t group)
{
	if (sys >= 0 && (size_t)sys < w->nsys && rec >= 0 && (size_t)rec < w->sys[sys].nrecs)
		w->sys[sys].recs[rec].group = group;
}

int sim_people_create(struct sim_people **out, struct sim_world *w, uint64_t seed,
                      const struct sim_options *opt)
{
	struct sim_people *p = calloc(1, sizeof(*p));
	if (!p)
		return CC_ENOMEM;
	p->w = w;
	sim_rng_seed(&p->rng, seed * 0xbf58476d1ce4e5b9ULL + 7);
	p->until = opt->edit_ms;
	p->gap = opt->min_edit_gap_ms;
	p->mean = opt->mean_action_ms;
	p->next_at = sim_rng_exp(&p->rng, p->mean);
	sim_rng_seed(&p->orng, seed * 0xda942042e4dd58b5ULL + 13);
	p->op_next = sim_rng_range(&p->orng, OP_LOOK_MIN_MS, OP_LOOK_MAX_MS);
	p->op_until = opt->edit_ms + opt->quiesce_ms - OP_STOP_BEFORE_QUIET_MS;
	*out = p;
	return 0;
}

void sim_people_destroy(struct sim_people *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nq; i++)
		pending_clear(&p->q[i]);
	free(p->q);
	free(p->seen);
	free(p);
}
