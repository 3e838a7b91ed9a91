/*
 * The base of the HTTP connectors (RT, Redmine, and any connector that
 * talks JSON to its system over the HTTP client). It holds what each of
 * them needs (the HTTP client, the configuration, the integration user,
 * the user map, the versions already returned, the reads sent ahead) and
 * implements the whole connector interface (core/connector.h) once; a
 * connector gives, in a struct cc_base_ops, only what its API makes
 * different: how to fetch one page of its listing, how to observe one
 * record, how to look a correlation id up, how to send a create, an update
 * and a comment, and how to find the comment's id.
 *
 * What the base does for every connector:
 *   - list_changes, the paged keyset search: ask `prepare`, then fetch
 *     listing pages 1, 2, ... (at most max_list_pages) into keys (id,
 *     mtime, listed version), merged by id; a listing of records (one row
 *     each, in keyset order) stops once it holds more than page_size
 *     records after the keyset position. Keep the keys strictly after the
 *     position, sort them in keyset order, cut at page_size (next_id and
 *     next_mtime_s say where the next page starts, `more` that one follows,
 *     also when the listing pages ran out). Leave out the records whose
 *     listed version was returned already (`known`, the seen cache:
 *     seen.h), send the first reads of the others at once (`read_path`,
 *     prefetch.h), then observe each one in keyset order; an item's
 *     mtime_s is its key's, so paging never skips a record. Any failure is
 *     the call's failure with an empty page: a malformed listing is never
 *     an empty page.
 *   - read: `observe`.
 *   - find_by_correlation: `lookup`, then `observe` of what it found.
 *   - create: POST of `create_body` (or its PUT to the record `create_at`
 *     names, whose id is then known); an answer without the new id is
 *     RETRY with the outcome unknown (the engine looks the correlation id up before it
 *     creates again); then `created` (or `observe`): a record created but
 *     not read back is RETRY with the outcome unknown, never a second
 *     create.
 *   - update: `write` (conditional as the API allows: CONFLICT when the
 *     record moved), then the record read back: a failed read after a
 *     write is an unknown outcome, a record gone or moved away is ERROR,
 *     and a written value that does not read back as written is ERROR
 *     quoting what the system said.
 *   - add_comment: `comment`, then `comment_id`: when the id cannot be
 *     learnt the comment is there (RETRY, outcome unknown: the engine
 *     finds it by its origin marker on the next read).
 *   - webhook: the connector's own, or none.
 *   - a `Date` sample from a time the server stamped during the call
 *     (created_on of a new record, the modification of an update that
 *     moved the version) when the answers carry no Date header.
 *   - the API budget, and destroy.
 *
 * A connector's own struct starts with struct cc_connector_base (the hooks
 * get the base and cast it back), and its kind row is CC_BASE_KIND(...).
 *
 * Ownership: the base owns its HTTP client, its copies of the integration
 * user and the user map, the seen cache, the prefetch table and the
 * interface table `iface` (out->ops points into the connector); cfg is
 * borrowed from the setup and must outlive the connector.
 */
#ifndef CC_CONNECTORS_BASE_H
#define CC_CONNECTORS_BASE_H

#include "connectors/json.h"
#include "connectors/keyset.h"
#include "connectors/prefetch.h"
#include "connectors/registry.h"
#include "connectors/request.h"
#include "connectors/seen.h"
#include "connectors/settings.h"
#include "connectors/text.h"
#include "connectors/usermap.h"
#include "core/buf.h"
#include "http/client.h"

#define CC_BASE_PER_PAGE 100     /* listing rows per request, unless the kind says */
#define CC_BASE_LIST_PAGES 50    /* listing requests per list_changes, unless the kind says */
#define CC_BASE_ID_MAX 48        /* a remote id and its NUL: numbers, or ServiceNow's 32-hex sys_id */

struct cc_base_ops;

struct cc_connector_base {
	const struct cc_base_ops *ops; /* the connector's own part (static) */
	struct cc_connector_ops iface; /* the connector interface, filled by the base */
	struct cc_http_client *http;
	const struct cc_config *cfg;   /* borrowed */
	int system;                    /* index of this system in cfg->systems */
	char *iuser;                   /* the integration user's account, may be NULL */
	struct cc_usermap users;
	/* versions already returned (seen.h): the system's shared table
	 * (cc_connector_setup.seen, borrowed), else own_seen */
	struct cc_seen *seen;
	struct cc_seen own_seen;
	struct cc_prefetch ahead;      /* a poll page's first reads, sent at once */
	/*
	 * A header that changes (an OAuth token, oauth.h), set by the kind's
	 * init: the client asks it before every request instead of sending
	 * "<auth_name>: <auth_prefix><secret>", and renews it once after a
	 * 401. Its ctx belongs to the kind (released by its clear).
	 */
	struct cc_http_auth auth;
};

