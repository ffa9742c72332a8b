/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Built-in validators.  A validator receives the exact text a rule's pattern
 * matched (separators, "(0)", "NL-" and all), decides whether it is a real
 * value of its kind (checksums, numbering plans, bank codes), and produces the
 * normalized value that fingerprints are computed over, plus the masked form.
 *
 * Validators are registered from one list in validate.c (an X-macro list):
 * adding one is one new file and one list line.  All functions are pure and
 * thread-safe; they never allocate.
 */
#ifndef SN_MATCH_VALIDATE_H
#define SN_MATCH_VALIDATE_H

#include <stddef.h>

#include "match/tables.h"

#define SN_NORM_MAX 512 /* longest normalized value incl. NUL */
#define SN_MASK_MAX 600 /* longest masked value incl. NUL */
/* Longest input a validator considers: no value of a supported kind is this
 * long even with separators (an e-mail address is at most 64+1+253 octets),
 * so anything longer is rejected without being parsed. */
#define SN_VALIDATE_MAX_INPUT 400

/* Flags a validator may set on a valid value. */
enum {
	SN_V_NONPERSONAL = 1u << 0, /* valid but belongs to an organisation
				      (0800, 090x, 14+area, 112): at most low */
	SN_V_WEAK = 1u << 1         /* valid but unusual form (quoted e-mail local
				      part, IP-literal domain): at most low */
};

typedef struct sn_vresult {
	char normalized[SN_NORM_MAX]; /* NUL-terminated */
	size_t normalized_len;
	unsigned flags;
} sn_vresult;

/* Returns 1 when valid (and fills *out), 0 when not. `s` is not
 * NUL-terminated. */
typedef int (*sn_validate_fn)(const char *s, size_t n, const sn_tables *t,
			      sn_vresult *out);

/* Writes the masked form of a normalized value into out (NUL-terminated,
 * truncated to outsz). Never writes more than the last 2 characters of a
 * number in clear. */
typedef void (*sn_mask_fn)(const char *norm, size_t n, char *out, size_t outsz);

typedef struct sn_validator {
	const char *name;
	sn_validate_fn validate;
	sn_mask_fn mask;
} sn_validator;

/* NULL when unknown. */
const sn_validator *sn_validator_find(const char *name);
/* The registered list (for --help / rules README checks). */
const sn_validator *sn_validator_list(size_t *n);

/* Used for rules without a validator: normalized = the match with
 * surrounding whitespace trimmed; mask = '*' for every character but the last
 * two (all '*' when shorter than 6 characters). */
void sn_normalize_generic(const char *s, size_t n, sn_vresult *out);
void sn_mask_generic(const char *norm, size_t n, char *out, size_t outsz);

/* Individual validators (exposed for table-driven unit tests). */
int sn_validate_bsn(const char *s, size_t n, const sn_tables *t, sn_vresult *out);
int sn_validate_iban(const char *s, size_t n, const sn_tables *t, sn_vresult *out);
int sn_validate_nl_phone(const char *s, size_t n, const sn_tables *t, sn_vresult *out);
int sn_validate_email(const char *s, size_t n, const sn_tables *t, sn_vresult *out);
int sn_validate_postcode(const char *s, size_t n, const sn_tables *t, sn_vresult *out);
int sn_validate_luhn(const char *s, size_t n, const sn_tables *t, sn_vresult *out);

void sn_mask_bsn(const char *norm, size_t n, char *out, size_t outsz);
void sn_mask_iban(const char *norm, size_t n, char *out, size_t outsz);
void sn_mask_phone(const char *norm, size_t n, char *out, size_t outsz);
void sn_mask_email(const char *norm, size_t n, char *out, size_t outsz);
void sn_mask_postcode(const char *norm, size_t n, char *out, size_t outsz);
void sn_mask_digits(const char *norm, size_t n, char *out, size_t outsz);

#endif
