/*
 * The simulator's only source of randomness: a seeded xoshiro256** stream.
 * Each concern (world, people, hub jitter) draws from its own stream, so a
 * seed replays exactly.
 */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <stdint.h>

struct sim_rng {
	uint64_t s[4];
};

void sim_rng_seed(struct sim_rng *r, uint64_t seed);
uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform in [0, n) (n > 0). */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n);
/* Uniform in [lo, hi]. */
int64_t sim_rng_range(struct sim_rng *r, int64_t lo, int64_t hi);
/* True with probability p (0..1). */
int sim_rng_chance(struct sim_rng *r, double p);
/* Exponentially distributed with the given mean, at least 1. */
int64_t sim_rng_exp(struct sim_rng *r, int64_t mean);

#endif
