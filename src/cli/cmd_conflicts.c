/*
 * `concord conflicts list` and `concord conflicts resolve CASE FIELD
 * --take SYSTEM | --value VALUE`: the manual queue, answered from the store
 * like `concord resync` (a running daemon delivers what a resolution
 * queued). The work is in daemon/control.c, shared with the admin API.
 */
#include "cli/cli.h"
#include "cli/cli_store.h"
#include "config/config_file.h"
#include "config/registry_check.h"
#include "core/redact.h"
#include "daemon/control.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Exit statuses of `conflicts resolve` (list: 0, 1 or 2). */
enum {
	EXIT_STORE = 1,      /* the store failed */
	EXIT_USAGE = 2,      /* bad arguments; a FIELD or SYSTEM the configuration lacks */
	EXIT_NO_CASE = 3,
	EXIT_NOT_PARKED = 4,
	EXIT_NOT_A_SIDE = 5, /* SYSTEM is not one of the conflict's two sides */
	EXIT_UNMAPPED = 6,   /* a linked system cannot carry the value */
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: concord conflicts list -c FILE [--store URL]\n"
	        "       concord conflicts resolve CASE FIELD --take SYSTEM -c FILE [--by NAME] "
	        "[--store URL]\n"
	        "       concord conflicts resolve CASE FIELD --value VALUE -c FILE [--by NAME] "
	        "[--store URL]\n"
	        "\n"
	        "list: every conflict the manual policy parked for a person, with both sides\n"
	        "(the case value and the parked value: system, value, version, author).\n"
	        "resolve: the value of SYSTEM's side (--take) or VALUE in canonical terms\n"
	        "(--value) becomes the case value, is audited as resolved by NAME (default\n"
	        "$USER), and is delivered to every linked record by the daemon.\n"
	        "CASE is a case number or concord-N; FIELD a canonical field name.\n"
	        "\n"
	        "exit status of resolve: 0 resolved, 1 the store failed, 2 bad arguments or a\n"
	        "FIELD or SYSTEM the configuration does not name, 3 no such case, 4 no\n"
	        "conflict parked in that field, 5 SYSTEM is not a side of the conflict,\n"
	        "6 a linked system cannot carry the value.\n");
}

static const char *opt(int argc, char **argv, const char *a, const char *b)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], a) || (b && !strcmp(argv[i], b)))
			return argv[i + 1];
	return NULL;
}

struct conflicts {
	struct cc_file_config *fc;
	struct cc_store st;
};

