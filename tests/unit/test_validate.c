/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Validators, normalization and masks, driven by the test vectors of the
 * data specification (dutch-pii.md sections 1, 3, 4, 5, 6 and 13) plus near
 * misses.  The validators run against the shipped rules/data tables, so a
 * broken data file fails these tests too.  Every mask of a valid vector is
 * checked for leaks: it must not contain the normalized value or any three
 * consecutive digits of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "match/tables.h"
#include "match/validate.h"
#include "speurneus/error.h"

#ifndef SN_SOURCE_DIR
#error "SN_SOURCE_DIR must name the source tree"
#endif

#define DATA_DIR SN_SOURCE_DIR "/rules/data"

#define NP SN_V_NONPERSONAL
#define WK SN_V_WEAK

typedef struct vcase {
	const char *in;
	int valid;
	const char *norm; /* expected normalized value (valid cases) */
	unsigned flags;
	const char *mask; /* expected mask, NULL: only the leak check */
} vcase;

static const vcase bsn_cases[] = {
	/* spec 1, valid */
	{ "111222333", 1, "111222333", 0, "*******33" },
	{ "1112.22.333", 1, "111222333", 0, "*******33" },
	{ "123456782", 1, "123456782", 0, "*******82" },
	{ "319072356", 1, "319072356", 0, NULL },
	{ "211551557", 1, "211551557", 0, NULL },
	{ "249566758", 1, "249566758", 0, NULL },
	{ "999996708", 1, "999996708", 0, NULL },
	{ "999996630", 1, "999996630", 0, NULL },
	{ "999996642", 1, "999996642", 0, NULL },
	{ "999996654", 1, "999996654", 0, NULL },
	{ "999996666", 1, "999996666", 0, NULL },
	{ "999996678", 1, "999996678", 0, NULL },
	{ "950000012", 1, "950000012", 0, NULL },
	{ "862574857", 1, "862574857", 0, NULL },
	{ "12345672", 1, "012345672", 0, "*******72" },
	{ "11111112", 1, "011111112", 0, NULL },
	/* spec 1, invalid */
	{ "111252333", 0, NULL, 0, NULL },
	{ "1112.52.333", 0, NULL, 0, NULL },
	{ "1112223334", 0, NULL, 0, NULL },
	{ "999998620", 0, NULL, 0, NULL },
	{ "123456", 0, NULL, 0, NULL },
	{ "1234567890", 0, NULL, 0, NULL },
	{ "950000013", 0, NULL, 0, NULL },
	{ "950000011", 0, NULL, 0, NULL },
	{ "123456781", 0, NULL, 0, NULL },
	{ "123456783", 0, NULL, 0, NULL },
	{ "12345678", 0, NULL, 0, NULL },
	{ "999999999", 0, NULL, 0, NULL },
	{ "000000000", 0, NULL, 0, NULL },
	/* near misses and separators */
	{ "123 456 782", 1, "123456782", 0, NULL },
	{ "123.456.782", 1, "123456782", 0, NULL },
	{ "123-456-782", 1, "123456782", 0, NULL },
	{ "012345672", 1, "012345672", 0, NULL },
	{ "001000007", 0, NULL, 0, NULL },  /* passes the 11-proef, two leading zeros */
	{ "01000007", 0, NULL, 0, NULL },   /* the same as 8 digits */
	{ "00000000", 0, NULL, 0, NULL },
	{ "1234567", 0, NULL, 0, NULL },
	{ "123456782B", 0, NULL, 0, NULL },
	{ "123/456/782", 0, NULL, 0, NULL },
	{ "123_456_782", 0, NULL, 0, NULL },
	{ "", 0, NULL, 0, NULL },
	{ "...", 0, NULL, 0, NULL },
};

