/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Progress counters (sn_scan_progress) and the --progress status line:
 * after a scan the counters equal the summary (files, bytes, findings) and
 * the input consumed equals the files' sizes, with one thread and with
 * several, for plain files, a compressed file and skipped ones; version 2
 * options still run.  The CLI's line formatter (scanner/cli/progress.c,
 * compiled in here) is checked for width, ETA and the filtering of names.
 * Nothing here depends on time taken.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "sink/sink.h"
#include "speurneus/error.h"
#include "speurneus/key.h"
#include "speurneus/rules.h"
#include "speurneus/scan.h"

/* the status line's formatter lives in the CLI, which is no library */
#include "cli/progress.c"

static sn_ruleset *rules;
static sn_key key;
static char dir[] = "/tmp/sn-progress-XXXXXX";
static uint64_t total_size;

static void diag(const char *file, unsigned line, unsigned col, const char *msg, void *p)
{
	(void)p;
	fprintf(stderr, "%s:%u:%u: %s\n", file, line, col, msg);
}

static void put_file(const char *name, const void *data, size_t n)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	total_size += n;
}

/* Text with a BSN next to its keyword on every 50th line (high). */
static char *make_text(size_t lines, size_t *n)
{
	static const char plain[] = "2024-01-01 INFO gebruiker ingelogd vanaf 10.0.0.1\n";
	static const char bsn[] = "burgerservicenummer: 111222333\n";
	char *t = malloc(lines * sizeof plain);
	size_t k = 0;
	assert_non_null(t);
	for (size_t i = 0; i < lines; i++) {
		const char *l = i % 50 == 7 ? bsn : plain;
		size_t ln = strlen(l);
		memcpy(t + k, l, ln);
		k += ln;
	}
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
	for (int i = 0; i < 12; i++) {
		char name[32];
		char *t = make_text((size_t)(200 + 700 * i), &n);
		snprintf(name, sizeof name, "t%02d.txt", i);
		put_file(name, t, n);
		free(t);
	}
	/* a compressed file: its member is the unit that counts */
	char *t = make_text(20000, &n);
	char gz[300];
	snprintf(gz, sizeof gz, "%s/log.txt.gz", dir);
	gzFile g = gzopen(gz, "wb");
	assert_non_null(g);
	assert_int_equal(gzwrite(g, t, (unsigned)n), (int)n);
	assert_int_equal(gzclose(g), Z_OK);
	free(t);
	struct stat st;
	assert_int_equal(stat(gz, &st), 0);
	total_size += (uint64_t)st.st_size;
	/* skipped: an image, and an empty file */
	static const unsigned char png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0,
					     0,    13,  'I', 'H', 'D', 'R' };
	put_file("pic.png", png, sizeof png);
	put_file("empty.txt", "", 0);
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

/* Run a scan of the tree with `threads` and compare the counters with the
 * summary. */
static void check_run(unsigned threads)
{
	const char *paths[] = { dir };
	sn_scan_options o = SN_SCAN_OPTIONS_INIT;
	sn_sink_options ko = { 0 };
	sn_scan_progress *p = NULL;
	sn_scan_snapshot s;
	sn_scan_result res;
	sn_sink *sink = NULL;
	sn_sink_stats st;
	FILE *out = tmpfile();

	assert_non_null(out);
	assert_int_equal(sn_scan_progress_new(&p), 0);
	sn_scan_progress_get(p, &s);
	assert_true(s.files == 0 && s.bytes == 0 && s.findings == 0 && s.path[0] == '\0');
	ko.format = SN_FMT_NDJSON;
	ko.stream = out;
	assert_int_equal(sn_sink_open(&sink, &ko), 0);
	o.paths = paths;
	o.npaths = 1;
	o.threads = threads;
	o.key = &key;
	o.rules = rules;
	o.progress = p;
	assert_int_equal(sn_scan_run(&o, sink, &res), 0);
	sn_sink_get_stats(sink, &st);
	sn_scan_progress_get(p, &s);

	assert_true(st.files_scanned >= 13); /* 12 texts, the member, the empty file */
	assert_true(st.findings > 0);
	assert_true(st.skipped >= 1);
	assert_int_equal(s.files, st.files_scanned);
	assert_int_equal(s.bytes, st.bytes_scanned);
	assert_int_equal(s.findings, st.findings);
	assert_int_equal(s.input_bytes, total_size);
	assert_int_equal(s.active, 0);
	assert_string_equal(s.path, "");

	sn_sink_end(sink, res.duration_s, res.interrupted);
	assert_int_equal(sn_sink_close(sink, 1), 0);
	fclose(out);
	sn_scan_progress_free(p);
}

