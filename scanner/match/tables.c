/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Loader for the validator data tables (IBAN lengths, Dutch bank
 * identifiers, Dutch area codes; format in tables.h).  A data file is edited
 * by hand, so every malformed line is reported with its file and line before
 * the load fails: one run shows all the mistakes, not the first one only.
 */
#include "match/tables.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "speurneus/error.h"

/* The real files are a few KiB; a file this large is not a data table. */
#define SN_TABLE_FILE_MAX (1024u * 1024u)
/* Longest diagnostic message passed to the callback. */
#define SN_TABLE_MSG_MAX 256

enum table_kind { TABLE_IBAN, TABLE_BANK, TABLE_AREA, TABLE_COUNT };

static const char *const table_name[TABLE_COUNT] = {
	"iban-lengths.txt", "nl-bank-codes.txt", "nl-area-codes.txt"
};

struct loader {
	sn_tables *t;
	sn_diag_cb cb;
	void *payload;
	unsigned problems;
	size_t banks_cap;
	/* where each area code was defined, to point at the offending line
	 * when a 3-digit code starts with a listed 2-digit code */
	unsigned area2_line[100];
	unsigned area3_line[1000];
};

static void diag(struct loader *ld, const char *file, unsigned line, unsigned col,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void diag(struct loader *ld, const char *file, unsigned line, unsigned col,
		 const char *fmt, ...)
{
	char msg[SN_TABLE_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ld->problems++;
	if (ld->cb)
		ld->cb(file, line, col, msg, ld->payload);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void parse_iban(struct loader *ld, const char *file, unsigned line, unsigned col,
		       const char *s, size_t n)
{
	size_t i = 2, numstart;
	unsigned len = 0;
	uint8_t *slot;

	if (n < 2 || !is_upper(s[0]) || !is_upper(s[1]) || (n > 2 && !is_space(s[2]))) {
		diag(ld, file, line, col,
		     "expected a country code of 2 upper-case letters and a length");
		return;
	}
	while (i < n && is_space(s[i]))
		i++;
	numstart = i;
	/* at most 3 digits are read: anything longer is out of range anyway */
	while (i < n && is_digit(s[i])) {
		if (len < 1000)
			len = len * 10 + (unsigned)(s[i] - '0');
		i++;
	}
	if (i == numstart || i != n) {
		diag(ld, file, line, col + (unsigned)numstart,
		     "expected the IBAN length as a number after the country code");
		return;
	}
	if (len < 15 || len > 34) {
		diag(ld, file, line, col + (unsigned)numstart,
		     "IBAN length %u is out of range (15..34)", len);
		return;
	}
	slot = &ld->t->iban_len[(s[0] - 'A') * 26 + (s[1] - 'A')];
	if (*slot && *slot != len) {
		diag(ld, file, line, col, "conflicting lengths %u and %u for %c%c",
		     (unsigned)*slot, len, s[0], s[1]);
		return;
	}
	*slot = (uint8_t)len;
}

static int parse_bank(struct loader *ld, const char *file, unsigned line, unsigned col,
		      const char *s, size_t n)
{
	sn_tables *t = ld->t;

	if (n != 4 || !is_upper(s[0]) || !is_upper(s[1]) || !is_upper(s[2]) ||
	    !is_upper(s[3])) {
		diag(ld, file, line, col, "expected a bank identifier of 4 upper-case letters");
		return 0;
	}
	if (t->n_nl_banks == ld->banks_cap) {
		size_t ncap = ld->banks_cap ? ld->banks_cap * 2 : 128;
		char (*nb)[4] = realloc(t->nl_banks, ncap * sizeof *nb);

		if (!nb)
			return sn_error_set(SN_ENOMEM, "out of memory loading %s", file);
		t->nl_banks = nb;
		ld->banks_cap = ncap;
	}
	memcpy(t->nl_banks[t->n_nl_banks++], s, 4);
	return 0;
}

static void parse_area(struct loader *ld, const char *file, unsigned line, unsigned col,
		       const char *s, size_t n)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			break;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (i != n || (n != 2 && n != 3)) {
		diag(ld, file, line, col, "expected an area code of 2 or 3 digits");
		return;
	}
	if (s[0] == '0') {
		diag(ld, file, line, col, "area codes are written without the trunk 0");
		return;
	}
	if (n == 2) {
		ld->t->area2[v] = 1;
		if (!ld->area2_line[v])
			ld->area2_line[v] = line;
	} else {
		ld->t->area3[v] = 1;
		if (!ld->area3_line[v])
			ld->area3_line[v] = line;
	}
}

/* Parses one file's content; only an allocation failure stops it early. */
static int parse_text(struct loader *ld, enum table_kind kind, const char *file,
		      const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	unsigned line = 0;
	int rc = 0;

	while (p < end && rc == 0) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		const char *hash = memchr(p, '#', (size_t)(le - p));
		const char *b = p, *e = hash ? hash : le;

		line++;
		while (b < e && is_space(*b))
			b++;
		while (e > b && is_space(e[-1]))
			e--;
		if (b < e) {
			unsigned col = (unsigned)(b - p) + 1;

			switch (kind) {
			case TABLE_IBAN:
				parse_iban(ld, file, line, col, b, (size_t)(e - b));
				break;
			case TABLE_BANK:
				rc = parse_bank(ld, file, line, col, b, (size_t)(e - b));
				break;
			default:
				parse_area(ld, file, line, col, b, (size_t)(e - b));
				break;
			}
		}
		p = eol ? eol + 1 : end;
	}
	if (rc == 0 && kind == TABLE_AREA) {
		/* a 3-digit code under a listed 2-digit code would make the
		 * fixed-line classification ambiguous */
		for (unsigned v = 100; v < 1000; v++) {
			if (ld->t->area3[v] && ld->t->area2[v / 10])
				diag(ld, file, ld->area3_line[v], 1,
				     "area code %u overlaps the 2-digit area code %u (line %u)",
				     v, v / 10, ld->area2_line[v / 10]);
		}
	}
	return rc;
}

static int cmp_bank(const void *a, const void *b)
{
	return memcmp(a, b, 4);
}

static void finish(sn_tables *t)
{
	size_t i, k = 0;

	if (!t->n_nl_banks)
		return;
	qsort(t->nl_banks, t->n_nl_banks, sizeof *t->nl_banks, cmp_bank);
	/* duplicates are harmless in the file but would waste a probe */
	for (i = 0; i < t->n_nl_banks; i++) {
		if (k && memcmp(t->nl_banks[k - 1], t->nl_banks[i], 4) == 0)
			continue;
		if (k != i)
			memcpy(t->nl_banks[k], t->nl_banks[i], 4);
		k++;
	}
	t->n_nl_banks = k;
}

void sn_tables_free(sn_tables *t)
{
	if (!t)
		return;
	free(t->nl_banks);
	free(t);
}

int sn_tables_from_strings(sn_tables **out, const char *iban_lengths,
			   const char *nl_bank_codes, const char *nl_area_codes,
			   sn_diag_cb cb, void *payload)
{
	const char *text[TABLE_COUNT] = { iban_lengths, nl_bank_codes, nl_area_codes };
	struct loader ld;
	int rc = 0;

	if (!out)
		return sn_error_set(SN_EINVAL, "sn_tables_from_strings: out is NULL");
	*out = NULL;
	memset(&ld, 0, sizeof ld);
	ld.cb = cb;
	ld.payload = payload;
	ld.t = calloc(1, sizeof *ld.t);
	if (!ld.t)
		return sn_error_set(SN_ENOMEM, "out of memory for the validator tables");
	for (int k = 0; k < TABLE_COUNT && rc == 0; k++) {
		/* NULL stands for an empty file, so a test can give one table */
		const char *s = text[k] ? text[k] : "";

		rc = parse_text(&ld, (enum table_kind)k, table_name[k], s, strlen(s));
	}
	if (rc == 0 && ld.problems)
		rc = sn_error_set(SN_EFORMAT, "%u problem(s) in the validator data tables",
				  ld.problems);
	if (rc == 0) {
		finish(ld.t);
		*out = ld.t;
		ld.t = NULL;
	}
	sn_tables_free(ld.t);
	return rc;
}

/* Reads a whole data file.  Opened non-blocking and checked on the
 * descriptor so that a FIFO or device put in place of a table cannot hang
 * or flood the load. */
static int read_file(struct loader *ld, const char *path, sn_buf *b)
{
	char chunk[4096];
	struct stat st;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		rc = sn_error_set(SN_EIO, "cannot open %s: %s", path, strerror(errno));
		diag(ld, path, 0, 0, "cannot open: %s", strerror(errno));
		goto done;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = sn_error_set(SN_EIO, "%s is not a regular file", path);
		diag(ld, path, 0, 0, "not a regular file");
		goto done;
	}
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = sn_error_set(SN_EIO, "cannot read %s: %s", path, strerror(errno));
			diag(ld, path, 0, 0, "cannot read: %s", strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		if (b->len + (size_t)r > SN_TABLE_FILE_MAX) {
			rc = sn_error_set(SN_EFORMAT, "%s is larger than %u bytes", path,
					  SN_TABLE_FILE_MAX);
			diag(ld, path, 0, 0, "larger than %u bytes: not a data table",
			     SN_TABLE_FILE_MAX);
			goto done;
		}
		sn_buf_put(b, chunk, (size_t)r);
		if (b->failed) {
			rc = sn_error_set(SN_ENOMEM, "out of memory reading %s", path);
			goto done;
		}
	}
done:
	if (fd >= 0)
		close(fd);
	return rc;
}

