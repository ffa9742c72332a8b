/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The rule loader: YAML rule files (format in rules/README.md) become one
 * immutable, compiled rule set.
 *
 * Rule files are written by hand, so the loader is strict (an unknown key is
 * a typo, not an extension) and reports every problem it can find with the
 * file, line and column of the offending node before it fails; a rule set
 * with any problem is never half-loaded.  Files are parsed with libyaml's
 * document API, which keeps the position of every node.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <yaml.h>

#include "match/context.h"
#include "match/rule.h"
#include "speurneus/error.h"

/* Hand-written rule files are a few KiB; anything this large is not one. */
#define SN_RULE_FILE_MAX (1024u * 1024u)
/* Rule files taken from one directory. */
#define SN_RULE_FILES_MAX 1024u
/* Rules in one set: bounds the work a hostile rule directory can cause. */
#define SN_RULES_MAX 4096u
/* Entries in one list (keywords, placeholders, examples, ...). */
#define SN_RULE_LIST_MAX 4096u
/* List entries in a whole set: YAML aliases can repeat a list without
 * making the file any larger, so the file size alone does not bound it. */
#define SN_RULE_ENTRIES_MAX (256u * 1024u)
/* Longest string value (patterns included). */
#define SN_RULE_STR_MAX (64u * 1024u)
/* Problems reported for one file; past this the file is noise. */
#define SN_RULE_DIAG_MAX 100u
#define SN_RULE_MSG_MAX 512
#define SN_WINDOW_MAX 1024
#define SN_MAX_LENGTH_MAX 4096
/* A literal anchor is found with memmem; long literals buy nothing. */
#define SN_LITERAL_MAX 64

static const char *const data_files[] = { "iban-lengths.txt", "nl-bank-codes.txt",
					  "nl-area-codes.txt" };

typedef struct loader {
	sn_diag_cb cb;
	void *payload;
	const char *file;       /* the file being parsed */
	yaml_document_t *doc;
	unsigned file_problems;
	size_t problems;
	char first[SN_RULE_MSG_MAX + 340]; /* first problem, for sn_error_last() */
	int oom;
	sn_rule *rules;
	size_t n, cap;
	int too_many;
	size_t entries;         /* list entries so far, against SN_RULE_ENTRIES_MAX */
	int too_many_entries;
} loader;

static void diag(loader *L, const char *file, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void diag(loader *L, const char *file, unsigned line, unsigned col, const char *fmt, ...)
{
	char msg[SN_RULE_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	L->problems++;
	if (L->problems == 1) {
		if (line)
			snprintf(L->first, sizeof L->first, "%.300s:%u:%u: %s", file, line, col,
				 msg);
		else
			snprintf(L->first, sizeof L->first, "%.300s: %s", file, msg);
	}
	L->file_problems++;
	if (!L->cb || L->file_problems > SN_RULE_DIAG_MAX + 1)
		return;
	if (L->file_problems == SN_RULE_DIAG_MAX + 1)
		L->cb(file, 0, 0, "too many problems; the rest are not reported", L->payload);
	else
		L->cb(file, line, col, msg, L->payload);
}

static void oom(loader *L)
{
	if (!L->oom)
		diag(L, L->file ? L->file : "", 0, 0, "out of memory");
	L->oom = 1;
}

static unsigned nline(const yaml_node_t *n)
{
	return (unsigned)n->start_mark.line + 1;
}

static unsigned ncol(const yaml_node_t *n)
{
	return (unsigned)n->start_mark.column + 1;
}

#define AT(L, n, ...) diag((L), (L)->file, nline(n), ncol(n), __VA_ARGS__)

static yaml_node_t *node_at(loader *L, int index)
{
	return yaml_document_get_node(L->doc, index);
}

static const char *sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int is_plain(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static int is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	if (n->type != YAML_SCALAR_NODE || !is_plain(n))
		return 0;
	for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++) {
		if (strcmp(sval(n), nulls[i]) == 0)
			return 1;
	}
	return 0;
}

/* The string value of a scalar node, or NULL after reporting. */
static const char *get_str(loader *L, const yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE || is_null(n)) {
		AT(L, n, "'%s' must be a string", what);
		return NULL;
	}
	if (strlen(sval(n)) != n->data.scalar.length) {
		AT(L, n, "'%s' contains a NUL character", what);
		return NULL;
	}
	if (n->data.scalar.length > SN_RULE_STR_MAX) {
		AT(L, n, "'%s' is longer than %u bytes", what, SN_RULE_STR_MAX);
		return NULL;
	}
	return sval(n);
}

/* Account for `k` more list entries; -1 (reported once) past the limit. */
static int take_entries(loader *L, const yaml_node_t *n, size_t k)
{
	if (L->entries + k > SN_RULE_ENTRIES_MAX) {
		if (!L->too_many_entries)
			AT(L, n, "too many list entries in the rule set (at most %u)",
			   SN_RULE_ENTRIES_MAX);
		L->too_many_entries = 1;
		return -1;
	}
	L->entries += k;
	return 0;
}

static int dup_str(loader *L, const yaml_node_t *n, const char *what, char **out)
{
	const char *s = get_str(L, n, what);
	if (!s)
		return -1;
	free(*out);
	*out = strdup(s);
	if (!*out) {
		oom(L);
		return -1;
	}
	return 0;
}

