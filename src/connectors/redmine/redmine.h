/*
 * The Redmine 5 connector (REST API, JSON), see docs/connectors/redmine.md.
 */
#ifndef CC_CONNECTORS_REDMINE_H
#define CC_CONNECTORS_REDMINE_H

#include "connectors/registry.h"

/*
 * Makes a Redmine connector for setup->system. Settings: `project` (the
 * project identifier, required), `correlation_field` (the name of an issue
 * custom field, default "ExternalRef"). Returns 0 or a negative cc_error
 * with a message in err.
 */
int cc_redmine_create(struct cc_connector *out, const struct cc_connector_setup *setup,
                      char *err, size_t errlen);

#endif
