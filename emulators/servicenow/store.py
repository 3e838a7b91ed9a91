"""The emulator's state: incidents, journal entries, audit rows, in SQLite.

What an instance's platform does on a write is done here, in one place:
priority from the Priority Data Lookup, the data policy on resolve/close,
journal fields written to sys_journal_field, audit rows in sys_audit, the
system fields (sys_mod_count, sys_updated_on/by). Each rule names its
source in emulators/servicenow/README.md.

One connection behind one lock: the emulator serialises its writes the way
a single node would, and SQLite keeps everything across restarts.
"""

import hashlib
import sqlite3
import threading
import time
import uuid

# incident columns in answer order, with their query types (query.py).
INCIDENT_FIELDS = [
    ("sys_id", "text"), ("number", "text"), ("short_description", "text"),
    ("description", "text"), ("state", "int"), ("impact", "int"),
    ("urgency", "int"), ("priority", "int"), ("assigned_to", "text"),
    ("caller_id", "text"), ("close_code", "text"), ("close_notes", "text"),
    ("correlation_id", "text"), ("correlation_display", "text"),
    ("active", "text"), ("opened_at", "datetime"), ("resolved_at", "datetime"),
    ("closed_at", "datetime"), ("sys_mod_count", "int"),
    ("sys_created_on", "datetime"), ("sys_created_by", "text"),
    ("sys_updated_on", "datetime"), ("sys_updated_by", "text"),
]
# What a Table API write may set on an incident. Everything else in a body
# is ignored, as the instance ignores fields a table does not have and
# system fields ("fields that have a prefix of sys_ are typically system
# parameters that are automatically generated and cannot be updated").
WRITABLE = ("short_description", "description", "state", "impact", "urgency",
            "assigned_to", "caller_id", "close_code", "close_notes",
            "correlation_id", "correlation_display")
JOURNAL = ("comments", "work_notes")
# Reference fields: answered as {"link", "value"} unless
# sysparm_exclude_reference_link=true (see the Table API examples).
REFERENCES = {"assigned_to": "sys_user", "caller_id": "sys_user"}

JOURNAL_FIELDS = [
    ("sys_id", "text"), ("element", "text"), ("element_id", "text"),
    ("name", "text"), ("value", "text"), ("sys_created_on", "datetime"),
    ("sys_created_by", "text"),
]
AUDIT_FIELDS = [
    ("sys_id", "text"), ("tablename", "text"), ("documentkey", "text"),
    ("fieldname", "text"), ("oldvalue", "text"), ("newvalue", "text"),
    ("user", "text"), ("reason", "text"), ("record_checkpoint", "int"),
    ("sys_created_on", "datetime"), ("sys_created_by", "text"),
]
# The users the emulator knows (read only): those of --user, the OAuth
# application users, and --sys-user. Reference fields (assigned_to,
# caller_id) hold a sys_user's sys_id; sys_created_by and the like hold its
# user_name.
SYS_USER_FIELDS = [
    ("sys_id", "text"), ("user_name", "text"), ("name", "text"), ("email", "text"),
    ("active", "text"),
]
TABLES = {
    "incident": INCIDENT_FIELDS,
    "sys_journal_field": JOURNAL_FIELDS,
    "sys_audit": AUDIT_FIELDS,
    "sys_user": SYS_USER_FIELDS,
}

CHOICES = {
    "state": {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved",
              "7": "Closed", "8": "Canceled"},
    "impact": {"1": "1 - High", "2": "2 - Medium", "3": "3 - Low"},
    "urgency": {"1": "1 - High", "2": "2 - Medium", "3": "3 - Low"},
    "priority": {"1": "1 - Critical", "2": "2 - High", "3": "3 - Moderate",
                 "4": "4 - Low", "5": "5 - Planning"},
}
# Field labels the data policy message names.
LABELS = {"close_code": "Resolution code", "close_notes": "Close notes"}

# The sample Priority Data Lookup of the Incident Management documentation
# (impact, urgency) -> priority.
DEFAULT_PRIORITY = {
    ("1", "1"): "1", ("1", "2"): "2", ("1", "3"): "3",
    ("2", "1"): "2", ("2", "2"): "3", ("2", "3"): "4",
    ("3", "1"): "3", ("3", "2"): "4", ("3", "3"): "4",
}


class PolicyError(Exception):
    """A data policy refused the write: detail is the instance's text."""


