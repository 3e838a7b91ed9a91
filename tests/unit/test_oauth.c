/*
 * The OAuth 2.0 client-credentials module (src/connectors/oauth.c) and the
 * HTTP client's auth hook, through the client's stand-in transport: the
 * form sent, the token answer read (and every wrong shape malformed), the
 * token kept until it is due and fetched again before it expires, renewed
 * once after a 401, 400/401 of the token endpoint an ERROR quoting the
 * remote's description, and neither the secret nor the token in a reason.
 */
#include "connectors/oauth.h"
#include "core/redact.h"
#include "http/client.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "s3cr3t~value+/="
#define TOKEN_URL "https://login.example/tenant-1/oauth2/v2.0/token"

/* ---- a scripted transport: token answers and API answers ---- */

struct script {
	int token_calls, api_calls;
	char last_form[512];
	char last_auth_seen[256];
	const char *token_status_body[8]; /* "STATUS BODY" per token call, last repeats */
	int api_401_first;                /* API answers 401 to the first n calls */
};

static struct script g;
static int64_t g_now_ms;
static char g_auth_line[256]; /* the line the API client holds for the request */
static struct cc_http_client *g_api;

static int64_t fake_now(void *ctx)
{
	(void)ctx;
	return g_now_ms;
}

static char g_body_buf[1024];

static void exchange(void *ctx, const char *method, const char *url, const char *body,
                     const char *if_match, struct cc_http_raw_answer *out)
{
	(void)ctx, (void)if_match;
	if (strcmp(url, TOKEN_URL) == 0) {
		assert_string_equal(method, "POST");
		snprintf(g.last_form, sizeof(g.last_form), "%s", body ? body : "");
		int i = g.token_calls < 8 ? g.token_calls : 7;
		while (i > 0 && !g.token_status_body[i])
			i--;
		g.token_calls++;
		const char *sb = g.token_status_body[i];
		long status = strtol(sb, NULL, 10);
		snprintf(g_body_buf, sizeof(g_body_buf), "%s", strchr(sb, ' ') + 1);
		*out = (struct cc_http_raw_answer){ .status = status, .body = g_body_buf,
			                            .body_len = strlen(g_body_buf) };
		return;
	}
	g.api_calls++;
	long status = g.api_calls <= g.api_401_first ? 401 : 200;
	const char *b = status == 401 ? "{\"error\":{\"code\":\"InvalidAuthenticationToken\"}}"
	                              : "{\"value\":[]}";
	*out = (struct cc_http_raw_answer){ .status = status, .body = b, .body_len = strlen(b) };
}

static const struct cc_http_transport g_transport = { exchange, NULL };

static struct cc_oauth *make(const char *scope)
{
	struct cc_oauth_options o = { .who = "test", .token_url = TOKEN_URL,
		                      .client_id = "app id", .client_secret = SECRET,
		                      .scope = scope, .transport = &g_transport,
		                      .now_ms = fake_now };
	struct cc_oauth *a = NULL;
	char err[128];
	assert_int_equal(cc_oauth_create(&a, &o, err, sizeof(err)), 0);
	return a;
}

static int setup(void **state)
{
	(void)state;
	memset(&g, 0, sizeof(g));
	g_now_ms = 1000000;
	g_auth_line[0] = '\0';
	g_api = NULL;
	return 0;
}

/* ---- the pure parts ---- */

static void test_form(void **state)
{
	(void)state;
	char *f = cc_oauth_form("app id", SECRET, "https://management.azure.com/.default");
	assert_string_equal(f, "grant_type=client_credentials&client_id=app%20id&client_secret="
	                       "s3cr3t~value%2B%2F%3D&scope=https%3A%2F%2Fmanagement.azure.com"
	                       "%2F.default");
	free(f);
	f = cc_oauth_form("id", "x", NULL);
	assert_string_equal(f, "grant_type=client_credentials&client_id=id&client_secret=x");
	free(f);
}

