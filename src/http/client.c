/*
 * The HTTP client (see client.h), on libcurl's multi interface.
 *
 * One client holds one CURLM handle and a small pool of CURL easy handles,
 * one per concurrent slot (max_concurrency, at most CONCURRENCY_MAX). A
 * batch (cc_http_request_many) runs up to max_concurrency transfers at once
 * on the multi handle; cc_http_request is a batch of one. The multi handle
 * keeps its connection cache between batches, so the connections to the
 * system stay alive from one call to the next; CURLMOPT_MAX_HOST_CONNECTIONS
 * keeps the client at max_concurrency connections. An easy handle is reset
 * before each use (curl_easy_reset), so no option of one request leaks into
 * the next.
 *
 * Two things can hold a request back. The token bucket (rate_per_sec,
 * burst): every request takes a token before it starts; when none is
 * there, the batch waits for it (in curl_multi_poll while other transfers
 * run, on CLOCK_MONOTONIC otherwise). A hold set by the system itself
 * (Retry-After on a RETRY answer, or X-RateLimit-Remaining: 0 with
 * X-RateLimit-Reset), by any answer of a batch, is not waited for: until it
 * ends, every request not yet started answers RETRY at once with the time
 * left, without sending anything, and the outbox reschedules. Transfers
 * already under way finish normally. Both live in a pace (struct
 * cc_http_pace): the client's own, or one shared by every client talking to
 * the same system (a connector's deliveries at once), behind a mutex.
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
 * wiped when it changes or the client is destroyed. Redirects are not
 * followed, so the header never goes to another host. A header that
 * changes (an OAuth token: struct cc_http_auth) is asked for before each
 * call, and a request answered 401 goes once more with a renewed one.
 */
#include "http/client.h"

#include "core/iso8601.h"
#include "core/redact.h"

#include <errno.h>
#include <stdint.h>
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
/* A system asking to be left alone for longer is taken at CC_HTTP_HOLD_MAX_MS. */
#define HOLD_MAX_MS CC_HTTP_HOLD_MAX_MS
#define HEADER_VALUE_MAX 128
#define CONCURRENCY_MAX 16
/* Longest sleep in curl_multi_poll: the interrupt hook is asked this often. */
#define POLL_MAX_MS CC_HTTP_INTERRUPT_MS
#define INTERRUPTED "interrupted: concord is stopping or was asked to"

struct op_count {
	char *op;
	uint64_t count;
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
	char etag[HEADER_VALUE_MAX];
	char total[HEADER_VALUE_MAX];
	bool has_total;
	char *location;
	char *link;
};

/* One concurrent slot: an easy handle and the state of its current transfer. */
struct slot {
	CURL *easy;              /* created on first use, reused after */
	struct cc_http_batch_item *item; /* the transfer under way, NULL when free */
	bool is_get;
	size_t op_index;         /* into ops; SIZE_MAX for no operation name */
	char *url;               /* owned while the transfer runs */
	struct curl_slist *if_headers; /* the headers and If-Match, owned while it runs */
	struct exchange x;
	char curl_err[CURL_ERROR_SIZE];
	int64_t started_ns;      /* when the transfer started (monotonic), for the trace */
};

/* The token bucket and the system's hold; shared between clients, so locked. */
struct cc_http_pace {
	pthread_mutex_t mu;
	double rate;        /* tokens per second; 0 is unlimited */
	double burst;
	double tokens;
	int64_t refill_ns;  /* CLOCK_MONOTONIC */
	int64_t hold_until_ns; /* set by the system: no request before (0: none) */
};

struct cc_http_client {
	CURLM *multi;            /* holds the connection cache */
	struct slot slots[CONCURRENCY_MAX];
	int concurrency;
	struct curl_slist *headers;      /* auth (if any), Accept, Expect */
	struct curl_slist *headers_json; /* the same and Content-Type: application/json */
	char *base_url;
	char *auth_header;
	char *ca_file;
	long timeout_ms;
	long connect_timeout_ms;
	size_t max_body;

	struct cc_http_pace *pace;   /* the bucket and the hold: own or shared */
	bool own_pace;

	/* the API budget */
	struct op_count *ops;
	size_t nops;
	size_t capops;
	uint64_t total;

