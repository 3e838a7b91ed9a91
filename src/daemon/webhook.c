/*
 * The daemon's HTTP listener (see webhook.h for what it serves and its
 * limits). One libmicrohttpd thread runs every connection from an epoll
 * loop, so an idle or slow connection costs memory, never a thread; a
 * second thread, the reaper, enforces the deadlines libmicrohttpd has no
 * notion of (its timeout is an idle timeout that every byte resets), times
 * out admin requests the main loop did not take, and drains connections
 * that were answered before their body was read.
 *
 * State shared with the main loop is the listener's queues, under l->mu:
 * webhook bodies per system, the rejected webhooks noted for the audit,
 * and admin requests whose connection is
 * suspended (MHD_suspend_connection) until the main loop answered them or
 * the reaper gave up on them; either then resumes the connection and
 * libmicrohttpd calls the handler again, which sends the answer.
 *
 * Every connection is in a list under l->cmu: an entry is added when
 * libmicrohttpd reports a connection started and removed when it reports
 * it closed, which it does before it closes the socket, so whoever holds
 * l->cmu may shutdown(2) the socket of an entry (never close(2): the socket
 * is libmicrohttpd's, which then sees the end and closes it). The reaper
 * does so past a deadline; a new connection over the limits does so to
 * the oldest one still receiving its request (make_room).
 *
 * Lock order: l->mu, then libmicrohttpd's (MHD_suspend_connection is
 * called under l->mu), then l->cmu (taken by set_phase and by the log,
 * which libmicrohttpd calls): nothing calls libmicrohttpd under l->cmu.
 */
#include "daemon/webhook.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY (1024 * 1024)          /* a request body, at most */
#define ADMIN_WAIT_MS 10000             /* an admin request waits this long to be taken */
#define HEADER_DEADLINE_MS 5000         /* request line and headers, from the request start */
#define BODY_DEADLINE_MS 10000          /* the whole body, from the end of the headers */
#define REPLY_DEADLINE_MS 10000         /* sending the answer */
#define IDLE_TIMEOUT_S 10               /* libmicrohttpd's own idle timeout */
#define CONN_MAX 1024                   /* connections kept (fewer with a low RLIMIT_NOFILE) */
#define CONN_PER_CLIENT 32              /* connections kept from one IP address */
#define FD_RESERVE_MIN 128              /* descriptors left to the rest of the daemon */
#define INFLIGHT_MAX (16u * 1024 * 1024) /* bodies being received and kept, all connections */
#define LINGER_MAX 32                   /* connections drained after an early answer */
#define LINGER_MS 2000                  /* ... for this long at most */
#define LINGER_BYTES (8u * 1024 * 1024) /* ... and this many bytes at most */
#define STOP_GRACE_S 1                  /* at the stop, the waiting admin requests' 503s go out */
#define REAPER_TICK_MS 200
#define REAPER_FAST_TICK_MS 20          /* while draining */
#define LOG_BURST 10                    /* libmicrohttpd messages per LOG_WINDOW_S, at most */
#define LOG_WINDOW_S 60

/* Where a connection is in its current request; each phase has a deadline
 * counted from its start (WAIT has none: the admin wait bounds it). */
enum phase {
	PH_HEAD,  /* since the connection or the previous request ended */
	PH_BODY,  /* since the headers were complete */
	PH_WAIT,  /* suspended until the main loop answers */
	PH_REPLY, /* since the answer was queued */
};

/* One TCP connection (libmicrohttpd's socket context); owned by the
 * listener from NOTIFY_STARTED to NOTIFY_CLOSED. */
struct conn {
	struct conn *prev, *next; /* l->conns, under l->cmu */
	int fd;                   /* libmicrohttpd's socket: shutdown(2) only */
	uint32_t addr;            /* the client's IPv4 address */
	enum phase phase;         /* phase, since, start, shut: under l->cmu */
	int64_t since;
	int64_t start;            /* the current request's start */
	bool shut;                /* shut down (deadline, or evicted) */
	/* the current request (libmicrohttpd's thread only) */
	bool linger;              /* answered before its body was read */
	bool bad_url;             /* a control character in the URL */
	const char *raw_url;      /* the raw URL as the URI log callback saw it */
	size_t raw_len;
};

/* A socket (a dup(2) of a closed connection's, owned) drained and closed
 * by the reaper, so a client still sending the body it announced reads
 * the early answer instead of a reset. */
struct lingering {
	int fd;
	int64_t until;
	size_t drained;
};

/* An admin request waiting for the main loop; the public part first. */
struct admin_wait {
	struct cc_admin_request rq;
	struct MHD_Connection *c; /* suspended until answered */
	int64_t deadline;         /* untaken at that time: 503 */
	const char *text;         /* the listener's own answer (busy, stopping), or NULL */
	bool orphan;              /* its connection ended while the main loop held it */
};

/* The rejections of one system noted for the audit (see webhook.h). */
#define REJECT_RING (CC_WEBHOOK_REJECT_NOTES + 1) /* a window's notes and its summary */
struct reject_log {
	struct cc_webhook_rejection note[REJECT_RING]; /* ring */
	size_t head, n;
	int64_t window_start; /* monotonic ms; 0: no window open */
	unsigned used;        /* noted one by one in this window */
	uint64_t unnoted;     /* only counted in this window */
};

struct body_queue {
	char *body[CC_WEBHOOK_QUEUE_MAX]; /* ring, owned */
	size_t len[CC_WEBHOOK_QUEUE_MAX];
	size_t head, n, bytes;
	uint64_t received, dropped, rejected;
	struct reject_log rj;
};

/* Delivery ids remembered per system, and their longest. */
#define DELIVERED_MAX 256
#define DELIVERY_ID_MAX 80
/* The header of a sender's delivery id (Jira Cloud's; the same across its retries). */
#define DELIVERY_ID_HEADER "X-Atlassian-Webhook-Identifier"

