#!/usr/bin/env python3
"""Authenticated webhooks, end to end (docs/webhooks.md).

Starts `concord serve` with four systems whose API is a closed loopback port
(no real peers needed): rt signs its webhooks (webhook_secret), redmine
sends a bearer token (webhook_token), `closed` has neither (refused, 403),
`open` opts out (webhook_auth: none). Checks:

- rt: a body signed with the secret, 202 (also in uppercase hex, sent
  chunked in pieces, and as X-Hub-Signature, Jira Cloud's name); a
  delivery sent twice with one X-Atlassian-Webhook-Identifier: 202, then
  200 and not queued again (an unsigned body naming that id: 401); a wrong secret, a changed body byte, no header, no
  `sha256=` prefix, a truncated signature: 401, with a short reason that
  never repeats the secret; a 2 MiB body: 413 before any of it is read;
- redmine: the right bearer token 202, a wrong one and none 401;
- closed: 403; open: 202 without any header; an unknown system: 404;
- GET /admin/status counts them: webhooks.received and webhooks.rejected;
- the audit (`concord audit webhooks`) holds one webhook-rejected row per
  rejection, with the system, the status and the reason, at most 20 per
  system in the hour (a flood of 25 more bad ones adds rows up to 20 only,
  while the counter counts them all);
- neither the log nor the audit nor any answer holds a secret; and the
  webhook secret and token are among the secrets the log is cleaned of: a
  second daemon whose secret and token are words of its own poll-failure
  line ("connect to server", "retried with backoff") logs that line with
  [redacted] in their place.

Usage: webhook_auth.py CONCORD. Every wait is bounded; loopback only.
"""
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

CONCORD = os.path.abspath(sys.argv[1])
ADMIN = "admin-token-5d1e77"
SECRET = "webhook-secret-9b2c41e0"
TOKEN = "webhook-bearer-3f70aa12"
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


def post(port, path, body, headers=None, chunks=None, method="POST"):
    """The status and the body of the answer (None, text on a failure)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        if chunks is None:
            conn.request(method, path, body=body, headers=headers or {})
        else:
            conn.putrequest(method, path)
            for k, v in (headers or {}).items():
                conn.putheader(k, v)
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            for c in chunks:
                conn.send(b"%x\r\n%s\r\n" % (len(c), c))
                time.sleep(0.05)
            conn.send(b"0\r\n\r\n")
        r = conn.getresponse()
        return r.status, r.read().decode(errors="replace")
    except (OSError, http.client.HTTPException) as e:
        return None, str(e)
    finally:
        conn.close()


def sign(body, secret=SECRET):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


CONFIG = """
store: sqlite:{store}
listen: 127.0.0.1:{port}
admin_token: {{env: CC_TEST_ADMIN}}
fields:
  - {{name: title, type: string}}
systems:
  - name: rt
    kind: rt
    url: http://127.0.0.1:{dead}/REST/2.0
    token: {{env: CC_TEST_PEER_TOKEN}}
    webhook_secret: {{env: CC_TEST_WEBHOOK_SECRET}}
    poll_interval: 1s
    poll_overlap: 5s
    search_lag: 1s
    settings: {{queue: General}}
    fields: {{title: Subject}}
  - name: redmine
    kind: redmine
    url: http://127.0.0.1:{dead}
    token: {{env: CC_TEST_PEER_TOKEN}}
    webhook_token: {{file: webhook.token}}
    poll_interval: 1s
    poll_overlap: 5s
    search_lag: 1s
    settings: {{project: test}}
    fields: {{title: subject}}
  - name: closed
    kind: redmine
    url: http://127.0.0.1:{dead}
    token: {{env: CC_TEST_PEER_TOKEN}}
    poll_interval: 1s
    poll_overlap: 5s
    search_lag: 1s
    settings: {{project: test2}}
    fields: {{title: subject}}
  - name: open
    kind: redmine
    url: http://127.0.0.1:{dead}
    token: {{env: CC_TEST_PEER_TOKEN}}
    webhook_auth: none
    poll_interval: 1s
    poll_overlap: 5s
    search_lag: 1s
    settings: {{project: test3}}
    fields: {{title: subject}}
