/*
 * The store benchmark behind `concord bench`: observations through ingest,
 * merge and outbox on the SQLite store, at several numbers of cases, and
 * the raw insert speed of the same SQLite setup for comparison. A program
 * that prints figures, not a test: compare ratios measured in one run.
 */
#ifndef CC_BENCH_H
#define CC_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cc_bench_options {
	const char *dir;          /* scratch directory for the database files */
	size_t observations;      /* measured observations per size */
	size_t batch;             /* observations per transaction (group commit) */
	bool ten_million;         /* also measure 10M cases */
	uint64_t only_cases;      /* measure this many cases only (0: the full set) */
	FILE *progress;           /* progress lines, or NULL */
};

struct cc_bench_result {
	double observations_per_sec;      /* 100k cases, synchronous=NORMAL */
	double changes_per_sec;
	double observations_per_sec_full; /* synchronous=FULL */
	double us_per_change_10k;
	double us_per_change_100k;
	double us_per_change_1m;
	double us_per_change_10m;         /* 0 unless ten_million */
	double cost_ratio_1m_10k;
	double cost_ratio_10m_10k;
	double peak_rss_mb;
	double sqlite_raw_inserts_per_sec;
	double rows_per_observation;
	double fraction_of_limit;
	double changes_per_observation;
	size_t batch;
};

void cc_bench_defaults(struct cc_bench_options *o);
/* Measures one size only: fills us_per_change_100k and observations_per_sec. */
int cc_bench_one(const struct cc_bench_options *o, struct cc_bench_result *r);
/* Runs the benchmark; returns 0, or non-zero with a message on stderr. */
int cc_bench_run(const struct cc_bench_options *o, struct cc_bench_result *r);

#endif
