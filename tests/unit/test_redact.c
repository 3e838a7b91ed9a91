/*
 * Redaction of credentials from outside text (core/redact.c): exact
 * secrets, credential-bearing names in header, query and JSON form, the
 * word after Bearer/Basic/token, a URL's password, and what is left alone.
 */
#include "core/redact.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

static void expect(const char *in, const char *const *secrets, const char *want)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", in);
	cc_redact(buf, sizeof(buf), secrets);
	if (strcmp(buf, want) != 0)
		fail_msg("redact(%s)\n  got  %s\n  want %s", in, buf, want);
}

static void test_secrets(void **state)
{
	(void)state;
	const char *const secrets[] = { "hunter2-abc", "XYZ", NULL };
	expect("the key is hunter2-abc, twice hunter2-abc", secrets,
	       "the key is [redacted], twice [redacted]");
	/* a secret shorter than CC_REDACT_MIN_SECRET is not searched for */
	expect("XYZ stays", secrets, "XYZ stays");
	expect("nothing here", NULL, "nothing here");
}

static void test_patterns(void **state)
{
	(void)state;
	expect("Authorization: token 1234abcd\r\nHost: x", NULL,
	       "Authorization: [redacted]\r\nHost: x");
	expect("{\"Authorization\": \"Basic dXNlcjpwYXNz\", \"ok\": 1}", NULL,
	       "{\"Authorization\": \"[redacted]\", \"ok\": 1}");
	expect("GET /x?api_key=abc123&page=2", NULL, "GET /x?api_key=[redacted]&page=2");
	expect("X-Redmine-API-Key: 0123456789abcdef", NULL, "X-Redmine-API-Key: [redacted]");
	expect("got Bearer eyJhbGciOiJIUzI1NiJ9.x.y from you", NULL,
	       "got Bearer [redacted] from you");
	/* the word after token only when it looks like a credential */
	expect("the token is invalid", NULL, "the token is invalid");
	expect("admin API enabled (token required)", NULL, "admin API enabled (token required)");
	expect("Basic dXNlcm5hbWU6cGFzc3dvcmQ=", NULL, "Basic [redacted]");
	expect("postgres://u:SECRET@db/x and http://host/path", NULL,
	       "postgres://u:[redacted]@db/x and http://host/path");
	/* names inside longer words are not credential names */
	expect("tokenizer: fine; mytoken=5", NULL, "tokenizer: fine; mytoken=5");
	expect("password=", NULL, "password=");
}

static void test_growth_is_cut(void **state)
{
	(void)state;
	const char *const secrets[] = { "abcd", NULL };
	char buf[12] = "abcd abcd";
	cc_redact(buf, sizeof(buf), secrets);
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_null(strstr(buf, "abcd"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_growth_is_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
