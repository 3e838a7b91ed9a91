/*
 * The concord hub in a child process, killed with SIGKILL (model
 * "process", see sim.h and docs/simulator.md).
 *
 * The parent (this simulator) keeps the world: virtual systems, people,
 * faults, the true event log. The child is forked (no exec) and runs the
 * real engine over the SQLite store at the given path; it never touches
 * the world's memory after the fork. Its connectors are proxies: each
 * connector call is encoded (sim/wire.h) and sent over a socketpair to the
 * parent, which executes it against the virtual system and sends back the
 * answer. Its clock is the `now` the parent sends with every message; its
 * random numbers come from a stream seeded by the parent for each child.
 *
 * Kills, only while the edit phase lasts and the `crash` fault is on:
 *   - named: each child is armed at fork with a crash point of the engine
 *     (cc_hub_env.crash_point) and a hit count, drawn from the run's seeded
 *     stream; the child raises SIGKILL on that hit (exact replay);
 *   - random: after forwarding a connector answer or a command, with a
 *     small seeded probability the parent sends SIGKILL at once, after a
 *     seeded spin of up to 200 us of real time: the child is then wherever
 *     the scheduler left it (in a commit, between two statements...). Such
 *     a run replays exactly only with CONCORD_SIM_KILL_SYNC=1, which kills
 *     instead at the child's next message;
 *   - scheduled: the driver's crash schedule kills the child (SIGKILL);
 *   - write-applied: the world's crash fault, which strikes after a virtual
 *     system applied a write: the parent kills the child instead of sending
 *     the answer.
 * A dead child is counted under its point, the driver keeps the hub down
 * for a seeded downtime (webhooks in it are lost), and a restart forks a
 * new child on the same SQLite file. Each run starts from an empty file.
 *
 * The engine's audit entries that tell which records belong together are
 * forwarded to the parent (the people use them to find siblings); with
 * --narrate every notable decision is forwarded and narrated.
 */
#include "core/driver.h"
#include "core/hub.h"
#include "store/store.h"
#include "sim/scenario.h"
#include "sim/sim.h"
#include "sim/webhooks.h"
#include "sim/wire.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- kill points ------------------------------------------------------ */

enum {
	KILL_RANDOM = SIM_KILL_NAMED,
	KILL_SCHEDULED,
	KILL_WRITE_APPLIED,
};

static const char *const kill_names[SIM_KILL_POINTS] = {
	"ingest-journaled",
	"ingest-before-commit",
	"batch-middle",
	"poll-before-cursor",
	"deliver-intent-committed",
	"deliver-after-remote-write",
	"deliver-after-create",
	"comment-after-remote",
	"random",
	"scheduled",
	"write-applied",
};

/* Hits of a named point before the child dies: 1 to this many (how often
 * each point is passed: every observation, every batch, every write...). */
static const uint32_t max_hits[SIM_KILL_NAMED] = { 12, 20, 8, 6, 4, 3, 2, 2 };

#define ARM_CHANCE 0.85        /* a child is armed with a named point */
#define RANDOM_KILL_CHANCE 0.003 /* per forwarded answer or command */
#define RANDOM_SPIN_NS 200000

const char *sim_kill_point_name(int i)
{
	return i >= 0 && i < SIM_KILL_POINTS ? kill_names[i] : NULL;
}

/* ---- messages --------------------------------------------------------- */

enum msg {
	/* child -> parent */
	M_READY = 1, /* i32 rc, str error */
	M_DONE,      /* i32 rc, str error, i64 value */
	M_CALL,      /* u8 kind, u32 system, arguments, call */
	M_AUDIT,     /* i64 at, u64 case, i32 system, i32 field, u8 decision, str value, remote id, detail */
	M_CLAIM,     /* u32 system, str remote id, u64 case */
	M_CONFLICT,  /* one conflict of the manual queue (put_conflict) */
	/* parent -> child: i64 now, bool live, then arguments */
	M_STEP = 16, /* one step of the hub driver (core/driver.h) */
	M_WEBHOOK,   /* obs: queued as a body for the driver's next step */
	M_NEXT_DUE,
	M_FINISH,
	M_REPLY,     /* i64 now, call, answer */
	M_QUIT,      /* nothing */
	M_CONFLICTS, /* u32 max: M_CONFLICT each, then M_DONE with the count */
	M_RESOLVE,   /* u64 case, u32 field, u32 take (-1: value), str value, str by:
	                M_DONE with 0 resolved, 1 not done */
};

enum call_kind { K_LIST = 1, K_READ, K_FIND, K_CREATE, K_UPDATE, K_COMMENT };

/* One conflict of the manual queue on the wire (M_CONFLICT). */
static void put_conflict(struct wire_buf *b, const struct sim_conflict *k)
{
	wire_put_u64(b, k->case_id);
	wire_put_u32(b, (uint32_t)k->field);
	wire_put_u32(b, (uint32_t)k->case_system);
	wire_put_str(b, k->case_value);
	wire_put_u32(b, (uint32_t)k->parked_system);
	wire_put_str(b, k->parked_value);
	wire_put_u32(b, (uint32_t)k->record_system);
	wire_put_str(b, k->record_id);
}

static void get_conflict(struct wire_reader *r, struct sim_conflict *k)
{
	k->case_id = wire_get_u64(r);
	k->field = (int)wire_get_u32(r);
	k->case_system = (int)wire_get_u32(r);
	wire_get_str_buf(r, k->case_value, sizeof(k->case_value));
	k->parked_system = (int)wire_get_u32(r);
	wire_get_str_buf(r, k->parked_value, sizeof(k->parked_value));
	k->record_system = (int)wire_get_u32(r);
	wire_get_str_buf(r, k->record_id, sizeof(k->record_id));
}

/* ---- the parent's side ------------------------------------------------ */

