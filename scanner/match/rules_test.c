/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * `speurneus rules test`: every rule's examples run through the real text
 * stage and matcher, the rule alone, on both the fast and the slow path.  An
 * example under `match` must give a finding (at the stated confidence when
 * one is given); one under `no_match` must give none at any confidence; and
 * the two paths must agree.
 */
#include <stdio.h>
#include <string.h>

#include "match/engine.h"
#include "match/rule.h"
#include "speurneus/error.h"
#include "speurneus/key.h"
#include "text/text.h"

typedef struct collect {
	size_t n;
	sn_confidence best;
} collect;

static int on_finding(const sn_finding *f, void *payload)
{
	collect *c = payload;
	c->n++;
	if (f->confidence > c->best)
		c->best = f->confidence;
	return 0;
}

typedef struct feed {
	sn_matcher *m;
	collect *c;
} feed;

static int on_chunk(const sn_chunk *ch, void *payload)
{
	feed *f = payload;
	return sn_matcher_scan(f->m, ch, on_finding, f->c);
}

static int run_one(const sn_ruleset *rs, size_t ri, int slow, const sn_key *key,
		   const char *text, collect *out)
{
	sn_match_options mo = SN_MATCH_OPTIONS_INIT;
	sn_text_options to = SN_TEXT_OPTIONS_INIT;
	sn_matcher *m = NULL;
	sn_text *t = NULL;
	sn_location loc = { "<example>", NULL, 0 };
	int rc;
	mo.key = key;
	mo.slow_path = slow;
	mo.only_rule = (long)ri;
	sn_matcher_overlap(rs, &to.before, &to.after);
	rc = sn_matcher_new(&m, rs, &mo);
	if (rc < 0)
		goto done;
	rc = sn_text_new(&t, &to);
	if (rc < 0)
		goto done;
	sn_matcher_begin_unit(m, &loc);
	memset(out, 0, sizeof *out);
	feed f = { m, out };
	rc = sn_text_stream_buffer(t, (const uint8_t *)text, strlen(text), on_chunk, &f);
done:
	sn_text_free(t);
	sn_matcher_free(m);
	return rc;
}

int sn_ruleset_test(const sn_ruleset *rs, sn_example_cb cb, void *payload)
{
	sn_key key;
	int failed = 0;
	memset(&key, 0, sizeof key);
	sn_key_compute_id(&key);
	for (size_t ri = 0; ri < rs->n; ri++) {
		const sn_rule *r = &rs->rules[ri];
		for (size_t e = 0; e < r->nexamples; e++) {
			const sn_example *ex = &r->examples[e];
			collect fast, slow;
			char why[160] = "";
			int rc = run_one(rs, ri, 0, &key, ex->text, &fast);
			if (rc == 0)
				rc = run_one(rs, ri, 1, &key, ex->text, &slow);
			if (rc < 0)
				return rc;
			int ok;
			if (fast.n != slow.n || fast.best != slow.best) {
				ok = 0;
				snprintf(why, sizeof why, "fast path found %zu, slow path %zu", fast.n,
					 slow.n);
			} else if (ex->expect_match) {
				ok = fast.n > 0;
				if (!ok)
					snprintf(why, sizeof why, "no finding");
				else if (ex->confidence != SN_CONF_NONE && fast.best != ex->confidence) {
					ok = 0;
					snprintf(why, sizeof why, "confidence %s, expected %s",
						 sn_confidence_name(fast.best),
						 sn_confidence_name(ex->confidence));
				}
			} else {
				ok = fast.n == 0;
				if (!ok)
					snprintf(why, sizeof why, "%zu unexpected finding(s) (%s)",
						 fast.n, sn_confidence_name(fast.best));
			}
			if (!ok)
				failed++;
			if (cb) {
				sn_example_result res = { r->id, ex->text, ex->expect_match, ok,
							  ok ? NULL : why };
				cb(&res, payload);
			}
		}
	}
	return failed;
}