struct cc_webhook_listener {
	struct MHD_Daemon *d;
	int wake_fd;                   /* eventfd: readable when something was queued */
	const struct cc_config *cfg;
	struct cc_listener_options opt;
	atomic_int hint[CC_MAX_SYSTEMS];
	atomic_size_t inflight;        /* bytes of kept bodies being received */
	/* the queues */
	pthread_mutex_t mu;
	bool closing;
	struct body_queue q[CC_MAX_SYSTEMS];
	struct cc_admin_request *admin_head; /* untaken admin requests, oldest first */
	size_t nwaits;      /* requests with an admin wait, until they completed */
	pthread_cond_t wcv; /* nwaits went down */
	/* the connections, the reaper, the drained sockets, the log's rate */
	pthread_mutex_t cmu;
	pthread_cond_t ccv;
	struct conn *conns;
	unsigned limit, per_client; /* connections kept, in all and per address */
	struct lingering lingers[LINGER_MAX];
	size_t nlingers;
	bool reaper_stop;
	pthread_t reaper;
	time_t log_window;
	unsigned log_count, log_suppressed;
	uint64_t evicted, evicted_logged; /* connections shut to make room */
	int64_t evict_log_at;
	/* the delivery ids last accepted per system (X-Atlassian-Webhook-Identifier), a
	 * ring under mu: a delivery the sender retries or sends twice is queued once */
	char delivered[CC_MAX_SYSTEMS][DELIVERED_MAX][DELIVERY_ID_MAX];
	size_t delivered_next[CC_MAX_SYSTEMS];
};

/*
 * True when delivery id `id` of system s was accepted already; otherwise
 * remembers it (the oldest of DELIVERED_MAX forgotten) and says false. An
 * id too long to keep is never taken for a duplicate.
 */
static bool delivered_before(struct cc_webhook_listener *l, int s, const char *id)
{
	if (!id || !id[0] || strlen(id) >= DELIVERY_ID_MAX)
		return false;
	bool seen = false;
	pthread_mutex_lock(&l->mu);
	for (size_t i = 0; i < DELIVERED_MAX && !seen; i++)
		seen = strcmp(l->delivered[s][i], id) == 0;
	if (!seen) {
		snprintf(l->delivered[s][l->delivered_next[s]], DELIVERY_ID_MAX, "%s", id);
		l->delivered_next[s] = (l->delivered_next[s] + 1) % DELIVERED_MAX;
	}
	pthread_mutex_unlock(&l->mu);
	return seen;
}

/* One HTTP request: the body so far (kept for webhooks whose system
 * reads bodies, counted for the others). */
struct request {
	struct conn *cn;
	size_t received;
	int keep_for;  /* system whose body is kept, -1: none */
	char *buf;     /* counted in l->inflight (cap bytes) */
	size_t cap;
	struct admin_wait *wait; /* set while an admin request is out */
	bool admin;              /* counted in l->nwaits */
	bool admin_body;         /* an admin request whose body is kept (in buf) */
	bool body_lost;          /* ... but it could not be kept (out of memory or budget) */
	bool announced;          /* the request announced a body (length > 0, or chunked) */
	/* a signed webhook: the MAC of the body so far, and the one its header names */
	struct cc_webhook_mac *mac; /* owned */
	unsigned char want[CC_WEBHOOK_MAC_LEN];
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_phase(struct cc_webhook_listener *l, struct conn *cn, enum phase ph)
{
	if (!cn)
		return;
	pthread_mutex_lock(&l->cmu);
	cn->phase = ph;
	cn->since = now_ms();
	if (ph == PH_HEAD)
		cn->start = cn->since;
	pthread_mutex_unlock(&l->cmu);
}

static struct conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* A line in the daemon's log (stderr); when budgeted, LOG_BURST per
 * LOG_WINDOW_S at most: a client must not be able to fill the disk (the
 * others are rate-limited by their caller). Takes l->cmu. */
static void log_line(struct cc_webhook_listener *l, const char *msg, bool budgeted)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	pthread_mutex_lock(&l->cmu);
	if (now - l->log_window >= LOG_WINDOW_S) {
		if (l->log_suppressed)
			fprintf(stderr, "%s WARN listener: %u more messages suppressed\n", ts,
			        l->log_suppressed);
		l->log_window = now;
		l->log_count = l->log_suppressed = 0;
	}
	if (!budgeted || l->log_count < LOG_BURST) {
		l->log_count += budgeted;
		fprintf(stderr, "%s WARN listener: %s\n", ts, msg);
	} else {
		l->log_suppressed++;
	}
	pthread_mutex_unlock(&l->cmu);
}

/* libmicrohttpd's messages. */
__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_line(cls, msg, true);
}

static enum MHD_Result reply(struct cc_webhook_listener *l, struct MHD_Connection *c,
                             unsigned status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
	                                                         MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/plain");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"concord admin\"");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	set_phase(l, conn_of(c), PH_REPLY);
	return ret;
}

/* Replies with a body the response takes over (freed by libmicrohttpd). */
static enum MHD_Result reply_owned(struct cc_webhook_listener *l, struct MHD_Connection *c,
                                   unsigned status, char *body)
{
	if (!body)
		return reply(l, c, status, "\n");
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body,
	                                                         MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type",
	                        body[0] == '{' ? "application/json" : "text/plain");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	set_phase(l, conn_of(c), PH_REPLY);
	return ret;
}

/* Tells the main loop that a webhook or an admin request is waiting. */
static void notify(struct cc_webhook_listener *l)
{
	uint64_t one = 1;
	/* a full counter (never in practice) or EAGAIN: it is readable anyway */
	ssize_t w = write(l->wake_fd, &one, sizeof(one));
	(void)w;
}

static int system_index(const struct cc_webhook_listener *l, const char *name)
{
	for (size_t s = 0; s < l->cfg->nsystems; s++)
		if (strcmp(l->cfg->systems[s].name, name) == 0)
			return (int)s;
	return -1;
}

/*
 * Compares the token of an "Authorization: Bearer TOKEN" header with the
 * configured one in time that depends on the given length only (no early
 * exit on the first differing byte; want is not empty).
 */
static bool authorized(const char *header, const char *want)
{
	if (!header || strncasecmp(header, "Bearer ", 7) != 0)
		return false;
	const char *given = header + 7;
	while (*given == ' ')
		given++;
	size_t glen = strlen(given), wlen = strlen(want);
	volatile unsigned char diff = glen != wlen;
	for (size_t i = 0; i < glen; i++)
		diff |= (unsigned char)given[i] ^ (unsigned char)want[i % wlen];
	return diff == 0;
}

static void unlink_admin(struct cc_webhook_listener *l, struct cc_admin_request *rq)
{
	for (struct cc_admin_request **p = &l->admin_head; *p; p = &(*p)->next) {
		if (*p == rq) {
			*p = rq->next;
			rq->next = NULL;
			return;
		}
	}
}

