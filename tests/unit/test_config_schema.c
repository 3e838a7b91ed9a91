/*
 * The configuration's rows (src/config/schema.c) against what is written
 * elsewhere about them:
 *
 *  - the rows themselves: defaults parse and lie in range, members fit;
 *  - docs/configuration.md: each section's key table has the rows' keys,
 *    in their order, with their defaults, the range of every ranged row
 *    and the words of every enumerated one; the settings table has the
 *    connector kinds' rows (src/connectors/registry.h);
 *  - core/config.c's cc_config_defaults(), which the simulator uses: the
 *    defaults the rows give a loaded file are the same;
 *  - the connector registry through the loader's options
 *    (src/config/registry_check.c): kinds and settings, with positions.
 *
 * A failure names the document's line and what the rows say instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config/config_file.h"
#include "config/registry_check.h"
#include "config/schema.h"
#include "connectors/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CC_SOURCE_ROOT
#define CC_SOURCE_ROOT "."
#endif

#define DOC CC_SOURCE_ROOT "/docs/configuration.md"

/* The document, as lines (static storage, read once). */
static char *lines[4096];
static size_t nlines;

static int read_doc(void **state)
{
	(void)state;
	FILE *f = fopen(DOC, "r");
	if (!f)
		return -1;
	static char buf[256 * 1024];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (char *p = buf; *p && nlines < 4096;) {
		lines[nlines++] = p;
		char *nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return 0;
}

/* The index of the line that is `heading` (or begins with it and a blank). */
static long find_heading(const char *heading)
{
	size_t len = strlen(heading);
	for (size_t i = 0; i < nlines; i++)
		if (strncmp(lines[i], heading, len) == 0 && (lines[i][len] == '\0' || lines[i][len] == ' '))
			return (long)i;
	return -1;
}

/* The first line of the table (its header) after line `from`. */
static long find_table(long from, const char *header)
{
	for (size_t i = (size_t)from + 1; i < nlines; i++) {
		if (strncmp(lines[i], header, strlen(header)) == 0)
			return (long)i;
		if (lines[i][0] == '#' && i > (size_t)from + 1)
			break; /* the next heading: no table in this section */
	}
	return -1;
}

/* Cell `col` (0-based) of a table line, trimmed, without backquotes around
 * a single word; the last column takes the rest of the line. */
static const char *cell(const char *line, int col, int ncols, char *buf, size_t len)
{
	const char *p = line;
	for (int c = 0; c <= col; c++) {
		p = strchr(p, '|');
		if (!p)
			return NULL;
		p++;
	}
	const char *end = col + 1 < ncols ? strchr(p, '|') : strrchr(p, '|');
	if (!end)
		return NULL;
	while (p < end && *p == ' ')
		p++;
	while (end > p && end[-1] == ' ')
		end--;
	size_t n = (size_t)(end - p);
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

static void unquote(char *s)
{
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '`' && s[n - 1] == '`' && !memchr(s + 1, '`', n - 2)) {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
}

static void test_rows_are_sound(void **state)
{
	(void)state;
	char err[512];
	if (cc_config_schema_check(err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

/* Compares one section's table with its rows; counts the mismatches. */
static int compare_section(const struct cc_section *sec)
{
	int bad = 0;
	long h = find_heading(sec->doc);
	if (h < 0) {
		print_error("%s: no line '%s' (the rows of %s)\n", DOC, sec->doc, sec->what);
		return 1;
	}
	long t = find_table(h, "| key | default | meaning |");
	if (t < 0) {
		print_error("%s:%ld: no key table after '%s'\n", DOC, h + 1, sec->doc);
		return 1;
	}
	size_t i = (size_t)t + 2, r = 0; /* the header, then | --- | */
	for (; i < nlines && lines[i][0] == '|'; i++, r++) {
		char key[128], dflt[256], meaning[2048], want[256], range[64];
		if (!cell(lines[i], 0, 3, key, sizeof(key)) || !cell(lines[i], 1, 3, dflt, sizeof(dflt)) ||
		    !cell(lines[i], 2, 3, meaning, sizeof(meaning))) {
			print_error("%s:%zu: not a row of three cells\n", DOC, i + 1);
			bad++;
			continue;
		}
		unquote(key);
		if (r >= sec->nrows) {
			print_error("%s:%zu: key '%s' has no row in %s (src/config/schema.c)\n", DOC, i + 1,
			            key, sec->what);
			bad++;
			continue;
		}
		const struct cc_row *row = &sec->rows[r];
		if (strcmp(key, row->key) != 0) {
			print_error("%s:%zu: key '%s' where the rows of %s have '%s' (same keys, same "
			            "order)\n", DOC, i + 1, key, sec->what, row->key);
			bad++;
			continue;
		}
		cc_row_doc_default(row, want, sizeof(want));
		if (strcmp(dflt, want) != 0) {
			print_error("%s:%zu: %s: the default is '%s', the row says '%s'\n", DOC, i + 1,
			            key, dflt, want);
			bad++;
		}
		cc_row_range(row, range, sizeof(range));
		if (range[0] && !strstr(meaning, range)) {
			print_error("%s:%zu: %s: the meaning does not say its range '%s'\n", DOC, i + 1,
			            key, range);
			bad++;
		}
		for (const char *const *w = row->type == CC_ROW_ENUM ? row->words : NULL; w && *w; w++) {
			char word[80];
			snprintf(word, sizeof(word), "`%s`", *w);
			if (!strstr(meaning, word)) {
				print_error("%s:%zu: %s: the meaning does not name %s\n", DOC, i + 1, key,
				            word);
				bad++;
			}
		}
	}
	for (; r < sec->nrows; r++) {
		print_error("%s:%zu: the table of '%s' lacks the row '%s'\n", DOC, i, sec->doc,
		            sec->rows[r].key);
		bad++;
	}
	return bad;
}

/* Every key table of the document is the rows of its section. */
static void test_doc_tables_are_the_rows(void **state)
{
	(void)state;
	size_t n, checked = 0;
	int bad = 0;
	const struct cc_section *const *secs = cc_config_sections(&n);
	for (size_t s = 0; s < n; s++) {
		if (!secs[s]->doc)
			continue;
		bad += compare_section(secs[s]);
		checked++;
	}
	print_message("%zu sections of docs/configuration.md compared with their rows\n", checked);
	if (bad)
		fail_msg("%d differences between docs/configuration.md and src/config/schema.c", bad);
}

/* The settings table is the connector kinds' rows. */
static void test_doc_settings_are_the_kinds(void **state)
{
	(void)state;
	long t = find_table(find_heading("### `settings`"), "| kind | setting | default | meaning |");
	assert_true(t >= 0);
	size_t i = (size_t)t + 2;
	int bad = 0;
	for (const struct cc_connector_kind *const *k = cc_connector_kind_table(); *k; k++) {
		for (const struct cc_setting_row *r = (*k)->settings; r && r->key; r++, i++) {
			char kind[64], key[64], dflt[128], want[128];
			if (i >= nlines || lines[i][0] != '|' || !cell(lines[i], 0, 4, kind, sizeof(kind)) ||
			    !cell(lines[i], 1, 4, key, sizeof(key)) ||
			    !cell(lines[i], 2, 4, dflt, sizeof(dflt))) {
				print_error("%s:%zu: the settings table lacks %s's '%s'\n", DOC, i + 1,
				            (*k)->kind, r->key);
				bad++;
				continue;
			}
			unquote(kind);
			unquote(key);
			if (r->required)
				snprintf(want, sizeof(want), "required");
			else if (r->dflt)
				snprintf(want, sizeof(want), "`%s`", r->dflt);
			else
				snprintf(want, sizeof(want), "none");
			if (strcmp(kind, (*k)->kind) || strcmp(key, r->key) || strcmp(dflt, want)) {
				print_error("%s:%zu: '%s | %s | %s' where the connector's row is "
				            "'%s | %s | %s'\n", DOC, i + 1, kind, key, dflt, (*k)->kind, r->key,
				            want);
				bad++;
			}
		}
	}
	if (i < nlines && lines[i][0] == '|') {
		print_error("%s:%zu: a setting no connector has\n", DOC, i + 1);
		bad++;
	}
	if (bad)
		fail_msg("%d differences between the settings table and the connector kinds", bad);
}

static char tmp_path[] = "/tmp/cc-config-schema-XXXXXX";

/* Writes text to a temporary file (the same one each time); returns its path. */
static const char *write_tmp(const char *text)
{
	char *path = tmp_path;
	static bool made;
	if (!made) {
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		made = true;
		FILE *f = fdopen(fd, "w");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
		return path;
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

#define MINIMAL                                                       \
	"fields: [{name: title}]\n"                                       \
	"systems:\n"                                                      \
	"  - {name: a, kind: rt, fields: {title: Subject}}\n"            \
	"  - {name: b, kind: redmine, settings: {project: ops},\n"       \
	"     fields: {title: subject}}\n"

/* A file that sets nothing gets the same engine defaults as
 * cc_config_defaults() gives the simulator. */
static void test_defaults_are_the_engines(void **state)
{
	(void)state;
	struct cc_file_config *c = NULL;
	char err[512];
	if (cc_config_file_load(&c, write_tmp(MINIMAL), NULL, err, sizeof(err)))
		fail_msg("%s", err);
	struct cc_config want;
	cc_config_defaults(&want);
	const struct cc_config *got = &c->engine;
#define SAME(m) assert_int_equal((int64_t)got->m, (int64_t)want.m)
	SAME(create_settle_ms);
	SAME(dedup_link_score);
	SAME(dedup_review_score);
	SAME(dedup_window_ms);
	SAME(dedup_close_ms);
	SAME(dedup_close_words);
	SAME(dedup_title_field);
	SAME(dedup_caller_field);
	SAME(backoff_base_ms);
	SAME(backoff_max_ms);
	SAME(dead_letter_after_ms);
	SAME(breaker_failures);
	SAME(breaker_open_ms);
	SAME(clock_uncertainty_ms);
#undef SAME
	/* and nothing else of the engine's settings differs: every member after
	 * the systems is one of the above */
	size_t from = offsetof(struct cc_config, create_settle_ms);
	assert_memory_equal((const char *)got + from, (const char *)&want + from,
	                    sizeof(want) - from);
	cc_config_file_free(c);
}

/* Expects the load of text with the registry's options to fail at
 * line:col with a message that contains want. */
static void expect_registry_error(const char *text, int line, int col, const char *want)
{
	const char *path = write_tmp(text);
	struct cc_file_config *c = (void *)1;
	char err[1024], prefix[256];
	assert_int_not_equal(cc_config_file_load(&c, path, cc_config_registry_options(), err,
	                                         sizeof(err)), 0);
	assert_null(c);
	snprintf(prefix, sizeof(prefix), "%s:%d:%d: ", path, line, col);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, want))
		fail_msg("got   '%s'\nwanted '%s...%s'", err, prefix, want);
}

/* The daemon's, check's and the admin commands' options: the registry. */
static void test_registry_options(void **state)
{
	(void)state;
	struct cc_file_config *c = NULL;
	char err[512];
	if (cc_config_file_load(&c, write_tmp(MINIMAL), cc_config_registry_options(), err,
	                        sizeof(err)))
		fail_msg("%s", err);
	cc_config_file_free(c);
	/* the kinds the error lists are the table's, in its order */
	char want[512];
	size_t used = (size_t)snprintf(want, sizeof(want), "connector kind 'rtt' is unknown (known: ");
	const char *const *kinds = cc_connector_kinds();
	for (size_t i = 0; kinds[i] && used < sizeof(want); i++)
		used += (size_t)snprintf(want + used, sizeof(want) - used, "%s%s", i ? ", " : "",
		                         kinds[i]);
	snprintf(want + used, sizeof(want) - used, "); did you mean 'rt'?");
	expect_registry_error("fields: [{name: title}]\n"
	                      "systems:\n"
	                      "  - {name: a, kind: rtt, fields: {title: Subject}}\n"
	                      "  - {name: b, kind: rt, fields: {title: subject}}\n",
	                      3, 21, want);
	expect_registry_error("fields: [{name: title}]\n"
	                      "systems:\n"
	                      "  - name: a\n"
	                      "    kind: rt\n"
	                      "    settings: {queue: General, correlation_feild: Ref}\n"
	                      "    fields: {title: Subject}\n"
	                      "  - {name: b, kind: rt, fields: {title: subject}}\n",
	                      5, 32, "setting 'correlation_feild' is not one of rt's (queue, "
	                      "correlation_field); did you mean 'correlation_field'?");
	expect_registry_error("fields: [{name: title}]\n"
	                      "systems:\n"
	                      "  - {name: a, kind: rt, fields: {title: Subject}}\n"
	                      "  - name: b\n"
	                      "    kind: redmine\n"
	                      "    fields: {title: subject}\n",
	                      4, 5, "redmine needs the setting 'project'");
}

/* A kind's `needs`: ServiceNow's Resolved and Closed cannot be written
 * without a close code and close notes (its data policy), so a mapping of
 * state 6 must name companions, with defaults, for both. */
#define SN_NEEDS(companions)                                                          \
	"fields:\n"                                                                    \
	"  - {name: state, type: enum}\n"                                              \
	"  - {name: resolution, type: enum}\n"                                         \
	"  - {name: notes, type: text}\n"                                              \
	"systems:\n"                                                                   \
	"  - name: sn\n"                                                               \
	"    kind: servicenow\n"                                                       \
	"    settings: {user: concord}\n"                                              \
	"    fields:\n"                                                                \
	"      resolution: close_code\n"                                               \
	"      notes: close_notes\n"                                                   \
	"      state:\n"                                                               \
	"        remote: state\n"                                                      \
	"        values:\n"                                                            \
	"          - {remote: '2', canonical: in_progress}\n"                          \
	"          - {remote: '6', canonical: resolved" companions "}\n"             \
	"  - {name: b, kind: rt, fields: {state: Status}}\n"

static void test_kind_needs_companions(void **state)
{
	(void)state;
	expect_registry_error(SN_NEEDS(""), 12, 7, "field state: writing state '6' needs "
	                      "'close_code' in the same write (the instance's data policy answers 403 "
	                      "without them); name the field that fills it in the value's companions");
	expect_registry_error(SN_NEEDS(", companions: {resolution: Solved}"), 12, 7,
	                      "writing state '6' needs 'close_notes'");
	expect_registry_error(SN_NEEDS(", companions: {resolution: Solved, notes: ~}"), 12, 7,
	                      "writing state '6' needs 'close_notes' in the same write (the "
	                      "instance's data policy answers 403 without them); give its companion "
	                      "a default");
	struct cc_file_config *c = NULL;
	char err[512];
	if (cc_config_file_load(&c, write_tmp(SN_NEEDS(", companions: {resolution: Solved, notes: "
	                                               "Done}")),
	                        cc_config_registry_options(), err, sizeof(err)))
		fail_msg("%s", err);
	cc_config_file_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_are_sound),
		cmocka_unit_test(test_doc_tables_are_the_rows),
		cmocka_unit_test(test_doc_settings_are_the_kinds),
		cmocka_unit_test(test_defaults_are_the_engines),
		cmocka_unit_test(test_registry_options),
		cmocka_unit_test(test_kind_needs_companions),
	};
	int rc = cmocka_run_group_tests(tests, read_doc, NULL);
	if (strchr(tmp_path, 'X') == NULL)
		unlink(tmp_path);
	return rc;
}
