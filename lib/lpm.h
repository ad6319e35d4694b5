/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Addresses, prefixes and a longest-prefix-match table for user space
 * (identities, policy CIDRs). The kernel side uses BPF LPM tries with the
 * same semantics (include/policy_maps.h).
 *
 * The table is one open-addressing hash per (family, prefix length) present:
 * a lookup probes only the lengths in use, longest first, so a file of
 * mostly /32 and /128 entries costs one or two probes per address.
 */
#ifndef FLOWD_LPM_H
#define FLOWD_LPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An IPv4 or IPv6 prefix. IPv4 in the first 4 bytes of addr, rest zero;
 * bits past plen are zero. */
struct ipnet {
	uint8_t family;   /* 4 or 6 */
	uint8_t plen;     /* 0..32 / 0..128 */
	uint8_t addr[16];
};

/* "198.18.0.0/15", "2001:db8::/32", or a bare address (a /32 or /128).
 * Host bits set past the prefix are an error (the message says which
 * prefix was probably meant). Returns 0, or -1 with a message in err. */
int ipnet_parse(const char *s, struct ipnet *out, char *err, size_t errlen);
/* Text form, as ipnet_parse reads it back: always with "/len". */
void ipnet_format(const struct ipnet *n, char *out, size_t outlen);
/* Does n contain the prefix m (same family, m->plen >= n->plen, same leading bits)? */
bool ipnet_contains(const struct ipnet *n, const struct ipnet *m);
/* Address (family, 16 bytes) as a full-length prefix. */
void ipnet_host(struct ipnet *out, uint8_t family, const uint8_t addr[16]);
/* Zero the bits past plen. */
void ipnet_mask(struct ipnet *n);

struct lpm;

struct lpm *lpm_new(void);
void lpm_free(struct lpm *t);

/* Insert or replace. Returns 0, or -1 on allocation failure. */
int lpm_insert(struct lpm *t, const struct ipnet *n, uint32_t value);
/* Exact prefix present? Returns true and its value. */
bool lpm_get(const struct lpm *t, const struct ipnet *n, uint32_t *value);
/* Longest stored prefix containing the address (family, addr). Returns true
 * and its value (and the matched prefix length when plen != NULL). */
bool lpm_lookup(const struct lpm *t, uint8_t family, const uint8_t addr[16],
                uint32_t *value, uint8_t *plen);
/* Longest stored prefix containing the prefix n (n itself included). */
bool lpm_lookup_net(const struct lpm *t, const struct ipnet *n, uint32_t *value, uint8_t *plen);

size_t lpm_count(const struct lpm *t);
/* Visit every entry (unspecified order). Stop when fn returns non-zero. */
int lpm_walk(const struct lpm *t, int (*fn)(void *user, const struct ipnet *n, uint32_t value),
             void *user);

#endif /* FLOWD_LPM_H */
