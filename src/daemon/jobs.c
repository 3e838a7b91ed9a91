/*
 * Jobs (see jobs.h): a thread per job of a batch and the hub's mutex.
 * A job whose thread cannot be started runs on the calling thread, after
 * the others have started: slower, never lost.
 */
#include "daemon/jobs.h"

#include "core/types.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

struct cc_jobs {
	pthread_mutex_t hub;   /* held by whoever uses the hub */
	pthread_mutex_t mu;    /* guards done */
	pthread_cond_t cv;     /* done went up */
	pthread_cond_t moved;  /* the hub changed: a worker waiting for work may look again */
	size_t done;
	void (*waiting)(void *ctx);
	void *ctx;
};

/* One job and the batch it belongs to. */
struct task {
	struct cc_jobs *j;
	void (*job)(void *arg);
	void *arg;
	pthread_t thread;
	bool started;
};

int cc_jobs_create(struct cc_jobs **out, void (*waiting)(void *ctx), void *ctx)
{
	struct cc_jobs *j = calloc(1, sizeof(*j));
	if (!j)
		return CC_ENOMEM;
	pthread_condattr_t ca;
	bool ok = pthread_mutex_init(&j->hub, NULL) == 0;
	ok = ok && pthread_mutex_init(&j->mu, NULL) == 0;
	ok = ok && pthread_condattr_init(&ca) == 0;
	ok = ok && pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
	     pthread_cond_init(&j->cv, &ca) == 0;
	ok = ok && pthread_cond_init(&j->moved, &ca) == 0;
	if (!ok) {
		free(j); /* an init that failed on Linux allocated nothing */
		return CC_ENOMEM;
	}
	pthread_condattr_destroy(&ca);
	j->waiting = waiting;
	j->ctx = ctx;
	*out = j;
	return CC_EOK;
}

void cc_jobs_destroy(struct cc_jobs *j)
{
	if (!j)
		return;
	pthread_cond_destroy(&j->cv);
	pthread_cond_destroy(&j->moved);
	pthread_mutex_destroy(&j->mu);
	pthread_mutex_destroy(&j->hub);
	free(j);
}

void cc_jobs_lock(void *jobs)
{
	pthread_mutex_lock(&((struct cc_jobs *)jobs)->hub);
}

void cc_jobs_unlock(void *jobs)
{
	pthread_mutex_unlock(&((struct cc_jobs *)jobs)->hub);
}

/* CLOCK_MONOTONIC's now plus ms (the clock of the conditions' attributes). */
static struct timespec deadline(long ms)
{
	struct timespec at;
	clock_gettime(CLOCK_MONOTONIC, &at);
	at.tv_nsec += ms * 1000000L;
	if (at.tv_nsec >= 1000000000L) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000L;
	}
	return at;
}

void cc_jobs_wait(void *jobs)
{
	struct cc_jobs *j = jobs;
	struct timespec at = deadline(JOBS_IDLE_MS);
	/* a spurious wake-up or the timeout: the caller looks again either way */
	(void)pthread_cond_timedwait(&j->moved, &j->hub, &at);
}

void cc_jobs_wake(void *jobs)
{
	pthread_cond_broadcast(&((struct cc_jobs *)jobs)->moved);
}

static void *task_main(void *arg)
{
	struct task *t = arg;
	t->job(t->arg);
	pthread_mutex_lock(&t->j->mu);
	t->j->done++;
	pthread_cond_signal(&t->j->cv);
	pthread_mutex_unlock(&t->j->mu);
	return NULL;
}

void cc_jobs_run(void *jobs, size_t n, void (*job)(void *arg), void **args)
{
	struct cc_jobs *j = jobs;
	struct task *tasks = calloc(n, sizeof(*tasks));
	if (!tasks) { /* no room for threads: one after another */
		for (size_t i = 0; i < n; i++)
			job(args[i]);
		return;
	}
	pthread_mutex_lock(&j->mu);
	j->done = 0;
	pthread_mutex_unlock(&j->mu);
	size_t threads = 0;
	for (size_t i = 0; i < n; i++) {
		tasks[i] = (struct task){ .j = j, .job = job, .arg = args[i] };
		tasks[i].started = pthread_create(&tasks[i].thread, NULL, task_main, &tasks[i]) == 0;
		threads += tasks[i].started;
	}
	for (size_t i = 0; i < n; i++)
		if (!tasks[i].started)
			job(args[i]);
	/* the started ones: wait, and meanwhile let `waiting` have the hub */
	pthread_mutex_lock(&j->mu);
	while (j->done < threads) {
		struct timespec at = deadline(JOBS_WAIT_MS);
		int rc = pthread_cond_timedwait(&j->cv, &j->mu, &at);
		if (rc == ETIMEDOUT && j->done < threads && j->waiting) {
			pthread_mutex_unlock(&j->mu);
			pthread_mutex_lock(&j->hub);
			j->waiting(j->ctx);
			pthread_mutex_unlock(&j->hub);
			pthread_mutex_lock(&j->mu);
		}
	}
	pthread_mutex_unlock(&j->mu);
	for (size_t i = 0; i < n; i++)
		if (tasks[i].started)
			pthread_join(tasks[i].thread, NULL);
	free(tasks);
}
