/*
 * The RT and Redmine connectors against the real servers (started by
 * rt_redmine_connectors.sh, which exports peers.env): every operation of
 * the connector interface, checked on what the servers then hold.
 *
 * Usage: test_rt_redmine [rt|redmine]...   (both when none is given)
 * Environment: RT_REST2_URL, RT_TOKEN, REDMINE_URL, REDMINE_API_KEY,
 * REDMINE_PROJECT, and optionally RT_MAIL_DIR (RT's mbox directory: no
 * mail may be written by a comment), TEST_ASSIGNEE_RT / TEST_ASSIGNEE_REDMINE
 * (an assignable account; default root / none).
 * Exit 0 when every check holds, 1 otherwise, 77 when the peers are unknown.
 */
#include "connectors/keyset.h"
#include "connectors/registry.h"
#include "http/client.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { F_TITLE, F_STATE, F_PRIO, F_ASSIGNEE, F_COUNT };

static int failures, checks;
/*
 * A second connector of the same system, as a fresh daemon's poller would
 * be: a connector does not list again a version it returned itself (after
 * its own write or read), so listings are checked on this one.
 */
static struct cc_connector *g_poller;

/* Empties the poller's memory of returned versions: a new connector. */
static const struct cc_connector_setup *g_setup;
static const char *g_kind;
static void fresh_poller(void)
{
	char err[256];
	struct cc_connector n;
	if (cc_connector_create(&n, g_kind, g_setup, err, sizeof(err)) != 0) {
		fprintf(stderr, "poller: %s\n", err);
		exit(1);
	}
	g_poller->ops->destroy(g_poller->self);
	*g_poller = n;
}

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		checks++;                                                       \
		if (!(cond)) {                                                  \
			failures++;                                             \
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
			printf(__VA_ARGS__);                                    \
			printf("\n");                                           \
		}                                                               \
	} while (0)

static const char *env(const char *k)
{
	const char *v = getenv(k);
	return v && v[0] ? v : NULL;
}

static const char *val(const struct cc_observation *o, int f)
{
	return o->fields[f].present ? o->fields[f].value : "(absent)";
}

static const char *result_name(enum cc_result r)
{
	static const char *const n[] = { "OK", "RETRY", "ERROR", "CONFLICT" };
	return r <= CC_CONFLICT ? n[r] : "?";
}

static void call_init(struct cc_call *c)
{
	memset(c, 0, sizeof(*c));
}

static bool has_comment(const struct cc_observation *o, const char *id, const char *body,
                        const char **author)
{
	for (size_t i = 0; i < o->ncomments; i++)
		if (strcmp(o->comments[i].id, id) == 0 && strstr(o->comments[i].body, body)) {
			*author = o->comments[i].author;
			return true;
		}
	return false;
}

/* Messages RT wrote to its mbox files (one file per second, many messages each). */
static int count_mbox(const char *dir)
{
	DIR *d = dir ? opendir(dir) : NULL;
	int n = 0;
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));) {
		if (!strstr(e->d_name, ".mbox"))
			continue;
		char path[4096], line[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			n += strncmp(line, "Subject:", 8) == 0;
		if (f)
			fclose(f);
	}
	closedir(d);
	return n;
}

/* Per kind: values in its own terms, and how to take a record away. */
struct kind {
	const char *name;
	const char *state_open, *state_done, *state_bad;
	const char *prio_a, *prio_b;
	const char *user;       /* integration user (remote account) */
	const char *assignee;   /* an assignable account, or NULL */
	const char *mail_dir;   /* RT: mbox directory */
	bool date_on_reads;     /* a Date header on every answer (Redmine on thin: none) */
};

