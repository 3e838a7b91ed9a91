/*
 * Webhook authentication (src/daemon/webhook_auth.c): signatures of the
 * raw body against a known HMAC-SHA256 vector (RFC 4231, test case 2),
 * every way a signature header can be wrong, the body fed in pieces, and
 * bearer tokens.
 */
#include "daemon/webhook_auth.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* RFC 4231 test case 2: key "Jefe". */
#define SECRET "Jefe"
#define BODY "what do ya want for nothing?"
#define MAC_HEX "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
#define GOOD "sha256=" MAC_HEX

static enum cc_webhook_verdict sig(const char *secret, const char *body, const char *header)
{
	return cc_webhook_verify_signature(secret, body, strlen(body), header);
}

static void test_good_signature(void **state)
{
	(void)state;
	assert_int_equal(sig(SECRET, BODY, GOOD), CC_WEBHOOK_OK);
	char hex[65];
	assert_int_equal(cc_webhook_sign(SECRET, BODY, strlen(BODY), hex), 0);
	assert_string_equal(hex, MAC_HEX);
}

static void test_wrong_secret(void **state)
{
	(void)state;
	assert_int_equal(sig("Jeff", BODY, GOOD), CC_WEBHOOK_MISMATCH);
	assert_int_equal(sig("Jefe ", BODY, GOOD), CC_WEBHOOK_MISMATCH);
}

static void test_wrong_body_byte(void **state)
{
	(void)state;
	char body[] = BODY;
	for (size_t i = 0; i < strlen(body); i++) {
		body[i] ^= 1;
		assert_int_equal(sig(SECRET, body, GOOD), CC_WEBHOOK_MISMATCH);
		body[i] ^= 1;
	}
	assert_int_equal(sig(SECRET, body, GOOD), CC_WEBHOOK_OK);
	/* a byte more, a byte less */
	assert_int_equal(cc_webhook_verify_signature(SECRET, BODY "\n", strlen(BODY) + 1, GOOD),
	                 CC_WEBHOOK_MISMATCH);
	assert_int_equal(cc_webhook_verify_signature(SECRET, BODY, strlen(BODY) - 1, GOOD),
	                 CC_WEBHOOK_MISMATCH);
	/* a NUL inside the body counts like any byte */
	assert_int_equal(cc_webhook_verify_signature(SECRET, BODY "\0", strlen(BODY) + 1, GOOD),
	                 CC_WEBHOOK_MISMATCH);
}

static void test_wrong_signature_bit(void **state)
{
	(void)state;
	char h[] = GOOD;
	size_t at = strlen("sha256=") + 63;
	h[at] = h[at] == '3' ? '2' : '3';
	assert_int_equal(sig(SECRET, BODY, h), CC_WEBHOOK_MISMATCH);
}

