#!/usr/bin/python3
"""The Sentinel emulator (emulators/sentinel) against the documented
behaviours it emulates. Each fact names its source; "spec" is the published
OpenAPI of Microsoft.SecurityInsights,
https://github.com/Azure/azure-rest-api-specs/blob/main/specification/securityinsights/resource-manager/Microsoft.SecurityInsights/stable/2025-12-01/Incidents.json
(same content as stable/2025-09-01/Incidents.json, which was read)."""

import hashlib
import hmac
import json
import os
import re
import socket
import sys
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sentinel_harness import CLIENT, SECRET, SUB, TENANT, WS_PATH, Emulator  # noqa: E402

V = "2025-12-01"
SEVEN = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")


def q(**kw):
    return "?" + urllib.parse.urlencode(kw, quote_via=urllib.parse.quote)


class Base(unittest.TestCase):
    extra = ()

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator(extra=cls.extra)
        cls.tok = cls.emu.token()

    @classmethod
    def tearDownClass(cls):
        cls.emu.close()

    def arm(self, method, path, body=None, headers=None, tok=None, **query):
        query.setdefault("api_version", V)
        qs = {k.replace("api_version", "api-version"): v for k, v in query.items() if v is not None}
        h = {"Authorization": "Bearer " + (tok or self.tok)}
        h.update(headers or {})
        return self.emu.call(method, WS_PATH + path + q(**qs), body, h)

    def put(self, name, title="t", severity="Medium", status="New", **props):
        props.update(title=title, severity=severity, status=status)
        return self.arm("PUT", "/" + name, {"properties": props})


class TokenAndAuth(Base):
    extra = ("--token-ttl", "2")

    def test_token_success_shape(self):
        # https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
        # POST /{tenant}/oauth2/v2.0/token, grant_type=client_credentials, scope RESOURCE/.default ->
        # {"token_type": "Bearer", "expires_in", "ext_expires_in", "access_token"}
        st, _, body = self.emu.call("POST", "/%s/oauth2/v2.0/token" % TENANT, form={
            "grant_type": "client_credentials", "client_id": CLIENT, "client_secret": SECRET,
            "scope": "https://management.azure.com/.default"})
        self.assertEqual(st, 200)
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["expires_in"], 2)
        self.assertIn("ext_expires_in", body)
        self.assertTrue(body["access_token"])

    def test_token_errors(self):
        # A wrong secret: 401 invalid_client AADSTS7000215 with error_codes, trace_id,
        # correlation_id, timestamp, error_uri (real answers quoted in
        # https://github.com/OfficeDev/microsoft-365-agents-toolkit/issues/8621 and
        # https://github.com/keycloak/keycloak/issues/31294).
        path = "/%s/oauth2/v2.0/token" % TENANT
        good = {"grant_type": "client_credentials", "client_id": CLIENT, "client_secret": SECRET,
                "scope": "https://management.azure.com/.default"}
        st, _, body = self.emu.call("POST", path, form=dict(good, client_secret="wrong"))
        self.assertEqual(st, 401)
        self.assertEqual(body["error"], "invalid_client")
        self.assertEqual(body["error_codes"], [7000215])
        self.assertTrue(body["error_description"].startswith("AADSTS7000215:"))
        for k in ("timestamp", "trace_id", "correlation_id", "error_uri"):
            self.assertIn(k, body)
        # a missing parameter: 400 invalid_request AADSTS900144
        st, _, body = self.emu.call("POST", path, form={k: v for k, v in good.items() if k != "grant_type"})
        self.assertEqual((st, body["error"], body["error_codes"]), (400, "invalid_request", [900144]))
        # client credentials need RESOURCE/.default (the flow's doc, above): 400 invalid_scope
        st, _, body = self.emu.call("POST", path, form=dict(good, scope="https://management.azure.com/user_impersonation"))
        self.assertEqual((st, body["error"]), (400, "invalid_scope"))
        st, _, body = self.emu.call("POST", path, form=dict(good, grant_type="password"))
        self.assertEqual((st, body["error"]), (400, "unsupported_grant_type"))
        st, _, body = self.emu.call("POST", path, form=dict(good, client_id="nobody"))
        self.assertEqual((st, body["error"]), (400, "unauthorized_client"))
        st, _, body = self.emu.call("POST", "/other-tenant/oauth2/v2.0/token", form=good)
        self.assertEqual((st, body["error_codes"]), (400, [90002]))

    def test_401_shapes(self):
        # No Authorization header: 401 {"error":{"code":"AuthenticationFailed",...}} and
        # WWW-Authenticate: Bearer authorization_uri="https://login.windows.net/{tenant}", error="invalid_token",
        # error_description="The authentication failed because of missing 'Authorization' header."
        # (ARM's challenge as quoted by the Azure SDKs' own tests, e.g. azure-sdk-for-go azcore's
        # ARM challenge test and azure-sdk-for-python azure-core's test_authentication.py)
        st, h, body = self.emu.call("GET", WS_PATH + q(**{"api-version": V}))
        self.assertEqual(st, 401)
        self.assertEqual(body["error"]["code"], "AuthenticationFailed")
        self.assertIn('authorization_uri="https://login.windows.net/%s"' % TENANT, h["WWW-Authenticate"])
        self.assertIn('error="invalid_token"', h["WWW-Authenticate"])
        st, h, body = self.arm("GET", "", tok="not-a-token")
        self.assertEqual((st, body["error"]["code"]), (401, "InvalidAuthenticationToken"))
        self.assertTrue(h["WWW-Authenticate"].startswith("Bearer "))
        # An expired token: 401 ExpiredAuthenticationToken, "The access token expiry UTC time '...' is
        # earlier than current UTC time '...'." (https://github.com/hashicorp/terraform-provider-azurerm/issues/20867)
        tok = self.emu.token()
        self.assertEqual(self.arm("GET", "", tok=tok)[0], 200)
        time.sleep(2.2)
        st, _, body = self.arm("GET", "", tok=tok)
        self.assertEqual((st, body["error"]["code"]), (401, "ExpiredAuthenticationToken"))
        self.assertIn("is earlier than current UTC time", body["error"]["message"])


