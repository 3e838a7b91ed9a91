/*
 * Operator controls and the persisted per-system status (see control.h).
 * The status is one note per system, a line of KEY=VALUE words with the
 * free-text reason last, so that an older or newer reader skips what it
 * does not know.
 */
#include "daemon/control.h"

#include "core/hub.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * The stored key of a system's flag or note, "PREFIX:SYSTEM"; CC_EINVAL
 * when it does not fit: a key is never cut, or two systems would share it.
 */
static int key_of(char *buf, size_t len, const char *prefix, const char *system)
{
	int n = snprintf(buf, len, "%s:%s", prefix, system);
	return n < 0 || (size_t)n >= len ? CC_EINVAL : CC_EOK;
}

int cc_control_pause(struct cc_store *st, const char *system, bool paused)
{
	char flag[160];
	int rc = key_of(flag, sizeof(flag), "paused", system);
	return rc ? rc : st->ops->flag_set(st->self, flag, paused ? 1 : 0);
}

int cc_control_paused(struct cc_store *st, const char *system, bool *out)
{
	char flag[160];
	int64_t v = 0;
	*out = false;
	int rc = key_of(flag, sizeof(flag), "paused", system);
	if (rc)
		return rc;
	rc = st->ops->flag_get(st->self, flag, &v);
	*out = rc == CC_EOK && v != 0;
	return rc;
}

int cc_control_resync(struct cc_store *st, uint64_t case_id, int64_t now_ms, size_t *records)
{
	struct cc_case c;
	*records = 0;
	int rc = st->ops->case_load(st->self, case_id, &c);
	if (rc)
		return rc;
	rc = st->ops->begin(st->self);
	size_t n = 0;
	for (int s = 0; s < CC_MAX_SYSTEMS && rc == CC_EOK; s++) {
		if (c.link[s].status != CC_LINK_LINKED)
			continue;
		c.link[s].needs_read = true;
		struct cc_outbox_entry e = { .case_id = case_id, .system = s, .due_ms = now_ms,
			                     .first_ms = now_ms };
		rc = st->ops->outbox_put(st->self, &e);
		n++;
	}
	if (rc == CC_EOK)
		rc = st->ops->case_save(st->self, &c);
	if (rc == CC_EOK)
		rc = st->ops->commit(st->self);
	if (rc)
		st->ops->rollback(st->self);
	else
		*records = n;
	cc_case_clear(&c);
	return rc;
}

/* ---- the manual queue ------------------------------------------------- */

struct case_ids {
	uint64_t *id;
	size_t n, cap;
	int rc;
};

static int collect_parked(void *arg, const struct cc_case *c)
{
	struct case_ids *ids = arg;
	bool parked = false;
	for (int f = 0; f < CC_MAX_FIELDS; f++)
		parked = parked || c->f[f].parked;
	if (!parked)
		return 0;
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 16;
		uint64_t *n = realloc(ids->id, cap * sizeof(*n));
		if (!n) {
			ids->rc = CC_ENOMEM;
			return 1;
		}
		ids->id = n;
		ids->cap = cap;
	}
	ids->id[ids->n++] = c->id;
	return 0;
}

/* The authors of both sides of a case's conflicts, from its audit. */
struct authors {
	const struct cc_conflict *k;
	size_t nk;
	char *mine[CC_MAX_FIELDS], *theirs[CC_MAX_FIELDS]; /* owned */
	int rc;
};

static bool same_version(const struct cc_version *a, const struct cc_version *b)
{
	return cc_version_cmp(a, b) == 0;
}

static int find_authors(void *arg, const struct cc_audit_entry *e, uint64_t seq)
{
	struct authors *a = arg;
	(void)seq;
	for (size_t i = 0; i < a->nk && e->detail; i++) {
		const struct cc_conflict *k = &a->k[i];
		char **slot = NULL;
		if (e->field != k->field)
			continue;
		/* the newest entry that made each side, at the side's version */
		if ((e->decision == CC_AUDIT_APPLIED || e->decision == CC_AUDIT_COVERED) &&
		    e->system == k->case_system && same_version(&e->ver, &k->case_ver))
			slot = &a->mine[i];
		else if (e->decision == CC_AUDIT_PARKED && e->system == k->parked_system &&
		         same_version(&e->ver, &k->parked_ver))
			slot = &a->theirs[i];
		if (slot && cc_str_set(slot, e->detail)) {
			a->rc = CC_ENOMEM;
			return 1;
		}
	}
	return 0;
}

