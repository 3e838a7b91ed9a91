/*
 * The case aggregate (see case.h).
 */
#include "core/case.h"

#include <stdlib.h>
#include <string.h>

int cc_str_set(char **slot, const char *value)
{
	char *n = NULL;
	if (value) {
		n = strdup(value);
		if (!n)
			return CC_ENOMEM;
	}
	free(*slot);
	*slot = n;
	return CC_EOK;
}

int cc_str_cmp(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

int cc_case_init(struct cc_case *c)
{
	memset(c, 0, sizeof(*c));
	c->origin_system = -1;
	for (int i = 0; i < CC_MAX_FIELDS; i++) {
		c->f[i].value = strdup("");
		if (!c->f[i].value) {
			cc_case_clear(c);
			return CC_ENOMEM;
		}
		c->f[i].ver = CC_VERSION_UNSET;
		c->f[i].origin = -1;
		c->f[i].parked_system = -1;
		c->f[i].parked_ver = CC_VERSION_UNSET;
	}
	return CC_EOK;
}

static void link_clear(struct cc_link *l)
{
	free(l->remote_id);
	for (int i = 0; i < CC_MAX_FIELDS; i++) {
		free(l->shadow[i]);
		free(l->pending[i]);
	}
}

static void comment_clear(struct cc_comment *cm)
{
	free(cm->origin_id);
	free(cm->body);
	free(cm->author);
	for (int s = 0; s < CC_MAX_SYSTEMS; s++)
		free(cm->mirror_id[s]);
}

void cc_case_clear(struct cc_case *c)
{
	free(c->first_title);
	for (int i = 0; i < CC_MAX_FIELDS; i++) {
		free(c->f[i].value);
		free(c->f[i].parked_value);
	}
	for (int s = 0; s < CC_MAX_SYSTEMS; s++)
		link_clear(&c->link[s]);
	for (size_t i = 0; i < c->ncomments; i++)
		comment_clear(&c->comments[i]);
	free(c->comments);
	memset(c, 0, sizeof(*c));
}

static int dup_into(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return CC_EOK;
	*dst = strdup(src);
	return *dst ? CC_EOK : CC_ENOMEM;
}

int cc_case_copy(struct cc_case *dst, const struct cc_case *src)
{
	int rc = CC_EOK;
	*dst = *src;
	dst->comments = NULL;
	dst->ncomments = 0;
	dst->first_title = NULL;
	for (int i = 0; i < CC_MAX_FIELDS; i++) {
		dst->f[i].value = NULL;
		dst->f[i].parked_value = NULL;
	}
	for (int s = 0; s < CC_MAX_SYSTEMS; s++) {
		struct cc_link *l = &dst->link[s];
		l->remote_id = NULL;
		for (int i = 0; i < CC_MAX_FIELDS; i++)
			l->shadow[i] = l->pending[i] = NULL;
	}
	rc |= dup_into(&dst->first_title, src->first_title);
	for (int i = 0; i < CC_MAX_FIELDS && rc == CC_EOK; i++) {
		rc |= dup_into(&dst->f[i].value, src->f[i].value);
		rc |= dup_into(&dst->f[i].parked_value, src->f[i].parked_value);
	}
	for (int s = 0; s < CC_MAX_SYSTEMS && rc == CC_EOK; s++) {
		rc |= dup_into(&dst->link[s].remote_id, src->link[s].remote_id);
		for (int i = 0; i < CC_MAX_FIELDS; i++) {
			rc |= dup_into(&dst->link[s].shadow[i], src->link[s].shadow[i]);
			rc |= dup_into(&dst->link[s].pending[i], src->link[s].pending[i]);
		}
	}
	if (rc == CC_EOK && src->ncomments) {
		dst->comments = calloc(src->ncomments, sizeof(*dst->comments));
		if (!dst->comments) {
			rc = CC_ENOMEM;
		} else {
			dst->ncomments = src->ncomments;
			for (size_t i = 0; i < src->ncomments; i++) {
				const struct cc_comment *a = &src->comments[i];
				struct cc_comment *b = &dst->comments[i];
				b->origin_system = a->origin_system;
				b->unknown_mask = a->unknown_mask;
				rc |= dup_into(&b->origin_id, a->origin_id);
				rc |= dup_into(&b->body, a->body);
				rc |= dup_into(&b->author, a->author);
				for (int s = 0; s < CC_MAX_SYSTEMS; s++)
					rc |= dup_into(&b->mirror_id[s], a->mirror_id[s]);
			}
		}
	}
	if (rc != CC_EOK) {
		cc_case_clear(dst);
		return CC_ENOMEM;
	}
	return CC_EOK;
}

void cc_case_changed(struct cc_case *c)
{
	for (size_t s = 0; s < CC_MAX_SYSTEMS; s++)
		c->link[s].dead_lettered = false;
}

int cc_case_set_value(struct cc_case *c, int field, const char *value)
{
	if (!value)
		value = "";
	if (c->f[field].value && strcmp(c->f[field].value, value) == 0)
		return CC_EOK;
	cc_case_changed(c);
	return cc_str_set(&c->f[field].value, value);
}

int cc_case_add_comment(struct cc_case *c, int origin_system, const char *origin_id,
                        const char *body, const char *author, size_t *out_index)
{
	struct cc_comment *n = realloc(c->comments, (c->ncomments + 1) * sizeof(*n));
	if (!n)
		return CC_ENOMEM;
	c->comments = n;
	cc_case_changed(c);
	struct cc_comment *cm = &c->comments[c->ncomments];
	memset(cm, 0, sizeof(*cm));
	cm->origin_system = origin_system;
	int rc = dup_into(&cm->origin_id, origin_id);
	rc |= dup_into(&cm->body, body);
	rc |= dup_into(&cm->author, author);
	rc |= dup_into(&cm->mirror_id[origin_system], origin_id);
	if (rc != CC_EOK) {
		comment_clear(cm);
		return CC_ENOMEM;
	}
	if (out_index)
		*out_index = c->ncomments;
	c->ncomments++;
	return CC_EOK;
}

long cc_case_find_comment(const struct cc_case *c, int origin_system, const char *origin_id)
{
	for (size_t i = 0; i < c->ncomments; i++)
		if (c->comments[i].origin_system == origin_system &&
		    strcmp(c->comments[i].origin_id, origin_id) == 0)
			return (long)i;
	return -1;
}

long cc_case_find_mirror(const struct cc_case *c, int system, const char *remote_comment_id)
{
	for (size_t i = 0; i < c->ncomments; i++)
		if (c->comments[i].mirror_id[system] &&
		    strcmp(c->comments[i].mirror_id[system], remote_comment_id) == 0)
			return (long)i;
	return -1;
}