/*
 * Queues an admin request and suspends the connection until the main loop
 * answered it (cc_webhook_listener_answer) or the reaper gave up on it;
 * libmicrohttpd then calls the handler again, which replies (answer_admin).
 */
static enum MHD_Result admin_call(struct cc_webhook_listener *l, struct MHD_Connection *c,
                                  struct request *rq, enum cc_admin_op op, const char *arg)
{
	struct admin_wait *w = calloc(1, sizeof(*w));
	if (!w)
		return reply(l, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	if (strlen(arg) >= sizeof(w->rq.arg)) {
		free(w);
		return reply(l, c, MHD_HTTP_NOT_FOUND, "no such system or case\n");
	}
	w->rq.op = op;
	snprintf(w->rq.arg, sizeof(w->rq.arg), "%s", arg);
	if (rq->admin_body && rq->buf && rq->received <= CC_ADMIN_BODY_MAX) {
		memcpy(w->rq.input, rq->buf, rq->received);
		w->rq.input_len = rq->received;
	}
	w->c = c;
	w->deadline = now_ms() + ADMIN_WAIT_MS;
	set_phase(l, rq->cn, PH_WAIT);
	pthread_mutex_lock(&l->mu);
	if (l->closing) {
		pthread_mutex_unlock(&l->mu);
		free(w);
		return reply(l, c, MHD_HTTP_SERVICE_UNAVAILABLE, "stopping\n");
	}
	/* suspended before anyone can see it, so nobody resumes it early */
	MHD_suspend_connection(c);
	struct cc_admin_request **tail = &l->admin_head;
	while (*tail)
		tail = &(*tail)->next;
	*tail = &w->rq;
	rq->wait = w;
	rq->admin = true;
	l->nwaits++;
	pthread_mutex_unlock(&l->mu);
	notify(l);
	return MHD_YES;
}

/* The handler's call after the connection was resumed: the answer. */
static enum MHD_Result answer_admin(struct cc_webhook_listener *l, struct MHD_Connection *c,
                                    struct request *rq)
{
	struct admin_wait *w = rq->wait;
	pthread_mutex_lock(&l->mu);
	bool answered = w->rq.answered;
	pthread_mutex_unlock(&l->mu);
	if (!answered) /* not resumed by us: cannot happen; fail the connection */
		return MHD_NO;
	rq->wait = NULL;
	enum MHD_Result ret = w->text ? reply(l, c, w->rq.status, w->text)
	                              : reply_owned(l, c, w->rq.status, w->rq.body);
	free(w);
	return ret;
}

static enum MHD_Result admin(struct cc_webhook_listener *l, struct MHD_Connection *c,
                             struct request *rq, const char *url, const char *method)
{
	const char *token = l->opt.admin_token;
	if (!token || !token[0])
		return reply(l, c, MHD_HTTP_FORBIDDEN, "admin API disabled: no admin_token\n");
	if (!authorized(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                            MHD_HTTP_HEADER_AUTHORIZATION), token))
		return reply(l, c, MHD_HTTP_UNAUTHORIZED, "unauthorized\n");
	const char *path = url + strlen("/admin/");
	bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
	if (strcmp(path, "status") == 0)
		return get ? admin_call(l, c, rq, CC_ADMIN_STATUS, "")
		           : reply(l, c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET\n");
	static const struct {
		const char *prefix;
		enum cc_admin_op op;
	} posts[] = {
		{ "pause/", CC_ADMIN_PAUSE },
		{ "resume/", CC_ADMIN_RESUME },
		{ "resync/", CC_ADMIN_RESYNC },
	};
	if (strcmp(path, "conflicts") == 0)
		return get ? admin_call(l, c, rq, CC_ADMIN_CONFLICTS, "")
		           : reply(l, c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET\n");
	if (strncmp(path, "conflicts/", 10) == 0 && path[10]) {
		if (!post)
			return reply(l, c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST\n");
		if (rq->body_lost)
			return reply(l, c, MHD_HTTP_SERVICE_UNAVAILABLE, "busy: body not kept, try again\n");
		return admin_call(l, c, rq, CC_ADMIN_CONFLICTS, path + 10);
	}
	for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++) {
		size_t n = strlen(posts[i].prefix);
		if (strncmp(path, posts[i].prefix, n) == 0 && path[n])
			return post ? admin_call(l, c, rq, posts[i].op, path + n)
			            : reply(l, c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST\n");
	}
	return reply(l, c, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* Queues a webhook body (taken over) or, when the queue is full, drops it
 * and returns false: the caller then sets the poll hint, which covers it. */
static bool queue_body(struct cc_webhook_listener *l, int s, char *body, size_t len)
{
	bool queued = false;
	pthread_mutex_lock(&l->mu);
	struct body_queue *q = &l->q[s];
	q->received++;
	if (q->n < CC_WEBHOOK_QUEUE_MAX && q->bytes + len <= CC_WEBHOOK_QUEUE_BYTES) {
		size_t at = (q->head + q->n) % CC_WEBHOOK_QUEUE_MAX;
		q->body[at] = body;
		q->len[at] = len;
		q->n++;
		q->bytes += len;
		body = NULL;
		queued = true;
	} else {
		q->dropped++;
	}
	pthread_mutex_unlock(&l->mu);
	free(body);
	return queued;
}

/* Gives up the kept body of a request (and its share of l->inflight). */
static void drop_kept(struct cc_webhook_listener *l, struct request *rq)
{
	free(rq->buf);
	atomic_fetch_sub(&l->inflight, rq->cap);
	rq->buf = NULL;
	rq->cap = 0;
}

/* Appends a chunk of a kept body; false when out of memory or over the
 * listener's budget for bodies in flight. */
static bool keep_chunk(struct cc_webhook_listener *l, struct request *rq, const char *data,
                       size_t size)
{
	size_t need = rq->received + size + 1; /* received: bytes before this chunk */
	if (need > rq->cap) {
		size_t cap = rq->cap ? rq->cap : 4096;
		while (cap < need)
			cap *= 2;
		size_t more = cap - rq->cap;
		if (atomic_fetch_add(&l->inflight, more) + more > INFLIGHT_MAX) {
			atomic_fetch_sub(&l->inflight, more);
			return false;
		}
		char *b = realloc(rq->buf, cap);
		if (!b) {
			atomic_fetch_sub(&l->inflight, more);
			return false;
		}
		rq->buf = b;
		rq->cap = cap;
	}
	memcpy(rq->buf + rq->received, data, size);
	rq->buf[rq->received + size] = '\0';
	return true;
}

static bool is_control(unsigned char ch)
{
	return ch < 0x20 || ch == 0x7f;
}

/* Counts the Content-Length headers and notes whether they disagree. */
struct lengths {
	unsigned n, te;
	bool differ;
	const char *first;
};

static enum MHD_Result count_lengths(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
	struct lengths *x = cls;
	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
		x->te++;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) != 0)
		return MHD_YES;
	if (x->n++ == 0)
		x->first = value;
	else if (strcmp(x->first, value ? value : "") != 0)
		x->differ = true;
	return MHD_YES;
}

/*
 * The first call of a request (its headers are complete): refuses what must
 * not be read on. Returns MHD_YES to go on with the request, or the result
 * of the refusal queued (the body is not read: libmicrohttpd closes the
 * connection after the answer).
 */
static enum MHD_Result screen(struct cc_webhook_listener *l, struct MHD_Connection *c,
                              struct request *rq, const char *url, const char *version,
                              bool *refused)
{
	struct conn *cn = rq->cn;
	*refused = true;
	/*
	 * A raw NUL in the request line ends the URL early as a C string. In
	 * libmicrohttpd 0.9.75 the URL and the version are pointers into the
	 * request line, the version right after the URL's end and a space: a
	 * gap between the URL as a C string and the version is bytes after a
	 * NUL. (A library that copies them elsewhere makes the gap large or
	 * negative: the check then does not apply, it does not refuse.)
	 */
	uintptr_t u = (uintptr_t)url, v = (uintptr_t)version;
	bool nul = cn->raw_url == url && v > u + cn->raw_len + 1 &&
	           v - (u + cn->raw_len + 1) < 65536;
	struct lengths x = { 0 };
	MHD_get_connection_values(c, MHD_HEADER_KIND, count_lengths, &x);
	const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_TRANSFER_ENCODING);
	/* a refusal with a body announced: libmicrohttpd closes the connection
	 * after the answer without reading it, the reaper drains it */
	cn->linger = te || (x.n && strcmp(x.first, "0") != 0);
	rq->announced = cn->linger;
	if (cn->bad_url || nul)
		return reply(l, c, MHD_HTTP_BAD_REQUEST, "control character in the URL\n");
	if (x.differ || x.te > 1 || (x.te && x.n))
		return reply(l, c, MHD_HTTP_BAD_REQUEST,
		             x.differ ? "conflicting Content-Length headers\n"
		                      : "Content-Length and Transfer-Encoding together\n");
	if (te && strcasecmp(te, "chunked") != 0)
		return reply(l, c, MHD_HTTP_NOT_IMPLEMENTED, "only chunked transfer coding\n");
	if (x.n) {
		/* libmicrohttpd answered a length that is not all digits itself */
		errno = 0;
		char *end;
		unsigned long long len = strtoull(x.first, &end, 10);
		if (*end)
			return reply(l, c, MHD_HTTP_BAD_REQUEST, "bad Content-Length\n");
		if (errno || len > MAX_BODY)
			return reply(l, c, MHD_HTTP_CONTENT_TOO_LARGE, "body too large\n");
	}
	cn->linger = false; /* read on: nothing to drain */
	*refused = false;
	return MHD_YES;
}

/*
 * A chunked body went past MAX_BODY: libmicrohttpd 0.9.75 cannot queue an
 * answer while a body is read, so the 413 is written on the socket here
 * (nothing else is being sent on it: the connection is reading) and the
 * handler then fails the connection, which libmicrohttpd closes without
 * writing anything more. The reaper drains what the client still sends.
 */
static enum MHD_Result cut_body(struct request *rq)
{
	static const char answer[] = "HTTP/1.1 413 Content Too Large\r\n"
	                             "Connection: close\r\n"
	                             "Content-Type: text/plain\r\n"
	                             "Content-Length: 15\r\n"
	                             "\r\n"
	                             "body too large\n";
	if (rq->cn && rq->cn->fd >= 0) {
		ssize_t n = send(rq->cn->fd, answer, sizeof(answer) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)n; /* best effort: the connection closes either way */
		rq->cn->linger = true;
	}
	return MHD_NO;
}

/*
 * The first call of an admin request that carries a body: kept (a few KiB
 * at most), or refused with 413 before any of it is read when its
 * Content-Length says more.
 */
static enum MHD_Result admin_body_start(struct cc_webhook_listener *l, struct MHD_Connection *c,
                                        struct request *rq)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
	rq->admin_body = true;
	if (cl && strtoull(cl, NULL, 10) > CC_ADMIN_BODY_MAX) { /* digits: screen() checked */
		rq->cn->linger = true; /* the client may send it anyway: drained */
		return reply(l, c, MHD_HTTP_CONTENT_TOO_LARGE, "body too large\n");
	}
	return MHD_YES;
}

/* Opens a new window of rejection notes when the last one is over: its
 * summary note first, when some rejections were only counted (kept open
 * while the ring is full, so no count is lost). Under l->mu. */
static void reject_roll(struct reject_log *rj, int64_t now)
{
	if (!rj->window_start || now - rj->window_start < CC_WEBHOOK_REJECT_WINDOW_S * 1000LL)
		return;
	if (rj->unnoted) {
		if (rj->n == REJECT_RING)
			return;
		struct cc_webhook_rejection *sum = &rj->note[(rj->head + rj->n++) % REJECT_RING];
		memset(sum, 0, sizeof(*sum));
		sum->at_ms = wall_ms();
		sum->more = rj->unnoted;
		snprintf(sum->reason, sizeof(sum->reason), "rejected, not audited one by one");
	}
	rj->window_start = 0;
	rj->used = 0;
	rj->unnoted = 0;
}

/* Counts a rejected webhook of system s and notes it for the audit when
 * the window's budget allows, else only counts it. Only a note wakes the
 * main loop: a flood of bad requests does not make it spin. */
static void note_rejection(struct cc_webhook_listener *l, int s, unsigned status,
                           const char *reason, uint32_t addr)
{
	int64_t now = now_ms();
	bool noted = false;
	pthread_mutex_lock(&l->mu);
	struct body_queue *q = &l->q[s];
	struct reject_log *rj = &q->rj;
	q->rejected++;
	reject_roll(rj, now);
	if (!rj->window_start)
		rj->window_start = now;
	if (rj->used < CC_WEBHOOK_REJECT_NOTES && rj->n < REJECT_RING) {
		struct cc_webhook_rejection *x = &rj->note[(rj->head + rj->n++) % REJECT_RING];
		memset(x, 0, sizeof(*x));
		x->at_ms = wall_ms();
		x->status = status;
		snprintf(x->reason, sizeof(x->reason), "%s", reason);
		struct in_addr in = { .s_addr = addr };
		if (!inet_ntop(AF_INET, &in, x->client, sizeof(x->client)))
			snprintf(x->client, sizeof(x->client), "?");
		rj->used++;
		noted = true;
	} else {
		rj->unnoted++;
	}
	pthread_mutex_unlock(&l->mu);
	if (noted)
		notify(l);
}

/*
 * Refuses a webhook of system s that failed its authentication: counted,
 * noted for the audit, answered with a short reason (never a secret, nor
 * what the client sent). early: the body was not read (the reaper drains
 * what the client still sends).
 */
static enum MHD_Result reject(struct cc_webhook_listener *l, struct MHD_Connection *c,
                              struct request *rq, int s, unsigned status, const char *reason,
                              bool early)
{
	note_rejection(l, s, status, reason, rq->cn->addr);
	if (early)
		rq->cn->linger = rq->announced;
	char text[160];
	snprintf(text, sizeof(text), "%s: %s\n",
	         status == MHD_HTTP_FORBIDDEN ? "forbidden" : "unauthorized", reason);
	char *body = strdup(text);
	return body ? reply_owned(l, c, status, body)
	            : reply(l, c, status, "unauthorized\n");
}

/*
 * The first call of a webhook for system s (known): what its headers can
 * decide. Sets *refused and returns the answer queued when they refuse it;
 * for a signature, starts the MAC its body goes through.
 */
static enum MHD_Result auth_start(struct cc_webhook_listener *l, struct MHD_Connection *c,
                                  struct request *rq, int s, bool *refused)
{
	enum cc_webhook_auth_mode mode = l->opt.auth[s];
	const char *key = l->opt.auth_key[s];
	enum cc_webhook_verdict v = CC_WEBHOOK_OK;
	const char *sig;
	*refused = false;
	switch (mode) {
	case CC_WEBHOOK_AUTH_NONE:
		return MHD_YES;
	case CC_WEBHOOK_AUTH_CLOSED:
		*refused = true;
		return reject(l, c, rq, s, MHD_HTTP_FORBIDDEN,
		              "webhooks closed: the system has no webhook_secret or webhook_token", true);
	case CC_WEBHOOK_AUTH_TOKEN:
		v = cc_webhook_verify_bearer(key, MHD_lookup_connection_value(
		                                          c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
		break;
	case CC_WEBHOOK_AUTH_SIGNATURE:
		/* the same scheme under the name Jira Cloud (and GitHub) give it */
		sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, CC_WEBHOOK_SIGNATURE_HEADER);
		if (!sig)
			sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, CC_WEBHOOK_HUB_HEADER);
		v = cc_webhook_signature_parse(sig, rq->want);
		if (v == CC_WEBHOOK_OK &&
		    (!key || !key[0] || cc_webhook_mac_begin(&rq->mac, key, strlen(key)))) {
			*refused = true;
			rq->cn->linger = rq->announced;
			return reply(l, c, MHD_HTTP_SERVICE_UNAVAILABLE,
			             "cannot verify the signature now, try again\n");
		}
		break;
	}
	if (v == CC_WEBHOOK_OK)
		return MHD_YES;
	*refused = true;
	return reject(l, c, rq, s, MHD_HTTP_UNAUTHORIZED, cc_webhook_verdict_reason(mode, v), true);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **state)
{
	struct cc_webhook_listener *l = cls;
	struct request *rq = *state;
	if (!rq) {
		struct conn *cn = conn_of(c);
		if (!cn)
			return MHD_NO; /* not tracked (out of memory at its start) */
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		rq->cn = cn;
		rq->keep_for = -1;
		*state = rq;
		set_phase(l, cn, PH_BODY);
		bool refused;
		enum MHD_Result r = screen(l, c, rq, url, version, &refused);
		if (refused)
			return r;
		if (strcmp(method, "POST") == 0 && strncmp(url, "/webhook/", 9) == 0) {
			int s = system_index(l, url + 9);
			if (s >= 0) { /* an unknown system: 404 once its body is read */
				r = auth_start(l, c, rq, s, &refused);
				if (refused)
					return r;
			}
			if (s >= 0 && l->opt.keep_bodies[s])
				rq->keep_for = s;
		}
		if (strcmp(method, "POST") == 0 && strncmp(url, "/admin/conflicts/", 17) == 0)
			return admin_body_start(l, c, rq);
		return MHD_YES;
	}
	if (rq->wait)
		return answer_admin(l, c, rq);
	if (*size) {
		if (now_ms() - rq->cn->since > BODY_DEADLINE_MS)
			return MHD_NO; /* too slow: the reaper would close it at its next tick */
		if (rq->received + *size > (rq->admin_body ? CC_ADMIN_BODY_MAX : MAX_BODY))
			return cut_body(rq); /* chunked: a length over the limit was refused */
		if (rq->admin_body && !rq->body_lost && !keep_chunk(l, rq, data, *size)) {
			rq->body_lost = true; /* answered 503 at the end */
			drop_kept(l, rq);
		}
		if (rq->keep_for >= 0 && !keep_chunk(l, rq, data, *size)) {
			rq->keep_for = -1; /* out of memory or budget: a hint only */
			drop_kept(l, rq);
		}
		if (rq->mac) /* a failure makes the verdict a mismatch */
			cc_webhook_mac_update(rq->mac, data, *size);
		rq->received += *size;
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") == 0 && strcmp(url, "/health") == 0)
		return reply(l, c, MHD_HTTP_OK, "ok\n");
	if (strncmp(url, "/admin/", 7) == 0)
		return admin(l, c, rq, url, method);
	if (strcmp(method, "POST") != 0 || strncmp(url, "/webhook/", 9) != 0)
		return reply(l, c, MHD_HTTP_NOT_FOUND, "not found\n");
	int s = system_index(l, url + 9);
	if (s < 0)
		return reply(l, c, MHD_HTTP_NOT_FOUND, "no such system\n");
	if (rq->mac) {
		/* the whole body is in: its signature decides, before anything is queued */
		enum cc_webhook_verdict v = cc_webhook_mac_verify(rq->mac, rq->want);
		cc_webhook_mac_free(rq->mac);
		rq->mac = NULL;
		if (v != CC_WEBHOOK_OK) {
			drop_kept(l, rq);
			return reject(l, c, rq, s, MHD_HTTP_UNAUTHORIZED,
			              cc_webhook_verdict_reason(CC_WEBHOOK_AUTH_SIGNATURE, v), false);
		}
	}
	/* authenticated (or open): a delivery seen already is acknowledged, not queued */
	if (delivered_before(l, s, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                                       DELIVERY_ID_HEADER))) {
		drop_kept(l, rq);
		return reply(l, c, MHD_HTTP_OK, "duplicate delivery: already accepted\n");
	}
	if (rq->keep_for == s && rq->received > 0) {
		char *body = rq->buf;
		atomic_fetch_sub(&l->inflight, rq->cap);
		rq->buf = NULL;
		rq->cap = 0;
		if (!queue_body(l, s, body, rq->received))
			atomic_store(&l->hint[s], 1);
	} else {
		/* no body to read (or none kept): a hint to poll now */
		pthread_mutex_lock(&l->mu);
		l->q[s].received++;
		pthread_mutex_unlock(&l->mu);
		atomic_store(&l->hint[s], 1);
	}
	notify(l);
	if (l->opt.trace) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		fprintf(l->opt.trace, "%lld.%03ld trace webhook %s received\n", (long long)ts.tv_sec,
		        ts.tv_nsec / 1000000, l->cfg->systems[s].name);
		fflush(l->opt.trace);
	}
	return reply(l, c, MHD_HTTP_ACCEPTED, "accepted\n");
}

