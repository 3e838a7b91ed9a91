/*
 * The oracle of the deterministic simulator: it judges one run from the true
 * event log alone and says whether the integration kept the promise of
 * DESIGN sections 5 to 7.
 *
 * It deliberately shares no code with the engine. It has its own value
 * tables (a remote value stands for a set of canonical values), its own
 * normalization of free text, and its own reading of the promise:
 *
 *   1. records are grouped by the integration's claims (union-find); a group
 *      holding person-created records of two incidents is a merge;
 *   2. every incident has a record in every system its routing asks for, and
 *      at most one per system;
 *   3. the records of an incident agree on every field, and the agreed value
 *      is one the conflict rule allows (latest edit, within the stated clock
 *      uncertainty; owner rules restrict which edits count);
 *   4. every person comment is present exactly once on every record of its
 *      incident;
 *   5. the integration never writes a field of a record more often than
 *      people changed that field somewhere in the incident (no loops);
 *   6. the integration never pulls a state back to a value the record left
 *      when no person touched the state meanwhile (no oscillation);
 *   7. under the manual rule, a conflict a person saw parked is not written
 *      anywhere in its incident until that person resolved it, and the
 *      resolution is the value every record ends with unless a person
 *      changed the field later (within the uncertainty, either may stand);
 *      a conflict the integration says is still parked at the end is left
 *      out of the verdict (DESIGN section 5: convergence excepts it).
 *
 * Merges, missing records, divergent fields and missing comments mean the
 * run did not converge; the other counters are reported without changing
 * that verdict. first_problem names the first non-convergence found, else
 * the first other problem.
 *
 * Readings of the scenario chosen here where it leaves room:
 *   - a routing value standing for several canonical values (a coarse
 *     value) exempts the incident when any of them is the exempt value;
 *   - a final comment counts for the longest person body it contains, so
 *     that a body that is a substring of another is not counted twice;
 *   - the record holding the original comment must hold it exactly once
 *     too (an echo back to the origin is a duplicate);
 *   - owner rules, when the owner system has no person event of the field:
 *     the values the incident was raised with count, and so do edits made
 *     before the integration first mirrored the incident anywhere (it saw
 *     the new record as one snapshot); any value of that window may stand;
 *   - oscillations: a return to a value is not charged when a person had
 *     chosen that value again no earlier than the clock uncertainty before
 *     the change that made the record leave it (a late delivery corrected,
 *     or a conflict between concurrent edits being decided);
 *   - one integration request is one (system, record, write_id);
 *   - records the log names but gives no final state are not judged on
 *     values or comments; records no claim ties to an incident justify no
 *     write (every write to them is a loop write).
 *
 * Everything is computed over dense record indices built from the log, with
 * compressed adjacency lists (offsets + values) for the relations; nothing
 * here is quadratic in the size of the run except per-incident work.
 */
#include "oracle/oracle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Value tables                                                             */
/* ------------------------------------------------------------------------ */

/* The most canonical values one remote value can stand for (Sentinel Closed). */
#define CSET_MAX 3

/* One remote value and the canonical set it stands for (NULL-padded). */
struct value_map {
	const char *remote;
	const char *canon[CSET_MAX];
};

enum field_type {
	FT_NONE = 0, /* the kind does not carry the field */
	FT_TEXT,     /* free text: title, description */
	FT_USER,     /* identity: a login */
	FT_ENUM,     /* a closed list of remote values, through a value_map */
};

struct field_spec {
	enum field_type type;
	const struct value_map *map; /* FT_ENUM */
	size_t nmap;
	const char *email_domain;    /* FT_USER: remote is "<login>@<domain>" */
};

static const struct value_map snow_state[] = {
	{ "1", { "new" } },      { "2", { "in_progress" } }, { "3", { "on_hold" } },
	{ "6", { "resolved" } }, { "7", { "closed" } },      { "8", { "canceled" } },
};
static const struct value_map snow_priority[] = {
	{ "1", { "critical" } }, { "2", { "high" } },     { "3", { "moderate" } },
	{ "4", { "low" } },      { "5", { "planning" } },
};
static const struct value_map snow_classification[] = {
	{ "Undetermined", { "undetermined" } },
	{ "True positive", { "true_positive" } },
	{ "False positive", { "false_positive" } },
	{ "Benign positive", { "benign_positive" } },
};
static const struct value_map snow_group[] = {
	{ "Network", { "network" } },
	{ "Service Desk", { "service_desk" } },
	{ "Security", { "security" } },
};

static const struct value_map sentinel_state[] = {
	{ "New", { "new" } },
	{ "Active", { "in_progress", "on_hold" } },
	{ "Closed", { "resolved", "closed", "canceled" } },
};
static const struct value_map sentinel_priority[] = {
	{ "High", { "critical", "high" } },
	{ "Medium", { "moderate" } },
	{ "Low", { "low" } },
	{ "Informational", { "planning" } },
};
static const struct value_map sentinel_classification[] = {
	{ "Undetermined", { "undetermined" } },
	{ "TruePositive", { "true_positive" } },
	{ "FalsePositive", { "false_positive" } },
	{ "BenignPositive", { "benign_positive" } },
};

static const struct value_map jira_state[] = {
	{ "To Do", { "new" } },
	{ "In Progress", { "in_progress" } },
	{ "Waiting", { "on_hold" } },
	{ "Done", { "resolved", "closed", "canceled" } },
};
static const struct value_map jira_priority[] = {
	{ "Highest", { "critical" } }, { "High", { "high" } },
	{ "Medium", { "moderate" } },  { "Low", { "low" } },
	{ "Lowest", { "planning" } },
};
static const struct value_map jira_resolution[] = {
	{ "Done", { "true_positive", "undetermined" } },
	{ "Won't Do", { "false_positive", "benign_positive" } },
};
static const struct value_map jira_group[] = {
	{ "Networking", { "network" } },
	{ "Service Desk", { "service_desk" } },
	{ "Security", { "security" } },
};

#define ENUM(table) { FT_ENUM, table, sizeof(table) / sizeof((table)[0]), NULL }
#define TEXT { FT_TEXT, NULL, 0, NULL }
#define USER { FT_USER, NULL, 0, NULL }
#define NKINDS 3

static const struct field_spec kind_fields[NKINDS][SF__COUNT] = {
	[SIM_KIND_SNOW] = {
		[SF_TITLE] = TEXT,
		[SF_DESCRIPTION] = TEXT,
		[SF_STATE] = ENUM(snow_state),
		[SF_PRIORITY] = ENUM(snow_priority),
		[SF_ASSIGNEE] = USER,
		[SF_CALLER] = USER,
		[SF_CLASSIFICATION] = ENUM(snow_classification),
		[SF_GROUP] = ENUM(snow_group),
	},
	[SIM_KIND_SENTINEL] = {
		[SF_TITLE] = TEXT,
		[SF_DESCRIPTION] = TEXT,
		[SF_STATE] = ENUM(sentinel_state),
		[SF_PRIORITY] = ENUM(sentinel_priority),
		[SF_ASSIGNEE] = { FT_USER, NULL, 0, "@corp.example" },
		[SF_CLASSIFICATION] = ENUM(sentinel_classification),
	},
	[SIM_KIND_JIRA] = {
		[SF_TITLE] = TEXT,
		[SF_DESCRIPTION] = TEXT,
		[SF_STATE] = ENUM(jira_state),
		[SF_PRIORITY] = ENUM(jira_priority),
		[SF_ASSIGNEE] = USER,
		[SF_CALLER] = USER,
		[SF_CLASSIFICATION] = ENUM(jira_resolution),
		[SF_GROUP] = ENUM(jira_group),
	},
};

/*
 * The states a kind takes only with its classification field set in the
 * same write (a close code, a classification, a resolution): the scenario's
 * required fields, as the oracle reads them.
 */
static bool needs_classification(int kind, const char *state)
{
	if (!state)
		return false;
	switch (kind) {
	case SIM_KIND_SNOW:
		return !strcmp(state, "6") || !strcmp(state, "7");
	case SIM_KIND_SENTINEL:
		return !strcmp(state, "Closed");
	case SIM_KIND_JIRA:
		return !strcmp(state, "Done");
	default:
		return false;
	}
}

static const char *const kind_names[NKINDS] = { "snow", "sentinel", "jira" };
static const char *const field_names[SF__COUNT] = {
	"title", "description", "state", "priority",
	"assignee", "caller", "classification", "group",
};

