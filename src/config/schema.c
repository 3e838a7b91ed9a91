/*
 * The rows of the configuration file (see schema.h): one table per
 * section, in the order of docs/configuration.md, which is also the order
 * the walker reads them in (and so the order of errors when a file has
 * several: the first is reported). Then the few things that are not a
 * row's type: the mappings whose keys are names of the file's own (a
 * system's `fields`, `users`, `settings`), the sets of a value, policies
 * (through the table of core/policy.h), the store URL (through the store
 * backends' table) and the checks that compare one key with another.
 *
 * Adding a key is adding its row here and its line in the document's
 * table; tests/unit/test_config_schema.c fails until both agree.
 */
#include "config/walk.h"

#include "core/policy.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECOND (1000LL)
#define MINUTE (60 * SECOND)
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)

/* Where a row's value lands: a member of T. */
#define AT(T, m) .offset = offsetof(T, m), .size = sizeof(((T *)0)->m)
#define ROWS(r) .rows = (r), .nrows = sizeof(r) / sizeof((r)[0])

/* What the walk remembers across sections: owners are named before the
 * systems are known and resolved once they are. */
struct schema {
	struct fy_node *owner_node[CC_MAX_FIELDS];
	struct fy_node *sys_fields; /* the `fields:` of the system being walked */
};

static const struct cc_section field_map_section;

/* ------------------------------------------------------------------------
 * Names that refer to something.
 */

/* The index of the canonical field named by e, with a suggestion when
 * the name is unknown. */
static int field_ref(struct cc_walk *w, struct cc_ent e, const char *what, int *out)
{
	const struct cc_config *cfg = &w->c->engine;
	const char *name;
	if (cc_get_str(w, e, what, false, &name))
		return CC_EINVAL;
	int f = cc_config_field(cfg, name);
	if (f < 0) {
		const char *names[CC_MAX_FIELDS];
		for (size_t i = 0; i < cfg->nfields; i++)
			names[i] = cfg->fields[i].name;
		char hint[96];
		return cc_walk_fail(w, e.v, "unknown field '%s'%s", name,
		                    cc_suggest(hint, sizeof(hint), name, names, cfg->nfields));
	}
	*out = f;
	return 0;
}

/* "a, b, c" into buf. */
static const char *list_names(char *buf, size_t len, const char *const *names, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		int k = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", names[i]);
		if (k < 0)
			break;
		used += (size_t)k;
	}
	return buf;
}

/* "; did you mean 'X'?" when a candidate is close (after a list in
 * parentheses), else "". */
static const char *did_you_mean(char *buf, size_t len, const char *name,
                                const char *const *cands, size_t n)
{
	const char *best = cc_nearest(name, cands, n);
	buf[0] = '\0';
	if (best)
		snprintf(buf, len, "; did you mean '%s'?", best);
	return buf;
}

/* ------------------------------------------------------------------------
 * The top level: store, listen.
 */

/* store: a URL of one of the store backends' table; nothing is opened.
 * What follows the scheme may hold a password: never echoed. */
static int parse_store(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row,
                       struct cc_ent e)
{
	struct cc_file_config *c = fr->obj[0];
	char msg[256], hint[96], forms[200];
	if (cc_get_str(w, e, row->key, false, &c->store))
		return CC_EINVAL;
	struct cc_store_url u;
	if (cc_store_url_parse(c->store, &u, msg, sizeof(msg)))
		return cc_walk_fail(w, e.v, "%s", msg);
	size_t n;
	const struct cc_store_backend *b = cc_store_backends(&n);
	const char *schemes[16] = { 0 }, *form[16] = { 0 };
	size_t k = 0;
	for (size_t i = 0; i < n && k < 16; i++, k++) {
		schemes[k] = b[i].scheme;
		form[k] = b[i].form;
	}
	list_names(forms, sizeof(forms), form, k);
	for (size_t i = 0; i < k; i++) {
		if (strcmp(schemes[i], u.scheme) != 0)
			continue;
		if (b[i].takes_path && !u.rest[0])
			return cc_walk_fail(w, e.v, "store \"%s:\" names nothing: write %s", u.scheme,
			                    form[i]);
		if (!b[i].takes_path && u.rest[0])
			return cc_walk_fail(w, e.v, "store %s takes nothing after its name: write %s",
			                    u.scheme, form[i]);
		return 0;
	}
	return cc_walk_fail(w, e.v, "unknown store kind \"%s:\" (accepted: %s)%s", u.scheme, forms,
	                    did_you_mean(hint, sizeof(hint), u.scheme, schemes, k));
}

/* listen: host:port, [v6]:port; the port 1..65535. */
static int check_listen(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row)
{
	const struct cc_file_config *c = fr->obj[0];
	const char *s = c->listen;
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
		return cc_walk_fail(w, cc_frame_slot(fr, row->key)->e.v, "listen must be HOST:PORT, "
		                    "such as 127.0.0.1:8484, not '%s'", s);
	return 0;
}

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

/*
 * The listener serves the admin API: a host that is not loopback (127/8,
 * ::1, localhost) needs listen_public: true, said on purpose.
 */
static int check_loopback(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row)
{
	const struct cc_file_config *c = fr->obj[0];
	if (c->listen_public || listen_is_loopback(c->listen))
		return 0;
	return cc_walk_fail(w, cc_frame_slot(fr, "listen")->e.v, "listen address '%s' is not "
	                    "loopback: the webhook listener and the admin API would be reachable "
	                    "from the network; add 'listen_public: true' if that is meant", c->listen);
}

/* ------------------------------------------------------------------------
 * fields: names and policies.
 */

static int check_field_unique(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row)
{
	const struct cc_config *cfg = &w->c->engine;
	const struct cc_field_def *fd = fr->obj[0];
	for (size_t g = 0; g < fr->index; g++)
		if (strcmp(cfg->fields[g].name, fd->name) == 0)
			return cc_walk_fail(w, cc_frame_slot(fr, row->key)->e.v,
			                    "field '%s' is defined twice", fd->name);
	return 0;
}

#define POLICY_ARGS_MAX 8
#define SYNTAX_WORDS_MAX 16

/*
 * The words of a policy's syntax ("policy: {owner: SYSTEM, mode: revert |
 * ignore}"): its parameters' names (key NULL), or the values one of them
 * takes (a word in capitals, such as SYSTEM, stands for any value).
 */