/* Loads -c FILE and opens its store (--store overrides). 0, or EXIT_USAGE. */
static int open_conflicts(int argc, char **argv, struct conflicts *a)
{
	const char *path = opt(argc, argv, "-c", "--config");
	char err[600];
	if (!path) {
		fprintf(stderr, "concord conflicts: -c FILE is needed (the configuration names the "
		                "systems and fields)\n");
		return EXIT_USAGE;
	}
	if (cc_config_file_load(&a->fc, path, cc_config_registry_options(), err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	const char *url = opt(argc, argv, "--store", NULL);
	if (!url)
		url = a->fc->store ? a->fc->store : cc_cli_store_url(argc, argv);
	if (cc_store_open(&a->st, url, err, sizeof(err))) {
		char shown[512];
		fprintf(stderr, "concord conflicts: cannot open store %s: %s\n",
		        cc_redact_copy(shown, sizeof(shown), url), err);
		cc_config_file_free(a->fc);
		return EXIT_USAGE;
	}
	return 0;
}

static void close_conflicts(struct conflicts *a)
{
	a->st.ops->destroy(a->st.self);
	cc_config_file_free(a->fc);
}

/* A value on one line, quoted; a newline shows as \n. */
static void print_quoted(const char *v)
{
	putchar('"');
	for (; v && *v; v++) {
		if (*v == '\n')
			fputs("\\n", stdout);
		else if (*v == '\r')
			fputs("\\r", stdout);
		else if (*v == '"' || *v == '\\')
			printf("\\%c", *v);
		else
			putchar(*v);
	}
	putchar('"');
}

struct listing {
	const struct cc_config *cfg;
	size_t n;
};

static void print_side(const struct listing *l, const char *label,
                       const struct cc_conflict_side *s)
{
	char t[48];
	printf("  %-11s %-12s ", label,
	       s->system >= 0 && (size_t)s->system < l->cfg->nsystems ? l->cfg->systems[s->system].name
	                                                              : "-");
	print_quoted(s->value);
	if (s->ver.t_ms != INT64_MIN) {
		cc_cli_format_time(t, sizeof(t), s->ver.t_ms);
		printf("  version %s/r%d/v%" PRIu64, t, (int)s->ver.rank, s->ver.rv);
	}
	printf("  by %s\n", s->author ? s->author : "(not known)");
}

static int print_conflict(void *arg, const struct cc_conflict_report *r)
{
	struct listing *l = arg;
	printf("case %" PRIu64 " field %s\n", r->case_id, l->cfg->fields[r->field].name);
	print_side(l, "case value", &r->case_side);
	print_side(l, "parked", &r->parked);
	l->n++;
	return 0;
}

static int list(int argc, char **argv)
{
	struct conflicts a;
	int rc = open_conflicts(argc, argv, &a);
	if (rc)
		return rc;
	struct listing l = { .cfg = &a.fc->engine };
	rc = cc_control_conflicts(&a.st, &a.fc->engine, print_conflict, &l);
	int status = 0;
	if (rc) {
		fprintf(stderr, "concord conflicts: %s\n",
		        rc == CC_ENOMEM ? "out of memory" : a.st.ops->last_error(a.st.self));
		status = EXIT_STORE;
	} else {
		printf("%zu conflict%s parked for a person\n", l.n, l.n == 1 ? "" : "s");
	}
	close_conflicts(&a);
	return status;
}

static int field_index(const struct cc_config *cfg, const char *name)
{
	for (size_t f = 0; f < cfg->nfields; f++)
		if (strcmp(cfg->fields[f].name, name) == 0)
			return (int)f;
	return -1;
}

static void list_systems(FILE *f, const struct cc_config *cfg)
{
	for (size_t s = 0; s < cfg->nsystems; s++)
		fprintf(f, "%s%s", s ? ", " : "", cfg->systems[s].name);
}

static int resolve(int argc, char **argv)
{
	uint64_t id;
	const char *take = opt(argc, argv, "--take", NULL);
	const char *value = opt(argc, argv, "--value", NULL);
	if (argc < 4 || argv[2][0] == '-' || argv[3][0] == '-' || cc_cli_parse_case(argv[2], &id) ||
	    !take == !value) {
		if (argc >= 3 && argv[2][0] != '-' && cc_cli_parse_case(argv[2], &id))
			fprintf(stderr, "concord conflicts: '%s' is not a case number\n", argv[2]);
		else if (argc >= 4 && !take == !value)
			fprintf(stderr, "concord conflicts: give --take SYSTEM or --value VALUE, "
			                "one of them\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	struct conflicts a;
	int rc = open_conflicts(argc, argv, &a);
	if (rc)
		return rc;
	const struct cc_config *cfg = &a.fc->engine;
	const char *fname = argv[3];
	int status = 0;
	int field = field_index(cfg, fname);
	struct cc_resolution how = { .take = -1, .value = value };
	if (field < 0) {
		fprintf(stderr, "concord conflicts: no field named %s in %s\n", fname, a.fc->path);
		status = EXIT_USAGE;
		goto out;
	}
	if (take && (how.take = cc_config_file_system(a.fc, take)) < 0) {
		fprintf(stderr, "concord conflicts: no system named %s in %s (systems: ", take,
		        a.fc->path);
		list_systems(stderr, cfg);
		fprintf(stderr, ")\n");
		status = EXIT_USAGE;
		goto out;
	}
	const char *by = opt(argc, argv, "--by", NULL);
	if (!by)
		by = getenv("USER");
	how.by = by && *by ? by : "cli";
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	struct cc_resolve_outcome out;
	rc = cc_control_resolve(&a.st, cfg, id, field, &how, now, &out);
	const char *sys = out.system >= 0 && (size_t)out.system < cfg->nsystems
	                          ? cfg->systems[out.system].name : "?";
	switch (rc) {
	case CC_EOK: {
		size_t linked = 0;
		struct cc_case c;
		if (a.st.ops->case_load(a.st.self, id, &c) == CC_EOK) {
			for (size_t s = 0; s < cfg->nsystems; s++)
				linked += c.link[s].status == CC_LINK_LINKED;
			printf("case %" PRIu64 " field %s resolved: ", id, fname);
			print_quoted(c.f[field].value);
			cc_case_clear(&c);
		}
		printf(" (%s); %zu linked record%s will be brought to it\n", out.detail, linked,
		       linked == 1 ? "" : "s");
		break;
	}
	case CC_ENOTFOUND:
		fprintf(stderr, "concord conflicts: no case %" PRIu64 "\n", id);
		status = EXIT_NO_CASE;
		break;
	case CC_ENOTPARKED:
		fprintf(stderr, "concord conflicts: case %" PRIu64 " has no conflict parked in field "
		        "%s (concord conflicts list shows what is parked)\n", id, fname);
		status = EXIT_NOT_PARKED;
		break;
	case CC_EINVAL:
		fprintf(stderr, "concord conflicts: %s is not a side of the conflict in case %" PRIu64
		        " field %s (concord conflicts list shows both sides)\n", take ? take : "?", id,
		        fname);
		status = EXIT_NOT_A_SIDE;
		break;
	case CC_EUNMAPPED:
		fprintf(stderr, "concord conflicts: %s cannot take that value of field %s: no "
		        "mapping of it covers the value; nothing was changed\n", sys, fname);
		status = EXIT_UNMAPPED;
		break;
	default:
		fprintf(stderr, "concord conflicts: %s\n",
		        rc == CC_ENOMEM ? "out of memory" : a.st.ops->last_error(a.st.self));
		status = EXIT_STORE;
		break;
	}
out:
	close_conflicts(&a);
	return status;
}

int cc_cmd_conflicts(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "list"))
		return list(argc, argv);
	if (!strcmp(argv[1], "resolve"))
		return resolve(argc, argv);
	fprintf(stderr, "concord conflicts: unknown action '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
