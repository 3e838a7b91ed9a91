#!/usr/bin/python3
"""`make demo`, the story: one hub, five systems: ServiceNow, Microsoft
Sentinel and Jira Cloud (emulated, emulators/) with Request Tracker and
Redmine (real, from Debian's packages, already started by scripts/demo.sh,
their addresses in the environment from peers.env). The configuration is
examples/five-systems.yaml.

    story.py --concord BUILD/concord --dir WORKDIR

1. An incident raised in Sentinel reaches ServiceNow, RT, Redmine and Jira,
   once each.
2. Moved in Jira through two transitions (To Do, In Progress, In Review):
   each other system shows it in its own workflow (ServiceNow In Progress,
   Sentinel Active, RT open, Redmine In Progress).
3. Resolved in ServiceNow with a close code: Sentinel closes with the
   classification the code maps to; RT and Redmine resolve; Jira goes In
   Review -> Done with the resolution its Done screen requires, from the code.
4. Closed in ServiceNow: Sentinel, Closed already, is not written (its own
   history says so); Redmine closes; RT's resolved and Jira's Done stand for
   closed too.
5. A severity change and a comment in Sentinel reach ServiceNow and do not
   move its state.
6. A second incident, raised and resolved in Redmine (which has no close
   code): Jira's Done transition takes its resolution from the companion
   default, ServiceNow's resolve its close code and notes.
7. State flips, counted from the ServiceNow emulator's own history: 0.
Exits non-zero when a step does not happen within its time.
"""

import argparse
import base64
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import saas_sides as sides  # noqa: E402
from saas_sides import http  # noqa: E402


def say(text):
    print("\n\033[1m== %s\033[0m" % text, flush=True)


def wait_for(what, fn, seconds=90):
    """fn() until it returns something true; its value, or exit."""
    end = time.time() + seconds
    while time.time() < end:
        try:
            v = fn()
        except Exception:  # a passing failure of a remote: ask again
            v = None
        if v:
            return v
        time.sleep(0.5)
    sys.exit("demo: timed out waiting for %s" % what)


class RT:
    def __init__(self):
        self.url = os.environ["RT_REST2_URL"]
        self.h = {"Authorization": "token " + os.environ["RT_TOKEN"]}

    def find(self, title):
        q = urllib.parse.urlencode({"query": "Subject = '%s'" % title.replace("'", "\\'"),
                                    "fields": "Subject,Status,Priority"})
        st, doc, _ = http("GET", self.url + "/tickets?" + q, headers=self.h)
        return [(t["id"], t.get("Status"), t.get("Priority")) for t in (doc or {}).get("items", [])] \
            if st == 200 else []


