#!/usr/bin/env python3
"""Records the replay scenarios of tests/replay from the live RT and Redmine peers.

usage: capture.py TEST_REPLAY [NAME...]      (every scenario when no NAME is given)

NAME is KIND/NAME (rt/create) or NAME (both kinds). A scenario not named
is not recaptured; the edits made of it are made of its file as it is.

TEST_REPLAY is the replay program (build/tests/replay/test_replay). The
peers' peers.env is read from $CONCORD_PEERS_DIR (default
/tmp/concord-peers); tests/integration/peers/start-peers.sh starts them.
Not run by CI: it needs the peers, and it writes into them (a queue
"Replay" and "ReplayElsewhere" in RT, projects "replay" and
"replay-elsewhere" in Redmine, and tickets and issues there).

For each scenario it first sets the stage through the peers' own APIs
(tickets to list, to move, to change behind the connector's back), then
runs the scenario's operations with TEST_REPLAY --live through a
recording proxy on 127.0.0.1: the connector itself sends every request,
so the recorded paths are exactly the ones it asks for. The proxy holds
each request 40 ms before it forwards it, so that the requests of one
batch overlap and are recorded as one concurrent group. TEST_REPLAY
checks the scenario's expectations against the live answers; what the
operations answered there becomes the scenario's expectations, and the
exchanges (method, path, status, the headers a connector reads, body)
its answers. Secrets are never recorded.

Error cases the servers do not produce on demand (409, 429, 5xx,
malformed bodies, a torn read) are edits of captured answers, made here
and marked "synthesized" in the data.
"""
import calendar
import copy
import http.client
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPLAY = sys.argv[1] if len(sys.argv) > 1 else None
ONLY = set(sys.argv[2:])
PEERS = os.environ.get("CONCORD_PEERS_DIR", "/tmp/concord-peers")
ENV = {}
with open(os.path.join(PEERS, "peers.env")) as f:
    for line in f:
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            ENV[k] = v
RT = ENV["RT_REST2_URL"]
RM = ENV["REDMINE_URL"]
RTH = {"Authorization": "token " + ENV["RT_TOKEN"]}
RMH = {"X-Redmine-API-Key": ENV["REDMINE_API_KEY"]}
KEEP_HEADERS = ("content-type", "date", "etag", "location", "retry-after",
                "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-limit")
SERVERS = {"rt": "Request Tracker 5.0.3 (Debian 12)", "redmine": "Redmine 5.0.4 (Debian 12, thin)"}


# ---- the peers' APIs, for setting the stage (not recorded) -------------------

def call(method, url, headers, body=None, ok=(200, 201, 204)):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers))
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            return (json.loads(raw) if raw.strip() else None), dict(r.headers)
    except urllib.error.HTTPError as e:
        if e.code in ok:
            return None, dict(e.headers)
        raise RuntimeError("%s %s: %d %s" % (method, url, e.code, e.read()[:200]))


def rt(method, path, body=None):
    return call(method, RT + path, RTH, body)[0]


def rt_etag(tid):
    return int(call("GET", RT + "/ticket/%s" % tid, RTH)[1]["ETag"].strip('"'))


def rt_ticket(subject, queue="Replay", **extra):
    b = {"Queue": queue, "Subject": subject}
    b.update(extra)
    return str(rt("POST", "/ticket", b)["id"])


def rm(method, path, body=None):
    return call(method, RM + path, RMH, body)[0]


def rm_issue(subject, project="replay", **extra):
    b = {"project_id": project, "subject": subject}
    b.update(extra)
    return str(rm("POST", "/issues.json", {"issue": b})["issue"]["id"])


def rm_cf_id(name="ExternalRef"):
    return [c["id"] for c in rm("GET", "/custom_fields.json")["custom_fields"] if c["name"] == name][0]


def stage():
    """The queues and projects the scenarios use (idempotent)."""
    for q in ("Replay", "ReplayElsewhere"):
        try:
            rt("GET", "/queue/" + q)
        except RuntimeError:
            rt("POST", "/queue", {"Name": q})
    for ident, name in (("replay", "Replay"), ("replay-elsewhere", "Replay Elsewhere")):
        try:
            rm("GET", "/projects/%s.json" % ident)
        except RuntimeError:
            rm("POST", "/projects.json", {"project": {
                "name": name, "identifier": ident, "enabled_module_names": ["issue_tracking"],
                "tracker_ids": [t["id"] for t in rm("GET", "/trackers.json")["trackers"]]}})


def now_s():
    return int(time.time())


def tick():
    """Waits for the next second: RT and Redmine keep times in whole seconds."""
    t = time.time()
    time.sleep(1.05 - (t - int(t)))


