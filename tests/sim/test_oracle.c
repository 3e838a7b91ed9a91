/*
 * Tests of the simulator's oracle (src/oracle/oracle.c). Each test writes a
 * small true event log by hand (the manual queue's events too), derives the
 * final state of every record by replaying the log (as a perfect world
 * would), optionally spoils that final state, and checks the oracle's
 * verdict.
 *
 * Build: gcc -std=c17 -Isrc src/oracle/oracle.c src/sim/eventlog.c \
 *            tests/sim/test_oracle.c -o test_oracle
 * ORACLE_BENCH=<runs> times the oracle on a larger synthetic log.
 */
#include "oracle/oracle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures;

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, \
			        __LINE__, __func__, #cond);                      \
			failures++;                                              \
		}                                                                \
	} while (0)

#define CHECK_EQ(a, b)                                                           \
	do {                                                                     \
		unsigned long long a_ = (a), b_ = (b);                           \
		if (a_ != b_) {                                                  \
			fprintf(stderr, "%s:%d: %s: %s is %llu, expected %llu\n",  \
			        __FILE__, __LINE__, __func__, #a, a_, b_);       \
			failures++;                                              \
		}                                                                \
	} while (0)

/* ------------------------------------------------------------------------ */
/* Building logs                                                            */
/* ------------------------------------------------------------------------ */

static const char *const names[SF__COUNT] = {
	"title", "description", "state", "priority",
	"assignee", "caller", "classification", "group",
};

/* Which fields each kind carries (the test's own copy of the scenario). */
static bool kind_carries(enum sim_kind kind, int f)
{
	switch (kind) {
	case SIM_KIND_SNOW:
		return true;
	case SIM_KIND_SENTINEL:
		return f != SF_CALLER && f != SF_GROUP;
	case SIM_KIND_JIRA: /* the classification is the resolution, held while Done */
		return true;
	}
	return false;
}

static char *xstrdup(const char *s)
{
	if (!s)
		return NULL;
	char *d = malloc(strlen(s) + 1);
	if (!d) {
		perror("malloc");
		exit(2);
	}
	return strcpy(d, s);
}

static void setup(struct sim_log *log, size_t n, const enum sim_kind *kinds, int64_t uncertainty)
{
	sim_log_init(log);
	log->nsystems = n;
	for (size_t s = 0; s < n; s++)
		log->kinds[s] = kinds[s];
	log->uncertainty_ms = uncertainty;
}

static void append(struct sim_log *log, const struct sim_event *ev)
{
	if (sim_log_append(log, ev)) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
}

static struct sim_event event(enum sim_ev_kind kind, int64_t t, int sys, int rec)
{
	struct sim_event e;
	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.t_ms = t;
	e.system = sys;
	e.record = rec;
	e.field = -1;
	e.incident = -1;
	return e;
}

/*
 * A create from "field=value|field=value"; fields the kind carries and the
 * spec does not name are "" (unset), the others NULL. The values are
 * written into buf, which must outlive the append.
 */
static struct sim_event create_event(const struct sim_log *log, enum sim_ev_kind kind, int64_t t,
                                     int sys, int rec, const char *spec, char *buf)
{
	struct sim_event e = event(kind, t, sys, rec);
	for (int f = 0; f < SF__COUNT; f++)
		e.values[f] = kind_carries(log->kinds[sys], f) ? (char *)"" : NULL;
	strcpy(buf, spec);
	for (char *item = buf; item && *item;) {
		char *next = strchr(item, '|');
		if (next)
			*next++ = '\0';
		char *eq = strchr(item, '=');
		if (eq) {
			*eq = '\0';
			for (int f = 0; f < SF__COUNT; f++)
				if (strcmp(item, names[f]) == 0)
					e.values[f] = eq + 1;
		}
		item = next;
	}
	return e;
}

static void person_create(struct sim_log *log, int64_t t, int sys, int rec, int incident,
                          const char *spec)
{
	char buf[1024];
	struct sim_event e = create_event(log, SIM_EV_PERSON_CREATE, t, sys, rec, spec, buf);
	e.incident = incident;
	append(log, &e);
}

static void hub_create(struct sim_log *log, int64_t t, int sys, int rec, const char *spec)
{
	char buf[1024];
	struct sim_event e = create_event(log, SIM_EV_HUB_CREATE, t, sys, rec, spec, buf);
	append(log, &e);
}

/* Changes one value of the last event (a create) of the log. */
static void set_create_value(struct sim_log *log, int f, const char *value)
{
	struct sim_event *e = &log->ev[log->nev - 1];
	free(e->values[f]);
	e->values[f] = xstrdup(value);
}

/* What the record holds in field f after the events so far. */
static const char *current(const struct sim_log *log, int sys, int rec, int f)
{
	const char *v = NULL;
	for (size_t i = 0; i < log->nev; i++) {
		const struct sim_event *e = &log->ev[i];
		if (e->system != sys || e->record != rec)
			continue;
		if (e->kind == SIM_EV_PERSON_CREATE || e->kind == SIM_EV_HUB_CREATE)
			v = e->values[f];
		else if ((e->kind == SIM_EV_PERSON_EDIT || e->kind == SIM_EV_HUB_WRITE) && e->field == f)
			v = e->value;
	}
	return v;
}

static void change(struct sim_log *log, enum sim_ev_kind kind, int64_t t, int sys, int rec,
                   int f, const char *value, uint64_t write_id)
{
	struct sim_event e = event(kind, t, sys, rec);
	e.field = f;
	e.old_value = (char *)current(log, sys, rec, f);
	e.value = (char *)value;
	e.write_id = write_id;
	append(log, &e);
}

static void edit(struct sim_log *log, int64_t t, int sys, int rec, int f, const char *value)
{
	change(log, SIM_EV_PERSON_EDIT, t, sys, rec, f, value, 0);
}

static void hub_write(struct sim_log *log, int64_t t, int sys, int rec, int f, const char *value,
                      uint64_t write_id)
{
	change(log, SIM_EV_HUB_WRITE, t, sys, rec, f, value, write_id);
}

static void comment(struct sim_log *log, int64_t t, int sys, int rec, const char *body)
{
	struct sim_event e = event(SIM_EV_PERSON_COMMENT, t, sys, rec);
	e.value = (char *)body;
	append(log, &e);
}

/* The integration's mirror of a comment: a marker, then the body. */
static void mirror(struct sim_log *log, int64_t t, int sys, int rec, const char *body)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "[concord from elsewhere]\n%s", body);
	struct sim_event e = event(SIM_EV_HUB_COMMENT, t, sys, rec);
	e.value = buf;
	append(log, &e);
}

static void claim(struct sim_log *log, int64_t t, int sys, int rec, uint64_t key)
{
	struct sim_event e = event(SIM_EV_CLAIM, t, sys, rec);
	e.claim = key;
	append(log, &e);
}

