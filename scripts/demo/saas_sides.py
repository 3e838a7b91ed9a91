"""The demo's view of the emulated SaaS systems (ServiceNow, Microsoft
Sentinel, Jira Cloud): starting an emulator, what a person does in it (raise, move the
state, change the severity, comment, resolve or close with its companion
fields), and reading back records, comments and the emulator's own history.

Used by scripts/demo/saas_demo.py (`concord demo`, `make demo`) and the
integration tests. People act through each system's public API as their own
account, never as concord's, so each emulator's history tells people's
changes from concord's. Python 3 standard library only.
"""

import base64
import json
import os
import random
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# Jira's document format as the Jira emulator writes and reads it (a test tool of the tree)
sys.path.insert(0, os.path.join(ROOT, "emulators", "jira"))
import adf as jira_adf  # noqa: E402
PY = "/usr/bin/python3"

# canonical values the demo's configuration uses (examples/servicenow-sentinel.yaml)
STATES = ("new", "in_progress", "on_hold", "in_review", "resolved", "closed", "canceled")
SEVERITIES = ("critical", "high", "moderate", "low")
RESOLUTIONS = ("fixed", "false_alarm", "undetermined")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class HttpError(Exception):
    def __init__(self, status, body):
        super().__init__("HTTP %s: %s" % (status, body[:300]))
        self.status = status
        self.body = body


def http(method, url, body=None, headers=None, timeout=10, form=False):
    """One request; returns (status, parsed JSON or text, headers)."""
    data = None
    h = dict(headers or {})
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read().decode()
            st, hd = r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        raw = e.read().decode(errors="replace")
        st, hd = e.code, dict(e.headers)
    try:
        doc = json.loads(raw) if raw else None
    except ValueError:
        doc = raw
    return st, doc, hd


def retrying(fn, what, tries=40, pause=0.25):
    """A person retries what the system refused for a passing reason (429,
    5xx, a timeout): they did it once it succeeds."""
    last = None
    for _ in range(tries):
        try:
            return fn()
        except HttpError as e:
            last = e
            if e.status not in (0, 408, 409, 429) and e.status < 500:
                raise
        except (OSError, socket.timeout) as e:
            last = e
        time.sleep(pause)
    raise RuntimeError("%s: gave up after %d tries: %s" % (what, tries, last))


def retrying_once(fn, landed, what, tries=40, pause=0.25):
    """A person retries a write that is not idempotent (a create, a note)
    only after checking it did not land: an answer lost after the write
    (a timeout) must not make them do it twice. landed() returns the
    result when it did, else None; a failure of that check is retried,
    never taken as "not landed"."""
    sent = []

    def attempt():
        got = landed() if sent else None
        if got is not None:
            return got
        sent.append(True)
        return fn()
    return retrying(attempt, what, tries, pause)


class Emulator:
    """One emulator process on a loopback port, its state in dirpath."""

    def __init__(self, script, dirpath, name, args):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = open(os.path.join(dirpath, name + ".log"), "w")
        self.args = [PY, os.path.join(ROOT, "emulators", script, "server.py"), "--port",
                     str(self.port), "--db", os.path.join(dirpath, name + ".db")] + args
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):
            try:
                st, _, _ = http("GET", self.url + "/emulator/faults", timeout=1)
                if st == 200:
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("emulator %s exited: see %s" % (self.args[1], self.log.name))
            time.sleep(0.05)
        raise RuntimeError("emulator %s did not start" % self.args[1])

    def faults(self, spec):
        st, doc, _ = http("POST", self.url + "/emulator/faults", spec)
        if st != 200:
            raise RuntimeError("faults %s: %s" % (spec, doc))
        return doc

    def stats(self):
        return http("GET", self.url + "/emulator/stats")[1]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


# ---- ServiceNow -----------------------------------------------------------

SN_STATE = {"new": "1", "in_progress": "2", "on_hold": "3", "resolved": "6", "closed": "7",
            "canceled": "8"}
