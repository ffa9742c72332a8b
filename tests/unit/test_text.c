/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unit tests for the text stage: encoding detection, decoding to UTF-8 (with
 * the Windows-1252 fallback and NBSP normalization), and the chunk contract
 * (tiling, context before, tail after, exact line/column of data[0]) under
 * every way the raw bytes can arrive: all at once, one byte per read, random
 * read sizes, a sniffing prefix followed by reads, interrupted reads.
 *
 * Failure messages give offsets and chunk numbers, never decoded text.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/utf8.h"
#include "speurneus/error.h"
#include "text/text.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define LIT(s) (const uint8_t *)(s), (sizeof(s) - 1)

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

enum read_mode {
	RM_BUFFER,  /* sn_text_stream_buffer */
	RM_ONE,     /* one byte per read */
	RM_RANDOM,  /* random read sizes 1..37 */
	RM_PREFIX,  /* a prefix of a third of the input, then 5-byte reads */
	RM_EINTR,   /* 3-byte reads, every other call interrupted */
	RM_COUNT
};

typedef struct reader {
	const uint8_t *p;
	size_t n, pos;
	enum read_mode mode;
	uint32_t rng;
	size_t fail_at; /* fail with EIO once pos reaches this */
	int toggle;
} reader;

static uint32_t rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7FFF;
}

static ssize_t test_read(void *ctx, void *buf, size_t n)
{
	reader *r = ctx;
	size_t k = r->n - r->pos;

	if (r->pos >= r->fail_at) {
		errno = EIO;
		return -1;
	}
	if (r->mode == RM_EINTR && (r->toggle ^= 1)) {
		errno = EINTR;
		return -1;
	}
	if (r->mode == RM_ONE)
		k = k < 1 ? k : 1;
	else if (r->mode == RM_RANDOM) {
		size_t want = 1 + rnd(&r->rng) % 37;
		k = k < want ? k : want;
	}
	else if (r->mode == RM_PREFIX)
		k = k < 5 ? k : 5;
	else if (r->mode == RM_EINTR)
		k = k < 3 ? k : 3;
	if (k > n)
		k = n;
	if (r->fail_at - r->pos < k)
		k = r->fail_at - r->pos;
	memcpy(buf, r->p + r->pos, k);
	r->pos += k;
	return (ssize_t)k;
}

/* Collects emitted text and checks every chunk against the contract. */
typedef struct coll {
	const sn_text_options *o;
	const char *expect; /* the full decoded text, or NULL */
	size_t expect_len;
	char *out;
	size_t out_len, out_cap;
	size_t nchunks;
	int seen_last;
	size_t stop_at; /* return stop_rc from this chunk (1-based), 0 = never */
	int stop_rc;
	size_t cuts;
	size_t lc_off; /* line/column of expect[lc_off], advanced chunk by chunk */
	uint64_t lc_line, lc_col;
} coll;

static int is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

/* Strict UTF-8 check (no overlongs, surrogates or values past U+10FFFF). */
static int valid_utf8(const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char b = p[i];
		size_t l;
		unsigned char lo = 0x80, hi = 0xBF;
		if (b < 0x80) {
			i++;
			continue;
		}
		if (b >= 0xC2 && b <= 0xDF)
			l = 2;
		else if (b >= 0xE0 && b <= 0xEF)
			l = 3;
		else if (b >= 0xF0 && b <= 0xF4)
			l = 4;
		else
			return 0;
		if (b == 0xE0)
			lo = 0xA0;
		if (b == 0xED)
			hi = 0x9F;
		if (b == 0xF0)
			lo = 0x90;
		if (b == 0xF4)
			hi = 0x8F;
		if (n - i < l)
			return 0;
		for (size_t k = 1; k < l; k++) {
			if (p[i + k] < lo || p[i + k] > hi)
				return 0;
			lo = 0x80;
			hi = 0xBF;
		}
		i += l;
	}
	return 1;
}

/* Line and column of expect[off], counted independently of the stream. */
static void line_col(coll *k, size_t off, uint64_t *line, uint64_t *col)
{
	if (off < k->lc_off || k->lc_line == 0) {
		k->lc_off = 0;
		k->lc_line = 1;
		k->lc_col = 0;
	}
	for (; k->lc_off < off; k->lc_off++) {
		if (k->expect[k->lc_off] == '\n') {
			k->lc_line++;
			k->lc_col = 0;
		} else if (!is_cont((unsigned char)k->expect[k->lc_off])) {
			k->lc_col++;
		}
	}
	*line = k->lc_line;
	*col = k->lc_col;
}

