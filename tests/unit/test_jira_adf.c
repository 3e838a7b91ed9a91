/*
 * Plain text to and from Atlassian Document Format
 * (src/connectors/jira/adf.c): paragraphs and hard breaks as ADF (the
 * exact JSON), CRLF and CR as LF, empty text as one empty paragraph, no
 * empty text node ever, invalid UTF-8 as U+FFFD, the round trip of tricky
 * strings; a real Jira comment body back to text (mention, emoji, lists,
 * code, table, ...), unknown nodes kept when they hold text, what is not
 * an object or has members of the wrong type, and nesting past the depth
 * bound.
 */
#include "connectors/jira/adf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* JSON written with ' for " (none of these texts holds a '). */
static json_t *load(const char *quoted)
{
	char *s = strdup(quoted);
	assert_non_null(s);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	json_error_t err;
	json_t *v = json_loads(s, 0, &err);
	if (!v)
		print_error("bad test JSON: %s: %s\n", err.text, s);
	assert_non_null(v);
	free(s);
	return v;
}

/* cc_adf_from_text(text) is exactly the document `want` (quoted as load()). */
static void check_adf(const char *text, const char *want)
{
	json_t *doc = cc_adf_from_text(text);
	json_t *expected = load(want);
	assert_non_null(doc);
	if (!json_equal(doc, expected)) {
		char *got = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
		print_error("text %s\ngot  %s\nwant %s\n", text ? text : "(null)", got, want);
		free(got);
		fail();
	}
	json_decref(expected);
	json_decref(doc);
}

/* cc_adf_to_text of the document `adf` (quoted as load()) is want. */
static void check_text(const char *adf, const char *want)
{
	json_t *doc = load(adf);
	char *got = cc_adf_to_text(doc);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	json_decref(doc);
}

#define DOC(...) "{'type':'doc','version':1,'content':[" __VA_ARGS__ "]}"
#define PARA(...) "{'type':'paragraph','content':[" __VA_ARGS__ "]}"
#define TEXT(s) "{'type':'text','text':'" s "'}"
#define BR "{'type':'hardBreak'}"

/* ---- text to ADF ---- */

static void test_paragraphs(void **state)
{
	(void)state;
	check_adf("hello", DOC(PARA(TEXT("hello"))));
	check_adf("line one\nline two", DOC(PARA(TEXT("line one") "," BR "," TEXT("line two"))));
	check_adf("a\nb\nc", DOC(PARA(TEXT("a") "," BR "," TEXT("b") "," BR "," TEXT("c"))));
	check_adf("first\n\nsecond", DOC(PARA(TEXT("first")) "," PARA(TEXT("second"))));
	/* three or more newlines are one paragraph break */
	check_adf("first\n\n\n\nsecond", DOC(PARA(TEXT("first")) "," PARA(TEXT("second"))));
	check_adf("a\nb\n\nc\n\nd\ne",
	          DOC(PARA(TEXT("a") "," BR "," TEXT("b")) "," PARA(TEXT("c")) ","
	              PARA(TEXT("d") "," BR "," TEXT("e"))));
	/* leading and trailing newlines dropped */
	check_adf("\n\nx\n", DOC(PARA(TEXT("x"))));
	check_adf("\nx\ny\n\n\n", DOC(PARA(TEXT("x") "," BR "," TEXT("y"))));
	/* a line of blanks is not a blank line */
	check_adf("a\n \nb", DOC(PARA(TEXT("a") "," BR "," TEXT(" ") "," BR "," TEXT("b"))));
}

static void test_crlf(void **state)
{
	(void)state;
	check_adf("a\r\nb", DOC(PARA(TEXT("a") "," BR "," TEXT("b"))));
	check_adf("a\rb", DOC(PARA(TEXT("a") "," BR "," TEXT("b"))));
	check_adf("a\r\n\r\nb", DOC(PARA(TEXT("a")) "," PARA(TEXT("b"))));
	check_adf("a\r\rb", DOC(PARA(TEXT("a")) "," PARA(TEXT("b"))));
	check_adf("a\n\rb", DOC(PARA(TEXT("a")) "," PARA(TEXT("b"))));
	check_adf("\r\nx\r\ny\r\n\r\nz\r",
	          DOC(PARA(TEXT("x") "," BR "," TEXT("y")) "," PARA(TEXT("z"))));
}