static const vcase iban_cases[] = {
	/* spec 3, valid */
	{ "NL91ABNA0417164300", 1, "NL91ABNA0417164300", 0, "NL** **** **** **** 00" },
	{ "NL91 ABNA 0417 1643 00", 1, "NL91ABNA0417164300", 0, "NL** **** **** **** 00" },
	{ "NL39RABO0300065264", 1, "NL39RABO0300065264", 0, "NL** **** **** **** 64" },
	{ "NL69INGB0123456789", 1, "NL69INGB0123456789", 0, NULL },
	{ "NL20INGB0001234567", 1, "NL20INGB0001234567", 0, NULL },
	{ "NL02ABNA0123456789", 1, "NL02ABNA0123456789", 0, NULL },
	{ "BE68539007547034", 1, "BE68539007547034", 0, "BE** **** **** **34" },
	{ "DE89370400440532013000", 1, "DE89370400440532013000", 0,
	  "DE** **** **** **** **** 00" },
	{ "BE31435411161155", 1, "BE31435411161155", 0, NULL },
	{ "nl91abna0417164300", 1, "NL91ABNA0417164300", 0, NULL },
	/* spec 3, invalid */
	{ "NL56 3003 0A17 1643 00", 0, NULL, 0, NULL },
	{ "AT611804300234573201", 0, NULL, 0, NULL },
	{ "BE68530907547034", 0, NULL, 0, NULL },
	{ "AD48 0001 2030 2003 5910 01", 0, NULL, 0, NULL },
	{ "QQ93 1234 5678", 0, NULL, 0, NULL },
	{ "NL91 1BNA 0417 1643 00", 0, NULL, 0, NULL },
	{ "NL91 ABNA 0417 1643 01", 0, NULL, 0, NULL },
	{ "NL91ABNA0417164301", 0, NULL, 0, NULL },
	{ "NL01ABNA0123456789", 0, NULL, 0, NULL },
	{ "NL91INGB", 0, NULL, 0, NULL },
	{ "NL13TEST0123456789", 0, NULL, 0, NULL },
	{ "NL82MOCK0123456789", 0, NULL, 0, NULL },
	/* near misses */
	{ "NL97ABNA0000000075", 1, "NL97ABNA0000000075", 0, NULL },
	{ "NL00ABNA0000000075", 0, NULL, 0, NULL }, /* mod-97 passes, 00 is never issued */
	{ "NL99ABNA0000000039", 0, NULL, 0, NULL }, /* likewise for 99 */
	{ "NL91-ABNA-0417-1643-00", 0, NULL, 0, NULL },
	{ "NL91ABNA041716430", 0, NULL, 0, NULL },
	{ "NL91ABNA04171643000", 0, NULL, 0, NULL },
	{ "NLA1ABNA0417164300", 0, NULL, 0, NULL },
	{ "NL91ABNA0417164300X", 0, NULL, 0, NULL },
	{ "", 0, NULL, 0, NULL },
};