static void test_parse(void **state)
{
	(void)state;
	char *tok;
	int64_t life;
	char why[64];
	const char *ok = "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,"
	                 "\"access_token\":\"eyJ0eXAi.eyJhdWQi.c2ln\"}";
	assert_true(cc_oauth_parse(ok, strlen(ok), &tok, &life, why, sizeof(why)));
	assert_string_equal(tok, "eyJ0eXAi.eyJhdWQi.c2ln");
	assert_int_equal(life, 3599);
	free(tok);
	/* the v1 endpoint's string lifetime, a lower-case type */
	const char *v1 = "{\"token_type\":\"bearer\",\"expires_in\":\"3599\",\"access_token\":\"abc\"}";
	assert_true(cc_oauth_parse(v1, strlen(v1), &tok, &life, why, sizeof(why)));
	assert_int_equal(life, 3599);
	free(tok);
	const char *bad[] = {
		"",
		"[]",
		"not json",
		"{\"token_type\":\"Bearer\",\"expires_in\":3599}",
		"{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"\"}",
		"{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":7}",
		"{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"a b\"}",
		"{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"a\\r\\nX-Evil: 1\"}",
		"{\"token_type\":\"mac\",\"expires_in\":3599,\"access_token\":\"abc\"}",
		"{\"expires_in\":3599,\"access_token\":\"abc\"}",
		"{\"token_type\":\"Bearer\",\"access_token\":\"abc\"}",
		"{\"token_type\":\"Bearer\",\"expires_in\":0,\"access_token\":\"abc\"}",
		"{\"token_type\":\"Bearer\",\"expires_in\":-5,\"access_token\":\"abc\"}",
		"{\"token_type\":\"Bearer\",\"expires_in\":\"12a\",\"access_token\":\"abc\"}",
		"{\"token_type\":\"Bearer\",\"expires_in\":1.5,\"access_token\":\"abc\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(cc_oauth_parse(bad[i], strlen(bad[i]), &tok, &life, why, sizeof(why)));
		assert_null(tok);
		assert_true(why[0] != '\0');
	}
}

static void test_refresh_at(void **state)
{
	(void)state;
	/* an hour: five minutes before its end */
	assert_int_equal(cc_oauth_refresh_at_ms(0, 3600), (3600 - 300) * 1000);
	/* ten minutes: a tenth of it, a minute before */
	assert_int_equal(cc_oauth_refresh_at_ms(5000, 600), 5000 + 540 * 1000);
	/* a day: still five minutes */
	assert_int_equal(cc_oauth_refresh_at_ms(0, 86400), (86400 - 300) * 1000);
	assert_int_equal(cc_oauth_refresh_at_ms(0, 9), 9 * 1000);
}

/* what a log line could hold: the form sent, the token answer (patterns alone, no list) */
static void test_redaction_patterns(void **state)
{
	(void)state;
	char form[256], answer[256], header[128];
	char *f = cc_oauth_form("app", "Zq8~secret.Value_42", "https://management.azure.com/.default");
	snprintf(form, sizeof(form), "sent: %s", f);
	free(f);
	snprintf(answer, sizeof(answer), "got: {\"token_type\":\"Bearer\",\"expires_in\":3599,"
	         "\"access_token\":\"eyJ0eXAiOiJKV1Qi.eyJhdWQiOiJodHRw.c2lnbmF0dXJl\"}");
	snprintf(header, sizeof(header), "Authorization: Bearer eyJ0eXAiOiJKV1Qi.eyJhdWQiOiJodHRw");
	cc_redact(form, sizeof(form), NULL);
	cc_redact(answer, sizeof(answer), NULL);
	cc_redact(header, sizeof(header), NULL);
	assert_null(strstr(form, "Zq8"));
	assert_null(strstr(form, "secret.Value"));
	assert_non_null(strstr(form, "client_id=app"));
	assert_null(strstr(answer, "eyJ0eXAi"));
	assert_null(strstr(header, "eyJ0eXAi"));
}

/* ---- the token kept, refreshed, renewed ---- */

#define GOOD(tok, life) \
	"200 {\"token_type\":\"Bearer\",\"expires_in\":" #life ",\"access_token\":\"" tok "\"}"

