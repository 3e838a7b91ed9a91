#!/usr/bin/env python3
"""Webhook-to-write latency of a live RT -> Redmine sync (a program that
prints figures, not a test), beside the time the HTTP requests themselves take.

Starts its own fresh peers (Request Tracker 5 and Redmine 5 from Debian, data
in a temporary directory, ports 18094/18095) with RT's webhook scrip posting to
concord's listener, then `concord serve` with RT polled only every 60 s, so
that RT's webhooks drive the sync, and CONCORD_TRACE=http (one log line per
HTTP request and per webhook body taken). One ticket is raised in RT and waits
for its Redmine copy; then N subject edits in RT, one every 2 s; for each:
  latency   = arrival seen in Redmine (polled every 10 ms) - just before the PUT to RT
  written   = the end of concord's PUT to Redmine (from its trace) - just before the PUT to RT
  requests  = (webhook arrival at concord's listener - just before the PUT to RT: RT's own
              edit and its scrip's POST)
              + the time concord's requests for that change were under way (RT history
              and ticket reads, Redmine version read and PUT), concurrent ones counted once
  concord   = written - requests: concord's own time from the webhook's arrival to the
              write (waking, queueing, ingesting, committing, scheduling)
  seen      = when a checker polling Redmine every 10 ms saw the new subject

usage: measure_webhook.py CONCORD REPO_ROOT [EDITS]   (default 20; root: starts the peers)
"""
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

CONCORD, ROOT = os.path.abspath(sys.argv[1]), sys.argv[2]
if not os.access(CONCORD, os.X_OK):
    sys.exit("measure_webhook.py: %s is not an executable concord" % CONCORD)
