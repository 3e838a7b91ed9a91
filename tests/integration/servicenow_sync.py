#!/usr/bin/python3
"""tests/integration/servicenow_sync.py: concord between two ServiceNow
emulators (emulators/servicenow/server.py, no root), through the whole
engine: `concord sync --once` copies an incident raised in A into B (its
correlation id, its priority written as impact and urgency, its work note
with the origin marker, its assignee through the user map); a change in B
(state, priority, assignee) comes back to A; a resolve in B reaches A with
its close code and notes, the companions of state 6 (A's data policy).

Usage: servicenow_sync.py CONCORD SOURCE_ROOT     (exit 0: every check held)
"""

import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

CONCORD, ROOT = sys.argv[1], sys.argv[2]
AUTH = "Basic " + base64.b64encode(b"concord:pw").decode()
# a person's account: concord's own (the integration user's) edits are its writes, never
# a person's change (docs/architecture.md, ingest)
PERSON = "Basic " + base64.b64encode(b"alice:alice-pw").decode()
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def call(port, method, path, body=None, auth=AUTH):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": auth,
                                          "Content-Type": "application/json",
                                          "Accept": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def start(d, name):
    out = open(os.path.join(d, name + ".out"), "w+")
    p = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "emulators/servicenow/server.py"),
                          "--port", "0", "--db", os.path.join(d, name + ".db"),
                          "--user", "concord:pw", "--user", "alice:alice-pw",
                          "--sys-user", "ann.lee"],
                         stdout=out, stderr=subprocess.DEVNULL)
    for _ in range(100):
        out.seek(0)
        line = out.readline()
        if line.startswith("listening"):
            return p, int(line.split(":")[1])
        time.sleep(0.1)
    raise SystemExit("emulator %s did not start" % name)


SYSTEM = """  - name: {name}
    kind: servicenow
    url: http://127.0.0.1:{port}
    token: {{env: SN_PASSWORD}}
    rank: {rank}
    poll_interval: 1s
    poll_overlap: 30s
    search_lag: 1s
    comments: true
    integration_user: concord
    settings: {{user: concord}}
    users: {{ann.lee: ann@example.org}}
    fields:
      title: {{remote: short_description}}
      state:
        remote: state
        values:
          - {{remote: "1", canonical: new}}
          - {{remote: "2", canonical: in_progress}}
          - {{remote: "6", canonical: resolved,
             companions: {{resolution: "Closed/Resolved by Caller", notes: "Resolved elsewhere"}}}}
          - {{remote: "7", canonical: closed,
             companions: {{resolution: "Closed/Resolved by Caller", notes: "Closed elsewhere"}}}}
      priority:
        remote: priority
        values:
          - {{remote: "1", canonical: immediate}}
          - {{remote: "2", canonical: urgent}}
          - {{remote: "3", canonical: high}}
          - {{remote: "4", canonical: normal}}
          - {{remote: "5", canonical: low}}
      assignee: {{remote: assigned_to}}
      resolution: {{remote: close_code}}
      notes: {{remote: close_notes}}
"""


def sync(d, cfg):
    t0 = time.time()
    r = subprocess.run([CONCORD, "sync", "--once", "-c", cfg], capture_output=True, text=True,
                       timeout=120, env=dict(os.environ, SN_PASSWORD="pw"))
    print("sync took %.1f s" % (time.time() - t0), flush=True)
    if os.environ.get("SN_SYNC_LOG"):
        print(r.stdout + r.stderr)
    return r.stdout + r.stderr