	int64_t hold_max_ms;     /* the longest hold a system may ask for */
	FILE *trace;             /* one line per request when set */
	bool (*interrupt)(void *ctx);
	void *interrupt_ctx;
	bool interrupted;        /* the hook said stop during this batch */
	const struct cc_http_transport *transport;
	struct cc_http_auth auth;        /* a header that changes (header NULL: none) */
	/* what a reason must never show: the auth header's value and its last
	 * word (the token without "Bearer "), NULL-terminated; owned, wiped */
	char *secrets[4];        /* the header's value, its last word, that word unpadded */
	char *secret[2];    /* options.secret, NULL-terminated (wiped) */
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

static bool append_header(struct curl_slist **list, const char *line);

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

/* Forgets the authentication header: the lists holding it and its copies, wiped. */
static void drop_auth(struct cc_http_client *c)
{
	struct curl_slist **lists[] = { &c->headers, &c->headers_json };
	for (size_t i = 0; i < 2; i++) {
		for (struct curl_slist *h = *lists[i]; h; h = h->next)
			explicit_bzero(h->data, strlen(h->data));
		curl_slist_free_all(*lists[i]);
		*lists[i] = NULL;
	}
	if (c->auth_header) {
		explicit_bzero(c->auth_header, strlen(c->auth_header));
		free(c->auth_header);
		c->auth_header = NULL;
	}
	for (int i = 0; c->secrets[i]; i++) {
		explicit_bzero(c->secrets[i], strlen(c->secrets[i]));
		free(c->secrets[i]);
		c->secrets[i] = NULL;
	}
}

/*
 * Sets the header lists every request starts from, with the authentication
 * header `line` (NULL: none), and what a reason must never show: its value
 * and the value's last word (the token without "Bearer "). 0, or
 * CC_ENOMEM (then the client has no header lists: requests fail).
 */
static int set_auth_line(struct cc_http_client *c, const char *line)
{
	drop_auth(c);
	if (line && !(c->auth_header = dup_str(line)))
		return CC_ENOMEM;
	const char *lines[] = {
		c->auth_header,
		"Accept: application/json",
		"Expect:", /* no 100-continue round trip for larger bodies */
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (!lines[i])
			continue;
		if (!append_header(&c->headers, lines[i]) || !append_header(&c->headers_json, lines[i]))
			goto nomem;
	}
	if (!append_header(&c->headers_json, "Content-Type: application/json"))
		goto nomem;
	if (c->auth_header) {
		const char *v = strchr(c->auth_header, ':') + 1;
		while (*v == ' ')
			v++;
		const char *last = strrchr(v, ' ');
		if (!(c->secrets[0] = dup_str(v)) || (last && !(c->secrets[1] = dup_str(last + 1))))
			goto nomem;
		/* base64 without its '=' padding is the same credential (Basic) */
		size_t ln = c->secrets[1] ? strlen(c->secrets[1]) : 0, k = ln;
		while (k && c->secrets[1][k - 1] == '=')
			k--;
		if (k < ln && k && !(c->secrets[2] = strndup(c->secrets[1], k)))
			goto nomem;
	}
	return CC_EOK;
nomem:
	drop_auth(c);
	return CC_ENOMEM;
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
	if (o->rate_per_sec < 0 || o->burst < 0 || o->max_concurrency < 0) {
		set_err(err, errlen,
		        "http client: rate_per_sec, burst and max_concurrency must not be negative");
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
	if (o->ca_file && !(c->ca_file = dup_str(o->ca_file)))
		goto fail;
	if (o->secret && o->secret[0] && !(c->secret[0] = dup_str(o->secret)))
		goto fail;
	if (set_auth_line(c, o->auth ? NULL : o->auth_header))
		goto fail;
	if (o->auth)
		c->auth = *o->auth;

	c->concurrency = o->max_concurrency > 0 ? o->max_concurrency : CC_HTTP_CONCURRENCY_DEFAULT;
	if (c->concurrency > CONCURRENCY_MAX)
		c->concurrency = CONCURRENCY_MAX;
	/* A stand-in transport needs no connections. */
	if (!o->transport && !(c->multi = curl_multi_init()))
		goto fail;
	/* Never more connections than slots; the cache keeps them all between batches. */
	if (c->multi &&
	    (curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->concurrency) !=
	             CURLM_OK ||
	     curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->concurrency) != CURLM_OK))
		goto fail;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms
	                                                  : DEFAULT_CONNECT_TIMEOUT_MS;
	c->max_body = o->max_body > 0 ? o->max_body : DEFAULT_MAX_BODY;
	if (o->pace)
		c->pace = o->pace;
	else if (cc_http_pace_create(&c->pace, o->rate_per_sec, o->burst) == 0)
		c->own_pace = true;
	else
		goto fail;
	c->hold_max_ms = o->hold_max_ms > 0 ? o->hold_max_ms : HOLD_MAX_MS;
	c->trace = o->trace;
	c->interrupt = o->interrupt;
	c->interrupt_ctx = o->interrupt_ctx;
	c->transport = o->transport;
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
	/* No easy handle is attached to the multi handle between batches. */
	if (c->multi)
		curl_multi_cleanup(c->multi);
	for (int i = 0; i < CONCURRENCY_MAX; i++)
		if (c->slots[i].easy)
			curl_easy_cleanup(c->slots[i].easy);
	drop_auth(c);
	if (c->secret[0]) {
		explicit_bzero(c->secret[0], strlen(c->secret[0]));
		free(c->secret[0]);
	}
	free(c->base_url);
	free(c->ca_file);
	for (size_t i = 0; i < c->nops; i++)
		free(c->ops[i].op);
	free(c->ops);
	if (c->own_pace)
		cc_http_pace_destroy(c->pace);
	free(c);
}

int cc_http_pace_create(struct cc_http_pace **out, double rate_per_sec, double burst)
{
	struct cc_http_pace *p = calloc(1, sizeof(*p));
	if (!p || pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p);
		return CC_ENOMEM;
	}
	p->rate = rate_per_sec > 0 ? rate_per_sec : 0;
	p->burst = burst > 0 ? burst : p->rate;
	if (p->burst < 1)
		p->burst = 1; /* a bucket smaller than one token would never let a request out */
	p->tokens = p->burst;
	p->refill_ns = mono_ns();
	*out = p;
	return CC_EOK;
}

