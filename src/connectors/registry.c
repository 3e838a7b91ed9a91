/*
 * The connector registry (see registry.h): the table of kinds, creating
 * a connector of a kind and checking its settings, and the helpers the
 * HTTP connectors share: settings, the user map, remote times, JSON
 * scalars and keyset order.
 */
#include "connectors/registry.h"

#include "connectors/prefetch.h"
#include "core/iso8601.h"
#include "http/client.h"

#include <jansson.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/*
 * The connector kinds this build knows: one row each, declared here so
 * that this file includes nothing of the connectors' own folders.
 */
extern const struct cc_connector_kind cc_rt_kind;
extern const struct cc_connector_kind cc_redmine_kind;

static const struct cc_connector_kind *const kinds[] = {
	&cc_rt_kind,
	&cc_redmine_kind,
	NULL,
};

static const char *kind_names[sizeof(kinds) / sizeof(kinds[0])];

const struct cc_connector_kind *const *cc_connector_kind_table(void)
{
	return kinds;
}

const char *const *cc_connector_kinds(void)
{
	if (!kind_names[0])
		for (size_t i = 0; kinds[i]; i++)
			kind_names[i] = kinds[i]->kind;
	return kind_names;
}

const struct cc_connector_kind *cc_connector_kind_find(const char *kind)
{
	for (size_t i = 0; kind && kinds[i]; i++)
		if (strcmp(kinds[i]->kind, kind) == 0)
			return kinds[i];
	return NULL;
}

bool cc_connector_kind_known(const char *kind)
{
	return cc_connector_kind_find(kind) != NULL;
}

/* "rt, redmine" into buf. */
static void kind_list(char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; kinds[i] && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
		                         kinds[i]->kind);
}

int cc_connector_settings_check(const char *kind, const char *const *keys, size_t n,
                                long *bad, char *err, size_t errlen)
{
	const struct cc_connector_kind *k = cc_connector_kind_find(kind);
	*bad = -1;
	if (!k) {
		char known[200];
		kind_list(known, sizeof(known));
		snprintf(err, errlen, "connector kind '%s' is unknown (known: %s)", kind ? kind : "",
		         known);
		return CC_EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		for (const struct cc_setting_row *r = k->settings; r && r->key && !found; r++)
			found = strcmp(r->key, keys[i]) == 0;
		if (found)
			continue;
		char accepted[300];
		size_t used = 0;
		accepted[0] = '\0';
		for (const struct cc_setting_row *r = k->settings; r && r->key && used < sizeof(accepted);
		     r++)
			used += (size_t)snprintf(accepted + used, sizeof(accepted) - used, "%s%s",
			                         used ? ", " : "", r->key);
		*bad = (long)i;
		snprintf(err, errlen, "setting '%s' is not one of %s's (%s)", keys[i], k->kind,
		         used ? accepted : "it takes none");
		return CC_EINVAL;
	}
	for (const struct cc_setting_row *r = k->settings; r && r->key; r++) {
		if (!r->required)
			continue;
		bool given = false;
		for (size_t i = 0; i < n && !given; i++)
			given = strcmp(r->key, keys[i]) == 0;
		if (!given) {
			snprintf(err, errlen, "%s needs the setting '%s' (%s)", k->kind, r->key,
			         r->description);
			return CC_EINVAL;
		}
	}
	return CC_EOK;
}