def new_sys_id():
    return uuid.uuid4().hex


def _text(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class Store:
    def __init__(self, path, clock, priority=None):
        self.clock = clock
        self.priority = dict(priority or DEFAULT_PRIORITY)
        self.lock = threading.RLock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._schema()

    def _schema(self):
        def cols(fields):
            return ", ".join('"%s" TEXT%s' % (n, " PRIMARY KEY" if n == "sys_id" else "")
                             for n, _ in fields)
        db = self.db
        db.execute("CREATE TABLE IF NOT EXISTS incident (%s)" % cols(INCIDENT_FIELDS))
        db.execute("CREATE TABLE IF NOT EXISTS sys_journal_field (%s, visible_at REAL)"
                   % cols(JOURNAL_FIELDS))
        db.execute("CREATE TABLE IF NOT EXISTS sys_audit (%s)" % cols(AUDIT_FIELDS))
        db.execute("CREATE TABLE IF NOT EXISTS sys_user (%s)" % cols(SYS_USER_FIELDS))
        db.execute("CREATE TABLE IF NOT EXISTS state_history (seq INTEGER PRIMARY KEY, "
                   "sys_id TEXT, state TEXT, user TEXT, at TEXT, sys_mod_count TEXT, operation TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS oauth_token (token TEXT PRIMARY KEY, "
                   "client_id TEXT, user TEXT, expires_at REAL)")
        for sql in (
            'CREATE INDEX IF NOT EXISTS incident_updated ON incident ("sys_updated_on", "sys_id")',
            'CREATE INDEX IF NOT EXISTS incident_correlation ON incident ("correlation_id")',
            'CREATE INDEX IF NOT EXISTS incident_number ON incident ("number")',
            'CREATE INDEX IF NOT EXISTS journal_element ON sys_journal_field ("element_id", "sys_created_on")',
            'CREATE INDEX IF NOT EXISTS audit_document ON sys_audit ("documentkey", "sys_created_on")',
            'CREATE INDEX IF NOT EXISTS history_sys_id ON state_history (sys_id, seq)',
        ):
            db.execute(sql)

    # --- meta ---------------------------------------------------------------

    def meta_get(self, key, default=None):
        with self.lock:
            row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
            return row[0] if row else default

    def meta_set(self, key, value):
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(value)))

    def _next_number(self):
        n = int(self.meta_get("incident_number", "10000")) + 1
        self.meta_set("incident_number", n)
        return "INC%07d" % n

    # --- users ---------------------------------------------------------------

    @staticmethod
    def user_sys_id(user_name):
        """A user's sys_id: the same for the same user_name in every run."""
        return hashlib.md5(("sys_user:" + user_name).encode()).hexdigest()

    def add_user(self, user_name, name=None):
        with self.lock:
            self.db.execute('INSERT OR IGNORE INTO sys_user VALUES (?, ?, ?, ?, ?)',
                            (self.user_sys_id(user_name), user_name, name or user_name,
                             "%s@example.com" % user_name, "true"))

    def user_display(self, sys_id):
        """The display value (name) of a sys_user, or None."""
        with self.lock:
            row = self.db.execute("SELECT name FROM sys_user WHERE sys_id=?", (sys_id,)).fetchone()
        return row[0] if row else None

    # --- tokens -------------------------------------------------------------

    def token_add(self, token, client_id, user, expires_at):
        with self.lock:
            self.db.execute("INSERT INTO oauth_token VALUES (?, ?, ?, ?)",
                            (token, client_id, user, expires_at))

    def token_user(self, token):
        """The user of a bearer token still valid now (real time), or None."""
        with self.lock:
            row = self.db.execute("SELECT user, expires_at FROM oauth_token WHERE token=?",
                                  (token,)).fetchone()
        if row is None or row[1] <= time.time():
            return None
        return row[0]

    # --- rules --------------------------------------------------------------

    def _priority(self, rec):
        return self.priority.get((rec.get("impact", ""), rec.get("urgency", "")),
                                 rec.get("priority", "") or "5")

    def _apply_rules(self, old, rec, now):
        """What the instance's business rules do on save; raises PolicyError."""
        rec["priority"] = self._priority(rec)
        state = rec.get("state", "")
        rec["active"] = "false" if state in ("6", "7", "8") else "true"
        if state == "6" and old.get("state") != "6" and not rec.get("resolved_at"):
            rec["resolved_at"] = now
        if state == "7" and old.get("state") != "7":
            rec["closed_at"] = now
            if not rec.get("resolved_at"):
                rec["resolved_at"] = now
        if state not in ("6", "7"):
            rec["resolved_at"] = "" if state not in ("8",) else rec.get("resolved_at", "")
            rec["closed_at"] = ""
        if state in ("6", "7"):
            missing = [LABELS[f] for f in ("close_code", "close_notes") if not rec.get(f)]
            if missing:
                raise PolicyError("Data Policy Exception: \n\tThe following fields are mandatory: "
                                  + ", ".join(missing))

    # --- writes -------------------------------------------------------------

    def _journal(self, sys_id, body, user, now, lag):
        rows = []
        for element in JOURNAL:
            value = _text(body.get(element))
            if value == "":
                continue
            row = {"sys_id": new_sys_id(), "element": element, "element_id": sys_id,
                   "name": "incident", "value": value, "sys_created_on": now,
                   "sys_created_by": user}
            self.db.execute("INSERT INTO sys_journal_field VALUES (?,?,?,?,?,?,?,?)",
                            [row[n] for n, _ in JOURNAL_FIELDS] + [time.time() + lag])
            rows.append(row)
        return rows

    def _audit(self, sys_id, field, old, new, user, now, checkpoint):
        self.db.execute("INSERT INTO sys_audit VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        (new_sys_id(), "incident", sys_id, field, old, new, user, "",
                         str(checkpoint), now, user))

    def _history(self, rec, user, operation):
        self.db.execute("INSERT INTO state_history (sys_id, state, user, at, sys_mod_count, operation) "
                        "VALUES (?,?,?,?,?,?)", (rec["sys_id"], rec["state"], user,
                                                 rec["sys_updated_on"], rec["sys_mod_count"], operation))

    def create(self, body, user, journal_lag=0.0):
        """Inserts an incident; returns the record. Raises PolicyError."""
        with self.lock:
            now = self.clock.now_str()
            rec = {n: "" for n, _ in INCIDENT_FIELDS}
            for f in WRITABLE:
                if f in body:
                    rec[f] = _text(body[f])
            rec["state"] = rec["state"] or "1"
            rec["impact"] = rec["impact"] or "3"
            rec["urgency"] = rec["urgency"] or "3"
            sid = _text(body.get("sys_id"))
            rec["sys_id"] = sid if len(sid) == 32 and all(c in "0123456789abcdef" for c in sid) \
                else new_sys_id()
            self._apply_rules({}, rec, now)
            if self.db.execute("SELECT 1 FROM incident WHERE sys_id=?", (rec["sys_id"],)).fetchone():
                raise PolicyError("duplicate sys_id")
            rec["number"] = _text(body.get("number")) or self._next_number()
            rec["opened_at"] = now
            rec["sys_mod_count"] = "0"
            rec["sys_created_on"] = rec["sys_updated_on"] = now
            rec["sys_created_by"] = rec["sys_updated_by"] = user
            self.db.execute("BEGIN")
            try:
                self.db.execute("INSERT INTO incident VALUES (%s)" % ",".join("?" * len(INCIDENT_FIELDS)),
                                [rec[n] for n, _ in INCIDENT_FIELDS])
                self._journal(rec["sys_id"], body, user, now, journal_lag)
                self._history(rec, user, "insert")
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            return rec

    def update(self, sys_id, body, user, journal_lag=0.0):
        """Updates an incident: (record, changed) or (None, False) when absent.

        A write that changes nothing (same values, no journal entry) leaves
        the record as it was: no sys_mod_count, no sys_updated_on.
        Raises PolicyError (nothing applied)."""
        with self.lock:
            old = self.get("incident", sys_id)
            if old is None:
                return None, False
            now = self.clock.now_str()
            rec = dict(old)
            for f in WRITABLE:
                if f in body:
                    rec[f] = _text(body[f])
            self._apply_rules(old, rec, now)
            journal = [e for e in JOURNAL if _text(body.get(e)) != ""]
            changed = [n for n, _ in INCIDENT_FIELDS
                       if not n.startswith("sys_") and rec[n] != old[n]]
            if not changed and not journal:
                return old, False
            rec["sys_mod_count"] = str(int(old["sys_mod_count"] or "0") + 1)
            rec["sys_updated_on"] = now
            rec["sys_updated_by"] = user
            self.db.execute("BEGIN")
            try:
                sets = ", ".join('"%s"=?' % n for n, _ in INCIDENT_FIELDS if n != "sys_id")
                self.db.execute("UPDATE incident SET %s WHERE sys_id=?" % sets,
                                [rec[n] for n, _ in INCIDENT_FIELDS if n != "sys_id"] + [sys_id])
                for f in changed:
                    self._audit(sys_id, f, old[f], rec[f], user, now, rec["sys_mod_count"])
                for e in journal:
                    self._audit(sys_id, e, "", _text(body[e]), user, now, rec["sys_mod_count"])
                self._journal(sys_id, body, user, now, journal_lag)
                if rec["state"] != old["state"]:
                    self._history(rec, user, "update")
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            return rec, True

    def delete(self, sys_id):
        with self.lock:
            cur = self.db.execute("DELETE FROM incident WHERE sys_id=?", (sys_id,))
            return cur.rowcount > 0

    def seed(self, count, user="admin", spread_seconds=None, state="1", ago_seconds=0):
        """Bulk-creates count incidents in one transaction (no webhooks).

        Their sys_updated_on are spread over the spread_seconds before now
        less ago_seconds (default: one second apart, ending now), oldest first."""
        import datetime
        with self.lock:
            now = self.clock.now() - datetime.timedelta(seconds=float(ago_seconds))
            spread = float(count if spread_seconds is None else spread_seconds)
            base = int(self.meta_get("incident_number", "10000"))
            rows, hist = [], []
            prio = self.priority.get(("3", "3"), "4")
            active = "false" if state in ("6", "7", "8") else "true"
            for i in range(count):
                at = now - datetime.timedelta(seconds=int(spread * (count - i) / max(count, 1)))
                ts = at.strftime("%Y-%m-%d %H:%M:%S")
                sid = new_sys_id()
                rec = (sid, "INC%07d" % (base + i + 1), "Seeded incident %d" % (i + 1), "",
                       state, "3", "3", prio, "", "", "", "", "", "", active, ts, "", "",
                       "0", ts, user, ts, user)
                rows.append(rec)
                hist.append((sid, state, user, ts, "0", "insert"))
            self.db.execute("BEGIN")
            try:
                self.db.executemany("INSERT INTO incident VALUES (%s)" % ",".join("?" * len(INCIDENT_FIELDS)), rows)
                self.db.executemany("INSERT INTO state_history (sys_id, state, user, at, sys_mod_count, operation) "
                                    "VALUES (?,?,?,?,?,?)", hist)
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('incident_number', ?)", (str(base + count),))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            return count

    # --- reads --------------------------------------------------------------

    def get(self, table, sys_id):
        with self.lock:
            row = self.db.execute('SELECT * FROM "%s" WHERE sys_id=?' % table, (sys_id,)).fetchone()
        if row is None:
            return None
        return {n: (row[n] if row[n] is not None else "") for n, _ in TABLES[table]}

    def list(self, table, where, params, order, limit, offset, count=True):
        """(rows, total) of a compiled query; total None when not counted."""
        extra = ""
        extra_params = []
        if table == "sys_journal_field":
            extra = " AND (visible_at IS NULL OR visible_at <= ?)"
            extra_params = [time.time()]
        sql = 'FROM "%s" WHERE (%s)%s' % (table, where, extra)
        order_sql = " ORDER BY %s" % order if order else " ORDER BY rowid"
        with self.lock:
            total = None
            if count:
                total = self.db.execute("SELECT COUNT(*) " + sql, params + extra_params).fetchone()[0]
            rows = self.db.execute("SELECT * " + sql + order_sql + " LIMIT ? OFFSET ?",
                                   params + extra_params + [limit, offset]).fetchall()
        names = [n for n, _ in TABLES[table]]
        return [{n: (r[n] if r[n] is not None else "") for n in names} for r in rows], total

    def history(self, sys_id):
        with self.lock:
            rows = self.db.execute("SELECT state, user, at, sys_mod_count, operation FROM state_history "
                                   "WHERE sys_id=? ORDER BY seq", (sys_id,)).fetchall()
        return [{"state": r[0], "user": r[1], "at": r[2], "sys_mod_count": int(r[3] or 0),
                 "operation": r[4]} for r in rows]
