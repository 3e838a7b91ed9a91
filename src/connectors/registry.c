/*
 * The connector registry (see registry.h): the table of kinds, creating
 * a connector of a kind and checking its settings.
 */
#include "connectors/registry.h"

#include <stdio.h>
#include <string.h>

/*
 * The connector kinds this build knows: one row each, declared here so
 * that this file includes nothing of the connectors' own folders.
 */
extern const struct cc_connector_kind cc_rt_kind;
extern const struct cc_connector_kind cc_redmine_kind;
extern const struct cc_connector_kind cc_servicenow_kind;
extern const struct cc_connector_kind cc_sentinel_kind;
extern const struct cc_connector_kind cc_jira_kind;

static const struct cc_connector_kind *const kinds[] = {
	&cc_rt_kind,
	&cc_redmine_kind,
	&cc_servicenow_kind,
	&cc_sentinel_kind,
	&cc_jira_kind,
	NULL,
};

static const char *kind_names[sizeof(kinds) / sizeof(kinds[0])];

const struct cc_connector_kind *const *cc_connector_kind_table(void)
{
	return kinds;
}

const char *const *cc_connector_kinds(void)
{
	if (!kind_names[0])
		for (size_t i = 0; kinds[i]; i++)
			kind_names[i] = kinds[i]->kind;
	return kind_names;
}

const struct cc_connector_kind *cc_connector_kind_find(const char *kind)
{
	for (size_t i = 0; kind && kinds[i]; i++)
		if (strcmp(kinds[i]->kind, kind) == 0)
			return kinds[i];
	return NULL;
}

bool cc_connector_kind_known(const char *kind)
{
	return cc_connector_kind_find(kind) != NULL;
}

/* "rt, redmine" into buf. */
static void kind_list(char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; kinds[i] && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
		                         kinds[i]->kind);
}

int cc_connector_settings_check(const char *kind, const char *const *keys, size_t n,
                                long *bad, char *err, size_t errlen)
{
	const struct cc_connector_kind *k = cc_connector_kind_find(kind);
	*bad = -1;
	if (!k) {
		char known[200];
		kind_list(known, sizeof(known));
		snprintf(err, errlen, "connector kind '%s' is unknown (known: %s)", kind ? kind : "",
		         known);
		return CC_EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		for (const struct cc_setting_row *r = k->settings; r && r->key && !found; r++)
			found = strcmp(r->key, keys[i]) == 0;
		if (found)
			continue;
		char accepted[300];
		size_t used = 0;
		accepted[0] = '\0';
		for (const struct cc_setting_row *r = k->settings; r && r->key && used < sizeof(accepted);
		     r++)
			used += (size_t)snprintf(accepted + used, sizeof(accepted) - used, "%s%s",
			                         used ? ", " : "", r->key);
		*bad = (long)i;
		snprintf(err, errlen, "setting '%s' is not one of %s's (%s)", keys[i], k->kind,
		         used ? accepted : "it takes none");
		return CC_EINVAL;
	}
	for (const struct cc_setting_row *r = k->settings; r && r->key; r++) {
		if (!r->required)
			continue;
		bool given = false;
		for (size_t i = 0; i < n && !given; i++)
			given = strcmp(r->key, keys[i]) == 0;
		if (!given) {
			snprintf(err, errlen, "%s needs the setting '%s' (%s)", k->kind, r->key,
			         r->description);
			return CC_EINVAL;
		}
	}
	return CC_EOK;
}

int cc_connector_create(struct cc_connector *out, const char *kind,
                        const struct cc_connector_setup *setup, char *err, size_t errlen)
{
	out->ops = NULL;
	out->self = NULL;
	if (!kind || !setup || !setup->cfg || setup->system < 0 ||
	    (size_t)setup->system >= setup->cfg->nsystems) {
		snprintf(err, errlen, "connector: no kind, configuration or system index");
		return CC_EINVAL;
	}
	if (!setup->base_url || !setup->base_url[0]) {
		snprintf(err, errlen, "connector %s: no base url", kind);
		return CC_EINVAL;
	}
	const struct cc_connector_kind *k = cc_connector_kind_find(kind);
	if (!k) {
		char known[200];
		kind_list(known, sizeof(known));
		snprintf(err, errlen, "connector kind '%s' is unknown (known: %s)", kind, known);
		return CC_EINVAL;
	}
	/* the connector sees its kind, so that settings fall back to its rows */
	struct cc_connector_setup s = *setup;
	s.kind = k;
	int rc = k->create(out, &s, err, errlen);
	if (rc)
		return rc;
	if (!out->ops || out->ops->version != CC_CONNECTOR_OPS_VERSION) {
		snprintf(err, errlen, "connector %s implements connector interface version %d; this "
		         "build needs %d", kind, out->ops ? out->ops->version : 0,
		         CC_CONNECTOR_OPS_VERSION);
		if (out->ops && out->ops->destroy)
			out->ops->destroy(out->self);
		out->ops = NULL;
		out->self = NULL;
		return CC_EINVAL;
	}
	return CC_EOK;
}
