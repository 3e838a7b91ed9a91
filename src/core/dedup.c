/*
 * Duplicate score (see dedup.h).
 */
#include "core/dedup.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define MAX_WORDS 256 /* a 512-byte title holds at most 256 words */
#define MAX_TITLE 512

static const char *skip_prefixes(const char *s)
{
	static const char *const prefixes[] = { "re:", "fw:", "fwd:", "aw:", "tr:" };
	bool again = true;
	while (again) {
		again = false;
		while (*s == ' ' || *s == '\t')
			s++;
		for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
			size_t n = strlen(prefixes[i]);
			if (strncasecmp(s, prefixes[i], n) == 0) {
				s += n;
				again = true;
			}
		}
	}
	return s;
}

void cc_dedup_normalize_title(const char *title, char *out, size_t outlen)
{
	size_t o = 0;
	bool space = true;
	if (outlen == 0)
		return;
	for (const char *p = skip_prefixes(title ? title : ""); *p && o + 1 < outlen; p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c) || c >= 0x80) {
			out[o++] = (char)tolower(c);
			space = false;
		} else if (!space) {
			out[o++] = ' ';
			space = true;
		}
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

size_t cc_edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return strcmp(a, b) == 0 ? 0 : cap + 1;
	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	size_t prev[65], cur[65];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		size_t rowmin = cur[0];
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			size_t m = sub < del ? sub : del;
			cur[j] = m < ins ? m : ins;
			if (cur[j] < rowmin)
				rowmin = cur[j];
		}
		if (rowmin > cap)
			return cap + 1;
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

/* Keeps the first MAX_WORDS words; returns how many there are in all. */
static size_t split_words(char *s, char *words[MAX_WORDS], size_t *kept)
{
	size_t n = 0;
	char *at = NULL; /* strtok_r: the engine keeps no hidden state between calls */
	*kept = 0;
	for (char *tok = strtok_r(s, " ", &at); tok; tok = strtok_r(NULL, " ", &at)) {
		if (n < MAX_WORDS)
			words[(*kept)++] = tok;
		n++;
	}
	return n;
}

static bool has_digit(const char *w)
{
	for (; *w; w++)
		if (isdigit((unsigned char)*w))
			return true;
	return false;
}

static bool words_match(const char *a, const char *b)
{
	if (strcmp(a, b) == 0)
		return true;
	if (has_digit(a) || has_digit(b) || strlen(a) < 4 || strlen(b) < 4)
		return false;
	return cc_edit_distance(a, b, 1) <= 1;
}

int cc_dedup_score(const char *title_a, const char *caller_a,
                   const char *title_b, const char *caller_b)
{
	char na[MAX_TITLE], nb[MAX_TITLE];
	char *wa[MAX_WORDS], *wb[MAX_WORDS];
	bool used[MAX_WORDS] = { false };
	cc_dedup_normalize_title(title_a, na, sizeof(na));
	cc_dedup_normalize_title(title_b, nb, sizeof(nb));
	size_t ka, kb;
	size_t ca = split_words(na, wa, &ka), cb = split_words(nb, wb, &kb);
	if (ca == 0 || cb == 0)
		return 0;
	size_t matched = 0;
	for (size_t i = 0; i < ka; i++) {
		for (size_t j = 0; j < kb; j++) {
			if (!used[j] && words_match(wa[i], wb[j])) {
				used[j] = true;
				matched++;
				break;
			}
		}
	}
	size_t fewest = ca < cb ? ca : cb, most = ca > cb ? ca : cb;
	int score = (int)(matched * 100 / most);
	/* A title refined by appending words still names the same incident:
	 * the shorter one, of four words or more, begins the longer one. */
	if (fewest >= 4 && fewest <= MAX_WORDS) {
		size_t k = 0;
		while (k < fewest && words_match(wa[k], wb[k]))
			k++;
		if (k == fewest)
			score = 100;
	}
	if (caller_a && caller_b && caller_a[0] && caller_b[0] && strcmp(caller_a, caller_b) != 0)
		score -= 40;
	return score < 0 ? 0 : score;
}

size_t cc_dedup_common_prefix(const char *title_a, const char *title_b)
{
	char na[MAX_TITLE], nb[MAX_TITLE];
	char *wa[MAX_WORDS], *wb[MAX_WORDS];
	size_t ka, kb;
	cc_dedup_normalize_title(title_a, na, sizeof(na));
	cc_dedup_normalize_title(title_b, nb, sizeof(nb));
	split_words(na, wa, &ka);
	split_words(nb, wb, &kb);
	size_t k = 0;
	while (k < ka && k < kb && words_match(wa[k], wb[k]))
		k++;
	return k;
}
