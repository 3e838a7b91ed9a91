/*
 * Unit tests of src/core/merge.c: cc_merge under each policy (lww with its
 * tie-breakers, owner+revert, owner+ignore, manual), lossy (covered) and
 * unmapped values; cc_project against shadows, pending values, creates,
 * ignored and unmapped fields; cc_route_allows; cc_comments_to_mirror.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/case.h"
#include "core/config.h"
#include "core/merge.h"

enum { F_TITLE, F_STATE, F_PRIO, F_ASSIGNEE, F_NOTE, NF };
enum { SNOW, SENT, JIRA };

static const char *const s_new[] = { "new", NULL };
static const char *const s_active[] = { "in_progress", "on_hold", NULL };
static const char *const s_closed[] = { "resolved", "closed", "canceled", NULL };
static const struct cc_value_entry sentinel_state[] = {
	CC_VALUE("New", s_new, NULL),
	CC_VALUE("Active", s_active, NULL),
	CC_VALUE("Closed", s_closed, "resolved"),
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
static const struct cc_route_rule jira_routes[] = {
	{ F_PRIO, CC_ROUTE_EQ, "critical" },
	{ F_STATE, CC_ROUTE_NE, "closed" },
};

static struct cc_config cfg;

static const struct cc_field_map IDENT = { .mapped = true, .kind = CC_MAP_IDENTITY };

static int setup(void **state)
{
	(void)state;
	cc_config_defaults(&cfg);
	cfg.nfields = NF;
	cfg.fields[F_TITLE] = (struct cc_field_def){ "title", CC_FT_STRING, CC_POLICY_LWW, 0, 0, true, NULL };
	cfg.fields[F_STATE] = (struct cc_field_def){ "state", CC_FT_ENUM, CC_POLICY_LWW, 0, 0, false, NULL };
	cfg.fields[F_PRIO] = (struct cc_field_def){ "priority", CC_FT_PRIORITY, CC_POLICY_OWNER,
	                                            SNOW, CC_OWNER_REVERT, false, NULL };
	cfg.fields[F_ASSIGNEE] = (struct cc_field_def){ "assignee", CC_FT_USER, CC_POLICY_OWNER,
	                                                SNOW, CC_OWNER_IGNORE, false, NULL };
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
		sd->comments = s != JIRA;
	}
	cfg.systems[SNOW].map[F_STATE] = (struct cc_field_map){
		.mapped = true, .kind = CC_MAP_TABLE, .entries = snow_state, .nentries = 6 };
	cfg.systems[SENT].map[F_STATE] = (struct cc_field_map){
		.mapped = true, .kind = CC_MAP_TABLE, .entries = sentinel_state, .nentries = 3 };
	cfg.systems[JIRA].map[F_PRIO].mapped = false;
	cfg.systems[JIRA].routes = jira_routes;
	cfg.systems[JIRA].nroutes = 2;
	return 0;
}

static void new_case(struct cc_case *c)
{
	assert_int_equal(cc_case_init(c), CC_EOK);
	c->id = 1;
}

static struct cc_version V(int64_t t, int32_t rank, uint64_t rv)
{
	return (struct cc_version){ t, rank, rv };
}

/* Puts a value into the case as if system `sys` had won it with version v. */
static void set_field(struct cc_case *c, int f, const char *value, int sys, struct cc_version v)
{
	assert_int_equal(cc_case_set_value(c, f, value), CC_EOK);
	c->f[f].origin = sys;
	c->f[f].ver = v;
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

static void test_config_is_valid(void **state)
{
	(void)state;
	char err[200] = "";
	assert_int_equal(cc_config_validate(&cfg, err, sizeof(err)), CC_EOK);
	assert_int_equal(cc_config_field(&cfg, "note"), F_NOTE);
	assert_int_equal(cc_config_field(&cfg, "nope"), -1);
}

/* ---- lww ---------------------------------------------------------------- */

static void test_lww_newer_wins(void **state)
{
	(void)state;
	struct cc_case c;
	new_case(&c);
	set_field(&c, F_TITLE, "old", SNOW, V(1000, 1, 4));
	assert_int_equal(merge(&c, SENT, F_TITLE, "new", "old", V(2000, 2, 9)), CC_MERGE_APPLIED);
	assert_string_equal(c.f[F_TITLE].value, "new");
	assert_int_equal(c.f[F_TITLE].origin, SENT);
	assert_int_equal(c.f[F_TITLE].ver.t_ms, 2000);
	assert_int_equal(c.f[F_TITLE].ver.rank, 2);
	assert_int_equal(c.f[F_TITLE].ver.rv, 9);
	/* a first value beats the unset version */
	assert_int_equal(merge(&c, JIRA, F_STATE, "open", NULL, V(-5, 3, 1)), CC_MERGE_APPLIED);
	assert_string_equal(c.f[F_STATE].value, "open");
	cc_case_clear(&c);
}

static void test_lww_older_loses(void **state)
{
	(void)state;
	struct cc_case c;
	new_case(&c);
	set_field(&c, F_TITLE, "winner", SENT, V(2000, 2, 9));
	assert_int_equal(merge(&c, SNOW, F_TITLE, "late", "winner", V(1999, 1, 50)), CC_MERGE_LOST);
	assert_string_equal(c.f[F_TITLE].value, "winner");
	assert_int_equal(c.f[F_TITLE].origin, SENT);
	assert_int_equal(c.f[F_TITLE].ver.t_ms, 2000);
	cc_case_clear(&c);
}

static void test_lww_ties(void **state)
{
	(void)state;
	struct cc_case c;
	new_case(&c);
	set_field(&c, F_TITLE, "from-sentinel", SENT, V(2000, 2, 9));
	/* same time: lower rank loses, higher rank wins */
	assert_int_equal(merge(&c, SNOW, F_TITLE, "from-snow", NULL, V(2000, 1, 99)), CC_MERGE_LOST);
	assert_string_equal(c.f[F_TITLE].value, "from-sentinel");
	assert_int_equal(merge(&c, JIRA, F_TITLE, "from-jira", NULL, V(2000, 3, 1)), CC_MERGE_APPLIED);
	assert_string_equal(c.f[F_TITLE].value, "from-jira");
	/* same time and rank: the higher remote version wins */
	assert_int_equal(merge(&c, JIRA, F_TITLE, "jira-2", NULL, V(2000, 3, 2)), CC_MERGE_APPLIED);
	assert_string_equal(c.f[F_TITLE].value, "jira-2");
	assert_int_equal(merge(&c, JIRA, F_TITLE, "jira-0", NULL, V(2000, 3, 1)), CC_MERGE_LOST);
	/* an equal version is not newer */
	assert_int_equal(merge(&c, JIRA, F_TITLE, "jira-x", NULL, V(2000, 3, 2)), CC_MERGE_LOST);
	assert_string_equal(c.f[F_TITLE].value, "jira-2");
	cc_case_clear(&c);
}

static void test_same_value_is_covered(void **state)
{
	(void)state;
	struct cc_case c;
	new_case(&c);
	set_field(&c, F_TITLE, "same", SENT, V(2000, 2, 9));
	/* an older observation of the value the case already holds changes nothing */
	assert_int_equal(merge(&c, SNOW, F_TITLE, "same", "other", V(100, 1, 1)), CC_MERGE_COVERED);
	assert_int_equal(c.f[F_TITLE].origin, SENT);
	assert_int_equal(c.f[F_TITLE].ver.t_ms, 2000);
	cc_case_clear(&c);
}

/* ---- owner + revert ----------------------------------------------------- */

static int merge_first(struct cc_case *c, int sys, int f, const char *remote,
                       struct cc_version v)
{
	struct cc_change ch = { .system = sys, .field = f, .remote_value = remote,
	                        .old_shadow = NULL, .ver = v, .first_sight = true };
	return cc_merge(&cfg, c, &ch);
}

static void test_owner_revert(void **state)
{
	(void)state;
	struct cc_case c;
	new_case(&c);
	/* a later change outside the owner is refused even while unset */
	assert_int_equal(merge(&c, SENT, F_PRIO, "high", NULL, V(1000, 2, 1)), CC_MERGE_REFUSED);
	assert_string_equal(c.f[F_PRIO].value, "");
	assert_int_equal(c.f[F_PRIO].origin, -1);
	/* until the owner has spoken, records seen for the first time (twins)
	 * settle the value by last writer wins */
	assert_int_equal(merge_first(&c, SENT, F_PRIO, "high", V(1000, 2, 1)), CC_MERGE_APPLIED);
	assert_string_equal(c.f[F_PRIO].value, "high");
	assert_int_equal(c.f[F_PRIO].origin, SENT);
	assert_int_equal(merge_first(&c, JIRA, F_PRIO, "medium", V(900, 3, 1)), CC_MERGE_LOST);
	assert_string_equal(c.f[F_PRIO].value, "high");
	assert_int_equal(merge_first(&c, JIRA, F_PRIO, "medium", V(1100, 3, 1)), CC_MERGE_APPLIED);
	assert_string_equal(c.f[F_PRIO].value, "medium");
	assert_int_equal(merge(&c, SENT, F_PRIO, "high", "medium", V(1200, 2, 2)), CC_MERGE_REFUSED);
	assert_string_equal(c.f[F_PRIO].value, "medium");
	assert_int_equal(merge(&c, JIRA, F_PRIO, "high", "medium", V(1200, 3, 2)), CC_MERGE_REFUSED);
	assert_int_equal(c.f[F_PRIO].origin, JIRA);
	/* now a non-owner is refused, even when newer */
	assert_int_equal(merge(&c, JIRA, F_PRIO, "low", "medium", V(9000, 3, 5)), CC_MERGE_REFUSED);
	assert_string_equal(c.f[F_PRIO].value, "medium");
	assert_int_equal(c.link[JIRA].ignored_mask, 0); /* revert: not ignored */
	/* the owner applies, even when older */
	assert_int_equal(merge(&c, SNOW, F_PRIO, "critical", "medium", V(500, 1, 2)), CC_MERGE_APPLIED);
	assert_string_equal(c.f[F_PRIO].value, "critical");
	assert_int_equal(c.f[F_PRIO].origin, SNOW);
	assert_int_equal(c.f[F_PRIO].ver.t_ms, 500);
	assert_int_equal(merge(&c, SENT, F_PRIO, "low", "critical", V(9999, 2, 7)), CC_MERGE_REFUSED);
	assert_string_equal(c.f[F_PRIO].value, "critical");
	/* once the owner has spoken, a twin seen for the first time is refused */
	assert_int_equal(merge_first(&c, JIRA, F_PRIO, "low", V(9999, 3, 9)), CC_MERGE_REFUSED);
	assert_string_equal(c.f[F_PRIO].value, "critical");
	assert_int_equal(c.f[F_PRIO].origin, SNOW);

	/* the refusing system is projected back to the owner's value */
	link_sys(&c, SENT, "S-1");
	shadow(&c, SENT, F_PRIO, "low");
	const char *values[CC_MAX_FIELDS];
	uint32_t unmapped;
	cc_project(&cfg, &c, SENT, values, &unmapped);
	assert_non_null(values[F_PRIO]);
	assert_string_equal(values[F_PRIO], "critical");
	cc_case_clear(&c);
}

/* ---- owner + ignore ----------------------------------------------------- */

static void test_owner_ignore(void **state)
{
	(void)state;
	struct cc_case c;
	const char *values[CC_MAX_FIELDS];
	uint32_t unmapped;
	new_case(&c);
	link_sys(&c, SNOW, "INC1");
	link_sys(&c, SENT, "S-1");
	link_sys(&c, JIRA, "J-1");
	set_field(&c, F_ASSIGNEE, "alice", SNOW, V(1000, 1, 1));
	shadow(&c, SNOW, F_ASSIGNEE, "alice");
	shadow(&c, SENT, F_ASSIGNEE, "alice");
	shadow(&c, JIRA, F_ASSIGNEE, "alice");

	/* the non-owner changes it: refused, and the divergence is accepted */
	assert_int_equal(merge(&c, SENT, F_ASSIGNEE, "bob", "alice", V(2000, 2, 2)), CC_MERGE_REFUSED);
	shadow(&c, SENT, F_ASSIGNEE, "bob"); /* the hub's diff keeps the shadow */
	assert_string_equal(c.f[F_ASSIGNEE].value, "alice");
	assert_int_equal(c.link[SENT].ignored_mask, 1u << F_ASSIGNEE);
	assert_int_equal(c.link[SENT].ignored_ver[F_ASSIGNEE].t_ms, 1000);
	assert_int_equal(c.link[SENT].ignored_ver[F_ASSIGNEE].rank, 1);
	assert_int_equal(c.link[SENT].ignored_ver[F_ASSIGNEE].rv, 1);
	assert_int_equal(c.link[JIRA].ignored_mask, 0);

	/* not written back while the case version stays */
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 0);
	assert_null(values[F_ASSIGNEE]);

	/* the owner changes the value: the non-owner gets it again */
	assert_int_equal(merge(&c, SNOW, F_ASSIGNEE, "carol", "alice", V(3000, 1, 3)), CC_MERGE_APPLIED);
	shadow(&c, SNOW, F_ASSIGNEE, "carol");
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 1);
	assert_string_equal(values[F_ASSIGNEE], "carol");
	assert_int_equal(cc_project(&cfg, &c, JIRA, values, &unmapped), 1);
	assert_string_equal(values[F_ASSIGNEE], "carol");
	assert_int_equal(cc_project(&cfg, &c, SNOW, values, &unmapped), 0);

	/* the non-owner coming back to the case value clears the ignore */
	assert_int_equal(merge(&c, SENT, F_ASSIGNEE, "carol", "bob", V(4000, 2, 4)), CC_MERGE_COVERED);
	assert_int_equal(c.link[SENT].ignored_mask, 0);
	cc_case_clear(&c);
}