struct proc_model {
	uint32_t instance;       /* the store's, read once from the file */
	bool instance_known;
	struct sim_world *w;
	struct sim_integration *iface;
	struct cc_config cfg;
	char url[PATH_MAX + 16];  /* the store: a durable backend's, or a temporary SQLite file */
	bool temp_store;          /* made up here: emptied at the end */
	struct sim_rng rng;       /* kills: points, hits, random kills, child seeds */
	int64_t poll_interval;
	pid_t pid;                /* the child, or -1 */
	int fd;
	bool down;
	bool fatal;               /* the child failed otherwise than by a kill */
	int armed;                /* named point the child dies at, -1 none */
	uint32_t armed_hits;
	int kill_cause;           /* why the parent killed it, -1 when it did not */
	bool kill_after_call;     /* the world's crash fault struck inside a call */
	bool sync_kills;          /* CONCORD_SIM_KILL_SYNC: random kills at the next message */
	int sync_cause;           /* a kill waiting for the child's next message, -1 none */
	bool allowed[SIM_KILL_POINTS]; /* CONCORD_SIM_KILLS: the kinds of kill to use */
	int nallowed_named;
	int allowed_named[SIM_KILL_NAMED];
	bool trace;
	uint64_t children;
	struct wire_buf out, in;
};

static bool kills_live(const struct proc_model *m)
{
	return m->w->faults_active && (m->w->faults & SIM_F_CRASH);
}

/* The first error of the run goes to iface->error; the integration is then dead. */
__attribute__((format(printf, 2, 3))) static int fail(struct proc_model *m, const char *fmt, ...)
{
	if (!m->fatal) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(m->iface->error, sizeof(m->iface->error), fmt, ap);
		va_end(ap);
	}
	m->fatal = true;
	return CC_EIO;
}

/* The child is gone or must go: reaps it and counts the kill. 1, or -1. */
static int reap(struct proc_model *m)
{
	int status = 0;
	pid_t pid = m->pid;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	m->pid = -1;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return fail(m, "waitpid failed: %s", strerror(errno));
	}
	int cause = -1;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		cause = m->kill_cause >= 0 ? m->kill_cause : m->armed;
	if (cause < 0) {
		if (WIFSIGNALED(status))
			return fail(m, "hub process died of signal %d", WTERMSIG(status));
		return fail(m, "hub process exited with status %d",
		            WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	m->iface->kills[cause]++;
	m->down = true;
	if (m->w->narrate)
		fprintf(m->w->narrate, "-- hub process killed at %s\n", kill_names[cause]);
	return 1;
}

static void spin(int64_t ns)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec) < ns);
}

static int kill_now(struct proc_model *m, int cause)
{
	m->kill_cause = cause;
	kill(m->pid, SIGKILL);
	return reap(m);
}

/* After forwarding an answer or a command: perhaps a random kill. 1 killed, 0 not. */
static int maybe_random_kill(struct proc_model *m)
{
	if (!kills_live(m) || !sim_rng_chance(&m->rng, RANDOM_KILL_CHANCE))
		return 0;
	int64_t ns = sim_rng_range(&m->rng, 0, RANDOM_SPIN_NS);
	if (!m->allowed[KILL_RANDOM])
		return 0;
	if (m->sync_kills) {
		m->sync_cause = KILL_RANDOM;
		return 0;
	}
	spin(ns);
	return kill_now(m, KILL_RANDOM);
}

static void world_crash(void *ctx)
{
	((struct proc_model *)ctx)->kill_after_call = true;
}

static int send_out(struct proc_model *m)
{
	if (m->out.oom)
		return fail(m, "out of memory encoding a message");
	if (wire_send(m->fd, &m->out) == 0)
		return 0;
	/* the child is gone (it died at a crash point): reap it */
	return reap(m);
}

static void begin_msg(struct proc_model *m, enum msg type)
{
	wire_buf_reset(&m->out);
	wire_put_u8(&m->out, (uint8_t)type);
	if (type != M_QUIT) {
		wire_put_i64(&m->out, m->w->now);
		wire_put_u8(&m->out, kills_live(m));
	}
}

/* CONCORD_SIM_TRACE: every connector call of the hub process, narrated. */
static void trace_call(struct proc_model *m, uint8_t kind, int s, const char *id,
                       const struct cc_write *wr, const struct cc_call *call)
{
	static const char *const kinds[] = { "?", "list", "read", "find", "create", "update",
		                             "comment" };
	static const char *const results[] = { "OK", "RETRY", "ERROR", "CONFLICT" };
	int64_t t = m->w->now / 1000;
	FILE *f = m->w->narrate;
	fprintf(f, "%02lld:%02lld:%02lld  call       %-11s %s-%d %s", (long long)(t / 3600),
	        (long long)(t / 60 % 60), (long long)(t % 60),
	        kind == K_CREATE ? (wr->correlation_id ? wr->correlation_id : "")
	        : kind == K_UPDATE ? (wr->remote_id ? wr->remote_id : "")
	                           : (id ? id : ""),
	        sim_kind_name(m->w->sys[s].kind), s, kinds[kind <= K_COMMENT ? kind : 0]);
	if (kind == K_UPDATE || kind == K_CREATE) {
		if (kind == K_UPDATE)
			fprintf(f, " if-rv %llu", (unsigned long long)wr->expected_rv);
		for (size_t fi = 0; fi < m->cfg.nfields; fi++)
			if (wr->values[fi])
				fprintf(f, " %s=\"%.30s\"", m->cfg.fields[fi].name, wr->values[fi]);
	}
	fprintf(f, " -> %s%s%s%s\n", results[call->result <= CC_CONFLICT ? call->result : 0],
	        call->outcome_unknown ? " (outcome unknown)" : "", call->reason[0] ? ": " : "",
	        call->reason);
}