# ---- the recording proxy -----------------------------------------------------

class Recorder:
    def __init__(self, upstream):
        u = urllib.parse.urlsplit(upstream)
        self.host, self.port = u.hostname, u.port
        self.records = []
        self.lock = threading.Lock()
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def relay(self):
                t0 = time.monotonic()
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                time.sleep(0.04)  # so that the requests of one batch overlap
                fwd = {k: v for k, v in self.headers.items()
                       if k.lower() in ("authorization", "x-redmine-api-key", "if-match",
                                        "content-type", "accept")}
                c = http.client.HTTPConnection(rec.host, rec.port, timeout=60)
                c.request(self.command, self.path, body=body or None, headers=fwd)
                r = c.getresponse()
                data = r.read()
                headers = [(k, v) for k, v in r.getheaders() if k.lower() in KEEP_HEADERS]
                c.close()
                self.send_response_only(r.status)  # no Date or Server of the proxy's own
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                t1 = time.monotonic()
                with rec.lock:
                    rec.records.append({"t0": t0, "t1": t1, "method": self.command,
                                        "path": self.path, "if_match": self.headers.get("If-Match"),
                                        "request": body, "status": r.status,
                                        "headers": headers, "body": data})

            do_GET = do_POST = do_PUT = do_DELETE = relay

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, base):
        return "http://127.0.0.1:%d%s" % (self.server.server_address[1], base)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def json_or_text(raw):
    try:
        return "body", json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "body_text", raw.decode("utf-8", "replace")


def exchanges(records, base, kind):
    """The recorded requests as exchanges, in start order, with concurrent groups."""
    records = sorted(records, key=lambda r: r["t0"])
    out, group, gend, members = [], 0, -1.0, []
    for r in records:
        x = {"method": r["method"], "path": r["path"][len(base):]}
        if r["method"] in ("POST", "PUT", "DELETE"):
            req = {}
            if r["request"]:
                k, v = json_or_text(r["request"])
                req[k] = v
            if kind == "rt" and r["method"] == "PUT":
                req["if_match"] = r["if_match"]  # a value, or null: none may be sent
            x["request"] = req
        x["status"] = r["status"]
        x["headers"] = {k: v for k, v in r["headers"]}
        k, v = json_or_text(r["body"])
        if v is None:
            x["body_text"] = ""
        else:
            x[k] = v
        # a request started before the one before it ended: the same batch
        if out and r["t0"] < gend:
            members.append(x)
        else:
            if len(members) > 1:
                group += 1
                for m in members:
                    m["group"] = group
            members = [x]
        gend = max(gend, r["t1"]) if members and len(members) > 1 else r["t1"]
        out.append(x)
    if len(members) > 1:
        group += 1
        for m in members:
            m["group"] = group
    return [dict(sorted(x.items(), key=lambda kv: ORDER.index(kv[0]))) for x in out]


ORDER = ["method", "path", "group", "request", "status", "headers", "body", "body_text",
         "delay_ms", "synthesized"]


# ---- running a scenario live ---------------------------------------------------

def wanted(kind, name):
    return not ONLY or name in ONLY or kind + "/" + name in ONLY


def live(kind, name, scenario, checks=None):
    """Runs the scenario's steps live through the recorder; writes KIND/NAME.json."""
    if not wanted(kind, name):
        # not recaptured: the scenario as it is, for the edits made of it
        path = os.path.join(HERE, kind, name + ".json")
        if os.path.exists(path):
            with open(path) as f:
                return json.load(f)
        return None
    base = "/REST/2.0" if kind == "rt" else ""
    upstream = RT[:-len(base)] if base else RM
    rec = Recorder(upstream)
    sc = {"scenario": scenario["scenario"], "kind": kind, "base": base,
          "captured": "%s on loopback, %s, by tests/replay/capture.py"
                      % (SERVERS[kind], time.strftime("%Y-%m-%d"))}
    for k in ("settings", "integration_user", "users", "map"):
        if k in scenario:
            sc[k] = scenario[k]
    sc["steps"] = scenario["steps"]
    with tempfile.TemporaryDirectory() as tmp:
        skel = os.path.join(tmp, "skeleton.json")
        got = os.path.join(tmp, "answers.json")
        with open(skel, "w") as f:
            json.dump(sc, f)
        secret = ENV["RT_TOKEN"] if kind == "rt" else ENV["REDMINE_API_KEY"]
        p = subprocess.run([REPLAY, "--live", rec.url(base), "--secret", secret, "--out", got,
                            skel], capture_output=True, text=True, timeout=600)
        rec.close()
        if p.returncode != 0:
            sys.exit("%s/%s: the live run failed:\n%s%s" % (kind, name, p.stdout, p.stderr))
        with open(got) as f:
            answers = json.load(f)
    for step, answer in zip(sc["steps"], answers):
        if answer is None:
            continue
        want = step.get("expect", {})
        merged = dict(answer)
        for k, v in want.items():
            if k not in merged:
                merged[k] = v  # semantic checks (reason_contains, interrupt_polls_min)
        step["expect"] = merged
    sc["exchanges"] = exchanges(rec.records, base, kind)
    if checks:
        checks(sc)  # the request fragments that matter
    write(kind, name, sc)
    return sc


