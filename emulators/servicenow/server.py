#!/usr/bin/python3
"""emulators/servicenow/server.py: a ServiceNow Table API emulator (a test tool).

It answers the part of a ServiceNow instance's REST API that concord's
ServiceNow connector uses, in the shapes the documentation gives, with the
platform's behaviour on writes (priority lookup, data policy, journal and
audit rows), so the connector can be tested without an instance. It is not
ServiceNow and not part of the product; emulators/servicenow/README.md lists
what is emulated, the source of each fact, and what is not.

Run:
    /usr/bin/python3 emulators/servicenow/server.py --port P --db FILE
        [--user U:PASSWORD ...] [--oauth-client ID:SECRET[:USER]] [--token-ttl S]
        [--skew SECONDS] [--rate-limit N] [--rate-window S]
        [--webhook URL] [--webhook-secret S] [--webhook-token T]
        [--sys-user USER_NAME ...] [--journal-lag S] [--priority-lookup FILE.json]
        [--invalid-query ignore|no-rows|400] [--deny-audit]

It listens on 127.0.0.1 only and prints one line "listening 127.0.0.1:PORT"
when ready (--port 0 picks a free port). State lives in the SQLite file
--db and survives restarts. Python 3 standard library only.

The test control API under /emulator/ needs no authentication: the emulator
listens on loopback only and is a test tool.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import math
import os
import queue
import random
import re
import secrets
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import query as snquery  # noqa: E402
import store as snstore  # noqa: E402

DEFAULT_LIMIT = 10000  # "sysparm_limit ... Default: 10000" (Table API)
MAX_BODY = 4 << 20
TABLE_PATH = re.compile(r"^/api/now/(?:v[12]/)?table/([A-Za-z0-9_]+)(?:/([^/]+))?/?$")
RATE_RULE_SYS_ID = hashlib.md5(b"concord-emulator-rate-limit-rule").hexdigest()


def error_body(message, detail):
    """ServiceNow's error envelope."""
    return {"error": {"message": message, "detail": detail}, "status": "failure"}


NOT_FOUND = error_body("No Record found", "Record doesn't exist or ACL restricts the record retrieval")
NOT_AUTHENTICATED = error_body("User Not Authenticated", "Required to provide Auth information")


class Clock:
    """The instance's clock: real UTC time shifted by a skew, 1 s resolution."""

    def __init__(self, skew=0.0):
        self.skew = float(skew)

    def now(self):
        t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=self.skew)
        return t.replace(microsecond=0, tzinfo=None)

    def now_str(self):
        return self.now().strftime("%Y-%m-%d %H:%M:%S")


