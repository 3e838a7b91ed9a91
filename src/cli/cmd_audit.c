/*
 * `concord audit CASE` prints every decision taken about a case, field by
 * field, with origin system, author, remote time, version and decision;
 * `concord audit webhooks` the webhooks the daemon refused (entries about
 * no case).
 * `concord explain CASE FIELD` says why a field has its value: the change
 * that won, the changes it beat, and the rule that decided.
 */
#include "cli/cli.h"
#include "cli/cli_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct names {
	char system[CC_MAX_SYSTEMS][48];
};

static void remember_names(struct names *n, const struct cc_audit_entry *e)
{
	if (e->system >= 0 && e->system < CC_MAX_SYSTEMS && e->system_name && !n->system[e->system][0])
		snprintf(n->system[e->system], sizeof(n->system[0]), "%s", e->system_name);
}

static const char *system_label(const struct names *n, int s, char *buf, size_t len)
{
	if (s < 0)
		return "-";
	if (s < CC_MAX_SYSTEMS && n->system[s][0])
		return n->system[s];
	snprintf(buf, len, "system %d", s);
	return buf;
}

/* A value on one line, quoted; a newline shows as \n. */
static void print_quoted(const char *v)
{
	putchar('"');
	for (; *v; v++) {
		if (*v == '\n')
			fputs("\\n", stdout);
		else if (*v == '\r')
			fputs("\\r", stdout);
		else if (*v == '"')
			fputs("\\\"", stdout);
		else
			putchar(*v);
	}
	putchar('"');
}

static void print_version(const struct cc_version *v)
{
	if (v->t_ms == INT64_MIN) {
		printf("-");
		return;
	}
	char t[48];
	cc_cli_format_time(t, sizeof(t), v->t_ms);
	printf("%s/r%d/v%" PRIu64, t, (int)v->rank, v->rv);
}

struct audit_print {
	struct names names;
	size_t count;
	bool caseless;  /* only the entries about no case (case 0) */
};

static int print_entry(void *arg, const struct cc_audit_entry *e, uint64_t seq)
{
	struct audit_print *ap = arg;
	char t[48], sb[32];
	if (ap->caseless && e->case_id != 0)
		return 0;
	remember_names(&ap->names, e);
	cc_cli_format_time(t, sizeof(t), e->at_ms);
	printf("%6" PRIu64 "  %s  %-14s %-14s %-17s ", seq, t,
	       system_label(&ap->names, e->system, sb, sizeof(sb)),
	       e->field_name ? e->field_name : (e->field >= 0 ? "?" : "-"),
	       cc_decision_name(e->decision));
	if (e->value) {
		print_quoted(e->value);
		putchar(' ');
	}
	if (e->ver.t_ms != INT64_MIN) {
		printf("version ");
		print_version(&e->ver);
		printf(" ");
	}
	if (e->score > 0)
		printf("score %d ", e->score);
	if (e->remote_id)
		printf("[%s] ", e->remote_id);
	if (e->detail)
		printf("-- %s", e->detail);
	printf("\n");
	ap->count++;
	return 0;
}

/* `concord audit webhooks`: the entries about no case, oldest first (a
 * scan of the whole audit: these rows are few, the audit may be long). */
static int audit_caseless(int argc, char **argv)
{
	struct cc_store st;
	if (cc_cli_open_store("audit", argc, argv, &st))
		return 2;
	printf("%6s  %-13s %-14s %-14s %-17s %s\n", "seq", "time", "system", "field", "decision",
	       "status, reason and client address");
	struct audit_print ap = { .caseless = true };
	int rc = st.ops->audit_scan(st.self, 0, print_entry, &ap);
	if (rc)
		fprintf(stderr, "concord audit: reading the audit failed: %s\n",
		        st.ops->last_error(st.self));
	else if (!ap.count)
		printf("(no webhook was refused)\n");
	st.ops->destroy(st.self);
	return rc ? 1 : 0;
}

