#!/usr/bin/python3
"""Writes the Sentinel replay scenarios, tests/replay/sentinel/*.json.

There is no Microsoft Sentinel to capture from here, so unlike rt/ and
redmine/ (capture.py) these answers are built from the documented ones:
the examples of the Microsoft.SecurityInsights 2025-12-01 OpenAPI
specification (Azure/azure-rest-api-specs, specification/securityinsights/
resource-manager/Microsoft.SecurityInsights/stable/2025-12-01/examples/
incidents/), the ARM error shape and throttling pages, and the Microsoft
identity platform's client-credentials answer (docs/connectors/sentinel.md
gives each URL). Each scenario says so in "captured"; what no page shows
(the exact text of an error message, a second page's skip token) is marked
"synthesized".

The names derived from correlation ids and origin markers are computed
here with Python's hashlib, independently of src/connectors/sentinel/arm.c,
so a scenario fails when the C derivation changes.

It also writes the seeds of the fuzzer (tests/fuzz/corpus/sentinel/): each
scenario's answers in the input format of tests/fuzz/answers.h, ending with
a playbook's body for the harness's webhook, and the harness's whole
sequence answered well.

Usage: python3 tests/replay/sentinel_scenarios.py   (from the repository root)
"""
import hashlib
import json
import os

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sentinel")
CORPUS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fuzz",
                      "corpus", "sentinel")
API = "api-version=2025-12-01"
SUB, RG, WS = "d0cfe6b2-9ac0-4464-9919-dccaee2e48c0", "myRg", "myWorkspace"
INCIDENTS = ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.OperationalInsights/"
             "workspaces/%s/providers/Microsoft.SecurityInsights/incidents" % (SUB, RG, WS))
TENANT, CLIENT = "replay-tenant", "replay-client"
SPEC = ("https://github.com/Azure/azure-rest-api-specs/tree/main/specification/securityinsights/"
        "resource-manager/Microsoft.SecurityInsights/stable/2025-12-01/examples/incidents")
DOCUMENTED = ("built from the documented answers (no Microsoft Sentinel here): the 2025-12-01 "
              "OpenAPI examples, " + SPEC + ", the ARM error and throttling pages and the "
              "identity platform's token answer (docs/connectors/sentinel.md)")
NAMESPACE = bytes([0x5b, 0x2e, 0x8f, 0x61, 0x0c, 0x4d, 0x4a, 0x9b,
                   0x93, 0x17, 0xd2, 0x6a, 0x41, 0xe0, 0x7c, 0x35])
SETTINGS = {"subscription": SUB, "resource_group": RG, "workspace": WS, "tenant": TENANT,
            "client_id": CLIENT, "login_url": "@server"}
USERS = [["john@contoso.com", "john"]]


def uuid8(name):
    """RFC 9562 version 8 from SHA-256, as arm.c derives it."""
    b = bytearray(hashlib.sha256(NAMESPACE + name.encode()).digest()[:16])
    b[6] = (b[6] & 0x0F) | 0x80
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def incident_name(corr):
    return uuid8("incident\n" + corr)


def comment_name(incident, body):
    marker = body[:body.index("]") + 1] if body.startswith("[concord:") else body
    return uuid8("comment\n%s\n%s" % (incident, marker))


def ticks(t):
    """2026-12-05T10:00:01.1234567Z -> 100 ns ticks since the epoch, as a string."""
    import calendar
    import time as _t
    whole, frac = t.rstrip("Z").split(".") if "." in t else (t.rstrip("Z"), "0")
    s = calendar.timegm(_t.strptime(whole, "%Y-%m-%dT%H:%M:%S"))
    return str(s * 10**7 + int((frac + "0000000")[:7])), s


def secs(t):
    return ticks(t)[1]