class Faults:
    """Faults switchable at run time (POST /emulator/faults)."""

    KEYS = {"latency_ms": 0.0, "p_429": 0.0, "p_5xx": 0.0, "p_timeout_after_write": 0.0,
            "p_dup_webhook": 0.0, "p_reorder_webhook": 0.0, "seed": None,
            "hang_s": 30.0, "timeout_mode": "either", "journal_lag_s": 0.0,
            "deny_audit": False}

    def __init__(self, journal_lag=0.0, deny_audit=False):
        self.lock = threading.Lock()
        self.values = dict(self.KEYS)
        self.values["journal_lag_s"] = float(journal_lag)
        self.values["deny_audit"] = bool(deny_audit)
        self.rng = random.Random()

    def set(self, changes):
        with self.lock:
            for k, v in changes.items():
                if k not in self.KEYS:
                    raise ValueError("unknown fault %r (known: %s)" % (k, ", ".join(sorted(self.KEYS))))
                if k.startswith("p_"):
                    v = float(v)
                    if not 0.0 <= v <= 1.0:
                        raise ValueError("%s must be within [0, 1]" % k)
                elif k in ("latency_ms", "hang_s", "journal_lag_s"):
                    v = float(v)
                    if v < 0:
                        raise ValueError("%s must not be negative" % k)
                elif k == "timeout_mode":
                    if v not in ("hang", "close", "either"):
                        raise ValueError("timeout_mode is hang, close or either")
                elif k == "deny_audit":
                    v = bool(v)
                elif k == "seed" and v is not None:
                    v = int(v)
                self.values[k] = v
            if "seed" in changes:
                self.rng = random.Random(self.values["seed"])
            return dict(self.values)

    def get(self, key):
        with self.lock:
            return self.values[key]

    def snapshot(self):
        with self.lock:
            return dict(self.values)

    def roll(self, key):
        """True with the probability of fault key."""
        with self.lock:
            p = self.values[key]
            return p > 0 and self.rng.random() < p

    def choice(self, seq):
        with self.lock:
            return self.rng.choice(seq)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = {}
        self.counters = {"429_sent": 0, "429_rate_limit": 0, "429_fault": 0, "5xx_fault": 0,
                         "timeout_after_write": 0, "webhooks_sent": 0, "webhooks_failed": 0,
                         "webhook_retries": 0, "webhooks_duplicated": 0, "webhooks_reordered": 0}

    def request(self, kind):
        with self.lock:
            self.requests[kind] = self.requests.get(kind, 0) + 1

    def add(self, key, n=1):
        with self.lock:
            self.counters[key] = self.counters.get(key, 0) + n

    def wrote(self, user, changed):
        """An applied create or update (comments are updates of the journal
        fields), by user; `changed`: it changed something."""
        with self.lock:
            w = self.counters.setdefault("writes_by_user", {})
            w[user] = w.get(user, 0) + 1
            if not changed:
                n = self.counters.setdefault("writes_unchanged_by_user", {})
                n[user] = n.get(user, 0) + 1

    def snapshot(self):
        with self.lock:
            return {"requests": dict(self.requests),
                    **{k: dict(v) if isinstance(v, dict) else v for k, v in self.counters.items()}}


class RateLimiter:
    """Per-user request counts in fixed windows (the instance counts per user
    per hour; the window is configurable so tests need not wait an hour)."""

    def __init__(self, limit, window):
        self.limit = limit
        self.window = window
        self.lock = threading.Lock()
        self.counts = {}

    def check(self, user):
        """(allowed, headers) for one request of user; headers always set
        when a limit is configured (the request matches the rule)."""
        now = time.time()
        start = math.floor(now / self.window) * self.window
        reset = int(start + self.window)
        headers = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Reset": str(reset),
                   "X-RateLimit-Rule": RATE_RULE_SYS_ID}
        with self.lock:
            key = (user, start)
            n = self.counts.get(key, 0)
            if n >= self.limit:
                headers["Retry-After"] = str(max(1, int(math.ceil(reset - now))))
                return False, headers
            self.counts = {k: v for k, v in self.counts.items() if k[1] == start}
            self.counts[key] = n + 1
        return True, headers

    def detail(self):
        if self.window == 3600:
            per = "hour"
        else:
            per = "%d seconds" % self.window
        return "Rate limit of %d requests per %s for Table API exceeded" % (self.limit, per)


class Webhooks:
    """Outbound webhooks from a background thread: what a business rule with
    an outbound REST message would send on every insert and update."""

    def __init__(self, url, secret, token, faults, stats, attempts=4):
        self.url, self.secret, self.token = url, secret, token
        self.faults, self.stats, self.attempts = faults, stats, attempts
        self.q = queue.Queue()
        # Straight to the URL: no proxy from the environment.
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        if url:
            threading.Thread(target=self._run, name="webhooks", daemon=True).start()

    def emit(self, rec, operation):
        if not self.url:
            return
        self.q.put({"table": "incident", "sys_id": rec["sys_id"], "number": rec["number"],
                    "sys_mod_count": int(rec["sys_mod_count"]),
                    "sys_updated_on": rec["sys_updated_on"], "operation": operation})

    def _send(self, event):
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        if self.secret:
            sig = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Concord-Signature"] = "sha256=" + sig
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        delay = 0.5
        for attempt in range(self.attempts):
            try:
                req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
                with self.opener.open(req, timeout=5) as resp:
                    resp.read()
                self.stats.add("webhooks_sent")
                return True
            except (urllib.error.URLError, OSError, ValueError):
                if attempt + 1 < self.attempts:
                    self.stats.add("webhook_retries")
                    time.sleep(delay)
                    delay *= 2
        self.stats.add("webhooks_failed")
        return False

    def _run(self):
        held = None
        while True:
            try:
                event = self.q.get(timeout=2.0 if held else None)
            except queue.Empty:
                self._send(held)
                held = None
                continue
            if held is None and self.faults.roll("p_reorder_webhook"):
                held = event  # sent after the next one
                self.stats.add("webhooks_reordered")
                continue
            self._send(event)
            if self.faults.roll("p_dup_webhook"):
                self.stats.add("webhooks_duplicated")
                self._send(event)
            if held is not None:
                self._send(held)
                held = None


