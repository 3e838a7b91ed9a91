/*
 * `concord bench`: the store benchmark (src/bench/). Prints readable
 * figures, and with --json one JSON object on the last line.
 */
#include "bench/bench.h"
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cc_cmd_bench(int argc, char **argv)
{
	struct cc_bench_options o;
	struct cc_bench_result r;
	bool json = false;
	cc_bench_defaults(&o);
	o.progress = stderr;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--10m")) {
			o.ten_million = true;
		} else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
			o.dir = argv[++i];
		} else if (!strcmp(argv[i], "--observations") && i + 1 < argc) {
			o.observations = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
			o.batch = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--cases") && i + 1 < argc) {
			o.only_cases = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--quiet")) {
			o.progress = NULL;
		} else {
			printf("usage: concord bench [--json] [--10m] [--dir DIR] [--observations N]\n"
			       "                     [--batch N] [--cases N] [--quiet]\n"
			       "Measures ingest + merge + outbox on the SQLite store (WAL) at 10k,\n"
			       "100k and 1M cases (10M with --10m), and raw SQLite inserts with the\n"
			       "same settings. Needs a few GB of free space in DIR (default /tmp).\n");
			return strcmp(argv[i], "--help") ? 2 : 0;
		}
	}
	if (o.observations < 1000 || o.batch < 1) {
		fprintf(stderr, "concord bench: --observations at least 1000, --batch at least 1\n");
		return 2;
	}
	if (o.only_cases) {
		if (cc_bench_one(&o, &r))
			return 1;
		printf("%llu cases: %.0f observations/s, %.2f us per change, %.2f rows per "
		       "observation, peak RSS %.1f MB\n", (unsigned long long)o.only_cases,
		       r.observations_per_sec, r.us_per_change_100k, r.rows_per_observation,
		       r.peak_rss_mb);
		return 0;
	}
	if (cc_bench_run(&o, &r))
		return 1;
	printf("observations/s (NORMAL, 100k cases)  %.0f\n", r.observations_per_sec);
	printf("changes/s                            %.0f (%.2f per observation)\n",
	       r.changes_per_sec, r.changes_per_observation);
	printf("observations/s (FULL)                %.0f\n", r.observations_per_sec_full);
	printf("us per change: 10k %.2f  100k %.2f  1M %.2f", r.us_per_change_10k,
	       r.us_per_change_100k, r.us_per_change_1m);
	if (o.ten_million)
		printf("  10M %.2f", r.us_per_change_10m);
	printf("\ncost ratio 1M/10k                    %.3f\n", r.cost_ratio_1m_10k);
	printf("rows per observation                 %.2f\n", r.rows_per_observation);
	printf("raw SQLite inserts/s                 %.0f\n", r.sqlite_raw_inserts_per_sec);
	printf("fraction of the limit                %.3f\n", r.fraction_of_limit);
	printf("peak RSS                             %.1f MB\n", r.peak_rss_mb);
	if (json) {
		printf("{\"observations_per_sec\":%.0f,\"changes_per_sec\":%.0f,"
		       "\"observations_per_sec_full\":%.0f,\"us_per_change_10k\":%.3f,"
		       "\"us_per_change_100k\":%.3f,\"us_per_change_1m\":%.3f,"
		       "\"cost_ratio_1m_10k\":%.3f,",
		       r.observations_per_sec, r.changes_per_sec, r.observations_per_sec_full,
		       r.us_per_change_10k, r.us_per_change_100k, r.us_per_change_1m,
		       r.cost_ratio_1m_10k);
		if (o.ten_million)
			printf("\"us_per_change_10m\":%.3f,\"cost_ratio_10m_10k\":%.3f,",
			       r.us_per_change_10m, r.cost_ratio_10m_10k);
		printf("\"peak_rss_mb\":%.1f,\"sqlite_raw_inserts_per_sec\":%.0f,"
		       "\"rows_per_observation\":%.3f,\"fraction_of_limit\":%.3f,"
		       "\"changes_per_observation\":%.3f,\"batch\":%zu}\n",
		       r.peak_rss_mb, r.sqlite_raw_inserts_per_sec, r.rows_per_observation,
		       r.fraction_of_limit, r.changes_per_observation, r.batch);
	}
	return 0;
}
