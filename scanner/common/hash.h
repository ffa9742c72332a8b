/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A fast hash of a few bytes for in-process tables (the fingerprint memo's
 * slots, keyword tokens): one multiplication per eight bytes, where a
 * byte-at-a-time hash waits on a multiplication per byte.  Not keyed and
 * never stored or compared across processes.
 */
#ifndef SN_COMMON_HASH_H
#define SN_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* n bytes at p mixed into `seed`; the high bits are the best mixed. */
static inline uint64_t sn_hash_bytes(uint64_t seed, const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = seed, w;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
		h ^= h >> 31;
	}
	if (i < n) {
		w = 0;
		memcpy(&w, s + i, n - i);
		h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
		h ^= h >> 31;
	}
	return h * 0x94D049BB133111EBull;
}

#endif
