/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The matcher (see engine.h).
 *
 * Per chunk, for every rule, candidate matches are gathered with the same
 * semantics on both paths: starting at the rule's frontier, take the leftmost
 * position where the pattern matches; a match the validator accepts moves the
 * frontier to its end, a rejected one moves it one character on.  The slow
 * path asks PCRE2 for the leftmost match from the frontier; the fast path
 * walks the candidate positions the rule's anchor allows, in increasing
 * order, and tries the PCRE2_ANCHORED variant at each.  Because an anchor is
 * only ever a necessary condition for a match start, both produce the same
 * list, which tests check on random and adversarial text.
 *
 * The validated candidates of all rules are then resolved so that one span of
 * text yields one finding (higher priority, then longer span, then earlier
 * rule), scored for confidence, masked and fingerprinted.
 */
#include "match/engine.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/utf8.h"
#include "match/context.h"
#include "match/rule.h"
#include "speurneus/error.h"
#include "text/decode.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SN_SHUFTI 1
#endif

#define SN_MAX_CANDIDATES (1u << 20) /* per chunk; past it the chunk is split by the caller's limit */
#define SN_MATCH_LIMIT 1000000u      /* PCRE2 backtracking budget per match call */
#define SN_HEAP_LIMIT_KIB 20480u     /* PCRE2 heap budget per match call */
#define SN_MAX_WINDOW_TOKENS 512
#define SN_TABLE_BATCH (256u * 1024) /* table text matched per batch */
#define SN_TABLE_ROWS 4096           /* rows per batch */
#define SN_TABLE_ROW_MAX (4u << 20)  /* longest row rendered; the rest is cut and counted */
#define SN_LEAD 4                    /* leading bytes checked by table before PCRE2 */
#ifndef SN_FP_MEMO
#define SN_FP_MEMO 65536             /* fingerprint memo slots per thread (80 bytes each) */
#endif
#define SN_FP_MEMO_FIRST 512         /* its slots until it has stored 8 values a slot */
_Static_assert(SN_LEAD == 4, "first_rules_at ANDs lead[1..3]");
#define COL_NAMED 1    /* col_hit: the header names the column */
#define COL_INFERRED 2 /* col_hit: most values in the column pass the validator */

typedef struct cand {
	size_t start, end;
	unsigned rule;
	unsigned flags;
	size_t norm_off; /* into m->norms */
	size_t norm_len;
} cand;

struct sn_matcher {
	const sn_ruleset *rs;
	sn_match_options o;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit;
	uint8_t *use_jit;        /* per rule: JIT code present */
	sn_fp_base *fp;          /* per rule: fingerprint state after key and category */
	sn_fp_memo *memo;        /* recent fingerprints, by rule and value */
	int own_memo;            /* memo was made for this matcher */
	/* fast-path tables over "first"-anchored rules (at most 64 at a time) */
	uint64_t first_mask[256];
	uint64_t boundary_mask[256];
	unsigned first_rules[64];
	unsigned nfirst;
	/* lead[i][b]: the rules (bits as in first_mask) whose i-th byte may be
	 * b -- the first byte table and the declared prefix classes; a rule
	 * without a class at i accepts any byte there */
	uint64_t lead[SN_LEAD][256];
	/* The first rules' declared prefixes, followed together: palts[i][b]
	 * has the bits of the alternatives (of any rule) that allow byte b at
	 * i (or are shorter than i + 1); rule bit b's alternatives are the bits
	 * altmask[b].  A rule without a prefix has one bit that allows every
	 * byte, and so does a rule whose alternatives no longer fit in the 64
	 * bits: those rules, in prefix_more, are checked by prefix_ok.  NULL
	 * when no rule declares a prefix. */
	uint64_t (*palts)[256];
	size_t pspan;
	uint64_t altmask[64];
	uint64_t prefix_more;
	/* Every rule's match has, at some offset i <= trigger_reach from its
	 * start, a byte of a narrow class (a digit for every shipped rule):
	 * trigger[] is the union of those classes, so the pass visits only the
	 * few positions just before a trigger byte and skips the rest of the
	 * text with one table look-up per byte (the portable pass). */
	uint8_t trigger[256];
	unsigned trigger_reach;
	/* The vector filter (x86-64 with SSSE3): the candidate starts of 16
	 * positions at a time.  The first rules form up to 8 groups (bit b & 7
	 * for rule bit b); for each group and i < SN_LEAD, vlead_lo/hi[i] hold
	 * the nibbles of the bytes lead[i] allows, so that
	 * vlead_lo[i][x & 15] & vlead_hi[i][x >> 4] is a superset of them, and
	 * vblock_lo/hi describe one nibble rectangle of bytes after which no
	 * rule of the group may start (a subset of boundary_mask).  A position
	 * whose four bytes and preceding byte pass for some group is checked
	 * with the exact tables. */
	int use_vector;
	uint8_t vlead_lo[SN_LEAD][16], vlead_hi[SN_LEAD][16];
	uint8_t vblock_lo[16], vblock_hi[16];
	/* per unit */
	const sn_location *loc;
	uint64_t *frontier;      /* per rule, absolute decoded offset */
	uint64_t last_end;       /* end of the last emitted finding, absolute */
	sn_table table;
	uint8_t **col_hit;       /* [col][rule]: header matches the rule's columns */
	/* SQL dumps: COPY ... FROM stdin blocks and INSERT statements */
	int sql;                 /* the unit looks like an SQL dump */
	int copy_active;
	uint64_t copy_line;      /* line number of the COPY statement */
	uint64_t sql_seen_to;    /* absolute offset: line starts before it were examined */
	sn_table copy;           /* the COPY column list, as a tab-separated header */
	sn_table ins;            /* the column list of the INSERT being looked at */
	struct {                 /* how far that INSERT's VALUES were scanned */
		uint64_t line_abs;   /* absolute offset of its line start, or UINT64_MAX */
		size_t pos;          /* scanned up to here, relative to the line start */
		int depth, quote;
		long col;
	} iscan;
	uint64_t limit_hits;
	/* a table handed row by row by a document decoder (a sheet, a database
	 * table): rows are rendered as tab-separated lines into a batch that is
	 * matched like a chunk of tabular text with a known layout */
	struct {
		int active, first;
		sn_buf text;
		int64_t *rows;       /* the decoder's row number of each line */
		size_t nrows;
		uint64_t offset;     /* decoded offset of the batch's first byte */
		uint64_t line;       /* line number of the batch's first row */
		uint64_t bytes;      /* table text matched so far */
		uint64_t too_long;   /* rows cut at SN_TABLE_ROW_MAX */
	} tb;
	/* per chunk scratch */
	sn_table_cursor tcur;    /* the column count on the current line */
	cand *c;
	size_t nc, capc;
	cand *ct;                /* room for sorting c */
	size_t capt;
	sn_buf norms;
	char *tokscratch;
	sn_token *tokens;
};

static void free_col_hits(sn_matcher *m)
{
	if (m->col_hit) {
		for (size_t i = 0; i < m->table.ncols; i++)
			free(m->col_hit[i]);
		free(m->col_hit);
		m->col_hit = NULL;
	}
}

void sn_matcher_free(sn_matcher *m)
{
	if (!m)
		return;
	free_col_hits(m);
	sn_table_clear(&m->table);
	sn_table_clear(&m->copy);
	sn_table_clear(&m->ins);
	pcre2_match_data_free(m->md);
	pcre2_match_context_free(m->mctx);
	pcre2_jit_stack_free(m->jit);
	free(m->use_jit);
	if (m->fp)
		for (size_t i = 0; i < m->rs->n; i++)
			sn_fingerprint_end(&m->fp[i]);
	free(m->fp);
	if (m->own_memo)
		sn_fp_memo_free(m->memo);
	free(m->frontier);
	free(m->palts);
	free(m->c);
	free(m->ct);
	sn_buf_free(&m->norms);
	sn_buf_free(&m->tb.text);
	free(m->tb.rows);
	free(m->tokscratch);
	free(m->tokens);
	free(m);
}

static int rule_enabled(const sn_matcher *m, size_t i)
{
	return m->o.only_rule < 0 || (size_t)m->o.only_rule == i;
}

/* ASCII letters and spaces are the common bytes of text: a class with
 * fewer of them (then fewer bytes) makes a better trigger.  Prefix classes
 * hold every byte >= 0x80 (parts of characters), which are rare in most
 * text and count little. */
