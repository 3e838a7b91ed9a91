/*
 * A connector's settings with its kind's defaults (see settings.h).
 */
#include "connectors/settings.h"

#include <string.h>

const char *cc_setup_setting(const struct cc_connector_setup *s, const char *key)
{
	for (size_t i = 0; i < s->nsettings; i++)
		if (s->settings[i].key && strcmp(s->settings[i].key, key) == 0 &&
		    s->settings[i].value)
			return s->settings[i].value;
	for (const struct cc_setting_row *r = s->kind ? s->kind->settings : NULL; r && r->key; r++)
		if (strcmp(r->key, key) == 0)
			return r->dflt;
	return NULL;
}

const char *cc_setup_integration_user(const struct cc_connector_setup *s)
{
	return s->integration_user ? s->integration_user
	                           : s->cfg->systems[s->system].integration_user;
}
