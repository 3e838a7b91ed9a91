/*
 * A small length-prefixed binary encoding of the connector's data
 * (observations, pages, writes, call outcomes) and the framing of
 * messages over a stream socket. Used between the simulator (parent
 * process, owner of the virtual systems) and a hub running in a child
 * process (sim/hub_process.c), so that the child reaches the virtual
 * systems only through its connectors.
 *
 * Encoding: integers little-endian, fixed width; a string is a u32 length
 * and its bytes (no NUL), or the length 0xffffffff for NULL. A frame is a
 * u32 payload length, then the payload. Every length is checked on decode
 * against what remains of the frame; a bad frame makes the reader `bad`,
 * never reads out of bounds, and every get after that returns zero/NULL.
 */
#ifndef SIM_WIRE_H
#define SIM_WIRE_H

#include "core/connector.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_MAX_FRAME (64u << 20) /* 64 MiB: far above any page of 100 records */

/* A growing output buffer. oom is set (and writes ignored) when it cannot grow. */
struct wire_buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

void wire_buf_init(struct wire_buf *b);
void wire_buf_free(struct wire_buf *b);
void wire_buf_reset(struct wire_buf *b);

void wire_put_u8(struct wire_buf *b, uint8_t v);
void wire_put_u32(struct wire_buf *b, uint32_t v);
void wire_put_u64(struct wire_buf *b, uint64_t v);
void wire_put_i64(struct wire_buf *b, int64_t v);
void wire_put_str(struct wire_buf *b, const char *s); /* NULL allowed */
void wire_put_obs(struct wire_buf *b, const struct cc_observation *o);
void wire_put_page(struct wire_buf *b, const struct cc_page *p);
void wire_put_write(struct wire_buf *b, const struct cc_write *w);
void wire_put_call(struct wire_buf *b, const struct cc_call *c);

/* Reading one frame's payload. */
struct wire_reader {
	const uint8_t *p;
	size_t len, off;
	bool bad; /* a length or value did not fit: the frame is refused */
	bool oom;
};

void wire_reader_init(struct wire_reader *r, const void *p, size_t len);
uint8_t wire_get_u8(struct wire_reader *r);
uint32_t wire_get_u32(struct wire_reader *r);
uint64_t wire_get_u64(struct wire_reader *r);
int64_t wire_get_i64(struct wire_reader *r);
bool wire_get_bool(struct wire_reader *r); /* a u8 that must be 0 or 1 */
/* A new string (caller frees), or NULL (encoded NULL, or bad/oom). */
char *wire_get_str(struct wire_reader *r);
/* Into a fixed buffer; a string longer than len - 1 (or NULL) is bad. */
void wire_get_str_buf(struct wire_reader *r, char *buf, size_t len);

/* The decoders return 0, or CC_EINVAL (bad or oom; the output is then empty). */
int wire_get_obs(struct wire_reader *r, struct cc_observation *out); /* cc_observation_clear */
int wire_get_page(struct wire_reader *r, struct cc_page *out);       /* cc_page_clear */
/* A decoded write owns its strings: release with wire_write_clear. */
int wire_get_write(struct wire_reader *r, struct cc_write *out);
void wire_write_clear(struct cc_write *w);
int wire_get_call(struct wire_reader *r, struct cc_call *out);
/* True when the whole frame was read and nothing was bad. */
bool wire_done(const struct wire_reader *r);

/*
 * Frames on a stream socket (blocking). wire_send writes the buffer as one
 * frame: 0, or CC_EIO (peer gone, or the buffer is oom). wire_recv reads
 * one frame into b (replacing its contents): 1, 0 on end of stream before a
 * frame starts, CC_EIO on error, a truncated frame or a length over
 * WIRE_MAX_FRAME.
 */
int wire_send(int fd, const struct wire_buf *b);
int wire_recv(int fd, struct wire_buf *b);

#endif