void cc_http_pace_destroy(struct cc_http_pace *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* The system asked for no request before until (CLOCK_MONOTONIC ns). */
static void pace_hold(struct cc_http_pace *p, int64_t until)
{
	pthread_mutex_lock(&p->mu);
	if (until > p->hold_until_ns)
		p->hold_until_ns = until;
	pthread_mutex_unlock(&p->mu);
}

void cc_http_redact(const struct cc_http_client *c, char *text, size_t cap)
{
	if (c && c->secret[0])
		cc_redact(text, cap, (const char *const *)c->secret);
	cc_redact(text, cap, c ? (const char *const *)c->secrets : NULL);
}

void cc_http_response_clear(struct cc_http_response *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->location);
	free(r->link);
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

size_t cc_http_budget(const struct cc_http_client *c, struct cc_budget_line *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; c && i < c->nops && n < max; i++, n++) {
		snprintf(out[n].op, sizeof(out[n].op), "%s", c->ops[i].op);
		out[n].requests = c->ops[i].count;
	}
	return n;
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

/*
 * Takes one token and returns 0, or returns how long (ns, > 0) until one
 * is there without taking anything.
 */
static int64_t limiter_try(struct cc_http_client *c)
{
	struct cc_http_pace *p = c->pace;
	int64_t wait = 0;
	pthread_mutex_lock(&p->mu);
	if (p->rate > 0) {
		int64_t now = mono_ns();
		p->tokens += (double)(now - p->refill_ns) / 1e9 * p->rate;
		if (p->tokens > p->burst)
			p->tokens = p->burst;
		p->refill_ns = now;
		if (p->tokens < 1.0)
			wait = (int64_t)((1.0 - p->tokens) / p->rate * 1e9) + 1;
		else
			p->tokens -= 1.0;
	}
	pthread_mutex_unlock(&p->mu);
	return wait;
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

/* Appends a copy of line to *list; false when out of memory (the list stays). */
static bool append_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *h = curl_slist_append(*list, line);
	if (!h)
		return false;
	*list = h;
	return true;
}

/* Frees a per-request header list; the auth line in it is wiped first. */
static void free_headers(struct curl_slist **list)
{
	for (struct curl_slist *h = *list; h; h = h->next)
		memset(h->data, 0, strlen(h->data));
	curl_slist_free_all(*list);
	*list = NULL;
}

static bool header_is(const char *line, size_t namelen, const char *name)
{
	return strlen(name) == namelen && strncasecmp(line, name, namelen) == 0;
}

/* Longest Link value kept (all its lines together): a page's links are far shorter. */
#define LINK_MAX 16384

/* Adds one Link line's value (blanks and CR LF trimmed) to x->link, after ", ". */
static void add_link(struct exchange *x, const char *v, size_t vn)
{
	while (vn && (*v == ' ' || *v == '\t'))
		v++, vn--;
	while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' ' ||
	              v[vn - 1] == '\t'))
		vn--;
	size_t old = x->link ? strlen(x->link) : 0;
	if (!vn || old + vn + 3 > LINK_MAX)
		return;
	char *p = realloc(x->link, old + vn + 3);
	if (!p) {
		x->nomem = true;
		return;
	}
	if (old)
		memcpy(p + old, ", ", 2), old += 2;
	memcpy(p + old, v, vn);
	p[old + vn] = '\0';
	x->link = p;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *userdata)
{
	struct exchange *x = userdata;
	size_t n = size * nmemb;
	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue, say): forget the previous headers. */
		x->date[0] = x->retry_after[0] = x->rl_remaining[0] = x->rl_reset[0] = '\0';
		x->etag[0] = x->total[0] = '\0';
		x->has_total = false;
		free(x->location);
		x->location = NULL;
		free(x->link);
		x->link = NULL;
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
	else if (header_is(line, namelen, "ETag"))
		copy_value(x->etag, v, vn);
	else if (header_is(line, namelen, "X-Total-Count")) {
		copy_value(x->total, v, vn);
		x->has_total = true;
	} else if (header_is(line, namelen, "Link"))
		add_link(x, v, vn);
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

/* An ETag without its weak mark and quotes: W/"1245" or "1245" -> 1245;
 * "" when none or too long to compare whole. */
static void etag_value(char *dst, size_t len, const char *raw)
{
	const char *t = strncmp(raw, "W/", 2) == 0 ? raw + 2 : raw;
	size_t n = strlen(t);
	if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
		t++;
		n -= 2;
	}
	if (n >= len)
		n = 0;
	memcpy(dst, t, n);
	dst[n] = '\0';
}

static double pow10_of(size_t n)
{
	double p = 1;
	while (n--)
		p *= 10;
	return p;
}

/* Digits only (RFC 9110 delay-seconds); false for anything else or an overflow. */
static bool parse_digits(const char *s, double *out)
{
	if (!s[0] || strlen(s) > 18)
		return false;
	double v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return true;
}

/* Digits with an optional fraction ("2", "1.5"): rate-limit counters. */
static bool parse_decimal(const char *s, double *out)
{
	const char *dot = strchr(s, '.');
	char whole[24];
	if (!dot)
		return parse_digits(s, out);
	size_t n = (size_t)(dot - s);
	if (n == 0 || n >= sizeof(whole))
		return false;
	memcpy(whole, s, n);
	whole[n] = '\0';
	double w, f;
	if (!parse_digits(whole, &w) || !parse_digits(dot + 1, &f))
		return false;
	*out = w + f / pow10_of(strlen(dot + 1));
	return true;
}

