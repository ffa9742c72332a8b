/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The rule loader and rule compiler: good files in both layouts, every kind
 * of malformed file with the position it is reported at, directory handling,
 * the digest, the fast-path anchor derived for the shipped rules and for
 * user rules, and the shipped rules themselves (their examples through the
 * real matcher, and the fast-path anchors checked against plain PCRE2 on
 * every example and on adversarial text).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "match/context.h"
#include "match/rule.h"
#include "speurneus/error.h"
#include "speurneus/rules.h"

#define DATA_DIR SN_SOURCE_DIR "/rules/data"
#define SHIPPED_DIR SN_SOURCE_DIR "/rules"

/* --- helpers ------------------------------------------------------------ */

typedef struct diag_rec {
	char file[256];
	unsigned line, col;
	char msg[512];
} diag_rec;

typedef struct diags {
	diag_rec v[64];
	size_t n;
} diags;

static void collect(const char *file, unsigned line, unsigned col, const char *msg, void *payload)
{
	diags *d = payload;
	if (d->n < sizeof d->v / sizeof d->v[0]) {
		diag_rec *r = &d->v[d->n];
		snprintf(r->file, sizeof r->file, "%s", file);
		r->line = line;
		r->col = col;
		snprintf(r->msg, sizeof r->msg, "%s", msg);
	}
	d->n++;
}

static void print_diags(const diags *d)
{
	for (size_t i = 0; i < d->n && i < sizeof d->v / sizeof d->v[0]; i++)
		print_message("  %s:%u:%u: %s\n", d->v[i].file, d->v[i].line, d->v[i].col,
			      d->v[i].msg);
}

