/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Rule compilation: the PCRE2 patterns of one rule (unanchored, anchored,
 * context before and after, all JIT-compiled) and the fast-path anchor.
 *
 * The anchor is derived from what PCRE2 itself knows about the compiled
 * pattern (first code unit, start bitmap, minimum length) plus one textual
 * rule for a leading one-class negative lookbehind, so it is always a
 * necessary condition for a match start and never a guess: the fast path may
 * try fewer positions than the slow path, but never skips a real match.  A
 * literal anchor's walk-back classes (anchor.back, anchor.back_except) are
 * declared by the rule, like `prefix`, and only compiled here.
 */
#include <stdio.h>
#include <string.h>

#include "match/rule.h"
#include "speurneus/error.h"

/* Large enough for every PCRE2 error message. */
#define SN_PCRE2_MSG_MAX 256

static void report(const sn_rule *r, unsigned line, unsigned col, sn_diag_cb cb, void *payload,
		   const char *what, int err, PCRE2_SIZE off)
{
	char pmsg[SN_PCRE2_MSG_MAX];
	char msg[SN_PCRE2_MSG_MAX + 64];

	if (pcre2_get_error_message(err, (PCRE2_UCHAR *)pmsg, sizeof pmsg) < 0)
		snprintf(pmsg, sizeof pmsg, "error %d", err);
	snprintf(msg, sizeof msg, "%s does not compile: %s at offset %zu", what, pmsg,
		 (size_t)off);
	if (cb)
		cb(r->file ? r->file : "", line, col, msg, payload);
}

