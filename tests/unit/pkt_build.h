/* Crafted frames for the parser tests (host unit tests and BPF_PROG_TEST_RUN
 * tests): a tiny builder that appends headers to a buffer and fixes up the
 * IP length fields at the end, so each test states only what it varies. */
#ifndef FLOWD_TEST_PKT_BUILD_H
#define FLOWD_TEST_PKT_BUILD_H

#include <stdint.h>
#include <string.h>

#define PB_MAX 4096

struct pb {
	uint8_t b[PB_MAX];
	size_t len;
	size_t ip_off;     /* start of the last IP header, or (size_t)-1 */
	int ip_ver;
	int fix_len;       /* pb_finish writes the IP length fields */
};

static inline void pb_put(struct pb *p, const void *d, size_t n)
{
	memcpy(p->b + p->len, d, n);
	p->len += n;
}
static inline void pb_u8(struct pb *p, uint8_t v) { p->b[p->len++] = v; }
static inline void pb_u16(struct pb *p, uint16_t v) { pb_u8(p, v >> 8); pb_u8(p, v & 0xff); }
static inline void pb_u32(struct pb *p, uint32_t v) { pb_u16(p, v >> 16); pb_u16(p, v & 0xffff); }
static inline void pb_zeros(struct pb *p, size_t n) { memset(p->b + p->len, 0, n); p->len += n; }
static inline void pb_set16(struct pb *p, size_t off, uint16_t v)
{
	p->b[off] = v >> 8;
	p->b[off + 1] = v & 0xff;
}

static const uint8_t PB_MAC_DST[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t PB_MAC_SRC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
/* 198.18.0.1 -> 198.18.0.2, 2001:db8::1 -> 2001:db8::2 */
static const uint8_t PB_IP4_SRC[4] = { 198, 18, 0, 1 };
static const uint8_t PB_IP4_DST[4] = { 198, 18, 0, 2 };
static const uint8_t PB_IP6_SRC[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t PB_IP6_DST[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static inline void pb_init(struct pb *p)
{
	memset(p, 0, sizeof(*p));
	p->ip_off = (size_t)-1;
	p->fix_len = 1;
}

static inline void pb_eth(struct pb *p, uint16_t ethertype)
{
	pb_put(p, PB_MAC_DST, 6);
	pb_put(p, PB_MAC_SRC, 6);
	pb_u16(p, ethertype);
}

/* A VLAN tag: call after pb_eth(tpid) with the inner ethertype. */
static inline void pb_vlan(struct pb *p, uint16_t tci, uint16_t inner)
{
	pb_u16(p, tci);
	pb_u16(p, inner);
}

/* IPv4 header with ihl words (>= 5; options are NOPs), frag = flags+offset word. */
static inline void pb_ipv4(struct pb *p, uint8_t proto, int ihl, uint16_t id, uint16_t frag)
{
	p->ip_off = p->len;
	p->ip_ver = 4;
	pb_u8(p, 0x40 | (ihl & 0xf));
	pb_u8(p, 0);
	pb_u16(p, 0);        /* total length: pb_finish */
	pb_u16(p, id);
	pb_u16(p, frag);
	pb_u8(p, 64);
	pb_u8(p, proto);
	pb_u16(p, 0);
	pb_put(p, PB_IP4_SRC, 4);
	pb_put(p, PB_IP4_DST, 4);
	for (int i = 5; i < ihl; i++)
		pb_u32(p, 0x01010101);
}

static inline void pb_ipv6(struct pb *p, uint8_t nh)
{
	p->ip_off = p->len;
	p->ip_ver = 6;
	pb_u32(p, 0x60000000);
	pb_u16(p, 0);        /* payload length: pb_finish */
	pb_u8(p, nh);
	pb_u8(p, 63);
	pb_put(p, PB_IP6_SRC, 16);
	pb_put(p, PB_IP6_DST, 16);
}

/* Generic extension header of (len8 + 1) * 8 bytes. */
static inline void pb_ext(struct pb *p, uint8_t nh, uint8_t len8)
{
	pb_u8(p, nh);
	pb_u8(p, len8);
	pb_zeros(p, 6 + (size_t)len8 * 8);
}

static inline void pb_ah(struct pb *p, uint8_t nh, uint8_t len4m2)
{
	pb_u8(p, nh);
	pb_u8(p, len4m2);
	pb_zeros(p, 2);
	pb_u32(p, 0x1234);           /* SPI */
	pb_zeros(p, ((size_t)len4m2 + 2) * 4 - 8);
}

static inline void pb_frag6(struct pb *p, uint8_t nh, uint16_t offset8, int more, uint32_t id)
{
	pb_u8(p, nh);
	pb_u8(p, 0);
	pb_u16(p, (uint16_t)(offset8 << 3 | (more ? 1 : 0)));
	pb_u32(p, id);
}

static inline void pb_tcp(struct pb *p, uint16_t sport, uint16_t dport, uint32_t seq,
                          uint32_t ack, uint16_t flags9, int doff, uint16_t win)
{
	pb_u16(p, sport);
	pb_u16(p, dport);
	pb_u32(p, seq);
	pb_u32(p, ack);
	pb_u8(p, (uint8_t)(doff << 4 | ((flags9 >> 8) & 1)));
	pb_u8(p, flags9 & 0xff);
	pb_u16(p, win);
	pb_u16(p, 0);
	pb_u16(p, 0);
	for (int i = 5; i < doff; i++)
		pb_u32(p, 0x01010101);
}

static inline void pb_udp(struct pb *p, uint16_t sport, uint16_t dport, uint16_t payload)
{
	pb_u16(p, sport);
	pb_u16(p, dport);
	pb_u16(p, (uint16_t)(8 + payload));
	pb_u16(p, 0);
}

static inline void pb_sctp(struct pb *p, uint16_t sport, uint16_t dport)
{
	pb_u16(p, sport);
	pb_u16(p, dport);
	pb_u32(p, 0xdeadbeef);
	pb_u32(p, 0);
}

static inline void pb_icmp(struct pb *p, uint8_t type, uint8_t code, uint16_t id, uint16_t seq)
{
	pb_u8(p, type);
	pb_u8(p, code);
	pb_u16(p, 0);
	pb_u16(p, id);
	pb_u16(p, seq);
}

static inline void pb_payload(struct pb *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pb_u8(p, (uint8_t)('a' + i % 26));
}

/* Writes the IP length field from the current end; then adds pad bytes of
 * Ethernet padding that the IP length does not cover. */
static inline void pb_finish(struct pb *p, size_t pad)
{
	if (p->fix_len && p->ip_off != (size_t)-1) {
		if (p->ip_ver == 4)
			pb_set16(p, p->ip_off + 2, (uint16_t)(p->len - p->ip_off));
		else
			pb_set16(p, p->ip_off + 4, (uint16_t)(p->len - p->ip_off - 40));
	}
	pb_zeros(p, pad);
}

#endif