static char *make_dir(void)
{
	char *dir = strdup("/tmp/sn-test-rules-XXXXXX");
	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* Our mkdtemp directories are flat: unlink their files, then the directory. */
static void remove_dir(char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char path[600];
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		assert_int_equal(unlink(path), 0);
	}
	closedir(d);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

/* Load one directory holding one file with `text`. */
static int load_text(const char *text, sn_ruleset **out, diags *d)
{
	char *dir = make_dir();
	write_file(dir, "rules.yaml", text);
	const char *dirs[1] = { dir };
	memset(d, 0, sizeof *d);
	*out = NULL;
	int rc = sn_ruleset_load(out, dirs, 1, DATA_DIR, collect, d);
	remove_dir(dir);
	return rc;
}

static const sn_rule *rule_by_id(const sn_ruleset *rs, const char *id)
{
	for (size_t i = 0; i < rs->n; i++) {
		if (strcmp(rs->rules[i].id, id) == 0)
			return &rs->rules[i];
	}
	return NULL;
}

/* --- good files --------------------------------------------------------- */

static void test_minimal_sequence(void **state)
{
	(void)state;
	sn_ruleset *rs;
	diags d;
	int rc = load_text("- id: t.one\n"
			   "  category: test\n"
			   "  pattern: 'x[0-9]{3}'\n",
			   &rs, &d);
	print_diags(&d);
	assert_int_equal(rc, 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(sn_ruleset_count(rs), 1);
	const sn_rule *r = &rs->rules[0];
	assert_string_equal(r->id, "t.one");
	assert_string_equal(r->category, "test");
	assert_null(r->validator);
	assert_null(r->description);
	assert_int_equal(r->base, SN_CONF_LOW);
	assert_int_equal(r->keyword_conf, SN_CONF_HIGH);
	assert_int_equal(r->column_conf, SN_CONF_HIGH);
	assert_int_equal(r->context_conf, SN_CONF_MEDIUM);
	assert_int_equal(r->window, 64);
	assert_int_equal(r->max_length, 256);
	assert_int_equal(r->priority, 0);
	assert_int_equal(r->require_context, 0);
	assert_int_equal(r->caseless, 0);
	assert_int_equal(r->line, 1);
	assert_int_equal(r->col, 3);
	assert_int_equal(r->pattern_line, 3);
	assert_non_null(r->re);
	assert_non_null(r->re_anchored);
	assert_null(r->re_before);
	assert_null(r->re_after);
	assert_int_equal(rs->max_length, 256);
	assert_int_equal(rs->max_window, 64);
	assert_non_null(rs->tables);

	sn_rule_info info;
	assert_int_equal(sn_ruleset_info(rs, 0, &info), 0);
	assert_string_equal(info.id, "t.one");
	assert_string_equal(info.category, "test");
	assert_null(info.validator);
	assert_int_equal(info.line, 1);
	assert_int_equal(info.base, SN_CONF_LOW);
	assert_non_null(strstr(info.file, "rules.yaml"));
	/* an ASCII letter always brings its other case (inline (?i) is invisible) */
	assert_string_equal(info.anchor, "first-byte [Xx]");
	assert_int_equal(sn_ruleset_info(rs, 1, &info), SN_EINVAL);

	const char *dg = sn_ruleset_digest(rs);
	assert_int_equal(strlen(dg), 64);
	assert_int_equal(strspn(dg, "0123456789abcdef"), 64);
	sn_ruleset_free(rs);
}

static void test_every_key(void **state)
{
	(void)state;
	sn_ruleset *rs;
	diags d;
	int rc = load_text(
		"# a comment\n"
		"rules:\n"
		"  - id: t.all\n"
		"    category: test.all\n"
		"    description: every key\n"
		"    pattern: '(?<![A-Za-z0-9])[a-z]{1,8}@[0-9]{2,4}(?![0-9])'\n"
		"    validator: luhn\n"
		"    confidence: medium\n"
		"    keyword_confidence: high\n"
		"    column_confidence: medium\n"
		"    context_confidence: low\n"
		"    window: 100\n"
		"    keywords: [sociaal-fiscaal nummer, BSN#, t.n.v.]\n"
		"    anti_keywords:\n"
		"      - factuur\n"
		"    columns: [klant_bsn]\n"
		"    context_before: 'code\\s*$'\n"
		"    context_after: '\\s+ok'\n"
		"    placeholders: [\"abc@123\"]\n"
		"    require_context: true\n"
		"    priority: -5\n"
		"    max_length: 40\n"
		"    anchor: {literal: '@', before: 8}\n"
		"    caseless: false\n"
		"    examples:\n"
		"      match:\n"
		"        - abc@123\n"
		"        - {text: 'code abc@123', confidence: high}\n"
		"      no_match:\n"
		"        - {text: 'abc@1'}\n"
		"        - abcdefghij@123\n",
		&rs, &d);
	print_diags(&d);
	assert_int_equal(rc, 0);
	const sn_rule *r = &rs->rules[0];
	assert_string_equal(r->description, "every key");
	assert_string_equal(r->validator_name, "luhn");
	assert_non_null(r->validator);
	assert_int_equal(r->base, SN_CONF_MEDIUM);
	assert_int_equal(r->keyword_conf, SN_CONF_HIGH);
	assert_int_equal(r->column_conf, SN_CONF_MEDIUM);
	assert_int_equal(r->context_conf, SN_CONF_LOW);
	assert_int_equal(r->window, 100);
	assert_int_equal(r->keywords.n, 3);
	assert_string_equal(r->keywords.v[0].text, "sociaal-fiscaal nummer");
	assert_int_equal(r->keywords.v[0].ntok, 3);
	assert_string_equal(r->keywords.v[0].tok[0], "sociaal");
	assert_string_equal(r->keywords.v[0].tok[1], "fiscaal");
	assert_string_equal(r->keywords.v[0].tok[2], "nummer");
	assert_int_equal(r->keywords.v[1].ntok, 1);
	assert_string_equal(r->keywords.v[1].tok[0], "bsn");
	assert_int_equal(r->keywords.v[2].ntok, 3);
	assert_int_equal(r->anti_keywords.n, 1);
	assert_int_equal(r->columns.n, 1);
	assert_int_equal(r->columns.v[0].ntok, 2);
	assert_string_equal(r->columns.v[0].tok[1], "bsn");
	assert_non_null(r->re_before);
	assert_non_null(r->re_after);
	assert_int_equal(r->nplaceholders, 1);
	assert_string_equal(r->placeholders[0], "abc@123");
	assert_int_equal(r->require_context, 1);
	assert_int_equal(r->priority, -5);
	assert_int_equal(r->max_length, 40);
	assert_string_equal(r->anchor_literal, "@");
	assert_int_equal(r->anchor_before, 8);
	assert_int_equal(r->anchor, SN_ANCHOR_LITERAL);
	assert_string_equal(r->anchor_desc, "literal '@' (\u2264" "8 bytes in)");
	assert_int_equal(r->nexamples, 4);
	assert_string_equal(r->examples[0].text, "abc@123");
	assert_int_equal(r->examples[0].expect_match, 1);
	assert_int_equal(r->examples[0].confidence, SN_CONF_NONE);
	assert_int_equal(r->examples[0].line, 27);
	assert_int_equal(r->examples[1].confidence, SN_CONF_HIGH);
	assert_int_equal(r->examples[2].expect_match, 0);
	assert_string_equal(r->examples[2].text, "abc@1");
	assert_int_equal(r->examples[3].expect_match, 0);
	assert_int_equal(rs->max_length, 40);
	assert_int_equal(rs->max_window, 100);
	sn_ruleset_free(rs);
}

static void test_columns_default_to_keywords(void **state)
{
	(void)state;
	sn_ruleset *rs;
	diags d;
	assert_int_equal(load_text("- id: a\n  category: a\n  pattern: a\n"
				   "  keywords: [klant nummer, bsn]\n"
				   "- id: b\n  category: b\n  pattern: b\n"
				   "  keywords: [x]\n  columns: []\n",
				   &rs, &d),
			 0);
	const sn_rule *a = rule_by_id(rs, "a"), *b = rule_by_id(rs, "b");
	assert_int_equal(a->columns.n, 2);
	assert_string_equal(a->columns.v[0].text, "klant nummer");
	assert_int_equal(a->columns.v[0].ntok, 2);
	/* a copy, not shared storage */
	assert_ptr_not_equal(a->columns.v, a->keywords.v);
	assert_int_equal(b->columns.n, 0);
	sn_ruleset_free(rs);
}

static void test_wordseq(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		size_t ntok;
		const char *tok[4];
	} cases[] = {
		{ "BSN", 1, { "bsn" } },
		{ "sociaal-fiscaal nummer", 3, { "sociaal", "fiscaal", "nummer" } },
		{ "t.n.v.", 3, { "t", "n", "v" } },
		{ "bsn_nummer", 2, { "bsn", "nummer" } },
		{ "  E-Mail  ", 2, { "e", "mail" } },
		{ "privénummer", 1, { "priv\xc3\xa9nummer" } },
		{ "#!", 0, { NULL } },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		/* a list owns its array: sn_wordlist_clear frees it */
		sn_wordlist l = { malloc(sizeof(sn_wordseq)), 1 };
		assert_non_null(l.v);
		sn_wordseq *w = &l.v[0];
		assert_int_equal(sn_wordseq_init(w, cases[i].text), 0);
		assert_string_equal(w->text, cases[i].text);
		if (w->ntok != cases[i].ntok)
			fail_msg("'%s': %zu tokens, expected %zu", cases[i].text, w->ntok,
				 cases[i].ntok);
		for (size_t k = 0; k < w->ntok; k++)
			assert_string_equal(w->tok[k], cases[i].tok[k]);
		sn_wordlist_clear(&l);
		assert_null(l.v);
		assert_int_equal(l.n, 0);
	}
}

/* --- malformed files ---------------------------------------------------- */

typedef struct bad_case {
	const char *name;
	const char *text;
	unsigned line, col; /* of the first reported problem */
	const char *msg;    /* substring of its message */
} bad_case;

static const bad_case bad_cases[] = {
	{ "yaml syntax", "- id: a\n  category: [x\n  pattern: a\n", 3, 10, "YAML syntax error" },
	{ "yaml syntax tab", "- id: a\n\tcategory: x\n", 2, 1, "YAML syntax error" },
	{ "unknown key", "- id: a\n  category: a\n  patern: a\n", 3, 3, "unknown key 'patern'" },
	{ "missing id", "- category: a\n  pattern: a\n", 1, 3, "missing required key 'id'" },
	{ "missing category", "- id: a\n  pattern: a\n", 1, 3,
	  "missing required key 'category'" },
	{ "missing pattern", "- id: a\n  category: a\n", 1, 3, "missing required key 'pattern'" },
	{ "id not a string", "- id: [a]\n  category: a\n  pattern: a\n", 1, 7,
	  "'id' must be a string" },
	{ "null pattern", "- id: a\n  category: a\n  pattern: ~\n", 3, 12,
	  "'pattern' must be a string" },
	{ "window not int", "- id: a\n  category: a\n  pattern: a\n  window: wide\n", 4, 11,
	  "'window' must be an integer from 1 to 1024" },
	{ "window range", "- id: a\n  category: a\n  pattern: a\n  window: 2000\n", 4, 11,
	  "'window' must be an integer" },
	{ "quoted int", "- id: a\n  category: a\n  pattern: a\n  priority: '5'\n", 4, 13,
	  "'priority' must be an integer" },
	{ "max_length range", "- id: a\n  category: a\n  pattern: a\n  max_length: 0\n", 4, 15,
	  "'max_length' must be an integer from 1 to 4096" },
	{ "keywords scalar", "- id: a\n  category: a\n  pattern: a\n  keywords: bsn\n", 4, 13,
	  "'keywords' must be a sequence of strings" },
	{ "keyword mapping", "- id: a\n  category: a\n  pattern: a\n  keywords: [{a: b}]\n", 4, 14,
	  "'keywords' must be a string" },
	{ "keyword no word", "- id: a\n  category: a\n  pattern: a\n  keywords: ['#']\n", 4, 14,
	  "has no letters or digits" },
	{ "bool", "- id: a\n  category: a\n  pattern: a\n  caseless: yes\n", 4, 13,
	  "'caseless' must be true or false" },
	{ "bad confidence", "- id: a\n  category: a\n  pattern: a\n  confidence: hgih\n", 4, 15,
	  "unknown confidence 'hgih'" },
	{ "bad keyword confidence",
	  "- id: a\n  category: a\n  pattern: a\n  keyword_confidence: none\n", 4, 23,
	  "unknown confidence 'none'" },
	{ "unknown validator", "- id: a\n  category: a\n  pattern: a\n  validator: bsnn\n", 4, 14,
	  "unknown validator 'bsnn'" },
	{ "bad category", "- id: a\n  category: Bsn\n  pattern: a\n", 2, 13, "category 'Bsn'" },
	{ "bad id", "- id: 'a b'\n  category: a\n  pattern: a\n", 1, 7, "rule id 'a b'" },
	{ "duplicate key", "- id: a\n  category: a\n  pattern: a\n  id: b\n", 4, 3,
	  "duplicate key 'id'" },
	{ "duplicate id",
	  "- id: nl.x\n  category: a\n  pattern: a\n- id: nl.x\n  category: a\n  pattern: b\n", 4,
	  7, "duplicate rule id 'nl.x' (first defined at " },
	/* offset 6 of a single-quoted value whose quote is at column 12 */
	{ "pattern quoted", "- id: a\n  category: a\n  pattern: 'ab(?<x'\n", 3, 19,
	  "pattern does not compile: " },
	/* a plain scalar: the missing ')' is reported at offset 4 */
	{ "pattern plain", "- id: a\n  category: a\n  pattern: ab(c\n", 3, 16,
	  "pattern does not compile: missing closing parenthesis at offset 4" },
	/* folded over two lines: the value's own position */
	{ "pattern folded", "- id: a\n  category: a\n  pattern: >-\n    ab(\n    c\n", 3, 12,
	  "pattern does not compile: " },
	{ "context_before", "- id: a\n  category: a\n  pattern: a\n  context_before: '('\n", 1, 3,
	  "context_before does not compile" },
	{ "empty pattern", "- id: a\n  category: a\n  pattern: ''\n", 3, 12, "'pattern' is empty" },
	{ "prefix not a sequence", "- id: a\n  category: a\n  pattern: a\n  prefix: a\n", 4, 11,
	  "'prefix' must be a sequence of strings or sequences of strings" },
	{ "prefix mixed", "- id: a\n  category: a\n  pattern: a\n  prefix: ['[a]', ['[b]']]\n", 4,
	  19, "'prefix' mixes classes and sequences of classes" },
	{ "prefix empty alternative", "- id: a\n  category: a\n  pattern: a\n  prefix: [[]]\n", 4,
	  12, "a 'prefix' alternative needs at least one class" },
	{ "prefix class not a string",
	  "- id: a\n  category: a\n  pattern: a\n  prefix: [['[a]', [b]]]\n", 4, 20,
	  "'prefix' must be a string" },
	{ "prefix too long",
	  "- id: a\n  category: a\n  pattern: a\n  prefix: [[a, a, a, a, a, a, a, a, a, a, a, a, a]]\n",
	  4, 12, "'prefix' has at most 12 classes per alternative" },
	{ "prefix too many alternatives",
	  "- id: a\n  category: a\n  pattern: a\n  prefix: [[a], [a], [a], [a], [a], [a], [a], [a], "
	  "[a]]\n",
	  4, 11, "'prefix' has at most 8 alternatives" },
	{ "prefix does not compile", "- id: a\n  category: a\n  pattern: a\n  prefix: ['(']\n", 1,
	  3, "prefix does not compile" },
	{ "anchor not mapping", "- id: a\n  category: a\n  pattern: a@\n  anchor: '@'\n", 4, 11,
	  "'anchor' must be a mapping" },
	{ "anchor no literal", "- id: a\n  category: a\n  pattern: a@\n  anchor: {before: 1}\n", 4,
	  11, "'anchor' needs 'literal'" },
	{ "anchor unknown key",
	  "- id: a\n  category: a\n  pattern: a@\n  anchor: {literal: '@', after: 1}\n", 4, 26,
	  "unknown key 'after' in anchor" },
	{ "anchor before too far",
	  "- id: a\n  category: a\n  pattern: a@\n  max_length: 8\n"
	  "  anchor: {literal: '@', before: 8}\n",
	  5, 11, "'anchor.before' plus the literal's length exceeds max_length" },
	{ "anchor back not a class",
	  "- id: a\n  category: a\n  pattern: a@\n  anchor: {literal: '@', back: 'a-z'}\n", 4, 32,
	  "anchor.back must be one bracket class" },
	{ "anchor back two classes",
	  "- id: a\n  category: a\n  pattern: a@\n  anchor: {literal: '@', back: '[a][b]'}\n", 4,
	  32, "anchor.back must be one bracket class" },
	{ "anchor back quantified",
	  "- id: a\n  category: a\n  pattern: a@\n  anchor: {literal: '@', back: '[a]+'}\n", 4,
	  32, "anchor.back must be one bracket class" },
	{ "anchor back unclosed",
	  "- id: a\n  category: a\n  pattern: a@\n  anchor: {literal: '@', back: '[a'}\n", 4, 32,
	  "anchor.back must be one bracket class" },
	{ "anchor back does not compile",
	  "- id: a\n  category: a\n  pattern: a@\n  anchor: {literal: '@', back: '[z-a]'}\n", 4,
	  32, "anchor.back does not compile: " },
	{ "anchor back_except not a class",
	  "- id: a\n  category: a\n  pattern: a@\n"
	  "  anchor: {literal: '@', back: '[a]', back_except: '\"'}\n",
	  4, 52, "anchor.back_except must be one bracket class" },
	{ "anchor back_except alone",
	  "- id: a\n  category: a\n  pattern: a@\n  anchor: {literal: '@', back_except: '[\"]'}\n",
	  4, 11, "'anchor.back_except' needs 'anchor.back'" },
	{ "anchor back not a string",
	  "- id: a\n  category: a\n  pattern: a@\n  anchor: {literal: '@', back: [a]}\n", 4, 32,
	  "'anchor.back' must be a string" },
	{ "anchor back twice",
	  "- id: a\n  category: a\n  pattern: a@\n  anchor: {literal: '@', back: '[a]', back: '[b]'}\n",
	  4, 39, "duplicate key 'back'" },
	{ "caseless literal",
	  "- id: a\n  category: a\n  pattern: aXb\n  caseless: true\n  anchor: {literal: X}\n",
	  1, 3, "anchor literal with letters in a caseless rule" },
	{ "require_context alone",
	  "- id: a\n  category: a\n  pattern: a\n  require_context: true\n", 4, 20,
	  "'require_context' needs keywords" },
	{ "examples not mapping", "- id: a\n  category: a\n  pattern: a\n  examples: [a]\n", 4, 13,
	  "'examples' must be a mapping" },
	{ "examples unknown key",
	  "- id: a\n  category: a\n  pattern: a\n  examples: {matches: [a]}\n", 4, 14,
	  "unknown key 'matches' in examples" },
	{ "example confidence in no_match",
	  "- id: a\n  category: a\n  pattern: a\n  examples:\n    no_match:\n"
	  "      - {text: b, confidence: low}\n",
	  6, 19, "'confidence' is only allowed under examples.match" },
	{ "example without text",
	  "- id: a\n  category: a\n  pattern: a\n  examples:\n    match:\n"
	  "      - {confidence: low}\n",
	  6, 9, "example without 'text'" },
	{ "example bad confidence",
	  "- id: a\n  category: a\n  pattern: a\n  examples:\n    match:\n"
	  "      - {text: a, confidence: hi}\n",
	  6, 31, "unknown confidence 'hi'" },
	{ "rule not mapping", "- just a string\n", 1, 3, "a rule must be a mapping" },
	{ "top-level scalar", "hello\n", 1, 1, "expected a sequence of rules" },
	{ "top-level key", "rulez:\n  - id: a\n", 1, 1, "unknown top-level key 'rulez'" },
	{ "rules not a sequence", "rules: {id: a}\n", 1, 8, "'rules' must be a sequence" },
	{ "empty file", "", 1, 1, "no rules" },
	{ "only a comment", "# nothing here\n", 1, 1, "no rules" },
	{ "second document", "- id: a\n  category: a\n  pattern: a\n---\n- id: b\n", 5, 1,
	  "more than one YAML document" },
	{ "empty rule list", "rules: []\n", 0, 0, "the rule set is empty" },
	{ "NUL in string", "- id: a\n  category: a\n  pattern: \"a\\0b\"\n", 3, 12,
	  "contains a NUL character" },
};

static void test_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		const bad_case *c = &bad_cases[i];
		sn_ruleset *rs = (sn_ruleset *)1;
		diags d;
		int rc = load_text(c->text, &rs, &d);
		if (rc != SN_ERULES || rs != NULL || d.n == 0) {
			print_diags(&d);
			fail_msg("case '%s': rc %d, %zu problems", c->name, rc, d.n);
		}
		const diag_rec *r = &d.v[0];
		if (r->line != c->line || r->col != c->col || !strstr(r->msg, c->msg)) {
			print_diags(&d);
			fail_msg("case '%s': got %u:%u '%s', expected %u:%u '%s'", c->name, r->line,
				 r->col, r->msg, c->line, c->col, c->msg);
		}
		if (c->line && !strstr(r->file, "/rules.yaml"))
			fail_msg("case '%s': reported for file '%s'", c->name, r->file);
		/* the last error message names the first problem */
		assert_non_null(strstr(sn_error_last(), c->msg));
	}
}

