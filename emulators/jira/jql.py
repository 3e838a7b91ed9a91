"""A subset of JQL for the Jira emulator, compiled to SQL over the search
index (table search_index, alias s; labels in search_labels).

Fields: project, key/issuekey, id, updated/updatedDate, created/createdDate,
labels, status, and the site's text custom fields (cf[10042] or by name:
~ !~ IS [NOT] EMPTY, issues.CUSTOM_TEXT). Operators: = != > >= < <= IN, NOT IN, IS [NOT] EMPTY|NULL
(where the field takes them); AND, OR, NOT, parentheses; ORDER BY up to 7 of
updated, created, key, id, project with ASC/DESC. Anything else raises
JqlError with the message Jira gives, answered as 400."""

import re

from issues import CUSTOM_TEXT
from timefmt import parse_jql_date


class JqlError(Exception):
    pass


DATE_FIELDS = {"updated": "updated", "updateddate": "updated", "created": "created",
               "createddate": "created"}
KEY_FIELDS = {"key", "issuekey", "issue", "id"}
KNOWN = set(DATE_FIELDS) | KEY_FIELDS | {"project", "labels", "status", "summary", "description",
                                          "assignee", "reporter", "priority", "resolution", "text",
                                          "comment", "issuetype", "type", "resolutiondate"}
SORTABLE = {"updated": ["s.updated"], "updateddate": ["s.updated"], "created": ["s.created"],
            "createddate": ["s.created"], "key": ["s.proj", "s.num"], "issuekey": ["s.proj", "s.num"],
            "id": ["s.id"], "project": ["s.proj"]}
