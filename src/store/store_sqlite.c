/*
 * The SQLite store backend: the durable store of one concord process.
 *
 * A case is one row holding its aggregate as one blob (case_codec.h);
 * what must be found without loading cases lives in small side tables
 * kept in step with the aggregate on every save: links (system, remote id)
 * for link_find and creating (system, case) for case_scan_creating. Those
 * two change rarely, so case_save touches them only when the links of a
 * case changed, which it knows from a small cache of the link signature
 * of cases recently loaded or saved. The outbox entries of a case live in
 * its row too (column ob), with a due-ordered queue table beside it, so
 * that scheduling a delivery writes the page the case save writes anyway.
 * A new case row reserves room to grow (column pad), so that its first
 * updates do not split its page. Everything else (journal, dead letters,
 * per-system state, audit) is one plain table each.
 *
 * Every statement is prepared once, at open, and kept for the store's
 * lifetime; the blob is encoded into one buffer reused across calls.
 * WAL journal, synchronous NORMAL (FULL on request), no mmap and a bounded
 * page cache, so memory does not grow with the number of cases.
 *
 * Transactions map to BEGIN IMMEDIATE / COMMIT / ROLLBACK. A failed
 * commit is rolled back, so nothing half-written remains. Errors become
 * CC_ESTORE (CC_ENOMEM for memory) with a message for last_error() that
 * says what happened in words: disk full, locked by another process,
 * corrupt file, unwritable path.
 *
 * One process writes a store at a time (the caches assume no other
 * writer); others may read it, e.g. to back it up.
 *
 * The schema carries a version in its meta table; migrations[] brings an
 * older file forward in one transaction, and a file newer than this build
 * is refused.
 */
#include "store/store_sqlite.h"

#include "store/case_codec.h"

#include <sqlite3.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define APPLICATION_ID 0x636f6e63 /* "conc": marks a concord store file */
#define DEFAULT_CACHE_MB 64
#define DEFAULT_BUSY_MS 5000

/* ---- schema and migrations ------------------------------------------- */

/*
 * migrations[i] takes a file from schema version i to i + 1. Version 0 is
 * an empty file. Append steps; never edit a released one.
 */
