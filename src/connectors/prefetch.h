/*
 * Reads sent ahead, all at once: before a connector observes the records
 * of a poll page one by one, it sends the GET requests it knows each
 * observation starts with as one concurrent batch (the HTTP client's
 * multi interface, up to its max_concurrency per system), and its request
 * function then takes the answer from here instead of sending again.
 * The observation code stays sequential and unchanged; only the waiting
 * overlaps.
 *
 * Ownership: the table owns the paths and the answers until taken (the
 * taker owns a taken answer) or cleared. One thread at a time.
 */
#ifndef CC_CONNECTORS_PREFETCH_H
#define CC_CONNECTORS_PREFETCH_H

#include "http/client.h"

struct cc_prefetch {
	struct cc_http_batch_item *items;
	char **paths;
	bool *taken;
	size_t n;
};

/*
 * Sends GET `paths[i]` (n of them, borrowed) at once and adds the answers
 * to the table; returns when all have ended, so a second run is sent only
 * after the first one's answers are in (an order a connector may need).
 * `op` names them for the API budget; call->requests grows by the
 * requests sent. Out of memory sends fewer (each read left out is then
 * simply sent when it is made).
 */
void cc_prefetch_run(struct cc_prefetch *p, struct cc_http_client *c, const char *op,
                     char *const *paths, size_t n, struct cc_call *call);

/*
 * When GET `path` was sent ahead and not taken yet: moves its answer into
 * *resp (release with cc_http_response_clear), sets call's result, reason,
 * retry_after_ms, outcome_unknown and date as cc_http_request would, and
 * returns true. Otherwise false and nothing is touched.
 */
bool cc_prefetch_take(struct cc_prefetch *p, const char *method, const char *path,
                      struct cc_http_response *resp, struct cc_call *call);

void cc_prefetch_clear(struct cc_prefetch *p);

#endif
