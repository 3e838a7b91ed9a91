/*
 * The HTTP client (see client.h), on libcurl's easy interface.
 *
 * One client holds one CURL handle, reused for every request so that the
 * connection to the system stays alive between calls. The handle is reset
 * before each request (curl_easy_reset keeps live connections and the DNS
 * cache), so no option of one request leaks into the next.
 *
 * Two things can hold a request back. The token bucket (rate_per_sec,
 * burst) makes the caller wait, with clock_nanosleep on CLOCK_MONOTONIC,
 * until a token is there. A hold set by the system itself (Retry-After on a
 * RETRY answer, or X-RateLimit-Remaining: 0 with X-RateLimit-Reset) is not
 * waited for: until it ends, every request answers RETRY at once with the
 * time left, without sending anything, and the outbox reschedules.
 *
 * What a request writes into struct cc_call: result, outcome_unknown,
 * retry_after_ms and reason are set by every request; requests is
 * incremented when a request is actually sent (so a connector that makes
 * several requests for one operation reports them all); has_date/date_s
 * are set when the answer carries a Date header. sent_ms and recv_ms are
 * the hub's clock and are left to the caller.
 *
 * A client is used by one thread at a time. The authentication header is
 * kept only to be sent: it is never logged, never put into a reason, and
 * wiped when the client is destroyed. Redirects are not followed, so the
 * header never goes to another host.
 */
#include "http/client.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#define DEFAULT_TIMEOUT_MS 30000L
#define DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define DEFAULT_MAX_BODY ((size_t)16 * 1024 * 1024)
#define REASON_BODY_BYTES 120
/* A system asking to be left alone for more than a day is taken at a day. */
#define HOLD_MAX_MS ((int64_t)24 * 3600 * 1000)
#define HEADER_VALUE_MAX 128

struct op_count {
	char *op;
	uint64_t count;
};

struct cc_http_client {
	CURL *curl;
	char *base_url;
	char *auth_header;
	char *ca_file;
	long timeout_ms;
	long connect_timeout_ms;
	size_t max_body;

	/* token bucket; rate 0 is unlimited */
	double rate;
	double burst;
	double tokens;
	int64_t refill_ns; /* CLOCK_MONOTONIC */

	/* set by the system: no request before this (CLOCK_MONOTONIC, 0: none) */
	int64_t hold_until_ns;

	/* the API budget */
	struct op_count *ops;
	size_t nops;
	size_t capops;
	uint64_t total;

	char curl_err[CURL_ERROR_SIZE];
};