static const char *const migrations[] = {
	/* 0 -> 1: the first schema */
	"PRAGMA application_id = 1668247139;" /* APPLICATION_ID */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO meta(key, value) VALUES('last_case_id', 0);"
	"CREATE TABLE cases(id INTEGER PRIMARY KEY, created_ms INTEGER NOT NULL,"
	"  body BLOB NOT NULL);"
	"CREATE INDEX cases_created ON cases(created_ms);"
	"CREATE TABLE links(system INTEGER NOT NULL, remote_id TEXT NOT NULL,"
	"  case_id INTEGER NOT NULL, PRIMARY KEY(system, remote_id)) WITHOUT ROWID;"
	"CREATE INDEX links_case ON links(case_id);"
	"CREATE TABLE creating(system INTEGER NOT NULL, case_id INTEGER NOT NULL,"
	"  PRIMARY KEY(system, case_id)) WITHOUT ROWID;"
	"CREATE INDEX creating_case ON creating(case_id);"
	"CREATE TABLE journal(seq INTEGER PRIMARY KEY, system INTEGER NOT NULL,"
	"  remote_id TEXT, rv INTEGER NOT NULL, at_ms INTEGER NOT NULL);"
	"CREATE TABLE outbox(case_id INTEGER NOT NULL, system INTEGER NOT NULL,"
	"  due_ms INTEGER NOT NULL, first_ms INTEGER NOT NULL, attempts INTEGER NOT NULL,"
	"  PRIMARY KEY(case_id, system)) WITHOUT ROWID;"
	"CREATE INDEX outbox_due ON outbox(system, due_ms, case_id);"
	"CREATE TABLE dead_letters(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  case_id INTEGER NOT NULL, system INTEGER NOT NULL, at_ms INTEGER NOT NULL,"
	"  reason TEXT NOT NULL);"
	"CREATE TABLE system_state(system INTEGER PRIMARY KEY,"
	"  cursor_mtime_s INTEGER NOT NULL, has_cursor INTEGER NOT NULL,"
	"  last_poll_start_ms INTEGER NOT NULL, offset_lo_ms INTEGER NOT NULL,"
	"  offset_hi_ms INTEGER NOT NULL, offset_samples INTEGER NOT NULL,"
	"  offset_resets INTEGER NOT NULL);"
	"CREATE TABLE audit(seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL,"
	"  case_id INTEGER NOT NULL, system INTEGER NOT NULL, field INTEGER NOT NULL,"
	"  decision TEXT NOT NULL, value TEXT, remote_id TEXT, ver_t INTEGER NOT NULL,"
	"  ver_rank INTEGER NOT NULL, ver_rv INTEGER NOT NULL, score INTEGER NOT NULL,"
	"  detail TEXT, system_name TEXT, field_name TEXT);"
	"CREATE INDEX audit_case ON audit(case_id, seq);",
	/* 1 -> 2: the outbox entries of a case live in its row (column ob), so
	 * that scheduling a delivery writes the page the case save writes
	 * anyway; outq holds them in due order (appends: due is about now);
	 * outkey holds the entries of case ids that have no row (yet): the
	 * first case_save of such a case moves them into its row. */
	"ALTER TABLE cases ADD COLUMN ob TEXT;"
	"ALTER TABLE cases ADD COLUMN pad BLOB;"
	"CREATE TABLE outq(system INTEGER NOT NULL, due_ms INTEGER NOT NULL,"
	"  case_id INTEGER NOT NULL, first_ms INTEGER NOT NULL, attempts INTEGER NOT NULL,"
	"  PRIMARY KEY(system, due_ms, case_id)) WITHOUT ROWID;"
	"CREATE TABLE outkey(case_id INTEGER NOT NULL, system INTEGER NOT NULL,"
	"  due_ms INTEGER NOT NULL, first_ms INTEGER NOT NULL, attempts INTEGER NOT NULL,"
	"  PRIMARY KEY(case_id, system)) WITHOUT ROWID;"
	"INSERT INTO outq(system, due_ms, case_id, first_ms, attempts)"
	"  SELECT system, due_ms, case_id, first_ms, attempts FROM outbox;"
	"INSERT INTO outkey(case_id, system, due_ms, first_ms, attempts)"
	"  SELECT case_id, system, due_ms, first_ms, attempts FROM outbox"
	"  WHERE case_id NOT IN (SELECT id FROM cases);"
	"UPDATE cases SET ob = (SELECT group_concat(printf('%d %d %d %d;', system, due_ms,"
	"  first_ms, attempts), '') FROM outbox WHERE outbox.case_id = cases.id)"
	"  WHERE id IN (SELECT case_id FROM outbox);"
	"DROP TABLE outbox;",
	/* 2 -> 3: a case body may carry the parked side's version of a manual
	 * conflict (codec field flag 0x80), which an older concord's decoder
	 * refuses: the version says so before it meets one. No table changes. */
	"INSERT OR REPLACE INTO meta(key, value) VALUES('codec_parked_version', 1);",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

int cc_store_sqlite_schema_version(void)
{
	return SCHEMA_VERSION;
}

/* ---- prepared statements --------------------------------------------- */

enum stmt {
	Q_BEGIN, Q_COMMIT, Q_ROLLBACK,
	Q_META_GET, Q_META_SET,
	Q_CASE_LOAD, Q_CASE_UPDATE, Q_CASE_SAVE,
	Q_LINK_FIND, Q_LINK_PUT, Q_LINK_DEL, Q_LINKS_DEL_CASE,
	Q_CREATING_PUT, Q_CREATING_DEL, Q_CREATING_DEL_CASE,
	Q_SCAN_RECENT, Q_SCAN_BODY, Q_SCAN_CREATING, Q_SCAN_ALL,
	Q_JOURNAL,
	Q_OB_ROW, Q_OB_ROW_SET, Q_OK_CASE, Q_OK_PUT, Q_OK_DEL, Q_OK_DEL_CASE, Q_OQ_PUT, Q_OQ_DEL,
	Q_OB_NEXT, Q_OB_COUNT, Q_OB_MIN,
	Q_DEAD_PUT, Q_DEAD_COUNT, Q_DEAD_SCAN, Q_DEAD_DEL,
	Q_STATE_LOAD, Q_STATE_SAVE,
	Q_AUDIT, Q_AUDIT_SCAN_CASE, Q_AUDIT_SCAN_ALL,
	Q_COUNT_CASES, Q_MAX_JOURNAL, Q_MAX_AUDIT, Q_COUNT_OUTBOX,
	Q__COUNT
};

static const char *const stmt_sql[Q__COUNT] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[Q_META_SET] = "INSERT INTO meta(key, value) VALUES(?1, ?2)"
	               " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[Q_CASE_LOAD] = "SELECT body FROM cases WHERE id = ?1",
	/* the common save: the body only, so the created_ms index is not touched */
	[Q_CASE_UPDATE] = "UPDATE cases SET body = ?3, pad = NULL WHERE id = ?1 AND created_ms = ?2",
	[Q_CASE_SAVE] = "INSERT INTO cases(id, created_ms, body, pad)"
	                " VALUES(?1, ?2, ?3, zeroblob(?4))"
	                " ON CONFLICT(id) DO UPDATE SET created_ms = excluded.created_ms,"
	                " body = excluded.body, pad = excluded.pad",
	[Q_LINK_FIND] = "SELECT case_id FROM links WHERE system = ?1 AND remote_id = ?2",
	[Q_LINK_PUT] = "INSERT INTO links(system, remote_id, case_id) VALUES(?1, ?2, ?3)"
	               " ON CONFLICT(system, remote_id) DO UPDATE SET case_id = excluded.case_id",
	[Q_LINK_DEL] = "DELETE FROM links WHERE system = ?1 AND remote_id = ?2 AND case_id = ?3",
	[Q_LINKS_DEL_CASE] = "DELETE FROM links WHERE case_id = ?1",
	[Q_CREATING_PUT] = "INSERT OR IGNORE INTO creating(system, case_id) VALUES(?1, ?2)",
	[Q_CREATING_DEL] = "DELETE FROM creating WHERE system = ?1 AND case_id = ?2",
	[Q_CREATING_DEL_CASE] = "DELETE FROM creating WHERE case_id = ?1",
	/* ids through the created_ms index (the planner would rather scan the
	 * whole table by id), sorted in memory, then each body by id */
	[Q_SCAN_RECENT] = "SELECT id FROM cases INDEXED BY cases_created WHERE created_ms >= ?1"
	                  " AND NOT EXISTS (SELECT 1 FROM links l WHERE l.case_id = cases.id"
	                  " AND l.system = ?2) ORDER BY id DESC",
	[Q_SCAN_BODY] = "SELECT body FROM cases WHERE id = ?1",
	[Q_SCAN_CREATING] = "SELECT c.body FROM creating k JOIN cases c ON c.id = k.case_id"
	                    " WHERE k.system = ?1 ORDER BY k.case_id",
	[Q_SCAN_ALL] = "SELECT body FROM cases ORDER BY id",
	[Q_JOURNAL] = "INSERT INTO journal(system, remote_id, rv, at_ms) VALUES(?1, ?2, ?3, ?4)",
	[Q_OB_ROW] = "SELECT ob FROM cases WHERE id = ?1",
	[Q_OB_ROW_SET] = "UPDATE cases SET ob = ?2 WHERE id = ?1",
	[Q_OK_CASE] = "SELECT system, due_ms, first_ms, attempts FROM outkey WHERE case_id = ?1",
	[Q_OK_PUT] = "INSERT OR REPLACE INTO outkey(case_id, system, due_ms, first_ms, attempts)"
	             " VALUES(?1, ?2, ?3, ?4, ?5)",
	[Q_OK_DEL] = "DELETE FROM outkey WHERE case_id = ?1 AND system = ?2",
	[Q_OK_DEL_CASE] = "DELETE FROM outkey WHERE case_id = ?1",
	[Q_OQ_PUT] = "INSERT OR REPLACE INTO outq(system, due_ms, case_id, first_ms, attempts)"
	             " VALUES(?1, ?2, ?3, ?4, ?5)",
	[Q_OQ_DEL] = "DELETE FROM outq WHERE system = ?1 AND due_ms = ?2 AND case_id = ?3",
	[Q_OB_NEXT] = "SELECT case_id, due_ms, first_ms, attempts FROM outq"
	              " WHERE system = ?1 AND due_ms <= ?2 ORDER BY due_ms, case_id LIMIT ?3",
	[Q_OB_COUNT] = "SELECT count(*) FROM outq WHERE system = ?1",
	[Q_OB_MIN] = "SELECT min(due_ms) FROM outq WHERE system = ?1",
	[Q_DEAD_PUT] = "INSERT INTO dead_letters(case_id, system, at_ms, reason)"
	               " VALUES(?1, ?2, ?3, ?4)",
	[Q_DEAD_COUNT] = "SELECT count(*) FROM dead_letters",
	[Q_DEAD_SCAN] = "SELECT id, case_id, system, at_ms, reason FROM dead_letters ORDER BY id",
	[Q_DEAD_DEL] = "DELETE FROM dead_letters WHERE id = ?1",
	[Q_STATE_LOAD] = "SELECT cursor_mtime_s, has_cursor, last_poll_start_ms, offset_lo_ms,"
	                 " offset_hi_ms, offset_samples, offset_resets FROM system_state"
	                 " WHERE system = ?1",
	[Q_STATE_SAVE] = "INSERT OR REPLACE INTO system_state(system, cursor_mtime_s, has_cursor,"
	                 " last_poll_start_ms, offset_lo_ms, offset_hi_ms, offset_samples,"
	                 " offset_resets) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[Q_AUDIT] = "INSERT INTO audit(at_ms, case_id, system, field, decision, value, remote_id,"
	            " ver_t, ver_rank, ver_rv, score, detail, system_name, field_name)"
	            " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[Q_AUDIT_SCAN_CASE] = "SELECT seq, at_ms, case_id, system, field, decision, value,"
	                      " remote_id, ver_t, ver_rank, ver_rv, score, detail, system_name,"
	                      " field_name FROM audit WHERE case_id = ?1 ORDER BY seq",
	[Q_AUDIT_SCAN_ALL] = "SELECT seq, at_ms, case_id, system, field, decision, value,"
	                     " remote_id, ver_t, ver_rank, ver_rv, score, detail, system_name,"
	                     " field_name FROM audit ORDER BY seq",
	[Q_COUNT_CASES] = "SELECT count(*) FROM cases",
	[Q_MAX_JOURNAL] = "SELECT coalesce(max(seq), 0) FROM journal",
	[Q_MAX_AUDIT] = "SELECT coalesce(max(seq), 0) FROM audit",
	[Q_COUNT_OUTBOX] = "SELECT count(*) FROM outq",
};

/* ---- the store --------------------------------------------------------- */

/*
 * The link signature of a case: for each system whose link shows in the
 * side tables, its index, 'C' (waiting for a create) or 'L' (linked or
 * parked) and then the remote id with its NUL. Exactly what links and
 * creating hold for the case, so equal signatures mean nothing to touch.
 */
#define SIG_SLOTS 1024
#define SIG_BYTES 200

struct sig_slot {
	uint64_t id;   /* 0: empty */
	uint64_t gen;  /* valid only while equal to the store's generation */
	uint16_t len;
	uint8_t sig[SIG_BYTES];
};

struct sq {
	sqlite3 *db;
	char *path;
	char err[512];
	bool in_tx;
	sqlite3_stmt *q[Q__COUNT];
	bool scanning[Q__COUNT];
	struct cc_buf buf;          /* encoded case, reused */
	/* Caches of what the file holds, dropped by every rollback. */
	uint64_t gen;
	struct sig_slot *sig;       /* SIG_SLOTS entries */
	bool last_id_known;
	uint64_t last_case_id;
	bool ob_known[CC_MAX_SYSTEMS];
	size_t ob_count[CC_MAX_SYSTEMS];
};

static const struct cc_store_ops sqlite_ops;

static void drop_caches(struct sq *s)
{
	s->gen++;
	s->last_id_known = false;
	memset(s->ob_known, 0, sizeof(s->ob_known));
}

/*
 * Records a failure of SQLite result code `rc` during `what` as the last
 * error, in words, and returns the cc_error for it. Must be called before
 * anything else touches the connection, so that sqlite3_errmsg() is the
 * failure's own message.
 */
static int sq_fail(struct sq *s, int rc, const char *what)
{
	const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
	const char *path = s->path ? s->path : "?";
	switch (rc & 0xff) {
	case SQLITE_FULL:
		snprintf(s->err, sizeof(s->err), "disk full: %s: %s (%s)", what, msg, path);
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		snprintf(s->err, sizeof(s->err),
		         "database is locked by another process: %s: %s (%s)", what, msg, path);
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		snprintf(s->err, sizeof(s->err), "database file is corrupt: %s: %s (%s)", path, msg,
		         what);
		break;
	case SQLITE_CANTOPEN:
		snprintf(s->err, sizeof(s->err), "cannot open database file %s: %s", path, msg);
		break;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		snprintf(s->err, sizeof(s->err), "cannot write database file %s: %s (%s)", path, msg,
		         what);
		break;
	case SQLITE_IOERR:
		snprintf(s->err, sizeof(s->err), "I/O error on %s: %s: %s", path, what, msg);
		break;
	case SQLITE_NOMEM:
		snprintf(s->err, sizeof(s->err), "out of memory: %s", what);
		break;
	default:
		snprintf(s->err, sizeof(s->err), "%s: %s (%s)", what, msg, path);
		break;
	}
	/* SQLite may have rolled the whole transaction back (full, I/O, busy) */
	if (s->in_tx && s->db && sqlite3_get_autocommit(s->db))
		drop_caches(s);
	return (rc & 0xff) == SQLITE_NOMEM ? CC_ENOMEM : CC_ESTORE;
}

static int sq_failf(struct sq *s, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int sq_failf(struct sq *s, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return err;
}

/* Steps a statement that returns no row, and resets it. */
static int run(struct sq *s, enum stmt k, const char *what)
{
	sqlite3_stmt *q = s->q[k];
	int rc = sqlite3_step(q);
	int out = rc == SQLITE_DONE ? CC_EOK : sq_fail(s, rc, what);
	sqlite3_reset(q);
	return out;
}

/*
 * Steps a statement that returns at most one row. Returns CC_EOK with the
 * row current (the caller reads it, then resets), CC_ENOTFOUND (reset
 * done), or an error (reset done).
 */
static int row(struct sq *s, enum stmt k, const char *what)
{
	sqlite3_stmt *q = s->q[k];
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		return CC_EOK;
	int out = rc == SQLITE_DONE ? CC_ENOTFOUND : sq_fail(s, rc, what);
	sqlite3_reset(q);
	return out;
}

/* A single integer from a one-row query without parameters. */
static int scalar(struct sq *s, enum stmt k, const char *what, int64_t *out)
{
	int rc = row(s, k, what);
	if (rc == CC_EOK) {
		*out = sqlite3_column_int64(s->q[k], 0);
		sqlite3_reset(s->q[k]);
	}
	return rc;
}

/* Before a write: the transaction the caller opened must still be there. */
static int writable(struct sq *s)
{
	if (s->in_tx && sqlite3_get_autocommit(s->db)) {
		drop_caches(s);
		return sq_failf(s, CC_ESTORE, "the transaction was rolled back after an earlier "
		                "error (%s): roll back and start again", s->path);
	}
	return CC_EOK;
}

static int bind_text(sqlite3_stmt *q, int i, const char *v)
{
	return v ? sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(q, i);
}

/* ---- transactions ------------------------------------------------------ */

static int sq_begin(void *self)
{
	struct sq *s = self;
	if (s->in_tx)
		return sq_failf(s, CC_EINVAL, "begin: a transaction is already open");
	int rc = run(s, Q_BEGIN, "begin");
	if (rc == CC_EOK)
		s->in_tx = true;
	return rc;
}

static int sq_rollback(void *self)
{
	struct sq *s = self;
	int rc = CC_EOK;
	if (!sqlite3_get_autocommit(s->db))
		rc = run(s, Q_ROLLBACK, "rollback");
	s->in_tx = false;
	drop_caches(s);
	return rc;
}

static int sq_commit(void *self)
{
	struct sq *s = self;
	if (!s->in_tx)
		return CC_EOK;
	int rc = writable(s);
	if (rc) {
		s->in_tx = false;
		return rc;
	}
	rc = run(s, Q_COMMIT, "commit");
	if (rc) {
		/* nothing half-written may remain: the error message stays */
		if (!sqlite3_get_autocommit(s->db)) {
			sqlite3_reset(s->q[Q_ROLLBACK]);
			sqlite3_step(s->q[Q_ROLLBACK]);
			sqlite3_reset(s->q[Q_ROLLBACK]);
		}
		drop_caches(s);
	}
	s->in_tx = false;
	return rc;
}

/* Runs a multi-statement write atomically when the caller has no transaction. */
static int implicit_begin(struct sq *s, bool *mine)
{
	*mine = false;
	if (s->in_tx)
		return CC_EOK;
	int rc = sq_begin(s);
	*mine = rc == CC_EOK;
	return rc;
}

static int implicit_end(struct sq *s, bool mine, int rc)
{
	if (!mine)
		return rc;
	if (rc == CC_EOK)
		return sq_commit(s);
	char keep[sizeof(s->err)];
	memcpy(keep, s->err, sizeof(keep));
	sq_rollback(s);
	memcpy(s->err, keep, sizeof(keep));
	return rc;
}

/* ---- cases --------------------------------------------------------------- */

static int sq_case_new(void *self, uint64_t *out_id)
{
	struct sq *s = self;
	int rc = writable(s);
	if (rc)
		return rc;
	if (!s->last_id_known) {
		sqlite3_bind_text(s->q[Q_META_GET], 1, "last_case_id", -1, SQLITE_STATIC);
		int64_t v = 0;
		rc = scalar(s, Q_META_GET, "case_new", &v);
		if (rc == CC_ENOTFOUND)
			rc = sq_failf(s, CC_ESTORE, "case_new: meta has no last_case_id (%s)", s->path);
		if (rc)
			return rc;
		s->last_case_id = (uint64_t)v;
		s->last_id_known = true;
	}
	uint64_t id = s->last_case_id + 1;
	sqlite3_stmt *q = s->q[Q_META_SET];
	sqlite3_bind_text(q, 1, "last_case_id", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)id);
	rc = run(s, Q_META_SET, "case_new");
	if (rc) {
		s->last_id_known = false;
		return rc;
	}
	s->last_case_id = id;
	*out_id = id;
	return CC_EOK;
}

/* Builds the link signature of c; returns its length, or -1 if too long. */
static int link_signature(const struct cc_case *c, uint8_t *sig)
{
	size_t n = 0;
	for (int sys = 0; sys < CC_MAX_SYSTEMS; sys++) {
		const struct cc_link *l = &c->link[sys];
		if (l->status == CC_LINK_CREATE) {
			if (n + 2 > SIG_BYTES)
				return CC_EINVAL;
			sig[n++] = (uint8_t)sys;
			sig[n++] = 'C';
		} else if ((l->status == CC_LINK_LINKED || l->status == CC_LINK_PARKED) &&
		           l->remote_id) {
			size_t len = strlen(l->remote_id) + 1;
			if (n + 2 + len > SIG_BYTES)
				return CC_EINVAL;
			sig[n++] = (uint8_t)sys;
			sig[n++] = 'L';
			memcpy(sig + n, l->remote_id, len);
			n += len;
		}
	}
	return (int)n;
}

/* Parses a signature into per-system kind (0, 'C', 'L') and remote id. */
static void sig_parse(const uint8_t *sig, size_t len, char kind[CC_MAX_SYSTEMS],
                      const char *rid[CC_MAX_SYSTEMS])
{
	memset(kind, 0, CC_MAX_SYSTEMS);
	for (int i = 0; i < CC_MAX_SYSTEMS; i++)
		rid[i] = NULL;
	size_t p = 0;
	while (p + 2 <= len) {
		int sys = sig[p];
		kind[sys] = (char)sig[p + 1];
		p += 2;
		if (kind[sys] == 'L') {
			rid[sys] = (const char *)sig + p;
			p += strlen(rid[sys]) + 1;
		}
	}
}

static struct sig_slot *sig_slot(struct sq *s, uint64_t id)
{
	return &s->sig[id % SIG_SLOTS];
}

static void sig_remember(struct sq *s, uint64_t id, const uint8_t *sig, int len)
{
	struct sig_slot *e = sig_slot(s, id);
	if (len < 0) {
		if (e->id == id)
			e->id = 0;
		return;
	}
	e->id = id;
	e->gen = s->gen;
	e->len = (uint16_t)len;
	memcpy(e->sig, sig, (size_t)len);
}

static int link_put(struct sq *s, int sys, const char *rid, uint64_t id)
{
	sqlite3_stmt *q = s->q[Q_LINK_PUT];
	sqlite3_bind_int(q, 1, sys);
	sqlite3_bind_text(q, 2, rid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, (int64_t)id);
	return run(s, Q_LINK_PUT, "case_save (links)");
}

static int creating_put(struct sq *s, enum stmt k, int sys, uint64_t id)
{
	sqlite3_bind_int(s->q[k], 1, sys);
	sqlite3_bind_int64(s->q[k], 2, (int64_t)id);
	return run(s, k, "case_save (creating)");
}

/*
 * Brings links and creating in step with the new signature. With the old
 * signature known, only what differs is written; otherwise every row of
 * the case is replaced.
 */
static int sync_side_tables(struct sq *s, uint64_t id, const uint8_t *oldsig, int oldlen,
                            const uint8_t *newsig, int newlen, const struct cc_case *c)
{
	char nk[CC_MAX_SYSTEMS], ok[CC_MAX_SYSTEMS];
	const char *nr[CC_MAX_SYSTEMS], *or_[CC_MAX_SYSTEMS];
	int rc = CC_EOK;
	if (newlen >= 0) {
		sig_parse(newsig, (size_t)newlen, nk, nr);
	} else { /* too long to cache: read the links off the case */
		for (int sys = 0; sys < CC_MAX_SYSTEMS; sys++) {
			const struct cc_link *l = &c->link[sys];
			nk[sys] = 0;
			nr[sys] = NULL;
			if (l->status == CC_LINK_CREATE) {
				nk[sys] = 'C';
			} else if ((l->status == CC_LINK_LINKED || l->status == CC_LINK_PARKED) &&
			           l->remote_id) {
				nk[sys] = 'L';
				nr[sys] = l->remote_id;
			}
		}
	}
	if (oldlen < 0) {
		sqlite3_bind_int64(s->q[Q_LINKS_DEL_CASE], 1, (int64_t)id);
		rc = run(s, Q_LINKS_DEL_CASE, "case_save (links)");
		if (rc == CC_EOK) {
			sqlite3_bind_int64(s->q[Q_CREATING_DEL_CASE], 1, (int64_t)id);
			rc = run(s, Q_CREATING_DEL_CASE, "case_save (creating)");
		}
		memset(ok, 0, sizeof(ok));
		for (int i = 0; i < CC_MAX_SYSTEMS; i++)
			or_[i] = NULL;
	} else {
		sig_parse(oldsig, (size_t)oldlen, ok, or_);
	}
	for (int sys = 0; sys < CC_MAX_SYSTEMS && rc == CC_EOK; sys++) {
		bool same_link = ok[sys] == 'L' && nk[sys] == 'L' && strcmp(or_[sys], nr[sys]) == 0;
		if (ok[sys] == 'L' && !same_link) {
			sqlite3_stmt *q = s->q[Q_LINK_DEL];
			sqlite3_bind_int(q, 1, sys);
			sqlite3_bind_text(q, 2, or_[sys], -1, SQLITE_STATIC);
			sqlite3_bind_int64(q, 3, (int64_t)id);
			rc = run(s, Q_LINK_DEL, "case_save (links)");
		}
		if (rc == CC_EOK && nk[sys] == 'L' && !same_link)
			rc = link_put(s, sys, nr[sys], id);
		if (rc == CC_EOK && ok[sys] == 'C' && nk[sys] != 'C')
			rc = creating_put(s, Q_CREATING_DEL, sys, id);
		if (rc == CC_EOK && nk[sys] == 'C' && ok[sys] != 'C')
			rc = creating_put(s, Q_CREATING_PUT, sys, id);
	}
	return rc;
}

static int ob_adopt(struct sq *s, uint64_t case_id);

/*
 * The room a new case row reserves to grow into (the pad column, zeros):
 * as much again as its body, at least 256 bytes and at most 1 KiB. A case
 * grows after its creation (links in the other systems, their shadows,
 * its outbox entries), and rows inserted in id order pack their pages
 * full, so without the room nearly every first update of a case would
 * split its page: three or four pages written instead of one. The next
 * save drops the pad (pad NULL), which leaves the room in the page for
 * its neighbours.
 */
static int row_slack(size_t body_len)
{
	return body_len < 256 ? 256 : body_len > 1024 ? 1024 : (int)body_len;
}

static int sq_case_save(void *self, const struct cc_case *c)
{
	struct sq *s = self;
	if (c->id == 0 || c->id > INT64_MAX)
		return sq_failf(s, CC_EINVAL, "case_save: invalid case id %" PRIu64, c->id);
	int rc = writable(s);
	if (rc)
		return rc;
	rc = cc_case_encode(&s->buf, c);
	if (rc)
		return sq_failf(s, rc, "case_save: out of memory encoding case %" PRIu64, c->id);

	uint8_t newsig[SIG_BYTES];
	int newlen = link_signature(c, newsig);
	struct sig_slot *e = sig_slot(s, c->id);
	uint8_t oldsig[SIG_BYTES];
	int oldlen = -1;
	if (e->id == c->id && e->gen == s->gen) {
		oldlen = e->len;
		memcpy(oldsig, e->sig, e->len);
	}
	bool unchanged = oldlen >= 0 && newlen == oldlen && memcmp(oldsig, newsig, (size_t)newlen) == 0;

	bool mine;
	rc = implicit_begin(s, &mine);
	if (rc)
		return rc;
	e->id = 0; /* unknown until this save is through */
	enum stmt k = Q_CASE_UPDATE;
	for (;;) {
		sqlite3_stmt *q = s->q[k];
		sqlite3_bind_int64(q, 1, (int64_t)c->id);
		sqlite3_bind_int64(q, 2, c->created_ms);
		sqlite3_bind_blob(q, 3, s->buf.data, (int)s->buf.len, SQLITE_STATIC);
		if (k == Q_CASE_SAVE)
			sqlite3_bind_int(q, 4, row_slack(s->buf.len));
		rc = run(s, k, "case_save");
		if (rc || k == Q_CASE_SAVE || sqlite3_changes(s->db) > 0)
			break;
		k = Q_CASE_SAVE; /* a new case, or its creation time changed */
	}
	if (rc == CC_EOK && k == Q_CASE_SAVE)
		rc = ob_adopt(s, c->id); /* outbox entries put before its first save */
	if (rc == CC_EOK && !unchanged)
		rc = sync_side_tables(s, c->id, oldsig, oldlen, newsig, newlen, c);
	rc = implicit_end(s, mine, rc);
	if (rc == CC_EOK)
		sig_remember(s, c->id, newsig, newlen);
	return rc;
}

/* Decodes the blob in column 0 of a current row into *out. */
static int decode_row(struct sq *s, sqlite3_stmt *q, struct cc_case *out, const char *what)
{
	const void *body = sqlite3_column_blob(q, 0);
	int len = sqlite3_column_bytes(q, 0);
	int rc = cc_case_decode(out, body, (size_t)len);
	if (rc == CC_EINVAL)
		return sq_failf(s, CC_ESTORE, "database file is corrupt: %s: a case does not decode (%s)",
		                s->path, what);
	if (rc)
		return sq_failf(s, rc, "%s: out of memory", what);
	return CC_EOK;
}

static int sq_case_load(void *self, uint64_t id, struct cc_case *out)
{
	struct sq *s = self;
	if (id == 0 || id > INT64_MAX)
		return CC_ENOTFOUND;
	sqlite3_stmt *q = s->q[Q_CASE_LOAD];
	sqlite3_bind_int64(q, 1, (int64_t)id);
	int rc = row(s, Q_CASE_LOAD, "case_load");
	if (rc)
		return rc;
	rc = decode_row(s, q, out, "case_load");
	sqlite3_reset(q);
	if (rc)
		return rc;
	if (out->id != id) {
		cc_case_clear(out);
		return sq_failf(s, CC_ESTORE, "database file is corrupt: %s: row %" PRIu64
		                " holds case %" PRIu64, s->path, id, out->id);
	}
	uint8_t sig[SIG_BYTES];
	sig_remember(s, id, sig, link_signature(out, sig));
	return CC_EOK;
}

static int sq_link_find(void *self, int system, const char *remote_id, uint64_t *out_id)
{
	struct sq *s = self;
	if (!remote_id)
		return CC_ENOTFOUND;
	sqlite3_stmt *q = s->q[Q_LINK_FIND];
	sqlite3_bind_int(q, 1, system);
	sqlite3_bind_text(q, 2, remote_id, -1, SQLITE_STATIC);
	int rc = row(s, Q_LINK_FIND, "link_find");
	if (rc)
		return rc;
	*out_id = (uint64_t)sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return CC_EOK;
}

/* Visits the case blobs a bound statement yields. */
static int scan_cases(struct sq *s, enum stmt k, cc_case_visit_fn fn, void *arg,
                      const char *what)
{
	sqlite3_stmt *q = s->q[k];
	int rc = CC_EOK;
	s->scanning[k] = true;
	for (;;) {
		int r = sqlite3_step(q);
		if (r == SQLITE_DONE)
			break;
		if (r != SQLITE_ROW) {
			rc = sq_fail(s, r, what);
			break;
		}
		struct cc_case c;
		rc = decode_row(s, q, &c, what);
		if (rc)
			break;
		int stop = fn(arg, &c);
		cc_case_clear(&c);
		if (stop)
			break;
	}
	sqlite3_reset(q);
	s->scanning[k] = false;
	return rc;
}

static int scan_busy(struct sq *s, enum stmt k, const char *what)
{
	if (!s->scanning[k])
		return CC_EOK;
	return sq_failf(s, CC_EINVAL, "%s: called from its own callback", what);
}

static int sq_case_scan_recent(void *self, int64_t since_ms, int unlinked_in,
                               cc_case_visit_fn fn, void *arg)
{
	struct sq *s = self;
	int rc = scan_busy(s, Q_SCAN_RECENT, "case_scan_recent");
	if (rc)
		return rc;
	sqlite3_stmt *q = s->q[Q_SCAN_RECENT], *body = s->q[Q_SCAN_BODY];
	sqlite3_bind_int64(q, 1, since_ms);
	sqlite3_bind_int(q, 2, unlinked_in); /* -1: no system has it */
	s->scanning[Q_SCAN_RECENT] = true;
	for (;;) {
		int r = sqlite3_step(q);
		if (r == SQLITE_DONE)
			break;
		if (r != SQLITE_ROW) {
			rc = sq_fail(s, r, "case_scan_recent");
			break;
		}
		sqlite3_bind_int64(body, 1, sqlite3_column_int64(q, 0));
		rc = row(s, Q_SCAN_BODY, "case_scan_recent");
		if (rc == CC_ENOTFOUND) { /* the callback changed the table: go on */
			rc = CC_EOK;
			continue;
		}
		if (rc)
			break;
		struct cc_case c;
		rc = decode_row(s, body, &c, "case_scan_recent");
		sqlite3_reset(body);
		if (rc)
			break;
		int stop = fn(arg, &c);
		cc_case_clear(&c);
		if (stop)
			break;
	}
	sqlite3_reset(q);
	s->scanning[Q_SCAN_RECENT] = false;
	return rc;
}

static int sq_case_scan_creating(void *self, int system, cc_case_visit_fn fn, void *arg)
{
	struct sq *s = self;
	int rc = scan_busy(s, Q_SCAN_CREATING, "case_scan_creating");
	if (rc)
		return rc;
	sqlite3_bind_int(s->q[Q_SCAN_CREATING], 1, system);
	return scan_cases(s, Q_SCAN_CREATING, fn, arg, "case_scan_creating");
}

static int sq_case_scan_all(void *self, cc_case_visit_fn fn, void *arg)
{
	struct sq *s = self;
	int rc = scan_busy(s, Q_SCAN_ALL, "case_scan_all");
	return rc ? rc : scan_cases(s, Q_SCAN_ALL, fn, arg, "case_scan_all");
}

/* ---- journal ------------------------------------------------------------- */

static int sq_journal_append(void *self, int system, const char *remote_id, uint64_t rv,
                             int64_t at_ms, uint64_t *out_seq)
{
	struct sq *s = self;
	int rc = writable(s);
	if (rc)
		return rc;
	sqlite3_stmt *q = s->q[Q_JOURNAL];
	sqlite3_bind_int(q, 1, system);
	bind_text(q, 2, remote_id);
	sqlite3_bind_int64(q, 3, (int64_t)rv);
	sqlite3_bind_int64(q, 4, at_ms);
	rc = run(s, Q_JOURNAL, "journal_append");
	if (rc == CC_EOK)
		*out_seq = (uint64_t)sqlite3_last_insert_rowid(s->db);
	return rc;
}

/* ---- outbox -------------------------------------------------------------- */

/*
 * The outbox entries of one case (at most one per system), as kept in the
 * case row's ob column: "SYSTEM DUE FIRST ATTEMPTS;" per entry, in text so
 * that the migration can build it in SQL. outq holds the same entries in
 * due order for outbox_due; outkey holds those of case ids without a row.
 */
struct ob_set {
	int n;
	struct cc_outbox_entry e[CC_MAX_SYSTEMS];
};

static bool system_ok(int system)
{
	return system >= 0 && system < CC_MAX_SYSTEMS;
}

static int ob_find(const struct ob_set *set, int system)
{
	for (int i = 0; i < set->n; i++)
		if (set->e[i].system == system)
			return i;
	return -1;
}

/* One decimal integer of the ob column, then the separator sep. */
static bool ob_num(const char **t, char sep, long long *out)
{
	const char *p = *t;
	bool neg = *p == '-';
	if (neg)
		p++;
	unsigned long long v = 0;
	const char *digits = p;
	while (*p >= '0' && *p <= '9' && p - digits < 19)
		v = v * 10 + (unsigned long long)(*p++ - '0');
	if (p == digits || *p != sep || v > (unsigned long long)INT64_MAX)
		return false;
	*out = neg ? -(long long)v : (long long)v;
	*t = p + 1;
	return true;
}

/* Parses the ob column; false if it is damaged. */
static bool ob_parse(const char *t, uint64_t case_id, struct ob_set *set)
{
	set->n = 0;
	while (t && *t) {
		long long sys, due, first, att;
		if (!ob_num(&t, ' ', &sys) || !ob_num(&t, ' ', &due) || !ob_num(&t, ' ', &first) ||
		    !ob_num(&t, ';', &att) || !system_ok((int)sys) || sys != (int)sys || att < 0 ||
		    att > UINT32_MAX || set->n == CC_MAX_SYSTEMS || ob_find(set, (int)sys) >= 0)
			return false;
		set->e[set->n++] = (struct cc_outbox_entry){ .case_id = case_id, .system = (int)sys,
			                                     .due_ms = due, .first_ms = first,
			                                     .attempts = (uint32_t)att };
	}
	return true;
}

static void ob_format(const struct ob_set *set, char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = '\0';
	for (int i = 0; i < set->n && at < len; i++) {
		const struct cc_outbox_entry *e = &set->e[i];
		int w = snprintf(buf + at, len - at, "%d %lld %lld %lld;", e->system,
		                 (long long)e->due_ms, (long long)e->first_ms, (long long)e->attempts);
		if (w < 0)
			break;
		at += (size_t)w;
	}
}

#define OB_TEXT_MAX (CC_MAX_SYSTEMS * 80)

/* Reads the outbox entries of outkey for case_id into set (replacing those
 * of the same system). */
static int ob_load_orphans(struct sq *s, uint64_t case_id, struct ob_set *set, bool *any)
{
	sqlite3_stmt *q = s->q[Q_OK_CASE];
	sqlite3_bind_int64(q, 1, (int64_t)case_id);
	*any = false;
	int rc, out = CC_EOK;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int sys = sqlite3_column_int(q, 0);
		if (!system_ok(sys))
			continue;
		int i = ob_find(set, sys);
		if (i < 0) {
			if (set->n == CC_MAX_SYSTEMS)
				continue;
			i = set->n++;
		}
		set->e[i] = (struct cc_outbox_entry){
			.case_id = case_id, .system = sys, .due_ms = sqlite3_column_int64(q, 1),
			.first_ms = sqlite3_column_int64(q, 2),
			.attempts = (uint32_t)sqlite3_column_int64(q, 3) };
		*any = true;
	}
	if (rc != SQLITE_DONE)
		out = sq_fail(s, rc, "outbox: reading entries of a case without a row");
	sqlite3_reset(q);
	return out;
}

