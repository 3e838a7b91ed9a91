#!/usr/bin/python3
"""Seeds the Sentinel emulator with N incidents (default 100,000) and measures
the incremental list a connector polls with:
  GET .../incidents?$filter=properties/lastModifiedTimeUtc ge X
      &$orderby=properties/lastModifiedTimeUtc asc&$top=100
from X spread over the whole range, on one keep-alive connection, and its
nextLink page. Prints the seeding time and the latencies (ms); exits 1 when
the median is not under --budget-ms (default 50).

    /usr/bin/python3 emulators/sentinel/bench.py [--count 100000] [--requests 200]
"""

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from timefmt import fmt, parse_time  # noqa: E402

SUB, RG, WS = "00000000-0000-0000-0000-000000000000", "rg", "ws"
PATH = ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.OperationalInsights/workspaces/%s"
        "/providers/Microsoft.SecurityInsights/incidents" % (SUB, RG, WS))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--budget-ms", type=float, default=50.0)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="sentbench-")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "--port", "0",
                             "--db", os.path.join(tmp, "bench.db"), "--client", "bench:bench"],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline().strip().rsplit(":", 1)[1])
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def call(method, path, body=None, headers=None):
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, json.loads(r.read() or b"null")

        t0 = time.monotonic()
        st, seeded = call("POST", "/emulator/seed", json.dumps({"count": a.count, "spread_seconds": 86400}),
                          {"Content-Type": "application/json"})
        assert st == 200, seeded
        seed_s = time.monotonic() - t0
        st, tok = call("POST", "/emulator-tenant/oauth2/v2.0/token", urllib.parse.urlencode({
            "grant_type": "client_credentials", "client_id": "bench", "client_secret": "bench",
            "scope": "https://management.azure.com/.default"}),
            {"Content-Type": "application/x-www-form-urlencoded"})
        auth = {"Authorization": "Bearer " + tok["access_token"]}
        # the range of lastModifiedTimeUtc
        st, first = call("GET", PATH + "?api-version=2025-12-01&$orderby=properties/lastModifiedTimeUtc%20asc&$top=1",
                         headers=auth)
        lo = parse_time(first["value"][0]["properties"]["lastModifiedTimeUtc"])
        hi = lo + 86400 * 10_000_000
        rng = random.Random(1)
        lat, nxt = [], []
        for i in range(a.requests):
            x = fmt(rng.randrange(lo, hi))
            q = urllib.parse.urlencode({"api-version": "2025-12-01",
                                        "$filter": "properties/lastModifiedTimeUtc ge %s" % x,
                                        "$orderby": "properties/lastModifiedTimeUtc asc", "$top": "100"},
                                       quote_via=urllib.parse.quote)
            t = time.perf_counter()
            st, page = call("GET", PATH + "?" + q, headers=auth)
            lat.append((time.perf_counter() - t) * 1000)
            assert st == 200 and page["value"], page
            if page.get("nextLink") and i % 4 == 0:
                u = urllib.parse.urlsplit(page["nextLink"])
                t = time.perf_counter()
                st, p2 = call("GET", u.path + "?" + u.query, headers=auth)
                nxt.append((time.perf_counter() - t) * 1000)
                assert st == 200
        lat.sort()
        med = statistics.median(lat)
        p95 = lat[int(len(lat) * 0.95) - 1]
        print("seeded %d incidents in %.2f s" % (a.count, seed_s))
        print("incremental list ($filter lastModifiedTimeUtc ge X, $orderby asc, $top 100), %d requests: "
              "median %.1f ms, p95 %.1f ms, max %.1f ms" % (len(lat), med, p95, lat[-1]))
        if nxt:
            print("its nextLink page, %d requests: median %.1f ms" % (len(nxt), statistics.median(nxt)))
        print("budget %.0f ms: %s" % (a.budget_ms, "met" if med < a.budget_ms else "NOT met"))
        return 0 if med < a.budget_ms else 1
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