class Redmine:
    def __init__(self):
        self.url = os.environ["REDMINE_URL"]
        self.project = os.environ["REDMINE_PROJECT"]
        self.h = {"X-Redmine-API-Key": os.environ["REDMINE_API_KEY"]}

    def find(self, title):
        q = urllib.parse.urlencode({"project_id": self.project, "status_id": "*",
                                    "subject": "~" + title, "limit": 100})
        st, doc, _ = http("GET", self.url + "/issues.json?" + q, headers=self.h)
        if st != 200:
            return []
        return [(i["id"], i["status"]["name"], i["priority"]["name"]) for i in doc["issues"]
                if i["subject"] == title]

    def _status_id(self, name):
        st, doc, _ = http("GET", self.url + "/issue_statuses.json", headers=self.h)
        return next(s["id"] for s in doc["issue_statuses"] if s["name"] == name)

    def person(self):
        """Headers of a person, carol: the peers' one account is concord's, so the admin
        key creates her (once), makes her a member of the project and acts as her
        (X-Redmine-Switch-User, Redmine's impersonation for admin keys)."""
        st, doc, _ = http("GET", self.url + "/users.json?name=carol", headers=self.h)
        users = [u for u in (doc or {}).get("users", []) if u.get("login") == "carol"]
        if users:
            uid = users[0]["id"]
        else:
            st, doc, _ = http("POST", self.url + "/users.json", {"user": {
                "login": "carol", "firstname": "Carol", "lastname": "Ops",
                "mail": "carol@example.com", "password": "carol-pass-1234"}}, headers=self.h)
            if st != 201:
                sys.exit("demo: Redmine refused the user carol: %s %s" % (st, doc))
            uid = doc["user"]["id"]
        st, doc, _ = http("GET", self.url + "/roles.json", headers=self.h)
        role = next((r["id"] for r in doc["roles"] if r["name"] in ("Developer", "Manager")),
                    doc["roles"][0]["id"])
        http("POST", self.url + "/projects/%s/memberships.json" % self.project,
             {"membership": {"user_id": uid, "role_ids": [role]}}, headers=self.h)  # 422: a member
        return dict(self.h, **{"X-Redmine-Switch-User": "carol"})

    def create(self, title):
        """carol's new issue."""
        st, doc, _ = http("POST", self.url + "/issues.json", {"issue": {
            "project_id": self.project, "subject": title}}, headers=self.person())
        if st != 201:
            sys.exit("demo: Redmine refused the issue: %s %s" % (st, doc))
        return doc["issue"]["id"]

    def resolve(self, iid):
        st, doc, _ = http("PUT", self.url + "/issues/%s.json" % iid, {"issue": {
            "status_id": self._status_id("Resolved")}}, headers=self.person())
        if st not in (200, 204):
            sys.exit("demo: Redmine refused the status: %s %s" % (st, doc))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--concord", required=True)
    ap.add_argument("--dir", required=True)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    # the peers' RT scrip posts its webhooks to 127.0.0.1:8484/webhook/rt
    port = int(os.environ.get("CONCORD_DEMO_PORT", "8484"))
    secret = secrets.token_hex(16)
    sn = sides.ServiceNow(args.dir, "http://127.0.0.1:%d/webhook/servicenow" % port, secret)
    st = sides.Sentinel(args.dir, "http://127.0.0.1:%d/webhook/sentinel" % port, secret)
    ji = sides.Jira(args.dir, "http://127.0.0.1:%d/webhook/jira" % port, secret)
    rt, rm = RT(), Redmine()
    concord = None
    try:
        say("starting the ServiceNow, Sentinel and Jira emulators (signed webhooks to concord)")
        sn.emu.start()
        st.emu.start()
        ji.emu.start()
        print("ServiceNow %s, Sentinel %s, Jira %s" % (sn.emu.url, st.emu.url, ji.emu.url))
        cfg = os.path.join(args.dir, "concord.yaml")
        with open(os.path.join(sides.ROOT, "examples", "five-systems.yaml")) as f:
            text = f.read()
        text = text.replace("store: sqlite:concord-five.db", "store: sqlite:%s/concord.db\n"
                            "listen: 127.0.0.1:%d" % (args.dir, port))
        with open(cfg, "w") as f:
            f.write(text)
        env = dict(os.environ, CONCORD_ADMIN_TOKEN=secrets.token_hex(16),
                   CONCORD_WEBHOOK_SECRET=secret, **sn.env(), **st.env(), **ji.env())
        say("concord check -c examples/five-systems.yaml, then concord serve")
        chk = subprocess.run([args.concord, "check", "-c", cfg], env=env, capture_output=True,
                             text=True)
        print((chk.stdout + chk.stderr).strip().splitlines()[0] if (chk.stdout + chk.stderr).strip() else "")
        if chk.returncode:
            sys.exit("demo: concord check failed:\n" + chk.stdout + chk.stderr)
        log = open(os.path.join(args.dir, "concord.log"), "w")
        concord = subprocess.Popen([args.concord, "serve", "-c", cfg], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        wait_for("concord's /health", lambda: http("GET", "http://127.0.0.1:%d/health" % port)[0] == 200, 30)

        stamp = time.strftime("%H%M%S")
        title = "Suspicious sign-in from a new country (%s)" % stamp
        say("1. raised in Sentinel: it reaches ServiceNow, RT, Redmine and Jira, once each")
        inc = st.raise_incident(title, "high")
        print("Sentinel incident %s: %s (High)" % (inc, title))

        def jira_ids(t):
            return [r for r, v in ji.records().items() if v["title"] == t]

        def everywhere():
            s = [r for r, v in sn.records().items() if v["title"] == title]
            t, m, j = rt.find(title), rm.find(title), jira_ids(title)
            return (s, t, m, j) if s and t and m and j else None
        s_ids, t_ids, m_ids, j_ids = wait_for("the copies", everywhere)
        time.sleep(3)  # a second copy would show by now
        s_ids = [r for r, v in sn.records().items() if v["title"] == title]
        t_ids, m_ids, j_ids = rt.find(title), rm.find(title), jira_ids(title)
        print("ServiceNow %d record(s), RT %d ticket(s), Redmine %d issue(s), Jira %d issue(s)" % (
            len(s_ids), len(t_ids), len(m_ids), len(j_ids)))
        if (len(s_ids), len(t_ids), len(m_ids), len(j_ids)) != (1, 1, 1, 1):
            sys.exit("demo: expected one copy in each system")
        sid, jid = s_ids[0], j_ids[0]

        say("2. moved in Jira through two transitions: each system shows it in its own workflow")
        ji.set_state(jid, "in_progress")
        ji.set_state(jid, "in_review")
        print("Jira: To Do -> In Progress -> In Review (a person's two transitions)")
        wait_for("ServiceNow In Progress", lambda: sn.records()[sid]["remote_state"] == "2")
        wait_for("Sentinel Active", lambda: st.records()[inc]["remote_state"] == "Active")
        wait_for("RT open", lambda: rt.find(title)[0][1] == "open")
        wait_for("Redmine In Progress", lambda: rm.find(title)[0][1] == "In Progress")
        print("ServiceNow 2 (In Progress), Sentinel Active, RT open, Redmine In Progress; "
              "Jira stays In Review: %s" % ji.records()[jid]["remote_state"])
        print("  ServiceNow priority %s (impact and urgency written, priority computed), RT priority %s, "
              "Redmine %s" % (sn.records()[sid]["severity"], t_ids[0][2], m_ids[0][2]))

        say("3. resolved in ServiceNow with a close code: Sentinel closes with the mapped classification, Jira goes Done")
        sn.set_state(sid, "resolved", "fixed", "Password reset, sessions revoked")
        rec = wait_for("Sentinel Closed", lambda: (lambda r: r if r["remote_state"] == "Closed" else None)(
            st.records()[inc]))
        p = http("GET", st._u(inc) + "?api-version=" + st.api, headers=st._auth())[1]["properties"]
        print("Sentinel: %s, classification %s (%s), comment %r" % (
            p["status"], p.get("classification"), p.get("classificationReason"),
            p.get("classificationComment")))
        wait_for("RT resolved", lambda: rt.find(title)[0][1] == "resolved")
        wait_for("Redmine Resolved", lambda: rm.find(title)[0][1] == "Resolved")
        jrec = wait_for("Jira Done", lambda: (lambda r: r if r["remote_state"] == "Done" else None)(
            ji.records()[jid]))
        print("RT: resolved, Redmine: Resolved, Jira: Done (resolution %s, on its Done screen)"
              % sides.JI_RESOLUTION.get(jrec["resolution"], jrec["resolution"]))
        print("  Jira's path: " + " -> ".join(s for s, _, _ in ji.history(jid)))

        say("4. closed in ServiceNow: Sentinel (Closed already) is not written")

        def sentinel_writes():  # concord's writes the Sentinel emulator applied
            return (st.emu.stats().get("writes_by_user") or {}).get(st.concord_client[0], 0)
        writes_before = sentinel_writes()
        sn.set_state(sid, "closed", "fixed", "Password reset, sessions revoked")
        wait_for("Redmine Closed", lambda: rm.find(title)[0][1] == "Closed")
        time.sleep(6)
        writes_after = sentinel_writes()
        print("Redmine: Closed; RT: %s (resolved stands for closed); concord's writes to "
              "Sentinel: %d before, %d after" % (rt.find(title)[0][1], writes_before, writes_after))
        if writes_after != writes_before:
            sys.exit("demo: Sentinel was written although it was Closed already")

        say("5. severity and a comment in Sentinel: they reach ServiceNow, its state stays Closed")
        st.set_severity(inc, "moderate")
        st.comment(inc, "Sign-in was the user travelling; MFA confirmed.")
        wait_for("ServiceNow priority 3", lambda: sn.records()[sid]["severity"] == "moderate")
        wait_for("the work note", lambda: any("MFA confirmed" in b for b in sn.comments().get(sid, [])))
        print("ServiceNow: priority %s, state %s; the comment is a work note" % (
            sn.records()[sid]["severity"], sn.records()[sid]["remote_state"]))
        if sn.records()[sid]["remote_state"] != "7":
            sys.exit("demo: ServiceNow's state moved")

        say("6. raised and resolved in Redmine (no close code): Jira's Done screen takes the "
            "companion's resolution")
        title2 = "Printer queue stuck on floor 3 (%s)" % stamp
        rm_id = rm.create(title2)
        print("Redmine issue %s: %s" % (rm_id, title2))
        j2 = wait_for("the Jira copy", lambda: (jira_ids(title2) or [None])[0])
        s2 = wait_for("the ServiceNow copy", lambda: next(
            (r for r, v in sn.records().items() if v["title"] == title2), None))
        rm.resolve(rm_id)
        j2rec = wait_for("Jira Done", lambda: (lambda r: r if r["remote_state"] == "Done" else None)(
            ji.records()[j2]))
        s2rec = wait_for("ServiceNow Resolved", lambda: (lambda r: r if r["remote_state"] == "6"
                                                         else None)(sn.records()[s2]))
        print("Jira: Done, resolution %s (the companion default); ServiceNow: Resolved, close "
              "code %s" % (sides.JI_RESOLUTION.get(j2rec["resolution"], j2rec["resolution"]),
                           sides.SN_CLOSE_CODE.get(s2rec["resolution"], s2rec["resolution"])))

        say("7. state flips, from the ServiceNow emulator's own history")
        hist = sn.history(sid)
        print(" -> ".join("%s (%s)" % (s, u) for s, u, _ in hist))
        back = 0
        seen = []
        for s, u, _ in hist:
            if seen and s != seen[-1] and s in seen:
                back += 1
            if not seen or s != seen[-1]:
                seen.append(s)
        print("state flips: %d" % back)
        if back:
            sys.exit("demo: a state flipped")
        say("what concord did (its log)")
        with open(os.path.join(args.dir, "concord.log")) as f:
            lines = [ln.rstrip() for ln in f if any(w in ln for w in (
                "created-remote", "written", "comment-mirrored", "WARN", "ERROR"))]
        print("\n".join(lines[-20:]))
    finally:
        if concord and concord.poll() is None:
            concord.terminate()
            concord.wait(15)
        sn.emu.stop()
        st.emu.stop()
        ji.emu.stop()


if __name__ == "__main__":
    main()
