/*
 * Unit tests of src/core/mapping.c: value translation between a system's
 * terms and canonical terms (cc_map_inbound, cc_map_outbound,
 * cc_map_covers) for identity and table maps, the lossy-set rules of
 * DESIGN section 6, unmapped values, the empty string, cc_value_normalize,
 * and round-trip / idempotence properties.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/mapping.h"

/* ---- maps used by the tests ------------------------------------------ */

static const struct cc_field_map identity = {
	.mapped = true, .remote_name = "short_description", .kind = CC_MAP_IDENTITY,
};

/* Sentinel-like coarse status. */
static const char *const s_new[] = { "new", NULL };
static const char *const s_active[] = { "in_progress", "on_hold", NULL };
static const char *const s_closed[] = { "resolved", "closed", "canceled", NULL };
static const struct cc_value_entry sentinel_entries[] = {
	CC_VALUE("New", s_new, NULL),
	CC_VALUE("Active", s_active, NULL),               /* default: canonical[0] */
	CC_VALUE("Closed", s_closed, "resolved"),
};
static const struct cc_field_map sentinel = {
	.mapped = true, .remote_name = "status", .kind = CC_MAP_TABLE,
	.entries = sentinel_entries, .nentries = 3,
};

/* ServiceNow-like fine status: one remote value per canonical value. */
static const char *const n_new[] = { "new", NULL };
static const char *const n_ip[] = { "in_progress", NULL };
static const char *const n_oh[] = { "on_hold", NULL };
static const char *const n_res[] = { "resolved", NULL };
static const char *const n_clo[] = { "closed", NULL };
static const char *const n_can[] = { "canceled", NULL };
static const struct cc_value_entry snow_entries[] = {
	CC_VALUE("1", n_new, NULL), CC_VALUE("2", n_ip, NULL), CC_VALUE("3", n_oh, NULL),
	CC_VALUE("6", n_res, NULL), CC_VALUE("7", n_clo, NULL), CC_VALUE("8", n_can, NULL),
};
static const struct cc_field_map snow = {
	.mapped = true, .remote_name = "state", .kind = CC_MAP_TABLE,
	.entries = snow_entries, .nentries = 6,
};

/* Jira-like: default in the middle of a set. */
static const char *const j_todo[] = { "new", NULL };
static const char *const j_prog[] = { "in_progress", "on_hold", NULL };
static const char *const j_done[] = { "canceled", "resolved", "closed", NULL };
static const struct cc_value_entry jira_entries[] = {
	CC_VALUE("To Do", j_todo, NULL),
	CC_VALUE("In Progress", j_prog, "on_hold"),
	CC_VALUE("Done", j_done, "closed"),
};
static const struct cc_field_map jira = {
	.mapped = true, .remote_name = "status", .kind = CC_MAP_TABLE,
	.entries = jira_entries, .nentries = 3,
};

/* ---- identity map ----------------------------------------------------- */

