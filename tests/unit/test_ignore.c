/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unit tests for the gitignore-syntax matcher behind .speurneusignore,
 * .gitignore and --exclude: one table row per documented gitignore rule
 * (comments, escapes, trailing spaces, negation, anchoring, directory-only
 * patterns, wildcards, bracket expressions and the '**' forms), plus the
 * base-directory handling the walker relies on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "speurneus/error.h"
#include "walk/walk.h"

struct ig_case {
	const char *base;
	const char *rules;
	const char *path;
	int is_dir;
	int want;
};

static const struct ig_case cases[] = {
	/* basename patterns match at any depth */
	{"", "*.log", "a.log", 0, 1},
	{"", "*.log", "dir/sub/a.log", 0, 1},
	{"", "*.log", "a.txt", 0, 0},
	{"", "*.log", "a.log.txt", 0, 0},
	{"", "*", "anything", 0, 1},
	{"", "*", ".hidden", 0, 1},
	{"", ".*", ".env", 0, 1},
	{"", "secret.txt", "a/b/secret.txt", 0, 1},
	{"", "secret.txt", "a/secret.txt/x", 0, 1},
	/* comments, blank lines, escapes, trailing spaces */
	{"", "# comment", "# comment", 0, 0},
	{"", "\\#hash", "#hash", 0, 1},
	{"", "\\!bang", "!bang", 0, 1},
	{"", "\n\n   \n", "x", 0, 0},
	{"", "foo   ", "foo", 0, 1},
	{"", "foo\\ ", "foo ", 0, 1},
	{"", "foo\\ ", "foo", 0, 0},
	{"", "foo\\\\ ", "foo\\", 0, 1},
	{"", "\\*.txt", "*.txt", 0, 1},
	{"", "\\*.txt", "a.txt", 0, 0},
	{"", "*.txt\r\n", "a.txt", 0, 1},
	{"", "\xef\xbb\xbf*.log", "a.log", 0, 1},
	{"", "!", "x", 0, 0},
	{"", "/", "x", 1, 0},
	/* negation; the last matching rule wins */
	{"", "*.log\n!keep.log", "keep.log", 0, -1},
	{"", "*.log\n!keep.log", "other.log", 0, 1},
	{"", "!keep.log\n*.log", "keep.log", 0, 1},
	{"", "!keep.log", "keep.log", 0, -1},
	{"", "foo/*\n!foo/bar.txt", "foo/bar.txt", 0, -1},
	{"", "*\n!*/\n!*.txt", "a/b/c.txt", 0, -1},
	{"", "*\n!*/\n!*.txt", "a/b/c.bin", 0, 1},
	/* a file inside an excluded directory cannot be re-included */
	{"", "foo/\n!foo/bar.txt", "foo/bar.txt", 0, 1},
	{"", "dir/*", "dir/sub/file", 0, 1},
	/* directory-only patterns */
	{"", "build/", "build", 1, 1},
	{"", "build/", "build", 0, 0},
	{"", "build/", "src/build", 1, 1},
	{"", "build/", "build/x.o", 0, 1},
	{"", "doc/frotz/", "doc/frotz", 1, 1},
	{"", "doc/frotz/", "a/doc/frotz", 1, 0},
	/* a leading or middle '/' anchors the pattern */
	{"", "/top.txt", "top.txt", 0, 1},
	{"", "/top.txt", "sub/top.txt", 0, 0},
	{"", "doc/frotz", "doc/frotz", 0, 1},
	{"", "doc/frotz", "a/doc/frotz", 0, 0},
	{"", "/*", "top", 0, 1},
	{"", "/*.c", "sub/x.c", 0, 0},
	{"", "doc/*.txt", "doc/a.txt", 0, 1},
	{"", "doc/*.txt", "doc/x/a.txt", 0, 0},
	/* '*' and '?' never match '/' */
	{"", "x/a*b", "x/a/b", 0, 0},
	{"", "x/a?b", "x/a/b", 0, 0},
	{"", "x/a?b", "x/a-b", 0, 1},
	{"", "foo?", "foo1", 0, 1},
	{"", "foo?", "foo", 0, 0},
	/* bracket expressions */
	{"", "[abc].txt", "b.txt", 0, 1},
	{"", "[abc].txt", "d.txt", 0, 0},
	{"", "[!abc].txt", "d.txt", 0, 1},
	{"", "[^abc].txt", "a.txt", 0, 0},
	{"", "[a-c]x", "bx", 0, 1},
	{"", "[[:digit:]]*.csv", "2024-export.csv", 0, 1},
	/* the '**' forms */
	{"", "**/foo", "foo", 0, 1},
	{"", "**/foo", "a/b/foo", 0, 1},
	{"", "**/foo/bar", "x/foo/bar", 0, 1},
	{"", "**/foo/bar", "foo/bar", 0, 1},
	{"", "**/foo/bar", "foo/baz", 0, 0},
	{"", "abc/**", "abc/x", 0, 1},
	{"", "abc/**", "abc/x/y", 0, 1},
	{"", "abc/**", "abc", 1, 0},
	{"", "a/**/b", "a/b", 0, 1},
	{"", "a/**/b", "a/x/b", 0, 1},
	{"", "a/**/b", "a/x/y/b", 0, 1},
	{"", "a/**/b", "a/x/c", 0, 0},
	{"", "a/**/b", "z/a/x/b", 0, 0},
	{"", "**/**/x", "x", 0, 1},
	{"", "**/**/x", "a/b/x", 0, 1},
	{"", "foo/**/", "foo/x", 1, 1},
	{"", "foo/**/", "foo/x", 0, 0},
	{"", "a**b", "axyb", 0, 1},
	{"", "**", "any/thing", 0, 1},
	/* patterns are relative to the ignore file's directory */
	{"root/sub", "*.log", "root/sub/x.log", 0, 1},
	{"root/sub", "*.log", "root/other/x.log", 0, 0},
	{"root/sub", "*.log", "root/subx/x.log", 0, 0},
	{"root/sub/", "/x.log", "root/sub/x.log", 0, 1},
	{"root/sub", "/x.log", "root/sub/y/x.log", 0, 0},
	{"r", "/a/b", "r/a/b", 0, 1},
	{"r", "/a/b", "r/x/a/b", 0, 0},
	{"r", "*", "r", 1, 0},
	{"/", "/etc", "/etc", 1, 1},
	{".", "/x", "./x", 0, 1},
};

