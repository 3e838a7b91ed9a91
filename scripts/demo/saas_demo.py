#!/usr/bin/python3
"""`concord demo`: one hub between emulated SaaS systems (ServiceNow,
Microsoft Sentinel and, with --systems servicenow,sentinel,jira, Jira
Cloud), virtual people working in them, the emulators' faults,
and the figures of the run as one JSON object.

    saas_demo.py --concord BUILD/concord [--systems servicenow,sentinel[,jira]]
                 [--seconds N] [--faults all|none|LIST] [--poll SECONDS]
                 [--json] [--seed S] [--keep DIR] [--no-webhooks]

LIST is a comma list of: latency, 429, 5xx, timeout, dup, reorder, skew,
kill (SIGKILL of concord half way, then a restart). The run: the emulators
start on loopback with signed webhooks to concord; `concord serve` starts
with a configuration written for them (the one of
examples/servicenow-sentinel.yaml, or examples/servicenow-sentinel-jira.yaml
with Jira, with the emulators' addresses); people
raise incidents, move states along each system's workflow, resolve and
close with close codes and classifications, change severities and comment,
for N seconds; then the faults stop and the demo waits (at most 120 s) for
every system to show the same cases. The figures:

  changes            people's changes (raises, field changes, comments)
  converged          every incident once in every system, the same values
                     (as each system's mapping sees them) and the same comments
  duplicates         records beyond one per incident per system
  loop_writes        writes by concord after convergence, in a quiet window of
                     three poll intervals (a loop keeps writing)
  state_flips        a ServiceNow state returning, by concord's write, to a
                     value it had left with no person choosing it (or a state
                     it stands for, as In Progress for Jira's In Review) since
  writes_per_change_per_target  concord's writes applied in the emulators
                     (from their own records), / changes / (systems - 1)
  api_calls_per_change  concord's API requests (its /admin/status) / changes
  latency_p50_ms, latency_p99_ms  from a person's field change (state,
                     severity) to its arrival in every other system, sampled
                     every 100 ms; create_latency_* the same for raises
"""

import argparse
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import saas_sides as sides  # noqa: E402
from saas_sides import HttpError, http  # noqa: E402

FAULTS_ALL = ("latency", "429", "5xx", "timeout", "dup", "reorder", "skew", "kill")
WORDS = ("VPN", "mailbox", "printer", "login", "disk", "phishing", "malware", "firewall",
         "laptop", "badge", "DNS", "backup", "token", "certificate", "payroll")
# Each system's workflow as its people walk it (canonical states).
NEXT_STATES = {
    "servicenow": {"new": ["in_progress"], "in_progress": ["on_hold", "resolved"],
                   "on_hold": ["in_progress"], "resolved": ["closed", "in_progress"],
                   "closed": [], "canceled": []},
    "sentinel": {"new": ["in_progress"], "in_progress": ["resolved"],
                 "on_hold": ["resolved"], "resolved": ["in_progress"],
                 "closed": ["in_progress"], "canceled": ["in_progress"]},
    # Jira: each is one or more transitions (In Progress to Done is two:
    # through In Review, the Done screen with its resolution)
    "jira": {"new": ["in_progress"], "in_progress": ["in_review", "resolved", "new"],
             "on_hold": ["in_review"], "in_review": ["resolved", "in_progress"],
             "resolved": ["new"], "closed": ["new"], "canceled": ["new"]},
}
# A state a person in another system set, as each system's people go on from it.
NEXT_STATES["servicenow"]["in_review"] = ["on_hold", "resolved"]
NEXT_STATES["sentinel"]["in_review"] = ["resolved"]
# The canonical states each system's record stands for (its mapping's sets):
# two systems agree on a state when their sets meet.
STATE_SETS = {
    "servicenow": {"1": {"new"}, "2": {"in_progress", "in_review"}, "3": {"on_hold"},
                   "6": {"resolved"}, "7": {"closed"}, "8": {"canceled"}},
    "sentinel": {"New": {"new"}, "Active": {"in_progress", "on_hold", "in_review"},
                 "Closed": {"resolved", "closed", "canceled"}},
    "jira": {"To Do": {"new"}, "In Progress": {"in_progress", "on_hold"},
             "In Review": {"in_review"}, "Done": {"resolved", "closed", "canceled"}},
}


