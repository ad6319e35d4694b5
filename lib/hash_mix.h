/* SPDX-License-Identifier: BSD-2-Clause */
/* The 64-bit finaliser of MurmurHash3: every input bit reaches every output
 * bit, so table indexes can be taken from the low bits. */
#ifndef FLOWD_HASH_MIX_H
#define FLOWD_HASH_MIX_H

#include <stdint.h>

static inline uint64_t hash_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

#endif /* FLOWD_HASH_MIX_H */
