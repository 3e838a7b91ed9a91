/*
 * The generic walker of the configuration file (see walk.h and schema.h).
 *
 * A section's mapping is read in three steps: every key must be one of
 * the section's rows (a misspelt one gets the nearest row as a
 * suggestion); then each row, in the order of the table, reads its value
 * by its type and lands it at its offset in the object the section fills,
 * or takes its default, parsed by the same reader, when the key is absent
 * (a missing required key is an error); then the row's check runs, for
 * what depends on other keys. Nested mappings (MAP) and lists of mappings
 * (LIST) are walked the same way with their own rows; the few values with
 * a grammar of their own (CUSTOM) are read by the row's parse function,
 * with the readers below.
 *
 * Every error is recorded once, as "FILE:LINE:COLUMN: message", at the
 * key or value at fault. Secrets are read from the environment or from a
 * regular file and never formatted into a message; the arena they are
 * copied into is wiped before it is released.
 */
#include "config/walk.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libfyaml.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * The arena: a list of blocks, wiped and freed together.
 */

struct cc_arena_block {
	struct cc_arena_block *next;
	size_t size;
	size_t used;
	_Alignas(max_align_t) unsigned char data[];
};

struct cc_arena {
	struct cc_arena_block *head;
};

#define ARENA_BLOCK 16384
#define ARENA_ALIGN (sizeof(max_align_t))

struct cc_arena *cc_arena_create(void)
{
	return calloc(1, sizeof(struct cc_arena));
}

