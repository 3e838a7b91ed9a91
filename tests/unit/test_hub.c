/*
 * Unit tests of src/core/hub.c: the sync pipeline (struct cc_hub) driven
 * against small fake in-memory remote systems written here (records with a
 * remote version, per-field values and modification times, comments and a
 * correlation id; each has its own clock, reported through the Date of
 * every call; results can be scripted: OK, RETRY with an unknown outcome
 * after applying, CONFLICT on an expected_rv mismatch, RETRY with
 * Retry-After), a fake hub clock and random source, and the memory store.
 *
 * Covered: create of a new record elsewhere behind the create gate, echo
 * suppression, propagation of a person's change, older changes losing
 * (with clock skew corrected), lossy states not oscillating, writes and
 * creates of unknown outcome resolved without a second write, comments
 * mirrored once each way, duplicate and stale observations, Retry-After,
 * conditional-write conflicts, poll paging.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/connector.h"
#include "core/driver.h"
#include "core/hub.h"
#include "core/redact.h"
#include "store/store.h"

enum { F_TITLE, F_STATE, F_PRIO, F_RES, NF };
enum { A, B, C, NSYS };

#define T0 1700000000123LL
#define SETTLE_MS 2000
#define MAX_RECS 16
#define MAX_CMS 8

/* ---- the fake remote system ---------------------------------------------- */

enum fake_act {
	ACT_OK = 0,
	ACT_UNKNOWN_APPLIED, /* applies the call, then answers RETRY, outcome unknown */
	ACT_RETRY_AFTER,     /* does nothing, answers RETRY with retry_after_ms */
};

struct fake_script {
	enum fake_act act;
	int64_t retry_after_ms;
};

struct fake_comment {
	char *id, *body, *author;
	int64_t created_s;
};

struct fake_rec {
	char *id;
	uint64_t rv;
	int64_t mtime_s;
	int64_t created_s;
	char *corr;
	char *val[NF];
	int64_t fmtime[NF];
	char *author[NF];
	struct fake_comment cm[MAX_CMS];
	size_t ncm;
};

struct fake {
	int sys;
	const char *prefix;
	const int64_t *hub_now;
	int64_t offset_ms; /* remote clock minus hub clock */
	struct fake_rec rec[MAX_RECS];
	size_t nrec;
	uint64_t rv_counter;
	int next_rec, next_cm;
	bool check_rv;
	bool no_date; /* answers carry no Date header (Redmine behind thin) */
	/* when set: the hub process "dies" right after the next create or
	 * update was applied remotely (the store refuses every later commit) */
	struct cc_store *crash_after_write;
	/* one-shot scripts, reset to ACT_OK after use */
	struct fake_script next_update, next_create, next_comment;
	/* one-shot: a person's edit that lands during the next update, after
	 * the write and before its read-back (race_value NULL: none) */
	int race_field;
	const char *race_value;
	int n_list, n_read, n_find, n_create, n_update, n_comment;
	int fail_list; /* the next listings answer RETRY (a malformed answer) */
	int fail_webhook; /* the next webhook reads answer RETRY (a 503) */
	const char *fail_reason;
	int64_t fail_retry_after_ms; /* ... with this Retry-After */
	bool refuse; /* every create and update answers ERROR (a 400: a field the
	              * system requires is missing), until cleared */
};

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t remote_now_s(const struct fake *f)
{
	return floor_div(*f->hub_now + f->offset_ms, 1000);
}

static char *xstrdup(const char *s)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	assert_non_null(d);
	return d;
}

static void xset(char **slot, const char *v)
{
	free(*slot);
	*slot = xstrdup(v);
}

static void fill_call(const struct fake *f, struct cc_call *call, enum cc_result r)
{
	call->result = r;
	call->requests = 1;
	call->has_date = !f->no_date;
	call->date_s = f->no_date ? 0 : remote_now_s(f);
}

static struct fake_rec *find_rec(struct fake *f, const char *id)
{
	for (size_t i = 0; i < f->nrec; i++)
		if (id && strcmp(f->rec[i].id, id) == 0)
			return &f->rec[i];
	return NULL;
}

static void bump(struct fake *f, struct fake_rec *r)
{
	r->rv = ++f->rv_counter;
	r->mtime_s = remote_now_s(f);
}

static void rec_to_obs(const struct fake *f, const struct fake_rec *r, struct cc_observation *o)
{
	cc_observation_init(o);
	o->system = f->sys;
	o->remote_id = xstrdup(r->id);
	o->rv = r->rv;
	o->mtime_s = r->mtime_s;
	o->created_s = r->created_s;
	o->correlation_id = xstrdup(r->corr);
	for (int i = 0; i < NF; i++)
		assert_int_equal(cc_observation_set(o, i, r->val[i] ? r->val[i] : "", r->fmtime[i],
		                                    r->author[i]), CC_EOK);
	for (size_t i = 0; i < r->ncm; i++)
		assert_int_equal(cc_observation_add_comment(o, r->cm[i].id, r->cm[i].body,
		                                            r->cm[i].author, r->cm[i].created_s),
		                 CC_EOK);
}

/* (mtime, id) order of the change feed */
static int feed_cmp(const struct fake_rec *a, int64_t mt, const char *id)
{
	if (a->mtime_s != mt)
		return a->mtime_s < mt ? -1 : 1;
	return strcmp(a->id, id);
}

static enum cc_result fake_list(void *self, int64_t since_s, int64_t after_mtime_s,
                                const char *after_id, size_t page_size, struct cc_page *out,
                                struct cc_call *call)
{
	struct fake *f = self;
	f->n_list++;
	if (f->fail_list > 0) {
		f->fail_list--;
		fill_call(f, call, CC_RETRY);
		snprintf(call->reason, sizeof(call->reason), "%s",
		         f->fail_reason ? f->fail_reason : "fake list: malformed answer: {}");
		call->retry_after_ms = f->fail_retry_after_ms;
		return CC_RETRY;
	}
	struct fake_rec *sel[MAX_RECS];
	size_t n = 0;
	for (size_t i = 0; i < f->nrec; i++) {
		struct fake_rec *r = &f->rec[i];
		if (r->mtime_s < since_s)
			continue;
		if (after_id && feed_cmp(r, after_mtime_s, after_id) <= 0)
			continue;
		/* insertion sort by (mtime, id) */
		size_t j = n++;
		while (j > 0 && feed_cmp(sel[j - 1], r->mtime_s, r->id) > 0) {
			sel[j] = sel[j - 1];
			j--;
		}
		sel[j] = r;
	}
	size_t take = n < page_size ? n : page_size;
	out->items = take ? calloc(take, sizeof(*out->items)) : NULL;
	out->nitems = take;
	out->more = n > page_size;
	for (size_t i = 0; i < take; i++)
		rec_to_obs(f, sel[i], &out->items[i]);
	fill_call(f, call, CC_OK);
	return CC_OK;
}

static enum cc_result fake_read(void *self, const char *remote_id, struct cc_observation *out,
                                struct cc_call *call)
{
	struct fake *f = self;
	f->n_read++;
	struct fake_rec *r = find_rec(f, remote_id);
	if (!r) {
		fill_call(f, call, CC_ERROR);
		snprintf(call->reason, sizeof(call->reason), "no record %s", remote_id);
		return CC_ERROR;
	}
	rec_to_obs(f, r, out);
	fill_call(f, call, CC_OK);
	return CC_OK;
}

static enum cc_result fake_find(void *self, const char *corr, struct cc_observation *out,
                                bool *found, struct cc_call *call)
{
	struct fake *f = self;
	f->n_find++;
	*found = false;
	for (size_t i = 0; i < f->nrec; i++) {
		if (f->rec[i].corr && strcmp(f->rec[i].corr, corr) == 0) {
			rec_to_obs(f, &f->rec[i], out);
			*found = true;
			break;
		}
	}
	fill_call(f, call, CC_OK);
	return CC_OK;
}

static struct fake_rec *new_rec(struct fake *f)
{
	assert_true(f->nrec < MAX_RECS);
	struct fake_rec *r = &f->rec[f->nrec++];
	memset(r, 0, sizeof(*r));
	char id[32];
	snprintf(id, sizeof(id), "%s-%d", f->prefix, ++f->next_rec);
	r->id = xstrdup(id);
	bump(f, r);
	return r;
}

static enum cc_result script_answer(struct fake *f, struct fake_script *s, struct cc_call *call,
                                    bool *apply)
{
	struct fake_script sc = *s;
	*s = (struct fake_script){ ACT_OK, 0 };
	*apply = sc.act != ACT_RETRY_AFTER;
	switch (sc.act) {
	case ACT_UNKNOWN_APPLIED:
		fill_call(f, call, CC_RETRY);
		call->outcome_unknown = true;
		snprintf(call->reason, sizeof(call->reason), "timeout");
		return CC_RETRY;
	case ACT_RETRY_AFTER:
		fill_call(f, call, CC_RETRY);
		call->retry_after_ms = sc.retry_after_ms;
		snprintf(call->reason, sizeof(call->reason), "429");
		return CC_RETRY;
	case ACT_OK:
	default:
		fill_call(f, call, CC_OK);
		return CC_OK;
	}
}

static enum cc_result fake_create(void *self, const struct cc_write *w, struct cc_observation *out,
                                  struct cc_call *call)
{
	struct fake *f = self;
	f->n_create++;
	if (f->refuse) {
		fill_call(f, call, CC_ERROR);
		snprintf(call->reason, sizeof(call->reason), "400 required field");
		return CC_ERROR;
	}
	bool apply;
	enum cc_result r = script_answer(f, &f->next_create, call, &apply);
	if (!apply)
		return r;
	struct fake_rec *rec = new_rec(f);
	rec->corr = xstrdup(w->correlation_id);
	for (int i = 0; i < NF; i++) {
		if (!w->values[i])
			continue;
		rec->val[i] = xstrdup(w->values[i]);
		rec->fmtime[i] = rec->mtime_s;
		rec->author[i] = xstrdup("concord");
	}
	if (r == CC_OK)
		rec_to_obs(f, rec, out);
	if (f->crash_after_write) {
		cc_store_memory_crash(f->crash_after_write);
		f->crash_after_write = NULL;
	}
	return r;
}

static enum cc_result fake_update(void *self, const struct cc_write *w, struct cc_observation *out,
                                  struct cc_call *call)
{
	struct fake *f = self;
	f->n_update++;
	if (f->refuse) {
		fill_call(f, call, CC_ERROR);
		snprintf(call->reason, sizeof(call->reason), "400 required field");
		return CC_ERROR;
	}
	struct fake_rec *rec = find_rec(f, w->remote_id);
	if (!rec) {
		fill_call(f, call, CC_ERROR);
		return CC_ERROR;
	}
	if (f->check_rv && w->expected_rv && w->expected_rv != rec->rv) {
		fill_call(f, call, CC_CONFLICT);
		return CC_CONFLICT;
	}
	bool apply;
	enum cc_result r = script_answer(f, &f->next_update, call, &apply);
	if (!apply)
		return r;
	bump(f, rec);
	for (int i = 0; i < NF; i++) {
		if (!w->values[i])
			continue;
		xset(&rec->val[i], w->values[i]);
		rec->fmtime[i] = rec->mtime_s;
		xset(&rec->author[i], "concord");
	}
	if (f->race_value) {
		bump(f, rec);
		xset(&rec->val[f->race_field], f->race_value);
		rec->fmtime[f->race_field] = rec->mtime_s;
		xset(&rec->author[f->race_field], "person");
		f->race_value = NULL;
	}
	if (r == CC_OK)
		rec_to_obs(f, rec, out);
	if (f->crash_after_write) {
		cc_store_memory_crash(f->crash_after_write);
		f->crash_after_write = NULL;
	}
	return r;
}

static void add_rec_comment(struct fake *f, struct fake_rec *rec, const char *body,
                            const char *author, char **out_id)
{
	assert_true(rec->ncm < MAX_CMS);
	char id[32];
	snprintf(id, sizeof(id), "%s-c%d", f->prefix, ++f->next_cm);
	struct fake_comment *cm = &rec->cm[rec->ncm++];
	cm->id = xstrdup(id);
	cm->body = xstrdup(body);
	cm->author = xstrdup(author);
	cm->created_s = remote_now_s(f);
	bump(f, rec);
	if (out_id)
		*out_id = xstrdup(id);
}

static enum cc_result fake_add_comment(void *self, const char *remote_id, const char *body,
                                       char **out_id, struct cc_call *call)
{
	struct fake *f = self;
	f->n_comment++;
	struct fake_rec *rec = find_rec(f, remote_id);
	if (!rec) {
		fill_call(f, call, CC_ERROR);
		return CC_ERROR;
	}
	bool apply;
	enum cc_result r = script_answer(f, &f->next_comment, call, &apply);
	if (!apply)
		return r;
	add_rec_comment(f, rec, body, "concord", r == CC_OK ? out_id : NULL);
	return r;
}