SN_STATE_BACK = {v: k for k, v in SN_STATE.items()}
SN_PRIORITY = {"critical": "1", "high": "2", "moderate": "3", "low": "4"}
# impact/urgency a person picks for a priority (the instance computes priority)
SN_IMPACT_URGENCY = {"1": ("1", "1"), "2": ("1", "2"), "3": ("2", "2"), "4": ("2", "3")}
SN_CLOSE_CODE = {"fixed": "Solved (Permanently)", "false_alarm": "Not Solved (Not Reproducible)",
                 "undetermined": "Closed/Resolved by Caller"}
SN_CLOSE_CODE_BACK = {v: k for k, v in SN_CLOSE_CODE.items()}


class ServiceNow:
    """People at a ServiceNow instance (emulated)."""

    name = "servicenow"
    person = "alice"
    concord_user = "concord"

    def __init__(self, dirpath, webhook_url=None, webhook_secret=None, rate_limit=0):
        args = ["--user", "%s:alice-pw" % self.person, "--user", "%s:concord-pw" % self.concord_user]
        if webhook_url:
            args += ["--webhook", webhook_url, "--webhook-secret", webhook_secret]
        if rate_limit:
            args += ["--rate-limit", str(rate_limit)]
        self.emu = Emulator("servicenow", dirpath, "servicenow", args)
        auth = base64.b64encode(b"alice:alice-pw").decode()
        self.h = {"Authorization": "Basic " + auth, "Accept": "application/json"}

    def env(self):
        """The environment examples/servicenow-sentinel.yaml reads."""
        return {"SN_URL": self.emu.url + "/", "SN_USER": self.concord_user,
                "SN_PASSWORD": "concord-pw"}

    def _t(self, sys_id=""):
        return self.emu.url + "/api/now/table/incident" + ("/" + sys_id if sys_id else "")

    def _call(self, method, url, body=None):
        st, doc, _ = http(method, url, body, self.h)
        if st >= 300:
            raise HttpError(st, json.dumps(doc) if not isinstance(doc, str) else doc)
        return doc

    def raise_incident(self, title, severity):
        imp, urg = SN_IMPACT_URGENCY[SN_PRIORITY[severity]]
        body = {"short_description": title, "impact": imp, "urgency": urg, "state": "1"}

        def landed():
            q = urllib.parse.urlencode({"sysparm_query": "short_description=" + title,
                                        "sysparm_fields": "sys_id"})
            rows = self._call("GET", self._t() + "?" + q)["result"]
            return {"result": rows[0]} if rows else None
        doc = retrying_once(lambda: self._call("POST", self._t(), body), landed,
                            "raise in ServiceNow")
        return doc["result"]["sys_id"]

    def set_state(self, rid, state, resolution=None, notes=None):
        body = {"state": SN_STATE[state]}
        if state in ("resolved", "closed"):
            body["close_code"] = SN_CLOSE_CODE[resolution or "fixed"]
            body["close_notes"] = notes or "Fixed by the on-call engineer"
        retrying(lambda: self._call("PATCH", self._t(rid), body), "state in ServiceNow")

    def set_severity(self, rid, severity):
        imp, urg = SN_IMPACT_URGENCY[SN_PRIORITY[severity]]
        retrying(lambda: self._call("PATCH", self._t(rid), {"impact": imp, "urgency": urg}),
                 "priority in ServiceNow")

    def set_title(self, rid, title):
        retrying(lambda: self._call("PATCH", self._t(rid), {"short_description": title}),
                 "title in ServiceNow")

    def comment(self, rid, text):
        def landed():
            q = urllib.parse.urlencode({"sysparm_query": "element_id=%s^value=%s" % (rid, text),
                                        "sysparm_fields": "sys_id"})
            rows = self._call("GET", self.emu.url + "/api/now/table/sys_journal_field?" + q)
            return True if rows["result"] else None
        retrying_once(lambda: self._call("PATCH", self._t(rid), {"work_notes": text}), landed,
                      "work note in ServiceNow")

    def records(self):
        """Every incident: {sys_id: canonical view}."""
        out = {}
        offset = 0
        fields = "sys_id,short_description,state,priority,close_code,close_notes,correlation_id"
        while True:
            url = self._t() + "?" + urllib.parse.urlencode({
                "sysparm_fields": fields, "sysparm_limit": 1000, "sysparm_offset": offset,
                "sysparm_query": "ORDERBYsys_created_on"})
            doc = retrying(lambda: self._call("GET", url), "list ServiceNow")
            rows = doc["result"]
            for r in rows:
                out[r["sys_id"]] = {
                    "title": r["short_description"],
                    "state": SN_STATE_BACK.get(r["state"], "?" + r["state"]),
                    "severity": {v: k for k, v in SN_PRIORITY.items()}.get(r["priority"], "?"),
                    "resolution": SN_CLOSE_CODE_BACK.get(r.get("close_code") or "", ""),
                    "remote_state": r["state"]}
            if len(rows) < 1000:
                return out
            offset += 1000

    def comments(self):
        """{sys_id: [comment bodies]} from sys_journal_field."""
        out = {}
        offset = 0
        while True:
            url = self.emu.url + "/api/now/table/sys_journal_field?" + urllib.parse.urlencode({
                "sysparm_fields": "element_id,value,element", "sysparm_limit": 1000,
                "sysparm_offset": offset, "sysparm_query": "name=incident^ORDERBYsys_created_on"})
            doc = retrying(lambda: self._call("GET", url), "journal of ServiceNow")
            for r in doc["result"]:
                out.setdefault(r["element_id"], []).append(r["value"])
            if len(doc["result"]) < 1000:
                return out
            offset += 1000

    def history(self, rid):
        """[(state canonical, author, at)] from the emulator's own record."""
        st, doc, _ = http("GET", self.emu.url + "/emulator/history?sys_id=" + rid)
        if st != 200:
            return []
        return [(SN_STATE_BACK.get(h["state"], h["state"]), h["user"], h["at"])
                for h in doc["history"]]