void *cc_arena_alloc(struct cc_arena *a, size_t n)
{
	if (n > SIZE_MAX / 2)
		return NULL;
	n = (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
	if (n == 0)
		n = ARENA_ALIGN;
	struct cc_arena_block *b = a->head;
	if (!b || b->size - b->used < n) {
		size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		b = calloc(1, sizeof(*b) + size);
		if (!b)
			return NULL;
		b->size = size;
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += n;
	return p;
}

char *cc_arena_strndup(struct cc_arena *a, const char *s, size_t n)
{
	char *d = cc_arena_alloc(a, n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

void cc_arena_destroy(struct cc_arena *a)
{
	if (!a)
		return;
	struct cc_arena_block *b = a->head;
	while (b) {
		struct cc_arena_block *next = b->next;
		explicit_bzero(b->data, b->size); /* secrets live here too */
		free(b);
		b = next;
	}
	free(a);
}

/* ------------------------------------------------------------------------
 * Nodes and their positions.
 */

bool cc_present(struct cc_ent e)
{
	return e.k || e.v;
}

struct fy_node *cc_at(struct cc_ent e)
{
	return e.v ? e.v : e.k;
}

static bool is_null(struct fy_node *n)
{
	if (!n)
		return true;
	if (fy_node_get_type(n) != FYNT_SCALAR || fy_node_get_style(n) != FYNS_PLAIN)
		return false;
	size_t len;
	const char *s = fy_node_get_scalar(n, &len);
	return !s || len == 0 || (len == 1 && s[0] == '~') ||
	       (len == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) ||
	                     !memcmp(s, "NULL", 4)));
}

bool cc_node_is_scalar(struct fy_node *n)
{
	return n && fy_node_get_type(n) == FYNT_SCALAR && !is_null(n);
}

bool cc_node_is_map(struct fy_node *n)
{
	return n && fy_node_get_type(n) == FYNT_MAPPING;
}

bool cc_node_is_seq(struct fy_node *n)
{
	return n && fy_node_get_type(n) == FYNT_SEQUENCE;
}

size_t cc_node_count(struct fy_node *n)
{
	if (cc_node_is_seq(n))
		return (size_t)fy_node_sequence_item_count(n);
	if (cc_node_is_map(n))
		return (size_t)fy_node_mapping_item_count(n);
	return 0;
}

bool cc_map_next(struct fy_node *map, void **it, struct cc_ent *out)
{
	struct fy_node_pair *pr = fy_node_mapping_iterate(map, it);
	if (!pr)
		return false;
	out->k = fy_node_pair_key(pr);
	out->v = fy_node_pair_value(pr);
	return true;
}

struct fy_node *cc_seq_next(struct fy_node *seq, void **it)
{
	return fy_node_sequence_iterate(seq, it);
}

/* The 1-based position of a node: its token for a scalar, its first
 * entry for a collection. */
static bool node_mark(struct fy_node *n, int *line, int *col, int depth)
{
	if (!n || depth > 64)
		return false;
	switch (fy_node_get_type(n)) {
	case FYNT_SCALAR: {
		struct fy_token *t = fy_node_get_scalar_token(n);
		const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
		if (!m)
			return false;
		*line = m->line + 1;
		*col = m->column + 1;
		/* an alias's token starts after its '*' */
		if (fy_node_is_alias(n) && *col > 1)
			(*col)--;
		return true;
	}
	case FYNT_MAPPING: {
		void *it = NULL;
		struct fy_node_pair *pr = fy_node_mapping_iterate(n, &it);
		return pr && node_mark(fy_node_pair_key(pr), line, col, depth + 1);
	}
	case FYNT_SEQUENCE: {
		void *it = NULL;
		return node_mark(fy_node_sequence_iterate(n, &it), line, col, depth + 1);
	}
	}
	return false;
}

/* An empty collection takes the position of the key that holds it (or
 * of its parent). */
void cc_node_pos(struct fy_node *n, int *line, int *col)
{
	for (int depth = 0; n && depth < 64; depth++) {
		if (node_mark(n, line, col, 0))
			return;
		struct fy_node *parent = fy_node_get_parent(n);
		if (parent && fy_node_get_type(parent) == FYNT_MAPPING) {
			void *it = NULL;
			struct fy_node_pair *pr;
			while ((pr = fy_node_mapping_iterate(parent, &it)))
				if (fy_node_pair_value(pr) == n &&
				    node_mark(fy_node_pair_key(pr), line, col, 0))
					return;
		}
		n = parent;
	}
	*line = 1;
	*col = 1;
}

static const char *node_kind(struct fy_node *n)
{
	if (is_null(n))
		return "nothing";
	switch (fy_node_get_type(n)) {
	case FYNT_SCALAR:
		return "a scalar";
	case FYNT_MAPPING:
		return "a mapping";
	case FYNT_SEQUENCE:
		return "a list";
	}
	return "something else";
}

/* The text of a key, in buf (keys longer than buf are cut). */
static const char *key_text(struct fy_node *k, char *buf, size_t len)
{
	size_t n = 0;
	const char *s = k && fy_node_get_type(k) == FYNT_SCALAR ? fy_node_get_scalar(k, &n) : NULL;
	if (!s)
		n = 0;
	if (n >= len)
		n = len - 1;
	memcpy(buf, s ? s : "", n);
	buf[n] = '\0';
	return buf;
}

struct cc_ent cc_get(struct fy_node *map, const char *key)
{
	void *it = NULL;
	struct fy_node_pair *pr;
	size_t klen = strlen(key);
	if (!cc_node_is_map(map))
		return (struct cc_ent){ NULL, NULL };
	while ((pr = fy_node_mapping_iterate(map, &it))) {
		struct fy_node *k = fy_node_pair_key(pr);
		size_t len;
		const char *s = k && fy_node_get_type(k) == FYNT_SCALAR ? fy_node_get_scalar(k, &len) : NULL;
		if (s && len == klen && memcmp(s, key, len) == 0)
			return (struct cc_ent){ k, fy_node_pair_value(pr) };
	}
	return (struct cc_ent){ NULL, NULL };
}

/* ------------------------------------------------------------------------
 * Errors, and the nearest known name for a misspelt one.
 */

int cc_walk_fail(struct cc_walk *w, struct fy_node *n, const char *fmt, ...)
{
	if (w->failed)
		return CC_EINVAL;
	w->failed = true;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int line = 1, col = 1;
	cc_node_pos(n, &line, &col);
	snprintf(w->err, w->errlen, "%s:%d:%d: %s", w->path, line, col, msg);
	return CC_EINVAL;
}

int cc_walk_oom(struct cc_walk *w)
{
	if (!w->failed) {
		w->failed = true;
		snprintf(w->err, w->errlen, "%s: out of memory", w->path);
	}
	return CC_ENOMEM;
}

/* Edits (insert, delete, replace, swap two neighbours) from a to b,
 * ignoring case. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	size_t d[65][65];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
			size_t best = d[i - 1][j - 1] + (ca != cb);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

const char *cc_nearest(const char *name, const char *const *cands, size_t ncands)
{
	const char *best = NULL;
	size_t bestd = SIZE_MAX;
	for (size_t i = 0; i < ncands; i++) {
		if (!cands[i])
			continue;
		size_t d = edit_distance(name, cands[i]);
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	size_t limit = strlen(name) <= 4 ? 1 : strlen(name) <= 8 ? 2 : 3;
	return best && bestd <= limit ? best : NULL;
}

const char *cc_suggest(char *buf, size_t len, const char *name, const char *const *cands,
                       size_t ncands)
{
	const char *best = cc_nearest(name, cands, ncands);
	buf[0] = '\0';
	if (best)
		snprintf(buf, len, " (did you mean '%s'?)", best);
	return buf;
}

/* ------------------------------------------------------------------------
 * Readers of values.
 */

int cc_check_keys(struct cc_walk *w, struct fy_node *map, const char *where,
                  const char *const *known)
{
	void *it = NULL;
	struct fy_node_pair *pr;
	size_t nknown = 0;
	while (known[nknown])
		nknown++;
	while ((pr = fy_node_mapping_iterate(map, &it))) {
		struct fy_node *k = fy_node_pair_key(pr);
		if (!k || fy_node_get_type(k) != FYNT_SCALAR || is_null(k))
			return cc_walk_fail(w, k ? k : map, "a key in %s must be a plain name", where);
		char name[128], hint[96];
		key_text(k, name, sizeof(name));
		size_t i;
		for (i = 0; i < nknown; i++)
			if (strcmp(known[i], name) == 0)
				break;
		if (i == nknown)
			return cc_walk_fail(w, k, "unknown key '%s' in %s%s", name, where,
			                    cc_suggest(hint, sizeof(hint), name, known, nknown));
	}
	return 0;
}

int cc_want_map(struct cc_walk *w, struct cc_ent e, const char *what)
{
	if (!cc_node_is_map(e.v))
		return cc_walk_fail(w, cc_at(e), "%s must be a mapping, not %s", what, node_kind(e.v));
	return 0;
}

int cc_want_seq(struct cc_walk *w, struct cc_ent e, const char *what)
{
	if (!cc_node_is_seq(e.v))
		return cc_walk_fail(w, cc_at(e), "%s must be a list, not %s", what, node_kind(e.v));
	return 0;
}

static int missing(struct cc_walk *w, struct fy_node *map, const char *key, const char *where)
{
	return cc_walk_fail(w, map, "%s needs the key '%s'", where, key);
}

int cc_get_str(struct cc_walk *w, struct cc_ent e, const char *what, bool allow_empty,
               const char **out)
{
	if (!cc_node_is_scalar(e.v)) {
		bool quoted = e.v && fy_node_get_type(e.v) == FYNT_SCALAR &&
		              fy_node_get_style(e.v) != FYNS_PLAIN;
		if (!allow_empty || !quoted) /* a quoted "" is a value when allowed */
			return cc_walk_fail(w, cc_at(e), "%s must be a string, not %s", what,
			                    node_kind(e.v));
	}
	size_t len;
	const char *s = fy_node_get_scalar(e.v, &len);
	if (!s)
		s = "";
	if (len == 0 && !allow_empty)
		return cc_walk_fail(w, cc_at(e), "%s must not be empty", what);
	if (memchr(s, '\0', len))
		return cc_walk_fail(w, cc_at(e), "%s contains a NUL character", what);
	char *d = cc_arena_strndup(w->a, s, len);
	if (!d)
		return cc_walk_oom(w);
	*out = d;
	return 0;
}

/* The rule of names, on a string: a message in buf when it breaks it. */
static bool name_ok(const char *s, const char *what, char *buf, size_t len)
{
	size_t n = strlen(s);
	if (n > CC_CONFIG_NAME_MAX) {
		snprintf(buf, len, "%s '%.*s...' is %zu bytes long: at most %d are allowed", what, 24, s,
		         n, CC_CONFIG_NAME_MAX);
		return false;
	}
	for (const char *q = s; *q; q++) {
		if (!isalnum((unsigned char)*q) && *q != '_' && *q != '-' && *q != '.') {
			snprintf(buf, len, "%s '%s' may hold only letters, digits, '_', '-' and '.'",
			         what, s);
			return false;
		}
	}
	return n > 0;
}

int cc_get_name(struct cc_walk *w, struct cc_ent e, const char *what, const char **out)
{
	int rc = cc_get_str(w, e, what, false, out);
	if (rc)
		return rc;
	char msg[256];
	if (!name_ok(*out, what, msg, sizeof(msg)))
		return cc_walk_fail(w, cc_at(e), "%s", msg);
	return 0;
}

/* A scalar's text in buf (len bytes); false when it is no scalar or too long. */
static bool scalar_text(struct fy_node *n, char *buf, size_t len)
{
	size_t l;
	const char *s = cc_node_is_scalar(n) ? fy_node_get_scalar(n, &l) : NULL;
	if (!s || l == 0 || l >= len)
		return false;
	memcpy(buf, s, l);
	buf[l] = '\0';
	return true;
}

static bool parse_int(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || end == s || isspace((unsigned char)s[0]))
		return false;
	*out = v;
	return true;
}

int cc_get_int(struct cc_walk *w, struct cc_ent e, const char *what, int64_t lo, int64_t hi,
               int64_t *out)
{
	if (!cc_node_is_scalar(e.v))
		return cc_walk_fail(w, cc_at(e), "%s must be an integer, not %s", what, node_kind(e.v));
	char buf[64];
	if (!scalar_text(e.v, buf, sizeof(buf)))
		return cc_walk_fail(w, e.v, "%s must be an integer", what);
	int64_t v;
	if (!parse_int(buf, &v))
		return cc_walk_fail(w, e.v, "%s must be an integer, not '%s'", what, buf);
	if (v < lo || v > hi)
		return cc_walk_fail(w, e.v, "%s must lie between %" PRId64 " and %" PRId64 ", not %"
		                    PRId64, what, lo, hi, v);
	*out = v;
	return 0;
}

static bool parse_bool(const char *s, bool *out)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
		*out = s[0] == 't';
		return true;
	}
	return false;
}

