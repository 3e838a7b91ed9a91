/*
 * Tests of the wire encoding between the simulator and the hub process
 * (src/sim/wire.c): round trips of observations, pages, writes and call
 * outcomes; every truncation of an encoding refused; corrupted bytes never
 * read out of bounds (run under AddressSanitizer by `make test`); frames
 * over a socketpair, oversized and truncated frames refused.
 */
#include "sim/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int failures;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__,     \
			        __LINE__, __func__, #cond);                          \
			failures++;                                                  \
		}                                                                    \
	} while (0)

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void sample_obs(struct cc_observation *o, int n)
{
	cc_observation_init(o);
	o->system = n % 3;
	o->remote_id = strdup(n % 2 ? "INC0000001" : "SEN0000042");
	o->rv = 7 + (uint64_t)n;
	o->mtime_s = -300 + n;
	o->correlation_id = n % 2 ? strdup("concord-12") : NULL;
	o->deleted = n == 3;
	cc_observation_set(o, 0, "Mail outage in Oslo", 1700000000, "alice");
	cc_observation_set(o, 1, "line one\r\nline two  ", 1700000001, NULL);
	cc_observation_set(o, 2, "", 0, "concord");
	cc_observation_add_comment(o, "S1", "[concord:1:0:N3] Note", "concord", 1700000002);
	cc_observation_add_comment(o, "S2", "", NULL, -5);
}

static bool obs_eq(const struct cc_observation *a, const struct cc_observation *b)
{
	if (a->system != b->system || !str_eq(a->remote_id, b->remote_id) || a->rv != b->rv ||
	    a->mtime_s != b->mtime_s || !str_eq(a->correlation_id, b->correlation_id) ||
	    a->deleted != b->deleted || a->ncomments != b->ncomments)
		return false;
	for (int f = 0; f < CC_MAX_FIELDS; f++) {
		const struct cc_obs_field *x = &a->fields[f], *y = &b->fields[f];
		if (x->present != y->present || !str_eq(x->value, y->value) ||
		    x->mtime_s != y->mtime_s || !str_eq(x->author, y->author))
			return false;
	}
	for (size_t i = 0; i < a->ncomments; i++) {
		const struct cc_obs_comment *x = &a->comments[i], *y = &b->comments[i];
		if (!str_eq(x->id, y->id) || !str_eq(x->body, y->body) ||
		    !str_eq(x->author, y->author) || x->created_s != y->created_s)
			return false;
	}
	return true;
}

static void test_obs_round_trip(void)
{
	struct cc_observation o, back;
	struct wire_buf b;
	struct wire_reader r;
	wire_buf_init(&b);
	for (int n = 0; n < 4; n++) {
		sample_obs(&o, n);
		wire_buf_reset(&b);
		wire_put_obs(&b, &o);
		CHECK(!b.oom);
		wire_reader_init(&r, b.p, b.len);
		CHECK(wire_get_obs(&r, &back) == 0);
		CHECK(wire_done(&r));
		CHECK(obs_eq(&o, &back));
		cc_observation_clear(&back);
		cc_observation_clear(&o);
	}
	/* an empty observation (system -1, no id) too */
	cc_observation_init(&o);
	wire_buf_reset(&b);
	wire_put_obs(&b, &o);
	wire_reader_init(&r, b.p, b.len);
	CHECK(wire_get_obs(&r, &back) == 0 && wire_done(&r) && obs_eq(&o, &back));
	cc_observation_clear(&back);
	wire_buf_free(&b);
}

