/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Key files and keyed fingerprints (see speurneus/key.h).
 *
 * The key is the only thing that turns a fingerprint back into a testable
 * guess, so it is handled like a password: created 0600 with O_EXCL (never
 * overwriting an existing key, which would silently break the link with
 * earlier reports), parsed strictly, and wiped from stack buffers after use.
 * Error messages name the file but never quote its contents.
 */
#include "speurneus/key.h"
#include "common/hash.h"
#include "speurneus/error.h"
#include "speurneus/types.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define KEY_PREFIX "speurneus-key-v1 "
#define KEY_PREFIX_LEN (sizeof(KEY_PREFIX) - 1)
#define KEY_HEX_LEN (2 * SN_KEY_BYTES)
#define KEY_LINE_LEN (KEY_PREFIX_LEN + KEY_HEX_LEN + 1) /* with the newline */
/* A key file is one short line; anything longer is not a key file, and
 * reading is bounded so a wrong path cannot make us read a huge file. */
#define KEY_FILE_MAX 256

static const char key_id_label[] = "speurneus key id v1";

int sn_crypto_init(void)
{
	if (sodium_init() < 0)
		return sn_error_set(SN_EIO, "libsodium could not be initialised");
	return 0;
}

void sn_key_compute_id(sn_key *k)
{
	uint8_t h[crypto_generichash_BYTES];

	crypto_generichash(h, sizeof h, (const unsigned char *)key_id_label,
			   sizeof key_id_label - 1, k->k, SN_KEY_BYTES);
	sodium_bin2hex(k->id, sizeof k->id, h, SN_KEY_ID_HEX_LEN / 2);
	sodium_memzero(h, sizeof h);
}

_Static_assert(sizeof(crypto_generichash_state) <= sizeof(sn_fp_base),
	       "sn_fp_base holds a crypto_generichash_state");
_Static_assert(_Alignof(crypto_generichash_state) <= _Alignof(sn_fp_base),
	       "sn_fp_base is aligned for a crypto_generichash_state");

void sn_fingerprint_begin(sn_fp_base *b, const sn_key *k, const char *category)
{
	crypto_generichash_state *st = (crypto_generichash_state *)b->opaque;
	const unsigned char sep = 0;

	if (!category)
		category = "";
	crypto_generichash_init(st, k->k, SN_KEY_BYTES, SN_FINGERPRINT_LEN);
	crypto_generichash_update(st, (const unsigned char *)category, strlen(category));
	/* The separator keeps ("ab", "c") and ("a", "bc") apart. */
	crypto_generichash_update(st, &sep, 1);
}

void sn_fingerprint_value(const sn_fp_base *b, const char *value, size_t n, uint8_t out[32])
{
	crypto_generichash_state st;

	memcpy(&st, b->opaque, sizeof st);
	if (n)
		crypto_generichash_update(&st, (const unsigned char *)value, n);
	crypto_generichash_final(&st, out, SN_FINGERPRINT_LEN);
	sodium_memzero(&st, sizeof st);
}

void sn_fingerprint_end(sn_fp_base *b)
{
	sodium_memzero(b, sizeof *b);
}

void sn_fingerprint(const sn_key *k, const char *category, const char *value, size_t n,
		    uint8_t out[32])
{
	sn_fp_base b;

	sn_fingerprint_begin(&b, k, category);
	sn_fingerprint_value(&b, value, n, out);
	sn_fingerprint_end(&b);
}

typedef struct memo_slot {
	uint8_t fp[SN_FINGERPRINT_LEN];
	uint16_t tag;
	uint8_t len; /* 0: empty */
	char v[SN_FP_MEMO_VALUE];
} memo_slot;

struct sn_fp_memo {
	size_t mask;     /* slots - 1 */
	size_t most;     /* slots of the full-size table */
	uint64_t stores; /* values stored in this table */
	memo_slot *slot;
};

static size_t pow2_at_least(size_t n)
{
	size_t p = 1;
	while (p < n && p < ((size_t)1 << 24))
		p <<= 1;
	return p;
}

/* A fresh table of n slots for m, the old one wiped; m keeps its table when
 * there is no room for the new one. */
static int memo_table(sn_fp_memo *m, size_t n)
{
	memo_slot *t = calloc(n, sizeof *t);
	if (!t)
		return -1;
	if (m->slot) {
		sodium_memzero(m->slot, (m->mask + 1) * sizeof *m->slot);
		free(m->slot);
	}
	m->slot = t;
	m->mask = n - 1;
	m->stores = 0;
	return 0;
}

