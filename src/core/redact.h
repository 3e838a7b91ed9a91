/*
 * Redaction: credentials are taken out of any text that came from outside
 * (a remote's error body quoted in a reason, a store URL in a message)
 * before it is logged, shown or stored (DESIGN section 12). Pure.
 */
#ifndef CC_REDACT_H
#define CC_REDACT_H

#include <stddef.h>

#define CC_REDACTED "[redacted]"
/* Secrets shorter than this are not searched for: they would match ordinary words. */
#define CC_REDACT_MIN_SECRET 4

/*
 * Rewrites text (NUL-terminated, in a buffer of cap bytes) in place:
 *  - every occurrence of each secret of the NULL-terminated list `secrets`
 *    (may be NULL) becomes [redacted];
 *  - the value of a credential-bearing name, as a header line, a query or
 *    form pair or a JSON member ("Authorization: ...", "X-Redmine-API-Key=...",
 *    "\"api_key\": \"...\"", also Proxy-Authorization, Cookie, Set-Cookie,
 *    X-Api-Key, api_key, apikey, access_token, refresh_token, client_secret,
 *    password, passwd, secret, token), up to the end of the line or its quote;
 *  - the word after "Bearer", "Basic" or "token" when it looks like a
 *    credential (letters, digits and +/=_.-~: 8 or more with a digit among
 *    them, or 20 or more);
 *  - the password of a URL's user:password@.
 * The text may grow (a short secret becomes [redacted]); what does not fit
 * in cap is cut. Returns the number of replacements.
 */
size_t cc_redact(char *text, size_t cap, const char *const *secrets);

/* Copies src into dst (len bytes) with its credentials redacted: for a URL
 * that may hold user:password@ in a message. Returns dst. */
const char *cc_redact_copy(char *dst, size_t len, const char *src);

#endif
