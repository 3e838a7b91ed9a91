#!/usr/bin/env python3
"""Figures of a live RT <-> Redmine sync through `concord serve` (a program that
prints figures, not a test): API writes and reads per propagated change,
idle API calls per poll interval at two numbers of tickets, and the latency
from an edit to its arrival on the other side at 2 s polling.

usage: measure_live.py CONCORD REPO_ROOT [SMALL LARGE]   (defaults 100 2000)
       measure_live.py CONCORD REPO_ROOT --again DIR
The peers' peers.env is read from $CONCORD_PEERS_DIR (default /tmp/concord-peers).
--again takes the store of an earlier run (DIR/m.db, the tickets it synced)
and measures only the idle cost and the propagated changes, with CONCORD.
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
import urllib.error
import urllib.parse
import urllib.request

CONCORD, ROOT = sys.argv[1], sys.argv[2]
AGAIN = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--again" else None
SMALL = int(sys.argv[3]) if len(sys.argv) > 3 and not AGAIN else 100
LARGE = int(sys.argv[4]) if len(sys.argv) > 4 and not AGAIN else 2000
PEERS = os.environ.get("CONCORD_PEERS_DIR", "/tmp/concord-peers")
env = dict(os.environ)
with open(os.path.join(PEERS, "peers.env")) as f:
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


def rt_count():
    q = urllib.parse.quote("Queue='General'")
    return int(call("GET", RT + "/tickets?per_page=1&query=" + q, RTH)["total"])


def rm_count():
    return int(call("GET", RM + "/issues.json?project_id=%s&status_id=*&limit=1" % PROJECT, RMH)["total_count"])


tmp = AGAIN or tempfile.mkdtemp(prefix="concord-measure-")
cfg = os.path.join(tmp, "rt-redmine.yaml")
with open(os.path.join(ROOT, "examples", "rt-redmine.yaml")) as f:
    text = f.read()
text = re.sub(r"^store:.*$", "store: sqlite:" + os.path.join(tmp, "m.db"), text, flags=re.M)
LISTEN = os.environ.get("CONCORD_MEASURE_LISTEN", "127.0.0.1:18485")
env["CONCORD_ADMIN_TOKEN"] = "measure-%d" % os.getpid()
with open(cfg, "w") as f:
    f.write(text + "\nlisten: %s\nadmin_token: {env: CONCORD_ADMIN_TOKEN}\n" % LISTEN)


def admin_status():
    req = urllib.request.Request("http://%s/admin/status" % LISTEN,
                                 headers={"Authorization": "Bearer " + env["CONCORD_ADMIN_TOKEN"]})
    with urllib.request.urlopen(req, timeout=30) as r:
        return {s["name"]: (s["requests"]["total"], s["requests"]["polls"])
                for s in json.loads(r.read())["systems"]}


def serve(logname):
    log = open(os.path.join(tmp, logname), "w")
    return subprocess.Popen([CONCORD, "serve", "-c", cfg], env=env, stdout=log, stderr=log), log.name


def stop(p):
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=60)


def stats(logname):
    out = {}
    with open(logname) as f:
        for l in f:
            m = re.search(r"stats system=(\S+) requests=(\d+) polls=(\d+)", l)
            if m:
                out[m.group(1)] = (int(m.group(2)), int(m.group(3)))
            m = re.search(r"stats writes=(\d+) creates=(\d+) comments=(\d+) changes=(\d+)", l)
            if m:
                out["_"] = tuple(int(x) for x in m.groups())
    return out


def seed(n):
    """Raises issues in Redmine until the project holds n (4 at a time:
    Redmine answers in ~0.2 s, RT in ~0.8 s); concord creates RT's copies."""
    from concurrent.futures import ThreadPoolExecutor
    have = rm_count()
    def one(i):
        for attempt in range(5):  # Redmine on SQLite: a busy database answers 500
            try:
                return call("POST", RM + "/issues.json", RMH,
                            {"issue": {"project_id": PROJECT, "subject": "Seed issue %d" % i}})
            except urllib.error.HTTPError as e:
                if e.code != 500 or attempt == 4:
                    raise
                time.sleep(1 + attempt)
    with ThreadPoolExecutor(4) as ex:
        list(ex.map(one, range(have, n)))
    return rm_count()


