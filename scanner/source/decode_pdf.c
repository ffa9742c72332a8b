/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * PDF through poppler-glib (see decoder.h).  Every page is one text part,
 * "page N"; the document information dictionary is "properties"; comments
 * (annotations) and filled-in form fields of a page are "page N annotations"
 * and "page N form"; embedded files, document-level or attached to an
 * annotation, are nested units named after the file.  A page without text
 * that shows images is a scan: it is recorded as skipped "image" so the
 * summary counts it apart.
 *
 * A top-level file is opened from a duplicate of its descriptor, so poppler
 * reads it in place however large it is; anything nested is buffered
 * (--max-buffer).  Font encodings, ToUnicode maps, decryption with an empty
 * user password and rebuilding a damaged cross-reference table are
 * poppler's work; a document that needs a password is recorded "encrypted".
 *
 * Poppler inflates page content inside one call (poppler_page_get_text), and
 * its text layout costs tens of bytes of memory per decoded byte of content:
 * a 100 KiB PDF whose content stream inflates to a few hundred MiB would take
 * gigabytes before any text came back to be counted.  So before poppler
 * sees the document, every Flate stream that page text could draw on is
 * inflated once into a scratch buffer and judged as a member of its own by
 * sn_budget_check (ratio, member size, time); a stream over a limit leaves
 * the page text unread and on record.  Image XObjects are left out of that
 * check: text extraction never decodes them, and a blank page scanned at a
 * high resolution compresses far past any ratio.  The text that comes back,
 * and embedded files, count against the budget as they are produced.
 *
 * poppler_document_get_attachments dereferences NULL when the embedded-file
 * list refers to an object that is a string; before it is called, the bytes
 * are searched for string objects (object streams included), and where one
 * may exist the embedded files are left unread, on record.
 *
 * Poppler reports syntax errors through GLib logging in the "Poppler"
 * domain, message text taken from the document included; a handler
 * installed once discards that domain so nothing from a document reaches
 * stderr, whatever G_MESSAGES_DEBUG says; GLib's own warnings are discarded
 * too while a thread is inside poppler.  A PopplerDocument is used by one
 * thread only; poppler guards its own global parameters.
 */
#include "source/decoder.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poppler.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/buf.h"
#include "common/stop.h"
#include "speurneus/error.h"

#define SN_PDF_WINDOW (256 * 1024)  /* bytes searched for streams at a time */
#define SN_PDF_LOOKBACK 1024        /* bytes before "stream" read as its dictionary */
#define SN_PDF_CHUNK (64 * 1024)    /* inflate input and scratch output */
#define SN_PDF_CHECK_EVERY (64 * 1024) /* embedded-file bytes between budget checks */
#define SN_PDF_OBJSTM_MAX (16u << 20) /* an object stream read whole, at most */

/* Returned internally when a limit ended the unit (already on record). */
#define PDF_LIMIT 1

static pthread_once_t pdf_once = PTHREAD_ONCE_INIT;

/* Poppler builds its global parameters (encodings, Unicode tables) when a
 * document opens while none is open and drops them when the last one
 * closes: a millisecond per PDF, more than reading a small one.  A tiny
 * document held for the life of the process keeps them. */
static PopplerDocument *pdf_keepalive;
static const char pdf_tiny[] =
	"%PDF-1.4\n"
	"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
	"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
	"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 1 1] >> endobj\n"
	"trailer << /Root 1 0 R >>\n%%EOF\n";

/* Set while this thread is inside poppler. */
static _Thread_local int pdf_quiet;

static void pdf_log_discard(const gchar *domain, GLogLevelFlags level, const gchar *msg,
			    gpointer data)
{
	(void)domain;
	(void)level;
	(void)msg;
	(void)data;
}

/* GLib's own domains are shared with the rest of the process: only what
 * poppler provokes (a malformed date in an embedded file's dictionary
 * becomes a GLib-CRITICAL) is discarded. */
static void pdf_log_glib(const gchar *domain, GLogLevelFlags level, const gchar *msg,
			 gpointer data)
{
	if (!pdf_quiet)
		g_log_default_handler(domain, level, msg, data);
}

static void pdf_init(void)
{
	const GLogLevelFlags all = G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION;
	g_log_set_handler("Poppler", all, pdf_log_discard, NULL);
	g_log_set_handler("GLib", all, pdf_log_glib, NULL);
	g_log_set_handler("GLib-GObject", all, pdf_log_glib, NULL);
	GBytes *b = g_bytes_new_static(pdf_tiny, sizeof pdf_tiny - 1);
	pdf_keepalive = poppler_document_new_from_bytes(b, NULL, NULL);
	g_bytes_unref(b);
}