static int get_bool(struct cc_walk *w, struct cc_ent e, const char *what, bool *out)
{
	char buf[8];
	if (!scalar_text(e.v, buf, sizeof(buf)) || !parse_bool(buf, out))
		return cc_walk_fail(w, cc_at(e), "%s must be true or false", what);
	return 0;
}

#define SECOND (1000LL)
#define MINUTE (60 * SECOND)
#define HOUR (60 * MINUTE)

/* A duration: one or more NUMBER UNIT with units ms, s, m, h ("1m30s"),
 * or a bare 0. 0, 1 when it is not a duration, 2 when it is too long. */
static int parse_duration(const char *s, int64_t *out_ms)
{
	if (strcmp(s, "0") == 0) {
		*out_ms = 0;
		return 0;
	}
	int64_t total = 0;
	const char *q = s;
	if (!*q)
		return 1;
	while (*q) {
		if (!isdigit((unsigned char)*q))
			return 1;
		int64_t n = 0;
		while (isdigit((unsigned char)*q)) {
			if (n > INT64_MAX / 10 - 10)
				return 2;
			n = n * 10 + (*q++ - '0');
		}
		int64_t unit;
		if (strncmp(q, "ms", 2) == 0) {
			unit = 1;
			q += 2;
		} else if (*q == 's') {
			unit = SECOND;
			q++;
		} else if (*q == 'm') {
			unit = MINUTE;
			q++;
		} else if (*q == 'h') {
			unit = HOUR;
			q++;
		} else {
			return 1;
		}
		if (n > (INT64_MAX / 4 - total) / unit)
			return 2;
		total += n * unit;
	}
	*out_ms = total;
	return 0;
}

const char *cc_fmt_ms(char *buf, size_t len, int64_t ms)
{
	static const struct { int64_t ms; const char *unit; } units[] = {
		{ HOUR, "h" }, { MINUTE, "m" }, { SECOND, "s" }, { 1, "ms" },
	};
	size_t used = 0;
	snprintf(buf, len, "0");
	for (size_t i = 0; i < 4 && ms > 0 && used < len; i++) {
		if (ms < units[i].ms)
			continue;
		int n = snprintf(buf + used, len - used, "%" PRId64 "%s", ms / units[i].ms,
		                 units[i].unit);
		if (n < 0)
			break;
		used += (size_t)n;
		ms %= units[i].ms;
	}
	return buf;
}

/*
 * A duration that must lie between lo and hi milliseconds. The ranges
 * keep out values that would do harm: a busy loop (a poll every
 * millisecond), or a wait of years that amounts to never.
 */
