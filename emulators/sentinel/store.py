"""The emulator's state in one SQLite file (stdlib sqlite3): incidents,
comments, every status an incident took, issued tokens. One connection
behind one lock: the HTTP threads take turns."""

import json
import random
import sqlite3
import threading
import uuid

SCHEMA = """
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS incidents (
  ws TEXT NOT NULL,            -- lower-cased workspace path, the scope
  name TEXT NOT NULL,          -- the incident id of the URL
  prefix TEXT NOT NULL,        -- the ARM id up to /incidents/, as created
  num INTEGER NOT NULL UNIQUE, -- incidentNumber
  etag TEXT NOT NULL,
  created INTEGER NOT NULL,    -- ticks (100 ns)
  modified INTEGER NOT NULL,
  status TEXT NOT NULL,
  severity TEXT NOT NULL,
  title TEXT NOT NULL,
  props TEXT NOT NULL,         -- the writable properties, JSON
  comments INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (ws, name)
);
CREATE INDEX IF NOT EXISTS incidents_modified ON incidents (ws, modified, num);
CREATE INDEX IF NOT EXISTS incidents_created ON incidents (ws, created, num);
CREATE INDEX IF NOT EXISTS incidents_num ON incidents (ws, num);
CREATE TABLE IF NOT EXISTS comments (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  ws TEXT NOT NULL,
  incident TEXT NOT NULL,
  name TEXT NOT NULL,
  etag TEXT NOT NULL,
  created INTEGER NOT NULL,
  modified INTEGER NOT NULL,
  message TEXT NOT NULL,
  author TEXT NOT NULL,        -- JSON ClientInfo
  UNIQUE (ws, incident, name)
);
CREATE TABLE IF NOT EXISTS history (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  ws TEXT NOT NULL,
  incident TEXT NOT NULL,
  status TEXT NOT NULL,
  author TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS history_incident ON history (incident, seq);
CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, client TEXT NOT NULL, exp REAL NOT NULL);
"""


def new_etag():
    # Sentinel's etags are quoted GUID-like strings (spec example
    # CreateIncident.json: "\"0300bf09-0000-0000-0000-5c37296e0001\"").
    return '"%s"' % uuid.uuid4()


