/*
 * Unit tests of src/store/case_codec.c, the binary encoding of a case:
 * randomized aggregates (fixed seed) survive encode / decode with every
 * field intact, a fresh case encodes small, and malformed input (every
 * truncation, a wrong version, trailing bytes, flipped bytes, overlong
 * varints, out-of-range values) is refused with CC_EINVAL or at worst
 * decodes to a valid case, never crashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/case_codec.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static uint64_t pick(uint64_t n)
{
	return rnd() % n;
}

static int64_t any_i64(void)
{
	switch (pick(5)) {
	case 0: return 0;
	case 1: return INT64_MIN;
	case 2: return INT64_MAX;
	case 3: return (int64_t)pick(2000000000000ull) - 1000;
	default: return (int64_t)rnd();
	}
}

/* NULL, "", or a random string of printable and UTF-8 bytes. */
static char *any_str(bool allow_null)
{
	if (allow_null && pick(3) == 0)
		return NULL;
	size_t n = pick(4) == 0 ? 0 : pick(40);
	if (pick(20) == 0)
		n = 300 + pick(700);
	char *s = malloc(n + 1);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)(pick(8) == 0 ? 0x80 + pick(0x7f) : 0x20 + pick(0x5f));
	s[n] = '\0';
	return s;
}

static struct cc_version any_ver(void)
{
	if (pick(3) == 0)
		return CC_VERSION_UNSET;
	return (struct cc_version){ any_i64(), (int32_t)rnd(), pick(2) ? rnd() : pick(100) };
}

static int any_system(bool allow_none)
{
	return allow_none ? (int)pick(CC_MAX_SYSTEMS + 1) - 1 : (int)pick(CC_MAX_SYSTEMS);
}

static void random_case(struct cc_case *c)
{
	assert_int_equal(cc_case_init(c), CC_EOK);
	c->id = pick(2) ? rnd() : pick(1000) + 1;
	c->created_ms = any_i64();
	c->origin_system = any_system(true);
	c->mirrored_ms = any_i64();
	c->raised_ms = any_i64();
	c->review = pick(2);
	c->first_title = any_str(true);
	for (int i = 0; i < CC_MAX_FIELDS; i++) {
		struct cc_field_state *f = &c->f[i];
		if (pick(3) == 0)
			continue; /* left as a fresh case has it */
		free(f->value);
		f->value = any_str(false);
		f->ver = any_ver();
		f->origin = any_system(true);
		f->parked = pick(4) == 0;
		f->parked_value = pick(4) == 0 ? any_str(false) : NULL;
		f->parked_system = any_system(true);
		if (pick(2))
			f->parked_ver = any_ver();
	}
	for (int s = 0; s < CC_MAX_SYSTEMS; s++) {
		struct cc_link *l = &c->link[s];
		if (pick(3) == 0)
			continue;
		l->status = (enum cc_link_status)pick(4);
		l->remote_id = any_str(true);
		l->rv = pick(2) ? rnd() : pick(50);
		l->hub_created = pick(2);
		for (int i = 0; i < CC_MAX_FIELDS; i++) {
			if (pick(2))
				l->shadow[i] = any_str(true);
			if (pick(2))
				l->shadow_mtime_s[i] = any_i64();
			if (pick(4) == 0)
				l->pending[i] = any_str(true);
			if (pick(5) == 0)
				l->ignored_ver[i] = any_ver();
		}
		l->pending_mask = (uint32_t)rnd();
		l->needs_read = pick(2);
		l->unmapped_mask = pick(2) ? (uint32_t)rnd() : 0;
		l->ignored_mask = pick(2) ? (uint32_t)rnd() : 0;
		l->create_not_before_ms = any_i64();
		l->create_attempt_ms = any_i64();
		l->create_unknown = pick(2);
		l->dead_lettered = pick(2);
	}
	size_t n = pick(4) == 0 ? 0 : pick(6);
	for (size_t k = 0; k < n; k++) {
		char *id = any_str(false), *body = any_str(false), *author = any_str(true);
		int origin = any_system(false);
		assert_int_equal(cc_case_add_comment(c, origin, id, body, author, NULL), CC_EOK);
		struct cc_comment *cm = &c->comments[c->ncomments - 1];
		for (int s = 0; s < CC_MAX_SYSTEMS; s++)
			if (s != origin && pick(2)) {
				free(cm->mirror_id[s]);
				cm->mirror_id[s] = any_str(true);
			}
		cm->unknown_mask = (uint32_t)rnd();
		free(id);
		free(body);
		free(author);
	}
}

static void same_str(const char *a, const char *b)
{
	if (!a || !b)
		assert_true(a == b);
	else
		assert_string_equal(a, b);
}

static void same_ver(const struct cc_version *a, const struct cc_version *b)
{
	assert_true(a->t_ms == b->t_ms);
	assert_int_equal(a->rank, b->rank);
	assert_true(a->rv == b->rv);
}