/* ---- manual -------------------------------------------------------------- */

static void test_manual_parks_real_conflict(void **state)
{
	(void)state;
	struct cc_case c;
	const char *values[CC_MAX_FIELDS];
	uint32_t unmapped;
	new_case(&c);
	link_sys(&c, SNOW, "INC1");
	link_sys(&c, SENT, "S-1");
	set_field(&c, F_NOTE, "v1 from snow", SNOW, V(2000, 1, 2));
	shadow(&c, SNOW, F_NOTE, "v1 from snow");
	shadow(&c, SENT, F_NOTE, "v0");

	/* Sentinel edits a value it never got (its old value was v0): conflict */
	assert_int_equal(merge(&c, SENT, F_NOTE, "v1 from sentinel", "v0", V(3000, 2, 5)),
	                 CC_MERGE_PARKED);
	assert_true(c.f[F_NOTE].parked);
	assert_string_equal(c.f[F_NOTE].value, "v1 from snow");
	assert_string_equal(c.f[F_NOTE].parked_value, "v1 from sentinel");
	assert_int_equal(c.f[F_NOTE].parked_system, SENT);
	assert_int_equal(c.f[F_NOTE].origin, SNOW);
	assert_int_equal(c.f[F_NOTE].ver.t_ms, 2000);

	/* a parked field is projected nowhere */
	shadow(&c, SENT, F_NOTE, "v1 from sentinel");
	shadow(&c, SNOW, F_NOTE, "something else");
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 0);
	assert_int_equal(cc_project(&cfg, &c, SNOW, values, &unmapped), 0);

	/* while parked, the parked side follows its own system ... */
	assert_int_equal(merge(&c, SENT, F_NOTE, "v2 from sentinel", "v1 from sentinel",
	                       V(4000, 2, 6)), CC_MERGE_PARKED);
	assert_string_equal(c.f[F_NOTE].parked_value, "v2 from sentinel");
	/* ... and the other system does not replace it */
	assert_int_equal(merge(&c, SNOW, F_NOTE, "v2 from snow", "v1 from snow", V(5000, 1, 3)),
	                 CC_MERGE_PARKED);
	assert_string_equal(c.f[F_NOTE].parked_value, "v2 from sentinel");
	assert_string_equal(c.f[F_NOTE].value, "v1 from snow");
	cc_case_clear(&c);
}

