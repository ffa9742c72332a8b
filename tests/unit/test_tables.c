/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Validator data tables: the shipped rules/data files load and hold the
 * spec's lists; malformed lines are all reported with file, line and column
 * through the diagnostics callback; a missing file names its path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "match/tables.h"
#include "speurneus/error.h"

#ifndef SN_SOURCE_DIR
#error "SN_SOURCE_DIR must name the source tree"
#endif

#define DATA_DIR SN_SOURCE_DIR "/rules/data"
#define MAX_DIAGS 32

typedef struct diag {
	char file[512];
	unsigned line, col;
	char msg[256];
} diag;

typedef struct diags {
	diag d[MAX_DIAGS];
	size_t n;
} diags;

static void collect(const char *file, unsigned line, unsigned col, const char *message,
		    void *payload)
{
	diags *ds = payload;

	if (ds->n < MAX_DIAGS) {
		diag *d = &ds->d[ds->n];

		snprintf(d->file, sizeof d->file, "%s", file ? file : "(null)");
		snprintf(d->msg, sizeof d->msg, "%s", message ? message : "(null)");
		d->line = line;
		d->col = col;
	}
	ds->n++;
}

static unsigned iban_len(const sn_tables *t, const char *cc)
{
	return t->iban_len[(cc[0] - 'A') * 26 + (cc[1] - 'A')];
}

static size_t count_set(const uint8_t *v, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += v[i] != 0;
	return c;
}

/* The shipped files hold exactly the spec's lists (sections 3 and 4). */
static void test_load_shipped(void **state)
{
	static const struct {
		const char *cc;
		unsigned len;
	} lengths[] = {
		{ "NL", 18 }, { "BE", 16 }, { "DE", 22 }, { "AD", 24 }, { "NO", 15 },
		{ "LC", 32 }, { "RU", 33 }, { "YE", 30 }, { "GB", 22 }, { "FR", 27 },
	};
	static const char *const banks[] = {
		"ABNA", "ASNB", "BUNQ", "INGB", "KNAB", "RABO", "REVO", "SNSB", "TRIO", "ZWLB",
	};
	static const char *const not_banks[] = { "TEST", "MOCK", "ABNB", "AAAA", "ZZZZ" };
	static const unsigned area2[] = { 10, 13, 15, 20, 58, 70, 75, 79 };
	static const unsigned area3[] = { 111, 164, 166, 168, 313, 318, 570, 599 };
	static const unsigned not_area[] = { 11, 12, 60, 88, 110, 163, 169, 600 };
	sn_tables *t = NULL;
	diags ds = { .n = 0 };

	(void)state;
	assert_int_equal(sn_tables_load(&t, DATA_DIR, collect, &ds), 0);
	assert_int_equal(ds.n, 0);
	assert_non_null(t);
	assert_int_equal(count_set(t->iban_len, sizeof t->iban_len), 89);
	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++)
		assert_int_equal(iban_len(t, lengths[i].cc), lengths[i].len);
	assert_int_equal(iban_len(t, "QQ"), 0);
	assert_int_equal(iban_len(t, "US"), 0);

	assert_int_equal(t->n_nl_banks, 80);
	for (size_t i = 1; i < t->n_nl_banks; i++)
		assert_true(memcmp(t->nl_banks[i - 1], t->nl_banks[i], 4) < 0);
	for (size_t i = 0; i < sizeof banks / sizeof banks[0]; i++)
		assert_true(sn_tables_nl_bank_known(t, banks[i]));
	for (size_t i = 0; i < sizeof not_banks / sizeof not_banks[0]; i++)
		assert_false(sn_tables_nl_bank_known(t, not_banks[i]));
	assert_false(sn_tables_nl_bank_known(t, "abna"));

	assert_int_equal(count_set(t->area2, sizeof t->area2), 30);
	assert_int_equal(count_set(t->area3, sizeof t->area3), 111);
	for (size_t i = 0; i < sizeof area2 / sizeof area2[0]; i++)
		assert_true(t->area2[area2[i]]);
	for (size_t i = 0; i < sizeof area3 / sizeof area3[0]; i++)
		assert_true(t->area3[area3[i]]);
	for (size_t i = 0; i < sizeof not_area / sizeof not_area[0]; i++) {
		if (not_area[i] < 100)
			assert_false(t->area2[not_area[i]]);
		else
			assert_false(t->area3[not_area[i]]);
	}
	sn_tables_free(t);
}