int sn_tables_load(sn_tables **out, const char *dir, sn_diag_cb cb, void *payload)
{
	struct loader ld;
	sn_buf b;
	int rc = 0, io = 0;

	if (!out || !dir)
		return sn_error_set(SN_EINVAL, "sn_tables_load: NULL argument");
	*out = NULL;
	memset(&ld, 0, sizeof ld);
	ld.cb = cb;
	ld.payload = payload;
	sn_buf_init(&b, SN_TABLE_FILE_MAX);
	ld.t = calloc(1, sizeof *ld.t);
	if (!ld.t) {
		rc = sn_error_set(SN_ENOMEM, "out of memory for the validator tables");
		goto done;
	}
	/* every file is read even after a problem, to report all of them */
	for (int k = 0; k < TABLE_COUNT; k++) {
		char path[PATH_MAX];
		int n = snprintf(path, sizeof path, "%s/%s", dir, table_name[k]);
		int r;

		if (n < 0 || (size_t)n >= sizeof path) {
			rc = sn_error_set(SN_EINVAL, "data directory path too long: %s", dir);
			goto done;
		}
		sn_buf_reset(&b);
		r = read_file(&ld, path, &b);
		if (r == SN_ENOMEM) {
			rc = r;
			goto done;
		}
		if (r == SN_EIO) {
			io = r;
			continue;
		}
		if (r != 0)
			continue;
		r = parse_text(&ld, (enum table_kind)k, path, b.len ? b.p : "", b.len);
		if (r != 0) {
			rc = r;
			goto done;
		}
	}
	if (io) {
		/* the message read_file set names the file that could not be read */
		rc = io;
	} else if (ld.problems) {
		rc = sn_error_set(SN_EFORMAT, "%u problem(s) in the validator data tables in %s",
				  ld.problems, dir);
	}
	if (rc == 0) {
		finish(ld.t);
		*out = ld.t;
		ld.t = NULL;
	}
done:
	sn_buf_free(&b);
	sn_tables_free(ld.t);
	return rc;
}

int sn_tables_nl_bank_known(const sn_tables *t, const char code[4])
{
	if (!t || !code || !t->n_nl_banks)
		return 0;
	return bsearch(code, t->nl_banks, t->n_nl_banks, sizeof *t->nl_banks, cmp_bank) != NULL;
}