static int get_int(loader *L, const yaml_node_t *n, const char *what, long min, long max,
		   long *out)
{
	const char *s;
	char *end;
	long v;

	if (n->type != YAML_SCALAR_NODE || !is_plain(n))
		goto bad;
	s = sval(n);
	if (!((*s >= '0' && *s <= '9') || ((*s == '-' || *s == '+') && s[1] >= '0' && s[1] <= '9')))
		goto bad;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	AT(L, n, "'%s' must be an integer from %ld to %ld", what, min, max);
	return -1;
}

static int get_bool(loader *L, const yaml_node_t *n, const char *what, int *out)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };

	if (n->type == YAML_SCALAR_NODE && is_plain(n)) {
		for (size_t i = 0; i < 3; i++) {
			if (strcmp(sval(n), yes[i]) == 0) {
				*out = 1;
				return 0;
			}
			if (strcmp(sval(n), no[i]) == 0) {
				*out = 0;
				return 0;
			}
		}
	}
	AT(L, n, "'%s' must be true or false", what);
	return -1;
}

static int get_conf(loader *L, const yaml_node_t *n, const char *what, sn_confidence *out)
{
	static const struct {
		const char *name;
		sn_confidence c;
	} t[] = { { "low", SN_CONF_LOW }, { "medium", SN_CONF_MEDIUM }, { "high", SN_CONF_HIGH } };

	if (n->type == YAML_SCALAR_NODE) {
		for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
			if (strcmp(sval(n), t[i].name) == 0) {
				*out = t[i].c;
				return 0;
			}
		}
		AT(L, n, "unknown confidence '%.40s' for '%s' (expected low, medium or high)",
		   sval(n), what);
		return -1;
	}
	AT(L, n, "'%s' must be low, medium or high", what);
	return -1;
}

/* Items of a sequence node: 0, or -1 after reporting. */
static int seq_items(loader *L, const yaml_node_t *n, const char *what, const char *of,
		     yaml_node_item_t **items, size_t *count)
{
	*items = NULL;
	*count = 0;
	if (n->type != YAML_SEQUENCE_NODE) {
		AT(L, n, "'%s' must be a sequence of %s", what, of);
		return -1;
	}
	size_t c = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (c > SN_RULE_LIST_MAX) {
		AT(L, n, "'%s' has more than %u entries", what, SN_RULE_LIST_MAX);
		return -1;
	}
	if (take_entries(L, n, c) < 0)
		return -1;
	*items = n->data.sequence.items.start;
	*count = c;
	return 0;
}

static void wordseq_free(sn_wordseq *w)
{
	for (size_t k = 0; k < w->ntok; k++)
		free(w->tok[k]);
	free(w->tok);
	free(w->text);
	free(w->hash);
	free(w->len);
	memset(w, 0, sizeof *w);
}

int sn_wordseq_init(sn_wordseq *out, const char *text)
{
	size_t n = strlen(text), max = n / 2 + 1, nt;
	char *scratch = malloc(n + 1);
	sn_token *tok = malloc(max * sizeof *tok);
	int rc = SN_ENOMEM;

	memset(out, 0, sizeof *out);
	if (!scratch || !tok)
		goto done;
	/* The matcher splits text with sn_tokenize; splitting keywords with
	 * it too keeps both sides on the very same rule. */
	nt = sn_tokenize(text, n, scratch, tok, max);
	out->text = strdup(text);
	out->tok = calloc(nt ? nt : 1, sizeof *out->tok);
	out->hash = calloc(nt ? nt : 1, sizeof *out->hash);
	out->len = calloc(nt ? nt : 1, sizeof *out->len);
	if (!out->text || !out->tok || !out->hash || !out->len)
		goto done;
	for (size_t i = 0; i < nt; i++) {
		out->tok[i] = strndup(tok[i].p, tok[i].n);
		if (!out->tok[i])
			goto done;
		out->hash[i] = tok[i].hash;
		out->len[i] = tok[i].n;
		out->ntok = i + 1;
	}
	rc = 0;
done:
	if (rc < 0) {
		wordseq_free(out);
		sn_error_set(SN_ENOMEM, "out of memory splitting a keyword");
	}
	free(scratch);
	free(tok);
	return rc;
}

