#!/usr/bin/python3
"""Writes the Jira Cloud replay scenarios, tests/replay/jira/*.json.

There is no Jira Cloud site to capture from here, so, as for Sentinel,
these answers are built from the documented ones: the shapes of Atlassian's
OpenAPI description of the platform REST API v3 as emulators/jira/README.md
and docs/connectors/jira.md give them (search/jql with nextPageToken,
IssueBean, StatusDetails with statusCategory, the project's statuses,
PageBeanChangelog, PageOfComments, Transitions with their screens' fields,
CreatedIssue, Comment, ErrorCollection, the 429 with Retry-After and
RateLimit-Reason, the webhook callback) and the emulator's workflow (To Do
-> In Progress -> In Review -> Done, a resolution required on the Done
screen). Each scenario says so in "captured"; what no page shows (a page
token's text, an error's wording) is marked "synthesized".

The texts of the ADF documents and the versions (`updated` in epoch
milliseconds, whatever the answer's zone offset) are written out or
computed here, independently of src/connectors/jira/, so a scenario fails
when the C reading of either changes.

It also writes the seeds of the fuzzer (tests/fuzz/corpus/jira/): each
scenario's answers in the input format of tests/fuzz/answers.h, ending with
a webhook body for the harness's webhook, and the harness's whole sequence
(tests/fuzz/fuzz_jira.c) answered well.

Usage: python3 tests/replay/jira_scenarios.py   (from anywhere)
"""
import calendar
import json
import os
import time

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jira")
CORPUS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fuzz",
                      "corpus", "jira")
SITE = "https://replay.atlassian.net"
API = "/rest/api/3"
PROJECT = "OPS"
DOCUMENTED = ("built from the documented answer shapes (no Jira Cloud here): Atlassian's OpenAPI "
              "description of the platform REST API v3 and the pages emulators/jira/README.md "
              "and docs/connectors/jira.md cite for each fact, with the emulator's workflow")
SETTINGS = {"email": "replay@example.com", "project": PROJECT, "issue_type": "Task"}
ADA_ID, BOB_ID, CONCORD_ID = ("5b10a2844c20165700ede21g", "5b109f2e9729b51b54dc274d",
                              "712020:0e2b4a1c-0d5e-4b8e-9c53-6d2b2a7f1e10")
USERS = [[ADA_ID, "ada"]]
# what GET issue asks for: the connector's own, then the mapped fields in their order
FIELDS = "updated,created,status,labels,reporter,summary,priority,assignee,resolution,description"
JSON_H = {"Content-Type": "application/json;charset=UTF-8"}


# ---- times ------------------------------------------------------------------

def epoch_ms(utc):
    """"2026-12-05T10:00:01.123Z" -> milliseconds since the epoch."""
    whole, frac = utc.rstrip("Z").split(".") if "." in utc else (utc.rstrip("Z"), "0")
    return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) * 1000 + int(
        (frac + "000")[:3])