/* Derives every record's final state from the log, as a perfect world would. */
static void finalize(struct sim_log *log)
{
	for (size_t i = 0; i < log->nev; i++) {
		const struct sim_event *first = &log->ev[i];
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = log->ev[k].system == first->system && log->ev[k].record == first->record;
		if (seen)
			continue;
		struct sim_final_record fr;
		memset(&fr, 0, sizeof(fr));
		fr.system = first->system;
		fr.record = first->record;
		char *comments[256];
		for (size_t k = i; k < log->nev; k++) {
			const struct sim_event *e = &log->ev[k];
			if (e->system != fr.system || e->record != fr.record)
				continue;
			if (e->kind == SIM_EV_PERSON_CREATE || e->kind == SIM_EV_HUB_CREATE)
				memcpy(fr.values, e->values, sizeof(fr.values));
			else if (e->kind == SIM_EV_PERSON_EDIT || e->kind == SIM_EV_HUB_WRITE)
				fr.values[e->field] = e->value;
			else if (e->kind == SIM_EV_PERSON_COMMENT || e->kind == SIM_EV_HUB_COMMENT)
				comments[fr.ncomments++] = e->value;
		}
		fr.comments = comments;
		if (sim_log_final(log, &fr)) {
			fprintf(stderr, "out of memory\n");
			exit(2);
		}
	}
}

static struct sim_final_record *fin_of(struct sim_log *log, int sys, int rec)
{
	for (size_t i = 0; i < log->nfin; i++)
		if (log->fin[i].system == sys && log->fin[i].record == rec)
			return &log->fin[i];
	fprintf(stderr, "no final record %d/%d\n", sys, rec);
	exit(2);
}

/* Spoils a final value. */
static void set_final(struct sim_log *log, int sys, int rec, int f, const char *value)
{
	struct sim_final_record *fr = fin_of(log, sys, rec);
	free(fr->values[f]);
	fr->values[f] = xstrdup(value);
}

static void add_final_comment(struct sim_log *log, int sys, int rec, const char *text)
{
	struct sim_final_record *fr = fin_of(log, sys, rec);
	char **c = realloc(fr->comments, (fr->ncomments + 1) * sizeof(char *));
	if (!c)
		exit(2);
	fr->comments = c;
	c[fr->ncomments++] = xstrdup(text);
}

static void judge(const struct sim_log *log, struct oracle_result *res)
{
	CHECK(oracle_check(log, res) == 0);
}

/* Verbose runs show what the oracle said. */
static void show(const char *test, const struct oracle_result *r)
{
	if (!getenv("ORACLE_VERBOSE"))
		return;
	printf("%-28s converged=%d lost=%llu dup=%llu dupc=%llu osc=%llu loop=%llu miss=%llu "
	       "missc=%llu div=%llu merged=%llu writes=%llu genuine=%llu\n    %s\n",
	       test, r->converged, (unsigned long long)r->lost_updates,
	       (unsigned long long)r->duplicates, (unsigned long long)r->duplicate_comments,
	       (unsigned long long)r->oscillations, (unsigned long long)r->loop_writes,
	       (unsigned long long)r->missing_records, (unsigned long long)r->missing_comments,
	       (unsigned long long)r->divergent_fields, (unsigned long long)r->merged_incidents,
	       (unsigned long long)r->hub_writes, (unsigned long long)r->genuine_changes,
	       r->first_problem);
}

static bool clean(const struct oracle_result *r)
{
	return r->converged && !r->lost_updates && !r->duplicates && !r->duplicate_comments &&
	       !r->oscillations && !r->loop_writes && !r->missing_records &&
	       !r->missing_comments && !r->divergent_fields && !r->merged_incidents &&
	       !r->parked_writes && r->first_problem[0] == '\0';
}

static const enum sim_kind three[] = { SIM_KIND_SNOW, SIM_KIND_SENTINEL, SIM_KIND_JIRA };
static const enum sim_kind snow_jira[] = { SIM_KIND_SNOW, SIM_KIND_JIRA };
static const enum sim_kind snow_sentinel[] = { SIM_KIND_SNOW, SIM_KIND_SENTINEL };

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */
/* ------------------------------------------------------------------------ */

/* One incident in three systems, edits and a comment everywhere, all agreed. */
static void build_clean(struct sim_log *log)
{
	setup(log, 3, three, 1000);
	person_create(log, 1000, 0, 0, 1,
	              "title=Disk full|description=line one\r\nline two|state=1|priority=2|"
	              "assignee=alice|caller=bob|classification=Undetermined|group=Network");
	claim(log, 1100, 0, 0, 77);
	hub_create(log, 1200, 1, 0,
	           "title=Disk full|description=line one\nline two|state=New|priority=High|"
	           "assignee=alice@corp.example|classification=Undetermined");
	claim(log, 1200, 1, 0, 77);
	hub_create(log, 1300, 2, 0,
	           "title=  Disk full  |description=line one  \nline two\n|state=To Do|"
	           "priority=High|assignee=alice|caller=bob|group=Networking");
	claim(log, 1300, 2, 0, 77);

	edit(log, 5000, 1, 0, SF_STATE, "Active");
	hub_write(log, 5100, 0, 0, SF_STATE, "2", 1);
	hub_write(log, 5100, 2, 0, SF_STATE, "In Progress", 2);

	comment(log, 6000, 2, 0, "jira says the disk is full");
	mirror(log, 6100, 0, 0, "jira says the disk is full");
	mirror(log, 6100, 1, 0, "jira says the disk is full");

	/* Critical is inside Sentinel's High: nothing to write there. */
	edit(log, 7000, 0, 0, SF_PRIORITY, "1");
	hub_write(log, 7100, 2, 0, SF_PRIORITY, "Highest", 3);
	/* Two fields in one request count as one write. */
	edit(log, 8000, 0, 0, SF_ASSIGNEE, "carol");
	edit(log, 8000, 0, 0, SF_TITLE, "Disk really full");
	hub_write(log, 8100, 2, 0, SF_ASSIGNEE, "carol", 4);
	hub_write(log, 8100, 2, 0, SF_TITLE, "Disk really full", 4);
	hub_write(log, 8100, 1, 0, SF_ASSIGNEE, "carol@corp.example", 5);
	hub_write(log, 8100, 1, 0, SF_TITLE, "Disk really full", 5);
	finalize(log);
}

static void test_clean(void)
{
	struct sim_log log;
	struct oracle_result r;
	build_clean(&log);
	judge(&log, &r);
	show(__func__, &r);
	CHECK(clean(&r));
	CHECK_EQ(r.hub_writes, 2 + 5 + 2);  /* creates, requests, comments */
	CHECK_EQ(r.genuine_changes, 1 + 4 + 1);
	sim_log_clear(&log);

	/* Sentinel's assignee must be an e-mail address: a bare login diverges. */
	build_clean(&log);
	set_final(&log, 1, 0, SF_ASSIGNEE, "carol");
	judge(&log, &r);
	show("clean, bare sentinel login", &r);
	CHECK(!r.converged);
	CHECK_EQ(r.divergent_fields, 1);
	CHECK(strstr(r.first_problem, "assignee") != NULL);
	sim_log_clear(&log);

	/* Leading spaces matter in a description, not in a title. */
	build_clean(&log);
	set_final(&log, 2, 0, SF_DESCRIPTION, "  line one\nline two");
	judge(&log, &r);
	CHECK_EQ(r.divergent_fields, 1);
	sim_log_clear(&log);
}