static void test_from_strings_ok(void **state)
{
	sn_tables *t = NULL;
	diags ds = { .n = 0 };

	(void)state;
	assert_int_equal(sn_tables_from_strings(&t,
		"# lengths\r\nNL 18\r\n  BE\t16   # Belgium\n\nNL 18\n",
		"RABO\nABNA\nINGB\nABNA\n",
		"20\n 111 \n",
		collect, &ds), 0);
	assert_int_equal(ds.n, 0);
	assert_int_equal(iban_len(t, "NL"), 18);
	assert_int_equal(iban_len(t, "BE"), 16);
	assert_int_equal(count_set(t->iban_len, sizeof t->iban_len), 2);
	/* sorted, duplicates folded */
	assert_int_equal(t->n_nl_banks, 3);
	assert_memory_equal(t->nl_banks[0], "ABNA", 4);
	assert_memory_equal(t->nl_banks[1], "INGB", 4);
	assert_memory_equal(t->nl_banks[2], "RABO", 4);
	assert_true(sn_tables_nl_bank_known(t, "RABO"));
	assert_false(sn_tables_nl_bank_known(t, "KNAB"));
	assert_true(t->area2[20]);
	assert_true(t->area3[111]);
	assert_false(t->area3[20]);
	sn_tables_free(t);

	/* NULL stands for an empty file */
	assert_int_equal(sn_tables_from_strings(&t, NULL, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(t->n_nl_banks, 0);
	assert_false(sn_tables_nl_bank_known(t, "ABNA"));
	sn_tables_free(t);
	assert_false(sn_tables_nl_bank_known(NULL, "ABNA"));
	sn_tables_free(NULL);
}

/* Every malformed line is reported, in every file, before the load fails. */
static void test_from_strings_malformed(void **state)
{
	static const struct {
		const char *file;
		unsigned line, col;
	} want[] = {
		{ "iban-lengths.txt", 2, 3 },  /* no length */
		{ "iban-lengths.txt", 3, 1 },  /* lower case */
		{ "iban-lengths.txt", 4, 1 },  /* no space */
		{ "iban-lengths.txt", 5, 4 },  /* out of range */
		{ "iban-lengths.txt", 6, 4 },  /* not a number */
		{ "iban-lengths.txt", 9, 1 },  /* conflicting */
		{ "nl-bank-codes.txt", 2, 1 }, /* lower case */
		{ "nl-bank-codes.txt", 3, 2 }, /* 3 letters, indented */
		{ "nl-bank-codes.txt", 4, 1 }, /* 5 characters */
		{ "nl-area-codes.txt", 2, 1 }, /* trunk 0 */
		{ "nl-area-codes.txt", 3, 1 }, /* 1 digit */
		{ "nl-area-codes.txt", 4, 1 }, /* 4 digits */
		{ "nl-area-codes.txt", 5, 1 }, /* not digits */
		{ "nl-area-codes.txt", 6, 1 }, /* 111 overlaps 11 */
	};
	sn_tables *t = (sn_tables *)&t; /* must be reset to NULL */
	diags ds = { .n = 0 };

	(void)state;
	assert_int_equal(sn_tables_from_strings(&t,
		"NL 18\nXX\nnl 18\nNL18\nDE 99\nBE x6\n# c\n  BE 16  # trailing\nBE 17\n",
		"ABNA\nabna\n ABN\nRABO1\n\tINGB\n",
		"20\n020\n1\n1234\n2x\n111\n11\n",
		collect, &ds), SN_EFORMAT);
	assert_null(t);
	assert_int_equal(ds.n, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < ds.n; i++) {
		assert_string_equal(ds.d[i].file, want[i].file);
		assert_int_equal(ds.d[i].line, want[i].line);
		assert_int_equal(ds.d[i].col, want[i].col);
		assert_true(ds.d[i].msg[0] != '\0');
	}
	assert_non_null(strstr(ds.d[3].msg, "99"));
	assert_non_null(strstr(ds.d[13].msg, "11"));
	assert_true(sn_error_last()[0] != '\0');

	/* without a callback the result is the same */
	assert_int_equal(sn_tables_from_strings(&t, "NL 18\nXX\n", "", "", NULL, NULL),
			 SN_EFORMAT);
	assert_null(t);
	assert_int_equal(sn_tables_from_strings(NULL, "", "", "", NULL, NULL), SN_EINVAL);
}

static void test_load_missing(void **state)
{
	sn_tables *t = NULL;
	diags ds = { .n = 0 };
	const char *dir = "/nonexistent/speurneus-data";

	(void)state;
	assert_int_equal(sn_tables_load(&t, dir, collect, &ds), SN_EIO);
	assert_null(t);
	assert_non_null(strstr(sn_error_last(), dir));
	/* all three files reported, each by its path */
	assert_int_equal(ds.n, 3);
	assert_string_equal(ds.d[0].file, "/nonexistent/speurneus-data/iban-lengths.txt");
	assert_string_equal(ds.d[1].file, "/nonexistent/speurneus-data/nl-bank-codes.txt");
	assert_string_equal(ds.d[2].file, "/nonexistent/speurneus-data/nl-area-codes.txt");
	assert_int_equal(sn_tables_load(&t, dir, NULL, NULL), SN_EIO);
	assert_int_equal(sn_tables_load(&t, NULL, NULL, NULL), SN_EINVAL);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void remove_file(const char *dir, const char *name)
{
	char path[1024];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
	rmdir(path);
}

/* On disk, diagnostics name the file by its path; a directory in place of
 * a file is an I/O problem, not an empty table. */
static void test_load_malformed_file(void **state)
{
	char dir[] = "/tmp/sn-tables-XXXXXX";
	char want[1024];
	sn_tables *t = NULL;
	diags ds = { .n = 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "iban-lengths.txt", "# x\nNL 18\nNL 1B\n");
	write_file(dir, "nl-bank-codes.txt", "ABNA\n");
	write_file(dir, "nl-area-codes.txt", "20\n");
	assert_int_equal(sn_tables_load(&t, dir, collect, &ds), SN_EFORMAT);
	assert_null(t);
	assert_int_equal(ds.n, 1);
	snprintf(want, sizeof want, "%s/iban-lengths.txt", dir);
	assert_string_equal(ds.d[0].file, want);
	assert_int_equal(ds.d[0].line, 3);
	assert_int_equal(ds.d[0].col, 4);

	write_file(dir, "iban-lengths.txt", "NL 18\n");
	assert_int_equal(sn_tables_load(&t, dir, NULL, NULL), 0);
	assert_int_equal(iban_len(t, "NL"), 18);
	sn_tables_free(t);
	t = NULL;

	remove_file(dir, "nl-area-codes.txt");
	snprintf(want, sizeof want, "%s/nl-area-codes.txt", dir);
	assert_int_equal(mkdir(want, 0700), 0);
	ds.n = 0;
	assert_int_equal(sn_tables_load(&t, dir, collect, &ds), SN_EIO);
	assert_null(t);
	assert_int_equal(ds.n, 1);
	assert_string_equal(ds.d[0].file, want);

	remove_file(dir, "iban-lengths.txt");
	remove_file(dir, "nl-bank-codes.txt");
	remove_file(dir, "nl-area-codes.txt");
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_shipped),
		cmocka_unit_test(test_from_strings_ok),
		cmocka_unit_test(test_from_strings_malformed),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_load_malformed_file),
	};

	return cmocka_run_group_tests_name("tables", tests, NULL, NULL);
}