/* The spec of a field in a kind, or NULL when the kind does not carry it. */
static const struct field_spec *spec_of(int kind, int field)
{
	if (kind < 0 || kind >= NKINDS || field < 0 || field >= SF__COUNT)
		return NULL;
	const struct field_spec *s = &kind_fields[kind][field];
	return s->type == FT_NONE ? NULL : s;
}

static bool carries(int kind, int field)
{
	return spec_of(kind, field) != NULL;
}

static const char *kind_name(int kind)
{
	return kind >= 0 && kind < NKINDS ? kind_names[kind] : "?";
}

static const char *field_name(int field)
{
	return field >= 0 && field < SF__COUNT ? field_names[field] : "?";
}

/* ------------------------------------------------------------------------ */
/* Canonical sets                                                           */
/* ------------------------------------------------------------------------ */

/*
 * The set of canonical values one remote value stands for. Members point
 * into the static tables, or into `own` (normalized text, unknown values),
 * which the set owns; cset_free releases it.
 */
struct cset {
	size_t n;
	const char *m[CSET_MAX];
	char *own;
};

static void cset_free(struct cset *cs)
{
	free(cs->own);
	cs->own = NULL;
	cs->n = 0;
}

static bool cset_has(const struct cset *cs, const char *v)
{
	for (size_t i = 0; i < cs->n; i++)
		if (strcmp(cs->m[i], v) == 0)
			return true;
	return false;
}

static bool cset_meets(const struct cset *a, const struct cset *b)
{
	for (size_t i = 0; i < a->n; i++)
		if (cset_has(b, a->m[i]))
			return true;
	return false;
}

static bool cset_is_unset(const struct cset *cs)
{
	return cs->n == 1 && cs->m[0][0] == '\0';
}

/*
 * Normalizes free text: CR LF and lone CR become LF, trailing spaces and
 * tabs go from every line, trailing blanks (spaces, tabs, newlines) from the
 * end, and, when strip_leading, leading spaces and tabs. Returns a new
 * string the caller frees, or NULL when out of memory.
 */
