/* libFuzzer target for the HPACK wrapper (l7/http2_hpack.c), with two
 * oracles:
 *
 *  1. byte 0 bit 0 clear: the rest is a sequence of raw header blocks
 *     ([len16][bytes], each fed in two pieces). With the table known from
 *     the start, the wrapper must decode exactly what a plain nghttp2
 *     inflater decodes, with nothing unknown, as long as that inflater
 *     accepts the input.
 *  2. bit 0 set: the rest chooses header lists that nghttp2's real encoder
 *     compresses (its dynamic table in use, size changes included); the
 *     wrapper joins after the first (byte 0 >> 1) & 7 blocks, as on a
 *     connection captured late. Every field it reports must be one the
 *     encoder was given, in order: joining late may lose fields, never
 *     invent or misplace one.
 */
#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http2_hpack.h"

struct fields {
	char name[64][80], value[64][80];
	size_t n;
	bool over;   /* more than 64 fields: not compared */
};

static void collect(void *user, const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen)
{
	struct fields *f = user;
	if (f->n >= 64) {
		f->over = true;
		return;
	}
	snprintf(f->name[f->n], 80, "%.*s", (int)(nlen > 79 ? 79 : nlen), name);
	snprintf(f->value[f->n], 80, "%.*s", (int)(vlen > 79 ? 79 : vlen), value);
	f->n++;
}

static void raw_blocks(const uint8_t *d, size_t n)
{
	struct h2_hpack *hp = h2_hpack_new(true);
	nghttp2_hd_inflater *ref;
	if (!hp || nghttp2_hd_inflate_new(&ref) != 0)
		abort();
	bool ref_ok = true;
	while (n >= 2) {
		size_t len = (size_t)d[0] << 8 | d[1];
		d += 2, n -= 2;
		if (len > n)
			len = n;
		/* reference: whole block, at most 64 fields */
		struct fields want = { .n = 0 }, got = { .n = 0 };
		const uint8_t *p = d;
		size_t left = len;
		while (ref_ok) {
			nghttp2_nv nv;
			int fl = 0;
			ssize_t r = nghttp2_hd_inflate_hd2(ref, &nv, &fl, p, left, 1);
			if (r < 0) {
				ref_ok = false;
				break;
			}
			p += r, left -= (size_t)r;
			if (fl & NGHTTP2_HD_INFLATE_EMIT) {
				if (want.n == 64 || nv.namelen == 0) {
					ref_ok = false;   /* beyond what the oracle compares */
					break;
				}
				collect(&want, nv.name, nv.namelen, nv.value, nv.valuelen);
			}
			if (fl & NGHTTP2_HD_INFLATE_FINAL) {
				nghttp2_hd_inflate_end_headers(ref);
				break;
			}
			if (!(fl & NGHTTP2_HD_INFLATE_EMIT) && left == 0)
				break;
		}
		h2_hpack_block_begin(hp);
		size_t cut = len / 3;
		h2_hpack_block_data(hp, d, cut, collect, &got);
		h2_hpack_block_data(hp, d + cut, len - cut, collect, &got);
		struct h2_hpack_block_result res = h2_hpack_block_end(hp);
		if (ref_ok && !got.over) {
			if (res.failed || res.unknown || got.n != want.n)
				abort();
			for (size_t i = 0; i < got.n; i++)
				if (strcmp(got.name[i], want.name[i]) || strcmp(got.value[i], want.value[i]))
					abort();
		}
		d += len, n -= len;
	}
	nghttp2_hd_inflate_del(ref);
	h2_hpack_free(hp);
}

static const char *const names[] = { ":method", ":path", ":authority", ":status", "x-a", "x-b",
                                     "content-type", "user-agent", "cookie", "x-long-header-name" };
static const char *const values[] = { "GET", "POST", "/", "/a/b", "200", "404", "example.test",
                                      "application/grpc", "v", "" };

static void late_join(const uint8_t *d, size_t n, unsigned skip)
{
	nghttp2_hd_deflater *def;
	struct h2_hpack *hp = h2_hpack_new(false);
	if (!hp || nghttp2_hd_deflate_new(&def, 4096) != 0)
		abort();
	char buf[64][80];
	unsigned block = 0;
	while (n >= 2) {
		size_t count = d[0] % 12;
		uint8_t ctl = d[1];
		d += 2, n -= 2;
		if (ctl == 0xff && n >= 1) {   /* encoder table size change */
			nghttp2_hd_deflate_change_table_size(def, (size_t)d[0] * 64);
			d++, n--;
		}
		nghttp2_nv nv[12];
		struct fields sent = { .n = 0 }, got = { .n = 0 };
		for (size_t i = 0; i < count && n >= 2; i++) {
			const char *name = names[d[0] % 10];
			/* values: from the list, or unique (forces new table entries) */
			if (d[1] < 200)
				snprintf(buf[i], 80, "%s", values[d[1] % 10]);
			else
				snprintf(buf[i], 80, "val-%u-%u-%zu", d[1], block, i);
			nv[i] = (nghttp2_nv){ (uint8_t *)name, (uint8_t *)buf[i], strlen(name), strlen(buf[i]),
			                      (d[0] & 0x80) ? NGHTTP2_NV_FLAG_NO_INDEX : NGHTTP2_NV_FLAG_NONE };
			collect(&sent, nv[i].name, nv[i].namelen, nv[i].value, nv[i].valuelen);
			d += 2, n -= 2;
		}
		uint8_t out[8192];
		ssize_t len = nghttp2_hd_deflate_hd(def, out, sizeof(out), nv, sent.n);
		if (len < 0)
			abort();
		if (block++ < skip)
			continue;   /* before we joined */
		h2_hpack_block_begin(hp);
		size_t cut = (size_t)len / 2;
		h2_hpack_block_data(hp, out, cut, collect, &got);
		h2_hpack_block_data(hp, out + cut, (size_t)len - cut, collect, &got);
		struct h2_hpack_block_result res = h2_hpack_block_end(hp);
		if (res.failed)
			abort();   /* real encoder output must always decode */
		if (got.n + res.unknown != sent.n)
			abort();
		size_t j = 0;   /* got must be a subsequence of sent */
		for (size_t i = 0; i < got.n; i++) {
			while (j < sent.n && (strcmp(sent.name[j], got.name[i]) || strcmp(sent.value[j], got.value[i])))
				j++;
			if (j == sent.n)
				abort();
			j++;
		}
		if (skip == 0 && res.unknown)
			abort();   /* nothing missed: nothing unknown */
	}
	nghttp2_hd_deflate_del(def);
	h2_hpack_free(hp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		late_join(data + 1, size - 1, (data[0] >> 1) & 7);
	else
		raw_blocks(data + 1, size - 1);
	return 0;
}
