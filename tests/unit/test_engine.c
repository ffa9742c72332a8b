/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The matcher on the shipped rules: extraction boundaries, confidence from
 * keywords and columns, overlap resolution, chunk borders, and the fast path
 * against plain PCRE2 over the whole chunk on random and adversarial text
 * (with user-added rules too).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "match/context.h"
#include "match/engine.h"
#include "match/rule.h"
#include "speurneus/error.h"
#include "speurneus/key.h"
#include "speurneus/rules.h"
#include "text/text.h"

typedef struct hit {
	char rule[40];
	char category[24];
	sn_confidence conf;
	uint64_t offset, line, column;
	size_t len;
	char norm[SN_NORM_MAX];
	char masked[SN_MASK_MAX];
	char field[32];
	int64_t row;
	uint8_t fp[32];
} hit;

typedef struct hits {
	hit v[4096];
	size_t n;
} hits;

static sn_key key;

static void quiet_diag(const char *f, unsigned l, unsigned c, const char *m, void *p)
{
	(void)p;
	fprintf(stderr, "%s:%u:%u: %s\n", f, l, c, m);
}

static sn_ruleset *load(const char *extra_dir)
{
	const char *dirs[2] = { SN_SOURCE_DIR "/rules", extra_dir };
	sn_ruleset *rs = NULL;
	int rc = sn_ruleset_load(&rs, dirs, extra_dir ? 2 : 1, SN_SOURCE_DIR "/rules/data",
				 quiet_diag, NULL);
	assert_int_equal(rc, 0);
	return rs;
}

static int on_hit(const sn_finding *f, void *payload)
{
	hits *h = payload;
	if (h->n >= sizeof h->v / sizeof h->v[0])
		return 0;
	hit *x = &h->v[h->n++];
	memset(x, 0, sizeof *x);
	snprintf(x->rule, sizeof x->rule, "%s", f->rule_id);
	snprintf(x->category, sizeof x->category, "%s", f->category);
	x->conf = f->confidence;
	x->offset = f->offset;
	x->line = f->line;
	x->column = f->column;
	x->len = f->raw_len;
	snprintf(x->norm, sizeof x->norm, "%s", f->normalized ? f->normalized : "");
	snprintf(x->masked, sizeof x->masked, "%s", f->masked);
	snprintf(x->field, sizeof x->field, "%s", f->field ? f->field : "");
	x->row = f->row;
	memcpy(x->fp, f->fingerprint, sizeof x->fp);
	return 0;
}

typedef struct feed {
	sn_matcher *m;
	hits *h;
} feed;

static int on_chunk(const sn_chunk *c, void *payload)
{
	feed *f = payload;
	return sn_matcher_scan(f->m, c, on_hit, f->h);
}

/* Fast-path scans alternate between the vector filter and the portable
 * skip to trigger bytes, so both are compared with the slow path. */
static int portable_skip;

/* Scan text[0, n) as one unit on matcher m (made for the rules rs) into
 * out; chunk == 0 keeps the default chunk size. */
static void scan_on(sn_matcher *m, const sn_ruleset *rs, const char *text, size_t n,
		    size_t chunk, hits *out)
{
	sn_text_options to = SN_TEXT_OPTIONS_INIT;
	sn_text *t = NULL;
	sn_location loc = { "test", NULL, 0 };
	sn_matcher_overlap(rs, &to.before, &to.after);
	if (chunk)
		to.chunk = chunk;
	assert_int_equal(sn_text_new(&t, &to), 0);
	sn_matcher_begin_unit(m, &loc);
	out->n = 0;
	feed f = { m, out };
	assert_int_equal(sn_text_stream_buffer(t, (const uint8_t *)text, n, on_chunk, &f), 0);
	sn_text_free(t);
}

/* Scan `text` with rule `only` of the set (-1: all rules) on a matcher of
 * its own. */
static void scan_rule(const sn_ruleset *rs, long only, const char *text, size_t n, int slow,
		      size_t chunk, hits *out)
{
	sn_match_options mo = SN_MATCH_OPTIONS_INIT;
	sn_matcher *m = NULL;
	mo.key = &key;
	mo.reveal = 1;
	mo.slow_path = slow;
	mo.only_rule = only;
	mo.no_vector = portable_skip;
	if (!slow)
		portable_skip = !portable_skip;
	assert_int_equal(sn_matcher_new(&m, rs, &mo), 0);
	scan_on(m, rs, text, n, chunk, out);
	sn_matcher_free(m);
}

static void scan(const sn_ruleset *rs, const char *text, size_t n, int slow, size_t chunk,
		 hits *out)
{
	scan_rule(rs, -1, text, n, slow, chunk, out);
}

static void scan_s(const sn_ruleset *rs, const char *text, hits *out)
{
	scan(rs, text, strlen(text), 0, 0, out);
}

static hits H;

static const hit *find_cat(const hits *h, const char *cat)
{
	for (size_t i = 0; i < h->n; i++) {
		if (strcmp(h->v[i].category, cat) == 0)
			return &h->v[i];
	}
	return NULL;
}

static size_t count_cat(const hits *h, const char *cat)
{
	size_t n = 0;
	for (size_t i = 0; i < h->n; i++)
		n += strcmp(h->v[i].category, cat) == 0;
	return n;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(sn_crypto_init(), 0);
	memset(&key, 7, sizeof key);
	sn_key_compute_id(&key);
	return 0;
}

/* --- extraction boundaries --------------------------------------------- */

