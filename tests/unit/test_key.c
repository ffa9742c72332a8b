/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Key files and keyed fingerprints: creation mode and refusal to overwrite,
 * strict parsing, fingerprint properties and agreement with an independent
 * BLAKE2b computation, key ids and the default key path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "speurneus/error.h"
#include "speurneus/key.h"

typedef struct fixture {
	char dir[PATH_MAX];
} fixture;

static int setup(void **state)
{
	fixture *fx = calloc(1, sizeof *fx);
	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "/tmp/sn-test-key.XXXXXX");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	if (sn_crypto_init() < 0) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static void rm_rf(const char *path)
{
	char cmd[PATH_MAX + 32];
	/* Test scratch under /tmp only; the path comes from mkdtemp. */
	if (strncmp(path, "/tmp/sn-test-key.", 17) != 0)
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", path);
}

static int teardown(void **state)
{
	fixture *fx = *state;
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

static void join(char *out, size_t n, const char *dir, const char *name)
{
	int len = snprintf(out, n, "%s/%s", dir, name);
	assert_true(len > 0 && (size_t)len < n);
}

static void write_file(const char *path, const char *data, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_round_trip(void **state)
{
	fixture *fx = *state;
	char path[PATH_MAX];
	sn_key a, b;
	int insecure = -1;
	struct stat st;

	join(path, sizeof path, fx->dir, "key");
	assert_int_equal(sn_key_create(&a, path), 0);
	assert_int_equal(sn_key_load(&b, path, &insecure), 0);
	assert_int_equal(insecure, 0);
	assert_memory_equal(a.k, b.k, SN_KEY_BYTES);
	assert_string_equal(a.id, b.id);

	/* The file is exactly the documented single line. */
	char buf[128];
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	assert_int_equal(n, 17 + 64 + 1);
	assert_memory_equal(buf, "speurneus-key-v1 ", 17);
	assert_int_equal(buf[n - 1], '\n');
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_mode_with_umask_zero(void **state)
{
	fixture *fx = *state;
	char path[PATH_MAX];
	struct stat st;

	join(path, sizeof path, fx->dir, "key-umask0");
	mode_t old = umask(0);
	int rc = sn_key_create(NULL, path);
	umask(old);
	assert_int_equal(rc, 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_create_refuses_existing(void **state)
{
	fixture *fx = *state;
	char path[PATH_MAX];
	sn_key a, b;

	join(path, sizeof path, fx->dir, "key");
	assert_int_equal(sn_key_create(&a, path), 0);
	assert_int_equal(sn_key_create(&b, path), SN_EIO);
	assert_non_null(strstr(sn_error_last(), "exists"));
	/* The original key is untouched. */
	assert_int_equal(sn_key_load(&b, path, NULL), 0);
	assert_memory_equal(a.k, b.k, SN_KEY_BYTES);

	/* A symlink in place of the key file is not followed. */
	char target[PATH_MAX], link[PATH_MAX];
	join(target, sizeof target, fx->dir, "target");
	join(link, sizeof link, fx->dir, "link");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(sn_key_create(NULL, link), SN_EIO);
	assert_int_equal(access(target, F_OK), -1);
}

static const char good_hex[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static void test_malformed(void **state)
{
	fixture *fx = *state;
#define PFX "speurneus-key-v1 "
#define HEX32 "00112233445566778899aabbccddeeff"
	static const struct {
		const char *name;
		const char *text;
	} cases[] = {
		{"empty", ""},
		{"short hex", PFX HEX32 "\n"},
		{"bad prefix", "speurneus-key-v2 " HEX32 HEX32 "\n"},
		{"no space", "speurneus-key-v1" HEX32 HEX32 "\n"},
		{"non-hex", PFX "0011223344556677889gaabbccddeeff" HEX32 "\n"},
		{"upper-case", PFX "00112233445566778899AABBCCDDEEFF" HEX32 "\n"},
		{"no newline", PFX HEX32 HEX32},
		{"extra data", PFX HEX32 HEX32 "\nmore\n"},
		{"extra hex", PFX HEX32 HEX32 "00\n"},
		{"crlf", PFX HEX32 HEX32 "\r\n"},
		{"leading space", " " PFX HEX32 HEX32 "\n"},
	};
#undef PFX
#undef HEX32
	char path[PATH_MAX];
	sn_key k;

	join(path, sizeof path, fx->dir, "bad");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unlink(path);
		write_file(path, cases[i].text, strlen(cases[i].text), 0600);
		int rc = sn_key_load(&k, path, NULL);
		if (rc != SN_EFORMAT)
			fail_msg("case '%s': got %d, want SN_EFORMAT", cases[i].name, rc);
		/* The message names the file but never echoes key material. */
		assert_null(strstr(sn_error_last(), "00112233"));
	}

	/* A long file is rejected without reading all of it. */
	char big[4096];
	memset(big, 'a', sizeof big);
	unlink(path);
	write_file(path, big, sizeof big, 0600);
	assert_int_equal(sn_key_load(&k, path, NULL), SN_EFORMAT);

	/* The good form parses, and insecure modes are flagged but accepted. */
	char line[128];
	snprintf(line, sizeof line, "speurneus-key-v1 %s\n", good_hex);
	unlink(path);
	write_file(path, line, strlen(line), 0644);
	int insecure = 0;
	assert_int_equal(sn_key_load(&k, path, &insecure), 0);
	assert_int_equal(insecure, 1);
	assert_int_equal(k.k[0], 0x00);
	assert_int_equal(k.k[31], 0xff);

	/* Missing file and a directory. */
	char missing[PATH_MAX];
	join(missing, sizeof missing, fx->dir, "missing");
	assert_int_equal(sn_key_load(&k, missing, NULL), SN_ENOTFOUND);
	assert_int_equal(sn_key_load(&k, fx->dir, NULL), SN_EFORMAT);
}

static void fixed_key(sn_key *k, uint8_t fill)
{
	memset(k->k, fill, sizeof k->k);
	sn_key_compute_id(k);
}

static void test_fingerprint_properties(void **state)
{
	(void)state;
	sn_key k1, k2;
	uint8_t a[32], b[32], c[32], d[32], e[32];

	fixed_key(&k1, 0x11);
	fixed_key(&k2, 0x22);
	sn_fingerprint(&k1, "bsn", "111222333", 9, a);
	sn_fingerprint(&k1, "bsn", "111222333", 9, b);
	assert_memory_equal(a, b, 32);

	sn_fingerprint(&k1, "iban", "111222333", 9, c);
	assert_memory_not_equal(a, c, 32);
	sn_fingerprint(&k2, "bsn", "111222333", 9, d);
	assert_memory_not_equal(a, d, 32);
	sn_fingerprint(&k1, "bsn", "111222334", 9, e);
	assert_memory_not_equal(a, e, 32);

	/* The separator keeps category and value apart. */
	uint8_t f1[32], f2[32];
	sn_fingerprint(&k1, "ab", "c", 1, f1);
	sn_fingerprint(&k1, "a", "bc", 2, f2);
	assert_memory_not_equal(f1, f2, 32);
}

static void test_fingerprint_matches_blake2b(void **state)
{
	(void)state;
	sn_key k;
	uint8_t got[32], want[32];
	static const unsigned char msg[] = "bsn\0"
					   "111222333";

	for (int i = 0; i < SN_KEY_BYTES; i++)
		k.k[i] = (uint8_t)(i * 7 + 3);
	sn_key_compute_id(&k);
	sn_fingerprint(&k, "bsn", "111222333", 9, got);
	assert_int_equal(sizeof msg - 1, 13);
	assert_int_equal(
		crypto_generichash(want, sizeof want, msg, sizeof msg - 1, k.k, SN_KEY_BYTES), 0);
	assert_memory_equal(got, want, 32);
}

/* A prepared category state gives the plain construction's fingerprint for
 * every value, reused many times, and is wiped at the end. */
static void test_fingerprint_base(void **state)
{
	(void)state;
	sn_key k;
	sn_fp_base b;
	uint8_t got[32], want[32];
	unsigned char msg[200];
	static const char *cats[] = {"bsn", "", "email"};
	static const char *vals[] = {"111222333", "", "jan@example.nl", "x"};
	char long_val[150];

	memset(long_val, 'v', sizeof long_val - 1);
	long_val[sizeof long_val - 1] = '\0';
	for (int i = 0; i < SN_KEY_BYTES; i++)
		k.k[i] = (uint8_t)(i * 13 + 5);
	for (size_t c = 0; c < sizeof cats / sizeof cats[0]; c++) {
		sn_fingerprint_begin(&b, &k, cats[c]);
		for (size_t round = 0; round < 2; round++) {
			for (size_t v = 0; v <= sizeof vals / sizeof vals[0]; v++) {
				const char *val =
					v < sizeof vals / sizeof vals[0] ? vals[v] : long_val;
				size_t cl = strlen(cats[c]), vl = strlen(val);
				memcpy(msg, cats[c], cl);
				msg[cl] = 0;
				memcpy(msg + cl + 1, val, vl);
				assert_int_equal(crypto_generichash(want, sizeof want, msg,
								    cl + 1 + vl, k.k, SN_KEY_BYTES),
						 0);
				sn_fingerprint_value(&b, val, vl, got);
				assert_memory_equal(got, want, 32);
				sn_fingerprint(&k, cats[c], val, vl, got);
				assert_memory_equal(got, want, 32);
			}
		}
		sn_fingerprint_end(&b);
		for (size_t i = 0; i < sizeof b.opaque; i++)
			assert_int_equal(b.opaque[i], 0);
	}
	/* a NULL category is the empty one */
	sn_fingerprint_begin(&b, &k, NULL);
	sn_fingerprint_value(&b, "x", 1, got);
	sn_fingerprint(&k, "", "x", 1, want);
	assert_memory_equal(got, want, 32);
	sn_fingerprint_end(&b);
}

/* The memo answers exactly what hashing gives: for repeated values, values
 * sharing a slot, the same value under two tags (categories), values too
 * long to keep and the empty value. */
static void test_fingerprint_memo(void **state)
{
	(void)state;
	sn_key k;
	sn_fp_base b[2];
	uint8_t got[32], want[32];
	char v[64];
	for (int i = 0; i < SN_KEY_BYTES; i++)
		k.k[i] = (uint8_t)(i * 5 + 1);
	sn_fingerprint_begin(&b[0], &k, "bsn");
	sn_fingerprint_begin(&b[1], &k, "phone");
	static const size_t sizes[] = {1, 2, 64};
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		/* 1 and 2 slots grow to 64 on the way */
		sn_fp_memo *m = sn_fp_memo_new(sizes[s], 64);
		assert_non_null(m);
		uint64_t x = 0x1234567;
		for (int round = 0; round < 3000; round++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* a few values, often repeated, some longer than the memo
			 * keeps, one empty */
			size_t n = (size_t)(x % 7 == 0	 ? SN_FP_MEMO_VALUE + 1 + x % 10
					    : x % 5 == 0 ? 0
							 : 1 + x % 12);
			for (size_t i = 0; i < n; i++)
				v[i] = (char)('0' + (x >> (i % 8)) % 3);
			unsigned tag = (unsigned)(x >> 40) & 1;
			sn_fingerprint_value(&b[tag], v, n, want);
			sn_fingerprint_memo(m, sn_fp_memo_slot(m, tag, v, n), tag, &b[tag], v, n,
					    got);
			if (memcmp(got, want, 32) != 0)
				fail_msg("memo of %zu slots, round %d: wrong fingerprint", sizes[s],
					 round);
			/* the same value under the other tag */
			sn_fingerprint_value(&b[!tag], v, n, want);
			sn_fingerprint_memo(m, sn_fp_memo_slot(m, !tag, v, n), !tag, &b[!tag], v, n,
					    got);
			assert_memory_equal(got, want, 32);
			/* a slot number that is not the value's still answers
			 * right */
			sn_fingerprint_memo(m, (size_t)(x >> 20) % (sizes[s] + 2), !tag, &b[!tag],
					    v, n, got);
			assert_memory_equal(got, want, 32);
		}
		sn_fp_memo_free(m);
	}
	/* no memo: plain hashing */
	sn_fingerprint_value(&b[0], "111222333", 9, want);
	assert_true(sn_fp_memo_slot(NULL, 0, "111222333", 9) == SN_FP_NO_SLOT);
	sn_fingerprint_memo(NULL, 0, 0, &b[0], "111222333", 9, got);
	assert_memory_equal(got, want, 32);
	sn_fp_memo_free(NULL);
	sn_fingerprint_end(&b[0]);
	sn_fingerprint_end(&b[1]);
}

static int is_hex8(const char *s)
{
	if (strlen(s) != 8)
		return 0;
	for (int i = 0; i < 8; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static void test_key_id(void **state)
{
	fixture *fx = *state;
	char p1[PATH_MAX], p2[PATH_MAX];
	sn_key a, b, k;

	join(p1, sizeof p1, fx->dir, "k1");
	join(p2, sizeof p2, fx->dir, "k2");
	assert_int_equal(sn_key_create(&a, p1), 0);
	assert_int_equal(sn_key_create(&b, p2), 0);
	assert_true(is_hex8(a.id));
	assert_true(is_hex8(b.id));
	assert_string_not_equal(a.id, b.id);

	/* Independently: keyed BLAKE2b-256 of the label, first 4 bytes. */
	uint8_t h[32];
	char want[9];
	static const char label[] = "speurneus key id v1";
	fixed_key(&k, 0x5a);
	crypto_generichash(h, sizeof h, (const unsigned char *)label, sizeof label - 1, k.k,
			   SN_KEY_BYTES);
	snprintf(want, sizeof want, "%02x%02x%02x%02x", h[0], h[1], h[2], h[3]);
	assert_string_equal(k.id, want);
}

static void test_default_path(void **state)
{
	fixture *fx = *state;
	char buf[PATH_MAX], want[PATH_MAX];
	char *old_xdg = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;
	char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

	char xdg[PATH_MAX];
	join(xdg, sizeof xdg, fx->dir, "xdg/conf");
	setenv("XDG_CONFIG_HOME", xdg, 1);
	assert_int_equal(sn_key_default_path(buf, sizeof buf), 0);
	join(want, sizeof want, xdg, "speurneus/key");
	assert_string_equal(buf, want);

	/* Too small a buffer is an error, not a truncated path. */
	assert_true(sn_key_default_path(buf, 8) < 0);

	/* Created on first use, with a 0700 directory and a 0600 key. */
	sn_key a, b;
	int created = -1;
	char got[PATH_MAX];
	assert_int_equal(sn_key_load_or_create_default(&a, &created, got, sizeof got), 0);
	assert_int_equal(created, 1);
	assert_string_equal(got, want);
	struct stat st;
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char dir[PATH_MAX];
	join(dir, sizeof dir, xdg, "speurneus");
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Loaded, not recreated, the second time. */
	assert_int_equal(sn_key_load_or_create_default(&b, &created, NULL, 0), 0);
	assert_int_equal(created, 0);
	assert_memory_equal(a.k, b.k, SN_KEY_BYTES);

	/* Without XDG_CONFIG_HOME (or with a relative one), $HOME/.config. */
	char home[PATH_MAX];
	join(home, sizeof home, fx->dir, "home");
	setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");
	assert_int_equal(sn_key_default_path(buf, sizeof buf), 0);
	join(want, sizeof want, home, ".config/speurneus/key");
	assert_string_equal(buf, want);
	setenv("XDG_CONFIG_HOME", "relative/dir", 1);
	assert_int_equal(sn_key_default_path(buf, sizeof buf), 0);
	assert_string_equal(buf, want);

	if (old_xdg)
		setenv("XDG_CONFIG_HOME", old_xdg, 1);
	else
		unsetenv("XDG_CONFIG_HOME");
	if (old_home)
		setenv("HOME", old_home, 1);
	else
		unsetenv("HOME");
	free(old_xdg);
	free(old_home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_with_umask_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_refuses_existing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fingerprint_properties, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fingerprint_matches_blake2b, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fingerprint_base, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fingerprint_memo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_path, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
