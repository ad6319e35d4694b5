/* SPDX-License-Identifier: BSD-2-Clause */
/* Prefixes and a longest-prefix-match table; see lpm.h. */
#include "lpm.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ipnet_mask(struct ipnet *n)
{
	unsigned len = n->family == 4 ? 4 : 16;
	for (unsigned i = 0; i < 16; i++) {
		unsigned lo = i * 8;
		if (i >= len || lo >= n->plen)
			n->addr[i] = 0;
		else if (lo + 8 > n->plen)
			n->addr[i] &= (uint8_t)(0xff << (8 - (n->plen - lo)));
	}
}

void ipnet_host(struct ipnet *out, uint8_t family, const uint8_t addr[16])
{
	memset(out, 0, sizeof(*out));
	out->family = family;
	out->plen = family == 4 ? 32 : 128;
	memcpy(out->addr, addr, family == 4 ? 4 : 16);
}

int ipnet_parse(const char *s, struct ipnet *out, char *err, size_t errlen)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(buf))
		goto bad;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1)
		out->family = 4;
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
		out->family = 6;
	else
		goto bad;
	unsigned max = out->family == 4 ? 32 : 128;
	unsigned plen = max;
	if (slash) {
		const char *p = slash + 1;
		if (!*p || strlen(p) > 3)
			goto badlen;
		plen = 0;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				goto badlen;
			plen = plen * 10 + (unsigned)(*p - '0');
		}
		if (plen > max || (slash[1] == '0' && slash[2]))
			goto badlen;
	}
	out->plen = (uint8_t)plen;
	struct ipnet m = *out;
	ipnet_mask(&m);
	if (memcmp(m.addr, out->addr, 16)) {
		char want[64];
		ipnet_format(&m, want, sizeof(want));
		snprintf(err, errlen, "\"%s\" has bits set past the prefix length (did you mean %s?)",
		         s, want);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "\"%s\" is not an IP address or CIDR", s);
	return -1;
badlen:
	snprintf(err, errlen, "\"%s\": bad prefix length (0..%u)", s, out->family == 4 ? 32 : 128);
	return -1;
}

void ipnet_format(const struct ipnet *n, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(n->family == 4 ? AF_INET : AF_INET6, n->addr, a, sizeof(a));
	snprintf(out, outlen, "%s/%u", a, n->plen);
}

bool ipnet_contains(const struct ipnet *n, const struct ipnet *m)
{
	if (n->family != m->family || m->plen < n->plen)
		return false;
	struct ipnet t = *m;
	t.plen = n->plen;
	ipnet_mask(&t);
	return !memcmp(t.addr, n->addr, 16);
}

/* --- table ------------------------------------------------------------------ */

struct lpm_slot {
	struct ipnet key;  /* family 0 = empty */
	uint32_t value;
};

struct lpm {
	struct lpm_slot *slots;
	size_t mask, count;
	/* prefix lengths in use per family, longest first, and per-length counts */
	uint32_t len_count[2][129];
	uint8_t lens[2][129];
	unsigned n_lens[2];
};

static uint64_t hash_net(const struct ipnet *n)
{
	/* FNV-1a over family, plen, address; then a final mix */
	uint64_t h = 1469598103934665603ull;
	h = (h ^ n->family) * 1099511628211ull;
	h = (h ^ n->plen) * 1099511628211ull;
	unsigned len = n->family == 4 ? 4 : 16;
	for (unsigned i = 0; i < len; i++)
		h = (h ^ n->addr[i]) * 1099511628211ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static bool net_eq(const struct ipnet *a, const struct ipnet *b)
{
	return a->family == b->family && a->plen == b->plen && !memcmp(a->addr, b->addr, 16);
}

struct lpm *lpm_new(void)
{
	struct lpm *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->slots = calloc(16, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	t->mask = 15;
	return t;
}

void lpm_free(struct lpm *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

static struct lpm_slot *find_slot(const struct lpm *t, const struct ipnet *n)
{
	size_t i = (size_t)hash_net(n) & t->mask;
	for (;;) {
		struct lpm_slot *s = &t->slots[i];
		if (!s->key.family || net_eq(&s->key, n))
			return s;
		i = (i + 1) & t->mask;
	}
}

static int grow(struct lpm *t)
{
	size_t ncap = (t->mask + 1) * 2;
	struct lpm_slot *old = t->slots, *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -1;
	size_t omask = t->mask;
	t->slots = ns;
	t->mask = ncap - 1;
	for (size_t i = 0; i <= omask; i++)
		if (old[i].key.family)
			*find_slot(t, &old[i].key) = old[i];
	free(old);
	return 0;
}

static void add_len(struct lpm *t, unsigned fi, uint8_t plen)
{
	if (t->len_count[fi][plen]++)
		return;
	unsigned k = 0;
	while (k < t->n_lens[fi] && t->lens[fi][k] > plen)
		k++;
	memmove(&t->lens[fi][k + 1], &t->lens[fi][k], t->n_lens[fi] - k);
	t->lens[fi][k] = plen;
	t->n_lens[fi]++;
}

int lpm_insert(struct lpm *t, const struct ipnet *n, uint32_t value)
{
	if ((t->count + 1) * 2 > t->mask + 1 && grow(t))
		return -1;
	struct ipnet k = *n;
	ipnet_mask(&k);
	struct lpm_slot *s = find_slot(t, &k);
	if (!s->key.family) {
		s->key = k;
		t->count++;
		add_len(t, k.family == 4 ? 0 : 1, k.plen);
	}
	s->value = value;
	return 0;
}

bool lpm_get(const struct lpm *t, const struct ipnet *n, uint32_t *value)
{
	struct ipnet k = *n;
	ipnet_mask(&k);
	struct lpm_slot *s = find_slot(t, &k);
	if (!s->key.family)
		return false;
	if (value)
		*value = s->value;
	return true;
}

bool lpm_lookup_net(const struct lpm *t, const struct ipnet *n, uint32_t *value, uint8_t *plen)
{
	unsigned fi = n->family == 4 ? 0 : 1;
	for (unsigned i = 0; i < t->n_lens[fi]; i++) {
		uint8_t l = t->lens[fi][i];
		if (l > n->plen)
			continue;
		struct ipnet k = *n;
		k.plen = l;
		ipnet_mask(&k);
		struct lpm_slot *s = find_slot(t, &k);
		if (s->key.family) {
			if (value)
				*value = s->value;
			if (plen)
				*plen = l;
			return true;
		}
	}
	return false;
}

bool lpm_lookup(const struct lpm *t, uint8_t family, const uint8_t addr[16], uint32_t *value,
                uint8_t *plen)
{
	struct ipnet n;
	ipnet_host(&n, family, addr);
	return lpm_lookup_net(t, &n, value, plen);
}

size_t lpm_count(const struct lpm *t)
{
	return t->count;
}

int lpm_walk(const struct lpm *t, int (*fn)(void *user, const struct ipnet *n, uint32_t value),
             void *user)
{
	for (size_t i = 0; i <= t->mask; i++) {
		if (!t->slots[i].key.family)
			continue;
		int r = fn(user, &t->slots[i].key, t->slots[i].value);
		if (r)
			return r;
	}
	return 0;
}
