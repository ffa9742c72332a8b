/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The validator registry, the generic normalization for rules without a
 * validator, and every mask.  Masks live together so that what a report may
 * show of a value is decided in one place: never more than the last two
 * characters of a number, a country code, or the shape of an address.
 */
#include "match/validate.h"

#include <string.h>

/* The registered validators: adding one is a new validate_<name>.c and one
 * line here. */
#define SN_VALIDATORS(X)                                  \
	X(bsn, sn_validate_bsn, sn_mask_bsn)              \
	X(iban, sn_validate_iban, sn_mask_iban)           \
	X(nl_phone, sn_validate_nl_phone, sn_mask_phone)  \
	X(email, sn_validate_email, sn_mask_email)        \
	X(postcode, sn_validate_postcode, sn_mask_postcode) \
	X(luhn, sn_validate_luhn, sn_mask_digits)

#define SN_VALIDATOR_ENTRY(name, fn, mask) { #name, fn, mask },
static const sn_validator validators[] = { SN_VALIDATORS(SN_VALIDATOR_ENTRY) };
#undef SN_VALIDATOR_ENTRY

#define N_VALIDATORS (sizeof validators / sizeof validators[0])

const sn_validator *sn_validator_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < N_VALIDATORS; i++)
		if (strcmp(validators[i].name, name) == 0)
			return &validators[i];
	return NULL;
}

const sn_validator *sn_validator_list(size_t *n)
{
	if (n)
		*n = N_VALIDATORS;
	return validators;
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_cont(char c)
{
	return ((unsigned char)c & 0xC0) == 0x80;
}

/* Bytes of the character starting at s: a lead byte and its continuation
 * bytes, so that a multi-byte character is never split. */
static size_t char_len(const char *s, size_t n)
{
	size_t l = 1;

	while (l < n && l < 4 && is_cont(s[l]))
		l++;
	return l;
}

void sn_normalize_generic(const char *s, size_t n, sn_vresult *out)
{
	if (!out)
		return;
	out->flags = 0;
	out->normalized_len = 0;
	out->normalized[0] = '\0';
	if (!s)
		return;
	while (n && is_ws(s[0])) {
		s++;
		n--;
	}
	while (n && is_ws(s[n - 1]))
		n--;
	if (n > SN_NORM_MAX - 1) {
		n = SN_NORM_MAX - 1;
		/* cut before a character that would not fit whole */
		while (n && is_cont(s[n]))
			n--;
	}
	memcpy(out->normalized, s, n);
	out->normalized[n] = '\0';
	out->normalized_len = n;
}

/* Output for masks: each piece is written whole or not at all, so a
 * truncated mask never ends in half a character, and it is always
 * NUL-terminated. */
struct mout {
	char *p;
	size_t sz, len;
	int full;
};

static void mout_init(struct mout *m, char *p, size_t sz)
{
	m->p = p;
	m->sz = sz;
	m->len = 0;
	m->full = (sz == 0 || !p);
	if (!m->full)
		p[0] = '\0';
}

static void mput(struct mout *m, const char *s, size_t n)
{
	if (m->full)
		return;
	if (m->len + n + 1 > m->sz) {
		m->full = 1;
		return;
	}
	memcpy(m->p + m->len, s, n);
	m->len += n;
	m->p[m->len] = '\0';
}

static void mputs(struct mout *m, const char *s)
{
	mput(m, s, strlen(s));
}

static size_t count_chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i += char_len(s + i, n - i))
		c++;
	return c;
}

/* '*' for every character but the last `keep`; all '*' below `min_chars`. */
static void mask_tail(struct mout *m, const char *s, size_t n, size_t keep, size_t min_chars)
{
	size_t total = count_chars(s, n), k = 0;

	for (size_t i = 0; i < n; k++) {
		size_t l = char_len(s + i, n - i);

		if (total >= min_chars && k + keep >= total)
			mput(m, s + i, l);
		else
			mput(m, "*", 1);
		i += l;
	}
}

void sn_mask_generic(const char *norm, size_t n, char *out, size_t outsz)
{
	struct mout m;

	mout_init(&m, out, outsz);
	if (norm)
		mask_tail(&m, norm, n, 2, 6);
}

void sn_mask_digits(const char *norm, size_t n, char *out, size_t outsz)
{
	sn_mask_generic(norm, n, out, outsz);
}

void sn_mask_bsn(const char *norm, size_t n, char *out, size_t outsz)
{
	/* 9 digits: "*******82" */
	sn_mask_generic(norm, n, out, outsz);
}

static int upper_letter(char c)
{
	return c >= 'A' && c <= 'Z';
}

void sn_mask_iban(const char *norm, size_t n, char *out, size_t outsz)
{
	struct mout m;

	if (!norm || n < 6 || !upper_letter(norm[0]) || !upper_letter(norm[1])) {
		sn_mask_generic(norm, n, out, outsz);
		return;
	}
	mout_init(&m, out, outsz);
	mput(&m, norm, 2);
	/* grouped like the printed form: "NL** **** **** **** 00" */
	for (size_t i = 2; i < n; i++) {
		if (i % 4 == 0)
			mput(&m, " ", 1);
		mput(&m, i + 2 >= n ? norm + i : "*", 1);
	}
}

void sn_mask_phone(const char *norm, size_t n, char *out, size_t outsz)
{
	struct mout m;

	if (!norm || n < 4 || memcmp(norm, "+31", 3) != 0) {
		sn_mask_generic(norm, n, out, outsz);
		return;
	}
	mout_init(&m, out, outsz);
	mput(&m, "+31", 3);
	/* "+31*******78"; a 1- or 2-digit rest is hidden entirely */
	mask_tail(&m, norm + 3, n - 3, 2, 3);
}

void sn_mask_postcode(const char *norm, size_t n, char *out, size_t outsz)
{
	struct mout m;

	if (!norm || n != 6) {
		sn_mask_generic(norm, n, out, outsz);
		return;
	}
	mout_init(&m, out, outsz);
	mput(&m, "****", 4);
	mput(&m, norm + 4, 2);
}

void sn_mask_email(const char *norm, size_t n, char *out, size_t outsz)
{
	const char *at = NULL, *dom, *dot = NULL;
	size_t dn;
	struct mout m;

	/* the last '@': a quoted local part may contain one */
	for (size_t i = 0; norm && i < n; i++)
		if (norm[i] == '@')
			at = norm + i;
	if (!at || at == norm || at + 1 == norm + n) {
		sn_mask_generic(norm, n, out, outsz);
		return;
	}
	dom = at + 1;
	dn = (size_t)(norm + n - dom);
	mout_init(&m, out, outsz);
	/* "j***@g***.com" */
	mput(&m, norm, char_len(norm, (size_t)(at - norm)));
	mputs(&m, "***@");
	if (dom[0] == '[') {
		/* an IP literal has no part that may be shown */
		mputs(&m, "[***]");
		return;
	}
	mput(&m, dom, char_len(dom, dn));
	mputs(&m, "***");
	for (size_t i = 0; i < dn; i++)
		if (dom[i] == '.')
			dot = dom + i;
	if (dot && dot + 1 < dom + dn)
		mput(&m, dot, (size_t)(dom + dn - dot));
}
