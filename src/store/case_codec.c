/*
 * The binary encoding of a case aggregate (see case_codec.h for the
 * layout). Only what differs from a fresh case (cc_case_init) is written,
 * so a typical case takes a few hundred bytes. The decoder trusts nothing:
 * every length and count is checked against what is left, every value
 * against its range, and anything unexpected is CC_EINVAL.
 */
#include "store/case_codec.h"

#include <stdlib.h>
#include <string.h>

/* Per-field flags. */
#define FF_VALUE      0x01u /* non-empty value follows */
#define FF_VALUE_NULL 0x02u /* value is NULL (never in practice; kept faithful) */
#define FF_VER        0x04u /* version is not unset */
#define FF_ORIGIN     0x08u
#define FF_PARKED     0x10u
#define FF_PVALUE     0x20u
#define FF_PSYS       0x40u
#define FF_PVER       0x80u /* the parked side's version (added later: still layout 1) */
#define FF_ALL        0xffu

/* Per-link flags. */
#define LF_HUB_CREATED    0x01u
#define LF_NEEDS_READ     0x02u
#define LF_CREATE_UNKNOWN 0x04u
#define LF_NEEDS_STAMP    0x08u
#define LF_DEAD_LETTERED  0x10u
#define LF_ALL            0x1fu

/* ---- encoder ---------------------------------------------------------- */

struct wr {
	struct cc_buf *b;
	int err;
};

static int reserve(struct wr *w, size_t n)
{
	if (w->err)
		return w->err;
	if (cc_buf_reserve(w->b, n)) {
		w->err = CC_ENOMEM;
		return w->err;
	}
	return 0;
}

static void put_u8(struct wr *w, uint8_t v)
{
	if (reserve(w, 1) == 0)
		w->b->data[w->b->len++] = v;
}

static void put_u(struct wr *w, uint64_t v)
{
	if (reserve(w, 10))
		return;
	uint8_t *p = w->b->data + w->b->len;
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	w->b->len += n;
}

