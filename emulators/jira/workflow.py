"""The Jira emulator's fixed site configuration: the workflow (statuses,
status categories, transitions and their screens), priorities, resolutions
and the issue type. Status moves only through a transition available from
the issue's current status; the Done transition's screen requires
`resolution`; "Done" is reachable from "To Do" only in three steps."""

# Status categories as Jira Cloud has them (GET /rest/api/3/statuscategory):
# id, key, colorName, name.
CATEGORIES = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}

# id -> (name, category key, description)
STATUSES = {
    "10000": ("To Do", "new", "This issue is waiting to be started."),
    "3": ("In Progress", "indeterminate", "This issue is being actively worked on at the moment."),
    "10001": ("In Review", "indeterminate", "The work is being reviewed."),
    "10002": ("Done", "done", "This issue is complete."),
}
INITIAL_STATUS = "10000"

# Transitions: id -> (name, from status ids, to status id, screen fields
# {field: required}, clears resolution). Jira's default workflows number
# transitions 11, 21, 31, ...
TRANSITIONS = {
    "11": ("Start progress", ("10000",), "3", {}, False),
    "21": ("Stop progress", ("3",), "10000", {}, False),
    "31": ("Submit for review", ("3",), "10001", {}, False),
    "41": ("Request changes", ("10001",), "3", {}, False),
    "51": ("Done", ("10001",), "10002", {"resolution": True, "assignee": False}, False),
    "61": ("Reopen", ("10002",), "10000", {}, True),
}

# The Jira event a transition raises (issue_event_type_name of its webhook).
TRANSITION_EVENT = {"51": "issue_resolved", "61": "issue_reopened"}

PRIORITIES = {"1": "Highest", "2": "High", "3": "Medium", "4": "Low", "5": "Lowest"}
DEFAULT_PRIORITY = "3"

RESOLUTIONS = {
    "10000": ("Done", "Work has been completed on this issue."),
    "10001": ("Won't Do", "This issue won't be actioned."),
    "10002": ("Duplicate", "The problem is a duplicate of an existing issue."),
    "10003": ("Cannot Reproduce", "All attempts at reproducing this issue failed."),
}

ISSUE_TYPE = {"id": "10001", "name": "Task", "subtask": False, "hierarchyLevel": 0,
              "description": "A small, distinct piece of work."}

FIELD_NAMES = {"resolution": "Resolution", "assignee": "Assignee", "summary": "Summary",
               "description": "Description", "labels": "Labels", "priority": "Priority",
               "status": "Status"}


def status_id_by_name(name):
    for sid, (n, _, _) in STATUSES.items():
        if n.lower() == str(name).lower():
            return sid
    return None


def status_json(sid, base):
    name, cat, desc = STATUSES[sid]
    c = CATEGORIES[cat]
    return {"self": "%s/rest/api/3/status/%s" % (base, sid), "description": desc,
            "iconUrl": "%s/images/icons/statuses/generic.png" % base, "name": name, "id": sid,
            "statusCategory": {"self": "%s/rest/api/3/statuscategory/%d" % (base, c["id"]),
                               "id": c["id"], "key": c["key"], "colorName": c["colorName"],
                               "name": c["name"]}}


def priority_json(pid, base):
    if pid is None:
        return None
    return {"self": "%s/rest/api/3/priority/%s" % (base, pid),
            "iconUrl": "%s/images/icons/priorities/%s.svg" % (base, PRIORITIES[pid].lower()),
            "name": PRIORITIES[pid], "id": pid}


def resolution_json(rid, base):
    if rid is None:
        return None
    name, desc = RESOLUTIONS[rid]
    return {"self": "%s/rest/api/3/resolution/%s" % (base, rid), "id": rid, "description": desc,
            "name": name}


def find_by_ref(table, ref):
    """{"id": ..} or {"name": ..} -> id of PRIORITIES/RESOLUTIONS, or None."""
    if not isinstance(ref, dict):
        return None
    if ref.get("id") is not None and str(ref["id"]) in table:
        return str(ref["id"])
    if ref.get("name") is not None:
        for k, v in table.items():
            name = v[0] if isinstance(v, tuple) else v
            if name.lower() == str(ref["name"]).lower():
                return k
    return None


def available(status_id):
    """Transition ids available from a status, in id order."""
    return [t for t, (_, frm, _, _, _) in sorted(TRANSITIONS.items(), key=lambda kv: int(kv[0]))
            if status_id in frm]


def field_meta(field, required, base):
    """FieldMetadata of a transition screen field (expand=transitions.fields)."""
    if field == "resolution":
        return {"required": required, "schema": {"type": "resolution", "system": "resolution"},
                "name": FIELD_NAMES[field], "key": field, "operations": ["set"],
                "allowedValues": [resolution_json(r, base) for r in RESOLUTIONS], "hasDefaultValue": False}
    return {"required": required, "schema": {"type": "user", "system": field}, "name": FIELD_NAMES[field],
            "key": field, "operations": ["set"], "hasDefaultValue": False,
            "autoCompleteUrl": "%s/rest/api/3/user/assignable/search?query=" % base}


def transition_json(tid, base, with_fields):
    name, _, to, screen, _ = TRANSITIONS[tid]
    out = {"id": tid, "name": name, "to": status_json(to, base), "hasScreen": bool(screen),
           "isGlobal": False, "isInitial": False, "isAvailable": True, "isConditional": False,
           "isLooped": False}
    if with_fields:
        out["fields"] = {f: field_meta(f, req, base) for f, req in screen.items()}
    return out
