/*
 * libFuzzer harness: the ServiceNow connector driven through every
 * operation of the connector interface against answers the fuzz input
 * scripts (answers.h): listings (their Link and X-Total-Count headers, the
 * keyset), reads (row, journal, audit, a 403 of the audit), lookups, the
 * version read and PATCH of an update, create, comment, and a webhook
 * body; then the wire's own parsers (sn_wire.h) on the input's first
 * line. Besides what the sanitizers catch, it checks the promises the hub
 * relies on: an OK page or observation is well formed (every record has a
 * sys_id, a page holds at most page_size records), a failed page holds
 * nothing, a failure says why, and no reason holds the password or the
 * Basic credential made from it.
 */
#include "answers.h"
#include "connectors/registry.h"
#include "connectors/servicenow/sn_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "fuzz-secret-token"
#define SID "0123456789abcdef0123456789abcdef"

enum { F_TITLE, F_STATE, F_PRIO, F_ASSIGNEE, F_COUNT };
static struct cc_config cfg;

static void config_once(void)
{
	if (cfg.nfields)
		return;
	cc_config_defaults(&cfg);
	cfg.nfields = F_COUNT;
	static const char *const rn[F_COUNT] = { "short_description", "state", "priority",
		                                 "assigned_to" };
	static const enum cc_field_type t[F_COUNT] = { CC_FT_STRING, CC_FT_ENUM, CC_FT_PRIORITY,
		                                       CC_FT_USER };
	cfg.nsystems = 1;
	struct cc_system_def *sd = &cfg.systems[0];
	sd->name = "servicenow";
	sd->kind = "servicenow";
	sd->rank = 1;
	sd->comments = true;
	for (int f = 0; f < F_COUNT; f++) {
		cfg.fields[f] = (struct cc_field_def){ .name = rn[f], .type = t[f] };
		sd->map[f] = (struct cc_field_map){ .mapped = true, .remote_name = rn[f] };
	}
}

static void check_obs(const struct cc_observation *o)
{
	if (!o->remote_id)
		abort(); /* an OK observation always names its record */
	if (!o->deleted && !sn_sys_id_ok(o->remote_id))
		abort();
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
	/* neither the password nor base64("fuzz:" SECRET) */
	if (strstr(call->reason, SECRET) || strstr(call->reason, "ZnV6ejpmdXp6LXNlY3JldC10b2tlbg")) {
		fprintf(stderr, "credential in the reason: %s\n", call->reason);
		abort();
	}
}

/* The wire's parsers on one line of text. */
static void parsers(const uint8_t *data, size_t size)
{
	size_t n = 0;
	while (n < size && n < 4096 && data[n] != '\n')
		n++;
	char *line = malloc(n + 1);
	if (!line)
		return;
	memcpy(line, data, n);
	line[n] = '\0';
	char url[512];
	int64_t v;
	if (sn_link_next(line, url, sizeof(url)) > 0 && strlen(url) >= sizeof(url))
		abort();
	sn_url_param_int(line, "sysparm_offset", &v);
	sn_time_parse(line, &v);
	sn_total_parse(line, &v);
	struct sn_matrix m;
	char err[128];
	if (sn_matrix_parse(&m, line, err, sizeof(err)) == 0 && (!m.n || m.n > SN_PRIO_MAX))
		abort();
	struct sn_hook h;
	if (!sn_hook_parse(line, n, &h) && !sn_sys_id_ok(h.sys_id))
		abort();
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	config_once();
	parsers(data, size);
	struct fuzz_answers fa;
	fuzz_answers_parse(&fa, data, size);
	struct cc_http_transport tr = fuzz_answers_transport(&fa);
	static const struct cc_connector_setting settings[] = { { "user", "fuzz" } };
	static const struct cc_connector_user users[] = { { "beth.anglin", "beth@example.org" } };
	struct cc_connector_setup setup = {
		.base_url = "https://fuzz.service-now.com",
		.secret = SECRET,
		.cfg = &cfg,
		.system = 0,
		.settings = settings,
		.nsettings = 1,
		.users = users,
		.nusers = 1,
		.transport = &tr,
	};
	struct cc_connector c;
	char err[200];
	if (cc_connector_create(&c, "servicenow", &setup, err, sizeof(err)) != 0)
		abort();
	const struct cc_connector_ops *ops = c.ops;
	struct cc_call call;
	enum cc_result r;

	/* a listing after a keyset position, then a first start's, in pages */
	for (int pass = 0; pass < 2; pass++) {
		struct cc_page pg = { 0 };
		memset(&call, 0, sizeof(call));
		size_t page_size = pass ? 3 : 100;
		r = ops->list_changes(c.self, pass ? -1 : 1796464800, pass ? 0 : 1796464800,
		                      pass ? NULL : SID, page_size, &pg, &call);
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
	r = ops->read(c.self, SID, &o, &call);
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

	struct cc_write w = { .remote_id = SID, .expected_rv = 3 };
	w.values[F_TITLE] = "printer on fire";
	w.values[F_STATE] = "6";
	w.values[F_PRIO] = "2";
	w.values[F_ASSIGNEE] = "beth@example.org";
	memset(&call, 0, sizeof(call));
	r = ops->update(c.self, &w, &o, &call);
	check_call(r, &call);
	if (r == CC_OK)
		check_obs(&o);
	cc_observation_clear(&o);

	w = (struct cc_write){ .correlation_id = "concord-2" };
	w.values[F_TITLE] = "disk full";
	w.values[F_PRIO] = "5";
	memset(&call, 0, sizeof(call));
	r = ops->create(c.self, &w, &o, &call);
	check_call(r, &call);
	if (r == CC_OK)
		check_obs(&o);
	cc_observation_clear(&o);

	char *id = NULL;
	memset(&call, 0, sizeof(call));
	r = ops->add_comment(c.self, SID, "[concord:1:0:9] a mirrored comment", &id, &call);
	check_call(r, &call);
	if (r == CC_OK && (!id || !sn_sys_id_ok(id)))
		abort();
	free(id);

	/* the webhook body is the last answer's body, when there is one */
	const struct cc_http_raw_answer *last = fa.n ? &fa.a[fa.n - 1] : NULL;
	struct cc_page pg = { 0 };
	memset(&call, 0, sizeof(call));
	r = ops->webhook(c.self, last && last->body ? last->body : "{}",
	                 last && last->body ? last->body_len : 2, &pg, &call);
	check_call(r, &call);
	if (r != CC_OK && pg.nitems)
		abort(); /* a wrong body is never an observation */
	for (size_t i = 0; r == CC_OK && i < pg.nitems; i++)
		check_obs(&pg.items[i]);
	cc_page_clear(&pg);

	c.ops->destroy(c.self);
	fuzz_answers_free(&fa);
	return 0;
}
