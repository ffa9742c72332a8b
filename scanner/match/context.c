/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Keyword windows and tabular layout (see context.h).
 *
 * Keywords are compared as word sequences, not substrings, so "bel" never
 * fires inside "label" and "ras" never inside "gras"; compound headers such as
 * "klant_bsn" or "telefoonnummer mobiel" still match because their words are
 * compared one by one.
 */
#include "match/context.h"

#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "speurneus/error.h"

uint32_t sn_token_hash(const char *p, size_t n)
{
	return (uint32_t)(sn_hash_bytes((uint64_t)n * 0x9E3779B97F4A7C15ull, p, n) >> 32);
}

/* Per byte: 0 when it is not part of a word, else the byte lower-cased
 * (ASCII letters and digits, and every byte of a non-ASCII character). */
static const uint8_t word_lower[256] = {
#define W4(b) (b), (b) + 1, (b) + 2, (b) + 3
#define W16(b) W4(b), W4((b) + 4), W4((b) + 8), W4((b) + 12)
	[0x30] = W4(0x30), W4(0x34), '8', '9',
	[0x41] = 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	[0x50] = 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z',
	[0x61] = 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	[0x70] = 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z',
	[0x80] = W16(0x80), W16(0x90), W16(0xA0), W16(0xB0),
	W16(0xC0), W16(0xD0), W16(0xE0), W16(0xF0),
#undef W16
#undef W4
};

size_t sn_tokenize(const char *text, size_t n, char *scratch, sn_token *out, size_t max)
{
	const uint8_t *t = (const uint8_t *)text;
	size_t nt = 0, i = 0;
	while (i < n && nt < max) {
		while (i < n && !word_lower[t[i]])
			i++;
		if (i >= n)
			break;
		size_t start = i;
		uint8_t c;
		while (i < n && (c = word_lower[t[i]]) != 0)
			scratch[i++] = (char)c;
		out[nt].p = scratch + start;
		out[nt].n = i - start;
		out[nt].hash = sn_token_hash(out[nt].p, out[nt].n);
		nt++;
	}
	return nt;
}

static int seq_at(const sn_wordseq *w, const sn_token *t, size_t nt, size_t at)
{
	if (w->ntok == 0 || at + w->ntok > nt)
		return 0;
	for (size_t k = 0; k < w->ntok; k++) {
		if (t[at + k].hash != w->hash[k] || t[at + k].n != w->len[k] ||
		    memcmp(t[at + k].p, w->tok[k], w->len[k]) != 0)
			return 0;
	}
	return 1;
}

void sn_wordlist_finish(sn_wordlist *l)
{
	memset(l->bloom, 0, sizeof l->bloom);
	for (size_t k = 0; k < l->n; k++) {
		if (l->v[k].ntok) {
			uint32_t b = l->v[k].hash[0] % SN_BLOOM_BITS;
			l->bloom[b / 64] |= 1ull << (b % 64);
		}
	}
}

int sn_wordlist_find(const sn_wordlist *l, const sn_token *t, size_t nt)
{
	for (size_t i = 0; i < nt; i++) {
		uint32_t b = t[i].hash % SN_BLOOM_BITS;
		if (!(l->bloom[b / 64] >> (b % 64) & 1))
			continue;
		for (size_t k = 0; k < l->n; k++) {
			if (seq_at(&l->v[k], t, nt, i))
				return 1;
		}
	}
	return 0;
}

void sn_table_clear(sn_table *t)
{
	for (size_t i = 0; i < t->ncols; i++) {
		free(t->headers[i]);
		free(t->htok[i]);
	}
	free(t->scratch);
	memset(t, 0, sizeof *t);
}

/* Number of `d` outside double quotes in line[0..n). */
static size_t count_delims(const char *line, size_t n, char d)
{
	size_t c = 0;
	int q = 0;
	for (size_t i = 0; i < n; i++) {
		if (line[i] == '"')
			q = !q;
		else if (line[i] == d && !q)
			c++;
	}
	return c;
}

static size_t line_len(const char *p, size_t n)
{
	const char *nl = memchr(p, '\n', n);
	size_t l = nl ? (size_t)(nl - p) : n;
	if (l > 0 && p[l - 1] == '\r')
		l--;
	return l;
}

/* A column name has letters and is not mostly digits: "bsn", "Telefoon 2"
 * are names, "111222333", "2024-03-14" are data. */