void sn_wordlist_clear(sn_wordlist *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		wordseq_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void sn_rule_clear(sn_rule *r)
{
	if (!r)
		return;
	free(r->id);
	free(r->category);
	free(r->description);
	free(r->pattern);
	free(r->validator_name);
	sn_wordlist_clear(&r->keywords);
	sn_wordlist_clear(&r->anti_keywords);
	sn_wordlist_clear(&r->columns);
	free(r->context_before);
	free(r->context_after);
	free(r->weak_values);
	free(r->weak_forms);
	for (size_t i = 0; i < r->nprefix_src; i++)
		free(r->prefix_src[i]);
	free(r->prefix_src);
	free(r->prefix_cls);
	free(r->prefix_alts);
	for (size_t i = 0; i < r->nplaceholders; i++)
		free(r->placeholders[i]);
	free(r->placeholders);
	free(r->anchor_literal);
	free(r->anchor_back);
	free(r->anchor_back_except);
	for (size_t i = 0; i < r->nexamples; i++)
		free(r->examples[i].text);
	free(r->examples);
	free(r->file);
	pcre2_code_free(r->re);
	pcre2_code_free(r->re_anchored);
	pcre2_code_free(r->re_before);
	pcre2_code_free(r->re_after);
	pcre2_code_free(r->re_weak);
	pcre2_code_free(r->re_weak_form);
	memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------------- */
/* One rule                                                                */

enum rule_key {
	K_ID, K_CATEGORY, K_DESCRIPTION, K_PATTERN, K_VALIDATOR, K_CONFIDENCE,
	K_KEYWORD_CONF, K_COLUMN_CONF, K_CONTEXT_CONF, K_WINDOW, K_KEYWORDS, K_ANTI,
	K_COLUMNS, K_BEFORE, K_AFTER, K_PLACEHOLDERS, K_REQUIRE, K_PRIORITY,
	K_MAX_LENGTH, K_ANCHOR, K_CASELESS, K_EXAMPLES, K_WEAK, K_WEAK_FORMS, K_PREFIX, K_COUNT
};

static const char *const key_names[K_COUNT] = {
	"id", "category", "description", "pattern", "validator", "confidence",
	"keyword_confidence", "column_confidence", "context_confidence", "window", "keywords",
	"anti_keywords", "columns", "context_before", "context_after", "placeholders",
	"require_context", "priority", "max_length", "anchor", "caseless", "examples",
	"weak_values", "weak_forms", "prefix",
};

static int get_wordlist(loader *L, const yaml_node_t *n, const char *what, sn_wordlist *out)
{
	size_t count;
	yaml_node_item_t *it;
	int bad = 0;

	sn_wordlist_clear(out);
	if (seq_items(L, n, what, "strings", &it, &count) < 0)
		return -1;
	if (count == 0)
		return 0;
	out->v = calloc(count ? count : 1, sizeof *out->v);
	if (!out->v) {
		oom(L);
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *e = node_at(L, it[i]);
		const char *s = e ? get_str(L, e, what) : NULL;
		if (!s) {
			bad = 1;
			continue;
		}
		if (sn_wordseq_init(&out->v[out->n], s) < 0) {
			oom(L);
			return -1;
		}
		if (out->v[out->n].ntok == 0) {
			AT(L, e, "'%s' entry '%.40s' has no letters or digits", what, s);
			wordseq_free(&out->v[out->n]);
			bad = 1;
			continue;
		}
		out->n++;
	}
	return bad ? -1 : 0;
}

static int copy_wordlist(loader *L, const yaml_node_t *n, const sn_wordlist *from,
			 sn_wordlist *to)
{
	sn_wordlist_clear(to);
	if (!from->n)
		return 0;
	if (take_entries(L, n, from->n) < 0)
		return -1;
	to->v = calloc(from->n, sizeof *to->v);
	if (!to->v) {
		oom(L);
		return -1;
	}
	for (size_t i = 0; i < from->n; i++) {
		if (sn_wordseq_init(&to->v[i], from->v[i].text) < 0) {
			oom(L);
			return -1;
		}
		to->n = i + 1;
	}
	return 0;
}

/* The strings of it[0..count) appended to arr, which has room for them,
 * counted in *n; -1 after reporting each item that is not a string. */
static int append_strings(loader *L, const yaml_node_item_t *it, size_t count, const char *what,
			  char **arr, size_t *n)
{
	int bad = 0;

	for (size_t i = 0; i < count; i++) {
		yaml_node_t *e = node_at(L, it[i]);
		char *s = NULL;
		if (!e || dup_str(L, e, what, &s) < 0) {
			bad = 1;
			continue;
		}
		arr[(*n)++] = s;
	}
	return bad ? -1 : 0;
}

static int get_placeholders(loader *L, const yaml_node_t *n, sn_rule *r)
{
	size_t count;
	yaml_node_item_t *it;

	if (seq_items(L, n, "placeholders", "strings", &it, &count) < 0)
		return -1;
	if (count == 0)
		return 0;
	r->placeholders = calloc(count ? count : 1, sizeof *r->placeholders);
	if (!r->placeholders) {
		oom(L);
		return -1;
	}
	return append_strings(L, it, count, "placeholders", r->placeholders, &r->nplaceholders);
}

/* One prefix alternative: a sequence of single-character classes. */
static int prefix_alt(loader *L, const yaml_node_t *n, sn_rule *r)
{
	size_t count;
	yaml_node_item_t *it;

	if (seq_items(L, n, "prefix", "strings", &it, &count) < 0)
		return -1;
	if (count == 0) {
		AT(L, n, "a 'prefix' alternative needs at least one class");
		return -1;
	}
	if (count > SN_PREFIX_MAX) {
		AT(L, n, "'prefix' has at most %d classes per alternative", SN_PREFIX_MAX);
		return -1;
	}
	char **src = realloc(r->prefix_src, (r->nprefix_src + count) * sizeof *src);
	if (!src) {
		oom(L);
		return -1;
	}
	r->prefix_src = src;
	if (append_strings(L, it, count, "prefix", r->prefix_src, &r->nprefix_src) < 0)
		return -1;
	r->prefix_alt[r->nprefix_alt++] = count;
	return 0;
}

/*
 * prefix: one single-character class per leading byte of every match
 * (['[A-Za-z]', '[A-Za-z]', '[0-9]']), or a sequence of such sequences when
 * a pattern's alternatives start differently: every match starts with one
 * of them.
 */
static int get_prefix(loader *L, const yaml_node_t *n, sn_rule *r)
{
	size_t count;
	yaml_node_item_t *it;
	int bad = 0;

	if (seq_items(L, n, "prefix", "strings or sequences of strings", &it, &count) < 0)
		return -1;
	if (count == 0)
		return 0;
	const yaml_node_t *first = node_at(L, it[0]);
	if (!first)
		return -1;
	/* the first item says which form; every other must be of it */
	int nested = first->type == YAML_SEQUENCE_NODE;
	for (size_t i = 1; i < count; i++) {
		const yaml_node_t *e = node_at(L, it[i]);
		if (!e || (e->type == YAML_SEQUENCE_NODE) != nested) {
			if (e)
				AT(L, e, "'prefix' mixes classes and sequences of classes");
			bad = 1;
		}
	}
	if (bad)
		return -1;
	if (!nested)
		return prefix_alt(L, n, r);
	if (count > SN_PREFIX_ALTS) {
		AT(L, n, "'prefix' has at most %d alternatives", SN_PREFIX_ALTS);
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		if (prefix_alt(L, node_at(L, it[i]), r) < 0)
			bad = 1;
	}
	return bad ? -1 : 0;
}

static int add_example(loader *L, sn_rule *r, const char *text, int match, sn_confidence c,
		       unsigned line)
{
	sn_example *v = realloc(r->examples, (r->nexamples + 1) * sizeof *v);
	if (!v) {
		oom(L);
		return -1;
	}
	r->examples = v;
	v[r->nexamples].text = strdup(text);
	if (!v[r->nexamples].text) {
		oom(L);
		return -1;
	}
	v[r->nexamples].expect_match = match;
	v[r->nexamples].confidence = c;
	v[r->nexamples].line = line;
	r->nexamples++;
	return 0;
}

/* One entry of examples.match / examples.no_match. */
static int get_example(loader *L, const yaml_node_t *e, sn_rule *r, int match)
{
	const char *what = match ? "examples.match" : "examples.no_match";
	const char *text = NULL;
	sn_confidence c = SN_CONF_NONE;
	int bad = 0, have_text = 0;

	if (e->type == YAML_SCALAR_NODE) {
		text = get_str(L, e, what);
		return text ? add_example(L, r, text, match, c, nline(e)) : -1;
	}
	if (e->type != YAML_MAPPING_NODE) {
		AT(L, e, "an entry of '%s' must be a string or a mapping with 'text'", what);
		return -1;
	}
	for (yaml_node_pair_t *p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(L, p->key), *v = node_at(L, p->value);
		if (!k || !v || k->type != YAML_SCALAR_NODE) {
			AT(L, k ? k : e, "example keys must be strings");
			bad = 1;
		} else if (strcmp(sval(k), "text") == 0) {
			if (have_text++)
				AT(L, k, "duplicate key 'text'"), bad = 1;
			else if (!(text = get_str(L, v, "text")))
				bad = 1;
		} else if (strcmp(sval(k), "confidence") == 0) {
			if (!match) {
				AT(L, k, "'confidence' is only allowed under examples.match");
				bad = 1;
			} else if (get_conf(L, v, "confidence", &c) < 0) {
				bad = 1;
			}
		} else {
			AT(L, k, "unknown key '%.40s' in an example", sval(k));
			bad = 1;
		}
	}
	if (!have_text) {
		AT(L, e, "example without 'text'");
		bad = 1;
	}
	if (bad)
		return -1;
	return add_example(L, r, text, match, c, nline(e));
}

static int get_examples(loader *L, const yaml_node_t *n, sn_rule *r)
{
	int bad = 0;

	if (n->type != YAML_MAPPING_NODE) {
		AT(L, n, "'examples' must be a mapping with 'match' and 'no_match'");
		return -1;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(L, p->key), *v = node_at(L, p->value);
		int match;
		if (!k || !v || k->type != YAML_SCALAR_NODE) {
			AT(L, k ? k : n, "'examples' keys must be strings");
			bad = 1;
			continue;
		}
		if (strcmp(sval(k), "match") == 0) {
			match = 1;
		} else if (strcmp(sval(k), "no_match") == 0) {
			match = 0;
		} else {
			AT(L, k, "unknown key '%.40s' in examples (expected match or no_match)",
			   sval(k));
			bad = 1;
			continue;
		}
		size_t count;
		yaml_node_item_t *it;
		if (seq_items(L, v, match ? "examples.match" : "examples.no_match", "examples",
			      &it, &count) < 0) {
			bad = 1;
			continue;
		}
		if (r->nexamples + count > SN_RULE_LIST_MAX) {
			AT(L, v, "more than %u examples", SN_RULE_LIST_MAX);
			bad = 1;
			continue;
		}
		for (size_t i = 0; i < count; i++) {
			yaml_node_t *e = node_at(L, it[i]);
			if (!e || get_example(L, e, r, match) < 0)
				bad = 1;
			if (L->oom)
				return -1;
		}
	}
	return bad ? -1 : 0;
}

/* One of the anchor's class keys: a string, kept with its position so that
 * the compiler can point at it. */
static int get_anchor_class(loader *L, const yaml_node_t *k, const yaml_node_t *v, const char *what,
			    int *seen, char **out, unsigned *line, unsigned *col)
{
	if ((*seen)++) {
		AT(L, k, "duplicate key '%s'", sval(k));
		return -1;
	}
	if (dup_str(L, v, what, out) < 0)
		return -1;
	*line = nline(v);
	*col = ncol(v);
	return 0;
}

/*
 * anchor: {literal: "@", before: 64, back: "[a-z.]", back_except: '["]'};
 * `before` defaults to max_length.  The classes are checked and compiled
 * with the patterns (rule_compile.c).
 */
static int get_anchor(loader *L, const yaml_node_t *n, sn_rule *r, long *before)
{
	int bad = 0, seen_lit = 0, seen_before = 0, seen_back = 0, seen_except = 0;

	*before = -1;
	if (n->type != YAML_MAPPING_NODE) {
		AT(L, n, "'anchor' must be a mapping with 'literal' and 'before'");
		return -1;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(L, p->key), *v = node_at(L, p->value);
		if (!k || !v || k->type != YAML_SCALAR_NODE) {
			AT(L, k ? k : n, "'anchor' keys must be strings");
			bad = 1;
		} else if (strcmp(sval(k), "literal") == 0) {
			if (seen_lit++) {
				AT(L, k, "duplicate key 'literal'");
				bad = 1;
			} else if (dup_str(L, v, "anchor.literal", &r->anchor_literal) < 0) {
				bad = 1;
			} else if (!r->anchor_literal[0] ||
				   strlen(r->anchor_literal) > SN_LITERAL_MAX) {
				AT(L, v, "'anchor.literal' must be 1 to %d bytes", SN_LITERAL_MAX);
				bad = 1;
			}
		} else if (strcmp(sval(k), "before") == 0) {
			if (seen_before++) {
				AT(L, k, "duplicate key 'before'");
				bad = 1;
			} else if (get_int(L, v, "anchor.before", 0, SN_MAX_LENGTH_MAX,
					   before) < 0) {
				bad = 1;
			}
		} else if (strcmp(sval(k), "back") == 0) {
			if (get_anchor_class(L, k, v, "anchor.back", &seen_back, &r->anchor_back,
					     &r->back_line, &r->back_col) < 0)
				bad = 1;
		} else if (strcmp(sval(k), "back_except") == 0) {
			if (get_anchor_class(L, k, v, "anchor.back_except", &seen_except,
					     &r->anchor_back_except, &r->except_line,
					     &r->except_col) < 0)
				bad = 1;
		} else {
			AT(L, k,
			   "unknown key '%.40s' in anchor (expected literal, before, back or "
			   "back_except)",
			   sval(k));
			bad = 1;
		}
	}
	if (!seen_lit) {
		AT(L, n, "'anchor' needs 'literal'");
		bad = 1;
	}
	if (seen_except && !seen_back) {
		AT(L, n, "'anchor.back_except' needs 'anchor.back'");
		bad = 1;
	}
	return bad ? -1 : 0;
}

static int valid_name(const char *s, int upper)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-' || (upper && c >= 'A' && c <= 'Z')))
			return 0;
	}
	return 1;
}

