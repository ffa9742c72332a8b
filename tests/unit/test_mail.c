/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unit tests for the mail decoder (decode_mail.c): which texts it takes
 * (messages and mailboxes, not CSV, logs, YAML or prose that mentions
 * "From:"), and what it hands a fake driver -- decoded headers, bodies undone
 * from quoted-printable and base64 and converted to UTF-8, attachments as
 * nested units holding the decoded bytes, forwarded messages, records for
 * encrypted parts, images, damage and limits.
 *
 * Every message is built here from text.  Decoding runs both ways a unit
 * can arrive: as a top-level file (a descriptor GMime reads in place) and as
 * a nested unit (the sniffed head, then a reader).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "source/decoder.h"
#include "speurneus/error.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define HEAD_MAX (64 * 1024) /* what the driver sniffs */
#define PART_MAX (1 << 20)

enum { VIA_READER, VIA_FD };

/* ---------------------------------------------------------------------- */
/* A fake driver: reads every part to its end and keeps what it got        */

typedef struct got_part {
	char name[256];
	int is_text;
	char *data;
	size_t len;
	const char *stop; /* the reader's stop_reason */
} got_part;

typedef struct got_rec {
	char name[256];
	int has_name;
	sn_file_status st;
	const char *reason;
} got_rec;

typedef struct collector {
	got_part parts[128];
	size_t nparts;
	got_rec recs[128];
	size_t nrecs;
	int stop_after; /* member returns SN_ESTOP after this many parts (0: never) */
} collector;

static int fake_member(void *payload, const char *name, sn_input *in)
{
	collector *c = payload;
	assert_true(c->nparts < NELEM(c->parts));
	got_part *p = &c->parts[c->nparts++];
	snprintf(p->name, sizeof p->name, "%s", name);
	p->is_text = in->is_text;
	p->data = malloc(PART_MAX);
	assert_non_null(p->data);
	for (;;) {
		char buf[1000]; /* smaller than a filter's block: reads in pieces */
		ssize_t k = in->read(in->ctx, buf, sizeof buf);
		if (k <= 0)
			break;
		assert_true(p->len + (size_t)k <= PART_MAX);
		memcpy(p->data + p->len, buf, (size_t)k);
		p->len += (size_t)k;
	}
	p->stop = in->stop_reason;
	if (c->stop_after && c->nparts >= (size_t)c->stop_after)
		return SN_ESTOP;
	return 0;
}

static void fake_record(void *payload, const char *name, sn_file_status st, const char *reason,
			const char *detail)
{
	collector *c = payload;
	(void)detail;
	assert_true(c->nrecs < NELEM(c->recs));
	got_rec *r = &c->recs[c->nrecs++];
	r->has_name = name != NULL;
	snprintf(r->name, sizeof r->name, "%s", name ? name : "");
	r->st = st;
	r->reason = reason;
}

static int fake_table_begin(void *payload, const char *name, const char *const *cols,
			    size_t ncols)
{
	(void)payload;
	(void)name;
	(void)cols;
	(void)ncols;
	fail_msg("mail has no tables");
	return 0;
}

static int fake_row(void *payload, int64_t row, const char *const *cells, const size_t *lens,
		    size_t ncells)
{
	(void)payload;
	(void)row;
	(void)cells;
	(void)lens;
	(void)ncells;
	return 0;
}

static int fake_table_end(void *payload)
{
	(void)payload;
	return 0;
}

static const sn_doc_cb fake_cb = { fake_member, fake_record, fake_table_begin, fake_row,
				   fake_table_end };

static void collector_free(collector *c)
{
	for (size_t i = 0; i < c->nparts; i++)
		free(c->parts[i].data);
	memset(c, 0, sizeof *c);
}

static const got_part *part(const collector *c, const char *name)
{
	for (size_t i = 0; i < c->nparts; i++)
		if (strcmp(c->parts[i].name, name) == 0)
			return &c->parts[i];
	return NULL;
}

static const got_rec *rec(const collector *c, const char *name, const char *reason)
{
	for (size_t i = 0; i < c->nrecs; i++)
		if (strcmp(c->recs[i].reason, reason) == 0 &&
		    (name ? c->recs[i].has_name && strcmp(c->recs[i].name, name) == 0
			  : !c->recs[i].has_name))
			return &c->recs[i];
	return NULL;
}