static int looks_like_header_cell(const char *c, size_t n)
{
	size_t letters = 0, digits = 0, run = 0, longest = 0;
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = (uint8_t)c[i];
		int digit = b >= '0' && b <= '9';
		if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || b >= 0x80 || b == '_')
			letters++;
		else if (digit)
			digits++;
		run = digit ? run + 1 : (b == ' ' || b == '-' || b == '.') ? run : 0;
		if (run > longest)
			longest = run;
	}
	/* an e-mail address or a long run of digits is data, whatever else:
	 * a name must never be the value it names (names are output as-is) */
	if (memchr(c, '@', n) || longest >= 6)
		return 0;
	return letters > 0 && digits * 2 <= n;
}

static void trim_cell(const char **c, size_t *n)
{
	while (*n && (**c == ' ' || **c == '\t')) {
		(*c)++;
		(*n)--;
	}
	while (*n && ((*c)[*n - 1] == ' ' || (*c)[*n - 1] == '\t'))
		(*n)--;
	if (*n >= 2 && (*c)[0] == '"' && (*c)[*n - 1] == '"') {
		(*c)++;
		*n -= 2;
	}
}

void sn_table_detect(sn_table *t, const char *data, size_t len)
{
	static const char delims[] = { ',', ';', '\t', '|' };
	sn_table_clear(t);
	if (len == 0)
		return;
	size_t hl = line_len(data, len < SN_TABLE_MAX_HEADER ? len : SN_TABLE_MAX_HEADER);
	if (hl == len && len >= SN_TABLE_MAX_HEADER)
		return;
	char best = 0;
	size_t best_n = 0;
	for (size_t i = 0; i < sizeof delims; i++) {
		size_t c = count_delims(data, hl, delims[i]);
		if (c > best_n) {
			best_n = c;
			best = delims[i];
		}
	}
	if (best_n == 0 || best_n + 1 > SN_TABLE_MAX_COLS)
		return;
	/* The next few complete lines must have the same number of cells. */
	size_t off = hl < len ? hl + 1 : len;
	if (off < len && data[off - 1] == '\r')
		off++;
	int lines_checked = 0, agree = 0;
	while (off < len && lines_checked < 5) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t l = line_len(data + off, len - off);
		if (!nl) {
			/* an incomplete last line agrees or says nothing (the
			 * chunk may end inside it) */
			if (l > 0 && count_delims(data + off, l, best) == best_n)
				agree++;
			break;
		}
		if (l > 0 && count_delims(data + off, l, best) != best_n)
			return;
		agree += l > 0;
		off = (size_t)(nl - data) + 1;
		lines_checked++;
	}
	/* One line with a comma in it is a sentence, not a table: a header
	 * needs at least one line of cells below it. */
	if (!agree)
		return;
	/* The header cells must look like names. */
	size_t ncells = 0, named = 0;
	const char *cells[SN_TABLE_MAX_COLS];
	size_t cell_n[SN_TABLE_MAX_COLS];
	size_t start = 0;
	int q = 0;
	for (size_t i = 0; i <= hl; i++) {
		if (i < hl && data[i] == '"')
			q = !q;
		if (i == hl || (data[i] == best && !q)) {
			const char *c = data + start;
			size_t n = i - start;
			trim_cell(&c, &n);
			cells[ncells] = c;
			cell_n[ncells] = n;
			if (looks_like_header_cell(c, n))
				named++;
			ncells++;
			start = i + 1;
		}
	}
	if (ncells < 2)
		return;
	size_t nonempty = 0;
	for (size_t i = 0; i < ncells; i++)
		nonempty += cell_n[i] > 0;
	if (named < nonempty) {
		/* The first line is data: a table without a header, provided
		 * there were further lines that agreed on the column count. */
		if (lines_checked >= 2) {
			t->ncols = ncells;
			t->delim = best;
			t->detected = 1;
			t->headerless = 1;
		}
		return;
	}
	t->scratch = malloc(hl + 1);
	if (!t->scratch)
		return;
	t->nscratch = hl + 1;
	size_t used = 0;
	for (size_t i = 0; i < ncells; i++) {
		t->headers[i] = strndup(cells[i], cell_n[i]);
		t->htok[i] = calloc(32, sizeof(sn_token));
		if (!t->headers[i] || !t->htok[i]) {
			t->ncols = i + 1;
			sn_table_clear(t);
			return;
		}
		t->nhtok[i] = sn_tokenize(cells[i], cell_n[i], t->scratch + used, t->htok[i], 32);
		used += cell_n[i];
	}
	t->ncols = ncells;
	t->delim = best;
	t->detected = 1;
}

