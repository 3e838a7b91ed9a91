/*
 * The Request Tracker 5 connector: REST2 (/REST/2.0) over the HTTP client.
 *
 * A record is a ticket of one queue. Its observation is built from three
 * answers: the ticket itself (current values, queue, status, custom
 * fields), its history (who changed which field when, the newest
 * transaction id as the remote version, comment transactions) and, only
 * when the history holds comments, its attachments (the comment bodies).
 * Polls search the transactions of the queue's tickets since the cursor,
 * and those that moved a ticket out of the queue (a deleted ticket keeps
 * its queue), so that a departure is seen as a deleted observation; one
 * request when nothing changed. A ticket whose newest listed transaction
 * is the version this connector returned before is not read again
 * (seen.h). The first start lists tickets by LastUpdated instead (one row
 * per ticket). docs/connectors/rt.md says
 * which API facts this relies on and what RT's scrips do on each write.
 */
#include "connectors/rt/rt.h"

#include "connectors/prefetch.h"
#include "connectors/seen.h"
#include "http/client.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_LIST_PAGES 50     /* ticket search pages per list call (100 each) */
#define MAX_HISTORY_PAGES 100 /* 10000 transactions per ticket */
#define MAX_ATTACH_PAGES 50
#define PER_PAGE 100
#define HISTORY_PATH "/ticket/%s/history?fields=Type,Field,Creator,Created" \
                     "&orderby=id&order=ASC&per_page=%d&page=%d"

struct rt {
	struct cc_http_client *http;
	const struct cc_config *cfg;
	int system;
	char *queue;            /* queue name */
	char *cf;               /* correlation custom field name */
	char *iuser;            /* integration user, may be NULL */
	char queue_id[32];      /* resolved once */
	struct cc_usermap users;
	struct cc_seen seen;    /* versions already returned (seen.h) */
	struct cc_prefetch ahead; /* a poll page's first reads, sent at once */
};

/* ---- requests ---------------------------------------------------------- */

/*
 * One request; on OK with a body, *out is its JSON (caller decrefs).
 * *status is the HTTP status (0 without an answer).
 */
static enum cc_result req(struct rt *r, const char *op, const char *method, const char *path,
                          json_t *body, json_t **out, long *status, struct cc_call *call)
{
	return cc_request_json(r->http, &r->ahead, "rt", op, method, path, body, out, status, NULL,
	                       0, call);
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A user reference {"id": "root", ...} or a plain string. */
static const char *juser(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (json_is_object(v))
		return json_string_value(json_object_get(v, "id"));
	return json_string_value(v);
}

/* A numeric id given as a string of digits or a positive number; 0 for anything else. */
static uint64_t jid(json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
	const char *s = json_string_value(v);
	if (!s || !s[0] || strlen(s) > 19 || strspn(s, "0123456789") != strlen(s))
		return 0;
	return strtoull(s, NULL, 10);
}

static enum cc_result malformed(struct cc_call *call, const char *op, const char *what,
                                const char *id)
{
	return cc_call_malformed(call, "rt", op, "%s%s%s", what, id ? " of " : "", id ? id : "");
}

/* The "items" array of a listing answer, NULL when it has none. */
static json_t *items_of(json_t *j)
{
	json_t *a = json_object_get(j, "items");
	return json_is_array(a) ? a : NULL;
}

/* A time of an answer: false when absent or unreadable. */
static bool jtime(json_t *o, const char *key, int64_t *out)
{
	return cc_iso8601_parse(json_string_value(json_object_get(o, key)), out);
}

/* TicketSQL string literals: quotes and backslashes are refused, not escaped. */
static bool sql_safe(const char *s)
{
	return s && !strpbrk(s, "'\\");
}

static enum cc_result ensure_queue(struct rt *r, struct cc_call *call)
{
	if (r->queue_id[0])
		return CC_OK;
	char *q = cc_http_escape(r->queue);
	char *path = q ? cc_strf("/queue/%s", q) : NULL;
	free(q);
	json_t *j;
	enum cc_result res = req(r, "read", "GET", path, NULL, &j, NULL, call);
	free(path);
	if (res != CC_OK)
		return res;
	uint64_t id = jid(json_object_get(j, "id"));
	json_decref(j);
	if (!id)
		return malformed(call, "read", "no id", "the queue");
	snprintf(r->queue_id, sizeof(r->queue_id), "%" PRIu64, id);
	return CC_OK;
}

/* ---- values ------------------------------------------------------------ */

static const char *remote_name(const struct rt *r, int f)
{
	const struct cc_field_map *m = &r->cfg->systems[r->system].map[f];
	return m->mapped && m->remote_name ? m->remote_name : NULL;
}

static bool is_user(const struct rt *r, int f)
{
	return r->cfg->fields[f].type == CC_FT_USER;
}

/* "CF.{Name}" or "CF.Name" -> Name into buf; NULL when not a custom field. */
static const char *cf_of(const char *rn, char *buf, size_t len)
{
	if (strncasecmp(rn, "CF.", 3) != 0)
		return NULL;
	const char *n = rn + 3;
	size_t l = strlen(n);
	if (l >= 2 && n[0] == '{' && n[l - 1] == '}') {
		n++;
		l -= 2;
	}
	if (l >= len)
		l = len - 1;
	memcpy(buf, n, l);
	buf[l] = '\0';
	return buf;
}

static json_t *cf_entry(json_t *ticket, const char *name)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(ticket, "CustomFields"), i, c)
		if (jstr(c, "name") && strcmp(jstr(c, "name"), name) == 0)
			return c;
	return NULL;
}

/* The first value of a custom field, NULL when the ticket has none. */
static const char *cf_value(json_t *ticket, const char *name)
{
	json_t *c = cf_entry(ticket, name);
	return c ? json_string_value(json_array_get(json_object_get(c, "values"), 0)) : NULL;
}

