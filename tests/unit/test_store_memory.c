/*
 * Unit tests of what only the in-memory store has: the simulated crash
 * (cc_store_memory_crash / _restart). Everything a store must do is tested
 * on both backends by test_store_contract.c.
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


static struct cc_outbox_entry entry(uint64_t case_id, int system, int64_t due)
{
	return (struct cc_outbox_entry){ .case_id = case_id, .system = system, .due_ms = due,
	                                 .first_ms = due - 10, .attempts = 0 };
}

static void put(struct cc_store *st, struct cc_outbox_entry e)
{
	assert_int_equal(OPS(st)->outbox_put(SELF(st), &e), CC_EOK);
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
		T(test_crash_rolls_back_and_refuses),
		T(test_crash_outside_transaction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