int sn_table_set(sn_table *t, const char *const *cols, size_t ncols, char delim)
{
	sn_table_clear(t);
	if (ncols > SN_TABLE_MAX_COLS)
		ncols = SN_TABLE_MAX_COLS;
	size_t total = 0;
	for (size_t i = 0; cols && i < ncols; i++)
		total += cols[i] ? strnlen(cols[i], 256) : 0;
	t->scratch = malloc(total + 1);
	if (!t->scratch)
		return SN_ENOMEM;
	t->nscratch = total + 1;
	size_t used = 0;
	for (size_t i = 0; i < ncols; i++) {
		const char *c = cols && cols[i] ? cols[i] : "";
		size_t n = strnlen(c, 256);
		t->ncols = i + 1;
		t->headers[i] = strndup(c, n);
		if (!t->headers[i]) {
			sn_table_clear(t);
			return SN_ENOMEM;
		}
		if (!n)
			continue; /* no name, no tokens */
		t->htok[i] = calloc(32, sizeof(sn_token));
		if (!t->htok[i]) {
			sn_table_clear(t);
			return SN_ENOMEM;
		}
		t->nhtok[i] = sn_tokenize(c, n, t->scratch + used, t->htok[i], 32);
		used += n;
	}
	t->ncols = ncols;
	t->delim = delim;
	t->raw = 1;
	t->headerless = cols == NULL;
	t->detected = 1;
	return 0;
}

size_t sn_table_cells(const sn_table *t, const char *line, size_t n, const char **cell,
		      size_t *len, size_t max)
{
	size_t nc = 0, start = 0;
	int q = 0;
	if (n && line[n - 1] == '\r')
		n--;
	for (size_t i = 0; i <= n && nc < max; i++) {
		if (i < n && line[i] == '"' && !t->raw)
			q = !q;
		if (i == n || (line[i] == t->delim && !q)) {
			const char *c = line + start;
			size_t l = i - start;
			trim_cell(&c, &l);
			cell[nc] = c;
			len[nc] = l;
			nc++;
			start = i + 1;
		}
	}
	return nc;
}

long sn_table_column(const sn_table *t, const char *data, size_t line_start, size_t pos,
		     sn_table_cursor *cur)
{
	if (!t->detected)
		return -1;
	long col = 0;
	int q = 0;
	size_t i = line_start;
	if (cur && cur->data == data && cur->line_start == line_start && cur->pos <= pos) {
		i = cur->pos;
		col = cur->col;
		q = cur->quoted;
	}
	for (; i < pos; i++) {
		if (data[i] == '"' && !t->raw)
			q = !q;
		else if (data[i] == t->delim && !q)
			col++;
	}
	if (cur) {
		cur->data = data;
		cur->line_start = line_start;
		cur->pos = pos;
		cur->col = col;
		cur->quoted = q;
	}
	if (q || (size_t)col >= t->ncols)
		return -1;
	return col;
}

int sn_table_copy(sn_table *dst, const sn_table *src)
{
	sn_table_clear(dst);
	dst->detected = src->detected;
	dst->headerless = src->headerless;
	dst->raw = src->raw;
	dst->delim = src->delim;
	if (src->scratch) {
		dst->scratch = malloc(src->nscratch);
		if (!dst->scratch)
			goto oom;
		memcpy(dst->scratch, src->scratch, src->nscratch);
		dst->nscratch = src->nscratch;
	}
	for (size_t i = 0; i < src->ncols; i++) {
		dst->ncols = i + 1;
		if (src->headers[i] && !(dst->headers[i] = strdup(src->headers[i])))
			goto oom;
		if (src->htok[i]) {
			dst->htok[i] = calloc(32, sizeof(sn_token));
			if (!dst->htok[i])
				goto oom;
			/* tokens point into the scratch copy at the same offsets */
			for (size_t k = 0; k < src->nhtok[i]; k++) {
				dst->htok[i][k] = src->htok[i][k];
				dst->htok[i][k].p = dst->scratch + (src->htok[i][k].p - src->scratch);
			}
		}
		dst->nhtok[i] = src->nhtok[i];
	}
	dst->ncols = src->ncols;
	return 0;
oom:
	sn_table_clear(dst);
	return SN_ENOMEM;
}
