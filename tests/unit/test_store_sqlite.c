/*
 * Unit tests of what only the SQLite store has (src/store/store_sqlite.c):
 * opening by URL, durability across reopen, the schema version (a newer
 * file is refused in words, an empty file is migrated, a foreign database
 * is not touched), and failures told plainly: disk full (a page cap) with
 * nothing committed, a lock held by another connection, a corrupt file, a
 * case that does not decode, an unwritable path. Then online backup and
 * the raw insert measurement. A second connection through the sqlite3 API
 * stands for "another process" here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_sqlite.h"

#define OPS(st) ((st)->ops)
#define SELF(st) ((st)->self)

struct fx {
	char dir[64];
	char path[128];
	char err[512];
};

static void rm_db(const char *path)
{
	char p[300];
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/concord-sqlite-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[100];
	rm_db(f->path);
	snprintf(p, sizeof(p), "%s/copy.db", f->dir);
	rm_db(p);
	snprintf(p, sizeof(p), "%s/bench.db", f->dir);
	rm_db(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void open_ok(struct fx *f, struct cc_store *st, const struct cc_sqlite_options *opt)
{
	int rc = cc_store_sqlite_open(st, f->path, opt, f->err, sizeof(f->err));
	if (rc)
		fprintf(stderr, "%s\n", f->err);
	assert_int_equal(rc, CC_EOK);
}

static void close_store(struct cc_store *st)
{
	OPS(st)->destroy(SELF(st));
}

static void save_case(struct cc_store *st, uint64_t id, const char *title, const char *remote)
{
	struct cc_case c;
	assert_int_equal(cc_case_init(&c), CC_EOK);
	c.id = id;
	c.created_ms = 1000 + (int64_t)id;
	assert_int_equal(cc_case_set_value(&c, 0, title), CC_EOK);
	if (remote) {
		c.link[0].status = CC_LINK_LINKED;
		assert_int_equal(cc_str_set(&c.link[0].remote_id, remote), CC_EOK);
	}
	assert_int_equal(OPS(st)->case_save(SELF(st), &c), CC_EOK);
	cc_case_clear(&c);
}

static void assert_title(struct cc_store *st, uint64_t id, const char *want)
{
	struct cc_case c;
	assert_int_equal(OPS(st)->case_load(SELF(st), id, &c), CC_EOK);
	assert_string_equal(c.f[0].value, want);
	cc_case_clear(&c);
}

/* Runs SQL on the file through a connection of its own ("another process"). */
static void other_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fprintf(stderr, "%s: %s\n", sql, msg);
	sqlite3_free(msg);
	assert_int_equal(rc, SQLITE_OK);
	sqlite3_close(db);
}

static void test_open_by_url(void **state)
{
	struct fx *f = *state;
	struct cc_store st;
	char url[200];
	assert_int_equal(cc_store_open(&st, "memory", f->err, sizeof(f->err)), CC_EOK);
	assert_string_equal(OPS(&st)->name, "memory");
	close_store(&st);
	assert_int_equal(cc_store_open(&st, "memory:", f->err, sizeof(f->err)), CC_EOK);
	close_store(&st);
	snprintf(url, sizeof(url), "sqlite:%s", f->path);
	assert_int_equal(cc_store_open(&st, url, f->err, sizeof(f->err)), CC_EOK);
	assert_string_equal(OPS(&st)->name, "sqlite");
	close_store(&st);
	assert_int_equal(cc_store_open(&st, "postgres://x", f->err, sizeof(f->err)), CC_EINVAL);
	assert_non_null(strstr(f->err, "memory"));
	assert_non_null(strstr(f->err, "sqlite:PATH"));
	assert_int_equal(cc_store_open(&st, "sqlite:", f->err, sizeof(f->err)), CC_EINVAL);
	/* only a backend that takes no path may be named by its scheme alone */
	assert_int_equal(cc_store_open(&st, "sqlite", f->err, sizeof(f->err)), CC_EINVAL);
	assert_non_null(strstr(f->err, "SCHEME:"));
}

