"""Atlassian Document Format (ADF) for the Jira emulator: checks that a value
is an ADF document of the shape REST API v3 takes (a `doc` node, version 1,
block nodes holding inline nodes), and turns one into plain text (for
changelog strings). Structure: developer.atlassian.com/cloud/jira/platform/apis/document/structure/"""

# Node types of the ADF schema, by where they may appear.
BLOCK = {"paragraph", "heading", "bulletList", "orderedList", "codeBlock", "blockquote", "rule",
         "panel", "table", "mediaSingle", "mediaGroup", "expand", "nestedExpand", "taskList",
         "decisionList", "blockCard", "embedCard", "multiBodiedExtension", "extension", "bodiedExtension"}
INLINE = {"text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status", "placeholder",
          "mediaInline", "inlineExtension"}
CHILD = {"listItem", "tableRow", "tableCell", "tableHeader", "media", "taskItem", "decisionItem",
         "caption"}
MARKS = {"strong", "em", "code", "strike", "underline", "link", "subsup", "textColor",
         "backgroundColor", "annotation", "border", "alignment", "indentation", "breakout",
         "dataConsumer", "fragment"}
LEAF = {"text", "hardBreak", "rule", "mention", "emoji", "inlineCard", "date", "status",
        "placeholder", "media", "mediaInline", "blockCard", "embedCard", "extension", "inlineExtension"}


def is_document(v):
    """True when v is an ADF document: {"type":"doc","version":1,"content":[block...]}."""
    if not isinstance(v, dict) or v.get("type") != "doc" or v.get("version") != 1:
        return False
    if not isinstance(v.get("content"), list):
        return False
    return all(_node(n, top=True, depth=1) for n in v["content"])


def _node(n, top, depth):
    if depth > 64 or not isinstance(n, dict) or not isinstance(n.get("type"), str):
        return False
    t = n["type"]
    if t not in BLOCK | INLINE | CHILD:
        return False
    if top and t not in BLOCK:
        return False
    if "attrs" in n and not isinstance(n["attrs"], dict):
        return False
    if t == "heading" and (n.get("attrs") or {}).get("level") not in (1, 2, 3, 4, 5, 6):
        return False
    if t == "text":
        if not isinstance(n.get("text"), str) or n["text"] == "":
            return False
        marks = n.get("marks", [])
        if not isinstance(marks, list) or not all(
                isinstance(m, dict) and m.get("type") in MARKS for m in marks):
            return False
        if "content" in n:
            return False
        return True
    if t in LEAF:
        return "content" not in n or n["content"] == []
    content = n.get("content", [])
    if not isinstance(content, list):
        return False
    return all(_node(c, top=False, depth=depth + 1) for c in content)


def to_text(doc):
    """Plain text of a document: paragraphs and blocks on their own lines,
    hardBreak as a newline, mentions/emoji by their text attribute."""
    if doc is None:
        return None
    out = []

    def walk(n):
        t = n.get("type")
        if t == "text":
            out.append(n.get("text", ""))
        elif t == "hardBreak":
            out.append("\n")
        elif t in ("mention", "emoji", "status"):
            out.append(str((n.get("attrs") or {}).get("text", "")))
        elif t == "inlineCard":
            out.append(str((n.get("attrs") or {}).get("url", "")))
        for c in n.get("content", []) or []:
            walk(c)
        if t in BLOCK or t in ("listItem",):
            out.append("\n")

    for b in doc.get("content", []):
        walk(b)
    return "".join(out).strip("\n")


def from_text(text):
    """A plain-text string as an ADF document: one paragraph per blank-line
    separated block, single newlines as hardBreak (used for seeded issues)."""
    content = []
    for para in str(text).split("\n\n"):
        inline = []
        for i, line in enumerate(para.split("\n")):
            if i:
                inline.append({"type": "hardBreak"})
            if line:
                inline.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": inline})
    return {"type": "doc", "version": 1, "content": content}
