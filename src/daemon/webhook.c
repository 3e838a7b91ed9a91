/*
 * The daemon's HTTP listener (see webhook.h). Each connection has its own
 * thread; the only state shared with the main loop is the listener's
 * queues, under one mutex: webhook bodies per system, and admin requests
 * that the connection thread waits on until the main loop answered them.
 */
#include "daemon/webhook.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_BODY (1024 * 1024)
#define ADMIN_WAIT_S 10

struct body_queue {
	char *body[CC_WEBHOOK_QUEUE_MAX]; /* ring, owned */
	size_t len[CC_WEBHOOK_QUEUE_MAX];
	size_t head, n, bytes;
	uint64_t received, dropped;
};

struct cc_webhook_listener {
	struct MHD_Daemon *d;
	const struct cc_config *cfg;
	struct cc_listener_options opt;
	atomic_int hint[CC_MAX_SYSTEMS];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool closing;
	struct body_queue q[CC_MAX_SYSTEMS];
	struct cc_admin_request *admin_head;
};

/* One HTTP request: the body so far (kept for webhooks whose system
 * reads bodies, counted for the others). */
struct request {
	size_t received;
	bool too_large;
	int keep_for;  /* system whose body is kept, -1: none */
	char *buf;
	size_t cap;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *text)
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
	return ret;
}

/* Replies with a body the response takes over (freed by libmicrohttpd). */
static enum MHD_Result reply_owned(struct MHD_Connection *c, unsigned status, char *body)
{
	if (!body)
		return reply(c, status, "\n");
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
	return ret;
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

/* Queues an admin request and waits for the main loop's answer. */
static enum MHD_Result admin_call(struct cc_webhook_listener *l, struct MHD_Connection *c,
                                  enum cc_admin_op op, const char *arg)
{
	struct cc_admin_request *rq = calloc(1, sizeof(*rq));
	if (!rq)
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	rq->op = op;
	if (strlen(arg) >= sizeof(rq->arg)) {
		free(rq);
		return reply(c, MHD_HTTP_NOT_FOUND, "no such system or case\n");
	}
	snprintf(rq->arg, sizeof(rq->arg), "%s", arg);
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += ADMIN_WAIT_S;
	pthread_mutex_lock(&l->mu);
	if (l->closing) {
		pthread_mutex_unlock(&l->mu);
		free(rq);
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "stopping\n");
	}
	struct cc_admin_request **tail = &l->admin_head;
	while (*tail)
		tail = &(*tail)->next;
	*tail = rq;
	bool timed_out = false;
	while (!rq->answered) {
		if (l->closing)
			break;
		/* once the main loop took it, the answer comes promptly: wait on */
		if (!rq->taken && timed_out)
			break;
		if (pthread_cond_timedwait(&l->cv, &l->mu, &deadline) == ETIMEDOUT) {
			timed_out = true;
			clock_gettime(CLOCK_REALTIME, &deadline);
			deadline.tv_sec += 1;
		}
	}
	if (!rq->answered)
		unlink_admin(l, rq);
	pthread_mutex_unlock(&l->mu);
	enum MHD_Result ret;
	if (rq->answered)
		ret = reply_owned(c, rq->status, rq->body);
	else
		ret = reply(c, MHD_HTTP_SERVICE_UNAVAILABLE,
		            l->closing ? "stopping\n" : "the daemon is busy, try again\n");
	free(rq);
	return ret;
}

static enum MHD_Result admin(struct cc_webhook_listener *l, struct MHD_Connection *c,
                             const char *url, const char *method)
{
	const char *token = l->opt.admin_token;
	if (!token || !token[0])
		return reply(c, MHD_HTTP_FORBIDDEN, "admin API disabled: no admin_token\n");
	if (!authorized(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                            MHD_HTTP_HEADER_AUTHORIZATION), token))
		return reply(c, MHD_HTTP_UNAUTHORIZED, "unauthorized\n");
	const char *path = url + strlen("/admin/");
	bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
	if (strcmp(path, "status") == 0)
		return get ? admin_call(l, c, CC_ADMIN_STATUS, "")
		           : reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET\n");
	static const struct {
		const char *prefix;
		enum cc_admin_op op;
	} posts[] = {
		{ "pause/", CC_ADMIN_PAUSE },
		{ "resume/", CC_ADMIN_RESUME },
		{ "resync/", CC_ADMIN_RESYNC },
	};
	for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++) {
		size_t n = strlen(posts[i].prefix);
		if (strncmp(path, posts[i].prefix, n) == 0 && path[n])
			return post ? admin_call(l, c, posts[i].op, path + n)
			            : reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST\n");
	}
	return reply(c, MHD_HTTP_NOT_FOUND, "not found\n");
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

