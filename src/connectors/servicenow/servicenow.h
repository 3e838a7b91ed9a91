/*
 * The ServiceNow connector (Table API, JSON), see
 * docs/connectors/servicenow.md. Its row of the registry (settings `user`,
 * required, `table`, `comments_field`, `audit`, `priority_matrix`).
 */
#ifndef CC_CONNECTORS_SERVICENOW_H
#define CC_CONNECTORS_SERVICENOW_H

#include "connectors/registry.h"

extern const struct cc_connector_kind cc_servicenow_kind;

#endif
