/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Encoding detection and decoding to UTF-8 for the text stage.
 *
 * Files on Dutch shares are mostly UTF-8, but exports from older systems are
 * Windows-1252 and Windows tools like UTF-16.  Rather than guessing one
 * encoding per file, UTF-8 mode keeps every valid UTF-8 sequence and decodes
 * each remaining byte as Windows-1252, so a mostly-UTF-8 file with a few
 * Latin-1 bytes (or the reverse) is read correctly throughout.
 *
 * Choices worth knowing:
 *  - The five code points Windows-1252 leaves undefined (0x81, 0x8D, 0x8F,
 *    0x90, 0x9D) map to the C1 controls of the same value, as in the WHATWG
 *    encoding standard; they carry no text either way.
 *  - A UTF-32LE BOM (FF FE 00 00) starts with the UTF-16LE BOM and is decoded
 *    as UTF-16LE: UTF-32 is out of scope, and its ASCII characters still come
 *    out (separated by NULs), so a value in it is not silently called clean.
 *  - NBSP (U+00A0) and narrow NBSP (U+202F) become a space in every encoding
 *    because Dutch numbers and postcodes are often typeset with them.
 */
#include "common/utf8.h"
#include "text/decode.h"

#include <string.h>

#include "text/text.h"

/* How much of a unit's start the UTF-16 guess looks at. */
#define SN_SNIFF_WINDOW 4096

const char *sn_encoding_name(sn_encoding e)
{
	switch (e) {
	case SN_ENC_UTF16LE: return "utf-16le";
	case SN_ENC_UTF16BE: return "utf-16be";
	case SN_ENC_UTF8: break;
	}
	return "utf-8";
}

/*
 * ASCII text in UTF-16 has a NUL in every other byte: the high byte, which
 * comes second in little-endian.  Requiring the other half to be nearly free
 * of NULs keeps binary data full of zeros from passing as UTF-16.
 */
static sn_encoding guess_utf16(const uint8_t *buf, size_t n)
{
	size_t m = n < SN_SNIFF_WINDOW ? n : SN_SNIFF_WINDOW;
	size_t pairs = m / 2, even_nul = 0, odd_nul = 0;

	/* text without any NUL byte (nearly all of it) is no UTF-16 */
	if (pairs == 0 || !memchr(buf, 0, m))
		return SN_ENC_UTF8;
	for (size_t i = 0; i < pairs; i++) {
		even_nul += buf[2 * i] == 0;
		odd_nul += buf[2 * i + 1] == 0;
	}
	if (odd_nul * 10 >= pairs * 4 && even_nul * 20 < pairs)
		return SN_ENC_UTF16LE;
	if (even_nul * 10 >= pairs * 4 && odd_nul * 20 < pairs)
		return SN_ENC_UTF16BE;
	return SN_ENC_UTF8;
}

sn_encoding sn_encoding_sniff(const uint8_t *buf, size_t n, size_t *bom_len)
{
	sn_encoding e = SN_ENC_UTF8;
	size_t bom = 0;

	if (n >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF) {
		bom = 3;
	} else if (n >= 2 && buf[0] == 0xFF && buf[1] == 0xFE) {
		e = SN_ENC_UTF16LE;
		bom = 2;
	} else if (n >= 2 && buf[0] == 0xFE && buf[1] == 0xFF) {
		e = SN_ENC_UTF16BE;
		bom = 2;
	} else if (n > 0) {
		e = guess_utf16(buf, n);
	}
	if (bom_len)
		*bom_len = bom;
	return e;
}

