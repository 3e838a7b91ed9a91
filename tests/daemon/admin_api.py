#!/usr/bin/env python3
"""The daemon's listener and admin API, end to end, without real peers.

Starts `concord serve` with two systems (rt, redmine) pointing at a closed
loopback port, so every poll fails and is retried, and checks: /health; the
admin API's token (none, wrong, right: 401, 401, 200 with JSON naming both
systems, their breaker and last failure); pause and resume through the API
as `concord status` sees them; a 2 MiB webhook refused with 413; a small
webhook accepted; `concord status` showing the status the daemon wrote; a
daemon without admin_token answering 403; a non-loopback listen address
refused; SIGTERM stopping the daemon within a few seconds.

The manual queue: MAKE_CONFLICT writes three cases with a conflict parked in
`state` into the store before the daemon starts; `concord conflicts list`
and GET /admin/conflicts show both sides with their authors; `concord
conflicts resolve` and POST /admin/conflicts/CASE/FIELD resolve them (taking
a side, or a value), with their errors (no such case, field or system, not
parked, not a side, a value redmine cannot carry, a bad or too large body);
each resolution is audited (`concord audit`, `concord explain`) and queued
for both linked systems.

Usage: admin_api.py CONCORD MAKE_CONFLICT. Every wait is bounded; loopback
only.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

CONCORD = os.path.abspath(sys.argv[1])
MAKE_CONFLICT = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None  # imported: unused
TOKEN = "test-token-7f3a9c"
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(port, method, path, token=None, body=None, timeout=15):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=body,
                                 method=method)
    if token is not None:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (ConnectionError, OSError) as e:
        return None, str(e)


CONFIG = """
store: sqlite:{store}
listen: 127.0.0.1:{port}
{admin}
fields:
  - {{name: title, type: string}}
  - {{name: state, type: enum, policy: manual}}
outbox: {{breaker_failures: 2, breaker_open: 1m}}
systems:
  - name: rt
    kind: rt
    url: http://127.0.0.1:{dead}/REST/2.0
    token: {{env: CC_TEST_PEER_TOKEN}}
    webhook_auth: none    # these tests are about the listener, not its authentication
    poll_interval: 1s
    poll_overlap: 5s
    search_lag: 1s
    settings: {{queue: General}}
    fields: {{title: Subject, state: Status}}
  - name: redmine
    kind: redmine
    url: http://127.0.0.1:{dead}
    token: {{env: CC_TEST_PEER_TOKEN}}
    poll_interval: 1s
    poll_overlap: 5s
    search_lag: 1s
    settings: {{project: test}}
    fields:
      title: subject
      state:
        remote: status
        values:
          - {{remote: New, canonical: new}}
          - {{remote: Open, canonical: open}}
          - {{remote: Resolved, canonical: [resolved, closed]}}
"""


def write_config(d, name, port, admin=True, listen=None):
    path = os.path.join(d, name)
    text = CONFIG.format(store=os.path.join(d, "concord.db"), port=port, dead=free_port(),
                         admin="admin_token: {env: CONCORD_ADMIN_TOKEN}" if admin else "")
    if listen:
        text = text.replace("listen: 127.0.0.1:%d" % port, "listen: " + listen)
    with open(path, "w") as f:
        f.write(text)
    return path


def start(cfg, log):
    env = dict(os.environ, CONCORD_ADMIN_TOKEN=TOKEN, CC_TEST_PEER_TOKEN="x")
    return subprocess.Popen([CONCORD, "serve", "-c", cfg], stdout=log, stderr=log, env=env)


def wait_health(port, proc, seconds=15):
    end = time.time() + seconds
    while time.time() < end and proc.poll() is None:
        status, _ = request(port, "GET", "/health", timeout=2)
        if status == 200:
            return True
        time.sleep(0.1)
    return False


def stop(proc, seconds=5):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=seconds)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        return False


def status_cli(cfg):
    env = dict(os.environ, CC_TEST_PEER_TOKEN="x", CONCORD_ADMIN_TOKEN=TOKEN)
    r = subprocess.run([CONCORD, "status", "-c", cfg], capture_output=True, text=True, env=env,
                       timeout=30)
    return r.returncode, r.stdout + r.stderr


def cli(*args):
    env = dict(os.environ, CC_TEST_PEER_TOKEN="x", CONCORD_ADMIN_TOKEN=TOKEN)
    r = subprocess.run([CONCORD] + list(args), capture_output=True, text=True, env=env,
                       timeout=30)
    return r.returncode, r.stdout + r.stderr


def post_json(port, path, doc, token=TOKEN):
    body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    st, text = request(port, "POST", path, token=token, body=body)
    try:
        return st, json.loads(text)
    except ValueError:
        return st, {"text": text}


def chunked_post(port, path, chunks):
    """POST with Transfer-Encoding: chunked; the status, or None."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Authorization", "Bearer " + TOKEN)
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        try:
            for c in chunks:
                conn.send(b"%x\r\n%s\r\n" % (len(c), c))
            conn.send(b"0\r\n\r\n")
        except OSError:
            pass  # answered and closed before the whole body was sent
        r = conn.getresponse()
        return r.status, r.read().decode()
    except (OSError, http.client.HTTPException) as e:
        return None, str(e)
    finally:
        conn.close()


