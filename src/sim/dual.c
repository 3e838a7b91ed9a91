/*
 * Placeholder: the model of two one-way pipelines per pair of systems is
 * being written (see sim.h). Until then it refuses to start.
 */
#include "sim/sim.h"

#include <stdio.h>

int sim_dual_model_create(struct sim_integration *out, struct sim_world *w, uint64_t seed,
                          int64_t poll_interval_ms)
{
	(void)w, (void)seed, (void)poll_interval_ms;
	snprintf(out->error, sizeof(out->error), "the dual model is not built yet");
	return -1;
}