static int pdf_accepts(const sn_type *ty, const uint8_t *head, size_t n)
{
	if (n >= 5 && memcmp(head, "%PDF-", 5) == 0)
		return 1;
	/* "PDF document" from the signature table, "PDF document, version
	 * 1.7" from libmagic */
	return ty && ty->reason && strcmp(ty->reason, "document") == 0 &&
	       strncmp(ty->detail, "PDF document", 12) == 0;
}

/* ---------------------------------------------------------------------- */
/* The unit's bytes, in memory or read in place                            */

typedef struct pdf_src {
	const uint8_t *mem; /* the whole unit, or NULL: pread from fd */
	int fd;
	uint64_t size;
} pdf_src;

static size_t pdf_src_read(const pdf_src *s, uint64_t off, uint8_t *buf, size_t n)
{
	size_t got = 0;
	if (off >= s->size)
		return 0;
	if (n > s->size - off)
		n = (size_t)(s->size - off);
	if (s->mem) {
		memcpy(buf, s->mem + off, n);
		return n;
	}
	while (got < n) {
		ssize_t k = pread(s->fd, buf + got, n - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break; /* shrunk or unreadable: poppler meets the same end */
		got += (size_t)k;
	}
	return got;
}

/* ---------------------------------------------------------------------- */
/* Stream bombs: inflate what page text draws on before poppler does       */

typedef struct pdf_bomb {
	const char *why; /* the limit a stream reached, or NULL */
	uint64_t in, out;
} pdf_bomb;

static int is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\0';
}

static int is_delim(uint8_t c)
{
	return is_ws(c) || c == '/' || c == '<' || c == '>' || c == '[' || c == ']' || c == '(' ||
	       c == ')' || c == '%';
}

/* The last occurrence of `lit` in p[0, n). */
static const uint8_t *last_of(const uint8_t *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	for (size_t i = n; i >= l; i--)
		if (memcmp(p + i - l, lit, l) == 0)
			return p + i - l;
	return NULL;
}

