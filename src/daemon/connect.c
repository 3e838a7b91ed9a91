/*
 * From the configuration file to a connector (see connect.h).
 */
#include "daemon/connect.h"

#include "connectors/registry.h"

#include <stdio.h>
#include <stdlib.h>

int cc_connector_create_from_file(struct cc_connector *out, const struct cc_file_config *fc,
                                  size_t system, bool (*interrupt)(void *ctx),
                                  void *interrupt_ctx, struct cc_http_pace *pace,
                                  struct cc_seen *seen, FILE *trace, char *err, size_t errlen)
{
	const struct cc_system_file *sf = &fc->system[system];
	const struct cc_system_def *sd = &fc->engine.systems[system];
	struct cc_connector_setting *settings = NULL;
	struct cc_connector_user *users = NULL;
	int rc = -1;
	if (!sf->url.value) {
		snprintf(err, errlen, "no url");
		return CC_EINVAL;
	}
	settings = calloc(sf->nsettings + 1, sizeof(*settings));
	users = calloc(sf->nusers + 1, sizeof(*users));
	if (!settings || !users) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < sf->nsettings; i++)
		settings[i] = (struct cc_connector_setting){ sf->settings[i].key, sf->settings[i].value };
	for (size_t i = 0; i < sf->nusers; i++)
		users[i] = (struct cc_connector_user){ sf->users[i].remote, sf->users[i].person };
	struct cc_connector_setup setup = {
		.base_url = sf->url.value,
		.secret = sf->token.value,
		.integration_user = sd->integration_user,
		.cfg = &fc->engine,
		.system = (int)system,
		.settings = settings,
		.nsettings = sf->nsettings,
		.users = users,
		.nusers = sf->nusers,
		.timeout_ms = sf->timeout_ms,
		.rate_per_sec = sf->rate_per_sec,
		.max_concurrency = sf->max_concurrency,
		.ca_file = sf->ca_file,
		.retry_after_max_ms = sf->retry_after_max_ms,
		.pace = pace,
		.seen = seen,
		.interrupt = interrupt,
		.interrupt_ctx = interrupt_ctx,
		.trace = trace,
	};
	/* The connector copies what it keeps: the arrays are ours to free. */
	rc = cc_connector_create(out, sd->kind, &setup, err, errlen);
out:
	free(settings);
	free(users);
	return rc;
}