/* One record a listing showed: its keyset position and the version it showed. */
struct cc_listed {
	char id[CC_BASE_ID_MAX];
	int64_t mtime_s;
	uint64_t version;              /* 0: the listing shows none */
};

/* A listing being fetched, page by page (see fetch below). */
struct cc_listing {
	int64_t since_s;               /* as list_changes got it: negative on the first start */
	int64_t from_s;                /* the search starts here (cc_list_from) */
	/*
	 * The keyset position the page starts after, as list_changes got it
	 * (after_id NULL: none; borrowed): a kind whose search can say
	 * "strictly after (mtime, id)" itself may put it in its query. The
	 * base filters by it whatever the kind does.
	 */
	int64_t after_mtime_s;
	const char *after_id;
	/*
	 * Set by fetch: the rows are changes, several per record (RT's
	 * transactions), not one row per record in keyset order. Every
	 * listing page is then read, and when they run out at max_list_pages
	 * the records whose key lies in the last second read are left to the
	 * next call (they may have later rows there), all but the first.
	 */
	bool events;
	bool more;                     /* set by fetch: another listing page follows */
	struct cc_listed *keys;        /* merged by id, in the order first listed */
	size_t n, cap;
	int64_t last_row_s;            /* the time of the last row added */
};

/*
 * Adds a listed row: a new key, or the key of `id` moved to the later
 * mtime and the newer version of the two. 0, or CC_ENOMEM.
 */
int cc_listing_add(struct cc_listing *l, const char *id, int64_t mtime_s, uint64_t version);

/* What a connector's API makes different (one static table per kind). */
struct cc_base_ops {
	const char *who;               /* the kind ("rt"): the connector in reasons */
	const char *record;            /* what a record is called in reasons: "ticket" */
	const char *place;             /* where records are synced from: "queue" */
	size_t size;                   /* the connector's struct, which starts with its base */
	const char *auth_name;         /* the authentication header: "Authorization" */
	const char *auth_prefix;       /* before the secret in it: "token " (NULL: none) */
	const char *default_url;       /* the API base when the system gives no url (NULL: none) */
	const char *create_path;       /* POSTed to create a record: "/ticket" (NULL: create_url) */
	const char *create_id;         /* the new id in the answer, members joined by '/': "id" */
	size_t per_page;               /* the page size when the hub asks for none (0: CC_BASE_PER_PAGE) */
	/*
	 * Record ids are opaque strings (ServiceNow's sys_id, 32 hex digits),
	 * not numbers: the new id at create_id is taken as a string of
	 * letters, digits, '-' and '_' shorter than CC_BASE_ID_MAX.
	 */
	bool opaque_ids;
	int max_list_pages;            /* 0: CC_BASE_LIST_PAGES */
	/*
	 * Optional: takes the connector's own settings from the setup (copies)
	 * and checks them; 0, or a negative cc_error with a message in err.
	 */
	int (*init)(struct cc_connector_base *b, const struct cc_connector_setup *s, char *err,
	            size_t errlen);
	/*
	 * Optional: the credential put after auth_prefix in the authentication
	 * header, made from the setup's secret (a new string, wiped and freed
	 * by the base; NULL: out of memory). NULL hook: the secret itself.
	 * ServiceNow's Basic: base64 of "user:secret".
	 */
	char *(*credential)(struct cc_connector_base *b, const char *secret);
	/* Optional: releases what the connector holds beyond the base (not the struct). */
	void (*clear)(struct cc_connector_base *b);

