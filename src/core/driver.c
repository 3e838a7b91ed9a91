/*
 * The hub driver (see driver.h).
 */
#include "core/driver.h"
#include "core/hub_internal.h"

#include <stdlib.h>
#include <string.h>

/*
 * A webhook body whose read failed for a reason that may pass (the
 * connector answered RETRY: a 5xx, a timeout, a rate limit): handed over
 * again later, because a poll does not always cover what it names (a
 * comment added in Sentinel moves no incident time). Bounded in number and
 * attempts; owned by the driver.
 */
struct held_body {
	char *body;
	size_t len;
	int attempts;
	int64_t due_ms;
};

#define HELD_MAX 64          /* bodies held per system; beyond, the oldest is dropped */
#define HELD_ATTEMPTS 6      /* attempts of one body: after 1, 2, 4, 8, 16 s */
#define HELD_FIRST_MS 1000

struct cc_driver {
	struct cc_hub *hub;
	const struct cc_config *cfg;
	struct cc_driver_env env;
	struct held_body held[CC_MAX_SYSTEMS][HELD_MAX];
	size_t nheld[CC_MAX_SYSTEMS];
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
	if (!d)
		return;
	for (size_t s = 0; s < CC_MAX_SYSTEMS; s++)
		for (size_t i = 0; i < d->nheld[s]; i++)
			free(d->held[s][i].body);
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

/* Keeps body (taken over) to be handed over again after its backoff. */
static void hold(struct cc_driver *d, int s, char *body, size_t len, int attempts)
{
	if (attempts >= HELD_ATTEMPTS) {
		free(body);
		return;
	}
	if (d->nheld[s] == HELD_MAX) { /* the oldest goes: a poll is due for it */
		free(d->held[s][0].body);
		memmove(&d->held[s][0], &d->held[s][1], (HELD_MAX - 1) * sizeof(d->held[s][0]));
		d->nheld[s]--;
	}
	int64_t wait = (int64_t)HELD_FIRST_MS << (attempts > 0 ? attempts - 1 : 0);
	d->held[s][d->nheld[s]++] = (struct held_body){ body, len, attempts,
		                                         cc_hub_now(d->hub) + wait };
}

/* One body to the connector; *poll_now when it could not be handled. */
static int hand_over(struct cc_driver *d, int s, char *body, size_t len, int attempts,
                     bool *poll_now)
{
	bool handled = false, retry = false;
	int rc = cc_hub_webhook(d->hub, s, body, len, &handled, &retry);
	if (!handled)
		*poll_now = true;
	if (rc == CC_EOK && !handled && retry)
		hold(d, s, body, len, attempts + 1);
	else
		free(body);
	return rc;
}

/*
 * The webhook bodies queued for a system, then its held bodies now due, to
 * its connector; *poll_now when one could not be handled (no webhook op,
 * or it failed). A body is read even when a poll is due: a poll does not
 * list every change a webhook names (a comment that moves no record time).
 */
static int take_webhooks(struct cc_driver *d, int s, bool *poll_now)
{
	if (d->env.take_hint && d->env.take_hint(d->env.ctx, s))
		*poll_now = true;
	char *body;
	size_t len;
	while (!stopping(d) && d->env.take_body && d->env.take_body(d->env.ctx, s, &body, &len)) {
		int rc = hand_over(d, s, body, len, 0, poll_now);
		if (rc)
			return rc;
		between(d);
	}
	int64_t now = cc_hub_now(d->hub);
	size_t n = d->nheld[s];
	for (size_t i = 0; i < n && !stopping(d);) {
		struct held_body hb = d->held[s][i];
		if (hb.due_ms > now) {
			i++;
			continue;
		}
		memmove(&d->held[s][i], &d->held[s][i + 1], (d->nheld[s] - i - 1) * sizeof(hb));
		d->nheld[s]--;
		n--;
		int rc = hand_over(d, s, hb.body, hb.len, hb.attempts, poll_now);
		if (rc)
			return rc;
		between(d);
	}
	return CC_EOK;
}

/* What each system's poll did, for env.polled (before: filled before it). */
static void polled(struct cc_driver *d, int s, struct cc_driver_poll *p, uint64_t seen_before)
{
	struct cc_hub_system_status hs;
	cc_hub_system_status(d->hub, s, &hs);
	p->observations = cc_hub_stats(d->hub)->observations_of[s] - seen_before;
	p->failures_after = hs.poll_failures;
	if (d->env.polled)
		d->env.polled(d->env.ctx, s, p);
}

/*
 * The systems in poll_now polled; at a first sync while the others are
 * delivered to (cc_hub_poll_and_deliver): its copies start with its first
 * page, not after its last.
 */
static int poll_all(struct cc_driver *d, const bool *poll_now, bool *any)
{
	size_t ns = d->cfg->nsystems;
	bool mask[CC_MAX_SYSTEMS] = { false }, skip[CC_MAX_SYSTEMS] = { false };
	struct cc_driver_poll p[CC_MAX_SYSTEMS];
	uint64_t seen[CC_MAX_SYSTEMS], polls[CC_MAX_SYSTEMS];
	*any = false;
	for (size_t i = 0; i < ns; i++) {
		int s = (int)i;
		skip[i] = paused(d, s);
		mask[i] = poll_now[i] && !skip[i] && !stopping(d);
		if (!mask[i])
			continue;
		struct cc_hub_system_status hs;
		cc_hub_system_status(d->hub, s, &hs);
		p[i] = (struct cc_driver_poll){ .first = hs.last_poll_start_ms == 0,
			                        .failures_before = hs.poll_failures };
		seen[i] = cc_hub_stats(d->hub)->observations_of[i];
		polls[i] = cc_hub_stats(d->hub)->polls_of[i];
		*any = true;
	}
	if (!*any)
		return CC_EOK;
	/*
	 * A first poll (a first sync: the whole source) is read while the
	 * others are delivered to; later polls, incremental and short, one
	 * after another as before (each one's failure or recovery reported
	 * when it ends, not when the slowest of a round does).
	 */
	bool first = false;
	for (size_t i = 0; i < ns; i++)
		first = first || (mask[i] && p[i].first);
	if (!first) {
		for (size_t i = 0; i < ns; i++) {
			if (!mask[i] || stopping(d))
				continue;
			int rc = cc_hub_poll(d->hub, (int)i);
			if (rc)
				return rc;
			polled(d, (int)i, &p[i], seen[i]);
			between(d);
		}
		return CC_EOK;
	}
	int n = 0;
	int rc = cc_hub_poll_and_deliver(d->hub, mask, skip, CC_DRIVER_DELIVERIES, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < ns; i++) {
		if (!mask[i] || cc_hub_stats(d->hub)->polls_of[i] == polls[i])
			continue; /* not polled after all: a stop came first */
		polled(d, (int)i, &p[i], seen[i]);
		between(d);
	}
	return CC_EOK;
}

static int deliver_all(struct cc_driver *d)
{
	bool skip[CC_MAX_SYSTEMS] = { false };
	for (size_t i = 0; i < d->cfg->nsystems; i++)
		skip[i] = paused(d, (int)i);
	int n = 0;
	int rc = cc_hub_deliver_systems(d->hub, skip, CC_DRIVER_DELIVERIES, &n);
	if (rc == CC_EOK && n)
		between(d);
	return rc;
}

/*
 * Webhooks first, then deliveries, then polls (while the systems not
 * polled are delivered to), then deliveries again: a
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
	bool any = false;
	rc = poll_all(d, poll_now, &any);
	if (rc)
		return rc;
	return any ? deliver_all(d) : CC_EOK;
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
		for (size_t k = 0; k < d->nheld[s]; k++)
			if (d->held[s][k].due_ms < t)
				t = d->held[s][k].due_ms;
	}
	return t;
}
