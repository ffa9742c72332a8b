/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * E-mail address validator (spec section 6): a dot-atom or quoted local part
 * of at most 64 octets, '@', and a domain name of at least two labels ending
 * in a real top-level domain, or an IPv4 literal.  UTF-8 addresses (RFC 6531)
 * are accepted when they are valid, composed (NFC) UTF-8: decomposed text
 * carries combining marks, which no registry issues in an address.  Quoted
 * local parts and IP literals are legal but rare in personal addresses, so
 * they are flagged weak.
 */
#include "match/validate.h"

#include <stdint.h>
#include <string.h>

#define LOCAL_MAX 64   /* RFC 5321 4.5.3.1.1 */
#define DOMAIN_MAX 253 /* RFC 1035, without the trailing dot */
#define LABEL_MAX 63

/* Length of the valid UTF-8 sequence at p (shortest form, no surrogates),
 * 0 when it is not one. */
static size_t utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t v, min;
	size_t len;

	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		len = 2;
		v = p[0] & 0x1Fu;
		min = 0x80;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		len = 3;
		v = p[0] & 0x0Fu;
		min = 0x800;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		len = 4;
		v = p[0] & 0x07u;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3Fu);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

/* Non-ASCII code points that can be part of an address: everything but
 * controls, invisible and space characters, and combining marks. */
static int cp_allowed(uint32_t cp)
{
	static const uint32_t banned[][2] = {
		{ 0x0080, 0x00A0 }, /* C1 controls, no-break space */
		{ 0x00AD, 0x00AD }, /* soft hyphen */
		{ 0x0300, 0x036F }, /* combining diacritical marks (NFD) */
		{ 0x1AB0, 0x1AFF }, /* combining marks, extended */
		{ 0x1DC0, 0x1DFF }, /* combining marks, supplement */
		{ 0x2000, 0x206F }, /* spaces, zero-width and bidi controls */
		{ 0x20D0, 0x20FF }, /* combining marks for symbols */
		{ 0x3000, 0x3000 }, /* ideographic space */
		{ 0xE000, 0xF8FF }, /* private use */
		{ 0xFE20, 0xFE2F }, /* combining half marks */
		{ 0xFEFF, 0xFEFF }, /* byte order mark */
		{ 0xFFF0, 0xFFFF }, /* specials */
	};

	for (size_t i = 0; i < sizeof banned / sizeof banned[0]; i++)
		if (cp >= banned[i][0] && cp <= banned[i][1])
			return 0;
	return 1;
}

/* Length of an acceptable non-ASCII character at s, 0 when there is none. */
static size_t nonascii(const char *s, size_t n)
{
	uint32_t cp = 0;
	size_t len = utf8_seq((const unsigned char *)s, n, &cp);

	return (len && cp_allowed(cp)) ? len : 0;
}

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_atext(char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static int dot_atom(const char *s, size_t n)
{
	if (n == 0 || n > LOCAL_MAX || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n;) {
		size_t l;

		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return 0;
			i++;
		} else if ((unsigned char)s[i] >= 0x80) {
			l = nonascii(s + i, n - i);
			if (!l)
				return 0;
			i += l;
		} else if (is_atext(s[i])) {
			i++;
		} else {
			return 0;
		}
	}
	return 1;
}

/* Length of the quoted string at s (quotes included), 0 when malformed or
 * empty. */
static size_t quoted(const char *s, size_t n)
{
	size_t i = 1;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"')
			return i == 1 ? 0 : i + 1;
		if (c == '\\') {
			if (i + 1 >= n || (unsigned char)s[i + 1] < 0x20 ||
			    (unsigned char)s[i + 1] > 0x7E)
				return 0;
			i += 2;
		} else if (c >= 0x80) {
			size_t l = nonascii(s + i, n - i);

			if (!l)
				return 0;
			i += l;
		} else if (c < 0x20 || c == 0x7F) {
			return 0;
		} else {
			i++;
		}
	}
	return 0;
}

/* "[a.b.c.d]" with every part 0..255 */
static int ip_literal(const char *s, size_t n)
{
	size_t i = 1;
	int parts = 0;

	if (n < 9 || s[0] != '[' || s[n - 1] != ']')
		return 0;
	for (;;) {
		unsigned v = 0;
		int digits = 0;

		while (i < n - 1 && s[i] >= '0' && s[i] <= '9') {
			if (++digits > 3)
				return 0;
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
		}
		if (!digits || v > 255)
			return 0;
		parts++;
		if (i == n - 1)
			break;
		if (s[i] != '.' || parts == 4)
			return 0;
		i++;
	}
	return parts == 4;
}

static int tld_ok(const char *s, size_t n)
{
	size_t chars = 0;

	if (n > 4 && (s[0] == 'x' || s[0] == 'X') && (s[1] == 'n' || s[1] == 'N') &&
	    s[2] == '-' && s[3] == '-')
		return 1;
	for (size_t i = 0; i < n; chars++) {
		if ((unsigned char)s[i] >= 0x80) {
			size_t l = nonascii(s + i, n - i);

			if (!l)
				return 0;
			i += l;
		} else if (is_alpha(s[i])) {
			i++;
		} else {
			return 0;
		}
	}
	return chars >= 2;
}

static int domain_name(const char *s, size_t n)
{
	size_t start = 0, i = 0;
	int labels = 0;

	if (n == 0 || n > DOMAIN_MAX)
		return 0;
	for (;;) {
		if (i == n || s[i] == '.') {
			size_t len = i - start;

			if (len == 0 || len > LABEL_MAX || s[start] == '-' || s[i - 1] == '-')
				return 0;
			labels++;
			if (i == n)
				break;
			start = ++i;
		} else if ((unsigned char)s[i] >= 0x80) {
			size_t l = nonascii(s + i, n - i);

			if (!l)
				return 0;
			i += l;
		} else if (is_alnum(s[i]) || s[i] == '-') {
			i++;
		} else {
			return 0;
		}
	}
	return labels >= 2 && tld_ok(s + start, n - start);
}

int sn_validate_email(const char *s, size_t n, const sn_tables *t, sn_vresult *out)
{
	const char *at;
	size_t local;
	unsigned flags = 0;

	(void)t;
	if (!s || n == 0 || n > SN_VALIDATE_MAX_INPUT)
		return 0;
	if (s[0] == '"') {
		local = quoted(s, n);
		if (!local || local > LOCAL_MAX || local >= n || s[local] != '@')
			return 0;
		flags |= SN_V_WEAK;
	} else {
		at = memchr(s, '@', n);
		if (!at)
			return 0;
		local = (size_t)(at - s);
		if (!dot_atom(s, local))
			return 0;
	}
	if (local + 1 < n && s[local + 1] == '[') {
		if (!ip_literal(s + local + 1, n - local - 1))
			return 0;
		flags |= SN_V_WEAK;
	} else if (!domain_name(s + local + 1, n - local - 1)) {
		return 0;
	}
	if (out) {
		for (size_t i = 0; i < n; i++) {
			char c = s[i];

			out->normalized[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
		}
		out->normalized[n] = '\0';
		out->normalized_len = n;
		out->flags = flags;
	}
	return 1;
}
