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

Usage: admin_api.py CONCORD. Every wait is bounded; loopback only.
"""
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
  - {{name: state, type: enum}}
outbox: {{breaker_failures: 2, breaker_open: 1m}}
systems:
  - name: rt
    kind: rt
    url: http://127.0.0.1:{dead}/REST/2.0
    token: {{env: CC_TEST_PEER_TOKEN}}
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
    fields: {{title: subject, state: status}}
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