/*
 * Equal values are not enough to be a successor: a record seen for the
 * first time never received the case value, and a change older than the
 * case value (beyond the clock uncertainty) was not made on it even when
 * the system's old value equals it (A -> B -> A elsewhere). Both are real
 * conflicts. While parked, nothing but the parked system moves: a covered
 * change of it replaces its side, and the case side is not re-dated.
 */
static void test_manual_equal_values_are_not_enough(void **state)
{
	(void)state;
	struct cc_case c;
	new_case(&c);
	link_sys(&c, SNOW, "INC1");
	link_sys(&c, SENT, "S-1");
	link_sys(&c, JIRA, "J-1");
	set_field(&c, F_NOTE, "alice", SNOW, V(10000, 1, 2));
	/* a twin raised by another person, first seen now: parked */
	assert_int_equal(merge(&c, JIRA, F_NOTE, "bob", NULL, V(9000, 3, 1)), CC_MERGE_PARKED);
	assert_int_equal(c.f[F_NOTE].parked_system, JIRA);
	assert_string_equal(c.f[F_NOTE].value, "alice");
	cc_case_clear(&c);

	/* Sentinel held "frank" long ago; the case went frank -> bob -> frank
	 * elsewhere since; Sentinel's old edit arrives now */
	new_case(&c);
	set_field(&c, F_NOTE, "frank", SNOW, V(60000, 1, 9));
	assert_int_equal(merge(&c, SENT, F_NOTE, "carol", "frank", V(30000, 2, 4)),
	                 CC_MERGE_PARKED);
	assert_string_equal(c.f[F_NOTE].value, "frank");
	assert_string_equal(c.f[F_NOTE].parked_value, "carol");
	cc_case_clear(&c);
	/* ... the same within the clock uncertainty (2 s): a successor */
	new_case(&c);
	set_field(&c, F_NOTE, "frank", SNOW, V(60000, 1, 9));
	assert_int_equal(merge(&c, SENT, F_NOTE, "carol", "frank", V(58500, 2, 4)),
	                 CC_MERGE_APPLIED);
	assert_string_equal(c.f[F_NOTE].value, "carol");
	cc_case_clear(&c);

	/* parked: the parked system comes to the case value (covered) */
	new_case(&c);
	set_field(&c, F_NOTE, "alice", SNOW, V(10000, 1, 2));
	assert_int_equal(merge(&c, SENT, F_NOTE, "bob", "x", V(11000, 2, 3)), CC_MERGE_PARKED);
	assert_int_equal(merge(&c, SENT, F_NOTE, "alice", "bob", V(12000, 2, 4)), CC_MERGE_PARKED);
	assert_string_equal(c.f[F_NOTE].parked_value, "alice");
	assert_true(c.f[F_NOTE].parked_ver.t_ms == 12000);
	assert_int_equal(c.f[F_NOTE].origin, SNOW); /* the sides stay two systems */
	assert_true(c.f[F_NOTE].ver.t_ms == 10000);
	/* a third system re-asserting the case value moves nothing either */
	assert_int_equal(merge(&c, JIRA, F_NOTE, "alice", "y", V(13000, 3, 5)), CC_MERGE_PARKED);
	assert_int_equal(c.f[F_NOTE].origin, SNOW);
	assert_true(c.f[F_NOTE].ver.t_ms == 10000);
	cc_case_clear(&c);
}