static int month_of(const char *m)
{
	static const char *const names[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	for (int i = 0; i < 12; i++)
		if (strcmp(m, names[i]) == 0)
			return i + 1;
	return 0;
}

static bool day_name(const char *d, bool longform)
{
	static const char *const shortn[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	static const char *const longn[] = { "Monday", "Tuesday", "Wednesday", "Thursday",
		                             "Friday", "Saturday", "Sunday" };
	for (int i = 0; i < 7; i++)
		if (strcmp(d, longform ? longn[i] : shortn[i]) == 0)
			return true;
	return false;
}

static bool date_fields(int y, int mo, int d, int h, int mi, int sec, int64_t *out)
{
	char iso[32];
	if (mo < 1 || y < 0 || y > 9999)
		return false;
	snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, sec);
	return cc_iso8601_parse(iso, out);
}

bool cc_http_date_parse(const char *v, int64_t *out)
{
	char wd[16], mon[4], tz[4];
	int d, y, h, mi, sec, n = 0;
	if (!v)
		return false;
	size_t len = strlen(v);
	/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
	if (len == 29 && sscanf(v, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3[A-Z]%n", wd, &d,
	                        mon, &y, &h, &mi, &sec, tz, &n) == 8 && n == 29 &&
	    day_name(wd, false) && strcmp(tz, "GMT") == 0)
		return date_fields(y, month_of(mon), d, h, mi, sec, out);
	/* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (years 70-99 are 19xx) */
	if (sscanf(v, "%9[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d %3[A-Z]%n", wd, &d, mon, &y, &h,
	           &mi, &sec, tz, &n) == 8 && (size_t)n == len && day_name(wd, true) &&
	    strcmp(tz, "GMT") == 0)
		return date_fields(y < 70 ? 2000 + y : 1900 + y, month_of(mon), d, h, mi, sec, out);
	/* asctime: Sun Nov  6 08:49:37 1994 */
	if (len == 24 && sscanf(v, "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", wd, mon, &d, &h,
	                        &mi, &sec, &y, &n) == 7 && n == 24 && day_name(wd, false))
		return date_fields(y, month_of(mon), d, h, mi, sec, out);
	return false;
}

/* An absolute time in a header (HTTP-date or ISO 8601), seconds; -1 if none. */
static int64_t parse_time(const char *s)
{
	int64_t t;
	if (cc_http_date_parse(s, &t) || cc_iso8601_parse(s, &t))
		return t;
	return -1;
}

static int64_t clamp_ms(double ms)
{
	if (ms <= 0)
		return 0;
	if (ms > (double)HOLD_MAX_MS)
		return HOLD_MAX_MS;
	return (int64_t)ms;
}

int64_t cc_http_retry_after_ms(const char *v, int64_t now_s)
{
	double secs;
	if (!v || !v[0])
		return -1;
	if (parse_digits(v, &secs))
		return clamp_ms(secs * 1000.0);
	int64_t t;
	if (!cc_http_date_parse(v, &t))
		return -1;
	return clamp_ms((double)(t - now_s) * 1000.0);
}

static int64_t retry_after_ms(const char *v, int64_t now_s)
{
	return cc_http_retry_after_ms(v, now_s);
}

/*
 * X-RateLimit-Reset: seconds until the reset (GitLab's RateLimit-Reset,
 * the IETF draft), epoch seconds (GitHub, Redmine plugins) or epoch
 * milliseconds, or an absolute time (Jira's ISO 8601); -1 when unreadable.
 * Capped like Retry-After.
 */
static int64_t rate_reset_ms(const char *v, int64_t now_s)
{
	double n;
	if (!v[0])
		return -1;
	if (parse_decimal(v, &n)) {
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

/* Ends an item without sending it. */
static void end_unsent(struct cc_http_batch_item *it, enum cc_result r, int64_t retry_ms,
                       const char *reason)
{
	it->call.result = r;
	it->call.retry_after_ms = retry_ms;
	snprintf(it->call.reason, sizeof(it->call.reason), "%s", reason);
}

/* The ms left of the system's hold, 0 when there is none (and it is then dropped). */
static int64_t hold_left_ms(struct cc_http_client *c)
{
	struct cc_http_pace *p = c->pace;
	int64_t now = mono_ns(), left = 0;
	pthread_mutex_lock(&p->mu);
	if (p->hold_until_ns > now)
		left = (p->hold_until_ns - now + 999999) / 1000000;
	else
		p->hold_until_ns = 0;
	pthread_mutex_unlock(&p->mu);
	return left;
}

/*
 * Configures the slot's easy handle for the item and adds it to the multi
 * handle. Returns false (the item ended with ERROR, nothing sent) when out
 * of memory or when curl refuses the handle.
 */
static bool transfer_start(struct cc_http_client *c, struct slot *s, struct cc_http_batch_item *it)
{
	const char *path = it->path ? it->path : "";
	const char *method = it->method;
	s->is_get = strcmp(method, "GET") == 0;
	s->op_index = SIZE_MAX;
	s->started_ns = mono_ns();
	if (it->op) {
		struct op_count *oc = op_slot(c, it->op);
		if (!oc)
			goto nomem;
		s->op_index = (size_t)(oc - c->ops);
	}
	if (!s->easy && !(s->easy = curl_easy_init()))
		goto nomem;
	size_t ub = strlen(c->base_url), up = strlen(path);
	s->url = malloc(ub + up + 1);
	if (!s->url)
		goto nomem;
	memcpy(s->url, c->base_url, ub);
	memcpy(s->url + ub, path, up + 1);
	memset(&s->x, 0, sizeof(s->x));
	s->x.max_body = c->max_body;
	s->curl_err[0] = '\0';

	CURL *e = s->easy;
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)s);
	curl_easy_setopt(e, CURLOPT_URL, s->url);
	struct curl_slist *base = it->json_body ? c->headers_json : c->headers;
	const char *body = it->json_body ? it->json_body : it->form_body;
	if (it->if_match || (it->form_body && !it->json_body)) {
		/* the client's headers and If-Match: "<tag>" or the form's type */
		char line[128];
		if (it->if_match && (snprintf(line, sizeof(line), "If-Match: \"%s\"", it->if_match) >=
		                     (int)sizeof(line) || strpbrk(it->if_match, "\"\r\n"))) {
			end_unsent(it, CC_ERROR, 0, "http: unusable If-Match tag");
			goto undo;
		}
		for (struct curl_slist *h = base; h; h = h->next)
			if (!append_header(&s->if_headers, h->data))
				goto nomem;
		if (it->if_match && !append_header(&s->if_headers, line))
			goto nomem;
		if (!it->json_body &&
		    !append_header(&s->if_headers, "Content-Type: application/x-www-form-urlencoded"))
			goto nomem;
		base = s->if_headers;
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, base);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "concord/0.1");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->curl_err);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_body);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (c->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &s->x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, &s->x);
	/*
	 * A POST or PATCH gets a connection of its own: libcurl sends a request
	 * again by itself when a connection it reused dies before any answer,
	 * and a server that applied the request and then closed without an
	 * answer would apply it twice (two records from one create, two
	 * comments). PUT and DELETE may be sent again: they are idempotent.
	 */
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT,
	                 (!strcmp(method, "POST") || !strcmp(method, "PATCH")) ? 1L : 0L);
	if (s->is_get) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (body || !strcmp(method, "POST") || !strcmp(method, "PUT")) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? strlen(body) : 0));
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	}

	CURLMcode mc = curl_multi_add_handle(c->multi, e);
	if (mc != CURLM_OK) {
		snprintf(it->call.reason, sizeof(it->call.reason), "http: curl_multi_add_handle: %s",
		         curl_multi_strerror(mc));
		it->call.result = CC_ERROR;
		goto undo;
	}
	s->item = it;
	return true;