/* Every problem in a file is reported, not only the first. */
static void test_all_problems_reported(void **state)
{
	(void)state;
	sn_ruleset *rs;
	diags d;
	int rc = load_text("- id: a\n  category: a\n  patern: a\n"
			   "- id: b\n  category: b\n  pattern: 'b('\n"
			   "- id: c\n  category: c\n  pattern: c\n  validator: nope\n"
			   "  confidence: top\n",
			   &rs, &d);
	assert_int_equal(rc, SN_ERULES);
	assert_null(rs);
	print_diags(&d);
	assert_int_equal(d.n, 5);
	assert_int_equal(d.v[0].line, 3);
	assert_non_null(strstr(d.v[0].msg, "unknown key 'patern'"));
	assert_int_equal(d.v[1].line, 1);
	assert_non_null(strstr(d.v[1].msg, "missing required key 'pattern'"));
	assert_int_equal(d.v[2].line, 6);
	assert_non_null(strstr(d.v[2].msg, "pattern does not compile"));
	assert_int_equal(d.v[3].line, 10);
	assert_non_null(strstr(d.v[3].msg, "unknown validator 'nope'"));
	assert_int_equal(d.v[4].line, 11);
	assert_non_null(strstr(d.v[4].msg, "unknown confidence 'top'"));
}