def settle(target):
    end = time.time() + 3600
    last, t = -1, time.time()
    while time.time() < end and rt_count() < target:
        c = rt_count()
        if c != last:
            print("  synced %d of %d (%.0f s)" % (c, target, time.time() - t), flush=True)
            last = c
        time.sleep(20)


def idle(label, seconds=60):
    # quiet first: longer than the 30 s poll overlap, so only idle polls remain;
    # then the requests and polls counted by the daemon between two moments
    # after a warm-up (the first polls of a new process re-read the overlap)
    time.sleep(35)
    p, log = serve("idle-%s.log" % label)
    time.sleep(20)
    a = admin_status()
    time.sleep(seconds)
    b = admin_status()
    stop(p)
    for sysname in ("rt", "redmine"):
        req, polls = b[sysname][0] - a[sysname][0], b[sysname][1] - a[sysname][1]
        print("idle %-8s %-7s tickets: %d requests in %d polls = %.2f per poll interval"
              " (%d s after a 20 s warm-up)"
              % (label, sysname, req, polls, req / polls if polls else float("nan"), seconds),
              flush=True)


if AGAIN:
    idle("%d" % rt_count())
else:
    print("seeding %d issues in Redmine" % SMALL, flush=True)
    n = seed(SMALL)
    p, log = serve("sync-small.log")
    settle(n)
    stop(p)
    idle("%d" % n)

# Propagated changes: edits on one side, counted at the other; latency per edit.
p, log = serve("changes.log")
time.sleep(8)
ids = [int(i["id"]) for i in call("GET", RT + "/tickets?per_page=20&query=" +
                                  urllib.parse.quote("Queue='General'"), RTH)["items"]]
lat = []
for k, tid in enumerate(ids[:20]):
    subject = "Edited %d at %s" % (k, time.strftime("%H%M%S"))
    t0 = time.time()
    call("PUT", RT + "/ticket/%d" % tid, RTH, {"Subject": subject})
    q = urllib.parse.quote(subject)
    end = t0 + 60
    while time.time() < end:
        got = call("GET", RM + "/issues.json?project_id=%s&status_id=*&subject=~%s" % (PROJECT, q), RMH)["issues"]
        if got:
            lat.append(time.time() - t0)
            break
        time.sleep(0.1)
time.sleep(8)
stop(p)
s = stats(log)
writes, creates, comments, changes = s["_"][:4]
reqs = sum(v[0] for k, v in s.items() if k != "_")
polls = sum(v[1] for k, v in s.items() if k != "_")
print("propagated changes: %d edits in RT; hub writes %d (%.2f per edit, 1 target system); "
      "requests in all %d over the run, %d polls; beyond one search per poll: %d requests "
      "(%.1f per edit: the reads of each change and the HTTP requests of each write)"
      % (len(lat), writes, writes / max(1, len(lat)), reqs, polls, reqs - polls,
         (reqs - polls) / max(1, len(lat))), flush=True)
if lat:
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))]
    print("latency edit -> arrival (2 s polling, %d edits): p50 %.2f s, p99 %.2f s, max %.2f s"
          % (len(lat), statistics.median(lat), p99, lat[-1]), flush=True)

if AGAIN:
    print("logs in", tmp)
    sys.exit(0)
print("seeding up to %d issues in Redmine (and syncing them to RT)" % LARGE, flush=True)
n = seed(LARGE)
p, log = serve("sync-large.log")
settle(n)
stop(p)
idle("%d" % n)
print("logs in", tmp)
