/*
 * The base of the HTTP connectors (see base.h): making and destroying a
 * connector with its HTTP client, the connector interface over the
 * connector's hooks, and the paged keyset search behind every
 * list_changes.
 */
#include "connectors/base.h"

#include "http/client.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum cc_result base_read(void *self, const char *remote_id, struct cc_observation *out,
                                struct cc_call *call);
static enum cc_result base_find(void *self, const char *corr, struct cc_observation *out,
                                bool *found, struct cc_call *call);
static enum cc_result base_create(void *self, const struct cc_write *w,
                                  struct cc_observation *out, struct cc_call *call);
static enum cc_result base_update(void *self, const struct cc_write *w,
                                  struct cc_observation *out, struct cc_call *call);
static enum cc_result base_comment(void *self, const char *remote_id, const char *body,
                                   char **out_id, struct cc_call *call);
static enum cc_result base_list(void *self, int64_t since_s, int64_t after_mtime_s,
                                const char *after_id, size_t page_size, struct cc_page *out,
                                struct cc_call *call);
static size_t base_budget(void *self, struct cc_budget_line *out, size_t max);
static void base_destroy(void *self);

/* ---- making and destroying ------------------------------------------ */

/* The connector's HTTP client from its setup; the header with the secret is wiped after. */
static int open_http(struct cc_connector_base *b, const struct cc_connector_setup *s, char *err,
                     size_t errlen)
{
	char *auth = NULL;
	if (s->secret && !b->auth.header) {
		char *cred = b->ops->credential ? b->ops->credential(b, s->secret) : NULL;
		if (!b->ops->credential || cred)
			auth = cc_strf("%s: %s%s", b->ops->auth_name,
			               b->ops->auth_prefix ? b->ops->auth_prefix : "",
			               cred ? cred : s->secret);
		if (cred) {
			memset(cred, 0, strlen(cred));
			free(cred);
		}
		if (!auth) {
			snprintf(err, errlen, "out of memory");
			return CC_ENOMEM;
		}
	}
	/* the client removes a trailing slash of the base URL itself */
	struct cc_http_options o = { .base_url = s->base_url && s->base_url[0]
		                                         ? s->base_url : b->ops->default_url,
		                     .auth_header = auth,
		                     .auth = b->auth.header ? &b->auth : NULL,
		                     /* never in a reason: a credential made from the secret
		                      * hides it, a client secret is sent to a token endpoint */
		                     .secret = s->secret,
		                     .timeout_ms = s->timeout_ms, .rate_per_sec = s->rate_per_sec,
		                     .max_concurrency = s->max_concurrency, .ca_file = s->ca_file,
		                     .hold_max_ms = s->retry_after_max_ms,
		                     .interrupt = s->interrupt, .interrupt_ctx = s->interrupt_ctx,
		                     .pace = s->pace, .transport = s->transport, .trace = s->trace };
	int rc = cc_http_client_create(&b->http, &o, err, errlen);
	if (auth) {
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	return rc;
}

int cc_base_new(struct cc_connector *out, const struct cc_connector_setup *s, char *err,
                size_t errlen)
{
	const struct cc_base_ops *ops = s->kind ? s->kind->impl : NULL;
	if (!ops || ops->size < sizeof(struct cc_connector_base)) {
		snprintf(err, errlen, "connector %s: no HTTP connector table",
		         s->kind ? s->kind->kind : "?");
		return CC_EINVAL;
	}
	struct cc_connector_base *b = calloc(1, ops->size);
	if (!b) {
		snprintf(err, errlen, "%s: out of memory", ops->who);
		return CC_ENOMEM;
	}
	b->ops = ops;
	b->iface = (struct cc_connector_ops){
		.version = CC_CONNECTOR_OPS_VERSION,
		.kind = ops->who,
		.list_changes = base_list,
		.read = base_read,
		.find_by_correlation = base_find,
		.create = base_create,
		.update = base_update,
		.add_comment = base_comment,
		.webhook = ops->webhook,
		.budget = base_budget,
		.destroy = base_destroy,
	};
	b->cfg = s->cfg;
	b->system = s->system;
	b->seen = s->seen ? s->seen : &b->own_seen;
	const char *iu = cc_setup_integration_user(s);
	b->iuser = iu ? strdup(iu) : NULL;
	int rc = CC_ENOMEM;
	if ((iu && !b->iuser) || cc_usermap_init(&b->users, s->users, s->nusers)) {
		snprintf(err, errlen, "%s: out of memory", ops->who);
		goto fail;
	}
	rc = ops->init ? ops->init(b, s, err, errlen) : 0;
	if (!rc)
		rc = open_http(b, s, err, errlen);
	if (rc)
		goto fail;
	out->ops = &b->iface;
	out->self = b;
	return 0;
fail:
	base_destroy(b);
	return rc;
}

static void base_destroy(void *self)
{
	struct cc_connector_base *b = self;
	if (!b)
		return;
	if (b->ops->clear)
		b->ops->clear(b);
	cc_seen_clear(&b->own_seen);
	cc_prefetch_clear(&b->ahead);
	cc_http_client_destroy(b->http);
	free(b->iuser);
	cc_usermap_clear(&b->users);
	free(b);
}

static size_t base_budget(void *self, struct cc_budget_line *out, size_t max)
{
	const struct cc_connector_base *b = self;
	return cc_http_budget(b->http, out, max);
}

/* ---- helpers of the connectors ----------------------------------------- */

enum cc_result cc_base_request(struct cc_connector_base *b, const char *op, const char *method,
                               char *path, json_t *body, json_t **out, long *status,
                               struct cc_call *call)
{
	enum cc_result res = cc_request_json(b->http, &b->ahead, b->ops->who, op, method, path, body,
	                                     out, status, NULL, 0, call);
	free(path);
	return res;
}

enum cc_result cc_base_get_array(struct cc_connector_base *b, const char *op, char *path,
                                 const char *key, json_t **answer, json_t **array,
                                 const char *what, const char *id, struct cc_call *call)
{
	*array = NULL;
	enum cc_result res = cc_base_request(b, op, "GET", path, NULL, answer, NULL, call);
	if (res != CC_OK)
		return res;
	*array = cc_json_array(*answer, key);
	if (*array)
		return CC_OK;
	json_decref(*answer);
	*answer = NULL;
	return cc_base_malformed(b, call, op, what, id);
}

enum cc_result cc_base_malformed(struct cc_connector_base *b, struct cc_call *call,
                                 const char *op, const char *what, const char *id)
{
	enum cc_result r = cc_call_malformed(call, b->ops->who, op, "%s%s%s", what,
	                                     id ? " of " : "", id ? id : "");
	/* the id is the remote's text: it may hold anything, a credential too */
	cc_http_redact(b->http, call->reason, sizeof(call->reason));
	return r;
}

enum cc_result cc_base_oom(struct cc_connector_base *b, struct cc_call *call)
{
	return cc_call_fail(call, CC_RETRY, "%s: out of memory", b->ops->who);
}

const char *cc_base_remote_name(const struct cc_connector_base *b, int f)
{
	const struct cc_field_map *m = &b->cfg->systems[b->system].map[f];
	return m->mapped && m->remote_name ? m->remote_name : NULL;
}

bool cc_base_user_field(const struct cc_connector_base *b, int f)
{
	return b->cfg->fields[f].type == CC_FT_USER;
}

int cc_base_fill_fields(const struct cc_connector_base *b, struct cc_observation *out,
                        const char *creator,
                        char *(*value)(void *ctx, int f, const char *rn, bool *present),
                        void *ctx)
{
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		const char *rn = cc_base_remote_name(b, f);
		if (!rn)
			continue;
		bool present;
		char *v = value(ctx, f, rn, &present);
		if (!present)
			continue;
		int rc = v ? cc_observation_set(out, f, v, out->created_s, creator) : CC_ENOMEM;
		free(v);
		if (rc)
			return CC_ENOMEM;
	}
	return 0;
}