nomem:
	end_unsent(it, CC_ERROR, 0, "http: out of memory");
undo:
	free(s->url);
	s->url = NULL;
	free_headers(&s->if_headers);
	if (s->easy)
		curl_easy_reset(s->easy);
	return false;
}

/*
 * Maps an ended exchange to its item's result: curl's code rc (CURLE_OK
 * when an answer came), the HTTP status, what the callbacks gathered in x
 * and curl's message. Counts it in the API budget, sets or extends the
 * system's hold, and hands the body over to the item. Shared by libcurl's
 * transfers and a stand-in transport's answers.
 */
static void finish(struct cc_http_client *c, struct cc_http_batch_item *it, struct exchange *x,
                   bool is_get, size_t op_index, CURLcode rc, long status, const char *curl_err)
{
	struct cc_call *call = &it->call;
	struct cc_http_response *resp = &it->resp;
	enum cc_result r;

	c->total++;
	if (op_index != SIZE_MAX)
		c->ops[op_index].count++;
	call->requests++;
	resp->status = status;

	int64_t now_s = (int64_t)time(NULL);
	int64_t d;
	if (x->date[0] && cc_http_date_parse(x->date, &d)) {
		resp->has_date = call->has_date = true;
		resp->date_s = call->date_s = d;
		now_s = d; /* dates in other headers are on the system's clock */
	}

	if (x->nomem) {
		snprintf(call->reason, sizeof(call->reason), "http: out of memory");
		r = CC_ERROR;
	} else if (x->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(call->reason, sizeof(call->reason),
		         "response too large (HTTP %ld, over %zu bytes)", status, c->max_body);
		r = CC_ERROR;
	} else if (rc != CURLE_OK) {
		snprintf(call->reason, sizeof(call->reason), "%.60s%s%.94s", curl_easy_strerror(rc),
		         curl_err[0] ? ": " : "", curl_err);
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
		status_reason(call->reason, sizeof(call->reason), status, x->body, x->len);
		if (status == 409 || status == 412) {
			r = CC_CONFLICT;
		} else if (status == 429 || status >= 500) {
			r = CC_RETRY;
			/* A gateway's 502 or 504 (or any 5xx) may come after the
			 * system applied a write: read before writing again. */
			call->outcome_unknown = !is_get && status >= 500 && status != 503;
			int64_t ra = retry_after_ms(x->retry_after, now_s);
			if (ra < 0 && status == 429 && x->rl_reset[0])
				ra = rate_reset_ms(x->rl_reset, now_s);
			if (ra > c->hold_max_ms)
				ra = c->hold_max_ms;
			if (ra > 0) {
				call->retry_after_ms = ra;
				/* Another answer may have asked for longer. */
				pace_hold(c->pace, mono_ns() + ra * 1000000);
			}
		} else {
			r = CC_ERROR;
		}
	}
	/* Remote text in a reason may echo what we sent: never a credential. */
	cc_http_redact(c, call->reason, sizeof(call->reason));

	/* The budget is spent: hold until the window resets, whatever this answer was. */
	double remaining;
	if (rc == CURLE_OK && parse_decimal(x->rl_remaining, &remaining) && remaining < 1) {
		int64_t reset = rate_reset_ms(x->rl_reset, now_s);
		if (reset > c->hold_max_ms)
			reset = c->hold_max_ms;
		if (reset > 0)
			pace_hold(c->pace, mono_ns() + reset * 1000000);
	}

	/* The body goes to the caller whatever the status: connectors may want an
	 * error's details. */
	if (x->len && !x->too_large && !x->nomem) {
		resp->body = x->body; /* NUL-terminated by on_body */
		resp->len = x->len;
		x->body = NULL;
	}
	resp->location = x->location;
	x->location = NULL;
	resp->link = x->link;
	x->link = NULL;
	resp->has_total = x->has_total;
	snprintf(resp->total_text, sizeof(resp->total_text), "%.23s", x->total);
	etag_value(resp->etag, sizeof(resp->etag), x->etag);
	call->result = r;
	free(x->body);
	free(x->location);
	memset(x, 0, sizeof(*x));
}

