/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The matcher: one per worker, reading an immutable rule set.
 *
 * For each chunk it finds candidate start positions with one cheap pass
 * (each rule's anchor: a byte-class/boundary table, or a literal such as '@'
 * found with memchr), confirms each candidate with the rule's PCRE2_ANCHORED
 * JIT pattern, runs the validator, resolves overlaps between rules (higher
 * priority, then the longer span, wins), scores confidence from keywords,
 * anti-keywords, column headers and context patterns, and hands out findings
 * that are already masked and fingerprinted.
 *
 * The slow path (every rule's unanchored pattern over the whole chunk) gives
 * identical findings; it is used for rules without an anchor and, in tests,
 * for all rules to check the fast path.
 */
#ifndef SN_MATCH_ENGINE_H
#define SN_MATCH_ENGINE_H

#include "speurneus/key.h"
#include "speurneus/rules.h"
#include "speurneus/types.h"
#include "text/text.h"

typedef struct sn_matcher sn_matcher;

typedef struct sn_match_options {
	const sn_key *key;   /* required */
	int reveal;          /* hand out raw and normalized values */
	int slow_path;       /* use plain PCRE2 over every chunk for all rules */
	long only_rule;      /* -1: all rules; else the index of the only rule */
	int no_vector;       /* find candidate starts by trigger bytes, not
				with the SSSE3 filter, even where the CPU has
				it (tests compare the two) */
	sn_fp_memo *memo;    /* the thread's fingerprint memo, shared by its
				matchers of the same rules and key (it
				outlives them), or NULL: a memo of its own */
} sn_match_options;

#define SN_MATCH_OPTIONS_INIT { NULL, 0, 0, -1, 0, NULL }

/* A fingerprint memo as a matcher makes for itself, for a thread to share
 * among its matchers (sn_match_options.memo); freed with sn_fp_memo_free
 * after them.  NULL when out of memory. */
sn_fp_memo *sn_matcher_memo_new(void);

int sn_matcher_new(sn_matcher **out, const sn_ruleset *rs, const sn_match_options *o);
void sn_matcher_free(sn_matcher *m);

/* Start a new unit (file or member): resets per-unit state such as the
 * tabular layout learnt from its first line. `loc` must stay valid until the
 * next begin_unit. */
void sn_matcher_begin_unit(sn_matcher *m, const sn_location *loc);

/* Called for every finding, at any confidence (the caller applies the
 * threshold).  Nonzero return stops the scan of this chunk and is returned. */
typedef int (*sn_finding_fn)(const sn_finding *f, void *payload);

int sn_matcher_scan(sn_matcher *m, const sn_chunk *c, sn_finding_fn cb, void *payload);

/*
 * Tables handed row by row by document decoders (spreadsheet sheets,
 * database tables).  table_begin starts a unit like begin_unit, with its
 * layout known: `cols` names the ncols columns (a NULL entry has no name),
 * or is NULL for a table without names -- then columns whose first values
 * mostly validate count as that rule's column, as for header-less CSV.
 * Each row is rendered as one line of tab-separated cells (made valid
 * UTF-8; tabs and line breaks inside a cell become spaces) and matched in
 * batches, so a finding's `field` is its column's name and `row` the row
 * number the decoder gave; `line` counts rows from 1, the names being line
 * 1.  table_end matches what is left and says how many bytes of table text
 * were matched and how many rows were cut at the row length limit (4 MiB);
 * with cb == NULL it drops what is left (the scan is stopping).
 */
int sn_matcher_table_begin(sn_matcher *m, const sn_location *loc, const char *const *cols,
			   size_t ncols);
int sn_matcher_table_row(sn_matcher *m, int64_t row, const char *const *cells,
			 const size_t *lens, size_t ncells, sn_finding_fn cb, void *payload);
int sn_matcher_table_end(sn_matcher *m, sn_finding_fn cb, void *payload, uint64_t *bytes,
			 uint64_t *cut);

/* Number of PCRE2 calls in the current unit that stopped at a match, heap or
 * JIT-stack limit: the unit was not fully checked and is incomplete. */
uint64_t sn_matcher_limit_hits(const sn_matcher *m);
/* Count in hits of the unit's chunks that were matched on other matchers
 * (a split unit, below). */
void sn_matcher_add_limit_hits(sn_matcher *m, uint64_t n);

/*
 * Splitting one unit across threads.  After a unit's first chunk, which
 * sets its layout (CSV header, inferred columns), what a chunk's findings
 * depend on from the chunks before it is each rule's frontier (where its
 * next search starts) and the end of the last finding -- except in an SQL
 * dump, whose COPY/INSERT state runs from line to line: can_split is 0
 * there and for a decoder's table.  A later chunk can then be matched on
 * another matcher that continues the unit from `src` (the matcher that read
 * the first chunk, left untouched meanwhile) with a given state; when the
 * state assumed for a chunk turns out to differ from the state the chunks
 * before it left, the chunk is matched again with the right one.
 */
int sn_matcher_can_split(const sn_matcher *m);
/* The location given to begin_unit (what findings carry). */
const sn_location *sn_matcher_location(const sn_matcher *m);
/* frontier: one entry per rule of the rule set (rs->n). */
void sn_matcher_get_state(const sn_matcher *m, uint64_t *frontier, uint64_t *last_end);
int sn_matcher_continue_unit(sn_matcher *m, const sn_matcher *src, const uint64_t *frontier,
			     uint64_t last_end);

/* Text the text stage must keep around each chunk border for this rule set:
 * before = lookbehind + keyword window, after = longest match + window. */
void sn_matcher_overlap(const sn_ruleset *rs, size_t *before, size_t *after);

#endif