# ---- Microsoft Sentinel ---------------------------------------------------

SUB, RG, WS, TENANT = "00000000-0000-0000-0000-00000000c0de", "soc", "sentinel-ws", "contoso"
ST_STATUS = {"new": "New", "in_progress": "Active", "on_hold": "Active", "resolved": "Closed",
             "closed": "Closed", "canceled": "Closed"}
ST_STATUS_BACK = {"New": "new", "Active": "in_progress", "Closed": "resolved"}
ST_SEVERITY = {"critical": "High", "high": "High", "moderate": "Medium", "low": "Low"}
ST_SEVERITY_BACK = {"High": "high", "Medium": "moderate", "Low": "low",
                    "Informational": "informational"}
ST_CLASS = {"fixed": ("TruePositive", "SuspiciousActivity"),
            "false_alarm": ("FalsePositive", "IncorrectAlertLogic"),
            "undetermined": ("Undetermined", None)}
ST_CLASS_BACK = {"TruePositive": "fixed", "FalsePositive": "false_alarm", "Undetermined": "undetermined"}


class Sentinel:
    """People at a Microsoft Sentinel workspace (emulated)."""

    name = "sentinel"
    person_client = ("analyst-app", "analyst-secret")
    concord_client = ("concord-app", "concord-secret")
    api = "2025-12-01"

    def __init__(self, dirpath, webhook_url=None, webhook_secret=None, rate_limit=0):
        args = ["--tenant", TENANT, "--client", "%s:%s" % self.person_client,
                "--client", "%s:%s" % self.concord_client]
        if webhook_url:
            args += ["--webhook", webhook_url, "--webhook-secret", webhook_secret]
        if rate_limit:
            args += ["--rate-limit", str(rate_limit)]
        self.emu = Emulator("sentinel", dirpath, "sentinel", args)
        self.token = None
        self.token_at = 0

    def env(self):
        """The environment examples/servicenow-sentinel.yaml reads."""
        return {"SENTINEL_MANAGEMENT_URL": self.emu.url, "SENTINEL_LOGIN_URL": self.emu.url,
                "SENTINEL_SUBSCRIPTION": SUB, "SENTINEL_RESOURCE_GROUP": RG,
                "SENTINEL_WORKSPACE": WS, "SENTINEL_TENANT": TENANT,
                "SENTINEL_CLIENT_ID": self.concord_client[0],
                "SENTINEL_CLIENT_SECRET": self.concord_client[1]}

    def _auth(self):
        if not self.token or time.time() - self.token_at > 600:
            def get():
                st, doc, _ = http("POST", "%s/%s/oauth2/v2.0/token" % (self.emu.url, TENANT), {
                    "grant_type": "client_credentials", "client_id": self.person_client[0],
                    "client_secret": self.person_client[1],
                    "scope": "https://management.azure.com/.default"}, form=True)
                if st != 200:
                    raise HttpError(st, str(doc))
                return doc["access_token"]
            self.token = retrying(get, "token from the identity platform")
            self.token_at = time.time()
        return {"Authorization": "Bearer " + self.token}

    def _u(self, name="", tail=""):
        base = ("%s/subscriptions/%s/resourceGroups/%s/providers/Microsoft.OperationalInsights/"
                "workspaces/%s/providers/Microsoft.SecurityInsights/incidents" % (
                    self.emu.url, SUB, RG, WS))
        return base + ("/" + name if name else "") + tail

    def _call(self, method, url, body=None):
        sep = "&" if "?" in url else "?"
        st, doc, _ = http(method, url + sep + "api-version=" + self.api, body, self._auth())
        if st >= 300:
            raise HttpError(st, json.dumps(doc) if not isinstance(doc, str) else doc)
        return doc

    def _edit(self, name, props):
        """Read, change, write back with the etag (a 409 means read again)."""
        def once():
            cur = self._call("GET", self._u(name))
            p = dict(cur["properties"])
            for k in list(p):
                if k not in ("title", "description", "severity", "status", "classification",
                             "classificationReason", "classificationComment", "owner", "labels"):
                    del p[k]
            p.update(props)
            for k, v in list(p.items()):
                if v is None:
                    del p[k]
            return self._call("PUT", self._u(name), {"etag": cur["etag"], "properties": p})
        retrying(once, "edit in Sentinel")

    def raise_incident(self, title, severity):
        name = str(uuid.uuid4())
        body = {"properties": {"title": title, "severity": ST_SEVERITY[severity], "status": "New"}}
        retrying(lambda: self._call("PUT", self._u(name), body), "raise in Sentinel")
        return name

    def set_state(self, rid, state, resolution=None, notes=None):
        props = {"status": ST_STATUS[state]}
        if props["status"] == "Closed":
            cls, reason = ST_CLASS[resolution or "fixed"]
            props.update(classification=cls, classificationReason=reason,
                         classificationComment=notes or "Closed by the SOC analyst")
        self._edit(rid, props)

    def set_severity(self, rid, severity):
        self._edit(rid, {"severity": ST_SEVERITY[severity]})

    def set_title(self, rid, title):
        self._edit(rid, {"title": title})

    def comment(self, rid, text):
        cid = str(uuid.uuid4())
        retrying(lambda: self._call("PUT", self._u(rid, "/comments/" + cid),
                                    {"properties": {"message": text}}), "comment in Sentinel")

    def records(self):
        out = {}
        url = self._u() + "?$top=500"
        while url:
            doc = retrying(lambda: self._call("GET", url), "list Sentinel")
            for r in doc["value"]:
                p = r["properties"]
                out[r["name"]] = {
                    "title": p["title"],
                    "state": ST_STATUS_BACK.get(p["status"], "?"),
                    "severity": ST_SEVERITY_BACK.get(p["severity"], "?"),
                    "resolution": ST_CLASS_BACK.get(p.get("classification") or "", ""),
                    "remote_state": p["status"]}
            nxt = doc.get("nextLink")
            url = nxt.split("&api-version=")[0].replace("?api-version=" + self.api + "&", "?") \
                if nxt else None
        return out

    def comments(self):
        out = {}
        for name in self.records():
            url = self._u(name, "/comments")
            msgs = []
            while url:
                doc = retrying(lambda: self._call("GET", url), "comments of Sentinel")
                msgs += [c["properties"]["message"] for c in doc["value"]]
                nxt = doc.get("nextLink")
                url = nxt.split("&api-version=")[0] if nxt else None
            out[name] = msgs
        return out

    def history(self, rid):
        st, doc, _ = http("GET", self.emu.url + "/emulator/history?incident=" + rid)
        if st != 200:
            return []
        return [(ST_STATUS_BACK.get(h["status"], h["status"]), h["author"], h["at"])
                for h in doc["history"]]


