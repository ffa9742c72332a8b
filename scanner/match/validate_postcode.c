/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Dutch postcode validator: 4 digits not starting with 0, an optional single
 * space and 2 letters, optionally after "NL-" or "NL ".  SA, SD and SS are
 * never issued.  Letters are accepted in either case here because the rule
 * decides the case policy (lower case only next to a keyword, spec section 5).
 */
#include "match/validate.h"

static char upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

int sn_validate_postcode(const char *s, size_t n, const sn_tables *t, sn_vresult *out)
{
	char v[6];
	size_t i = 0;

	(void)t;
	if (!s || n > SN_VALIDATE_MAX_INPUT)
		return 0;
	if (n >= 3 && upper(s[0]) == 'N' && upper(s[1]) == 'L' && (s[2] == '-' || s[2] == ' '))
		i = 3;
	if (n - i < 6 || s[i] < '1' || s[i] > '9')
		return 0;
	for (int k = 0; k < 4; k++, i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v[k] = s[i];
	}
	if (s[i] == ' ')
		i++;
	if (n - i != 2)
		return 0;
	for (int k = 4; k < 6; k++, i++) {
		v[k] = upper(s[i]);
		if (v[k] < 'A' || v[k] > 'Z')
			return 0;
	}
	if (v[4] == 'S' && (v[5] == 'A' || v[5] == 'D' || v[5] == 'S'))
		return 0;
	if (out) {
		for (int k = 0; k < 6; k++)
			out->normalized[k] = v[k];
		out->normalized[6] = '\0';
		out->normalized_len = 6;
		out->flags = 0;
	}
	return 1;
}