static void test_page_write_call_round_trip(void)
{
	struct cc_page p = { 0 }, back;
	struct wire_buf b;
	struct wire_reader r;
	wire_buf_init(&b);
	p.items = calloc(3, sizeof(*p.items));
	for (int i = 0; i < 3; i++)
		sample_obs(&p.items[i], i);
	p.nitems = 3;
	p.more = true;
	wire_put_page(&b, &p);
	wire_reader_init(&r, b.p, b.len);
	CHECK(wire_get_page(&r, &back) == 0 && wire_done(&r));
	CHECK(back.nitems == 3 && back.more);
	for (size_t i = 0; i < back.nitems && i < 3; i++)
		CHECK(obs_eq(&p.items[i], &back.items[i]));
	cc_page_clear(&back);
	cc_page_clear(&p);

	struct cc_write w = { .remote_id = "JRA0000003", .correlation_id = NULL, .expected_rv = 9 };
	w.values[2] = "In Progress";
	w.values[5] = "";
	struct cc_write wb;
	wire_buf_reset(&b);
	wire_put_write(&b, &w);
	wire_reader_init(&r, b.p, b.len);
	CHECK(wire_get_write(&r, &wb) == 0 && wire_done(&r));
	CHECK(str_eq(wb.remote_id, w.remote_id) && !wb.correlation_id && wb.expected_rv == 9);
	for (int f = 0; f < CC_MAX_FIELDS; f++)
		CHECK(str_eq(wb.values[f], w.values[f]));
	wire_write_clear(&wb);

	struct cc_call c = { .result = CC_CONFLICT, .outcome_unknown = true, .retry_after_ms = 20000,
		             .requests = 3, .has_date = true, .date_s = -12, .sent_ms = 5,
		             .recv_ms = 6 };
	snprintf(c.reason, sizeof(c.reason), "412 Precondition Failed");
	struct cc_call cb;
	wire_buf_reset(&b);
	wire_put_call(&b, &c);
	wire_reader_init(&r, b.p, b.len);
	CHECK(wire_get_call(&r, &cb) == 0 && wire_done(&r));
	CHECK(memcmp(&c, &cb, sizeof(c)) == 0);
	wire_buf_free(&b);
}

enum kind { K_OBS, K_PAGE, K_WRITE, K_CALL };

/* Decodes one thing of a kind; returns 0 or -1, releases what it made. */
static int decode(enum kind k, const uint8_t *p, size_t n, bool *done)
{
	struct wire_reader r;
	int rc = -1;
	wire_reader_init(&r, p, n);
	switch (k) {
	case K_OBS: {
		struct cc_observation o;
		rc = wire_get_obs(&r, &o);
		cc_observation_clear(&o);
		break;
	}
	case K_PAGE: {
		struct cc_page pg;
		rc = wire_get_page(&r, &pg);
		cc_page_clear(&pg);
		break;
	}
	case K_WRITE: {
		struct cc_write w;
		rc = wire_get_write(&r, &w);
		wire_write_clear(&w);
		break;
	}
	case K_CALL: {
		struct cc_call c;
		rc = wire_get_call(&r, &c);
		break;
	}
	}
	*done = wire_done(&r);
	return rc;
}

static void encode(enum kind k, struct wire_buf *b)
{
	wire_buf_reset(b);
	if (k == K_OBS || k == K_PAGE) {
		struct cc_page p = { 0 };
		p.items = calloc(2, sizeof(*p.items));
		sample_obs(&p.items[0], 1);
		sample_obs(&p.items[1], 2);
		p.nitems = 2;
		if (k == K_OBS)
			wire_put_obs(b, &p.items[0]);
		else
			wire_put_page(b, &p);
		cc_page_clear(&p);
	} else if (k == K_WRITE) {
		struct cc_write w = { .remote_id = "INC0000001", .correlation_id = "concord-1" };
		w.values[0] = "title";
		wire_put_write(b, &w);
	} else {
		struct cc_call c = { .result = CC_RETRY, .requests = 1 };
		snprintf(c.reason, sizeof(c.reason), "503");
		wire_put_call(b, &c);
	}
}