static const vcase phone_cases[] = {
	/* spec 4, valid */
	{ "010 123 4567", 1, "+31101234567", 0, "+31*******67" },
	{ "06 12345678", 1, "+31612345678", 0, "+31*******78" },
	{ "066 2345678", 1, "+31662345678", 0, NULL },
	{ "0800 1234", 1, "+318001234", NP, "+31*****34" },
	{ "0906 1234", 1, "+319061234", NP, NULL },
	{ "085 123 4567", 1, "+31851234567", 0, NULL },
	{ "14020", 1, "+3114020", NP, "+31***20" },
	{ "06-12345678", 1, "+31612345678", 0, "+31*******78" },
	{ "+31 20 1234567", 1, "+31201234567", 0, NULL },
	{ "0031 6 12345678", 1, "+31612345678", 0, NULL },
	{ "+31 10 123 4567", 1, "+31101234567", 0, NULL },
	{ "+31 (0)6 1234 5678", 1, "+31612345678", 0, NULL },
	{ "088 123 4567", 1, "+31881234567", 0, NULL },
	{ "0970 1234 5678", 1, "+3197012345678", 0, "+31*********78" },
	{ "+31 0 20 123 4567", 1, "+31201234567", 0, NULL },
	{ "+31 020 123 4567", 1, "+31201234567", 0, NULL },
	/* spec 4, invalid */
	{ "06 7123 4567", 0, NULL, 0, NULL },
	{ "06-76123456", 0, NULL, 0, NULL },
	{ "069 123 4567", 0, NULL, 0, NULL },
	{ "06 1234 567", 0, NULL, 0, NULL },
	{ "06 1234 56789", 0, NULL, 0, NULL },
	{ "0123 456789", 0, NULL, 0, NULL },
	{ "044 123 4567", 0, NULL, 0, NULL },
	{ "0800 123", 0, NULL, 0, NULL },
	{ "0900 12345678901", 0, NULL, 0, NULL },
	/* the written forms of spec 4 */
	{ "0031 20 1234567", 1, "+31201234567", 0, NULL },
	{ "+31 6 12345678", 1, "+31612345678", 0, NULL },
	/* more of the plan */
	{ "0111 123456", 1, "+31111123456", 0, NULL },
	{ "0591-123456", 1, "+31591123456", 0, NULL },
	{ "(020) 123 4567", 1, "+31201234567", 0, NULL },
	{ "020/1234567", 1, "+31201234567", 0, NULL },
	{ "020.123.45.67", 1, "+31201234567", 0, NULL },
	{ "0031 (0)6 12345678", 1, "+31612345678", 0, NULL },
	{ "+31612345678", 1, "+31612345678", 0, NULL },
	{ "091 123 4567", 1, "+31911234567", 0, NULL },
	{ "084 123 4567", 1, "+31841234567", 0, NULL },
	{ "087 123 4567", 1, "+31871234567", 0, NULL },
	{ "0800 1234567", 1, "+318001234567", NP, NULL },
	{ "0900 1234567", 1, "+319001234567", NP, NULL },
	{ "0909 123456", 1, "+31909123456", NP, NULL },
	{ "14 0111", 1, "+31140111", NP, NULL },
	{ "112", 1, "+31112", NP, NULL },
	/* near misses */
	{ "0909 1234", 1, "+319091234", NP, NULL },
	{ "0901 1234", 0, NULL, 0, NULL },
	{ "060 1234567", 0, NULL, 0, NULL },
	{ "612345678", 0, NULL, 0, NULL },   /* no prefix */
	{ "014020", 0, NULL, 0, NULL },      /* municipal numbers have no trunk 0 */
	{ "14999", 0, NULL, 0, NULL },
	{ "14088", 0, NULL, 0, NULL },       /* 088 is not an area code */
	{ "+32 2 123 4567", 0, NULL, 0, NULL },
	{ "0032 2 123 4567", 0, NULL, 0, NULL },
	{ "+31 00 20 1234567", 0, NULL, 0, NULL },
	{ "+31 +31 6 12345678", 0, NULL, 0, NULL },
	{ "06 +12345678", 0, NULL, 0, NULL },
	{ "06)12345678", 0, NULL, 0, NULL },
	{ "(06 12345678", 0, NULL, 0, NULL },
	{ "((06)) 12345678", 0, NULL, 0, NULL },
	{ "06 12345678 x", 0, NULL, 0, NULL },
	{ "0970 1234 567", 0, NULL, 0, NULL },
	{ "0612345678901234567890", 0, NULL, 0, NULL },
	{ "0", 0, NULL, 0, NULL },
	{ "+", 0, NULL, 0, NULL },
	{ "", 0, NULL, 0, NULL },
};