/* SNOW and Jira, priority edited in both; finals chosen by the caller. */
static void build_race(struct sim_log *log, int64_t t_jira, const char *snow_final,
                       const char *jira_final)
{
	setup(log, 2, snow_jira, 1000);
	person_create(log, 1000, 0, 0, 1, "title=Printer|state=1|priority=3");
	claim(log, 1000, 0, 0, 5);
	hub_create(log, 1100, 1, 0, "title=Printer|state=To Do|priority=Medium");
	claim(log, 1100, 1, 0, 5);
	edit(log, 10000, 0, 0, SF_PRIORITY, "2");
	edit(log, t_jira, 1, 0, SF_PRIORITY, "Low");
	finalize(log);
	set_final(log, 0, 0, SF_PRIORITY, snow_final);
	set_final(log, 1, 0, SF_PRIORITY, jira_final);
}

static void test_lost_update(void)
{
	struct sim_log log;
	struct oracle_result r;

	/* Jira's edit is 10 s later: its Low must win; High everywhere is lost. */
	build_race(&log, 20000, "2", "High");
	judge(&log, &r);
	show(__func__, &r);
	CHECK(r.converged);
	CHECK_EQ(r.lost_updates, 1);
	CHECK_EQ(r.divergent_fields, 0);
	CHECK(strstr(r.first_problem, "priority") != NULL);
	sim_log_clear(&log);

	/* The later edit winning is fine. */
	build_race(&log, 20000, "4", "Low");
	judge(&log, &r);
	CHECK(clean(&r));
	sim_log_clear(&log);
}

static void test_close_edits(void)
{
	struct sim_log log;
	struct oracle_result r;

	/* 500 ms apart, uncertainty 1 s: either may win... */
	build_race(&log, 10500, "2", "High");
	judge(&log, &r);
	show(__func__, &r);
	CHECK(clean(&r));
	sim_log_clear(&log);

	build_race(&log, 10500, "4", "Low");
	judge(&log, &r);
	CHECK(clean(&r));
	sim_log_clear(&log);

	/* ...but all must agree. */
	build_race(&log, 10500, "2", "Low");
	judge(&log, &r);
	show("close edits, disagreeing", &r);
	CHECK(!r.converged);
	CHECK_EQ(r.divergent_fields, 1);
	CHECK_EQ(r.lost_updates, 0);
	sim_log_clear(&log);

	/* Exactly the uncertainty apart still counts as close. */
	build_race(&log, 11000, "2", "High");
	judge(&log, &r);
	CHECK_EQ(r.lost_updates, 0);
	sim_log_clear(&log);
	build_race(&log, 11001, "2", "High");
	judge(&log, &r);
	CHECK_EQ(r.lost_updates, 1);
	sim_log_clear(&log);
}

/* SNOW resolves then closes; Sentinel only knows Closed. */
static void build_lossy(struct sim_log *log, bool pull_back)
{
	setup(log, 2, snow_sentinel, 1000);
	person_create(log, 1000, 0, 0, 1, "title=Phish|state=2|priority=2");
	claim(log, 1000, 0, 0, 9);
	hub_create(log, 1100, 1, 0, "title=Phish|state=Active|priority=High");
	claim(log, 1100, 1, 0, 9);
	edit(log, 5000, 0, 0, SF_STATE, "6");
	hub_write(log, 5100, 1, 0, SF_STATE, "Closed", 1);
	edit(log, 8000, 0, 0, SF_STATE, "7");
	if (pull_back) /* Sentinel's Closed dragged SNOW back to Resolved */
		hub_write(log, 8100, 0, 0, SF_STATE, "6", 2);
	finalize(log);
}

static void test_lossy(void)
{
	struct sim_log log;
	struct oracle_result r;

	build_lossy(&log, false);
	judge(&log, &r);
	show(__func__, &r);
	CHECK(clean(&r));
	CHECK_EQ(r.hub_writes, 2);
	sim_log_clear(&log);

	build_lossy(&log, true);
	judge(&log, &r);
	show("lossy, pulled back", &r);
	CHECK(r.converged); /* Resolved is inside Closed: the records agree... */
	CHECK_EQ(r.lost_updates, 1); /* ...but the person's Closed was lost */
	CHECK_EQ(r.oscillations, 1);
	CHECK_EQ(r.loop_writes, 0);
	sim_log_clear(&log);
}