static void test_table(void **state)
{
	size_t i, failures = 0;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct ig_case *c = &cases[i];
		sn_ignore *ig = NULL;
		int got;

		assert_int_equal(sn_ignore_parse(&ig, c->base, c->rules, strlen(c->rules)), 0);
		assert_non_null(ig);
		got = sn_ignore_match(ig, c->path, c->is_dir);
		if (got != c->want) {
			print_error("case %zu: rules \"%s\" base \"%s\" path \"%s\" dir %d: "
				    "want %d got %d\n",
				    i, c->rules, c->base, c->path, c->is_dir, c->want, got);
			failures++;
		}
		sn_ignore_free(ig);
	}
	assert_true(sizeof cases / sizeof cases[0] >= 40);
	assert_int_equal(failures, 0);
}

static void test_invalid(void **state)
{
	sn_ignore *ig = NULL;

	(void)state;
	assert_int_equal(sn_ignore_parse(NULL, "", "x", 1), SN_EINVAL);
	assert_int_equal(sn_ignore_parse(&ig, NULL, "x", 1), SN_EINVAL);
	assert_int_equal(sn_ignore_parse(&ig, "", NULL, 1), SN_EINVAL);
	/* An empty text parses to a rule set that matches nothing. */
	assert_int_equal(sn_ignore_parse(&ig, "", NULL, 0), 0);
	assert_int_equal(sn_ignore_match(ig, "x", 0), 0);
	assert_int_equal(sn_ignore_match(ig, "", 1), 0);
	sn_ignore_free(ig);
	sn_ignore_free(NULL);
	assert_int_equal(sn_ignore_match(NULL, "x", 0), 0);
}

/* Paths with more segments and bytes than the matcher's stack buffers, and a
 * pattern that would be exponential for a backtracking matcher. */
static void test_long_paths(void **state)
{
	static const char rules[] = "**/a/**/a/**/a/**/a/**/a/**/a/**/b\n"
				    "deep/**/leaf.txt\n";
	char path[4096];
	size_t n = 0, i;
	sn_ignore *ig = NULL;

	(void)state;
	assert_int_equal(sn_ignore_parse(&ig, "", rules, strlen(rules)), 0);
	n += (size_t)snprintf(path + n, sizeof path - n, "deep");
	for (i = 0; i < 300; i++)
		n += (size_t)snprintf(path + n, sizeof path - n, "/a");
	assert_true(n < sizeof path - 20);
	snprintf(path + n, sizeof path - n, "/leaf.txt");
	assert_int_equal(sn_ignore_match(ig, path, 0), 1);
	snprintf(path + n, sizeof path - n, "/c");
	assert_int_equal(sn_ignore_match(ig, path, 0), 0);
	snprintf(path + n, sizeof path - n, "/b");
	assert_int_equal(sn_ignore_match(ig, path, 0), 1);
	sn_ignore_free(ig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_long_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