static const vcase email_cases[] = {
	/* spec 6, valid */
	{ "simple@example.com", 1, "simple@example.com", 0, "s***@e***.com" },
	{ "disposable.style.email.with+symbol@example.com", 1,
	  "disposable.style.email.with+symbol@example.com", 0, "d***@e***.com" },
	{ "x@example.com", 1, "x@example.com", 0, "x***@e***.com" },
	{ "user-@example.org", 1, "user-@example.org", 0, NULL },
	{ "#user@example.com", 1, "#user@example.com", 0, NULL },
	{ "\"john..doe\"@example.org", 1, "\"john..doe\"@example.org", WK, "\"***@e***.org" },
	{ "\xe6\x88\x91\xe8\xb2\xb7@\xe5\xb1\x8b\xe4\xbc\x81.\xe9\xa6\x99\xe6\xb8\xaf", 1,
	  "\xe6\x88\x91\xe8\xb2\xb7@\xe5\xb1\x8b\xe4\xbc\x81.\xe9\xa6\x99\xe6\xb8\xaf", 0,
	  "\xe6\x88\x91***@\xe5\xb1\x8b***.\xe9\xa6\x99\xe6\xb8\xaf" },
	{ "gen\xc3\xa9@example.com", 1, "gen\xc3\xa9@example.com", 0, NULL },
	{ "user@xn--80ak6aa92e.com", 1, "user@xn--80ak6aa92e.com", 0, "u***@x***.com" },
	{ "a@xn--d1acufc.xn--p1ai", 1, "a@xn--d1acufc.xn--p1ai", 0, "a***@x***.xn--p1ai" },
	/* spec 6, invalid */
	{ "admin@mailserver1", 0, NULL, 0, NULL },
	{ "user@[300.0.0.1]", 0, NULL, 0, NULL },
	{ "user@example.com#", 0, NULL, 0, NULL },
	{ "john..doe@example.com", 0, NULL, 0, NULL },
	{ "Abc.example.com", 0, NULL, 0, NULL },
	{ "A@b@c@example.com", 0, NULL, 0, NULL },
	{ "just\"not\"right@example.com", 0, NULL, 0, NULL },
	{ "tld-too-short@foo.x", 0, NULL, 0, NULL },
	{ "gene\xcc\x81@example.com", 0, NULL, 0, NULL }, /* NFD form of gene-acute */
	{ "info@presidio.", 0, NULL, 0, NULL },
	/* forms and near misses */
	{ "Jan.Jansen@Gmail.COM", 1, "jan.jansen@gmail.com", 0, "j***@g***.com" },
	{ "user@[192.168.0.1]", 1, "user@[192.168.0.1]", WK, "u***@[***]" },
	{ "user@[255.255.255.255]", 1, "user@[255.255.255.255]", WK, NULL },
	{ "\"a b\"@example.com", 1, "\"a b\"@example.com", WK, NULL },
	{ "\"a@b\"@example.com", 1, "\"a@b\"@example.com", WK, "\"***@e***.com" },
	{ "a@sub.example.co.uk", 1, "a@sub.example.co.uk", 0, "a***@s***.uk" },
	{ "a@a-b.nl", 1, "a@a-b.nl", 0, NULL },
	{ "\xc3\xa9mile@example.fr", 1, "\xc3\xa9mile@example.fr", 0,
	  "\xc3\xa9***@e***.fr" },
	{ "lodash@4.17.21", 0, NULL, 0, NULL },
	{ "@Override", 0, NULL, 0, NULL },
	{ "user@", 0, NULL, 0, NULL },
	{ ".a@example.com", 0, NULL, 0, NULL },
	{ "a.@example.com", 0, NULL, 0, NULL },
	{ "a@-example.com", 0, NULL, 0, NULL },
	{ "a@example-.com", 0, NULL, 0, NULL },
	{ "a@example..com", 0, NULL, 0, NULL },
	{ "a@.example.com", 0, NULL, 0, NULL },
	{ "a@example.c0m", 0, NULL, 0, NULL },
	{ "a b@example.com", 0, NULL, 0, NULL },
	{ "a@exa mple.com", 0, NULL, 0, NULL },
	{ "a@[1.2.3]", 0, NULL, 0, NULL },
	{ "a@[1.2.3.4.5]", 0, NULL, 0, NULL },
	{ "a@[1.2.3.4", 0, NULL, 0, NULL },
	{ "a@[1..3.4]", 0, NULL, 0, NULL },
	{ "a@[1.2.3.0004]", 0, NULL, 0, NULL },
	{ "\"\"@example.com", 0, NULL, 0, NULL },
	{ "\"abc@example.com", 0, NULL, 0, NULL },
	{ "\"abc\"x@example.com", 0, NULL, 0, NULL },
	{ "\xff@example.com", 0, NULL, 0, NULL },        /* not UTF-8 */
	{ "\xc0\xaf@example.com", 0, NULL, 0, NULL },    /* overlong */
	{ "\xed\xa0\x80@example.com", 0, NULL, 0, NULL },/* surrogate */
	{ "gen\xc3@example.com", 0, NULL, 0, NULL },     /* truncated */
	{ "a\xc2\xa0" "b@example.com", 0, NULL, 0, NULL },   /* no-break space */
	{ "a\xe2\x80\x8b" "b@example.com", 0, NULL, 0, NULL },/* zero-width space */
	{ "a@example.com\xcc\x81", 0, NULL, 0, NULL },
	{ "no\xc3\xabl@example.nl", 1, "no\xc3\xabl@example.nl", 0, NULL },  /* NFC e-diaeresis */
	{ "noe\xcc\x88l@example.nl", 0, NULL, 0, NULL },  /* the same in NFD */
	{ "", 0, NULL, 0, NULL },
};