/* Executes one connector call of the child against the world and answers. */
static int serve_call(struct proc_model *m, struct wire_reader *r)
{
	struct sim_world *w = m->w;
	uint8_t kind = wire_get_u8(r);
	uint32_t s = wire_get_u32(r);
	if (r->bad || s >= w->nsys)
		return fail(m, "bad call from the hub process (system %u)", (unsigned)s);
	struct cc_connector *cn = &w->conn[s];
	struct cc_call call;
	struct cc_observation obs;
	struct cc_page page = { 0 };
	struct cc_write wr;
	char *a = NULL, *b = NULL, *new_id = NULL;
	int64_t since = 0, after_mtime = 0;
	uint64_t page_size = 0;
	bool found = false;
	cc_observation_init(&obs);
	memset(&wr, 0, sizeof(wr));

	switch (kind) {
	case K_LIST:
		since = wire_get_i64(r);
		after_mtime = wire_get_i64(r);
		a = wire_get_str(r);
		page_size = wire_get_u64(r);
		if (page_size == 0 || page_size > 10000)
			r->bad = true;
		break;
	case K_READ:
	case K_FIND:
		a = wire_get_str(r);
		if (!a)
			r->bad = true;
		break;
	case K_CREATE:
	case K_UPDATE:
		wire_get_write(r, &wr);
		break;
	case K_COMMENT:
		a = wire_get_str(r);
		b = wire_get_str(r);
		if (!a || !b)
			r->bad = true;
		break;
	default:
		r->bad = true;
	}
	wire_get_call(r, &call);
	if (!wire_done(r)) {
		free(a);
		free(b);
		wire_write_clear(&wr);
		return fail(m, "bad call from the hub process (kind %u)", (unsigned)kind);
	}

	m->kill_after_call = false;
	enum cc_result res = CC_OK;
	switch (kind) {
	case K_LIST:
		res = cn->ops->list_changes(cn->self, since, after_mtime, a, (size_t)page_size, &page,
		                            &call);
		break;
	case K_READ:
		res = cn->ops->read(cn->self, a, &obs, &call);
		break;
	case K_FIND:
		res = cn->ops->find_by_correlation(cn->self, a, &obs, &found, &call);
		break;
	case K_CREATE:
		res = cn->ops->create(cn->self, &wr, &obs, &call);
		break;
	case K_UPDATE:
		res = cn->ops->update(cn->self, &wr, &obs, &call);
		break;
	case K_COMMENT:
		res = cn->ops->add_comment(cn->self, a, b, &new_id, &call);
		break;
	}
	call.result = res;
	if (m->trace && w->narrate)
		trace_call(m, kind, (int)s, a, &wr, &call);
	free(a);
	free(b);
	wire_write_clear(&wr);

	int rc = 0;
	if (m->kill_after_call && m->allowed[KILL_WRITE_APPLIED]) {
		/* applied, and the hub dies before it hears of it */
		m->kill_after_call = false;
		rc = kill_now(m, KILL_WRITE_APPLIED);
	} else {
		begin_msg(m, M_REPLY);
		wire_put_call(&m->out, &call);
		switch (kind) {
		case K_LIST:
			wire_put_page(&m->out, &page);
			break;
		case K_FIND:
			wire_put_u8(&m->out, found);
			/* fall through */
		case K_READ:
		case K_CREATE:
		case K_UPDATE:
			wire_put_obs(&m->out, &obs);
			break;
		case K_COMMENT:
			wire_put_str(&m->out, new_id);
			break;
		}
		rc = send_out(m);
		if (rc == 0)
			rc = maybe_random_kill(m);
	}
	cc_page_clear(&page);
	cc_observation_clear(&obs);
	free(new_id);
	return rc;
}

/* The claim key of a case: its correlation id, which names the store's
 * instance; the parent reads the instance from the file once. */
static uint64_t case_claim(struct proc_model *m, uint64_t case_id)
{
	char corr[64];
	if (!m->instance_known) {
		struct cc_store st;
		char err[200];
		if (cc_store_open(&st, m->url, err, sizeof(err)) == CC_EOK) {
			if (st.ops->instance(st.self, &m->instance) == CC_EOK)
				m->instance_known = true;
			st.ops->destroy(st.self);
		}
	}
	cc_correlation_format_in(corr, sizeof(corr), m->instance, case_id);
	return sim_claim_key(corr);
}

static void narrate_audit(struct proc_model *m, int64_t at, uint64_t case_id, int field,
                          enum cc_decision d, const char *v, const char *rid, const char *detail)
{
	switch (m->trace ? CC_AUDIT_ALERT : d) {
	case CC_AUDIT_CASE_CREATED:
	case CC_AUDIT_DEDUP_LINKED:
	case CC_AUDIT_DEDUP_REVIEW:
	case CC_AUDIT_LINKED:
	case CC_AUDIT_LOST_CONFLICT:
	case CC_AUDIT_REFUSED:
	case CC_AUDIT_PARKED:
	case CC_AUDIT_UNMAPPED:
	case CC_AUDIT_DEAD_LETTER:
	case CC_AUDIT_ALERT:
		break;
	default:
		return;
	}
	char value[64] = "";
	size_t o = 0;
	for (const char *p = v; p && *p && o + 3 < sizeof(value); p++) {
		if (*p == '\n' || *p == '\r') {
			value[o++] = '\\';
			value[o++] = *p == '\n' ? 'n' : 'r';
		} else {
			value[o++] = *p;
		}
	}
	value[o] = '\0';
	int64_t t = at / 1000;
	fprintf(m->w->narrate, "%02lld:%02lld:%02lld  hub        %-11s case %llu: %s%s%s%s%s%s%s%s\n",
	        (long long)(t / 3600), (long long)(t / 60 % 60), (long long)(t % 60),
	        rid ? rid : "", (unsigned long long)case_id, cc_decision_name(d),
	        field >= 0 ? " " : "", field >= 0 ? m->cfg.fields[field].name : "",
	        v ? " = \"" : "", value, v ? "\"" : "", detail ? " -- " : "", detail ? detail : "");
}

