/*
 * OAuth 2.0 client credentials for the HTTP connectors (see oauth.h): the
 * token request on its own HTTP client (the token URL may be on another
 * host than the API), the answer read with jansson, the token kept until
 * it is due for refresh.
 */
#include "connectors/oauth.h"

#include "connectors/request.h"
#include "connectors/text.h"
#include "core/redact.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define BEARER "Authorization: Bearer "

struct cc_oauth {
	char *who;
	char *form;               /* the request, secret included (wiped) */
	char *secret;             /* for redaction (wiped) */
	struct cc_http_client *http;
	int64_t (*now_ms)(void *ctx);
	void *now_ctx;
	char *line;               /* BEARER token, NULL before the first (wiped) */
	int64_t refresh_at_ms;
	int64_t expires_at_ms;    /* the token's end: a failed early refresh keeps it till then */
};

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static int64_t mono_ms(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cc_oauth_options_from_setup(struct cc_oauth_options *o, const struct cc_connector_setup *s)
{
	o->timeout_ms = s->timeout_ms;
	o->ca_file = s->ca_file;
	o->interrupt = s->interrupt;
	o->interrupt_ctx = s->interrupt_ctx;
	o->transport = s->transport;
	o->trace = s->trace;
}

char *cc_oauth_form(const char *client_id, const char *client_secret, const char *scope)
{
	char *id = cc_http_escape(client_id), *sec = cc_http_escape(client_secret);
	char *sc = scope && scope[0] ? cc_http_escape(scope) : NULL;
	char *form = NULL;
	if (id && sec && (sc || !(scope && scope[0])))
		form = cc_strf("grant_type=client_credentials&client_id=%s&client_secret=%s%s%s", id,
		               sec, sc ? "&scope=" : "", sc ? sc : "");
	free(id);
	wipe_free(sec);
	free(sc);
	return form;
}

int cc_oauth_create(struct cc_oauth **out, const struct cc_oauth_options *o, char *err,
                    size_t errlen)
{
	*out = NULL;
	const char *who = o->who ? o->who : "oauth";
	if (!o->token_url || !o->token_url[0] || !o->client_id || !o->client_id[0] ||
	    !o->client_secret || !o->client_secret[0]) {
		snprintf(err, errlen, "%s: a token URL, a client id and a client secret are required",
		         who);
		return CC_EINVAL;
	}
	struct cc_oauth *a = calloc(1, sizeof(*a));
	if (!a || !(a->who = strdup(who)) || !(a->secret = strdup(o->client_secret)) ||
	    !(a->form = cc_oauth_form(o->client_id, o->client_secret, o->scope))) {
		snprintf(err, errlen, "%s: out of memory", who);
		cc_oauth_destroy(a);
		return CC_ENOMEM;
	}
	a->now_ms = o->now_ms ? o->now_ms : mono_ms;
	a->now_ctx = o->now_ctx;
	struct cc_http_options h = { .base_url = o->token_url, .timeout_ms = o->timeout_ms,
		                     .ca_file = o->ca_file, .max_concurrency = 1,
		                     .interrupt = o->interrupt, .interrupt_ctx = o->interrupt_ctx,
		                     .transport = o->transport, .trace = o->trace };
	int rc = cc_http_client_create(&a->http, &h, err, errlen);
	if (rc) {
		cc_oauth_destroy(a);
		return rc;
	}
	*out = a;
	return 0;
}

void cc_oauth_destroy(struct cc_oauth *a)
{
	if (!a)
		return;
	cc_http_client_destroy(a->http);
	free(a->who);
	wipe_free(a->form);
	wipe_free(a->secret);
	wipe_free(a->line);
	free(a);
}

struct cc_http_auth cc_oauth_auth(struct cc_oauth *a)
{
	return (struct cc_http_auth){ .header = cc_oauth_header, .ctx = a };
}

/* A token as a header value takes: printable ASCII, no blank, no quote. */
static bool token_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > CC_OAUTH_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (t[i] <= 0x20 || t[i] >= 0x7f || t[i] == '"' || t[i] == '\\')
			return false;
	return true;
}

/* expires_in: an integer, or digits in a string (Entra ID v1: "3599"); 0 when neither. */
static int64_t lifetime(json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v) > 0 ? json_integer_value(v) : 0;
	const char *s = json_string_value(v);
	if (!s || !s[0] || strlen(s) > 9 || s[strspn(s, "0123456789")])
		return 0;
	return strtoll(s, NULL, 10);
}