static void test_oscillation(void)
{
	struct sim_log log;
	struct oracle_result r;

	/* A person legitimately goes back: writing the old value again is fine. */
	setup(&log, 2, snow_jira, 1000);
	person_create(&log, 1000, 0, 0, 1, "title=T|state=1");
	claim(&log, 1000, 0, 0, 3);
	hub_create(&log, 1100, 1, 0, "title=T|state=To Do");
	claim(&log, 1100, 1, 0, 3);
	edit(&log, 2000, 0, 0, SF_STATE, "2");
	hub_write(&log, 2100, 1, 0, SF_STATE, "In Progress", 1);
	edit(&log, 3000, 0, 0, SF_STATE, "1");
	hub_write(&log, 3100, 1, 0, SF_STATE, "To Do", 2);
	finalize(&log);
	judge(&log, &r);
	show(__func__, &r);
	CHECK(clean(&r));
	sim_log_clear(&log);

	/*
	 * Flapping with no person involved: every pull-back away from the
	 * person's choice is an oscillation; the write that restores the
	 * person's choice right after corrects it and is not counted again.
	 */
	setup(&log, 2, snow_jira, 1000);
	person_create(&log, 1000, 0, 0, 1, "title=T|state=1");
	claim(&log, 1000, 0, 0, 3);
	hub_create(&log, 1100, 1, 0, "title=T|state=To Do");
	claim(&log, 1100, 1, 0, 3);
	edit(&log, 5000, 0, 0, SF_STATE, "2");
	hub_write(&log, 5100, 1, 0, SF_STATE, "In Progress", 1);
	hub_write(&log, 5200, 0, 0, SF_STATE, "1", 2);   /* back to New: oscillation 1 */
	hub_write(&log, 5300, 1, 0, SF_STATE, "To Do", 3); /* oscillation 2 */
	hub_write(&log, 5400, 0, 0, SF_STATE, "2", 4);   /* restores the person's choice */
	/* Third write to Jira's state for two person changes: a loop write. */
	hub_write(&log, 5500, 1, 0, SF_STATE, "In Progress", 5);
	hub_write(&log, 5600, 0, 0, SF_STATE, "1", 6);   /* oscillation 3, loop write */
	finalize(&log);
	judge(&log, &r);
	show("oscillation, flapping", &r);
	CHECK(!r.converged);
	CHECK_EQ(r.oscillations, 3);
	CHECK_EQ(r.loop_writes, 2);
	CHECK_EQ(r.divergent_fields, 1); /* SNOW ends at New, Jira at In Progress */
	sim_log_clear(&log);

	/*
	 * A late delivery: the hub carries Sentinel's Active to Jira after the
	 * person had already closed again, then carries the Closed. Jira goes
	 * Done -> In Progress -> Done, but the return follows a person's choice.
	 */
	static const enum sim_kind sentinel_jira[] = { SIM_KIND_SENTINEL, SIM_KIND_JIRA };
	setup(&log, 2, sentinel_jira, 1000);
	person_create(&log, 1000, 0, 0, 1, "title=T|state=Closed");
	claim(&log, 1000, 0, 0, 3);
	hub_create(&log, 1100, 1, 0, "title=T|state=Done");
	claim(&log, 1100, 1, 0, 3);
	edit(&log, 10000, 0, 0, SF_STATE, "Active");
	edit(&log, 20000, 0, 0, SF_STATE, "Closed");
	hub_write(&log, 20100, 1, 0, SF_STATE, "In Progress", 1);
	hub_write(&log, 30000, 1, 0, SF_STATE, "Done", 2);
	finalize(&log);
	judge(&log, &r);
	show("oscillation, late delivery", &r);
	CHECK(clean(&r));
	sim_log_clear(&log);

	/*
	 * Concurrent edits (150 ms apart, uncertainty 1 s): SNOW closes, a
	 * Sentinel user reopens; the hub lets SNOW's Closed win and brings
	 * Sentinel back. Allowed. A second apart more, it is a flip.
	 */
	for (int apart = 150; apart <= 1150; apart += 1000) {
		setup(&log, 2, snow_sentinel, 1000);
		person_create(&log, 1000, 0, 0, 1, "title=T|state=2");
		claim(&log, 1000, 0, 0, 3);
		hub_create(&log, 1100, 1, 0, "title=T|state=Active");
		claim(&log, 1100, 1, 0, 3);
		edit(&log, 10000, 0, 0, SF_STATE, "7");
		hub_write(&log, 10050, 1, 0, SF_STATE, "Closed", 1);
		edit(&log, 10000 + apart, 1, 0, SF_STATE, "New");
		hub_write(&log, 12000, 1, 0, SF_STATE, "Closed", 2);
		finalize(&log);
		judge(&log, &r);
		show("oscillation, concurrent", &r);
		CHECK_EQ(r.oscillations, apart < 1000 ? 0 : 1);
		CHECK_EQ(r.lost_updates, apart < 1000 ? 0 : 1);
		CHECK(r.converged);
		sim_log_clear(&log);
	}

	/* Without the person's second Closed, the same return is a flip. */
	setup(&log, 2, sentinel_jira, 1000);
	person_create(&log, 1000, 0, 0, 1, "title=T|state=Closed");
	claim(&log, 1000, 0, 0, 3);
	hub_create(&log, 1100, 1, 0, "title=T|state=Done");
	claim(&log, 1100, 1, 0, 3);
	edit(&log, 10000, 0, 0, SF_STATE, "Active");
	hub_write(&log, 10100, 1, 0, SF_STATE, "In Progress", 1);
	hub_write(&log, 30000, 1, 0, SF_STATE, "Done", 2);
	finalize(&log);
	judge(&log, &r);
	CHECK_EQ(r.oscillations, 1);
	CHECK_EQ(r.divergent_fields, 1); /* and Jira's Done contradicts Active */
	sim_log_clear(&log);
}

static void test_duplicates(void)
{
	struct sim_log log;
	struct oracle_result r;

	/* A create retried after a timeout made two Jira records. */
	setup(&log, 2, snow_jira, 1000);
	person_create(&log, 1000, 0, 0, 1, "title=VPN down");
	claim(&log, 1000, 0, 0, 11);
	hub_create(&log, 1100, 1, 0, "title=VPN down");
	claim(&log, 1100, 1, 0, 11);
	hub_create(&log, 1500, 1, 1, "title=VPN down");
	claim(&log, 1500, 1, 1, 11);
	finalize(&log);
	judge(&log, &r);
	show(__func__, &r);
	CHECK(r.converged);
	CHECK_EQ(r.duplicates, 1);
	CHECK(strstr(r.first_problem, "2 records") != NULL);
	sim_log_clear(&log);

	/* Twins linked together: one incident, one record per system. */
	setup(&log, 2, snow_jira, 1000);
	person_create(&log, 1000, 0, 0, 5, "title=VPN down");
	person_create(&log, 1200, 1, 0, 5, "title=vpn down");
	claim(&log, 1300, 0, 0, 12);
	claim(&log, 1300, 1, 0, 12);
	hub_write(&log, 1400, 1, 0, SF_TITLE, "VPN down", 1);
	finalize(&log);
	judge(&log, &r);
	show("twins linked", &r);
	CHECK(clean(&r));
	sim_log_clear(&log);

	/* Twins not recognised: each mirrored on its own. */
	setup(&log, 2, snow_jira, 1000);
	person_create(&log, 1000, 0, 0, 5, "title=VPN down");
	person_create(&log, 1200, 1, 0, 5, "title=VPN down");
	claim(&log, 1300, 0, 0, 12);
	hub_create(&log, 1300, 1, 1, "title=VPN down");
	claim(&log, 1300, 1, 1, 12);
	claim(&log, 1400, 1, 0, 13);
	hub_create(&log, 1400, 0, 1, "title=VPN down");
	claim(&log, 1400, 0, 1, 13);
	finalize(&log);
	judge(&log, &r);
	show("twins unlinked", &r);
	CHECK(r.converged);
	CHECK_EQ(r.duplicates, 2);
	sim_log_clear(&log);
}

/* Record numbers far apart (and negative) take the oracle's sorted path. */
static void test_sparse_ids(void)
{
	struct sim_log log;
	struct oracle_result r;
	setup(&log, 2, snow_jira, 1000);
	person_create(&log, 1000, 0, 1000000, 1, "title=Far");
	claim(&log, 1000, 0, 1000000, 4);
	hub_create(&log, 1100, 1, -3, "title=Far");
	claim(&log, 1100, 1, -3, 4);
	hub_create(&log, 1200, 1, 7, "title=Far");
	claim(&log, 1200, 1, 7, 4);
	edit(&log, 2000, 1, -3, SF_TITLE, "Near");
	hub_write(&log, 2100, 0, 1000000, SF_TITLE, "Near", 1);
	hub_write(&log, 2100, 1, 7, SF_TITLE, "Near", 2);
	finalize(&log);
	judge(&log, &r);
	show(__func__, &r);
	CHECK(r.converged);
	CHECK_EQ(r.duplicates, 1);
	CHECK_EQ(r.lost_updates, 0);
	CHECK_EQ(r.loop_writes, 0);
	set_final(&log, 1, 7, SF_TITLE, "Far");
	judge(&log, &r);
	CHECK_EQ(r.divergent_fields, 1);
	sim_log_clear(&log);
}

