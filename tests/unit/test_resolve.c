/*
 * Unit tests of the manual queue: cc_resolve (src/core/resolve.c), the pure
 * decision on a parked conflict (the value of a side or one given by hand,
 * a version later than both sides, refusals that leave the case as it
 * was), how `manual` merges after a resolution (a later change wins, an
 * older one seen late loses instead of parking again), the parked side's
 * version kept by the merge, and cc_hub_resolve (src/core/manual_queue.c)
 * over the memory store: audit, outbox, one transaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hub.h"
#include "core/merge.h"
#include "core/resolve.h"
#include "store/store.h"

enum { F_TITLE, F_STATE, F_NOTE, NF };
enum { SNOW, SENT, JIRA };

static const char *const s_new[] = { "new", NULL };
static const char *const s_active[] = { "in_progress", "on_hold", NULL };
static const char *const s_closed[] = { "resolved", "closed", "canceled", NULL };
static const struct cc_value_entry sentinel_state[] = {
	CC_VALUE("New", s_new, NULL),
	CC_VALUE("Active", s_active, NULL),
	CC_VALUE("Closed", s_closed, "resolved"),
};

static struct cc_config cfg;

static const struct cc_field_map IDENT = { .mapped = true, .kind = CC_MAP_IDENTITY };

static int setup(void **state)
{
	(void)state;
	cc_config_defaults(&cfg);
	cfg.nfields = NF;
	cfg.fields[F_TITLE] = (struct cc_field_def){ "title", CC_FT_STRING, CC_POLICY_LWW, 0, 0, true, NULL };
	cfg.fields[F_STATE] = (struct cc_field_def){ "state", CC_FT_ENUM, CC_POLICY_MANUAL, 0, 0, false, NULL };
	cfg.fields[F_NOTE] = (struct cc_field_def){ "note", CC_FT_TEXT, CC_POLICY_MANUAL, 0, 0, false, NULL };
	cfg.nsystems = 3;
	const char *names[] = { "snow", "sentinel", "jira" };
	for (int s = 0; s < 3; s++) {
		struct cc_system_def *sd = &cfg.systems[s];
		sd->name = names[s];
		sd->kind = names[s];
		sd->rank = s + 1;
		for (int f = 0; f < NF; f++)
			sd->map[f] = IDENT;
	}
	cfg.systems[SENT].map[F_STATE] = (struct cc_field_map){
		.mapped = true, .kind = CC_MAP_TABLE, .entries = sentinel_state, .nentries = 3 };
	return 0;
}

static struct cc_version V(int64_t t, int32_t rank, uint64_t rv)
{
	return (struct cc_version){ t, rank, rv };
}

static void link_sys(struct cc_case *c, int sys, const char *rid)
{
	c->link[sys].status = CC_LINK_LINKED;
	assert_int_equal(cc_str_set(&c->link[sys].remote_id, rid), CC_EOK);
}

static void shadow(struct cc_case *c, int sys, int f, const char *v)
{
	assert_int_equal(cc_str_set(&c->link[sys].shadow[f], v), CC_EOK);
}

static int merge(struct cc_case *c, int sys, int f, const char *remote, const char *old,
                 struct cc_version v)
{
	struct cc_change ch = { .system = sys, .field = f, .remote_value = remote,
	                        .old_shadow = old, .ver = v };
	return cc_merge(&cfg, c, &ch);
}

/*
 * A case linked in the three systems whose field f holds `mine` from SNOW
 * (version 2000) and has SENT's `theirs` (version 3000) parked, made by
 * the merge itself.
 */
static void parked_case(struct cc_case *c, int f, const char *mine, const char *theirs,
                        const char *sent_remote)
{
	assert_int_equal(cc_case_init(c), CC_EOK);
	c->id = 7;
	for (int s = 0; s < 3; s++)
		link_sys(c, s, s == SNOW ? "INC1" : s == SENT ? "S-1" : "J-1");
	assert_int_equal(cc_case_set_value(c, f, mine), CC_EOK);
	c->f[f].origin = SNOW;
	c->f[f].ver = V(2000, 1, 2);
	shadow(c, SNOW, f, mine);
	shadow(c, JIRA, f, mine);
	shadow(c, SENT, f, "");
	assert_int_equal(merge(c, SENT, f, sent_remote, "", V(3000, 2, 5)), CC_MERGE_PARKED);
	shadow(c, SENT, f, sent_remote);
	assert_true(c->f[f].parked);
	assert_string_equal(c->f[f].parked_value, theirs);
}