sn_fp_memo *sn_fp_memo_new(size_t first, size_t most)
{
	sn_fp_memo *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->most = pow2_at_least(most);
	if (memo_table(m, pow2_at_least(first < most ? first : most)) < 0) {
		free(m);
		return NULL;
	}
	return m;
}

void sn_fp_memo_free(sn_fp_memo *m)
{
	if (!m)
		return;
	sodium_memzero(m->slot, (m->mask + 1) * sizeof *m->slot);
	free(m->slot);
	free(m);
}

/* Whether the memo keeps values of this length and tag. */
static int memo_keeps(size_t n, unsigned tag)
{
	return n > 0 && n <= SN_FP_MEMO_VALUE && tag <= UINT16_MAX;
}

/* Slot of (tag, value).  Anyone who can choose the values can make them
 * share slots, which costs only the misses; a hit still compares the whole
 * value. */
static inline size_t memo_index(const sn_fp_memo *m, unsigned tag, const char *v, size_t n)
{
	uint64_t seed = ((uint64_t)tag << 8 | n) * 0x9E3779B97F4A7C15ull;
	return (size_t)(sn_hash_bytes(seed, v, n) >> 32) & m->mask;
}

size_t sn_fp_memo_slot(const sn_fp_memo *m, unsigned tag, const char *value, size_t n)
{
	if (!m || !memo_keeps(n, tag))
		return SN_FP_NO_SLOT;
	size_t i = memo_index(m, tag, value, n);
	/* a slot spans two cache lines */
	__builtin_prefetch(&m->slot[i]);
	__builtin_prefetch((const char *)&m->slot[i] + sizeof m->slot[i] - 1);
	return i;
}