def jira_time(utc, offset_min=660):
    """Jira's rendering in a zone (Australia/Sydney in December: +1100)."""
    ms = epoch_ms(utc) + offset_min * 60000
    t = time.gmtime(ms // 1000)
    sign = "+" if offset_min >= 0 else "-"
    return "%s.%03d%s%02d%02d" % (time.strftime("%Y-%m-%dT%H:%M:%S", t), ms % 1000, sign,
                                  abs(offset_min) // 60, abs(offset_min) % 60)


def secs(utc):
    return epoch_ms(utc) // 1000


# ---- the API's objects ---------------------------------------------------------

def user(account_id, name, email=None):
    """User: emailAddress is there when the account's privacy setting shows it."""
    u = {"self": "%s%s/user?accountId=%s" % (SITE, API, account_id), "accountId": account_id,
         "avatarUrls": {s: "https://avatar-management.example/%s/%s" % (account_id, s)
                        for s in ("48x48", "24x24", "16x16", "32x32")},
         "displayName": name, "active": True, "timeZone": "Australia/Sydney",
         "accountType": "atlassian"}
    if email:
        u["emailAddress"] = email
    return u


ADA = user(ADA_ID, "Ada Lovelace", "ada@example.com")
BOB = user(BOB_ID, "Bob Kahn")  # his email is hidden
CONCORD = user(CONCORD_ID, "concord", "replay@example.com")

CATEGORIES = {"new": (2, "blue-gray", "To Do"), "indeterminate": (4, "yellow", "In Progress"),
              "done": (3, "green", "Done")}
STATUSES = {"To Do": ("10000", "new"), "In Progress": ("3", "indeterminate"),
            "In Review": ("10001", "indeterminate"), "Done": ("10002", "done")}


def status(name):
    sid, cat = STATUSES[name]
    cid, colour, cname = CATEGORIES[cat]
    return {"self": "%s%s/status/%s" % (SITE, API, sid), "description": "",
            "iconUrl": "%s/images/icons/statuses/generic.png" % SITE, "name": name, "id": sid,
            "statusCategory": {"self": "%s%s/statuscategory/%d" % (SITE, API, cid), "id": cid,
                               "key": cat, "colorName": colour, "name": cname}}


PRIORITIES = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}


def priority(name):
    return {"self": "%s%s/priority/%s" % (SITE, API, PRIORITIES[name]),
            "iconUrl": "%s/images/icons/priorities/%s.svg" % (SITE, name.lower()), "name": name,
            "id": PRIORITIES[name]}


def resolution(name):
    return None if name is None else {"self": "%s%s/resolution/10000" % (SITE, API),
                                      "id": "10000", "description": "Work has been completed.",
                                      "name": name}


def doc(*blocks):
    return {"type": "doc", "version": 1, "content": list(blocks)}


def para(*inline):
    return {"type": "paragraph", "content": list(inline)}


def text(s, marks=None):
    t = {"type": "text", "text": s}
    if marks:
        t["marks"] = [{"type": m} for m in marks]
    return t


HARD_BREAK = {"type": "hardBreak"}


def issue(iid, num, summary, updated, created="2026-12-05T09:00:00.000Z", st="To Do",
          prio="Medium", assignee=ADA, reporter=BOB, labels=(), res=None, description=None):
    return {"expand": "renderedFields,names,schema,operations,editmeta,changelog,"
                      "versionedRepresentations",
            "id": iid, "self": "%s%s/issue/%s" % (SITE, API, iid), "key": "%s-%d" % (PROJECT, num),
            "fields": {"summary": summary, "description": description, "status": status(st),
                       "priority": priority(prio), "resolution": resolution(res),
                       "resolutiondate": jira_time(updated) if res else None,
                       "labels": list(labels), "assignee": assignee, "reporter": reporter,
                       "updated": jira_time(updated), "created": jira_time(created),
                       "issuetype": {"self": "%s%s/issuetype/10001" % (SITE, API),
                                     "id": "10001", "name": "Task", "subtask": False},
                       "project": {"self": "%s%s/project/10000" % (SITE, API), "id": "10000",
                                   "key": PROJECT, "name": "Operations",
                                   "projectTypeKey": "software", "simplified": False}}}


def listed(i):
    """An issue as search/jql answers it when only `updated` is asked for."""
    return {"expand": i["expand"], "id": i["id"], "self": i["self"], "key": i["key"],
            "fields": {"updated": i["fields"]["updated"]}}


def item(field, frm, frm_s, to, to_s):
    return {"field": field, "fieldtype": "jira", "fieldId": field, "from": frm,
            "fromString": frm_s, "to": to, "toString": to_s}


def entry(eid, author, when, *items):
    return {"id": str(eid), "author": author, "created": jira_time(when), "items": list(items)}


def changelog(iid, *entries):
    return {"self": "%s%s/issue/%s/changelog?maxResults=100&startAt=0" % (SITE, API, iid),
            "maxResults": 100, "startAt": 0, "total": len(entries), "isLast": True,
            "values": list(entries)}


def comment(iid, cid, author, body, when):
    return {"self": "%s%s/issue/%s/comment/%s" % (SITE, API, iid, cid), "id": cid,
            "author": author, "body": body, "updateAuthor": author, "created": jira_time(when),
            "updated": jira_time(when), "jsdPublic": True}


def comments(*cs):
    return {"startAt": 0, "maxResults": 100, "total": len(cs), "comments": list(cs)}


def transition(tid, name, to, fields=None):
    return {"id": tid, "name": name, "to": status(to), "hasScreen": bool(fields),
            "isGlobal": False, "isInitial": False, "isAvailable": True, "isConditional": False,
            "isLooped": False, "fields": fields or {}}


RESOLUTION_SCREEN = {
    "resolution": {"required": True, "schema": {"type": "resolution", "system": "resolution"},
                   "name": "Resolution", "key": "resolution", "operations": ["set"],
                   "allowedValues": [dict(resolution(n), id=str(10000 + k))
                                     for k, n in enumerate(("Done", "Won't Do", "Duplicate",
                                                            "Cannot Reproduce"))]},
    "assignee": {"required": False, "schema": {"type": "user", "system": "assignee"},
                 "name": "Assignee", "key": "assignee", "operations": ["set"]},
}
# the emulator's workflow: the transitions available from each status
FLOW = {"To Do": [transition("11", "Start progress", "In Progress")],
        "In Progress": [transition("21", "Stop progress", "To Do"),
                        transition("31", "Submit for review", "In Review")],
        "In Review": [transition("41", "Request changes", "In Progress"),
                      transition("51", "Done", "Done", RESOLUTION_SCREEN)],
        "Done": [transition("61", "Reopen", "To Do")]}


def statuses():
    return [{"self": "%s%s/issuetype/10001" % (SITE, API), "id": "10001", "name": "Task",
             "subtask": False, "statuses": [status(n) for n in STATUSES]}]


# ---- exchanges ----------------------------------------------------------------

def ex(method, path, body=None, status_code=200, headers=None, request=None, synthesized=None,
       group=None):
    x = {"method": method, "path": API + path, "status": status_code,
         "headers": JSON_H if headers is None else headers}
    if body is not None:
        x["body"] = body
    if request:
        x["request"] = request
    if synthesized:
        x["synthesized"] = synthesized
    if group:
        x["group"] = group
    return x


def get_statuses():
    return ex("GET", "/project/%s/statuses" % PROJECT, statuses())


def get_issue(i, group=None):
    return ex("GET", "/issue/%s?fields=%s" % (i["id"], FIELDS), i, group=group)


def get_changelog(iid, cl, group=None):
    return ex("GET", "/issue/%s/changelog?startAt=0&maxResults=100" % iid, cl, group=group)


def get_comments(iid, cs, group=None):
    return ex("GET", "/issue/%s/comment?orderBy=created&startAt=0&maxResults=100" % iid, cs,
              group=group)


def reads(i, cl, cs):
    """An issue's observation, one read after the other."""
    return [get_issue(i), get_changelog(i["id"], cl), get_comments(i["id"], cs)]


def jql_since(since_s):
    return ("project = \"%s\" AND updated >= %d ORDER BY updated ASC, key ASC"
            % (PROJECT, (since_s - 60) * 1000))


JQL_ALL = "project = \"%s\" ORDER BY updated ASC, key ASC" % PROJECT


def search(jql, answer, token=None, max_results=100, status_code=200, headers=None,
           synthesized=None):
    want = ["\"jql\":" + json.dumps(jql), "\"maxResults\":%d" % max_results,
            "\"fields\":[\"updated\"]"]
    lacks = []
    if token:
        want.append("\"nextPageToken\":" + json.dumps(token))
    else:
        lacks.append("nextPageToken")
    req = {"content_type": "application/json", "body_contains": want}
    if lacks:
        req["body_lacks"] = lacks
    return ex("POST", "/search/jql", answer, status_code=status_code, headers=headers,
              request=req, synthesized=synthesized)


def get_transitions(iid, st):
    return ex("GET", "/issue/%s/transitions?expand=transitions.fields" % iid,
              {"expand": "transitions", "transitions": FLOW[st]})


def post_transition(iid, tid, fields="{}"):
    return ex("POST", "/issue/%s/transitions" % iid, headers={}, status_code=204,
              request={"body_contains": ["{\"transition\":{\"id\":\"%s\"},\"fields\":%s}"
                                         % (tid, fields)]})


# ---- what the connector must answer -------------------------------------------------

FIELD_NAMES = ("title", "state", "priority", "assignee", "resolution", "tags", "description")


def person(u):
    """An author: the email when the account shows it, else its accountId."""
    return u.get("emailAddress") or u["accountId"]


def record(i, corr=None, desc_text="", cl=None, cs=(), texts=()):
    """The observation of issue i: desc_text is its description's text, texts its comments'."""
    f = i["fields"]
    created = secs_of(f["created"])
    values = {"title": f["summary"], "state": f["status"]["name"],
              "priority": f["priority"]["name"],
              "assignee": {ADA_ID: "ada"}.get((f["assignee"] or {}).get("accountId"),
                                              (f["assignee"] or {}).get("accountId", "")),
              "resolution": (f["resolution"] or {}).get("name", ""),
              "tags": ", ".join(l for l in f["labels"] if not l.startswith("concord-")),
              "description": desc_text}
    times = {k: created for k in FIELD_NAMES}
    authors = {k: person(f["reporter"]) for k in FIELD_NAMES}
    remote = {"summary": "title", "status": "state", "priority": "priority",
              "assignee": "assignee", "resolution": "resolution", "labels": "tags",
              "description": "description"}
    for e in (cl or {}).get("values", []):
        for it in e["items"]:
            if it["fieldId"] in remote:
                times[remote[it["fieldId"]]] = secs_of(e["created"])
                authors[remote[it["fieldId"]]] = person(e["author"])
    if f["status"]["statusCategory"]["key"] != "done":
        # a resolution belongs to a done issue: none is read from another
        for d in (values, times, authors):
            del d["resolution"]
    rec = {"id": i["id"], "rv": str(ms_of(f["updated"])), "deleted": False,
           "mtime_s": secs_of(f["updated"]), "created_s": created, "correlation_id": corr,
           "fields": values, "field_times": times, "authors": authors}
    rec["comments"] = [{"id": c["id"], "body": t, "author": person(c["author"]),
                        "created_s": secs_of(c["created"])} for c, t in zip(cs, texts)]
    return rec


def ms_of(jt):
    """A Jira time ("2026-12-05T21:00:01.123+1100") in milliseconds since the epoch."""
    base, frac_zone = jt[:19], jt[20:]
    frac, zone = frac_zone[:3], frac_zone[3:]
    off = (int(zone[1:3]) * 60 + int(zone[3:5])) * (1 if zone[0] == "+" else -1)
    return (calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) - off * 60) * 1000 + int(
        frac)