/* Aliases repeat a list without making the file larger: the set has a
 * budget of list entries, and strings have a length limit. */
static void test_limits(void **state)
{
	(void)state;
	size_t cap = 1 << 20, n = 0;
	char *text = malloc(cap);
	sn_ruleset *rs;
	diags d;
	assert_non_null(text);
	n += (size_t)snprintf(text + n, cap - n, "- id: r0\n  category: t\n  pattern: x\n"
					       "  keywords: &k\n");
	for (int i = 0; i < 4000; i++)
		n += (size_t)snprintf(text + n, cap - n, "    - w%d\n", i);
	for (int i = 1; i < 100; i++)
		n += (size_t)snprintf(text + n, cap - n,
				      "- {id: r%d, category: t, pattern: x, keywords: *k}\n", i);
	assert_true(n < cap);
	assert_int_equal(load_text(text, &rs, &d), SN_ERULES);
	assert_null(rs);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "too many list entries in the rule set"));

	/* a 70000-byte pattern */
	n = (size_t)snprintf(text, cap, "- id: a\n  category: t\n  pattern: ");
	memset(text + n, 'x', 70000);
	n += 70000;
	snprintf(text + n, cap - n, "\n");
	assert_int_equal(load_text(text, &rs, &d), SN_ERULES);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 3);
	assert_non_null(strstr(d.v[0].msg, "'pattern' is longer than 65536 bytes"));
	free(text);
}

/* A NULL callback is allowed: the failure is still returned. */
static void test_null_callback(void **state)
{
	(void)state;
	char *dir = make_dir();
	write_file(dir, "a.yaml", "- id: a\n  category: a\n  pattern: '('\n");
	const char *dirs[1] = { dir };
	sn_ruleset *rs = NULL;
	assert_int_equal(sn_ruleset_load(&rs, dirs, 1, DATA_DIR, NULL, NULL), SN_ERULES);
	assert_null(rs);
	assert_non_null(strstr(sn_error_last(), "pattern does not compile"));
	remove_dir(dir);
}

/* --- directories ---------------------------------------------------------- */

static void test_directories(void **state)
{
	(void)state;
	diags d;
	sn_ruleset *rs = NULL;

	/* empty directory */
	char *empty = make_dir();
	const char *d1[1] = { empty };
	memset(&d, 0, sizeof d);
	assert_int_equal(sn_ruleset_load(&rs, d1, 1, DATA_DIR, collect, &d), SN_ERULES);
	assert_null(rs);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].file, empty);
	assert_non_null(strstr(d.v[0].msg, "no rule files"));

	/* only files that are not rule files */
	write_file(empty, "README.md", "- id: a\n  category: a\n  pattern: a\n");
	write_file(empty, "rules.yaml~", "- id: a\n  category: a\n  pattern: a\n");
	write_file(empty, ".hidden.yaml", "- id: a\n  category: a\n  pattern: a\n");
	memset(&d, 0, sizeof d);
	assert_int_equal(sn_ruleset_load(&rs, d1, 1, DATA_DIR, collect, &d), SN_ERULES);
	assert_null(rs);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "no rule files"));

	/* a missing directory */
	char missing[300];
	snprintf(missing, sizeof missing, "%s/nope", empty);
	const char *d2[1] = { missing };
	memset(&d, 0, sizeof d);
	assert_int_equal(sn_ruleset_load(&rs, d2, 1, DATA_DIR, collect, &d), SN_ERULES);
	assert_null(rs);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].file, missing);
	assert_non_null(strstr(d.v[0].msg, "cannot open rule directory"));

	/* no directories at all */
	memset(&d, 0, sizeof d);
	assert_int_equal(sn_ruleset_load(&rs, NULL, 0, DATA_DIR, collect, &d), SN_ERULES);
	assert_null(rs);

	/* a missing data directory */
	char *one = make_dir();
	write_file(one, "a.yaml", "- id: a\n  category: a\n  pattern: a\n");
	const char *d3[1] = { one };
	memset(&d, 0, sizeof d);
	assert_int_equal(sn_ruleset_load(&rs, d3, 1, missing, collect, &d), SN_ERULES);
	assert_null(rs);
	assert_true(d.n >= 1);

	/* NULL arguments */
	assert_int_equal(sn_ruleset_load(NULL, d3, 1, DATA_DIR, NULL, NULL), SN_EINVAL);
	assert_int_equal(sn_ruleset_load(&rs, d3, 1, NULL, NULL, NULL), SN_EINVAL);

	remove_dir(empty);
	remove_dir(one);
}

static void test_order_and_duplicates_across_dirs(void **state)
{
	(void)state;
	char *a = make_dir(), *b = make_dir();
	diags d;
	sn_ruleset *rs = NULL;

	/* files load sorted by name, .yml too; directories in the given order */
	write_file(a, "b.yaml", "- id: a.b\n  category: x\n  pattern: b\n");
	write_file(a, "a.yml", "rules:\n  - id: a.a\n    category: x\n    pattern: a\n");
	write_file(b, "a.yaml", "- id: b.a\n  category: x\n  pattern: c\n  window: 300\n"
				"  max_length: 1000\n");
	const char *dirs[2] = { b, a };
	memset(&d, 0, sizeof d);
	assert_int_equal(sn_ruleset_load(&rs, dirs, 2, DATA_DIR, collect, &d), 0);
	assert_int_equal(rs->n, 3);
	assert_string_equal(rs->rules[0].id, "b.a");
	assert_string_equal(rs->rules[1].id, "a.a");
	assert_string_equal(rs->rules[2].id, "a.b");
	assert_int_equal(rs->max_window, 300);
	assert_int_equal(rs->max_length, 1000);
	sn_ruleset_free(rs);

	/* an id defined in two directories */
	write_file(b, "c.yaml", "- id: a.b\n  category: x\n  pattern: d\n");
	memset(&d, 0, sizeof d);
	rs = NULL;
	assert_int_equal(sn_ruleset_load(&rs, dirs, 2, DATA_DIR, collect, &d), SN_ERULES);
	assert_null(rs);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].file, "/b.yaml"));
	assert_int_equal(d.v[0].line, 1);
	assert_int_equal(d.v[0].col, 7);
	char want[400];
	snprintf(want, sizeof want, "duplicate rule id 'a.b' (first defined at %s/c.yaml:1:3)", b);
	assert_string_equal(d.v[0].msg, want);
	remove_dir(a);
	remove_dir(b);
}