/* The ended libcurl transfer of slot s (curl's code rc); frees the slot. */
/*
 * The trace line of a request: wall-clock end, operation, method, the path
 * (never a header: no credential), status and duration.
 */
static void trace_line(struct cc_http_client *c, const struct cc_http_batch_item *it,
                       long status, int64_t started_ns)
{
	if (!c->trace)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(c->trace, "%lld.%03ld trace http %s %s %.200s -> %ld in %.1f ms\n",
	        (long long)ts.tv_sec, ts.tv_nsec / 1000000, it->op ? it->op : "-", it->method,
	        it->path ? it->path : "", status, (double)(mono_ns() - started_ns) / 1e6);
	fflush(c->trace);
}

static void transfer_end(struct cc_http_client *c, struct slot *s, CURLcode rc)
{
	long status = 0;
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	trace_line(c, s->item, status, s->started_ns);
	finish(c, s->item, &s->x, s->is_get, s->op_index, rc, status, s->curl_err);
	/* No pointer into this transfer (URL, callbacks' state) stays in the
	 * handle; the connection stays in the multi handle's cache. */
	curl_easy_reset(s->easy);
	free(s->url);
	s->url = NULL;
	free_headers(&s->if_headers);
	s->item = NULL;
}

/*
 * A failure of the multi handle itself: every transfer under way ends as if
 * its connection had dropped (RETRY, outcome unknown for writes).
 */
static void abort_running(struct cc_http_client *c, CURLMcode mc)
{
	for (int i = 0; i < c->concurrency; i++) {
		struct slot *s = &c->slots[i];
		if (!s->item)
			continue;
		curl_multi_remove_handle(c->multi, s->easy);
		snprintf(s->curl_err, sizeof(s->curl_err), "%s", curl_multi_strerror(mc));
		transfer_end(c, s, CURLE_RECV_ERROR);
	}
}

static struct slot *free_slot(struct cc_http_client *c)
{
	for (int i = 0; i < c->concurrency; i++)
		if (!c->slots[i].item)
			return &c->slots[i];
	return NULL; /* not reached: the caller counts the running transfers */
}

/* Asks the interrupt hook; once it said stop, nothing more of the batch is sent. */
static bool interrupted(struct cc_http_client *c)
{
	if (!c->interrupted && c->interrupt && c->interrupt(c->interrupt_ctx))
		c->interrupted = true;
	return c->interrupted;
}

/* Sleeps until deadline (monotonic ns), asking the hook between naps;
 * false when interrupted. */
static bool wait_until_ns(struct cc_http_client *c, int64_t deadline)
{
	for (;;) {
		if (interrupted(c))
			return false;
		int64_t now = mono_ns();
		if (now >= deadline)
			return true;
		int64_t step = deadline - now;
		if (step > (int64_t)POLL_MAX_MS * 1000000)
			step = (int64_t)POLL_MAX_MS * 1000000;
		sleep_until_ns(now + step);
	}
}

/* Every transfer under way ends RETRY "interrupted" (unknown outcome for writes). */
static void abort_interrupted(struct cc_http_client *c)
{
	for (int i = 0; i < c->concurrency; i++) {
		struct slot *s = &c->slots[i];
		if (!s->item)
			continue;
		struct cc_http_batch_item *it = s->item;
		curl_multi_remove_handle(c->multi, s->easy);
		s->curl_err[0] = '\0';
		transfer_end(c, s, CURLE_ABORTED_BY_CALLBACK);
		snprintf(it->call.reason, sizeof(it->call.reason), "%s", INTERRUPTED);
	}
}

enum send_verdict { SEND, ENDED, WAIT };

/*
 * Whether an item can be sent now: ENDED when it was ended unsent (bad
 * method, the system's hold, an interrupt); WAIT with *wait_ns when it must
 * first wait for a rate-limit token.
 */
static enum send_verdict may_send(struct cc_http_client *c, struct cc_http_batch_item *it,
                                  int64_t *wait_ns)
{
	*wait_ns = 0;
	const char *m = it->method;
	if (!m || (strcmp(m, "GET") != 0 && strcmp(m, "POST") != 0 && strcmp(m, "PUT") != 0 &&
	           strcmp(m, "DELETE") != 0 && strcmp(m, "PATCH") != 0)) {
		char reason[64];
		snprintf(reason, sizeof(reason), "http: unsupported method %.16s", m ? m : "(none)");
		end_unsent(it, CC_ERROR, 0, reason);
		return ENDED;
	}
	if (interrupted(c)) {
		end_unsent(it, CC_RETRY, 0, INTERRUPTED);
		return ENDED;
	}
	int64_t left_ms = hold_left_ms(c);
	if (left_ms > 0) {
		char reason[96];
		snprintf(reason, sizeof(reason), "rate limited by the system: %lld ms left, not sent",
		         (long long)left_ms);
		end_unsent(it, CC_RETRY, left_ms, reason);
		return ENDED;
	}
	*wait_ns = limiter_try(c);
	return *wait_ns ? WAIT : SEND;
}