# ---- Jira Cloud ----------------------------------------------------------

JI_PROJECT = "OPS"
# canonical state -> the status a person moves the issue to (lossy: the sets
# of examples/servicenow-sentinel-jira.yaml)
JI_STATUS = {"new": "To Do", "in_progress": "In Progress", "on_hold": "In Progress",
             "in_review": "In Review", "resolved": "Done", "closed": "Done", "canceled": "Done"}
JI_STATUS_BACK = {"To Do": "new", "In Progress": "in_progress", "In Review": "in_review",
                  "Done": "resolved"}
JI_PRIORITY = {"critical": "Highest", "high": "High", "moderate": "Medium", "low": "Low"}
JI_PRIORITY_BACK = {"Highest": "critical", "High": "high", "Medium": "moderate", "Low": "low",
                    "Lowest": "informational"}
JI_RESOLUTION = {"fixed": "Done", "false_alarm": "Won't Do", "undetermined": "Cannot Reproduce"}
JI_RESOLUTION_BACK = {v: k for k, v in JI_RESOLUTION.items()}
# the emulator's workflow as its people know it: status -> {next status: transition id}
JI_FLOW = {"To Do": {"In Progress": "11"}, "In Progress": {"To Do": "21", "In Review": "31"},
           "In Review": {"In Progress": "41", "Done": "51"}, "Done": {"To Do": "61"}}