static void test_digest(void **state)
{
	(void)state;
	char *a = make_dir();
	sn_ruleset *rs = NULL;
	char d1[65], d2[65], d3[65];
	const char *dirs[1] = { a };

	write_file(a, "a.yaml", "- id: a\n  category: x\n  pattern: a\n");
	assert_int_equal(sn_ruleset_load(&rs, dirs, 1, DATA_DIR, NULL, NULL), 0);
	snprintf(d1, sizeof d1, "%s", sn_ruleset_digest(rs));
	sn_ruleset_free(rs);
	assert_int_equal(sn_ruleset_load(&rs, dirs, 1, DATA_DIR, NULL, NULL), 0);
	snprintf(d2, sizeof d2, "%s", sn_ruleset_digest(rs));
	sn_ruleset_free(rs);
	assert_string_equal(d1, d2);
	/* a comment is a change to the rule file, so a change to the digest */
	write_file(a, "a.yaml", "- id: a\n  category: x\n  pattern: a\n# changed\n");
	assert_int_equal(sn_ruleset_load(&rs, dirs, 1, DATA_DIR, NULL, NULL), 0);
	snprintf(d3, sizeof d3, "%s", sn_ruleset_digest(rs));
	sn_ruleset_free(rs);
	assert_string_not_equal(d1, d3);
	assert_int_equal(strlen(d3), 64);
	remove_dir(a);
}

/* --- anchors ------------------------------------------------------------ */

static int set_equals(const uint8_t *set, const char *members)
{
	uint8_t want[256] = { 0 };
	for (const char *p = members; *p; p++)
		want[(uint8_t)*p] = 1;
	return memcmp(set, want, 256) == 0;
}

static const char digits[] = "0123456789";
static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char lower[] = "abcdefghijklmnopqrstuvwxyz";
static const char alnum[] =
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void test_anchor_user_rules(void **state)
{
	(void)state;
	sn_ruleset *rs;
	diags d;
	int rc = load_text(
		"- {id: lb, category: t, pattern: '(?<![0-9A-Za-z])[0-9]'}\n"
		"- {id: lit, category: t, pattern: 'TCK-[0-9]{6}'}\n"
		"- {id: ci, category: t, pattern: 'abc', caseless: true}\n"
		"- {id: inl, category: t, pattern: '(?i)(?:geheim|secret)[0-9]{3}'}\n"
		"- {id: empty, category: t, pattern: 'a?'}\n"
		"- {id: bol, category: t, pattern: '(?m)^foo'}\n"
		"- {id: prop, category: t, pattern: '\\p{L}x'}\n"
		"- {id: alt, category: t, pattern: '(?<![0-9])1|2'}\n"
		"- {id: grp, category: t, pattern: '(?<![0-9])(?:1|2)'}\n"
		"- {id: ext, category: t, pattern: '(?<![0-9])(?x) 1 # | 2'}\n"
		"- {id: neg, category: t, pattern: '(?<![^a-c])x'}\n"
		"- {id: esc, category: t, pattern: '(?<![\\]\\-])x'}\n"
		"- {id: two, category: t, pattern: '(?<![0-9])(?<!x)[0-9]'}\n"
		"- {id: ncls, category: t, pattern: '(?<!a)[0-9]'}\n"
		"- {id: utf, category: t, pattern: '(?<![a\\x{e9}])\\x{e9}'}\n"
		"- {id: emptylit, category: t, pattern: 'x?@?', anchor: {literal: '@'}}\n",
		&rs, &d);
	print_diags(&d);
	assert_int_equal(rc, 0);
	const sn_rule *r;

	/* a leading negative lookbehind still leaves PCRE2 a start bitmap */
	r = rule_by_id(rs, "lb");
	assert_int_equal(r->anchor, SN_ANCHOR_FIRST);
	assert_true(set_equals(r->first, digits));
	assert_int_equal(r->has_boundary, 1);
	assert_true(set_equals(r->boundary, alnum));
	assert_string_equal(r->anchor_desc, "first-byte [0-9] after boundary");

	r = rule_by_id(rs, "lit");
	assert_int_equal(r->anchor, SN_ANCHOR_FIRST);
	assert_true(set_equals(r->first, "Tt")); /* a superset is safe */
	assert_int_equal(r->has_boundary, 0);

	r = rule_by_id(rs, "ci");
	assert_int_equal(r->anchor, SN_ANCHOR_FIRST);
	assert_int_equal(r->first['a'], 1);
	assert_int_equal(r->first['A'], 1);

	/* inline (?i): both cases, and in UTF mode the lead byte of U+017F
	 * (long s, which matches 's' caselessly) */
	r = rule_by_id(rs, "inl");
	assert_int_equal(r->anchor, SN_ANCHOR_FIRST);
	for (int b = 0; b < 128; b++)
		assert_int_equal(r->first[b], b == 'g' || b == 'G' || b == 's' || b == 'S');
	assert_int_equal(r->first[0xC5], 1);

	assert_int_equal(rule_by_id(rs, "empty")->anchor, SN_ANCHOR_NONE);
	assert_string_equal(rule_by_id(rs, "empty")->anchor_desc,
			    "none (PCRE2 over the whole chunk)");
	assert_int_equal(rule_by_id(rs, "bol")->anchor, SN_ANCHOR_NONE);
	assert_int_equal(rule_by_id(rs, "prop")->anchor, SN_ANCHOR_NONE);

	/* the lookbehind covers only the first alternative: no boundary */
	r = rule_by_id(rs, "alt");
	assert_int_equal(r->anchor, SN_ANCHOR_FIRST);
	assert_true(set_equals(r->first, "12"));
	assert_int_equal(r->has_boundary, 0);
	assert_true(set_equals(r->boundary, ""));

	r = rule_by_id(rs, "grp");
	assert_int_equal(r->has_boundary, 1);
	assert_true(set_equals(r->boundary, digits));

	/* inline extended mode: '#' starts a comment, not followed */
	assert_int_equal(rule_by_id(rs, "ext")->has_boundary, 0);

	/* negated class: everything ASCII but a-c */
	r = rule_by_id(rs, "neg");
	assert_int_equal(r->has_boundary, 1);
	for (int b = 0; b < 256; b++) {
		int want = b < 128 && !(b >= 'a' && b <= 'c');
		if (r->boundary[b] != want)
			fail_msg("neg: boundary[%d] = %d", b, r->boundary[b]);
	}

	r = rule_by_id(rs, "esc");
	assert_int_equal(r->has_boundary, 1);
	assert_true(set_equals(r->boundary, "]-"));

	r = rule_by_id(rs, "two");
	assert_int_equal(r->has_boundary, 1);
	assert_true(set_equals(r->boundary, digits));

	/* a lookbehind that is not a bracket class */
	assert_int_equal(rule_by_id(rs, "ncls")->has_boundary, 0);

	/* bytes >= 0x80 never enter the boundary table */
	r = rule_by_id(rs, "utf");
	assert_int_equal(r->has_boundary, 1);
	assert_true(set_equals(r->boundary, "a"));
	assert_int_equal(r->first[0xC3], 1);

	/* a literal anchor cannot help a pattern that matches the empty string */
	assert_int_equal(rule_by_id(rs, "emptylit")->anchor, SN_ANCHOR_NONE);
	sn_ruleset_free(rs);
}

