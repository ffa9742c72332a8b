/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * BSN (burgerservicenummer) validator: the 11-proef over 9 digits.  An
 * 8-digit number is a legacy number with an implied leading 0; more than one
 * leading zero never occurs in issued numbers, and all zeros is the
 * placeholder default, so both are rejected (spec section 1).
 */
#include "match/validate.h"

#include <string.h>

int sn_validate_bsn(const char *s, size_t n, const sn_tables *t, sn_vresult *out)
{
	char d[9];
	size_t k = 0;
	long sum = 0;

	(void)t;
	if (!s || n > SN_VALIDATE_MAX_INPUT)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == ' ' || c == '.' || c == '-' || c == '\t')
			continue;
		if (c < '0' || c > '9' || k == sizeof d)
			return 0;
		d[k++] = c;
	}
	if (k == 8) {
		memmove(d + 1, d, 8);
		d[0] = '0';
	} else if (k != 9) {
		return 0;
	}
	/* "00xxxxxxx" also covers the all-zero placeholder */
	if (d[0] == '0' && d[1] == '0')
		return 0;
	for (int i = 0; i < 8; i++)
		sum += (long)(9 - i) * (d[i] - '0');
	sum -= d[8] - '0';
	if (((sum % 11) + 11) % 11 != 0)
		return 0;
	if (out) {
		memcpy(out->normalized, d, 9);
		out->normalized[9] = '\0';
		out->normalized_len = 9;
		out->flags = 0;
	}
	return 1;
}