static int hexval(uint8_t c)
{
	return c >= '0' && c <= '9' ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* The name `name` ("/Type") at p, read as a PDF parser reads it (with #xx
 * escapes): the end of it in p, or NULL. */
static const uint8_t *name_at(const uint8_t *p, const uint8_t *end, const char *name)
{
	for (; *name; name++) {
		if (p >= end)
			return NULL;
		int c = *p++;
		if (c == '#' && end - p >= 2 && hexval(p[0]) >= 0 && hexval(p[1]) >= 0) {
			c = hexval(p[0]) * 16 + hexval(p[1]);
			p += 2;
		}
		if (c != (uint8_t)*name)
			return NULL;
	}
	return p < end && !is_delim(*p) ? NULL : p;
}

/* White space and comments. */
static const uint8_t *skip_ws(const uint8_t *p, const uint8_t *end)
{
	while (p < end) {
		if (*p == '%') {
			while (p < end && *p != '\r' && *p != '\n')
				p++;
		} else if (is_ws(*p)) {
			p++;
		} else {
			break;
		}
	}
	return p;
}

/* The value after the name `key` in a dictionary's bytes, or NULL. */
static const uint8_t *dict_value(const uint8_t *p, size_t n, const char *key, const uint8_t **end)
{
	const uint8_t *q = p;
	*end = p + n;
	while ((q = memchr(q, '/', (size_t)(*end - q))) != NULL) {
		const uint8_t *v = name_at(q, *end, key);
		if (v)
			return skip_ws(v, *end);
		q++;
	}
	return NULL;
}

/* Whether the dictionary maps the name `key` to the name `value`. */
static int dict_name_is(const uint8_t *p, size_t n, const char *key, const char *value)
{
	const uint8_t *end, *v = dict_value(p, n, key, &end);
	return v && name_at(v, end, value) != NULL;
}

/* A direct non-negative integer after `key`, or -1 (absent, or an
 * indirect reference "12 0 R"). */
static int64_t dict_int(const uint8_t *p, size_t n, const char *key)
{
	const uint8_t *end, *v = dict_value(p, n, key, &end);
	int64_t val = 0;
	int digits = 0;
	if (!v)
		return -1;
	while (v < end && *v >= '0' && *v <= '9' && digits < 15) {
		val = val * 10 + (*v++ - '0');
		digits++;
	}
	if (!digits)
		return -1;
	const uint8_t *q = v;
	while (q < end && is_ws(*q))
		q++;
	if (q < end && *q >= '0' && *q <= '9')
		return -1;
	return val;
}

/* The first bytes after a "stream" keyword ending at p: its end of line. */
static size_t stream_eol(const uint8_t *p, const uint8_t *end)
{
	size_t e = 0;
	if (p + e < end && p[e] == '\r')
		e++;
	if (p + e < end && p[e] == '\n')
		e++;
	return e;
}

/* Keywords in the unit's bytes, one pass: a window with SN_PDF_LOOKBACK
 * bytes before each keyword found and `ahead` bytes after it (fewer only at
 * the end of the unit). */
typedef struct pdf_walk {
	const pdf_src *s;
	uint8_t *win;
	uint64_t wstart, pos; /* pos: where the search goes on */
	size_t wlen, ahead;
} pdf_walk;

static int pdf_walk_init(pdf_walk *w, const pdf_src *s, size_t ahead)
{
	memset(w, 0, sizeof *w);
	w->s = s;
	w->ahead = ahead;
	w->win = malloc(SN_PDF_LOOKBACK + SN_PDF_WINDOW);
	return w->win ? 0 : sn_error_set(SN_ENOMEM, "pdf: out of memory");
}

/* The index in w->win of the next `kw`, or -1 at the end of the unit. */
static ssize_t pdf_walk_next(pdf_walk *w, const char *kw)
{
	const size_t kl = strlen(kw), cap = SN_PDF_LOOKBACK + SN_PDF_WINDOW;
	const uint64_t size = w->s->size;
	for (;;) {
		if (w->pos >= size)
			return -1;
		uint64_t need = size - w->pos < kl ? size - w->pos : kl;
		if (w->pos < w->wstart || w->pos + need > w->wstart + w->wlen) {
			w->wstart = w->pos > SN_PDF_LOOKBACK ? w->pos - SN_PDF_LOOKBACK : 0;
			w->wlen = pdf_src_read(w->s, w->wstart, w->win, cap);
			if (w->pos + need > w->wstart + w->wlen)
				return -1; /* shorter than it was: poppler meets the same end */
		}
		size_t at = (size_t)(w->pos - w->wstart);
		const uint8_t *hit = memmem(w->win + at, w->wlen - at, kw, kl);
		/* a short read is the end too: the file shrank */
		int at_end = w->wstart + w->wlen >= size || w->wlen < cap;
		if (!hit) {
			/* keep the last bytes: a keyword may straddle windows */
			w->pos = at_end ? size : w->wstart + w->wlen - (kl - 1);
			continue;
		}
		at = (size_t)(hit - w->win);
		if (at + kl + w->ahead > w->wlen && !at_end) {
			w->pos = w->wstart + at;
			w->wlen = 0; /* read again from the keyword */
			continue;
		}
		w->pos = w->wstart + at + kl;
		return (ssize_t)at;
	}
}

typedef struct pdf_inflater {
	z_stream z;
	uint8_t *in, *out;
	int init;
} pdf_inflater;

static int pdf_inflater_init(pdf_inflater *f)
{
	memset(f, 0, sizeof *f);
	f->in = malloc(SN_PDF_CHUNK);
	f->out = malloc(SN_PDF_CHUNK);
	if (!f->in || !f->out || inflateInit(&f->z) != Z_OK)
		return sn_error_set(SN_ENOMEM, "pdf: out of memory");
	f->init = 1;
	return 0;
}

static void pdf_inflater_free(pdf_inflater *f)
{
	if (f->init)
		inflateEnd(&f->z);
	free(f->in);
	free(f->out);
}

typedef struct pdf_inflated {
	uint64_t consumed, produced;
	int end;         /* the stream ended where Flate data ends */
	const char *why; /* a limit it reached */
} pdf_inflated;

/* Inflate the stream whose data starts with first[0, nfirst) and goes on at
 * `next` in the unit: into scratch memory, or kept in `keep` up to its
 * maximum.  It is judged by sn_budget_check as a member of its own.
 * Returns 0 or SN_ESTOP. */
static int pdf_inflate(sn_doc *d, pdf_inflater *f, const pdf_src *s, const uint8_t *first,
		       size_t nfirst, uint64_t next, sn_buf *keep, pdf_inflated *res)
{
	z_stream *z = &f->z;
	int r;
	memset(res, 0, sizeof *res);
	inflateReset(z);
	z->next_in = (Bytef *)first;
	z->avail_in = (uInt)nfirst;
	for (;;) {
		if (z->avail_in == 0) {
			size_t k = pdf_src_read(s, next, f->in, SN_PDF_CHUNK);
			if (k == 0)
				break;
			next += k;
			z->next_in = f->in;
			z->avail_in = (uInt)k;
		}
		z->next_out = f->out;
		z->avail_out = SN_PDF_CHUNK;
		r = inflate(z, Z_NO_FLUSH);
		size_t got = SN_PDF_CHUNK - z->avail_out;
		res->produced += got;
		if (sn_stop_requested(d->b->stop))
			return SN_ESTOP;
		res->why = sn_budget_check(d->b, res->produced, z->total_in, 0);
		if (res->why)
			break;
		if (keep) {
			sn_buf_put(keep, (const char *)f->out, got);
			if (keep->failed)
				break;
		}
		if (r == Z_STREAM_END)
			res->end = 1;
		if (r != Z_OK)
			break; /* the end, or not (or no longer) Flate data */
	}
	res->consumed = z->total_in;
	return 0;
}

/* Find "stream" keywords after a dictionary's ">>" and inflate the Flate
 * data that follows each (what is not Flate fails at once). */
static int pdf_bomb_check(sn_doc *d, const pdf_src *s, pdf_bomb *bomb)
{
	pdf_walk w;
	pdf_inflater f;
	pdf_inflated res;
	ssize_t at;
	int rc = pdf_walk_init(&w, s, 2);

	if (rc == 0)
		rc = pdf_inflater_init(&f);
	else
		memset(&f, 0, sizeof f);
	while (rc == 0 && (at = pdf_walk_next(&w, "stream")) >= 0) {
		if (sn_stop_requested(d->b->stop)) {
			rc = SN_ESTOP;
			break;
		}
		const uint8_t *win = w.win, *kw = win + at;
		size_t b = (size_t)at;
		while (b > 0 && is_ws(win[b - 1]))
			b--;
		if (b < 2 || win[b - 1] != '>' || win[b - 2] != '>')
			continue; /* "endstream", or the word inside data */
		const uint8_t *data = kw + 6;
		data += stream_eol(data, win + w.wlen);
		size_t lb = (size_t)at > SN_PDF_LOOKBACK ? (size_t)at - SN_PDF_LOOKBACK : 0;
		const uint8_t *dict = win + lb, *obj = last_of(dict, (size_t)at - lb, " obj");
		if (obj)
			dict = obj;
		size_t dlen = (size_t)(kw - dict);
		uint64_t data_off = w.wstart + (uint64_t)(data - win);
		/* images are never decoded for text; embedded files are
		 * counted as they are read */
		if (dict_name_is(dict, dlen, "/Subtype", "/Image") ||
		    dict_name_is(dict, dlen, "/Type", "/EmbeddedFile")) {
			int64_t len = dict_int(dict, dlen, "/Length");
			if (len > 0)
				w.pos = data_off + (uint64_t)len;
			continue;
		}
		rc = pdf_inflate(d, &f, s, data, w.wlen - (size_t)(data - win),
				 w.wstart + w.wlen, NULL, &res);
		if (rc == 0 && res.why) {
			bomb->why = res.why;
			bomb->in = res.consumed;
			bomb->out = res.produced;
			break;
		}
		w.pos = data_off + res.consumed;
	}
	pdf_inflater_free(&f);
	free(w.win);
	return rc;
}

/* Whether what starts at p (after white space) is a string. */
static int starts_string(const uint8_t *p, const uint8_t *end)
{
	p = skip_ws(p, end);
	return p < end && (*p == '(' || (*p == '<' && (p + 1 == end || p[1] != '<')));
}

static int read_uint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	int digits = 0;
	while (*p < end && is_ws(**p))
		(*p)++;
	for (*v = 0; *p < end && **p >= '0' && **p <= '9' && digits < 15; (*p)++, digits++)
		*v = *v * 10 + (uint64_t)(**p - '0');
	return digits ? 0 : -1;
}

