/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* XDP ingress flow accounting: parse, count, pass (XDP_DROP only for what
 * an enforced policy denies). Record semantics and maps:
 * include/flow_account.bpf.h; policy: include/flow_policy.bpf.h. */
#include "flow_account.bpf.h"
#include "flow_policy.bpf.h"

SEC("xdp")
int flow_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct flow_entry *e;
	struct pkt_info pi;
	int st;

	flow_keep_in_memory(&pi);
	st = pkt_parse_eth(data, data_end, &pi);
	e = flow_account(st, &pi, (__u64)(data_end - data), ctx->ingress_ifindex, FLOW_DIR_INGRESS);
	if (flow_policy_apply(e, 1))
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