static int has(const got_part *p, const char *needle)
{
	return p && memmem(p->data, p->len, needle, strlen(needle)) != NULL;
}

static void assert_has(const collector *c, const char *name, const char *needle)
{
	const got_part *p = part(c, name);
	if (!p)
		fail_msg("no part \"%s\"", name);
	if (!has(p, needle))
		fail_msg("part \"%s\" lacks \"%s\"", name, needle);
}

/* Decode `data` as the driver would hand it. */
static int decode(const char *data, size_t n, int via, const sn_limits *lim,
		  volatile sig_atomic_t *stop, collector *c)
{
	static const sn_limits defaults = SN_LIMITS_INIT;
	static volatile sig_atomic_t no_stop;
	sn_budget b;
	sn_mem_input rest;
	sn_type ty;
	sn_doc d;
	size_t hn = n < HEAD_MAX ? n : HEAD_MAX;
	int fd = -1;

	sn_budget_init(&b, lim ? lim : &defaults, stop ? stop : &no_stop);
	sn_mem_input_init(&rest, data + hn, n - hn, "test.eml", 0);
	if (via == VIA_FD) {
		char path[] = "/tmp/sn-test-mail-XXXXXX";
		fd = mkstemp(path);
		assert_true(fd >= 0);
		unlink(path);
		assert_int_equal(write(fd, data, n), (ssize_t)n);
		rest.in.fd = fd;
	}
	memset(&ty, 0, sizeof ty);
	ty.kind = SN_KIND_TEXT;
	memset(&d, 0, sizeof d);
	d.head = (const uint8_t *)data;
	d.head_len = hn;
	d.in = &rest.in;
	d.path = via == VIA_FD ? "test.eml" : NULL;
	d.type = &ty;
	d.b = &b;
	d.cb = &fake_cb;
	d.payload = c;
	int rc = sn_decoder_mail.decode(&d);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int decode_str(const char *s, int via, collector *c)
{
	return decode(s, strlen(s), via, NULL, NULL, c);
}

/* ---------------------------------------------------------------------- */
/* accepts()                                                               */

static void test_accepts(void **state)
{
	static const struct {
		const char *text;
		int want;
	} cases[] = {
		{ "From: a@example.nl\nTo: b@example.nl\nSubject: hoi\n\nbody\n", 1 },
		{ "Return-Path: <a@example.nl>\r\nReceived: from x\r\n\tby y; Mon, 1 Jan 2024\r\n"
		  "Date: Mon, 1 Jan 2024 10:00:00 +0100\r\n\r\nbody\r\n", 1 },
		{ "X-Mailer: foo\nMessage-Id: <1@x>\nMime-Version: 1.0\n\n", 1 },
		{ "From jan@example.nl Mon Jan  1 10:00:00 2024\nFrom: jan@example.nl\n"
		  "Subject: x\n\nbody\n", 1 },
		/* many lines before the second known field */
		{ "Received: from a\n\tby b\n\tfor c\nX-1: 1\nX-2: 2\nX-3: 3\nX-4: 4\nX-5: 5\n"
		  "X-6: 6\nX-7: 7\nX-8: 8\nX-9: 9\nX-10: 10\nX-11: 11\nX-12: 12\nX-13: 13\n"
		  "X-14: 14\nX-15: 15\nX-16: 16\nX-17: 17\nX-18: 18\nX-19: 19\nX-20: 20\n"
		  "X-21: 21\nX-22: 22\nX-23: 23\nX-24: 24\nX-25: 25\nX-26: 26\nX-27: 27\n"
		  "X-28: 28\nX-29: 29\nX-30: 30\nX-31: 31\nX-32: 32\nX-33: 33\nX-34: 34\n"
		  "X-35: 35\nX-36: 36\nX-37: 37\nX-38: 38\nX-39: 39\nX-40: 40\nFrom: a@b.nl\n\n",
		  1 },
		/* headers only, no body */
		{ "From: a@example.nl\nTo: b@example.nl\n", 1 },
		/* CSV with mail-like column names */
		{ "From,To,Subject\na@example.nl,b@example.nl,hoi\n", 0 },
		/* prose that quotes a header */
		{ "Beste Jan,\nFrom: me\nTo: you\n\n", 0 },
		{ "From: me\nI wanted to tell you about the BSN.\nTo: you\n\n", 0 },
		{ "From now on we meet on Mondays.\nSubject: agenda\nTo: all\n\n", 0 },
		/* a log */
		{ "Jan  1 10:00:00 mx postfix/smtp[12]: to=<a@example.nl>, status=sent\n"
		  "Jan  1 10:00:01 mx postfix/qmgr[3]: from=<b@example.nl>\n", 0 },
		/* YAML: lower-case keys, and a block sequence */
		{ "from: 2020\nto: 2021\nitems:\n  - a\n", 0 },
		{ "---\nFrom: a\nTo: b\n", 0 },
		/* source code */
		{ "#include <stdio.h>\nint main(void) { return 0; }\n", 0 },
		/* one known field only */
		{ "From: a@example.nl\nX-Note: b\n\nbody\n", 0 },
		/* a space inside a field name */
		{ "From: a@example.nl\nTo: b\nMy Field: c\n\n", 0 },
		{ "", 0 },
		{ "From x\n", 0 },
	};
	sn_type ty;
	(void)state;
	memset(&ty, 0, sizeof ty);
	ty.kind = SN_KIND_TEXT;
	for (size_t i = 0; i < NELEM(cases); i++) {
		int got = sn_decoder_mail.accepts(&ty, (const uint8_t *)cases[i].text,
						  strlen(cases[i].text));
		if (got != cases[i].want)
			fail_msg("case %zu: accepts() = %d", i, got);
	}
	/* not text: never */
	ty.kind = SN_KIND_SKIP;
	ty.reason = "binary";
	assert_false(sn_decoder_mail.accepts(&ty, (const uint8_t *)cases[0].text,
					     strlen(cases[0].text)));
}

/* ---------------------------------------------------------------------- */
/* Decoding                                                                */

static char *full_message(void)
{
	static const char csv[] = "naam;bsn;iban\nJan Jansen;111222333;NL91ABNA0417164300\n";
	gchar *b64 = g_base64_encode((const guchar *)csv, sizeof csv - 1);
	char *m = g_strdup_printf(
		"From: Jan Jansen <jan.jansen@example.nl>\n"
		"To: =?iso-8859-1?q?Jos=E9_de_Vries?= <jose@example.nl>\n"
		"Cc: Piet Pietersen <piet@example.nl>\n"
		"Subject: =?utf-8?b?S2xhbnRlbmxpanN0?=\n"
		"Date: Mon, 1 Jan 2024 10:00:00 +0100\n"
		"Message-ID: <1@example.nl>\n"
		"DKIM-Signature: v=1; a=rsa-sha256; b=AAAA123456782BBBB\n"
		"MIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=\"b1\"\n"
		"\n"
		"This is a multi-part message in MIME format.\n"
		"\n"
		"--b1\n"
		"Content-Type: multipart/alternative; boundary=\"b2\"\n"
		"\n"
		"--b2\n"
		"Content-Type: text/plain; charset=iso-8859-1\n"
		"Content-Transfer-Encoding: quoted-printable\n"
		"\n"
		"Beste Jos=E9,\n"
		"\n"
		"Het BSN is 1234567=\n"
		"82 en de postcode 1234 AB.\n"
		"--b2\n"
		"Content-Type: text/html; charset=utf-8\n"
		"Content-Transfer-Encoding: quoted-printable\n"
		"\n"
		"<p>IBAN <b>NL91ABNA0417164300</b> bel 06-=\n"
		"12345678</p>\n"
		"--b2--\n"
		"\n"
		"--b1\n"
		"Content-Type: text/csv; name=\"klanten.csv\"\n"
		"Content-Disposition: attachment; filename=\"klanten.csv\"\n"
		"Content-Transfer-Encoding: base64\n"
		"\n"
		"%s\n"
		"--b1--\n",
		b64);
	g_free(b64);
	return m;
}

static void test_eml(void **state)
{
	(void)state;
	char *msg = full_message();
	for (int via = VIA_READER; via <= VIA_FD; via++) {
		collector c = { .nparts = 0 };
		assert_int_equal(decode_str(msg, via, &c), 0);
		assert_int_equal(c.nparts, 4);
		assert_int_equal(c.nrecs, 0);

		const got_part *h = part(&c, "headers");
		assert_non_null(h);
		assert_true(h->is_text);
		assert_has(&c, "headers", "From: Jan Jansen <jan.jansen@example.nl>");
		assert_has(&c, "headers", "Jos\xc3\xa9 de Vries <jose@example.nl>");
		assert_has(&c, "headers", "Cc: Piet Pietersen <piet@example.nl>");
		assert_has(&c, "headers", "Subject: Klantenlijst");
		assert_has(&c, "headers", "Date: Mon, 1 Jan 2024");
		/* signatures are not text anyone wrote */
		assert_false(has(h, "DKIM"));

		const got_part *b = part(&c, "body");
		assert_non_null(b);
		assert_true(b->is_text);
		assert_has(&c, "body", "Het BSN is 123456782 en");
		assert_has(&c, "body", "Beste Jos\xc3\xa9,");

		assert_true(part(&c, "body.html")->is_text);
		assert_has(&c, "body.html", "NL91ABNA0417164300");
		assert_has(&c, "body.html", "06-12345678");

		const got_part *a = part(&c, "klanten.csv");
		static const char csv[] =
			"naam;bsn;iban\nJan Jansen;111222333;NL91ABNA0417164300\n";
		assert_non_null(a);
		assert_false(a->is_text); /* sniffed again by the driver */
		assert_int_equal(a->len, sizeof csv - 1);
		assert_memory_equal(a->data, csv, sizeof csv - 1);
		for (size_t i = 0; i < c.nparts; i++)
			assert_null(c.parts[i].stop);
		collector_free(&c);
	}
	g_free(msg);
}

static const char mbox[] =
	"From jan.jansen@example.nl Mon Jan  1 10:00:00 2024\n"
	"From: Jan Jansen <jan.jansen@example.nl>\n"
	"To: piet@example.nl\n"
	"Subject: een\n"
	"\n"
	"Eerste bericht, telefoon 06-12345678.\n"
	"\n"
	"From piet@example.nl Mon Jan  1 11:00:00 2024\n"
	"From: piet@example.nl\n"
	"To: jan.jansen@example.nl\n"
	"Subject: twee\n"
	"\n"
	"Citaat:\n"
	">From the archive: BSN 111222333\n"
	"Einde twee.\n"
	"\n"
	"From jan.jansen@example.nl Mon Jan  1 12:00:00 2024\n"
	"From: jan.jansen@example.nl\n"
	"To: piet@example.nl\n"
	"Subject: drie\n"
	"\n"
	"IBAN NL91ABNA0417164300\n";

static void test_mbox(void **state)
{
	(void)state;
	for (int via = VIA_READER; via <= VIA_FD; via++) {
		collector c = { .nparts = 0 };
		assert_int_equal(decode_str(mbox, via, &c), 0);
		assert_int_equal(c.nparts, 6);
		assert_int_equal(c.nrecs, 0);
		/* the separator line is data too */
		assert_has(&c, "message 1/headers", "From jan.jansen@example.nl Mon Jan");
		assert_has(&c, "message 1/headers", "Subject: een");
		assert_has(&c, "message 1/body", "06-12345678");
		assert_has(&c, "message 2/headers", "Subject: twee");
		/* an escaped From line stays inside its message */
		assert_has(&c, "message 2/body", ">From the archive: BSN 111222333");
		assert_has(&c, "message 2/body", "Einde twee.");
		assert_has(&c, "message 3/headers", "Subject: drie");
		assert_has(&c, "message 3/body", "NL91ABNA0417164300");
		assert_null(part(&c, "message 4/headers"));
		collector_free(&c);
	}
}

static void test_forward(void **state)
{
	static const char msg[] = "From: a@example.nl\n"
				  "To: b@example.nl\n"
				  "Subject: Fwd: gegevens\n"
				  "MIME-Version: 1.0\n"
				  "Content-Type: multipart/mixed; boundary=\"f1\"\n"
				  "\n"
				  "--f1\n"
				  "Content-Type: text/plain\n"
				  "\n"
				  "Zie hieronder.\n"
				  "--f1\n"
				  "Content-Type: message/rfc822\n"
				  "\n"
				  "From: klant@example.nl\n"
				  "To: a@example.nl\n"
				  "Subject: mijn gegevens\n"
				  "\n"
				  "Mijn nummer is 06-12345678.\n"
				  "--f1--\n";
	(void)state;
	for (int via = VIA_READER; via <= VIA_FD; via++) {
		collector c = { .nparts = 0 };
		assert_int_equal(decode_str(msg, via, &c), 0);
		assert_has(&c, "headers", "Subject: Fwd: gegevens");
		assert_has(&c, "body", "Zie hieronder.");
		assert_has(&c, "forwarded/headers", "From: klant@example.nl");
		assert_has(&c, "forwarded/headers", "Subject: mijn gegevens");
		assert_has(&c, "forwarded/body", "06-12345678");
		assert_int_equal(c.nparts, 4);
		assert_int_equal(c.nrecs, 0);
		collector_free(&c);
	}
}

/* Part names: several bodies are numbered, attachments go by file name
 * (control characters replaced) or by number. */
static void test_names(void **state)
{
	static const char msg[] =
		"From: a@example.nl\nTo: b@example.nl\nX-Original-To: c@example.nl\n"
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"n\"\n\n"
		"--n\nContent-Type: text/plain\n\neerste\n"
		"--n\nContent-Type: application/octet-stream\n\nbytes\n"
		"--n\nContent-Type: text/plain; name=\"=?utf-8?q?a=09b=2Etxt?=\"\n\ntab\n"
		"--n\nContent-Type: text/calendar\n\nBEGIN:VCALENDAR\n"
		"--n\nContent-Type: text/plain\n\ntweede\n"
		"--n--\n";
	static const struct {
		const char *name;
		int is_text;
		const char *content;
	} want[] = {
		{ "headers", 1, "X-Original-To: c@example.nl" },
		{ "body", 1, "eerste" },
		{ "attachment 1", 0, "bytes" },
		{ "a_b.txt", 0, "tab" },
		{ "attachment 3", 0, "BEGIN:VCALENDAR" },
		{ "body 2", 1, "tweede" },
	};
	(void)state;
	collector c = { .nparts = 0 };
	assert_int_equal(decode_str(msg, VIA_READER, &c), 0);
	assert_int_equal(c.nparts, NELEM(want));
	for (size_t i = 0; i < NELEM(want); i++) {
		assert_string_equal(c.parts[i].name, want[i].name);
		assert_int_equal(c.parts[i].is_text, want[i].is_text);
		assert_has(&c, want[i].name, want[i].content);
	}
	collector_free(&c);
}

/* Parts that cannot be read are each one record: encrypted (PGP/MIME,
 * S/MIME), images (skipped, counted apart), TNEF. */
static void test_records(void **state)
{
	static const struct {
		const char *msg;
		const char *rec_name;
		sn_file_status st;
		const char *reason;
		size_t nparts; /* handed besides the records */
	} cases[] = {
		{ "From: a@example.nl\nTo: b@example.nl\nMIME-Version: 1.0\n"
		  "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";"
		  " boundary=\"e1\"\n\n"
		  "--e1\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n"
		  "--e1\nContent-Type: application/octet-stream\n\n"
		  "-----BEGIN PGP MESSAGE-----\nhQEMAxxxx\n-----END PGP MESSAGE-----\n--e1--\n",
		  "encrypted", SN_FILE_INCOMPLETE, "encrypted", 1 },
		{ "From: a@example.nl\nTo: b@example.nl\nMIME-Version: 1.0\n"
		  "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; "
		  "name=smime.p7m\nContent-Transfer-Encoding: base64\n\n"
		  "MIAGCSqGSIb3DQEHA6CAMIACAQAxggFgMIIBXAIBADBEMDAxCzAJBgNVBAYT\n",
		  "encrypted", SN_FILE_INCOMPLETE, "encrypted", 1 },
		{ "From: a@example.nl\nTo: b@example.nl\nMIME-Version: 1.0\n"
		  "Content-Type: multipart/mixed; boundary=\"i1\"\n\n"
		  "--i1\nContent-Type: text/plain\n\nZie foto.\n"
		  "--i1\nContent-Type: image/jpeg; name=\"foto.jpg\"\n"
		  "Content-Disposition: attachment; filename=\"foto.jpg\"\n"
		  "Content-Transfer-Encoding: base64\n\n/9j/4AAQSkZJRgABAQAAAQABAAD/\n--i1--\n",
		  "foto.jpg", SN_FILE_SKIPPED, "image", 2 },
		/* Outlook's rich-text wrapper: not read, and not passed as binary */
		{ "From: a@example.nl\nTo: b@example.nl\nMIME-Version: 1.0\n"
		  "Content-Type: multipart/mixed; boundary=\"t1\"\n\n"
		  "--t1\nContent-Type: text/plain\n\nZie bijlage.\n"
		  "--t1\nContent-Type: application/ms-tnef; name=\"winmail.dat\"\n"
		  "Content-Transfer-Encoding: base64\n\neJ8+IgEAAAAAAAAA\n--t1--\n",
		  "winmail.dat", SN_FILE_INCOMPLETE, "unsupported", 2 },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		collector c = { .nparts = 0 };
		assert_int_equal(decode_str(cases[i].msg, VIA_READER, &c), 0);
		const got_rec *r = rec(&c, cases[i].rec_name, cases[i].reason);
		if (!r)
			fail_msg("case %zu: no record", i);
		assert_int_equal(r->st, cases[i].st);
		assert_int_equal(c.nrecs, 1);
		assert_int_equal(c.nparts, cases[i].nparts);
		assert_non_null(part(&c, "headers"));
		collector_free(&c);
	}
}

/* Damaged messages: what was read is handed, the damage is on record. */
static void test_damage(void **state)
{
	static const char truncated[] = "From: a@example.nl\nTo: b@example.nl\n"
					"MIME-Version: 1.0\n"
					"Content-Type: multipart/mixed; boundary=\"zz\"\n\n"
					"--zz\nContent-Type: text/plain\n\nBSN 111222333\n"
					"--zz\nContent-Type: text/csv; name=\"deel.csv\"\n"
					"Content-Disposition: attachment; filename=\"deel.csv\"\n\n"
					"naam;bsn\nJan;1234";
	static const char no_boundary[] = "From: a@example.nl\nTo: b@example.nl\n"
					  "MIME-Version: 1.0\n"
					  "Content-Type: multipart/mixed\n\n"
					  "--zz\nContent-Type: text/plain\n\n"
					  "IBAN NL91ABNA0417164300\n"
					  "--zz--\n";
	static const char bad_header[] = "From: a@example.nl\nTo: b@example.nl\n"
					 "Subject: x\nBSN 111222333 zonder veldnaam\n\nbody\n";
	(void)state;
	for (int via = VIA_READER; via <= VIA_FD; via++) {
		collector c = { .nparts = 0 };
		assert_int_equal(decode_str(truncated, via, &c), 0);
		assert_has(&c, "body", "BSN 111222333");
		assert_has(&c, "deel.csv", "naam;bsn\nJan;1234");
		assert_non_null(rec(&c, NULL, "corrupt"));
		collector_free(&c);

		assert_int_equal(decode_str(no_boundary, via, &c), 0);
		assert_has(&c, "body", "NL91ABNA0417164300");
		assert_non_null(rec(&c, NULL, "corrupt"));
		collector_free(&c);

		/* GMime drops a header line that is not a field: it is kept */
		assert_int_equal(decode_str(bad_header, via, &c), 0);
		assert_has(&c, "headers", "BSN 111222333 zonder veldnaam");
		assert_has(&c, "body", "body");
		collector_free(&c);
	}

	/* binary garbage after the headers */
	static const char hdr[] = "From: a@example.nl\nTo: b@example.nl\n\n";
	char junk[4096 + 64];
	memcpy(junk, hdr, sizeof hdr - 1);
	for (size_t i = sizeof hdr - 1; i < sizeof junk; i++)
		junk[i] = (char)(i * 7);
	collector c = { .nparts = 0 };
	for (int via = VIA_READER; via <= VIA_FD; via++) {
		assert_int_equal(decode(junk, sizeof junk, via, NULL, NULL, &c), 0);
		assert_non_null(part(&c, "headers"));
		assert_non_null(part(&c, "body"));
		collector_free(&c);
	}

	/* MIME parts nested far deeper than any mailer writes */
	GString *deep = g_string_new("From: a@example.nl\nTo: b@example.nl\nMIME-Version: 1.0\n");
	for (int i = 0; i < 200; i++)
		g_string_append_printf(deep, "Content-Type: multipart/mixed; boundary=\"n%d\"\n\n"
					     "--n%d\n", i, i);
	g_string_append(deep, "Content-Type: text/plain\n\ndiep\n");
	assert_int_equal(decode(deep->str, deep->len, VIA_READER, NULL, NULL, &c), 0);
	assert_non_null(rec(&c, NULL, "nesting-depth"));
	collector_free(&c);
	g_string_free(deep, TRUE);
}

/* GMime gives up on an mbox message without header fields: that message is
 * on record and the next ones are still read, from a file and from a
 * stream alike. */
static void test_mbox_damaged(void **state)
{
	static const char middle[] = "From a@example.nl Mon Jan  1 10:00:00 2024\n"
				     "From: a@example.nl\nTo: b@example.nl\n\neen\n\n"
				     "From b@example.nl Mon Jan  1 11:00:00 2024\n"
				     "dit is geen kopregel\nFrom: b@example.nl\n\ntwee\n\n"
				     "From c@example.nl Mon Jan  1 12:00:00 2024\n"
				     "From: c@example.nl\nTo: d@example.nl\n\nBSN 111222333\n";
	static const char last[] = "From a@example.nl Mon Jan  1 10:00:00 2024\n"
				   "From: a@example.nl\nTo: b@example.nl\n\neen\n\n"
				   "From b@example.nl Mon Jan  1 11:00:00 2024\n"
				   "dit is geen kopregel\n";
	(void)state;
	for (int via = VIA_READER; via <= VIA_FD; via++) {
		collector c = { .nparts = 0 };
		assert_int_equal(decode_str(middle, via, &c), 0);
		assert_has(&c, "message 1/body", "een");
		assert_non_null(rec(&c, "message 2", "corrupt"));
		assert_null(part(&c, "message 2/body"));
		assert_has(&c, "message 3/body", "BSN 111222333");
		assert_int_equal(c.nrecs, 1);
		collector_free(&c);

		assert_int_equal(decode_str(last, via, &c), 0);
		assert_has(&c, "message 1/body", "een");
		assert_non_null(rec(&c, "message 2", "corrupt"));
		assert_int_equal(c.nrecs, 1);
		assert_int_equal(c.nparts, 2);
		collector_free(&c);
	}
}

/* Decoded bytes count against the budget: a small member-size limit stops
 * a base64 attachment, and what follows is on record, not read. */
static void test_limit(void **state)
{
	sn_limits lim = SN_LIMITS_INIT;
	char big[5000];
	(void)state;
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)('a' + i % 26);
	gchar *b64 = g_base64_encode((const guchar *)big, sizeof big);
	char *msg = g_strdup_printf(
		"From: a@example.nl\nTo: b@example.nl\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=\"L\"\n\n"
		"--L\nContent-Type: text/plain\n\nklein\n"
		"--L\nContent-Type: text/csv; name=\"groot.csv\"\n"
		"Content-Transfer-Encoding: base64\n\n%s\n"
		"--L\nContent-Type: text/plain; name=\"na.txt\"\n\nBSN 111222333\n--L--\n",
		b64);
	lim.max_member_size = 1000;
	for (int via = VIA_READER; via <= VIA_FD; via++) {
		collector c = { .nparts = 0 };
		assert_int_equal(decode(msg, strlen(msg), via, &lim, NULL, &c), 0);
		assert_has(&c, "body", "klein");
		const got_part *g = part(&c, "groot.csv");
		assert_non_null(g);
		assert_string_equal(g->stop, "member-size");
		assert_true(g->len < 1000);
		assert_null(part(&c, "na.txt"));
		assert_non_null(rec(&c, NULL, "member-size"));
		collector_free(&c);
	}
	g_free(msg);
	g_free(b64);
}