/* Declared walk-back classes of a literal anchor. */
static void test_anchor_back(void **state)
{
	(void)state;
	sn_ruleset *rs;
	diags d;
	int rc = load_text(
		"- id: tag\n"
		"  category: t\n"
		"  pattern: '(?<![a-z<])(?:[a-z]{1,8}|<[a-z @]{1,8}>)@[0-9]{2}'\n"
		"  anchor: {literal: '@', before: 10, back: '[a-z]', back_except: '[<]'}\n"
		"- id: two\n"
		"  category: t\n"
		"  pattern: '[a-z]{1,4}#[0-9]'\n"
		"  caseless: true\n"
		"  anchor: {literal: '#', back: '[a-z]', back_except: '[<(]'}\n"
		"- {id: plain, category: t, pattern: 'x@', anchor: {literal: '@'}}\n",
		&rs, &d);
	print_diags(&d);
	assert_int_equal(rc, 0);
	const sn_rule *r = rule_by_id(rs, "tag");
	char set[128];
	assert_int_equal(r->anchor, SN_ANCHOR_LITERAL);
	assert_int_equal(r->has_back, 1);
	assert_string_equal(r->anchor_back, "[a-z]");
	assert_string_equal(r->anchor_back_except, "[<]");
	/* ASCII bytes as the class says; every byte >= 0x80 is in it */
	for (int b = 0; b < 256; b++)
		assert_int_equal(r->back[b], b >= 0x80 || (b >= 'a' && b <= 'z'));
	/* exempt bytes are ASCII only */
	assert_true(set_equals(r->back_except, "<"));
	assert_int_equal(r->back_nexcept, 1);
	assert_int_equal(r->back_except_byte, '<');
	assert_string_equal(r->anchor_desc, "literal '@' (\u2264" "10 bytes in, walks back)");

	/* compiled with the rule's options: caseless adds the upper case */
	r = rule_by_id(rs, "two");
	snprintf(set, sizeof set, "%s%s", lower, upper);
	for (int b = 0; b < 128; b++)
		assert_int_equal(r->back[b], strchr(set, b) != NULL && b != 0);
	assert_true(set_equals(r->back_except, "<("));
	assert_int_equal(r->back_nexcept, 2);

	r = rule_by_id(rs, "plain");
	assert_int_equal(r->has_back, 0);
	assert_null(r->anchor_back);
	assert_string_equal(r->anchor_desc, "literal '@' (\u2264" "255 bytes in)");
	sn_ruleset_free(rs);
}

/* A declared prefix: one sequence of classes, or alternatives. */
/* The union of a rule's prefix alternatives at position i (i < nprefix). */
static int in_union(const sn_rule *r, size_t i, int b)
{
	return r->prefix_alts[i][b] != 0;
}

static void test_prefix(void **state)
{
	(void)state;
	sn_ruleset *rs;
	diags d;
	int rc = load_text("- id: one\n  category: t\n  pattern: 'a[0-9]'\n  prefix: [a, '[0-9]']\n"
			   "- id: alts\n  category: t\n  pattern: 'ab[0-9]|cd'\n"
			   "  prefix: [[a, b, '[0-9]'], ['[c]', '[d-e]']]\n"
			   "- id: ci\n  category: t\n  pattern: 'ab'\n  caseless: true\n"
			   "  prefix: [[a, '[b]']]\n"
			   "- id: none\n  category: t\n  pattern: 'a'\n  prefix: []\n",
			   &rs, &d);
	print_diags(&d);
	assert_int_equal(rc, 0);
	const sn_rule *r = rule_by_id(rs, "one");
	assert_int_equal(r->nprefix_alt, 1);
	assert_int_equal(r->prefix_alt[0], 2);
	assert_int_equal(r->nprefix, 2);
	for (int b = 0; b < 256; b++) {
		assert_int_equal(in_union(r, 0, b), b == 'a' || b >= 0x80);
		assert_int_equal(in_union(r, 1, b), (b >= '0' && b <= '9') || b >= 0x80);
	}

	/* the byte tables hold the union over the positions all alternatives
	 * have; each alternative keeps its own classes */
	r = rule_by_id(rs, "alts");
	assert_int_equal(r->nprefix_alt, 2);
	assert_int_equal(r->prefix_alt[0], 3);
	assert_int_equal(r->prefix_alt[1], 2);
	assert_int_equal(r->nprefix_src, 5);
	assert_string_equal(r->prefix_src[3], "[c]");
	assert_int_equal(r->nprefix, 2);
	for (int b = 0; b < 256; b++) {
		assert_int_equal(in_union(r, 0, b), b == 'a' || b == 'c' || b >= 0x80);
		assert_int_equal(in_union(r, 1, b), b == 'b' || b == 'd' || b == 'e' || b >= 0x80);
		assert_int_equal(r->prefix_cls[2][b], (b >= '0' && b <= '9') || b >= 0x80);
		assert_int_equal(r->prefix_cls[4][b], b == 'd' || b == 'e' || b >= 0x80);
	}

	/* compiled with the rule's options */
	r = rule_by_id(rs, "ci");
	assert_int_equal(r->nprefix_alt, 1);
	assert_int_equal(in_union(r, 0, 'A'), 1);
	assert_int_equal(in_union(r, 1, 'B'), 1);
	assert_int_equal(in_union(r, 1, 'c'), 0);

	r = rule_by_id(rs, "none");
	assert_int_equal(r->nprefix_alt, 0);
	assert_int_equal(r->nprefix, 0);
	sn_ruleset_free(rs);
}

static sn_ruleset *load_shipped(void)
{
	const char *dirs[1] = { SHIPPED_DIR };
	sn_ruleset *rs = NULL;
	diags d;
	memset(&d, 0, sizeof d);
	int rc = sn_ruleset_load(&rs, dirs, 1, DATA_DIR, collect, &d);
	print_diags(&d);
	assert_int_equal(rc, 0);
	return rs;
}

static void test_anchor_shipped(void **state)
{
	(void)state;
	sn_ruleset *rs = load_shipped();
	const sn_rule *r;
	char set[128];

	r = rule_by_id(rs, "nl.bsn");
	assert_non_null(r);
	assert_int_equal(r->anchor, SN_ANCHOR_FIRST);
	assert_true(set_equals(r->first, digits));
	assert_int_equal(r->has_boundary, 1);
	assert_true(set_equals(r->boundary, alnum));
	assert_string_equal(r->anchor_desc, "first-byte [0-9] after boundary");

	r = rule_by_id(rs, "nl.iban");
	assert_non_null(r);
	assert_int_equal(r->anchor, SN_ANCHOR_FIRST);
	snprintf(set, sizeof set, "%s%s", upper, lower);
	assert_true(set_equals(r->first, set));
	assert_true(set_equals(r->boundary, alnum));

	r = rule_by_id(rs, "nl.phone");
	assert_non_null(r);
	assert_int_equal(r->anchor, SN_ANCHOR_FIRST);
	assert_true(set_equals(r->first, "+0(1"));
	snprintf(set, sizeof set, "%s+", alnum);
	assert_true(set_equals(r->boundary, set));

	r = rule_by_id(rs, "email");
	assert_non_null(r);
	assert_int_equal(r->anchor, SN_ANCHOR_LITERAL);
	assert_string_equal(r->anchor_literal, "@");
	assert_int_equal(r->anchor_before, 256);
	assert_int_equal(r->has_boundary, 1);
	snprintf(set, sizeof set, "%s!#$%%*+^_~.@-", alnum);
	assert_true(set_equals(r->boundary, set));
	/* an apostrophe may precede an address: 'jan@example.com' */
	assert_int_equal(r->boundary['\''], 0);
	/* before its '@' an unquoted address holds local-part bytes only; a
	 * quoted one starts with '"' */
	assert_int_equal(r->has_back, 1);
	snprintf(set, sizeof set, "%s!#$%%'*+^_~.-", alnum);
	for (int b = 0; b < 256; b++)
		assert_int_equal(r->back[b], b >= 0x80 || (b && strchr(set, b) != NULL));
	assert_true(set_equals(r->back_except, "\""));

	r = rule_by_id(rs, "nl.postcode");
	assert_non_null(r);
	assert_int_equal(r->anchor, SN_ANCHOR_FIRST);
	assert_true(set_equals(r->first, "123456789N"));
	snprintf(set, sizeof set, "%s+", alnum); /* not inside "U+2003" */
	assert_true(set_equals(r->boundary, set));
	assert_non_null(r->re_before);
	assert_non_null(r->re_after);

	r = rule_by_id(rs, "nl.postcode.lower");
	assert_non_null(r);
	assert_int_equal(r->anchor, SN_ANCHOR_FIRST);
	assert_true(set_equals(r->first, "123456789Nn"));
	assert_int_equal(r->require_context, 1);
	sn_ruleset_free(rs);
}

