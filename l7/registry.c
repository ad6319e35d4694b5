/* SPDX-License-Identifier: BSD-2-Clause */
/* The parsers flowd knows. Weak references: a parser not linked in is simply
 * absent (detection skips it), so protocols can land one at a time. */
#include "l7.h"

#include <stddef.h>

extern const struct l7_parser_ops l7_http1_ops __attribute__((weak));
extern const struct l7_parser_ops l7_http2_ops __attribute__((weak));
extern const struct l7_parser_ops l7_dns_ops __attribute__((weak));
extern const struct l7_parser_ops l7_kafka_ops __attribute__((weak));

const struct l7_parser_ops *l7_parser_by_proto(enum l7_proto proto)
{
	switch (proto) {
	case L7_PROTO_HTTP1: return &l7_http1_ops;
	case L7_PROTO_HTTP2: return &l7_http2_ops;
	case L7_PROTO_DNS: return &l7_dns_ops;
	case L7_PROTO_KAFKA: return &l7_kafka_ops;
	default: return NULL;
	}
}
