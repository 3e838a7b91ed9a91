/*
 * The versions a connector has already returned (see seen.h): an open-
 * addressing hash table (FNV-1a, linear probing), grown at 70 % load and
 * emptied when it reaches SEEN_MAX entries, which only costs re-reads.
 * Out of memory is not an error here: the version is simply not kept.
 */
#include "connectors/seen.h"

#include <pthread.h>
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
	int64_t *end = calloc(cap, sizeof(*end));
	bool *settled = calloc(cap, sizeof(*settled));
	if (!ids || !rv || !end || !settled) {
		free(ids);
		free(rv);
		free(end);
		free(settled);
		return false;
	}
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->ids[i])
			continue;
		size_t k = slot(ids, cap, s->ids[i]);
		ids[k] = s->ids[i];
		rv[k] = s->rv[i];
		end[k] = s->read_end_ms[i];
		settled[k] = s->settled[i];
	}
	free(s->ids);
	free(s->rv);
	free(s->read_end_ms);
	free(s->settled);
	s->ids = ids;
	s->rv = rv;
	s->read_end_ms = end;
	s->settled = settled;
	s->cap = cap;
	return true;
}

/* The tables freed: an empty table, its mutex kept. */
static void empty(struct cc_seen *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->ids[i]);
	free(s->ids);
	free(s->rv);
	free(s->read_end_ms);
	free(s->settled);
	pthread_mutex_t *mu = s->mu;
	memset(s, 0, sizeof(*s));
	s->mu = mu;
}

static void lock(const struct cc_seen *s)
{
	if (s->mu)
		pthread_mutex_lock(s->mu);
}

static void unlock(const struct cc_seen *s)
{
	if (s->mu)
		pthread_mutex_unlock(s->mu);
}

/* The slot of id, added (rv 0) when new; SIZE_MAX when out of memory. */
static size_t entry(struct cc_seen *s, const char *id)
{
	if (s->n >= SEEN_MAX)
		empty(s);
	if ((s->n + 1) * 10 > s->cap * 7 && !grow(s))
		return SIZE_MAX;
	size_t k = slot(s->ids, s->cap, id);
	if (!s->ids[k]) {
		if (!(s->ids[k] = strdup(id)))
			return SIZE_MAX;
		s->n++;
		s->rv[k] = 0;
		s->read_end_ms[k] = 0;
		s->settled[k] = false;
	}
	return k;
}

void cc_seen_put(struct cc_seen *s, const char *id, uint64_t rv)
{
	lock(s);
	size_t k = id ? entry(s, id) : SIZE_MAX;
	if (k != SIZE_MAX && rv > s->rv[k])
		s->rv[k] = rv;
	unlock(s);
}

void cc_seen_read(struct cc_seen *s, const char *id, uint64_t rv, int64_t start_ms,
                  int64_t end_ms)
{
	lock(s);
	size_t k = id ? entry(s, id) : SIZE_MAX;
	if (k == SIZE_MAX) {
		unlock(s);
		return;
	}
	if (rv != s->rv[k] || !s->read_end_ms[k]) {
		s->rv[k] = rv;
		s->read_end_ms[k] = end_ms;
		s->settled[k] = false;
	} else if (start_ms - s->read_end_ms[k] >= SEEN_SETTLE_MS) {
		s->settled[k] = true;
	}
	unlock(s);
}

bool cc_seen_settled(const struct cc_seen *s, const char *id, uint64_t *rv)
{
	bool settled = false;
	lock(s);
	if (s->cap && id) {
		size_t k = slot(s->ids, s->cap, id);
		if (s->ids[k]) {
			*rv = s->rv[k];
			settled = s->settled[k];
		}
	}
	unlock(s);
	return settled;
}

bool cc_seen_covers(const struct cc_seen *s, const char *id, uint64_t rv)
{
	bool covers = false;
	lock(s);
	if (s->cap && id) {
		size_t k = slot(s->ids, s->cap, id);
		covers = s->ids[k] && s->rv[k] >= rv;
	}
	unlock(s);
	return covers;
}

void cc_seen_forget(struct cc_seen *s, const char *id)
{
	lock(s);
	if (s->cap && id) {
		size_t k = slot(s->ids, s->cap, id);
		if (s->ids[k]) {
			/* kept in its slot (linear probing needs no hole), as if never read */
			s->rv[k] = 0;
			s->read_end_ms[k] = 0;
			s->settled[k] = false;
		}
	}
	unlock(s);
}

void cc_seen_clear(struct cc_seen *s)
{
	lock(s);
	empty(s);
	unlock(s);
}

/* A shared table and its mutex, in one allocation (the table first). */
struct shared {
	struct cc_seen table;
	pthread_mutex_t mu;
};

struct cc_seen *cc_seen_shared_new(void)
{
	struct shared *sh = calloc(1, sizeof(*sh));
	if (!sh)
		return NULL;
	if (pthread_mutex_init(&sh->mu, NULL) != 0) {
		free(sh);
		return NULL;
	}
	sh->table.mu = &sh->mu;
	return &sh->table;
}

void cc_seen_shared_free(struct cc_seen *s)
{
	if (!s)
		return;
	struct shared *sh = (struct shared *)s;
	empty(&sh->table);
	pthread_mutex_destroy(&sh->mu);
	free(sh);
}
