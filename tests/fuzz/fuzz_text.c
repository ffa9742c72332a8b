/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target: the text stage alone (encoding sniffing, decoding to UTF-8,
 * chunking) feeding the matcher with the shipped rules, on arbitrary bytes.
 *
 * Chunks are deliberately tiny (256 new bytes, 64 before, 128 after) so that
 * even short inputs cross many chunk borders.  Besides "no crash", each input
 * is checked against the chunk contract in text/text.h and the matcher
 * contract in match/engine.h, aborting on the first violation so libFuzzer
 * keeps the input:
 *  - every chunk is valid UTF-8 (checked by PCRE2's own UTF validation);
 *  - emitted ranges are in bounds, make progress and tile the text exactly
 *    once, the first chunk starts the unit at line 1 column 0 and exactly the
 *    final chunk is marked last;
 *  - context bytes carried into the next chunk are identical to the bytes
 *    the previous chunk held at those offsets, and the next chunk's line and
 *    column agree with a recount over the previous chunk;
 *  - text that is plain printable ASCII decodes to itself;
 *  - every finding starts in its chunk's emit range, its raw bytes are the
 *    chunk's bytes at its offset, its line/column agree with a recount, and
 *    the fast path reports exactly what the slow path reports.
 * Messages never print scanned bytes, only offsets and rule ids.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "match/engine.h"
#include "speurneus/error.h"
#include "speurneus/key.h"
#include "speurneus/rules.h"
#include "text/text.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Larger inputs add nothing a smaller one cannot reach with 256-byte chunks,
 * and would only slow the run down. */
#define FUZZ_MAX_INPUT (1024 * 1024)
/* Findings compared per chunk; a 450-byte chunk cannot hold more than a
 * few dozen, so hitting this means the matcher reports nonsense. */
#define FUZZ_MAX_HITS 1024
/* Chunk options, and the most a chunk may hold with them: the text stage
 * promises fixed memory, so a chunk far past chunk + before + after (a few
 * bytes of character-boundary slack aside) is a bug, and it also bounds the
 * copy kept here. */
#define FUZZ_CHUNK 256
#define FUZZ_BEFORE 64
#define FUZZ_AFTER 128
#define FUZZ_MAX_CHUNK (2 * (FUZZ_CHUNK + FUZZ_BEFORE + FUZZ_AFTER))

typedef struct hit {
	const char *rule_id; /* borrowed from the rule set: compared by pointer */
	uint64_t offset, line, column;
	size_t raw_len;
	sn_confidence conf;
	char masked[64];
} hit;

typedef struct hits {
	hit v[FUZZ_MAX_HITS];
	size_t n;
	const sn_chunk *c; /* the chunk being matched */
} hits;

typedef struct state {
	const uint8_t *input;
	size_t input_len;
	int ascii;            /* input is printable ASCII: decoded text == input */
	uint64_t emitted;     /* absolute offset up to which text was emitted */
	size_t nchunks;
	int seen_last;
	/* the previous chunk, for the overlap and line/column checks */
	char prev[FUZZ_MAX_CHUNK];
	size_t prev_len;
	uint64_t prev_base, prev_line, prev_col;
} state;

static sn_key key;
static sn_ruleset *rules;
static sn_matcher *fast, *slow;
static sn_text *text;
static pcre2_code *utf_check;
static pcre2_match_data *utf_md;
static hits fast_hits, slow_hits;

static void fail(const char *what, unsigned long long a, unsigned long long b)
{
	fprintf(stderr, "fuzz_text: contract violated: %s (%llu, %llu)\n", what, a, b);
	abort();
}

static void diag(const char *file, unsigned line, unsigned col, const char *msg, void *p)
{
	(void)p;
	fprintf(stderr, "%s:%u:%u: %s\n", file, line, col, msg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dirs[] = { SN_SOURCE_DIR "/rules" };
	sn_match_options mo = SN_MATCH_OPTIONS_INIT;
	sn_text_options to = SN_TEXT_OPTIONS_INIT;
	int err;
	PCRE2_SIZE eoff;

	(void)argc;
	(void)argv;
	if (sn_crypto_init() < 0)
		fail("sn_crypto_init", 0, 0);
	memset(key.k, 0x5a, sizeof key.k);
	sn_key_compute_id(&key);
	if (sn_ruleset_load(&rules, dirs, 1, SN_SOURCE_DIR "/rules/data", diag, NULL) < 0) {
		fprintf(stderr, "fuzz_text: shipped rules: %s\n", sn_error_last());
		abort();
	}
	mo.key = &key;
	mo.reveal = 1; /* raw values are compared with the chunk, never printed */
	if (sn_matcher_new(&fast, rules, &mo) < 0)
		fail("sn_matcher_new fast", 0, 0);
	mo.slow_path = 1;
	if (sn_matcher_new(&slow, rules, &mo) < 0)
		fail("sn_matcher_new slow", 0, 0);
	to.chunk = FUZZ_CHUNK;
	to.before = FUZZ_BEFORE;
	to.after = FUZZ_AFTER;
	to.read_size = 512;
	if (sn_text_new(&text, &to) < 0)
		fail("sn_text_new", 0, 0);
	/* An empty UTF pattern: pcre2_match validates the whole subject as
	 * UTF-8 before matching, which is exactly the check wanted. */
	utf_check = pcre2_compile((PCRE2_SPTR) "", 0, PCRE2_UTF, &err, &eoff, NULL);
	utf_md = utf_check ? pcre2_match_data_create_from_pattern(utf_check, NULL) : NULL;
	if (!utf_md)
		fail("pcre2 setup", (unsigned long long)err, 0);
	return 0;
}

/* Line and 0-based character column after s[0..n), starting from line/col. */
static void advance(const char *s, size_t n, uint64_t *line, uint64_t *col)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 0;
		} else if (((unsigned char)s[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static int collect(const sn_finding *f, void *payload)
{
	hits *h = payload;
	if (h->n >= FUZZ_MAX_HITS)
		fail("too many findings in one chunk", h->n, 0);
	hit *x = &h->v[h->n++];
	memset(x, 0, sizeof *x);
	if (!f->rule_id || !f->category || !f->masked || !f->loc)
		fail("finding with a NULL member", h->n, 0);
	if (f->confidence < SN_CONF_LOW || f->confidence > SN_CONF_HIGH)
		fail("finding confidence out of range", (unsigned)f->confidence, 0);
	if (!f->raw || !f->normalized || f->raw_len == 0)
		fail("reveal finding without raw/normalized value", f->offset, f->raw_len);
	if (f->offset < h->c->base_offset || f->offset - h->c->base_offset > h->c->len ||
	    f->raw_len > h->c->len - (size_t)(f->offset - h->c->base_offset))
		fail("finding runs outside its chunk", f->offset, f->raw_len);
	if (memcmp(f->raw, h->c->data + (f->offset - h->c->base_offset), f->raw_len) != 0)
		fail("raw value differs from the chunk's bytes at its offset", f->offset,
		     f->raw_len);
	x->rule_id = f->rule_id;
	x->offset = f->offset;
	x->line = f->line;
	x->column = f->column;
	x->raw_len = f->raw_len;
	x->conf = f->confidence;
	snprintf(x->masked, sizeof x->masked, "%s", f->masked);
	return 0;
}

static void check_hits(const sn_chunk *c)
{
	uint64_t lo = c->base_offset + c->emit_from, hi = c->base_offset + c->emit_to;

	if (fast_hits.n != slow_hits.n)
		fail("fast path and slow path disagree on the number of findings", fast_hits.n,
		     slow_hits.n);
	for (size_t i = 0; i < fast_hits.n; i++) {
		const hit *a = &fast_hits.v[i], *b = &slow_hits.v[i];
		uint64_t line = c->base_line, col = c->base_col;
		size_t rel;

		if (a->rule_id != b->rule_id || a->offset != b->offset ||
		    a->raw_len != b->raw_len || a->conf != b->conf || a->line != b->line ||
		    a->column != b->column || strcmp(a->masked, b->masked) != 0)
			fail("fast path and slow path disagree at offset", a->offset, b->offset);
		if (a->offset < lo || a->offset >= hi)
			fail("finding outside its chunk's emit range", a->offset, lo);
		rel = (size_t)(a->offset - c->base_offset);
		if (a->raw_len > c->len - rel)
			fail("finding runs past the chunk", a->offset, a->raw_len);
		advance(c->data, rel, &line, &col);
		if (a->line != line || a->column != col + 1)
			fail("finding line/column differ from a recount", a->line, line);
	}
}

static int on_chunk(const sn_chunk *c, void *payload)
{
	state *s = payload;
	int rc;

	if (s->seen_last)
		fail("chunk after the last chunk", s->nchunks, 0);
	s->nchunks++;
	if ((!c->data && c->len) || c->emit_from > c->emit_to || c->emit_to > c->len)
		fail("emit range out of bounds", c->emit_from, c->emit_to);
	if (c->len > FUZZ_MAX_CHUNK)
		fail("chunk larger than its options allow", c->len, FUZZ_MAX_CHUNK);
	if (c->is_first != (s->nchunks == 1))
		fail("is_first on the wrong chunk", s->nchunks, (unsigned)c->is_first);
	if (c->base_offset + c->emit_from != s->emitted)
		fail("emitted ranges do not tile the text", c->base_offset + c->emit_from,
		     s->emitted);
	if (!c->is_last && c->emit_to == c->emit_from)
		fail("a non-final chunk emits nothing", s->nchunks, 0);
	if (c->is_last && c->emit_to != c->len)
		fail("the last chunk does not emit to its end", c->emit_to, c->len);
	if (c->len) {
		rc = pcre2_match(utf_check, (PCRE2_SPTR)c->data, c->len, 0, 0, utf_md, NULL);
		if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
			fail("chunk is not valid UTF-8", s->nchunks, (unsigned long long)-rc);
	}
	if (s->nchunks == 1) {
		if (c->base_offset != 0 || c->base_line != 1 || c->base_col != 0)
			fail("first chunk does not start at line 1, column 0", c->base_line,
			     c->base_col);
	} else {
		uint64_t line = s->prev_line, col = s->prev_col;
		size_t skip, overlap;

		if (c->base_offset < s->prev_base || c->base_offset - s->prev_base > s->prev_len)
			fail("chunk base moved outside the previous chunk", c->base_offset,
			     s->prev_base);
		skip = (size_t)(c->base_offset - s->prev_base);
		overlap = s->prev_len - skip;
		if (overlap > c->len)
			overlap = c->len;
		if (memcmp(s->prev + skip, c->data, overlap) != 0)
			fail("context bytes differ from the previous chunk", c->base_offset,
			     overlap);
		advance(s->prev, skip, &line, &col);
		if (line != c->base_line || col != c->base_col)
			fail("chunk line/column differ from a recount", c->base_line, line);
	}
	if (s->ascii) {
		uint64_t end = c->base_offset + c->len;
		if (end > s->input_len ||
		    memcmp(s->input + c->base_offset, c->data, c->len) != 0)
			fail("printable ASCII did not decode to itself", c->base_offset, c->len);
	}
	s->emitted = c->base_offset + c->emit_to;
	s->seen_last = c->is_last;

	fast_hits.n = 0;
	slow_hits.n = 0;
	fast_hits.c = c;
	slow_hits.c = c;
	rc = sn_matcher_scan(fast, c, collect, &fast_hits);
	if (rc != 0)
		fail("sn_matcher_scan (fast) failed", (unsigned long long)-rc, 0);
	rc = sn_matcher_scan(slow, c, collect, &slow_hits);
	if (rc != 0)
		fail("sn_matcher_scan (slow) failed", (unsigned long long)-rc, 0);
	check_hits(c);

	if (c->len)
		memcpy(s->prev, c->data, c->len);
	s->prev_len = c->len;
	s->prev_base = c->base_offset;
	s->prev_line = c->base_line;
	s->prev_col = c->base_col;
	return 0;
}

static int printable_ascii(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(d[i] == '\t' || d[i] == '\n' || (d[i] >= 0x20 && d[i] < 0x7f)))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const member[] = { "fuzz.txt" };
	sn_location loc = { "fuzz", member, 1 };
	state s;
	int rc;

	if (size > FUZZ_MAX_INPUT)
		return -1;
	memset(&s, 0, sizeof s);
	s.input = data;
	s.input_len = size;
	s.ascii = printable_ascii(data, size);
	sn_matcher_begin_unit(fast, &loc);
	sn_matcher_begin_unit(slow, &loc);
	rc = sn_text_stream_buffer(text, data, size, on_chunk, &s);
	if (rc != 0)
		fail("sn_text_stream_buffer failed", (unsigned long long)-rc, 0);
	if (!s.seen_last)
		fail("the stream ended without a last chunk", s.nchunks, 0);
	if (s.ascii && s.emitted != size)
		fail("printable ASCII changed length", s.emitted, size);
	return 0;
}
