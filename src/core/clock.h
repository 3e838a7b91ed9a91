/*
 * Clock offset of one remote system, measured from the Date header of its
 * responses (second resolution) and the hub's send and receive times.
 *
 * Each sample bounds the offset (remote clock minus hub clock): the server
 * stamped its Date somewhere between send and receive, and the true remote
 * time lies within the second the header names. The estimate is the
 * intersection of all samples; if a clock steps and the intersection
 * becomes empty, the estimate restarts from the newest sample.
 */
#ifndef CC_CLOCK_H
#define CC_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct cc_clock_offset {
	int64_t lo_ms; /* offset is at least this */
	int64_t hi_ms; /* offset is at most this */
	uint32_t samples;
	uint32_t resets;
};

void cc_offset_init(struct cc_clock_offset *o);
/* Adds a sample: remote Date (whole seconds, remote clock) and hub times. */
void cc_offset_sample(struct cc_clock_offset *o, int64_t date_s,
                      int64_t sent_ms, int64_t recv_ms);
/*
 * For a system that sends no Date header: until a sample dates it, its
 * offset is taken to be 0 within +-uncertainty_ms (the clocks are assumed
 * to be kept by NTP). Only when no sample exists yet; a later real sample
 * narrows the bounds, or, when it falls outside them, replaces them.
 */
void cc_offset_assume_zero(struct cc_clock_offset *o, int64_t uncertainty_ms);
bool cc_offset_known(const struct cc_clock_offset *o);
/* Midpoint of the bounds (0 when unknown). */
int64_t cc_offset_estimate(const struct cc_clock_offset *o);
/* Half-width of the bounds: the largest error of the estimate. */
int64_t cc_offset_error(const struct cc_clock_offset *o);

/*
 * Corrects a remote modification time given in whole seconds of the remote
 * clock to hub milliseconds: the middle of that second, minus the offset.
 * The error is at most 500 ms plus cc_offset_error().
 */
int64_t cc_offset_correct(const struct cc_clock_offset *o, int64_t remote_s);

#endif
