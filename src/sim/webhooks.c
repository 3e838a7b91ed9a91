/*
 * Webhook bodies of the simulated systems (see webhooks.h).
 */
#include "sim/webhooks.h"

#include "sim/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sim_bodies_push(struct sim_bodies *b, const struct cc_observation *o)
{
	struct wire_buf w;
	wire_buf_init(&w);
	wire_put_obs(&w, o);
	if (w.oom) {
		wire_buf_free(&w);
		return CC_ENOMEM;
	}
	if (b->head + b->n == b->cap) {
		if (b->head) { /* room at the front: move down */
			memmove(b->q, b->q + b->head, b->n * sizeof(*b->q));
			b->head = 0;
		} else {
			size_t cap = b->cap ? b->cap * 2 : 16;
			struct sim_body *q = realloc(b->q, cap * sizeof(*q));
			if (!q) {
				wire_buf_free(&w);
				return CC_ENOMEM;
			}
			b->q = q;
			b->cap = cap;
		}
	}
	/* the encoding's buffer becomes the body */
	b->q[b->head + b->n++] = (struct sim_body){ o->system, (char *)w.p, w.len };
	return CC_EOK;
}

bool sim_bodies_take(struct sim_bodies *b, int system, char **body, size_t *len)
{
	for (size_t i = 0; i < b->n; i++) {
		struct sim_body *e = &b->q[b->head + i];
		if (e->system != system)
			continue;
		*body = e->body;
		*len = e->len;
		memmove(e, e + 1, (b->n - i - 1) * sizeof(*e));
		b->n--;
		return true;
	}
	return false;
}

bool sim_bodies_waiting(const struct sim_bodies *b)
{
	return b->n > 0;
}

void sim_bodies_clear(struct sim_bodies *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->q[b->head + i].body);
	free(b->q);
	memset(b, 0, sizeof(*b));
}

enum cc_result sim_webhook_op(void *self, const char *body, size_t len, struct cc_page *out,
                              struct cc_call *call)
{
	(void)self;
	memset(out, 0, sizeof(*out));
	struct wire_reader r;
	wire_reader_init(&r, body, len);
	out->items = calloc(1, sizeof(*out->items));
	if (!out->items) {
		call->result = CC_RETRY;
		snprintf(call->reason, sizeof(call->reason), "sim webhook: out of memory");
		return CC_RETRY;
	}
	if (wire_get_obs(&r, &out->items[0]) || !wire_done(&r)) {
		cc_page_clear(out);
		call->result = CC_ERROR;
		snprintf(call->reason, sizeof(call->reason), "sim webhook: body is not a record");
		return CC_ERROR;
	}
	out->nitems = 1;
	call->result = CC_OK;
	return CC_OK;
}
