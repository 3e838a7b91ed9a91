/*
 * Reads sent ahead (see prefetch.h): one cc_http_request_many per run,
 * answers looked up by path with a linear scan (a poll page holds at
 * most a few hundred of them).
 */
#include "connectors/prefetch.h"

#include <stdlib.h>
#include <string.h>

void cc_prefetch_clear(struct cc_prefetch *p)
{
	for (size_t i = 0; i < p->n; i++) {
		if (!p->taken[i])
			cc_http_response_clear(&p->items[i].resp);
		free(p->paths[i]);
	}
	free(p->items);
	free(p->paths);
	free(p->taken);
	memset(p, 0, sizeof(*p));
}

void cc_prefetch_run(struct cc_prefetch *p, struct cc_http_client *c, const char *op,
                     char *const *paths, size_t n, struct cc_call *call)
{
	if (!n)
		return;
	size_t base = p->n, total = base + n;
	struct cc_http_batch_item *items = realloc(p->items, total * sizeof(*items));
	if (items)
		p->items = items;
	char **ps = items ? realloc(p->paths, total * sizeof(*ps)) : NULL;
	if (ps)
		p->paths = ps;
	bool *taken = ps ? realloc(p->taken, total * sizeof(*taken)) : NULL;
	if (!taken)
		return; /* nothing sent ahead: the reads go out one by one */
	p->taken = taken;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char *d = strdup(paths[i]);
		if (!d)
			break;
		struct cc_http_batch_item *it = &p->items[base + k];
		memset(it, 0, sizeof(*it));
		it->op = op;
		it->method = "GET";
		it->path = d;
		p->paths[base + k] = d;
		p->taken[base + k] = false;
		k++;
	}
	cc_http_request_many(c, p->items + base, k);
	p->n = base + k;
	for (size_t i = base; i < p->n; i++)
		call->requests += p->items[i].call.requests;
}

bool cc_prefetch_take(struct cc_prefetch *p, const char *method, const char *path,
                      struct cc_http_response *resp, struct cc_call *call)
{
	if (strcmp(method, "GET") != 0)
		return false;
	for (size_t i = 0; i < p->n; i++) {
		if (p->taken[i] || strcmp(p->paths[i], path) != 0)
			continue;
		const struct cc_call *got = &p->items[i].call;
		p->taken[i] = true;
		*resp = p->items[i].resp;
		memset(&p->items[i].resp, 0, sizeof(p->items[i].resp));
		call->result = got->result;
		call->outcome_unknown = got->outcome_unknown;
		call->retry_after_ms = got->retry_after_ms;
		memcpy(call->reason, got->reason, sizeof(call->reason));
		if (got->has_date) {
			call->has_date = true;
			call->date_s = got->date_s;
		}
		return true;
	}
	return false;
}
