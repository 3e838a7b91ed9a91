/*
 * Merge, projection and routing (see merge.h).
 */
#include "core/merge.h"

#include "core/mapping.h"

#include <string.h>

int cc_merge_apply(struct cc_case *c, const struct cc_change *ch, const char *canonical)
{
	struct cc_field_state *fs = &c->f[ch->field];
	if (cc_case_set_value(c, ch->field, canonical))
		return CC_ENOMEM;
	fs->ver = ch->ver;
	fs->origin = ch->system;
	return CC_MERGE_APPLIED;
}

bool cc_merge_newer(const struct cc_change *ch, const struct cc_field_state *fs)
{
	if (ch->reread && fs->origin == ch->system && fs->ver.rv == ch->ver.rv)
		return true;
	return cc_version_cmp(&ch->ver, &fs->ver) > 0;
}

bool cc_merge_raised(const struct cc_case *c, const struct cc_change *ch)
{
	return ch->first_sight && (!c->mirrored_ms || ch->ver.t_ms <= c->mirrored_ms);
}

int cc_merge_redate(struct cc_case *c, const struct cc_change *ch)
{
	struct cc_field_state *fs = &c->f[ch->field];
	if (cc_version_cmp(&ch->ver, &fs->ver) > 0) {
		fs->ver = ch->ver;
		fs->origin = ch->system;
	}
	return CC_MERGE_COVERED;
}

int cc_merge(const struct cc_config *cfg, struct cc_case *c, const struct cc_change *ch)
{
	const struct cc_field_def *fd = &cfg->fields[ch->field];
	const struct cc_field_map *map = &cfg->systems[ch->system].map[ch->field];
	struct cc_field_state *fs = &c->f[ch->field];
	struct cc_link *link = &c->link[ch->system];
	uint32_t bit = 1u << ch->field;
	const char *canonical = NULL;

	enum cc_map_outcome m = cc_map_inbound(map, ch->remote_value, fs->value, &canonical);
	if (m == CC_MAP_UNMAPPED) {
		link->unmapped_mask |= bit;
		return CC_MERGE_UNMAPPED;
	}
	link->unmapped_mask &= ~bit;
	link->ignored_mask &= ~bit;
	return cc_policy(fd->policy)->merge(cfg, c, ch, canonical, m == CC_MAP_SAME);
}

/* What system `sys` holds of field f as the hub knows it: the pending value
 * of a write of unknown outcome, else the shadow; "" for a record being
 * created or a value not known. */
static const char *held_value(const struct cc_case *c, int sys, size_t f)
{
	const struct cc_link *link = &c->link[sys];
	const char *held = NULL;
	if (link->status == CC_LINK_CREATE)
		return "";
	if (link->pending_mask & (1u << f))
		held = link->pending[f];
	else
		held = link->shadow[f];
	return held ? held : "";
}

/* The entry of a table map whose remote value is v, or NULL. */
static const struct cc_value_entry *entry_of(const struct cc_field_map *map, const char *v)
{
	if (map->kind != CC_MAP_TABLE)
		return NULL;
	for (size_t i = 0; i < map->nentries; i++)
		if (strcmp(map->entries[i].remote, v) == 0)
			return &map->entries[i];
	return NULL;
}

/* The remote value a companion takes: the case's value of its field,
 * mapped for this system, else its default; NULL when neither. */
static const char *companion_value(const struct cc_config *cfg, const struct cc_case *c, int sys,
                                   const struct cc_companion *cp)
{
	const struct cc_field_map *map = &cfg->systems[sys].map[cp->field];
	const struct cc_field_state *fs = &c->f[cp->field];
	const char *out = NULL;
	if (fs->value[0] && !fs->parked &&
	    cc_map_outbound(map, fs->value, "", &out) == CC_MAP_CHANGE && out && out[0])
		return out;
	return cp->dflt;
}

/*
 * Companions (core/config.h): a field written with a value that has
 * companions carries them in the same write when the system does not hold
 * one yet; and while the system holds (or is written) such a value, a
 * companion is never cleared: its empty write becomes the companion's value,
 * or no write when that is what the system holds already. Returns the
 * change in the number of fields to write.
 */
