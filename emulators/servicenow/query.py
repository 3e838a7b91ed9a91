"""ServiceNow encoded queries (sysparm_query) compiled to SQLite.

A test tool's parser, not ServiceNow's: it reads the subset a connector
sends and says what it did not understand.

Grammar read here (https://www.servicenow.com/docs/r/api-reference/rest-apis/c_TableAPI.html,
the sysparm_query row of "Table - GET /now/table/{tableName}"):

    query      := group ("^NQ" group)*            NQ: a new query, OR of groups
    group      := term ("^" term)*
    term       := condition | "OR" condition      ^OR joins the previous condition
                | "ORDERBY" field | "ORDERBYDESC" field | "EQ"
    condition  := field operator value
    operator   := = != > >= < <= STARTSWITH ENDSWITH LIKE NOTLIKE IN NOT IN
                  ISEMPTY ISNOTEMPTY BETWEEN(a@b) ANYTHING

Values of date-time fields are 'YYYY-MM-DD HH:MM:SS' or
javascript:gs.dateGenerate('YYYY-MM-DD','HH:MM:SS') (both forms appear in
the documentation and in the queries a list filter builds).

"By default, if part of a query is invalid, such as an invalid field name,
the instance ignores the invalid part. It then returns rows using only the
valid portion of the query. Set the property glide.invalid_query.returns_no_rows
to true to instead return no rows on an invalid query." (same page). The
caller picks that behaviour: compile() returns the invalid parts and the
server decides (ignore / no rows / 400).
"""

import re

OPERATORS = (
    "ISNOTEMPTY", "ISEMPTY", "STARTSWITH", "ENDSWITH", "NOTLIKE", "LIKE",
    "NOT IN", "IN", "BETWEEN", "ANYTHING", "!=", ">=", "<=", ">", "<", "=",
)
_COND = re.compile(r"^([a-z0-9_]+(?:\.[a-z0-9_]+)*)(" +
                   "|".join(re.escape(o) for o in OPERATORS) + r")(.*)$", re.S)
_DATEGEN = re.compile(r"^javascript:gs\.dateGenerate\('(\d{4}-\d{2}-\d{2})'\s*,\s*'(\d{2}:\d{2}:\d{2})'\)$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$")


class Invalid(Exception):
    pass


def _date_value(v):
    m = _DATEGEN.match(v)
    if m:
        return "%s %s" % (m.group(1), m.group(2))
    if _DATETIME.match(v):
        return v if len(v) > 10 else v + " 00:00:00"
    raise Invalid("not a date-time value: %r" % v)


def _value(field, ftype, v):
    if ftype == "datetime":
        return _date_value(v)
    if ftype == "int":
        try:
            return int(v)
        except ValueError:
            raise Invalid("not a number for %s: %r" % (field, v))
    return v


def _col(field, ftype):
    # Integer choice fields are stored as text (the API answers strings);
    # ordered comparisons compare them as numbers.
    if ftype == "int":
        return 'CAST("%s" AS INTEGER)' % field
    return '"%s"' % field


def _like_escape(s):
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _condition(text, fields):
    """One condition as (sql, params); raises Invalid."""
    m = _COND.match(text)
    if not m:
        raise Invalid("cannot read the condition %r" % text)
    field, op, raw = m.group(1), m.group(2), m.group(3)
    if field not in fields:
        raise Invalid("no field %r" % field)
    ftype = fields[field]
    plain = '"%s"' % field
    if op == "ISEMPTY":
        return "(%s IS NULL OR %s = '')" % (plain, plain), []
    if op == "ISNOTEMPTY":
        return "(%s IS NOT NULL AND %s != '')" % (plain, plain), []
    if op == "ANYTHING":
        return "1", []
    if op in ("IN", "NOT IN"):
        # Equality compares the stored text (choice values are text).
        vals = raw.split(",") if ftype != "datetime" else [_value(field, ftype, v) for v in raw.split(",")]
        sql = "%s %s (%s)" % (plain, op, ",".join("?" * len(vals)))
        return sql, vals
    if op == "BETWEEN":
        parts = raw.split("@")
        if len(parts) != 2:
            raise Invalid("BETWEEN takes a@b: %r" % raw)
        a, b = (_value(field, ftype, p) for p in parts)
        return "%s BETWEEN ? AND ?" % _col(field, ftype), [a, b]
    if op in ("STARTSWITH", "ENDSWITH", "LIKE", "NOTLIKE"):
        pat = _like_escape(raw)
        pat = {"STARTSWITH": pat + "%", "ENDSWITH": "%" + pat}.get(op, "%" + pat + "%")
        neg = "NOT " if op == "NOTLIKE" else ""
        return "%s %sLIKE ? ESCAPE '\\'" % (plain, neg), [pat]
    if op in ("=", "!=") and raw == "":
        if op == "=":
            return "(%s IS NULL OR %s = '')" % (plain, plain), []
        return "(%s IS NOT NULL AND %s != '')" % (plain, plain), []
    if op in ("=", "!="):
        value = raw if ftype != "datetime" else _value(field, ftype, raw)
        return "%s %s ?" % (plain, op), [value]
    value = _value(field, ftype, raw)
    return "%s %s ?" % (_col(field, ftype), op), [value]


def compile(query, fields):
    """Compiles sysparm_query against fields {name: "text"|"int"|"datetime"}.

    Returns (where_sql, params, order_sql, invalid): invalid lists the parts
    that were not understood (left out of where_sql).
    """
    invalid = []
    order = []
    groups = []
    for gtext in (query or "").split("^NQ"):
        clauses = []  # list of lists: OR-alternatives ANDed together
        for term in gtext.split("^"):
            if term == "" or term == "EQ":
                continue
            if term.startswith("ORDERBYDESC"):
                f = term[len("ORDERBYDESC"):]
                if f in fields:
                    order.append('"%s" DESC' % f if fields[f] != "int" else _col(f, fields[f]) + " DESC")
                else:
                    invalid.append(term)
                continue
            if term.startswith("ORDERBY"):
                f = term[len("ORDERBY"):]
                if f in fields:
                    order.append('"%s"' % f if fields[f] != "int" else _col(f, fields[f]))
                else:
                    invalid.append(term)
                continue
            is_or = False
            # Field names are lower case, so a term starting "OR" is ^OR.
            if term.startswith("OR"):
                is_or, term = True, term[2:]
            try:
                cond = _condition(term, fields)
            except Invalid as e:
                invalid.append("%s (%s)" % (term, e))
                continue
            if is_or and clauses:
                clauses[-1].append(cond)
            else:
                clauses.append([cond])
        if not clauses:
            continue  # an empty query adds nothing to the OR of ^NQ
        sqls, params = [], []
        for alts in clauses:
            sqls.append("(" + " OR ".join(a[0] for a in alts) + ")")
            for a in alts:
                params.extend(a[1])
        groups.append((" AND ".join(sqls), params))
    where = " OR ".join("(%s)" % g[0] for g in groups) if groups else "1"
    params = [p for g in groups for p in g[1]]
    return where, params, ", ".join(order), invalid
