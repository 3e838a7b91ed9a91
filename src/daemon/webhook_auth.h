/*
 * Authentication of incoming webhooks (docs/webhooks.md): an HMAC-SHA256
 * signature of the raw body, or a bearer token. Pure apart from OpenSSL,
 * which computes the MAC; no I/O, no lock, no global state of its own, so
 * the listener's thread and the unit tests call it alike.
 *
 *   X-Concord-Signature: sha256=<64 hex digits>
 *       HMAC-SHA256 of the body bytes exactly as received, keyed with the
 *       system's webhook_secret. Senders write lowercase hex; uppercase
 *       (and mixed) hex digits are accepted too, since the digits are
 *       decoded and the 32 bytes compared. The prefix is "sha256=" in
 *       lowercase; anything else (no prefix, another algorithm, more or
 *       fewer than 64 digits, a character that is not a hex digit, blanks
 *       inside) is malformed, which is a failure.
 *   X-Hub-Signature: sha256=<64 hex digits>
 *       the same, under the name Jira Cloud's webhooks with a secret use;
 *       read only when X-Concord-Signature is absent.
 *   Authorization: Bearer <token>
 *       the system's webhook_token, for senders that cannot compute a
 *       signature. The scheme word is compared without case.
 *
 * Both comparisons take time that does not depend on where the given
 * value differs: the MAC bytes with CRYPTO_memcmp, the token through the
 * SHA-256 of each side (so not even its length shows).
 */
#ifndef CC_DAEMON_WEBHOOK_AUTH_H
#define CC_DAEMON_WEBHOOK_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define CC_WEBHOOK_SIGNATURE_HEADER "X-Concord-Signature"
/* The same scheme as Jira Cloud's admin webhooks (and GitHub's) send it,
 * looked at when X-Concord-Signature is absent. */
#define CC_WEBHOOK_HUB_HEADER "X-Hub-Signature"
#define CC_WEBHOOK_SIGNATURE_PREFIX "sha256="
#define CC_WEBHOOK_MAC_LEN 32 /* bytes of an HMAC-SHA256 */

/* How a system's webhooks are authenticated (from its configuration). */
enum cc_webhook_auth_mode {
	CC_WEBHOOK_AUTH_CLOSED = 0, /* neither a secret nor a token, no opt-out: refused (403) */
	CC_WEBHOOK_AUTH_NONE,       /* webhook_auth: none: accepted as they come */
	CC_WEBHOOK_AUTH_SIGNATURE,  /* webhook_secret: X-Concord-Signature */
	CC_WEBHOOK_AUTH_TOKEN,      /* webhook_token: Authorization: Bearer */
};

/* The outcome of a check: an answer, not an error. */
enum cc_webhook_verdict {
	CC_WEBHOOK_OK = 0,
	CC_WEBHOOK_MISSING,   /* no such header */
	CC_WEBHOOK_MALFORMED, /* not sha256=<64 hex>, or not "Bearer <token>" */
	CC_WEBHOOK_MISMATCH,  /* well formed, but not the right signature or token */
};

/*
 * A short reason for a failed verdict, safe to send back and to log (it
 * never holds the secret, the token or what the client sent); mode says
 * which header was expected.
 */
const char *cc_webhook_verdict_reason(enum cc_webhook_auth_mode mode,
                                      enum cc_webhook_verdict v);

/*
 * Parses an X-Concord-Signature value (NULL: missing) into the 32 bytes
 * it names. OK, MISSING or MALFORMED.
 */
enum cc_webhook_verdict cc_webhook_signature_parse(const char *header,
                                                   unsigned char mac[CC_WEBHOOK_MAC_LEN]);

/* An HMAC-SHA256 being computed over a body that arrives in pieces. */
struct cc_webhook_mac;

/*
 * Starts a MAC keyed with secret (secret_len bytes, borrowed for the call).
 * Returns 0 with *out (free it with cc_webhook_mac_free), or CC_ENOMEM /
 * CC_EIO when OpenSSL cannot.
 */
int cc_webhook_mac_begin(struct cc_webhook_mac **out, const void *secret, size_t secret_len);
/* Adds len bytes of the body. 0, or CC_EIO (the MAC is then unusable). */
int cc_webhook_mac_update(struct cc_webhook_mac *m, const void *data, size_t len);
/*
 * Finishes the MAC and compares it with want in constant time: OK or
 * MISMATCH (also when an earlier update failed). Call it once.
 */
enum cc_webhook_verdict cc_webhook_mac_verify(struct cc_webhook_mac *m,
                                              const unsigned char want[CC_WEBHOOK_MAC_LEN]);
/* Releases m (wiping the key state). NULL is allowed. */
void cc_webhook_mac_free(struct cc_webhook_mac *m);

/*
 * The whole check of a body held in memory: header is the value of
 * X-Concord-Signature (NULL: missing), secret the system's webhook_secret
 * (NUL-terminated, not empty). An OpenSSL failure is MISMATCH: a body is
 * never accepted unverified.
 */
enum cc_webhook_verdict cc_webhook_verify_signature(const char *secret, const void *body,
                                                    size_t len, const char *header);

/*
 * Checks an Authorization value (NULL: missing) against the system's
 * webhook_token (not empty): "Bearer <token>", blanks after the scheme
 * word skipped.
 */
enum cc_webhook_verdict cc_webhook_verify_bearer(const char *token, const char *authorization);

/* The lowercase hex HMAC-SHA256 of body (out: 65 bytes), for tests and
 * examples. 0, or CC_EIO. */
int cc_webhook_sign(const char *secret, const void *body, size_t len, char out[65]);

#endif
