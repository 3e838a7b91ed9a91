/*
 * A connector's settings as its setup gives them (the configuration's
 * `settings:` of one system), with the defaults of its kind's rows.
 */
#ifndef CC_CONNECTORS_SETTINGS_H
#define CC_CONNECTORS_SETTINGS_H

#include "connectors/registry.h"

/*
 * The value of a setting, else its row's default (NULL when neither).
 * Borrowed from the setup or the kind's table.
 */
const char *cc_setup_setting(const struct cc_connector_setup *s, const char *key);

/*
 * The account concord writes as: the setup's integration_user, else the
 * system's in the configuration (NULL when neither). Borrowed.
 */
const char *cc_setup_integration_user(const struct cc_connector_setup *s);

#endif
