/*
 * The daemon's HTTP listener (libmicrohttpd, one event thread with epoll):
 *
 *   GET  /health                  "ok"
 *   POST /webhook/SYSTEM          a webhook: authenticated first (below);
 *                                 then its body is queued for the main
 *                                 loop when the system's connector reads
 *                                 bodies; otherwise, or when the queue is
 *                                 full, the system is marked for a poll
 *   GET  /admin/status              \
 *   POST /admin/pause/SYSTEM         |
 *   POST /admin/resume/SYSTEM        | the admin API: Authorization: Bearer
 *   POST /admin/resync/CASE          | TOKEN; answered by the main loop
 *   GET  /admin/conflicts            |
 *   POST /admin/conflicts/CASE/FIELD /  with a JSON body (at most 4 KiB)
 *
 * Webhooks are authenticated per system before anything else is done
 * with them (daemon/webhook_auth.h, docs/webhooks.md): a bearer token or a
 * malformed or missing signature header is judged as soon as the headers
 * are in (401, the body unread); a signature is computed over the body as
 * it arrives, without keeping it, and judged at its end (401, nothing
 * queued). A system with neither a secret nor a token, and no opt-out,
 * refuses its webhooks (403). Each refusal is counted (`rejected`) and
 * noted for the main loop's audit, a bounded number per hour (below).
 *
 * A webhook is a hint; polling stays the truth, so a body dropped because
 * its queue is full loses nothing. The listener's threads never touch the
 * hub or the store: an admin request's connection is suspended (it holds
 * no thread) until the main loop answers it; one the main loop has not
 * taken within 10 s is answered 503 (busy).
 *
 * Limits, so that no local client can lock the others out, make the
 * daemon spin or grow without bound:
 *   - connections: 1024 kept (fewer when RLIMIT_NOFILE is low: a quarter
 *     of the descriptors, 128 at least, stay with the rest of the daemon),
 *     32 per client IP address; a new connection over either limit shuts
 *     the oldest one still receiving its request (from that address, or
 *     from any), else it is refused itself;
 *   - deadlines: the request line and headers within 5 s of the request's
 *     start (the connection's, or the previous request's end: an idle
 *     keep-alive connection lasts 5 s), the whole body within 10 s more,
 *     the answer sent within 10 s; past one, the connection is closed
 *     (libmicrohttpd's 10 s idle timeout also holds);
 *   - bodies: 1 MiB, an admin body CC_ADMIN_BODY_MAX (4 KiB); a larger
 *     Content-Length is answered 413 at once
 *     (never 100 Continue), its body unread; a chunked body is cut with
 *     413 at the limit; bodies being received are kept up to 16 MiB in all
 *     (beyond that a webhook is a hint only);
 *   - refused with 400: Content-Length headers that disagree, Content-Length
 *     with Transfer-Encoding, a URL holding a control character (raw or
 *     %00-%1F, %7F); a transfer coding other than chunked: 501;
 *   - request line and headers: within libmicrohttpd's 32 KiB of memory per
 *     connection (414 or 431 beyond);
 *   - its messages in the log: 10 a minute.
 */
#ifndef CC_DAEMON_WEBHOOK_H
#define CC_DAEMON_WEBHOOK_H

#include "core/config.h"
#include "daemon/webhook_auth.h"

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

struct cc_webhook_listener;

/* Bodies queued per system, at most (and at most this many bytes). */
#define CC_WEBHOOK_QUEUE_MAX 256
#define CC_WEBHOOK_QUEUE_BYTES (16u * 1024 * 1024)

struct cc_listener_options {
	/* The admin API's token (borrowed, must outlive the listener); NULL or
	 * "": the admin endpoints answer 403. */
	const char *admin_token;
	/* Per system: queue webhook bodies (its connector reads them). */
	bool keep_bodies[CC_MAX_SYSTEMS];
	/* When set: a line per webhook received, for measuring (CONCORD_TRACE=http). */
	FILE *trace;
	/* Per system: how its webhooks are authenticated (zero, CLOSED, refuses
	 * them all) and the webhook_secret or webhook_token that does it
	 * (borrowed, must outlive the listener; NULL for CLOSED and NONE). */
	enum cc_webhook_auth_mode auth[CC_MAX_SYSTEMS];
	const char *auth_key[CC_MAX_SYSTEMS];
};

