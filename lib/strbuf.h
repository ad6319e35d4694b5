/* SPDX-License-Identifier: BSD-2-Clause */
/* A growable NUL-terminated string for building patterns and messages;
 * allocation failure is sticky (oom) and checked once at the end. */
#ifndef FLOWD_STRBUF_H
#define FLOWD_STRBUF_H

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static inline void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void sb_s(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static inline void sb_c(struct sbuf *b, char c)
{
	sb_add(b, &c, 1);
}

static inline int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

#endif /* FLOWD_STRBUF_H */
