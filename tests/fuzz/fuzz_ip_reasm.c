/* libFuzzer target for l7/ip_reasm.c, checked against a model: byte k of
 * every datagram of a key is a function of the key and k, so a completed
 * datagram can be verified byte for byte; it must end where the last
 * fragment said; the bounds must hold after every call; every fragment has
 * exactly one outcome; everything is released at the end.
 *
 *   byte 0: bounds selector (datagrams 1-8, bytes 256 B - 64 KiB)
 *   then per fragment 8 bytes:
 *     [0] bits 0-1 id, bit 2 IPv6, bit 3 more fragments, bits 4-7 time step
 *         (step^3 * 10 ms: timeouts fire)
 *     [1-2] offset (bytes, big endian), [3-4] length (& 0x7ff)
 *     [5] bytes cut from the end (caplen), 0 mostly
 *     [6] bit 0: discard the datagram instead, bit 1: expire now
 *     [7] unused (keeps records aligned for the fuzzer's mutations)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ip_reasm.h"

static uint8_t byte_at(uint8_t family, uint32_t id, uint32_t k)
{
	return (uint8_t)(((k + 1) * 2654435761u ^ (id * 40503u) ^ family) >> 13);
}

static uint8_t buf[4][2][IP_REASM_MAX_PAYLOAD + 2048];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		for (int id = 0; id < 4; id++)
			for (int f = 0; f < 2; f++)
				for (uint32_t k = 0; k < sizeof(buf[0][0]); k++)
					buf[id][f][k] = byte_at(f ? 6 : 4, (uint32_t)id, k);
		init = 1;
	}
	if (size < 1)
		return 0;
	struct ip_reasm_config cfg = {
		.max_datagrams = 1 + (data[0] & 7),
		.max_bytes = (size_t)256 << (data[0] >> 5),
		.timeout_ns = 30ull * 1000000000ull,
	};
	struct ip_reasm *r = ip_reasm_new(&cfg);
	if (!r)
		return 0;
	const struct ip_reasm_stats *st = ip_reasm_get_stats(r);
	static const uint8_t a4[16] = { 198, 18, 0, 2 }, b4[16] = { 198, 18, 0, 1 };
	uint64_t ts = 1000000000ull, outcomes = 0, completes = 0;
	/* where the last fragment of each key said the datagram ends */
	uint32_t end[4][2] = { { 0 } };
	for (size_t i = 1; i + 8 <= size; i += 8) {
		const uint8_t *op = data + i;
		const uint32_t id = op[0] & 3, v6 = (op[0] >> 2) & 1;
		const uint64_t step = op[0] >> 4;
		ts += step * step * step * 10000000ull;
		const uint32_t off = (uint32_t)op[1] << 8 | op[2];
		const uint32_t len = ((uint32_t)op[3] << 8 | op[4]) & 0x7ff;
		const uint32_t cut = op[5] > len ? len : op[5];
		struct ip_frag f = {
			.family = v6 ? 6 : 4, .proto = 17, .saddr = a4, .daddr = b4, .id = id,
			.offset = off, .more = (op[0] >> 3) & 1, .data = buf[id][v6] + off,
			.len = len, .caplen = len - cut,
		};
		if (op[6] & 1) {
			ip_reasm_discard(r, &f);
			continue;
		}
		if (op[6] & 2)
			ip_reasm_expire(r, ts);
		if (!f.more)
			end[id][v6] = off + len;
		/* the captured part is a private copy: ASan sees reads past it */
		uint8_t *copy = malloc(f.caplen ? f.caplen : 1);
		memcpy(copy, f.data, f.caplen);
		f.data = copy;
		const uint8_t *out = NULL;
		uint32_t out_len = 0;
		enum ip_reasm_result rc = ip_reasm_add(r, &f, ts, &out, &out_len);
		free(copy);
		outcomes++;
		if (rc == IP_REASM_COMPLETE) {
			completes++;
			if (!out || out_len != end[id][v6] || out_len > IP_REASM_MAX_PAYLOAD ||
			    memcmp(out, buf[id][v6], out_len) != 0)
				abort();
		}
		if (st->held_bytes > cfg.max_bytes || st->in_progress > cfg.max_datagrams ||
		    st->held_bytes_peak > cfg.max_bytes)
			abort();
	}
	if (st->fragments != outcomes || st->reassembled != completes)
		abort();
	ip_reasm_expire_all(r);
	if (st->held_bytes != 0 || st->in_progress != 0)
		abort();
	ip_reasm_free(r);
	return 0;
}