int cc_control_conflicts(struct cc_store *st, const struct cc_config *cfg,
                         cc_conflict_visit_fn fn, void *arg)
{
	struct case_ids ids = { 0 };
	/* ids first: the audit is not read from inside the scan of the cases */
	int rc = st->ops->case_scan_all(st->self, collect_parked, &ids);
	if (rc == CC_EOK)
		rc = ids.rc;
	for (size_t i = 0; i < ids.n && rc == CC_EOK; i++) {
		struct cc_case c;
		rc = st->ops->case_load(st->self, ids.id[i], &c);
		if (rc == CC_ENOTFOUND) { /* gone meanwhile */
			rc = CC_EOK;
			continue;
		}
		if (rc)
			break;
		struct cc_conflict k[CC_MAX_FIELDS];
		struct authors a = { .k = k, .nk = cc_case_conflicts(cfg, &c, k) };
		rc = st->ops->audit_scan(st->self, c.id, find_authors, &a);
		if (rc == CC_EOK)
			rc = a.rc;
		for (size_t j = 0; j < a.nk && rc == CC_EOK; j++) {
			struct cc_conflict_report r = {
				.case_id = c.id,
				.field = k[j].field,
				.case_side = { k[j].case_system, k[j].case_value, k[j].case_ver, a.mine[j] },
				.parked = { k[j].parked_system, k[j].parked_value, k[j].parked_ver,
				            a.theirs[j] },
			};
			rc = fn(arg, &r);
		}
		for (size_t j = 0; j < CC_MAX_FIELDS; j++) {
			free(a.mine[j]);
			free(a.theirs[j]);
		}
		cc_case_clear(&c);
	}
	free(ids.id);
	return rc;
}

static int64_t fixed_now(void *ctx)
{
	return *(const int64_t *)ctx;
}

static uint64_t no_jitter(void *ctx)
{
	(void)ctx;
	return 0;
}

int cc_control_resolve(struct cc_store *st, const struct cc_config *cfg, uint64_t case_id,
                       int field, const struct cc_resolution *how, int64_t now_ms,
                       struct cc_resolve_outcome *out)
{
	/* A hub without connectors: the one transaction is the engine's, the
	 * same the simulator drives; delivering is the running daemon's. */
	struct cc_hub *hub;
	struct cc_hub_env env = { .now_ms = fixed_now, .random = no_jitter, .ctx = &now_ms };
	memset(out, 0, sizeof(*out));
	out->system = -1;
	int rc = cc_hub_create(&hub, cfg, st, NULL, &env);
	if (rc)
		return rc;
	rc = cc_hub_resolve(hub, case_id, field, how, out);
	cc_hub_destroy(hub);
	return rc;
}

int cc_control_status_save(struct cc_store *st, const char *system,
                           const struct cc_system_status *s)
{
	char name[160], text[CC_NOTE_MAX];
	if (key_of(name, sizeof(name), "status", system))
		return CC_EINVAL;
	/* the reason is the last word: it may hold blanks; newlines are folded */
	int n = snprintf(text, sizeof(text),
	                 "v=1 updated_ms=%" PRId64 " poll_ok_ms=%" PRId64 " failure_ms=%" PRId64
	                 " failing=%d breaker_failures=%d breaker_open_until_ms=%" PRId64
	                 " requests=%" PRIu64 " polls=%" PRIu64 " webhooks=%" PRIu64
	                 " webhooks_dropped=%" PRIu64 " webhooks_rejected=%" PRIu64
	                 " poll_failures=%d cursor_s=%" PRId64 " reason=%s",
	                 s->updated_ms, s->last_poll_ok_ms, s->last_failure_ms, s->failing ? 1 : 0,
	                 s->breaker_failures, s->breaker_open_until_ms, s->requests, s->polls,
	                 s->webhooks, s->webhooks_dropped, s->webhooks_rejected, s->poll_failures,
	                 s->has_cursor ? s->cursor_s : -1, s->last_failure);
	if (n < 0)
		return CC_EINVAL;
	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return st->ops->note_set(st->self, name, text);
}