def incident(name, number, title, mod, created="2026-12-05T09:00:00.0000001Z", status="New",
             severity="Medium", owner="john@contoso.com", labels=(), etag_n=1, extra=None):
    props = {
        "lastModifiedTimeUtc": mod, "createdTimeUtc": created,
        "firstActivityTimeUtc": "2026-12-05T08:55:00Z",
        "lastActivityTimeUtc": "2026-12-05T08:59:00Z",
        "description": "This is a demo incident", "title": title,
        "owner": {"objectId": "2046feea-040d-4a46-9e2b-91c2941bfa70",
                  "email": "john.doe@contoso.com", "userPrincipalName": owner,
                  "assignedTo": "john doe"} if owner else
                 {"objectId": None, "email": None, "userPrincipalName": None, "assignedTo": None},
        "severity": severity, "status": status,
        "incidentUrl": "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/"
                       "Incident" + INCIDENTS + "/" + name,
        "incidentNumber": number,
        "labels": [{"labelName": l, "labelType": "User"} for l in labels],
        "providerName": "Azure Sentinel", "providerIncidentId": str(number),
        "relatedAnalyticRuleIds": [],
        "additionalData": {"alertsCount": 0, "bookmarksCount": 0, "commentsCount": 0,
                           "alertProductNames": [], "tactics": []},
    }
    if extra:
        props.update(extra)
    return {"id": INCIDENTS + "/" + name, "name": name,
            "type": "Microsoft.SecurityInsights/incidents",
            "etag": "\"0300bf09-0000-0000-0000-5c37296e%04d\"" % etag_n, "properties": props}


def comment(incident_id, name, message, created):
    return {"id": INCIDENTS + "/" + incident_id + "/comments/" + name, "name": name,
            "type": "Microsoft.SecurityInsights/incidents/comments",
            "etag": "0300bf09-0000-0000-0000-5c37296e0000",
            "properties": {"message": message, "createdTimeUtc": created,
                           "lastModifiedTimeUtc": created,
                           "author": {"objectId": "2046feea-040d-4a46-9e2b-91c2941bfa70",
                                      "email": "john.doe@contoso.com",
                                      "userPrincipalName": "john@contoso.com",
                                      "name": "john doe"}}}


JSON_H = {"Content-Type": "application/json; charset=utf-8"}


def token(n=1, life=3599, auth_seen=None):
    return {"method": "POST", "path": "/%s/oauth2/v2.0/token" % TENANT,
            "request": {"auth": auth_seen, "content_type": "application/x-www-form-urlencoded",
                        "body_contains": ["grant_type=client_credentials",
                                          "client_id=" + CLIENT,
                                          "client_secret=replay-secret-0000",
                                          "&scope=http%3A%2F%2F127.0.0.1%3A"]},
            "status": 200, "headers": JSON_H,
            "body": {"token_type": "Bearer", "expires_in": life, "ext_expires_in": life,
                     "access_token": "replay-token-%d" % n}}


def get(path, body, status=200, auth=None, headers=None, synthesized=None):
    x = {"method": "GET", "path": path, "status": status, "headers": headers or JSON_H,
         "body": body}
    if auth:
        x["request"] = {"auth": auth}
    if synthesized:
        x["synthesized"] = synthesized
    return x


def inc_path(name, suffix=""):
    return "%s/%s%s?%s" % (INCIDENTS, name, suffix, API)


def list_path(when):
    w = when.replace(":", "%3A")
    return ("%s?%s&$filter=properties%%2FlastModifiedTimeUtc%%20ge%%20%s&$orderby="
            "properties%%2FlastModifiedTimeUtc%%20asc&$top=100" % (INCIDENTS, API, w))


def comments_of(name, comments=()):
    """A poll's read: the incident as listed, then its comments."""
    return get(inc_path(name, "/comments"), {"value": list(comments)})


def reads(name, inc, comments=(), auth=None):
    return [get(inc_path(name), inc, auth=auth),
            get(inc_path(name, "/comments"), {"value": list(comments)}, auth=auth)]


