/*
 * The YAML configuration file (see config_file.h and docs/configuration.md).
 *
 * The file may be hostile, so before libfyaml builds anything from it the
 * text must be UTF-8 and at most CC_CONFIG_FILE_MAX bytes; it is parsed
 * into one document with its aliases unexpanded, keys written twice are
 * found by sorting, and the aliases are expanded only when what they would
 * build stays within the limits of config_file.h (see "Aliases" below).
 *
 * The document is then walked once: every key is checked against the
 * keys known at its place, every value against its type, and every name
 * that refers to something (an owner, a routed field, a canonical field in
 * a system's mapping) is resolved. The first problem found stops the load
 * and is reported as "FILE:LINE:COLUMN: message", pointing at the key or
 * value at fault. What is kept is copied into an
 * arena owned by the result, so the document is released before returning.
 *
 * Secrets are read from the environment or from a file; the code below
 * never formats a secret's value into a message, and the arena is wiped
 * before it is released.
 */
#include "config/config_file.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
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

/* Returns n zeroed bytes from the arena, or NULL when out of memory. */
static void *arena_alloc(struct cc_arena *a, size_t n)
{
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

static char *arena_strndup(struct cc_arena *a, const char *s, size_t n)
{
	char *d = arena_alloc(a, n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static void arena_destroy(struct cc_arena *a)
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
 * The walk's state and its error reporting.
 */

struct parser {
	const char *path;          /* what messages call the file */
	const char *const *kinds;  /* the known connector kinds; NULL: any */
	char *err;
	size_t errlen;
	bool failed;
	struct cc_arena *a;
	struct cc_file_config *c;
	struct fy_node *root;
	/* Owners are named before the systems are known: resolved at the end. */
	struct fy_node *owner_node[CC_MAX_FIELDS];
	/* Where each system's rank came from (NULL: the default). */
	struct fy_node *rank_node[CC_MAX_SYSTEMS];
	struct fy_node *name_node[CC_MAX_SYSTEMS];
};

/* A key of a mapping and its value; both NULL when the key is absent.
 * A sequence item has a value and no key. */
struct ent {
	struct fy_node *k, *v;
};

static bool present(struct ent e)
{
	return e.k || e.v;
}

static struct fy_node *at(struct ent e)
{
	return e.v ? e.v : e.k;
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

/* Position of a node; an empty collection takes the position of the key
 * that holds it (or of its parent). */
static void node_pos(struct fy_node *n, int *line, int *col)
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

/* Records the first error, at node n, and returns CC_EINVAL. */
__attribute__((format(printf, 3, 4)))
static int fail(struct parser *p, struct fy_node *n, const char *fmt, ...)
{
	if (p->failed)
		return CC_EINVAL;
	p->failed = true;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int line, col;
	node_pos(n, &line, &col);
	snprintf(p->err, p->errlen, "%s:%d:%d: %s", p->path, line, col, msg);
	return CC_EINVAL;
}

static int oom(struct parser *p)
{
	if (!p->failed) {
		p->failed = true;
		snprintf(p->err, p->errlen, "%s: out of memory", p->path);
	}
	return CC_ENOMEM;
}

/* ------------------------------------------------------------------------
 * Names, and the nearest known name for a misspelt one.
 */

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

/* The candidate close enough to name to be what was meant, or NULL. */
static const char *nearest(const char *name, const char *const *cands, size_t ncands)
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

/* Fills buf with " (did you mean 'X'?)" when a candidate is close, else "". */
static const char *suggest(char *buf, size_t len, const char *name,
                           const char *const *cands, size_t ncands)
{
	const char *best = nearest(name, cands, ncands);
	buf[0] = '\0';
	if (best)
		snprintf(buf, len, " (did you mean '%s'?)", best);
	return buf;
}

static size_t count_names(const char *const *names)
{
	size_t n = 0;
	while (names[n])
		n++;
	return n;
}

/* ------------------------------------------------------------------------
 * Nodes and scalars.
 */

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

static struct ent get(struct fy_node *map, const char *key)
{
	void *it = NULL;
	struct fy_node_pair *pr;
	size_t klen = strlen(key);
	while ((pr = fy_node_mapping_iterate(map, &it))) {
		struct fy_node *k = fy_node_pair_key(pr);
		size_t len;
		const char *s = k && fy_node_get_type(k) == FYNT_SCALAR ? fy_node_get_scalar(k, &len) : NULL;
		if (s && len == klen && memcmp(s, key, len) == 0)
			return (struct ent){ k, fy_node_pair_value(pr) };
	}
	return (struct ent){ NULL, NULL };
}

/* Every key of map must be one of known[]: an unknown key is an error
 * that suggests the nearest known one. */
static int check_keys(struct parser *p, struct fy_node *map, const char *where,
                      const char *const *known)
{
	void *it = NULL;
	struct fy_node_pair *pr;
	while ((pr = fy_node_mapping_iterate(map, &it))) {
		struct fy_node *k = fy_node_pair_key(pr);
		if (!k || fy_node_get_type(k) != FYNT_SCALAR || is_null(k))
			return fail(p, k ? k : map, "a key in %s must be a plain name", where);
		char name[128], hint[96];
		key_text(k, name, sizeof(name));
		size_t i;
		for (i = 0; known[i]; i++)
			if (strcmp(known[i], name) == 0)
				break;
		if (!known[i])
			return fail(p, k, "unknown key '%s' in %s%s", name, where,
			            suggest(hint, sizeof(hint), name, known, count_names(known)));
	}
	return 0;
}

static int want_map(struct parser *p, struct ent e, const char *what)
{
	if (!e.v || fy_node_get_type(e.v) != FYNT_MAPPING)
		return fail(p, at(e), "%s must be a mapping, not %s", what, node_kind(e.v));
	return 0;
}

static int want_seq(struct parser *p, struct ent e, const char *what)
{
	if (!e.v || fy_node_get_type(e.v) != FYNT_SEQUENCE)
		return fail(p, at(e), "%s must be a list, not %s", what, node_kind(e.v));
	return 0;
}

static int missing(struct parser *p, struct fy_node *map, const char *key, const char *where)
{
	return fail(p, map, "%s needs the key '%s'", where, key);
}

/*
 * A plain string value, copied into the arena. `allow_empty` admits a
 * quoted "". Never used for secrets: the value may appear in messages of
 * the caller.
 */
static int get_str(struct parser *p, struct ent e, const char *what, bool allow_empty,
                   const char **out)
{
	if (is_null(e.v) || fy_node_get_type(e.v) != FYNT_SCALAR) {
		if (allow_empty && e.v && fy_node_get_type(e.v) == FYNT_SCALAR &&
		    fy_node_get_style(e.v) != FYNS_PLAIN) {
			/* a quoted "" */
		} else {
			return fail(p, at(e), "%s must be a string, not %s", what, node_kind(e.v));
		}
	}
	size_t len;
	const char *s = fy_node_get_scalar(e.v, &len);
	if (!s)
		s = "";
	if (len == 0 && !allow_empty)
		return fail(p, at(e), "%s must not be empty", what);
	if (memchr(s, '\0', len))
		return fail(p, at(e), "%s contains a NUL character", what);
	char *d = arena_strndup(p->a, s, len);
	if (!d)
		return oom(p);
	*out = d;
	return 0;
}

/* A name: letters, digits, '_', '-', '.'; at most CC_CONFIG_NAME_MAX bytes. */
static int get_name(struct parser *p, struct ent e, const char *what, const char **out)
{
	int rc = get_str(p, e, what, false, out);
	if (rc)
		return rc;
	size_t len = strlen(*out);
	if (len > CC_CONFIG_NAME_MAX)
		return fail(p, at(e), "%s '%.*s...' is %zu bytes long: at most %d are allowed",
		            what, 24, *out, len, CC_CONFIG_NAME_MAX);
	for (const char *s = *out; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return fail(p, at(e), "%s '%s' may hold only letters, digits, '_', '-' and '.'",
			            what, *out);
	return 0;
}

static int get_long(struct parser *p, struct ent e, const char *what, long lo, long hi,
                    long *out)
{
	if (is_null(e.v) || fy_node_get_type(e.v) != FYNT_SCALAR)
		return fail(p, at(e), "%s must be an integer, not %s", what, node_kind(e.v));
	char buf[64];
	size_t len;
	const char *s = fy_node_get_scalar(e.v, &len);
	if (!s || len == 0 || len >= sizeof(buf))
		return fail(p, e.v, "%s must be an integer", what);
	memcpy(buf, s, len);
	buf[len] = '\0';
	char *end;
	errno = 0;
	long v = strtol(buf, &end, 10);
	if (errno || *end || end == buf || isspace((unsigned char)buf[0]))
		return fail(p, e.v, "%s must be an integer, not '%s'", what, buf);
	if (v < lo || v > hi)
		return fail(p, e.v, "%s must lie between %ld and %ld, not %ld", what, lo, hi, v);
	*out = v;
	return 0;
}

static int get_bool(struct parser *p, struct ent e, const char *what, bool *out)
{
	if (!is_null(e.v) && fy_node_get_type(e.v) == FYNT_SCALAR) {
		size_t len;
		const char *s = fy_node_get_scalar(e.v, &len);
		if (s && len == 4 && memcmp(s, "true", 4) == 0) {
			*out = true;
			return 0;
		}
		if (s && len == 5 && memcmp(s, "false", 5) == 0) {
			*out = false;
			return 0;
		}
	}
	return fail(p, at(e), "%s must be true or false", what);
}

/* A duration: one or more NUMBER UNIT with units ms, s, m, h ("1m30s"),
 * or a bare 0. */
static int get_duration(struct parser *p, struct ent e, const char *what, int64_t *out_ms)
{
	if (is_null(e.v) || fy_node_get_type(e.v) != FYNT_SCALAR)
		return fail(p, at(e), "%s must be a duration such as 2s, not %s", what,
		            node_kind(e.v));
	char buf[64];
	size_t len;
	const char *s = fy_node_get_scalar(e.v, &len);
	if (!s || len == 0 || len >= sizeof(buf))
		return fail(p, e.v, "%s must be a duration such as 2s", what);
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strcmp(buf, "0") == 0) {
		*out_ms = 0;
		return 0;
	}
	int64_t total = 0;
	const char *q = buf;
	while (*q) {
		if (!isdigit((unsigned char)*q))
			goto bad;
		int64_t n = 0;
		while (isdigit((unsigned char)*q)) {
			if (n > INT64_MAX / 10 - 10)
				goto big;
			n = n * 10 + (*q++ - '0');
		}
		int64_t unit;
		if (strncmp(q, "ms", 2) == 0) {
			unit = 1;
			q += 2;
		} else if (*q == 's') {
			unit = 1000;
			q++;
		} else if (*q == 'm') {
			unit = 60 * 1000;
			q++;
		} else if (*q == 'h') {
			unit = 3600 * 1000;
			q++;
		} else {
			goto bad;
		}
		if (n > (INT64_MAX / 4 - total) / unit)
			goto big;
		total += n * unit;
	}
	*out_ms = total;
	return 0;
bad:
	return fail(p, e.v, "%s '%s' is not a duration: write a number and a unit (ms, s, m, h), "
	            "such as 2s or 1m30s", what, buf);
big:
	return fail(p, e.v, "%s '%s' is too long", what, buf);
}

#define SECOND (1000LL)
#define MINUTE (60 * SECOND)
#define HOUR (60 * MINUTE)

/* ms in the largest units that divide it: 90000 -> "1m30s", 0 -> "0". */
static const char *fmt_ms(char *buf, size_t len, int64_t ms)
{
	static const struct { int64_t ms; const char *unit; } units[] = {
		{ HOUR, "h" }, { MINUTE, "m" }, { SECOND, "s" }, { 1, "ms" },
	};
	size_t used = 0;
	snprintf(buf, len, "0");
	for (size_t i = 0; i < 4 && ms > 0 && used < len; i++) {
		if (ms < units[i].ms)
			continue;
		int n = snprintf(buf + used, len - used, "%lld%s", (long long)(ms / units[i].ms),
		                 units[i].unit);
		if (n < 0)
			break;
		used += (size_t)n;
		ms %= units[i].ms;
	}
	return buf;
}

/*
 * A duration that must lie between lo and hi milliseconds: the ranges are
 * in docs/configuration.md. They keep out values that would do harm: a
 * busy loop (a poll every millisecond), or a wait of years that amounts
 * to never.
 */
static int get_duration_in(struct parser *p, struct ent e, const char *what, int64_t lo,
                           int64_t hi, int64_t *out_ms)
{
	int64_t v = 0;
	if (get_duration(p, e, what, &v))
		return CC_EINVAL;
	if (v < lo || v > hi) {
		char a[32], b[32], c[32];
		return fail(p, e.v, "%s must lie between %s and %s, not %s", what,
		            fmt_ms(a, sizeof(a), lo), fmt_ms(b, sizeof(b), hi), fmt_ms(c, sizeof(c), v));
	}
	*out_ms = v;
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
static ssize_t read_bounded(int fd, char *buf, size_t max)
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
static int read_value_file(struct parser *p, struct fy_node *at_node, const char *file,
                           const char *what, const char **out)
{
	int rc = 0;
	char *full = NULL;
	char *buf = NULL;
	int fd = -1;
	const char *slash = strrchr(p->path, '/');
	if (file[0] != '/' && slash) {
		size_t dl = (size_t)(slash - p->path);
		full = malloc(dl + 1 + strlen(file) + 1);
		if (!full)
			return oom(p);
		memcpy(full, p->path, dl);
		full[dl] = '/';
		strcpy(full + dl + 1, file);
	}
	const char *open_path = full ? full : file;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	fd = open(open_path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = fail(p, at_node, "%s: cannot read file %s: %s", what, open_path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = fail(p, at_node, "%s: %s is %s: {file: PATH} reads a regular file only", what,
		          open_path, file_type(st.st_mode));
		goto out;
	}
	if (st.st_size > CC_CONFIG_VALUE_FILE_MAX) {
		rc = fail(p, at_node, "%s: file %s is larger than %d bytes", what, open_path,
		          CC_CONFIG_VALUE_FILE_MAX);
		goto out;
	}
	buf = malloc(CC_CONFIG_VALUE_FILE_MAX + 1);
	if (!buf) {
		rc = oom(p);
		goto out;
	}
	ssize_t got = read_bounded(fd, buf, CC_CONFIG_VALUE_FILE_MAX);
	if (got < 0) {
		rc = fail(p, at_node, "%s: cannot read file %s: %s", what, open_path, strerror(errno));
		goto out;
	}
	size_t n = (size_t)got;
	if (n > CC_CONFIG_VALUE_FILE_MAX) {
		rc = fail(p, at_node, "%s: file %s is larger than %d bytes", what, open_path,
		          CC_CONFIG_VALUE_FILE_MAX);
		goto out;
	}
	const char *s = buf;
	trim(&s, &n);
	if (n == 0) {
		rc = fail(p, at_node, "%s: file %s is empty", what, open_path);
		goto out;
	}
	if (memchr(s, '\0', n)) {
		rc = fail(p, at_node, "%s: file %s contains a NUL byte", what, open_path);
		goto out;
	}
	char *d = arena_strndup(p->a, s, n);
	if (!d) {
		rc = oom(p);
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

/*
 * A string that may be written inline (unless `secret`), or read from the
 * environment ({env: NAME}) or a file ({file: PATH}).
 */
static int get_sourced(struct parser *p, struct ent e, const char *what, bool secret,
                       struct cc_sourced *out)
{
	static const char *const keys[] = { "env", "file", NULL };
	memset(out, 0, sizeof(*out));
	if (e.v && fy_node_get_type(e.v) == FYNT_SCALAR && !is_null(e.v)) {
		if (secret)
			return fail(p, e.v, "%s is a secret: write {env: NAME} or {file: PATH}, "
			            "never the value itself", what);
		out->source = CC_SRC_INLINE;
		return get_str(p, e, what, false, &out->value);
	}
	if (!e.v || fy_node_get_type(e.v) != FYNT_MAPPING)
		return fail(p, at(e), secret ? "%s must be {env: NAME} or {file: PATH}, not %s"
		                             : "%s must be a string, {env: NAME} or {file: PATH}, not %s",
		            what, node_kind(e.v));
	if (check_keys(p, e.v, what, keys))
		return CC_EINVAL;
	if (fy_node_mapping_item_count(e.v) != 1)
		return fail(p, e.v, "%s takes exactly one of env or file", what);
	struct ent env = get(e.v, "env"), file = get(e.v, "file");
	if (present(env)) {
		const char *name;
		if (get_str(p, env, "env", false, &name))
			return CC_EINVAL;
		/* A value pasted where the name belongs must not be echoed. */
		for (const char *q = name; *q; q++)
			if (!isalnum((unsigned char)*q) && *q != '_')
				return fail(p, env.v, "%s: env takes the name of an environment variable "
				            "(letters, digits and '_')", what);
		out->source = CC_SRC_ENV;
		out->from = name;
		const char *v = getenv(name);
		if (!v)
			return fail(p, env.v, "%s: environment variable %s is not set", what, name);
		size_t len = strlen(v);
		trim(&v, &len);
		if (len == 0)
			return fail(p, env.v, "%s: environment variable %s is empty", what, name);
		out->value = arena_strndup(p->a, v, len);
		return out->value ? 0 : oom(p);
	}
	const char *path;
	if (get_str(p, file, "file", false, &path))
		return CC_EINVAL;
	out->source = CC_SRC_FILE;
	out->from = path;
	return read_value_file(p, file.v, path, what, &out->value);
}

/* ------------------------------------------------------------------------
 * fields:
 */

static const char *const type_names[] = {
	[CC_FT_STRING] = "string", [CC_FT_TEXT] = "text", [CC_FT_ENUM] = "enum",
	[CC_FT_USER] = "user",     [CC_FT_PRIORITY] = "priority", [CC_FT_TIMESTAMP] = "timestamp",
	NULL,
};

static int parse_policy(struct parser *p, struct ent e, struct cc_field_def *fd, size_t f)
{
	static const char *const policies[] = { "lww", "manual", "owner", NULL };
	static const char *const keys[] = { "owner", "mode", NULL };
	fd->policy = CC_POLICY_LWW;
	fd->owner = -1;
	fd->owner_mode = CC_OWNER_REVERT;
	if (!present(e))
		return 0;
	if (e.v && fy_node_get_type(e.v) == FYNT_SCALAR && !is_null(e.v)) {
		const char *s;
		if (get_str(p, e, "policy", false, &s))
			return CC_EINVAL;
		if (strcmp(s, "lww") == 0)
			return 0;
		if (strcmp(s, "manual") == 0) {
			fd->policy = CC_POLICY_MANUAL;
			return 0;
		}
		if (strcmp(s, "owner") == 0)
			return fail(p, e.v, "policy owner names its system: {owner: SYSTEM, mode: revert}");
		char hint[96];
		return fail(p, e.v, "unknown policy '%s': lww, manual or {owner: SYSTEM, mode: "
		            "revert|ignore}%s", s, suggest(hint, sizeof(hint), s, policies, 3));
	}
	if (want_map(p, e, "policy") || check_keys(p, e.v, "policy", keys))
		return CC_EINVAL;
	struct ent owner = get(e.v, "owner"), mode = get(e.v, "mode");
	if (!present(owner))
		return missing(p, e.v, "owner", "an owner policy");
	const char *name;
	if (get_str(p, owner, "owner", false, &name))
		return CC_EINVAL;
	fd->policy = CC_POLICY_OWNER;
	p->owner_node[f] = owner.v;
	if (present(mode)) {
		const char *m;
		if (get_str(p, mode, "mode", false, &m))
			return CC_EINVAL;
		if (strcmp(m, "revert") == 0) {
			fd->owner_mode = CC_OWNER_REVERT;
		} else if (strcmp(m, "ignore") == 0) {
			fd->owner_mode = CC_OWNER_IGNORE;
		} else {
			static const char *const modes[] = { "revert", "ignore" };
			char hint[96];
			return fail(p, mode.v, "mode must be revert or ignore, not '%s'%s", m,
			            suggest(hint, sizeof(hint), m, modes, 2));
		}
	}
	return 0;
}

static int parse_fields(struct parser *p, struct ent e)
{
	static const char *const keys[] = { "name", "type", "policy", NULL };
	struct cc_config *cfg = &p->c->engine;
	if (want_seq(p, e, "fields"))
		return CC_EINVAL;
	void *it = NULL;
	struct fy_node *item;
	while ((item = fy_node_sequence_iterate(e.v, &it))) {
		struct ent ie = { NULL, item };
		if (cfg->nfields == CC_MAX_FIELDS)
			return fail(p, item, "at most %d fields can be defined", CC_MAX_FIELDS);
		if (want_map(p, ie, "a field") || check_keys(p, item, "a field", keys))
			return CC_EINVAL;
		size_t f = cfg->nfields;
		struct cc_field_def *fd = &cfg->fields[f];
		struct ent name = get(item, "name"), type = get(item, "type");
		if (!present(name))
			return missing(p, item, "name", "a field");
		if (get_name(p, name, "field name", &fd->name))
			return CC_EINVAL;
		for (size_t g = 0; g < f; g++)
			if (strcmp(cfg->fields[g].name, fd->name) == 0)
				return fail(p, name.v, "field '%s' is defined twice", fd->name);
		fd->type = CC_FT_STRING;
		if (present(type)) {
			const char *t;
			if (get_str(p, type, "type", false, &t))
				return CC_EINVAL;
			size_t i;
			for (i = 0; type_names[i]; i++)
				if (strcmp(type_names[i], t) == 0)
					break;
			if (!type_names[i]) {
				char hint[96];
				return fail(p, type.v, "unknown type '%s': string, text, enum, user, "
				            "priority or timestamp%s", t,
				            suggest(hint, sizeof(hint), t, type_names, count_names(type_names)));
			}
			fd->type = (enum cc_field_type)i;
		}
		cfg->nfields++;
		if (parse_policy(p, get(item, "policy"), fd, f))
			return CC_EINVAL;
	}
	if (cfg->nfields == 0)
		return fail(p, at(e), "fields: at least one field is needed");
	return 0;
}

/* The index of a canonical field named by e, with a suggestion when
 * the name is unknown. */
static int field_ref(struct parser *p, struct ent e, const char *what, int *out)
{
	const struct cc_config *cfg = &p->c->engine;
	const char *name;
	if (get_str(p, e, what, false, &name))
		return CC_EINVAL;
	int f = cc_config_field(cfg, name);
	if (f < 0) {
		const char *names[CC_MAX_FIELDS];
		for (size_t i = 0; i < cfg->nfields; i++)
			names[i] = cfg->fields[i].name;
		char hint[96];
		return fail(p, e.v, "unknown field '%s'%s", name,
		            suggest(hint, sizeof(hint), name, names, cfg->nfields));
	}
	*out = f;
	return 0;
}

/* ------------------------------------------------------------------------
 * systems: fields, values, ranges, users, routes, settings.
 */

static int entry_covers(const struct cc_value_entry *e, const char *v)
{
	for (const char *const *c = e->canonical; *c; c++)
		if (strcmp(*c, v) == 0)
			return 1;
	return 0;
}

static int parse_values(struct parser *p, struct ent e, const char *field,
                        struct cc_field_map *m)
{
	static const char *const keys[] = { "remote", "canonical", "default", NULL };
	if (want_seq(p, e, "values"))
		return CC_EINVAL;
	size_t n = fy_node_sequence_item_count(e.v);
	if (n == 0)
		return fail(p, at(e), "values of field %s: at least one value is needed", field);
	struct cc_value_entry *entries = arena_alloc(p->a, n * sizeof(*entries));
	if (!entries)
		return oom(p);
	void *it = NULL;
	struct fy_node *item;
	size_t i = 0;
	while ((item = fy_node_sequence_iterate(e.v, &it))) {
		struct ent ie = { NULL, item };
		struct cc_value_entry *ve = &entries[i];
		if (want_map(p, ie, "a value") || check_keys(p, item, "a value", keys))
			return CC_EINVAL;
		struct ent remote = get(item, "remote"), canon = get(item, "canonical"),
		           dflt = get(item, "default");
		if (!present(remote))
			return missing(p, item, "remote", "a value");
		if (!present(canon))
			return missing(p, item, "canonical", "a value");
		if (get_str(p, remote, "remote", false, &ve->remote))
			return CC_EINVAL;
		for (size_t j = 0; j < i; j++)
			if (strcmp(entries[j].remote, ve->remote) == 0)
				return fail(p, remote.v, "field %s: remote value '%s' is listed twice",
				            field, ve->remote);
		/* canonical: one value or a list of them (a lossy set) */
		size_t nc = 1;
		if (canon.v && fy_node_get_type(canon.v) == FYNT_SEQUENCE) {
			nc = fy_node_sequence_item_count(canon.v);
			if (nc == 0)
				return fail(p, at(canon), "field %s: remote value '%s' stands for nothing",
				            field, ve->remote);
		}
		const char **set = arena_alloc(p->a, (nc + 1) * sizeof(*set));
		if (!set)
			return oom(p);
		struct fy_node *cnodes[64];
		if (nc > 64)
			return fail(p, canon.v, "field %s: a set holds at most 64 values", field);
		if (canon.v && fy_node_get_type(canon.v) == FYNT_SEQUENCE) {
			void *cit = NULL;
			struct fy_node *cn;
			size_t k = 0;
			while ((cn = fy_node_sequence_iterate(canon.v, &cit))) {
				cnodes[k] = cn;
				if (get_str(p, (struct ent){ NULL, cn }, "a canonical value", false, &set[k]))
					return CC_EINVAL;
				k++;
			}
		} else {
			cnodes[0] = canon.v;
			if (get_str(p, canon, "canonical", false, &set[0]))
				return CC_EINVAL;
		}
		ve->canonical = set;
		for (size_t k = 0; k < nc; k++) {
			for (size_t j = 0; j < k; j++)
				if (strcmp(set[j], set[k]) == 0)
					return fail(p, cnodes[k], "field %s: '%s' is listed twice in the set of '%s'",
					            field, set[k], ve->remote);
			/* Outbound translation must be a function: one entry per value. */
			for (size_t j = 0; j < i; j++)
				if (entry_covers(&entries[j], set[k]))
					return fail(p, cnodes[k], "field %s: '%s' already stands in remote value "
					            "'%s'; a canonical value belongs to one remote value only",
					            field, set[k], entries[j].remote);
		}
		if (present(dflt)) {
			if (get_str(p, dflt, "default", false, &ve->dflt))
				return CC_EINVAL;
			if (!entry_covers(ve, ve->dflt))
				return fail(p, dflt.v, "field %s: default '%s' of remote value '%s' is not in "
				            "its set", field, ve->dflt, ve->remote);
		}
		i++;
	}
	m->kind = CC_MAP_TABLE;
	m->entries = entries;
	m->nentries = n;
	return 0;
}

static int parse_ranges(struct parser *p, struct ent e, const char *field,
                        struct cc_field_map *m)
{
	static const char *const keys[] = { "from", "to", "canonical", "default", NULL };
	if (want_seq(p, e, "ranges"))
		return CC_EINVAL;
	size_t n = fy_node_sequence_item_count(e.v);
	if (n == 0)
		return fail(p, at(e), "ranges of field %s: at least one range is needed", field);
	struct cc_value_range *ranges = arena_alloc(p->a, n * sizeof(*ranges));
	if (!ranges)
		return oom(p);
	void *it = NULL;
	struct fy_node *item;
	size_t i = 0;
	while ((item = fy_node_sequence_iterate(e.v, &it))) {
		struct ent ie = { NULL, item };
		struct cc_value_range *r = &ranges[i];
		if (want_map(p, ie, "a range") || check_keys(p, item, "a range", keys))
			return CC_EINVAL;
		struct ent from = get(item, "from"), to = get(item, "to"),
		           canon = get(item, "canonical"), dflt = get(item, "default");
		if (!present(from))
			return missing(p, item, "from", "a range");
		if (!present(to))
			return missing(p, item, "to", "a range");
		if (!present(canon))
			return missing(p, item, "canonical", "a range");
		if (get_long(p, from, "from", LONG_MIN, LONG_MAX, &r->from) ||
		    get_long(p, to, "to", LONG_MIN, LONG_MAX, &r->to) ||
		    get_str(p, canon, "canonical", false, &r->canonical))
			return CC_EINVAL;
		if (r->to < r->from)
			return fail(p, to.v, "field %s: range %ld..%ld ends before it begins", field,
			            r->from, r->to);
		long d = r->from;
		if (present(dflt)) {
			if (get_long(p, dflt, "default", LONG_MIN, LONG_MAX, &d))
				return CC_EINVAL;
			if (d < r->from || d > r->to)
				return fail(p, dflt.v, "field %s: default %ld lies outside its range %ld..%ld",
				            field, d, r->from, r->to);
		}
		char num[32];
		snprintf(num, sizeof(num), "%ld", d);
		r->dflt = arena_strndup(p->a, num, strlen(num));
		if (!r->dflt)
			return oom(p);
		for (size_t j = 0; j < i; j++) {
			if (r->from <= ranges[j].to && ranges[j].from <= r->to)
				return fail(p, from.v, "field %s: range %ld..%ld overlaps %ld..%ld", field,
				            r->from, r->to, ranges[j].from, ranges[j].to);
			if (strcmp(ranges[j].canonical, r->canonical) == 0)
				return fail(p, canon.v, "field %s: '%s' already has the range %ld..%ld",
				            field, r->canonical, ranges[j].from, ranges[j].to);
		}
		i++;
	}
	m->kind = CC_MAP_RANGE;
	m->ranges = ranges;
	m->nranges = n;
	return 0;
}

static int parse_system_fields(struct parser *p, struct ent e, size_t s)
{
	static const char *const keys[] = { "remote", "values", "ranges", NULL };
	struct cc_config *cfg = &p->c->engine;
	struct cc_system_def *sd = &cfg->systems[s];
	struct cc_system_file *sf = &p->c->system[s];
	if (want_map(p, e, "fields of a system"))
		return CC_EINVAL;
	void *it = NULL;
	struct fy_node_pair *pr;
	while ((pr = fy_node_mapping_iterate(e.v, &it))) {
		struct ent fe = { fy_node_pair_key(pr), fy_node_pair_value(pr) };
		int f;
		if (field_ref(p, (struct ent){ NULL, fe.k }, "a field", &f))
			return CC_EINVAL;
		const char *fname = cfg->fields[f].name;
		struct cc_field_map *m = &sd->map[f];
		m->mapped = true;
		m->kind = CC_MAP_IDENTITY;
		if (fe.v && fy_node_get_type(fe.v) == FYNT_SCALAR && !is_null(fe.v)) {
			/* shorthand: `title: Subject` */
			if (get_str(p, fe, "remote", false, &m->remote_name))
				return CC_EINVAL;
		} else {
			char where[96];
			snprintf(where, sizeof(where), "field %s", fname);
			if (want_map(p, fe, where) || check_keys(p, fe.v, where, keys))
				return CC_EINVAL;
			struct ent remote = get(fe.v, "remote"), values = get(fe.v, "values"),
			           ranges = get(fe.v, "ranges");
			if (!present(remote))
				return missing(p, fe.v, "remote", where);
			if (get_str(p, remote, "remote", false, &m->remote_name))
				return CC_EINVAL;
			if (present(values) && present(ranges))
				return fail(p, ranges.k, "field %s has values or ranges, not both", fname);
			if (present(values) && parse_values(p, values, fname, m))
				return CC_EINVAL;
			if (present(ranges) && parse_ranges(p, ranges, fname, m))
				return CC_EINVAL;
		}
		/*
		 * A user field without its own values goes through the users map.
		 * The connector translates accounts to persons (and back), so the
		 * engine sees persons: its map is a table of the listed persons,
		 * and an account the map does not know, which the connector
		 * passes on as it is, is unmapped and parked.
		 */
		if (m->kind == CC_MAP_IDENTITY && cfg->fields[f].type == CC_FT_USER && sf->nusers) {
			struct cc_value_entry *entries = arena_alloc(p->a, sf->nusers * sizeof(*entries));
			if (!entries)
				return oom(p);
			for (size_t u = 0; u < sf->nusers; u++) {
				const char **set = arena_alloc(p->a, 2 * sizeof(*set));
				if (!set)
					return oom(p);
				set[0] = sf->users[u].person;
				entries[u] = (struct cc_value_entry){ .remote = sf->users[u].person,
					                              .canonical = set };
			}
			m->kind = CC_MAP_TABLE;
			m->entries = entries;
			m->nentries = sf->nusers;
		}
	}
	return 0;
}

static int parse_users(struct parser *p, struct ent e, size_t s)
{
	struct cc_system_file *sf = &p->c->system[s];
	if (want_map(p, e, "users"))
		return CC_EINVAL;
	size_t n = fy_node_mapping_item_count(e.v);
	struct cc_user_entry *users = arena_alloc(p->a, (n ? n : 1) * sizeof(*users));
	if (!users)
		return oom(p);
	void *it = NULL;
	struct fy_node_pair *pr;
	size_t i = 0;
	while ((pr = fy_node_mapping_iterate(e.v, &it))) {
		struct ent ue = { fy_node_pair_key(pr), fy_node_pair_value(pr) };
		if (get_str(p, (struct ent){ NULL, ue.k }, "a user name", false, &users[i].remote) ||
		    get_str(p, ue, "a person", false, &users[i].person))
			return CC_EINVAL;
		for (size_t j = 0; j < i; j++)
			if (strcmp(users[j].person, users[i].person) == 0)
				return fail(p, ue.v, "person '%s' is already the account '%s' of this system",
				            users[i].person, users[j].remote);
		i++;
	}
	sf->users = users;
	sf->nusers = i;
	return 0;
}

static int parse_settings(struct parser *p, struct ent e, size_t s)
{
	struct cc_system_file *sf = &p->c->system[s];
	if (want_map(p, e, "settings"))
		return CC_EINVAL;
	size_t n = fy_node_mapping_item_count(e.v);
	struct cc_setting *set = arena_alloc(p->a, (n ? n : 1) * sizeof(*set));
	if (!set)
		return oom(p);
	void *it = NULL;
	struct fy_node_pair *pr;
	size_t i = 0;
	while ((pr = fy_node_mapping_iterate(e.v, &it))) {
		struct ent se = { fy_node_pair_key(pr), fy_node_pair_value(pr) };
		struct cc_sourced v;
		if (get_name(p, (struct ent){ NULL, se.k }, "a setting", &set[i].key))
			return CC_EINVAL;
		if (get_sourced(p, se, set[i].key, false, &v))
			return CC_EINVAL;
		set[i].value = v.value;
		set[i].source = v.source;
		set[i].from = v.from;
		i++;
	}
	sf->settings = set;
	sf->nsettings = i;
	return 0;
}

static int parse_routes(struct parser *p, struct ent e, size_t s)
{
	static const char *const keys[] = { "field", "op", "value", NULL };
	struct cc_system_def *sd = &p->c->engine.systems[s];
	if (want_seq(p, e, "routes"))
		return CC_EINVAL;
	size_t n = fy_node_sequence_item_count(e.v);
	struct cc_route_rule *rules = arena_alloc(p->a, (n ? n : 1) * sizeof(*rules));
	if (!rules)
		return oom(p);
	void *it = NULL;
	struct fy_node *item;
	size_t i = 0;
	while ((item = fy_node_sequence_iterate(e.v, &it))) {
		struct ent ie = { NULL, item };
		if (want_map(p, ie, "a route") || check_keys(p, item, "a route", keys))
			return CC_EINVAL;
		struct ent field = get(item, "field"), op = get(item, "op"), value = get(item, "value");
		if (!present(field))
			return missing(p, item, "field", "a route");
		if (!present(value))
			return missing(p, item, "value", "a route");
		if (field_ref(p, field, "field", &rules[i].field) ||
		    get_str(p, value, "value", true, &rules[i].value))
			return CC_EINVAL;
		rules[i].op = CC_ROUTE_EQ;
		if (present(op)) {
			const char *o;
			if (get_str(p, op, "op", false, &o))
				return CC_EINVAL;
			if (strcmp(o, "ne") == 0)
				rules[i].op = CC_ROUTE_NE;
			else if (strcmp(o, "eq") != 0)
				return fail(p, op.v, "op must be eq or ne, not '%s'", o);
		}
		i++;
	}
	sd->routes = rules;
	sd->nroutes = i;
	return 0;
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
 * A system's url: http:// or https://, a host (a name, an IPv4 address or
 * an [IPv6] address), an optional :PORT and an optional /PATH. No
 * user:password@ (the secret belongs in `token`), no query or fragment,
 * no blank or control character. The check is on the value as resolved
 * from {env:} or {file:}.
 */
static int check_url(struct parser *p, struct ent e, const struct cc_sourced *u)
{
	const char *v = u->value;
	char label[300];
	for (const unsigned char *q = (const unsigned char *)v; *q; q++)
		if (*q <= ' ' || *q == 0x7f)
			return fail(p, at(e), "%s holds a blank or a control character",
			            url_label(label, sizeof(label), u, false));
	/* an '@' may be the end of a password: such a value is never shown */
	bool show = !strchr(v, '@');
	size_t skip;
	if (strncasecmp(v, "http://", 7) == 0)
		skip = 7;
	else if (strncasecmp(v, "https://", 8) == 0)
		skip = 8;
	else
		return fail(p, at(e), "%s must begin with http:// or https://",
		            url_label(label, sizeof(label), u, show));
	const char *host = v + skip;
	const char *end = host + strcspn(host, "/?#");
	const char *atsign = memchr(host, '@', (size_t)(end - host));
	if (atsign)
		return fail(p, at(e), "%s holds a user name or password (user:password@); "
		            "write the secret in token: {env: NAME} or {file: PATH} instead",
		            url_label(label, sizeof(label), u, false));
	if (strpbrk(host, "?#"))
		return fail(p, at(e), "%s must not hold a query (?) or a fragment (#)",
		            url_label(label, sizeof(label), u, show));
	const char *port = NULL;
	const char *q = host;
	if (*q == '[') {
		/* [IPv6] */
		q++;
		while (q < end && (isxdigit((unsigned char)*q) || *q == ':' || *q == '.'))
			q++;
		if (q == host + 1 || q >= end || *q != ']')
			return fail(p, at(e), "%s has a bad [IPv6] host",
			            url_label(label, sizeof(label), u, show));
		q++;
	} else {
		while (q < end && (isalnum((unsigned char)*q) || *q == '-' || *q == '.' || *q == '_' ||
		                   *q == '~' || *q == '%' || (unsigned char)*q >= 0x80))
			q++;
		if (q == host)
			return fail(p, at(e), "%s has no host", url_label(label, sizeof(label), u, show));
	}
	if (q < end && *q == ':') {
		port = ++q;
		while (q < end && isdigit((unsigned char)*q))
			q++;
		long n = q - port > 0 && q - port <= 5 ? strtol(port, NULL, 10) : 0;
		if (q != end || n < 1 || n > 65535)
			return fail(p, at(e), "%s has a bad port: a number from 1 to 65535 is needed",
			            url_label(label, sizeof(label), u, show));
	}
	if (q != end)
		return fail(p, at(e), "%s has a bad host: a name, an IPv4 address or an [IPv6] "
		            "address is needed", url_label(label, sizeof(label), u, show));
	return 0;
}

/*
 * A system's kind: one of the kinds the build knows, when the caller gave
 * them; a near miss gets a suggestion.
 */
static int check_kind(struct parser *p, struct ent e, const char *kind)
{
	if (!p->kinds)
		return 0;
	size_t n = count_names(p->kinds);
	for (size_t i = 0; i < n; i++)
		if (strcmp(p->kinds[i], kind) == 0)
			return 0;
	char known[256] = "";
	size_t used = 0;
	for (size_t i = 0; i < n && used < sizeof(known); i++) {
		int w = snprintf(known + used, sizeof(known) - used, "%s%s", i ? ", " : "",
		                 p->kinds[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	const char *best = nearest(kind, p->kinds, n);
	char hint[96] = "";
	if (best)
		snprintf(hint, sizeof(hint), "; did you mean '%s'?", best);
	return fail(p, e.v, "kind '%s' is unknown (known: %s)%s", kind, n ? known : "none", hint);
}

static int parse_system(struct parser *p, struct fy_node *item, size_t s)
{
	static const char *const keys[] = {
		"name", "kind", "url", "token", "rank", "poll_interval", "poll_overlap",
		"search_lag", "page_size", "comments", "integration_user", "settings",
		"users", "routes", "fields", "timeout", "rate_limit", "concurrency", "ca_file",
		"retry_after_max",
		NULL,
	};
	struct cc_config *cfg = &p->c->engine;
	struct cc_system_def *sd = &cfg->systems[s];
	struct cc_system_file *sf = &p->c->system[s];
	struct ent ie = { NULL, item };
	if (want_map(p, ie, "a system") || check_keys(p, item, "a system", keys))
		return CC_EINVAL;
	struct ent name = get(item, "name"), kind = get(item, "kind");
	if (!present(name))
		return missing(p, item, "name", "a system");
	if (get_name(p, name, "system name", &sd->name))
		return CC_EINVAL;
	p->name_node[s] = name.v;
	for (size_t t = 0; t < s; t++)
		if (strcmp(cfg->systems[t].name, sd->name) == 0)
			return fail(p, name.v, "system '%s' is defined twice", sd->name);
	if (!present(kind))
		return missing(p, item, "kind", "a system");
	if (get_name(p, kind, "kind", &sd->kind) || check_kind(p, kind, sd->kind))
		return CC_EINVAL;

	struct ent url = get(item, "url"), token = get(item, "token");
	if (present(url) &&
	    (get_sourced(p, url, "url", false, &sf->url) || check_url(p, url, &sf->url)))
		return CC_EINVAL;
	if (present(token) && get_sourced(p, token, "token", true, &sf->token))
		return CC_EINVAL;

	long rank = (long)s + 1;
	struct ent re = get(item, "rank");
	if (present(re) && get_long(p, re, "rank", INT32_MIN, INT32_MAX, &rank))
		return CC_EINVAL;
	sd->rank = (int32_t)rank;
	p->rank_node[s] = re.v;
	for (size_t t = 0; t < s; t++)
		if (cfg->systems[t].rank == sd->rank)
			return fail(p, re.v ? re.v : name.v, "systems %s and %s share rank %ld; each "
			            "system needs its own", cfg->systems[t].name, sd->name, rank);

	sd->poll_interval_ms = 60 * 1000;
	int64_t overlap_ms = 30 * 1000;
	sd->search_lag_ms = 5 * 1000;
	struct ent pi = get(item, "poll_interval"), po = get(item, "poll_overlap"),
	           sl = get(item, "search_lag");
	if (present(pi) &&
	    get_duration_in(p, pi, "poll_interval", SECOND, 24 * HOUR, &sd->poll_interval_ms))
		return CC_EINVAL;
	if (present(po) && get_duration_in(p, po, "poll_overlap", 0, 24 * HOUR, &overlap_ms))
		return CC_EINVAL;
	if (present(sl) && get_duration_in(p, sl, "search_lag", 0, HOUR, &sd->search_lag_ms))
		return CC_EINVAL;
	if (overlap_ms < sd->search_lag_ms)
		return fail(p, po.v ? po.v : sl.v, "poll_overlap must be at least search_lag: "
		            "changes still hidden by the search lag would be missed");
	sd->poll_overlap_s = (overlap_ms + 999) / 1000; /* the cursor counts seconds */

	long page = 100;
	struct ent ps = get(item, "page_size");
	if (present(ps) && get_long(p, ps, "page_size", 1, 10000, &page))
		return CC_EINVAL;
	sd->page_size = (size_t)page;

	sd->comments = true;
	struct ent cm = get(item, "comments");
	if (present(cm) && get_bool(p, cm, "comments", &sd->comments))
		return CC_EINVAL;

	/* HTTP: the whole-request timeout, requests per second (token bucket,
	 * 0: unlimited), requests at once, an extra CA bundle */
	struct ent to = get(item, "timeout"), rl = get(item, "rate_limit"),
	           cc = get(item, "concurrency"), ca = get(item, "ca_file");
	int64_t timeout_ms = 0;
	if (present(to) && get_duration_in(p, to, "timeout", SECOND, 10 * MINUTE, &timeout_ms))
		return CC_EINVAL;
	sf->timeout_ms = (long)timeout_ms;
	struct ent ram = get(item, "retry_after_max");
	int64_t hold_ms = 0;
	if (present(ram) &&
	    get_duration_in(p, ram, "retry_after_max", SECOND, 24 * 60 * MINUTE, &hold_ms))
		return CC_EINVAL;
	sf->retry_after_max_ms = hold_ms;
	long rate = 0, conc = 0;
	if (present(rl) && get_long(p, rl, "rate_limit", 0, 100000, &rate))
		return CC_EINVAL;
	sf->rate_per_sec = (double)rate;
	if (present(cc) && get_long(p, cc, "concurrency", 1, 16, &conc))
		return CC_EINVAL;
	sf->max_concurrency = (int)conc;
	if (present(ca)) {
		struct cc_sourced v;
		if (get_sourced(p, ca, "ca_file", false, &v))
			return CC_EINVAL;
		sf->ca_file = v.value;
	}

	struct ent iu = get(item, "integration_user");
	if (present(iu)) {
		struct cc_sourced v;
		if (get_sourced(p, iu, "integration_user", false, &v))
			return CC_EINVAL;
		sd->integration_user = v.value;
	}

	struct ent settings = get(item, "settings"), users = get(item, "users"),
	           routes = get(item, "routes"), fields = get(item, "fields");
	if (present(settings) && parse_settings(p, settings, s))
		return CC_EINVAL;
	if (present(users) && parse_users(p, users, s))
		return CC_EINVAL;
	if (present(routes) && parse_routes(p, routes, s))
		return CC_EINVAL;
	if (!present(fields))
		return missing(p, item, "fields", "a system");
	return parse_system_fields(p, fields, s);
}

static int parse_systems(struct parser *p, struct ent e)
{
	struct cc_config *cfg = &p->c->engine;
	if (want_seq(p, e, "systems"))
		return CC_EINVAL;
	void *it = NULL;
	struct fy_node *item;
	while ((item = fy_node_sequence_iterate(e.v, &it))) {
		if (cfg->nsystems == CC_MAX_SYSTEMS)
			return fail(p, item, "at most %d systems can be connected", CC_MAX_SYSTEMS);
		if (parse_system(p, item, cfg->nsystems))
			return CC_EINVAL;
		cfg->nsystems++;
	}
	if (cfg->nsystems < 2)
		return fail(p, at(e), "systems: at least 2 systems are needed, found %zu",
		            cfg->nsystems);
	return 0;
}

static int resolve_owners(struct parser *p)
{
	struct cc_config *cfg = &p->c->engine;
	const char *names[CC_MAX_SYSTEMS];
	for (size_t s = 0; s < cfg->nsystems; s++)
		names[s] = cfg->systems[s].name;
	for (size_t f = 0; f < cfg->nfields; f++) {
		if (!p->owner_node[f])
			continue;
		size_t len;
		const char *s = fy_node_get_scalar(p->owner_node[f], &len);
		char name[128];
		snprintf(name, sizeof(name), "%.*s", (int)(len < 127 ? len : 127), s ? s : "");
		int idx = cc_config_file_system(p->c, name);
		if (idx < 0) {
			char hint[96];
			return fail(p, p->owner_node[f], "field %s: owner '%s' is not a configured "
			            "system%s", cfg->fields[f].name, name,
			            suggest(hint, sizeof(hint), name, names, cfg->nsystems));
		}
		cfg->fields[f].owner = idx;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Engine-wide settings: dedup:, outbox:, create_settle, clock_uncertainty.
 */

static int parse_dedup(struct parser *p, struct ent e)
{
	static const char *const keys[] = { "title", "caller", "link_score", "review_score",
		                            "window", "close", "close_words", NULL };
	struct cc_config *cfg = &p->c->engine;
	if (want_map(p, e, "dedup") || check_keys(p, e.v, "dedup", keys))
		return CC_EINVAL;
	struct ent title = get(e.v, "title"), caller = get(e.v, "caller"),
	           link = get(e.v, "link_score"), review = get(e.v, "review_score"),
	           window = get(e.v, "window"), close = get(e.v, "close"),
	           words = get(e.v, "close_words");
	if (present(title)) {
		if (field_ref(p, title, "title", &cfg->dedup_title_field))
			return CC_EINVAL;
		cfg->fields[cfg->dedup_title_field].dedup_key = true;
	}
	if (present(caller)) {
		if (!present(title))
			return fail(p, caller.k, "dedup: caller is compared only with a title field");
		if (field_ref(p, caller, "caller", &cfg->dedup_caller_field))
			return CC_EINVAL;
		cfg->fields[cfg->dedup_caller_field].dedup_key = true;
	}
	long v;
	if (present(link)) {
		if (get_long(p, link, "link_score", 0, 100, &v))
			return CC_EINVAL;
		cfg->dedup_link_score = (int)v;
	}
	if (present(review)) {
		if (get_long(p, review, "review_score", 0, 100, &v))
			return CC_EINVAL;
		cfg->dedup_review_score = (int)v;
	}
	if (cfg->dedup_review_score > cfg->dedup_link_score)
		return fail(p, review.v ? review.v : link.v,
		            "dedup: review_score %d is above link_score %d",
		            cfg->dedup_review_score, cfg->dedup_link_score);
	if (present(window) &&
	    get_duration_in(p, window, "window", 0, 30 * 24 * HOUR, &cfg->dedup_window_ms))
		return CC_EINVAL;
	if (present(close) && get_duration_in(p, close, "close", 0, HOUR, &cfg->dedup_close_ms))
		return CC_EINVAL;
	if (present(words)) {
		if (get_long(p, words, "close_words", 1, 100, &v))
			return CC_EINVAL;
		cfg->dedup_close_words = (int)v;
	}
	return 0;
}

static int parse_outbox(struct parser *p, struct ent e)
{
	static const char *const keys[] = { "backoff_base", "backoff_max", "dead_letter_after",
		                            "breaker_failures", "breaker_open", NULL };
	struct cc_config *cfg = &p->c->engine;
	if (want_map(p, e, "outbox") || check_keys(p, e.v, "outbox", keys))
		return CC_EINVAL;
	struct ent base = get(e.v, "backoff_base"), max = get(e.v, "backoff_max"),
	           dead = get(e.v, "dead_letter_after"), fails = get(e.v, "breaker_failures"),
	           open = get(e.v, "breaker_open");
	if (present(base) &&
	    get_duration_in(p, base, "backoff_base", 100, HOUR, &cfg->backoff_base_ms))
		return CC_EINVAL;
	if (present(max) &&
	    get_duration_in(p, max, "backoff_max", 100, 24 * HOUR, &cfg->backoff_max_ms))
		return CC_EINVAL;
	if (cfg->backoff_max_ms < cfg->backoff_base_ms)
		return fail(p, max.v ? max.v : base.v, "backoff_max must be at least backoff_base");
	if (present(dead) && get_duration_in(p, dead, "dead_letter_after", MINUTE, 30 * 24 * HOUR,
	                                     &cfg->dead_letter_after_ms))
		return CC_EINVAL;
	if (present(fails)) {
		long v;
		if (get_long(p, fails, "breaker_failures", 1, 1000000, &v))
			return CC_EINVAL;
		cfg->breaker_failures = (int)v;
	}
	if (present(open) &&
	    get_duration_in(p, open, "breaker_open", SECOND, HOUR, &cfg->breaker_open_ms))
		return CC_EINVAL;
	return 0;
}

/* host:port, [v6]:port; the port 1..65535. */
static int check_listen(struct parser *p, struct ent e, const char *s)
{
	const char *colon = strrchr(s, ':');
	bool ok = colon && colon != s;
	if (ok && s[0] == '[')
		ok = colon[-1] == ']';
	if (ok) {
		char *end;
		errno = 0;
		long port = strtol(colon + 1, &end, 10);
		ok = !errno && *end == '\0' && end != colon + 1 && port >= 1 && port <= 65535;
	}
	if (!ok)
		return fail(p, e.v, "listen must be HOST:PORT, such as 127.0.0.1:8484, not '%s'", s);
	return 0;
}

/*
 * The listener serves the admin API: a host that is not loopback (127/8,
 * ::1, localhost) needs listen_public: true, said on purpose.
 */
static bool listen_is_loopback(const char *s)
{
	const char *colon = strrchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	char host[64];
	if (n >= sizeof(host))
		return false;
	memcpy(host, s, n);
	host[n] = '\0';
	if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
		return true;
	struct in_addr a;
	return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

static int parse_root(struct parser *p)
{
	static const char *const keys[] = {
		"store", "listen", "listen_public", "admin_token", "fields", "systems", "create_settle",
		"clock_uncertainty", "dedup", "outbox", NULL,
	};
	struct cc_file_config *c = p->c;
	struct ent root = { NULL, p->root };
	if (want_map(p, root, "the configuration") ||
	    check_keys(p, p->root, "the configuration", keys))
		return CC_EINVAL;
	struct ent public = get(p->root, "listen_public");
	struct ent store = get(p->root, "store"), listen = get(p->root, "listen"),
	           admin = get(p->root, "admin_token"), fields = get(p->root, "fields"),
	           systems = get(p->root, "systems"), settle = get(p->root, "create_settle"),
	           unc = get(p->root, "clock_uncertainty"), dedup = get(p->root, "dedup"),
	           outbox = get(p->root, "outbox");
	if (present(store)) {
		if (get_str(p, store, "store", false, &c->store))
			return CC_EINVAL;
		if (strcmp(c->store, "memory") != 0 && !strchr(c->store, ':'))
			return fail(p, store.v, "store must be a URL such as sqlite:PATH, not '%s'",
			            c->store);
	}
	c->listen = CC_DEFAULT_LISTEN;
	if (present(listen) &&
	    (get_str(p, listen, "listen", false, &c->listen) || check_listen(p, listen, c->listen)))
		return CC_EINVAL;
	if (present(public) && get_bool(p, public, "listen_public", &c->listen_public))
		return CC_EINVAL;
	if (!c->listen_public && !listen_is_loopback(c->listen))
		return fail(p, listen.v, "listen address '%s' is not loopback: the webhook listener "
		            "and the admin API would be reachable from the network; add "
		            "'listen_public: true' if that is meant", c->listen);
	if (present(admin) && get_sourced(p, admin, "admin_token", true, &c->admin_token))
		return CC_EINVAL;
	if (present(settle) &&
	    get_duration_in(p, settle, "create_settle", 0, HOUR, &c->engine.create_settle_ms))
		return CC_EINVAL;
	if (present(unc) && get_duration_in(p, unc, "clock_uncertainty", 0, HOUR,
	                                    &c->engine.clock_uncertainty_ms))
		return CC_EINVAL;
	if (!present(fields))
		return missing(p, p->root, "fields", "the configuration");
	if (parse_fields(p, fields))
		return CC_EINVAL;
	if (!present(systems))
		return missing(p, p->root, "systems", "the configuration");
	if (parse_systems(p, systems) || resolve_owners(p))
		return CC_EINVAL;
	if (present(dedup) && parse_dedup(p, dedup))
		return CC_EINVAL;
	if (present(outbox) && parse_outbox(p, outbox))
		return CC_EINVAL;
	return 0;
}

/* ------------------------------------------------------------------------
 * Duplicate keys, found by sorting each mapping's keys.
 */

struct key_ref {
	const char *s;
	size_t len;
	size_t index;              /* position in the mapping */
	struct fy_node *node;
};

static int key_ref_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	int c = memcmp(x->s, y->s, x->len);
	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * A key written twice in a mapping is an error at the second one. Keys
 * compare by their text, as the walk looks them up; an alias or a
 * collection as a key is left to the walk (the schema has none).
 */
static int check_duplicates(struct parser *p, struct fy_node *n, int depth)
{
	if (!n || depth > CC_CONFIG_DEPTH_MAX + 1)
		return 0;
	void *it = NULL;
	if (fy_node_get_type(n) == FYNT_SEQUENCE) {
		struct fy_node *item;
		while ((item = fy_node_sequence_iterate(n, &it)))
			if (check_duplicates(p, item, depth + 1))
				return CC_EINVAL;
		return 0;
	}
	if (fy_node_get_type(n) != FYNT_MAPPING)
		return 0;
	size_t count = (size_t)fy_node_mapping_item_count(n);
	struct key_ref *keys = count > 1 ? calloc(count, sizeof(*keys)) : NULL;
	if (count > 1 && !keys)
		return oom(p);
	size_t nkeys = 0, index = 0;
	struct fy_node_pair *pr;
	while ((pr = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *k = fy_node_pair_key(pr);
		if (check_duplicates(p, k, depth + 1) ||
		    check_duplicates(p, fy_node_pair_value(pr), depth + 1)) {
			free(keys);
			return CC_EINVAL;
		}
		size_t len;
		const char *s = k && fy_node_get_type(k) == FYNT_SCALAR && !fy_node_is_alias(k)
		                    ? fy_node_get_scalar(k, &len) : NULL;
		if (keys && s && nkeys < count)
			keys[nkeys++] = (struct key_ref){ s, len, index, k };
		index++;
	}
	int rc = 0;
	if (nkeys > 1) {
		qsort(keys, nkeys, sizeof(*keys), key_ref_cmp);
		struct key_ref *dup = NULL;
		for (size_t i = 1; i < nkeys; i++)
			if (keys[i].len == keys[i - 1].len &&
			    memcmp(keys[i].s, keys[i - 1].s, keys[i].len) == 0 &&
			    (!dup || keys[i].index < dup->index))
				dup = &keys[i];
		if (dup)
			rc = fail(p, dup->node, "duplicate key '%.*s'", (int)(dup->len < 64 ? dup->len : 64),
			          dup->s);
	}
	free(keys);
	return rc;
}

/* ------------------------------------------------------------------------
 * Aliases: counted and expanded on paper before libfyaml expands them.
 *
 * libfyaml's resolution copies the anchored node at each alias, so nine
 * levels of nine aliases each in a few hundred bytes would build hundreds
 * of millions of nodes. The document is therefore parsed unresolved, and
 * this walk computes what resolution would build: the number of nodes
 * (an alias counts as the expansion of its anchor; a merge key `<<: *x`
 * as all of x, an upper bound of what it adds) and the depth of nesting.
 * Each anchor's expansion is computed once and remembered, so the walk
 * costs about the size of the text whatever the expansion. A file with
 * aliases is resolved only within the CC_CONFIG_* limits of config_file.h.
 */

#define EXPANDED_OVER ((uint64_t)CC_CONFIG_EXPANDED_MAX + 1)

struct expansion {
	struct parser *p;
	size_t aliases;             /* aliases written in the file */
	int inside;                 /* > 0 while expanding an anchor */
	struct fy_node *outer;      /* the alias written outside anchors that is
	                               being expanded: where a limit is reported */
	struct fy_node *biggest;    /* the alias with the largest expansion */
	uint64_t biggest_size;
	/* one entry per anchored node an alias names: at most one per alias */
	struct {
		struct fy_node *target;
		uint64_t size;          /* nodes, at most EXPANDED_OVER */
		int height;             /* levels of collections */
		bool busy;              /* being computed: an alias inside it loops */
	} memo[CC_CONFIG_ALIASES_MAX];
	size_t nmemo;
};

static uint64_t add_nodes(uint64_t a, uint64_t b)
{
	return a + b > EXPANDED_OVER ? EXPANDED_OVER : a + b;
}

/* The name of an alias as written, for messages (cut to fit buf). */
static const char *alias_name(struct fy_node *n, char *buf, size_t len)
{
	size_t l = 0;
	struct fy_token *t = fy_node_get_scalar_token(n);
	const char *s = t ? fy_token_get_text(t, &l) : NULL;
	snprintf(buf, len, "%.*s", s ? (int)(l < len ? l : len - 1) : 0, s ? s : "");
	return buf;
}

static int expand(struct expansion *x, struct fy_node *n, int depth, uint64_t *size,
                  int *height);

/* An alias at depth `depth`: its anchor's expansion, computed once. */
static int expand_alias(struct expansion *x, struct fy_node *n, int depth, uint64_t *size,
                        int *height)
{
	struct parser *p = x->p;
	char name[CC_CONFIG_NAME_MAX + 1];
	alias_name(n, name, sizeof(name));
	if (++x->aliases > CC_CONFIG_ALIASES_MAX)
		return fail(p, n, "more than %d aliases: a configuration file needs few; write the "
		            "values out", CC_CONFIG_ALIASES_MAX);
	struct fy_node *t = fy_node_resolve_alias(n);
	if (!t)
		return fail(p, n, "alias '*%s' names no anchor (or one that leads back to itself)",
		            name);
	/* YAML wants the anchor first; libfyaml would leave such an alias unexpanded. */
	int al, ac, tl, tc;
	node_pos(t, &tl, &tc); /* an empty collection: the key that holds it */
	if (node_mark(n, &al, &ac, 0) && (tl > al || (tl == al && tc > ac)))
		return fail(p, n, "alias '*%s' comes before its anchor '&%s'", name, name);
	size_t i;
	for (i = 0; i < x->nmemo; i++)
		if (x->memo[i].target == t)
			break;
	if (i < x->nmemo && x->memo[i].busy)
		return fail(p, n, "alias '*%s' lies inside its own anchor: it would expand forever",
		            name);
	if (i == x->nmemo) {
		/* each entry was added by a counted alias: there is room */
		x->nmemo++;
		x->memo[i].target = t;
		x->memo[i].busy = true;
		uint64_t s;
		int h;
		if (!x->inside)
			x->outer = n;
		x->inside++;
		int rc = expand(x, t, depth, &s, &h);
		x->inside--;
		if (rc)
			return rc;
		x->memo[i].size = s;
		x->memo[i].height = h;
		x->memo[i].busy = false;
	}
	*size = x->memo[i].size;
	*height = x->memo[i].height;
	struct fy_node *at_node = x->inside ? x->outer : n;
	if (*size >= EXPANDED_OVER)
		return fail(p, at_node, "aliases expand the document to more than %d nodes",
		            CC_CONFIG_EXPANDED_MAX);
	if (depth + *height > CC_CONFIG_DEPTH_MAX)
		return fail(p, at_node, "aliases nest the document deeper than %d levels",
		            CC_CONFIG_DEPTH_MAX);
	if (!x->biggest || *size > x->biggest_size) {
		x->biggest = n;
		x->biggest_size = *size;
	}
	return 0;
}

/*
 * The nodes and the height (levels of collections) of n once its aliases
 * are expanded; depth is the number of collections around n, expanded.
 */
static int expand(struct expansion *x, struct fy_node *n, int depth, uint64_t *size,
                  int *height)
{
	*size = 1;
	*height = 0;
	if (!n)
		return 0;
	if (fy_node_is_alias(n))
		return expand_alias(x, n, depth, size, height);
	if (fy_node_get_type(n) == FYNT_SCALAR)
		return 0;
	/* the parser bounds the nesting of what is written; this bounds the
	 * recursion through anchors */
	if (x->inside && depth >= CC_CONFIG_DEPTH_MAX)
		return fail(x->p, x->outer, "aliases nest the document deeper than %d levels",
		            CC_CONFIG_DEPTH_MAX);
	uint64_t s;
	int h;
	void *it = NULL;
	if (fy_node_get_type(n) == FYNT_SEQUENCE) {
		struct fy_node *item;
		while ((item = fy_node_sequence_iterate(n, &it))) {
			if (expand(x, item, depth + 1, &s, &h))
				return CC_EINVAL;
			*size = add_nodes(*size, s);
			if (h + 1 > *height)
				*height = h + 1;
		}
		if (*height == 0)
			*height = 1;
		return 0;
	}
	struct fy_node_pair *pr;
	while ((pr = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *kv[2] = { fy_node_pair_key(pr), fy_node_pair_value(pr) };
		for (int k = 0; k < 2; k++) {
			if (expand(x, kv[k], depth + 1, &s, &h))
				return CC_EINVAL;
			*size = add_nodes(*size, s);
			if (h + 1 > *height)
				*height = h + 1;
		}
	}
	if (*height == 0)
		*height = 1;
	return 0;
}

/* Checks the aliases of the unresolved document; *aliases gets their count. */
static int check_aliases(struct parser *p, struct fy_node *root, size_t *aliases)
{
	struct expansion x = { .p = p };
	uint64_t size;
	int height;
	*aliases = 0;
	if (expand(&x, root, 0, &size, &height))
		return CC_EINVAL;
	*aliases = x.aliases;
	if (x.aliases && size >= EXPANDED_OVER)
		return fail(p, x.biggest, "aliases expand the document to more than %d nodes",
		            CC_CONFIG_EXPANDED_MAX);
	return 0;
}

/* ------------------------------------------------------------------------
 * Loading.
 */

/*
 * Reads the configuration file. It may be a pipe (`-c <(...)`): it is read
 * as it comes, at most CC_CONFIG_FILE_MAX bytes; a directory is refused.
 */
static int read_config(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return CC_ENOTFOUND;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		close(fd);
		return CC_EINVAL;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory, not a configuration file", path);
		close(fd);
		return CC_EINVAL;
	}
	char *buf = malloc(CC_CONFIG_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return CC_ENOMEM;
	}
	ssize_t n = read_bounded(fd, buf, CC_CONFIG_FILE_MAX);
	int saved = errno;
	close(fd);
	if (n < 0 || n > CC_CONFIG_FILE_MAX) {
		if (n < 0)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(saved));
		else
			snprintf(err, errlen, "%s: larger than %d bytes", path, CC_CONFIG_FILE_MAX);
		explicit_bzero(buf, CC_CONFIG_FILE_MAX + 1);
		free(buf);
		return CC_EINVAL;
	}
	*out = buf;
	*outlen = (size_t)n;
	return 0;
}

/*
 * The length of the valid UTF-8 sequence at s (n bytes left), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF.
 */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	if (s[0] < 0x80)
		return 1;
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/*
 * UTF-8 only: a UTF-16 byte order mark, a NUL byte anywhere (UTF-16
 * without a mark, UTF-32, a binary file) or bytes that are not UTF-8 are
 * refused before libfyaml sees them: it would call such a file empty, and
 * libfyaml 0.7.12 loops forever on a directive line (`%...`) that holds
 * bytes that are not UTF-8. A UTF-8 byte order mark is fine.
 */
static int check_encoding(const char *name, const char *text, size_t len, char *err,
                          size_t errlen)
{
	const unsigned char *u = (const unsigned char *)text;
	if (len >= 2 && ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff))) {
		snprintf(err, errlen, "%s:1:1: the file is UTF-16; save it as UTF-8", name);
		return CC_EINVAL;
	}
	int line = 1, col = 1;
	for (size_t i = 0; i < len;) {
		if (u[i] == '\0') {
			snprintf(err, errlen, "%s:%d:%d: the file holds a NUL byte at line %d (is it "
			         "UTF-16?); save it as UTF-8", name, line, col, line);
			return CC_EINVAL;
		}
		size_t n = utf8_seq(u + i, len - i);
		if (n == 0) {
			snprintf(err, errlen, "%s:%d:%d: the file is not UTF-8 (byte 0x%02X at line %d); "
			         "save it as UTF-8", name, line, col, u[i], line);
			return CC_EINVAL;
		}
		if (u[i] == '\n') {
			line++;
			col = 0;
		}
		i += n;
		col++;
	}
	return 0;
}

/* libfyaml's parser over the text, its diagnostics and the document. */
struct yaml {
	struct fy_diag *diag;
	struct fy_parser *parser;
	struct fy_document *doc;
};

static void yaml_close(struct yaml *y)
{
	if (y->doc)
		fy_document_destroy(y->doc);
	if (y->parser)
		fy_parser_destroy(y->parser);
	if (y->diag)
		fy_diag_destroy(y->diag);
}

/* Writes libfyaml's first error as "NAME:LINE:COL: invalid YAML: ..."; false
 * when it reported none. */
static bool yaml_error(struct yaml *y, const char *name, char *err, size_t errlen)
{
	void *it = NULL;
	struct fy_diag_error *e;
	while ((e = fy_diag_errors_iterate(y->diag, &it)))
		if (e->type >= FYET_ERROR) {
			snprintf(err, errlen, "%s:%d:%d: invalid YAML: %s", name,
			         e->line > 0 ? e->line : 1, e->column > 0 ? e->column : 1, e->msg);
			return true;
		}
	return false;
}

/*
 * Parses text into one unresolved document (aliases are left as they are
 * written). A second document in the stream is an error at its start.
 * With `dup_keys` libfyaml does not look for duplicate keys: its search
 * compares each key of a mapping with every other, minutes for one large
 * mapping, so check_duplicates() does it instead.
 */
static int yaml_open(struct yaml *y, const char *name, const char *text, size_t len,
                     bool dup_keys, char *err, size_t errlen)
{
	struct fy_diag_cfg dcfg;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.colorize = false;
	y->diag = fy_diag_create(&dcfg);
	if (!y->diag) {
		snprintf(err, errlen, "%s: out of memory", name);
		return CC_ENOMEM;
	}
	fy_diag_set_collect_errors(y->diag, true);
	struct fy_parse_cfg pcfg = {
		.flags = FYPCF_QUIET | FYPCF_JSON_NONE | (dup_keys ? FYPCF_ALLOW_DUPLICATE_KEYS : 0),
		.diag = y->diag,
	};
	y->parser = fy_parser_create(&pcfg);
	if (!y->parser || fy_parser_set_string(y->parser, text, len) != 0) {
		snprintf(err, errlen, "%s: out of memory", name);
		return CC_ENOMEM;
	}
	y->doc = fy_parse_load_document(y->parser);
	if (!y->doc || fy_parser_get_stream_error(y->parser)) {
		if (!yaml_error(y, name, err, errlen)) /* nothing but blanks and comments */
			snprintf(err, errlen, "%s:1:1: the file is empty", name);
		return CC_EINVAL;
	}
	/* What follows the document: the end of the stream, or another one. */
	struct fy_event *ev = fy_parser_parse(y->parser);
	if (!ev) {
		if (!fy_parser_get_stream_error(y->parser))
			return 0;
		if (!yaml_error(y, name, err, errlen))
			snprintf(err, errlen, "%s:1:1: invalid YAML", name);
		return CC_EINVAL;
	}
	if (ev->type != FYET_DOCUMENT_START) {
		fy_parser_event_free(y->parser, ev);
		return 0;
	}
	/* An implicit start (after `...`) has no mark: take its first token's. */
	const struct fy_mark *m;
	while (ev && !(m = fy_event_start_mark(ev)) && ev->type != FYET_STREAM_END) {
		fy_parser_event_free(y->parser, ev);
		ev = fy_parser_parse(y->parser);
	}
	m = ev ? fy_event_start_mark(ev) : NULL;
	snprintf(err, errlen, "%s:%d:%d: a second YAML document begins here: the file must "
	         "hold one document only", name, m ? m->line + 1 : 1, m ? m->column + 1 : 1);
	fy_parser_event_free(y->parser, ev);
	return CC_EINVAL;
}

int cc_config_file_load_text(struct cc_file_config **out, const char *name, const char *text,
                             size_t len, const char *const *kinds, char *err, size_t errlen)
{
	int rc;
	struct yaml y = { 0 };
	struct cc_arena *arena = NULL;
	struct cc_file_config *c = NULL;
	*out = NULL;
	if (errlen)
		err[0] = '\0';

	if (len > CC_CONFIG_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", name, CC_CONFIG_FILE_MAX);
		return CC_EINVAL;
	}
	rc = check_encoding(name, text, len, err, errlen);
	if (rc)
		return rc;
	rc = yaml_open(&y, name, text, len, true, err, errlen);
	if (rc)
		goto out;
	arena = calloc(1, sizeof(*arena));
	c = arena ? arena_alloc(arena, sizeof(*c)) : NULL;
	if (!c) {
		snprintf(err, errlen, "%s: out of memory", name);
		rc = CC_ENOMEM;
		goto out;
	}
	c->arena = arena;
	c->path = arena_strndup(arena, name, strlen(name));
	cc_config_defaults(&c->engine);
	struct parser p = { .path = name, .kinds = kinds, .err = err, .errlen = errlen,
		            .a = arena, .c = c, .root = fy_document_root(y.doc) };
	if (!c->path) {
		rc = oom(&p);
		goto out;
	}
	if (!p.root) {
		snprintf(err, errlen, "%s:1:1: the file is empty", name);
		rc = CC_EINVAL;
		goto out;
	}
	size_t aliases = 0;
	rc = check_duplicates(&p, p.root, 0);
	if (rc == 0)
		rc = check_aliases(&p, p.root, &aliases);
	if (rc == 0 && aliases) {
		/*
		 * Merge keys need libfyaml's duplicate keys check: keys written
		 * in a mapping win over the merged ones only then. Parsed again
		 * with it, bounded now: the aliases' limits bound the size.
		 */
		yaml_close(&y);
		memset(&y, 0, sizeof(y));
		rc = yaml_open(&y, name, text, len, false, err, errlen);
		if (rc) {
			p.failed = true;
			goto out;
		}
		if (fy_document_resolve(y.doc) != 0) {
			if (!yaml_error(&y, name, err, errlen))
				snprintf(err, errlen, "%s:1:1: invalid YAML: the aliases cannot be resolved",
				         name);
			p.failed = true;
			rc = CC_EINVAL;
		}
		p.root = fy_document_root(y.doc);
	}
	if (rc == 0)
		rc = parse_root(&p);
	if (rc == 0) {
		char msg[256];
		if (cc_config_validate(&c->engine, msg, sizeof(msg)) != CC_EOK)
			rc = fail(&p, p.root, "%s", msg);
	}
	if (rc && !p.failed)
		rc = fail(&p, p.root, "invalid configuration");
out:
	yaml_close(&y);
	if (rc) {
		arena_destroy(arena);
		return rc;
	}
	*out = c;
	return 0;
}

int cc_config_file_load_kinds(struct cc_file_config **out, const char *path,
                              const char *const *kinds, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	*out = NULL;
	if (errlen)
		err[0] = '\0';
	int rc = read_config(path, &text, &len, err, errlen);
	if (rc)
		return rc;
	rc = cc_config_file_load_text(out, path, text, len, kinds, err, errlen);
	explicit_bzero(text, len);
	free(text);
	return rc;
}

int cc_config_file_load(struct cc_file_config **out, const char *path, char *err,
                        size_t errlen)
{
	return cc_config_file_load_kinds(out, path, NULL, err, errlen);
}

void cc_config_file_free(struct cc_file_config *c)
{
	if (c)
		arena_destroy(c->arena); /* c itself lives in the arena */
}

const char *cc_config_file_setting(const struct cc_file_config *c, size_t system,
                                   const char *key)
{
	if (system >= c->engine.nsystems)
		return NULL;
	const struct cc_system_file *sf = &c->system[system];
	for (size_t i = 0; i < sf->nsettings; i++)
		if (strcmp(sf->settings[i].key, key) == 0)
			return sf->settings[i].value;
	return NULL;
}

int cc_config_file_system(const struct cc_file_config *c, const char *name)
{
	for (size_t s = 0; s < c->engine.nsystems; s++)
		if (strcmp(c->engine.systems[s].name, name) == 0)
			return (int)s;
	return -1;
}

const char *cc_config_file_person(const struct cc_file_config *c, size_t system,
                                  const char *remote)
{
	if (system >= c->engine.nsystems)
		return NULL;
	const struct cc_system_file *sf = &c->system[system];
	for (size_t i = 0; i < sf->nusers; i++)
		if (strcmp(sf->users[i].remote, remote) == 0)
			return sf->users[i].person;
	return NULL;
}
