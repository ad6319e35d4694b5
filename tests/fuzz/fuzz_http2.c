/* libFuzzer target for l7/http2.c (frames, streams, gRPC, resync; HPACK via
 * http2_hpack.c and nghttp2): see fuzz_l7.h for the input format. Seeds
 * start with the client preface or with frames (mid-stream). */
#include "fuzz_l7.h"

extern const struct l7_parser_ops l7_http2_ops;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_l7_run(&l7_http2_ops, data, size);
}