static unsigned class_cost(const uint8_t cls[256])
{
	unsigned common = 0, size = 0;
	for (int b = 0; b < 256; b++) {
		if (!cls[b])
			continue;
		size += b < 0x80;
		common += (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || b == ' ';
	}
	return common * 256 + size;
}

/*
 * The vector filter's tables (see struct sn_matcher).  Each group's lead
 * nibbles describe a superset of its rules' lead bytes.  Its blocking
 * rectangle is one row of 16 bytes (a high nibble), limited to the bytes
 * after which no rule of the group may start: the row holding most of the
 * group's first bytes (so that a digit right after a digit is ruled out for
 * rules that start with one), then the one with most such bytes.
 */
static void build_vector(sn_matcher *m)
{
	for (unsigned i = 0; i < SN_LEAD; i++) {
		for (int x = 0; x < 256; x++) {
			for (unsigned bit = 0; bit < m->nfirst; bit++) {
				if (!(m->lead[i][x] >> bit & 1))
					continue;
				m->vlead_lo[i][x & 15] |= (uint8_t)(1u << (bit & 7));
				m->vlead_hi[i][x >> 4] |= (uint8_t)(1u << (bit & 7));
			}
		}
	}
	for (unsigned g = 0; g < 8 && g < m->nfirst; g++) {
		uint64_t rules = 0;
		for (unsigned bit = g; bit < m->nfirst; bit += 8)
			rules |= 1ull << bit;
		unsigned best = 0, best_h = 0;
		for (unsigned h = 0; h < 8; h++) {
			unsigned size = 0, own = 0;
			for (unsigned l = 0; l < 16; l++) {
				unsigned x = h << 4 | l;
				if ((m->boundary_mask[x] & rules) != rules)
					continue;
				size++;
				own += (m->lead[0][x] & rules) != 0;
			}
			if (own * 32 + size > best) {
				best = own * 32 + size;
				best_h = h;
			}
		}
		if (!best)
			continue;
		m->vblock_hi[best_h] |= (uint8_t)(1u << g);
		for (unsigned l = 0; l < 16; l++) {
			if ((m->boundary_mask[best_h << 4 | l] & rules) == rules)
				m->vblock_lo[l] |= (uint8_t)(1u << g);
		}
	}
#ifdef SN_SHUFTI
	m->use_vector = !m->o.no_vector && __builtin_cpu_supports("ssse3");
#endif
}

static void build_lead(sn_matcher *m)
{
	for (unsigned i = 0; i < SN_LEAD; i++) {
		for (int b = 0; b < 256; b++)
			m->lead[i][b] = i == 0 ? m->first_mask[b] : ~0ull;
	}
	for (unsigned bit = 0; bit < m->nfirst; bit++) {
		const sn_rule *r = &m->rs->rules[m->first_rules[bit]];
		uint8_t first[256];
		for (int b = 0; b < 256; b++)
			first[b] = (uint8_t)((m->first_mask[b] >> bit) & 1);
		for (size_t i = 0; i < r->nprefix && i < SN_LEAD; i++) {
			for (int b = 0; b < 256; b++) {
				if (!r->prefix_alts[i][b])
					m->lead[i][b] &= ~(1ull << bit);
				if (i == 0 && !r->prefix_alts[0][b])
					first[b] = 0;
			}
		}
		/* the rule's trigger: its cheapest class among the first byte
		 * and the declared prefix */
		const uint8_t *best = first;
		unsigned at = 0, cost = class_cost(first);
		for (size_t i = 1; i < r->nprefix && i < SN_LEAD; i++) {
			unsigned k = class_cost(r->prefix_alts[i]);
			if (k < cost) {
				cost = k;
				best = r->prefix_alts[i]; /* nonzero: in the class */
				at = (unsigned)i;
			}
		}
		for (int b = 0; b < 256; b++)
			m->trigger[b] |= best[b];
		if (at > m->trigger_reach)
			m->trigger_reach = at;
	}
	build_vector(m);
}

/* palts, altmask and prefix_more (see struct sn_matcher).  Returns 0 or
 * SN_ENOMEM. */
static int build_palts(sn_matcher *m)
{
	unsigned nbits = 0;
	size_t span = 0;
	for (unsigned bit = 0; bit < m->nfirst; bit++) {
		const sn_rule *r = &m->rs->rules[m->first_rules[bit]];
		unsigned k = r->nprefix_alt ? (unsigned)r->nprefix_alt : 1;
		/* room for one bit for each rule after this one */
		if (nbits + k + (m->nfirst - bit - 1) > 64) {
			k = 1;
			m->prefix_more |= 1ull << bit;
		} else if (r->prefix_span > span) {
			span = r->prefix_span;
		}
		m->altmask[bit] = ((1ull << k) - 1) << nbits;
		nbits += k;
	}
	if (!span)
		return 0;
	m->palts = calloc(span, sizeof *m->palts);
	if (!m->palts)
		return SN_ENOMEM;
	m->pspan = span;
	for (unsigned bit = 0; bit < m->nfirst; bit++) {
		const sn_rule *r = &m->rs->rules[m->first_rules[bit]];
		unsigned base = (unsigned)__builtin_ctzll(m->altmask[bit]);
		int own = r->nprefix_alt && !(m->prefix_more >> bit & 1);
		for (size_t i = 0; i < span; i++) {
			for (int x = 0; x < 256; x++) {
				uint64_t a = own && i < r->prefix_span ? r->prefix_alts[i][x] : 0xFF;
				m->palts[i][x] |= (a << base) & m->altmask[bit];
			}
		}
	}
	return 0;
}

sn_fp_memo *sn_matcher_memo_new(void)
{
	return sn_fp_memo_new(SN_FP_MEMO_FIRST, SN_FP_MEMO);
}

int sn_matcher_new(sn_matcher **out, const sn_ruleset *rs, const sn_match_options *o)
{
	int rc = SN_ENOMEM;
	sn_matcher *m = calloc(1, sizeof *m);
	if (!m)
		return sn_error_set(SN_ENOMEM, "out of memory");
	m->rs = rs;
	m->o = *o;
	if (!o->key) {
		rc = sn_error_set(SN_EINVAL, "matcher needs a key");
		goto fail;
	}
	uint32_t maxcap = 0;
	m->use_jit = calloc(rs->n ? rs->n : 1, 1);
	m->fp = aligned_alloc(_Alignof(sn_fp_base), (rs->n ? rs->n : 1) * sizeof *m->fp);
	if (!m->fp)
		goto fail;
	for (size_t i = 0; i < rs->n; i++)
		sn_fingerprint_begin(&m->fp[i], o->key, rs->rules[i].category);
	m->memo = o->memo;
	if (!m->memo) {
		m->memo = sn_matcher_memo_new();
		m->own_memo = 1;
		if (!m->memo)
			goto fail;
	}
	m->frontier = calloc(rs->n ? rs->n : 1, sizeof *m->frontier);
	if (!m->use_jit || !m->frontier)
		goto fail;
	for (size_t i = 0; i < rs->n; i++) {
		const sn_rule *r = &rs->rules[i];
		uint32_t cc = 0;
		size_t jsz = 0;
		pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &cc);
		if (cc > maxcap)
			maxcap = cc;
		if (pcre2_pattern_info(r->re, PCRE2_INFO_JITSIZE, &jsz) == 0 && jsz > 0 &&
		    pcre2_pattern_info(r->re_anchored, PCRE2_INFO_JITSIZE, &jsz) == 0 && jsz > 0)
			m->use_jit[i] = 1;
		if (!o->slow_path && r->anchor == SN_ANCHOR_FIRST && rule_enabled(m, i) &&
		    m->nfirst < 64) {
			unsigned bit = m->nfirst++;
			m->first_rules[bit] = (unsigned)i;
			for (int b = 0; b < 256; b++) {
				/* never a UTF-8 continuation byte: not a character start */
				if (r->first[b] && (b & 0xC0) != 0x80)
					m->first_mask[b] |= 1ull << bit;
				if (r->has_boundary && r->boundary[b])
					m->boundary_mask[b] |= 1ull << bit;
			}
		}
	}
	build_lead(m);
	if (build_palts(m) < 0)
		goto fail;
	m->md = pcre2_match_data_create(maxcap + 1, NULL);
	m->mctx = pcre2_match_context_create(NULL);
	m->jit = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
	if (!m->md || !m->mctx || !m->jit)
		goto fail;
	pcre2_jit_stack_assign(m->mctx, NULL, m->jit);
	pcre2_set_match_limit(m->mctx, SN_MATCH_LIMIT);
	pcre2_set_heap_limit(m->mctx, SN_HEAP_LIMIT_KIB);
	sn_buf_init(&m->norms, 64u << 20);
	sn_buf_init(&m->tb.text, SN_TABLE_BATCH + SN_TABLE_ROW_MAX + 64);
	m->tokscratch = malloc(8 * 1024 + 16 * SN_NORM_MAX);
	m->tokens = malloc(SN_MAX_WINDOW_TOKENS * sizeof *m->tokens);
	if (!m->tokscratch || !m->tokens)
		goto fail;
	*out = m;
	return 0;
fail:
	sn_matcher_free(m);
	if (rc == SN_ENOMEM)
		sn_error_set(SN_ENOMEM, "out of memory creating a matcher");
	return rc;
}