/* Whether an object stream holds a string object, or cannot be read. */
static int objstm_has_string(const uint8_t *p, size_t n, int64_t first, int64_t count)
{
	if (first < 0 || count < 0 || (uint64_t)first > n)
		return 1;
	const uint8_t *q = p, *hdr_end = p + first;
	for (int64_t i = 0; i < count; i++) {
		uint64_t num, off;
		if (read_uint(&q, hdr_end, &num) || read_uint(&q, hdr_end, &off) ||
		    off >= n - (size_t)first)
			return 1;
		if (starts_string(p + first + off, p + n))
			return 1;
	}
	return 0;
}

/*
 * Poppler-glib's poppler_document_get_attachments dereferences NULL when an
 * entry of the embedded-file name tree refers to an indirect object that is
 * a string (poppler 22.12 and later).  Before it is called, the unit is
 * searched for indirect objects that are strings, at the top level and
 * inside object streams.  Returns 1 when there is one or an object stream
 * cannot be read (encrypted, not Flate, over SN_PDF_OBJSTM_MAX), 0 when
 * there is none, or SN_ESTOP / SN_ENOMEM.
 */
static int pdf_string_objects(sn_doc *d, const pdf_src *s)
{
	pdf_walk w;
	pdf_inflater f;
	pdf_inflated res;
	sn_buf keep;
	ssize_t at;
	int rc = pdf_walk_init(&w, s, SN_PDF_LOOKBACK), found = 0;

	sn_buf_init(&keep, SN_PDF_OBJSTM_MAX);
	if (rc == 0)
		rc = pdf_inflater_init(&f);
	else
		memset(&f, 0, sizeof f);
	while (rc == 0 && !found && (at = pdf_walk_next(&w, "obj")) >= 0) {
		if (sn_stop_requested(d->b->stop)) {
			rc = SN_ESTOP;
			break;
		}
		const uint8_t *win = w.win, *end = win + w.wlen, *p = win + at + 3;
		/* the keyword "obj" ("12 0 obj"), not "endobj" */
		if ((at > 0 && !is_delim(win[at - 1])) || (p < end && !is_delim(*p)))
			continue;
		if (starts_string(p, end)) {
			found = 1;
			break;
		}
		p = skip_ws(p, end);
		if (end - p < 2 || p[0] != '<' || p[1] != '<')
			continue;
		const uint8_t *lim = p + SN_PDF_LOOKBACK < end ? p + SN_PDF_LOOKBACK : end;
		const uint8_t *kw = memmem(p, (size_t)(lim - p), "stream", 6), *e;
		size_t dlen = (size_t)((kw ? kw : lim) - p);
		/* poppler reads any stream with /N and /First as an object
		 * stream when the cross-reference data says it is one */
		if (!dict_name_is(p, dlen, "/Type", "/ObjStm") &&
		    !(dict_value(p, dlen, "/N", &e) && dict_value(p, dlen, "/First", &e)))
			continue;
		if (!kw) {
			found = 1; /* a dictionary too long to read here */
			break;
		}
		const uint8_t *data = kw + 6;
		data += stream_eol(data, end);
		sn_buf_reset(&keep);
		rc = pdf_inflate(d, &f, s, data, (size_t)(end - data), w.wstart + w.wlen, &keep,
				 &res);
		if (rc)
			break;
		int64_t first = dict_int(p, dlen, "/First"), count = dict_int(p, dlen, "/N");
		if (!res.end || keep.failed ||
		    objstm_has_string((const uint8_t *)keep.p, keep.len, first, count))
			found = 1;
		w.pos = w.wstart + (uint64_t)(data - win) + res.consumed;
	}
	pdf_inflater_free(&f);
	sn_buf_free(&keep);
	free(w.win);
	return rc ? rc : found;
}

