"""concord serve between two projects of the Jira emulator: the whole sync
with the Jira connector, no root.

Starts the emulator (tests/emulators/jira_harness.py; projects EMU and
OPS, concord as ada@example.com, people as bob@example.com) and `concord
serve` (1 s polling) on both projects, then as people would: raises two
issues in EMU (their copies appear in OPS, labelled with their
correlation ids); edits a summary and a priority in OPS (they reach EMU);
comments in EMU (the comment reaches OPS as ADF); moves an OPS copy to
Done through its three transitions with a resolution (EMU's issue follows
the workflow's path, To Do -> In Progress -> In Review -> Done, with the
resolution on the Done screen); reopens it in EMU (OPS follows). Each
step's time is printed; every step must arrive within 30 s; the issues
are four in all, and the copy's status changes are those of its path
(no flip).

With JIRA_LIVE_CORRELATION_FIELD=customfield_10042 the OPS system keeps
correlation ids in that text custom field instead of labels: the copies
carry it there and no concord label, and their creates time out after
Jira applied them (the emulator closes the connection), so concord finds
each by the field (a CONTAINS search, kept only on an exact value) and
makes no second one.

Usage: jira_live_sync.py CONCORD
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
import jira_harness as H  # noqa: E402

PERSON = (H.EMAIL2, H.TOKEN2)
CORR_FIELD = os.environ.get("JIRA_LIVE_CORRELATION_FIELD", "")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config(emu, port, folder):
    systems = []
    for name, key in (("emu", "EMU"), ("ops", "OPS")):
        systems.append("""  - name: %(name)s
    kind: jira
    url: %(url)s
    token: {env: JIRA_TOKEN}
    poll_interval: 1s
    poll_overlap: 5s
    search_lag: 1s
    integration_user: %(email)s
    settings: {email: %(email)s, project: %(key)s%(cf)s}
    fields:
      title: {remote: summary}
      state:
        remote: status
        values:
          - {remote: "To Do", canonical: open}
          - {remote: "In Progress", canonical: active}
          - {remote: "In Review", canonical: review}
          - {remote: "Done", canonical: done, companions: {resolution: Done}}
      priority: {remote: priority}
      resolution: {remote: resolution}
""" % {"name": name, "url": emu.base, "email": H.EMAIL, "key": key,
       "cf": ", correlation_field: " + CORR_FIELD if CORR_FIELD and key == "OPS" else ""})
    text = """store: sqlite:%s/concord.db
listen: 127.0.0.1:%d
create_settle: 1s
fields:
  - {name: title, type: string}
  - {name: state, type: enum}
  - {name: priority, type: string}
  - {name: resolution, type: string}
