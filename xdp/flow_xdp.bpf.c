/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* XDP ingress flow accounting: parse, count, always XDP_PASS.
 * Record semantics and maps: include/flow_account.bpf.h. */
#include "flow_account.bpf.h"

SEC("xdp")
int flow_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pkt_info pi;
	int st;

	flow_keep_in_memory(&pi);
	st = pkt_parse_eth(data, data_end, &pi);
	flow_account(st, &pi, (__u64)(data_end - data), ctx->ingress_ifindex, FLOW_DIR_INGRESS);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
