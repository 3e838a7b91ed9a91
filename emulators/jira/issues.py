"""What the Jira emulator does with an issue: renders it (GET issue, search
results, webhook bodies) in REST API v3's shapes, and checks an edit or a
transition the way Jira does, turning it into column changes and changelog
items. No HTTP and no SQL here: server.py calls these, store.py keeps the
result."""

import adf
import workflow as wf
from timefmt import fmt

# The site's custom fields: one single-line text field (type
# com.atlassian.jira.plugin.system.customfieldtypes:textfield), on the
# create and edit screens, as an administrator would add for an external
# reference. JQL names it cf[10042] or by its name.
CUSTOM_TEXT = {"customfield_10042": "External reference"}
TEXT_MAX = 255
ALL_FIELDS = ("summary", "description", "status", "priority", "labels", "resolution", "resolutiondate",
              "updated", "created", "assignee", "reporter", "comment", "project", "issuetype") + tuple(CUSTOM_TEXT)
NAVIGABLE = tuple(f for f in ALL_FIELDS if f != "comment")
EDITABLE = {"summary", "description", "priority", "labels", "assignee"} | set(CUSTOM_TEXT)
CANNOT_SET = "Field '%s' cannot be set. It is not on the appropriate screen, or unknown."
NOT_ADF = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"


class Invalid(Exception):
    """400 with Jira's ErrorCollection: errorMessages and errors by field."""

    def __init__(self, messages=(), errors=None):
        super().__init__("; ".join(list(messages) + ["%s: %s" % kv for kv in (errors or {}).items()]))
        self.messages, self.errors = list(messages), dict(errors or {})


def field_list(values, default):
    """The `fields` parameter (repeatable, comma-separated) -> the set of
    fields to render, or None for IDs only."""
    toks = [t.strip() for v in values for t in str(v).split(",") if t.strip()]
    if not toks:
        toks = [default]
    out, minus = set(), set()
    for t in toks:
        if t == "*all":
            out |= set(ALL_FIELDS)
        elif t == "*navigable":
            out |= set(NAVIGABLE)
        elif t.startswith("-"):
            minus.add(t[1:])
        elif t in ("id", "key"):
            continue
        else:
            out.add(t)
    if minus and not out:
        out = set(NAVIGABLE if default != "*all" else ALL_FIELDS)
    out -= minus
    if toks == ["id"]:
        return None  # "`id` Returns only issue IDs"
    return out


