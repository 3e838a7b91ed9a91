#!/usr/bin/python3
"""The Jira emulator (emulators/jira/server.py) against the documented
requests and answers a connector relies on.

Each check names the source of the fact it checks in a comment beside it;
emulators/jira/README.md lists them. "Spec" is Atlassian's published
OpenAPI description of the Jira Cloud platform REST API v3,
https://developer.atlassian.com/cloud/jira/platform/swagger-v3.v3.json
(version 1001.0.0-SNAPSHOT-9b059c1e8a74fa4426b627b660d5dbfab0549c4d, read
from a copy kept in github.com/cfdude/mcp-jira), rendered at
https://developer.atlassian.com/cloud/jira/platform/rest/v3/. Starts
emulators on free loopback ports with temporary databases; every wait is
bounded. unittest, standard library only.

Usage: test_jira_emulator.py [unittest options]
"""

import datetime
import hashlib
import hmac
import os
import re
import sys
import time
import unittest
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jira_harness import EMAIL2, TOKEN2, TZ, Emulator, Hooks, q  # noqa: E402

JIRA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$")
CANNOT_SET = "Field '%s' cannot be set. It is not on the appropriate screen, or unknown."
BOB = (EMAIL2, TOKEN2)


def adf(*paras):
    return {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": p}]} for p in paras]}


def parse_jira_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z")


class Base(unittest.TestCase):
    extra = ()

    @classmethod
    def setUpClass(cls):
        cls.emu = Emulator(extra=cls.extra)

    @classmethod
    def tearDownClass(cls):
        cls.emu.close()

    def create(self, summary="s", project="EMU", **fields):
        fields.update(summary=summary, project={"key": project}, issuetype={"name": "Task"})
        st, _, body = self.emu.call("POST", "/rest/api/3/issue", {"fields": fields})
        self.assertEqual(st, 201, body)
        return body

    def get(self, key, **params):
        st, _, body = self.emu.call("GET", "/rest/api/3/issue/%s%s" % (key, q(**params) if params else ""))
        self.assertEqual(st, 200, body)
        return body

    def search(self, jql, auth=None, **params):
        params["jql"] = jql
        kw = {"auth": auth} if auth else {}
        return self.emu.call("GET", "/rest/api/3/search/jql" + q(**params), **kw)

    def keys(self, jql, auth=None, **params):
        st, _, body = self.search(jql, auth=auth, fields="key", **params)
        self.assertEqual(st, 200, body)
        return [i["key"] for i in body["issues"]]

    def transition(self, key, tid, **fields):
        body = {"transition": {"id": tid}}
        if fields:
            body["fields"] = fields
        return self.emu.call("POST", "/rest/api/3/issue/%s/transitions" % key, body)


class AuthAndMyself(Base):
    def test_basic_auth_with_email_and_api_token(self):
        # Basic auth with the account's email address and an API token; 401 otherwise
        # (https://developer.atlassian.com/cloud/jira/software/basic-auth-for-rest-apis/;
        # spec: every operation lists 401 "if the authentication credentials are incorrect or missing").
        self.assertEqual(self.emu.call("GET", "/rest/api/3/myself", auth=None)[0], 401)
        self.assertEqual(self.emu.call("GET", "/rest/api/3/myself", auth=("ada@example.com", "wrong"))[0], 401)
        st, _, body = self.emu.call("GET", "/rest/api/3/myself", auth=("ada@example.com", "wrong"))
        self.assertIn("errorMessages", body)

    def test_myself(self):
        # spec getCurrentUser: User with accountId, emailAddress, displayName, timeZone ("Australia/Sydney"
        # in the example), active, self.
        st, _, me = self.emu.call("GET", "/rest/api/3/myself")
        self.assertEqual(st, 200)
        for k in ("accountId", "emailAddress", "displayName", "timeZone", "active", "self"):
            self.assertIn(k, me)
        self.assertEqual((me["emailAddress"], me["timeZone"]), ("ada@example.com", TZ))
        self.assertEqual(self.emu.call("GET", "/rest/api/3/myself", auth=BOB)[2]["timeZone"], "UTC")

    def test_project_statuses(self):
        # spec getStatusesForProject: a top-level array of issue types, each with its statuses and
        # their statusCategory; an unknown project is 404.
        st, _, types = self.emu.call("GET", "/rest/api/3/project/EMU/statuses")
        self.assertEqual(st, 200)
        self.assertIsInstance(types, list)
        got = {s["name"]: s["statusCategory"]["key"] for t in types for s in t["statuses"]}
        self.assertEqual(got, {"To Do": "new", "In Progress": "indeterminate",
                               "In Review": "indeterminate", "Done": "done"})
        self.assertEqual(self.emu.call("GET", "/rest/api/3/project/NOPE/statuses")[0], 404)


class IssuesAndFields(Base):
    def test_create_get_shape(self):
        # spec createIssue: 201 CreatedIssue {"id":"10000","key":"ED-24","self":".../rest/api/3/issue/10000"}
        c = self.create("first", description=adf("line one"), labels=["a", "b"], priority={"name": "High"})
        self.assertEqual(set(c), {"id", "key", "self"})
        self.assertTrue(c["key"].startswith("EMU-"))
        self.assertTrue(c["self"].endswith("/rest/api/3/issue/" + c["id"]))
        # spec getIssue: IssueBean {id, key, self, fields}; status {name, id, statusCategory}; priority
        # {name, id}; description in ADF; times "2021-01-17T12:34:00.000+0000".
        i = self.get(c["key"])
        self.assertEqual((i["id"], i["key"]), (c["id"], c["key"]))
        f = i["fields"]
        self.assertEqual(f["summary"], "first")
        self.assertEqual(f["description"], adf("line one"))
        self.assertEqual(f["labels"], ["a", "b"])
        self.assertEqual((f["priority"]["name"], f["priority"]["id"]), ("High", "2"))
        self.assertEqual(f["status"]["name"], "To Do")
        self.assertEqual(set(f["status"]["statusCategory"]) >= {"id", "key", "name", "colorName"}, True)
        self.assertIsNone(f["resolution"])
        for k in ("created", "updated"):
            self.assertRegex(f[k], JIRA_TIME)
        # written in the reader's time zone (Australia/Sydney here; UTC for the other account)
        off = datetime.datetime.now(zoneinfo.ZoneInfo(TZ)).strftime("%z")
        self.assertTrue(f["updated"].endswith(off), f["updated"])
        st, _, other = self.emu.call("GET", "/rest/api/3/issue/%s" % c["key"], auth=BOB)
        self.assertTrue(other["fields"]["updated"].endswith("+0000"))
        self.assertEqual(parse_jira_time(other["fields"]["updated"]), parse_jira_time(f["updated"]))
        self.assertEqual(f["comment"]["comments"], [])
        # by id too, and a key in another case (spec: "a case-insensitive search ... is performed")
        self.assertEqual(self.get(c["id"])["key"], c["key"])
        self.assertEqual(self.get(c["key"].lower())["key"], c["key"])

    def test_fields_parameter(self):
        # spec getIssue `fields`: a comma-separated list; "-description" = all but description.
        c = self.create("fields", description=adf("x"))
        self.assertEqual(set(self.get(c["key"], fields="summary,status")["fields"]), {"summary", "status"})
        f = self.get(c["key"], fields="-description")["fields"]
        self.assertNotIn("description", f)
        self.assertIn("summary", f)

    def test_not_found(self):
        # spec getIssue 404 "if the issue is not found"; the message as Jira Cloud answers it
        st, _, body = self.emu.call("GET", "/rest/api/3/issue/EMU-99999")
        self.assertEqual(st, 404)
        self.assertEqual(body["errorMessages"], ["Issue does not exist or you do not have permission to see it."])

    def test_create_validation(self):
        # v3: description takes ADF; a string is refused with this message (an answer quoted in
        # https://github.com/lesstif/php-jira-rest-client/issues/280)
        st, _, body = self.emu.call("POST", "/rest/api/3/issue", {"fields": {
            "project": {"key": "EMU"}, "issuetype": {"name": "Task"}, "summary": "x", "description": "plain"}})
        self.assertEqual(st, 400)
        self.assertEqual(body["errors"]["description"],
                         "Operation value must be an Atlassian Document (see the Atlassian Document Format)")
        st, _, body = self.emu.call("POST", "/rest/api/3/issue", {"fields": {
            "project": {"key": "NOPE"}, "issuetype": {"name": "Task"}, "summary": "x"}})
        self.assertEqual(st, 400)
        self.assertIn("project", body["errors"])


class Edit(Base):
    def test_edit_fields_and_labels(self):
        # spec editIssue: 204; `update` verbs, e.g. "labels":[{"add":"triaged"},{"remove":"blocker"}]
        c = self.create("before", labels=["blocker", "x"])
        st, _, body = self.emu.call("PUT", "/rest/api/3/issue/" + c["key"], {
            "fields": {"summary": "after", "description": adf("new")},
            "update": {"labels": [{"add": "triaged"}, {"remove": "blocker"}]}})
        self.assertEqual((st, body), (204, None))
        f = self.get(c["key"])["fields"]
        self.assertEqual((f["summary"], f["labels"], f["description"]), ("after", ["x", "triaged"], adf("new")))
        # labels set whole through fields
        self.assertEqual(self.emu.call("PUT", "/rest/api/3/issue/" + c["key"],
                                       {"fields": {"labels": ["only"]}})[0], 204)
        self.assertEqual(self.get(c["key"])["fields"]["labels"], ["only"])

    def test_status_cannot_be_edited(self):
        # editIssue: "issue transition is not supported and is ignored here. To transition an issue, please
        # use Transition issue" (spec); a field not on the edit screen answers 400 with
        # "Field 'x' cannot be set. It is not on the appropriate screen, or unknown." (answers quoted in
        # https://github.com/tenable/integration-jira-cloud/issues/89 and lesstif/php-jira-rest-client#353)
        c = self.create("status")
        st, _, body = self.emu.call("PUT", "/rest/api/3/issue/" + c["key"], {"fields": {"status": {"name": "Done"}}})
        self.assertEqual(st, 400)
        self.assertEqual(body["errors"], {"status": CANNOT_SET % "status"})
        st, _, body = self.emu.call("PUT", "/rest/api/3/issue/" + c["key"],
                                    {"fields": {"resolution": {"name": "Done"}}})
        self.assertEqual((st, body["errors"]), (400, {"resolution": CANNOT_SET % "resolution"}))
        # a `transition` in an edit's body is ignored
        self.assertEqual(self.emu.call("PUT", "/rest/api/3/issue/" + c["key"], {
            "fields": {"summary": "still To Do"}, "transition": {"id": "11"}})[0], 204)
        self.assertEqual(self.get(c["key"])["fields"]["status"]["name"], "To Do")
        # nothing changed by the refused edits
        self.assertEqual(self.emu.control("GET", "history?key=" + c["key"])["status_changes"], 0)

    def test_description_must_be_adf(self):
        # lesstif/php-jira-rest-client#280 (above); ADF structure:
        # https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/
        c = self.create("adf")
        for bad in ("text", {"type": "doc", "content": []}, {"type": "doc", "version": 1, "content": [
                {"type": "text", "text": "inline at top level"}]},
                    {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
                        {"type": "text", "text": ""}]}]}):
            st, _, body = self.emu.call("PUT", "/rest/api/3/issue/" + c["key"], {"fields": {"description": bad}})
            self.assertEqual(st, 400, bad)
            self.assertIn("description", body["errors"])
        ok = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
            {"type": "text", "text": "a", "marks": [{"type": "strong"}]}, {"type": "hardBreak"},
            {"type": "text", "text": "b"}]}, {"type": "bulletList", "content": [{"type": "listItem", "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "c"}]}]}]}]}
        self.assertEqual(self.emu.call("PUT", "/rest/api/3/issue/" + c["key"], {"fields": {"description": ok}})[0], 204)


class Transitions(Base):
    def test_transitions_from_current_status_with_screen_fields(self):
        # spec getTransitions: {"transitions":[{id, name, to: StatusDetails, hasScreen, fields}]};
        # expand=transitions.fields returns the screen's fields with `required` (FieldMetadata).
        c = self.create("wf")
        st, _, body = self.emu.call("GET", "/rest/api/3/issue/%s/transitions" % c["key"])
        self.assertEqual(st, 200)
        self.assertEqual([(t["id"], t["to"]["name"]) for t in body["transitions"]], [("11", "In Progress")])
        self.assertNotIn("fields", body["transitions"][0])
        for tid in ("11", "31"):
            self.assertEqual(self.transition(c["key"], tid)[0], 204)
        st, _, body = self.emu.call("GET", "/rest/api/3/issue/%s/transitions?expand=transitions.fields" % c["key"])
        done = [t for t in body["transitions"] if t["to"]["name"] == "Done"][0]
        self.assertTrue(done["hasScreen"])
        self.assertTrue(done["fields"]["resolution"]["required"])
        self.assertEqual(done["to"]["statusCategory"]["key"], "done")
        self.assertIn("Done", [v["name"] for v in done["fields"]["resolution"]["allowedValues"]])

    def test_transition_rules(self):
        # spec doTransition: 204; 400 when "no transition is specified", "a field that isn't included on the
        # transition screen is defined in fields"; a transition not available from the status is refused;
        # a required screen field missing is refused (the field is required on the screen).
        c = self.create("rules")
        k = c["key"]
        st, _, body = self.transition(k, "51", resolution={"name": "Done"})   # Done is not available from To Do
        self.assertEqual(st, 400)
        self.assertEqual(body["errorMessages"], ["Transition id '51' is not valid for this issue."])
        self.assertEqual(self.emu.call("POST", "/rest/api/3/issue/%s/transitions" % k, {})[0], 400)
        st, _, body = self.transition(k, "11", summary="not on the screen")
        self.assertEqual((st, body["errors"]), (400, {"summary": CANNOT_SET % "summary"}))
        # To Do -> In Progress -> In Review -> Done: Done is three steps away
        self.assertEqual(self.transition(k, "11")[0], 204)
        self.assertEqual(self.transition(k, "31")[0], 204)
        st, _, body = self.transition(k, "51")
        self.assertEqual(st, 400)
        self.assertIn("resolution", body["errors"])
        self.assertEqual(self.get(k)["fields"]["status"]["name"], "In Review")
        self.assertEqual(self.transition(k, "51", resolution={"name": "Done"})[0], 204)
        f = self.get(k)["fields"]
        self.assertEqual((f["status"]["name"], f["resolution"]["name"]), ("Done", "Done"))
        self.assertRegex(f["resolutiondate"], JIRA_TIME)
        # Reopen clears the resolution
        self.assertEqual(self.transition(k, "61")[0], 204)
        f = self.get(k)["fields"]
        self.assertEqual((f["status"]["name"], f["resolution"]), ("To Do", None))
        h = self.emu.control("GET", "history?key=" + k)
        self.assertEqual([x["status_name"] for x in h["history"]],
                         ["To Do", "In Progress", "In Review", "Done", "To Do"])

    def test_transition_with_comment(self):
        # spec doTransition example: "update": {"comment": [{"add": {"body": ADF}}]}
        c = self.create("tc")
        st, _, _ = self.emu.call("POST", "/rest/api/3/issue/%s/transitions" % c["key"], {
            "transition": {"id": "11"}, "update": {"comment": [{"add": {"body": adf("starting")}}]}})
        self.assertEqual(st, 204)
        self.assertEqual(self.get(c["key"])["fields"]["comment"]["comments"][0]["body"], adf("starting"))


class Changelog(Base):
    def test_changelog_paged_oldest_first(self):
        # spec getChangeLogs: "a paginated list of all changelogs for an issue sorted by date, starting from
        # the oldest"; PageBeanChangelog {self, nextPage, maxResults, startAt, total, isLast, values};
        # Changelog {id, author, created, items: [{field, fieldtype, fieldId, from, fromString, to, toString}]};
        # labels as space-separated strings (the example's "label-1 label-2").
        c = self.create("cl", labels=["label-1"])
        k = c["key"]
        self.emu.call("PUT", "/rest/api/3/issue/" + k, {"update": {"labels": [{"add": "label-2"}]}})
        self.transition(k, "11")
        self.transition(k, "31")
        self.transition(k, "51", resolution={"name": "Done"})
        st, _, p1 = self.emu.call("GET", "/rest/api/3/issue/%s/changelog?maxResults=2" % k)
        self.assertEqual(st, 200)
        self.assertEqual((p1["startAt"], p1["maxResults"], p1["total"], p1["isLast"]), (0, 2, 4, False))
        self.assertIn("nextPage", p1)
        first = p1["values"][0]
        self.assertRegex(first["created"], JIRA_TIME)
        self.assertEqual(first["items"], [{"field": "labels", "fieldtype": "jira", "fieldId": "labels", "from": None,
                                           "fromString": "label-1", "to": None, "toString": "label-1 label-2"}])
        self.assertEqual(first["author"]["emailAddress"], "ada@example.com")
        st, _, p2 = self.emu.call("GET", "/rest/api/3/issue/%s/changelog?startAt=2&maxResults=2" % k)
        self.assertEqual((p2["startAt"], p2["isLast"], len(p2["values"])), (2, True, 2))
        last = p2["values"][-1]["items"]
        self.assertEqual({i["field"] for i in last}, {"resolution", "status"})
        st_item = [i for i in last if i["field"] == "status"][0]
        self.assertEqual((st_item["fromString"], st_item["toString"], st_item["to"]), ("In Review", "Done", "10002"))
        created = [parse_jira_time(v["created"]) for v in p1["values"] + p2["values"]]
        self.assertEqual(created, sorted(created))
        # an edit that changes nothing writes no entry
        self.emu.call("PUT", "/rest/api/3/issue/" + k, {"fields": {"summary": "cl"}})
        self.assertEqual(self.emu.call("GET", "/rest/api/3/issue/%s/changelog" % k)[2]["total"], 4)


class Comments(Base):
    def test_add_and_list_adf_comments(self):
        # spec addComment: body in ADF -> 201 Comment {self, id, author, body, updateAuthor, created, updated};
        # getComments: PageOfComments {startAt, maxResults, total, comments}; orderBy created|-created|+created,
        # 400 for another value.
        c = self.create("comments")
        k = c["key"]
        doc = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
            {"type": "text", "text": "one"}, {"type": "hardBreak"}, {"type": "text", "text": "two"}]}]}
        st, _, com = self.emu.call("POST", "/rest/api/3/issue/%s/comment" % k, {"body": doc})
        self.assertEqual(st, 201)
        for f in ("self", "id", "author", "body", "updateAuthor", "created", "updated"):
            self.assertIn(f, com)
        self.assertEqual(com["body"], doc)
        self.emu.call("POST", "/rest/api/3/issue/%s/comment" % k, {"body": adf("second")})
        st, _, page = self.emu.call("GET", "/rest/api/3/issue/%s/comment?maxResults=1" % k)
        self.assertEqual((page["startAt"], page["maxResults"], page["total"]), (0, 1, 2))
        self.assertEqual(page["comments"][0]["id"], com["id"])
        st, _, page = self.emu.call("GET", "/rest/api/3/issue/%s/comment?orderBy=-created" % k)
        self.assertEqual(page["comments"][0]["body"], adf("second"))
        self.assertEqual(self.emu.call("GET", "/rest/api/3/issue/%s/comment?orderBy=author" % k)[0], 400)

    def test_non_adf_comment_refused(self):
        # v3 takes ADF only: a plain string answers 400 {"errors":{"comment":"Comment body is not valid!"}}
        # (answers quoted in https://github.com/lesstif/php-jira-rest-client/issues/412 and
        # https://github.com/pchuri/jira-cli/pull/38)
        c = self.create("badcomment")
        for bad in ("plain text", {"type": "doc", "version": 1, "content": [{"type": "nonsense"}]}, None):
            st, _, body = self.emu.call("POST", "/rest/api/3/issue/%s/comment" % c["key"], {"body": bad})
            self.assertEqual(st, 400, bad)
            self.assertEqual(body["errors"], {"comment": "Comment body is not valid!"})