	/* Optional: looks up, once, what listings need (RT's queue id). */
	enum cc_result (*prepare)(struct cc_connector_base *b, struct cc_call *call);
	/*
	 * Fetches page `page` (1-based) of the listing of the records changed
	 * at or after l->from_s, adds each row (cc_listing_add) and sets
	 * l->more (and l->events). A listing of the wrong shape is a
	 * malformed answer (cc_call_malformed), never an empty page.
	 */
	enum cc_result (*fetch)(struct cc_connector_base *b, struct cc_listing *l, int page,
	                        struct cc_call *call);
	/*
	 * Optional: true when a listed record needs no read (the hub has that
	 * version already). NULL: the listed version is exact, and a record
	 * is known when the seen cache covers it (cc_seen_covers).
	 */
	bool (*known)(struct cc_connector_base *b, const struct cc_listed *k);
	/*
	 * Optional: the path of the `pass`th read (0, 1, ...) that observing
	 * record `id` starts with, as a new string, NULL past the last pass.
	 * A poll page's reads are sent at once, pass after pass.
	 */
	char *(*read_path)(struct cc_connector_base *b, const char *id, int pass);
	/*
	 * Optional: true when the reads of one record may all go at once (its
	 * passes in one batch): when what they answer tells a torn pair apart
	 * whatever their order (RT: the ticket's ETag, once the system was seen
	 * to send it). NULL: a single record's reads go one after the other.
	 */
	bool (*reads_at_once)(struct cc_connector_base *b);
	/*
	 * The observation of record `id` as it is now, into out (initialised,
	 * and the connector prepared, by cc_base_observe, the only caller; out
	 * is cleared by the callee when it fails); a record gone or moved away
	 * is a deleted observation. `op` names the operation for the API
	 * budget and reasons ("list", "read", ...).
	 */
	enum cc_result (*observe)(struct cc_connector_base *b, const char *id, const char *op,
	                          struct cc_observation *out, struct cc_call *call);

	/*
	 * The id of the record carrying the correlation id corr into id
	 * (CC_BASE_ID_MAX bytes, "" on entry); left "" when none.
	 */
	enum cc_result (*lookup)(struct cc_connector_base *b, const char *corr, char *id,
	                         struct cc_call *call);
	/*
	 * The JSON body of a create of w, with w->correlation_id in the
	 * record (*body, a new reference); the base POSTs it to create_path
	 * and reads the new record's id at create_id of the answer.
	 */
	enum cc_result (*create_body)(struct cc_connector_base *b, const struct cc_write *w,
	                              struct json_t **body, struct cc_call *call);
	/*
	 * Optional (when create_path is NULL): the path POSTed to create a
	 * record, as a new string, when it depends on a setting (ServiceNow's
	 * table); NULL is out of memory.
	 */
	char *(*create_url)(struct cc_connector_base *b);
	/*
	 * Optional: the create is a PUT of create_body to a record the
	 * connector names itself, from w->correlation_id (so a create sent
	 * again after a lost answer names the same record, never a second
	 * one): its id into id (len bytes) and *path (a new string). NULL:
	 * a POST to create_path, the new id read at create_id.
	 */
	enum cc_result (*create_at)(struct cc_connector_base *b, const struct cc_write *w, char *id,
	                            size_t len, char **path, struct cc_call *call);
	/*
	 * Optional: the record just created as `id`, into out (NULL: observed
	 * as it is), after writing what a create cannot set (a status).
	 */
	enum cc_result (*created)(struct cc_connector_base *b, const struct cc_write *w,
	                          const char *id, struct cc_observation *out, struct cc_call *call);
	/*
	 * Sends the values of w to record w->remote_id, conditional on
	 * w->expected_rv as the API allows (CONFLICT when the record moved).
	 * *wrote: a request that may change the record was sent; why (why_len
	 * bytes, "" on entry): what the system said about the write, quoted
	 * when a value does not read back as written.
	 */
	enum cc_result (*write)(struct cc_connector_base *b, const struct cc_write *w, bool *wrote,
	                        char *why, size_t why_len, struct cc_call *call);
	/* Sends a comment (body) on record id that sets off none of the system's automation. */
	enum cc_result (*comment)(struct cc_connector_base *b, const char *id, const char *body,
	                          struct cc_call *call);
	/* The id of the comment just sent (*out_id, a new string; NULL when not found). */
	enum cc_result (*comment_id)(struct cc_connector_base *b, const char *id, const char *body,
	                             char **out_id, struct cc_call *call);
	/* Optional: the connector interface's webhook (core/connector.h); NULL: none. */
	enum cc_result (*webhook)(void *self, const char *body, size_t len, struct cc_page *out,
	                          struct cc_call *call);
};

/*
 * Sends the first reads of one record's observation (every read_path pass)
 * at once, when the kind allows it (reads_at_once): a webhook's or a
 * write's read then costs the slowest of them, not their sum. The answers
 * wait in b->ahead for the observation; the caller clears b->ahead after it
 * (cc_prefetch_clear). Does nothing otherwise.
 */
