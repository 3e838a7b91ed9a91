/*
 * The webhook listener (see webhook.h).
 */
#include "daemon/webhook.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODY (1024 * 1024)

struct cc_webhook_listener {
	struct MHD_Daemon *d;
	const struct cc_config *cfg;
	atomic_int hint[CC_MAX_SYSTEMS];
};

struct request {
	size_t received;
	bool too_large;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
	                                                         MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/plain");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
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
		*state = rq;
		return MHD_YES;
	}
	if (*size) {
		rq->received += *size;
		if (rq->received > MAX_BODY)
			rq->too_large = true;
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") == 0 && strcmp(url, "/health") == 0)
		return reply(c, MHD_HTTP_OK, "ok\n");
	if (strcmp(method, "POST") != 0 || strncmp(url, "/webhook/", 9) != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, "not found\n");
	if (rq->too_large)
		return reply(c, 413, "body too large\n");
	const char *name = url + 9;
	for (size_t s = 0; s < l->cfg->nsystems; s++) {
		if (strcmp(l->cfg->systems[s].name, name) == 0) {
			atomic_store(&l->hint[s], 1);
			return reply(c, MHD_HTTP_ACCEPTED, "accepted\n");
		}
	}
	return reply(c, MHD_HTTP_NOT_FOUND, "no such system\n");
}

static void done(void *cls, struct MHD_Connection *c, void **state,
                 enum MHD_RequestTerminationCode code)
{
	(void)cls, (void)c, (void)code;
	free(*state);
	*state = NULL;
}

int cc_webhook_listener_start(struct cc_webhook_listener **out, const char *listen,
                              const struct cc_config *cfg, char *err, size_t errlen)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	if (!colon || (size_t)(colon - listen) >= sizeof(host)) {
		snprintf(err, errlen, "listen address %s is not HOST:PORT", listen);
		return -1;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
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
	l->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	                        handle, l, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	                        MHD_OPTION_NOTIFY_COMPLETED, done, l,
	                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
	if (!l->d) {
		snprintf(err, errlen, "cannot listen on %s", listen);
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
	MHD_stop_daemon(l->d);
	free(l);
}

bool cc_webhook_listener_take(struct cc_webhook_listener *l, int system)
{
	return system >= 0 && system < CC_MAX_SYSTEMS && atomic_exchange(&l->hint[system], 0);
}