EDITS = int(sys.argv[3]) if len(sys.argv) > 3 else 20
HERE = os.path.dirname(os.path.abspath(__file__))
LISTEN_PORT = 18486
tmp = tempfile.mkdtemp(prefix="concord-webhook-")
peers = os.path.join(tmp, "peers")
start_env = dict(os.environ, RT_WEBHOOK_URL="http://127.0.0.1:%d/webhook/rt" % LISTEN_PORT)
subprocess.run([os.path.join(HERE, "peers", "start-peers.sh"), peers, "18094", "18095"],
               env=start_env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

env = dict(os.environ)
with open(os.path.join(peers, "peers.env")) as f:
    for line in f:
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            env[k] = v
RT, RM, PROJECT = env["RT_REST2_URL"], env["REDMINE_URL"], env["REDMINE_PROJECT"]
RTH = {"Authorization": "token " + env["RT_TOKEN"]}
RMH = {"X-Redmine-API-Key": env["REDMINE_API_KEY"]}


def call(method, url, headers, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        raw = r.read()
        return json.loads(raw) if raw.strip() else None


with open(os.path.join(ROOT, "examples", "rt-redmine.yaml")) as f:
    text = f.read()
text = re.sub(r"^store:.*$", "store: sqlite:" + os.path.join(tmp, "w.db"), text, flags=re.M)
# RT: polled every 60 s, so that its webhooks drive the sync
text = text.replace("    rank: 1\n    poll_interval: 2s\n", "    rank: 1\n    poll_interval: 60s\n", 1)
assert "poll_interval: 60s" in text, "the example's RT poll_interval moved"
cfg = os.path.join(tmp, "webhook.yaml")
env["CONCORD_ADMIN_TOKEN"] = "measure-%d" % os.getpid()
env["CONCORD_TRACE"] = "http"
with open(cfg, "w") as f:
    f.write(text + "\nlisten: 127.0.0.1:%d\nadmin_token: {env: CONCORD_ADMIN_TOKEN}\n" % LISTEN_PORT)
logname = os.path.join(tmp, "concord.log")
log = open(logname, "w")
proc = None
try:
    proc = subprocess.Popen([CONCORD, "serve", "-c", cfg], env=env, stdout=log, stderr=log)
    time.sleep(3)
    tid = int(call("POST", RT + "/ticket", RTH, {"Queue": "General", "Subject": "Webhook probe"})["id"])
    end = time.time() + 180
    iid = None
    while time.time() < end and not iid:
        got = call("GET", RM + "/issues.json?project_id=%s&status_id=*&subject=~%s"
                   % (PROJECT, urllib.parse.quote("Webhook probe")), RMH)["issues"]
        iid = got[0]["id"] if got else None
        time.sleep(0.5)
    if not iid:
        sys.exit("the probe ticket never reached Redmine; log: " + logname)
    time.sleep(3)
    edits = []
    for k in range(EDITS):
        subject = "Webhook probe edit %d" % k
        t0 = time.time()
        call("PUT", RT + "/ticket/%d" % tid, RTH, {"Subject": subject})
        t_put = time.time()
        end = t0 + 30
        t1 = None
        while time.time() < end:
            if call("GET", RM + "/issues/%d.json" % iid, RMH)["issue"]["subject"] == subject:
                t1 = time.time()
                break
            time.sleep(0.01)
        edits.append((t0, t_put, t1))
        time.sleep(2)
finally:
    if proc:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    log.close()
    subprocess.run([os.path.join(HERE, "peers", "stop-peers.sh"), peers, "--wipe"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

# the trace: "<epoch.ms> trace http OP METHOD PATH -> STATUS in MS ms", "... trace webhook rt taken"
http, hooks, received = [], [], []
with open(logname) as f:
    for line in f:
        m = re.match(r"(\d+\.\d+) trace http (\S+) (\S+) (\S+) -> (\d+) in ([\d.]+) ms", line)
        if m:
            http.append((float(m.group(1)), m.group(2), m.group(3), m.group(4),
                         float(m.group(6)) / 1000))
        m = re.match(r"(\d+\.\d+) trace webhook rt taken", line)
        if m:
            hooks.append(float(m.group(1)))
        m = re.match(r"(\d+\.\d+) trace webhook rt received", line)
        if m:
            received.append(float(m.group(1)))

def busy(spans):
    """The time at least one of the (start, end) spans was under way (requests
    sent at once count once)."""
    total, last = 0.0, float("-inf")
    for a, b in sorted(spans):
        if b <= last:
            continue
        total += b - max(a, last)
        last = b
    return total


rows = []
for k, (t0, t_put, t1) in enumerate(edits):
    if t1 is None:
        print("edit %d never arrived" % k)
        continue
    nxt = edits[k + 1][0] if k + 1 < len(edits) else float("inf")
    taken = [h for h in hooks if t0 <= h <= t1]
    if not taken:
        print("edit %d: no webhook taken before its arrival (polled?)" % k)
        continue
    hook = taken[0]
    got = [r for r in received if t0 <= r <= hook]
    arrived = got[-1] if got else hook
    # the requests of this change: from the webhook taken to the Redmine PUT's end
    mine = [(e - d, e, op, meth, path, d) for (e, op, meth, path, d) in http
            if hook - 0.002 <= e - d and e <= t1 and op in ("webhook", "update")]
    mine.sort()
    put = [m for m in mine if m[3] == "PUT" and "/issues/" in m[4]]
    if not put:
        print("edit %d: no Redmine write seen in the trace" % k)
        continue
    written = put[0][1]
    rt_reads = busy([(m[0], m[1]) for m in mine if m[2] == "webhook" and m[1] <= written])
    rm_write = busy([(m[0], m[1]) for m in mine if m[2] == "update" and m[1] <= written])
    # concord's own time: from the webhook's arrival at the listener to the
    # end of the Redmine PUT, less the time requests were under way
    own = (written - arrived) - busy([(m[0], m[1]) for m in mine if m[1] <= written])
    requests = (arrived - t0) + (written - arrived - own)
    rows.append((written - t0, requests, arrived - t0, rt_reads, rm_write, own, t1 - t0))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


if not rows:
    sys.exit("no edit measured; log: " + logname)
for k, r in enumerate(rows):
    print("  edit %2d: written %.3f s after the edit = requests %.3f s (edit to webhook %.3f, RT reads "
          "%.3f, Redmine version read and PUT %.3f) + concord %.3f s; seen by the checker %.3f s"
          % (k, r[0], r[1], r[2], r[3], r[4], r[5], r[6]))
lat = [r[0] for r in rows]
req = [r[1] for r in rows]
own = [r[5] for r in rows]
print("%d edits in RT, RT polled every 60 s (webhooks drive it):" % len(rows))
print("  edit -> written in Redmine (end of the PUT): p50 %.3f s, p99 %.3f s, max %.3f s"
      % (statistics.median(lat), pct(lat, 0.99), max(lat)))
print("  the requests themselves:            p50 %.3f s (RT edit to webhook arrival %.3f s, "
      "RT reads %.3f s, Redmine version read and PUT %.3f s)"
      % (statistics.median(req), statistics.median(r[2] for r in rows),
         statistics.median(r[3] for r in rows), statistics.median(r[4] for r in rows)))
print("  concord's own time (webhook arrival to the PUT's end, less the requests):"
      " p50 %.3f s, p99 %.3f s, max %.3f s" % (statistics.median(own), pct(own, 0.99), max(own)))
print("  seen by the checker (polling Redmine every 10 ms): p50 %.3f s"
      % statistics.median(r[6] for r in rows))
print("log:", logname)