/* A webhook body is a record id here; the record is read as it is now. */
static enum cc_result fake_webhook(void *self, const char *body, size_t len,
                                   struct cc_page *out, struct cc_call *call)
{
	struct fake *f = self;
	char id[32];
	snprintf(id, sizeof(id), "%.*s", (int)(len < sizeof(id) ? len : sizeof(id) - 1), body);
	if (f->fail_webhook > 0) {
		f->fail_webhook--;
		fill_call(f, call, CC_RETRY);
		snprintf(call->reason, sizeof(call->reason), "HTTP 503");
		return CC_RETRY;
	}
	struct fake_rec *r = find_rec(f, id);
	if (!r) {
		fill_call(f, call, CC_ERROR);
		snprintf(call->reason, sizeof(call->reason), "body names no record");
		return CC_ERROR;
	}
	out->items = calloc(1, sizeof(*out->items));
	assert_non_null(out->items);
	out->nitems = 1;
	rec_to_obs(f, r, &out->items[0]);
	fill_call(f, call, CC_OK);
	return CC_OK;
}

static void fake_destroy(void *self)
{
	struct fake *f = self;
	for (size_t i = 0; i < f->nrec; i++) {
		struct fake_rec *r = &f->rec[i];
		free(r->id);
		free(r->corr);
		for (int k = 0; k < NF; k++) {
			free(r->val[k]);
			free(r->author[k]);
		}
		for (size_t k = 0; k < r->ncm; k++) {
			free(r->cm[k].id);
			free(r->cm[k].body);
			free(r->cm[k].author);
		}
	}
	f->nrec = 0;
}

static const struct cc_connector_ops fake_ops = {
	.version = CC_CONNECTOR_OPS_VERSION,
	.kind = "fake",
	.list_changes = fake_list,
	.read = fake_read,
	.find_by_correlation = fake_find,
	.create = fake_create,
	.update = fake_update,
	.add_comment = fake_add_comment,
	.webhook = fake_webhook,
	.destroy = fake_destroy,
};

/* A person's edits in a remote system. */
static const char *person_new(struct fake *f, const char *title, const char *state,
                              const char *prio)
{
	struct fake_rec *r = new_rec(f);
	const char *v[NF] = { title, state, prio, "" };
	for (int i = 0; i < NF; i++) {
		r->val[i] = xstrdup(v[i]);
		r->fmtime[i] = r->mtime_s;
		r->author[i] = xstrdup("person");
	}
	return r->id;
}

static void person_edit(struct fake *f, const char *id, int field, const char *value)
{
	struct fake_rec *r = find_rec(f, id);
	assert_non_null(r);
	bump(f, r);
	xset(&r->val[field], value);
	r->fmtime[field] = r->mtime_s;
	xset(&r->author[field], "person");
}

/*
 * A value concord's account set at the record's creation, seen later (a
 * create whose next step failed): the field's time is the creation's.
 */
static void concord_at_create(struct fake *f, const char *id, int field, const char *value)
{
	struct fake_rec *r = find_rec(f, id);
	assert_non_null(r);
	r->created_s = r->mtime_s;
	bump(f, r);
	xset(&r->val[field], value);
	r->fmtime[field] = r->created_s;
	xset(&r->author[field], "concord");
}

/* A later edit made with concord's account (by a person using it). */
static void concord_edit(struct fake *f, const char *id, int field, const char *value)
{
	struct fake_rec *r = find_rec(f, id);
	assert_non_null(r);
	bump(f, r);
	xset(&r->val[field], value);
	r->fmtime[field] = r->mtime_s;
	xset(&r->author[field], "concord");
}

/* An edit of a field the hub does not map: a new remote version only. */
static void person_touch(struct fake *f, const char *id)
{
	struct fake_rec *r = find_rec(f, id);
	assert_non_null(r);
	bump(f, r);
}

static void person_comment(struct fake *f, const char *id, const char *body)
{
	struct fake_rec *r = find_rec(f, id);
	assert_non_null(r);
	add_rec_comment(f, r, body, "person", NULL);
}

static const char *val(struct fake *f, size_t rec, int field)
{
	assert_true(rec < f->nrec);
	return f->rec[rec].val[field] ? f->rec[rec].val[field] : "";
}

/* ---- the world: config, store, fakes, hub --------------------------------- */

static const char *const s_new[] = { "new", NULL };
static const char *const s_active[] = { "in_progress", "on_hold", NULL };
static const char *const s_closed[] = { "resolved", "closed", "canceled", NULL };
static const struct cc_value_entry sentinel_state[] = {
	CC_VALUE("New", s_new, NULL),
	CC_VALUE("Active", s_active, NULL),
	{ .remote = "Closed", .canonical = s_closed, .dflt = "resolved",
	  .companions = (const struct cc_companion[]){ { F_RES, "Undetermined" } },
	  .ncompanions = 1 },
};
static const char *const n_ip[] = { "in_progress", NULL };
static const char *const n_oh[] = { "on_hold", NULL };
static const char *const n_res[] = { "resolved", NULL };
static const char *const n_clo[] = { "closed", NULL };
static const char *const n_can[] = { "canceled", NULL };
static const struct cc_value_entry snow_state[] = {
	CC_VALUE("New", s_new, NULL), CC_VALUE("In Progress", n_ip, NULL), CC_VALUE("On Hold", n_oh, NULL),
	CC_VALUE("Resolved", n_res, NULL), CC_VALUE("Closed", n_clo, NULL), CC_VALUE("Canceled", n_can, NULL),
};
static const struct cc_route_rule jira_routes[] = { { F_PRIO, CC_ROUTE_EQ, "critical" } };

struct world {
	int64_t now;
	uint64_t rnd;
	bool stopping;
	struct cc_config cfg;
	struct cc_store st;
	struct fake fk[NSYS];
	struct cc_connector conn[NSYS];
	struct cc_hub *hub;
	int audits[CC_AUDIT__COUNT];
};

static int64_t env_now(void *ctx)
{
	return ((struct world *)ctx)->now;
}

static uint64_t env_random(void *ctx)
{
	struct world *w = ctx;
	w->rnd = w->rnd * 6364136223846793005ull + 1442695040888963407ull;
	return w->rnd >> 17;
}

static bool env_stopping(void *ctx)
{
	return ((struct world *)ctx)->stopping;
}

static void env_redact(void *ctx, char *text, size_t cap)
{
	(void)ctx;
	static const char *const secrets[] = { "sekret-token-42", NULL };
	cc_redact(text, cap, secrets);
}

static void env_audit(void *ctx, const struct cc_audit_entry *e)
{
	struct world *w = ctx;
	assert_true(e->decision < CC_AUDIT__COUNT);
	w->audits[e->decision]++;
}

static void build_config(struct cc_config *cfg)
{
	cc_config_defaults(cfg);
	cfg->nfields = NF;
	cfg->fields[F_TITLE] = (struct cc_field_def){ .name = "title", .type = CC_FT_STRING };
	cfg->fields[F_STATE] = (struct cc_field_def){ .name = "state", .type = CC_FT_ENUM };
	cfg->fields[F_PRIO] = (struct cc_field_def){ .name = "priority", .type = CC_FT_PRIORITY };
	cfg->fields[F_RES] = (struct cc_field_def){ .name = "resolution", .type = CC_FT_ENUM };
	cfg->nsystems = NSYS;
	const char *names[NSYS] = { "snow", "sentinel", "jira" };
	for (int s = 0; s < NSYS; s++) {
		struct cc_system_def *sd = &cfg->systems[s];
		sd->name = names[s];
		sd->kind = "fake";
		sd->rank = s + 1;
		for (int f = 0; f < NF; f++)
			sd->map[f] = (struct cc_field_map){ .mapped = true, .kind = CC_MAP_IDENTITY };
		sd->comments = s != C;
		sd->poll_interval_ms = 1000;
		sd->poll_overlap_s = 1;
		sd->search_lag_ms = 0;
		sd->page_size = 2;
	}
	cfg->systems[A].map[F_STATE] = (struct cc_field_map){
		.mapped = true, .kind = CC_MAP_TABLE, .entries = snow_state, .nentries = 6 };
	cfg->systems[B].map[F_STATE] = (struct cc_field_map){
		.mapped = true, .kind = CC_MAP_TABLE, .entries = sentinel_state, .nentries = 3 };
	cfg->systems[C].map[F_RES].mapped = false;
	cfg->systems[C].routes = jira_routes;
	cfg->systems[C].nroutes = 1;
	cfg->create_settle_ms = SETTLE_MS;
	cfg->backoff_base_ms = 1000;
	cfg->backoff_max_ms = 60000;
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	if (!w)
		return -1;
	w->now = T0;
	w->rnd = 12345;
	build_config(&w->cfg);
	char err[200];
	if (cc_config_validate(&w->cfg, err, sizeof(err)) != CC_EOK) {
		print_error("config: %s\n", err);
		free(w);
		return -1;
	}
	if (cc_store_memory_open(&w->st)) {
		free(w);
		return -1;
	}
	const char *prefixes[NSYS] = { "A", "B", "C" };
	const int64_t offsets[NSYS] = { 0, 37000, -12000 }; /* B is fast, C slow */
	for (int s = 0; s < NSYS; s++) {
		struct fake *f = &w->fk[s];
		f->sys = s;
		f->prefix = prefixes[s];
		f->hub_now = &w->now;
		f->offset_ms = offsets[s];
		f->check_rv = true;
		w->conn[s] = (struct cc_connector){ &fake_ops, f };
	}
	struct cc_hub_env env = { .now_ms = env_now, .random = env_random, .on_audit = env_audit,
		                  .stopping = env_stopping, .redact = env_redact, .ctx = w };
	if (cc_hub_create(&w->hub, &w->cfg, &w->st, w->conn, &env)) {
		w->st.ops->destroy(w->st.self);
		free(w);
		return -1;
	}
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	cc_hub_destroy(w->hub);
	w->st.ops->destroy(w->st.self);
	for (int s = 0; s < NSYS; s++)
		w->conn[s].ops->destroy(w->conn[s].self);
	free(w);
	return 0;
}

static void advance(struct world *w, int64_t ms)
{
	w->now += ms;
}

static void poll(struct world *w, int s)
{
	int rc = cc_hub_poll(w->hub, s);
	if (rc)
		print_error("poll: %s\n", cc_hub_last_error(w->hub));
	assert_int_equal(rc, CC_EOK);
}

static int deliver(struct world *w, int s)
{
	int n = -1;
	int rc = cc_hub_deliver(w->hub, s, 20, &n);
	if (rc)
		print_error("deliver: %s\n", cc_hub_last_error(w->hub));
	assert_int_equal(rc, CC_EOK);
	return n;
}

static size_t outbox_count(struct world *w, int s)
{
	size_t n;
	int64_t earliest;
	assert_int_equal(w->st.ops->outbox_stat(w->st.self, s, &n, &earliest), CC_EOK);
	return n;
}

static void assert_outbox_empty(struct world *w)
{
	for (int s = 0; s < NSYS; s++)
		assert_int_equal(outbox_count(w, s), 0);
}

static void load_case(struct world *w, uint64_t id, struct cc_case *c)
{
	assert_int_equal(w->st.ops->case_load(w->st.self, id, c), CC_EOK);
}

static const struct cc_hub_stats *stats(struct world *w)
{
	return cc_hub_stats(w->hub);
}

/*
 * A new record in A, polled; after the create gate B is polled and the
 * case is delivered to B. Leaves case 1 linked to A-1 and B-1.
 */
static void establish(struct world *w)
{
	person_new(&w->fk[A], "Printer down", "New", "high");
	poll(w, A);
	advance(w, SETTLE_MS);
	poll(w, B);
	deliver(w, B);
	assert_int_equal(w->fk[B].nrec, 1);
	assert_int_equal(stats(w)->creates, 1);
	assert_outbox_empty(w);
	advance(w, 3000);
}

/* ---- tests ----------------------------------------------------------------- */