static int project_companions(const struct cc_config *cfg, const struct cc_case *c, int sys,
                              const char *values[CC_MAX_FIELDS], uint32_t *unmapped)
{
	const struct cc_system_def *sd = &cfg->systems[sys];
	int dn = 0;
	for (size_t f = 0; f < cfg->nfields; f++) {
		if (!sd->map[f].mapped)
			continue;
		bool writing = values[f] != NULL;
		const struct cc_value_entry *ve =
			entry_of(&sd->map[f], writing ? values[f] : held_value(c, sys, f));
		for (size_t k = 0; ve && k < ve->ncompanions; k++) {
			const struct cc_companion *cp = &ve->companions[k];
			size_t g = (size_t)cp->field;
			if (!sd->map[g].mapped || c->f[g].parked)
				continue;
			const char *held = held_value(c, sys, g);
			const char *cv = companion_value(cfg, c, sys, cp);
			if (values[g] && values[g][0])
				continue; /* written with a value already */
			if (values[g]) { /* an empty write: never clear a companion */
				values[g] = NULL;
				dn--;
			}
			if (writing && !held[0] && cv) {
				values[g] = cv;
				dn++;
				*unmapped &= ~(1u << g);
			}
		}
	}
	return dn;
}

int cc_project(const struct cc_config *cfg, const struct cc_case *c, int sys,
               const char *values[CC_MAX_FIELDS], uint32_t *unmapped)
{
	const struct cc_system_def *sd = &cfg->systems[sys];
	const struct cc_link *link = &c->link[sys];
	bool creating = link->status == CC_LINK_CREATE;
	int n = 0;
	*unmapped = 0;
	for (size_t f = 0; f < CC_MAX_FIELDS; f++)
		values[f] = NULL;
	if (link->status != CC_LINK_CREATE && link->status != CC_LINK_LINKED)
		return 0;
	for (size_t f = 0; f < cfg->nfields; f++) {
		const struct cc_field_map *map = &sd->map[f];
		const struct cc_field_def *fd = &cfg->fields[f];
		const struct cc_field_state *fs = &c->f[f];
		uint32_t bit = 1u << f;
		if (!map->mapped || fs->parked)
			continue;
		if (!creating) {
			if (link->unmapped_mask & bit)
				continue;
			const struct cc_policy_def *pol = cc_policy(fd->policy);
			if (pol->holds_back && pol->holds_back(fd, c, sys, (int)f))
				continue;
		}
		const char *held = "";
		if (!creating) {
			held = link->shadow[f] ? link->shadow[f] : "";
			if (link->pending_mask & bit)
				held = link->pending[f] ? link->pending[f] : "";
		}
		const char *out = NULL;
		switch (cc_map_outbound(map, fs->value, held, &out)) {
		case CC_MAP_CHANGE:
			values[f] = out;
			n++;
			break;
		case CC_MAP_UNMAPPED:
			*unmapped |= bit;
			break;
		case CC_MAP_SAME:
			break;
		}
	}
	return n + project_companions(cfg, c, sys, values, unmapped);
}

size_t cc_comments_to_mirror(const struct cc_config *cfg, const struct cc_case *c, int sys)
{
	if (!cfg->systems[sys].comments || c->link[sys].status != CC_LINK_LINKED)
		return 0;
	size_t n = 0;
	for (size_t i = 0; i < c->ncomments; i++)
		if (!c->comments[i].mirror_id[sys])
			n++;
	return n;
}

bool cc_route_allows(const struct cc_config *cfg, const struct cc_case *c, int sys)
{
	const struct cc_system_def *sd = &cfg->systems[sys];
	for (size_t i = 0; i < sd->nroutes; i++) {
		const struct cc_route_rule *r = &sd->routes[i];
		bool eq = strcmp(c->f[r->field].value, r->value) == 0;
		if ((r->op == CC_ROUTE_EQ) != eq)
			return false;
	}
	return true;
}
