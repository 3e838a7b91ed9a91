/*
 * The webhook listener (libmicrohttpd): POST /webhook/SYSTEM marks that
 * system for an immediate poll (a webhook is a hint; polling stays the
 * truth). GET /health answers "ok". Loopback by default; bodies larger
 * than 1 MiB are refused with 413.
 */
#ifndef CC_DAEMON_WEBHOOK_H
#define CC_DAEMON_WEBHOOK_H

#include "core/config.h"

#include <stdbool.h>
#include <stddef.h>

struct cc_webhook_listener;

/* listen is "HOST:PORT" (IPv4). cfg must outlive the listener. */
int cc_webhook_listener_start(struct cc_webhook_listener **out, const char *listen,
                              const struct cc_config *cfg, char *err, size_t errlen);
void cc_webhook_listener_stop(struct cc_webhook_listener *l);
/* True once after a webhook arrived for that system. */
bool cc_webhook_listener_take(struct cc_webhook_listener *l, int system);

#endif
