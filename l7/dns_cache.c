/* SPDX-License-Identifier: BSD-2-Clause */
/* IP -> names cache; see dns_cache.h. */
#include "dns_cache.h"
#include "hash_mix.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct dc_name {
	char *name;
	uint64_t expires_ns;
};

struct dc_entry {
	struct dc_entry *hnext;
	struct dc_entry *older, *newer;   /* age list: oldest first */
	uint8_t family;
	uint8_t addr[16];
	uint8_t n_names;
	struct dc_name names[DNS_CACHE_NAMES_PER_IP];   /* sorted by name */
};

struct dns_cache {
	struct dc_entry **buckets;
	size_t mask;
	size_t max_entries;
	uint64_t min_ttl_ns;
	struct dc_entry *oldest, *newest;
	struct dns_cache_stats st;
};

struct dns_cache *dns_cache_new(size_t max_entries, uint32_t min_ttl_s)
{
	struct dns_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	size_t nb = 16;
	while (nb < max_entries && nb < ((size_t)1 << 30))
		nb <<= 1;
	c->buckets = calloc(nb, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	c->mask = nb - 1;
	c->max_entries = max_entries;
	c->min_ttl_ns = (uint64_t)min_ttl_s * 1000000000ull;
	return c;
}

static void entry_free(struct dc_entry *e)
{
	for (int i = 0; i < e->n_names; i++)
		free(e->names[i].name);
	free(e);
}

void dns_cache_free(struct dns_cache *c)
{
	if (!c)
		return;
	struct dc_entry *e = c->oldest;
	while (e) {
		struct dc_entry *n = e->newer;
		entry_free(e);
		e = n;
	}
	free(c->buckets);
	free(c);
}

static bool parse_ip(const char *s, uint8_t *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = 6;
		return true;
	}
	return false;
}

/* Every event looks its two addresses up: two words, not sixteen bytes. */
static size_t hash_ip(uint8_t family, const uint8_t addr[16])
{
	uint64_t a, b;
	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	return (size_t)hash_mix64(a ^ hash_mix64(b ^ family));
}

static struct dc_entry **find(struct dns_cache *c, uint8_t family, const uint8_t addr[16])
{
	struct dc_entry **pp = &c->buckets[hash_ip(family, addr) & c->mask];
	for (; *pp; pp = &(*pp)->hnext)
		if ((*pp)->family == family && memcmp((*pp)->addr, addr, 16) == 0)
			return pp;
	return pp;
}

static void age_unlink(struct dns_cache *c, struct dc_entry *e)
{
	if (e->older)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	e->older = e->newer = NULL;
}

static void age_push(struct dns_cache *c, struct dc_entry *e)
{
	e->older = c->newest;
	e->newer = NULL;
	if (c->newest)
		c->newest->newer = e;
	else
		c->oldest = e;
	c->newest = e;
}

static void evict_oldest(struct dns_cache *c)
{
	struct dc_entry *e = c->oldest;
	if (!e)
		return;
	struct dc_entry **pp = find(c, e->family, e->addr);
	if (*pp == e)
		*pp = e->hnext;
	age_unlink(c, e);
	entry_free(e);
	c->st.entries--;
	c->st.evictions++;
}

void dns_cache_add(struct dns_cache *c, const char *ip, const char *name,
                   uint32_t ttl_s, uint64_t now_ns)
{
	if (!c || !c->max_entries)
		return;
	uint8_t family, addr[16];
	char norm[DNS_CACHE_NAME_MAX + 1];
	size_t n = name ? strlen(name) : 0;
	while (n && name[n - 1] == '.')
		n--;
	if (!ip || !parse_ip(ip, &family, addr) || n == 0 || n > DNS_CACHE_NAME_MAX) {
		c->st.rejected++;
		return;
	}
	for (size_t i = 0; i < n; i++)
		norm[i] = (char)tolower((unsigned char)name[i]);
	norm[n] = '\0';
	uint64_t ttl_ns = (uint64_t)ttl_s * 1000000000ull;
	uint64_t expires = now_ns + (ttl_ns > c->min_ttl_ns ? ttl_ns : c->min_ttl_ns);

	struct dc_entry **pp = find(c, family, addr);
	struct dc_entry *e = *pp;
	if (e) {
		age_unlink(c, e);
	} else {
		if (c->st.entries >= c->max_entries) {
			evict_oldest(c);
			pp = find(c, family, addr);
		}
		e = calloc(1, sizeof(*e));
		if (!e) {
			c->st.rejected++;
			return;
		}
		e->family = family;
		memcpy(e->addr, addr, 16);
		*pp = e;
		c->st.entries++;
	}
	age_push(c, e);
	c->st.adds++;

	int pos = 0;
	while (pos < e->n_names && strcmp(e->names[pos].name, norm) < 0)
		pos++;
	if (pos < e->n_names && strcmp(e->names[pos].name, norm) == 0) {
		if (expires > e->names[pos].expires_ns)
			e->names[pos].expires_ns = expires;
		return;
	}
	char *copy = strdup(norm);
	if (!copy) {
		c->st.rejected++;
		return;
	}
	if (e->n_names == DNS_CACHE_NAMES_PER_IP) {
		/* drop the name that expires first (lowest index on ties) */
		int victim = 0;
		for (int i = 1; i < e->n_names; i++)
			if (e->names[i].expires_ns < e->names[victim].expires_ns)
				victim = i;
		free(e->names[victim].name);
		memmove(&e->names[victim], &e->names[victim + 1],
		        (size_t)(e->n_names - victim - 1) * sizeof(e->names[0]));
		e->n_names--;
		c->st.names_dropped++;
		if (victim < pos)
			pos--;
	}
	memmove(&e->names[pos + 1], &e->names[pos], (size_t)(e->n_names - pos) * sizeof(e->names[0]));
	e->names[pos].name = copy;
	e->names[pos].expires_ns = expires;
	e->n_names++;
}

size_t dns_cache_lookup(struct dns_cache *c, const char *ip, uint64_t now_ns,
                        const char **out, size_t max)
{
	if (!c || !c->st.entries || !ip)
		return 0;
	uint8_t family, addr[16];
	if (!parse_ip(ip, &family, addr))
		return 0;
	return dns_cache_lookup_addr(c, family, addr, now_ns, out, max);
}

size_t dns_cache_lookup_addr(struct dns_cache *c, uint8_t family, const uint8_t addr[16],
                             uint64_t now_ns, const char **out, size_t max)
{
	if (!c || !c->st.entries)
		return 0;
	uint8_t a[16];
	memcpy(a, addr, 16);
	if (family == 4)
		memset(a + 4, 0, 12);
	struct dc_entry *e = *find(c, family, a);
	if (!e)
		return 0;
	size_t k = 0;
	for (int i = 0; i < e->n_names && k < max; i++)
		if (e->names[i].expires_ns > now_ns)
			out[k++] = e->names[i].name;
	return k;
}

void dns_cache_get_stats(const struct dns_cache *c, struct dns_cache_stats *st)
{
	if (c)
		*st = c->st;
	else
		memset(st, 0, sizeof(*st));
}

bool dns_cache_has_entries(const struct dns_cache *c)
{
	return c && c->st.entries;
}
