/*
 * concord: the entry point. Dispatches to one subcommand.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: concord COMMAND [OPTIONS]\n"
	        "\n"
	        "commands:\n"
	        "  sim        run the deterministic simulator (concord sim --help)\n"
	        "  version    print the version\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "sim") == 0)
		return cc_cmd_sim(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("concord 0.1.0\n");
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "concord: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