class Emulator:
    def __init__(self, args):
        self.args = args
        self.clock = Clock(args.skew)
        priority = None
        if args.priority_lookup:
            priority = load_priority(args.priority_lookup)
        self.store = snstore.Store(args.db, self.clock, priority)
        self.users = {}
        for u in args.user or ["admin:admin"]:
            name, _, pw = u.partition(":")
            self.users[name] = pw
        self.clients = {}
        for c in args.oauth_client or []:
            parts = c.split(":")
            if len(parts) < 2:
                raise SystemExit("--oauth-client takes ID:SECRET[:USER]")
            self.clients[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else parts[0])
        for name in list(self.users) + [c[1] for c in self.clients.values()] + (args.sys_user or []):
            self.store.add_user(name)
        self.faults = Faults(args.journal_lag, args.deny_audit)
        self.stats = Stats()
        self.rate = RateLimiter(args.rate_limit, args.rate_window) if args.rate_limit else None
        self.webhooks = Webhooks(args.webhook, args.webhook_secret, args.webhook_token,
                                 self.faults, self.stats)


def load_priority(path):
    """The priority lookup as JSON: [{"impact": "1", "urgency": "1",
    "priority": "1"}, ...] or {"1,1": "1", ...}."""
    with open(path) as f:
        data = json.load(f)
    table = {}
    if isinstance(data, dict):
        for k, v in data.items():
            i, u = (s.strip() for s in k.split(","))
            table[(i, u)] = str(v)
    else:
        for row in data:
            table[(str(row["impact"]), str(row["urgency"]))] = str(row["priority"])
    return table


def present(rec, table, fields, mode, exclude_links, base, user_display=None):
    """One record as the Table API answers it (sysparm_fields,
    sysparm_display_value, sysparm_exclude_reference_link); user_display
    gives a sys_user's display value."""
    out = {}
    names = [n for n, _ in snstore.TABLES[table]]
    if table == "incident":
        names = names + ["sys_class_name", "comments", "work_notes", "comments_and_work_notes"]
        rec = dict(rec, sys_class_name="incident", comments="", work_notes="",
                   comments_and_work_notes="")
    if fields:
        names = [f for f in fields if f in names]  # "Invalid fields are ignored."
    for n in names:
        value = rec.get(n, "")
        display = value
        if table == "incident" and n in snstore.CHOICES:
            display = snstore.CHOICES[n].get(value, value)
        ref = snstore.REFERENCES.get(n) if table == "incident" else None
        if ref and value != "":
            if user_display is not None and mode != "false":
                display = user_display(value) or value
            link = "%s/api/now/table/%s/%s" % (base, ref, urllib.parse.quote(value, safe=""))
            if mode == "true":
                out[n] = display if exclude_links else {"display_value": display, "link": link}
            elif mode == "all":
                out[n] = {"display_value": display, "value": value}
                if not exclude_links:
                    out[n]["link"] = link
            else:
                out[n] = value if exclude_links else {"link": link, "value": value}
            continue
        if mode == "true":
            out[n] = display
        elif mode == "all":
            out[n] = {"display_value": display, "value": value}
        else:
            out[n] = value
    return out


