/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Rule sets: YAML rule files compiled once into an immutable set that every
 * worker thread shares.  See rules/README.md for the file format.
 *
 * Thread-safety: loading is single-threaded; a loaded set is read-only and
 * may be used from any number of threads at once.
 */
#ifndef SPEURNEUS_RULES_H
#define SPEURNEUS_RULES_H

#include <stddef.h>
#include "speurneus/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sn_ruleset sn_ruleset;

/* Called once per problem found while loading: `file` is the path of the
 * rule or data file, `line`/`col` are 1-based (0 when unknown). */
typedef void (*sn_diag_cb)(const char *file, unsigned line, unsigned col,
			   const char *message, void *payload);

/*
 * Load every *.yaml / *.yml file (sorted by name, not recursive) of each
 * directory in `dirs`, then the validator data tables from `data_dir`
 * (iban-lengths.txt, nl-bank-codes.txt, nl-area-codes.txt), and compile.
 *
 * Returns 0 and a new set in *out (owned by the caller, free with
 * sn_ruleset_free), or SN_ERULES after reporting every problem through `cb`
 * (which may be NULL).  An empty set, a missing directory, a duplicate rule
 * id, an unknown key, an unknown validator or a pattern that does not compile
 * are all errors.
 */
int sn_ruleset_load(sn_ruleset **out, const char *const *dirs, size_t ndirs,
		    const char *data_dir, sn_diag_cb cb, void *payload);

void sn_ruleset_free(sn_ruleset *rs);

size_t sn_ruleset_count(const sn_ruleset *rs);

/* Read-only facts about rule `i` (borrowed from the set). */
typedef struct sn_rule_info {
	const char *id;
	const char *category;
	const char *description;
	const char *validator; /* NULL when the rule has none */
	const char *file;
	unsigned line;
	sn_confidence base;
	int priority;
	const char *anchor; /* how the fast path finds candidates, for display */
} sn_rule_info;

int sn_ruleset_info(const sn_ruleset *rs, size_t i, sn_rule_info *out);

/* Hex digest (64 chars) over the loaded rule and data files. Borrowed. */
const char *sn_ruleset_digest(const sn_ruleset *rs);

/* Result of checking one example of one rule. */
typedef struct sn_example_result {
	const char *rule_id;
	const char *text;   /* the example text (rule authors' test data) */
	int expect_match;   /* 1 = under examples.match, 0 = examples.no_match */
	int passed;
	const char *why;    /* short explanation when it failed */
} sn_example_result;

typedef void (*sn_example_cb)(const sn_example_result *r, void *payload);

/* Run every rule's examples through the real matcher (each rule alone).
 * Returns the number of failed examples (0 = all passed) or a negative
 * error code. */
int sn_ruleset_test(const sn_ruleset *rs, sn_example_cb cb, void *payload);

#ifdef __cplusplus
}
#endif
#endif