static void test_new_record_creates_case_and_remote_after_gate(void **state)
{
	struct world *w = *state;
	struct cc_case c;
	const char *rid = person_new(&w->fk[A], "Printer down", "New", "high");
	assert_string_equal(rid, "A-1");
	poll(w, A);
	assert_int_equal(stats(w)->observations, 1);

	load_case(w, 1, &c);
	assert_string_equal(c.f[F_TITLE].value, "Printer down");
	assert_string_equal(c.f[F_STATE].value, "new");
	assert_string_equal(c.f[F_PRIO].value, "high");
	assert_int_equal(c.f[F_TITLE].origin, A);
	assert_int_equal(c.origin_system, A);
	assert_int_equal(c.link[A].status, CC_LINK_LINKED);
	assert_string_equal(c.link[A].remote_id, "A-1");
	assert_int_equal(c.link[B].status, CC_LINK_CREATE);
	assert_true(c.link[B].create_not_before_ms == T0 + SETTLE_MS);
	assert_int_equal(c.link[C].status, CC_LINK_NONE); /* routing: only critical */
	cc_case_clear(&c);
	assert_int_equal(w->audits[CC_AUDIT_CASE_CREATED], 1);
	assert_int_equal(outbox_count(w, A), 0);
	assert_int_equal(outbox_count(w, B), 1);
	assert_int_equal(outbox_count(w, C), 0);

	/* before the gate: nothing */
	poll(w, B);
	deliver(w, B);
	assert_int_equal(w->fk[B].n_create, 0);
	/* after the gate, but B was not polled since: still nothing */
	advance(w, SETTLE_MS);
	deliver(w, B);
	assert_int_equal(w->fk[B].n_create, 0);
	assert_int_equal(outbox_count(w, B), 1);
	/* B polled after the gate time: the create goes out */
	poll(w, B);
	advance(w, 1000);
	deliver(w, B);
	assert_int_equal(w->fk[B].n_create, 1);
	assert_int_equal(w->fk[B].nrec, 1);
	assert_string_equal(w->fk[B].rec[0].corr, "concord-1");
	assert_string_equal(val(&w->fk[B], 0, F_TITLE), "Printer down");
	assert_string_equal(val(&w->fk[B], 0, F_STATE), "New");
	assert_string_equal(val(&w->fk[B], 0, F_PRIO), "high");
	assert_int_equal(stats(w)->creates, 1);
	assert_int_equal(w->audits[CC_AUDIT_CREATED_REMOTE], 1);
	assert_outbox_empty(w);

	load_case(w, 1, &c);
	assert_int_equal(c.link[B].status, CC_LINK_LINKED);
	assert_string_equal(c.link[B].remote_id, "B-1");
	assert_true(c.link[B].hub_created);
	assert_false(c.link[B].create_unknown);
	assert_int_equal(c.link[B].pending_mask, 0);
	assert_string_equal(c.link[B].shadow[F_STATE], "New");
	cc_case_clear(&c);
	assert_int_equal(w->fk[C].n_create, 0);
	assert_int_equal(w->fk[A].n_update, 0);
}

/*
 * A system that never sends a Date header and holds records nobody wrote
 * through concord (first start): its clock is assumed to be the hub's
 * within clock_uncertainty, and its records are synced, not dropped.
 */
/* Every system polled and delivered to, a few rounds, time moving on. */
static void rounds(struct world *w, int n)
{
	for (int i = 0; i < n; i++) {
		advance(w, SETTLE_MS);
		for (int s = 0; s < NSYS; s++)
			poll(w, s);
		for (int s = 0; s < NSYS; s++)
			deliver(w, s);
	}
}

/*
 * A create refused for good (ERROR) is dead-lettered once, and not queued
 * again by another system's delivery of the same case (two systems refusing
 * once re-queued each other without end) nor by polls that bring no change.
 * A change of the case tries again once; so does a person's retry.
 */
static void test_refused_create_dead_lettered_once(void **state)
{
	struct world *w = *state;
	w->fk[B].refuse = w->fk[C].refuse = true;
	person_new(&w->fk[A], "Critical outage", "open", "critical");
	rounds(w, 8);
	assert_int_equal(w->fk[B].n_create, 1);
	assert_int_equal(w->fk[C].n_create, 1);
	assert_int_equal(stats(w)->dead_letters, 2);
	assert_outbox_empty(w);
	struct cc_case c;
	load_case(w, 1, &c);
	assert_int_equal(c.link[B].status, CC_LINK_CREATE);
	assert_true(c.link[B].dead_lettered);
	assert_true(c.link[C].dead_lettered);
	cc_case_clear(&c);

	/* the case changes: one more try each, then dead-lettered again */
	person_edit(&w->fk[A], "A-1", F_TITLE, "Critical outage, all sites");
	rounds(w, 8);
	assert_int_equal(w->fk[B].n_create, 2);
	assert_int_equal(w->fk[C].n_create, 2);
	assert_int_equal(stats(w)->dead_letters, 4);
	assert_outbox_empty(w);

	/* B takes it now; a person queues the delivery again (deadletters retry) */
	w->fk[B].refuse = false;
	struct cc_outbox_entry e = { .case_id = 1, .system = B, .due_ms = w->now,
		                     .first_ms = w->now };
	assert_int_equal(w->st.ops->outbox_put(w->st.self, &e), CC_EOK);
	rounds(w, 4);
	assert_int_equal(w->fk[B].n_create, 3);
	assert_int_equal(w->fk[B].nrec, 1);
	assert_int_equal(w->fk[C].n_create, 2);
	load_case(w, 1, &c);
	assert_int_equal(c.link[B].status, CC_LINK_LINKED);
	assert_false(c.link[B].dead_lettered);
	assert_true(c.link[C].dead_lettered);
	cc_case_clear(&c);
	assert_outbox_empty(w);
}

/*
 * An update refused for good waits too: polls that bring no change do not
 * queue it again; a person's retry does, and the mark goes.
 */
static void test_refused_update_waits_for_a_retry(void **state)
{
	struct world *w = *state;
	establish(w);
	w->fk[B].refuse = true;
	person_edit(&w->fk[A], "A-1", F_TITLE, "Printer on fire");
	rounds(w, 4);
	assert_int_equal(w->fk[B].n_update, 1);
	assert_int_equal(stats(w)->dead_letters, 1);
	w->fk[B].refuse = false;
	rounds(w, 4);
	assert_int_equal(w->fk[B].n_update, 1);
	assert_outbox_empty(w);

	struct cc_outbox_entry e = { .case_id = 1, .system = B, .due_ms = w->now,
		                     .first_ms = w->now };
	assert_int_equal(w->st.ops->outbox_put(w->st.self, &e), CC_EOK);
	rounds(w, 2);
	assert_int_equal(w->fk[B].n_update, 2);
	assert_string_equal(val(&w->fk[B], 0, F_TITLE), "Printer on fire");
	struct cc_case c;
	load_case(w, 1, &c);
	assert_false(c.link[B].dead_lettered);
	cc_case_clear(&c);
	assert_outbox_empty(w);
}

/*
 * The create gate waits for a poll of the target begun after the settle
 * time: that poll is brought forward to the gate, not waited for a whole
 * interval (B polls every minute here).
 */
static void test_create_brings_target_poll_forward(void **state)
{
	struct world *w = *state;
	w->cfg.systems[B].poll_interval_ms = 60000;
	poll(w, B);
	person_new(&w->fk[A], "Printer down", "New", "high");
	poll(w, A);
	advance(w, SETTLE_MS);
	deliver(w, B);
	assert_int_equal(w->fk[B].nrec, 0);                /* not before B's poll */
	assert_true(cc_hub_next_poll(w->hub, B) <= w->now); /* which is due now */
	poll(w, B);
	deliver(w, B);
	assert_int_equal(w->fk[B].nrec, 1);
	assert_outbox_empty(w);
}

static void test_no_date_header_first_start(void **state)
{
	struct world *w = *state;
	w->fk[A].no_date = true;
	person_new(&w->fk[A], "Printer down", "New", "high");
	poll(w, A);
	assert_int_equal(stats(w)->observations, 1);
	struct cc_case c;
	load_case(w, 1, &c);
	assert_string_equal(c.f[F_TITLE].value, "Printer down");
	assert_int_equal(c.link[A].status, CC_LINK_LINKED);
	cc_case_clear(&c);
	advance(w, SETTLE_MS);
	poll(w, B);
	deliver(w, B);
	assert_int_equal(w->fk[B].nrec, 1);
	assert_string_equal(val(&w->fk[B], 0, F_TITLE), "Printer down");
}

static void test_echo_suppressed(void **state)
{
	struct world *w = *state;
	establish(w);
	uint64_t changes = stats(w)->changes;
	/* the record the hub created is seen by the next polls: nothing to do */
	for (int i = 0; i < 3; i++) {
		poll(w, A);
		poll(w, B);
		deliver(w, A);
		deliver(w, B);
		advance(w, 1000);
	}
	assert_int_equal(stats(w)->writes, 0);
	assert_int_equal(stats(w)->creates, 1);
	assert_int_equal(stats(w)->changes, changes);
	assert_outbox_empty(w);

	/* a person's change goes out once ... */
	person_edit(&w->fk[A], "A-1", F_TITLE, "Printer down on floor 3");
	poll(w, A);
	deliver(w, B);
	assert_int_equal(stats(w)->writes, 1);
	assert_string_equal(val(&w->fk[B], 0, F_TITLE), "Printer down on floor 3");
	changes = stats(w)->changes;
	/* ... and our own write seen back, even under a new remote version
	 * (an edit of an unmapped field), is no change */
	advance(w, 1000);
	person_touch(&w->fk[B], "B-1");
	poll(w, B);
	poll(w, A);
	deliver(w, A);
	deliver(w, B);
	assert_int_equal(stats(w)->changes, changes);
	assert_int_equal(stats(w)->writes, 1);
	assert_int_equal(w->fk[A].n_update, 0);
	assert_int_equal(w->fk[B].n_update, 1);
	assert_outbox_empty(w);
}

static void test_person_change_on_b_propagates_to_a(void **state)
{
	struct world *w = *state;
	struct cc_case c;
	establish(w);
	person_edit(&w->fk[B], "B-1", F_STATE, "Active");
	person_edit(&w->fk[B], "B-1", F_TITLE, "Printer down again");
	poll(w, B);
	load_case(w, 1, &c);
	assert_string_equal(c.f[F_STATE].value, "in_progress");
	assert_string_equal(c.f[F_TITLE].value, "Printer down again");
	assert_int_equal(c.f[F_STATE].origin, B);
	cc_case_clear(&c);
	assert_int_equal(outbox_count(w, A), 1);
	assert_int_equal(outbox_count(w, B), 0);
	deliver(w, A);
	assert_string_equal(val(&w->fk[A], 0, F_STATE), "In Progress");
	assert_string_equal(val(&w->fk[A], 0, F_TITLE), "Printer down again");
	assert_int_equal(w->fk[A].n_update, 1); /* one coalesced write */
	assert_int_equal(stats(w)->writes, 1);
	/* A's echo goes nowhere */
	advance(w, 1000);
	poll(w, A);
	poll(w, B);
	deliver(w, A);
	deliver(w, B);
	assert_int_equal(w->fk[B].n_update, 0);
	assert_int_equal(w->fk[A].n_update, 1);
	assert_outbox_empty(w);
}

/*
 * B's clock is 37 s fast. B's edit is 5 s older in real time than A's,
 * although its raw modification time is later: after correction, A's wins,
 * whichever system is polled first, and B is brought back.
 */
static void older_change_loses(struct world *w, bool poll_newer_first)
{
	struct cc_case c;
	establish(w);
	person_edit(&w->fk[B], "B-1", F_TITLE, "from B");
	advance(w, 5000);
	person_edit(&w->fk[A], "A-1", F_TITLE, "from A");
	assert_true(w->fk[B].rec[0].fmtime[F_TITLE] > w->fk[A].rec[0].fmtime[F_TITLE]);
	if (poll_newer_first) {
		poll(w, A);
		poll(w, B);
		assert_int_equal(w->audits[CC_AUDIT_LOST_CONFLICT], 1);
	} else {
		poll(w, B);
		poll(w, A);
		assert_int_equal(w->audits[CC_AUDIT_LOST_CONFLICT], 0);
	}
	load_case(w, 1, &c);
	assert_string_equal(c.f[F_TITLE].value, "from A");
	assert_int_equal(c.f[F_TITLE].origin, A);
	cc_case_clear(&c);
	deliver(w, A);
	deliver(w, B);
	assert_string_equal(val(&w->fk[B], 0, F_TITLE), "from A");
	assert_string_equal(val(&w->fk[A], 0, F_TITLE), "from A");
	assert_int_equal(w->fk[A].n_update, 0); /* never given the loser */
	assert_int_equal(w->fk[B].n_update, 1);
	advance(w, 1000);
	poll(w, A);
	poll(w, B);
	deliver(w, A);
	deliver(w, B);
	assert_outbox_empty(w);
	assert_int_equal(w->fk[B].n_update, 1);
}

static void test_older_change_loses_newer_polled_first(void **state)
{
	older_change_loses(*state, true);
}

static void test_older_change_loses_older_polled_first(void **state)
{
	older_change_loses(*state, false);
}

