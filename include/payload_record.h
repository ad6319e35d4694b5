/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Payload capture: what the TC programs hand to flowd through the BPF ring
 * buffer `payload_ring`, and the maps that select the flows. Shared by the
 * BPF side (include/payload_capture.bpf.h) and flowd (flowd/payload.c).
 *
 * A record is one packet of a selected flow as the TC hook saw it: the
 * first cap_len bytes of the frame from the MAC header (headers + the
 * start of the L4 payload), so user space re-parses it with pkt_parse.h
 * exactly as `flowctl replay` parses a capture. Packets without payload
 * (SYN, ACK, FIN, RST) are records too: the pipeline needs them as replay
 * sees them. When the payload is cut (snap length, flow budget), the
 * headers still carry the sequence number and the IP lengths the payload
 * length, so TCP reassembly sees a gap of known size, not a desync.
 *
 * Loss is exact: every packet of a selected flow is either a record or
 * counted in `payload_counters` (enum payload_counter) with the reason.
 */
#ifndef FLOWD_PAYLOAD_RECORD_H
#define FLOWD_PAYLOAD_RECORD_H

#include <linux/types.h>

/* Snap length: frame bytes per record. The default takes whole packets,
 * GSO/GRO packets of up to 64 KiB included, so that what the parsers see is
 * what a capture of the interface holds; the per-flow budget bounds the
 * cost. */
#define PAYLOAD_SNAP_MAX 65536
#define PAYLOAD_SNAP_MIN 128          /* smallest: room for every header we parse */
#define PAYLOAD_SNAP_DEFAULT PAYLOAD_SNAP_MAX
#define PAYLOAD_RING_DEFAULT (32u << 20)
#define PAYLOAD_BUDGET_DEFAULT (1u << 20)      /* burst, bytes per directional flow */
#define PAYLOAD_HEAD_BYTES 512                 /* per packet, outside the budget */
#define PAYLOAD_CIDRS_MAX 1024
#define PAYLOAD_MARKS_MAX 16384

enum payload_flag {
	PAYLOAD_F_VLAN = 1,        /* vlan_tci/vlan_proto: a tag the stack took off
	                            * the frame; it was right after the MACs */
	PAYLOAD_F_SNAP_CUT = 2,    /* payload beyond cap_len: cut by the snap length */
	PAYLOAD_F_BUDGET_CUT = 4,  /* payload cut because the flow's budget ran out */
};

/* Record header, followed by cap_len frame bytes (payload_record_frame()).
 * 8-byte aligned, integers in host order. */
struct payload_record {
	__u64 ktime_ns;     /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 ifindex;
	__u32 wire_len;     /* frame length at the hook incl. L2 (+4 with PAYLOAD_F_VLAN):
	                     * tcpdump's "length"; for a GSO packet, all of it */
	__u32 cap_len;      /* frame bytes that follow */
	__u16 flags;        /* enum payload_flag */
	__u16 vlan_tci;
	__u16 vlan_proto;   /* 0x8100 / 0x88a8 */
	__u8 direction;     /* enum flow_dir */
	__u8 pad[5];
};

#define payload_record_frame(r) ((const __u8 *)((r) + 1))

/* pl_state of a flow entry (include/flow_table.h). flowd may write
 * PAYLOAD_ON / PAYLOAD_OFF into a live entry (e.g. after detecting a
 * protocol); the program decides entries still PAYLOAD_UNDECIDED. */
enum payload_state {
	PAYLOAD_UNDECIDED = 0,
	PAYLOAD_OFF = 1,
	PAYLOAD_ON = 2,
	PAYLOAD_PROBE = 3,  /* capture the first cfg.probe_packets payload packets,
	                     * then off unless flowd turned the flow on */
};

/* `payload_cfg` (array, one entry). Selection is decided once per flow
 * entry, at its first packet on a TC hook:
 *   off   if not TCP/UDP, or its protocol's bit is not in l4_mask;
 *   else  the endpoint mark of its source or destination (`payload_marks`)
 *         if there is one (flowd adds them);
 *   on    if (all_ports or a port in `payload_ports`) and (!use_cidrs or an
 *         address in `payload_cidrs`);
 *   probe if probe_packets > 0;
 *   off   otherwise. */
