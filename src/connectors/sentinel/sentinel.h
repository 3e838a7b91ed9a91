/*
 * The Microsoft Sentinel connector (incidents through Azure Resource
 * Manager, OAuth 2.0 client credentials), see docs/connectors/sentinel.md.
 * Its row of the registry (settings subscription, resource_group,
 * workspace, tenant, client_id, login_url, api_version, scope; the system's token
 * is the app's client secret).
 */
#ifndef CC_CONNECTORS_SENTINEL_H
#define CC_CONNECTORS_SENTINEL_H

#include "connectors/registry.h"

extern const struct cc_connector_kind cc_sentinel_kind;

#endif