def write(kind, name, sc):
    path = os.path.join(HERE, kind, name + ".json")
    with open(path, "w") as f:
        json.dump(sc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote %s/%s.json: %d steps, %d exchanges" % (kind, name, len(sc["steps"]),
                                                       len(sc["exchanges"])), flush=True)


def find_x(sc, method, path_start, nth=0):
    hits = [x for x in sc["exchanges"] if x["method"] == method and x["path"].startswith(path_start)]
    return hits[nth]


def require(x, contains=(), lacks=()):
    req = x.setdefault("request", {})
    if contains:
        req["body_contains"] = list(contains)
    if lacks:
        req["body_lacks"] = list(lacks)


def synthesize(kind, name, base_sc, scenario, steps, keep, edit, why):
    """A scenario made of a captured one: its first `keep` exchanges, the last one edited."""
    if not wanted(kind, name):
        return
    sc = copy.deepcopy(base_sc)
    sc["scenario"] = scenario
    sc["captured"] = base_sc["captured"] + "; edited: " + why
    sc["steps"] = steps
    sc["exchanges"] = [copy.deepcopy(x) for x in base_sc["exchanges"][:keep]]
    edit(sc["exchanges"])
    write(kind, name, sc)


def ok_record(**want):
    return {"result": "OK", "record": want}


# ---- RT ------------------------------------------------------------------------

RT_SETUP = {"settings": {"queue": "Replay", "correlation_field": "ExternalRef"},
            "integration_user": "root", "users": [["root", "root@example.org"]]}


def rt_scenario(text, steps):
    d = dict(RT_SETUP)
    d["scenario"] = text
    d["steps"] = steps
    return d


