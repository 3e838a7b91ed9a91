/*
 * From the configuration file to a connector: builds the setup a connector
 * kind needs (URL, secret, settings, user map) for one system.
 */
#ifndef CC_DAEMON_CONNECT_H
#define CC_DAEMON_CONNECT_H

#include "config/config_file.h"
#include "connectors/connector.h"

int cc_connector_create_from_file(struct cc_connector *out, const struct cc_file_config *fc,
                                  size_t system, char *err, size_t errlen);

#endif
