/*
 * Poll: one incremental poll of a system. The cursor is the newest remote
 * modification time seen, polled again with an overlap window (for
 * same-second changes and a lagging search index); pages follow keyset
 * order (mtime, id). The cursor advances only after every page's
 * observations were committed.
 */
#include "core/hub_internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PAGES_PER_POLL 1000
/* How far past the system's now a cursor may be before it is taken back. */
#define FUTURE_SLACK_S 60


static int save_state(struct cc_hub *h, int system)
{
	int rc = ST(h)->begin(SS(h));
	if (rc == CC_EOK)
		rc = ST(h)->system_state_save(SS(h), system, &h->sys[system].state);
	if (rc == CC_EOK)
		return ST(h)->commit(SS(h)) ? cc_hub_fail(h, CC_ESTORE, "commit") : CC_EOK;
	ST(h)->rollback(SS(h));
	return cc_hub_fail(h, rc, "system_state_save");
}

int cc_hub_webhook(struct cc_hub *h, int system, const char *body, size_t len, bool *handled,
                   bool *retry)
{
	struct cc_connector *cn = &h->conn[system];
	*handled = false;
	if (retry)
		*retry = false;
	if (!cn->ops || cn->ops->version < 2 || !cn->ops->webhook)
		return CC_EOK;
	struct cc_page pg = { 0 };
	struct cc_call call;
	cc_hub_call_init(h, &call);
	enum cc_result r = cn->ops->webhook(cn->self, body, len, &pg, &call);
	call.recv_ms = cc_hub_now(h);
	/* a body naming nothing of ours may make no request: count none then */
	if (call.requests > 0 || r != CC_OK)
		cc_hub_count_call(h, system, &call);
	if (r != CC_OK) {
		if (retry)
			*retry = r == CC_RETRY;
		cc_page_clear(&pg);
		return CC_EOK;
	}
	for (size_t i = 0; i < pg.nitems; i++)
		pg.items[i].system = system;
	int rc = pg.nitems ? cc_hub_ingest_batch(h, pg.items, pg.nitems) : CC_EOK;
	cc_page_clear(&pg);
	*handled = rc == CC_EOK;
	return rc;
}

int64_t cc_hub_next_poll(const struct cc_hub *h, int system)
{
	const struct sys_runtime *rt = &h->sys[system];
	int64_t t = rt->next_poll_ms;
	return t && t < rt->open_until_ms ? rt->open_until_ms : t;
}

/*
 * A failed poll: after the nth failure in a row the next poll waits the
 * interval times 2^n, "equal jitter" (half fixed, half random), up to the
 * larger of the interval and CC_POLL_BACKOFF_MAX_MS; the breaker counts it.
 * A system that asked to be left alone (Retry-After, or a poll not sent
 * while such a hold lasts) is polled again when it said: a failed poll for
 * the status, but no failure of the system for the backoff or the breaker
 * (with deliveries at once, any of several calls in flight may be answered
 * 429; counted as failures, those holds grew the backoff of a healthy
 * system to minutes and kept creates waiting for its next poll).
 */
