/*
 * ISO 8601 / RFC 3339 times, the one parser of the whole tree: remote
 * systems' timestamps (RT, Redmine, the SaaS APIs), rate-limit reset
 * headers. Pure: no I/O, no clock, no locale.
 */
#ifndef CC_ISO8601_H
#define CC_ISO8601_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parses a whole string "YYYY-MM-DDTHH:MM[:SS[.fraction]][Z|+hh:mm|+hhmm|-hh:mm]"
 * (a space may stand for the T; no zone means UTC; the fraction may have any
 * number of digits and is dropped) into seconds since the epoch, UTC, in
 * *out. Every field is range-checked (month 1-12, day valid for its month,
 * hour 0-23, minute 0-59, second 0-60) and nothing may follow. Returns
 * false, with *out untouched, for anything else, NULL included.
 */
bool cc_iso8601_parse(const char *s, int64_t *out);

/* The same, with *frac_ns the fraction in nanoseconds (digits past the ninth dropped). */
bool cc_iso8601_parse_ns(const char *s, int64_t *out, int32_t *frac_ns);

/* Seconds to "YYYY-MM-DD HH:MM:SS" (UTC) or "YYYY-MM-DDTHH:MM:SSZ" (iso true). */
void cc_format_utc(char *buf, size_t len, int64_t t, bool iso);

/* Days since 1970-01-01 of a proleptic Gregorian date (no range check). */
int64_t cc_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
