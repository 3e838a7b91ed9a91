/*
 * The Request Tracker 5 connector: REST2 (/REST/2.0) over the HTTP client,
 * built on the HTTP connector base (connectors/base.h), which does the
 * paged keyset search, the seen cache, the reads sent ahead, read, the
 * budget and the connector's life; this file says what RT's API makes
 * different.
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

#include "connectors/base.h"
#include "core/iso8601.h"
#include "http/client.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
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
	struct cc_connector_base base; /* first: self is the base too (base.h) */
	char *queue;            /* queue name */
	char *cf;               /* correlation custom field name */
	char queue_id[32];      /* resolved once */
	bool etags;             /* a ticket answer carried its ETag: reads may go at once */
};

/* ---- requests ---------------------------------------------------------- */

/*
 * One request (path taken); on OK with a body, *out is its JSON (caller
 * decrefs). *status is the HTTP status (0 without an answer).
 */
static enum cc_result req(struct rt *r, const char *op, const char *method, char *path,
                          json_t *body, json_t **out, long *status, struct cc_call *call)
{
	return cc_base_request(&r->base, op, method, path, body, out, status, call);
}

/* A user reference {"id": "root", ...} or a plain string. */
static const char *juser(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (json_is_object(v))
		return cc_json_text(v, "id");
	return json_string_value(v);
}

static enum cc_result malformed(struct rt *r, struct cc_call *call, const char *op,
                                const char *what, const char *id)
{
	return cc_base_malformed(&r->base, call, op, what, id);
}

/* TicketSQL string literals: quotes and backslashes are refused, not escaped. */
static bool sql_safe(const char *s)
{
	return s && !strpbrk(s, "'\\");
}

/* The queue's id, looked up once (the base's `prepare`). */
static enum cc_result ensure_queue(struct cc_connector_base *b, struct cc_call *call)
{
	struct rt *r = (struct rt *)b;
	if (r->queue_id[0])
		return CC_OK;
	char *q = cc_http_escape(r->queue);
	char *path = q ? cc_strf("/queue/%s", q) : NULL;
	free(q);
	json_t *j;
	enum cc_result res = req(r, "read", "GET", path, NULL, &j, NULL, call);
	if (res != CC_OK)
		return res;
	uint64_t id = cc_json_id(json_object_get(j, "id"));
	json_decref(j);
	if (!id)
		return malformed(r, call, "read", "no id", "the queue");
	snprintf(r->queue_id, sizeof(r->queue_id), "%" PRIu64, id);
	return CC_OK;
}

/* ---- values ------------------------------------------------------------ */

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
	return cc_json_named(json_object_get(ticket, "CustomFields"), name);
}

/* The first value of a custom field, NULL when the ticket has none. */
static const char *cf_value(json_t *ticket, const char *name)
{
	json_t *c = cf_entry(ticket, name);
	return c ? json_string_value(json_array_get(json_object_get(c, "values"), 0)) : NULL;
}

/* A ticket being observed: its answer, and per field the custom field id its history uses. */
struct ticket {
	struct rt *r;
	json_t *t;
	char cfid[CC_MAX_FIELDS][24];
};

/*
 * The value of one mapped field in remote terms (a user field in the
 * person's terms through the user map); *present false when the ticket
 * has no such field. Returns a new string or NULL (absent or no memory).
 */
