/*
 * Unit tests of src/http/client.c against a real HTTP server: libmicrohttpd,
 * started by the test on 127.0.0.1 on an ephemeral port, answering by path.
 * They cover the mapping of answers to results (2xx, 201 with Location, 404,
 * 409/412, 429 and 503 with Retry-After in seconds and as an HTTP date, 500,
 * a redirect that is not followed), the Date header, the hold after
 * Retry-After and after X-RateLimit-Remaining: 0 (answered without reaching
 * the server, then lifted), timeouts and dropped connections (outcome
 * unknown for writes only), a refused connection, the body cap (with and
 * without Content-Length), the authentication header and request bodies as
 * the server sees them, connection reuse, the token bucket (spacing and
 * burst), the per-operation counters, options checks and cc_http_escape;
 * and batches (cc_http_request_many): concurrency and its timing, per-item
 * results in a mixed batch, the hold set by one answer stopping the items
 * not yet started, the API budget of a batch, and connections reused
 * within and across batches. Any path takes ?delay=<ms> so that requests
 * overlap on the server.
 *
 * Every wait is bounded: the slow handler sleeps at most two seconds and
 * stops early when the server is stopping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http/client.h"
#include "core/redact.h"

#define FIXED_DATE "Tue, 14 May 2024 10:00:00 GMT"
#define FIXED_DATE_S 1715680800
#define BIG_BODY (64 * 1024)
#define UPLOAD_MAX 4096
#define TOKEN "s3cret-token-do-not-log"

/* ---- the server ---- */

struct upload {
	char body[UPLOAD_MAX + 1];
	size_t len;
};

static struct {
	struct MHD_Daemon *daemon;
	uint16_t port;
	char base_url[64];
	atomic_int hits;        /* requests that reached the handler */
	atomic_int connections; /* TCP connections accepted */
	atomic_int in_flight;   /* requests with ?delay being answered right now */
	atomic_int max_in_flight; /* the most at once since the last reset */
	atomic_bool stopping;
	pthread_mutex_t mu;     /* guards the last request below */
	char last_auth[256];
	char last_method[16];
	char last_ctype[64];
	char last_body[UPLOAD_MAX + 1];
} srv;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static ssize_t big_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	if (pos >= BIG_BODY)
		return MHD_CONTENT_READER_END_OF_STREAM;
	size_t n = BIG_BODY - (size_t)pos < max ? BIG_BODY - (size_t)pos : max;
	memset(buf, 'b', n);
	return (ssize_t)n;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *body,
                             const char *const *headers)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(body), (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	for (size_t i = 0; headers && headers[i]; i += 2)
		MHD_add_response_header(r, headers[i], headers[i + 1]);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer(struct MHD_Connection *conn, const char *url);

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_data_size,
                               void **con_cls)
{
	(void)cls;
	(void)version;
	struct upload *u = *con_cls;
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u)
			return MHD_NO;
		*con_cls = u;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		if (n > UPLOAD_MAX - u->len)
			n = UPLOAD_MAX - u->len;
		memcpy(u->body + u->len, upload_data, n);
		u->len += n;
		*upload_data_size = 0;
		return MHD_YES;
	}

	atomic_fetch_add(&srv.hits, 1);
	pthread_mutex_lock(&srv.mu);
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	const char *ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	snprintf(srv.last_auth, sizeof(srv.last_auth), "%s", auth ? auth : "");
	snprintf(srv.last_ctype, sizeof(srv.last_ctype), "%s", ctype ? ctype : "");
	snprintf(srv.last_method, sizeof(srv.last_method), "%s", method);
	memcpy(srv.last_body, u->body, u->len + 1);
	pthread_mutex_unlock(&srv.mu);

	/* Any path takes ?delay=<ms> (at most 2 s): the answer comes that much
	 * later. Only these requests count in in_flight, so that a /slow one
	 * left over from an earlier test does not. */
	const char *delay = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "delay");
	if (!delay)
		return answer(conn, url);
	int now_in = atomic_fetch_add(&srv.in_flight, 1) + 1;
	int seen = atomic_load(&srv.max_in_flight);
	while (now_in > seen && !atomic_compare_exchange_weak(&srv.max_in_flight, &seen, now_in))
		;
	long ms = strtol(delay, NULL, 10);
	int64_t until = now_ms() + (ms < 2000 ? ms : 2000);
	while (now_ms() < until && !atomic_load(&srv.stopping))
		sleep_ms(5);
	enum MHD_Result ret = answer(conn, url);
	atomic_fetch_sub(&srv.in_flight, 1);
	return ret;
}

static enum MHD_Result answer(struct MHD_Connection *conn, const char *url)
{
	if (!strcmp(url, "/guarded")) {
		/* a conditional write: only while the ETag is still "7" */
		const char *im = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-Match");
		if (!im)
			return reply(conn, 428, "{\"error\":\"If-Match required\"}", NULL);
		return strcmp(im, "\"7\"") == 0
		               ? reply(conn, 200, "{}", (const char *const[]){ "ETag", "\"8\"", NULL })
		               : reply(conn, 412, "{\"error\":\"stale\"}", NULL);
	}
	if (!strcmp(url, "/ok") || !strcmp(url, "/echo"))
		return reply(conn, 200, "{\"ok\":true}",
		             (const char *const[]){ "Date", FIXED_DATE, NULL });
	if (!strcmp(url, "/created"))
		return reply(conn, 201, "{\"id\":42}",
		             (const char *const[]){ "Location", "/items/42", "ETag", "W/\"1245\"",
		                                    NULL });
	if (!strcmp(url, "/missing")) {
		char body[400];
		int n = snprintf(body, sizeof(body), "{\"error\":\"not found\",\n\"detail\":\"");
		memset(body + n, 'x', 300);
		body[n + 300] = '\0';
		return reply(conn, 404, body, NULL);
	}
	if (!strcmp(url, "/conflict"))
		return reply(conn, 409, "{\"error\":\"version mismatch\"}", NULL);
	if (!strcmp(url, "/precondition"))
		return reply(conn, 412, "", NULL);
	if (!strcmp(url, "/limited"))
		return reply(conn, 429, "slow down",
		             (const char *const[]){ "Retry-After", "2", NULL });
	if (!strcmp(url, "/unavailable"))
		return reply(conn, 503, "maintenance",
		             (const char *const[]){ "Date", FIXED_DATE, "Retry-After",
		                                    "Tue, 14 May 2024 10:00:03 GMT", NULL });
	if (!strcmp(url, "/broken"))
		return reply(conn, 500, "internal error", NULL);
	if (!strcmp(url, "/slow")) {
		for (int i = 0; i < 100 && !atomic_load(&srv.stopping); i++)
			sleep_ms(20);
		return reply(conn, 200, "{}", NULL);
	}
	if (!strcmp(url, "/big")) {
		char *body = malloc(BIG_BODY + 1);
		if (!body)
			return MHD_NO;
		memset(body, 'a', BIG_BODY);
		body[BIG_BODY] = '\0';
		enum MHD_Result ret = reply(conn, 200, body, NULL);
		free(body);
		return ret;
	}
	if (!strcmp(url, "/big-chunked")) {
		struct MHD_Response *r =
			MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, big_reader, NULL, NULL);
		if (!r)
			return MHD_NO;
		enum MHD_Result ret = MHD_queue_response(conn, 200, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (!strcmp(url, "/quota"))
		return reply(conn, 200, "{}",
		             (const char *const[]){ "X-RateLimit-Remaining", "0",
		                                    "X-RateLimit-Reset", "1", NULL });
	if (!strcmp(url, "/quota-epoch")) {
		char reset[32];
		snprintf(reset, sizeof(reset), "%d", FIXED_DATE_S + 2);
		return reply(conn, 200, "{}",
		             (const char *const[]){ "Date", FIXED_DATE, "X-RateLimit-Remaining", "0",
		                                    "X-RateLimit-Reset", reset, NULL });
	}
	if (!strcmp(url, "/quota-left"))
		return reply(conn, 200, "{}",
		             (const char *const[]){ "X-RateLimit-Remaining", "7",
		                                    "X-RateLimit-Reset", "60", NULL });
	if (!strcmp(url, "/redirect"))
		return reply(conn, 302, "",
		             (const char *const[]){ "Location", "http://127.0.0.1:1/elsewhere", NULL });
	if (!strcmp(url, "/drop"))
		return MHD_NO; /* closes the connection without an answer */
	if (!strcmp(url, "/echo-auth")) {
		/* a hostile or careless server quoting the request's credentials */
		const char *a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
		char body[512];
		snprintf(body, sizeof(body), "denied; you sent Authorization: %s and token=%s", a ? a : "",
		         a && strchr(a, ' ') ? strchr(a, ' ') + 1 : "");
		return reply(conn, 401, body, NULL);
	}
	if (!strcmp(url, "/odd-retry"))
		return reply(conn, 429, "busy", (const char *const[]){ "Retry-After", "1.5e3", NULL });
	if (!strcmp(url, "/huge-retry"))
		return reply(conn, 429, "busy",
		             (const char *const[]){ "Retry-After", "99999999999", NULL });
	return reply(conn, 404, "no route", NULL);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
	(void)cls;
	(void)conn;
	(void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&srv.connections, 1);
}

static int server_start(void **state)
{
	(void)state;
	pthread_mutex_init(&srv.mu, NULL);
	atomic_store(&srv.stopping, false);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
		handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_NOTIFY_CONNECTION,
		on_connection, NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
	if (!srv.daemon)
		return -1;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv.daemon, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || !info->port)
		return -1;
	srv.port = info->port;
	snprintf(srv.base_url, sizeof(srv.base_url), "http://127.0.0.1:%u", (unsigned)srv.port);
	return 0;
}