/* Feeds a stand-in's header block to the header callback, line by line. */
static void feed_headers(struct exchange *x, const char *h, size_t n)
{
	while (h && n > 0) {
		const char *nl = memchr(h, '\n', n);
		size_t len = nl ? (size_t)(nl - h) + 1 : n;
		on_header((char *)(uintptr_t)h, 1, len, x);
		h += len;
		n -= len;
	}
}

/* One item answered by the stand-in transport, mapped as a real answer. */
static void exchange_standin(struct cc_http_client *c, struct cc_http_batch_item *it)
{
	size_t op_index = SIZE_MAX;
	if (it->op) {
		struct op_count *oc = op_slot(c, it->op);
		if (!oc) {
			end_unsent(it, CC_ERROR, 0, "http: out of memory");
			return;
		}
		op_index = (size_t)(oc - c->ops);
	}
	if (it->if_match && (strlen(it->if_match) > 100 || strpbrk(it->if_match, "\"\r\n"))) {
		end_unsent(it, CC_ERROR, 0, "http: unusable If-Match tag");
		return;
	}
	const char *path = it->path ? it->path : "";
	size_t ub = strlen(c->base_url), up = strlen(path);
	char *url = malloc(ub + up + 1);
	if (!url) {
		end_unsent(it, CC_ERROR, 0, "http: out of memory");
		return;
	}
	memcpy(url, c->base_url, ub);
	memcpy(url + ub, path, up + 1);
	struct cc_http_raw_answer a = { 0 };
	c->transport->exchange(c->transport->ctx, it->method, url,
	                       it->json_body ? it->json_body : it->form_body, it->if_match, &a);
	free(url);
	struct exchange x = { .max_body = c->max_body };
	CURLcode rc = CURLE_OK;
	const char *why = "";
	switch (a.fault) {
	case CC_HTTP_REFUSED:
		rc = CURLE_COULDNT_CONNECT;
		why = "connection refused";
		break;
	case CC_HTTP_TIMEOUT:
		rc = CURLE_OPERATION_TIMEDOUT;
		why = "timed out";
		break;
	case CC_HTTP_DROPPED:
		rc = CURLE_RECV_ERROR;
		why = "connection dropped";
		break;
	default:
		feed_headers(&x, a.headers, a.headers_len);
		if (a.body && a.body_len && on_body((char *)(uintptr_t)a.body, 1, a.body_len, &x) !=
		                                    a.body_len)
			rc = CURLE_WRITE_ERROR;
		break;
	}
	finish(c, it, &x, strcmp(it->method, "GET") == 0, op_index, rc,
	       a.fault == CC_HTTP_ANSWERED ? a.status : 0, why);
}

/* The batch engine on a stand-in transport: one item after the other. */
static void run_batch_standin(struct cc_http_client *c, struct cc_http_batch_item *items,
                              size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t wait_ns;
		enum send_verdict v;
		while ((v = may_send(c, &items[i], &wait_ns)) == WAIT)
			wait_until_ns(c, mono_ns() + wait_ns);
		if (v == SEND)
			exchange_standin(c, &items[i]);
	}
}

/* The batch engine, each item sent once (see run_batch). */
static void run_batch_sent(struct cc_http_client *c, struct cc_http_batch_item *items, size_t n)
{
	c->interrupted = false;
	if (c->transport) {
		run_batch_standin(c, items, n);
		return;
	}
	size_t next = 0;
	int running = 0;
	while (next < n || running > 0) {
		int64_t token_wait_ns = 0;
		while (next < n && running < c->concurrency) {
			struct cc_http_batch_item *it = &items[next];
			enum send_verdict v = may_send(c, it, &token_wait_ns);
			if (v == WAIT)
				break;
			if (v == ENDED) {
				next++;
				continue;
			}
			next++;
			if (transfer_start(c, free_slot(c), it))
				running++;
		}
		if (running == 0) {
			if (token_wait_ns > 0)
				wait_until_ns(c, mono_ns() + token_wait_ns);
			continue;
		}

		int still;
		CURLMcode mc = curl_multi_perform(c->multi, &still);
		if (mc != CURLM_OK) {
			abort_running(c, mc);
			running = 0;
			continue;
		}
		bool ended = false;
		CURLMsg *msg;
		int queued;
		while ((msg = curl_multi_info_read(c->multi, &queued))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			CURL *e = msg->easy_handle;
			CURLcode rc = msg->data.result; /* msg is invalid after the removal */
			char *priv = NULL;
			curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
			struct slot *s = (struct slot *)(void *)priv;
			curl_multi_remove_handle(c->multi, e);
			if (s && s->item) {
				transfer_end(c, s, rc);
				running--;
				ended = true;
			}
		}
		if (ended)
			continue; /* start the next items at once */

		int timeout_ms = POLL_MAX_MS;
		if (token_wait_ns > 0 && token_wait_ns / 1000000 + 1 < timeout_ms)
			timeout_ms = (int)(token_wait_ns / 1000000 + 1);
		mc = curl_multi_poll(c->multi, NULL, 0, timeout_ms, NULL);
		if (mc != CURLM_OK) {
			abort_running(c, mc);
			running = 0;
		} else if (interrupted(c)) {
			abort_interrupted(c);
			running = 0;
		}
	}
}

