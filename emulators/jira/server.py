#!/usr/bin/python3
"""emulators/jira/server.py: a Jira Cloud platform REST API v3 emulator (a
test tool, not the product).

It answers the part of Jira Cloud's REST API v3 that concord's Jira connector
uses (search with JQL and nextPageToken, issues, workflow transitions,
changelog, comments in ADF, labels, entity properties, the account's time
zone), with the behaviours a sync must cope with: a search that lags behind
writes, status moved only through transitions, screens that require fields,
per-issue write limits, 429s with Jira's headers, signed webhooks that are
retried, duplicated and reordered. emulators/jira/README.md lists what is
emulated, the source of each fact, and what is not.

Run:
    /usr/bin/python3 emulators/jira/server.py --port P --db FILE
        [--user EMAIL:API_TOKEN[:TIME_ZONE] ...] [--time-zone TZ]
        [--project KEY[:NAME] ...] [--skew SECONDS] [--search-lag SECONDS]
        [--issue-write-limit N/SECONDS ...] [--burst-limit N_PER_SECOND]
        [--webhook URL] [--webhook-secret S] [--verbose]

It listens on 127.0.0.1 only and prints one line "listening 127.0.0.1:PORT"
when ready (--port 0 picks a free port). State lives in the SQLite file --db
and survives restarts. Python 3 standard library only. The test control API
under /emulator/ needs no authentication: loopback only, for tests.
"""

import argparse
import base64
import collections
import hashlib
import json
import os
import random
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import adf  # noqa: E402
import issues as iss  # noqa: E402
import workflow as wf  # noqa: E402
from jql import JqlError, compile_jql  # noqa: E402
from ratelimit import BurstLimiter, IssueWriteLimiter, parse_limits  # noqa: E402
from store import Store  # noqa: E402
from timefmt import Clock, fmt, fmt_reset, zone  # noqa: E402
from webhooks import Webhooks  # noqa: E402

MAX_BODY = 4 << 20
DEFAULT_SEARCH_PAGE = 50        # maxResults default (search/jql)
MAX_SEARCH_IDS = 5000           # "It returns max 5000 issues" (id/key only)
MAX_SEARCH_FIELDS = 100         # fewer per page when fields are asked for (modelled)
DEFAULT_PAGE = 100              # changelog and comments: maxResults default 100
MAX_PROPERTY_CHARS = 32768
RATE_LIMITED = {"errorMessages": ["The request has been rate-limited. Please try again later."],
                "errors": {}, "status": 429}
NOT_FOUND = "Issue does not exist or you do not have permission to see it."
EVENTS = ("jira:issue_created", "jira:issue_updated", "comment_created")
ISSUE_PATH = re.compile(r"^/rest/api/3/issue/(?P<ref>[^/]+)"
                        r"(?:/(?P<sub>transitions|changelog|comment|properties)(?:/(?P<key>[^/]+))?)?/?$")


def errors_body(messages=(), errors=None, status=None):
    """Jira's ErrorCollection."""
    out = {"errorMessages": list(messages), "errors": dict(errors or {})}
    if status is not None:
        out["status"] = status
    return out


class ApiError(Exception):
    def __init__(self, status, messages=(), errors=None, headers=None):
        super().__init__("%d %s %s" % (status, messages, errors))
        self.status, self.body, self.headers = status, errors_body(messages, errors), headers or {}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.c = collections.Counter()

    def bump(self, key, n=1):
        with self.lock:
            self.c[key] += n

    def snapshot(self):
        with self.lock:
            return dict(self.c)


class Faults:
    KEYS = {"latency_ms": 0, "p_429": 0.0, "p_5xx": 0.0, "p_timeout_after_write": 0.0,
            "timeout_mode": "hang", "hang_s": 30.0, "p_dup_webhook": 0.0, "p_reorder_webhook": 0.0,
            "seed": None, "search_lag_s": 0.0, "rate_limit_reason": "jira-burst-based"}

    def __init__(self, search_lag_s=0.0):
        self.lock = threading.Lock()
        self.v = dict(self.KEYS, search_lag_s=float(search_lag_s))
        self.rng = random.Random()

    def set(self, d):
        if not isinstance(d, dict):
            raise ValueError("faults are a JSON object")
        new = dict(self.v)
        for k, val in d.items():
            if k not in self.KEYS:
                raise ValueError("unknown fault %r (known: %s)" % (k, ", ".join(sorted(self.KEYS))))
            if k.startswith("p_"):
                val = float(val)
                if not 0.0 <= val <= 1.0:
                    raise ValueError("%s must be within [0, 1]" % k)
            elif k in ("latency_ms", "hang_s", "search_lag_s"):
                val = float(val)
                if val < 0:
                    raise ValueError("%s must be >= 0" % k)
            elif k == "timeout_mode":
                if val not in ("hang", "close", "either"):
                    raise ValueError("timeout_mode is hang, close or either")
            elif k == "rate_limit_reason":
                val = str(val)
            elif k == "seed" and val is not None:
                val = int(val)
            new[k] = val
        with self.lock:
            self.v = new
            if "seed" in d:
                self.rng = random.Random(new["seed"])
            return dict(self.v)

    def get(self, k):
        with self.lock:
            return self.v[k]

    def all(self):
        with self.lock:
            return dict(self.v)

    def roll(self, k):
        with self.lock:
            p = self.v[k]
            return p > 0 and self.rng.random() < p

    def choice(self, seq):
        with self.lock:
            return self.rng.choice(seq)


