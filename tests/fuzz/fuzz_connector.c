/*
 * libFuzzer harness: one connector (FUZZ_KIND, "rt" or "redmine") driven
 * through every operation of the connector interface against answers the
 * fuzz input scripts (answers.h): listings, reads, lookups, writes and
 * their read-backs, comments. Besides what the sanitizers catch, it checks
 * the promises the hub relies on: an OK page or observation is well formed
 * (every record has an id, a page holds at most page_size records), and a
 * failed call says why.
 */
#include "answers.h"
#include "connectors/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_KIND
#define FUZZ_KIND "rt"
#endif

enum { F_TITLE, F_STATE, F_ASSIGNEE, F_COUNT };
static struct cc_config cfg;

static void config_once(void)
{
	if (cfg.nfields)
		return;
	cc_config_defaults(&cfg);
	cfg.nfields = F_COUNT;
	cfg.fields[F_TITLE] = (struct cc_field_def){ .name = "title", .type = CC_FT_STRING };
	cfg.fields[F_STATE] = (struct cc_field_def){ .name = "state", .type = CC_FT_ENUM };
	cfg.fields[F_ASSIGNEE] = (struct cc_field_def){ .name = "assignee", .type = CC_FT_USER };
	cfg.nsystems = 2;
	static const char *const names[2][F_COUNT] = { { "Subject", "Status", "Owner" },
		                                       { "subject", "status", "assigned_to" } };
	for (int s = 0; s < 2; s++) {
		struct cc_system_def *sd = &cfg.systems[s];
		sd->name = s == 0 ? "rt" : "redmine";
		sd->kind = sd->name;
		sd->rank = s + 1;
		for (int f = 0; f < F_COUNT; f++)
			sd->map[f] = (struct cc_field_map){ .mapped = true, .remote_name = names[s][f] };
	}
}

static void check_obs(const struct cc_observation *o)
{
	if (!o->remote_id)
		abort(); /* an OK observation always names its record */
	for (size_t i = 0; i < o->ncomments; i++)
		if (!o->comments[i].id || !o->comments[i].body)
			abort();
}

static void check_call(enum cc_result r, const struct cc_call *call)
{
	if (r != call->result && !(r == CC_OK && call->result == CC_OK))
		abort(); /* the answer and the call agree */
	if (r != CC_OK && !call->reason[0])
		abort(); /* a failure says why */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	config_once();
	struct fuzz_answers fa;
	fuzz_answers_parse(&fa, data, size);
	struct cc_http_transport tr = fuzz_answers_transport(&fa);
	bool rt = strcmp(FUZZ_KIND, "rt") == 0;
	static const struct cc_connector_setting rt_settings[] = { { "queue", "General" } };
	static const struct cc_connector_setting rm_settings[] = { { "project", "sync" } };
	static const struct cc_connector_user users[] = { { "root", "alice@example.org" } };
	struct cc_connector_setup setup = {
		.base_url = rt ? "http://rt.fuzz/REST/2.0" : "http://redmine.fuzz",
		.secret = "fuzz-secret-token",
		.integration_user = rt ? "root" : "admin",
		.cfg = &cfg,
		.system = rt ? 0 : 1,
		.settings = rt ? rt_settings : rm_settings,
		.nsettings = 1,
		.users = users,
		.nusers = 1,
		.transport = &tr,
	};
	struct cc_connector c;
	char err[200];
	if (cc_connector_create(&c, FUZZ_KIND, &setup, err, sizeof(err)) != 0)
		abort();
	const struct cc_connector_ops *ops = c.ops;
	struct cc_call call;
	enum cc_result r;

	/* a listing since a cursor, then a first start's listing, in pages */
	for (int pass = 0; pass < 2; pass++) {
		struct cc_page pg = { 0 };
		memset(&call, 0, sizeof(call));
		size_t page_size = pass ? 3 : 100;
		r = ops->list_changes(c.self, pass ? -1 : 1700000000, 0, NULL, page_size, &pg, &call);
		check_call(r, &call);
		if (r == CC_OK) {
			if (pg.nitems > page_size)
				abort();
			for (size_t i = 0; i < pg.nitems; i++)
				check_obs(&pg.items[i]);
		} else if (pg.nitems) {
			abort(); /* a failed page holds nothing */
		}
		cc_page_clear(&pg);
	}

	struct cc_observation o;
	memset(&call, 0, sizeof(call));
	r = ops->read(c.self, "7", &o, &call);
	check_call(r, &call);
	if (r == CC_OK)
		check_obs(&o);
	cc_observation_clear(&o);

	bool found = false;
	memset(&call, 0, sizeof(call));
	r = ops->find_by_correlation(c.self, "concord-1", &o, &found, &call);
	check_call(r, &call);
	if (r == CC_OK && found)
		check_obs(&o);
	cc_observation_clear(&o);

	struct cc_write w = { .remote_id = "7", .expected_rv = 10 };
	w.values[F_TITLE] = "printer on fire";
	w.values[F_STATE] = "open";
	w.values[F_ASSIGNEE] = "alice@example.org";
	memset(&call, 0, sizeof(call));
	r = ops->update(c.self, &w, &o, &call);
	check_call(r, &call);
	if (r == CC_OK)
		check_obs(&o);
	cc_observation_clear(&o);

	w = (struct cc_write){ .correlation_id = "concord-2" };
	w.values[F_TITLE] = "disk full";
	w.values[F_STATE] = "new";
	memset(&call, 0, sizeof(call));
	r = ops->create(c.self, &w, &o, &call);
	check_call(r, &call);
	if (r == CC_OK)
		check_obs(&o);
	cc_observation_clear(&o);

	char *id = NULL;
	memset(&call, 0, sizeof(call));
	r = ops->add_comment(c.self, "7", "[concord:1:0:9] a mirrored comment", &id, &call);
	check_call(r, &call);
	if (r == CC_OK && !id)
		abort();
	free(id);

	if (ops->webhook) {
		/* the webhook body is the last answer's body, when there is one */
		const struct cc_http_raw_answer *last = fa.n ? &fa.a[fa.n - 1] : NULL;
		struct cc_page pg = { 0 };
		memset(&call, 0, sizeof(call));
		r = ops->webhook(c.self, last && last->body ? last->body : "{}",
		                 last && last->body ? last->body_len : 2, &pg, &call);
		check_call(r, &call);
		for (size_t i = 0; r == CC_OK && i < pg.nitems; i++)
			check_obs(&pg.items[i]);
		cc_page_clear(&pg);
	}
	c.ops->destroy(c.self);
	fuzz_answers_free(&fa);
	return 0;
}