/*
 * listen is "HOST:PORT" (IPv4). cfg and the strings of opt must outlive
 * the listener. Returns 0, or a negative cc_error with a message in err
 * (CC_EINVAL for an address it cannot use, CC_EIO when it cannot listen).
 */
int cc_webhook_listener_start(struct cc_webhook_listener **out, const char *listen,
                              const struct cc_config *cfg, const struct cc_listener_options *opt,
                              char *err, size_t errlen);
/*
 * Answers every waiting admin request with 503, then stops. Every request
 * taken with _next_admin must have been answered (the main loop calls
 * this). NULL is allowed.
 */
void cc_webhook_listener_stop(struct cc_webhook_listener *l);

/*
 * A descriptor that becomes readable when a webhook or an admin request was
 * queued, so that the main loop can wait on it (poll(2)) and act at once;
 * cc_webhook_listener_drain() makes it unreadable again.
 */
int cc_webhook_listener_fd(const struct cc_webhook_listener *l);
void cc_webhook_listener_drain(struct cc_webhook_listener *l);

/* True once after a webhook arrived for that system (or its body was dropped). */
bool cc_webhook_listener_take(struct cc_webhook_listener *l, int system);

/*
 * The oldest queued body of a system: true with *body (the caller frees it,
 * NUL-terminated for convenience) and *len, false when none.
 */
bool cc_webhook_listener_take_body(struct cc_webhook_listener *l, int system, char **body,
                                   size_t *len);

/*
 * Webhooks of a system since the start: received (authenticated, or taken
 * as they come), dropped of those (queue full), and rejected (refused 401
 * or 403 by the authentication).
 */
void cc_webhook_listener_counts(struct cc_webhook_listener *l, int system, uint64_t *received,
                                uint64_t *dropped, uint64_t *rejected);

/*
 * Rejected webhooks, noted for the audit (which the main loop writes: the
 * listener never touches the store). Per system, at most
 * CC_WEBHOOK_REJECT_NOTES rejections in each window of
 * CC_WEBHOOK_REJECT_WINDOW_S seconds (from the first rejection) are noted
 * one by one; the others are only counted, and when the window is over one
 * more note (`more` > 0) says how many those were. So a flood of bad
 * requests costs the store at most 21 audit rows an hour per system, and
 * the listener a fixed amount of memory.
 */
#define CC_WEBHOOK_REJECT_NOTES 20
#define CC_WEBHOOK_REJECT_WINDOW_S 3600

struct cc_webhook_rejection {
	int64_t at_ms;      /* wall clock: when it was refused (a summary: when it was made) */
	unsigned status;    /* 401 or 403; 0 in a summary */
	char reason[96];    /* cc_webhook_verdict_reason() or the like: never a secret */
	char client[16];    /* the client's IPv4 address, dotted */
	uint64_t more;      /* 0: one rejection; else a summary of this many unnoted ones */
};

/* Takes up to max noted rejections of a system, oldest first; returns how many. */
size_t cc_webhook_listener_take_rejections(struct cc_webhook_listener *l, int system,
                                           struct cc_webhook_rejection *out, size_t max);

enum cc_admin_op {
	CC_ADMIN_STATUS,
	CC_ADMIN_PAUSE,
	CC_ADMIN_RESUME,
	CC_ADMIN_RESYNC,
	CC_ADMIN_CONFLICTS,    /* arg "": the list (GET); "CASE/FIELD": resolve (POST, input) */
};

/* The largest admin request body (POST /admin/conflicts/CASE/FIELD). */
#define CC_ADMIN_BODY_MAX 4096

/* An authenticated admin request, waiting for the main loop. */
struct cc_admin_request {
	enum cc_admin_op op;
	char arg[128];         /* the SYSTEM or CASE (or CASE/FIELD) of the URL */
	char input[CC_ADMIN_BODY_MAX + 1]; /* the request's body, NUL-terminated ("" none) */
	size_t input_len;
	/* private to the listener */
	struct cc_admin_request *next;
	bool taken, answered;
	unsigned status;
	char *body;
};

/* The next waiting admin request, or NULL. Answer it with _answer. */
struct cc_admin_request *cc_webhook_listener_next_admin(struct cc_webhook_listener *l);
/*
 * Answers a request taken with _next_admin: status and a body (JSON or
 * text; taken over by the listener, which frees it; NULL allowed).
 */
void cc_webhook_listener_answer(struct cc_webhook_listener *l, struct cc_admin_request *rq,
                                unsigned status, char *body);

#endif
