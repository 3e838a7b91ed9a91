/*
 * Replayed answers of the real RT and Redmine servers (and of ServiceNow,
 * Sentinel and Jira Cloud as their documentation gives them:
 * tests/replay/servicenow, tests/replay/sentinel and tests/replay/jira, no
 * server here): each scenario (one JSON file
 * under tests/replay/KIND, README.md)
 * holds the exchanges one or more connector operations had with a live
 * peer, in order (method, path, what the request must carry, the answer's
 * status, headers and body), and the operations with what each must
 * answer. This program serves the exchanges from a real HTTP server on
 * 127.0.0.1 (libmicrohttpd, one thread per connection), points a
 * connector of that kind at it, runs the operations and checks:
 *
 *   - every request is the next exchange of the scenario (exchanges of
 *     one concurrent group, sent as one batch when captured, in any
 *     order), with the authentication header, the If-Match header when
 *     the exchange says one must (or must not) be sent, and the body
 *     fragments it names;
 *   - each concurrent group really arrives concurrently (a request of it
 *     is held until a second one is under way, for up to 500 ms): the
 *     reads of a poll page are sent at once;
 *   - every exchange was used, nothing else was asked;
 *   - each operation's answer (result, reason, outcome, Retry-After, the
 *     requests counted, the observations or the page) is what the scenario
 *     expects.
 *
 * The same program runs the operations against a live server for
 * tests/replay/capture.py (--live URL --secret S --out FILE): it checks
 * the scenario's expectations there and writes what each operation
 * answered, which the capture script keeps as the expectations.
 *
 * Usage: test_replay [--live URL --secret S --out FILE] SCENARIO.json|DIR...
 * Exit 0 when every scenario passes, 1 otherwise.
 */
#include "connectors/registry.h"
#include "core/buf.h"
#include "http/client.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define REPLAY_SECRET "replay-secret-0000"
#define GROUP_WAIT_MS 500

/* ---- failures of one scenario ---------------------------------------------- */

static struct cc_buf g_fail;   /* the failures of the scenario being run, one per line */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&g_mu);
	cc_buf_addf(&g_fail, "  %s\n", line);
	pthread_mutex_unlock(&g_mu);
}

/* ---- the replay server ------------------------------------------------------- */

struct exchange {
	json_t *x;          /* the scenario's object (borrowed) */
	const char *method;
	const char *path;   /* relative to the scenario's base, with the query */
	int group;          /* 0: none */
	bool used;
};

static struct {
	struct MHD_Daemon *d;
	char url[96];
	const char *base;   /* "/REST/2.0" or "" */
	const char *auth_name, *auth_value;
	struct exchange *ex;
	size_t n, cursor;
	int inflight[64], max_inflight[64], group_size[64];
	pthread_cond_t cv;
	int unexpected;
} srv;

struct request {
	char *uri;          /* raw request target, as sent */
	bool headers_seen;  /* the first call (headers only) is over */
	struct cc_buf body;
};

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void)cls, (void)c;
	struct request *rq = calloc(1, sizeof(*rq));
	if (rq)
		rq->uri = strdup(uri);
	return rq;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)c, (void)toe;
	struct request *rq = *con_cls;
	if (rq) {
		free(rq->uri);
		cc_buf_free(&rq->body);
		free(rq);
	}
	*con_cls = NULL;
}

static bool contains(const struct cc_buf *b, const char *s)
{
	return b->data && memmem(b->data, b->len, s, strlen(s));
}

