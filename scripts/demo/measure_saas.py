#!/usr/bin/python3
"""Figures of concord between the ServiceNow and Sentinel emulators (a
benchmark program: it prints figures, it is not a test).

    measure_saas.py --concord BUILD/concord first-sync --records N --into servicenow|sentinel
                    [--limit REQUESTS_PER_SECOND] [--latency MS] [--concurrency N]
    measure_saas.py --concord BUILD/concord idle --records N [--intervals K]
                    [--systems servicenow,sentinel[,jira]] [--dormant M]

first-sync: N incidents seeded in the other emulator, concord started on
both (examples/servicenow-sentinel.yaml, its own rate_limit set to the
target emulator's limit less 5 %), timed until the target holds N copies: records
per second, requests per second to the target, and that as a fraction of
the target's limit. --latency gives every answer of the target that delay
(a SaaS instance answers in tens to hundreds of milliseconds, loopback in
one): one delivery at a time is then bounded by latency, not by the limit;
--concurrency sets the target's `concurrency` (deliveries at once).

idle: N incidents seeded in each emulator, copied over by a first sync;
then the requests concord makes per poll interval to each system while
nothing changes (its /admin/status counts). With --dormant M, M more
records are then seeded in each system, last changed an hour before the
first sync began (records that exist and do not change: a first sync of
100,000 takes hours here), and the idle requests are counted again, in
the same run: what the idle polls cost with N and with N + M records.
"""

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import saas_sides as sides  # noqa: E402
import saas_demo as demo  # noqa: E402
from saas_sides import http  # noqa: E402


def count(side):
    st = side.emu.stats() or {}
    if side.name == "sentinel":
        return st.get("incidents", 0)
    if side.name == "jira":
        return st.get("issues", 0)
    # ServiceNow: X-Total-Count of a one-row listing
    _, _, h = http("GET", side.emu.url + "/api/now/table/incident?sysparm_limit=1&sysparm_fields=sys_id",
                   headers=side.h)
    return int(h.get("X-Total-Count", "0"))


