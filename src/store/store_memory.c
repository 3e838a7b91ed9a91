/*
 * The in-memory store backend, for unit tests and the simulator.
 *
 * Transactions are kept with an undo log: every mutation inside begin() /
 * commit() first records how to restore what it replaces, rollback()
 * replays the log backwards. A simulated crash rolls back the open
 * transaction and refuses all later writes until restart, which is what a
 * killed process would leave behind.
 *
 * Lookups are linear scans: simple and deterministic, fine for the sizes
 * the simulator uses. Scale is the SQLite backend's job. The journal is a
 * counter only; audit entries and dead letters are kept (with copies of
 * their strings) so that both can be read back as from any store.
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum undo_kind {
	UNDO_CASE, UNDO_OUTBOX, UNDO_STATE, UNDO_DEAD_PUT, UNDO_DEAD_REMOVE, UNDO_NEXT_ID,
	UNDO_SEQ, UNDO_AUDIT
};

/* An audit entry that owns its strings. */
struct mem_audit {
	struct cc_audit_entry e; /* value, remote_id, detail: owned copies */
	uint64_t seq;
};

struct undo {
	enum undo_kind kind;
	uint64_t id;
	int system;
	bool existed;
	struct cc_case *old_case;          /* UNDO_CASE */
	struct cc_outbox_entry old_entry;  /* UNDO_OUTBOX */
	struct cc_system_state old_state;  /* UNDO_STATE */
	struct cc_dead_letter old_dead;    /* UNDO_DEAD_REMOVE: the letter removed ... */
	size_t dead_index;                 /* ... and where it was */
	uint64_t old_value;                /* NEXT_ID, SEQ, DEAD_PUT: the next dead id */
};

struct mem {
	struct cc_case **cases;  /* index id-1; NULL for an id never saved */
	size_t ncases;
	uint64_t next_id;
	struct cc_outbox_entry *outbox;
	size_t noutbox, capoutbox;
	struct cc_dead_letter *dead;       /* by id */
	size_t ndead, capdead;
	uint64_t next_dead_id;
	struct cc_system_state state[CC_MAX_SYSTEMS];
	uint64_t journal_seq;
	struct mem_audit *audit;           /* by seq; seq = index + 1 */
	size_t naudit, capaudit;
	uint64_t rows_written;
	bool in_tx;
	bool crashed;
	struct undo *undo;
	size_t nundo, capundo;	char flag_name[16][64];
	int64_t flag_value[16];
	size_t nflags;
	char note_name[16][64];             /* notes: like the flags, texts */
	char note_value[16][CC_NOTE_MAX];
	size_t nnotes;
};

static int push_undo(struct mem *m, const struct undo *u)
{
	if (!m->in_tx)
		return CC_EOK;
	if (m->nundo == m->capundo) {
		size_t cap = m->capundo ? m->capundo * 2 : 32;
		struct undo *n = realloc(m->undo, cap * sizeof(*n));
		if (!n)
			return CC_ENOMEM;
		m->undo = n;
		m->capundo = cap;
	}
	m->undo[m->nundo++] = *u;
	return CC_EOK;
}

static void audit_free(struct mem_audit *a)
{
	free((char *)a->e.value);
	free((char *)a->e.remote_id);
	free((char *)a->e.detail);
	free((char *)a->e.system_name);
	free((char *)a->e.field_name);
}

static void free_case(struct cc_case *c)
{
	if (c) {
		cc_case_clear(c);
		free(c);
	}
}

static long outbox_find(struct mem *m, uint64_t case_id, int system)
{
	for (size_t i = 0; i < m->noutbox; i++)
		if (m->outbox[i].case_id == case_id && m->outbox[i].system == system)
			return (long)i;
	return -1;
}

static void outbox_delete_at(struct mem *m, size_t i)
{
	m->outbox[i] = m->outbox[--m->noutbox];
}