static void test_manual_in_sync_successor_applies(void **state)
{
	(void)state;
	struct cc_case c;
	new_case(&c);
	set_field(&c, F_NOTE, "v1", SNOW, V(2000, 1, 2));
	/* Sentinel held v1 (in sync) and edits it: a successor, even with an
	 * older clock */
	assert_int_equal(merge(&c, SENT, F_NOTE, "v2", "v1", V(1500, 2, 3)), CC_MERGE_APPLIED);
	assert_false(c.f[F_NOTE].parked);
	assert_string_equal(c.f[F_NOTE].value, "v2");
	assert_int_equal(c.f[F_NOTE].origin, SENT);
	/* Jira held v2 and edits it: a successor too */
	assert_int_equal(merge(&c, JIRA, F_NOTE, "v3", "v2", V(2500, 3, 1)), CC_MERGE_APPLIED);
	assert_string_equal(c.f[F_NOTE].value, "v3");
	/* the case's own origin edits again, out of sync but newer: applied */
	assert_int_equal(merge(&c, JIRA, F_NOTE, "v4", "zzz", V(5000, 3, 2)), CC_MERGE_APPLIED);
	assert_string_equal(c.f[F_NOTE].value, "v4");
	/* ... and older: lost, not parked */
	assert_int_equal(merge(&c, JIRA, F_NOTE, "v5", "zzz", V(10, 3, 1)), CC_MERGE_LOST);
	assert_false(c.f[F_NOTE].parked);
	assert_string_equal(c.f[F_NOTE].value, "v4");
	cc_case_clear(&c);
}

