/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Internal layout of a rule and a rule set.  The YAML loader (rules_load.c)
 * fills the declarative part; rule_compile.c compiles the patterns and
 * derives the fast-path anchor; the matcher (engine.c) only reads.
 */
#ifndef SN_MATCH_RULE_H
#define SN_MATCH_RULE_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "speurneus/rules.h"
#include "speurneus/types.h"
#include "match/tables.h"
#include "match/validate.h"

#define SN_PREFIX_MAX 12  /* classes in one prefix alternative */
#define SN_PREFIX_ALTS 8  /* prefix alternatives of one rule */

/* A keyword or column name, pre-split into lower-case ASCII/UTF-8 word
 * tokens ("sociaal-fiscaal nummer" -> sociaal, fiscaal, nummer). */
typedef struct sn_wordseq {
	char *text;       /* as written in the rule file */
	char **tok;       /* lower-cased tokens */
	size_t ntok;
	uint32_t *hash;   /* sn_token_hash of each token */
	size_t *len;      /* length of each token */
} sn_wordseq;

#define SN_BLOOM_BITS 1024

typedef struct sn_wordlist {
	sn_wordseq *v;
	size_t n;
	/* bit (hash % SN_BLOOM_BITS) set for every first token: most words of
	 * a text are ruled out with one test */
	uint64_t bloom[SN_BLOOM_BITS / 64];
} sn_wordlist;

typedef struct sn_example {
	char *text;
	int expect_match;         /* 1: must produce a finding; 0: must not */
	sn_confidence confidence; /* SN_CONF_NONE: any confidence */
	unsigned line;            /* position in the rule file */
} sn_example;

/* How the fast path finds candidate start positions for a rule. */
typedef enum sn_anchor_kind {
	SN_ANCHOR_NONE = 0, /* no usable anchor: PCRE2 over the whole chunk */
	SN_ANCHOR_FIRST,    /* byte-class pass: first[] and boundary[] tables */
	SN_ANCHOR_LITERAL   /* memmem for `literal`, starts within `before` bytes */
} sn_anchor_kind;

typedef struct sn_rule {
	/* --- declared (rules_load.c) --- */
	char *id;
	char *category;
	char *description;
	char *pattern;
	char *validator_name;          /* NULL: no validator */
	const sn_validator *validator; /* resolved from validator_name */
	sn_confidence base;            /* validated match, no context (default low) */
	sn_confidence keyword_conf;    /* with a keyword in the window (default high) */
	sn_confidence column_conf;     /* in a column whose header matches (default high) */
	sn_confidence context_conf;    /* context_before/after matched (default medium) */
	unsigned window;               /* keyword window in characters (default 64) */
	sn_wordlist keywords;
	sn_wordlist anti_keywords;
	sn_wordlist columns;           /* header names; default: the keywords */
	char *context_before;          /* PCRE2, must match ending at the match start */
	char *context_after;           /* PCRE2, must match starting at the match end */
	char **placeholders;           /* normalized values that lose one level */
	char *weak_values;             /* PCRE2 over the whole normalized value: a
					  match loses one level ("2048MB" looks
					  like a postcode and is usually a size) */
	char *weak_forms;              /* PCRE2 over the whole matched text as
					  written: without keyword, column or
					  context such a match loses one level
					  (ten bare digits are as often an id as
					  a phone number) */
	size_t nplaceholders;
	int require_context;           /* drop unless keyword, column or context */
	int priority;                  /* overlap resolution: higher wins (default 0) */
	unsigned max_length;           /* longest match in bytes (default 256) */
	char **prefix_src;             /* declared: one character class per leading
					  byte ("[A-Za-z]", ...), of each prefix
					  alternative in turn; every match starts
					  with the bytes of one alternative */
	size_t nprefix_src;            /* classes in prefix_src */
	size_t prefix_alt[SN_PREFIX_ALTS]; /* classes of each alternative */
	size_t nprefix_alt;            /* alternatives; 0: no prefix declared */
	char *anchor_literal;          /* declared literal anchor or NULL */
	unsigned anchor_before;        /* max bytes from match start to the literal */
	char *anchor_back;             /* declared: one bracket class holding every
					  byte of a match before its first literal,
					  or NULL (anchor.back) */
	char *anchor_back_except;      /* declared: matches that start with a byte
					  of this class are exempt from anchor_back,
					  or NULL (anchor.back_except) */
	unsigned back_line, back_col;  /* positions of those two values */
	unsigned except_line, except_col;
	int caseless;                  /* compile with PCRE2_CASELESS */
	sn_example *examples;
	size_t nexamples;
	char *file;                    /* rule file path */
	unsigned line, col;            /* position of the rule in the file */
	unsigned pattern_line, pattern_col; /* position of the pattern value */
	int pattern_col_exact;         /* the value is written on one line without
					  escapes, so pattern_col plus a character
					  offset into `pattern` is that character's
					  column (for compile error positions) */

	/* --- compiled (rule_compile.c) --- */
	pcre2_code *re;          /* unanchored, JIT-compiled */
	pcre2_code *re_anchored; /* compiled with PCRE2_ANCHORED, JIT-compiled */
	pcre2_code *re_before;   /* context_before with PCRE2_ENDANCHORED, or NULL */
	pcre2_code *re_after;    /* context_after with PCRE2_ANCHORED, or NULL */
	pcre2_code *re_weak;     /* weak_values, anchored at both ends, or NULL */
	pcre2_code *re_weak_form; /* weak_forms, anchored at both ends, or NULL */
	sn_anchor_kind anchor;
	uint8_t first[256];      /* bytes that can start a match */
	uint8_t boundary[256];   /* a match cannot start right after these bytes */
	int has_boundary;
	uint8_t (*prefix_cls)[256]; /* prefix_src compiled: prefix_cls[k][b] = byte b
				    is in class k (bytes >= 0x80 always are) */
	size_t nprefix;          /* positions every alternative has a class for */
	uint8_t (*prefix_alts)[256]; /* prefix_alts[i][b]: bit a set when alternative a
				     allows byte b at i (or is shorter than i + 1);
				     for i < nprefix, nonzero: byte b may be byte i
				     of a match (the union of the classes i) */
	size_t prefix_span;      /* positions in prefix_alts: the longest alternative */
	char anchor_desc[64];    /* human description for `rules list` */
	int has_back;            /* anchor_back given: back[] and back_except[] hold */
	uint8_t back[256];       /* anchor_back compiled; bytes >= 0x80 always 1 */
	uint8_t back_except[256]; /* anchor_back_except compiled; ASCII bytes only */
	unsigned back_nexcept;   /* bytes set in back_except[] */
	uint8_t back_except_byte; /* the byte, when back_nexcept == 1 */
} sn_rule;

struct sn_ruleset {
	sn_rule *rules;
	size_t n;
	sn_tables *tables;
	unsigned max_length;     /* max over rules */
	unsigned max_window;     /* max keyword window over rules, characters */
	char digest[65];
};

/* Compile rule `r` (patterns, JIT, anchor derivation).  On failure reports
 * through cb with the pattern's file position and returns SN_ERULES. */
int sn_rule_compile(sn_rule *r, sn_diag_cb cb, void *payload);

/* Free everything a rule owns (declared and compiled parts). */
void sn_rule_clear(sn_rule *r);

/* Split `text` into a word sequence (see sn_wordseq).  0 or SN_ENOMEM. */
int sn_wordseq_init(sn_wordseq *out, const char *text);
/* Compute the list's bloom bits; called once the list is complete. */
void sn_wordlist_finish(sn_wordlist *l);
void sn_wordlist_clear(sn_wordlist *l);

#endif
