/*
 * The versions a connector has already returned (see seen.h): an open-
 * addressing hash table (FNV-1a, linear probing), grown at 70 % load and
 * emptied when it reaches SEEN_MAX entries, which only costs re-reads.
 * Out of memory is not an error here: the version is simply not kept.
 */
#include "connectors/seen.h"

#include <stdlib.h>
#include <string.h>

#define SEEN_MAX ((size_t)1 << 20)

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static size_t slot(char *const *ids, size_t cap, const char *id)
{
	size_t i = (size_t)hash(id) & (cap - 1);
	while (ids[i] && strcmp(ids[i], id) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

static bool grow(struct cc_seen *s)
{
	size_t cap = s->cap ? s->cap * 2 : 256;
	char **ids = calloc(cap, sizeof(*ids));
	uint64_t *rv = calloc(cap, sizeof(*rv));
	if (!ids || !rv) {
		free(ids);
		free(rv);
		return false;
	}
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->ids[i])
			continue;
		size_t k = slot(ids, cap, s->ids[i]);
		ids[k] = s->ids[i];
		rv[k] = s->rv[i];
	}
	free(s->ids);
	free(s->rv);
	s->ids = ids;
	s->rv = rv;
	s->cap = cap;
	return true;
}

void cc_seen_put(struct cc_seen *s, const char *id, uint64_t rv)
{
	if (!id)
		return;
	if (s->n >= SEEN_MAX)
		cc_seen_clear(s);
	if ((s->n + 1) * 10 > s->cap * 7 && !grow(s))
		return;
	size_t k = slot(s->ids, s->cap, id);
	if (!s->ids[k]) {
		if (!(s->ids[k] = strdup(id)))
			return;
		s->n++;
		s->rv[k] = rv;
	} else if (rv > s->rv[k]) {
		s->rv[k] = rv;
	}
}

bool cc_seen_covers(const struct cc_seen *s, const char *id, uint64_t rv)
{
	if (!s->cap || !id)
		return false;
	size_t k = slot(s->ids, s->cap, id);
	return s->ids[k] && s->rv[k] >= rv;
}

void cc_seen_clear(struct cc_seen *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->ids[i]);
	free(s->ids);
	free(s->rv);
	memset(s, 0, sizeof(*s));
}
