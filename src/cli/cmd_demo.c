/*
 * concord demo: one hub between emulated SaaS systems (ServiceNow,
 * Microsoft Sentinel, and Jira Cloud when asked), with virtual people and the emulators' faults; ends
 * with the run's figures as one JSON object. The emulators are test tools
 * of the source tree (emulators/), and the run is told by
 * scripts/demo/saas_demo.py, which this command runs with this very binary
 * as the hub: the demo needs the source tree, never an installed concord's
 * data. The tree is $CONCORD_SOURCE_DIR, else the one this binary was
 * built from.
 */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CC_SOURCE_ROOT
#define CC_SOURCE_ROOT "."
#endif

#define DEMO_SCRIPT "scripts/demo/saas_demo.py"
#define PYTHON "/usr/bin/python3"

static void demo_usage(FILE *f)
{
	fprintf(f, "usage: concord demo [--systems servicenow,sentinel[,jira]] [--seconds N]\n"
	           "                    [--faults all|none|LIST] [--poll SECONDS] [--json]\n"
	           "                    [--seed S] [--keep DIR] [--no-webhooks]\n"
	           "\n"
	           "Starts the ServiceNow and Sentinel emulators (and Jira's) on loopback, a\n"
	           "hub between them, and virtual people working in each for N seconds\n"
	           "(default 60);\n"
	           "then waits for every system to agree and prints the figures: changes,\n"
	           "converged, duplicates, loop_writes, state_flips,\n"
	           "writes_per_change_per_target, api_calls_per_change, latency_p50_ms,\n"
	           "latency_p99_ms. LIST: latency,429,5xx,timeout,dup,reorder,skew,kill.\n"
	           "Needs " PYTHON " and the source tree ($CONCORD_SOURCE_DIR, default\n"
	           "%s). Exits 0 when converged with no duplicate, loop or flip.\n",
	        CC_SOURCE_ROOT);
}

int cc_cmd_demo(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			demo_usage(stdout);
			return 0;
		}
	const char *root = getenv("CONCORD_SOURCE_DIR");
	if (!root || !*root)
		root = CC_SOURCE_ROOT;
	char script[PATH_MAX], self[PATH_MAX];
	if (snprintf(script, sizeof(script), "%s/%s", root, DEMO_SCRIPT) >= (int)sizeof(script)) {
		fprintf(stderr, "concord demo: the source directory's path is too long\n");
		return 2;
	}
	if (access(script, R_OK) != 0) {
		fprintf(stderr, "concord demo: %s: %s (set CONCORD_SOURCE_DIR to concord's source tree)\n",
		        script, strerror(errno));
		return 2;
	}
	if (access(PYTHON, X_OK) != 0) {
		fprintf(stderr, "concord demo: %s: %s (apt-get install python3)\n", PYTHON,
		        strerror(errno));
		return 2;
	}
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || (size_t)n >= sizeof(self) - 1) {
		fprintf(stderr, "concord demo: cannot tell where this binary is: %s\n", strerror(errno));
		return 2;
	}
	self[n] = '\0';
	/* python3 SCRIPT --concord SELF ARGS... */
	char **av = calloc((size_t)argc + 5, sizeof(*av));
	if (!av) {
		fprintf(stderr, "concord demo: out of memory\n");
		return 2;
	}
	int k = 0;
	av[k++] = PYTHON;
	av[k++] = script;
	av[k++] = "--concord";
	av[k++] = self;
	for (int i = 1; i < argc; i++)
		av[k++] = argv[i];
	av[k] = NULL;
	fflush(NULL);
	execv(PYTHON, av);
	fprintf(stderr, "concord demo: cannot run %s: %s\n", PYTHON, strerror(errno));
	free(av);
	return 2;
}