static size_t syntax_words(const char *syntax, const char *key,
                           char words[][CC_CONFIG_NAME_MAX + 1], size_t max)
{
	const char *open = strchr(syntax, '{');
	const char *close = open ? strchr(open, '}') : NULL;
	size_t n = 0;
	for (const char *p = open ? open + 1 : NULL; p && p < close && n < max;) {
		const char *end = memchr(p, ',', (size_t)(close - p));
		if (!end)
			end = close;
		const char *colon = memchr(p, ':', (size_t)(end - p));
		if (colon) {
			char k[CC_CONFIG_NAME_MAX + 1];
			if (sscanf(p, " %64[A-Za-z0-9_.-]", k) == 1 && !key) {
				snprintf(words[n++], CC_CONFIG_NAME_MAX + 1, "%s", k);
			} else if (key && strcmp(k, key) == 0) {
				for (const char *q = colon + 1; q < end && n < max;) {
					char v[CC_CONFIG_NAME_MAX + 1];
					int used = 0;
					if (sscanf(q, " %64[a-z0-9_.-]%n", v, &used) == 1)
						snprintf(words[n++], CC_CONFIG_NAME_MAX + 1, "%s", v);
					const char *bar = memchr(q, '|', (size_t)(end - q));
					q = bar ? bar + 1 : end;
				}
			}
		}
		p = end + 1;
	}
	return n;
}

/* How many keys of args are parameters of the policy's syntax. */
static size_t params_taken(const struct cc_policy_def *def, const struct cc_policy_arg *args,
                           size_t n)
{
	char words[SYNTAX_WORDS_MAX][CC_CONFIG_NAME_MAX + 1];
	size_t nw = syntax_words(def->syntax, NULL, words, SYNTAX_WORDS_MAX), taken = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < nw; k++)
			if (strcmp(words[k], args[i].key) == 0) {
				taken++;
				break;
			}
	return taken;
}

/*
 * Which policy a mapping of parameters is: the one a key names ({owner:
 * rt, mode: revert}); else a key that is a policy's name misspelt (an
 * error that suggests it); else the one policy that takes the most of the
 * keys as parameters ({mode: revert}), so that its own parse says what is
 * missing or which key it does not take.
 */
static int policy_of_map(struct cc_walk *w, struct cc_ent e, const struct cc_policy_arg *args,
                         const struct cc_ent *argent, size_t nargs, const char *const *names,
                         size_t ntable, const struct cc_policy_def **out)
{
	char hint[96], known[128];
	*out = NULL;
	for (size_t i = 0; i < nargs; i++) {
		const struct cc_policy_def *def = cc_policy_find(args[i].key);
		if (def && *out)
			return cc_walk_fail(w, argent[i].k, "policy names two policies, %s and %s",
			                    (*out)->name, def->name);
		if (def)
			*out = def;
	}
	if (*out)
		return 0;
	list_names(known, sizeof(known), names, ntable);
	for (size_t i = 0; i < nargs; i++)
		if (cc_nearest(args[i].key, names, ntable))
			return cc_walk_fail(w, argent[i].k, "unknown policy '%s' (known: %s)%s",
			                    args[i].key, known,
			                    did_you_mean(hint, sizeof(hint), args[i].key, names, ntable));
	size_t best = 0;
	bool tie = false;
	for (size_t p = 0; p < ntable; p++) {
		const struct cc_policy_def *def = cc_policy_find(names[p]);
		size_t taken = def ? params_taken(def, args, nargs) : 0;
		if (taken > best) {
			best = taken;
			*out = def;
			tie = false;
		} else if (taken && taken == best) {
			tie = true;
		}
	}
	if (*out && !tie)
		return 0;
	*out = NULL;
	return cc_walk_fail(w, cc_at(e), "policy names none of the policies (known: %s): write "
	                    "policy: NAME, or a mapping whose keys are a policy's parameters",
	                    known);
}

/*
 * policy: a policy of core/policy.h's table by name (`manual`), or a
 * mapping of its parameters, one of which names it ({owner: rt, mode:
 * revert}); the policy's own parse reads the parameters. Its message
 * names the parameter at fault in quotes: the error points there, and a
 * close word of the policy's syntax is suggested.
 */
static int parse_policy(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row,
                        struct cc_ent e)
{
	struct cc_field_def *fd = fr->obj[0];
	struct schema *sc = w->schema;
	struct cc_policy_arg args[POLICY_ARGS_MAX];
	struct cc_ent argent[POLICY_ARGS_MAX];
	size_t nargs = 0;
	const struct cc_policy_def *def = NULL;
	char hint[96], known[128];
	size_t ntable;
	const struct cc_policy_def *const *table = cc_policy_table(&ntable);
	const char *names[16];
	for (size_t i = 0; i < ntable && i < 16; i++)
		names[i] = table[i]->name;
	ntable = ntable < 16 ? ntable : 16;
	fd->owner = -1;
	fd->owner_mode = CC_OWNER_REVERT;
	fd->owner_name = NULL;
	sc->owner_node[fr->index] = NULL;
	if (!cc_present(e)) {
		def = cc_policy_find(row->dflt);
	} else if (cc_node_is_scalar(e.v)) {
		const char *name;
		if (cc_get_str(w, e, row->key, false, &name))
			return CC_EINVAL;
		def = cc_policy_find(name);
		if (!def)
			return cc_walk_fail(w, e.v, "unknown policy '%s' (known: %s)%s", name,
			                    list_names(known, sizeof(known), names, ntable),
			                    did_you_mean(hint, sizeof(hint), name, names, ntable));
	} else if (cc_node_is_map(e.v)) {
		/* the keys first: which policy, then its parameters' values */
		struct cc_ent pe;
		void *it = NULL;
		while (cc_map_next(e.v, &it, &pe)) {
			if (nargs == POLICY_ARGS_MAX)
				return cc_walk_fail(w, pe.k, "a policy takes at most %d parameters",
				                    POLICY_ARGS_MAX);
			if (cc_get_name(w, (struct cc_ent){ NULL, pe.k }, "a policy parameter",
			                &args[nargs].key))
				return CC_EINVAL;
			argent[nargs++] = pe;
		}
		if (policy_of_map(w, e, args, argent, nargs, names, ntable, &def))
			return CC_EINVAL;
		if (!strchr(def->syntax, '{'))
			return cc_walk_fail(w, e.v, "policy %s takes no parameters: write %s", def->name,
			                    def->syntax);
		for (size_t i = 0; i < nargs; i++)
			if (cc_get_str(w, argent[i], args[i].key, false, &args[i].value))
				return CC_EINVAL;
	} else {
		return cc_walk_fail(w, cc_at(e), "policy must be a policy's name or a mapping of its "
		                    "parameters (known: %s)",
		                    list_names(known, sizeof(known), names, ntable));
	}
	if (!def)
		return cc_walk_fail(w, cc_at(e), "internal error: no policy '%s'", row->dflt);
	fd->policy = def->id;
	char msg[256] = "";
	if (def->parse(fd, args, nargs, msg, sizeof(msg)) != CC_EOK) {
		struct fy_node *at = cc_at(e);
		const char *about = NULL;  /* the parameter whose value is at fault */
		bool bad_key = false;
		char quoted[CC_CONFIG_NAME_MAX + 8];
		for (size_t i = 0; i < nargs && !about; i++) {
			snprintf(quoted, sizeof(quoted), "'%s'", args[i].value);
			if (strstr(msg, quoted)) {
				at = argent[i].v;
				about = args[i].key;
			}
		}
		for (size_t i = 0; i < nargs && !about; i++) {
			snprintf(quoted, sizeof(quoted), "'%s'", args[i].key);
			if (strstr(msg, quoted)) {
				at = argent[i].k;
				about = args[i].key;
				bad_key = true;
			}
		}
		char words[SYNTAX_WORDS_MAX][CC_CONFIG_NAME_MAX + 1];
		const char *cands[SYNTAX_WORDS_MAX];
		size_t nw = about ? syntax_words(def->syntax, bad_key ? NULL : about, words,
		                                 SYNTAX_WORDS_MAX) : 0;
		for (size_t i = 0; i < nw; i++)
			cands[i] = words[i];
		const char *bad = NULL;
		for (size_t i = 0; i < nargs && about && !bad; i++)
			if (strcmp(args[i].key, about) == 0)
				bad = bad_key ? args[i].key : args[i].value;
		hint[0] = '\0';
		if (bad)
			cc_suggest(hint, sizeof(hint), bad, cands, nw);
		return cc_walk_fail(w, at, "%s%s", msg, hint);
	}
	for (size_t i = 0; i < nargs && fd->owner_name; i++)
		if (args[i].value == fd->owner_name)
			sc->owner_node[fr->index] = argent[i].v;
	return 0;
}