static int check_chunk(const sn_chunk *c, void *payload)
{
	coll *k = payload;
	const sn_text_options *o = k->o;
	size_t idx = k->nchunks;
	const unsigned char *d = (const unsigned char *)c->data;

	if (k->seen_last)
		fail_msg("chunk %zu delivered after the last one", idx);
	if (c->emit_from > c->emit_to || c->emit_to > c->len)
		fail_msg("chunk %zu: emit range %zu..%zu outside len %zu", idx, c->emit_from,
			 c->emit_to, c->len);
	if (c->is_first != (idx == 0))
		fail_msg("chunk %zu: is_first = %d", idx, c->is_first);
	if (c->base_offset + c->emit_from != k->out_len)
		fail_msg("chunk %zu: emit starts at %llu, previous emit ended at %zu", idx,
			 (unsigned long long)(c->base_offset + c->emit_from), k->out_len);
	if (c->len > o->before + o->chunk + o->after + 16)
		fail_msg("chunk %zu: len %zu exceeds the fixed buffer", idx, c->len);
	if (!valid_utf8(d, c->len))
		fail_msg("chunk %zu: data is not valid UTF-8", idx);
	if ((c->emit_from < c->len && is_cont(d[c->emit_from])) ||
	    (c->emit_to < c->len && is_cont(d[c->emit_to])))
		fail_msg("chunk %zu: emit range not on character boundaries", idx);
	if (c->is_first) {
		if (c->base_offset != 0 || c->base_line != 1 || c->base_col != 0)
			fail_msg("chunk %zu: first chunk does not start the unit", idx);
	} else {
		uint64_t avail = c->base_offset + c->emit_from;
		uint64_t need = avail < o->before ? avail : o->before;
		if (c->emit_from < need)
			fail_msg("chunk %zu: %zu context bytes, need %llu", idx, c->emit_from,
				 (unsigned long long)need);
	}
	if (c->is_last) {
		if (c->emit_to != c->len)
			fail_msg("chunk %zu: last chunk ends emitting at %zu of %zu", idx,
				 c->emit_to, c->len);
	} else {
		if (c->len - c->emit_to < o->after)
			fail_msg("chunk %zu: tail %zu < after %zu", idx, c->len - c->emit_to,
				 o->after);
		/* a newline in the second half of the new text is where it cuts */
		size_t lo = c->emit_from + o->chunk / 2, hi = c->emit_from + o->chunk;
		if (hi <= c->len && memchr(c->data + lo, '\n', hi - lo) &&
		    c->data[c->emit_to - 1] != '\n')
			fail_msg("chunk %zu: cut at %zu is not after a newline", idx, c->emit_to);
		k->cuts++;
	}
	if (k->expect) {
		uint64_t line, col;
		if (c->base_offset + c->len > k->expect_len)
			fail_msg("chunk %zu: extends past the expected text", idx);
		for (size_t i = 0; i < c->len; i++)
			if (c->data[i] != k->expect[c->base_offset + i])
				fail_msg("chunk %zu: data differs at unit offset %llu", idx,
					 (unsigned long long)(c->base_offset + i));
		line_col(k, (size_t)c->base_offset, &line, &col);
		if (line != c->base_line || col != c->base_col)
			fail_msg("chunk %zu: base line/col %llu:%llu, expected %llu:%llu", idx,
				 (unsigned long long)c->base_line, (unsigned long long)c->base_col,
				 (unsigned long long)line, (unsigned long long)col);
	}
	size_t m = c->emit_to - c->emit_from;
	if (m && k->out_len + m > k->out_cap) {
		k->out_cap = (k->out_len + m) * 2 + 64;
		k->out = realloc(k->out, k->out_cap);
		assert_non_null(k->out);
	}
	if (m)
		memcpy(k->out + k->out_len, c->data + c->emit_from, m);
	k->out_len += m;
	k->nchunks++;
	k->seen_last = c->is_last;
	if (k->stop_at && k->nchunks == k->stop_at)
		return k->stop_rc;
	return 0;
}