/* What one answer carried, gathered by the callbacks during a transfer. */
struct exchange {
	size_t max_body;
	char *body;
	size_t len;
	size_t cap;
	bool too_large;
	bool nomem;
	/* headers of the last response (a 100 Continue starts a new set) */
	char date[HEADER_VALUE_MAX];
	char retry_after[HEADER_VALUE_MAX];
	char rl_remaining[HEADER_VALUE_MAX];
	char rl_reset[HEADER_VALUE_MAX];
	char *location;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until_ns(int64_t deadline)
{
	struct timespec ts = { (time_t)(deadline / 1000000000), (long)(deadline % 1000000000) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

int cc_http_client_create(struct cc_http_client **out, const struct cc_http_options *o,
                          char *err, size_t errlen)
{
	*out = NULL;
	if (!o || !o->base_url || !o->base_url[0]) {
		set_err(err, errlen, "http client: base_url is required");
		return CC_EINVAL;
	}
	if (o->auth_header && (strchr(o->auth_header, '\r') || strchr(o->auth_header, '\n') ||
	                       !strchr(o->auth_header, ':'))) {
		/* The header is not quoted: it could be a secret. */
		set_err(err, errlen, "http client: auth_header must be one \"Name: value\" line");
		return CC_EINVAL;
	}
	if (o->rate_per_sec < 0 || o->burst < 0) {
		set_err(err, errlen, "http client: rate_per_sec and burst must not be negative");
		return CC_EINVAL;
	}
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		set_err(err, errlen, "http client: curl_global_init failed");
		return CC_ENOMEM;
	}

	int rc = CC_ENOMEM;
	struct cc_http_client *c = calloc(1, sizeof(*c));
	if (!c)
		goto fail;
	c->base_url = dup_str(o->base_url);
	if (!c->base_url)
		goto fail;
	size_t n = strlen(c->base_url);
	while (n > 0 && c->base_url[n - 1] == '/')
		c->base_url[--n] = '\0';
	if (o->auth_header && !(c->auth_header = dup_str(o->auth_header)))
		goto fail;
	if (o->ca_file && !(c->ca_file = dup_str(o->ca_file)))
		goto fail;
	c->curl = curl_easy_init();
	if (!c->curl)
		goto fail;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms
	                                                  : DEFAULT_CONNECT_TIMEOUT_MS;
	c->max_body = o->max_body > 0 ? o->max_body : DEFAULT_MAX_BODY;
	c->rate = o->rate_per_sec;
	c->burst = o->burst > 0 ? o->burst : o->rate_per_sec;
	if (c->burst < 1)
		c->burst = 1; /* a bucket smaller than one token would never let a request out */
	c->tokens = c->burst;
	c->refill_ns = mono_ns();
	*out = c;
	return CC_EOK;
fail:
	set_err(err, errlen, "http client: out of memory");
	cc_http_client_destroy(c);
	return rc;
}

void cc_http_client_destroy(struct cc_http_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	if (c->auth_header) {
		explicit_bzero(c->auth_header, strlen(c->auth_header));
		free(c->auth_header);
	}
	free(c->base_url);
	free(c->ca_file);
	for (size_t i = 0; i < c->nops; i++)
		free(c->ops[i].op);
	free(c->ops);
	free(c);
}

void cc_http_response_clear(struct cc_http_response *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->location);
	memset(r, 0, sizeof(*r));
}

uint64_t cc_http_requests(const struct cc_http_client *c, const char *op)
{
	if (!c)
		return 0;
	if (!op)
		return c->total;
	for (size_t i = 0; i < c->nops; i++)
		if (strcmp(c->ops[i].op, op) == 0)
			return c->ops[i].count;
	return 0;
}

char *cc_http_escape(const char *s)
{
	if (!s)
		return NULL;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return NULL;
	if (!s[0])
		return dup_str("");
	/* Since curl 7.82 the handle may be NULL. */
	char *e = curl_easy_escape(NULL, s, 0);
	if (!e)
		return NULL;
	char *d = dup_str(e); /* so that the caller frees with free() */
	curl_free(e);
	return d;
}

/* The counter of one operation, created on first use; NULL when out of memory. */
static struct op_count *op_slot(struct cc_http_client *c, const char *op)
{
	for (size_t i = 0; i < c->nops; i++)
		if (strcmp(c->ops[i].op, op) == 0)
			return &c->ops[i];
	if (c->nops == c->capops) {
		size_t cap = c->capops ? c->capops * 2 : 8;
		struct op_count *ops = realloc(c->ops, cap * sizeof(*ops));
		if (!ops)
			return NULL;
		c->ops = ops;
		c->capops = cap;
	}
	char *name = dup_str(op);
	if (!name)
		return NULL;
	c->ops[c->nops] = (struct op_count){ name, 0 };
	return &c->ops[c->nops++];
}

/* Takes one token, waiting for it when the bucket is empty. */
static void limiter_take(struct cc_http_client *c)
{
	if (c->rate <= 0)
		return;
	int64_t now = mono_ns();
	c->tokens += (double)(now - c->refill_ns) / 1e9 * c->rate;
	if (c->tokens > c->burst)
		c->tokens = c->burst;
	c->refill_ns = now;
	if (c->tokens < 1.0) {
		int64_t wait_ns = (int64_t)((1.0 - c->tokens) / c->rate * 1e9) + 1;
		sleep_until_ns(now + wait_ns);
		now = mono_ns();
		c->tokens += (double)(now - c->refill_ns) / 1e9 * c->rate;
		if (c->tokens > c->burst)
			c->tokens = c->burst;
		c->refill_ns = now;
	}
	c->tokens -= 1.0;
	if (c->tokens < 0)
		c->tokens = 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct exchange *x = userdata;
	size_t n = size * nmemb;
	if (n > x->max_body - x->len) {
		x->too_large = true;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	if (x->len + n + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 4096;
		while (cap < x->len + n + 1)
			cap *= 2;
		if (cap > x->max_body + 1)
			cap = x->max_body + 1;
		char *b = realloc(x->body, cap);
		if (!b) {
			x->nomem = true;
			return 0;
		}
		x->body = b;
		x->cap = cap;
	}
	memcpy(x->body + x->len, data, n);
	x->len += n;
	x->body[x->len] = '\0';
	return n;
}

/* Copies a header value, trimmed, into dst (cut at HEADER_VALUE_MAX - 1). */
static void copy_value(char *dst, const char *v, size_t n)
{
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' ||
	                 v[n - 1] == '\t'))
		n--;
	if (n >= HEADER_VALUE_MAX)
		n = HEADER_VALUE_MAX - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static bool header_is(const char *line, size_t namelen, const char *name)
{
	return strlen(name) == namelen && strncasecmp(line, name, namelen) == 0;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *userdata)
{
	struct exchange *x = userdata;
	size_t n = size * nmemb;
	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue, say): forget the previous headers. */
		x->date[0] = x->retry_after[0] = x->rl_remaining[0] = x->rl_reset[0] = '\0';
		free(x->location);
		x->location = NULL;
		return n;
	}
	const char *colon = memchr(line, ':', n);
	if (!colon)
		return n;
	size_t namelen = (size_t)(colon - line);
	const char *v = colon + 1;
	size_t vn = n - namelen - 1;
	if (header_is(line, namelen, "Date"))
		copy_value(x->date, v, vn);
	else if (header_is(line, namelen, "Retry-After"))
		copy_value(x->retry_after, v, vn);
	else if (header_is(line, namelen, "X-RateLimit-Remaining") ||
	         header_is(line, namelen, "RateLimit-Remaining"))
		copy_value(x->rl_remaining, v, vn);
	else if (header_is(line, namelen, "X-RateLimit-Reset") ||
	         header_is(line, namelen, "RateLimit-Reset"))
		copy_value(x->rl_reset, v, vn);
	else if (header_is(line, namelen, "Location")) {
		char tmp[2048];
		size_t cut = vn < sizeof(tmp) ? vn : sizeof(tmp) - 1;
		memcpy(tmp, v, cut);
		tmp[cut] = '\0';
		size_t a = strspn(tmp, " \t");
		size_t b = strlen(tmp);
		while (b > a && (tmp[b - 1] == '\r' || tmp[b - 1] == '\n' || tmp[b - 1] == ' '))
			b--;
		tmp[b] = '\0';
		free(x->location);
		x->location = dup_str(tmp + a);
		if (!x->location)
			x->nomem = true;
	}
	return n;
}

