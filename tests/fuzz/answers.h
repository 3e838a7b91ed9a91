/*
 * Remote answers scripted by a fuzz input (or a seed file), served through
 * the HTTP client's stand-in transport (src/http/client.h) in the order the
 * connector asks: the fuzzer then drives a connector's whole answer path,
 * headers included, without a network.
 *
 * Input format: answers separated by a line "~~~". An answer that starts
 * with three digits is "STATUS\n" then header lines, a blank line and the
 * body; any other answer is a body with status 200 and no headers. Once the
 * answers run out, every request is refused (a connection error).
 */
#ifndef CC_FUZZ_ANSWERS_H
#define CC_FUZZ_ANSWERS_H

#include "http/client.h"

#include <stddef.h>
#include <stdint.h>

#define FUZZ_MAX_ANSWERS 64

struct fuzz_answers {
	struct cc_http_raw_answer a[FUZZ_MAX_ANSWERS];
	size_t n, next;
	char *copy; /* the input, NUL-terminated; the answers point into it */
};

/* Splits data into answers (copied; release with fuzz_answers_free). */
void fuzz_answers_parse(struct fuzz_answers *fa, const uint8_t *data, size_t size);
void fuzz_answers_free(struct fuzz_answers *fa);

/* A stand-in transport over fa (fa must outlive the clients using it). */
struct cc_http_transport fuzz_answers_transport(struct fuzz_answers *fa);

#endif
