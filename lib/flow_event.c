/* SPDX-License-Identifier: BSD-2-Clause */
/* Event lifecycle and the per-event arena. */
#include "flow_event.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Chunked bump allocator: an event's strings live and die together, so a
 * JSON line costs a handful of mallocs, not one per field. */
struct fe_chunk {
	struct fe_chunk *next;
	size_t used, size;
	_Alignas(16) unsigned char mem[];
};

struct fe_arena {
	struct fe_chunk *head;
};

#define FE_CHUNK_MIN 1024

/* size bytes, not zeroed */
static void *fe_alloc_raw(struct flow_event *ev, size_t size)
{
	struct fe_arena *a = ev->arena;
	size = (size + 15) & ~(size_t)15;
	struct fe_chunk *c = a->head;
	if (!c || c->size - c->used < size) {
		size_t csize = size > FE_CHUNK_MIN ? size : FE_CHUNK_MIN;
		c = malloc(sizeof(*c) + csize);
		if (!c)
			return NULL;
		c->size = csize;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	void *p = c->mem + c->used;
	c->used += size;
	return p;
}

void *fe_alloc(struct flow_event *ev, size_t size)
{
	void *p = fe_alloc_raw(ev, size);
	if (p)
		memset(p, 0, size);
	return p;
}

const char *fe_strndup(struct flow_event *ev, const char *s, size_t n)
{
	char *p = fe_alloc_raw(ev, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

const char *fe_strdup(struct flow_event *ev, const char *s)
{
	return s ? fe_strndup(ev, s, strlen(s)) : NULL;
}

/* The pointers and the strings in one piece of the arena (events carry a
 * name list per address). */
const char **fe_strv(struct flow_event *ev, const char *const *src, size_t n)
{
	size_t bytes = n * sizeof(char *);
	for (size_t i = 0; i < n; i++)
		bytes += strlen(src[i]) + 1;
	const char **v = fe_alloc_raw(ev, bytes);
	if (!v)
		return NULL;
	char *s = (char *)(v + n);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(src[i]) + 1;
		memcpy(s, src[i], len);
		v[i] = s;
		s += len;
	}
	return v;
}

const char *fe_printf(struct flow_event *ev, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *p = fe_alloc(ev, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/*
 * Freed events are kept for reuse, per thread, with their first arena
 * chunk: a replay makes hundreds of thousands of events per second and
 * allocation was a fifth of its time. Not under AddressSanitizer, so that
 * the fuzz targets still catch a use after free.
 */
#if defined(__SANITIZE_ADDRESS__)
#define FE_POOL_MAX 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FE_POOL_MAX 0
#endif
#endif
#ifndef FE_POOL_MAX
#define FE_POOL_MAX 64
#endif

#if FE_POOL_MAX
static _Thread_local struct flow_event *fe_pool[FE_POOL_MAX];
static _Thread_local unsigned fe_pool_n;
static _Thread_local bool fe_pool_registered;
static pthread_key_t fe_pool_key;
static pthread_once_t fe_pool_once = PTHREAD_ONCE_INIT;

/* A thread that ends gives its kept events back. */
static void fe_pool_drain(void *unused)
{
	(void)unused;
	while (fe_pool_n) {
		struct flow_event *ev = fe_pool[--fe_pool_n];
		free(ev->arena->head);
		free(ev);
	}
}

static void fe_pool_key_init(void)
{
	if (pthread_key_create(&fe_pool_key, fe_pool_drain))
		fe_pool_key = (pthread_key_t)-1;
}

/* The first time this thread keeps an event: have it drained at thread
 * exit. False if that cannot be arranged (then nothing is kept). */
static bool fe_pool_register(void)
{
	if (fe_pool_registered)
		return true;
	pthread_once(&fe_pool_once, fe_pool_key_init);
	if (fe_pool_key == (pthread_key_t)-1 || pthread_setspecific(fe_pool_key, (void *)1))
		return false;
	fe_pool_registered = true;
	return true;
}
#endif

struct flow_event *flow_event_new(void)
{
#if FE_POOL_MAX
	if (fe_pool_n) {
		struct flow_event *ev = fe_pool[--fe_pool_n];
		struct fe_arena *a = ev->arena;
		memset(ev, 0, sizeof(*ev));
		ev->arena = a;
		if (a->head)
			a->head->used = 0;
		ev->is_reply = -1;
		return ev;
	}
#endif
	struct flow_event *ev = calloc(1, sizeof(*ev) + sizeof(struct fe_arena));
	if (!ev)
		return NULL;
	ev->arena = (struct fe_arena *)(ev + 1);
	ev->is_reply = -1;
	return ev;
}

void flow_event_free(struct flow_event *ev)
{
	if (!ev)
		return;
	struct fe_chunk *c = ev->arena->head, *keep = NULL;
	while (c) {
		struct fe_chunk *next = c->next;
		if (FE_POOL_MAX && !keep && c->size == FE_CHUNK_MIN)
			keep = c;
		else
			free(c);
		c = next;
	}
#if FE_POOL_MAX
	if (fe_pool_n < FE_POOL_MAX && fe_pool_register()) {
		if (keep)
			keep->next = NULL;
		ev->arena->head = keep;
		fe_pool[fe_pool_n++] = ev;
		return;
	}
#endif
	free(keep);
	free(ev);
}

void fe_buf_free(struct fe_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