int cc_base_field_changed(struct cc_observation *out, int f, const char *author,
                          int64_t when_s)
{
	char *a = author ? strdup(author) : NULL;
	if (author && !a)
		return CC_ENOMEM;
	free(out->fields[f].author);
	out->fields[f].author = a;
	out->fields[f].mtime_s = when_s;
	return 0;
}

void cc_base_gone(struct cc_observation *out, struct cc_call *call)
{
	out->deleted = true;
	out->rv = UINT64_MAX;
	call->result = CC_OK;
	call->reason[0] = '\0';
}

void cc_base_date_sample(struct cc_call *call, int64_t stamped_s)
{
	if (!call->has_date && stamped_s > 0) {
		call->has_date = true;
		call->date_s = stamped_s;
	}
}

/* ---- read, find, writes -------------------------------------------------- */

enum cc_result cc_base_webhook_read(struct cc_connector_base *b, const char *id,
                                    struct cc_page *pg, struct cc_call *call)
{
	pg->items = calloc(1, sizeof(*pg->items));
	if (!pg->items)
		return cc_base_oom(b, call);
	cc_base_read_ahead(b, id, "webhook", call);
	enum cc_result res = cc_base_observe(b, id, "webhook", &pg->items[0], call);
	cc_prefetch_clear(&b->ahead);
	if (res != CC_OK) {
		cc_page_clear(pg);
		return res;
	}
	pg->nitems = 1;
	return CC_OK;
}