int cc_cmd_audit(int argc, char **argv)
{
	uint64_t id;
	if (argc >= 2 && !strcmp(argv[1], "webhooks"))
		return audit_caseless(argc, argv);
	if (argc < 2 || !strcmp(argv[1], "--help") || cc_cli_parse_case(argv[1], &id)) {
		fprintf(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
		        "usage: concord audit CASE [--store URL]\n"
		        "       concord audit webhooks [--store URL]\n"
		        "Prints every decision taken about a case, oldest first; with\n"
		        "`webhooks`, the webhooks the daemon refused (not authenticated).\n"
		        "CASE is a case number or its correlation id (concord-N).\n");
		return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	struct cc_store st;
	if (cc_cli_open_store("audit", argc, argv, &st))
		return 2;
	struct cc_case c;
	int rc = st.ops->case_load(st.self, id, &c);
	if (rc) {
		fprintf(stderr, "concord audit: no case %" PRIu64 " in %s\n", id,
		        cc_cli_store_url(argc, argv));
		st.ops->destroy(st.self);
		return 1;
	}
	printf("case %" PRIu64 " (concord-%" PRIu64 ")\n", id, id);
	printf("%6s  %-13s %-14s %-14s %-17s %s\n", "seq", "time", "system", "field", "decision",
	       "value, version (corrected time/rank/remote version), remote id, author or reason");
	struct audit_print ap = { 0 };
	rc = st.ops->audit_scan(st.self, id, print_entry, &ap);
	if (rc)
		fprintf(stderr, "concord audit: reading the audit failed: %s\n",
		        st.ops->last_error(st.self));
	cc_case_clear(&c);
	st.ops->destroy(st.self);
	return rc ? 1 : 0;
}

/* ---- explain ----------------------------------------------------------- */

struct explain {
	const char *field;      /* name or number as given */
	int field_index;        /* resolved from the audit, -1 until then */
	struct names names;
	struct cc_audit_entry *hist; /* copies: strings point into strs */
	char **strs;
	size_t n, cap, nstrs;
};

static bool field_matches(struct explain *x, const struct cc_audit_entry *e)
{
	if (e->field < 0)
		return false;
	if (x->field_index >= 0)
		return e->field == x->field_index;
	char num[16];
	snprintf(num, sizeof(num), "%d", e->field);
	if ((e->field_name && strcmp(e->field_name, x->field) == 0) || strcmp(num, x->field) == 0) {
		x->field_index = e->field;
		return true;
	}
	return false;
}

static const char *keep(struct explain *x, const char *s)
{
	if (!s)
		return NULL;
	char **n = realloc(x->strs, (x->nstrs + 1) * sizeof(*n));
	if (!n)
		return NULL;
	x->strs = n;
	x->strs[x->nstrs] = strdup(s);
	return x->strs[x->nstrs] ? x->strs[x->nstrs++] : NULL;
}

static int collect(void *arg, const struct cc_audit_entry *e, uint64_t seq)
{
	struct explain *x = arg;
	(void)seq;
	remember_names(&x->names, e);
	if (!field_matches(x, e))
		return 0;
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 32;
		struct cc_audit_entry *n = realloc(x->hist, cap * sizeof(*n));
		if (!n)
			return -1;
		x->hist = n;
		x->cap = cap;
	}
	struct cc_audit_entry c = *e;
	c.value = keep(x, e->value);
	c.detail = keep(x, e->detail);
	c.remote_id = keep(x, e->remote_id);
	c.field_name = keep(x, e->field_name);
	c.system_name = NULL;
	x->hist[x->n++] = c;
	return 0;
}

static const char *rule_of(const struct explain *x)
{
	for (size_t i = 0; i < x->n; i++) {
		if (x->hist[i].decision == CC_AUDIT_REFUSED || x->hist[i].decision == CC_AUDIT_REVERTED)
			return "owner: only the system of record's changes apply; others are refused";
		if (x->hist[i].decision == CC_AUDIT_PARKED || x->hist[i].decision == CC_AUDIT_RESOLVED)
			return "manual: a real conflict is parked for a person, who resolves it";
	}
	return "last writer wins: the change with the newest version";
}

static void describe(const struct explain *x, const struct cc_audit_entry *e)
{
	char sb[32], t[48];
	cc_cli_format_time(t, sizeof(t), e->at_ms);
	if (e->decision == CC_AUDIT_RESOLVED) /* a person: the detail says who and how */
		printf("a person");
	else
		printf("%s %s", system_label(&x->names, e->system, sb, sizeof(sb)),
		       e->remote_id ? e->remote_id : "");
	if (e->value) {
		putchar(' ');
		print_quoted(e->value);
	}
	if (e->ver.t_ms != INT64_MIN) {
		printf(", version ");
		print_version(&e->ver);
	}
	if (e->detail)
		printf(e->decision == CC_AUDIT_RESOLVED ? " (%s)" : ", by %s", e->detail);
	printf(" (seen %s)", t);
}