static void assert_case_equal(const struct cc_case *a, const struct cc_case *b)
{
	assert_true(a->id == b->id);
	assert_true(a->created_ms == b->created_ms);
	assert_int_equal(a->origin_system, b->origin_system);
	assert_true(a->mirrored_ms == b->mirrored_ms);
	assert_true(a->raised_ms == b->raised_ms);
	assert_int_equal(a->review, b->review);
	same_str(a->first_title, b->first_title);
	for (int i = 0; i < CC_MAX_FIELDS; i++) {
		same_str(a->f[i].value, b->f[i].value);
		same_ver(&a->f[i].ver, &b->f[i].ver);
		assert_int_equal(a->f[i].origin, b->f[i].origin);
		assert_int_equal(a->f[i].parked, b->f[i].parked);
		same_str(a->f[i].parked_value, b->f[i].parked_value);
		assert_int_equal(a->f[i].parked_system, b->f[i].parked_system);
		same_ver(&a->f[i].parked_ver, &b->f[i].parked_ver);
	}
	for (int s = 0; s < CC_MAX_SYSTEMS; s++) {
		const struct cc_link *x = &a->link[s], *y = &b->link[s];
		assert_int_equal(x->status, y->status);
		same_str(x->remote_id, y->remote_id);
		assert_true(x->rv == y->rv);
		assert_int_equal(x->hub_created, y->hub_created);
		for (int i = 0; i < CC_MAX_FIELDS; i++) {
			same_str(x->shadow[i], y->shadow[i]);
			assert_true(x->shadow_mtime_s[i] == y->shadow_mtime_s[i]);
			same_str(x->pending[i], y->pending[i]);
			same_ver(&x->ignored_ver[i], &y->ignored_ver[i]);
		}
		assert_int_equal(x->pending_mask, y->pending_mask);
		assert_int_equal(x->needs_read, y->needs_read);
		assert_int_equal(x->unmapped_mask, y->unmapped_mask);
		assert_int_equal(x->ignored_mask, y->ignored_mask);
		assert_true(x->create_not_before_ms == y->create_not_before_ms);
		assert_true(x->create_attempt_ms == y->create_attempt_ms);
		assert_int_equal(x->create_unknown, y->create_unknown);
		assert_int_equal(x->dead_lettered, y->dead_lettered);
	}
	assert_int_equal(a->ncomments, b->ncomments);
	for (size_t i = 0; i < a->ncomments; i++) {
		const struct cc_comment *x = &a->comments[i], *y = &b->comments[i];
		assert_int_equal(x->origin_system, y->origin_system);
		same_str(x->origin_id, y->origin_id);
		same_str(x->body, y->body);
		same_str(x->author, y->author);
		for (int s = 0; s < CC_MAX_SYSTEMS; s++)
			same_str(x->mirror_id[s], y->mirror_id[s]);
		assert_int_equal(x->unknown_mask, y->unknown_mask);
	}
}

static void test_fresh_case_is_small(void **state)
{
	(void)state;
	struct cc_case c, d;
	struct cc_buf b = { 0 };
	assert_int_equal(cc_case_init(&c), CC_EOK);
	c.id = 42;
	assert_int_equal(cc_case_encode(&b, &c), CC_EOK);
	assert_true(b.len <= 16);
	assert_int_equal(b.data[0], CC_CASE_CODEC_VERSION);
	assert_int_equal(cc_case_decode(&d, b.data, b.len), CC_EOK);
	assert_case_equal(&c, &d);
	cc_case_clear(&c);
	cc_case_clear(&d);
	cc_buf_free(&b);
}

static void test_random_round_trip(void **state)
{
	(void)state;
	struct cc_buf b = { 0 }, b2 = { 0 };
	for (int n = 0; n < 2000; n++) {
		struct cc_case c, d;
		random_case(&c);
		assert_int_equal(cc_case_encode(&b, &c), CC_EOK);
		assert_int_equal(cc_case_decode(&d, b.data, b.len), CC_EOK);
		assert_case_equal(&c, &d);
		/* deterministic: the decoded case encodes to the same bytes */
		assert_int_equal(cc_case_encode(&b2, &d), CC_EOK);
		assert_int_equal(b.len, b2.len);
		assert_memory_equal(b.data, b2.data, b.len);
		cc_case_clear(&c);
		cc_case_clear(&d);
	}
	cc_buf_free(&b);
	cc_buf_free(&b2);
}

static void test_truncations_refused(void **state)
{
	(void)state;
	struct cc_buf b = { 0 };
	for (int n = 0; n < 50; n++) {
		struct cc_case c, d;
		random_case(&c);
		assert_int_equal(cc_case_encode(&b, &c), CC_EOK);
		for (size_t len = 0; len < b.len; len++) {
			/* a fresh copy of exactly len bytes, so ASan sees any overread */
			uint8_t *p = malloc(len ? len : 1);
			memcpy(p, b.data, len);
			assert_int_equal(cc_case_decode(&d, len ? p : NULL, len), CC_EINVAL);
			free(p);
		}
		cc_case_clear(&c);
	}
	cc_buf_free(&b);
}