static int get_duration(struct cc_walk *w, struct cc_ent e, const char *what, int64_t lo,
                        int64_t hi, int64_t *out_ms)
{
	if (!cc_node_is_scalar(e.v))
		return cc_walk_fail(w, cc_at(e), "%s must be a duration such as 2s, not %s", what,
		                    node_kind(e.v));
	char buf[64];
	if (!scalar_text(e.v, buf, sizeof(buf)))
		return cc_walk_fail(w, e.v, "%s must be a duration such as 2s", what);
	int64_t v = 0;
	int rc = parse_duration(buf, &v);
	if (rc == 1)
		return cc_walk_fail(w, e.v, "%s '%s' is not a duration: write a number and a unit "
		                    "(ms, s, m, h), such as 2s or 1m30s", what, buf);
	if (rc == 2)
		return cc_walk_fail(w, e.v, "%s '%s' is too long", what, buf);
	if (v < lo || v > hi) {
		char a[32], b[32], c[32];
		return cc_walk_fail(w, e.v, "%s must lie between %s and %s, not %s", what,
		                    cc_fmt_ms(a, sizeof(a), lo), cc_fmt_ms(b, sizeof(b), hi),
		                    cc_fmt_ms(c, sizeof(c), v));
	}
	*out_ms = v;
	return 0;
}

static size_t count_words(const char *const *words)
{
	size_t n = 0;
	while (words && words[n])
		n++;
	return n;
}

/* "a, b or c" into buf (sep between words, last before the last one). */
static const char *join_words(char *buf, size_t len, const char *const *words, const char *sep,
                              const char *last)
{
	size_t n = count_words(words), used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		int k = snprintf(buf + used, len - used, "%s%s",
		                 i == 0 ? "" : i + 1 == n ? last : sep, words[i]);
		if (k < 0)
			break;
		used += (size_t)k;
	}
	return buf;
}

static int find_word(const char *const *words, const char *s)
{
	for (size_t i = 0; words && words[i]; i++)
		if (strcmp(words[i], s) == 0)
			return (int)i;
	return -1;
}

static int get_enum(struct cc_walk *w, struct cc_ent e, const char *what,
                    const char *const *words, int64_t *out)
{
	const char *s;
	if (cc_get_str(w, e, what, false, &s))
		return CC_EINVAL;
	int i = find_word(words, s);
	if (i < 0) {
		char list[256], hint[96];
		return cc_walk_fail(w, e.v, "unknown %s '%s': %s%s", what, s,
		                    join_words(list, sizeof(list), words, ", ", " or "),
		                    cc_suggest(hint, sizeof(hint), s, words, count_words(words)));
	}
	*out = i;
	return 0;
}

/* ------------------------------------------------------------------------
 * Values that may come from the environment or a file; secrets must.
 */