static void test_boundaries(void **state)
{
	(void)state;
	sn_ruleset *rs = load(NULL);
	static const struct {
		const char *text;
		const char *cat; /* category expected once, or NULL for none at all */
	} cases[] = {
		{ "BSN 111222333.", "bsn" },
		{ "BSN 1234567823", NULL },
		{ "BSN x111222333", NULL },
		{ "BSN 111222333x", NULL },
		{ "BSN 2111222333", NULL },
		{ "bsn: 1112.22.333", "bsn" },
		{ "bsn: 123 456 782", "bsn" },
		{ "bsn: 123.456.782", "bsn" },
		{ "bsn: 12345672", "bsn" },
		{ "IBAN NL91ABNA0417164300", "iban" },
		{ "IBAN NL91 ABNA 0417 1643 00", "iban" },
		{ "IBAN NL91ABNA0417164300123", NULL },
		{ "IBAN XNL91ABNA0417164300", NULL },
		{ "iban nl91abna0417164300", "iban" },
		{ "tel 06-12345678", "phone" },
		{ "tel +31 (0)20 123 4567", "phone" },
		{ "tel 0031 20 1234567", "phone" },
		{ "tel 106-12345678", NULL },
		{ "mail jan.jansen@example.nl", "email" },
		{ "postcode 2601 DC Delft", "postcode" },
		{ "postcode 26011 DC Delft", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		scan_s(rs, cases[i].text, &H);
		if (cases[i].cat) {
			if (count_cat(&H, cases[i].cat) != 1 || H.n != 1)
				fail_msg("case %zu (%s): %zu findings", i, cases[i].cat, H.n);
		} else if (H.n != 0) {
			fail_msg("case %zu: expected nothing, got %s", i, H.v[0].category);
		}
	}
	sn_ruleset_free(rs);
}

/* --- confidence -------------------------------------------------------- */

static void test_confidence(void **state)
{
	(void)state;
	sn_ruleset *rs = load(NULL);
	const hit *x;

	scan_s(rs, "Referentie 111222333 is verwerkt.", &H);
	x = find_cat(&H, "bsn");
	assert_non_null(x);
	assert_int_equal(x->conf, SN_CONF_LOW);

	scan_s(rs, "Het burgerservicenummer van de klant is 111222333.", &H);
	x = find_cat(&H, "bsn");
	assert_non_null(x);
	assert_int_equal(x->conf, SN_CONF_HIGH);

	scan_s(rs, "naam;bsn;plaats\nJan;111222333;Delft\nPiet;123456782;Ede\n", &H);
	assert_int_equal(count_cat(&H, "bsn"), 2);
	assert_int_equal(H.v[0].conf, SN_CONF_HIGH);
	assert_string_equal(H.v[0].field, "bsn");
	assert_int_equal(H.v[0].line, 2);
	assert_int_equal(H.v[0].column, 5);

	scan_s(rs, "code,nummer\nA,111222333\n", &H);
	x = find_cat(&H, "bsn");
	assert_non_null(x);
	assert_int_equal(x->conf, SN_CONF_LOW);

	scan_s(rs, "Zie 2601 DC hier.", &H);
	x = find_cat(&H, "postcode");
	assert_non_null(x);
	assert_int_equal(x->conf, SN_CONF_LOW);

	scan_s(rs, "Oude Delft 12, 2611 BD Delft", &H);
	x = find_cat(&H, "postcode");
	assert_non_null(x);
	assert_true(x->conf >= SN_CONF_MEDIUM);

	scan_s(rs, "factuur 111222333 ordernummer", &H);
	x = find_cat(&H, "bsn");
	assert_non_null(x);
	assert_int_equal(x->conf, SN_CONF_LOW);

	/* organisation numbers are at most low */
	scan_s(rs, "bel 0800 1234", &H);
	x = find_cat(&H, "phone");
	if (x)
		assert_int_equal(x->conf, SN_CONF_LOW);
	sn_ruleset_free(rs);
}

/* --- columns without a header ------------------------------------------ */

static void test_headerless_columns(void **state)
{
	(void)state;
	sn_ruleset *rs = load(NULL);
	/* a BSN dump without a header: the column is inferred from its values */
	scan_s(rs, "1;111222333;Jan\n2;123456782;Piet\n3;319072356;Klaas\n4;211551557;Els\n", &H);
	assert_int_equal(count_cat(&H, "bsn"), 4);
	for (size_t i = 0; i < H.n; i++) {
		assert_int_equal(H.v[i].conf, SN_CONF_MEDIUM);
		assert_string_equal(H.v[i].field, ""); /* no header, no name */
	}
	assert_int_equal(H.v[0].line, 1);
	/* a column of order numbers where only a few pass the 11-proef stays low */
	scan_s(rs, "1;111222333\n2;123456789\n3;555555555\n4;100000000\n5;987654321\n", &H);
	for (size_t i = 0; i < H.n; i++)
		assert_int_equal(H.v[i].conf, SN_CONF_LOW);
	/* a first line of data is not taken for a header */
	scan_s(rs, "Jan;111222333;Delft\nPiet;123456782;Ede\nKlaas;319072356;Epe\n", &H);
	assert_int_equal(count_cat(&H, "bsn"), 3);
	assert_int_equal(H.v[0].line, 1);
	assert_int_equal(H.v[0].conf, SN_CONF_MEDIUM);
	/* one line with a comma is a sentence, not a header: no field, no row */
	scan_s(rs, "Gemeente Voorbeeld, telefoon 030 6586111\n", &H);
	assert_int_equal(count_cat(&H, "phone"), 1);
	assert_string_equal(H.v[0].field, "");
	assert_int_equal(H.v[0].row, -1);
	/* a first line holding values is data: its cells never name a column
	 * (a name is output unmasked) */
	scan_s(rs, "Jan,jan@example.nl\nPiet,piet@example.nl\n", &H);
	assert_int_equal(count_cat(&H, "email"), 2);
	for (size_t i = 0; i < H.n; i++)
		assert_string_equal(H.v[i].field, "");
	scan_s(rs, "naam,telefoon 0612345678\nJan,06-12345678\n", &H);
	assert_int_equal(count_cat(&H, "phone"), 2);
	for (size_t i = 0; i < H.n; i++)
		assert_string_equal(H.v[i].field, "");
	/* a named column keeps its header's confidence */
	scan_s(rs, "naam;nummer\nJan;111222333\nPiet;123456782\nKlaas;319072356\n", &H);
	assert_int_equal(count_cat(&H, "bsn"), 3);
	assert_int_equal(H.v[0].conf, SN_CONF_MEDIUM);
	assert_string_equal(H.v[0].field, "nummer");
	sn_ruleset_free(rs);
}

/* --- SQL dumps ---------------------------------------------------------- */

/* --- tables handed row by row (spreadsheets, databases) ---------------- */

static void table_rows(sn_matcher *m, const char *const *rows[], const int64_t *rowno,
		       size_t nrows, size_t ncells)
{
	for (size_t r = 0; r < nrows; r++) {
		size_t lens[8];
		for (size_t c = 0; c < ncells; c++)
			lens[c] = rows[r][c] ? strlen(rows[r][c]) : 0;
		assert_int_equal(sn_matcher_table_row(m, rowno[r], rows[r], lens, ncells, on_hit, &H),
				 0);
	}
}

static void test_table_rows(void **state)
{
	(void)state;
	sn_ruleset *rs = load(NULL);
	sn_match_options mo = SN_MATCH_OPTIONS_INIT;
	sn_matcher *m = NULL;
	sn_location loc = { "db.sqlite", NULL, 0 };
	uint64_t bytes = 0, cut = 0;
	mo.key = &key;
	mo.reveal = 1;
	assert_int_equal(sn_matcher_new(&m, rs, &mo), 0);

	/* named columns: the name gives context, the decoder's row numbers are kept */
	static const char *const cols[] = { "naam", "bsn", NULL, "opmerking" };
	static const char *const r1[] = { "Jan", "111222333", "x", "bel 06-12345678" };
	static const char *const r2[] = { "Piet\t\"P\"", "123456782", NULL, "regel\nregel" };
	static const char *const r3[] = { "Klaas", "12345672", "y", "\xe9\xe9n" };
	const char *const *rows[] = { r1, r2, r3 };
	const int64_t rowno[] = { 7, 9, -3 };
	H.n = 0;
	assert_int_equal(sn_matcher_table_begin(m, &loc, cols, 4), 0);
	table_rows(m, rows, rowno, 3, 4);
	assert_int_equal(sn_matcher_table_end(m, on_hit, &H, &bytes, &cut), 0);
	assert_int_equal(cut, 0);
	assert_true(bytes > 40);
	/* 12345672 is 012345672 with its leading zero lost (a number in Excel) */
	assert_int_equal(count_cat(&H, "bsn"), 3);
	for (size_t i = 0; i < H.n; i++) {
		if (strcmp(H.v[i].category, "bsn") == 0) {
			assert_int_equal(H.v[i].conf, SN_CONF_HIGH);
			assert_string_equal(H.v[i].field, "bsn");
		}
	}
	assert_int_equal(H.v[0].row, 7);
	assert_int_equal(H.v[0].line, 2); /* the names are line 1 */
	const hit *ph = find_cat(&H, "phone");
	assert_non_null(ph);
	assert_string_equal(ph->field, "opmerking");
	assert_int_equal(ph->row, 7);
	const hit *b2 = NULL;
	for (size_t i = 0; i < H.n; i++)
		if (strcmp(H.v[i].norm, "123456782") == 0)
			b2 = &H.v[i];
	assert_non_null(b2);
	/* the tab and the line break inside row 9's cells did not shift it */
	assert_int_equal(b2->row, 9);
	assert_string_equal(b2->field, "bsn");
	assert_int_equal(b2->line, 3);

	/* no names: a column whose values mostly pass the 11-proef is a BSN column */
	static const char *const h1[] = { "1", "111222333" };
	static const char *const h2[] = { "2", "123456782" };
	static const char *const h3[] = { "3", "319072356" };
	static const char *const h4[] = { "4", "211551557" };
	const char *const *hrows[] = { h1, h2, h3, h4 };
	const int64_t hno[] = { 1, 2, 3, 4 };
	H.n = 0;
	assert_int_equal(sn_matcher_table_begin(m, &loc, NULL, 0), 0);
	table_rows(m, hrows, hno, 4, 2);
	assert_int_equal(sn_matcher_table_end(m, on_hit, &H, &bytes, &cut), 0);
	assert_int_equal(count_cat(&H, "bsn"), 4);
	for (size_t i = 0; i < H.n; i++) {
		assert_int_equal(H.v[i].conf, SN_CONF_MEDIUM);
		assert_string_equal(H.v[i].field, "");
		assert_int_equal(H.v[i].row, (int64_t)i + 1);
	}

	/* rows wider than the names (a title row taken for the header): the
	 * unnamed column still learns from its values */
	static const char *const title[] = { "Klantenoverzicht 2024" };
	H.n = 0;
	assert_int_equal(sn_matcher_table_begin(m, &loc, title, 1), 0);
	table_rows(m, hrows, hno, 4, 2);
	assert_int_equal(sn_matcher_table_end(m, on_hit, &H, &bytes, &cut), 0);
	assert_int_equal(count_cat(&H, "bsn"), 4);
	for (size_t i = 0; i < H.n; i++) {
		assert_int_equal(H.v[i].conf, SN_CONF_MEDIUM);
		assert_string_equal(H.v[i].field, "");
		assert_int_equal(H.v[i].row, (int64_t)i + 1);
	}

	/* many rows: batches keep row numbers and find every value */
	H.n = 0;
	static const char *const c2[] = { "id", "bsn" };
	assert_int_equal(sn_matcher_table_begin(m, &loc, c2, 2), 0);
	for (int64_t r = 0; r < 10000; r++) {
		char id[24];
		snprintf(id, sizeof id, "%lld", (long long)r);
		const char *cells[2] = { id, (r % 3) ? "" : "111222333" };
		size_t lens[2] = { strlen(id), strlen(cells[1]) };
		assert_int_equal(sn_matcher_table_row(m, r + 100, cells, lens, 2, on_hit, &H), 0);
	}
	assert_int_equal(sn_matcher_table_end(m, on_hit, &H, &bytes, &cut), 0);
	assert_int_equal(count_cat(&H, "bsn"), 3334);
	for (size_t i = 0; i < H.n; i++) {
		if (strcmp(H.v[i].category, "bsn") == 0)
			assert_int_equal(H.v[i].row % 3, 100 % 3);
	}
	const hit *last = &H.v[H.n - 1];
	assert_int_equal(last->row, 9999 + 100);
	assert_int_equal(last->line, 9999 + 2);

	/* an ordinary unit after a table is plain text again */
	H.n = 0;
	sn_matcher_begin_unit(m, &loc);
	sn_chunk c = { "bsn 111222333\n", 14, 0, 14, 0, 1, 0, 1, 1 };
	assert_int_equal(sn_matcher_scan(m, &c, on_hit, &H), 0);
	assert_int_equal(H.n, 1);
	assert_int_equal(H.v[0].row, -1);
	sn_matcher_free(m);
	sn_ruleset_free(rs);
}

static void test_sql_dump(void **state)
{
	(void)state;
	sn_ruleset *rs = load(NULL);
	scan_s(rs,
	       "-- dump\n"
	       "COPY public.klanten (id, naam, burgerservicenummer) FROM stdin;\n"
	       "1\tJan\t111222333\n"
	       "2\tPiet\t123456782\n"
	       "\\.\n"
	       "3\tafter\t319072356\n"
	       "INSERT INTO t (id, naam, bsn) VALUES (1, 'O''Brien, K.', '211551557'), "
	       "(2, 'x', '999996708');\n"
	       "INSERT INTO t VALUES (5, '249566758');\n",
	       &H);
	assert_int_equal(count_cat(&H, "bsn"), 6);
	/* COPY block: field from the column list, row within the block */
	assert_string_equal(H.v[0].field, "burgerservicenummer");
	assert_int_equal(H.v[0].conf, SN_CONF_HIGH);
	assert_string_equal(H.v[1].field, "burgerservicenummer");
	/* after "\." the COPY block is over: a bare number again */
	assert_string_equal(H.v[2].field, "");
	assert_int_equal(H.v[2].conf, SN_CONF_LOW);
	/* INSERT with a column list, quotes and an escaped quote in a value */
	assert_string_equal(H.v[3].field, "bsn");
	assert_int_equal(H.v[3].conf, SN_CONF_HIGH);
	assert_string_equal(H.v[4].field, "bsn");
	/* INSERT without a column list: no field */
	assert_string_equal(H.v[5].field, "");

	/* a COPY block that starts in one chunk and goes on in later ones */
	static char big[40000];
	size_t n = (size_t)snprintf(big, sizeof big, "COPY t (id, bsn) FROM stdin;\n");
	while (n + 40 < sizeof big)
		n += (size_t)snprintf(big + n, sizeof big - n, "%zu\t111222333\n", n);
	scan(rs, big, n, 0, 2048, &H);
	assert_true(count_cat(&H, "bsn") > 100);
	for (size_t i = 0; i < H.n; i++) {
		/* ids such as 14035 are municipal phone numbers: only the BSNs */
		if (strcmp(H.v[i].category, "bsn") != 0)
			continue;
		assert_string_equal(H.v[i].field, "bsn");
		assert_int_equal(H.v[i].conf, SN_CONF_HIGH);
	}

	/* prose with a line that starts with the word "copy" is no dump: its
	 * words in brackets never name the next line's values */
	scan_s(rs,
	       "Copy (bsn, naam) of this notice to every recipient.\n"
	       "111222333\tJan\n",
	       &H);
	assert_int_equal(count_cat(&H, "bsn"), 1);
	assert_string_equal(H.v[0].field, "");
	assert_int_equal(H.v[0].row, -1);
	sn_ruleset_free(rs);
}

/* --- overlaps ---------------------------------------------------------- */

static void test_overlap(void **state)
{
	(void)state;
	sn_ruleset *rs = load(NULL);
	/* RABO 0416...: a valid 3-digit area code inside an IBAN stays an IBAN */
	scan_s(rs, "rekening NL81 RABO 0416 1234 56 graag", &H);
	for (size_t i = 0; i < H.n; i++)
		assert_string_not_equal(H.v[i].category, "phone");
	/* an e-mail local part made of digits is an e-mail, not a phone */
	scan_s(rs, "mail 0612345678@example.nl", &H);
	assert_int_equal(H.n, 1);
	assert_string_equal(H.v[0].category, "email");
	/* a BSN-valid tail of a phone number is part of the phone number */
	scan_s(rs, "tel 06-12345672", &H);
	assert_int_equal(count_cat(&H, "bsn"), 0);
	sn_ruleset_free(rs);
}

/* --- masking and fingerprint ------------------------------------------- */

static void test_masked(void **state)
{
	(void)state;
	sn_ruleset *rs = load(NULL);
	scan_s(rs, "BSN 1112.22.333 en IBAN NL91 ABNA 0417 1643 00", &H);
	assert_int_equal(H.n, 2);
	assert_string_equal(H.v[0].masked, "*******33");
	assert_string_equal(H.v[0].norm, "111222333");
	assert_string_equal(H.v[1].masked, "NL** **** **** **** 00");
	assert_string_equal(H.v[1].norm, "NL91ABNA0417164300");
	sn_ruleset_free(rs);
}

/* --- chunk borders ----------------------------------------------------- */

static void test_chunk_borders(void **state)
{
	(void)state;
	sn_ruleset *rs = load(NULL);
	const size_t chunk = 2048;
	static const char *values[] = { "BSN 111222333", "NL91ABNA0417164300",
					"jan.jansen@example.nl", "06-12345678" };
	char *text = malloc(16384);
	assert_non_null(text);
	for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
		size_t vl = strlen(values[v]);
		for (size_t off = chunk - 40; off < chunk + 40; off++) {
			/* filler of words and spaces, one line, so the cut cannot
			 * fall on a newline */
			for (size_t i = 0; i < 16000; i++)
				text[i] = (i % 7 == 6) ? ' ' : 'q';
			memcpy(text + off, " ", 1);
			memcpy(text + off + 1, values[v], vl);
			text[off + 1 + vl] = ' ';
			scan(rs, text, 16000, 0, chunk, &H);
			if (H.n != 1 || H.v[0].offset != (uint64_t)(off + 1 + (v == 0 ? 4 : 0)))
				fail_msg("value %zu at %zu: %zu findings", v, off, H.n);
		}
		/* and with newlines everywhere */
		for (size_t off = chunk - 40; off < chunk + 40; off++) {
			for (size_t i = 0; i < 16000; i++)
				text[i] = (i % 13 == 12) ? '\n' : ((i % 5 == 4) ? ' ' : 'w');
			text[off] = '\n';
			memcpy(text + off + 1, values[v], vl);
			text[off + 1 + vl] = '\n';
			scan(rs, text, 16000, 0, chunk, &H);
			if (H.n != 1)
				fail_msg("value %zu at %zu (lines): %zu findings", v, off, H.n);
		}
	}
	free(text);
	sn_ruleset_free(rs);
}

