/*
 * Authentication of incoming webhooks (see webhook_auth.h): HMAC-SHA256
 * through OpenSSL's EVP_MAC, compared with CRYPTO_memcmp; bearer tokens
 * compared through their SHA-256 digests.
 */
#include "daemon/webhook_auth.h"

#include "core/types.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Owned by its caller from _begin to _free. */
struct cc_webhook_mac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
	bool failed; /* an update failed: the verdict is MISMATCH */
};

const char *cc_webhook_verdict_reason(enum cc_webhook_auth_mode mode,
                                      enum cc_webhook_verdict v)
{
	bool token = mode == CC_WEBHOOK_AUTH_TOKEN;
	switch (v) {
	case CC_WEBHOOK_OK:
		return "authenticated";
	case CC_WEBHOOK_MISSING:
		return token ? "no Authorization header" : "no X-Concord-Signature header";
	case CC_WEBHOOK_MALFORMED:
		return token ? "Authorization is not 'Bearer <token>'"
		             : "X-Concord-Signature is not sha256=<64 hex digits>";
	case CC_WEBHOOK_MISMATCH:
		return token ? "wrong token" : "signature does not match the body";
	}
	return "not authenticated";
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

enum cc_webhook_verdict cc_webhook_signature_parse(const char *header,
                                                   unsigned char mac[CC_WEBHOOK_MAC_LEN])
{
	if (!header)
		return CC_WEBHOOK_MISSING;
	size_t plen = strlen(CC_WEBHOOK_SIGNATURE_PREFIX);
	if (strncmp(header, CC_WEBHOOK_SIGNATURE_PREFIX, plen) != 0)
		return CC_WEBHOOK_MALFORMED;
	const char *hex = header + plen;
	if (strlen(hex) != 2 * CC_WEBHOOK_MAC_LEN)
		return CC_WEBHOOK_MALFORMED;
	for (size_t i = 0; i < CC_WEBHOOK_MAC_LEN; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return CC_WEBHOOK_MALFORMED;
		mac[i] = (unsigned char)(hi * 16 + lo);
	}
	return CC_WEBHOOK_OK;
}

int cc_webhook_mac_begin(struct cc_webhook_mac **out, const void *secret, size_t secret_len)
{
	*out = NULL;
	struct cc_webhook_mac *m = calloc(1, sizeof(*m));
	if (!m)
		return CC_ENOMEM;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	m->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	m->ctx = m->mac ? EVP_MAC_CTX_new(m->mac) : NULL;
	if (!m->ctx || !EVP_MAC_init(m->ctx, secret, secret_len, params)) {
		cc_webhook_mac_free(m);
		return CC_EIO;
	}
	*out = m;
	return CC_EOK;
}

int cc_webhook_mac_update(struct cc_webhook_mac *m, const void *data, size_t len)
{
	if (m->failed)
		return CC_EIO;
	if (len && !EVP_MAC_update(m->ctx, data, len)) {
		m->failed = true;
		return CC_EIO;
	}
	return CC_EOK;
}

enum cc_webhook_verdict cc_webhook_mac_verify(struct cc_webhook_mac *m,
                                              const unsigned char want[CC_WEBHOOK_MAC_LEN])
{
	unsigned char got[EVP_MAX_MD_SIZE];
	size_t n = 0;
	if (m->failed || !EVP_MAC_final(m->ctx, got, &n, sizeof(got)) || n != CC_WEBHOOK_MAC_LEN) {
		m->failed = true;
		return CC_WEBHOOK_MISMATCH;
	}
	m->failed = true; /* final once: a second call is a mismatch */
	bool same = CRYPTO_memcmp(got, want, CC_WEBHOOK_MAC_LEN) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return same ? CC_WEBHOOK_OK : CC_WEBHOOK_MISMATCH;
}

void cc_webhook_mac_free(struct cc_webhook_mac *m)
{
	if (!m)
		return;
	EVP_MAC_CTX_free(m->ctx); /* frees the key state it holds */
	EVP_MAC_free(m->mac);
	free(m);
}

/* The one-shot MAC of a body in memory: 0 with mac filled, or CC_EIO. */
static int mac_of(const char *secret, const void *body, size_t len,
                  unsigned char mac[CC_WEBHOOK_MAC_LEN])
{
	unsigned char got[EVP_MAX_MD_SIZE];
	size_t n = 0;
	struct cc_webhook_mac *m;
	int rc = cc_webhook_mac_begin(&m, secret, strlen(secret));
	if (rc)
		return rc;
	rc = cc_webhook_mac_update(m, body, len);
	if (!rc && (!EVP_MAC_final(m->ctx, got, &n, sizeof(got)) || n != CC_WEBHOOK_MAC_LEN))
		rc = CC_EIO;
	if (!rc)
		memcpy(mac, got, CC_WEBHOOK_MAC_LEN);
	OPENSSL_cleanse(got, sizeof(got));
	cc_webhook_mac_free(m);
	return rc;
}

enum cc_webhook_verdict cc_webhook_verify_signature(const char *secret, const void *body,
                                                    size_t len, const char *header)
{
	unsigned char want[CC_WEBHOOK_MAC_LEN];
	enum cc_webhook_verdict v = cc_webhook_signature_parse(header, want);
	if (v != CC_WEBHOOK_OK)
		return v;
	struct cc_webhook_mac *m;
	if (!secret || !secret[0] || cc_webhook_mac_begin(&m, secret, strlen(secret)))
		return CC_WEBHOOK_MISMATCH;
	cc_webhook_mac_update(m, body, len); /* a failure makes verify a mismatch */
	v = cc_webhook_mac_verify(m, want);
	cc_webhook_mac_free(m);
	return v;
}

enum cc_webhook_verdict cc_webhook_verify_bearer(const char *token, const char *authorization)
{
	if (!authorization)
		return CC_WEBHOOK_MISSING;
	if (strncasecmp(authorization, "Bearer ", 7) != 0)
		return CC_WEBHOOK_MALFORMED;
	const char *given = authorization + 7;
	while (*given == ' ' || *given == '\t')
		given++;
	if (!*given)
		return CC_WEBHOOK_MALFORMED;
	if (!token || !token[0])
		return CC_WEBHOOK_MISMATCH;
	/* digests of both sides: the comparison's time says nothing of either */
	unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
	unsigned int na = 0, nb = 0;
	bool ok = EVP_Digest(given, strlen(given), a, &na, EVP_sha256(), NULL) &&
	          EVP_Digest(token, strlen(token), b, &nb, EVP_sha256(), NULL) && na == nb &&
	          CRYPTO_memcmp(a, b, na) == 0;
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	return ok ? CC_WEBHOOK_OK : CC_WEBHOOK_MISMATCH;
}

int cc_webhook_sign(const char *secret, const void *body, size_t len, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char mac[CC_WEBHOOK_MAC_LEN];
	out[0] = '\0';
	int rc = mac_of(secret, body, len, mac);
	if (rc)
		return rc;
	for (size_t i = 0; i < CC_WEBHOOK_MAC_LEN; i++) {
		out[2 * i] = digits[mac[i] >> 4];
		out[2 * i + 1] = digits[mac[i] & 15];
	}
	out[64] = '\0';
	return CC_EOK;
}
