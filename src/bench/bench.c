/*
 * The store benchmark (see bench.h).
 *
 * Three systems: observations come from system 0 and are projected to
 * systems 1 and 2. Every case is preloaded linked in all three, with its
 * shadows, so each observation is a real change: three fields differ from
 * the shadow, merge applies them, and the outbox gets a row per target.
 * The hub's clock is a counter (the engine is deterministic); only the
 * elapsed time is measured with the wall clock.
 */
#include "bench/bench.h"

#include "core/hub.h"
#include "store/store.h"
#include "store/store_sqlite.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum { F_TITLE, F_DESCRIPTION, F_STATE, F_PRIORITY, F_ASSIGNEE, NFIELDS };

#define SET(...) ((const char *const[]){ __VA_ARGS__, NULL })
static const struct cc_value_entry state_map[] = {
	CC_VALUE("1", SET("new"), NULL),      CC_VALUE("2", SET("in_progress"), NULL),
	CC_VALUE("3", SET("on_hold"), NULL),  CC_VALUE("6", SET("resolved"), NULL),
	CC_VALUE("7", SET("closed"), NULL),
};
static const char *const states[] = { "1", "2", "3", "6", "7" };

struct bench_ctx {
	int64_t clock;
	uint64_t rng;
};

static int64_t env_now(void *ctx)
{
	return ((struct bench_ctx *)ctx)->clock;
}

static uint64_t next_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static uint64_t env_random(void *ctx)
{
	return next_rand(&((struct bench_ctx *)ctx)->rng);
}

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double peak_rss_mb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0;
}

static void bench_config(struct cc_config *cfg)
{
	cc_config_defaults(cfg);
	const char *names[NFIELDS] = { "title", "description", "state", "priority", "assignee" };
	const enum cc_field_type types[NFIELDS] = { CC_FT_STRING, CC_FT_TEXT, CC_FT_ENUM,
		                                    CC_FT_PRIORITY, CC_FT_USER };
	for (int f = 0; f < NFIELDS; f++)
		cfg->fields[f] = (struct cc_field_def){ .name = names[f], .type = types[f] };
	cfg->nfields = NFIELDS;
	cfg->nsystems = 3;
	static const char *const sysnames[3] = { "source", "target-1", "target-2" };
	for (int s = 0; s < 3; s++) {
		struct cc_system_def *sd = &cfg->systems[s];
		sd->name = sysnames[s];
		sd->kind = "bench";
		sd->rank = s + 1;
		sd->poll_interval_ms = 60000;
		for (int f = 0; f < NFIELDS; f++)
			sd->map[f] = (struct cc_field_map){ .mapped = true, .kind = CC_MAP_IDENTITY };
		sd->map[F_STATE] = (struct cc_field_map){ .mapped = true, .kind = CC_MAP_TABLE,
			                                  .entries = state_map, .nentries = 5 };
	}
	cfg->dedup_title_field = -1;
}

static void remote_id(char *buf, size_t len, int sys, uint64_t i)
{
	snprintf(buf, len, "%c%" PRIu64, "STU"[sys], i);
}

/* Creates n linked cases, ids 1..n, with their shadows, in big transactions. */
static int preload(struct cc_store *st, uint64_t n, FILE *progress)
{
	struct cc_case c;
	int rc = CC_EOK;
	char id[32], title[64];
	for (uint64_t i = 1; i <= n && rc == CC_EOK; i++) {
		if ((i - 1) % 20000 == 0) {
			rc = st->ops->begin(st->self);
			if (rc)
				break;
		}
		uint64_t cid;
		rc = st->ops->case_new(st->self, &cid);
		if (rc || cc_case_init(&c))
			break;
		c.id = cid;
		c.created_ms = 1;
		c.raised_ms = 1;
		c.origin_system = 0;
		snprintf(title, sizeof(title), "Printer %" PRIu64 " is offline", i);
		const char *vals[NFIELDS] = { title, "Paper jam on floor two.", "new", "moderate", "alice" };
		const char *remote[NFIELDS] = { title, "Paper jam on floor two.", "1", "moderate", "alice" };
		for (int f = 0; f < NFIELDS && rc == CC_EOK; f++) {
			rc = cc_case_set_value(&c, f, vals[f]);
			c.f[f].ver = (struct cc_version){ 1000, 1, 1 };
			c.f[f].origin = 0;
		}
		for (int s = 0; s < 3 && rc == CC_EOK; s++) {
			struct cc_link *l = &c.link[s];
			remote_id(id, sizeof(id), s, i);
			l->status = CC_LINK_LINKED;
			l->rv = 1;
			rc = cc_str_set(&l->remote_id, id);
			for (int f = 0; f < NFIELDS && rc == CC_EOK; f++) {
				rc = cc_str_set(&l->shadow[f], remote[f]);
				l->shadow_mtime_s[f] = 1;
			}
		}
		if (rc == CC_EOK)
			rc = st->ops->case_save(st->self, &c);
		cc_case_clear(&c);
		if (rc == CC_EOK && (i % 20000 == 0 || i == n))
			rc = st->ops->commit(st->self);
		if (progress && i % 1000000 == 0)
			fprintf(progress, "  preloaded %" PRIu64 " cases\n", i);
	}
	if (rc) {
		st->ops->rollback(st->self);
		fprintf(stderr, "concord bench: preload failed: %s\n", st->ops->last_error(st->self));
	}
	return rc;
}