/* --- fast path == slow path -------------------------------------------- */

static const char *pieces[] = {
	"111222333", "1112.22.333", "123 456 782", "12345672", "1234567823", "0", "9", "31",
	"NL91ABNA0417164300", "NL91 ABNA 0417 1643 00", "nl91abna0417164300", "NL", "ABNA",
	"BE68539007547034", "DE89370400440532013000", "06-12345678", "+31 (0)20 123 4567",
	"0031 6 12345678", "+31 6 12345678", "010 123 4567", "0800 1234", "14020", "@", "@@",
	"jan@example.nl", "a.b@c.d.e.com", "x@y", "user@xn--80ak6aa92e.com", ".", "-", " ",
	"\n", "\t", ";", ",", "\"", "2601 DC Delft", "1234 AB", "2611BD", "NL-2611ET", "bsn",
	"BSN:", "iban", "telefoon", "postcode", "factuur", "\xc2\xa0", "\xc3\xa9", "\xe2\x82\xac",
	"TCK-123456", "TCK-12345", "geheim123", "GEHEIM999", "(", ")", "+", "+31", "0031",
	"9999", "AA", "SS", "12", "345", "6789", "a", "Z", "_", "#", "email:", "e-mail",
	/* near misses of the declared prefixes' alternatives */
	"2024-01-02T09:36:56.250Z", "200 185 ms", "1234 ab", "nl-1234 ab", "NL-1234 AB", "14 020",
	"140318", "(010) 123 4567", "(06)", "0612345678", "06123456789", "123.456.789",
	"1234 56 789", "1234-56-789", "01-02-2020", "2021 is", "123 456 78", "AB123", "12-CD",
	"1-CD", "AB12", "\xc3\xa9\xc3\xa0",
};

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* `yaml` as user.yaml in a fresh directory, whose name goes to dir[0..n). */
static void write_user_rules(char *dir, size_t n, const char *yaml)
{
	char path[256];
	snprintf(dir, n, "/tmp/sn-test-engine-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/user.yaml", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(yaml, f);
	fclose(f);
}

/* The rules of `yaml` alone, from a directory written for them. */
static sn_ruleset *load_user_rules(char *dir, size_t n, const char *yaml)
{
	const char *dirs[1] = { dir };
	sn_ruleset *rs = NULL;
	write_user_rules(dir, n, yaml);
	assert_int_equal(sn_ruleset_load(&rs, dirs, 1, SN_SOURCE_DIR "/rules/data", quiet_diag,
					 NULL),
			 0);
	return rs;
}

static void remove_user_rules(const char *dir)
{
	char path[256];
	snprintf(path, sizeof path, "%s/user.yaml", dir);
	unlink(path);
	rmdir(dir);
}

static void make_user_rules(char *dir, size_t n)
{
	write_user_rules(dir, n,
			 "rules:\n"
			 "  - id: test.ticket\n"
			 "    category: ticket\n"
			 "    pattern: '(?<![A-Za-z0-9])TCK-[0-9]{6}(?![0-9])'\n"
			 "    confidence: medium\n"
			 "    keywords: [ticket]\n"
			 "  - id: test.secret\n"
			 "    category: secret\n"
			 "    pattern: '(?i)(?:geheim|secret)[0-9]{3}'\n"
			 "    confidence: high\n"
			 "  - id: test.atcode\n"
			 "    category: atcode\n"
			 "    pattern: '(?<![A-Za-z0-9])[a-z]{1,8}@[0-9]{2,4}(?![0-9])'\n"
			 "    anchor: {literal: '@', before: 8}\n"
			 "    confidence: medium\n"
			 "  - id: test.accent\n"
			 "    category: accent\n"
			 "    pattern: '(?<![a-z])\\x{e9}\\x{e0}'\n"
			 "    confidence: medium\n"
			 "  - id: test.code\n"
			 "    category: code\n"
			 "    pattern: '(?<![A-Za-z0-9])(?:AB[0-9]{3}|[0-9]{2}-CD)(?![A-Za-z0-9])'\n"
			 "    prefix: [['A', 'B', '[0-9]', '[0-9]', '[0-9]'], ['[0-9]', '[0-9]', '-', C, D]]\n"
			 "    confidence: medium\n");
}

static void compare_paths(const sn_ruleset *rs, const char *text, size_t n, size_t chunk)
{
	static hits fast, slow;
	scan(rs, text, n, 0, chunk, &fast);
	scan(rs, text, n, 1, chunk, &slow);
	if (fast.n != slow.n)
		fail_msg("fast path %zu findings, slow path %zu", fast.n, slow.n);
	for (size_t i = 0; i < fast.n; i++) {
		if (strcmp(fast.v[i].rule, slow.v[i].rule) != 0 ||
		    fast.v[i].offset != slow.v[i].offset || fast.v[i].len != slow.v[i].len ||
		    fast.v[i].conf != slow.v[i].conf || fast.v[i].line != slow.v[i].line ||
		    fast.v[i].column != slow.v[i].column)
			fail_msg("finding %zu differs: %s@%llu vs %s@%llu", i, fast.v[i].rule,
				 (unsigned long long)fast.v[i].offset, slow.v[i].rule,
				 (unsigned long long)slow.v[i].offset);
	}
}

static void test_fast_equals_slow(void **state)
{
	(void)state;
	char dir[64];
	make_user_rules(dir, sizeof dir);
	sn_ruleset *rs = load(dir);
	const size_t np = sizeof pieces / sizeof pieces[0];
	char *text = malloc(70000);
	assert_non_null(text);
	size_t total_findings = 0;
	for (int round = 0; round < 60; round++) {
		size_t n = 0;
		size_t target = 200 + next_rand() % 60000;
		while (n + 64 < target) {
			uint64_t r = next_rand();
			if (r % 4 == 0) {
				text[n++] = (char)(' ' + next_rand() % 95);
			} else {
				const char *p = pieces[r % np];
				size_t l = strlen(p);
				memcpy(text + n, p, l);
				n += l;
			}
		}
		compare_paths(rs, text, n, round % 2 ? 1024 : 0);
		static hits h;
		scan(rs, text, n, 0, 0, &h);
		total_findings += h.n;
	}
	/* the random text must actually exercise the rules */
	assert_true(total_findings > 500);
	/* adversarial: long digit runs, '@' storms, separators only */
	memset(text, '7', 50000);
	compare_paths(rs, text, 50000, 4096);
	memset(text, '@', 50000);
	compare_paths(rs, text, 50000, 4096);
	for (size_t i = 0; i < 50000; i++)
		text[i] = "1 .-"[i % 4];
	compare_paths(rs, text, 50000, 4096);
	for (size_t i = 0; i < 50000; i++)
		text[i] = "a@1."[next_rand() % 4];
	compare_paths(rs, text, 50000, 4096);
	/* no digits: long stretches without a candidate start (each
	 * comparison twice: the vector filter and the portable skip) */
	static const char unit[] = "xx \xc3\xa9\xc3\xa0 yy ";
	size_t ul = sizeof unit - 1, un = 3000 * ul;
	for (size_t i = 0; i < un; i += ul)
		memcpy(text + i, unit, ul);
	for (int k = 0; k < 2; k++) {
		static hits h;
		compare_paths(rs, text, un, 4096);
		scan(rs, text, un, 0, 0, &h);
		assert_int_equal(h.n, un / ul);
	}
	free(text);
	sn_ruleset_free(rs);
	remove_user_rules(dir);
}

/* --- literal anchors that walk back from the literal ---------------------- */

/* Fast path against slow path for one rule alone, so that no other rule's
 * finding can hide a difference in overlap resolution. */
/* The fast path's findings of the last comparison. */
static hits last_fast;

static size_t compare_rule_paths(const sn_ruleset *rs, long only, const char *text, size_t n,
				 size_t chunk, const char *what)
{
	static hits slow;
	const hits *fast = &last_fast;
	const size_t cap = sizeof slow.v / sizeof slow.v[0];
	scan_rule(rs, only, text, n, 0, chunk, &last_fast);
	scan_rule(rs, only, text, n, 1, chunk, &slow);
	if (fast->n >= cap || slow.n >= cap)
		fail_msg("%s: too many findings for the comparison", what);
	if (fast->n != slow.n)
		fail_msg("%s, %s, chunk %zu: fast path %zu findings, slow path %zu",
			 rs->rules[only].id, what, chunk, fast->n, slow.n);
	for (size_t i = 0; i < fast->n; i++) {
		if (fast->v[i].offset != slow.v[i].offset || fast->v[i].len != slow.v[i].len ||
		    fast->v[i].conf != slow.v[i].conf)
			fail_msg("%s, %s, chunk %zu: finding %zu at %llu+%zu vs %llu+%zu",
				 rs->rules[only].id, what, chunk, i,
				 (unsigned long long)fast->v[i].offset, fast->v[i].len,
				 (unsigned long long)slow.v[i].offset, slow.v[i].len);
	}
	return fast->n;
}

/* A wrong declaration is followed, which is how `speurneus rules test`
 * exposes it: on `t`, rule `only` (-1: all rules) finds slow_n matches on the
 * slow path and fast_n on the fast path, the first at `first`.  Returns the
 * fast path's findings. */
static const hits *expect_fast_misses(const sn_ruleset *rs, long only, const char *t,
				      size_t slow_n, size_t fast_n, uint64_t first)
{
	static hits fast, slow;
	scan_rule(rs, only, t, strlen(t), 0, 0, &fast);
	scan_rule(rs, only, t, strlen(t), 1, 0, &slow);
	assert_int_equal(slow.n, slow_n);
	assert_int_equal(fast.n, fast_n);
	assert_int_equal(fast.v[0].offset, first);
	return &fast;
}

static long rule_index(const sn_ruleset *rs, const char *id)
{
	for (size_t i = 0; i < rs->n; i++) {
		if (strcmp(rs->rules[i].id, id) == 0)
			return (long)i;
	}
	fail_msg("rule %s not loaded", id);
	return -1;
}

/* Pieces drawn at random from from[0..np) concatenated into text until about
 * `target` bytes (at most target + the longest piece); returns the length. */
static size_t random_text(char *text, size_t target, const char *const *from, size_t np)
{
	size_t n = 0;
	while (n + 16 < target) {
		const char *p = from[next_rand() % np];
		size_t l = strlen(p);
		memcpy(text + n, p, l);
		n += l;
	}
	return n;
}

/* Every chunk size, including ones that put a border next to nearly every
 * '@' of a short text (a text is cut into chunks only where more than the
 * chunk's tail follows, so short texts get a filler tail). */
static const size_t chunk_sizes[] = { 0, 16, 61, 256, 1024 };

/* Returns the number of findings. */
static size_t compare_all_chunks(const sn_ruleset *rs, long only, const char *text, size_t n,
				 const char *what)
{
	size_t found = 0;
	for (size_t k = 0; k < sizeof chunk_sizes / sizeof chunk_sizes[0]; k++)
		found = compare_rule_paths(rs, only, text, n, chunk_sizes[k], what);
	return found;
}

static const char *email_pieces[] = {
	"jan", "jan.jansen", "x", "@", "@@", "\"", "\\", "\\\"", " ", ".", "..", "'", "-", "_",
	"+", "#", "!", "~", "=", "?", "&", "/", "{", "|", ",", ";", ":", "\n", "\t", "<", ">",
	"(", ")", "[", "]", "example.com", "example.nl.", "xn--80ak6aa92e.com", "[192.0.2.1]",
	"2x.png", "4.17.21", "\"a b\"", "\"x@y\"", "\"john..doe\"", "\"q\\\"r\"", "\"\"",
	"\xc3\xa9", "\xe6\x88\x91", "\xf0\x9d\x94\x98", "\xcc\x81", "\xe2\x80\x94",
	"\xc2\xa0", "mailto:", "email: ", "?email=", "{\"email\": \"", "\", \"",
	" jan@example.com ", ",x.y@example.nl;", "'jan@example.nl'", " p\xc3\xa9@example.nl ",
	" \"a b\"@example.org ", " \"x@y\"@example.com,", "\"jan@example.com\"",
};

/* A run of `k` copies of `unit` at text + n; returns the new length. */
static size_t put_run(char *text, size_t n, const char *unit, size_t k)
{
	size_t l = strlen(unit);
	for (size_t i = 0; i < k; i++, n += l)
		memcpy(text + n, unit, l);
	return n;
}

static void test_email_walk_back(void **state)
{
	(void)state;
	sn_ruleset *rs = load(NULL);
	long em = rule_index(rs, "email");
	const size_t np = sizeof email_pieces / sizeof email_pieces[0];
	char *text = malloc(70000);
	char what[64];
	size_t n, found = 0, quoted = 0;
	assert_non_null(text);
	assert_int_equal(rs->rules[em].has_back, 1);

	/* random e-mail-like text: quotes, escapes, '@' inside quotes, local
	 * parts of every script, separators */
	for (int round = 0; round < 40; round++) {
		size_t target = 300 + next_rand() % 6000;
		n = 0;
		while (n + 64 < target) {
			const char *p = email_pieces[next_rand() % np];
			size_t l = strlen(p);
			memcpy(text + n, p, l);
			n += l;
		}
		snprintf(what, sizeof what, "random round %d", round);
		found += compare_all_chunks(rs, em, text, n, what);
		for (size_t i = 0; i < last_fast.n; i++)
			quoted += last_fast.v[i].norm[0] == '"';
		compare_paths(rs, text, n, round % 2 ? 61 : 0);
	}
	/* the random text must actually hold addresses, quoted ones too */
	assert_true(found > 1000);
	assert_true(quoted > 200);

	/* '@' runs, alone and between quotes and local-part bytes */
	static const char *storms[] = { "@", "\"@", "a@", "\"a@", "a\"@", "@\"", "a.@",
					 "\"a b\"@x.nl ", "a@b.nl@", "\xc3\xa9@" };
	for (size_t i = 0; i < sizeof storms / sizeof storms[0]; i++) {
		n = 0;
		while (n < 3000)
			n = put_run(text, n, storms[i], 1);
		snprintf(what, sizeof what, "storm '%s'", storms[i]);
		compare_all_chunks(rs, em, text, n, what);
	}

	/* local parts of 1 to 300 local-part characters (one, two and four
	 * bytes each): the walk back stops at the anchor's 256 bytes, in the
	 * middle of a character too */
	static const char *units[] = { "a", "\xc3\xa9", "\xf0\x9d\x94\x98", "a.", "'" };
	for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
		for (size_t k = 1; k <= 300; k += (k < 70 ? 1 : 23)) {
			n = put_run(text, 0, "x ", 1);
			n = put_run(text, n, units[u], k);
			n = put_run(text, n, "@example.com, \"", 1);
			n = put_run(text, n, units[u], k);
			n = put_run(text, n, "\"@example.com ", 1);
			n = put_run(text, n, "zz ", 700);
			snprintf(what, sizeof what, "%zu x '%s'", k, units[u]);
			compare_all_chunks(rs, em, text, n, what);
		}
	}

	/* quoted local parts with '@', spaces and escaped quotes, found in
	 * JSON and CSV; and a quote far before the '@' */
	static const char *lines[] = {
		"{\"naam\": \"Jan\", \"email\": \"jan@example.com\"}\n",
		"\"jan@example.com\",\"Jan\"\n",
		"\"x@y\"@example.com \"a b\"@example.org \"q\\\"r\"@example.net\n",
		"\"john..doe\"@example.org;just\"not\"right@example.com;\"\"@example.com\n",
		"\" ........................................................ jan@example.com\n",
		"\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"@example.com\n",
	};
	n = 0;
	for (int rep = 0; rep < 40; rep++) {
		const char *l = lines[next_rand() % (sizeof lines / sizeof lines[0])];
		n = put_run(text, n, l, 1);
	}
	compare_all_chunks(rs, em, text, n, "quoted lines");

	/* an address at every offset around small chunk borders; after an
	 * apostrophe a match starts inside a run of local-part bytes, so a
	 * border can fall between the start of that run and the match */
	for (size_t off = 0; off < 80; off++) {
		n = 0;
		for (size_t i = 0; i < off; i++)
			text[n++] = (i % 9 == 8) ? ' ' : 'w';
		n = put_run(text, n, " jan.jansen@example.nl \"a@b\"@example.nl", 1);
		n = put_run(text, n, " p\xc3\xa9@example.nl wwww'jan@example.nl 'jan@example.nl", 1);
		n = put_run(text, n, "zz ", 700);
		snprintf(what, sizeof what, "address at %zu", off);
		compare_rule_paths(rs, em, text, n, 16, what);
		compare_rule_paths(rs, em, text, n, 32, what);
	}
	free(text);
	sn_ruleset_free(rs);
}