static void test_kept_then_refreshed(void **state)
{
	(void)state;
	g.token_status_body[0] = GOOD("tok1", 3599);
	g.token_status_body[1] = GOOD("tok2", 3599);
	struct cc_oauth *a = make("https://management.azure.com/.default");
	struct cc_call call = { 0 };
	const char *line;
	assert_int_equal(cc_oauth_header(a, false, &line, &call), CC_OK);
	assert_string_equal(line, "Authorization: Bearer tok1");
	assert_int_equal(call.requests, 1);
	assert_non_null(strstr(g.last_form, "grant_type=client_credentials"));
	assert_non_null(strstr(g.last_form, "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"));
	/* kept until five minutes before its end */
	g_now_ms += (3599 - 301) * 1000LL;
	assert_int_equal(cc_oauth_header(a, false, &line, &call), CC_OK);
	assert_string_equal(line, "Authorization: Bearer tok1");
	assert_int_equal(g.token_calls, 1);
	g_now_ms += 1000;
	assert_int_equal(cc_oauth_header(a, false, &line, &call), CC_OK);
	assert_string_equal(line, "Authorization: Bearer tok2");
	assert_int_equal(g.token_calls, 2);
	/* an early refresh that fails: the token serves until its end, then the failure shows */
	g.token_status_body[2] = "503 busy";
	g.token_status_body[3] = "503 busy";
	g_now_ms += (3599 - 300) * 1000LL;
	memset(&call, 0, sizeof(call));
	assert_int_equal(cc_oauth_header(a, false, &line, &call), CC_OK);
	assert_string_equal(line, "Authorization: Bearer tok2");
	assert_int_equal(g.token_calls, 3);
	g_now_ms += 300 * 1000LL;
	memset(&call, 0, sizeof(call));
	assert_int_equal(cc_oauth_header(a, false, &line, &call), CC_RETRY);
	assert_int_equal(g.token_calls, 4);
	/* renew: a new one whatever the time */
	g.token_status_body[4] = GOOD("tok3", 3599);
	assert_int_equal(cc_oauth_header(a, true, &line, &call), CC_OK);
	assert_string_equal(line, "Authorization: Bearer tok3");
	assert_int_equal(g.token_calls, 5);
	cc_oauth_destroy(a);
}

static void test_token_errors(void **state)
{
	(void)state;
	struct cc_call call = { 0 };
	const char *line;
	/* 401 from Entra ID: an ERROR quoting its description */
	g.token_status_body[0] =
		"401 {\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid "
		"client secret provided. " SECRET "\",\"error_codes\":[7000215]}";
	struct cc_oauth *a = make(NULL);
	assert_int_equal(cc_oauth_header(a, false, &line, &call), CC_ERROR);
	assert_null(line);
	assert_non_null(strstr(call.reason, "HTTP 401 invalid_client: AADSTS7000215: Invalid"));
	assert_null(strstr(call.reason, SECRET));
	assert_null(strstr(g.last_form, "scope"));
	cc_oauth_destroy(a);

	/* 400 */
	memset(&g, 0, sizeof(g));
	g.token_status_body[0] = "400 {\"error\":\"invalid_scope\",\"error_description\":\"AADSTS1002012: "
	                         "The provided value for scope x is not valid.\"}";
	a = make("x");
	memset(&call, 0, sizeof(call));
	assert_int_equal(cc_oauth_header(a, false, &line, &call), CC_ERROR);
	assert_non_null(strstr(call.reason, "test token request: HTTP 400 invalid_scope: AADSTS1002012"));
	cc_oauth_destroy(a);

	/* a 200 of the wrong shape: malformed, RETRY */
	memset(&g, 0, sizeof(g));
	g.token_status_body[0] = "200 {\"token_type\":\"Bearer\",\"access_token\":\"abc\"}";
	a = make(NULL);
	memset(&call, 0, sizeof(call));
	assert_int_equal(cc_oauth_header(a, false, &line, &call), CC_RETRY);
	assert_non_null(strstr(call.reason, "test token request: malformed answer: no expires_in"));
	cc_oauth_destroy(a);

	/* a 503: RETRY, named */
	memset(&g, 0, sizeof(g));
	g.token_status_body[0] = "503 busy";
	a = make(NULL);
	memset(&call, 0, sizeof(call));
	assert_int_equal(cc_oauth_header(a, false, &line, &call), CC_RETRY);
	assert_non_null(strstr(call.reason, "test token request: HTTP 503"));
	cc_oauth_destroy(a);
}