/* The table's rows say what the simulator and the tests may do with a backend. */
static void test_backend_rows_and_wipe(void **state)
{
	struct fx *f = *state;
	struct cc_store st;
	struct cc_store_url u;
	char url[200];
	const struct cc_store_backend *b = cc_store_backend_of("memory", &u, f->err, sizeof(f->err));
	assert_non_null(b);
	assert_false(b->durable);
	assert_false(b->takes_path);
	assert_int_equal(cc_store_wipe("memory", f->err, sizeof(f->err)), CC_EINVAL);
	assert_null(cc_store_backend_of("postgres:secret@x", NULL, f->err, sizeof(f->err)));
	assert_null(strstr(f->err, "secret"));
	snprintf(url, sizeof(url), "sqlite:%s", f->path);
	b = cc_store_backend_of(url, &u, f->err, sizeof(f->err));
	assert_non_null(b);
	assert_true(b->durable && b->takes_path);
	assert_string_equal(u.rest, f->path);
	/* a wiped store opens empty; wiping what is not there is no error */
	uint64_t id;
	assert_int_equal(cc_store_open(&st, url, f->err, sizeof(f->err)), CC_EOK);
	assert_int_equal(OPS(&st)->begin(SELF(&st)), CC_EOK);
	assert_int_equal(OPS(&st)->case_new(SELF(&st), &id), CC_EOK);
	save_case(&st, id, "gone after the wipe", "R-1");
	assert_int_equal(OPS(&st)->commit(SELF(&st)), CC_EOK);
	close_store(&st);
	assert_int_equal(access(f->path, F_OK), 0);
	assert_int_equal(cc_store_wipe(url, f->err, sizeof(f->err)), CC_EOK);
	assert_int_not_equal(access(f->path, F_OK), 0);
	assert_int_equal(cc_store_wipe(url, f->err, sizeof(f->err)), CC_EOK);
	assert_int_equal(cc_store_open(&st, url, f->err, sizeof(f->err)), CC_EOK);
	struct cc_case c;
	cc_case_init(&c);
	assert_int_equal(OPS(&st)->case_load(SELF(&st), id, &c), CC_ENOTFOUND);
	cc_case_clear(&c);
	close_store(&st);
}

static void test_reopen_durability(void **state)
{
	struct fx *f = *state;
	struct cc_store st;
	uint64_t id, seq;
	open_ok(f, &st, NULL);
	assert_int_equal(OPS(&st)->begin(SELF(&st)), CC_EOK);
	assert_int_equal(OPS(&st)->case_new(SELF(&st), &id), CC_EOK);
	save_case(&st, id, "kept", "R-1");
	assert_int_equal(OPS(&st)->journal_append(SELF(&st), 0, "R-1", 5, 9, &seq), CC_EOK);
	assert_int_equal(OPS(&st)->commit(SELF(&st)), CC_EOK);
	/* an open transaction at close is lost, not half-kept */
	assert_int_equal(OPS(&st)->begin(SELF(&st)), CC_EOK);
	save_case(&st, id, "uncommitted", "R-1");
	assert_int_equal(OPS(&st)->case_new(SELF(&st), &id), CC_EOK);
	close_store(&st);

	struct cc_sqlite_options opt = { .synchronous_full = true, .cache_mb = 8 };
	open_ok(f, &st, &opt);
	assert_title(&st, 1, "kept");
	uint64_t found;
	assert_int_equal(OPS(&st)->link_find(SELF(&st), 0, "R-1", &found), CC_EOK);
	assert_int_equal(found, 1);
	assert_int_equal(OPS(&st)->case_new(SELF(&st), &id), CC_EOK);
	assert_int_equal(id, 2);
	assert_int_equal(OPS(&st)->journal_append(SELF(&st), 0, "R-1", 6, 10, &seq), CC_EOK);
	assert_int_equal(seq, 2);
	close_store(&st);
}

static void test_schema_newer_refused(void **state)
{
	struct fx *f = *state;
	struct cc_store st;
	open_ok(f, &st, NULL);
	close_store(&st);
	other_exec(f->path, "UPDATE meta SET value = 99 WHERE key = 'schema_version'");
	assert_int_equal(cc_store_sqlite_open(&st, f->path, NULL, f->err, sizeof(f->err)),
	                 CC_ESTORE);
	char want[160];
	snprintf(want, sizeof(want),
	         "store schema version 99 is newer than this concord supports (%d): upgrade concord",
	         cc_store_sqlite_schema_version());
	assert_non_null(strstr(f->err, want));
	int from = -1, to = -1;
	assert_int_equal(cc_store_sqlite_migrate(f->path, &from, &to, f->err, sizeof(f->err)),
	                 CC_ESTORE);
	assert_non_null(strstr(f->err, want));
	/* the file was left alone */
	{
		char sql[96];
		snprintf(sql, sizeof(sql), "UPDATE meta SET value = %d WHERE key = 'schema_version'",
		         cc_store_sqlite_schema_version());
		other_exec(f->path, sql);
	}
	open_ok(f, &st, NULL);
	close_store(&st);
}