int cc_control_status_load(struct cc_store *st, const char *system,
                           struct cc_system_status *out, bool *found)
{
	char name[160], text[CC_NOTE_MAX];
	memset(out, 0, sizeof(*out));
	*found = false;
	if (key_of(name, sizeof(name), "status", system))
		return CC_EINVAL;
	int rc = st->ops->note_get(st->self, name, text, sizeof(text));
	if (rc || !text[0])
		return rc;
	*found = true;
	char *p = text;
	while (*p) {
		char *eq = strchr(p, '=');
		if (!eq)
			break;
		*eq = '\0';
		const char *key = p, *val = eq + 1;
		if (strcmp(key, "reason") == 0) {
			snprintf(out->last_failure, sizeof(out->last_failure), "%s", val);
			break;
		}
		char *sp = strchr(val, ' ');
		p = sp ? sp + 1 : eq + 1 + strlen(val);
		if (sp)
			*sp = '\0';
		long long v = strtoll(val, NULL, 10);
		if (strcmp(key, "updated_ms") == 0)
			out->updated_ms = v;
		else if (strcmp(key, "poll_ok_ms") == 0)
			out->last_poll_ok_ms = v;
		else if (strcmp(key, "failure_ms") == 0)
			out->last_failure_ms = v;
		else if (strcmp(key, "failing") == 0)
			out->failing = v != 0;
		else if (strcmp(key, "breaker_failures") == 0)
			out->breaker_failures = (int)v;
		else if (strcmp(key, "breaker_open_until_ms") == 0)
			out->breaker_open_until_ms = v;
		else if (strcmp(key, "requests") == 0)
			out->requests = (uint64_t)v;
		else if (strcmp(key, "polls") == 0)
			out->polls = (uint64_t)v;
		else if (strcmp(key, "webhooks") == 0)
			out->webhooks = (uint64_t)v;
		else if (strcmp(key, "webhooks_dropped") == 0)
			out->webhooks_dropped = (uint64_t)v;
		else if (strcmp(key, "webhooks_rejected") == 0)
			out->webhooks_rejected = (uint64_t)v;
		else if (strcmp(key, "poll_failures") == 0)
			out->poll_failures = (int)v;
		else if (strcmp(key, "cursor_s") == 0) {
			out->has_cursor = v >= 0;
			out->cursor_s = v;
		}
	}
	return CC_EOK;
}

const char *cc_control_breaker_state(const struct cc_system_status *s, int64_t now_ms)
{
	if (s->breaker_open_until_ms <= 0)
		return "closed";
	return now_ms < s->breaker_open_until_ms ? "open" : "half-open";
}

void cc_control_format_time(char *buf, size_t len, int64_t ms)
{
	if (ms <= 0) {
		snprintf(buf, len, "never");
		return;
	}
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct tally {
	size_t parked[CC_MAX_SYSTEMS];
	size_t dead[CC_MAX_SYSTEMS];
	size_t conflicts;
	size_t cases;
};

static int count_case(void *arg, const struct cc_case *c)
{
	struct tally *t = arg;
	t->cases++;
	for (int s = 0; s < CC_MAX_SYSTEMS; s++)
		if (c->link[s].status == CC_LINK_PARKED || c->link[s].unmapped_mask)
			t->parked[s]++;
	for (int f = 0; f < CC_MAX_FIELDS; f++)
		if (c->f[f].parked)
			t->conflicts++;
	return 0;
}

static int count_dead(void *arg, const struct cc_dead_letter *d)
{
	struct tally *t = arg;
	if (d->system >= 0 && d->system < CC_MAX_SYSTEMS)
		t->dead[d->system]++;
	return 0;
}

int cc_control_report(struct cc_store *st, const struct cc_config *cfg,
                      struct cc_system_report *out, size_t *cases, size_t *conflicts)
{
	struct tally *t = calloc(1, sizeof(*t));
	if (!t)
		return CC_ENOMEM;
	int rc = st->ops->case_scan_all(st->self, count_case, t);
	if (rc == CC_EOK)
		rc = st->ops->dead_letter_scan(st->self, count_dead, t);
	for (size_t s = 0; s < cfg->nsystems && rc == CC_EOK; s++) {
		struct cc_system_report *r = &out[s];
		const char *name = cfg->systems[s].name;
		memset(r, 0, sizeof(*r));
		int64_t earliest;
		struct cc_system_state ss;
		rc = cc_control_paused(st, name, &r->paused);
		if (rc == CC_EOK)
			rc = st->ops->outbox_stat(st->self, (int)s, &r->outbox, &earliest);
		if (rc == CC_EOK)
			rc = cc_control_status_load(st, name, &r->status, &r->has_status);
		if (rc == CC_EOK)
			rc = st->ops->system_state_load(st->self, (int)s, &ss);
		if (rc == CC_EOK && ss.last_poll_start_ms > r->status.last_poll_ok_ms)
			r->status.last_poll_ok_ms = ss.last_poll_start_ms;
		r->dead_letters = t->dead[s];
		r->parked = t->parked[s];
	}
	*cases = t->cases;
	*conflicts = t->conflicts;
	free(t);
	return rc;
}