def scenario(fname, what, steps, exchanges, captured=DOCUMENTED, auth="Bearer replay-token-1"):
    sc = {"scenario": what, "kind": "sentinel", "base": "", "captured": captured,
          "settings": SETTINGS, "users": USERS, "auth": auth, "steps": steps,
          "exchanges": exchanges}
    with open(os.path.join(HERE, fname), "w") as f:
        json.dump(sc, f, indent=1)
        f.write("\n")


A = "73e01a99-5cd7-4139-a149-9f2736ff2ab5"
B = "8a2f3e1c-1d4b-4c3e-9f7a-2b6c5d4e3f21"
C = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"
T1, T2, T3 = "2026-12-05T10:00:01.1234567Z", "2026-12-05T10:00:02.2Z", "2026-12-05T10:00:03.3Z"
SINCE = secs("2026-12-05T10:00:00Z")


def record(name, inc, corr=None, comments=()):
    p = inc["properties"]
    owner = p["owner"].get("userPrincipalName")
    rec = {"id": name, "rv": ticks(p["lastModifiedTimeUtc"])[0], "deleted": False,
           "mtime_s": secs(p["lastModifiedTimeUtc"]), "created_s": secs(p["createdTimeUtc"]),
           "correlation_id": corr,
           "fields": {"title": p["title"], "state": p["status"], "priority": p["severity"],
                      "assignee": {"john@contoso.com": "john"}.get(owner, owner or "")},
           # no field history in ARM: no field's own change time is known
           "field_times": {f: 0 for f in ("title", "state", "priority", "assignee")}}
    rec["comments"] = [{"id": c["name"], "body": c["properties"]["message"],
                        "author": "john@contoso.com",
                        "created_s": secs(c["properties"]["createdTimeUtc"])} for c in comments]
    return rec


