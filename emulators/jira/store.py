"""The Jira emulator's state in one SQLite file (stdlib sqlite3): issues,
their changelog, comments, entity properties, every status an issue took,
registered webhooks, and the search index, which lags behind the issues by
a configurable delay (writes wait in index_queue until due). One connection
behind one lock: the HTTP threads take turns."""

import json
import random
import re
import sqlite3
import threading
import time

COLS = ("id", "proj", "num", "summary", "description", "status", "priority", "resolution",
        "resolutiondate", "assignee", "reporter", "labels", "created", "updated", "custom")
_COLDEF = """
  id INTEGER PRIMARY KEY, proj TEXT NOT NULL, num INTEGER NOT NULL, summary TEXT NOT NULL,
  description TEXT, status TEXT NOT NULL, priority TEXT, resolution TEXT, resolutiondate INTEGER,
  assignee TEXT, reporter TEXT, labels TEXT NOT NULL DEFAULT '[]', created INTEGER NOT NULL,
  updated INTEGER NOT NULL, custom TEXT NOT NULL DEFAULT '{}'"""

SCHEMA = """
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS issues (%s, UNIQUE (proj, num));
CREATE TABLE IF NOT EXISTS search_index (%s);
CREATE INDEX IF NOT EXISTS si_updated ON search_index (updated, proj, num);
CREATE INDEX IF NOT EXISTS si_proj_updated ON search_index (proj, updated, num);
CREATE INDEX IF NOT EXISTS si_created ON search_index (created, proj, num);
CREATE INDEX IF NOT EXISTS si_key ON search_index (proj, num);
CREATE TABLE IF NOT EXISTS search_labels (id INTEGER NOT NULL, label TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sl_label ON search_labels (label, id);
CREATE INDEX IF NOT EXISTS sl_id ON search_labels (id);
CREATE TABLE IF NOT EXISTS index_queue (seq INTEGER PRIMARY KEY AUTOINCREMENT, id INTEGER NOT NULL,
  due INTEGER NOT NULL, row TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS changelog (id INTEGER PRIMARY KEY, issue INTEGER NOT NULL, author TEXT NOT NULL,
  created INTEGER NOT NULL, items TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS changelog_issue ON changelog (issue, id);
CREATE TABLE IF NOT EXISTS comments (id INTEGER PRIMARY KEY, issue INTEGER NOT NULL, author TEXT NOT NULL,
  body TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS comments_issue ON comments (issue, id);
CREATE TABLE IF NOT EXISTS properties (issue INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (issue, key));
CREATE TABLE IF NOT EXISTS history (seq INTEGER PRIMARY KEY AUTOINCREMENT, issue INTEGER NOT NULL,
  status TEXT NOT NULL, author TEXT NOT NULL, at INTEGER NOT NULL, via TEXT);
CREATE INDEX IF NOT EXISTS history_issue ON history (issue, seq);
CREATE TABLE IF NOT EXISTS webhooks (id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL,
  secret TEXT, events TEXT NOT NULL);
""" % (_COLDEF, _COLDEF)

_SEL = ",".join(COLS)


def _words(text):
    return re.findall(r"[0-9a-z]+", text.lower())


def text_match(value, query):
    """JQL's CONTAINS (~) on a text field, as far as the emulator goes: the
    query's words (letters and digits; case, punctuation and hyphens do not
    count) all in the value, a quoted phrase's words one after another.
    No stemming, no wildcards."""
    if value is None or query is None:
        return 0
    have = _words(value)
    for m in re.finditer(r'"([^"]*)"|(\S+)', query):
        words = _words(m.group(1) if m.group(1) is not None else m.group(2))
        if not words:
            continue
        n = len(words)
        if not any(have[i:i + n] == words for i in range(len(have) - n + 1)):
            return 0
    return 1


def wall_ms():
    """Real time for the index lag (not the site's skewed clock)."""
    return int(time.time() * 1000)


def _row(r):
    if r is None:
        return None
    d = dict(zip(COLS, r))
    d["labels"] = json.loads(d["labels"])
    d["custom"] = json.loads(d["custom"] or "{}")
    d["description"] = json.loads(d["description"]) if d["description"] else None
    d["key"] = "%s-%d" % (d["proj"], d["num"])
    return d


