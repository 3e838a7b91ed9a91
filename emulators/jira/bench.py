#!/usr/bin/python3
"""Seeds the Jira emulator with N issues (default 100,000, `updated` spread
over 30 days) and measures, on one keep-alive connection, the incremental
search a connector polls with:
  GET /rest/api/3/search/jql?jql=project = EMU AND updated >= "yyyy-MM-dd HH:mm"
      ORDER BY updated ASC, key ASC&fields=summary,status,labels,updated&maxResults=100
from ten minutes back (a few issues), plus the same from before the first
issue with its nextPageToken pages (the backlog), a labels search and a get
by key. Prints the seeding time and latencies (ms); exits 1 when the
incremental search's median is not under --budget-ms (default 50).

    /usr/bin/python3 emulators/jira/bench.py [--count 100000] [--requests 200]
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
import zoneinfo

HERE = os.path.dirname(os.path.abspath(__file__))
TZ = "Australia/Sydney"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--budget-ms", type=float, default=50.0)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="jirabench-")
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "--port", "0",
                             "--db", os.path.join(tmp, "bench.db"), "--user", "bench@example.com:tok:" + TZ],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline().strip().rsplit(":", 1)[1])
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        auth = {"Authorization": "Basic " + base64.b64encode(b"bench@example.com:tok").decode(),
                "Content-Type": "application/json"}

        def call(method, path, body=None):
            c.request(method, path, body=None if body is None else json.dumps(body), headers=auth)
            r = c.getresponse()
            return r.status, json.loads(r.read() or b"null")

        t0 = time.monotonic()
        st, seeded = call("POST", "/emulator/seed", {"count": a.count, "spread_seconds": 30 * 86400,
                                                    "labels": None, "seed": 1})
        assert st == 200, seeded
        seed_s = time.monotonic() - t0

        def timed(path, n):
            lat, last = [], None
            for _ in range(n):
                t = time.perf_counter()
                st, last = call("GET", path)
                lat.append((time.perf_counter() - t) * 1000)
                assert st == 200, last
            lat.sort()
            return lat, last

        def q(jql, **kw):
            kw.update(jql=jql)
            return "/rest/api/3/search/jql?" + urllib.parse.urlencode(kw)

        since = (datetime.datetime.now(zoneinfo.ZoneInfo(TZ)) - datetime.timedelta(minutes=10)).strftime(
            "%Y-%m-%d %H:%M")
        fields = "summary,status,labels,updated"
        inc, page = timed(q('project = EMU AND updated >= "%s" ORDER BY updated ASC, key ASC' % since,
                            fields=fields, maxResults=100), a.requests)
        inc_rows = len(page["issues"])
        back_q = 'project = EMU AND updated >= "2000-01-01 00:00" ORDER BY updated ASC, key ASC'
        back, page = timed(q(back_q, fields=fields, maxResults=100), max(20, a.requests // 4))
        nxt = []
        tok = page.get("nextPageToken")
        for _ in range(max(20, a.requests // 4)):
            t = time.perf_counter()
            st, page = call("GET", q(back_q, fields=fields, maxResults=100, nextPageToken=tok))
            nxt.append((time.perf_counter() - t) * 1000)
            assert st == 200, page
            tok = page.get("nextPageToken")
        nxt.sort()
        lab, page = timed(q('labels = seeded AND updated >= "%s" ORDER BY updated ASC, key ASC' % since,
                            fields=fields, maxResults=100), max(20, a.requests // 4))
        one, _ = timed("/rest/api/3/issue/EMU-%d?fields=summary,status,updated" % (a.count // 2),
                       max(20, a.requests // 4))

        def line(name, lat, extra=""):
            p95 = lat[max(0, int(len(lat) * 0.95) - 1)]
            print("%-11s %4d requests: median %6.2f ms  p95 %6.2f ms  max %6.2f ms  %s"
                  % (name, len(lat), statistics.median(lat), p95, lat[-1], extra))

        print("seeded %d issues in %.2f s (server: %.2f s)" % (a.count, seed_s, seeded["seconds"]))
        line("incremental", inc, "(%d issues updated in the last 10 minutes)" % inc_rows)
        line("backlog", back, "(first page of 100 of all %d)" % a.count)
        line("next page", nxt, "(nextPageToken pages of the backlog)")
        line("labels", lab, "(labels = seeded, last 10 minutes)")
        line("get", one, "(GET issue by key)")
        med = statistics.median(inc)
        print("budget %.0f ms for the incremental search: %s" % (a.budget_ms,
                                                                 "met" if med < a.budget_ms else "NOT met"))
        return 0 if med < a.budget_ms else 1
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