static void test_merged(void)
{
	struct sim_log log;
	struct oracle_result r;
	setup(&log, 2, snow_jira, 1000);
	person_create(&log, 1000, 0, 0, 1, "title=Mail slow");
	person_create(&log, 1100, 0, 1, 2, "title=Mail slow");
	claim(&log, 1200, 0, 0, 21);
	hub_create(&log, 1300, 1, 0, "title=Mail slow");
	claim(&log, 1300, 1, 0, 21);
	claim(&log, 1400, 0, 1, 21); /* a false duplicate match */
	finalize(&log);
	judge(&log, &r);
	show(__func__, &r);
	CHECK(!r.converged);
	CHECK_EQ(r.merged_incidents, 1);
	CHECK(strstr(r.first_problem, "merged") != NULL);
	sim_log_clear(&log);
}

static void test_routing(void)
{
	struct sim_log log;
	struct oracle_result r;
	setup(&log, 3, three, 1000);
	/* Jira gets every incident except the network group's. */
	log.route_field[2] = SF_GROUP;
	log.route_unless[2] = "network";

	person_create(&log, 1000, 0, 0, 1, "title=Switch|group=Network");
	claim(&log, 1000, 0, 0, 1);
	hub_create(&log, 1100, 1, 0, "title=Switch");
	claim(&log, 1100, 1, 0, 1);

	person_create(&log, 2000, 0, 1, 2, "title=Laptop|group=Security");
	claim(&log, 2000, 0, 1, 2);
	hub_create(&log, 2100, 1, 1, "title=Laptop");
	claim(&log, 2100, 1, 1, 2);

	/* Created in Sentinel, which has no group: unset, so routed to Jira. */
	person_create(&log, 3000, 1, 2, 3, "title=Alert");
	claim(&log, 3000, 1, 2, 3);
	hub_create(&log, 3100, 0, 2, "title=Alert");
	claim(&log, 3100, 0, 2, 3);
	hub_create(&log, 3100, 2, 0, "title=Alert");
	claim(&log, 3100, 2, 0, 3);
	finalize(&log);

	judge(&log, &r);
	show(__func__, &r);
	CHECK(!r.converged);
	CHECK_EQ(r.missing_records, 1); /* incident 2 in Jira only */
	CHECK(strstr(r.first_problem, "incident 2 has no record in system 2") != NULL);
	sim_log_clear(&log);
}

static void test_loop_write(void)
{
	struct sim_log log;
	struct oracle_result r;
	setup(&log, 2, snow_jira, 1000);
	person_create(&log, 1000, 0, 0, 1, "title=A");
	claim(&log, 1000, 0, 0, 1);
	hub_create(&log, 1100, 1, 0, "title=A");
	claim(&log, 1100, 1, 0, 1);
	edit(&log, 5000, 0, 0, SF_TITLE, "B");
	hub_write(&log, 5100, 1, 0, SF_TITLE, "B", 1);
	/* Two one-way pipelines bounce a trailing space back and forth. */
	hub_write(&log, 5200, 0, 0, SF_TITLE, "B ", 2);
	hub_write(&log, 5300, 1, 0, SF_TITLE, "B ", 3);
	hub_write(&log, 5400, 0, 0, SF_TITLE, "B", 4);
	hub_write(&log, 5500, 1, 0, SF_TITLE, "B", 5);
	finalize(&log);
	judge(&log, &r);
	show(__func__, &r);
	CHECK(r.converged);
	CHECK_EQ(r.loop_writes, 1);
	CHECK_EQ(r.hub_writes, 1 + 5);
	CHECK(strstr(r.first_problem, "loop write") != NULL);
	sim_log_clear(&log);

	/* A write before the edit it would need is a loop, even if later justified. */
	setup(&log, 2, snow_jira, 1000);
	person_create(&log, 1000, 0, 0, 1, "title=A|description=");
	claim(&log, 1000, 0, 0, 1);
	hub_create(&log, 1100, 1, 0, "title=A|description=");
	claim(&log, 1100, 1, 0, 1);
	hub_write(&log, 2000, 1, 0, SF_DESCRIPTION, "x", 1); /* nobody set a description */
	edit(&log, 3000, 0, 0, SF_DESCRIPTION, "x");
	finalize(&log);
	judge(&log, &r);
	CHECK_EQ(r.loop_writes, 1);
	sim_log_clear(&log);
}

static void test_comments(void)
{
	struct sim_log log;
	struct oracle_result r;
	setup(&log, 3, three, 1000);
	person_create(&log, 1000, 0, 0, 1, "title=Chat");
	claim(&log, 1000, 0, 0, 1);
	hub_create(&log, 1100, 1, 0, "title=Chat");
	claim(&log, 1100, 1, 0, 1);
	hub_create(&log, 1100, 2, 0, "title=Chat");
	claim(&log, 1100, 2, 0, 1);
	comment(&log, 2000, 0, 0, "note c1");
	comment(&log, 2100, 0, 0, "note c12");
	mirror(&log, 2200, 1, 0, "note c12");
	mirror(&log, 2200, 2, 0, "note c12");
	mirror(&log, 2200, 2, 0, "note c1");
	mirror(&log, 2300, 2, 0, "note c1"); /* duplicate in Jira; Sentinel misses c1 */
	finalize(&log);
	judge(&log, &r);
	show(__func__, &r);
	CHECK(!r.converged);
	CHECK_EQ(r.missing_comments, 1);
	CHECK_EQ(r.duplicate_comments, 1);
	CHECK(strstr(r.first_problem, "note c1\"") != NULL);
	sim_log_clear(&log);

	/* Echoed back to its origin: a duplicate there. */
	setup(&log, 2, snow_jira, 1000);
	person_create(&log, 1000, 0, 0, 1, "title=Chat");
	claim(&log, 1000, 0, 0, 1);
	hub_create(&log, 1100, 1, 0, "title=Chat");
	claim(&log, 1100, 1, 0, 1);
	comment(&log, 2000, 1, 0, "from jira");
	mirror(&log, 2100, 0, 0, "from jira");
	finalize(&log);
	judge(&log, &r);
	CHECK(clean(&r));
	add_final_comment(&log, 1, 0, "[concord] from jira");
	judge(&log, &r);
	CHECK(r.converged);
	CHECK_EQ(r.duplicate_comments, 1);
	sim_log_clear(&log);
}

/* Priority owned by SNOW; Jira's person edits it later. */
static void build_owner(struct sim_log *log, enum sim_rule rule, const char *snow_final,
                        const char *jira_final)
{
	setup(log, 2, snow_jira, 1000);
	log->rules[SF_PRIORITY] = rule;
	log->owner[SF_PRIORITY] = 0;
	person_create(log, 1000, 0, 0, 1, "title=Owned|priority=3");
	claim(log, 1000, 0, 0, 1);
	hub_create(log, 1100, 1, 0, "title=Owned|priority=Medium");
	claim(log, 1100, 1, 0, 1);
	edit(log, 5000, 1, 0, SF_PRIORITY, "Low");
	if (strcmp(jira_final, "Low") != 0)
		hub_write(log, 5100, 1, 0, SF_PRIORITY, jira_final, 1); /* revert */
	if (strcmp(snow_final, "3") != 0)
		hub_write(log, 5100, 0, 0, SF_PRIORITY, snow_final, 2); /* wrongly applied */
	finalize(log);
}

