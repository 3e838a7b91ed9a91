/*
 * Unit tests of src/store/store_memory.c, the in-memory store backend:
 * case ids and deep-copied save/load, link_find, scans, the outbox
 * (put/get/next/remove/stat), transactions (rollback restores cases,
 * outbox entries, system state, the next id, the journal and dead
 * letters) and the simulated crash (cc_store_memory_crash / _restart).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "store/store.h"

#define OPS(st) ((st)->ops)
#define SELF(st) ((st)->self)

static int setup(void **state)
{
	static struct cc_store st;
	if (cc_store_memory_open(&st))
		return -1;
	*state = &st;
	return 0;
}

static int teardown(void **state)
{
	struct cc_store *st = *state;
	OPS(st)->destroy(SELF(st));
	return 0;
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

static void test_ops_table(void **state)
{
	struct cc_store *st = *state;
	assert_int_equal(OPS(st)->version, CC_STORE_OPS_VERSION);
	assert_string_equal(OPS(st)->name, "memory");
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
		make_case(&c, id, "x", NULL);
		save(st, &c);
		cc_case_clear(&c);
	}
	struct visit v = { .n = 0 };
	assert_int_equal(OPS(st)->case_scan_recent(SELF(st), 3000, visit_fn, &v), CC_EOK);
	assert_int_equal(v.n, 3);
	assert_int_equal(v.ids[0], 5);
	assert_int_equal(v.ids[1], 4);
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

static void test_outbox(void **state)
{
	struct cc_store *st = *state;
	struct cc_outbox_entry e;
	size_t n = 99;
	int64_t earliest = 0;

	assert_int_equal(OPS(st)->outbox_stat(SELF(st), 0, &n, &earliest), CC_EOK);
	assert_int_equal(n, 0);
	assert_true(earliest == INT64_MAX);
	assert_int_equal(OPS(st)->outbox_next(SELF(st), 0, INT64_MAX, &e), CC_ENOTFOUND);

	put(st, entry(7, 0, 500));
	put(st, entry(3, 0, 200));
	put(st, entry(5, 0, 200));
	put(st, entry(1, 1, 100)); /* another system */

	assert_int_equal(OPS(st)->outbox_get(SELF(st), 3, 0, &e), CC_EOK);
	assert_int_equal(e.due_ms, 200);
	assert_int_equal(e.first_ms, 190);
	assert_int_equal(OPS(st)->outbox_get(SELF(st), 3, 1, &e), CC_ENOTFOUND);

	/* earliest due first, ties by case id, only what is due */
	assert_int_equal(OPS(st)->outbox_next(SELF(st), 0, 199, &e), CC_ENOTFOUND);
	assert_int_equal(OPS(st)->outbox_next(SELF(st), 0, 200, &e), CC_EOK);
	assert_int_equal(e.case_id, 3);
	assert_int_equal(e.system, 0);
	assert_int_equal(OPS(st)->outbox_next(SELF(st), 0, 10000, &e), CC_EOK);
	assert_int_equal(e.case_id, 3);
	assert_int_equal(OPS(st)->outbox_next(SELF(st), 1, 10000, &e), CC_EOK);
	assert_int_equal(e.case_id, 1);

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
	assert_int_equal(OPS(st)->outbox_next(SELF(st), 0, 10000, &e), CC_EOK);
	assert_int_equal(e.case_id, 5);

	/* remove */
	assert_int_equal(OPS(st)->outbox_remove(SELF(st), 5, 0), CC_EOK);
	assert_int_equal(OPS(st)->outbox_get(SELF(st), 5, 0, &e), CC_ENOTFOUND);
	assert_int_equal(OPS(st)->outbox_remove(SELF(st), 5, 0), CC_EOK); /* idempotent */
	assert_int_equal(OPS(st)->outbox_next(SELF(st), 0, 10000, &e), CC_EOK);
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
		assert_int_equal(OPS(st)->outbox_next(SELF(st), 2, 100000, &e), CC_EOK);
		assert_int_equal(e.case_id, want);
		assert_int_equal(OPS(st)->outbox_remove(SELF(st), e.case_id, 2), CC_EOK);
	}
	assert_int_equal(OPS(st)->outbox_next(SELF(st), 2, 100000, &e), CC_ENOTFOUND);
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

static void test_crash_rolls_back_and_refuses(void **state)
{
	struct cc_store *st = *state;
	struct cc_case c;
	uint64_t id;
	struct cc_outbox_entry e;

	make_case(&c, 1, "committed", "INC001");
	assert_int_equal(OPS(st)->case_new(SELF(st), &id), CC_EOK);
	save(st, &c);
	cc_case_clear(&c);

	assert_int_equal(OPS(st)->begin(SELF(st)), CC_EOK);
	make_case(&c, 1, "uncommitted", "INC001");
	save(st, &c);
	put(st, entry(1, 0, 10));
	cc_store_memory_crash(st);

	/* the open transaction is gone */
	load_title(st, 1, "committed");
	assert_int_equal(OPS(st)->outbox_get(SELF(st), 1, 0, &e), CC_ENOTFOUND);
	/* and nothing can be written until restart */
	assert_int_equal(OPS(st)->commit(SELF(st)), CC_ESTORE);
	assert_int_equal(OPS(st)->begin(SELF(st)), CC_ESTORE);
	assert_int_equal(OPS(st)->case_save(SELF(st), &c), CC_ESTORE);
	assert_int_equal(OPS(st)->case_new(SELF(st), &id), CC_ESTORE);
	struct cc_outbox_entry x = entry(1, 0, 10);
	assert_int_equal(OPS(st)->outbox_put(SELF(st), &x), CC_ESTORE);
	assert_int_equal(OPS(st)->outbox_remove(SELF(st), 1, 0), CC_ESTORE);
	uint64_t seq;
	assert_int_equal(OPS(st)->journal_append(SELF(st), 0, "INC001", 1, 1, &seq), CC_ESTORE);
	struct cc_system_state ss = { .has_cursor = true };
	assert_int_equal(OPS(st)->system_state_save(SELF(st), 0, &ss), CC_ESTORE);
	load_title(st, 1, "committed");

	cc_store_memory_restart(st);
	assert_int_equal(OPS(st)->begin(SELF(st)), CC_EOK);
	save(st, &c);
	assert_int_equal(OPS(st)->case_new(SELF(st), &id), CC_EOK);
	assert_int_equal(id, 2);
	assert_int_equal(OPS(st)->commit(SELF(st)), CC_EOK);
	load_title(st, 1, "uncommitted");
	cc_case_clear(&c);
}

static void test_crash_outside_transaction(void **state)
{
	struct cc_store *st = *state;
	struct cc_case c;
	make_case(&c, 1, "kept", NULL);
	save(st, &c); /* autocommit */
	cc_case_clear(&c);
	cc_store_memory_crash(st);
	load_title(st, 1, "kept");
	assert_int_equal(OPS(st)->begin(SELF(st)), CC_ESTORE);
	cc_store_memory_restart(st);
	assert_int_equal(OPS(st)->begin(SELF(st)), CC_EOK);
	assert_int_equal(OPS(st)->commit(SELF(st)), CC_EOK);
	load_title(st, 1, "kept");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ops_table),
		T(test_case_new_ids),
		T(test_case_save_load_deep_copy),
		T(test_case_load_missing),
		T(test_link_find),
		T(test_scans),
		T(test_outbox),
		T(test_outbox_many),
		T(test_transaction_commit),
		T(test_transaction_rollback),
		T(test_dead_letters),
		T(test_crash_rolls_back_and_refuses),
		T(test_crash_outside_transaction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
