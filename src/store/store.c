/*
 * Opening a store by URL: one table of backends, {scheme, open}, so that
 * the command line, the configuration and the simulator name a backend
 * without knowing its code, and help texts and errors list what the table
 * holds. A backend's ops must be of this build's version
 * (CC_STORE_OPS_VERSION), checked when it is opened through the table.
 */
#include "store/store.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int open_memory(struct cc_store *out, const char *rest, char *err, size_t errlen)
{
	if (rest[0]) {
		snprintf(err, errlen, "the memory store takes no path (\"memory\")");
		return CC_EINVAL;
	}
	int rc = cc_store_memory_open(out);
	if (rc)
		snprintf(err, errlen, "memory store: out of memory");
	return rc;
}

static int open_sqlite(struct cc_store *out, const char *rest, char *err, size_t errlen)
{
	if (!rest[0]) {
		snprintf(err, errlen, "store \"sqlite:\" names no file (\"sqlite:PATH\")");
		return CC_EINVAL;
	}
	return cc_store_sqlite_open(out, rest, NULL, err, errlen);
}

/* Removes the SQLite file PATH and its journals (-wal, -shm, -journal). */
static int wipe_sqlite(const char *rest, char *err, size_t errlen)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char p[PATH_MAX];
		if ((size_t)snprintf(p, sizeof(p), "%s%s", rest, suffix[i]) >= sizeof(p)) {
			snprintf(err, errlen, "store path too long");
			return CC_EINVAL;
		}
		if (unlink(p) && errno != ENOENT) {
			snprintf(err, errlen, "cannot remove %.200s: %s", p, strerror(errno));
			return CC_EIO;
		}
	}
	return CC_EOK;
}

/* The backends: one row each. */
static const struct cc_store_backend backends[] = {
	{ .scheme = "memory", .form = "memory",
	  .description = "in memory only: tests and the simulator",
	  .takes_path = false, .durable = false, .open = open_memory },
	{ .scheme = "sqlite", .form = "sqlite:PATH",
	  .description = "one SQLite file, created when missing (docs/storage.md)",
	  .takes_path = true, .durable = true, .open = open_sqlite, .wipe = wipe_sqlite },
};

#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

const struct cc_store_backend *cc_store_backends(size_t *n)
{
	*n = NBACKENDS;
	return backends;
}

/* "memory", "sqlite:PATH" (the forms the table accepts, for messages). */
static void accepted(char *buf, size_t len)
{
	size_t used = (size_t)snprintf(buf, len, "accepted: ");
	for (size_t i = 0; i < NBACKENDS && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s\"%s\"",
		                         i == 0 ? "" : i + 1 == NBACKENDS ? " or " : ", ",
		                         backends[i].form);
}

int cc_store_url_parse(const char *url, struct cc_store_url *out, char *err, size_t errlen)
{
	char acc[160];
	if (errlen)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	accepted(acc, sizeof(acc));
	if (!url || !url[0]) {
		snprintf(err, errlen, "no store given (%s)", acc);
		return CC_EINVAL;
	}
	size_t n = strcspn(url, ":");
	bool ok = n > 0 && n < sizeof(out->scheme) && isalpha((unsigned char)url[0]);
	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)url[i]) || strchr("+-.", url[i]);
	bool bare_ok = false; /* the scheme alone names a backend that takes no path */
	for (size_t i = 0; ok && !url[n] && i < NBACKENDS; i++)
		bare_ok |= !backends[i].takes_path && strcasecmp(url, backends[i].scheme) == 0;
	if (!ok || (!url[n] && !bare_ok)) {
		snprintf(err, errlen, "store URL is not SCHEME:... (%s)", acc);
		return CC_EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		out->scheme[i] = (char)tolower((unsigned char)url[i]);
	out->rest = url[n] ? url + n + 1 : url + n;
	return CC_EOK;
}

const struct cc_store_backend *cc_store_backend_of(const char *url, struct cc_store_url *u,
                                                   char *err, size_t errlen)
{
	struct cc_store_url mine;
	if (!u)
		u = &mine;
	if (cc_store_url_parse(url, u, err, errlen))
		return NULL;
	for (size_t i = 0; i < NBACKENDS; i++)
		if (strcmp(u->scheme, backends[i].scheme) == 0)
			return &backends[i];
	/* the scheme only: the rest may hold a password */
	char acc[160];
	accepted(acc, sizeof(acc));
	snprintf(err, errlen, "unknown store kind \"%s:\" (%s)", u->scheme, acc);
	return NULL;
}

int cc_store_open(struct cc_store *out, const char *url, char *err, size_t errlen)
{
	struct cc_store_url u;
	const struct cc_store_backend *b = cc_store_backend_of(url, &u, err, errlen);
	if (!b)
		return CC_EINVAL;
	int rc = b->open(out, u.rest, err, errlen);
	if (rc)
		return rc;
	if (!out->ops || out->ops->version != CC_STORE_OPS_VERSION) {
		snprintf(err, errlen, "store backend %s implements store interface version %d; "
		         "this build needs %d", b->scheme, out->ops ? out->ops->version : 0,
		         CC_STORE_OPS_VERSION);
		if (out->ops && out->ops->destroy)
			out->ops->destroy(out->self);
		out->ops = NULL;
		out->self = NULL;
		return CC_EINVAL;
	}
	return CC_EOK;
}

int cc_store_wipe(const char *url, char *err, size_t errlen)
{
	struct cc_store_url u;
	const struct cc_store_backend *b = cc_store_backend_of(url, &u, err, errlen);
	if (!b)
		return CC_EINVAL;
	if (!b->durable || !b->wipe) {
		snprintf(err, errlen, "store %s keeps nothing to empty", b->scheme);
		return CC_EINVAL;
	}
	return b->wipe(u.rest, err, errlen);
}
