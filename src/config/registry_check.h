/*
 * The loader's options (struct cc_config_options) that check each
 * system's kind and settings against the connector registry
 * (connectors/registry.h): what `concord check`, the admin commands and
 * the daemon load a configuration with.
 *
 * This is the one place where the configuration meets the connectors'
 * table. It is a library of its own (concord-config-registry in
 * meson.build) so that the configuration library does not depend on the
 * connectors, and its tests and fuzzer can give it options of their own.
 */
#ifndef CC_CONFIG_REGISTRY_CHECK_H
#define CC_CONFIG_REGISTRY_CHECK_H

#include "config/config_file.h"

/* The options (static; no state of their own). */
const struct cc_config_options *cc_config_registry_options(void);

#endif