enum cc_result cc_base_observe(struct cc_connector_base *b, const char *id, const char *op,
                               struct cc_observation *out, struct cc_call *call)
{
	cc_observation_init(out);
	enum cc_result res = b->ops->prepare ? b->ops->prepare(b, call) : CC_OK;
	return res == CC_OK ? b->ops->observe(b, id, op, out, call) : res;
}

static enum cc_result base_read(void *self, const char *remote_id, struct cc_observation *out,
                                struct cc_call *call)
{
	struct cc_connector_base *b = self;
	cc_base_read_ahead(b, remote_id, "read", call);
	enum cc_result res = cc_base_observe(b, remote_id, "read", out, call);
	cc_prefetch_clear(&b->ahead);
	return res;
}

static enum cc_result base_find(void *self, const char *corr, struct cc_observation *out,
                                bool *found, struct cc_call *call)
{
	struct cc_connector_base *b = self;
	cc_observation_init(out);
	*found = false;
	char idb[CC_BASE_ID_MAX] = "";
	enum cc_result res = b->ops->lookup(b, corr, idb, call);
	if (res != CC_OK || !idb[0])
		return res;
	res = cc_base_observe(b, idb, "find", out, call);
	*found = res == CC_OK;
	return res;
}

/* "a ticket", "an issue" */
static const char *article(const char *noun)
{
	return strchr("aeiou", noun[0]) ? "an" : "a";
}

