#!/usr/bin/env python3
"""SIGHUP reloads, good and bad, on a running daemon (no real peers needed).

Starts `concord serve` with two systems pointing at a closed loopback port,
then rewrites its configuration and sends SIGHUP each time:
  1. invalid YAML, then an unknown connector kind: refused by the loader;
  2. a file the loader accepts but whose connector cannot be built (Redmine
     without its `project` setting): before the fix the daemon tore the
     running configuration down first, logged "reload failed" and crashed;
     now the new configuration is built beside the old and refused;
  3. a good change (a system renamed, its interval changed): reloaded, the
     admin API and `/health` serve the new one.
After every step the daemon must still run and answer /health and the admin
API. Finally SIGTERM stops it within 2 s.

Usage: reload.py CONCORD. Loopback only; every wait is bounded.
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
TOKEN = "reload-test-token-51c2"
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


def request(port, method, path, token=None, timeout=5):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method,
                                 data=b"" if method == "POST" else None)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (ConnectionError, OSError) as e:
        return None, str(e)


SYSTEM = """
  - name: {name}
    kind: {kind}
    url: http://127.0.0.1:{dead}{path}
    token: {{env: CC_TEST_PEER_TOKEN}}
    poll_interval: {interval}
    poll_overlap: 5s
    search_lag: 1s
    settings: {{{settings}}}
    fields: {{title: {title}, state: {state}}}
"""


def config(store, port, dead, rt_kind="rt", second="redmine", project=True, interval="1s"):
    text = ("store: sqlite:%s\nlisten: 127.0.0.1:%d\nadmin_token: {env: CONCORD_ADMIN_TOKEN}\n"
            "fields:\n  - {name: title, type: string}\n  - {name: state, type: enum}\n"
            "systems:" % (store, port))
    text += SYSTEM.format(name="rt", kind=rt_kind, dead=dead, path="/REST/2.0",
                          interval=interval, settings="queue: General", title="Subject",
                          state="Status")
    text += SYSTEM.format(name=second, kind="redmine", dead=dead, path="", interval=interval,
                          settings="project: test" if project else "", title="subject",
                          state="status")
    return text


def system_names(port):
    st, body = request(port, "GET", "/admin/status", token=TOKEN)
    if st != 200:
        return None
    return sorted(x["name"] for x in json.loads(body)["systems"])


def log_has(path, text, since, seconds=5):
    end = time.time() + seconds
    while time.time() < end:
        with open(path) as f:
            if text in f.read()[since:]:
                return True
        time.sleep(0.1)
    return False


def main():
    with tempfile.TemporaryDirectory() as d:
        port, dead = free_port(), free_port()
        store = os.path.join(d, "concord.db")
        cfg = os.path.join(d, "concord.yaml")
        logpath = os.path.join(d, "daemon.log")
        with open(cfg, "w") as f:
            f.write(config(store, port, dead))
        log = open(logpath, "w")
        env = dict(os.environ, CONCORD_ADMIN_TOKEN=TOKEN, CC_TEST_PEER_TOKEN="x")
        proc = subprocess.Popen([CONCORD, "serve", "-c", cfg], stdout=log, stderr=log, env=env)
        try:
            end = time.time() + 15
            while time.time() < end and request(port, "GET", "/health")[0] != 200:
                time.sleep(0.1)
            check(system_names(port) == ["redmine", "rt"], "serving rt and redmine")

            steps = [
                ("invalid YAML", "systems: [unclosed\n", "reload refused"),
                ("an unknown connector kind",
                 config(store, port, dead, rt_kind="nosuch"), "reload refused"),
                ("a connector that cannot be built (redmine without project)",
                 config(store, port, dead, project=False), "reload refused"),
            ]
            for what, text, expect in steps:
                since = os.path.getsize(logpath)
                with open(cfg, "w") as f:
                    f.write(text)
                proc.send_signal(signal.SIGHUP)
                check(log_has(logpath, expect, since), "%s: the log says %r" % (what, expect))
                time.sleep(0.5)
                check(proc.poll() is None, "%s: the daemon still runs (exit %s)"
                      % (what, proc.poll()))
                check(request(port, "GET", "/health")[0] == 200, "%s: /health answers" % what)
                check(system_names(port) == ["redmine", "rt"],
                      "%s: the running configuration is kept" % what)

            since = os.path.getsize(logpath)
            with open(cfg, "w") as f:
                f.write(config(store, port, dead, second="redmine2", interval="2s"))
            proc.send_signal(signal.SIGHUP)
            check(log_has(logpath, "configuration reloaded", since), "a good change is reloaded")
            names = None
            end = time.time() + 5
            while time.time() < end and names != ["redmine2", "rt"]:
                names = system_names(port)
                time.sleep(0.1)
            check(names == ["redmine2", "rt"], "the admin API serves the new configuration (%s)"
                  % names)

            t0 = time.time()
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
            took = time.time() - t0
            check(proc.poll() == 0, "SIGTERM: exit 0 within 2 s (%.2f s, exit %s)"
                  % (took, proc.poll()))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            log.close()
        if failures:
            with open(logpath) as f:
                sys.stdout.write("--- daemon log ---\n" + f.read()[-4000:])
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
