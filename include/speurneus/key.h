/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Keyed fingerprints.  A fingerprint is BLAKE2b-256 (libsodium
 * crypto_generichash) keyed with the organisation's 32-byte secret, over
 * category || 0x00 || normalized value.  Equal values under the same key give
 * equal fingerprints across files, runs and hosts; without the key a
 * fingerprint cannot be tested against candidate values.  Anyone holding the
 * key can do exactly that, so the key is guarded like a password.
 *
 * Key file format: one line, "speurneus-key-v1 " followed by 64 lower-case
 * hex digits and a newline.  Files are created with mode 0600.
 *
 * key_id = first 8 hex digits of the keyed BLAKE2b-256 of the fixed label
 * "speurneus key id v1", so reports made with different keys are never
 * confused.
 */
#ifndef SPEURNEUS_KEY_H
#define SPEURNEUS_KEY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SN_KEY_BYTES 32

typedef struct sn_key {
	uint8_t k[SN_KEY_BYTES];
	char id[9]; /* 8 hex digits + NUL */
} sn_key;

/* Initialise libsodium; safe to call many times. 0 or SN_EIO. */
int sn_crypto_init(void);

/* Create a new random key file at `path` (mode 0600, fails with SN_EIO if
 * the file exists).  Fills *out when out is not NULL. */
int sn_key_create(sn_key *out, const char *path);

/* Load a key file. SN_ENOTFOUND, SN_EIO or SN_EFORMAT on failure. A key file
 * readable by group or others is accepted but *insecure is set to 1. */
int sn_key_load(sn_key *out, const char *path, int *insecure);

/* $XDG_CONFIG_HOME/speurneus/key, else $HOME/.config/speurneus/key. */
int sn_key_default_path(char *buf, size_t n);

/* Load the per-user default key, creating it (and its directory, 0700) when
 * missing; *created tells which happened. */
int sn_key_load_or_create_default(sn_key *out, int *created, char *path_out,
				  size_t path_n);

/* out = keyed BLAKE2b-256(category || 0 || value). Thread-safe. */
void sn_fingerprint(const sn_key *k, const char *category, const char *value,
		    size_t n, uint8_t out[32]);

/*
 * The same fingerprints for many values of one category: the hash state
 * after the key and the category is made once (sn_fingerprint_begin) and
 * copied for each value (sn_fingerprint_value), which skips setting up the
 * key block per value.  The state holds key material: sn_fingerprint_end
 * wipes it.
 */
typedef struct sn_fp_base {
	_Alignas(64) unsigned char opaque[384];
} sn_fp_base;

void sn_fingerprint_begin(sn_fp_base *b, const sn_key *k, const char *category);
void sn_fingerprint_value(const sn_fp_base *b, const char *value, size_t n, uint8_t out[32]);
void sn_fingerprint_end(sn_fp_base *b);

/*
 * A memo of recent fingerprints.  Personal data repeats -- the same
 * customer on every row of an orders table, the same user on every log
 * line -- and a fingerprint costs two BLAKE2b compressions.  Direct-mapped,
 * each slot holding a value of at most SN_FP_MEMO_VALUE bytes itself, so a
 * hit is exact; longer values are always hashed.  It starts with `first`
 * slots and, each time it has stored eight values per slot, starts over
 * with 32 times as many, up to `most` (all rounded up to a power of two): a
 * thread that fingerprints a few values (a small unit, a rule test) never
 * pays for the large table.
 * One per thread.  The slots hold personal data and are wiped when
 * replaced or freed.
 */
#define SN_FP_MEMO_VALUE 45
typedef struct sn_fp_memo sn_fp_memo;

sn_fp_memo *sn_fp_memo_new(size_t first, size_t most); /* NULL when out of memory */
void sn_fp_memo_free(sn_fp_memo *m);

/* The slot of (tag, value), whose loading into the cache starts now: the
 * memo is larger than a core's cache, so a caller that knows its next value
 * a little ahead asks for its slot then and finds it loaded.
 * SN_FP_NO_SLOT for a value the memo does not keep (or no memo). */
#define SN_FP_NO_SLOT ((size_t)-1)
size_t sn_fp_memo_slot(const sn_fp_memo *m, unsigned tag, const char *value, size_t n);

/* sn_fingerprint_value(b, value, n, out), answered from slot `slot` (what
 * sn_fp_memo_slot said for this tag and value) when it holds the same `tag`
 * (which names b: one tag per base) and value, else stored there.  A hit
 * compares the whole value, so any slot number gives the right answer. */
void sn_fingerprint_memo(sn_fp_memo *m, size_t slot, unsigned tag, const sn_fp_base *b,
			 const char *value, size_t n, uint8_t out[32]);

/* Set k->id from k->k. */
void sn_key_compute_id(sn_key *k);

#ifdef __cplusplus
}
#endif
#endif
