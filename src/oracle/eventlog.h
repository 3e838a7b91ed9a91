/*
 * The simulator's true event log: what really happened, in true time, as
 * plain data. People's edits, the integration's writes, the integration's
 * claims about which records belong together, and the final state of every
 * record. The simulator writes it; the oracle reads only this and shares
 * no code with the engine. It lives beside the oracle, which defines what
 * it needs to judge a run.
 *
 * Ownership: the log owns every string it holds (sim_log_clear frees them).
 */
#ifndef SIM_EVENTLOG_H
#define SIM_EVENTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_MAX_SYSTEMS 8

/* The kinds of virtual system; values are in each kind's own terms. */
enum sim_kind {
	SIM_KIND_SNOW = 0,     /* ServiceNow-like: numeric state and priority codes */
	SIM_KIND_SENTINEL = 1, /* Sentinel-like: New / Active / Closed, severity, classification */
	SIM_KIND_JIRA = 2,     /* Jira-like: status moves only through transitions */
};

/* The fields a virtual record can carry (not every kind carries all). */
enum sim_field {
	SF_TITLE = 0,
	SF_DESCRIPTION,
	SF_STATE,
	SF_PRIORITY,
	SF_ASSIGNEE,
	SF_CALLER,
	SF_CLASSIFICATION,
	SF_GROUP,
	SF__COUNT
};

enum sim_ev_kind {
	SIM_EV_PERSON_CREATE = 0, /* values[]: what the person entered */
	SIM_EV_PERSON_EDIT,       /* field: old_value -> value */
	SIM_EV_PERSON_COMMENT,    /* value: the comment body */
	SIM_EV_HUB_CREATE,        /* values[]: what the integration created */
	SIM_EV_HUB_WRITE,         /* field: old_value -> value (one per changed field) */
	SIM_EV_HUB_COMMENT,       /* value: the comment body as written */
	SIM_EV_CLAIM,             /* the integration says record belongs to group `claim` */
	/* The manual queue. system/record name one record of the conflict's
	 * case, which ties it to its incident. */
	SIM_EV_PARK_SEEN,         /* a person saw `field` parked for a decision */
	SIM_EV_PERSON_RESOLVE,    /* a person resolved it: value, canonical terms; since_ms:
	                             when that person first saw it parked */
	SIM_EV_PARKED_AT_END,     /* the integration says `field` is still parked at the end */
};

struct sim_event {
	enum sim_ev_kind kind;
	int64_t t_ms;            /* true time */
	int system;
	int record;              /* index of the record within its system */
	int field;               /* -1 when not about one field */
	char *old_value;         /* remote terms; NULL when n/a */
	char *value;
	char *values[SF__COUNT]; /* creates: NULL where the kind carries no such field */
	int incident;            /* person creates: the true incident (twins share it); else -1 */
	uint64_t claim;          /* SIM_EV_CLAIM */
	uint64_t write_id;       /* groups the fields changed by one request */
	int64_t since_ms;        /* SIM_EV_PERSON_RESOLVE: the SIM_EV_PARK_SEEN it decides */
};

struct sim_final_record {
	int system;
	int record;
	char *values[SF__COUNT];
	char **comments;         /* bodies, in order */
	size_t ncomments;
};

/* Field rules as the scenario states them (data, not engine code). */
enum sim_rule {
	SIM_RULE_LWW = 0,
	SIM_RULE_OWNER_REVERT,
	SIM_RULE_OWNER_IGNORE,
	SIM_RULE_MANUAL, /* real conflicts wait for a person (SIM_EV_PERSON_RESOLVE) */
};

struct sim_log {
	size_t nsystems;
	enum sim_kind kinds[SIM_MAX_SYSTEMS];
	/* A record of an incident must exist in a system unless the incident's
	 * field route_field (canonical, as first created) equals route_unless. */
	int route_field[SIM_MAX_SYSTEMS];      /* -1: every incident */
	const char *route_unless[SIM_MAX_SYSTEMS];
	enum sim_rule rules[SF__COUNT];
	int owner[SF__COUNT];                  /* system index for owner rules */
	int64_t uncertainty_ms;                /* the stated clock uncertainty */

	struct sim_event *ev;
	size_t nev, capev;
	struct sim_final_record *fin;
	size_t nfin, capfin;
};

void sim_log_init(struct sim_log *log);
void sim_log_clear(struct sim_log *log);
/*
 * The oracle and its log share no code with the engine, so they name their
 * one failure themselves: out of memory, the same value as CC_ENOMEM.
 */
#define SIM_ENOMEM (-1)

/* Appends a copy of ev (strings copied); returns 0 or SIM_ENOMEM. */
int sim_log_append(struct sim_log *log, const struct sim_event *ev);
/* Appends a final record (strings copied). */
int sim_log_final(struct sim_log *log, const struct sim_final_record *fr);

#endif
