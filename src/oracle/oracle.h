/*
 * The oracle: judges one simulation run from its true event log alone
 * (src/sim/eventlog.h). It shares no code with the engine: its own value
 * tables, its own normalization, its own reading of the promise of
 * DESIGN section 5.
 */
#ifndef CC_ORACLE_H
#define CC_ORACLE_H

#include "oracle/eventlog.h"

struct oracle_result {
	bool converged;
	uint64_t lost_updates;      /* fields whose final value the promise does not allow */
	uint64_t duplicates;        /* extra records of one incident in one system */
	uint64_t duplicate_comments;/* extra copies of one comment in one record */
	uint64_t oscillations;
	uint64_t loop_writes;
	uint64_t missing_records;   /* a routed system without the incident */
	uint64_t missing_comments;
	uint64_t divergent_fields;  /* records of one incident disagreeing on a field */
	uint64_t merged_incidents;  /* records of different incidents claimed together */
	uint64_t hub_writes;        /* applied integration writes (requests that changed something) */
	uint64_t genuine_changes;   /* person creates, edits, comments and resolutions */
	uint64_t parked;            /* conflicts people saw parked in the manual queue */
	uint64_t resolved;          /* ... and resolved */
	uint64_t parked_writes;     /* writes of a field while a person had it in the queue */
	char first_problem[512];    /* a readable description of the first failure */
};

/* Judges the run. Returns 0, or SIM_ENOMEM. */
int oracle_check(const struct sim_log *log, struct oracle_result *out);

#endif