static void test_lossy_state_does_not_oscillate(void **state)
{
	struct world *w = *state;
	struct cc_case c;
	establish(w);
	static const struct {
		const char *a_state, *canonical;
		int b_updates;
		const char *b_state;
	} steps[] = {
		{ "In Progress", "in_progress", 1, "Active" },
		{ "On Hold", "on_hold", 1, "Active" },   /* Active covers on_hold */
		{ "Resolved", "resolved", 2, "Closed" },
		{ "Closed", "closed", 2, "Closed" },     /* Closed covers closed */
		{ "Canceled", "canceled", 2, "Closed" },
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		person_edit(&w->fk[A], "A-1", F_STATE, steps[i].a_state);
		poll(w, A);
		deliver(w, B);
		advance(w, 1000);
		poll(w, B); /* B's state never pulls the case back */
		deliver(w, A);
		load_case(w, 1, &c);
		assert_string_equal(c.f[F_STATE].value, steps[i].canonical);
		cc_case_clear(&c);
		assert_int_equal(w->fk[B].n_update, steps[i].b_updates);
		assert_string_equal(val(&w->fk[B], 0, F_STATE), steps[i].b_state);
		assert_string_equal(val(&w->fk[A], 0, F_STATE), steps[i].a_state);
		assert_int_equal(w->fk[A].n_update, 0);
		assert_outbox_empty(w);
		advance(w, 2000);
	}
}

/*
 * B's Closed needs a resolution in the same write (a companion): closing in
 * A writes B once with both; B's echo of the default does not reach the
 * case or A; the companion is never cleared while B holds Closed; a real
 * resolution set in A follows.
 */
static void test_companion_written_with_state_once(void **state)
{
	struct world *w = *state;
	struct cc_case c;
	establish(w);
	person_edit(&w->fk[A], "A-1", F_STATE, "Resolved");
	poll(w, A);
	deliver(w, B);
	assert_int_equal(w->fk[B].n_update, 1);
	assert_string_equal(val(&w->fk[B], 0, F_STATE), "Closed");
	assert_string_equal(val(&w->fk[B], 0, F_RES), "Undetermined");
	for (int round = 0; round < 3; round++) {
		advance(w, 1000);
		for (int s = 0; s < NSYS; s++)
			poll(w, s);
		for (int s = 0; s < NSYS; s++)
			deliver(w, s);
	}
	load_case(w, 1, &c);
	assert_string_equal(c.f[F_STATE].value, "resolved");
	assert_string_equal(c.f[F_RES].value, ""); /* the default stays B's */
	cc_case_clear(&c);
	assert_string_equal(val(&w->fk[A], 0, F_RES), "");
	assert_int_equal(w->fk[A].n_update, 0);
	assert_int_equal(w->fk[B].n_update, 1);
	assert_outbox_empty(w);

	person_edit(&w->fk[A], "A-1", F_RES, "true_positive");
	poll(w, A);
	deliver(w, B);
	assert_int_equal(w->fk[B].n_update, 2);
	assert_string_equal(val(&w->fk[B], 0, F_RES), "true_positive");
	/* cleared in A while B stays Closed: B keeps it */
	advance(w, 1000);
	person_edit(&w->fk[A], "A-1", F_RES, "");
	poll(w, A);
	deliver(w, B);
	assert_int_equal(w->fk[B].n_update, 2);
	assert_string_equal(val(&w->fk[B], 0, F_RES), "true_positive");
	advance(w, 1000);
	for (int s = 0; s < NSYS; s++)
		poll(w, s);
	for (int s = 0; s < NSYS; s++)
		deliver(w, s);
	assert_int_equal(w->fk[B].n_update, 2);
	assert_outbox_empty(w);
}

static void test_write_of_unknown_outcome_confirmed_by_read(void **state)
{
	struct world *w = *state;
	struct cc_case c;
	establish(w);
	int confirmed0 = w->audits[CC_AUDIT_CONFIRMED]; /* the create's fields */
	assert_int_equal(confirmed0, 4);
	person_edit(&w->fk[A], "A-1", F_TITLE, "new title");
	poll(w, A);
	w->fk[B].next_update = (struct fake_script){ ACT_UNKNOWN_APPLIED, 0 };
	deliver(w, B);
	assert_int_equal(w->fk[B].n_update, 1);
	assert_string_equal(val(&w->fk[B], 0, F_TITLE), "new title"); /* it did apply */
	assert_int_equal(stats(w)->writes, 0);
	assert_int_equal(stats(w)->retries, 1);
	load_case(w, 1, &c);
	assert_int_equal(c.link[B].pending_mask, 1u << F_TITLE);
	assert_string_equal(c.link[B].pending[F_TITLE], "new title");
	assert_true(c.link[B].needs_read);
	cc_case_clear(&c);
	assert_int_equal(outbox_count(w, B), 1);
	assert_true(cc_hub_next_due(w->hub, B) > w->now);

	advance(w, 5000);
	deliver(w, B);
	assert_int_equal(w->fk[B].n_read, 1);
	assert_int_equal(w->fk[B].n_update, 1); /* not written twice */
	assert_int_equal(w->audits[CC_AUDIT_CONFIRMED], confirmed0 + 1);
	load_case(w, 1, &c);
	assert_int_equal(c.link[B].pending_mask, 0);
	assert_false(c.link[B].needs_read);
	assert_string_equal(c.link[B].shadow[F_TITLE], "new title");
	cc_case_clear(&c);
	assert_outbox_empty(w);
	/* and the next poll of B is an echo */
	uint64_t changes = stats(w)->changes;
	poll(w, B);
	deliver(w, A);
	deliver(w, B);
	assert_int_equal(stats(w)->changes, changes);
	assert_int_equal(w->fk[A].n_update, 0);
	assert_int_equal(w->fk[B].n_update, 1);
}

static void test_write_of_unknown_outcome_confirmed_by_poll(void **state)
{
	struct world *w = *state;
	establish(w);
	int confirmed0 = w->audits[CC_AUDIT_CONFIRMED];
	person_edit(&w->fk[A], "A-1", F_PRIO, "low");
	poll(w, A);
	w->fk[B].next_update = (struct fake_script){ ACT_UNKNOWN_APPLIED, 0 };
	deliver(w, B);
	assert_int_equal(w->fk[B].n_update, 1);
	uint64_t changes = stats(w)->changes;
	poll(w, B); /* sees the pending value: a confirmation, not a change */
	assert_int_equal(w->audits[CC_AUDIT_CONFIRMED], confirmed0 + 1);
	assert_int_equal(stats(w)->changes, changes);
	advance(w, 5000);
	deliver(w, B);
	deliver(w, A);
	assert_int_equal(w->fk[B].n_update, 1);
	assert_int_equal(w->fk[A].n_update, 0);
	assert_string_equal(val(&w->fk[B], 0, F_PRIO), "low");
	assert_outbox_empty(w);
}

static void test_create_of_unknown_outcome_found_by_correlation(void **state)
{
	struct world *w = *state;
	struct cc_case c;
	person_new(&w->fk[A], "Disk full on db01", "In Progress", "high");
	poll(w, A);
	advance(w, SETTLE_MS);
	poll(w, B);
	w->fk[B].next_create = (struct fake_script){ ACT_UNKNOWN_APPLIED, 0 };
	deliver(w, B);
	assert_int_equal(w->fk[B].n_create, 1);
	assert_int_equal(w->fk[B].nrec, 1); /* it was created ... */
	assert_int_equal(stats(w)->creates, 0); /* ... but the hub does not know */
	load_case(w, 1, &c);
	assert_int_equal(c.link[B].status, CC_LINK_CREATE);
	assert_true(c.link[B].create_unknown);
	cc_case_clear(&c);

	advance(w, 5000);
	deliver(w, B);
	assert_int_equal(w->fk[B].n_find, 1);
	assert_int_equal(w->fk[B].n_create, 1); /* not created twice */
	assert_int_equal(w->fk[B].nrec, 1);
	load_case(w, 1, &c);
	assert_int_equal(c.link[B].status, CC_LINK_LINKED);
	assert_string_equal(c.link[B].remote_id, "B-1");
	assert_true(c.link[B].hub_created);
	assert_false(c.link[B].create_unknown);
	assert_int_equal(c.link[B].pending_mask, 0);
	cc_case_clear(&c);
	assert_outbox_empty(w);

	/* later polls neither make a second case nor write */
	advance(w, 1000);
	poll(w, B);
	poll(w, A);
	deliver(w, A);
	deliver(w, B);
	assert_int_equal(w->st.ops->case_load(w->st.self, 2, &c), CC_ENOTFOUND);
	assert_int_equal(w->fk[B].n_create, 1);
	assert_int_equal(w->fk[B].n_update, 0);
	assert_int_equal(w->fk[A].n_update, 0);
	assert_int_equal(w->fk[A].n_create, 0);
}

static void test_comments_mirrored_once_each_way(void **state)
{
	struct world *w = *state;
	struct cc_case c;
	establish(w);
	person_comment(&w->fk[A], "A-1", "Please reboot");
	poll(w, A);
	deliver(w, B);
	assert_int_equal(w->fk[B].n_comment, 1);
	assert_int_equal(w->fk[B].rec[0].ncm, 1);
	assert_string_equal(w->fk[B].rec[0].cm[0].body, "[concord:1:0:A-c1] Please reboot");
	assert_int_equal(stats(w)->comments, 1);

	/* the mirror seen in B is not a new comment */
	advance(w, 1000);
	poll(w, B);
	deliver(w, A);
	assert_int_equal(w->fk[A].n_comment, 0);
	load_case(w, 1, &c);
	assert_int_equal(c.ncomments, 1);
	assert_string_equal(c.comments[0].mirror_id[B], "B-c1");
	cc_case_clear(&c);

	/* a person's comment in B goes to A, once */
	person_comment(&w->fk[B], "B-1", "Rebooted, works");
	poll(w, B);
	deliver(w, A);
	assert_int_equal(w->fk[A].n_comment, 1);
	assert_int_equal(w->fk[A].rec[0].ncm, 2);
	assert_string_equal(w->fk[A].rec[0].cm[1].body, "[concord:1:1:B-c2] Rebooted, works");
	advance(w, 1000);
	for (int i = 0; i < 2; i++) {
		poll(w, A);
		poll(w, B);
		deliver(w, A);
		deliver(w, B);
		advance(w, 1000);
	}
	assert_int_equal(w->fk[A].n_comment, 1);
	assert_int_equal(w->fk[B].n_comment, 1);
	assert_int_equal(w->fk[A].rec[0].ncm, 2);
	assert_int_equal(w->fk[B].rec[0].ncm, 2);
	assert_int_equal(stats(w)->comments, 2);
	load_case(w, 1, &c);
	assert_int_equal(c.ncomments, 2);
	assert_int_equal(c.comments[1].origin_system, B);
	assert_string_equal(c.comments[1].mirror_id[A], "A-c2");
	cc_case_clear(&c);
	assert_int_equal(w->fk[A].n_update + w->fk[B].n_update, 0);
	assert_outbox_empty(w);
}

static void test_comment_of_unknown_outcome_not_mirrored_twice(void **state)
{
	struct world *w = *state;
	struct cc_case c;
	establish(w);
	person_comment(&w->fk[A], "A-1", "Please reboot");
	poll(w, A);
	w->fk[B].next_comment = (struct fake_script){ ACT_UNKNOWN_APPLIED, 0 };
	deliver(w, B);
	assert_int_equal(w->fk[B].n_comment, 1);
	assert_int_equal(w->fk[B].rec[0].ncm, 1);
	assert_int_equal(stats(w)->comments, 0);
	advance(w, 5000);
	deliver(w, B);
	assert_int_equal(w->fk[B].n_read, 1);
	assert_int_equal(w->fk[B].n_comment, 1);
	assert_int_equal(w->fk[B].rec[0].ncm, 1);
	load_case(w, 1, &c);
	assert_int_equal(c.ncomments, 1);
	assert_string_equal(c.comments[0].mirror_id[B], "B-c1");
	assert_int_equal(c.comments[0].unknown_mask, 0);
	cc_case_clear(&c);
	assert_outbox_empty(w);
}

static void test_duplicate_observation_dropped(void **state)
{
	struct world *w = *state;
	establish(w);
	person_edit(&w->fk[B], "B-1", F_PRIO, "low");
	struct cc_observation o;
	rec_to_obs(&w->fk[B], &w->fk[B].rec[0], &o);
	uint64_t obs0 = stats(w)->observations, changes0 = stats(w)->changes;
	assert_int_equal(cc_hub_ingest(w->hub, &o), CC_EOK);
	assert_int_equal(stats(w)->changes, changes0 + 1);
	assert_int_equal(stats(w)->duplicates, 0);
	assert_int_equal(cc_hub_ingest(w->hub, &o), CC_EOK); /* a webhook delivered twice */
	assert_int_equal(stats(w)->observations, obs0 + 2);
	assert_int_equal(stats(w)->duplicates, 1);
	assert_int_equal(stats(w)->changes, changes0 + 1);
	cc_observation_clear(&o);
	deliver(w, A);
	assert_int_equal(w->fk[A].n_update, 1);
	assert_string_equal(val(&w->fk[A], 0, F_PRIO), "low");
	poll(w, B); /* the same record version once more */
	assert_int_equal(stats(w)->duplicates, 2);
	deliver(w, A);
	assert_int_equal(w->fk[A].n_update, 1);
}

/*
 * A torn read (RT's observation is the ticket, then its history, in two
 * requests): a person's edit lands between them, so the read holds the old
 * title with the new remote version and the title's new modification time.
 * The next poll reads the same remote version whole: it is no duplicate,
 * and the edit goes out (it used to wait for the record's next change).
 */