/*
 * Column of a scalar's first character when the value is written on one
 * line without escapes or folding, so that an offset into the value is an
 * offset in the file too; 0 otherwise.
 */
static unsigned exact_col(const yaml_node_t *n)
{
	size_t chars = 0, width;
	int quoted;

	if (n->type != YAML_SCALAR_NODE || n->start_mark.line != n->end_mark.line)
		return 0;
	switch (n->data.scalar.style) {
	case YAML_PLAIN_SCALAR_STYLE:
		quoted = 0;
		break;
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		quoted = 1;
		break;
	default:
		return 0;
	}
	for (size_t i = 0; i < n->data.scalar.length; i++)
		chars += (n->data.scalar.value[i] & 0xC0) != 0x80;
	width = n->end_mark.column - n->start_mark.column;
	/* an escape ('' or \x) always takes more characters than it yields */
	if (width != chars + (quoted ? 2 : 0))
		return 0;
	return ncol(n) + (quoted ? 1 : 0);
}

static int find_rule(const loader *L, const char *id)
{
	for (size_t i = 0; i < L->n; i++) {
		if (strcmp(L->rules[i].id, id) == 0)
			return (int)i;
	}
	return -1;
}

static void compile_diag(const char *file, unsigned line, unsigned col, const char *msg,
			 void *payload)
{
	diag(payload, file, line, col, "%s", msg);
}

