#!/usr/bin/python3
"""The ServiceNow emulator (emulators/servicenow/server.py) against the
documented requests and answers a connector relies on.

Each check names the source of the fact it checks in a comment beside it;
emulators/servicenow/README.md lists them. Starts emulators on free
loopback ports with temporary databases; every wait is bounded. unittest,
standard library only.

Usage: test_servicenow_emulator.py [unittest options]
"""

import base64
import calendar
import email.utils
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER = os.path.join(ROOT, "emulators", "servicenow", "server.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

# Sources: beside each check (the full list: emulators/servicenow/README.md).

SECRET = "whsecret"


class Hooks:
    """A webhook receiver: every POST body and its headers."""

    def __init__(self):
        self.got = []
        self.fail_next = 0  # answer this many POSTs with 500 first
        self.cond = threading.Condition()
        hooks = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                with hooks.cond:
                    if hooks.fail_next > 0:
                        hooks.fail_next -= 1
                        self.send_response(500)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    hooks.got.append((raw, dict(self.headers)))
                    hooks.cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/webhook/snow" % self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, pred, timeout=10):
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                hit = [g for g in self.got if pred(json.loads(g[0]))]
                if hit or time.monotonic() > end:
                    return hit
                self.cond.wait(0.2)


class Emu:
    """One emulator process."""

    def __init__(self, db, *extra):
        self.db = db
        self.extra = list(extra)
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [PYTHON, SERVER, "--port", "0", "--db", self.db, "--user", "admin:pw",
             "--user", "person:pw2"] + self.extra,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening 127.0.0.1:"):
            raise RuntimeError("emulator did not start: %r %s" % (line, self.proc.stderr.read()))
        self.port = int(line.rsplit(":", 1)[1])
        self.base = "http://127.0.0.1:%d" % self.port

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()

    def call(self, method, path, body=None, user="admin:pw", headers=None, raw=None, timeout=20):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = dict(headers or {})
        if user:
            h["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode()
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            text = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            return resp.status, hdrs, (json.loads(text) if text else None)
        finally:
            conn.close()

    def create(self, **fields):
        status, _, body = self.call("POST", "/api/now/table/incident", fields)
        assert status == 201, (status, body)
        return body["result"]


def q(s):
    return urllib.parse.quote(s, safe="")


class ServiceNowEmulator(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="snemu-test-")
        cls.hooks = Hooks()
        cls.emu = Emu(os.path.join(cls.tmp, "main.db"), "--oauth-client", "cid:csec:integration",
                      "--token-ttl", "2", "--webhook", cls.hooks.url, "--webhook-secret", SECRET)

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
        cls.hooks.httpd.shutdown()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def tearDown(self):
        self.emu.call("POST", "/emulator/faults", {"p_429": 0, "p_5xx": 0, "p_timeout_after_write": 0,
                                                   "latency_ms": 0, "deny_audit": False}, user=None)

    # --- Table API: list ------------------------------------------------------------

    def test_list_query_fields_limit_offset_link(self):
        for i in range(5):
            self.emu.create(short_description="list %d" % i, correlation_id="list-%d" % i)
        fields = "number,sys_id,correlation_id"
        path = ("/api/now/table/incident?sysparm_query=%s&sysparm_fields=%s&sysparm_limit=2&sysparm_offset=2"
                % (q("correlation_idSTARTSWITHlist-^ORDERBYcorrelation_id"), fields))
        status, h, body = self.emu.call("GET", path)
        # GET /now/table/{tableName}: {"result": [...]}, sysparm_fields limits
        # the fields, sysparm_limit/offset page; X-Total-Count is the total.
        # https://raw.githubusercontent.com/ServiceNow/ServiceNowDocs/australia/markdown/api-reference/rest-apis/c_TableAPI.md
        self.assertEqual(status, 200)
        self.assertEqual([r["correlation_id"] for r in body["result"]], ["list-2", "list-3"])
        self.assertEqual(set(body["result"][0]), {"number", "sys_id", "correlation_id"})
        self.assertEqual(h["x-total-count"], "5")
        # Link: first/prev/next/last, <URL>;rel="x" joined by commas, the
        # sysparm_fields commas left unencoded.
        # https://github.com/ServiceNowITOM/ansible-sn-inventory/issues/15
        # https://raw.githubusercontent.com/ServiceNow/ServiceNowDocs/australia/markdown/api-reference/rest-apis/c_TableAPI.md
        links = dict((rel, url) for url, rel in re.findall(r'<([^>]*)>;rel="(\w+)"', h["link"]))
        self.assertEqual(set(links), {"first", "prev", "next", "last"})
        self.assertIn("sysparm_fields=" + fields + "&", links["next"])
        # The request's parameters keep their order; sysparm_offset goes last
        # (sysparm_limit too when the request had none).
        # https://github.com/ServiceNowITOM/ansible-sn-inventory/issues/15
        # https://gist.github.com/bryanbarnard/ee1d952604a11e0f0342
        self.assertTrue(links["next"].endswith("&sysparm_limit=2&sysparm_offset=4"), links["next"])
        self.assertTrue(links["first"].endswith("&sysparm_limit=2&sysparm_offset=0"))
        self.assertTrue(links["last"].endswith("&sysparm_limit=2&sysparm_offset=4"))
        self.assertIn("sysparm_offset=0", links["prev"])
        # Following next as given reaches the last page.
        nxt = urllib.parse.urlsplit(links["next"])
        status, h2, body2 = self.emu.call("GET", nxt.path + "?" + nxt.query)
        self.assertEqual([r["correlation_id"] for r in body2["result"]], ["list-4"])
        self.assertNotIn('rel="next"', h2["link"])
        # One page: no Link header (prev/next omitted when not applicable and
        # the header omitted for a single page).
        # https://github.com/ServiceNowITOM/ansible-sn-inventory/issues/15
        status, h3, _ = self.emu.call("GET", "/api/now/table/incident?sysparm_query=" + q("correlation_id=list-1"))
        self.assertEqual(h3["x-total-count"], "1")
        self.assertNotIn("link", h3)
        # sysparm_suppress_pagination_header=true removes Link.
        # https://raw.githubusercontent.com/ServiceNow/ServiceNowDocs/australia/markdown/api-reference/rest-apis/c_TableAPI.md
        _, h4, _ = self.emu.call("GET", path + "&sysparm_suppress_pagination_header=true")
        self.assertNotIn("link", h4)

    def test_query_operators(self):
        a = self.emu.create(short_description="ops a", correlation_id="ops-a", impact="1", urgency="1")
        b = self.emu.create(short_description="ops b", correlation_id="ops-b", impact="2", urgency="2")
        self.emu.create(short_description="ops c", correlation_id="ops-c", impact="3", urgency="3")

        def ids(query):
            status, _, body = self.emu.call("GET", "/api/now/table/incident?sysparm_fields=correlation_id"
                                            "&sysparm_query=" + q(query))
            self.assertEqual(status, 200, body)
            return sorted(r["correlation_id"] for r in body["result"])
        # Operators = != STARTSWITH ^ ^OR ORDERBY of the sysparm_query row.
        # https://raw.githubusercontent.com/ServiceNow/ServiceNowDocs/australia/markdown/api-reference/rest-apis/c_TableAPI.md
        self.assertEqual(ids("correlation_idSTARTSWITHops-^correlation_id!=ops-b"), ["ops-a", "ops-c"])
        self.assertEqual(ids("correlation_id=ops-a^ORcorrelation_id=ops-c"), ["ops-a", "ops-c"])
        self.assertEqual(ids("correlation_idINops-a,ops-b"), ["ops-a", "ops-b"])
        self.assertEqual(ids("correlation_idSTARTSWITHops-^impact>=2"), ["ops-b", "ops-c"])
        self.assertEqual(ids("correlation_idSTARTSWITHops-^impact<2"), ["ops-a"])
        self.assertEqual(ids("correlation_id=ops-a^NQcorrelation_id=ops-b"), ["ops-a", "ops-b"])
        self.assertEqual(ids("correlation_idSTARTSWITHops-^close_codeISEMPTY"), ["ops-a", "ops-b", "ops-c"])
        self.assertEqual(ids("correlation_idSTARTSWITHops-^close_codeISNOTEMPTY"), [])
        # Date values in either form; ORDERBYDESC.
        # https://raw.githubusercontent.com/ServiceNow/ServiceNowDocs/australia/markdown/api-reference/rest-apis/c_TableAPI.md
        since = a["sys_updated_on"]
        d, t = since.split(" ")
        self.assertIn("ops-c", ids("sys_updated_on>=%s^correlation_idSTARTSWITHops-" % since))
        self.assertIn("ops-c", ids("sys_updated_on>=javascript:gs.dateGenerate('%s','%s')"
                                   "^correlation_idSTARTSWITHops-" % (d, t)))
        self.assertEqual(ids("sys_updated_on>2999-01-01 00:00:00^correlation_idSTARTSWITHops-"), [])
        _, _, body = self.emu.call("GET", "/api/now/table/incident?sysparm_fields=correlation_id&sysparm_query="
                                   + q("correlation_idSTARTSWITHops-^ORDERBYDESCcorrelation_id"))
        self.assertEqual([r["correlation_id"] for r in body["result"]], ["ops-c", "ops-b", "ops-a"])
        # "If part of the query is invalid, such as by specifying an invalid
        # field name, the instance ignores the invalid part."
        # https://raw.githubusercontent.com/ServiceNow/ServiceNowDocs/australia/markdown/api-reference/rest-apis/c_TableAPI.md
        self.assertEqual(ids("correlation_idSTARTSWITHops-^no_such_field=1"), ["ops-a", "ops-b", "ops-c"])
        # An unknown table: 400 "Invalid table X" / "Table X does not exist":
        # an answer of a developer instance recorded in a public test suite
        # (no documentation; emulators/servicenow/README.md).
        status, _, body = self.emu.call("GET", "/api/now/table/no_such_table")
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["message"], "Invalid table no_such_table")
        self.assertEqual(body["status"], "failure")
        del b

    # --- Table API: one record, create, update ---------------------------------------

    def test_create_and_get_one(self):
        status, h, body = self.emu.call("POST", "/api/now/table/incident",
                                        {"short_description": "Unable to connect to office wifi",
                                         "urgency": "2", "impact": "2", "sys_created_by": "forged"})
        # POST /now/table/{tableName}: 201, Location, the new record in
        # "result", number INC..., sys_id 32 hex, sys_mod_count "0".
        # https://raw.githubusercontent.com/ServiceNow/ServiceNowDocs/australia/markdown/api-reference/rest-apis/c_TableAPI.md
        self.assertEqual(status, 201)
        rec = body["result"]
        self.assertRegex(rec["number"], r"^INC\d{7}$")
        self.assertRegex(rec["sys_id"], r"^[0-9a-f]{32}$")
        self.assertEqual(h["location"], "%s/api/now/table/incident/%s" % (self.emu.base, rec["sys_id"]))
        self.assertEqual(rec["sys_mod_count"], "0")
        self.assertEqual(rec["state"], "1")
        # impact 2, urgency 2 -> priority 3 (also the Table API's POST example)
        # https://www.servicenow.com/docs/r/it-service-management/incident-management/def-prio-lookup-rules.html
        self.assertEqual(rec["priority"], "3")
        self.assertEqual(rec["sys_created_by"], "admin")  # sys_ fields are not writable. https://raw.githubusercontent.com/ServiceNow/ServiceNowDocs/australia/markdown/api-reference/rest-apis/c_TableAPI.md
        self.assertRegex(rec["sys_created_on"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
        # GET /now/table/{tableName}/{sys_id}: {"result": {...}}; journal
        # fields read back as "".
        # https://raw.githubusercontent.com/ServiceNow/ServiceNowDocs/australia/markdown/api-reference/rest-apis/c_TableAPI.md
        status, _, one = self.emu.call("GET", "/api/now/table/incident/" + rec["sys_id"])
        self.assertEqual(status, 200)
        self.assertEqual(one["result"]["number"], rec["number"])
        for f in ("comments", "work_notes", "comments_and_work_notes"):
            self.assertEqual(one["result"][f], "")
        self.assertEqual(one["result"]["sys_class_name"], "incident")
        # Numbers follow each other.
        rec2 = self.emu.create(short_description="next")
        self.assertEqual(int(rec2["number"][3:]), int(rec["number"][3:]) + 1)

    def test_reference_and_display_values(self):
        rec = self.emu.create(short_description="refs", assigned_to="6816f79cc0a8016401c5a33be04be441",
                              state="2")
        path = "/api/now/table/incident/" + rec["sys_id"]
        # A reference field: {"link", "value"} by default, the bare value with
        # sysparm_exclude_reference_link=true.
        # https://raw.githubusercontent.com/ServiceNow/ServiceNowDocs/australia/markdown/api-reference/rest-apis/c_TableAPI.md
        _, _, body = self.emu.call("GET", path)
        self.assertEqual(body["result"]["assigned_to"]["value"], "6816f79cc0a8016401c5a33be04be441")
        self.assertTrue(body["result"]["assigned_to"]["link"].endswith(
            "/api/now/table/sys_user/6816f79cc0a8016401c5a33be04be441"))
        _, _, body = self.emu.call("GET", path + "?sysparm_exclude_reference_link=true")
        self.assertEqual(body["result"]["assigned_to"], "6816f79cc0a8016401c5a33be04be441")
        self.assertEqual(body["result"]["caller_id"], "")
        # sysparm_display_value=true|all: choice labels, both values.
        # https://raw.githubusercontent.com/ServiceNow/ServiceNowDocs/australia/markdown/api-reference/rest-apis/c_TableAPI.md
        _, _, body = self.emu.call("GET", path + "?sysparm_display_value=true&sysparm_fields=state,priority")
        self.assertEqual(body["result"], {"state": "In Progress", "priority": "4 - Low"})
        _, _, body = self.emu.call("GET", path + "?sysparm_display_value=all&sysparm_fields=state")
        self.assertEqual(body["result"]["state"], {"display_value": "In Progress", "value": "2"})

    def test_sys_user(self):
        # The users of --user are sys_user rows; a reference field holds the
        # sys_id, sys_created_by the user_name.  (examples: opened_by
        # https://raw.githubusercontent.com/ServiceNow/ServiceNowDocs/australia/markdown/api-reference/rest-apis/c_TableAPI.md
        # a sys_user reference, sys_created_by "admin")
        _, _, body = self.emu.call("GET", "/api/now/table/sys_user?sysparm_query=" + q("user_name=person")
                                   + "&sysparm_fields=sys_id,user_name")
        self.assertEqual(len(body["result"]), 1)
        sid = body["result"][0]["sys_id"]
        self.assertRegex(sid, r"^[0-9a-f]{32}$")
        status, _, one = self.emu.call("GET", "/api/now/table/sys_user/" + sid)
        self.assertEqual((status, one["result"]["user_name"]), (200, "person"))
        rec = self.emu.create(short_description="assigned", assigned_to=sid)
        _, _, body = self.emu.call("GET", "/api/now/table/incident/%s?sysparm_display_value=all"
                                   "&sysparm_fields=assigned_to" % rec["sys_id"])
        self.assertEqual(body["result"]["assigned_to"]["value"], sid)
        self.assertEqual(body["result"]["assigned_to"]["display_value"], "person")
        status, _, _ = self.emu.call("POST", "/api/now/table/sys_user", {"user_name": "x"})
        self.assertEqual(status, 403)

    def test_patch_update(self):
        rec = self.emu.create(short_description="patch me")
        path = "/api/now/table/incident/" + rec["sys_id"]
        # PATCH /now/table/{tableName}/{sys_id}: 200 and the record.
        # https://raw.githubusercontent.com/ServiceNow/ServiceNowDocs/australia/markdown/api-reference/rest-apis/c_TableAPI.md
        status, _, body = self.emu.call("PATCH", path, {"short_description": "patched", "state": "2"},
                                        user="person:pw2")
        self.assertEqual(status, 200)
        r = body["result"]
        self.assertEqual((r["short_description"], r["state"], r["sys_mod_count"], r["sys_updated_by"]),
                         ("patched", "2", "1", "person"))
        # PUT updates the same way.
        # https://raw.githubusercontent.com/ServiceNow/ServiceNowDocs/australia/markdown/api-reference/rest-apis/c_TableAPI.md
        status, _, body = self.emu.call("PUT", path, {"description": "put"})
        self.assertEqual((status, body["result"]["sys_mod_count"]), (200, "2"))
        # A write that changes nothing leaves sys_mod_count as it was.
        _, _, body = self.emu.call("PATCH", path, {"description": "put"})
        self.assertEqual(body["result"]["sys_mod_count"], "2")
        # DELETE: 204, no body; then 404.
        # https://raw.githubusercontent.com/ServiceNow/ServiceNowDocs/australia/markdown/api-reference/rest-apis/c_TableAPI.md
        status, _, body = self.emu.call("DELETE", path)
        self.assertEqual((status, body), (204, None))
        status, _, _ = self.emu.call("GET", path)
        self.assertEqual(status, 404)

    def test_concurrent_writes(self):
        # Writes from several connections at once: each one counted once.
        rec = self.emu.create(short_description="busy")
        path = "/api/now/table/incident/" + rec["sys_id"]
        errors = []

        def writer(n):
            for i in range(20):
                status, _, _ = self.emu.call("PATCH", path, {"description": "w%d-%d" % (n, i)})
                if status != 200:
                    errors.append(status)
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        _, _, body = self.emu.call("GET", path + "?sysparm_fields=sys_mod_count")
        self.assertEqual(body["result"]["sys_mod_count"], "80")
        _, h, _ = self.emu.call("GET", "/api/now/table/sys_audit?sysparm_query="
                                + q("documentkey=%s^fieldname=description" % rec["sys_id"]))
        self.assertEqual(h["x-total-count"], "80")

    def test_not_found(self):
        # 404 {"error": {"message": "No Record found", "detail": "Record
        # doesn't exist or ACL restricts the record retrieval"}, "status":
        # "failure"}: the envelope instances answer (message text:
        # https://support.servicenow.com/kb?id=kb_article_view&sysparm_article=KB0715790);
        # 404 "Not found. The requested item wasn't found."
        # https://raw.githubusercontent.com/ServiceNow/ServiceNowDocs/australia/markdown/api-reference/rest-apis/c_TableAPI.md
        for method, body in (("GET", None), ("PATCH", {"state": "2"})):
            status, _, answer = self.emu.call(method, "/api/now/table/incident/" + "0" * 32, body)
            self.assertEqual(status, 404)
            self.assertEqual(answer, {"error": {"message": "No Record found", "detail":
                                                "Record doesn't exist or ACL restricts the record retrieval"},
                                      "status": "failure"})

    # --- platform behaviour on writes -----------------------------------------------

    def test_journal_rows(self):
        rec = self.emu.create(short_description="journal", comments="first comment")
        path = "/api/now/table/incident/" + rec["sys_id"]
        _, _, body = self.emu.call("PATCH", path, {"work_notes": "a work note", "comments": "second"},
                                   user="person:pw2")
        self.assertEqual(body["result"]["sys_mod_count"], "1")  # a journal entry is a change
        self.assertEqual(body["result"]["comments"], "")
        # Journal entries are rows of sys_journal_field: element, element_id
        # (the record's sys_id), name (the table), value.
        # https://www.servicenow.com/docs/r/australia/api-reference/web-services/retrieving-journal-entries.html
        _, _, rows = self.emu.call("GET", "/api/now/table/sys_journal_field?sysparm_query="
                                   + q("element_id=%s^ORDERBYsys_created_on" % rec["sys_id"]))
        got = sorted((r["element"], r["value"], r["name"], r["sys_created_by"]) for r in rows["result"])
        self.assertEqual(got, [("comments", "first comment", "incident", "admin"),
                               ("comments", "second", "incident", "person"),
                               ("work_notes", "a work note", "incident", "person")])

    def test_audit_rows(self):
        rec = self.emu.create(short_description="audit", impact="3", urgency="3")
        path = "/api/now/table/incident/" + rec["sys_id"]
        self.emu.call("PATCH", path, {"impact": "1", "urgency": "1"}, user="person:pw2")
        # sys_audit: tablename, fieldname, documentkey, user, oldvalue,
        # newvalue per changed field.
        # https://www.servicenow.com/docs/r/australia/platform-security/c_UnderstandingTheSysAuditTable.html
        _, _, rows = self.emu.call("GET", "/api/now/table/sys_audit?sysparm_query="
                                   + q("documentkey=" + rec["sys_id"]))
        got = {r["fieldname"]: (r["oldvalue"], r["newvalue"], r["user"], r["record_checkpoint"],
                                r["tablename"]) for r in rows["result"]}
        self.assertEqual(got["impact"], ("3", "1", "person", "1", "incident"))
        self.assertEqual(got["priority"], ("4", "1", "person", "1", "incident"))
        # An instance that denies sys_audit: 403 "Insufficient rights to query
        # records", detail null (an instance's recorded answer; README).
        self.emu.call("POST", "/emulator/faults", {"deny_audit": True}, user=None)
        status, _, body = self.emu.call("GET", "/api/now/table/sys_audit")
        self.assertEqual((status, body["error"]["message"]), (403, "Insufficient rights to query records"))

    def test_data_policy(self):
        rec = self.emu.create(short_description="resolve me")
        path = "/api/now/table/incident/" + rec["sys_id"]
        status, _, body = self.emu.call("PATCH", path, {"state": "6"})
        # 403 {"error": {"message": "Operation Failed", "detail": "Data Policy
        # Exception: \n\tThe following fields are mandatory: Resolution code,
        # Close notes"}, "status": "failure"}.
        # https://docs.getint.io/getintio-platform/workflows/type-mapping
        self.assertEqual(status, 403)
        self.assertEqual(body["status"], "failure")
        self.assertEqual(body["error"]["message"], "Operation Failed")
        self.assertTrue(body["error"]["detail"].startswith("Data Policy Exception: "))
        self.assertIn("Resolution code", body["error"]["detail"])
        _, _, now = self.emu.call("GET", path)
        self.assertEqual((now["result"]["state"], now["result"]["sys_mod_count"]), ("1", "0"))  # not applied
        status, _, body = self.emu.call("PATCH", path, {"state": "6", "close_code": "Solved (Permanently)",
                                                        "close_notes": "fixed"})
        self.assertEqual((status, body["result"]["state"]), (200, "6"))
        status, _, _ = self.emu.call("POST", "/api/now/table/incident", {"state": "7"})
        self.assertEqual(status, 403)

    def test_priority_lookup(self):
        # The sample priority lookup rules, impact x urgency.
        # https://www.servicenow.com/docs/r/it-service-management/incident-management/def-prio-lookup-rules.html
        table = {("1", "1"): "1", ("1", "2"): "2", ("1", "3"): "3", ("2", "1"): "2", ("2", "2"): "3",
                 ("2", "3"): "4", ("3", "1"): "3", ("3", "2"): "4", ("3", "3"): "4"}
        for (i, u), p in table.items():
            rec = self.emu.create(short_description="p", impact=i, urgency=u, priority="5")
            self.assertEqual(rec["priority"], p, (i, u))
        # "By default, the Priority field is read-only": a written priority
        # is not taken.
        # https://www.servicenow.com/docs/r/it-service-management/incident-management/def-prio-lookup-rules.html
        status, _, body = self.emu.call("PATCH", "/api/now/table/incident/" + rec["sys_id"],
                                        {"priority": "1"})
        self.assertEqual(body["result"]["priority"], "4")

    # --- authentication ---------------------------------------------------------------

    def test_basic_auth(self):
        # 401 {"error": {"message": "User Not Authenticated", "detail":
        # "Required to provide Auth information"}, "status": "failure"}
        # https://support.okta.com/help/s/article/servicenow-ud-provisioning-error-401-user-not-authenticated-required-to-provide-auth-information
        for user in (None, "admin:wrong"):
            status, _, body = self.emu.call("GET", "/api/now/table/incident?sysparm_limit=1", user=user)
            self.assertEqual(status, 401)
            self.assertEqual(body, {"error": {"message": "User Not Authenticated",
                                              "detail": "Required to provide Auth information"},
                                    "status": "failure"})

    def test_oauth_token_and_expiry(self):
        form = "grant_type=client_credentials&client_id=cid&client_secret=csec"
        status, _, tok = self.emu.call("POST", "/oauth_token.do", raw=form.encode(), user=None,
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        # POST /oauth_token.do, a URL-encoded form -> JSON access_token,
        # token_type Bearer, expires_in.
        # https://www.servicenow.com/docs/r/yokohama/platform-security/authentication/r_OAuthAPIRequestParameters.html
        self.assertEqual(status, 200)
        self.assertEqual(tok["token_type"], "Bearer")
        self.assertEqual(tok["expires_in"], 2)
        bearer = {"Authorization": "Bearer " + tok["access_token"]}
        status, _, body = self.emu.call("POST", "/api/now/table/incident", {"short_description": "oauth"},
                                        user=None, headers=bearer)
        self.assertEqual(status, 201)
        self.assertEqual(body["result"]["sys_created_by"], "integration")
        bad = "grant_type=client_credentials&client_id=cid&client_secret=nope"
        status, _, _ = self.emu.call("POST", "/oauth_token.do", raw=bad.encode(), user=None,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 401)
        time.sleep(2.2)
        status, _, body = self.emu.call("GET", "/api/now/table/incident?sysparm_limit=1", user=None,
                                        headers=bearer)
        self.assertEqual((status, body["error"]["message"]), (401, "User Not Authenticated"))

    # --- webhooks, history, clock, faults -------------------------------------------------

    def test_webhook_signature(self):
        rec = self.emu.create(short_description="hook")
        self.emu.call("PATCH", "/api/now/table/incident/" + rec["sys_id"], {"state": "2"}, user="person:pw2")
        got = self.hooks.wait(lambda b: b["sys_id"] == rec["sys_id"] and b["operation"] == "update")
        self.assertTrue(got, "no update webhook")
        ins = self.hooks.wait(lambda b: b["sys_id"] == rec["sys_id"] and b["operation"] == "insert")
        self.assertTrue(ins, "no insert webhook")
        raw, headers = got[0]
        body = json.loads(raw)
        self.assertEqual(set(body), {"table", "sys_id", "number", "sys_mod_count", "sys_updated_on", "operation"})
        self.assertEqual((body["table"], body["number"], body["sys_mod_count"]), ("incident", rec["number"], 1))
        # X-Concord-Signature: sha256=<hex HMAC-SHA256(secret, raw body)> (the interface of this emulator)
        want = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        sig = {k.lower(): v for k, v in headers.items()}["x-concord-signature"]
        self.assertTrue(hmac.compare_digest(sig, want))

    def test_webhook_faults(self):
        rec = self.emu.create(short_description="hook faults")
        path = "/api/now/table/incident/" + rec["sys_id"]
        self.assertTrue(self.hooks.wait(lambda b: b["sys_id"] == rec["sys_id"]))
        # Retried after a failed delivery.
        self.hooks.fail_next = 1
        self.emu.call("PATCH", path, {"description": "retry"})
        self.assertTrue(self.hooks.wait(lambda b: b["sys_id"] == rec["sys_id"] and b["sys_mod_count"] == 1))
        # Duplicated.
        self.emu.call("POST", "/emulator/faults", {"p_dup_webhook": 1}, user=None)
        self.emu.call("PATCH", path, {"description": "dup"})
        self.hooks.wait(lambda b: b["sys_id"] == rec["sys_id"] and b["sys_mod_count"] == 2)
        time.sleep(0.3)
        self.emu.call("POST", "/emulator/faults", {"p_dup_webhook": 0, "p_reorder_webhook": 1}, user=None)
        self.assertEqual(len(self.hooks.wait(lambda b: b["sys_id"] == rec["sys_id"] and b["sys_mod_count"] == 2)), 2)
        # Reordered: the first held back and sent after the next one.
        self.emu.call("PATCH", path, {"description": "first"})
        # the sender takes the first body in its own time: the fault goes off
        # only once it has held that body back (else it would not be held)
        for _ in range(100):
            _, _, st = self.emu.call("GET", "/emulator/stats", user=None)
            if st.get("webhooks_reordered", 0) >= 1:
                break
            time.sleep(0.05)
        self.emu.call("POST", "/emulator/faults", {"p_reorder_webhook": 0}, user=None)
        self.emu.call("PATCH", path, {"description": "second"})
        self.hooks.wait(lambda b: b["sys_id"] == rec["sys_id"] and b["sys_mod_count"] == 3)
        with self.hooks.cond:
            order = [json.loads(g[0])["sys_mod_count"] for g in self.hooks.got
                     if json.loads(g[0])["sys_id"] == rec["sys_id"]]
        self.assertEqual(order[-2:], [4, 3])
        _, _, stats = self.emu.call("GET", "/emulator/stats", user=None)
        self.assertGreaterEqual(stats["webhook_retries"], 1)
        self.assertGreaterEqual(stats["webhooks_duplicated"], 1)
        self.assertGreaterEqual(stats["webhooks_reordered"], 1)

    def test_history_and_stats(self):
        rec = self.emu.create(short_description="flips")
        path = "/api/now/table/incident/" + rec["sys_id"]
        self.emu.call("PATCH", path, {"state": "6", "close_code": "c", "close_notes": "n"}, user="person:pw2")
        self.emu.call("PATCH", path, {"state": "7"})
        status, _, hist = self.emu.call("GET", "/emulator/history?sys_id=" + rec["sys_id"], user=None)
        self.assertEqual(status, 200)
        self.assertEqual([(h["state"], h["user"]) for h in hist["history"]],
                         [("1", "admin"), ("6", "person"), ("7", "admin")])
        self.assertEqual(hist["state_changes"], 2)
        _, _, stats = self.emu.call("GET", "/emulator/stats", user=None)
        self.assertGreater(stats["requests"].get("PATCH table_update", 0), 0)
        self.assertIn("429_sent", stats)

    def test_clock_skew(self):
        self.emu.call("POST", "/emulator/clock", {"skew": 3600}, user=None)
        try:
            rec = self.emu.create(short_description="skewed")
            created = calendar.timegm(time.strptime(rec["sys_created_on"], "%Y-%m-%d %H:%M:%S"))
            self.assertAlmostEqual(created, time.time() + 3600, delta=5)
            # The Date header is the instance's clock too.
            _, h, _ = self.emu.call("GET", "/api/now/table/incident/" + rec["sys_id"])
            date = email.utils.parsedate_to_datetime(h["date"]).timestamp()
            self.assertAlmostEqual(date, time.time() + 3600, delta=5)
        finally:
            self.emu.call("POST", "/emulator/clock", {"skew": 0}, user=None)

    def test_faults_switchable(self):
        _, _, f = self.emu.call("POST", "/emulator/faults", {"p_5xx": 1, "seed": 7}, user=None)
        self.assertEqual(f["p_5xx"], 1.0)
        status, _, _ = self.emu.call("GET", "/api/now/table/incident?sysparm_limit=1")
        self.assertIn(status, (500, 502, 503))
        self.emu.call("POST", "/emulator/faults", {"p_5xx": 0, "p_429": 1}, user=None)
        status, h, _ = self.emu.call("GET", "/api/now/table/incident?sysparm_limit=1")
        self.assertEqual(status, 429)
        self.assertIn("retry-after", h)
        self.emu.call("POST", "/emulator/faults", {"p_429": 0, "p_timeout_after_write": 1,
                                                   "timeout_mode": "close"}, user=None)
        with self.assertRaises((http.client.HTTPException, ConnectionError, socket.timeout)):
            self.emu.call("POST", "/api/now/table/incident", {"short_description": "lost",
                                                              "correlation_id": "lost-answer"}, timeout=5)
        self.emu.call("POST", "/emulator/faults", {"p_timeout_after_write": 0}, user=None)
        _, h, _ = self.emu.call("GET", "/api/now/table/incident?sysparm_query=" + q("correlation_id=lost-answer"))
        self.assertEqual(h["x-total-count"], "1")  # the write was applied
        status, _, body = self.emu.call("POST", "/emulator/faults", {"p_5xx": 2}, user=None)
        self.assertEqual(status, 400)
        _, _, f = self.emu.call("GET", "/emulator/faults", user=None)
        self.assertEqual(f["p_5xx"], 0.0)


class ServiceNowEmulatorProcess(unittest.TestCase):
    """Behaviour that needs its own emulator: a rate limit, a restart."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="snemu-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_rate_limit_headers(self):
        emu = Emu(os.path.join(self.tmp, "rl.db"), "--rate-limit", "3", "--rate-window", "3600")
        try:
            for _ in range(3):
                status, h, _ = emu.call("GET", "/api/now/table/incident?sysparm_limit=1")
                if status == 429:  # the hour turned between two requests
                    break
                # A request matching a rule carries X-RateLimit-Limit,
                # X-RateLimit-Reset (Unix time), X-RateLimit-Rule (a sys_id).
                # https://www.servicenow.com/docs/r/xanadu/api-reference/rest-api-explorer/inbound-REST-API-rate-limiting.html
                self.assertEqual(status, 200)
                self.assertEqual(h["x-ratelimit-limit"], "3")
                self.assertRegex(h["x-ratelimit-rule"], r"^[0-9a-f]{32}$")
            status, h, body = emu.call("GET", "/api/now/table/incident?sysparm_limit=1")
            # Past the limit: 429, Retry-After in seconds, and the error body
            # {"error": {"message": "Rate limit exceeded", "detail": "Rate limit
            # of N requests per hour for Table API exceeded"}, "status": "failure"}.
            # https://www.servicenow.com/docs/r/xanadu/api-reference/rest-api-explorer/inbound-REST-API-rate-limiting.html
            self.assertEqual(status, 429)
            reset = int(h["x-ratelimit-reset"])
            self.assertGreater(reset, time.time())
            self.assertLessEqual(int(h["retry-after"]), 3600)
            self.assertGreaterEqual(int(h["retry-after"]), 1)
            self.assertEqual(body, {"error": {"message": "Rate limit exceeded", "detail":
                                              "Rate limit of 3 requests per hour for Table API exceeded"},
                                    "status": "failure"})
            _, _, stats = emu.call("GET", "/emulator/stats", user=None)
            self.assertGreaterEqual(stats["429_sent"], 1)
        finally:
            emu.stop()

    def test_restart_keeps_state(self):
        emu = Emu(os.path.join(self.tmp, "keep.db"))
        try:
            rec = emu.create(short_description="kept", comments="c")
            emu.stop()
            emu.start()
            status, _, body = emu.call("GET", "/api/now/table/incident/" + rec["sys_id"])
            self.assertEqual((status, body["result"]["short_description"]), (200, "kept"))
            _, h, _ = emu.call("GET", "/api/now/table/sys_journal_field?sysparm_query="
                               + q("element_id=" + rec["sys_id"]))
            self.assertEqual(h["x-total-count"], "1")
            rec2 = emu.create(short_description="after")
            self.assertEqual(int(rec2["number"][3:]), int(rec["number"][3:]) + 1)
            # Seeding is one transaction and fast.
            status, _, seeded = emu.call("POST", "/emulator/seed", {"count": 1000}, user=None)
            self.assertEqual((status, seeded["created"]), (200, 1000))
            _, h, _ = emu.call("GET", "/api/now/table/incident?sysparm_limit=1")
            self.assertEqual(h["x-total-count"], "1002")
        finally:
            emu.stop()

    def test_webhook_bearer(self):
        hooks = Hooks()
        emu = Emu(os.path.join(self.tmp, "wh.db"), "--webhook", hooks.url, "--webhook-token", "tok123")
        try:
            rec = emu.create(short_description="bearer")
            got = hooks.wait(lambda b: b["sys_id"] == rec["sys_id"])
            self.assertTrue(got)
            headers = {k.lower(): v for k, v in got[0][1].items()}
            self.assertEqual(headers["authorization"], "Bearer tok123")
            self.assertNotIn("x-concord-signature", headers)
        finally:
            emu.stop()
            hooks.httpd.shutdown()

    def test_invalid_query_modes(self):
        path = "/api/now/table/incident?sysparm_query=" + q("no_such_field=1^state=1")
        emu = Emu(os.path.join(self.tmp, "iq.db"), "--invalid-query", "no-rows")
        try:
            emu.create(short_description="iq")
            # glide.invalid_query.returns_no_rows=true: no rows.
            # https://raw.githubusercontent.com/ServiceNow/ServiceNowDocs/australia/markdown/api-reference/rest-apis/c_TableAPI.md
            _, h, body = emu.call("GET", path)
            self.assertEqual((h["x-total-count"], body["result"]), ("0", []))
            emu.stop()
            emu.extra = ["--invalid-query", "400"]
            emu.start()
            # The stricter test mode: 400 in the error envelope.
            status, _, body = emu.call("GET", path)
            self.assertEqual((status, body["error"]["message"], body["status"]),
                             (400, "Invalid query", "failure"))
            status, _, body = emu.call("GET", "/api/now/table/incident?sysparm_limit=ten")
            self.assertEqual(status, 400)
        finally:
            emu.stop()

    def test_timeout_after_write_hangs(self):
        emu = Emu(os.path.join(self.tmp, "hang.db"))
        try:
            emu.call("POST", "/emulator/faults", {"p_timeout_after_write": 1, "timeout_mode": "hang",
                                                  "hang_s": 2}, user=None)
            # A 404 is no write: it answers at once.
            status, _, _ = emu.call("PATCH", "/api/now/table/incident/" + "0" * 32, {"state": "2"}, timeout=5)
            self.assertEqual(status, 404)
            with self.assertRaises((socket.timeout, TimeoutError)):
                emu.call("POST", "/api/now/table/incident", {"correlation_id": "hung"}, timeout=0.5)
            emu.call("POST", "/emulator/faults", {"p_timeout_after_write": 0}, user=None)
            # The write was applied; the emulator answers others while one hangs.
            _, h, _ = emu.call("GET", "/api/now/table/incident?sysparm_query=" + q("correlation_id=hung"))
            self.assertEqual(h["x-total-count"], "1")
        finally:
            emu.stop()

    def test_journal_lag(self):
        emu = Emu(os.path.join(self.tmp, "lag.db"), "--journal-lag", "3")
        try:
            rec = emu.create(short_description="lag", comments="late")
            path = "/api/now/table/sys_journal_field?sysparm_query=" + q("element_id=" + rec["sys_id"])
            _, h, _ = emu.call("GET", path)
            self.assertEqual(h["x-total-count"], "0")
            time.sleep(3.2)
            _, h, _ = emu.call("GET", path)
            self.assertEqual(h["x-total-count"], "1")
        finally:
            emu.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