static enum cc_result base_create(void *self, const struct cc_write *w,
                                  struct cc_observation *out, struct cc_call *call)
{
	struct cc_connector_base *b = self;
	const char *who = b->ops->who, *rec = b->ops->record;
	cc_observation_init(out);
	json_t *body = NULL, *j = NULL;
	char idb[CC_BASE_ID_MAX] = "";
	char *path = NULL;
	enum cc_result res = b->ops->create_body(b, w, &body, call);
	if (res == CC_OK && b->ops->create_at) {
		res = b->ops->create_at(b, w, idb, sizeof(idb), &path, call);
		if (res == CC_OK)
			res = cc_base_request(b, "create", "PUT", path, body, NULL, NULL, call);
	} else if (res == CC_OK) {
		res = cc_base_request(b, "create", "POST",
		                      b->ops->create_path ? strdup(b->ops->create_path)
		                                          : b->ops->create_url(b),
		                      body, &j, NULL, call);
	}
	json_decref(body);
	if (res != CC_OK)
		return res;
	if (idb[0])
		goto read_back;
	/* the new id: create_id's members, one level each */
	char key[64];
	json_t *v = j;
	for (const char *p = b->ops->create_id; v && *p;) {
		size_t n = strcspn(p, "/");
		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		v = json_object_get(v, key);
		p += n + (p[n] == '/');
	}
	const char *sid = b->ops->opaque_ids ? json_string_value(v) : NULL;
	uint64_t id = b->ops->opaque_ids ? 0 : cc_json_id(v);
	if (sid && sid[0] && strlen(sid) < sizeof(idb) &&
	    strspn(sid, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_") ==
	            strlen(sid))
		snprintf(idb, sizeof(idb), "%s", sid);
	else if (id)
		snprintf(idb, sizeof(idb), "%llu", (unsigned long long)id);
	json_decref(j);
	if (!idb[0]) {
		call->outcome_unknown = true;
		return cc_call_fail(call, CC_RETRY, "%s: create answered without %s %s id", who,
		                    article(rec), rec);
	}
read_back:
	res = b->ops->created ? b->ops->created(b, w, idb, out, call)
	                      : cc_base_observe(b, idb, "create", out, call);
	if (res != CC_OK) {
		/* created, but not read back: the engine looks it up by correlation */
		cc_observation_clear(out);
		call->outcome_unknown = true;
		cc_call_fail(call, CC_RETRY, "%s: %s %s created, read back failed", who, rec, idb);
		/* the id is the remote's text: never a credential in a reason */
		cc_http_redact(b->http, call->reason, sizeof(call->reason));
		return CC_RETRY;
	}
	cc_base_date_sample(call, out->created_s);
	return CC_OK;
}

static enum cc_result base_update(void *self, const struct cc_write *w,
                                  struct cc_observation *out, struct cc_call *call)
{
	struct cc_connector_base *b = self;
	const char *who = b->ops->who;
	cc_observation_init(out);
	bool wrote = false;
	char why[160] = "";
	enum cc_result res = b->ops->write(b, w, &wrote, why, sizeof(why), call);
	if (res != CC_OK)
		return res;
	/*
	 * The hub takes only the written fields from this read-back (a
	 * person's edit caught in the same version is left to the next poll),
	 * so it stays out of the system's shared seen cache: that poll reads
	 * the version again. A create's read-back is the hub's whole.
	 */
	struct cc_seen *shared = b->seen;
	b->seen = &b->own_seen;
	res = cc_base_observe(b, w->remote_id, "update", out, call);
	b->seen = shared;
	if (res != CC_OK) {
		call->outcome_unknown = wrote;
		return res;
	}
	if (out->deleted)
		return cc_call_fail(call, CC_ERROR, "%s: %s %s is gone or left the %s", who,
		                    b->ops->record, w->remote_id, b->ops->place);
	if (wrote && w->expected_rv && out->rv != w->expected_rv)
		cc_base_date_sample(call, out->mtime_s); /* the version moved during this call */
	/*
	 * every written field must read back as written; one the record does
	 * not carry as it is now (Jira's resolution on an issue that is not
	 * done) is not compared: the connector wrote nothing there, and the
	 * engine takes no value from it either
	 */
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		const char *rn = cc_base_remote_name(b, f);
		const char *got = out->fields[f].present ? out->fields[f].value : "";
		if (!rn || !w->values[f] || !out->fields[f].present ||
		    cc_same_text(got, w->values[f]))
			continue;
		cc_call_fail(call, CC_ERROR, "%s: %s not set to '%.40s' (is '%.40s'): %.60s", who, rn,
		             w->values[f], got, why[0] ? why : "no message");
		cc_observation_clear(out);
		return CC_ERROR;
	}
	return CC_OK;
}

static enum cc_result base_comment(void *self, const char *remote_id, const char *body,
                                   char **out_id, struct cc_call *call)
{
	struct cc_connector_base *b = self;
	*out_id = NULL;
	enum cc_result res = b->ops->comment(b, remote_id, body, call);
	if (res != CC_OK)
		return res;
	res = b->ops->comment_id(b, remote_id, body, out_id, call);
	if (res != CC_OK) {
		free(*out_id);
		*out_id = NULL;
		call->outcome_unknown = true; /* written; the marker finds it later */
		return res;
	}
	if (!*out_id) {
		call->outcome_unknown = true;
		return cc_call_fail(call, CC_RETRY, "%s: comment on %s written, its id not found",
		                    b->ops->who, remote_id);
	}
	return CC_OK;
}