class Incidents(Base):
    def test_api_version_required(self):
        # Missing: 400 MissingApiVersionParameter, "The api-version query parameter (?api-version=) is
        # required for all requests." (https://github.com/cloudquery/cloudquery/issues/6626)
        st, _, body = self.arm("GET", "", api_version=None)
        self.assertEqual((st, body["error"]["code"]), (400, "MissingApiVersionParameter"))
        st, _, body = self.arm("GET", "", api_version="2099-01-01")
        self.assertEqual(st, 400)
        self.assertIn("2025-12-01", body["error"]["message"])
        # the SDK's own version is accepted
        self.assertEqual(self.arm("GET", "", api_version="2022-12-01-preview")[0], 200)

    def test_create_update_shape_and_times(self):
        # spec: PUT answers 201 Created or 200 OK with the Incident; example CreateIncident.json:
        # id (full ARM id), name, type, etag a quoted GUID-like string, properties with incidentNumber,
        # incidentUrl, createdTimeUtc, lastModifiedTimeUtc, additionalData, providerName, providerIncidentId
        st, h, inc = self.put("shape-1", title="first", severity="High",
                              owner={"objectId": "2046feea-040d-4a46-9e2b-91c2941bfa70", "email": "a@b.c"},
                              labels=[{"labelName": "x"}], firstActivityTimeUtc="2026-01-02T03:04:05Z")
        self.assertEqual(st, 201)
        self.assertEqual(inc["id"], WS_PATH + "/shape-1")
        self.assertEqual(inc["name"], "shape-1")
        self.assertEqual(inc["type"], "Microsoft.SecurityInsights/Incidents")
        self.assertRegex(inc["etag"], r'^"[0-9a-f-]{36}"$')
        p = inc["properties"]
        self.assertIsInstance(p["incidentNumber"], int)
        self.assertEqual(p["providerIncidentId"], str(p["incidentNumber"]))
        self.assertEqual(p["labels"], [{"labelName": "x", "labelType": "User"}])
        self.assertEqual(p["owner"]["email"], "a@b.c")
        for k in ("createdTimeUtc", "lastModifiedTimeUtc", "firstActivityTimeUtc"):
            self.assertRegex(p[k], SEVEN)  # seven fractional digits
        self.assertEqual(p["additionalData"]["commentsCount"], 0)
        # update: 200, new etag, later lastModifiedTimeUtc, same createdTimeUtc and number
        st, _, upd = self.put("shape-1", title="second", severity="High", status="Active")
        self.assertEqual(st, 200)
        self.assertNotEqual(upd["etag"], inc["etag"])
        self.assertGreater(upd["properties"]["lastModifiedTimeUtc"], p["lastModifiedTimeUtc"])
        self.assertEqual(upd["properties"]["createdTimeUtc"], p["createdTimeUtc"])
        self.assertEqual(upd["properties"]["incidentNumber"], p["incidentNumber"])
        # PUT replaces the writable properties: owner and labels left out are gone
        self.assertEqual(upd["properties"]["labels"], [])
        self.assertIsNone(upd["properties"]["owner"]["email"])
        st, _, got = self.arm("GET", "/shape-1")
        self.assertEqual((st, got), (200, upd))
        # DELETE: 200, then GET 404 and DELETE again 204 (spec: Incidents_Delete answers 200 or 204)
        self.assertEqual(self.arm("DELETE", "/shape-1")[0], 200)
        self.assertEqual(self.arm("GET", "/shape-1")[0], 404)
        self.assertEqual(self.arm("DELETE", "/shape-1")[0], 204)
        # incidentNumber is "a sequential number" (spec): never given twice, even after a delete
        self.assertGreater(self.put("shape-2")[2]["properties"]["incidentNumber"], p["incidentNumber"])

    def test_validation(self):
        # spec IncidentProperties: title, severity, status required; severity High|Medium|Low|Informational;
        # status New|Active|Closed (common/IncidentTypes.json)
        self.assertEqual(self.arm("PUT", "/v-1", {"properties": {"title": "x", "status": "New"}})[0], 400)
        self.assertEqual(self.put("v-1", severity="Critical")[0], 400)
        self.assertEqual(self.put("v-1", status="Resolved")[0], 400)
        # closing needs a classification; TruePositive - SuspiciousActivity, BenignPositive -
        # SuspiciousButExpected, FalsePositive - IncorrectAlertLogic / InaccurateData (the close dialog's pairs,
        # https://azurecloudai.blog/2021/05/11/how-and-why-to-use-the-closed-classification-properly-for-azure-sentinel-incidents/;
        # enums from the spec)
        self.assertEqual(self.put("v-1", status="Closed")[0], 400)
        self.assertEqual(self.put("v-1", status="Closed", classification="TruePositive")[0], 400)
        self.assertEqual(self.put("v-1", status="Closed", classification="TruePositive",
                                  classificationReason="SuspiciousButExpected")[0], 400)
        self.assertEqual(self.put("v-1", status="Closed", classification="BenignPositive")[0], 400)
        self.assertEqual(self.put("v-1", status="Closed", classification="Bogus")[0], 400)
        st, _, body = self.put("v-1", status="Closed", classification="BenignPositive",
                               classificationReason="SuspiciousButExpected", classificationComment="ok")
        self.assertEqual(st, 201, body)
        self.assertEqual(body["properties"]["classificationReason"], "SuspiciousButExpected")
        self.assertEqual(self.put("v-2", status="Closed", classification="FalsePositive")[0], 201)
        # the error body is ARM's CloudError {"error": {"code", "message"}} (spec common/2.0/types.json)
        st, _, body = self.put("v-3", status="Closed")
        self.assertEqual(set(body), {"error"})
        self.assertEqual(set(body["error"]), {"code", "message"})

    def test_etag_conflict(self):
        # A stale etag in the body: 409 Conflict, nothing saved
        # (https://github.com/azsec/azure-sentinel-tools/issues/4: code 'Conflict', "New version of resource ...
        # exists"); the spec's incident carries etag (ResourceWithEtag). If-Match is checked the same way.
        _, _, a = self.put("e-1", title="a")
        _, _, b = self.arm("PUT", "/e-1", {"etag": a["etag"], "properties": {"title": "b", "severity": "Low", "status": "New"}})
        self.assertNotEqual(a["etag"], b["etag"])
        st, _, body = self.arm("PUT", "/e-1", {"etag": a["etag"], "properties": {"title": "c", "severity": "Low", "status": "New"}})
        self.assertEqual((st, body["error"]["code"]), (409, "Conflict"))
        st, _, body = self.arm("PUT", "/e-1", {"properties": {"title": "d", "severity": "Low", "status": "New"}},
                               headers={"If-Match": a["etag"]})
        self.assertEqual(st, 409)
        self.assertEqual(self.arm("GET", "/e-1")[2]["properties"]["title"], "b")
        # no etag: unconditional
        self.assertEqual(self.put("e-1", title="e")[0], 200)

    def test_concurrent_writers_one_wins(self):
        # The etag check and the write are one step: of 8 writers holding the same etag, one wins,
        # the others get 409; the same comment id PUT 8 times at once is one comment.
        _, _, a = self.put("cc-1")
        results = []

        def writer(i):
            st, _, _ = self.arm("PUT", "/cc-1", {"etag": a["etag"], "properties": {
                "title": "w%d" % i, "severity": "Low", "status": "Active"}})
            results.append(st)

        def commenter(i):
            st, _, _ = self.arm("PUT", "/cc-1/comments/same", {"properties": {"message": "once"}})
            results.append(st)
        for fn in (writer, commenter):
            results.clear()
            ts = [threading.Thread(target=fn, args=(i,)) for i in range(8)]
            [t.start() for t in ts]
            [t.join() for t in ts]
            if fn is writer:
                self.assertEqual(sorted(results), [200] + [409] * 7)
            else:
                self.assertEqual(sorted(results), [200] * 7 + [201])
        self.assertEqual(len(self.arm("GET", "/cc-1/comments")[2]["value"]), 1)
        self.assertEqual([h["status"] for h in self.emu.control("GET", "history?incident=cc-1")["history"]],
                         ["New", "Active"])

    def test_list_filter_orderby_paging(self):
        # spec Incidents_List: $filter, $orderby, $top (max 1000), $skipToken; x-ms-pageable nextLink;
        # the answer {"value": [...], "nextLink": ...}
        names = ["l-%d" % i for i in range(9)]
        stamps = []
        for i, n in enumerate(names):
            stamps.append(self.put(n, title=n, severity="High" if i % 3 == 0 else "Low")[2]
                          ["properties"]["lastModifiedTimeUtc"])
        # (bounded above: another test writes with the clock an hour ahead)
        flt = "properties/lastModifiedTimeUtc ge %s and properties/lastModifiedTimeUtc le %s" % (stamps[2], stamps[8])
        got, link, pages = [], None, 0
        st, _, page = self.arm("GET", "", **{"$filter": flt, "$orderby": "properties/lastModifiedTimeUtc asc", "$top": "3"})
        while True:
            self.assertEqual(st, 200)
            pages += 1
            got += [x["name"] for x in page["value"]]
            link = page.get("nextLink")
            if not link:
                break
            self.assertIn("$skipToken=", link)
            self.assertTrue(link.startswith(self.emu.base))
            st, _, page = self.emu.call("GET", link, headers={"Authorization": "Bearer " + self.tok})
        self.assertEqual(got, [n for n in names[2:]])
        self.assertEqual(pages, 3)
        # gt excludes the bound; desc reverses; 'and' with status and severity
        _, _, page = self.arm("GET", "", **{"$filter": "properties/lastModifiedTimeUtc gt %s and "
                                                       "properties/lastModifiedTimeUtc lt %s" % (stamps[7], "2999-01-01T00:00:00Z")
                                                       + " and (properties/title eq 'l-8' or properties/title eq 'l-7')",
                                            "$orderby": "properties/lastModifiedTimeUtc desc"})
        self.assertEqual([x["name"] for x in page["value"]], ["l-8"])
        _, _, page = self.arm("GET", "", **{"$filter": "properties/status eq 'New' and properties/severity eq 'High' and "
                                                       "properties/lastModifiedTimeUtc ge %s" % stamps[0],
                                            "$orderby": "properties/createdTimeUtc desc"})
        self.assertEqual([x["name"] for x in page["value"]], ["l-6", "l-3", "l-0"])
        # bad $filter / $orderby / $top: 400
        self.assertEqual(self.arm("GET", "", **{"$filter": "properties/nonsense eq 1"})[0], 400)
        self.assertEqual(self.arm("GET", "", **{"$orderby": "properties/title"})[0], 400)
        self.assertEqual(self.arm("GET", "", **{"$top": "1001"})[0], 400)
        self.assertEqual(self.arm("GET", "", **{"$skipToken": "garbage"})[0], 400)

    def test_comments_idempotent_and_paged(self):
        # spec IncidentComments_CreateOrUpdate: PUT .../comments/{incidentCommentId}, properties {message}
        # required; answer with createdTimeUtc, lastModifiedTimeUtc, author (ClientInfo); list pageable by nextLink
        self.put("c-1")
        for cid in ("k1", "k2", "k3"):
            st, _, c = self.arm("PUT", "/c-1/comments/" + cid, {"properties": {"message": "m " + cid}})
            self.assertEqual(st, 201)
        st, _, again = self.arm("PUT", "/c-1/comments/k1", {"properties": {"message": "m k1"}})
        self.assertEqual(st, 200)  # same id: the same comment
        self.assertRegex(again["properties"]["createdTimeUtc"], SEVEN)
        self.assertEqual(again["properties"]["author"]["name"], CLIENT)
        self.assertEqual(again["id"], WS_PATH + "/c-1/comments/k1")
        self.assertEqual(self.arm("PUT", "/c-1/comments/k4", {"properties": {}})[0], 400)
        self.assertEqual(self.arm("PUT", "/nope/comments/k4", {"properties": {"message": "x"}})[0], 404)
        names, link = [], None
        st, _, page = self.arm("GET", "/c-1/comments", **{"$top": "2"})
        while True:
            names += [c["name"] for c in page["value"]]
            link = page.get("nextLink")
            if not link:
                break
            st, _, page = self.emu.call("GET", link, headers={"Authorization": "Bearer " + self.tok})
        self.assertEqual(names, ["k1", "k2", "k3"])
        self.assertEqual(self.arm("GET", "/c-1")[2]["properties"]["additionalData"]["commentsCount"], 3)
        self.assertEqual(self.arm("GET", "/c-1/comments/k2")[2]["properties"]["message"], "m k2")

    def test_history_and_clock(self):
        self.put("h-1", status="New")
        self.put("h-1", status="Active")
        self.put("h-1", status="Active", title="same status: no history entry")
        other = self.emu.token("other-app", "other-secret")
        self.arm("PUT", "/h-1", {"properties": {"title": "t", "severity": "Low", "status": "Closed",
                                                "classification": "Undetermined"}}, tok=other)
        self.emu.control("POST", "edit", {"incident": "h-1", "properties": {"status": "Active"}, "author": "alice"})
        h = self.emu.control("GET", "history?incident=h-1")["history"]
        self.assertEqual([(x["status"], x["author"]) for x in h],
                         [("New", CLIENT), ("Active", CLIENT), ("Closed", "other-app"), ("Active", "alice")])
        # --skew / POST /emulator/clock shifts lastModifiedTimeUtc
        self.emu.control("POST", "clock", {"skew": 3600})
        try:
            t = self.put("h-2")[2]["properties"]["lastModifiedTimeUtc"]
            self.assertGreater(t, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 3500)))
        finally:
            self.emu.control("POST", "clock", {"skew": 0})


