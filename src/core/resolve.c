/*
 * The manual queue's pure part (see resolve.h): listing the conflicts of a
 * case and deciding a person's resolution of one. Nothing here touches the
 * store or a clock; the time comes in as an argument.
 */
#include "core/resolve.h"

#include "core/mapping.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t cc_case_conflicts(const struct cc_config *cfg, const struct cc_case *c,
                         struct cc_conflict out[CC_MAX_FIELDS])
{
	size_t n = 0;
	for (size_t f = 0; f < cfg->nfields && f < CC_MAX_FIELDS; f++) {
		const struct cc_field_state *fs = &c->f[f];
		if (!fs->parked)
			continue;
		out[n++] = (struct cc_conflict){
			.field = (int)f,
			.case_system = fs->origin,
			.case_value = fs->value ? fs->value : "",
			.case_ver = fs->ver,
			.parked_system = fs->parked_system,
			.parked_value = fs->parked_value ? fs->parked_value : "",
			.parked_ver = fs->parked_ver,
		};
	}
	return n;
}

/* A system that holds a record of the case, or is about to create one. */
static bool holds_record(const struct cc_case *c, size_t s)
{
	return c->link[s].status == CC_LINK_LINKED || c->link[s].status == CC_LINK_CREATE;
}

/* The first system with a record whose mapping of field f cannot carry value, or -1. */
static int cannot_carry(const struct cc_config *cfg, const struct cc_case *c, int f,
                        const char *value)
{
	for (size_t s = 0; s < cfg->nsystems; s++) {
		const struct cc_field_map *map = &cfg->systems[s].map[f];
		const char *out;
		if (map->mapped && holds_record(c, s) &&
		    cc_map_outbound(map, value, "", &out) == CC_MAP_UNMAPPED)
			return (int)s;
	}
	return -1;
}

/* One millisecond past v, when v is at or after t. */
static int64_t past(int64_t t, const struct cc_version *v)
{
	return v->t_ms != INT64_MIN && v->t_ms >= t ? v->t_ms + 1 : t;
}

int cc_resolve(const struct cc_config *cfg, struct cc_case *c, int field,
               const struct cc_resolution *how, int64_t now_ms, struct cc_resolve_outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->system = -1;
	out->ver = CC_VERSION_UNSET;
	if (field < 0 || (size_t)field >= cfg->nfields)
		return CC_EINVAL;
	struct cc_field_state *fs = &c->f[field];
	if (!fs->parked)
		return CC_ENOTPARKED;

	const char *who = how->by && how->by[0] ? how->by : "someone";
	char *owned = NULL; /* a value given by hand, normalized */
	const char *value;
	if (how->take >= 0) {
		if (how->take == fs->parked_system) {
			value = fs->parked_value ? fs->parked_value : "";
		} else if (how->take == fs->origin) {
			value = fs->value;
		} else {
			out->system = how->take;
			return CC_EINVAL;
		}
		out->system = how->take;
		snprintf(out->detail, sizeof(out->detail), "%s took %s's value", who,
		         (size_t)how->take < cfg->nsystems ? cfg->systems[how->take].name : "?");
	} else {
		owned = cc_value_normalize(cfg->fields[field].type, how->value ? how->value : "");
		if (!owned)
			return CC_ENOMEM;
		value = owned;
		snprintf(out->detail, sizeof(out->detail), "%s set the value", who);
	}
	/* one line for the audit and the logs, whoever typed the name */
	for (char *d = out->detail; *d; d++)
		if ((unsigned char)*d < 0x20 || *d == 0x7f)
			*d = ' ';
	int bad = cannot_carry(cfg, c, field, value);
	if (bad >= 0) {
		free(owned);
		out->system = bad;
		out->detail[0] = '\0';
		return CC_EUNMAPPED;
	}

	/* cc_str_set copies before it frees: value may be the case's own string */
	char *resolved = strdup(value);
	free(owned);
	if (!resolved)
		return CC_ENOMEM;
	int64_t t = past(past(now_ms, &fs->ver), &fs->parked_ver);
	free(fs->value);
	fs->value = resolved;
	fs->ver = (struct cc_version){ .t_ms = t, .rank = INT32_MIN, .rv = 0 };
	fs->origin = -1;
	fs->parked = false;
	free(fs->parked_value);
	fs->parked_value = NULL;
	fs->parked_system = -1;
	fs->parked_ver = CC_VERSION_UNSET;
	cc_case_changed(c); /* a person decided: deliveries given up on go again */
	out->ver = fs->ver;
	return CC_EOK;
}
