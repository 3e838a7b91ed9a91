#!/usr/bin/env python3
"""remote.py: a scriptable, misbehaving ticket system, for testing concord.

It impersonates just enough of Request Tracker's REST2 API and of Redmine's
REST API for concord's connectors to poll it: in mode `good` every listing
is well-formed and empty, so every poll succeeds. Switched at run time, it
answers the listing requests (or every request) in a hostile way: garbage,
wrong JSON shapes, truncated, endless, huge or slow bodies, credentials
echoed back, odd rate-limit headers, redirects. tests/hostile/hostile_daemon.py
drives it; any other test may.

Run:   tests/hostile/remote.py [--port N] [--other-host 127.0.0.2] [--mode NAME]
       [--scope list|all] [--max-stream-seconds S]
It binds 127.0.0.1 (port N, or a free one when 0 or absent) and, for the
redirect modes, a second listener on --other-host (127.0.0.2: "another
host" that is still loopback). It prints one JSON line on stdout,
    {"port": P, "base": "http://127.0.0.1:P", "other": "http://127.0.0.2:Q", "pid": N}
then serves until it is killed (or POST /__control/quit). Python 3 standard
library only; loopback only; every stream and wait is bounded.

Mounts (a connector's base URL):
    rt       http://127.0.0.1:P/REST/2.0   (RT REST2)
    redmine  http://127.0.0.1:P/redmine    (Redmine; any path under it)
    jira     http://127.0.0.1:P/jira       (Jira Cloud REST API v3)
What each answers in mode good (kinds in brackets):
    rt       GET /queue/NAME -> {"id": 1, "Name": NAME}                       [lookup]
             GET /tickets?..., GET /transactions?... -> {"items": [...],
                 "count", "page", "per_page", "total", "pages": 1}             [list]
             GET /ticket/ID/history, GET /ticket/ID -> the record ID (below)
                 with an ETag, else 404                                        [read]
             POST /ticket, PUT|POST /ticket/ID/... -> 403                      [write]
    redmine  GET /projects/ID.json -> {"project": {"id": 1, ...}}              [lookup]
             GET /users/current.json -> {"user": {"id": 1, "login": "concord"}}
             /custom_fields.json -> ExternalRef (id 1); /issue_statuses.json,
             /trackers.json, /enumerations/issue_priorities.json, /users.json
                 -> empty lists
             GET /issues.json?... -> {"issues": [...], "total_count",
                 "offset", "limit"}                                            [list]
             GET /issues/ID.json?include=journals -> the record ID, else 404  [read]
             POST /issues.json, PUT /issues/ID.json -> 403                     [write]
    jira     GET /rest/api/3/project/KEY/statuses -> one issue type, To Do and
                 Done; GET /rest/api/3/myself                                [lookup]
             POST /rest/api/3/search/jql -> {"issues": [...], "isLast": true} [list]
             GET /rest/api/3/issue/ID, .../changelog, .../comment,
                 .../transitions -> the record ID, else 404                   [read]
             POST|PUT /rest/api/3/issue... -> 403                            [write]
The listings are empty unless records were set (POST /__control/records):
then they list those records, each changed at the time it was set, and the
reads answer them. Anything else under a mount: 404 [other]; outside every
mount: 404.

Control API (main listener only; never hostile):
    GET  /__control/modes   the mode table below and the mounts, as JSON
    GET  /__control/mode    the current mode
    POST /__control/mode    {"mode": NAME, "scope": "list" | "all" | KIND | [KIND, ...],
                             "flavours": ["rt", ...] or null (all),
                             "params": {...}}  -> 200 the new mode, with "seq":
                            the sequence number of the first request logged
                            under it; 400 for an unknown mode or scope
    GET  /__control/log?since=SEQ&limit=N
                            {"next": SEQ, "entries": [...]}: the requests
                            received (both listeners), oldest first; each has
                            seq, t (epoch s), end (epoch s, null while the
                            answer is being sent), listener ("main"/"other"),
                            method, path, headers (all of them, credentials
                            included: this is a test tool), flavour, kind,
                            mode (what answered: "good" or a hostile mode),
                            status, sent (body bytes written), note
    POST /__control/records {"flavour": "rt", "records": [{"id": 1, "subject": S,
                             "status": S}, ...]}: what the flavour's good
                            listings and reads show ([] for none)
    POST /__control/quit    stops the server
The scope says which kinds of request get the hostile answer: "list" (the
default) only the listings (the connectors cache their queue or project
lookup after the first success, so a daemon started in mode good polls
through the listings only); "all" every request of the chosen flavours; or
a kind or list of kinds (list, read, lookup, write, other), e.g. ["lookup",
"write"] to make a delivery fail while polls succeed.

The mode table (MODES below) is data: each mode names a status, extra
headers (templates: {self} = http://127.0.0.1:P, {other} = the other host,
{path} = the request's path and query), a body, and how it is sent. Bodies:
    Good()          the flavour's own good answer for the route
    Raw(bytes)      these bytes
    Json(value)     this JSON document, whatever the flavour
    Listing(...)    the flavour's listing with its list replaced by a value,
                    or without the list (omit=True)
    Items(...)      the flavour's listing holding one item built by the
                    flavour from an id and a time (either may be malformed)
    Echo()          text: every request header, credentials first
Sending: normal; truncated (Content-Length larger than what is sent, then
close); endless (chunked, a chunk every `interval` s, never ends); huge and
huge-chunked (`size` bytes: spaces then a good listing, so that it is valid
JSON); slow (the whole answer, status line included, one byte per
`interval` s); slow-body (headers at once, body one byte per `interval` s).
Streams stop when the client goes away or after --max-stream-seconds.
Params (POST /__control/mode "params" overrides): size, chunk, interval.

To add a system (ServiceNow, Jira, Sentinel, ...): write a Flavour (a mount
prefix, its routes with their kind and good answer, `listing` and `item`)
and add it to FLAVOURS; every mode then applies to it.
"""
import argparse
import collections
import email.utils
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_REQUEST_BODY = 4 * 1024 * 1024
KINDS = ("list", "read", "lookup", "write", "other")
LOG_MAX = 50000
HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
             b"<body><h1>Bad Gateway</h1><p>The proxy server received an invalid response "
             b"from an upstream server.</p><hr><address>Apache/2.4.57 (Debian)</address>"
             b"</body></html>\n")