static void test_owner(void)
{
	struct sim_log log;
	struct oracle_result r;

	build_owner(&log, SIM_RULE_OWNER_REVERT, "3", "Medium");
	judge(&log, &r);
	show(__func__, &r);
	CHECK(clean(&r));
	sim_log_clear(&log);

	/* Under last writer wins the same outcome loses Jira's edit. */
	build_owner(&log, SIM_RULE_LWW, "3", "Medium");
	judge(&log, &r);
	CHECK_EQ(r.lost_updates, 1);
	sim_log_clear(&log);

	/* The refused change applied to the owner is a lost update. */
	build_owner(&log, SIM_RULE_OWNER_REVERT, "4", "Low");
	judge(&log, &r);
	show("owner revert, applied", &r);
	CHECK(r.converged);
	CHECK_EQ(r.lost_updates, 1);
	sim_log_clear(&log);

	/* Not reverted at all: the records disagree. */
	build_owner(&log, SIM_RULE_OWNER_REVERT, "3", "Low");
	judge(&log, &r);
	CHECK_EQ(r.divergent_fields, 1);
	sim_log_clear(&log);

	/* Ignore: Jira keeps its own value, the owner keeps its own. */
	build_owner(&log, SIM_RULE_OWNER_IGNORE, "3", "Low");
	judge(&log, &r);
	show("owner ignore", &r);
	CHECK(clean(&r));
	sim_log_clear(&log);

	build_owner(&log, SIM_RULE_OWNER_IGNORE, "4", "Low");
	judge(&log, &r);
	CHECK_EQ(r.lost_updates, 1);
	CHECK_EQ(r.divergent_fields, 0);
	sim_log_clear(&log);

	/* The owner's own later edit wins over an earlier one elsewhere. */
	setup(&log, 2, snow_jira, 1000);
	log.rules[SF_PRIORITY] = SIM_RULE_OWNER_REVERT;
	log.owner[SF_PRIORITY] = 0;
	person_create(&log, 1000, 1, 0, 1, "title=Owned|priority=Medium"); /* created outside */
	claim(&log, 1000, 1, 0, 1);
	hub_create(&log, 1100, 0, 0, "title=Owned|priority=3");
	claim(&log, 1100, 0, 0, 1);
	edit(&log, 5000, 1, 0, SF_PRIORITY, "Lowest");
	hub_write(&log, 5100, 1, 0, SF_PRIORITY, "Medium", 1);
	finalize(&log);
	judge(&log, &r);
	CHECK(clean(&r)); /* no owner edit: the create's value stands */
	sim_log_clear(&log);

	/*
	 * Edits made before the integration first mirrored the incident: it saw
	 * the new record once, as a snapshot, so any value of that window may
	 * stand (the owner's record is created from it).
	 */
	for (int variant = 0; variant < 3; variant++) {
		static const char *const snow_value[] = { "2", "3", "4" };
		static const char *const jira_value[] = { "High", "Medium", "Low" };
		setup(&log, 2, snow_jira, 1000);
		log.rules[SF_PRIORITY] = SIM_RULE_OWNER_REVERT;
		log.owner[SF_PRIORITY] = 0;
		person_create(&log, 1000, 1, 0, 1, "title=Early|priority=Medium");
		edit(&log, 2000, 1, 0, SF_PRIORITY, "Low");
		edit(&log, 3000, 1, 0, SF_PRIORITY, "High");
		claim(&log, 9000, 1, 0, 1);
		if (strcmp(jira_value[variant], "High") != 0)
			hub_write(&log, 9000, 1, 0, SF_PRIORITY, jira_value[variant], 1);
		hub_create(&log, 10000, 0, 0, "title=Early");
		set_create_value(&log, SF_PRIORITY, snow_value[variant]);
		claim(&log, 10000, 0, 0, 1);
		finalize(&log);
		judge(&log, &r);
		show("owner, edits before owner", &r);
		CHECK(clean(&r));
		sim_log_clear(&log);
	}

	/*
	 * Raised in Jira (no classification), mirrored to SNOW, classified in
	 * SNOW, and only then mirrored to Sentinel, which owns classification
	 * (ignore): SNOW's change does not count, Sentinel stays unset.
	 */
	setup(&log, 3, three, 1000);
	log.rules[SF_CLASSIFICATION] = SIM_RULE_OWNER_IGNORE;
	log.owner[SF_CLASSIFICATION] = 1;
	person_create(&log, 1000, 2, 0, 1, "title=Late owner");
	claim(&log, 1000, 2, 0, 1);
	hub_create(&log, 2000, 0, 0, "title=Late owner");
	claim(&log, 2000, 0, 0, 1);
	edit(&log, 3000, 0, 0, SF_CLASSIFICATION, "True positive");
	hub_create(&log, 4000, 1, 0, "title=Late owner");
	claim(&log, 4000, 1, 0, 1);
	finalize(&log);
	judge(&log, &r);
	show("owner ignore, late owner", &r);
	CHECK(clean(&r));
	set_final(&log, 1, 0, SF_CLASSIFICATION, "TruePositive");
	judge(&log, &r);
	CHECK_EQ(r.divergent_fields, 1); /* nobody who counts set it */
	sim_log_clear(&log);

	/* Once the owner holds it, a later edit elsewhere must not win. */
	setup(&log, 2, snow_jira, 1000);
	log.rules[SF_PRIORITY] = SIM_RULE_OWNER_REVERT;
	log.owner[SF_PRIORITY] = 0;
	person_create(&log, 1000, 1, 0, 1, "title=Early|priority=Medium");
	claim(&log, 1000, 1, 0, 1);
	hub_create(&log, 2000, 0, 0, "title=Early|priority=3");
	claim(&log, 2000, 0, 0, 1);
	edit(&log, 3000, 1, 0, SF_PRIORITY, "High");
	hub_write(&log, 3100, 0, 0, SF_PRIORITY, "2", 1);
	finalize(&log);
	judge(&log, &r);
	CHECK(r.converged);
	CHECK_EQ(r.lost_updates, 1);
	sim_log_clear(&log);
}

/*
 * Required fields: a state that needs the classification field (SNOW's
 * Resolved, Sentinel's Closed, Jira's Done) is written with it in the same
 * request, a companion the state change justifies; a default no person
 * chose stands; a Jira-like issue is judged on its resolution only while
 * Done.
 */
static void build_required(struct sim_log *log, bool separate)
{
	setup(log, 3, three, 1000);
	log->rules[SF_CLASSIFICATION] = SIM_RULE_OWNER_IGNORE;
	log->owner[SF_CLASSIFICATION] = 1;
	person_create(log, 1000, 2, 0, 1, "title=Needs|state=To Do|classification=");
	claim(log, 1000, 2, 0, 1);
	hub_create(log, 2000, 0, 0, "title=Needs|state=1");
	claim(log, 2000, 0, 0, 1);
	hub_create(log, 2000, 1, 0, "title=Needs|state=New");
	claim(log, 2000, 1, 0, 1);
	edit(log, 3000, 2, 0, SF_STATE, "Done");
	edit(log, 3000, 2, 0, SF_CLASSIFICATION, "Won't Do");
	hub_write(log, 3100, 0, 0, SF_STATE, "6", 1);
	hub_write(log, 3100, 0, 0, SF_CLASSIFICATION, "Undetermined", 1);
	hub_write(log, 3100, 1, 0, SF_STATE, "Closed", 2);
	hub_write(log, 3200, 1, 0, SF_CLASSIFICATION, "Undetermined", separate ? 3 : 2);
	finalize(log);
}

