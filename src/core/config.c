/*
 * Configuration defaults and validation (see config.h).
 */
#include "core/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cc_config_defaults(struct cc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->create_settle_ms = 120 * 1000;
	cfg->dedup_link_score = 90;
	cfg->dedup_review_score = 70;
	cfg->dedup_window_ms = 2 * 3600 * 1000;
	cfg->dedup_close_ms = 2 * 60 * 1000;
	cfg->dedup_close_words = 5;
	cfg->dedup_title_field = -1;
	cfg->dedup_caller_field = -1;
	cfg->backoff_base_ms = 1000;
	cfg->backoff_max_ms = 10 * 60 * 1000;
	cfg->dead_letter_after_ms = 24LL * 3600 * 1000;
	cfg->breaker_failures = 5;
	cfg->breaker_open_ms = 60 * 1000;
	cfg->clock_uncertainty_ms = 2000;
}

int cc_config_field(const struct cc_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nfields; i++)
		if (strcmp(cfg->fields[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool entry_has(const struct cc_value_entry *e, const char *v)
{
	for (const char *const *c = e->canonical; *c; c++)
		if (strcmp(*c, v) == 0)
			return true;
	return false;
}

int cc_config_validate(const struct cc_config *cfg, char *err, size_t errlen)
{
	if (cfg->nfields == 0 || cfg->nfields > CC_MAX_FIELDS) {
		snprintf(err, errlen, "between 1 and %d fields are needed", CC_MAX_FIELDS);
		return CC_EINVAL;
	}
	if (cfg->nsystems < 2 || cfg->nsystems > CC_MAX_SYSTEMS) {
		snprintf(err, errlen, "between 2 and %d systems are needed", CC_MAX_SYSTEMS);
		return CC_EINVAL;
	}
	for (size_t f = 0; f < cfg->nfields; f++) {
		const struct cc_field_def *fd = &cfg->fields[f];
		if (fd->policy == CC_POLICY_OWNER &&
		    (fd->owner < 0 || (size_t)fd->owner >= cfg->nsystems)) {
			snprintf(err, errlen, "field %s: owner is not a configured system", fd->name);
			return CC_EINVAL;
		}
	}
	for (size_t s = 0; s < cfg->nsystems; s++) {
		const struct cc_system_def *sd = &cfg->systems[s];
		for (size_t t = 0; t < s; t++) {
			if (cfg->systems[t].rank == sd->rank) {
				snprintf(err, errlen, "systems %s and %s share rank %d",
				         cfg->systems[t].name, sd->name, (int)sd->rank);
				return CC_EINVAL;
			}
		}
		for (size_t f = 0; f < cfg->nfields; f++) {
			const struct cc_field_map *m = &sd->map[f];
			if (m->mapped && m->kind == CC_MAP_RANGE) {
				for (size_t i = 0; i < m->nranges; i++) {
					const struct cc_value_range *r = &m->ranges[i];
					char *end;
					long d = r->dflt ? strtol(r->dflt, &end, 10) : 0;
					if (r->from > r->to || !r->canonical || !r->dflt || *end ||
					    d < r->from || d > r->to) {
						snprintf(err, errlen, "system %s field %s: range %ld..%ld needs "
						         "a canonical value and a default inside it",
						         sd->name, cfg->fields[f].name, r->from, r->to);
						return CC_EINVAL;
					}
					for (size_t j = 0; j < i; j++) {
						const struct cc_value_range *q = &m->ranges[j];
						if (r->from <= q->to && q->from <= r->to) {
							snprintf(err, errlen, "system %s field %s: ranges %ld..%ld "
							         "and %ld..%ld overlap", sd->name,
							         cfg->fields[f].name, q->from, q->to, r->from, r->to);
							return CC_EINVAL;
						}
						if (strcmp(q->canonical, r->canonical) == 0) {
							snprintf(err, errlen, "system %s field %s: %s has two ranges",
							         sd->name, cfg->fields[f].name, r->canonical);
							return CC_EINVAL;
						}
					}
				}
				continue;
			}
			if (!m->mapped || m->kind != CC_MAP_TABLE)
				continue;
			/* Each canonical value may stand in one entry only, so that
			 * outbound translation is a function. */
			for (size_t i = 0; i < m->nentries; i++) {
				const struct cc_value_entry *e = &m->entries[i];
				if (!e->canonical || !e->canonical[0]) {
					snprintf(err, errlen, "system %s field %s: value %s maps to nothing",
					         sd->name, cfg->fields[f].name, e->remote);
					return CC_EINVAL;
				}
				if (e->dflt && !entry_has(e, e->dflt)) {
					snprintf(err, errlen,
					         "system %s field %s: default %s of %s is not in its set",
					         sd->name, cfg->fields[f].name, e->dflt, e->remote);
					return CC_EINVAL;
				}
				for (size_t j = 0; j < i; j++) {
					for (const char *const *c = e->canonical; *c; c++) {
						if (entry_has(&m->entries[j], *c)) {
							snprintf(err, errlen,
							         "system %s field %s: %s stands in both %s and %s",
							         sd->name, cfg->fields[f].name, *c,
							         m->entries[j].remote, e->remote);
							return CC_EINVAL;
						}
					}
				}
			}
		}
		for (size_t r = 0; r < sd->nroutes; r++) {
			if (sd->routes[r].field < 0 || (size_t)sd->routes[r].field >= cfg->nfields) {
				snprintf(err, errlen, "system %s: routing rule on an unknown field", sd->name);
				return CC_EINVAL;
			}
		}
	}
	return CC_EOK;
}