static int handle_audit(struct proc_model *m, struct wire_reader *r)
{
	int64_t at = wire_get_i64(r);
	uint64_t case_id = wire_get_u64(r);
	int sys = (int)wire_get_u32(r);
	int field = (int)wire_get_u32(r);
	uint8_t d = wire_get_u8(r);
	char *value = wire_get_str(r);
	char *rid = wire_get_str(r);
	char *detail = wire_get_str(r);
	int rc = 0;
	if (!wire_done(r) || sys < -1 || sys >= (int)m->w->nsys || field < -1 ||
	    field >= (int)m->cfg.nfields || d >= CC_AUDIT__COUNT) {
		rc = fail(m, "bad audit message from the hub process");
		goto out;
	}
	if (m->w->narrate)
		narrate_audit(m, at, case_id, field, (enum cc_decision)d, value, rid, detail);
	if (sys < 0 || !rid)
		goto out;
	switch (d) {
	case CC_AUDIT_CASE_CREATED:
	case CC_AUDIT_DEDUP_REVIEW:
	case CC_AUDIT_LINKED:
	case CC_AUDIT_DEDUP_LINKED:
	case CC_AUDIT_CREATED_REMOTE:
		sim_people_group(m->w, sys, sim_find_record(m->w, sys, rid), case_claim(m, case_id));
		break;
	default:
		break;
	}
out:
	free(value);
	free(rid);
	free(detail);
	return rc;
}

static int handle_claim(struct proc_model *m, struct wire_reader *r)
{
	uint32_t s = wire_get_u32(r);
	char *rid = wire_get_str(r);
	uint64_t case_id = wire_get_u64(r);
	int rc = 0;
	if (!wire_done(r) || s >= m->w->nsys || !rid) {
		rc = fail(m, "bad claim from the hub process");
	} else {
		int rec = sim_find_record(m->w, (int)s, rid);
		if (rec >= 0) {
			struct sim_event e = { .kind = SIM_EV_CLAIM, .t_ms = m->w->now, .system = (int)s,
				               .record = rec, .field = -1, .incident = -1,
				               .claim = case_claim(m, case_id) };
			if (sim_log_append(&m->w->log, &e))
				rc = fail(m, "out of memory logging a claim");
		}
	}
	free(rid);
	return rc;
}

/*
 * Sends the command in m->out and serves the child until it is done.
 * Returns 0 (*value holds the command's value), 1 when the child died
 * (killed: m->down), -1 on an error (m->fatal, iface->error).
 */
static int exchange(struct proc_model *m, bool may_kill, const char *what, int64_t *value)
{
	int rc = send_out(m);
	if (rc)
		return rc;
	if (may_kill && (rc = maybe_random_kill(m)) != 0)
		return rc;
	for (;;) {
		int got = wire_recv(m->fd, &m->in);
		if (got <= 0)
			return reap(m);
		struct wire_reader r;
		wire_reader_init(&r, m->in.p, m->in.len);
		uint8_t type = wire_get_u8(&r);
		/* A synchronous kill lands at the child's next call or answer
		 * (not at an audit message: --narrate forwards more of those,
		 * and must not move the kill). */
		if (m->sync_cause >= 0 && (type == M_CALL || type == M_DONE)) {
			int cause = m->sync_cause;
			m->sync_cause = -1;
			return kill_now(m, cause);
		}
		switch (type) {
		case M_DONE: {
			int32_t crc = (int32_t)wire_get_u32(&r);
			char *err = wire_get_str(&r);
			int64_t v = wire_get_i64(&r);
			bool ok = wire_done(&r);
			if (ok && crc) {
				fail(m, "%s: %d %s", what, (int)crc, err ? err : "");
				free(err);
				return CC_EIO;
			}
			free(err);
			if (!ok)
				return fail(m, "bad answer from the hub process to %s", what);
			if (value)
				*value = v;
			return 0;
		}
		case M_CALL:
			rc = serve_call(m, &r);
			break;
		case M_AUDIT:
			rc = handle_audit(m, &r);
			break;
		case M_CLAIM:
			rc = handle_claim(m, &r);
			break;
		default:
			rc = fail(m, "unknown message %u from the hub process", (unsigned)type);
			break;
		}
		if (rc)
			return rc;
	}
}

/* ---- the child's side ------------------------------------------------- */

struct child;

struct proxy {
	struct child *c;
	int system;
};

struct child {
	int fd;
	int64_t now;
	bool live;
	int armed;
	uint32_t hits;
	bool narrate;
	struct sim_rng rng;
	struct wire_buf out, in;
	struct proxy px[CC_MAX_SYSTEMS];
	struct cc_connector conn[CC_MAX_SYSTEMS];
	struct sim_bodies bodies; /* webhook bodies waiting for the driver */
};

/* The parent is gone or spoke nonsense: nothing left to do. */
static _Noreturn void child_exit(int status)
{
	_exit(status);
}

static void child_send(struct child *c)
{
	if (c->out.oom || wire_send(c->fd, &c->out))
		child_exit(c->out.oom ? 5 : 0);
}

/* Sends the call in c->out, waits for the answer: a reader past the call. */
static void child_call(struct child *c, struct cc_call *call, struct wire_reader *r)
{
	wire_put_call(&c->out, call);
	child_send(c);
	int got = wire_recv(c->fd, &c->in);
	if (got <= 0)
		child_exit(0);
	wire_reader_init(r, c->in.p, c->in.len);
	if (wire_get_u8(r) != M_REPLY)
		child_exit(4);
	c->now = wire_get_i64(r);
	c->live = wire_get_bool(r);
	if (wire_get_call(r, call))
		child_exit(4);
}

static void call_begin(struct child *c, enum call_kind k, int system)
{
	wire_buf_reset(&c->out);
	wire_put_u8(&c->out, M_CALL);
	wire_put_u8(&c->out, (uint8_t)k);
	wire_put_u32(&c->out, (uint32_t)system);
}

static enum cc_result px_list(void *self, int64_t since_s, int64_t after_mtime_s,
                              const char *after_id, size_t page_size, struct cc_page *out,
                              struct cc_call *call)
{
	struct proxy *p = self;
	struct wire_reader r;
	memset(out, 0, sizeof(*out));
	call_begin(p->c, K_LIST, p->system);
	wire_put_i64(&p->c->out, since_s);
	wire_put_i64(&p->c->out, after_mtime_s);
	wire_put_str(&p->c->out, after_id);
	wire_put_u64(&p->c->out, page_size);
	child_call(p->c, call, &r);
	if (wire_get_page(&r, out) || !wire_done(&r))
		child_exit(4);
	return call->result;
}