static const vcase postcode_cases[] = {
	/* spec 5, valid */
	{ "2601 DC", 1, "2601DC", 0, "****DC" },
	{ "NL-2611ET", 1, "2611ET", 0, "****ET" },
	{ "1000 AP", 1, "1000AP", 0, NULL },
	{ "8011 PK", 1, "8011PK", 0, NULL },
	{ "1000 AA", 1, "1000AA", 0, NULL },
	{ "1011 AA", 1, "1011AA", 0, NULL },
	{ "9999 XL", 1, "9999XL", 0, NULL },
	{ "1234 AB", 1, "1234AB", 0, "****AB" },
	{ "1012WX", 1, "1012WX", 0, NULL },
	{ "1234ab", 1, "1234AB", 0, "****AB" },
	/* spec 5, invalid */
	{ "26112 ET", 0, NULL, 0, NULL },
	{ "2611 SS", 0, NULL, 0, NULL },
	{ "0123 AB", 0, NULL, 0, NULL },
	{ "1234 SA", 0, NULL, 0, NULL },
	{ "1234 SD", 0, NULL, 0, NULL },
	{ "123 AB", 0, NULL, 0, NULL },
	{ "1234A", 0, NULL, 0, NULL },
	{ "1234 ABC", 0, NULL, 0, NULL },
	/* near misses */
	{ "nl-1234 ab", 1, "1234AB", 0, NULL },
	{ "NL 1234AB", 1, "1234AB", 0, NULL },
	{ "1234 FI", 1, "1234FI", 0, NULL },
	{ "1234 QU", 1, "1234QU", 0, NULL },
	{ "1234 YO", 1, "1234YO", 0, NULL },
	{ "1234 sa", 0, NULL, 0, NULL },
	{ "1234 ss", 0, NULL, 0, NULL },
	{ "1234  AB", 0, NULL, 0, NULL },
	{ "1234-AB", 0, NULL, 0, NULL },
	{ "NL1234AB", 0, NULL, 0, NULL },
	{ "BE-1234AB", 0, NULL, 0, NULL },
	{ " 1234AB", 0, NULL, 0, NULL },
	{ "1234 A1", 0, NULL, 0, NULL },
	{ "12a4 AB", 0, NULL, 0, NULL },
	{ "NL-", 0, NULL, 0, NULL },
	{ "", 0, NULL, 0, NULL },
};

static const vcase luhn_cases[] = {
	/* spec 13, valid */
	{ "4012888888881881", 1, "4012888888881881", 0, "**************81" },
	{ "4012-8888-8888-1881", 1, "4012888888881881", 0, "**************81" },
	{ "4012 8888 8888 1881", 1, "4012888888881881", 0, NULL },
	{ "371449635398431", 1, "371449635398431", 0, "*************31" },
	{ "5555555555554444", 1, "5555555555554444", 0, NULL },
	{ "5019717010103742", 1, "5019717010103742", 0, NULL },
	{ "30569309025904", 1, "30569309025904", 0, NULL },
	{ "6011000400000000", 1, "6011000400000000", 0, NULL },
	{ "3528000700000000", 1, "3528000700000000", 0, NULL },
	{ "6759649826438453", 1, "6759649826438453", 0, NULL },
	{ "4111111111111111", 1, "4111111111111111", 0, NULL },
	/* spec 13, invalid */
	{ "4012-8888-8888-1882", 0, NULL, 0, NULL },
	{ "36168002586008", 0, NULL, 0, NULL },
	{ "1748503543012", 0, NULL, 0, NULL },
	{ "4111111111111112", 0, NULL, 0, NULL },
	{ "5555555555554445", 0, NULL, 0, NULL },
	{ "371449635398430", 0, NULL, 0, NULL },
	{ "6011000400000001", 0, NULL, 0, NULL },
	/* near misses */
	{ "411111111117", 1, "411111111117", 0, NULL },          /* 12 digits */
	{ "41111111117", 0, NULL, 0, NULL },                     /* 11 digits */
	{ "44444444444444444444", 0, NULL, 0, NULL },            /* 20, Luhn-valid */
	{ "0000000000000000", 0, NULL, 0, NULL },                /* Luhn-valid */
	{ "4111.1111.1111.1111", 0, NULL, 0, NULL },
	{ "4111 1111 1111 111a", 0, NULL, 0, NULL },
	{ "", 0, NULL, 0, NULL },
};

