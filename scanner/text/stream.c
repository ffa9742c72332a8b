/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Chunked streaming of one unit's text (see text.h for the chunk contract).
 *
 * Raw bytes go through a small raw buffer into one text buffer of
 * before + chunk + after (plus a few bytes of slack).  When the text buffer
 * holds `chunk` new bytes plus the `after` tail, a cut is chosen, the chunk is
 * handed over, and everything before cut - before is dropped.  The dropped
 * bytes are the only ones counted for line/column bookkeeping, so every byte
 * is counted once and memory stays fixed whatever the unit's size.
 *
 * Choices worth knowing:
 *  - An empty unit yields exactly one chunk (len 0, is_first = is_last = 1),
 *    so the matcher sees every unit begin and end the same way.
 *  - The context kept for the next chunk starts at cut - before, moved
 *    backwards (not forwards) to a character boundary, so a chunk always has
 *    at least `before` bytes of context when the unit has them.
 *  - On a read error the text decoded but not yet handed over is dropped:
 *    the caller records the unit as incomplete either way, and a partial
 *    chunk would have to claim an end of unit that was never seen.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "speurneus/error.h"
#include "text/decode.h"
#include "text/text.h"

/* Bytes looked at to pick the encoding (the BOM-less UTF-16 guess). */
#define SN_TEXT_SNIFF_BYTES 4096
/* Ceiling on each size option, so their sum cannot overflow and a typo in a
 * configuration cannot ask for gigabytes per worker. */
#define SN_TEXT_MAX_OPTION (256u * 1024 * 1024)
/* Smallest useful chunk: a cut must always leave room to move back to a
 * character boundary (UTF-8 characters are at most 4 bytes). */
#define SN_TEXT_MIN_CHUNK 16
/* Room past the fill target: overshoot of one decoding step and the backward
 * move of the context start to a character boundary. */
#define SN_TEXT_SLACK 16

struct sn_text {
	sn_text_options o;
	char *tb;     /* decoded text */
	size_t tcap;
	uint8_t *rb;  /* raw bytes waiting to be decoded */
	size_t rcap;
};

typedef struct stream {
	sn_text *t;
	const uint8_t *prefix;
	size_t plen, ppos;
	sn_read_fn read;
	void *read_ctx;
	size_t rpos, rlen;
	int raw_eof;   /* no raw bytes beyond rlen */
	int text_eof;  /* everything decoded */
	uint64_t bytes_in;
	int read_errno;
	sn_encoding enc;
	size_t tlen, emit_from;
	uint64_t base_offset, base_line, base_col;
	int first;
} stream;

static inline int is_cont(char c)
{
	return ((unsigned char)c & 0xC0) == 0x80;
}

int sn_text_new(sn_text **out, const sn_text_options *o)
{
	sn_text_options def = SN_TEXT_OPTIONS_INIT;
	sn_text *t = NULL;
	int rc = 0;

	*out = NULL;
	if (!o)
		o = &def;
	if (o->chunk < SN_TEXT_MIN_CHUNK || o->read_size == 0 ||
	    o->chunk > SN_TEXT_MAX_OPTION || o->before > SN_TEXT_MAX_OPTION ||
	    o->after > SN_TEXT_MAX_OPTION || o->read_size > SN_TEXT_MAX_OPTION) {
		rc = sn_error_set(SN_EINVAL, "text options: chunk must be %u..%u bytes, "
				  "before/after/read size at most %u", SN_TEXT_MIN_CHUNK,
				  SN_TEXT_MAX_OPTION, SN_TEXT_MAX_OPTION);
		goto done;
	}
	t = calloc(1, sizeof *t);
	if (!t) {
		rc = sn_error_set(SN_ENOMEM, "text stream: out of memory");
		goto done;
	}
	t->o = *o;
	t->tcap = o->before + o->chunk + o->after + SN_TEXT_SLACK;
	/* An incomplete character (at most 3 bytes) stays in front of the next
	 * read, and the first fill must hold the whole sniffing window. */
	t->rcap = (o->read_size > SN_TEXT_SNIFF_BYTES ? o->read_size : SN_TEXT_SNIFF_BYTES) + 8;
	t->tb = malloc(t->tcap);
	t->rb = malloc(t->rcap);
	if (!t->tb || !t->rb) {
		rc = sn_error_set(SN_ENOMEM, "text stream: cannot allocate %zu bytes",
				  t->tcap + t->rcap);
		goto done;
	}
	*out = t;
	t = NULL;
done:
	sn_text_free(t);
	return rc;
}

void sn_text_free(sn_text *t)
{
	if (!t)
		return;
	free(t->tb);
	free(t->rb);
	free(t);
}

/* Append raw bytes after the unconsumed rest (prefix first, then read). */
static int refill(stream *s)
{
	sn_text *t = s->t;
	size_t want;

	if (s->rpos > 0) {
		memmove(t->rb, t->rb + s->rpos, s->rlen - s->rpos);
		s->rlen -= s->rpos;
		s->rpos = 0;
	}
	want = t->rcap - s->rlen;
	if (want > t->o.read_size)
		want = t->o.read_size;
	if (s->ppos < s->plen) {
		size_t k = s->plen - s->ppos < want ? s->plen - s->ppos : want;
		memcpy(t->rb + s->rlen, s->prefix + s->ppos, k);
		s->ppos += k;
		s->rlen += k;
		s->bytes_in += k;
		return 0;
	}
	if (!s->read) {
		s->raw_eof = 1;
		return 0;
	}
	for (;;) {
		ssize_t r = s->read(s->read_ctx, t->rb + s->rlen, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (size_t)r > want) {
			s->read_errno = (r < 0 && errno) ? errno : EIO;
			return sn_error_set(SN_EIO, "read failed: %s", strerror(s->read_errno));
		}
		if (r == 0)
			s->raw_eof = 1;
		s->rlen += (size_t)r;
		s->bytes_in += (uint64_t)r;
		return 0;
	}
}

