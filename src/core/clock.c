/*
 * Clock offset estimation (see clock.h).
 */
#include "core/clock.h"

void cc_offset_init(struct cc_clock_offset *o)
{
	o->lo_ms = 0;
	o->hi_ms = 0;
	o->samples = 0;
	o->resets = 0;
}

void cc_offset_sample(struct cc_clock_offset *o, int64_t date_s,
                      int64_t sent_ms, int64_t recv_ms)
{
	if (recv_ms < sent_ms)
		recv_ms = sent_ms;
	/* remote(t) = hub(t) + offset, with remote in [date, date + 999] ms
	 * at some hub time in [sent, recv]. */
	int64_t lo = date_s * 1000 - recv_ms;
	int64_t hi = date_s * 1000 + 999 - sent_ms;
	if (o->samples == 0 || lo > o->hi_ms || hi < o->lo_ms) {
		if (o->samples)
			o->resets++;
		o->lo_ms = lo;
		o->hi_ms = hi;
		o->samples = 1;
		return;
	}
	if (lo > o->lo_ms)
		o->lo_ms = lo;
	if (hi < o->hi_ms)
		o->hi_ms = hi;
	o->samples++;
}

void cc_offset_assume_zero(struct cc_clock_offset *o, int64_t uncertainty_ms)
{
	if (o->samples)
		return;
	if (uncertainty_ms < 0)
		uncertainty_ms = 0;
	o->lo_ms = -uncertainty_ms;
	o->hi_ms = uncertainty_ms;
	o->samples = 1;
}

bool cc_offset_known(const struct cc_clock_offset *o)
{
	return o->samples > 0;
}

int64_t cc_offset_estimate(const struct cc_clock_offset *o)
{
	if (!o->samples)
		return 0;
	/* floor division keeps the midpoint exact for negative offsets */
	int64_t sum = o->lo_ms + o->hi_ms;
	return sum >= 0 ? sum / 2 : -((-sum + 1) / 2);
}

int64_t cc_offset_error(const struct cc_clock_offset *o)
{
	if (!o->samples)
		return INT64_MAX / 4;
	return (o->hi_ms - o->lo_ms + 1) / 2;
}

int64_t cc_offset_correct(const struct cc_clock_offset *o, int64_t remote_s)
{
	return remote_s * 1000 + 500 - cc_offset_estimate(o);
}