static char *normalize_text(const char *s, bool strip_leading)
{
	char *out = malloc(strlen(s) + 1);
	if (!out)
		return NULL;
	if (strip_leading)
		while (*s == ' ' || *s == '\t')
			s++;
	size_t n = 0;
	for (; *s; s++) {
		char c = *s;
		if (c == '\r') {
			c = '\n';
			if (s[1] == '\n')
				s++;
		}
		if (c == '\n')
			while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
				n--;
		out[n++] = c;
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t' || out[n - 1] == '\n'))
		n--;
	out[n] = '\0';
	return out;
}

/* Makes cs the set {"?<v>"}: a value no table knows matches nothing else. */
static int cset_unknown(struct cset *cs, const char *v)
{
	size_t len = strlen(v);
	cs->own = malloc(len + 2);
	if (!cs->own)
		return SIM_ENOMEM;
	cs->own[0] = '?';
	memcpy(cs->own + 1, v, len + 1);
	cs->m[0] = cs->own;
	cs->n = 1;
	return 0;
}

/*
 * The canonical set a remote value of (kind, field) stands for. NULL and ""
 * stand for {""} (unset). Fills *cs (release with cset_free); returns 0, or
 * -1 when out of memory.
 */
static int canon(int kind, int field, const char *remote, struct cset *cs)
{
	memset(cs, 0, sizeof(*cs));
	if (!remote)
		remote = "";
	const struct field_spec *spec = spec_of(kind, field);
	if (!spec)
		return cset_unknown(cs, remote);

	switch (spec->type) {
	case FT_TEXT:
	case FT_USER: {
		bool lead = spec->type == FT_USER || field == SF_TITLE;
		char *norm = normalize_text(remote, lead);
		if (!norm)
			return SIM_ENOMEM;
		if (spec->type == FT_USER && spec->email_domain && norm[0]) {
			size_t len = strlen(norm), dl = strlen(spec->email_domain);
			if (len > dl && strcmp(norm + len - dl, spec->email_domain) == 0) {
				norm[len - dl] = '\0';
			} else {
				int rc = cset_unknown(cs, norm);
				free(norm);
				return rc;
			}
		}
		cs->own = norm;
		cs->m[0] = norm;
		cs->n = 1;
		return 0;
	}
	case FT_ENUM:
		if (remote[0] == '\0') {
			cs->m[0] = "";
			cs->n = 1;
			return 0;
		}
		for (size_t i = 0; i < spec->nmap; i++) {
			if (strcmp(spec->map[i].remote, remote) != 0)
				continue;
			for (size_t k = 0; k < CSET_MAX && spec->map[i].canon[k]; k++)
				cs->m[cs->n++] = spec->map[i].canon[k];
			return 0;
		}
		return cset_unknown(cs, remote);
	case FT_NONE:
		break;
	}
	return cset_unknown(cs, remote);
}

/* ------------------------------------------------------------------------ */
/* Indices over the log                                                     */
/* ------------------------------------------------------------------------ */

struct record {
	int system;
	int record;
	int kind;
	bool person;          /* created by a person (carries a true incident) */
	int64_t incident;     /* person records: the true incident */
	size_t root;          /* union-find root of its claim group */
	const struct sim_final_record *fin; /* its final state, or NULL */
};

/* Adjacency lists: the values of key k are val[off[k] .. off[k + 1]). */
struct csr {
	size_t *off;
	size_t *val;
};

struct pair {
	size_t a, b;
};

/* A claim: the integration says record `rec` belongs to group `key`. */
struct claim {
	uint64_t key;
	size_t rec;
};

/* One applied request of the integration: (system, record, write_id). */
struct write_key {
	int system, record;
	uint64_t write_id;
};

/* A person event that touched the state of a record: when, and which. */
struct touch {
	int64_t t;
	size_t ev;
};

/* Everything one judgement needs; released by judge_free. */
struct judge {
	const struct sim_log *log;
	struct oracle_result *res;
	char first_other[sizeof(((struct oracle_result *)0)->first_problem)];

	uint64_t *keys;        /* sorted (system, record) keys of all records */
	long *slot;            /* direct (system, record) -> index table, or NULL */
	size_t slot_off[SIM_MAX_SYSTEMS];
	int slot_max[SIM_MAX_SYSTEMS];
	struct record *rec;
	size_t nrec;
	long *ev_rec;          /* event index -> record index, or -1 */

	struct csr rec_ev;     /* record -> its events, in log order */
	struct csr comp;       /* root -> records of its claim group */
	struct csr comp_inc;   /* root -> incidents of its claim group */
	struct csr inc_recs;   /* incident -> its records, sorted */
	int64_t *inc_id;       /* incident index -> true incident id */
	size_t ninc;

	/* Scratch, sized once. */
	size_t *scratch_ev;    /* nev */
	struct cset *scratch_cs; /* nrec */
	size_t *mark;          /* nrec: stamp of the last visit */
	size_t stamp;
	int64_t *times;        /* SF__COUNT * nev */
	struct touch *touches; /* nev */
};

static uint64_t rec_key(int system, int record)
{
	return ((uint64_t)(uint32_t)system << 32) | (uint32_t)record;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int cmp_pair(const void *pa, const void *pb)
{
	const struct pair *x = pa, *y = pb;
	if (x->a != y->a)
		return (x->a > y->a) - (x->a < y->a);
	return (x->b > y->b) - (x->b < y->b);
}

static int cmp_claim(const void *pa, const void *pb)
{
	const struct claim *x = pa, *y = pb;
	if (x->key != y->key)
		return (x->key > y->key) - (x->key < y->key);
	return (x->rec > y->rec) - (x->rec < y->rec);
}

static int cmp_write_key(const void *pa, const void *pb)
{
	const struct write_key *x = pa, *y = pb;
	if (x->system != y->system)
		return (x->system > y->system) - (x->system < y->system);
	if (x->record != y->record)
		return (x->record > y->record) - (x->record < y->record);
	return (x->write_id > y->write_id) - (x->write_id < y->write_id);
}

/* The record index of (system, record), or -1 when the log never names it. */
static long find_record(const struct judge *j, int system, int record)
{
	if (j->slot) {
		if (system < 0 || system >= SIM_MAX_SYSTEMS || record < 0 || record > j->slot_max[system])
			return -1;
		return j->slot[j->slot_off[system] + (size_t)record];
	}
	uint64_t k = rec_key(system, record);
	const uint64_t *hit = j->nrec ? bsearch(&k, j->keys, j->nrec, sizeof(k), cmp_u64) : NULL;
	return hit ? (long)(hit - j->keys) : -1;
}

/*
 * Builds adjacency lists from n pairs (key < nkeys, value), keeping the
 * pairs' order within each key (a stable counting sort). Returns 0 or -1.
 */
static int csr_build(struct csr *c, size_t nkeys, const struct pair *p, size_t n)
{
	c->off = calloc(nkeys + 1, sizeof(size_t));
	c->val = malloc((n ? n : 1) * sizeof(size_t));
	if (!c->off || !c->val)
		return SIM_ENOMEM;
	for (size_t i = 0; i < n; i++)
		c->off[p[i].a + 1]++;
	for (size_t k = 0; k < nkeys; k++)
		c->off[k + 1] += c->off[k];
	size_t *fill = malloc((nkeys ? nkeys : 1) * sizeof(size_t));
	if (!fill)
		return SIM_ENOMEM;
	memcpy(fill, c->off, nkeys * sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		c->val[fill[p[i].a]++] = p[i].b;
	free(fill);
	return 0;
}

static void csr_free(struct csr *c)
{
	free(c->off);
	free(c->val);
}

static size_t uf_find(size_t *parent, size_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

static bool valid_system(const struct sim_log *log, int system)
{
	return system >= 0 && (size_t)system < log->nsystems && system < SIM_MAX_SYSTEMS;
}

/* ------------------------------------------------------------------------ */
/* Reporting                                                                */
/* ------------------------------------------------------------------------ */

#if defined(__GNUC__)
#define ORACLE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ORACLE_PRINTF(f, a)
#endif

static bool has_note(const struct judge *j, bool fatal)
{
	return fatal ? j->res->first_problem[0] != '\0' : j->first_other[0] != '\0';
}

/*
 * Remembers the first problem of each class: fatal ones (the run did not
 * converge) win over the others in first_problem. Control characters become
 * spaces so that the description stays on one line.
 */
static void note(struct judge *j, bool fatal, const char *fmt, ...) ORACLE_PRINTF(3, 4);
static void note(struct judge *j, bool fatal, const char *fmt, ...)
{
	char *dst = fatal ? j->res->first_problem : j->first_other;
	if (*dst)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst, sizeof(j->first_other), fmt, ap);
	va_end(ap);
	for (char *p = dst; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
}

/* Appends "sys S (kind) rec R = "value"" to buf, truncating values. */
static void describe_value(char *buf, size_t size, const struct record *r, const char *v)
{
	size_t used = strlen(buf);
	if (used + 1 >= size)
		return;
	snprintf(buf + used, size - used, "%s system %d (%s) record %d = \"%.60s\"",
	         used ? ";" : "", r->system, kind_name(r->kind), r->record, v ? v : "(null)");
}

/* ------------------------------------------------------------------------ */
/* Building the indices                                                     */
/* ------------------------------------------------------------------------ */

static void judge_free(struct judge *j)
{
	free(j->keys);
	free(j->slot);
	free(j->rec);
	free(j->ev_rec);
	csr_free(&j->rec_ev);
	csr_free(&j->comp);
	csr_free(&j->comp_inc);
	csr_free(&j->inc_recs);
	free(j->inc_id);
	free(j->scratch_ev);
	free(j->scratch_cs);
	free(j->mark);
	free(j->times);
	free(j->touches);
}

/* The record the i-th mention names: events first, then final states. */
static void mention(const struct sim_log *log, size_t i, int *sys, int *rec)
{
	if (i < log->nev) {
		*sys = log->ev[i].system;
		*rec = log->ev[i].record;
	} else {
		*sys = log->fin[i - log->nev].system;
		*rec = log->fin[i - log->nev].record;
	}
}

/*
 * Fills j->keys with the sorted, unique (system, record) keys of the log.
 * Records are usually numbered densely from 0 in each system; then a direct
 * table (j->slot) both sorts them and answers find_record in O(1). Otherwise
 * the keys are sorted and looked up by binary search.
 */
static int index_records(struct judge *j)
{
	const struct sim_log *log = j->log;
	size_t cap = log->nev + log->nfin;
	j->keys = malloc((cap ? cap : 1) * sizeof(uint64_t));
	if (!j->keys)
		return SIM_ENOMEM;

	bool dense = true;
	for (int s = 0; s < SIM_MAX_SYSTEMS; s++)
		j->slot_max[s] = -1;
	for (size_t i = 0; i < cap; i++) {
		int sys, rec;
		mention(log, i, &sys, &rec);
		if (!valid_system(log, sys))
			continue;
		if (rec < 0)
			dense = false;
		else if (rec > j->slot_max[sys])
			j->slot_max[sys] = rec;
	}
	size_t span = 0;
	for (int s = 0; s < SIM_MAX_SYSTEMS; s++) {
		j->slot_off[s] = span;
		span += (size_t)(j->slot_max[s] + 1);
	}
	if (dense && span <= 4 * cap + 64) {
		j->slot = malloc((span ? span : 1) * sizeof(long));
		if (!j->slot)
			return SIM_ENOMEM;
		for (size_t k = 0; k < span; k++)
			j->slot[k] = -1;
		for (size_t i = 0; i < cap; i++) {
			int sys, rec;
			mention(log, i, &sys, &rec);
			if (valid_system(log, sys))
				j->slot[j->slot_off[sys] + (size_t)rec] = 0;
		}
		size_t u = 0;
		for (int s = 0; s < SIM_MAX_SYSTEMS; s++)
			for (int rec = 0; rec <= j->slot_max[s]; rec++) {
				long *sl = &j->slot[j->slot_off[s] + (size_t)rec];
				if (*sl < 0)
					continue;
				*sl = (long)u;
				j->keys[u++] = rec_key(s, rec);
			}
		j->nrec = u;
		return 0;
	}

	size_t n = 0;
	for (size_t i = 0; i < cap; i++) {
		int sys, rec;
		mention(log, i, &sys, &rec);
		if (valid_system(log, sys))
			j->keys[n++] = rec_key(sys, rec);
	}
	qsort(j->keys, n, sizeof(uint64_t), cmp_u64);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u == 0 || j->keys[u - 1] != j->keys[i])
			j->keys[u++] = j->keys[i];
	j->nrec = u;
	return 0;
}

/* Dense record indices for every (system, record) the log names. */
static int build_records(struct judge *j)
{
	const struct sim_log *log = j->log;
	if (index_records(j))
		return SIM_ENOMEM;
	size_t u = j->nrec;

	j->rec = calloc(u ? u : 1, sizeof(struct record));
	j->ev_rec = malloc((log->nev ? log->nev : 1) * sizeof(long));
	if (!j->rec || !j->ev_rec)
		return SIM_ENOMEM;
	for (size_t r = 0; r < u; r++) {
		j->rec[r].system = (int)(j->keys[r] >> 32);
		j->rec[r].record = (int)(uint32_t)j->keys[r];
		j->rec[r].kind = (int)log->kinds[j->rec[r].system];
		j->rec[r].root = r;
	}

	/* Events per record, and who created each record. */
	struct pair *p = malloc((log->nev ? log->nev : 1) * sizeof(*p));
	if (!p)
		return SIM_ENOMEM;
	size_t np = 0;
	bool *created = calloc(u ? u : 1, sizeof(bool));
	if (!created) {
		free(p);
		return SIM_ENOMEM;
	}
	for (size_t i = 0; i < log->nev; i++) {
		const struct sim_event *e = &log->ev[i];
		j->ev_rec[i] = valid_system(log, e->system) ? find_record(j, e->system, e->record) : -1;
		if (j->ev_rec[i] < 0)
			continue;
		size_t r = (size_t)j->ev_rec[i];
		p[np++] = (struct pair){ r, i };
		if ((e->kind == SIM_EV_PERSON_CREATE || e->kind == SIM_EV_HUB_CREATE) && !created[r]) {
			created[r] = true;
			if (e->kind == SIM_EV_PERSON_CREATE) {
				j->rec[r].person = true;
				/* A person create without an incident is an incident of its own. */
				j->rec[r].incident = e->incident >= 0 ? e->incident : -1 - (int64_t)r;
			}
		}
	}
	free(created);
	int rc = csr_build(&j->rec_ev, u, p, np);
	free(p);
	if (rc)
		return SIM_ENOMEM;

	for (size_t i = 0; i < log->nfin; i++) {
		if (!valid_system(log, log->fin[i].system))
			continue;
		long r = find_record(j, log->fin[i].system, log->fin[i].record);
		if (r >= 0 && !j->rec[r].fin)
			j->rec[r].fin = &log->fin[i];
	}
	return 0;
}

/* Claim groups (union-find), and the incidents each group holds. */
static int build_groups(struct judge *j)
{
	const struct sim_log *log = j->log;
	size_t n = j->nrec;
	struct claim *claims = malloc((log->nev ? log->nev : 1) * sizeof(*claims));
	size_t *parent = malloc((n ? n : 1) * sizeof(size_t));
	if (!claims || !parent) {
		free(claims);
		free(parent);
		return SIM_ENOMEM;
	}
	for (size_t r = 0; r < n; r++)
		parent[r] = r;
	/* Records claimed with one key belong together: join neighbours by key. */
	size_t nc = 0;
	for (size_t i = 0; i < log->nev; i++)
		if (log->ev[i].kind == SIM_EV_CLAIM && j->ev_rec[i] >= 0)
			claims[nc++] = (struct claim){ log->ev[i].claim, (size_t)j->ev_rec[i] };
	qsort(claims, nc, sizeof(*claims), cmp_claim);
	for (size_t i = 1; i < nc; i++) {
		if (claims[i].key != claims[i - 1].key)
			continue;
		size_t x = uf_find(parent, claims[i - 1].rec), y = uf_find(parent, claims[i].rec);
		if (x < y)
			parent[y] = x;
		else if (y < x)
			parent[x] = y;
	}
	for (size_t r = 0; r < n; r++)
		j->rec[r].root = uf_find(parent, r);
	free(claims);
	free(parent);

	/* root -> members */
	struct pair *p = malloc((n ? n : 1) * sizeof(*p));
	if (!p)
		return SIM_ENOMEM;
	for (size_t r = 0; r < n; r++)
		p[r] = (struct pair){ j->rec[r].root, r };
	int rc = csr_build(&j->comp, n, p, n);
	if (rc) {
		free(p);
		return SIM_ENOMEM;
	}

	/* Incident ids, densely numbered in increasing order. */
	j->inc_id = malloc((n ? n : 1) * sizeof(int64_t));
	if (!j->inc_id) {
		free(p);
		return SIM_ENOMEM;
	}
	size_t ni = 0;
	for (size_t r = 0; r < n; r++)
		if (j->rec[r].person)
			j->inc_id[ni++] = j->rec[r].incident;
	qsort(j->inc_id, ni, sizeof(int64_t), cmp_i64);
	size_t u = 0;
	for (size_t i = 0; i < ni; i++)
		if (u == 0 || j->inc_id[u - 1] != j->inc_id[i])
			j->inc_id[u++] = j->inc_id[i];
	j->ninc = u;

	/* Unique (root, incident) pairs: both directions. */
	size_t np = 0;
	for (size_t r = 0; r < n; r++) {
		if (!j->rec[r].person)
			continue;
		const int64_t *hit = bsearch(&j->rec[r].incident, j->inc_id, u, sizeof(int64_t), cmp_i64);
		p[np++] = (struct pair){ j->rec[r].root, (size_t)(hit - j->inc_id) };
	}
	qsort(p, np, sizeof(*p), cmp_pair);
	size_t nu = 0;
	for (size_t i = 0; i < np; i++)
		if (nu == 0 || cmp_pair(&p[nu - 1], &p[i]) != 0)
			p[nu++] = p[i];
	rc = csr_build(&j->comp_inc, n, p, nu);
	if (rc) {
		free(p);
		return SIM_ENOMEM;
	}

	/* incident -> records: the members of every group holding the incident. */
	struct csr inc_roots = { 0 };
	for (size_t i = 0; i < nu; i++)
		p[i] = (struct pair){ p[i].b, p[i].a };
	rc = csr_build(&inc_roots, u, p, nu);
	free(p);
	if (rc) {
		csr_free(&inc_roots);
		return SIM_ENOMEM;
	}
	size_t total = 0;
	for (size_t i = 0; i < u; i++)
		for (size_t k = inc_roots.off[i]; k < inc_roots.off[i + 1]; k++) {
			size_t root = inc_roots.val[k];
			total += j->comp.off[root + 1] - j->comp.off[root];
		}
	j->inc_recs.off = calloc(u + 1, sizeof(size_t));
	j->inc_recs.val = malloc((total ? total : 1) * sizeof(size_t));
	if (!j->inc_recs.off || !j->inc_recs.val) {
		csr_free(&inc_roots);
		return SIM_ENOMEM;
	}
	size_t w = 0;
	for (size_t i = 0; i < u; i++) {
		j->inc_recs.off[i] = w;
		for (size_t k = inc_roots.off[i]; k < inc_roots.off[i + 1]; k++) {
			size_t root = inc_roots.val[k];
			for (size_t m = j->comp.off[root]; m < j->comp.off[root + 1]; m++)
				j->inc_recs.val[w++] = j->comp.val[m];
		}
		qsort(j->inc_recs.val + j->inc_recs.off[i], w - j->inc_recs.off[i],
		      sizeof(size_t), cmp_size);
	}
	j->inc_recs.off[u] = w;
	csr_free(&inc_roots);
	return 0;
}

static int alloc_scratch(struct judge *j)
{
	size_t nev = j->log->nev ? j->log->nev : 1, nrec = j->nrec ? j->nrec : 1;
	j->scratch_ev = malloc(nev * sizeof(size_t));
	j->scratch_cs = calloc(nrec, sizeof(struct cset));
	j->mark = calloc(nrec, sizeof(size_t));
	j->times = malloc(SF__COUNT * nev * sizeof(int64_t));
	j->touches = malloc(nev * sizeof(*j->touches));
	return j->scratch_ev && j->scratch_cs && j->mark && j->times && j->touches ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* 1, 2: merges, duplicates, missing records                                */
/* ------------------------------------------------------------------------ */

static void check_merges(struct judge *j)
{
	for (size_t root = 0; root < j->nrec; root++) {
		size_t lo = j->comp_inc.off[root], hi = j->comp_inc.off[root + 1];
		if (hi == lo && j->rec[root].root == root) {
			/* Records the integration made that no incident claims: copies
			 * of something (a create retried blindly, say). Each one is a
			 * duplicate. */
			size_t n = j->comp.off[root + 1] - j->comp.off[root];
			j->res->duplicates += n;
			if (n && !has_note(j, false)) {
				const struct record *r = &j->rec[j->comp.val[j->comp.off[root]]];
				note(j, false, "system %d (%s) record %d was made by the integration "
				     "but belongs to no incident", r->system, kind_name(r->kind), r->record);
			}
			continue;
		}
		if (hi - lo < 2)
			continue;
		j->res->merged_incidents++;
		if (has_note(j, true))
			continue;
		/* Name one person record of each of the first two incidents. */
		const struct record *a = NULL, *b = NULL;
		int64_t ia = j->inc_id[j->comp_inc.val[lo]], ib = j->inc_id[j->comp_inc.val[lo + 1]];
		for (size_t m = j->comp.off[root]; m < j->comp.off[root + 1]; m++) {
			const struct record *r = &j->rec[j->comp.val[m]];
			if (r->person && r->incident == ia && !a)
				a = r;
			if (r->person && r->incident == ib && !b)
				b = r;
		}
		if (a && b)
			note(j, true, "incidents %lld and %lld merged: system %d (%s) record %d and "
			     "system %d (%s) record %d are claimed together",
			     (long long)ia, (long long)ib, a->system, kind_name(a->kind), a->record,
			     b->system, kind_name(b->kind), b->record);
	}
}

/*
 * The canonical value of `field` that routes incident i: from the earliest
 * person create of the incident that carries the field. Fills *cs; an
 * incident no create of which carries the field routes as unset ("").
 */
static int routing_value(struct judge *j, size_t i, int field, struct cset *cs)
{
	const struct sim_log *log = j->log;
	const struct sim_event *best = NULL;
	int best_kind = 0;
	for (size_t k = j->inc_recs.off[i]; k < j->inc_recs.off[i + 1]; k++) {
		const struct record *r = &j->rec[j->inc_recs.val[k]];
		size_t ri = j->inc_recs.val[k];
		for (size_t m = j->rec_ev.off[ri]; m < j->rec_ev.off[ri + 1]; m++) {
			const struct sim_event *e = &log->ev[j->rec_ev.val[m]];
			if (e->kind != SIM_EV_PERSON_CREATE || !e->values[field] || !carries(r->kind, field))
				continue;
			/* Log order breaks ties in time: events are appended in true time. */
			if (!best || e->t_ms < best->t_ms || (e->t_ms == best->t_ms && e < best)) {
				best = e;
				best_kind = r->kind;
			}
		}
	}
	return canon(best_kind, field, best ? best->values[field] : "", cs);
}

static int check_presence(struct judge *j)
{
	const struct sim_log *log = j->log;
	for (size_t i = 0; i < j->ninc; i++) {
		size_t count[SIM_MAX_SYSTEMS] = { 0 };
		for (size_t k = j->inc_recs.off[i]; k < j->inc_recs.off[i + 1]; k++)
			count[j->rec[j->inc_recs.val[k]].system]++;
		long long inc = (long long)j->inc_id[i];

		for (size_t s = 0; s < log->nsystems && s < SIM_MAX_SYSTEMS; s++) {
			if (count[s] > 1) {
				j->res->duplicates += count[s] - 1;
				note(j, false, "incident %lld has %zu records in system %zu (%s)",
				     inc, count[s], s, kind_name((int)log->kinds[s]));
			}
			if (count[s] > 0)
				continue;
			int rf = log->route_field[s];
			if (rf >= 0 && rf < SF__COUNT && log->route_unless[s]) {
				struct cset cs;
				if (routing_value(j, i, rf, &cs))
					return SIM_ENOMEM;
				/*
				 * A coarse value standing for several canonical values
				 * exempts the incident when any of them does: the oracle
				 * cannot know which one the integration took.
				 */
				bool exempt = cset_has(&cs, log->route_unless[s]);
				cset_free(&cs);
				if (exempt)
					continue;
			}
			j->res->missing_records++;
			note(j, true, "incident %lld has no record in system %zu (%s)",
			     inc, s, kind_name((int)log->kinds[s]));
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* 3: fields                                                                */
/* ------------------------------------------------------------------------ */

/* The value a person event gives to `field`. */
static const char *person_value(const struct sim_event *e, int field)
{
	return e->kind == SIM_EV_PERSON_CREATE ? e->values[field] : e->value;
}

/*
 * The set a value in canonical terms stands for (a resolution's): itself,
 * free text and logins in their normal form. Fills *cs (cset_free); 0 or -1.
 */
static int canon_canonical(int field, const char *v, struct cset *cs)
{
	memset(cs, 0, sizeof(*cs));
	const struct field_spec *spec = NULL;
	for (int k = 0; k < NKINDS && !spec; k++)
		spec = spec_of(k, field);
	if (!v)
		v = "";
	if (spec && spec->type != FT_ENUM) {
		char *norm = normalize_text(v, spec->type == FT_USER || field == SF_TITLE);
		if (!norm)
			return SIM_ENOMEM;
		cs->own = norm;
		v = norm;
	}
	cs->m[0] = v;
	cs->n = 1;
	return 0;
}

/*
 * Whether record r's final value of field f is judged: its kind carries
 * the field, and holds it in the record's final state (a Jira-like issue
 * holds a resolution only while Done).
 */
static bool holds_final(const struct record *r, int f)
{
	if (!carries(r->kind, f))
		return false;
	return !(r->kind == SIM_KIND_JIRA && f == SF_CLASSIFICATION && r->fin &&
	         !needs_classification(r->kind, r->fin->values[SF_STATE]));
}

/*
 * Whether a person create gave field f a value: not when the kind does not
 * carry it, nor when the kind holds it only in states that need it (a
 * Jira-like resolution) and the record was raised without one.
 */
static bool raised_with(int kind, const struct sim_event *e, int f)
{
	if (!e->values[f])
		return false;
	return !(kind == SIM_KIND_JIRA && f == SF_CLASSIFICATION && !e->values[f][0] &&
	         !needs_classification(kind, e->values[SF_STATE]));
}

/*
 * Whether the hub write of the classification field at rec_ev position m
 * of record ri went with a write of a state that needs it, or out of one
 * (the same request, write_id), or clears it on a record whose state needs
 * none: a companion set, or a default cleared once the record left the
 * state, which the state change justifies.
 */
static bool companion_write(const struct judge *j, size_t ri, size_t m, int kind)
{
	const struct sim_log *log = j->log;
	const struct sim_event *c = &log->ev[j->rec_ev.val[m]];
	if (!c->value || !c->value[0]) {
		/* a clear on a record whose state needs none: the default goes */
		const char *state = NULL;
		for (size_t q = j->rec_ev.off[ri]; q < m; q++) {
			const struct sim_event *e = &log->ev[j->rec_ev.val[q]];
			if (e->kind == SIM_EV_PERSON_CREATE || e->kind == SIM_EV_HUB_CREATE)
				state = e->values[SF_STATE];
			else if ((e->kind == SIM_EV_PERSON_EDIT || e->kind == SIM_EV_HUB_WRITE) &&
			         e->field == SF_STATE)
				state = e->value;
		}
		if (!needs_classification(kind, state))
			return true;
	}
	for (size_t q = j->rec_ev.off[ri]; q < j->rec_ev.off[ri + 1]; q++) {
		const struct sim_event *e = &log->ev[j->rec_ev.val[q]];
		if (e->kind == SIM_EV_HUB_WRITE && e->write_id == c->write_id &&
		    e->field == SF_STATE &&
		    (needs_classification(kind, e->value) || needs_classification(kind, e->old_value)))
			return true;
	}
	return false;
}

/*
 * Whether record ri's final value of field f is the one a companion gave
 * it: the last event that set f is the integration's create of the record
 * in a state that needs f, or a companion write.
 */
static bool final_by_companion(const struct judge *j, size_t ri, int f)
{
	const struct sim_log *log = j->log;
	const struct record *r = &j->rec[ri];
	if (f != SF_CLASSIFICATION || !r->fin || !r->fin->values[f] || !r->fin->values[f][0])
		return false;
	bool by = false;
	for (size_t m = j->rec_ev.off[ri]; m < j->rec_ev.off[ri + 1]; m++) {
		const struct sim_event *e = &log->ev[j->rec_ev.val[m]];
		if (e->kind == SIM_EV_PERSON_CREATE || e->kind == SIM_EV_HUB_CREATE) {
			by = e->kind == SIM_EV_HUB_CREATE && e->values[f] && e->values[f][0] &&
			     needs_classification(r->kind, e->values[SF_STATE]);
		} else if ((e->kind == SIM_EV_PERSON_EDIT || e->kind == SIM_EV_HUB_WRITE) &&
		           e->field == f && e->value && e->value[0]) {
			by = e->kind == SIM_EV_HUB_WRITE && companion_write(j, ri, m, r->kind);
		}
	}
	return by;
}

/* The set a person event (a create, an edit or a resolution) gives to `field`. */
static int person_set(const struct judge *j, const struct sim_event *e, int field,
                      struct cset *cs)
{
	if (e->kind == SIM_EV_PERSON_RESOLVE)
		return canon_canonical(field, e->value, cs);
	return canon((int)j->log->kinds[e->system], field, person_value(e, field), cs);
}

/*
 * Rule 7's first half: the integration's writes of field f to the records
 * of incident i while a person had the conflict in the queue, from the
 * moment that person saw it (SIM_EV_PARK_SEEN) to the resolution of that
 * sighting, or to the end when there is none. Counted in parked_writes.
 */
static void check_parked_writes(struct judge *j, size_t i, int f)
{
	const struct sim_log *log = j->log;
	const size_t *recs = j->inc_recs.val + j->inc_recs.off[i];
	size_t nrecs = j->inc_recs.off[i + 1] - j->inc_recs.off[i];
	for (size_t a = 0; a < nrecs; a++)
		for (size_t m = j->rec_ev.off[recs[a]]; m < j->rec_ev.off[recs[a] + 1]; m++) {
			const struct sim_event *s = &log->ev[j->rec_ev.val[m]];
			if (s->kind != SIM_EV_PARK_SEEN || s->field != f)
				continue;
			int64_t until = INT64_MAX;
			for (size_t b = 0; b < nrecs; b++)
				for (size_t q = j->rec_ev.off[recs[b]]; q < j->rec_ev.off[recs[b] + 1]; q++) {
					const struct sim_event *r = &log->ev[j->rec_ev.val[q]];
					if (r->kind == SIM_EV_PERSON_RESOLVE && r->field == f &&
					    r->since_ms == s->t_ms && r->t_ms < until)
						until = r->t_ms;
				}
			for (size_t b = 0; b < nrecs; b++) {
				const struct record *w = &j->rec[recs[b]];
				for (size_t q = j->rec_ev.off[recs[b]]; q < j->rec_ev.off[recs[b] + 1]; q++) {
					const struct sim_event *e = &log->ev[j->rec_ev.val[q]];
					if (e->kind != SIM_EV_HUB_WRITE || e->field != f || e->t_ms < s->t_ms ||
					    e->t_ms >= until)
						continue;
					j->res->parked_writes++;
					note(j, false, "incident %lld: field %s written in system %d (%s) record "
					     "%d at t=%lld ms while parked for a person (seen at t=%lld ms)",
					     (long long)j->inc_id[i], field_name(f), w->system,
					     kind_name(w->kind), w->record, (long long)e->t_ms,
					     (long long)s->t_ms);
				}
			}
		}
}

static int check_field(struct judge *j, size_t i, int f)
{
	const struct sim_log *log = j->log;
	const size_t *recs = j->inc_recs.val + j->inc_recs.off[i];
	size_t nrecs = j->inc_recs.off[i + 1] - j->inc_recs.off[i];
	enum sim_rule rule = log->rules[f];
	int owner = log->owner[f];
	long long inc = (long long)j->inc_id[i];

	/* Manual: the latest resolution, and whether a conflict is left parked. */
	size_t resolution = SIZE_MAX;
	if (rule == SIM_RULE_MANUAL) {
		bool parked_at_end = false;
		check_parked_writes(j, i, f);
		for (size_t k = 0; k < nrecs; k++)
			for (size_t m = j->rec_ev.off[recs[k]]; m < j->rec_ev.off[recs[k] + 1]; m++) {
				const struct sim_event *e = &log->ev[j->rec_ev.val[m]];
				if (e->field != f)
					continue;
				if (e->kind == SIM_EV_PARKED_AT_END)
					parked_at_end = true;
				if (e->kind == SIM_EV_PERSON_RESOLVE &&
				    (resolution == SIZE_MAX || e->t_ms >= log->ev[resolution].t_ms))
					resolution = j->rec_ev.val[m];
			}
		if (parked_at_end)
			return 0; /* still waiting for a person: not judged */
	}

	/* P: the person events that gave the field a value, in any record. */
	size_t *P = j->scratch_ev, np = 0;
	bool owner_has = false;
	int64_t first_mirror = INT64_MAX; /* the integration's first create for it */
	for (size_t k = 0; k < nrecs; k++) {
		const struct record *r = &j->rec[recs[k]];
		for (size_t m = j->rec_ev.off[recs[k]]; m < j->rec_ev.off[recs[k] + 1]; m++) {
			const struct sim_event *e = &log->ev[j->rec_ev.val[m]];
			if (e->kind == SIM_EV_HUB_CREATE && e->t_ms < first_mirror)
				first_mirror = e->t_ms;
			bool in = (e->kind == SIM_EV_PERSON_CREATE && raised_with(r->kind, e, f)) ||
			          (e->kind == SIM_EV_PERSON_EDIT && e->field == f);
			if (!in || !carries(r->kind, f))
				continue;
			P[np++] = j->rec_ev.val[m];
			if (e->system == owner)
				owner_has = true;
		}
	}
	/*
	 * Owner rules: only the owner's events count. Without any, the value the
	 * incident was raised with: the creates, and the edits made before the
	 * integration first mirrored the incident anywhere. The integration
	 * sees a new record as one snapshot, so it cannot tell an edit made
	 * before it first looked from the value the record was raised with;
	 * every value of that window is allowed, not only the latest.
	 */
	bool whole_window = false;
	if (resolution != SIZE_MAX) {
		/* What a person decided stands, but for changes made after it
		 * (within the uncertainty before it, either may stand). */
		int64_t from = log->ev[resolution].t_ms - log->uncertainty_ms;
		size_t w = 0;
		for (size_t k = 0; k < np; k++)
			if (log->ev[P[k]].t_ms >= from)
				P[w++] = P[k];
		np = w;
		P[np++] = resolution;
	}
	if (rule == SIM_RULE_OWNER_REVERT || rule == SIM_RULE_OWNER_IGNORE) {
		size_t w = 0;
		for (size_t k = 0; k < np; k++) {
			const struct sim_event *e = &log->ev[P[k]];
			bool keep = owner_has ? e->system == owner
			                      : e->kind == SIM_EV_PERSON_CREATE || e->t_ms < first_mirror;
			if (keep)
				P[w++] = P[k];
		}
		np = w;
		whole_window = !owner_has;
	}

	/* Whether a record of the incident was raised without a value of f. */
	bool raised_without = false;
	for (size_t k = 0; k < nrecs && !raised_without; k++)
		for (size_t m = j->rec_ev.off[recs[k]]; m < j->rec_ev.off[recs[k] + 1]; m++) {
			const struct sim_event *e = &log->ev[j->rec_ev.val[m]];
			if (e->kind == SIM_EV_PERSON_CREATE && !raised_with(j->rec[recs[k]].kind, e, f))
				raised_without = true;
		}

	/* The final values to judge, in canonical terms. A value a companion
	 * gave (a state's default) stands when no person's value counts, or
	 * when, under an owner the owner never spoke to, the incident may keep
	 * the value it was raised without. */
	bool default_stands = np == 0 || (whole_window && raised_without);
	struct cset *fin = j->scratch_cs;
	size_t nf = 0;
	int rc = -1;
	for (size_t k = 0; k < nrecs; k++) {
		const struct record *r = &j->rec[recs[k]];
		if (!r->fin || !holds_final(r, f))
			continue;
		if (rule == SIM_RULE_OWNER_IGNORE && r->system != owner)
			continue;
		if (default_stands && final_by_companion(j, recs[k], f))
			continue; /* no person chose one: the state's default stands */
		if (canon(r->kind, f, r->fin->values[f], &fin[nf]))
			goto out;
		nf++;
	}
	rc = 0;
	if (nf == 0)
		goto out;

	/* Intersection of the final sets: members of the first in all others. */
	struct cset inter = { 0 };
	for (size_t a = 0; a < fin[0].n; a++) {
		bool all = true;
		for (size_t k = 1; k < nf && all; k++)
			all = cset_has(&fin[k], fin[0].m[a]);
		if (all)
			inter.m[inter.n++] = fin[0].m[a];
	}

	bool divergent = inter.n == 0;
	if (np == 0)
		for (size_t k = 0; k < nf; k++)
			if (!cset_is_unset(&fin[k]))
				divergent = true;
	if (divergent) {
		j->res->divergent_fields++;
		if (!has_note(j, true)) {
			char vals[400] = "";
			for (size_t k = 0; k < nrecs; k++) {
				const struct record *r = &j->rec[recs[k]];
				if (!r->fin || !holds_final(r, f) ||
				    (rule == SIM_RULE_OWNER_IGNORE && r->system != owner))
					continue;
				describe_value(vals, sizeof(vals), r, r->fin->values[f] ? r->fin->values[f] : "");
			}
			note(j, true, "incident %lld: field %s %s:%s", inc, field_name(f),
			     np ? "diverges" : "was never set by a person but is not empty", vals);
		}
		goto out;
	}
	if (np == 0)
		goto out;

	/* The allowed values: the chosen events within the uncertainty of the latest. */
	int64_t tmax = log->ev[P[0]].t_ms;
	size_t latest = P[0];
	for (size_t k = 1; k < np; k++)
		if (log->ev[P[k]].t_ms >= tmax) {
			tmax = log->ev[P[k]].t_ms;
			latest = P[k];
		}
	bool allowed = false;
	for (size_t k = 0; k < np && !allowed; k++) {
		const struct sim_event *e = &log->ev[P[k]];
		if (!whole_window && e->t_ms < tmax - log->uncertainty_ms)
			continue;
		struct cset cs;
		if (person_set(j, e, f, &cs)) {
			rc = -1;
			goto out;
		}
		allowed = cset_meets(&inter, &cs);
		cset_free(&cs);
	}
	/* Under an owner rule the owner never spoke to: an incident raised in a
	 * system without the field may keep it unset. */
	if (!allowed && whole_window && cset_has(&inter, "") && raised_without)
		allowed = true;
	if (!allowed) {
		j->res->lost_updates++;
		if (!has_note(j, false)) {
			const struct sim_event *e = &log->ev[latest];
			const struct record *r0 = NULL;
			for (size_t k = 0; k < nrecs && !r0; k++) {
				const struct record *r = &j->rec[recs[k]];
				if (r->fin && holds_final(r, f) &&
				    !(rule == SIM_RULE_OWNER_IGNORE && r->system != owner))
					r0 = r;
			}
			note(j, false, "incident %lld: lost update of field %s: final value \"%.60s\" in "
			     "system %d (%s) record %d, but the latest person change that counts "
			     "(t=%lld ms, system %d record %d) set \"%.60s\"",
			     inc, field_name(f), r0 && r0->fin->values[f] ? r0->fin->values[f] : "",
			     r0 ? r0->system : -1, r0 ? kind_name(r0->kind) : "?", r0 ? r0->record : -1,
			     (long long)e->t_ms, e->system, e->record,
			     person_value(e, f) ? person_value(e, f) : "");
		}
	}
out:
	for (size_t k = 0; k < nf; k++)
		cset_free(&fin[k]);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* 4: comments                                                              */
/* ------------------------------------------------------------------------ */

/*
 * Every person comment of the incident must be on every record of it
 * exactly once (the original on its own record, a mirror elsewhere). Each
 * final comment counts for the longest person body it contains, so that a
 * body that happens to be a substring of another ("c1" in "c12") is not
 * miscounted.
 */
static int check_comments(struct judge *j, size_t i)
{
	const struct sim_log *log = j->log;
	const size_t *recs = j->inc_recs.val + j->inc_recs.off[i];
	size_t nrecs = j->inc_recs.off[i + 1] - j->inc_recs.off[i];

	size_t *bodies = j->scratch_ev, nb = 0;
	for (size_t k = 0; k < nrecs; k++)
		for (size_t m = j->rec_ev.off[recs[k]]; m < j->rec_ev.off[recs[k] + 1]; m++) {
			const struct sim_event *e = &log->ev[j->rec_ev.val[m]];
			if (e->kind == SIM_EV_PERSON_COMMENT && e->value && e->value[0])
				bodies[nb++] = j->rec_ev.val[m];
		}
	if (nb == 0)
		return 0;
	size_t *count = malloc(nb * sizeof(size_t));
	size_t *len = malloc(nb * sizeof(size_t));
	if (!count || !len) {
		free(count);
		free(len);
		return SIM_ENOMEM;
	}
	for (size_t b = 0; b < nb; b++)
		len[b] = strlen(log->ev[bodies[b]].value);

	for (size_t k = 0; k < nrecs; k++) {
		const struct record *r = &j->rec[recs[k]];
		if (!r->fin)
			continue;
		memset(count, 0, nb * sizeof(size_t));
		for (size_t c = 0; c < r->fin->ncomments; c++) {
			const char *text = r->fin->comments[c];
			size_t best = nb;
			for (size_t b = 0; text && b < nb; b++)
				if ((best == nb || len[b] > len[best]) && strstr(text, log->ev[bodies[b]].value))
					best = b;
			if (best < nb)
				count[best]++;
		}
		for (size_t b = 0; b < nb; b++) {
			const struct sim_event *e = &log->ev[bodies[b]];
			if (count[b] == 0) {
				j->res->missing_comments++;
				note(j, true, "incident %lld: comment \"%.60s\" (from system %d record %d) "
				     "is missing in system %d (%s) record %d",
				     (long long)j->inc_id[i], e->value, e->system, e->record,
				     r->system, kind_name(r->kind), r->record);
			} else if (count[b] > 1) {
				j->res->duplicate_comments += count[b] - 1;
				note(j, false, "incident %lld: comment \"%.60s\" (from system %d record %d) "
				     "is %zu times in system %d (%s) record %d",
				     (long long)j->inc_id[i], e->value, e->system, e->record, count[b],
				     r->system, kind_name(r->kind), r->record);
			}
		}
	}
	free(count);
	free(len);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* 5, 6: loop writes and oscillations                                       */
/* ------------------------------------------------------------------------ */

/* How many of the sorted times t[0..n) are <= x. */
static size_t count_upto(const int64_t *t, size_t n, int64_t x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int cmp_touch(const void *pa, const void *pb)
{
	const struct touch *x = pa, *y = pb;
	if (x->t != y->t)
		return (x->t > y->t) - (x->t < y->t);
	return (x->ev > y->ev) - (x->ev < y->ev);
}

/* How many of the sorted touches p[0..n) happened at or before x. */
static size_t touches_upto(const struct touch *p, size_t n, int64_t x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p[mid].t <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Whether the state a person event set meets `value` (a state in `kind`'s terms). */
static int touch_meets(const struct judge *j, const struct touch *p, int kind, const char *value,
                       bool *meets)
{
	const struct sim_event *e = &j->log->ev[p->ev];
	struct cset a, b;
	if (canon((int)j->log->kinds[e->system], SF_STATE, person_value(e, SF_STATE), &a))
		return SIM_ENOMEM;
	if (canon(kind, SF_STATE, value, &b)) {
		cset_free(&a);
		return SIM_ENOMEM;
	}
	*meets = cset_meets(&a, &b);
	cset_free(&a);
	cset_free(&b);
	return 0;
}

/*
 * When the person change that a hub write of state `value` carries was
 * made: the latest person state event at or before t whose value meets it.
 * Fills *cause with t when there is none.
 */
static int write_cause(const struct judge *j, const struct touch *p, size_t n, int kind,
                       const char *value, int64_t t, int64_t *cause)
{
	*cause = t;
	for (size_t q = touches_upto(p, n, t); q-- > 0;) {
		bool meets;
		if (touch_meets(j, &p[q], kind, value, &meets))
			return SIM_ENOMEM;
		if (meets) {
			*cause = p[q].t;
			break;
		}
	}
	return 0;
}

/* Whether a person chose state `value` (in `kind`'s terms) in (from, to]. */
static int chosen_between(const struct judge *j, const struct touch *p, size_t n, int kind,
                          const char *value, int64_t from, int64_t to, bool *chosen)
{
	*chosen = false;
	for (size_t q = touches_upto(p, n, from); q < n && p[q].t <= to && !*chosen; q++)
		if (touch_meets(j, &p[q], kind, value, chosen))
			return SIM_ENOMEM;
	return 0;
}

/*
 * A value a record held, the last time it changed away from it, and when
 * the person change that the leaving carried was made (t_cause <= t_left).
 */
struct left_value {
	const char *value;
	int64_t t_left;
	int64_t t_cause;
};

/* Records that `value` was left at time t, carrying a change made at cause. */
static void leave(struct left_value *lv, size_t *n, const char *value, int64_t t, int64_t cause)
{
	size_t k = 0;
	while (k < *n && strcmp(lv[k].value, value) != 0)
		k++;
	if (k == *n)
		(*n)++;
	lv[k] = (struct left_value){ value, t, cause };
}

/*
 * Whether a hub write at t that sets a record's state back to the value
 * `left` describes is an oscillation. It is not when a person touched the
 * state of the incident since the record left the value. Nor is it when a
 * person had chosen the value again no earlier than the clock uncertainty
 * before the change that the leaving carried: either the leaving was
 * already outdated when made (a late delivery) and the return corrects it,
 * or the two choices were concurrent and the return is the conflict being
 * decided, which the promise allows either way.
 */
static int is_oscillation(const struct judge *j, const struct touch *p, size_t n, int kind,
                          const struct left_value *left, int64_t t, bool *osc)
{
	*osc = false;
	if (touches_upto(p, n, t) > touches_upto(p, n, left->t_left))
		return 0;
	bool chosen;
	int64_t from = left->t_cause - j->log->uncertainty_ms - 1;
	if (chosen_between(j, p, n, kind, left->value, from, left->t_left, &chosen))
		return SIM_ENOMEM;
	*osc = !chosen;
	return 0;
}

/*
 * Judges the integration's writes to the records of one claim group. The
 * person events that justify them are those of every record of every
 * incident the group holds (an unclaimed record justifies nothing).
 */
static int check_writes(struct judge *j, size_t root)
{
	const struct sim_log *log = j->log;
	size_t nev = log->nev;
	int64_t *times[SF__COUNT];
	size_t ntimes[SF__COUNT] = { 0 };
	for (int f = 0; f < SF__COUNT; f++)
		times[f] = j->times + (size_t)f * nev;
	struct touch *touch = j->touches; /* person events on a state */
	size_t ntouch = 0;

	/* Gather the person events of the related records, once each. */
	j->stamp++;
	for (size_t c = j->comp_inc.off[root]; c < j->comp_inc.off[root + 1]; c++) {
		size_t i = j->comp_inc.val[c];
		for (size_t k = j->inc_recs.off[i]; k < j->inc_recs.off[i + 1]; k++) {
			size_t ri = j->inc_recs.val[k];
			if (j->mark[ri] == j->stamp)
				continue;
			j->mark[ri] = j->stamp;
			for (size_t m = j->rec_ev.off[ri]; m < j->rec_ev.off[ri + 1]; m++) {
				size_t ei = j->rec_ev.val[m];
				const struct sim_event *e = &log->ev[ei];
				if (e->kind == SIM_EV_PERSON_CREATE) {
					for (int f = 0; f < SF__COUNT; f++)
						if (e->values[f] && e->values[f][0])
							times[f][ntimes[f]++] = e->t_ms;
					if (e->values[SF_STATE])
						touch[ntouch++] = (struct touch){ e->t_ms, ei };
				} else if ((e->kind == SIM_EV_PERSON_EDIT || e->kind == SIM_EV_PERSON_RESOLVE) &&
				           e->field >= 0 && e->field < SF__COUNT) {
					times[e->field][ntimes[e->field]++] = e->t_ms;
					if (e->field == SF_STATE)
						touch[ntouch++] = (struct touch){ e->t_ms, ei };
				}
			}
		}
	}
	for (int f = 0; f < SF__COUNT; f++)
		qsort(times[f], ntimes[f], sizeof(int64_t), cmp_i64);
	qsort(touch, ntouch, sizeof(*touch), cmp_touch);

	for (size_t c = j->comp.off[root]; c < j->comp.off[root + 1]; c++) {
		size_t ri = j->comp.val[c];
		const struct record *r = &j->rec[ri];
		size_t lo = j->rec_ev.off[ri], hi = j->rec_ev.off[ri + 1];
		size_t writes[SF__COUNT] = { 0 };
		struct left_value *lv = calloc(hi - lo + 1, sizeof(*lv));
		if (!lv)
			return SIM_ENOMEM;
		size_t nlv = 0;
		const char *state = NULL;
		int rc = 0;

		for (size_t m = lo; m < hi && rc == 0; m++) {
			const struct sim_event *e = &log->ev[j->rec_ev.val[m]];
			if (e->kind == SIM_EV_PERSON_CREATE || e->kind == SIM_EV_HUB_CREATE) {
				state = e->values[SF_STATE];
				continue;
			}
			if (e->kind != SIM_EV_PERSON_EDIT && e->kind != SIM_EV_HUB_WRITE)
				continue;
			if (e->field < 0 || e->field >= SF__COUNT)
				continue;
			bool hub = e->kind == SIM_EV_HUB_WRITE;
			if (hub && e->field == SF_CLASSIFICATION && companion_write(j, ri, m, r->kind))
				continue; /* justified by the state it goes with */
			if (hub) {
				size_t k = ++writes[e->field];
				size_t justified = count_upto(times[e->field], ntimes[e->field], e->t_ms);
				if (k > justified) {
					j->res->loop_writes++;
					note(j, false, "loop write: system %d (%s) record %d field %s written "
					     "%zu times at t=%lld ms, but people changed it %zu times",
					     r->system, kind_name(r->kind), r->record, field_name(e->field),
					     k, (long long)e->t_ms, justified);
				}
			}
			if (e->field != SF_STATE)
				continue;

			const char *old = state ? state : (e->old_value ? e->old_value : "");
			const char *now = e->value ? e->value : "";
			if (strcmp(old, now) == 0)
				continue;
			int64_t cause = e->t_ms;
			if (hub) {
				for (size_t k = 0; k < nlv; k++) {
					if (strcmp(lv[k].value, now) != 0)
						continue;
					bool osc;
					rc = is_oscillation(j, touch, ntouch, r->kind, &lv[k], e->t_ms, &osc);
					if (rc == 0 && osc) {
						j->res->oscillations++;
						note(j, false, "oscillation: system %d (%s) record %d state set back "
						     "to \"%.40s\" at t=%lld ms (left at t=%lld ms, no person "
						     "touched the state since)",
						     r->system, kind_name(r->kind), r->record, now,
						     (long long)e->t_ms, (long long)lv[k].t_left);
					}
					break;
				}
				if (rc == 0)
					rc = write_cause(j, touch, ntouch, r->kind, now, e->t_ms, &cause);
			}
			leave(lv, &nlv, old, e->t_ms, cause);
			state = now;
		}
		free(lv);
		if (rc)
			return SIM_ENOMEM;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* 7: cost                                                                  */
/* ------------------------------------------------------------------------ */

static int count_cost(struct judge *j)
{
	const struct sim_log *log = j->log;
	struct write_key *w = malloc((log->nev ? log->nev : 1) * sizeof(*w));
	if (!w)
		return SIM_ENOMEM;
	size_t nw = 0;
	for (size_t i = 0; i < log->nev; i++) {
		const struct sim_event *e = &log->ev[i];
		switch (e->kind) {
		case SIM_EV_PERSON_CREATE:
		case SIM_EV_PERSON_EDIT:
		case SIM_EV_PERSON_COMMENT:
			j->res->genuine_changes++;
			break;
		case SIM_EV_HUB_CREATE:
		case SIM_EV_HUB_COMMENT:
			j->res->hub_writes++;
			break;
		case SIM_EV_HUB_WRITE:
			w[nw++] = (struct write_key){ e->system, e->record, e->write_id };
			break;
		case SIM_EV_PERSON_RESOLVE:
			j->res->genuine_changes++;
			j->res->resolved++;
			break;
		case SIM_EV_PARK_SEEN:
			j->res->parked++;
			break;
		case SIM_EV_CLAIM:
		case SIM_EV_PARKED_AT_END:
			break;
		}
	}
	/* One request is one write, however many fields it changed. */
	qsort(w, nw, sizeof(*w), cmp_write_key);
	for (size_t i = 0; i < nw; i++)
		if (i == 0 || cmp_write_key(&w[i - 1], &w[i]) != 0)
			j->res->hub_writes++;
	free(w);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The judgement                                                            */
/* ------------------------------------------------------------------------ */

int oracle_check(const struct sim_log *log, struct oracle_result *out)
{
	memset(out, 0, sizeof(*out));
	struct judge j = { .log = log, .res = out };
	int rc = -1;

	if (build_records(&j) || build_groups(&j) || alloc_scratch(&j))
		goto out;

	check_merges(&j);
	if (check_presence(&j))
		goto out;
	for (size_t i = 0; i < j.ninc; i++)
		for (int f = 0; f < SF__COUNT; f++)
			if (check_field(&j, i, f))
				goto out;
	for (size_t i = 0; i < j.ninc; i++)
		if (check_comments(&j, i))
			goto out;
	for (size_t r = 0; r < j.nrec; r++)
		if (j.rec[r].root == r && check_writes(&j, r))
			goto out;
	if (count_cost(&j))
		goto out;

	out->converged = out->merged_incidents == 0 && out->missing_records == 0 &&
	                 out->divergent_fields == 0 && out->missing_comments == 0;
	if (!out->first_problem[0])
		memcpy(out->first_problem, j.first_other, sizeof(out->first_problem));
	rc = 0;
out:
	judge_free(&j);
	if (rc) {
		memset(out, 0, sizeof(*out));
		snprintf(out->first_problem, sizeof(out->first_problem), "oracle: out of memory");
	}
	return rc;
}
