/*
 * The connector interface: a versioned table of functions that every remote
 * system implements (the simulator's virtual systems, RT, Redmine, the SaaS
 * connectors). A connector translates between one system's API and
 * observations; it never retries by itself and never decides anything:
 * each call ends with OK, RETRY (with the delay the system asked for),
 * ERROR (permanent, with a reason) or CONFLICT (a conditional write found
 * the record changed), and the engine's outbox acts on that answer.
 *
 * Values passed to and from a connector are in the system's own terms,
 * indexed by canonical field. Observations filled by a connector are
 * owned by the caller (cc_observation_clear).
 */
#ifndef CC_CONNECTOR_H
#define CC_CONNECTOR_H

#include "core/observation.h"

#define CC_CONNECTOR_OPS_VERSION 2

/* What one call did, for the outbox, the API budget and the clock. */
struct cc_call {
	enum cc_result result;
	bool outcome_unknown;   /* RETRY after the request may have been applied */
	int64_t retry_after_ms; /* the system's Retry-After, 0 if none */
	char reason[160];
	int requests;           /* HTTP requests (or simulated ones) made */
	bool has_date;          /* date_s is the system's Date header */
	int64_t date_s;
	int64_t sent_ms;        /* hub clock */
	int64_t recv_ms;
};

struct cc_page {
	struct cc_observation *items;
	size_t nitems;
	bool more;              /* another page follows */
	/*
	 * The last record the connector considered, in keyset order, when it
	 * is not the last item: a connector may leave out a record whose
	 * listed version is one it already returned (the hub has it), and the
	 * next page must still start after it. NULL: the last item. Owned by
	 * the page.
	 */
	char *next_id;
	int64_t next_mtime_s;
};

void cc_page_clear(struct cc_page *p);

/* Requests sent to a system for one operation ("list", "read", ...). */
struct cc_budget_line {
	char op[24];
	uint64_t requests;
};

/* The fields to write: values[f] in remote terms, NULL = leave alone. */
struct cc_write {
	const char *remote_id;       /* update: the record */
	const char *correlation_id;  /* create: the case's correlation id */
	uint64_t expected_rv;        /* update: write only if still at this version (0: any) */
	const char *values[CC_MAX_FIELDS];
};

struct cc_connector_ops {
	int version; /* CC_CONNECTOR_OPS_VERSION */
	const char *kind;

	/*
	 * Records changed at or after since_s (remote clock, whole seconds),
	 * ordered by (mtime, remote id), strictly after (after_mtime_s,
	 * after_id) when after_id is not NULL; at most page_size of them.
	 */
	enum cc_result (*list_changes)(void *self, int64_t since_s, int64_t after_mtime_s,
	                               const char *after_id, size_t page_size,
	                               struct cc_page *out, struct cc_call *call);
	/* One record as it is now. */
	enum cc_result (*read)(void *self, const char *remote_id, struct cc_observation *out,
	                       struct cc_call *call);
	/* The record carrying this correlation id; *found false when none. */
	enum cc_result (*find_by_correlation)(void *self, const char *correlation_id,
	                                      struct cc_observation *out, bool *found,
	                                      struct cc_call *call);
	/* Creates a record; *out is the record as created. */
	enum cc_result (*create)(void *self, const struct cc_write *w, struct cc_observation *out,
	                         struct cc_call *call);
	/*
	 * Updates fields (state through workflow transitions where the system
	 * needs them); conditional on expected_rv where the API allows.
	 * *out is the record after the write.
	 */
	enum cc_result (*update)(void *self, const struct cc_write *w, struct cc_observation *out,
	                         struct cc_call *call);
	/*
	 * Adds a comment that must not set off the system's own automation
	 * (no status change, no mail to the requester). The body starts with
	 * the origin marker. *out_id receives the new comment id (caller frees).
	 */
	enum cc_result (*add_comment)(void *self, const char *remote_id, const char *body,
	                              char **out_id, struct cc_call *call);

	/*
	 * Optional (NULL: a webhook of this system is only a hint to poll
	 * sooner). Turns one webhook body into observations of the records it
	 * names, read from the system as they are now: the body says which
	 * record changed, never what it holds (a body may be stale, reordered
	 * or replayed). out->nitems 0: the body names nothing of ours. A body
	 * that cannot be parsed is ERROR with the reason; polling still sees
	 * the change. The observations are owned by the caller (cc_page_clear).
	 */
	enum cc_result (*webhook)(void *self, const char *body, size_t len, struct cc_page *out,
	                          struct cc_call *call);

	/*
	 * Optional: the API budget, requests sent so far per operation, into
	 * out (at most max lines); returns the number of lines filled.
	 */
	size_t (*budget)(void *self, struct cc_budget_line *out, size_t max);

	void (*destroy)(void *self);
};

struct cc_connector {
	const struct cc_connector_ops *ops;
	void *self;
};

#endif