/* Lists from `since` with small pages until the end; finds `id` exactly once. */
static void check_paging(struct cc_connector *cn, int64_t since, const char *id, uint64_t rv)
{
	int64_t am = 0;
	char *aid = NULL;
	int seen = 0, pages = 0;
	int64_t last_m = INT64_MIN;
	char last_id[32] = "";
	bool order_ok = true;
	for (; pages < 200; pages++) {
		struct cc_page pg;
		struct cc_call c;
		call_init(&c);
		enum cc_result r = cn->ops->list_changes(cn->self, since, am, aid, 2, &pg, &c);
		CHECK(r == CC_OK, "list page %d: %s %s", pages, result_name(r), c.reason);
		if (r != CC_OK)
			break;
		CHECK(pg.nitems <= 2, "page of %zu items", pg.nitems);
		for (size_t i = 0; i < pg.nitems; i++) {
			struct cc_observation *o = &pg.items[i];
			if (cc_keyset_cmp(o->mtime_s, o->remote_id, last_m, last_id) <= 0 &&
			    last_m != INT64_MIN)
				order_ok = false;
			last_m = o->mtime_s;
			snprintf(last_id, sizeof(last_id), "%s", o->remote_id);
			if (strcmp(o->remote_id, id) == 0) {
				seen++;
				CHECK(o->rv >= rv, "listed rv %" PRIu64 " < %" PRIu64, o->rv, rv);
			}
		}
		bool more = pg.more && (pg.nitems || pg.next_id);
		if (more) {
			free(aid);
			aid = strdup(pg.next_id ? pg.next_id : pg.items[pg.nitems - 1].remote_id);
			am = pg.next_id ? pg.next_mtime_s : pg.items[pg.nitems - 1].mtime_s;
		}
		cc_page_clear(&pg);
		if (!more)
			break;
	}
	free(aid);
	CHECK(pages < 200, "paging did not end");
	CHECK(order_ok, "pages out of keyset order");
	CHECK(seen == 1, "record %s listed %d times", id, seen);
}