/* The end of a request (answered, failed, or the listener stopping). */
static void done(void *cls, struct MHD_Connection *c, void **state,
                 enum MHD_RequestTerminationCode code)
{
	struct cc_webhook_listener *l = cls;
	(void)code;
	struct request *rq = *state;
	*state = NULL;
	set_phase(l, conn_of(c), PH_HEAD); /* the next request on it starts now */
	if (!rq)
		return;
	if (rq->admin) {
		pthread_mutex_lock(&l->mu);
		l->nwaits--;
		pthread_cond_broadcast(&l->wcv);
		pthread_mutex_unlock(&l->mu);
	}
	if (rq->wait) {
		/* resumed at the listener's stop before the handler could reply */
		struct admin_wait *w = rq->wait;
		pthread_mutex_lock(&l->mu);
		bool held = w->rq.taken && !w->rq.answered;
		if (!w->rq.taken)
			unlink_admin(l, &w->rq);
		if (held)
			w->orphan = true; /* the main loop's answer frees it */
		pthread_mutex_unlock(&l->mu);
		if (!held) {
			free(w->rq.body);
			free(w);
		}
	}
	drop_kept(l, rq);
	cc_webhook_mac_free(rq->mac);
	free(rq);
}

/* Each request's raw URL, before libmicrohttpd splits and unescapes it. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void)cls;
	struct conn *cn = conn_of(c);
	if (!cn)
		return NULL;
	cn->bad_url = false;
	cn->linger = false;
	cn->raw_url = uri;
	cn->raw_len = uri ? strlen(uri) : 0;
	for (size_t i = 0; i < cn->raw_len; i++)
		if (is_control((unsigned char)uri[i]))
			cn->bad_url = true;
	return NULL;
}

static int hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Unescapes %HH in the URL path and its arguments, in place, except an
 * escape of a control character (%00-%1F, %7F): that stays as it is, so a
 * decoded URL never holds one, and the request is refused (bad_url).
 */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	char *out = s;
	for (const char *in = s; *in;) {
		int hi, lo;
		if (in[0] == '%' && (hi = hex(in[1])) >= 0 && (lo = hex(in[2])) >= 0) {
			unsigned char ch = (unsigned char)(hi * 16 + lo);
			if (!is_control(ch)) {
				*out++ = (char)ch;
				in += 3;
				continue;
			}
			struct conn *cn = conn_of(c);
			if (cn)
				cn->bad_url = true;
		}
		*out++ = *in++;
	}
	*out = '\0';
	return (size_t)(out - s);
}