bool cc_oauth_parse(const char *body, size_t len, char **token, int64_t *expires_in_s,
                    char *why, size_t why_len)
{
	*token = NULL;
	*expires_in_s = 0;
	json_error_t je;
	json_t *j = body && len ? json_loadb(body, len, 0, &je) : NULL;
	const char *what = NULL;
	if (!json_is_object(j))
		what = "not a JSON object";
	else if (!json_is_string(json_object_get(j, "access_token")))
		what = "no access_token";
	else if (!token_ok(json_string_value(json_object_get(j, "access_token"))))
		what = "an access_token that cannot be sent";
	else if (!json_is_string(json_object_get(j, "token_type")) ||
	         strcasecmp(json_string_value(json_object_get(j, "token_type")), "Bearer") != 0)
		what = "a token_type other than Bearer";
	else if (!(*expires_in_s = lifetime(json_object_get(j, "expires_in"))))
		what = "no expires_in of 1 or more seconds";
	else if (!(*token = strdup(json_string_value(json_object_get(j, "access_token")))))
		what = "out of memory";
	if (what)
		snprintf(why, why_len, "%s", what);
	json_decref(j); /* jansson does not wipe: the token stays in freed memory */
	return what == NULL;
}

int64_t cc_oauth_refresh_at_ms(int64_t got_ms, int64_t expires_in_s)
{
	int64_t margin = expires_in_s / 10;
	if (margin > CC_OAUTH_MARGIN_S)
		margin = CC_OAUTH_MARGIN_S;
	return got_ms + (expires_in_s - margin) * 1000;
}

/* The reason of a 400 or 401: the remote's error and error_description when it sent them. */
static void refused(struct cc_oauth *a, const struct cc_http_response *r, struct cc_call *call)
{
	json_t *j = r->body && r->len ? json_loadb(r->body, r->len, 0, NULL) : NULL;
	const char *e = json_string_value(json_object_get(j, "error"));
	const char *d = json_string_value(json_object_get(j, "error_description"));
	if (e || d)
		snprintf(call->reason, sizeof(call->reason), "%s token request: HTTP %ld %s%s%s", a->who,
		         r->status, e ? e : "", e && d ? ": " : "", d ? d : "");
	else
	{
		char was[sizeof(call->reason)];
		memcpy(was, call->reason, sizeof(was));
		snprintf(call->reason, sizeof(call->reason), "%.24s token request: %.110s", a->who,
		         was[0] ? was : "refused");
	}
	json_decref(j);
	call->result = CC_ERROR;
}

/* Takes both secrets out of the reason, and anything credential-shaped. */
static void redact(struct cc_oauth *a, struct cc_call *call)
{
	const char *tok = a->line ? a->line + strlen(BEARER) : NULL;
	const char *secrets[] = { a->secret, tok, NULL };
	cc_redact(call->reason, sizeof(call->reason), secrets);
}

/* Fetches a new token into a->line. */
static enum cc_result fetch(struct cc_oauth *a, struct cc_call *call)
{
	int64_t got_ms = a->now_ms(a->now_ctx);
	struct cc_http_response r;
	enum cc_result res = cc_http_request_form(a->http, "token", "", a->form, &r, call);
	if (res != CC_OK) {
		if (r.status == 400 || r.status == 401)
			refused(a, &r, call);
		else if (strncmp(call->reason, a->who, strlen(a->who)) != 0) {
			char was[sizeof(call->reason)];
			memcpy(was, call->reason, sizeof(was));
			snprintf(call->reason, sizeof(call->reason), "%.24s token request: %.110s", a->who, was);
		}
		redact(a, call);
		cc_http_response_clear(&r);
		return call->result;
	}
	char *token = NULL, why[64];
	int64_t life = 0;
	bool ok = cc_oauth_parse(r.body, r.len, &token, &life, why, sizeof(why));
	if (r.body)
		explicit_bzero(r.body, r.len);
	cc_http_response_clear(&r);
	if (!ok) {
		if (!strcmp(why, "out of memory"))
			return cc_call_fail(call, CC_RETRY, "%s: out of memory", a->who);
		return cc_call_malformed(call, a->who, "token request", "%s", why);
	}
	char *line = cc_strf("%s%s", BEARER, token);
	wipe_free(token);
	if (!line)
		return cc_call_fail(call, CC_RETRY, "%s: out of memory", a->who);
	wipe_free(a->line);
	a->line = line;
	a->refresh_at_ms = cc_oauth_refresh_at_ms(got_ms, life);
	a->expires_at_ms = got_ms + life * 1000;
	return CC_OK;
}

enum cc_result cc_oauth_header(void *ctx, bool renew, const char **line, struct cc_call *call)
{
	struct cc_oauth *a = ctx;
	*line = NULL;
	int64_t now = a->now_ms(a->now_ctx);
	if (renew || !a->line || now >= a->refresh_at_ms) {
		enum cc_result res = fetch(a, call);
		/* a refresh before the end that failed: the token still serves */
		if (res != CC_OK && (renew || !a->line || now >= a->expires_at_ms))
			return res;
		if (res != CC_OK) {
			call->reason[0] = '\0';
			call->retry_after_ms = 0;
		}
	}
	*line = a->line;
	call->result = CC_OK;
	return CC_OK;
}
