/*
 * cc_config_registry_options() (see registry_check.h): the loader asks the
 * connector registry about each system. cc_connector_settings_check()
 * answers for the kind and its settings' rows; an unknown kind is told
 * apart so that the loader points at `kind:`.
 */
#include "config/registry_check.h"

#include "connectors/registry.h"

#include <stdio.h>
#include <string.h>

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

static bool listed(const char *const *list, const char *v)
{
	for (; list && *list; list++)
		if (strcmp(*list, v) == 0)
			return true;
	return false;
}

/* The companion of entry ve that fills remote field `remote`, or NULL. */
static const struct cc_companion *companion_for(const struct cc_system_def *sd,
                                                const struct cc_value_entry *ve,
                                                const char *remote)
{
	for (size_t k = 0; k < ve->ncompanions; k++) {
		const struct cc_field_map *m = &sd->map[ve->companions[k].field];
		if (m->mapped && m->remote_name && strcmp(m->remote_name, remote) == 0)
			return &ve->companions[k];
	}
	return NULL;
}

/* Each value the kind cannot write alone names a companion with a default
 * for every field it needs. */
static int check_mapping(void *ctx, const struct cc_config *cfg, const struct cc_system_def *sd,
                         int *field, char *err, size_t errlen)
{
	(void)ctx;
	const struct cc_connector_kind *k = cc_connector_kind_find(sd->kind);
	for (const struct cc_companion_need *n = k ? k->needs : NULL; n && n->field; n++) {
		for (size_t f = 0; f < cfg->nfields; f++) {
			const struct cc_field_map *m = &sd->map[f];
			if (!m->mapped || !m->remote_name || strcmp(m->remote_name, n->field) != 0)
				continue;
			for (size_t i = 0; i < m->nentries; i++) {
				const struct cc_value_entry *ve = &m->entries[i];
				if (!listed(n->values, ve->remote))
					continue;
				for (const char *const *r = n->needs; *r; r++) {
					const struct cc_companion *cp = companion_for(sd, ve, *r);
					if (cp && cp->dflt)
						continue;
					*field = (int)f;
					snprintf(err, errlen, "field %s: writing %s '%s' needs '%s' in the same "
					         "write (%s); %s", cfg->fields[f].name, n->field, ve->remote, *r,
					         n->why,
					         cp ? "give its companion a default for cases that have no value"
					            : "name the field that fills it in the value's companions, "
					              "with a default");
					return CC_EINVAL;
				}
			}
		}
	}
	return 0;
}

static const struct cc_config_options options = {
	.check_system = check_system,
	.accepted = accepted,
	.check_mapping = check_mapping,
	.ctx = NULL,
};

const struct cc_config_options *cc_config_registry_options(void)
{
	return &options;
}
