/*
 * The store contract: every test here runs against each backend (memory
 * and SQLite) and must pass on both. Case ids and deep-copied save/load,
 * link_find as links change, the scans, the outbox, dead letters (count,
 * scan, remove), per-system state, the audit read back, statistics and
 * transactions: a rollback restores everything, a commit is durable (for
 * SQLite, across close and reopen).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

#define OPS(st) ((st)->ops)
#define SELF(st) ((st)->self)

/* The fixture; the store comes first, so a test may take *state as a store. */
struct fx {
	struct cc_store st;
	bool sqlite;
	char dir[64];
	char path[128];
};

static int setup_memory(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f || cc_store_memory_open(&f->st))
		return -1;
	*state = f;
	return 0;
}

static int open_sqlite(struct fx *f)
{
	char err[256];
	int rc = cc_store_sqlite_open(&f->st, f->path, NULL, err, sizeof(err));
	if (rc)
		fprintf(stderr, "open %s: %s\n", f->path, err);
	return rc;
}

static int setup_sqlite(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->sqlite = true;
	snprintf(f->dir, sizeof(f->dir), "/tmp/concord-contract-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	if (open_sqlite(f))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	OPS(&f->st)->destroy(SELF(&f->st));
	if (f->sqlite) {
		char p[160];
		unlink(f->path);
		snprintf(p, sizeof(p), "%s-wal", f->path);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", f->path);
		unlink(p);
		rmdir(f->dir);
	}
	free(f);
	return 0;
}

/* SQLite: close and open the file again; memory: nothing to do. */
static void reopen(struct cc_store *st)
{
	struct fx *f = (struct fx *)st;
	if (!f->sqlite)
		return;
	OPS(st)->destroy(SELF(st));
	assert_int_equal(open_sqlite(f), CC_EOK);
}

static void test_ops_table(void **state)
{
	struct fx *f = *state;
	const struct cc_store_ops *o = f->st.ops;
	assert_int_equal(o->version, CC_STORE_OPS_VERSION);
	assert_string_equal(o->name, f->sqlite ? "sqlite" : "memory");
	assert_non_null(o->begin);
	assert_non_null(o->commit);
	assert_non_null(o->rollback);
	assert_non_null(o->case_new);
	assert_non_null(o->case_load);
	assert_non_null(o->case_save);
	assert_non_null(o->link_find);
	assert_non_null(o->case_scan_recent);
	assert_non_null(o->case_scan_creating);
	assert_non_null(o->case_scan_all);
	assert_non_null(o->journal_append);
	assert_non_null(o->outbox_put);
	assert_non_null(o->outbox_get);
	assert_non_null(o->outbox_remove);
	assert_non_null(o->outbox_due);
	assert_non_null(o->outbox_stat);
	assert_non_null(o->dead_letter_put);
	assert_non_null(o->dead_letter_count);
	assert_non_null(o->dead_letter_scan);
	assert_non_null(o->dead_letter_remove);
	assert_non_null(o->system_state_load);
	assert_non_null(o->system_state_save);
	assert_non_null(o->audit_append);
	assert_non_null(o->audit_scan);
	assert_non_null(o->last_error);
	assert_non_null(o->stats);
	assert_non_null(o->flag_get);
	assert_non_null(o->flag_set);
	assert_non_null(o->note_get);
	assert_non_null(o->note_set);
	assert_non_null(o->destroy);
	assert_string_equal(o->last_error(f->st.self), "");
}

/* A case with an id, a title, a link to system 1 and a comment. */
static void make_case(struct cc_case *c, uint64_t id, const char *title, const char *remote)
{
	assert_int_equal(cc_case_init(c), CC_EOK);
	c->id = id;
	c->created_ms = (int64_t)id * 1000;
	assert_int_equal(cc_case_set_value(c, 0, title), CC_EOK);
	c->f[0].ver = (struct cc_version){ 5000, 1, 7 };
	c->f[0].origin = 1;
	if (remote) {
		c->link[1].status = CC_LINK_LINKED;
		assert_int_equal(cc_str_set(&c->link[1].remote_id, remote), CC_EOK);
		assert_int_equal(cc_str_set(&c->link[1].shadow[0], title), CC_EOK);
		c->link[1].rv = 7;
	}
	assert_int_equal(cc_case_add_comment(c, 1, "c1", "hello", "alice", NULL), CC_EOK);
}

static void save(struct cc_store *st, const struct cc_case *c)
{
	assert_int_equal(OPS(st)->case_save(SELF(st), c), CC_EOK);
}

static void load_title(struct cc_store *st, uint64_t id, const char *want)
{
	struct cc_case c;
	assert_int_equal(OPS(st)->case_load(SELF(st), id, &c), CC_EOK);
	assert_int_equal(c.id, id);
	assert_string_equal(c.f[0].value, want);
	cc_case_clear(&c);
}


static void test_case_new_ids(void **state)
{
	struct cc_store *st = *state;
	uint64_t a = 0, b = 0, c = 0;
	assert_int_equal(OPS(st)->case_new(SELF(st), &a), CC_EOK);
	assert_int_equal(OPS(st)->case_new(SELF(st), &b), CC_EOK);
	assert_int_equal(OPS(st)->case_new(SELF(st), &c), CC_EOK);
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	assert_int_equal(c, 3);
}

static void test_case_save_load_deep_copy(void **state)
{
	struct cc_store *st = *state;
	struct cc_case c, got;
	make_case(&c, 1, "Printer down", "INC001");
	save(st, &c);
	/* changing the caller's copy does not touch the stored one */
	assert_int_equal(cc_case_set_value(&c, 0, "changed"), CC_EOK);
	assert_int_equal(cc_str_set(&c.link[1].shadow[0], "changed"), CC_EOK);
	c.comments[0].body[0] = 'J';

	assert_int_equal(OPS(st)->case_load(SELF(st), 1, &got), CC_EOK);
	assert_string_equal(got.f[0].value, "Printer down");
	assert_int_equal(got.f[0].ver.t_ms, 5000);
	assert_int_equal(got.f[0].ver.rank, 1);
	assert_int_equal(got.f[0].ver.rv, 7);
	assert_int_equal(got.f[0].origin, 1);
	assert_int_equal(got.created_ms, 1000);
	assert_int_equal(got.link[1].status, CC_LINK_LINKED);
	assert_string_equal(got.link[1].remote_id, "INC001");
	assert_string_equal(got.link[1].shadow[0], "Printer down");
	assert_null(got.link[1].shadow[1]);
	assert_int_equal(got.link[1].rv, 7);
	assert_int_equal(got.ncomments, 1);
	assert_string_equal(got.comments[0].body, "hello");
	assert_string_equal(got.comments[0].author, "alice");
	assert_string_equal(got.comments[0].mirror_id[1], "c1");
	assert_null(got.comments[0].mirror_id[0]);
	assert_ptr_not_equal(got.f[0].value, c.f[0].value);
	/* changing the loaded copy does not touch the stored one either */
	assert_int_equal(cc_case_set_value(&got, 0, "again"), CC_EOK);
	cc_case_clear(&got);
	load_title(st, 1, "Printer down");

	/* saving again replaces */
	save(st, &c);
	load_title(st, 1, "changed");
	cc_case_clear(&c);
}

static void test_case_load_missing(void **state)
{
	struct cc_store *st = *state;
	struct cc_case c;
	assert_int_equal(OPS(st)->case_load(SELF(st), 0, &c), CC_ENOTFOUND);
	assert_int_equal(OPS(st)->case_load(SELF(st), 1, &c), CC_ENOTFOUND);
	assert_int_equal(OPS(st)->case_load(SELF(st), 1000, &c), CC_ENOTFOUND);
	/* id 0 is never valid */
	struct cc_case z;
	assert_int_equal(cc_case_init(&z), CC_EOK);
	assert_int_equal(OPS(st)->case_save(SELF(st), &z), CC_EINVAL);
	cc_case_clear(&z);
	/* a sparse id: saved 70, 3 is still missing */
	make_case(&z, 70, "far", NULL);
	save(st, &z);
	cc_case_clear(&z);
	assert_int_equal(OPS(st)->case_load(SELF(st), 3, &c), CC_ENOTFOUND);
	load_title(st, 70, "far");
}

static void test_link_find(void **state)
{
	struct cc_store *st = *state;
	struct cc_case c;
	uint64_t id = 0;
	make_case(&c, 1, "one", "INC001");
	save(st, &c);
	cc_case_clear(&c);
	make_case(&c, 2, "two", "INC002");
	save(st, &c);
	cc_case_clear(&c);
	/* a create in progress is not a link yet */
	make_case(&c, 3, "three", "INC003");
	c.link[1].status = CC_LINK_CREATE;
	save(st, &c);
	cc_case_clear(&c);
	/* a parked link still owns its remote id */
	make_case(&c, 4, "four", "INC004");
	c.link[1].status = CC_LINK_PARKED;
	save(st, &c);
	cc_case_clear(&c);

	assert_int_equal(OPS(st)->link_find(SELF(st), 1, "INC002", &id), CC_EOK);
	assert_int_equal(id, 2);
	assert_int_equal(OPS(st)->link_find(SELF(st), 1, "INC001", &id), CC_EOK);
	assert_int_equal(id, 1);
	assert_int_equal(OPS(st)->link_find(SELF(st), 1, "INC004", &id), CC_EOK);
	assert_int_equal(id, 4);
	id = 99;
	assert_int_equal(OPS(st)->link_find(SELF(st), 1, "INC003", &id), CC_ENOTFOUND);
	assert_int_equal(OPS(st)->link_find(SELF(st), 0, "INC001", &id), CC_ENOTFOUND);
	assert_int_equal(OPS(st)->link_find(SELF(st), 1, "INC00", &id), CC_ENOTFOUND);
	assert_int_equal(id, 99);
}

struct visit {
	uint64_t ids[16];
	size_t n;
	size_t stop_after;
};

static int visit_fn(void *arg, const struct cc_case *c)
{
	struct visit *v = arg;
	v->ids[v->n++] = c->id;
	return v->stop_after && v->n >= v->stop_after;
}

static void test_scans(void **state)
{
	struct cc_store *st = *state;
	for (uint64_t id = 1; id <= 5; id++) {
		struct cc_case c;
		make_case(&c, id, "x", id == 4 ? "r4" : NULL); /* case 4 has a record in system 1 */
		save(st, &c);
		cc_case_clear(&c);
	}
	struct visit v = { .n = 0 };
	assert_int_equal(OPS(st)->case_scan_recent(SELF(st), 3000, -1, visit_fn, &v), CC_EOK);
	assert_int_equal(v.n, 3);
	assert_int_equal(v.ids[0], 5);
	assert_int_equal(v.ids[1], 4);
	/* the cases with a record in system 1 left out; system 0 has none */
	v = (struct visit){ .n = 0 };
	assert_int_equal(OPS(st)->case_scan_recent(SELF(st), 3000, 1, visit_fn, &v), CC_EOK);
	assert_int_equal(v.n, 2);
	assert_int_equal(v.ids[0], 5);
	assert_int_equal(v.ids[1], 3);
	v = (struct visit){ .n = 0 };
	assert_int_equal(OPS(st)->case_scan_recent(SELF(st), 3000, 0, visit_fn, &v), CC_EOK);
	assert_int_equal(v.n, 3);
	assert_int_equal(v.ids[2], 3);
	v = (struct visit){ .stop_after = 2 };
	assert_int_equal(OPS(st)->case_scan_all(SELF(st), visit_fn, &v), CC_EOK);
	assert_int_equal(v.n, 2);
	assert_int_equal(v.ids[0], 1);
	assert_int_equal(v.ids[1], 2);
}

static struct cc_outbox_entry entry(uint64_t case_id, int system, int64_t due)
{
	return (struct cc_outbox_entry){ .case_id = case_id, .system = system, .due_ms = due,
	                                 .first_ms = due - 10, .attempts = 0 };
}

static void put(struct cc_store *st, struct cc_outbox_entry e)
{
	assert_int_equal(OPS(st)->outbox_put(SELF(st), &e), CC_EOK);
}

/* The earliest due entry, as the deliveries of one record at a time take it. */
static int next_due(struct cc_store *st, int system, int64_t now, struct cc_outbox_entry *e)
{
	size_t n = 99;
	int rc = OPS(st)->outbox_due(SELF(st), system, now, e, 1, &n);
	assert_true(rc != CC_EOK || n <= 1);
	return rc != CC_EOK ? rc : n == 1 ? CC_EOK : CC_ENOTFOUND;
}

static void test_outbox(void **state)
{
	struct cc_store *st = *state;
	struct cc_outbox_entry e;
	size_t n = 99;
	int64_t earliest = 0;

	assert_int_equal(OPS(st)->outbox_stat(SELF(st), 0, &n, &earliest), CC_EOK);
	assert_int_equal(n, 0);
	assert_true(earliest == INT64_MAX);
	assert_int_equal(next_due(st, 0, INT64_MAX, &e), CC_ENOTFOUND);

	put(st, entry(7, 0, 500));
	put(st, entry(3, 0, 200));
	put(st, entry(5, 0, 200));
	put(st, entry(1, 1, 100)); /* another system */

	assert_int_equal(OPS(st)->outbox_get(SELF(st), 3, 0, &e), CC_EOK);
	assert_int_equal(e.due_ms, 200);
	assert_int_equal(e.first_ms, 190);
	assert_int_equal(OPS(st)->outbox_get(SELF(st), 3, 1, &e), CC_ENOTFOUND);

	/* earliest due first, ties by case id, only what is due */
	assert_int_equal(next_due(st, 0, 199, &e), CC_ENOTFOUND);
	assert_int_equal(next_due(st, 0, 200, &e), CC_EOK);
	assert_int_equal(e.case_id, 3);
	assert_int_equal(e.system, 0);
	assert_int_equal(next_due(st, 0, 10000, &e), CC_EOK);
	assert_int_equal(e.case_id, 3);
	assert_int_equal(next_due(st, 1, 10000, &e), CC_EOK);
	assert_int_equal(e.case_id, 1);

	/* several at once: due order, ties by case id, at most max, only due */
	struct cc_outbox_entry many[4];
	size_t got = 99;
	assert_int_equal(OPS(st)->outbox_due(SELF(st), 0, 10000, many, 4, &got), CC_EOK);
	assert_int_equal(got, 3);
	assert_int_equal(many[0].case_id, 3);
	assert_int_equal(many[1].case_id, 5);
	assert_int_equal(many[2].case_id, 7);
	assert_int_equal(many[2].due_ms, 500);
	assert_int_equal(many[2].system, 0);
	assert_int_equal(OPS(st)->outbox_due(SELF(st), 0, 10000, many, 2, &got), CC_EOK);
	assert_int_equal(got, 2);
	assert_int_equal(many[0].case_id, 3);
	assert_int_equal(many[1].case_id, 5);
	assert_int_equal(OPS(st)->outbox_due(SELF(st), 0, 499, many, 4, &got), CC_EOK);
	assert_int_equal(got, 2);
	assert_int_equal(OPS(st)->outbox_due(SELF(st), 0, 199, many, 4, &got), CC_EOK);
	assert_int_equal(got, 0);
	assert_int_equal(OPS(st)->outbox_due(SELF(st), 0, 10000, many, 0, &got), CC_EOK);
	assert_int_equal(got, 0);

	assert_int_equal(OPS(st)->outbox_stat(SELF(st), 0, &n, &earliest), CC_EOK);
	assert_int_equal(n, 3);
	assert_int_equal(earliest, 200);

	/* put replaces the entry of (case, system) */
	struct cc_outbox_entry r = entry(3, 0, 900);
	r.attempts = 4;
	put(st, r);
	assert_int_equal(OPS(st)->outbox_stat(SELF(st), 0, &n, &earliest), CC_EOK);
	assert_int_equal(n, 3);
	assert_int_equal(OPS(st)->outbox_get(SELF(st), 3, 0, &e), CC_EOK);
	assert_int_equal(e.due_ms, 900);
	assert_int_equal(e.attempts, 4);
	assert_int_equal(next_due(st, 0, 10000, &e), CC_EOK);
	assert_int_equal(e.case_id, 5);

	/* remove */
	assert_int_equal(OPS(st)->outbox_remove(SELF(st), 5, 0), CC_EOK);
	assert_int_equal(OPS(st)->outbox_get(SELF(st), 5, 0, &e), CC_ENOTFOUND);
	assert_int_equal(OPS(st)->outbox_remove(SELF(st), 5, 0), CC_EOK); /* idempotent */
	assert_int_equal(next_due(st, 0, 10000, &e), CC_EOK);
	assert_int_equal(e.case_id, 7);
	assert_int_equal(OPS(st)->outbox_stat(SELF(st), 0, &n, &earliest), CC_EOK);
	assert_int_equal(n, 2);
	assert_int_equal(earliest, 500);
	assert_int_equal(OPS(st)->outbox_stat(SELF(st), 1, &n, &earliest), CC_EOK);
	assert_int_equal(n, 1);
	assert_int_equal(earliest, 100);
}

static void test_outbox_many(void **state)
{
	struct cc_store *st = *state;
	/* more entries than the initial capacity, due in reverse order */
	for (uint64_t id = 1; id <= 200; id++)
		put(st, entry(id, 2, (int64_t)(1000 - id)));
	struct cc_outbox_entry e;
	for (uint64_t want = 200; want >= 1; want--) {
		assert_int_equal(next_due(st, 2, 100000, &e), CC_EOK);
		assert_int_equal(e.case_id, want);
		assert_int_equal(OPS(st)->outbox_remove(SELF(st), e.case_id, 2), CC_EOK);
	}
	assert_int_equal(next_due(st, 2, 100000, &e), CC_ENOTFOUND);
}

static void test_transaction_commit(void **state)
{
	struct cc_store *st = *state;
	struct cc_case c;
	uint64_t id;
	assert_int_equal(OPS(st)->begin(SELF(st)), CC_EOK);
	assert_int_equal(OPS(st)->begin(SELF(st)), CC_EINVAL); /* no nesting */
	assert_int_equal(OPS(st)->case_new(SELF(st), &id), CC_EOK);
	make_case(&c, id, "first", "INC001");
	save(st, &c);
	assert_int_equal(cc_case_set_value(&c, 0, "second"), CC_EOK);
	save(st, &c); /* twice in one transaction */
	cc_case_clear(&c);
	put(st, entry(id, 0, 10));
	assert_int_equal(OPS(st)->commit(SELF(st)), CC_EOK);
	load_title(st, id, "second");
	reopen(st); /* a commit is durable */
	load_title(st, id, "second");
	uint64_t found = 0;
	assert_int_equal(OPS(st)->link_find(SELF(st), 1, "INC001", &found), CC_EOK);
	assert_int_equal(found, id);
	struct cc_outbox_entry e;
	assert_int_equal(OPS(st)->outbox_get(SELF(st), id, 0, &e), CC_EOK);
	/* committed work survives a later rollback */
	assert_int_equal(OPS(st)->begin(SELF(st)), CC_EOK);
	assert_int_equal(OPS(st)->rollback(SELF(st)), CC_EOK);
	load_title(st, id, "second");
}

static void test_transaction_rollback(void **state)
{
	struct cc_store *st = *state;
	struct cc_case c;
	uint64_t id, seq;
	struct cc_outbox_entry e;
	struct cc_system_state ss, got;
	size_t ndead;

	/* committed baseline: case 1 "before", outbox (1,0) due 100, state 0 */
	assert_int_equal(OPS(st)->case_new(SELF(st), &id), CC_EOK);
	assert_int_equal(id, 1);
	make_case(&c, 1, "before", "INC001");
	save(st, &c);
	cc_case_clear(&c);
	put(st, entry(1, 0, 100));
	put(st, entry(1, 1, 150));
	memset(&ss, 0, sizeof(ss));
	ss.cursor_mtime_s = 111;
	ss.has_cursor = true;
	cc_offset_init(&ss.offset);
	assert_int_equal(OPS(st)->system_state_save(SELF(st), 0, &ss), CC_EOK);
	assert_int_equal(OPS(st)->journal_append(SELF(st), 0, "INC001", 1, 5, &seq), CC_EOK);
	assert_int_equal(seq, 1);

	/* a transaction that changes everything, then rolls back */
	assert_int_equal(OPS(st)->begin(SELF(st)), CC_EOK);
	make_case(&c, 1, "after", "INC001");
	save(st, &c);
	cc_case_clear(&c);
	assert_int_equal(OPS(st)->case_new(SELF(st), &id), CC_EOK);
	assert_int_equal(id, 2);
	make_case(&c, 2, "new", "INC002");
	save(st, &c);
	cc_case_clear(&c);
	put(st, entry(1, 0, 999));   /* replaced */
	put(st, entry(2, 0, 50));    /* added */
	assert_int_equal(OPS(st)->outbox_remove(SELF(st), 1, 1), CC_EOK); /* removed */
	ss.cursor_mtime_s = 222;
	assert_int_equal(OPS(st)->system_state_save(SELF(st), 0, &ss), CC_EOK);
	assert_int_equal(OPS(st)->system_state_save(SELF(st), 3, &ss), CC_EOK);
	assert_int_equal(OPS(st)->journal_append(SELF(st), 0, "INC001", 2, 6, &seq), CC_EOK);
	assert_int_equal(seq, 2);
	struct cc_dead_letter d = { .case_id = 1, .system = 0, .at_ms = 7, .reason = "x" };
	assert_int_equal(OPS(st)->dead_letter_put(SELF(st), &d), CC_EOK);
	struct cc_audit_entry a = { .case_id = 1, .system = 0, .field = -1,
	                            .decision = CC_AUDIT_APPLIED };
	assert_int_equal(OPS(st)->audit_append(SELF(st), &a), CC_EOK);
	/* visible inside the transaction */
	load_title(st, 1, "after");
	load_title(st, 2, "new");
	assert_int_equal(OPS(st)->rollback(SELF(st)), CC_EOK);

	/* everything is as before */
	load_title(st, 1, "before");
	assert_int_equal(OPS(st)->case_load(SELF(st), 2, &c), CC_ENOTFOUND);
	uint64_t link_id;
	assert_int_equal(OPS(st)->link_find(SELF(st), 1, "INC002", &link_id), CC_ENOTFOUND);
	assert_int_equal(OPS(st)->outbox_get(SELF(st), 1, 0, &e), CC_EOK);
	assert_int_equal(e.due_ms, 100);
	assert_int_equal(OPS(st)->outbox_get(SELF(st), 1, 1, &e), CC_EOK);
	assert_int_equal(e.due_ms, 150);
	assert_int_equal(OPS(st)->outbox_get(SELF(st), 2, 0, &e), CC_ENOTFOUND);
	assert_int_equal(OPS(st)->system_state_load(SELF(st), 0, &got), CC_EOK);
	assert_int_equal(got.cursor_mtime_s, 111);
	assert_true(got.has_cursor);
	assert_int_equal(OPS(st)->system_state_load(SELF(st), 3, &got), CC_EOK);
	assert_false(got.has_cursor);
	assert_int_equal(got.cursor_mtime_s, 0);
	assert_int_equal(OPS(st)->dead_letter_count(SELF(st), &ndead), CC_EOK);
	assert_int_equal(ndead, 0);
	/* the next id and the journal sequence are given out again */
	assert_int_equal(OPS(st)->case_new(SELF(st), &id), CC_EOK);
	assert_int_equal(id, 2);
	assert_int_equal(OPS(st)->journal_append(SELF(st), 0, "INC001", 2, 6, &seq), CC_EOK);
	assert_int_equal(seq, 2);
}

static void test_dead_letters(void **state)
{
	struct cc_store *st = *state;
	size_t n = 9;
	assert_int_equal(OPS(st)->dead_letter_count(SELF(st), &n), CC_EOK);
	assert_int_equal(n, 0);
	for (int i = 0; i < 40; i++) {
		struct cc_dead_letter d = { .case_id = (uint64_t)i + 1, .system = 1 };
		assert_int_equal(OPS(st)->dead_letter_put(SELF(st), &d), CC_EOK);
	}
	assert_int_equal(OPS(st)->dead_letter_count(SELF(st), &n), CC_EOK);
	assert_int_equal(n, 40);
	struct cc_audit_entry bad = { .decision = CC_AUDIT__COUNT };
	assert_int_equal(OPS(st)->audit_append(SELF(st), &bad), CC_EINVAL);
}


static void test_links_follow_the_case(void **state)
{
	struct cc_store *st = *state;
	struct cc_case c;
	uint64_t id = 0;
	make_case(&c, 9, "nine", "A-1");
	save(st, &c);
	assert_int_equal(OPS(st)->link_find(SELF(st), 1, "A-1", &id), CC_EOK);
	assert_int_equal(id, 9);
	/* the record moves to another remote id */
	assert_int_equal(cc_str_set(&c.link[1].remote_id, "A-2"), CC_EOK);
	save(st, &c);
	assert_int_equal(OPS(st)->link_find(SELF(st), 1, "A-1", &id), CC_ENOTFOUND);
	assert_int_equal(OPS(st)->link_find(SELF(st), 1, "A-2", &id), CC_EOK);
	/* a second system; then the first is unlinked */
	c.link[3].status = CC_LINK_LINKED;
	assert_int_equal(cc_str_set(&c.link[3].remote_id, "B-1"), CC_EOK);
	c.link[1].status = CC_LINK_NONE;
	save(st, &c);
	cc_case_clear(&c);
	assert_int_equal(OPS(st)->link_find(SELF(st), 1, "A-2", &id), CC_ENOTFOUND);
	assert_int_equal(OPS(st)->link_find(SELF(st), 3, "B-1", &id), CC_EOK);
	/* after a reopen (nothing cached), loaded and changed again */
	reopen(st);
	assert_int_equal(OPS(st)->case_load(SELF(st), 9, &c), CC_EOK);
	c.link[3].status = CC_LINK_PARKED;
	c.link[2].status = CC_LINK_CREATE;
	save(st, &c);
	cc_case_clear(&c);
	assert_int_equal(OPS(st)->link_find(SELF(st), 3, "B-1", &id), CC_EOK);
	/* saved without loading first (nothing known of the old links) */
	reopen(st);
	make_case(&c, 9, "nine", "A-3");
	save(st, &c);
	cc_case_clear(&c);
	assert_int_equal(OPS(st)->link_find(SELF(st), 3, "B-1", &id), CC_ENOTFOUND);
	assert_int_equal(OPS(st)->link_find(SELF(st), 1, "A-3", &id), CC_EOK);
	struct visit v = { .n = 0 };
	assert_int_equal(OPS(st)->case_scan_creating(SELF(st), 2, visit_fn, &v), CC_EOK);
	assert_int_equal(v.n, 0);
}

static void test_scan_creating(void **state)
{
	struct cc_store *st = *state;
	for (uint64_t id = 1; id <= 6; id++) {
		struct cc_case c;
		make_case(&c, id, "x", NULL);
		if (id % 2 == 0)
			c.link[2].status = CC_LINK_CREATE;
		save(st, &c);
		cc_case_clear(&c);
	}
	struct visit v = { .n = 0 };
	assert_int_equal(OPS(st)->case_scan_creating(SELF(st), 2, visit_fn, &v), CC_EOK);
	assert_int_equal(v.n, 3);
	assert_int_equal(v.ids[0], 2);
	assert_int_equal(v.ids[1], 4);
	assert_int_equal(v.ids[2], 6);
	/* the create of case 4 is done */
	struct cc_case c;
	assert_int_equal(OPS(st)->case_load(SELF(st), 4, &c), CC_EOK);
	c.link[2].status = CC_LINK_LINKED;
	assert_int_equal(cc_str_set(&c.link[2].remote_id, "J-4"), CC_EOK);
	save(st, &c);
	cc_case_clear(&c);
	v = (struct visit){ .n = 0 };
	assert_int_equal(OPS(st)->case_scan_creating(SELF(st), 2, visit_fn, &v), CC_EOK);
	assert_int_equal(v.n, 2);
	assert_int_equal(v.ids[1], 6);
	v = (struct visit){ .n = 0 };
	assert_int_equal(OPS(st)->case_scan_creating(SELF(st), 1, visit_fn, &v), CC_EOK);
	assert_int_equal(v.n, 0);
	/* scans hand out the case as saved */
	v = (struct visit){ .n = 0 };
	assert_int_equal(OPS(st)->case_scan_recent(SELF(st), 0, -1, visit_fn, &v), CC_EOK);
	assert_int_equal(v.n, 6);
	assert_int_equal(v.ids[0], 6);
}

struct dl_visit {
	struct cc_dead_letter got[8];
	size_t n;
};

static int dl_fn(void *arg, const struct cc_dead_letter *d)
{
	struct dl_visit *v = arg;
	if (v->n < 8)
		v->got[v->n] = *d;
	v->n++;
	return 0;
}

static void test_dead_letter_scan_remove(void **state)
{
	struct cc_store *st = *state;
	for (int i = 0; i < 3; i++) {
		struct cc_dead_letter d = { .id = 999, .case_id = 10 + (uint64_t)i, .system = i,
		                            .at_ms = 100 + i };
		snprintf(d.reason, sizeof(d.reason), "reason %d", i);
		assert_int_equal(OPS(st)->dead_letter_put(SELF(st), &d), CC_EOK);
	}
	struct dl_visit v = { .n = 0 };
	assert_int_equal(OPS(st)->dead_letter_scan(SELF(st), dl_fn, &v), CC_EOK);
	assert_int_equal(v.n, 3);
	assert_true(v.got[0].id > 0);
	assert_true(v.got[1].id > v.got[0].id);
	assert_true(v.got[2].id > v.got[1].id);
	assert_int_equal(v.got[1].case_id, 11);
	assert_int_equal(v.got[1].system, 1);
	assert_int_equal(v.got[1].at_ms, 101);
	assert_string_equal(v.got[1].reason, "reason 1");
	uint64_t middle = v.got[1].id, last = v.got[2].id;

	assert_int_equal(OPS(st)->dead_letter_remove(SELF(st), middle), CC_EOK);
	assert_int_equal(OPS(st)->dead_letter_remove(SELF(st), middle), CC_ENOTFOUND);
	/* a removal rolled back is undone */
	assert_int_equal(OPS(st)->begin(SELF(st)), CC_EOK);
	assert_int_equal(OPS(st)->dead_letter_remove(SELF(st), last), CC_EOK);
	assert_int_equal(OPS(st)->rollback(SELF(st)), CC_EOK);
	reopen(st);
	v = (struct dl_visit){ .n = 0 };
	assert_int_equal(OPS(st)->dead_letter_scan(SELF(st), dl_fn, &v), CC_EOK);
	assert_int_equal(v.n, 2);
	assert_int_equal(v.got[0].case_id, 10);
	assert_int_equal(v.got[1].id, last);
	size_t n = 0;
	assert_int_equal(OPS(st)->dead_letter_count(SELF(st), &n), CC_EOK);
	assert_int_equal(n, 2);
	/* ids are not given out twice */
	struct cc_dead_letter d = { .case_id = 20 };
	assert_int_equal(OPS(st)->dead_letter_put(SELF(st), &d), CC_EOK);
	v = (struct dl_visit){ .n = 0 };
	assert_int_equal(OPS(st)->dead_letter_scan(SELF(st), dl_fn, &v), CC_EOK);
	assert_int_equal(v.n, 3);
	assert_true(v.got[2].id > last);
	assert_string_equal(v.got[2].reason, "");
}

static void test_system_state(void **state)
{
	struct cc_store *st = *state;
	struct cc_system_state got;
	assert_int_equal(OPS(st)->system_state_load(SELF(st), 2, &got), CC_EOK);
	assert_false(got.has_cursor);
	assert_false(cc_offset_known(&got.offset));
	struct cc_system_state ss = { .cursor_mtime_s = 1700000000, .has_cursor = true,
	                              .last_poll_start_ms = -5 };
	cc_offset_init(&ss.offset);
	cc_offset_sample(&ss.offset, 1700000001, 1700000000100, 1700000000300);
	assert_int_equal(OPS(st)->system_state_save(SELF(st), 2, &ss), CC_EOK);
	reopen(st);
	assert_int_equal(OPS(st)->system_state_load(SELF(st), 2, &got), CC_EOK);
	assert_true(got.has_cursor);
	assert_int_equal(got.cursor_mtime_s, 1700000000);
	assert_int_equal(got.last_poll_start_ms, -5);
	assert_int_equal(got.offset.lo_ms, ss.offset.lo_ms);
	assert_int_equal(got.offset.hi_ms, ss.offset.hi_ms);
	assert_int_equal(got.offset.samples, 1);
	assert_int_equal(got.offset.resets, ss.offset.resets);
	assert_true(cc_offset_known(&got.offset));
}

struct audit_visit {
	uint64_t seq[8];
	enum cc_decision d[8];
	char value[8][32];
	bool null_value[8];
	char detail[8][32];
	size_t n;
	size_t stop_after;
};

static int audit_fn(void *arg, const struct cc_audit_entry *e, uint64_t seq)
{
	struct audit_visit *v = arg;
	if (v->n < 8) {
		v->seq[v->n] = seq;
		v->d[v->n] = e->decision;
		v->null_value[v->n] = e->value == NULL;
		snprintf(v->value[v->n], 32, "%s", e->value ? e->value : "");
		snprintf(v->detail[v->n], 32, "%s", e->detail ? e->detail : "");
	}
	v->n++;
	return v->stop_after && v->n >= v->stop_after;
}

static void test_audit_scan(void **state)
{
	struct cc_store *st = *state;
	char value[16];
	snprintf(value, sizeof(value), "closed");
	struct cc_audit_entry a = { .at_ms = 1000, .case_id = 5, .system = 1, .field = 2,
	                            .decision = CC_AUDIT_APPLIED, .value = value,
	                            .remote_id = "INC5", .ver = { 77, 3, 9 }, .score = 0,
	                            .detail = "alice" };
	assert_int_equal(OPS(st)->audit_append(SELF(st), &a), CC_EOK);
	value[0] = 'X'; /* the store kept a copy */
	struct cc_audit_entry b = { .at_ms = 1001, .case_id = 6, .system = -1, .field = -1,
	                            .decision = CC_AUDIT_CASE_CREATED, .ver = CC_VERSION_UNSET };
	assert_int_equal(OPS(st)->audit_append(SELF(st), &b), CC_EOK);
	a.decision = CC_AUDIT_WRITTEN;
	a.detail = NULL;
	assert_int_equal(OPS(st)->audit_append(SELF(st), &a), CC_EOK);
	/* rolled back entries are gone */
	assert_int_equal(OPS(st)->begin(SELF(st)), CC_EOK);
	assert_int_equal(OPS(st)->audit_append(SELF(st), &b), CC_EOK);
	assert_int_equal(OPS(st)->rollback(SELF(st)), CC_EOK);
	reopen(st);

	struct audit_visit v = { .n = 0 };
	assert_int_equal(OPS(st)->audit_scan(SELF(st), 5, audit_fn, &v), CC_EOK);
	assert_int_equal(v.n, 2);
	assert_int_equal(v.d[0], CC_AUDIT_APPLIED);
	assert_string_equal(v.value[0], "closed");
	assert_string_equal(v.detail[0], "alice");
	assert_int_equal(v.d[1], CC_AUDIT_WRITTEN);
	assert_string_equal(v.value[1], "Xlosed");
	assert_true(v.seq[1] > v.seq[0]);

	v = (struct audit_visit){ .n = 0 };
	assert_int_equal(OPS(st)->audit_scan(SELF(st), 0, audit_fn, &v), CC_EOK);
	assert_int_equal(v.n, 3);
	assert_int_equal(v.d[1], CC_AUDIT_CASE_CREATED);
	assert_true(v.null_value[1]);
	assert_true(v.seq[0] < v.seq[1] && v.seq[1] < v.seq[2]);
	v = (struct audit_visit){ .stop_after = 1 };
	assert_int_equal(OPS(st)->audit_scan(SELF(st), 0, audit_fn, &v), CC_EOK);
	assert_int_equal(v.n, 1);
	v = (struct audit_visit){ .n = 0 };
	assert_int_equal(OPS(st)->audit_scan(SELF(st), 42, audit_fn, &v), CC_EOK);
	assert_int_equal(v.n, 0);
}

static void test_stats(void **state)
{
	struct cc_store *st = *state;
	struct cc_store_stats s;
	assert_int_equal(OPS(st)->stats(SELF(st), &s), CC_EOK);
	assert_int_equal(s.cases, 0);
	assert_int_equal(s.journal_rows, 0);
	assert_int_equal(s.audit_rows, 0);
	uint64_t written = s.rows_written;
	struct cc_case c;
	make_case(&c, 1, "one", "INC1");
	save(st, &c);
	cc_case_clear(&c);
	make_case(&c, 2, "two", NULL);
	save(st, &c);
	cc_case_clear(&c);
	uint64_t seq;
	assert_int_equal(OPS(st)->journal_append(SELF(st), 1, "INC1", 3, 10, &seq), CC_EOK);
	assert_int_equal(OPS(st)->journal_append(SELF(st), 1, "INC1", 4, 11, &seq), CC_EOK);
	put(st, entry(1, 0, 5));
	struct cc_dead_letter d = { .case_id = 2 };
	assert_int_equal(OPS(st)->dead_letter_put(SELF(st), &d), CC_EOK);
	struct cc_audit_entry a = { .case_id = 1, .decision = CC_AUDIT_APPLIED };
	assert_int_equal(OPS(st)->audit_append(SELF(st), &a), CC_EOK);
	assert_int_equal(OPS(st)->stats(SELF(st), &s), CC_EOK);
	assert_int_equal(s.cases, 2);
	assert_int_equal(s.journal_rows, 2);
	assert_int_equal(s.audit_rows, 1);
	assert_int_equal(s.outbox_rows, 1);
	assert_int_equal(s.dead_letters, 1);
	assert_true(s.rows_written >= written + 7);
	assert_string_equal(OPS(st)->last_error(SELF(st)), "");
}

/* Notes: texts kept byte for byte (numbers stay text), "" when never set,
 * replaced on set, kept across a reopen, too long refused. */
static void test_notes(void **state)
{
	struct cc_store *st = *state;
	char buf[CC_NOTE_MAX];
	assert_int_equal(OPS(st)->note_get(SELF(st), "status:rt", buf, sizeof(buf)), CC_EOK);
	assert_string_equal(buf, "");
	assert_int_equal(OPS(st)->note_set(SELF(st), "status:rt", "1e5"), CC_EOK);
	assert_int_equal(OPS(st)->note_set(SELF(st), "status:rm", "v=1 reason=a b"), CC_EOK);
	assert_int_equal(OPS(st)->note_get(SELF(st), "status:rt", buf, sizeof(buf)), CC_EOK);
	assert_string_equal(buf, "1e5");
	assert_int_equal(OPS(st)->note_set(SELF(st), "status:rt", "0042"), CC_EOK);
	reopen(st);
	assert_int_equal(OPS(st)->note_get(SELF(st), "status:rt", buf, sizeof(buf)), CC_EOK);
	assert_string_equal(buf, "0042");
	assert_int_equal(OPS(st)->note_get(SELF(st), "status:rm", buf, 6), CC_EOK);
	assert_string_equal(buf, "v=1 r"); /* truncated to the buffer */
	int64_t flag = -1;
	assert_int_equal(OPS(st)->flag_get(SELF(st), "status:rt", &flag), CC_EOK);
	assert_int_equal(flag, 0); /* notes and flags are apart */
	char big[CC_NOTE_MAX + 1];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_not_equal(OPS(st)->note_set(SELF(st), "status:rt", big), CC_EOK);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_memory, teardown), \
	     cmocka_unit_test_setup_teardown(f, setup_sqlite, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ops_table),
		T(test_case_new_ids),
		T(test_case_save_load_deep_copy),
		T(test_case_load_missing),
		T(test_link_find),
		T(test_links_follow_the_case),
		T(test_scans),
		T(test_scan_creating),
		T(test_outbox),
		T(test_outbox_many),
		T(test_transaction_commit),
		T(test_transaction_rollback),
		T(test_dead_letters),
		T(test_dead_letter_scan_remove),
		T(test_system_state),
		T(test_audit_scan),
		T(test_stats),
		T(test_notes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