/* Decode until the text buffer holds `target` bytes or the unit ends. */
static int fill(stream *s, size_t target)
{
	sn_text *t = s->t;

	while (s->tlen < target) {
		size_t used = 0, made = 0;
		int rc;

		if (s->rpos < s->rlen || s->raw_eof) {
			/* cap so the last step may end at most 3 bytes past target */
			size_t cap = target - s->tlen + SN_DECODE_MAX_OUT - 1;
			used = sn_text_decode(s->enc, t->rb + s->rpos, s->rlen - s->rpos,
					      s->raw_eof, t->tb + s->tlen, cap, &made);
			s->rpos += used;
			s->tlen += made;
			if (used || made)
				continue;
			if (s->raw_eof) {
				s->text_eof = 1;
				return 0;
			}
		}
		rc = refill(s);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int deliver(stream *s, size_t emit_to, int last, sn_chunk_fn on_chunk, void *payload)
{
	sn_chunk c = {
		.data = s->t->tb,
		.len = s->tlen,
		.emit_from = s->emit_from,
		.emit_to = emit_to,
		.base_offset = s->base_offset,
		.base_line = s->base_line,
		.base_col = s->base_col,
		.is_first = s->first,
		.is_last = last,
	};
	s->first = 0;
	return on_chunk(&c, payload);
}

/* Prefer the byte after a newline in the second half of the new text, so a
 * line (and its keywords) is rarely split; otherwise a character boundary. */
static size_t choose_cut(const stream *s)
{
	const char *tb = s->t->tb;
	size_t chunk = s->t->o.chunk;
	size_t lim = s->emit_from + chunk;
	size_t lo = s->emit_from + chunk / 2;
	const char *nl = memrchr(tb + lo, '\n', lim - lo);
	size_t cut;

	if (nl)
		return (size_t)(nl - tb) + 1;
	cut = lim;
	while (cut < s->tlen && cut > s->emit_from + 1 && is_cont(tb[cut]))
		cut--;
	return cut;
}

/* Newlines in p[0..n): eight bytes per step (a zero-byte test on the word
 * xor'ed with newlines, exact: no carries between bytes).  Text has a
 * newline every few dozen bytes, so one memchr call per line cost more than
 * the bytes themselves. */
static uint64_t count_newlines(const char *p, size_t n)
{
	uint64_t count = 0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		/* the sum of the newline bytes' marks: one multiply, no
		 * popcount instruction needed */
		uint64_t t = sn_word_equal(w, '\n') >> 7;
		count += (t * SN_UTF8_ONES) >> 56;
	}
	for (; i < n; i++)
		count += p[i] == '\n';
	return count;
}

/* Drop the text before the next chunk's context, counting its lines and
 * columns on the way out. */
static void shift(stream *s, size_t cut)
{
	char *tb = s->t->tb;
	size_t before = s->t->o.before;
	size_t ns = cut > before ? cut - before : 0;
	const char *p = tb, *end, *last_nl;

	while (ns > 0 && is_cont(tb[ns]))
		ns--;
	end = tb + ns;
	s->base_line += count_newlines(tb, ns);
	last_nl = ns ? memrchr(tb, '\n', ns) : NULL;
	if (last_nl) {
		s->base_col = 0;
		p = last_nl + 1;
	} else {
		p = tb;
	}
	s->base_col += sn_utf8_chars(p, (size_t)(end - p));
	s->base_offset += ns;
	memmove(tb, tb + ns, s->tlen - ns);
	s->tlen -= ns;
	s->emit_from = cut - ns;
}

int sn_text_stream(sn_text *t, const uint8_t *prefix, size_t prefix_len, sn_read_fn read,
		   void *read_ctx, sn_chunk_fn on_chunk, void *payload, uint64_t *bytes_in,
		   sn_encoding *enc, int *read_errno)
{
	stream s = { 0 };
	size_t bom = 0;
	int rc = 0;

	if (!t || !on_chunk || (!prefix && prefix_len)) {
		rc = sn_error_set(SN_EINVAL, "text stream: missing argument");
		goto done;
	}
	s.t = t;
	s.prefix = prefix;
	s.plen = prefix_len;
	s.read = read;
	s.read_ctx = read_ctx;
	s.base_line = 1;
	s.first = 1;

	while (s.rlen < SN_TEXT_SNIFF_BYTES && !s.raw_eof) {
		rc = refill(&s);
		if (rc < 0)
			goto done;
	}
	s.enc = sn_encoding_sniff(t->rb, s.rlen, &bom);
	s.rpos = bom;

	for (;;) {
		size_t cut;

		rc = fill(&s, s.emit_from + t->o.chunk + t->o.after);
		if (rc < 0)
			goto done;
		if (s.text_eof) {
			rc = deliver(&s, s.tlen, 1, on_chunk, payload);
			goto done;
		}
		cut = choose_cut(&s);
		rc = deliver(&s, cut, 0, on_chunk, payload);
		if (rc)
			goto done;
		shift(&s, cut);
	}
done:
	if (bytes_in)
		*bytes_in = s.bytes_in;
	if (enc)
		*enc = s.enc;
	if (read_errno)
		*read_errno = s.read_errno;
	return rc;
}

int sn_text_stream_buffer(sn_text *t, const uint8_t *buf, size_t n, sn_chunk_fn on_chunk,
			  void *payload)
{
	return sn_text_stream(t, buf, n, NULL, NULL, on_chunk, payload, NULL, NULL, NULL);
}