class RateLimit(Base):
    extra = ("--rate-limit", "3")

    def test_429(self):
        # ARM throttling: 429 with Retry-After, and x-ms-ratelimit-remaining-subscription-reads/-writes on answers
        # (https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/request-limits-and-throttling)
        st, h, _ = self.arm("GET", "")
        self.assertEqual(st, 200)
        self.assertEqual(h["x-ms-ratelimit-remaining-subscription-reads"], "2")
        self.arm("GET", "")
        self.arm("GET", "")
        st, h, body = self.arm("GET", "")
        self.assertEqual(st, 429)
        self.assertGreaterEqual(int(h["Retry-After"]), 1)
        self.assertEqual(h["x-ms-ratelimit-remaining-subscription-reads"], "0")
        self.assertEqual(body["error"]["code"], "SubscriptionRequestsThrottled")
        self.assertGreaterEqual(self.emu.control("GET", "stats")["sent_429"], 1)


class Hook(BaseHTTPRequestHandler):
    got = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.got.append((dict(self.headers), body))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


class WebhooksFaultsRestart(Base):
    @classmethod
    def setUpClass(cls):
        cls.hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=cls.hook.serve_forever, daemon=True).start()
        cls.extra = ("--webhook", "http://127.0.0.1:%d/hook" % cls.hook.server_address[1],
                     "--webhook-secret", "hooksecret")
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.hook.shutdown()
        cls.hook.server_close()

    def wait_hooks(self, n, timeout=10):
        end = time.time() + timeout
        while len(Hook.got) < n and time.time() < end:
            time.sleep(0.05)
        return Hook.got

    def test_webhook_signed(self):
        Hook.got.clear()
        self.put("w-1")
        self.put("w-1", status="Active")
        got = self.wait_hooks(2)
        self.assertEqual(len(got), 2)
        ops = []
        for headers, body in got:
            mac = hmac.new(b"hooksecret", body, hashlib.sha256).hexdigest()
            self.assertEqual(headers["X-Concord-Signature"], "sha256=" + mac)
            doc = json.loads(body)
            self.assertEqual(doc["incidentId"], "w-1")
            self.assertEqual(doc["incidentArmId"], WS_PATH + "/w-1")
            self.assertRegex(doc["lastModifiedTimeUtc"], SEVEN)
            ops.append(doc["operation"])
        self.assertEqual(ops, ["created", "updated"])

    def test_faults_switchable(self):
        self.assertEqual(self.emu.control("POST", "faults", {"p_5xx": 1.0, "seed": 7})["p_5xx"], 1.0)
        st, _, body = self.arm("GET", "")
        self.assertIn(st, (500, 503))
        self.assertIn("code", body["error"])
        self.emu.control("POST", "faults", {"p_5xx": 0, "p_429": 1})
        st, h, _ = self.arm("GET", "")
        self.assertEqual(st, 429)
        self.assertIn("Retry-After", h)
        self.emu.control("POST", "faults", {"p_429": 0})
        self.assertEqual(self.arm("GET", "")[0], 200)
        self.assertEqual(self.emu.call("POST", "/emulator/faults", {"p_5xx": 2})[0], 400)
        # a write applied, then no answer before the client's timeout
        self.emu.control("POST", "faults", {"p_timeout_after_write": 1, "hang_ms": 2500})
        try:
            with self.assertRaises((socket.timeout, TimeoutError, OSError)):
                self.emu.call("PUT", WS_PATH + "/f-1" + q(**{"api-version": V}),
                              {"properties": {"title": "lost answer", "severity": "Low", "status": "New"}},
                              {"Authorization": "Bearer " + self.tok}, timeout=1)
        finally:
            self.emu.control("POST", "faults", {"p_timeout_after_write": 0})
        st, _, inc = self.arm("GET", "/f-1")
        self.assertEqual((st, inc["properties"]["title"]), (200, "lost answer"))
        # duplicated webhooks
        Hook.got.clear()
        self.emu.control("POST", "faults", {"p_dup_webhook": 1})
        try:
            self.put("f-2")
            self.assertEqual(len(self.wait_hooks(2)), 2)
            self.assertEqual(Hook.got[0][1], Hook.got[1][1])
        finally:
            self.emu.control("POST", "faults", {"p_dup_webhook": 0})
        # reordered webhooks: the first is held back behind the second
        Hook.got.clear()
        self.emu.control("POST", "faults", {"p_reorder_webhook": 1})
        try:
            self.put("f-3")
            self.put("f-4")
            got = self.wait_hooks(2)
            self.assertEqual([json.loads(b)["incidentId"] for _, b in got], ["f-4", "f-3"])
        finally:
            self.emu.control("POST", "faults", {"p_reorder_webhook": 0})
        stats = self.emu.control("GET", "stats")
        self.assertGreaterEqual(stats["sent_5xx"], 1)
        self.assertGreaterEqual(stats["requests"]["put"], 1)

    def test_restart_keeps_state(self):
        _, _, a = self.put("r-1", title="kept")
        self.arm("PUT", "/r-1/comments/rc", {"properties": {"message": "kept too"}})
        self.emu.restart()
        # the token survives as well (ARM tokens outlive a service restart)
        st, _, b = self.arm("GET", "/r-1")
        self.assertEqual(st, 200)
        self.assertEqual(b, a | {"properties": a["properties"] | {"additionalData": b["properties"]["additionalData"]}})
        self.assertEqual(self.arm("GET", "/r-1/comments/rc")[2]["properties"]["message"], "kept too")
        _, _, c = self.put("r-2")
        self.assertGreater(c["properties"]["incidentNumber"], a["properties"]["incidentNumber"])

    def test_seed(self):
        doc = self.emu.control("POST", "seed", {"count": 500, "subscription": SUB, "resourceGroup": "rg-test",
                                                "workspace": "ws-test", "spread_seconds": 60})
        self.assertEqual(doc["count"], 500)
        st, _, page = self.arm("GET", "", **{"$orderby": "properties/lastModifiedTimeUtc asc", "$top": "1000"})
        self.assertGreaterEqual(len(page["value"]), 500)


if __name__ == "__main__":
    unittest.main(verbosity=2)