def link_header(base, path, pairs, offset, limit, total):
    """The Link header of a list answer, or None.

    Shape from answers of real instances: the request's parameters in their
    order, sysparm_offset (then sysparm_limit when the request had none)
    appended; values percent-encoded except the commas of sysparm_fields;
    first and last always, prev/next when there is such a page; no header
    when everything fits in one page."""
    if total <= limit and offset == 0:
        return None

    def url(off):
        parts = []
        has_limit = False
        for k, v in pairs:
            if k == "sysparm_offset":
                continue
            if k == "sysparm_limit":
                has_limit = True
                v = str(limit)
            safe = "," if k == "sysparm_fields" else ""
            parts.append("%s=%s" % (urllib.parse.quote(k, safe=""), urllib.parse.quote(v, safe=safe)))
        parts.append("sysparm_offset=%d" % off)
        if not has_limit:
            parts.append("sysparm_limit=%d" % limit)
        return "<%s%s?%s>" % (base, path, "&".join(parts))

    last = ((total - 1) // limit) * limit if total > 0 else 0
    links = [url(0) + ';rel="first"']
    if offset > 0:
        links.append(url(max(0, offset - limit)) + ';rel="prev"')
    if offset + limit < total:
        links.append(url(offset + limit) + ';rel="next"')
    links.append(url(last) + ';rel="last"')
    return ",".join(links)


def _number(text, default, minimum):
    """text as an int >= minimum; default when absent; None when invalid."""
    if text is None or text == "":
        return default
    try:
        n = int(text)
    except ValueError:
        return None
    return n if n >= minimum else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ServiceNow"
    sys_version = ""
    emu = None  # set by main

    def version_string(self):
        return "ServiceNow"

    def date_time_string(self, timestamp=None):
        # The Date header comes from the instance's clock, skew included.
        if timestamp is None:
            timestamp = time.time() + self.emu.clock.skew
        return super().date_time_string(timestamp)

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without TCP_NODELAY the
        # second waits for the client's delayed ACK (40 ms on Linux).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        if os.environ.get("SNEMU_LOG"):
            sys.stderr.write("snemu %s\n" % (fmt % args))

    # --- plumbing -------------------------------------------------------------

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n) if n > 0 else b""

    def send(self, status, body=None, headers=None, content_type="application/json;charset=UTF-8"):
        if body is None:
            raw = b""
        elif isinstance(body, (bytes, str)):
            raw = body.encode() if isinstance(body, str) else body
        else:
            raw = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        if raw or status not in (204,):
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if raw:
            self.wfile.write(raw)

    def base(self):
        return "http://%s" % (self.headers.get("Host") or "127.0.0.1:%d" % self.server.server_port)

    def kind(self, method, path):
        if path.startswith("/emulator/"):
            return "emulator"
        if path == "/oauth_token.do":
            return "oauth"
        m = TABLE_PATH.match(path)
        if not m:
            return "other"
        one = m.group(2) is not None
        return {"GET": "table_get" if one else "table_list", "POST": "table_create",
                "PATCH": "table_update", "PUT": "table_update", "DELETE": "table_delete"}.get(
                    method, "table_other")

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method):
        emu = self.emu
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        kind = self.kind(method, path)
        emu.stats.request("%s %s" % (method, kind))
        try:
            body = self._body()
        except ValueError:
            self.close_connection = True
            return self.send(413, error_body("Request too large", None))
        try:
            if kind == "emulator":
                return self.control(method, path, parsed.query, body)
            if kind == "oauth":
                return self.oauth(method, body)
            if kind == "other":
                return self.send(400, error_body("Requested URI does not represent any resource", None))
            return self.table(method, path, parsed.query, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # a bug of the emulator: say so, in the envelope
            sys.stderr.write("snemu: %s %s: %r\n" % (method, path, e))
            self.close_connection = True
            try:
                self.send(500, error_body("Emulator error", repr(e)))
            except OSError:
                pass

    # --- authentication -----------------------------------------------------------

    def authenticate(self):
        """The user name, or None."""
        auth = self.headers.get("Authorization", "")
        scheme, _, cred = auth.partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, pw = base64.b64decode(cred.strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            want = self.emu.users.get(user)
            if want is not None and hmac.compare_digest(want, pw):
                return user
            return None
        if scheme.lower() == "bearer":
            return self.emu.store.token_user(cred.strip())
        return None

    def oauth(self, method, raw):
        if method != "POST":
            return self.send(405, error_body("Method not Supported", None))
        form = dict(urllib.parse.parse_qsl(raw.decode(errors="replace"), keep_blank_values=True))
        cid, secret = form.get("client_id", ""), form.get("client_secret", "")
        auth = self.headers.get("Authorization", "")
        if not cid and auth.lower().startswith("basic "):
            try:
                cid, _, secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                pass
        denied = {"error_description": "access_denied", "error": "server_error"}
        client = self.emu.clients.get(cid)
        if client is None or not hmac.compare_digest(client[0], secret):
            return self.send(401, denied)
        grant = form.get("grant_type", "")
        if grant == "client_credentials":
            user = client[1]
        elif grant == "password":
            user = form.get("username", "")
            want = self.emu.users.get(user)
            if want is None or not hmac.compare_digest(want, form.get("password", "")):
                return self.send(401, denied)
        else:
            return self.send(400, {"error_description": "unsupported grant_type",
                                   "error": "unsupported_grant_type"})
        token = secrets.token_urlsafe(48)
        ttl = self.emu.args.token_ttl
        self.emu.store.token_add(token, cid, user, time.time() + ttl)
        answer = {"access_token": token, "scope": "useraccount", "token_type": "Bearer",
                  "expires_in": int(ttl)}
        if grant == "password":
            answer["refresh_token"] = secrets.token_urlsafe(48)
        return self.send(200, answer, {"Cache-Control": "no-store"})

    # --- faults -------------------------------------------------------------------

    def fail_5xx(self):
        self.emu.stats.add("5xx_fault")
        status = self.emu.faults.choice([500, 502, 503])
        if status == 500:
            return self.send(500, error_body("Internal server error", "Injected fault"))
        self.close_connection = True
        return self.send(status, "<html><body><h1>%d</h1>Injected fault</body></html>" % status,
                         content_type="text/html;charset=UTF-8")

    def lose_answer(self):
        """The write was applied; the answer never comes."""
        self.emu.stats.add("timeout_after_write")
        mode = self.emu.faults.get("timeout_mode")
        if mode == "either":
            mode = self.emu.faults.choice(["hang", "close"])
        if mode == "hang":
            time.sleep(self.emu.faults.get("hang_s"))
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # --- Table API ----------------------------------------------------------------

    def table(self, method, path, query_string, raw):
        emu = self.emu
        user = self.authenticate()
        if user is None:
            return self.send(401, NOT_AUTHENTICATED, {"WWW-Authenticate": 'BASIC realm="Service-now"'})
        rl_headers = {}
        if emu.rate is not None:
            allowed, rl_headers = emu.rate.check(user)
            if not allowed:
                emu.stats.add("429_sent")
                emu.stats.add("429_rate_limit")
                return self.send(429, error_body("Rate limit exceeded", emu.rate.detail()), rl_headers)
        latency = emu.faults.get("latency_ms")
        if latency:
            time.sleep(latency / 1000.0)
        if emu.faults.roll("p_429"):
            emu.stats.add("429_sent")
            emu.stats.add("429_fault")
            # As if a rule had been hit: its headers when one is configured.
            h = dict(rl_headers) or {"X-RateLimit-Reset": str(int(time.time()) + 1),
                                     "X-RateLimit-Rule": RATE_RULE_SYS_ID}
            h["Retry-After"] = "1"
            return self.send(429, error_body("Rate limit exceeded", "Injected fault"), h)
        if emu.faults.roll("p_5xx"):
            return self.fail_5xx()

        m = TABLE_PATH.match(path)
        table, sys_id = m.group(1), m.group(2)
        if table not in snstore.TABLES:
            return self.send(400, error_body("Invalid table %s" % table,
                                             "Table %s does not exist" % table), rl_headers)
        pairs = urllib.parse.parse_qsl(query_string, keep_blank_values=True)
        params = dict(pairs)
        mode = params.get("sysparm_display_value", "false").lower()
        mode = mode if mode in ("true", "all") else "false"
        exclude = params.get("sysparm_exclude_reference_link", "false").lower() == "true"
        fields = [f.strip() for f in params.get("sysparm_fields", "").split(",") if f.strip()]
        base = self.base()

        if table == "sys_audit" and emu.faults.get("deny_audit"):
            return self.send(403, error_body("Insufficient rights to query records", None), rl_headers)

        def shape(rec):
            return present(rec, table, fields, mode, exclude, base, emu.store.user_display)

        if method == "GET" and sys_id is None:
            return self.list(table, path, pairs, params, shape, base, rl_headers)
        if method == "GET":
            rec = emu.store.get(table, sys_id)
            if rec is None:
                return self.send(404, NOT_FOUND, rl_headers)
            return self.send(200, {"result": shape(rec)}, rl_headers)

        if table != "incident":
            return self.send(403, error_body("Operation Failed",
                                             "The emulator writes to incident only"), rl_headers)
        if method in ("PATCH", "PUT", "DELETE") and sys_id is None:
            return self.send(405, error_body("Method not Supported",
                                             "%s method not supported for API" % method), rl_headers)
        if method == "POST" and sys_id is not None:
            return self.send(405, error_body("Method not Supported",
                                             "POST method not supported for API"), rl_headers)
        if method == "DELETE":
            if not emu.store.delete(sys_id):
                return self.send(404, NOT_FOUND, rl_headers)
            if emu.faults.roll("p_timeout_after_write"):
                return self.lose_answer()
            return self.send(204, None, rl_headers)

        try:
            body = json.loads(raw.decode() or "{}")
        except (ValueError, UnicodeDecodeError):
            return self.send(400, error_body("Exception while reading request",
                                             "The payload is not valid JSON."), rl_headers)
        if not isinstance(body, dict):
            return self.send(400, error_body("Exception while reading request",
                                             "The payload is not a JSON object."), rl_headers)
        lag = emu.faults.get("journal_lag_s")
        try:
            if method == "POST":
                rec = emu.store.create(body, user, lag)
                changed, status, operation = True, 201, "insert"
            else:
                rec, changed = emu.store.update(sys_id, body, user, lag)
                status, operation = 200, "update"
                if rec is None:
                    return self.send(404, NOT_FOUND, rl_headers)
        except snstore.PolicyError as e:
            return self.send(403, error_body("Operation Failed", str(e)), rl_headers)
        emu.stats.wrote(user, changed)
        if changed:
            emu.webhooks.emit(rec, operation)
        if emu.faults.roll("p_timeout_after_write"):
            return self.lose_answer()
        headers = dict(rl_headers)
        if status == 201:
            headers["Location"] = "%s/api/now/table/incident/%s" % (base, rec["sys_id"])
            if self.headers.get("X-no-response-body", "").lower() == "true":
                return self.send(201, None, headers)
        return self.send(status, {"result": shape(rec)}, headers)

    def list(self, table, path, pairs, params, shape, base, rl_headers):
        emu = self.emu
        q = params.get("sysparm_query", "")
        # "name-value pairs ... mutually exclusive with sysparm_query":
        # &active=true is read as active=true.
        field_names = dict(snstore.TABLES[table])
        extra = ["%s=%s" % (k, v) for k, v in pairs if not k.startswith("sysparm_") and k in field_names]
        if extra and not q:
            q = "^".join(extra)
        where, qparams, order, invalid = snquery.compile(q, field_names)
        policy = emu.args.invalid_query
        limit = _number(params.get("sysparm_limit"), DEFAULT_LIMIT, 1)
        offset = _number(params.get("sysparm_offset"), 0, 0)
        if policy == "400" and (limit is None or offset is None):
            return self.send(400, error_body("Invalid query", "sysparm_limit and sysparm_offset "
                                             "are numbers"), rl_headers)
        limit = DEFAULT_LIMIT if limit is None else limit
        offset = 0 if offset is None else offset
        if invalid and policy == "400":
            return self.send(400, error_body("Invalid query", "; ".join(invalid)), rl_headers)
        if invalid and policy == "no-rows":
            where, qparams = "0", []
        no_count = params.get("sysparm_no_count", "false").lower() == "true"
        rows, total = emu.store.list(table, where, qparams, order, limit, offset, count=not no_count)
        headers = dict(rl_headers)
        if total is not None:
            headers["X-Total-Count"] = str(total)
            if params.get("sysparm_suppress_pagination_header", "false").lower() != "true":
                link = link_header(base, path, pairs, offset, limit, total)
                if link:
                    headers["Link"] = link
        return self.send(200, {"result": [shape(r) for r in rows]}, headers)

    # --- control API ----------------------------------------------------------------

    def control(self, method, path, query_string, raw):
        emu = self.emu
        try:
            data = json.loads(raw.decode() or "{}") if method == "POST" else {}
            if not isinstance(data, dict):
                raise ValueError("a JSON object is expected")
        except ValueError as e:
            return self.send(400, {"error": "bad JSON: %s" % e})
        q = dict(urllib.parse.parse_qsl(query_string))
        if path == "/emulator/faults":
            if method == "POST":
                try:
                    return self.send(200, emu.faults.set(data))
                except (ValueError, TypeError) as e:
                    return self.send(400, {"error": str(e)})
            return self.send(200, emu.faults.snapshot())
        if path == "/emulator/seed" and method == "POST":
            count = int(data.get("count", 0))
            if count <= 0 or count > 10_000_000:
                return self.send(400, {"error": "count must be within 1..10000000"})
            t0 = time.monotonic()
            emu.store.seed(count, data.get("user", "admin"), data.get("spread_seconds"),
                           str(data.get("state", "1")), float(data.get("ago_seconds", 0)))
            return self.send(200, {"created": count, "seconds": round(time.monotonic() - t0, 3)})
        if path == "/emulator/history" and method == "GET":
            sid = q.get("sys_id", "")
            rec = emu.store.get("incident", sid)
            hist = emu.store.history(sid)
            if rec is None and not hist:
                return self.send(404, {"error": "no such incident"})
            flips = sum(1 for a, b in zip(hist, hist[1:]) if a["state"] != b["state"])
            return self.send(200, {"sys_id": sid, "number": rec["number"] if rec else None,
                                   "history": hist, "state_changes": flips})
        if path == "/emulator/clock":
            if method == "POST":
                try:
                    emu.clock.skew = float(data["skew"])
                except (KeyError, TypeError, ValueError):
                    return self.send(400, {"error": 'expected {"skew": seconds}'})
            return self.send(200, {"skew": emu.clock.skew, "now": emu.clock.now_str()})
        if path == "/emulator/stats" and method == "GET":
            return self.send(200, emu.stats.snapshot())
        return self.send(404, {"error": "no such control endpoint",
                               "endpoints": ["GET|POST /emulator/faults", "POST /emulator/seed",
                                             "GET /emulator/history?sys_id=", "GET|POST /emulator/clock",
                                             "GET /emulator/stats"]})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def parse_args(argv):
    p = argparse.ArgumentParser(description="ServiceNow Table API emulator (test tool)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--db", required=True, help="SQLite file holding the state")
    p.add_argument("--user", action="append", help="U:PASSWORD for Basic auth (repeatable; "
                   "default admin:admin)")
    p.add_argument("--oauth-client", action="append", help="ID:SECRET[:USER] for /oauth_token.do")
    p.add_argument("--token-ttl", type=float, default=1800.0, help="bearer token lifetime, s")
    p.add_argument("--skew", type=float, default=0.0, help="instance clock minus real clock, s")
    p.add_argument("--rate-limit", type=int, default=0, help="requests per window per user (0: none)")
    p.add_argument("--rate-window", type=int, default=60, help="rate-limit window, s (an instance: 3600)")
    p.add_argument("--webhook", help="URL to POST change notifications to")
    p.add_argument("--webhook-secret", help="HMAC-SHA256 key of X-Concord-Signature")
    p.add_argument("--webhook-token", help="Bearer token sent with webhooks")
    p.add_argument("--sys-user", action="append",
                   help="a user_name of sys_user (repeatable; the --user and OAuth users are there too)")
    p.add_argument("--journal-lag", type=float, default=0.0,
                   help="seconds before a journal entry shows in sys_journal_field reads")
    p.add_argument("--priority-lookup", help="JSON priority lookup (impact, urgency -> priority)")
    p.add_argument("--invalid-query", choices=("ignore", "no-rows", "400"), default="ignore",
                   help="an invalid part of sysparm_query: ignored (the instance's default), "
                   "no rows (glide.invalid_query.returns_no_rows), or a 400")
    p.add_argument("--deny-audit", action="store_true", help="GET sys_audit answers 403")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    emu = Emulator(args)
    Handler.emu = emu
    httpd = Server(("127.0.0.1", args.port), Handler)
    print("listening 127.0.0.1:%d" % httpd.server_port, flush=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
