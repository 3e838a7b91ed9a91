/*
 * libFuzzer harness: the Sentinel connector driven through every operation
 * of the connector interface against answers the fuzz input scripts
 * (answers.h): the identity platform's token answer first, then listings
 * with nextLink, reads with comment pages, lookups, the update's read,
 * merge and PUT, creates and comments by PUT, and a webhook body (the last
 * answer's body). Besides what the sanitizers catch, it checks the
 * promises the hub relies on: an OK page or observation is well formed, a
 * page holds at most page_size records, a failed call says why, and no
 * reason holds the client secret.
 */
#include "answers.h"
#include "connectors/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "fuzz-client-secret-0000"

enum { F_TITLE, F_STATE, F_PRIO, F_ASSIGNEE, F_CLASS, F_COUNT };
static struct cc_config cfg;

static void config_once(void)
{
	if (cfg.nfields)
		return;
	cc_config_defaults(&cfg);
	static const char *const names[] = { "title", "state", "priority", "assignee", "class" };
	static const char *const remote[] = { "title", "status", "severity", "owner", "labels" };
	static const enum cc_field_type types[] = { CC_FT_STRING, CC_FT_ENUM, CC_FT_PRIORITY,
		                                    CC_FT_USER, CC_FT_STRING };
	for (int f = 0; f < F_COUNT; f++) {
		cfg.fields[f] = (struct cc_field_def){ .name = names[f], .type = types[f] };
		cfg.systems[0].map[f] = (struct cc_field_map){ .mapped = true,
			                                       .remote_name = remote[f] };
	}
	cfg.nfields = F_COUNT;
	cfg.nsystems = 1;
	cfg.systems[0].name = "sentinel";
	cfg.systems[0].kind = "sentinel";
	cfg.systems[0].rank = 1;
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
	if (strstr(call->reason, SECRET))
		abort(); /* never the secret */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	config_once();
	struct fuzz_answers fa;
	fuzz_answers_parse(&fa, data, size);
	struct cc_http_transport tr = fuzz_answers_transport(&fa);
	static const struct cc_connector_setting settings[] = {
		{ "subscription", "d0cfe6b2-9ac0-4464-9919-dccaee2e48c0" },
		{ "resource_group", "myRg" }, { "workspace", "myWorkspace" },
		{ "tenant", "fuzz-tenant" }, { "client_id", "fuzz-client" },
		{ "login_url", "http://login.fuzz" },
	};
	static const struct cc_connector_user users[] = { { "john@contoso.com", "john" } };
	struct cc_connector_setup setup = {
		.base_url = "http://management.fuzz",
		.secret = SECRET,
		.cfg = &cfg,
		.system = 0,
		.settings = settings,
		.nsettings = 6,
		.users = users,
		.nusers = 1,
		.transport = &tr,
	};
	struct cc_connector c;
	char err[200];
	if (cc_connector_create(&c, "sentinel", &setup, err, sizeof(err)) != 0)
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
	r = ops->read(c.self, "73e01a99-5cd7-4139-a149-9f2736ff2ab5", &o, &call);
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

	struct cc_write w = { .remote_id = "73e01a99-5cd7-4139-a149-9f2736ff2ab5" };
	w.values[F_TITLE] = "printer on fire";
	w.values[F_STATE] = "Closed";
	w.values[F_ASSIGNEE] = "john";
	w.values[F_CLASS] = "phish, mal";
	memset(&call, 0, sizeof(call));
	r = ops->update(c.self, &w, &o, &call);
	check_call(r, &call);
	if (r == CC_OK)
		check_obs(&o);
	cc_observation_clear(&o);

	w = (struct cc_write){ .correlation_id = "concord-2" };
	w.values[F_TITLE] = "disk full";
	w.values[F_STATE] = "New";
	w.values[F_PRIO] = "High";
	memset(&call, 0, sizeof(call));
	r = ops->create(c.self, &w, &o, &call);
	check_call(r, &call);
	if (r == CC_OK)
		check_obs(&o);
	cc_observation_clear(&o);

	char *id = NULL;
	memset(&call, 0, sizeof(call));
	r = ops->add_comment(c.self, "73e01a99-5cd7-4139-a149-9f2736ff2ab5", "[concord:1:0:9] a mirrored comment", &id, &call);
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