static void test_required_fields(void)
{
	struct sim_log log;
	struct oracle_result r;
	build_required(&log, false);
	judge(&log, &r);
	show(__func__, &r);
	CHECK(clean(&r));
	sim_log_clear(&log);

	/* the same value in a request of its own is a value no person chose */
	build_required(&log, true);
	judge(&log, &r);
	CHECK(!r.converged);
	CHECK_EQ(r.divergent_fields, 1);
	CHECK(strstr(r.first_problem, "classification") != NULL);
	sim_log_clear(&log);

	/* a default stands only where no person's value counts: the owner's
	 * own classification must reach its record */
	build_required(&log, false);
	edit(&log, 2500, 1, 0, SF_CLASSIFICATION, "TruePositive");
	finalize(&log);
	judge(&log, &r);
	CHECK_EQ(r.lost_updates, 1);
	sim_log_clear(&log);

	/* each Done carries its resolution again (Jira cleared it on the way
	 * out): justified by the state, not by classification edits */
	for (int separate = 0; separate < 2; separate++) {
		setup(&log, 2, snow_jira, 1000);
		person_create(&log, 1000, 0, 0, 1, "title=L|state=1|classification=Undetermined");
		claim(&log, 1000, 0, 0, 1);
		hub_create(&log, 1100, 1, 0, "title=L|state=To Do|classification=");
		claim(&log, 1100, 1, 0, 1);
		edit(&log, 2000, 0, 0, SF_STATE, "6");
		hub_write(&log, 2100, 1, 0, SF_STATE, "Done", 1);
		hub_write(&log, 2100, 1, 0, SF_CLASSIFICATION, "Done", separate ? 5 : 1);
		edit(&log, 3000, 0, 0, SF_STATE, "2");
		hub_write(&log, 3100, 1, 0, SF_STATE, "To Do", 2);
		edit(&log, 4000, 0, 0, SF_STATE, "7");
		hub_write(&log, 4100, 1, 0, SF_STATE, "Done", 3);
		hub_write(&log, 4100, 1, 0, SF_CLASSIFICATION, "Done", separate ? 4 : 3);
		finalize(&log);
		judge(&log, &r);
		if (separate) {
			CHECK_EQ(r.loop_writes, 1);
		} else {
			show("required, done twice", &r);
			CHECK(clean(&r));
		}
		sim_log_clear(&log);
	}

	/* Jira holds a resolution only while Done: none in To Do is no divergence */
	setup(&log, 2, snow_jira, 1000);
	person_create(&log, 1000, 0, 0, 1, "title=Open|state=2|classification=Undetermined");
	claim(&log, 1000, 0, 0, 1);
	hub_create(&log, 1100, 1, 0, "title=Open|state=In Progress|classification=");
	claim(&log, 1100, 1, 0, 1);
	finalize(&log);
	judge(&log, &r);
	CHECK(clean(&r));
	/* ... but a Done issue without one diverges */
	set_final(&log, 0, 0, SF_STATE, "6");
	set_final(&log, 1, 0, SF_STATE, "Done");
	judge(&log, &r);
	CHECK(!r.converged);
	CHECK(strstr(r.first_problem, "classification") != NULL);
	sim_log_clear(&log);
}

/* A field nobody set must stay unset everywhere. */
static void test_never_set(void)
{
	struct sim_log log;
	struct oracle_result r;
	setup(&log, 2, snow_jira, 1000);
	person_create(&log, 1000, 1, 0, 1, "title=From Jira|state=To Do");
	claim(&log, 1000, 1, 0, 1);
	hub_create(&log, 1100, 0, 0, "title=From Jira|state=1");
	claim(&log, 1100, 0, 0, 1);
	finalize(&log);
	judge(&log, &r);
	CHECK(clean(&r));
	set_final(&log, 0, 0, SF_CLASSIFICATION, "Undetermined");
	judge(&log, &r);
	show(__func__, &r);
	CHECK(!r.converged);
	CHECK_EQ(r.divergent_fields, 1);
	CHECK(strstr(r.first_problem, "classification") != NULL);
	sim_log_clear(&log);

	/* An unknown remote value matches nothing. */
	setup(&log, 2, snow_jira, 1000);
	person_create(&log, 1000, 0, 0, 1, "title=X|state=1");
	claim(&log, 1000, 0, 0, 1);
	hub_create(&log, 1100, 1, 0, "title=X|state=Backlog");
	claim(&log, 1100, 1, 0, 1);
	finalize(&log);
	judge(&log, &r);
	CHECK_EQ(r.divergent_fields, 1);
	sim_log_clear(&log);
}

/* ---- the manual queue --------------------------------------------------- */

static void queue_event(struct sim_log *log, enum sim_ev_kind kind, int64_t t, int sys, int rec,
                        int f, const char *value, int64_t since)
{
	struct sim_event e = event(kind, t, sys, rec);
	e.field = f;
	e.value = (char *)value;
	e.since_ms = since;
	append(log, &e);
}

/*
 * SNOW and Sentinel, assignee under the manual rule. Two people change it
 * half a second apart (bob, then carol): the integration parks it, a
 * person sees it at 20 s and, unless `unresolved`, sets dave at 60 s,
 * which the integration writes at once. The finals are dave, unless the
 * caller changes them.
 */
static void build_manual(struct sim_log *log, bool unresolved)
{
	setup(log, 2, snow_sentinel, 1000);
	log->rules[SF_ASSIGNEE] = SIM_RULE_MANUAL;
	for (int f = 0; f < SF__COUNT; f++)
		log->owner[f] = -1;
	person_create(log, 1000, 0, 0, 1, "title=Fax jam|assignee=alice");
	claim(log, 1000, 0, 0, 7);
	hub_create(log, 1100, 1, 0, "title=Fax jam|assignee=alice@corp.example");
	claim(log, 1100, 1, 0, 7);
	edit(log, 10000, 0, 0, SF_ASSIGNEE, "bob");
	edit(log, 10500, 1, 0, SF_ASSIGNEE, "carol@corp.example");
	queue_event(log, SIM_EV_PARK_SEEN, 20000, 1, 0, SF_ASSIGNEE, NULL, 0);
	if (unresolved)
		return;
	queue_event(log, SIM_EV_PERSON_RESOLVE, 60000, 1, 0, SF_ASSIGNEE, "dave", 20000);
	hub_write(log, 60000, 0, 0, SF_ASSIGNEE, "dave", 1);
	hub_write(log, 60000, 1, 0, SF_ASSIGNEE, "dave@corp.example", 2);
}

