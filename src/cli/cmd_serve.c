/*
 * `concord serve -c FILE` runs the daemon; `concord sync --once -c FILE`
 * runs one full cycle and exits 0 (everything delivered), 1 (something
 * dead-lettered or parked) or 2 (configuration or store error).
 */
#include "cli/cli.h"
#include "daemon/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct args {
	const char *config;
	const char *store;
	bool once;
	long max_wait_s;
};

static int parse(const char *cmd, int argc, char **argv, struct args *a)
{
	a->max_wait_s = 600;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && v) {
			a->config = v;
			i++;
		} else if (!strcmp(argv[i], "--store") && v) {
			a->store = v;
			i++;
		} else if (!strcmp(argv[i], "--once")) {
			a->once = true;
		} else if (!strcmp(argv[i], "--max-wait") && v) {
			a->max_wait_s = strtol(v, NULL, 10);
			i++;
		} else {
			fprintf(stderr, "concord %s: unknown option '%s'\n", cmd, argv[i]);
			return 2;
		}
	}
	if (!a->config) {
		fprintf(stderr, "usage: concord %s -c FILE [--store URL]%s\n", cmd,
		        strcmp(cmd, "sync") == 0 ? " --once [--max-wait SECONDS]" : "");
		return 2;
	}
	return 0;
}

int cc_cmd_serve(int argc, char **argv)
{
	struct args a = { 0 };
	if (parse("serve", argc, argv, &a))
		return 2;
	struct cc_runtime *rt;
	char err[600];
	if (cc_runtime_open(&rt, a.config, a.store, stderr, err, sizeof(err))) {
		fprintf(stderr, "concord serve: %s\n", err);
		return 2;
	}
	int rc = cc_runtime_serve(rt);
	cc_runtime_close(rt);
	return rc;
}

int cc_cmd_sync(int argc, char **argv)
{
	struct args a = { 0 };
	if (parse("sync", argc, argv, &a))
		return 2;
	if (!a.once) {
		fprintf(stderr, "concord sync: only --once is supported; run `concord serve` to keep "
		                "syncing\n");
		return 2;
	}
	struct cc_runtime *rt;
	char err[600];
	if (cc_runtime_open(&rt, a.config, a.store, stderr, err, sizeof(err))) {
		fprintf(stderr, "concord sync: %s\n", err);
		return 2;
	}
	int rc = cc_runtime_sync_once(rt, a.max_wait_s * 1000);
	cc_runtime_close(rt);
	return rc;
}