static int outbox_insert(struct mem *m, const struct cc_outbox_entry *e)
{
	long i = outbox_find(m, e->case_id, e->system);
	if (i >= 0) {
		m->outbox[i] = *e;
		return CC_EOK;
	}
	if (m->noutbox == m->capoutbox) {
		size_t cap = m->capoutbox ? m->capoutbox * 2 : 64;
		struct cc_outbox_entry *n = realloc(m->outbox, cap * sizeof(*n));
		if (!n)
			return CC_ENOMEM;
		m->outbox = n;
		m->capoutbox = cap;
	}
	m->outbox[m->noutbox++] = *e;
	return CC_EOK;
}

static void apply_undo(struct mem *m, struct undo *u)
{
	switch (u->kind) {
	case UNDO_CASE:
		free_case(m->cases[u->id - 1]);
		m->cases[u->id - 1] = u->old_case;
		u->old_case = NULL;
		break;
	case UNDO_OUTBOX: {
		long i = outbox_find(m, u->id, u->system);
		if (i >= 0)
			outbox_delete_at(m, (size_t)i);
		if (u->existed)
			(void)outbox_insert(m, &u->old_entry); /* restores a slot just freed */
		break;
	}
	case UNDO_STATE:
		m->state[u->system] = u->old_state;
		break;
	case UNDO_DEAD_PUT:
		m->ndead--;
		m->next_dead_id = u->old_value;
		break;
	case UNDO_DEAD_REMOVE: /* the slot was freed by the removal: no allocation */
		memmove(&m->dead[u->dead_index + 1], &m->dead[u->dead_index],
		        (m->ndead - u->dead_index) * sizeof(*m->dead));
		m->dead[u->dead_index] = u->old_dead;
		m->ndead++;
		break;
	case UNDO_NEXT_ID:
		m->next_id = u->old_value;
		break;
	case UNDO_SEQ:
		m->journal_seq = u->old_value;
		break;
	case UNDO_AUDIT:
		audit_free(&m->audit[--m->naudit]);
		break;
	}
}

static int mem_begin(void *self)
{
	struct mem *m = self;
	if (m->crashed)
		return CC_ESTORE;
	if (m->in_tx)
		return CC_EINVAL;
	m->in_tx = true;
	m->nundo = 0;
	return CC_EOK;
}

static int mem_commit(void *self)
{
	struct mem *m = self;
	if (m->crashed)
		return CC_ESTORE;
	for (size_t i = 0; i < m->nundo; i++)
		free_case(m->undo[i].old_case);
	m->nundo = 0;
	m->in_tx = false;
	return CC_EOK;
}

static int mem_rollback(void *self)
{
	struct mem *m = self;
	while (m->nundo > 0)
		apply_undo(m, &m->undo[--m->nundo]);
	m->in_tx = false;
	return CC_EOK;
}

static int writable(struct mem *m)
{
	return m->crashed ? CC_ESTORE : CC_EOK;
}

static int mem_case_new(void *self, uint64_t *out_id)
{
	struct mem *m = self;
	if (writable(m))
		return CC_ESTORE;
	struct undo u = { .kind = UNDO_NEXT_ID, .old_value = m->next_id };
	if (push_undo(m, &u))
		return CC_ENOMEM;
	*out_id = ++m->next_id;
	m->rows_written++;
	return CC_EOK;
}

static int mem_case_load(void *self, uint64_t id, struct cc_case *out)
{
	struct mem *m = self;
	if (id == 0 || id > m->ncases || !m->cases[id - 1])
		return CC_ENOTFOUND;
	return cc_case_copy(out, m->cases[id - 1]);
}

static int mem_case_save(void *self, const struct cc_case *c)
{
	struct mem *m = self;
	if (writable(m))
		return CC_ESTORE;
	if (c->id == 0)
		return CC_EINVAL;
	if (c->id > m->ncases) {
		size_t n = c->id + 64;
		struct cc_case **nc = realloc(m->cases, n * sizeof(*nc));
		if (!nc)
			return CC_ENOMEM;
		memset(nc + m->ncases, 0, (n - m->ncases) * sizeof(*nc));
		m->cases = nc;
		m->ncases = n;
	}
	struct cc_case *copy = malloc(sizeof(*copy));
	if (!copy)
		return CC_ENOMEM;
	if (cc_case_copy(copy, c)) {
		free(copy);
		return CC_ENOMEM;
	}
	struct undo u = { .kind = UNDO_CASE, .id = c->id, .old_case = m->cases[c->id - 1] };
	if (m->in_tx) {
		if (push_undo(m, &u)) {
			free_case(copy);
			return CC_ENOMEM;
		}
	} else {
		free_case(m->cases[c->id - 1]);
	}
	m->cases[c->id - 1] = copy;
	m->rows_written++;
	return CC_EOK;
}