/* --- the shipped rules ---------------------------------------------------- */

static void test_shipped_set(void **state)
{
	(void)state;
	static const struct {
		const char *id, *category, *validator;
		int priority;
		sn_confidence base;
	} want[] = {
		{ "nl.iban", "iban", "iban", 90, SN_CONF_MEDIUM },
		{ "email", "email", "email", 80, SN_CONF_MEDIUM },
		{ "nl.phone", "phone", "nl_phone", 60, SN_CONF_MEDIUM },
		{ "nl.bsn", "bsn", "bsn", 50, SN_CONF_LOW },
		{ "nl.postcode", "postcode", "postcode", 40, SN_CONF_LOW },
		{ "nl.postcode.lower", "postcode", "postcode", 39, SN_CONF_LOW },
	};
	sn_ruleset *rs = load_shipped();
	assert_int_equal(sn_ruleset_count(rs), sizeof want / sizeof want[0]);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const sn_rule *r = rule_by_id(rs, want[i].id);
		if (!r)
			fail_msg("shipped rule %s missing", want[i].id);
		assert_string_equal(r->category, want[i].category);
		assert_string_equal(r->validator_name, want[i].validator);
		assert_int_equal(r->priority, want[i].priority);
		assert_int_equal(r->base, want[i].base);
		assert_true(r->keywords.n > 0);
		assert_true(r->columns.n > 0);
		assert_true(r->description != NULL);
		/* every rule documents itself with both kinds of example */
		size_t m = 0, nm = 0;
		for (size_t e = 0; e < r->nexamples; e++) {
			if (r->examples[e].expect_match)
				m++;
			else
				nm++;
		}
		assert_true(m >= 3);
		assert_true(nm >= 3);
	}
	assert_int_equal(strlen(sn_ruleset_digest(rs)), 64);
	sn_ruleset_free(rs);
}

/* Matches of one rule over text with the engine's semantics (leftmost
 * match from a frontier, which moves past each match), on the slow path
 * (unanchored pattern) or the fast path (anchor filter, then the anchored
 * pattern at each candidate). */
typedef struct span {
	size_t s, e;
} span;

static size_t next_char(const char *t, size_t n, size_t p)
{
	p++;
	while (p < n && ((uint8_t)t[p] & 0xC0) == 0x80)
		p++;
	return p;
}

/* The declared prefix at t + p: one alternative's classes hold the bytes
 * there (those past the end of the text are not judged). */
static int prefix_allows(const sn_rule *r, const char *t, size_t n, size_t p)
{
	size_t k = 0;
	if (!r->nprefix_alt)
		return 1;
	for (size_t a = 0; a < r->nprefix_alt; a++) {
		size_t i = 0;
		while (i < r->prefix_alt[a] && (p + i >= n || r->prefix_cls[k + i][(uint8_t)t[p + i]]))
			i++;
		if (i == r->prefix_alt[a])
			return 1;
		k += r->prefix_alt[a];
	}
	return 0;
}

static size_t run_path(const sn_rule *r, const char *t, size_t n, int fast, span *out, size_t max)
{
	pcre2_match_data *md = pcre2_match_data_create(64, NULL);
	size_t k = 0, pos = 0;
	int any_first = 0;
	assert_non_null(md);
	for (int b = 0; b < 256; b++)
		any_first |= r->first[b];
	while (pos <= n && k < max) {
		size_t s, e;
		if (!fast || r->anchor == SN_ANCHOR_NONE) {
			int rc = pcre2_match(r->re, (PCRE2_SPTR)t, n, pos, 0, md, NULL);
			if (rc < 0)
				break;
			s = pcre2_get_ovector_pointer(md)[0];
			e = pcre2_get_ovector_pointer(md)[1];
		} else {
			size_t p;
			int found = 0;
			for (p = pos; p < n; p++) {
				uint8_t b = (uint8_t)t[p];
				if ((b & 0xC0) == 0x80)
					continue;
				if (!r->first[b] && (r->anchor == SN_ANCHOR_FIRST || any_first))
					continue;
				if (r->anchor == SN_ANCHOR_LITERAL) {
					const char *lit = memmem(t + p, n - p, r->anchor_literal,
								 strlen(r->anchor_literal));
					if (!lit || (size_t)(lit - t) - p > r->anchor_before)
						continue;
					/* declared: the bytes up to the literal are in the
					 * back class unless the match starts with an
					 * exempt byte */
					size_t q = p;
					if (r->has_back && !r->back_except[b]) {
						while (q < (size_t)(lit - t) && r->back[(uint8_t)t[q]])
							q++;
						if (q < (size_t)(lit - t))
							continue;
					}
				}
				if (r->has_boundary && p > 0 && r->boundary[(uint8_t)t[p - 1]])
					continue;
				if (r->anchor == SN_ANCHOR_FIRST && !prefix_allows(r, t, n, p))
					continue;
				if (pcre2_match(r->re_anchored, (PCRE2_SPTR)t, n, p, 0, md,
						NULL) >= 0) {
					found = 1;
					break;
				}
			}
			if (!found)
				break;
			s = pcre2_get_ovector_pointer(md)[0];
			e = pcre2_get_ovector_pointer(md)[1];
		}
		out[k].s = s;
		out[k].e = e;
		k++;
		pos = e > s ? e : next_char(t, n, s);
	}
	pcre2_match_data_free(md);
	return k;
}

static void check_paths(const sn_rule *r, const char *t, size_t n, const char *what)
{
	static span fast[4096], slow[4096];
	size_t nf = run_path(r, t, n, 1, fast, 4096);
	size_t ns = run_path(r, t, n, 0, slow, 4096);
	if (nf != ns)
		fail_msg("%s, %s: fast path %zu matches, slow path %zu", r->id, what, nf, ns);
	for (size_t i = 0; i < nf; i++) {
		if (fast[i].s != slow[i].s || fast[i].e != slow[i].e)
			fail_msg("%s, %s: match %zu at %zu..%zu vs %zu..%zu", r->id, what, i,
				 fast[i].s, fast[i].e, slow[i].s, slow[i].e);
	}
}