static sn_tables *tables;

static int setup_tables(void **state)
{
	(void)state;
	return sn_tables_load(&tables, DATA_DIR, NULL, NULL) == 0 ? 0 : -1;
}

static int teardown_tables(void **state)
{
	(void)state;
	sn_tables_free(tables);
	tables = NULL;
	return 0;
}

/* 1 when the mask shows the normalized value or 3 consecutive digits of it */
static int mask_leaks(const char *norm, const char *mask)
{
	size_t n = strlen(norm);

	if (n >= 3 && strstr(mask, norm))
		return 1;
	for (size_t i = 0; i + 3 <= n; i++) {
		char win[4];

		if (norm[i] < '0' || norm[i] > '9' || norm[i + 1] < '0' || norm[i + 1] > '9' ||
		    norm[i + 2] < '0' || norm[i + 2] > '9')
			continue;
		memcpy(win, norm + i, 3);
		win[3] = '\0';
		if (strstr(mask, win))
			return 1;
	}
	return 0;
}

static void run_cases(const char *name, const vcase *cases, size_t ncases)
{
	const sn_validator *v = sn_validator_find(name);
	unsigned failures = 0;

	assert_non_null(v);
	for (size_t i = 0; i < ncases; i++) {
		const vcase *c = &cases[i];
		sn_vresult r;
		char mask[SN_MASK_MAX];
		int got;

		memset(&r, 0x55, sizeof r);
		got = v->validate(c->in, strlen(c->in), tables, &r);
		if (got != c->valid) {
			print_error("%s: \"%s\": got %d, want %d\n", name, c->in, got, c->valid);
			failures++;
			continue;
		}
		if (!c->valid)
			continue;
		if (strcmp(r.normalized, c->norm) != 0 || r.normalized_len != strlen(c->norm) ||
		    r.flags != c->flags) {
			print_error("%s: \"%s\": normalized \"%s\" (%zu) flags %u, "
				    "want \"%s\" %u\n", name, c->in, r.normalized,
				    r.normalized_len, r.flags, c->norm, c->flags);
			failures++;
			continue;
		}
		/* the result must not depend on out: validity alone is allowed */
		if (v->validate(c->in, strlen(c->in), tables, NULL) != 1) {
			print_error("%s: \"%s\": not valid without a result\n", name, c->in);
			failures++;
		}
		v->mask(r.normalized, r.normalized_len, mask, sizeof mask);
		if (c->mask && strcmp(mask, c->mask) != 0) {
			print_error("%s: \"%s\": mask \"%s\", want \"%s\"\n", name, c->in, mask,
				    c->mask);
			failures++;
		}
		if (mask_leaks(r.normalized, mask)) {
			print_error("%s: \"%s\": mask \"%s\" shows too much\n", name, c->in, mask);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

#define RUN(name, cases) run_cases(name, cases, sizeof cases / sizeof cases[0])

static void test_bsn(void **state)
{
	(void)state;
	RUN("bsn", bsn_cases);
}

static void test_iban(void **state)
{
	(void)state;
	RUN("iban", iban_cases);
}

static void test_phone(void **state)
{
	(void)state;
	RUN("nl_phone", phone_cases);
}

static void test_email(void **state)
{
	(void)state;
	RUN("email", email_cases);
}

static void test_postcode(void **state)
{
	(void)state;
	RUN("postcode", postcode_cases);
}

static void test_luhn(void **state)
{
	(void)state;
	RUN("luhn", luhn_cases);
}

static void test_registry(void **state)
{
	static const struct {
		const char *name;
		sn_validate_fn fn;
		sn_mask_fn mask;
	} want[] = {
		{ "bsn", sn_validate_bsn, sn_mask_bsn },
		{ "iban", sn_validate_iban, sn_mask_iban },
		{ "nl_phone", sn_validate_nl_phone, sn_mask_phone },
		{ "email", sn_validate_email, sn_mask_email },
		{ "postcode", sn_validate_postcode, sn_mask_postcode },
		{ "luhn", sn_validate_luhn, sn_mask_digits },
	};
	size_t n = 0;
	const sn_validator *list = sn_validator_list(&n);

	(void)state;
	assert_int_equal(n, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < n; i++) {
		const sn_validator *v = sn_validator_find(want[i].name);

		assert_non_null(v);
		assert_ptr_equal(v, &list[i]);
		assert_string_equal(v->name, want[i].name);
		assert_true(v->validate == want[i].fn);
		assert_true(v->mask == want[i].mask);
	}
	assert_null(sn_validator_find("BSN"));
	assert_null(sn_validator_find("kenteken"));
	assert_null(sn_validator_find(""));
	assert_null(sn_validator_find(NULL));
}

/* Builds "<local 'a's>@<domain>" with a domain of `dlen` octets (0: the
 * 11-octet example.com): labels of up to 63 'b's and a final ".nl", so that
 * dlen 66 has one 63-octet label.  Returns the length. */
static size_t email_of(char *buf, size_t local, size_t dlen)
{
	char *d = buf + local + 1;

	memset(buf, 'a', local);
	buf[local] = '@';
	if (!dlen) {
		memcpy(d, "example.com", 11);
		return local + 12;
	}
	memset(d, 'b', dlen - 3);
	for (size_t i = 63; i + 4 < dlen; i += 64)
		d[i] = '.';
	memcpy(d + dlen - 3, ".nl", 3);
	return local + 1 + dlen;
}

/* Over-long input is rejected before it is parsed, whatever it holds. */
static void test_long_input(void **state)
{
	char buf[SN_VALIDATE_MAX_INPUT + 64];
	size_t n;
	const sn_validator *list = sn_validator_list(&n);
	sn_vresult r;

	(void)state;
	/* valid values behind a run of separators each validator strips */
	memset(buf, ' ', sizeof buf);
	memcpy(buf + sizeof buf - 9, "123456782", 9);
	assert_int_equal(sn_validate_bsn(buf, sizeof buf, tables, &r), 0);
	assert_int_equal(sn_validate_bsn(buf + sizeof buf - 12, 12, tables, &r), 1);
	memcpy(buf + sizeof buf - 16, "4111111111111111", 16);
	assert_int_equal(sn_validate_luhn(buf, sizeof buf, tables, &r), 0);
	memcpy(buf + sizeof buf - 11, "06 12345678", 11);
	assert_int_equal(sn_validate_nl_phone(buf, sizeof buf, tables, &r), 0);
	memset(buf, 'a', sizeof buf);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(list[i].validate(buf, sizeof buf, tables, &r), 0);
	/* e-mail limits: 64-octet local part, 63-octet label, 253-octet domain */
	assert_int_equal(sn_validate_email(buf, email_of(buf, 64, 0), tables, &r), 1);
	assert_int_equal(sn_validate_email(buf, email_of(buf, 65, 0), tables, &r), 0);
	assert_int_equal(sn_validate_email(buf, email_of(buf, 1, 66), tables, &r), 1);
	assert_int_equal(sn_validate_email(buf, email_of(buf, 1, 67), tables, &r), 0);
	assert_int_equal(sn_validate_email(buf, email_of(buf, 1, 253), tables, &r), 1);
	assert_int_equal(r.normalized_len, 1 + 1 + 253);
	assert_int_equal(sn_validate_email(buf, email_of(buf, 1, 254), tables, &r), 0);
}

/* The table-driven validators cannot decide without tables. */
static void test_no_tables(void **state)
{
	sn_vresult r;

	(void)state;
	assert_int_equal(sn_validate_iban("NL91ABNA0417164300", 18, NULL, &r), 0);
	assert_int_equal(sn_validate_nl_phone("06 12345678", 11, NULL, &r), 0);
	assert_int_equal(sn_validate_bsn("123456782", 9, NULL, &r), 1);
	assert_int_equal(sn_validate_bsn(NULL, 0, NULL, &r), 0);
}

static void test_normalize_generic(void **state)
{
	static const struct {
		const char *in, *norm;
	} cases[] = {
		{ "  AB-12-CD\t\r\n", "AB-12-CD" },
		{ "x", "x" },
		{ " \t ", "" },
		{ "", "" },
		{ "a b", "a b" },
	};
	sn_vresult r;
	char big[SN_NORM_MAX + 10];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&r, 0x55, sizeof r);
		sn_normalize_generic(cases[i].in, strlen(cases[i].in), &r);
		assert_string_equal(r.normalized, cases[i].norm);
		assert_int_equal(r.normalized_len, strlen(cases[i].norm));
		assert_int_equal(r.flags, 0);
	}
	/* truncated to fit, never inside a multi-byte character */
	memset(big, 'a', sizeof big);
	memcpy(big + SN_NORM_MAX - 2, "\xc3\xa9", 2);
	sn_normalize_generic(big, sizeof big, &r);
	assert_int_equal(r.normalized_len, SN_NORM_MAX - 2);
	assert_int_equal(strlen(r.normalized), SN_NORM_MAX - 2);
}

static void test_mask_generic(void **state)
{
	static const struct {
		const char *in, *mask;
	} cases[] = {
		{ "AB-12-CD", "******CD" },
		{ "123456", "****56" },
		{ "12345", "*****" },
		{ "1", "*" },
		{ "", "" },
		/* characters, not bytes: 6 characters, the last two kept whole */
		{ "\xc3\xa9\xc3\xa9" "abc\xc3\xa9", "****c\xc3\xa9" },
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "*****" },
	};
	char out[SN_MASK_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sn_mask_generic(cases[i].in, strlen(cases[i].in), out, sizeof out);
		assert_string_equal(out, cases[i].mask);
		sn_mask_digits(cases[i].in, strlen(cases[i].in), out, sizeof out);
		assert_string_equal(out, cases[i].mask);
	}
}