static int mem_link_find(void *self, int system, const char *remote_id, uint64_t *out_id)
{
	struct mem *m = self;
	for (size_t i = 0; i < m->ncases; i++) {
		const struct cc_case *c = m->cases[i];
		if (!c)
			continue;
		const struct cc_link *l = &c->link[system];
		if ((l->status == CC_LINK_LINKED || l->status == CC_LINK_PARKED) && l->remote_id &&
		    strcmp(l->remote_id, remote_id) == 0) {
			*out_id = c->id;
			return CC_EOK;
		}
	}
	return CC_ENOTFOUND;
}

/* A case linked to a record of system s (as link_find would find it). */
static bool linked_in(const struct cc_case *c, int s)
{
	if (s < 0 || s >= CC_MAX_SYSTEMS)
		return false;
	const struct cc_link *l = &c->link[s];
	return (l->status == CC_LINK_LINKED || l->status == CC_LINK_PARKED) && l->remote_id;
}

static int mem_case_scan_recent(void *self, int64_t since_ms, int unlinked_in,
                                cc_case_visit_fn fn, void *arg)
{
	struct mem *m = self;
	for (size_t i = m->ncases; i-- > 0;) {
		const struct cc_case *c = m->cases[i];
		if (c && c->created_ms >= since_ms && !linked_in(c, unlinked_in) && fn(arg, c))
			break;
	}
	return CC_EOK;
}

static int mem_case_scan_creating(void *self, int system, cc_case_visit_fn fn, void *arg)
{
	struct mem *m = self;
	for (size_t i = 0; i < m->ncases; i++) {
		const struct cc_case *c = m->cases[i];
		if (c && c->link[system].status == CC_LINK_CREATE && fn(arg, c))
			break;
	}
	return CC_EOK;
}

static int mem_case_scan_all(void *self, cc_case_visit_fn fn, void *arg)
{
	struct mem *m = self;
	for (size_t i = 0; i < m->ncases; i++)
		if (m->cases[i] && fn(arg, m->cases[i]))
			break;
	return CC_EOK;
}

static int mem_journal_append(void *self, int system, const char *remote_id, uint64_t rv,
                              int64_t at_ms, uint64_t *out_seq)
{
	(void)system, (void)remote_id, (void)rv, (void)at_ms;
	struct mem *m = self;
	if (writable(m))
		return CC_ESTORE;
	struct undo u = { .kind = UNDO_SEQ, .old_value = m->journal_seq };
	if (push_undo(m, &u))
		return CC_ENOMEM;
	*out_seq = ++m->journal_seq;
	m->rows_written++;
	return CC_EOK;
}

static int mem_outbox_put(void *self, const struct cc_outbox_entry *e)
{
	struct mem *m = self;
	if (writable(m))
		return CC_ESTORE;
	long i = outbox_find(m, e->case_id, e->system);
	struct undo u = { .kind = UNDO_OUTBOX, .id = e->case_id, .system = e->system,
	                  .existed = i >= 0 };
	if (i >= 0)
		u.old_entry = m->outbox[i];
	if (push_undo(m, &u))
		return CC_ENOMEM;
	m->rows_written++;
	return outbox_insert(m, e);
}

static int mem_outbox_get(void *self, uint64_t case_id, int system, struct cc_outbox_entry *out)
{
	struct mem *m = self;
	long i = outbox_find(m, case_id, system);
	if (i < 0)
		return CC_ENOTFOUND;
	*out = m->outbox[i];
	return CC_EOK;
}

