/*
 * A test tool for the manual queue: writes cases with a conflict parked in
 * field 1 (`state`) into a store through the store API, as the `manual`
 * policy leaves them, with the audit entries that tell each side's author.
 * The configuration the daemon tests use has systems rt (0) and redmine (1)
 * and fields title (0) and state (1).
 *
 * usage: make_conflict STORE_URL N    prints the ids of the N cases made
 *
 * Case k: title "Printer on fire k", linked to rt ticket 10k and redmine
 * issue 20k; state "open" set in rt by alice (the case value), "resolved"
 * from redmine by bob parked beside it.
 */
#include "core/store.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RT, REDMINE };
enum { F_TITLE, F_STATE };

static int audit(struct cc_store *st, const struct cc_case *c, int sys, int f,
                 enum cc_decision d, const char *value, struct cc_version ver, const char *who)
{
	static const char *const systems[] = { "rt", "redmine" };
	static const char *const fields[] = { "title", "state" };
	struct cc_audit_entry e = {
		.at_ms = ver.t_ms + 5000,
		.case_id = c->id,
		.system = sys,
		.field = f,
		.decision = d,
		.value = value,
		.remote_id = c->link[sys].remote_id,
		.ver = ver,
		.detail = who,
		.system_name = systems[sys],
		.field_name = fields[f],
	};
	return st->ops->audit_append(st->self, &e);
}

static int make_one(struct cc_store *st, int k, uint64_t *out_id)
{
	struct cc_case c;
	char buf[64];
	int rc = cc_case_init(&c);
	if (rc)
		return rc;
	const int64_t t0 = 1700000000000LL + (int64_t)k * 60000;
	struct cc_version mine = { t0 + 1500, 1, 3 }, theirs = { t0 + 2500, 2, 4 };
	rc = st->ops->case_new(st->self, &c.id);
	c.created_ms = t0;
	c.origin_system = RT;
	snprintf(buf, sizeof(buf), "Printer on fire %d", k);
	rc = rc ? rc : cc_case_set_value(&c, F_TITLE, buf);
	rc = rc ? rc : cc_case_set_value(&c, F_STATE, "open");
	c.f[F_TITLE].ver = (struct cc_version){ t0, 1, 1 };
	c.f[F_TITLE].origin = RT;
	c.f[F_STATE].ver = mine;
	c.f[F_STATE].origin = RT;
	c.f[F_STATE].parked = true;
	c.f[F_STATE].parked_system = REDMINE;
	c.f[F_STATE].parked_ver = theirs;
	rc = rc ? rc : cc_str_set(&c.f[F_STATE].parked_value, "resolved");
	for (int s = RT; s <= REDMINE && !rc; s++) {
		struct cc_link *l = &c.link[s];
		l->status = CC_LINK_LINKED;
		l->rv = 4;
		snprintf(buf, sizeof(buf), "%d", (s == RT ? 10 : 20) * 1000 + k);
		rc = cc_str_set(&l->remote_id, buf);
		snprintf(buf, sizeof(buf), "Printer on fire %d", k);
		rc = rc ? rc : cc_str_set(&l->shadow[F_TITLE], buf);
		rc = rc ? rc : cc_str_set(&l->shadow[F_STATE], s == RT ? "open" : "Resolved");
	}
	rc = rc ? rc : audit(st, &c, RT, F_STATE, CC_AUDIT_APPLIED, "open", mine, "alice");
	rc = rc ? rc : audit(st, &c, REDMINE, F_STATE, CC_AUDIT_PARKED, "Resolved", theirs, "bob");
	rc = rc ? rc : st->ops->case_save(st->self, &c);
	*out_id = c.id;
	cc_case_clear(&c);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 3 || atoi(argv[2]) < 1) {
		fprintf(stderr, "usage: make_conflict STORE_URL N\n");
		return 2;
	}
	struct cc_store st;
	char err[256];
	if (cc_store_open(&st, argv[1], err, sizeof(err))) {
		fprintf(stderr, "make_conflict: %s\n", err);
		return 1;
	}
	int n = atoi(argv[2]), rc = st.ops->begin(st.self);
	uint64_t ids[64];
	for (int k = 0; k < n && k < 64 && !rc; k++)
		rc = make_one(&st, k + 1, &ids[k]);
	rc = rc ? rc : st.ops->commit(st.self);
	if (rc) {
		fprintf(stderr, "make_conflict: %d %s\n", rc, st.ops->last_error(st.self));
		st.ops->rollback(st.self);
	} else {
		for (int k = 0; k < n && k < 64; k++)
			printf("%" PRIu64 "\n", ids[k]);
	}
	st.ops->destroy(st.self);
	return rc ? 1 : 0;
}
