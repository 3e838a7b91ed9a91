"""concord serve between two Sentinel workspaces of the Sentinel emulator:
the whole sync with the Sentinel connector, no root.

Starts the emulator (tests/emulators/sentinel_harness.py) and `concord
serve` (1 s polling) on two workspaces, ws-a and ws-b, then as people
would: raises two incidents in ws-a (their copies appear in ws-b, created
under names derived from the correlation ids), edits a title and a
severity in ws-b (they reach ws-a), writes a comment in ws-a (it reaches
ws-b with the incident's next change), closes an incident in ws-a with a
classification (ws-b's copy is closed with it, in one write). Each step's
time from the edit to the other side is printed; every step must arrive
within 30 s. Both processes are stopped by their own process ids.

With SENTINEL_LIVE_WEBHOOKS=1 the emulator posts the playbook's body of
every change in ws-a to concord's /webhook/ws-a and ws-a is polled only
once an hour (its incidents are seeded before concord starts, as seeding
sends no webhook): ws-a's changes then arrive by webhook alone.

Usage: sentinel_live_sync.py CONCORD
Exit 0 when every step arrived, 1 otherwise.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "emulators"))
import sentinel_harness as H  # noqa: E402

SUB, RG = "00000000-1111-2222-3333-444444444444", "rg-sync"


def ws_path(ws):
    return ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.OperationalInsights/"
            "workspaces/%s/providers/Microsoft.SecurityInsights/incidents" % (SUB, RG, ws))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


WEBHOOKS = os.environ.get("SENTINEL_LIVE_WEBHOOKS") == "1"
WEBHOOK_SECRET = "sentsync-webhook-key"  # the playbook signs its bodies with it


def config(emu, port, folder):
    systems = []
    for name in ("ws-a", "ws-b"):
        interval = "1h" if WEBHOOKS and name == "ws-a" else "1s"
        systems.append("""  - name: %(name)s
    kind: sentinel
    url: %(url)s
    token: {env: SENTINEL_SECRET}
    webhook_secret: {env: SENTINEL_WEBHOOK_SECRET}
    poll_interval: %(interval)s
    poll_overlap: 5s
    search_lag: 1s
    integration_user: %(client)s
    settings: {subscription: %(sub)s, resource_group: %(rg)s, workspace: %(name)s,
               tenant: %(tenant)s, client_id: %(client)s, login_url: "%(url)s",
               scope: "https://management.azure.com/.default"}
    fields:
      title: {remote: title}
      state: {remote: status}
      priority: {remote: severity}
      classification: {remote: classification}
      reason: {remote: classificationReason}
""" % {"name": name, "url": emu.base, "client": H.CLIENT, "sub": SUB, "rg": RG,
       "tenant": H.TENANT, "interval": interval})
    text = """store: sqlite:%s/concord.db
listen: 127.0.0.1:%d
create_settle: 1s
fields:
  - {name: title, type: string}
  - {name: state, type: enum}
  - {name: priority, type: enum}
  - {name: classification, type: enum}
  - {name: reason, type: enum}
