/*
 * Plain text to and from Atlassian Document Format (see adf.h): text split
 * into paragraphs and hard breaks, and a walk of a document that gathers
 * its text, bounded in depth.
 */
#include "connectors/jira/adf.h"

#include "core/buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- text to ADF ---- */

/* The length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * text with "\r\n" and "\r" as "\n", invalid UTF-8 as U+FFFD, and no
 * leading or trailing "\n", into b (NUL kept). 0, or -1 when out of memory.
 */
static int normalise(struct cc_buf *b, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text);
	while (n && (s[0] == '\n' || s[0] == '\r')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	if (cc_buf_reserve(b, n + 1))
		return -1;
	for (size_t i = 0; i < n;) {
		if (s[i] == '\r') {
			cc_buf_append(b, "\n", 1);
			i += i + 1 < n && s[i + 1] == '\n' ? 2 : 1;
			continue;
		}
		size_t len = utf8_len(s + i, n - i);
		if (len)
			cc_buf_append(b, s + i, len);
		else
			cc_buf_append(b, "\xef\xbf\xbd", 3);
		i += len ? len : 1;
	}
	if (cc_buf_reserve(b, 1))
		return -1;
	b->data[b->len] = '\0';
	return 0;
}

/* A new {"type":type} object; NULL when out of memory. */
static json_t *adf_node(const char *type)
{
	json_t *o = json_object();
	if (o && json_object_set_new(o, "type", json_string(type))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Appends node to the array a (the reference is taken); -1 when out of memory. */
static int append(json_t *a, json_t *node)
{
	return node ? json_array_append_new(a, node) : -1;
}

/* Appends {"type":"text","text":s[0..n)} to a; n > 0. -1 when out of memory. */
static int append_text(json_t *a, const char *s, size_t n)
{
	json_t *t = adf_node("text");
	if (t && json_object_set_new(t, "text", json_stringn(s, n))) {
		json_decref(t);
		t = NULL;
	}
	return append(a, t);
}

/*
 * The paragraph of s[0..n), which holds no "\n\n": lines as text nodes,
 * hard breaks between them. NULL when out of memory.
 */
static json_t *paragraph(const char *s, size_t n)
{
	json_t *p = adf_node("paragraph");
	json_t *content = json_array();
	if (!p || !content || json_object_set(p, "content", content))
		goto fail;
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - s) : n;
		if (end > i && append_text(content, s + i, end - i))
			goto fail;
		if (nl && append(content, adf_node("hardBreak")))
			goto fail;
		i = end + 1;
	}
	json_decref(content);
	return p;
fail:
	json_decref(content);
	json_decref(p);
	return NULL;
}

json_t *cc_adf_from_text(const char *text)
{
	struct cc_buf b = { 0 };
	json_t *doc = adf_node("doc");
	json_t *content = json_array();
	if (!doc || !content || json_object_set_new(doc, "version", json_integer(1)) ||
	    json_object_set(doc, "content", content) || normalise(&b, text ? text : ""))
		goto fail;
	const char *s = (const char *)b.data;
	size_t n = b.len;
	if (n == 0 && append(content, paragraph("", 0)))
		goto fail;
	for (size_t i = 0; i < n;) {
		const char *sep = strstr(s + i, "\n\n");
		size_t end = sep ? (size_t)(sep - s) : n;
		if (append(content, paragraph(s + i, end - i)))
			goto fail;
		i = end;
		while (i < n && s[i] == '\n')
			i++;
	}
	cc_buf_free(&b);
	json_decref(content);
	return doc;
fail:
	cc_buf_free(&b);
	json_decref(content);
	json_decref(doc);
	return NULL;
}

/* ---- ADF to text ---- */

/* How a container joins its children. */
struct join {
	const char *sep;  /* between two blocks, or a block and inline text */
	bool every;       /* sep between any two object children, even empty ones */
	int list;         /* 0, or the list whose items the children are: '-' or '1' */
	long long number; /* the next ordered item's number */
};