void cc_base_read_ahead(struct cc_connector_base *b, const char *id, const char *op,
                        struct cc_call *call);

/*
 * The kind row of an HTTP connector: its name, a one-line description, its
 * settings' rows and its struct cc_base_ops.
 */
#define CC_BASE_KIND(name, desc, rows, base_ops) \
	{ .kind = (name), .description = (desc), .create = cc_base_new, .settings = (rows), \
	  .impl = (base_ops) }

/*
 * The create of a kind row made with CC_BASE_KIND: allocates the
 * connector's struct, fills the base from the setup, runs ops->init,
 * creates the HTTP client (base_url, the authentication header
 * "<auth_name>: <auth_prefix><secret>" (none without a secret), timeouts,
 * rate, concurrency, CA file, the Retry-After bound, the interrupt hook
 * and the stand-in transport; b->auth instead of that header when init
 * set it) and sets *out. Returns 0, or a negative
 * cc_error with a message in err (never the secret), and then nothing is
 * left allocated.
 */
int cc_base_new(struct cc_connector *out, const struct cc_connector_setup *s, char *err,
                size_t errlen);

/*
 * One JSON request (cc_request_json) through the reads sent ahead; path
 * is taken (freed here; NULL is out of memory).
 */
enum cc_result cc_base_request(struct cc_connector_base *b, const char *op, const char *method,
                               char *path, struct json_t *body, struct json_t **out,
                               long *status, struct cc_call *call);

/*
 * A GET of path (taken) whose answer must hold the array `key`: *answer
 * its JSON (caller decrefs), *array borrowed from it. An answer without it
 * is malformed ("WHAT[ of ID]", *answer NULL).
 */
enum cc_result cc_base_get_array(struct cc_connector_base *b, const char *op, char *path,
                                 const char *key, struct json_t **answer, struct json_t **array,
                                 const char *what, const char *id, struct cc_call *call);

/*
 * The observation of record `id` as it is now (ops->observe after `out`
 * is initialised and the connector prepared); out is owned by the caller.
 */
enum cc_result cc_base_observe(struct cc_connector_base *b, const char *id, const char *op,
                               struct cc_observation *out, struct cc_call *call);

/*
 * A webhook's one-record page: the record `id` observed as it is now
 * (its reads sent at once where the kind allows: cc_base_read_ahead) into
 * pg (cleared by the caller). The op is "webhook". A failure leaves pg
 * empty.
 */
enum cc_result cc_base_webhook_read(struct cc_connector_base *b, const char *id,
                                    struct cc_page *pg, struct cc_call *call);

/* A malformed answer: "WHO OP: malformed answer: WHAT[ of ID]". */
enum cc_result cc_base_malformed(struct cc_connector_base *b, struct cc_call *call,
                                 const char *op, const char *what, const char *id);

/* Out of memory: RETRY "WHO: out of memory". */
enum cc_result cc_base_oom(struct cc_connector_base *b, struct cc_call *call);

/* The remote name of canonical field f in this system, NULL when it is not mapped. */
const char *cc_base_remote_name(const struct cc_connector_base *b, int f);

/* True when canonical field f is of type user (its values go through the user map). */
bool cc_base_user_field(const struct cc_connector_base *b, int f);

/*
 * Fills every mapped field of out from the record being observed:
 * value(ctx, f, remote name, &present) gives the value of field f in the
 * system's terms (a new string; NULL and present false when the record
 * has no such field; NULL and present true when out of memory), and each
 * field starts with the record's creation time and `creator` as its
 * modification. 0, or CC_ENOMEM.
 */
int cc_base_fill_fields(const struct cc_connector_base *b, struct cc_observation *out,
                        const char *creator,
                        char *(*value)(void *ctx, int f, const char *rn, bool *present),
                        void *ctx);

/*
 * A change of field f seen in the record's history (a transaction, a
 * journal): its time and author (copied; may be NULL). 0, or CC_ENOMEM.
 */
int cc_base_field_changed(struct cc_observation *out, int f, const char *author,
                          int64_t when_s);

/* A record gone for good (404): deleted, at a version newer than any seen; the call is OK. */
void cc_base_gone(struct cc_observation *out, struct cc_call *call);

/*
 * A time the server stamped during this call, as the sample of its clock
 * when the answers carried no Date header (it lies between the call's sent
 * and received times).
 */
void cc_base_date_sample(struct cc_call *call, int64_t stamped_s);

#endif