/* A whole number or decimal of seconds ("2", "1.5"); false for anything else. */
static bool parse_seconds(const char *s, double *out)
{
	if (!s[0] || !((s[0] >= '0' && s[0] <= '9')))
		return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end != '\0' || v < 0)
		return false;
	*out = v;
	return true;
}

/*
 * An ISO 8601 UTC time ("2024-05-19T12:00Z", "2024-05-19T12:00:30.5+02:00"),
 * which some systems use for X-RateLimit-Reset; -1 when it is not one.
 */
static int64_t parse_iso8601(const char *s)
{
	int y, mo, d, h, mi, consumed = 0;
	double sec = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &consumed) != 5)
		return -1;
	const char *p = s + consumed;
	if (*p == ':') {
		char *end;
		sec = strtod(p + 1, &end);
		p = end;
	}
	int tz = 0;
	if (*p == '+' || *p == '-') {
		int th = 0, tm = 0;
		if (sscanf(p + 1, "%2d:%2d", &th, &tm) != 2 && sscanf(p + 1, "%2d%2d", &th, &tm) != 2)
			return -1;
		tz = (th * 60 + tm) * 60 * (*p == '-' ? -1 : 1);
	} else if (*p != 'Z' && *p != '\0') {
		return -1;
	}
	struct tm t = { 0 };
	t.tm_year = y - 1900;
	t.tm_mon = mo - 1;
	t.tm_mday = d;
	t.tm_hour = h;
	t.tm_min = mi;
	t.tm_sec = (int)sec;
	time_t v = timegm(&t);
	return v == (time_t)-1 ? -1 : (int64_t)v - tz;
}

/* An absolute time in a header (HTTP date or ISO 8601), seconds; -1 if none. */
static int64_t parse_time(const char *s)
{
	time_t t = curl_getdate(s, NULL);
	if (t != (time_t)-1)
		return (int64_t)t;
	return parse_iso8601(s);
}

static int64_t clamp_ms(double ms)
{
	if (ms <= 0)
		return 0;
	if (ms > (double)HOLD_MAX_MS)
		return HOLD_MAX_MS;
	return (int64_t)ms;
}

/* Retry-After: delay-seconds or an HTTP date; -1 when absent or unreadable. */
static int64_t retry_after_ms(const char *v, int64_t now_s)
{
	double secs;
	if (!v[0])
		return -1;
	if (parse_seconds(v, &secs))
		return clamp_ms(secs * 1000.0);
	int64_t t = parse_time(v);
	if (t < 0)
		return -1;
	return clamp_ms((double)(t - now_s) * 1000.0);
}

