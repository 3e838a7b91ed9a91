/*
 * Redaction of credentials (see redact.h). One pass from left to right
 * into a scratch copy: at each position the secrets are tried first, then
 * the patterns; whatever matches is replaced and skipped.
 */
#include "core/redact.h"

#include <ctype.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Names whose value is a credential, compared without case. */
static const char *const credential_names[] = {
	"proxy-authorization", "authorization", "x-redmine-api-key", "x-api-key", "x-auth-token",
	"x-access-token", "private-token", "set-cookie",
	"cookie", "api_key", "apikey", "api-key", "access_token", "refresh_token", "client_secret",
	"password", "passwd", "secret", "token", NULL,
};

/* Words followed by a credential ("Bearer abc..."), compared without case. */
static const char *const scheme_words[] = { "bearer", "basic", "token", NULL };

struct out {
	char *p;
	size_t len, cap; /* cap includes the NUL */
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + 1 >= o->cap)
		return;
	if (n > o->cap - 1 - o->len)
		n = o->cap - 1 - o->len;
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

static bool credential_char(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("+/=_.-~", c));
}

/* Length of the secret matching at s, 0 if none. */
static size_t match_secret(const char *s, const char *const *secrets)
{
	for (size_t i = 0; secrets && secrets[i]; i++) {
		size_t n = strlen(secrets[i]);
		if (n >= CC_REDACT_MIN_SECRET && strncmp(s, secrets[i], n) == 0)
			return n;
	}
	return 0;
}

/*
 * A credential name at s (not inside a longer word), then an optional
 * quote, blanks, ':' or '=', blanks and an optional quote: returns the
 * length up to the value (kept), with *quoted set when the value opened a
 * quote; 0 when no pattern starts here.
 */
static size_t match_name(const char *text, const char *s, bool *quoted)
{
	if (s > text && word_char(s[-1]))
		return 0;
	for (size_t i = 0; credential_names[i]; i++) {
		size_t n = strlen(credential_names[i]);
		if (strncasecmp(s, credential_names[i], n) != 0 || word_char(s[n]))
			continue;
		const char *p = s + n;
		if (*p == '"' || *p == '\'')
			p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != ':' && *p != '=')
			continue;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		*quoted = *p == '"' || *p == '\'';
		if (*quoted)
			p++;
		if (!*p || *p == '\r' || *p == '\n' || (*quoted && (p[0] == '"' || p[0] == '\'')))
			continue; /* an empty value: nothing to hide */
		return (size_t)(p - s);
	}
	return 0;
}

/*
 * "Bearer <credential>": the length kept (the word and its blanks), 0 if
 * none. A credential is 8 or more credential characters with a digit in
 * them, or 20 or more: "token required" is a sentence, not a token.
 */
static size_t match_scheme(const char *text, const char *s)
{
	if (s > text && word_char(s[-1]))
		return 0;
	for (size_t i = 0; scheme_words[i]; i++) {
		size_t n = strlen(scheme_words[i]);
		if (strncasecmp(s, scheme_words[i], n) != 0 || (s[n] != ' ' && s[n] != '\t'))
			continue;
		const char *p = s + n;
		while (*p == ' ' || *p == '\t')
			p++;
		size_t k = 0;
		bool digit = false;
		while (credential_char(p[k]))
			digit |= isdigit((unsigned char)p[k++]) != 0;
		if ((k >= 8 && digit) || k >= 20)
			return (size_t)(p - s);
	}
	return 0;
}

/* "://user:password@": the length up to the password (kept), 0 if none. */
static size_t match_userinfo(const char *s, size_t *pw_len)
{
	if (strncmp(s, "://", 3) != 0)
		return 0;
	const char *p = s + 3;
	const char *colon = NULL;
	for (const char *q = p; *q && !strchr("/?#@ \t\r\n\"'", *q); q++)
		if (*q == ':' && !colon)
			colon = q;
	if (!colon)
		return 0;
	const char *at = colon + 1;
	while (*at && !strchr("/?#@ \t\r\n\"'", *at))
		at++;
	if (*at != '@' || at == colon + 1)
		return 0;
	*pw_len = (size_t)(at - colon - 1);
	return (size_t)(colon + 1 - s);
}

const char *cc_redact_copy(char *dst, size_t len, const char *src)
{
	if (!len)
		return dst;
	snprintf(dst, len, "%s", src ? src : "");
	cc_redact(dst, len, NULL);
	return dst;
}

/*
 * One pass over text: with `secrets`, their occurrences only; without,
 * the patterns only. Secrets go first, so that a pattern keeping its name
 * ("token: ") can never keep part of a secret.
 */
static size_t rewrite(char *text, size_t cap, const char *const *secrets)
{
	size_t len = strnlen(text, cap - 1);
	char *copy = malloc(len + 1);
	if (!copy) {
		/* cannot rewrite: hide everything rather than risk a secret */
		snprintf(text, cap, "%s", CC_REDACTED);
		return 1;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	struct out o = { text, 0, cap };
	size_t hits = 0;
	const char *s = copy;
	while (*s) {
		size_t n = secrets ? match_secret(s, secrets) : 0;
		if (n) {
			put(&o, CC_REDACTED, strlen(CC_REDACTED));
			s += n;
			hits++;
			continue;
		}
		bool quoted = false;
		if (!secrets && (n = match_name(copy, s, &quoted))) {
			put(&o, s, n);
			s += n;
			/* the value, through the end of the line or the closing quote */
			while (*s && *s != '\r' && *s != '\n' &&
			       !(quoted ? (*s == '"' || *s == '\'') : (*s == '&' || *s == '"')))
				s++;
			put(&o, CC_REDACTED, strlen(CC_REDACTED));
			hits++;
			continue;
		}
		if (!secrets && (n = match_scheme(copy, s))) {
			put(&o, s, n);
			s += n;
			while (credential_char(*s))
				s++;
			put(&o, CC_REDACTED, strlen(CC_REDACTED));
			hits++;
			continue;
		}
		size_t pw = 0;
		if (!secrets && (n = match_userinfo(s, &pw))) {
			put(&o, s, n);
			s += n + pw;
			put(&o, CC_REDACTED, strlen(CC_REDACTED));
			hits++;
			continue;
		}
		put(&o, s, 1);
		s++;
	}
	o.p[o.len] = '\0';
	free(copy);
	return hits;
}

size_t cc_redact(char *text, size_t cap, const char *const *secrets)
{
	if (!text || cap == 0)
		return 0;
	size_t hits = 0;
	if (secrets && secrets[0])
		hits += rewrite(text, cap, secrets);
	return hits + rewrite(text, cap, NULL);
}
