/*
 * The simulated systems' webhooks as the daemon sees webhooks: a body per
 * webhook, queued per system until the hub driver (core/driver.h) hands it
 * to the system's connector, whose webhook op turns it into observations.
 * A simulated system's webhook body carries the record as the system sent
 * it (sim/wire.h encoding of the observation, stale, late or reordered as
 * the faults made it), like the systems whose webhooks carry the record.
 *
 * Ownership: the queue owns its bodies; a body taken is the taker's (free()).
 */
#ifndef SIM_WEBHOOKS_H
#define SIM_WEBHOOKS_H

#include "core/connector.h"

#include <stdbool.h>
#include <stddef.h>

struct sim_body {
	int system;
	char *body;
	size_t len;
};

/* Bodies in arrival order (FIFO); zero-initialise, release with sim_bodies_clear. */
struct sim_bodies {
	struct sim_body *q;
	size_t head, n, cap;
};

/* Encodes o as a webhook body and queues it for o->system: 0, or CC_ENOMEM. */
int sim_bodies_push(struct sim_bodies *b, const struct cc_observation *o);
/* The oldest body of a system (taken over by the caller), false when none. */
bool sim_bodies_take(struct sim_bodies *b, int system, char **body, size_t *len);
/* True when bodies are waiting. */
bool sim_bodies_waiting(const struct sim_bodies *b);
void sim_bodies_clear(struct sim_bodies *b);

/*
 * The webhook op of a simulated system's connector: decodes a body made by
 * sim_bodies_push into one observation (ERROR for a body it cannot read).
 */
enum cc_result sim_webhook_op(void *self, const char *body, size_t len, struct cc_page *out,
                              struct cc_call *call);

#endif