# ---- bodies ---------------------------------------------------------------

class Good:
    """The flavour's good answer for this route."""


class Raw:
    def __init__(self, data):
        self.data = data


class Json:
    def __init__(self, value):
        self.value = value


class Listing:
    def __init__(self, value=None, omit=False):
        self.value = value
        self.omit = omit


class Items:
    def __init__(self, ident, when):
        self.ident = ident
        self.when = when  # a string, or None: now


class Echo:
    """Every request header, as text; the credential headers first."""


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def mode(name, doc, status=200, headers=None, body=None, send="normal", ctype=None,
         params=None):
    return {"name": name, "doc": doc, "status": status, "headers": headers or {},
            "body": body if body is not None else Good(), "send": send,
            "ctype": ctype or "application/json; charset=utf-8", "params": params or {}}


MODES = [
    mode("good", "well-formed, empty listings: every poll succeeds"),
    # not JSON
    mode("garbage", "200, Content-Type JSON, a body that is not JSON",
         body=Raw(b"\x00\xff<<this is not JSON at all {{{")),
    mode("html", "200 with a proxy's HTML error page", body=Raw(HTML_PAGE),
         ctype="text/html; charset=utf-8"),
    mode("empty-body", "200 with an empty body (Content-Length: 0)", body=Raw(b"")),
    # wrong shapes
    mode("empty-object", "200 {}", body=Json({})),
    mode("array-body", "200 [] as the whole body", body=Json([])),
    mode("no-list", "the listing's paging fields without its list (RT: no items; "
         "Redmine: no issues)", body=Listing(omit=True)),
    mode("list-notalist", 'the list is a string: {"items": "notalist"} (RT), '
         '{"issues": "notalist"} (Redmine)', body=Listing(value="notalist")),
    mode("list-object", 'the list is an object: {"items": {}}, {"issues": {}}',
         body=Listing(value={})),
    mode("list-junk", 'the list holds junk: [1, "x", null]', body=Listing(value=[1, "x", None])),
    mode("id-object", 'one item whose id is an object ({"id": 7})',
         body=Items(ident={"id": 7}, when=None)),
    mode("bad-time", "one item whose time (RT Created/LastUpdated, Redmine updated_on) "
         "is unparsable", body=Items(ident=7, when="last Tuesday, about noon")),
    mode("future-time", "one item changed in the year 9999",
         body=Items(ident=7, when="9999-12-31T23:59:59Z")),
    mode("clock-future", "good listings with a Date header in the year 9999",
         headers={"Date": "Fri, 31 Dec 9999 23:59:59 GMT"}),
    # transport
    mode("truncated", "a good listing with a Content-Length 1000 bytes larger than sent, "
         "then close", send="truncated"),
    mode("endless", "a chunked body that never ends (a `chunk`-byte chunk every "
         "`interval` s)", send="endless", params={"chunk": 4096, "interval": 0.05}),
    mode("huge", "a `size`-byte body with its Content-Length (spaces, then a good listing)",
         send="huge", params={"size": 100 * 1000 * 1000}),
    mode("huge-chunked", "the same, chunked: no length known beforehand", send="huge-chunked",
         params={"size": 100 * 1000 * 1000}),
    mode("slow", "the whole answer, status line included, one byte per `interval` s",
         send="slow", params={"interval": 1.0}),
    mode("slow-body", "headers at once, then the body one byte per `interval` s",
         send="slow-body", params={"interval": 1.0}),
    # credentials
    mode("cred-401", "401 whose body echoes every request header (credentials first)",
         status=401, body=Echo(), ctype="text/plain; charset=utf-8"),
    mode("cred-500", "500 whose body echoes every request header (credentials first)",
         status=500, body=Echo(), ctype="text/plain; charset=utf-8"),
    # rate limits
    mode("ra-float", "429, Retry-After: 1.5e3", status=429, headers={"Retry-After": "1.5e3"},
         body=Json({"error": "slow down"})),
    mode("ra-huge", "429, Retry-After: 99999999999", status=429,
         headers={"Retry-After": "99999999999"}, body=Json({"error": "slow down"})),
    mode("ra-negative", "429, Retry-After: -5", status=429, headers={"Retry-After": "-5"},
         body=Json({"error": "slow down"})),
    mode("ra-date-9999", "429, Retry-After: Fri, 31 Dec 9999 23:59:59 GMT", status=429,
         headers={"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"},
         body=Json({"error": "slow down"})),
    mode("rl-reset-huge", "429, X-RateLimit-Remaining: 0, X-RateLimit-Reset: "
         "99999999999999 (epoch ms in the year 5138)", status=429,
         headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "99999999999999"},
         body=Json({"error": "slow down"})),
    mode("rl-remaining-0", "a good listing (200) with X-RateLimit-Remaining: 0 and "
         "X-RateLimit-Reset: 5", headers={"X-RateLimit-Remaining": "0",
                                          "X-RateLimit-Reset": "5"}),
    # redirects
    mode("redirect-302-other", "302 to the same path on the other host", status=302,
         headers={"Location": "{other}{path}"}, body=Raw(b"")),
    mode("redirect-307-other", "307 to the same path on the other host", status=307,
         headers={"Location": "{other}{path}"}, body=Raw(b"")),
    mode("redirect-loop", "302 to itself (the same URL)", status=302,
         headers={"Location": "{self}{path}"}, body=Raw(b"")),
]
MODE_BY_NAME = {m["name"]: m for m in MODES}