class Store:
    def __init__(self, path):
        self.lock = threading.RLock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.executescript(SCHEMA)

    # -- meta
    def _next_number(self, n=1):
        """Takes n incident numbers (inside the caller's transaction); a
        number is never given twice, even after its incident is deleted."""
        row = self.db.execute("SELECT value FROM meta WHERE key='next_num'").fetchone()
        first = int(row[0]) if row else (self.db.execute("SELECT MAX(num) FROM incidents").fetchone()[0] or 0) + 1
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('next_num', ?)", (str(first + n),))
        return first

    # -- tokens
    def save_token(self, token, client, exp):
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO tokens VALUES (?,?,?)", (token, client, exp))

    def load_tokens(self):
        with self.lock:
            return {t: (c, e) for t, c, e in self.db.execute("SELECT token, client, exp FROM tokens")}

    # -- incidents
    def get(self, ws, name):
        with self.lock:
            return self._get(ws, name)

    def _get(self, ws, name):
        cur = self.db.execute(
            "SELECT ws,name,prefix,num,etag,created,modified,status,severity,title,props,comments "
            "FROM incidents WHERE ws=? AND name=?", (ws, name))
        row = cur.fetchone()
        return _row(row) if row else None

    def put(self, ws, prefix, name, props, author, now, check):
        """Creates or replaces an incident's writable properties in one
        transaction. check(current_or_None) raises to refuse. Returns
        (incident, created, status_changed)."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                cur = self._get(ws, name)
                check(cur)
                etag = new_etag()
                status, severity, title = props["status"], props["severity"], props["title"]
                if cur is None:
                    num = self._next_number()
                    self.db.execute(
                        "INSERT INTO incidents (ws,name,prefix,num,etag,created,modified,status,"
                        "severity,title,props,comments) VALUES (?,?,?,?,?,?,?,?,?,?,?,0)",
                        (ws, name, prefix, num, etag, now, now, status, severity, title,
                         json.dumps(props)))
                else:
                    self.db.execute(
                        "UPDATE incidents SET etag=?, modified=?, status=?, severity=?, title=?, "
                        "props=? WHERE ws=? AND name=?",
                        (etag, now, status, severity, title, json.dumps(props), ws, name))
                changed = cur is None or cur["status"] != status
                if changed:
                    self.db.execute("INSERT INTO history (ws,incident,status,author,at) VALUES (?,?,?,?,?)",
                                    (ws, name, status, author, now))
                inc = self._get(ws, name)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            return inc, cur is None, changed

    def delete(self, ws, name):
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            n = self.db.execute("DELETE FROM incidents WHERE ws=? AND name=?", (ws, name)).rowcount
            self.db.execute("DELETE FROM comments WHERE ws=? AND incident=?", (ws, name))
            self.db.execute("COMMIT")
            return n > 0

    def list(self, ws, where, params, col, direction, after, limit):
        """One page: rows matching, in (col, num) order, after the keyset
        position `after` = (value, num) or None; limit + 1 rows asked so the
        caller knows whether more remain."""
        sql = ("SELECT ws,name,prefix,num,etag,created,modified,status,severity,title,props,comments "
               "FROM incidents WHERE ws=? AND (%s)" % where)
        args = [ws] + list(params)
        if after is not None:
            op = ">" if direction == "ASC" else "<"
            if col == "num":
                sql += " AND num %s ?" % op
                args.append(after[1])
            else:
                sql += " AND (%s %s ? OR (%s = ? AND num %s ?))" % (col, op, col, op)
                args += [after[0], after[0], after[1]]
        sql += " ORDER BY %s %s" % (col, direction)
        if col != "num":
            sql += ", num %s" % direction
        sql += " LIMIT ?"
        args.append(limit + 1)
        with self.lock:
            return [_row(r) for r in self.db.execute(sql, args)]

    # -- comments
    def comment_get(self, ws, incident, name):
        with self.lock:
            row = self.db.execute(
                "SELECT seq,name,etag,created,modified,message,author FROM comments "
                "WHERE ws=? AND incident=? AND name=?", (ws, incident, name)).fetchone()
            return _crow(row) if row else None

    def comment_put(self, ws, incident, name, message, author, now):
        """-> (comment, created). The same id twice is one comment: a second
        PUT with the same message changes nothing, another message updates."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                if self._get(ws, incident) is None:
                    self.db.execute("ROLLBACK")
                    return None, False
                cur = self.db.execute(
                    "SELECT seq,name,etag,created,modified,message,author FROM comments "
                    "WHERE ws=? AND incident=? AND name=?", (ws, incident, name)).fetchone()
                created = cur is None
                if created:
                    self.db.execute(
                        "INSERT INTO comments (ws,incident,name,etag,created,modified,message,author) "
                        "VALUES (?,?,?,?,?,?,?,?)",
                        (ws, incident, name, str(uuid.uuid4()), now, now, message, json.dumps(author)))
                    self.db.execute("UPDATE incidents SET comments=comments+1 WHERE ws=? AND name=?",
                                    (ws, incident))
                elif cur[5] != message:
                    self.db.execute(
                        "UPDATE comments SET message=?, modified=?, etag=? WHERE ws=? AND incident=? AND name=?",
                        (message, now, str(uuid.uuid4()), ws, incident, name))
                row = self.db.execute(
                    "SELECT seq,name,etag,created,modified,message,author FROM comments "
                    "WHERE ws=? AND incident=? AND name=?", (ws, incident, name)).fetchone()
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            return _crow(row), created

    def comment_list(self, ws, incident, after_seq, limit, descending=False):
        op, order = ("<", "DESC") if descending else (">", "ASC")
        sql = ("SELECT seq,name,etag,created,modified,message,author FROM comments "
               "WHERE ws=? AND incident=?")
        args = [ws, incident]
        if after_seq is not None:
            sql += " AND seq %s ?" % op
            args.append(after_seq)
        sql += " ORDER BY seq %s LIMIT ?" % order
        args.append(limit + 1)
        with self.lock:
            return [_crow(r) for r in self.db.execute(sql, args)]

    # -- history
    def history(self, name):
        with self.lock:
            return [{"status": s, "author": a, "at": t} for s, a, t in self.db.execute(
                "SELECT status, author, at FROM history WHERE incident=? ORDER BY seq", (name,))]

    # -- seeding
    def seed(self, ws, prefix, count, start, spread, seed=None):
        """count incidents in one transaction, lastModified spread evenly over
        [start, start + spread) ticks in incident-number order."""
        rng = random.Random(seed)
        sev = ("High", "Medium", "Low", "Informational")
        sts = ("New", "Active")
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                first = self._next_number(count)
                step = max(1, spread // max(count, 1))
                rows, hist = [], []
                for i in range(count):
                    num = first + i
                    t = start + i * step
                    name = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                    props = {"title": "Seeded incident %d" % num, "description": "seeded",
                             "severity": sev[i % 4], "status": sts[i % 2], "labels": [],
                             "owner": {}}
                    rows.append((ws, name, prefix, num, new_etag(), t, t, props["status"],
                                 props["severity"], props["title"], json.dumps(props)))
                    hist.append((ws, name, props["status"], "seed", t))
                self.db.executemany(
                    "INSERT INTO incidents (ws,name,prefix,num,etag,created,modified,status,severity,"
                    "title,props,comments) VALUES (?,?,?,?,?,?,?,?,?,?,?,0)", rows)
                self.db.executemany("INSERT INTO history (ws,incident,status,author,at) VALUES (?,?,?,?,?)",
                                    hist)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            return first, first + count - 1

    def count(self, ws=None):
        with self.lock:
            if ws is None:
                return self.db.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]
            return self.db.execute("SELECT COUNT(*) FROM incidents WHERE ws=?", (ws,)).fetchone()[0]


def _row(r):
    keys = ("ws", "name", "prefix", "num", "etag", "created", "modified", "status", "severity",
            "title", "props", "comments")
    d = dict(zip(keys, r))
    d["props"] = json.loads(d["props"])
    return d


def _crow(r):
    keys = ("seq", "name", "etag", "created", "modified", "message", "author")
    d = dict(zip(keys, r))
    d["author"] = json.loads(d["author"])
    return d
