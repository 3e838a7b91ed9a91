/*
 * The one growable buffer of the tree: bytes (the case encoding the
 * stores keep) or text (the values and reasons the connectors build). It
 * grows by doubling and keeps its memory until released, so a buffer that
 * is reset and filled again allocates only when it needs more than before.
 *
 * Text helpers keep a NUL after the last byte (not counted in len), so
 * data can be read as a C string once anything was added; byte helpers do
 * not. A failed allocation sets oom and leaves the contents as they were;
 * every later addition is then ignored, so a caller may add several parts
 * and check once.
 *
 * Ownership: the buffer owns data; zero-initialise it, release it with
 * cc_buf_free(), or take the text with cc_buf_take().
 */
#ifndef CC_BUF_H
#define CC_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cc_buf {
	uint8_t *data; /* NULL until something is added */
	size_t len;    /* bytes in use */
	size_t cap;    /* bytes allocated */
	bool oom;      /* an allocation failed: the contents are incomplete */
};

/*
 * Room for n more bytes after len. Returns 0, or CC_ENOMEM (oom set, the
 * contents untouched).
 */
int cc_buf_reserve(struct cc_buf *b, size_t n);

/* Appends n bytes (no NUL kept after them). 0 or CC_ENOMEM. */
int cc_buf_append(struct cc_buf *b, const void *p, size_t n);

/* Appends the text s and keeps a NUL after it. 0 or CC_ENOMEM. */
int cc_buf_add(struct cc_buf *b, const char *s);

/* Appends formatted text and keeps a NUL after it. 0 or CC_ENOMEM. */
int cc_buf_addf(struct cc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The text added so far as a new string the caller frees ("" when nothing
 * was added); the buffer is empty afterwards. NULL when out of memory
 * (now or at an earlier addition; the buffer is then released).
 */
char *cc_buf_take(struct cc_buf *b);

/* Forgets the contents (len 0, oom cleared) and keeps the memory. */
void cc_buf_reset(struct cc_buf *b);

/* Releases the memory; the buffer is empty and usable again. */
void cc_buf_free(struct cc_buf *b);

#endif