def account_id(email):
    # Atlassian account ids look like "712020:<uuid>" (or 24 hex-ish characters).
    return "712020:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "mailto:" + email.lower()))


class Emulator:
    def __init__(self, args):
        self.args = args
        self.site_tz_name = args.time_zone
        self.site_tz = zone(args.time_zone)
        self.store = Store(args.db)
        self.clock = Clock(args.skew)
        self.stats = Stats()
        self.faults = Faults(args.search_lag)
        self.issue_limiter = IssueWriteLimiter(parse_limits(args.issue_write_limit or ["20/2", "100/30"]))
        self.burst = BurstLimiter(args.burst_limit)
        self.accounts, self.tokens = {}, {}
        for spec in args.user or ["emulator@example.com:emulator-token"]:
            parts = spec.split(":", 2)
            if len(parts) < 2:
                raise SystemExit("--user takes EMAIL:API_TOKEN[:TIME_ZONE]")
            email, token = parts[0], parts[1]
            tzname = parts[2] if len(parts) > 2 else args.time_zone
            zone(tzname)
            aid = account_id(email)
            self.accounts[aid] = {"email": email, "displayName": email.split("@")[0], "timeZone": tzname}
            self.tokens[(email.lower(), token)] = aid
        self.projects = {}
        for i, spec in enumerate(args.project or ["EMU:Emulated project"]):
            key, _, name = spec.partition(":")
            key = key.upper()
            if not re.fullmatch(r"[A-Z][A-Z0-9]{1,9}", key):
                raise SystemExit("--project KEY: an uppercase letter then 1-9 uppercase letters or digits")
            self.projects[key] = (str(10000 + i), name or key)
        self.webhooks = Webhooks(self.store, self.faults, self.stats)
        if args.webhook and not any(w["url"] == args.webhook for w in self.store.webhooks()):
            self.store.add_webhook(args.webhook, args.webhook_secret, list(EVENTS))

    def lag_ms(self):
        return int(self.faults.get("search_lag_s") * 1000)

    def status_lookup(self, v):
        return v if v in wf.STATUSES else wf.status_id_by_name(v)


def _b64e(obj):
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()