int cc_cmd_explain(int argc, char **argv)
{
	uint64_t id;
	if (argc < 3 || !strcmp(argv[1], "--help") || cc_cli_parse_case(argv[1], &id)) {
		fprintf(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
		        "usage: concord explain CASE FIELD [--store URL]\n"
		        "Says why a field of a case has its value: the change that won, the\n"
		        "changes it beat, and the rule that decided. FIELD is a field name or number.\n");
		return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	struct cc_store st;
	if (cc_cli_open_store("explain", argc, argv, &st))
		return 2;
	struct cc_case c;
	int rc = st.ops->case_load(st.self, id, &c);
	if (rc) {
		fprintf(stderr, "concord explain: no case %" PRIu64 " in %s\n", id,
		        cc_cli_store_url(argc, argv));
		st.ops->destroy(st.self);
		return 1;
	}
	struct explain x = { .field = argv[2], .field_index = -1 };
	rc = st.ops->audit_scan(st.self, id, collect, &x);
	int status = 0;
	if (rc) {
		fprintf(stderr, "concord explain: reading the audit failed: %s\n",
		        st.ops->last_error(st.self));
		status = 1;
		goto out;
	}
	if (x.field_index < 0) {
		char *end;
		long f = strtol(x.field, &end, 10);
		if (*end || f < 0 || f >= CC_MAX_FIELDS) {
			fprintf(stderr, "concord explain: case %" PRIu64 " has no decision about a field "
			        "named %s\n", id, x.field);
			status = 1;
			goto out;
		}
		x.field_index = (int)f;
	}
	const struct cc_field_state *fs = &c.f[x.field_index];
	char sb[32], t[48];
	printf("case %" PRIu64 " field %s = ", id, x.field);
	print_quoted(fs->value);
	putchar('\n');
	printf("  rule: %s\n", rule_of(&x));
	/* The winner: the newest entry that set or re-dated the value at the
	 * case's version. */
	const struct cc_audit_entry *win = NULL;
	for (size_t i = x.n; i-- > 0 && !win;) {
		const struct cc_audit_entry *e = &x.hist[i];
		if ((e->decision == CC_AUDIT_APPLIED || e->decision == CC_AUDIT_COVERED ||
		     e->decision == CC_AUDIT_RESOLVED) &&
		    cc_version_cmp(&e->ver, &fs->ver) == 0)
			win = e;
	}
	if (win && win->decision == CC_AUDIT_RESOLVED) {
		/* a person's decision: the detail says who and how */
		cc_cli_format_time(t, sizeof(t), win->at_ms);
		printf("  resolved by a person: %s, at %s, version ", win->detail ? win->detail : "?",
		       t);
		print_version(&win->ver);
		printf("\n");
	} else if (win) {
		printf("  won by: ");
		describe(&x, win);
		printf(", %s\n", cc_decision_name(win->decision));
	} else if (fs->origin >= 0) {
		printf("  set by %s when the case was made, version ",
		       system_label(&x.names, fs->origin, sb, sizeof(sb)));
		print_version(&fs->ver);
		printf("\n");
	} else {
		printf("  never set by anyone\n");
	}
	size_t beaten = 0;
	for (size_t i = 0; i < x.n; i++) {
		const struct cc_audit_entry *e = &x.hist[i];
		if (e->decision != CC_AUDIT_LOST_CONFLICT && e->decision != CC_AUDIT_REFUSED &&
		    e->decision != CC_AUDIT_PARKED &&
		    !((e->decision == CC_AUDIT_APPLIED || e->decision == CC_AUDIT_RESOLVED) && e != win))
			continue;
		if (!beaten++)
			printf("  it beat, or came after:\n");
		printf("    ");
		describe(&x, e);
		printf(": %s\n", e->decision == CC_AUDIT_APPLIED    ? "applied, later superseded"
		                  : e->decision == CC_AUDIT_RESOLVED ? "resolved, later superseded"
		                                                      : cc_decision_name(e->decision));
	}
	if (fs->parked)
		printf("  PARKED: %s proposed \"%s\"; resolve it with concord conflicts resolve "
		       "%" PRIu64 " %s --take SYSTEM or --value VALUE\n",
		       system_label(&x.names, fs->parked_system, sb, sizeof(sb)),
		       fs->parked_value ? fs->parked_value : "", id, x.field);
	printf("  each system holds (its own terms, as the hub last knows it):\n");
	for (int s = 0; s < CC_MAX_SYSTEMS; s++) {
		const struct cc_link *l = &c.link[s];
		if (l->status != CC_LINK_LINKED && l->status != CC_LINK_PARKED)
			continue;
		printf("    %-16s %-12s \"%s\"%s%s\n", system_label(&x.names, s, sb, sizeof(sb)),
		       l->remote_id ? l->remote_id : "", l->shadow[x.field_index] ? l->shadow[x.field_index] : "",
		       l->pending_mask & (1u << x.field_index) ? " (a write is pending)" : "",
		       l->status == CC_LINK_PARKED ? " (link parked)" : "");
	}
out:
	for (size_t i = 0; i < x.nstrs; i++)
		free(x.strs[i]);
	free(x.strs);
	free(x.hist);
	cc_case_clear(&c);
	st.ops->destroy(st.self);
	return status;
}