def capture_rt():
    tag = str(now_s())
    # a poll in two pages, the reads of the first sent at once
    t0 = now_s() - 1
    tick()
    ids = [rt_ticket("replay page %s %s" % (c, tag)) for c in "ABC"]
    pages = live("rt", "list-pages", rt_scenario(
        "RT: a poll since a cursor in two pages of two; the histories, then the tickets of "
        "the first page are read at once; the second page starts after the first",
        [{"op": "list", "since_s": t0, "after_mtime_s": 0, "after_id": None, "page_size": 2,
          "expect": {"result": "OK", "page": {"ids": ids[:2], "more": True, "next_id": ids[1]}}},
         {"op": "list", "since_s": t0, "after": "previous", "page_size": 2,
          "expect": {"result": "OK", "page": {"ids": ids[2:], "more": False}}}]))

    live("rt", "list-first-start", rt_scenario(
        "RT: the first start (no cursor) lists the queue's tickets by LastUpdated, a page of two",
        [{"op": "list", "since_s": -1, "after_mtime_s": 0, "after_id": None, "page_size": 2,
          "expect": {"result": "OK", "page": {"nitems": 2, "more": True}}}]))

    # an idle poll: the listed version is the one returned: one request, no read
    t0 = now_s() - 1
    tick()
    idle = rt_ticket("replay idle " + tag)
    live("rt", "list-idle", rt_scenario(
        "RT: a ticket read, then polls that list only its version: one request each, no read",
        [{"op": "read", "id": idle, "expect": ok_record(id=idle, deleted=False)},
         {"op": "list", "since_s": t0, "after_mtime_s": 0, "after_id": None, "page_size": 100,
          "expect": {"result": "OK", "requests": 1, "page": {"nitems": 0, "more": False}}},
         {"op": "list", "since_s": now_s() + 3600, "after_mtime_s": 0, "after_id": None,
          "page_size": 100,
          "expect": {"result": "OK", "requests": 1, "page": {"nitems": 0, "more": False}}}]))

    # a read (the base of the torn read), a conditional update
    upd = rt_ticket("replay update " + tag, Priority="10")
    rt("PUT", "/ticket/" + upd, {"Priority": "20"})
    rv = rt_etag(upd)

    def upd_checks(sc):
        put = find_x(sc, "PUT", "/ticket/")
        require(put, contains=['"Subject":"replay updated %s"' % tag])
    updated = live("rt", "update-if-match", rt_scenario(
        "RT: a read, then an update at that version: the PUT carries If-Match with it, and the "
        "ticket is read back",
        [{"op": "read", "id": upd, "expect": ok_record(id=upd, rv=str(rv))},
         {"op": "update", "id": upd, "expected_rv": "previous",
          "values": {"title": "replay updated " + tag, "state": "open"},
          "expect": ok_record(fields={"title": "replay updated " + tag, "state": "open"})}]),
        upd_checks)

    # a conditional update at an old version: RT's own 412
    con = rt_ticket("replay conflict " + tag)
    old = rt_etag(con)
    rt("PUT", "/ticket/" + con, {"Subject": "replay conflict changed " + tag})
    live("rt", "update-conflict", rt_scenario(
        "RT: an update at a version the ticket has left: RT answers 412 to the If-Match, "
        "the connector CONFLICT, nothing is read back",
        [{"op": "update", "id": con, "expected_rv": str(old),
          "values": {"title": "replay lost " + tag},
          "expect": {"result": "CONFLICT", "reason_contains": "changed since version"}}]))

    # create with the correlation id, then the status by an update
    corr = "concord-replay-" + tag

    def create_checks(sc):
        post = find_x(sc, "POST", "/ticket")
        require(post, contains=['"ExternalRef":"%s"' % corr, '"Queue":"Replay"'],
                lacks=['"Status"', '"Requestor"'])
        put = find_x(sc, "PUT", "/ticket/")
        require(put, contains=['"Status":"open"'])
    created = live("rt", "create", rt_scenario(
        "RT: a create carries the correlation id in its custom field and no status nor "
        "requestor; the status follows by an unconditional update; the ticket is read back",
        [{"op": "create", "correlation_id": corr,
          "values": {"title": "replay created " + tag, "state": "open", "priority": "20"},
          "expect": ok_record(correlation_id=corr, fields={"state": "open"})}]), create_checks)
    new_id = created["steps"][0]["expect"]["record"]["id"] if created else None

    if new_id:
        live("rt", "find", rt_scenario(
            "RT: the correlation id is looked up in every queue: found, then not found",
            [{"op": "find", "correlation_id": corr,
              "expect": {"result": "OK", "found": True, "record": {"id": new_id}}},
             {"op": "find", "correlation_id": corr + "-none",
              "expect": {"result": "OK", "found": False}}]))

    # a comment, its id from the attachments, and the comment in a read
    com = rt_ticket("replay comment " + tag)
    body = "[concord:9:1:77] a mirrored comment " + tag

    def comment_checks(sc):
        require(find_x(sc, "POST", "/ticket/"), contains=['"ContentType":"text/plain"'])
    live("rt", "comment", rt_scenario(
        "RT: a comment (never a correspondence), its transaction found among the newest "
        "attachments; a read shows it with its body from the attachments",
        [{"op": "comment", "id": com, "body": body, "expect": {"result": "OK"}},
         {"op": "read", "id": com, "expect": {"result": "OK"}}]), comment_checks)

    # deleted: gone (404), status deleted, moved to another queue
    live("rt", "read-gone", rt_scenario(
        "RT: a ticket that does not exist (404): a deleted observation, newer than any version",
        [{"op": "read", "id": "999999",
          "expect": ok_record(id="999999", deleted=True, rv="18446744073709551615")}]))
    dele = rt_ticket("replay deleted " + tag)
    rt("DELETE", "/ticket/" + dele)
    live("rt", "read-status-deleted", rt_scenario(
        "RT: a ticket with status deleted is a deleted observation",
        [{"op": "read", "id": dele, "expect": ok_record(id=dele, deleted=True)}]))
    mov = rt_ticket("replay moved " + tag)
    t0 = now_s() - 1
    tick()
    rt("PUT", "/ticket/" + mov, {"Queue": "ReplayElsewhere"})
    live("rt", "list-departure", rt_scenario(
        "RT: a ticket moved to another queue is listed by its Queue transaction and observed "
        "deleted (a departure)",
        [{"op": "list", "since_s": t0, "after_mtime_s": 0, "after_id": None, "page_size": 100,
          "expect": {"result": "OK", "page": {"ids": [mov], "records": [{"deleted": True}]}}}]))

    # the webhook
    wh = rt_ticket("replay webhook " + tag)
    txn = rt_etag(wh)
    sc = live("rt", "webhook", rt_scenario(
        "RT: a webhook body names a ticket: it is read; the same transaction again needs no "
        "read; bodies that are not JSON or name no ticket are refused",
        [{"op": "webhook", "body": json.dumps({"ticket": int(wh), "transaction": txn,
                                                 "type": "Create"}),
          "expect": {"result": "OK", "page": {"ids": [wh]}, "interrupt_polls_min": 1}},
         {"op": "webhook", "body": json.dumps({"ticket": int(wh), "transaction": txn}),
          "expect": {"result": "OK", "requests": 0, "page": {"nitems": 0}}},
         {"op": "webhook", "body": "ticket=%s" % wh,
          "expect": {"result": "ERROR", "reason_contains": "not a JSON object"}},
         {"op": "webhook", "body": json.dumps({"ticket": "x"}),
          "expect": {"result": "ERROR", "reason_contains": "names no ticket"}}]))
    if sc and wanted("rt", "webhook"):
        # replay only: the read waits, so that the client asks the interrupt hook
        find_x(sc, "GET", "/ticket/%s/history" % wh)["delay_ms"] = 300
        write("rt", "webhook", sc)

    # synthesized from the captures above
    if updated:
        ux = updated["exchanges"]
        put_at = next(i for i, x in enumerate(ux) if x["method"] == "PUT")
        rd = [s for s in updated["steps"][:1]]
        upd_step = copy.deepcopy(updated["steps"][1])
        upd_step.pop("expect")

        def put_answer(status, headers, body, why):
            def edit(xs):
                xs[-1]["status"] = status
                xs[-1]["headers"] = headers
                xs[-1].pop("body", None)
                xs[-1]["body_text"] = body
                xs[-1]["synthesized"] = why
            return edit
        for status, name, want, why in (
                (409, "update-409", {"result": "CONFLICT"}, "409 instead of RT's 200"),
                (502, "update-502", {"result": "RETRY", "outcome_unknown": True},
                 "a gateway's 502 instead of RT's 200: the write may have been applied"),
                (404, "update-404", {"result": "CONFLICT", "reason_contains": "is gone"},
                 "404 instead of RT's 200: the ticket was shredded meanwhile")):
            st = copy.deepcopy(upd_step)
            st["expect"] = want
            synthesize("rt", name, updated,
                       "RT: the conditional PUT answered %d: %s" % (status, want["result"]),
                       rd + [st], put_at + 1,
                       put_answer(status, {"Content-Type": "text/plain"}, "edited answer", why),
                       why)

        # the write went through, its read back failed: the outcome is unknown
        def readback_500(xs):
            xs[-1].update(status=500, headers={"Content-Type": "text/html"},
                          body_text="<html>Internal Server Error</html>",
                          synthesized="500 instead of the captured read back")
            xs[-1].pop("body", None)
        st = copy.deepcopy(upd_step)
        st["expect"] = {"result": "RETRY", "outcome_unknown": True}
        synthesize("rt", "update-readback-500", updated,
                   "RT: the PUT went through, reading the ticket back answered 500: RETRY with "
                   "the outcome unknown", rd + [st], put_at + 2, readback_500,
                   "500 on the history read after the PUT")

        # a torn read: the history read before a transaction, the ticket after it
        hist_at = next(i for i, x in enumerate(ux) if "/history" in x["path"])

        def torn(xs):
            h = copy.deepcopy(xs[hist_at])
            t = copy.deepcopy(xs[hist_at + 1])
            items = h["body"]["items"]
            newest = max(int(i["id"]) for i in items)
            h["body"]["items"] = [i for i in items if int(i["id"]) != newest]
            h["body"]["count"] = h["body"]["total"] = len(h["body"]["items"])
            h["synthesized"] = ("the history as it was before its newest transaction %d: "
                                "read just before that transaction committed" % newest)
            t["synthesized"] = "the ticket after that transaction (its ETag is %d)" % newest
            xs[hist_at:hist_at] = [h, t]
        synthesize("rt", "read-torn", updated,
                   "RT: a torn read (the ticket's ETag is not the history's newest "
                   "transaction) is read again, and the good pair is observed",
                   [dict(updated["steps"][0], expect=dict(updated["steps"][0]["expect"],
                                                         requests=
                                                         updated["steps"][0]["expect"]
                                                         ["requests"] + 2))],
                   hist_at + 2, torn,
                   "a history without its newest transaction, then the captured pair")

        def hist_500(xs):
            xs[hist_at]["status"] = 500
            xs[hist_at].pop("body", None)
            xs[hist_at]["body_text"] = "<html>Internal Server Error</html>"
            xs[hist_at]["headers"] = {"Content-Type": "text/html"}
            xs[hist_at]["synthesized"] = "500 instead of the captured history"
        rd0 = copy.deepcopy(updated["steps"][0])
        rd0["expect"] = {"result": "RETRY", "outcome_unknown": False}
        synthesize("rt", "read-500", updated, "RT: a read answered 500 is RETRY (a GET: the "
                   "outcome is known)", [rd0], hist_at + 1, hist_500, "500 on the history")

        def bad_time(xs):
            xs[hist_at + 1]["body"]["LastUpdated"] = "soon"
            xs[hist_at + 1]["synthesized"] = "LastUpdated is not a time"
        rd1 = copy.deepcopy(updated["steps"][0])
        rd1["expect"] = {"result": "RETRY", "reason_contains": "malformed answer"}
        synthesize("rt", "read-malformed", updated,
                   "RT: a ticket whose LastUpdated is not a time is a malformed answer (RETRY), "
                   "never an observation", [rd1], hist_at + 2, bad_time, "LastUpdated 'soon'")
    if pages:
        px = pages["exchanges"]
        search_at = next(i for i, x in enumerate(px) if x["path"].startswith("/transactions?"))
        st = copy.deepcopy(pages["steps"][0])

        def too_many(xs):
            xs[search_at].update(status=429, headers={"Content-Type": "text/plain",
                                                      "Retry-After": "7"},
                                 body_text="slow down", synthesized="429 with Retry-After: 7")
            xs[search_at].pop("body", None)
        st["expect"] = {"result": "RETRY", "retry_after_ms": 7000, "page": {"nitems": 0}}
        synthesize("rt", "list-429", pages, "RT: a poll answered 429 with Retry-After is RETRY "
                   "with its delay, and an empty page", [st], search_at + 1, too_many,
                   "429 on the transaction search")

        def not_a_list(xs):
            xs[search_at]["body"]["items"] = "notalist"
            xs[search_at]["synthesized"] = "items is not a list"
        st = copy.deepcopy(pages["steps"][0])
        st["expect"] = {"result": "RETRY", "reason_contains": "malformed answer",
                        "page": {"nitems": 0}}
        synthesize("rt", "list-malformed", pages, "RT: a transaction search whose items are "
                   "not a list is a malformed answer (RETRY), never an empty page", [st],
                   search_at + 1, not_a_list, "items 'notalist'")


