#!/usr/bin/python3
"""The Sentinel emulator driven by Microsoft's own SDK: azure.mgmt.securityinsight
(Debian 12's python3-azure) over plain HTTP, with a credential that takes its
tokens from the emulator's client-credentials endpoint. Lists, filters,
creates with etags, gets a 409 on a stale etag, adds and lists comments,
under the SDK's own api-version and under the pinned stable one.
Exits 77 (skipped) only when the SDK is not installed."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    from azure.core.credentials import AccessToken
    from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
    from azure.mgmt.securityinsight import SecurityInsights
    from azure.mgmt.securityinsight import models
except ImportError as e:  # python3-azure missing
    print("skipped: azure.mgmt.securityinsight is not installed (%s)" % e)
    sys.exit(77)

from sentinel_harness import CLIENT, RG, SECRET, SUB, TENANT, WS, Emulator  # noqa: E402

PINNED = "2025-12-01"


class EmulatorCredential:
    """azure-core's TokenCredential protocol: get_token(*scopes) -> AccessToken,
    the token taken from the emulator's /{tenant}/oauth2/v2.0/token."""

    def __init__(self, emu):
        self.emu = emu
        self.calls = 0

    def get_token(self, *scopes, **kwargs):
        self.calls += 1
        st, _, body = self.emu.call("POST", "/%s/oauth2/v2.0/token" % TENANT, form={
            "grant_type": "client_credentials", "client_id": CLIENT, "client_secret": SECRET,
            "scope": scopes[0]})
        if st != 200:
            raise RuntimeError("token: %s %s" % (st, body))
        return AccessToken(body["access_token"], int(time.time()) + body["expires_in"])


class SdkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator()
        cls.cred = EmulatorCredential(cls.emu)

    @classmethod
    def tearDownClass(cls):
        cls.emu.close()

    def client(self, api_version=None):
        kw = {"base_url": self.emu.base, "credential_scopes": ["https://management.azure.com/.default"]}
        if api_version:
            kw["api_version"] = api_version
        si = SecurityInsights(self.cred, SUB, **kw)
        self.addCleanup(si.close)
        return si

    def run_flow(self, api_version, prefix):
        si = self.client(api_version)
        ops = si.incidents
        http = {"enforce_https": False}  # plain HTTP to the loopback emulator
        names = ["%s-%02d" % (prefix, i) for i in range(7)]
        t0 = None
        for i, n in enumerate(names):
            inc = models.Incident(title="sdk %s" % n, severity="High" if i % 2 else "Low", status="New")
            got = ops.create_or_update(RG, WS, n, inc, **http)
            self.assertEqual(got.name, n)
            self.assertTrue(got.etag.startswith('"'))
            self.assertEqual(got.status, "New")
            if i == 3:
                t0 = got.last_modified_time_utc
        # the SDK parsed the 7-digit times into datetimes
        self.assertIsNotNone(t0.tzinfo)
        # list with a filter on lastModifiedTimeUtc, ascending, pages of 2 (nextLink followed by the SDK)
        flt = "properties/lastModifiedTimeUtc ge %s" % t0.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        seen = [x.name for x in ops.list(RG, WS, filter=flt, orderby="properties/lastModifiedTimeUtc asc",
                                         top=2, **http)]
        self.assertEqual(seen, names[3:])
        # filter on status, combined with 'and'
        got = [x.name for x in ops.list(RG, WS, filter="properties/status eq 'New' and properties/severity eq 'High'",
                                        **http) if x.name.startswith(prefix)]
        self.assertEqual(got, [n for i, n in enumerate(names) if i % 2])
        # update with the current etag: accepted, new etag
        cur = ops.get(RG, WS, names[0], **http)
        cur.title = "renamed"
        cur.status = "Active"
        upd = ops.create_or_update(RG, WS, names[0], cur, **http)
        self.assertNotEqual(upd.etag, cur.etag)
        self.assertEqual(upd.title, "renamed")
        # the stale etag: 409, which the SDK raises as ResourceExistsError (an HttpResponseError)
        cur.title = "lost update"
        with self.assertRaises(HttpResponseError) as ctx:
            ops.create_or_update(RG, WS, names[0], cur, **http)
        self.assertEqual(ctx.exception.status_code, 409)
        self.assertIsInstance(ctx.exception, ResourceExistsError)
        self.assertEqual(ctx.exception.error.code, "Conflict")
        self.assertEqual(ops.get(RG, WS, names[0], **http).title, "renamed")
        # closing: classification required; TruePositive needs SuspiciousActivity
        upd.status = "Closed"
        with self.assertRaises(HttpResponseError) as ctx:
            ops.create_or_update(RG, WS, names[0], upd, **http)
        self.assertEqual(ctx.exception.status_code, 400)
        upd.classification = "TruePositive"
        upd.classification_reason = "SuspiciousActivity"
        closed = ops.create_or_update(RG, WS, names[0], upd, **http)
        self.assertEqual((closed.status, closed.classification), ("Closed", "TruePositive"))
        # comments: create by chosen id twice = one comment; list pages
        com = si.incident_comments
        for cid in ("c1", "c2", "c1"):
            com.create_or_update(RG, WS, names[1], cid, models.IncidentComment(message="hello " + cid), **http)
        listed = list(com.list(RG, WS, names[1], top=1, **http))
        self.assertEqual([c.name for c in listed], ["c1", "c2"])
        self.assertEqual(listed[0].message, "hello c1")
        self.assertEqual(com.get(RG, WS, names[1], "c2", **http).author.name, CLIENT)
        # delete, then 404
        ops.delete(RG, WS, names[6], **http)
        with self.assertRaises(ResourceNotFoundError):
            ops.get(RG, WS, names[6], **http)

    def test_sdk_default_api_version(self):
        si = self.client()
        print("SDK default api-version:", si._config.api_version)
        self.run_flow(None, "dflt")

    def test_sdk_pinned_stable_api_version(self):
        self.run_flow(PINNED, "pinned")

    def test_zz_versions_seen(self):
        # what the SDK sent, as the emulator counted it (the tests above ran first)
        seen = self.emu.control("GET", "stats")["api_versions"]
        print("api-versions the emulator saw:", seen)
        self.assertIn("2022-12-01-preview", seen)
        self.assertIn(PINNED, seen)

    def test_sdk_unsupported_api_version(self):
        si = self.client("2099-01-01")
        with self.assertRaises(HttpResponseError) as ctx:
            list(si.incidents.list(RG, WS, enforce_https=False))
        self.assertEqual(ctx.exception.status_code, 400)


if __name__ == "__main__":
    unittest.main(verbosity=2)
