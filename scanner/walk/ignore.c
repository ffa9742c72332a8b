/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * gitignore-syntax rules for .speurneusignore, .gitignore and --exclude.
 *
 * No Debian library implements gitignore semantics, so the rule grammar lives
 * here while single path segments are matched with fnmatch(3), which already
 * provides '*', '?', bracket expressions and backslash escapes.  A pattern
 * without a '/' (a trailing one aside) is compared with the last segment of
 * the path at any depth; any other pattern is anchored to the ignore file's
 * directory and compared segment by segment, where a segment of '**' stands
 * for any number of directories (at least one when it ends the pattern).
 */
#include "walk/walk.h"
#include "walk/walk_internal.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "speurneus/error.h"

enum { RULE_NEGATE = 1, RULE_DIR_ONLY = 2, RULE_ANCHORED = 4 };

struct ig_rule {
	char *pat;  /* pattern without '!', leading '/' and trailing '/' */
	char **seg; /* anchored rules: pat split at '/' (one allocation) */
	size_t nseg;
	unsigned flags;
};

struct sn_ignore {
	char *base;
	size_t base_len;
	struct ig_rule *rules;
	size_t nrules, cap;
	int anchored; /* some rule needs the path split into segments */
};

/* Paths up to this many bytes and segments are matched without allocating. */
#define SPLIT_STACK_BYTES 1024
#define SPLIT_STACK_SEGS 64

static int is_globstar(const char *s)
{
	size_t i = 0;

	while (s[i] == '*')
		i++;
	return i >= 2 && s[i] == '\0';
}

static int rule_add(sn_ignore *ig, const char *p, size_t n, unsigned flags)
{
	struct ig_rule r = {.flags = flags};

	if (ig->nrules == ig->cap) {
		size_t cap = ig->cap ? ig->cap * 2 : 16;
		struct ig_rule *t;

		if (ig->nrules >= SN_IGNORE_RULES_MAX)
			return sn_error_set(SN_ELIMIT, "more than %zu ignore rules",
					    (size_t)SN_IGNORE_RULES_MAX);
		t = realloc(ig->rules, cap * sizeof *t);
		if (!t)
			return sn_error_set(SN_ENOMEM, "out of memory for ignore rules");
		ig->rules = t;
		ig->cap = cap;
	}
	r.pat = malloc(n + 1);
	if (!r.pat)
		return sn_error_set(SN_ENOMEM, "out of memory for ignore rules");
	memcpy(r.pat, p, n);
	r.pat[n] = '\0';
	if (flags & RULE_ANCHORED) {
		char *text;
		size_t i;

		r.nseg = 1;
		for (i = 0; i < n; i++)
			r.nseg += p[i] == '/';
		r.seg = malloc(r.nseg * sizeof *r.seg + n + 1);
		if (!r.seg) {
			free(r.pat);
			return sn_error_set(SN_ENOMEM, "out of memory for ignore rules");
		}
		text = (char *)(r.seg + r.nseg);
		memcpy(text, p, n);
		text[n] = '\0';
		r.seg[0] = text;
		r.nseg = 1;
		for (i = 0; i < n; i++) {
			if (text[i] == '/') {
				text[i] = '\0';
				r.seg[r.nseg++] = text + i + 1;
			}
		}
		ig->anchored = 1;
	}
	ig->rules[ig->nrules++] = r;
	return 0;
}

static int parse_line(sn_ignore *ig, const char *s, size_t n)
{
	unsigned flags = 0;

	/* Ignore files edited on Windows keep working. */
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n == 0 || s[0] == '#')
		return 0;
	/* Trailing spaces go unless the last one is escaped by an odd number
	 * of backslashes; the escape stays for fnmatch to resolve. */
	while (n > 0 && s[n - 1] == ' ') {
		size_t bs = 0;

		while (bs + 1 < n && s[n - 2 - bs] == '\\')
			bs++;
		if (bs % 2)
			break;
		n--;
	}
	if (n > 0 && s[0] == '!') {
		flags |= RULE_NEGATE;
		s++;
		n--;
	}
	if (n > 0 && s[n - 1] == '/') {
		flags |= RULE_DIR_ONLY;
		n--;
	}
	if (memchr(s, '/', n))
		flags |= RULE_ANCHORED;
	if (n > 0 && s[0] == '/') {
		s++;
		n--;
	}
	if (n == 0)
		return 0;
	return rule_add(ig, s, n, flags);
}

int sn_ignore_parse(sn_ignore **out, const char *base, const char *text, size_t n)
{
	sn_ignore *ig = NULL;
	size_t i = 0, blen;
	int rc = 0;

	if (!out || !base || (!text && n))
		return sn_error_set(SN_EINVAL, "sn_ignore_parse: invalid argument");
	*out = NULL;
	ig = calloc(1, sizeof *ig);
	if (!ig) {
		rc = sn_error_set(SN_ENOMEM, "out of memory for ignore rules");
		goto done;
	}
	/* "dir/" and "dir" name the same directory; "/" stays "/". */
	blen = strlen(base);
	while (blen > 1 && base[blen - 1] == '/')
		blen--;
	ig->base = malloc(blen + 1);
	if (!ig->base) {
		rc = sn_error_set(SN_ENOMEM, "out of memory for ignore rules");
		goto done;
	}
	memcpy(ig->base, base, blen);
	ig->base[blen] = '\0';
	ig->base_len = blen;

	/* A UTF-8 byte order mark is not part of the first pattern. */
	if (n >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < n) {
		const char *nl = memchr(text + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - text) : n;

		rc = parse_line(ig, text + i, end - i);
		if (rc < 0)
			goto done;
		i = end + 1;
	}
	*out = ig;
	ig = NULL;
done:
	sn_ignore_free(ig);
	return rc;
}