static enum cc_result obs_answer(struct proxy *p, struct cc_observation *out,
                                 struct cc_call *call, bool *found)
{
	struct wire_reader r;
	child_call(p->c, call, &r);
	if (found)
		*found = wire_get_bool(&r);
	if (wire_get_obs(&r, out) || !wire_done(&r))
		child_exit(4);
	return call->result;
}

static enum cc_result px_read(void *self, const char *remote_id, struct cc_observation *out,
                              struct cc_call *call)
{
	struct proxy *p = self;
	cc_observation_init(out);
	call_begin(p->c, K_READ, p->system);
	wire_put_str(&p->c->out, remote_id ? remote_id : "");
	return obs_answer(p, out, call, NULL);
}

static enum cc_result px_find(void *self, const char *corr, struct cc_observation *out,
                              bool *found, struct cc_call *call)
{
	struct proxy *p = self;
	cc_observation_init(out);
	call_begin(p->c, K_FIND, p->system);
	wire_put_str(&p->c->out, corr ? corr : "");
	return obs_answer(p, out, call, found);
}

static enum cc_result px_create(void *self, const struct cc_write *w, struct cc_observation *out,
                                struct cc_call *call)
{
	struct proxy *p = self;
	cc_observation_init(out);
	call_begin(p->c, K_CREATE, p->system);
	wire_put_write(&p->c->out, w);
	return obs_answer(p, out, call, NULL);
}

static enum cc_result px_update(void *self, const struct cc_write *w, struct cc_observation *out,
                                struct cc_call *call)
{
	struct proxy *p = self;
	cc_observation_init(out);
	call_begin(p->c, K_UPDATE, p->system);
	wire_put_write(&p->c->out, w);
	return obs_answer(p, out, call, NULL);
}

static enum cc_result px_comment(void *self, const char *remote_id, const char *body,
                                 char **out_id, struct cc_call *call)
{
	struct proxy *p = self;
	struct wire_reader r;
	*out_id = NULL;
	call_begin(p->c, K_COMMENT, p->system);
	wire_put_str(&p->c->out, remote_id ? remote_id : "");
	wire_put_str(&p->c->out, body ? body : "");
	child_call(p->c, call, &r);
	*out_id = wire_get_str(&r);
	if (!wire_done(&r))
		child_exit(4);
	return call->result;
}

static void px_destroy(void *self)
{
	(void)self;
}

static const struct cc_connector_ops proxy_ops = {
	.version = CC_CONNECTOR_OPS_VERSION,
	.kind = "sim-proxy",
	.list_changes = px_list,
	.read = px_read,
	.find_by_correlation = px_find,
	.create = px_create,
	.update = px_update,
	.add_comment = px_comment,
	.webhook = sim_webhook_op, /* the body carries the record: decoded here */
	.destroy = px_destroy,
};

static int64_t c_now(void *ctx)
{
	return ((struct child *)ctx)->now;
}

static uint64_t c_random(void *ctx)
{
	return sim_rng_next(&((struct child *)ctx)->rng);
}

static void c_crash_point(void *ctx, const char *name)
{
	struct child *c = ctx;
	if (!c->live || c->armed < 0 || strcmp(name, kill_names[c->armed]) != 0)
		return;
	if (--c->hits == 0)
		raise(SIGKILL);
}

static void c_audit(void *ctx, const struct cc_audit_entry *e)
{
	struct child *c = ctx;
	bool grouping = e->system >= 0 && e->remote_id &&
	                (e->decision == CC_AUDIT_CASE_CREATED || e->decision == CC_AUDIT_DEDUP_REVIEW ||
	                 e->decision == CC_AUDIT_LINKED || e->decision == CC_AUDIT_DEDUP_LINKED ||
	                 e->decision == CC_AUDIT_CREATED_REMOTE);
	if (!grouping && !c->narrate)
		return;
	wire_buf_reset(&c->out);
	wire_put_u8(&c->out, M_AUDIT);
	wire_put_i64(&c->out, e->at_ms);
	wire_put_u64(&c->out, e->case_id);
	wire_put_u32(&c->out, (uint32_t)e->system);
	wire_put_u32(&c->out, (uint32_t)e->field);
	wire_put_u8(&c->out, (uint8_t)e->decision);
	wire_put_str(&c->out, e->value);
	wire_put_str(&c->out, e->remote_id);
	wire_put_str(&c->out, e->detail);
	child_send(c);
}

static void child_done(struct child *c, int rc, const char *err, int64_t value)
{
	wire_buf_reset(&c->out);
	wire_put_u8(&c->out, M_DONE);
	wire_put_u32(&c->out, (uint32_t)rc);
	wire_put_str(&c->out, err);
	wire_put_i64(&c->out, value);
	child_send(c);
}

struct claim_ctx {
	struct child *c;
	size_t nsys;
};

static int claim_visit(void *arg, const struct cc_case *cs)
{
	struct claim_ctx *cx = arg;
	struct child *c = cx->c;
	for (size_t s = 0; s < cx->nsys; s++) {
		const struct cc_link *l = &cs->link[s];
		if ((l->status != CC_LINK_LINKED && l->status != CC_LINK_PARKED) || !l->remote_id)
			continue;
		wire_buf_reset(&c->out);
		wire_put_u8(&c->out, M_CLAIM);
		wire_put_u32(&c->out, (uint32_t)s);
		wire_put_str(&c->out, l->remote_id);
		wire_put_u64(&c->out, cs->id);
		child_send(c);
	}
	return 0;
}

struct child_scan {
	struct child *c;
	const struct cc_config *cfg;
	size_t max, n;
};