# ---- flavours: the systems impersonated ------------------------------------

class Request:
    def __init__(self, method, sub, query):
        self.method = method
        self.path = sub            # the path under the mount, without the query
        self.query = parse_qs(query)

    def q(self, key, default):
        try:
            return int(self.query.get(key, [default])[0])
        except (ValueError, TypeError):
            return default


class Flavour:
    name = "?"
    prefix = "/"
    routes = []  # (method regex, path regex, kind, good(req) -> (status, body))

    def route(self, req):
        for methods, rx, kind, good in self.routes:
            if re.fullmatch(methods, req.method) and re.fullmatch(rx, req.path):
                return kind, good
        return "other", self.not_found

    def not_found(self, req):
        return 404, {"message": "no such resource here"}

    def listing(self, req, value=None, omit=False):
        raise NotImplementedError

    def item(self, req, ident, when):
        raise NotImplementedError


class RT(Flavour):
    name = "rt"
    prefix = "/REST/2.0"

    def __init__(self):
        self.records = []  # set through POST /__control/records
        self.routes = [
            ("GET", r"/queue/[^/]+", "lookup", self.queue),
            ("GET", r"/tickets", "list", self.good_listing),
            ("GET", r"/transactions", "list", self.good_listing),
            ("POST", r"/ticket", "write", self.no_write),
            ("POST|PUT|DELETE|PATCH", r"/ticket/\d+(/.*)?", "write", self.no_write),
            ("GET", r"/ticket/\d+/history", "read", self.history),
            ("GET", r"/ticket/\d+", "read", self.ticket),
            (".*", r"/tickets?(/.*)?", "read", self.not_found),
        ]

    def not_found(self, req):
        return 404, {"message": "Resource does not exist"}

    def no_write(self, req):
        return 403, {"message": "writes are not impersonated"}

    def record(self, req):
        ident = int(req.path.split("/")[2])
        return next((r for r in self.records if r["id"] == ident), None)

    def queue(self, req):
        return 200, {"id": 1, "Name": req.path.rsplit("/", 1)[1], "Lifecycle": "default"}

    def good_listing(self, req):
        return 200, self.listing(req, [self.item(req, r["id"], r["updated"])
                                       for r in self.records])

    def history(self, req):
        r = self.record(req)
        if not r:
            return self.not_found(req)
        return 200, {"count": 1, "page": 1, "per_page": 100, "total": 1, "pages": 1,
                     "items": [{"id": r["id"] + 1000, "Type": "Create", "Field": "",
                                "Creator": {"id": "root"}, "Created": r["updated"]}]}

    def ticket(self, req):
        r = self.record(req)
        if not r:
            return self.not_found(req)
        return 200, {"id": r["id"], "Subject": r["subject"], "Status": r["status"],
                     "Queue": {"id": "1", "type": "queue"}, "Creator": {"id": "root"},
                     "Owner": {"id": "Nobody"}, "Created": r["updated"],
                     "LastUpdated": r["updated"], "EffectiveId": {"id": str(r["id"])},
                     "CustomFields": []}, {"ETag": '"%d"' % (r["id"] + 1000)}

    def listing(self, req, value=None, omit=False):
        items = [] if value is None else value
        n = len(items) if isinstance(items, list) else 0
        doc = {"count": n, "page": req.q("page", 1), "per_page": req.q("per_page", 20),
               "total": n, "pages": 1}
        if not omit:
            doc["items"] = items
        return doc

    def item(self, req, ident, when):
        when = when or now_iso()
        key = str(ident) if isinstance(ident, int) else ident
        if req.path.startswith("/transactions"):
            txn = ident + 1000 if isinstance(ident, int) else ident
            return {"type": "transaction", "id": txn, "ObjectType": "RT::Ticket",
                    "ObjectId": key, "Created": when}
        return {"type": "ticket", "id": key, "LastUpdated": when}


