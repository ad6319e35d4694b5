/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A chunked bump allocator for objects that live and die together (a loaded
 * policy, an identities database): one free for everything.
 */
#ifndef FLOWD_POOL_H
#define FLOWD_POOL_H

#include <stddef.h>

struct pool_chunk;
struct pool {
	struct pool_chunk *head;
};

/* Zeroed memory, 16-byte aligned; NULL on allocation failure. */
void *pool_alloc(struct pool *p, size_t size);
char *pool_strdup(struct pool *p, const char *s);
char *pool_strndup(struct pool *p, const char *s, size_t n);
/* A copy of n elements of size sz. */
void *pool_memdup(struct pool *p, const void *src, size_t size);
void pool_free(struct pool *p);

#endif /* FLOWD_POOL_H */
