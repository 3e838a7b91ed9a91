/*
 * libFuzzer harness: the case codec's decoder (a store file is input like
 * any other). A decoded case must encode again and decode to the same
 * bytes: what the store writes it can read back.
 */
#include "store/case_codec.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cc_case c;
	if (cc_case_decode(&c, data, size) != CC_EOK)
		return 0;
	struct cc_buf a = { 0 }, b = { 0 };
	if (cc_case_encode(&a, &c) != CC_EOK)
		abort();
	struct cc_case d;
	if (cc_case_decode(&d, a.data, a.len) != CC_EOK)
		abort(); /* the encoder wrote what the decoder refuses */
	if (cc_case_encode(&b, &d) != CC_EOK || a.len != b.len || memcmp(a.data, b.data, a.len))
		abort(); /* not stable across a round trip */
	cc_case_clear(&c);
	cc_case_clear(&d);
	cc_buf_free(&a);
	cc_buf_free(&b);
	return 0;
}