static void test_counters_one_thread(void **state)
{
	(void)state;
	check_run(1);
}

static void test_counters_threads(void **state)
{
	(void)state;
	check_run(4);
}

/* Findings below the threshold are not reported, and not counted. */
static void test_counters_buffer(void **state)
{
	size_t n;
	char *t = make_text(3000, &n);
	sn_scan_options o = SN_SCAN_OPTIONS_INIT;
	sn_sink_options ko = { 0 };
	sn_scan_progress *p = NULL;
	sn_scan_snapshot s;
	sn_sink *sink = NULL;
	sn_sink_stats st;
	FILE *out = tmpfile();
	(void)state;

	assert_int_equal(sn_scan_progress_new(&p), 0);
	ko.format = SN_FMT_TEXT;
	ko.stream = out;
	assert_int_equal(sn_sink_open(&sink, &ko), 0);
	o.key = &key;
	o.rules = rules;
	o.progress = p;
	o.min_confidence = SN_CONF_HIGH;
	assert_int_equal(sn_scan_buffer(&o, sink, t, n, "buf.txt"), 0);
	sn_sink_get_stats(sink, &st);
	sn_scan_progress_get(p, &s);
	assert_int_equal(s.files, 1);
	assert_int_equal(st.files_scanned, 1);
	assert_int_equal(s.bytes, n);
	assert_int_equal(s.bytes, st.bytes_scanned);
	assert_int_equal(s.findings, st.findings);
	assert_int_equal(s.findings, 60);
	sn_sink_close(sink, 0);
	fclose(out);
	sn_scan_progress_free(p);
	free(t);
}

/* A caller built against version 2 (no progress member) still runs. */
static void test_options_v2(void **state)
{
	sn_scan_options o = SN_SCAN_OPTIONS_INIT;
	sn_sink_options ko = { 0 };
	sn_sink *sink = NULL;
	FILE *out = tmpfile();
	(void)state;
	ko.format = SN_FMT_NDJSON;
	ko.stream = out;
	assert_int_equal(sn_sink_open(&sink, &ko), 0);
	o.version = 2;
	o.key = &key;
	o.rules = rules;
	o.progress = (sn_scan_progress *)&o; /* must not be touched */
	assert_int_equal(sn_scan_buffer(&o, sink, "bsn 111222333\n", 14, "v2"), 0);
	o.version = 4;
	assert_int_equal(sn_scan_buffer(&o, sink, "x", 1, "v4"), SN_EINVAL);
	sn_sink_close(sink, 0);
	fclose(out);
}

/* ---- the status line ---- */

static size_t cols_of(const char *s)
{
	size_t w = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		w += (*p & 0xc0) != 0x80; /* the tests use no wide characters */
	return w;
}

static void test_line_width_and_path(void **state)
{
	char line[1024];
	cli_progress_view v = { 1234, 1200000000ull, 56, 0, 0, 3.0, 85.3e6, 0,
				"/srv/share/afdeling/export/2024/klanten.csv", 0 };
	(void)state;
	size_t used = cli_progress_format(line, sizeof line, &v, 200);
	assert_string_equal(line, "1234 files  1.20 GB  85.3 MB/s  56 findings  "
				  "/srv/share/afdeling/export/2024/klanten.csv");
	assert_int_equal(used, cols_of(line));
	size_t full = used;
	for (size_t cols = 10; cols < 120; cols++) {
		used = cli_progress_format(line, sizeof line, &v, cols);
		assert_true(used <= cols);
		assert_int_equal(used, cols_of(line));
		if (strstr(line, "klanten") && cols < full)
			/* the file name is what is kept; the start gives way */
			assert_non_null(strstr(line, "\xe2\x80\xa6"));
	}
	used = cli_progress_format(line, sizeof line, &v, 70);
	assert_int_equal(used, 70);
	assert_string_equal(line, "1234 files  1.20 GB  85.3 MB/s  56 findings  "
				  "\xe2\x80\xa6/export/2024/klanten.csv");
	/* too narrow for a useful path: none */
	used = cli_progress_format(line, sizeof line, &v, 50);
	assert_null(strstr(line, "klanten"));
	/* singular, stdin, stopping */
	cli_progress_view one = { 1, 999, 1, 0, 0, 0.5, 0, 1, "-", 0 };
	cli_progress_format(line, sizeof line, &one, 100);
	assert_string_equal(line, "stopping  1 file  999 B  0 B/s  1 finding  stdin");
}