static void test_migrate_from_empty_file(void **state)
{
	struct fx *f = *state;
	int from = -1, to = -1;
	/* no file at all: migrate does not create one */
	assert_int_equal(cc_store_sqlite_migrate(f->path, &from, &to, f->err, sizeof(f->err)),
	                 CC_ESTORE);
	assert_non_null(strstr(f->err, f->path));
	/* an empty file is version 0 */
	FILE *fp = fopen(f->path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(cc_store_sqlite_migrate(f->path, &from, &to, f->err, sizeof(f->err)),
	                 CC_EOK);
	assert_int_equal(from, 0);
	assert_int_equal(to, cc_store_sqlite_schema_version());
	assert_int_equal(cc_store_sqlite_migrate(f->path, &from, &to, f->err, sizeof(f->err)),
	                 CC_EOK);
	assert_int_equal(from, to);
	struct cc_store st;
	open_ok(f, &st, NULL);
	save_case(&st, 1, "after migration", NULL);
	assert_title(&st, 1, "after migration");
	close_store(&st);
}

static void expect_entry(struct cc_store *st, uint64_t id, int sys, int64_t due, int64_t first,
                         uint32_t attempts)
{
	struct cc_outbox_entry e;
	assert_int_equal(OPS(st)->outbox_get(SELF(st), id, sys, &e), CC_EOK);
	assert_int_equal(e.case_id, id);
	assert_int_equal(e.system, sys);
	assert_int_equal(e.due_ms, due);
	assert_int_equal(e.first_ms, first);
	assert_int_equal(e.attempts, attempts);
}

/*
 * A version 1 file (outbox as a table of its own, keyed by case and
 * system) migrates to version 2: entries of cases with a row move into
 * the row, those of case ids without a row into outkey, all of them into
 * the due-ordered queue; a later first save of such a case takes its
 * entries along.
 */
static void test_migrate_v1_outbox(void **state)
{
	struct fx *f = *state;
	struct cc_store st;
	open_ok(f, &st, NULL);
	save_case(&st, 1, "one", "INC1");
	save_case(&st, 2, "two", NULL);
	close_store(&st);
	/* the file as version 1 left it */
	other_exec(f->path,
	           "DROP TABLE outq; DROP TABLE outkey;"
	           "ALTER TABLE cases DROP COLUMN ob; ALTER TABLE cases DROP COLUMN pad;"
	           "CREATE TABLE outbox(case_id INTEGER NOT NULL, system INTEGER NOT NULL,"
	           "  due_ms INTEGER NOT NULL, first_ms INTEGER NOT NULL,"
	           "  attempts INTEGER NOT NULL, PRIMARY KEY(case_id, system)) WITHOUT ROWID;"
	           "CREATE INDEX outbox_due ON outbox(system, due_ms, case_id);"
	           "INSERT INTO outbox VALUES(1, 0, 500, 490, 0), (1, 2, 300, 100, 3),"
	           "  (2, 0, 200, 190, 1), (9, 0, 400, 390, 0), (9, 1, 50, 40, 0);"
	           "UPDATE meta SET value = 1 WHERE key = 'schema_version';");
	int from = -1, to = -1;
	assert_int_equal(cc_store_sqlite_migrate(f->path, &from, &to, f->err, sizeof(f->err)),
	                 CC_EOK);
	assert_int_equal(from, 1);
	assert_int_equal(to, cc_store_sqlite_schema_version());
	open_ok(f, &st, NULL);
	assert_title(&st, 1, "one");
	expect_entry(&st, 1, 0, 500, 490, 0);
	expect_entry(&st, 1, 2, 300, 100, 3);
	expect_entry(&st, 2, 0, 200, 190, 1);
	expect_entry(&st, 9, 0, 400, 390, 0);
	expect_entry(&st, 9, 1, 50, 40, 0);
	struct cc_outbox_entry e;
	assert_int_equal(OPS(&st)->outbox_get(SELF(&st), 2, 1, &e), CC_ENOTFOUND);
	size_t n = 0;
	int64_t earliest = 0;
	assert_int_equal(OPS(&st)->outbox_stat(SELF(&st), 0, &n, &earliest), CC_EOK);
	assert_int_equal(n, 3);
	assert_int_equal(earliest, 200);
	assert_int_equal(OPS(&st)->outbox_due(SELF(&st), 0, 1000, &e, 1, &n), CC_EOK);
	assert_int_equal(n, 1);
	assert_int_equal(e.case_id, 2);
	assert_int_equal(e.attempts, 1);
	/* case 9 gets its row: its entries move in with it */
	save_case(&st, 9, "nine", NULL);
	expect_entry(&st, 9, 0, 400, 390, 0);
	expect_entry(&st, 9, 1, 50, 40, 0);
	/* a save keeps the entries, a put moves one in the queue */
	save_case(&st, 9, "nine again", NULL);
	struct cc_outbox_entry r = { .case_id = 9, .system = 0, .due_ms = 100, .first_ms = 390,
		                     .attempts = 2 };
	assert_int_equal(OPS(&st)->outbox_put(SELF(&st), &r), CC_EOK);
	assert_int_equal(OPS(&st)->outbox_due(SELF(&st), 0, 1000, &e, 1, &n), CC_EOK);
	assert_int_equal(n, 1);
	assert_int_equal(e.case_id, 9);
	assert_int_equal(e.due_ms, 100);
	assert_int_equal(OPS(&st)->outbox_remove(SELF(&st), 9, 0), CC_EOK);
	assert_int_equal(OPS(&st)->outbox_get(SELF(&st), 9, 0, &e), CC_ENOTFOUND);
	expect_entry(&st, 9, 1, 50, 40, 0);
	assert_int_equal(OPS(&st)->outbox_stat(SELF(&st), 0, &n, &earliest), CC_EOK);
	assert_int_equal(n, 2);
	assert_int_equal(earliest, 200);
	assert_title(&st, 9, "nine again");
	close_store(&st);
	/* and all of it after a reopen */
	open_ok(f, &st, NULL);
	expect_entry(&st, 1, 2, 300, 100, 3);
	expect_entry(&st, 9, 1, 50, 40, 0);
	assert_int_equal(OPS(&st)->outbox_stat(SELF(&st), 1, &n, &earliest), CC_EOK);
	assert_int_equal(n, 1);
	assert_int_equal(earliest, 50);
	close_store(&st);
}

/* 1 when meta holds `key`, else 0. */
static int meta_has(const char *path, const char *key)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM meta WHERE key = ?", -1, &q,
	                                    NULL), SQLITE_OK);
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	int n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