static int child_conflict_visit(void *arg, const struct cc_case *cs)
{
	struct child_scan *x = arg;
	struct sim_conflict k[CC_MAX_FIELDS];
	size_t n = sim_case_conflicts(x->cfg, cs, k, x->max - x->n);
	for (size_t i = 0; i < n; i++) {
		wire_buf_reset(&x->c->out);
		wire_put_u8(&x->c->out, M_CONFLICT);
		put_conflict(&x->c->out, &k[i]);
		child_send(x->c);
	}
	x->n += n;
	return x->n == x->max;
}

static void child_conflicts(struct child *c, struct cc_store *st, const struct cc_config *cfg,
                            struct wire_reader *r)
{
	uint32_t max = wire_get_u32(r);
	if (!wire_done(r) || max > 100000)
		child_exit(4);
	struct child_scan x = { .c = c, .cfg = cfg, .max = max };
	int rc = max ? st->ops->case_scan_all(st->self, child_conflict_visit, &x) : 0;
	rc = rc < 0 ? rc : 0;
	child_done(c, rc, rc ? st->ops->last_error(st->self) : NULL, (int64_t)x.n);
}

static void child_resolve(struct child *c, struct cc_hub *hub, const struct cc_config *cfg,
                          struct wire_reader *r)
{
	uint64_t id = wire_get_u64(r);
	uint32_t field = wire_get_u32(r);
	int take = (int)wire_get_u32(r);
	char *value = wire_get_str(r);
	char *by = wire_get_str(r);
	if (!wire_done(r) || field >= cfg->nfields)
		child_exit(4);
	struct cc_resolution how = { .take = take, .value = value, .by = by };
	struct cc_resolve_outcome out;
	int rc = cc_hub_resolve(hub, id, (int)field, &how, &out);
	bool refused = rc == CC_ENOTFOUND || rc == CC_ENOTPARKED || rc == CC_EINVAL ||
	               rc == CC_EUNMAPPED;
	free(value);
	free(by);
	if (refused)
		child_done(c, 0, NULL, 1);
	else
		child_done(c, rc, rc ? cc_hub_last_error(hub) : NULL, rc ? 1 : 0);
}

/* What a child knows at fork: nothing of the world. */
struct child_start {
	const struct cc_config *cfg; /* the model's, not the world's */
	const char *url;
	int fd;
	uint64_t seed;
	int64_t now;
	bool live;
	bool narrate;
	int armed;
	uint32_t hits;
};

static bool c_take_body(void *ctx, int system, char **body, size_t *len)
{
	return sim_bodies_take(&((struct child *)ctx)->bodies, system, body, len);
}

/* The child process: the real hub over SQLite, reached through the socket. */
static _Noreturn void child_main(const struct child_start *a)
{
	struct child c = { .fd = a->fd, .now = a->now, .live = a->live, .armed = a->armed,
		           .hits = a->hits, .narrate = a->narrate };
	const struct cc_config *cfg = a->cfg;
	const char *url = a->url;
	int fd = a->fd;
	sim_rng_seed(&c.rng, a->seed);
	wire_buf_init(&c.out);
	wire_buf_init(&c.in);
	for (size_t s = 0; s < cfg->nsystems; s++) {
		c.px[s] = (struct proxy){ .c = &c, .system = (int)s };
		c.conn[s] = (struct cc_connector){ .ops = &proxy_ops, .self = &c.px[s] };
	}
	struct cc_store st;
	struct cc_hub *hub = NULL;
	struct cc_driver *driver = NULL;
	char err[256];
	int rc = cc_store_open(&st, url, err, sizeof(err));
	if (rc == 0) {
		struct cc_hub_env env = { .now_ms = c_now, .random = c_random, .on_audit = c_audit,
			                  .crash_point = c_crash_point, .ctx = &c };
		rc = cc_hub_create(&hub, cfg, &st, c.conn, &env);
		if (rc)
			snprintf(err, sizeof(err), "cc_hub_create failed (%d)", rc);
	}
	if (rc == 0) {
		/* the daemon's loop; a new hub polls every system at once (clocks) */
		struct cc_driver_env denv = { .take_body = c_take_body, .ctx = &c };
		rc = cc_driver_create(&driver, hub, cfg, &denv);
		if (rc)
			snprintf(err, sizeof(err), "out of memory");
	}
	wire_buf_reset(&c.out);
	wire_put_u8(&c.out, M_READY);
	wire_put_u32(&c.out, (uint32_t)rc);
	wire_put_str(&c.out, rc ? err : NULL);
	child_send(&c);
	if (rc)
		child_exit(0);

	for (;;) {
		int got = wire_recv(fd, &c.in);
		if (got <= 0)
			break;
		struct wire_reader r;
		wire_reader_init(&r, c.in.p, c.in.len);
		uint8_t type = wire_get_u8(&r);
		if (type == M_QUIT)
			break;
		c.now = wire_get_i64(&r);
		c.live = wire_get_bool(&r);
		switch (type) {
		case M_STEP: {
			if (!wire_done(&r))
				child_exit(4);
			rc = cc_driver_step(driver, false);
			child_done(&c, rc, rc ? cc_hub_last_error(hub) : NULL, 0);
			break;
		}
		case M_WEBHOOK: {
			struct cc_observation o;
			if (wire_get_obs(&r, &o) || !wire_done(&r))
				child_exit(4);
			rc = sim_bodies_push(&c.bodies, &o);
			cc_observation_clear(&o);
			child_done(&c, rc, rc ? "out of memory" : NULL, 0);
			break;
		}
		case M_NEXT_DUE: {
			if (!wire_done(&r))
				child_exit(4);
			int64_t t = sim_bodies_waiting(&c.bodies) ? c.now : cc_driver_next_wake(driver);
			child_done(&c, 0, NULL, t);
			break;
		}
		case M_FINISH: {
			if (!wire_done(&r))
				child_exit(4);
			struct claim_ctx cx = { .c = &c, .nsys = cfg->nsystems };
			rc = st.ops->case_scan_all(st.self, claim_visit, &cx);
			child_done(&c, rc, rc ? st.ops->last_error(st.self) : NULL, 0);
			break;
		}
		case M_CONFLICTS:
			child_conflicts(&c, &st, cfg, &r);
			break;
		case M_RESOLVE:
			child_resolve(&c, hub, cfg, &r);
			break;
		default:
			child_exit(4);
		}
	}
	cc_driver_destroy(driver);
	cc_hub_destroy(hub);
	sim_bodies_clear(&c.bodies);
	st.ops->destroy(st.self);
	wire_buf_free(&c.out);
	wire_buf_free(&c.in);
	close(fd);
	child_exit(0);
}