/*
 * The value of one mapped field in remote terms (a user field in the
 * person's terms through the user map); *present false when the ticket
 * has no such field. Returns a new string or NULL (absent or no memory).
 */
static char *ticket_value(const struct rt *r, json_t *t, int f, const char *rn, bool *present)
{
	char nbuf[128], num[64];
	const char *cfn = cf_of(rn, nbuf, sizeof(nbuf));
	*present = false;
	if (cfn) {
		json_t *c = cf_entry(t, cfn);
		if (!c)
			return NULL;
		*present = true;
		const char *v = json_string_value(json_array_get(json_object_get(c, "values"), 0));
		return strdup(v ? v : "");
	}
	json_t *v = json_object_get(t, rn);
	if (!v)
		return NULL;
	*present = true;
	struct cc_buf b = { 0 };
	if (json_is_object(v)) {
		cc_buf_add(&b, juser(t, rn) ? juser(t, rn) : "");
	} else if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			const char *s = json_is_object(e) ? jstr(e, "id") : cc_json_str(e, num, sizeof(num));
			if (!s)
				continue;
			if (b.len)
				cc_buf_add(&b, ",");
			cc_buf_add(&b, s);
		}
	} else {
		const char *s = cc_json_str(v, num, sizeof(num));
		/* RT's "not set" date */
		if (s && strcmp(s, "1970-01-01T00:00:00Z") != 0)
			cc_buf_add(&b, s);
	}
	char *out = cc_buf_take(&b);
	if (out && is_user(r, f)) {
		const char *p = (strcmp(out, "Nobody") == 0) ? "" : cc_usermap_person(&r->users, out);
		char *m = strdup(p);
		free(out);
		out = m;
	}
	return out;
}

/* ---- observation ------------------------------------------------------- */

struct comment_txn {
	char *id;
	char *author;
	int64_t created_s;
	char *body;
	bool plain;
};

struct txns {
	struct comment_txn *c;
	size_t n, cap;
};

static void txns_clear(struct txns *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->c[i].id);
		free(t->c[i].author);
		free(t->c[i].body);
	}
	free(t->c);
	memset(t, 0, sizeof(*t));
}

static int txns_add(struct txns *t, uint64_t id, const char *author, int64_t created)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		void *p = realloc(t->c, cap * sizeof(*t->c));
		if (!p)
			return CC_ENOMEM;
		t->c = p;
		t->cap = cap;
	}
	struct comment_txn *c = &t->c[t->n];
	memset(c, 0, sizeof(*c));
	c->id = cc_strf("%" PRIu64, id);
	c->author = author ? strdup(author) : NULL;
	c->created_s = created;
	t->n++;
	return c->id ? 0 : CC_ENOMEM;
}

/* Reads the comment bodies of the comment transactions in *tx. */
static enum cc_result read_bodies(struct rt *r, const char *id, struct txns *tx,
                                  struct cc_call *call)
{
	for (int page = 1; page <= MAX_ATTACH_PAGES; page++) {
		char *path = cc_strf("/ticket/%s/attachments?fields=TransactionId,ContentType,Content"
		                  "&orderby=id&order=ASC&per_page=%d&page=%d", id, PER_PAGE, page);
		json_t *j;
		enum cc_result res = req(r, "read", "GET", path, NULL, &j, NULL, call);
		free(path);
		if (res != CC_OK)
			return res;
		json_t *items = items_of(j);
		if (!items) {
			json_decref(j);
			return malformed(call, "read", "no attachment items", id);
		}
		size_t i;
		json_t *a;
		json_array_foreach(items, i, a) {
			if (!json_is_object(a)) {
				json_decref(j);
				return malformed(call, "read", "an attachment is not an object", id);
			}
			uint64_t txid = jid(json_object_get(a, "TransactionId"));
			const char *ct = jstr(a, "ContentType");
			const char *content = jstr(a, "Content");
			if (!ct || !content)
				continue;
			bool plain = strcasecmp(ct, "text/plain") == 0;
			if (!plain && strcasecmp(ct, "text/html") != 0)
				continue;
			for (size_t k = 0; k < tx->n; k++) {
				struct comment_txn *c = &tx->c[k];
				if (strtoull(c->id, NULL, 10) != txid || (c->body && (c->plain || !plain)))
					continue;
				char *d = strdup(content);
				if (!d) {
					json_decref(j);
					return cc_call_fail(call, CC_RETRY, "rt: out of memory");
				}
				free(c->body);
				c->body = d;
				c->plain = plain;
			}
		}
		bool bad;
		bool more = cc_json_more_pages(j, "pages", page, json_array_size(items), PER_PAGE, &bad);
		json_decref(j);
		if (bad)
			return malformed(call, "read", "pages is not a number", id);
		if (!more)
			break;
	}
	return CC_OK;
}

/* The ticket's history, every page (each a JSON answer, owned). */
struct history {
	json_t *page[MAX_HISTORY_PAGES];
	int n;
};

static void history_clear(struct history *h)
{
	for (int i = 0; i < h->n; i++)
		json_decref(h->page[i]);
	h->n = 0;
}

/* The newest transaction id of a history read. */
static uint64_t history_newest(const struct history *h)
{
	uint64_t newest = 0;
	for (int p = 0; p < h->n; p++) {
		size_t i;
		json_t *x;
		json_array_foreach(json_object_get(h->page[p], "items"), i, x) {
			uint64_t xid = jid(json_object_get(x, "id"));
			if (xid > newest)
				newest = xid;
		}
	}
	return newest;
}