static int mem_outbox_remove(void *self, uint64_t case_id, int system)
{
	struct mem *m = self;
	if (writable(m))
		return CC_ESTORE;
	long i = outbox_find(m, case_id, system);
	if (i < 0)
		return CC_EOK;
	struct undo u = { .kind = UNDO_OUTBOX, .id = case_id, .system = system, .existed = true,
	                  .old_entry = m->outbox[i] };
	if (push_undo(m, &u))
		return CC_ENOMEM;
	outbox_delete_at(m, (size_t)i);
	m->rows_written++;
	return CC_EOK;
}

/* Orders entries by due time, then case id. */
static bool due_before(const struct cc_outbox_entry *a, const struct cc_outbox_entry *b)
{
	return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->case_id < b->case_id);
}

/* The max earliest due entries, kept sorted by insertion into out. */
static int mem_outbox_due(void *self, int system, int64_t now_ms, struct cc_outbox_entry *out,
                          size_t max, size_t *n)
{
	struct mem *m = self;
	*n = 0;
	for (size_t i = 0; i < m->noutbox && max > 0; i++) {
		const struct cc_outbox_entry *e = &m->outbox[i];
		if (e->system != system || e->due_ms > now_ms)
			continue;
		if (*n == max && !due_before(e, &out[max - 1]))
			continue;
		size_t at = *n < max ? (*n)++ : max - 1;
		while (at > 0 && due_before(e, &out[at - 1])) {
			out[at] = out[at - 1];
			at--;
		}
		out[at] = *e;
	}
	return CC_EOK;
}

static int mem_outbox_stat(void *self, int system, size_t *count, int64_t *earliest_ms)
{
	struct mem *m = self;
	size_t n = 0;
	int64_t e = INT64_MAX;
	for (size_t i = 0; i < m->noutbox; i++) {
		if (m->outbox[i].system != system)
			continue;
		n++;
		if (m->outbox[i].due_ms < e)
			e = m->outbox[i].due_ms;
	}
	*count = n;
	*earliest_ms = e;
	return CC_EOK;
}

static int mem_dead_letter_put(void *self, const struct cc_dead_letter *d)
{
	struct mem *m = self;
	if (writable(m))
		return CC_ESTORE;
	if (m->ndead == m->capdead) {
		size_t cap = m->capdead ? m->capdead * 2 : 16;
		struct cc_dead_letter *n = realloc(m->dead, cap * sizeof(*n));
		if (!n)
			return CC_ENOMEM;
		m->dead = n;
		m->capdead = cap;
	}
	struct undo u = { .kind = UNDO_DEAD_PUT, .old_value = m->next_dead_id };
	if (push_undo(m, &u))
		return CC_ENOMEM;
	struct cc_dead_letter *n = &m->dead[m->ndead++];
	*n = *d;
	n->id = ++m->next_dead_id;
	n->reason[sizeof(n->reason) - 1] = '\0';
	m->rows_written++;
	return CC_EOK;
}

static int mem_dead_letter_count(void *self, size_t *count)
{
	*count = ((struct mem *)self)->ndead;
	return CC_EOK;
}

static int mem_dead_letter_scan(void *self, cc_dead_letter_visit_fn fn, void *arg)
{
	struct mem *m = self;
	for (size_t i = 0; i < m->ndead; i++) {
		struct cc_dead_letter d = m->dead[i]; /* the callback may remove it */
		if (fn(arg, &d))
			break;
	}
	return CC_EOK;
}

static int mem_dead_letter_remove(void *self, uint64_t id)
{
	struct mem *m = self;
	if (writable(m))
		return CC_ESTORE;
	size_t i = 0;
	while (i < m->ndead && m->dead[i].id != id)
		i++;
	if (i == m->ndead)
		return CC_ENOTFOUND;
	struct undo u = { .kind = UNDO_DEAD_REMOVE, .old_dead = m->dead[i], .dead_index = i };
	if (push_undo(m, &u))
		return CC_ENOMEM;
	memmove(&m->dead[i], &m->dead[i + 1], (m->ndead - i - 1) * sizeof(*m->dead));
	m->ndead--;
	m->rows_written++;
	return CC_EOK;
}