class Renderer:
    """Renders with a base URL (the Host the client used), the reader's time
    zone and the site's accounts."""

    def __init__(self, base, tz, accounts, store):
        self.base, self.tz, self.accounts, self.store = base, tz, accounts, store

    def user(self, account_id, full=False):
        if account_id is None:
            return None
        a = self.accounts.get(account_id)
        name = a["displayName"] if a else account_id
        u = {"self": "%s/rest/api/3/user?accountId=%s" % (self.base, account_id), "accountId": account_id,
             "avatarUrls": {s: "%s/secure/useravatar?size=%s&accountId=%s" % (self.base, s, account_id)
                            for s in ("48x48", "24x24", "16x16", "32x32")},
             "displayName": name, "active": True, "accountType": "atlassian"}
        if a:
            u["emailAddress"] = a["email"]
            u["timeZone"] = a["timeZone"]
        return u

    def project(self, key, projects):
        pid, name = projects[key]
        return {"self": "%s/rest/api/3/project/%s" % (self.base, pid), "id": pid, "key": key, "name": name,
                "projectTypeKey": "software", "simplified": False}

    def comment(self, c, issue_id):
        return {"self": "%s/rest/api/3/issue/%s/comment/%s" % (self.base, issue_id, c["id"]), "id": str(c["id"]),
                "author": self.user(c["author"]), "body": c["body"], "updateAuthor": self.user(c["author"]),
                "created": fmt(c["created"], self.tz), "updated": fmt(c["updated"], self.tz), "jsdPublic": True}

    def issue(self, row, fields, projects, properties=None):
        """IssueBean. fields: a set of field names, or None for id only."""
        out = {"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
               "id": str(row["id"]), "self": "%s/rest/api/3/issue/%d" % (self.base, row["id"]),
               "key": row["key"]}
        if fields is None:
            return {"id": str(row["id"])}
        f = {}
        b = self.base
        for name in fields:
            if name == "summary":
                f[name] = row["summary"]
            elif name == "description":
                f[name] = row["description"]
            elif name == "status":
                f[name] = wf.status_json(row["status"], b)
            elif name == "priority":
                f[name] = wf.priority_json(row["priority"], b)
            elif name == "labels":
                f[name] = list(row["labels"])
            elif name == "resolution":
                f[name] = wf.resolution_json(row["resolution"], b)
            elif name in ("resolutiondate", "updated", "created"):
                f[name] = fmt(row[name], self.tz)
            elif name in ("assignee", "reporter"):
                f[name] = self.user(row[name])
            elif name == "project":
                f[name] = self.project(row["proj"], projects)
            elif name in CUSTOM_TEXT:
                f[name] = row["custom"].get(name)
            elif name == "issuetype":
                f[name] = dict(wf.ISSUE_TYPE, self="%s/rest/api/3/issuetype/%s" % (b, wf.ISSUE_TYPE["id"]))
            elif name == "comment":
                total, cs = self.store.comments(row["id"], 0, 5000)
                f[name] = {"comments": [self.comment(c, row["id"]) for c in cs], "self":
                           "%s/rest/api/3/issue/%d/comment" % (b, row["id"]), "maxResults": len(cs),
                           "total": total, "startAt": 0}
            # unknown names are left out, as Jira leaves out fields it does not have
        out["fields"] = f
        if properties is not None:
            out["properties"] = properties
        return out

    def changelog_entry(self, e):
        return {"id": str(e["id"]), "author": self.user(e["author"]), "created": fmt(e["created"], self.tz),
                "items": e["items"]}


def _item(field, frm, frm_s, to, to_s):
    if field in CUSTOM_TEXT:
        return {"field": CUSTOM_TEXT[field], "fieldtype": "custom", "fieldId": field, "from": frm,
                "fromString": frm_s, "to": to, "toString": to_s}
    return {"field": field, "fieldtype": "jira", "fieldId": field, "from": frm, "fromString": frm_s,
            "to": to, "toString": to_s}


def _labels_ok(labels):
    if not isinstance(labels, list) or not all(isinstance(x, str) and x for x in labels):
        return False
    return not any(" " in x for x in labels)


def check_edit(cur, body, accounts):
    """PUT /issue: -> (changes {column: value}, changelog items, properties [(key, json)]).
    Refuses `status`, `resolution` and other fields that are not on the edit screen."""
    if not isinstance(body, dict):
        raise Invalid(["The request body is not a JSON object."])
    fields = body.get("fields") or {}
    update = body.get("update") or {}
    if not isinstance(fields, dict) or not isinstance(update, dict):
        raise Invalid(["'fields' and 'update' must be objects."])
    errors = {}
    for k in list(fields) + list(update):
        if k not in EDITABLE:
            errors[k] = CANNOT_SET % k
    both = set(fields) & set(update)
    for k in both:
        errors[k] = "Field '%s' cannot be set in both 'fields' and 'update'." % k
    if errors:
        raise Invalid([], errors)
    new = {}
    for k, v in fields.items():
        new[k] = v
    for k, ops in update.items():
        if not isinstance(ops, list):
            raise Invalid([], {k: "The operations of '%s' must be a list." % k})
        val = list(cur["labels"]) if k == "labels" else None
        for op in ops:
            if not isinstance(op, dict) or len(op) != 1:
                raise Invalid([], {k: "Each operation is an object with one verb."})
            verb, arg = next(iter(op.items()))
            if k == "labels" and verb == "add":
                if arg not in val:
                    val.append(arg)
            elif k == "labels" and verb == "remove":
                val = [x for x in val if x != arg]
            elif verb == "set":
                val = arg
            else:
                raise Invalid([], {k: "Operation '%s' is not supported for field '%s'." % (verb, k)})
        new[k] = val
    return _changes(cur, new, accounts)