static void parse_rule(loader *L, const yaml_node_t *n)
{
	sn_rule r;
	const yaml_node_t *seen[K_COUNT] = { 0 };
	long v, before = -1;
	int bad = 0;

	memset(&r, 0, sizeof r);
	if (n->type != YAML_MAPPING_NODE) {
		AT(L, n, "a rule must be a mapping");
		return;
	}
	if (L->n >= SN_RULES_MAX) {
		if (!L->too_many)
			AT(L, n, "too many rules (at most %u in a set)", SN_RULES_MAX);
		L->too_many = 1;
		return;
	}
	r.base = SN_CONF_LOW;
	r.keyword_conf = SN_CONF_HIGH;
	r.column_conf = SN_CONF_HIGH;
	r.context_conf = SN_CONF_MEDIUM;
	r.window = 64;
	r.max_length = 256;
	r.line = nline(n);
	r.col = ncol(n);
	r.file = strdup(L->file);
	if (!r.file) {
		oom(L);
		return;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_at(L, p->key), *val = node_at(L, p->value);
		int key;
		if (!k || !val || k->type != YAML_SCALAR_NODE) {
			AT(L, k ? k : n, "rule keys must be strings");
			bad = 1;
			continue;
		}
		for (key = 0; key < K_COUNT; key++) {
			if (strcmp(sval(k), key_names[key]) == 0)
				break;
		}
		if (key == K_COUNT) {
			AT(L, k, "unknown key '%.40s'", sval(k));
			bad = 1;
			continue;
		}
		if (seen[key]) {
			AT(L, k, "duplicate key '%s'", key_names[key]);
			bad = 1;
			continue;
		}
		seen[key] = val;
		int rc = 0;
		switch ((enum rule_key)key) {
		case K_ID:
			rc = dup_str(L, val, "id", &r.id);
			if (rc == 0 && !valid_name(r.id, 1)) {
				AT(L, val, "rule id '%.40s' may only hold letters, digits, "
				   "'_', '.' and '-'", r.id);
				rc = -1;
			}
			break;
		case K_CATEGORY:
			rc = dup_str(L, val, "category", &r.category);
			if (rc == 0 && !valid_name(r.category, 0)) {
				AT(L, val, "category '%.40s' may only hold a-z, 0-9, '_', '.' and "
				   "'-'", r.category);
				rc = -1;
			}
			break;
		case K_DESCRIPTION:
			rc = dup_str(L, val, "description", &r.description);
			break;
		case K_PATTERN:
			rc = dup_str(L, val, "pattern", &r.pattern);
			r.pattern_line = nline(val);
			r.pattern_col = exact_col(val);
			r.pattern_col_exact = r.pattern_col != 0;
			if (!r.pattern_col)
				r.pattern_col = ncol(val);
			if (rc == 0 && !r.pattern[0]) {
				AT(L, val, "'pattern' is empty");
				rc = -1;
			}
			break;
		case K_VALIDATOR:
			rc = dup_str(L, val, "validator", &r.validator_name);
			if (rc == 0) {
				r.validator = sn_validator_find(r.validator_name);
				if (!r.validator) {
					AT(L, val, "unknown validator '%.40s'", r.validator_name);
					rc = -1;
				}
			}
			break;
		case K_CONFIDENCE:
			rc = get_conf(L, val, "confidence", &r.base);
			break;
		case K_KEYWORD_CONF:
			rc = get_conf(L, val, "keyword_confidence", &r.keyword_conf);
			break;
		case K_COLUMN_CONF:
			rc = get_conf(L, val, "column_confidence", &r.column_conf);
			break;
		case K_CONTEXT_CONF:
			rc = get_conf(L, val, "context_confidence", &r.context_conf);
			break;
		case K_WINDOW:
			rc = get_int(L, val, "window", 1, SN_WINDOW_MAX, &v);
			if (rc == 0)
				r.window = (unsigned)v;
			break;
		case K_KEYWORDS:
			rc = get_wordlist(L, val, "keywords", &r.keywords);
			break;
		case K_ANTI:
			rc = get_wordlist(L, val, "anti_keywords", &r.anti_keywords);
			break;
		case K_COLUMNS:
			rc = get_wordlist(L, val, "columns", &r.columns);
			break;
		case K_BEFORE:
			rc = dup_str(L, val, "context_before", &r.context_before);
			break;
		case K_AFTER:
			rc = dup_str(L, val, "context_after", &r.context_after);
			break;
		case K_WEAK:
			rc = dup_str(L, val, "weak_values", &r.weak_values);
			break;
		case K_WEAK_FORMS:
			rc = dup_str(L, val, "weak_forms", &r.weak_forms);
			break;
		case K_PREFIX:
			rc = get_prefix(L, val, &r);
			break;
		case K_PLACEHOLDERS:
			rc = get_placeholders(L, val, &r);
			break;
		case K_REQUIRE:
			rc = get_bool(L, val, "require_context", &r.require_context);
			break;
		case K_PRIORITY:
			rc = get_int(L, val, "priority", -1000000, 1000000, &v);
			if (rc == 0)
				r.priority = (int)v;
			break;
		case K_MAX_LENGTH:
			rc = get_int(L, val, "max_length", 1, SN_MAX_LENGTH_MAX, &v);
			if (rc == 0)
				r.max_length = (unsigned)v;
			break;
		case K_ANCHOR:
			rc = get_anchor(L, val, &r, &before);
			break;
		case K_CASELESS:
			rc = get_bool(L, val, "caseless", &r.caseless);
			break;
		case K_EXAMPLES:
			rc = get_examples(L, val, &r);
			break;
		case K_COUNT:
			break;
		}
		if (rc < 0)
			bad = 1;
		if (L->oom)
			goto done;
	}
	for (int k = K_ID; k <= K_PATTERN; k++) {
		if (k != K_DESCRIPTION && !seen[k]) {
			AT(L, n, "missing required key '%s'", key_names[k]);
			bad = 1;
		}
	}
	if (!seen[K_COLUMNS] && copy_wordlist(L, n, &r.keywords, &r.columns) < 0)
		bad = 1;
	if (L->oom)
		goto done;
	if (r.anchor_literal) {
		/* the literal lies inside the match, so it starts at most
		 * max_length - its length bytes in */
		size_t ll = strlen(r.anchor_literal);
		if (before < 0)
			before = ll <= r.max_length ? (long)(r.max_length - ll) : 0;
		r.anchor_before = (unsigned)before;
		if ((size_t)before + ll > r.max_length) {
			AT(L, seen[K_ANCHOR], "'anchor.before' plus the literal's length exceeds "
			   "max_length (%u)", r.max_length);
			bad = 1;
		}
	}
	if (r.require_context && !r.keywords.n && !r.columns.n && !r.context_before &&
	    !r.context_after) {
		AT(L, seen[K_REQUIRE],
		   "'require_context' needs keywords, columns, context_before or context_after");
		bad = 1;
	}
	if (r.pattern && sn_rule_compile(&r, compile_diag, L) < 0)
		bad = 1;
	if (r.id) {
		int first = find_rule(L, r.id);
		if (first >= 0) {
			const sn_rule *f = &L->rules[first];
			AT(L, seen[K_ID], "duplicate rule id '%s' (first defined at %s:%u:%u)",
			   r.id, f->file, f->line, f->col);
			bad = 1;
		}
	}
	/* A rule with problems is kept only for the duplicate-id check: any
	 * problem fails the whole load. */
	if (r.id && (!bad || find_rule(L, r.id) < 0)) {
		if (L->n == L->cap) {
			size_t cap = L->cap ? L->cap * 2 : 16;
			sn_rule *nr = realloc(L->rules, cap * sizeof *nr);
			if (!nr) {
				oom(L);
				goto done;
			}
			L->rules = nr;
			L->cap = cap;
		}
		L->rules[L->n++] = r;
		return;
	}
done:
	sn_rule_clear(&r);
}