class Redmine(Flavour):
    name = "redmine"
    prefix = "/redmine"

    def __init__(self):
        self.records = []  # set through POST /__control/records
        self.routes = [
            ("GET", r"/projects/[^/]+\.json", "lookup", self.project),
            ("GET", r"/users/current\.json", "lookup", self.current_user),
            ("GET", r"/issues\.json", "list", self.good_listing),
            ("POST", r"/issues\.json", "write", self.no_write),
            ("PUT|DELETE|PATCH|POST", r"/issues/\d+\.json", "write", self.no_write),
            ("GET", r"/issues/\d+\.json", "read", self.issue),
            ("GET", r"/issue_statuses\.json", "lookup", lambda r: (200, {"issue_statuses": []})),
            ("GET", r"/trackers\.json", "lookup", lambda r: (200, {"trackers": []})),
            ("GET", r"/custom_fields\.json", "lookup", lambda r: (200, {"custom_fields": [
                {"id": 1, "name": "ExternalRef", "customized_type": "issue"}]})),
            ("GET", r"/enumerations/issue_priorities\.json", "lookup",
             lambda r: (200, {"issue_priorities": []})),
            ("GET", r"/users(/\d+)?\.json", "lookup", lambda r: (200, {"users": []})),
        ]

    def not_found(self, req):
        return 404, b""

    def no_write(self, req):
        return 403, b""

    def project(self, req):
        ident = req.path.rsplit("/", 1)[1][:-len(".json")]
        return 200, {"project": {"id": 1, "identifier": ident, "name": ident, "status": 1}}

    def current_user(self, req):
        return 200, {"user": {"id": 1, "login": "concord", "firstname": "Con",
                              "lastname": "Cord", "admin": False}}

    def good_listing(self, req):
        return 200, self.listing(req, [self.item(req, r["id"], r["updated"], r)
                                       for r in self.records])

    def issue(self, req):
        ident = int(req.path.split("/")[2][:-len(".json")])
        r = next((x for x in self.records if x["id"] == ident), None)
        if not r:
            return self.not_found(req)
        doc = self.item(req, r["id"], r["updated"], r)
        doc["journals"] = []
        return 200, {"issue": doc}

    def listing(self, req, value=None, omit=False):
        items = [] if value is None else value
        doc = {"total_count": len(items) if isinstance(items, list) else 0,
               "offset": req.q("offset", 0), "limit": req.q("limit", 25)}
        if not omit:
            doc["issues"] = items
        return doc

    def item(self, req, ident, when, record=None):
        when = when or now_iso()
        r = record or {"subject": "hostile", "status": "New"}
        return {"id": ident, "project": {"id": 1, "name": "test"},
                "tracker": {"id": 1, "name": "Bug"}, "status": {"id": 1, "name": r["status"]},
                "priority": {"id": 2, "name": "Normal"}, "author": {"id": 1, "name": "Con Cord"},
                "subject": r["subject"], "created_on": when, "updated_on": when,
                "custom_fields": []}


