/*
 * Value translation and normalization (see mapping.h).
 */
#include "core/mapping.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct cc_value_entry *entry_for_remote(const struct cc_field_map *map,
                                                    const char *remote)
{
	for (size_t i = 0; i < map->nentries; i++)
		if (strcmp(map->entries[i].remote, remote) == 0)
			return &map->entries[i];
	return NULL;
}

static bool entry_contains(const struct cc_value_entry *e, const char *canonical)
{
	for (const char *const *c = e->canonical; *c; c++)
		if (strcmp(*c, canonical) == 0)
			return true;
	return false;
}

static const struct cc_value_entry *entry_for_canonical(const struct cc_field_map *map,
                                                       const char *canonical)
{
	for (size_t i = 0; i < map->nentries; i++)
		if (entry_contains(&map->entries[i], canonical))
			return &map->entries[i];
	return NULL;
}

/* The range a remote number falls in, or NULL (not a number, no range). */
static const struct cc_value_range *range_for_remote(const struct cc_field_map *map,
                                                    const char *remote)
{
	char *end;
	errno = 0;
	long v = strtol(remote, &end, 10);
	if (end == remote || *end != '\0' || errno == ERANGE)
		return NULL;
	for (size_t i = 0; i < map->nranges; i++)
		if (v >= map->ranges[i].from && v <= map->ranges[i].to)
			return &map->ranges[i];
	return NULL;
}

static const struct cc_value_range *range_for_canonical(const struct cc_field_map *map,
                                                       const char *canonical)
{
	for (size_t i = 0; i < map->nranges; i++)
		if (strcmp(map->ranges[i].canonical, canonical) == 0)
			return &map->ranges[i];
	return NULL;
}

bool cc_map_covers(const struct cc_field_map *map, const char *remote,
                   const char *canonical)
{
	if (map->kind == CC_MAP_RANGE && remote[0] && canonical[0]) {
		const struct cc_value_range *r = range_for_remote(map, remote);
		return r && strcmp(r->canonical, canonical) == 0;
	}
	if (map->kind == CC_MAP_IDENTITY || remote[0] == '\0' || canonical[0] == '\0')
		return strcmp(remote, canonical) == 0;
	const struct cc_value_entry *e = entry_for_remote(map, remote);
	return e && entry_contains(e, canonical);
}

enum cc_map_outcome cc_map_inbound(const struct cc_field_map *map,
                                   const char *remote, const char *current,
                                   const char **out)
{
	if (map->kind == CC_MAP_IDENTITY || remote[0] == '\0') {
		*out = remote;
		return strcmp(remote, current) == 0 ? CC_MAP_SAME : CC_MAP_CHANGE;
	}
	if (map->kind == CC_MAP_RANGE) {
		const struct cc_value_range *r = range_for_remote(map, remote);
		if (!r)
			return CC_MAP_UNMAPPED;
		if (strcmp(r->canonical, current) == 0)
			return CC_MAP_SAME;
		*out = r->canonical;
		return CC_MAP_CHANGE;
	}
	const struct cc_value_entry *e = entry_for_remote(map, remote);
	if (!e)
		return CC_MAP_UNMAPPED;
	if (entry_contains(e, current))
		return CC_MAP_SAME;
	*out = e->dflt ? e->dflt : e->canonical[0];
	return CC_MAP_CHANGE;
}

enum cc_map_outcome cc_map_outbound(const struct cc_field_map *map,
                                    const char *canonical, const char *shadow,
                                    const char **out)
{
	if (map->kind == CC_MAP_IDENTITY || canonical[0] == '\0') {
		*out = canonical;
		return strcmp(canonical, shadow) == 0 ? CC_MAP_SAME : CC_MAP_CHANGE;
	}
	if (map->kind == CC_MAP_RANGE) {
		const struct cc_value_range *now = shadow[0] ? range_for_remote(map, shadow) : NULL;
		if (now && strcmp(now->canonical, canonical) == 0)
			return CC_MAP_SAME; /* a number inside its level's range is left alone */
		const struct cc_value_range *r = range_for_canonical(map, canonical);
		if (!r)
			return CC_MAP_UNMAPPED;
		*out = r->dflt;
		return CC_MAP_CHANGE;
	}
	const struct cc_value_entry *cur = shadow[0] ? entry_for_remote(map, shadow) : NULL;
	if (cur && entry_contains(cur, canonical))
		return CC_MAP_SAME;
	const struct cc_value_entry *e = entry_for_canonical(map, canonical);
	if (!e)
		return CC_MAP_UNMAPPED;
	*out = e->remote;
	return CC_MAP_CHANGE;
}

static bool is_trailing_space(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

char *cc_value_normalize(enum cc_field_type type, const char *value)
{
	size_t n = strlen(value);
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = value[i];
		if (c == '\r') {
			c = '\n';
			if (i + 1 < n && value[i + 1] == '\n')
				i++;
		}
		if (c == '\n')
			while (o > 0 && is_trailing_space(out[o - 1]))
				o--;
		out[o++] = c;
	}
	while (o > 0 && (is_trailing_space(out[o - 1]) || out[o - 1] == '\n'))
		o--;
	out[o] = '\0';
	if (type != CC_FT_TEXT) {
		size_t s = 0;
		while (out[s] == ' ' || out[s] == '\t')
			s++;
		if (s)
			memmove(out, out + s, o - s + 1);
	}
	return out;
}