def secs_of(jt):
    return ms_of(jt) // 1000


def scenario(fname, what, steps, exchanges, captured=DOCUMENTED):
    sc = {"scenario": what, "kind": "jira", "base": "", "captured": captured,
          "settings": SETTINGS, "integration_user": "replay@example.com", "users": USERS,
          "steps": steps, "exchanges": exchanges}
    with open(os.path.join(HERE, fname), "w") as f:
        json.dump(sc, f, indent=1)
        f.write("\n")


# ---- the issues -----------------------------------------------------------------

T1, T2, T3 = "2026-12-05T10:00:01.123Z", "2026-12-05T10:00:02.200Z", "2026-12-05T10:00:03.300Z"
SINCE = secs("2026-12-05T10:00:00Z")
CORR_A = "concord-7f3a9c21-1"
DESC_A = doc(para(text("The printer on floor 3 "), text("is on fire", ["strong"])),
             {"type": "bulletList", "content": [
                 {"type": "listItem", "content": [para(text("smoke"))]},
                 {"type": "listItem", "content": [para(text("paper jam"))]}]})
DESC_A_TEXT = "The printer on floor 3 is on fire\n\n- smoke\n- paper jam"
IA = issue("10001", 1, "Printer on fire", T1, labels=["backend", CORR_A], description=DESC_A)
CL_A = changelog("10001",
                 entry(100, ADA, "2026-12-05T09:30:00.000Z",
                       item("priority", "2", "High", "3", "Medium")),
                 entry(101, BOB, T1, item("assignee", None, None, ADA_ID, "Ada Lovelace")))