# ---- Redmine ---------------------------------------------------------------------

RM_SETUP = {"settings": {"project": "replay", "correlation_field": "ExternalRef"},
            "integration_user": "admin", "users": [["admin", "admin@example.org"]]}


def rm_scenario(text, steps):
    d = dict(RM_SETUP)
    d["scenario"] = text
    d["steps"] = steps
    return d


def capture_redmine():
    tag = str(now_s())
    cf = rm_cf_id()
    time.sleep(2)  # earlier scenarios' issues are out of the window
    t0 = now_s()
    tick()
    ids = [rm_issue("replay page %s %s" % (c, tag)) for c in "ABC"]
    pages = live("redmine", "list-pages", rm_scenario(
        "Redmine: a poll since a cursor in two pages of two; the issues of the first page "
        "are read at once; the second page starts after the first",
        [{"op": "list", "since_s": t0, "after_mtime_s": 0, "after_id": None, "page_size": 2,
          "expect": {"result": "OK", "page": {"ids": ids[:2], "more": True, "next_id": ids[1]}}},
         {"op": "list", "since_s": t0, "after": "previous", "page_size": 2,
          "expect": {"result": "OK", "page": {"ids": ids[2:], "more": False}}}]))

    time.sleep(2)  # earlier scenarios' issues are out of the window
    t0 = now_s()
    tick()
    st = rm_issue("replay settled " + tag)
    live("redmine", "list-settled", rm_scenario(
        "Redmine: an issue listed again is read until its version is settled (read twice, "
        "2 s apart); then a poll is one request",
        [{"op": "list", "since_s": t0, "after_mtime_s": 0, "after_id": None, "page_size": 100,
          "expect": {"result": "OK", "page": {"ids": [st]}}},
         {"op": "sleep", "ms": 2100},
         {"op": "list", "since_s": t0, "after_mtime_s": 0, "after_id": None, "page_size": 100,
          "expect": {"result": "OK", "requests": 2, "page": {"ids": [st]}}},
         {"op": "list", "since_s": t0, "after_mtime_s": 0, "after_id": None, "page_size": 100,
          "expect": {"result": "OK", "requests": 1, "page": {"nitems": 0}}}]))

    upd = rm_issue("replay update " + tag)

    def upd_checks(sc):
        require(find_x(sc, "PUT", "/issues/"), contains=['"subject":"replay updated %s"' % tag])
    updated = live("redmine", "update-version", rm_scenario(
        "Redmine: a read, then an update at that version: the version is read again just "
        "before the PUT (Redmine has no If-Match), and the issue is read back",
        [{"op": "read", "id": upd, "expect": ok_record(id=upd)},
         {"op": "update", "id": upd, "expected_rv": "previous",
          "values": {"title": "replay updated " + tag},
          "expect": ok_record(fields={"title": "replay updated " + tag})}]), upd_checks)

    con = rm_issue("replay conflict " + tag)
    # the version the hub holds, then a change behind the connector's back
    rv_before = rm_rv(con)
    tick()
    rm("PUT", "/issues/%s.json" % con, {"issue": {"subject": "replay conflict changed " + tag}})
    live("redmine", "update-conflict", rm_scenario(
        "Redmine: the issue changed since the version the hub holds: the read before the "
        "write shows another version, CONFLICT, and no PUT is sent",
        [{"op": "update", "id": con, "expected_rv": str(rv_before),
          "values": {"title": "replay lost " + tag},
          "expect": {"result": "CONFLICT", "reason_contains": "expected"}}]))

    bad = rm_issue("replay refused " + tag)
    live("redmine", "update-422", rm_scenario(
        "Redmine: an update Redmine refuses with 422 (a blank subject) is ERROR quoting it",
        [{"op": "update", "id": bad, "expected_rv": "0", "values": {"title": ""},
          "expect": {"result": "ERROR", "reason_contains": "422"}}]))

    corr = "concord-replay-" + tag

    def create_checks(sc):
        require(find_x(sc, "POST", "/issues.json"),
                contains=['"value":"%s"' % corr, '"project_id":'], lacks=['"status_id"'])
        require(find_x(sc, "PUT", "/issues/"), contains=['"status_id":'])
    created = live("redmine", "create", rm_scenario(
        "Redmine: a create carries the correlation id in its custom field and no status; "
        "the status follows by an update when the tracker's default is not it",
        [{"op": "create", "correlation_id": corr,
          "values": {"title": "replay created " + tag, "state": "In Progress"},
          "expect": ok_record(correlation_id=corr, fields={"state": "In Progress"})}]),
        create_checks)
    new_id = created["steps"][0]["expect"]["record"]["id"] if created else None
    if new_id:
        live("redmine", "find", rm_scenario(
            "Redmine: the correlation id is looked up in every project (exact value kept): "
            "found, then not found",
            [{"op": "find", "correlation_id": corr,
              "expect": {"result": "OK", "found": True, "record": {"id": new_id}}},
             {"op": "find", "correlation_id": corr + "-none",
              "expect": {"result": "OK", "found": False}}]))

    com = rm_issue("replay comment " + tag)
    body = "[concord:9:0:77] a mirrored comment " + tag

    def comment_checks(sc):
        require(find_x(sc, "PUT", "/issues/"), contains=['"private_notes":false'],
                lacks=['"status_id"'])
    live("redmine", "comment", rm_scenario(
        "Redmine: a public note and nothing else, its journal found as the integration "
        "user's newest with that text; a read shows it",
        [{"op": "comment", "id": com, "body": body, "expect": {"result": "OK"}},
         {"op": "read", "id": com, "expect": {"result": "OK"}}]), comment_checks)

    gone = rm_issue("replay gone " + tag)
    rm("DELETE", "/issues/%s.json" % gone)
    live("redmine", "read-gone", rm_scenario(
        "Redmine: a deleted issue (404): a deleted observation, newer than any version",
        [{"op": "read", "id": gone,
          "expect": ok_record(id=gone, deleted=True, rv="18446744073709551615")}]))

    mov = rm_issue("replay moved " + tag,
                   custom_fields=[{"id": cf, "value": "concord-replay-moved-" + tag}])
    time.sleep(2)  # earlier scenarios' issues are out of the window
    t0 = now_s()
    tick()
    rm("PUT", "/issues/%s.json" % mov, {"issue": {"project_id": "replay-elsewhere"}})
    live("redmine", "list-departure", rm_scenario(
        "Redmine: an issue with a correlation id moved to another project is still listed "
        "(every project is searched) and observed deleted (a departure)",
        [{"op": "list", "since_s": t0, "after_mtime_s": 0, "after_id": None, "page_size": 100,
          "expect": {"result": "OK", "page": {"ids": [mov], "records": [{"deleted": True}]}}}]))

    if updated:
        ux = updated["exchanges"]
        put_at = next(i for i, x in enumerate(ux) if x["method"] == "PUT")
        rd = updated["steps"][:1]
        upd_step = copy.deepcopy(updated["steps"][1])
        upd_step.pop("expect")

        def put_answer(status, why):
            def edit(xs):
                xs[-1].update(status=status, headers={"Content-Type": "text/plain"},
                              body_text="edited answer", synthesized=why)
                xs[-1].pop("body", None)
            return edit
        for status, name, want, why in (
                (409, "update-409", {"result": "CONFLICT"}, "409 instead of Redmine's 204"),
                (502, "update-502", {"result": "RETRY", "outcome_unknown": True},
                 "a gateway's 502 instead of Redmine's 204: the write may have been applied")):
            s2 = copy.deepcopy(upd_step)
            s2["expect"] = want
            synthesize("redmine", name, updated,
                       "Redmine: the PUT answered %d: %s" % (status, want["result"]),
                       rd + [s2], put_at + 1, put_answer(status, why), why)
        def readback_500(xs):
            xs[-1].update(status=500, headers={"Content-Type": "text/html"},
                          body_text="<html>Internal Server Error</html>",
                          synthesized="500 instead of the captured read back")
            xs[-1].pop("body", None)
        s3 = copy.deepcopy(upd_step)
        s3["expect"] = {"result": "RETRY", "outcome_unknown": True}
        synthesize("redmine", "update-readback-500", updated,
                   "Redmine: the PUT went through, reading the issue back answered 500: RETRY "
                   "with the outcome unknown", rd + [s3], put_at + 2, readback_500,
                   "500 on the issue read after the PUT")
        issue_at = next(i for i, x in enumerate(ux) if x["path"].startswith("/issues/"))

        def issue_500(xs):
            xs[issue_at].update(status=500, headers={"Content-Type": "text/html"},
                                body_text="<html>Internal Server Error</html>",
                                synthesized="500 instead of the captured issue")
            xs[issue_at].pop("body", None)
        r0 = copy.deepcopy(updated["steps"][0])
        r0["expect"] = {"result": "RETRY", "outcome_unknown": False}
        synthesize("redmine", "read-500", updated, "Redmine: a read answered 500 is RETRY",
                   [r0], issue_at + 1, issue_500, "500 on the issue")

        def no_time(xs):
            xs[issue_at]["body"]["issue"]["updated_on"] = "later"
            xs[issue_at]["synthesized"] = "updated_on is not a time"
        r1 = copy.deepcopy(updated["steps"][0])
        r1["expect"] = {"result": "RETRY", "reason_contains": "malformed answer"}
        synthesize("redmine", "read-malformed", updated,
                   "Redmine: an issue whose updated_on is not a time is a malformed answer "
                   "(RETRY), never an observation", [r1], issue_at + 1, no_time,
                   "updated_on 'later'")
    if pages:
        px = pages["exchanges"]
        search_at = next(i for i, x in enumerate(px) if x["path"].startswith("/issues.json?"))

        def too_many(xs):
            xs[search_at].update(status=429, headers={"Content-Type": "text/plain",
                                                      "Retry-After": "7"},
                                 body_text="slow down", synthesized="429 with Retry-After: 7")
            xs[search_at].pop("body", None)
        s = copy.deepcopy(pages["steps"][0])
        s["expect"] = {"result": "RETRY", "retry_after_ms": 7000, "page": {"nitems": 0}}
        synthesize("redmine", "list-429", pages, "Redmine: a poll answered 429 with "
                   "Retry-After is RETRY with its delay, and an empty page", [s],
                   search_at + 1, too_many, "429 on the issue search")

        def not_a_list(xs):
            xs[search_at]["body"]["issues"] = {}
            xs[search_at]["synthesized"] = "issues is not a list"
        s = copy.deepcopy(pages["steps"][0])
        s["expect"] = {"result": "RETRY", "reason_contains": "malformed answer",
                       "page": {"nitems": 0}}
        synthesize("redmine", "list-malformed", pages, "Redmine: an issue search whose issues "
                   "are not a list is a malformed answer (RETRY), never an empty page", [s],
                   search_at + 1, not_a_list, "issues {}")


def rm_rv(iid):
    """The connector's version of an issue: updated_on << 20 | newest journal id mod 2^20."""
    i = rm("GET", "/issues/%s.json?include=journals" % iid)["issue"]
    t = calendar.timegm(time.strptime(i["updated_on"], "%Y-%m-%dT%H:%M:%SZ"))
    j = max([x["id"] for x in i.get("journals", [])] or [0])
    return (t << 20) | (j & ((1 << 20) - 1))


if __name__ == "__main__":
    if not REPLAY:
        sys.exit(__doc__)
    stage()
    capture_rt()
    capture_redmine()