/* User rules with walk-back classes: one exempt byte (found with memchr),
 * several (a byte table), none, and matches that start at the literal. */
static void test_user_walk_back(void **state)
{
	(void)state;
	char dir[64];
	sn_ruleset *rs = load_user_rules(dir, sizeof dir,
					 "rules:\n"
					 "  - id: test.tag\n"
					 "    category: tag\n"
					 "    pattern: '(?<![a-z<\\[])(?:[a-z]{1,8}|<[a-z @]{1,8}>|\\[[a-z @]{1,8}\\])@[0-9]{2,4}(?![0-9])'\n"
					 "    anchor: {literal: '@', before: 10, back: '[a-z]', back_except: '[<\\[]'}\n"
					 "    confidence: medium\n"
					 "  - id: test.angle\n"
					 "    category: angle\n"
					 "    pattern: '(?<![a-z])(?:[a-z]{1,8}|<[a-z @]{1,8}>)%[0-9]{2}'\n"
					 "    anchor: {literal: '%', before: 10, back: '[a-z]', back_except: '[<]'}\n"
					 "    confidence: medium\n"
					 "  - id: test.hash\n"
					 "    category: hash\n"
					 "    pattern: '(?<![a-z])[a-z]{1,6}#[0-9]{2}(?![0-9])'\n"
					 "    anchor: {literal: '#', before: 6, back: '[a-z]'}\n"
					 "    confidence: medium\n"
					 "  - id: test.at\n"
					 "    category: at\n"
					 "    pattern: '(?<![a-z@])@[a-z]{1,8}(?![a-z])'\n"
					 "    anchor: {literal: '@', before: 0, back: '[a-z]'}\n"
					 "    confidence: medium\n"
					 "  - id: test.wrong\n"
					 "    category: wrong\n"
					 "    pattern: '(?<![a-z0-9])[a-z0-9]{1,6}!'\n"
					 "    anchor: {literal: '!', before: 6, back: '[a-z]'}\n"
					 "    confidence: medium\n");
	static const char *pieces2[] = { "abc", "x", "<ab c>", "<a@b>", "<a%b>", "[ab]",
					 "[a @]", "@", "%", "#", "12", "345", "<", ">", "[", "]",
					 " ", "a", "9", "@@", "##", "\n", "\xc3\xa9", "abcdefghij",
					 "<abcdefghij>", "!" };
	const size_t np = sizeof pieces2 / sizeof pieces2[0];
	char *text = malloc(20000);
	char what[64];
	assert_non_null(text);
	const char *ids[] = { "test.tag", "test.angle", "test.hash", "test.at" };
	for (int round = 0; round < 30; round++) {
		size_t n = random_text(text, 200 + next_rand() % 8000, pieces2, np);
		snprintf(what, sizeof what, "random round %d", round);
		for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
			compare_all_chunks(rs, rule_index(rs, ids[i]), text, n, what);
	}
	/* a wrong declaration: digits are in the matches, not in `back` */
	expect_fast_misses(rs, rule_index(rs, "test.wrong"), " ab1c! abc! ", 2, 1, 7);
	free(text);
	sn_ruleset_free(rs);
	remove_user_rules(dir);
}