def start(args, dirpath, limits, poll, concurrency=None, names=("servicenow", "sentinel")):
    """The emulators of `names` and concord between them: (sides by name, concord)."""
    port = sides.free_port()
    secret = secrets.token_hex(8)
    made = {"servicenow": lambda: sides.ServiceNow(dirpath, None, secret, rate_limit=0),
            "sentinel": lambda: sides.Sentinel(dirpath, None, secret, rate_limit=0),
            "jira": lambda: sides.Jira(dirpath, None, secret, rate_limit=0)}
    by = {n: made[n]() for n in names}
    for s in by.values():
        lim = limits.get(s.name)
        if lim:  # per second, for concord; the emulators count per their window
            if s.name == "servicenow":
                s.emu.args += ["--rate-limit", str(lim), "--rate-window", "1"]
            else:
                s.emu.args += ["--rate-limit", str(lim * 60)]
        s.emu.start()
    ns = argparse.Namespace(poll=poll)
    text = demo.config_yaml(ns, port, dirpath, list(names))
    for name, lim in limits.items():
        if lim:  # concord keeps 5 % below the system's limit, as an operator would
            text = text.replace("  - name: %s\n" % name,
                                "  - name: %s\n    rate_limit: %d\n" % (name, max(1, lim * 95 // 100)))
    for name, n in (concurrency or {}).items():
        text = text.replace("  - name: %s\n" % name, "  - name: %s\n    concurrency: %d\n" % (name, n))
    text = text.replace("webhook_secret: {env: CONCORD_WEBHOOK_SECRET}", "webhook_auth: none")
    cfg = os.path.join(dirpath, "concord.yaml")
    with open(cfg, "w") as f:
        f.write(text)
    env = dict(os.environ, CONCORD_ADMIN_TOKEN=secrets.token_hex(8))
    for side in by.values():
        env.update(side.env())
    c = demo.Concord(args.concord, cfg, dirpath, env, port)
    return by, c


def system_requests(c):
    s = c.status() or {"systems": []}
    return {x["name"]: x["requests"]["total"] for x in s["systems"]}


def first_sync(args, dirpath):
    into = args.into
    lim = args.limit
    by, c = start(args, dirpath, {into: lim}, 5.0,
                  {into: args.concurrency} if args.concurrency else None)
    sn, st = by["servicenow"], by["sentinel"]
    src = st if into == "servicenow" else sn
    dst = sn if into == "servicenow" else st
    try:
        body = {"count": args.records, "spread_seconds": 3600}
        if src.name == "sentinel":
            body.update(subscription=sides.SUB, resourceGroup=sides.RG, workspace=sides.WS)
        http("POST", src.emu.url + "/emulator/seed", body, timeout=600)
        base = count(dst)
        if args.latency:
            dst.emu.faults({"latency_ms": args.latency})
        t0 = time.time()
        c.start()
        last, t_last = base, t0
        while True:
            n = count(dst) - base
            if n >= args.records:
                break
            if n != last:
                last, t_last = n, time.time()
            # before the first copy concord reads the source (10,000 records
            # take minutes); after it, two minutes without a copy is a stall
            elif time.time() - t_last > (120 if n > 0 else 1800):
                print("stalled at %d of %d copies" % (n, args.records))
                break
            time.sleep(1)
        secs = time.time() - t0
        req = system_requests(c).get(dst.name, 0)
        print("first sync into %s (latency %d ms, concurrency %s): %d records in %.1f s: "
              "%.1f records/s; %d requests to %s: %.1f requests/s, %.2f of its limit of %s "
              "requests/s (%.2f requests per record)" % (
                  dst.name, args.latency, args.concurrency or "4 (default)", n, secs, n / secs,
                  req, dst.name, req / secs,
                  (req / secs / lim) if lim else float("nan"), lim, req / max(1, n)))
    finally:
        c.stop()
        sn.emu.stop()
        st.emu.stop()


def seed(side, n, ago_s=0):
    """n records in side's emulator, changed over the hour before now less ago_s."""
    body = {"count": n, "spread_seconds": 3600, "ago_seconds": ago_s}
    if side.name == "sentinel":
        body.update(subscription=sides.SUB, resourceGroup=sides.RG, workspace=sides.WS)
    if side.name == "jira":
        body.update(project=sides.JI_PROJECT, labels=[])
    st, doc, _ = http("POST", side.emu.url + "/emulator/seed", body, timeout=600)
    if st != 200:
        raise RuntimeError("seeding %s: %s %s" % (side.name, st, doc))


def idle_requests(c, intervals, label):
    r0 = system_requests(c)
    polls0 = {x["name"]: x["requests"]["polls"] for x in c.status()["systems"]}
    time.sleep(intervals * 5.0)
    r1 = system_requests(c)
    polls1 = {x["name"]: x["requests"]["polls"] for x in c.status()["systems"]}
    for name in r1:
        p = polls1[name] - polls0[name]
        print("idle, %s: %s: %d requests in %d polls: %.2f requests per poll" % (
            label, name, r1[name] - r0[name], p, (r1[name] - r0[name]) / max(1, p)))


def idle(args, dirpath):
    names = [n.strip() for n in args.systems.split(",") if n.strip()]
    by, c = start(args, dirpath, {}, 5.0, names=names)
    try:
        for side in by.values():
            seed(side, args.records)
        t0 = time.time()
        c.start()
        # The first sync is over when the outboxes are empty and no system's
        # count moved for 10 s after the first copies (the seeds of two
        # systems share titles: dedup links some instead of copying them).
        last, since = None, time.time()
        while True:
            s = c.status()
            counts = tuple(count(x) for x in by.values())
            if counts != last:
                last, since = counts, time.time()
            if s and all(x["outbox"] == 0 for x in s["systems"]) and \
                    sum(counts) > len(by) * args.records and time.time() - since >= 10:
                break
            if time.time() - t0 > 3600:
                raise RuntimeError("the first sync did not end within an hour")
            time.sleep(2)
        print("first sync of %d records in each of %s: %.0f s (records now: %s)" % (
            args.records, ", ".join(names), time.time() - t0 - 10,
            ", ".join("%s %d" % (n, k) for n, k in zip(by, last))))
        # the last echoes, and the overlap windows past the first sync's
        # burst (Jira's search asks a minute before the cursor: JQL dates
        # have minute precision, so the last minute's changes are listed again)
        time.sleep(args.settle)
        idle_requests(c, args.intervals, "%d seeded in each, %s held" % (
            args.records, "/".join(str(count(x)) for x in by.values())))
        if args.dormant:
            # changed an hour before the first sync began: behind every cursor
            ago = time.time() - t0 + 3600
            for side in by.values():
                seed(side, args.dormant, ago)
            print("seeded %d records more in each, last changed %.0f s ago and earlier" % (
                args.dormant, ago))
            time.sleep(6)
            idle_requests(c, args.intervals, "%d seeded in each, %s held" % (
                args.records + args.dormant, "/".join(str(count(x)) for x in by.values())))
    finally:
        c.stop()
        for side in by.values():
            side.emu.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--concord", required=True)
    sub = ap.add_subparsers(dest="what", required=True)
    f = sub.add_parser("first-sync")
    f.add_argument("--records", type=int, default=10000)
    f.add_argument("--into", choices=("servicenow", "sentinel"), required=True)
    f.add_argument("--limit", type=int, default=100)
    f.add_argument("--latency", type=int, default=0, help="ms added to each answer of the target")
    f.add_argument("--concurrency", type=int, default=0, help="the target's concurrency (0: default)")
    i = sub.add_parser("idle")
    i.add_argument("--records", type=int, default=1000)
    i.add_argument("--intervals", type=int, default=6)
    i.add_argument("--systems", default="servicenow,sentinel")
    i.add_argument("--settle", type=float, default=150,
                   help="seconds between the first sync and the first count")
    i.add_argument("--dormant", type=int, default=0,
                   help="records added to each system after the first sync, unchanged since")
    args = ap.parse_args()
    dirpath = tempfile.mkdtemp(prefix="concord-measure-")
    (first_sync if args.what == "first-sync" else idle)(args, dirpath)
    print("files: %s" % dirpath)


if __name__ == "__main__":
    main()