static void add_linger(struct cc_webhook_listener *l, int fd)
{
	/* under l->cmu */
	if (l->nlingers >= LINGER_MAX)
		return; /* libmicrohttpd's close then resets a client still sending */
	int dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dupfd < 0)
		return;
	shutdown(dupfd, SHUT_WR);
	l->lingers[l->nlingers++] = (struct lingering){ .fd = dupfd, .until = now_ms() + LINGER_MS };
	pthread_cond_signal(&l->ccv);
}

/*
 * A new connection (cn, already in the list) over the limit of its address
 * or of the listener: the oldest connection that is still receiving its
 * request (headers or body, counted from the request's start) from that
 * address, or from any, is shut down to make room; when none is receiving,
 * the new one is. So stalled connections cannot keep a client out: a
 * request that is sent at once is never the oldest. Under l->cmu.
 */
static void make_room(struct cc_webhook_listener *l, struct conn *cn)
{
	unsigned total = 0, same = 0;
	struct conn *oldest = NULL, *oldest_same = NULL;
	for (struct conn *x = l->conns; x; x = x->next) {
		if (x->shut)
			continue;
		total++;
		if (x->addr == cn->addr)
			same++;
		if (x == cn || (x->phase != PH_HEAD && x->phase != PH_BODY))
			continue;
		if (!oldest || x->start < oldest->start)
			oldest = x;
		if (x->addr == cn->addr && (!oldest_same || x->start < oldest_same->start))
			oldest_same = x;
	}
	struct conn *victim = NULL;
	if (same > l->per_client)
		victim = oldest_same ? oldest_same : cn;
	else if (total > l->limit)
		victim = oldest ? oldest : cn;
	if (!victim)
		return;
	shutdown(victim->fd, SHUT_RDWR); /* libmicrohttpd sees the end and closes it */
	victim->shut = true;
	l->evicted++;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	struct cc_webhook_listener *l = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		struct conn *cn = calloc(1, sizeof(*cn));
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!cn || !ci) {
			free(cn);
			*socket_context = NULL; /* the handler fails its requests */
			return;
		}
		cn->fd = ci->connect_fd;
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
			cn->addr = ((const struct sockaddr_in *)(const void *)ci->client_addr)
			                   ->sin_addr.s_addr;
		cn->phase = PH_HEAD;
		cn->since = cn->start = now_ms();
		pthread_mutex_lock(&l->cmu);
		cn->next = l->conns;
		if (l->conns)
			l->conns->prev = cn;
		l->conns = cn;
		make_room(l, cn);
		pthread_mutex_unlock(&l->cmu);
		*socket_context = cn;
		return;
	}
	struct conn *cn = *socket_context;
	if (!cn)
		return;
	pthread_mutex_lock(&l->cmu);
	if (cn->prev)
		cn->prev->next = cn->next;
	else
		l->conns = cn->next;
	if (cn->next)
		cn->next->prev = cn->prev;
	if (cn->linger && !cn->shut)
		add_linger(l, cn->fd);
	pthread_mutex_unlock(&l->cmu);
	free(cn);
	*socket_context = NULL;
}