/* *gone when RT answers 404 (the ticket was shredded). */
static enum cc_result read_history(struct rt *r, const char *id, const char *op,
                                   struct history *h, bool *gone, struct cc_call *call)
{
	*gone = false;
	for (int page = 1; page <= MAX_HISTORY_PAGES; page++) {
		char *path = cc_strf(HISTORY_PATH, id, PER_PAGE, page);
		json_t *j;
		long status;
		enum cc_result res = req(r, op, "GET", path, NULL, &j, &status, call);
		free(path);
		if (res != CC_OK && status == 404 && page == 1) {
			*gone = true;
			call->result = CC_OK;
			call->reason[0] = '\0';
			return CC_OK;
		}
		if (res != CC_OK)
			return res;
		json_t *items = items_of(j);
		size_t i;
		json_t *x;
		bool ok = items != NULL;
		json_array_foreach(items, i, x) {
			int64_t when;
			/* every transaction has an id and a time */
			if (!json_is_object(x) || !jid(json_object_get(x, "id")) ||
			    !jtime(x, "Created", &when))
				ok = false;
		}
		bool bad = false;
		bool more = ok && cc_json_more_pages(j, "pages", page, json_array_size(items), PER_PAGE,
		                                     &bad);
		if (!ok || bad) {
			json_decref(j);
			return malformed(call, op, !items ? "no history items"
			                               : bad ? "pages is not a number"
			                                     : "a transaction without id or time", id);
		}
		h->page[h->n++] = j;
		if (!more)
			break;
	}
	return CC_OK;
}

/*
 * The observation of ticket `id` as it is now. A ticket that is gone (404),
 * deleted, merged into another or moved out of the queue is an observation
 * with deleted set.
 *
 * The history (the version: the newest transaction, the field times) and
 * the ticket (the values) are two reads; a transaction committed between
 * them would tear the observation. The ticket's ETag is its newest
 * transaction, so a torn pair is seen and read again. Without an ETag (a
 * proxy may drop it) the history read first still keeps the version from
 * ever being newer than the values: a change between the reads shows up
 * as a newer version at the next listing instead of hiding behind one
 * that already counts as seen.
 */
static enum cc_result observe(struct rt *r, const char *id, const char *op,
                              struct cc_observation *out, struct cc_call *call)
{
	cc_observation_init(out);
	enum cc_result res = ensure_queue(r, call);
	if (res != CC_OK)
		return res;
	json_t *t = NULL;
	long status = 0;
	struct txns tx = { 0 };
	struct history h = { .n = 0 };
	bool gone = false;
	out->remote_id = strdup(id);
	if (!out->remote_id) {
		res = cc_call_fail(call, CC_RETRY, "rt: out of memory");
		goto out;
	}
	for (int attempt = 1;; attempt++) {
		res = read_history(r, id, op, &h, &gone, call);
		if (res != CC_OK || gone)
			break;
		char *path = cc_strf("/ticket/%s", id);
		char tag[32];
		res = cc_request_json(r->http, &r->ahead, "rt", op, "GET", path, NULL, &t, &status,
		                      tag, sizeof(tag), call);
		free(path);
		gone = res != CC_OK && status == 404;
		/*
		 * The ticket's ETag is its newest transaction: when it is not the
		 * history's, a transaction committed between the two reads (the
		 * values would be newer than the version and the field times):
		 * read both again.
		 */
		uint64_t etag = strtoull(tag, NULL, 10);
		if (res != CC_OK || gone || !etag || etag == history_newest(&h))
			break;
		if (attempt == 3) {
			res = cc_call_fail(call, CC_RETRY, "rt: ticket %s changed during every read", id);
			break;
		}
		history_clear(&h);
		json_decref(t);
		t = NULL;
	}
	if (gone) {
		/* gone for good (shredded): newer than any version seen */
		out->deleted = true;
		out->rv = UINT64_MAX;
		call->result = res = CC_OK;
		call->reason[0] = '\0';
		goto out;
	}
	if (res != CC_OK)
		goto out;
	const char *qid = juser(t, "Queue");
	if (!json_is_object(t) || !jtime(t, "LastUpdated", &out->mtime_s) ||
	    !jtime(t, "Created", &out->created_s) || !qid ||
	    (json_object_get(t, "CustomFields") && !json_is_array(json_object_get(t, "CustomFields")))) {
		res = malformed(call, op, !json_is_object(t) ? "the ticket is not an object"
		                          : !qid ? "the ticket has no queue"
		                                 : "the ticket's times or custom fields", id);
		goto out;
	}
	const char *corr = cf_value(t, r->cf);
	if (corr && corr[0] && !(out->correlation_id = strdup(corr))) {
		res = cc_call_fail(call, CC_RETRY, "rt: out of memory");
		goto out;
	}
	const char *st = jstr(t, "Status");
	uint64_t eff = jid(json_object_get(json_object_get(t, "EffectiveId"), "id"));
	out->deleted = (st && strcmp(st, "deleted") == 0) || !qid ||
	               strcmp(qid, r->queue_id) != 0 || (eff && eff != strtoull(id, NULL, 10));
	const char *creator = juser(t, "Creator");
	/* per field: the custom field id its history uses, when it is one */
	char cfid[CC_MAX_FIELDS][24];
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		cfid[f][0] = '\0';
		const char *rn = remote_name(r, f);
		if (!rn)
			continue;
		bool present;
		char *v = ticket_value(r, t, f, rn, &present);
		if (!present)
			continue;
		if (!v || cc_observation_set(out, f, v, out->created_s, creator)) {
			free(v);
			res = cc_call_fail(call, CC_RETRY, "rt: out of memory");
			goto out;
		}
		free(v);
		char nbuf[128];
		const char *cfn = cf_of(rn, nbuf, sizeof(nbuf));
		json_t *ce = cfn ? cf_entry(t, cfn) : NULL;
		if (ce)
			snprintf(cfid[f], sizeof(cfid[f]), "%" PRIu64, jid(json_object_get(ce, "id")));
	}
	/* history: field times and authors, the newest transaction, comments */
	for (int p = 0; p < h.n; p++) {
		size_t i;
		json_t *x;
		json_array_foreach(json_object_get(h.page[p], "items"), i, x) {
			uint64_t xid = jid(json_object_get(x, "id"));
			const char *type = jstr(x, "Type");
			const char *field = jstr(x, "Field");
			const char *who = juser(x, "Creator");
			int64_t when = 0;
			jtime(x, "Created", &when); /* checked by read_history */
			if (xid > out->rv)
				out->rv = xid;
			if (!type)
				continue;
			if (strcmp(type, "Comment") == 0 || strcmp(type, "Correspond") == 0) {
				if (txns_add(&tx, xid, who, when)) {
					res = cc_call_fail(call, CC_RETRY, "rt: out of memory");
					goto out;
				}
				continue;
			}
			if (!field || !field[0] || strcmp(type, "Create") == 0)
				continue;
			for (int f = 0; f < CC_MAX_FIELDS; f++) {
				const char *rn = remote_name(r, f);
				if (!rn || !out->fields[f].present)
					continue;
				bool hit = cfid[f][0] ? strcmp(type, "CustomField") == 0 &&
				                                strcmp(field, cfid[f]) == 0
				                      : strcasecmp(field, rn) == 0;
				if (!hit)
					continue;
				char *a = who ? strdup(who) : NULL;
				free(out->fields[f].author);
				out->fields[f].author = a;
				out->fields[f].mtime_s = when;
			}
		}
	}
	if (tx.n) {
		res = read_bodies(r, id, &tx, call);
		if (res != CC_OK)
			goto out;
		for (size_t k = 0; k < tx.n; k++) {
			if (cc_observation_add_comment(out, tx.c[k].id, tx.c[k].body ? tx.c[k].body : "",
			                               tx.c[k].author, tx.c[k].created_s)) {
				res = cc_call_fail(call, CC_RETRY, "rt: out of memory");
				goto out;
			}
		}
	}
	res = CC_OK;