CA = comment("10001", "10100", ADA,
             doc(para({"type": "mention", "attrs": {"id": BOB_ID, "text": "@Bob Kahn",
                                                    "accessLevel": ""}},
                      text(" please look"), HARD_BREAK, text("it smells"))),
             "2026-12-05T09:45:00.000Z")
CA_TEXT = "@Bob Kahn please look\nit smells"
IB = issue("10002", 2, "Disk full", T2, st="In Progress", prio="High", assignee=None)
CL_B = changelog("10002", entry(102, BOB, T2, item("status", "10000", "To Do", "3",
                                                   "In Progress")))
IC = issue("10003", 3, "VPN down", T3, st="Done", assignee=BOB, res="Done")
CL_C = changelog("10003", entry(103, CONCORD, T3, item("resolution", None, None, "10000", "Done"),
                                item("status", "10001", "In Review", "10002", "Done")))
TOKEN = "CAEaAggD"


def main():
    os.makedirs(HERE, exist_ok=True)

    rec_a = record(IA, CORR_A, DESC_A_TEXT, CL_A, [CA], [CA_TEXT])
    rec_b = record(IB, cl=CL_B)
    scenario("list-pages.json",
             "Jira: a first poll of two search pages joined by nextPageToken (the project's "
             "statuses read first, once), cut at page_size 2, the page's issue, changelog and "
             "comment reads each sent at once; then resumed after the last one returned: JQL "
             "from a minute before its time, in epoch milliseconds",
             [{"op": "list", "since_s": -1, "after_mtime_s": 0, "after_id": None,
               "page_size": 2,
               "expect": {"result": "OK", "requests": 9,
                          "page": {"nitems": 2, "more": True, "ids": ["10001", "10002"],
                                   "next_id": "10002", "next_mtime_s": secs(T2),
                                   "records": [rec_a, rec_b]}}},
              {"op": "list", "since_s": -1, "after": "previous", "page_size": 2,
               "expect": {"result": "OK", "requests": 4,
                          "page": {"nitems": 1, "more": False, "ids": ["10003"],
                                   "records": [record(IC, cl=CL_C)]}}}],
             [get_statuses(),
              search(JQL_ALL, {"issues": [listed(IA), listed(IB)], "nextPageToken": TOKEN,
                               "isLast": False}),
              search(JQL_ALL, {"issues": [listed(IC)], "isLast": True}, token=TOKEN,
                     synthesized="the page token's text (opaque)"),
              get_issue(IA, group=1), get_issue(IB, group=1),
              get_changelog("10001", CL_A, group=2), get_changelog("10002", CL_B, group=2),
              get_comments("10001", comments(CA), group=3),
              get_comments("10002", comments(), group=3),
              search(jql_since(secs(T2)), {"issues": [listed(IB), listed(IC)], "isLast": True}),
              *reads(IC, CL_C, comments())])

    # To Do -> In Progress -> In Review -> Done, the title and assignee edited first
    T4 = "2026-12-05T10:05:00.456Z"
    done = issue("10001", 1, "Printer on fire, floor 3", T4, st="Done", labels=["backend", CORR_A],
                 assignee=ADA, res="Done", description=DESC_A)
    cl_done = changelog("10001", *CL_A["values"],
                        entry(104, CONCORD, "2026-12-05T10:04:58.000Z",
                              item("summary", None, "Printer on fire", None,
                                   "Printer on fire, floor 3"),
                              item("assignee", BOB_ID, "Bob Kahn", ADA_ID, "Ada Lovelace")),
                        entry(105, CONCORD, "2026-12-05T10:04:59.000Z",
                              item("status", "10000", "To Do", "3", "In Progress")),
                        entry(106, CONCORD, "2026-12-05T10:04:59.500Z",
                              item("status", "3", "In Progress", "10001", "In Review")),
                        entry(107, CONCORD, T4,
                              item("resolution", None, None, "10000", "Done"),
                              item("status", "10001", "In Review", "10002", "Done")))
    scenario("update-done.json",
             "Jira: an update reads the issue (its version is `updated`), PUTs the title and "
             "the assignee (by accountId: the account shows its email, which names authors "
             "only), then moves To Do -> Done one transition at a time along In Progress and "
             "In Review "
             "(the project's statuses read once, each status's transitions read before its "
             "step), the resolution the Done screen requires filled from the write's; the "
             "issue read back",
             [{"op": "update", "id": "10001", "expected_rv": str(epoch_ms(T1)),
               "values": {"title": "Printer on fire, floor 3", "state": "Done",
                          "resolution": "Done", "assignee": "ada"},
               "expect": {"result": "OK", "requests": 12, "outcome_unknown": False,
                          "record": record(done, CORR_A, DESC_A_TEXT, cl_done, [CA],
                                           [CA_TEXT])}}],
             [get_issue(dict(IA, fields=dict(IA["fields"], assignee=BOB))),
              ex("PUT", "/issue/10001", headers={}, status_code=204,
                 request={"body_contains": ["{\"fields\":{\"summary\":"
                                            "\"Printer on fire, floor 3\",\"assignee\":"
                                            "{\"accountId\":\"%s\"}}}" % ADA_ID],
                          "body_lacks": ["status", "resolution", "transition"]}),
              get_statuses(),
              get_transitions("10001", "To Do"), post_transition("10001", "11"),
              get_transitions("10001", "In Progress"), post_transition("10001", "31"),
              get_transitions("10001", "In Review"),
              post_transition("10001", "51", "{\"resolution\":{\"name\":\"Done\"}}"),
              *reads(done, cl_done, comments(CA))])

    scenario("update-no-path.json",
             "Jira: a status the project's workflow does not have is never forced: after the "
             "transitions available from To Do, ERROR naming both statuses, no transition "
             "POSTed and nothing PUT",
             [{"op": "update", "id": "10001", "expected_rv": str(epoch_ms(T1)),
               "values": {"state": "Blocked"},
               "expect": {"result": "ERROR", "requests": 3, "outcome_unknown": False,
                          "reason_contains": "no transition path from status 'To Do' to "
                                             "'Blocked' in the workflow of issue 10001: "
                                             "not forced"}}],
             [get_issue(IA), get_statuses(), get_transitions("10001", "To Do")])

    bad_updated = listed(IA)
    del bad_updated["fields"]["updated"]
    by_key = dict(listed(IA), id="OPS-1")
    scenario("list-malformed.json",
             "Jira: search answers of the wrong shape (no `issues`, an issue without `updated`, "
             "an issue named by its key, a nextPageToken that is not a string) are failed "
             "calls, never an empty page",
             [{"op": "list", "since_s": SINCE, "after_mtime_s": 0, "after_id": None,
               "page_size": 100,
               "expect": {"result": "RETRY", "requests": 2, "page": {"nitems": 0},
                          "reason_contains": "jira list: malformed answer: no issue list"}},
              {"op": "list", "since_s": SINCE, "after_mtime_s": 0, "after_id": None,
               "page_size": 100,
               "expect": {"result": "RETRY", "page": {"nitems": 0},
                          "reason_contains": "an issue without a usable id or updated"}},
              {"op": "list", "since_s": SINCE, "after_mtime_s": 0, "after_id": None,
               "page_size": 100,
               "expect": {"result": "RETRY", "page": {"nitems": 0},
                          "reason_contains": "an issue without a usable id or updated"}},
              {"op": "list", "since_s": SINCE, "after_mtime_s": 0, "after_id": None,
               "page_size": 100,
               "expect": {"result": "RETRY", "page": {"nitems": 0},
                          "reason_contains": "a nextPageToken that is not a string"}}],
             [get_statuses(),
              search(jql_since(SINCE), {"isLast": True, "nextPageToken": None},
                     synthesized="malformed: no issues"),
              search(jql_since(SINCE), {"issues": [bad_updated], "isLast": True},
                     synthesized="malformed: no updated"),
              search(jql_since(SINCE), {"issues": [by_key], "isLast": True},
                     synthesized="malformed: a key for an id"),
              search(jql_since(SINCE), {"issues": [listed(IA)], "isLast": False,
                                        "nextPageToken": 2},
                     synthesized="malformed: a number for a token")])

    scenario("list-429.json",
             "Jira: the search is rate-limited (429 with Retry-After, RateLimit-Reason "
             "jira-burst-based): RETRY with its delay, an empty page",
             [{"op": "list", "since_s": SINCE, "after_mtime_s": 0, "after_id": None,
               "page_size": 100,
               "expect": {"result": "RETRY", "retry_after_ms": 7000, "requests": 2,
                          "reason_contains": "429", "page": {"nitems": 0}}}],
             [get_statuses(),
              search(jql_since(SINCE),
                     {"errorMessages": ["The request has been rate-limited. Please try again "
                                        "later."], "errors": {}, "status": 429},
                     status_code=429,
                     headers={"Content-Type": "application/json;charset=UTF-8",
                              "Retry-After": "7", "RateLimit-Reason": "jira-burst-based",
                              "X-RateLimit-Limit": "100", "X-RateLimit-NearLimit": "true"},
                     synthesized="a burst limit's 429 on the search (headers and body as "
                                 "the rate limiting page and a quoted answer give them)")])

    body = "[concord:9:1:77] a comment from RT\n\nsecond paragraph\nits second line"
    sent = {"body": doc(para(text("[concord:9:1:77] a comment from RT")),
                        para(text("second paragraph"), HARD_BREAK, text("its second line")))}
    scenario("comment.json",
             "Jira: a comment is POSTed as an ADF document (paragraphs at blank lines, hard "
             "breaks at newlines); its id is the answer's",
             [{"op": "comment", "id": "10001", "body": body,
               "expect": {"result": "OK", "comment_id": "10060", "requests": 1}}],
             [ex("POST", "/issue/10001/comment", status_code=201,
                 body=comment("10001", "10060", CONCORD, sent["body"],
                              "2026-12-05T10:06:00.000Z"),
                 request={"content_type": "application/json",
                          "body_contains": [json.dumps(sent, separators=(",", ":"))]})])

    corr = "concord-0a1b2c3d-5"
    T5 = "2026-12-05T10:07:00.000Z"
    new = issue("10004", 4, "Raised in RT", T5, created=T5, prio="High", reporter=CONCORD,
                labels=[corr], description=doc(para(text("raised in RT"))))
    moved = issue("10004", 4, "Raised in RT", "2026-12-05T10:07:01.000Z", created=T5,
                  st="In Progress", prio="High", reporter=CONCORD, labels=[corr],
                  description=doc(para(text("raised in RT"))))
    cl_moved = changelog("10004", entry(108, CONCORD, "2026-12-05T10:07:01.000Z",
                                        item("status", "10000", "To Do", "3", "In Progress")))
    scenario("create.json",
             "Jira: a create POSTs the issue with the correlation label and the values an "
             "edit sets (never the status), then moves it to its status through the "
             "workflow and reads it; a lookup by label finds it, another label finds nothing",
             [{"op": "create", "correlation_id": corr,
               "values": {"title": "Raised in RT", "state": "In Progress", "priority": "High",
                          "assignee": "ada", "description": "raised in RT"},
               "expect": {"result": "OK", "requests": 8, "outcome_unknown": False,
                          "record": record(moved, corr, "raised in RT", cl_moved)}},
              {"op": "find", "correlation_id": corr,
               "expect": {"result": "OK", "found": True, "requests": 4,
                          "record": {"id": "10004", "correlation_id": corr}}},
              {"op": "find", "correlation_id": "concord-0a1b2c3d-6",
               "expect": {"result": "OK", "found": False, "requests": 1}}],
             [ex("POST", "/issue", status_code=201,
                 body={"id": "10004", "key": "OPS-4", "self": "%s%s/issue/10004" % (SITE, API)},
                 request={"content_type": "application/json",
                          "body_contains": ["\"project\":{\"key\":\"OPS\"}",
                                            "\"issuetype\":{\"name\":\"Task\"}",
                                            "\"summary\":\"Raised in RT\"",
                                            "\"labels\":[\"%s\"]" % corr,
                                            "\"priority\":{\"name\":\"High\"}",
                                            "\"assignee\":{\"accountId\":\"%s\"}" % ADA_ID,
                                            "\"description\":" + json.dumps(
                                                doc(para(text("raised in RT"))),
                                                separators=(",", ":"))],
                          "body_lacks": ["\"status\"", "\"resolution\""]}),
              get_issue(new), get_statuses(), get_transitions("10004", "To Do"),
              post_transition("10004", "11"), *reads(moved, cl_moved, comments()),
              search("project = \"OPS\" AND labels = \"%s\" ORDER BY created ASC" % corr,
                     {"issues": [listed(moved)], "isLast": True}, max_results=2),
              *reads(moved, cl_moved, comments()),
              search("project = \"OPS\" AND labels = \"concord-0a1b2c3d-6\" ORDER BY created "
                     "ASC", {"issues": [], "isLast": True}, max_results=2)])

    scenario("create-no-path.json",
             "Jira: a create whose status no transition reaches is still a create: the issue "
             "is there (no second one is made), its status not forced, and the create answers "
             "the issue as it is, named by its id",
             [{"op": "create", "correlation_id": corr, "values": {"title": "Raised in RT",
                                                                "state": "Blocked"},
               "expect": {"result": "OK", "requests": 7, "outcome_unknown": False,
                          "record": record(new, corr, "raised in RT", changelog("10004"))}}],
             [ex("POST", "/issue", status_code=201,
                 body={"id": "10004", "key": "OPS-4", "self": "%s%s/issue/10004" % (SITE, API)},
                 request={"body_lacks": ["\"status\""]}),
              get_issue(new), get_statuses(), get_transitions("10004", "To Do"),
              *reads(new, changelog("10004"), comments())])

    hook = webhook_body("10001", "OPS-1")
    scenario("webhook.json",
             "Jira: a webhook's body names an issue, which is read as it is now; one of "
             "another project is none of this system's; a body without the issue's id is "
             "malformed",
             [{"op": "webhook", "body": json.dumps({"webhookEvent": "jira:issue_updated",
                                                     "issue": {"key": "OPS-1"}}),
               "expect": {"result": "RETRY", "reason_contains": "malformed", "requests": 0}},
              {"op": "webhook", "body": webhook_body("10077", "SALES-7"),
               "expect": {"result": "OK", "page": {"nitems": 0}, "requests": 0}},
              {"op": "webhook", "body": hook,
               "expect": {"result": "OK", "requests": 4,
                          "page": {"nitems": 1, "ids": ["10001"],
                                   "records": [rec_a]}}}],
             [get_statuses(), *reads(IA, CL_A, comments(CA))])


