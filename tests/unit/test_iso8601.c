/*
 * The one ISO 8601 parser (core/iso8601.c): the forms remote systems send,
 * zones, fractions, and the malformed times that must be refused rather
 * than read as the epoch.
 */
#include "core/iso8601.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static int64_t parse(const char *s)
{
	int64_t t = -1;
	if (!cc_iso8601_parse(s, &t))
		fail_msg("refused %s", s);
	return t;
}

static void test_forms(void **state)
{
	(void)state;
	assert_int_equal(parse("2026-11-27T21:22:02Z"), 1795814522);
	assert_int_equal(parse("2026-11-27 21:22:02"), 1795814522);
	assert_int_equal(parse("2026-11-27T22:22:02+01:00"), 1795814522);
	assert_int_equal(parse("2026-11-27T16:22:02-0500"), 1795814522);
	assert_int_equal(parse("2026-11-27T21:22:02.1234567Z"), 1795814522);
	assert_int_equal(parse("2026-11-27T21:22Z"), 1795814520);
	assert_int_equal(parse("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(parse("2024-02-29T00:00:00Z"), 1709164800);
	int64_t t;
	int32_t ns;
	assert_true(cc_iso8601_parse_ns("2026-11-27T21:22:02.1234567Z", &t, &ns));
	assert_int_equal(ns, 123456700);
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "yesterday", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
		"2023-02-29T00:00:00Z", "2026-11-27T24:00:00Z", "2026-11-27T21:60:00Z",
		"2026-11-27T21:22:02Zjunk", "2026-11-27", "2026-11-27T21", "26-11-27T21:22:02Z",
		"2026-11-27T21:22:02.Z", "2026-11-27T21:22:02+25:00", "2026-1-27T21:22:02Z", NULL,
	};
	for (int i = 0; bad[i]; i++) {
		int64_t t = 42;
		if (cc_iso8601_parse(bad[i], &t))
			fail_msg("accepted %s", bad[i]);
		assert_int_equal(t, 42);
	}
	int64_t t;
	assert_false(cc_iso8601_parse(NULL, &t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