class Properties(Base):
    def test_entity_properties(self):
        # spec setIssueProperty: any valid non-empty JSON, at most 32768 characters; 201 created, 200 updated;
        # getIssueProperty {"key","value"}, 404 when absent; getIssuePropertyKeys {"keys":[{self, key}]}.
        c = self.create("props")
        path = "/rest/api/3/issue/%s/properties/concord.link" % c["key"]
        self.assertEqual(self.emu.call("PUT", path, {"id": "INC001", "n": 1})[0], 201)
        self.assertEqual(self.emu.call("PUT", path, {"id": "INC001", "n": 2})[0], 200)
        st, _, body = self.emu.call("GET", path)
        self.assertEqual((st, body), (200, {"key": "concord.link", "value": {"id": "INC001", "n": 2}}))
        self.assertEqual(self.emu.call("GET", path + "x")[0], 404)
        self.assertEqual(self.emu.call("PUT", path, raw=b"{not json")[0], 400)
        self.assertEqual(self.emu.call("PUT", path, raw=b'"' + b"x" * 40000 + b'"')[0], 400)
        st, _, keys = self.emu.call("GET", "/rest/api/3/issue/%s/properties" % c["key"])
        self.assertEqual([x["key"] for x in keys["keys"]], ["concord.link"])
        # properties=KEY on GET issue (spec getIssue `properties`)
        self.assertEqual(self.get(c["key"], properties="concord.link")["properties"],
                         {"concord.link": {"id": "INC001", "n": 2}})


