/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Payment card number validator: 12 to 19 digits (spaces and '-' allowed
 * between groups) passing the Luhn check.  The first digit must be 2-6, the
 * major industry identifiers of the card networks (Mastercard 2-series,
 * Amex/Diners/JCB, Visa, Mastercard/Maestro, Discover/Maestro): one in ten
 * random digit runs passes Luhn, and runs starting with 0, 1, 7, 8 or 9
 * (such as the spec's 13-digit "1..." near miss) are not card numbers.
 */
#include "match/validate.h"

#include <string.h>

int sn_validate_luhn(const char *s, size_t n, const sn_tables *t, sn_vresult *out)
{
	char d[19];
	size_t k = 0;
	unsigned sum = 0;

	(void)t;
	if (!s || n > SN_VALIDATE_MAX_INPUT)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ' || s[i] == '-')
			continue;
		if (s[i] < '0' || s[i] > '9' || k == sizeof d)
			return 0;
		d[k++] = s[i];
	}
	if (k < 12 || d[0] < '2' || d[0] > '6')
		return 0;
	/* from the right, every second digit doubled, 9 subtracted above 9 */
	for (size_t i = 0; i < k; i++) {
		unsigned v = (unsigned)(d[k - 1 - i] - '0');

		if (i % 2 == 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	if (sum % 10 != 0)
		return 0;
	if (out) {
		memcpy(out->normalized, d, k);
		out->normalized[k] = '\0';
		out->normalized_len = k;
		out->flags = 0;
	}
	return 1;
}
