/*
 * Observation construction, copy and release (see observation.h).
 */
#include "core/observation.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s, bool *oom)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

void cc_observation_init(struct cc_observation *o)
{
	memset(o, 0, sizeof(*o));
	o->system = -1;
}

void cc_observation_clear(struct cc_observation *o)
{
	free(o->remote_id);
	free(o->correlation_id);
	for (int i = 0; i < CC_MAX_FIELDS; i++) {
		free(o->fields[i].value);
		free(o->fields[i].author);
	}
	for (size_t i = 0; i < o->ncomments; i++) {
		free(o->comments[i].id);
		free(o->comments[i].body);
		free(o->comments[i].author);
	}
	free(o->comments);
	cc_observation_init(o);
}

int cc_observation_copy(struct cc_observation *dst, const struct cc_observation *src)
{
	bool oom = false;
	cc_observation_init(dst);
	dst->system = src->system;
	dst->rv = src->rv;
	dst->mtime_s = src->mtime_s;
	dst->created_s = src->created_s;
	dst->deleted = src->deleted;
	dst->remote_id = dup_or_null(src->remote_id, &oom);
	dst->correlation_id = dup_or_null(src->correlation_id, &oom);
	for (int i = 0; i < CC_MAX_FIELDS; i++) {
		const struct cc_obs_field *f = &src->fields[i];
		dst->fields[i].present = f->present;
		dst->fields[i].mtime_s = f->mtime_s;
		dst->fields[i].value = dup_or_null(f->value, &oom);
		dst->fields[i].author = dup_or_null(f->author, &oom);
	}
	if (src->ncomments) {
		dst->comments = calloc(src->ncomments, sizeof(*dst->comments));
		if (!dst->comments) {
			oom = true;
		} else {
			dst->ncomments = src->ncomments;
			for (size_t i = 0; i < src->ncomments; i++) {
				const struct cc_obs_comment *c = &src->comments[i];
				dst->comments[i].id = dup_or_null(c->id, &oom);
				dst->comments[i].body = dup_or_null(c->body, &oom);
				dst->comments[i].author = dup_or_null(c->author, &oom);
				dst->comments[i].created_s = c->created_s;
			}
		}
	}
	if (oom) {
		cc_observation_clear(dst);
		return CC_ENOMEM;
	}
	return CC_EOK;
}

int cc_observation_set(struct cc_observation *o, int field, const char *value,
                       int64_t mtime_s, const char *author)
{
	if (field < 0 || field >= CC_MAX_FIELDS || !value)
		return CC_EINVAL;
	bool oom = false;
	char *v = dup_or_null(value, &oom);
	char *a = dup_or_null(author, &oom);
	if (oom) {
		free(v);
		free(a);
		return CC_ENOMEM;
	}
	struct cc_obs_field *f = &o->fields[field];
	free(f->value);
	free(f->author);
	f->present = true;
	f->value = v;
	f->author = a;
	f->mtime_s = mtime_s;
	return CC_EOK;
}

int cc_observation_add_comment(struct cc_observation *o, const char *id,
                               const char *body, const char *author,
                               int64_t created_s)
{
	struct cc_obs_comment *n = realloc(o->comments, (o->ncomments + 1) * sizeof(*n));
	if (!n)
		return CC_ENOMEM;
	o->comments = n;
	bool oom = false;
	struct cc_obs_comment c = {
		.id = dup_or_null(id, &oom),
		.body = dup_or_null(body, &oom),
		.author = dup_or_null(author, &oom),
		.created_s = created_s,
	};
	if (oom) {
		free(c.id);
		free(c.body);
		free(c.author);
		return CC_ENOMEM;
	}
	o->comments[o->ncomments++] = c;
	return CC_EOK;
}

void cc_comment_marker(char *buf, size_t len, uint64_t case_id, int origin_system,
                       const char *origin_id)
{
	snprintf(buf, len, "[concord:%" PRIu64 ":%d:%s]", case_id, origin_system, origin_id);
}

bool cc_comment_marker_parse(const char *body, uint64_t *case_id, int *origin_system,
                             char *origin_id, size_t idlen)
{
	static const char prefix[] = "[concord:";
	if (strncmp(body, prefix, sizeof(prefix) - 1) != 0)
		return false;
	const char *p = body + sizeof(prefix) - 1;
	char *end;
	unsigned long long cid = strtoull(p, &end, 10);
	if (end == p || *end != ':')
		return false;
	p = end + 1;
	long sys = strtol(p, &end, 10);
	if (end == p || *end != ':' || sys < 0 || sys >= CC_MAX_SYSTEMS)
		return false;
	p = end + 1;
	const char *close = strchr(p, ']');
	if (!close || (size_t)(close - p) + 1 > idlen || close == p)
		return false;
	memcpy(origin_id, p, (size_t)(close - p));
	origin_id[close - p] = '\0';
	*case_id = cid;
	*origin_system = (int)sys;
	return true;
}