/* A column count continued from the cursor equals the count from the line
 * start, for positions in any order, on several lines, quotes anywhere. */
static void test_table_column_cursor(void **state)
{
	(void)state;
	static const char head[] = "a,b,c,d,e,f,g,h\n1,2,3,4,5,6,7,8\n";
	sn_table t;
	memset(&t, 0, sizeof t);
	sn_table_detect(&t, head, sizeof head - 1);
	assert_int_equal(t.detected, 1);
	assert_int_equal(t.raw, 0);
	char text[400];
	for (int round = 0; round < 500; round++) {
		for (size_t i = 0; i < sizeof text; i++)
			text[i] = "aaa,,\" \n"[next_rand() % 8];
		sn_table_cursor cur;
		memset(&cur, 0, sizeof cur);
		size_t ls = 0, pos = 0;
		for (int step = 0; step < 60; step++) {
			uint64_t r = next_rand();
			if (r % 7 == 0) /* another line */
				ls = (size_t)(r >> 8) % 200;
			if (r % 5 == 0 || pos < ls) /* back, or a fresh start */
				pos = ls + (size_t)(r >> 16) % 100;
			else
				pos += (size_t)(r >> 16) % 20;
			if (pos >= sizeof text)
				pos = ls;
			long want = sn_table_column(&t, text, ls, pos, NULL);
			long got = sn_table_column(&t, text, ls, pos, &cur);
			if (want != got)
				fail_msg("round %d step %d: line %zu pos %zu: %ld vs %ld", round, step,
					 ls, pos, got, want);
		}
	}
	sn_table_clear(&t);
}

