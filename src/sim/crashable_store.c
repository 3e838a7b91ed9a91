/*
 * The crashable store wrapper (see crashable_store.h).
 */
#include "sim/crashable_store.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct crashable {
	struct cc_store inner;
	char *url;
	bool reopen;    /* a durable backend: a restart reopens it */
	bool crashed;
	bool in_tx;
};

#define INNER(c) ((c)->inner.ops)
#define ISELF(c) ((c)->inner.self)
#define DOWN(c) do { if ((c)->crashed) return CC_ESTORE; } while (0)

static int w_begin(void *self)
{
	struct crashable *c = self;
	DOWN(c);
	int rc = INNER(c)->begin(ISELF(c));
	if (rc == CC_EOK)
		c->in_tx = true;
	return rc;
}

static int w_commit(void *self)
{
	struct crashable *c = self;
	DOWN(c);
	int rc = INNER(c)->commit(ISELF(c));
	c->in_tx = false;
	return rc;
}

static int w_rollback(void *self)
{
	struct crashable *c = self;
	c->in_tx = false;
	if (c->crashed)
		return CC_EOK; /* already rolled back at the crash */
	return INNER(c)->rollback(ISELF(c));
}

static int w_case_new(void *self, uint64_t *out_id)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->case_new(ISELF(c), out_id);
}

static int w_case_load(void *self, uint64_t id, struct cc_case *out)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->case_load(ISELF(c), id, out);
}

static int w_case_save(void *self, const struct cc_case *cs)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->case_save(ISELF(c), cs);
}

static int w_link_find(void *self, int system, const char *remote_id, uint64_t *out_id)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->link_find(ISELF(c), system, remote_id, out_id);
}

static int w_scan_recent(void *self, int64_t since_ms, int unlinked_in, cc_case_visit_fn fn,
                         void *arg)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->case_scan_recent(ISELF(c), since_ms, unlinked_in, fn, arg);
}

static int w_scan_creating(void *self, int system, cc_case_visit_fn fn, void *arg)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->case_scan_creating(ISELF(c), system, fn, arg);
}

static int w_scan_all(void *self, cc_case_visit_fn fn, void *arg)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->case_scan_all(ISELF(c), fn, arg);
}

static int w_journal(void *self, int system, const char *remote_id, uint64_t rv,
                     int64_t at_ms, uint64_t *out_seq)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->journal_append(ISELF(c), system, remote_id, rv, at_ms, out_seq);
}

static int w_outbox_put(void *self, const struct cc_outbox_entry *e)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->outbox_put(ISELF(c), e);
}

static int w_outbox_get(void *self, uint64_t case_id, int system, struct cc_outbox_entry *out)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->outbox_get(ISELF(c), case_id, system, out);
}

static int w_outbox_remove(void *self, uint64_t case_id, int system)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->outbox_remove(ISELF(c), case_id, system);
}

static int w_outbox_due(void *self, int system, int64_t now_ms, struct cc_outbox_entry *out,
                        size_t max, size_t *n)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->outbox_due(ISELF(c), system, now_ms, out, max, n);
}

static int w_outbox_stat(void *self, int system, size_t *count, int64_t *earliest_ms)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->outbox_stat(ISELF(c), system, count, earliest_ms);
}

static int w_dead_put(void *self, const struct cc_dead_letter *d)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->dead_letter_put(ISELF(c), d);
}

static int w_dead_count(void *self, size_t *count)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->dead_letter_count(ISELF(c), count);
}

static int w_dead_scan(void *self, cc_dead_letter_visit_fn fn, void *arg)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->dead_letter_scan(ISELF(c), fn, arg);
}

static int w_dead_remove(void *self, uint64_t id)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->dead_letter_remove(ISELF(c), id);
}

static int w_state_load(void *self, int system, struct cc_system_state *out)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->system_state_load(ISELF(c), system, out);
}

static int w_state_save(void *self, int system, const struct cc_system_state *st)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->system_state_save(ISELF(c), system, st);
}

static int w_audit_append(void *self, const struct cc_audit_entry *e)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->audit_append(ISELF(c), e);
}