out:
	json_decref(t);
	history_clear(&h);
	txns_clear(&tx);
	if (res != CC_OK)
		cc_observation_clear(out);
	else
		cc_seen_put(&r->seen, id, out->rv);
	return res;
}

/* ---- list_changes ------------------------------------------------------ */

struct key {
	int64_t mtime;
	char id[24];
	uint64_t txn; /* newest transaction listed (0: not known from the listing) */
};

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	return cc_keyset_cmp(x->mtime, x->id, y->mtime, y->id);
}

struct keys {
	struct key *k;
	size_t n, cap;
};

/* The key of ticket id, added when new; NULL when out of memory. */
static struct key *key_of(struct keys *ks, const char *id)
{
	for (size_t i = ks->n; i-- > 0;)
		if (strcmp(ks->k[i].id, id) == 0)
			return &ks->k[i];
	if (ks->n == ks->cap) {
		size_t c = ks->cap ? ks->cap * 2 : 64;
		void *p = realloc(ks->k, c * sizeof(*ks->k));
		if (!p)
			return NULL;
		ks->k = p;
		ks->cap = c;
	}
	struct key *e = &ks->k[ks->n++];
	memset(e, 0, sizeof(*e));
	e->mtime = INT64_MIN;
	snprintf(e->id, sizeof(e->id), "%s", id);
	return e;
}

/*
 * First start: every ticket of the queue changed since lo, by LastUpdated
 * (one row per ticket, so pages of tickets). *bounded when it stopped at
 * MAX_LIST_PAGES.
 */
static enum cc_result search_tickets(struct rt *r, const char *when, struct keys *ks,
                                     size_t stop_at, int64_t after_m, const char *after_id,
                                     bool *bounded, struct cc_call *call)
{
	char *q = cc_strf("Queue = '%s' AND LastUpdated >= '%s'", r->queue, when);
	char *qe = q ? cc_http_escape(q) : NULL;
	free(q);
	if (!qe)
		return cc_call_fail(call, CC_RETRY, "rt: out of memory");
	enum cc_result res = CC_OK;
	*bounded = false;
	for (int page = 1; page <= MAX_LIST_PAGES; page++) {
		char *path = cc_strf("/tickets?query=%s&fields=LastUpdated&orderby=LastUpdated&orderby=id"
		                  "&order=ASC&order=ASC&per_page=%d&page=%d", qe, PER_PAGE, page);
		json_t *j;
		res = req(r, "list", "GET", path, NULL, &j, NULL, call);
		free(path);
		if (res != CC_OK)
			break;
		json_t *items = items_of(j);
		bool bad = false;
		bool more = items && cc_json_more_pages(j, "pages", page, json_array_size(items),
		                                        PER_PAGE, &bad);
		if (!items || bad) {
			json_decref(j);
			free(qe);
			return malformed(call, "list", items ? "pages is not a number"
			                                     : "no items in the ticket search", NULL);
		}
		size_t i;
		json_t *it;
		json_array_foreach(items, i, it) {
			char idb[24];
			uint64_t tid = jid(json_object_get(it, "id"));
			int64_t m;
			if (!tid || !jtime(it, "LastUpdated", &m)) {
				json_decref(j);
				free(qe);
				return malformed(call, "list", "a ticket without id or LastUpdated", NULL);
			}
			snprintf(idb, sizeof(idb), "%" PRIu64, tid);
			if (!cc_keyset_after(m, idb, after_m, after_id))
				continue;
			struct key *k = key_of(ks, idb);
			if (!k) {
				json_decref(j);
				free(qe);
				return cc_call_fail(call, CC_RETRY, "rt: out of memory");
			}
			k->mtime = m;
		}
		json_decref(j);
		if (ks->n >= stop_at || !more)
			break;
		if (page == MAX_LIST_PAGES)
			*bounded = true;
	}
	free(qe);
	return res;
}