/*
 * Version 3 only marks that a case may carry the parked side's version of
 * a manual conflict (an older decoder refuses it, so an older concord must
 * refuse the file first): a version 2 file migrates with its cases as they
 * were, and a parked version survives the file.
 */
static void test_migrate_v2_parked_version(void **state)
{
	struct fx *f = *state;
	struct cc_store st;
	open_ok(f, &st, NULL);
	save_case(&st, 1, "one", "INC1");
	close_store(&st);
	other_exec(f->path, "DELETE FROM meta WHERE key = 'codec_parked_version';"
	                    "UPDATE meta SET value = 2 WHERE key = 'schema_version';");
	int from = -1, to = -1;
	assert_int_equal(cc_store_sqlite_migrate(f->path, &from, &to, f->err, sizeof(f->err)),
	                 CC_EOK);
	assert_int_equal(from, 2);
	assert_int_equal(to, 3);
	assert_int_equal(cc_store_sqlite_schema_version(), 3);
	assert_int_equal(meta_has(f->path, "codec_parked_version"), 1);
	open_ok(f, &st, NULL);
	assert_title(&st, 1, "one");

	struct cc_case c, back;
	assert_int_equal(OPS(&st)->begin(SELF(&st)), CC_EOK);
	assert_int_equal(OPS(&st)->case_load(SELF(&st), 1, &c), CC_EOK);
	c.f[1].parked = true;
	c.f[1].parked_system = 1;
	c.f[1].parked_ver = (struct cc_version){ 123456, 2, 9 };
	assert_int_equal(cc_str_set(&c.f[1].parked_value, "theirs"), CC_EOK);
	assert_int_equal(OPS(&st)->case_save(SELF(&st), &c), CC_EOK);
	assert_int_equal(OPS(&st)->commit(SELF(&st)), CC_EOK);
	cc_case_clear(&c);
	close_store(&st);
	open_ok(f, &st, NULL);
	assert_int_equal(OPS(&st)->case_load(SELF(&st), 1, &back), CC_EOK);
	assert_true(back.f[1].parked);
	assert_string_equal(back.f[1].parked_value, "theirs");
	assert_true(back.f[1].parked_ver.t_ms == 123456);
	assert_int_equal(back.f[1].parked_ver.rank, 2);
	assert_true(back.f[1].parked_ver.rv == 9);
	cc_case_clear(&back);
	close_store(&st);
}