static void trim(const char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/* What a file that is not a regular file is, for messages. */
static const char *file_type(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/*
 * Reads at most max bytes of fd into buf (max + 1 bytes long, so that one
 * byte more tells a file that is too long). Returns the count, or -1 with
 * errno set. A read that would block ends with EAGAIN.
 */
ssize_t cc_read_bounded(int fd, char *buf, size_t max)
{
	size_t n = 0;
	while (n <= max) {
		ssize_t r = read(fd, buf + n, max + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

/*
 * Reads a {file: PATH} value: a path relative to the configuration
 * file's folder, its content trimmed. Only a regular file is read: a
 * FIFO, a device or a directory is refused before any read, so that
 * loading never waits. Never reports the content.
 */
static int read_value_file(struct cc_walk *w, struct fy_node *at_node, const char *file,
                           const char *what, const char **out)
{
	int rc = 0;
	char *full = NULL;
	char *buf = NULL;
	int fd = -1;
	const char *slash = strrchr(w->path, '/');
	if (file[0] != '/' && slash) {
		size_t dl = (size_t)(slash - w->path);
		full = malloc(dl + 1 + strlen(file) + 1);
		if (!full)
			return cc_walk_oom(w);
		memcpy(full, w->path, dl);
		full[dl] = '/';
		strcpy(full + dl + 1, file);
	}
	const char *open_path = full ? full : file;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	fd = open(open_path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = cc_walk_fail(w, at_node, "%s: cannot read file %s: %s", what, open_path,
		                  strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = cc_walk_fail(w, at_node, "%s: %s is %s: {file: PATH} reads a regular file only",
		                  what, open_path, file_type(st.st_mode));
		goto out;
	}
	if (st.st_size > CC_CONFIG_VALUE_FILE_MAX) {
		rc = cc_walk_fail(w, at_node, "%s: file %s is larger than %d bytes", what, open_path,
		                  CC_CONFIG_VALUE_FILE_MAX);
		goto out;
	}
	buf = malloc(CC_CONFIG_VALUE_FILE_MAX + 1);
	if (!buf) {
		rc = cc_walk_oom(w);
		goto out;
	}
	ssize_t got = cc_read_bounded(fd, buf, CC_CONFIG_VALUE_FILE_MAX);
	if (got < 0) {
		rc = cc_walk_fail(w, at_node, "%s: cannot read file %s: %s", what, open_path,
		                  strerror(errno));
		goto out;
	}
	size_t n = (size_t)got;
	if (n > CC_CONFIG_VALUE_FILE_MAX) {
		rc = cc_walk_fail(w, at_node, "%s: file %s is larger than %d bytes", what, open_path,
		                  CC_CONFIG_VALUE_FILE_MAX);
		goto out;
	}
	const char *s = buf;
	trim(&s, &n);
	if (n == 0) {
		rc = cc_walk_fail(w, at_node, "%s: file %s is empty", what, open_path);
		goto out;
	}
	if (memchr(s, '\0', n)) {
		rc = cc_walk_fail(w, at_node, "%s: file %s contains a NUL byte", what, open_path);
		goto out;
	}
	char *d = cc_arena_strndup(w->a, s, n);
	if (!d) {
		rc = cc_walk_oom(w);
		goto out;
	}
	*out = d;
out:
	if (buf) {
		explicit_bzero(buf, CC_CONFIG_VALUE_FILE_MAX + 1);
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	free(full);
	return rc;
}

int cc_get_sourced(struct cc_walk *w, struct cc_ent e, const char *what, bool secret,
                   struct cc_sourced *out)
{
	static const char *const keys[] = { "env", "file", NULL };
	memset(out, 0, sizeof(*out));
	if (cc_node_is_scalar(e.v)) {
		if (secret)
			return cc_walk_fail(w, e.v, "%s is a secret: write {env: NAME} or {file: PATH}, "
			                    "never the value itself", what);
		out->source = CC_SRC_INLINE;
		return cc_get_str(w, e, what, false, &out->value);
	}
	if (!cc_node_is_map(e.v))
		return cc_walk_fail(w, cc_at(e), secret ? "%s must be {env: NAME} or {file: PATH}, not %s"
		                    : "%s must be a string, {env: NAME} or {file: PATH}, not %s",
		                    what, node_kind(e.v));
	if (cc_check_keys(w, e.v, what, keys))
		return CC_EINVAL;
	if (fy_node_mapping_item_count(e.v) != 1)
		return cc_walk_fail(w, e.v, "%s takes exactly one of env or file", what);
	struct cc_ent env = cc_get(e.v, "env"), file = cc_get(e.v, "file");
	if (cc_present(env)) {
		const char *name;
		if (cc_get_str(w, env, "env", false, &name))
			return CC_EINVAL;
		/* A value pasted where the name belongs must not be echoed. */
		for (const char *q = name; *q; q++)
			if (!isalnum((unsigned char)*q) && *q != '_')
				return cc_walk_fail(w, env.v, "%s: env takes the name of an environment "
				                    "variable (letters, digits and '_')", what);
		out->source = CC_SRC_ENV;
		out->from = name;
		const char *v = getenv(name);
		if (!v)
			return cc_walk_fail(w, env.v, "%s: environment variable %s is not set", what, name);
		size_t len = strlen(v);
		trim(&v, &len);
		if (len == 0)
			return cc_walk_fail(w, env.v, "%s: environment variable %s is empty", what, name);
		out->value = cc_arena_strndup(w->a, v, len);
		return out->value ? 0 : cc_walk_oom(w);
	}
	const char *path;
	if (cc_get_str(w, file, "file", false, &path))
		return CC_EINVAL;
	out->source = CC_SRC_FILE;
	out->from = path;
	return read_value_file(w, file.v, path, what, &out->value);
}

/*
 * How a message names a url: with its value when it was written inline
 * and is safe to show, else by where it came from. A value that holds a
 * user:password@ part or a control character is never shown.
 */
static const char *url_label(char *buf, size_t len, const struct cc_sourced *u, bool show)
{
	if (u->source == CC_SRC_ENV)
		snprintf(buf, len, "url (from environment variable %s)", u->from);
	else if (u->source == CC_SRC_FILE)
		snprintf(buf, len, "url (from file %s)", u->from);
	else if (show)
		snprintf(buf, len, "url '%.200s'", u->value);
	else
		snprintf(buf, len, "url");
	return buf;
}

/*
 * A url: http:// or https://, a host (a name, an IPv4 address or an
 * [IPv6] address), an optional :PORT and an optional /PATH. No
 * user:password@ (the secret belongs in `token`), no query or fragment,
 * no blank or control character. The check is on the value as resolved
 * from {env:} or {file:}.
 */
static int check_url(struct cc_walk *w, struct cc_ent e, const struct cc_sourced *u)
{
	const char *v = u->value;
	char label[300];
	struct fy_node *n = cc_at(e);
	for (const unsigned char *q = (const unsigned char *)v; *q; q++)
		if (*q <= ' ' || *q == 0x7f)
			return cc_walk_fail(w, n, "%s holds a blank or a control character",
			                    url_label(label, sizeof(label), u, false));
	/* an '@' may be the end of a password: such a value is never shown */
	bool show = !strchr(v, '@');
	size_t skip;
	if (strncasecmp(v, "http://", 7) == 0)
		skip = 7;
	else if (strncasecmp(v, "https://", 8) == 0)
		skip = 8;
	else
		return cc_walk_fail(w, n, "%s must begin with http:// or https://",
		                    url_label(label, sizeof(label), u, show));
	const char *host = v + skip;
	const char *end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(end - host)))
		return cc_walk_fail(w, n, "%s holds a user name or password (user:password@); "
		                    "write the secret in token: {env: NAME} or {file: PATH} instead",
		                    url_label(label, sizeof(label), u, false));
	if (strpbrk(host, "?#"))
		return cc_walk_fail(w, n, "%s must not hold a query (?) or a fragment (#)",
		                    url_label(label, sizeof(label), u, show));
	const char *q = host;
	if (*q == '[') {
		/* [IPv6] */
		q++;
		while (q < end && (isxdigit((unsigned char)*q) || *q == ':' || *q == '.'))
			q++;
		if (q == host + 1 || q >= end || *q != ']')
			return cc_walk_fail(w, n, "%s has a bad [IPv6] host",
			                    url_label(label, sizeof(label), u, show));
		q++;
	} else {
		while (q < end && (isalnum((unsigned char)*q) || *q == '-' || *q == '.' || *q == '_' ||
		                   *q == '~' || *q == '%' || (unsigned char)*q >= 0x80))
			q++;
		if (q == host)
			return cc_walk_fail(w, n, "%s has no host", url_label(label, sizeof(label), u, show));
	}
	if (q < end && *q == ':') {
		const char *port = ++q;
		while (q < end && isdigit((unsigned char)*q))
			q++;
		long p = q - port > 0 && q - port <= 5 ? strtol(port, NULL, 10) : 0;
		if (q != end || p < 1 || p > 65535)
			return cc_walk_fail(w, n, "%s has a bad port: a number from 1 to 65535 is needed",
			                    url_label(label, sizeof(label), u, show));
	}
	if (q != end)
		return cc_walk_fail(w, n, "%s has a bad host: a name, an IPv4 address or an [IPv6] "
		                    "address is needed", url_label(label, sizeof(label), u, show));
	return 0;
}

/* ------------------------------------------------------------------------
 * The walk of a section.
 */

struct cc_slot *cc_frame_slot(struct cc_frame *fr, const char *key)
{
	for (size_t i = 0; i < fr->sec->nrows; i++)
		if (strcmp(fr->sec->rows[i].key, key) == 0)
			return &fr->slot[i];
	return NULL;
}

void *cc_frame_obj(struct cc_frame *fr, const struct cc_row *row)
{
	return fr->obj[(row->flags & CC_ROW_ALT) ? 1 : 0];
}

const char *cc_frame_label(const struct cc_frame *fr)
{
	for (; fr; fr = fr->up)
		if (fr->label)
			return fr->label;
	return NULL;
}

static void store_int(void *at, size_t size, int64_t v)
{
	switch (size) {
	case 1:
		*(int8_t *)at = (int8_t)v;
		break;
	case 2:
		*(int16_t *)at = (int16_t)v;
		break;
	case 4:
		*(int32_t *)at = (int32_t)v;
		break;
	default:
		*(int64_t *)at = v;
		break;
	}
}

/* Lands an integer value (INT, DURATION, ENUM, BOOL) at its place. */
static void land_num(const struct cc_row *row, void *obj, int64_t v)
{
	void *at = (char *)obj + row->offset;
	if (row->land)
		row->land(at, v);
	else if (row->type == CC_ROW_BOOL)
		*(bool *)at = v != 0;
	else
		store_int(at, row->size, v);
}

static void land_sourced(const struct cc_row *row, void *obj, const struct cc_sourced *s)
{
	void *at = (char *)obj + row->offset;
	if (row->size == sizeof(struct cc_sourced))
		memcpy(at, s, sizeof(*s));
	else
		*(const char **)at = s->value;
}

/* A list of mappings, each walked through row->sub. */
static int walk_list(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row,
                     struct cc_ent e)
{
	if (cc_want_seq(w, e, row->key))
		return CC_EINVAL;
	void *obj = cc_frame_obj(fr, row);
	size_t n = cc_node_count(e.v);
	char *items, *items2 = NULL;
	if (row->flags & CC_ROW_INLINE) {
		items = (char *)obj + row->offset;
		if (row->elem2)
			items2 = (char *)obj + row->offset2;
	} else {
		items = cc_arena_alloc(w->a, (n ? n : 1) * row->elem);
		if (!items)
			return cc_walk_oom(w);
		*(void **)((char *)obj + row->offset) = items;
	}
	size_t *count = (size_t *)(void *)((char *)obj + row->count);
	void *it = NULL;
	struct fy_node *item;
	size_t i = 0;
	while ((item = cc_seq_next(e.v, &it))) {
		if (row->max > 0 && i == (size_t)row->max)
			return cc_walk_fail(w, item, "%s: at most %" PRId64 " %s can be given", row->key,
			                    row->max, row->key);
		if (cc_walk_map(w, row->sub, items + i * row->elem,
		                items2 ? items2 + i * row->elem2 : NULL, (struct cc_ent){ NULL, item }, fr,
		                NULL, NULL, i))
			return CC_EINVAL;
		*count = ++i;
	}
	if (i < (size_t)row->min) {
		/* "field state: values: ...", "systems: ..." */
		const char *label = cc_frame_label(fr);
		char where[128];
		snprintf(where, sizeof(where), "%s%s%s", label ? label : "", label ? ": " : "", row->key);
		if (row->min == 1)
			return cc_walk_fail(w, cc_at(e), "%s: at least one %s is needed", where,
			                    row->sub->noun);
		return cc_walk_fail(w, cc_at(e), "%s: at least %" PRId64 " %s are needed, found %zu",
		                    where, row->min, row->key, i);
	}
	return 0;
}

/* Reads a row's value as written in the file. */
static int read_row(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row,
                    struct cc_slot *sl)
{
	const char *what = row->label ? row->label : row->key;
	void *obj = cc_frame_obj(fr, row);
	struct cc_sourced src;
	bool b = false;
	switch (row->type) {
	case CC_ROW_STRING:
	case CC_ROW_NAME:
		if (row->type == CC_ROW_NAME ? cc_get_name(w, sl->e, what, &sl->str)
		                             : cc_get_str(w, sl->e, what, row->flags & CC_ROW_EMPTY_OK,
		                                          &sl->str))
			return CC_EINVAL;
		*(const char **)(void *)((char *)obj + row->offset) = sl->str;
		return 0;
	case CC_ROW_BOOL:
		if (get_bool(w, sl->e, what, &b))
			return CC_EINVAL;
		sl->num = b;
		break;
	case CC_ROW_INT:
		if (cc_get_int(w, sl->e, what, row->min, row->max, &sl->num))
			return CC_EINVAL;
		break;
	case CC_ROW_DURATION:
		if (get_duration(w, sl->e, what, row->min, row->max, &sl->num))
			return CC_EINVAL;
		break;
	case CC_ROW_ENUM:
		if (get_enum(w, sl->e, what, row->words, &sl->num))
			return CC_EINVAL;
		break;
	case CC_ROW_URL:
	case CC_ROW_SOURCED:
	case CC_ROW_SECRET:
		if (cc_get_sourced(w, sl->e, what, row->type == CC_ROW_SECRET, &src) ||
		    (row->type == CC_ROW_URL && check_url(w, sl->e, &src)))
			return CC_EINVAL;
		sl->str = src.value;
		land_sourced(row, obj, &src);
		return 0;
	case CC_ROW_MAP:
		return cc_walk_map(w, row->sub, (char *)obj + row->offset, NULL, sl->e, fr, row->key,
		                   NULL, 0);
	case CC_ROW_LIST:
		return walk_list(w, fr, row, sl->e);
	case CC_ROW_CUSTOM:
		return row->parse(w, fr, row, sl->e);
	}
	land_num(row, obj, sl->num);
	return 0;
}

/* Parses a row's default text as its type would read it: false when it
 * does not parse or lies out of range (a mistake in the rows). */
static bool parse_default(const struct cc_row *row, int64_t *num)
{
	bool b = false;
	switch (row->type) {
	case CC_ROW_BOOL:
		if (!parse_bool(row->dflt, &b))
			return false;
		*num = b;
		return true;
	case CC_ROW_INT:
		return parse_int(row->dflt, num) && *num >= row->min && *num <= row->max;
	case CC_ROW_DURATION:
		return parse_duration(row->dflt, num) == 0 && *num >= row->min && *num <= row->max;
	case CC_ROW_ENUM:
		*num = find_word(row->words, row->dflt);
		return *num >= 0;
	case CC_ROW_STRING:
		return row->dflt[0] || (row->flags & CC_ROW_EMPTY_OK);
	case CC_ROW_NAME: {
		char msg[160];
		return name_ok(row->dflt, row->key, msg, sizeof(msg));
	}
	default:
		return false; /* sourced values, secrets, lists: no defaults */
	}
}

/* What a row takes when its key is absent. */
static int apply_default(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row,
                         struct cc_slot *sl)
{
	void *obj = cc_frame_obj(fr, row);
	if (row->type == CC_ROW_MAP)
		return cc_walk_map(w, row->sub, (char *)obj + row->offset, NULL,
		                   (struct cc_ent){ NULL, NULL }, fr, row->key, NULL, 0);
	if (row->type == CC_ROW_CUSTOM)
		return (row->flags & CC_ROW_ALWAYS) ? row->parse(w, fr, row, sl->e) : 0;
	if (!row->dflt)
		return 0;
	if (!parse_default(row, &sl->num))
		return cc_walk_fail(w, NULL, "internal error: the default '%s' of '%s' is not valid",
		                    row->dflt, row->key);
	if (row->flags & CC_ROW_ZERO_DEFAULT)
		return 0; /* whoever reads it takes 0 as dflt; the slot holds it for the checks */
	if (row->type == CC_ROW_STRING || row->type == CC_ROW_NAME) {
		sl->str = row->dflt;
		*(const char **)(void *)((char *)obj + row->offset) = row->dflt;
		return 0;
	}
	land_num(row, obj, sl->num);
	return 0;
}

int cc_walk_map(struct cc_walk *w, const struct cc_section *sec, void *obj0, void *obj1,
                struct cc_ent e, const struct cc_frame *up, const char *what,
                const char *label, size_t index)
{
	struct cc_frame fr = { .sec = sec, .obj = { obj0, obj1 }, .up = up,
		               .what = what ? what : sec->what, .label = label, .index = index };
	if (sec->nrows > CC_SECTION_ROWS_MAX)
		return cc_walk_fail(w, NULL, "internal error: %s has too many rows", sec->what);
	if (cc_present(e)) {
		if (cc_want_map(w, e, fr.what))
			return CC_EINVAL;
		fr.map = e.v;
		const char *known[CC_SECTION_ROWS_MAX + 1];
		for (size_t i = 0; i < sec->nrows; i++)
			known[i] = sec->rows[i].key;
		known[sec->nrows] = NULL;
		if (cc_check_keys(w, fr.map, fr.what, known))
			return CC_EINVAL;
	}
	for (size_t i = 0; i < sec->nrows; i++) {
		const struct cc_row *row = &sec->rows[i];
		struct cc_slot *sl = &fr.slot[i];
		if (fr.map)
			sl->e = cc_get(fr.map, row->key);
		sl->given = cc_present(sl->e);
		int rc;
		if (sl->given)
			rc = read_row(w, &fr, row, sl);
		else if (row->flags & CC_ROW_REQUIRED)
			rc = missing(w, fr.map, row->key, fr.what);
		else
			rc = apply_default(w, &fr, row, sl);
		if (rc == 0 && row->check)
			rc = row->check(w, &fr, row);
		if (rc) {
			if (!w->failed) /* every reader records its error: this is a slip */
				cc_walk_fail(w, fr.map, "invalid %s", row->key);
			return rc;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * The rows as documentation, and their own check.
 */

const char *cc_row_type_name(const struct cc_row *r)
{
	switch (r->type) {
	case CC_ROW_STRING:
		return "string";
	case CC_ROW_NAME:
		return "name";
	case CC_ROW_BOOL:
		return "bool";
	case CC_ROW_INT:
		return "integer";
	case CC_ROW_DURATION:
		return "duration";
	case CC_ROW_URL:
		return "url";
	case CC_ROW_SOURCED:
		return "string|env|file";
	case CC_ROW_SECRET:
		return "env|file";
	case CC_ROW_ENUM:
		return "one of";
	case CC_ROW_MAP:
		return "mapping";
	case CC_ROW_LIST:
		return "list";
	case CC_ROW_CUSTOM:
		return "custom";
	}
	return "?";
}

const char *cc_row_doc_default(const struct cc_row *r, char *buf, size_t len)
{
	if (r->doc_dflt)
		snprintf(buf, len, "%s", r->doc_dflt);
	else if (r->flags & CC_ROW_REQUIRED)
		snprintf(buf, len, "required");
	else if (r->type == CC_ROW_MAP)
		snprintf(buf, len, "see below");
	else if (r->dflt)
		snprintf(buf, len, "`%s`", r->dflt);
	else
		snprintf(buf, len, "none");
	return buf;
}

const char *cc_row_range(const struct cc_row *r, char *buf, size_t len)
{
	char a[32], b[32];
	buf[0] = '\0';
	if (r->type == CC_ROW_DURATION) {
		snprintf(buf, len, "%s to %s", cc_fmt_ms(a, sizeof(a), r->min),
		         cc_fmt_ms(b, sizeof(b), r->max));
	} else if (r->type == CC_ROW_INT) {
		/* the range of the member's own type says nothing */
		bool whole = (r->size == 4 && r->min == INT32_MIN && r->max == INT32_MAX) ||
		             (r->size == 8 && r->min == INT64_MIN && r->max == INT64_MAX);
		if (!whole)
			snprintf(buf, len, "%" PRId64 " to %" PRId64, r->min, r->max);
	} else if (r->type == CC_ROW_LIST && r->max > 0) {
		snprintf(buf, len, "%" PRId64 " to %" PRId64, r->min, r->max);
	}
	return buf;
}

/* A heading of the document without its markup: "## `systems`" -> "systems". */
static const char *plain(char *buf, size_t len, const char *doc)
{
	size_t n = 0;
	for (const char *q = doc; *q && n + 1 < len; q++)
		if (!strchr("#*`", *q) && !(n == 0 && *q == ' '))
			buf[n++] = *q;
	buf[n] = '\0';
	return buf;
}

void cc_config_keys_print(FILE *f)
{
	size_t n;
	const struct cc_section *const *secs = cc_config_sections(&n);
	for (size_t s = 0; s < n; s++) {
		const struct cc_section *sec = secs[s];
		char title[64];
		fprintf(f, "%s%s (%s):\n", s ? "\n" : "",
		        sec->doc ? plain(title, sizeof(title), sec->doc) : sec->what, sec->what);
		for (size_t i = 0; i < sec->nrows; i++) {
			const struct cc_row *r = &sec->rows[i];
			char d[96], range[64], type[160];
			if (r->type == CC_ROW_ENUM)
				join_words(type, sizeof(type), r->words, "|", "|");
			else
				snprintf(type, sizeof(type), "%s", cc_row_type_name(r));
			cc_row_range(r, range, sizeof(range));
			if (r->type == CC_ROW_MAP)
				snprintf(d, sizeof(d), "its keys below");
			else if (!(r->flags & CC_ROW_REQUIRED) && !r->dflt && !r->doc_dflt)
				snprintf(d, sizeof(d), "optional");
			else
				plain(d, sizeof(d), cc_row_doc_default(r, d, sizeof(d)));
			fprintf(f, "  %-18s %s%s%s; %s%s: %s\n", r->key, type, range[0] ? " " : "", range,
			        (r->flags & CC_ROW_REQUIRED) || r->doc_dflt || !r->dflt ? "" : "default ",
			        d, r->desc);
		}
	}
}

/* The size of the member a row of this type lands in; 0: any integer size. */
static bool row_size_ok(const struct cc_row *r)
{
	bool int_size = r->size == 1 || r->size == 2 || r->size == 4 || r->size == 8;
	switch (r->type) {
	case CC_ROW_STRING:
	case CC_ROW_NAME:
		return r->size == sizeof(const char *);
	case CC_ROW_BOOL:
		return r->size == sizeof(bool);
	case CC_ROW_INT:
	case CC_ROW_DURATION:
		return r->land ? r->size > 0 : int_size;
	case CC_ROW_ENUM:
		return int_size;
	case CC_ROW_URL:
	case CC_ROW_SECRET:
		return r->size == sizeof(struct cc_sourced);
	case CC_ROW_SOURCED:
		return r->size == sizeof(struct cc_sourced) || r->size == sizeof(const char *);
	case CC_ROW_MAP:
		return r->sub != NULL;
	case CC_ROW_LIST:
		return r->sub && r->elem > 0 && (!(r->flags & CC_ROW_INLINE) || r->max > 0);
	case CC_ROW_CUSTOM:
		return r->parse != NULL;
	}
	return false;
}

int cc_config_schema_check(char *err, size_t errlen)
{
	size_t n;
	const struct cc_section *const *secs = cc_config_sections(&n);
	for (size_t s = 0; s < n; s++) {
		const struct cc_section *sec = secs[s];
		if (sec->nrows > CC_SECTION_ROWS_MAX) {
			snprintf(err, errlen, "%s: %zu rows, the walker holds %d", sec->what, sec->nrows,
			         CC_SECTION_ROWS_MAX);
			return CC_EINVAL;
		}
		for (size_t i = 0; i < sec->nrows; i++) {
			const struct cc_row *r = &sec->rows[i];
			int64_t v;
			if (!row_size_ok(r)) {
				snprintf(err, errlen, "%s: row '%s' lands in a member of %zu bytes, which its "
				         "type %s cannot fill", sec->what, r->key, r->size,
				         cc_row_type_name(r));
				return CC_EINVAL;
			}
			if (r->dflt && r->type != CC_ROW_CUSTOM && !parse_default(r, &v)) {
				snprintf(err, errlen, "%s: the default '%s' of row '%s' does not parse as %s "
				         "or lies out of its range", sec->what, r->dflt, r->key,
				         cc_row_type_name(r));
				return CC_EINVAL;
			}
			if ((r->flags & CC_ROW_ZERO_DEFAULT) && !r->dflt) {
				snprintf(err, errlen, "%s: row '%s' is left zero for a default it does not "
				         "name", sec->what, r->key);
				return CC_EINVAL;
			}
			if (!r->desc || !r->desc[0] || strchr(r->desc, '\n')) {
				snprintf(err, errlen, "%s: row '%s' needs one line of description", sec->what,
				         r->key);
				return CC_EINVAL;
			}
			for (size_t j = 0; j < i; j++) {
				if (strcmp(sec->rows[j].key, r->key) == 0) {
					snprintf(err, errlen, "%s: row '%s' is there twice", sec->what, r->key);
					return CC_EINVAL;
				}
			}
		}
	}
	return 0;
}