static int server_stop(void **state)
{
	(void)state;
	atomic_store(&srv.stopping, true);
	if (srv.daemon)
		MHD_stop_daemon(srv.daemon);
	srv.daemon = NULL;
	pthread_mutex_destroy(&srv.mu);
	return 0;
}

/* ---- helpers ---- */

static struct cc_http_client *client_with(struct cc_http_options o)
{
	if (!o.base_url)
		o.base_url = srv.base_url;
	if (!o.timeout_ms)
		o.timeout_ms = 5000;
	struct cc_http_client *c = NULL;
	char err[128] = "";
	int rc = cc_http_client_create(&c, &o, err, sizeof(err));
	if (rc != 0)
		fail_msg("cc_http_client_create: %s", err);
	return c;
}

static struct cc_http_client *client_default(void)
{
	return client_with((struct cc_http_options){ 0 });
}

/* One request with fresh response and call; returns the result. */
static enum cc_result request(struct cc_http_client *c, const char *op, const char *method,
                              const char *path, const char *body,
                              struct cc_http_response *resp, struct cc_call *call)
{
	memset(call, 0, sizeof(*call));
	return cc_http_request(c, op, method, path, body, resp, call);
}

/* ---- tests ---- */

static void test_ok_with_date(void **state)
{
	(void)state;
	struct cc_http_client *c = client_default();
	struct cc_http_response resp;
	struct cc_call call;
	assert_int_equal(request(c, "read", "GET", "/ok", NULL, &resp, &call), CC_OK);
	assert_int_equal(call.result, CC_OK);
	assert_int_equal(resp.status, 200);
	assert_non_null(resp.body);
	assert_string_equal(resp.body, "{\"ok\":true}");
	assert_int_equal(resp.len, strlen("{\"ok\":true}"));
	assert_true(resp.has_date);
	assert_int_equal(resp.date_s, FIXED_DATE_S);
	assert_true(call.has_date);
	assert_int_equal(call.date_s, FIXED_DATE_S);
	assert_int_equal(call.requests, 1);
	assert_false(call.outcome_unknown);
	assert_int_equal(call.retry_after_ms, 0);
	assert_string_equal(call.reason, "");
	assert_null(resp.location);
	cc_http_response_clear(&resp);
	assert_null(resp.body);

	/* the response is optional */
	assert_int_equal(request(c, "read", "GET", "/ok", NULL, NULL, &call), CC_OK);
	cc_http_client_destroy(c);
}

static void test_if_match(void **state)
{
	(void)state;
	struct cc_http_client *c =
		client_with((struct cc_http_options){ .auth_header = "Authorization: Bearer " TOKEN });
	struct cc_http_response resp;
	struct cc_call call;
	memset(&call, 0, sizeof(call));
	assert_int_equal(cc_http_request_if_match(c, "update", "PUT", "/guarded", "{}", "7", &resp,
	                                          &call), CC_OK);
	assert_string_equal(resp.etag, "8");
	/* the Authorization header still goes with it */
	assert_string_equal(srv.last_auth, "Bearer " TOKEN);
	cc_http_response_clear(&resp);
	assert_int_equal(cc_http_request_if_match(c, "update", "PUT", "/guarded", "{}", "6", &resp,
	                                          &call), CC_CONFLICT);
	assert_int_equal(resp.status, 412);
	cc_http_response_clear(&resp);
	/* without it the server refuses: If-Match is not sent by plain requests */
	assert_int_equal(cc_http_request(c, "update", "PUT", "/guarded", "{}", &resp, &call),
	                 CC_ERROR);
	assert_int_equal(resp.status, 428);
	cc_http_response_clear(&resp);
	/* a tag that would break the header is refused before sending */
	uint64_t sent = cc_http_requests(c, NULL);
	assert_int_equal(cc_http_request_if_match(c, "update", "PUT", "/guarded", "{}", "7\"\r\nX: 1",
	                                          &resp, &call), CC_ERROR);
	assert_int_equal(cc_http_requests(c, NULL), sent);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);
}

static void test_created_location(void **state)
{
	(void)state;
	struct cc_http_client *c = client_default();
	struct cc_http_response resp;
	struct cc_call call;
	assert_int_equal(request(c, "create", "POST", "/created", "{\"title\":\"x\"}", &resp, &call),
	                 CC_OK);
	assert_int_equal(resp.status, 201);
	assert_non_null(resp.location);
	assert_string_equal(resp.location, "/items/42");
	assert_string_equal(resp.etag, "1245"); /* W/"1245": the tag alone */
	assert_string_equal(resp.body, "{\"id\":42}");
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);
}

static void test_not_found_is_error_with_short_reason(void **state)
{
	(void)state;
	struct cc_http_client *c =
		client_with((struct cc_http_options){ .auth_header = "Authorization: Bearer " TOKEN });
	struct cc_http_response resp;
	struct cc_call call;
	assert_int_equal(request(c, "read", "GET", "/missing", NULL, &resp, &call), CC_ERROR);
	assert_int_equal(resp.status, 404);
	assert_false(call.outcome_unknown);
	assert_int_equal(strncmp(call.reason, "HTTP 404: {\"error\":\"not found\", \"detail\"", 40),
	                 0);
	/* status, at most 120 bytes of the body, and an ellipsis */
	assert_true(strlen(call.reason) <= strlen("HTTP 404: ") + 120 + 3);
	assert_null(strchr(call.reason, '\n'));
	assert_null(strstr(call.reason, TOKEN));
	assert_null(strstr(call.reason, "Authorization"));
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);
}

static void test_conflicts(void **state)
{
	(void)state;
	struct cc_http_client *c = client_default();
	struct cc_http_response resp;
	struct cc_call call;
	assert_int_equal(request(c, "update", "PUT", "/conflict", "{}", &resp, &call), CC_CONFLICT);
	assert_int_equal(resp.status, 409);
	assert_non_null(strstr(call.reason, "409"));
	cc_http_response_clear(&resp);
	assert_int_equal(request(c, "update", "PUT", "/precondition", "{}", &resp, &call),
	                 CC_CONFLICT);
	assert_int_equal(resp.status, 412);
	assert_string_equal(call.reason, "HTTP 412");
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);
}