static void test_foreign_database_untouched(void **state)
{
	struct fx *f = *state;
	struct cc_store st;
	other_exec(f->path, "CREATE TABLE invoices(id INTEGER PRIMARY KEY)");
	assert_int_equal(cc_store_sqlite_open(&st, f->path, NULL, f->err, sizeof(f->err)),
	                 CC_ESTORE);
	assert_non_null(strstr(f->err, "not a concord store"));
}

static void test_disk_full(void **state)
{
	struct fx *f = *state;
	struct cc_store st;
	struct cc_sqlite_options opt = { .max_pages = 48 };
	open_ok(f, &st, &opt);
	save_case(&st, 1, "committed before", "R-1");

	char *big = malloc(20000);
	memset(big, 'x', 19999);
	big[19999] = '\0';
	assert_int_equal(OPS(&st)->begin(SELF(&st)), CC_EOK);
	int rc = CC_EOK;
	uint64_t id;
	for (id = 2; id < 100 && rc == CC_EOK; id++) {
		struct cc_case c;
		assert_int_equal(cc_case_init(&c), CC_EOK);
		c.id = id;
		assert_int_equal(cc_case_set_value(&c, 0, big), CC_EOK);
		rc = OPS(&st)->case_save(SELF(&st), &c);
		cc_case_clear(&c);
	}
	if (rc == CC_EOK)
		rc = OPS(&st)->commit(SELF(&st));
	assert_int_equal(rc, CC_ESTORE);
	assert_non_null(strstr(OPS(&st)->last_error(SELF(&st)), "disk full"));
	OPS(&st)->rollback(SELF(&st));
	/* nothing of the failed transaction is there; the store goes on */
	struct cc_case c;
	assert_int_equal(OPS(&st)->case_load(SELF(&st), 2, &c), CC_ENOTFOUND);
	assert_title(&st, 1, "committed before");
	save_case(&st, 3, "small", NULL);
	close_store(&st);
	free(big);

	open_ok(f, &st, NULL);
	assert_int_equal(OPS(&st)->case_load(SELF(&st), 2, &c), CC_ENOTFOUND);
	assert_title(&st, 1, "committed before");
	assert_title(&st, 3, "small");
	close_store(&st);
}

static void test_locked(void **state)
{
	struct fx *f = *state;
	struct cc_store st;
	struct cc_sqlite_options opt = { .busy_timeout_ms = 100 };
	open_ok(f, &st, &opt);
	save_case(&st, 1, "before", NULL);

	sqlite3 *other;
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);

	assert_int_equal(OPS(&st)->begin(SELF(&st)), CC_ESTORE);
	assert_non_null(strstr(OPS(&st)->last_error(SELF(&st)), "locked"));
	struct cc_case c;
	assert_int_equal(cc_case_init(&c), CC_EOK);
	c.id = 2;
	assert_int_equal(OPS(&st)->case_save(SELF(&st), &c), CC_ESTORE);
	assert_non_null(strstr(OPS(&st)->last_error(SELF(&st)), "database is locked by another process"));
	/* reads go on while another process writes (WAL) */
	assert_title(&st, 1, "before");

	assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	assert_int_equal(OPS(&st)->begin(SELF(&st)), CC_EOK);
	assert_int_equal(OPS(&st)->case_save(SELF(&st), &c), CC_EOK);
	assert_int_equal(OPS(&st)->commit(SELF(&st)), CC_EOK);
	cc_case_clear(&c);
	close_store(&st);
}

static void test_corrupt_file(void **state)
{
	struct fx *f = *state;
	FILE *fp = fopen(f->path, "wb");
	assert_non_null(fp);
	for (int i = 0; i < 8192; i++)
		fputc((i * 37 + 11) & 0xff, fp);
	fclose(fp);
	struct cc_store st;
	assert_int_equal(cc_store_sqlite_open(&st, f->path, NULL, f->err, sizeof(f->err)),
	                 CC_ESTORE);
	assert_non_null(strstr(f->err, "corrupt"));
	assert_non_null(strstr(f->err, f->path));
}