void sn_ignore_free(sn_ignore *ig)
{
	size_t i;

	if (!ig)
		return;
	for (i = 0; i < ig->nrules; i++) {
		free(ig->rules[i].pat);
		free(ig->rules[i].seg);
	}
	free(ig->rules);
	free(ig->base);
	free(ig);
}

size_t sn_ignore_count(const sn_ignore *ig)
{
	return ig ? ig->nrules : 0;
}

/*
 * Anchored rule against path segments ps[0..k).  Dynamic programming over
 * (rule segment, path segment) instead of backtracking, so patterns with
 * many '**' stay linear in the product of the two lengths.  `next` and `row`
 * hold k + 1 flags each.
 */
static int match_segments(const struct ig_rule *r, char *const *ps, size_t k, unsigned char *row,
			  unsigned char *next)
{
	size_t i, j;

	for (j = 0; j <= k; j++)
		next[j] = j == k;
	for (i = r->nseg; i-- > 0;) {
		unsigned char *t;

		if (is_globstar(r->seg[i])) {
			if (i == r->nseg - 1) {
				/* A trailing globstar matches what is inside the
				 * directory, not the directory itself. */
				for (j = 0; j <= k; j++)
					row[j] = j < k;
			} else {
				unsigned char any = 0;

				for (j = k + 1; j-- > 0;) {
					any |= next[j];
					row[j] = any;
				}
			}
		} else {
			row[k] = 0;
			for (j = 0; j < k; j++)
				row[j] = next[j + 1] && fnmatch(r->seg[i], ps[j], 0) == 0;
		}
		t = row;
		row = next;
		next = t;
	}
	return next[0];
}

int sn_ignore_match_rel(const sn_ignore *ig, const char *rel, int is_dir)
{
	char stack_text[SPLIT_STACK_BYTES];
	char *stack_segs[SPLIT_STACK_SEGS];
	unsigned char stack_dp[2 * (SPLIT_STACK_SEGS + 1)];
	char *text = NULL, **ps = NULL, *heap = NULL;
	unsigned char *dp = NULL;
	const char *name;
	size_t len, k = 0, i;
	int res = 0;

	if (!ig || !rel || !*rel)
		return 0;
	len = strlen(rel);
	name = strrchr(rel, '/');
	name = name ? name + 1 : rel;
	for (i = ig->nrules; i-- > 0;) {
		const struct ig_rule *r = &ig->rules[i];
		int hit;

		if ((r->flags & RULE_DIR_ONLY) && !is_dir)
			continue;
		if (!(r->flags & RULE_ANCHORED)) {
			hit = fnmatch(r->pat, name, 0) == 0;
		} else {
			if (!text) {
				size_t nseg = 1, j;

				for (j = 0; j < len; j++)
					nseg += rel[j] == '/';
				if (len < sizeof stack_text && nseg <= SPLIT_STACK_SEGS) {
					text = stack_text;
					ps = stack_segs;
					dp = stack_dp;
				} else {
					heap = malloc(len + 1 + nseg * sizeof *ps + 2 * (nseg + 1));
					/* Failing open scans more, never less. */
					if (!heap)
						goto done;
					ps = (char **)heap;
					text = heap + nseg * sizeof *ps;
					dp = (unsigned char *)text + len + 1;
				}
				memcpy(text, rel, len + 1);
				ps[k++] = text;
				for (j = 0; j < len; j++) {
					if (text[j] == '/') {
						text[j] = '\0';
						ps[k++] = text + j + 1;
					}
				}
			}
			hit = match_segments(r, ps, k, dp, dp + k + 1);
		}
		if (hit) {
			res = (r->flags & RULE_NEGATE) ? -1 : 1;
			break;
		}
	}
done:
	free(heap);
	return res;
}

/* The part of `path` below the ignore text's directory, or NULL. */
static const char *relative_to_base(const sn_ignore *ig, const char *path)
{
	size_t n = ig->base_len;

	if (n == 0)
		return path;
	if (strncmp(path, ig->base, n) != 0)
		return NULL;
	if (ig->base[n - 1] == '/')
		return path + n;
	if (path[n] == '/')
		return path + n + 1;
	return NULL;
}

int sn_ignore_match(const sn_ignore *ig, const char *path, int is_dir)
{
	const char *rel;
	char *copy = NULL;
	size_t i, len;
	int res = 0;

	if (!ig || !path)
		return 0;
	rel = relative_to_base(ig, path);
	if (!rel || !*rel)
		return 0;
	len = strlen(rel);
	/* git never looks inside an excluded directory, so nothing below it
	 * can be re-included by a later negation. */
	if (memchr(rel, '/', len)) {
		copy = malloc(len + 1);
		if (!copy)
			goto done;
		memcpy(copy, rel, len + 1);
		for (i = 1; i < len; i++) {
			if (copy[i] != '/')
				continue;
			copy[i] = '\0';
			if (sn_ignore_match_rel(ig, copy, 1) == 1) {
				res = 1;
				goto done;
			}
			copy[i] = '/';
		}
	}
	res = sn_ignore_match_rel(ig, rel, is_dir);
done:
	free(copy);
	return res;
}