def log(args, *a):
    if not args.json:
        print(*a, flush=True)


def config_yaml(args, port, dirpath, systems):
    """examples/servicenow-sentinel.yaml with the run's store, listener and
    poll interval; the emulators' addresses and secrets come through the
    environment, as for a real pair."""
    example = "servicenow-sentinel-jira.yaml" if "jira" in systems else \
        "servicenow-sentinel.yaml"
    with open(os.path.join(sides.ROOT, "examples", example)) as f:
        text = f.read()
    text = re.sub(r"(?m)^store: sqlite:\S+$",
                  "store: sqlite:%s/concord.db\nlisten: 127.0.0.1:%d" % (dirpath, port), text, 1)
    text = text.replace("poll_interval: 5s", "poll_interval: %gs" % args.poll)
    # The demo's people raise no twin of an incident in the other system, so
    # no create waits for one: a hub that must catch near-simultaneous twins
    # adds its create_settle to each create's latency.
    text = text.replace("create_settle: 5s", "create_settle: 0s")
    text = text.replace("dedup: {title: title}", "dedup: {title: title}\n"
                        "outbox: {backoff_base: 500ms, backoff_max: 5s, breaker_open: 5s}")
    return text


class Concord:
    def __init__(self, binary, cfg, dirpath, env, port):
        self.binary, self.cfg, self.env, self.port = binary, cfg, env, port
        self.logpath = os.path.join(dirpath, "concord.log")
        self.proc = None
        self.starts = 0

    def start(self):
        self.log = open(self.logpath, "a")
        self.proc = subprocess.Popen([self.binary, "serve", "-c", self.cfg], env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.starts += 1
        for _ in range(200):
            try:
                if http("GET", "http://127.0.0.1:%d/health" % self.port, timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("concord serve exited %s; its log: %s" % (
                    self.proc.returncode, self.logpath))
            time.sleep(0.05)
        raise RuntimeError("concord serve did not answer /health")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()

    def status(self):
        st, doc, _ = http("GET", "http://127.0.0.1:%d/admin/status" % self.port,
                          headers={"Authorization": "Bearer " + self.env["CONCORD_ADMIN_TOKEN"]})
        return doc if st == 200 else None


class World:
    """What the people did, and where each incident lives."""

    def __init__(self, systems, rng):
        self.systems = systems
        self.rng = rng
        self.incidents = []          # {key, title, origin, ids: {system: id}, state, ...}
        self.changes = []            # (t, system, key, field, canonical value)
        self.comments = {}           # key -> [bodies]
        self.lock = threading.Lock()
        self.n = 0

    def find(self, key):
        for inc in self.incidents:
            if inc["key"] == key:
                return inc
        return None


def locate(world, views):
    """Fills each incident's id in every system from the records' titles."""
    for inc in world.incidents:
        for s in world.systems:
            if s.name in inc["ids"]:
                continue
            for rid, rec in views[s.name].items():
                if rec["title"].startswith(inc["key"] + " "):
                    inc["ids"][s.name] = rid
                    break


MIN_GAP_S = 2.5


def last_change(world, key):
    with world.lock:
        return max((t for (t, _, k, _, _) in world.changes if k == key), default=0.0)


def person_step(world, args):
    rng = world.rng
    s = rng.choice(world.systems)
    # People work at people's pace: nobody touches an incident within
    # MIN_GAP_S of its last change by anyone (concord orders edits further
    # apart than its clock_uncertainty, 2 s, correctly; closer ones race,
    # docs/guarantees.md)
    now = time.time()
    live = [i for i in world.incidents if s.name in i["ids"] and
            now - last_change(world, i["key"]) > MIN_GAP_S]
    # a change dates from when the system took it (the end of the person's
    # call, retries included), as the system's own history does
    if not live or rng.random() < 0.12 or len(world.incidents) < 2:
        if live == [] and world.incidents and rng.random() < 0.7:
            return "(everyone waits: the incidents changed a moment ago)"
        world.n += 1
        key = "[D%03d]" % world.n
        title = "%s %s %s" % (key, rng.choice(WORDS), rng.choice(("down", "slow", "alert", "locked")))
        sev = rng.choice(sides.SEVERITIES)
        rid = s.raise_incident(title, sev)
        with world.lock:
            world.incidents.append({"key": key, "title": title, "origin": s.name,
                                    "ids": {s.name: rid}, "state": "new", "severity": sev,
                                    "resolution": ""})
            world.changes.append((time.time(), s.name, key, "raise", title))
        return "%s raised %s in %s" % (s.person if hasattr(s, "person") else "someone", key, s.name)
    inc = rng.choice(live)
    rid = inc["ids"][s.name]
    what = rng.random()
    if what < 0.45:
        nxt = NEXT_STATES[s.name].get(inc["state"], [])
        if not nxt:
            what = 0.6
        else:
            state = rng.choice(nxt)
            res = rng.choice(sides.RESOLUTIONS) if state in ("resolved", "closed") else None
            if res and inc["state"] in ("resolved", "closed", "canceled") and inc["resolution"]:
                res = inc["resolution"]  # closing what was resolved keeps its resolution
            s.set_state(rid, state, res)
            with world.lock:
                inc["state"] = state
                world.changes.append((time.time(), s.name, inc["key"], "state", state))
                if res:
                    inc["resolution"] = res
            return "%s: %s -> %s%s" % (s.name, inc["key"], state, " (%s)" % res if res else "")
    if what < 0.75:
        sev = rng.choice(sides.SEVERITIES)
        s.set_severity(rid, sev)
        with world.lock:
            inc["severity"] = sev
            world.changes.append((time.time(), s.name, inc["key"], "severity", sev))
        return "%s: %s severity %s" % (s.name, inc["key"], sev)
    body = "note %d from %s: %s" % (len(world.changes), s.name, rng.choice(WORDS))
    s.comment(rid, body)
    with world.lock:
        world.comments.setdefault(inc["key"], []).append(body)
        world.changes.append((time.time(), s.name, inc["key"], "comment", body))
    return "%s: %s comment" % (s.name, inc["key"])


def covers(system, field, value, rec):
    """Does the system's record show the canonical value, as its mapping can?"""
    if field == "state":
        return value in STATE_SETS[system].get(rec["remote_state"], set())
    if field == "severity":
        if system == "sentinel":
            return sides.ST_SEVERITY[value] == sides.ST_SEVERITY.get(rec["severity"])
        return rec["severity"] == value
    return True


class Sampler(threading.Thread):
    """Every 100 ms, every system's records: when each person's change (a
    raise, a state, a severity) first shows in every other system."""

    def __init__(self, world):
        super().__init__(daemon=True)
        self.world = world
        self.stop = threading.Event()
        self.pending = []     # [t, origin, key, field, value]
        self.latencies = []         # field changes: state, severity
        self.create_latencies = []  # raises: the incident in every other system
        self.slow = []        # (ms, origin, key, field)
        self.seen_changes = 0

    def run(self):
        while not self.stop.is_set():
            t_sample = time.time()
            try:
                views = {s.name: s.records() for s in self.world.systems}
            except Exception:  # the emulators' faults hit the sampler too
                time.sleep(0.1)
                continue
            with self.world.lock:
                new = self.world.changes[self.seen_changes:]
                self.seen_changes = len(self.world.changes)
                locate(self.world, views)
                for ch in new:
                    if ch[3] in ("raise", "state", "severity"):
                        # a later change of the same field supersedes an earlier one
                        self.pending = [p for p in self.pending
                                        if not (p[2] == ch[2] and p[3] == ch[3])]
                        self.pending.append(list(ch))
                left = []
                for p in self.pending:
                    t0, origin, key, field, value = p
                    inc = self.world.find(key)
                    done = True
                    for s in self.world.systems:
                        if s.name == origin:
                            continue
                        rid = inc["ids"].get(s.name)
                        rec = views[s.name].get(rid) if rid else None
                        if rec is None or not covers(s.name, field, value, rec):
                            done = False
                    if done:
                        (self.create_latencies if field == "raise" else self.latencies).append(
                            max(0.0, t_sample - t0))
                        self.slow.append((round(1000 * (t_sample - t0)), origin, key, field))
                    elif t_sample - t0 < 120:
                        left.append(p)
                self.pending = left
            time.sleep(0.1)


def strip_marker(body):
    """A mirrored comment's text without concord's origin marker."""
    b = body.strip()
    if b.startswith("[concord:"):
        end = b.find("]")
        b = b[end + 1:].strip() if end > 0 else b
    return b


def check_converged(world):
    """(converged, duplicates, problems) from every system's records."""
    views = {s.name: s.records() for s in world.systems}
    coms = {s.name: s.comments() for s in world.systems}
    locate(world, views)
    problems = []
    dups = 0
    for s in world.systems:
        by_key = {}
        for rid, rec in views[s.name].items():
            key = rec["title"].split(" ")[0]
            by_key.setdefault(key, []).append(rid)
        for key, ids in by_key.items():
            if len(ids) > 1:
                dups += len(ids) - 1
                problems.append("%s: %d records of %s" % (s.name, len(ids), key))
    for inc in world.incidents:
        recs = {}
        for s in world.systems:
            rid = inc["ids"].get(s.name)
            if not rid or rid not in views[s.name]:
                problems.append("%s not (yet) in %s" % (inc["key"], s.name))
                continue
            recs[s.name] = views[s.name][rid]
        if len(recs) < len(world.systems):
            continue
        sn = recs.get("servicenow")
        for name, rec in recs.items():
            if rec["title"] != inc["title"]:
                problems.append("%s: title %r in %s" % (inc["key"], rec["title"], name))
        if sn:
            for name, rec in recs.items():
                if name != "servicenow":
                    if not (STATE_SETS["servicenow"].get(sn["remote_state"], set()) &
                            STATE_SETS[name].get(rec["remote_state"], set())):
                        problems.append("%s: state %s in servicenow, %s in %s" % (
                            inc["key"], sn["remote_state"], rec["remote_state"], name))
                    if not covers(name, "severity", sn["severity"], rec):
                        problems.append("%s: severity %s in servicenow, %s in %s" % (
                            inc["key"], sn["severity"], rec["severity"], name))
        texts = []
        for s in world.systems:
            rid = inc["ids"][s.name]
            texts.append(sorted(strip_marker(b) for b in coms[s.name].get(rid, [])))
        if any(t != texts[0] for t in texts):
            problems.append("%s: comments differ: %s" % (inc["key"], texts))
        want = sorted(world.comments.get(inc["key"], []))
        if texts and texts[0] != want:
            problems.append("%s: comments %s, people wrote %s" % (inc["key"], texts[0], want))
    return not problems, dups, problems, views


def epoch_of(at):
    """An emulator history time (ServiceNow 'YYYY-MM-DD HH:MM:SS' UTC, or ISO)."""
    import datetime
    at = str(at).replace("T", " ").rstrip("Z")[:19]
    return datetime.datetime.strptime(at, "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def state_flips(world, sn):
    """ServiceNow states that concord moved back to a value the record had
    left, with no person choosing that value (in any system) since it left
    it. The emulator's history gives who set each state, and when (to the
    second: a person's choice within a second of the leaving counts)."""
    flips = 0
    details = []
    for inc in world.incidents:
        rid = inc["ids"].get("servicenow")
        if not rid:
            continue
        chosen = [(t, v) for (t, _, k, f, v) in world.changes if k == inc["key"] and f == "state"]
        left_at = {}
        prev = None
        for (state, user, at) in sn.history(rid):
            if prev is not None and state != prev:
                left_at[prev] = epoch_of(at)
                if user == sn.concord_user and state in left_at:
                    since = left_at[state]
                    # a person's choice of any state this ServiceNow state stands for
                    # (Jira's In Review is ServiceNow's In Progress)
                    stands = STATE_SETS["servicenow"].get(sides.SN_STATE.get(state), {state})
                    if not any(v in stands and t >= since - 1.0 for (t, v) in chosen):
                        flips += 1
                        details.append("%s: back to %s at %s" % (inc["key"], state, at))
            prev = state
    return flips, details


def pct(values, q):
    """The q-quantile of values in ms (nearest rank), None when empty."""
    v = sorted(values)
    return round(1000 * v[min(len(v) - 1, int(len(v) * q))]) if v else None


def concord_requests(status):
    """Concord's requests (its /admin/status): the total, and by operation,
    summed over the systems."""
    ops = {}
    total = 0
    for s in (status or {}).get("systems", []):
        req = s.get("requests", {})
        total += req.get("total", 0)
        for k, v in req.get("by_operation", {}).items():
            ops[k] = ops.get(k, 0) + v
    return total, ops


def emulator_writes(world):
    """Writes concord made that the emulators applied (their own counts)."""
    n = 0
    for s in world.systems:
        st = s.emu.stats() or {}
        w = st.get("writes_by_user") or st.get("writes_by_account") or {}
        n += sum(v for k, v in w.items() if k in (getattr(s, "concord_user", None),
                                                   getattr(s, "concord_client", (None,))[0]))
    return n


def main(argv=None):
    ap = argparse.ArgumentParser(description="concord demo: emulated SaaS systems, one hub")
    ap.add_argument("--concord", required=True)
    ap.add_argument("--systems", default="servicenow,sentinel")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--faults", default="none")
    ap.add_argument("--poll", type=float, default=5.0, help="poll interval, seconds")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", default=None, help="keep the run's files in this directory")
    ap.add_argument("--no-webhooks", action="store_true")
    args = ap.parse_args(argv)

    names = [n.strip() for n in args.systems.split(",") if n.strip()]
    for n in names:
        if n not in sides.SIDES:
            ap.error("unknown system %r (known: %s)" % (n, ", ".join(sides.SIDES)))
    if sorted(names) not in (["sentinel", "servicenow"], ["jira", "sentinel", "servicenow"]):
        ap.error("this build's demo runs servicenow,sentinel (examples/servicenow-sentinel.yaml) "
                 "or servicenow,sentinel,jira (examples/servicenow-sentinel-jira.yaml)")
    faults = set(FAULTS_ALL) if args.faults == "all" else set() if args.faults == "none" else \
        set(f.strip() for f in args.faults.split(",") if f.strip())
    bad = faults - set(FAULTS_ALL)
    if bad:
        ap.error("unknown fault(s) %s (known: %s)" % (", ".join(sorted(bad)), ", ".join(FAULTS_ALL)))
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    dirpath = args.keep or tempfile.mkdtemp(prefix="concord-demo-")
    os.makedirs(dirpath, exist_ok=True)
    port = sides.free_port()
    secret = secrets.token_hex(16)
    systems = []
    concord = None
    result = None
    try:
        for n in names:
            hook = None if args.no_webhooks else "http://127.0.0.1:%d/webhook/%s" % (port, n)
            systems.append(sides.SIDES[n](dirpath, hook, secret))
        for s in systems:
            s.emu.start()
        log(args, "emulators: " + ", ".join("%s %s" % (s.name, s.emu.url) for s in systems))
        cfg = os.path.join(dirpath, "concord.yaml")
        with open(cfg, "w") as f:
            f.write(config_yaml(args, port, dirpath, names))
        env = dict(os.environ, CONCORD_ADMIN_TOKEN=secrets.token_hex(16),
                   CONCORD_WEBHOOK_SECRET=secret)
        for s in systems:
            env.update(s.env())
        chk = subprocess.run([args.concord, "check", "-c", cfg], env=env, capture_output=True,
                             text=True)
        if chk.returncode != 0:
            raise RuntimeError("concord check: " + (chk.stdout + chk.stderr).strip())
        concord = Concord(args.concord, cfg, dirpath, env, port)
        concord.start()
        log(args, "concord serve on 127.0.0.1:%d, seed %d, faults: %s" % (
            port, seed, ", ".join(sorted(faults)) or "none"))

        spec = {}
        if "latency" in faults:
            spec["latency_ms"] = 30
        if "429" in faults:
            spec["p_429"] = 0.05
        if "5xx" in faults:
            spec["p_5xx"] = 0.05
        if "timeout" in faults:
            spec["p_timeout_after_write"] = 0.03
        if "dup" in faults:
            spec["p_dup_webhook"] = 0.2
        if "reorder" in faults:
            spec["p_reorder_webhook"] = 0.2
        if spec:
            spec["seed"] = seed
            for s in systems:
                s.emu.faults(spec)
        if "skew" in faults:
            http("POST", systems[-1].emu.url + "/emulator/clock", {"skew": 7})

        world = World(systems, rng)
        sampler = Sampler(world)
        sampler.start()
        t_end = time.time() + args.seconds
        killed = False
        while time.time() < t_end:
            try:
                what = person_step(world, args)
                log(args, "  " + what)
            except (RuntimeError, HttpError) as e:
                log(args, "  (a person gave up: %s)" % e)
            if "kill" in faults and not killed and time.time() > t_end - args.seconds / 2:
                concord.kill()
                log(args, "  concord killed with SIGKILL; restarting")
                time.sleep(1)
                concord.start()
                killed = True
            time.sleep(rng.uniform(0.2, 0.8))
        t_people_done = time.time()
        if spec:
            for s in systems:
                s.emu.faults({"latency_ms": 0, "p_429": 0, "p_5xx": 0, "p_timeout_after_write": 0,
                              "p_dup_webhook": 0, "p_reorder_webhook": 0})
        log(args, "people stopped after %d changes; waiting for every system to agree" %
            len(world.changes))
        converged, dups, problems = False, 0, []
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                converged, dups, problems, _ = check_converged(world)
            except (RuntimeError, HttpError) as e:
                problems = [str(e)]
            if converged:
                break
            time.sleep(1)
        t_converged = time.time()
        # a quiet window: a loop keeps writing (the emulators count concord's writes)
        before = emulator_writes(world)
        time.sleep(3 * args.poll)
        loop_writes = emulator_writes(world) - before
        sampler.stop.set()
        sampler.join(2)
        total, ops = concord_requests(concord.status())
        sn = next((s for s in systems if s.name == "servicenow"), None)
        flips, flip_details = state_flips(world, sn) if sn else (0, [])
        nchanges = max(1, len(world.changes))
        applied = emulator_writes(world)
        result = {
            "systems": names, "seconds": args.seconds, "faults": sorted(faults), "seed": seed,
            "changes": len(world.changes), "incidents": len(world.incidents),
            "converged": converged, "duplicates": dups, "loop_writes": loop_writes,
            "state_flips": flips,
            "writes_per_change_per_target": round(applied / nchanges / (len(systems) - 1), 3),
            "api_calls_per_change": round(total / nchanges, 2),
            "api_calls_by_operation": ops,
            "latency_p50_ms": pct(sampler.latencies, 0.5),
            "latency_p99_ms": pct(sampler.latencies, 0.99),
            "latency_samples": len(sampler.latencies),
            "create_latency_p50_ms": pct(sampler.create_latencies, 0.5),
            "create_latency_p99_ms": pct(sampler.create_latencies, 0.99),
            "latency_slowest": sorted(sampler.slow, reverse=True)[:5],
            "converge_seconds": round(t_converged - t_people_done, 1),
            "concord_starts": concord.starts,
            "webhooks": not args.no_webhooks, "poll_seconds": args.poll,
            "problems": problems[:20], "state_flip_details": flip_details[:20],
            "dir": dirpath if args.keep else None,
        }
    finally:
        if concord:
            concord.stop()
        for s in systems:
            s.emu.stop()
        if result is None and not args.keep:
            print("demo failed; its files are in %s" % dirpath, file=sys.stderr)
        elif not args.keep:
            shutil.rmtree(dirpath, ignore_errors=True)
    if args.keep:
        with open(os.path.join(dirpath, "result.json"), "w") as f:
            json.dump(result, f, indent=2)
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
    ok = result["converged"] and result["duplicates"] == 0 and result["loop_writes"] == 0 and \
        result["state_flips"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
