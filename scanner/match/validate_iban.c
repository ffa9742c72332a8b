/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * IBAN validator (ISO 13616): known country with its registered length,
 * BBAN structure, mod-97 check, and for Dutch IBANs a bank identifier from
 * the Betaalvereniging list (spec section 3).  The bank list and the
 * lengths come from the data tables, so a table change needs no code change.
 */
#include "match/validate.h"

#include <string.h>

#define IBAN_MAX 34 /* longest IBAN of any country (ISO 13616) */

static int is_letter(char c)
{
	return c >= 'A' && c <= 'Z';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Residue of the rearranged IBAN (BBAN then country and check digits),
 * computed digit by digit so that no big integer is needed. */
static unsigned mod97(const char *v, size_t n)
{
	unsigned r = 0;

	for (size_t i = 0; i < n; i++) {
		char c = v[(i + 4) % n];

		if (is_digit(c))
			r = (r * 10 + (unsigned)(c - '0')) % 97;
		else
			r = (r * 100 + (unsigned)(c - 'A' + 10)) % 97;
	}
	return r;
}

int sn_validate_iban(const char *s, size_t n, const sn_tables *t, sn_vresult *out)
{
	char v[IBAN_MAX];
	size_t k = 0;
	unsigned want, check;

	if (!s || !t || n > SN_VALIDATE_MAX_INPUT)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == ' ')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if ((!is_letter(c) && !is_digit(c)) || k == sizeof v)
			return 0;
		v[k++] = c;
	}
	if (k < 5 || !is_letter(v[0]) || !is_letter(v[1]) || !is_digit(v[2]) || !is_digit(v[3]))
		return 0;
	want = t->iban_len[(v[0] - 'A') * 26 + (v[1] - 'A')];
	if (want == 0 || k != want)
		return 0;
	/* 00, 01 and 99 are never produced by the check-digit computation */
	check = (unsigned)(v[2] - '0') * 10 + (unsigned)(v[3] - '0');
	if (check < 2 || check > 98)
		return 0;
	if (v[0] == 'N' && v[1] == 'L') {
		for (size_t i = 4; i < 8; i++)
			if (!is_letter(v[i]))
				return 0;
		for (size_t i = 8; i < k; i++)
			if (!is_digit(v[i]))
				return 0;
	}
	if (mod97(v, k) != 1)
		return 0;
	if (v[0] == 'N' && v[1] == 'L' && !sn_tables_nl_bank_known(t, v + 4))
		return 0;
	if (out) {
		memcpy(out->normalized, v, k);
		out->normalized[k] = '\0';
		out->normalized_len = k;
		out->flags = 0;
	}
	return 1;
}