def ji_account_id(email):
    """The emulator's account id of an email (emulators/jira/server.py)."""
    return "712020:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "mailto:" + email.lower()))


def ji_path(frm, to):
    """The statuses from frm to to along JI_FLOW (breadth first), frm excluded."""
    prev, queue = {frm: None}, [frm]
    while queue:
        cur = queue.pop(0)
        if cur == to:
            break
        for nxt in JI_FLOW.get(cur, {}):
            if nxt not in prev:
                prev[nxt] = cur
                queue.append(nxt)
    if to not in prev:
        return []
    path, cur = [], to
    while cur != frm:
        path.append(cur)
        cur = prev[cur]
    return path[::-1]


class Jira:
    """People at a Jira Cloud site (emulated), in project OPS."""

    name = "jira"
    person = "bob@example.com"
    concord_email = "concord@example.com"
    concord_user = ji_account_id("concord@example.com")

    def __init__(self, dirpath, webhook_url=None, webhook_secret=None, rate_limit=0):
        args = ["--project", JI_PROJECT + ":Operations", "--user", "%s:bob-token" % self.person,
                "--user", "%s:concord-token" % self.concord_email, "--time-zone", "UTC"]
        if webhook_url:
            args += ["--webhook", webhook_url, "--webhook-secret", webhook_secret]
        if rate_limit:
            args += ["--burst-limit", str(rate_limit)]
        self.emu = Emulator("jira", dirpath, "jira", args)
        auth = base64.b64encode(("%s:bob-token" % self.person).encode()).decode()
        self.h = {"Authorization": "Basic " + auth, "Accept": "application/json"}

    def env(self):
        """The environment examples/servicenow-sentinel-jira.yaml reads."""
        return {"JIRA_URL": self.emu.url, "JIRA_EMAIL": self.concord_email,
                "JIRA_API_TOKEN": "concord-token", "JIRA_PROJECT": JI_PROJECT}

    def _u(self, tail):
        return self.emu.url + "/rest/api/3" + tail

    def _call(self, method, url, body=None):
        st, doc, _ = http(method, url, body, self.h)
        if st >= 300:
            raise HttpError(st, json.dumps(doc) if not isinstance(doc, str) else doc)
        return doc

    def _search(self, fields):
        out, token = [], None
        while True:
            body = {"jql": "project = %s ORDER BY key ASC" % JI_PROJECT, "maxResults": 100,
                    "fields": fields}
            if token:
                body["nextPageToken"] = token
            doc = retrying(lambda: self._call("POST", self._u("/search/jql"), body), "search Jira")
            out += doc["issues"]
            token = doc.get("nextPageToken")
            if not token or doc.get("isLast"):
                return out

    def raise_incident(self, title, severity):
        body = {"fields": {"project": {"key": JI_PROJECT}, "issuetype": {"name": "Task"},
                           "summary": title, "priority": {"name": JI_PRIORITY[severity]}}}

        def landed():
            for i in self._search(["summary"]):
                if i["fields"]["summary"] == title:
                    return {"id": i["id"]}
            return None
        return retrying_once(lambda: self._call("POST", self._u("/issue"), body), landed,
                             "raise in Jira")["id"]

    def _status(self, rid):
        doc = retrying(lambda: self._call("GET", self._u("/issue/%s?fields=status" % rid)),
                       "read in Jira")
        return doc["fields"]["status"]["name"]

    def set_state(self, rid, state, resolution=None, notes=None):
        """Through the workflow, one transition after another, as a person clicks."""
        target = JI_STATUS[state]
        for _ in range(6):
            cur = self._status(rid)
            if cur == target:
                return
            path = ji_path(cur, target)
            if not path:
                raise HttpError(400, "no path from %s to %s" % (cur, target))
            body = {"transition": {"id": JI_FLOW[cur][path[0]]}}
            if path[0] == "Done":
                body["fields"] = {"resolution": {"name": JI_RESOLUTION[resolution or "fixed"]}}
            try:
                self._call("POST", self._u("/issue/%s/transitions" % rid), body)
            except (HttpError, OSError):
                time.sleep(0.25)  # a fault, or it moved meanwhile: look again
        raise HttpError(409, "the issue did not reach %s" % target)

    def set_severity(self, rid, severity):
        retrying(lambda: self._call("PUT", self._u("/issue/%s" % rid),
                                    {"fields": {"priority": {"name": JI_PRIORITY[severity]}}}),
                 "priority in Jira")

    def set_title(self, rid, title):
        retrying(lambda: self._call("PUT", self._u("/issue/%s" % rid),
                                    {"fields": {"summary": title}}), "summary in Jira")

    def comment(self, rid, text):
        def landed():
            doc = self._call("GET", self._u("/issue/%s/comment?maxResults=100" % rid))
            return True if any(jira_adf.to_text(c["body"]) == text for c in doc["comments"]) else None
        retrying_once(lambda: self._call("POST", self._u("/issue/%s/comment" % rid),
                                         {"body": jira_adf.from_text(text)}), landed, "comment in Jira")

    def records(self):
        out = {}
        for i in self._search(["summary", "status", "priority", "resolution"]):
            f = i["fields"]
            st = f["status"]["name"]
            out[i["id"]] = {
                "title": f["summary"], "state": JI_STATUS_BACK.get(st, "?" + st),
                "severity": JI_PRIORITY_BACK.get((f.get("priority") or {}).get("name"), "?"),
                "resolution": JI_RESOLUTION_BACK.get((f.get("resolution") or {}).get("name"), ""),
                "remote_state": st}
        return out

    def comments(self):
        out = {}
        for rid in self.records():
            doc = retrying(lambda: self._call("GET", self._u(
                "/issue/%s/comment?maxResults=100" % rid)), "comments of Jira")
            out[rid] = [jira_adf.to_text(c["body"]) for c in doc["comments"]]
        return out

    def history(self, rid):
        st, doc, _ = http("GET", self.emu.url + "/emulator/history?id=" + rid)
        if st != 200:
            return []
        return [(JI_STATUS_BACK.get(h["status_name"], h["status_name"]), h.get("author"), h["at"])
                for h in doc["history"]]


SIDES = {"servicenow": ServiceNow, "sentinel": Sentinel, "jira": Jira}


def pick(rng, seq):
    return seq[rng.randrange(len(seq))]