systems:
%s""" % (folder, port, "".join(systems))
    path = os.path.join(folder, "concord.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    concord = sys.argv[1]
    folder = tempfile.mkdtemp(prefix="jirasync-")
    port = free_port()
    emu = H.Emulator()
    serve = None
    failures = []
    try:
        cfg = config(emu, port, folder)
        log = open(os.path.join(folder, "serve.log"), "w")
        serve = subprocess.Popen([concord, "serve", "-c", cfg], stdout=log, stderr=log,
                                 env=dict(os.environ, JIRA_TOKEN=H.TOKEN))

        def issues(project):
            st, _, doc = emu.call("POST", "/rest/api/3/search/jql",
                                  {"jql": "project = %s ORDER BY key ASC" % project,
                                   "maxResults": 100,
                                   "fields": ["summary", "status", "priority", "labels",
                                              "resolution", "comment"] +
                                   ([CORR_FIELD] if CORR_FIELD else [])})
            assert st == 200, (st, doc)
            return doc["issues"]

        def wait(what, cond, since):
            deadline = since + 30
            while time.time() < deadline:
                got = cond()
                if got:
                    print("%-56s %5.1f s" % (what, time.time() - since))
                    return got
                time.sleep(0.2)
            failures.append(what)
            print("%-56s not within 30 s" % what)
            return None

        # two issues raised in EMU by a person
        t = time.time()
        for title in ("Printer on fire", "VPN down for the night shift"):
            st, _, doc = emu.call("POST", "/rest/api/3/issue", {"fields": {
                "project": {"key": "EMU"}, "issuetype": {"name": "Task"}, "summary": title,
                "priority": {"name": "High"}}}, auth=PERSON)
            assert st == 201, (st, doc)
        if CORR_FIELD:
            # concord's writes are applied, their answers never come
            emu.control("POST", "faults", {"p_timeout_after_write": 1.0, "timeout_mode": "close"})
        copies = wait("EMU's two issues created in OPS",
                      lambda: len(issues("OPS")) == 2 and issues("OPS"), t)
        if not copies:
            return 1
        labels = [lb for i in copies for lb in i["fields"]["labels"]]
        if CORR_FIELD:
            # every create answered by a closed connection: found again by the field
            time.sleep(4)
            timeouts = emu.control("GET", "stats")["faults"].get("timeout_after_write", 0)
            emu.control("POST", "faults", {"p_timeout_after_write": 0.0})
            print("creates timed out after they were applied: %d" % timeouts)
            refs = [i["fields"].get(CORR_FIELD) or "" for i in copies]
            if labels or len(refs) != 2 or not all(r.startswith("concord-") for r in refs):
                failures.append("each copy carries its correlation id in %s and no label: %s, %s"
                                % (CORR_FIELD, refs, labels))
            if timeouts < 2 or len(issues("OPS")) != 2:
                failures.append("the creates timed out (%d) and made no second issue (%d in OPS)"
                                % (timeouts, len(issues("OPS"))))
        elif len(labels) != 2 or not all(lb.startswith("concord-") for lb in labels):
            failures.append("each copy carries its correlation label: %s" % labels)
        ops0 = [i for i in copies if i["fields"]["summary"] == "Printer on fire"][0]
        emu0 = [i for i in issues("EMU") if i["fields"]["summary"] == "Printer on fire"][0]

        def field(project, key, name):
            for i in issues(project):
                if i["key"] == key:
                    return i["fields"].get(name)
            return None

        # a person edits the copy in OPS
        t = time.time()
        emu.control("POST", "edit", {"key": ops0["key"], "author": H.EMAIL2,
                                     "fields": {"summary": "Printer on fire, floor 3",
                                                "priority": {"name": "Highest"}}})
        wait("summary and priority edited in OPS reach EMU",
             lambda: field("EMU", emu0["key"], "summary") == "Printer on fire, floor 3" and
             field("EMU", emu0["key"], "priority")["name"] == "Highest", t)

        # a comment in EMU
        t = time.time()
        emu.control("POST", "edit", {"key": emu0["key"], "author": H.EMAIL2,
                                     "comment": "Facilities called.\nExtinguisher used."})

        def ops_comment():
            st, _, doc = emu.call("GET", "/rest/api/3/issue/%s/comment" % ops0["id"])
            return st == 200 and any("Facilities called." in str(c["body"])
                                     for c in doc["comments"])
        wait("a comment in EMU reaches OPS (ADF)", ops_comment, t)

        # OPS's copy to Done through its three transitions, with a resolution
        t = time.time()
        for tid, extra in (("11", {}), ("31", {}),
                           ("51", {"transition_fields": {"resolution": {"name": "Won't Do"}}})):
            emu.control("POST", "edit", dict({"key": ops0["key"], "author": H.EMAIL2,
                                              "transition": {"id": tid}}, **extra))
        wait("Done in OPS (three transitions) reaches EMU along its path",
             lambda: (field("EMU", emu0["key"], "status") or {}).get("name") == "Done" and
             (field("EMU", emu0["key"], "resolution") or {}).get("name") == "Won't Do", t)

        # reopened in EMU
        t = time.time()
        emu.control("POST", "edit", {"key": emu0["key"], "author": H.EMAIL2,
                                     "transition": {"id": "61"}})
        wait("reopened in EMU reaches OPS",
             lambda: (field("OPS", ops0["key"], "status") or {}).get("name") == "To Do", t)
        time.sleep(3)  # a flip would show by now

        st, _, log_ = emu.call("GET", "/rest/api/3/issue/%s/changelog" % emu0["id"])
        moves = [it["toString"] for e in log_["values"] for it in e["items"]
                 if it["field"] == "status"]
        print("EMU's status changes: %s" % " -> ".join(moves))
        if moves != ["In Progress", "In Review", "Done", "To Do"]:
            failures.append("EMU's issue moved along its path once: %s" % moves)
        st, _, log_ = emu.call("GET", "/rest/api/3/issue/%s/changelog" % ops0["id"])
        moves = [it["toString"] for e in log_["values"] for it in e["items"]
                 if it["field"] == "status"]
        print("OPS's status changes: %s" % " -> ".join(moves))
        if moves != ["In Progress", "In Review", "Done", "To Do"]:
            failures.append("OPS's copy moved along its path once: %s" % moves)
        n = len(issues("EMU")) + len(issues("OPS"))
        if n != 4:
            failures.append("four issues in all, not %d" % n)
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
            sys.stdout.write(f.read()[-6000:])
    else:
        import shutil
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