/* ---- the paged keyset search ------------------------------------------ */

int cc_listing_add(struct cc_listing *l, const char *id, int64_t mtime_s, uint64_t version)
{
	struct cc_listed *k = NULL;
	/* newest first: a record's rows are usually close together */
	for (size_t i = l->n; i-- > 0 && !k;)
		if (strcmp(l->keys[i].id, id) == 0)
			k = &l->keys[i];
	if (!k) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 64;
			struct cc_listed *p = realloc(l->keys, cap * sizeof(*p));
			if (!p)
				return CC_ENOMEM;
			l->keys = p;
			l->cap = cap;
		}
		k = &l->keys[l->n++];
		memset(k, 0, sizeof(*k));
		k->mtime_s = INT64_MIN;
		snprintf(k->id, sizeof(k->id), "%s", id);
	}
	if (mtime_s > k->mtime_s)
		k->mtime_s = mtime_s;
	if (version > k->version)
		k->version = version;
	l->last_row_s = mtime_s;
	return 0;
}

static int listed_cmp(const void *a, const void *b)
{
	const struct cc_listed *x = a, *y = b;
	return cc_keyset_cmp(x->mtime_s, x->id, y->mtime_s, y->id);
}

static size_t count_after(const struct cc_listing *l, int64_t after_m, const char *after_id)
{
	size_t n = 0;
	for (size_t i = 0; i < l->n; i++)
		n += cc_keyset_after(l->keys[i].mtime_s, l->keys[i].id, after_m, after_id);
	return n;
}

/* Fetches listing pages until the listing ends, holds a page and one more, or the bound. */
static enum cc_result fetch_keys(struct cc_connector_base *b, struct cc_listing *l,
                                 int64_t after_m, const char *after_id, size_t page_size,
                                 bool *bounded, struct cc_call *call)
{
	int pages = b->ops->max_list_pages ? b->ops->max_list_pages : CC_BASE_LIST_PAGES;
	*bounded = false;
	for (int page = 1; page <= pages; page++) {
		l->more = false;
		enum cc_result res = b->ops->fetch(b, l, page, call);
		if (res != CC_OK)
			return res;
		if (!l->more || (!l->events && count_after(l, after_m, after_id) > page_size))
			break;
		if (page == pages)
			*bounded = true;
	}
	return CC_OK;
}

/* The keys of this page: after the position, in keyset order, at most page_size. */
static void select_keys(struct cc_listing *l, int64_t after_m, const char *after_id,
                        bool bounded, size_t page_size, struct cc_page *pg)
{
	size_t w = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct cc_listed *k = &l->keys[i];
		if (!cc_keyset_after(k->mtime_s, k->id, after_m, after_id))
			continue;
		/* stopped early: a record may have later rows on the pages not
		 * read, and others may share the last second */
		if (bounded && l->events && k->mtime_s >= l->last_row_s && w)
			continue;
		l->keys[w++] = *k;
	}
	l->n = w;
	if (l->n)
		qsort(l->keys, l->n, sizeof(*l->keys), listed_cmp);
	pg->more = bounded;
	if (l->n > page_size) {
		l->n = page_size;
		pg->more = true;
	}
}

static bool known(struct cc_connector_base *b, const struct cc_listed *k)
{
	if (b->ops->known)
		return b->ops->known(b, k);
	return k->version && cc_seen_covers(b->seen, k->id, k->version);
}

void cc_base_read_ahead(struct cc_connector_base *b, const char *id, const char *op,
                        struct cc_call *call)
{
	if (!b->ops->read_path || !b->ops->reads_at_once || !b->ops->reads_at_once(b))
		return;
	char *paths[8];
	size_t m = 0;
	for (int pass = 0; m < sizeof(paths) / sizeof(paths[0]); pass++) {
		char *p = b->ops->read_path(b, id, pass);
		if (!p)
			break;
		paths[m++] = p;
	}
	if (m > 1)
		cc_prefetch_run(&b->ahead, b->http, op, paths, m, call);
	for (size_t i = 0; i < m; i++)
		free(paths[i]);
}

