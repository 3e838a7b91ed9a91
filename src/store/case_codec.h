/*
 * The binary encoding of a case aggregate (struct cc_case) that durable
 * stores keep as one value per case: compact (varints, only what differs
 * from a fresh case), versioned by its first byte, and strictly validated
 * on the way back in, since a file on disk is input like any other.
 *
 * Layout (version 1), integers as LEB128 varints, signed ones zigzagged,
 * strings as varint (length + 1) then the bytes, 0 meaning NULL:
 *
 *   u8 1 | id | created_ms | origin_system | mirrored_ms | raised_ms |
 *   review | first_title |
 *   field mask (16 bits), then per field in it: flags, and what they say
 *   (value, version, origin, parked value, parked system, parked version:
 *   the last flag, 0x80, came later; a case without it decodes as before,
 *   and a case with it is refused by a decoder that predates it) |
 *   link mask (8 bits), then per link in it: status, flags, remote_id, rv,
 *   shadow mask + shadows, shadow time mask + times, pending_mask,
 *   pending string mask + strings, unmapped_mask, ignored_mask, ignored
 *   version mask + versions, create_not_before_ms, create_attempt_ms |
 *   comment count, then per comment: origin system, origin id, body,
 *   author, mirror mask + mirror ids, unknown_mask
 */
#ifndef CC_CASE_CODEC_H
#define CC_CASE_CODEC_H

#include "core/buf.h"
#include "core/case.h"

#define CC_CASE_CODEC_VERSION 1

/*
 * Encodes c into buf (core/buf.h: zero-initialise it, release it with
 * cc_buf_free()), replacing its contents (buf->len is the size). The
 * buffer's memory is kept for the next call, so a caller that encodes
 * often allocates only when a case is bigger than any before.
 * Returns 0, or CC_ENOMEM (buf then holds nothing valid).
 */
int cc_case_encode(struct cc_buf *buf, const struct cc_case *c);

/*
 * Decodes len bytes into *out, which needs no initialisation. On success
 * *out owns every string (release with cc_case_clear()). On malformed
 * input (bad version, a length or count past the end, a varint too long,
 * a value out of range, a string with a NUL byte, trailing bytes) returns
 * CC_EINVAL, on allocation failure CC_ENOMEM; *out is then cleared.
 */
int cc_case_decode(struct cc_case *out, const void *data, size_t len);

#endif