systems:
%s""" % (folder, port, "".join(systems))
    path = os.path.join(folder, "concord.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    concord = sys.argv[1]
    folder = tempfile.mkdtemp(prefix="sentsync-")
    port = free_port()
    emu = H.Emulator(extra=["--webhook", "http://127.0.0.1:%d/webhook/ws-a" % port,
                            "--webhook-secret", WEBHOOK_SECRET] if WEBHOOKS else [])
    serve = None
    failures = []
    try:
        cfg = config(emu, port, folder)
        seed = {"count": 2, "subscription": SUB, "resourceGroup": RG, "workspace": "ws-a",
                "spread_seconds": 1}
        t = time.time()
        if WEBHOOKS:
            emu.control("POST", "seed", seed)
        log = open(os.path.join(folder, "serve.log"), "w")
        serve = subprocess.Popen([concord, "serve", "-c", cfg], stdout=log, stderr=log,
                                 env=dict(os.environ, SENTINEL_SECRET=H.SECRET,
                                          SENTINEL_WEBHOOK_SECRET=WEBHOOK_SECRET))
        token = emu.token()
        auth = {"Authorization": "Bearer " + token}

        def incidents(ws):
            st, _, doc = emu.call("GET", ws_path(ws) + "?api-version=2025-12-01&$top=1000",
                                  headers=auth)
            assert st == 200, (st, doc)
            return doc["value"]

        def wait(what, cond, since):
            deadline = since + 30
            while time.time() < deadline:
                got = cond()
                if got:
                    print("%-48s %5.1f s" % (what, time.time() - since))
                    return got
                time.sleep(0.2)
            failures.append(what)
            print("%-48s not within 30 s" % what)
            return None

        # two incidents raised in ws-a
        if not WEBHOOKS:
            emu.control("POST", "seed", seed)
        copies = wait("ws-a's two incidents created in ws-b",
                      lambda: len(incidents("ws-b")) == 2 and incidents("ws-b"), t)
        if not copies:
            return 1
        labels = sorted(l["labelName"] for i in copies for l in i["properties"]["labels"])
        if not all(l.startswith("concord-") for l in labels) or len(labels) != 2:
            failures.append("the copies carry their correlation label: %s" % labels)
        b0 = copies[0]
        corr = b0["properties"]["labels"][0]["labelName"]

        def a_of_b0():
            for i in incidents("ws-a"):
                if i["properties"]["title"] == b0["properties"]["title"]:
                    return i
            return None
        a0 = a_of_b0()

        # a person edits ws-b's copy
        t = time.time()
        emu.control("POST", "edit", {"incident": b0["name"], "author": "alice",
                                     "properties": {"title": "Edited in ws-b",
                                                    "severity": "Low"}})
        wait("title and severity edited in ws-b reach ws-a",
             lambda: any(i["name"] == a0["name"] and i["properties"]["title"] ==
                         "Edited in ws-b" and i["properties"]["severity"] == "Low"
                         for i in incidents("ws-a")), t)

        # a comment in ws-a, then the incident's next change
        t = time.time()
        st, _, _ = emu.call("PUT", ws_path("ws-a") + "/%s/comments/%s?api-version=2025-12-01" %
                            (a0["name"], "0c0c0c0c-1111-2222-3333-444444444444"),
                            {"properties": {"message": "seen by a person in ws-a"}},
                            headers=auth)
        assert st in (200, 201), st
        emu.control("POST", "edit", {"incident": a0["name"], "author": "bob",
                                     "properties": {"status": "Active"}})

        def b_comments():
            st, _, doc = emu.call("GET", ws_path("ws-b") + "/%s/comments?api-version=2025-12-01"
                                  % b0["name"], headers=auth)
            return st == 200 and any("seen by a person in ws-a" in c["properties"]["message"]
                                     for c in doc["value"])
        wait("a comment in ws-a reaches ws-b", b_comments, t)

        # closed in ws-a with its classification
        t = time.time()
        emu.control("POST", "edit", {"incident": a0["name"], "author": "bob",
                                     "properties": {"status": "Closed",
                                                    "classification": "FalsePositive",
                                                    "classificationReason": "InaccurateData"}})
        wait("closed with its classification in ws-a, in ws-b",
             lambda: any(i["name"] == b0["name"] and i["properties"]["status"] == "Closed" and
                         i["properties"].get("classification") == "FalsePositive"
                         for i in incidents("ws-b")), t)
        hist = emu.control("GET", "history?incident=" + b0["name"])["history"]
        closes = [h for h in hist if h["status"] == "Closed"]
        if len(closes) != 1:
            failures.append("ws-b's copy closed once: %s" % hist)
        n = len(incidents("ws-a")) + len(incidents("ws-b"))
        if n != 4:
            failures.append("four incidents in all, not %d" % n)
        print("correlation label of the first copy: %s" % corr)
    finally:
        if serve and serve.poll() is None:
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(15)
            except subprocess.TimeoutExpired:
                serve.kill()
                serve.wait()
        emu.close()
    for f in failures:
        print("FAIL", f)
    if failures:
        with open(os.path.join(folder, "serve.log")) as f:
            sys.stdout.write(f.read()[-4000:])
    else:
        import shutil
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