/* Sends ahead, at once, the first reads of each record's observation, pass by pass. */
static void send_ahead(struct cc_connector_base *b, const struct cc_listed *k, size_t n,
                       struct cc_call *call)
{
	if (n < 2 || !b->ops->read_path)
		return;
	char **paths = calloc(n, sizeof(*paths));
	if (!paths)
		return;
	for (int pass = 0;; pass++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if ((paths[m] = b->ops->read_path(b, k[i].id, pass)))
				m++;
		if (!m)
			break;
		cc_prefetch_run(&b->ahead, b->http, "list", paths, m, call);
		for (size_t i = 0; i < m; i++)
			free(paths[i]);
	}
	free(paths);
}

static enum cc_result base_list(void *self, int64_t since_s, int64_t after_mtime_s,
                                const char *after_id, size_t page_size, struct cc_page *pg,
                                struct cc_call *call)
{
	struct cc_connector_base *b = self;
	memset(pg, 0, sizeof(*pg));
	if (!page_size)
		page_size = b->ops->per_page ? b->ops->per_page : CC_BASE_PER_PAGE;
	enum cc_result res = b->ops->prepare ? b->ops->prepare(b, call) : CC_OK;
	if (res != CC_OK)
		return res;
	struct cc_listing l = { .since_s = since_s,
		                .from_s = cc_list_from(since_s, after_mtime_s, after_id),
		                .after_mtime_s = after_mtime_s, .after_id = after_id,
		                .last_row_s = INT64_MIN };
	bool bounded;

	/* 1. the changed records, 2. those of this page */
	res = fetch_keys(b, &l, after_mtime_s, after_id, page_size, &bounded, call);
	if (res != CC_OK)
		goto out;
	select_keys(&l, after_mtime_s, after_id, bounded, page_size, pg);
	if (l.n) {
		pg->next_id = strdup(l.keys[l.n - 1].id);
		pg->next_mtime_s = l.keys[l.n - 1].mtime_s;
		if (!pg->next_id) {
			res = cc_base_oom(b, call);
			goto out;
		}
	}
	pg->items = calloc(l.n ? l.n : 1, sizeof(*pg->items));
	if (!pg->items) {
		res = cc_base_oom(b, call);
		goto out;
	}

	/* 3. one full observation per record whose listed version is new to us */
	size_t w = 0;
	for (size_t i = 0; i < l.n; i++)
		if (!known(b, &l.keys[i]))
			l.keys[w++] = l.keys[i];
	l.n = w;
	send_ahead(b, l.keys, l.n, call);
	for (size_t i = 0; i < l.n; i++) {
		res = cc_base_observe(b, l.keys[i].id, "list", &pg->items[pg->nitems], call);
		if (res == CC_RETRY && pg->nitems > 0) {
			/*
			 * A read that may pass (a hold, a 5xx) after others went
			 * well: the page ends before it, and the next one starts
			 * there. Failing it whole would throw those reads away, and
			 * a busy system (holds every second) would be read again and
			 * again without progress.
			 */
			free(pg->next_id);
			pg->next_id = strdup(l.keys[i - 1].id);
			pg->next_mtime_s = l.keys[i - 1].mtime_s;
			pg->more = true;
			if (!pg->next_id) {
				res = cc_base_oom(b, call);
				goto out;
			}
			call->result = CC_OK;
			call->outcome_unknown = false;
			call->retry_after_ms = 0;
			call->reason[0] = '\0';
			res = CC_OK;
			goto out;
		}
		if (res != CC_OK)
			goto out;
		/* keyset position as listed, so that paging never skips a record
		 * (a departed record back in its place is simply seen again) */
		pg->items[pg->nitems++].mtime_s = l.keys[i].mtime_s;
	}
	res = CC_OK;
out:
	cc_prefetch_clear(&b->ahead);
	free(l.keys);
	if (res != CC_OK) {
		/* the hub gets none of the page: what was read of it is not seen */
		for (size_t i = 0; i < pg->nitems; i++)
			cc_seen_forget(b->seen, pg->items[i].remote_id);
		cc_page_clear(pg);
	}
	return res;
}
