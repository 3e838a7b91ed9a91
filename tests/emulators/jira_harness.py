"""Starts emulators/jira/server.py on a free loopback port for a test and
stops it (by its own process id); a webhook receiver that records what
arrives. Standard library only."""

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER = os.path.join(ROOT, "emulators", "jira", "server.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
EMAIL, TOKEN, TZ = "ada@example.com", "api-token-1", "Australia/Sydney"
EMAIL2, TOKEN2, TZ2 = "bob@example.com", "api-token-2", "UTC"


class Emulator:
    def __init__(self, extra=(), db=None):
        self.tmp = tempfile.mkdtemp(prefix="jiraemu-")
        self.db = db or os.path.join(self.tmp, "jira.db")
        self.extra = list(extra)
        self.proc = None
        self.start()

    def start(self):
        self.errlog = open(os.path.join(self.tmp, "stderr.log"), "a")
        self.proc = subprocess.Popen(
            [PYTHON, SERVER, "--port", "0", "--db", self.db, "--project", "EMU:Emulated",
             "--project", "OPS:Operations", "--user", "%s:%s:%s" % (EMAIL, TOKEN, TZ),
             "--user", "%s:%s:%s" % (EMAIL2, TOKEN2, TZ2)] + self.extra,
            stdout=subprocess.PIPE, stderr=self.errlog, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening 127.0.0.1:"):
            self.proc.wait(5)
            with open(self.errlog.name) as f:
                raise RuntimeError("emulator did not start: %r %s" % (line, f.read()))
        self.port = int(line.strip().rsplit(":", 1)[1])
        self.base = "http://127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.proc.stdout.close()
            self.errlog.close()

    def close(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def restart(self):
        self.stop()
        self.start()

    def stderr(self):
        with open(self.errlog.name) as f:
            return f.read()

    def call(self, method, path, body=None, auth=(EMAIL, TOKEN), headers=None, raw=None, timeout=10):
        """-> (status, headers, parsed JSON or raw bytes or None)"""
        h = dict(headers or {})
        if auth:
            h["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode()
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.base + path, data=data, headers=h, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, hdrs, out = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, out = e.code, e.headers, e.read()
        try:
            return status, hdrs, json.loads(out) if out else None
        except ValueError:
            return status, hdrs, out

    def control(self, method, name, body=None):
        st, _, doc = self.call(method, "/emulator/" + name, body, auth=None)
        assert st in (200, 201, 204), (st, doc)
        return doc


def q(**kw):
    return "?" + urllib.parse.urlencode(kw)


class Hooks:
    """A webhook receiver: every POST's raw body and headers, in arrival order."""

    def __init__(self):
        self.got = []
        self.fail_next = 0  # answer this many POSTs with 503 first
        self.cond = threading.Condition()
        hooks = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                with hooks.cond:
                    failed = hooks.fail_next > 0
                    if failed:
                        hooks.fail_next -= 1
                    hooks.got.append((raw, {k.lower(): v for k, v in self.headers.items()}, failed))
                    hooks.cond.notify_all()
                self.send_response(503 if failed else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/hooks/jira" % self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def delivered(self):
        with self.cond:
            return [(json.loads(raw), h, raw) for raw, h, failed in self.got if not failed]

    def wait(self, pred, count=1, timeout=15):
        """Waits until `count` delivered bodies satisfy pred; -> them."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                hit = [(b, h, raw) for raw, h, failed in self.got if not failed
                       for b in [json.loads(raw)] if pred(b)]
                if len(hit) >= count or time.monotonic() > end:
                    return hit
                self.cond.wait(0.1)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
