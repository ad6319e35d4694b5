/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Benchmark reference: tc/flow_tc.bpf.c compiled without payload capture
 * (bench_payload compares it with the real object in the same run). */
#define FLOW_TC_NO_PAYLOAD
#include "../../tc/flow_tc.bpf.c"
