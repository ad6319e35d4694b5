/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Benchmark reference: a plain flow counter as commonly written - parse
 * Ethernet, one VLAN tag, IPv4 (IHL), IPv6 (no extension headers), TCP/UDP
 * ports, bounds-checked; per-CPU hash lookup, insert on miss, in-place
 * packets/bytes update. No timestamps, flags, fragments or counters.
 * Same key type as flowd, so the hash cost is the same.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "flow_record.h"

struct ref_val {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct flow_key);
	__type(value, struct ref_val);
} ref_flows SEC(".maps");

static __always_inline __u16 ld16(const __u8 *p)
{
	return __builtin_bswap16(*(const __u16 *)p);
}

static __always_inline void ref_count(void *data, void *end, __u64 len, __u32 ifindex)
{
	__u8 *p = data;
	struct flow_key key;
	struct ref_val *v, init;
	__u16 proto;

	__builtin_memset(&key, 0, sizeof(key));
	if (p + 14 > (__u8 *)end)
		return;
	proto = ld16(p + 12);
	p += 14;
	if (proto == 0x8100 || proto == 0x88a8) {
		if (p + 4 > (__u8 *)end)
			return;
		key.vlan_id = ld16(p) & 0xfff;
		proto = ld16(p + 2);
		p += 4;
	}
	if (proto == 0x0800) {
		if (p + 20 > (__u8 *)end)
			return;
		key.family = 4;
		key.proto = p[9];
		__builtin_memcpy(key.saddr, p + 12, 4);
		__builtin_memcpy(key.daddr, p + 16, 4);
		p += (p[0] & 0xf) * 4;
	} else if (proto == 0x86dd) {
		if (p + 40 > (__u8 *)end)
			return;
		key.family = 6;
		key.proto = p[6];
		__builtin_memcpy(key.saddr, p + 8, 16);
		__builtin_memcpy(key.daddr, p + 24, 16);
		p += 40;
	} else {
		return;
	}
	if (key.proto == 6 || key.proto == 17) {
		if (p + 4 > (__u8 *)end)
			return;
		key.sport = ld16(p);
		key.dport = ld16(p + 2);
	}
	key.ifindex = ifindex;
	v = bpf_map_lookup_elem(&ref_flows, &key);
	if (v) {
		v->packets++;
		v->bytes += len;
		return;
	}
	init.packets = 1;
	init.bytes = len;
	bpf_map_update_elem(&ref_flows, &key, &init, BPF_NOEXIST);
}

SEC("xdp")
int ref_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

	ref_count(data, end, end - data, ctx->ingress_ifindex);
	return XDP_PASS;
}

SEC("tc")
int ref_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;

	ref_count(data, end, skb->len, skb->ifindex);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