/*
 * Reads the outbox entries of case_id: from its row (*in_row true), or
 * from outkey when the case has no row.
 */
static int ob_load(struct sq *s, uint64_t case_id, struct ob_set *set, bool *in_row)
{
	set->n = 0;
	*in_row = false;
	sqlite3_stmt *q = s->q[Q_OB_ROW];
	sqlite3_bind_int64(q, 1, (int64_t)case_id);
	int rc = row(s, Q_OB_ROW, "outbox");
	if (rc == CC_EOK) {
		*in_row = true;
		bool ok = ob_parse((const char *)sqlite3_column_text(q, 0), case_id, set);
		sqlite3_reset(q);
		if (!ok)
			return sq_failf(s, CC_ESTORE, "database file is corrupt: %s: the outbox entries"
			                " of case %" PRIu64 " do not parse", s->path, case_id);
		return CC_EOK;
	}
	if (rc != CC_ENOTFOUND)
		return rc;
	bool any;
	return ob_load_orphans(s, case_id, set, &any);
}

/* Writes the entries of set back to the case row. */
static int ob_store_row(struct sq *s, uint64_t case_id, const struct ob_set *set)
{
	char text[OB_TEXT_MAX];
	sqlite3_stmt *q = s->q[Q_OB_ROW_SET];
	sqlite3_bind_int64(q, 1, (int64_t)case_id);
	if (set->n) {
		ob_format(set, text, sizeof(text));
		sqlite3_bind_text(q, 2, text, -1, SQLITE_TRANSIENT);
	} else {
		sqlite3_bind_null(q, 2);
	}
	return run(s, Q_OB_ROW_SET, "outbox");
}