void sn_matcher_begin_unit(sn_matcher *m, const sn_location *loc)
{
	m->loc = loc;
	memset(m->frontier, 0, m->rs->n * sizeof *m->frontier);
	m->last_end = 0;
	free_col_hits(m);
	sn_table_clear(&m->table);
	sn_table_clear(&m->copy);
	m->sql = m->copy_active = 0;
	m->copy_line = m->sql_seen_to = 0;
	m->iscan.line_abs = UINT64_MAX;
	m->limit_hits = 0;
	m->tb.active = 0;
}

uint64_t sn_matcher_limit_hits(const sn_matcher *m)
{
	return m->limit_hits;
}

void sn_matcher_add_limit_hits(sn_matcher *m, uint64_t n)
{
	m->limit_hits += n;
}

const sn_location *sn_matcher_location(const sn_matcher *m)
{
	return m->loc;
}

int sn_matcher_can_split(const sn_matcher *m)
{
	return !m->sql && !m->tb.active;
}

void sn_matcher_get_state(const sn_matcher *m, uint64_t *frontier, uint64_t *last_end)
{
	memcpy(frontier, m->frontier, m->rs->n * sizeof *frontier);
	*last_end = m->last_end;
}

int sn_matcher_continue_unit(sn_matcher *m, const sn_matcher *src, const uint64_t *frontier,
			     uint64_t last_end)
{
	sn_matcher_begin_unit(m, src->loc);
	memcpy(m->frontier, frontier, m->rs->n * sizeof *frontier);
	m->last_end = last_end;
	if (!src->table.detected)
		return 0;
	if (sn_table_copy(&m->table, &src->table) < 0)
		return sn_error_set(SN_ENOMEM, "out of memory continuing a unit");
	if (!src->col_hit)
		return 0;
	m->col_hit = calloc(m->table.ncols, sizeof *m->col_hit);
	if (!m->col_hit)
		return sn_error_set(SN_ENOMEM, "out of memory continuing a unit");
	for (size_t col = 0; col < m->table.ncols; col++) {
		if (!src->col_hit[col])
			continue;
		m->col_hit[col] = malloc(m->rs->n ? m->rs->n : 1);
		if (!m->col_hit[col])
			return sn_error_set(SN_ENOMEM, "out of memory continuing a unit");
		memcpy(m->col_hit[col], src->col_hit[col], m->rs->n ? m->rs->n : 1);
	}
	return 0;
}

void sn_matcher_overlap(const sn_ruleset *rs, size_t *before, size_t *after)
{
	/* A window of W characters is at most 4W bytes of UTF-8. */
	size_t w = 4u * rs->max_window;
	*before = w + 256;
	*after = rs->max_length + w + 256;
}

/* ---------------------------------------------------------------------- */
/* Candidate collection                                                    */

static int run(sn_matcher *m, size_t ri, int anchored, const sn_chunk *c, size_t at)
{
	const sn_rule *r = &m->rs->rules[ri];
	const pcre2_code *re = anchored ? r->re_anchored : r->re;
	int rc;
	if (m->use_jit[ri])
		rc = pcre2_jit_match(re, (PCRE2_SPTR)c->data, c->len, at, 0, m->md, m->mctx);
	else
		rc = pcre2_match(re, (PCRE2_SPTR)c->data, c->len, at, PCRE2_NO_UTF_CHECK, m->md,
				 m->mctx);
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
	    rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT)
		m->limit_hits++;
	return rc;
}

static size_t next_char(const sn_chunk *c, size_t p)
{
	p++;
	while (p < c->len && ((uint8_t)c->data[p] & 0xC0) == 0x80)
		p++;
	return p;
}

/* Validate [s,e) for rule ri and record it as a candidate. Returns 1 when
 * the validator accepted it. */
static int consider(sn_matcher *m, size_t ri, const sn_chunk *c, size_t s, size_t e)
{
	const sn_rule *r = &m->rs->rules[ri];
	sn_vresult vr;
	if (e - s > r->max_length)
		return 0;
	if (r->validator) {
		if (!r->validator->validate(c->data + s, e - s, m->rs->tables, &vr))
			return 0;
	} else {
		sn_normalize_generic(c->data + s, e - s, &vr);
	}
	if (m->nc == m->capc) {
		size_t cap = m->capc ? m->capc * 2 : 256;
		if (cap > SN_MAX_CANDIDATES)
			return 0;
		cand *nc = realloc(m->c, cap * sizeof *nc);
		if (!nc)
			return 0;
		m->c = nc;
		m->capc = cap;
	}
	cand *k = &m->c[m->nc];
	k->start = s;
	k->end = e;
	k->rule = (unsigned)ri;
	k->flags = vr.flags;
	k->norm_off = m->norms.len;
	k->norm_len = vr.normalized_len;
	sn_buf_put(&m->norms, vr.normalized, vr.normalized_len);
	sn_buf_putc(&m->norms, '\0');
	if (m->norms.failed)
		return 0;
	m->nc++;
	return 1;
}

/* Outcome of a confirmed match at the current position: updates *pos. */
static void settle(sn_matcher *m, size_t ri, const sn_chunk *c, size_t s, size_t e, size_t *pos)
{
	if (e > s && consider(m, ri, c, s, e))
		*pos = e;
	else
		*pos = next_char(c, s);
}

static size_t start_pos(const sn_matcher *m, size_t ri, const sn_chunk *c)
{
	uint64_t f = m->frontier[ri];
	size_t pos = c->emit_from;
	if (f > c->base_offset && f - c->base_offset > pos)
		pos = (size_t)(f - c->base_offset);
	return pos;
}

static void slow_rule(sn_matcher *m, size_t ri, const sn_chunk *c)
{
	size_t pos = start_pos(m, ri, c);
	while (pos < c->emit_to && pos <= c->len) {
		int rc = run(m, ri, 0, c, pos);
		if (rc < 0)
			break;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
		size_t s = ov[0], e = ov[1];
		if (s >= c->emit_to)
			break;
		settle(m, ri, c, s, e, &pos);
	}
	if (pos > c->emit_to && pos > c->len)
		pos = c->len;
	m->frontier[ri] = c->base_offset + (pos < c->emit_to ? c->emit_to : pos);
}

/* The rule's declared prefix: a cheap necessary condition checked before
 * PCRE2 is called at p -- the bytes there are those of one alternative (all
 * alternatives are followed at once, a bit each).  Bytes past the end of the
 * chunk are not judged. */
static inline int prefix_ok(const sn_rule *r, const sn_chunk *c, size_t p)
{
	const uint8_t *d = (const uint8_t *)c->data + p;
	size_t n = r->prefix_span < c->len - p ? r->prefix_span : c->len - p;
	unsigned alts = 0xFF;
	for (size_t i = 0; i < n && alts; i++)
		alts &= r->prefix_alts[i][d[i]];
	return alts != 0;
}

static int try_at(sn_matcher *m, size_t ri, const sn_chunk *c, size_t p, size_t *pos)
{
	int rc = run(m, ri, 1, c, p);
	if (rc < 0)
		return 0;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
	settle(m, ri, c, ov[0], ov[1], pos);
	return 1;
}

/* The first-byte rules that may start at p, tried in rule order: `hits`
 * holds those whose first byte fits and whose boundary allows p. */
static void first_rules_at(sn_matcher *m, const sn_chunk *c, size_t p, size_t *pos,
			   uint64_t *live, uint64_t hits)
{
	const uint8_t *d = (const uint8_t *)c->data;
	int whole = p + SN_LEAD <= c->len; /* else only the prefixes judge the tail */
	if (whole) {
		hits &= m->lead[1][d[p + 1]] & m->lead[2][d[p + 2]] & m->lead[3][d[p + 3]];
		if (!hits)
			return;
	}
	/* the alternatives still possible at p, of the rules in hits */
	uint64_t alive = ~0ull;
	if (m->palts) {
		alive = 0;
		for (uint64_t h = hits; h; h &= h - 1)
			alive |= m->altmask[__builtin_ctzll(h)];
		size_t n = m->pspan < c->len - p ? m->pspan : c->len - p;
		for (size_t i = 0; i < n && alive; i++)
			alive &= m->palts[i][d[p + i]];
	}
	while (hits) {
		unsigned b = (unsigned)__builtin_ctzll(hits);
		hits &= hits - 1;
		const sn_rule *r = &m->rs->rules[m->first_rules[b]];
		if (p < pos[b] || !(alive & m->altmask[b]) ||
		    ((m->prefix_more >> b & 1) && !prefix_ok(r, c, p)))
			continue;
		try_at(m, m->first_rules[b], c, p, &pos[b]);
		if (pos[b] >= c->emit_to)
			*live &= ~(1ull << b);
	}
}