/* Characters (not bytes) in s[0..off): yaml columns count characters. */
static unsigned chars_before(const char *s, size_t off)
{
	unsigned n = 0;
	for (size_t i = 0; i < off && s[i]; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

static pcre2_code *compile(const char *pat, uint32_t opts, int *err, PCRE2_SIZE *off)
{
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts, err, off,
				       NULL);
	/* A pattern the JIT cannot handle still works in the interpreter, so a
	 * JIT failure is not an error. */
	if (re)
		(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

/*
 * Skip a bracket class starting at p[0] == '['; returns the index just past
 * its closing ']', or 0 when the class is not understood (a \Q...\E quote,
 * or no closing bracket).
 */
static size_t skip_class(const char *p)
{
	size_t i = 1;
	if (p[i] == '^')
		i++;
	if (p[i] == ']') /* a ']' first in the class is a literal */
		i++;
	while (p[i]) {
		if (p[i] == '\\') {
			if (p[i + 1] == 'Q' || p[i + 1] == 'E' || p[i + 1] == '\0')
				return 0;
			i += 2;
		} else if (p[i] == '[' && p[i + 1] == ':') {
			const char *end = strstr(p + i + 2, ":]");
			if (!end)
				return 0;
			i = (size_t)(end - p) + 2;
		} else if (p[i] == ']') {
			return i + 1;
		} else {
			i++;
		}
	}
	return 0;
}

/*
 * 1 when `p` might contain an alternation at the top level (so a leading
 * assertion would not cover every match), or a construct this scan does not
 * follow (inline extended mode, where '#' starts a comment; \Q...\E).
 * Conservative: "might" is enough to say yes.
 */
static int may_alternate_at_top(const char *p)
{
	static const char option_chars[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ^-";
	int depth = 0;
	size_t i = 0;
	while (p[i]) {
		char c = p[i];
		if (c == '\\') {
			if (p[i + 1] == 'Q' || p[i + 1] == '\0')
				return 1;
			i += 2;
		} else if (c == '[') {
			size_t n = skip_class(p + i);
			if (!n)
				return 1;
			i += n;
		} else if (c == '(') {
			if (p[i + 1] == '?' && p[i + 2] == '#') {
				const char *end = strchr(p + i, ')');
				if (!end)
					return 1;
				i = (size_t)(end - p) + 1;
				continue;
			}
			if (p[i + 1] == '?') {
				/* option settings such as (?x) or (?i-x:...) */
				size_t k = i + 2;
				while (p[k] && strchr(option_chars, p[k])) {
					if (p[k] == 'x')
						return 1;
					k++;
				}
			}
			depth++;
			i++;
		} else if (c == ')') {
			depth--;
			i++;
		} else if (c == '|') {
			if (depth <= 0)
				return 1;
			i++;
		} else {
			i++;
		}
	}
	return 0;
}

/*
 * boundary[]: when the pattern starts with "(?<![...])" (one bracket class)
 * and nothing after it alternates at the top level, every match needs the
 * preceding character outside that class.  For an ASCII preceding byte that
 * character is the byte itself; a byte >= 0x80 is part of a multi-byte
 * character and is never marked.
 */
static int derive_boundary(sn_rule *r, uint32_t opts)
{
	static const char lead[] = "(?<![";
	const char *p = r->pattern;
	int rc = 0;
	int err;
	PCRE2_SIZE off;
	char cls[1024];
	pcre2_code *re = NULL;
	pcre2_match_data *md = NULL;

	memset(r->boundary, 0, sizeof r->boundary);
	r->has_boundary = 0;
	if (strncmp(p, lead, sizeof lead - 1) != 0)
		return 0;
	size_t n = skip_class(p + 4);
	if (!n || p[4 + n] != ')' || n >= sizeof cls)
		return 0;
	if (may_alternate_at_top(p + 4 + n + 1))
		return 0;
	memcpy(cls, p + 4, n);
	cls[n] = '\0';
	re = pcre2_compile((PCRE2_SPTR)cls, n, opts | PCRE2_ANCHORED, &err, &off, NULL);
	md = re ? pcre2_match_data_create_from_pattern(re, NULL) : NULL;
	if (!re || !md)
		goto done; /* not understood: no boundary, still exact */
	for (int b = 0; b < 128; b++) {
		char s[1] = { (char)b };
		if (pcre2_match(re, (PCRE2_SPTR)s, 1, 0, 0, md, NULL) >= 0)
			r->boundary[b] = 1;
	}
	r->has_boundary = 1;
	rc = 1;
done:
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return rc;
}

/* first[]: bytes that can start a match, from PCRE2's own start analysis.
 * Returns 1 when a set is known. */
static int derive_first(sn_rule *r)
{
	uint32_t type = 0, cu = 0;
	const uint8_t *bm = NULL;
	int any = 0;

	memset(r->first, 0, sizeof r->first);
	if (pcre2_pattern_info(r->re, PCRE2_INFO_FIRSTCODETYPE, &type) != 0)
		return 0;
	if (type == 1) {
		if (pcre2_pattern_info(r->re, PCRE2_INFO_FIRSTCODEUNIT, &cu) != 0 || cu > 0xFF)
			return 0;
		r->first[cu] = 1;
		/* An inline (?i) is not visible in the options, so an ASCII
		 * letter always gets its other case too: a superset is safe. */
		if (cu >= 'a' && cu <= 'z')
			r->first[cu - 32] = 1;
		else if (cu >= 'A' && cu <= 'Z')
			r->first[cu + 32] = 1;
		return 1;
	}
	if (type != 0)
		return 0; /* start of line: no byte set */
	if (pcre2_pattern_info(r->re, PCRE2_INFO_FIRSTBITMAP, &bm) != 0 || !bm)
		return 0;
	for (int b = 0; b < 256; b++) {
		if (bm[b / 8] & (1u << (b % 8))) {
			r->first[b] = 1;
			any = 1;
		}
	}
	return any;
}

/*
 * A one-character class (a `prefix` entry, anchor.back, anchor.back_except)
 * as a byte table: compiled with the rule's options and tested on every ASCII
 * byte; bytes >= 0x80 are parts of characters and get `high`.  Returns 0, or
 * -1 after reporting.
 */
static int class_bytes(const sn_rule *r, const char *src, const char *what, unsigned line,
		       unsigned col, uint32_t opts, uint8_t *set, uint8_t high, sn_diag_cb cb,
		       void *payload)
{
	int err, rc = -1;
	PCRE2_SIZE off;
	pcre2_code *cls = compile(src, opts | PCRE2_ANCHORED, &err, &off);
	pcre2_match_data *md = NULL;

	if (!cls) {
		report(r, line, col, cb, payload, what, err, off);
		return -1;
	}
	md = pcre2_match_data_create(1, NULL);
	if (!md) {
		sn_error_set(SN_ENOMEM, "out of memory");
		goto done;
	}
	for (int b = 0; b < 256; b++) {
		char one[1] = { (char)b };
		set[b] = b >= 0x80 ? high
				   : (pcre2_match(cls, (PCRE2_SPTR)one, 1, 0, 0, md, NULL) >= 0 &&
				      pcre2_get_ovector_pointer(md)[1] == 1);
	}
	rc = 0;
done:
	pcre2_match_data_free(md);
	pcre2_code_free(cls);
	return rc;
}

/* One of the literal anchor's classes: a single bracket class. */
static int compile_class(const sn_rule *r, const char *src, const char *what, unsigned line,
			 unsigned col, uint32_t opts, uint8_t *set, uint8_t high, sn_diag_cb cb,
			 void *payload)
{
	char msg[128];

	if (src[0] != '[' || skip_class(src) != strlen(src)) {
		snprintf(msg, sizeof msg, "%s must be one bracket class such as [A-Za-z0-9._-]",
			 what);
		if (cb)
			cb(r->file ? r->file : "", line, col, msg, payload);
		return -1;
	}
	return class_bytes(r, src, what, line, col, opts, set, high, cb, payload);
}

/*
 * The declared prefix: each class as a byte table (bytes other than ASCII
 * are parts of characters and always allowed), and per position of the
 * longest alternative, the alternatives each byte allows there, so that the
 * matcher checks all of them in one pass.  Over the first nprefix positions,
 * which every alternative has, a byte is allowed by the union of their
 * classes when any bit is set: what any match may start with, for the
 * matcher's per-byte tables.  Returns
 * 0, 1 after reporting a bad class, or SN_ENOMEM.
 */
static int compile_prefix(sn_rule *r, uint32_t opts, sn_diag_cb cb, void *payload)
{
	int bad = 0;
	size_t n = SN_PREFIX_MAX;

	r->prefix_cls = calloc(r->nprefix_src, sizeof *r->prefix_cls);
	if (!r->prefix_cls)
		return sn_error_set(SN_ENOMEM, "out of memory");
	for (size_t k = 0; k < r->nprefix_src; k++) {
		if (class_bytes(r, r->prefix_src[k], "prefix", r->line, r->col, opts,
				r->prefix_cls[k], 1, cb, payload) < 0)
			bad = 1;
	}
	if (bad)
		return 1;
	_Static_assert(SN_PREFIX_ALTS <= 8, "prefix_alts holds a bit per alternative");
	size_t span = 0;
	for (size_t a = 0; a < r->nprefix_alt; a++) {
		if (r->prefix_alt[a] < n)
			n = r->prefix_alt[a];
		if (r->prefix_alt[a] > span)
			span = r->prefix_alt[a];
	}
	r->nprefix = n;
	r->prefix_alts = calloc(span ? span : 1, sizeof *r->prefix_alts);
	if (!r->prefix_alts)
		return sn_error_set(SN_ENOMEM, "out of memory");
	r->prefix_span = span;
	for (size_t a = 0, k = 0; a < r->nprefix_alt; k += r->prefix_alt[a++])
		for (size_t i = 0; i < span; i++)
			for (int b = 0; b < 256; b++)
				if (i >= r->prefix_alt[a] || r->prefix_cls[k + i][b])
					r->prefix_alts[i][b] |= (uint8_t)(1u << a);
	return 0;
}

/* The literal anchor's walk-back classes, when declared. */
static int compile_back(sn_rule *r, uint32_t opts, sn_diag_cb cb, void *payload)
{
	int bad = 0;

	r->has_back = 0;
	r->back_nexcept = 0;
	memset(r->back_except, 0, sizeof r->back_except);
	if (!r->anchor_back)
		return 0;
	if (compile_class(r, r->anchor_back, "anchor.back", r->back_line, r->back_col, opts,
			  r->back, 1, cb, payload) < 0)
		bad = 1;
	if (r->anchor_back_except &&
	    compile_class(r, r->anchor_back_except, "anchor.back_except", r->except_line,
			  r->except_col, opts, r->back_except, 0, cb, payload) < 0)
		bad = 1;
	if (bad)
		return -1;
	for (int b = 0; b < 256; b++) {
		if (r->back_except[b]) {
			r->back_nexcept++;
			r->back_except_byte = (uint8_t)b;
		}
	}
	r->has_back = 1;
	return 0;
}

static void byte_text(int b, char *out, size_t n)
{
	if (b > 0x20 && b < 0x7F)
		snprintf(out, n, "%c", b);
	else
		snprintf(out, n, "\\x%02x", (unsigned)b);
}

/* "[0-9A-Z]"-style text for a byte set, cut to fit `n` bytes. */
static void describe_set(const uint8_t *set, char *out, size_t n)
{
	size_t len = 0;
	int b = 0;

	out[0] = '\0';
	if (n < 8)
		return;
	out[len++] = '[';
	while (b < 256) {
		if (!set[b]) {
			b++;
			continue;
		}
		int e = b;
		while (e + 1 < 256 && set[e + 1])
			e++;
		char item[24];
		char lo[6], hi[6];
		byte_text(b, lo, sizeof lo);
		byte_text(e, hi, sizeof hi);
		if (e == b)
			snprintf(item, sizeof item, "%s", lo);
		else if (e == b + 1)
			snprintf(item, sizeof item, "%s%s", lo, hi);
		else
			snprintf(item, sizeof item, "%s-%s", lo, hi);
		size_t il = strlen(item);
		if (len + il + 5 > n) {
			memcpy(out + len, "...", 3);
			len += 3;
			break;
		}
		memcpy(out + len, item, il);
		len += il;
		b = e + 1;
	}
	out[len++] = ']';
	out[len] = '\0';
}

static void describe(sn_rule *r)
{
	char set[48];

	switch (r->anchor) {
	case SN_ANCHOR_LITERAL:
		snprintf(r->anchor_desc, sizeof r->anchor_desc,
			 "literal '%.20s' (\u2264%u bytes in%s)", r->anchor_literal,
			 r->anchor_before, r->has_back ? ", walks back" : "");
		break;
	case SN_ANCHOR_FIRST:
		describe_set(r->first, set, r->has_boundary ? 32 : sizeof set);
		snprintf(r->anchor_desc, sizeof r->anchor_desc, "first-byte %s%s", set,
			 r->has_boundary ? " after boundary" : "");
		break;
	default:
		snprintf(r->anchor_desc, sizeof r->anchor_desc,
			 "none (PCRE2 over the whole chunk)");
		break;
	}
}

static int has_ascii_letter(const char *s)
{
	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
			return 1;
	}
	return 0;
}

int sn_rule_compile(sn_rule *r, sn_diag_cb cb, void *payload)
{
	uint32_t opts = PCRE2_UTF | (r->caseless ? PCRE2_CASELESS : 0);
	uint32_t minlen = 0;
	int err, bad = 0;
	PCRE2_SIZE off;

	if (!r->pattern)
		return sn_error_set(SN_ERULES, "rule without a pattern");
	sn_wordlist_finish(&r->keywords);
	sn_wordlist_finish(&r->anti_keywords);
	sn_wordlist_finish(&r->columns);
	/* With a literal anchor the fast path bounds each unanchored search
	 * by the last start the literal found allows (pcre2_set_offset_limit). */
	r->re = compile(r->pattern, opts | (r->anchor_literal ? PCRE2_USE_OFFSET_LIMIT : 0), &err,
			&off);
	if (!r->re) {
		unsigned col = r->pattern_col;
		if (r->pattern_col_exact)
			col += chars_before(r->pattern, off);
		report(r, r->pattern_line, col, cb, payload, "pattern", err, off);
		bad = 1;
	} else {
		r->re_anchored = compile(r->pattern, opts | PCRE2_ANCHORED, &err, &off);
		if (!r->re_anchored) {
			report(r, r->pattern_line, r->pattern_col, cb, payload, "pattern", err,
			       off);
			bad = 1;
		}
	}
	if (r->context_before) {
		r->re_before = compile(r->context_before, opts | PCRE2_ENDANCHORED, &err, &off);
		if (!r->re_before) {
			report(r, r->line, r->col, cb, payload, "context_before", err, off);
			bad = 1;
		}
	}
	if (r->context_after) {
		r->re_after = compile(r->context_after, opts | PCRE2_ANCHORED, &err, &off);
		if (!r->re_after) {
			report(r, r->line, r->col, cb, payload, "context_after", err, off);
			bad = 1;
		}
	}
	if (r->weak_values) {
		r->re_weak = compile(r->weak_values, opts | PCRE2_ANCHORED | PCRE2_ENDANCHORED, &err,
				     &off);
		if (!r->re_weak) {
			report(r, r->line, r->col, cb, payload, "weak_values", err, off);
			bad = 1;
		}
	}
	if (r->nprefix_alt) {
		int pr = compile_prefix(r, opts, cb, payload);
		if (pr < 0)
			return pr;
		bad |= pr;
	}
	if (r->weak_forms) {
		r->re_weak_form = compile(r->weak_forms, opts | PCRE2_ANCHORED | PCRE2_ENDANCHORED,
					  &err, &off);
		if (!r->re_weak_form) {
			report(r, r->line, r->col, cb, payload, "weak_forms", err, off);
			bad = 1;
		}
	}
	if (compile_back(r, opts, cb, payload) < 0)
		bad = 1;
	/* memmem finds the literal case-sensitively; a caseless rule could
	 * match it in another case and the fast path would miss that match. */
	if (r->anchor_literal && r->caseless && has_ascii_letter(r->anchor_literal)) {
		if (cb)
			cb(r->file ? r->file : "", r->line, r->col,
			   "anchor literal with letters in a caseless rule", payload);
		bad = 1;
	}
	if (bad)
		return sn_error_set(SN_ERULES, "rule '%s' does not compile", r->id ? r->id : "?");

	int have_first = derive_first(r);
	derive_boundary(r, opts);
	pcre2_pattern_info(r->re, PCRE2_INFO_MINLENGTH, &minlen);
	if (minlen == 0)
		r->anchor = SN_ANCHOR_NONE; /* an empty match has no start byte */
	else if (r->anchor_literal)
		r->anchor = SN_ANCHOR_LITERAL;
	else if (have_first)
		r->anchor = SN_ANCHOR_FIRST;
	else
		r->anchor = SN_ANCHOR_NONE;
	describe(r);
	return 0;
}