def _b64d(text):
    try:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except Exception:
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "jira-emulator"
    emu = None  # set by main

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without TCP_NODELAY the
        # second waits for the client's delayed ACK (40 ms on Linux).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def date_time_string(self, timestamp=None):
        # The Date header comes from the site's clock, skew included.
        return super().date_time_string(time.time() + self.emu.clock.skew if timestamp is None else timestamp)

    def log_message(self, fmt_, *a):
        if self.emu.args.verbose:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt_ % a))

    # -- plumbing
    def _body(self):
        if getattr(self, "_raw", None) is None:
            try:
                n = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                n = 0
            if n > MAX_BODY:
                raise ApiError(413, ["The request body is too large."])
            self._raw = self.rfile.read(n) if n > 0 else b""
        return self._raw

    def _json(self):
        raw = self._body()
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError as e:
            raise ApiError(400, ["Unexpected character in the request body: %s" % e])

    def _send(self, status, obj=None, headers=None, raw=None, ctype="application/json;charset=UTF-8"):
        body = raw if raw is not None else (b"" if obj is None else json.dumps(obj).encode())
        self.send_response(status)
        if body:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
        self.emu.stats.bump("status_%d" % status)

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def _dispatch(self):
        self._raw = None
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        self.qs = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        self.base = "http://%s" % (self.headers.get("Host") or "127.0.0.1")
        try:
            self._body()
            if path.startswith("/emulator/"):
                self.emu.stats.bump("requests.control")
                return self._control(path[len("/emulator/"):].strip("/"))
            if not path.startswith("/rest/api/3/"):
                self.emu.stats.bump("requests.other")
                raise ApiError(404, ["Not found: %s" % path])
            self.account = self._auth()
            self.tz = zone(self.emu.accounts[self.account]["timeZone"])
            if self._faults_before():
                return
            self._route(path)
        except ApiError as e:
            self._send(e.status, e.body, e.headers)
        except iss.Invalid as e:
            self._send(400, errors_body(e.messages, e.errors))
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # a bug of the emulator: say so in Jira's shape
            import traceback
            traceback.print_exc()
            self.emu.stats.bump("emulator_errors")
            try:
                self._send(500, errors_body(["emulator error: %r" % (e,)]))
            except OSError:
                pass

    def _auth(self):
        """Basic auth with the account's email and API token, else 401."""
        h = self.headers.get("Authorization") or ""
        if h[:6].lower() == "basic ":
            try:
                email, _, token = base64.b64decode(h[6:].strip()).decode().partition(":")
            except Exception:
                email, token = "", ""
            aid = self.emu.tokens.get((email.lower(), token))
            if aid:
                return aid
        self.emu.stats.bump("sent_401")
        raise ApiError(401, ["Client must be authenticated to access this resource."],
                       headers={"WWW-Authenticate": 'Basic realm="protected-area"'})

    def _q(self, name, default=None):
        v = self.qs.get(name)
        return v[0] if v else default

    def _int(self, name, default, lo=0):
        v = self._q(name)
        if v is None or v == "":
            return default
        try:
            n = int(v)
        except ValueError:
            raise ApiError(400, ["The value '%s' of parameter '%s' is not a number." % (v, name)])
        if n < lo:
            raise ApiError(400, ["The value of parameter '%s' must be %d or more." % (name, lo)])
        return n

    # -- faults and limits before the handler
    def _faults_before(self):
        emu = self.emu
        lat = emu.faults.get("latency_ms")
        if lat:
            time.sleep(lat / 1000.0)
        ok, remaining, retry = emu.burst.take(self.account)
        if not ok:
            self._rate_limited("jira-burst-based", retry, limit=int(emu.burst.rate), remaining=0)
            return True
        if emu.faults.roll("p_429"):
            emu.stats.bump("faults.429")
            self._rate_limited(emu.faults.get("rate_limit_reason"), 1, near=True)
            return True
        if emu.faults.roll("p_5xx"):
            emu.stats.bump("faults.5xx")
            code = emu.faults.choice([500, 502, 503])
            if code == 500:
                self._send(500, errors_body(["Internal server error"]))
            else:
                page = ("<html><body><h1>%d</h1>Service unavailable</body></html>" % code).encode()
                self._send(code, raw=page, ctype="text/html;charset=UTF-8",
                           headers={"Retry-After": "1"} if code == 503 else None)
            return True
        return False

    def _rate_limited(self, reason, retry_after, limit=None, remaining=None, near=False):
        """429 with Retry-After (seconds), X-RateLimit-Reset (yyyy-MM-ddTHH:mmZ) and RateLimit-Reason."""
        emu = self.emu
        emu.stats.bump("sent_429")
        emu.stats.bump("sent_429." + reason)
        h = {"Retry-After": str(int(retry_after)), "RateLimit-Reason": reason,
             "X-RateLimit-Reset": fmt_reset(int((time.time() + retry_after) * 1000))}
        if limit is not None:
            h["X-RateLimit-Limit"] = str(limit)
            h["X-RateLimit-Remaining"] = str(remaining or 0)
        if near:
            h["X-RateLimit-NearLimit"] = "true"
        self._send(429, RATE_LIMITED, h)

    def _issue_write_allowed(self, issue):
        r = self.emu.issue_limiter.take(issue["id"])
        if r is None:
            return True
        retry, (n, window) = r
        self._rate_limited("jira-per-issue-on-write", retry)
        return False

    def _after_write(self):
        """p_timeout_after_write: the write is applied; then the answer never comes
        (hang hang_s and close, or close at once)."""
        emu = self.emu
        if not emu.faults.roll("p_timeout_after_write"):
            return False
        emu.stats.bump("faults.timeout_after_write")
        mode = emu.faults.get("timeout_mode")
        if mode == "either":
            mode = emu.faults.choice(["hang", "close"])
        if mode == "hang":
            time.sleep(emu.faults.get("hang_s"))
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return True

    # -- routing
    def _route(self, path):
        emu, m = self.emu, self.command
        if path == "/rest/api/3/myself" and m == "GET":
            emu.stats.bump("requests.myself")
            return self._send(200, self._r().user(self.account, full=True) | {"locale": "en_US",
                                                                            "groups": {"size": 1, "items": []},
                                                                            "applicationRoles": {"size": 1, "items": []}})
        pm = re.match(r"^/rest/api/3/project/([^/]+)/statuses/?$", path)
        if pm and m == "GET":
            emu.stats.bump("requests.project_statuses")
            ref = urllib.parse.unquote(pm.group(1))
            if not any(ref.upper() == k or ref == pid for k, (pid, _) in emu.projects.items()):
                raise ApiError(404, ["No project could be found with key '%s'." % ref])
            t = wf.ISSUE_TYPE
            return self._send(200, [{"self": "%s/rest/api/3/issuetype/%s" % (self.base, t["id"]),
                                     "id": t["id"], "name": t["name"], "subtask": t["subtask"],
                                     "statuses": [wf.status_json(sid, self.base) for sid in wf.STATUSES]}])
        if path.rstrip("/") == "/rest/api/3/search/jql" and m in ("GET", "POST"):
            emu.stats.bump("requests.search")
            return self._search()
        if path.rstrip("/") == "/rest/api/3/issue" and m == "POST":
            emu.stats.bump("requests.create")
            return self._create()
        im = ISSUE_PATH.match(path)
        if im:
            issue = emu.store.get(urllib.parse.unquote(im.group("ref")))
            if issue is None:
                emu.stats.bump("requests.not_found")
                raise ApiError(404, [NOT_FOUND])
            sub, key = im.group("sub"), im.group("key")
            key = urllib.parse.unquote(key) if key else None
            kind = {(None, "GET"): "get", (None, "PUT"): "edit", ("transitions", "GET"): "transitions",
                    ("transitions", "POST"): "transition", ("changelog", "GET"): "changelog",
                    ("comment", "GET"): "comments", ("comment", "POST"): "comment_add",
                    ("properties", "GET"): "property_get" if key else "property_keys",
                    ("properties", "PUT"): "property_set", ("properties", "DELETE"): "property_delete"}.get((sub, m))
            if kind is None or (sub in (None, "transitions", "changelog", "comment") and key is not None) or \
                    (kind in ("property_set", "property_delete") and key is None):
                raise ApiError(405 if kind is None else 404, ["Method or path not supported: %s %s" % (m, path)])
            emu.stats.bump("requests." + kind)
            return getattr(self, "_" + kind)(issue, key)
        emu.stats.bump("requests.other")
        raise ApiError(404, ["Not found (this path is not emulated): %s %s" % (m, path)])

    def _r(self, tz=None):
        return iss.Renderer(self.base, tz or self.tz, self.emu.accounts, self.emu.store)

    # -- search
    def _search(self):
        emu = self.emu
        if self.command == "POST":
            b = self._json() or {}
            if not isinstance(b, dict):
                raise ApiError(400, ["The request body must be a JSON object."])
            jql, token = b.get("jql"), b.get("nextPageToken")
            fields = b.get("fields") or []
            fields = [fields] if isinstance(fields, str) else fields
            max_results = b.get("maxResults", DEFAULT_SEARCH_PAGE)
            props = b.get("properties") or []
            reconcile = b.get("reconcileIssues") or []
            if not isinstance(max_results, int) or max_results < 0:
                raise ApiError(400, ["maxResults must be a non-negative integer."])
        else:
            jql, token = self._q("jql"), self._q("nextPageToken")
            fields = self.qs.get("fields", [])
            max_results = self._int("maxResults", DEFAULT_SEARCH_PAGE)
            props = [p for v in self.qs.get("properties", []) for p in v.split(",") if p]
            reconcile = [x for v in self.qs.get("reconcileIssues", []) for x in v.split(",") if x]
        try:
            reconcile = [int(x) for x in reconcile]
        except (TypeError, ValueError):
            raise ApiError(400, ["reconcileIssues takes issue ids."])
        if len(reconcile) > 50:
            raise ApiError(400, ["reconcileIssues accepts at most 50 issue ids."])
        if len(props) > 5:
            raise ApiError(400, ["At most 5 issue properties can be requested."])
        fset = iss.field_list(fields, "id")
        cap = MAX_SEARCH_IDS if fset is None else MAX_SEARCH_FIELDS
        page = max(1, min(max_results or DEFAULT_SEARCH_PAGE, cap))
        ctx = {"tz": self.tz, "now_ms": emu.clock.now_ms(), "projects": emu.projects,
               "status_id": emu.status_lookup,
               "key_id": lambda k: (emu.store.get(k) or {}).get("id"),
               "id_exists": lambda i: (emu.store.get(str(i)) or {}).get("id"),
               "key_parts": lambda i: (lambda r: (r["proj"], r["num"]))(emu.store.get(str(i)))}
        try:
            q = compile_jql(jql or "", ctx)
        except JqlError as e:
            emu.stats.bump("jql_errors")
            raise ApiError(400, [str(e)])
        if not q.bounded:
            raise ApiError(400, ["Unbounded JQL queries are not allowed here. Please add a search restriction "
                                 "to your query."])
        qhash = hashlib.sha1((jql or "").encode()).hexdigest()[:12]
        after = None
        if token:
            d = _b64d(token)
            if not (isinstance(d, dict) and d.get("q") == qhash and isinstance(d.get("a"), list)
                    and len(d["a"]) == len(q.order)):
                raise ApiError(400, ["The provided next page token is invalid or expired."])
            after = d["a"]
        emu.store.apply_due()
        if reconcile:
            emu.store.apply_due(reconcile)
        rows = emu.store.search(q.where, q.params, q.order, after, page)
        more = len(rows) > page
        rows = rows[:page]
        r = self._r()
        out = []
        for row in rows:
            pv = None
            if props:
                pv = {k: v for k in props for v in [emu.store.get_property(row["id"], k)] if v is not None}
            out.append(r.issue(row, fset, emu.projects, pv))
        ans = {"issues": out, "isLast": not more}
        if more:
            last = rows[-1]
            colval = {"s.updated": last["updated"], "s.created": last["created"], "s.proj": last["proj"],
                      "s.num": last["num"], "s.id": last["id"]}
            ans["nextPageToken"] = _b64e({"q": qhash, "a": [colval[c] for c, _ in q.order]})
        self._send(200, ans)

    # -- issues
    def _create(self):
        emu = self.emu
        row = iss.check_create(self._json(), emu.projects, emu.accounts, self.account)
        issue = emu.store.create(row, self.account, emu.clock.stamp(), emu.lag_ms())
        emu.stats.bump("writes." + self.account)
        self._webhook_issue("jira:issue_created", "issue_created", issue, None)
        if self._after_write():
            return
        self._send(201, {"id": str(issue["id"]), "key": issue["key"],
                         "self": "%s/rest/api/3/issue/%d" % (self.base, issue["id"])})

    def _get(self, issue, _):
        fset = iss.field_list(self.qs.get("fields", []), "*all")
        props = [p for v in self.qs.get("properties", []) for p in v.split(",") if p]
        pv = None
        if props:
            keys = self.emu.store.property_keys(issue["id"]) if "*all" in props else \
                [p for p in props if not p.startswith("-")]
            keys = [k for k in keys if "-" + k not in props]
            pv = {k: v for k in keys for v in [self.emu.store.get_property(issue["id"], k)] if v is not None}
        self._send(200, self._r().issue(issue, fset or set(), self.emu.projects, pv))

    def _edit(self, issue, _):
        emu = self.emu
        body = self._json()
        if body is None:
            raise ApiError(400, ["The request body is missing."])
        changes, items = iss.check_edit(issue, body, emu.accounts)
        props = body.get("properties") or []
        if not self._issue_write_allowed(issue):
            return
        for p in props:
            if isinstance(p, dict) and isinstance(p.get("key"), str):
                emu.store.set_property(issue["id"], p["key"], json.dumps(p.get("value")))
        if changes:
            new, cid = emu.store.update(issue["id"], changes, items, self.account, emu.clock.stamp(), emu.lag_ms())
            emu.stats.bump("writes." + self.account)
            ev = "issue_assigned" if set(changes) == {"assignee"} else "issue_updated"
            self._webhook_issue("jira:issue_updated", ev, new, {"id": str(cid), "items": items})
        else:
            emu.stats.bump("writes_unchanged." + self.account)
        if self._after_write():
            return
        if self._q("returnIssue") == "true":
            return self._send(200, self._r().issue(emu.store.get(issue["id"]), set(iss.ALL_FIELDS), emu.projects))
        self._send(204)

    def _transitions(self, issue, _):
        expand = self._q("expand") or ""
        only = self._q("transitionId")
        ids = [t for t in wf.available(issue["status"]) if only is None or t == only]
        self._send(200, {"expand": "transitions", "transitions": [
            wf.transition_json(t, self.base, "transitions.fields" in expand) for t in ids]})

    def _transition(self, issue, _):
        emu = self.emu
        now = emu.clock.stamp()
        tid, changes, items, comments = iss.check_transition(issue, self._json(), emu.accounts, now)
        if not self._issue_write_allowed(issue):
            return
        new, cid = emu.store.update(issue["id"], changes, items, self.account, now, emu.lag_ms(),
                                    via="transition " + tid)
        emu.stats.bump("writes." + self.account)
        emu.stats.bump("transitions")
        self._webhook_issue("jira:issue_updated", wf.TRANSITION_EVENT.get(tid, "issue_generic"), new,
                            {"id": str(cid), "items": items} if cid else None)
        for body in comments:
            c = emu.store.add_comment(issue["id"], self.account, body, emu.clock.stamp(), emu.lag_ms())
            self._webhook_comment(emu.store.get(issue["id"]), c)
        if self._after_write():
            return
        self._send(204)

    def _changelog(self, issue, _):
        start = self._int("startAt", 0)
        page = max(1, min(self._int("maxResults", DEFAULT_PAGE), DEFAULT_PAGE))
        total, rows = self.emu.store.changelog(issue["id"], start, page)
        r = self._r()
        me = "%s/rest/api/3/issue/%s/changelog" % (self.base, issue["key"])
        ans = {"self": "%s?startAt=%d&maxResults=%d" % (me, start, page), "maxResults": page,
               "startAt": start, "total": total, "isLast": start + len(rows) >= total,
               "values": [r.changelog_entry(e) for e in rows]}
        if not ans["isLast"]:
            ans["nextPage"] = "%s?&startAt=%d&maxResults=%d" % (me, start + len(rows), page)
        self._send(200, ans)

    def _comments(self, issue, _):
        order = self._q("orderBy")
        if order not in (None, "", "created", "+created", "-created"):
            raise ApiError(400, ["orderBy only accepts 'created', '+created' or '-created'."])
        start = self._int("startAt", 0)
        page = max(1, min(self._int("maxResults", DEFAULT_PAGE), 5000))
        total, cs = self.emu.store.comments(issue["id"], start, page, desc=order == "-created")
        r = self._r()
        self._send(200, {"startAt": start, "maxResults": page, "total": total,
                         "comments": [r.comment(c, issue["id"]) for c in cs]})

    def _comment_add(self, issue, _):
        emu = self.emu
        b = self._json()
        body = b.get("body") if isinstance(b, dict) else None
        if not adf.is_document(body):
            raise ApiError(400, [], {"comment": "Comment body is not valid!"})
        if not self._issue_write_allowed(issue):
            return
        c = emu.store.add_comment(issue["id"], self.account, body, emu.clock.stamp(), emu.lag_ms())
        emu.stats.bump("writes." + self.account)
        self._webhook_comment(emu.store.get(issue["id"]), c)
        if self._after_write():
            return
        self._send(201, self._r().comment(c, issue["id"]))

    def _property_keys(self, issue, _):
        self._send(200, {"keys": [{"self": "%s/rest/api/3/issue/%s/properties/%s" % (self.base, issue["key"], k),
                                   "key": k} for k in self.emu.store.property_keys(issue["id"])]})

    def _property_get(self, issue, key):
        v = self.emu.store.get_property(issue["id"], key)
        if v is None:
            raise ApiError(404, ["The property with key '%s' does not exist." % key])
        self._send(200, {"key": key, "value": v})

    def _property_set(self, issue, key):
        raw = self._body().decode("utf-8", "replace")
        if len(key) > 255:
            raise ApiError(400, ["The property key can not be longer than 255 characters."])
        try:
            json.loads(raw)
        except ValueError:
            raise ApiError(400, ["The property value must be a valid, non-empty JSON blob."])
        if len(raw) > MAX_PROPERTY_CHARS:
            raise ApiError(400, ["The property value is longer than %d characters." % MAX_PROPERTY_CHARS])
        if not self._issue_write_allowed(issue):
            return
        created = self.emu.store.set_property(issue["id"], key, raw)
        if self._after_write():
            return
        self._send(201 if created else 200)

    def _property_delete(self, issue, key):
        if not self.emu.store.delete_property(issue["id"], key):
            raise ApiError(404, ["The property with key '%s' does not exist." % key])
        self._send(204)

    # -- webhooks
    def _webhook_issue(self, event, event_type, issue, changelog, author=None):
        emu = self.emu
        r = iss.Renderer(self.base, emu.site_tz, emu.accounts, emu.store)
        payload = {"timestamp": emu.clock.now_ms(), "webhookEvent": event, "issue_event_type_name": event_type,
                   "user": r.user(author or self.account),
                   "issue": r.issue(issue, set(iss.NAVIGABLE), emu.projects)}
        if changelog:
            payload["changelog"] = changelog
        emu.webhooks.emit(event, payload)

    def _webhook_comment(self, issue, c, author=None):
        emu = self.emu
        r = iss.Renderer(self.base, emu.site_tz, emu.accounts, emu.store)
        cj = r.comment(c, issue["id"])
        brief = r.issue(issue, {"summary", "status", "priority", "issuetype", "assignee", "project"}, emu.projects)
        emu.webhooks.emit("comment_created", {"timestamp": emu.clock.now_ms(), "webhookEvent": "comment_created",
                                              "comment": cj, "issue": brief})
        emu.webhooks.emit("jira:issue_updated", {
            "timestamp": emu.clock.now_ms(), "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_commented", "user": r.user(author or self.account),
            "issue": r.issue(issue, set(iss.NAVIGABLE), emu.projects), "comment": cj})

    # -- the test control API (loopback, no authentication)
    def _control(self, name):
        emu = self.emu
        try:
            doc = json.loads(self._body()) if self._body().strip() else {}
        except ValueError:
            return self._send(400, {"error": "body is not JSON"})
        qs = {k: v[0] for k, v in self.qs.items()}
        m = self.command
        try:
            if name == "faults":
                return self._send(200, emu.faults.set(doc) if m == "POST" else emu.faults.all())
            if name == "clock":
                if m == "POST":
                    emu.clock.skew = float(doc.get("skew", emu.clock.skew))
                return self._send(200, {"skew": emu.clock.skew, "now": fmt(emu.clock.now_ms(), emu.site_tz)})
            if name == "limits":
                if m == "POST":
                    if "issue_write" in doc:
                        emu.issue_limiter.set(parse_limits(doc["issue_write"]))
                    if "burst_per_second" in doc:
                        emu.burst = BurstLimiter(float(doc["burst_per_second"]))
                return self._send(200, {"issue_write": ["%d/%g" % lw for lw in emu.issue_limiter.limits],
                                        "burst_per_second": emu.burst.rate})
            if name == "stats":
                return self._send(200, self._stats())
            if name == "history":
                issue = emu.store.get(qs.get("key") or qs.get("id") or "")
                if issue is None:
                    return self._send(404, {"error": "key=KEY (or id=ID) of an existing issue is required"})
                h = emu.store.history(issue["id"])
                return self._send(200, {"key": issue["key"], "id": str(issue["id"]), "history": [
                    dict(x, at=fmt(x["at"], emu.site_tz), status_name=wf.STATUSES[x["status"]][0]) for x in h],
                    "status_changes": max(0, len(h) - 1)})
            if name == "seed" and m == "POST":
                return self._seed(doc)
            if name == "webhooks":
                if m == "POST":
                    url = doc.get("url")
                    events = doc.get("events") or list(EVENTS)
                    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                        return self._send(400, {"error": "url (http:// or https://) is required"})
                    if not isinstance(events, list) or not all(e in EVENTS or e == "*" for e in events):
                        return self._send(400, {"error": "events: a list of %s" % ", ".join(EVENTS)})
                    wid = emu.store.add_webhook(url, doc.get("secret"), events)
                    return self._send(201, {"id": wid, "url": url, "events": events})
                if m == "DELETE":
                    ok = emu.store.delete_webhook(int(qs.get("id", "0")))
                    return self._send(204 if ok else 404)
                return self._send(200, {"webhooks": [dict(w, secret=bool(w["secret"])) for w in emu.store.webhooks()],
                                        "retries": emu.webhooks.retries, "backoff_s": emu.webhooks.backoff_s,
                                        "pending": emu.webhooks.pending()})
            if name == "webhook-policy" and m == "POST":
                emu.webhooks.retries = int(doc.get("retries", emu.webhooks.retries))
                emu.webhooks.backoff_s = float(doc.get("backoff_s", emu.webhooks.backoff_s))
                emu.webhooks.hold_s = float(doc.get("hold_s", emu.webhooks.hold_s))
                return self._send(200, {"retries": emu.webhooks.retries, "backoff_s": emu.webhooks.backoff_s,
                                        "hold_s": emu.webhooks.hold_s})
            if name == "edit" and m == "POST":
                return self._person_edit(doc)
        except (ValueError, TypeError, KeyError) as e:
            return self._send(400, {"error": str(e)})
        return self._send(404, {"error": "unknown control endpoint %s /emulator/%s" % (m, name)})

    def _stats(self):
        s = self.emu.stats.snapshot()

        def group(prefix):
            return {k[len(prefix):]: v for k, v in s.items() if k.startswith(prefix)}
        return {"requests": group("requests."), "status": group("status_"), "sent_429": s.get("sent_429", 0),
                "sent_429_by_reason": group("sent_429."), "sent_401": s.get("sent_401", 0),
                "faults": group("faults."), "webhooks": {k: v for k, v in s.items() if k.startswith("webhook")},
                "writes_by_account": group("writes."), "unchanged_writes_by_account": group("writes_unchanged."),
                "transitions": s.get("transitions", 0), "jql_errors": s.get("jql_errors", 0),
                "issues": self.emu.store.count(), "index_queue": self.emu.store.queued(),
                "emulator_errors": s.get("emulator_errors", 0)}

    def _seed(self, doc):
        emu = self.emu
        count = int(doc.get("count", 0))
        if not 0 < count <= 1_000_000:
            return self._send(400, {"error": "count must be within 1..1000000"})
        proj = str(doc.get("project") or next(iter(emu.projects))).upper()
        if proj not in emu.projects:
            return self._send(400, {"error": "unknown project %s" % proj})
        status = emu.status_lookup(doc.get("status", wf.INITIAL_STATUS))
        if status is None:
            return self._send(400, {"error": "unknown status"})
        spread = int(float(doc.get("spread_seconds", count)) * 1000)
        labels = doc.get("labels")
        if labels is not None and not iss._labels_ok(labels):
            return self._send(400, {"error": "labels: a list of strings without spaces"})
        t0 = time.monotonic()
        now = emu.clock.now_ms()
        now -= int(float(doc.get("ago_seconds", 0)) * 1000)
        first_id, first_num = emu.store.seed(proj, count, now - spread, spread, status, labels,
                                             next(iter(emu.accounts)), doc.get("seed"))
        return self._send(200, {"count": count, "first_id": first_id, "first_key": "%s-%d" % (proj, first_num),
                                "last_key": "%s-%d" % (proj, first_num + count - 1),
                                "seconds": round(time.monotonic() - t0, 3)})

    def _person_edit(self, doc):
        """POST /emulator/edit {"key", "author": EMAIL, "fields", "update", "transition": {"id"}, "comment": TEXT}:
        a person's change in Jira's UI: the same rules, no rate limits, webhooks sent."""
        emu = self.emu
        issue = emu.store.get(doc.get("key") or "")
        if issue is None:
            return self._send(404, {"error": "key of an existing issue is required"})
        author = next(iter(emu.accounts))
        if doc.get("author"):
            found = [a for a, v in emu.accounts.items() if v["email"].lower() == str(doc["author"]).lower()]
            if not found:
                return self._send(400, {"error": "author: the email of a --user account"})
            author = found[0]
        self.account, self.tz = author, emu.site_tz
        try:
            if doc.get("fields") or doc.get("update"):
                changes, items = iss.check_edit(issue, {"fields": doc.get("fields") or {},
                                                        "update": doc.get("update") or {}}, emu.accounts)
                if changes:
                    issue, cid = emu.store.update(issue["id"], changes, items, author, emu.clock.stamp(),
                                                  emu.lag_ms())
                    self._webhook_issue("jira:issue_updated", "issue_updated", issue,
                                        {"id": str(cid), "items": items}, author)
            if doc.get("transition"):
                now = emu.clock.stamp()
                tid, changes, items, _ = iss.check_transition(
                    issue, {"transition": doc["transition"], "fields": doc.get("transition_fields") or {}},
                    emu.accounts, now)
                issue, cid = emu.store.update(issue["id"], changes, items, author, now, emu.lag_ms(),
                                              via="transition " + tid)
                self._webhook_issue("jira:issue_updated", wf.TRANSITION_EVENT.get(tid, "issue_generic"), issue,
                                    {"id": str(cid), "items": items}, author)
            if doc.get("comment"):
                c = emu.store.add_comment(issue["id"], author, adf.from_text(doc["comment"]), emu.clock.stamp(),
                                          emu.lag_ms())
                self._webhook_comment(emu.store.get(issue["id"]), c, author)
        except iss.Invalid as e:
            return self._send(400, errors_body(e.messages, e.errors))
        return self._send(200, self._r().issue(emu.store.get(issue["id"]), set(iss.ALL_FIELDS), emu.projects))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Jira Cloud REST API v3 emulator (a test tool)")
    ap.add_argument("--port", type=int, required=True, help="0: a free port")
    ap.add_argument("--db", required=True, help="SQLite file, kept across restarts")
    ap.add_argument("--user", action="append", metavar="EMAIL:API_TOKEN[:TIME_ZONE]",
                    help="an account (repeatable); default emulator@example.com:emulator-token")
    ap.add_argument("--time-zone", default="Australia/Sydney",
                    help="the site's default time zone, of accounts without one (default Australia/Sydney)")
    ap.add_argument("--project", action="append", metavar="KEY[:NAME]", help="a project (repeatable); default EMU")
    ap.add_argument("--skew", type=float, default=0.0, help="seconds added to the site's clock")
    ap.add_argument("--search-lag", type=float, default=0.0,
                    help="seconds before a write shows in search results (also fault search_lag_s)")
    ap.add_argument("--issue-write-limit", action="append", metavar="N/SECONDS",
                    help="per-issue write limit, repeatable; default 20/2 and 100/30")
    ap.add_argument("--burst-limit", type=float, default=0.0, metavar="N_PER_SECOND",
                    help="requests per second per account (0: off)")
    ap.add_argument("--webhook", help="register this URL for all three events at start")
    ap.add_argument("--webhook-secret", help="its secret (X-Hub-Signature)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    try:
        zone(args.time_zone)
    except ValueError as e:
        ap.error(str(e))
    Handler.emu = Emulator(args)
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 64
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("listening 127.0.0.1:%d" % srv.server_address[1], flush=True)
    srv.serve_forever()
    srv.server_close()


if __name__ == "__main__":
    main()