def webhook_body(iid, key):
    """A jira:issue_updated callback (the webhooks page, as jira.js's payload types give it)."""
    return json.dumps({"timestamp": epoch_ms(T1), "webhookEvent": "jira:issue_updated",
                       "issue_event_type_name": "issue_generic", "user": BOB,
                       "issue": {"id": iid, "self": "%s%s/issue/%s" % (SITE, API, iid),
                                 "key": key, "fields": {"summary": "Printer on fire"}},
                       "changelog": {"id": "101", "items": CL_A["values"][1]["items"]}})


# ---- the fuzzer's seeds -------------------------------------------------------------

# members the connector never reads, left out of the seeds (smaller inputs fuzz faster)
UNREAD = ("self", "avatarUrls", "iconUrl", "expand", "timeZone", "accountType", "issuetype",
          "project", "allowedValues", "schema", "operations", "description")


def slim(v):
    if isinstance(v, dict):
        return {k: slim(x) for k, x in v.items()
                if k not in UNREAD or (k == "description" and isinstance(x, dict))}
    if isinstance(v, list):
        return [slim(x) for x in v]
    return v


def answer(x):
    """One exchange's answer as a fuzz seed answer: STATUS, headers, blank line, body."""
    hs = "".join("%s: %s\n" % (k, v) for k, v in (x.get("headers") or {}).items())
    body = json.dumps(slim(x["body"])) if "body" in x else x.get("body_text", "")
    return "%d\n%s\n%s" % (x.get("status", 200), hs, body)