static void test_merge_keeps_the_parked_version(void **state)
{
	(void)state;
	struct cc_case c;
	parked_case(&c, F_NOTE, "mine", "theirs", "theirs");
	assert_int_equal(c.f[F_NOTE].parked_system, SENT);
	assert_true(c.f[F_NOTE].parked_ver.t_ms == 3000);
	assert_int_equal(c.f[F_NOTE].parked_ver.rank, 2);
	/* the parked system changes again: its side and its version follow */
	assert_int_equal(merge(&c, SENT, F_NOTE, "theirs 2", "theirs", V(3500, 2, 6)),
	                 CC_MERGE_PARKED);
	assert_string_equal(c.f[F_NOTE].parked_value, "theirs 2");
	assert_true(c.f[F_NOTE].parked_ver.t_ms == 3500);
	struct cc_conflict k[CC_MAX_FIELDS];
	assert_int_equal(cc_case_conflicts(&cfg, &c, k), 1);
	assert_int_equal(k[0].field, F_NOTE);
	assert_int_equal(k[0].case_system, SNOW);
	assert_string_equal(k[0].case_value, "mine");
	assert_int_equal(k[0].parked_system, SENT);
	assert_string_equal(k[0].parked_value, "theirs 2");
	assert_true(k[0].parked_ver.t_ms == 3500);
	cc_case_clear(&c);
}

static void test_take_the_parked_side(void **state)
{
	(void)state;
	struct cc_case c;
	struct cc_resolve_outcome out;
	const char *values[CC_MAX_FIELDS];
	uint32_t unmapped;
	parked_case(&c, F_NOTE, "mine", "theirs", "theirs");
	struct cc_resolution how = { .take = SENT, .by = "ann" };
	assert_int_equal(cc_resolve(&cfg, &c, F_NOTE, &how, 10000, &out), CC_EOK);
	assert_string_equal(c.f[F_NOTE].value, "theirs");
	assert_false(c.f[F_NOTE].parked);
	assert_null(c.f[F_NOTE].parked_value);
	assert_int_equal(c.f[F_NOTE].parked_system, -1);
	assert_true(c.f[F_NOTE].parked_ver.t_ms == INT64_MIN);
	assert_int_equal(c.f[F_NOTE].origin, -1);
	assert_true(c.f[F_NOTE].ver.t_ms == 10000);
	assert_int_equal(c.f[F_NOTE].ver.rank, INT32_MIN);
	assert_int_equal(out.system, SENT);
	assert_string_equal(out.detail, "ann took sentinel's value");
	/* the field is projected again: SNOW and JIRA get the value, SENT has it */
	assert_int_equal(cc_project(&cfg, &c, SNOW, values, &unmapped), 1);
	assert_string_equal(values[F_NOTE], "theirs");
	assert_int_equal(cc_project(&cfg, &c, JIRA, values, &unmapped), 1);
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 0);
	/* resolving it again: nothing is parked any more */
	assert_int_equal(cc_resolve(&cfg, &c, F_NOTE, &how, 11000, &out), CC_ENOTPARKED);
	cc_case_clear(&c);
}

