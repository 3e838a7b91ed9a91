/*
 * The duplicate score (DESIGN section 7): how likely two records describe
 * the same incident, from 0 to 100, from their titles (normalized: case,
 * spacing, "RE:"/"FW:" prefixes, punctuation, one-letter typos in words)
 * and their callers. Pure functions.
 */
#ifndef CC_DEDUP_H
#define CC_DEDUP_H

#include <stddef.h>

/*
 * Writes the normal form of a title into out (at most outlen bytes):
 * lower case, reply and forward prefixes removed, punctuation turned into
 * spaces, runs of spaces folded.
 */
void cc_dedup_normalize_title(const char *title, char *out, size_t outlen);

/*
 * Score of two records: title similarity word by word (a word of four or
 * more letters may differ by one edit; numbers must match exactly) out of
 * the words of the longer title, or 100 when the shorter title (four words
 * or more) begins the longer one word for word (a title refined by
 * appending words); minus
 * a penalty when both callers are known and differ.
 * caller_a / caller_b may be NULL or "" when unknown.
 */
int cc_dedup_score(const char *title_a, const char *caller_a,
                   const char *title_b, const char *caller_b);

/* How many leading words two titles share (normalized, typo-tolerant). */
size_t cc_dedup_common_prefix(const char *title_a, const char *title_b);

/* Edit distance of two strings, capped at cap+1 (cheap early exit). */
size_t cc_edit_distance(const char *a, const char *b, size_t cap);

#endif
