/*
 * Seeded xoshiro256** (see rng.h). splitmix64 expands the seed.
 */
#include "sim/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t sim_rng_next(struct sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t sim_rng_below(struct sim_rng *r, uint64_t n)
{
	return sim_rng_next(r) % n;
}

int64_t sim_rng_range(struct sim_rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)sim_rng_below(r, (uint64_t)(hi - lo + 1));
}

int sim_rng_chance(struct sim_rng *r, double p)
{
	return (double)(sim_rng_next(r) >> 11) * (1.0 / 9007199254740992.0) < p;
}

int64_t sim_rng_exp(struct sim_rng *r, int64_t mean)
{
	double u = ((double)(sim_rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
	int64_t v = (int64_t)(-log(u) * (double)mean);
	return v < 1 ? 1 : v;
}