static void exercise(struct cc_connector *cn, const struct kind *k)
{
	struct cc_call c;
	struct cc_observation o;
	enum cc_result r;
	char corr[64], title[96];
	unsigned tag = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
	snprintf(corr, sizeof(corr), "concord-%u", tag);
	snprintf(title, sizeof(title), "connector test %s %u", k->name, tag);
	printf("== %s\n", k->name);

	/* create, with the correlation id and a status that is not the initial one */
	struct cc_write w = { .correlation_id = corr };
	w.values[F_TITLE] = title;
	w.values[F_STATE] = k->state_open;
	w.values[F_PRIO] = k->prio_a;
	call_init(&c);
	r = cn->ops->create(cn->self, &w, &o, &c);
	CHECK(r == CC_OK, "create: %s %s", result_name(r), c.reason);
	if (r != CC_OK)
		return;
	char *id = strdup(o.remote_id);
	uint64_t rv1 = o.rv;
	int64_t created = o.created_s;
	printf("created %s rv %" PRIu64 " (%d requests)\n", id, rv1, c.requests);
	CHECK(c.has_date && c.date_s > 1000000000, "no Date header on create");
	CHECK(o.correlation_id && strcmp(o.correlation_id, corr) == 0, "correlation %s",
	      o.correlation_id ? o.correlation_id : "(none)");
	CHECK(strcmp(val(&o, F_TITLE), title) == 0, "title %s", val(&o, F_TITLE));
	CHECK(strcasecmp(val(&o, F_STATE), k->state_open) == 0, "state %s", val(&o, F_STATE));
	CHECK(strcasecmp(val(&o, F_PRIO), k->prio_a) == 0, "priority %s", val(&o, F_PRIO));
	CHECK(strcmp(val(&o, F_ASSIGNEE), "") == 0, "assignee '%s'", val(&o, F_ASSIGNEE));
	CHECK(!o.deleted && rv1 > 0 && created > 0, "deleted %d rv %" PRIu64, o.deleted, rv1);
	CHECK(o.fields[F_STATE].author && strcmp(o.fields[F_STATE].author, k->user) == 0,
	      "state author %s", o.fields[F_STATE].author ? o.fields[F_STATE].author : "(none)");
	CHECK(o.fields[F_STATE].mtime_s >= created, "state mtime %" PRId64, o.fields[F_STATE].mtime_s);
	cc_observation_clear(&o);

	/* read: same version */
	call_init(&c);
	r = cn->ops->read(cn->self, id, &o, &c);
	CHECK(r == CC_OK && o.rv == rv1, "read: %s rv %" PRIu64 " vs %" PRIu64, result_name(r),
	      o.rv, rv1);
	cc_observation_clear(&o);

	/* find by correlation, and a miss */
	bool found = false;
	call_init(&c);
	r = cn->ops->find_by_correlation(cn->self, corr, &o, &found, &c);
	CHECK(r == CC_OK && found && o.remote_id && strcmp(o.remote_id, id) == 0,
	      "find: %s found %d", result_name(r), found);
	cc_observation_clear(&o);
	call_init(&c);
	r = cn->ops->find_by_correlation(cn->self, "concord-0-none", &o, &found, &c);
	CHECK(r == CC_OK && !found, "find miss: %s found %d", result_name(r), found);
	cc_observation_clear(&o);

	/* conditional update at the right version */
	sleep(1); /* a later second, so that field times move */
	struct cc_write u = { .remote_id = id, .expected_rv = rv1 };
	char title2[128];
	snprintf(title2, sizeof(title2), "%s (renamed)", title);
	u.values[F_TITLE] = title2;
	u.values[F_PRIO] = k->prio_b;
	if (k->assignee)
		u.values[F_ASSIGNEE] = "person:assignee";
	call_init(&c);
	r = cn->ops->update(cn->self, &u, &o, &c);
	CHECK(r == CC_OK, "update: %s %s", result_name(r), c.reason);
	uint64_t rv2 = o.rv;
	CHECK(rv2 > rv1, "rv did not grow: %" PRIu64 " -> %" PRIu64, rv1, rv2);
	CHECK(strcmp(val(&o, F_TITLE), title2) == 0, "title after update %s", val(&o, F_TITLE));
	CHECK(strcasecmp(val(&o, F_PRIO), k->prio_b) == 0, "priority after update %s",
	      val(&o, F_PRIO));
	if (k->assignee)
		CHECK(strcmp(val(&o, F_ASSIGNEE), "person:assignee") == 0,
		      "assignee through the user map: %s", val(&o, F_ASSIGNEE));
	CHECK(o.fields[F_TITLE].mtime_s > o.fields[F_STATE].mtime_s ||
	      o.fields[F_TITLE].mtime_s > created,
	      "title mtime %" PRId64 " not after create %" PRId64, o.fields[F_TITLE].mtime_s, created);
	CHECK(o.fields[F_TITLE].author && strcmp(o.fields[F_TITLE].author, k->user) == 0,
	      "title author %s", o.fields[F_TITLE].author ? o.fields[F_TITLE].author : "(none)");
	CHECK(strcasecmp(val(&o, F_STATE), k->state_open) == 0, "state moved: %s",
	      val(&o, F_STATE));
	cc_observation_clear(&o);

	/* the same write at the old version: CONFLICT, nothing written */
	u.values[F_TITLE] = "must not be written";
	call_init(&c);
	r = cn->ops->update(cn->self, &u, &o, &c);
	CHECK(r == CC_CONFLICT, "stale update: %s %s", result_name(r), c.reason);
	cc_observation_clear(&o);
	call_init(&c);
	r = cn->ops->read(cn->self, id, &o, &c);
	CHECK(r == CC_OK && strcmp(val(&o, F_TITLE), title2) == 0 && o.rv == rv2,
	      "after the conflict: %s rv %" PRIu64, val(&o, F_TITLE), o.rv);
	cc_observation_clear(&o);

	/* a status no mapping of RT/Redmine knows: ERROR, not a silent no-op */
	struct cc_write bad = { .remote_id = id, .expected_rv = rv2 };
	bad.values[F_STATE] = k->state_bad;
	call_init(&c);
	r = cn->ops->update(cn->self, &bad, &o, &c);
	CHECK(r == CC_ERROR, "bad status: %s %s", result_name(r), c.reason);
	printf("bad status answered: %s\n", c.reason);
	cc_observation_clear(&o);
	call_init(&c);
	r = cn->ops->read(cn->self, id, &o, &c);
	uint64_t rv3 = o.rv;
	cc_observation_clear(&o);

	/* a comment: no status change, no mail (RT), found again by read */
	int mail_before = count_mbox(k->mail_dir);
	char body[160], *cid = NULL;
	snprintf(body, sizeof(body), "[concord:1:0:c%u] a mirrored comment\nsecond line", tag);
	call_init(&c);
	r = cn->ops->add_comment(cn->self, id, body, &cid, &c);
	CHECK(r == CC_OK && cid, "comment: %s %s", result_name(r), c.reason);
	call_init(&c);
	r = cn->ops->read(cn->self, id, &o, &c);
	const char *author = NULL;
	CHECK(r == CC_OK && cid && has_comment(&o, cid, "a mirrored comment", &author),
	      "comment %s not read back", cid ? cid : "(none)");
	CHECK(author && strcmp(author, k->user) == 0, "comment author %s", author ? author : "-");
	CHECK(strcasecmp(val(&o, F_STATE), k->state_open) == 0, "comment changed the state: %s",
	      val(&o, F_STATE));
	CHECK(o.rv > rv3, "comment did not move rv");
	uint64_t rv4 = o.rv;
	cc_observation_clear(&o);
	if (mail_before >= 0)
		CHECK(count_mbox(k->mail_dir) == mail_before, "the comment sent mail (%d -> %d)",
		      mail_before, count_mbox(k->mail_dir));
	free(cid);

	/* status change and unassign in one update */
	struct cc_write s = { .remote_id = id, .expected_rv = rv4 };
	s.values[F_STATE] = k->state_done;
	s.values[F_ASSIGNEE] = "";
	call_init(&c);
	r = cn->ops->update(cn->self, &s, &o, &c);
	CHECK(r == CC_OK && strcasecmp(val(&o, F_STATE), k->state_done) == 0 &&
	      strcmp(val(&o, F_ASSIGNEE), "") == 0,
	      "status update: %s %s state %s assignee '%s'", result_name(r), c.reason,
	      val(&o, F_STATE), val(&o, F_ASSIGNEE));
	uint64_t rv5 = o.rv;
	cc_observation_clear(&o);

	/* the poll sees the record once, in keyset order, at its newest version */
	struct cc_connector *pl = g_poller;
	check_paging(pl, created - 1, id, rv5);
	call_init(&c);
	struct cc_page pg;
	fresh_poller();
	r = pl->ops->list_changes(pl->self, created, 0, NULL, 100, &pg, &c);
	CHECK(r == CC_OK && (c.has_date || !k->date_on_reads), "list: %s date %d", result_name(r),
	      c.has_date);
	bool listed = false;
	for (size_t i = 0; i < pg.nitems; i++)
		if (strcmp(pg.items[i].remote_id, id) == 0) {
			listed = true;
			CHECK(pg.items[i].ncomments >= 1, "listed without its comment");
			CHECK(pg.items[i].correlation_id &&
			      strcmp(pg.items[i].correlation_id, corr) == 0, "listed without correlation");
		}
	CHECK(listed, "not listed from its creation time");
	cc_page_clear(&pg);
	/* the writer itself read the record back: RT's listing shows its
	 * version (newest transaction) and the connector does not read it again;
	 * Redmine's shows only the second of the last change, so a version is
	 * left out only once read twice, the second read 2 s after the first */
	bool exact = strcmp(k->name, "rt") == 0;
	struct cc_connector *lc = cn;
	if (!exact) {
		fresh_poller(); /* a memory of this version from this test only */
		lc = g_poller;
		call_init(&c);
		r = lc->ops->read(lc->self, id, &o, &c);
		cc_observation_clear(&o);
		call_init(&c);
		r = lc->ops->list_changes(lc->self, created, 0, NULL, 100, &pg, &c);
		listed = false;
		for (size_t i = 0; i < pg.nitems; i++)
			listed |= strcmp(pg.items[i].remote_id, id) == 0;
		CHECK(r == CC_OK && listed, "redmine: a version read once was left out");
		cc_page_clear(&pg);
		sleep(3); /* read again well after the first read: settled */
		call_init(&c);
		r = lc->ops->read(lc->self, id, &o, &c);
		cc_observation_clear(&o);
	}
	call_init(&c);
	r = lc->ops->list_changes(lc->self, created, 0, NULL, 100, &pg, &c);
	listed = false;
	for (size_t i = 0; i < pg.nitems; i++)
		listed |= strcmp(pg.items[i].remote_id, id) == 0;
	CHECK(r == CC_OK && !listed, "%s: a settled version the connector returned was read again",
	      k->name);
	cc_page_clear(&pg);
	if (cn->ops->webhook) {
		/* a webhook names the ticket: read unless that version was returned */
		char wb[96];
		snprintf(wb, sizeof(wb), "{\"ticket\": %s, \"transaction\": %" PRIu64 "}", id, rv5);
		call_init(&c);
		r = pl->ops->webhook(pl->self, wb, strlen(wb), &pg, &c);
		CHECK(r == CC_OK && pg.nitems == 0, "webhook of a version already returned: %s %zu",
		      result_name(r), pg.nitems);
		cc_page_clear(&pg);
		snprintf(wb, sizeof(wb), "{\"ticket\": %s, \"transaction\": %" PRIu64 "}", id,
		         rv5 + 1000000);
		call_init(&c);
		r = pl->ops->webhook(pl->self, wb, strlen(wb), &pg, &c);
		CHECK(r == CC_OK && pg.nitems == 1 && strcmp(pg.items[0].remote_id, id) == 0 &&
		      pg.items[0].rv == rv5, "webhook read: %s %zu %s", result_name(r), pg.nitems,
		      c.reason);
		cc_page_clear(&pg);
		call_init(&c);
		r = pl->ops->webhook(pl->self, "{not json", 9, &pg, &c);
		CHECK(r == CC_ERROR && pg.nitems == 0 && c.reason[0], "bad webhook: %s",
		      result_name(r));
		cc_page_clear(&pg);
		call_init(&c);
		r = pl->ops->webhook(pl->self, "{\"x\": 1}", 8, &pg, &c);
		CHECK(r == CC_ERROR, "webhook without a ticket: %s", result_name(r));
		cc_page_clear(&pg);
	}
	/* keyset strictly after the record's own position: not listed again */
	call_init(&c);
	r = cn->ops->read(cn->self, id, &o, &c);
	int64_t mt = o.mtime_s;
	cc_observation_clear(&o);
	r = cn->ops->list_changes(cn->self, mt, mt, id, 100, &pg, &c);
	for (size_t i = 0; i < pg.nitems; i++)
		CHECK(strcmp(pg.items[i].remote_id, id) != 0, "listed after its own keyset");
	cc_page_clear(&pg);
	free(id);
}