MAX_ORDER_FIELDS = 7
DATE_FORMATS_MSG = ("Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', "
                    "'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.")

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<str>"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?)
    | (?P<op>!=|>=|<=|!~|=|>|<|~|\(|\)|,)
    | (?P<word>[^\s"'=!<>~(),]+)
    )""", re.X)


def tokenize(text):
    pos, out = 0, []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise JqlError("Error in the JQL Query: The character '%s' is a reserved JQL character. You must "
                           "enclose it in a string or use the escape '\\u%04x' instead. (line 1, character %d)"
                           % (text[pos], ord(text[pos]), pos + 1))
        col = m.start(m.lastgroup) + 1
        if m.group("str") is not None:
            s = m.group("str")
            if not re.fullmatch(r'"(?:[^"\\]|\\.)*"' if s[0] == '"' else r"'(?:[^'\\]|\\.)*'", s):
                raise JqlError("Error in the JQL Query: The quoted string '%s' has not been completed. "
                               "(line 1, character %d)" % (s[1:], col))
            out.append(("str", re.sub(r"\\(.)", r"\1", s[1:-1]), col))
        elif m.group("op") is not None:
            out.append(("op", m.group("op"), col))
        else:
            out.append(("word", m.group("word"), col))
        pos = m.end()
    return out


class Query:
    """A compiled query: where (SQL over s), params, order [(column, 'ASC'|'DESC')]."""

    def __init__(self, where, params, order, bounded):
        self.where, self.params, self.order, self.bounded = where, params, order, bounded


class Parser:
    def __init__(self, text, ctx):
        """ctx: lookups the compiler needs: tz, now_ms, projects {KEY: id}, key_id(key) -> issue id or
        None, status_id(name_or_id) -> id or None."""
        self.text = text
        self.toks = tokenize(text)
        self.i = 0
        self.ctx = ctx
        self.params = []

    # -- token helpers
    def peek(self, k=0):
        return self.toks[self.i + k] if self.i + k < len(self.toks) else None

    def kw(self, *words):
        t = self.peek()
        return t is not None and t[0] == "word" and t[1].lower() in words

    def take(self):
        t = self.peek()
        self.i += 1
        return t

    def expect_op(self, op):
        t = self.take()
        if t is None or t[0] != "op" or t[1] != op:
            raise self.unexpected(t, "'%s'" % op)

    def unexpected(self, t, what):
        if t is None:
            return JqlError("Error in the JQL Query: Expecting %s but reached the end of the query. "
                            "(line 1, character %d)" % (what, len(self.text) + 1))
        return JqlError("Error in the JQL Query: Expecting %s but got '%s'. (line 1, character %d)"
                        % (what, t[1], t[2]))

    # -- grammar
    def parse(self):
        where = None
        if self.peek() is not None and not (self.kw("order") and self.peek(1) and
                                             self.peek(1)[0] == "word" and self.peek(1)[1].lower() == "by"):
            where = self.or_expr()
        order = []
        if self.kw("order"):
            self.take()
            if not self.kw("by"):
                raise self.unexpected(self.peek(), "'by'")
            self.take()
            order = self.order_list()
        if self.peek() is not None:
            raise self.unexpected(self.peek(), "either 'OR' or 'AND'" if where else "a field name")
        return Query(where or "1", self.params, order, where is not None)

    def or_expr(self):
        parts = [self.and_expr()]
        while self.kw("or"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def and_expr(self):
        parts = [self.not_expr()]
        while self.kw("and"):
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def not_expr(self):
        if self.kw("not"):
            self.take()
            return "(NOT %s)" % self.not_expr()
        t = self.peek()
        if t is not None and t[0] == "op" and t[1] == "(":
            self.take()
            e = self.or_expr()
            self.expect_op(")")
            return e
        return self.clause()

    def value(self):
        t = self.take()
        if t is None or t[0] == "op":
            raise self.unexpected(t, "either a value, list or function")
        nxt = self.peek()
        if t[0] == "word" and nxt is not None and nxt[0] == "op" and nxt[1] == "(":
            raise JqlError("Unable to find JQL function '%s()'." % t[1])
        return t[1], t[0] == "str"

    def values(self):
        self.expect_op("(")
        vals = [self.value()]
        while self.peek() is not None and self.peek()[0] == "op" and self.peek()[1] == ",":
            self.take()
            vals.append(self.value())
        self.expect_op(")")
        return vals

    def clause(self):
        t = self.take()
        if t is None or t[0] == "op":
            raise self.unexpected(t, "a field name")
        name = t[1]
        field = name.lower()
        custom = custom_field(name)
        if custom:
            field = custom
        elif field not in KNOWN:
            raise JqlError("Field '%s' does not exist or you do not have permission to view it." % name)
        # operator
        op_t = self.peek()
        if op_t is None:
            raise self.unexpected(op_t, "operator")
        if op_t[0] == "op" and op_t[1] in ("=", "!=", ">", ">=", "<", "<=", "~", "!~"):
            self.take()
            op = op_t[1]
        elif op_t[0] == "word" and op_t[1].lower() == "in":
            self.take()
            op = "in"
        elif op_t[0] == "word" and op_t[1].lower() == "not" and self.peek(1) and self.peek(1)[1].lower() == "in":
            self.take()
            self.take()
            op = "not in"
        elif op_t[0] == "word" and op_t[1].lower() == "is":
            self.take()
            op = "is"
            if self.kw("not"):
                self.take()
                op = "is not"
            v = self.take()
            if v is None or v[1].lower() not in ("empty", "null"):
                raise self.unexpected(v, "'EMPTY' or 'NULL'")
        else:
            raise self.unexpected(op_t, "operator")
        if op in ("in", "not in"):
            vals = self.values()
        elif op in ("is", "is not"):
            vals = []
        else:
            vals = [self.value()]
        return self.compile(name, field, op, vals)

    # -- clause compilers
    def unsupported_op(self, name, op):
        return JqlError("The operator '%s' is not supported by the '%s' field." % (op, name))

    def compile(self, name, field, op, vals):
        if field in CUSTOM_TEXT:
            return self.text_clause(name, field, op, vals)
        if field in DATE_FIELDS:
            return self.date_clause(name, DATE_FIELDS[field], op, vals)
        if field in KEY_FIELDS:
            return self.key_clause(name, field, op, vals)
        if field == "project":
            return self.lookup_clause(name, "s.proj", op, vals, self.project_of)
        if field == "status":
            return self.lookup_clause(name, "s.status", op, vals, self.status_of)
        if field == "labels":
            return self.labels_clause(name, op, vals)
        raise JqlError("Field '%s' is not searchable by this emulator (it exists in Jira)." % name)

    def date_clause(self, name, col, op, vals):
        if op not in ("=", "!=", ">", ">=", "<", "<="):
            raise self.unsupported_op(name, op.upper())
        text, quoted = vals[0]
        ms = parse_jql_date(text, self.ctx["tz"], self.ctx["now_ms"], quoted)
        if ms is None:
            raise JqlError("Date value '%s' for field '%s' is invalid. %s" % (text, name, DATE_FORMATS_MSG))
        self.params.append(ms)
        return "s.%s %s ?" % (col, "<>" if op == "!=" else op)

    def project_of(self, v):
        projects = self.ctx["projects"]
        up = v.upper()
        if up in projects:
            return up
        for k, (pid, pname) in projects.items():
            if v == pid or v.lower() == pname.lower():
                return k
        return None

    def status_of(self, v):
        return self.ctx["status_id"](v)

    def lookup_clause(self, name, col, op, vals, resolve):
        if op not in ("=", "!=", "in", "not in"):
            raise self.unsupported_op(name, op.upper())
        ids = []
        for text, _ in vals:
            r = resolve(text)
            if r is None:
                raise JqlError("The value '%s' does not exist for the field '%s'." % (text, name))
            ids.append(r)
        self.params.extend(ids)
        marks = ",".join("?" * len(ids))
        return "%s %s (%s)" % (col, "NOT IN" if op in ("!=", "not in") else "IN", marks)

    def key_clause(self, name, field, op, vals):
        if op in ("~", "!~", "is", "is not"):
            raise self.unsupported_op(name, op.upper())
        ids = []
        for text, _ in vals:
            if re.fullmatch(r"\d+", text):
                iid = self.ctx["id_exists"](int(text))
            else:
                iid = self.ctx["key_id"](text)
            if iid is None:
                if field == "id" or re.fullmatch(r"\d+", text):
                    raise JqlError("An issue with id '%s' does not exist for field '%s'." % (text, name))
                raise JqlError("An issue with key '%s' does not exist for field '%s'." % (text, name))
            ids.append(iid)
        if op in ("=", "!=", "in", "not in"):
            self.params.extend(ids)
            return "s.id %s (%s)" % ("NOT IN" if op in ("!=", "not in") else "IN", ",".join("?" * len(ids)))
        # key > X: the same project, a higher number (Jira compares keys within a project)
        proj, num = self.ctx["key_parts"](ids[0])
        self.params.extend([proj, num])
        return "(s.proj = ? AND s.num %s ?)" % op

    def labels_clause(self, name, op, vals):
        if op in ("is", "is not"):
            return "s.id %s (SELECT id FROM search_labels)" % ("NOT IN" if op == "is" else "IN")
        if op not in ("=", "!=", "in", "not in"):
            raise self.unsupported_op(name, op.upper())
        labels = [t for t, _ in vals]
        self.params.extend(labels)
        sub = "SELECT id FROM search_labels WHERE label IN (%s)" % ",".join("?" * len(labels))
        if op in ("!=", "not in"):
            # Jira: labels != x also leaves out issues with no labels at all
            return "(s.id NOT IN (%s) AND s.id IN (SELECT id FROM search_labels))" % sub
        return "s.id IN (%s)" % sub

    def text_clause(self, name, field, op, vals):
        """A text field: CONTAINS (~, the store's jira_text_match), its
        negation, emptiness. '=' is not for text fields, as in Jira."""
        col = "json_extract(s.custom, '$.%s')" % field
        if op == "is":
            return "%s IS NULL" % col
        if op == "is not":
            return "%s IS NOT NULL" % col
        if op not in ("~", "!~"):
            raise self.unsupported_op(name, op.upper())
        self.params.append(vals[0][0])
        if op == "~":
            return "jira_text_match(%s, ?)" % col
        return "(%s IS NOT NULL AND NOT jira_text_match(%s, ?))" % (col, col)

    def order_list(self):
        order = []
        n = 0
        while True:
            t = self.take()
            if t is None or t[0] == "op":
                raise self.unexpected(t, "a field name")
            f = t[1].lower()
            if f not in KNOWN:
                raise JqlError("Field '%s' does not exist or you do not have permission to view it." % t[1])
            if f not in SORTABLE:
                raise JqlError("Not able to sort using field '%s'." % t[1])
            direction = "ASC"
            if self.kw("asc", "desc"):
                direction = self.take()[1].upper()
            n += 1
            if n > MAX_ORDER_FIELDS:
                raise JqlError("The ORDER BY clause can contain a maximum of %d fields." % MAX_ORDER_FIELDS)
            for col in SORTABLE[f]:
                if col not in [c for c, _ in order]:
                    order.append((col, direction))
            if self.peek() is not None and self.peek()[0] == "op" and self.peek()[1] == ",":
                self.take()
                continue
            return order


def custom_field(name):
    """cf[10042], or a custom field's name (any case) -> "customfield_10042", or None."""
    m = re.fullmatch(r"cf\[(\d+)\]", name.strip(), re.I)
    if m:
        f = "customfield_" + m.group(1)
        if f not in CUSTOM_TEXT:
            raise JqlError("Field '%s' does not exist or you do not have permission to view it." % name)
        return f
    for f, n in CUSTOM_TEXT.items():
        if n.lower() == name.strip().lower():
            return f
    return None


def compile_jql(text, ctx):
    """-> Query. The order always ends with a unique column (id) so keyset
    paging is total; no ORDER BY: key descending."""
    q = Parser(text or "", ctx).parse()
    if not q.order:
        q.order = [("s.proj", "DESC"), ("s.num", "DESC")]
    cols = [c for c, _ in q.order]
    if "s.id" not in cols and not ("s.proj" in cols and "s.num" in cols):
        q.order.append(("s.id", q.order[-1][1]))
    return q


def keyset(order, values):
    """SQL (and params) for the rows after `values` in `order`."""
    ors, params = [], []
    for i, (col, d) in enumerate(order):
        ands = []
        for j in range(i):
            ands.append("%s = ?" % order[j][0])
            params.append(values[j])
        ands.append("%s %s ?" % (col, ">" if d == "ASC" else "<"))
        params.append(values[i])
        ors.append("(" + " AND ".join(ands) + ")")
    return "(" + " OR ".join(ors) + ")", params
