"""Starts emulators/sentinel/server.py on a free loopback port for a test
and stops it (by its own process id)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER = os.path.join(ROOT, "emulators", "sentinel", "server.py")
TENANT = "t-emulator"
CLIENT, SECRET = "concord-test", "s3cret"
SUB, RG, WS = "00000000-1111-2222-3333-444444444444", "rg-test", "ws-test"
WS_PATH = ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.OperationalInsights/workspaces/%s"
           "/providers/Microsoft.SecurityInsights/incidents" % (SUB, RG, WS))


class Emulator:
    def __init__(self, db=None, extra=()):
        self.tmp = tempfile.mkdtemp(prefix="sentemu-")
        self.db = db or os.path.join(self.tmp, "sentinel.db")
        self.extra = list(extra)
        self.proc = None
        self.start()

    def start(self):
        self.errlog = open(os.path.join(self.tmp, "stderr.log"), "a")
        self.proc = subprocess.Popen(
            [sys.executable, SERVER, "--port", "0", "--db", self.db, "--tenant", TENANT,
             "--client", "%s:%s" % (CLIENT, SECRET), "--client", "other-app:other-secret"] + self.extra,
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
        """Stops the server and removes its temporary folder."""
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def restart(self):
        self.stop()
        self.start()

    # -- raw HTTP
    def call(self, method, path, body=None, headers=None, form=None, timeout=10):
        """-> (status, headers, parsed JSON or raw bytes)"""
        url = path if path.startswith("http") else self.base + path
        data = None
        h = dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(url, data=data, headers=h, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, hdrs, raw = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, raw = e.code, e.headers, e.read()
        try:
            return status, hdrs, json.loads(raw) if raw else None
        except ValueError:
            return status, hdrs, raw

    def token(self, client=CLIENT, secret=SECRET):
        st, _, body = self.call("POST", "/%s/oauth2/v2.0/token" % TENANT, form={
            "grant_type": "client_credentials", "client_id": client, "client_secret": secret,
            "scope": "https://management.azure.com/.default"})
        assert st == 200, (st, body)
        return body["access_token"]

    def control(self, method, name, body=None):
        st, _, doc = self.call(method, "/emulator/" + name, body)
        assert st == 200, (st, doc)
        return doc