def main():
    d = tempfile.mkdtemp(prefix="concord-snsync-")
    procs = []
    try:
        pa, a = start(d, "a")
        procs.append(pa)
        pb, b = start(d, "b")
        procs.append(pb)
        cfg = os.path.join(d, "concord.yaml")
        with open(cfg, "w") as f:
            with socket.socket() as sk:  # a free port for the daemon's listener
                sk.bind(("127.0.0.1", 0))
                lport = sk.getsockname()[1]
            f.write("store: sqlite:%s\nlisten: 127.0.0.1:%d\n" % (os.path.join(d, "concord.db"),
                                                                 lport))
            f.write("fields:\n  - {name: title, type: string}\n  - {name: state, type: enum}\n"
                    "  - {name: priority, type: priority}\n  - {name: assignee, type: user}\n"
                    "  - {name: resolution, type: enum}\n  - {name: notes, type: text}\n"
                    "dedup: {title: title}\ncreate_settle: 1s\nsystems:\n")
            f.write(SYSTEM.format(name="sna", port=a, rank=1))
            f.write(SYSTEM.format(name="snb", port=b, rank=2))

        ann = call(a, "GET", "/api/now/table/sys_user?sysparm_query=user_name%3Dann.lee"
                   "&sysparm_fields=sys_id")["result"][0]["sys_id"]
        rec = call(a, "POST", "/api/now/table/incident",
                   {"short_description": "Mail server down", "impact": "1", "urgency": "2",
                    "assigned_to": ann, "work_notes": "first note"})["result"]
        log = ""
        for _ in range(3):  # the create waits for a poll of B after the settle time
            time.sleep(1.2)
            log += sync(d, cfg)
        rows = call(b, "GET", "/api/now/table/incident?sysparm_fields=sys_id,short_description,"
                    "priority,impact,urgency,correlation_id,correlation_display,assigned_to"
                    "&sysparm_exclude_reference_link=true")["result"]
        check(len(rows) == 1, "one incident created in B (%d)" % len(rows))
        if len(rows) != 1:
            print(log)
            return
        copy = rows[0]
        check(copy["short_description"] == "Mail server down", "its title")
        check(copy["priority"] == "2" and copy["impact"] == "1" and copy["urgency"] == "2",
              "priority 2 written as impact 1, urgency 2: %s" % copy)
        check(copy["correlation_id"].startswith("concord-") and
              copy["correlation_display"] == "concord", "correlation id and display")
        check(copy["assigned_to"] == ann, "assignee through the user map and sys_user")
        notes = call(b, "GET", "/api/now/table/sys_journal_field?sysparm_query=element_id%3D" +
                     copy["sys_id"] + "&sysparm_fields=value,element")["result"]
        check(any(n["value"].endswith("] first note") and n["value"].startswith("[concord:")
                  for n in notes), "the work note mirrored with its origin marker: %s" % notes)

        # a change in B comes back to A
        call(b, "PATCH", "/api/now/table/incident/" + copy["sys_id"],
             {"state": "2", "impact": "2", "urgency": "3", "assigned_to": ""}, auth=PERSON)
        time.sleep(1.2)
        log = sync(d, cfg)
        back = call(a, "GET", "/api/now/table/incident/" + rec["sys_id"] +
                    "?sysparm_fields=state,priority,impact,urgency,assigned_to"
                    "&sysparm_exclude_reference_link=true")["result"]
        check(back["state"] == "2" and back["priority"] == "4" and back["assigned_to"] == "",
              "B's state, priority (as 2/3) and unassignment in A: %s" % back)

        # a resolve in B: its close code and notes are A's data policy's
        # companions of state 6, written with it in one PATCH
        call(b, "PATCH", "/api/now/table/incident/" + copy["sys_id"],
             {"state": "6", "close_code": "Solved (Permanently)", "close_notes": "done"},
             auth=PERSON)
        time.sleep(1.2)
        log = sync(d, cfg)
        res = call(a, "GET", "/api/now/table/incident/" + rec["sys_id"]
                   + "?sysparm_fields=state,close_code,close_notes")["result"]
        check(res == {"state": "6", "close_code": "Solved (Permanently)", "close_notes": "done"}
              and "dead-letter" not in log,
              "the resolve reaches A with its close code and notes (companions): %s" % res)
    finally:
        for p in procs:
            p.terminate()
            p.wait()
    if failures:
        print("%d failed" % len(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
