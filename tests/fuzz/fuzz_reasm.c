/* libFuzzer target for l7/tcp_reasm.c, checked against a model: the stream
 * byte at offset k is a function of k, so every delivered byte can be
 * verified; output must be contiguous (data and gaps), within the bounds,
 * and everything must be released after a flush.
 *
 *   bytes 0-3: ISN; byte 4: per-stream bound selector; byte 5: total bound
 *   then ops: [op] ...
 *     op & 3 == 0: segment: 2 bytes offset (signed, relative to the highest
 *                  offset sent so far), 2 bytes length (& 0x7ff), 1 byte
 *                  captured part (255 = all), bit 2 of op = FIN
 *     op & 3 == 1: ACK: 2 bytes offset above the same base
 *     op & 3 == 2: sender activity (a packet without payload)
 *     op & 3 == 3: flush, then a fresh stream at the next ISN
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_reasm.h"

static uint8_t byte_at(uint32_t off) { return (uint8_t)((off * 2654435761u) >> 24); }

struct model {
	uint64_t off;          /* output offset: data + gaps so far */
	unsigned fins;
	uint64_t limit;        /* no output may reach beyond what was sent or acknowledged */
};

static void m_data(void *u, const uint8_t *p, size_t n, uint64_t ts)
{
	(void)ts;
	struct model *m = u;
	if (!n)
		abort();
	for (size_t i = 0; i < n; i++)
		if (p[i] != byte_at((uint32_t)(m->off + i)))
			abort();
	m->off += n;
	if (m->off > m->limit)
		abort();
}

static void m_gap(void *u, uint64_t len, uint64_t ts)
{
	(void)ts;
	struct model *m = u;
	if (!len)
		abort();
	m->off += len;
	if (m->off > m->limit)
		abort();
}

static void m_fin(void *u, uint64_t ts)
{
	(void)ts;
	if (++((struct model *)u)->fins > 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 6)
		return 0;
	static uint8_t payload[0x800 + 0x10000];
	uint32_t isn = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
	const size_t per_stream = 64 + (size_t)data[4] * 64;
	const size_t total = 64 + (size_t)data[5] * 96;
	struct tcp_reasm_pool pool;
	tcp_reasm_pool_init(&pool, total, per_stream);
	struct tcp_reasm r;
	struct model m = { 0 };
	struct tcp_reasm_sink sink = { m_data, m_gap, m_fin, &m };
	tcp_reasm_init(&r);
	tcp_reasm_start(&r, isn);
	uint64_t top = 0;   /* highest stream offset sent */

	size_t i = 6;
	while (i < size) {
		uint8_t op = data[i++];
		switch (op & 3) {
		case 0: {
			if (i + 5 > size)
				goto done;
			int16_t rel = (int16_t)(data[i] << 8 | data[i + 1]);
			uint32_t len = (uint32_t)(data[i + 2] << 8 | data[i + 3]) & 0x7ff;
			uint8_t capsel = data[i + 4];
			i += 5;
			int64_t off = (int64_t)top + rel;
			if (off < 0)
				off = 0;   /* the model's stream starts at 0 */
			uint32_t cap = capsel == 255 ? len : (uint32_t)capsel * len / 255;
			for (uint32_t k = 0; k < len; k++)
				payload[k] = byte_at((uint32_t)off + k);
			if ((uint64_t)off + len > top)
				top = (uint64_t)off + len;
			if (top > m.limit)
				m.limit = top;
			tcp_reasm_segment(&r, &pool, &sink, isn + (uint32_t)off, payload, cap, len,
			                  op & 4, 0);
			break;
		}
		case 1: {
			if (i + 2 > size)
				goto done;
			uint64_t a = top + (uint16_t)(data[i] << 8 | data[i + 1]) % 4096;
			i += 2;
			if (a > m.limit)
				m.limit = a;
			tcp_reasm_ack(&r, isn + (uint32_t)a);
			break;
		}
		case 2:
			tcp_reasm_sender_seen(&r, &pool, &sink, 0);
			break;
		case 3:
			tcp_reasm_flush(&r, &pool, &sink, 0);
			if (pool.used || r.held)
				abort();
			isn += (uint32_t)top + 12345;
			tcp_reasm_init(&r);
			tcp_reasm_start(&r, isn);
			m.off = m.limit = top = 0;
			m.fins = 0;
			break;
		}
		if (r.held_bytes > per_stream || pool.used > total || pool.used != r.held_bytes)
			abort();
	}
done:
	tcp_reasm_flush(&r, &pool, &sink, 0);
	if (pool.used || r.held)
		abort();
	return 0;
}