static void test_empty(void **state)
{
	(void)state;
	check_adf("", DOC(PARA()));
	check_adf(NULL, DOC(PARA()));
	check_adf("\n", DOC(PARA()));
	check_adf("\n\n\n", DOC(PARA()));
	check_adf("\r\n\r\r\n", DOC(PARA()));
}

/* No text node anywhere in node has an empty (or missing) text. */
static void assert_no_empty_text(const json_t *node)
{
	const char *type = json_string_value(json_object_get(node, "type"));
	assert_non_null(type);
	if (strcmp(type, "text") == 0) {
		const char *t = json_string_value(json_object_get(node, "text"));
		assert_non_null(t);
		assert_true(t[0] != '\0');
	}
	size_t i;
	json_t *child;
	json_array_foreach(json_object_get(node, "content"), i, child)
		assert_no_empty_text(child);
}

static void test_no_empty_text(void **state)
{
	(void)state;
	static const char *const texts[] = {
		"", "\n", "x\n", "\nx", "a\n\n\n\nb", "a\n\nb\n", "\r\n\r\n", "\r", " \n \n\n ",
		"a\r\n\r\n\r\nb\r\n",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		json_t *doc = cc_adf_from_text(texts[i]);
		assert_non_null(doc);
		assert_no_empty_text(doc);
		json_decref(doc);
	}
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	/* a stray byte, an overlong "/", a surrogate, a sequence cut short */
	check_adf("a\xff" "b", DOC(PARA(TEXT("a\xef\xbf\xbd" "b"))));
	check_adf("\xc0\xaf", DOC(PARA(TEXT("\xef\xbf\xbd\xef\xbf\xbd"))));
	check_adf("\xed\xa0\x80" "x",
	          DOC(PARA(TEXT("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "x"))));
	check_adf("ok\xe2\x82", DOC(PARA(TEXT("ok\xef\xbf\xbd\xef\xbf\xbd"))));
	/* valid sequences of every length are kept */
	check_adf("\xc3\xa9\xe2\x82\xac\xf0\x9f\x8e\x89",
	          DOC(PARA(TEXT("\xc3\xa9\xe2\x82\xac\xf0\x9f\x8e\x89"))));
}

static void test_round_trip(void **state)
{
	(void)state;
	static const char *const texts[] = {
		"",
		"x",
		"\t",
		" ",
		"hello world",
		"[concord origin=abc]",
		"[concord origin=abc]\nThe body after the marker",
		"[concord origin=abc]\n\nA paragraph after the marker",
		"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x8e\x89 \xe2\x82\xac",
		"\ttabbed\tcolumns\t",
		"  leading and trailing blanks  ",
		"a\nb",
		"a\n\nb",
		"a\nb\n\nc\nd\n\ne",
		"line\n \nline",
		" \n\n ",
		"{\"json\": [1, 2]} <b>html</b> & back\\slash 'quotes'",
		"- not\n- a\n- list",
		"1. not\n2. ordered",
		"---",
		"a | b",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		json_t *doc = cc_adf_from_text(texts[i]);
		assert_non_null(doc);
		char *dumped = json_dumps(doc, JSON_COMPACT);
		assert_non_null(dumped); /* valid JSON, so valid for Jira */
		char *back = cc_adf_to_text(doc);
		assert_non_null(back);
		if (strcmp(back, texts[i]) != 0)
			print_error("round trip of \"%s\" gave \"%s\" (%s)\n", texts[i], back,
			            dumped);
		assert_string_equal(back, texts[i]);
		free(back);
		free(dumped);
		json_decref(doc);
	}
}

/* ---- ADF to text ---- */

static void test_jira_comment(void **state)
{
	(void)state;
	check_text(
	    DOC(PARA(TEXT("Hi ") ","
	             "{'type':'mention','attrs':{'id':'5b10ac8d82e05b22cc7d4ef5',"
	             "'text':'@Jane Doe',"
	             "'accessLevel':''}},"
	             TEXT(", see ") ","
	             "{'type':'text','text':'this','marks':[{'type':'strong'}]},"
	             TEXT(" ") ","
	             "{'type':'emoji','attrs':{'shortName':':smile:','id':'1f604',"
	             "'text':'\xf0\x9f\x98\x84'}},"
	             "{'type':'emoji','attrs':{'shortName':':concord:','id':'atlassian-x'}},"
	             BR ","
	             "{'type':'text','text':'Thanks','marks':[{'type':'em'},"
	             "{'type':'link','attrs':{'href':'https://example.com'}}]}") ","
	        "{'type':'heading','attrs':{'level':2},'content':[" TEXT("Steps") "]},"
	        "{'type':'bulletList','content':["
	        "{'type':'listItem','content':[" PARA(TEXT("one")) "]},"
	        "{'type':'listItem','content':[" PARA(TEXT("two")) "]}]},"
	        "{'type':'orderedList','attrs':{'order':3},'content':["
	        "{'type':'listItem','content':[" PARA(TEXT("third")) "]},"
	        "{'type':'listItem','content':[" PARA(TEXT("fourth")) "]}]},"
	        "{'type':'codeBlock','attrs':{'language':'c'},'content':["
	        TEXT("int x = 0;\\nreturn x;") "]},"
	        "{'type':'rule'},"
	        "{'type':'table','attrs':{'isNumberColumnEnabled':false,'layout':'default'},"
	        "'content':["
	        "{'type':'tableRow','content':["
	        "{'type':'tableHeader','attrs':{},'content':[" PARA(TEXT("Key")) "]},"
	        "{'type':'tableHeader','attrs':{},'content':[" PARA(TEXT("Value")) "]}]},"
	        "{'type':'tableRow','content':["
	        "{'type':'tableCell','attrs':{},'content':[" PARA(TEXT("host")) "]},"
	        "{'type':'tableCell','attrs':{},'content':[" PARA(TEXT("db1")) "]}]},"
	        "{'type':'tableRow','content':["
	        "{'type':'tableCell','attrs':{},'content':[" PARA() "]},"
	        "{'type':'tableCell','attrs':{},'content':[" PARA(TEXT("only second")) "]}]}]},"
	        PARA("{'type':'status','attrs':{'text':'IN PROGRESS','color':'blue',"
	             "'localId':'l1'}},"
	             TEXT(" since ") ","
	             "{'type':'date','attrs':{'timestamp':'1582152559000'}},"
	             TEXT(" ") ","
	             "{'type':'inlineCard','attrs':{'url':'https://x.atlassian.net/browse/OPS-1'}},"
	             TEXT(" ") ","
	             "{'type':'mention','attrs':{'id':'557058:abc'}}") ","
	        "{'type':'blockquote','content':[" PARA(TEXT("quoted")) "]},"
	        "{'type':'panel','attrs':{'panelType':'info'},'content':[" PARA(TEXT("note")) "]},"
	        "{'type':'mediaSingle','attrs':{'layout':'center'},'content':["
	        "{'type':'media','attrs':{'id':'abc','type':'file','collection':'c'}}]},"
	        "{'type':'blockCard','attrs':{'url':'https://x.atlassian.net/browse/OPS-2'}},"
	        "{'type':'expand','attrs':{'title':'Details'},'content':["
	        PARA(TEXT("hidden")) "]},"
	        PARA(TEXT("[concord origin=abc]"))),
	    "Hi @Jane Doe, see this \xf0\x9f\x98\x84:concord:\nThanks\n\n"
	    "Steps\n\n"
	    "- one\n- two\n\n"
	    "3. third\n4. fourth\n\n"
	    "int x = 0;\nreturn x;\n\n"
	    "---\n\n"
	    "Key | Value\nhost | db1\n | only second\n\n"
	    "IN PROGRESS since 1582152559000 https://x.atlassian.net/browse/OPS-1 @557058:abc\n\n"
	    "quoted\n\n"
	    "note\n\n"
	    "https://x.atlassian.net/browse/OPS-2\n\n"
	    "Details\n\nhidden\n\n"
	    "[concord origin=abc]");
}

static void test_lists(void **state)
{
	(void)state;
	/* nested lists and a second paragraph sit under their item's marker */
	check_text(DOC("{'type':'bulletList','content':["
	               "{'type':'listItem','content':[" PARA(TEXT("a")) ","
	               "{'type':'orderedList','content':["
	               "{'type':'listItem','content':[" PARA(TEXT("a1")) "]},"
	               "{'type':'listItem','content':["
	               PARA(TEXT("a2") "," BR "," TEXT("more")) "]}"
	               "]}]},"
	               "{'type':'listItem','content':["
	               PARA(TEXT("b")) "," PARA(TEXT("b, again")) "]},"
	               "{'type':'listItem','content':[]}]}"),
	           "- a\n  1. a1\n  2. a2\n     more\n- b\n  b, again\n- ");
	/* ordered from 0; an order of the wrong type or out of range starts at 1 */
	check_text(DOC("{'type':'orderedList','attrs':{'order':0},'content':["
	               "{'type':'listItem','content':[" PARA(TEXT("z")) "]}]}"),
	           "0. z");
	check_text(DOC("{'type':'orderedList','attrs':{'order':'3'},'content':["
	               "{'type':'listItem','content':[" PARA(TEXT("z")) "]}]}"),
	           "1. z");
	check_text(DOC("{'type':'orderedList','attrs':{'order':-4},'content':["
	               "{'type':'listItem','content':[" PARA(TEXT("z")) "]}]}"),
	           "1. z");
	/* a list follows the paragraph before it after a blank line */
	check_text(DOC(PARA(TEXT("intro")) ","
	               "{'type':'bulletList','content':["
	               "{'type':'listItem','content':[" PARA(TEXT("x")) "]}]},"
	               PARA(TEXT("outro"))),
	           "intro\n\n- x\n\noutro");
}

static void test_unknown_nodes(void **state)
{
	(void)state;
	/* an unknown node with content is a block */
	check_text(DOC(PARA(TEXT("before")) ","
	               "{'type':'futureBlock','attrs':{'x':1},'content':["
	               PARA(TEXT("inside")) "]},"
	               PARA(TEXT("after"))),
	           "before\n\ninside\n\nafter");
	/* an unknown inline node with text gives its text */
	check_text(DOC(PARA(TEXT("a ") ",{'type':'futureInline','text':'kept'}," TEXT(" b"))),
	           "a kept b");
	/* an unknown leaf with neither text nor content gives nothing */
	check_text(DOC(PARA(TEXT("a") ",{'type':'futureLeaf','attrs':{'text':'no'}}," TEXT("b"))),
	           "ab");
	check_text(DOC(PARA(TEXT("a")) ",{'type':'futureLeaf'}," PARA(TEXT("b"))), "a\n\nb");
	/* text and content: the text, then the content */
	check_text(DOC("{'type':'futureBoth','text':'head','content':[" PARA(TEXT("body")) "]}"),
	           "head\n\nbody");
	/* a node without a type is unknown too */
	check_text(DOC(PARA("{'text':'untyped'}")), "untyped");
	/* the root need not be a document */
	check_text(PARA(TEXT("just a paragraph")), "just a paragraph");
	check_text(TEXT("just text"), "just text");
	check_text("{'type':'rule'}", "---");
	check_text("{}", "");
	/* empty blocks leave no blank lines, and nothing trails */
	check_text(DOC(PARA() "," PARA(TEXT("x")) "," PARA() "," PARA() "," PARA(TEXT("y") "," BR)
	                   "," PARA()),
	           "x\n\ny");
}

static void test_not_object(void **state)
{
	(void)state;
	assert_null(cc_adf_to_text(NULL));
	json_t *v = json_array();
	assert_null(cc_adf_to_text(v));
	json_decref(v);
	v = json_string("text");
	assert_null(cc_adf_to_text(v));
	json_decref(v);
	v = json_integer(1);
	assert_null(cc_adf_to_text(v));
	json_decref(v);
}

static void test_wrong_types(void **state)
{
	(void)state;
	check_text(DOC(PARA("{'type':'text','text':5}," TEXT("ok") ",{'type':'text','text':null},"
	                    "{'type':'text','text':['x']}")),
	           "ok");
	check_text("{'type':'doc','content':'not an array'}", "");
	check_text("{'type':'doc','content':{'type':'paragraph'}}", "");
	check_text(DOC("1,'two',null,[" PARA(TEXT("nested in an array")) "],true,"
	               PARA(TEXT("ok"))),
	           "ok");
	check_text(DOC("{'type':7,'content':[" PARA(TEXT("typed by a number")) "]}"),
	           "typed by a number");
	check_text(DOC(PARA("{'type':'mention','attrs':'x'},"
	                    "{'type':'mention','attrs':{'text':5,'id':'id1'}},"
	                    "{'type':'mention','attrs':{'text':'','id':['x']}},"
	                    "{'type':'emoji','attrs':{'text':1,'shortName':':a:'}},"
	                    "{'type':'emoji'},"
	                    "{'type':'inlineCard','attrs':{'url':false}},"
	                    "{'type':'status','attrs':null},"
	                    "{'type':'date','attrs':{'timestamp':1582152559000}},"
	                    "{'type':'date','attrs':{'timestamp':1.5}}")),
	           "@id1:a:1582152559000");
	check_text(DOC("{'type':'table','content':[{'type':'tableRow','content':'x'},"
	               "{'type':'tableRow','content':[5," PARA(TEXT("c")) "]}]}"),
	           "c");
	check_text(DOC("{'type':'bulletList','content':[null,{'type':'listItem','content':5}]}"),
	           "- ");
}

/* count wrappers of unknown type, the text node "deep" at the bottom. */
static json_t *nest(int count, const char *type)
{
	json_t *node = json_pack("{s:s, s:s}", "type", "text", "text", "deep");
	assert_non_null(node);
	for (int i = 0; i < count; i++) {
		json_t *outer = json_pack("{s:s, s:[s, {s:s, s:s}, o]}", "type", type, "content",
		                          "junk", "type", "text", "text", "x", node);
		assert_non_null(outer);
		node = outer;
	}
	return node;
}

static void test_deep_nesting(void **state)
{
	(void)state;
	json_t *doc = nest(200, "wrap");
	char *s = cc_adf_to_text(doc);
	assert_non_null(s);
	/* the text of the first 63 levels (wrappers at depths 1 to 64, their texts one deeper) */
	size_t x = 0;
	for (const char *p = s; *p; p++)
		x += *p == 'x';
	assert_int_equal(x, CC_ADF_MAX_DEPTH - 1);
	assert_null(strstr(s, "deep"));
	free(s);
	json_decref(doc);

	doc = nest(200, "blockquote");
	s = cc_adf_to_text(doc);
	assert_non_null(s);
	assert_true(strncmp(s, "x\n\nx", 4) == 0);
	free(s);
	json_decref(doc);

	/* a node at depth CC_ADF_MAX_DEPTH is read, one deeper is not */
	doc = nest(CC_ADF_MAX_DEPTH - 1, "wrap");
	s = cc_adf_to_text(doc);
	assert_non_null(s);
	assert_non_null(strstr(s, "deep"));
	free(s);
	json_decref(doc);
	doc = nest(CC_ADF_MAX_DEPTH, "wrap");
	s = cc_adf_to_text(doc);
	assert_non_null(s);
	assert_null(strstr(s, "deep"));
	free(s);
	json_decref(doc);

	/* lists nested deeper than the bound */
	json_t *list = json_pack("{s:s, s:[{s:s, s:s}]}", "type", "listItem", "content", "type",
	                         "text", "text", "leaf");
	for (int i = 0; i < 200; i++) {
		json_t *outer = json_pack("{s:s, s:[{s:s, s:[o]}]}", "type", "bulletList",
		                          "content", "type", "listItem", "content", list);
		assert_non_null(outer);
		list = outer;
	}
	s = cc_adf_to_text(list);
	assert_non_null(s);
	assert_true(strncmp(s, "- - - ", 6) == 0);
	free(s);
	json_decref(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paragraphs),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_no_empty_text),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_jira_comment),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_unknown_nodes),
		cmocka_unit_test(test_not_object),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_deep_nesting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