/* ---- the integration -------------------------------------------------- */

static int start_child(struct proc_model *m)
{
	int sv[2];
	m->armed = -1;
	m->armed_hits = 0;
	m->kill_cause = -1;
	m->sync_cause = -1;
	if (kills_live(m) && m->nallowed_named && sim_rng_chance(&m->rng, ARM_CHANCE)) {
		m->armed = m->allowed_named[sim_rng_below(&m->rng, (uint64_t)m->nallowed_named)];
		m->armed_hits = (uint32_t)sim_rng_range(&m->rng, 1, max_hits[m->armed]);
	}
	uint64_t seed = sim_rng_next(&m->rng);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return fail(m, "socketpair failed: %s", strerror(errno));
	struct child_start start = { .cfg = &m->cfg, .url = m->url, .fd = sv[1], .seed = seed,
		                     .now = m->w->now, .live = kills_live(m),
		                     .narrate = m->w->narrate != NULL, .armed = m->armed,
		                     .hits = m->armed_hits };
	if (m->w->narrate)
		fflush(m->w->narrate);
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return fail(m, "fork failed: %s", strerror(errno));
	}
	if (pid == 0) {
		close(sv[0]);
		child_main(&start);
	}
	close(sv[1]);
	m->pid = pid;
	m->fd = sv[0];
	m->children++;
	int got = wire_recv(m->fd, &m->in);
	if (got <= 0) {
		reap(m);
		return fail(m, "hub process did not start");
	}
	struct wire_reader r;
	wire_reader_init(&r, m->in.p, m->in.len);
	uint8_t type = wire_get_u8(&r);
	int32_t rc = (int32_t)wire_get_u32(&r);
	char *err = wire_get_str(&r);
	if (type != M_READY || !wire_done(&r) || rc) {
		fail(m, "hub process failed to start: %s", err ? err : "bad message");
		free(err);
		kill(m->pid, SIGKILL);
		m->kill_cause = -1;
		int status;
		waitpid(m->pid, &status, 0);
		close(m->fd);
		m->fd = -1;
		m->pid = -1;
		return CC_EIO;
	}
	free(err);
	if (m->w->narrate && m->armed >= 0 && m->trace)
		fprintf(m->w->narrate, "-- hub process %llu armed: %s, hit %u\n",
		        (unsigned long long)m->children, kill_names[m->armed], m->armed_hits);
	m->down = false;
	return 0;
}

static void pm_crash(void *self)
{
	struct proc_model *m = self;
	if (m->down || m->fatal || m->pid < 0 || !m->allowed[KILL_SCHEDULED])
		return;
	kill_now(m, KILL_SCHEDULED);
}

static void pm_restart(void *self)
{
	struct proc_model *m = self;
	if (m->down && !m->fatal && start_child(m) == 0)
		return;
	if (m->fatal)
		m->down = false; /* so that run() reports the error */
}

static bool pm_down(void *self)
{
	return ((struct proc_model *)self)->down;
}

static int64_t pm_next_due(void *self, int64_t now)
{
	struct proc_model *m = self;
	(void)now;
	if (m->down || m->fatal)
		return m->fatal ? m->w->now : INT64_MAX;
	int64_t t = INT64_MAX;
	begin_msg(m, M_NEXT_DUE);
	int rc = exchange(m, false, "next due", &t);
	if (rc)
		return m->fatal ? m->w->now : INT64_MAX;
	return t;
}

static int pm_run(void *self)
{
	struct proc_model *m = self;
	if (!m->down && !m->fatal) {
		begin_msg(m, M_STEP);
		exchange(m, true, "step", NULL); /* killed (down) or failed (fatal) */
	}
	return m->fatal ? -1 : 0;
}

static void pm_webhook(void *self, const struct cc_observation *o)
{
	struct proc_model *m = self;
	if (m->down || m->fatal)
		return;
	begin_msg(m, M_WEBHOOK);
	wire_put_obs(&m->out, o);
	exchange(m, true, "webhook", NULL);
}

static int pm_finish(void *self)
{
	struct proc_model *m = self;
	if (m->fatal)
		return 0; /* the run is aborted: its error says why */
	if (m->down && start_child(m))
		return 0;
	begin_msg(m, M_FINISH);
	if (exchange(m, false, "finish", NULL) && !m->fatal)
		fail(m, "hub process died while reporting its claims");
	return 0;
}

/* ---- the manual queue (sim.h: conflicts, resolve) --------------------- */

/* The child lists its store's conflicts: no connector call, no kill. */
static int pm_conflicts(void *self, struct sim_conflict *out, size_t max)
{
	struct proc_model *m = self;
	if (m->down || m->fatal)
		return CC_EIO;
	begin_msg(m, M_CONFLICTS);
	wire_put_u32(&m->out, (uint32_t)max);
	if (send_out(m))
		return CC_EIO;
	size_t n = 0;
	for (;;) {
		if (wire_recv(m->fd, &m->in) <= 0) {
			reap(m);
			return CC_EIO;
		}
		struct wire_reader r;
		wire_reader_init(&r, m->in.p, m->in.len);
		uint8_t type = wire_get_u8(&r);
		if (type == M_DONE) {
			int32_t crc = (int32_t)wire_get_u32(&r);
			char *err = wire_get_str(&r);
			int64_t count = wire_get_i64(&r);
			bool ok = wire_done(&r) && crc == 0 && count == (int64_t)n;
			if (!ok)
				fail(m, "conflicts: %d %s", (int)crc, err ? err : "bad answer");
			free(err);
			return ok ? (int)n : -1;
		}
		if (type != M_CONFLICT || n >= max)
			return fail(m, "unexpected message %u from the hub process to conflicts",
			            (unsigned)type);
		get_conflict(&r, &out[n]);
		if (!wire_done(&r) || out[n].field < 0 || (size_t)out[n].field >= m->cfg.nfields)
			return fail(m, "bad conflict from the hub process");
		n++;
	}
}