static void test_take_the_case_side_and_set_a_value(void **state)
{
	(void)state;
	struct cc_case c;
	struct cc_resolve_outcome out;
	parked_case(&c, F_NOTE, "mine", "theirs", "theirs");
	struct cc_resolution how = { .take = SNOW, .by = "bo" };
	assert_int_equal(cc_resolve(&cfg, &c, F_NOTE, &how, 10000, &out), CC_EOK);
	assert_string_equal(c.f[F_NOTE].value, "mine");
	assert_string_equal(out.detail, "bo took snow's value");
	cc_case_clear(&c);

	/* who resolved it stays on one line in the audit and the logs */
	parked_case(&c, F_NOTE, "mine", "theirs", "theirs");
	how = (struct cc_resolution){ .take = SNOW, .by = "eve\n2024-01-01 INFO forged" };
	assert_int_equal(cc_resolve(&cfg, &c, F_NOTE, &how, 10000, &out), CC_EOK);
	assert_string_equal(out.detail, "eve 2024-01-01 INFO forged took snow's value");
	cc_case_clear(&c);

	parked_case(&c, F_NOTE, "mine", "theirs", "theirs");
	how = (struct cc_resolution){ .take = -1, .value = "both, merged  \r\nby hand  ", .by = NULL };
	assert_int_equal(cc_resolve(&cfg, &c, F_NOTE, &how, 10000, &out), CC_EOK);
	assert_string_equal(c.f[F_NOTE].value, "both, merged\nby hand"); /* normalized */
	assert_int_equal(out.system, -1);
	assert_string_equal(out.detail, "someone set the value");
	cc_case_clear(&c);
}

static void test_refusals_leave_the_case_alone(void **state)
{
	(void)state;
	struct cc_case c;
	struct cc_resolve_outcome out;
	/* not parked */
	parked_case(&c, F_NOTE, "mine", "theirs", "theirs");
	struct cc_resolution how = { .take = SENT };
	assert_int_equal(cc_resolve(&cfg, &c, F_TITLE, &how, 10000, &out), CC_ENOTPARKED);
	assert_int_equal(cc_resolve(&cfg, &c, NF, &how, 10000, &out), CC_EINVAL);
	/* a system that is not a side of this conflict */
	how.take = JIRA;
	assert_int_equal(cc_resolve(&cfg, &c, F_NOTE, &how, 10000, &out), CC_EINVAL);
	assert_int_equal(out.system, JIRA);
	assert_true(c.f[F_NOTE].parked);
	assert_string_equal(c.f[F_NOTE].value, "mine");
	cc_case_clear(&c);

	/* a value Sentinel's table cannot carry: which system says so */
	parked_case(&c, F_STATE, "new", "in_progress", "Active");
	how = (struct cc_resolution){ .take = -1, .value = "waiting_for_godot" };
	assert_int_equal(cc_resolve(&cfg, &c, F_STATE, &how, 10000, &out), CC_EUNMAPPED);
	assert_int_equal(out.system, SENT);
	assert_true(c.f[F_STATE].parked);
	assert_string_equal(c.f[F_STATE].value, "new");
	assert_string_equal(c.f[F_STATE].parked_value, "in_progress");
	assert_true(c.f[F_STATE].ver.t_ms == 2000);
	/* a value the table carries (through a lossy set) is fine */
	how.value = "closed";
	assert_int_equal(cc_resolve(&cfg, &c, F_STATE, &how, 10000, &out), CC_EOK);
	assert_string_equal(c.f[F_STATE].value, "closed");
	cc_case_clear(&c);

	/* a system without a record is not asked */
	parked_case(&c, F_STATE, "new", "in_progress", "Active");
	c.link[SENT].status = CC_LINK_PARKED;
	how = (struct cc_resolution){ .take = -1, .value = "waiting_for_godot" };
	assert_int_equal(cc_resolve(&cfg, &c, F_STATE, &how, 10000, &out), CC_EOK);
	cc_case_clear(&c);
}

static void test_version_is_later_than_both_sides(void **state)
{
	(void)state;
	struct cc_case c;
	struct cc_resolve_outcome out;
	parked_case(&c, F_NOTE, "mine", "theirs", "theirs");
	struct cc_resolution how = { .take = SNOW };
	/* resolved "before" the parked side's time (a clock ahead): past it */
	assert_int_equal(cc_resolve(&cfg, &c, F_NOTE, &how, 2500, &out), CC_EOK);
	assert_true(out.ver.t_ms == 3001);
	assert_true(cc_version_cmp(&out.ver, &(struct cc_version){ 3000, 2, 5 }) > 0);
	assert_true(cc_version_cmp(&out.ver, &(struct cc_version){ 2000, 1, 2 }) > 0);
	cc_case_clear(&c);

	parked_case(&c, F_NOTE, "mine", "theirs", "theirs");
	c.f[F_NOTE].ver = V(9000, 1, 3); /* the case side claims a later time */
	assert_int_equal(cc_resolve(&cfg, &c, F_NOTE, &how, 2500, &out), CC_EOK);
	assert_true(out.ver.t_ms == 9001);
	cc_case_clear(&c);
}