void sn_fingerprint_memo(sn_fp_memo *m, size_t slot, unsigned tag, const sn_fp_base *b,
			 const char *value, size_t n, uint8_t out[32])
{
	if (!m || slot > m->mask || !memo_keeps(n, tag)) {
		sn_fingerprint_value(b, value, n, out);
		return;
	}
	memo_slot *s = &m->slot[slot];
	if (s->len == n && s->tag == tag && memcmp(s->v, value, n) == 0) {
		memcpy(out, s->fp, SN_FINGERPRINT_LEN);
		return;
	}
	sn_fingerprint_value(b, value, n, out);
	s->len = (uint8_t)n;
	s->tag = (uint16_t)tag;
	memcpy(s->v, value, n);
	memcpy(s->fp, out, SN_FINGERPRINT_LEN);
	/* a slot number the caller holds for the old table is still a valid
	 * one for the larger table: a miss, not an error */
	if (++m->stores >= 8 * (uint64_t)(m->mask + 1) && m->mask + 1 < m->most) {
		size_t next = (m->mask + 1) * 32;
		memo_table(m, next < m->most ? next : m->most);
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int sn_key_create(sn_key *out, const char *path)
{
	sn_key k;
	char line[KEY_LINE_LEN + 1];
	int fd = -1, rc = 0, created = 0;

	if (!path || !*path)
		return sn_error_set(SN_EINVAL, "no key file path given");
	rc = sn_crypto_init();
	if (rc < 0)
		return rc;

	randombytes_buf(k.k, sizeof k.k);
	memcpy(line, KEY_PREFIX, KEY_PREFIX_LEN);
	sodium_bin2hex(line + KEY_PREFIX_LEN, KEY_HEX_LEN + 1, k.k, sizeof k.k);
	line[KEY_LINE_LEN - 1] = '\n';
	line[KEY_LINE_LEN] = '\0';

	/* O_EXCL: replacing a key would orphan every fingerprint made with it.
	 * O_NOFOLLOW: a planted symlink must not redirect the secret. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			rc = sn_error_set(SN_EIO, "key file %s already exists; not overwriting it",
					  path);
		else
			rc = sn_error_set(SN_EIO, "cannot create key file %s: %s", path,
					  strerror(errno));
		goto done;
	}
	created = 1;
	/* The umask may have cleared bits only, but be explicit anyway. */
	if (fchmod(fd, 0600) < 0 || write_all(fd, line, KEY_LINE_LEN) < 0 || fsync(fd) < 0) {
		rc = sn_error_set(SN_EIO, "cannot write key file %s: %s", path, strerror(errno));
		goto done;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = sn_error_set(SN_EIO, "cannot write key file %s: %s", path, strerror(errno));
		goto done;
	}
	fd = -1;
	sn_key_compute_id(&k);
	if (out)
		*out = k;
done:
	if (fd >= 0)
		close(fd);
	/* A half-written key file would fail to load later; remove it. */
	if (rc < 0 && created)
		unlink(path);
	sodium_memzero(line, sizeof line);
	sodium_memzero(&k, sizeof k);
	return rc;
}

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int parse_key_line(sn_key *k, const char *buf, size_t n)
{
	size_t bin_len = 0;

	if (n != KEY_LINE_LEN || memcmp(buf, KEY_PREFIX, KEY_PREFIX_LEN) != 0 ||
	    buf[KEY_LINE_LEN - 1] != '\n')
		return -1;
	for (size_t i = 0; i < KEY_HEX_LEN; i++)
		if (!is_lower_hex(buf[KEY_PREFIX_LEN + i]))
			return -1;
	if (sodium_hex2bin(k->k, sizeof k->k, buf + KEY_PREFIX_LEN, KEY_HEX_LEN, NULL, &bin_len,
			   NULL) != 0 ||
	    bin_len != SN_KEY_BYTES)
		return -1;
	return 0;
}

int sn_key_load(sn_key *out, const char *path, int *insecure)
{
	char buf[KEY_FILE_MAX + 1];
	sn_key k;
	struct stat st;
	size_t n = 0;
	int fd = -1, rc = 0;

	if (insecure)
		*insecure = 0;
	if (!path || !*path)
		return sn_error_set(SN_EINVAL, "no key file path given");
	rc = sn_crypto_init();
	if (rc < 0)
		return rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			rc = sn_error_set(SN_ENOTFOUND, "key file %s does not exist", path);
		else
			rc = sn_error_set(SN_EIO, "cannot open key file %s: %s", path,
					  strerror(errno));
		goto done;
	}
	if (fstat(fd, &st) < 0) {
		rc = sn_error_set(SN_EIO, "cannot stat key file %s: %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = sn_error_set(SN_EFORMAT, "key file %s is not a regular file", path);
		goto done;
	}
	while (n < sizeof buf) {
		ssize_t r = read(fd, buf + n, sizeof buf - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = sn_error_set(SN_EIO, "cannot read key file %s: %s", path,
					  strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > KEY_FILE_MAX || parse_key_line(&k, buf, n) < 0) {
		rc = sn_error_set(SN_EFORMAT,
				  "key file %s is malformed (expected one line: "
				  "\"speurneus-key-v1 \" and 64 lower-case hex digits)",
				  path);
		goto done;
	}
	sn_key_compute_id(&k);
	if (insecure && (st.st_mode & 077))
		*insecure = 1;
	if (out)
		*out = k;
done:
	if (fd >= 0)
		close(fd);
	sodium_memzero(buf, sizeof buf);
	sodium_memzero(&k, sizeof k);
	return rc;
}

int sn_key_default_path(char *buf, size_t n)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int len;

	if (!buf || n == 0)
		return sn_error_set(SN_EINVAL, "no buffer for the key path");
	/* The XDG base directory spec says relative values are to be ignored. */
	if (xdg && xdg[0] == '/')
		len = snprintf(buf, n, "%s/speurneus/key", xdg);
	else if (home && home[0] == '/')
		len = snprintf(buf, n, "%s/.config/speurneus/key", home);
	else
		return sn_error_set(SN_ENOTFOUND,
				    "neither XDG_CONFIG_HOME nor HOME is set to an absolute path");
	if (len < 0 || (size_t)len >= n)
		return sn_error_set(SN_ELIMIT, "the default key path is too long");
	return 0;
}

/* mkdir -p of the directory part of `path`; new directories get 0700. */
static int make_parent_dirs(const char *path)
{
	char dir[PATH_MAX];
	size_t len = strlen(path);
	char *slash;

	if (len >= sizeof dir)
		return sn_error_set(SN_ELIMIT, "key path too long");
	memcpy(dir, path, len + 1);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return sn_error_set(SN_EIO, "cannot create directory %s: %s", dir,
					    strerror(errno));
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

int sn_key_load_or_create_default(sn_key *out, int *created, char *path_out, size_t path_n)
{
	char path[PATH_MAX];
	int rc, insecure = 0;

	if (created)
		*created = 0;
	rc = sn_key_default_path(path, sizeof path);
	if (rc < 0)
		return rc;
	if (path_out && path_n) {
		int len = snprintf(path_out, path_n, "%s", path);
		if (len < 0 || (size_t)len >= path_n)
			return sn_error_set(SN_ELIMIT, "buffer too small for the key path");
	}
	rc = sn_key_load(out, path, &insecure);
	if (rc != SN_ENOTFOUND)
		return rc;
	rc = make_parent_dirs(path);
	if (rc < 0)
		return rc;
	rc = sn_key_create(out, path);
	if (rc < 0 && access(path, F_OK) == 0) {
		/* Another process created it between our load and create. */
		return sn_key_load(out, path, &insecure);
	}
	if (rc == 0 && created)
		*created = 1;
	return rc;
}