/* ---- lossy and unmapped ------------------------------------------------ */

static void test_covered_lossy(void **state)
{
	(void)state;
	struct cc_case c;
	new_case(&c);
	set_field(&c, F_STATE, "closed", SNOW, V(5000, 1, 9));
	/* Sentinel says Closed: stands for the case value, so the value stays;
	 * an older re-assertion changes nothing at all */
	assert_int_equal(merge(&c, SENT, F_STATE, "Closed", "Active", V(4000, 2, 3)), CC_MERGE_COVERED);
	assert_string_equal(c.f[F_STATE].value, "closed");
	assert_int_equal(c.f[F_STATE].origin, SNOW);
	assert_int_equal(c.f[F_STATE].ver.t_ms, 5000);
	/* a newer one dates the value from then: an older change seen later loses */
	assert_int_equal(merge(&c, SENT, F_STATE, "Closed", "Active", V(9000, 2, 3)), CC_MERGE_COVERED);
	assert_string_equal(c.f[F_STATE].value, "closed");
	assert_int_equal(c.f[F_STATE].origin, SENT);
	assert_int_equal(c.f[F_STATE].ver.t_ms, 9000);
	assert_int_equal(merge(&c, SNOW, F_STATE, "In Progress", "Closed", V(8000, 1, 11)), CC_MERGE_LOST);
	assert_string_equal(c.f[F_STATE].value, "closed");

	/* Sentinel Active on an on_hold case: covered */
	set_field(&c, F_STATE, "on_hold", SNOW, V(6000, 1, 10));
	assert_int_equal(merge(&c, SENT, F_STATE, "Active", "New", V(9000, 2, 4)), CC_MERGE_COVERED);
	assert_string_equal(c.f[F_STATE].value, "on_hold");

	/* outside the set: the default, by version */
	assert_int_equal(merge(&c, SENT, F_STATE, "Closed", "Active", V(9500, 2, 5)), CC_MERGE_APPLIED);
	assert_string_equal(c.f[F_STATE].value, "resolved");
	assert_int_equal(c.f[F_STATE].origin, SENT);
	assert_int_equal(merge(&c, SENT, F_STATE, "New", "Closed", V(6500, 2, 6)), CC_MERGE_LOST);
	assert_string_equal(c.f[F_STATE].value, "resolved");

	/* Resolved -> Closed in ServiceNow: Sentinel (shadow Closed) is not written */
	assert_int_equal(merge(&c, SNOW, F_STATE, "Closed", "Resolved", V(9900, 1, 12)), CC_MERGE_APPLIED);
	assert_string_equal(c.f[F_STATE].value, "closed");
	link_sys(&c, SENT, "S-1");
	shadow(&c, SENT, F_STATE, "Closed");
	const char *values[CC_MAX_FIELDS];
	uint32_t unmapped;
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 0);
	assert_null(values[F_STATE]);
	cc_case_clear(&c);
}