static void test_manual(void)
{
	struct sim_log log;
	struct oracle_result r;

	/* The person's decision stands, though carol was the latest edit. */
	build_manual(&log, false);
	finalize(&log);
	judge(&log, &r);
	show(__func__, &r);
	CHECK(clean(&r));
	CHECK_EQ(r.parked, 1);
	CHECK_EQ(r.resolved, 1);
	CHECK_EQ(r.genuine_changes, 1 + 2 + 1);  /* the resolution is a person's change */
	CHECK_EQ(r.loop_writes, 0);
	sim_log_clear(&log);

	/* The latest edit instead of the decision: a lost update. */
	build_manual(&log, false);
	finalize(&log);
	set_final(&log, 0, 0, SF_ASSIGNEE, "carol");
	set_final(&log, 1, 0, SF_ASSIGNEE, "carol@corp.example");
	judge(&log, &r);
	show("manual, decision lost", &r);
	CHECK(r.converged);
	CHECK_EQ(r.lost_updates, 1);
	sim_log_clear(&log);

	/* A person's change after the decision wins as usual... */
	build_manual(&log, false);
	edit(&log, 90000, 1, 0, SF_ASSIGNEE, "erin@corp.example");
	hub_write(&log, 90100, 0, 0, SF_ASSIGNEE, "erin", 3);
	finalize(&log);
	judge(&log, &r);
	CHECK(clean(&r));
	sim_log_clear(&log);
	/* ... and the decision may not undo it. */
	build_manual(&log, false);
	edit(&log, 90000, 1, 0, SF_ASSIGNEE, "erin@corp.example");
	hub_write(&log, 90100, 1, 0, SF_ASSIGNEE, "dave@corp.example", 3);
	finalize(&log);
	judge(&log, &r);
	CHECK_EQ(r.lost_updates, 1);
	sim_log_clear(&log);

	/* A change made before the decision (seen late) loses to it. */
	build_manual(&log, false);
	edit(&log, 40000, 1, 0, SF_ASSIGNEE, "frank@corp.example");
	hub_write(&log, 70000, 1, 0, SF_ASSIGNEE, "dave@corp.example", 3);
	finalize(&log);
	judge(&log, &r);
	CHECK(clean(&r));
	sim_log_clear(&log);

	/* Written while the person had it in the queue. */
	build_manual(&log, false);
	hub_write(&log, 30000, 0, 0, SF_ASSIGNEE, "carol", 3);
	finalize(&log);
	set_final(&log, 0, 0, SF_ASSIGNEE, "dave"); /* the log is not in time order here */
	judge(&log, &r);
	show("manual, written while parked", &r);
	CHECK_EQ(r.parked_writes, 1);
	CHECK(strstr(r.first_problem, "while parked") != NULL);
	sim_log_clear(&log);

	/* Still parked at the end, as the integration says: not judged... */
	build_manual(&log, true);
	queue_event(&log, SIM_EV_PARKED_AT_END, 99000, 1, 0, SF_ASSIGNEE, NULL, 0);
	finalize(&log);
	judge(&log, &r);
	show("manual, parked at the end", &r);
	CHECK(clean(&r));
	CHECK_EQ(r.parked, 1);
	CHECK_EQ(r.resolved, 0);
	sim_log_clear(&log);
	/* ... without that claim, the disagreement is a divergence */
	build_manual(&log, true);
	finalize(&log);
	judge(&log, &r);
	CHECK(!r.converged);
	CHECK_EQ(r.divergent_fields, 1);
	sim_log_clear(&log);
	/* ... and a write after it was seen, never resolved, is still one */
	build_manual(&log, true);
	hub_write(&log, 50000, 0, 0, SF_ASSIGNEE, "carol", 3);
	queue_event(&log, SIM_EV_PARKED_AT_END, 99000, 1, 0, SF_ASSIGNEE, NULL, 0);
	finalize(&log);
	judge(&log, &r);
	CHECK_EQ(r.parked_writes, 1);
	sim_log_clear(&log);
}

static void test_empty(void)
{
	struct sim_log log;
	struct oracle_result r;
	setup(&log, 2, snow_jira, 1000);
	judge(&log, &r);
	CHECK(clean(&r));
	CHECK_EQ(r.hub_writes, 0);
	sim_log_clear(&log);
}

/* ------------------------------------------------------------------------ */
/* Timing                                                                   */
/* ------------------------------------------------------------------------ */

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/* A few hundred records, a few thousand events, judged `runs` times. */
static void bench(int runs)
{
	static const char *const states[] = { "1", "2", "3", "6", "7" };
	struct sim_log log;
	setup(&log, 3, three, 1000);
	uint64_t seed = 42;
	int64_t t = 0;
	int nrec[3] = { 0 };
	char body[64];
	for (int inc = 0; inc < 100; inc++) {
		int r0 = nrec[0]++;
		person_create(&log, t += 10, 0, r0, inc, "title=Bench|state=1|priority=3|group=Network");
		claim(&log, t, 0, r0, (uint64_t)inc);
		int r1 = nrec[1]++;
		hub_create(&log, t += 10, 1, r1, "title=Bench|state=New|priority=Medium");
		claim(&log, t, 1, r1, (uint64_t)inc);
		int r2 = nrec[2]++;
		hub_create(&log, t += 10, 2, r2, "title=Bench|state=To Do|priority=Medium");
		claim(&log, t, 2, r2, (uint64_t)inc);
	}
	for (int k = 0; k < 3000; k++) {
		int inc = (int)(lcg(&seed) % 100);
		int op = (int)(lcg(&seed) % 3);
		if (op == 0) {
			edit(&log, t += 7, 0, inc, SF_STATE, states[lcg(&seed) % 5]);
		} else if (op == 1) {
			hub_write(&log, t += 7, 2, inc, SF_TITLE, (k & 1) ? "Bench" : "Bench!", (uint64_t)k);
		} else {
			snprintf(body, sizeof(body), "comment %d", k);
			comment(&log, t += 7, 1, inc, body);
			mirror(&log, t += 7, 0, inc, body);
		}
	}
	finalize(&log);
	struct oracle_result r;
	clock_t c0 = clock();
	for (int i = 0; i < runs; i++)
		judge(&log, &r);
	double ms = 1000.0 * (double)(clock() - c0) / CLOCKS_PER_SEC;
	printf("bench: %zu events, %zu records, %d runs in %.1f ms (%.3f ms/run)\n",
	       log.nev, log.nfin, runs, ms, runs ? ms / runs : 0.0);
	CHECK(r.missing_comments > 0); /* comments never reached Jira */
	sim_log_clear(&log);
}

int main(void)
{
	test_clean();
	test_lost_update();
	test_close_edits();
	test_lossy();
	test_oscillation();
	test_duplicates();
	test_sparse_ids();
	test_merged();
	test_routing();
	test_loop_write();
	test_comments();
	test_owner();
	test_never_set();
	test_required_fields();
	test_manual();
	test_empty();
	const char *b = getenv("ORACLE_BENCH");
	bench(b ? atoi(b) : 3);
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("test_oracle: all checks passed\n");
	return 0;
}