/* A prefix with alternatives: every alternative is tried, and one left out
 * of the declaration costs the fast path its matches (which is how
 * `speurneus rules test` exposes it). */
static void test_prefix_alternatives(void **state)
{
	(void)state;
	char dir[64];
	sn_ruleset *rs = load_user_rules(dir, sizeof dir,
					 "rules:\n"
					 "  - id: test.alt\n"
					 "    category: alt\n"
					 "    pattern: '(?<![A-Za-z0-9])(?:AB[0-9]{3}|[0-9]{2}-CD|x)(?![A-Za-z0-9])'\n"
					 "    prefix: [[A, B, '[0-9]'], ['[0-9]', '[0-9]', '-', C, D], [x]]\n"
					 "    confidence: medium\n"
					 "  - id: test.missing\n"
					 "    category: alt\n"
					 "    pattern: '(?<![A-Za-z0-9])(?:AB[0-9]{3}|[0-9]{2}-CD|x)(?![A-Za-z0-9])'\n"
					 "    prefix: [[A, B, '[0-9]'], [x]]\n"
					 "    confidence: medium\n");
	static const char *pieces3[] = { "AB123", "AB12", "12-CD", "1-CD", "12-C", "x", "xx",
					 " ", "-", "A", "B", "C", "D", "1", "\n", "\xc3\xa9" };
	const size_t np = sizeof pieces3 / sizeof pieces3[0];
	char *text = malloc(20000);
	char what[64];
	size_t found = 0;
	assert_non_null(text);
	long alt = rule_index(rs, "test.alt");
	for (int round = 0; round < 30; round++) {
		size_t n = random_text(text, 100 + next_rand() % 8000, pieces3, np);
		snprintf(what, sizeof what, "random round %d", round);
		found += compare_all_chunks(rs, alt, text, n, what);
	}
	assert_true(found > 100);
	/* at the end of the text, a prefix longer than what is left */
	assert_int_equal(compare_all_chunks(rs, alt, " 12-CD", 6, "end"), 1);
	assert_int_equal(compare_all_chunks(rs, alt, "x", 1, "one byte"), 1);
	const hits *fast = expect_fast_misses(rs, rule_index(rs, "test.missing"),
					      " AB123 12-CD 1-CD x AB12 ", 3, 2, 1);
	assert_int_equal(fast->v[1].offset, 18);
	free(text);
	sn_ruleset_free(rs);
	remove_user_rules(dir);
}

