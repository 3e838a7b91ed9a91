/*
 * concord: the entry point. Dispatches to one subcommand.
 */
#include "cli/cli.h"
#include "connectors/registry.h"
#include "core/policy.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: concord COMMAND [OPTIONS]\n"
	        "\n"
	        "commands:\n"
	        "  sim          run the deterministic simulator (concord sim --help)\n"
	        "  demo         a hub between emulated ServiceNow and Sentinel (concord demo --help)\n"
	        "  audit        every decision about a case (concord audit CASE), refused\n"
	        "               webhooks (concord audit webhooks)\n"
	        "  explain      why a field has its value (concord explain CASE FIELD)\n"
	        "  deadletters  list, retry or drop deliveries given up on\n"
	        "  store        migrate or back up the store\n"
	        "  bench        measure the store: observations/s, growth, memory\n"
	        "  serve        run the daemon (concord serve -c FILE)\n"
	        "  sync         one full cycle and exit (concord sync --once -c FILE)\n"
	        "  status       per system: last poll, lag, outbox, dead letters, parked\n"
	        "  pause, resume SYSTEM   stop or restart a system's polls and deliveries\n"
	        "  resync CASE  read a case's records again and bring them to the case\n"
	        "  conflicts    list the conflicts parked for a person, or resolve one\n"
	        "  check        check a configuration file (concord check -c FILE)\n"
	        "\n"
	        "  version      print the version\n"
	        "\n"
	        "Commands that open a store take --store URL; the default is\n"
	        "$CONCORD_STORE, else sqlite:concord.db.\n");
	/* what this build knows, from the registration tables */
	fprintf(f, "\nconnector kinds (a system's kind):\n");
	for (const struct cc_connector_kind *const *k = cc_connector_kind_table(); *k; k++)
		fprintf(f, "  %-12s %s\n", (*k)->kind, (*k)->description);
	size_t n;
	const struct cc_store_backend *b = cc_store_backends(&n);
	fprintf(f, "store backends (--store, store:):\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %-12s %s\n", b[i].form, b[i].description);
	const struct cc_policy_def *const *p = cc_policy_table(&n);
	fprintf(f, "field policies (policy:):\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %-12s %s\n", p[i]->name, p[i]->rule);
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
	if (strcmp(cmd, "demo") == 0)
		return cc_cmd_demo(argc - 1, argv + 1);
	if (strcmp(cmd, "audit") == 0)
		return cc_cmd_audit(argc - 1, argv + 1);
	if (strcmp(cmd, "explain") == 0)
		return cc_cmd_explain(argc - 1, argv + 1);
	if (strcmp(cmd, "deadletters") == 0)
		return cc_cmd_deadletters(argc - 1, argv + 1);
	if (strcmp(cmd, "store") == 0)
		return cc_cmd_store(argc - 1, argv + 1);
	if (strcmp(cmd, "bench") == 0)
		return cc_cmd_bench(argc - 1, argv + 1);
	if (strcmp(cmd, "serve") == 0)
		return cc_cmd_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "sync") == 0)
		return cc_cmd_sync(argc - 1, argv + 1);
	if (strcmp(cmd, "status") == 0)
		return cc_cmd_status(argc - 1, argv + 1);
	if (strcmp(cmd, "pause") == 0)
		return cc_cmd_pause(argc - 1, argv + 1);
	if (strcmp(cmd, "resume") == 0)
		return cc_cmd_resume(argc - 1, argv + 1);
	if (strcmp(cmd, "resync") == 0)
		return cc_cmd_resync(argc - 1, argv + 1);
	if (strcmp(cmd, "conflicts") == 0)
		return cc_cmd_conflicts(argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return cc_cmd_check(argc - 1, argv + 1);
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