static void test_truncated_and_corrupted(void)
{
	struct wire_buf b;
	wire_buf_init(&b);
	for (enum kind k = K_OBS; k <= K_CALL; k++) {
		encode(k, &b);
		bool done;
		CHECK(decode(k, b.p, b.len, &done) == 0 && done);
		/* every proper prefix is refused (in its own allocation, so that
		 * ASan sees any read past it) */
		for (size_t n = 0; n < b.len; n++) {
			uint8_t *cut = malloc(n ? n : 1);
			memcpy(cut, b.p, n);
			int rc = decode(k, cut, n, &done);
			CHECK(rc != 0 || !done);
			free(cut);
		}
		/* every byte spoiled, three ways: never out of bounds */
		static const uint8_t spoil[] = { 0xff, 0x00, 0x7f };
		for (size_t i = 0; i < b.len; i++) {
			for (size_t s = 0; s < sizeof(spoil); s++) {
				uint8_t *bad = malloc(b.len);
				memcpy(bad, b.p, b.len);
				bad[i] = spoil[s];
				(void)decode(k, bad, b.len, &done);
				free(bad);
			}
		}
	}
	/* a string that claims more bytes than there are */
	wire_buf_reset(&b);
	wire_put_u32(&b, 1000);
	wire_put_u8(&b, 'x');
	struct wire_reader r;
	wire_reader_init(&r, b.p, b.len);
	CHECK(wire_get_str(&r) == NULL && r.bad);
	/* a NUL inside a string */
	wire_buf_reset(&b);
	wire_put_u32(&b, 3);
	wire_put_u8(&b, 'a');
	wire_put_u8(&b, 0);
	wire_put_u8(&b, 'b');
	wire_reader_init(&r, b.p, b.len);
	CHECK(wire_get_str(&r) == NULL && r.bad);
	/* a page that claims a billion items */
	wire_buf_reset(&b);
	wire_put_u32(&b, 1000000000u);
	wire_put_u8(&b, 0);
	struct cc_page pg;
	wire_reader_init(&r, b.p, b.len);
	CHECK(wire_get_page(&r, &pg) == CC_EINVAL && pg.nitems == 0);
	wire_buf_free(&b);
}

static void test_frames(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	struct wire_buf out, in;
	wire_buf_init(&out);
	wire_buf_init(&in);
	wire_put_str(&out, "hello");
	wire_put_u64(&out, 42);
	CHECK(wire_send(sv[0], &out) == 0);
	wire_buf_reset(&out);
	CHECK(wire_send(sv[0], &out) == 0); /* an empty frame */
	CHECK(wire_recv(sv[1], &in) == 1 && in.len == 4 + 5 + 8);
	struct wire_reader r;
	wire_reader_init(&r, in.p, in.len);
	char *s = wire_get_str(&r);
	CHECK(s && strcmp(s, "hello") == 0 && wire_get_u64(&r) == 42 && wire_done(&r));
	free(s);
	CHECK(wire_recv(sv[1], &in) == 1 && in.len == 0);
	/* a length over the limit */
	uint8_t big[4] = { 0xff, 0xff, 0xff, 0x7f };
	CHECK(write(sv[0], big, 4) == 4);
	CHECK(wire_recv(sv[1], &in) == CC_EIO);
	/* a truncated frame, then the end of the stream */
	uint8_t part[6] = { 10, 0, 0, 0, 'a', 'b' };
	CHECK(write(sv[0], part, 6) == 6);
	close(sv[0]);
	CHECK(wire_recv(sv[1], &in) == CC_EIO);
	CHECK(wire_recv(sv[1], &in) == 0);
	/* sending to a closed peer fails without SIGPIPE */
	int sp[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	close(sp[1]);
	wire_put_u8(&out, 1);
	CHECK(wire_send(sp[0], &out) == CC_EIO);
	close(sp[0]);
	close(sv[1]);
	wire_buf_free(&out);
	wire_buf_free(&in);
}

int main(void)
{
	test_obs_round_trip();
	test_page_write_call_round_trip();
	test_truncated_and_corrupted();
	test_frames();
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("wire: all checks passed\n");
	return 0;
}