/*
 * Asks the auth hook for the header line (renew: the last one was refused)
 * and makes it the client's. Not OK: the hook's answer in *call (the
 * client then keeps no header, so nothing is sent with a stale one).
 */
static enum cc_result authorize(struct cc_http_client *c, bool renew, struct cc_call *call)
{
	const char *line = NULL;
	memset(call, 0, sizeof(*call));
	enum cc_result r = c->auth.header(c->auth.ctx, renew, &line, call);
	if (r != CC_OK)
		return r;
	if (!line || strchr(line, '\r') || strchr(line, '\n') || !strchr(line, ':')) {
		snprintf(call->reason, sizeof(call->reason), "http: unusable authentication header");
		return call->result = CC_ERROR;
	}
	if (c->auth_header && strcmp(c->auth_header, line) == 0 && c->headers)
		return CC_OK;
	if (set_auth_line(c, line)) {
		snprintf(call->reason, sizeof(call->reason), "http: out of memory");
		return call->result = CC_ERROR;
	}
	return CC_OK;
}

/* An item ended by the auth hook's failure, unsent (what the hook sent counts). */
static void end_auth_failed(struct cc_http_batch_item *it, const struct cc_call *a)
{
	it->call.requests += a->requests;
	it->call.outcome_unknown = false;
	end_unsent(it, a->result, a->retry_after_ms, a->reason);
}

/*
 * The batch engine: items' resp must be zeroed and their call prepared by
 * the caller (cc_http_request keeps its caller's requests count going).
 * With an auth hook: the header is asked for first, and the items answered
 * 401 are sent once more, one by one, after the hook renewed it.
 */
static void run_batch(struct cc_http_client *c, struct cc_http_batch_item *items, size_t n)
{
	struct cc_call a;
	if (c->auth.header && n) {
		if (authorize(c, false, &a) != CC_OK) {
			for (size_t i = 0; i < n; i++)
				end_auth_failed(&items[i], &a);
			return;
		}
		items[0].call.requests += a.requests;
	}
	run_batch_sent(c, items, n);
	if (!c->auth.header || c->interrupted)
		return;
	bool renewed = false;
	for (size_t i = 0; i < n; i++) {
		struct cc_http_batch_item *it = &items[i];
		if (it->resp.status != 401)
			continue;
		if (!renewed) {
			if (authorize(c, true, &a) != CC_OK) {
				for (size_t j = i; j < n; j++)
					if (items[j].resp.status == 401)
						end_auth_failed(&items[j], &a);
				return;
			}
			it->call.requests += a.requests;
			renewed = true;
		}
		cc_http_response_clear(&it->resp);
		it->call.outcome_unknown = false;
		it->call.retry_after_ms = 0;
		it->call.reason[0] = '\0';
		run_batch_sent(c, it, 1);
		if (c->interrupted)
			return;
	}
}

void cc_http_request_many(struct cc_http_client *c, struct cc_http_batch_item *items, size_t n)
{
	if (!items)
		return;
	for (size_t i = 0; i < n; i++) {
		memset(&items[i].resp, 0, sizeof(items[i].resp));
		memset(&items[i].call, 0, sizeof(items[i].call));
		if (!c)
			end_unsent(&items[i], CC_ERROR, 0, "http: no client");
	}
	if (c)
		run_batch(c, items, n);
}

/* One request as a batch of one; call's requests accumulate. */
static enum cc_result request_one(struct cc_http_client *c, struct cc_http_batch_item *it,
                                  struct cc_http_response *resp, struct cc_call *call)
{
	if (call)
		it->call = *call; /* requests accumulates over the caller's calls */
	it->call.outcome_unknown = false;
	it->call.retry_after_ms = 0;
	it->call.reason[0] = '\0';
	if (!c)
		end_unsent(it, CC_ERROR, 0, "http: no client or method");
	else
		run_batch(c, it, 1);
	if (call)
		*call = it->call;
	if (resp)
		*resp = it->resp;
	else
		cc_http_response_clear(&it->resp);
	return it->call.result;
}

enum cc_result cc_http_request(struct cc_http_client *c, const char *op, const char *method,
                               const char *path, const char *json_body,
                               struct cc_http_response *resp, struct cc_call *call)
{
	struct cc_http_batch_item it = { .op = op, .method = method, .path = path,
		                         .json_body = json_body };
	return request_one(c, &it, resp, call);
}

enum cc_result cc_http_request_form(struct cc_http_client *c, const char *op, const char *path,
                                    const char *form, struct cc_http_response *resp,
                                    struct cc_call *call)
{
	struct cc_http_batch_item it = { .op = op, .method = "POST", .path = path,
		                         .form_body = form ? form : "" };
	return request_one(c, &it, resp, call);
}

enum cc_result cc_http_request_if_match(struct cc_http_client *c, const char *op,
                                        const char *method, const char *path,
                                        const char *json_body, const char *if_match,
                                        struct cc_http_response *resp, struct cc_call *call)
{
	struct cc_http_batch_item it = { .op = op, .method = method, .path = path,
		                         .json_body = json_body, .if_match = if_match };
	return request_one(c, &it, resp, call);
}