static void test_unmapped(void **state)
{
	(void)state;
	struct cc_case c;
	const char *values[CC_MAX_FIELDS];
	uint32_t unmapped = 0xffff;
	new_case(&c);
	link_sys(&c, SENT, "S-1");
	set_field(&c, F_STATE, "in_progress", SNOW, V(5000, 1, 9));
	shadow(&c, SENT, F_STATE, "Bogus");
	assert_int_equal(merge(&c, SENT, F_STATE, "Bogus", "Active", V(9000, 2, 3)), CC_MERGE_UNMAPPED);
	assert_int_equal(c.link[SENT].unmapped_mask, 1u << F_STATE);
	assert_string_equal(c.f[F_STATE].value, "in_progress");
	assert_int_equal(c.f[F_STATE].origin, SNOW);

	/* the field is not written over while it holds an unmapped value */
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 0);
	assert_null(values[F_STATE]);
	assert_int_equal(unmapped, 0);

	/* a mapped value clears the mark */
	assert_int_equal(merge(&c, SENT, F_STATE, "Active", "Bogus", V(9100, 2, 4)), CC_MERGE_COVERED);
	assert_int_equal(c.link[SENT].unmapped_mask, 0);

	/* a case value no mapping of the target covers is reported, not written */
	set_field(&c, F_STATE, "weird", SNOW, V(9500, 1, 12));
	shadow(&c, SENT, F_STATE, "Active");
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 0);
	assert_null(values[F_STATE]);
	assert_int_equal(unmapped, 1u << F_STATE);
	cc_case_clear(&c);
}

/* ---- projection --------------------------------------------------------- */

static void test_project_against_shadows_and_pending(void **state)
{
	(void)state;
	struct cc_case c;
	const char *values[CC_MAX_FIELDS];
	uint32_t unmapped = 0xffff;
	new_case(&c);
	set_field(&c, F_TITLE, "VPN down", SNOW, V(1000, 1, 1));
	set_field(&c, F_STATE, "on_hold", SNOW, V(1000, 1, 1));
	set_field(&c, F_PRIO, "high", SNOW, V(1000, 1, 1));

	/* not linked: nothing */
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 0);
	assert_int_equal(unmapped, 0);

	/* linked with unknown shadows: every set field */
	link_sys(&c, SENT, "S-1");
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 3);
	assert_string_equal(values[F_TITLE], "VPN down");
	assert_string_equal(values[F_STATE], "Active");
	assert_string_equal(values[F_PRIO], "high");
	assert_null(values[F_ASSIGNEE]); /* "" against unknown: nothing */
	assert_null(values[F_NOTE]);

	/* shadows equal: nothing */
	shadow(&c, SENT, F_TITLE, "VPN down");
	shadow(&c, SENT, F_STATE, "Active");
	shadow(&c, SENT, F_PRIO, "low");
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 1);
	assert_null(values[F_TITLE]);
	assert_null(values[F_STATE]);
	assert_string_equal(values[F_PRIO], "high");

	/* a pending write takes the place of the shadow */
	c.link[SENT].pending_mask = 1u << F_PRIO;
	assert_int_equal(cc_str_set(&c.link[SENT].pending[F_PRIO], "high"), CC_EOK);
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 0);
	c.link[SENT].pending_mask |= 1u << F_TITLE;
	assert_int_equal(cc_str_set(&c.link[SENT].pending[F_TITLE], "VPN dow"), CC_EOK);
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 1);
	assert_string_equal(values[F_TITLE], "VPN down");

	/* a field the system does not carry is never projected */
	link_sys(&c, JIRA, "J-1");
	assert_int_equal(cc_project(&cfg, &c, JIRA, values, &unmapped), 2);
	assert_null(values[F_PRIO]);
	assert_string_equal(values[F_STATE], "on_hold"); /* identity map */

	/* a case value cleared is written as "" */
	set_field(&c, F_TITLE, "", SNOW, V(2000, 1, 2));
	c.link[SENT].pending_mask = 0;
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 2);
	assert_string_equal(values[F_TITLE], "");
	cc_case_clear(&c);
}