int cc_connector_create(struct cc_connector *out, const char *kind,
                        const struct cc_connector_setup *setup, char *err, size_t errlen)
{
	out->ops = NULL;
	out->self = NULL;
	if (!kind || !setup || !setup->cfg || setup->system < 0 ||
	    (size_t)setup->system >= setup->cfg->nsystems) {
		snprintf(err, errlen, "connector: no kind, configuration or system index");
		return CC_EINVAL;
	}
	if (!setup->base_url || !setup->base_url[0]) {
		snprintf(err, errlen, "connector %s: no base url", kind);
		return CC_EINVAL;
	}
	const struct cc_connector_kind *k = cc_connector_kind_find(kind);
	if (!k) {
		char known[200];
		kind_list(known, sizeof(known));
		snprintf(err, errlen, "connector kind '%s' is unknown (known: %s)", kind, known);
		return CC_EINVAL;
	}
	/* the connector sees its kind, so that settings fall back to its rows */
	struct cc_connector_setup s = *setup;
	s.kind = k;
	int rc = k->create(out, &s, err, errlen);
	if (rc)
		return rc;
	if (!out->ops || out->ops->version != CC_CONNECTOR_OPS_VERSION) {
		snprintf(err, errlen, "connector %s implements connector interface version %d; this "
		         "build needs %d", kind, out->ops ? out->ops->version : 0,
		         CC_CONNECTOR_OPS_VERSION);
		if (out->ops && out->ops->destroy)
			out->ops->destroy(out->self);
		out->ops = NULL;
		out->self = NULL;
		return CC_EINVAL;
	}
	return CC_EOK;
}

const char *cc_setup_setting(const struct cc_connector_setup *s, const char *key)
{
	for (size_t i = 0; i < s->nsettings; i++)
		if (s->settings[i].key && strcmp(s->settings[i].key, key) == 0 &&
		    s->settings[i].value)
			return s->settings[i].value;
	for (const struct cc_setting_row *r = s->kind ? s->kind->settings : NULL; r && r->key; r++)
		if (strcmp(r->key, key) == 0)
			return r->dflt;
	return NULL;
}

int cc_usermap_init(struct cc_usermap *m, const struct cc_connector_setup *s)
{
	memset(m, 0, sizeof(*m));
	if (!s->nusers)
		return 0;
	m->remote = calloc(s->nusers, sizeof(*m->remote));
	m->person = calloc(s->nusers, sizeof(*m->person));
	if (!m->remote || !m->person)
		goto oom;
	for (size_t i = 0; i < s->nusers; i++) {
		if (!s->users[i].remote || !s->users[i].person)
			continue;
		m->remote[m->n] = strdup(s->users[i].remote);
		m->person[m->n] = strdup(s->users[i].person);
		m->n++;
		if (!m->remote[m->n - 1] || !m->person[m->n - 1])
			goto oom;
	}
	return 0;
oom:
	cc_usermap_clear(m);
	return CC_ENOMEM;
}

void cc_usermap_clear(struct cc_usermap *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->remote[i]);
		free(m->person[i]);
	}
	free(m->remote);
	free(m->person);
	memset(m, 0, sizeof(*m));
}

const char *cc_usermap_person(const struct cc_usermap *m, const char *remote)
{
	if (!remote)
		return NULL;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->remote[i], remote) == 0)
			return m->person[i];
	return remote;
}

const char *cc_usermap_remote(const struct cc_usermap *m, const char *person)
{
	if (!person)
		return NULL;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->person[i], person) == 0)
			return m->remote[i];
	return person;
}

int64_t cc_parse_iso8601(const char *s)
{
	int64_t t;
	return cc_iso8601_parse(s, &t) && t > 0 ? t : 0;
}

const char *cc_json_str(json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, len, "%g", json_real_value(v));
		return buf;
	}
	if (json_is_true(v))
		return "true";
	if (json_is_false(v))
		return "false";
	return NULL;
}

enum cc_result cc_call_fail(struct cc_call *call, enum cc_result r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(call->reason, sizeof(call->reason), fmt, ap);
	va_end(ap);
	call->result = r;
	return r;
}

enum cc_result cc_call_malformed(struct cc_call *call, const char *who, const char *op,
                                 const char *fmt, ...)
{
	char what[112];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return cc_call_fail(call, CC_RETRY, "%s %s: malformed answer: %s", who, op, what);
}