def fuzz_corpus():
    os.makedirs(CORPUS, exist_ok=True)
    hook = json.dumps(slim(json.loads(webhook_body("10001", "OPS-1"))))
    for f in sorted(os.listdir(HERE)):
        with open(os.path.join(HERE, f)) as fh:
            sc = json.load(fh)
        seeds = [answer(x) for x in sc["exchanges"]] + [hook]
        with open(os.path.join(CORPUS, f[:-5]), "w") as out:
            out.write("\n~~~\n".join(seeds))
    # the harness's sequence (fuzz_jira.c), each call answered well
    a2 = issue("10001", 1, "Printer on fire", "2026-12-05T10:01:00.000Z",
               labels=["backend", "concord-1"], description=DESC_A)
    done = issue("10001", 1, "printer on fire", "2026-12-05T10:02:00.000Z", st="Done",
                 prio="High", labels=["ops", "urgent", "concord-1"], res="Done",
                 description=doc(para(text("first line"), HARD_BREAK, text("second line")),
                                 para(text("another paragraph"))))
    new = issue("10004", 4, "disk full", T3, prio="Highest", reporter=CONCORD,
                labels=["concord-2"], description=doc(para(text("raised in RT"))))
    moved = dict(new, fields=dict(new["fields"], status=status("In Progress")))
    cs_a = comments(CA)
    seq = [statuses(),
           # list since a cursor: two search pages, three issues read at once
           {"issues": [listed(IA), listed(IB)], "nextPageToken": TOKEN, "isLast": False},
           {"issues": [listed(IC)], "isLast": True},
           IA, IB, IC, CL_A, CL_B, CL_C, cs_a, comments(), comments(),
           # a first start's listing: one issue moved since, read alone
           {"issues": [listed(IB), listed(IC), listed(a2)], "isLast": True},
           a2, CL_A, cs_a,
           # read, find
           IA, CL_A, cs_a,
           {"issues": [listed(IA)], "isLast": True}, IA, CL_A, cs_a,
           # update: read, PUT, three transitions, the read back
           IA, {"status": 204},
           {"transitions": FLOW["To Do"]}, {"status": 204},
           {"transitions": FLOW["In Progress"]}, {"status": 204},
           {"transitions": FLOW["In Review"]}, {"status": 204},
           done, CL_A, cs_a,
           # create: POST, its status, one transition, the read
           {"status": 201, "body": {"id": "10004", "key": "OPS-4"}}, new,
           {"transitions": FLOW["To Do"]}, {"status": 204}, moved, changelog("10004"),
           comments(),
           # comment
           {"status": 201, "body": comment("10001", "10060", CONCORD,
                                           doc(para(text("a mirrored comment"))),
                                           "2026-12-05T10:06:00.000Z")},
           # the last answer: the webhook's body, and the issue its read is answered
           dict(IA, webhookEvent="jira:issue_updated", issue={"id": "10001", "key": "OPS-1"})]
    with open(os.path.join(CORPUS, "sequence-all-ops"), "w") as out:
        out.write("\n~~~\n".join(seq_answer(x) for x in seq))


def seq_answer(x):
    """A body (status 200), or {"status", "body"}."""
    if isinstance(x, dict) and isinstance(x.get("status"), int):
        return "%d\n\n%s" % (x["status"], json.dumps(slim(x["body"])) if "body" in x else "")
    return json.dumps(slim(x))


if __name__ == "__main__":
    main()
    fuzz_corpus()