static void test_project_create(void **state)
{
	(void)state;
	struct cc_case c;
	const char *values[CC_MAX_FIELDS];
	uint32_t unmapped;
	new_case(&c);
	set_field(&c, F_TITLE, "Disk full", SNOW, V(1000, 1, 1));
	set_field(&c, F_STATE, "resolved", SNOW, V(1000, 1, 1));
	set_field(&c, F_ASSIGNEE, "alice", SNOW, V(1000, 1, 1));
	c.link[SENT].status = CC_LINK_CREATE;
	/* stale shadows, pending and marks are ignored for a create */
	shadow(&c, SENT, F_TITLE, "Disk full");
	c.link[SENT].unmapped_mask = 1u << F_STATE;
	c.link[SENT].ignored_mask = 1u << F_ASSIGNEE;
	c.link[SENT].ignored_ver[F_ASSIGNEE] = c.f[F_ASSIGNEE].ver;
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 3);
	assert_string_equal(values[F_TITLE], "Disk full");
	assert_string_equal(values[F_STATE], "Closed");
	assert_string_equal(values[F_ASSIGNEE], "alice");
	assert_null(values[F_PRIO]);
	/* parked link: nothing */
	c.link[SENT].status = CC_LINK_PARKED;
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 0);
	assert_null(values[F_TITLE]);
	cc_case_clear(&c);
}

/* ---- companions --------------------------------------------------------- */

/* F_NOTE stands for a resolution here: Sentinel's classification. */
static const char *const r_tp[] = { "true_positive", NULL };
static const char *const r_und[] = { "undetermined", NULL };
static const struct cc_value_entry sent_resolution[] = {
	CC_VALUE("TruePositive", r_tp, NULL),
	CC_VALUE("Undetermined", r_und, NULL),
};
static const struct cc_companion sent_closed_companions[] = { { F_NOTE, "Undetermined" } };
static struct cc_value_entry sent_state_c[3];

static void companion_config(void)
{
	memcpy(sent_state_c, sentinel_state, sizeof(sent_state_c));
	sent_state_c[2].companions = sent_closed_companions;
	sent_state_c[2].ncompanions = 1;
	cfg.systems[SENT].map[F_STATE].entries = sent_state_c;
	cfg.systems[SENT].map[F_NOTE] = (struct cc_field_map){
		.mapped = true, .kind = CC_MAP_TABLE, .entries = sent_resolution, .nentries = 2 };
}

static void test_companions(void **state)
{
	(void)state;
	struct cc_case c;
	const char *values[CC_MAX_FIELDS];
	uint32_t unmapped;
	companion_config();
	new_case(&c);
	set_field(&c, F_STATE, "resolved", SNOW, V(1000, 1, 1));
	link_sys(&c, SENT, "S-1");
	shadow(&c, SENT, F_STATE, "Active");
	shadow(&c, SENT, F_NOTE, "");

	/* closing carries the companion: its default while the case has none */
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 2);
	assert_string_equal(values[F_STATE], "Closed");
	assert_string_equal(values[F_NOTE], "Undetermined");

	/* ... the case's value mapped, when it has one */
	set_field(&c, F_NOTE, "true_positive", SNOW, V(1000, 1, 1));
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 2);
	assert_string_equal(values[F_NOTE], "TruePositive");

	/* ... its default again when this system cannot take the case's value */
	set_field(&c, F_NOTE, "no_such", SNOW, V(1000, 1, 1));
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 2);
	assert_string_equal(values[F_NOTE], "Undetermined");
	assert_int_equal(unmapped & (1u << F_NOTE), 0);

	/* held already: the state write does not repeat it */
	set_field(&c, F_NOTE, "", SNOW, V(1000, 1, 1));
	shadow(&c, SENT, F_NOTE, "TruePositive");
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 1);
	assert_string_equal(values[F_STATE], "Closed");
	assert_null(values[F_NOTE]);

	/* while Closed is held, the companion is never cleared, nor written again */
	shadow(&c, SENT, F_STATE, "Closed");
	shadow(&c, SENT, F_NOTE, "Undetermined");
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 0);
	assert_null(values[F_NOTE]);
	/* ... but it follows a value the case does have */
	set_field(&c, F_NOTE, "true_positive", SNOW, V(2000, 1, 2));
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 1);
	assert_string_equal(values[F_NOTE], "TruePositive");

	/* a state without companions: a cleared field is cleared */
	set_field(&c, F_STATE, "in_progress", SNOW, V(3000, 1, 3));
	set_field(&c, F_NOTE, "", SNOW, V(3000, 1, 3));
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 2);
	assert_string_equal(values[F_STATE], "Active");
	assert_string_equal(values[F_NOTE], "");

	/* a create of a closed case carries it too */
	set_field(&c, F_STATE, "closed", SNOW, V(4000, 1, 4));
	c.link[SENT].status = CC_LINK_CREATE;
	assert_int_equal(cc_project(&cfg, &c, SENT, values, &unmapped), 2);
	assert_string_equal(values[F_STATE], "Closed");
	assert_string_equal(values[F_NOTE], "Undetermined");
	cc_case_clear(&c);
}