/* outkey: case ?1, system ?2, due ?3, first ?4, attempts ?5 */
static void bind_entry(sqlite3_stmt *q, const struct cc_outbox_entry *e)
{
	sqlite3_bind_int64(q, 1, (int64_t)e->case_id);
	sqlite3_bind_int(q, 2, e->system);
	sqlite3_bind_int64(q, 3, e->due_ms);
	sqlite3_bind_int64(q, 4, e->first_ms);
	sqlite3_bind_int64(q, 5, e->attempts);
}

static int oq_del(struct sq *s, const struct cc_outbox_entry *e)
{
	sqlite3_stmt *q = s->q[Q_OQ_DEL];
	sqlite3_bind_int(q, 1, e->system);
	sqlite3_bind_int64(q, 2, e->due_ms);
	sqlite3_bind_int64(q, 3, (int64_t)e->case_id);
	return run(s, Q_OQ_DEL, "outbox");
}

/*
 * A case row was just inserted: the entries outkey held for its id move
 * into the row.
 */
static int ob_adopt(struct sq *s, uint64_t case_id)
{
	struct ob_set set;
	bool in_row, any;
	int rc = ob_load(s, case_id, &set, &in_row);
	if (rc == CC_EOK)
		rc = ob_load_orphans(s, case_id, &set, &any);
	if (rc || !any)
		return rc;
	rc = ob_store_row(s, case_id, &set);
	if (rc == CC_EOK) {
		sqlite3_bind_int64(s->q[Q_OK_DEL_CASE], 1, (int64_t)case_id);
		rc = run(s, Q_OK_DEL_CASE, "outbox");
	}
	return rc;
}