/*
 * X-RateLimit-Reset: seconds until the reset (GitLab's RateLimit-Reset,
 * the IETF draft), epoch seconds (GitHub, Redmine plugins) or epoch
 * milliseconds, or an absolute time (Jira's ISO 8601); -1 when unreadable.
 */
static int64_t rate_reset_ms(const char *v, int64_t now_s)
{
	double n;
	if (!v[0])
		return -1;
	if (parse_seconds(v, &n)) {
		if (n >= 1e12) /* epoch milliseconds */
			return clamp_ms(n - (double)now_s * 1000.0);
		if (n >= 1e9) /* epoch seconds */
			return clamp_ms((n - (double)now_s) * 1000.0);
		return clamp_ms(n * 1000.0);
	}
	int64_t t = parse_time(v);
	if (t < 0)
		return -1;
	return clamp_ms((double)(t - now_s) * 1000.0);
}

/* "HTTP 404: <start of the body>", the body cut at 120 bytes, on one line. */
static void status_reason(char *reason, size_t len, long status, const char *body,
                          size_t body_len)
{
	char quoted[REASON_BODY_BYTES + 1];
	size_t n = body_len < REASON_BODY_BYTES ? body_len : REASON_BODY_BYTES;
	if (n < body_len) /* do not cut a UTF-8 sequence in two */
		while (n > 0 && ((unsigned char)body[n] & 0xC0) == 0x80)
			n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)body[i];
		quoted[i] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
	}
	quoted[n] = '\0';
	if (n)
		snprintf(reason, len, "HTTP %ld: %s%s", status, quoted, n < body_len ? "..." : "");
	else
		snprintf(reason, len, "HTTP %ld", status);
}

static bool connect_phase_error(CURLcode rc)
{
	/* Failures before any byte of the request could reach the server. */
	return rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY ||
	       rc == CURLE_COULDNT_CONNECT || rc == CURLE_SSL_CONNECT_ERROR;
}

static bool permanent_error(CURLcode rc)
{
	/* Configuration problems that a retry will not cure. */
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_UNKNOWN_OPTION:
	case CURLE_OUT_OF_MEMORY:
		return true;
	default:
		return false;
	}
}

static enum cc_result finish(struct cc_call *call, enum cc_result r)
{
	call->result = r;
	return r;
}

enum cc_result cc_http_request(struct cc_http_client *c, const char *op, const char *method,
                               const char *path, const char *json_body,
                               struct cc_http_response *resp, struct cc_call *call)
{
	struct cc_call local_call;
	struct cc_http_response local_resp;
	if (!call) {
		memset(&local_call, 0, sizeof(local_call));
		call = &local_call;
	}
	if (!resp)
		resp = &local_resp;
	memset(resp, 0, sizeof(*resp));
	call->outcome_unknown = false;
	call->retry_after_ms = 0;
	call->reason[0] = '\0';

	if (!c || !method) {
		snprintf(call->reason, sizeof(call->reason), "http: no client or method");
		return finish(call, CC_ERROR);
	}
	bool is_get = strcmp(method, "GET") == 0;
	bool is_post = strcmp(method, "POST") == 0;
	if (!is_get && !is_post && strcmp(method, "PUT") != 0 && strcmp(method, "DELETE") != 0) {
		snprintf(call->reason, sizeof(call->reason), "http: unsupported method %.16s",
		         method);
		return finish(call, CC_ERROR);
	}

	int64_t now = mono_ns();
	if (c->hold_until_ns > now) {
		int64_t left_ms = (c->hold_until_ns - now + 999999) / 1000000;
		call->retry_after_ms = left_ms;
		snprintf(call->reason, sizeof(call->reason),
		         "rate limited by the system: %lld ms left, not sent", (long long)left_ms);
		return finish(call, CC_RETRY);
	}
	c->hold_until_ns = 0;

	enum cc_result r = CC_ERROR;
	struct exchange x;
	memset(&x, 0, sizeof(x));
	x.max_body = c->max_body;
	struct curl_slist *headers = NULL;
	char *url = NULL;
	struct op_count *slot = NULL;

	if (!path)
		path = "";
	size_t ub = strlen(c->base_url), up = strlen(path);
	url = malloc(ub + up + 1);
	if (!url)
		goto nomem;
	memcpy(url, c->base_url, ub);
	memcpy(url + ub, path, up + 1);
	if (op && !(slot = op_slot(c, op)))
		goto nomem;

