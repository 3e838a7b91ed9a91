/*
 * The simulated world: virtual remote systems with their own records,
 * clocks (skew, 1-second timestamps), search index lag, webhooks, rate
 * limits and faults. Each system is reached through the real connector
 * interface (src/connectors/connector.h), so the engine is driven exactly
 * as a real connector would drive it. Everything that really happens is
 * written to the true event log (sim/eventlog.h).
 */
#ifndef SIM_WORLD_H
#define SIM_WORLD_H

#include "core/connector.h"
#include "oracle/eventlog.h"
#include "sim/rng.h"

#include <stdio.h>

enum sim_fault {
	SIM_F_DELAY = 1u << 0,     /* webhooks delayed up to two minutes */
	SIM_F_DUPLICATE = 1u << 1, /* webhooks delivered twice */
	SIM_F_REORDER = 1u << 2,   /* webhooks overtake each other */
	SIM_F_DROP = 1u << 3,      /* webhooks lost */
	SIM_F_OVERLAP = 1u << 4,   /* a poll page holds one record twice */
	SIM_F_RATELIMIT = 1u << 5, /* 429 with Retry-After */
	SIM_F_5XX = 1u << 6,       /* server errors, nothing applied */
	SIM_F_TIMEOUT = 1u << 7,   /* writes applied, answer lost */
	SIM_F_CRASH = 1u << 8,     /* hub killed, also between a write and its commit */
	SIM_F_PARTITION = 1u << 9, /* a system unreachable for hours */
	SIM_F_SKEW = 1u << 10,     /* clocks off by up to five minutes */
	SIM_F_LAG = 1u << 11,      /* search index lags changes by up to 20 s */
	SIM_F_TORN = 1u << 12,     /* a read straddles a change: old values, new version, or
	                              the other way round */
	SIM_F_KNOWN = (1u << 13) - 1, /* every fault that has a name */
	/* `all`: torn is left out, the engine does not survive it yet
	 * (docs/simulator.md, the fault list) */
	SIM_F_ALL = SIM_F_KNOWN & ~SIM_F_TORN,
};

/* Name of a fault bit, and the bit for a name (0 when unknown). */
const char *sim_fault_name(uint32_t bit);
uint32_t sim_fault_parse(const char *name);

struct sim_comment {
	char *id;
	char *body;
	char *author;
	int64_t created_s;
};

struct sim_snapshot {
	int64_t t_ms;                /* true time of the change */
	struct cc_observation obs;   /* the record as it was then */
};

struct sim_record {
	char id[24];
	uint64_t rv;
	int64_t mtime_s;                  /* system clock */
	int64_t created_s;                /* system clock */
	char *val[SF__COUNT];
	int64_t fmtime_s[SF__COUNT];
	char *fauthor[SF__COUNT];
	char *corr;
	struct sim_comment *comments;
	size_t ncomments;
	struct sim_snapshot *hist;        /* the search index sees these, lagged */
	size_t nhist;
	int incident;                     /* person-created: the true incident; else -1 */
	uint64_t group;                   /* integration's claim, for people finding siblings */
};

struct sim_system {
	int index;
	enum sim_kind kind;
	int64_t skew_ms;
	int64_t lag_ms;
	struct sim_record *recs;
	size_t nrecs, caprecs;
	uint64_t next_comment;
	int64_t partition_until;          /* true time; 0 none */
};

struct sim_webhook {
	int64_t at;
	uint64_t seq;
	int system;
	struct cc_observation obs;
};

struct sim_world;
typedef void (*sim_crash_fn)(void *ctx);

struct sim_conn {
	struct sim_world *w;
	int system;
};

struct sim_world {
	int64_t now;                      /* true time, ms */
	struct sim_rng rng;               /* faults */
	uint32_t faults;                  /* enabled faults */
	bool faults_active;               /* false once the fault phase ends */
	size_t nsys;
	struct sim_system sys[SIM_MAX_SYSTEMS];
	struct sim_conn conn_self[SIM_MAX_SYSTEMS];
	struct cc_connector conn[SIM_MAX_SYSTEMS];
	struct sim_webhook *wh;
	size_t nwh, capwh;
	uint64_t whseq;
	bool webhooks;                    /* systems send webhooks */
	sim_crash_fn on_crash;            /* a crash fault struck inside a call */
	void *crash_ctx;
	struct sim_log log;
	uint64_t next_write_id;
	uint64_t api_calls;
	uint64_t hub_writes;              /* applied integration writes */
	uint64_t oom;                     /* allocation failures (the run is void) */
	uint64_t torn_reads;              /* torn observations handed out (fault torn) */
	const char *integration_user;
	FILE *narrate;                    /* the story of the run, or NULL */
};

int sim_world_init(struct sim_world *w, uint64_t seed, size_t nsys, uint32_t faults);
void sim_world_clear(struct sim_world *w);

/* System clock of a system now, in ms and in whole seconds. */
int64_t sim_clock_ms(const struct sim_world *w, int sys);

/* People's actions (true events, logged). Values are in the kind's terms. */
int sim_person_create(struct sim_world *w, int sys, const char *const values[SF__COUNT],
                      int incident, const char *who);
int sim_person_edit(struct sim_world *w, int sys, int rec, int field, const char *value,
                    const char *who);
int sim_person_comment(struct sim_world *w, int sys, int rec, const char *body, const char *who);

/* Snapshot of a record as an observation (caller clears). */
int sim_record_observe(const struct sim_world *w, int sys, int rec, struct cc_observation *out);
int sim_find_record(const struct sim_world *w, int sys, const char *remote_id);

/* Pops the earliest webhook due at or before now; false when none. */
bool sim_next_webhook(struct sim_world *w, struct sim_webhook *out);
int64_t sim_webhook_due(const struct sim_world *w);

/* Logs the final state of every record. */
int sim_world_finish(struct sim_world *w);

#endif

/* The claim key of a correlation id or any other grouping string (FNV-1a). */
uint64_t sim_claim_key(const char *s);