/* ---------------------------------------------------------------------- */
/* Files and directories                                                   */

static void parse_file(loader *L, const char *path, const unsigned char *buf, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	int have_doc = 0;

	if (!yaml_parser_initialize(&parser)) {
		oom(L);
		return;
	}
	yaml_parser_set_input_string(&parser, buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		if (parser.error == YAML_MEMORY_ERROR)
			oom(L);
		else
			diag(L, path, (unsigned)parser.problem_mark.line + 1,
			     (unsigned)parser.problem_mark.column + 1,
			     "YAML syntax error: %s%s%s%s",
			     parser.problem ? parser.problem : "unknown problem",
			     parser.context ? " (" : "", parser.context ? parser.context : "",
			     parser.context ? ")" : "");
		goto done;
	}
	have_doc = 1;
	L->doc = &doc;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	const yaml_node_t *list = NULL;
	if (!root || is_null(root)) {
		diag(L, path, root ? nline(root) : 1, root ? ncol(root) : 1,
		     "no rules: expected a sequence of rules or a mapping with 'rules'");
	} else if (root->type == YAML_SEQUENCE_NODE) {
		list = root;
	} else if (root->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
		     p < root->data.mapping.pairs.top; p++) {
			yaml_node_t *k = node_at(L, p->key), *v = node_at(L, p->value);
			int named = k && k->type == YAML_SCALAR_NODE;
			if (!named || !v || strcmp(sval(k), "rules") != 0) {
				AT(L, k ? k : root,
				   "unknown top-level key%s%.40s%s (expected 'rules')",
				   named ? " '" : "", named ? sval(k) : "", named ? "'" : "");
			} else if (list) {
				AT(L, k, "duplicate key 'rules'");
			} else if (v->type != YAML_SEQUENCE_NODE) {
				AT(L, v, "'rules' must be a sequence of rules");
			} else {
				list = v;
			}
		}
	} else {
		AT(L, root, "expected a sequence of rules or a mapping with 'rules'");
	}
	if (list) {
		for (yaml_node_item_t *it = list->data.sequence.items.start;
		     it < list->data.sequence.items.top && !L->oom; it++) {
			yaml_node_t *e = node_at(L, *it);
			if (e)
				parse_rule(L, e);
		}
	}
	yaml_document_delete(&doc);
	have_doc = 0;
	L->doc = NULL;
	/* A second document would be silently ignored: say so instead. */
	if (!yaml_parser_load(&parser, &doc)) {
		diag(L, path, (unsigned)parser.problem_mark.line + 1,
		     (unsigned)parser.problem_mark.column + 1, "YAML syntax error: %s",
		     parser.problem ? parser.problem : "unknown problem");
		goto done;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&doc);
	if (root)
		diag(L, path, nline(root), ncol(root),
		     "more than one YAML document in a rule file");
