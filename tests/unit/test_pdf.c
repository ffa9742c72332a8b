/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unit tests for the PDF decoder, driven through its decode() with fake
 * callbacks that read every part to the end and keep every ledger record.
 *
 * The PDFs are written here, byte by byte, by a small writer with a correct
 * cross-reference table: plain and Flate-compressed content with the
 * standard Helvetica font (no ToUnicode map), document information,
 * annotations, a text form field, an embedded file (also inside an object
 * stream, with a cross-reference stream), an image-only page, and RC4
 * encryption (standard security handler, revision 2) with an empty and with
 * a real user password.  A stream bomb (a content stream that inflates
 * to 1 GiB from about a megabyte) is written from one compressed block
 * repeated, so building it costs nothing.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <zlib.h>

#include "source/decoder.h"
#include "speurneus/error.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------------- */
/* A minimal PDF writer                                                    */

#define MAXOBJ 32

typedef struct pdfw {
	uint8_t *p;
	size_t len, cap;
	size_t off[MAXOBJ];
	int in_os[MAXOBJ]; /* 1 + index in the object stream, 0: not in it */
	int maxobj;
	int enc;        /* strings and streams are RC4-encrypted with key */
	uint8_t key[5];
} pdfw;

static void w_put(pdfw *w, const void *s, size_t n)
{
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		while (cap < w->len + n)
			cap *= 2;
		w->p = realloc(w->p, cap);
		assert_non_null(w->p);
		w->cap = cap;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

static void w_printf(pdfw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void w_printf(pdfw *w, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	assert_true(k >= 0 && (size_t)k < sizeof tmp);
	w_put(w, tmp, (size_t)k);
}

static void w_begin(pdfw *w, int num)
{
	assert_true(num > 0 && num < MAXOBJ);
	w->off[num] = w->len;
	if (num > w->maxobj)
		w->maxobj = num;
	w_printf(w, "%d 0 obj\n", num);
}

static void w_end(pdfw *w)
{
	w_printf(w, "\nendobj\n");
}

static void md5(const void *p, size_t n, uint8_t out[16])
{
	GChecksum *c = g_checksum_new(G_CHECKSUM_MD5);
	gsize l = 16;
	g_checksum_update(c, p, (gssize)n);
	g_checksum_get_digest(c, out, &l);
	g_checksum_free(c);
}

static void rc4(const uint8_t *key, size_t kl, uint8_t *buf, size_t n)
{
	uint8_t s[256], t;
	unsigned i, j = 0;
	for (i = 0; i < 256; i++)
		s[i] = (uint8_t)i;
	for (i = 0; i < 256; i++) {
		j = (j + s[i] + key[i % kl]) & 255;
		t = s[i], s[i] = s[j], s[j] = t;
	}
	i = j = 0;
	for (size_t k = 0; k < n; k++) {
		i = (i + 1) & 255;
		j = (j + s[i]) & 255;
		t = s[i], s[i] = s[j], s[j] = t;
		buf[k] ^= s[(s[i] + s[j]) & 255];
	}
}

/* Encrypt data belonging to object `num` in place (algorithm 1, PDF 1.7). */
static void w_crypt(const pdfw *w, int num, uint8_t *buf, size_t n)
{
	uint8_t in[10], k[16];
	if (!w->enc)
		return;
	memcpy(in, w->key, 5);
	in[5] = (uint8_t)num, in[6] = (uint8_t)(num >> 8), in[7] = (uint8_t)(num >> 16);
	in[8] = in[9] = 0;
	md5(in, sizeof in, k);
	rc4(k, 10, buf, n);
}

static void w_hex(pdfw *w, const uint8_t *b, size_t n)
{
	w_put(w, "<", 1);
	for (size_t i = 0; i < n; i++)
		w_printf(w, "%02X", b[i]);
	w_put(w, ">", 1);
}

/* A string of object `num`, as hex. */
static void w_str(pdfw *w, int num, const char *s)
{
	size_t n = strlen(s);
	uint8_t *b = malloc(n + 1);
	assert_non_null(b);
	memcpy(b, s, n);
	w_crypt(w, num, b, n);
	w_hex(w, b, n);
	free(b);
}

static void w_stream(pdfw *w, int num, const char *extra, const void *data, size_t n, int flate)
{
	uLongf zn = compressBound((uLong)n);
	uint8_t *b = malloc(zn + 1);
	assert_non_null(b);
	if (flate) {
		assert_int_equal(compress2(b, &zn, data, (uLong)n, 9), Z_OK);
		n = zn;
	} else {
		memcpy(b, data, n);
	}
	w_crypt(w, num, b, n);
	w_begin(w, num);
	w_printf(w, "<< /Length %zu%s%s >>\nstream\n", n, flate ? " /Filter /FlateDecode" : "",
		 extra ? extra : "");
	w_put(w, b, n);
	w_printf(w, "\nendstream");
	w_end(w);
	free(b);
}

/* Object 20: an object stream holding `n` objects whose bodies are in
 * body[] (each written to a pdfw of its own). */
#define OBJSTM 20
#define XREFSTM 21

static void w_objstm(pdfw *w, const int *nums, const pdfw *body, int n)
{
	pdfw hdr, all;
	size_t off = 0;
	memset(&hdr, 0, sizeof hdr);
	memset(&all, 0, sizeof all);
	for (int i = 0; i < n; i++) {
		w_printf(&hdr, "%d %zu ", nums[i], off);
		off += body[i].len + 1;
		w->in_os[nums[i]] = i + 1;
		if (nums[i] > w->maxobj)
			w->maxobj = nums[i];
	}
	w_put(&all, hdr.p, hdr.len);
	for (int i = 0; i < n; i++) {
		w_put(&all, body[i].p, body[i].len);
		w_put(&all, "\n", 1);
	}
	char extra[64];
	snprintf(extra, sizeof extra, " /Type /ObjStm /N %d /First %zu", n, hdr.len);
	w_stream(w, OBJSTM, extra, all.p, all.len, 1);
	free(hdr.p);
	free(all.p);
}

static const uint8_t pad[32] = { 0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41,
				 0x64, 0x00, 0x4E, 0x56, 0xFF, 0xFA, 0x01, 0x08,
				 0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68, 0x3E, 0x80,
				 0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A };
static const uint8_t doc_id[16] = "speurneus-pdf-id";

/* RC4 40-bit, revision 2: the key from the user password (algorithm 2) and
 * /U (algorithm 4).  /O only feeds the key here, so any 32 bytes do. */
static void w_encrypt_setup(pdfw *w, const char *user, uint8_t u[32], uint8_t o[32])
{
	uint8_t in[32 + 32 + 4 + 16], d[16];
	size_t ul = strlen(user);
	memset(o, 0x4f, 32);
	memcpy(in, user, ul);
	memcpy(in + ul, pad, 32 - ul);
	memcpy(in + 32, o, 32);
	memcpy(in + 64, "\xfc\xff\xff\xff", 4); /* /P -4, little-endian */
	memcpy(in + 68, doc_id, 16);
	md5(in, sizeof in, d);
	memcpy(w->key, d, 5);
	memcpy(u, pad, 32);
	rc4(w->key, 5, u, 32);
	w->enc = 1;
}

/* A cross-reference stream (needed for objects in an object stream). */
static uint8_t *w_finish_xrefstm(pdfw *w, size_t *len)
{
	size_t x = w->len;
	int size = (w->maxobj > XREFSTM ? w->maxobj : XREFSTM) + 1;
	uint8_t e[MAXOBJ * 7];
	w->off[XREFSTM] = x;
	memset(e, 0, sizeof e);
	for (int i = 0; i < size; i++) {
		uint8_t *r = e + i * 7;
		uint32_t f2 = 0, f3 = 0;
		if (w->in_os[i])
			r[0] = 2, f2 = OBJSTM, f3 = (uint32_t)(w->in_os[i] - 1);
		else if (i && w->off[i])
			r[0] = 1, f2 = (uint32_t)w->off[i];
		r[1] = (uint8_t)(f2 >> 24), r[2] = (uint8_t)(f2 >> 16);
		r[3] = (uint8_t)(f2 >> 8), r[4] = (uint8_t)f2;
		r[5] = (uint8_t)(f3 >> 8), r[6] = (uint8_t)f3;
	}
	w_begin(w, XREFSTM);
	w_printf(w, "<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n",
		 size, size * 7);
	w_put(w, e, (size_t)size * 7);
	w_printf(w, "\nendstream");
	w_end(w);
	w_printf(w, "startxref\n%zu\n%%%%EOF\n", x);
	*len = w->len;
	return w->p;
}

static uint8_t *w_finish(pdfw *w, int info, int enc, size_t *len)
{
	size_t x = w->len;
	w_printf(w, "xref\n0 %d\n0000000000 65535 f \n", w->maxobj + 1);
	for (int i = 1; i <= w->maxobj; i++) {
		if (w->off[i])
			w_printf(w, "%010zu 00000 n \n", w->off[i]);
		else
			w_printf(w, "0000000000 00000 f \n");
	}
	w_printf(w, "trailer\n<< /Size %d /Root 1 0 R", w->maxobj + 1);
	if (info)
		w_printf(w, " /Info 4 0 R");
	if (enc) {
		w_printf(w, " /Encrypt 10 0 R /ID [");
		w_hex(w, doc_id, 16);
		w_hex(w, doc_id, 16);
		w_printf(w, "]");
	}
	w_printf(w, " >>\nstartxref\n%zu\n%%%%EOF\n", x);
	*len = w->len;
	return w->p;
}

/* ---------------------------------------------------------------------- */
/* Test documents                                                          */

enum { ENC_NONE, ENC_EMPTY, ENC_PASSWORD };

typedef struct spec {
	const char *text[3];    /* text shown on the first pages (NULL: no more) */
	int flate;
	const char *author;     /* /Info /Author */
	int image_page;         /* then a page that only shows an image: 8x8
				   pixels, or with big_image 8192x4096 blank
				   ones that compress about 1000:1 */
	int big_image;
	int empty_page;         /* then a page with nothing on it */
	const char *annot_label, *annot; /* a comment on page 1 */
	const char *field_name, *field_value; /* a text field on page 1 */
	const char *attach_name, *attach;     /* an embedded file */
	int objstm;    /* its file specification in an object stream */
	int bad_ref;   /* the name tree refers to a string object, not to it */
	int enc;
} spec;

/* Objects: 1 catalog, 2 page tree, 3 font, 4 info, 5 image, 6 comment,
 * 7 form field and widget, 8 file specification, 9 embedded file,
 * 10 encryption, 11 + 2i page i, 12 + 2i its content, 20 object stream,
 * 21 cross-reference stream, 22 a string. */
static uint8_t *build(const spec *s, size_t *len)
{
	pdfw w;
	uint8_t u[32], o[32];
	int npages = 0, pg[8];
	char buf[512];

	memset(&w, 0, sizeof w);
	w_printf(&w, "%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n");
	if (s->enc)
		w_encrypt_setup(&w, s->enc == ENC_PASSWORD ? "geheim" : "", u, o);
	for (int i = 0; i < 3 && s->text[i]; i++, npages++)
		pg[npages] = 11 + 2 * npages;
	int img = 0, empty = 0;
	if (s->image_page) {
		img = pg[npages] = 11 + 2 * npages;
		npages++;
	}
	if (s->empty_page) {
		empty = pg[npages] = 11 + 2 * npages;
		npages++;
	}

	w_begin(&w, 1);
	w_printf(&w, "<< /Type /Catalog /Pages 2 0 R");
	if (s->field_name)
		w_printf(&w, " /AcroForm << /Fields [7 0 R] >>");
	if (s->attach) {
		w_printf(&w, " /Names << /EmbeddedFiles << /Names [");
		w_str(&w, 1, s->attach_name);
		w_printf(&w, " %d 0 R] >> >>", s->bad_ref ? 22 : 8);
	}
	w_printf(&w, " >>");
	w_end(&w);

	w_begin(&w, 2);
	w_printf(&w, "<< /Type /Pages /Count %d /Kids [", npages);
	for (int i = 0; i < npages; i++)
		w_printf(&w, "%d 0 R ", pg[i]);
	w_printf(&w, "] >>");
	w_end(&w);

	w_begin(&w, 3);
	w_printf(&w, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
	w_end(&w);

	if (s->author) {
		w_begin(&w, 4);
		w_printf(&w, "<< /Author ");
		w_str(&w, 4, s->author);
		w_printf(&w, " >>");
		w_end(&w);
	}
	if (img) {
		unsigned wd = s->big_image ? 8192 : 8, ht = s->big_image ? 4096 : 8;
		uint8_t *pixels = malloc((size_t)wd * ht);
		assert_non_null(pixels);
		memset(pixels, 0xff, (size_t)wd * ht);
		snprintf(buf, sizeof buf,
			 " /Type /XObject /Subtype /Image /Width %u /Height %u"
			 " /ColorSpace /DeviceGray /BitsPerComponent 8",
			 wd, ht);
		w_stream(&w, 5, buf, pixels, (size_t)wd * ht, s->flate);
		free(pixels);
	}
	if (s->annot) {
		w_begin(&w, 6);
		w_printf(&w, "<< /Type /Annot /Subtype /Text /Rect [72 500 92 520] /Contents ");
		w_str(&w, 6, s->annot);
		if (s->annot_label) {
			w_printf(&w, " /T ");
			w_str(&w, 6, s->annot_label);
		}
		w_printf(&w, " >>");
		w_end(&w);
	}
	if (s->field_name) {
		w_begin(&w, 7);
		w_printf(&w, "<< /Type /Annot /Subtype /Widget /FT /Tx /F 4 /P 11 0 R"
			     " /Rect [72 400 272 420] /T ");
		w_str(&w, 7, s->field_name);
		w_printf(&w, " /V ");
		w_str(&w, 7, s->field_value);
		w_printf(&w, " >>");
		w_end(&w);
	}
	if (s->attach) {
		pdfw body[2];
		int nums[2] = { 8, 22 };
		memset(body, 0, sizeof body);
		body[0].enc = body[1].enc = w.enc;
		memcpy(body[0].key, w.key, 5);
		memcpy(body[1].key, w.key, 5);
		w_printf(&body[0], "<< /Type /Filespec /F ");
		w_str(&body[0], 8, s->attach_name);
		w_printf(&body[0], " /EF << /F 9 0 R >> >>");
		w_str(&body[1], 22, s->attach_name);
		int nbody = s->bad_ref ? 2 : 1;
		if (s->objstm) {
			w_objstm(&w, nums, body, nbody);
		} else {
			for (int i = 0; i < nbody; i++) {
				w_begin(&w, nums[i]);
				w_put(&w, body[i].p, body[i].len);
				w_end(&w);
			}
		}
		free(body[0].p);
		free(body[1].p);
		snprintf(buf, sizeof buf, " /Type /EmbeddedFile /Params << /Size %zu >>",
			 strlen(s->attach));
		w_stream(&w, 9, buf, s->attach, strlen(s->attach), s->flate);
	}
	if (s->enc) {
		w_begin(&w, 10);
		w_printf(&w, "<< /Filter /Standard /V 1 /R 2 /P -4 /O ");
		w_hex(&w, o, 32);
		w_printf(&w, " /U ");
		w_hex(&w, u, 32);
		w_printf(&w, " >>");
		w_end(&w);
	}
	for (int i = 0; i < npages; i++) {
		int n = pg[i];
		w_begin(&w, n);
		w_printf(&w, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
			     " /Resources << /Font << /F1 3 0 R >>");
		if (n == img)
			w_printf(&w, " /XObject << /Im1 5 0 R >>");
		w_printf(&w, " >>");
		if (n != empty)
			w_printf(&w, " /Contents %d 0 R", n + 1);
		if (i == 0 && (s->annot || s->field_name))
			w_printf(&w, " /Annots [%s%s]", s->annot ? "6 0 R " : "",
				 s->field_name ? "7 0 R" : "");
		w_printf(&w, " >>");
		w_end(&w);
		if (n == empty)
			continue;
		if (n == img)
			snprintf(buf, sizeof buf, "q 100 0 0 100 72 600 cm /Im1 Do Q\n");
		else
			snprintf(buf, sizeof buf, "BT /F1 12 Tf 72 700 Td (%s) Tj ET\n",
				 s->text[i]);
		w_stream(&w, n + 1, NULL, buf, strlen(buf), s->flate);
	}
	if (s->objstm)
		return w_finish_xrefstm(&w, len);
	return w_finish(&w, s->author != NULL, s->enc, len);
}

/* One page whose content inflates to `chunks` times about 1 MiB of text
 * operators: one chunk compressed with a full flush, so every further chunk
 * compresses to the same bytes, and the Adler-32 combined for the whole. */
static uint8_t *build_bomb(unsigned chunks, size_t *len)
{
	static const char op[] = "BT /F1 12 Tf 72 700 Td (06-12345678) Tj ET\n";
	const size_t opl = sizeof op - 1, per = (1u << 20) / opl, clen = per * opl;
	uint8_t *chunk = malloc(clen), *z1 = malloc(clen), *z2 = malloc(clen), tail[64];
	size_t n1, n2, nt;
	z_stream z;
	pdfw w;

	assert_non_null(chunk);
	assert_non_null(z1);
	assert_non_null(z2);
	for (size_t i = 0; i < per; i++)
		memcpy(chunk + i * opl, op, opl);
	memset(&z, 0, sizeof z);
	assert_int_equal(deflateInit(&z, 9), Z_OK);
	z.next_in = chunk, z.avail_in = (uInt)clen, z.next_out = z1, z.avail_out = (uInt)clen;
	assert_int_equal(deflate(&z, Z_FULL_FLUSH), Z_OK);
	n1 = clen - z.avail_out;
	z.next_in = chunk, z.avail_in = (uInt)clen, z.next_out = z2, z.avail_out = (uInt)clen;
	assert_int_equal(deflate(&z, Z_FULL_FLUSH), Z_OK);
	n2 = clen - z.avail_out;
	z.next_in = chunk, z.avail_in = 0, z.next_out = tail, z.avail_out = sizeof tail;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	nt = sizeof tail - z.avail_out;
	deflateEnd(&z);
	uLong a1 = adler32(adler32(0, NULL, 0), chunk, (uInt)clen), a = a1;
	for (unsigned i = 1; i < chunks; i++)
		a = adler32_combine(a, a1, (z_off_t)clen);
	tail[nt - 4] = (uint8_t)(a >> 24), tail[nt - 3] = (uint8_t)(a >> 16);
	tail[nt - 2] = (uint8_t)(a >> 8), tail[nt - 1] = (uint8_t)a;

	memset(&w, 0, sizeof w);
	w_printf(&w, "%%PDF-1.4\n");
	w_begin(&w, 1);
	w_printf(&w, "<< /Type /Catalog /Pages 2 0 R >>");
	w_end(&w);
	w_begin(&w, 2);
	w_printf(&w, "<< /Type /Pages /Count 1 /Kids [11 0 R] >>");
	w_end(&w);
	w_begin(&w, 3);
	w_printf(&w, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
	w_end(&w);
	w_begin(&w, 11);
	w_printf(&w, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
		     " /Resources << /Font << /F1 3 0 R >> >> /Contents 12 0 R >>");
	w_end(&w);
	w_begin(&w, 12);
	w_printf(&w, "<< /Length %zu /Filter /FlateDecode >>\nstream\n",
		 n1 + n2 * (chunks - 1) + nt);
	w_put(&w, z1, n1);
	for (unsigned i = 1; i < chunks; i++)
		w_put(&w, z2, n2);
	w_put(&w, tail, nt);
	w_printf(&w, "\nendstream");
	w_end(&w);
	free(chunk);
	free(z1);
	free(z2);
	return w_finish(&w, 0, 0, len);
}

/* ---------------------------------------------------------------------- */
/* Fake driver                                                             */

#define MAXPARTS 16
#define MAXRECS 16

typedef struct part {
	char name[64];
	uint8_t *data;
	size_t len;
	int is_text;
} part;

typedef struct rec {
	char name[64];
	int unit; /* name was NULL: the unit itself */
	sn_file_status st;
	char reason[32];
	char detail[160];
} rec;

typedef struct got {
	part parts[MAXPARTS];
	size_t nparts;
	rec recs[MAXRECS];
	size_t nrecs;
	int stop_at_part; /* answer SN_ESTOP to this part (1-based), 0: never */
} got;

static int cb_member(void *payload, const char *name, sn_input *in)
{
	got *g = payload;
	uint8_t buf[4096];
	part *p = g->nparts < MAXPARTS ? &g->parts[g->nparts] : NULL;
	ssize_t k;

	g->nparts++;
	if (p) {
		snprintf(p->name, sizeof p->name, "%s", name);
		p->is_text = in->is_text;
	}
	/* read to the end, as the driver does */
	while ((k = in->read(in->ctx, buf, sizeof buf)) > 0) {
		if (!p)
			continue;
		p->data = realloc(p->data, p->len + (size_t)k + 1);
		if (!p->data)
			abort();
		memcpy(p->data + p->len, buf, (size_t)k);
		p->len += (size_t)k;
		p->data[p->len] = '\0';
	}
	return g->stop_at_part && (int)g->nparts == g->stop_at_part ? SN_ESTOP : 0;
}

static void cb_record(void *payload, const char *name, sn_file_status st, const char *reason,
		      const char *detail)
{
	got *g = payload;
	if (g->nrecs < MAXRECS) {
		rec *r = &g->recs[g->nrecs];
		snprintf(r->name, sizeof r->name, "%s", name ? name : "");
		r->unit = name == NULL;
		r->st = st;
		snprintf(r->reason, sizeof r->reason, "%s", reason ? reason : "");
		snprintf(r->detail, sizeof r->detail, "%s", detail ? detail : "");
	}
	g->nrecs++;
}

static const sn_doc_cb fake_cb = { cb_member, cb_record, NULL, NULL, NULL };

static void got_free(got *g)
{
	for (size_t i = 0; i < g->nparts && i < MAXPARTS; i++)
		free(g->parts[i].data);
	memset(g, 0, sizeof *g);
}

static const part *find_part(const got *g, const char *name)
{
	for (size_t i = 0; i < g->nparts && i < MAXPARTS; i++)
		if (strcmp(g->parts[i].name, name) == 0)
			return &g->parts[i];
	return NULL;
}

static int part_has(const got *g, const char *name, const char *needle)
{
	const part *p = find_part(g, name);
	return p && p->len && memmem(p->data, p->len, needle, strlen(needle)) != NULL;
}

static const rec *find_rec(const got *g, const char *reason)
{
	for (size_t i = 0; i < g->nrecs && i < MAXRECS; i++)
		if (strcmp(g->recs[i].reason, reason) == 0)
			return &g->recs[i];
	return NULL;
}

static volatile sig_atomic_t no_stop;

/* Run the decoder over `pdf`; `fd` >= 0 offers the unit as a top-level file
 * (its bytes must be the same). */
static int run_with(const uint8_t *pdf, size_t n, const sn_limits *lim,
		    volatile sig_atomic_t *stop, int fd, got *g)
{
	sn_limits def = SN_LIMITS_INIT;
	sn_budget b;
	sn_mem_input rest;
	sn_type ty;
	sn_doc d;
	size_t head = n < 512 ? n : 512;

	sn_budget_init(&b, lim ? lim : &def, stop ? stop : &no_stop);
	sn_mem_input_init(&rest, pdf + head, n - head, "test.pdf", 0);
	rest.in.fd = fd;
	memset(&ty, 0, sizeof ty);
	ty.kind = SN_KIND_SKIP;
	ty.reason = "document";
	snprintf(ty.detail, sizeof ty.detail, "PDF document");
	memset(&d, 0, sizeof d);
	d.head = pdf;
	d.head_len = head;
	d.in = &rest.in;
	d.type = &ty;
	d.b = &b;
	d.cb = &fake_cb;
	d.payload = g;
	assert_ptr_equal(sn_decoder_find(&ty, pdf, head), &sn_decoder_pdf);
	return sn_decoder_pdf.decode(&d);
}

static int run(const uint8_t *pdf, size_t n, got *g)
{
	return run_with(pdf, n, NULL, NULL, -1, g);
}

static int temp_file(const uint8_t *p, size_t n)
{
	char path[] = "/tmp/sn-test-pdf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	return fd;
}

/* ---------------------------------------------------------------------- */
/* Tests                                                                   */

static void test_accepts(void **state)
{
	static const struct {
		const char *reason, *detail, *head;
		int want;
	} cases[] = {
		{ "document", "PDF document", "%PDF-1.7\n", 1 },
		{ "document", "PDF document, version 1.4", "\r\n%PDF-1.4", 1 },
		{ "binary", "unknown binary data", "%PDF-1.4\n", 1 },
		{ "document", "OLE2 compound document", "\xd0\xcf\x11\xe0", 0 },
		{ "archive", "ZIP archive", "PK\3\4", 0 },
		{ NULL, "text", "Zie %PDF-1.4 in de bijlage", 0 },
		{ NULL, "text", "%PDF", 0 },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		sn_type ty;
		memset(&ty, 0, sizeof ty);
		ty.reason = cases[i].reason;
		snprintf(ty.detail, sizeof ty.detail, "%s", cases[i].detail);
		const uint8_t *h = (const uint8_t *)cases[i].head;
		assert_int_equal(sn_decoder_pdf.accepts(&ty, h, strlen(cases[i].head)),
				 cases[i].want);
	}
	assert_string_equal(sn_decoder_pdf.name, "pdf");
}

/* Two pages, plain and Flate, in memory and from a descriptor: one part per
 * page holding its own values and nothing else on record. */
static void test_pages(void **state)
{
	(void)state;
	for (int flate = 0; flate < 2; flate++) {
		for (int from_fd = 0; from_fd < 2; from_fd++) {
			spec s = { .text = { "BSN 111222333", "IBAN NL91ABNA0417164300" },
				   .flate = flate };
			size_t n;
			uint8_t *pdf = build(&s, &n);
			int fd = from_fd ? temp_file(pdf, n) : -1;
			got g;
			memset(&g, 0, sizeof g);
			assert_int_equal(run_with(pdf, n, NULL, NULL, fd, &g), 0);
			assert_int_equal(g.nparts, 2);
			assert_int_equal(g.nrecs, 0);
			assert_true(find_part(&g, "page 1")->is_text);
			assert_true(part_has(&g, "page 1", "111222333"));
			assert_false(part_has(&g, "page 1", "NL91"));
			assert_true(part_has(&g, "page 2", "NL91ABNA0417164300"));
			if (fd >= 0) {
				/* poppler had a duplicate: the unit's own stays open */
				assert_int_not_equal(fcntl(fd, F_GETFD), -1);
				close(fd);
			}
			got_free(&g);
			free(pdf);
		}
	}
}

/* Document information, comments, form fields: parts of their own. */
static void test_properties_annotations_form(void **state)
{
	spec s = { .text = { "Geachte heer Jansen" },
		   .flate = 1,
		   .author = "jan.jansen@example.nl",
		   .annot_label = "Jan Jansen",
		   .annot = "bel 06-12345678",
		   .field_name = "bsn",
		   .field_value = "123456782" };
	size_t n;
	uint8_t *pdf = build(&s, &n);
	got g;
	(void)state;
	memset(&g, 0, sizeof g);
	assert_int_equal(run(pdf, n, &g), 0);
	assert_int_equal(g.nrecs, 0);
	assert_true(part_has(&g, "properties", "Author: jan.jansen@example.nl"));
	assert_true(part_has(&g, "page 1", "Jansen"));
	assert_true(part_has(&g, "page 1 annotations", "bel 06-12345678"));
	assert_true(part_has(&g, "page 1 annotations", "Jan Jansen"));
	assert_true(part_has(&g, "page 1 form", "bsn: 123456782"));
	/* the field's value is not page text (no appearance stream) */
	assert_false(part_has(&g, "page 1", "123456782"));
	assert_true(find_part(&g, "page 1 form")->is_text);
	/* nothing from the information dictionary when there is none */
	got_free(&g);
	free(pdf);
	spec bare = { .text = { "x" } };
	pdf = build(&bare, &n);
	memset(&g, 0, sizeof g);
	assert_int_equal(run(pdf, n, &g), 0);
	assert_null(find_part(&g, "properties"));
	assert_null(find_part(&g, "page 1 annotations"));
	assert_null(find_part(&g, "page 1 form"));
	got_free(&g);
	free(pdf);
}

/* An image-only page is skipped "image"; an empty page says nothing. */
static void test_image_page(void **state)
{
	spec s = { .text = { "postcode 1234 AB" }, .image_page = 1, .empty_page = 1 };
	size_t n;
	uint8_t *pdf = build(&s, &n);
	got g;
	(void)state;
	memset(&g, 0, sizeof g);
	assert_int_equal(run(pdf, n, &g), 0);
	assert_int_equal(g.nparts, 1);
	assert_true(part_has(&g, "page 1", "1234 AB"));
	assert_int_equal(g.nrecs, 1);
	assert_string_equal(g.recs[0].name, "page 2");
	assert_int_equal(g.recs[0].st, SN_FILE_SKIPPED);
	assert_string_equal(g.recs[0].reason, "image");
	assert_non_null(strstr(g.recs[0].detail, "only images"));
	got_free(&g);
	free(pdf);

	/* a blank page scanned at a high resolution compresses far past the
	 * ratio limit; text extraction never decodes it, so it is no bomb */
	s.flate = 1;
	s.big_image = 1;
	pdf = build(&s, &n);
	memset(&g, 0, sizeof g);
	assert_int_equal(run(pdf, n, &g), 0);
	assert_true(part_has(&g, "page 1", "1234 AB"));
	assert_int_equal(g.nrecs, 1);
	assert_string_equal(g.recs[0].reason, "image");
	got_free(&g);
	free(pdf);
}

/* An embedded file is a nested unit, read whole; over --max-buffer it is on
 * record by name and the rest of the document is still read. */
static void test_attachment(void **state)
{
	static const char csv[] = "naam;iban\nJan;NL91ABNA0417164300\n";
	(void)state;
	for (int flate = 0; flate < 2; flate++) {
		spec s = { .text = { "zie bijlage" }, .flate = flate,
			   .attach_name = "klanten.csv", .attach = csv };
		size_t n;
		uint8_t *pdf = build(&s, &n);
		got g;
		memset(&g, 0, sizeof g);
		assert_int_equal(run(pdf, n, &g), 0);
		assert_int_equal(g.nrecs, 0);
		const part *p = find_part(&g, "klanten.csv");
		assert_non_null(p);
		assert_false(p->is_text);
		assert_int_equal(p->len, strlen(csv));
		assert_memory_equal(p->data, csv, strlen(csv));
		got_free(&g);

		/* from a descriptor, so only the attachment is held in memory */
		sn_limits lim = SN_LIMITS_INIT;
		lim.max_buffer = 16;
		int fd = temp_file(pdf, n);
		memset(&g, 0, sizeof g);
		assert_int_equal(run_with(pdf, n, &lim, NULL, fd, &g), 0);
		close(fd);
		assert_null(find_part(&g, "klanten.csv"));
		assert_true(part_has(&g, "page 1", "bijlage"));
		const rec *r = find_rec(&g, "too-large-to-buffer");
		assert_non_null(r);
		assert_string_equal(r->name, "klanten.csv");
		assert_int_equal(r->st, SN_FILE_INCOMPLETE);
		got_free(&g);
		free(pdf);
	}
}

/* Embedded files in a PDF that keeps its objects in an object stream are
 * read; a name tree entry that refers to a string (which crashes
 * poppler_document_get_attachments) leaves them on record, unread, at the
 * top level and inside an object stream alike. */
static void test_attachment_objects(void **state)
{
	static const char csv[] = "naam;bsn\nJan;111222333\n";
	(void)state;
	for (int objstm = 0; objstm < 2; objstm++) {
		for (int bad = 0; bad < 2; bad++) {
			spec s = { .text = { "zie bijlage" }, .flate = 1, .attach_name = "k.csv",
				   .attach = csv, .objstm = objstm, .bad_ref = bad };
			size_t n;
			uint8_t *pdf = build(&s, &n);
			got g;
			memset(&g, 0, sizeof g);
			assert_int_equal(run(pdf, n, &g), 0);
			assert_true(part_has(&g, "page 1", "bijlage"));
			if (bad) {
				assert_null(find_part(&g, "k.csv"));
				const rec *r = find_rec(&g, "unsupported");
				assert_non_null(r);
				assert_true(r->unit);
			} else {
				assert_true(part_has(&g, "k.csv", "111222333"));
				assert_int_equal(g.nrecs, 0);
			}
			got_free(&g);
			free(pdf);
		}
	}
}

/* RC4 with an empty user password opens and is read, strings and streams
 * decrypted; with a real password it is one "encrypted" record. */
static void test_encrypted(void **state)
{
	spec s = { .text = { "BSN 111222333" }, .flate = 1, .author = "jan.jansen@example.nl",
		   .enc = ENC_EMPTY };
	size_t n;
	uint8_t *pdf = build(&s, &n);
	got g;
	(void)state;
	memset(&g, 0, sizeof g);
	assert_int_equal(run(pdf, n, &g), 0);
	assert_int_equal(g.nrecs, 0);
	assert_true(part_has(&g, "page 1", "111222333"));
	assert_true(part_has(&g, "properties", "jan.jansen@example.nl"));
	got_free(&g);
	free(pdf);

	s.enc = ENC_PASSWORD;
	pdf = build(&s, &n);
	memset(&g, 0, sizeof g);
	assert_int_equal(run(pdf, n, &g), 0);
	assert_int_equal(g.nparts, 0);
	assert_int_equal(g.nrecs, 1);
	assert_true(g.recs[0].unit);
	assert_int_equal(g.recs[0].st, SN_FILE_INCOMPLETE);
	assert_string_equal(g.recs[0].reason, "encrypted");
	got_free(&g);
	free(pdf);
}

/* Run with stdout and stderr sent to a file; returns how much was written. */
static off_t run_silenced(const uint8_t *pdf, size_t n, got *g, int *rc)
{
	char path[] = "/tmp/sn-test-pdf-out-XXXXXX";
	int tmp = mkstemp(path);
	assert_true(tmp >= 0);
	unlink(path);
	fflush(stdout);
	fflush(stderr);
	int so = dup(1), se = dup(2);
	dup2(tmp, 1);
	dup2(tmp, 2);
	*rc = run(pdf, n, g);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	struct stat st;
	assert_int_equal(fstat(tmp, &st), 0);
	close(tmp);
	return st.st_size;
}

/* Garbage after the header: "corrupt", and poppler's complaints (which
 * quote the document) reach neither stdout nor stderr, even with GLib's
 * debug messages switched on (main sets G_MESSAGES_DEBUG=all). */
static void test_garbage(void **state)
{
	uint8_t pdf[4096];
	uint32_t x = 12345;
	got g;
	int rc;
	(void)state;
	memcpy(pdf, "%PDF-1.4\n", 9);
	for (size_t i = 9; i < sizeof pdf; i++) {
		x = x * 1103515245u + 12345u;
		pdf[i] = (uint8_t)(x >> 16);
	}
	/* fragments poppler will try to parse */
	memcpy(pdf + 1000, "\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R >>\nendobj\n", 51);
	memcpy(pdf + 3000, "\ntrailer\n<< /Root 1 0 R >>\nstartxref\n77\n%%EOF\n", 46);
	memset(&g, 0, sizeof g);
	assert_int_equal(run_silenced(pdf, sizeof pdf, &g, &rc), 0);
	assert_int_equal(rc, 0);
	assert_int_equal(g.nparts, 0);
	assert_int_equal(g.nrecs, 1);
	assert_true(g.recs[0].unit);
	assert_int_equal(g.recs[0].st, SN_FILE_INCOMPLETE);
	assert_string_equal(g.recs[0].reason, "corrupt");
	got_free(&g);
}

/* Damaged and truncated files: poppler rebuilds what it can; every page is
 * read or on record, and nothing is printed. */
static void test_truncated(void **state)
{
	spec s = { .text = { "BSN 111222333", "IBAN NL91ABNA0417164300" }, .flate = 1 };
	size_t n;
	uint8_t *pdf = build(&s, &n);
	const uint8_t *xref = memmem(pdf, n, "xref\n", 5), *trailer = memmem(pdf, n, "trailer", 7);
	got g;
	int rc;
	(void)state;
	assert_non_null(xref);
	assert_non_null(trailer);

	/* the cross-reference table gone, the trailer kept: rebuilt */
	uint8_t *noxref = malloc(n);
	assert_non_null(noxref);
	size_t body = (size_t)(xref - pdf), tail = n - (size_t)(trailer - pdf);
	memcpy(noxref, pdf, body);
	memcpy(noxref + body, trailer, tail);
	memset(&g, 0, sizeof g);
	assert_int_equal(run_silenced(noxref, body + tail, &g, &rc), 0);
	assert_int_equal(rc, 0);
	assert_true(part_has(&g, "page 1", "111222333"));
	assert_true(part_has(&g, "page 2", "NL91ABNA0417164300"));
	got_free(&g);
	free(noxref);

	/* cut before the table and trailer: no root to rebuild from */
	memset(&g, 0, sizeof g);
	assert_int_equal(run_silenced(pdf, body, &g, &rc), 0);
	assert_int_equal(rc, 0);
	assert_int_equal(g.nparts, 0);
	assert_non_null(find_rec(&g, "corrupt"));
	got_free(&g);

	/* every prefix: no crash, no output, never silent */
	for (size_t cut = 9; cut < n; cut += 37) {
		memset(&g, 0, sizeof g);
		assert_int_equal(run_silenced(pdf, cut, &g, &rc), 0);
		assert_int_equal(rc, 0);
		assert_true(g.nparts > 0 || g.nrecs > 0);
		got_free(&g);
	}
	free(pdf);
}

/* A content stream that inflates to 1 GiB from about a megabyte stops at
 * the ratio limit, quickly, before poppler lays out any of it. */
static void test_stream_bomb(void **state)
{
	size_t n;
	uint8_t *pdf = build_bomb(1024, &n);
	got g;
	(void)state;
	assert_true(n < (4u << 20));
	memset(&g, 0, sizeof g);
	assert_int_equal(run(pdf, n, &g), 0);
	assert_null(find_part(&g, "page 1"));
	const rec *r = find_rec(&g, "ratio");
	assert_non_null(r);
	assert_true(r->unit);
	assert_int_equal(r->st, SN_FILE_INCOMPLETE);
	got_free(&g);

	/* the same from a descriptor */
	int fd = temp_file(pdf, n);
	memset(&g, 0, sizeof g);
	assert_int_equal(run_with(pdf, n, NULL, NULL, fd, &g), 0);
	close(fd);
	assert_null(find_part(&g, "page 1"));
	assert_non_null(find_rec(&g, "ratio"));
	got_free(&g);
	free(pdf);
}

/* The text of each page counts against the budget: a limit reached stops
 * at the next page, on record. */
static void test_budget_between_pages(void **state)
{
	spec s = { .text = { "BSN 111222333", "IBAN NL91ABNA0417164300", "06-12345678" } };
	sn_limits lim = SN_LIMITS_INIT;
	size_t n;
	uint8_t *pdf = build(&s, &n);
	got g;
	(void)state;
	lim.max_total_size = 20;
	memset(&g, 0, sizeof g);
	assert_int_equal(run_with(pdf, n, &lim, NULL, -1, &g), 0);
	assert_true(part_has(&g, "page 1", "111222333"));
	assert_null(find_part(&g, "page 2"));
	assert_null(find_part(&g, "page 3"));
	const rec *r = find_rec(&g, "total-size");
	assert_non_null(r);
	assert_true(r->unit);
	got_free(&g);
	free(pdf);
}

/* The stop flag and a driver that asks to stop both end decoding with
 * SN_ESTOP. */
static void test_stop(void **state)
{
	spec s = { .text = { "BSN 111222333", "IBAN NL91ABNA0417164300" } };
	volatile sig_atomic_t stop = 1;
	size_t n;
	uint8_t *pdf = build(&s, &n);
	got g;
	(void)state;
	memset(&g, 0, sizeof g);
	assert_int_equal(run_with(pdf, n, NULL, &stop, -1, &g), SN_ESTOP);
	assert_int_equal(g.nparts, 0);
	got_free(&g);

	memset(&g, 0, sizeof g);
	g.stop_at_part = 1;
	assert_int_equal(run(pdf, n, &g), SN_ESTOP);
	assert_int_equal(g.nparts, 1);
	got_free(&g);
	free(pdf);
}

typedef struct job {
	const uint8_t *pdf;
	size_t n;
	int ok;
} job;

static void *worker(void *arg)
{
	job *j = arg;
	j->ok = 1;
	for (int i = 0; i < 8; i++) {
		got g;
		memset(&g, 0, sizeof g);
		if (run(j->pdf, j->n, &g) != 0 || g.nrecs != 0 || !part_has(&g, "page 2", "NL91") ||
		    !part_has(&g, "properties", "jan.jansen@example.nl"))
			j->ok = 0;
		got_free(&g);
	}
	return NULL;
}

/* Decoders run on several workers at once. */
static void test_threads(void **state)
{
	spec s = { .text = { "BSN 111222333", "IBAN NL91ABNA0417164300" },
		   .flate = 1,
		   .author = "jan.jansen@example.nl" };
	pthread_t t[4];
	job j[4];
	size_t n;
	uint8_t *pdf = build(&s, &n);
	(void)state;
	for (int i = 0; i < 4; i++) {
		j[i] = (job){ pdf, n, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, worker, &j[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_true(j[i].ok);
	}
	free(pdf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_pages),
		cmocka_unit_test(test_properties_annotations_form),
		cmocka_unit_test(test_image_page),
		cmocka_unit_test(test_attachment),
		cmocka_unit_test(test_attachment_objects),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_stream_bomb),
		cmocka_unit_test(test_budget_between_pages),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_threads),
	};
	/* poppler's messages must be discarded, not merely unprinted by default */
	setenv("G_MESSAGES_DEBUG", "all", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