static void put_i(struct wr *w, int64_t v)
{
	put_u(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void put_str(struct wr *w, const char *s)
{
	if (!s) {
		put_u(w, 0);
		return;
	}
	size_t n = strlen(s);
	put_u(w, (uint64_t)n + 1);
	if (reserve(w, n) == 0) {
		memcpy(w->b->data + w->b->len, s, n);
		w->b->len += n;
	}
}

static void put_ver(struct wr *w, const struct cc_version *v)
{
	put_i(w, v->t_ms);
	put_i(w, v->rank);
	put_u(w, v->rv);
}

static bool ver_is_unset(const struct cc_version *v)
{
	return v->t_ms == INT64_MIN && v->rank == 0 && v->rv == 0;
}

static bool ver_is_zero(const struct cc_version *v)
{
	return v->t_ms == 0 && v->rank == 0 && v->rv == 0;
}

static unsigned field_flags(const struct cc_field_state *f)
{
	unsigned fl = 0;
	if (!f->value)
		fl |= FF_VALUE_NULL;
	else if (f->value[0])
		fl |= FF_VALUE;
	if (!ver_is_unset(&f->ver))
		fl |= FF_VER;
	if (f->origin != -1)
		fl |= FF_ORIGIN;
	if (f->parked)
		fl |= FF_PARKED;
	if (f->parked_value)
		fl |= FF_PVALUE;
	if (f->parked_system != -1)
		fl |= FF_PSYS;
	if (!ver_is_unset(&f->parked_ver))
		fl |= FF_PVER;
	return fl;
}

static bool link_is_default(const struct cc_link *l)
{
	if (l->status != CC_LINK_NONE || l->remote_id || l->rv || l->hub_created ||
	    l->pending_mask || l->needs_read || l->needs_stamp || l->unmapped_mask || l->ignored_mask ||
	    l->create_not_before_ms || l->create_attempt_ms || l->create_unknown ||
	    l->dead_lettered)
		return false;
	for (int i = 0; i < CC_MAX_FIELDS; i++)
		if (l->shadow[i] || l->shadow_mtime_s[i] || l->pending[i] ||
		    !ver_is_zero(&l->ignored_ver[i]))
			return false;
	return true;
}

/* Shadows equal to the case value (the common case with one-to-one maps)
 * are written as a bit, not a second copy of the string. */
static void put_link(struct wr *w, const struct cc_case *c, const struct cc_link *l)
{
	uint32_t shadows = 0, sames = 0, mtimes = 0, pendings = 0, ivers = 0;
	for (int i = 0; i < CC_MAX_FIELDS; i++) {
		if (l->shadow[i]) {
			shadows |= 1u << i;
			if (c->f[i].value && strcmp(l->shadow[i], c->f[i].value) == 0)
				sames |= 1u << i;
		}
		if (l->shadow_mtime_s[i])
			mtimes |= 1u << i;
		if (l->pending[i])
			pendings |= 1u << i;
		if (!ver_is_zero(&l->ignored_ver[i]))
			ivers |= 1u << i;
	}
	put_u(w, (uint64_t)l->status);
	put_u8(w, (uint8_t)((l->hub_created ? LF_HUB_CREATED : 0) |
	                    (l->needs_read ? LF_NEEDS_READ : 0) |
	                    (l->create_unknown ? LF_CREATE_UNKNOWN : 0) |
	                    (l->needs_stamp ? LF_NEEDS_STAMP : 0) |
	                    (l->dead_lettered ? LF_DEAD_LETTERED : 0)));
	put_str(w, l->remote_id);
	put_u(w, l->rv);
	put_u(w, shadows);
	put_u(w, sames);
	for (int i = 0; i < CC_MAX_FIELDS; i++)
		if ((shadows & (1u << i)) && !(sames & (1u << i)))
			put_str(w, l->shadow[i]);
	put_u(w, mtimes);
	for (int i = 0; i < CC_MAX_FIELDS; i++)
		if (mtimes & (1u << i))
			put_i(w, l->shadow_mtime_s[i]);
	put_u(w, l->pending_mask);
	put_u(w, pendings);
	for (int i = 0; i < CC_MAX_FIELDS; i++)
		if (pendings & (1u << i))
			put_str(w, l->pending[i]);
	put_u(w, l->unmapped_mask);
	put_u(w, l->ignored_mask);
	put_u(w, ivers);
	for (int i = 0; i < CC_MAX_FIELDS; i++)
		if (ivers & (1u << i))
			put_ver(w, &l->ignored_ver[i]);
	put_i(w, l->create_not_before_ms);
	put_i(w, l->create_attempt_ms);
}

int cc_case_encode(struct cc_buf *buf, const struct cc_case *c)
{
	struct wr w = { .b = buf };
	cc_buf_reset(buf);
	put_u8(&w, CC_CASE_CODEC_VERSION);
	put_u(&w, c->id);
	put_i(&w, c->created_ms);
	put_i(&w, c->origin_system);
	put_i(&w, c->mirrored_ms);
	put_i(&w, c->raised_ms);
	put_u8(&w, c->review ? 1 : 0);
	put_str(&w, c->first_title);

	unsigned flags[CC_MAX_FIELDS];
	uint32_t fmask = 0;
	for (int i = 0; i < CC_MAX_FIELDS; i++) {
		flags[i] = field_flags(&c->f[i]);
		if (flags[i])
			fmask |= 1u << i;
	}
	put_u(&w, fmask);
	for (int i = 0; i < CC_MAX_FIELDS; i++) {
		if (!flags[i])
			continue;
		const struct cc_field_state *f = &c->f[i];
		put_u8(&w, (uint8_t)flags[i]);
		if (flags[i] & FF_VALUE)
			put_str(&w, f->value);
		if (flags[i] & FF_VER)
			put_ver(&w, &f->ver);
		if (flags[i] & FF_ORIGIN)
			put_i(&w, f->origin);
		if (flags[i] & FF_PVALUE)
			put_str(&w, f->parked_value);
		if (flags[i] & FF_PSYS)
			put_i(&w, f->parked_system);
		if (flags[i] & FF_PVER)
			put_ver(&w, &f->parked_ver);
	}

	uint32_t lmask = 0;
	for (int s = 0; s < CC_MAX_SYSTEMS; s++)
		if (!link_is_default(&c->link[s]))
			lmask |= 1u << s;
	put_u(&w, lmask);
	for (int s = 0; s < CC_MAX_SYSTEMS; s++)
		if (lmask & (1u << s))
			put_link(&w, c, &c->link[s]);

	put_u(&w, c->ncomments);
	for (size_t i = 0; i < c->ncomments; i++) {
		const struct cc_comment *cm = &c->comments[i];
		uint32_t mirrors = 0;
		for (int s = 0; s < CC_MAX_SYSTEMS; s++)
			if (cm->mirror_id[s])
				mirrors |= 1u << s;
		put_i(&w, cm->origin_system);
		put_str(&w, cm->origin_id);
		put_str(&w, cm->body);
		put_str(&w, cm->author);
		put_u(&w, mirrors);
		for (int s = 0; s < CC_MAX_SYSTEMS; s++)
			if (mirrors & (1u << s))
				put_str(&w, cm->mirror_id[s]);
		put_u(&w, cm->unknown_mask);
	}
	if (w.err)
		buf->len = 0;
	return w.err;
}

/* ---- decoder ---------------------------------------------------------- */

struct rd {
	const uint8_t *p;
	const uint8_t *end;
	int err; /* sticky: the first error wins, later reads return zeros */
};

static void bad(struct rd *r, int err)
{
	if (!r->err)
		r->err = err;
}

static uint8_t get_u8(struct rd *r)
{
	if (r->err || r->p >= r->end) {
		bad(r, CC_EINVAL);
		return 0;
	}
	return *r->p++;
}

static uint64_t get_u(struct rd *r)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (r->err || r->p >= r->end)
			break;
		uint8_t byte = *r->p++;
		/* the tenth byte may only carry the top bit of 64 */
		if (shift == 63 && byte > 1)
			break;
		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80))
			return v;
	}
	bad(r, CC_EINVAL);
	return 0;
}