/* ---------------------------------------------------------------------- */
/* Parts                                                                   */

typedef struct pdf_ctx {
	sn_doc *d;
	PopplerDocument *doc;
	const pdf_src *src;
	uint64_t size; /* the unit's bytes: what the budget's ratio is judged on */
	size_t max_buffer;
	sn_buf att;    /* one embedded file at a time */
	unsigned att_seq;
} pdf_ctx;

/* Hand one text part.  Returns 0, the driver's stop code, or PDF_LIMIT. */
static int pdf_emit(pdf_ctx *c, const char *name, const char *text, size_t n)
{
	char detail[96];
	const char *why = sn_doc_check(c->d, n, c->size);
	if (why) {
		snprintf(detail, sizeof detail, "stopped at %s", name);
		c->d->cb->record(c->d->payload, NULL, SN_FILE_INCOMPLETE, why, detail);
		return PDF_LIMIT;
	}
	return sn_doc_text(c->d, name, n ? text : "", n);
}

/* Hand a part collected in `b` (nothing when empty). */
static int pdf_emit_buf(pdf_ctx *c, const char *name, sn_buf *b)
{
	int rc = 0;
	if (b->len)
		rc = pdf_emit(c, name, b->p, b->len);
	if (b->failed && rc == 0)
		c->d->cb->record(c->d->payload, name, SN_FILE_INCOMPLETE, "too-large-to-buffer",
				 "the rest of this part is over --max-buffer");
	return rc;
}

/* "label: value\n", taking ownership of value. */
static void put_field(sn_buf *b, const char *label, gchar *value)
{
	if (value && *value) {
		if (label)
			sn_buf_printf(b, "%s: ", label);
		sn_buf_puts(b, value);
		sn_buf_putc(b, '\n');
	}
	g_free(value);
}

static int pdf_properties(pdf_ctx *c)
{
	sn_buf b;
	int rc;
	sn_buf_init(&b, c->max_buffer);
	put_field(&b, "Title", poppler_document_get_title(c->doc));
	put_field(&b, "Author", poppler_document_get_author(c->doc));
	put_field(&b, "Subject", poppler_document_get_subject(c->doc));
	put_field(&b, "Keywords", poppler_document_get_keywords(c->doc));
	put_field(&b, "Creator", poppler_document_get_creator(c->doc));
	put_field(&b, "Producer", poppler_document_get_producer(c->doc));
	rc = pdf_emit_buf(c, "properties", &b);
	sn_buf_free(&b);
	return rc;
}