class CustomTextField(Base):
    def test_text_custom_field(self):
        # A single-line text custom field (customfield_10042, "External reference"): set on create and edit
        # (spec createIssue/editIssue: custom fields by id in `fields`), read by id like any field (getIssue
        # `fields`), changelog items name it (field: its name, fieldtype "custom", fieldId: its id); at most
        # 255 characters. JQL names it cf[10042] or by name; text fields take CONTAINS (~), not = ("cannot be
        # used with text fields; see the CONTAINS operator instead",
        # https://support.atlassian.com/jira-software-cloud/docs/jql-operators/); a quoted phrase finds the
        # words one after another.
        cf = "customfield_10042"
        a = self.create("cf one", **{cf: "concord-0a1b2c3d-17"})
        b = self.create("cf two", **{cf: "concord-0a1b2c3d-1"})
        c = self.create("cf none")
        self.assertEqual(self.get(a["key"], fields=cf)["fields"], {cf: "concord-0a1b2c3d-17"})
        self.assertIsNone(self.get(c["key"], fields=cf)["fields"][cf])
        phrase = 'project = EMU AND cf[10042] ~ "\\"concord-0a1b2c3d-17\\"" ORDER BY key ASC'
        self.assertEqual(self.keys(phrase), [a["key"]])
        # words in any order, by the field's name
        self.assertEqual(self.keys('"External reference" ~ "0a1b2c3d concord" ORDER BY key ASC'),
                         [a["key"], b["key"]])
        self.assertEqual(self.keys("cf[10042] is EMPTY AND key = %s" % c["key"]), [c["key"]])
        self.assertEqual(self.keys("cf[10042] is not EMPTY AND key = %s" % c["key"]), [])
        for bad in ('cf[10042] = "concord-0a1b2c3d-17"', "cf[99999] ~ x", "customfield_10042 ~ x"):
            st, _, body = self.search(bad)
            self.assertEqual(st, 400, (bad, body))
        st, _, body = self.emu.call("PUT", "/rest/api/3/issue/%s" % c["key"], {"fields": {cf: "x" * 256}})
        self.assertEqual(st, 400, body)
        self.assertIn(cf, body["errors"])
        st, _, body = self.emu.call("PUT", "/rest/api/3/issue/%s" % c["key"], {"fields": {cf: "REF-9"}})
        self.assertEqual(st, 204, body)
        st, _, log = self.emu.call("GET", "/rest/api/3/issue/%s/changelog" % c["key"])
        item = log["values"][-1]["items"][0]
        self.assertEqual((item["field"], item["fieldtype"], item["fieldId"], item["toString"]),
                         ("External reference", "custom", cf, "REF-9"))
        st, _, body = self.emu.call("PUT", "/rest/api/3/issue/%s" % c["key"], {"fields": {"customfield_99999": "x"}})
        self.assertEqual(st, 400, body)


