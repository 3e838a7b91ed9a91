/*
 * Plain text to and from Atlassian Document Format (ADF), the JSON
 * document Jira Cloud's REST API v3 takes and gives for comment bodies
 * and descriptions. Pure: no I/O, no global state.
 *
 * Text to ADF: "\r\n" and a lone "\r" are "\n"; leading and trailing
 * newlines are dropped; two or more consecutive "\n" separate paragraphs
 * ({"type":"paragraph","content":[...]}); a single "\n" inside a paragraph
 * is a {"type":"hardBreak"} between {"type":"text","text":...} nodes. No
 * empty text node is ever made (ADF forbids them). Empty or all-newline
 * text gives one paragraph with no content, which Jira accepts. Bytes that
 * are not valid UTF-8 become U+FFFD (JSON strings are UTF-8).
 *
 * ADF to text: text nodes give their text (marks ignored), hardBreak
 * "\n", mention attrs.text (else "@" and attrs.id), emoji attrs.text
 * (else attrs.shortName), inlineCard, blockCard and embedCard attrs.url,
 * date attrs.timestamp, status attrs.text, rule "---". Blocks (paragraph,
 * heading, blockquote, codeBlock, panel, rule, table, mediaSingle, expand
 * with its title, any unknown node with content, ...) are separated by
 * "\n\n" and empty ones are left out. A list's items are separated by
 * "\n" and start with "- " (bulletList) or "1. ", "2. ", ... (orderedList;
 * attrs.order sets the first number); the blocks inside one item by "\n",
 * its further lines indented under the marker. A table's rows are
 * separated by "\n", the cells of one row by " | ", the blocks inside one
 * cell by "\n". An unknown node gives its text when it has a string
 * "text", then its content; one with neither gives nothing. Members of
 * the wrong JSON type are ignored. Nodes deeper than CC_ADF_MAX_DEPTH
 * (the root is at depth 1) are not visited: what was gathered above them
 * is still returned. The result has no trailing newline.
 *
 * Round trip: for any valid UTF-8 text t with no "\r", not starting or
 * ending with "\n", and with no run of three or more "\n",
 * cc_adf_to_text(cc_adf_from_text(t)) is t.
 *
 * Ownership: arguments are borrowed; cc_adf_from_text returns a new
 * reference (the caller json_decref()s it) and cc_adf_to_text a new
 * string (the caller free()s it).
 */
#ifndef CC_CONNECTORS_JIRA_ADF_H
#define CC_CONNECTORS_JIRA_ADF_H

#include <jansson.h>

/* How deep cc_adf_to_text descends into nested nodes (the root is depth 1). */
#define CC_ADF_MAX_DEPTH 64

/*
 * Plain text to an ADF document: {"type":"doc","version":1,"content":[...]}.
 * NULL text is the empty text. New reference; NULL: out of memory.
 */
json_t *cc_adf_from_text(const char *text);

/*
 * An ADF document (or any ADF node) to plain text: a new string the caller
 * frees; NULL when out of memory or when doc is not a JSON object.
 */
char *cc_adf_to_text(const json_t *doc);

#endif