static void test_torn_read_then_same_version_not_dropped(void **state)
{
	struct world *w = *state;
	struct cc_case c;
	establish(w);
	struct cc_observation torn;
	rec_to_obs(&w->fk[A], &w->fk[A].rec[0], &torn); /* the ticket, read first */
	advance(w, 1000);
	person_edit(&w->fk[A], "A-1", F_TITLE, "Printer down on floor 3");
	torn.rv = w->fk[A].rec[0].rv;                   /* the history, read after */
	torn.mtime_s = w->fk[A].rec[0].mtime_s;
	torn.fields[F_TITLE].mtime_s = w->fk[A].rec[0].fmtime[F_TITLE];
	assert_int_equal(cc_hub_ingest(w->hub, &torn), CC_EOK);
	cc_observation_clear(&torn);
	assert_int_equal(w->audits[CC_AUDIT_COVERED], 1);
	deliver(w, B);
	assert_int_equal(w->fk[B].n_update, 0);

	advance(w, 1000);
	poll(w, A); /* the same remote version, read whole */
	load_case(w, 1, &c);
	assert_string_equal(c.f[F_TITLE].value, "Printer down on floor 3");
	assert_int_equal(c.f[F_TITLE].origin, A);
	cc_case_clear(&c);
	deliver(w, B);
	assert_int_equal(w->fk[B].n_update, 1);
	assert_string_equal(val(&w->fk[B], 0, F_TITLE), "Printer down on floor 3");

	/* and then quiet: the version seen again is a duplicate, no echo */
	uint64_t dups = stats(w)->duplicates;
	for (int i = 0; i < 3; i++) {
		advance(w, 1000);
		poll(w, A);
		poll(w, B);
		deliver(w, A);
		deliver(w, B);
	}
	assert_true(stats(w)->duplicates > dups);
	assert_int_equal(w->fk[A].n_update, 0);
	assert_int_equal(w->fk[B].n_update, 1);
	assert_int_equal(w->audits[CC_AUDIT_LOST_CONFLICT], 0);
	assert_outbox_empty(w);
}

/*
 * The other order: a whole read of a version first, then a torn read of
 * the same version (the values from before the change). The two disagree;
 * a third read shows the whole version again, so the torn read is dropped:
 * nothing goes back to the old value anywhere.
 */
static void test_whole_read_then_torn_read_dropped(void **state)
{
	struct world *w = *state;
	struct cc_case c;
	establish(w);
	struct cc_observation torn;
	rec_to_obs(&w->fk[A], &w->fk[A].rec[0], &torn); /* values before the edit */
	advance(w, 1000);
	person_edit(&w->fk[A], "A-1", F_TITLE, "Printer down on floor 3");
	poll(w, A); /* the whole read of the new version */
	deliver(w, B);
	assert_int_equal(w->fk[B].n_update, 1);
	torn.rv = w->fk[A].rec[0].rv; /* the torn read: old values, new version */
	torn.mtime_s = w->fk[A].rec[0].mtime_s;
	torn.fields[F_TITLE].mtime_s = w->fk[A].rec[0].fmtime[F_TITLE];
	int reads = w->fk[A].n_read;
	advance(w, 1000);
	assert_int_equal(cc_hub_ingest(w->hub, &torn), CC_EOK);
	cc_observation_clear(&torn);
	assert_int_equal(w->fk[A].n_read, reads + 1); /* the third read */
	load_case(w, 1, &c);
	assert_string_equal(c.f[F_TITLE].value, "Printer down on floor 3");
	cc_case_clear(&c);
	deliver(w, A);
	deliver(w, B);
	assert_int_equal(w->fk[A].n_update, 0);
	assert_int_equal(w->fk[B].n_update, 1);
	assert_string_equal(val(&w->fk[B], 0, F_TITLE), "Printer down on floor 3");
	assert_outbox_empty(w);
}

/*
 * A person edits B's priority while the hub writes B's title: the write's
 * read-back carries the new remote version and the edit, but the hub takes
 * only the written field from it. The next poll reads that version again:
 * no duplicate, the priority goes to A (it used to wait for B's next change).
 */
static void test_edit_during_write_not_dropped(void **state)
{
	struct world *w = *state;
	struct cc_case c;
	establish(w);
	person_edit(&w->fk[A], "A-1", F_TITLE, "Printer down on floor 3");
	poll(w, A);
	w->fk[B].race_field = F_PRIO;
	w->fk[B].race_value = "low";
	deliver(w, B);
	assert_int_equal(w->fk[B].n_update, 1);
	assert_string_equal(val(&w->fk[B], 0, F_PRIO), "low");
	advance(w, 1000);
	poll(w, B);
	load_case(w, 1, &c);
	assert_string_equal(c.f[F_PRIO].value, "low");
	assert_int_equal(c.f[F_PRIO].origin, B);
	cc_case_clear(&c);
	deliver(w, A);
	assert_string_equal(val(&w->fk[A], 0, F_PRIO), "low");
	assert_string_equal(val(&w->fk[A], 0, F_TITLE), "Printer down on floor 3");
	for (int i = 0; i < 3; i++) {
		advance(w, 1000);
		poll(w, A);
		poll(w, B);
		deliver(w, A);
		deliver(w, B);
	}
	assert_int_equal(w->fk[A].n_update, 1);
	assert_int_equal(w->fk[B].n_update, 1);
	assert_outbox_empty(w);
}

static void test_stale_observation_dropped(void **state)
{
	struct world *w = *state;
	struct cc_case c;
	establish(w);
	struct cc_observation old;
	rec_to_obs(&w->fk[B], &w->fk[B].rec[0], &old);
	person_edit(&w->fk[B], "B-1", F_TITLE, "newer title");
	poll(w, B);
	deliver(w, A);
	assert_string_equal(val(&w->fk[A], 0, F_TITLE), "newer title");
	/* a webhook from before arrives late, with a lower remote version */
	assert_int_equal(cc_observation_set(&old, F_TITLE, "stale title",
	                                    w->fk[B].rec[0].mtime_s + 100, "person"), CC_EOK);
	uint64_t changes = stats(w)->changes;
	assert_int_equal(cc_hub_ingest(w->hub, &old), CC_EOK);
	cc_observation_clear(&old);
	assert_int_equal(stats(w)->stale, 1);
	assert_int_equal(w->audits[CC_AUDIT_STALE], 1);
	assert_int_equal(stats(w)->changes, changes);
	load_case(w, 1, &c);
	assert_string_equal(c.f[F_TITLE].value, "newer title");
	assert_string_equal(c.link[B].shadow[F_TITLE], "newer title");
	cc_case_clear(&c);
	assert_outbox_empty(w);
	assert_int_equal(w->fk[A].n_update, 1);
}

static void test_retry_after_sets_delay(void **state)
{
	struct world *w = *state;
	establish(w);
	person_edit(&w->fk[A], "A-1", F_TITLE, "rate limited");
	poll(w, A);
	w->fk[B].next_update = (struct fake_script){ ACT_RETRY_AFTER, 30000 };
	int64_t t = w->now;
	deliver(w, B);
	assert_int_equal(w->fk[B].n_update, 1);
	assert_string_equal(val(&w->fk[B], 0, F_TITLE), "Printer down");
	assert_int_equal(stats(w)->retries, 1);
	assert_true(cc_hub_next_due(w->hub, B) == t + 30000);
	advance(w, 29000);
	assert_int_equal(deliver(w, B), 0);
	assert_int_equal(w->fk[B].n_update, 1);
	advance(w, 1000);
	assert_int_equal(deliver(w, B), 1);
	assert_int_equal(w->fk[B].n_update, 2);
	assert_string_equal(val(&w->fk[B], 0, F_TITLE), "rate limited");
	assert_int_equal(stats(w)->writes, 1);
	assert_outbox_empty(w);
	assert_true(cc_hub_next_due(w->hub, B) == INT64_MAX);
}

static void test_conflict_rereads_then_writes(void **state)
{
	struct world *w = *state;
	establish(w);
	person_edit(&w->fk[A], "A-1", F_TITLE, "title from A");
	poll(w, A);
	advance(w, 2000);
	person_edit(&w->fk[B], "B-1", F_PRIO, "low"); /* not seen by the hub yet */
	deliver(w, B);
	assert_int_equal(stats(w)->conflicts, 1);
	assert_int_equal(w->fk[B].n_read, 1);
	assert_int_equal(w->fk[B].n_update, 2);
	assert_string_equal(val(&w->fk[B], 0, F_TITLE), "title from A");
	assert_string_equal(val(&w->fk[B], 0, F_PRIO), "low"); /* the person's edit kept */
	deliver(w, A);
	assert_string_equal(val(&w->fk[A], 0, F_PRIO), "low");
	assert_string_equal(val(&w->fk[A], 0, F_TITLE), "title from A");
	assert_int_equal(w->fk[A].n_update, 1);
	assert_int_equal(stats(w)->writes, 2);
	assert_outbox_empty(w);
}

static void test_poll_pages(void **state)
{
	struct world *w = *state;
	for (int i = 0; i < 5; i++) {
		char title[32];
		snprintf(title, sizeof(title), "Incident number %d", i);
		person_new(&w->fk[A], title, "New", "low");
	}
	poll(w, A); /* page size 2: three pages */
	assert_int_equal(w->fk[A].n_list, 3);
	assert_int_equal(stats(w)->observations, 5);
	for (uint64_t id = 1; id <= 5; id++) {
		struct cc_case c;
		load_case(w, id, &c);
		assert_string_equal(c.link[A].remote_id, w->fk[A].rec[id - 1].id);
		cc_case_clear(&c);
	}
	struct cc_case c;
	assert_int_equal(w->st.ops->case_load(w->st.self, 6, &c), CC_ENOTFOUND);
	/* the overlap window shows them again: duplicates, no new cases */
	poll(w, A);
	assert_int_equal(stats(w)->duplicates, 5);
	assert_int_equal(w->st.ops->case_load(w->st.self, 6, &c), CC_ENOTFOUND);
	assert_int_equal(outbox_count(w, B), 5);
}

static void test_ingest_without_offset_reads_first(void **state)
{
	struct world *w = *state;
	struct cc_case c;
	person_new(&w->fk[C], "Critical outage", "open", "critical");
	struct cc_observation o;
	rec_to_obs(&w->fk[C], &w->fk[C].rec[0], &o);
	assert_int_equal(cc_hub_ingest(w->hub, &o), CC_EOK);
	cc_observation_clear(&o);
	assert_int_equal(w->fk[C].n_read, 1); /* measures C's clock */
	load_case(w, 1, &c);
	assert_string_equal(c.f[F_TITLE].value, "Critical outage");
	assert_int_equal(c.link[C].status, CC_LINK_LINKED);
	/* A has a table map for state: "open" is no value of it; created anyway */
	assert_int_equal(c.link[A].status, CC_LINK_CREATE);
	assert_int_equal(c.link[B].status, CC_LINK_CREATE);
	cc_case_clear(&c);
	/* an observation of an unknown system is refused */
	cc_observation_init(&o);
	o.system = 7;
	o.remote_id = xstrdup("x");
	assert_int_equal(cc_hub_ingest(w->hub, &o), CC_EINVAL);
	cc_observation_clear(&o);
}

/* The process dies after the remote applied a write, before the outcome was
 * committed: after a restart the write is confirmed, not repeated. */
static void restart_hub(struct world *w)
{
	cc_store_memory_restart(&w->st);
	cc_hub_destroy(w->hub);
	w->hub = NULL;
	struct cc_hub_env env = { .now_ms = env_now, .random = env_random, .on_audit = env_audit,
		                  .stopping = env_stopping, .redact = env_redact, .ctx = w };
	assert_int_equal(cc_hub_create(&w->hub, &w->cfg, &w->st, w->conn, &env), CC_EOK);
}

static void test_crash_after_remote_update(void **state)
{
	struct world *w = *state;
	establish(w);
	person_edit(&w->fk[A], "A-1", F_TITLE, "written before the crash");
	poll(w, A);
	w->fk[B].crash_after_write = &w->st;
	int n;
	assert_int_equal(cc_hub_deliver(w->hub, B, 20, &n), CC_ESTORE);
	assert_int_equal(w->fk[B].n_update, 1);
	assert_string_equal(val(&w->fk[B], 0, F_TITLE), "written before the crash");
	restart_hub(w);
	advance(w, 1000);
	deliver(w, B);
	deliver(w, A);
	assert_int_equal(w->fk[B].n_read, 1);
	assert_int_equal(w->fk[B].n_update, 1); /* not written twice */
	assert_int_equal(w->fk[A].n_update, 0);
	assert_outbox_empty(w);
	struct cc_case c;
	load_case(w, 1, &c);
	assert_int_equal(c.link[B].pending_mask, 0);
	assert_string_equal(c.link[B].shadow[F_TITLE], "written before the crash");
	cc_case_clear(&c);
}