static void test_corrupt_case(void **state)
{
	struct fx *f = *state;
	struct cc_store st;
	open_ok(f, &st, NULL);
	save_case(&st, 1, "fine", NULL);
	save_case(&st, 2, "fine too", NULL);
	other_exec(f->path, "UPDATE cases SET body = x'01ff' WHERE id = 2");
	struct cc_case c;
	assert_int_equal(OPS(&st)->case_load(SELF(&st), 2, &c), CC_ESTORE);
	assert_non_null(strstr(OPS(&st)->last_error(SELF(&st)), "corrupt"));
	assert_title(&st, 1, "fine");
	close_store(&st);
}

static void test_unwritable_path(void **state)
{
	struct fx *f = *state;
	struct cc_store st;
	char path[200];
	snprintf(path, sizeof(path), "%s/no/such/dir/store.db", f->dir);
	assert_int_equal(cc_store_sqlite_open(&st, path, NULL, f->err, sizeof(f->err)), CC_ESTORE);
	assert_non_null(strstr(f->err, path));
	assert_int_equal(cc_store_sqlite_open(&st, "", NULL, f->err, sizeof(f->err)), CC_EINVAL);
}

static void test_backup(void **state)
{
	struct fx *f = *state;
	struct cc_store st, copy;
	char dest[200], err[256];
	snprintf(dest, sizeof(dest), "%s/copy.db", f->dir);
	open_ok(f, &st, NULL);
	for (uint64_t id = 1; id <= 50; id++) {
		char t[32];
		snprintf(t, sizeof(t), "case %u", (unsigned)id);
		save_case(&st, id, t, id % 2 ? t : NULL);
	}
	assert_int_equal(OPS(&st)->begin(SELF(&st)), CC_EOK);
	assert_int_equal(cc_store_sqlite_backup(&st, dest, err, sizeof(err)), CC_EINVAL);
	save_case(&st, 51, "not committed", NULL);
	assert_int_equal(OPS(&st)->rollback(SELF(&st)), CC_EOK);
	assert_int_equal(cc_store_sqlite_backup(&st, f->path, err, sizeof(err)), CC_EINVAL);
	assert_int_equal(cc_store_sqlite_backup(&st, dest, err, sizeof(err)), CC_EOK);
	/* the store goes on after the backup */
	save_case(&st, 52, "after", NULL);

	assert_int_equal(cc_store_sqlite_open(&copy, dest, NULL, err, sizeof(err)), CC_EOK);
	struct cc_store_stats s;
	assert_int_equal(OPS(&copy)->stats(SELF(&copy), &s), CC_EOK);
	assert_int_equal(s.cases, 50);
	assert_title(&copy, 17, "case 17");
	uint64_t found;
	assert_int_equal(OPS(&copy)->link_find(SELF(&copy), 0, "case 17", &found), CC_EOK);
	assert_int_equal(found, 17);
	close_store(&copy);
	struct cc_store mem;
	assert_int_equal(cc_store_memory_open(&mem), CC_EOK);
	assert_int_equal(cc_store_sqlite_backup(&mem, dest, err, sizeof(err)), CC_EINVAL);
	close_store(&mem);
	close_store(&st);
}

static void test_raw_insert_rate(void **state)
{
	struct fx *f = *state;
	char path[200];
	snprintf(path, sizeof(path), "%s/bench.db", f->dir);
	double rate = 0;
	assert_int_equal(cc_sqlite_raw_insert_rate(path, NULL, 2000, 500, 100, &rate), CC_EOK);
	assert_true(rate > 0);
	assert_int_equal(cc_sqlite_raw_insert_rate(path, NULL, 0, 500, 100, &rate), CC_EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_by_url),
		T(test_backend_rows_and_wipe),
		T(test_reopen_durability),
		T(test_schema_newer_refused),
		T(test_migrate_from_empty_file),
		T(test_migrate_v1_outbox),
		T(test_migrate_v2_parked_version),
		T(test_foreign_database_untouched),
		T(test_disk_full),
		T(test_locked),
		T(test_corrupt_file),
		T(test_corrupt_case),
		T(test_unwritable_path),
		T(test_backup),
		T(test_raw_insert_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