/* Takes a record away behind the connector's back; the poll and read say deleted. */
static void departure(struct cc_connector *cn, struct cc_http_client *raw, const char *kind,
                      const char *method, const char *path_prefix, const char *path_suffix,
                      const char *body_json,
                      bool poll_sees)
{
	struct cc_call c;
	struct cc_observation o;
	char corr[64];
	snprintf(corr, sizeof(corr), "concord-d%u", (unsigned)time(NULL) ^ (unsigned)getpid());
	struct cc_write w = { .correlation_id = corr };
	w.values[F_TITLE] = "connector test: taken away";
	call_init(&c);
	enum cc_result r = cn->ops->create(cn->self, &w, &o, &c);
	CHECK(r == CC_OK, "%s departure create: %s %s", kind, result_name(r), c.reason);
	if (r != CC_OK)
		return;
	char *id = strdup(o.remote_id);
	int64_t created = o.created_s;
	uint64_t rv = o.rv;
	cc_observation_clear(&o);
	char path[128];
	snprintf(path, sizeof(path), "%s%s%s", path_prefix, id, path_suffix);
	struct cc_http_response resp;
	call_init(&c);
	r = cc_http_request(raw, "test", method, path, body_json, &resp, &c);
	CHECK(r == CC_OK, "%s take away: %s %s", kind, result_name(r), c.reason);
	cc_http_response_clear(&resp);
	call_init(&c);
	r = cn->ops->read(cn->self, id, &o, &c);
	CHECK(r == CC_OK && o.deleted && o.rv > rv, "%s read after departure: %s deleted %d", kind,
	      result_name(r), o.deleted);
	cc_observation_clear(&o);
	struct cc_page pg;
	call_init(&c);
	fresh_poller();
	r = g_poller->ops->list_changes(g_poller->self, created, 0, NULL, 100, &pg, &c);
	bool seen = false;
	for (size_t i = 0; i < pg.nitems; i++)
		if (strcmp(pg.items[i].remote_id, id) == 0)
			seen = pg.items[i].deleted;
	if (poll_sees)
		CHECK(r == CC_OK && seen, "%s poll did not report the departure as deleted", kind);
	cc_page_clear(&pg);
	free(id);
}

