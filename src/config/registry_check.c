/*
 * cc_config_registry_options() (see registry_check.h): the loader asks the
 * connector registry about each system. cc_connector_settings_check()
 * answers for the kind and its settings' rows; an unknown kind is told
 * apart so that the loader points at `kind:`.
 */
#include "config/registry_check.h"

#include "connectors/registry.h"

static int check_system(void *ctx, const char *kind, const char *const *keys, size_t n,
                        long *bad, char *err, size_t errlen)
{
	(void)ctx;
	int rc = cc_connector_settings_check(kind, keys, n, bad, err, errlen);
	if (rc && !cc_connector_kind_find(kind))
		*bad = CC_CONFIG_BAD_KIND;
	return rc;
}

static size_t accepted(void *ctx, const char *kind, const char **names, size_t max)
{
	(void)ctx;
	size_t n = 0;
	if (!kind) {
		for (const struct cc_connector_kind *const *k = cc_connector_kind_table(); *k && n < max;
		     k++)
			names[n++] = (*k)->kind;
		return n;
	}
	const struct cc_connector_kind *k = cc_connector_kind_find(kind);
	for (const struct cc_setting_row *r = k ? k->settings : NULL; r && r->key && n < max; r++)
		names[n++] = r->key;
	return n;
}

static const struct cc_config_options options = {
	.check_system = check_system,
	.accepted = accepted,
	.ctx = NULL,
};

const struct cc_config_options *cc_config_registry_options(void)
{
	return &options;
}