static void test_retry_after_holds_requests(void **state)
{
	(void)state;
	struct cc_http_client *c = client_default();
	struct cc_http_response resp;
	struct cc_call call;
	int hits = atomic_load(&srv.hits);
	assert_int_equal(request(c, "update", "PUT", "/limited", "{}", &resp, &call), CC_RETRY);
	assert_int_equal(resp.status, 429);
	assert_int_equal(call.retry_after_ms, 2000);
	assert_false(call.outcome_unknown);
	assert_int_equal(call.requests, 1);
	assert_int_equal(atomic_load(&srv.hits), hits + 1);
	cc_http_response_clear(&resp);

	/* held: answered at once, nothing sent, nothing counted */
	assert_int_equal(request(c, "read", "GET", "/ok", NULL, &resp, &call), CC_RETRY);
	assert_true(call.retry_after_ms > 0 && call.retry_after_ms <= 2000);
	assert_int_equal(call.requests, 0);
	assert_int_equal(resp.status, 0);
	assert_null(resp.body);
	assert_int_equal(atomic_load(&srv.hits), hits + 1);
	assert_int_equal(cc_http_requests(c, NULL), 1);
	assert_int_equal(cc_http_requests(c, "read"), 0);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);
}

static void test_unavailable_with_http_date(void **state)
{
	(void)state;
	struct cc_http_client *c = client_default();
	struct cc_http_response resp;
	struct cc_call call;
	/* Retry-After as an HTTP date, measured against the answer's own Date */
	assert_int_equal(request(c, "list", "GET", "/unavailable", NULL, &resp, &call), CC_RETRY);
	assert_int_equal(resp.status, 503);
	assert_int_equal(call.retry_after_ms, 3000);
	assert_true(call.has_date);
	cc_http_response_clear(&resp);
	int hits = atomic_load(&srv.hits);
	assert_int_equal(request(c, "list", "GET", "/ok", NULL, &resp, &call), CC_RETRY);
	assert_int_equal(atomic_load(&srv.hits), hits);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);
}

static void test_server_error_is_retry(void **state)
{
	(void)state;
	struct cc_http_client *c = client_default();
	struct cc_http_response resp;
	struct cc_call call;
	assert_int_equal(request(c, "create", "POST", "/broken", "{}", &resp, &call), CC_RETRY);
	assert_int_equal(resp.status, 500);
	assert_int_equal(call.retry_after_ms, 0);
	assert_string_equal(call.reason, "HTTP 500: internal error");
	cc_http_response_clear(&resp);
	/* no hold after a 5xx without Retry-After */
	assert_int_equal(request(c, "read", "GET", "/ok", NULL, &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);
}

static void test_redirect_not_followed(void **state)
{
	(void)state;
	struct cc_http_client *c = client_default();
	struct cc_http_response resp;
	struct cc_call call;
	int hits = atomic_load(&srv.hits);
	assert_int_equal(request(c, "read", "GET", "/redirect", NULL, &resp, &call), CC_ERROR);
	assert_int_equal(resp.status, 302);
	assert_int_equal(atomic_load(&srv.hits), hits + 1);
	assert_int_equal(call.requests, 1);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);
}

static void test_timeout(void **state)
{
	(void)state;
	struct cc_http_client *c = client_with((struct cc_http_options){ .timeout_ms = 300 });
	struct cc_http_response resp;
	struct cc_call call;
	int64_t t0 = now_ms();
	assert_int_equal(request(c, "read", "GET", "/slow", NULL, &resp, &call), CC_RETRY);
	assert_false(call.outcome_unknown);
	assert_int_equal(resp.status, 0);
	assert_true(now_ms() - t0 < 1500);
	cc_http_response_clear(&resp);

	assert_int_equal(request(c, "create", "POST", "/slow", "{}", &resp, &call), CC_RETRY);
	assert_true(call.outcome_unknown);
	assert_int_equal(call.retry_after_ms, 0);
	assert_true(strlen(call.reason) > 0);
	cc_http_response_clear(&resp);

	assert_int_equal(request(c, "update", "PUT", "/slow", "{}", &resp, &call), CC_RETRY);
	assert_true(call.outcome_unknown);
	cc_http_response_clear(&resp);

	/* the client is still usable */
	assert_int_equal(request(c, "read", "GET", "/ok", NULL, &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);
}

static void test_dropped_connection(void **state)
{
	(void)state;
	struct cc_http_client *c = client_default();
	struct cc_http_response resp;
	struct cc_call call;
	assert_int_equal(request(c, "read", "GET", "/drop", NULL, &resp, &call), CC_RETRY);
	assert_false(call.outcome_unknown);
	cc_http_response_clear(&resp);
	assert_int_equal(request(c, "comment", "POST", "/drop", "{}", &resp, &call), CC_RETRY);
	assert_true(call.outcome_unknown);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);
}

/*
 * A POST or PATCH is sent on a connection of its own: libcurl sends a
 * request again by itself when a connection it reused dies before any
 * answer, and a server that applied the request and then closed without
 * answering would apply it twice (two records from one create).
 */
static void test_write_never_sent_twice(void **state)
{
	(void)state;
	struct cc_http_client *c = client_default();
	struct cc_http_response resp;
	struct cc_call call;
	const char *methods[] = { "POST", "PATCH" };
	for (int i = 0; i < 2; i++) {
		/* a connection to reuse */
		assert_int_equal(request(c, "read", "GET", "/ok", NULL, &resp, &call), CC_OK);
		cc_http_response_clear(&resp);
		int before = atomic_load(&srv.hits);
		assert_int_equal(request(c, "create", methods[i], "/drop", "{}", &resp, &call),
		                 CC_RETRY);
		assert_true(call.outcome_unknown);
		cc_http_response_clear(&resp);
		if (atomic_load(&srv.hits) - before != 1)
			fail_msg("%s reached the server %d times", methods[i],
			         atomic_load(&srv.hits) - before);
	}
	cc_http_client_destroy(c);
}

static void test_connection_refused(void **state)
{
	(void)state;
	/* a port nobody listens on: bind one, note it, close it */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	socklen_t sl = sizeof(sa);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));

	struct cc_http_client *c =
		client_with((struct cc_http_options){ .base_url = url, .connect_timeout_ms = 1000 });
	struct cc_http_response resp;
	struct cc_call call;
	assert_int_equal(request(c, "create", "POST", "/created", "{}", &resp, &call), CC_RETRY);
	assert_false(call.outcome_unknown); /* never left the hub */
	assert_int_equal(resp.status, 0);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);
}

static void test_body_too_large(void **state)
{
	(void)state;
	struct cc_http_client *c = client_with((struct cc_http_options){ .max_body = 4096 });
	struct cc_http_response resp;
	struct cc_call call;
	assert_int_equal(request(c, "list", "GET", "/big", NULL, &resp, &call), CC_ERROR);
	assert_non_null(strstr(call.reason, "response too large"));
	assert_null(resp.body);
	cc_http_response_clear(&resp);
	/* without Content-Length the cap is enforced while reading */
	assert_int_equal(request(c, "list", "GET", "/big-chunked", NULL, &resp, &call), CC_ERROR);
	assert_non_null(strstr(call.reason, "response too large"));
	assert_null(resp.body);
	cc_http_response_clear(&resp);
	/* a body within the cap still passes */
	assert_int_equal(request(c, "read", "GET", "/ok", NULL, &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);

	/* and the default cap takes a 64 KiB body */
	c = client_default();
	assert_int_equal(request(c, "list", "GET", "/big-chunked", NULL, &resp, &call), CC_OK);
	assert_int_equal(resp.len, BIG_BODY);
	assert_int_equal(resp.body[BIG_BODY - 1], 'b');
	assert_int_equal(resp.body[BIG_BODY], '\0');
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);
}