/*
 * More first-byte rules than the vector filter has group bits, so that rules
 * share a bit: their lead tables and blocking rectangles are combined, and
 * every rule must still find what the slow path finds.  The rules differ in
 * first bytes (ASCII, non-ASCII), boundaries (none, narrow, everything but a
 * space) and declared prefixes.
 */
static void test_vector_groups(void **state)
{
	(void)state;
	char dir[64];
	sn_ruleset *rs = load_user_rules(
		dir, sizeof dir,
		"rules:\n"
		"  - {id: g.0, category: g0, confidence: medium,\n"
		"     pattern: '(?<![0-9])[0-9]{3}-[0-9]{2}(?![0-9])'}\n"
		"  - {id: g.1, category: g1, confidence: medium,\n"
		"     pattern: '(?<![A-Za-z])[A-Z]{2}[0-9]'}\n"
		"  - {id: g.2, category: g2, confidence: medium, pattern: '(?<![a-z])q[a-z]{2}'}\n"
		"  - {id: g.3, category: g3, confidence: medium, pattern: '(?<![0-9#])#[0-9]{2}'}\n"
		"  - {id: g.4, category: g4, confidence: medium, pattern: '(?<![^ ])~[a-z]'}\n"
		"  - {id: g.5, category: g5, confidence: medium, pattern: '\xc3\xa9[0-9]'}\n"
		"  - {id: g.6, category: g6, confidence: medium,\n"
		"     pattern: '(?<![0-9A-Za-z])0x[0-9a-f]{2}', prefix: ['0', x]}\n"
		"  - {id: g.7, category: g7, confidence: medium,\n"
		"     pattern: '(?<![0-9])[0-9]{2}[.:][0-9]{2}',\n"
		"     prefix: [['[0-9]', '[0-9]', .], ['[0-9]', '[0-9]', ':']]}\n"
		"  - {id: g.8, category: g8, confidence: medium, pattern: '(?<![0-9])[1-9]{2}:'}\n"
		"  - {id: g.9, category: g9, confidence: medium,\n"
		"     pattern: '(?<![a-z])[a-z]{3}[0-9]'}\n"
		"  - {id: g.10, category: g10, confidence: medium, pattern: '(?<![ ])[$][0-9]'}\n");
	assert_int_equal(rs->n, 11);
	static const char *gp[] = { "123-45", "12-34", "1234-56", "AB1", "aAB1", "qab", "xqab",
				    "#12", "##12", "1#12", "~a", " ~b", "x~c", "\xc3\xa9" "1",
				    "0x1f", "10x1f", "12.34", "12:34", "112:3", "99:", "abc1",
				    "$1", " $2", "x", " ", "\n", "-", ".", ":", "1", "\xc3\xa9" };
	const size_t np = sizeof gp / sizeof gp[0];
	char *text = malloc(20000);
	assert_non_null(text);
	static hits h;
	size_t found = 0;
	unsigned seen = 0;
	for (int round = 0; round < 40; round++) {
		size_t n = random_text(text, 40 + next_rand() % 6000, gp, np);
		for (size_t k = 0; k < sizeof chunk_sizes / sizeof chunk_sizes[0]; k++)
			compare_paths(rs, text, n, chunk_sizes[k]);
		scan(rs, text, n, 0, 0, &h);
		found += h.n;
		for (size_t i = 0; i < h.n; i++)
			seen |= 1u << atoi(h.v[i].category + 1);
	}
	assert_true(found > 1000);
	assert_int_equal(seen, (1u << 11) - 1); /* every rule found something */
	/* at the first and the last byte of a text */
	static const char *const whole[] = { "#12", "12.34", "~a", "aaaaaaaaaaaaaaaaaaaa #12" };
	for (size_t w = 0; w < sizeof whole / sizeof whole[0]; w++) {
		for (int twice = 0; twice < 2; twice++) { /* vector and portable */
			compare_paths(rs, whole[w], strlen(whole[w]), 0);
			scan(rs, whole[w], strlen(whole[w]), 0, 0, &h);
			assert_int_equal(h.n, 1);
		}
	}
	free(text);
	sn_ruleset_free(rs);
	remove_user_rules(dir);
}

