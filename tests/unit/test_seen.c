/*
 * The versions a connector already returned (src/connectors/seen.c): a
 * version covers itself and older ones, never newer ones; thousands of
 * ids survive the table's growth; clear forgets everything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "connectors/seen.h"

static void test_covers(void **state)
{
	(void)state;
	struct cc_seen s = { 0 };
	assert_false(cc_seen_covers(&s, "12", 1));
	cc_seen_put(&s, "12", 500);
	assert_true(cc_seen_covers(&s, "12", 500));
	assert_true(cc_seen_covers(&s, "12", 499));
	assert_false(cc_seen_covers(&s, "12", 501));
	assert_false(cc_seen_covers(&s, "13", 1));
	/* newest wins: an older version put later does not go back */
	cc_seen_put(&s, "12", 400);
	assert_true(cc_seen_covers(&s, "12", 500));
	cc_seen_put(&s, "12", 700);
	assert_false(cc_seen_covers(&s, "12", 701));
	assert_true(cc_seen_covers(&s, "12", 700));
	cc_seen_clear(&s);
	assert_false(cc_seen_covers(&s, "12", 1));
	cc_seen_clear(&s);
}

static void test_growth(void **state)
{
	(void)state;
	struct cc_seen s = { 0 };
	char id[24];
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(id, sizeof(id), "%u", i);
		cc_seen_put(&s, id, i + 1);
	}
	assert_int_equal(s.n, 20000);
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(id, sizeof(id), "%u", i);
		assert_true(cc_seen_covers(&s, id, i + 1));
		assert_false(cc_seen_covers(&s, id, i + 2));
	}
	assert_false(cc_seen_covers(&s, "20000", 1));
	cc_seen_clear(&s);
}

/* A version read twice, the second read 2 s after the first ended: settled. */
static void test_settling(void **state)
{
	(void)state;
	struct cc_seen s = { 0 };
	uint64_t rv = 0;
	assert_false(cc_seen_settled(&s, "7", &rv));
	cc_seen_read(&s, "7", 100, 1000, 1100);
	assert_false(cc_seen_settled(&s, "7", &rv));
	assert_int_equal(rv, 100);
	cc_seen_read(&s, "7", 100, 2000, 2050); /* too soon after the first */
	assert_false(cc_seen_settled(&s, "7", &rv));
	cc_seen_read(&s, "7", 100, 1100 + SEEN_SETTLE_MS, 3200);
	assert_true(cc_seen_settled(&s, "7", &rv));
	/* a new version starts over */
	cc_seen_read(&s, "7", 101, 4000, 4100);
	assert_false(cc_seen_settled(&s, "7", &rv));
	assert_int_equal(rv, 101);
	cc_seen_read(&s, "7", 101, 4100 + SEEN_SETTLE_MS - 1, 9000);
	assert_false(cc_seen_settled(&s, "7", &rv));
	cc_seen_read(&s, "7", 101, 9000, 9100);
	assert_true(cc_seen_settled(&s, "7", &rv));
	cc_seen_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_covers),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_settling),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
