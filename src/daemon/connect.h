/*
 * From the configuration file to a connector: builds the setup a connector
 * kind needs (URL, secret, settings, user map) for one system.
 */
#ifndef CC_DAEMON_CONNECT_H
#define CC_DAEMON_CONNECT_H

#include "config/config_file.h"
#include "core/connector.h"

#include <stdio.h>

struct cc_http_pace;
struct cc_seen;

/*
 * interrupt (may be NULL) is asked while a request of the connector waits
 * (see struct cc_http_options): true aborts it. pace and seen (each may be
 * NULL) are shared with the system's other instances (see struct
 * cc_connector_setup).
 */
int cc_connector_create_from_file(struct cc_connector *out, const struct cc_file_config *fc,
                                  size_t system, bool (*interrupt)(void *ctx),
                                  void *interrupt_ctx, struct cc_http_pace *pace,
                                  struct cc_seen *seen, FILE *trace, char *err, size_t errlen);

#endif
