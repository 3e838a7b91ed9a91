/*
 * The Redmine 5 connector (REST API, JSON), see docs/connectors/redmine.md.
 * Its row of the registry (settings `project`, required, and
 * `correlation_field`).
 */
#ifndef CC_CONNECTORS_REDMINE_H
#define CC_CONNECTORS_REDMINE_H

#include "connectors/registry.h"

extern const struct cc_connector_kind cc_redmine_kind;

#endif