/* Masks never overflow, always terminate, and never end in a partial
 * character; odd input falls back to the generic mask. */
static void test_mask_edges(void **state)
{
	char out[SN_MASK_MAX];
	char small[5];

	(void)state;
	sn_mask_iban("NL91ABNA0417164300", 18, small, sizeof small);
	assert_string_equal(small, "NL**");
	sn_mask_bsn("123456782", 9, small, sizeof small);
	assert_string_equal(small, "****");
	sn_mask_email("\xe6\x88\x91@example.com", 15, small, sizeof small);
	assert_string_equal(small, "\xe6\x88\x91");
	sn_mask_generic("123456782", 9, small, 1);
	assert_string_equal(small, "");
	sn_mask_generic("123456782", 9, NULL, 0);

	sn_mask_iban("12345678", 8, out, sizeof out);
	assert_string_equal(out, "******78");
	sn_mask_iban("NL91", 4, out, sizeof out);
	assert_string_equal(out, "****");
	sn_mask_phone("0612345678", 10, out, sizeof out);
	assert_string_equal(out, "********78");
	sn_mask_phone("+3112", 5, out, sizeof out);
	assert_string_equal(out, "+31**");
	sn_mask_postcode("1234 AB", 7, out, sizeof out);
	assert_string_equal(out, "*****AB");
	sn_mask_email("no-at-sign", 10, out, sizeof out);
	assert_string_equal(out, "********gn");
	sn_mask_email("a@localhost", 11, out, sizeof out);
	assert_string_equal(out, "a***@l***");
	sn_mask_email("@x.nl", 5, out, sizeof out);
	assert_string_equal(out, "*****");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bsn),
		cmocka_unit_test(test_iban),
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_postcode),
		cmocka_unit_test(test_luhn),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_long_input),
		cmocka_unit_test(test_no_tables),
		cmocka_unit_test(test_normalize_generic),
		cmocka_unit_test(test_mask_generic),
		cmocka_unit_test(test_mask_edges),
	};

	return cmocka_run_group_tests_name("validate", tests, setup_tables, teardown_tables);
}
