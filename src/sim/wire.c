/*
 * The wire encoding (see wire.h).
 */
#include "sim/wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NULL_STR 0xffffffffu
/* The least number of bytes an encoded observation / comment can take. */
#define MIN_OBS_BYTES (4 + 4 + 8 + 8 + 4 + 1 + CC_MAX_FIELDS * (1 + 4 + 8 + 4) + 4)
#define MIN_COMMENT_BYTES (4 + 4 + 4 + 8)
#define MAX_COMMENTS 100000u
#define MAX_ITEMS 100000u

/* ---- output ----------------------------------------------------------- */

void wire_buf_init(struct wire_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void wire_buf_free(struct wire_buf *b)
{
	free(b->p);
	wire_buf_init(b);
}

void wire_buf_reset(struct wire_buf *b)
{
	b->len = 0;
	b->oom = false;
}

static void put(struct wire_buf *b, const void *p, size_t n)
{
	if (b->oom)
		return;
	if (n > WIRE_MAX_FRAME || b->len + n > WIRE_MAX_FRAME) {
		b->oom = true;
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *q = realloc(b->p, cap);
		if (!q) {
			b->oom = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void wire_put_u8(struct wire_buf *b, uint8_t v)
{
	put(b, &v, 1);
}

void wire_put_u32(struct wire_buf *b, uint32_t v)
{
	uint8_t x[4];
	for (int i = 0; i < 4; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	put(b, x, 4);
}

void wire_put_u64(struct wire_buf *b, uint64_t v)
{
	uint8_t x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	put(b, x, 8);
}

void wire_put_i64(struct wire_buf *b, int64_t v)
{
	wire_put_u64(b, (uint64_t)v);
}

void wire_put_str(struct wire_buf *b, const char *s)
{
	if (!s) {
		wire_put_u32(b, NULL_STR);
		return;
	}
	size_t n = strlen(s);
	if (n >= NULL_STR) {
		b->oom = true;
		return;
	}
	wire_put_u32(b, (uint32_t)n);
	put(b, s, n);
}

void wire_put_obs(struct wire_buf *b, const struct cc_observation *o)
{
	wire_put_u32(b, (uint32_t)o->system);
	wire_put_str(b, o->remote_id);
	wire_put_u64(b, o->rv);
	wire_put_i64(b, o->mtime_s);
	wire_put_i64(b, o->created_s);
	wire_put_str(b, o->correlation_id);
	wire_put_u8(b, o->deleted);
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		const struct cc_obs_field *of = &o->fields[f];
		wire_put_u8(b, of->present);
		wire_put_str(b, of->value);
		wire_put_i64(b, of->mtime_s);
		wire_put_str(b, of->author);
	}
	wire_put_u32(b, (uint32_t)o->ncomments);
	for (size_t i = 0; i < o->ncomments; i++) {
		const struct cc_obs_comment *c = &o->comments[i];
		wire_put_str(b, c->id);
		wire_put_str(b, c->body);
		wire_put_str(b, c->author);
		wire_put_i64(b, c->created_s);
	}
}

void wire_put_page(struct wire_buf *b, const struct cc_page *p)
{
	wire_put_u32(b, (uint32_t)p->nitems);
	wire_put_u8(b, p->more);
	for (size_t i = 0; i < p->nitems; i++)
		wire_put_obs(b, &p->items[i]);
}

void wire_put_write(struct wire_buf *b, const struct cc_write *w)
{
	wire_put_str(b, w->remote_id);
	wire_put_str(b, w->correlation_id);
	wire_put_u64(b, w->expected_rv);
	for (int f = 0; f < CC_MAX_FIELDS; f++)
		wire_put_str(b, w->values[f]);
}

void wire_put_call(struct wire_buf *b, const struct cc_call *c)
{
	wire_put_u8(b, (uint8_t)c->result);
	wire_put_u8(b, c->outcome_unknown);
	wire_put_i64(b, c->retry_after_ms);
	wire_put_str(b, c->reason);
	wire_put_u32(b, (uint32_t)c->requests);
	wire_put_u8(b, c->has_date);
	wire_put_i64(b, c->date_s);
	wire_put_i64(b, c->sent_ms);
	wire_put_i64(b, c->recv_ms);
}

/* ---- input ------------------------------------------------------------ */

void wire_reader_init(struct wire_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->bad = false;
	r->oom = false;
}

static bool take(struct wire_reader *r, void *dst, size_t n)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		memset(dst, 0, n);
		return false;
	}
	memcpy(dst, r->p + r->off, n);
	r->off += n;
	return true;
}

uint8_t wire_get_u8(struct wire_reader *r)
{
	uint8_t v;
	take(r, &v, 1);
	return v;
}

uint32_t wire_get_u32(struct wire_reader *r)
{
	uint8_t x[4];
	take(r, x, 4);
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v |= (uint32_t)x[i] << (8 * i);
	return v;
}

uint64_t wire_get_u64(struct wire_reader *r)
{
	uint8_t x[8];
	take(r, x, 8);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)x[i] << (8 * i);
	return v;
}

int64_t wire_get_i64(struct wire_reader *r)
{
	return (int64_t)wire_get_u64(r);
}

bool wire_get_bool(struct wire_reader *r)
{
	uint8_t v = wire_get_u8(r);
	if (v > 1)
		r->bad = true;
	return v == 1;
}

/* Checks a string's length and bytes; returns its length or -1 (NULL or bad). */
static long str_span(struct wire_reader *r, bool *is_null)
{
	uint32_t n = wire_get_u32(r);
	*is_null = false;
	if (r->bad)
		return -1;
	if (n == NULL_STR) {
		*is_null = true;
		return -1;
	}
	if (n > r->len - r->off || memchr(r->p + r->off, '\0', n)) {
		r->bad = true;
		return -1;
	}
	return (long)n;
}

char *wire_get_str(struct wire_reader *r)
{
	bool is_null;
	long n = str_span(r, &is_null);
	if (n < 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (!s) {
		r->oom = true;
		r->bad = true;
		return NULL;
	}
	memcpy(s, r->p + r->off, (size_t)n);
	s[n] = '\0';
	r->off += (size_t)n;
	return s;
}

void wire_get_str_buf(struct wire_reader *r, char *buf, size_t len)
{
	bool is_null;
	long n = str_span(r, &is_null);
	if (len)
		buf[0] = '\0';
	if (n < 0) {
		if (is_null)
			r->bad = true;
		return;
	}
	if ((size_t)n >= len) {
		r->bad = true;
		return;
	}
	memcpy(buf, r->p + r->off, (size_t)n);
	buf[n] = '\0';
	r->off += (size_t)n;
}

bool wire_done(const struct wire_reader *r)
{
	return !r->bad && r->off == r->len;
}

/* A count of items of at least min_bytes each: must fit in what is left. */
static uint32_t get_count(struct wire_reader *r, size_t min_bytes, uint32_t max)
{
	uint32_t n = wire_get_u32(r);
	if (r->bad)
		return 0;
	if (n > max || (size_t)n > (r->len - r->off) / min_bytes) {
		r->bad = true;
		return 0;
	}
	return n;
}

int wire_get_obs(struct wire_reader *r, struct cc_observation *out)
{
	cc_observation_init(out);
	uint32_t sys = wire_get_u32(r);
	out->system = sys == 0xffffffffu ? -1 : (int)sys;
	if (sys != 0xffffffffu && sys >= CC_MAX_SYSTEMS)
		r->bad = true;
	out->remote_id = wire_get_str(r);
	out->rv = wire_get_u64(r);
	out->mtime_s = wire_get_i64(r);
	out->created_s = wire_get_i64(r);
	out->correlation_id = wire_get_str(r);
	out->deleted = wire_get_bool(r);
	for (int f = 0; f < CC_MAX_FIELDS && !r->bad; f++) {
		struct cc_obs_field *of = &out->fields[f];
		of->present = wire_get_bool(r);
		of->value = wire_get_str(r);
		of->mtime_s = wire_get_i64(r);
		of->author = wire_get_str(r);
		if (of->present && !of->value)
			r->bad = true; /* a present field always has a value */
	}
	uint32_t n = get_count(r, MIN_COMMENT_BYTES, MAX_COMMENTS);
	if (n && !r->bad) {
		out->comments = calloc(n, sizeof(*out->comments));
		if (!out->comments) {
			r->oom = r->bad = true;
		} else {
			out->ncomments = n;
			for (uint32_t i = 0; i < n && !r->bad; i++) {
				struct cc_obs_comment *c = &out->comments[i];
				c->id = wire_get_str(r);
				c->body = wire_get_str(r);
				c->author = wire_get_str(r);
				c->created_s = wire_get_i64(r);
			}
		}
	}
	if (r->bad) {
		cc_observation_clear(out);
		return CC_EINVAL;
	}
	return 0;
}

int wire_get_page(struct wire_reader *r, struct cc_page *out)
{
	memset(out, 0, sizeof(*out));
	uint32_t n = get_count(r, MIN_OBS_BYTES, MAX_ITEMS);
	bool more = wire_get_bool(r);
	if (r->bad)
		return CC_EINVAL;
	if (n) {
		out->items = calloc(n, sizeof(*out->items));
		if (!out->items) {
			r->oom = r->bad = true;
			return CC_EINVAL;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		if (wire_get_obs(r, &out->items[i])) {
			cc_page_clear(out);
			return CC_EINVAL;
		}
		out->nitems++;
	}
	out->more = more;
	return 0;
}

void wire_write_clear(struct cc_write *w)
{
	free((char *)w->remote_id);
	free((char *)w->correlation_id);
	for (int f = 0; f < CC_MAX_FIELDS; f++)
		free((char *)w->values[f]);
	memset(w, 0, sizeof(*w));
}

int wire_get_write(struct wire_reader *r, struct cc_write *out)
{
	memset(out, 0, sizeof(*out));
	out->remote_id = wire_get_str(r);
	out->correlation_id = wire_get_str(r);
	out->expected_rv = wire_get_u64(r);
	for (int f = 0; f < CC_MAX_FIELDS && !r->bad; f++)
		out->values[f] = wire_get_str(r);
	if (r->bad) {
		wire_write_clear(out);
		return CC_EINVAL;
	}
	return 0;
}

int wire_get_call(struct wire_reader *r, struct cc_call *out)
{
	memset(out, 0, sizeof(*out));
	uint8_t res = wire_get_u8(r);
	if (res > CC_CONFLICT)
		r->bad = true;
	out->result = (enum cc_result)res;
	out->outcome_unknown = wire_get_bool(r);
	out->retry_after_ms = wire_get_i64(r);
	wire_get_str_buf(r, out->reason, sizeof(out->reason));
	uint32_t req = wire_get_u32(r);
	if (req > 1000000u)
		r->bad = true;
	out->requests = (int)req;
	out->has_date = wire_get_bool(r);
	out->date_s = wire_get_i64(r);
	out->sent_ms = wire_get_i64(r);
	out->recv_ms = wire_get_i64(r);
	if (r->bad) {
		memset(out, 0, sizeof(*out));
		return CC_EINVAL;
	}
	return 0;
}

/* ---- frames ----------------------------------------------------------- */

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *q = p;
	while (n) {
		ssize_t k = send(fd, q, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return CC_EIO;
		q += k;
		n -= (size_t)k;
	}
	return 0;
}

/* 1 all read, 0 end of stream before the first byte, -1 error or short. */
static int read_all(int fd, void *p, size_t n)
{
	uint8_t *q = p;
	size_t got = 0;
	while (got < n) {
		ssize_t k = read(fd, q + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return CC_EIO;
		if (k == 0)
			return got == 0 ? 0 : -1;
		got += (size_t)k;
	}
	return 1;
}

int wire_send(int fd, const struct wire_buf *b)
{
	if (b->oom || b->len > WIRE_MAX_FRAME)
		return CC_EIO;
	uint8_t hdr[4];
	for (int i = 0; i < 4; i++)
		hdr[i] = (uint8_t)((uint32_t)b->len >> (8 * i));
	if (write_all(fd, hdr, 4))
		return CC_EIO;
	return b->len ? write_all(fd, b->p, b->len) : 0;
}

int wire_recv(int fd, struct wire_buf *b)
{
	uint8_t hdr[4];
	int rc = read_all(fd, hdr, 4);
	if (rc <= 0)
		return rc;
	uint32_t n = 0;
	for (int i = 0; i < 4; i++)
		n |= (uint32_t)hdr[i] << (8 * i);
	if (n > WIRE_MAX_FRAME)
		return CC_EIO;
	wire_buf_reset(b);
	if (n > b->cap) {
		uint8_t *q = realloc(b->p, n);
		if (!q)
			return CC_EIO;
		b->p = q;
		b->cap = n;
	}
	if (n && read_all(fd, b->p, n) != 1)
		return CC_EIO;
	b->len = n;
	return 1;
}