static void test_identity_inbound(void **state)
{
	(void)state;
	const char *out = NULL;
	assert_int_equal(cc_map_inbound(&identity, "Printer down", "Printer", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "Printer down");
	out = NULL;
	assert_int_equal(cc_map_inbound(&identity, "Printer", "Printer", &out), CC_MAP_SAME);
	/* case matters for identity */
	assert_int_equal(cc_map_inbound(&identity, "printer", "Printer", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "printer");
}

static void test_identity_outbound(void **state)
{
	(void)state;
	const char *out = NULL;
	assert_int_equal(cc_map_outbound(&identity, "VPN down", "VPN", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "VPN down");
	assert_int_equal(cc_map_outbound(&identity, "VPN", "VPN", &out), CC_MAP_SAME);
	/* unknown shadow is "" : a non-empty value is written */
	assert_int_equal(cc_map_outbound(&identity, "VPN", "", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "VPN");
}

static void test_identity_covers(void **state)
{
	(void)state;
	assert_true(cc_map_covers(&identity, "abc", "abc"));
	assert_false(cc_map_covers(&identity, "abc", "ABC"));
	assert_false(cc_map_covers(&identity, "abc", ""));
}

/* ---- table maps ------------------------------------------------------- */

static void test_table_one_to_one(void **state)
{
	(void)state;
	const char *out = NULL;
	assert_int_equal(cc_map_inbound(&snow, "6", "new", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "resolved");
	assert_int_equal(cc_map_inbound(&snow, "6", "resolved", &out), CC_MAP_SAME);
	out = NULL;
	assert_int_equal(cc_map_outbound(&snow, "closed", "6", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "7");
	assert_int_equal(cc_map_outbound(&snow, "closed", "7", &out), CC_MAP_SAME);
	assert_true(cc_map_covers(&snow, "3", "on_hold"));
	assert_false(cc_map_covers(&snow, "3", "in_progress"));
}

static void test_lossy_outbound_writes_nothing_when_covered(void **state)
{
	(void)state;
	const char *out = "untouched";
	/* ServiceNow went Resolved -> Closed: Sentinel already says Closed. */
	assert_int_equal(cc_map_outbound(&sentinel, "closed", "Closed", &out), CC_MAP_SAME);
	assert_int_equal(cc_map_outbound(&sentinel, "canceled", "Closed", &out), CC_MAP_SAME);
	assert_int_equal(cc_map_outbound(&sentinel, "resolved", "Closed", &out), CC_MAP_SAME);
	assert_int_equal(cc_map_outbound(&sentinel, "on_hold", "Active", &out), CC_MAP_SAME);
	assert_int_equal(cc_map_outbound(&sentinel, "in_progress", "Active", &out), CC_MAP_SAME);
	assert_string_equal(out, "untouched");
}

static void test_lossy_outbound_translates_outside_set(void **state)
{
	(void)state;
	const char *out = NULL;
	assert_int_equal(cc_map_outbound(&sentinel, "closed", "Active", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "Closed");
	assert_int_equal(cc_map_outbound(&sentinel, "on_hold", "Closed", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "Active");
	assert_int_equal(cc_map_outbound(&sentinel, "new", "Active", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "New");
	/* unknown shadow: translate */
	assert_int_equal(cc_map_outbound(&sentinel, "canceled", "", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "Closed");
	/* a shadow no entry covers: still translate the case value */
	assert_int_equal(cc_map_outbound(&sentinel, "on_hold", "Bogus", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "Active");
}

static void test_lossy_inbound(void **state)
{
	(void)state;
	const char *out = "untouched";
	/* Sentinel Closed never pulls a closed case back to resolved. */
	assert_int_equal(cc_map_inbound(&sentinel, "Closed", "closed", &out), CC_MAP_SAME);
	assert_int_equal(cc_map_inbound(&sentinel, "Closed", "canceled", &out), CC_MAP_SAME);
	assert_int_equal(cc_map_inbound(&sentinel, "Active", "on_hold", &out), CC_MAP_SAME);
	assert_string_equal(out, "untouched");
	/* outside the set: the set's default */
	assert_int_equal(cc_map_inbound(&sentinel, "Closed", "in_progress", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "resolved");
	assert_int_equal(cc_map_inbound(&sentinel, "Closed", "", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "resolved");
	/* dflt NULL: canonical[0] */
	assert_int_equal(cc_map_inbound(&sentinel, "Active", "new", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "in_progress");
	/* explicit default that is not canonical[0] */
	assert_int_equal(cc_map_inbound(&jira, "Done", "on_hold", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "closed");
	assert_int_equal(cc_map_inbound(&jira, "In Progress", "resolved", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "on_hold");
}

static void test_lossy_covers(void **state)
{
	(void)state;
	assert_true(cc_map_covers(&sentinel, "Closed", "resolved"));
	assert_true(cc_map_covers(&sentinel, "Closed", "closed"));
	assert_true(cc_map_covers(&sentinel, "Closed", "canceled"));
	assert_false(cc_map_covers(&sentinel, "Closed", "on_hold"));
	assert_true(cc_map_covers(&sentinel, "Active", "on_hold"));
	assert_false(cc_map_covers(&sentinel, "Active", "new"));
	assert_false(cc_map_covers(&sentinel, "Bogus", "new"));
	assert_false(cc_map_covers(&sentinel, "closed", "closed")); /* remote terms only */
}

static void test_unmapped_values(void **state)
{
	(void)state;
	const char *out = "untouched";
	assert_int_equal(cc_map_inbound(&sentinel, "Bogus", "new", &out), CC_MAP_UNMAPPED);
	assert_int_equal(cc_map_inbound(&sentinel, "closed", "new", &out), CC_MAP_UNMAPPED);
	assert_int_equal(cc_map_outbound(&sentinel, "weird", "Active", &out), CC_MAP_UNMAPPED);
	assert_int_equal(cc_map_outbound(&sentinel, "weird", "", &out), CC_MAP_UNMAPPED);
	assert_int_equal(cc_map_outbound(&snow, "Closed", "1", &out), CC_MAP_UNMAPPED);
	assert_string_equal(out, "untouched"); /* never a silent default */
}

static void test_empty_string(void **state)
{
	(void)state;
	const char *out = NULL;
	/* "" means not set, and maps to itself in every map */
	assert_int_equal(cc_map_inbound(&sentinel, "", "", &out), CC_MAP_SAME);
	assert_int_equal(cc_map_inbound(&sentinel, "", "closed", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "");
	out = NULL;
	assert_int_equal(cc_map_outbound(&sentinel, "", "", &out), CC_MAP_SAME);
	assert_int_equal(cc_map_outbound(&sentinel, "", "Closed", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "");
	assert_true(cc_map_covers(&sentinel, "", ""));
	assert_false(cc_map_covers(&sentinel, "", "closed"));
	assert_false(cc_map_covers(&sentinel, "Closed", ""));
	assert_int_equal(cc_map_inbound(&identity, "", "x", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "");
}

/* ---- normalization ---------------------------------------------------- */

static void check_norm(enum cc_field_type t, const char *in, const char *want)
{
	char *n = cc_value_normalize(t, in);
	assert_non_null(n);
	assert_string_equal(n, want);
	free(n);
}

static void test_normalize(void **state)
{
	(void)state;
	check_norm(CC_FT_TEXT, "a\r\nb\r\n", "a\nb");
	check_norm(CC_FT_TEXT, "a\rb", "a\nb");
	check_norm(CC_FT_TEXT, "a\r\r\nb", "a\n\nb");
	check_norm(CC_FT_TEXT, "line one   \r\nline two\t \r\n\r\n", "line one\nline two");
	check_norm(CC_FT_TEXT, "  indented\n  kept", "  indented\n  kept");
	check_norm(CC_FT_STRING, "  Printer down  ", "Printer down");
	check_norm(CC_FT_STRING, "\t x", "x");
	check_norm(CC_FT_USER, " alice ", "alice");
	check_norm(CC_FT_ENUM, " Closed\r\n", "Closed");
	check_norm(CC_FT_PRIORITY, "1 - High ", "1 - High");
	check_norm(CC_FT_STRING, "", "");
	check_norm(CC_FT_STRING, "   \t  ", "");
	check_norm(CC_FT_TEXT, " \r\n \r\n", "");
	check_norm(CC_FT_STRING, "a  b", "a  b"); /* inner spaces kept */
}

/* ---- properties ------------------------------------------------------- */

static uint64_t prng_state = 0x9e3779b97f4a7c15ull;

static uint64_t prng(void)
{
	/* xorshift64*, fixed seed: reproducible */
	prng_state ^= prng_state >> 12;
	prng_state ^= prng_state << 25;
	prng_state ^= prng_state >> 27;
	return prng_state * 2685821657736338717ull;
}

static void test_property_round_trip(void **state)
{
	(void)state;
	const struct cc_field_map *maps[] = { &sentinel, &snow, &jira };
	size_t checked = 0;
	for (size_t m = 0; m < 3; m++) {
		const struct cc_field_map *map = maps[m];
		for (size_t i = 0; i < map->nentries; i++) {
			const char *r = map->entries[i].remote;
			/* inject into an empty case, project back against an unknown shadow */
			const char *canon = NULL;
			assert_int_equal(cc_map_inbound(map, r, "", &canon), CC_MAP_CHANGE);
			assert_non_null(canon);
			assert_true(cc_map_covers(map, r, canon));
			const char *back = NULL;
			assert_int_equal(cc_map_outbound(map, canon, "", &back), CC_MAP_CHANGE);
			assert_string_equal(back, r);
			/* against its own shadow: nothing to write */
			assert_int_equal(cc_map_outbound(map, canon, r, &back), CC_MAP_SAME);
			/* every member of the set projects to r, and r injected while the
			 * case holds that member changes nothing */
			for (const char *const *c = map->entries[i].canonical; *c; c++) {
				assert_int_equal(cc_map_outbound(map, *c, "", &back), CC_MAP_CHANGE);
				assert_string_equal(back, r);
				assert_int_equal(cc_map_inbound(map, r, *c, &canon), CC_MAP_SAME);
				checked++;
			}
		}
	}
	assert_int_equal(checked, 6 + 6 + 6);

	/* identity map: random normalized strings */
	static const char alphabet[] = "ab Z9 \t-";
	for (int k = 0; k < 500; k++) {
		char raw[24];
		size_t len = prng() % (sizeof(raw) - 1);
		for (size_t j = 0; j < len; j++)
			raw[j] = alphabet[prng() % (sizeof(alphabet) - 1)];
		raw[len] = '\0';
		char *r = cc_value_normalize(CC_FT_STRING, raw);
		assert_non_null(r);
		const char *canon = NULL, *back = NULL;
		enum cc_map_outcome o = cc_map_inbound(&identity, r, "", &canon);
		assert_int_equal(o, r[0] ? CC_MAP_CHANGE : CC_MAP_SAME);
		if (o == CC_MAP_CHANGE) {
			assert_int_equal(cc_map_outbound(&identity, canon, "", &back), CC_MAP_CHANGE);
			assert_string_equal(back, r);
		}
		free(r);
	}
}

static void test_property_normalize_idempotent(void **state)
{
	(void)state;
	static const char alphabet[] = "ab \t\r\n\v\fxy";
	const enum cc_field_type types[] = { CC_FT_STRING, CC_FT_TEXT, CC_FT_ENUM,
	                                     CC_FT_USER, CC_FT_PRIORITY, CC_FT_TIMESTAMP };
	for (int k = 0; k < 3000; k++) {
		char raw[32];
		size_t len = prng() % (sizeof(raw) - 1);
		for (size_t j = 0; j < len; j++)
			raw[j] = alphabet[prng() % (sizeof(alphabet) - 1)];
		raw[len] = '\0';
		enum cc_field_type t = types[k % 6];
		char *once = cc_value_normalize(t, raw);
		assert_non_null(once);
		char *twice = cc_value_normalize(t, once);
		assert_non_null(twice);
		assert_string_equal(once, twice);
		/* the normal form has no CR and no trailing white space */
		assert_null(strchr(once, '\r'));
		size_t n = strlen(once);
		if (n) {
			char last = once[n - 1];
			assert_true(last != ' ' && last != '\t' && last != '\n' && last != '\v' &&
			            last != '\f');
		}
		if (t != CC_FT_TEXT && n)
			assert_true(once[0] != ' ' && once[0] != '\t');
		free(once);
		free(twice);
	}
}

/* RT priority numbers by ranges: a number inside its level's range is left
 * alone; any other number is written as the level's default. */
static const struct cc_value_range rt_priority[] = {
	{ 0, 19, "low", "10" },     { 20, 39, "normal", "30" }, { 40, 59, "high", "50" },
	{ 60, 79, "urgent", "70" }, { 80, 100, "immediate", "90" },
};

static void test_range_map(void **state)
{
	(void)state;
	struct cc_field_map m = { .mapped = true, .kind = CC_MAP_RANGE, .ranges = rt_priority,
		                  .nranges = 5 };
	const char *out = NULL;
	/* inbound: a number becomes its level */
	assert_int_equal(cc_map_inbound(&m, "37", "low", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "normal");
	assert_int_equal(cc_map_inbound(&m, "37", "normal", &out), CC_MAP_SAME);
	assert_int_equal(cc_map_inbound(&m, "101", "normal", &out), CC_MAP_UNMAPPED);
	assert_int_equal(cc_map_inbound(&m, "high", "normal", &out), CC_MAP_UNMAPPED);
	assert_int_equal(cc_map_inbound(&m, "", "", &out), CC_MAP_SAME);
	/* outbound: 37 already stands for normal, nothing is written */
	assert_int_equal(cc_map_outbound(&m, "normal", "37", &out), CC_MAP_SAME);
	assert_int_equal(cc_map_outbound(&m, "high", "37", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "50");
	assert_int_equal(cc_map_outbound(&m, "urgent", "", &out), CC_MAP_CHANGE);
	assert_string_equal(out, "70");
	assert_int_equal(cc_map_outbound(&m, "unknown", "37", &out), CC_MAP_UNMAPPED);
	assert_true(cc_map_covers(&m, "85", "immediate"));
	assert_false(cc_map_covers(&m, "85", "urgent"));
	/* round trip: project(inject(r)) leaves every remote number alone */
	for (long v = 0; v <= 100; v++) {
		char r[8];
		snprintf(r, sizeof(r), "%ld", v);
		const char *canon = NULL, *back = NULL;
		assert_int_equal(cc_map_inbound(&m, r, "", &canon), CC_MAP_CHANGE);
		assert_int_equal(cc_map_outbound(&m, canon, r, &back), CC_MAP_SAME);
	}
}

static void test_range_validation(void **state)
{
	(void)state;
	static const struct cc_value_range overlap[] = {
		{ 0, 20, "low", "10" }, { 20, 39, "normal", "30" },
	};
	static const struct cc_value_range outside[] = { { 0, 19, "low", "25" } };
	struct cc_config cfg;
	char err[256];
	cc_config_defaults(&cfg);
	cfg.nfields = 1;
	cfg.fields[0] = (struct cc_field_def){ .name = "priority", .type = CC_FT_PRIORITY };
	cfg.nsystems = 2;
	for (int s = 0; s < 2; s++) {
		cfg.systems[s].name = s ? "redmine" : "rt";
		cfg.systems[s].rank = s + 1;
		cfg.systems[s].map[0] = (struct cc_field_map){ .mapped = true };
	}
	cfg.systems[0].map[0] = (struct cc_field_map){ .mapped = true, .kind = CC_MAP_RANGE,
		                                       .ranges = rt_priority, .nranges = 5 };
	assert_int_equal(cc_config_validate(&cfg, err, sizeof(err)), CC_EOK);
	cfg.systems[0].map[0].ranges = overlap;
	cfg.systems[0].map[0].nranges = 2;
	assert_int_equal(cc_config_validate(&cfg, err, sizeof(err)), CC_EINVAL);
	assert_non_null(strstr(err, "overlap"));
	cfg.systems[0].map[0].ranges = outside;
	cfg.systems[0].map[0].nranges = 1;
	assert_int_equal(cc_config_validate(&cfg, err, sizeof(err)), CC_EINVAL);
	assert_non_null(strstr(err, "default inside"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_inbound),
		cmocka_unit_test(test_identity_outbound),
		cmocka_unit_test(test_identity_covers),
		cmocka_unit_test(test_table_one_to_one),
		cmocka_unit_test(test_lossy_outbound_writes_nothing_when_covered),
		cmocka_unit_test(test_lossy_outbound_translates_outside_set),
		cmocka_unit_test(test_lossy_inbound),
		cmocka_unit_test(test_lossy_covers),
		cmocka_unit_test(test_unmapped_values),
		cmocka_unit_test(test_empty_string),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_property_round_trip),
		cmocka_unit_test(test_property_normalize_idempotent),
		cmocka_unit_test(test_range_map),
		cmocka_unit_test(test_range_validation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
