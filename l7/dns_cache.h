/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IP -> DNS names learnt from DNS answers seen on the wire, so that later
 * flows carry `source_names` / `destination_names` like Hubble's.
 *
 * Bounded in entries (IPs) and names per IP; a name lives for
 * max(answer TTL, min_ttl) in event time. When full, the entry added or
 * refreshed longest ago is evicted (counted). Names are stored lower case
 * without the trailing dot and returned sorted, so output is deterministic.
 */
#ifndef FLOWD_DNS_CACHE_H
#define FLOWD_DNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_CACHE_NAMES_PER_IP 8
#define DNS_CACHE_NAME_MAX 254

struct dns_cache;

struct dns_cache_stats {
	uint64_t adds;          /* (ip, name) pairs added or refreshed */
	uint64_t evictions;     /* entries dropped because the cache was full */
	uint64_t names_dropped; /* names dropped because an IP had too many */
	uint64_t rejected;      /* unusable input (bad IP string, empty name) */
	uint64_t entries;       /* current */
};

/* max_entries 0: the cache is off (adds are ignored). NULL on OOM. */
struct dns_cache *dns_cache_new(size_t max_entries, uint32_t min_ttl_s);
void dns_cache_free(struct dns_cache *c);

void dns_cache_add(struct dns_cache *c, const char *ip, const char *name,
                   uint32_t ttl_s, uint64_t now_ns);

/* Names of ip still valid at now_ns, sorted; returns how many were written
 * to out (at most max). Pointers stay valid until the next add. */
size_t dns_cache_lookup(struct dns_cache *c, const char *ip, uint64_t now_ns,
                        const char **out, size_t max);

/* The same by binary address (family 4 or 6, 16 bytes as in struct
 * flow_key): no text parsing on the per-event path. */
size_t dns_cache_lookup_addr(struct dns_cache *c, uint8_t family, const uint8_t addr[16],
                             uint64_t now_ns, const char **out, size_t max);

void dns_cache_get_stats(const struct dns_cache *c, struct dns_cache_stats *st);

/* Cheap test before a lookup: false while no name was ever learnt. */
bool dns_cache_has_entries(const struct dns_cache *c);

#endif /* FLOWD_DNS_CACHE_H */