static int mem_state_load(void *self, int system, struct cc_system_state *out)
{
	*out = ((struct mem *)self)->state[system];
	return CC_EOK;
}

static int mem_state_save(void *self, int system, const struct cc_system_state *st)
{
	struct mem *m = self;
	if (writable(m))
		return CC_ESTORE;
	struct undo u = { .kind = UNDO_STATE, .system = system, .old_state = m->state[system] };
	if (push_undo(m, &u))
		return CC_ENOMEM;
	m->state[system] = *st;
	m->rows_written++;
	return CC_EOK;
}

static int mem_audit_append(void *self, const struct cc_audit_entry *e)
{
	struct mem *m = self;
	if (writable(m))
		return CC_ESTORE;
	if ((int)e->decision < 0 || e->decision >= CC_AUDIT__COUNT)
		return CC_EINVAL;
	if (m->naudit == m->capaudit) {
		size_t cap = m->capaudit ? m->capaudit * 2 : 64;
		struct mem_audit *n = realloc(m->audit, cap * sizeof(*n));
		if (!n)
			return CC_ENOMEM;
		m->audit = n;
		m->capaudit = cap;
	}
	struct mem_audit a = { .e = *e, .seq = m->naudit + 1 };
	a.e.value = a.e.remote_id = a.e.detail = a.e.system_name = a.e.field_name = NULL;
	if ((e->value && !(a.e.value = strdup(e->value))) ||
	    (e->remote_id && !(a.e.remote_id = strdup(e->remote_id))) ||
	    (e->detail && !(a.e.detail = strdup(e->detail))) ||
	    (e->system_name && !(a.e.system_name = strdup(e->system_name))) ||
	    (e->field_name && !(a.e.field_name = strdup(e->field_name)))) {
		audit_free(&a);
		return CC_ENOMEM;
	}
	struct undo u = { .kind = UNDO_AUDIT };
	if (push_undo(m, &u)) {
		audit_free(&a);
		return CC_ENOMEM;
	}
	m->audit[m->naudit++] = a;
	m->rows_written++;
	return CC_EOK;
}

static int mem_audit_scan(void *self, uint64_t case_id, cc_audit_visit_fn fn, void *arg)
{
	struct mem *m = self;
	/* by index, not pointer: the callback may append and move the array */
	for (size_t i = 0; i < m->naudit; i++) {
		if (case_id && m->audit[i].e.case_id != case_id)
			continue;
		if (fn(arg, &m->audit[i].e, m->audit[i].seq))
			break;
	}
	return CC_EOK;
}

static const char *mem_last_error(void *self)
{
	(void)self;
	return "";
}

static int mem_stats(void *self, struct cc_store_stats *out)
{
	struct mem *m = self;
	memset(out, 0, sizeof(*out));
	out->rows_written = m->rows_written;
	for (size_t i = 0; i < m->ncases; i++)
		out->cases += m->cases[i] != NULL;
	out->journal_rows = m->journal_seq;
	out->audit_rows = m->naudit;
	out->outbox_rows = m->noutbox;
	out->dead_letters = m->ndead;
	return CC_EOK;
}

/* Flags: a short list; not rolled back (they are set outside transactions). */
static int mem_flag_get(void *self, const char *name, int64_t *out)
{
	struct mem *m = self;
	*out = 0;
	for (size_t i = 0; i < m->nflags; i++)
		if (strcmp(m->flag_name[i], name) == 0)
			*out = m->flag_value[i];
	return CC_EOK;
}

static int mem_flag_set(void *self, const char *name, int64_t value)
{
	struct mem *m = self;
	for (size_t i = 0; i < m->nflags; i++) {
		if (strcmp(m->flag_name[i], name) == 0) {
			m->flag_value[i] = value;
			return CC_EOK;
		}
	}
	if (m->nflags == sizeof(m->flag_value) / sizeof(m->flag_value[0]) ||
	    strlen(name) >= sizeof(m->flag_name[0]))
		return CC_EINVAL;
	snprintf(m->flag_name[m->nflags], sizeof(m->flag_name[0]), "%s", name);
	m->flag_value[m->nflags++] = value;
	return CC_EOK;
}

