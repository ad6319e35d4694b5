/* libFuzzer target for the Kafka parser (l7/kafka*.c): framing, headers,
 * the streaming body walker, resync, gaps; see fuzz_l7.h for the input
 * format. Regression inputs: tests/fuzz/corpus/fuzz_kafka/. */
#include "fuzz_l7.h"

extern const struct l7_parser_ops l7_kafka_ops;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_l7_run(&l7_kafka_ops, data, size);
}