/* The k-th observation of the run, of case `i`: three fields changed. */
static int make_observation(struct cc_observation *o, uint64_t i, uint64_t k, int64_t now_s)
{
	char id[32], title[96], desc[96];
	cc_observation_init(o);
	o->system = 0;
	o->rv = k + 2;
	o->mtime_s = now_s;
	remote_id(id, sizeof(id), 0, i);
	o->remote_id = strdup(id);
	if (!o->remote_id)
		return CC_ENOMEM;
	snprintf(title, sizeof(title), "Printer %" PRIu64 " is offline (update %" PRIu64 ")", i, k);
	snprintf(desc, sizeof(desc), "Paper jam on floor two.\nChecked again, round %" PRIu64 ".", k);
	int rc = cc_observation_set(o, F_TITLE, title, now_s, "bench");
	rc = rc ? rc : cc_observation_set(o, F_DESCRIPTION, desc, now_s, "bench");
	rc = rc ? rc : cc_observation_set(o, F_STATE, states[1 + k % 4], now_s, "bench");
	rc = rc ? rc : cc_observation_set(o, F_PRIORITY, "moderate", 1, "bench");
	rc = rc ? rc : cc_observation_set(o, F_ASSIGNEE, "alice", 1, "bench");
	return rc;
}

struct measure {
	double seconds;
	uint64_t observations;
	uint64_t changes;
	uint64_t rows;
};

/* Opens a fresh store at path, preloads n cases, ingests m observations. */
static int measure(const char *path, const struct cc_sqlite_options *so, uint64_t n, size_t m,
                   size_t batch, FILE *progress, struct measure *out)
{
	struct cc_store st;
	struct cc_config cfg;
	struct cc_hub *hub = NULL;
	struct cc_observation *obs = NULL;
	char err[512], buf[4096];
	int rc;
	unlink(path);
	snprintf(buf, sizeof(buf), "%s-wal", path);
	unlink(buf);
	snprintf(buf, sizeof(buf), "%s-shm", path);
	unlink(buf);
	rc = cc_store_sqlite_open(&st, path, so, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "concord bench: %s\n", err);
		return rc;
	}
	bench_config(&cfg);
	if (progress)
		fprintf(progress, "  %" PRIu64 " cases: preloading\n", n);
	rc = preload(&st, n, progress);
	if (rc)
		goto out;
	/* The clock offset of the source is known, as after a first poll. */
	struct cc_system_state ss = { 0 };
	cc_offset_init(&ss.offset);
	cc_offset_sample(&ss.offset, 0, 0, 0);
	rc = st.ops->begin(st.self);
	rc = rc ? rc : st.ops->system_state_save(st.self, 0, &ss);
	rc = rc ? rc : st.ops->commit(st.self);
	if (rc)
		goto out;
	struct bench_ctx ctx = { .clock = 1000000, .rng = 0x9e3779b97f4a7c15ULL ^ n };
	struct cc_hub_env env = { .now_ms = env_now, .random = env_random, .ctx = &ctx };
	rc = cc_hub_create(&hub, &cfg, &st, NULL, &env);
	if (rc)
		goto out;
	obs = calloc(batch, sizeof(*obs));
	if (!obs) {
		rc = CC_ENOMEM;
		goto out;
	}
	struct cc_store_stats before, after;
	rc = st.ops->stats(st.self, &before);
	if (rc)
		goto out;
	uint64_t changes0 = cc_hub_stats(hub)->changes;
	uint64_t seed = 0x2545f4914f6cdd1dULL ^ n;
	double t0 = wall();
	for (size_t done = 0; done < m && rc == CC_EOK;) {
		size_t k = m - done < batch ? m - done : batch;
		for (size_t j = 0; j < k && rc == CC_EOK; j++) {
			uint64_t i = 1 + next_rand(&seed) % n;
			ctx.clock += 1000;
			rc = make_observation(&obs[j], i, done + j, ctx.clock / 1000);
		}
		if (rc == CC_EOK)
			rc = cc_hub_ingest_batch(hub, obs, k);
		for (size_t j = 0; j < k; j++)
			cc_observation_clear(&obs[j]);
		done += k;
	}
	double t1 = wall();
	if (rc) {
		fprintf(stderr, "concord bench: ingest failed: %s (%s)\n", cc_hub_last_error(hub),
		        st.ops->last_error(st.self));
		goto out;
	}
	rc = st.ops->stats(st.self, &after);
	if (rc)
		goto out;
	out->seconds = t1 - t0;
	out->observations = m;
	out->changes = cc_hub_stats(hub)->changes - changes0;
	out->rows = after.rows_written - before.rows_written;