bool cc_json_more_pages(json_t *answer, const char *pages_key, int64_t page, size_t n,
                        size_t per_page, bool *bad)
{
	json_t *p = json_object_get(answer, pages_key);
	*bad = false;
	if (!p || json_is_null(p))
		return n >= per_page;
	if (!json_is_integer(p) || json_integer_value(p) < 0) {
		*bad = true;
		return false;
	}
	return page < json_integer_value(p);
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int64_t cc_list_from(int64_t since_s, int64_t after_mtime_s, const char *after_id)
{
	int64_t lo = since_s < 0 ? 0 : since_s;
	return after_id && after_mtime_s > lo ? after_mtime_s : lo;
}

bool cc_keyset_after(int64_t m, const char *id, int64_t after_m, const char *after_id)
{
	return !after_id || cc_keyset_cmp(m, id, after_m, after_id) > 0;
}

char *cc_strf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

bool cc_same_text(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	while (la && strchr(" \t\r\n", a[la - 1]))
		la--;
	while (lb && strchr(" \t\r\n", b[lb - 1]))
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

enum cc_result cc_request_json(struct cc_http_client *http, struct cc_prefetch *ahead,
                               const char *who, const char *op, const char *method,
                               const char *path, json_t *body, json_t **out, long *status,
                               char *etag, size_t etag_len, struct cc_call *call)
{
	if (out)
		*out = NULL;
	if (status)
		*status = 0;
	if (etag && etag_len)
		etag[0] = '\0';
	char *b = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (!path || (body && !b)) {
		free(b);
		return cc_call_fail(call, CC_RETRY, "%s: out of memory", who);
	}
	struct cc_http_response resp;
	enum cc_result res = ahead && cc_prefetch_take(ahead, method, path, &resp, call)
	                             ? call->result
	                             : cc_http_request(http, op, method, path, b, &resp, call);
	free(b);
	if (status)
		*status = resp.status;
	if (etag && etag_len)
		snprintf(etag, etag_len, "%s", resp.etag);
	if (res == CC_OK && out && resp.body && resp.len) {
		json_error_t je;
		*out = json_loadb(resp.body, resp.len, 0, &je);
		if (!*out)
			res = cc_call_malformed(call, who, op, "not JSON (%.60s)", je.text);
	}
	cc_http_response_clear(&resp);
	return res;
}

int cc_keyset_cmp(int64_t am, const char *aid, int64_t bm, const char *bid)
{
	if (am != bm)
		return am < bm ? -1 : 1;
	if (all_digits(aid) && all_digits(bid)) {
		size_t la = strlen(aid), lb = strlen(bid);
		if (la != lb)
			return la < lb ? -1 : 1;
	}
	return strcmp(aid, bid);
}

int cc_setup_http_client(struct cc_http_client **out, const struct cc_connector_setup *s,
                         const char *auth_name, const char *auth_prefix, char *err,
                         size_t errlen)
{
	char *auth = NULL;
	if (s->secret) {
		size_t n = strlen(auth_name) + 2 + strlen(auth_prefix) + strlen(s->secret) + 1;
		auth = malloc(n);
		if (!auth) {
			snprintf(err, errlen, "out of memory");
			return CC_ENOMEM;
		}
		snprintf(auth, n, "%s: %s%s", auth_name, auth_prefix, s->secret);
	}
	/* the client removes a trailing slash of the base URL itself */
	struct cc_http_options o = { .base_url = s->base_url, .auth_header = auth,
		                     .timeout_ms = s->timeout_ms, .rate_per_sec = s->rate_per_sec,
		                     .max_concurrency = s->max_concurrency, .ca_file = s->ca_file,
		                     .hold_max_ms = s->retry_after_max_ms,
		                     .interrupt = s->interrupt, .interrupt_ctx = s->interrupt_ctx,
		                     .transport = s->transport };
	int rc = cc_http_client_create(out, &o, err, errlen);
	if (auth) {
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	return rc;
}