/* ---- routing and comments ---------------------------------------------- */

static void test_route_allows(void **state)
{
	(void)state;
	struct cc_case c;
	new_case(&c);
	/* no rules: always */
	assert_true(cc_route_allows(&cfg, &c, SNOW));
	/* jira: priority == critical and state != closed; unset compares as "" */
	assert_false(cc_route_allows(&cfg, &c, JIRA));
	set_field(&c, F_PRIO, "critical", SNOW, V(1, 1, 1));
	assert_true(cc_route_allows(&cfg, &c, JIRA));
	set_field(&c, F_STATE, "closed", SNOW, V(1, 1, 1));
	assert_false(cc_route_allows(&cfg, &c, JIRA));
	set_field(&c, F_STATE, "resolved", SNOW, V(1, 1, 1));
	assert_true(cc_route_allows(&cfg, &c, JIRA));
	set_field(&c, F_PRIO, "Critical", SNOW, V(1, 1, 1));
	assert_false(cc_route_allows(&cfg, &c, JIRA));
	cc_case_clear(&c);
}

static void test_comments_to_mirror(void **state)
{
	(void)state;
	struct cc_case c;
	new_case(&c);
	assert_int_equal(cc_case_add_comment(&c, SNOW, "k1", "first", "alice", NULL), CC_EOK);
	assert_int_equal(cc_case_add_comment(&c, SNOW, "k2", "second", "bob", NULL), CC_EOK);
	size_t idx = 99;
	assert_int_equal(cc_case_add_comment(&c, SENT, "s1", "third", "eve", &idx), CC_EOK);
	assert_int_equal(idx, 2);
	/* not linked yet */
	assert_int_equal(cc_comments_to_mirror(&cfg, &c, SENT), 0);
	link_sys(&c, SNOW, "INC1");
	link_sys(&c, SENT, "S-1");
	link_sys(&c, JIRA, "J-1");
	/* each system gets what it did not originate */
	assert_int_equal(cc_comments_to_mirror(&cfg, &c, SENT), 2);
	assert_int_equal(cc_comments_to_mirror(&cfg, &c, SNOW), 1);
	/* comments are off for jira */
	assert_int_equal(cc_comments_to_mirror(&cfg, &c, JIRA), 0);
	/* once mirrored, no longer counted */
	assert_int_equal(cc_str_set(&c.comments[0].mirror_id[SENT], "s9"), CC_EOK);
	assert_int_equal(cc_comments_to_mirror(&cfg, &c, SENT), 1);
	assert_int_equal(cc_case_find_mirror(&c, SENT, "s9"), 0);
	assert_int_equal(cc_case_find_mirror(&c, SENT, "s1"), 2);
	assert_int_equal(cc_case_find_mirror(&c, SNOW, "s9"), -1);
	assert_int_equal(cc_case_find_comment(&c, SNOW, "k2"), 1);
	assert_int_equal(cc_case_find_comment(&c, SENT, "k2"), -1);
	/* a case with comments still waiting keeps needing delivery, a copy too */
	struct cc_case d;
	assert_int_equal(cc_case_copy(&d, &c), CC_EOK);
	assert_int_equal(cc_comments_to_mirror(&cfg, &d, SENT), 1);
	assert_string_equal(d.comments[0].mirror_id[SENT], "s9");
	cc_case_clear(&d);
	cc_case_clear(&c);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config_is_valid),
		T(test_lww_newer_wins),
		T(test_lww_older_loses),
		T(test_lww_ties),
		T(test_same_value_is_covered),
		T(test_owner_revert),
		T(test_owner_ignore),
		T(test_manual_parks_real_conflict),
		T(test_manual_in_sync_successor_applies),
		T(test_manual_equal_values_are_not_enough),
		T(test_covered_lossy),
		T(test_unmapped),
		T(test_project_against_shadows_and_pending),
		T(test_project_create),
		T(test_companions),
		T(test_route_allows),
		T(test_comments_to_mirror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
