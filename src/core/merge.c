/*
 * Merge, projection and routing (see merge.h).
 */
#include "core/merge.h"

#include "core/mapping.h"

#include <string.h>

static int apply(struct cc_case *c, const struct cc_change *ch, const char *canonical)
{
	struct cc_field_state *fs = &c->f[ch->field];
	if (cc_case_set_value(c, ch->field, canonical))
		return CC_ENOMEM;
	fs->ver = ch->ver;
	fs->origin = ch->system;
	return CC_MERGE_APPLIED;
}

/*
 * Newer than the case value. A re-read of the very remote version the case
 * value came from is at least as fresh as the read it came from (which was
 * torn): it wins the tie, even when the clock correction moved a few ms.
 */
static bool newer(const struct cc_change *ch, const struct cc_field_state *fs)
{
	if (ch->reread && fs->origin == ch->system && fs->ver.rv == ch->ver.rv)
		return true;
	return cc_version_cmp(&ch->ver, &fs->ver) > 0;
}

/* A value a person's new record carried before the case was first mirrored. */
static bool raised_value(const struct cc_case *c, const struct cc_change *ch)
{
	return ch->first_sight && (!c->mirrored_ms || ch->ver.t_ms <= c->mirrored_ms);
}

static int merge_manual(const struct cc_config *cfg, struct cc_case *c,
                        const struct cc_change *ch, const char *canonical)
{
	const struct cc_field_map *map = &cfg->systems[ch->system].map[ch->field];
	struct cc_field_state *fs = &c->f[ch->field];
	if (fs->parked) {
		/* A second change while parked replaces the side of its system. */
		if (fs->parked_system == ch->system && cc_str_set(&fs->parked_value, canonical))
			return CC_ENOMEM;
		return CC_MERGE_PARKED;
	}
	/* The system edited a value it had been brought up to date with: a successor. */
	bool in_sync = !ch->old_shadow || cc_map_covers(map, ch->old_shadow, fs->value);
	if (!in_sync && fs->origin >= 0 && fs->origin != ch->system) {
		if (cc_str_set(&fs->parked_value, canonical))
			return CC_ENOMEM;
		fs->parked = true;
		fs->parked_system = ch->system;
		return CC_MERGE_PARKED;
	}
	if (newer(ch, fs) || in_sync)
		return apply(c, ch, canonical);
	return CC_MERGE_LOST;
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
	if (m == CC_MAP_SAME) {
		/* The system re-asserted the case value (or a coarse value standing
		 * for it): the value stays, but it now dates from this change, so
		 * that an older change observed later still loses to it. */
		bool may_write = fd->policy != CC_POLICY_OWNER || ch->system == fd->owner ||
		                 (raised_value(c, ch) && fs->origin != fd->owner);
		if (may_write && cc_version_cmp(&ch->ver, &fs->ver) > 0) {
			fs->ver = ch->ver;
			fs->origin = ch->system;
		}
		return CC_MERGE_COVERED;
	}

	switch (fd->policy) {
	case CC_POLICY_OWNER:
		if (ch->system == fd->owner)
			return apply(c, ch, canonical);
		/* Until the owner has spoken, the records people raised (twins of
		 * one incident) settle the value by last writer wins, as they stood
		 * before the case was first mirrored; any later change outside the
		 * owner is refused. */
		if (raised_value(c, ch) && fs->origin != fd->owner)
			return newer(ch, fs) ? apply(c, ch, canonical) : CC_MERGE_LOST;
		if (fd->owner_mode == CC_OWNER_IGNORE) {
			link->ignored_mask |= bit;
			link->ignored_ver[ch->field] = fs->ver;
		}
		return CC_MERGE_REFUSED;
	case CC_POLICY_MANUAL:
		return merge_manual(cfg, c, ch, canonical);
	case CC_POLICY_LWW:
	default:
		if (newer(ch, fs))
			return apply(c, ch, canonical);
		return CC_MERGE_LOST;
	}
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
			if (fd->policy == CC_POLICY_OWNER && fd->owner_mode == CC_OWNER_IGNORE &&
			    (int)sys != fd->owner && (link->ignored_mask & bit) &&
			    cc_version_cmp(&link->ignored_ver[f], &fs->ver) == 0)
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
	return n;
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