out:
	free(obs);
	if (hub)
		cc_hub_destroy(hub);
	st.ops->destroy(st.self);
	unlink(path);
	snprintf(buf, sizeof(buf), "%s-wal", path);
	unlink(buf);
	snprintf(buf, sizeof(buf), "%s-shm", path);
	unlink(buf);
	return rc;
}

void cc_bench_defaults(struct cc_bench_options *o)
{
	memset(o, 0, sizeof(*o));
	o->dir = "/tmp";
	o->observations = 200000;
	o->batch = 500;
}

int cc_bench_one(const struct cc_bench_options *o, struct cc_bench_result *r)
{
	char path[4096];
	struct cc_sqlite_options normal = { .synchronous_full = false };
	struct measure m;
	memset(r, 0, sizeof(*r));
	r->batch = o->batch;
	snprintf(path, sizeof(path), "%s/concord-bench-%d.db", o->dir, (int)getpid());
	int rc = measure(path, &normal, o->only_cases, o->observations, o->batch, o->progress, &m);
	if (rc)
		return rc;
	r->observations_per_sec = (double)m.observations / m.seconds;
	r->changes_per_sec = (double)m.changes / m.seconds;
	r->changes_per_observation = (double)m.changes / (double)m.observations;
	r->us_per_change_100k = m.seconds * 1e6 / (double)m.changes;
	r->rows_per_observation = (double)m.rows / (double)m.observations;
	r->peak_rss_mb = peak_rss_mb();
	return 0;
}

int cc_bench_run(const struct cc_bench_options *o, struct cc_bench_result *r)
{
	char path[4096];
	struct cc_sqlite_options normal = { .synchronous_full = false };
	struct cc_sqlite_options full = { .synchronous_full = true };
	struct measure m10k, m100k, m1m, mfull, m10m = { 0 };
	int rc;
	memset(r, 0, sizeof(*r));
	r->batch = o->batch;
	snprintf(path, sizeof(path), "%s/concord-bench-%d.db", o->dir, (int)getpid());

	if (o->progress)
		fprintf(o->progress, "throughput (synchronous=NORMAL):\n");
	rc = measure(path, &normal, 100000, o->observations, o->batch, o->progress, &m100k);
	if (rc)
		return rc;
	if (o->progress)
		fprintf(o->progress, "throughput (synchronous=FULL):\n");
	rc = measure(path, &full, 10000, o->observations / 4, o->batch, o->progress, &mfull);
	if (rc)
		return rc;
	if (o->progress)
		fprintf(o->progress, "growth:\n");
	rc = measure(path, &normal, 10000, o->observations, o->batch, o->progress, &m10k);
	if (rc)
		return rc;
	rc = measure(path, &normal, 1000000, o->observations, o->batch, o->progress, &m1m);
	if (rc)
		return rc;
	if (o->ten_million) {
		rc = measure(path, &normal, 10000000, o->observations, o->batch, o->progress, &m10m);
		if (rc)
			return rc;
	}
	r->observations_per_sec = (double)m100k.observations / m100k.seconds;
	r->changes_per_sec = (double)m100k.changes / m100k.seconds;
	r->changes_per_observation = (double)m100k.changes / (double)m100k.observations;
	r->observations_per_sec_full = (double)mfull.observations / mfull.seconds;
	r->us_per_change_10k = m10k.seconds * 1e6 / (double)m10k.changes;
	r->us_per_change_100k = m100k.seconds * 1e6 / (double)m100k.changes;
	r->us_per_change_1m = m1m.seconds * 1e6 / (double)m1m.changes;
	r->cost_ratio_1m_10k = r->us_per_change_1m / r->us_per_change_10k;
	if (o->ten_million) {
		r->us_per_change_10m = m10m.seconds * 1e6 / (double)m10m.changes;
		r->cost_ratio_10m_10k = r->us_per_change_10m / r->us_per_change_10k;
	}
	r->rows_per_observation = (double)m100k.rows / (double)m100k.observations;

	/* The machine's limit with the same pragmas, rows per commit and a
	 * comparable row: plain inserts into one indexed table. */
	size_t rows_per_commit = (size_t)(r->rows_per_observation * (double)o->batch + 0.5);
	if (o->progress)
		fprintf(o->progress, "raw SQLite inserts, %zu rows per commit:\n", rows_per_commit);
	rc = cc_sqlite_raw_insert_rate(path, &normal, o->observations * 4, rows_per_commit, 100,
	                               &r->sqlite_raw_inserts_per_sec);
	unlink(path);
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "-wal");
	unlink(path);
	if (rc) {
		fprintf(stderr, "concord bench: raw insert measurement failed\n");
		return rc;
	}
	r->fraction_of_limit = r->observations_per_sec /
	                       (r->sqlite_raw_inserts_per_sec / r->rows_per_observation);
	r->peak_rss_mb = peak_rss_mb();
	return 0;
}
