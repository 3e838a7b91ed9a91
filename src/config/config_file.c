/*
 * Loading the YAML configuration file (see config_file.h and
 * docs/configuration.md): what is specific to the file as a whole. The
 * keys themselves are rows (schema.c) read by one generic walker (walk.c).
 *
 * The file may be hostile, so before libfyaml builds anything from it the
 * text must be UTF-8 and at most CC_CONFIG_FILE_MAX bytes; it is parsed
 * into one document with its aliases unexpanded, keys written twice are
 * found by sorting, and the aliases are expanded only when what they would
 * build stays within the limits of config_file.h (see "Aliases" below).
 *
 * The document is then walked once through the rows (cc_schema_walk): the
 * first problem found stops the load and is reported as
 * "FILE:LINE:COLUMN: message", pointing at the key or value at fault.
 * What is kept is copied into an arena owned by the result, so the
 * document is released before returning; the arena is wiped before it is
 * released, secrets included.
 */
#include "config/config_file.h"

#include "config/walk.h"

#include <errno.h>
#include <fcntl.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
static int check_duplicates(struct cc_walk *w, struct fy_node *n, int depth)
{
	if (!n || depth > CC_CONFIG_DEPTH_MAX + 1)
		return 0;
	void *it = NULL;
	if (fy_node_get_type(n) == FYNT_SEQUENCE) {
		struct fy_node *item;
		while ((item = fy_node_sequence_iterate(n, &it)))
			if (check_duplicates(w, item, depth + 1))
				return CC_EINVAL;
		return 0;
	}
	if (fy_node_get_type(n) != FYNT_MAPPING)
		return 0;
	size_t count = (size_t)fy_node_mapping_item_count(n);
	struct key_ref *keys = count > 1 ? calloc(count, sizeof(*keys)) : NULL;
	if (count > 1 && !keys)
		return cc_walk_oom(w);
	size_t nkeys = 0, index = 0;
	struct fy_node_pair *pr;
	while ((pr = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *k = fy_node_pair_key(pr);
		if (check_duplicates(w, k, depth + 1) ||
		    check_duplicates(w, fy_node_pair_value(pr), depth + 1)) {
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
			rc = cc_walk_fail(w, dup->node, "duplicate key '%.*s'",
			                  (int)(dup->len < 64 ? dup->len : 64), dup->s);
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
	struct cc_walk *w;
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
	struct cc_walk *w = x->w;
	char name[CC_CONFIG_NAME_MAX + 1];
	alias_name(n, name, sizeof(name));
	if (++x->aliases > CC_CONFIG_ALIASES_MAX)
		return cc_walk_fail(w, n, "more than %d aliases: a configuration file needs few; "
		                    "write the values out", CC_CONFIG_ALIASES_MAX);
	struct fy_node *t = fy_node_resolve_alias(n);
	if (!t)
		return cc_walk_fail(w, n, "alias '*%s' names no anchor (or one that leads back to "
		                    "itself)", name);
	/* YAML wants the anchor first; libfyaml would leave such an alias unexpanded. */
	int al, ac, tl, tc;
	cc_node_pos(t, &tl, &tc); /* an empty collection: the key that holds it */
	cc_node_pos(n, &al, &ac);
	if (tl > al || (tl == al && tc > ac))
		return cc_walk_fail(w, n, "alias '*%s' comes before its anchor '&%s'", name, name);
	size_t i;
	for (i = 0; i < x->nmemo; i++)
		if (x->memo[i].target == t)
			break;
	if (i < x->nmemo && x->memo[i].busy)
		return cc_walk_fail(w, n, "alias '*%s' lies inside its own anchor: it would expand "
		                    "forever", name);
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
		return cc_walk_fail(w, at_node, "aliases expand the document to more than %d nodes",
		                    CC_CONFIG_EXPANDED_MAX);
	if (depth + *height > CC_CONFIG_DEPTH_MAX)
		return cc_walk_fail(w, at_node, "aliases nest the document deeper than %d levels",
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
		return cc_walk_fail(x->w, x->outer, "aliases nest the document deeper than %d levels",
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
static int check_aliases(struct cc_walk *w, struct fy_node *root, size_t *aliases)
{
	struct expansion x = { .w = w };
	uint64_t size;
	int height;
	*aliases = 0;
	if (expand(&x, root, 0, &size, &height))
		return CC_EINVAL;
	*aliases = x.aliases;
	if (x.aliases && size >= EXPANDED_OVER)
		return cc_walk_fail(w, x.biggest, "aliases expand the document to more than %d nodes",
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
	ssize_t n = cc_read_bounded(fd, buf, CC_CONFIG_FILE_MAX);
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
                             size_t len, const struct cc_config_options *opt, char *err,
                             size_t errlen)
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
	arena = cc_arena_create();
	c = arena ? cc_arena_alloc(arena, sizeof(*c)) : NULL;
	if (!c) {
		snprintf(err, errlen, "%s: out of memory", name);
		rc = CC_ENOMEM;
		goto out;
	}
	/* every default comes from the rows (cc_schema_walk) */
	c->arena = arena;
	c->path = cc_arena_strndup(arena, name, strlen(name));
	struct cc_walk w = { .path = name, .opt = opt, .err = err, .errlen = errlen,
		             .a = arena, .c = c, .root = fy_document_root(y.doc) };
	if (!c->path) {
		rc = cc_walk_oom(&w);
		goto out;
	}
	if (!w.root) {
		snprintf(err, errlen, "%s:1:1: the file is empty", name);
		rc = CC_EINVAL;
		goto out;
	}
	size_t aliases = 0;
	rc = check_duplicates(&w, w.root, 0);
	if (rc == 0)
		rc = check_aliases(&w, w.root, &aliases);
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
			w.failed = true;
			goto out;
		}
		if (fy_document_resolve(y.doc) != 0) {
			if (!yaml_error(&y, name, err, errlen))
				snprintf(err, errlen, "%s:1:1: invalid YAML: the aliases cannot be resolved",
				         name);
			w.failed = true;
			rc = CC_EINVAL;
		}
		w.root = fy_document_root(y.doc);
	}
	if (rc == 0)
		rc = cc_schema_walk(&w);
	if (rc == 0) {
		char msg[256];
		if (cc_config_validate(&c->engine, msg, sizeof(msg)) != CC_EOK)
			rc = cc_walk_fail(&w, w.root, "%s", msg);
	}
	if (rc && !w.failed)
		rc = cc_walk_fail(&w, w.root, "invalid configuration");
out:
	yaml_close(&y);
	if (rc) {
		cc_arena_destroy(arena);
		return rc;
	}
	*out = c;
	return 0;
}

int cc_config_file_load(struct cc_file_config **out, const char *path,
                        const struct cc_config_options *opt, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	*out = NULL;
	if (errlen)
		err[0] = '\0';
	int rc = read_config(path, &text, &len, err, errlen);
	if (rc)
		return rc;
	rc = cc_config_file_load_text(out, path, text, len, opt, err, errlen);
	explicit_bzero(text, len);
	free(text);
	return rc;
}

void cc_config_file_free(struct cc_file_config *c)
{
	if (c)
		cc_arena_destroy(c->arena); /* c itself lives in the arena */
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
