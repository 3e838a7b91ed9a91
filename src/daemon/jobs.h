/*
 * Jobs: the threads of the outbox's workers (cc_hub_env.run, .lock,
 * .unlock). A round runs one thread per job; the jobs take turns at the
 * hub through one mutex, held by a job for everything but its connector
 * calls, so that the engine and the store are used by one thread at a
 * time while the calls to the remote system overlap. While a round runs,
 * the calling thread wakes every JOBS_WAIT_MS to call `waiting` with the
 * hub held (the daemon answers its admin requests there). A job with
 * nothing to do yet (a worker while a poll of its round is still reading)
 * waits on the hub's mutex for another job's wake.
 */
#ifndef CC_DAEMON_JOBS_H
#define CC_DAEMON_JOBS_H

#include <stddef.h>

#define JOBS_WAIT_MS 50
/* A job waiting for work (cc_jobs_wait) looks again after this at most. */
#define JOBS_IDLE_MS 100

struct cc_jobs;

/* waiting(ctx) may be NULL. Returns 0, or CC_ENOMEM. */
int cc_jobs_create(struct cc_jobs **out, void (*waiting)(void *ctx), void *ctx);
/* After the last batch returned. */
void cc_jobs_destroy(struct cc_jobs *j);

/* The three of cc_hub_env, with a struct cc_jobs as their ctx. */
void cc_jobs_run(void *jobs, size_t n, void (*job)(void *arg), void **args);
void cc_jobs_lock(void *jobs);
void cc_jobs_unlock(void *jobs);
/*
 * cc_hub_env.wait and .wake: with the hub held, lets go of it until
 * cc_jobs_wake or JOBS_IDLE_MS, then holds it again; and wakes every job
 * waiting so (with the hub held).
 */
void cc_jobs_wait(void *jobs);
void cc_jobs_wake(void *jobs);

#endif
