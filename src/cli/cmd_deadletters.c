/*
 * `concord deadletters list|retry|drop`: deliveries the outbox gave up on,
 * with their reason; retry puts them back in the outbox, due now.
 */
#include "cli/cli.h"
#include "cli/cli_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct dl_list {
	uint64_t *ids;
	size_t n, cap;
	uint64_t want;  /* 0: all */
	struct cc_dead_letter *found;
	size_t nfound, capfound;
};

static int print_letter(void *arg, const struct cc_dead_letter *d)
{
	size_t *n = arg;
	char t[48];
	cc_cli_format_time(t, sizeof(t), d->at_ms);
	printf("%6" PRIu64 "  %s  case %-8" PRIu64 " system %-2d %s\n", d->id, t, d->case_id,
	       d->system, d->reason);
	(*n)++;
	return 0;
}

static int pick_letter(void *arg, const struct cc_dead_letter *d)
{
	struct dl_list *l = arg;
	if (l->want && d->id != l->want)
		return 0;
	if (l->nfound == l->capfound) {
		size_t cap = l->capfound ? l->capfound * 2 : 16;
		struct cc_dead_letter *n = realloc(l->found, cap * sizeof(*n));
		if (!n)
			return CC_ENOMEM;
		l->found = n;
		l->capfound = cap;
	}
	l->found[l->nfound++] = *d;
	return 0;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: concord deadletters list [--store URL]\n"
	           "       concord deadletters retry ID|--all [--store URL]\n"
	           "       concord deadletters drop ID|--all [--store URL]\n");
}

int cc_cmd_deadletters(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *verb = argv[1];
	bool list = !strcmp(verb, "list");
	bool retry = !strcmp(verb, "retry"), drop = !strcmp(verb, "drop");
	struct dl_list sel = { 0 };
	if (!list && !retry && !drop) {
		usage(stderr);
		return 2;
	}
	if (!list) {
		char *end;
		if (argc < 3) {
			usage(stderr);
			return 2;
		}
		if (strcmp(argv[2], "--all") != 0) {
			sel.want = strtoull(argv[2], &end, 10);
			if (*end || !sel.want) {
				fprintf(stderr, "concord deadletters: '%s' is not a dead letter id\n", argv[2]);
				return 2;
			}
		}
	}
	struct cc_store st;
	if (cc_cli_open_store("deadletters", argc, argv, &st))
		return 2;
	int status = 0;
	if (list) {
		size_t n = 0;
		if (st.ops->dead_letter_scan(st.self, print_letter, &n)) {
			fprintf(stderr, "concord deadletters: %s\n", st.ops->last_error(st.self));
			status = 1;
		}
		printf("%zu dead letter%s\n", n, n == 1 ? "" : "s");
		goto out;
	}
	if (st.ops->dead_letter_scan(st.self, pick_letter, &sel)) {
		fprintf(stderr, "concord deadletters: %s\n", st.ops->last_error(st.self));
		status = 1;
		goto out;
	}
	if (sel.want && sel.nfound == 0) {
		fprintf(stderr, "concord deadletters: no dead letter %" PRIu64 "\n", sel.want);
		status = 1;
		goto out;
	}
	int64_t now = wall_ms();
	for (size_t i = 0; i < sel.nfound && !status; i++) {
		const struct cc_dead_letter *d = &sel.found[i];
		int rc = st.ops->begin(st.self);
		if (rc == CC_EOK && retry) {
			struct cc_outbox_entry e = { .case_id = d->case_id, .system = d->system,
				                     .due_ms = now, .first_ms = now };
			rc = st.ops->outbox_put(st.self, &e);
		}
		if (rc == CC_EOK)
			rc = st.ops->dead_letter_remove(st.self, d->id);
		if (rc == CC_EOK)
			rc = st.ops->commit(st.self);
		if (rc) {
			st.ops->rollback(st.self);
			fprintf(stderr, "concord deadletters: %s of %" PRIu64 " failed: %s\n", verb, d->id,
			        st.ops->last_error(st.self));
			status = 1;
		} else {
			printf("%s %" PRIu64 " (case %" PRIu64 ", system %d)\n",
			       retry ? "queued again" : "dropped", d->id, d->case_id, d->system);
		}
	}
out:
	free(sel.found);
	st.ops->destroy(st.self);
	return status;
}