static void test_malformed_refused(void **state)
{
	(void)state;
	struct cc_case c, d;
	struct cc_buf b = { 0 };
	assert_int_equal(cc_case_init(&c), CC_EOK);
	c.id = 7;
	assert_int_equal(cc_case_encode(&b, &c), CC_EOK);
	uint8_t buf[64];
	memcpy(buf, b.data, b.len);

	buf[0] = CC_CASE_CODEC_VERSION + 1; /* unknown version */
	assert_int_equal(cc_case_decode(&d, buf, b.len), CC_EINVAL);
	buf[0] = CC_CASE_CODEC_VERSION;
	buf[b.len] = 0; /* trailing byte */
	assert_int_equal(cc_case_decode(&d, buf, b.len + 1), CC_EINVAL);

	/* an overlong varint for the id */
	uint8_t over[] = { 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f };
	assert_int_equal(cc_case_decode(&d, over, sizeof(over)), CC_EINVAL);
	/* origin system out of range: zigzag 40 is 20 */
	uint8_t origin[] = { 1, 7, 0, 40, 0, 0, 0, 0, 0, 0, 0 };
	assert_int_equal(cc_case_decode(&d, origin, sizeof(origin)), CC_EINVAL);
	/* review must be 0 or 1 */
	uint8_t review[] = { 1, 7, 0, 1, 0, 0, 2, 0, 0, 0, 0 };
	assert_int_equal(cc_case_decode(&d, review, sizeof(review)), CC_EINVAL);
	/* a string longer than what is left */
	uint8_t longstr[] = { 1, 7, 0, 1, 0, 0, 0, 50, 'a', 'b' };
	assert_int_equal(cc_case_decode(&d, longstr, sizeof(longstr)), CC_EINVAL);
	/* a string with a NUL byte */
	uint8_t nul[] = { 1, 7, 0, 1, 0, 0, 0, 3, 'a', 0, 0, 0, 0 };
	assert_int_equal(cc_case_decode(&d, nul, sizeof(nul)), CC_EINVAL);
	/* a field mask beyond CC_MAX_FIELDS */
	uint8_t fmask[] = { 1, 7, 0, 1, 0, 0, 0, 0, 0x80, 0x80, 0x04, 0, 0 };
	assert_int_equal(cc_case_decode(&d, fmask, sizeof(fmask)), CC_EINVAL);
	/* a huge comment count */
	uint8_t many[] = { 1, 7, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f };
	assert_int_equal(cc_case_decode(&d, many, sizeof(many)), CC_EINVAL);
	/* the valid minimal form decodes */
	uint8_t ok[] = { 1, 7, 0, 1, 0, 0, 0, 0, 0, 0, 0 };
	assert_int_equal(cc_case_decode(&d, ok, sizeof(ok)), CC_EOK);
	assert_int_equal(d.id, 7);
	assert_int_equal(d.origin_system, -1);
	assert_string_equal(d.f[3].value, "");
	cc_case_clear(&d);
	cc_case_clear(&c);
	cc_buf_free(&b);
}

static void test_flipped_bytes_never_crash(void **state)
{
	(void)state;
	struct cc_buf b = { 0 }, b2 = { 0 };
	int refused = 0, accepted = 0;
	for (int n = 0; n < 300; n++) {
		struct cc_case c, d;
		random_case(&c);
		assert_int_equal(cc_case_encode(&b, &c), CC_EOK);
		for (int k = 0; k < 20; k++) {
			uint8_t *p = malloc(b.len);
			memcpy(p, b.data, b.len);
			int flips = 1 + (int)pick(3);
			for (int f = 0; f < flips; f++)
				p[pick(b.len)] ^= (uint8_t)(1u << pick(8));
			int rc = cc_case_decode(&d, p, b.len);
			assert_true(rc == CC_EOK || rc == CC_EINVAL);
			if (rc == CC_EOK) {
				/* whatever decodes is a valid case that encodes again */
				assert_int_equal(cc_case_encode(&b2, &d), CC_EOK);
				cc_case_clear(&d);
				accepted++;
			} else {
				refused++;
			}
			free(p);
		}
		cc_case_clear(&c);
	}
	assert_true(refused > 0);
	assert_true(accepted > 0);
	cc_buf_free(&b);
	cc_buf_free(&b2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_case_is_small),
		cmocka_unit_test(test_random_round_trip),
		cmocka_unit_test(test_truncations_refused),
		cmocka_unit_test(test_malformed_refused),
		cmocka_unit_test(test_flipped_bytes_never_crash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