def main():
    os.makedirs(HERE, exist_ok=True)
    ia, ib, ic = (incident(A, 3177, "Incident A", T1), incident(B, 3178, "Incident B", T2),
                  incident(C, 3179, "Incident C", T3))
    ca = comment(A, "4bb36b7b-26ff-4d1c-9cbe-0d8ab3da0014", "Some message",
                 "2026-12-05T09:30:00Z")
    nxt = "@server" + INCIDENTS + "?" + API + "&$skipToken=replay-page-2"

    scenario("list-pages.json",
             "Sentinel: a listing of two pages joined by nextLink, cut at page_size 2, "
             "each incident observed as listed (the page's comment lists read at once), then "
             "resumed after the last one returned",
             [{"op": "list", "since_s": SINCE, "after_mtime_s": 0, "after_id": None,
               "page_size": 2,
               "expect": {"result": "OK", "requests": 5,
                          "page": {"nitems": 2, "more": True, "ids": [A, B],
                                   "records": [record(A, ia, comments=[ca]), record(B, ib)]}}},
              {"op": "list", "since_s": SINCE, "after": "previous", "page_size": 2,
               "expect": {"result": "OK", "requests": 2,
                          "page": {"nitems": 1, "more": False, "ids": [C]}}}],
             [token(),
              get(list_path("2026-12-05T10:00:00Z"), {"value": [ia, ib], "nextLink": nxt}),
              get(INCIDENTS + "?" + API + "&$skipToken=replay-page-2", {"value": [ic]},
                  synthesized="a second page: the examples show one page and name nextLink"),
              dict(comments_of(A, [ca]), group=1), dict(comments_of(B), group=1),
              get(list_path("2026-12-05T10:00:02Z"), {"value": [ib, ic]}),
              comments_of(C)])

    scenario("list-idle.json", "Sentinel: nothing changed since the cursor: one listing request, "
             "an empty page",
             [{"op": "list", "since_s": SINCE, "after_mtime_s": 0, "after_id": None,
               "page_size": 100,
               "expect": {"result": "OK", "requests": 2, "page": {"nitems": 0, "more": False}}}],
             [token(), get(list_path("2026-12-05T10:00:00Z"), {"value": []})])

    scenario("list-429.json", "Sentinel: ARM throttles the listing (429, Retry-After): RETRY "
             "with its delay",
             [{"op": "list", "since_s": SINCE, "after_mtime_s": 0, "after_id": None,
               "page_size": 100,
               "expect": {"result": "RETRY", "retry_after_ms": 7000, "requests": 2,
                          "page": {"nitems": 0}}}],
             [token(), get(list_path("2026-12-05T10:00:00Z"),
                           {"error": {"code": "TooManyRequests",
                                      "message": "The request is being throttled."}},
                           status=429, headers={"Content-Type": "application/json",
                                                "Retry-After": "7",
                                                "x-ms-ratelimit-remaining-subscription-reads": "0"},
                           synthesized="the code and message of a throttled request")])

    bad = dict(ia)
    bad["properties"] = {"title": "no times"}
    scenario("list-malformed.json", "Sentinel: listings of the wrong shape (an incident without "
             "lastModifiedTimeUtc, no value array, a nextLink to another host) are failed calls, "
             "never an empty page",
             [{"op": "list", "since_s": SINCE, "after_mtime_s": 0, "after_id": None,
               "page_size": 100,
               "expect": {"result": "RETRY", "reason_contains": "malformed answer",
                          "page": {"nitems": 0}}},
              {"op": "list", "since_s": SINCE, "after_mtime_s": 0, "after_id": None,
               "page_size": 100,
               "expect": {"result": "RETRY", "reason_contains": "no incident list"}},
              {"op": "list", "since_s": SINCE, "after_mtime_s": 0, "after_id": None,
               "page_size": 100,
               "expect": {"result": "RETRY", "reason_contains": "nextLink off the management"}}],
             [token(),
              get(list_path("2026-12-05T10:00:00Z"), {"value": [bad]}, synthesized="malformed"),
              get(list_path("2026-12-05T10:00:00Z"), {"values": []}, synthesized="malformed"),
              get(list_path("2026-12-05T10:00:00Z"),
                  {"value": [ia], "nextLink": "https://evil.example" + INCIDENTS + "?x=1"},
                  synthesized="a nextLink to another host")])

    # a comment moves no incident time: the version counts the comments, so a
    # read after a comment was added is a newer version, not a duplicate
    cnt = dict(ia, properties=dict(ia["properties"], additionalData=dict(
        ia["properties"]["additionalData"], commentsCount=1)))
    rc = record(A, cnt, comments=[ca])
    rc["rv"] = str(int(rc["rv"]) + 1)
    scenario("read-comments-count.json", "Sentinel: an incident's version is its time in "
             "100 ns ticks plus its comments' count (a comment added moves no incident time)",
             [{"op": "read", "id": A, "expect": {"result": "OK", "requests": 3, "record": rc}}],
             [token(), *reads(A, cnt, [ca])], captured=DOCUMENTED + " (commentsCount set to 1)")

    scenario("read-gone.json", "Sentinel: a read of a deleted incident (404): a deleted "
             "observation",
             [{"op": "read", "id": A,
               "expect": {"result": "OK", "requests": 2, "record": {"id": A, "deleted": True}}}],
             [token(), get(inc_path(A), {"error": {"code": "NotFound",
                                                   "message": "Incident not found"}},
                           status=404, synthesized="the message of a missing incident")])

    corr = "concord-42"
    n42 = incident_name(corr)
    i42 = incident(n42, 3180, "Raised in RT", T1, labels=[corr])
    put = {"method": "PUT", "path": inc_path(n42),
           "request": {"body_contains": ["\"title\":\"Raised in RT\"", "\"labelName\":\"" + corr,
                                         "\"status\":\"New\"", "\"severity\":\"High\"",
                                         "\"owner\":{\"userPrincipalName\":\"john@contoso.com\"}"],
                       "body_lacks": ["\"etag\""]},
           "status": 201, "headers": JSON_H, "body": i42}
    i42h = incident(n42, 3180, "Raised in RT", T1, labels=[corr], severity="High")
    put["body"] = i42h
    create_step = {"op": "create", "correlation_id": corr,
                   "values": {"title": "Raised in RT", "priority": "High", "assignee": "john"}}
    scenario("create.json", "Sentinel: a create is a PUT to the name derived from the "
             "correlation id, which is also a label; the incident is read back",
             [dict(create_step, expect={"result": "OK", "requests": 4,
                                        "record": record(n42, i42h, corr=corr)})],
             [token(), put, *reads(n42, i42h)])

    put502 = dict(put, status=502, body={"error": {"code": "BadGateway", "message": "gateway"}},
                  synthesized="a gateway's 502 after the PUT may have been applied")
    scenario("create-retried.json", "Sentinel: a create whose answer was lost (502) is RETRY "
             "with the outcome unknown; the lookup (the GET of the derived name is the "
             "observation) and the create sent again name the same incident, so no second "
             "one is made",
             [dict(create_step, expect={"result": "RETRY", "outcome_unknown": True}),
              {"op": "find", "correlation_id": corr,
               "expect": {"result": "OK", "found": True, "requests": 2,
                          "record": {"id": n42, "correlation_id": corr}}},
              dict(create_step, expect={"result": "OK", "record": {"id": n42}}),
              {"op": "find", "correlation_id": "concord-43",
               "expect": {"result": "OK", "found": False, "requests": 1}}],
             [token(), put502, get(inc_path(n42), i42h), comments_of(n42), put,
              *reads(n42, i42h),
              get(inc_path(incident_name("concord-43")),
                  {"error": {"code": "NotFound", "message": "Incident not found"}}, status=404)])

    ia2 = incident(A, 3177, "Incident A renamed", "2026-12-05T10:05:00.7654321Z", etag_n=2)
    upd_put = {"method": "PUT", "path": inc_path(A),
               "request": {"body_contains": ["\"etag\":\"\\\"0300bf09-0000-0000-0000-5c37296e0001\\\"\"",
                                             "\"title\":\"Incident A renamed\"",
                                             "\"status\":\"New\"", "\"severity\":\"Medium\"",
                                             "\"description\":\"This is a demo incident\"",
                                             "\"firstActivityTimeUtc\""],
                           "body_lacks": ["incidentNumber", "lastModifiedTimeUtc",
                                          "additionalData", "incidentUrl"]},
               "status": 200, "headers": JSON_H, "body": ia2}
    read_a = {"op": "read", "id": A, "expect": {"result": "OK", "record": record(A, ia)}}
    scenario("update.json", "Sentinel: an update reads the incident, merges the title into its "
             "writable properties and PUTs them back with the etag read; the PUT's answer is "
             "the incident as written (its comments read)",
             [read_a,
              {"op": "update", "id": A, "expected_rv": "previous",
               "values": {"title": "Incident A renamed"},
               "expect": {"result": "OK", "requests": 3, "record": record(A, ia2)}}],
             [token(), *reads(A, ia), get(inc_path(A), ia), upd_put, comments_of(A)])

    put409 = dict(upd_put, status=409,
                  body={"error": {"code": "Conflict", "message": "The etag does not match "
                                  "the etag of the incident"}},
                  synthesized="the message of a stale etag")
    del put409["request"]
    scenario("update-409.json", "Sentinel: the etag went stale between the read and the PUT "
             "(409): CONFLICT quoting ARM's error; and an incident already moved past the "
             "version expected is CONFLICT without a PUT",
             [read_a,
              {"op": "update", "id": A, "expected_rv": "previous",
               "values": {"title": "Incident A renamed"},
               "expect": {"result": "CONFLICT", "reason_contains": "HTTP 409 Conflict: The etag",
                          "requests": 2}},
              {"op": "update", "id": A, "expected_rv": ticks(T1)[0],
               "values": {"title": "Incident A renamed"},
               "expect": {"result": "CONFLICT", "reason_contains": "moved", "requests": 1}}],
             [token(), *reads(A, ia), get(inc_path(A), ia), put409, get(inc_path(A), ia2)])

    put400 = {"method": "PUT", "path": inc_path(A),
              "request": {"body_contains": ["\"status\":\"Closed\""],
                          "body_lacks": ["\"classification\""]},
              "status": 400, "headers": JSON_H,
              "body": {"error": {"code": "BadRequest",
                                 "message": "Classification is required when closing an "
                                            "incident"}},
              "synthesized": "the wording of ARM's message (the requirement is documented)"}
    scenario("close-400.json", "Sentinel: closing without a classification: ARM's 400 is an "
             "ERROR quoting its message",
             [read_a,
              {"op": "update", "id": A, "expected_rv": "previous", "values": {"state": "Closed"},
               "expect": {"result": "ERROR",
                          "reason_contains": "HTTP 400 BadRequest: Classification is required"}}],
             [token(), *reads(A, ia), get(inc_path(A), ia), put400])

    body = "[concord:9:1:77] a comment from RT"
    cn = comment_name(A, body)
    scenario("comment.json", "Sentinel: a comment is a PUT to a name derived from its origin "
             "marker (sent again, the same comment); its id is that name",
             [{"op": "comment", "id": A, "body": body,
               "expect": {"result": "OK", "comment_id": cn, "requests": 2}},
              {"op": "comment", "id": A, "body": body,
               "expect": {"result": "OK", "comment_id": cn, "requests": 1}}],
             [token(),
              {"method": "PUT", "path": inc_path(A, "/comments/" + cn),
               "request": {"body_contains": ["{\"properties\":{\"message\":\"[concord:9:1:77]"]},
               "status": 201, "headers": JSON_H,
               "body": comment(A, cn, body, "2026-12-05T10:06:00Z")},
              {"method": "PUT", "path": inc_path(A, "/comments/" + cn), "status": 200,
               "headers": JSON_H, "body": comment(A, cn, body, "2026-12-05T10:06:00Z")}])

    expired = {"error": {"code": "ExpiredAuthenticationToken",
                         "message": "The access token expiry UTC time is earlier than current "
                                    "UTC time."}}
    scenario("token-401.json", "Sentinel: ARM refuses the token (401): a new token is fetched "
             "once and the request sent again; a second 401 is the answer (ERROR)",
             [{"op": "read", "id": A, "expect": {"result": "OK", "requests": 5,
                                                 "record": {"id": A}}},
              {"op": "read", "id": B, "expect": {"result": "ERROR", "reason_contains": "HTTP 401"}}],
             [token(1), get(inc_path(A), expired, status=401,
                            synthesized="a token refused before its expiry"),
              token(2, auth_seen=None),
              get(inc_path(A), ia, auth="Bearer replay-token-2"),
              get(inc_path(A, "/comments"), {"value": []}, auth="Bearer replay-token-2"),
              get(inc_path(B), expired, status=401, auth="Bearer replay-token-2"),
              token(3),
              get(inc_path(B), expired, status=401, auth="Bearer replay-token-3")])

    scenario("token-expiry.json", "Sentinel: a token is kept while it is valid and fetched again "
             "before it expires (expires_in 2: due after two seconds)",
             [{"op": "read", "id": A, "expect": {"result": "OK", "requests": 3}},
              {"op": "sleep", "ms": 2100},
              {"op": "read", "id": A, "expect": {"result": "OK", "requests": 3}}],
             [token(1, life=2), *reads(A, ia),
              token(2, life=3599), *reads(A, ia, auth="Bearer replay-token-2")])

    scenario("token-refused.json", "Sentinel: the token endpoint refuses the client (401 "
             "invalid_client): ERROR quoting its description, nothing sent to ARM",
             [{"op": "read", "id": A,
               "expect": {"result": "ERROR", "requests": 1,
                          "reason_contains": "token request: HTTP 401 invalid_client: "
                                             "AADSTS7000215"}}],
             [dict(token(1), status=401,
                   body={"error": "invalid_client",
                         "error_description": "AADSTS7000215: Invalid client secret provided.",
                         "error_codes": [7000215]},
                   synthesized="an Entra ID refusal (its documented error shape)")])

    hook = {"incidentId": A, "incidentArmId": INCIDENTS + "/" + A,
            "lastModifiedTimeUtc": T1, "operation": "updated"}
    other = dict(hook, incidentArmId=INCIDENTS.replace("myWorkspace", "other") + "/" + A)
    scenario("webhook.json", "Sentinel: the playbook's body names an incident, which is read as "
             "it is now, each time (a comment added moves no incident time, so the body's time "
             "cannot say it was read already); a body of the wrong shape is malformed; another "
             "workspace's is none of this system's",
             [{"op": "webhook", "body": "{\"incidentId\": 7}",
               "expect": {"result": "RETRY", "reason_contains": "malformed", "requests": 0}},
              {"op": "webhook", "body": json.dumps(other),
               "expect": {"result": "OK", "page": {"nitems": 0}, "requests": 0}},
              {"op": "webhook", "body": json.dumps(hook),
               "expect": {"result": "OK", "requests": 3,
                          "page": {"nitems": 1, "ids": [A], "records": [record(A, ia, comments=[ca])]}}},
              {"op": "webhook", "body": json.dumps(hook),
               "expect": {"result": "OK", "requests": 2,
                          "page": {"nitems": 1, "ids": [A], "records": [record(A, ia, comments=[ca])]}}}],
             [token(), *reads(A, ia, [ca]), *reads(A, ia, [ca])])