/* Windows-1252 0x80..0x9F; the undefined slots keep their C1 value. */
static const uint16_t cp1252_c1[32] = {
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

/* Encode one scalar value; NBSP variants come out as a plain space. */
static size_t put_cp(char *out, uint32_t cp)
{
	if (cp == 0xA0 || cp == 0x202F) {
		out[0] = ' ';
		return 1;
	}
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static uint32_t cp1252(uint8_t b)
{
	return (b >= 0x80 && b < 0xA0) ? cp1252_c1[b - 0x80] : b;
}

/*
 * Classify the UTF-8 sequence at p: 1 = valid (length and code point set),
 * 0 = invalid lead byte, -1 = a valid prefix cut off by the end of the input.
 * The second-byte ranges exclude overlongs, surrogates and values past
 * U+10FFFF (RFC 3629, table 3-7 of the Unicode standard).
 */
static int utf8_seq(const uint8_t *p, size_t n, size_t *len, uint32_t *cp)
{
	uint8_t b = p[0], lo = 0x80, hi = 0xBF;
	size_t l;
	uint32_t c;

	if (b >= 0xC2 && b <= 0xDF) {
		l = 2;
		c = b & 0x1F;
	} else if (b >= 0xE0 && b <= 0xEF) {
		l = 3;
		c = b & 0x0F;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F;
	} else if (b >= 0xF0 && b <= 0xF4) {
		l = 4;
		c = b & 0x07;
		if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	for (size_t k = 1; k < l; k++) {
		if (k >= n)
			return -1;
		if (p[k] < lo || p[k] > hi)
			return 0;
		lo = 0x80;
		hi = 0xBF;
		c = (c << 6) | (p[k] & 0x3F);
	}
	*len = l;
	*cp = c;
	return 1;
}

static size_t decode_utf8(const uint8_t *in, size_t n, int final, char *out, size_t cap,
			  size_t *produced)
{
	size_t i = 0, o = 0;

	while (i < n && cap - o >= SN_DECODE_MAX_OUT) {
		size_t len;
		uint32_t cp;
		int r;

		if (in[i] < 0x80) {
			size_t room = cap - o, k;
			k = sn_ascii_run(in + i, n - i < room ? n - i : room);
			memcpy(out + o, in + i, k);
			i += k;
			o += k;
			continue;
		}
		r = utf8_seq(in + i, n - i, &len, &cp);
		if (r < 0 && !final)
			break;
		if (r <= 0) {
			o += put_cp(out + o, cp1252(in[i]));
			i++;
			continue;
		}
		if (cp == 0xA0 || cp == 0x202F) {
			out[o++] = ' ';
		} else {
			memcpy(out + o, in + i, len);
			o += len;
		}
		i += len;
	}
	*produced = o;
	return i;
}

static size_t decode_utf16(const uint8_t *in, size_t n, int final, int be, char *out,
			   size_t cap, size_t *produced)
{
	size_t i = 0, o = 0;
	int hi = be ? 0 : 1, lo = be ? 1 : 0;

	while (cap - o >= SN_DECODE_MAX_OUT) {
		uint32_t u, u2, cp;

		if (n - i < 2) {
			if (final && n - i == 1) {
				o += put_cp(out + o, 0xFFFD);
				i++;
			}
			break;
		}
		u = (uint32_t)in[i + hi] << 8 | in[i + lo];
		if (u < 0x80) {
			out[o++] = (char)u;
			i += 2;
			continue;
		}
		if (u >= 0xD800 && u <= 0xDBFF) {
			if (n - i < 4) {
				if (!final)
					break;
				cp = 0xFFFD;
				i += 2;
			} else {
				u2 = (uint32_t)in[i + 2 + hi] << 8 | in[i + 2 + lo];
				if (u2 >= 0xDC00 && u2 <= 0xDFFF) {
					cp = 0x10000 + ((u - 0xD800) << 10) + (u2 - 0xDC00);
					i += 4;
				} else {
					/* the next unit is decoded on its own */
					cp = 0xFFFD;
					i += 2;
				}
			}
		} else if (u >= 0xDC00 && u <= 0xDFFF) {
			cp = 0xFFFD;
			i += 2;
		} else {
			cp = u;
			i += 2;
		}
		o += put_cp(out + o, cp);
	}
	*produced = o;
	return i;
}

size_t sn_text_decode(sn_encoding enc, const uint8_t *in, size_t n, int final, char *out,
		      size_t cap, size_t *produced)
{
	switch (enc) {
	case SN_ENC_UTF16LE:
		return decode_utf16(in, n, final, 0, out, cap, produced);
	case SN_ENC_UTF16BE:
		return decode_utf16(in, n, final, 1, out, cap, produced);
	case SN_ENC_UTF8:
		break;
	}
	return decode_utf8(in, n, final, out, cap, produced);
}