class Jira(Flavour):
    """Jira Cloud's REST API v3, as the jira connector polls it."""
    name = "jira"
    prefix = "/jira"

    def __init__(self):
        self.records = []  # set through POST /__control/records
        api = r"/rest/api/3"
        self.routes = [
            ("GET", api + r"/project/[^/]+/statuses", "lookup", self.statuses),
            ("GET", api + r"/myself", "lookup", lambda r: (200, {
                "accountId": "557058:concord", "emailAddress": "concord@example.test",
                "displayName": "concord", "timeZone": "UTC", "active": True})),
            ("POST", api + r"/search/jql", "list", self.good_listing),
            ("POST|PUT|DELETE|PATCH", api + r"/issue(/.*)?", "write", self.no_write),
            ("GET", api + r"/issue/\d+/changelog", "read", self.changelog),
            ("GET", api + r"/issue/\d+/comment", "read", self.comments),
            ("GET", api + r"/issue/\d+/transitions", "read",
             lambda r: (200, {"transitions": []})),
            ("GET", api + r"/issue/\d+", "read", self.issue),
        ]

    def not_found(self, req):
        return 404, {"errorMessages": ["Issue does not exist or you do not have permission "
                                       "to see it."], "errors": {}}

    def no_write(self, req):
        return 403, {"errorMessages": ["writes are not impersonated"], "errors": {}}

    def statuses(self, req):
        cat = {"key": "new", "name": "To Do"}
        return 200, [{"id": "10001", "name": "Task", "subtask": False, "statuses": [
            {"id": "1", "name": "To Do", "statusCategory": cat},
            {"id": "3", "name": "Done", "statusCategory": {"key": "done", "name": "Done"}}]}]

    def record(self, req):
        ident = req.path.split("/")[5]
        return next((r for r in self.records if str(r["id"]) == ident), None)

    def good_listing(self, req):
        return 200, self.listing(req, [self.item(req, r["id"], r["updated"], r)
                                       for r in self.records])

    def issue(self, req):
        r = self.record(req)
        if not r:
            return self.not_found(req)
        return 200, self.item(req, r["id"], r["updated"], r)

    def changelog(self, req):
        if not self.record(req):
            return self.not_found(req)
        return 200, {"startAt": 0, "maxResults": 100, "total": 0, "isLast": True, "values": []}

    def comments(self, req):
        if not self.record(req):
            return self.not_found(req)
        return 200, {"startAt": 0, "maxResults": 100, "total": 0, "comments": []}

    def listing(self, req, value=None, omit=False):
        doc = {"isLast": True}
        if not omit:
            doc["issues"] = [] if value is None else value
        return doc

    def item(self, req, ident, when, record=None):
        """An issue as the search and GET /issue answer it; a time like
        Jira's (2024-01-02T03:04:05.000+0000) unless one is given."""
        if when is None:
            when = time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())
        elif re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", when):
            when = when[:-1] + ".000+0000"
        r = record or {"subject": "hostile", "status": "To Do"}
        key = str(ident) if isinstance(ident, int) else ident
        return {"id": key, "key": "TEST-%s" % key, "fields": {
            "summary": r["subject"], "status": {"name": r["status"],
                                                "statusCategory": {"key": "new"}},
            "labels": [], "created": when, "updated": when}}


FLAVOURS = [RT(), Redmine(), Jira()]


def find_flavour(path):
    for f in FLAVOURS:
        if path == f.prefix or path.startswith(f.prefix + "/"):
            return f, path[len(f.prefix):] or "/"
    return None, path