static void config_for(struct cc_config *cfg)
{
	cc_config_defaults(cfg);
	static const char *const names[] = { "title", "state", "priority", "assignee" };
	static const enum cc_field_type types[] = { CC_FT_STRING, CC_FT_ENUM, CC_FT_PRIORITY,
		                                    CC_FT_USER };
	for (int f = 0; f < F_COUNT; f++) {
		cfg->fields[f].name = names[f];
		cfg->fields[f].type = types[f];
	}
	cfg->nfields = F_COUNT;
	static const char *const rt_names[] = { "Subject", "Status", "Priority", "Owner" };
	static const char *const rm_names[] = { "subject", "status", "priority", "assigned_to" };
	cfg->systems[0].name = "rt";
	cfg->systems[0].kind = "rt";
	cfg->systems[1].name = "redmine";
	cfg->systems[1].kind = "redmine";
	for (int f = 0; f < F_COUNT; f++) {
		cfg->systems[0].map[f] = (struct cc_field_map){ .mapped = true, .remote_name = rt_names[f] };
		cfg->systems[1].map[f] = (struct cc_field_map){ .mapped = true, .remote_name = rm_names[f] };
	}
	cfg->nsystems = 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct cc_config cfg;
	config_for(&cfg);
	bool want_rt = argc < 2, want_rm = argc < 2;
	for (int i = 1; i < argc; i++) {
		want_rt |= strcmp(argv[i], "rt") == 0;
		want_rm |= strcmp(argv[i], "redmine") == 0;
	}
	if ((want_rt && (!env("RT_REST2_URL") || !env("RT_TOKEN"))) ||
	    (want_rm && (!env("REDMINE_URL") || !env("REDMINE_API_KEY")))) {
		printf("peers unknown: source peers.env first (skipped)\n");
		return 77;
	}
	char err[256];
	struct cc_connector cn;
	struct cc_connector_setup none = { .base_url = "http://127.0.0.1:1", .cfg = &cfg };
	CHECK(cc_connector_create(&cn, "nosuch", &none, err, sizeof(err)) == CC_EINVAL,
	      "unknown kind accepted");

	if (want_rt) {
		const char *assignee = env("TEST_ASSIGNEE_RT") ? env("TEST_ASSIGNEE_RT") : "root";
		struct cc_connector_user users[] = { { assignee, "person:assignee" } };
		struct cc_connector_setting settings[] = { { "queue", env("RT_QUEUE") ? env("RT_QUEUE") : "General" },
			                                   { "correlation_field", "ExternalRef" } };
		struct cc_connector_setup s = { .base_url = env("RT_REST2_URL"),
			                        .secret = env("RT_TOKEN"),
			                        .integration_user = env("RT_USER") ? env("RT_USER") : "root",
			                        .cfg = &cfg, .system = 0, .settings = settings,
			                        .nsettings = 2, .users = users, .nusers = 1 };
		struct cc_connector pl;
		int rc = cc_connector_create(&cn, "rt", &s, err, sizeof(err));
		if (rc == 0 && (rc = cc_connector_create(&pl, "rt", &s, err, sizeof(err))) != 0)
			cn.ops->destroy(cn.self);
		g_poller = &pl;
		g_setup = &s;
		g_kind = "rt";
		CHECK(rc == 0, "rt create: %s", err);
		if (rc == 0) {
			struct kind k = { "rt", "open", "resolved", "no-such-status", "30", "70",
				          s.integration_user, assignee, env("RT_MAIL_DIR"), true };
			exercise(&cn, &k);
			struct cc_http_client *raw;
			char auth[200];
			snprintf(auth, sizeof(auth), "Authorization: token %s", env("RT_TOKEN"));
			struct cc_http_options ho = { .base_url = env("RT_REST2_URL"), .auth_header = auth };
			if (cc_http_client_create(&raw, &ho, err, sizeof(err)) == 0) {
				departure(&cn, raw, "rt deleted", "PUT", "/ticket/", "",
				          "{\"Status\":\"deleted\"}", true);
				if (env("RT_OTHER_QUEUE")) {
					char mv[96];
					snprintf(mv, sizeof(mv), "{\"Queue\":\"%s\"}", env("RT_OTHER_QUEUE"));
					departure(&cn, raw, "rt moved", "PUT", "/ticket/", "", mv, true);
				}
				cc_http_client_destroy(raw);
			}
			cn.ops->destroy(cn.self);
			pl.ops->destroy(pl.self);
		}
	}
	if (want_rm) {
		const char *assignee = env("TEST_ASSIGNEE_REDMINE");
		struct cc_connector_user users[] = { { assignee ? assignee : "-", "person:assignee" } };
		struct cc_connector_setting settings[] = {
			{ "project", env("REDMINE_PROJECT") ? env("REDMINE_PROJECT") : "sync" },
			{ "correlation_field", "ExternalRef" } };
		struct cc_connector_setup s = { .base_url = env("REDMINE_URL"),
			                        .secret = env("REDMINE_API_KEY"),
			                        .integration_user = env("REDMINE_USER") ? env("REDMINE_USER") : "admin",
			                        .cfg = &cfg, .system = 1, .settings = settings,
			                        .nsettings = 2, .users = users, .nusers = 1 };
		struct cc_connector pl;
		int rc = cc_connector_create(&cn, "redmine", &s, err, sizeof(err));
		if (rc == 0 && (rc = cc_connector_create(&pl, "redmine", &s, err, sizeof(err))) != 0)
			cn.ops->destroy(cn.self);
		g_poller = &pl;
		g_setup = &s;
		g_kind = "redmine";
		CHECK(rc == 0, "redmine create: %s", err);
		if (rc == 0) {
			struct kind k = { "redmine", "In Progress", "Resolved", "No Such Status",
				          "High", "Urgent", s.integration_user, assignee, NULL, false };
			exercise(&cn, &k);
			struct cc_http_client *raw;
			char auth[200];
			snprintf(auth, sizeof(auth), "X-Redmine-API-Key: %s", env("REDMINE_API_KEY"));
			struct cc_http_options ho = { .base_url = env("REDMINE_URL"), .auth_header = auth };
			if (cc_http_client_create(&raw, &ho, err, sizeof(err)) == 0) {
				if (env("REDMINE_OTHER_PROJECT_ID")) {
					char mv[96];
					snprintf(mv, sizeof(mv), "{\"issue\":{\"project_id\":%s}}",
					         env("REDMINE_OTHER_PROJECT_ID"));
					departure(&cn, raw, "redmine moved", "PUT", "/issues/", ".json", mv, true);
				}
				departure(&cn, raw, "redmine deleted", "DELETE", "/issues/", ".json", NULL,
				          false); /* Redmine keeps no trace of a deleted issue */
				cc_http_client_destroy(raw);
			}
			cn.ops->destroy(cn.self);
			pl.ops->destroy(pl.self);
		}
	}
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