	const char *lines[] = {
		c->auth_header,
		"Accept: application/json",
		json_body ? "Content-Type: application/json" : NULL,
		"Expect:", /* no 100-continue round trip for larger bodies */
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (!lines[i])
			continue;
		struct curl_slist *h = curl_slist_append(headers, lines[i]);
		if (!h)
			goto nomem;
		headers = h;
	}

	limiter_take(c);

	CURL *e = c->curl;
	curl_easy_reset(e);
	c->curl_err[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "concord/0.1");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_body);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (c->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, &x);
	if (is_get) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (json_body || !strcmp(method, "POST") || !strcmp(method, "PUT")) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		                 (curl_off_t)(json_body ? strlen(json_body) : 0));
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, json_body ? json_body : "");
		if (!is_post)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	}

	CURLcode rc = curl_easy_perform(e);
	c->total++;
	if (slot)
		slot->count++;
	call->requests++;

	long status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	resp->status = status;

	int64_t now_s = (int64_t)time(NULL);
	if (x.date[0]) {
		time_t d = curl_getdate(x.date, NULL);
		if (d != (time_t)-1) {
			resp->has_date = call->has_date = true;
			resp->date_s = call->date_s = (int64_t)d;
			now_s = (int64_t)d; /* dates in other headers are on the system's clock */
		}
	}

	if (x.nomem) {
		snprintf(call->reason, sizeof(call->reason), "http: out of memory");
		r = CC_ERROR;
	} else if (x.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(call->reason, sizeof(call->reason),
		         "response too large (HTTP %ld, over %zu bytes)", status, c->max_body);
		r = CC_ERROR;
	} else if (rc != CURLE_OK) {
		snprintf(call->reason, sizeof(call->reason), "%.60s%s%.94s", curl_easy_strerror(rc),
		         c->curl_err[0] ? ": " : "", c->curl_err);
		if (permanent_error(rc)) {
			r = CC_ERROR;
		} else {
			/* Timeouts, dropped connections and anything unforeseen are
			 * transient. Once the request may have left, a write may have
			 * been applied: only a GET is known to change nothing. */
			r = CC_RETRY;
			call->outcome_unknown = !is_get && !connect_phase_error(rc);
		}
	} else if (status >= 200 && status < 300) {
		r = CC_OK;
	} else {
		status_reason(call->reason, sizeof(call->reason), status, x.body, x.len);
		if (status == 409 || status == 412) {
			r = CC_CONFLICT;
		} else if (status == 429 || status >= 500) {
			r = CC_RETRY;
			/* A gateway's 502 or 504 (or any 5xx) may come after the
			 * system applied a write: read before writing again. */
			call->outcome_unknown = !is_get && status >= 500 && status != 503;
			int64_t ra = retry_after_ms(x.retry_after, now_s);
			if (ra < 0 && status == 429 && x.rl_reset[0])
				ra = rate_reset_ms(x.rl_reset, now_s);
			if (ra > 0) {
				call->retry_after_ms = ra;
				c->hold_until_ns = mono_ns() + ra * 1000000;
			}
		} else {
			r = CC_ERROR;
		}
	}

	/* The budget is spent: hold until the window resets, whatever this answer was. */
	double remaining;
	if (rc == CURLE_OK && parse_seconds(x.rl_remaining, &remaining) && remaining < 1) {
		int64_t reset = rate_reset_ms(x.rl_reset, now_s);
		if (reset > 0) {
			int64_t until = mono_ns() + reset * 1000000;
			if (until > c->hold_until_ns)
				c->hold_until_ns = until;
		}
	}

	/* The body goes to the caller whatever the status: connectors may want an
	 * error's details. */
	if (x.len && !x.too_large && !x.nomem) {
		resp->body = x.body; /* NUL-terminated by on_body */
		resp->len = x.len;
		x.body = NULL;
	}
	resp->location = x.location;
	x.location = NULL;
	goto out;

nomem:
	snprintf(call->reason, sizeof(call->reason), "http: out of memory");
	r = CC_ERROR;
out:
	/* No pointer into this call (URL, headers, callbacks' state) stays in
	 * the handle; live connections survive the reset. */
	curl_easy_reset(c->curl);
	curl_slist_free_all(headers);
	free(url);
	free(x.body);
	free(x.location);
	call->result = r;
	if (resp == &local_resp)
		cc_http_response_clear(&local_resp);
	return r;
}