def _vals(d):
    out = []
    for c in COLS:
        v = d[c]
        if c in ("labels", "custom"):
            v = json.dumps(v if v is not None else ({} if c == "custom" else []))
        elif c == "description":
            v = json.dumps(v) if v is not None else None
        out.append(v)
    return out


class Store:
    def __init__(self, path):
        self.lock = threading.RLock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.create_function("jira_text_match", 2, text_match, deterministic=True)
        self._migrate()
        self.db.executescript(SCHEMA)

    def _migrate(self):
        """A state file of an emulator without custom fields: the column added,
        the index rebuilt from the issues (queued rows have the old width)."""
        have = [r[1] for r in self.db.execute("PRAGMA table_info(issues)")]
        if not have or "custom" in have:
            return
        with self._tx():
            for t in ("issues", "search_index"):
                self.db.execute("ALTER TABLE %s ADD COLUMN custom TEXT NOT NULL DEFAULT '{}'" % t)
            self.db.execute("DELETE FROM index_queue")
            for (iid,) in self.db.execute("SELECT id FROM issues").fetchall():
                self._index_now(iid)

    # -- counters (inside the caller's transaction)
    def _next(self, name, start, n=1):
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (name,)).fetchone()
        first = int(row[0]) if row else start
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, str(first + n)))
        return first

    def _tx(self):
        return _Tx(self)

    # -- the search index
    def _index_now(self, iid):
        self.db.execute("INSERT OR REPLACE INTO search_index (%s) SELECT %s FROM issues WHERE id=?"
                        % (_SEL, _SEL), (iid,))
        self.db.execute("DELETE FROM search_labels WHERE id=?", (iid,))
        self.db.execute("INSERT INTO search_labels (id, label) SELECT ?, value FROM json_each("
                        "(SELECT labels FROM issues WHERE id=?))", (iid, iid))

    def _reindex(self, iid, lag_ms):
        if lag_ms <= 0 and not self.db.execute("SELECT 1 FROM index_queue WHERE id=? LIMIT 1", (iid,)).fetchone():
            self._index_now(iid)
            return
        row = _row(self.db.execute("SELECT %s FROM issues WHERE id=?" % _SEL, (iid,)).fetchone())
        self.db.execute("INSERT INTO index_queue (id, due, row) VALUES (?,?,?)",
                        (iid, wall_ms() + max(0, lag_ms), json.dumps(_vals(row))))

    def apply_due(self, ids=None):
        """Moves every queued write whose lag has passed into the search index
        (with ids: every queued write of those issues, due or not: the
        search's reconcileIssues)."""
        with self.lock:
            if ids:
                due = self.db.execute("SELECT seq, id, row FROM index_queue WHERE id IN (%s) ORDER BY seq"
                                      % ",".join("?" * len(ids)), list(ids)).fetchall()
            else:
                due = self.db.execute("SELECT seq, id, row FROM index_queue WHERE due <= ? ORDER BY seq",
                                      (wall_ms(),)).fetchall()
            if not due:
                return 0
            with self._tx():
                for seq, iid, row in due:
                    vals = json.loads(row)
                    self.db.execute("INSERT OR REPLACE INTO search_index (%s) VALUES (%s)"
                                    % (_SEL, ",".join("?" * len(COLS))), vals)
                    self.db.execute("DELETE FROM search_labels WHERE id=?", (iid,))
                    self.db.executemany("INSERT INTO search_labels (id, label) VALUES (?,?)",
                                        [(iid, lb) for lb in json.loads(vals[COLS.index("labels")])])
                    self.db.execute("DELETE FROM index_queue WHERE seq=?", (seq,))
            return len(due)

    def search(self, where, params, order, after, limit):
        """Rows of the search index matching, in `order`, after the keyset
        position `after` (values of the order's columns) or from the start;
        limit + 1 rows asked so the caller knows whether more remain."""
        from jql import keyset
        sql = "SELECT %s FROM search_index s WHERE (%s)" % (",".join("s." + c for c in COLS), where)
        args = list(params)
        if after is not None:
            ks, kp = keyset(order, after)
            sql += " AND " + ks
            args += kp
        sql += " ORDER BY " + ", ".join("%s %s" % (c, d) for c, d in order) + " LIMIT ?"
        args.append(limit + 1)
        with self.lock:
            return [_row(r) for r in self.db.execute(sql, args)]

    # -- issues
    def get(self, ref):
        """An issue by id ("10001") or key ("EMU-1", any case), or None."""
        ref = str(ref).strip()
        with self.lock:
            if ref.isdigit():
                r = self.db.execute("SELECT %s FROM issues WHERE id=?" % _SEL, (int(ref),)).fetchone()
            else:
                proj, _, num = ref.upper().rpartition("-")
                if not proj or not num.isdigit():
                    return None
                r = self.db.execute("SELECT %s FROM issues WHERE proj=? AND num=?" % _SEL,
                                    (proj, int(num))).fetchone()
            return _row(r)

    def create(self, fields, author, now, lag_ms):
        """fields: the COLS but id, num, created, updated. -> the issue."""
        with self.lock, self._tx():
            iid = self._next("next_id", 10000)
            num = self._next("next_num:" + fields["proj"], 1)
            d = dict(fields, id=iid, num=num, created=now, updated=now)
            self.db.execute("INSERT INTO issues (%s) VALUES (%s)" % (_SEL, ",".join("?" * len(COLS))), _vals(d))
            self.db.execute("INSERT INTO history (issue, status, author, at, via) VALUES (?,?,?,?,?)",
                            (iid, d["status"], author, now, "create"))
            self._reindex(iid, lag_ms)
            return self.get(iid)

    def update(self, iid, changes, items, author, now, lag_ms, via="edit"):
        """Applies `changes` (column -> value), writes one changelog entry of
        `items` and moves `updated`. -> (issue, changelog id)."""
        with self.lock, self._tx():
            cur = self.get(iid)
            d = dict(cur, **changes)
            d["updated"] = now
            self.db.execute("UPDATE issues SET %s WHERE id=?" % ",".join("%s=?" % c for c in COLS[1:]),
                            _vals(d)[1:] + [iid])
            cid = None
            if items:
                cid = self._next("next_changelog", 10000)
                self.db.execute("INSERT INTO changelog (id, issue, author, created, items) VALUES (?,?,?,?,?)",
                                (cid, iid, author, now, json.dumps(items)))
            if d["status"] != cur["status"]:
                self.db.execute("INSERT INTO history (issue, status, author, at, via) VALUES (?,?,?,?,?)",
                                (iid, d["status"], author, now, via))
            self._reindex(iid, lag_ms)
            return self.get(iid), cid

    def count(self):
        with self.lock:
            return self.db.execute("SELECT COUNT(*) FROM issues").fetchone()[0]

    def queued(self):
        with self.lock:
            return self.db.execute("SELECT COUNT(*) FROM index_queue").fetchone()[0]

    # -- changelog
    def changelog(self, iid, start, limit):
        with self.lock:
            total = self.db.execute("SELECT COUNT(*) FROM changelog WHERE issue=?", (iid,)).fetchone()[0]
            rows = self.db.execute("SELECT id, author, created, items FROM changelog WHERE issue=? "
                                   "ORDER BY id LIMIT ? OFFSET ?", (iid, limit, start)).fetchall()
            return total, [{"id": r[0], "author": r[1], "created": r[2], "items": json.loads(r[3])} for r in rows]

    # -- comments
    def add_comment(self, iid, author, body, now, lag_ms):
        """A comment; it moves the issue's `updated` (and so its place in the index)."""
        with self.lock, self._tx():
            cid = self._next("next_comment", 10000)
            self.db.execute("INSERT INTO comments (id, issue, author, body, created, updated) VALUES (?,?,?,?,?,?)",
                            (cid, iid, author, json.dumps(body), now, now))
            self.db.execute("UPDATE issues SET updated=? WHERE id=?", (now, iid))
            self._reindex(iid, lag_ms)
            return self._comment(cid)

    def _comment(self, cid):
        r = self.db.execute("SELECT id, issue, author, body, created, updated FROM comments WHERE id=?",
                            (cid,)).fetchone()
        return None if r is None else {"id": r[0], "issue": r[1], "author": r[2], "body": json.loads(r[3]),
                                       "created": r[4], "updated": r[5]}

    def comments(self, iid, start, limit, desc=False):
        with self.lock:
            total = self.db.execute("SELECT COUNT(*) FROM comments WHERE issue=?", (iid,)).fetchone()[0]
            ids = [r[0] for r in self.db.execute(
                "SELECT id FROM comments WHERE issue=? ORDER BY id %s LIMIT ? OFFSET ?"
                % ("DESC" if desc else "ASC"), (iid, limit, start))]
            return total, [self._comment(c) for c in ids]

    # -- entity properties
    def set_property(self, iid, key, value_json):
        """-> True when created, False when replaced."""
        with self.lock:
            old = self.db.execute("SELECT 1 FROM properties WHERE issue=? AND key=?", (iid, key)).fetchone()
            self.db.execute("INSERT OR REPLACE INTO properties VALUES (?,?,?)", (iid, key, value_json))
            return old is None

    def get_property(self, iid, key):
        with self.lock:
            r = self.db.execute("SELECT value FROM properties WHERE issue=? AND key=?", (iid, key)).fetchone()
            return None if r is None else json.loads(r[0])

    def property_keys(self, iid):
        with self.lock:
            return [r[0] for r in self.db.execute("SELECT key FROM properties WHERE issue=? ORDER BY key", (iid,))]

    def delete_property(self, iid, key):
        with self.lock:
            return self.db.execute("DELETE FROM properties WHERE issue=? AND key=?", (iid, key)).rowcount > 0

    # -- history (control API)
    def history(self, iid):
        with self.lock:
            return [{"status": s, "author": a, "at": t, "via": v} for s, a, t, v in self.db.execute(
                "SELECT status, author, at, via FROM history WHERE issue=? ORDER BY seq", (iid,))]

    # -- webhooks (registrations)
    def add_webhook(self, url, secret, events):
        with self.lock:
            cur = self.db.execute("INSERT INTO webhooks (url, secret, events) VALUES (?,?,?)",
                                  (url, secret, json.dumps(events)))
            return cur.lastrowid

    def webhooks(self):
        with self.lock:
            return [{"id": i, "url": u, "secret": s, "events": json.loads(e)}
                    for i, u, s, e in self.db.execute("SELECT id, url, secret, events FROM webhooks ORDER BY id")]

    def delete_webhook(self, wid):
        with self.lock:
            return self.db.execute("DELETE FROM webhooks WHERE id=?", (wid,)).rowcount > 0

    # -- seeding
    def seed(self, proj, count, start_ms, spread_ms, status, labels, reporter, seed=None):
        """count issues in one transaction, `updated` spread evenly over
        [start_ms, start_ms + spread_ms), indexed at once, no changelog."""
        rng = random.Random(seed)
        with self.lock, self._tx():
            first_id = self._next("next_id", 10000, count)
            first_num = self._next("next_num:" + proj, 1, count)
            step = max(1, spread_ms // max(count, 1))
            rows, lrows, hist = [], [], []
            for i in range(count):
                t = start_ms + i * step
                iid, num = first_id + i, first_num + i
                lb = list(labels) if labels is not None else (["seeded"] if rng.random() < 0.5 else [])
                d = {"id": iid, "proj": proj, "num": num, "summary": "Seeded issue %s-%d" % (proj, num),
                     "description": None, "status": status, "priority": "3", "resolution": None,
                     "resolutiondate": None, "assignee": None, "reporter": reporter, "labels": lb,
                     "created": t, "updated": t, "custom": {}}
                rows.append(_vals(d))
                lrows.extend((iid, x) for x in lb)
                hist.append((iid, status, "seed", t, "seed"))
            marks = ",".join("?" * len(COLS))
            self.db.executemany("INSERT INTO issues (%s) VALUES (%s)" % (_SEL, marks), rows)
            self.db.executemany("INSERT INTO search_index (%s) VALUES (%s)" % (_SEL, marks), rows)
            self.db.executemany("INSERT INTO search_labels (id, label) VALUES (?,?)", lrows)
            self.db.executemany("INSERT INTO history (issue, status, author, at, via) VALUES (?,?,?,?,?)", hist)
            return first_id, first_num


class _Tx:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on an exception; nests (the
    inner one does nothing)."""

    def __init__(self, store):
        self.s = store
        self.outer = False

    def __enter__(self):
        if not self.s.db.in_transaction:
            self.s.db.execute("BEGIN IMMEDIATE")
            self.outer = True
        return self

    def __exit__(self, et, ev, tb):
        if self.outer:
            self.s.db.execute("ROLLBACK" if et else "COMMIT")
        return False