/* The request's checks of exchange i (called with g_mu held). */
static void check_request(size_t i, struct MHD_Connection *c, const struct request *rq)
{
	json_t *want = json_object_get(srv.ex[i].x, "request");
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, srv.auth_name);
	json_t *wa = json_object_get(want, "auth"); /* this exchange's own: null for none */
	const char *expect = wa ? json_string_value(wa) : srv.auth_value;
	if (expect ? !auth || strcmp(auth, expect) != 0 : auth != NULL)
		cc_buf_addf(&g_fail, "  exchange %zu: %s header missing or wrong (%s)\n", i + 1,
		            srv.auth_name, expect ? "expected" : "none expected");
	json_t *ct = json_object_get(want, "content_type");
	const char *got_ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	if (json_is_string(ct) && (!got_ct || strcmp(got_ct, json_string_value(ct)) != 0))
		cc_buf_addf(&g_fail, "  exchange %zu: Content-Type is %s, expected %s\n", i + 1,
		            got_ct ? got_ct : "(none)", json_string_value(ct));
	json_t *im = json_object_get(want, "if_match");
	const char *got = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Match");
	if (im && json_is_null(im) && got)
		cc_buf_addf(&g_fail, "  exchange %zu: If-Match %s sent, none expected\n", i + 1, got);
	if (json_is_string(im) && (!got || strcmp(got, json_string_value(im)) != 0))
		cc_buf_addf(&g_fail, "  exchange %zu: If-Match is %s, expected %s\n", i + 1,
		            got ? got : "(none)", json_string_value(im));
	size_t k;
	json_t *frag;
	json_array_foreach(json_object_get(want, "body_contains"), k, frag)
		if (!contains(&rq->body, json_string_value(frag)))
			cc_buf_addf(&g_fail, "  exchange %zu: request body lacks %s: %.300s\n", i + 1,
			            json_string_value(frag), rq->body.data ? (char *)rq->body.data : "");
	json_array_foreach(json_object_get(want, "body_lacks"), k, frag)
		if (contains(&rq->body, json_string_value(frag)))
			cc_buf_addf(&g_fail, "  exchange %zu: request body holds %s: %.300s\n", i + 1,
			            json_string_value(frag), (char *)rq->body.data);
}