typedef struct pdf_save {
	pdf_ctx *c;
	uint64_t pending; /* bytes not yet counted against the budget */
	const char *why;
	int over, stop;
} pdf_save;

static int pdf_save_flush(pdf_save *s)
{
	sn_doc *d = s->c->d;
	if (sn_stop_requested(d->b->stop)) {
		s->stop = 1;
		return -1;
	}
	s->why = sn_doc_check(d, s->pending, s->c->size);
	s->pending = 0;
	return s->why ? -1 : 0;
}

static gboolean pdf_save_cb(const gchar *p, gsize n, gpointer data, GError **error)
{
	pdf_save *s = data;
	sn_buf *b = &s->c->att;
	(void)error;
	if (n > b->max - b->len) {
		s->over = 1;
		return FALSE;
	}
	sn_buf_put(b, p, n);
	if (b->failed) {
		s->over = 1;
		return FALSE;
	}
	s->pending += n;
	if (s->pending >= SN_PDF_CHECK_EVERY && pdf_save_flush(s) < 0)
		return FALSE;
	return TRUE;
}

/* Read one embedded file into memory and hand it as a nested unit. */
static int pdf_attachment(pdf_ctx *c, PopplerAttachment *att)
{
	sn_doc *d = c->d;
	pdf_save s = { c, 0, NULL, 0, 0 };
	char fallback[48];
	const char *name = poppler_attachment_get_name(att);
	int rc = 0;

	c->att_seq++;
	if (!name || !*name) {
		snprintf(fallback, sizeof fallback, "attachment %u", c->att_seq);
		name = fallback;
	}
	sn_buf_reset(&c->att);
	gboolean ok = poppler_attachment_save_to_callback(att, pdf_save_cb, &s, NULL);
	if (ok && s.pending)
		pdf_save_flush(&s);
	if (s.stop)
		return SN_ESTOP;
	if (s.why) {
		d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, s.why,
			      "stopped in an embedded file");
		return PDF_LIMIT;
	}
	if (s.over) {
		d->cb->record(d->payload, name, SN_FILE_INCOMPLETE, "too-large-to-buffer",
			      "an embedded file is held in memory; over --max-buffer");
		return 0;
	}
	rc = sn_doc_nested(d, name, c->att.len ? c->att.p : "", c->att.len);
	/* poppler ends a damaged stream quietly: a declared size (when there
	 * is one) is the only sign that data was lost */
	gsize declared = poppler_attachment_get_size(att);
	if (rc == 0 && declared != (gsize)-1 && declared > c->att.len)
		d->cb->record(d->payload, name, SN_FILE_INCOMPLETE, "corrupt",
			      "embedded file shorter than its declared size");
	return rc;
}

static int pdf_annotations(pdf_ctx *c, PopplerPage *page, int no)
{
	GList *map = poppler_page_get_annot_mapping(page);
	sn_buf b;
	char name[64];
	int rc = 0;

	sn_buf_init(&b, c->max_buffer);
	for (GList *l = map; l && rc == 0; l = l->next) {
		PopplerAnnot *a = ((PopplerAnnotMapping *)l->data)->annot;
		PopplerAnnotType t = poppler_annot_get_annot_type(a);
		size_t before = b.len;
		/* a popup shows its parent's text, which is read with the parent */
		if (t == POPPLER_ANNOT_POPUP)
			continue;
		if (POPPLER_IS_ANNOT_MARKUP(a)) {
			PopplerAnnotMarkup *m = POPPLER_ANNOT_MARKUP(a);
			put_field(&b, NULL, poppler_annot_markup_get_label(m));
			put_field(&b, NULL, poppler_annot_markup_get_subject(m));
		}
		put_field(&b, NULL, poppler_annot_get_contents(a));
		if (b.len > before)
			sn_buf_putc(&b, '\n');
		if (t == POPPLER_ANNOT_FILE_ATTACHMENT) {
			PopplerAttachment *att = poppler_annot_file_attachment_get_attachment(
				POPPLER_ANNOT_FILE_ATTACHMENT(a));
			if (att) {
				rc = pdf_attachment(c, att);
				g_object_unref(att);
			} else {
				snprintf(name, sizeof name, "page %d", no);
				c->d->cb->record(c->d->payload, name, SN_FILE_INCOMPLETE,
						 "unsupported",
						 "file attachment whose file is not embedded or "
						 "not readable");
			}
		}
	}
	poppler_page_free_annot_mapping(map);
	if (rc == 0) {
		snprintf(name, sizeof name, "page %d annotations", no);
		rc = pdf_emit_buf(c, name, &b);
	}
	sn_buf_free(&b);
	return rc;
}