done:
	if (have_doc)
		yaml_document_delete(&doc);
	L->doc = NULL;
	yaml_parser_delete(&parser);
}

/* Whole file into *out (NUL-terminated); 0, or an errno value (EFBIG when
 * over `max`, EINVAL when not a regular file). */
static int read_all(const char *path, size_t max, unsigned char **out, size_t *len)
{
	struct stat st;
	unsigned char *buf = NULL;
	size_t n = 0;
	int err = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) < 0) {
		err = errno;
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		err = EINVAL;
		goto done;
	}
	if ((uintmax_t)st.st_size > max) {
		err = EFBIG;
		goto done;
	}
	/* one byte more than the limit shows a file that grew meanwhile */
	buf = malloc(max + 2);
	if (!buf) {
		err = ENOMEM;
		goto done;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, max + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			goto done;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			err = EFBIG;
			goto done;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
done:
	free(buf);
	close(fd);
	return err;
}

static const char *read_error(int err)
{
	return err == EFBIG ? "file too large" : err == EINVAL ? "not a regular file" :
								    strerror(err);
}

static void hash_file(crypto_generichash_state *st, const char *name, const unsigned char *buf,
		      size_t len)
{
	static const unsigned char nul = 0;
	crypto_generichash_update(st, (const unsigned char *)name, strlen(name));
	crypto_generichash_update(st, &nul, 1);
	crypto_generichash_update(st, buf, len);
	crypto_generichash_update(st, &nul, 1);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_rule_file(const char *name)
{
	size_t n = strlen(name);
	if (name[0] == '.') /* editor and VCS leftovers */
		return 0;
	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static void load_dir(loader *L, const char *dir, crypto_generichash_state *st)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	L->file = dir;
	L->file_problems = 0;
	if (!d) {
		diag(L, dir, 0, 0, "cannot open rule directory: %s", strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (!is_rule_file(de->d_name))
			continue;
		if (n == SN_RULE_FILES_MAX) {
			diag(L, dir, 0, 0, "more than %u rule files", SN_RULE_FILES_MAX);
			break;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nn = realloc(names, nc * sizeof *nn);
			if (!nn) {
				oom(L);
				break;
			}
			names = nn;
			cap = nc;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			oom(L);
			break;
		}
		n++;
	}
	closedir(d);
	if (L->oom || n == SN_RULE_FILES_MAX)
		goto done;
	if (n == 0) {
		diag(L, dir, 0, 0, "no rule files (*.yaml, *.yml) in directory");
		goto done;
	}
	qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n && !L->oom; i++) {
		char path[PATH_MAX];
		unsigned char *buf;
		size_t len;
		int pn = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (pn < 0 || (size_t)pn >= sizeof path) {
			diag(L, dir, 0, 0, "path too long for '%.40s'", names[i]);
			continue;
		}
		L->file = path;
		L->file_problems = 0;
		int err = read_all(path, SN_RULE_FILE_MAX, &buf, &len);
		if (err) {
			if (err == ENOMEM)
				oom(L);
			else
				diag(L, path, 0, 0, "cannot read rule file: %s", read_error(err));
			continue;
		}
		hash_file(st, names[i], buf, len);
		parse_file(L, path, buf, len);
		free(buf);
	}
done:
	L->file = NULL;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* ---------------------------------------------------------------------- */
/* The rule set                                                            */

void sn_ruleset_free(sn_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++)
		sn_rule_clear(&rs->rules[i]);
	free(rs->rules);
	sn_tables_free(rs->tables);
	free(rs);
}

/* Hash the data files after sn_tables_load has read (and judged) them. */
static void hash_data(loader *L, const char *data_dir, crypto_generichash_state *st)
{
	for (size_t i = 0; i < sizeof data_files / sizeof data_files[0] && !L->oom; i++) {
		char path[PATH_MAX];
		unsigned char *buf;
		size_t len;
		int pn = snprintf(path, sizeof path, "%s/%s", data_dir, data_files[i]);
		if (pn < 0 || (size_t)pn >= sizeof path) {
			diag(L, data_dir, 0, 0, "path too long for '%s'", data_files[i]);
			continue;
		}
		L->file_problems = 0;
		int err = read_all(path, SN_RULE_FILE_MAX, &buf, &len);
		if (err) {
			if (err == ENOMEM)
				oom(L);
			else
				diag(L, path, 0, 0, "cannot read data file: %s", read_error(err));
			continue;
		}
		hash_file(st, data_files[i], buf, len);
		free(buf);
	}
}

int sn_ruleset_load(sn_ruleset **out, const char *const *dirs, size_t ndirs,
		    const char *data_dir, sn_diag_cb cb, void *payload)
{
	loader L;
	sn_ruleset *rs = NULL;
	crypto_generichash_state st;
	unsigned char digest[32];
	int rc;

	if (!out || (ndirs && !dirs) || !data_dir)
		return sn_error_set(SN_EINVAL, "sn_ruleset_load: NULL argument");
	*out = NULL;
	if (sodium_init() < 0)
		return sn_error_set(SN_EINVAL, "libsodium could not be initialised");
	memset(&L, 0, sizeof L);
	L.cb = cb;
	L.payload = payload;
	crypto_generichash_init(&st, NULL, 0, sizeof digest);
	rs = calloc(1, sizeof *rs);
	if (!rs) {
		rc = sn_error_set(SN_ENOMEM, "out of memory loading rules");
		goto done;
	}
	if (ndirs == 0)
		diag(&L, "", 0, 0, "no rule directory given");
	for (size_t i = 0; i < ndirs && !L.oom; i++) {
		if (!dirs[i]) {
			diag(&L, "", 0, 0, "rule directory %zu is NULL", i + 1);
			continue;
		}
		load_dir(&L, dirs[i], &st);
	}
	if (!L.oom && sn_tables_load(&rs->tables, data_dir, cb, payload) < 0) {
		/* sn_tables_load has reported the details through cb */
		L.problems++;
		if (L.problems == 1)
			snprintf(L.first, sizeof L.first, "%s", sn_error_last());
	} else if (!L.oom) {
		hash_data(&L, data_dir, &st);
	}
	if (!L.problems && L.n == 0)
		diag(&L, ndirs ? dirs[0] : "", 0, 0, "the rule set is empty");
	if (L.oom) {
		rc = sn_error_set(SN_ENOMEM, "out of memory loading rules");
		goto done;
	}
	if (L.problems) {
		rc = sn_error_set(SN_ERULES, "%s%s", L.first,
				  L.problems > 1 ? " (and more problems)" : "");
		goto done;
	}
	rs->rules = L.rules;
	rs->n = L.n;
	L.rules = NULL;
	L.n = 0;
	for (size_t i = 0; i < rs->n; i++) {
		if (rs->rules[i].max_length > rs->max_length)
			rs->max_length = rs->rules[i].max_length;
		if (rs->rules[i].window > rs->max_window)
			rs->max_window = rs->rules[i].window;
	}
	crypto_generichash_final(&st, digest, sizeof digest);
	sodium_bin2hex(rs->digest, sizeof rs->digest, digest, sizeof digest);
	*out = rs;
	rs = NULL;
	rc = 0;
done:
	for (size_t i = 0; i < L.n; i++)
		sn_rule_clear(&L.rules[i]);
	free(L.rules);
	sn_ruleset_free(rs);
	return rc;
}

size_t sn_ruleset_count(const sn_ruleset *rs)
{
	return rs ? rs->n : 0;
}

int sn_ruleset_info(const sn_ruleset *rs, size_t i, sn_rule_info *out)
{
	if (!rs || !out || i >= rs->n)
		return sn_error_set(SN_EINVAL, "no rule %zu in the set", i);
	const sn_rule *r = &rs->rules[i];
	out->id = r->id;
	out->category = r->category;
	out->description = r->description;
	out->validator = r->validator_name;
	out->file = r->file;
	out->line = r->line;
	out->base = r->base;
	out->priority = r->priority;
	out->anchor = r->anchor_desc;
	return 0;
}

const char *sn_ruleset_digest(const sn_ruleset *rs)
{
	return rs ? rs->digest : "";
}
