/* Building Kafka messages byte by byte (protocol guide encodings) for the
 * Kafka parser's tests, fuzz seeds and benchmark traffic. Header-only. */
#ifndef FLOWD_KAFKA_BUILD_H
#define FLOWD_KAFKA_BUILD_H

#include <stdint.h>
#include <string.h>

#define KB_MAX (1u << 20)

struct kb {
	uint8_t b[KB_MAX];
	size_t n;
	size_t frame;          /* offset of the open frame's size field */
};

static inline void kb_u8(struct kb *k, uint8_t v)
{
	if (k->n < KB_MAX)
		k->b[k->n++] = v;
}
static inline void kb_i16(struct kb *k, int16_t v)
{
	kb_u8(k, (uint8_t)((uint16_t)v >> 8));
	kb_u8(k, (uint8_t)v);
}
static inline void kb_i32(struct kb *k, int32_t v)
{
	for (int s = 24; s >= 0; s -= 8)
		kb_u8(k, (uint8_t)((uint32_t)v >> s));
}
static inline void kb_i64(struct kb *k, int64_t v)
{
	kb_i32(k, (int32_t)((uint64_t)v >> 32));
	kb_i32(k, (int32_t)v);
}
static inline void kb_uv(struct kb *k, uint32_t v)   /* unsigned varint */
{
	while (v >= 0x80) {
		kb_u8(k, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	kb_u8(k, (uint8_t)v);
}
static inline void kb_raw(struct kb *k, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		kb_u8(k, ((const uint8_t *)p)[i]);
}
static inline void kb_fill(struct kb *k, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		kb_u8(k, v);
}
/* classic string: int16 length, NULL = -1 */
static inline void kb_str(struct kb *k, const char *s)
{
	if (!s) {
		kb_i16(k, -1);
		return;
	}
	kb_i16(k, (int16_t)strlen(s));
	kb_raw(k, s, strlen(s));
}
/* compact string: uvarint length + 1, NULL = 0 */
static inline void kb_cstr(struct kb *k, const char *s)
{
	if (!s) {
		kb_uv(k, 0);
		return;
	}
	kb_uv(k, (uint32_t)strlen(s) + 1);
	kb_raw(k, s, strlen(s));
}
static inline void kb_str_v(struct kb *k, int flexible, const char *s)
{
	if (flexible)
		kb_cstr(k, s);
	else
		kb_str(k, s);
}
/* array / bytes lengths; n < 0 = null */
static inline void kb_len_v(struct kb *k, int flexible, int32_t n)
{
	if (flexible)
		kb_uv(k, n < 0 ? 0 : (uint32_t)n + 1);
	else
		kb_i32(k, n);
}
/* n bytes of filler as bytes/records */
static inline void kb_bytes_v(struct kb *k, int flexible, int32_t n)
{
	kb_len_v(k, flexible, n);
	if (n > 0)
		kb_fill(k, (size_t)n, 0xab);
}
/* empty tagged-field section */
static inline void kb_tags0(struct kb *k) { kb_uv(k, 0); }
static inline void kb_tags_v(struct kb *k, int flexible)
{
	if (flexible)
		kb_tags0(k);
}
static inline void kb_uuid(struct kb *k, const uint8_t id[16]) { kb_raw(k, id, 16); }

static inline void kb_begin(struct kb *k)
{
	k->frame = k->n;
	kb_i32(k, 0);
}
static inline void kb_end(struct kb *k)
{
	uint32_t size = (uint32_t)(k->n - k->frame - 4);
	for (int i = 0; i < 4; i++)
		k->b[k->frame + (size_t)i] = (uint8_t)(size >> (24 - 8 * i));
}
/* Request header v1 (hv 1) or v2 (hv 2: + tagged fields); opens a frame. */
static inline void kb_req(struct kb *k, int16_t key, int16_t ver, int32_t corr,
                          const char *client_id, int hv)
{
	kb_begin(k);
	kb_i16(k, key);
	kb_i16(k, ver);
	kb_i32(k, corr);
	if (hv >= 1)
		kb_str(k, client_id);
	if (hv == 2)
		kb_tags0(k);
}
/* Response header v0 (hv 0) or v1 (hv 1); opens a frame. */
static inline void kb_resp(struct kb *k, int32_t corr, int hv)
{
	kb_begin(k);
	kb_i32(k, corr);
	if (hv == 1)
		kb_tags0(k);
}

#endif