/*
 * Later polls: the transactions since lo of the queue's tickets, and those
 * that took a ticket out of the queue (a deleted ticket keeps its queue;
 * RT's ticket search never shows deleted tickets, its transaction search
 * does). One request when nothing changed. Each ticket's key is its newest
 * listed transaction: time and id. *bounded, with *last_created, when it
 * stopped at MAX_LIST_PAGES.
 */
static enum cc_result search_transactions(struct rt *r, const char *when, struct keys *ks,
                                          bool *bounded, int64_t *last_created,
                                          struct cc_call *call)
{
	char *q = cc_strf("ObjectType = 'RT::Ticket' AND Created >= '%s' AND (TicketQueue = %s OR "
	               "(Field = 'Queue' AND OldValue = '%s'))", when, r->queue_id, r->queue_id);
	char *qe = q ? cc_http_escape(q) : NULL;
	free(q);
	if (!qe)
		return cc_call_fail(call, CC_RETRY, "rt: out of memory");
	enum cc_result res = CC_OK;
	*bounded = false;
	for (int page = 1; page <= MAX_LIST_PAGES; page++) {
		char *path = cc_strf("/transactions?query=%s&fields=ObjectId,Created&orderby=Created"
		                  "&orderby=id&order=ASC&order=ASC&per_page=%d&page=%d", qe, PER_PAGE,
		                  page);
		json_t *j;
		res = req(r, "list", "GET", path, NULL, &j, NULL, call);
		free(path);
		if (res != CC_OK)
			break;
		json_t *items = items_of(j);
		bool bad = false;
		bool more = items && cc_json_more_pages(j, "pages", page, json_array_size(items),
		                                        PER_PAGE, &bad);
		if (!items || bad) {
			json_decref(j);
			free(qe);
			return malformed(call, "list", items ? "pages is not a number"
			                                     : "no items in the transaction search", NULL);
		}
		size_t i;
		json_t *it;
		json_array_foreach(items, i, it) {
			uint64_t tno = jid(json_object_get(it, "ObjectId"));
			uint64_t x = jid(json_object_get(it, "id"));
			int64_t m;
			if (!tno || !x || !jtime(it, "Created", &m)) {
				json_decref(j);
				free(qe);
				return malformed(call, "list",
				                 "a transaction without id, ticket or time", NULL);
			}
			char tid[24];
			snprintf(tid, sizeof(tid), "%" PRIu64, tno);
			struct key *k = key_of(ks, tid);
			if (!k) {
				json_decref(j);
				free(qe);
				return cc_call_fail(call, CC_RETRY, "rt: out of memory");
			}
			if (m > k->mtime)
				k->mtime = m;
			if (x > k->txn)
				k->txn = x;
			*last_created = m;
		}
		json_decref(j);
		if (!more)
			break;
		if (page == MAX_LIST_PAGES)
			*bounded = true;
	}
	free(qe);
	return res;
}

/*
 * Sends ahead, at once, the first reads of each ticket's observation: every
 * history first, then every ticket, the order observe() needs.
 */
static void ahead(struct rt *r, const struct key *k, size_t n, struct cc_call *call)
{
	if (n < 2)
		return;
	char **paths = calloc(n, sizeof(*paths));
	if (!paths)
		return;
	for (int pass = 0; pass < 2; pass++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++) {
			char *p = pass == 0 ? cc_strf(HISTORY_PATH, k[i].id, PER_PAGE, 1)
			                    : cc_strf("/ticket/%s", k[i].id);
			if (p)
				paths[m++] = p;
		}
		cc_prefetch_run(&r->ahead, r->http, "list", paths, m, call);
		for (size_t i = 0; i < m; i++)
			free(paths[i]);
	}
	free(paths);
}

static enum cc_result rt_list(void *self, int64_t since_s, int64_t after_mtime_s,
                              const char *after_id, size_t page_size, struct cc_page *pg,
                              struct cc_call *call)
{
	struct rt *r = self;
	memset(pg, 0, sizeof(*pg));
	if (!page_size)
		page_size = PER_PAGE;
	enum cc_result res = ensure_queue(r, call);
	if (res != CC_OK)
		return res;
	int64_t lo = cc_list_from(since_s, after_mtime_s, after_id);
	char when[32];
	cc_format_utc(when, sizeof(when), lo, false);
	struct keys ks = { 0 };
	bool bounded = false;
	int64_t last_created = INT64_MIN;

	/* 1. the changed tickets, in keyset order after (after_mtime_s, after_id) */
	if (since_s < 0) /* first start */
		res = search_tickets(r, when, &ks, page_size + 1, after_mtime_s, after_id, &bounded,
		                     call);
	else
		res = search_transactions(r, when, &ks, &bounded, &last_created, call);
	if (res != CC_OK)
		goto out;
	size_t w = 0;
	for (size_t k = 0; k < ks.n; k++) {
		struct key *e = &ks.k[k];
		if (!cc_keyset_after(e->mtime, e->id, after_mtime_s, after_id))
			continue;
		/* stopped early: a ticket may have later transactions on the
		 * pages not read, and others may share the last second */
		if (bounded && last_created != INT64_MIN && e->mtime >= last_created && w)
			continue;
		ks.k[w++] = *e;
	}
	ks.n = w;
	if (ks.n)
		qsort(ks.k, ks.n, sizeof(*ks.k), key_cmp);
	pg->more = bounded;
	size_t n = ks.n;
	if (n > page_size) {
		n = page_size;
		pg->more = true;
	}
	if (n) {
		pg->next_id = strdup(ks.k[n - 1].id);
		pg->next_mtime_s = ks.k[n - 1].mtime;
		if (!pg->next_id) {
			res = cc_call_fail(call, CC_RETRY, "rt: out of memory");
			goto out;
		}
	}

