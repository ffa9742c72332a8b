/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One long unit matched by several threads (scan.c, seg_set): the report of
 * a scan with 2 or 4 threads -- every record, byte for byte, in the same
 * order -- equals the report with one thread, whose pipeline never splits a
 * unit.  Covered: a dense log, a CSV export whose header names the columns
 * of every row (field, row), a header-less CSV whose columns are inferred
 * from its first lines, one long line of values where segment borders fall
 * inside matches (the segment is matched again: `rematched` > 0), UTF-16
 * text, a long member of a tar.gz, --reveal, and an SQL dump, which is
 * never split.  Each case also asserts that splitting happened (or, for the
 * dump, did not), so none of them passes by not exercising the split.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <ftw.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "sink/sink.h"
#include "speurneus/error.h"
#include "speurneus/key.h"
#include "speurneus/rules.h"
#include "speurneus/scan.h"

static sn_ruleset *rules;
static sn_key key;
static char dir[] = "/tmp/sn-split-XXXXXX";

static void diag(const char *file, unsigned line, unsigned col, const char *msg, void *p)
{
	(void)p;
	fprintf(stderr, "%s:%u:%u: %s\n", file, line, col, msg);
}

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static void put_file(const char *name, const void *data, size_t n)
{
	char path[256];
	path_of(path, sizeof path, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Values the shipped rules accept, all different: BSN (11-proef), Dutch
 * IBAN (mod 97, a listed bank), mobile number, e-mail address, postcode. */
static void bsn(unsigned i, char out[10])
{
	for (;; i++) {
		unsigned v = 10000000u + (i * 7919u) % 89999999u, s = 0;
		char d[9];
		for (int k = 7; k >= 0; k--) {
			d[k] = (char)('0' + v % 10);
			v /= 10;
		}
		for (int k = 0; k < 8; k++)
			s += (unsigned)(9 - k) * (unsigned)(d[k] - '0');
		unsigned c = s % 11;
		if (c == 10)
			continue;
		memcpy(out, d, 8);
		out[8] = (char)('0' + c);
		out[9] = '\0';
		return;
	}
}

static void iban(unsigned i, char out[19])
{
	char acct[11];
	snprintf(acct, sizeof acct, "%010u", (i * 104729u) % 1000000000u);
	/* "ABNA" + account + "NL00", letters as 10..35, mod 97 */
	char digits[64];
	snprintf(digits, sizeof digits, "10112310%s232100", acct);
	unsigned r = 0;
	for (const char *p = digits; *p; p++)
		r = (r * 10 + (unsigned)(*p - '0')) % 97;
	snprintf(out, 19, "NL%02uABNA%s", 98 - r, acct);
}

static size_t log_line(char *p, unsigned i)
{
	char b[10], ib[19];
	bsn(i, b);
	iban(i, ib);
	return (size_t)sprintf(p,
			       "2024-03-%02u 10:%02u:%02u INFO klant %u bsn %s iban %s tel "
			       "06-%08u mail k%u@voorbeeld.nl postcode %04u AB\n",
			       1 + i % 28, i % 60, (i / 60) % 60, i, b, ib,
			       10000000u + i % 89999999u, i, 1000 + i % 9000);
}

static char *make_log(unsigned lines, size_t *n)
{
	char *t = malloc((size_t)lines * 200);
	size_t k = 0;
	assert_non_null(t);
	for (unsigned i = 0; i < lines; i++)
		k += log_line(t + k, i);
	*n = k;
	return t;
}

static int setup(void **state)
{
	const char *dirs[] = { SN_SOURCE_DIR "/rules" };
	size_t n;
	(void)state;
	setlocale(LC_CTYPE, "C.UTF-8");
	if (sn_crypto_init() < 0 || !mkdtemp(dir))
		return -1;
	memset(key.k, 0x42, sizeof key.k);
	sn_key_compute_id(&key);
	if (sn_ruleset_load(&rules, dirs, 1, SN_SOURCE_DIR "/rules/data", diag, NULL) < 0)
		return -1;

	/* a dense log, about 1.4 MB */
	char *t = make_log(12000, &n);
	put_file("app.log", t, n);

	/* the same log as UTF-16LE with a BOM */
	unsigned char *u16 = malloc(2 * n + 2);
	assert_non_null(u16);
	u16[0] = 0xFF;
	u16[1] = 0xFE;
	for (size_t i = 0; i < n; i++) {
		u16[2 + 2 * i] = (unsigned char)t[i];
		u16[3 + 2 * i] = 0;
	}
	put_file("app-utf16.txt", u16, 2 * n + 2);
	free(u16);

	/* the log as a long member of a tar.gz (longer than a member that is
	 * handed to a helper whole) */
	char *big = malloc(4 * n);
	assert_non_null(big);
	for (int i = 0; i < 4; i++)
		memcpy(big + (size_t)i * n, t, n);
	char tgz[256];
	path_of(tgz, sizeof tgz, "logs.tar.gz");
	struct archive *a = archive_write_new();
	assert_non_null(a);
	archive_write_add_filter_gzip(a);
	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, tgz), ARCHIVE_OK);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "var/log/app.log");
	archive_entry_set_size(e, (la_int64_t)(4 * n));
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, big, 4 * n), (la_ssize_t)(4 * n));
	archive_entry_free(e);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	free(big);
	free(t);

	/* a CSV export with a header naming its columns */
	sn_buf b;
	sn_buf_init(&b, (size_t)1 << 30);
	sn_buf_puts(&b, "klantnummer;naam;burgerservicenummer;telefoon;rekening\n");
	for (unsigned i = 0; i < 25000; i++) {
		char bs[10], ib[19];
		bsn(i + 5, bs);
		iban(i + 5, ib);
		sn_buf_printf(&b, "%u;Klant %u;%s;06%08u;%s\n", 400000 + i, i, bs,
			      20000000u + i, ib);
	}
	put_file("export.csv", b.p, b.len);

	/* header-less: a column of valid BSNs without a name, recognised from
	 * its first lines; beside it an order number that is no BSN */
	sn_buf_reset(&b);
	for (unsigned i = 0; i < 30000; i++) {
		char bs[10];
		bsn(i + 11, bs);
		sn_buf_printf(&b, "%u,%s,%u,bestelling\n", 700000000u + i, bs, i % 97);
	}
	put_file("headerless.csv", b.p, b.len);

	/* one line of values, comma separated, 3 MB long: segment borders
	 * fall inside values */
	sn_buf_reset(&b);
	for (unsigned i = 0; b.len < (3u << 20); i++) {
		char bs[10];
		bsn(i + 17, bs);
		sn_buf_printf(&b, "%s,06-%08u,", bs, 30000000u + i);
	}
	sn_buf_putc(&b, '\n');
	put_file("oneline.txt", b.p, b.len);

	/* an SQL dump: its COPY state runs from line to line */
	sn_buf_reset(&b);
	sn_buf_puts(&b, "COPY public.klant (id, naam, bsn) FROM stdin;\n");
	for (unsigned i = 0; i < 40000; i++) {
		char bs[10];
		bsn(i + 23, bs);
		sn_buf_printf(&b, "%u\tKlant %u\t%s\n", i, i, bs);
	}
	sn_buf_puts(&b, "\\.\n");
	put_file("dump.sql", b.p, b.len);
	assert_false(b.failed);
	sn_buf_free(&b);
	return 0;
}

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int teardown(void **state)
{
	(void)state;
	sn_ruleset_free(rules);
	nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

typedef struct run {
	char *out;
	size_t len;
	sn_scan_result res;
	sn_sink_stats st;
} run;

/* Scan one file at --min-confidence low; the report (records only, no
 * header or summary) is returned in r->out. */
static void scan_one(const char *name, unsigned threads, int reveal, run *r)
{
	char path[256];
	const char *paths[] = { path };
	sn_scan_options o = SN_SCAN_OPTIONS_INIT;
	sn_sink_options ko = { 0 };
	sn_sink *sink = NULL;
	FILE *out = tmpfile();

	path_of(path, sizeof path, name);
	assert_non_null(out);
	ko.format = SN_FMT_NDJSON;
	ko.stream = out;
	assert_int_equal(sn_sink_open(&sink, &ko), 0);
	o.paths = paths;
	o.npaths = 1;
	o.threads = threads;
	o.key = &key;
	o.rules = rules;
	o.reveal = reveal;
	o.min_confidence = SN_CONF_LOW;
	assert_int_equal(sn_scan_run(&o, sink, &r->res), 0);
	sn_sink_get_stats(sink, &r->st);
	assert_int_equal(sn_sink_close(sink, 1), 0);
	long len = ftell(out);
	assert_true(len > 0);
	r->len = (size_t)len;
	r->out = malloc(r->len + 1);
	assert_non_null(r->out);
	rewind(out);
	assert_int_equal(fread(r->out, 1, r->len, out), r->len);
	r->out[r->len] = '\0';
	fclose(out);
}

/* The report with `threads` equals the one-thread report; returns the
 * number of segments the split run made. */
static uint64_t same_as_one_thread(const char *name, unsigned threads, int reveal,
				   uint64_t *rematched)
{
	run one, many;
	scan_one(name, 1, reveal, &one);
	scan_one(name, threads, reveal, &many);
	assert_int_equal(one.res.segments, 0);
	assert_true(one.st.findings > 1000);
	assert_int_equal(one.st.files_scanned, 1);
	assert_int_equal(many.st.files_scanned, 1);
	assert_int_equal(many.st.findings, one.st.findings);
	assert_int_equal(many.st.bytes_scanned, one.st.bytes_scanned);
	assert_int_equal(many.len, one.len);
	assert_memory_equal(many.out, one.out, one.len);
	if (rematched)
		*rematched = many.res.rematched;
	free(one.out);
	free(many.out);
	return many.res.segments;
}

static void test_log(void **state)
{
	(void)state;
	assert_true(same_as_one_thread("app.log", 2, 0, NULL) >= 2);
	assert_true(same_as_one_thread("app.log", 4, 0, NULL) >= 2);
}

static void test_log_reveal(void **state)
{
	(void)state;
	assert_true(same_as_one_thread("app.log", 2, 1, NULL) >= 2);
}

static void test_utf16(void **state)
{
	(void)state;
	assert_true(same_as_one_thread("app-utf16.txt", 2, 0, NULL) >= 2);
}

static void test_archive_member(void **state)
{
	(void)state;
	assert_true(same_as_one_thread("logs.tar.gz", 2, 0, NULL) >= 4);
}

static void test_csv_header(void **state)
{
	(void)state;
	run r;
	assert_true(same_as_one_thread("export.csv", 2, 0, NULL) >= 1);
	/* the header still names the last row's columns */
	scan_one("export.csv", 2, 0, &r);
	assert_non_null(strstr(r.out, "\"field\":\"burgerservicenummer\",\"row\":25000}"));
	free(r.out);
}

static void test_csv_inferred(void **state)
{
	(void)state;
	run one, two;
	assert_true(same_as_one_thread("headerless.csv", 2, 0, NULL) >= 1);
	/* the inferred BSN column is medium in every segment */
	scan_one("headerless.csv", 1, 0, &one);
	scan_one("headerless.csv", 2, 0, &two);
	assert_int_equal(two.st.findings_by_conf[SN_CONF_LOW], one.st.findings_by_conf[SN_CONF_LOW]);
	assert_true(two.st.findings_by_conf[SN_CONF_MEDIUM] >= 30000);
	free(one.out);
	free(two.out);
}

static void test_borders_inside_matches(void **state)
{
	(void)state;
	uint64_t rematched = 0;
	assert_true(same_as_one_thread("oneline.txt", 2, 0, &rematched) >= 2);
	assert_true(rematched >= 1);
}

static void test_sql_dump_not_split(void **state)
{
	(void)state;
	run r;
	scan_one("dump.sql", 2, 0, &r);
	assert_int_equal(r.res.segments, 0);
	assert_non_null(strstr(r.out, "\"field\":\"bsn\""));
	free(r.out);
	assert_int_equal(same_as_one_thread("dump.sql", 2, 0, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_log_reveal),
		cmocka_unit_test(test_utf16),
		cmocka_unit_test(test_archive_member),
		cmocka_unit_test(test_csv_header),
		cmocka_unit_test(test_csv_inferred),
		cmocka_unit_test(test_borders_inside_matches),
		cmocka_unit_test(test_sql_dump_not_split),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