static int w_audit_scan(void *self, uint64_t case_id, cc_audit_visit_fn fn, void *arg)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->audit_scan(ISELF(c), case_id, fn, arg);
}

static const char *w_last_error(void *self)
{
	struct crashable *c = self;
	return c->crashed ? "process killed (simulated)" : INNER(c)->last_error(ISELF(c));
}

static int w_stats(void *self, struct cc_store_stats *out)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->stats(ISELF(c), out);
}

static int w_instance(void *self, uint32_t *out)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->instance(ISELF(c), out);
}

static int w_flag_get(void *self, const char *name, int64_t *out)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->flag_get(ISELF(c), name, out);
}

static int w_flag_set(void *self, const char *name, int64_t value)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->flag_set(ISELF(c), name, value);
}

static int w_note_get(void *self, const char *name, char *buf, size_t len)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->note_get(ISELF(c), name, buf, len);
}

static int w_note_set(void *self, const char *name, const char *value)
{
	struct crashable *c = self;
	DOWN(c);
	return INNER(c)->note_set(ISELF(c), name, value);
}

static void w_destroy(void *self)
{
	struct crashable *c = self;
	if (c->inner.ops)
		INNER(c)->destroy(ISELF(c));
	free(c->url);
	free(c);
}

static const struct cc_store_ops crashable_ops = {
	.version = CC_STORE_OPS_VERSION,
	.name = "crashable",
	.begin = w_begin,
	.commit = w_commit,
	.rollback = w_rollback,
	.case_new = w_case_new,
	.case_load = w_case_load,
	.case_save = w_case_save,
	.link_find = w_link_find,
	.case_scan_recent = w_scan_recent,
	.case_scan_creating = w_scan_creating,
	.case_scan_all = w_scan_all,
	.journal_append = w_journal,
	.outbox_put = w_outbox_put,
	.outbox_get = w_outbox_get,
	.outbox_remove = w_outbox_remove,
	.outbox_due = w_outbox_due,
	.outbox_stat = w_outbox_stat,
	.dead_letter_put = w_dead_put,
	.dead_letter_count = w_dead_count,
	.dead_letter_scan = w_dead_scan,
	.dead_letter_remove = w_dead_remove,
	.system_state_load = w_state_load,
	.system_state_save = w_state_save,
	.audit_append = w_audit_append,
	.audit_scan = w_audit_scan,
	.last_error = w_last_error,
	.stats = w_stats,
	.instance = w_instance,
	.flag_get = w_flag_get,
	.flag_set = w_flag_set,
	.note_get = w_note_get,
	.note_set = w_note_set,
	.destroy = w_destroy,
};

int sim_crashable_store_open(struct cc_store *out, const char *url, char *err, size_t errlen)
{
	struct crashable *c = calloc(1, sizeof(*c));
	if (!c)
		return CC_ENOMEM;
	c->url = strdup(url);
	if (!c->url) {
		free(c);
		return CC_ENOMEM;
	}
	const struct cc_store_backend *b = cc_store_backend_of(url, NULL, err, errlen);
	int rc = b ? CC_EOK : CC_EINVAL;
	c->reopen = b && b->durable;
	if (c->reopen)
		rc = cc_store_wipe(url, err, errlen); /* each run starts from an empty store */
	if (!rc)
		rc = cc_store_open(&c->inner, url, err, errlen);
	if (rc) {
		free(c->url);
		free(c);
		return rc;
	}
	out->ops = &crashable_ops;
	out->self = c;
	return CC_EOK;
}

void sim_crashable_store_crash(struct cc_store *st)
{
	struct crashable *c = st->self;
	if (c->crashed)
		return;
	if (c->in_tx)
		INNER(c)->rollback(ISELF(c));
	c->in_tx = false;
	c->crashed = true;
}

int sim_crashable_store_restart(struct cc_store *st, char *err, size_t errlen)
{
	struct crashable *c = st->self;
	if (!c->crashed)
		return CC_EOK;
	if (c->reopen) {
		INNER(c)->destroy(ISELF(c));
		c->inner.ops = NULL;
		int rc = cc_store_open(&c->inner, c->url, err, errlen);
		if (rc)
			return rc;
	}
	c->crashed = false;
	return CC_EOK;
}