/* Stream `in` with `o` and `mode` through check_chunk; returns the rc. */
static int run(const sn_text_options *o, const uint8_t *in, size_t n, enum read_mode mode,
	       coll *k, size_t fail_at, uint64_t *bytes_in, sn_encoding *enc, int *rerr)
{
	sn_text *t = NULL;
	reader r = { in, n, 0, mode, 42u + (uint32_t)n, fail_at, 0 };
	size_t plen = mode == RM_PREFIX ? n / 3 : 0;
	int rc;

	k->o = o;
	assert_int_equal(sn_text_new(&t, o), 0);
	if (mode == RM_BUFFER) {
		rc = sn_text_stream_buffer(t, in, n, check_chunk, k);
		if (bytes_in)
			*bytes_in = n;
	} else {
		r.pos = plen;
		rc = sn_text_stream(t, in, plen, test_read, &r, check_chunk, k, bytes_in, enc,
				    rerr);
	}
	sn_text_free(t);
	return rc;
}

/* Decode `in` in every read mode and with small and default chunks; each
 * must give exactly `want`. */
static void expect_decoding(const uint8_t *in, size_t n, const char *want, size_t want_len,
			    const char *what)
{
	static const sn_text_options opts[] = {
		{ 64, 16, 32, 7 },
		{ 16, 0, 0, 1 },
		SN_TEXT_OPTIONS_INIT,
	};
	for (size_t oi = 0; oi < NELEM(opts); oi++) {
		for (int mode = 0; mode < RM_COUNT; mode++) {
			coll k = { 0 };
			uint64_t got_in = 0;
			int rerr = -1;
			k.expect = want;
			k.expect_len = want_len;
			int rc = run(&opts[oi], in, n, (enum read_mode)mode, &k, SIZE_MAX, &got_in,
				     NULL, mode == RM_BUFFER ? NULL : &rerr);
			if (rc != 0)
				fail_msg("%s: options %zu mode %d: rc %d", what, oi, mode, rc);
			if (k.out_len != want_len || (want_len && memcmp(k.out, want, want_len)))
				fail_msg("%s: options %zu mode %d: decoded text differs "
					 "(%zu bytes, want %zu)", what, oi, mode, k.out_len,
					 want_len);
			if (!k.seen_last)
				fail_msg("%s: no last chunk", what);
			if (got_in != n)
				fail_msg("%s: bytes_in %llu, want %zu", what,
					 (unsigned long long)got_in, n);
			if (mode != RM_BUFFER && rerr != 0)
				fail_msg("%s: read_errno %d", what, rerr);
			free(k.out);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Encoders for building the test inputs from UTF-8                          */

static uint32_t next_cp(const char *s, size_t *i)
{
	const unsigned char *p = (const unsigned char *)s + *i;
	uint32_t c;
	size_t l;
	if (p[0] < 0x80) {
		c = p[0];
		l = 1;
	} else if (p[0] < 0xE0) {
		c = p[0] & 0x1F;
		l = 2;
	} else if (p[0] < 0xF0) {
		c = p[0] & 0x0F;
		l = 3;
	} else {
		c = p[0] & 0x07;
		l = 4;
	}
	for (size_t k = 1; k < l; k++)
		c = c << 6 | (p[k] & 0x3F);
	*i += l;
	return c;
}

static size_t put16(uint8_t *o, uint32_t u, int be)
{
	o[be ? 0 : 1] = (uint8_t)(u >> 8);
	o[be ? 1 : 0] = (uint8_t)u;
	return 2;
}

/* UTF-8 to UTF-16 (with or without BOM); out must hold 2 * len + 2. */
static size_t to_utf16(const char *s, size_t len, int be, int bom, uint8_t *out)
{
	size_t o = 0, i = 0;
	if (bom)
		o += put16(out + o, 0xFEFF, be);
	while (i < len) {
		uint32_t c = next_cp(s, &i);
		if (c >= 0x10000) {
			c -= 0x10000;
			o += put16(out + o, 0xD800 + (c >> 10), be);
			o += put16(out + o, 0xDC00 + (c & 0x3FF), be);
		} else {
			o += put16(out + o, c, be);
		}
	}
	return o;
}

/* UTF-8 to Windows-1252 for the characters the test text uses. */
static size_t to_cp1252(const char *s, size_t len, uint8_t *out)
{
	size_t o = 0, i = 0;
	while (i < len) {
		uint32_t c = next_cp(s, &i);
		if (c == 0x20AC)
			out[o++] = 0x80;
		else if (c < 0x100 && (c < 0x80 || c >= 0xA0))
			out[o++] = (uint8_t)c;
		else
			fail_msg("test text has a character outside Windows-1252");
	}
	return o;
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */

static void test_sniff(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		sn_encoding enc;
		size_t bom;
	} v[] = {
		{ "", 0, SN_ENC_UTF8, 0 },
		{ "plain text", 10, SN_ENC_UTF8, 0 },
		{ "\xef\xbb\xbftext", 7, SN_ENC_UTF8, 3 },
		{ "\xff\xfet\0e\0", 6, SN_ENC_UTF16LE, 2 },
		{ "\xfe\xff\0t\0e", 6, SN_ENC_UTF16BE, 2 },
		{ "\xff\xfe\0\0t\0\0\0", 8, SN_ENC_UTF16LE, 2 }, /* UTF-32LE: as UTF-16LE */
		{ "t\0e\0x\0t\0", 8, SN_ENC_UTF16LE, 0 },
		{ "\0t\0e\0x\0t", 8, SN_ENC_UTF16BE, 0 },
		{ "t\0\0\0x\0\0\0", 8, SN_ENC_UTF8, 0 }, /* NULs on both sides */
		{ "\0\0\0\0\0\0\0\0", 8, SN_ENC_UTF8, 0 },
		{ "\xff", 1, SN_ENC_UTF8, 0 },
		{ "ab\0", 3, SN_ENC_UTF8, 0 },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(v); i++) {
		size_t bom = 99;
		sn_encoding e = sn_encoding_sniff((const uint8_t *)v[i].in, v[i].n, &bom);
		if (e != v[i].enc || bom != v[i].bom)
			fail_msg("sniff case %zu: %s bom %zu, want %s bom %zu", i,
				 sn_encoding_name(e), bom, sn_encoding_name(v[i].enc), v[i].bom);
	}
	assert_string_equal(sn_encoding_name(SN_ENC_UTF8), "utf-8");
	assert_string_equal(sn_encoding_name(SN_ENC_UTF16LE), "utf-16le");
	assert_string_equal(sn_encoding_name(SN_ENC_UTF16BE), "utf-16be");
}

/* The planted line set in seven encodings decodes to the same UTF-8. */
static void test_same_text_every_encoding(void **state)
{
	static const char line[] =
		"BSN 111222333, IBAN NL91ABNA0417164300, tel 06-12345678, café\n"
		"Postcode 1234 AB, bedrag € 12,50, e-mail jan.jansen@example.nl, coördinatie\n"
		"emoji \xf0\x9f\x98\x80 en \xf0\x9f\x87\xb3\xf0\x9f\x87\xb1 na BSN 111222333\n";
	static const char emoji_line[] = "emoji";
	const size_t reps = 40;
	size_t len = (sizeof line - 1) * reps;
	char *want = malloc(len + 1);
	uint8_t *buf = malloc(2 * len + 16);
	(void)state;
	assert_non_null(want);
	assert_non_null(buf);
	for (size_t i = 0; i < reps; i++)
		memcpy(want + i * (sizeof line - 1), line, sizeof line - 1);

	expect_decoding((const uint8_t *)want, len, want, len, "utf-8");
	buf[0] = 0xEF;
	buf[1] = 0xBB;
	buf[2] = 0xBF;
	memcpy(buf + 3, want, len);
	expect_decoding(buf, len + 3, want, len, "utf-8 bom");
	for (int be = 0; be <= 1; be++) {
		for (int bom = 0; bom <= 1; bom++) {
			size_t n = to_utf16(want, len, be, bom, buf);
			sn_text *t = NULL;
			sn_encoding enc = SN_ENC_UTF8;
			reader r = { buf, n, 0, RM_RANDOM, 7, SIZE_MAX, 0 };
			coll k = { 0 };
			sn_text_options o = SN_TEXT_OPTIONS_INIT;
			expect_decoding(buf, n, want, len, be ? "utf-16be" : "utf-16le");
			k.o = &o;
			assert_int_equal(sn_text_new(&t, &o), 0);
			assert_int_equal(sn_text_stream(t, NULL, 0, test_read, &r, check_chunk, &k,
							NULL, &enc, NULL), 0);
			assert_int_equal(enc, be ? SN_ENC_UTF16BE : SN_ENC_UTF16LE);
			sn_text_free(t);
			free(k.out);
		}
	}
	/* Windows-1252 has no emoji: the same text without the emoji lines */
	size_t wl = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(want + i, '\n', len - i);
		size_t ll = (size_t)(nl - (want + i)) + 1;
		if (strncmp(want + i, emoji_line, sizeof emoji_line - 1) != 0) {
			memmove(want + wl, want + i, ll);
			wl += ll;
		}
		i += ll;
	}
	size_t n = to_cp1252(want, wl, buf);
	expect_decoding(buf, n, want, wl, "windows-1252");
	free(buf);
	free(want);
}

typedef struct vec {
	const uint8_t *in;
	size_t in_len;
	const char *out;
	size_t out_len;
} vec;

#define VEC(in, out) { LIT(in), (out), sizeof(out) - 1 }

/* Each vector as it is, and behind 5000 characters of padding so that it
 * lies past the sniffing window and is split by reads of every size. */
static void run_vectors(const vec *v, size_t n, const char *what, int utf16)
{
	const size_t pad = 5000;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *in = v[i].in;
		size_t bom = 0, unit = 1, o = 0;
		int be = 0;
		expect_decoding(in, v[i].in_len, v[i].out, v[i].out_len, what);
		if (v[i].in_len >= 2 && in[0] == 0xFF && in[1] == 0xFE) {
			bom = 2;
			unit = 2;
		} else if (v[i].in_len >= 2 && in[0] == 0xFE && in[1] == 0xFF) {
			bom = 2;
			unit = 2;
			be = 1;
		} else if (v[i].in_len >= 3 && in[0] == 0xEF) {
			bom = 3;
		} else if (utf16) {
			continue; /* BOM-less UTF-16 is only recognised at the start */
		}
		uint8_t *pin = malloc(v[i].in_len + pad * unit);
		char *pout = malloc(v[i].out_len + pad);
		assert_non_null(pin);
		assert_non_null(pout);
		memcpy(pin, in, bom);
		o = bom;
		for (size_t k = 0; k < pad; k++) {
			if (unit == 2)
				o += put16(pin + o, 'x', be);
			else
				pin[o++] = 'x';
		}
		memcpy(pin + o, in + bom, v[i].in_len - bom);
		memset(pout, 'x', pad);
		memcpy(pout + pad, v[i].out, v[i].out_len);
		expect_decoding(pin, v[i].in_len + pad * unit, pout, v[i].out_len + pad, what);
		free(pin);
		free(pout);
	}
}

static void test_utf8_fallback(void **state)
{
	static const vec v[] = {
		VEC("a\x80z", "a\xe2\x82\xacz"),            /* cp1252 euro */
		VEC("caf\xe9 ok", "caf\xc3\xa9 ok"),         /* Latin-1 e acute */
		VEC("\x93quoted\x94", "\xe2\x80\x9cquoted\xe2\x80\x9d"),
		VEC("x\x81y", "x\xc2\x81y"),                 /* undefined: C1 control */
		VEC("\x8d\x8f\x90\x9d", "\xc2\x8d\xc2\x8f\xc2\x90\xc2\x9d"),
		VEC("\xc0\xaf", "\xc3\x80\xc2\xaf"),         /* overlong '/' */
		VEC("\xe0\x80\xaf", "\xc3\xa0\xe2\x82\xac\xc2\xaf"), /* overlong */
		VEC("\xed\xa0\x80", "\xc3\xad \xe2\x82\xac"), /* surrogate; A0 = NBSP */
		VEC("\xf4\x90\x80\x80", "\xc3\xb4\xc2\x90\xe2\x82\xac\xe2\x82\xac"),
		VEC("\xf8\x88\x80\x80\x80", "\xc3\xb8\xcb\x86\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"),
		VEC("ab\xe2\x82", "ab\xc3\xa2\xe2\x80\x9a"), /* cut off at the end */
		VEC("\xc3", "\xc3\x83"),
		VEC("\xc3(", "\xc3\x83("),
		VEC("\xf0\x9f\x98", "\xc3\xb0\xc5\xb8\xcb\x9c"),
		VEC("\xfd\xfe\xff", "\xc3\xbd\xc3\xbe\xc3\xbf"),
		/* valid UTF-8 passes unchanged */
		VEC("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf",
		    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"),
		VEC("a\0b\0\0c", "a\0b\0\0c"),               /* NUL passes */
		VEC("\xef\xbb\xbf\xef\xbb\xbfx", "\xef\xbb\xbfx"), /* one BOM skipped */
		/* NBSP and narrow NBSP become a space */
		VEC("1234\xc2\xa0" "AB", "1234 AB"),
		VEC("06\xe2\x80\xaf" "12", "06 12"),
		VEC("1234\xa0" "AB", "1234 AB"),
		VEC("\xa0\xc2\xa0\xe2\x80\xaf", "   "),
		/* mixed: valid UTF-8 next to Windows-1252 */
		VEC("\xc3\xa9\xe9\xc3\xa9", "\xc3\xa9\xc3\xa9\xc3\xa9"),
	};
	(void)state;
	run_vectors(v, NELEM(v), "utf-8 fallback", 0);
}

static void test_utf16_cases(void **state)
{
	static const vec v[] = {
		/* surrogate pair (an emoji) joined */
		VEC("\xff\xfe" "A\0\x3d\xd8\x00\xde" "B\0", "A\xf0\x9f\x98\x80" "B"),
		VEC("\xfe\xff\0A\xd8\x3d\xde\x00\0B", "A\xf0\x9f\x98\x80" "B"),
		/* unpaired high surrogate, lone low surrogate */
		VEC("\xff\xfe\x3d\xd8" "B\0", "\xef\xbf\xbd" "B"),
		VEC("\xff\xfe\x00\xde" "B\0", "\xef\xbf\xbd" "B"),
		VEC("\xff\xfe" "A\0\x3d\xd8", "A\xef\xbf\xbd"),
		VEC("\xff\xfe\x3d\xd8\x3d\xd8\x00\xde", "\xef\xbf\xbd\xf0\x9f\x98\x80"),
		/* odd trailing byte */
		VEC("\xff\xfe" "A\0B", "A\xef\xbf\xbd"),
		VEC("\xfe\xff\0A\0", "A\xef\xbf\xbd"),
		/* NBSP, narrow NBSP, NUL, BMP characters */
		VEC("\xff\xfe" "1\0\xa0\0" "2\0\x2f\x20" "3\0", "1 2 3"),
		VEC("\xfe\xff\0" "1\0\xa0\0" "2\x20\x2f\0" "3", "1 2 3"),
		VEC("\xff\xfe\xe9\0\xac\x20\0\0", "\xc3\xa9\xe2\x82\xac\0"),
		/* BOM-less UTF-16 found by its NUL pattern */
		VEC("B\0S\0N\0 \0" "1\0", "BSN 1"),
		VEC("\0B\0S\0N\0 \0" "1", "BSN 1"),
	};
	(void)state;
	run_vectors(v, NELEM(v), "utf-16", 1);
}

/* Random text, with and without newlines, with multi-byte characters. */
static size_t gen_text(char *out, size_t n, uint32_t seed, int newlines, int multibyte)
{
	static const char *const mb[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };
	size_t o = 0;
	while (o < n) {
		uint32_t r = rnd(&seed) % 100;
		const char *piece;
		char one[2] = { 0, 0 };
		if (newlines && r < 4) {
			piece = "\n";
		} else if (multibyte && r < 16) {
			piece = mb[r % 3];
		} else {
			one[0] = (char)("abcdefghij0123456789 ,.-"[rnd(&seed) % 24]);
			piece = one;
		}
		size_t l = strlen(piece);
		if (o + l > n)
			break;
		memcpy(out + o, piece, l);
		o += l;
	}
	return o;
}

static void test_chunk_invariants(void **state)
{
	static const sn_text_options opts[] = {
		{ 64, 16, 32, 7 },
		{ 64, 16, 32, 1 },
		{ 16, 0, 0, 3 },
		{ 17, 5, 3, 4096 },
		{ 100, 40, 60, 13 },
		{ 64, 200, 10, 64 },
	};
	static const size_t sizes[] = { 0, 1, 15, 16, 63, 64, 97, 200, 5000, 20000 };
	char *text = malloc(20000);
	size_t total_cuts = 0;
	(void)state;
	assert_non_null(text);
	for (int shape = 0; shape < 4; shape++) {
		for (size_t si = 0; si < NELEM(sizes); si++) {
			size_t n = gen_text(text, sizes[si], (uint32_t)(si * 7 + shape), shape & 1,
					    shape & 2);
			for (size_t oi = 0; oi < NELEM(opts); oi++) {
				for (int mode = 0; mode < RM_COUNT; mode++) {
					coll k = { 0 };
					k.expect = text;
					k.expect_len = n;
					int rc = run(&opts[oi], (const uint8_t *)text, n,
						     (enum read_mode)mode, &k, SIZE_MAX, NULL, NULL,
						     NULL);
					if (rc != 0 || k.out_len != n ||
					    (n && memcmp(k.out, text, n)) || !k.seen_last)
						fail_msg("shape %d size %zu opts %zu mode %d: "
							 "rc %d, %zu of %zu bytes", shape, n, oi,
							 mode, rc, k.out_len, n);
					total_cuts += k.cuts;
					free(k.out);
				}
			}
		}
	}
	assert_true(total_cuts > 1000);
	free(text);
}

/* An empty unit is one empty chunk that is both first and last. */
static void test_empty_unit(void **state)
{
	sn_text_options o = { 64, 16, 32, 7 };
	(void)state;
	for (int mode = 0; mode < RM_COUNT; mode++) {
		coll k = { 0 };
		k.expect = "";
		assert_int_equal(run(&o, (const uint8_t *)"", 0, (enum read_mode)mode, &k,
				     SIZE_MAX, NULL, NULL, NULL), 0);
		assert_int_equal(k.nchunks, 1);
		assert_true(k.seen_last);
		assert_int_equal(k.out_len, 0);
		free(k.out);
	}
	/* a BOM alone is an empty unit too */
	coll k = { 0 };
	k.expect = "";
	assert_int_equal(run(&o, (const uint8_t *)"\xff\xfe", 2, RM_ONE, &k, SIZE_MAX, NULL,
			     NULL, NULL), 0);
	assert_int_equal(k.nchunks, 1);
	assert_int_equal(k.out_len, 0);
	free(k.out);
}

/* A long line with no newline is cut at character boundaries only. */
static void test_long_line(void **state)
{
	size_t n = 3000;
	char *text = malloc(n);
	sn_text_options o = { 64, 16, 32, 5 };
	(void)state;
	assert_non_null(text);
	/* only 3- and 4-byte characters: most byte positions are not boundaries */
	size_t len = 0;
	while (len + 4 <= n) {
		const char *p = (len / 4) % 3 ? "\xe2\x82\xac" : "\xf0\x9f\x98\x80";
		memcpy(text + len, p, strlen(p));
		len += strlen(p);
	}
	for (int mode = 0; mode < RM_COUNT; mode++) {
		coll k = { 0 };
		k.expect = text;
		k.expect_len = len;
		assert_int_equal(run(&o, (const uint8_t *)text, len, (enum read_mode)mode, &k,
				     SIZE_MAX, NULL, NULL, NULL), 0);
		assert_int_equal(k.out_len, len);
		assert_true(k.nchunks > 30);
		free(k.out);
	}
	free(text);
}

/* A read error ends the stream with SN_EIO; what was delivered stays valid. */
static void test_read_error(void **state)
{
	char *text = malloc(4000);
	sn_text_options o = { 64, 16, 32, 7 };
	(void)state;
	assert_non_null(text);
	size_t n = gen_text(text, 4000, 5, 1, 1);
	static const size_t fail_at[] = { 0, 1, 100, 1000, 2500 };
	for (size_t i = 0; i < NELEM(fail_at); i++) {
		for (int mode = RM_ONE; mode < RM_COUNT; mode++) {
			coll k = { 0 };
			uint64_t bytes_in = 0;
			int rerr = 0;
			k.expect = text;
			k.expect_len = n;
			int rc = run(&o, (const uint8_t *)text, n, (enum read_mode)mode, &k,
				     fail_at[i] + (mode == RM_PREFIX ? n / 3 : 0), &bytes_in,
				     NULL, &rerr);
			assert_int_equal(rc, SN_EIO);
			assert_int_equal(rerr, EIO);
			assert_int_equal(bytes_in, fail_at[i] + (mode == RM_PREFIX ? n / 3 : 0));
			assert_false(k.seen_last);
			assert_true(k.out_len <= n);
			if (k.out_len)
				assert_memory_equal(k.out, text, k.out_len);
			free(k.out);
		}
	}
	free(text);
}

/* A nonzero callback return stops the stream and is passed through. */
static void test_callback_stop(void **state)
{
	char *text = malloc(2000);
	sn_text_options o = { 64, 16, 32, 7 };
	(void)state;
	assert_non_null(text);
	size_t n = gen_text(text, 2000, 9, 1, 0);
	coll k = { 0 };
	k.expect = text;
	k.expect_len = n;
	k.stop_at = 3;
	k.stop_rc = SN_ECALLBACK;
	assert_int_equal(run(&o, (const uint8_t *)text, n, RM_RANDOM, &k, SIZE_MAX, NULL, NULL,
			     NULL), SN_ECALLBACK);
	assert_int_equal(k.nchunks, 3);
	free(k.out);
	free(text);
}

static void test_options(void **state)
{
	static const sn_text_options bad[] = {
		{ 0, 16, 32, 7 },
		{ 15, 16, 32, 7 },
		{ 64, 16, 32, 0 },
		{ (size_t)1 << 40, 16, 32, 7 },
		{ 64, SIZE_MAX, 32, 7 },
		{ 64, 16, SIZE_MAX, 7 },
	};
	sn_text *t = (sn_text *)&t;
	(void)state;
	for (size_t i = 0; i < NELEM(bad); i++) {
		assert_int_equal(sn_text_new(&t, &bad[i]), SN_EINVAL);
		assert_null(t);
	}
	assert_int_equal(sn_text_new(&t, NULL), 0);
	assert_non_null(t);
	sn_text_free(t);
	sn_text_free(NULL);
}

/* One stream object serves many units: no state leaks from one to the next. */
static void test_reuse(void **state)
{
	sn_text_options o = { 64, 16, 32, 7 };
	sn_text *t = NULL;
	static const char a[] = "\xff\xfe" "a\0\n\0b\0";
	static const char b[] = "line one\nline two caf\xe9\n";
	(void)state;
	assert_int_equal(sn_text_new(&t, &o), 0);
	for (int i = 0; i < 3; i++) {
		coll k = { 0 };
		k.o = &o;
		k.expect = "a\nb";
		k.expect_len = 3;
		assert_int_equal(sn_text_stream_buffer(t, (const uint8_t *)a, sizeof a - 1,
						       check_chunk, &k), 0);
		assert_int_equal(k.out_len, 3);
		free(k.out);
		coll k2 = { 0 };
		k2.o = &o;
		k2.expect = "line one\nline two caf\xc3\xa9\n";
		k2.expect_len = strlen(k2.expect);
		assert_int_equal(sn_text_stream_buffer(t, (const uint8_t *)b, sizeof b - 1,
						       check_chunk, &k2), 0);
		assert_int_equal(k2.out_len, k2.expect_len);
		free(k2.out);
	}
	sn_text_free(t);
}

/* The word-at-a-time counters against a byte at a time, at every length
 * and alignment, on bytes drawn from ASCII, lead and continuation bytes. */
static void test_utf8_counters(void **state)
{
	(void)state;
	static const uint8_t pool[] = { 'a',  ' ',	'\n', 0x00, 0x1F, 0x0B, 0x7F,
					0x80, 0xA9, 0xBF, 0xC3, 0xE2, 0xF0, 0xFF };
	uint8_t buf[80];
	uint64_t x = 0x2545F4914F6CDD1Dull;
	for (int round = 0; round < 2000; round++) {
		for (size_t i = 0; i < sizeof buf; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* runs of ASCII as well as mixed words */
			buf[i] = round % 3 == 0 ? (uint8_t)('a' + x % 26) : pool[x % sizeof pool];
		}
		if (round % 3 == 0)
			buf[x % sizeof buf] = pool[(x >> 8) % sizeof pool];
		for (size_t off = 0; off < 9; off++) {
			for (size_t n = 0; off + n <= sizeof buf; n++) {
				size_t chars = 0, run = 0;
				for (size_t i = 0; i < n; i++)
					chars += (buf[off + i] & 0xC0) != 0x80;
				while (run < n && buf[off + run] < 0x80)
					run++;
				assert_int_equal(sn_utf8_chars((const char *)buf + off, n), chars);
				assert_int_equal(sn_ascii_run(buf + off, n), run);
			}
		}
		/* the byte masks of every word, for the bounds the scanner uses */
		for (size_t off = 0; off + 8 <= sizeof buf; off++) {
			uint64_t w, below, nl;
			uint8_t eb[8], en[8];
			memcpy(&w, buf + off, 8);
			for (size_t i = 0; i < 8; i++) {
				eb[i] = buf[off + i] < 0x20 ? 0x80 : 0;
				en[i] = buf[off + i] == '\n' ? 0x80 : 0;
			}
			memcpy(&below, eb, 8);
			memcpy(&nl, en, 8);
			assert_true(sn_word_below(w, 0x20) == below);
			assert_true(sn_word_equal(w, '\n') == nl);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sniff),
		cmocka_unit_test(test_utf8_counters),
		cmocka_unit_test(test_same_text_every_encoding),
		cmocka_unit_test(test_utf8_fallback),
		cmocka_unit_test(test_utf16_cases),
		cmocka_unit_test(test_chunk_invariants),
		cmocka_unit_test(test_empty_unit),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_read_error),
		cmocka_unit_test(test_callback_stop),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