static int pm_resolve(void *self, uint64_t case_id, int field, int take, const char *value,
                      const char *by)
{
	struct proc_model *m = self;
	if (m->down || m->fatal)
		return 1;
	begin_msg(m, M_RESOLVE);
	wire_put_u64(&m->out, case_id);
	wire_put_u32(&m->out, (uint32_t)field);
	wire_put_u32(&m->out, (uint32_t)take);
	wire_put_str(&m->out, value);
	wire_put_str(&m->out, by);
	int64_t v = 1;
	int rc = exchange(m, false, "resolve", &v);
	return rc < 0 ? -1 : rc > 0 || v ? 1 : 0;
}

static void pm_destroy(void *self)
{
	struct proc_model *m = self;
	if (m->pid > 0) {
		begin_msg(m, M_QUIT);
		if (wire_send(m->fd, &m->out) == 0)
			while (wire_recv(m->fd, &m->in) > 0)
				; /* until the child closes its end */
		close(m->fd);
		int status;
		while (waitpid(m->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (m->w->on_crash == world_crash)
		m->w->on_crash = NULL;
	if (m->temp_store) {
		char err[256];
		(void)cc_store_wipe(m->url, err, sizeof(err)); /* best effort: a temporary file */
	}
	wire_buf_free(&m->out);
	wire_buf_free(&m->in);
	free(m);
}

int sim_process_model_create(struct sim_integration *out, struct sim_world *w, uint64_t seed,
                             int64_t poll_interval_ms, const char *store_url)
{
	struct proc_model *m = calloc(1, sizeof(*m));
	if (!m)
		return CC_EINVAL;
	m->w = w;
	m->iface = out;
	m->pid = -1;
	m->fd = -1;
	m->armed = -1;
	m->kill_cause = -1;
	m->sync_cause = -1;
	m->trace = getenv("CONCORD_SIM_TRACE") != NULL;
	const char *sync = getenv("CONCORD_SIM_KILL_SYNC");
	m->sync_kills = sync && *sync && strcmp(sync, "0") != 0;
	m->poll_interval = poll_interval_ms;
	sim_rng_seed(&m->rng, seed * 0xd1342543de82ef95ULL + 17);
	/* CONCORD_SIM_KILLS=name,name...: only these kinds of kill (to find
	 * which one a failure needs); default all. */
	const char *only = getenv("CONCORD_SIM_KILLS");
	for (int k = 0; k < SIM_KILL_POINTS; k++) {
		if (only && *only) {
			size_t n = strlen(kill_names[k]);
			for (const char *p = strstr(only, kill_names[k]); p; p = strstr(p + 1, kill_names[k]))
				if ((p == only || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
					m->allowed[k] = true;
		} else {
			m->allowed[k] = true;
		}
		if (k < SIM_KILL_NAMED && m->allowed[k])
			m->allowed_named[m->nallowed_named++] = k;
	}
	wire_buf_init(&m->out);
	wire_buf_init(&m->in);
	*out = (struct sim_integration){
		.self = m,
		.next_due = pm_next_due,
		.run = pm_run,
		.webhook = pm_webhook,
		.crash = pm_crash,
		.restart = pm_restart,
		.down = pm_down,
		.finish = pm_finish,
		.conflicts = pm_conflicts,
		.resolve = pm_resolve,
		.destroy = pm_destroy,
	};

	/* The child opens the store by its URL: a durable backend's. */
	char err[256];
	if (store_url) {
		const struct cc_store_backend *b = cc_store_backend_of(store_url, NULL, err, sizeof(err));
		if (!b || !b->durable) {
			snprintf(out->error, sizeof(out->error),
			         "the process model needs a durable store (--store sqlite:PATH), not "
			         "\"%.100s\"%s%.120s", b ? b->scheme : "", b ? "" : ": ", b ? "" : err);
			goto fail;
		}
		if (strlen(store_url) >= sizeof(m->url)) {
			snprintf(out->error, sizeof(out->error), "store URL too long");
			goto fail;
		}
		snprintf(m->url, sizeof(m->url), "%s", store_url);
	} else {
		const char *tmp = getenv("TMPDIR");
		snprintf(m->url, sizeof(m->url), "sqlite:%s/concord-sim-%ld.db",
		         tmp && *tmp ? tmp : "/tmp", (long)getpid());
		m->temp_store = true;
	}
	/* Each run starts from an empty store. */
	if (cc_store_wipe(m->url, err, sizeof(err))) {
		snprintf(out->error, sizeof(out->error), "%.250s", err);
		goto fail;
	}

	enum sim_kind kinds[CC_MAX_SYSTEMS];
	int64_t lags[CC_MAX_SYSTEMS];
	for (size_t s = 0; s < w->nsys; s++) {
		kinds[s] = w->sys[s].kind;
		lags[s] = 20000; /* the stated bound on search lag, not the true lag */
	}
	sim_scenario_config(&m->cfg, w->nsys, kinds, lags, poll_interval_ms);
	if (cc_config_validate(&m->cfg, err, sizeof(err))) {
		snprintf(out->error, sizeof(out->error), "config: %.200s", err);
		goto fail;
	}
	w->on_crash = world_crash;
	w->crash_ctx = m;
	if (start_child(m)) {
		char msg[sizeof(out->error)];
		snprintf(msg, sizeof(msg), "%s", out->error);
		pm_destroy(m);
		snprintf(out->error, sizeof(out->error), "%s", msg);
		return CC_EINVAL;
	}
	return 0;
fail:
	wire_buf_free(&m->out);
	wire_buf_free(&m->in);
	free(m);
	return CC_EINVAL;
}
