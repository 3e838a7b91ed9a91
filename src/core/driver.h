/*
 * The hub driver: the loop of a running hub, one for the daemon and the
 * simulator alike. A step does, system by system, what is due at the
 * hub's now: the webhook bodies queued for the system go to its connector
 * (ops->webhook; a hint, or a body the connector cannot read, makes the
 * system be polled at once; a body whose read failed for a passing reason
 * is handed over again after 1, 2, 4, 8 and 16 s, because a poll does not
 * list every change a webhook names), the system is polled when its poll is due
 * (cc_hub_next_poll: the interval, the backoff of failed polls, the
 * breaker), and its due outbox entries are delivered. The driver then
 * says when it next has work. What differs between the daemon and the
 * simulator, the clock, the waiting, pauses and the webhook queue, is the
 * caller's, behind struct cc_driver_env; so every simulated run drives the
 * hub through the very loop the daemon runs.
 */
#ifndef CC_DRIVER_H
#define CC_DRIVER_H

#include "core/hub.h"

/* What one poll did, for the caller's log and status. */
struct cc_driver_poll {
	bool first;              /* the system had never been polled through */
	uint64_t observations;   /* observations this poll ingested */
	int failures_before;     /* failed polls in a row before it, and after */
	int failures_after;
};

struct cc_driver_env {
	/* Optional: true while a system is paused (no poll, no delivery). */
	bool (*paused)(void *ctx, int system);
	/* Optional: true once after a webhook hint for the system (poll it now). */
	bool (*take_hint)(void *ctx, int system);
	/*
	 * Optional: the oldest webhook body queued for the system: true with
	 * *body (taken over: the driver frees it with free()) and *len.
	 */
	bool (*take_body)(void *ctx, int system, char **body, size_t *len);
	/* Optional: after each poll of a system. */
	void (*polled)(void *ctx, int system, const struct cc_driver_poll *p);
	/*
	 * Optional: called between the parts of a step (between systems and
	 * webhook bodies), for work of the caller's that must not wait for a
	 * whole step (the daemon answers its admin requests there).
	 */
	void (*between)(void *ctx);
	/* Optional: true once the caller is stopping: no further part starts. */
	bool (*stopping)(void *ctx);
	void *ctx;
};

/* Deliveries of one system per step, at most (the rest in the next step). */
#define CC_DRIVER_DELIVERIES 256

struct cc_driver;

/* hub, cfg and env's strings are borrowed and must outlive the driver. */
int cc_driver_create(struct cc_driver **out, struct cc_hub *hub, const struct cc_config *cfg,
                     const struct cc_driver_env *env);
void cc_driver_destroy(struct cc_driver *d);

/*
 * One step at the hub's now, over the systems not paused: the webhooks
 * queued, then the deliveries due, then the polls due (or hinted, or every
 * system's when force_poll), then the deliveries again (what the polls
 * found). Returns 0, or the negative cc_error of a failed store (the caller
 * must stop: nothing acknowledged is lost, see hub.h).
 */
int cc_driver_step(struct cc_driver *d, bool force_poll);

/*
 * Hub time the driver next has work: a poll due or a delivery due, over
 * the systems not paused (INT64_MAX: none; the caller waits for a webhook
 * or a signal).
 */
int64_t cc_driver_next_wake(struct cc_driver *d);

#endif