static int sq_outbox_put(void *self, const struct cc_outbox_entry *e)
{
	struct sq *s = self;
	if (!system_ok(e->system))
		return sq_failf(s, CC_EINVAL, "outbox_put: no system %d", e->system);
	int rc = writable(s);
	if (rc)
		return rc;
	bool mine;
	rc = implicit_begin(s, &mine);
	if (rc)
		return rc;
	struct ob_set set;
	bool in_row;
	rc = ob_load(s, e->case_id, &set, &in_row);
	if (rc)
		return implicit_end(s, mine, rc);
	int i = ob_find(&set, e->system);
	bool fresh = i < 0;
	if (!fresh && set.e[i].due_ms != e->due_ms)
		rc = oq_del(s, &set.e[i]);
	if (rc == CC_EOK) {
		sqlite3_stmt *q = s->q[Q_OQ_PUT];
		sqlite3_bind_int(q, 1, e->system);
		sqlite3_bind_int64(q, 2, e->due_ms);
		sqlite3_bind_int64(q, 3, (int64_t)e->case_id);
		sqlite3_bind_int64(q, 4, e->first_ms);
		sqlite3_bind_int64(q, 5, e->attempts);
		rc = run(s, Q_OQ_PUT, "outbox_put");
	}
	if (rc == CC_EOK) {
		if (fresh)
			i = set.n++;
		set.e[i] = *e;
		if (in_row) {
			rc = ob_store_row(s, e->case_id, &set);
		} else {
			bind_entry(s->q[Q_OK_PUT], e);
			rc = run(s, Q_OK_PUT, "outbox_put");
		}
	}
	rc = implicit_end(s, mine, rc);
	if (rc == CC_EOK && fresh && s->ob_known[e->system])
		s->ob_count[e->system]++;
	return rc;
}

static int sq_outbox_get(void *self, uint64_t case_id, int system, struct cc_outbox_entry *out)
{
	struct sq *s = self;
	struct ob_set set;
	bool in_row;
	int rc = ob_load(s, case_id, &set, &in_row);
	if (rc)
		return rc;
	int i = ob_find(&set, system);
	if (i < 0)
		return CC_ENOTFOUND;
	*out = set.e[i];
	return CC_EOK;
}

static int sq_outbox_remove(void *self, uint64_t case_id, int system)
{
	struct sq *s = self;
	int rc = writable(s);
	if (rc)
		return rc;
	bool mine;
	rc = implicit_begin(s, &mine);
	if (rc)
		return rc;
	struct ob_set set;
	bool in_row;
	rc = ob_load(s, case_id, &set, &in_row);
	int i = rc ? -1 : ob_find(&set, system);
	if (i < 0)
		return implicit_end(s, mine, rc);
	rc = oq_del(s, &set.e[i]);
	if (rc == CC_EOK) {
		set.e[i] = set.e[--set.n];
		if (in_row) {
			rc = ob_store_row(s, case_id, &set);
		} else {
			sqlite3_stmt *q = s->q[Q_OK_DEL];
			sqlite3_bind_int64(q, 1, (int64_t)case_id);
			sqlite3_bind_int(q, 2, system);
			rc = run(s, Q_OK_DEL, "outbox_remove");
		}
	}
	rc = implicit_end(s, mine, rc);
	if (rc == CC_EOK && s->ob_known[system])
		s->ob_count[system]--;
	return rc;
}

