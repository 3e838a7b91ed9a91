"""The OData subset the Sentinel incidents list takes ($filter, $orderby),
translated to SQL over the emulator's incidents table.

$filter: comparisons `FIELD OP LITERAL` (eq ne gt ge lt le) joined by `and`,
`or`, `not` and parentheses. FIELD is one of FIELDS below; a time literal is
a bare ISO 8601 date-time (2026-12-05T11:22:33.1234567Z), datetime'...' or
'...'; a string literal is '...' ('' escapes a quote). Anything else is a
FilterError (the server answers 400).
"""

import re

from timefmt import parse_time


class FilterError(ValueError):
    pass


# OData path -> (column, kind)
FIELDS = {
    "properties/lastmodifiedtimeutc": ("modified", "time"),
    "properties/createdtimeutc": ("created", "time"),
    "properties/status": ("status", "str"),
    "properties/severity": ("severity", "str"),
    "properties/title": ("title", "str"),
    "properties/incidentnumber": ("num", "int"),
    "name": ("name", "str"),
}

# $orderby keys -> column (the incident number breaks ties, keyset paging)
ORDER_FIELDS = {
    "properties/lastmodifiedtimeutc": "modified",
    "properties/createdtimeutc": "created",
    "properties/incidentnumber": "num",
}

OPS = {"eq": "=", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<lp>\() | (?P<rp>\)) |
      (?P<str>'(?:[^']|'')*') |
      (?P<dt>datetime'[^']*') |
      (?P<word>[A-Za-z0-9_/.:+\-]+)
    )""", re.X)


def _tokens(text):
    pos = 0
    out = []
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FilterError("Invalid $filter near position %d: %r" % (pos, text[pos:pos + 20]))
        pos = m.end()
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Parser:
    def __init__(self, toks):
        self.t = toks
        self.i = 0
        self.params = []

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def expr(self):
        left = self.term()
        while self.peek()[0] == "word" and self.peek()[1].lower() == "or":
            self.take()
            left = "(%s OR %s)" % (left, self.term())
        return left

    def term(self):
        left = self.factor()
        while self.peek()[0] == "word" and self.peek()[1].lower() == "and":
            self.take()
            left = "(%s AND %s)" % (left, self.factor())
        return left

    def factor(self):
        kind, val = self.peek()
        if kind == "word" and val.lower() == "not":
            self.take()
            return "(NOT %s)" % self.factor()
        if kind == "lp":
            self.take()
            inner = self.expr()
            if self.take()[0] != "rp":
                raise FilterError("Invalid $filter: missing ')'")
            return inner
        return self.comparison()

    def comparison(self):
        kind, field = self.take()
        if kind != "word" or field.lower() not in FIELDS:
            raise FilterError("Invalid $filter: unsupported property %r" % (field,))
        col, ftype = FIELDS[field.lower()]
        kind, op = self.take()
        if kind != "word" or op.lower() not in OPS:
            raise FilterError("Invalid $filter: unsupported operator %r" % (op,))
        kind, lit = self.take()
        if kind is None:
            raise FilterError("Invalid $filter: missing value after %s %s" % (field, op))
        self.params.append(_literal(ftype, kind, lit))
        return "%s %s ?" % (col, OPS[op.lower()])


def _literal(ftype, kind, lit):
    if kind == "str":
        s = lit[1:-1].replace("''", "'")
    elif kind == "dt":
        s = lit[len("datetime'"):-1]
    elif kind == "word":
        s = lit
    else:
        raise FilterError("Invalid $filter: unexpected %r" % (lit,))
    if ftype == "time":
        t = parse_time(s)
        if t is None:
            raise FilterError("Invalid $filter: %r is not a date-time" % (s,))
        return t
    if ftype == "int":
        try:
            return int(s)
        except ValueError:
            raise FilterError("Invalid $filter: %r is not a number" % (s,))
    if kind == "word":
        raise FilterError("Invalid $filter: string values are quoted: '%s'" % (s,))
    return s


def parse_filter(text):
    """-> (sql, params); ('1', []) for no filter."""
    if text is None or not text.strip():
        return "1", []
    p = _Parser(_tokens(text))
    sql = p.expr()
    if p.i != len(p.t):
        raise FilterError("Invalid $filter: unexpected %r" % (p.t[p.i][1],))
    return sql, p.params


def parse_orderby(text):
    """-> (column, 'ASC'|'DESC'). Without $orderby the emulator lists by
    incident number ascending (Sentinel's default order is not documented)."""
    if text is None or not text.strip():
        return "num", "ASC"
    parts = text.split()
    if len(parts) > 2 or parts[0].lower() not in ORDER_FIELDS:
        raise FilterError("Invalid $orderby: %r (supported: %s)" % (
            text, ", ".join(sorted(ORDER_FIELDS))))
    direction = "ASC"
    if len(parts) == 2:
        if parts[1].lower() not in ("asc", "desc"):
            raise FilterError("Invalid $orderby direction %r" % parts[1])
        direction = parts[1].upper()
    return ORDER_FIELDS[parts[0].lower()], direction