/* "name (tooltip): value" for a form field's name. */
static void put_field_name(sn_buf *b, PopplerFormField *f)
{
	gchar *name = poppler_form_field_get_name(f);
	gchar *tip = poppler_form_field_get_alternate_ui_name(f);
	if (name && *name)
		sn_buf_puts(b, name);
	if (tip && *tip) {
		sn_buf_puts(b, name && *name ? " (" : "(");
		sn_buf_puts(b, tip);
		sn_buf_putc(b, ')');
	}
	sn_buf_puts(b, ": ");
	g_free(name);
	g_free(tip);
}

static int pdf_form(pdf_ctx *c, PopplerPage *page, int no)
{
	GList *map = poppler_page_get_form_field_mapping(page);
	sn_buf b;
	char name[64];
	int rc;

	sn_buf_init(&b, c->max_buffer);
	for (GList *l = map; l; l = l->next) {
		PopplerFormField *f = ((PopplerFormFieldMapping *)l->data)->field;
		gchar *v = NULL;
		switch (poppler_form_field_get_field_type(f)) {
		case POPPLER_FORM_FIELD_TEXT:
			v = poppler_form_field_text_get_text(f);
			if (v && *v) {
				put_field_name(&b, f);
				put_field(&b, NULL, v);
			} else {
				g_free(v);
			}
			break;
		case POPPLER_FORM_FIELD_CHOICE: {
			int n = poppler_form_field_choice_get_n_items(f), any = 0;
			v = poppler_form_field_choice_get_text(f);
			for (int i = 0; i < n; i++) {
				if (!poppler_form_field_choice_is_item_selected(f, i))
					continue;
				if (!any++)
					put_field_name(&b, f);
				else
					sn_buf_puts(&b, "; ");
				gchar *item = poppler_form_field_choice_get_item(f, i);
				sn_buf_puts(&b, item ? item : "");
				g_free(item);
			}
			if (v && *v) {
				if (!any++)
					put_field_name(&b, f);
				else
					sn_buf_puts(&b, "; ");
				sn_buf_puts(&b, v);
			}
			if (any)
				sn_buf_putc(&b, '\n');
			g_free(v);
			break;
		}
		default:
			break; /* buttons and signatures hold no text */
		}
	}
	poppler_page_free_form_field_mapping(map);
	snprintf(name, sizeof name, "page %d form", no);
	rc = pdf_emit_buf(c, name, &b);
	sn_buf_free(&b);
	return rc;
}

static int only_space(const char *s)
{
	for (; *s; s++)
		if (!is_ws((uint8_t)*s))
			return 0;
	return 1;
}

/* The text of one page, or a record when it shows only images. */
static int pdf_page_text(pdf_ctx *c, PopplerPage *page, int no)
{
	char name[64];
	gchar *text = poppler_page_get_text(page);
	int rc = 0;

	snprintf(name, sizeof name, "page %d", no);
	if (text && !only_space(text)) {
		rc = pdf_emit(c, name, text, strlen(text));
	} else {
		GList *img = poppler_page_get_image_mapping(page);
		if (img)
			c->d->cb->record(c->d->payload, name, SN_FILE_SKIPPED, "image",
					 "page without text, only images (a scan?)");
		poppler_page_free_image_mapping(img);
	}
	g_free(text);
	return rc;
}

static int pdf_pages(pdf_ctx *c, int text)
{
	sn_doc *d = c->d;
	int n = poppler_document_get_n_pages(c->doc), missing = 0, rc = 0;
	char detail[96];

	for (int i = 0; i < n && rc == 0; i++) {
		if (sn_stop_requested(d->b->stop))
			return SN_ESTOP;
		const char *why = sn_doc_check(d, 0, c->size);
		if (why) {
			snprintf(detail, sizeof detail, "stopped at page %d of %d", i + 1, n);
			d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, why, detail);
			return PDF_LIMIT;
		}
		PopplerPage *page = poppler_document_get_page(c->doc, i);
		if (!page) {
			missing++;
			continue;
		}
		if (text)
			rc = pdf_page_text(c, page, i + 1);
		if (rc == 0)
			rc = pdf_annotations(c, page, i + 1);
		if (rc == 0)
			rc = pdf_form(c, page, i + 1);
		g_object_unref(page);
	}
	if (n <= 0 && rc == 0) {
		/* a PDF has at least one page: this page tree is damaged */
		d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, "corrupt",
			      "no readable pages");
	} else if (missing && rc == 0) {
		snprintf(detail, sizeof detail, "%d of %d pages could not be read", missing, n);
		d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, "corrupt", detail);
	}
	return rc;
}