def _changes(cur, new, accounts):
    changes, items, errors = {}, [], {}
    if "summary" in new:
        s = new["summary"]
        if not isinstance(s, str) or not s.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(s) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
        elif s != cur["summary"]:
            changes["summary"] = s
            items.append(_item("summary", None, cur["summary"], None, s))
    if "description" in new:
        d = new["description"]
        if d is not None and not adf.is_document(d):
            errors["description"] = NOT_ADF
        elif d != cur["description"]:
            changes["description"] = d
            items.append(_item("description", None, adf.to_text(cur["description"]), None, adf.to_text(d)))
    if "priority" in new:
        p = wf.find_by_ref(wf.PRIORITIES, new["priority"])
        if p is None:
            errors["priority"] = "Specify a valid 'id' or 'name' for Priority"
        elif p != cur["priority"]:
            changes["priority"] = p
            items.append(_item("priority", cur["priority"], wf.PRIORITIES.get(cur["priority"]), p, wf.PRIORITIES[p]))
    if "labels" in new:
        lb = new["labels"]
        if not _labels_ok(lb):
            errors["labels"] = "Labels are a list of non-empty strings without spaces."
        else:
            lb = list(dict.fromkeys(lb))
            if lb != cur["labels"]:
                changes["labels"] = lb
                items.append(_item("labels", None, " ".join(cur["labels"]), None, " ".join(lb)))
    if "assignee" in new:
        a = new["assignee"]
        aid = None if a is None else (a.get("accountId") if isinstance(a, dict) else "")
        if aid is not None and aid not in accounts:
            errors["assignee"] = "Specify a valid value for assignee"
        elif aid != cur["assignee"]:
            changes["assignee"] = aid
            items.append(_item("assignee", cur["assignee"],
                               accounts[cur["assignee"]]["displayName"] if cur["assignee"] in accounts else None,
                               aid, accounts[aid]["displayName"] if aid else None))
    custom = dict(cur.get("custom") or {})
    for k in CUSTOM_TEXT:
        if k not in new:
            continue
        v = new[k]
        if v is not None and not isinstance(v, str):
            errors[k] = "Operation value must be a string"
        elif v is not None and len(v) > TEXT_MAX:
            errors[k] = "The entered text is too long. It exceeds the allowed limit of %d characters." % TEXT_MAX
        else:
            v = v if v else None
            if v != custom.get(k):
                items.append(_item(k, None, custom.get(k), None, v))
                if v is None:
                    custom.pop(k, None)
                else:
                    custom[k] = v
                changes["custom"] = custom
    if errors:
        raise Invalid([], errors)
    return changes, items