struct payload_config {
	__u32 enabled;          /* 0: nothing is selected */
	__u32 snaplen;          /* PAYLOAD_SNAP_MIN..PAYLOAD_SNAP_MAX */
	__u32 budget_bytes;     /* per directional flow: payload bytes it may
	                         * capture in a burst (0: no budget) */
	__u32 budget_per_unit;  /* refill per 2^20 ns: rate (bytes/s) * 2^20 / 1e9 */
	__u32 head_bytes;       /* payload bytes at the start of every packet the
	                         * budget does not count (PAYLOAD_HEAD_BYTES) */
	__u32 wakeup_bytes;     /* wake the reader only once this much waits in the
	                         * ring (it also reads on a short timer): one
	                         * wakeup per batch, not per packet. 0: the
	                         * kernel's default (wake when it has caught up) */
	__u8 l4_mask;           /* PAYLOAD_L4_TCP | PAYLOAD_L4_UDP */
	__u8 all_ports;
	__u8 use_cidrs;
	__u8 use_marks;
	__u8 probe_packets;
	__u8 pad[3];
};

#define PAYLOAD_L4_TCP 1
#define PAYLOAD_L4_UDP 2

/* `payload_ports`: array of 1024 __u64, bit (port & 63) of word port >> 6. */
#define PAYLOAD_PORT_WORDS 1024

/* `payload_cidrs`: LPM trie; prefixlen counts the family byte (8 + the
 * address prefix), so IPv4 and IPv6 prefixes share one trie. Value: __u8 1. */
struct payload_cidr_key {
	__u32 prefixlen;
	__u8 family;            /* 4 or 6 */
	__u8 addr[16];          /* IPv4 in the first 4 bytes */
};

/* `payload_marks`: hash endpoint -> enum payload_state (ON or OFF). */
struct payload_mark_key {
	__u8 addr[16];
	__u16 port;
	__u8 family;
	__u8 proto;
};

/* `payload_counters`: per-CPU array of __u64 indexed by this enum. */
enum payload_counter {
	PAYLOAD_CNT_RECORDS = 0,      /* records handed to the ring */
	PAYLOAD_CNT_RECORD_BYTES,     /* their frame bytes (cap_len) */
	PAYLOAD_CNT_RING_FULL,        /* packets lost: no room in the ring */
	PAYLOAD_CNT_RING_FULL_BYTES,  /* their wire bytes */
	PAYLOAD_CNT_COPY_ERR,         /* packets lost: the frame could not be read */
	PAYLOAD_CNT_SNAP_CUT,         /* records whose payload the snap length cut */
	PAYLOAD_CNT_SNAP_CUT_BYTES,   /* payload bytes not captured because of it */
	PAYLOAD_CNT_BUDGET_CUT,       /* records whose payload the flow budget cut */
	PAYLOAD_CNT_BUDGET_CUT_BYTES, /* payload bytes not captured because of it */
	PAYLOAD_CNT_NO_ENTRY,         /* packets of flows the table could not hold
	                               * (map full): selection unknown, not captured */
	PAYLOAD_CNT_FLOWS_ON,         /* flow entries selected */
	PAYLOAD_CNT_FLOWS_PROBE,      /* flow entries probed */
	PAYLOAD_CNT_FLOWS_OFF,        /* flow entries not selected */
	PAYLOAD_CNT_MAX
};

#ifndef __bpf__
static inline const char *payload_counter_name(int c)
{
	static const char *const names[PAYLOAD_CNT_MAX] = {
		[PAYLOAD_CNT_RECORDS] = "records",
		[PAYLOAD_CNT_RECORD_BYTES] = "record_bytes",
		[PAYLOAD_CNT_RING_FULL] = "lost_ring_full",
		[PAYLOAD_CNT_RING_FULL_BYTES] = "lost_ring_full_bytes",
		[PAYLOAD_CNT_COPY_ERR] = "lost_copy_error",
		[PAYLOAD_CNT_SNAP_CUT] = "snap_cut",
		[PAYLOAD_CNT_SNAP_CUT_BYTES] = "snap_cut_bytes",
		[PAYLOAD_CNT_BUDGET_CUT] = "budget_cut",
		[PAYLOAD_CNT_BUDGET_CUT_BYTES] = "budget_cut_bytes",
		[PAYLOAD_CNT_NO_ENTRY] = "no_flow_entry",
		[PAYLOAD_CNT_FLOWS_ON] = "flows_selected",
		[PAYLOAD_CNT_FLOWS_PROBE] = "flows_probed",
		[PAYLOAD_CNT_FLOWS_OFF] = "flows_not_selected",
	};
	return c >= 0 && c < PAYLOAD_CNT_MAX && names[c] ? names[c] : "unknown";
}
#endif

#endif /* FLOWD_PAYLOAD_RECORD_H */