/* Positions [from, to): the first byte and the byte before it rule out
 * most of them (inside a run of digits, every rule needs a boundary). */
static inline void first_rules_in(sn_matcher *m, const sn_chunk *c, size_t from, size_t to,
				  size_t *pos, uint64_t *live)
{
	const uint8_t *d = (const uint8_t *)c->data;
	for (size_t p = from; p < to && *live; p++) {
		uint64_t hits = m->lead[0][d[p]] & *live;
		if (p > 0)
			hits &= ~m->boundary_mask[d[p - 1]];
		if (hits)
			first_rules_at(m, c, p, pos, live, hits);
	}
}

#ifdef SN_SHUFTI
/* Each byte's group bits under one pair of nibble tables (pshufb). */
__attribute__((target("ssse3"))) static inline __m128i nibble_bits(__m128i v, const uint8_t lo[16],
								   const uint8_t hi[16])
{
	const __m128i nib = _mm_set1_epi8(0x0f);
	__m128i l = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)lo), _mm_and_si128(v, nib));
	__m128i h = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)hi),
				     _mm_and_si128(_mm_srli_epi16(v, 4), nib));
	return _mm_and_si128(l, h);
}

/*
 * The first-byte rules at the positions [p, end), sixteen at a time, while
 * the four bytes from each and the byte before it are inside the chunk
 * (p >= 1).  Returns the first position not looked at.
 */
__attribute__((target("ssse3"))) static size_t first_rules_vector(sn_matcher *m, const sn_chunk *c,
								    size_t p, size_t end, size_t *pos,
								    uint64_t *live)
{
	const uint8_t *d = (const uint8_t *)c->data;
	const __m128i zero = _mm_setzero_si128();
	for (; p < end && p + 16 + SN_LEAD - 1 <= c->len && *live; p += 16) {
		__m128i g = nibble_bits(_mm_loadu_si128((const __m128i *)(d + p)), m->vlead_lo[0],
					m->vlead_hi[0]);
		for (unsigned i = 1; i < SN_LEAD; i++)
			g = _mm_and_si128(g, nibble_bits(_mm_loadu_si128((const __m128i *)(d + p + i)),
							 m->vlead_lo[i], m->vlead_hi[i]));
		g = _mm_andnot_si128(nibble_bits(_mm_loadu_si128((const __m128i *)(d + p - 1)),
						 m->vblock_lo, m->vblock_hi),
				     g);
		unsigned hit = 0xFFFFu ^ (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(g, zero));
		if (end - p < 16)
			hit &= (1u << (end - p)) - 1;
		while (hit) {
			size_t q = p + (unsigned)__builtin_ctz(hit);
			hit &= hit - 1;
			uint64_t hits = m->lead[0][d[q]] & ~m->boundary_mask[d[q - 1]] & *live;
			if (hits)
				first_rules_at(m, c, q, pos, live, hits);
		}
	}
	return p < end ? p : end;
}
#endif

/* The first trigger byte in d[q, qend), or qend. */
static inline size_t next_trigger(const sn_matcher *m, const uint8_t *d, size_t q, size_t qend)
{
	const uint8_t *trig = m->trigger;
	/* eight look-ups per step: most text has no trigger */
	while (q + 8 <= qend && !(trig[d[q]] | trig[d[q + 1]] | trig[d[q + 2]] | trig[d[q + 3]] |
				  trig[d[q + 4]] | trig[d[q + 5]] | trig[d[q + 6]] | trig[d[q + 7]]))
		q += 8;
	while (q < qend && !trig[d[q]])
		q++;
	return q;
}

/*
 * The first-byte rules' candidate starts in [lo, emit_to), in increasing
 * order, by trigger bytes.  A match starting at p has a trigger byte at
 * p + i for some i <= trigger_reach (when that is inside the chunk), so only
 * the positions up to trigger_reach before each trigger byte are looked at,
 * and the last trigger_reach positions of the chunk, whose trigger could lie
 * past its end.
 */
static void first_rules_triggers(sn_matcher *m, const sn_chunk *c, size_t lo, size_t *pos,
				 uint64_t *live)
{
	const uint8_t *d = (const uint8_t *)c->data;
	const size_t reach = m->trigger_reach, end = c->emit_to;
	size_t tail = c->len > reach ? c->len - reach : 0;
	if (tail > end)
		tail = end;
	size_t next = lo; /* positions below were looked at */
	size_t qend = end + reach < c->len ? end + reach : c->len;
	for (size_t q = lo; next < tail && *live; q++) {
		q = next_trigger(m, d, q, qend);
		if (q >= qend)
			break;
		size_t from = q > reach ? q - reach : 0, to = q + 1;
		if (from < next)
			from = next;
		if (to > tail)
			to = tail;
		first_rules_in(m, c, from, to, pos, live);
		if (to > next)
			next = to;
	}
	first_rules_in(m, c, next > tail ? next : tail, end, pos, live);
}

/* The first-byte rules of a chunk: the vector filter where the CPU has it,
 * else the skip to trigger bytes; both look at every possible start. */
static void first_rules_pass(sn_matcher *m, const sn_chunk *c)
{
	size_t pos[64];
	uint64_t live = 0;
	size_t lo = c->emit_to;
	for (unsigned b = 0; b < m->nfirst; b++) {
		pos[b] = start_pos(m, m->first_rules[b], c);
		if (pos[b] < c->emit_to)
			live |= 1ull << b;
		if (pos[b] < lo)
			lo = pos[b];
	}
#ifdef SN_SHUFTI
	if (m->use_vector) {
		size_t p = lo;
		if (p == 0) {
			first_rules_in(m, c, 0, 1, pos, &live); /* no byte before it */
			p = 1;
		}
		p = first_rules_vector(m, c, p, c->emit_to, pos, &live);
		first_rules_in(m, c, p, c->emit_to, pos, &live);
	} else
#endif
		first_rules_triggers(m, c, lo, pos, &live);
	for (unsigned b = 0; b < m->nfirst; b++) {
		size_t ri = m->first_rules[b];
		size_t p = pos[b] < c->emit_to ? c->emit_to : pos[b];
		m->frontier[ri] = c->base_offset + p;
	}
}

/*
 * The unanchored search of a literal-anchored rule from `from`, for a match
 * that starts at or before `last` only: PCRE2 stops trying start positions
 * there instead of running on to the next match far away.
 */
static int run_upto(sn_matcher *m, size_t ri, const sn_chunk *c, size_t from, size_t last)
{
	pcre2_set_offset_limit(m->mctx, last);
	int rc = run(m, ri, 0, c, from);
	pcre2_set_offset_limit(m->mctx, PCRE2_UNSET);
	return rc;
}

/*
 * Start of the bytes of the anchor's back class that end at `a`: walks back
 * from the literal at `a`, but not below `lo`.  Bytes >= 0x80 are in the
 * class, so the result is a character boundary (or `lo`).
 */
static size_t back_run(const sn_rule *r, const sn_chunk *c, size_t lo, size_t a)
{
	const uint8_t *d = (const uint8_t *)c->data;
	size_t w = a;
	while (w > lo && r->back[d[w - 1]])
		w--;
	return w;
}

/* The next byte of back_except in a chunk: the first one at or after `from`
 * is at `at` (emit_to when there is none before it).  Queries mostly move
 * forward, so each stretch of text is searched about once. */
typedef struct except_cursor {
	int known;
	size_t from, at;
} except_cursor;

static size_t next_except(const sn_rule *r, const sn_chunk *c, except_cursor *x, size_t p)
{
	const uint8_t *d = (const uint8_t *)c->data;
	size_t q = p;
	if (x->known && p >= x->from && p <= x->at)
		return x->at;
	if (r->back_nexcept == 1) {
		const uint8_t *f =
			p < c->emit_to ? memchr(d + p, r->back_except_byte, c->emit_to - p) : NULL;
		q = f ? (size_t)(f - d) : c->emit_to;
	} else {
		while (q < c->emit_to && !r->back_except[d[q]])
			q++;
	}
	x->known = 1;
	x->from = p;
	x->at = q;
	return q;
}

/*
 * The matches exempt from the back class start with a byte of back_except:
 * try the anchored pattern at each such byte in [lo, hi), in increasing
 * order (a start right after a boundary byte is impossible and skipped).
 * Returns 1 when a match was found there and settled, moving *pos.
 */
