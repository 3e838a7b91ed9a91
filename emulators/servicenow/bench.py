#!/usr/bin/python3
"""bench.py: how fast the ServiceNow emulator answers an incremental poll.

Starts the emulator on a free loopback port with a temporary database,
seeds --count incidents (default 100,000; one second apart, the newest
now), then times, over one kept-alive connection, each of:

  recent   sysparm_query=sys_updated_on>=X^ORDERBYsys_updated_on^ORDERBYsys_id
           sysparm_limit=100, sysparm_fields=sys_id,number,sys_updated_on,sys_mod_count,state
           with X = 10 minutes ago (the poll of a connector that keeps up)
  backlog  the same with X before the oldest record (every record matches:
           X-Total-Count counts them all)
  nocount  backlog with sysparm_no_count=true
  corr     sysparm_query=correlation_id=VALUE (a lookup by correlation)
  one      GET /api/now/table/incident/{sys_id}

and prints the median and 95th percentile of each, in milliseconds, and
whether the poll's median is under --budget-ms (default 50). Exit status 0
when it is. Usage: bench.py [--count N] [--runs N] [--budget-ms MS]
"""

import argparse
import base64
import datetime
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--budget-ms", type=float, default=50.0)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="snemu-bench-")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "--port", "0",
                             "--db", os.path.join(tmp, "sn.db"), "--user", "bench:bench"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        if not line.startswith("listening 127.0.0.1:"):
            raise SystemExit("emulator did not start: %r" % line)
        port = int(line.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        auth = {"Authorization": "Basic " + base64.b64encode(b"bench:bench").decode()}

        def call(method, path, body=None):
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers=dict(auth, **({"Content-Type": "application/json"} if body else {})))
            resp = conn.getresponse()
            data = resp.read()
            if resp.status >= 300:
                raise SystemExit("%s %s: %d %s" % (method, path, resp.status, data[:200]))
            return resp, json.loads(data) if data else None

        t0 = time.monotonic()
        call("POST", "/emulator/seed", {"count": args.count})
        seed_s = time.monotonic() - t0
        corr = call("POST", "/api/now/table/incident",
                    {"short_description": "bench", "correlation_id": "bench-corr-1"})[1]["result"]
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        fields = "sys_id,number,sys_updated_on,sys_mod_count,state"

        def poll_path(since, extra=""):
            q = "sys_updated_on>=%s^ORDERBYsys_updated_on^ORDERBYsys_id" % since
            return ("/api/now/table/incident?sysparm_query=%s&sysparm_fields=%s&sysparm_limit=100%s"
                    % (urllib.parse.quote(q, safe=""), fields, extra))

        recent = (now - datetime.timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S")
        cases = [
            ("recent", poll_path(recent)),
            ("backlog", poll_path("1970-01-01 00:00:00")),
            ("nocount", poll_path("1970-01-01 00:00:00", "&sysparm_no_count=true")),
            ("corr", "/api/now/table/incident?sysparm_query=correlation_id%3Dbench-corr-1"
                     "&sysparm_fields=" + fields),
            ("one", "/api/now/table/incident/" + corr["sys_id"]),
        ]
        print("seeded %d incidents in %.2f s" % (args.count, seed_s))
        results = {}
        for name, path in cases:
            resp, body = call("GET", path)  # warm
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                resp, body = call("GET", path)
                times.append((time.perf_counter() - t) * 1000.0)
            times.sort()
            med = statistics.median(times)
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            n = len(body["result"]) if isinstance(body["result"], list) else 1
            results[name] = med
            print("%-8s median %7.2f ms  p95 %7.2f ms  rows %3d  X-Total-Count %s"
                  % (name, med, p95, n, resp.getheader("X-Total-Count")))
        ok = results["recent"] < args.budget_ms
        print("incremental poll (recent) median %.2f ms: %s the %.0f ms budget"
              % (results["recent"], "under" if ok else "OVER", args.budget_ms))
        return 0 if ok else 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