static void test_rate_limit_remaining_zero(void **state)
{
	(void)state;
	struct cc_http_client *c = client_default();
	struct cc_http_response resp;
	struct cc_call call;
	int hits = atomic_load(&srv.hits);
	/* the answer itself is fine; the budget is spent until Reset (1 s) */
	assert_int_equal(request(c, "list", "GET", "/quota", NULL, &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	assert_int_equal(request(c, "read", "GET", "/ok", NULL, &resp, &call), CC_RETRY);
	assert_true(call.retry_after_ms > 0 && call.retry_after_ms <= 1000);
	assert_int_equal(call.requests, 0);
	assert_int_equal(atomic_load(&srv.hits), hits + 1);
	cc_http_response_clear(&resp);
	/* after the reset, requests go out again */
	sleep_ms((long)call.retry_after_ms + 50);
	assert_int_equal(request(c, "read", "GET", "/ok", NULL, &resp, &call), CC_OK);
	assert_int_equal(atomic_load(&srv.hits), hits + 2);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);

	/* Reset as epoch seconds, against the answer's Date */
	c = client_default();
	assert_int_equal(request(c, "list", "GET", "/quota-epoch", NULL, &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	assert_int_equal(request(c, "read", "GET", "/ok", NULL, &resp, &call), CC_RETRY);
	assert_true(call.retry_after_ms > 1000 && call.retry_after_ms <= 2000);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);

	/* budget left: no hold */
	c = client_default();
	assert_int_equal(request(c, "list", "GET", "/quota-left", NULL, &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	assert_int_equal(request(c, "read", "GET", "/ok", NULL, &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);
}

static void test_auth_and_bodies_reach_server(void **state)
{
	(void)state;
	struct cc_http_client *c =
		client_with((struct cc_http_options){ .auth_header = "Authorization: Bearer " TOKEN });
	struct cc_http_response resp;
	struct cc_call call;

	assert_int_equal(request(c, "read", "GET", "/echo", NULL, &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	pthread_mutex_lock(&srv.mu);
	assert_string_equal(srv.last_auth, "Bearer " TOKEN);
	assert_string_equal(srv.last_method, "GET");
	assert_string_equal(srv.last_body, "");
	pthread_mutex_unlock(&srv.mu);

	assert_int_equal(request(c, "create", "POST", "/echo", "{\"a\":1}", &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	pthread_mutex_lock(&srv.mu);
	assert_string_equal(srv.last_method, "POST");
	assert_string_equal(srv.last_ctype, "application/json");
	assert_string_equal(srv.last_body, "{\"a\":1}");
	assert_string_equal(srv.last_auth, "Bearer " TOKEN);
	pthread_mutex_unlock(&srv.mu);

	assert_int_equal(request(c, "update", "PUT", "/echo", "{\"b\":2}", &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	pthread_mutex_lock(&srv.mu);
	assert_string_equal(srv.last_method, "PUT");
	assert_string_equal(srv.last_body, "{\"b\":2}");
	pthread_mutex_unlock(&srv.mu);

	assert_int_equal(request(c, "delete", "DELETE", "/echo", NULL, &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	pthread_mutex_lock(&srv.mu);
	assert_string_equal(srv.last_method, "DELETE");
	assert_string_equal(srv.last_body, "");
	assert_string_equal(srv.last_ctype, "");
	pthread_mutex_unlock(&srv.mu);

	/* a larger body goes out whole, without an Expect: 100-continue round trip */
	char big[3001];
	memset(big, 'z', 3000);
	big[0] = '"';
	big[2999] = '"';
	big[3000] = '\0';
	assert_int_equal(request(c, "create", "POST", "/echo", big, &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	pthread_mutex_lock(&srv.mu);
	assert_string_equal(srv.last_body, big);
	pthread_mutex_unlock(&srv.mu);

	/* an unsupported method is refused without sending */
	int hits = atomic_load(&srv.hits);
	assert_int_equal(request(c, "x", "TRACE", "/echo", "{}", &resp, &call), CC_ERROR);
	assert_int_equal(atomic_load(&srv.hits), hits);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);

	/* without an auth header, none is sent */
	c = client_default();
	assert_int_equal(request(c, "read", "GET", "/echo", NULL, &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	pthread_mutex_lock(&srv.mu);
	assert_string_equal(srv.last_auth, "");
	pthread_mutex_unlock(&srv.mu);
	cc_http_client_destroy(c);
}

/* An auth hook: a header that changes, asked for before each call. */
static int g_hook_calls, g_hook_renews;
static enum cc_result hook(void *ctx, bool renew, const char **line, struct cc_call *call)
{
	(void)ctx;
	(void)call;
	g_hook_calls++;
	g_hook_renews += renew;
	*line = renew ? "Authorization: Bearer renewed-token-2" : "Authorization: Bearer first-token-1";
	return CC_OK;
}

static void test_auth_hook_and_form(void **state)
{
	(void)state;
	g_hook_calls = g_hook_renews = 0;
	struct cc_http_auth auth = { .header = hook };
	struct cc_http_client *c = client_with((struct cc_http_options){ .auth = &auth });
	struct cc_http_response resp;
	struct cc_call call = { 0 };
	assert_int_equal(request(c, "read", "GET", "/echo", NULL, &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	pthread_mutex_lock(&srv.mu);
	assert_string_equal(srv.last_auth, "Bearer first-token-1");
	pthread_mutex_unlock(&srv.mu);
	assert_int_equal(g_hook_calls, 1);

	/* a form goes with its content type, and the header */
	assert_int_equal(cc_http_request_form(c, "token", "/echo", "a=1&b=%20", &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	pthread_mutex_lock(&srv.mu);
	assert_string_equal(srv.last_method, "POST");
	assert_string_equal(srv.last_ctype, "application/x-www-form-urlencoded");
	assert_string_equal(srv.last_body, "a=1&b=%20");
	pthread_mutex_unlock(&srv.mu);

	/* a 401: renewed once and sent again, still 401: the answer, renewed token redacted */
	int hits = atomic_load(&srv.hits);
	memset(&call, 0, sizeof(call));
	assert_int_equal(request(c, "read", "GET", "/echo-auth", NULL, &resp, &call), CC_ERROR);
	cc_http_response_clear(&resp);
	assert_int_equal(atomic_load(&srv.hits), hits + 2);
	assert_int_equal(g_hook_renews, 1);
	assert_int_equal(call.requests, 2);
	pthread_mutex_lock(&srv.mu);
	assert_string_equal(srv.last_auth, "Bearer renewed-token-2");
	pthread_mutex_unlock(&srv.mu);
	assert_null(strstr(call.reason, "renewed-token-2"));
	cc_http_client_destroy(c);
}

static void test_connection_reused(void **state)
{
	(void)state;
	struct cc_http_client *c = client_default();
	struct cc_http_response resp;
	struct cc_call call;
	int before = atomic_load(&srv.connections);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(request(c, "read", "GET", "/ok", NULL, &resp, &call), CC_OK);
		cc_http_response_clear(&resp);
	}
	assert_int_equal(request(c, "update", "PUT", "/created", "{}", &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	assert_int_equal(atomic_load(&srv.connections), before + 1);
	/* a POST gets a connection of its own (test_write_never_sent_twice) */
	assert_int_equal(request(c, "create", "POST", "/created", "{}", &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	assert_int_equal(atomic_load(&srv.connections), before + 2);
	cc_http_client_destroy(c);
}

static void test_rate_limiter_spaces_requests(void **state)
{
	(void)state;
	struct cc_http_client *c =
		client_with((struct cc_http_options){ .rate_per_sec = 20, .burst = 1 });
	struct cc_http_response resp;
	struct cc_call call;
	int64_t t0 = now_ms();
	for (int i = 0; i < 5; i++) {
		assert_int_equal(request(c, "read", "GET", "/ok", NULL, &resp, &call), CC_OK);
		cc_http_response_clear(&resp);
	}
	int64_t elapsed = now_ms() - t0;
	assert_true(elapsed >= 150); /* four waits of 50 ms */
	assert_true(elapsed < 5000);
	cc_http_client_destroy(c);

	/* a burst of 3 at 1/s goes out at once; the fourth waits about a second */
	c = client_with((struct cc_http_options){ .rate_per_sec = 1, .burst = 3 });
	t0 = now_ms();
	for (int i = 0; i < 3; i++) {
		assert_int_equal(request(c, "read", "GET", "/ok", NULL, &resp, &call), CC_OK);
		cc_http_response_clear(&resp);
	}
	assert_true(now_ms() - t0 < 900);
	assert_int_equal(request(c, "read", "GET", "/ok", NULL, &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	assert_true(now_ms() - t0 >= 900);
	cc_http_client_destroy(c);
}

/*
 * Two clients of one system sharing a pace (a system's deliveries at once):
 * one token bucket between them, and a 429 answered to one holds the other.
 * Each with its own pace, neither would wait.
 */
static void test_shared_pace(void **state)
{
	(void)state;
	struct cc_http_pace *pace = NULL;
	assert_int_equal(cc_http_pace_create(&pace, 1, 2), 0);
	struct cc_http_client *a = client_with((struct cc_http_options){ .pace = pace });
	struct cc_http_client *b = client_with((struct cc_http_options){ .pace = pace });
	struct cc_http_response resp;
	struct cc_call call;
	int64_t t0 = now_ms();
	/* the burst of 2 spent by a ... */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(request(a, "read", "GET", "/ok", NULL, &resp, &call), CC_OK);
		cc_http_response_clear(&resp);
	}
	assert_true(now_ms() - t0 < 900);
	/* ... so b waits for the next token, about a second */
	assert_int_equal(request(b, "read", "GET", "/ok", NULL, &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	assert_true(now_ms() - t0 >= 900);
	cc_http_client_destroy(a);
	cc_http_client_destroy(b);
	cc_http_pace_destroy(pace);

	/* a 429 with Retry-After to a: b sends nothing until it ends */
	assert_int_equal(cc_http_pace_create(&pace, 0, 0), 0);
	a = client_with((struct cc_http_options){ .pace = pace });
	b = client_with((struct cc_http_options){ .pace = pace });
	assert_int_equal(request(a, "read", "GET", "/limited", NULL, &resp, &call), CC_RETRY);
	cc_http_response_clear(&resp);
	int hits = atomic_load(&srv.hits);
	assert_int_equal(request(b, "read", "GET", "/ok", NULL, &resp, &call), CC_RETRY);
	assert_true(call.retry_after_ms > 0 && call.retry_after_ms <= 2000);
	assert_int_equal(call.requests, 0);
	assert_int_equal(atomic_load(&srv.hits), hits);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(a);
	cc_http_client_destroy(b);
	cc_http_pace_destroy(pace);
}

static void test_request_counters(void **state)
{
	(void)state;
	struct cc_http_client *c = client_default();
	struct cc_http_response resp;
	struct cc_call call;
	const struct {
		const char *op, *method, *path;
	} plan[] = {
		{ "read", "GET", "/ok" },      { "read", "GET", "/missing" },
		{ "create", "POST", "/created" }, { "list", "GET", "/ok" },
		{ "read", "GET", "/ok" },      { NULL, "GET", "/ok" },
	};
	for (size_t i = 0; i < sizeof(plan) / sizeof(plan[0]); i++) {
		request(c, plan[i].op, plan[i].method, plan[i].path,
		        strcmp(plan[i].method, "GET") ? "{}" : NULL, &resp, &call);
		cc_http_response_clear(&resp);
	}
	assert_int_equal(cc_http_requests(c, "read"), 3);
	assert_int_equal(cc_http_requests(c, "create"), 1);
	assert_int_equal(cc_http_requests(c, "list"), 1);
	assert_int_equal(cc_http_requests(c, "update"), 0);
	assert_int_equal(cc_http_requests(c, NULL), 6);
	assert_int_equal(cc_http_requests(NULL, "read"), 0);

	/* call.requests accumulates over the requests of one connector call */
	memset(&call, 0, sizeof(call));
	cc_http_request(c, "read", "GET", "/ok", NULL, NULL, &call);
	cc_http_request(c, "read", "GET", "/ok", NULL, NULL, &call);
	assert_int_equal(call.requests, 2);
	cc_http_client_destroy(c);
}

static void test_options_checked(void **state)
{
	(void)state;
	struct cc_http_client *c = (struct cc_http_client *)&c;
	char err[128] = "";
	assert_true(cc_http_client_create(&c, &(struct cc_http_options){ 0 }, err, sizeof(err)) <
	            0);
	assert_null(c);
	assert_non_null(strstr(err, "base_url"));

	struct cc_http_options o = { .base_url = srv.base_url,
		                     .auth_header = "Authorization: Bearer " TOKEN "\r\nX-Evil: 1" };
	err[0] = '\0';
	assert_true(cc_http_client_create(&c, &o, err, sizeof(err)) < 0);
	assert_null(strstr(err, TOKEN));
	o.auth_header = NULL;
	o.rate_per_sec = -1;
	assert_true(cc_http_client_create(&c, &o, err, sizeof(err)) < 0);

	/* a trailing slash on the base URL is dropped */
	char url[80];
	snprintf(url, sizeof(url), "%s/", srv.base_url);
	c = client_with((struct cc_http_options){ .base_url = url });
	struct cc_http_response resp;
	struct cc_call call;
	assert_int_equal(request(c, "read", "GET", "/echo", NULL, &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);
	cc_http_client_destroy(NULL);
	cc_http_response_clear(NULL);
}

static void test_escape(void **state)
{
	(void)state;
	char *e = cc_http_escape("a b&c=d/\xc3\xa9?");
	assert_non_null(e);
	assert_string_equal(e, "a%20b%26c%3Dd%2F%C3%A9%3F");
	free(e);
	e = cc_http_escape("concord-42_x.y~z");
	assert_string_equal(e, "concord-42_x.y~z");
	free(e);
	e = cc_http_escape("");
	assert_string_equal(e, "");
	free(e);
	assert_null(cc_http_escape(NULL));
}

/* ---- batches ---- */

static struct cc_http_batch_item get_item(const char *op, const char *path)
{
	return (struct cc_http_batch_item){ .op = op, .method = "GET", .path = path };
}

static void clear_items(struct cc_http_batch_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cc_http_response_clear(&items[i].resp);
}

/* Sends 4 requests of 300 ms each; returns the elapsed ms and the most seen at once. */
static int64_t timed_batch(int max_concurrency, int *most_at_once)
{
	struct cc_http_client *c =
		client_with((struct cc_http_options){ .max_concurrency = max_concurrency });
	struct cc_http_batch_item items[4];
	for (size_t i = 0; i < 4; i++)
		items[i] = get_item("read", "/ok?delay=300");
	atomic_store(&srv.max_in_flight, 0);
	int64_t t0 = now_ms();
	cc_http_request_many(c, items, 4);
	int64_t elapsed = now_ms() - t0;
	*most_at_once = atomic_load(&srv.max_in_flight);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(items[i].call.result, CC_OK);
		assert_int_equal(items[i].resp.status, 200);
		assert_string_equal(items[i].resp.body, "{\"ok\":true}");
		assert_true(items[i].call.has_date);
		assert_int_equal(items[i].call.requests, 1);
	}
	clear_items(items, 4);
	assert_int_equal(cc_http_requests(c, "read"), 4);
	cc_http_client_destroy(c);
	return elapsed;
}

static void test_batch_runs_concurrently(void **state)
{
	(void)state;
	int most4, most1;
	int64_t t4 = timed_batch(4, &most4);
	int64_t t1 = timed_batch(1, &most1);
	print_message("4 x 300 ms: %lld ms with max_concurrency 4 (%d at once), "
	              "%lld ms with 1 (%d at once)\n",
	              (long long)t4, most4, (long long)t1, most1);
	assert_true(t4 >= 300);
	assert_true(t4 < 900);
	assert_int_equal(most4, 4);
	assert_true(t1 >= 1200);
	assert_int_equal(most1, 1);
}

static void test_batch_concurrency_capped(void **state)
{
	(void)state;
	struct cc_http_client *c = client_with((struct cc_http_options){ .max_concurrency = 100 });
	struct cc_http_batch_item items[20];
	for (size_t i = 0; i < 20; i++)
		items[i] = get_item("list", "/ok?delay=100");
	atomic_store(&srv.max_in_flight, 0);
	cc_http_request_many(c, items, 20);
	for (size_t i = 0; i < 20; i++)
		assert_int_equal(items[i].call.result, CC_OK);
	clear_items(items, 20);
	int most = atomic_load(&srv.max_in_flight);
	assert_true(most > 4 && most <= 16);
	cc_http_client_destroy(c);

	/* the default is 4 */
	c = client_default();
	for (size_t i = 0; i < 8; i++)
		items[i] = get_item("list", "/ok?delay=100");
	atomic_store(&srv.max_in_flight, 0);
	cc_http_request_many(c, items, 8);
	clear_items(items, 8);
	assert_int_equal(atomic_load(&srv.max_in_flight), 4);
	cc_http_client_destroy(c);

	/* empty batches and a missing client */
	c = client_default();
	cc_http_request_many(c, NULL, 0);
	cc_http_request_many(c, items, 0);
	cc_http_client_destroy(c);
	items[0] = get_item("read", "/ok");
	cc_http_request_many(NULL, items, 1);
	assert_int_equal(items[0].call.result, CC_ERROR);
	assert_int_equal(items[0].call.requests, 0);

	char err[128];
	struct cc_http_options o = { .base_url = srv.base_url, .max_concurrency = -1 };
	assert_true(cc_http_client_create(&c, &o, err, sizeof(err)) < 0);
	assert_null(c);
}

static void test_batch_mixed_results(void **state)
{
	(void)state;
	struct cc_http_client *c = client_with((struct cc_http_options){ .max_concurrency = 4 });
	/* The first four start together; the 503 answers at once and sets a hold
	 * of 3 s while the others are still being answered, so the last two
	 * never start. */
	struct cc_http_batch_item items[] = {
		get_item("read", "/ok?delay=300"),
		get_item("read", "/missing?delay=300"),
		{ .op = "update", .method = "PUT", .path = "/conflict?delay=300", .json_body = "{}" },
		get_item("list", "/unavailable"),
		get_item("read", "/ok"),
		{ .op = "create", .method = "POST", .path = "/created", .json_body = "{}" },
	};
	size_t n = sizeof(items) / sizeof(items[0]);
	items[4].call.requests = 7; /* cleared by the batch */
	int hits = atomic_load(&srv.hits);
	cc_http_request_many(c, items, n);
	assert_int_equal(atomic_load(&srv.hits), hits + 4);

	assert_int_equal(items[0].call.result, CC_OK);
	assert_int_equal(items[0].resp.status, 200);
	assert_string_equal(items[0].resp.body, "{\"ok\":true}");
	assert_int_equal(items[0].resp.date_s, FIXED_DATE_S);
	assert_string_equal(items[0].call.reason, "");

	assert_int_equal(items[1].call.result, CC_ERROR);
	assert_int_equal(items[1].resp.status, 404);
	assert_int_equal(strncmp(items[1].call.reason, "HTTP 404: {\"error\"", 18), 0);
	/* each item has its own Date: the server's clock here, FIXED_DATE on the 503 */
	assert_true(items[1].call.has_date);
	assert_true(items[1].call.date_s > FIXED_DATE_S + 86400);

	assert_int_equal(items[2].call.result, CC_CONFLICT);
	assert_int_equal(items[2].resp.status, 409);
	assert_non_null(strstr(items[2].call.reason, "version mismatch"));

	assert_int_equal(items[3].call.result, CC_RETRY);
	assert_int_equal(items[3].resp.status, 503);
	assert_int_equal(items[3].call.retry_after_ms, 3000);
	assert_int_equal(items[3].call.date_s, FIXED_DATE_S);
	assert_false(items[3].call.outcome_unknown);
	assert_string_equal(items[3].resp.body, "maintenance");

	for (size_t i = 0; i < 4; i++)
		assert_int_equal(items[i].call.requests, 1);
	for (size_t i = 4; i < n; i++) {
		assert_int_equal(items[i].call.result, CC_RETRY);
		assert_int_equal(items[i].call.requests, 0);
		assert_true(items[i].call.retry_after_ms > 2000 &&
		            items[i].call.retry_after_ms <= 3000);
		assert_false(items[i].call.outcome_unknown);
		assert_non_null(strstr(items[i].call.reason, "not sent"));
		assert_int_equal(items[i].resp.status, 0);
		assert_null(items[i].resp.body);
	}
	clear_items(items, n);

	/* the hold outlives the batch */
	struct cc_http_response resp;
	struct cc_call call;
	assert_int_equal(request(c, "read", "GET", "/ok", NULL, &resp, &call), CC_RETRY);
	assert_int_equal(call.requests, 0);
	assert_int_equal(atomic_load(&srv.hits), hits + 4);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);
}

static void test_batch_errors_per_item(void **state)
{
	(void)state;
	struct cc_http_client *c = client_with(
		(struct cc_http_options){ .timeout_ms = 300, .max_body = 4096, .max_concurrency = 3 });
	struct cc_http_batch_item items[] = {
		get_item("read", "/slow"),
		{ .op = "create", .method = "POST", .path = "/slow", .json_body = "{}" },
		{ .op = "create", .method = "POST", .path = "/broken", .json_body = "{}" },
		get_item("read", "/broken"),
		get_item("list", "/big"),
		{ .op = "x", .method = "TRACE", .path = "/ok", .json_body = "{}" },
		get_item("read", "/redirect"),
		{ .op = "create", .method = "POST", .path = "/created", .json_body = "{\"t\":1}" },
		get_item("read", "/ok"),
	};
	size_t n = sizeof(items) / sizeof(items[0]);
	int hits = atomic_load(&srv.hits);
	int64_t t0 = now_ms();
	cc_http_request_many(c, items, n);
	assert_true(now_ms() - t0 < 1500);
	assert_int_equal(atomic_load(&srv.hits), hits + (int)n - 1);

	/* timeouts: outcome unknown for the write only */
	assert_int_equal(items[0].call.result, CC_RETRY);
	assert_false(items[0].call.outcome_unknown);
	assert_int_equal(items[0].resp.status, 0);
	assert_int_equal(items[1].call.result, CC_RETRY);
	assert_true(items[1].call.outcome_unknown);
	/* 500: RETRY, outcome unknown for the write, no hold */
	assert_int_equal(items[2].call.result, CC_RETRY);
	assert_true(items[2].call.outcome_unknown);
	assert_string_equal(items[2].call.reason, "HTTP 500: internal error");
	assert_int_equal(items[3].call.result, CC_RETRY);
	assert_false(items[3].call.outcome_unknown);
	assert_int_equal(items[3].call.retry_after_ms, 0);
	/* over max_body */
	assert_int_equal(items[4].call.result, CC_ERROR);
	assert_non_null(strstr(items[4].call.reason, "response too large"));
	assert_null(items[4].resp.body);
	/* refused without sending */
	assert_int_equal(items[5].call.result, CC_ERROR);
	assert_int_equal(items[5].call.requests, 0);
	assert_non_null(strstr(items[5].call.reason, "TRACE"));
	/* redirect not followed */
	assert_int_equal(items[6].call.result, CC_ERROR);
	assert_int_equal(items[6].resp.status, 302);
	/* 201 with Location, and the body reached the server */
	assert_int_equal(items[7].call.result, CC_OK);
	assert_string_equal(items[7].resp.location, "/items/42");
	assert_string_equal(items[7].resp.etag, "1245");
	assert_string_equal(items[8].resp.etag, ""); /* none sent */
	assert_int_equal(items[8].call.result, CC_OK);
	clear_items(items, n);
	cc_http_client_destroy(c);
}

static void test_batch_budget(void **state)
{
	(void)state;
	struct cc_http_client *c = client_with((struct cc_http_options){ .max_concurrency = 3 });
	struct cc_http_batch_item items[10];
	size_t n = 0;
	for (int i = 0; i < 5; i++)
		items[n++] = get_item("read", "/ok");
	items[n++] = get_item("list", "/missing");
	items[n++] = get_item("list", "/ok?delay=20");
	items[n++] = get_item(NULL, "/ok");
	items[n++] = (struct cc_http_batch_item){ .op = "create", .method = "POST",
		                                  .path = "/created", .json_body = "{}" };
	items[n++] = (struct cc_http_batch_item){ .op = "read", .method = "TRACE", .path = "/ok" };
	int hits = atomic_load(&srv.hits);
	cc_http_request_many(c, items, n);
	clear_items(items, n);
	assert_int_equal(atomic_load(&srv.hits), hits + 9);
	assert_int_equal(cc_http_requests(c, NULL), 9);
	assert_int_equal(cc_http_requests(c, "read"), 5);
	assert_int_equal(cc_http_requests(c, "list"), 2);
	assert_int_equal(cc_http_requests(c, "create"), 1);

	/* a spent quota (X-RateLimit-Remaining: 0) stops the rest: nothing more counted */
	items[0] = get_item("list", "/quota");
	items[1] = get_item("read", "/ok");
	items[2] = get_item("read", "/ok");
	cc_http_client_destroy(c);
	c = client_with((struct cc_http_options){ .max_concurrency = 1 });
	hits = atomic_load(&srv.hits);
	cc_http_request_many(c, items, 3);
	assert_int_equal(items[0].call.result, CC_OK);
	assert_int_equal(items[1].call.result, CC_RETRY);
	assert_int_equal(items[2].call.result, CC_RETRY);
	assert_true(items[2].call.retry_after_ms > 0 && items[2].call.retry_after_ms <= 1000);
	clear_items(items, 3);
	assert_int_equal(atomic_load(&srv.hits), hits + 1);
	assert_int_equal(cc_http_requests(c, NULL), 1);
	assert_int_equal(cc_http_requests(c, "read"), 0);
	cc_http_client_destroy(c);

	/* the token bucket holds for a batch too: burst 2 at 10/s, 5 requests */
	c = client_with(
		(struct cc_http_options){ .rate_per_sec = 10, .burst = 2, .max_concurrency = 4 });
	for (size_t i = 0; i < 5; i++)
		items[i] = get_item("read", "/ok");
	int64_t t0 = now_ms();
	cc_http_request_many(c, items, 5);
	int64_t elapsed = now_ms() - t0;
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(items[i].call.result, CC_OK);
	clear_items(items, 5);
	assert_true(elapsed >= 250); /* three waits of 100 ms */
	assert_true(elapsed < 2000);
	assert_int_equal(cc_http_requests(c, "read"), 5);
	cc_http_client_destroy(c);
}

static void test_batch_reuses_connections(void **state)
{
	(void)state;
	struct cc_http_client *c = client_with((struct cc_http_options){ .max_concurrency = 4 });
	struct cc_http_batch_item items[12];
	int before = atomic_load(&srv.connections);
	for (size_t i = 0; i < 12; i++)
		items[i] = get_item("read", "/ok?delay=50");
	cc_http_request_many(c, items, 12);
	for (size_t i = 0; i < 12; i++)
		assert_int_equal(items[i].call.result, CC_OK);
	clear_items(items, 12);
	int first = atomic_load(&srv.connections) - before;

	/* a second batch and a single request find the connections alive */
	cc_http_request_many(c, items, 12);
	clear_items(items, 12);
	struct cc_http_response resp;
	struct cc_call call;
	assert_int_equal(request(c, "read", "GET", "/ok", NULL, &resp, &call), CC_OK);
	cc_http_response_clear(&resp);
	int total = atomic_load(&srv.connections) - before;
	print_message("25 requests, %d TCP connections (%d after the first batch of 12)\n", total,
	              first);
	assert_true(first >= 1 && first <= 4);
	assert_int_equal(total, first);
	assert_int_equal(cc_http_requests(c, NULL), 25);
	cc_http_client_destroy(c);
}

/* Retry-After as RFC 9110 allows it, capped; anything else ignored. */
static void test_retry_after_rfc9110(void **state)
{
	(void)state;
	int64_t now = FIXED_DATE_S;
	assert_int_equal(cc_http_retry_after_ms("2", now), 2000);
	assert_int_equal(cc_http_retry_after_ms("0", now), 0);
	assert_int_equal(cc_http_retry_after_ms("99999999999", now), CC_HTTP_HOLD_MAX_MS);
	assert_int_equal(cc_http_retry_after_ms("1.5e3", now), -1);
	assert_int_equal(cc_http_retry_after_ms("1.5", now), -1);
	assert_int_equal(cc_http_retry_after_ms("-5", now), -1);
	assert_int_equal(cc_http_retry_after_ms(" 5", now), -1);
	assert_int_equal(cc_http_retry_after_ms("0x10", now), -1);
	assert_int_equal(cc_http_retry_after_ms("", now), -1);
	assert_int_equal(cc_http_retry_after_ms(FIXED_DATE, now - 3), 3000);
	assert_int_equal(cc_http_retry_after_ms("Fri, 31 Dec 9999 23:59:59 GMT", now),
	                 CC_HTTP_HOLD_MAX_MS);
	/* the three HTTP-date forms, and near misses */
	int64_t t;
	assert_true(cc_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t));
	assert_int_equal(t, 784111777);
	assert_true(cc_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t));
	assert_int_equal(t, 784111777);
	assert_true(cc_http_date_parse("Sun Nov  6 08:49:37 1994", &t));
	assert_int_equal(t, 784111777);
	assert_false(cc_http_date_parse("Sun, 06 Nov 1994 08:49:37 PST", &t));
	assert_false(cc_http_date_parse("Sun, 31 Feb 1994 08:49:37 GMT", &t));
	assert_false(cc_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT x", &t));
	assert_false(cc_http_date_parse("yesterday", &t));
	assert_false(cc_http_date_parse("1994-11-06T08:49:37Z", &t));
}

/* A 429 with an odd or huge Retry-After: ignored, or held at the cap. */
static void test_retry_after_odd_values(void **state)
{
	(void)state;
	struct cc_http_client *c = client_default();
	struct cc_http_response resp;
	struct cc_call call;
	assert_int_equal(request(c, "list", "GET", "/odd-retry", NULL, &resp, &call), CC_RETRY);
	assert_int_equal(call.retry_after_ms, 0);
	cc_http_response_clear(&resp);
	assert_int_equal(request(c, "list", "GET", "/huge-retry", NULL, &resp, &call), CC_RETRY);
	assert_int_equal(call.retry_after_ms, CC_HTTP_HOLD_MAX_MS);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);
}

/* A server echoing the credentials: the reason never shows them. */
static void test_credential_echo_redacted(void **state)
{
	(void)state;
	struct cc_http_client *c = client_with((struct cc_http_options){
		.auth_header = "Authorization: token s3cr3t-T0KEN-value" });
	struct cc_http_response resp;
	struct cc_call call;
	assert_int_equal(request(c, "read", "GET", "/echo-auth", NULL, &resp, &call), CC_ERROR);
	assert_non_null(strstr(call.reason, "HTTP 401"));
	assert_null(strstr(call.reason, "s3cr3t"));
	assert_non_null(strstr(call.reason, CC_REDACTED));
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);
}

struct interrupt_ctx {
	int64_t after_ms; /* says stop once now_ms() passes it */
	int calls;
};

static bool interrupt_after(void *ctx)
{
	struct interrupt_ctx *ic = ctx;
	ic->calls++;
	return now_ms() >= ic->after_ms;
}

/* An interrupt ends slow requests at once; nothing more is sent after it. */
static void test_interrupt_aborts_requests(void **state)
{
	(void)state;
	struct interrupt_ctx ic = { .after_ms = now_ms() + 200 };
	struct cc_http_client *c = client_with((struct cc_http_options){
		.interrupt = interrupt_after, .interrupt_ctx = &ic, .max_concurrency = 2 });
	struct cc_http_batch_item items[] = {
		get_item("read", "/slow"),
		{ .op = "create", .method = "POST", .path = "/slow", .json_body = "{}" },
		get_item("read", "/ok"),
	};
	int64_t t0 = now_ms();
	int hits = atomic_load(&srv.hits);
	cc_http_request_many(c, items, 3);
	int64_t took = now_ms() - t0;
	print_message("interrupted after %lld ms (the slow answer takes 2000 ms)\n",
	              (long long)took);
	assert_true(took < 700);
	assert_true(ic.calls >= 1);
	assert_int_equal(items[0].call.result, CC_RETRY);
	assert_non_null(strstr(items[0].call.reason, "interrupted"));
	assert_false(items[0].call.outcome_unknown);
	assert_int_equal(items[1].call.result, CC_RETRY);
	assert_true(items[1].call.outcome_unknown); /* the write may have arrived */
	assert_int_equal(items[2].call.result, CC_RETRY);
	assert_int_equal(items[2].call.requests, 0); /* never sent */
	clear_items(items, 3);
	/* still interrupted: the next call sends nothing */
	struct cc_http_response resp;
	struct cc_call call;
	assert_int_equal(request(c, "read", "GET", "/ok", NULL, &resp, &call), CC_RETRY);
	cc_http_response_clear(&resp);
	assert_true(atomic_load(&srv.hits) <= hits + 2);
	cc_http_client_destroy(c);
}

/* A stand-in transport's answers, mapped exactly as real ones. */
struct standin {
	struct cc_http_raw_answer next;
	char url[256], method[8], if_match[32];
	int calls;
};

static void standin_exchange(void *ctx, const char *method, const char *url, const char *body,
                             const char *if_match, struct cc_http_raw_answer *out)
{
	(void)body;
	struct standin *st = ctx;
	st->calls++;
	snprintf(st->url, sizeof(st->url), "%s", url);
	snprintf(st->method, sizeof(st->method), "%s", method);
	snprintf(st->if_match, sizeof(st->if_match), "%s", if_match ? if_match : "");
	*out = st->next;
}

static void test_standin_transport(void **state)
{
	(void)state;
	struct standin st = { 0 };
	struct cc_http_transport tr = { standin_exchange, &st };
	struct cc_http_client *c = client_with((struct cc_http_options){
		.base_url = "http://stand.in/api", .transport = &tr, .max_body = 64 });
	struct cc_http_response resp;
	struct cc_call call;
	static const char h1[] = "Date: " FIXED_DATE "\r\nETag: W/\"77\"\r\n"
	                         "Content-Type: application/json\r\n";
	st.next = (struct cc_http_raw_answer){ .status = 200, .headers = h1,
		                               .headers_len = sizeof(h1) - 1, .body = "{\"a\":1}",
		                               .body_len = 7 };
	assert_int_equal(cc_http_request_if_match(c, "update", "PUT", "/x/1", "{}", "76", &resp,
	                                          &call), CC_OK);
	assert_string_equal(st.url, "http://stand.in/api/x/1");
	assert_string_equal(st.method, "PUT");
	assert_string_equal(st.if_match, "76");
	assert_string_equal(resp.body, "{\"a\":1}");
	assert_string_equal(resp.etag, "77");
	assert_true(call.has_date);
	assert_int_equal(call.date_s, FIXED_DATE_S);
	cc_http_response_clear(&resp);

	static const char h2[] = "Retry-After: 7\n";
	st.next = (struct cc_http_raw_answer){ .status = 429, .headers = h2,
		                               .headers_len = sizeof(h2) - 1 };
	assert_int_equal(request(c, "list", "GET", "/x", NULL, &resp, &call), CC_RETRY);
	assert_int_equal(call.retry_after_ms, 7000);
	cc_http_response_clear(&resp);
	/* the hold it set: nothing is sent until it ends */
	int calls = st.calls;
	assert_int_equal(request(c, "list", "GET", "/x", NULL, &resp, &call), CC_RETRY);
	assert_int_equal(st.calls, calls);
	cc_http_response_clear(&resp);
	cc_http_client_destroy(c);

	c = client_with((struct cc_http_options){ .base_url = "http://stand.in", .transport = &tr,
		                                  .max_body = 64 });
	char big[100];
	memset(big, 'b', sizeof(big));
	st.next = (struct cc_http_raw_answer){ .status = 200, .body = big, .body_len = sizeof(big) };
	assert_int_equal(request(c, "list", "GET", "/big", NULL, &resp, &call), CC_ERROR);
	assert_non_null(strstr(call.reason, "too large"));
	cc_http_response_clear(&resp);
	st.next = (struct cc_http_raw_answer){ .fault = CC_HTTP_TIMEOUT };
	assert_int_equal(request(c, "create", "POST", "/x", "{}", &resp, &call), CC_RETRY);
	assert_true(call.outcome_unknown);
	cc_http_response_clear(&resp);
	st.next = (struct cc_http_raw_answer){ .fault = CC_HTTP_REFUSED };
	assert_int_equal(request(c, "create", "POST", "/x", "{}", &resp, &call), CC_RETRY);
	assert_false(call.outcome_unknown);
	cc_http_response_clear(&resp);
	assert_int_equal(cc_http_requests(c, NULL), 3);
	cc_http_client_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_with_date),
		cmocka_unit_test(test_created_location),
		cmocka_unit_test(test_if_match),
		cmocka_unit_test(test_not_found_is_error_with_short_reason),
		cmocka_unit_test(test_conflicts),
		cmocka_unit_test(test_retry_after_holds_requests),
		cmocka_unit_test(test_unavailable_with_http_date),
		cmocka_unit_test(test_server_error_is_retry),
		cmocka_unit_test(test_redirect_not_followed),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_dropped_connection),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_body_too_large),
		cmocka_unit_test(test_rate_limit_remaining_zero),
		cmocka_unit_test(test_auth_and_bodies_reach_server),
		cmocka_unit_test(test_connection_reused),
		cmocka_unit_test(test_rate_limiter_spaces_requests),
		cmocka_unit_test(test_shared_pace),
		cmocka_unit_test(test_request_counters),
		cmocka_unit_test(test_options_checked),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_batch_runs_concurrently),
		cmocka_unit_test(test_batch_concurrency_capped),
		cmocka_unit_test(test_batch_mixed_results),
		cmocka_unit_test(test_batch_errors_per_item),
		cmocka_unit_test(test_batch_budget),
		cmocka_unit_test(test_batch_reuses_connections),
		cmocka_unit_test(test_retry_after_rfc9110),
		cmocka_unit_test(test_retry_after_odd_values),
		cmocka_unit_test(test_credential_echo_redacted),
		cmocka_unit_test(test_interrupt_aborts_requests),
		cmocka_unit_test(test_standin_transport),
		cmocka_unit_test(test_auth_hook_and_form),
		cmocka_unit_test(test_write_never_sent_twice),
	};
	return cmocka_run_group_tests(tests, server_start, server_stop);
}
