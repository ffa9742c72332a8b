/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Context around a match: word tokens for keyword windows, and the layout of
 * tabular text (CSV, TSV, semicolon- or pipe-separated with a header line) so
 * that a column's header counts as context for every value in it.
 */
#ifndef SN_MATCH_CONTEXT_H
#define SN_MATCH_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "match/rule.h"

#define SN_TABLE_MAX_COLS 256
#define SN_TABLE_MAX_HEADER 65536 /* longest header line considered */

/* One word token in a window: lower-cased bytes live in the caller's
 * scratch; `hash` is FNV-1a of those bytes. */
typedef struct sn_token {
	const char *p;
	size_t n;
	uint32_t hash;
} sn_token;

uint32_t sn_token_hash(const char *p, size_t n);

/* Split text[0..n) into lower-cased word tokens (runs of ASCII letters and
 * digits and of non-ASCII UTF-8 bytes).  `scratch` receives the lower-cased
 * copy (at least n bytes); at most `max` tokens.  Returns the count. */
size_t sn_tokenize(const char *text, size_t n, char *scratch, sn_token *out, size_t max);

/* 1 if any word sequence of `l` occurs as consecutive tokens. */
int sn_wordlist_find(const sn_wordlist *l, const sn_token *t, size_t nt);

typedef struct sn_table {
	int detected;     /* tabular text with at least 2 columns */
	int headerless;   /* no header line: the first line is data */
	int raw;          /* cells are never quoted (a decoder's table rows): a
			     double quote is a character like any other */
	char delim;
	size_t ncols;
	char *headers[SN_TABLE_MAX_COLS]; /* cell text, unquoted and trimmed */
	sn_token *htok[SN_TABLE_MAX_COLS];
	size_t nhtok[SN_TABLE_MAX_COLS];
	char *scratch;    /* owns the token bytes */
	size_t nscratch;  /* its size */
} sn_table;

/* Look at the first lines of a unit and fill *t (detected = 0 when the text
 * is not tabular). Frees what *t held before. */
void sn_table_detect(sn_table *t, const char *data, size_t len);
void sn_table_clear(sn_table *t);

/* A layout known from the source (a spreadsheet's header row, a database's
 * column names): `ncols` names, any of them NULL, or cols == NULL for a
 * table without names; unquoted cells separated by `delim`.  Returns 0 or
 * SN_ENOMEM (then *t is cleared). */
int sn_table_set(sn_table *t, const char *const *cols, size_t ncols, char delim);

/* Split one line (no newline) into at most `max` cells, unquoted and
 * trimmed; returns the number of cells. */
size_t sn_table_cells(const sn_table *t, const char *line, size_t n, const char **cell,
		      size_t *len, size_t max);

/* Where the last column count stopped, so that the next position on the
 * same line continues from there instead of from the line start (a CSV line
 * holds several values).  Zero it before the first use on a buffer. */
typedef struct sn_table_cursor {
	const char *data;
	size_t line_start, pos;
	long col;
	int quoted;
} sn_table_cursor;

/* Column index of position `pos`, counting delimiters outside double quotes
 * from `line_start`; -1 when it cannot be told.  `cur` may be NULL. */
long sn_table_column(const sn_table *t, const char *data, size_t line_start, size_t pos,
		     sn_table_cursor *cur);

/* Make *dst an exact copy of *src (what it held before is freed).  Returns
 * 0, or SN_ENOMEM with *dst cleared. */
int sn_table_copy(sn_table *dst, const sn_table *src);

#endif