static void test_crash_after_remote_create(void **state)
{
	struct world *w = *state;
	person_new(&w->fk[A], "Mail queue stuck", "New", "high");
	poll(w, A);
	advance(w, SETTLE_MS);
	poll(w, B);
	w->fk[B].crash_after_write = &w->st;
	int n;
	assert_int_equal(cc_hub_deliver(w->hub, B, 20, &n), CC_ESTORE);
	assert_int_equal(w->fk[B].nrec, 1);
	restart_hub(w);
	advance(w, 5000);
	deliver(w, B);
	assert_int_equal(w->fk[B].n_find, 1);
	assert_int_equal(w->fk[B].n_create, 1); /* one case, one record */
	assert_int_equal(w->fk[B].nrec, 1);
	struct cc_case c;
	load_case(w, 1, &c);
	assert_int_equal(c.link[B].status, CC_LINK_LINKED);
	assert_string_equal(c.link[B].remote_id, "B-1");
	cc_case_clear(&c);
	assert_outbox_empty(w);
}

static void test_unmapped_value_parked_not_defaulted(void **state)
{
	struct world *w = *state;
	struct cc_case c;
	establish(w);
	person_edit(&w->fk[B], "B-1", F_STATE, "Bogus");
	poll(w, B);
	assert_int_equal(w->audits[CC_AUDIT_UNMAPPED], 1);
	load_case(w, 1, &c);
	assert_string_equal(c.f[F_STATE].value, "new");
	assert_int_equal(c.link[B].unmapped_mask, 1u << F_STATE);
	cc_case_clear(&c);
	/* neither propagated nor overwritten with a default */
	deliver(w, A);
	deliver(w, B);
	assert_int_equal(w->fk[A].n_update, 0);
	assert_int_equal(w->fk[B].n_update, 0);
	assert_string_equal(val(&w->fk[B], 0, F_STATE), "Bogus");
	assert_outbox_empty(w);
	/* a mapped value again: back to normal */
	advance(w, 1000);
	person_edit(&w->fk[B], "B-1", F_STATE, "Closed");
	poll(w, B);
	deliver(w, A);
	assert_string_equal(val(&w->fk[A], 0, F_STATE), "Resolved");
	load_case(w, 1, &c);
	assert_int_equal(c.link[B].unmapped_mask, 0);
	cc_case_clear(&c);
}

static void test_removed_correlation_id_parks_link(void **state)
{
	struct world *w = *state;
	struct cc_case c;
	establish(w);
	struct fake_rec *r = &w->fk[B].rec[0];
	free(r->corr);
	r->corr = NULL; /* someone removed it */
	person_edit(&w->fk[B], "B-1", F_TITLE, "edited after the removal");
	poll(w, B);
	assert_int_equal(w->audits[CC_AUDIT_ALERT], 1);
	load_case(w, 1, &c);
	assert_int_equal(c.link[B].status, CC_LINK_PARKED);
	assert_string_equal(c.f[F_TITLE].value, "Printer down");
	cc_case_clear(&c);
	/* the parked record is no longer written */
	person_edit(&w->fk[A], "A-1", F_TITLE, "A moves on");
	poll(w, A);
	deliver(w, B);
	deliver(w, A);
	assert_int_equal(w->fk[B].n_update, 0);
	assert_int_equal(w->fk[B].n_create, 1);
	assert_int_equal(w->fk[A].n_update, 0);
	assert_outbox_empty(w);
}

static void test_comment_marker(void **state)
{
	(void)state;
	char buf[128], id[16];
	uint64_t cid = 0;
	int sys = -1;
	cc_comment_marker(buf, sizeof(buf), 42, 3, "INC-7:c9");
	assert_string_equal(buf, "[concord:42:3:INC-7:c9]");
	assert_true(cc_comment_marker_parse("[concord:42:3:INC-7:c9] body", &cid, &sys, id,
	                                    sizeof(id)));
	assert_int_equal(cid, 42);
	assert_int_equal(sys, 3);
	assert_string_equal(id, "INC-7:c9");
	static const char *const bad[] = {
		"concord:1:0:a]", "[concord::0:a]", "[concord:1::a]", "[concord:1:0:]",
		"[concord:1:0:abc", "[concord:1:8:a]", "[concord:1:-1:a]", "[concord:x:0:a]",
		" [concord:1:0:a]", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cc_comment_marker_parse(bad[i], &cid, &sys, id, sizeof(id)))
			print_error("accepted bad marker \"%s\"\n", bad[i]);
		assert_false(cc_comment_marker_parse(bad[i], &cid, &sys, id, sizeof(id)));
	}
	/* an id that does not fit is refused, not truncated */
	assert_false(cc_comment_marker_parse("[concord:1:0:0123456789abcdef]", &cid, &sys, id,
	                                     sizeof(id)));
	assert_true(cc_comment_marker_parse("[concord:1:0:0123456789abcde]", &cid, &sys, id,
	                                    sizeof(id)));
}

/* cc_hub_webhook: a body the connector understands is ingested at once;
 * one it does not, or a connector without the op, asks for a poll. */
static void test_webhook_body_ingested(void **state)
{
	struct world *w = *state;
	bool handled = false;
	person_new(&w->fk[A], "Printer down", "New", "high");
	uint64_t requests = stats(w)->requests[A];
	assert_int_equal(cc_hub_webhook(w->hub, A, "A-1", 3, &handled, NULL), 0);
	assert_true(handled);
	assert_int_equal(stats(w)->observations, 1);
	assert_true(stats(w)->requests[A] > requests);
	struct cc_case c;
	load_case(w, 1, &c);
	assert_string_equal(c.f[F_TITLE].value, "Printer down");
	assert_string_equal(c.link[A].remote_id, "A-1");
	cc_case_clear(&c);
	/* the same body again (a replay): the same version, dropped */
	assert_int_equal(cc_hub_webhook(w->hub, A, "A-1", 3, &handled, NULL), 0);
	assert_true(handled);
	assert_int_equal(stats(w)->duplicates, 1);
	/* a body that names nothing: not handled, the reason kept */
	assert_int_equal(cc_hub_webhook(w->hub, A, "zzz", 3, &handled, NULL), 0);
	assert_false(handled);
	assert_string_equal(cc_hub_last_failure(w->hub, A), "body names no record");
	/* a connector without the op: not handled, nothing called */
	struct cc_connector_ops no_webhook = fake_ops;
	no_webhook.webhook = NULL;
	w->conn[A].ops = &no_webhook;
	person_new(&w->fk[A], "Mail down", "New", "low");
	assert_int_equal(cc_hub_webhook(w->hub, A, "A-2", 3, &handled, NULL), 0);
	assert_false(handled);
	assert_int_equal(stats(w)->observations, 2);
	w->conn[A].ops = &fake_ops;
}

static int64_t cursor_of(struct world *w, int s)
{
	struct cc_system_state st;
	assert_int_equal(w->st.ops->system_state_load(w->st.self, s, &st), CC_EOK);
	return st.has_cursor ? st.cursor_mtime_s : INT64_MIN;
}

/*
 * Listings that fail (a malformed answer): the cursor stays, the next poll
 * waits longer after each failure, the breaker opens after
 * breaker_failures of them (holding deliveries and polls), and the first
 * good poll ends the episode and catches up on what changed meanwhile.
 */
/* The driver's webhook queue, for test_driver_webhook_*: one system's bodies. */
struct queue {
	const char *bodies[4];
	size_t n, next;
};

static bool queue_take(void *ctx, int system, char **body, size_t *len)
{
	struct queue *q = ctx;
	if (system != A || q->next == q->n)
		return false;
	*body = strdup(q->bodies[q->next++]);
	assert_non_null(*body);
	*len = strlen(*body);
	return true;
}

/*
 * A webhook whose read fails for a passing reason (RETRY) is handed over
 * again after a backoff, and its record is ingested then; a body is read
 * even when a poll is due in the same step (a poll does not list every
 * change a webhook names).
 */
static void test_driver_webhook_read_again(void **state)
{
	struct world *w = *state;
	struct queue q = { .bodies = { "A-1" }, .n = 1 };
	struct cc_driver_env env = { .take_body = queue_take, .ctx = &q };
	struct cc_driver *d = NULL;
	assert_int_equal(cc_driver_create(&d, w->hub, &w->cfg, &env), CC_EOK);
	person_new(&w->fk[A], "Printer down", "New", "high");
	w->fk[A].fail_webhook = 2;
	w->fk[A].fail_list = 1000; /* polls see nothing: only the webhook brings the record */
	assert_int_equal(cc_driver_step(d, false), CC_EOK); /* a poll is due: read anyway */
	assert_int_equal(w->fk[A].fail_webhook, 1);
	assert_int_equal(stats(w)->observations, 0);
	assert_true(cc_driver_next_wake(d) <= w->now + 1000); /* due again within a second */
	advance(w, 1000);
	assert_int_equal(cc_driver_step(d, false), CC_EOK);
	assert_int_equal(w->fk[A].fail_webhook, 0); /* failed again: held 2 s */
	assert_int_equal(stats(w)->observations, 0);
	advance(w, 2000);
	assert_int_equal(cc_driver_step(d, false), CC_EOK);
	assert_int_equal(stats(w)->observations, 1);
	cc_driver_destroy(d);
}

static void test_failed_polls_back_off_and_open_breaker(void **state)
{
	struct world *w = *state;
	establish(w);
	int64_t cursor = cursor_of(w, A);
	person_edit(&w->fk[A], "A-1", F_TITLE, "changed while A answered garbage");
	w->fk[A].fail_list = 5;
	struct cc_hub_system_status hs;
	for (int i = 1; i <= 5; i++) {
		int64_t due = cc_hub_next_poll(w->hub, A);
		if (due > w->now)
			advance(w, due - w->now);
		int64_t t = w->now;
		poll(w, A);
		cc_hub_system_status(w->hub, A, &hs);
		assert_int_equal(hs.poll_failures, i);
		assert_int_equal(cursor_of(w, A), cursor); /* never moved */
		assert_non_null(strstr(cc_hub_last_failure(w->hub, A), "malformed"));
		if (i < 5) {
			/* the interval (1 s) doubles per failure, equal jitter: at least half */
			int64_t gap = cc_hub_next_poll(w->hub, A) - t;
			assert_true(gap >= ((int64_t)1000 << i) / 2);
			assert_true(gap <= (int64_t)1000 << i);
			assert_true(hs.open_until_ms <= w->now);
		}
	}
	/* five in a row: the breaker is open, polls and deliveries wait for it */
	cc_hub_system_status(w->hub, A, &hs);
	assert_true(hs.open_until_ms > w->now);
	assert_true(cc_hub_next_poll(w->hub, A) >= hs.open_until_ms);
	assert_int_equal(stats(w)->poll_failures, 5);
	advance(w, cc_hub_next_poll(w->hub, A) - w->now);
	poll(w, A); /* a good answer again */
	cc_hub_system_status(w->hub, A, &hs);
	assert_int_equal(hs.poll_failures, 0);
	assert_true(cursor_of(w, A) > cursor);
	assert_int_equal(cc_hub_next_poll(w->hub, A), hs.last_poll_start_ms + 1000);
	/* the change made during the episode was not lost */
	deliver(w, B);
	assert_string_equal(val(&w->fk[B], 0, F_TITLE), "changed while A answered garbage");
}

/* A reason quoting a credential is redacted before the hub keeps it. */
static void test_failure_reason_redacted(void **state)
{
	struct world *w = *state;
	w->fk[A].fail_list = 1;
	w->fk[A].fail_reason = "HTTP 401: you sent Authorization: token sekret-token-42";
	poll(w, A);
	const char *why = cc_hub_last_failure(w->hub, A);
	assert_null(strstr(why, "sekret"));
	assert_non_null(strstr(why, "HTTP 401"));
}

/*
 * Stopping: no delivery starts, and a call that failed meanwhile (an
 * interrupted request) counts neither as a failed poll nor as an attempt.
 */
static void test_stopping_starts_nothing(void **state)
{
	struct world *w = *state;
	establish(w);
	person_edit(&w->fk[A], "A-1", F_TITLE, "edit before the stop");
	poll(w, A);
	w->stopping = true;
	assert_int_equal(deliver(w, B), 0);
	assert_int_equal(w->fk[B].n_update, 0);
	w->fk[A].fail_list = 1;
	poll(w, A);
	struct cc_hub_system_status hs;
	cc_hub_system_status(w->hub, A, &hs);
	assert_int_equal(hs.poll_failures, 0);
	assert_int_equal(stats(w)->poll_failures, 0);
	w->stopping = false;
	assert_int_equal(deliver(w, B), 1);
	assert_string_equal(val(&w->fk[B], 0, F_TITLE), "edit before the stop");
}

#define YEAR_9999_S 253402300799LL