/* ---- the HTTP client with the hook: every request carries it, 401 renews once ---- */

static struct cc_http_client *api_client(struct cc_oauth *a, struct cc_http_auth *auth)
{
	*auth = cc_oauth_auth(a);
	struct cc_http_options o = { .base_url = "https://management.example",
		                     .auth = auth, .transport = &g_transport };
	struct cc_http_client *c = NULL;
	char err[128];
	assert_int_equal(cc_http_client_create(&c, &o, err, sizeof(err)), 0);
	return c;
}

static void test_client_renews_once(void **state)
{
	(void)state;
	g.token_status_body[0] = GOOD("tokA", 3599);
	g.token_status_body[1] = GOOD("tokB", 3599);
	struct cc_oauth *a = make(NULL);
	struct cc_http_auth auth;
	struct cc_http_client *c = api_client(a, &auth);
	struct cc_http_response r;
	struct cc_call call = { 0 };

	/* first call: a token, then the request */
	assert_int_equal(cc_http_request(c, "list", "GET", "/x", NULL, &r, &call), CC_OK);
	cc_http_response_clear(&r);
	assert_int_equal(g.token_calls, 1);
	assert_int_equal(call.requests, 2);

	/* a 401: renewed once, sent again, OK */
	g.api_calls = 0;
	g.api_401_first = 1;
	memset(&call, 0, sizeof(call));
	assert_int_equal(cc_http_request(c, "read", "GET", "/y", NULL, &r, &call), CC_OK);
	cc_http_response_clear(&r);
	assert_int_equal(g.token_calls, 2);
	assert_int_equal(g.api_calls, 2);
	assert_int_equal(call.requests, 3);

	/* 401 twice: renewed once only, then the 401 is the answer (ERROR) */
	g.api_calls = 0;
	g.api_401_first = 2;
	g.token_status_body[2] = GOOD("tokC", 3599);
	memset(&call, 0, sizeof(call));
	assert_int_equal(cc_http_request(c, "read", "GET", "/y", NULL, &r, &call), CC_ERROR);
	cc_http_response_clear(&r);
	assert_int_equal(g.token_calls, 3);
	assert_int_equal(g.api_calls, 2);
	assert_non_null(strstr(call.reason, "HTTP 401"));

	/* a batch: one token for all, both sent */
	g.api_calls = 0;
	g.api_401_first = 0;
	struct cc_http_batch_item items[2] = { { .op = "list", .method = "GET", .path = "/a" },
		                               { .op = "list", .method = "GET", .path = "/b" } };
	cc_http_request_many(c, items, 2);
	assert_int_equal(items[0].call.result, CC_OK);
	assert_int_equal(items[1].call.result, CC_OK);
	cc_http_response_clear(&items[0].resp);
	cc_http_response_clear(&items[1].resp);
	assert_int_equal(g.token_calls, 3);

	/* the token endpoint failing: nothing sent, its answer is the call's */
	g.token_status_body[3] = "401 {\"error\":\"invalid_client\",\"error_description\":\"gone\"}";
	g_now_ms += 3600 * 1000LL;
	g.api_calls = 0;
	memset(&call, 0, sizeof(call));
	assert_int_equal(cc_http_request(c, "read", "GET", "/z", NULL, &r, &call), CC_ERROR);
	cc_http_response_clear(&r);
	assert_int_equal(g.api_calls, 0);
	assert_non_null(strstr(call.reason, "invalid_client: gone"));
	cc_http_client_destroy(c);
	cc_oauth_destroy(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_form, setup),
		cmocka_unit_test_setup(test_parse, setup),
		cmocka_unit_test_setup(test_refresh_at, setup),
		cmocka_unit_test_setup(test_redaction_patterns, setup),
		cmocka_unit_test_setup(test_kept_then_refreshed, setup),
		cmocka_unit_test_setup(test_token_errors, setup),
		cmocka_unit_test_setup(test_client_renews_once, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
