#!/usr/bin/python3
"""tests/replay/servicenow/make_scenarios.py: writes the ServiceNow replay
scenarios (*.json beside it) from the answers ServiceNow's documentation
gives, since there is no ServiceNow server here to capture from
(tests/replay/README.md). Each scenario names its sources in "captured".
The paths are the ones the connector sends (src/connectors/servicenow/),
escaped as curl_easy_escape does.

Run: python3 tests/replay/servicenow/make_scenarios.py   (rewrites the files)
"""

import json
import os
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
TABLE_API = ("https://docs.servicenow.com/bundle/kingston-application-development/page/"
             "integrate/inbound-rest/concept/c_TableAPI.html")
LINK_DOC = ("https://www.servicenow.com/community/developer-forum/want-to-limit-query-to-50-"
            "records-at-a-time-while-making-a-get/m-p/1913870")
RATE_DOC = ("https://www.servicenow.com/docs/bundle/yokohama-api-reference/page/integrate/"
            "inbound-rest/concept/inbound-REST-API-rate-limiting.html")
JOURNAL_DOC = "https://womennow.dev/notebook/audithistory-tables"
PLAIN = "sysparm_display_value=false&sysparm_exclude_reference_link=true"
FIELDS = ("sys_id%2Csys_mod_count%2Csys_updated_on%2Csys_updated_by%2Csys_created_on"
          "%2Csys_created_by%2Cnumber%2Ccorrelation_id%2Cshort_description%2Cstate%2Cpriority")
T = "/api/now/table/"
ID1 = "9d385017c611228701d22104cc95c371"
ID2 = "e8caedcbc0a80164017df472f39eaed1"
ID3 = "46d44a23a9fe19810012d100cca80666"
NOTE = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
DATE = "Sat, 05 Dec 2026 10:00:30 GMT"
BASE = {"kind": "servicenow", "base": "", "settings": {"user": "replay"}}


def esc(q):
    return urllib.parse.quote(q, safe="")


def record_path(sid):
    return "%s%s/%s?sysparm_fields=%s&%s" % (T, "incident", sid, FIELDS, PLAIN)


def journal_path(sid, desc=False, limit=1000):
    q = "element_id=%s^name=incident^element=work_notes^ORDERBY%ssys_created_on" % (
        sid, "DESC" if desc else "")
    return ("%ssys_journal_field?sysparm_query=%s&sysparm_fields=sys_id%%2Celement%%2Cvalue"
            "%%2Csys_created_on%%2Csys_created_by&sysparm_limit=%d" % (T, esc(q), limit))


def audit_path(sid):
    q = ("documentkey=%s^tablename=incident^fieldnameINshort_description,state,priority"
         "^ORDERBYDESCsys_created_on" % sid)
    return ("%ssys_audit?sysparm_query=%s&sysparm_fields=fieldname%%2Csys_created_on%%2Cuser"
            "%%2Crecord_checkpoint&sysparm_limit=1000" % (T, esc(q)))


def list_path(query, offset):
    return ("%sincident?sysparm_query=%s&sysparm_fields=sys_id%%2Csys_updated_on%%2C"
            "sys_mod_count&sysparm_limit=500&sysparm_offset=%d&%s" % (T, esc(query), offset,
                                                                       PLAIN))


def record(sid, mod, updated, title="Email server down", state="2", prio="3", corr=""):
    return {"sys_id": sid, "sys_mod_count": str(mod), "sys_updated_on": updated,
            "sys_updated_by": "beth.anglin", "sys_created_on": "2026-12-05 09:00:00",
            "sys_created_by": "admin", "number": "INC0010001", "correlation_id": corr,
            "short_description": title, "state": state, "priority": prio}


def ok(body, status=200, extra=None):
    h = {"Content-Type": "application/json;charset=UTF-8", "Date": DATE}
    h.update(extra or {})
    return {"status": status, "headers": h, "body": body}


def read_exchanges(sid, mod, updated, notes=(), audit=(), group=0, **kw):
    rows = [{"sys_id": n[0], "element": "work_notes", "value": n[1],
             "sys_created_on": n[2], "sys_created_by": n[3]} for n in notes]
    aud = [{"fieldname": a[0], "sys_created_on": a[1], "user": a[2]} for a in audit]
    x = [dict(method="GET", path=record_path(sid), **ok({"result": record(sid, mod, updated, **kw)})),
         dict(method="GET", path=journal_path(sid), **ok({"result": rows})),
         dict(method="GET", path=audit_path(sid), **ok({"result": aud}))]
    if group:
        x[0]["group"] = group
        x[1]["group"] = group + 1
    return x