def early_answer(port, path, length):
    """Headers only, with Expect: 100-continue: the status of the first answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sk:
        sk.sendall(("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                    "Content-Type: application/json\r\nContent-Length: %d\r\n"
                    "Expect: 100-continue\r\n\r\n" % (path, TOKEN, length)).encode())
        try:
            head = sk.recv(64).decode(errors="replace")
        except OSError as e:
            return str(e)
    parts = head.split(" ")
    return parts[1] if len(parts) > 1 else head


def check_conflicts_cli(cfg, store, ids):
    """The manual queue from the command line, on the first case."""
    c = str(ids[0])
    rc, out = cli("conflicts", "list", "-c", cfg)
    check(rc == 0 and out.count("field state") == 3 and "by alice" in out and "by bob" in out
          and "3 conflicts parked" in out,
          "concord conflicts list: 3 conflicts, both sides with their authors:\n" + out)
    rc, out = cli("conflicts", "resolve", "999", "state", "--take", "rt", "-c", cfg)
    check(rc == 3 and "no case 999" in out, "resolve of no such case: exit 3 (%d) %s" % (rc, out))
    rc, out = cli("conflicts", "resolve", c, "title", "--take", "rt", "-c", cfg)
    check(rc == 4 and "no conflict parked" in out,
          "resolve of a field not parked: exit 4 (%d) %s" % (rc, out))
    rc, out = cli("conflicts", "resolve", c, "state", "--take", "nosuch", "-c", cfg)
    check(rc == 2 and "no system named nosuch" in out,
          "resolve taking an unknown system: exit 2 (%d) %s" % (rc, out))
    rc, out = cli("conflicts", "resolve", c, "nosuch", "--take", "rt", "-c", cfg)
    check(rc == 2 and "no field named nosuch" in out,
          "resolve of an unknown field: exit 2 (%d) %s" % (rc, out))
    rc, out = cli("conflicts", "resolve", c, "state", "--value", "waiting", "-c", cfg)
    check(rc == 6 and "redmine cannot take" in out,
          "resolve to a value redmine cannot carry: exit 6, names redmine (%d) %s" % (rc, out))
    rc, out = cli("conflicts", "resolve", c, "state", "--take", "redmine", "--by", "carol",
                  "-c", cfg)
    check(rc == 0 and '"resolved"' in out and "carol took redmine's value" in out
          and "2 linked records" in out,
          "resolve taking redmine's side: exit 0 (%d) %s" % (rc, out))
    rc, out = cli("conflicts", "resolve", c, "state", "--take", "rt", "-c", cfg)
    check(rc == 4, "the same conflict again: not parked any more, exit 4 (%d) %s" % (rc, out))
    rc, out = cli("audit", c, "--store", store)
    check(rc == 0 and "resolved" in out and "carol took redmine's value" in out,
          "concord audit shows the resolution:\n" + out)
    rc, out = cli("explain", c, "state", "--store", store)
    check(rc == 0 and "resolved by a person: carol took redmine's value" in out
          and "PARKED" not in out,
          "concord explain says a person resolved it:\n" + out)


def check_conflicts_api(port, ids):
    """The manual queue through the admin API, on the other two cases."""
    two, three = ids[1], ids[2]
    st, _ = request(port, "GET", "/admin/conflicts")
    check(st == 401, "GET /admin/conflicts without a token: 401 (got %s)" % st)
    st, body = request(port, "GET", "/admin/conflicts", token=TOKEN)
    doc = json.loads(body) if st == 200 else {}
    items = doc.get("conflicts", [])
    check(st == 200 and doc.get("count") == 2 and {x["case"] for x in items} == {two, three},
          "GET /admin/conflicts: the two cases still parked (got %s %s)" % (st, body[:300]))
    if items:
        x = items[0]
        check(x["field"] == "state" and x["case_side"]["system"] == "rt"
              and x["case_side"]["value"] == "open" and x["case_side"]["author"] == "alice"
              and x["parked_side"]["system"] == "redmine"
              and x["parked_side"]["value"] == "resolved" and x["parked_side"]["author"] == "bob"
              and x["parked_side"]["version"]["rank"] == 2,
              "each conflict has both sides: system, value, version, author: %s" % x)
    path = "/admin/conflicts/%d/state" % two
    st, _ = post_json(port, path, {"take": "rt"}, token="bad")
    check(st == 401, "POST /admin/conflicts with a wrong token: 401 (got %s)" % st)
    st, doc = post_json(port, path, {"take": "rt", "by": "dora"})
    check(st == 200 and doc.get("value") == "open" and doc.get("resolved") == "dora took rt's value"
          and doc.get("records") == 2,
          "POST %s {take: rt}: 200, resolved (got %s %s)" % (path, st, doc))
    st, doc = post_json(port, path, {"take": "rt"})
    check(st == 409, "the same conflict again: 409 (got %s %s)" % (st, doc))
    path = "/admin/conflicts/%d/state" % three
    st, doc = post_json(port, path, {"value": "waiting"})
    check(st == 422 and doc.get("system") == "redmine",
          "a value redmine cannot carry: 422 naming redmine (got %s %s)" % (st, doc))
    st, doc = post_json(port, path, {"take": "nosuch"})
    check(st == 400, "taking an unknown system: 400 (got %s %s)" % (st, doc))
    st, doc = post_json(port, path, {"take": "rt", "value": "open"})
    check(st == 400, "both take and value: 400 (got %s %s)" % (st, doc))
    st, doc = post_json(port, path, b"{not json")
    check(st == 400, "a body that is not JSON: 400 (got %s %s)" % (st, doc))
    st, doc = post_json(port, "/admin/conflicts/%d/nosuch" % three, {"take": "rt"})
    check(st == 404, "an unknown field: 404 (got %s %s)" % (st, doc))
    st, doc = post_json(port, "/admin/conflicts/999/state", {"take": "rt"})
    check(st == 404, "no such case: 404 (got %s %s)" % (st, doc))
    st, doc = post_json(port, "/admin/conflicts/abc/state", {"take": "rt"})
    check(st == 400, "a bad case number: 400 (got %s %s)" % (st, doc))
    st, doc = post_json(port, path, b'{"value": "' + b"x" * 5000 + b'"}')
    check(st == 413, "a body over 4 KiB: 413 (got %s)" % st)
    st = early_answer(port, path, 5000)
    check(st == "413", "a Content-Length over 4 KiB: 413 before the body is sent, never "
          "100 Continue (got %r)" % st)
    st, _ = chunked_post(port, path, [b'{"value": "', b"x" * 5000, b'"}'])
    check(st == 413, "a chunked body over 4 KiB: 413 (got %s)" % st)
    st, _ = request(port, "GET", path, token=TOKEN)
    check(st == 405, "GET on a conflict: 405 (got %s)" % st)
    st, text = chunked_post(port, "/admin/conflicts/%d/title" % three, [b'{"take":', b' "rt"}'])
    check(st == 409, "a chunked body is read whole: 409 for a field not parked (got %s %s)"
          % (st, text))
    st, doc = post_json(port, path, {"value": "closed"})
    check(st == 200 and doc.get("value") == "closed"
          and doc.get("resolved") == "admin-api set the value",
          "POST %s {value: closed}: 200 (got %s %s)" % (path, st, doc))
    st, body = request(port, "GET", "/admin/conflicts", token=TOKEN)
    check(st == 200 and json.loads(body).get("count") == 0,
          "nothing parked any more (got %s %s)" % (st, body[:200]))


def wait_for(pred, seconds=10):
    end = time.time() + seconds
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    return pred()


def main():
    with tempfile.TemporaryDirectory() as d:
        port = free_port()
        cfg = write_config(d, "concord.yaml", port)
        store = "sqlite:" + os.path.join(d, "concord.db")
        made = subprocess.run([MAKE_CONFLICT, store, "3"], capture_output=True, text=True,
                              timeout=30)
        ids = [int(x) for x in made.stdout.split()]
        check(made.returncode == 0 and len(ids) == 3,
              "three cases with a conflict parked in the store: %s" % ids)
        log = open(os.path.join(d, "daemon.log"), "w+")
        proc = start(cfg, log)
        try:
            check(wait_health(port, proc), "GET /health answers 200")
            st, _ = request(port, "GET", "/admin/status")
            check(st == 401, "GET /admin/status without a token: 401 (got %s)" % st)
            st, _ = request(port, "GET", "/admin/status", token="wrong-token")
            check(st == 401, "with a wrong token: 401 (got %s)" % st)
            st, _ = request(port, "GET", "/admin/status", token=TOKEN + "x")
            check(st == 401, "with the token and one more byte: 401 (got %s)" % st)

            def failed_status():
                s, b = request(port, "GET", "/admin/status", token=TOKEN)
                if s != 200:
                    return None
                doc = json.loads(b)
                systems = {x["name"]: x for x in doc["systems"]}
                if all(x["last_failure"] for x in systems.values()):
                    return systems
                return None
            st, body = request(port, "GET", "/admin/status", token=TOKEN)
            check(st == 200, "with the right token: 200 (got %s)" % st)
            try:
                json.loads(body)
                check(True, "the status is valid JSON")
            except ValueError:
                check(False, "the status is valid JSON: %r" % body[:200])
            systems = wait_for(failed_status)
            check(bool(systems) and set(systems) == {"rt", "redmine"},
                  "the status names both systems, with their last failure")
            if systems:
                for name, x in systems.items():
                    check(x["breaker"]["state"] in ("closed", "open", "half-open"),
                          "%s: breaker state %s" % (name, x["breaker"]["state"]))
                    check(x["failing"] is True and x["last_poll_ok"] is None,
                          "%s: failing, never polled successfully" % name)
                    check(x["requests"]["total"] > 0, "%s: requests counted" % name)
                    byop = x["requests"].get("by_operation", {})
                    check(sum(byop.values()) > 0 and set(byop) <= {"list", "read", "lookup",
                          "create", "update", "comment", "webhook"},
                          "%s: requests by operation %s" % (name, byop))
                    check(x["paused"] is False, "%s: not paused" % name)

            st, body = request(port, "POST", "/admin/pause/rt", token=TOKEN, body=b"")
            check(st == 200 and json.loads(body).get("paused") is True,
                  "POST /admin/pause/rt: 200 (got %s %s)" % (st, body.strip()))
            st, _ = request(port, "POST", "/admin/pause/nosuch", token=TOKEN, body=b"")
            check(st == 404, "pause of an unknown system: 404 (got %s)" % st)
            st, _ = request(port, "POST", "/admin/pause/rt", token="bad", body=b"")
            check(st == 401, "pause with a wrong token: 401 (got %s)" % st)
            st, _ = request(port, "POST", "/admin/resync/999", token=TOKEN, body=b"")
            check(st == 404, "resync of a case that does not exist: 404 (got %s)" % st)
            st, _ = request(port, "POST", "/admin/resync/abc", token=TOKEN, body=b"")
            check(st == 400, "resync of a bad case number: 400 (got %s)" % st)
            rc, out = status_cli(cfg)
            check(rc == 0 and "rt (rt): paused" in out and "redmine (redmine): active" in out,
                  "concord status shows rt paused, redmine active:\n" + out)
            st, body = request(port, "GET", "/admin/status", token=TOKEN)
            doc = json.loads(body) if st == 200 else {"systems": []}
            rt_ = [x for x in doc["systems"] if x["name"] == "rt"]
            check(bool(rt_) and rt_[0]["paused"] is True, "the admin status shows rt paused")
            st, _ = request(port, "POST", "/admin/resume/rt", token=TOKEN, body=b"")
            check(st == 200, "POST /admin/resume/rt: 200 (got %s)" % st)
            rc, out = status_cli(cfg)
            check(rc == 0 and "rt (rt): active" in out, "concord status shows rt active again")
            check("breaker" in out and "last failure" in out and "API requests" in out,
                  "concord status shows breaker, last failure and requests written by the daemon")

            if len(ids) == 3:
                # paused, the daemon delivers nothing: every queued entry stays to be counted
                for name in ("rt", "redmine"):
                    request(port, "POST", "/admin/pause/" + name, token=TOKEN, body=b"")
                check_conflicts_cli(cfg, store, ids)
                check_conflicts_api(port, ids)

                def queued():
                    s, b = request(port, "GET", "/admin/status", token=TOKEN)
                    if s != 200:
                        return None
                    out = {x["name"]: x["outbox"] for x in json.loads(b)["systems"]}
                    return out if all(n >= 3 for n in out.values()) else None
                check(bool(wait_for(queued)),
                      "each resolution is queued for both linked systems (outbox >= 3 each)")
                for name in ("rt", "redmine"):
                    request(port, "POST", "/admin/resume/" + name, token=TOKEN, body=b"")

            st, _ = request(port, "POST", "/webhook/rt", body=b"x" * (2 * 1024 * 1024))
            check(st == 413, "a 2 MiB webhook: 413 (got %s)" % st)
            st, _ = request(port, "POST", "/webhook/rt", body=b'{"ticket": 1}')
            check(st == 202, "a small webhook: 202 (got %s)" % st)
            st, _ = request(port, "POST", "/webhook/nosuch", body=b"{}")
            check(st == 404, "a webhook for an unknown system: 404 (got %s)" % st)
            st, _ = request(port, "GET", "/health")
            check(st == 200, "still healthy after all that")

            t0 = time.time()
            check(stop(proc), "SIGTERM stops the daemon within 5 s (%.1f s)" % (time.time() - t0))
            check(proc.returncode == 0, "the daemon exits 0 (got %s)" % proc.returncode)
            log.seek(0)
            text = log.read()
            check(TOKEN not in text, "the token never appears in the log")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)

        # Without admin_token: the admin API is closed, not open.
        port = free_port()
        cfg2 = write_config(d, "noadmin.yaml", port, admin=False)
        proc = start(cfg2, log)
        try:
            check(wait_health(port, proc), "without admin_token: /health answers")
            st, body = request(port, "GET", "/admin/status", token=TOKEN)
            check(st == 403 and "no admin_token" in body,
                  "without admin_token: 403 admin API disabled (got %s %s)" % (st, body.strip()))
            check(stop(proc), "SIGTERM stops it")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)

        # A listen address that is not loopback needs listen_public: true.
        cfg3 = write_config(d, "public.yaml", port, listen="0.0.0.0:%d" % port)
        env = dict(os.environ, CONCORD_ADMIN_TOKEN=TOKEN, CC_TEST_PEER_TOKEN="x")
        r = subprocess.run([CONCORD, "check", "-c", cfg3], capture_output=True, text=True,
                           env=env, timeout=30)
        check(r.returncode == 2 and "listen_public" in r.stderr,
              "listen 0.0.0.0 is refused without listen_public: " + r.stderr.strip())
        log.close()
        if failures:
            with open(os.path.join(d, "daemon.log")) as f:
                sys.stdout.write("--- daemon log ---\n" + f.read()[-6000:])
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