/* Owners name systems: resolved once every system is known. */
static int resolve_owners(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row)
{
	struct cc_config *cfg = &w->c->engine;
	struct schema *sc = w->schema;
	const char *names[CC_MAX_SYSTEMS];
	for (size_t s = 0; s < cfg->nsystems; s++)
		names[s] = cfg->systems[s].name;
	for (size_t f = 0; f < cfg->nfields; f++) {
		struct cc_field_def *fd = &cfg->fields[f];
		if (!fd->owner_name)
			continue;
		int idx = cc_config_file_system(w->c, fd->owner_name);
		if (idx < 0) {
			char hint[96];
			return cc_walk_fail(w, sc->owner_node[f], "field %s: owner '%s' is not a "
			                    "configured system%s", fd->name, fd->owner_name,
			                    cc_suggest(hint, sizeof(hint), fd->owner_name, names,
			                               cfg->nsystems));
		}
		fd->owner = idx;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * systems: name, kind, rank, timing, settings, users, fields.
 */

static int check_system_unique(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row)
{
	const struct cc_config *cfg = &w->c->engine;
	const struct cc_system_def *sd = fr->obj[0];
	for (size_t t = 0; t < fr->index; t++)
		if (strcmp(cfg->systems[t].name, sd->name) == 0)
			return cc_walk_fail(w, cc_frame_slot(fr, row->key)->e.v,
			                    "system '%s' is defined twice", sd->name);
	return 0;
}

/* The names the caller accepts in place of a bad one, for a suggestion. */
static const char *suggest_accepted(struct cc_walk *w, char *buf, size_t len, const char *name,
                                    const char *kind)
{
	const char *names[64];
	size_t n = 0;
	buf[0] = '\0';
	if (w->opt->accepted)
		n = w->opt->accepted(w->opt->ctx, kind, names, 64);
	return did_you_mean(buf, len, name, names, n < 64 ? n : 64);
}

/* kind: one the caller's connectors know (asked through the options). */
static int check_kind(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row)
{
	const struct cc_system_def *sd = fr->obj[0];
	if (!w->opt || !w->opt->check_system)
		return 0;
	char msg[300] = "", hint[96];
	long bad = 0;
	if (w->opt->check_system(w->opt->ctx, sd->kind, NULL, 0, &bad, msg, sizeof(msg)) == 0 ||
	    bad != CC_CONFIG_BAD_KIND)
		return 0; /* a missing setting is told with the settings */
	return cc_walk_fail(w, cc_frame_slot(fr, row->key)->e.v, "%s%s", msg,
	                    suggest_accepted(w, hint, sizeof(hint), sd->kind, NULL));
}

/* rank: by default the position in the list (1, 2, ...); one per system. */
static int check_rank(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row)
{
	const struct cc_config *cfg = &w->c->engine;
	struct cc_system_def *sd = fr->obj[0];
	struct cc_slot *sl = cc_frame_slot(fr, row->key);
	if (!sl->given)
		sd->rank = (int32_t)fr->index + 1;
	for (size_t t = 0; t < fr->index; t++)
		if (cfg->systems[t].rank == sd->rank)
			return cc_walk_fail(w, sl->e.v ? sl->e.v : cc_frame_slot(fr, "name")->e.v,
			                    "systems %s and %s share rank %d; each system needs its own",
			                    cfg->systems[t].name, sd->name, (int)sd->rank);
	return 0;
}

/* The poll cursor counts seconds: an overlap is rounded up. */
static void land_seconds_up(void *at, int64_t ms)
{
	*(int64_t *)at = (ms + 999) / 1000;
}

static void land_rate(void *at, int64_t v)
{
	*(double *)at = (double)v;
}

static int check_overlap(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row)
{
	struct cc_slot *po = cc_frame_slot(fr, "poll_overlap"), *sl = cc_frame_slot(fr, row->key);
	if (po->num >= sl->num)
		return 0;
	return cc_walk_fail(w, po->e.v ? po->e.v : sl->e.v, "poll_overlap must be at least "
	                    "search_lag: changes still hidden by the search lag would be missed");
}

/* A system's webhooks are authenticated one way: a signature or a token. */
static int check_webhook_token(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row)
{
	struct cc_slot *sec = cc_frame_slot(fr, "webhook_secret"), *tok = cc_frame_slot(fr, row->key);
	if (!sec->given || !tok->given)
		return 0;
	return cc_walk_fail(w, tok->e.k, "webhook_secret and webhook_token are both set: a "
	                    "system's webhooks are signed (webhook_secret) or carry a bearer token "
	                    "(webhook_token), not both");
}

/* `webhook_auth: none` is the opt-out: it cannot stand beside a secret. */
static int check_webhook_auth(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row)
{
	const struct cc_system_file *sf = fr->obj[1];
	struct cc_slot *auth = cc_frame_slot(fr, row->key);
	if (sf->webhook_auth != CC_WEBHOOK_AUTH_UNAUTHENTICATED)
		return 0;
	const char *set = cc_frame_slot(fr, "webhook_secret")->given ? "webhook_secret"
	                  : cc_frame_slot(fr, "webhook_token")->given ? "webhook_token" : NULL;
	if (!set)
		return 0;
	return cc_walk_fail(w, auth->e.v, "webhook_auth: none accepts webhooks without "
	                    "authentication, but %s is set: keep one of them", set);
}

/* Asks the caller's options about a system's settings: an unknown one is
 * reported at its key, a missing one at `settings:` or the system. */
static int check_settings(struct cc_walk *w, struct cc_frame *fr, struct cc_ent e)
{
	const struct cc_system_def *sd = fr->obj[0];
	const struct cc_system_file *sf = fr->obj[1];
	size_t n = sf->nsettings;
	const char **names = calloc(n ? n : 1, sizeof(*names));
	if (!names)
		return cc_walk_oom(w);
	for (size_t i = 0; i < n; i++)
		names[i] = sf->settings[i].key;
	char msg[300] = "", hint[96];
	long bad = CC_CONFIG_BAD_SYSTEM;
	int rc = 0;
	if (w->opt->check_system(w->opt->ctx, sd->kind, names, n, &bad, msg, sizeof(msg)) == 0)
		goto out;
	if (bad >= 0 && (size_t)bad < n) {
		/* the bad key's node: the n-th key of the mapping */
		void *it = NULL;
		struct cc_ent se = { NULL, NULL };
		long k = -1;
		while (k < bad && cc_map_next(e.v, &it, &se))
			k++;
		rc = cc_walk_fail(w, se.k, "%s%s", msg,
		                  suggest_accepted(w, hint, sizeof(hint), names[bad], sd->kind));
	} else if (bad == CC_CONFIG_BAD_KIND) {
		rc = cc_walk_fail(w, cc_frame_slot(fr, "kind")->e.v, "%s", msg);
	} else {
		rc = cc_walk_fail(w, e.k ? e.k : fr->map, "%s", msg);
	}
out:
	free(names);
	return rc;
}

/* settings: connector-specific strings, checked by the caller's connectors. */
static int parse_settings(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row,
                          struct cc_ent e)
{
	struct cc_system_file *sf = fr->obj[1];
	if (cc_present(e)) {
		if (cc_want_map(w, e, row->key))
			return CC_EINVAL;
		size_t n = cc_node_count(e.v), i = 0;
		struct cc_setting *set = cc_arena_alloc(w->a, (n ? n : 1) * sizeof(*set));
		if (!set)
			return cc_walk_oom(w);
		void *it = NULL;
		struct cc_ent se;
		while (i < n && cc_map_next(e.v, &it, &se)) {
			struct cc_sourced v;
			if (cc_get_name(w, (struct cc_ent){ NULL, se.k }, "a setting", &set[i].key) ||
			    cc_get_sourced(w, se, set[i].key, false, &v))
				return CC_EINVAL;
			set[i].value = v.value;
			set[i].source = v.source;
			set[i].from = v.from;
			i++;
		}
		sf->settings = set;
		sf->nsettings = i;
	}
	if (!w->opt || !w->opt->check_system)
		return 0;
	return check_settings(w, fr, e);
}

/* users: this system's accounts -> canonical persons, one account each. */
static int parse_users(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row,
                       struct cc_ent e)
{
	struct cc_system_file *sf = fr->obj[1];
	if (cc_want_map(w, e, row->key))
		return CC_EINVAL;
	size_t n = cc_node_count(e.v);
	struct cc_user_entry *users = cc_arena_alloc(w->a, (n ? n : 1) * sizeof(*users));
	if (!users)
		return cc_walk_oom(w);
	void *it = NULL;
	struct cc_ent ue;
	size_t i = 0;
	while (cc_map_next(e.v, &it, &ue) && i < n) {
		if (cc_get_str(w, (struct cc_ent){ NULL, ue.k }, "a user name", false, &users[i].remote) ||
		    cc_get_str(w, ue, "a person", false, &users[i].person))
			return CC_EINVAL;
		for (size_t j = 0; j < i; j++)
			if (strcmp(users[j].person, users[i].person) == 0)
				return cc_walk_fail(w, ue.v, "person '%s' is already the account '%s' of this "
				                    "system", users[i].person, users[j].remote);
		i++;
	}
	sf->users = users;
	sf->nusers = i;
	return 0;
}

/*
 * A system's fields: canonical field -> this system's field, as a name
 * (`title: Subject`) or a mapping of the field map's rows.
 */
static int parse_system_fields(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row,
                               struct cc_ent e)
{
	struct cc_config *cfg = &w->c->engine;
	struct cc_system_def *sd = fr->obj[0];
	const struct cc_system_file *sf = fr->obj[1];
	if (cc_want_map(w, e, "fields of a system"))
		return CC_EINVAL;
	((struct schema *)w->schema)->sys_fields = e.v;
	void *it = NULL;
	struct cc_ent fe;
	while (cc_map_next(e.v, &it, &fe)) {
		int f;
		if (field_ref(w, (struct cc_ent){ NULL, fe.k }, "a field", &f))
			return CC_EINVAL;
		struct cc_field_map *m = &sd->map[f];
		m->mapped = true;
		m->kind = CC_MAP_IDENTITY;
		if (cc_node_is_scalar(fe.v)) {
			/* shorthand: `title: Subject` */
			if (cc_get_str(w, fe, "remote", false, &m->remote_name))
				return CC_EINVAL;
		} else {
			char label[96];
			snprintf(label, sizeof(label), "field %s", cfg->fields[f].name);
			if (cc_walk_map(w, &field_map_section, m, NULL, fe, fr, label, label, (size_t)f))
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
			struct cc_value_entry *entries = cc_arena_alloc(w->a, sf->nusers * sizeof(*entries));
			if (!entries)
				return cc_walk_oom(w);
			for (size_t u = 0; u < sf->nusers; u++) {
				const char **set = cc_arena_alloc(w->a, 2 * sizeof(*set));
				if (!set)
					return cc_walk_oom(w);
				set[0] = sf->users[u].person;
				entries[u] = (struct cc_value_entry){ .remote = sf->users[u].person,
					                              .canonical = set };
			}
			m->kind = CC_MAP_TABLE;
			m->entries = entries;
			m->nentries = sf->nusers;
		}
	}
	if (w->opt && w->opt->check_mapping) {
		char msg[400] = "";
		int bad = -1;
		if (w->opt->check_mapping(w->opt->ctx, cfg, sd, &bad, msg, sizeof(msg))) {
			struct cc_ent fe2 = bad >= 0 ? cc_get(e.v, cfg->fields[bad].name)
			                             : (struct cc_ent){ NULL, NULL };
			return cc_walk_fail(w, fe2.k ? fe2.k : e.k, "system %s: %s", sd->name, msg);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * A system's field: values and ranges.
 */

static int check_values(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row)
{
	struct cc_field_map *m = fr->obj[0];
	if (cc_frame_slot(fr, row->key)->given)
		m->kind = CC_MAP_TABLE;
	return 0;
}

static int check_ranges(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row)
{
	struct cc_field_map *m = fr->obj[0];
	struct cc_slot *sl = cc_frame_slot(fr, row->key);
	if (!sl->given)
		return 0;
	if (cc_frame_slot(fr, "values")->given)
		return cc_walk_fail(w, sl->e.k, "%s has values or ranges, not both",
		                    cc_frame_label(fr));
	m->kind = CC_MAP_RANGE;
	return 0;
}

static bool entry_covers(const struct cc_value_entry *e, const char *v)
{
	for (const char *const *c = e->canonical; c && *c; c++)
		if (strcmp(*c, v) == 0)
			return true;
	return false;
}

/* A list's items are contiguous: the first one, from an item's frame. */
static void *first_item(struct cc_frame *fr, size_t size)
{
	return (char *)fr->obj[0] - fr->index * size;
}

static int check_value_unique(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row)
{
	const struct cc_value_entry *ve = fr->obj[0];
	const struct cc_value_entry *entries = first_item(fr, sizeof(*ve));
	for (size_t j = 0; j < fr->index; j++)
		if (strcmp(entries[j].remote, ve->remote) == 0)
			return cc_walk_fail(w, cc_frame_slot(fr, row->key)->e.v, "%s: remote value '%s' is "
			                    "listed twice", cc_frame_label(fr), ve->remote);
	return 0;
}

#define SET_MAX 64

/* canonical: one value or a list of them (a lossy set), each standing in
 * this remote value only, so that writing to the system is a function. */
static int parse_canonical(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row,
                           struct cc_ent e)
{
	struct cc_value_entry *ve = fr->obj[0];
	const struct cc_value_entry *entries = first_item(fr, sizeof(*ve));
	const char *label = cc_frame_label(fr);
	size_t nc = 1;
	if (cc_node_is_seq(e.v)) {
		nc = cc_node_count(e.v);
		if (nc == 0)
			return cc_walk_fail(w, cc_at(e), "%s: remote value '%s' stands for nothing", label,
			                    ve->remote);
		if (nc > SET_MAX)
			return cc_walk_fail(w, e.v, "%s: a set holds at most %d values", label, SET_MAX);
	}
	const char **set = cc_arena_alloc(w->a, (nc + 1) * sizeof(*set));
	if (!set)
		return cc_walk_oom(w);
	struct fy_node *cnodes[SET_MAX];
	if (cc_node_is_seq(e.v)) {
		void *it = NULL;
		struct fy_node *cn;
		size_t k = 0;
		while ((cn = cc_seq_next(e.v, &it)) && k < nc) {
			cnodes[k] = cn;
			if (cc_get_str(w, (struct cc_ent){ NULL, cn }, "a canonical value", false, &set[k]))
				return CC_EINVAL;
			k++;
		}
	} else {
		cnodes[0] = e.v;
		if (cc_get_str(w, e, row->key, false, &set[0]))
			return CC_EINVAL;
	}
	ve->canonical = set;
	for (size_t k = 0; k < nc; k++) {
		for (size_t j = 0; j < k; j++)
			if (strcmp(set[j], set[k]) == 0)
				return cc_walk_fail(w, cnodes[k], "%s: '%s' is listed twice in the set of '%s'",
				                    label, set[k], ve->remote);
		for (size_t j = 0; j < fr->index; j++)
			if (entry_covers(&entries[j], set[k]))
				return cc_walk_fail(w, cnodes[k], "%s: '%s' already stands in remote value "
				                    "'%s'; a canonical value belongs to one remote value only",
				                    label, set[k], entries[j].remote);
	}
	return 0;
}

static int check_value_default(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row)
{
	const struct cc_value_entry *ve = fr->obj[0];
	if (!ve->dflt || entry_covers(ve, ve->dflt))
		return 0;
	return cc_walk_fail(w, cc_frame_slot(fr, row->key)->e.v, "%s: default '%s' of remote value "
	                    "'%s' is not in its set", cc_frame_label(fr), ve->dflt, ve->remote);
}

/*
 * companions of a value: {canonical field: default remote value, or ~ for
 * none}. Each field is one of this system's fields (the write carries it),
 * not the field of the value itself, and is listed once.
 */
static int parse_companions(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row,
                            struct cc_ent e)
{
	const struct cc_config *cfg = &w->c->engine;
	struct cc_value_entry *ve = fr->obj[0];
	const struct schema *sc = w->schema;
	const char *label = cc_frame_label(fr);
	int self = fr->up ? (int)fr->up->index : -1;
	if (!cc_present(e))
		return 0;
	if (cc_want_map(w, e, row->key))
		return CC_EINVAL;
	size_t n = cc_node_count(e.v);
	struct cc_companion *cps = cc_arena_alloc(w->a, (n ? n : 1) * sizeof(*cps));
	if (!cps)
		return cc_walk_oom(w);
	void *it = NULL;
	struct cc_ent ce;
	size_t i = 0;
	while (i < n && cc_map_next(e.v, &it, &ce)) {
		int g;
		if (field_ref(w, (struct cc_ent){ NULL, ce.k }, "a companion field", &g))
			return CC_EINVAL;
		const char *name = cfg->fields[g].name;
		if (g == self)
			return cc_walk_fail(w, ce.k, "%s: '%s' cannot be a companion of its own value",
			                    label, name);
		if (!sc || !sc->sys_fields || !cc_get(sc->sys_fields, name).k)
			return cc_walk_fail(w, ce.k, "%s: companion '%s' of remote value '%s' is not a "
			                    "field of this system, so no write could carry it", label,
			                    name, ve->remote);
		for (size_t j = 0; j < i; j++)
			if (cps[j].field == g)
				return cc_walk_fail(w, ce.k, "%s: companion '%s' is listed twice", label,
				                    name);
		cps[i] = (struct cc_companion){ .field = g, .dflt = NULL };
		if (cc_node_is_scalar(ce.v)) {
			if (cc_get_str(w, ce, "a companion's default", false, &cps[i].dflt))
				return CC_EINVAL;
		} else if (ce.v && (cc_node_is_map(ce.v) || cc_node_is_seq(ce.v))) {
			return cc_walk_fail(w, ce.v, "%s: the default of companion '%s' is one remote "
			                    "value, or ~ for none", label, name);
		}
		i++;
	}
	ve->companions = cps;
	ve->ncompanions = i;
	return 0;
}

static int check_range_order(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row)
{
	const struct cc_value_range *r = fr->obj[0];
	if (r->to >= r->from)
		return 0;
	return cc_walk_fail(w, cc_frame_slot(fr, row->key)->e.v, "%s: range %ld..%ld ends before "
	                    "it begins", cc_frame_label(fr), r->from, r->to);
}

/* default of a range: the number written for its canonical value when the
 * system's lies outside; `from` unless given, inside the range. Ranges
 * may not overlap, and a canonical value has one range. */
static int parse_range_default(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row,
                               struct cc_ent e)
{
	struct cc_value_range *r = fr->obj[0];
	const struct cc_value_range *ranges = first_item(fr, sizeof(*r));
	const char *label = cc_frame_label(fr);
	int64_t d = r->from;
	if (cc_present(e)) {
		if (cc_get_int(w, e, row->key, LONG_MIN, LONG_MAX, &d))
			return CC_EINVAL;
		if (d < r->from || d > r->to)
			return cc_walk_fail(w, e.v, "%s: default %" PRId64 " lies outside its range "
			                    "%ld..%ld", label, d, r->from, r->to);
	}
	char num[32];
	snprintf(num, sizeof(num), "%" PRId64, d);
	r->dflt = cc_arena_strndup(w->a, num, strlen(num));
	if (!r->dflt)
		return cc_walk_oom(w);
	for (size_t j = 0; j < fr->index; j++) {
		if (r->from <= ranges[j].to && ranges[j].from <= r->to)
			return cc_walk_fail(w, cc_frame_slot(fr, "from")->e.v, "%s: range %ld..%ld "
			                    "overlaps %ld..%ld", label, r->from, r->to, ranges[j].from,
			                    ranges[j].to);
		if (strcmp(ranges[j].canonical, r->canonical) == 0)
			return cc_walk_fail(w, cc_frame_slot(fr, "canonical")->e.v, "%s: '%s' already has "
			                    "the range %ld..%ld", label, r->canonical, ranges[j].from,
			                    ranges[j].to);
	}
	return 0;
}

static int parse_route_field(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row,
                             struct cc_ent e)
{
	struct cc_route_rule *rule = fr->obj[0];
	return field_ref(w, e, row->key, &rule->field);
}

/* ------------------------------------------------------------------------
 * dedup: and outbox:
 */

/* title, caller: a canonical field compared by the duplicate score. */
static int parse_dedup_field(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row,
                             struct cc_ent e)
{
	struct cc_config *cfg = fr->obj[0];
	int *at = (int *)(void *)((char *)cfg + row->offset);
	*at = -1;
	if (!cc_present(e))
		return 0;
	if (strcmp(row->key, "caller") == 0 && !cc_frame_slot(fr, "title")->given)
		return cc_walk_fail(w, e.k, "dedup: caller is compared only with a title field");
	if (field_ref(w, e, row->key, at))
		return CC_EINVAL;
	cfg->fields[*at].dedup_key = true;
	return 0;
}

static int check_review(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row)
{
	const struct cc_config *cfg = fr->obj[0];
	if (cfg->dedup_review_score <= cfg->dedup_link_score)
		return 0;
	struct fy_node *at = cc_frame_slot(fr, row->key)->e.v;
	return cc_walk_fail(w, at ? at : cc_frame_slot(fr, "link_score")->e.v,
	                    "dedup: review_score %d is above link_score %d", cfg->dedup_review_score,
	                    cfg->dedup_link_score);
}

static int check_backoff(struct cc_walk *w, struct cc_frame *fr, const struct cc_row *row)
{
	const struct cc_config *cfg = fr->obj[0];
	if (cfg->backoff_max_ms >= cfg->backoff_base_ms)
		return 0;
	struct fy_node *at = cc_frame_slot(fr, row->key)->e.v;
	return cc_walk_fail(w, at ? at : cc_frame_slot(fr, "backoff_base")->e.v,
	                    "backoff_max must be at least backoff_base");
}

/* ------------------------------------------------------------------------
 * The rows, leaves first.
 */

static const char *const field_types[] = {
	[CC_FT_STRING] = "string", [CC_FT_TEXT] = "text", [CC_FT_ENUM] = "enum",
	[CC_FT_USER] = "user",     [CC_FT_PRIORITY] = "priority", [CC_FT_TIMESTAMP] = "timestamp",
	NULL,
};

static const char *const webhook_auths[] = {
	[CC_WEBHOOK_AUTH_REQUIRED] = "required", [CC_WEBHOOK_AUTH_UNAUTHENTICATED] = "none", NULL
};
static const char *const route_ops[] = { [CC_ROUTE_EQ] = "eq", [CC_ROUTE_NE] = "ne", NULL };

#define V struct cc_value_entry
static const struct cc_row value_rows[] = {
	{ "remote", CC_ROW_STRING, CC_ROW_REQUIRED, NULL, AT(V, remote),
	  .check = check_value_unique, .desc = "the value in this system's own terms" },
	{ "canonical", CC_ROW_CUSTOM, CC_ROW_REQUIRED, NULL, AT(V, canonical),
	  .parse = parse_canonical, .desc = "the canonical value it stands for, or a list (a lossy set)" },
	{ "default", CC_ROW_STRING, 0, NULL, AT(V, dflt), .check = check_value_default,
	  .doc_dflt = "the first of the set",
	  .desc = "the canonical value taken when this remote value changes the case" },
	{ "companions", CC_ROW_CUSTOM, 0, NULL, AT(V, companions), .parse = parse_companions,
	  .doc_dflt = "none",
	  .desc = "fields a write of this value carries: {field: default remote value, or ~}" },
};
#undef V

static const struct cc_section value_section = {
	.what = "a value", .noun = "value", .doc = "**`values`**", ROWS(value_rows),
};

#define R struct cc_value_range
static const struct cc_row range_rows[] = {
	{ "from", CC_ROW_INT, CC_ROW_REQUIRED, NULL, AT(R, from), LONG_MIN, LONG_MAX,
	  .desc = "the first number of the range" },
	{ "to", CC_ROW_INT, CC_ROW_REQUIRED, NULL, AT(R, to), LONG_MIN, LONG_MAX,
	  .check = check_range_order, .desc = "the last number of the range" },
	{ "canonical", CC_ROW_STRING, CC_ROW_REQUIRED, NULL, AT(R, canonical),
	  .desc = "the canonical value every number of the range stands for" },
	{ "default", CC_ROW_CUSTOM, CC_ROW_ALWAYS, NULL, AT(R, dflt), .parse = parse_range_default,
	  .doc_dflt = "`from`", .desc = "the number written for the canonical value" },
};
#undef R

static const struct cc_section range_section = {
	.what = "a range", .noun = "range", .doc = "**`ranges`**", ROWS(range_rows),
};

#define M struct cc_field_map
static const struct cc_row field_map_rows[] = {
	{ "remote", CC_ROW_STRING, CC_ROW_REQUIRED, NULL, AT(M, remote_name),
	  .desc = "this system's name of the field" },
	{ "values", CC_ROW_LIST, 0, NULL, AT(M, entries), .min = 1, .sub = &value_section,
	  .count = offsetof(M, nentries), .elem = sizeof(struct cc_value_entry),
	  .check = check_values, .desc = "a table of values" },
	{ "ranges", CC_ROW_LIST, 0, NULL, AT(M, ranges), .min = 1, .sub = &range_section,
	  .count = offsetof(M, nranges), .elem = sizeof(struct cc_value_range),
	  .check = check_ranges, .desc = "numeric ranges" },
};
#undef M

static const struct cc_section field_map_section = {
	.what = "a field of a system", .noun = "field", .doc = "### `fields` (of a system)",
	ROWS(field_map_rows),
};

#define RR struct cc_route_rule
static const struct cc_row route_rows[] = {
	{ "field", CC_ROW_CUSTOM, CC_ROW_REQUIRED, NULL, AT(RR, field), .parse = parse_route_field,
	  .desc = "a canonical field name" },
	{ "op", CC_ROW_ENUM, 0, "eq", AT(RR, op), .words = route_ops,
	  .desc = "equal or not equal" },
	{ "value", CC_ROW_STRING, CC_ROW_REQUIRED | CC_ROW_EMPTY_OK, NULL, AT(RR, value),
	  .desc = "a canonical value; an unset field compares as ''" },
};
#undef RR

static const struct cc_section route_section = {
	.what = "a route", .noun = "route", .doc = "### `routes`", ROWS(route_rows),
};

#define F struct cc_field_def
static const struct cc_row field_rows[] = {
	{ "name", CC_ROW_NAME, CC_ROW_REQUIRED, NULL, AT(F, name), .check = check_field_unique,
	  .label = "field name", .desc = "the canonical field's name, unique" },
	{ "type", CC_ROW_ENUM, 0, "string", AT(F, type), .words = field_types,
	  .desc = "what the field holds" },
	{ "policy", CC_ROW_CUSTOM, CC_ROW_ALWAYS, "lww", AT(F, policy), .parse = parse_policy,
	  .desc = "how conflicts are decided (core/policy.h)" },
};
#undef F

static const struct cc_section field_section = {
	.what = "a field", .noun = "field", .doc = "## `fields`", ROWS(field_rows),
};

#define S struct cc_system_def
#define SF struct cc_system_file
static const struct cc_row system_rows[] = {
	{ "name", CC_ROW_NAME, CC_ROW_REQUIRED, NULL, AT(S, name), .check = check_system_unique,
	  .label = "system name", .desc = "unique name, used in owners, logs and webhook URLs" },
	{ "kind", CC_ROW_NAME, CC_ROW_REQUIRED, NULL, AT(S, kind), .check = check_kind,
	  .desc = "the connector kind" },
	{ "url", CC_ROW_URL, CC_ROW_ALT, NULL, AT(SF, url), .desc = "the system's API base" },
	{ "token", CC_ROW_SECRET, CC_ROW_ALT, NULL, AT(SF, token),
	  .desc = "the secret concord authenticates with" },
	{ "webhook_secret", CC_ROW_SECRET, CC_ROW_ALT, NULL, AT(SF, webhook_secret),
	  .desc = "webhooks carry X-Concord-Signature: sha256=HMAC-SHA256(body) with it" },
	{ "webhook_token", CC_ROW_SECRET, CC_ROW_ALT, NULL, AT(SF, webhook_token),
	  .check = check_webhook_token,
	  .desc = "webhooks carry Authorization: Bearer with it (senders that cannot sign)" },
	{ "webhook_auth", CC_ROW_ENUM, CC_ROW_ALT, "required", AT(SF, webhook_auth),
	  .words = webhook_auths, .check = check_webhook_auth,
	  .desc = "none: webhooks accepted without authentication" },
	{ "rank", CC_ROW_INT, 0, NULL, AT(S, rank), INT32_MIN, INT32_MAX, .check = check_rank,
	  .doc_dflt = "position in the list (1, 2, ...)",
	  .desc = "breaks exact ties between versions; unique" },
	{ "poll_interval", CC_ROW_DURATION, 0, "60s", AT(S, poll_interval_ms), SECOND, DAY,
	  .desc = "time between incremental polls" },
	{ "poll_overlap", CC_ROW_DURATION, 0, "30s", AT(S, poll_overlap_s), 0, DAY,
	  .land = land_seconds_up, .desc = "how far each poll reaches back before its cursor" },
	{ "search_lag", CC_ROW_DURATION, 0, "5s", AT(S, search_lag_ms), 0, HOUR,
	  .check = check_overlap, .desc = "the longest delay before the system's search shows a change" },
	{ "page_size", CC_ROW_INT, 0, "100", AT(S, page_size), 1, 10000,
	  .desc = "records per poll page" },
	{ "comments", CC_ROW_BOOL, 0, "true", AT(S, comments),
	  .desc = "mirror comments to and from this system" },
	{ "timeout", CC_ROW_DURATION, CC_ROW_ALT | CC_ROW_ZERO_DEFAULT, "30s", AT(SF, timeout_ms),
	  SECOND, 10 * MINUTE, .desc = "the longest one HTTP request may take" },
	{ "rate_limit", CC_ROW_INT, CC_ROW_ALT, "0", AT(SF, rate_per_sec), 0, 100000,
	  .land = land_rate, .doc_dflt = "`0` (none)", .desc = "requests per second (0: no limit)" },
	{ "concurrency", CC_ROW_INT, CC_ROW_ALT | CC_ROW_ZERO_DEFAULT, "4", AT(SF, max_concurrency),
	  1, 16, .desc = "requests in flight at once, and deliveries to different records at once" },
	{ "retry_after_max", CC_ROW_DURATION, CC_ROW_ALT | CC_ROW_ZERO_DEFAULT, "10m",
	  AT(SF, retry_after_max_ms), SECOND, DAY,
	  .desc = "the longest Retry-After (or rate-limit reset) honoured" },
	{ "ca_file", CC_ROW_SOURCED, CC_ROW_ALT, NULL, AT(SF, ca_file),
	  .doc_dflt = "the system's CAs", .desc = "an extra CA bundle for the system's certificate" },
	{ "integration_user", CC_ROW_SOURCED, 0, NULL, AT(S, integration_user),
	  .desc = "the account concord writes as" },
	{ "settings", CC_ROW_CUSTOM, CC_ROW_ALT | CC_ROW_ALWAYS, NULL, AT(SF, settings),
	  .parse = parse_settings, .desc = "connector-specific strings, checked by the connector" },
	{ "users", CC_ROW_CUSTOM, CC_ROW_ALT, NULL, AT(SF, users), .parse = parse_users,
	  .desc = "this system's accounts mapped to canonical persons" },
	{ "routes", CC_ROW_LIST, 0, NULL, AT(S, routes), .sub = &route_section,
	  .count = offsetof(S, nroutes), .elem = sizeof(struct cc_route_rule),
	  .desc = "which cases go to this system" },
	{ "fields", CC_ROW_CUSTOM, CC_ROW_REQUIRED, NULL, AT(S, map),
	  .parse = parse_system_fields, .desc = "canonical fields mapped to this system's fields" },
};
#undef S
#undef SF

static const struct cc_section system_section = {
	.what = "a system", .noun = "system", .doc = "## `systems`", ROWS(system_rows),
};

#define C struct cc_config
static const struct cc_row dedup_rows[] = {
	{ "title", CC_ROW_CUSTOM, CC_ROW_ALWAYS, NULL, AT(C, dedup_title_field),
	  .parse = parse_dedup_field, .desc = "the canonical field compared as a title" },
	{ "caller", CC_ROW_CUSTOM, CC_ROW_ALWAYS, NULL, AT(C, dedup_caller_field),
	  .parse = parse_dedup_field, .desc = "the canonical field compared as the caller" },
	{ "link_score", CC_ROW_INT, 0, "90", AT(C, dedup_link_score), 0, 100,
	  .desc = "score at or above which a record is linked" },
	{ "review_score", CC_ROW_INT, 0, "70", AT(C, dedup_review_score), 0, 100,
	  .check = check_review, .desc = "score at or above which a record is flagged for review" },
	{ "window", CC_ROW_DURATION, 0, "2h", AT(C, dedup_window_ms), 0, 30 * DAY,
	  .desc = "records raised further apart are never linked automatically" },
	{ "close", CC_ROW_DURATION, 0, "2m", AT(C, dedup_close_ms), 0, HOUR,
	  .desc = "records raised this close together with the same first words are linked" },
	{ "close_words", CC_ROW_INT, 0, "5", AT(C, dedup_close_words), 1, 100,
	  .desc = "the first words compared within close" },
};

static const struct cc_section dedup_section = {
	.what = "dedup", .doc = "## `dedup`", ROWS(dedup_rows),
};

static const struct cc_row outbox_rows[] = {
	{ "backoff_base", CC_ROW_DURATION, 0, "1s", AT(C, backoff_base_ms), 100, HOUR,
	  .desc = "the first retry delay; it doubles on each retry" },
	{ "backoff_max", CC_ROW_DURATION, 0, "10m", AT(C, backoff_max_ms), 100, DAY,
	  .check = check_backoff, .desc = "the longest retry delay" },
	{ "dead_letter_after", CC_ROW_DURATION, 0, "24h", AT(C, dead_letter_after_ms), MINUTE,
	  30 * DAY, .desc = "a write retried this long is dead-lettered" },
	{ "breaker_failures", CC_ROW_INT, 0, "5", AT(C, breaker_failures), 1, 1000000,
	  .desc = "consecutive failures that open a system's circuit breaker" },
	{ "breaker_open", CC_ROW_DURATION, 0, "1m", AT(C, breaker_open_ms), SECOND, HOUR,
	  .desc = "how long the breaker stays open" },
};
#undef C

static const struct cc_section outbox_section = {
	.what = "outbox", .doc = "## `outbox`", ROWS(outbox_rows),
};

#define FC struct cc_file_config
static const struct cc_row root_rows[] = {
	{ "store", CC_ROW_CUSTOM, 0, NULL, AT(FC, store), .parse = parse_store,
	  .desc = "the store URL, one of the store backends'" },
	{ "listen", CC_ROW_STRING, 0, CC_DEFAULT_LISTEN, AT(FC, listen), .check = check_listen,
	  .desc = "HOST:PORT of the webhook listener and admin API" },
	{ "listen_public", CC_ROW_BOOL, 0, "false", AT(FC, listen_public), .check = check_loopback,
	  .desc = "allow a listen address that is not loopback" },
	{ "admin_token", CC_ROW_SECRET, 0, NULL, AT(FC, admin_token),
	  .desc = "the secret of the admin API" },
	{ "create_settle", CC_ROW_DURATION, 0, "2m", AT(FC, engine.create_settle_ms), 0, HOUR,
	  .desc = "how long a new record waits for a twin elsewhere" },
	{ "clock_uncertainty", CC_ROW_DURATION, 0, "2s", AT(FC, engine.clock_uncertainty_ms), 0,
	  HOUR, .desc = "edits further apart than this are ordered correctly" },
	{ "fields", CC_ROW_LIST, CC_ROW_REQUIRED | CC_ROW_INLINE, NULL, AT(FC, engine.fields),
	  1, CC_MAX_FIELDS, .sub = &field_section, .count = offsetof(FC, engine.nfields),
	  .elem = sizeof(struct cc_field_def), .desc = "the canonical fields" },
	{ "systems", CC_ROW_LIST, CC_ROW_REQUIRED | CC_ROW_INLINE, NULL, AT(FC, engine.systems),
	  2, CC_MAX_SYSTEMS, .sub = &system_section, .count = offsetof(FC, engine.nsystems),
	  .elem = sizeof(struct cc_system_def), .offset2 = offsetof(FC, system),
	  .elem2 = sizeof(struct cc_system_file), .check = resolve_owners,
	  .desc = "the connected systems" },
	{ "dedup", CC_ROW_MAP, 0, NULL, AT(FC, engine), .sub = &dedup_section,
	  .desc = "the duplicate check" },
	{ "outbox", CC_ROW_MAP, 0, NULL, AT(FC, engine), .sub = &outbox_section,
	  .desc = "retry and circuit-breaker timing" },
};
#undef FC

static const struct cc_section root_section = {
	.what = "the configuration", .doc = "## Top level", ROWS(root_rows),
};

/* In the order of docs/configuration.md. */
static const struct cc_section *const sections[] = {
	&root_section, &field_section, &system_section, &route_section, &field_map_section,
	&value_section, &range_section, &dedup_section, &outbox_section,
};

const struct cc_section *const *cc_config_sections(size_t *n)
{
	*n = sizeof(sections) / sizeof(sections[0]);
	return sections;
}

int cc_schema_walk(struct cc_walk *w)
{
	struct schema *sc = calloc(1, sizeof(*sc));
	if (!sc)
		return cc_walk_oom(w);
	w->schema = sc;
	int rc = cc_walk_map(w, &root_section, w->c, NULL, (struct cc_ent){ NULL, w->root }, NULL,
	                     NULL, NULL, 0);
	w->schema = NULL;
	free(sc);
	return rc;
}