/* Drains the sockets of connections answered early; under l->cmu. */
static void drain(struct cc_webhook_listener *l, int64_t now)
{
	char buf[16384];
	for (size_t i = 0; i < l->nlingers;) {
		struct lingering *g = &l->lingers[i];
		bool done_ = now >= g->until || g->drained >= LINGER_BYTES;
		for (int k = 0; !done_ && k < 16; k++) {
			ssize_t n = recv(g->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n > 0) {
				g->drained += (size_t)n;
				done_ = g->drained >= LINGER_BYTES;
			} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				break;
			} else if (n < 0 && errno == EINTR) {
				continue;
			} else {
				done_ = true; /* the client closed, or an error */
			}
		}
		if (done_) {
			close(g->fd);
			l->lingers[i] = l->lingers[--l->nlingers];
		} else {
			i++;
		}
	}
}

static int64_t deadline_of(enum phase ph)
{
	switch (ph) {
	case PH_HEAD:
		return HEADER_DEADLINE_MS;
	case PH_BODY:
		return BODY_DEADLINE_MS;
	case PH_REPLY:
		return REPLY_DEADLINE_MS;
	case PH_WAIT:
		break;
	}
	return -1;
}

/* Resumes a suspended admin request answered by the listener itself. */
static void give_up(struct admin_wait *w, const char *text)
{
	w->rq.status = MHD_HTTP_SERVICE_UNAVAILABLE;
	w->text = text;
	w->rq.answered = true;
}