static void test_merges_after_a_resolution(void **state)
{
	(void)state;
	struct cc_case c;
	struct cc_resolve_outcome out;
	parked_case(&c, F_NOTE, "mine", "theirs", "theirs");
	struct cc_resolution how = { .take = -1, .value = "decided" };
	assert_int_equal(cc_resolve(&cfg, &c, F_NOTE, &how, 10000, &out), CC_EOK);

	/* an older change seen late, from a system that never got the
	 * resolution: it loses (the system is brought back), not parked again */
	assert_int_equal(merge(&c, JIRA, F_NOTE, "older", "mine", V(8000, 3, 9)), CC_MERGE_LOST);
	assert_false(c.f[F_NOTE].parked);
	assert_string_equal(c.f[F_NOTE].value, "decided");
	/* a change at the resolution's very millisecond wins the tie */
	assert_int_equal(merge(&c, JIRA, F_NOTE, "same ms", "mine", V(10000, 3, 10)),
	                 CC_MERGE_APPLIED);
	assert_string_equal(c.f[F_NOTE].value, "same ms");
	cc_case_clear(&c);

	parked_case(&c, F_NOTE, "mine", "theirs", "theirs");
	assert_int_equal(cc_resolve(&cfg, &c, F_NOTE, &how, 10000, &out), CC_EOK);
	/* a later change in a system that has not received it yet: it wins */
	assert_int_equal(merge(&c, SENT, F_NOTE, "later", "theirs", V(12000, 2, 7)),
	                 CC_MERGE_APPLIED);
	assert_string_equal(c.f[F_NOTE].value, "later");
	assert_int_equal(c.f[F_NOTE].origin, SENT);
	cc_case_clear(&c);

	parked_case(&c, F_NOTE, "mine", "theirs", "theirs");
	assert_int_equal(cc_resolve(&cfg, &c, F_NOTE, &how, 10000, &out), CC_EOK);
	/* a person's edit of the resolved value (the system had it): a successor */
	assert_int_equal(merge(&c, SNOW, F_NOTE, "next", "decided", V(11000, 1, 4)),
	                 CC_MERGE_APPLIED);
	assert_string_equal(c.f[F_NOTE].value, "next");
	cc_case_clear(&c);
}

/* ---- cc_hub_resolve over the memory store -------------------------------- */

struct hub_world {
	struct cc_store st;
	struct cc_hub *hub;
	int64_t now;
	int audits;
	struct cc_audit_entry last; /* strings not kept */
	char last_detail[192];
};

static int64_t env_now(void *ctx)
{
	return ((struct hub_world *)ctx)->now;
}

static uint64_t env_random(void *ctx)
{
	(void)ctx;
	return 4;
}

static void env_audit(void *ctx, const struct cc_audit_entry *e)
{
	struct hub_world *w = ctx;
	w->audits++;
	w->last = *e;
	snprintf(w->last_detail, sizeof(w->last_detail), "%s", e->detail ? e->detail : "");
}

static void hub_open(struct hub_world *w)
{
	memset(w, 0, sizeof(*w));
	w->now = 50000;
	assert_int_equal(cc_store_memory_open(&w->st), CC_EOK);
	struct cc_hub_env env = { .now_ms = env_now, .random = env_random, .on_audit = env_audit,
		                  .ctx = w };
	assert_int_equal(cc_hub_create(&w->hub, &cfg, &w->st, NULL, &env), CC_EOK);
}

static void hub_close(struct hub_world *w)
{
	cc_hub_destroy(w->hub);
	w->st.ops->destroy(w->st.self);
}

