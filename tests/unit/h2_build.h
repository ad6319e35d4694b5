/* Building HTTP/2 byte streams for tests: frames by hand, header blocks
 * with nghttp2's own HPACK encoder (the real one, with its dynamic table). */
#ifndef FLOWD_TEST_H2_BUILD_H
#define FLOWD_TEST_H2_BUILD_H

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define H2B_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

struct h2b {
	uint8_t *p;
	size_t len, cap;
};

static inline void h2b_put(struct h2b *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static inline void h2b_reset(struct h2b *b) { b->len = 0; }
static inline void h2b_free(struct h2b *b) { free(b->p); memset(b, 0, sizeof(*b)); }

static inline void h2b_frame(struct h2b *b, uint8_t type, uint8_t flags, uint32_t sid,
                             const void *payload, size_t n)
{
	uint8_t h[9] = { (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
	                 (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid };
	h2b_put(b, h, 9);
	if (n)
		h2b_put(b, payload, n);
}

static inline void h2b_settings(struct h2b *b, const uint16_t *ids, const uint32_t *vals, size_t n)
{
	uint8_t p[6 * 16];
	for (size_t i = 0; i < n; i++) {
		p[6 * i] = (uint8_t)(ids[i] >> 8);
		p[6 * i + 1] = (uint8_t)ids[i];
		p[6 * i + 2] = (uint8_t)(vals[i] >> 24);
		p[6 * i + 3] = (uint8_t)(vals[i] >> 16);
		p[6 * i + 4] = (uint8_t)(vals[i] >> 8);
		p[6 * i + 5] = (uint8_t)vals[i];
	}
	h2b_frame(b, 4, 0, 0, p, 6 * n);
}

#define H2NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE }

/* A header block from the encoder; returns its length in out. */
static inline size_t h2b_hpack(nghttp2_hd_deflater *def, const nghttp2_nv *nv, size_t n,
                               uint8_t *out, size_t cap)
{
	ssize_t r = nghttp2_hd_deflate_hd(def, out, cap, (nghttp2_nv *)nv, n);
	return r < 0 ? 0 : (size_t)r;
}

/* HEADERS frame(s) carrying one header block: split into CONTINUATION
 * frames of at most max_frag bytes (0: one frame). */
static inline void h2b_headers(struct h2b *b, nghttp2_hd_deflater *def, uint32_t sid, bool end_stream,
                               const nghttp2_nv *nv, size_t n, size_t max_frag)
{
	uint8_t blk[65536];
	size_t len = h2b_hpack(def, nv, n, blk, sizeof(blk));
	if (!max_frag || max_frag >= len) {
		h2b_frame(b, 1, (uint8_t)(0x4 | (end_stream ? 1 : 0)), sid, blk, len);
		return;
	}
	size_t off = 0;
	bool first = true;
	while (off < len) {
		size_t k = len - off > max_frag ? max_frag : len - off;
		bool last = off + k == len;
		uint8_t fl = last ? 0x4 : 0;
		if (first)
			h2b_frame(b, 1, (uint8_t)(fl | (end_stream ? 1 : 0)), sid, blk + off, k);
		else
			h2b_frame(b, 9, fl, sid, blk + off, k);
		first = false;
		off += k;
	}
}

/* A gRPC length-prefixed message of n bytes (content 'x'). */
static inline void h2b_grpc_msg(struct h2b *b, size_t n)
{
	uint8_t h[5] = { 0, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	h2b_put(b, h, 5);
	for (size_t i = 0; i < n; i++)
		h2b_put(b, "x", 1);
}

#endif
