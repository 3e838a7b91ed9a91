/*
 * Unit tests of src/daemon/jobs.c: the threads of the outbox's batches.
 * The jobs' "remote calls" overlap (each waits, outside the hub, until all
 * of the batch are in flight, or 5 s pass), while the hub is held by one
 * job at a time; the waiting thread's hook runs with the hub held too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "daemon/jobs.h"

#define JOBS 4

struct batch {
	struct cc_jobs *jobs;
	pthread_mutex_t mu;       /* guards the counters below */
	pthread_cond_t cv;
	int in_flight, most_in_flight;
	int inside_hub;           /* threads inside the hub: never more than one */
	int overlaps;             /* times a second one was found inside */
	int waits;                /* calls of the waiting hook */
	int done;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Work with the hub held: checks nobody else is in. */
static void in_hub(struct batch *b)
{
	pthread_mutex_lock(&b->mu);
	if (b->inside_hub++)
		b->overlaps++;
	pthread_mutex_unlock(&b->mu);
	usleep(2000);
	pthread_mutex_lock(&b->mu);
	b->inside_hub--;
	pthread_mutex_unlock(&b->mu);
}

/* A remote call: waits for the others of the batch to be in flight too. */
static void remote_call(struct batch *b)
{
	pthread_mutex_lock(&b->mu);
	b->in_flight++;
	if (b->in_flight > b->most_in_flight)
		b->most_in_flight = b->in_flight;
	pthread_cond_broadcast(&b->cv);
	int64_t until = mono_ms() + 5000;
	while (b->in_flight < JOBS && b->most_in_flight < JOBS && mono_ms() < until) {
		struct timespec at;
		clock_gettime(CLOCK_REALTIME, &at);
		at.tv_nsec += 20 * 1000000L;
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&b->cv, &b->mu, &at);
	}
	usleep(120 * 1000); /* long enough for the waiting thread to wake (50 ms) */
	b->in_flight--;
	pthread_mutex_unlock(&b->mu);
}

/* One job, as the hub runs it: held, away for the call, held again. */
static void job(void *arg)
{
	struct batch *b = arg;
	cc_jobs_lock(b->jobs);
	in_hub(b);
	cc_jobs_unlock(b->jobs);
	remote_call(b);
	cc_jobs_lock(b->jobs);
	in_hub(b);
	pthread_mutex_lock(&b->mu);
	b->done++;
	pthread_mutex_unlock(&b->mu);
	cc_jobs_unlock(b->jobs);
}

static void waiting(void *ctx)
{
	struct batch *b = ctx;
	in_hub(b);
	pthread_mutex_lock(&b->mu);
	b->waits++;
	pthread_mutex_unlock(&b->mu);
}

static void test_calls_overlap_hub_held_by_one(void **state)
{
	(void)state;
	struct batch b = { .in_flight = 0 };
	pthread_mutex_init(&b.mu, NULL);
	pthread_cond_init(&b.cv, NULL);
	assert_int_equal(cc_jobs_create(&b.jobs, waiting, &b), 0);
	void *args[JOBS];
	for (int i = 0; i < JOBS; i++)
		args[i] = &b;
	int64_t t0 = mono_ms();
	cc_jobs_run(b.jobs, JOBS, job, args);
	int64_t took = mono_ms() - t0;
	/* every job returned before run did */
	assert_int_equal(b.done, JOBS);
	/* the calls were in flight at once: one after another, never 4 */
	assert_int_equal(b.most_in_flight, JOBS);
	/* ... while the hub was only ever held by one */
	assert_int_equal(b.overlaps, 0);
	/* the waiting thread had the hub meanwhile (calls take 120 ms) */
	assert_true(b.waits >= 1);
	/* well under one after another (4 x 120 ms); bounded for a busy machine */
	assert_true(took < 5000);
	cc_jobs_destroy(b.jobs);
	pthread_cond_destroy(&b.cv);
	pthread_mutex_destroy(&b.mu);
}

/* A batch of one and an empty batch return at once, the job done. */
static void test_small_batches(void **state)
{
	(void)state;
	struct batch b = { .in_flight = 0 };
	pthread_mutex_init(&b.mu, NULL);
	pthread_cond_init(&b.cv, NULL);
	assert_int_equal(cc_jobs_create(&b.jobs, NULL, NULL), 0);
	cc_jobs_run(b.jobs, 0, job, NULL);
	assert_int_equal(b.done, 0);
	void *one[1] = { &b };
	cc_jobs_run(b.jobs, 1, job, one);
	assert_int_equal(b.done, 1);
	assert_int_equal(b.overlaps, 0);
	cc_jobs_destroy(b.jobs);
	pthread_cond_destroy(&b.cv);
	pthread_mutex_destroy(&b.mu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calls_overlap_hub_held_by_one),
		cmocka_unit_test(test_small_batches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