static int mem_note_get(void *self, const char *name, char *buf, size_t len)
{
	struct mem *m = self;
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < m->nnotes; i++)
		if (strcmp(m->note_name[i], name) == 0 && len)
			snprintf(buf, len, "%s", m->note_value[i]);
	return CC_EOK;
}

static int mem_note_set(void *self, const char *name, const char *value)
{
	struct mem *m = self;
	if (strlen(value) >= CC_NOTE_MAX)
		return CC_EINVAL;
	for (size_t i = 0; i < m->nnotes; i++) {
		if (strcmp(m->note_name[i], name) == 0) {
			snprintf(m->note_value[i], sizeof(m->note_value[i]), "%s", value);
			return CC_EOK;
		}
	}
	if (m->nnotes == sizeof(m->note_name) / sizeof(m->note_name[0]) ||
	    strlen(name) >= sizeof(m->note_name[0]))
		return CC_EINVAL;
	snprintf(m->note_name[m->nnotes], sizeof(m->note_name[0]), "%s", name);
	snprintf(m->note_value[m->nnotes++], sizeof(m->note_value[0]), "%s", value);
	return CC_EOK;
}

static int mem_instance(void *self, uint32_t *out)
{
	(void)self;
	*out = 0; /* a memory store lives one process: no other store to tell apart */
	return CC_EOK;
}

static void mem_destroy(void *self)
{
	struct mem *m = self;
	mem_rollback(m);
	for (size_t i = 0; i < m->ncases; i++)
		free_case(m->cases[i]);
	free(m->cases);
	free(m->outbox);
	free(m->dead);
	for (size_t i = 0; i < m->naudit; i++)
		audit_free(&m->audit[i]);
	free(m->audit);
	free(m->undo);
	free(m);
}

static const struct cc_store_ops memory_ops = {
	.version = CC_STORE_OPS_VERSION,
	.name = "memory",
	.begin = mem_begin,
	.commit = mem_commit,
	.rollback = mem_rollback,
	.case_new = mem_case_new,
	.case_load = mem_case_load,
	.case_save = mem_case_save,
	.link_find = mem_link_find,
	.case_scan_recent = mem_case_scan_recent,
	.case_scan_creating = mem_case_scan_creating,
	.case_scan_all = mem_case_scan_all,
	.journal_append = mem_journal_append,
	.outbox_put = mem_outbox_put,
	.outbox_get = mem_outbox_get,
	.outbox_remove = mem_outbox_remove,
	.outbox_due = mem_outbox_due,
	.outbox_stat = mem_outbox_stat,
	.dead_letter_put = mem_dead_letter_put,
	.dead_letter_count = mem_dead_letter_count,
	.dead_letter_scan = mem_dead_letter_scan,
	.dead_letter_remove = mem_dead_letter_remove,
	.system_state_load = mem_state_load,
	.system_state_save = mem_state_save,
	.audit_append = mem_audit_append,
	.audit_scan = mem_audit_scan,
	.last_error = mem_last_error,
	.stats = mem_stats,
	.instance = mem_instance,
	.flag_get = mem_flag_get,
	.flag_set = mem_flag_set,
	.note_get = mem_note_get,
	.note_set = mem_note_set,
	.destroy = mem_destroy,
};

int cc_store_memory_open(struct cc_store *out)
{
	struct mem *m = calloc(1, sizeof(*m));
	if (!m)
		return CC_ENOMEM;
	for (int s = 0; s < CC_MAX_SYSTEMS; s++)
		cc_offset_init(&m->state[s].offset);
	out->ops = &memory_ops;
	out->self = m;
	return CC_EOK;
}

void cc_store_memory_crash(struct cc_store *st)
{
	struct mem *m = st->self;
	mem_rollback(m);
	m->crashed = true;
}

void cc_store_memory_restart(struct cc_store *st)
{
	struct mem *m = st->self;
	m->crashed = false;
	m->in_tx = false;
}
