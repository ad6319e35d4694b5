/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Benchmark wrapper for "many flows": BPF_PROG_TEST_RUN repeats one frame,
 * so this program rewrites 4 bytes of the frame (the low word of the source
 * address, at vary_off) to the next of nflows values, then tail-calls the
 * program under test (target[0]). Measured with target = a bare return, its
 * own cost is subtracted out by comparison in the same run.
 *
 * The values are visited with a stride (flow = k * stride mod nflows):
 * stride 1 when filling the maps, a large prime when measuring, so the
 * packets do not meet the flows in insertion order. (In insertion order a
 * kernel hash map's preallocated elements are read sequentially - an
 * artefact real traffic does not have.)
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target_xdp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target_tc SEC(".maps");

__u32 vary_off;   /* offset of the 4 bytes to rewrite */
__u32 nflows;     /* values: 0 .. nflows-1 */
__u32 stride;     /* < nflows, coprime with it */
__u32 next;

static __always_inline void vary(void *data, void *end)
{
	__u32 off = vary_off, i = next, n;

	if (off > 256)
		return;
	if (data + off + 4 > end)
		return;
	n = i + stride;
	next = n >= nflows ? n - nflows : n;
	*(__u32 *)(data + off) = __builtin_bswap32(0x0a000000 + i);
}

SEC("xdp")
int vary_xdp(struct xdp_md *ctx)
{
	vary((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	bpf_tail_call(ctx, &target_xdp, 0);
	return XDP_PASS;
}

SEC("tc")
int vary_tc(struct __sk_buff *skb)
{
	vary((void *)(long)skb->data, (void *)(long)skb->data_end);
	bpf_tail_call(skb, &target_tc, 0);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