	/* 2. one full observation per ticket whose listed version is new to us */
	pg->items = calloc(n ? n : 1, sizeof(*pg->items));
	if (!pg->items) {
		res = cc_call_fail(call, CC_RETRY, "rt: out of memory");
		goto out;
	}
	size_t w2 = 0;
	for (size_t k = 0; k < n; k++) {
		if (!ks.k[k].txn || !cc_seen_covers(&r->seen, ks.k[k].id, ks.k[k].txn))
			ks.k[w2++] = ks.k[k];
	}
	n = w2;
	ahead(r, ks.k, n, call);
	for (size_t k = 0; k < n; k++) {
		res = observe(r, ks.k[k].id, "list", &pg->items[pg->nitems], call);
		if (res != CC_OK)
			goto out;
		/* keyset position as listed, so that paging never skips a record
		 * (a departed ticket back in the queue is simply seen again) */
		pg->items[pg->nitems++].mtime_s = ks.k[k].mtime;
	}
	res = CC_OK;
out:
	cc_prefetch_clear(&r->ahead);
	free(ks.k);
	if (res != CC_OK)
		cc_page_clear(pg);
	return res;
}

/* ---- read and find ----------------------------------------------------- */

static enum cc_result rt_read(void *self, const char *remote_id, struct cc_observation *out,
                              struct cc_call *call)
{
	return observe(self, remote_id, "read", out, call);
}

static enum cc_result rt_find(void *self, const char *corr, struct cc_observation *out,
                              bool *found, struct cc_call *call)
{
	struct rt *r = self;
	cc_observation_init(out);
	*found = false;
	if (!sql_safe(corr))
		return cc_call_fail(call, CC_ERROR, "rt: correlation id with a quote");
	/* every queue: a copy moved elsewhere still stops a second create */
	char *q = cc_strf("'CF.{%s}' = '%s'", r->cf, corr);
	char *qe = q ? cc_http_escape(q) : NULL;
	free(q);
	char *path = qe ? cc_strf("/tickets?query=%s&orderby=id&order=ASC&per_page=5", qe) : NULL;
	free(qe);
	json_t *j;
	enum cc_result res = req(r, "find", "GET", path, NULL, &j, NULL, call);
	free(path);
	if (res != CC_OK)
		return res;
	json_t *items = items_of(j);
	json_t *first = json_array_get(items, 0);
	uint64_t id = jid(json_object_get(first, "id"));
	json_decref(j);
	if (!items || (first && !id))
		return malformed(call, "find", "no items, or an item without id", corr);
	if (!id)
		return CC_OK;
	char idb[24];
	snprintf(idb, sizeof(idb), "%" PRIu64, id);
	res = observe(r, idb, "find", out, call);
	if (res == CC_OK)
		*found = true;
	return res;
}

/* ---- writes ------------------------------------------------------------ */

/*
 * The JSON of a ticket write: plain fields by name, user fields as the
 * account (through the user map; "" is Nobody), custom fields under
 * CustomFields. Status is left out when skip_status.
 */
static json_t *write_body(struct rt *r, const struct cc_write *w, bool skip_status, int *nset)
{
	json_t *o = json_object();
	json_t *cfs = json_object();
	*nset = 0;
	if (!o || !cfs)
		goto fail;
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		const char *rn = remote_name(r, f);
		const char *v = w->values[f];
		if (!rn || !v)
			continue;
		if (skip_status && strcasecmp(rn, "Status") == 0)
			continue;
		char nbuf[128];
		const char *cfn = cf_of(rn, nbuf, sizeof(nbuf));
		if (is_user(r, f))
			v = v[0] ? cc_usermap_remote(&r->users, v) : "Nobody";
		if (json_object_set_new(cfn ? cfs : o, cfn ? cfn : rn, json_string(v)))
			goto fail;
		(*nset)++;
	}
	if (json_object_size(cfs) && json_object_set(o, "CustomFields", cfs))
		goto fail;
	json_decref(cfs);
	return o;
fail:
	json_decref(o);
	json_decref(cfs);
	return NULL;
}

/* The messages of a PUT answer, joined, for a reason. */
static void messages(json_t *j, char *buf, size_t len)
{
	size_t i, at = 0;
	json_t *m;
	buf[0] = '\0';
	json_array_foreach(j, i, m) {
		const char *s = json_string_value(m);
		if (s && at < len)
			at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? "; " : "", s);
	}
}

/* After a write: every written field must read back as written. */
static enum cc_result verify(struct rt *r, const struct cc_write *w, bool skip_status,
                             const struct cc_observation *o, const char *msgs,
                             struct cc_call *call)
{
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		const char *rn = remote_name(r, f);
		if (!rn || !w->values[f] || (skip_status && strcasecmp(rn, "Status") == 0))
			continue;
		const char *got = o->fields[f].present ? o->fields[f].value : "";
		if (!cc_same_text(got, w->values[f]))
			return cc_call_fail(call, CC_ERROR, "rt: %s not set to '%.40s' (is '%.40s'): %.60s",
			                    rn, w->values[f], got, msgs && msgs[0] ? msgs : "no message");
	}
	return CC_OK;
}

/*
 * PUT /ticket/ID; with expected_rv (not 0) it carries If-Match: "<rv>" and
 * RT applies it only while the ticket's newest transaction is still that
 * one (412: CONFLICT).
 */