def check_transition(cur, body, accounts, now):
    """POST /transitions: -> (transition id, changes, items, comment bodies).
    The transition must be available from the current status; the fields
    given must be on its screen; the screen's required fields must be given."""
    if not isinstance(body, dict):
        raise Invalid(["The request body is not a JSON object."])
    t = body.get("transition")
    tid = str(t.get("id")) if isinstance(t, dict) and t.get("id") is not None else None
    if tid is None:
        raise Invalid(["Missing 'transition' identifier"])
    if tid not in wf.available(cur["status"]):
        raise Invalid(["Transition id '%s' is not valid for this issue." % tid])
    name, _, to, screen, clears = wf.TRANSITIONS[tid]
    fields = body.get("fields") or {}
    update = body.get("update") or {}
    if not isinstance(fields, dict) or not isinstance(update, dict):
        raise Invalid(["'fields' and 'update' must be objects."])
    errors = {}
    for k in fields:
        if k not in screen:
            errors[k] = CANNOT_SET % k
    comments = []
    for k, ops in update.items():
        if k == "comment" and isinstance(ops, list):
            for op in ops:
                b = op.get("add", {}).get("body") if isinstance(op, dict) and isinstance(op.get("add"), dict) else None
                if not adf.is_document(b):
                    errors["comment"] = "Comment body is not valid!"
                else:
                    comments.append(b)
        elif k not in screen:
            errors[k] = CANNOT_SET % k
    for k in set(fields) & set(update):
        errors[k] = "Field '%s' cannot be set in both 'fields' and 'update'." % k
    for k, required in screen.items():
        if required and fields.get(k) is None and k not in update:
            errors.setdefault(k, "%s is required." % wf.FIELD_NAMES[k])
    if errors:
        raise Invalid([], errors)
    changes, items = {}, []
    if "resolution" in fields:
        r = wf.find_by_ref(wf.RESOLUTIONS, fields["resolution"])
        if r is None:
            raise Invalid([], {"resolution": "Could not find resolution with the given name or id."})
        if r != cur["resolution"]:
            changes["resolution"] = r
            changes["resolutiondate"] = now
            items.append(_item("resolution", cur["resolution"], wf.RESOLUTIONS[cur["resolution"]][0]
                               if cur["resolution"] else None, r, wf.RESOLUTIONS[r][0]))
    if clears and cur["resolution"] is not None:
        changes["resolution"] = None
        changes["resolutiondate"] = None
        items.append(_item("resolution", cur["resolution"], wf.RESOLUTIONS[cur["resolution"]][0], None, None))
    if "assignee" in fields:
        c2, i2 = _changes(cur, {"assignee": fields["assignee"]}, accounts)
        changes.update(c2)
        items += i2
    if to != cur["status"]:
        changes["status"] = to
        items.append(_item("status", cur["status"], wf.STATUSES[cur["status"]][0], to, wf.STATUSES[to][0]))
    return tid, changes, items, comments


def check_create(body, projects, accounts, reporter):
    """POST /issue: -> the new issue's columns (status: the workflow's initial one)."""
    if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
        raise Invalid(["The request body must have 'fields'."])
    f = body["fields"]
    errors = {}
    p = f.get("project")
    proj = None
    if isinstance(p, dict):
        for k, (pid, _) in projects.items():
            if str(p.get("key", "")).upper() == k or str(p.get("id", "")) == pid:
                proj = k
    if proj is None:
        errors["project"] = "valid project is required"
    it = f.get("issuetype")
    if not (isinstance(it, dict) and (str(it.get("id")) == wf.ISSUE_TYPE["id"] or
                                      str(it.get("name", "")).lower() == wf.ISSUE_TYPE["name"].lower())):
        errors["issuetype"] = "valid issue type is required"
    for k in f:
        if k not in EDITABLE | {"project", "issuetype", "reporter"}:
            errors[k] = CANNOT_SET % k
    if errors:
        raise Invalid([], errors)
    blank = {"summary": "", "description": None, "priority": None, "labels": [], "assignee": None,
             "custom": {}}
    new = {k: f[k] for k in ("summary", "description", "priority", "labels", "assignee") + tuple(CUSTOM_TEXT)
           if k in f}
    if "summary" not in new:
        raise Invalid([], {"summary": "You must specify a summary of the issue."})
    changes, _ = _changes(blank, new, accounts)
    row = {"proj": proj, "summary": changes.get("summary", ""), "description": changes.get("description"),
           "status": wf.INITIAL_STATUS, "priority": changes.get("priority", wf.DEFAULT_PRIORITY),
           "resolution": None, "resolutiondate": None, "assignee": changes.get("assignee"),
           "reporter": reporter, "labels": changes.get("labels", []), "custom": changes.get("custom", {})}
    return row
