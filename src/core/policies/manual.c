/*
 * The `manual` policy: a real conflict is parked for a person (DESIGN
 * section 5). A change from a system that held the case value before (its
 * old shadow covers it, and the change is not older than the case value by
 * more than the clock uncertainty) is a successor and applies; a change
 * from a system that did not (a record seen for the first time has not),
 * when the case value came from another system, is parked with both values
 * kept; otherwise last writer wins. While parked, further changes from the
 * parked system replace its side, nothing else moves, and projections leave
 * the field alone until a person resolves it (core/resolve.h).
 */
#include "core/mapping.h"
#include "core/merge.h"

static int parse(struct cc_field_def *fd, const struct cc_policy_arg *args, size_t nargs,
                 char *err, size_t errlen)
{
	(void)fd, (void)args, (void)nargs, (void)err, (void)errlen;
	return CC_EOK;
}

static int merge(const struct cc_config *cfg, struct cc_case *c, const struct cc_change *ch,
                 const char *canonical, bool covered)
{
	const struct cc_field_map *map = &cfg->systems[ch->system].map[ch->field];
	struct cc_field_state *fs = &c->f[ch->field];
	if (fs->parked) {
		/*
		 * A second change while parked replaces the side of its system (a
		 * covered one too: its value now stands for the case value). Nothing
		 * else moves the case side, not even a re-dating, which would hand
		 * it to another system, perhaps the parked one, until a person
		 * decides.
		 */
		if (fs->parked_system == ch->system) {
			if (cc_str_set(&fs->parked_value, covered ? fs->value : canonical))
				return CC_ENOMEM;
			fs->parked_ver = ch->ver;
		}
		return CC_MERGE_PARKED;
	}
	if (covered)
		return cc_merge_redate(c, ch);
	/*
	 * The system edited a value it had been brought up to date with: a
	 * successor. Equal values are not enough: a change made before the case
	 * value was (older than its version by more than the clock uncertainty)
	 * was not made on it, whatever the values say (A -> B -> A elsewhere).
	 * A record seen for the first time (no shadow: a twin raised by another
	 * person) had not received the case value either.
	 */
	bool held = ch->old_shadow && cc_map_covers(map, ch->old_shadow, fs->value);
	bool made_after = fs->ver.t_ms == INT64_MIN ||
	                  ch->ver.t_ms >= fs->ver.t_ms - cfg->clock_uncertainty_ms;
	bool in_sync = held && made_after;
	if (!in_sync && fs->origin >= 0 && fs->origin != ch->system) {
		if (cc_str_set(&fs->parked_value, canonical))
			return CC_ENOMEM;
		fs->parked = true;
		fs->parked_system = ch->system;
		fs->parked_ver = ch->ver;
		return CC_MERGE_PARKED;
	}
	if (cc_merge_newer(ch, fs) || in_sync)
		return cc_merge_apply(c, ch, canonical);
	return CC_MERGE_LOST;
}

const struct cc_policy_def cc_policy_manual = {
	.id = CC_POLICY_MANUAL,
	.name = "manual",
	.syntax = "policy: manual",
	.rule = "manual: a real conflict is parked for a person, both values kept",
	.parse = parse,
	.merge = merge,
};