static int sq_outbox_due(void *self, int system, int64_t now_ms, struct cc_outbox_entry *out,
                         size_t max, size_t *n)
{
	struct sq *s = self;
	sqlite3_stmt *q = s->q[Q_OB_NEXT];
	*n = 0;
	if (max == 0)
		return CC_EOK;
	sqlite3_bind_int(q, 1, system);
	sqlite3_bind_int64(q, 2, now_ms);
	sqlite3_bind_int64(q, 3, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	int rc = SQLITE_DONE;
	while (*n < max && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct cc_outbox_entry *e = &out[(*n)++];
		e->case_id = (uint64_t)sqlite3_column_int64(q, 0);
		e->system = system;
		e->due_ms = sqlite3_column_int64(q, 1);
		e->first_ms = sqlite3_column_int64(q, 2);
		e->attempts = (uint32_t)sqlite3_column_int64(q, 3);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*n = 0;
		int err = sq_fail(s, rc, "outbox_due");
		sqlite3_reset(q);
		return err;
	}
	sqlite3_reset(q);
	return CC_EOK;
}

static int sq_outbox_stat(void *self, int system, size_t *count, int64_t *earliest_ms)
{
	struct sq *s = self;
	if (!system_ok(system))
		return sq_failf(s, CC_EINVAL, "outbox_stat: no system %d", system);
	int rc;
	if (!s->ob_known[system]) {
		int64_t n = 0;
		sqlite3_bind_int(s->q[Q_OB_COUNT], 1, system);
		rc = scalar(s, Q_OB_COUNT, "outbox_stat", &n);
		if (rc)
			return rc;
		s->ob_count[system] = (size_t)n;
		s->ob_known[system] = true;
	}
	*count = s->ob_count[system];
	*earliest_ms = INT64_MAX;
	if (*count == 0)
		return CC_EOK;
	sqlite3_stmt *q = s->q[Q_OB_MIN];
	sqlite3_bind_int(q, 1, system);
	rc = row(s, Q_OB_MIN, "outbox_stat");
	if (rc)
		return rc;
	if (sqlite3_column_type(q, 0) != SQLITE_NULL)
		*earliest_ms = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return CC_EOK;
}

/* ---- dead letters -------------------------------------------------------- */

static int sq_dead_letter_put(void *self, const struct cc_dead_letter *d)
{
	struct sq *s = self;
	int rc = writable(s);
	if (rc)
		return rc;
	sqlite3_stmt *q = s->q[Q_DEAD_PUT];
	sqlite3_bind_int64(q, 1, (int64_t)d->case_id);
	sqlite3_bind_int(q, 2, d->system);
	sqlite3_bind_int64(q, 3, d->at_ms);
	sqlite3_bind_text(q, 4, d->reason, (int)strnlen(d->reason, sizeof(d->reason)),
	                  SQLITE_STATIC);
	return run(s, Q_DEAD_PUT, "dead_letter_put");
}

static int sq_dead_letter_count(void *self, size_t *count)
{
	struct sq *s = self;
	int64_t n = 0;
	int rc = scalar(s, Q_DEAD_COUNT, "dead_letter_count", &n);
	if (rc == CC_EOK)
		*count = (size_t)n;
	return rc;
}

static int sq_dead_letter_scan(void *self, cc_dead_letter_visit_fn fn, void *arg)
{
	struct sq *s = self;
	int rc = scan_busy(s, Q_DEAD_SCAN, "dead_letter_scan");
	if (rc)
		return rc;
	sqlite3_stmt *q = s->q[Q_DEAD_SCAN];
	s->scanning[Q_DEAD_SCAN] = true;
	for (;;) {
		int r = sqlite3_step(q);
		if (r == SQLITE_DONE)
			break;
		if (r != SQLITE_ROW) {
			rc = sq_fail(s, r, "dead_letter_scan");
			break;
		}
		struct cc_dead_letter d = {
			.id = (uint64_t)sqlite3_column_int64(q, 0),
			.case_id = (uint64_t)sqlite3_column_int64(q, 1),
			.system = sqlite3_column_int(q, 2),
			.at_ms = sqlite3_column_int64(q, 3),
		};
		const char *reason = (const char *)sqlite3_column_text(q, 4);
		snprintf(d.reason, sizeof(d.reason), "%s", reason ? reason : "");
		if (fn(arg, &d))
			break;
	}
	sqlite3_reset(q);
	s->scanning[Q_DEAD_SCAN] = false;
	return rc;
}

static int sq_dead_letter_remove(void *self, uint64_t id)
{
	struct sq *s = self;
	int rc = writable(s);
	if (rc)
		return rc;
	sqlite3_bind_int64(s->q[Q_DEAD_DEL], 1, (int64_t)id);
	rc = run(s, Q_DEAD_DEL, "dead_letter_remove");
	if (rc == CC_EOK && sqlite3_changes(s->db) == 0)
		return CC_ENOTFOUND;
	return rc;
}

/* ---- per-system state ---------------------------------------------------- */

static int sq_state_load(void *self, int system, struct cc_system_state *out)
{
	struct sq *s = self;
	sqlite3_stmt *q = s->q[Q_STATE_LOAD];
	memset(out, 0, sizeof(*out));
	cc_offset_init(&out->offset);
	sqlite3_bind_int(q, 1, system);
	int rc = row(s, Q_STATE_LOAD, "system_state_load");
	if (rc == CC_ENOTFOUND)
		return CC_EOK; /* never saved: a fresh state */
	if (rc)
		return rc;
	out->cursor_mtime_s = sqlite3_column_int64(q, 0);
	out->has_cursor = sqlite3_column_int(q, 1) != 0;
	out->last_poll_start_ms = sqlite3_column_int64(q, 2);
	out->offset.lo_ms = sqlite3_column_int64(q, 3);
	out->offset.hi_ms = sqlite3_column_int64(q, 4);
	out->offset.samples = (uint32_t)sqlite3_column_int64(q, 5);
	out->offset.resets = (uint32_t)sqlite3_column_int64(q, 6);
	sqlite3_reset(q);
	return CC_EOK;
}

static int sq_state_save(void *self, int system, const struct cc_system_state *st)
{
	struct sq *s = self;
	int rc = writable(s);
	if (rc)
		return rc;
	sqlite3_stmt *q = s->q[Q_STATE_SAVE];
	sqlite3_bind_int(q, 1, system);
	sqlite3_bind_int64(q, 2, st->cursor_mtime_s);
	sqlite3_bind_int(q, 3, st->has_cursor ? 1 : 0);
	sqlite3_bind_int64(q, 4, st->last_poll_start_ms);
	sqlite3_bind_int64(q, 5, st->offset.lo_ms);
	sqlite3_bind_int64(q, 6, st->offset.hi_ms);
	sqlite3_bind_int64(q, 7, st->offset.samples);
	sqlite3_bind_int64(q, 8, st->offset.resets);
	return run(s, Q_STATE_SAVE, "system_state_save");
}

/* ---- audit --------------------------------------------------------------- */

static int sq_audit_append(void *self, const struct cc_audit_entry *e)
{
	struct sq *s = self;
	if ((int)e->decision < 0 || e->decision >= CC_AUDIT__COUNT)
		return sq_failf(s, CC_EINVAL, "audit_append: no decision %d", (int)e->decision);
	int rc = writable(s);
	if (rc)
		return rc;
	sqlite3_stmt *q = s->q[Q_AUDIT];
	sqlite3_bind_int64(q, 1, e->at_ms);
	sqlite3_bind_int64(q, 2, (int64_t)e->case_id);
	sqlite3_bind_int(q, 3, e->system);
	sqlite3_bind_int(q, 4, e->field);
	/* the name, not the number: the enum may grow in the middle */
	sqlite3_bind_text(q, 5, cc_decision_name(e->decision), -1, SQLITE_STATIC);
	bind_text(q, 6, e->value);
	bind_text(q, 7, e->remote_id);
	sqlite3_bind_int64(q, 8, e->ver.t_ms);
	sqlite3_bind_int(q, 9, e->ver.rank);
	sqlite3_bind_int64(q, 10, (int64_t)e->ver.rv);
	sqlite3_bind_int(q, 11, e->score);
	bind_text(q, 12, e->detail);
	bind_text(q, 13, e->system_name);
	bind_text(q, 14, e->field_name);
	return run(s, Q_AUDIT, "audit_append");
}

static int decision_of(const char *name, enum cc_decision *out)
{
	for (int d = 0; d < CC_AUDIT__COUNT && name; d++)
		if (strcmp(cc_decision_name((enum cc_decision)d), name) == 0) {
			*out = (enum cc_decision)d;
			return CC_EOK;
		}
	return CC_EINVAL;
}

static int sq_audit_scan(void *self, uint64_t case_id, cc_audit_visit_fn fn, void *arg)
{
	struct sq *s = self;
	enum stmt k = case_id ? Q_AUDIT_SCAN_CASE : Q_AUDIT_SCAN_ALL;
	int rc = scan_busy(s, k, "audit_scan");
	if (rc)
		return rc;
	sqlite3_stmt *q = s->q[k];
	if (case_id)
		sqlite3_bind_int64(q, 1, (int64_t)case_id);
	s->scanning[k] = true;
	for (;;) {
		int r = sqlite3_step(q);
		if (r == SQLITE_DONE)
			break;
		if (r != SQLITE_ROW) {
			rc = sq_fail(s, r, "audit_scan");
			break;
		}
		uint64_t seq = (uint64_t)sqlite3_column_int64(q, 0);
		const char *dname = (const char *)sqlite3_column_text(q, 5);
		struct cc_audit_entry e = {
			.at_ms = sqlite3_column_int64(q, 1),
			.case_id = (uint64_t)sqlite3_column_int64(q, 2),
			.system = sqlite3_column_int(q, 3),
			.field = sqlite3_column_int(q, 4),
			.value = (const char *)sqlite3_column_text(q, 6),
			.remote_id = (const char *)sqlite3_column_text(q, 7),
			.ver = { sqlite3_column_int64(q, 8), sqlite3_column_int(q, 9),
			         (uint64_t)sqlite3_column_int64(q, 10) },
			.score = sqlite3_column_int(q, 11),
			.detail = (const char *)sqlite3_column_text(q, 12),
			.system_name = (const char *)sqlite3_column_text(q, 13),
			.field_name = (const char *)sqlite3_column_text(q, 14),
		};
		if (decision_of(dname, &e.decision)) {
			rc = sq_failf(s, CC_ESTORE, "audit_scan: entry %" PRIu64 " has a decision this "
			              "concord does not know (\"%s\"): upgrade concord", seq,
			              dname ? dname : "");
			break;
		}
		if (fn(arg, &e, seq))
			break;
	}
	sqlite3_reset(q);
	s->scanning[k] = false;
	return rc;
}

/* ---- life, errors, statistics ------------------------------------------ */

static const char *sq_last_error(void *self)
{
	return ((struct sq *)self)->err;
}

/* The instance id: made at the first call from /dev/urandom, then kept in meta. */
static int sq_instance(void *self, uint32_t *out)
{
	struct sq *s = self;
	int64_t v = 0;
	sqlite3_bind_text(s->q[Q_META_GET], 1, "instance", -1, SQLITE_STATIC);
	int rc = scalar(s, Q_META_GET, "instance", &v);
	if (rc == CC_EOK && v > 0 && v <= UINT32_MAX) {
		*out = (uint32_t)v;
		return CC_EOK;
	}
	if (rc && rc != CC_ENOTFOUND)
		return rc;
	uint32_t r = 0;
	FILE *f = fopen("/dev/urandom", "rb");
	if (f) {
		if (fread(&r, sizeof(r), 1, f) != 1)
			r = 0;
		fclose(f);
	}
	if (!r)
		r = (uint32_t)time(NULL) ^ 0x5bd1e995u;
	if (!r)
		r = 1;
	sqlite3_stmt *q = s->q[Q_META_SET];
	sqlite3_bind_text(q, 1, "instance", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)r);
	rc = run(s, Q_META_SET, "instance");
	if (rc)
		return rc;
	*out = r;
	return CC_EOK;
}

