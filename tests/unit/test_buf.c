/*
 * Unit tests of the one growable buffer (src/core/buf.c): bytes and text
 * in one buffer, growth past the first allocation, a formatted text longer
 * than any stack buffer, taking the text out, reset keeping the memory,
 * and additions after an allocation failure being ignored.
 */
#include "core/buf.h"
#include "core/types.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static void test_bytes_and_text(void **state)
{
	(void)state;
	struct cc_buf b = { 0 };
	assert_int_equal(cc_buf_append(&b, "\x00\x01\x02", 3), 0);
	assert_int_equal(b.len, 3);
	assert_int_equal(b.data[1], 1);
	cc_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_non_null(b.data); /* the memory is kept */
	assert_int_equal(cc_buf_add(&b, "a,"), 0);
	assert_int_equal(cc_buf_addf(&b, "%d-%s", 42, "x"), 0);
	assert_string_equal((char *)b.data, "a,42-x");
	assert_int_equal(b.len, 6);
	cc_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
}

static void test_growth_and_long_format(void **state)
{
	(void)state;
	struct cc_buf b = { 0 };
	char big[3000];
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int i = 0; i < 100; i++)
		assert_int_equal(cc_buf_add(&b, "0123456789"), 0);
	assert_int_equal(b.len, 1000);
	assert_int_equal(cc_buf_addf(&b, "[%s]", big), 0);
	assert_int_equal(b.len, 1000 + 2 + sizeof(big) - 1);
	assert_true(b.cap > b.len);
	assert_int_equal(((char *)b.data)[b.len], '\0');
	char *s = cc_buf_take(&b);
	assert_non_null(s);
	assert_int_equal(strlen(s), 1000 + 2 + sizeof(big) - 1);
	assert_null(b.data); /* the buffer gave its memory away */
	free(s);
}

static void test_take_empty(void **state)
{
	(void)state;
	struct cc_buf b = { 0 };
	char *s = cc_buf_take(&b);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
}

static void test_after_a_failure(void **state)
{
	(void)state;
	struct cc_buf b = { 0 };
	assert_int_equal(cc_buf_add(&b, "kept"), 0);
	/* no allocation can hold this: oom set, the contents untouched */
	assert_int_equal(cc_buf_reserve(&b, SIZE_MAX - 8), CC_ENOMEM);
	assert_true(b.oom);
	assert_int_equal(cc_buf_add(&b, "more"), CC_ENOMEM);
	assert_int_equal(b.len, 4);
	assert_null(cc_buf_take(&b)); /* the text is incomplete: none, and released */
	assert_null(b.data);
	cc_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_and_text),
		cmocka_unit_test(test_growth_and_long_format),
		cmocka_unit_test(test_take_empty),
		cmocka_unit_test(test_after_a_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
