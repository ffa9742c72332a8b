/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Data tables the validators need, loaded from text files under rules/data/
 * so that a bank code or an area code is a one-line data change, not a code
 * change.
 *
 * File format (all three): UTF-8 text, one entry per line, '#' starts a
 * comment, blank lines ignored, surrounding whitespace ignored.
 *   iban-lengths.txt   "NL 18"   country code (2 upper-case letters) and the
 *                                total IBAN length (15..34)
 *   nl-bank-codes.txt  "ABNA"    4 upper-case letters
 *   nl-area-codes.txt  "20"      Dutch fixed-line area code without the
 *                                trunk 0, 2 or 3 digits
 * A malformed line is an error reported as file:line.
 */
#ifndef SN_MATCH_TABLES_H
#define SN_MATCH_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "speurneus/rules.h" /* sn_diag_cb */

typedef struct sn_tables {
	uint8_t iban_len[26 * 26];  /* [(c0-'A')*26 + (c1-'A')] = length, 0 unknown */
	/* NL bank identifiers: sorted array of 4-char codes (not NUL-terminated) */
	char (*nl_banks)[4];
	size_t n_nl_banks;
	/* area codes: index = the code's digits as a number; separate tables
	 * for 2- and 3-digit codes ("10" vs "010" are different numbers of
	 * digits, so keep them apart) */
	uint8_t area2[100];
	uint8_t area3[1000];
} sn_tables;

/* Load the three files from `dir`.  Reports problems through cb (may be
 * NULL) as file:line and returns SN_EFORMAT / SN_EIO; 0 on success. */
int sn_tables_load(sn_tables **out, const char *dir, sn_diag_cb cb, void *payload);
void sn_tables_free(sn_tables *t);

/* Built from strings, for tests: each argument is the content of one file. */
int sn_tables_from_strings(sn_tables **out, const char *iban_lengths,
			   const char *nl_bank_codes, const char *nl_area_codes,
			   sn_diag_cb cb, void *payload);

int sn_tables_nl_bank_known(const sn_tables *t, const char code[4]);

#endif
