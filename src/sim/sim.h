/*
 * The deterministic simulator: one run of a seeded world through one
 * integration model (the concord hub, or a model of today's pairs of
 * one-way pipelines), judged by the oracle.
 */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include "oracle/oracle.h"
#include "sim/world.h"

#include <stdio.h>

enum sim_model { SIM_MODEL_HUB = 0, SIM_MODEL_DUAL, SIM_MODEL_PROCESS };

/*
 * Kills of the hub process (model process, hub_process.c), by point: the
 * engine's named crash points first (SIM_KILL_NAMED of them), then
 * "random", "scheduled" and "write-applied". sim_kill_point_name(i) names
 * them (NULL past the end).
 */
#define SIM_KILL_NAMED 8
#define SIM_KILL_POINTS 11
const char *sim_kill_point_name(int i);

struct sim_options {
	uint64_t seed;
	size_t nsystems;
	uint32_t faults;
	enum sim_model model;
	int64_t edit_ms;          /* people edit, faults strike (default 4 h) */
	int64_t quiesce_ms;       /* faults stopped, no edits: time to converge (2 h) */
	int64_t quiet_ms;         /* then this long must see zero writes (30 min) */
	int64_t min_edit_gap_ms;  /* people's actions at least this far apart (0: free) */
	int64_t mean_action_ms;   /* mean time between people's actions */
	int64_t poll_interval_ms;
	const char *store_url;    /* the hub's store: "memory" (default) or "sqlite:PATH" */
	FILE *narrate;            /* readable story of the run, or NULL */
};

void sim_options_defaults(struct sim_options *o);

struct sim_result {
	struct oracle_result oracle;
	uint64_t api_calls;
	uint64_t quiet_writes;    /* writes during the quiet window */
	uint64_t crashes;
	uint64_t webhooks;
	bool aborted;             /* the run could not complete (a bug): see oracle.first_problem */
	uint64_t kills[SIM_KILL_POINTS]; /* model process: kills per point */
};

/* Runs one seed. Returns 0, or CC_ENOMEM. */
int sim_run(const struct sim_options *opt, struct sim_result *out);

/* One conflict an integration parked for a person (values canonical). */
#define SIM_VALUE_MAX 256
struct sim_conflict {
	uint64_t case_id;         /* the integration's own key of the conflict's case */
	int field;
	int case_system;          /* where the case value came from, -1: none */
	char case_value[SIM_VALUE_MAX];
	int parked_system;
	char parked_value[SIM_VALUE_MAX];
	int record_system;        /* one record of the case, that names it in the log */
	char record_id[32];
};

/*
 * An integration under test, driven by the simulator's clock.
 */
struct sim_integration {
	void *self;
	/* Earliest time it wants to run (INT64_MAX when idle). */
	int64_t (*next_due)(void *self, int64_t now);
	/* Does all that is due at w->now; returns 0 or a negative cc_error (in error). */
	int (*run)(void *self);
	/* A webhook reached it. */
	void (*webhook)(void *self, const struct cc_observation *o);
	/* The process is killed now / started again. */
	void (*crash)(void *self);
	void (*restart)(void *self);
	/* True while it is down (between crash and restart). */
	bool (*down)(void *self);
	/* Appends its final claims (which records it holds together) to the log. */
	int (*finish)(void *self);
	/*
	 * The manual queue, as an operator sees it: the conflicts parked for a
	 * person, at most max into out[] (by case, then field); returns how
	 * many, or -1 while it is down (or on an error, in error).
	 */
	int (*conflicts)(void *self, struct sim_conflict *out, size_t max);
	/*
	 * A person resolves one: the side of system `take` (>= 0), or `value`
	 * (canonical terms) when take is -1; `by` is who. 0 resolved; 1 not
	 * done (down, nothing parked there any more, a value it cannot carry);
	 * a negative cc_error on an internal error (in error).
	 */
	int (*resolve)(void *self, uint64_t case_id, int field, int take, const char *value,
	               const char *by);
	void (*destroy)(void *self);
	char error[256];
	uint64_t kills[SIM_KILL_POINTS]; /* kills per point, when it counts them */
};

/*
 * The conflicts parked in case c, as the manual queue shows them, at most
 * max into out[]; returns how many (hub_model.c, shared with hub_process.c).
 */
struct cc_case;
struct cc_config;
size_t sim_case_conflicts(const struct cc_config *cfg, const struct cc_case *c,
                          struct sim_conflict *out, size_t max);

int sim_hub_model_create(struct sim_integration *out, struct sim_world *w, uint64_t seed,
                         int64_t poll_interval_ms, const char *store_url);
int sim_dual_model_create(struct sim_integration *out, struct sim_world *w, uint64_t seed,
                          int64_t poll_interval_ms);
/* The hub in a child process killed with SIGKILL; store_url "sqlite:PATH"
 * (NULL: a temporary file). */
int sim_process_model_create(struct sim_integration *out, struct sim_world *w, uint64_t seed,
                             int64_t poll_interval_ms, const char *store_url);

/* People: a workload that acts on the world. */
struct sim_people;
int sim_people_create(struct sim_people **out, struct sim_world *w, uint64_t seed,
                      const struct sim_options *opt);
void sim_people_destroy(struct sim_people *p);
/* Next time someone acts (INT64_MAX when none before `until`). */
int64_t sim_people_next(struct sim_people *p);
/* Performs every action due at w->now. */
int sim_people_act(struct sim_people *p);
/* Tells the people which records the integration holds together. */
void sim_people_group(struct sim_world *w, int sys, int rec, uint64_t group);
/*
 * Gives the people an operator: someone who looks at the integration's
 * manual queue every few minutes, until half an hour before the quiet
 * window, and resolves each conflict a while after first seeing it.
 */
void sim_people_operate(struct sim_people *p, struct sim_integration *integ);
/* At the end of a run: logs the conflicts still parked (SIM_EV_PARKED_AT_END). */
int sim_people_finish(struct sim_people *p);

#endif
