/*
 * libFuzzer harness: the Jira Cloud connector driven through every
 * operation of the connector interface against answers the fuzz input
 * scripts (answers.h): the project's statuses, listings by JQL with
 * nextPageToken pages and each issue's reads (issue, changelog, comments),
 * a read, a lookup by label, an update (the issue's read, PUT, then the
 * status through transitions with a resolution on the screen), a create
 * (POST, then its status through transitions), an ADF comment and a
 * webhook body (the last answer's body); then ADF's round trip on the
 * input's text before its first '~'. Besides what the sanitizers catch,
 * it checks the promises the hub relies on: an OK page or observation is
 * well formed (every record named by a numeric issue id, a page holds at
 * most page_size records), a failed page holds nothing, a failure says
 * why, and no reason holds the API token or the Basic credential made
 * from it.
 */
#include "answers.h"
#include "connectors/jira/adf.h"
#include "connectors/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "fuzz-jira-api-token-0000"
/* base64 of "fuzz@example.com:" SECRET, the Basic credential */
#define CREDENTIAL "ZnV6ekBleGFtcGxlLmNvbTpmdXp6LWppcmEtYXBpLXRva2VuLTAwMDA="
#define ISSUE "10001"

enum { F_TITLE, F_STATE, F_PRIO, F_RESOLUTION, F_TAGS, F_ASSIGNEE, F_DESC, F_COUNT };
static struct cc_config cfg;

static void config_once(void)
{
	if (cfg.nfields)
		return;
	cc_config_defaults(&cfg);
	static const char *const names[F_COUNT] = { "title", "state", "priority", "resolution",
		                                    "tags", "assignee", "description" };
	static const char *const remote[F_COUNT] = { "summary", "status", "priority",
		                                     "resolution", "labels", "assignee",
		                                     "description" };
	static const enum cc_field_type types[F_COUNT] = { CC_FT_STRING, CC_FT_ENUM,
		                                           CC_FT_PRIORITY, CC_FT_ENUM,
		                                           CC_FT_STRING, CC_FT_USER,
		                                           CC_FT_TEXT };
	for (int f = 0; f < F_COUNT; f++) {
		cfg.fields[f] = (struct cc_field_def){ .name = names[f], .type = types[f] };
		cfg.systems[0].map[f] = (struct cc_field_map){ .mapped = true,
			                                       .remote_name = remote[f] };
	}
	cfg.nfields = F_COUNT;
	cfg.nsystems = 1;
	cfg.systems[0].name = "jira";
	cfg.systems[0].kind = "jira";
	cfg.systems[0].rank = 1;
	cfg.systems[0].comments = true;
}

static bool issue_id(const char *id)
{
	return id && id[0] && strspn(id, "0123456789") == strlen(id);
}

static void check_obs(const struct cc_observation *o)
{
	if (!o->remote_id || !issue_id(o->remote_id))
		abort(); /* an OK observation always names its issue by its id */
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
	if (strstr(call->reason, SECRET) || strstr(call->reason, CREDENTIAL))
		abort(); /* never the token, nor the credential made from it */
}

/*
 * ADF's promise (adf.h): text of valid UTF-8 with no "\r", no leading or
 * trailing "\n" and no run of three "\n" comes back from its document as
 * it was. Invalid UTF-8 is left out here (it becomes U+FFFD).
 */
static void check_adf_round_trip(const uint8_t *data, size_t size)
{
	const uint8_t *cut = memchr(data, '~', size);
	size_t n = cut ? (size_t)(cut - data) : size;
	char *t = malloc(n + 1);
	if (!t)
		return;
	memcpy(t, data, n);
	t[n] = '\0';
	n = strlen(t);
	bool fits = n && t[0] != '\n' && t[n - 1] != '\n' && !strchr(t, '\r') &&
	            !strstr(t, "\n\n\n");
	json_t *doc = NULL;
	if (fits) {
		/* valid UTF-8: what the encoder keeps as it is */
		json_t *s = json_stringn(t, n);
		fits = s != NULL;
		json_decref(s);
	}
	if (fits && (doc = cc_adf_from_text(t))) {
		char *back = cc_adf_to_text(doc);
		if (back && strcmp(back, t) != 0)
			abort();
		free(back);
	}
	json_decref(doc);
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	config_once();
	struct fuzz_answers fa;
	fuzz_answers_parse(&fa, data, size);
	struct cc_http_transport tr = fuzz_answers_transport(&fa);
	static const struct cc_connector_setting settings[] = {
		{ "email", "fuzz@example.com" }, { "project", "OPS" }, { "issue_type", "Task" },
	};
	static const struct cc_connector_user users[] = {
		{ "5b10a2844c20165700ede21g", "ada" },
	};
	struct cc_connector_setup setup = {
		.base_url = "https://fuzz.atlassian.net",
		.secret = SECRET,
		.integration_user = "fuzz@example.com",
		.cfg = &cfg,
		.system = 0,
		.settings = settings,
		.nsettings = sizeof(settings) / sizeof(settings[0]),
		.users = users,
		.nusers = 1,
		.transport = &tr,
	};
	struct cc_connector c;
	char err[200];
	if (cc_connector_create(&c, "jira", &setup, err, sizeof(err)) != 0)
		abort();
	const struct cc_connector_ops *ops = c.ops;
	struct cc_call call;
	enum cc_result r;

	/* a listing since a cursor, then a first start's listing, in pages */
	for (int pass = 0; pass < 2; pass++) {
		struct cc_page pg = { 0 };
		memset(&call, 0, sizeof(call));
		size_t page_size = pass ? 3 : 100;
		r = ops->list_changes(c.self, pass ? -1 : 1796000000, 0, NULL, page_size, &pg, &call);
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
	r = ops->read(c.self, ISSUE, &o, &call);
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

	/* every field an edit sets, and a status three transitions away with its resolution */
	struct cc_write w = { .remote_id = ISSUE };
	w.values[F_TITLE] = "printer on fire";
	w.values[F_STATE] = "Done";
	w.values[F_PRIO] = "High";
	w.values[F_RESOLUTION] = "Done";
	w.values[F_TAGS] = "ops, urgent";
	w.values[F_ASSIGNEE] = "ada";
	w.values[F_DESC] = "first line\nsecond line\n\nanother paragraph";
	memset(&call, 0, sizeof(call));
	r = ops->update(c.self, &w, &o, &call);
	check_call(r, &call);
	if (r == CC_OK)
		check_obs(&o);
	cc_observation_clear(&o);

	w = (struct cc_write){ .correlation_id = "concord-2" };
	w.values[F_TITLE] = "disk full";
	w.values[F_STATE] = "In Progress";
	w.values[F_PRIO] = "Highest";
	w.values[F_DESC] = "raised in RT";
	memset(&call, 0, sizeof(call));
	r = ops->create(c.self, &w, &o, &call);
	check_call(r, &call);
	if (r == CC_OK)
		check_obs(&o);
	cc_observation_clear(&o);

	char *id = NULL;
	memset(&call, 0, sizeof(call));
	r = ops->add_comment(c.self, ISSUE, "[concord:1:0:9] a mirrored comment\n\nits second "
	                     "paragraph", &id, &call);
	check_call(r, &call);
	if (r == CC_OK && !id)
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
	check_adf_round_trip(data, size);
	return 0;
}