static int try_except(sn_matcher *m, size_t ri, const sn_chunk *c, except_cursor *x, size_t lo,
		      size_t hi, size_t *pos)
{
	const sn_rule *r = &m->rs->rules[ri];
	const uint8_t *d = (const uint8_t *)c->data;
	for (size_t q = next_except(r, c, x, lo); q < hi; q = next_except(r, c, x, q + 1)) {
		if (r->has_boundary && q > 0 && r->boundary[d[q - 1]])
			continue;
		if (run(m, ri, 1, c, q) >= 0) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
			settle(m, ri, c, ov[0], ov[1], pos);
			return 1;
		}
	}
	return 0;
}

/*
 * A rule with a declared literal anchor: every match holds the literal at
 * most `anchor_before` bytes after its start.  So from the frontier `pos`,
 * with `a` the first occurrence of the literal at or after `pos`, no match
 * can start before s = a - anchor_before, and a match that starts at or
 * before `a` has its literal there or later.  The unanchored search from s,
 * with its start positions capped at `a`, finds exactly the match the slow
 * path would find from `pos` when that one starts at or before `a`; when
 * there is none, no match starts in [pos, a] and the next occurrence of the
 * literal takes over.  Text far from any occurrence is never searched.
 *
 * A rule that declares anchor.back says that every byte of a match before
 * its first literal is in that class, unless the match starts with a byte of
 * anchor.back_except.  A match starting in [s, w), where w is the start of
 * the run of back bytes that ends at `a`, would then span the byte at w - 1,
 * which is not in the class: only the back_except bytes there can start a
 * match, and they are tried one by one; the unanchored search starts at w.
 */
static void literal_rule(sn_matcher *m, size_t ri, const sn_chunk *c)
{
	const sn_rule *r = &m->rs->rules[ri];
	size_t ll = strlen(r->anchor_literal);
	size_t pos = start_pos(m, ri, c);
	size_t search_end = c->emit_to + r->anchor_before + ll;
	except_cursor x = { 0, 0, 0 };
	if (search_end > c->len)
		search_end = c->len;
	while (pos < c->emit_to && pos < search_end) {
		const char *hit = memmem(c->data + pos, search_end - pos, r->anchor_literal, ll);
		if (!hit)
			break;
		size_t a = (size_t)(hit - c->data);
		size_t s = a > r->anchor_before ? a - r->anchor_before : 0;
		if (s < pos)
			s = pos;
		/* a character boundary, as PCRE2 requires in UTF mode */
		while (s > pos && ((uint8_t)c->data[s] & 0xC0) == 0x80)
			s--;
		if (s >= c->emit_to)
			break;
		if (r->has_back) {
			size_t w = back_run(r, c, s, a);
			if (r->back_nexcept &&
			    try_except(m, ri, c, &x, s, w < c->emit_to ? w : c->emit_to, &pos))
				continue;
			s = w;
			if (s >= c->emit_to)
				break;
		}
		/* starts at or after emit_to belong to the next chunk */
		size_t last = a < c->emit_to ? a : c->emit_to - 1;
		int rc = run_upto(m, ri, c, s, last);
		if (rc == PCRE2_ERROR_NOMATCH && a < c->emit_to) {
			pos = next_char(c, a);
			continue;
		}
		if (rc < 0)
			break;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
		/* the offset limit counts in code units, and a start past it can
		 * still come back when the limit falls inside a character: a
		 * match that starts in the next chunk's range is that chunk's */
		if (ov[0] >= c->emit_to)
			break;
		settle(m, ri, c, ov[0], ov[1], &pos);
	}
	m->frontier[ri] = c->base_offset + (pos < c->emit_to ? c->emit_to : pos);
}

static void collect(sn_matcher *m, const sn_chunk *c)
{
	if (!m->o.slow_path && m->nfirst)
		first_rules_pass(m, c);
	for (size_t i = 0; i < m->rs->n; i++) {
		if (!rule_enabled(m, i))
			continue;
		const sn_rule *r = &m->rs->rules[i];
		if (m->o.slow_path || r->anchor == SN_ANCHOR_NONE)
			slow_rule(m, i, c);
		else if (r->anchor == SN_ANCHOR_LITERAL)
			literal_rule(m, i, c);
		else {
			int in_pass = 0;
			for (unsigned b = 0; b < m->nfirst; b++)
				in_pass |= m->first_rules[b] == i;
			if (!in_pass)
				slow_rule(m, i, c);
		}
	}
}

/* ---------------------------------------------------------------------- */
/* Overlaps: one finding per span                                          */