# ---- state: the current mode and the request log ---------------------------

class State:
    def __init__(self, max_stream_seconds):
        self.lock = threading.Lock()
        self.mode = "good"
        self.scope = "list"
        self.kinds = {"list"}
        self.flavours = None
        self.params = {}
        self.log = collections.deque(maxlen=LOG_MAX)
        self.seq = 0
        self.max_stream_seconds = max_stream_seconds
        self.stopping = threading.Event()
        self.base = ""
        self.other = ""

    def set_mode(self, name, scope="list", flavours=None, params=None):
        with self.lock:
            self.mode, self.scope = name, scope
            self.kinds = set(KINDS) if scope == "all" else {scope} if isinstance(scope, str) \
                else set(scope)
            self.flavours = list(flavours) if flavours else None
            self.params = dict(params or {})
            return self.describe_locked()

    def describe_locked(self):
        return {"mode": self.mode, "scope": self.scope, "flavours": self.flavours,
                "params": self.params, "seq": self.seq + 1}

    def describe(self):
        with self.lock:
            return self.describe_locked()

    def pick(self, listener, flavour, kind):
        """The mode that answers this request, and its parameters."""
        with self.lock:
            if (listener != "main" or self.mode == "good" or flavour is None or
                    kind not in self.kinds or
                    (self.flavours is not None and flavour.name not in self.flavours)):
                return MODE_BY_NAME["good"], {}
            m = MODE_BY_NAME[self.mode]
            return m, dict(m["params"], **self.params)

    def record(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.log.append(entry)
        return entry

    def update(self, entry, **kw):
        with self.lock:
            entry.update(kw)

    def entries(self, since, limit):
        with self.lock:
            out = [dict(e) for e in self.log if e["seq"] >= since][:limit]
            nxt = out[-1]["seq"] + 1 if out else max(since, self.seq + 1)
        return out, nxt


STATE = None


# ---- the handler ------------------------------------------------------------

class ClientGone(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hostile-remote/1"
    timeout = 30  # an idle keep-alive connection is closed after this

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    # -- plumbing --
    def raw(self, data):
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            raise ClientGone()

    def read_body(self):
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = 0
        n = max(0, n)
        keep = self.rfile.read(min(n, MAX_REQUEST_BODY)) if n else b""
        left = n - len(keep)
        while left > 0:  # bounded by the Content-Length
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                break
            left -= len(chunk)
        return keep

    def head_bytes(self, status, headers):
        reason = self.responses.get(status, ("Unknown",))[0]
        lines = ["HTTP/1.1 %d %s" % (status, reason)]
        names = {k.lower() for k in headers}
        if "date" not in names:
            lines.append("Date: " + email.utils.formatdate(usegmt=True))
        lines.append("Server: " + self.server_version)
        for k, v in headers.items():
            lines.append("%s: %s" % (k, v))
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def answer(self, status, headers, body, entry):
        headers = dict(headers)
        headers["Content-Length"] = str(len(body))
        self.raw(self.head_bytes(status, headers) + body)
        STATE.update(entry, status=status, sent=len(body))

    # -- control --
    def control(self, method, path, query, body):
        q = parse_qs(query)
        if method == "GET" and path == "/__control/modes":
            doc = {"modes": [{"name": m["name"], "doc": m["doc"], "status": m["status"],
                              "send": m["send"], "params": m["params"]} for m in MODES],
                   "flavours": [{"name": f.name, "prefix": f.prefix} for f in FLAVOURS]}
            return 200, doc
        if method == "GET" and path == "/__control/mode":
            return 200, STATE.describe()
        if method == "POST" and path == "/__control/mode":
            try:
                req = json.loads(body or b"{}")
                name = req["mode"]
                scope = req.get("scope", "list")
                flavours = req.get("flavours")
                params = req.get("params") or {}
            except (ValueError, KeyError, TypeError, AttributeError):
                return 400, {"error": 'body must be {"mode": NAME, ...}'}
            if name not in MODE_BY_NAME:
                return 400, {"error": "unknown mode", "modes": [m["name"] for m in MODES]}
            if not (scope == "all" or scope in KINDS or (
                    isinstance(scope, list) and scope and all(k in KINDS for k in scope))):
                return 400, {"error": "scope is all, a kind or a list of kinds", "kinds": KINDS}
            if not isinstance(params, dict):
                return 400, {"error": "params is an object"}
            return 200, STATE.set_mode(name, scope, flavours, params)
        if method == "GET" and path == "/__control/log":
            try:
                since = int(q.get("since", ["0"])[0])
                limit = int(q.get("limit", ["100000"])[0])
            except ValueError:
                return 400, {"error": "since and limit are numbers"}
            entries, nxt = STATE.entries(since, max(1, limit))
            return 200, {"next": nxt, "entries": entries}
        if method == "POST" and path == "/__control/records":
            try:
                req = json.loads(body or b"{}")
                flavour = next(f for f in FLAVOURS if f.name == req["flavour"])
                stamp = now_iso()
                records = [{"id": int(r["id"]), "subject": str(r.get("subject", "hostile")),
                            "status": str(r.get("status", "new")),
                            "updated": str(r.get("updated", stamp))} for r in req["records"]]
            except (ValueError, KeyError, TypeError, AttributeError, StopIteration):
                return 400, {"error": 'body must be {"flavour": NAME, "records": '
                             '[{"id": N, "subject": S, "status": S}, ...]}'}
            with STATE.lock:
                flavour.records = records
            return 200, {"flavour": flavour.name, "records": records}
        if method == "POST" and path == "/__control/quit":
            STATE.stopping.set()
            return 200, {"quitting": True}
        return 404, {"error": "unknown control request"}

    # -- every request --
    def handle_any(self):
        listener = self.server.label
        split = urlsplit(self.path)
        body = self.read_body()
        if listener == "main" and split.path.startswith("/__control/"):
            status, doc = self.control(self.command, split.path, split.query, body)
            data = json.dumps(doc).encode()
            try:
                self.raw(self.head_bytes(status, {"Content-Type": "application/json",
                                                  "Content-Length": str(len(data))}) + data)
            except ClientGone:
                self.close_connection = True
            return
        flavour, sub = find_flavour(split.path)
        req = Request(self.command, sub, split.query)
        if flavour:
            kind, good = flavour.route(req)
        else:
            kind, good = "other", None
        entry = STATE.record({
            "t": time.time(), "end": None, "listener": listener, "method": self.command,
            "path": self.path, "headers": {k: v for k, v in self.headers.items()},
            "flavour": flavour.name if flavour else None, "kind": kind, "mode": "good",
            "status": None, "sent": 0, "note": ""})
        m, params = STATE.pick(listener, flavour, kind)
        STATE.update(entry, mode=m["name"])
        try:
            if m["name"] == "good":
                status, doc, extra = self.good_answer(good, req)
                data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
                self.answer(status, dict({"Content-Type": "application/json; charset=utf-8"},
                                         **extra), data, entry)
            else:
                self.hostile(m, params, flavour, good, req, entry)
        except ClientGone:
            self.close_connection = True
            STATE.update(entry, note=(entry.get("note") or "") + " client went away")
        finally:
            STATE.update(entry, end=time.time())

    def body_of(self, m, flavour, good, req):
        spec = m["body"]
        if isinstance(spec, Raw):
            return spec.data
        if isinstance(spec, Json):
            return json.dumps(spec.value).encode()
        if isinstance(spec, Listing):
            return json.dumps(flavour.listing(req, spec.value, spec.omit)).encode()
        if isinstance(spec, Items):
            return json.dumps(flavour.listing(req, [flavour.item(req, spec.ident, spec.when)])
                              ).encode()
        if isinstance(spec, Echo):
            first = [(k, v) for k, v in self.headers.items()
                     if k.lower() in ("authorization", "x-redmine-api-key", "cookie",
                                      "proxy-authorization")
                     or "token" in k.lower() or "key" in k.lower()]
            rest = [(k, v) for k, v in self.headers.items() if (k, v) not in first]
            text = "".join("%s: %s\n" % kv for kv in first + rest)
            return ("%s%s %s\n" % (text, self.command, self.path)).encode("utf-8", "replace")
        # Good
        status, doc, extra = self.good_answer(good, req)
        return doc if isinstance(doc, bytes) else json.dumps(doc).encode()

    def good_answer(self, good, req):
        """(status, body, headers) of the flavour's good answer."""
        if good is None:
            return 404, {"message": "not impersonated"}, {}
        with STATE.lock:
            out = good(req)
        return out if len(out) == 3 else (out[0], out[1], {})

    def hostile(self, m, params, flavour, good, req, entry):
        subst = {"self": STATE.base, "other": STATE.other, "path": self.path}
        headers = {k: v.format(**subst) for k, v in m["headers"].items()}
        headers.setdefault("Content-Type", m["ctype"])
        status = m["status"]
        body = self.body_of(m, flavour, good, req)
        send = m["send"]
        deadline = time.monotonic() + STATE.max_stream_seconds
        STATE.update(entry, status=status)

        def alive():
            return time.monotonic() < deadline and not STATE.stopping.is_set()

        if send == "normal":
            self.answer(status, headers, body, entry)
        elif send == "truncated":
            headers["Content-Length"] = str(len(body) + 1000)
            self.raw(self.head_bytes(status, headers) + body)
            STATE.update(entry, sent=len(body), note="closed 1000 bytes short")
            self.close_connection = True
        elif send == "endless":
            headers["Transfer-Encoding"] = "chunked"
            self.raw(self.head_bytes(status, headers))
            self.raw(b"1\r\n[\r\n")
            piece = (b'{"id": 1, "x": "' + b"y" * max(1, int(params.get("chunk", 4096)) - 20) +
                     b'"},')
            chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
            sent = 1
            while alive():
                self.raw(chunk)
                sent += len(piece)
                STATE.update(entry, sent=sent)
                time.sleep(float(params.get("interval", 0.05)))
            STATE.update(entry, note="stream bound reached")
            self.close_connection = True
        elif send in ("huge", "huge-chunked"):
            size = int(params.get("size", 100 * 1000 * 1000))
            tail = body
            pad = max(0, size - len(tail))
            block = b" " * 65536
            chunked = send == "huge-chunked"
            if chunked:
                headers["Transfer-Encoding"] = "chunked"
            else:
                headers["Content-Length"] = str(pad + len(tail))
            self.raw(self.head_bytes(status, headers))
            sent = 0
            while sent < pad and alive():
                n = min(len(block), pad - sent)
                data = block[:n]
                self.raw(b"%x\r\n%s\r\n" % (n, data) if chunked else data)
                sent += n
                if sent % (1 << 22) < 65536:
                    STATE.update(entry, sent=sent)
            if sent >= pad:
                self.raw(b"%x\r\n%s\r\n0\r\n\r\n" % (len(tail), tail) if chunked else tail)
                sent += len(tail)
            STATE.update(entry, sent=sent)
            if not chunked and sent < pad + len(tail):
                self.close_connection = True
        elif send in ("slow", "slow-body"):
            interval = float(params.get("interval", 1.0))
            headers["Content-Length"] = str(len(body))
            head = self.head_bytes(status, headers)
            data = head + body
            start = 0
            if send == "slow-body":
                self.raw(head)
                start = len(head)
            sent = 0
            for i in range(start, len(data)):  # bounded by the answer's length
                if not alive():
                    self.close_connection = True
                    STATE.update(entry, note="stream bound reached")
                    break
                self.raw(data[i:i + 1])
                sent += 1
                STATE.update(entry, sent=sent)
                time.sleep(interval)
        else:
            raise ValueError("unknown send style " + send)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, label):
        self.label = label
        super().__init__(addr, Handler)


def main():
    global STATE
    ap = argparse.ArgumentParser(description="a misbehaving RT/Redmine for concord's tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--other-host", default="127.0.0.2")
    ap.add_argument("--mode", default="good", choices=[m["name"] for m in MODES])
    ap.add_argument("--scope", default="list", choices=["list", "all"])
    ap.add_argument("--max-stream-seconds", type=float, default=600.0)
    a = ap.parse_args()
    if not a.other_host.startswith("127."):
        sys.exit("remote.py: --other-host must be a loopback address (127.x.x.x)")
    STATE = State(a.max_stream_seconds)
    STATE.set_mode(a.mode, a.scope)
    main_srv = Server(("127.0.0.1", a.port), "main")
    port = main_srv.server_address[1]
    try:
        other_srv = Server((a.other_host, port), "other")
    except OSError:
        other_srv = Server((a.other_host, 0), "other")
    STATE.base = "http://127.0.0.1:%d" % port
    STATE.other = "http://%s:%d" % (a.other_host, other_srv.server_address[1])
    for srv in (main_srv, other_srv):
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()
    print(json.dumps({"port": port, "base": STATE.base, "other": STATE.other,
                      "pid": os.getpid()}), flush=True)
    try:
        while not STATE.stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    STATE.stopping.set()
    for srv in (main_srv, other_srv):
        srv.shutdown()
        srv.server_close()


if __name__ == "__main__":
    main()
