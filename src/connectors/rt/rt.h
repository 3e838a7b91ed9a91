/*
 * The Request Tracker 5 connector (REST2 API), see docs/connectors/rt.md.
 */
#ifndef CC_CONNECTORS_RT_H
#define CC_CONNECTORS_RT_H

#include "connectors/registry.h"

/*
 * Makes an RT connector for setup->system. Settings: `queue` (default
 * "General"), `correlation_field` (default "ExternalRef"). Returns 0 or a
 * negative cc_error with a message in err.
 */
int cc_rt_create(struct cc_connector *out, const struct cc_connector_setup *setup, char *err,
                 size_t errlen);

#endif