/*
 * Nine rules of eight prefix alternatives each: the matcher follows all
 * prefixes together in 64 bits, so the last rules' alternatives no longer fit
 * and are checked rule by rule.  Their prefixes must still hold: rule p.8
 * declares only the pairs "0a", "1b", ... "7h" though its pattern takes any
 * digit 0-7 and letter a-h, so the fast path finds "I0a" but not "I0b" (the
 * union of the alternatives at each position would allow it).
 */
static void test_prefix_overflow(void **state)
{
	(void)state;
	char dir[64], yaml[8192];
	size_t n = (size_t)snprintf(yaml, sizeof yaml, "rules:\n");
	for (int k = 0; k < 9; k++) {
		char letter = (char)('A' + k);
		n += (size_t)snprintf(yaml + n, sizeof yaml - n,
				      "  - id: p.%d\n    category: p%d\n    confidence: medium\n"
				      "    pattern: '(?<![0-9A-Za-z])%c%s(?![0-9A-Za-z])'\n"
				      "    prefix: [",
				      k, k, letter,
				      k == 8 ? "[0-7][a-h]" : "(?:0a|1b|2c|3d|4e|5f|6g|7h)");
		for (int a = 0; a < 8; a++)
			n += (size_t)snprintf(yaml + n, sizeof yaml - n, "%s[%c, '%d', %c]",
					      a ? ", " : "", letter, a, 'a' + a);
		n += (size_t)snprintf(yaml + n, sizeof yaml - n, "]\n");
		assert_true(n < sizeof yaml);
	}
	sn_ruleset *rs = load_user_rules(dir, sizeof dir, yaml);
	assert_int_equal(rs->n, 9);
	/* only pairs the prefixes declare can form */
	static const char *op[] = { "A0a ", "B7h ", "C3d ", "D1b ", "E5f ", "F2c ", "G6g ", "H7h ",
				    "I0a ", "I6g ", "A8a ", "A0b ", "x", " ", "\n", "I", "H", "0", "a" };
	char *text = malloc(8000);
	assert_non_null(text);
	static hits fast;
	size_t found = 0;
	for (int round = 0; round < 20; round++) {
		size_t len = random_text(text, 50 + next_rand() % 6000, op, sizeof op / sizeof op[0]);
		for (size_t k = 0; k < sizeof chunk_sizes / sizeof chunk_sizes[0]; k++)
			compare_paths(rs, text, len, chunk_sizes[k]);
		scan(rs, text, len, 0, 0, &fast);
		found += fast.n;
	}
	assert_true(found > 500);
	for (int twice = 0; twice < 2; twice++) /* vector and portable */
		expect_fast_misses(rs, -1, " I0b A3d I0a H7h ", 4, 3, 5);
	free(text);
	sn_ruleset_free(rs);
	remove_user_rules(dir);
}

/*
 * A thread's matchers share one fingerprint memo: whichever matcher stored a
 * value, the others get the fingerprint a matcher of its own would give, for
 * the same value under every rule, and the memo outlives them.
 */
static void test_shared_memo(void **state)
{
	(void)state;
	sn_ruleset *rs = load(NULL);
	sn_match_options mo = SN_MATCH_OPTIONS_INIT;
	sn_matcher *own = NULL, *a = NULL, *b = NULL;
	mo.key = &key;
	assert_int_equal(sn_matcher_new(&own, rs, &mo), 0);
	mo.memo = sn_matcher_memo_new();
	assert_non_null(mo.memo);
	assert_int_equal(sn_matcher_new(&a, rs, &mo), 0);
	assert_int_equal(sn_matcher_new(&b, rs, &mo), 0);
	static const char *texts[] = {
		"BSN 111222333, IBAN NL91ABNA0417164300, tel 06-12345678, jan@example.nl\n",
		"jan@example.nl 111222333 postcode 1234 AB en 06 12345678\n",
	};
	static hits want, got;
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < 2; i++) {
			scan_on(own, rs, texts[i], strlen(texts[i]), 0, &want);
			assert_true(want.n >= 4);
			scan_on((round + i) % 2 ? a : b, rs, texts[i], strlen(texts[i]), 0, &got);
			assert_int_equal(got.n, want.n);
			for (size_t k = 0; k < want.n; k++)
				assert_memory_equal(got.v[k].fp, want.v[k].fp, 32);
		}
	}
	sn_matcher_free(a);
	/* b still uses the memo after a is gone */
	scan_on(b, rs, texts[0], strlen(texts[0]), 0, &got);
	scan_on(own, rs, texts[0], strlen(texts[0]), 0, &want);
	assert_memory_equal(got.v[0].fp, want.v[0].fp, 32);
	sn_matcher_free(b);
	sn_fp_memo_free(mo.memo);
	sn_matcher_free(own);
	sn_ruleset_free(rs);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_prefix_alternatives),
		cmocka_unit_test(test_vector_groups),
		cmocka_unit_test(test_prefix_overflow),
		cmocka_unit_test(test_shared_memo),
		cmocka_unit_test(test_table_column_cursor),
		cmocka_unit_test(test_confidence),
		cmocka_unit_test(test_headerless_columns),
		cmocka_unit_test(test_sql_dump),
		cmocka_unit_test(test_table_rows),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_masked),
		cmocka_unit_test(test_chunk_borders),
		cmocka_unit_test(test_fast_equals_slow),
		cmocka_unit_test(test_email_walk_back),
		cmocka_unit_test(test_user_walk_back),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
