/* libFuzzer target for l7/http1.c (llhttp underneath): see fuzz_l7.h for
 * the input format. */
#include "fuzz_l7.h"

extern const struct l7_parser_ops l7_http1_ops;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_l7_run(&l7_http1_ops, data, size);
}