/* Flags live in meta under "flag:NAME". */
static int sq_flag_get(void *self, const char *name, int64_t *out)
{
	struct sq *s = self;
	char key[160];
	snprintf(key, sizeof(key), "flag:%s", name);
	sqlite3_bind_text(s->q[Q_META_GET], 1, key, -1, SQLITE_TRANSIENT);
	int rc = scalar(s, Q_META_GET, "flag_get", out);
	if (rc == CC_ENOTFOUND) {
		*out = 0;
		return CC_EOK;
	}
	return rc;
}

static int sq_flag_set(void *self, const char *name, int64_t value)
{
	struct sq *s = self;
	char key[160];
	snprintf(key, sizeof(key), "flag:%s", name);
	int rc = writable(s);
	if (rc)
		return rc;
	sqlite3_stmt *q = s->q[Q_META_SET];
	sqlite3_bind_text(q, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, value);
	return run(s, Q_META_SET, "flag_set");
}

/*
 * Notes live in meta too, under "note:NAME", bound as BLOBs: the column's
 * INTEGER affinity converts text that looks like a number, never a BLOB,
 * so a note reads back byte for byte without a schema change.
 */
static int sq_note_get(void *self, const char *name, char *buf, size_t len)
{
	struct sq *s = self;
	char key[160];
	snprintf(key, sizeof(key), "note:%s", name);
	if (len)
		buf[0] = '\0';
	sqlite3_stmt *q = s->q[Q_META_GET];
	sqlite3_bind_text(q, 1, key, -1, SQLITE_TRANSIENT);
	int rc = row(s, Q_META_GET, "note_get");
	if (rc == CC_ENOTFOUND)
		return CC_EOK;
	if (rc)
		return rc;
	const void *v = sqlite3_column_blob(q, 0);
	size_t n = (size_t)sqlite3_column_bytes(q, 0);
	if (len) {
		if (n >= len)
			n = len - 1;
		if (v && n)
			memcpy(buf, v, n);
		buf[n] = '\0';
	}
	sqlite3_reset(q);
	return CC_EOK;
}

static int sq_note_set(void *self, const char *name, const char *value)
{
	struct sq *s = self;
	char key[160];
	snprintf(key, sizeof(key), "note:%s", name);
	size_t n = strlen(value);
	if (n >= CC_NOTE_MAX)
		return sq_failf(s, CC_EINVAL, "note_set: note %s is too long", name);
	int rc = writable(s);
	if (rc)
		return rc;
	sqlite3_stmt *q = s->q[Q_META_SET];
	sqlite3_bind_text(q, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(q, 2, value, (int)n, SQLITE_TRANSIENT);
	return run(s, Q_META_SET, "note_set");
}

static int sq_stats(void *self, struct cc_store_stats *out)
{
	struct sq *s = self;
	int64_t cases = 0, journal = 0, audit = 0, outbox = 0, dead = 0;
	int rc = scalar(s, Q_COUNT_CASES, "stats", &cases);
	if (rc == CC_EOK)
		rc = scalar(s, Q_MAX_JOURNAL, "stats", &journal);
	if (rc == CC_EOK)
		rc = scalar(s, Q_MAX_AUDIT, "stats", &audit);
	if (rc == CC_EOK)
		rc = scalar(s, Q_COUNT_OUTBOX, "stats", &outbox);
	if (rc == CC_EOK)
		rc = scalar(s, Q_DEAD_COUNT, "stats", &dead);
	if (rc)
		return rc;
	out->rows_written = (uint64_t)sqlite3_total_changes64(s->db);
	out->cases = (uint64_t)cases;
	out->journal_rows = (uint64_t)journal;
	out->audit_rows = (uint64_t)audit;
	out->outbox_rows = (uint64_t)outbox;
	out->dead_letters = (uint64_t)dead;
	return CC_EOK;
}

static void sq_close(struct sq *s)
{
	if (!s)
		return;
	for (int i = 0; i < Q__COUNT; i++)
		sqlite3_finalize(s->q[i]);
	if (s->db) {
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(s->db);
	}
	cc_buf_free(&s->buf);
	free(s->sig);
	free(s->path);
	free(s);
}

static void sq_destroy(void *self)
{
	sq_close(self);
}

static const struct cc_store_ops sqlite_ops = {
	.version = CC_STORE_OPS_VERSION,
	.name = "sqlite",
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.case_new = sq_case_new,
	.case_load = sq_case_load,
	.case_save = sq_case_save,
	.link_find = sq_link_find,
	.case_scan_recent = sq_case_scan_recent,
	.case_scan_creating = sq_case_scan_creating,
	.case_scan_all = sq_case_scan_all,
	.journal_append = sq_journal_append,
	.outbox_put = sq_outbox_put,
	.outbox_get = sq_outbox_get,
	.outbox_remove = sq_outbox_remove,
	.outbox_due = sq_outbox_due,
	.outbox_stat = sq_outbox_stat,
	.dead_letter_put = sq_dead_letter_put,
	.dead_letter_count = sq_dead_letter_count,
	.dead_letter_scan = sq_dead_letter_scan,
	.dead_letter_remove = sq_dead_letter_remove,
	.system_state_load = sq_state_load,
	.system_state_save = sq_state_save,
	.audit_append = sq_audit_append,
	.audit_scan = sq_audit_scan,
	.last_error = sq_last_error,
	.stats = sq_stats,
	.instance = sq_instance,
	.flag_get = sq_flag_get,
	.flag_set = sq_flag_set,
	.note_get = sq_note_get,
	.note_set = sq_note_set,
	.destroy = sq_destroy,
};

/* ---- opening and migrating --------------------------------------------- */

static int sq_exec(struct sq *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? CC_EOK : sq_fail(s, rc, what);
}

/* The first column of the first row of sql, as an integer (*found false if no row). */
static int query_int(struct sq *s, const char *sql, const char *what, int64_t *out, bool *found)
{
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
	if (rc != SQLITE_OK)
		return sq_fail(s, rc, what);
	*found = false;
	rc = sqlite3_step(q);
	int out_rc = CC_EOK;
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(q, 0);
		*found = true;
	} else if (rc != SQLITE_DONE) {
		out_rc = sq_fail(s, rc, what);
	}
	sqlite3_finalize(q);
	return out_rc;
}

/* The schema version of the open file: 0 for an empty file. */
static int read_version(struct sq *s, int *out)
{
	int64_t n = 0, v = 0;
	bool found;
	int rc = query_int(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	                      " AND name = 'meta'", "reading the schema version", &n, &found);
	if (rc)
		return rc;
	if (n == 0) {
		rc = query_int(s, "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
		               "reading the schema version", &n, &found);
		if (rc)
			return rc;
		if (n > 0)
			return sq_failf(s, CC_ESTORE, "%s is an SQLite database but not a concord store",
			                s->path);
		*out = 0;
		return CC_EOK;
	}
	rc = query_int(s, "SELECT value FROM meta WHERE key = 'schema_version'",
	               "reading the schema version", &v, &found);
	if (rc)
		return rc;
	if (!found || v < 1 || v > INT32_MAX)
		return sq_failf(s, CC_ESTORE, "database file is corrupt: %s: no valid schema version",
		                s->path);
	*out = (int)v;
	return CC_EOK;
}

static int newer_error(struct sq *s, int v)
{
	return sq_failf(s, CC_ESTORE,
	                "store schema version %d is newer than this concord supports (%d): "
	                "upgrade concord (%s)", v, SCHEMA_VERSION, s->path);
}

