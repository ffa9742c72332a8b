/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Text a word (eight bytes) at a time.  Line and column numbers and keyword
 * windows count characters, sniffing counts control bytes, and most text is
 * ASCII, so these run once per finding and once per chunk over every byte.
 */
#ifndef SN_COMMON_UTF8_H
#define SN_COMMON_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SN_UTF8_HIGHS UINT64_C(0x8080808080808080)
#define SN_UTF8_ONES UINT64_C(0x0101010101010101)
#define SN_UTF8_LOW7 UINT64_C(0x7F7F7F7F7F7F7F7F)

/* 0x80 in each byte of w that is below c (at most 0x80), 0 in the others.
 * Exact: the low seven bits of a byte plus 0x80 - c cannot carry into the
 * next byte. */
static inline uint64_t sn_word_below(uint64_t w, uint8_t c)
{
	return ~(((w & SN_UTF8_LOW7) + SN_UTF8_ONES * (uint8_t)(0x80 - c)) | w) & SN_UTF8_HIGHS;
}

/* 0x80 in each byte of w that equals c, 0 in the others (exact). */
static inline uint64_t sn_word_equal(uint64_t w, uint8_t c)
{
	uint64_t x = w ^ (SN_UTF8_ONES * c);
	return ~(((x & SN_UTF8_LOW7) + SN_UTF8_LOW7) | x | SN_UTF8_LOW7);
}

/* Length of the ASCII run at p (at most n). */
static inline size_t sn_ascii_run(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i + 8 <= n) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		if (w & SN_UTF8_HIGHS)
			break;
		i += 8;
	}
	while (i < n && p[i] < 0x80)
		i++;
	return i;
}

/* Characters in p[0..n): the bytes that are not continuation bytes
 * (10xxxxxx), as a column counts them. */
static inline size_t sn_utf8_chars(const char *p, size_t n)
{
	size_t cont = 0, i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		/* 0x80 in each byte with bit 7 set and bit 6 clear, then the
		 * sum of those bytes with one multiply */
		uint64_t t = (w & ~(w << 1) & SN_UTF8_HIGHS) >> 7;
		cont += (size_t)((t * SN_UTF8_ONES) >> 56);
	}
	for (; i < n; i++)
		cont += ((uint8_t)p[i] & 0xC0) == 0x80;
	return n - cont;
}

#endif
