/* libFuzzer target for l7/http2.c (frames, streams, gRPC, resync after
 * gaps; HPACK via http2_hpack.c and nghttp2): see fuzz_l7.h for the input
 * format. Seeds start with the client preface or with frames (mid-stream).
 * Inputs of odd length start as after an HTTP/1.1 "Upgrade: h2c" (stream 1
 * is that request's; its HTTP2-Settings apply). */
#include "fuzz_l7.h"

extern const struct l7_parser_ops l7_http2_ops;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fields[] = {
		"Host", "198.18.0.2", "Upgrade", "h2c", "HTTP2-Settings", "AAEAAAAAAAUAAEAA",
		"X-Request-Id", "fz", "Content-Type", "application/grpc",
	};
	static const struct l7_upgrade up = { .method = "POST", .url = "http://198.18.0.2/up",
	                                      .ts_ns = 500, .headers = fields, .n_headers = 5 };
	return fuzz_l7_run_upgraded(&l7_http2_ops, data, size, (size & 1) ? &up : NULL);
}