/* The exchange this request is (called with g_mu held); -1 when none. */
static long take_exchange(const char *method, const char *path)
{
	size_t end = srv.cursor;
	if (end < srv.n) {
		int g = srv.ex[end].group;
		end++;
		while (g && end < srv.n && srv.ex[end].group == g)
			end++;
	}
	for (size_t i = srv.cursor; i < end; i++) {
		struct exchange *e = &srv.ex[i];
		if (e->used || strcmp(e->method, method) != 0 || strcmp(e->path, path) != 0)
			continue;
		e->used = true;
		while (srv.cursor < srv.n && srv.ex[srv.cursor].used)
			srv.cursor++;
		return (long)i;
	}
	return -1;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *body,
                              size_t len, json_t *headers)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	                                                         MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	const char *k;
	json_t *v;
	json_object_foreach(headers, k, v)
		MHD_add_response_header(r, k, json_string_value(v));
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * The answer's text with every "@server" made the server's root URL
 * (http://127.0.0.1:PORT): an absolute link (Sentinel's nextLink) to
 * the ephemeral port. text is taken.
 */
static char *with_server(char *text)
{
	if (!text || !strstr(text, "@server"))
		return text;
	char root[96];
	snprintf(root, sizeof(root), "%.*s", (int)(strlen(srv.url) - strlen(srv.base)), srv.url);
	struct cc_buf b = { 0 };
	const char *p = text, *q;
	while ((q = strstr(p, "@server"))) {
		cc_buf_append(&b, p, (size_t)(q - p));
		cc_buf_add(&b, root);
		p = q + 7;
	}
	cc_buf_add(&b, p);
	free(text);
	return cc_buf_take(&b);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
	(void)cls, (void)url, (void)version;
	struct request *rq = *con_cls;
	if (!rq)
		return MHD_NO;
	if (!rq->headers_seen) {
		rq->headers_seen = true; /* the body, if any, comes in the next calls */
		return MHD_YES;
	}
	if (*upload_size) {
		cc_buf_append(&rq->body, upload, *upload_size);
		cc_buf_append(&rq->body, "", 1); /* keeps a NUL after the text */
		rq->body.len--;
		*upload_size = 0;
		return MHD_YES;
	}
	const char *path = rq->uri;
	size_t bl = strlen(srv.base);
	if (strncmp(path, srv.base, bl) == 0)
		path += bl;
	pthread_mutex_lock(&g_mu);
	long i = take_exchange(method, path);
	if (i < 0) {
		const struct exchange *next = srv.cursor < srv.n ? &srv.ex[srv.cursor] : NULL;
		cc_buf_addf(&g_fail, "  unexpected request %s %s (next exchange %zu: %s %s)\n", method,
		            path, srv.cursor + 1, next ? next->method : "none",
		            next ? next->path : "");
		srv.unexpected++;
		pthread_mutex_unlock(&g_mu);
		return answer(c, 500, "no such exchange", 16, NULL);
	}
	check_request((size_t)i, c, rq);
	json_t *x = srv.ex[i].x;
	int g = srv.ex[i].group;
	if (g > 0 && g < 64 && srv.group_size[g] > 1) {
		/* held until a second request of the group is under way */
		srv.inflight[g]++;
		if (srv.inflight[g] > srv.max_inflight[g])
			srv.max_inflight[g] = srv.inflight[g];
		pthread_cond_broadcast(&srv.cv);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += GROUP_WAIT_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		while (srv.max_inflight[g] < 2 &&
		       pthread_cond_timedwait(&srv.cv, &g_mu, &until) == 0)
			;
		srv.inflight[g]--;
	}
	pthread_mutex_unlock(&g_mu);
	json_int_t delay = json_integer_value(json_object_get(x, "delay_ms"));
	if (delay > 0)
		sleep_ms((long)delay);
	json_t *jb = json_object_get(x, "body");
	char *body = jb ? with_server(json_dumps(jb, JSON_COMPACT | JSON_ENCODE_ANY)) : NULL;
	const char *text = body ? body : json_string_value(json_object_get(x, "body_text"));
	enum MHD_Result ret = answer(c, (unsigned)json_integer_value(json_object_get(x, "status")),
	                             text ? text : "", text ? strlen(text) : 0,
	                             json_object_get(x, "headers"));
	free(body);
	return ret;
}

static int server_start(json_t *sc, const char *kind)
{
	memset(&srv, 0, sizeof(srv));
	pthread_cond_init(&srv.cv, NULL);
	srv.base = json_string_value(json_object_get(sc, "base"));
	if (!srv.base)
		srv.base = "";
	bool rt = strcmp(kind, "rt") == 0, sn = strcmp(kind, "servicenow") == 0;
	bool sentinel = strcmp(kind, "sentinel") == 0, jira = strcmp(kind, "jira") == 0;
	srv.auth_name = rt || sn || sentinel || jira ? "Authorization" : "X-Redmine-API-Key";
	/* ServiceNow: Basic, base64 of "replay:" REPLAY_SECRET (settings user "replay");
	 * Jira: base64 of "replay@example.com:" REPLAY_SECRET (settings email) */
	srv.auth_value = rt     ? "token " REPLAY_SECRET
	                 : sn   ? "Basic cmVwbGF5OnJlcGxheS1zZWNyZXQtMDAwMA=="
	                 : jira ? "Basic cmVwbGF5QGV4YW1wbGUuY29tOnJlcGxheS1zZWNyZXQtMDAwMA=="
	                        : REPLAY_SECRET;
	/* a kind with a token of its own: the scenario's "auth" (the token endpoint's) */
	if (json_is_string(json_object_get(sc, "auth")))
		srv.auth_value = json_string_value(json_object_get(sc, "auth"));
	json_t *xs = json_object_get(sc, "exchanges");
	srv.n = json_array_size(xs);
	srv.ex = calloc(srv.n ? srv.n : 1, sizeof(*srv.ex));
	if (!srv.ex)
		return -1;
	for (size_t i = 0; i < srv.n; i++) {
		json_t *x = json_array_get(xs, i);
		struct exchange *e = &srv.ex[i];
		e->x = x;
		e->method = json_string_value(json_object_get(x, "method"));
		e->path = json_string_value(json_object_get(x, "path"));
		e->group = (int)json_integer_value(json_object_get(x, "group"));
		if (!e->method || !e->path || e->group < 0 || e->group >= 64) {
			failf("exchange %zu: no method or path, or a group out of 0..63", i + 1);
			return -1;
		}
		srv.group_size[e->group]++;
	}
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	                                 MHD_USE_SUPPRESS_DATE_NO_CLOCK,
	                         0, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR,
	                         (struct sockaddr *)&sa, MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
	                         MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
	                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
	const union MHD_DaemonInfo *info =
		srv.d ? MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
	if (!info || !info->port) {
		failf("the replay server did not start");
		return -1;
	}
	snprintf(srv.url, sizeof(srv.url), "http://127.0.0.1:%u%s", (unsigned)info->port, srv.base);
	return 0;
}

/* Stops the server; checks that every exchange was used and every group came at once. */
static void server_stop(void)
{
	if (srv.d)
		MHD_stop_daemon(srv.d);
	for (size_t i = 0; i < srv.n; i++)
		if (!srv.ex[i].used)
			failf("exchange %zu (%s %s) was not asked for", i + 1, srv.ex[i].method,
			      srv.ex[i].path);
	for (int g = 1; g < 64; g++)
		if (srv.group_size[g] > 1 && srv.max_inflight[g] < 2)
			failf("group %d: its %d requests came one after another, not at once", g,
			      srv.group_size[g]);
	free(srv.ex);
	pthread_cond_destroy(&srv.cv);
	memset(&srv, 0, sizeof(srv));
}

/* ---- the connector under test ---------------------------------------------- */

/* the last three: mapped by Jira's scenarios only (unless a scenario's map names them) */
enum { F_TITLE, F_STATE, F_PRIORITY, F_ASSIGNEE, F_RESOLUTION, F_TAGS, F_DESCRIPTION, F_COUNT };
static const char *const field_names[F_COUNT] = { "title", "state", "priority", "assignee",
	                                          "resolution", "tags", "description" };
static struct cc_config g_cfg;
static int g_interrupt_polls;

static bool interrupt_hook(void *ctx)
{
	(void)ctx;
	__atomic_add_fetch(&g_interrupt_polls, 1, __ATOMIC_SEQ_CST);
	return false;
}

static int field_index(const char *name)
{
	for (int f = 0; f < F_COUNT; f++)
		if (strcmp(field_names[f], name) == 0)
			return f;
	return -1;
}

/* The configuration: one system of the scenario's kind, its fields, its map. */
static void config_for(const char *kind, json_t *map)
{
	static const char *const rt_names[F_COUNT] = { "Subject", "Status", "Priority", "Owner" };
	static const char *const rm_names[F_COUNT] = { "subject", "status", "priority",
		                                       "assigned_to" };
	static const char *const sn_names[F_COUNT] = { "short_description", "state", "priority",
		                                       NULL };
	static const char *const st_names[F_COUNT] = { "title", "status", "severity", "owner" };
	static const char *const jira_names[F_COUNT] = { "summary", "status", "priority",
		                                         "assignee", "resolution", "labels",
		                                         "description" };
	static const enum cc_field_type types[F_COUNT] = { CC_FT_STRING, CC_FT_ENUM, CC_FT_PRIORITY,
		                                           CC_FT_USER, CC_FT_ENUM, CC_FT_STRING,
		                                           CC_FT_TEXT };
	bool rt = strcmp(kind, "rt") == 0, sn = strcmp(kind, "servicenow") == 0;
	cc_config_defaults(&g_cfg);
	g_cfg.nfields = F_COUNT;
	g_cfg.nsystems = 1;
	struct cc_system_def *sd = &g_cfg.systems[0];
	sd->name = kind;
	sd->kind = kind;
	sd->rank = 1;
	sd->comments = true; /* ServiceNow reads its journal only then; RT and Redmine always */
	for (int f = 0; f < F_COUNT; f++) {
		g_cfg.fields[f] = (struct cc_field_def){ .name = field_names[f], .type = types[f] };
		json_t *m = json_object_get(map, field_names[f]);
		const char *rn = m                              ? json_string_value(m)
		                 : rt                           ? rt_names[f]
		                 : sn                           ? sn_names[f]
		                 : strcmp(kind, "sentinel") == 0 ? st_names[f]
		                 : strcmp(kind, "jira") == 0     ? jira_names[f]
		                                                : rm_names[f];
		sd->map[f] = (struct cc_field_map){ .mapped = rn != NULL, .remote_name = rn };
	}
}

static int make_connector(struct cc_connector *c, json_t *sc, const char *kind, const char *url,
                          const char *secret)
{
	struct cc_connector_setting settings[8];
	struct cc_connector_user users[8];
	size_t ns = 0, nu = 0;
	const char *k;
	json_t *v;
	/* "@server" is the server's root URL (a sign-in host on the same port) */
	char root[96];
	snprintf(root, sizeof(root), "%.*s", (int)(strlen(url) - strlen(srv.base ? srv.base : "")),
	         url);
	json_object_foreach(json_object_get(sc, "settings"), k, v)
		if (ns < 8)
			settings[ns++] = (struct cc_connector_setting){
				k, strcmp(json_string_value(v), "@server") == 0 ? root : json_string_value(v)
			};
	size_t i;
	json_array_foreach(json_object_get(sc, "users"), i, v)
		if (nu < 8)
			users[nu++] = (struct cc_connector_user){ json_string_value(json_array_get(v, 0)),
				                                  json_string_value(json_array_get(v, 1)) };
	config_for(kind, json_object_get(sc, "map"));
	struct cc_connector_setup setup = {
		.base_url = url,
		.secret = secret,
		.integration_user = json_string_value(json_object_get(sc, "integration_user")),
		.cfg = &g_cfg,
		.system = 0,
		.settings = settings,
		.nsettings = ns,
		.users = users,
		.nusers = nu,
		.timeout_ms = 10000,
		.interrupt = interrupt_hook,
	};
	char err[256];
	if (cc_connector_create(c, kind, &setup, err, sizeof(err)) != 0) {
		failf("connector: %s", err);
		return -1;
	}
	return 0;
}

/* ---- what an operation answered, as JSON ------------------------------------- */

static const char *result_name(enum cc_result r)
{
	static const char *const n[] = { "OK", "RETRY", "ERROR", "CONFLICT" };
	return (unsigned)r <= CC_CONFLICT ? n[r] : "?";
}

static json_t *record_json(const struct cc_observation *o)
{
	char rv[24];
	snprintf(rv, sizeof(rv), "%" PRIu64, o->rv);
	json_t *j = json_pack("{s:s?, s:s, s:b, s:I, s:I, s:s?}", "id", o->remote_id, "rv", rv,
	                      "deleted", o->deleted, "mtime_s", (json_int_t)o->mtime_s,
	                      "created_s", (json_int_t)o->created_s, "correlation_id",
	                      o->correlation_id);
	json_t *fields = json_object(), *times = json_object(), *authors = json_object();
	for (int f = 0; f < F_COUNT; f++) {
		if (!o->fields[f].present)
			continue;
		json_object_set_new(fields, field_names[f], json_string(o->fields[f].value));
		json_object_set_new(times, field_names[f], json_integer(o->fields[f].mtime_s));
		json_object_set_new(authors, field_names[f], o->fields[f].author
		                                                 ? json_string(o->fields[f].author)
		                                                 : json_null());
	}
	json_t *comments = json_array();
	for (size_t i = 0; i < o->ncomments; i++)
		json_array_append_new(comments, json_pack("{s:s, s:s, s:s?, s:I}", "id",
		                                          o->comments[i].id, "body",
		                                          o->comments[i].body, "author",
		                                          o->comments[i].author, "created_s",
		                                          (json_int_t)o->comments[i].created_s));
	json_object_set_new(j, "fields", fields);
	json_object_set_new(j, "field_times", times);
	json_object_set_new(j, "authors", authors);
	json_object_set_new(j, "comments", comments);
	return j;
}

static json_t *page_json(const struct cc_page *p)
{
	json_t *ids = json_array(), *records = json_array();
	for (size_t i = 0; i < p->nitems; i++) {
		json_array_append_new(ids, json_string(p->items[i].remote_id));
		json_array_append_new(records, record_json(&p->items[i]));
	}
	return json_pack("{s:I, s:b, s:s?, s:I, s:o, s:o}", "nitems", (json_int_t)p->nitems, "more",
	                 p->more, "next_id", p->next_id, "next_mtime_s",
	                 (json_int_t)p->next_mtime_s, "ids", ids, "records", records);
}

static json_t *call_json(enum cc_result r, const struct cc_call *call)
{
	json_t *j = json_pack("{s:s, s:s, s:b, s:I, s:i, s:b}", "result", result_name(r), "reason",
	                      call->reason, "outcome_unknown", call->outcome_unknown,
	                      "retry_after_ms", (json_int_t)call->retry_after_ms, "requests",
	                      call->requests, "has_date", call->has_date);
	if (call->has_date)
		json_object_set_new(j, "date_s", json_integer(call->date_s));
	return j;
}

/* ---- expectations -------------------------------------------------------------- */

/* Whether actual holds what want says (objects: want's keys; KEY_contains: a substring). */
static bool holds(json_t *want, json_t *actual, const char *where)
{
	if (json_is_object(want)) {
		bool ok = true;
		const char *k;
		json_t *w;
		json_object_foreach(want, k, w) {
			char sub[256];
			size_t kl = strlen(k);
			snprintf(sub, sizeof(sub), "%s.%s", where, k);
			if (kl > 9 && strcmp(k + kl - 9, "_contains") == 0) {
				char base[128];
				snprintf(base, sizeof(base), "%.*s", (int)(kl - 9), k);
				const char *a = json_string_value(json_object_get(actual, base));
				if (!a || !json_is_string(w) || !strstr(a, json_string_value(w))) {
					failf("%s: '%s' does not contain '%s'", sub, a ? a : "(none)",
					      json_string_value(w));
					ok = false;
				}
				continue;
			}
			if (strcmp(k, "interrupt_polls_min") == 0)
				continue; /* checked by the step */
			ok = holds(w, json_object_get(actual, k), sub) && ok;
		}
		return ok;
	}
	if (json_is_array(want)) {
		if (!json_is_array(actual) || json_array_size(actual) != json_array_size(want)) {
			char *a = actual ? json_dumps(actual, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
			char *b = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
			failf("%s: is %.400s, expected %.400s", where, a ? a : "(none)", b ? b : "?");
			free(a);
			free(b);
			return false;
		}
		bool ok = true;
		for (size_t i = 0; i < json_array_size(want); i++) {
			char sub[256];
			snprintf(sub, sizeof(sub), "%s[%zu]", where, i);
			ok = holds(json_array_get(want, i), json_array_get(actual, i), sub) && ok;
		}
		return ok;
	}
	if (!actual || !json_equal(want, actual)) {
		char *a = actual ? json_dumps(actual, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		char *b = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
		failf("%s: is %.300s, expected %.300s", where, a ? a : "(none)", b ? b : "?");
		free(a);
		free(b);
		return false;
	}
	return true;
}

/* ---- the operations ------------------------------------------------------------- */

static uint64_t json_u64(json_t *v)
{
	if (json_is_integer(v))
		return (uint64_t)json_integer_value(v);
	const char *s = json_string_value(v);
	return s ? strtoull(s, NULL, 10) : 0;
}

/* The version of the record the last step returned (for "expected_rv": "previous"). */
static uint64_t g_prev_rv;

static void write_of(json_t *step, struct cc_write *w)
{
	memset(w, 0, sizeof(*w));
	w->remote_id = json_string_value(json_object_get(step, "id"));
	w->correlation_id = json_string_value(json_object_get(step, "correlation_id"));
	json_t *erv = json_object_get(step, "expected_rv");
	w->expected_rv = json_is_string(erv) && strcmp(json_string_value(erv), "previous") == 0
	                         ? g_prev_rv
	                         : json_u64(erv);
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(step, "values"), k, v) {
		int f = field_index(k);
		if (f < 0)
			failf("a value of an unknown field %s", k);
		else
			w->values[f] = json_string_value(v);
	}
}

/* The keyset position the last page ended at (for "after": "previous"). */
static char g_prev_id[64];
static int64_t g_prev_mtime;

/* Runs one step; returns what it answered (NULL for a pause). */
static json_t *run_step(struct cc_connector *c, json_t *step)
{
	const char *op = json_string_value(json_object_get(step, "op"));
	const struct cc_connector_ops *ops = c->ops;
	struct cc_call call;
	memset(&call, 0, sizeof(call));
	enum cc_result r;
	json_t *out = NULL;
	if (!op) {
		failf("a step without op");
		return NULL;
	}
	if (strcmp(op, "sleep") == 0) {
		sleep_ms((long)json_integer_value(json_object_get(step, "ms")));
		return NULL;
	}
	if (strcmp(op, "list") == 0 || strcmp(op, "webhook") == 0) {
		struct cc_page pg;
		if (op[0] == 'l') {
			bool prev = json_is_string(json_object_get(step, "after")) &&
			            strcmp(json_string_value(json_object_get(step, "after")),
			                   "previous") == 0;
			const char *after_id = prev ? g_prev_id
			                            : json_string_value(json_object_get(step, "after_id"));
			int64_t after_m = prev ? g_prev_mtime
			                       : json_integer_value(json_object_get(step,
			                                                            "after_mtime_s"));
			r = ops->list_changes(c->self,
			                      json_integer_value(json_object_get(step, "since_s")),
			                      after_m, after_id,
			                      (size_t)json_integer_value(json_object_get(step,
			                                                                 "page_size")),
			                      &pg, &call);
			if (r == CC_OK && pg.nitems) {
				snprintf(g_prev_id, sizeof(g_prev_id), "%s",
				         pg.next_id ? pg.next_id : pg.items[pg.nitems - 1].remote_id);
				g_prev_mtime = pg.next_id ? pg.next_mtime_s
				                          : pg.items[pg.nitems - 1].mtime_s;
			}
		} else {
			const char *body = json_string_value(json_object_get(step, "body"));
			if (!ops->webhook) {
				failf("this kind has no webhook");
				return NULL;
			}
			r = ops->webhook(c->self, body ? body : "", body ? strlen(body) : 0, &pg,
			                 &call);
		}
		out = call_json(r, &call);
		json_object_set_new(out, "page", page_json(&pg));
		cc_page_clear(&pg);
		return out;
	}
	struct cc_observation o;
	cc_observation_init(&o);
	const char *id = json_string_value(json_object_get(step, "id"));
	if (strcmp(op, "read") == 0) {
		r = ops->read(c->self, id ? id : "", &o, &call);
		out = call_json(r, &call);
		if (r == CC_OK)
			json_object_set_new(out, "record", record_json(&o));
	} else if (strcmp(op, "find") == 0) {
		bool found = false;
		const char *corr = json_string_value(json_object_get(step, "correlation_id"));
		r = ops->find_by_correlation(c->self, corr ? corr : "", &o, &found, &call);
		out = call_json(r, &call);
		json_object_set_new(out, "found", json_boolean(found));
		if (r == CC_OK && found)
			json_object_set_new(out, "record", record_json(&o));
	} else if (strcmp(op, "create") == 0 || strcmp(op, "update") == 0) {
		struct cc_write w;
		write_of(step, &w);
		r = op[0] == 'c' ? ops->create(c->self, &w, &o, &call)
		                 : ops->update(c->self, &w, &o, &call);
		out = call_json(r, &call);
		if (r == CC_OK)
			json_object_set_new(out, "record", record_json(&o));
	} else if (strcmp(op, "comment") == 0) {
		char *cid = NULL;
		const char *body = json_string_value(json_object_get(step, "body"));
		r = ops->add_comment(c->self, id ? id : "", body ? body : "", &cid, &call);
		out = call_json(r, &call);
		if (r == CC_OK)
			json_object_set_new(out, "comment_id", cid ? json_string(cid) : json_null());
		free(cid);
	} else {
		failf("unknown op %s", op);
	}
	if (o.remote_id)
		g_prev_rv = o.rv;
	cc_observation_clear(&o);
	return out;
}

/* ---- one scenario ---------------------------------------------------------------- */

static const char *g_live_url, *g_live_secret, *g_live_out;

/* Runs the scenario in file; true when it passes. */
static bool run_scenario(const char *file)
{
	json_error_t je;
	json_t *sc = json_load_file(file, 0, &je);
	cc_buf_free(&g_fail);
	g_prev_id[0] = '\0';
	g_prev_mtime = 0;
	g_prev_rv = 0;
	g_interrupt_polls = 0;
	const char *kind = json_string_value(json_object_get(sc, "kind"));
	if (!sc || !kind) {
		printf("FAIL %s: %s\n", file, sc ? "no kind" : je.text);
		json_decref(sc);
		return false;
	}
	bool live = g_live_url != NULL;
	struct cc_connector c = { 0 };
	json_t *answers = json_array();
	if ((live || server_start(sc, kind) == 0) &&
	    make_connector(&c, sc, kind, live ? g_live_url : srv.url,
	                   live ? g_live_secret : REPLAY_SECRET) == 0) {
		size_t i;
		json_t *step;
		json_array_foreach(json_object_get(sc, "steps"), i, step) {
			int polls_before = g_interrupt_polls;
			json_t *got = run_step(&c, step);
			json_t *want = json_object_get(step, "expect");
			char where[64];
			snprintf(where, sizeof(where), "step %zu (%s)", i + 1,
			         json_string_value(json_object_get(step, "op")));
			if (got && want)
				holds(want, got, where);
			json_int_t min = json_integer_value(json_object_get(want, "interrupt_polls_min"));
			if (min && g_interrupt_polls - polls_before < min)
				failf("%s: the interrupt hook was asked %d times, at least %d expected",
				      where, g_interrupt_polls - polls_before, (int)min);
			json_array_append_new(answers, got ? got : json_null());
		}
	}
	if (c.ops)
		c.ops->destroy(c.self);
	if (!live)
		server_stop();
	if (live && g_live_out && json_dump_file(answers, g_live_out, JSON_INDENT(1)) != 0)
		failf("cannot write %s", g_live_out);
	json_decref(answers);
	bool ok = g_fail.len == 0;
	printf("%s %s: %s\n", ok ? "ok  " : "FAIL", file,
	       json_string_value(json_object_get(sc, "scenario")));
	if (!ok)
		fputs((char *)g_fail.data, stdout);
	json_decref(sc);
	return ok;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.json of dir, in name order. */
static bool run_dir(const char *dir, int *n)
{
	DIR *d = opendir(dir);
	if (!d)
		return run_scenario(dir) ? (++*n, true) : (++*n, false);
	char *names[512];
	size_t k = 0;
	for (struct dirent *e; (e = readdir(d)) && k < 512;) {
		size_t l = strlen(e->d_name);
		if (l > 5 && strcmp(e->d_name + l - 5, ".json") == 0)
			names[k++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, k, sizeof(*names), by_name);
	bool ok = true;
	for (size_t i = 0; i < k; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		ok = run_scenario(path) && ok;
		++*n;
		free(names[i]);
	}
	return ok;
}

int main(int argc, char **argv)
{
	int i = 1;
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--live") == 0)
			g_live_url = argv[i + 1];
		else if (strcmp(argv[i], "--secret") == 0)
			g_live_secret = argv[i + 1];
		else if (strcmp(argv[i], "--out") == 0)
			g_live_out = argv[i + 1];
	}
	if (i >= argc || (g_live_url && !g_live_secret)) {
		fprintf(stderr, "usage: test_replay [--live URL --secret S --out FILE] "
		                "SCENARIO.json|DIR...\n");
		return 2;
	}
	bool ok = true;
	int n = 0;
	for (; i < argc; i++)
		ok = run_dir(argv[i], &n) && ok;
	printf("%d scenarios, %s\n", n, ok ? "all passed" : "some failed");
	cc_buf_free(&g_fail);
	return ok ? 0 : 1;
}