static void poll_failed(struct cc_hub *h, int system, int64_t started, int64_t retry_after_ms)
{
	struct sys_runtime *rt = &h->sys[system];
	int64_t interval = h->cfg->systems[system].poll_interval_ms;
	int64_t cap = interval > CC_POLL_BACKOFF_MAX_MS ? interval : CC_POLL_BACKOFF_MAX_MS;
	h->stats.poll_failures++;
	rt->poll_failures++;
	if (retry_after_ms > 0) {
		int64_t until = cc_hub_now(h) + retry_after_ms;
		rt->next_poll_ms = until;
		if (until > rt->not_before_ms)
			rt->not_before_ms = until; /* deliveries wait for it too */
		return;
	}
	rt->poll_backoffs++;
	int64_t d = interval > 0 ? interval : 1000;
	for (int i = 0; i < rt->poll_backoffs && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	int64_t half = d / 2;
	d = half + (int64_t)(h->env.random(h->env.ctx) % (uint64_t)(half + 1));
	rt->next_poll_ms = started + d;
	cc_hub_breaker_failure(h, system, rt->poll_backoffs);
}

/*
 * The poll itself. away: a job of a round (cc_hub_poll_and_deliver) that
 * lets go of the hub during each page's connector call, and wakes the
 * workers waiting for what each page brought.
 */
static int poll_run(struct cc_hub *h, int system, bool away)
{
	struct sys_runtime *rt = &h->sys[system];
	const struct cc_system_def *sd = &h->cfg->systems[system];
	struct cc_connector *cn = &h->conn[system];
	int64_t started = cc_hub_now(h);
	/*
	 * A cursor in the system's future (its clock went back, or an answer
	 * claimed a time to come before this rule existed) would hide every
	 * later change: it starts again from the system's now.
	 */
	if (rt->state.has_cursor && cc_offset_known(&rt->state.offset)) {
		int64_t remote_now = (started + cc_offset_estimate(&rt->state.offset)) / 1000;
		if (rt->state.cursor_mtime_s > remote_now + FUTURE_SLACK_S) {
			rt->state.cursor_mtime_s = remote_now;
			h->stats.cursor_resets++;
		}
	}
	/* No cursor yet: everything the system holds (first start). */
	int64_t since = rt->state.has_cursor ? rt->state.cursor_mtime_s - sd->poll_overlap_s
	                                     : INT64_MIN;
	int64_t newest = rt->state.has_cursor ? rt->state.cursor_mtime_s : INT64_MIN;
	int64_t after_mtime = 0;
	char *after_id = NULL;
	int rc = CC_EOK;
	size_t page_size = sd->page_size ? sd->page_size : 100;

	h->stats.polls++;
	h->stats.polls_of[system]++;
	int64_t remote_now_s = INT64_MIN; /* the system's clock when the poll began */
	for (int page = 0; page < MAX_PAGES_PER_POLL; page++) {
		struct cc_page pg = { 0 };
		struct cc_call call;
		cc_hub_call_init(h, &call);
		if (away)
			h->env.unlock(h->env.ctx);
		enum cc_result r = cn->ops->list_changes(cn->self, since, after_mtime, after_id,
		                                         page_size, &pg, &call);
		if (away)
			h->env.lock(h->env.ctx);
		call.recv_ms = cc_hub_now(h);
		cc_hub_count_call(h, system, &call);
		if (page == 0 && call.has_date)
			remote_now_s = call.date_s;
		if (r == CC_OK && !call.has_date && !cc_offset_known(&rt->state.offset)) {
			/*
			 * A system that answers without a Date header (Redmine
			 * behind thin) is dated only by its writes' timestamps;
			 * until one exists its clock is taken to be the hub's
			 * within clock_uncertainty, so that a first start on
			 * records nobody wrote through concord is not stuck.
			 */
			cc_offset_assume_zero(&rt->state.offset, h->cfg->clock_uncertainty_ms);
		}
		if (r != CC_OK) {
			if (!cc_hub_stopping(h))
				poll_failed(h, system, started, call.retry_after_ms);
			cc_page_clear(&pg);
			free(after_id);
			return CC_EOK; /* cursor unchanged: the next poll covers it */
		}
		/* One page, one transaction (group commit). */
		for (size_t i = 0; i < pg.nitems; i++) {
			pg.items[i].system = system;
			if (pg.items[i].mtime_s > newest)
				newest = pg.items[i].mtime_s;
		}
		if (pg.next_id && pg.next_mtime_s > newest)
			newest = pg.next_mtime_s;
		rc = cc_hub_ingest_batch(h, pg.items, pg.nitems);
		if (away && pg.nitems)
			h->env.wake(h->env.ctx);
		bool more = pg.more && (pg.nitems > 0 || pg.next_id);
		if (more) {
			struct cc_observation *last = &pg.items[pg.nitems ? pg.nitems - 1 : 0];
			const char *id = pg.next_id ? pg.next_id : last->remote_id;
			int64_t m = pg.next_id ? pg.next_mtime_s : last->mtime_s;
			if (after_id && m == after_mtime && strcmp(id, after_id) == 0) {
				more = false; /* no progress: the next poll goes on */
			} else {
				free(after_id);
				after_id = strdup(id);
				after_mtime = m;
				if (!after_id)
					rc = CC_ENOMEM;
			}
		}
		cc_page_clear(&pg);
		if (rc || !more)
			break;
		if (cc_hub_stopping(h)) {
			free(after_id);
			return CC_EOK; /* the rest at the next start, from the same cursor */
		}
	}
	free(after_id);
	if (rc)
		return rc;
	cc_hub_crash_point(h, "poll-before-cursor");
	/*
	 * Everything changed before (poll time - search lag) was visible to
	 * this poll, so the cursor may move there even when nothing changed:
	 * the overlap window then follows the clock, and an idle system costs
	 * one request per poll instead of re-reading the last burst forever.
	 */
	if (remote_now_s == INT64_MIN && cc_offset_known(&rt->state.offset))
		remote_now_s = (started + cc_offset_estimate(&rt->state.offset)) / 1000;
	if (remote_now_s != INT64_MIN) {
		int64_t settled = remote_now_s - (sd->search_lag_ms + 999) / 1000 - 1;
		if (settled > newest)
			newest = settled;
		/* a record claiming a time to come never takes the cursor past now */
		if (newest > remote_now_s)
			newest = remote_now_s;
	}
	if (newest != INT64_MIN) {
		rt->state.cursor_mtime_s = newest;
		rt->state.has_cursor = true;
	}
	rt->state.last_poll_start_ms = started;
	rt->poll_failures = 0;
	rt->poll_backoffs = 0;
	rt->next_poll_ms = started + sd->poll_interval_ms;
	return save_state(h, system);
}

int cc_hub_poll(struct cc_hub *h, int system)
{
	return poll_run(h, system, false);
}

int cc_hub_poll_away(struct cc_hub *h, int system)
{
	return poll_run(h, system, true);
}