static int pdf_attachments(pdf_ctx *c)
{
	sn_doc *d = c->d;
	guint declared = poppler_document_get_n_attachments(c->doc), found = 0;
	GList *list;
	char detail[96];
	int rc;

	if (!declared)
		return 0;
	rc = pdf_string_objects(d, c->src);
	if (rc < 0)
		return rc;
	if (d->b->hit) {
		d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, d->b->hit,
			      "stopped before the embedded files");
		return PDF_LIMIT;
	}
	if (rc) {
		d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, "unsupported",
			      "embedded files not read: the PDF library could crash on how "
			      "this file stores its objects");
		return 0;
	}
	list = poppler_document_get_attachments(c->doc);
	for (GList *l = list; l && rc == 0; l = l->next) {
		found++;
		rc = pdf_attachment(c, l->data);
	}
	g_list_free_full(list, g_object_unref);
	if (rc == 0 && found < declared) {
		snprintf(detail, sizeof detail, "%u of %u embedded files could not be read",
			 declared - found, declared);
		d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, "corrupt", detail);
	}
	return rc;
}

/* ---------------------------------------------------------------------- */

static int pdf_decode(sn_doc *d)
{
	pdf_ctx c;
	pdf_src src = { NULL, -1, 0 };
	pdf_bomb bomb = { NULL, 0, 0 };
	uint8_t *mem = NULL;
	size_t mem_len = 0;
	GBytes *bytes = NULL;
	GError *err = NULL;
	struct stat st;
	char detail[128];
	int rc = 0, quiet = pdf_quiet; /* a PDF embedded in a PDF is decoded inside */

	pdf_quiet = 1;
	pthread_once(&pdf_once, pdf_init);
	memset(&c, 0, sizeof c);
	c.d = d;
	c.max_buffer = d->b->lim->max_buffer > SIZE_MAX - 1 ? SIZE_MAX - 1
							     : (size_t)d->b->lim->max_buffer;
	sn_buf_init(&c.att, c.max_buffer);

	if (d->in->fd >= 0 && fstat(d->in->fd, &st) == 0 && S_ISREG(st.st_mode)) {
		src.fd = d->in->fd;
		src.size = (uint64_t)st.st_size;
	} else {
		rc = sn_doc_buffer(d, &mem, &mem_len);
		if (rc) {
			rc = rc == 1 ? 0 : rc; /* 1: already on record */
			goto done;
		}
		src.mem = mem;
		src.size = mem_len;
	}
	c.size = src.size;
	c.src = &src;

	rc = pdf_bomb_check(d, &src, &bomb);
	if (rc)
		goto done;
	if (bomb.why) {
		snprintf(detail, sizeof detail,
			 "a stream inflates to over %llu bytes from %llu; page text not read",
			 (unsigned long long)bomb.out, (unsigned long long)bomb.in);
		d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, bomb.why, detail);
		if (d->b->hit)
			goto done; /* a limit for the whole top-level file */
	}

	if (src.mem) {
		/* the document keeps its own reference; mem is freed with it */
		bytes = g_bytes_new_with_free_func(mem, mem_len, free, mem);
		mem = NULL;
		c.doc = poppler_document_new_from_bytes(bytes, NULL, &err);
	} else {
		/* poppler owns (and closes) the descriptor it is given; it must
		 * not be 0, which poppler takes for stdin */
		int fd = fcntl(src.fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0) {
			d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, "read-error",
				      strerror(errno));
			goto done;
		}
		c.doc = poppler_document_new_from_fd(fd, NULL, &err);
	}
	if (!c.doc) {
		int enc = err && g_error_matches(err, POPPLER_ERROR, POPPLER_ERROR_ENCRYPTED);
		/* poppler's messages are fixed phrases or strerror, never content */
		d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, enc ? "encrypted" : "corrupt",
			      enc ? "a password is needed to open this PDF"
				  : err ? err->message : "not a readable PDF");
		goto done;
	}

	rc = pdf_properties(&c);
	if (rc == 0)
		rc = pdf_pages(&c, !bomb.why);
	if (rc == 0)
		rc = pdf_attachments(&c);
	if (rc == PDF_LIMIT)
		rc = 0;
done:
	if (c.doc)
		g_object_unref(c.doc);
	if (bytes)
		g_bytes_unref(bytes);
	if (err)
		g_error_free(err);
	sn_buf_free(&c.att);
	free(mem);
	pdf_quiet = quiet;
	return rc;
}

const sn_decoder sn_decoder_pdf = { "pdf", pdf_accepts, pdf_decode };