static uint64_t store_case(struct hub_world *w, struct cc_case *c)
{
	uint64_t id;
	assert_int_equal(w->st.ops->begin(w->st.self), CC_EOK);
	assert_int_equal(w->st.ops->case_new(w->st.self, &id), CC_EOK);
	c->id = id;
	assert_int_equal(w->st.ops->case_save(w->st.self, c), CC_EOK);
	assert_int_equal(w->st.ops->commit(w->st.self), CC_EOK);
	return id;
}

static void test_hub_resolve_audits_and_queues(void **state)
{
	(void)state;
	struct hub_world w;
	struct cc_case c, back;
	struct cc_resolve_outcome out;
	hub_open(&w);
	parked_case(&c, F_NOTE, "mine", "theirs", "theirs");
	c.link[JIRA].status = CC_LINK_PARKED; /* its record was deleted: no delivery */
	uint64_t id = store_case(&w, &c);
	cc_case_clear(&c);

	struct cc_resolution how = { .take = SENT, .by = "ann" };
	assert_int_equal(cc_hub_resolve(w.hub, id + 1, F_NOTE, &how, &out), CC_ENOTFOUND);
	assert_int_equal(cc_hub_resolve(w.hub, id, F_TITLE, &how, &out), CC_ENOTPARKED);
	assert_int_equal(w.audits, 0);
	w.now = 60000;
	assert_int_equal(cc_hub_resolve(w.hub, id, F_NOTE, &how, &out), CC_EOK);

	/* audited: who, how, the value and its version */
	assert_int_equal(w.audits, 1);
	assert_int_equal(w.last.decision, CC_AUDIT_RESOLVED);
	assert_int_equal(w.last.field, F_NOTE);
	assert_int_equal(w.last.system, SENT);
	assert_true(w.last.ver.t_ms == 60000);
	assert_string_equal(w.last_detail, "ann took sentinel's value");
	assert_string_equal(cc_decision_name(CC_AUDIT_RESOLVED), "resolved");

	/* saved */
	assert_int_equal(w.st.ops->case_load(w.st.self, id, &back), CC_EOK);
	assert_false(back.f[F_NOTE].parked);
	assert_string_equal(back.f[F_NOTE].value, "theirs");
	cc_case_clear(&back);

	/* every linked system has a delivery due now; the others none */
	struct cc_outbox_entry e;
	for (int s = SNOW; s <= SENT; s++) {
		assert_int_equal(w.st.ops->outbox_get(w.st.self, id, s, &e), CC_EOK);
		assert_true(e.due_ms == 60000);
	}
	assert_int_equal(w.st.ops->outbox_get(w.st.self, id, JIRA, &e), CC_ENOTFOUND);
	hub_close(&w);
}

static void test_hub_resolve_refused_changes_nothing(void **state)
{
	(void)state;
	struct hub_world w;
	struct cc_case c, back;
	struct cc_resolve_outcome out;
	hub_open(&w);
	parked_case(&c, F_STATE, "new", "in_progress", "Active");
	uint64_t id = store_case(&w, &c);
	cc_case_clear(&c);
	struct cc_resolution how = { .take = -1, .value = "nowhere" };
	assert_int_equal(cc_hub_resolve(w.hub, id, F_STATE, &how, &out), CC_EUNMAPPED);
	assert_int_equal(out.system, SENT);
	assert_int_equal(w.audits, 0);
	assert_int_equal(w.st.ops->case_load(w.st.self, id, &back), CC_EOK);
	assert_true(back.f[F_STATE].parked);
	cc_case_clear(&back);
	struct cc_outbox_entry e;
	assert_int_equal(w.st.ops->outbox_get(w.st.self, id, SNOW, &e), CC_ENOTFOUND);
	hub_close(&w);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
	const struct CMUnitTest tests[] = {
		T(test_merge_keeps_the_parked_version),
		T(test_take_the_parked_side),
		T(test_take_the_case_side_and_set_a_value),
		T(test_refusals_leave_the_case_alone),
		T(test_version_is_later_than_both_sides),
		T(test_merges_after_a_resolution),
		T(test_hub_resolve_audits_and_queues),
		T(test_hub_resolve_refused_changes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