static void test_shipped_patterns(void **state)
{
	(void)state;
	sn_ruleset *rs = load_shipped();
	span sp[64];
	for (size_t i = 0; i < rs->n; i++) {
		const sn_rule *r = &rs->rules[i];
		for (size_t e = 0; e < r->nexamples; e++) {
			const sn_example *x = &r->examples[e];
			size_t n = strlen(x->text);
			check_paths(r, x->text, n, x->text);
			/* a match example is at least matched by the pattern */
			if (x->expect_match && run_path(r, x->text, n, 0, sp, 64) == 0)
				fail_msg("%s: pattern does not match example '%s' (line %u)", r->id,
					 x->text, x->line);
			/* every match fits max_length */
			size_t k = run_path(r, x->text, n, 0, sp, 64);
			for (size_t j = 0; j < k; j++)
				assert_true(sp[j].e - sp[j].s <= r->max_length);
		}
	}
	sn_ruleset_free(rs);
}

/* Fast-path anchors against plain PCRE2 on random and adversarial text. */
static void test_shipped_anchor_exact(void **state)
{
	(void)state;
	static const char *pieces[] = {
		"111222333", "1112.22.333", "123 456 782", "123-456-782", "12345672", "0", "9",
		"NL91ABNA0417164300", "NL91 ABNA 0417 1643 00", "nl91abna0417164300", "NL",
		"06-12345678", "+31 (0)20 123 4567", "(010) 123 4567", "0031 6 12345678",
		"14 020", "0800 1234", "jan@example.nl", "a.b@c.d.e.com", "\"q\"@x.nl", "@", ".",
		"-", " ", "\n", "\t", ";", ",", "\"", "'", "2601 DC Delft", "1234ab", "NL-2611ET",
		"Kerkstraat 12, ", "\xc3\xa9", "\xe6\x88\x91", "\xe2\x80\x9c", "(", ")", "+",
		"31", "A", "z", "_", "#", "=", "?", "/", "x@2x.png", "-12", ".5",
		/* near misses of the prefixes' alternatives */
		"2024-01-02T09:36:56.250Z", "200 185 ms", "1234 ab", "nl-1234 ab", "NL-1234 AB",
		"14 020", "140318", "(06)", "0612345678", "06123456789", "1234 56 789",
		"1234-56-789", "01-02-2020", "2021 is", "123 456 78", "0800 1234", "0031",
	};
	static uint64_t rng = 0x9E3779B97F4A7C15ull;
	char *text = malloc(20000);
	assert_non_null(text);
	sn_ruleset *rs = load_shipped();
	for (int round = 0; round < 40; round++) {
		size_t n = 0;
		while (n < 4000) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			const char *p = pieces[rng % (sizeof pieces / sizeof pieces[0])];
			size_t l = strlen(p);
			memcpy(text + n, p, l);
			n += l;
		}
		for (size_t i = 0; i < rs->n; i++)
			check_paths(&rs->rules[i], text, n, "random text");
	}
	static const char *storms[] = { "7", "@", "1 .-", "a@1.", "+31 ", "9 ", "A1" };
	for (size_t s = 0; s < sizeof storms / sizeof storms[0]; s++) {
		size_t l = strlen(storms[s]);
		for (size_t i = 0; i < 20000; i++)
			text[i] = storms[s][i % l];
		for (size_t i = 0; i < rs->n; i++)
			check_paths(&rs->rules[i], text, 20000, storms[s]);
	}
	free(text);
	sn_ruleset_free(rs);
}

/* The shipped examples through the real text stage and matcher. */
static void on_example(const sn_example_result *r, void *payload)
{
	(void)payload;
	if (!r->passed)
		print_message("  %s: example %s '%s': %s\n", r->rule_id,
			      r->expect_match ? "match" : "no_match", r->text, r->why);
}

static void test_shipped_examples(void **state)
{
	(void)state;
	sn_ruleset *rs = load_shipped();
	int failed = sn_ruleset_test(rs, on_example, NULL);
	sn_ruleset_free(rs);
	assert_int_equal(failed, 0);
}

/* Split `text` and look for `l`'s words in it. */
static int text_has(const sn_wordlist *l, const char *text)
{
	static char scratch[4096];
	static sn_token tok[1024];
	size_t nt = sn_tokenize(text, strlen(text), scratch, tok, 1024);
	return sn_wordlist_find(l, tok, nt);
}

/*
 * Keyword lists: words and word sequences are found whatever their case,
 * also when the list is long enough to fill much of its bloom filter; words
 * not in it are not; tokens split at non-word bytes and keep non-ASCII
 * characters; a token's hash depends on all of its bytes.
 */
static void test_wordlist(void **state)
{
	(void)state;
	sn_wordlist l;
	char word[64], text[256];
	memset(&l, 0, sizeof l);
	l.n = 303;
	l.v = calloc(l.n, sizeof *l.v);
	assert_non_null(l.v);
	for (size_t k = 0; k < 300; k++) {
		snprintf(word, sizeof word, "kw%zu", k);
		assert_int_equal(sn_wordseq_init(&l.v[k], word), 0);
	}
	assert_int_equal(sn_wordseq_init(&l.v[300], "bsn nummer"), 0);
	assert_int_equal(sn_wordseq_init(&l.v[301], "Burger-Service-Nummer"), 0);
	assert_int_equal(sn_wordseq_init(&l.v[302], "e-mail\xc3\xa9"), 0);
	sn_wordlist_finish(&l);
	for (size_t k = 0; k < 300; k++) {
		snprintf(text, sizeof text, "het nummer (KW%zu): 123", k);
		assert_true(text_has(&l, text));
	}
	assert_true(text_has(&l, "zijn BSN-nummer is"));
	assert_true(text_has(&l, "burger service nummer"));
	assert_true(text_has(&l, "E-MAIL\xc3\xa9:"));
	assert_false(text_has(&l, "bsn, ander nummer"));
	assert_false(text_has(&l, "e-mail"));
	for (size_t k = 300; k < 3000; k++) {
		snprintf(text, sizeof text, "kw%zu kx%zu k w%zu %zukw", k, k % 300, k % 300, k % 300);
		assert_false(text_has(&l, text));
	}
	/* tokens */
	static char scratch[64];
	sn_token tok[8];
	size_t nt = sn_tokenize("ABC-d\xc3\xa9" "f  12x!", 13, scratch, tok, 8);
	assert_int_equal(nt, 3);
	assert_int_equal(tok[0].n, 3);
	assert_memory_equal(tok[0].p, "abc", 3);
	assert_int_equal(tok[1].n, 4);
	assert_memory_equal(tok[1].p, "d\xc3\xa9" "f", 4);
	assert_memory_equal(tok[2].p, "12x", 3);
	assert_int_equal(tok[0].hash, sn_token_hash("abc", 3));
	/* a change in any byte, or the length, changes the hash */
	char a[24], b[24];
	memset(a, 'q', sizeof a);
	for (size_t len = 1; len <= sizeof a; len++) {
		assert_int_equal(sn_token_hash(a, len), sn_token_hash(memcpy(b, a, len), len));
		assert_int_not_equal(sn_token_hash(a, len), sn_token_hash(a, len - 1));
		for (size_t i = 0; i < len; i++) {
			memcpy(b, a, len);
			b[i] = 'r';
			assert_int_not_equal(sn_token_hash(a, len), sn_token_hash(b, len));
		}
	}
	sn_wordlist_clear(&l);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_sequence),
		cmocka_unit_test(test_wordlist),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_columns_default_to_keywords),
		cmocka_unit_test(test_wordseq),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_all_problems_reported),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_null_callback),
		cmocka_unit_test(test_directories),
		cmocka_unit_test(test_order_and_duplicates_across_dirs),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_anchor_user_rules),
		cmocka_unit_test(test_anchor_back),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_anchor_shipped),
		cmocka_unit_test(test_shipped_set),
		cmocka_unit_test(test_shipped_patterns),
		cmocka_unit_test(test_shipped_anchor_exact),
		cmocka_unit_test(test_shipped_examples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