def write(name, scenario, captured, steps, exchanges):
    sc = {"scenario": scenario}
    sc.update(BASE)
    sc["captured"] = ("built from ServiceNow's documentation (no server here): " + captured)
    sc["steps"] = steps
    sc["exchanges"] = exchanges
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(sc, f, indent=1)
        f.write("\n")


Q0 = "sys_updated_on>=2026-12-05 10:00:00^ORDERBYsys_updated_on^ORDERBYsys_id"


def main():
    nxt = ("<https://replay.service-now.com/api/now/table/incident?sysparm_query=%s"
           "&sysparm_fields=sys_id,sys_updated_on,sys_mod_count&sysparm_limit=500"
           "&sysparm_offset=%d>;rel=\"%s\"")
    link1 = ", ".join([nxt % (esc(Q0), 0, "first"), nxt % (esc(Q0), 500, "next"),
                       nxt % (esc(Q0), 500, "last")])
    page1 = {"result": [{"sys_id": ID1, "sys_updated_on": "2026-12-05 10:00:05",
                         "sys_mod_count": "2"},
                        {"sys_id": ID2, "sys_updated_on": "2026-12-05 10:00:05",
                         "sys_mod_count": "0"}]}
    page2 = {"result": [{"sys_id": ID3, "sys_updated_on": "2026-12-05 10:00:09",
                         "sys_mod_count": "4"}]}
    last = nxt % (esc(Q0), 0, "first") + ", " + nxt % (esc(Q0), 0, "prev")
    x = [dict(method="GET", path=list_path(Q0, 0),
              **ok(page1, extra={"X-Total-Count": "501", "Link": link1})),
         dict(method="GET", path=list_path(Q0, 500),
              **ok(page2, extra={"X-Total-Count": "501", "Link": last}))]
    # the reads of the page's two records: rows at once, then journals at once
    x += [dict(method="GET", path=record_path(ID1), group=1,
               **ok({"result": record(ID1, 2, "2026-12-05 10:00:05")})),
          dict(method="GET", path=record_path(ID2), group=1,
               **ok({"result": record(ID2, 0, "2026-12-05 10:00:05", title="VPN slow")})),
          dict(method="GET", path=journal_path(ID1), group=2,
               **ok({"result": [{"sys_id": NOTE, "element": "work_notes", "value": "rebooted",
                                 "sys_created_on": "2026-12-05 10:00:05",
                                 "sys_created_by": "beth.anglin"}]})),
          dict(method="GET", path=journal_path(ID2), group=2, **ok({"result": []})),
          dict(method="GET", path=audit_path(ID1),
               **ok({"result": [{"fieldname": "state", "sys_created_on": "2026-12-05 10:00:05",
                                 "user": "beth.anglin"}]})),
          dict(method="GET", path=audit_path(ID2), **ok({"result": []}))]
    q2 = ("sys_updated_on>=2026-12-05 10:00:05^sys_updated_on>2026-12-05 10:00:05^ORsys_id>"
          + ID2 + "^ORDERBYsys_updated_on^ORDERBYsys_id")
    x += [dict(method="GET", path=list_path(q2, 0),
               **ok(page2, extra={"X-Total-Count": "1"}))]
    x += read_exchanges(ID3, 4, "2026-12-05 10:00:09")
    write("list-pages",
          "ServiceNow: a listing whose Link header (URLs with unencoded commas) says a page "
          "follows: both listing pages read, the page of two records read (rows at once, then "
          "journals at once, then each audit), the next page resumes after the keyset in the "
          "query itself",
          "the Table API's GET with sysparm_query, sysparm_limit, sysparm_offset, X-Total-Count "
          "and Link (" + TABLE_API + ", " + LINK_DOC + "); journal and audit rows (" +
          JOURNAL_DOC + "); the listing pages cut to a few rows of their 500 for brevity",
          [{"op": "list", "since_s": 1796464800, "after_mtime_s": 0, "after_id": None,
            "page_size": 2,
            "expect": {"result": "OK", "requests": 8,
                       "page": {"nitems": 2, "more": True, "ids": [ID1, ID2],
                                "records": [{"rv": "3", "mtime_s": 1796464805,
                                             "fields": {"title": "Email server down",
                                                        "state": "2", "priority": "3"},
                                             "field_times": {"state": 1796464805,
                                                             "title": 1796461200},
                                             "authors": {"state": "beth.anglin",
                                                         "title": "admin"},
                                             "comments": [{"id": NOTE, "body": "rebooted",
                                                           "author": "beth.anglin"}]},
                                            {"rv": "1", "fields": {"title": "VPN slow"}}]}}},
           {"op": "list", "since_s": 1796464800, "after": "previous", "page_size": 2,
            "expect": {"result": "OK", "requests": 4,
                       "page": {"nitems": 1, "more": False, "ids": [ID3]}}}],
          x)

    write("list-idle",
          "ServiceNow: an idle poll: an empty result, X-Total-Count 0, no Link: one request, "
          "an empty page that is OK",
          "the Table API's GET of an empty query result (" + TABLE_API + ")",
          [{"op": "list", "since_s": 1796464800, "after_mtime_s": 0, "after_id": None,
            "page_size": 100,
            "expect": {"result": "OK", "requests": 1, "page": {"nitems": 0, "more": False}}}],
          [dict(method="GET", path=list_path(Q0, 0), **ok({"result": []},
                                                           extra={"X-Total-Count": "0"}))])

    write("list-429",
          "ServiceNow: a listing refused by a rate limit rule: 429 with Retry-After and the "
          "X-RateLimit-* headers: RETRY with the delay, nothing more sent",
          "the 429 of an inbound REST API rate limit rule, its headers X-RateLimit-Limit, "
          "X-RateLimit-Reset (epoch seconds), X-RateLimit-Rule and Retry-After (" + RATE_DOC +
          ")",
          [{"op": "list", "since_s": 1796464800, "after_mtime_s": 0, "after_id": None,
            "page_size": 100,
            "expect": {"result": "RETRY", "requests": 1, "retry_after_ms": 7000,
                       "page": {"nitems": 0}}}],
          [dict(method="GET", path=list_path(Q0, 0),
                **ok({"error": {"message": "Rate limit of 10 requests per hour for Table API "
                                           "exceeded", "detail": "rule incident-poll"},
                      "status": "failure"}, status=429,
                     extra={"Retry-After": "7", "X-RateLimit-Limit": "10",
                            "X-RateLimit-Reset": "1796465437",
                            "X-RateLimit-Rule": "b6fb1ed2c0a80164017d6e7d8a2b5a06"}))])

    write("list-malformed",
          "ServiceNow: a listing whose row has no sys_mod_count: a malformed answer (RETRY), "
          "never an empty page",
          "a Table API list answer (" + TABLE_API + ") with a member taken out",
          [{"op": "list", "since_s": 1796464800, "after_mtime_s": 0, "after_id": None,
            "page_size": 100,
            "expect": {"result": "RETRY", "reason_contains": "malformed answer",
                       "page": {"nitems": 0}}}],
          [dict(method="GET", path=list_path(Q0, 0),
                **ok({"result": [{"sys_id": ID1, "sys_updated_on": "2026-12-05 10:00:05"}]},
                     extra={"X-Total-Count": "1"}))])

    write("read-gone",
          "ServiceNow: a read of a record deleted: 404 No Record found: deleted, newer than "
          "any version",
          "the Table API's 404 for a sys_id that does not exist (" + TABLE_API + ")",
          [{"op": "read", "id": ID1,
            "expect": {"result": "OK", "requests": 1,
                       "record": {"id": ID1, "deleted": True, "rv": "18446744073709551615"}}}],
          [dict(method="GET", path=record_path(ID1),
                **ok({"error": {"message": "No Record found", "detail": "Record doesn't exist "
                                "or ACL restricts the record retrieval"},
                      "status": "failure"}, status=404))])

    rec = record(ID1, 2, "2026-12-05 10:00:05")
    rec["sys_updated_on"] = "2026-12-05T10:00:05Z"
    write("read-malformed",
          "ServiceNow: a read whose sys_updated_on is ISO 8601, not the Table API's "
          "'YYYY-MM-DD HH:MM:SS': malformed (RETRY)",
          "a Table API record (" + TABLE_API + ") with its time in another format",
          [{"op": "read", "id": ID1,
            "expect": {"result": "RETRY", "reason_contains": "sys_updated_on"}}],
          [dict(method="GET", path=record_path(ID1), **ok({"result": rec}))])

    create_x = [dict(method="POST", path=T + "incident?sysparm_fields=sys_id&" + PLAIN,
                     request={"body_contains": ["\"correlation_id\":\"concord-7\"",
                                                "\"correlation_display\":\"concord\"",
                                                "\"impact\":\"1\"", "\"urgency\":\"2\"",
                                                "\"short_description\":\"Printer on fire\""],
                              "body_lacks": ["\"priority\""]},
                     **ok({"result": {"sys_id": ID1}}, status=201))]
    create_x += read_exchanges(ID1, 0, "2026-12-05 10:00:05", title="Printer on fire",
                               state="1", prio="2", corr="concord-7")
    write("create",
          "ServiceNow: a create: POST with the correlation id, correlation_display concord and "
          "the priority as impact and urgency (never priority), 201 with the sys_id, the "
          "record read back",
          "the Table API's POST (" + TABLE_API + "); the default priority lookup "
          "(https://www.servicenow.com/community/itsm-blog/managing-incident-priority/ba-p/"
          "2294101)",
          [{"op": "create", "correlation_id": "concord-7",
            "values": {"title": "Printer on fire", "state": "1", "priority": "2"},
            "expect": {"result": "OK", "requests": 4,
                       "record": {"id": ID1, "rv": "1", "correlation_id": "concord-7",
                                  "fields": {"priority": "2"}}}}],
          create_x)

    find_q = esc("correlation_id=concord-7^ORDERBYsys_created_on")
    find_x = [dict(method="GET",
                   path=T + "incident?sysparm_query=" + find_q + "&sysparm_fields=sys_id%2C"
                   "correlation_id&sysparm_limit=5&" + PLAIN,
                   **ok({"result": [{"sys_id": ID1, "correlation_id": "concord-7"}]}))]
    find_x += read_exchanges(ID1, 0, "2026-12-05 10:00:05", corr="concord-7")
    write("find",
          "ServiceNow: find by correlation id: sysparm_query=correlation_id=X, then the record",
          "the Table API's GET with an encoded query (" + TABLE_API + ")",
          [{"op": "find", "correlation_id": "concord-7",
            "expect": {"result": "OK", "found": True, "requests": 4,
                       "record": {"id": ID1, "correlation_id": "concord-7"}}}],
          find_x)

    ver = T + "incident/" + ID1 + "?sysparm_fields=sys_id%2Csys_mod_count"
    patch = T + "incident/" + ID1 + "?sysparm_fields=sys_id"
    upd_x = read_exchanges(ID1, 2, "2026-12-05 10:00:05")
    upd_x += [dict(method="GET", path=ver, **ok({"result": {"sys_id": ID1,
                                                             "sys_mod_count": "2"}})),
              dict(method="PATCH", path=patch,
                   request={"body_contains": ["\"short_description\":\"Email back\"",
                                              "\"impact\":\"2\"", "\"urgency\":\"3\""],
                            "body_lacks": ["\"priority\""]},
                   **ok({"result": {"sys_id": ID1}}))]
    upd_x += read_exchanges(ID1, 3, "2026-12-05 10:00:20", title="Email back", prio="4",
                            audit=[("priority", "2026-12-05 10:00:20", "replay"),
                                   ("short_description", "2026-12-05 10:00:20", "replay")])
    write("update",
          "ServiceNow: a read, then an update at that version: sys_mod_count read again just "
          "before the PATCH (no conditional write), one PATCH, the record read back",
          "the Table API's GET and PATCH (" + TABLE_API + "); sys_audit rows (" + JOURNAL_DOC +
          ")",
          [{"op": "read", "id": ID1, "expect": {"result": "OK", "record": {"rv": "3"}}},
           {"op": "update", "id": ID1, "expected_rv": "previous",
            "values": {"title": "Email back", "priority": "4"},
            "expect": {"result": "OK", "requests": 5,
                       "record": {"rv": "4", "fields": {"title": "Email back",
                                                        "priority": "4"},
                                  "field_times": {"title": 1796464820},
                                  "authors": {"title": "replay"}}}}],
          upd_x)

    pol_x = [dict(method="GET", path=ver, **ok({"result": {"sys_id": ID1,
                                                            "sys_mod_count": "2"}})),
             dict(method="PATCH", path=patch, request={"body_contains": ["\"state\":\"6\""]},
                  **ok({"error": {"message": "Operation Failed",
                                  "detail": "Data Policy Exception: \n\tThe following fields "
                                            "are mandatory: Resolution code, Resolution notes"},
                        "status": "failure"}, status=403))]
    write("update-policy-403",
          "ServiceNow: a resolve without close_code and close_notes: 403 Data Policy "
          "Exception: ERROR quoting ServiceNow's message",
          "the Table API's error envelope {error: {message, detail}, status: failure} (" +
          TABLE_API + ") and the incident's data policy on resolution (close code and notes "
          "mandatory)",
          [{"op": "update", "id": ID1, "expected_rv": 3, "values": {"state": "6"},
            "expect": {"result": "ERROR", "requests": 2,
                       "reason_contains": "HTTP 403: Operation Failed (Data Policy Exception: "
                                          "The following fields are mandatory: Resolution "
                                          "code, Resolution notes)"}}],
          pol_x)

    rb_x = [dict(method="GET", path=ver, **ok({"result": {"sys_id": ID1, "sys_mod_count": "2"}})),
            dict(method="PATCH", path=patch, **ok({"result": {"sys_id": ID1}})),
            dict(method="GET", path=record_path(ID1),
                 **ok({"error": {"message": "Internal error", "detail": ""},
                       "status": "failure"}, status=500))]
    write("update-readback-500",
          "ServiceNow: the PATCH went through, the read back answers 500: RETRY with the "
          "outcome unknown",
          "a Table API 500 (" + TABLE_API + ") after a PATCH",
          [{"op": "update", "id": ID1, "expected_rv": 3, "values": {"title": "x"},
            "expect": {"result": "RETRY", "outcome_unknown": True, "requests": 3}}],
          rb_x)

    cm_x = [dict(method="PATCH", path=patch,
                 request={"body_contains": ["\"work_notes\":\"[concord:9:1:77] from RT\""]},
                 **ok({"result": {"sys_id": ID1}})),
            dict(method="GET", path=journal_path(ID1, True, 20),
                 **ok({"result": [{"sys_id": NOTE, "element": "work_notes",
                                   "value": "[concord:9:1:77] from RT",
                                   "sys_created_on": "2026-12-05 10:00:29",
                                   "sys_created_by": "replay"}]}))]
    write("comment",
          "ServiceNow: a comment is a PATCH of work_notes; its id is the newest journal row of "
          "the integration user with that value, whose time is a clock sample",
          "the Table API's PATCH of a journal field and the sys_journal_field table (" +
          TABLE_API + ", " + JOURNAL_DOC + ")",
          [{"op": "comment", "id": ID1, "body": "[concord:9:1:77] from RT",
            "expect": {"result": "OK", "comment_id": NOTE, "requests": 2, "has_date": True,
                       "date_s": 1796464830}}],
          cm_x)

    hook = json.dumps({"table": "incident", "sys_id": ID1, "number": "INC0010001",
                       "sys_mod_count": 5, "sys_updated_on": "2026-12-05 10:00:25",
                       "operation": "update"})
    wh_x = read_exchanges(ID1, 5, "2026-12-05 10:00:25")
    write("webhook",
          "ServiceNow: a business rule's webhook names the record: it is read as it is now; a "
          "body of the wrong shape is ERROR and reads nothing; another table names nothing",
          "the body agreed with the emulator's author (docs/connectors/servicenow.md); the "
          "record as the Table API answers it (" + TABLE_API + ")",
          [{"op": "webhook", "body": hook,
            "expect": {"result": "OK", "requests": 3,
                       "page": {"nitems": 1, "ids": [ID1], "records": [{"rv": "6"}]}}},
           {"op": "webhook", "body": "{\"table\":\"incident\",\"sys_id\":\"" + ID1 + "\"}",
            "expect": {"result": "ERROR", "reason_contains": "malformed", "requests": 0,
                       "page": {"nitems": 0}}},
           {"op": "webhook", "body": hook.replace("\"incident\"", "\"problem\""),
            "expect": {"result": "OK", "requests": 0, "page": {"nitems": 0}}}],
          wh_x)


if __name__ == "__main__":
    main()
