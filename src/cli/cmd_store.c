/*
 * `concord store migrate` brings a store's schema to this build's;
 * `concord store backup FILE` copies a live store to FILE (consistent, the
 * store stays usable). Restoring is copying the backup back while concord
 * is stopped (docs/storage.md).
 */
#include "cli/cli.h"
#include "core/redact.h"
#include "cli/cli_store.h"
#include "store/store_sqlite.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: concord store migrate [--store sqlite:PATH]\n"
	           "       concord store backup FILE [--store sqlite:PATH]\n"
	           "The store defaults to $CONCORD_STORE, else %s.\n", CC_DEFAULT_STORE);
}

int cc_cmd_store(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *url = cc_cli_store_url(argc, argv);
	if (strncmp(url, "sqlite:", 7) != 0) {
		char shown[512];
		fprintf(stderr, "concord store: %s is not a SQLite store (sqlite:PATH)\n",
		        cc_redact_copy(shown, sizeof(shown), url));
		return 2;
	}
	char err[512];
	if (!strcmp(argv[1], "migrate")) {
		int from, to;
		if (cc_store_sqlite_migrate(url + 7, &from, &to, err, sizeof(err))) {
			fprintf(stderr, "concord store migrate: %s\n", err);
			return 1;
		}
		if (from == to)
			printf("%s: schema version %d, nothing to do\n", url + 7, to);
		else
			printf("%s: schema version %d -> %d\n", url + 7, from, to);
		return 0;
	}
	if (!strcmp(argv[1], "backup")) {
		if (argc < 3 || !strcmp(argv[2], "--store")) {
			usage(stderr);
			return 2;
		}
		struct cc_store st;
		if (cc_cli_open_store("store backup", argc, argv, &st))
			return 1;
		int rc = cc_store_sqlite_backup(&st, argv[2], err, sizeof(err));
		st.ops->destroy(st.self);
		if (rc) {
			fprintf(stderr, "concord store backup: %s\n", err);
			return 1;
		}
		printf("backed up %s to %s\n", url + 7, argv[2]);
		return 0;
	}
	usage(stderr);
	return 2;
}
