/* SPDX-License-Identifier: BSD-2-Clause */
/* Chunked bump allocator; see pool.h. */
#include "pool.h"

#include <stdlib.h>
#include <string.h>

struct pool_chunk {
	struct pool_chunk *next;
	size_t used, size;
	_Alignas(16) unsigned char mem[];
};

#define POOL_CHUNK_MIN 8192

void *pool_alloc(struct pool *p, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	struct pool_chunk *c = p->head;
	if (!c || c->size - c->used < size) {
		size_t csize = size > POOL_CHUNK_MIN ? size : POOL_CHUNK_MIN;
		c = malloc(sizeof(*c) + csize);
		if (!c)
			return NULL;
		c->size = csize;
		c->used = 0;
		c->next = p->head;
		p->head = c;
	}
	void *r = c->mem + c->used;
	c->used += size;
	memset(r, 0, size);
	return r;
}

char *pool_strndup(struct pool *p, const char *s, size_t n)
{
	char *r = pool_alloc(p, n + 1);
	if (!r)
		return NULL;
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

char *pool_strdup(struct pool *p, const char *s)
{
	return s ? pool_strndup(p, s, strlen(s)) : NULL;
}

void *pool_memdup(struct pool *p, const void *src, size_t size)
{
	void *r = pool_alloc(p, size ? size : 1);
	if (r && size)
		memcpy(r, src, size);
	return r;
}

void pool_free(struct pool *p)
{
	struct pool_chunk *c = p->head;
	while (c) {
		struct pool_chunk *n = c->next;
		free(c);
		c = n;
	}
	p->head = NULL;
}