static enum cc_result put_ticket(struct rt *r, const char *id, json_t *body, uint64_t expected_rv,
                                 char *msgs, size_t mlen, struct cc_call *call)
{
	char *path = cc_strf("/ticket/%s", id);
	char *b = json_dumps(body, JSON_COMPACT);
	char tag[24];
	snprintf(tag, sizeof(tag), "%" PRIu64, expected_rv);
	struct cc_http_response resp;
	bool oom = !path || !b;
	enum cc_result res = oom ? cc_call_fail(call, CC_RETRY, "rt: out of memory")
	                         : cc_http_request_if_match(r->http, "update", "PUT", path, b,
	                                                    expected_rv ? tag : NULL, &resp, call);
	free(path);
	free(b);
	if (oom)
		return res;
	if (res == CC_OK && resp.body && resp.len) {
		json_t *j = json_loadb(resp.body, resp.len, 0, NULL);
		messages(j, msgs, mlen);
		json_decref(j);
	}
	if (res == CC_CONFLICT)
		cc_call_fail(call, CC_CONFLICT, "rt: ticket %s changed since version %" PRIu64, id,
		             expected_rv);
	else if (res == CC_ERROR && resp.status == 404)
		/* gone (shredded): the engine's re-read finds it deleted */
		res = cc_call_fail(call, CC_CONFLICT, "rt: ticket %s is gone", id);
	cc_http_response_clear(&resp);
	return res;
}

static enum cc_result rt_create(void *self, const struct cc_write *w, struct cc_observation *out,
                                struct cc_call *call)
{
	struct rt *r = self;
	cc_observation_init(out);
	int nset;
	/*
	 * No Requestor (no autoreply mail); the status is set after the create,
	 * by an update, because RT accepts only its initial statuses at create.
	 */
	json_t *body = write_body(r, w, true, &nset);
	if (!body)
		return cc_call_fail(call, CC_RETRY, "rt: out of memory");
	json_object_set_new(body, "Queue", json_string(r->queue));
	if (w->correlation_id) {
		json_t *cfs = json_object_get(body, "CustomFields");
		if (!cfs) {
			cfs = json_object();
			json_object_set_new(body, "CustomFields", cfs);
		}
		json_object_set_new(cfs, r->cf, json_string(w->correlation_id));
	}
	json_t *j;
	enum cc_result res = req(r, "create", "POST", "/ticket", body, &j, NULL, call);
	json_decref(body);
	if (res != CC_OK)
		return res;
	uint64_t id = jid(json_object_get(j, "id"));
	json_decref(j);
	if (!id) {
		call->outcome_unknown = true;
		return cc_call_fail(call, CC_RETRY, "rt: create answered without a ticket id");
	}
	char idb[24];
	snprintf(idb, sizeof(idb), "%" PRIu64, id);
	int fs = -1;
	for (int f = 0; f < CC_MAX_FIELDS; f++)
		if (remote_name(r, f) && strcasecmp(remote_name(r, f), "Status") == 0 && w->values[f] &&
		    w->values[f][0] && strcasecmp(w->values[f], "new") != 0)
			fs = f;
	if (fs >= 0) {
		/* the ticket exists now: a failure here is left to the engine's
		 * next update (the status stays pending), never a second create */
		json_t *sb = json_object();
		char msgs[160];
		json_object_set_new(sb, "Status", json_string(w->values[fs]));
		put_ticket(r, idb, sb, 0, msgs, sizeof(msgs), call);
		json_decref(sb);
	}
	res = observe(r, idb, "create", out, call);
	if (res != CC_OK) {
		/* created, but not read back: the engine looks it up by correlation */
		call->outcome_unknown = true;
		return cc_call_fail(call, CC_RETRY, "rt: ticket %s created, read back failed", idb);
	}
	return CC_OK;
}

static enum cc_result rt_update(void *self, const struct cc_write *w, struct cc_observation *out,
                                struct cc_call *call)
{
	struct rt *r = self;
	cc_observation_init(out);
	enum cc_result res;
	/*
	 * Conditional on expected_rv: RT's ETag of a ticket is its newest
	 * transaction id, and the PUT carries If-Match with it (put_ticket).
	 */
	int nset;
	json_t *body = write_body(r, w, false, &nset);
	if (!body)
		return cc_call_fail(call, CC_RETRY, "rt: out of memory");
	if (w->correlation_id) {
		/* the origin ticket gets the case id too (its correlation field) */
		json_t *cfs = json_object_get(body, "CustomFields");
		if (!cfs) {
			cfs = json_object();
			json_object_set_new(body, "CustomFields", cfs);
		}
		json_object_set_new(cfs, r->cf, json_string(w->correlation_id));
		nset++;
	}
	char msgs[160] = "";
	if (nset) {
		res = put_ticket(r, w->remote_id, body, w->expected_rv, msgs, sizeof(msgs), call);
		if (res != CC_OK) {
			json_decref(body);
			return res;
		}
	}
	json_decref(body);
	res = observe(r, w->remote_id, "update", out, call);
	if (res != CC_OK) {
		call->outcome_unknown = true;
		return res;
	}
	if (out->deleted)
		return cc_call_fail(call, CC_ERROR, "rt: ticket %s is deleted or left the queue",
		                    w->remote_id);
	res = verify(r, w, false, out, msgs, call);
	if (res != CC_OK)
		cc_observation_clear(out);
	return res;
}