/* A nested mailbox is parsed from a stream and GMime holds each message:
 * one over --max-buffer is recorded and ends the unit; a top-level file is
 * read in place and has no such bound. */
static void test_nested_buffer_limit(void **state)
{
	sn_limits lim = SN_LIMITS_INIT;
	(void)state;
	GString *s = g_string_new("From a@example.nl Mon Jan  1 10:00:00 2024\n"
				  "From: a@example.nl\nTo: b@example.nl\n\nklein\n\n"
				  "From a@example.nl Mon Jan  1 11:00:00 2024\n"
				  "From: a@example.nl\nTo: b@example.nl\n\n");
	for (int i = 0; i < 600; i++)
		g_string_append(s, "een lange regel tekst zonder gegevens\n");
	g_string_append(s, "\nFrom a@example.nl Mon Jan  1 12:00:00 2024\n"
			   "From: a@example.nl\nTo: b@example.nl\n\nBSN 111222333\n");
	lim.max_buffer = 8192;
	collector c = { .nparts = 0 };
	assert_int_equal(decode(s->str, s->len, VIA_READER, &lim, NULL, &c), 0);
	assert_has(&c, "message 1/body", "klein");
	assert_non_null(rec(&c, "message 2", "too-large-to-buffer"));
	assert_null(part(&c, "message 3/body"));
	collector_free(&c);

	assert_int_equal(decode(s->str, s->len, VIA_FD, &lim, NULL, &c), 0);
	assert_int_equal(c.nrecs, 0);
	assert_has(&c, "message 3/body", "BSN 111222333");
	collector_free(&c);
	g_string_free(s, TRUE);
}

