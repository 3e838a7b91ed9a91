/*
 * The Request Tracker 5 connector (REST2 API), see docs/connectors/rt.md.
 * Its row of the registry (settings `queue`, `correlation_field`).
 */
#ifndef CC_CONNECTORS_RT_H
#define CC_CONNECTORS_RT_H

#include "connectors/registry.h"

extern const struct cc_connector_kind cc_rt_kind;

#endif