static enum cc_result rt_comment(void *self, const char *remote_id, const char *body,
                                 char **out_id, struct cc_call *call)
{
	struct rt *r = self;
	*out_id = NULL;
	/* a comment, not a correspondence: private, no mail to the requestors */
	json_t *b = json_pack("{s:s, s:s}", "Content", body, "ContentType", "text/plain");
	if (!b)
		return cc_call_fail(call, CC_RETRY, "rt: out of memory");
	char *cpath = cc_strf("/ticket/%s/comment", remote_id);
	enum cc_result res = req(r, "comment", "POST", cpath, b, NULL, NULL, call);
	free(cpath);
	json_decref(b);
	if (res != CC_OK)
		return res;
	/* The answer names no transaction: find ours among the newest attachments. */
	char *path = cc_strf("/ticket/%s/attachments?fields=TransactionId,Content,Creator"
	                  "&orderby=id&order=DESC&per_page=20", remote_id);
	json_t *j;
	res = req(r, "comment", "GET", path, NULL, &j, NULL, call);
	free(path);
	if (res != CC_OK) {
		call->outcome_unknown = true; /* written; the marker finds it later */
		return res;
	}
	if (!items_of(j)) {
		json_decref(j);
		call->outcome_unknown = true;
		return malformed(call, "comment", "no attachment items", remote_id);
	}
	size_t i;
	json_t *a;
	json_array_foreach(items_of(j), i, a) {
		const char *c = jstr(a, "Content");
		const char *who = juser(a, "Creator");
		if (!c || !cc_same_text(c, body) || (r->iuser && who && strcmp(who, r->iuser) != 0))
			continue;
		*out_id = cc_strf("%" PRIu64, jid(json_object_get(a, "TransactionId")));
		break;
	}
	json_decref(j);
	if (!*out_id) {
		call->outcome_unknown = true;
		return cc_call_fail(call, CC_RETRY, "rt: comment on %s written, its id not found",
		                    remote_id);
	}
	return CC_OK;
}

/* ---- webhook ----------------------------------------------------------- */

/*
 * The body RT's scrip posts for each ticket transaction (the peers' "Sync
 * webhook" scrip): {"ticket": ID, "transaction": ID, ...}. Only the ticket
 * id is believed: the ticket is read as it is now, unless the version this
 * connector returned last is already that transaction or newer.
 */
static enum cc_result rt_webhook(void *self, const char *body, size_t len, struct cc_page *pg,
                                 struct cc_call *call)
{
	struct rt *r = self;
	memset(pg, 0, sizeof(*pg));
	json_error_t e;
	json_t *j = json_loadb(body, len, 0, &e);
	if (!json_is_object(j)) {
		json_decref(j);
		return cc_call_fail(call, CC_ERROR, "rt: webhook body is not a JSON object (line %d: "
		                    "%.60s)", e.line, e.text);
	}
	uint64_t tid = jid(json_object_get(j, "ticket"));
	uint64_t txn = jid(json_object_get(j, "transaction"));
	json_decref(j);
	if (!tid)
		return cc_call_fail(call, CC_ERROR, "rt: webhook body names no ticket");
	char idb[24];
	snprintf(idb, sizeof(idb), "%" PRIu64, tid);
	if (txn && cc_seen_covers(&r->seen, idb, txn))
		return CC_OK; /* concord's own write, read back already */
	pg->items = calloc(1, sizeof(*pg->items));
	if (!pg->items)
		return cc_call_fail(call, CC_RETRY, "rt: out of memory");
	enum cc_result res = observe(r, idb, "webhook", &pg->items[0], call);
	if (res != CC_OK) {
		cc_page_clear(pg);
		return res;
	}
	pg->nitems = 1;
	return CC_OK;
}

static size_t rt_budget(void *self, struct cc_budget_line *out, size_t max)
{
	const struct rt *r = self;
	return cc_http_budget(r->http, out, max);
}

static void rt_destroy(void *self)
{
	struct rt *r = self;
	if (!r)
		return;
	cc_seen_clear(&r->seen);
	cc_prefetch_clear(&r->ahead);
	cc_http_client_destroy(r->http);
	free(r->queue);
	free(r->cf);
	free(r->iuser);
	cc_usermap_clear(&r->users);
	free(r);
}

static const struct cc_connector_ops rt_ops = {
	.version = CC_CONNECTOR_OPS_VERSION,
	.kind = "rt",
	.list_changes = rt_list,       /* the queue's transactions (first start: tickets) */
	.read = rt_read,               /* ticket, history, comment bodies */
	.find_by_correlation = rt_find, /* TicketSQL on the custom field */
	.create = rt_create,           /* POST /ticket, then the status */
	.update = rt_update,           /* version read, PUT /ticket/ID, read back */
	.add_comment = rt_comment,     /* POST /ticket/ID/comment */
	.webhook = rt_webhook,         /* the scrip's {"ticket": ID}: read the ticket */
	.budget = rt_budget,
	.destroy = rt_destroy,
};

static int rt_new(struct cc_connector *out, const struct cc_connector_setup *s, char *err,
                  size_t errlen)
{
	struct rt *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "rt: out of memory");
		return CC_ENOMEM;
	}
	r->cfg = s->cfg;
	r->system = s->system;
	r->queue = strdup(cc_setup_setting(s, "queue"));
	r->cf = strdup(cc_setup_setting(s, "correlation_field"));
	const char *iu = s->integration_user ? s->integration_user
	                                     : s->cfg->systems[s->system].integration_user;
	r->iuser = iu ? strdup(iu) : NULL;
	if (!r->queue || !r->cf || (iu && !r->iuser) || cc_usermap_init(&r->users, s)) {
		rt_destroy(r);
		snprintf(err, errlen, "rt: out of memory");
		return CC_ENOMEM;
	}
	if (!sql_safe(r->queue) || !sql_safe(r->cf) || strpbrk(r->cf, "{}")) {
		rt_destroy(r);
		snprintf(err, errlen, "rt: queue or correlation_field holds a quote or brace");
		return CC_EINVAL;
	}
	int rc = cc_setup_http_client(&r->http, s, "Authorization", "token ", err, errlen);
	if (rc) {
		rt_destroy(r);
		return rc;
	}
	out->ops = &rt_ops;
	out->self = r;
	return 0;
}

static const struct cc_setting_row rt_settings[] = {
	{ "queue", false, "General", "the queue whose tickets are synced" },
	{ "correlation_field", false, "ExternalRef",
	  "the ticket custom field that holds the case's correlation id" },
	{ NULL, false, NULL, NULL },
};

const struct cc_connector_kind cc_rt_kind = {
	.kind = "rt",
	.description = "Request Tracker 5, REST2 (docs/connectors/rt.md)",
	.create = rt_new,
	.settings = rt_settings,
};