static void *reaper(void *arg)
{
	struct cc_webhook_listener *l = arg;
	pthread_mutex_lock(&l->cmu);
	while (!l->reaper_stop) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		long tick = l->nlingers ? REAPER_FAST_TICK_MS : REAPER_TICK_MS;
		t.tv_nsec += tick * 1000000L;
		t.tv_sec += t.tv_nsec / 1000000000L;
		t.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&l->ccv, &l->cmu, &t);
		if (l->reaper_stop)
			break;
		int64_t now = now_ms();
		/* deadlines: shutdown(2) makes libmicrohttpd see the end of the
		 * connection and close it itself */
		for (struct conn *cn = l->conns; cn; cn = cn->next) {
			int64_t limit = deadline_of(cn->phase);
			if (!cn->shut && limit >= 0 && now - cn->since > limit) {
				shutdown(cn->fd, SHUT_RDWR);
				cn->shut = true;
			}
		}
		drain(l, now);
		/* once per LOG_WINDOW_S at most: how many were shut since */
		uint64_t evicted = 0;
		if (l->evicted != l->evicted_logged && now - l->evict_log_at >= LOG_WINDOW_S * 1000) {
			evicted = l->evicted - l->evicted_logged;
			l->evicted_logged = l->evicted;
			l->evict_log_at = now;
		}
		pthread_mutex_unlock(&l->cmu);
		if (evicted) {
			char msg[160];
			snprintf(msg, sizeof(msg),
			         "full (%u connections, %u per address): shut %" PRIu64
			         " stalled connection(s) to make room",
			         l->limit, l->per_client, evicted);
			log_line(l, msg, false);
		}

		/* admin requests the main loop did not take in time: 503 */
		struct admin_wait *late[64];
		size_t nlate = 0;
		pthread_mutex_lock(&l->mu);
		for (struct cc_admin_request **p = &l->admin_head; *p && nlate < 64;) {
			struct admin_wait *w = (struct admin_wait *)*p;
			if (now >= w->deadline) {
				*p = w->rq.next;
				w->rq.next = NULL;
				give_up(w, "the daemon is busy, try again\n");
				late[nlate++] = w;
			} else {
				p = &(*p)->next;
			}
		}
		pthread_mutex_unlock(&l->mu);
		for (size_t i = 0; i < nlate; i++)
			MHD_resume_connection(late[i]->c);
		pthread_mutex_lock(&l->cmu);
	}
	pthread_mutex_unlock(&l->cmu);
	return NULL;
}

/*
 * libmicrohttpd's hard limit on connections: what the descriptor limit
 * allows once a quarter of it (FD_RESERVE_MIN at least) is kept for the
 * rest of the daemon, CONN_MAX + 1/8 at most. The listener keeps 8/9 of
 * it (make_room); the rest is room for new connections to arrive while
 * the ones shut to make room are still closing.
 */
static unsigned hard_limit(void)
{
	struct rlimit rl;
	rlim_t n = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		n = rl.rlim_cur;
	rlim_t reserve = n / 4 > FD_RESERVE_MIN ? n / 4 : FD_RESERVE_MIN;
	rlim_t lim = n > reserve + 18 ? n - reserve : 18;
	rlim_t most = CONN_MAX + CONN_MAX / 8;
	return lim > most ? (unsigned)most : (unsigned)lim;
}

int cc_webhook_listener_start(struct cc_webhook_listener **out, const char *listen,
                              const struct cc_config *cfg, const struct cc_listener_options *opt,
                              char *err, size_t errlen)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	if (!colon || (size_t)(colon - listen) >= sizeof(host)) {
		snprintf(err, errlen, "listen address %s is not HOST:PORT", listen);
		return CC_EINVAL;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	long port = strtol(colon + 1, NULL, 10);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (port <= 0 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "listen address %s is not an IPv4 HOST:PORT", listen);
		return CC_EINVAL;
	}
	struct cc_webhook_listener *l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return CC_ENOMEM;
	}
	l->cfg = cfg;
	if (opt)
		l->opt = *opt;
	l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->wake_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		free(l);
		return CC_EIO;
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_mutex_init(&l->cmu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->ccv, &ca);
	pthread_cond_init(&l->wcv, &ca);
	pthread_condattr_destroy(&ca);
	unsigned hard = hard_limit();
	l->limit = hard / 9 * 8;
	l->per_client = CONN_PER_CLIENT < l->limit / 2 ? CONN_PER_CLIENT : l->limit / 2;
	l->d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
			MHD_USE_ERROR_LOG,
		0, NULL, NULL, handle, l,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, l,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_NOTIFY_COMPLETED, done, l,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, l,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, l,
		MHD_OPTION_UNESCAPE_CALLBACK, unescape, l,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
		MHD_OPTION_CONNECTION_LIMIT, hard,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, 2 * l->per_client,
		MHD_OPTION_END);
	if (!l->d) {
		snprintf(err, errlen, "cannot listen on %s", listen);
		goto fail;
	}
	if (pthread_create(&l->reaper, NULL, reaper, l) != 0) {
		snprintf(err, errlen, "cannot start the listener's reaper thread");
		MHD_stop_daemon(l->d);
		goto fail;
	}
	*out = l;
	return 0;
