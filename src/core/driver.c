/*
 * The hub driver (see driver.h).
 */
#include "core/driver.h"
#include "core/hub_internal.h"

#include <stdlib.h>

struct cc_driver {
	struct cc_hub *hub;
	const struct cc_config *cfg;
	struct cc_driver_env env;
};

int cc_driver_create(struct cc_driver **out, struct cc_hub *hub, const struct cc_config *cfg,
                     const struct cc_driver_env *env)
{
	struct cc_driver *d = calloc(1, sizeof(*d));
	if (!d)
		return CC_ENOMEM;
	d->hub = hub;
	d->cfg = cfg;
	if (env)
		d->env = *env;
	*out = d;
	return CC_EOK;
}

void cc_driver_destroy(struct cc_driver *d)
{
	free(d);
}

static bool stopping(const struct cc_driver *d)
{
	return d->env.stopping && d->env.stopping(d->env.ctx);
}

static bool paused(const struct cc_driver *d, int s)
{
	return d->env.paused && d->env.paused(d->env.ctx, s);
}

static void between(const struct cc_driver *d)
{
	if (d->env.between)
		d->env.between(d->env.ctx);
}

/*
 * The webhook bodies queued for a system, to its connector; *poll_now when
 * one could not be handled (no webhook op, or it failed): the poll covers
 * it. Once a poll is due anyway, the bodies left are dropped unread.
 */
static int take_webhooks(struct cc_driver *d, int s, bool *poll_now)
{
	if (d->env.take_hint && d->env.take_hint(d->env.ctx, s))
		*poll_now = true;
	char *body;
	size_t len;
	while (!stopping(d) && d->env.take_body && d->env.take_body(d->env.ctx, s, &body, &len)) {
		int rc = CC_EOK;
		if (!*poll_now) {
			bool handled = false;
			rc = cc_hub_webhook(d->hub, s, body, len, &handled);
			if (!handled)
				*poll_now = true;
		}
		free(body);
		if (rc)
			return rc;
		between(d);
	}
	return CC_EOK;
}

static int poll(struct cc_driver *d, int s)
{
	struct cc_hub_system_status hs;
	cc_hub_system_status(d->hub, s, &hs);
	struct cc_driver_poll p = { .first = hs.last_poll_start_ms == 0,
		                    .failures_before = hs.poll_failures };
	uint64_t before = cc_hub_stats(d->hub)->observations;
	int rc = cc_hub_poll(d->hub, s);
	if (rc)
		return rc;
	cc_hub_system_status(d->hub, s, &hs);
	p.observations = cc_hub_stats(d->hub)->observations - before;
	p.failures_after = hs.poll_failures;
	if (d->env.polled)
		d->env.polled(d->env.ctx, s, &p);
	return CC_EOK;
}

static int deliver_all(struct cc_driver *d)
{
	for (size_t i = 0; i < d->cfg->nsystems && !stopping(d); i++) {
		int s = (int)i;
		if (paused(d, s))
			continue;
		int n = 0;
		int rc = cc_hub_deliver(d->hub, s, CC_DRIVER_DELIVERIES, &n);
		if (rc)
			return rc;
		if (n)
			between(d);
	}
	return CC_EOK;
}

/*
 * Webhooks first, then deliveries, then polls, then deliveries again: a
 * change a webhook brought is written to the other systems before any
 * poll of this step makes it wait, and what the polls found goes out in
 * the same step.
 */
int cc_driver_step(struct cc_driver *d, bool force_poll)
{
	int64_t now = cc_hub_now(d->hub);
	bool poll_now[CC_MAX_SYSTEMS] = { false };
	for (size_t i = 0; i < d->cfg->nsystems && !stopping(d); i++) {
		int s = (int)i;
		if (paused(d, s))
			continue;
		poll_now[s] = force_poll || now >= cc_hub_next_poll(d->hub, s);
		int rc = take_webhooks(d, s, &poll_now[s]);
		if (rc)
			return rc;
	}
	int rc = deliver_all(d);
	if (rc)
		return rc;
	bool polled = false;
	for (size_t i = 0; i < d->cfg->nsystems && !stopping(d); i++) {
		int s = (int)i;
		if (!poll_now[s] || paused(d, s))
			continue;
		rc = poll(d, s);
		if (rc)
			return rc;
		polled = true;
		between(d);
	}
	return polled ? deliver_all(d) : CC_EOK;
}

int64_t cc_driver_next_wake(struct cc_driver *d)
{
	int64_t t = INT64_MAX;
	for (size_t i = 0; i < d->cfg->nsystems; i++) {
		int s = (int)i;
		if (paused(d, s))
			continue; /* a paused system costs nothing */
		int64_t due = cc_hub_next_due(d->hub, s);
		int64_t p = cc_hub_next_poll(d->hub, s);
		if (due < t)
			t = due;
		if (p < t)
			t = p;
	}
	return t;
}