static int by_start(const void *a, const void *b)
{
	const cand *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end > y->end ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* 1 if x beats y. */
static int beats(const sn_matcher *m, const cand *x, const cand *y)
{
	int px = m->rs->rules[x->rule].priority, py = m->rs->rules[y->rule].priority;
	if (px != py)
		return px > py;
	size_t lx = x->end - x->start, ly = y->end - y->start;
	if (lx != ly)
		return lx > ly;
	if (x->start != y->start)
		return x->start < y->start;
	return x->rule < y->rule;
}

/* a[i, j) and a[j, k), each in order, into out[i, k) */
static void merge_runs(const cand *a, size_t i, size_t j, size_t k, cand *out)
{
	size_t x = i, y = j, o = i;
	while (x < j && y < k)
		out[o++] = by_start(&a[y], &a[x]) < 0 ? a[y++] : a[x++];
	while (x < j)
		out[o++] = a[x++];
	while (y < k)
		out[o++] = a[y++];
}

/* The end of the ordered run of a[0, n) that starts at i. */
static size_t run_end(const cand *a, size_t i, size_t n)
{
	size_t j = i + 1;
	while (j < n && by_start(&a[j - 1], &a[j]) <= 0)
		j++;
	return j;
}

/*
 * The candidates in start order.  They arrive in a few ordered runs -- the
 * first-byte pass gives its rules' candidates by position, each other rule
 * its own -- so merging neighbouring runs until one is left beats sorting
 * them from scratch.  Without room to merge into, qsort.
 */
static void sort_cands(sn_matcher *m)
{
	size_t n = m->nc;
	if (run_end(m->c, 0, n) == n)
		return;
	if (m->capt < m->capc) {
		cand *t = realloc(m->ct, m->capc * sizeof *t);
		if (!t) {
			qsort(m->c, n, sizeof *m->c, by_start);
			return;
		}
		m->ct = t;
		m->capt = m->capc;
	}
	cand *a = m->c, *b = m->ct;
	for (;;) {
		size_t i = 0, runs = 0;
		while (i < n) {
			size_t j = run_end(a, i, n), k = j < n ? run_end(a, j, n) : n;
			merge_runs(a, i, j, k, b);
			runs++;
			i = k;
		}
		cand *t = a;
		a = b;
		b = t;
		if (runs == 1)
			break;
	}
	if (a != m->c) {
		/* the sorted array becomes c; both hold capc candidates */
		m->ct = m->c;
		m->c = a;
	}
}

/* Resolve clusters of overlapping candidates in place; the kept ones stay
 * in start order with rule = UINT32_MAX marking the dropped. */
static void resolve(sn_matcher *m)
{
	if (m->nc == 0)
		return; /* m->c may still be NULL */
	sort_cands(m);
	size_t i = 0;
	while (i < m->nc) {
		size_t j = i + 1, end = m->c[i].end;
		while (j < m->nc && m->c[j].start < end) {
			if (m->c[j].end > end)
				end = m->c[j].end;
			j++;
		}
		if (j - i > 1) {
			/* Greedy: repeatedly keep the best remaining candidate and
			 * drop everything that overlaps it. Clusters are small. */
			for (;;) {
				size_t best = SIZE_MAX;
				for (size_t k = i; k < j; k++) {
					cand *x = &m->c[k];
					if (x->flags & 0x80000000u || x->rule == UINT32_MAX)
						continue;
					if (best == SIZE_MAX || beats(m, x, &m->c[best]))
						best = k;
				}
				if (best == SIZE_MAX)
					break;
				m->c[best].flags |= 0x80000000u; /* kept */
				for (size_t k = i; k < j; k++) {
					cand *x = &m->c[k];
					if (k == best || (x->flags & 0x80000000u) || x->rule == UINT32_MAX)
						continue;
					if (x->start < m->c[best].end && m->c[best].start < x->end)
						x->rule = UINT32_MAX;
				}
			}
			for (size_t k = i; k < j; k++)
				m->c[k].flags &= ~0x80000000u;
		}
		i = j;
	}
}

/* ---------------------------------------------------------------------- */
/* Confidence                                                              */

static size_t back_chars(const sn_chunk *c, size_t p, unsigned n)
{
	if (p >= n && sn_ascii_run((const uint8_t *)c->data + p - n, n) == n)
		return p - n; /* n ASCII characters */
	while (p > 0 && n > 0) {
		p--;
		if (((uint8_t)c->data[p] & 0xC0) != 0x80)
			n--;
	}
	while (p > 0 && ((uint8_t)c->data[p] & 0xC0) == 0x80)
		p--;
	return p;
}

static size_t fwd_chars(const sn_chunk *c, size_t p, unsigned n)
{
	if (n <= c->len - p && sn_ascii_run((const uint8_t *)c->data + p, n) == n) {
		p += n; /* n ASCII characters, and what would follow the last */
		while (p < c->len && ((uint8_t)c->data[p] & 0xC0) == 0x80)
			p++;
		return p;
	}
	while (p < c->len && n > 0) {
		p = next_char(c, p);
		n--;
	}
	return p;
}

static int is_placeholder(const sn_rule *r, const char *norm)
{
	for (size_t i = 0; i < r->nplaceholders; i++) {
		if (strcmp(r->placeholders[i], norm) == 0)
			return 1;
	}
	return 0;
}

static void prepare_columns(sn_matcher *m)
{
	if (!m->table.detected)
		return;
	m->col_hit = calloc(m->table.ncols, sizeof *m->col_hit);
	if (!m->col_hit)
		return;
	for (size_t col = 0; col < m->table.ncols; col++) {
		m->col_hit[col] = calloc(m->rs->n ? m->rs->n : 1, 1);
		if (!m->col_hit[col])
			continue;
		if (m->table.headerless)
			continue;
		for (size_t ri = 0; ri < m->rs->n; ri++)
			m->col_hit[col][ri] = (uint8_t)sn_wordlist_find(
				&m->rs->rules[ri].columns, m->table.htok[col], m->table.nhtok[col]);
	}
}

#define SN_INFER_LINES 200
#define SN_INFER_MIN 3

/*
 * A column without a matching name still counts as, say, a BSN column when
 * most of its values pass that rule's validator on their own: only about 1
 * in 11 random 9-digit numbers passes the 11-proef, so a column where 60 %
 * or more do is a BSN column.  Judged on the first lines of the unit; such
 * a column raises its values to medium (COL_INFERRED).
 */
static void infer_columns(sn_matcher *m, const char *data, size_t len, int header_line)
{
	sn_table *t = &m->table;
	if (!t->detected || !m->col_hit)
		return;
	size_t *pass = calloc(t->ncols * (m->rs->n ? m->rs->n : 1), sizeof *pass);
	size_t *filled = calloc(t->ncols, sizeof *filled);
	if (!pass || !filled)
		goto done;
	const char *cell[SN_TABLE_MAX_COLS];
	size_t clen[SN_TABLE_MAX_COLS];
	size_t off = 0, lines = 0;
	if (header_line) {
		const char *nl = memchr(data, '\n', len);
		off = nl ? (size_t)(nl - data) + 1 : len;
	}
	while (off < len && lines < SN_INFER_LINES) {
		const char *nl = memchr(data + off, '\n', len - off);
		if (!nl)
			break; /* an incomplete line says nothing */
		size_t n = (size_t)(nl - (data + off));
		size_t nc = sn_table_cells(t, data + off, n, cell, clen, t->ncols);
		for (size_t c = 0; c < nc; c++) {
			if (!clen[c])
				continue;
			filled[c]++;
			for (size_t ri = 0; ri < m->rs->n; ri++) {
				const sn_rule *r = &m->rs->rules[ri];
				sn_vresult vr;
				if (r->validator && clen[c] <= r->max_length &&
				    r->validator->validate(cell[c], clen[c], m->rs->tables, &vr))
					pass[c * m->rs->n + ri]++;
			}
		}
		lines++;
		off = (size_t)(nl - data) + 1;
	}
	for (size_t c = 0; c < t->ncols; c++) {
		if (!m->col_hit[c])
			continue;
		for (size_t ri = 0; ri < m->rs->n; ri++) {
			size_t p = pass[c * m->rs->n + ri];
			if (!m->col_hit[c][ri] && p >= SN_INFER_MIN && p * 10 >= filled[c] * 6)
				m->col_hit[c][ri] = COL_INFERRED;
		}
	}
done:
	free(pass);
	free(filled);
}

/* ---------------------------------------------------------------------- */
/* SQL dumps                                                               */

static int starts_with_ci(const char *p, size_t n, const char *word)
{
	size_t l = strlen(word);
	if (n < l)
		return 0;
	for (size_t i = 0; i < l; i++) {
		char a = p[i], b = word[i];
		if (a >= 'a' && a <= 'z')
			a = (char)(a - 32);
		if (a != b)
			return 0;
	}
	return 1;
}

/* A pg_dump data block starts with "COPY name (columns) FROM stdin;": a line
 * that merely starts with the word ("Copy of this licence ...") is no SQL. */
static int copy_line(const char *l, size_t n)
{
	static const char from[] = " FROM STDIN"; /* upper case: starts_with_ci */
	if (!starts_with_ci(l, n, "COPY "))
		return 0;
	for (size_t i = 5; i + sizeof from - 1 <= n; i++) {
		if (starts_with_ci(l + i, n - i, from))
			return 1;
	}
	return 0;
}

static int sql_detect(const char *d, size_t n)
{
	static const char *const marks[] = { "INSERT INTO", "CREATE TABLE" };
	for (size_t i = 0; i < n;) { /* i: a line start */
		for (size_t k = 0; k < sizeof marks / sizeof marks[0]; k++) {
			if (starts_with_ci(d + i, n - i, marks[k]))
				return 1;
		}
		const char *nl = memchr(d + i, '\n', n - i);
		if (copy_line(d + i, nl ? (size_t)(nl - (d + i)) : n - i))
			return 1;
		if (!nl)
			break;
		i = (size_t)(nl - d) + 1;
	}
	return 0;
}

/*
 * Column names of "... (a, "b", `c`) ..." starting at the first '(' after
 * `from`, as a table header (so the same column matching applies).
 */
static void sql_columns(sn_table *t, const char *line, size_t n, size_t from, char delim)
{
	sn_table_clear(t);
	const char *open = memchr(line + from, '(', n - from);
	if (!open)
		return;
	const char *close = memchr(open, ')', (size_t)(line + n - open));
	if (!close)
		return;
	/* the names, unquoted: "a", `b`, [c] */
	char buf[4096];
	char *names[SN_TABLE_MAX_COLS];
	size_t nn = 0, bl = 0;
	const char *p = open + 1;
	while (p <= close && nn < SN_TABLE_MAX_COLS) {
		const char *e = p;
		while (e < close && *e != ',')
			e++;
		const char *a = p, *z = e;
		while (a < z && (*a == ' ' || *a == '"' || *a == '`' || *a == '['))
			a++;
		while (z > a && (z[-1] == ' ' || z[-1] == '"' || z[-1] == '`' || z[-1] == ']'))
			z--;
		size_t l = (size_t)(z - a);
		if (l == 0 || bl + l + 1 > sizeof buf)
			return; /* not a column list */
		memcpy(buf + bl, a, l);
		buf[bl + l] = '\0';
		names[nn++] = buf + bl;
		bl += l + 1;
		p = e + 1;
	}
	if (nn == 0 || sn_table_set(t, (const char *const *)names, nn, delim) < 0)
		sn_table_clear(t);
}

/* Examine the line starting at `ls` (absolute line number `line`). */
static void sql_line(sn_matcher *m, const sn_chunk *c, size_t ls, uint64_t line)
{
	const char *l = c->data + ls;
	const char *nl = memchr(l, '\n', c->len - ls);
	size_t n = nl ? (size_t)(nl - l) : c->len - ls;
	if (m->copy_active) {
		if (n >= 2 && l[0] == '\\' && l[1] == '.') {
			m->copy_active = 0;
			sn_table_clear(&m->copy);
		}
		return;
	}
	if (copy_line(l, n)) {
		sql_columns(&m->copy, l, n, 5, '\t');
		m->copy_active = 1;
		m->copy_line = line;
	}
}

/*
 * Column index of `pos` inside the VALUES tuples of the INSERT line starting
 * at absolute offset `line_abs`, or -1.  Findings on one line come in order,
 * so the scan goes on from where the previous finding left it: an extended
 * INSERT of thousands of tuples is read once, not once per finding.
 */
static long insert_column(sn_matcher *m, uint64_t line_abs, const char *l, size_t n, size_t v,
			  size_t pos)
{
	if (v + 6 > n || pos < v)
		return -1;
	if (m->iscan.line_abs != line_abs || pos < m->iscan.pos) {
		m->iscan.line_abs = line_abs;
		m->iscan.pos = v + 6;
		m->iscan.depth = m->iscan.quote = 0;
		m->iscan.col = -1;
	}
	int depth = m->iscan.depth, q = m->iscan.quote;
	long col = m->iscan.col;
	size_t i = m->iscan.pos;
	for (; i < pos && i < n; i++) {
		char ch = l[i];
		if (q) {
			if (ch == '\\')
				i++;
			else if (ch == '\'')
				q = 0;
			continue;
		}
		if (ch == '\'')
			q = 1;
		else if (ch == '(' && depth++ == 0)
			col = 0;
		else if (ch == ')')
			depth--;
		else if (ch == ',' && depth == 1)
			col++;
	}
	m->iscan.pos = i;
	m->iscan.depth = depth;
	m->iscan.quote = q;
	m->iscan.col = col;
	return depth == 1 ? col : -1;
}

typedef struct sqlctx {
	const sn_table *t; /* the header the column is named in, or NULL */
	long col;
	int64_t row;
} sqlctx;

static void sql_context(sn_matcher *m, const sn_chunk *c, size_t ls, uint64_t line,
			size_t pos, sqlctx *out)
{
	sn_table *ins = &m->ins;
	out->t = NULL;
	out->col = -1;
	out->row = -1;
	const char *l = c->data + ls;
	const char *nl = memchr(l, '\n', c->len - ls);
	size_t n = nl ? (size_t)(nl - l) : c->len - ls;
	if (m->copy_active && m->copy.detected) {
		long col = 0;
		for (size_t i = ls; i < pos; i++)
			col += c->data[i] == '\t';
		if ((size_t)col < m->copy.ncols) {
			out->t = &m->copy;
			out->col = col;
			out->row = (int64_t)(line - m->copy_line);
		}
		return;
	}
	if (!starts_with_ci(l, n, "INSERT INTO"))
		return;
	uint64_t line_abs = c->base_offset + ls;
	int fresh = m->iscan.line_abs != line_abs;
	size_t v = 0;
	while (v + 6 <= n && !starts_with_ci(l + v, n - v, "VALUES"))
		v++;
	long col = insert_column(m, line_abs, l, n, v, pos - ls);
	if (col < 0)
		return;
	/* the column list sits between the table name and VALUES: parsed once
	 * per statement line */
	if (fresh)
		sql_columns(ins, l, v, 11, ',');
	if (ins->detected && (size_t)col < ins->ncols) {
		out->t = ins;
		out->col = col;
	}
}

typedef struct scored {
	sn_confidence conf;
	long col;
	int keep;
	const char *field;
	int64_t row;
} scored;

/* A "header" line holding a value is data: its cells must not name the
 * columns (a name is output as it is, unmasked). */
static void demote_header(sn_matcher *m)
{
	sn_table *t = &m->table;
	for (size_t i = 0; i < t->ncols; i++) {
		free(t->headers[i]);
		t->headers[i] = NULL;
		t->nhtok[i] = 0;
		for (size_t ri = 0; m->col_hit && m->col_hit[i] && ri < m->rs->n; ri++) {
			if (m->col_hit[i][ri] == COL_NAMED)
				m->col_hit[i][ri] = 0;
		}
	}
	t->headerless = 1;
}

static void score(sn_matcher *m, const sn_chunk *c, const cand *k, size_t line_start,
		  int line_start_known, uint64_t line, scored *out)
{
	const sn_rule *r = &m->rs->rules[k->rule];
	int level = r->base, ctx = 0, col_hit = 0, anti = 0;
	out->col = -1;
	out->field = NULL;
	out->row = -1;
	if (m->table.detected && line_start_known) {
		out->col = sn_table_column(&m->table, c->data, line_start, k->start, &m->tcur);
		if (out->col >= 0 && (size_t)out->col < m->table.ncols) {
			out->field = m->table.headers[out->col]; /* NULL without a header */
			out->row = (int64_t)line - (m->table.headerless ? 0 : 1);
			if (m->tb.active)
				out->row = line - m->tb.line < m->tb.nrows
						   ? m->tb.rows[line - m->tb.line] : -1;
			if (out->field && !*out->field)
				out->field = NULL;
		}
		if (out->col >= 0 && m->col_hit && m->col_hit[out->col] &&
		    m->col_hit[out->col][k->rule]) {
			col_hit = 1;
			ctx = 1;
			int to = m->col_hit[out->col][k->rule] == COL_INFERRED
					 ? SN_CONF_MEDIUM : (int)r->column_conf;
			if (to > level)
				level = to;
		}
	} else if (m->sql && line_start_known) {
		sqlctx sq;
		sql_context(m, c, line_start, line, k->start, &sq);
		if (sq.t) {
			out->col = sq.col;
			out->field = sq.t->headers[sq.col];
			out->row = sq.row;
			if (sn_wordlist_find(&r->columns, sq.t->htok[sq.col], sq.t->nhtok[sq.col])) {
				col_hit = 1;
				ctx = 1;
				if ((int)r->column_conf > level)
					level = r->column_conf;
			}
		}
	}
	int need_kw = r->keywords.n && level < (int)r->keyword_conf;
	int need_anti = r->anti_keywords.n && !col_hit;
	if (need_kw || need_anti || (r->require_context && !ctx)) {
		/* Labels precede values, often on the line above ("BSN:\n..."),
		 * so the window looks back across lines; after the value it
		 * stops at the line end, so the next log line's words do not
		 * describe this value. */
		size_t ws = back_chars(c, k->start, r->window);
		size_t we = fwd_chars(c, k->end, r->window);
		const char *eol = memchr(c->data + k->end, '\n', we - k->end);
		if (eol)
			we = (size_t)(eol - c->data);
		size_t nb = k->start - ws, na = we - k->end;
		if (nb + na <= 8 * 1024) {
			sn_token *t = m->tokens;
			size_t nt = sn_tokenize(c->data + ws, nb, m->tokscratch, t, SN_MAX_WINDOW_TOKENS);
			nt += sn_tokenize(c->data + k->end, na, m->tokscratch + nb, t + nt,
					  SN_MAX_WINDOW_TOKENS - nt);
			if (r->keywords.n && sn_wordlist_find(&r->keywords, t, nt)) {
				ctx = 1;
				if ((int)r->keyword_conf > level)
					level = r->keyword_conf;
			}
			if (need_anti && sn_wordlist_find(&r->anti_keywords, t, nt))
				anti = 1;
		}
	}
	/* Context patterns only matter when they can still raise the level
	 * or are needed to keep a require_context match. */
	if ((r->re_before || r->re_after) &&
	    (level < (int)r->context_conf || (r->require_context && !ctx))) {
		int hit = 0;
		if (r->re_after) {
			int rc = pcre2_match(r->re_after, (PCRE2_SPTR)c->data, c->len, k->end,
					     PCRE2_NO_UTF_CHECK, m->md, m->mctx);
			hit = rc >= 0;
		}
		if (!hit && r->re_before) {
			size_t from = back_chars(c, k->start, 128);
			/* The subject ends at the match start, so an end-anchored
			 * pattern must end right there. */
			int rc = pcre2_match(r->re_before, (PCRE2_SPTR)c->data, k->start, from,
					     PCRE2_NO_UTF_CHECK, m->md, m->mctx);
			hit = rc >= 0;
		}
		if (hit) {
			ctx = 1;
			if ((int)r->context_conf > level)
				level = r->context_conf;
		}
	}
	/* Lowering comes after every raise, so an anti-keyword always costs
	 * one level, whatever else the context says. */
	if (anti)
		level--;
	if (r->nplaceholders && is_placeholder(r, m->norms.p + k->norm_off))
		level--;
	else if (r->re_weak && pcre2_match(r->re_weak, (PCRE2_SPTR)(m->norms.p + k->norm_off),
					   k->norm_len, 0, PCRE2_NO_UTF_CHECK, m->md, m->mctx) >= 0)
		level--;
	else if (r->re_weak_form && !ctx &&
		 pcre2_match(r->re_weak_form, (PCRE2_SPTR)(c->data + k->start), k->end - k->start, 0,
			     PCRE2_NO_UTF_CHECK, m->md, m->mctx) >= 0)
		level--;
	if (level < SN_CONF_LOW)
		level = SN_CONF_LOW;
	if ((k->flags & (SN_V_NONPERSONAL | SN_V_WEAK)) && level > SN_CONF_LOW)
		level = SN_CONF_LOW;
	out->conf = (sn_confidence)level;
	out->keep = !(r->require_context && !ctx);
}

/* ---------------------------------------------------------------------- */

int sn_matcher_scan(sn_matcher *m, const sn_chunk *c, sn_finding_fn cb, void *payload)
{
	if (c->is_first && c->base_offset == 0 && !m->tb.active) {
		sn_table_detect(&m->table, c->data, c->len);
		prepare_columns(m);
		infer_columns(m, c->data, c->len, !m->table.headerless);
		m->sql = !m->table.detected && sql_detect(c->data, c->len < 65536 ? c->len : 65536);
	}
	m->nc = 0;
	memset(&m->tcur, 0, sizeof m->tcur);
	sn_buf_reset(&m->norms);
	collect(m, c);
	if (m->nc == 0 && !m->sql)
		return 0;
	resolve(m);

	/* Walk the kept candidates in start order, tracking line/column. */
	size_t cur = 0;
	uint64_t line = c->base_line, col = c->base_col;
	size_t line_start = 0;
	int line_start_known = c->base_col == 0;
	int rc = 0;
	size_t next_slot_of = SIZE_MAX, next_slot = SN_FP_NO_SLOT;
	if (m->sql && c->is_first && c->base_offset == 0)
		sql_line(m, c, 0, 1);
	for (size_t i = 0; i <= m->nc && rc == 0; i++) {
		/* i == m->nc: no candidate left, but an SQL dump's line starts up
		 * to the end of the chunk still move its COPY state */
		const cand *k = i < m->nc ? &m->c[i] : NULL;
		size_t to = k ? k->start : c->emit_to;
		if (!k && !m->sql)
			break;
		if (k && k->rule == UINT32_MAX)
			continue;
		/* the memo slot of this value, and the next one's, loading
		 * while this one is scored */
		size_t slot = SN_FP_NO_SLOT;
		if (k) {
			slot = next_slot_of == i ? next_slot
						 : sn_fp_memo_slot(m->memo, k->rule,
								   m->norms.p + k->norm_off,
								   k->norm_len);
			const cand *n = i + 1 < m->nc ? &m->c[i + 1] : NULL;
			if (n && n->rule != UINT32_MAX) {
				next_slot_of = i + 1;
				next_slot = sn_fp_memo_slot(m->memo, n->rule, m->norms.p + n->norm_off,
							    n->norm_len);
			}
		}
		while (cur < to) {
			const char *nl = memchr(c->data + cur, '\n', to - cur);
			if (!nl) {
				col += sn_utf8_chars(c->data + cur, to - cur);
				cur = to;
				break;
			}
			line++;
			col = 0;
			cur = (size_t)(nl - c->data) + 1;
			line_start = cur;
			line_start_known = 1;
			if (m->sql && c->base_offset + cur > m->sql_seen_to && cur < c->len) {
				sql_line(m, c, cur, line);
				m->sql_seen_to = c->base_offset + cur;
			}
		}
		if (!k)
			break;
		uint64_t abs_start = c->base_offset + k->start;
		if (abs_start < m->last_end)
			continue; /* overlaps a finding reported by the previous chunk */
		if (line == 1 && m->table.detected && !m->table.headerless && !m->tb.active)
			demote_header(m);
		scored sc;
		score(m, c, k, line_start, line_start_known, line, &sc);
		if (!sc.keep)
			continue;
		const sn_rule *r = &m->rs->rules[k->rule];
		const char *norm = m->norms.p + k->norm_off;
		char masked[SN_MASK_MAX];
		if (r->validator)
			r->validator->mask(norm, k->norm_len, masked, sizeof masked);
		else
			sn_mask_generic(norm, k->norm_len, masked, sizeof masked);
		sn_finding f;
		memset(&f, 0, sizeof f);
		f.rule_id = r->id;
		f.category = r->category;
		f.confidence = sc.conf;
		f.loc = m->loc;
		f.line = line;
		f.column = col + 1;
		f.offset = abs_start;
		f.masked = masked;
		f.row = -1;
		f.field = sc.field;
		f.row = sc.row;
		if (m->o.reveal) {
			f.raw = c->data + k->start;
			f.raw_len = k->end - k->start;
			f.normalized = norm;
		}
		sn_fingerprint_memo(m->memo, slot, k->rule, &m->fp[k->rule], norm, k->norm_len,
				    f.fingerprint);
		m->last_end = c->base_offset + k->end;
		rc = cb(&f, payload);
	}
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Tables from document decoders                                           */

int sn_matcher_table_begin(sn_matcher *m, const sn_location *loc, const char *const *cols,
			   size_t ncols)
{
	sn_matcher_begin_unit(m, loc);
	if (!m->tb.rows) {
		m->tb.rows = malloc(SN_TABLE_ROWS * sizeof *m->tb.rows);
		if (!m->tb.rows)
			return sn_error_set(SN_ENOMEM, "out of memory");
	}
	/* Rows may be wider than the names (a title row taken for the header,
	 * a sheet's columns past the named ones): every column up to the
	 * table maximum exists, unnamed ones learn from their values. */
	const char *names[SN_TABLE_MAX_COLS];
	for (size_t i = 0; i < SN_TABLE_MAX_COLS; i++)
		names[i] = cols && i < ncols ? cols[i] : NULL;
	if (sn_table_set(&m->table, cols ? names : NULL, SN_TABLE_MAX_COLS, '\t') < 0)
		return sn_error_set(SN_ENOMEM, "out of memory");
	m->tb.active = 1;
	m->tb.first = 1;
	sn_buf_reset(&m->tb.text);
	m->tb.nrows = 0;
	m->tb.offset = 0;
	m->tb.line = cols ? 2 : 1; /* the header is line 1 */
	m->tb.bytes = 0;
	m->tb.too_long = 0;
	return 0;
}

static int table_flush(sn_matcher *m, int last, sn_finding_fn cb, void *payload)
{
	if (!m->tb.nrows && !last)
		return 0;
	if (m->tb.first) {
		/* unnamed columns learn from their first rows, as header-less
		 * CSV does */
		prepare_columns(m);
		infer_columns(m, m->tb.text.p ? m->tb.text.p : "", m->tb.text.len, 0);
	}
	sn_chunk c;
	memset(&c, 0, sizeof c);
	c.data = m->tb.text.p ? m->tb.text.p : "";
	c.len = m->tb.text.len;
	c.emit_from = 0;
	c.emit_to = c.len;
	c.base_offset = m->tb.offset;
	c.base_line = m->tb.line;
	c.base_col = 0;
	c.is_first = m->tb.first;
	c.is_last = last;
	int rc = c.len ? sn_matcher_scan(m, &c, cb, payload) : 0;
	m->tb.first = 0;
	m->tb.offset += c.len;
	m->tb.bytes += c.len;
	m->tb.line += m->tb.nrows;
	m->tb.nrows = 0;
	sn_buf_reset(&m->tb.text);
	return rc;
}

/* Append a cell as valid UTF-8 on one line: separators and line breaks in
 * the cell become spaces, so the layout stays one row per line. */
static void put_cell(sn_buf *b, const char *p, size_t n, size_t room)
{
	char tmp[1024];
	size_t off = 0;
	if (n > room)
		n = room;
	while (off < n && !b->failed) {
		size_t made = 0;
		size_t used = sn_text_decode(SN_ENC_UTF8, (const uint8_t *)p + off, n - off, 1, tmp,
					     sizeof tmp, &made);
		for (size_t i = 0; i < made; i++) {
			if (tmp[i] == '\t' || tmp[i] == '\n' || tmp[i] == '\r' || tmp[i] == '\v' ||
			    tmp[i] == '\f')
				tmp[i] = ' ';
		}
		sn_buf_put(b, tmp, made);
		if (used == 0)
			break;
		off += used;
	}
}

int sn_matcher_table_row(sn_matcher *m, int64_t row, const char *const *cells,
			 const size_t *lens, size_t ncells, sn_finding_fn cb, void *payload)
{
	if (!m->tb.active)
		return sn_error_set(SN_EINVAL, "table row outside a table");
	size_t start = m->tb.text.len, room = SN_TABLE_ROW_MAX;
	for (size_t i = 0; i < ncells; i++) {
		if (i)
			sn_buf_putc(&m->tb.text, '\t');
		size_t used = m->tb.text.len - start;
		if (cells[i] && lens[i]) {
			if (used + lens[i] > room)
				m->tb.too_long++;
			put_cell(&m->tb.text, cells[i], lens[i], used < room ? room - used : 0);
		}
	}
	sn_buf_putc(&m->tb.text, '\n');
	if (m->tb.text.failed)
		return sn_error_set(SN_ENOMEM, "out of memory");
	m->tb.rows[m->tb.nrows++] = row;
	if (m->tb.nrows == SN_TABLE_ROWS || m->tb.text.len >= SN_TABLE_BATCH)
		return table_flush(m, 0, cb, payload);
	return 0;
}

int sn_matcher_table_end(sn_matcher *m, sn_finding_fn cb, void *payload, uint64_t *bytes,
			 uint64_t *cut)
{
	/* without a callback the rest is dropped (the scan is stopping) */
	int rc = m->tb.active && cb ? table_flush(m, 1, cb, payload) : 0;
	*bytes = m->tb.bytes;
	*cut = m->tb.too_long;
	m->tb.active = 0;
	return rc;
}
