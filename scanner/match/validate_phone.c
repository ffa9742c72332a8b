/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Dutch phone number validator.  The written form is reduced to the national
 * significant number (NSN) after +31, 0031 or the trunk 0, which is then
 * classified against the numbering plan (spec section 4).  Numbers in the
 * plan that belong to organisations (toll-free, premium rate, municipal,
 * emergency) are valid but flagged non-personal.
 */
#include "match/validate.h"

#include <string.h>

/* Longest digit run considered: 0031 + an 11-digit M2M number is 15. */
#define PHONE_DIGITS_MAX 20

enum form { FORM_BARE, FORM_NATIONAL, FORM_INTL };

/* Collects the digits; fails on anything but the separators people write
 * between digit groups, a '+' that is not in front, or unbalanced or nested
 * parentheses. */
static int collect(const char *s, size_t n, char *d, size_t *dn, int *plus)
{
	size_t k = 0;
	int depth = 0, group = 0, seen_digit = 0;

	*plus = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9') {
			if (k == PHONE_DIGITS_MAX)
				return 0;
			d[k++] = c;
			seen_digit = 1;
			group++;
			continue;
		}
		switch (c) {
		case ' ':
		case '\t':
		case '-':
		case '.':
		case '/':
			break;
		case '+':
			if (*plus || seen_digit)
				return 0;
			*plus = 1;
			break;
		case '(':
			if (depth)
				return 0;
			depth = 1;
			group = 0;
			break;
		case ')':
			if (!depth || !group)
				return 0;
			depth = 0;
			break;
		default:
			return 0;
		}
	}
	if (depth)
		return 0;
	*dn = k;
	return 1;
}

static int in_range(size_t v, size_t lo, size_t hi)
{
	return v >= lo && v <= hi;
}

/* Value of `len` digits at p. */
static unsigned num(const char *p, size_t len)
{
	unsigned v = 0;

	for (size_t i = 0; i < len; i++)
		v = v * 10 + (unsigned)(p[i] - '0');
	return v;
}

static int area_code(const sn_tables *t, const char *p, size_t len)
{
	if (len == 3)
		return t->area3[num(p, 3)];
	return t->area2[num(p, 2)];
}

/* 1 when the NSN is in the plan; sets *flags and *municipal. */
static int classify(const char *d, size_t n, const sn_tables *t, unsigned *flags,
		    int *municipal)
{
	*flags = 0;
	*municipal = 0;
	if (n < 3)
		return 0;
	if (d[0] == '1' && d[1] == '4' && d[2] == '0' && (n == 5 || n == 6)) {
		/* 14 + the area code with its trunk 0 */
		*municipal = 1;
		*flags = SN_V_NONPERSONAL;
		return area_code(t, d + 3, n - 3);
	}
	if (memcmp(d, "800", 3) == 0 && in_range(n, 7, 10)) {
		*flags = SN_V_NONPERSONAL;
		return 1;
	}
	if (d[0] == '9' && d[1] == '0' && (d[2] == '0' || d[2] == '6' || d[2] == '9') &&
	    in_range(n, 7, 10)) {
		*flags = SN_V_NONPERSONAL;
		return 1;
	}
	if (memcmp(d, "970", 3) == 0)
		return n == 11;
	if (n != 9)
		return 0;
	switch (d[0]) {
	case '6':
		/* mobile 61-65 and 68, pager 66; 60, 67 and 69 have no category */
		return (d[1] >= '1' && d[1] <= '6') || d[1] == '8';
	case '8':
		/* VoIP 85, UAN 84/87/88 */
		return d[1] == '4' || d[1] == '5' || d[1] == '7' || d[1] == '8';
	case '9':
		return d[1] == '1';
	case '0':
		return 0;
	default:
		/* fixed line: the codes are prefix-free, so at most one reading
		 * applies; the longer one is tried first */
		return area_code(t, d, 3) || area_code(t, d, 2);
	}
}

int sn_validate_nl_phone(const char *s, size_t n, const sn_tables *t, sn_vresult *out)
{
	char d[PHONE_DIGITS_MAX];
	const char *nsn;
	size_t dn = 0, nn;
	int plus, municipal;
	unsigned flags;
	enum form form;

	if (!s || !t || n > SN_VALIDATE_MAX_INPUT || !collect(s, n, d, &dn, &plus))
		return 0;
	if (plus) {
		if (dn < 2 || d[0] != '3' || d[1] != '1')
			return 0;
		nsn = d + 2;
		form = FORM_INTL;
	} else if (dn >= 4 && memcmp(d, "0031", 4) == 0) {
		nsn = d + 4;
		form = FORM_INTL;
	} else if (dn >= 1 && d[0] == '0') {
		nsn = d + 1;
		form = FORM_NATIONAL;
	} else {
		nsn = d;
		form = FORM_BARE;
	}
	nn = dn - (size_t)(nsn - d);
	/* "+31 (0)20 ..." and the stray "+31 020 ..." both carry the trunk 0 */
	if (form == FORM_INTL && nn > 0 && nsn[0] == '0') {
		nsn++;
		nn--;
	}
	if (form == FORM_BARE && nn == 3 && memcmp(nsn, "112", 3) == 0) {
		flags = SN_V_NONPERSONAL;
	} else {
		if (!classify(nsn, nn, t, &flags, &municipal))
			return 0;
		/* municipal numbers are dialled without a trunk 0, and nothing
		 * else is written without a prefix */
		if (form == FORM_BARE ? !municipal : (form == FORM_NATIONAL && municipal))
			return 0;
	}
	if (out) {
		memcpy(out->normalized, "+31", 3);
		memcpy(out->normalized + 3, nsn, nn);
		out->normalized[3 + nn] = '\0';
		out->normalized_len = 3 + nn;
		out->flags = flags;
	}
	return 1;
}
