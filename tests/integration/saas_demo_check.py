#!/usr/bin/python3
"""The ServiceNow/Sentinel acceptance run, as a test: `concord demo
--systems servicenow,sentinel --seconds N --faults F --json` against the
two emulators (no root, loopback), and its figures checked:

  converged true, duplicates 0, loop_writes 0, state_flips 0,
  writes_per_change_per_target <= 1; with --faults none also
  latency_p99_ms < 1000 (webhooks on).

With --faults all concord is killed with SIGKILL half way and restarted.
Usage: saas_demo_check.py CONCORD SECONDS FAULTS [SYSTEMS]
(SYSTEMS: servicenow,sentinel, or servicenow,sentinel,jira with Jira
Cloud's emulator as the third system.)
"""
import json
import subprocess
import sys

concord, seconds, faults = sys.argv[1], sys.argv[2], sys.argv[3]
systems = sys.argv[4] if len(sys.argv) > 4 else "servicenow,sentinel"
p = subprocess.run([concord, "demo", "--systems", systems, "--seconds", seconds,
                    "--faults", faults, "--json"], capture_output=True, text=True, timeout=900)
line = (p.stdout.strip().splitlines() or [""])[-1]
try:
    r = json.loads(line)
except ValueError:
    print(p.stdout[-3000:], p.stderr[-3000:])
    sys.exit("concord demo printed no JSON (exit %d)" % p.returncode)
print(json.dumps(r, indent=2))
bad = []
want = [("converged", r["converged"] is True), ("duplicates", r["duplicates"] == 0),
        ("loop_writes", r["loop_writes"] == 0), ("state_flips", r["state_flips"] == 0),
        ("writes_per_change_per_target", r["writes_per_change_per_target"] <= 1.0),
        ("changes", r["changes"] >= 10)]
if faults == "none":
    want.append(("latency_p99_ms", r["latency_p99_ms"] is not None and r["latency_p99_ms"] < 1000))
if faults == "all":
    want.append(("concord_starts", r["concord_starts"] == 2))  # the SIGKILL happened
for name, ok in want:
    print("%s %s = %s" % ("ok  " if ok else "FAIL", name, r.get(name)))
    if not ok:
        bad.append(name)
sys.exit(1 if bad else 0)