static void test_line_eta(void **state)
{
	char line[256];
	(void)state;
	/* total known: a percentage, and an ETA once there is a basis */
	cli_progress_view v = { 0, 50000000, 3, 25000000, 100000000, 10.0, 5e6, 0, "big.log", 0 };
	cli_progress_format(line, sizeof line, &v, 200);
	assert_non_null(strstr(line, "  25% ETA 30s  big.log"));
	v.elapsed_s = 0.5;
	cli_progress_format(line, sizeof line, &v, 200);
	assert_non_null(strstr(line, "  25%  big.log"));
	assert_null(strstr(line, "ETA"));
	/* nothing consumed that an offset shows (pread decoders): no ETA */
	v.elapsed_s = 20;
	v.input = 65536;
	cli_progress_format(line, sizeof line, &v, 200);
	assert_non_null(strstr(line, "  0%  big.log"));
	v.input = 10000000;
	v.elapsed_s = 4000;
	cli_progress_format(line, sizeof line, &v, 200);
	assert_non_null(strstr(line, "  10% ETA 10:00:00  "));
	v.elapsed_s = 200;
	cli_progress_format(line, sizeof line, &v, 200);
	assert_non_null(strstr(line, "  10% ETA 30:00  "));
	/* total unknown: neither */
	v.total = 0;
	cli_progress_format(line, sizeof line, &v, 200);
	assert_null(strstr(line, "%"));
	assert_null(strstr(line, "ETA"));
}

/* Names come from the file system: nothing in them may reach the terminal
 * as a control sequence, and a cut name starts on a character boundary. */
static void test_line_names_filtered(void **state)
{
	static const struct {
		const char *path;
		int cut;
		const char *shown;
	} cases[] = {
		{ "a\x1b]0;pwned\x07.txt", 0, "a?]0;pwned?.txt" },
		{ "tab\there\r\n.csv", 0, "tab?here??.csv" },
		{ "c1\xc2\x9b" "31m.txt", 0, "c1?31m.txt" },
		{ "bad\xff\xfe.txt", 0, "bad??.txt" },
		{ "over\xc0\xaflong", 0, "over??long" },
		{ "rlo\xe2\x80\xaetxt.exe", 0, "rlo?txt.exe" },
		{ "caf\xc3\xa9 \xe2\x82\xac.csv", 0, "caf\xc3\xa9 \xe2\x82\xac.csv" },
		{ "del\x7f", 0, "del?" },
		{ "\xa9tail.csv", 1, "\xe2\x80\xa6tail.csv" },
	};
	char line[512];
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cli_progress_view v = { 0, 0, 0, 0, 0, 0, 0, 0, cases[i].path, cases[i].cut };
		cli_progress_format(line, sizeof line, &v, 200);
		const char *p = strstr(line, "findings  ");
		assert_non_null(p);
		assert_string_equal(p + 10, cases[i].shown);
		for (const unsigned char *c = (const unsigned char *)line; *c; c++)
			assert_true(*c >= 0x20 && *c != 0x7f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_one_thread),
		cmocka_unit_test(test_counters_threads),
		cmocka_unit_test(test_counters_buffer),
		cmocka_unit_test(test_options_v2),
		cmocka_unit_test(test_line_width_and_path),
		cmocka_unit_test(test_line_eta),
		cmocka_unit_test(test_line_names_filtered),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