"""

ENV = dict(os.environ, CC_TEST_ADMIN=ADMIN, CC_TEST_PEER_TOKEN="peer-token-x",
           CC_TEST_WEBHOOK_SECRET=SECRET)


def status(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request("GET", "/admin/status", headers={"Authorization": "Bearer " + ADMIN})
        r = conn.getresponse()
        if r.status != 200:
            return None
        return {s["name"]: s["webhooks"] for s in json.loads(r.read())["systems"]}
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def audit(store):
    r = subprocess.run([CONCORD, "audit", "webhooks", "--store", "sqlite:" + store],
                       capture_output=True, text=True, env=ENV, timeout=30)
    return r.returncode, r.stdout + r.stderr


def wait_for(fn, seconds=15):
    end = time.time() + seconds
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    return fn()


def main():
    with tempfile.TemporaryDirectory(prefix="concord-webhook-auth-") as d:
        port = free_port()
        store = os.path.join(d, "concord.db")
        cfg = os.path.join(d, "concord.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(store=store, port=port, dead=free_port()))
        with open(os.path.join(d, "webhook.token"), "w") as f:
            f.write(TOKEN + "\n")
        r = subprocess.run([CONCORD, "check", "-c", cfg], capture_output=True, text=True,
                           env=ENV, timeout=30)
        check(r.returncode == 0 and "X-Concord-Signature" in r.stdout and
              "Authorization: Bearer" in r.stdout and "refused with 403" in r.stdout and
              "without authentication" in r.stdout,
              "concord check says how each system's webhooks are taken")
        check(SECRET not in r.stdout + r.stderr and TOKEN not in r.stdout + r.stderr,
              "concord check shows no webhook secret")
        with open(os.path.join(d, "concord.log"), "w+") as log:
            proc = subprocess.Popen([CONCORD, "serve", "-c", cfg], stdout=log, stderr=log,
                                    env=ENV)
            try:
                run(port, store, proc, log)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=10)
        redaction(d, cfg)


def redaction(d, cfg):
    env = dict(ENV, CC_TEST_WEBHOOK_SECRET="connect to server")
    with open(os.path.join(d, "webhook.token"), "w") as f:
        f.write("retried with backoff\n")
    with open(os.path.join(d, "redact.log"), "w+") as log:
        proc = subprocess.Popen([CONCORD, "serve", "-c", cfg, "--store",
                                 "sqlite:" + os.path.join(d, "redact.db")],
                                stdout=log, stderr=log, env=env)
        try:
            def failed():
                log.seek(0)
                text = log.read()
                return text if "system=redmine poll failed" in text else None
            text = wait_for(failed, 15) or ""
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
    lines = [l for l in text.splitlines() if "poll failed" in l]
    check(lines and all("[redacted]" in l for l in lines) and
          not any("connect to server" in l or "retried with backoff" in l for l in lines),
          "the webhook secret and token are redacted from the log:\n  " + "\n  ".join(lines))


def run(port, store, proc, log):
    end = time.time() + 15
    while time.time() < end and proc.poll() is None and post(port, "/health", None,
                                                             method="GET")[0] != 200:
        time.sleep(0.1)
    check(proc.poll() is None, "concord serve runs")
    answers = []

    def hook(path, body, headers=None, chunks=None):
        st, text = post(port, path, body, headers, chunks)
        answers.append(text)
        return st, text

    body = b'{"ticket": 7, "transaction": 41, "type": "Set"}'
    sig = sign(body)
    st, _ = hook("/webhook/rt", body, {"X-Concord-Signature": sig})
    check(st == 202, "rt: a body signed with the secret: 202 (got %s)" % st)
    st, _ = hook("/webhook/rt", body, {"X-Concord-Signature": "sha256=" + sig[7:].upper()})
    check(st == 202, "rt: the same signature in uppercase hex: 202 (got %s)" % st)
    pieces = [body[:5], body[5:20], body[20:]]
    st, _ = hook("/webhook/rt", None, {"X-Concord-Signature": sig}, chunks=pieces)
    check(st == 202, "rt: the signed body sent chunked in three pieces: 202 (got %s)" % st)
    st, _ = hook("/webhook/rt", body, {"X-Hub-Signature": sig})
    check(st == 202, "rt: the same signature as X-Hub-Signature (Jira Cloud's name): 202 (got %s)"
          % st)
    once = {"X-Concord-Signature": sig, "X-Atlassian-Webhook-Identifier": "delivery-77"}
    st, _ = hook("/webhook/rt", body, once)
    check(st == 202, "rt: a delivery with its X-Atlassian-Webhook-Identifier: 202 (got %s)" % st)
    st, text = hook("/webhook/rt", body, once)
    check(st == 200 and "duplicate" in text,
          "rt: the same delivery again: 200, acknowledged, not queued twice (got %s %r)"
          % (st, text.strip()))
    accepted_rt = 5

    bad = [
        ("a wrong secret", body, {"X-Concord-Signature": sign(body, SECRET + "x")}),
        ("a changed body byte", body.replace(b"41", b"42"), {"X-Concord-Signature": sig}),
        ("no signature header", body, {}),
        ("no sha256= prefix", body, {"X-Concord-Signature": sig[7:]}),
        ("a truncated signature", body, {"X-Concord-Signature": sig[:-2]}),
        ("a bearer token instead", body, {"Authorization": "Bearer " + SECRET}),
        ("a wrong X-Hub-Signature", body, {"X-Hub-Signature": sign(body, SECRET + "x")}),
        ("an unsigned delivery id already accepted", body,
         {"X-Atlassian-Webhook-Identifier": "delivery-77"}),
    ]
    for what, b, h in bad:
        st, text = hook("/webhook/rt", b, h)
        check(st == 401 and len(text) < 200,
              "rt: %s: 401 with a short reason (got %s %r)" % (what, st, text.strip()))
    rejected_rt = len(bad)
    st, text = hook("/webhook/rt", b"x" * (2 * 1024 * 1024), {"X-Concord-Signature": sig})
    check(st == 413, "rt: a 2 MiB body: 413, as before (got %s)" % st)

    st, _ = hook("/webhook/redmine", b'{"issue": 3}', {"Authorization": "Bearer " + TOKEN})
    check(st == 202, "redmine: the right bearer token: 202 (got %s)" % st)
    st, text = hook("/webhook/redmine", b'{"issue": 3}', {"Authorization": "Bearer " + TOKEN[:-1]})
    check(st == 401 and "token" in text, "redmine: a wrong token: 401 (got %s %r)" % (st, text))
    st, _ = hook("/webhook/redmine", b'{"issue": 3}', {"X-Concord-Signature": sign(b'{"issue": 3}')})
    check(st == 401, "redmine: no Authorization header: 401 (got %s)" % st)
    st, text = hook("/webhook/closed", b"{}", {"X-Concord-Signature": sign(b"{}")})
    check(st == 403 and "webhook_secret" in text,
          "closed (neither a secret nor a token): 403 (got %s %r)" % (st, text.strip()))
    st, _ = hook("/webhook/open", b"{}")
    check(st == 202, "open (webhook_auth: none): 202 without any header (got %s)" % st)
    st, _ = hook("/webhook/nosuch", b"{}", {"X-Concord-Signature": sign(b"{}")})
    check(st == 404, "an unknown system: 404, as before (got %s)" % st)

    want = {"rt": (accepted_rt, rejected_rt), "redmine": (1, 2), "closed": (0, 1),
            "open": (1, 0)}

    def counted():
        s = status(port)
        if s and all((s[n]["received"], s[n]["rejected"]) == w for n, w in want.items()):
            return s
        return None
    s = wait_for(counted, 5)
    check(s is not None, "/admin/status counts received and rejected per system %s (got %s)"
          % (want, status(port)))

    def rows(system):
        rc, out = audit(store)
        return [l for l in out.splitlines() if "webhook-rejected" in l and
                (" %s " % system) in l]
    wait_for(lambda: len(rows("rt")) >= rejected_rt, 10)
    rc, out = audit(store)
    check(rc == 0, "concord audit webhooks runs while the daemon does (%d)" % rc)
    check(len(rows("rt")) == rejected_rt and len(rows("redmine")) == 2 and
          len(rows("closed")) == 1 and not rows("open"),
          "one audit row per rejection (rt %d, redmine %d, closed %d):\n%s"
          % (len(rows("rt")), len(rows("redmine")), len(rows("closed")), out))
    check(any("401 signature does not match" in l for l in rows("rt")) and
          any("no X-Concord-Signature header" in l for l in rows("rt")) and
          any("403" in l for l in rows("closed")) and
          all("127.0.0.1" in l for l in rows("rt")),
          "the rows say the status, the reason and the client")

    # a flood: 25 more bad ones; the counter counts all, the audit stops at 20
    for _ in range(25):
        post(port, "/webhook/rt", body, {"X-Concord-Signature": sign(body, "nope")})
    s = wait_for(lambda: (status(port) or {}).get("rt", {}).get("rejected") == rejected_rt + 25
                 and status(port), 5)
    check(bool(s), "the counter counts every rejection of the flood (%s)"
          % ((status(port) or {}).get("rt")))
    time.sleep(2)  # the main loop audits within a cycle (at most 1 s)
    check(len(rows("rt")) == 20,
          "the audit holds 20 rows for rt in the hour, not %d (flood bounded)"
          % len(rows("rt")))

    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    check(proc.returncode == 0, "SIGTERM: the daemon exits 0 (got %s)" % proc.returncode)
    log.seek(0)
    text = log.read()
    check("system=rt webhook-rejected" in text, "the log says the rejections")
    rc, out = audit(store)
    leaked = [w for w in (SECRET, TOKEN) if w in text or w in out or
              any(w in a for a in answers)]
    check(not leaked, "no secret in the log, the audit or an answer (%s)" % leaked)


if __name__ == "__main__":
    main()
    print("%d failed" % len(failures))
    sys.exit(1 if failures else 0)