/* Decided: hex digits in either case (they are decoded, then the bytes compared). */
static void test_uppercase_hex(void **state)
{
	(void)state;
	char h[] = GOOD;
	for (char *p = h + strlen("sha256="); *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(sig(SECRET, BODY, h), CC_WEBHOOK_OK);
	h[strlen("sha256=")] = 'x';
	assert_int_equal(sig(SECRET, BODY, h), CC_WEBHOOK_MALFORMED);
}

static void test_malformed(void **state)
{
	(void)state;
	assert_int_equal(sig(SECRET, BODY, NULL), CC_WEBHOOK_MISSING);
	assert_int_equal(sig(SECRET, BODY, ""), CC_WEBHOOK_MALFORMED);
	assert_int_equal(sig(SECRET, BODY, MAC_HEX), CC_WEBHOOK_MALFORMED);         /* no prefix */
	assert_int_equal(sig(SECRET, BODY, "SHA256=" MAC_HEX), CC_WEBHOOK_MALFORMED); /* its case */
	assert_int_equal(sig(SECRET, BODY, "sha1=" MAC_HEX), CC_WEBHOOK_MALFORMED);
	assert_int_equal(sig(SECRET, BODY, "sha256="), CC_WEBHOOK_MALFORMED);
	assert_int_equal(sig(SECRET, BODY, "sha256= " MAC_HEX), CC_WEBHOOK_MALFORMED);
	assert_int_equal(sig(SECRET, BODY, GOOD "0"), CC_WEBHOOK_MALFORMED);       /* too long */
	assert_int_equal(sig(SECRET, BODY, GOOD " "), CC_WEBHOOK_MALFORMED);
	char truncated[] = GOOD;
	truncated[strlen(truncated) - 1] = '\0';
	assert_int_equal(sig(SECRET, BODY, truncated), CC_WEBHOOK_MALFORMED);
	truncated[strlen(truncated) - 1] = '\0'; /* 62 digits: whole bytes, still short */
	assert_int_equal(sig(SECRET, BODY, truncated), CC_WEBHOOK_MALFORMED);
	char notation[] = GOOD;
	notation[strlen("sha256=") + 10] = 'g';
	assert_int_equal(sig(SECRET, BODY, notation), CC_WEBHOOK_MALFORMED);
	/* a reason never repeats what was sent */
	const char *r = cc_webhook_verdict_reason(CC_WEBHOOK_AUTH_SIGNATURE, CC_WEBHOOK_MISMATCH);
	assert_null(strstr(r, MAC_HEX));
	assert_null(strstr(r, SECRET));
}

/* The listener feeds the body as it arrives: pieces give the same MAC. */
static void test_pieces(void **state)
{
	(void)state;
	unsigned char want[CC_WEBHOOK_MAC_LEN];
	assert_int_equal(cc_webhook_signature_parse(GOOD, want), CC_WEBHOOK_OK);
	const char *body = BODY;
	for (size_t cut = 0; cut <= strlen(body); cut++) {
		struct cc_webhook_mac *m;
		assert_int_equal(cc_webhook_mac_begin(&m, SECRET, strlen(SECRET)), 0);
		assert_int_equal(cc_webhook_mac_update(m, body, cut), 0);
		assert_int_equal(cc_webhook_mac_update(m, body + cut, strlen(body) - cut), 0);
		assert_int_equal(cc_webhook_mac_verify(m, want), CC_WEBHOOK_OK);
		/* verified once: a second verdict is a failure, never a replay */
		assert_int_equal(cc_webhook_mac_verify(m, want), CC_WEBHOOK_MISMATCH);
		cc_webhook_mac_free(m);
	}
	struct cc_webhook_mac *m;
	assert_int_equal(cc_webhook_mac_begin(&m, SECRET, strlen(SECRET)), 0);
	assert_int_equal(cc_webhook_mac_update(m, BODY, 5), 0);
	assert_int_equal(cc_webhook_mac_verify(m, want), CC_WEBHOOK_MISMATCH);
	cc_webhook_mac_free(m);
	cc_webhook_mac_free(NULL);
}

static void test_bearer(void **state)
{
	(void)state;
	const char *tok = "s3cret-Token_1";
	assert_int_equal(cc_webhook_verify_bearer(tok, "Bearer s3cret-Token_1"), CC_WEBHOOK_OK);
	assert_int_equal(cc_webhook_verify_bearer(tok, "bearer  s3cret-Token_1"), CC_WEBHOOK_OK);
	assert_int_equal(cc_webhook_verify_bearer(tok, "Bearer s3cret-Token_2"), CC_WEBHOOK_MISMATCH);
	assert_int_equal(cc_webhook_verify_bearer(tok, "Bearer s3cret-Token_"), CC_WEBHOOK_MISMATCH);
	assert_int_equal(cc_webhook_verify_bearer(tok, "Bearer s3cret-Token_1x"),
	                 CC_WEBHOOK_MISMATCH);
	assert_int_equal(cc_webhook_verify_bearer(tok, "Bearer S3CRET-TOKEN_1"), CC_WEBHOOK_MISMATCH);
	assert_int_equal(cc_webhook_verify_bearer(tok, NULL), CC_WEBHOOK_MISSING);
	assert_int_equal(cc_webhook_verify_bearer(tok, "s3cret-Token_1"), CC_WEBHOOK_MALFORMED);
	assert_int_equal(cc_webhook_verify_bearer(tok, "Basic s3cret-Token_1"), CC_WEBHOOK_MALFORMED);
	assert_int_equal(cc_webhook_verify_bearer(tok, "Bearer "), CC_WEBHOOK_MALFORMED);
	assert_int_equal(cc_webhook_verify_bearer(tok, "Bearer"), CC_WEBHOOK_MALFORMED);
	const char *r = cc_webhook_verdict_reason(CC_WEBHOOK_AUTH_TOKEN, CC_WEBHOOK_MISMATCH);
	assert_null(strstr(r, tok));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_signature),
		cmocka_unit_test(test_wrong_secret),
		cmocka_unit_test(test_wrong_body_byte),
		cmocka_unit_test(test_wrong_signature_bit),
		cmocka_unit_test(test_uppercase_hex),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_bearer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