static int64_t get_i(struct rd *r)
{
	uint64_t u = get_u(r);
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* A signed value that must lie in [lo, hi]. */
static int64_t get_range(struct rd *r, int64_t lo, int64_t hi)
{
	int64_t v = get_i(r);
	if (v < lo || v > hi) {
		bad(r, CC_EINVAL);
		return lo;
	}
	return v;
}

/* An unsigned mask with no bit at or above `bits`. */
static uint32_t get_mask(struct rd *r, int bits)
{
	uint64_t v = get_u(r);
	if (bits < 64 && (v >> bits) != 0) {
		bad(r, CC_EINVAL);
		return 0;
	}
	return (uint32_t)v;
}

/* Reads a string into *slot (NULL marker allowed); *slot must be NULL. */
static void get_str(struct rd *r, char **slot)
{
	uint64_t n = get_u(r);
	if (r->err || n == 0)
		return;
	n--;
	if (n > (uint64_t)(r->end - r->p) || memchr(r->p, 0, (size_t)n)) {
		bad(r, CC_EINVAL);
		return;
	}
	char *s = malloc((size_t)n + 1);
	if (!s) {
		bad(r, CC_ENOMEM);
		return;
	}
	memcpy(s, r->p, (size_t)n);
	s[n] = '\0';
	r->p += n;
	*slot = s;
}

static void get_ver(struct rd *r, struct cc_version *v)
{
	v->t_ms = get_i(r);
	v->rank = (int32_t)get_range(r, INT32_MIN, INT32_MAX);
	v->rv = get_u(r);
}

static void get_link(struct rd *r, const struct cc_case *c, struct cc_link *l)
{
	l->status = (enum cc_link_status)get_u(r);
	if (l->status > CC_LINK_PARKED)
		bad(r, CC_EINVAL);
	uint8_t fl = get_u8(r);
	if (fl & ~LF_ALL)
		bad(r, CC_EINVAL);
	l->hub_created = fl & LF_HUB_CREATED;
	l->needs_read = fl & LF_NEEDS_READ;
	l->needs_stamp = fl & LF_NEEDS_STAMP;
	l->create_unknown = fl & LF_CREATE_UNKNOWN;
	l->dead_lettered = fl & LF_DEAD_LETTERED;
	get_str(r, &l->remote_id);
	l->rv = get_u(r);
	uint32_t m = get_mask(r, CC_MAX_FIELDS);
	uint32_t same = get_mask(r, CC_MAX_FIELDS);
	if (same & ~m)
		bad(r, CC_EINVAL);
	for (int i = 0; i < CC_MAX_FIELDS && !r->err; i++) {
		if (same & (1u << i)) {
			l->shadow[i] = strdup(c->f[i].value ? c->f[i].value : "");
			if (!l->shadow[i])
				bad(r, CC_ENOMEM);
		} else if (m & (1u << i)) {
			get_str(r, &l->shadow[i]);
			if (!l->shadow[i])
				bad(r, CC_EINVAL); /* the mask said it was there */
		}
	}
	m = get_mask(r, CC_MAX_FIELDS);
	for (int i = 0; i < CC_MAX_FIELDS; i++)
		if (m & (1u << i))
			l->shadow_mtime_s[i] = get_i(r);
	l->pending_mask = get_mask(r, 32);
	m = get_mask(r, CC_MAX_FIELDS);
	for (int i = 0; i < CC_MAX_FIELDS && !r->err; i++)
		if (m & (1u << i)) {
			get_str(r, &l->pending[i]);
			if (!l->pending[i])
				bad(r, CC_EINVAL);
		}
	l->unmapped_mask = get_mask(r, 32);
	l->ignored_mask = get_mask(r, 32);
	m = get_mask(r, CC_MAX_FIELDS);
	for (int i = 0; i < CC_MAX_FIELDS; i++)
		if (m & (1u << i))
			get_ver(r, &l->ignored_ver[i]);
	l->create_not_before_ms = get_i(r);
	l->create_attempt_ms = get_i(r);
}

/* The smallest encoding of a comment: six one-byte items. */
#define MIN_COMMENT_BYTES 6

int cc_case_decode(struct cc_case *out, const void *data, size_t len)
{
	struct rd r = { .p = data, .end = (const uint8_t *)data + len };
	memset(out, 0, sizeof(*out));
	if (!data && len)
		return CC_EINVAL;
	if (get_u8(&r) != CC_CASE_CODEC_VERSION)
		bad(&r, CC_EINVAL);
	out->id = get_u(&r);
	out->created_ms = get_i(&r);
	out->origin_system = (int)get_range(&r, -1, CC_MAX_SYSTEMS - 1);
	out->mirrored_ms = get_i(&r);
	out->raised_ms = get_i(&r);
	uint8_t review = get_u8(&r);
	if (review > 1)
		bad(&r, CC_EINVAL);
	out->review = review;
	get_str(&r, &out->first_title);

	uint32_t fmask = get_mask(&r, CC_MAX_FIELDS);
	for (int i = 0; i < CC_MAX_FIELDS && !r.err; i++) {
		struct cc_field_state *f = &out->f[i];
		f->ver = CC_VERSION_UNSET;
		f->origin = -1;
		f->parked_system = -1;
		f->parked_ver = CC_VERSION_UNSET;
		unsigned fl = (fmask & (1u << i)) ? get_u8(&r) : 0;
		if ((fmask & (1u << i)) && (fl == 0 || (fl & ~FF_ALL) ||
		                            (fl & (FF_VALUE | FF_VALUE_NULL)) ==
		                                (FF_VALUE | FF_VALUE_NULL)))
			bad(&r, CC_EINVAL);
		if (fl & FF_VALUE) {
			get_str(&r, &f->value);
			if (!r.err && (!f->value || !f->value[0]))
				bad(&r, CC_EINVAL); /* the flag promised a non-empty value */
		} else if (!(fl & FF_VALUE_NULL)) {
			f->value = strdup("");
			if (!f->value)
				bad(&r, CC_ENOMEM);
		}
		if (fl & FF_VER)
			get_ver(&r, &f->ver);
		if (fl & FF_ORIGIN)
			f->origin = (int)get_range(&r, -1, CC_MAX_SYSTEMS - 1);
		f->parked = fl & FF_PARKED;
		if (fl & FF_PVALUE) {
			get_str(&r, &f->parked_value);
			if (!r.err && !f->parked_value)
				bad(&r, CC_EINVAL);
		}
		if (fl & FF_PSYS)
			f->parked_system = (int)get_range(&r, -1, CC_MAX_SYSTEMS - 1);
		if (fl & FF_PVER)
			get_ver(&r, &f->parked_ver);
	}

	uint32_t lmask = get_mask(&r, CC_MAX_SYSTEMS);
	for (int s = 0; s < CC_MAX_SYSTEMS && !r.err; s++)
		if (lmask & (1u << s))
			get_link(&r, out, &out->link[s]);

	uint64_t n = get_u(&r);
	if (!r.err && n > (uint64_t)(r.end - r.p) / MIN_COMMENT_BYTES)
		bad(&r, CC_EINVAL);
	if (!r.err && n) {
		out->comments = calloc((size_t)n, sizeof(*out->comments));
		if (!out->comments)
			bad(&r, CC_ENOMEM);
	}
	for (uint64_t i = 0; i < n && !r.err; i++) {
		struct cc_comment *cm = &out->comments[i];
		out->ncomments = (size_t)i + 1; /* so that a failure clears it */
		cm->origin_system = (int)get_range(&r, 0, CC_MAX_SYSTEMS - 1);
		get_str(&r, &cm->origin_id);
		get_str(&r, &cm->body);
		get_str(&r, &cm->author);
		uint32_t mirrors = get_mask(&r, CC_MAX_SYSTEMS);
		for (int s = 0; s < CC_MAX_SYSTEMS && !r.err; s++)
			if (mirrors & (1u << s)) {
				get_str(&r, &cm->mirror_id[s]);
				if (!r.err && !cm->mirror_id[s])
					bad(&r, CC_EINVAL);
			}
		cm->unknown_mask = get_mask(&r, 32);
	}
	if (!r.err && r.p != r.end)
		bad(&r, CC_EINVAL); /* trailing bytes */
	if (r.err) {
		cc_case_clear(out);
		return r.err;
	}
	return CC_EOK;
}