/* Appends a chunk of a kept body; false when out of memory. */
static bool keep_chunk(struct request *rq, const char *data, size_t size)
{
	size_t need = rq->received + size + 1; /* received: bytes before this chunk */
	if (need > rq->cap) {
		size_t cap = rq->cap ? rq->cap : 4096;
		while (cap < need)
			cap *= 2;
		char *b = realloc(rq->buf, cap);
		if (!b)
			return false;
		rq->buf = b;
		rq->cap = cap;
	}
	memcpy(rq->buf + rq->received, data, size);
	rq->buf[rq->received + size] = '\0';
	return true;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **state)
{
	struct cc_webhook_listener *l = cls;
	(void)version;
	struct request *rq = *state;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		rq->keep_for = -1;
		if (strcmp(method, "POST") == 0 && strncmp(url, "/webhook/", 9) == 0) {
			int s = system_index(l, url + 9);
			if (s >= 0 && l->opt.keep_bodies[s])
				rq->keep_for = s;
		}
		*state = rq;
		return MHD_YES;
	}
	if (*size) {
		if (rq->received + *size > MAX_BODY) {
			rq->too_large = true;
			free(rq->buf);
			rq->buf = NULL;
			rq->cap = 0;
		} else if (rq->keep_for >= 0 && !rq->too_large && !keep_chunk(rq, data, *size)) {
			rq->keep_for = -1; /* out of memory: a hint only */
			free(rq->buf);
			rq->buf = NULL;
			rq->cap = 0;
		}
		rq->received += *size;
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") == 0 && strcmp(url, "/health") == 0)
		return reply(c, MHD_HTTP_OK, "ok\n");
	if (strncmp(url, "/admin/", 7) == 0)
		return admin(l, c, url, method);
	if (strcmp(method, "POST") != 0 || strncmp(url, "/webhook/", 9) != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, "not found\n");
	if (rq->too_large)
		return reply(c, 413, "body too large\n");
	int s = system_index(l, url + 9);
	if (s < 0)
		return reply(c, MHD_HTTP_NOT_FOUND, "no such system\n");
	if (rq->keep_for == s && rq->received > 0) {
		char *body = rq->buf;
		rq->buf = NULL;
		if (!queue_body(l, s, body, rq->received))
			atomic_store(&l->hint[s], 1);
		rq->cap = 0;
	} else {
		/* no body to read (or none kept): a hint to poll now */
		pthread_mutex_lock(&l->mu);
		l->q[s].received++;
		pthread_mutex_unlock(&l->mu);
		atomic_store(&l->hint[s], 1);
	}
	return reply(c, MHD_HTTP_ACCEPTED, "accepted\n");
}

static void done(void *cls, struct MHD_Connection *c, void **state,
                 enum MHD_RequestTerminationCode code)
{
	(void)cls, (void)c, (void)code;
	struct request *rq = *state;
	if (rq)
		free(rq->buf);
	free(rq);
	*state = NULL;
}

int cc_webhook_listener_start(struct cc_webhook_listener **out, const char *listen,
                              const struct cc_config *cfg, const struct cc_listener_options *opt,
                              char *err, size_t errlen)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	if (!colon || (size_t)(colon - listen) >= sizeof(host)) {
		snprintf(err, errlen, "listen address %s is not HOST:PORT", listen);
		return -1;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	long port = strtol(colon + 1, NULL, 10);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (port <= 0 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "listen address %s is not an IPv4 HOST:PORT", listen);
		return -1;
	}
	struct cc_webhook_listener *l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	l->cfg = cfg;
	if (opt)
		l->opt = *opt;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	l->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	                                MHD_USE_ERROR_LOG,
	                        0, NULL, NULL, handle, l, MHD_OPTION_SOCK_ADDR,
	                        (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, done, l,
	                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	                        MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
	if (!l->d) {
		snprintf(err, errlen, "cannot listen on %s", listen);
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
		free(l);
		return -1;
	}
	*out = l;
	return 0;
}

void cc_webhook_listener_stop(struct cc_webhook_listener *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->closing = true; /* waiting admin requests answer 503 */
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	MHD_stop_daemon(l->d);
	for (int s = 0; s < CC_MAX_SYSTEMS; s++) {
		struct body_queue *q = &l->q[s];
		for (size_t i = 0; i < q->n; i++)
			free(q->body[(q->head + i) % CC_WEBHOOK_QUEUE_MAX]);
	}
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
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
                                uint64_t *dropped)
{
	*received = *dropped = 0;
	if (system < 0 || system >= CC_MAX_SYSTEMS)
		return;
	pthread_mutex_lock(&l->mu);
	*received = l->q[system].received;
	*dropped = l->q[system].dropped;
	pthread_mutex_unlock(&l->mu);
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
	pthread_mutex_lock(&l->mu);
	rq->status = status;
	rq->body = body;
	rq->answered = true;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}