class Search(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.made = []
        for i in range(7):
            st, _, b = cls.emu.call("POST", "/rest/api/3/issue", {"fields": {
                "project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "search %d" % i,
                "labels": ["even" if i % 2 == 0 else "odd", "concord-%d" % i]}})
            cls.made.append(b["key"])

    def test_paging_with_next_page_token(self):
        # spec searchAndReconsileIssuesUsingJql: GET /rest/api/3/search/jql, `jql`, `nextPageToken`,
        # `maxResults`, `fields`; SearchAndReconcileResults {issues, nextPageToken, isLast}; "The nextPageToken
        # field is not included in the response for the last page" (spec; also
        # https://jira.atlassian.com/browse/JRACLOUD-92184).
        seen, token, pages = [], None, 0
        while True:
            params = {"jql": "project = OPS ORDER BY key ASC", "maxResults": 3, "fields": "summary"}
            if token:
                params["nextPageToken"] = token
            st, _, page = self.emu.call("GET", "/rest/api/3/search/jql" + q(**params))
            self.assertEqual(st, 200, page)
            pages += 1
            seen += [i["key"] for i in page["issues"]]
            if page["isLast"]:
                self.assertNotIn("nextPageToken", page)
                break
            token = page["nextPageToken"]
        self.assertEqual((seen, pages), (self.made, 3))
        # POST takes the same in a body (spec searchAndReconsileIssuesUsingJqlPost, SearchAndReconcileRequestBean)
        st, _, page = self.emu.call("POST", "/rest/api/3/search/jql", {
            "jql": "project = OPS ORDER BY key ASC", "maxResults": 3, "fields": ["summary", "labels"]})
        self.assertEqual([i["key"] for i in page["issues"]], self.made[:3])
        self.assertEqual(set(page["issues"][0]["fields"]), {"summary", "labels"})
        st, _, page2 = self.emu.call("POST", "/rest/api/3/search/jql", {
            "jql": "project = OPS ORDER BY key ASC", "maxResults": 3, "nextPageToken": page["nextPageToken"]})
        self.assertEqual([i["id"] for i in page2["issues"]], [self.get(k)["id"] for k in self.made[3:6]])

    def test_defaults(self):
        # spec: fields "The default is id" (IDs only); maxResults default 50
        st, _, page = self.search("project = OPS")
        self.assertEqual(set(page["issues"][0]), {"id"})
        ids = [self.emu.call("POST", "/rest/api/3/issue", {"fields": {
            "project": {"key": "EMU"}, "issuetype": {"name": "Task"}, "summary": "bulk"}})[2]["id"] for _ in range(55)]
        st, _, page = self.search("project = EMU")
        self.assertGreaterEqual(len(ids), 55)
        self.assertEqual(len(page["issues"]), 50)
        self.assertFalse(page["isLast"])

    def test_jql_subset(self):
        # JQL clauses (field, operator, values), AND/OR, parentheses, ORDER BY
        # (https://support.atlassian.com/jira-software-cloud/docs/jql-fields/; spec `jql`: ORDER BY of up to 7 fields)
        m = self.made
        self.assertEqual(self.keys("labels = odd ORDER BY key ASC"), [m[1], m[3], m[5]])
        self.assertEqual(self.keys("labels in (concord-2, concord-4) order by key asc"), [m[2], m[4]])
        self.assertEqual(self.keys('key = %s' % m[0]), [m[0]])
        self.assertEqual(self.keys('key in (%s, "%s") ORDER BY key DESC' % (m[1], m[2])), [m[2], m[1]])
        self.assertEqual(self.keys("project = OPS AND (labels = concord-1 OR labels = concord-6) ORDER BY key"),
                         [m[1], m[6]])
        self.assertEqual(self.keys("project = OPS AND labels != even ORDER BY key"), [m[1], m[3], m[5]])
        self.assertEqual(self.keys('project = OPS AND status = "To Do" ORDER BY updated ASC, key ASC')[:2], m[:2])
        self.assertEqual(self.keys("project = OPS ORDER BY updated DESC, key DESC")[0], m[-1])

    def test_jql_errors(self):
        # Errors come as 400 {"errorMessages": [...]} with Jira's wording: an unknown field; a project that does
        # not exist ("The value 'VULN' does not exist for the field 'project'.", an answer quoted in
        # https://github.com/tenable/integration-jira-cloud/issues/124); syntax ("Error in the JQL Query: ...",
        # https://github.com/steyep/alfred-jira/issues/95); an invalid date (the JQL date formats,
        # https://confluence.atlassian.com/spaces/JIRA052/pages/314448708/__JQL+Date+Time+Formats); the
        # search needs a bounded query (spec `jql`: "this parameter requires a bounded query").
        for jql, needle in (("nosuchfield = 1", "Field 'nosuchfield' does not exist"),
                            ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
                            ("project = OPS AND", "Error in the JQL Query"),
                            ("project = OPS ORDER BY", "Error in the JQL Query"),
                            ('summary = "unterminated', "Error in the JQL Query: The quoted string"),
                            ('updated >= "yesterday"', "Date value 'yesterday' for field 'updated' is invalid"),
                            ("order by key DESC", "Unbounded JQL queries are not allowed here"),
                            ("assignee = currentUser()", "currentUser")):
            st, _, body = self.search(jql)
            self.assertEqual(st, 400, jql)
            self.assertTrue(any(needle in m for m in body["errorMessages"]), (jql, body))

    def test_updated_minute_precision_in_account_time_zone(self):
        # JQL date values have minute precision ("yyyy-MM-dd HH:mm",
        # https://confluence.atlassian.com/spaces/JIRA052/pages/314448708/__JQL+Date+Time+Formats) and are read in
        # the searching account's time zone (issue 11; Jira's JQL field reference for Updated, see README).
        c = self.create("tz", project="OPS", labels=["tzcase"])
        upd = parse_jira_time(self.get(c["key"])["fields"]["updated"])
        for tzname, auth in ((TZ, None), ("UTC", BOB)):
            local = upd.astimezone(zoneinfo.ZoneInfo(tzname))
            minute = local.strftime("%Y-%m-%d %H:%M")
            nxt = (local + datetime.timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
            self.assertEqual(self.keys('labels = tzcase AND updated >= "%s"' % minute, auth=auth), [c["key"]])
            self.assertEqual(self.keys('labels = tzcase AND updated >= "%s"' % minute.replace("-", "/"),
                                       auth=auth), [c["key"]])
            self.assertEqual(self.keys('labels = tzcase AND updated >= "%s"' % nxt, auth=auth), [])
            self.assertEqual(self.keys('labels = tzcase AND updated < "%s"' % nxt, auth=auth), [c["key"]])
        # the same literal is another instant for the other account (Sydney is ahead of UTC)
        sydney_minute = upd.astimezone(zoneinfo.ZoneInfo(TZ)).strftime("%Y-%m-%d %H:%M")
        self.assertEqual(self.keys('labels = tzcase AND updated >= "%s"' % sydney_minute, auth=BOB), [])
        # relative periods
        self.assertEqual(self.keys('labels = tzcase AND updated >= "-5m"'), [c["key"]])
        self.assertEqual(self.keys("labels = tzcase AND updated >= -1d"), [c["key"]])

    def test_unknown_key_is_an_error(self):
        # Jira answers 400 for a key that does not exist in a key clause ("An issue with key 'X' does not
        # exist for field 'key'."; modelled on Jira's answers, see README)
        st, _, body = self.search("key = OPS-9999")
        self.assertEqual(st, 400)
        self.assertIn("An issue with key 'OPS-9999' does not exist for field 'key'.", body["errorMessages"])


class EventualConsistency(Base):
    def test_search_lags_behind_writes(self):
        # spec search/jql: "Recent updates might not be immediately visible in the returned search results. If
        # you need read-after-write consistency, you can utilize the reconcileIssues parameter"
        self.emu.control("POST", "faults", {"search_lag_s": 5})
        try:
            c = self.create("lag", labels=["lagged"])
            self.assertEqual(self.keys("labels = lagged"), [])
            self.assertEqual(self.get(c["key"])["fields"]["labels"], ["lagged"])  # get by key: at once
            st, _, page = self.search("labels = lagged", fields="key", reconcileIssues=c["id"])
            self.assertEqual([i["key"] for i in page["issues"]], [c["key"]])
            # an edit: the search still shows the old values until the lag has passed
            self.emu.call("PUT", "/rest/api/3/issue/" + c["key"], {"fields": {"labels": ["moved"]}})
            self.assertEqual(self.keys("labels = moved"), [])
            st, _, page = self.search("labels = lagged", fields="labels")
            self.assertEqual(page["issues"][0]["fields"]["labels"], ["lagged"])
            end = time.monotonic() + 20
            while not self.keys("labels = moved") and time.monotonic() < end:
                time.sleep(0.2)
            self.assertEqual(self.keys("labels = moved"), [c["key"]])
            self.assertEqual(self.keys("labels = lagged"), [])
        finally:
            self.emu.control("POST", "faults", {"search_lag_s": 0})


class RateLimits(Base):
    def test_per_issue_write_limit(self):
        # Per-issue write limits: writes to one issue beyond the limit answer 429 with Retry-After and
        # RateLimit-Reason: jira-per-issue-on-write
        # (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/ "Per-issue write limits";
        # https://developer.atlassian.com/cloud/jira/platform/build-an-app-that-respects-rate-limits/ names
        # the reason); about 20 writes per 2 s and 100 per 30 s for one issue (issue 11's figures).
        self.assertEqual(self.emu.control("GET", "limits")["issue_write"], ["20/2", "100/30"])
        a, b = self.create("hot"), self.create("cold")
        path = "/rest/api/3/issue/%s/properties/n" % a["key"]
        t0 = time.monotonic()
        codes = [self.emu.call("PUT", path, {"i": i})[0] for i in range(21)]
        if time.monotonic() - t0 < 1.8:  # the 21st fell inside the 2 s window
            self.assertEqual(codes[:20], [201] + [200] * 19)
            self.assertEqual(codes[20], 429)
        # however slow this machine is, the 30 s window (100 writes) refuses one before 101
        for _ in range(101):
            st, h, body = self.emu.call("PUT", path, {"i": 99})
            if st == 429:
                break
        self.assertEqual(st, 429)
        self.assertEqual(h["RateLimit-Reason"], "jira-per-issue-on-write")
        self.assertGreaterEqual(int(h["Retry-After"]), 1)
        # X-RateLimit-Reset: "the timestamp (in ISO 8601 format) when the rate limit will reset ... in the
        # format: yyyy-MM-ddTHH:mmZ" (the rate limiting page, quoted in https://jira.atlassian.com/browse/JRACLOUD-69262)
        self.assertRegex(h["X-RateLimit-Reset"], r"^\d{4}-\d\d-\d\dT\d\d:\d\dZ$")
        self.assertIn("errorMessages", body)
        # another issue is not limited; reads of the hot issue are not either
        self.assertEqual(self.emu.call("PUT", "/rest/api/3/issue/%s/properties/n" % b["key"], {})[0], 201)
        self.assertEqual(self.emu.call("GET", path)[0], 200)
        # a refused write applied nothing
        self.assertNotEqual(self.emu.call("GET", path)[2]["value"], {"i": 99})

    def test_second_window(self):
        # both windows count (a short and a long one); set small ones at run time
        self.emu.control("POST", "limits", {"issue_write": ["3/2", "5/30"]})
        try:
            k = self.create("win")["key"]
            path = "/rest/api/3/issue/%s/properties/w" % k
            self.assertEqual([self.emu.call("PUT", path, {})[0] for _ in range(4)], [201, 200, 200, 429])
            time.sleep(2.1)
            self.assertEqual([self.emu.call("PUT", path, {})[0] for _ in range(2)], [200, 200])
            st, h, _ = self.emu.call("PUT", path, {})
            self.assertEqual((st, h["RateLimit-Reason"]), (429, "jira-per-issue-on-write"))
            self.assertGreater(int(h["Retry-After"]), 5)     # the 30 s window is the full one
            # edits, transitions and comments count too
            k2 = self.create("win2")["key"]
            self.assertEqual(self.emu.call("PUT", "/rest/api/3/issue/" + k2, {"fields": {"summary": "1"}})[0], 204)
            self.assertEqual(self.transition(k2, "11")[0], 204)
            self.assertEqual(self.emu.call("POST", "/rest/api/3/issue/%s/comment" % k2, {"body": adf("c")})[0], 201)
            st, _, _ = self.emu.call("PUT", "/rest/api/3/issue/" + k2, {"fields": {"summary": "2"}})
            self.assertEqual(st, 429)
            self.assertEqual(self.get(k2)["fields"]["summary"], "1")
        finally:
            self.emu.control("POST", "limits", {"issue_write": ["20/2", "100/30"]})

    def test_burst_limit(self):
        # The burst (per-second) limit: 429 with RateLimit-Reason jira-burst-based
        # (build-an-app-that-respects-rate-limits), X-RateLimit-Limit / X-RateLimit-Remaining (the rate limiting
        # page as quoted in https://jira.atlassian.com/browse/JRACLOUD-69262)
        self.emu.control("POST", "limits", {"burst_per_second": 1})
        limited = []
        try:
            for _ in range(30):  # one token a second: a burst runs out at once, however slow the machine
                st, h, _ = self.emu.call("GET", "/rest/api/3/myself")
                if st == 429:
                    limited.append(h)
                    break
        finally:
            self.emu.control("POST", "limits", {"burst_per_second": 0})
        self.assertTrue(limited)
        self.assertEqual(limited[0]["RateLimit-Reason"], "jira-burst-based")
        self.assertEqual((limited[0]["X-RateLimit-Limit"], limited[0]["X-RateLimit-Remaining"]), ("1", "0"))
        self.assertEqual(self.emu.call("GET", "/rest/api/3/myself")[0], 200)

    def test_injected_429_headers(self):
        # 429 with Retry-After (seconds), X-RateLimit-Reset, RateLimit-Reason, X-RateLimit-NearLimit
        # (rate limiting page as quoted in https://jira.atlassian.com/browse/JRACLOUD-69262; the reasons
        # jira-burst-based / jira-per-issue-on-write: build-an-app-that-respects-rate-limits); body as a real
        # answer quoted in https://github.com/raycast/extensions/issues/29015
        self.emu.control("POST", "faults", {"p_429": 1.0})
        try:
            st, h, body = self.emu.call("GET", "/rest/api/3/myself")
        finally:
            self.emu.control("POST", "faults", {"p_429": 0.0})
        self.assertEqual(st, 429)
        self.assertEqual(h["Retry-After"], "1")
        self.assertEqual(h["RateLimit-Reason"], "jira-burst-based")
        self.assertEqual(h["X-RateLimit-NearLimit"], "true")
        self.assertRegex(h["X-RateLimit-Reset"], r"^\d{4}-\d\d-\d\dT\d\d:\d\dZ$")
        self.assertEqual(body["errorMessages"], ["The request has been rate-limited. Please try again later."])


class Faults(Base):
    def test_5xx_latency_and_timeout_after_write(self):
        emu = self.emu
        emu.control("POST", "faults", {"p_5xx": 1.0, "seed": 3})
        codes = {emu.call("GET", "/rest/api/3/myself")[0] for _ in range(12)}
        emu.control("POST", "faults", {"p_5xx": 0.0, "latency_ms": 300})
        t = time.monotonic()
        emu.call("GET", "/rest/api/3/myself")
        slow = time.monotonic() - t
        emu.control("POST", "faults", {"latency_ms": 0})
        self.assertTrue(codes <= {500, 502, 503} and len(codes) >= 2, codes)
        self.assertGreaterEqual(slow, 0.3)
        # the write is applied, the answer never comes
        k = self.create("timeout")["key"]
        emu.control("POST", "faults", {"p_timeout_after_write": 1.0, "timeout_mode": "close"})
        try:
            with self.assertRaises(Exception):
                emu.call("PUT", "/rest/api/3/issue/" + k, {"fields": {"summary": "applied"}}, timeout=5)
        finally:
            emu.control("POST", "faults", {"p_timeout_after_write": 0.0})
        self.assertEqual(self.get(k)["fields"]["summary"], "applied")
        self.assertEqual(emu.control("GET", "stats")["faults"]["timeout_after_write"], 1)
        self.assertEqual(emu.call("POST", "/emulator/faults", {"p_bogus": 1}, auth=None)[0], 400)


class Webhooks(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.hooks = Hooks()
        cls.secret = "It's a Secret to Everybody"
        cls.emu.control("POST", "webhooks", {"url": cls.hooks.url, "secret": cls.secret})
        cls.emu.control("POST", "webhook-policy", {"backoff_s": 0.2, "hold_s": 10})

    @classmethod
    def tearDownClass(cls):
        cls.hooks.close()
        super().tearDownClass()

    def verify(self, h, raw):
        # X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret> (admin webhooks with a
        # secret: https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks; the
        # format as in https://confluence.atlassian.com/adminjiraserver/managing-webhooks-938846912.html)
        want = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        self.assertEqual(h["x-hub-signature"], want)

    def test_events_and_headers(self):
        # Events jira:issue_created, jira:issue_updated, comment_created; body {timestamp, webhookEvent,
        # issue_event_type_name, user, issue, changelog, comment} (the webhooks page's example callback;
        # https://developer.atlassian.com/cloud/jira/platform/webhooks/); X-Atlassian-Webhook-Identifier per
        # delivery (spec FailedWebhook.id: "as sent in the X-Atlassian-Webhook-Identifier header").
        c = self.create("hooked")
        got = self.hooks.wait(lambda b: b["webhookEvent"] == "jira:issue_created" and b["issue"]["key"] == c["key"])
        self.assertEqual(len(got), 1)
        body, h, raw = got[0]
        self.verify(h, raw)
        self.assertTrue(h["x-atlassian-webhook-identifier"])
        self.assertEqual(body["issue_event_type_name"], "issue_created")
        self.assertEqual(body["user"]["emailAddress"], "ada@example.com")
        self.assertIsInstance(body["timestamp"], int)
        self.assertEqual(body["issue"]["fields"]["summary"], "hooked")
        self.transition(c["key"], "11")
        got = self.hooks.wait(lambda b: b["webhookEvent"] == "jira:issue_updated" and b["issue"]["key"] == c["key"]
                              and b.get("changelog"))
        body, h, raw = got[0]
        self.verify(h, raw)
        self.assertEqual(body["changelog"]["items"][0]["field"], "status")
        self.assertEqual(body["changelog"]["items"][0]["toString"], "In Progress")
        self.emu.call("POST", "/rest/api/3/issue/%s/comment" % c["key"], {"body": adf("hi")})
        got = self.hooks.wait(lambda b: b["webhookEvent"] == "comment_created" and b["issue"]["key"] == c["key"])
        self.assertEqual(got[0][0]["comment"]["body"], adf("hi"))
        got = self.hooks.wait(lambda b: b.get("issue_event_type_name") == "issue_commented"
                              and b["issue"]["key"] == c["key"])
        self.assertEqual(len(got), 1)
        ids = [h["x-atlassian-webhook-identifier"] for b, h, _ in self.hooks.delivered()
               if b["issue"]["key"] == c["key"]]
        self.assertEqual(len(ids), 4)
        self.assertEqual(len(ids), len(set(ids)))

    def test_retried_with_the_same_identifier(self):
        # Retries on 408, 409, 425, 429, 5xx or a failed connection, with X-Atlassian-Webhook-Retry counting
        # them; the identifier stays (https://community.developer.atlassian.com/t/new-jira-cloud-webhook-retry-policy/30554;
        # https://developer.atlassian.com/cloud/jira/platform/webhooks/#retry-policy)
        with self.hooks.cond:
            self.hooks.fail_next = 2
        c = self.create("retried")
        got = self.hooks.wait(lambda b: b["issue"]["key"] == c["key"])
        self.assertEqual(len(got), 1)
        attempts = [(h, failed) for raw, h, failed in self.hooks.got if c["key"].encode() in raw]
        self.assertEqual([f for _, f in attempts], [True, True, False])
        self.assertEqual(len({h["x-atlassian-webhook-identifier"] for h, _ in attempts}), 1)
        self.assertNotIn("x-atlassian-webhook-retry", attempts[0][0])
        self.assertEqual(attempts[2][0]["x-atlassian-webhook-retry"], "2")

    def test_duplicate_and_reorder_faults(self):
        self.emu.control("POST", "faults", {"p_dup_webhook": 1.0})
        try:
            c = self.create("dup")
            got = self.hooks.wait(lambda b: b["issue"]["key"] == c["key"], count=2)
        finally:
            self.emu.control("POST", "faults", {"p_dup_webhook": 0.0})
        self.assertEqual(len(got), 2)
        self.assertEqual(got[0][1]["x-atlassian-webhook-identifier"], got[1][1]["x-atlassian-webhook-identifier"])
        self.emu.control("POST", "faults", {"p_reorder_webhook": 1.0, "seed": 1})
        try:
            a = self.create("first")
            self.emu.control("POST", "faults", {"p_reorder_webhook": 0.0})
            b = self.create("second")
            got = self.hooks.wait(lambda x: x["issue"]["key"] in (a["key"], b["key"]), count=2)
        finally:
            self.emu.control("POST", "faults", {"p_reorder_webhook": 0.0})
        self.assertEqual([x[0]["issue"]["key"] for x in got], [b["key"], a["key"]])


class StateAndControl(Base):
    def test_restart_keeps_state(self):
        c = self.create("persist", labels=["keep"])
        self.transition(c["key"], "11")
        self.emu.call("POST", "/rest/api/3/issue/%s/comment" % c["key"], {"body": adf("kept")})
        self.emu.call("PUT", "/rest/api/3/issue/%s/properties/p" % c["key"], {"v": 1})
        self.emu.control("POST", "webhooks", {"url": "http://127.0.0.1:9/none", "events": ["comment_created"]})
        self.emu.restart()
        i = self.get(c["key"])
        self.assertEqual(i["fields"]["status"]["name"], "In Progress")
        self.assertEqual(i["fields"]["comment"]["total"], 1)
        self.assertEqual(self.emu.call("GET", "/rest/api/3/issue/%s/properties/p" % c["key"])[2]["value"], {"v": 1})
        self.assertEqual(self.keys("labels = keep"), [c["key"]])
        self.assertEqual(self.emu.call("GET", "/rest/api/3/issue/%s/changelog" % c["key"])[2]["total"], 1)
        self.assertEqual(len(self.emu.control("GET", "webhooks")["webhooks"]), 1)
        self.assertGreater(int(self.create("after")["id"]), int(c["id"]))

    def test_seed_clock_edit_stats(self):
        r = self.emu.control("POST", "seed", {"count": 500, "project": "OPS", "spread_seconds": 600,
                                              "labels": ["bulk"]})
        self.assertEqual(r["count"], 500)
        n, token = 0, None
        while True:
            params = {"jql": "project = OPS AND labels = bulk ORDER BY updated ASC, key ASC", "maxResults": 100}
            if token:
                params["nextPageToken"] = token
            page = self.emu.call("GET", "/rest/api/3/search/jql" + q(**params))[2]
            n += len(page["issues"])
            token = page.get("nextPageToken")
            if not token:
                break
        self.assertEqual(n, 500)
        # the clock's skew moves `updated`
        self.emu.control("POST", "clock", {"skew": 3600})
        try:
            c = self.create("skewed")
            upd = parse_jira_time(self.get(c["key"])["fields"]["updated"])
            ahead = (upd - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
            self.assertTrue(3500 < ahead < 3700, ahead)
        finally:
            self.emu.control("POST", "clock", {"skew": 0})
        # a person's edit in the UI: same rules (a transition needs its screen's fields)
        st, _, body = self.emu.call("POST", "/emulator/edit", {"key": c["key"], "author": EMAIL2,
                                                                "transition": {"id": "11"}, "comment": "by hand"},
                                    auth=None)
        self.assertEqual(st, 200, body)
        self.assertEqual(body["fields"]["status"]["name"], "In Progress")
        h = self.emu.control("GET", "history?key=" + c["key"])
        self.assertEqual(h["history"][-1]["author"].startswith("712020:"), True)
        s = self.emu.control("GET", "stats")
        self.assertGreaterEqual(s["issues"], 502)
        self.assertIn("search", s["requests"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