/*
 * A record that claims to have changed in the year 9999 (a wrong clock, a
 * bad answer): the cursor still stops at the system's now, so a change made
 * after it is listed, and its value does not win every later conflict.
 */
static void test_future_record_neither_moves_cursor_nor_wins(void **state)
{
	struct world *w = *state;
	establish(w);
	struct fake_rec *r = find_rec(&w->fk[A], "A-1");
	bump(&w->fk[A], r);
	xset(&r->val[F_TITLE], "from the future");
	r->mtime_s = r->fmtime[F_TITLE] = YEAR_9999_S;
	poll(w, A);
	int64_t remote_now = remote_now_s(&w->fk[A]);
	assert_true(cursor_of(w, A) <= remote_now);
	deliver(w, B);
	assert_string_equal(val(&w->fk[B], 0, F_TITLE), "from the future");
	/* a person's later edit elsewhere wins over the time to come */
	advance(w, 5000);
	person_edit(&w->fk[B], "B-1", F_TITLE, "a real later edit");
	poll(w, B);
	deliver(w, A);
	assert_string_equal(val(&w->fk[A], 0, F_TITLE), "a real later edit");
	/* and a new record in A, raised now, is still listed */
	person_new(&w->fk[A], "Raised after the future", "New", "low");
	advance(w, 1000);
	poll(w, A);
	struct cc_case c;
	load_case(w, 2, &c);
	assert_string_equal(c.f[F_TITLE].value, "Raised after the future");
	cc_case_clear(&c);
}

/* A cursor found in its system's future is taken back to the system's now. */
static void test_future_cursor_taken_back(void **state)
{
	struct world *w = *state;
	establish(w);
	struct cc_system_state st;
	assert_int_equal(w->st.ops->system_state_load(w->st.self, A, &st), CC_EOK);
	st.cursor_mtime_s = YEAR_9999_S;
	assert_int_equal(w->st.ops->begin(w->st.self), CC_EOK);
	assert_int_equal(w->st.ops->system_state_save(w->st.self, A, &st), CC_EOK);
	assert_int_equal(w->st.ops->commit(w->st.self), CC_EOK);
	cc_hub_destroy(w->hub);
	struct cc_hub_env env = { .now_ms = env_now, .random = env_random, .on_audit = env_audit,
		                  .stopping = env_stopping, .redact = env_redact, .ctx = w };
	assert_int_equal(cc_hub_create(&w->hub, &w->cfg, &w->st, w->conn, &env), CC_EOK);
	advance(w, 2000);
	person_edit(&w->fk[A], "A-1", F_TITLE, "seen despite the cursor");
	poll(w, A);
	assert_int_equal(stats(w)->cursor_resets, 1);
	assert_true(cursor_of(w, A) <= remote_now_s(&w->fk[A]));
	deliver(w, B);
	assert_string_equal(val(&w->fk[B], 0, F_TITLE), "seen despite the cursor");
}

/*
 * A listing answered 429 with Retry-After: the next poll is when the
 * system said, deliveries wait too, and the breaker does not count it.
 */
static void test_poll_retry_after_waits_without_breaker(void **state)
{
	struct world *w = *state;
	establish(w);
	person_edit(&w->fk[A], "A-1", F_TITLE, "to deliver after the hold");
	poll(w, A);
	w->fk[B].fail_list = 6;
	w->fk[B].fail_retry_after_ms = 30000;
	for (int i = 0; i < 6; i++) {
		int64_t due = cc_hub_next_poll(w->hub, B);
		if (due > w->now)
			advance(w, due - w->now);
		int64_t t = w->now;
		poll(w, B);
		assert_int_equal(cc_hub_next_poll(w->hub, B), t + 30000);
	}
	struct cc_hub_system_status hs;
	cc_hub_system_status(w->hub, B, &hs);
	assert_int_equal(hs.poll_failures, 6);
	assert_true(hs.open_until_ms <= w->now); /* asked to wait: not a failure */
	assert_int_equal(deliver(w, B), 0);      /* the hold covers deliveries */
	advance(w, 30000);
	poll(w, B);
	assert_int_equal(deliver(w, B), 1);
	assert_string_equal(val(&w->fk[B], 0, F_TITLE), "to deliver after the hold");
}

/*
 * Holds are no failure for the backoff: after six polls held by a
 * Retry-After, the first plain failure waits one doubled interval (1 to 2
 * s), not 2^7 intervals; nor does it open the breaker (five failures).
 */
static void test_poll_holds_do_not_grow_backoff(void **state)
{
	struct world *w = *state;
	establish(w);
	w->fk[B].fail_list = 6;
	w->fk[B].fail_retry_after_ms = 1000;
	for (int i = 0; i < 6; i++) {
		int64_t due = cc_hub_next_poll(w->hub, B);
		if (due > w->now)
			advance(w, due - w->now);
		poll(w, B);
	}
	advance(w, 1000);
	w->fk[B].fail_list = 1;
	w->fk[B].fail_retry_after_ms = 0;
	int64_t t = w->now;
	poll(w, B);
	int64_t wait = cc_hub_next_poll(w->hub, B) - t;
	assert_true(wait >= 1000 && wait <= 2000);
	struct cc_hub_system_status hs;
	cc_hub_system_status(w->hub, B, &hs);
	assert_int_equal(hs.poll_failures, 7); /* the status shows every failed poll */
	assert_true(hs.open_until_ms <= w->now);
}

/* ---- deliveries at once ---------------------------------------------------- */

/*
 * The environment of a batch, run in turn (the daemon: threads): records
 * each batch's size and whether the hub was held during connector calls.
 */
static struct {
	bool held;
	int runs;
	size_t sizes[8];
	int calls_held;     /* slot calls made while the hub was held */
	int slot_calls[4];
	bool down;          /* every slot create fails: RETRY, nothing applied */
	/* nest: the other workers run inside slot 0's first call, as threads
	 * would while it waits for its answer */
	bool nest;
	void (*job)(void *arg);
	void **args;
	size_t n, next;
} bt;

static void bt_run(void *ctx, size_t n, void (*job)(void *arg), void **args)
{
	(void)ctx;
	assert_false(bt.held); /* the caller does not hold the hub across a batch */
	if (bt.runs < 8)
		bt.sizes[bt.runs] = n;
	bt.runs++;
	bt.job = job;
	bt.args = args;
	bt.n = n;
	for (bt.next = 0; bt.next < n;)
		job(args[bt.next++]);
}

static void bt_lock(void *ctx)
{
	(void)ctx;
	assert_false(bt.held);
	bt.held = true;
}

static void bt_unlock(void *ctx)
{
	(void)ctx;
	assert_true(bt.held);
	bt.held = false;
}

/* A slot: the fake system behind it and which slot it is. */
struct slot_self {
	struct fake *f;
	int index;
};

static void slot_call(void *self)
{
	struct slot_self *sl = self;
	bt.slot_calls[sl->index]++;
	if (bt.held)
		bt.calls_held++;
	if (bt.nest && sl->index == 0) {
		bt.nest = false;
		while (bt.next < bt.n)
			bt.job(bt.args[bt.next++]);
	}
}

static enum cc_result slot_read(void *self, const char *remote_id, struct cc_observation *out,
                                struct cc_call *call)
{
	slot_call(self);
	return fake_read(((struct slot_self *)self)->f, remote_id, out, call);
}

static enum cc_result slot_find(void *self, const char *corr, struct cc_observation *out,
                                bool *found, struct cc_call *call)
{
	slot_call(self);
	return fake_find(((struct slot_self *)self)->f, corr, out, found, call);
}

static enum cc_result slot_create(void *self, const struct cc_write *wr,
                                  struct cc_observation *out, struct cc_call *call)
{
	slot_call(self);
	if (bt.down) {
		fill_call(((struct slot_self *)self)->f, call, CC_RETRY);
		snprintf(call->reason, sizeof(call->reason), "HTTP 502: bad gateway");
		return CC_RETRY;
	}
	return fake_create(((struct slot_self *)self)->f, wr, out, call);
}

static enum cc_result slot_update(void *self, const struct cc_write *wr,
                                  struct cc_observation *out, struct cc_call *call)
{
	slot_call(self);
	return fake_update(((struct slot_self *)self)->f, wr, out, call);
}

static enum cc_result slot_comment(void *self, const char *remote_id, const char *body,
                                   char **new_id, struct cc_call *call)
{
	slot_call(self);
	return fake_add_comment(((struct slot_self *)self)->f, remote_id, body, new_id, call);
}

static const struct cc_connector_ops slot_ops = {
	.version = CC_CONNECTOR_OPS_VERSION,
	.kind = "fake",
	.read = slot_read,
	.find_by_correlation = slot_find,
	.create = slot_create,
	.update = slot_update,
	.add_comment = slot_comment,
};

/* A hub with the batch environment and four slots for B (set up by the caller's world). */
static void batch_hub(struct world *w, struct slot_self selves[4], struct cc_connector slots[4])
{
	memset(&bt, 0, sizeof(bt));
	cc_hub_destroy(w->hub);
	struct cc_hub_env env = { .now_ms = env_now, .random = env_random, .on_audit = env_audit,
		                  .stopping = env_stopping, .redact = env_redact,
		                  .run = bt_run, .lock = bt_lock, .unlock = bt_unlock, .ctx = w };
	assert_int_equal(cc_hub_create(&w->hub, &w->cfg, &w->st, w->conn, &env), CC_EOK);
	for (int i = 0; i < 4; i++) {
		selves[i] = (struct slot_self){ &w->fk[B], i };
		slots[i] = (struct cc_connector){ &slot_ops, &selves[i] };
	}
	assert_int_equal(cc_hub_set_delivery_slots(w->hub, B, slots, 4), CC_EOK);
}

/*
 * Calls at once that fail at once count once for the breaker: a round of
 * eight failed creates (four workers) is one failure in a row, not eight
 * (the breaker opens after five), and no create was applied.
 */
static void test_batch_failures_count_once(void **state)
{
	struct world *w = *state;
	struct slot_self selves[4];
	struct cc_connector slots[4];
	batch_hub(w, selves, slots);
	for (int i = 0; i < 8; i++)
		person_new(&w->fk[A], "Outage", "New", "high");
	poll(w, A);
	advance(w, SETTLE_MS);
	poll(w, B);
	bt.down = true;
	assert_int_equal(deliver(w, B), 8);
	assert_int_equal(bt.runs, 1);
	assert_int_equal(w->fk[B].nrec, 0);
	struct cc_hub_system_status hs;
	cc_hub_system_status(w->hub, B, &hs);
	assert_int_equal(hs.failures, 1);
	assert_true(hs.open_until_ms == 0);
	/* the system is back: every create goes through, once */
	bt.down = false;
	advance(w, 120000);
	poll(w, B);
	deliver(w, B);
	assert_int_equal(w->fk[B].nrec, 8);
	assert_int_equal(stats(w)->creates, 8);
}

/*
 * Workers never share a record: while the first is in its call creating
 * one record, the others run and take only the others; each record is
 * created once.
 */
static void test_workers_never_share_a_record(void **state)
{
	struct world *w = *state;
	struct slot_self selves[4];
	struct cc_connector slots[4];
	batch_hub(w, selves, slots);
	for (int i = 0; i < 3; i++)
		person_new(&w->fk[A], "Shared out", "New", "high");
	poll(w, A);
	advance(w, SETTLE_MS);
	poll(w, B);
	bt.nest = true;
	assert_int_equal(deliver(w, B), 3);
	assert_int_equal(bt.runs, 1);
	assert_int_equal(bt.sizes[0], 3);
	assert_int_equal(w->fk[B].n_create, 3);
	assert_int_equal(w->fk[B].nrec, 3);
	assert_int_equal(bt.slot_calls[0], 1);  /* its one create, during which ... */
	assert_int_equal(bt.slot_calls[1], 2);  /* ... the second took the other two */
	assert_int_equal(bt.calls_held, 0);
	assert_outbox_empty(w);
}

/*
 * With env.run and four slots for B, six new records reach B in one round
 * of four workers (each pulls the next entry due that no other holds), no
 * connector call made with the hub held; their later edits go the same
 * way, each record written once.
 */