static char *ticket_value(void *ctx, int f, const char *rn, bool *present)
{
	struct ticket *tk = ctx;
	struct rt *r = tk->r;
	json_t *t = tk->t;
	char nbuf[128], num[64];
	const char *cfn = cf_of(rn, nbuf, sizeof(nbuf));
	*present = false;
	if (cfn) {
		json_t *c = cf_entry(t, cfn);
		if (!c)
			return NULL;
		*present = true;
		snprintf(tk->cfid[f], sizeof(tk->cfid[f]), "%" PRIu64,
		         cc_json_id(json_object_get(c, "id")));
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
			const char *s = json_is_object(e) ? cc_json_text(e, "id")
			                                  : cc_json_str(e, num, sizeof(num));
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
	if (out && cc_base_user_field(&r->base, f)) {
		const char *p = (strcmp(out, "Nobody") == 0) ? "" : cc_usermap_person(&r->base.users, out);
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

/* Gives the comment transactions of *tx the attachment a, when it is their body. */
static int take_body(struct txns *tx, json_t *a)
{
	uint64_t txid = cc_json_id(json_object_get(a, "TransactionId"));
	const char *ct = cc_json_text(a, "ContentType");
	const char *content = cc_json_text(a, "Content");
	if (!ct || !content)
		return 0;
	bool plain = strcasecmp(ct, "text/plain") == 0;
	if (!plain && strcasecmp(ct, "text/html") != 0)
		return 0;
	for (size_t k = 0; k < tx->n; k++) {
		struct comment_txn *c = &tx->c[k];
		if (strtoull(c->id, NULL, 10) != txid || (c->body && (c->plain || !plain)))
			continue;
		char *d = strdup(content);
		if (!d)
			return CC_ENOMEM;
		free(c->body);
		c->body = d;
		c->plain = plain;
	}
	return 0;
}

/* Reads the comment bodies of the comment transactions in *tx. */
static enum cc_result read_bodies(struct rt *r, const char *id, struct txns *tx,
                                  struct cc_call *call)
{
	for (int page = 1; page <= MAX_ATTACH_PAGES; page++) {
		json_t *j, *items;
		enum cc_result res = cc_base_get_array(
			&r->base, "read",
			cc_strf("/ticket/%s/attachments?fields=TransactionId,ContentType,Content"
			        "&orderby=id&order=ASC&per_page=%d&page=%d", id, PER_PAGE, page),
			"items", &j, &items, "no attachment items", id, call);
		if (res != CC_OK)
			return res;
		size_t i;
		json_t *a;
		json_array_foreach(items, i, a) {
			if (!json_is_object(a)) {
				json_decref(j);
				return malformed(r, call, "read", "an attachment is not an object", id);
			}
			if (take_body(tx, a)) {
				json_decref(j);
				return cc_base_oom(&r->base, call);
			}
		}
		bool bad;
		bool more = cc_json_more_pages(j, "pages", page, json_array_size(items), PER_PAGE, &bad);
		json_decref(j);
		if (bad)
			return malformed(r, call, "read", "pages is not a number", id);
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
			uint64_t xid = cc_json_id(json_object_get(x, "id"));
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
		json_t *j;
		long status;
		enum cc_result res = req(r, op, "GET", cc_strf(HISTORY_PATH, id, PER_PAGE, page), NULL,
		                         &j, &status, call);
		if (res != CC_OK && status == 404 && page == 1) {
			*gone = true;
			call->result = CC_OK;
			call->reason[0] = '\0';
			return CC_OK;
		}
		if (res != CC_OK)
			return res;
		json_t *items = cc_json_array(j, "items");
		size_t i;
		json_t *x;
		bool ok = items != NULL;
		json_array_foreach(items, i, x) {
			int64_t when;
			/* every transaction has an id and a time */
			if (!json_is_object(x) || !cc_json_id(json_object_get(x, "id")) ||
			    !cc_json_time(x, "Created", &when))
				ok = false;
		}
		bool bad = false;
		bool more = ok && cc_json_more_pages(j, "pages", page, json_array_size(items), PER_PAGE,
		                                     &bad);
		if (!ok || bad) {
			json_decref(j);
			return malformed(r, call, op, !items ? "no history items"
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
 * The history read, then the ticket into *t, again while the ticket's ETag
 * is not the history's newest transaction (at most three times). *gone
 * when RT answers 404 to either.
 */
static enum cc_result read_pair(struct rt *r, const char *id, const char *op,
                                struct history *h, json_t **t, bool *gone,
                                struct cc_call *call)
{
	for (int attempt = 1;; attempt++) {
		enum cc_result res = read_history(r, id, op, h, gone, call);
		if (res != CC_OK || *gone)
			return res;
		char *path = cc_strf("/ticket/%s", id);
		char tag[32];
		long status = 0;
		res = cc_request_json(r->base.http, &r->base.ahead, "rt", op, "GET", path, NULL, t,
		                      &status, tag, sizeof(tag), call);
		free(path);
		*gone = res != CC_OK && status == 404;
		/*
		 * The ticket's ETag is its newest transaction: when it is not the
		 * history's, a transaction committed between the two reads (the
		 * values would be newer than the version and the field times):
		 * read both again.
		 */
		uint64_t etag = strtoull(tag, NULL, 10);
		if (etag)
			r->etags = true;
		if (res != CC_OK || *gone || !etag || etag == history_newest(h))
			return res;
		if (attempt == 3)
			return cc_call_fail(call, CC_RETRY, "rt: ticket %s changed during every read", id);
		history_clear(h);
		json_decref(*t);
		*t = NULL;
	}
}

/* The history: field times and authors, the newest transaction, comments into *tx. */
static int take_history(struct rt *r, const struct history *h, const struct ticket *tk,
                        struct cc_observation *out, struct txns *tx)
{
	for (int p = 0; p < h->n; p++) {
		size_t i;
		json_t *x;
		json_array_foreach(json_object_get(h->page[p], "items"), i, x) {
			uint64_t xid = cc_json_id(json_object_get(x, "id"));
			const char *type = cc_json_text(x, "Type");
			const char *field = cc_json_text(x, "Field");
			const char *who = juser(x, "Creator");
			int64_t when = 0;
			cc_json_time(x, "Created", &when); /* checked by read_history */
			if (xid > out->rv)
				out->rv = xid;
			if (!type)
				continue;
			if (strcmp(type, "Comment") == 0 || strcmp(type, "Correspond") == 0) {
				if (txns_add(tx, xid, who, when))
					return CC_ENOMEM;
				continue;
			}
			if (!field || !field[0] || strcmp(type, "Create") == 0)
				continue;
			for (int f = 0; f < CC_MAX_FIELDS; f++) {
				const char *rn = cc_base_remote_name(&r->base, f);
				if (!rn || !out->fields[f].present)
					continue;
				bool hit = tk->cfid[f][0] ? strcmp(type, "CustomField") == 0 &&
				                                    strcmp(field, tk->cfid[f]) == 0
				                          : strcasecmp(field, rn) == 0;
				if (hit && cc_base_field_changed(out, f, who, when))
					return CC_ENOMEM;
			}
		}
	}
	return 0;
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
static enum cc_result observe(struct cc_connector_base *b, const char *id, const char *op,
                              struct cc_observation *out, struct cc_call *call)
{
	struct rt *r = (struct rt *)b;
	enum cc_result res;
	struct ticket tk = { .r = r };
	struct txns tx = { 0 };
	struct history h = { .n = 0 };
	bool gone = false;
	out->remote_id = strdup(id);
	if (!out->remote_id) {
		res = cc_base_oom(b, call);
		goto out;
	}
	res = read_pair(r, id, op, &h, &tk.t, &gone, call);
	if (gone) {
		cc_base_gone(out, call); /* gone for good (shredded) */
		res = CC_OK;
		goto out;
	}
	if (res != CC_OK)
		goto out;
	json_t *t = tk.t;
	const char *qid = juser(t, "Queue");
	if (!json_is_object(t) || !cc_json_time(t, "LastUpdated", &out->mtime_s) ||
	    !cc_json_time(t, "Created", &out->created_s) || !qid ||
	    (json_object_get(t, "CustomFields") && !json_is_array(json_object_get(t, "CustomFields")))) {
		res = malformed(r, call, op, !json_is_object(t) ? "the ticket is not an object"
		                             : !qid ? "the ticket has no queue"
		                                    : "the ticket's times or custom fields", id);
		goto out;
	}
	const char *corr = cf_value(t, r->cf);
	if (corr && corr[0] && !(out->correlation_id = strdup(corr))) {
		res = cc_base_oom(b, call);
		goto out;
	}
	const char *st = cc_json_text(t, "Status");
	uint64_t eff = cc_json_id(json_object_get(json_object_get(t, "EffectiveId"), "id"));
	out->deleted = (st && strcmp(st, "deleted") == 0) || !qid ||
	               strcmp(qid, r->queue_id) != 0 || (eff && eff != strtoull(id, NULL, 10));
	/* the values, then the history: field times and authors, the newest
	 * transaction, comments */
	if (cc_base_fill_fields(b, out, juser(t, "Creator"), ticket_value, &tk) ||
	    take_history(r, &h, &tk, out, &tx)) {
		res = cc_base_oom(b, call);
		goto out;
	}
	if (tx.n) {
		res = read_bodies(r, id, &tx, call);
		if (res != CC_OK)
			goto out;
		for (size_t k = 0; k < tx.n; k++) {
			if (cc_observation_add_comment(out, tx.c[k].id, tx.c[k].body ? tx.c[k].body : "",
			                               tx.c[k].author, tx.c[k].created_s)) {
				res = cc_base_oom(b, call);
				goto out;
			}
		}
	}
	res = CC_OK;
out:
	json_decref(tk.t);
	history_clear(&h);
	txns_clear(&tx);
	if (res != CC_OK)
		cc_observation_clear(out);
	else
		cc_seen_put(b->seen, id, out->rv);
	return res;
}

/* ---- list_changes ------------------------------------------------------ */

/*
 * One page of the listing. The first start lists the queue's tickets
 * changed since from_s, by LastUpdated (one row per ticket). Later polls
 * list the transactions since from_s of the queue's tickets, and those
 * that took a ticket out of the queue (a deleted ticket keeps its queue;
 * RT's ticket search never shows deleted tickets, its transaction search
 * does): one request when nothing changed; a ticket's key is its newest
 * listed transaction, time and id (its exact version).
 */
static enum cc_result fetch(struct cc_connector_base *b, struct cc_listing *l, int page,
                            struct cc_call *call)
{
	struct rt *r = (struct rt *)b;
	bool first = l->since_s < 0;
	char when[32];
	cc_format_utc(when, sizeof(when), l->from_s, false);
	l->events = !first;
	char *q = first ? cc_strf("Queue = '%s' AND LastUpdated >= '%s'", r->queue, when)
	                : cc_strf("ObjectType = 'RT::Ticket' AND Created >= '%s' AND (TicketQueue = "
	                          "%s OR (Field = 'Queue' AND OldValue = '%s'))", when, r->queue_id,
	                          r->queue_id);
	char *qe = q ? cc_http_escape(q) : NULL;
	free(q);
	char *path = !qe ? NULL
	             : first ? cc_strf("/tickets?query=%s&fields=LastUpdated&orderby=LastUpdated"
	                               "&orderby=id&order=ASC&order=ASC&per_page=%d&page=%d", qe,
	                               PER_PAGE, page)
	                     : cc_strf("/transactions?query=%s&fields=ObjectId,Created&orderby=Created"
	                               "&orderby=id&order=ASC&order=ASC&per_page=%d&page=%d", qe,
	                               PER_PAGE, page);
	free(qe);
	json_t *j;
	enum cc_result res = req(r, "list", "GET", path, NULL, &j, NULL, call);
	if (res != CC_OK)
		return res;
	json_t *items = cc_json_array(j, "items");
	bool bad = false;
	l->more = items && cc_json_more_pages(j, "pages", page, json_array_size(items), PER_PAGE,
	                                      &bad);
	const char *what = !items ? (first ? "no items in the ticket search"
	                                   : "no items in the transaction search")
	                   : bad ? "pages is not a number" : NULL;
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) {
		if (what)
			break;
		/* a ticket row: its id; a transaction row: its ticket and its own id */
		uint64_t tno = cc_json_id(json_object_get(it, first ? "id" : "ObjectId"));
		uint64_t x = first ? 0 : cc_json_id(json_object_get(it, "id"));
		int64_t m;
		char tid[24];
		if (!tno || (!first && !x) || !cc_json_time(it, first ? "LastUpdated" : "Created", &m)) {
			what = first ? "a ticket without id or LastUpdated"
			             : "a transaction without id, ticket or time";
			break;
		}
		snprintf(tid, sizeof(tid), "%" PRIu64, tno);
		if (cc_listing_add(l, tid, m, x)) {
			json_decref(j);
			return cc_base_oom(b, call);
		}
	}
	json_decref(j);
	return what ? malformed(r, call, "list", what, NULL) : CC_OK;
}

/*
 * Once RT was seen to send the ticket's ETag, a ticket's two reads may go
 * at once: whichever answers first, a transaction between them shows as an
 * ETag that is not the history's newest, and both are read again. Without
 * the ETag, the history must be read first (observe's comment).
 */
static bool reads_at_once(struct cc_connector_base *b)
{
	return ((struct rt *)b)->etags;
}

/* The first reads of a ticket's observation, sent ahead: every history, then every ticket. */
static char *read_path(struct cc_connector_base *b, const char *id, int pass)
{
	(void)b;
	return pass == 0 ? cc_strf(HISTORY_PATH, id, PER_PAGE, 1)
	       : pass == 1 ? cc_strf("/ticket/%s", id) : NULL;
}

/* ---- find and writes --------------------------------------------------- */

/*
 * The ticket carrying the correlation id, in every queue: a copy moved
 * elsewhere still stops a second create.
 */
static enum cc_result lookup(struct cc_connector_base *b, const char *corr, char *id,
                             struct cc_call *call)
{
	struct rt *r = (struct rt *)b;
	if (!sql_safe(corr))
		return cc_call_fail(call, CC_ERROR, "rt: correlation id with a quote");
	char *q = cc_strf("'CF.{%s}' = '%s'", r->cf, corr);
	char *qe = q ? cc_http_escape(q) : NULL;
	free(q);
	json_t *j, *items;
	enum cc_result res = cc_base_get_array(
		b, "find", qe ? cc_strf("/tickets?query=%s&orderby=id&order=ASC&per_page=5", qe) : NULL,
		"items", &j, &items, "no items, or an item without id", corr, call);
	free(qe);
	if (res != CC_OK)
		return res;
	json_t *first = json_array_get(items, 0);
	uint64_t found = cc_json_id(json_object_get(first, "id"));
	json_decref(j);
	if (found)
		snprintf(id, CC_BASE_ID_MAX, "%" PRIu64, found);
	if (first && !found)
		return malformed(r, call, "find", "no items, or an item without id", corr);
	return CC_OK;
}

/* Sets the correlation custom field of a ticket write body. 0 or CC_ENOMEM. */
static int set_correlation(struct rt *r, json_t *body, const char *corr)
{
	json_t *cfs = json_object_get(body, "CustomFields");
	if (!cfs && json_object_set_new(body, "CustomFields", cfs = json_object()))
		return CC_ENOMEM;
	return json_object_set_new(cfs, r->cf, json_string(corr)) ? CC_ENOMEM : 0;
}

/*
 * The JSON of a ticket write: plain fields by name, user fields as the
 * account (through the user map; "" is Nobody), custom fields under
 * CustomFields, and the correlation id when w has one. Status is left out
 * when skip_status. *nset: the fields set.
 */
static json_t *write_body(struct rt *r, const struct cc_write *w, bool skip_status, int *nset)
{
	json_t *o = json_object();
	json_t *cfs = json_object();
	*nset = 0;
	if (!o || !cfs)
		goto fail;
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		const char *rn = cc_base_remote_name(&r->base, f);
		const char *v = w->values[f];
		if (!rn || !v)
			continue;
		if (skip_status && strcasecmp(rn, "Status") == 0)
			continue;
		char nbuf[128];
		const char *cfn = cf_of(rn, nbuf, sizeof(nbuf));
		if (cc_base_user_field(&r->base, f))
			v = v[0] ? cc_usermap_remote(&r->base.users, v) : "Nobody";
		if (json_object_set_new(cfn ? cfs : o, cfn ? cfn : rn, json_string(v)))
			goto fail;
		(*nset)++;
	}
	if (json_object_size(cfs) && json_object_set(o, "CustomFields", cfs))
		goto fail;
	json_decref(cfs);
	if (w->correlation_id && set_correlation(r, o, w->correlation_id)) {
		json_decref(o);
		return NULL;
	}
	*nset += w->correlation_id != NULL;
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

/*
 * PUT /ticket/ID; with expected_rv (not 0) it carries If-Match: "<rv>" and
 * RT applies it only while the ticket's newest transaction is still that
 * one (412: CONFLICT). msgs gets RT's messages about the write.
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
	enum cc_result res = oom ? cc_base_oom(&r->base, call)
	                         : cc_http_request_if_match(r->base.http, "update", "PUT", path, b,
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

/*
 * The ticket to POST in the queue, with the correlation id. No Requestor
 * (no autoreply mail); the status is set after the create, by an update,
 * because RT accepts only its initial statuses at create.
 */
static enum cc_result create_body(struct cc_connector_base *b, const struct cc_write *w,
                                  json_t **body, struct cc_call *call)
{
	struct rt *r = (struct rt *)b;
	int nset;
	*body = write_body(r, w, true, &nset);
	if (!*body || json_object_set_new(*body, "Queue", json_string(r->queue)))
		return cc_base_oom(b, call);
	return CC_OK;
}

/* The status after the create (unless it is `new`), then the ticket as it is. */
static enum cc_result created(struct cc_connector_base *b, const struct cc_write *w,
                              const char *id, struct cc_observation *out, struct cc_call *call)
{
	struct rt *r = (struct rt *)b;
	int fs = -1;
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		const char *rn = cc_base_remote_name(b, f);
		if (rn && strcasecmp(rn, "Status") == 0 && w->values[f] && w->values[f][0] &&
		    strcasecmp(w->values[f], "new") != 0)
			fs = f;
	}
	if (fs >= 0) {
		/* the ticket exists now: a failure here is left to the engine's
		 * next update (the status stays pending), never a second create */
		json_t *sb = json_object();
		char msgs[160];
		json_object_set_new(sb, "Status", json_string(w->values[fs]));
		put_ticket(r, id, sb, 0, msgs, sizeof(msgs), call);
		json_decref(sb);
	}
	return cc_base_observe(b, id, "create", out, call);
}

/*
 * Conditional on expected_rv: RT's ETag of a ticket is its newest
 * transaction id, and the PUT carries If-Match with it (put_ticket). The
 * origin ticket gets the case id too (its correlation field).
 */
static enum cc_result write(struct cc_connector_base *b, const struct cc_write *w, bool *wrote,
                            char *why, size_t why_len, struct cc_call *call)
{
	struct rt *r = (struct rt *)b;
	int nset;
	json_t *body = write_body(r, w, false, &nset);
	if (!body)
		return cc_base_oom(b, call);
	*wrote = nset > 0;
	enum cc_result res = nset ? put_ticket(r, w->remote_id, body, w->expected_rv, why, why_len,
	                                       call)
	                          : CC_OK;
	json_decref(body);
	return res;
}

/* A comment, not a correspondence: private, no mail to the requestors. */
static enum cc_result comment(struct cc_connector_base *b, const char *id, const char *body,
                              struct cc_call *call)
{
	json_t *j = json_pack("{s:s, s:s}", "Content", body, "ContentType", "text/plain");
	if (!j)
		return cc_base_oom(b, call);
	enum cc_result res = req((struct rt *)b, "comment", "POST",
	                         cc_strf("/ticket/%s/comment", id), j, NULL, NULL, call);
	json_decref(j);
	return res;
}

/*
 * The answer names no transaction: ours is the newest attachment whose
 * content is the body and whose creator is the integration user.
 */
static enum cc_result comment_id(struct cc_connector_base *b, const char *id, const char *body,
                                 char **out_id, struct cc_call *call)
{
	json_t *j, *items;
	enum cc_result res = cc_base_get_array(
		b, "comment", cc_strf("/ticket/%s/attachments?fields=TransactionId,Content,Creator"
		                      "&orderby=id&order=DESC&per_page=20", id),
		"items", &j, &items, "no attachment items", id, call);
	if (res != CC_OK)
		return res;
	size_t i;
	json_t *a;
	json_array_foreach(items, i, a) {
		const char *c = cc_json_text(a, "Content");
		const char *who = juser(a, "Creator");
		if (!c || !cc_same_text(c, body) || (b->iuser && who && strcmp(who, b->iuser) != 0))
			continue;
		*out_id = cc_strf("%" PRIu64, cc_json_id(json_object_get(a, "TransactionId")));
		break;
	}
	json_decref(j);
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
	uint64_t tid = cc_json_id(json_object_get(j, "ticket"));
	uint64_t txn = cc_json_id(json_object_get(j, "transaction"));
	json_decref(j);
	if (!tid)
		return cc_call_fail(call, CC_ERROR, "rt: webhook body names no ticket");
	char idb[24];
	snprintf(idb, sizeof(idb), "%" PRIu64, tid);
	if (txn && cc_seen_covers(r->base.seen, idb, txn))
		return CC_OK; /* concord's own write, read back already */
	return cc_base_webhook_read(&r->base, idb, pg, call);
}

/* ---- the connector ------------------------------------------------------ */

static int init(struct cc_connector_base *b, const struct cc_connector_setup *s, char *err,
                size_t errlen)
{
	struct rt *r = (struct rt *)b;
	r->queue = strdup(cc_setup_setting(s, "queue"));
	r->cf = strdup(cc_setup_setting(s, "correlation_field"));
	if (!r->queue || !r->cf) {
		snprintf(err, errlen, "rt: out of memory");
		return CC_ENOMEM;
	}
	if (!sql_safe(r->queue) || !sql_safe(r->cf) || strpbrk(r->cf, "{}")) {
		snprintf(err, errlen, "rt: queue or correlation_field holds a quote or brace");
		return CC_EINVAL;
	}
	return 0;
}

static void clear(struct cc_connector_base *b)
{
	struct rt *r = (struct rt *)b;
	free(r->queue);
	free(r->cf);
}

/* RT as the HTTP connector base sees it (base.h), slots grouped by what they serve. */
static const struct cc_base_ops rt_base = {
	.who = "rt", .record = "ticket", .place = "queue", .size = sizeof(struct rt),
	.auth_name = "Authorization", .auth_prefix = "token ",
	.init = init, .clear = clear,
	/* polls: the queue's transactions (first start: its tickets); the
	 * listed transaction is the exact version (no `known`); the
	 * histories, then the tickets, sent ahead */
	.prepare = ensure_queue, .fetch = fetch, .read_path = read_path,
	.reads_at_once = reads_at_once,
	.observe = observe,            /* history, ticket (ETag checked), comment bodies */
	.lookup = lookup,              /* TicketSQL on the custom field, every queue */
	.create_path = "/ticket", .create_id = "id", .create_body = create_body,
	.created = created,            /* then the status, then the ticket read */
	.write = write,                /* PUT /ticket/ID with If-Match */
	.comment = comment, .comment_id = comment_id, /* POST .../comment, then the attachments */
	.webhook = rt_webhook,         /* the scrip's {"ticket": ID}: read the ticket */
};

static const struct cc_setting_row rt_settings[] = {
	{ "queue", false, "General", "the queue whose tickets are synced" },
	{ "correlation_field", false, "ExternalRef",
	  "the ticket custom field that holds the case's correlation id" },
	{ NULL, false, NULL, NULL },
};

const struct cc_connector_kind cc_rt_kind = CC_BASE_KIND(
	"rt", "Request Tracker 5, REST2 (docs/connectors/rt.md)", rt_settings, &rt_base);