static void test_stop(void **state)
{
	volatile sig_atomic_t stop = 1;
	(void)state;
	collector c = { .nparts = 0 };
	for (int via = VIA_READER; via <= VIA_FD; via++) {
		assert_int_equal(decode(mbox, strlen(mbox), via, NULL, &stop, &c), SN_ESTOP);
		assert_int_equal(c.nparts, 0);
		collector_free(&c);
	}

	/* the driver asks to stop after the first part */
	c.stop_after = 1;
	assert_int_equal(decode(mbox, strlen(mbox), VIA_FD, NULL, NULL, &c), SN_ESTOP);
	assert_int_equal(c.nparts, 1);
	collector_free(&c);
}

/* Nothing from a message reaches stderr: GMime's log domain is silenced. */
static void test_quiet(void **state)
{
	(void)state;
	char path[] = "/tmp/sn-test-mail-err-XXXXXX";
	int tmp = mkstemp(path);
	assert_true(tmp >= 0);
	unlink(path);
	fflush(stderr);
	int saved = dup(2);
	assert_true(saved >= 0);
	dup2(tmp, 2);

	collector c = { .nparts = 0 };
	static const char msg[] = "From: =?x-unknown?q?jan=40example.nl?=\nTo: b@example.nl\n"
				  "Content-Type: multipart/mixed\n\n\xff\xfe BSN 111222333\n";
	int rc = decode_str(msg, VIA_READER, &c);
	g_log("gmime", G_LOG_LEVEL_WARNING, "%s", "jan.jansen@example.nl");
	g_log("gmime", G_LOG_LEVEL_CRITICAL, "%s", "111222333");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	struct stat st;
	assert_int_equal(fstat(tmp, &st), 0);
	close(tmp);
	assert_int_equal(rc, 0);
	assert_int_equal(st.st_size, 0);
	collector_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_eml),
		cmocka_unit_test(test_mbox),
		cmocka_unit_test(test_forward),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_mbox_damaged),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_nested_buffer_limit),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_quiet),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