static void test_deliveries_at_once(void **state)
{
	struct world *w = *state;
	struct slot_self selves[4];
	struct cc_connector slots[4];
	batch_hub(w, selves, slots);
	struct cc_connector bad = { &fake_ops, &w->fk[B] };
	assert_int_equal(cc_hub_set_delivery_slots(w->hub, B, &bad, CC_HUB_SLOTS_MAX + 1),
	                 CC_EINVAL);

	const char *ids[6];
	char title[32];
	for (int i = 0; i < 6; i++) {
		snprintf(title, sizeof(title), "Incident %d", i);
		ids[i] = person_new(&w->fk[A], title, "New", "high");
	}
	poll(w, A);
	advance(w, SETTLE_MS);
	poll(w, B);
	assert_int_equal(deliver(w, B), 6);
	assert_int_equal(w->fk[B].nrec, 6);
	assert_int_equal(stats(w)->creates, 6);
	/* one round of four workers; run in turn, the first takes all six
	 * (threads share them out: tests/unit/test_jobs.c) */
	assert_int_equal(bt.runs, 1);
	assert_int_equal(bt.sizes[0], 4);
	assert_int_equal(bt.calls_held, 0);
	assert_true(bt.slot_calls[0] > 0);
	assert_false(bt.held);
	assert_int_equal(w->fk[B].n_create, 6);
	poll(w, B); /* the copies seen: echoes only */
	assert_int_equal(deliver(w, A), 0);
	assert_outbox_empty(w);

	advance(w, 3000);
	for (int i = 0; i < 6; i++)
		person_edit(&w->fk[A], ids[i], F_TITLE, "edited");
	poll(w, A);
	uint64_t writes = stats(w)->writes;
	assert_int_equal(deliver(w, B), 6);
	assert_int_equal(stats(w)->writes - writes, 6);
	for (size_t r = 0; r < 6; r++)
		assert_string_equal(val(&w->fk[B], r, F_TITLE), "edited");
	assert_int_equal(bt.runs, 2);
	assert_int_equal(bt.calls_held, 0);
	assert_outbox_empty(w);
}

/*
 * Threads for a round that polls while it delivers (cc_hub_poll_and_deliver):
 * a thread per job, the hub behind one mutex, a worker waiting for work on
 * a condition. The fake systems are not thread-safe: B's slots use theirs
 * under th.fake (A's poll thread alone reads A).
 */
static struct {
	pthread_mutex_t hub, fake;
	pthread_cond_t moved;
	int creates;        /* creates B's slots made (atomic) */
	int lists;          /* A's listing pages read */
	bool overlap;       /* A's second page was read after a create to B */
	int waits;
} th = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
	 0, 0, false, 0 };

struct th_task {
	void (*job)(void *arg);
	void *arg;
};

static void *th_main(void *arg)
{
	struct th_task *t = arg;
	t->job(t->arg);
	return NULL;
}

static void th_run(void *ctx, size_t n, void (*job)(void *arg), void **args)
{
	(void)ctx;
	pthread_t t[32];
	struct th_task tk[32];
	assert_true(n <= 32);
	bt.runs++;
	for (size_t i = 0; i < n; i++) {
		tk[i] = (struct th_task){ job, args[i] };
		assert_int_equal(pthread_create(&t[i], NULL, th_main, &tk[i]), 0);
	}
	for (size_t i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

static void th_lock(void *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&th.hub);
}

static void th_unlock(void *ctx)
{
	(void)ctx;
	pthread_mutex_unlock(&th.hub);
}

static void th_wait(void *ctx)
{
	(void)ctx;
	struct timespec at;
	clock_gettime(CLOCK_REALTIME, &at);
	at.tv_nsec += 10 * 1000000L;
	if (at.tv_nsec >= 1000000000L) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000L;
	}
	th.waits++;
	pthread_cond_timedwait(&th.moved, &th.hub, &at);
}

static void th_wake(void *ctx)
{
	(void)ctx;
	pthread_cond_broadcast(&th.moved);
}

/* A's listing: its second page waits (5 s at most) for a create to B. */
static enum cc_result th_list(void *self, int64_t since_s, int64_t after_mtime_s,
                              const char *after_id, size_t page_size, struct cc_page *out,
                              struct cc_call *call)
{
	if (++th.lists == 2) {
		for (int i = 0; i < 5000 && !__atomic_load_n(&th.creates, __ATOMIC_SEQ_CST); i++)
			nanosleep(&(struct timespec){ 0, 1000000L }, NULL);
		th.overlap = __atomic_load_n(&th.creates, __ATOMIC_SEQ_CST) > 0;
	}
	return fake_list(self, since_s, after_mtime_s, after_id, page_size, out, call);
}

static enum cc_result th_slot_find(void *self, const char *corr, struct cc_observation *out,
                                   bool *found, struct cc_call *call)
{
	pthread_mutex_lock(&th.fake);
	enum cc_result r = slot_find(self, corr, out, found, call);
	pthread_mutex_unlock(&th.fake);
	return r;
}

static enum cc_result th_slot_create(void *self, const struct cc_write *wr,
                                     struct cc_observation *out, struct cc_call *call)
{
	pthread_mutex_lock(&th.fake);
	enum cc_result r = slot_create(self, wr, out, call);
	pthread_mutex_unlock(&th.fake);
	__atomic_add_fetch(&th.creates, 1, __ATOMIC_SEQ_CST);
	return r;
}

static enum cc_result th_slot_read(void *self, const char *remote_id, struct cc_observation *out,
                                   struct cc_call *call)
{
	pthread_mutex_lock(&th.fake);
	enum cc_result r = slot_read(self, remote_id, out, call);
	pthread_mutex_unlock(&th.fake);
	return r;
}

static enum cc_result th_slot_update(void *self, const struct cc_write *wr,
                                     struct cc_observation *out, struct cc_call *call)
{
	pthread_mutex_lock(&th.fake);
	enum cc_result r = slot_update(self, wr, out, call);
	pthread_mutex_unlock(&th.fake);
	return r;
}

static const struct cc_connector_ops th_slot_ops = {
	.version = CC_CONNECTOR_OPS_VERSION,
	.kind = "fake",
	.read = th_slot_read,
	.find_by_correlation = th_slot_find,
	.create = th_slot_create,
	.update = th_slot_update,
};

/*
 * Polls and deliveries in one round: A and B are both polled (a first
 * start); once B's own short poll has ended, and while A's poll reads its
 * second page, B's workers already create the records of A's first (the
 * copies of a first sync start with its first page); the workers wait for
 * the poll's pages instead of ending their round, and every record reaches
 * B once. Without env.wait, the same call polls and delivers nothing.
 */
static void test_poll_while_delivering(void **state)
{
	struct world *w = *state;
	memset(&bt, 0, sizeof(bt));
	th.creates = th.lists = th.waits = 0;
	th.overlap = false;
	w->cfg.create_settle_ms = 0;
	static struct cc_connector_ops a_ops;
	a_ops = *w->conn[A].ops;
	a_ops.list_changes = th_list;
	w->conn[A].ops = &a_ops;
	cc_hub_destroy(w->hub);
	struct cc_hub_env env = { .now_ms = env_now, .random = env_random, .on_audit = env_audit,
		                  .stopping = env_stopping, .redact = env_redact,
		                  .run = th_run, .lock = th_lock, .unlock = th_unlock,
		                  .wait = th_wait, .wake = th_wake, .ctx = w };
	assert_int_equal(cc_hub_create(&w->hub, &w->cfg, &w->st, w->conn, &env), CC_EOK);
	struct slot_self selves[4];
	struct cc_connector slots[4];
	for (int i = 0; i < 4; i++) {
		selves[i] = (struct slot_self){ &w->fk[B], i };
		slots[i] = (struct cc_connector){ &th_slot_ops, &selves[i] };
	}
	assert_int_equal(cc_hub_set_delivery_slots(w->hub, B, slots, 4), CC_EOK);
	for (int i = 0; i < 4; i++)
		person_new(&w->fk[A], "First sync", "New", "high");

	/* both polled (a first start): B's short poll ends, then its workers start */
	bool both[NSYS] = { [A] = true, [B] = true };
	int n = 0;
	assert_int_equal(cc_hub_poll_and_deliver(w->hub, both, NULL, 20, &n), CC_EOK);
	assert_true(th.overlap);
	assert_int_equal(th.lists, 2);      /* pages of two */
	assert_int_equal(bt.runs, 1);
	assert_int_equal(n, 4);             /* the second page's too: the workers waited */
	assert_true(th.waits > 0);
	assert_int_equal(w->fk[B].n_create, 4);
	assert_int_equal(w->fk[B].nrec, 4);
	assert_int_equal(stats(w)->observations_of[A], 4);
	assert_int_equal(deliver(w, B), 0);

	/* without wait and wake: the poll, and nothing delivered during it */
	cc_hub_destroy(w->hub);
	env.wait = env.wake = NULL;
	assert_int_equal(cc_hub_create(&w->hub, &w->cfg, &w->st, w->conn, &env), CC_EOK);
	assert_int_equal(cc_hub_set_delivery_slots(w->hub, B, slots, 4), CC_EOK);
	th.lists = 0;
	th.creates = 0;
	for (int i = 0; i < 4; i++)
		person_new(&w->fk[A], "Later", "New", "high");
	advance(w, 1000);
	w->fk[A].n_list = 0;
	n = 0;
	bool only_a[NSYS] = { [A] = true };
	assert_int_equal(cc_hub_poll_and_deliver(w->hub, only_a, NULL, 20, &n), CC_EOK);
	assert_int_equal(n, 0);
	assert_int_equal(th.creates, 0);
	poll(w, B);
	int later = deliver(w, B);
	if (later != 4)
		print_error("delivered %d, B has %zu records, %d creates\n", later, w->fk[B].nrec,
		            th.creates);
	assert_int_equal(later, 4);
	assert_int_equal(w->fk[B].nrec, 8);
}

/*
 * A value the integration user set when it created the record (a create
 * whose next step failed: Jira's transitions towards the status) is never
 * a person's change: B's title "half way" by concord stays out of the
 * case, A is not written, and B gets the case's title again. A later edit
 * made with the account is a change, as a person may use it.
 */
static void test_integration_user_value_is_no_change(void **state)
{
	struct world *w = *state;
	w->cfg.systems[B].integration_user = "concord";
	const char *a = person_new(&w->fk[A], "Printer on fire", "New", "high");
	poll(w, A);
	advance(w, SETTLE_MS);
	poll(w, B);
	assert_int_equal(deliver(w, B), 1);
	assert_int_equal(w->fk[B].nrec, 1);
	const char *b = w->fk[B].rec[0].id;
	advance(w, 3000);
	concord_at_create(&w->fk[B], b, F_TITLE, "half way");
	int writes_a = w->fk[A].n_update;
	poll(w, B);
	assert_true(w->audits[CC_AUDIT_ECHO] > 0);
	assert_int_equal(deliver(w, A), 0);            /* nothing for A */
	assert_int_equal(w->fk[A].n_update, writes_a);
	assert_string_equal(val(&w->fk[A], 0, F_TITLE), "Printer on fire");
	assert_int_equal(deliver(w, B), 1);            /* B gets the case's title again */
	assert_string_equal(val(&w->fk[B], 0, F_TITLE), "Printer on fire");
	/* a later edit with the account is a person's change: it reaches A */
	advance(w, 3000);
	concord_edit(&w->fk[B], b, F_TITLE, "edited with the account");
	poll(w, B);
	assert_int_equal(deliver(w, A), 1);
	assert_string_equal(val(&w->fk[A], 0, F_TITLE), "edited with the account");
	(void)a;
	w->cfg.systems[B].integration_user = NULL;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_new_record_creates_case_and_remote_after_gate),
		T(test_create_brings_target_poll_forward),
		T(test_refused_create_dead_lettered_once),
		T(test_refused_update_waits_for_a_retry),
		T(test_no_date_header_first_start),
		T(test_echo_suppressed),
		T(test_person_change_on_b_propagates_to_a),
		T(test_older_change_loses_newer_polled_first),
		T(test_older_change_loses_older_polled_first),
		T(test_lossy_state_does_not_oscillate),
		T(test_companion_written_with_state_once),
		T(test_write_of_unknown_outcome_confirmed_by_read),
		T(test_write_of_unknown_outcome_confirmed_by_poll),
		T(test_create_of_unknown_outcome_found_by_correlation),
		T(test_comments_mirrored_once_each_way),
		T(test_comment_of_unknown_outcome_not_mirrored_twice),
		T(test_duplicate_observation_dropped),
		T(test_torn_read_then_same_version_not_dropped),
		T(test_whole_read_then_torn_read_dropped),
		T(test_edit_during_write_not_dropped),
		T(test_stale_observation_dropped),
		T(test_retry_after_sets_delay),
		T(test_conflict_rereads_then_writes),
		T(test_poll_pages),
		T(test_ingest_without_offset_reads_first),
		T(test_crash_after_remote_update),
		T(test_crash_after_remote_create),
		T(test_unmapped_value_parked_not_defaulted),
		T(test_removed_correlation_id_parks_link),
		cmocka_unit_test(test_comment_marker),
		T(test_driver_webhook_read_again),
		T(test_failed_polls_back_off_and_open_breaker),
		T(test_failure_reason_redacted),
		T(test_stopping_starts_nothing),
		T(test_future_record_neither_moves_cursor_nor_wins),
		T(test_future_cursor_taken_back),
		T(test_poll_retry_after_waits_without_breaker),
		T(test_webhook_body_ingested),
		T(test_poll_holds_do_not_grow_backoff),
		T(test_deliveries_at_once),
		T(test_poll_while_delivering),
		T(test_integration_user_value_is_no_change),
		T(test_batch_failures_count_once),
		T(test_workers_never_share_a_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
