/*
 * One simulation run (see sim.h): the discrete-event loop that advances
 * true time from one event to the next (people, webhooks, the
 * integration's polls and deliveries, crashes, partitions), stops the
 * faults after the edit phase, lets the system quiesce, counts the writes
 * of a quiet window, and hands the true event log to the oracle.
 */
#include "sim/sim.h"

#include "sim/scenario.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STEPS 20000000L

void sim_options_defaults(struct sim_options *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->nsystems = 3;
	o->faults = SIM_F_ALL;
	o->model = SIM_MODEL_HUB;
	o->edit_ms = 4LL * 3600 * 1000;
	o->quiesce_ms = 2LL * 3600 * 1000;
	o->quiet_ms = 30LL * 60 * 1000;
	o->mean_action_ms = 90 * 1000;
	o->poll_interval_ms = 60 * 1000;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Prints at most max characters of a value on one line (\n shown as such). */
static void put_value(FILE *f, const char *v, int max)
{
	fputc('"', f);
	for (int i = 0; v && v[i] && i < max; i++) {
		if (v[i] == '\n')
			fputs("\\n", f);
		else if (v[i] == '\r')
			fputs("\\r", f);
		else
			fputc(v[i], f);
	}
	fputc('"', f);
}

static void narrate_event(FILE *f, const struct sim_world *w, const struct sim_event *e)
{
	static const char *const fields[SF__COUNT] = { "title", "description", "state", "priority",
		                                       "assignee", "caller", "classification",
		                                       "group" };
	const struct sim_system *s = &w->sys[e->system];
	const char *id = s->recs[e->record].id;
	int64_t t = e->t_ms / 1000;
	fprintf(f, "%02" PRId64 ":%02" PRId64 ":%02" PRId64 "  %-10s %-11s ", t / 3600,
	        (t / 60) % 60, t % 60, sim_kind_name(s->kind), id);
	switch (e->kind) {
	case SIM_EV_PERSON_CREATE:
		fputs("person raises ", f);
		put_value(f, e->values[SF_TITLE], 80);
		break;
	case SIM_EV_PERSON_EDIT:
		fprintf(f, "person sets %s: ", fields[e->field]);
		put_value(f, e->old_value, 40);
		fputs(" -> ", f);
		put_value(f, e->value, 40);
		break;
	case SIM_EV_PERSON_COMMENT:
		fputs("person comments ", f);
		put_value(f, e->value, 80);
		break;
	case SIM_EV_HUB_CREATE:
		fputs("hub creates the record for ", f);
		put_value(f, e->values[SF_TITLE], 80);
		break;
	case SIM_EV_HUB_WRITE:
		fprintf(f, "hub writes %s: ", fields[e->field]);
		put_value(f, e->old_value, 40);
		fputs(" -> ", f);
		put_value(f, e->value, 40);
		break;
	case SIM_EV_HUB_COMMENT:
		fputs("hub mirrors comment ", f);
		put_value(f, e->value, 80);
		break;
	case SIM_EV_PARK_SEEN:
		fprintf(f, "person sees %s parked for a decision", fields[e->field]);
		break;
	case SIM_EV_PERSON_RESOLVE:
		fprintf(f, "person resolves %s: ", fields[e->field]);
		put_value(f, e->value, 40);
		break;
	case SIM_EV_PARKED_AT_END:
		fprintf(f, "%s still parked at the end", fields[e->field]);
		break;
	case SIM_EV_CLAIM:
		break;
	}
	fputc('\n', f);
}

struct partition {
	int64_t start, end;
};

int sim_run(const struct sim_options *opt, struct sim_result *out)
{
	struct sim_world *w = calloc(1, sizeof(*w));
	struct sim_integration integ;
	struct sim_people *people = NULL;
	struct partition part[SIM_MAX_SYSTEMS];
	struct sim_rng frng;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&integ, 0, sizeof(integ));
	if (!w)
		return CC_ENOMEM;
	sim_world_init(w, opt->seed, opt->nsystems, opt->faults);
	w->narrate = opt->narrate;
	sim_rng_seed(&frng, opt->seed * 0x2545f4914f6cdd1dULL + 11);
	int mrc = opt->model == SIM_MODEL_HUB
	                  ? sim_hub_model_create(&integ, w, opt->seed, opt->poll_interval_ms,
	                                         opt->store_url ? opt->store_url : "memory")
	          : opt->model == SIM_MODEL_PROCESS
	                  ? sim_process_model_create(&integ, w, opt->seed, opt->poll_interval_ms,
	                                             opt->store_url)
	                  : sim_dual_model_create(&integ, w, opt->seed, opt->poll_interval_ms);
	if (mrc) {
		snprintf(out->oracle.first_problem, sizeof(out->oracle.first_problem),
		         "integration failed to start: %s", integ.error);
		out->aborted = true;
		sim_world_clear(w);
		free(w);
		return 0;
	}
	if (sim_people_create(&people, w, opt->seed, opt))
		goto out;
	sim_people_operate(people, &integ);

	int64_t edit_end = opt->edit_ms;
	int64_t end = edit_end + opt->quiesce_ms;
	int64_t quiet_end = end + opt->quiet_ms;
	int64_t next_crash = (opt->faults & SIM_F_CRASH) ? sim_rng_exp(&frng, 45 * 60 * 1000) : INT64_MAX;
	int64_t restart_at = INT64_MAX;
	for (size_t s = 0; s < opt->nsystems; s++) {
		part[s].start = INT64_MAX;
		part[s].end = INT64_MAX;
		if ((opt->faults & SIM_F_PARTITION) && sim_rng_chance(&frng, 0.5)) {
			part[s].start = sim_rng_range(&frng, 0, edit_end - 1);
			part[s].end = min64(edit_end, part[s].start +
			                                      sim_rng_range(&frng, 30 * 60000, 2 * 3600000));
		}
	}
	uint64_t writes_at_end = 0;
	bool end_seen = false;
	size_t narrated = 0;

	for (long step = 0;; step++) {
		if (step > MAX_STEPS) {
			snprintf(out->oracle.first_problem, sizeof(out->oracle.first_problem),
			         "no progress after %ld steps at t=%" PRId64 " ms", step, w->now);
			out->aborted = true;
			break;
		}
		int64_t t = quiet_end;
		t = min64(t, sim_people_next(people));
		t = min64(t, sim_webhook_due(w));
		t = min64(t, integ.next_due(integ.self, w->now));
		t = min64(t, next_crash);
		t = min64(t, restart_at);
		if (w->faults_active)
			t = min64(t, edit_end);
		if (!end_seen)
			t = min64(t, end);
		for (size_t s = 0; s < opt->nsystems; s++) {
			if (part[s].start > w->now)
				t = min64(t, part[s].start);
			if (part[s].end > w->now)
				t = min64(t, part[s].end);
		}
		if (t <= w->now)
			t = w->now + 1; /* everything due now was done: time moves on */
		w->now = t;

		if (w->faults_active && t >= edit_end) {
			w->faults_active = false;
			next_crash = INT64_MAX;
			if (integ.down(integ.self))
				restart_at = t;
		}
		for (size_t s = 0; s < opt->nsystems; s++) {
			struct sim_system *sy = &w->sys[s];
			if (t >= part[s].start && t < part[s].end && !sy->partition_until) {
				sy->partition_until = part[s].end;
				if (opt->narrate)
					fprintf(opt->narrate, "-- %s-%zu cut off from the hub until %" PRId64 " min\n",
					        sim_kind_name(sy->kind), s, part[s].end / 60000);
			}
			if (sy->partition_until && t >= sy->partition_until) {
				sy->partition_until = 0;
				part[s].start = part[s].end = INT64_MAX;
				if (opt->narrate)
					fprintf(opt->narrate, "-- %s-%zu reachable again\n",
					        sim_kind_name(sy->kind), s);
			}
		}
		if (t >= next_crash && !integ.down(integ.self)) {
			integ.crash(integ.self);
			out->crashes++;
			if (opt->narrate)
				fprintf(opt->narrate, "-- hub killed\n");
			next_crash = t + sim_rng_exp(&frng, 45 * 60 * 1000);
		}
		if (integ.down(integ.self) && restart_at == INT64_MAX)
			restart_at = w->faults_active ? t + sim_rng_range(&frng, 10000, 300000) : t;
		if (restart_at <= t) {
			integ.restart(integ.self);
			restart_at = INT64_MAX;
			if (opt->narrate)
				fprintf(opt->narrate, "-- hub restarted\n");
		}

		struct sim_webhook wh;
		while (sim_next_webhook(w, &wh)) {
			struct sim_system *from = &w->sys[wh.system];
			if (!integ.down(integ.self) && !from->partition_until) {
				out->webhooks++;
				integ.webhook(integ.self, &wh.obs);
			}
			cc_observation_clear(&wh.obs);
		}
		if (sim_people_act(people))
			goto out;
		if (!integ.down(integ.self) && integ.run(integ.self)) {
			snprintf(out->oracle.first_problem, sizeof(out->oracle.first_problem),
			         "integration error at t=%" PRId64 " ms: %s", w->now, integ.error);
			out->aborted = true;
			break;
		}
		if (integ.down(integ.self) && restart_at == INT64_MAX) {
			out->crashes++;
			if (opt->narrate)
				fprintf(opt->narrate, "-- hub killed\n");
			restart_at = w->faults_active ? t + sim_rng_range(&frng, 10000, 300000) : t + 1;
		}
		if (opt->narrate) {
			for (; narrated < w->log.nev; narrated++)
				if (w->log.ev[narrated].kind != SIM_EV_CLAIM)
					narrate_event(opt->narrate, w, &w->log.ev[narrated]);
		}
		if (!end_seen && t >= end) {
			end_seen = true;
			writes_at_end = w->hub_writes;
		}
		if (t >= quiet_end)
			break;
	}

	out->quiet_writes = w->hub_writes - writes_at_end;
	out->api_calls = w->api_calls;
	if (sim_people_finish(people) || integ.finish(integ.self) || sim_world_finish(w))
		goto out;
	char problem[512];
	snprintf(problem, sizeof(problem), "%s", out->oracle.first_problem);
	if (oracle_check(&w->log, &out->oracle))
		goto out;
	if (out->aborted)
		snprintf(out->oracle.first_problem, sizeof(out->oracle.first_problem), "%s", problem);
	if (w->oom) {
		out->aborted = true;
		snprintf(out->oracle.first_problem, sizeof(out->oracle.first_problem),
		         "out of memory in the simulated world");
	}
	rc = 0;
out:
	sim_people_destroy(people);
	memcpy(out->kills, integ.kills, sizeof(out->kills));
	if (integ.destroy)
		integ.destroy(integ.self);
	sim_world_clear(w);
	free(w);
	return rc;
}