static void walk(struct cc_buf *b, const json_t *node, int depth);

/* Appends s[0..n) and keeps a NUL after it (cc_buf_append keeps none). */
static void add_n(struct cc_buf *b, const char *s, size_t n)
{
	if (cc_buf_reserve(b, n + 1))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Forgets what was added after the first len bytes. */
static void cut(struct cc_buf *b, size_t len)
{
	if (b->data && len <= b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

/* Drops trailing "\n". */
static void trim_newlines(struct cc_buf *b)
{
	size_t len = b->len;
	while (len && b->data[len - 1] == '\n')
		len--;
	cut(b, len);
}

static const char *type_of(const json_t *node)
{
	return json_string_value(json_object_get(node, "type"));
}

static bool is_type(const json_t *node, const char *type)
{
	const char *t = type_of(node);
	return t && strcmp(t, type) == 0;
}

/* attrs.key of node as a non-empty string, else NULL. */
static const char *attr(const json_t *node, const char *key)
{
	const char *s = json_string_value(json_object_get(json_object_get(node, "attrs"), key));
	return s && *s ? s : NULL;
}

static bool one_of(const char *type, const char *const *types)
{
	for (; type && *types; types++)
		if (strcmp(type, *types) == 0)
			return true;
	return false;
}

/* The inline nodes of ADF; a known node that is not one of them is a block. */
static const char *const inline_types[] = {
	"text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status",
	"mediaInline", "placeholder", "inlineExtension", NULL,
};

static const char *const block_types[] = {
	"doc", "paragraph", "heading", "blockquote", "codeBlock", "panel", "rule",
	"bulletList", "orderedList", "listItem", "table", "tableRow", "tableCell",
	"tableHeader", "mediaSingle", "mediaGroup", "media", "expand", "nestedExpand",
	"blockCard", "embedCard", "taskList", "taskItem", "decisionList", "decisionItem",
	"layoutSection", "layoutColumn", "extension", "bodiedExtension", NULL,
};

/* A block: a known block node, or an unknown node with content. */
static bool is_block(const json_t *node)
{
	const char *type = type_of(node);
	if (one_of(type, inline_types))
		return false;
	return one_of(type, block_types) || json_is_array(json_object_get(node, "content"));
}

/* Appends s to b with every line after the first indented by `indent` spaces. */
static void add_indented(struct cc_buf *b, const char *s, size_t indent)
{
	static const char spaces[] = "                                ";
	if (indent > sizeof(spaces) - 1)
		indent = sizeof(spaces) - 1;
	for (const char *nl; (nl = strchr(s, '\n')); s = nl + 1) {
		add_n(b, s, (size_t)(nl - s) + 1);
		if (nl[1] != '\n' && nl[1] != '\0')
			add_n(b, spaces, indent);
	}
	cc_buf_add(b, s);
}

static void walk_children(struct cc_buf *b, const json_t *node, int depth, size_t start,
                          struct join *j);

/* A list item: its marker, then its blocks one a line, indented under the marker. */
static void walk_item(struct cc_buf *b, const json_t *item, int depth, struct join *j)
{
	if (depth > CC_ADF_MAX_DEPTH)
		return;
	size_t start = b->len;
	if (j->list == '1')
		cc_buf_addf(b, "%lld. ", j->number++);
	else
		cc_buf_add(b, "- ");
	struct cc_buf inner = { 0 };
	struct join tight = { .sep = "\n" };
	walk_children(&inner, item, depth, 0, &tight);
	trim_newlines(&inner);
	if (inner.oom)
		b->oom = true;
	else if (inner.data)
		add_indented(b, (const char *)inner.data, b->len - start);
	cc_buf_free(&inner);
}

/*
 * The children of node (node at depth, they one deeper) joined as j says;
 * what b holds after its first start bytes counts as written before them.
 */
static void walk_children(struct cc_buf *b, const json_t *node, int depth, size_t start,
                          struct join *j)
{
	const json_t *content = json_object_get(node, "content");
	if (!json_is_array(content))
		return;
	bool first = true, after_block = false;
	size_t i;
	json_t *child;
	json_array_foreach(content, i, child) {
		if (!json_is_object(child))
			continue;
		bool block = is_block(child);
		size_t before = b->len;
		if (j->every ? !first : b->len > start && (block || after_block))
			cc_buf_add(b, j->sep);
		size_t mark = b->len;
		if (j->list && is_type(child, "listItem"))
			walk_item(b, child, depth + 1, j);
		else
			walk(b, child, depth + 1);
		first = false;
		if (b->len > mark)
			after_block = block;
		else if (!j->every)
			cut(b, before);
	}
}

/* The first number of an ordered list: attrs.order when it is sane, else 1. */
static long long list_order(const json_t *node)
{
	const json_t *order = json_object_get(json_object_get(node, "attrs"), "order");
	json_int_t n = json_integer_value(order);
	return json_is_integer(order) && n >= 0 && n <= INT32_MAX ? (long long)n : 1;
}

static void walk(struct cc_buf *b, const json_t *node, int depth)
{
	if (depth > CC_ADF_MAX_DEPTH || !json_is_object(node))
		return;
	const char *type = type_of(node);
	const char *s;
	size_t start = b->len;
	struct join j = { .sep = "\n\n" };
	if (!type)
		type = "";
	if (strcmp(type, "text") == 0) {
		if ((s = json_string_value(json_object_get(node, "text"))))
			cc_buf_add(b, s);
	} else if (strcmp(type, "hardBreak") == 0) {
		cc_buf_add(b, "\n");
	} else if (strcmp(type, "mention") == 0) {
		if ((s = attr(node, "text")))
			cc_buf_add(b, s);
		else if ((s = attr(node, "id")))
			cc_buf_addf(b, "@%s", s);
	} else if (strcmp(type, "emoji") == 0) {
		if ((s = attr(node, "text")) || (s = attr(node, "shortName")))
			cc_buf_add(b, s);
	} else if (one_of(type, (const char *const[]){ "inlineCard", "blockCard", "embedCard",
	                                               NULL })) {
		if ((s = attr(node, "url")))
			cc_buf_add(b, s);
	} else if (strcmp(type, "date") == 0) {
		const json_t *ts = json_object_get(json_object_get(node, "attrs"), "timestamp");
		if ((s = attr(node, "timestamp")))
			cc_buf_add(b, s);
		else if (json_is_integer(ts))
			cc_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(ts));
	} else if (strcmp(type, "status") == 0) {
		if ((s = attr(node, "text")))
			cc_buf_add(b, s);
	} else if (strcmp(type, "rule") == 0) {
		cc_buf_add(b, "---");
	} else {
		if (strcmp(type, "bulletList") == 0) {
			j = (struct join){ .sep = "\n", .list = '-' };
		} else if (strcmp(type, "orderedList") == 0) {
			j = (struct join){ .sep = "\n", .list = '1', .number = list_order(node) };
		} else if (strcmp(type, "tableRow") == 0) {
			j = (struct join){ .sep = " | ", .every = true };
		} else if (one_of(type, (const char *const[]){ "table", "listItem", "tableCell",
		                                               "tableHeader", NULL })) {
			j.sep = "\n";
		} else if (one_of(type, (const char *const[]){ "expand", "nestedExpand", NULL })) {
			if ((s = attr(node, "title")))
				cc_buf_add(b, s);
		} else if (!one_of(type, block_types) && !one_of(type, inline_types)) {
			/* unknown: its text is kept */
			if ((s = json_string_value(json_object_get(node, "text"))))
				cc_buf_add(b, s);
		}
		walk_children(b, node, depth, start, &j);
	}
}

char *cc_adf_to_text(const json_t *doc)
{
	if (!json_is_object(doc))
		return NULL;
	struct cc_buf b = { 0 };
	walk(&b, doc, 1);
	trim_newlines(&b);
	return cc_buf_take(&b);
}