/* Migrates the open file to SCHEMA_VERSION in one transaction. */
static int migrate(struct sq *s, int *from)
{
	int v;
	int rc = read_version(s, &v);
	if (rc)
		return rc;
	*from = v;
	if (v > SCHEMA_VERSION)
		return newer_error(s, v);
	if (v == SCHEMA_VERSION)
		return CC_EOK;
	rc = sq_exec(s, "BEGIN IMMEDIATE", "migrating the schema");
	if (rc)
		return rc;
	rc = read_version(s, &v); /* another process may have migrated meanwhile */
	*from = v;
	if (rc == CC_EOK && v > SCHEMA_VERSION)
		rc = newer_error(s, v);
	for (int i = v; rc == CC_EOK && i < SCHEMA_VERSION; i++) {
		char what[64];
		snprintf(what, sizeof(what), "migrating the schema from version %d", i);
		rc = sq_exec(s, migrations[i], what);
	}
	if (rc == CC_EOK && v < SCHEMA_VERSION) {
		char sql[128];
		snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO meta(key, value)"
		         " VALUES('schema_version', %d)", SCHEMA_VERSION);
		rc = sq_exec(s, sql, "migrating the schema");
	}
	if (rc == CC_EOK)
		rc = sq_exec(s, "COMMIT", "migrating the schema");
	if (rc && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* Opens the connection and applies the pragmas; create: make a missing file. */
static int sq_connect(struct sq *s, const struct cc_sqlite_options *opt, bool create)
{
	static const struct cc_sqlite_options defaults = { 0 };
	if (!opt)
		opt = &defaults;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(s->path, &s->db, flags, NULL);
	if (rc != SQLITE_OK)
		return sq_fail(s, rc, "open");
	sqlite3_extended_result_codes(s->db, 0);
	sqlite3_busy_timeout(s->db, opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms
	                                                     : DEFAULT_BUSY_MS);
	int cache_mb = opt->cache_mb > 0 ? opt->cache_mb : DEFAULT_CACHE_MB;
	char sql[512];
	/* journal_mode first: it is the first read of the file, so a file that
	 * is not a database fails here, with a clear message */
	snprintf(sql, sizeof(sql),
	         "PRAGMA journal_mode = WAL;"
	         "PRAGMA synchronous = %s;"
	         "PRAGMA foreign_keys = OFF;"
	         "PRAGMA mmap_size = 0;"
	         "PRAGMA cache_size = -%d;"
	         "PRAGMA wal_autocheckpoint = 16384;"
	         "PRAGMA journal_size_limit = 67108864;",
	         opt->synchronous_full ? "FULL" : "NORMAL", cache_mb * 1024);
	rc = sq_exec(s, sql, "setting up the connection");
	if (rc == CC_EOK && opt->max_pages) {
		snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %u;", opt->max_pages);
		rc = sq_exec(s, sql, "setting up the connection");
	}
	return rc;
}

static struct sq *sq_alloc(const char *path)
{
	struct sq *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->path = strdup(path);
	s->sig = calloc(SIG_SLOTS, sizeof(*s->sig));
	s->gen = 1;
	if (!s->path || !s->sig) {
		sq_close(s);
		return NULL;
	}
	return s;
}

static void copy_err(char *err, size_t errlen, const char *msg)
{
	if (errlen)
		snprintf(err, errlen, "%s", msg);
}

int cc_store_sqlite_open(struct cc_store *out, const char *path,
                         const struct cc_sqlite_options *opt, char *err, size_t errlen)
{
	if (errlen)
		err[0] = '\0';
	if (!path || !path[0]) {
		copy_err(err, errlen, "sqlite store: no file name given");
		return CC_EINVAL;
	}
	struct sq *s = sq_alloc(path);
	if (!s) {
		copy_err(err, errlen, "sqlite store: out of memory");
		return CC_ENOMEM;
	}
	int from;
	int rc = sq_connect(s, opt, true);
	if (rc == CC_EOK)
		rc = migrate(s, &from);
	for (int i = 0; i < Q__COUNT && rc == CC_EOK; i++) {
		int r = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		                           &s->q[i], NULL);
		if (r != SQLITE_OK)
			rc = sq_fail(s, r, "preparing statements");
	}
	if (rc) {
		copy_err(err, errlen, s->err);
		sq_close(s);
		return rc;
	}
	out->ops = &sqlite_ops;
	out->self = s;
	return CC_EOK;
}

int cc_store_sqlite_migrate(const char *path, int *from, int *to, char *err, size_t errlen)
{
	if (errlen)
		err[0] = '\0';
	if (!path || !path[0]) {
		copy_err(err, errlen, "sqlite store: no file name given");
		return CC_EINVAL;
	}
	struct sq *s = sq_alloc(path);
	if (!s) {
		copy_err(err, errlen, "sqlite store: out of memory");
		return CC_ENOMEM;
	}
	int f = 0;
	int rc = sq_connect(s, NULL, false);
	if (rc == CC_EOK)
		rc = migrate(s, &f);
	if (rc == CC_EOK) {
		*from = f;
		*to = SCHEMA_VERSION;
	} else {
		copy_err(err, errlen, s->err);
	}
	sq_close(s);
	return rc;
}

/*
 * PRAGMA integrity_check on the store: CC_EOK when it says "ok"; CC_ESTORE
 * with its first complaint in damage otherwise (damage "" when the check
 * itself could not run: the reason is then in s->err).
 */
static int integrity_check(struct sq *s, char *damage, size_t len)
{
	sqlite3_stmt *st = NULL;
	damage[0] = '\0';
	int r = sqlite3_prepare_v2(s->db, "PRAGMA integrity_check(1)", -1, &st, NULL);
	if (r != SQLITE_OK)
		return sq_fail(s, r, "integrity check");
	r = sqlite3_step(st);
	int rc = CC_EOK;
	if (r == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		if (!v || strcmp(v, "ok") != 0) {
			snprintf(damage, len, "%s", v ? v : "no answer");
			rc = CC_ESTORE;
		}
	} else {
		/* a page so damaged that the check stops: that is damage too */
		snprintf(damage, len, "%s", sqlite3_errmsg(s->db));
		rc = CC_ESTORE;
	}
	sqlite3_finalize(st);
	return rc;
}

int cc_store_sqlite_backup(struct cc_store *st, const char *dest_path, char *err, size_t errlen)
{
	if (errlen)
		err[0] = '\0';
	if (!st || st->ops != &sqlite_ops) {
		copy_err(err, errlen, "backup: not a SQLite store");
		return CC_EINVAL;
	}
	struct sq *s = st->self;
	if (s->in_tx) {
		copy_err(err, errlen, "backup: a transaction is open");
		return CC_EINVAL;
	}
	if (!dest_path || !dest_path[0] || strcmp(dest_path, s->path) == 0) {
		copy_err(err, errlen, "backup: the destination must be another file");
		return CC_EINVAL;
	}
	/* A copy of a damaged store is no backup: check every page first. */
	char damage[200];
	int ic = integrity_check(s, damage, sizeof(damage));
	if (ic) {
		if (ic == CC_ESTORE && damage[0]) {
			char msg[300];
			snprintf(msg, sizeof(msg), "backup: %s is damaged (%s); nothing was copied; "
			         "restore an earlier backup", s->path, damage);
			copy_err(err, errlen, msg);
		} else {
			copy_err(err, errlen, s->err);
		}
		return ic;
	}
	struct sq *d = sq_alloc(dest_path);
	if (!d) {
		copy_err(err, errlen, "backup: out of memory");
		return CC_ENOMEM;
	}
	int rc = CC_EOK;
	int r = sqlite3_open_v2(dest_path, &d->db,
	                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                        NULL);
	if (r != SQLITE_OK) {
		rc = sq_fail(d, r, "backup");
		goto out;
	}
	sqlite3_backup *b = sqlite3_backup_init(d->db, "main", s->db, "main");
	if (!b) {
		rc = sq_fail(d, sqlite3_errcode(d->db), "backup");
		goto out;
	}
	do {
		r = sqlite3_backup_step(b, 1024);
		if (r == SQLITE_BUSY || r == SQLITE_LOCKED)
			sqlite3_sleep(10);
	} while (r == SQLITE_OK || r == SQLITE_BUSY || r == SQLITE_LOCKED);
	sqlite3_backup_finish(b);
	if (r != SQLITE_DONE) {
		rc = sq_fail(d, r, "backup");
		goto out;
	}
out:
	if (rc)
		copy_err(err, errlen, d->err);
	sq_close(d);
	return rc;
}

/* ---- raw insert measurement --------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cc_sqlite_raw_insert_rate(const char *path, const struct cc_sqlite_options *opt, size_t rows,
                              size_t batch, size_t row_bytes, double *rows_per_sec)
{
	if (!path || !rows || !batch || !rows_per_sec)
		return CC_EINVAL;
	struct sq *s = sq_alloc(path);
	if (!s)
		return CC_ENOMEM;
	sqlite3_stmt *ins = NULL;
	uint8_t *blob = malloc(row_bytes ? row_bytes : 1);
	int rc = blob ? sq_connect(s, opt, true) : CC_ENOMEM;
	if (rc == CC_EOK)
		rc = sq_exec(s, "DROP TABLE IF EXISTS bench;"
		             "CREATE TABLE bench(id INTEGER PRIMARY KEY, k INTEGER NOT NULL, body BLOB);"
		             "CREATE INDEX bench_k ON bench(k);", "benchmark table");
	if (rc == CC_EOK) {
		int r = sqlite3_prepare_v2(s->db, "INSERT INTO bench(k, body) VALUES(?1, ?2)", -1,
		                           &ins, NULL);
		if (r != SQLITE_OK)
			rc = sq_fail(s, r, "benchmark insert");
	}
	if (rc)
		goto out;
	for (size_t i = 0; i < row_bytes; i++)
		blob[i] = (uint8_t)(i * 131u + 7u);
	uint64_t k = 88172645463325252ull;
	double t0 = now_s();
	for (size_t done = 0; done < rows && rc == CC_EOK;) {
		rc = sq_exec(s, "BEGIN IMMEDIATE", "benchmark");
		for (size_t i = 0; i < batch && done < rows && rc == CC_EOK; i++, done++) {
			k ^= k << 13, k ^= k >> 7, k ^= k << 17; /* keys in random order */
			sqlite3_bind_int64(ins, 1, (int64_t)(k >> 1));
			sqlite3_bind_blob(ins, 2, blob, (int)row_bytes, SQLITE_STATIC);
			int r = sqlite3_step(ins);
			if (r != SQLITE_DONE)
				rc = sq_fail(s, r, "benchmark insert");
			sqlite3_reset(ins);
		}
		if (rc == CC_EOK)
			rc = sq_exec(s, "COMMIT", "benchmark");
	}
	double dt = now_s() - t0;
	if (rc == CC_EOK)
		*rows_per_sec = dt > 0 ? (double)rows / dt : 0;
out:
	sqlite3_finalize(ins);
	free(blob);
	sq_close(s);
	return rc;
}