def answer(x):
    """One exchange's answer as a fuzz seed answer: STATUS, headers, blank line, body."""
    hs = "".join("%s: %s\n" % (k, v) for k, v in (x.get("headers") or {}).items())
    body = json.dumps(x["body"]) if "body" in x else x.get("body_text", "")
    return "%d\n%s\n%s" % (x.get("status", 200), hs,
                            body.replace("@server", "http://management.fuzz"))


def fuzz_corpus():
    os.makedirs(CORPUS, exist_ok=True)
    hook = json.dumps({"incidentId": A, "incidentArmId": INCIDENTS + "/" + A,
                       "lastModifiedTimeUtc": T1, "operation": "updated"})
    for f in sorted(os.listdir(HERE)):
        with open(os.path.join(HERE, f)) as fh:
            sc = json.load(fh)
        seeds = [answer(x) for x in sc["exchanges"]] + [hook]
        with open(os.path.join(CORPUS, f[:-5]), "w") as out:
            out.write("\n~~~\n".join(seeds))
    # the harness's sequence: token, two listings, read, find, update, create, comment, webhook
    ia, ib = incident(A, 1, "A", T1), incident(B, 2, "B", T2)
    ca = comment(A, "4bb36b7b-26ff-4d1c-9cbe-0d8ab3da0014", "Some message",
                 "2026-12-05T09:30:00Z")
    n2 = incident_name("concord-2")
    i2 = incident(n2, 3, "disk full", T3, labels=["concord-2"])
    seq = [token(), {"body": {"value": [ia], "nextLink": "@server" + INCIDENTS + "?x=1"}},
           {"body": {"value": [ib]}}, {"body": {"value": [ca]}}, {"body": {"value": []}},
           {"body": {"value": [ia, ib]}},
           {"body": ia}, {"body": {"value": [ca], "nextLink": "@server" + INCIDENTS + "/c?y=2"}},
           {"body": {"value": []}},
           {"status": 404, "body": {"error": {"code": "NotFound", "message": "x"}}},
           {"body": ia}, {"body": ia}, {"body": ia}, {"body": {"value": []}},
           {"status": 201, "body": i2}, {"body": i2}, {"body": {"value": []}},
           {"status": 201, "body": ca},
           {"body": {"incidentId": A, "incidentArmId": INCIDENTS + "/" + A,
                     "lastModifiedTimeUtc": "2026-12-05T11:00:00.0000001Z",
                     "operation": "updated"}}]
    with open(os.path.join(CORPUS, "sequence-all-ops"), "w") as out:
        out.write("\n~~~\n".join(answer(x) for x in seq))


if __name__ == "__main__":
    main()
    fuzz_corpus()
