/*
 * Internals of the hub shared by its files: hub.c (life cycle, shared
 * helpers, scheduling), ingest.c (observations into cases), poll.c
 * (incremental polls) and deliver.c (the outbox). Not part of the API.
 */
#ifndef CC_HUB_INTERNAL_H
#define CC_HUB_INTERNAL_H

#include "core/hub.h"


struct sys_runtime {
	struct cc_system_state state;
	int poll_failures;     /* consecutive failed polls */
	int poll_backoffs;     /* ... of which not a hold the system asked for: the
	                          backoff's exponent and the breaker's count */
	int64_t next_poll_ms;  /* the next poll is due (0: at once) */
	int failures;          /* consecutive failed calls */
	int64_t open_until_ms; /* circuit breaker */
	int64_t not_before_ms; /* rate limit: Retry-After */
	char last_failure[160]; /* reason of the last failed call, "" after a success */
	/* a batch of deliveries at once is under way, and one of its failures
	 * was counted: its calls failed together, they count once */
	bool in_batch, batch_counted;
};

struct cc_hub {
	const struct cc_config *cfg;
	struct cc_store *st;
	struct cc_connector *conn;
	/* per system: instances for deliveries at once (borrowed; n <= 1: none) */
	struct cc_connector *slots[CC_MAX_SYSTEMS];
	size_t nslots[CC_MAX_SYSTEMS];
	struct cc_hub_env env;
	struct sys_runtime sys[CC_MAX_SYSTEMS];
	struct cc_hub_stats stats;
	uint32_t instance;     /* the store's, in every correlation id */
	char err[256];
};

#define ST(h) ((h)->st->ops)
#define SS(h) ((h)->st->self)

/* The correlation id of a case, in this store's instance. */
void cc_hub_correlation(struct cc_hub *h, uint64_t case_id, char *buf, size_t len);
/* Parses a correlation id of this store's instance. */
int cc_hub_correlation_parse(struct cc_hub *h, const char *s, uint64_t *case_id);
/* Gives a test the chance to kill the process at a named point. */
void cc_hub_crash_point(struct cc_hub *h, const char *name);
/* The hub's clock. */
int64_t cc_hub_now(struct cc_hub *h);
/* Records a store failure in the last error; returns rc. */
int cc_hub_fail(struct cc_hub *h, int rc, const char *what);
/* Appends an audit entry (value, ver and detail may be NULL). */
int cc_hub_audit(struct cc_hub *h, const struct cc_case *c, int system, int field,
                 enum cc_decision d, const char *value, const struct cc_version *ver,
                 int score, const char *detail);
/* Counts a call in the API budget and feeds its Date to the clock offset. */
void cc_hub_count_call(struct cc_hub *h, int system, struct cc_call *call);
/* True once the driver is stopping (env.stopping). */
bool cc_hub_stopping(struct cc_hub *h);
/* Counts a failure of a system for its breaker (polls and deliveries alike). */
void cc_hub_breaker_failure(struct cc_hub *h, int system, int failures);
void cc_hub_call_init(struct cc_hub *h, struct cc_call *call);
/* Deep copy of src with every field value normalized (dst owned by caller). */
int cc_hub_normalize(struct cc_hub *h, struct cc_observation *dst,
                     const struct cc_observation *src);
/* The version of field f of an observation. */
struct cc_version cc_hub_field_version(struct cc_hub *h, const struct cc_observation *o, int f);
/* True when the case has something to deliver to sys. */
bool cc_hub_needs_delivery(struct cc_hub *h, const struct cc_case *c, int sys);
/* Outbox entries for every system that has something to receive. */
int cc_hub_schedule(struct cc_hub *h, struct cc_case *c);

/* poll.c: cc_hub_poll as a job of a round, the hub let go during its calls */
int cc_hub_poll_away(struct cc_hub *h, int system);

/* ingest.c */
int cc_hub_apply_observation(struct cc_hub *h, struct cc_case *c,
                             const struct cc_observation *o);
int cc_hub_attach(struct cc_hub *h, struct cc_case *c, const struct cc_observation *o,
                  enum cc_decision why, int score);
/* Normalizes and ingests one observation in its own transaction. */
int cc_hub_ingest_normalized(struct cc_hub *h, const struct cc_observation *raw);

#endif