fail:
	pthread_cond_destroy(&l->wcv);
	pthread_cond_destroy(&l->ccv);
	pthread_mutex_destroy(&l->cmu);
	pthread_mutex_destroy(&l->mu);
	close(l->wake_fd);
	free(l);
	return CC_EIO;
}

void cc_webhook_listener_stop(struct cc_webhook_listener *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->cmu);
	l->reaper_stop = true;
	pthread_cond_signal(&l->ccv);
	pthread_mutex_unlock(&l->cmu);
	pthread_join(l->reaper, NULL);
	/* every waiting admin request answers 503; libmicrohttpd must not
	 * stop with a connection suspended */
	pthread_mutex_lock(&l->mu);
	l->closing = true;
	struct cc_admin_request *waiting = l->admin_head;
	l->admin_head = NULL;
	for (struct cc_admin_request *rq = waiting; rq; rq = rq->next)
		give_up((struct admin_wait *)rq, "stopping\n");
	pthread_mutex_unlock(&l->mu);
	while (waiting) {
		struct admin_wait *w = (struct admin_wait *)waiting;
		waiting = waiting->next;
		w->rq.next = NULL;
		MHD_resume_connection(w->c);
	}
	/* libmicrohttpd's stop closes connections without sending what is
	 * queued: give the answers a moment to go out */
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += STOP_GRACE_S;
	pthread_mutex_lock(&l->mu);
	while (l->nwaits && pthread_cond_timedwait(&l->wcv, &l->mu, &t) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&l->mu);
	MHD_stop_daemon(l->d);
	for (size_t i = 0; i < l->nlingers; i++)
		close(l->lingers[i].fd);
	for (int s = 0; s < CC_MAX_SYSTEMS; s++) {
		struct body_queue *q = &l->q[s];
		for (size_t i = 0; i < q->n; i++)
			free(q->body[(q->head + i) % CC_WEBHOOK_QUEUE_MAX]);
	}
	pthread_cond_destroy(&l->wcv);
	pthread_cond_destroy(&l->ccv);
	pthread_mutex_destroy(&l->cmu);
	pthread_mutex_destroy(&l->mu);
	close(l->wake_fd);
	free(l);
}

int cc_webhook_listener_fd(const struct cc_webhook_listener *l)
{
	return l->wake_fd;
}

void cc_webhook_listener_drain(struct cc_webhook_listener *l)
{
	uint64_t n;
	while (read(l->wake_fd, &n, sizeof(n)) == (ssize_t)sizeof(n))
		;
}

bool cc_webhook_listener_take(struct cc_webhook_listener *l, int system)
{
	return system >= 0 && system < CC_MAX_SYSTEMS && atomic_exchange(&l->hint[system], 0);
}

bool cc_webhook_listener_take_body(struct cc_webhook_listener *l, int system, char **body,
                                   size_t *len)
{
	if (system < 0 || system >= CC_MAX_SYSTEMS)
		return false;
	bool got = false;
	pthread_mutex_lock(&l->mu);
	struct body_queue *q = &l->q[system];
	if (q->n) {
		*body = q->body[q->head];
		*len = q->len[q->head];
		q->body[q->head] = NULL;
		q->head = (q->head + 1) % CC_WEBHOOK_QUEUE_MAX;
		q->n--;
		q->bytes -= *len;
		got = true;
	}
	pthread_mutex_unlock(&l->mu);
	return got;
}

void cc_webhook_listener_counts(struct cc_webhook_listener *l, int system, uint64_t *received,
                                uint64_t *dropped, uint64_t *rejected)
{
	*received = *dropped = *rejected = 0;
	if (system < 0 || system >= CC_MAX_SYSTEMS)
		return;
	pthread_mutex_lock(&l->mu);
	*received = l->q[system].received;
	*dropped = l->q[system].dropped;
	*rejected = l->q[system].rejected;
	pthread_mutex_unlock(&l->mu);
}

size_t cc_webhook_listener_take_rejections(struct cc_webhook_listener *l, int system,
                                           struct cc_webhook_rejection *out, size_t max)
{
	if (system < 0 || system >= CC_MAX_SYSTEMS)
		return 0;
	size_t n = 0;
	pthread_mutex_lock(&l->mu);
	struct reject_log *rj = &l->q[system].rj;
	reject_roll(rj, now_ms());
	while (n < max && rj->n) {
		out[n++] = rj->note[rj->head];
		rj->head = (rj->head + 1) % REJECT_RING;
		rj->n--;
	}
	pthread_mutex_unlock(&l->mu);
	return n;
}

struct cc_admin_request *cc_webhook_listener_next_admin(struct cc_webhook_listener *l)
{
	pthread_mutex_lock(&l->mu);
	struct cc_admin_request *rq = l->admin_head;
	if (rq) {
		l->admin_head = rq->next;
		rq->next = NULL;
		rq->taken = true;
	}
	pthread_mutex_unlock(&l->mu);
	return rq;
}

void cc_webhook_listener_answer(struct cc_webhook_listener *l, struct cc_admin_request *rq,
                                unsigned status, char *body)
{
	struct admin_wait *w = (struct admin_wait *)rq;
	pthread_mutex_lock(&l->mu);
	bool orphan = w->orphan;
	rq->status = status;
	rq->body = body;
	rq->answered = true;
	struct MHD_Connection *c = w->c;
	pthread_mutex_unlock(&l->mu);
	if (orphan) {
		free(body);
		free(w);
		return;
	}
	MHD_resume_connection(c); /* the handler replies, then frees it */
}
