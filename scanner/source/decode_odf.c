/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * OpenDocument (odt, ods, odp, odg and their templates; see decoder.h): a zip
 * package read with libarchive whose XML parts go through libxml2's SAX push
 * parser, and the flat single-file forms (fodt, fods, fodp) read the same
 * way.
 *
 * Parts: content.xml (the body, comments, tracked changes -- a deletion is
 * still in the file -- notes, text boxes, presentation notes), styles.xml
 * (what sits in the master pages: headers, footers, slide masters) and
 * meta.xml (author, title, keywords, user-defined properties), also inside
 * embedded objects ("Object 1/content.xml").  Text is produced on demand:
 * the part's reader feeds the parser the next block of the member only when
 * the driver has read all text so far, so no part is ever held whole.  Spans
 * are joined (a number split over two spans is one number); paragraphs,
 * cells and rows are separated so that numbers in neighbouring cells never
 * merge.  SAX reports each element as soon as it is parsed, so damage ends a
 * part without losing the text before it.
 *
 * A spreadsheet body is handed as tables, one per sheet, row by row, with
 * the sheet's own row numbers.  A number cell is its office:value written
 * as plain decimal text, so a BSN typed as a number is found in the form the
 * sheet keeps it.  Repeats (table:number-rows-repeated, ...-columns-...)
 * cost nothing when empty: they only move the row or column counter.  A
 * repeated non-empty row is handed once and a repeated non-empty cell at
 * most SN_ODF_MAX_REPEAT times: the copies are identical, so more would add
 * work and no findings.  Text in a sheet outside cell values (comments,
 * shapes) is handed as the part's text in pieces of at most
 * SN_ODF_SIDE_FLUSH bytes.  Tables are handed from the decoder's own loop,
 * never from inside the driver's read of a text part: a flat file's text
 * part (properties, headers) is fed to the parser in blocks that end right
 * after the spreadsheet's start tag, where the text part ends.
 *
 * Hostile input: OpenDocument has no DTD, so a part with a DOCTYPE is
 * "corrupt" before any declaration in it is read -- no entity is ever
 * declared, substituted or loaded (XXE, billion laughs); no XInclude, no
 * network; an external-entity loader that refuses everything is installed
 * once as well.  Inflated bytes are counted with sn_doc_check against the
 * package size.  A password-protected document (the manifest lists
 * encryption data for content.xml) is one "encrypted" record.  libxml2
 * reports errors, which may quote the document, only to a handler that
 * keeps the error code and line.
 *
 * Left out on purpose: the mimetype, the manifest, settings.xml,
 * manifest.rdf, Configurations2/ (application settings), and Thumbnails/
 * and ObjectReplacements/ (pictures the application renders from the text
 * that is read here).  Other members (pictures aside: "image" records) are
 * nested units, sniffed again: macros, signatures, embedded legacy objects.
 */
#include "source/decoder.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/stop.h"
#include "speurneus/error.h"

#define SN_ODF_BLOCK (64 * 1024)        /* libarchive's read block from a file */
#define SN_ODF_FEED (32 * 1024)         /* bytes given to the parser at a time */
#define SN_ODF_MAX_DEPTH 512            /* element nesting (libxml2 stops at 256) */
#define SN_ODF_MAX_COLS 16384           /* columns of a sheet (LibreOffice, Excel) */
#define SN_ODF_MAX_REPEAT 1024          /* copies of one repeated non-empty cell */
#define SN_ODF_MAX_ROW (4u << 20)       /* text of one row's cells; more is cut */
#define SN_ODF_SIDE_FLUSH (1u << 20)    /* sheet text outside cells, per piece */
#define SN_ODF_OUT_MAX (32u << 20)      /* text waiting to be read: what one feed
					   yields, at most one text node or
					   attribute (libxml2 caps those at 10 MB) */
#define SN_ODF_MAX_NAME 512             /* bytes of a sheet name kept */
#define SN_ODF_MAX_TITLES 5 /* one-cell title rows looked past for a header */
#define SN_ODF_MAX_ENC_BYTES (64 * 1024) /* encrypted part names kept from the manifest */
#define SN_ODF_MAX_ENC 4096
#define SN_ODF_MAX_NUMBER 64            /* digits of a number written out in full */
#define SN_ODF_MAX_REP_COUNT (1ull << 40) /* a repeat count beyond any sheet */

/* never XML_PARSE_NOENT, DTDLOAD, DTDATTR, XINCLUDE or HUGE */
#define XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

/* decode outcome of one part besides 0 and SN_E*: a limit ended the unit */
#define ODF_END 1

static const char NS_OASIS[] = "urn:oasis:names:tc:opendocument:xmlns:";
static const char NS_DC[] = "http://purl.org/dc/elements/1.1/";
#define NS_OFFICE "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
#define NS_TEXT "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
#define NS_TABLE "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
#define NS_META "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
#define NS_FORM "urn:oasis:names:tc:opendocument:xmlns:form:1.0"
#define NS_MANIFEST "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"

/* ---------------------------------------------------------------------- */
/* Library set-up                                                          */

static pthread_once_t odf_once = PTHREAD_ONCE_INIT;

static xmlParserInputPtr odf_no_entity(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	return NULL;
}

static void odf_init(void)
{
	xmlInitParser();
	/* nothing a document names is ever loaded, whatever the options */
	xmlSetExternalEntityLoader(odf_no_entity);
}

static void odf_generic_quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void odf_structured_quiet(void *ctx, xmlErrorPtr e)
{
	(void)ctx;
	(void)e;
}

/* ---------------------------------------------------------------------- */
/* Parts and their state                                                   */

enum { F_NONE, F_XML, F_DEPTH, F_ZIP, F_LIMIT, F_STOP, F_INPUT, F_CB, F_NOMEM };
enum { D_PART, D_SIDE, D_CELL, D_NONE };

/* what an element is, as far as text goes */
enum {
	K_OTHER,
	K_CAPTURE,   /* office:body, office:master-styles: text inside is read */
	K_P,         /* text:p, text:h: a paragraph */
	K_FIELD,     /* a property or label holding text: dc:creator, svg:title, ... */
	K_USERDEF,   /* meta:user-defined: "name: value" */
	K_SKIP,      /* dates, note numbers: nothing inside is personal text */
	K_BINARY,    /* office:binary-data: an embedded picture */
	K_S, K_TAB, K_LB,
	K_ANNOT,     /* office:annotation */
	K_PAGE,      /* draw:page */
	K_SHEET,     /* office:spreadsheet */
	K_TABLE, K_ROW, K_CELL,
	K_FORM,      /* a form control: its value is an attribute */
	/* the outer sheet's structure, in table mode */
	K_TABLE_ON, K_ROW_ON, K_CELL_ON
};

typedef struct odf_frame {
	uint8_t kind;
	uint8_t cap;     /* text here is read */
	uint8_t cont;    /* inside a paragraph or field: text nodes count */
	uint8_t dest;    /* table mode: where text goes */
	uint8_t in_cell; /* text mode: inside a table cell */
} odf_frame;

typedef struct odf_cell {
	uint32_t col, off, len, copies;
	int is_string;
} odf_cell;

typedef struct odf_table {
	int active, begun, decided, have_hdr, hdr_cols;
	int titles;              /* one-cell rows above the header, read as text */
	int in_row;              /* between the start and end of a sheet row */
	char name[SN_ODF_MAX_NAME];
	unsigned count;          /* sheets seen in this part, for unnamed ones */
	int64_t next_row;        /* 1-based number of the next row */
	uint64_t row_rep;
	uint64_t col;            /* 0-based column of the next cell */
	/* the current cell */
	size_t cell_off;
	uint64_t cell_rep;
	int cell_string, cell_valued;
	/* the current row */
	sn_buf rowbuf;           /* cell texts, each NUL-terminated */
	size_t row_text;
	odf_cell *cells;
	size_t ncells, cap;
	int row_cut, cols_cut;   /* this sheet had text cut: recorded at its end */
	/* the first non-empty row, when it may be the header */
	char *hdr_mem;
	const char **hdr;
	size_t *hdr_lens;
	size_t hdr_n;
	int64_t hdr_row;
	/* arrays handed to row(), all NULL between rows */
	const char **cv;
	size_t *lv;
} odf_table;

struct odf_pkg;

typedef struct odf_part {
	sn_input in;             /* the text part, read by the driver */
	sn_doc *d;
	const char *name;
	size_t prefix_len;       /* "Object 1/": embedded sheets are named with it */
	struct archive *a;       /* positioned at this member; NULL: flat XML from d */
	uint64_t pkg;            /* package size, the `consumed` of sn_doc_check */
	uint64_t flat_read;
	int started;             /* zip member: its first bytes were asked for */
	int64_t zstart;          /* package bytes consumed before the member */
	uint64_t zproduced;      /* bytes the member inflated to so far */
	size_t head_off;         /* flat XML: bytes of d->head already parsed */
	struct odf_pkg *manifest; /* reading the manifest into this package */
	xmlChar *entry_path;     /* manifest: the file entry being read */
	/* the parser and its input */
	xmlParserCtxtPtr ctxt;
	uint8_t *feed;
	size_t feed_off, feed_len;
	uint64_t pushed;         /* bytes given to the parser */
	char tail[16];           /* the end of the previous block */
	size_t tail_len;
	int want_gt;             /* odf_cut: the end of a tag with the word is due */
	int in_read;             /* inside the driver's read of the text part */
	const xmlChar **attrs;   /* the attributes of the element being started */
	int nattrs;
	/* how it ended */
	int fail, cb_rc, xml_code, xml_line, reported;
	const char *why;
	char detail[160];
	/* elements */
	odf_frame st[SN_ODF_MAX_DEPTH];
	int depth;
	/* output */
	int push;                /* table mode: text goes to cells and `side` */
	int pull_end;            /* the text part ends here: a sheet follows */
	int handed;              /* the text part was handed to the driver */
	int eof;
	sn_buf out;              /* text waiting to be read */
	size_t out_off;
	char last, side_last;
	sn_buf side;
	uint64_t images;
	odf_table t;
} odf_part;

static void odf_fail(odf_part *p, int f, const char *why, const char *detail)
{
	if (p->fail)
		return;
	p->fail = f;
	p->why = why;
	snprintf(p->detail, sizeof p->detail, "%s", detail ? detail : "");
	/* no event after this one: the part ends here */
	if (p->ctxt)
		xmlStopParser(p->ctxt);
}

static void odf_xml_error(void *arg, xmlErrorPtr e)
{
	odf_part *p = arg;
	if (e && e->level >= XML_ERR_ERROR && !p->xml_code) {
		p->xml_code = e->code;
		p->xml_line = e->line;
	}
}

/* ---------------------------------------------------------------------- */
/* Input of the parser: a zip member or the flat file                      */

static ssize_t odf_input(odf_part *p, uint8_t *buf, size_t len)
{
	sn_doc *d = p->d;
	ssize_t k;
	if (sn_stop_requested(d->b->stop)) {
		odf_fail(p, F_STOP, "interrupted", NULL);
		return -1;
	}
	if (p->a) {
		if (!p->started) {
			p->started = 1;
			p->zstart = archive_filter_bytes(p->a, -1);
		}
		k = archive_read_data(p->a, buf, len);
		if (k < 0) {
			const char *e = archive_error_string(p->a);
			odf_fail(p, F_ZIP, sn_archive_encrypted(p->a) ? "encrypted" : "corrupt", e);
			return -1;
		}
	} else if (p->head_off < d->head_len) {
		size_t left = d->head_len - p->head_off;
		k = (ssize_t)(left < len ? left : len);
		memcpy(buf, d->head + p->head_off, (size_t)k);
		p->head_off += (size_t)k;
	} else {
		k = d->in->read(d->in->ctx, buf, len);
		if (k < 0) {
			sn_input_stop(d->in, SN_FILE_INCOMPLETE, "read-error",
				      strerror(errno ? errno : EIO));
			odf_fail(p, F_INPUT, d->in->stop_reason, d->in->stop_detail);
			return -1;
		}
	}
	if (k > 0) {
		p->flat_read += (uint64_t)k;
		/* a zip member is judged on its own compressed bytes, as archive
		 * members are: a deflate bomb stops after --max-ratio x its
		 * compressed size (past 16 MiB), not x the whole package */
		const char *why;
		if (p->a) {
			int64_t used = archive_filter_bytes(p->a, -1) - p->zstart;
			p->zproduced += (uint64_t)k;
			why = sn_doc_check_part(d, (uint64_t)k, p->zproduced,
						used > 0 ? (uint64_t)used : 0);
		} else {
			why = sn_doc_check(d, (uint64_t)k, p->flat_read);
		}
		if (why) {
			char det[96];
			snprintf(det, sizeof det, "stopped after %llu bytes",
				 (unsigned long long)d->produced);
			odf_fail(p, F_LIMIT, why, det);
			return -1;
		}
	}
	return k;
}

/* Where the text part must end in this block: right after the tag that
 * holds "spreadsheet" (also when the word began in the previous block), so
 * that nothing after the spreadsheet's start is parsed inside the driver's
 * read.  Returns the length to parse now. */
static size_t odf_cut(odf_part *p, const uint8_t *b, size_t n)
{
	static const char w[] = "spreadsheet";
	const size_t wl = sizeof w - 1;
	const uint8_t *hit = NULL, *gt;
	size_t from = 0;
	if (p->want_gt) {
		/* the word was in an earlier block; its tag ends here or later */
		gt = memchr(b, '>', n);
		if (!gt)
			return n;
		p->want_gt = 0;
		return (size_t)(gt - b) + 1;
	}
	/* the word split over two blocks comes before any in this one */
	for (size_t k = 1; k < wl && k <= p->tail_len && !hit; k++) {
		if (memcmp(p->tail + p->tail_len - k, w, k) == 0 && n >= wl - k &&
		    memcmp(b, w + k, wl - k) == 0) {
			hit = b;
			from = wl - k;
		}
	}
	if (!hit) {
		hit = memmem(b, n, w, wl);
		from = hit ? (size_t)(hit - b) + wl : 0;
	}
	if (!hit)
		return n;
	gt = memchr(b + from, '>', n - from);
	if (!gt) {
		p->want_gt = 1;
		return n;
	}
	return (size_t)(gt - b) + 1;
}

/* Give the parser its next block (or the end).  Events happen in here. */
static void odf_feed(odf_part *p)
{
	if (p->feed_off == p->feed_len) {
		ssize_t k = odf_input(p, p->feed, SN_ODF_FEED);
		if (k < 0)
			return;
		p->feed_off = 0;
		p->feed_len = (size_t)k;
		if (k == 0) {
			p->eof = 1;
			xmlParseChunk(p->ctxt, NULL, 0, 1);
			goto check;
		}
	}
	const uint8_t *b = p->feed + p->feed_off;
	size_t n = p->feed_len - p->feed_off;
	if (!p->push)
		n = odf_cut(p, b, n);
	/* keep the end of what was parsed for a word split over blocks */
	if (n >= sizeof p->tail) {
		memcpy(p->tail, b + n - sizeof p->tail, sizeof p->tail);
		p->tail_len = sizeof p->tail;
	} else {
		size_t old = p->tail_len < sizeof p->tail - n ? p->tail_len : sizeof p->tail - n;
		memmove(p->tail, p->tail + p->tail_len - old, old);
		memcpy(p->tail + old, b, n);
		p->tail_len = old + n;
	}
	p->feed_off += n;
	p->pushed += n;
	xmlParseChunk(p->ctxt, (const char *)b, (int)n, 0);
check:
	if (!p->fail && !p->ctxt->wellFormed) {
		char det[96];
		if (p->xml_code)
			snprintf(det, sizeof det, "not well-formed XML (libxml2 error %d, line %d)",
				 p->xml_code, p->xml_line);
		else
			snprintf(det, sizeof det, "not well-formed XML");
		odf_fail(p, F_XML, "corrupt", det);
	}
}

/* ---------------------------------------------------------------------- */
/* Output                                                                  */

static char odf_ws(char c)
{
	/* line ends and tabs inside XML text are layout, not content */
	return c == '\n' || c == '\r' || c == '\t' ? ' ' : c;
}

static int odf_side_flush(odf_part *p);

static int odf_cell_put(odf_part *p, const char *s, size_t n, int conv)
{
	odf_table *t = &p->t;
	if (t->row_text + n > SN_ODF_MAX_ROW) {
		n = SN_ODF_MAX_ROW - t->row_text;
		t->row_cut = 1;
	}
	if (!n)
		return 0;
	size_t at = t->rowbuf.len;
	sn_buf_put(&t->rowbuf, s, n);
	if (t->rowbuf.failed) {
		odf_fail(p, F_NOMEM, NULL, NULL);
		return -1;
	}
	if (conv)
		for (size_t i = at; i < t->rowbuf.len; i++)
			t->rowbuf.p[i] = odf_ws(t->rowbuf.p[i]);
	t->row_text += n;
	return 0;
}

static int odf_side_put(odf_part *p, const char *s, size_t n, int conv)
{
	while (n) {
		size_t room = SN_ODF_SIDE_FLUSH - p->side.len;
		size_t k = n < room ? n : room;
		size_t at = p->side.len;
		sn_buf_put(&p->side, s, k);
		if (p->side.failed) {
			odf_fail(p, F_NOMEM, NULL, NULL);
			return -1;
		}
		if (conv)
			for (size_t i = at; i < p->side.len; i++)
				p->side.p[i] = odf_ws(p->side.p[i]);
		p->side_last = p->side.p[p->side.len - 1];
		s += k;
		n -= k;
		if (p->side.len >= SN_ODF_SIDE_FLUSH && odf_side_flush(p) < 0)
			return -1;
	}
	return 0;
}

/* Bytes for `dest`; `conv` turns XML line ends and tabs into spaces. */
static int odf_put(odf_part *p, int dest, const char *s, size_t n, int conv)
{
	if (!n)
		return 0;
	if (!p->push) {
		size_t at = p->out.len;
		sn_buf_put(&p->out, s, n);
		if (p->out.failed) {
			odf_fail(p, F_NOMEM, NULL, NULL);
			return -1;
		}
		if (conv)
			for (size_t i = at; i < p->out.len; i++)
				p->out.p[i] = odf_ws(p->out.p[i]);
		p->last = p->out.p[p->out.len - 1];
		return 0;
	}
	if (dest == D_NONE)
		return 0;
	if (dest == D_CELL)
		return odf_cell_put(p, s, n, conv);
	return odf_side_put(p, s, n, conv);
}

static char odf_last(const odf_part *p, int dest)
{
	if (!p->push)
		return p->last;
	if (dest == D_CELL)
		return p->t.rowbuf.len > p->t.cell_off ? p->t.rowbuf.p[p->t.rowbuf.len - 1] : 0;
	if (dest == D_NONE)
		return 0;
	return p->side_last;
}

/* Before a block (paragraph, field, page): a line end after what came
 * before, or a space between the paragraphs of a table cell in text mode
 * (its row stays one line). */
static int odf_sep(odf_part *p, const odf_frame *f)
{
	int dest = f->dest;
	char c = odf_last(p, dest);
	int cell = f->in_cell && !p->push;
	if (!c || c == '\n' || (cell && (c == ' ' || c == '\t')))
		return 0;
	return odf_put(p, dest, cell ? " " : "\n", 1, 0);
}

/* After a block: a line end, except inside a cell (the cell or row ends it). */
static int odf_block_end(odf_part *p, const odf_frame *f)
{
	if ((f->in_cell && !p->push) || (p->push && f->dest == D_CELL))
		return 0;
	char c = odf_last(p, f->dest);
	if (!c || c == '\n')
		return 0;
	return odf_put(p, f->dest, "\n", 1, 0);
}

/* ---------------------------------------------------------------------- */
/* Numbers                                                                 */

/* office:value as plain decimal text when it is an integer ("1.23456782E8"
 * -> "123456782"); 0 when it is not (then the value is used as written).
 * Decimal digits throughout: no rounding through a double. */
static size_t odf_number(const char *s, char *out, size_t cap)
{
	char dig[SN_ODF_MAX_NUMBER];
	size_t nd = 0, nint = 0;
	int neg = 0, any = 0, seen_point = 0;
	long exp = 0;
	while (*s == ' ')
		s++;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			any = 1;
			if (nd == 0 && *s == '0') {
				/* leading zeros carry no digits */
				if (seen_point)
					exp--;
				continue;
			}
			if (nd == sizeof dig)
				return 0;
			dig[nd++] = *s;
			if (!seen_point)
				nint++;
		} else if (*s == '.' && !seen_point) {
			seen_point = 1;
		} else {
			break;
		}
	}
	if (!any)
		return 0;
	if (*s == 'e' || *s == 'E') {
		char *end;
		errno = 0;
		long e = strtol(s + 1, &end, 10);
		if (end == s + 1 || errno || e > 1000 || e < -1000)
			return 0;
		exp += e;
		s = end;
	}
	while (*s == ' ')
		s++;
	if (*s)
		return 0;
	/* the decimal point sits after nint + exp digits; zeros after it
	 * are no fraction */
	long point = (long)nint + exp;
	while (nd > 0 && (long)nd > point && dig[nd - 1] == '0')
		nd--;
	if (nd == 0) {
		if (cap < 2)
			return 0;
		memcpy(out, "0", 2);
		return 1;
	}
	if (point < (long)nd || point > SN_ODF_MAX_NUMBER)
		return 0; /* a fraction, or too long to be an identifier */
	size_t len = (size_t)point + (size_t)neg;
	if (len + 1 > cap)
		return 0;
	size_t o = 0;
	if (neg)
		out[o++] = '-';
	memcpy(out + o, dig, nd);
	o += nd;
	while (o < len)
		out[o++] = '0';
	out[o] = '\0';
	return o;
}

/* ---------------------------------------------------------------------- */
/* Attributes                                                              */

/* An attribute of the element being started, as a string the caller frees
 * (xmlFree); NULL when absent.  An escaped ampersand is left as "&#38;" by a
 * parser that substitutes no entities: it is an ampersand. */
static xmlChar *odf_attr(odf_part *p, const char *local, const char *ns)
{
	for (int i = 0; i < p->nattrs; i++) {
		const xmlChar *const *a = p->attrs + 5 * i;
		if (strcmp((const char *)a[0], local) != 0 || !a[2] ||
		    strcmp((const char *)a[2], ns) != 0)
			continue;
		size_t n = (size_t)(a[4] - a[3]), o = 0;
		xmlChar *v = xmlMalloc(n + 1);
		if (!v)
			return NULL;
		for (size_t j = 0; j < n; j++) {
			if (a[3][j] == '&' && n - j >= 5 && memcmp(a[3] + j, "&#38;", 5) == 0) {
				v[o++] = '&';
				j += 4;
				continue;
			}
			v[o++] = a[3][j];
		}
		v[o] = '\0';
		return v;
	}
	return NULL;
}

/* A repeat count: 1 when absent or unreadable, never past a sane bound. */
static uint64_t odf_repeat(odf_part *p, const char *local)
{
	xmlChar *v = odf_attr(p, local, NS_TABLE);
	uint64_t n = 1;
	if (v) {
		char *end;
		/* out of range reads as ULLONG_MAX: as many as allowed */
		unsigned long long x = strtoull((const char *)v, &end, 10);
		if (end != (char *)v && x >= 1 && v[0] != '-')
			n = x > SN_ODF_MAX_REP_COUNT ? SN_ODF_MAX_REP_COUNT : x;
		xmlFree(v);
	}
	return n;
}

/* ---------------------------------------------------------------------- */
/* Sheets                                                                  */

static int odf_cb(odf_part *p, int rc)
{
	if (rc) {
		p->cb_rc = rc;
		odf_fail(p, F_CB, NULL, NULL);
		return -1;
	}
	return 0;
}

static int odf_begin(odf_part *p, int with_header)
{
	odf_table *t = &p->t;
	sn_doc *d = p->d;
	t->hdr_cols = with_header;
	int rc = d->cb->table_begin(d->payload, t->name, with_header ? t->hdr : NULL,
				    with_header ? t->hdr_n : 0);
	if (rc == 0)
		t->begun = 1;
	return odf_cb(p, rc);
}

static int odf_end_table_cb(odf_part *p)
{
	sn_doc *d = p->d;
	p->t.begun = 0;
	return odf_cb(p, d->cb->table_end(d->payload));
}

/* Sheet text outside cells, handed as part text; a sheet open meanwhile is
 * ended and begun again around it (a part never sits inside a table). */
static int odf_side_flush(odf_part *p)
{
	sn_doc *d = p->d;
	int reopen = p->t.begun;
	if (!p->side.len)
		return 0;
	if (reopen && odf_end_table_cb(p) < 0)
		return -1;
	int rc = sn_doc_text(d, p->name, p->side.p, p->side.len);
	sn_buf_reset(&p->side);
	p->side_last = 0;
	if (odf_cb(p, rc) < 0)
		return -1;
	if (reopen)
		return odf_begin(p, p->t.hdr_cols);
	return 0;
}

static int odf_cv_alloc(odf_table *t)
{
	if (t->cv)
		return 0;
	t->cv = calloc(SN_ODF_MAX_COLS, sizeof *t->cv);
	t->lv = calloc(SN_ODF_MAX_COLS, sizeof *t->lv);
	return t->cv && t->lv ? 0 : -1;
}

/* Hand the row held in rowbuf/cells (or the held header row as data). */
static int odf_emit_row(odf_part *p, int64_t row, const char *mem, const odf_cell *cells,
			size_t ncells)
{
	odf_table *t = &p->t;
	sn_doc *d = p->d;
	size_t n = 0;
	uint64_t extra = 0;
	if (odf_cv_alloc(t) < 0) {
		odf_fail(p, F_NOMEM, NULL, NULL);
		return -1;
	}
	for (size_t i = 0; i < ncells; i++) {
		const odf_cell *c = &cells[i];
		for (uint32_t k = 0; k < c->copies; k++) {
			t->cv[c->col + k] = mem + c->off;
			t->lv[c->col + k] = c->len;
		}
		extra += (uint64_t)(c->copies - 1) * c->len;
		n = c->col + c->copies;
	}
	int rc = 0;
	const char *why = extra ? sn_doc_check(d, extra, p->pkg ? p->pkg : p->flat_read) : NULL;
	if (why)
		odf_fail(p, F_LIMIT, why, "repeated cells");
	else
		rc = odf_cb(p, d->cb->row(d->payload, row, t->cv, t->lv, n));
	/* keep the arrays all-NULL between rows: clearing only what was set
	 * costs what the row cost, not the sheet's width */
	for (size_t i = 0; i < ncells; i++) {
		memset(&t->cv[cells[i].col], 0, cells[i].copies * sizeof *t->cv);
		memset(&t->lv[cells[i].col], 0, cells[i].copies * sizeof *t->lv);
	}
	return why ? -1 : rc;
}

/* Keep the first non-empty row: the header when another row follows. */
static int odf_hold_header(odf_part *p, int64_t row)
{
	odf_table *t = &p->t;
	size_t n = 0;
	for (size_t i = 0; i < t->ncells; i++)
		n = t->cells[i].col + t->cells[i].copies;
	t->hdr_mem = malloc(t->rowbuf.len ? t->rowbuf.len : 1);
	t->hdr = calloc(n, sizeof *t->hdr);
	t->hdr_lens = calloc(n, sizeof *t->hdr_lens);
	if (!t->hdr_mem || !t->hdr || !t->hdr_lens) {
		odf_fail(p, F_NOMEM, NULL, NULL);
		return -1;
	}
	memcpy(t->hdr_mem, t->rowbuf.p, t->rowbuf.len);
	for (size_t i = 0; i < t->ncells; i++) {
		const odf_cell *c = &t->cells[i];
		for (uint32_t k = 0; k < c->copies; k++) {
			t->hdr[c->col + k] = t->hdr_mem + c->off;
			t->hdr_lens[c->col + k] = c->len;
		}
	}
	t->hdr_n = n;
	t->hdr_row = row;
	t->have_hdr = 1;
	return 0;
}

/* The held header row as data (the sheet had no other row). */
static int odf_emit_header_as_row(odf_part *p)
{
	odf_table *t = &p->t;
	odf_cell *cells = calloc(t->hdr_n ? t->hdr_n : 1, sizeof *cells);
	size_t n = 0;
	int rc;
	if (!cells) {
		odf_fail(p, F_NOMEM, NULL, NULL);
		return -1;
	}
	for (size_t i = 0; i < t->hdr_n; i++) {
		if (!t->hdr[i])
			continue;
		cells[n].col = (uint32_t)i;
		cells[n].off = (uint32_t)(t->hdr[i] - t->hdr_mem);
		cells[n].len = (uint32_t)t->hdr_lens[i];
		cells[n].copies = 1;
		n++;
	}
	rc = odf_emit_row(p, t->hdr_row, t->hdr_mem, cells, n);
	free(cells);
	return rc;
}

static void odf_table_clear(odf_table *t)
{
	free(t->hdr_mem);
	free(t->hdr);
	free(t->hdr_lens);
	t->hdr_mem = NULL;
	t->hdr = NULL;
	t->hdr_lens = NULL;
	t->hdr_n = 0;
	t->have_hdr = 0;
	t->active = 0;
	t->in_row = 0;
}

static void odf_table_start(odf_part *p)
{
	odf_table *t = &p->t;
	xmlChar *nm = odf_attr(p, "name", NS_TABLE);
	t->count++;
	if (nm && *nm)
		snprintf(t->name, sizeof t->name, "%.*s%s", (int)p->prefix_len, p->name,
			 (const char *)nm);
	else
		snprintf(t->name, sizeof t->name, "%.*stable %u", (int)p->prefix_len, p->name,
			 t->count);
	xmlFree(nm);
	t->active = 1;
	t->begun = t->decided = t->have_hdr = t->hdr_cols = t->titles = 0;
	t->row_cut = t->cols_cut = 0;
	t->next_row = 1;
}

static int odf_table_finish(odf_part *p)
{
	odf_table *t = &p->t;
	sn_doc *d = p->d;
	int rc = 0;
	if (t->have_hdr && !t->begun && !p->fail) {
		/* a lone row of text is data, not a header over nothing */
		if (odf_begin(p, 0) < 0 || odf_emit_header_as_row(p) < 0)
			rc = -1;
	}
	if (t->begun && odf_end_table_cb(p) < 0)
		rc = -1;
	if (t->row_cut)
		d->cb->record(d->payload, t->name, SN_FILE_INCOMPLETE, "row-too-long",
			      "rows longer than 4 MiB were cut");
	else if (t->cols_cut)
		d->cb->record(d->payload, t->name, SN_FILE_INCOMPLETE, "row-too-long",
			      "cells past column 16384 were not read");
	odf_table_clear(t);
	return rc;
}

static void odf_row_start(odf_part *p)
{
	odf_table *t = &p->t;
	t->in_row = 1;
	t->row_rep = odf_repeat(p, "number-rows-repeated");
	t->col = 0;
	t->ncells = 0;
	t->row_text = 0;
	sn_buf_reset(&t->rowbuf);
}

/* The held one-cell row was a title over a wider header ("Klantenoverzicht
 * 2024" in A1): it names no column, so it becomes sheet text and the row
 * now finished is judged as the header instead. */
static int odf_title_from_header(odf_part *p)
{
	odf_table *t = &p->t;
	for (size_t i = 0; i < t->hdr_n; i++) {
		if (t->hdr[i] && (odf_side_put(p, t->hdr[i], t->hdr_lens[i], 0) < 0 ||
				  odf_side_put(p, "\n", 1, 0) < 0))
			return -1;
	}
	free(t->hdr_mem);
	free(t->hdr);
	free(t->hdr_lens);
	t->hdr_mem = NULL;
	t->hdr = NULL;
	t->hdr_lens = NULL;
	t->hdr_n = 0;
	t->have_hdr = 0;
	t->decided = 0;
	t->titles++;
	return 0;
}

static size_t odf_hdr_filled(const odf_table *t)
{
	size_t n = 0;
	for (size_t i = 0; i < t->hdr_n; i++)
		n += t->hdr[i] != NULL;
	return n;
}

static int odf_row_finish(odf_part *p)
{
	odf_table *t = &p->t;
	int64_t row = t->next_row;
	int rc = 0;
	t->in_row = 0;
	if (t->next_row < INT64_MAX / 2)
		t->next_row += (int64_t)t->row_rep;
	if (!t->ncells)
		return 0;
	if (t->decided && !t->begun && t->have_hdr && t->ncells >= 2 && odf_hdr_filled(t) == 1 &&
	    t->titles < SN_ODF_MAX_TITLES && odf_title_from_header(p) < 0)
		return -1;
	if (!t->decided) {
		int all_text = 1;
		t->decided = 1;
		for (size_t i = 0; i < t->ncells; i++)
			all_text &= t->cells[i].is_string;
		if (all_text)
			return odf_hold_header(p, row);
		if (odf_begin(p, 0) < 0)
			return -1;
	} else if (!t->begun) {
		if (odf_begin(p, t->have_hdr) < 0)
			return -1;
	}
	rc = odf_emit_row(p, row, t->rowbuf.p, t->cells, t->ncells);
	return rc;
}

static void odf_cell_start(odf_part *p, odf_frame *f)
{
	odf_table *t = &p->t;
	xmlChar *vt = odf_attr(p, "value-type", NS_OFFICE);
	t->cell_rep = odf_repeat(p, "number-columns-repeated");
	t->cell_off = t->rowbuf.len;
	t->cell_string = !vt || strcmp((const char *)vt, "string") == 0;
	t->cell_valued = 0;
	if (vt && (strcmp((const char *)vt, "float") == 0 ||
		   strcmp((const char *)vt, "percentage") == 0 ||
		   strcmp((const char *)vt, "currency") == 0)) {
		xmlChar *v = odf_attr(p, "value", NS_OFFICE);
		if (v) {
			char num[SN_ODF_MAX_NUMBER + 2];
			size_t n = odf_number((const char *)v, num, sizeof num);
			if (n)
				odf_cell_put(p, num, n, 0);
			else
				odf_cell_put(p, (const char *)v, strlen((const char *)v), 1);
			t->cell_valued = 1;
			xmlFree(v);
		}
	}
	xmlFree(vt);
	/* what is not a paragraph of the cell itself (comments, shapes)
	 * is sheet text */
	f->dest = D_SIDE;
}

static int odf_cell_finish(odf_part *p)
{
	odf_table *t = &p->t;
	uint64_t col = t->col, rep = t->cell_rep;
	size_t len = t->rowbuf.len - t->cell_off;
	t->col = col + rep < col ? UINT64_MAX : col + rep;
	if (!len)
		return 0;
	if (col >= SN_ODF_MAX_COLS) {
		t->cols_cut = 1;
		t->row_text -= len;
		t->rowbuf.len = t->cell_off;
		return 0;
	}
	sn_buf_putc(&t->rowbuf, '\0');
	if (t->rowbuf.failed) {
		odf_fail(p, F_NOMEM, NULL, NULL);
		return -1;
	}
	if (t->ncells == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		odf_cell *c = realloc(t->cells, ncap * sizeof *c);
		if (!c) {
			odf_fail(p, F_NOMEM, NULL, NULL);
			return -1;
		}
		t->cells = c;
		t->cap = ncap;
	}
	uint64_t copies = rep < SN_ODF_MAX_REPEAT ? rep : SN_ODF_MAX_REPEAT;
	if (col + copies > SN_ODF_MAX_COLS)
		copies = SN_ODF_MAX_COLS - col;
	odf_cell *c = &t->cells[t->ncells++];
	c->col = (uint32_t)col;
	c->off = (uint32_t)t->cell_off;
	c->len = (uint32_t)len;
	c->copies = (uint32_t)copies;
	c->is_string = t->cell_string && !t->cell_valued;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Elements                                                                */

static int odf_kind(const char *ns, const char *l)
{
	if (!ns || !l)
		return K_OTHER;
	if (strcmp(ns, NS_DC) == 0) {
		if (strcmp(l, "date") == 0)
			return K_SKIP;
		if (strcmp(l, "creator") == 0 || strcmp(l, "title") == 0 ||
		    strcmp(l, "subject") == 0 || strcmp(l, "description") == 0)
			return K_FIELD;
		return K_OTHER;
	}
	if (strncmp(ns, NS_OASIS, sizeof NS_OASIS - 1) != 0)
		return K_OTHER;
	ns += sizeof NS_OASIS - 1;
	if (strcmp(ns, "text:1.0") == 0) {
		if (strcmp(l, "p") == 0 || strcmp(l, "h") == 0)
			return K_P;
		if (strcmp(l, "s") == 0)
			return K_S;
		if (strcmp(l, "tab") == 0)
			return K_TAB;
		if (strcmp(l, "line-break") == 0)
			return K_LB;
		/* generated numbers, not text anyone typed: beside the text
		 * they would merge into its numbers */
		if (strcmp(l, "note-citation") == 0 || strcmp(l, "number") == 0)
			return K_SKIP;
		return K_OTHER;
	}
	if (strcmp(ns, "table:1.0") == 0) {
		if (strcmp(l, "table") == 0)
			return K_TABLE;
		if (strcmp(l, "table-row") == 0)
			return K_ROW;
		if (strcmp(l, "table-cell") == 0 || strcmp(l, "covered-table-cell") == 0)
			return K_CELL;
		return K_OTHER;
	}
	if (strcmp(ns, "office:1.0") == 0) {
		if (strcmp(l, "body") == 0 || strcmp(l, "master-styles") == 0)
			return K_CAPTURE;
		if (strcmp(l, "annotation") == 0)
			return K_ANNOT;
		if (strcmp(l, "binary-data") == 0)
			return K_BINARY;
		if (strcmp(l, "spreadsheet") == 0)
			return K_SHEET;
		return K_OTHER;
	}
	if (strcmp(ns, "meta:1.0") == 0) {
		if (strcmp(l, "initial-creator") == 0 || strcmp(l, "keyword") == 0 ||
		    strcmp(l, "printed-by") == 0)
			return K_FIELD;
		if (strcmp(l, "user-defined") == 0)
			return K_USERDEF;
		if (strcmp(l, "date-string") == 0 || strcmp(l, "creation-date") == 0 ||
		    strcmp(l, "print-date") == 0)
			return K_SKIP;
		return K_OTHER;
	}
	if (strcmp(ns, "svg-compatible:1.0") == 0)
		return strcmp(l, "title") == 0 || strcmp(l, "desc") == 0 ? K_FIELD : K_OTHER;
	if (strcmp(ns, "presentation:1.0") == 0)
		return strcmp(l, "header-decl") == 0 || strcmp(l, "footer-decl") == 0 ? K_FIELD
										     : K_OTHER;
	if (strcmp(ns, "drawing:1.0") == 0)
		return strcmp(l, "page") == 0 ? K_PAGE : K_OTHER;
	if (strcmp(ns, "form:1.0") == 0)
		return K_FORM;
	return K_OTHER;
}


/* A form control's filled-in value. */
static int odf_form(odf_part *p, odf_frame *f)
{
	static const char *const names[] = { "current-value", "value" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		xmlChar *v = odf_attr(p, names[i], NS_FORM);
		if (!v)
			continue;
		if (!*v) {
			xmlFree(v);
			continue;
		}
		int rc = odf_sep(p, f);
		if (!rc)
			rc = odf_put(p, f->dest, (const char *)v, strlen((const char *)v), 1);
		xmlFree(v);
		return rc;
	}
	return 0;
}

static int odf_hand_text(odf_part *p);

/* office:spreadsheet: the text part ends and the sheets are tables.
 * Inside the driver's read that is only safe when nothing after this tag
 * is parsed before the read returns: the block must end at its '>' (or
 * "/>"), as odf_cut makes it.  A document that hides the word from
 * odf_cut (another encoding) keeps its sheets as text of the part. */
static int odf_sheet(odf_part *p, odf_frame *f)
{
	int safe = !p->in_read;
	if (p->in_read) {
		long at = xmlByteConsumed(p->ctxt);
		safe = at >= 0 && p->pushed >= (uint64_t)at && p->pushed - (uint64_t)at <= 2;
	}
	if (!p->push && safe) {
		p->push = 1;
		p->pull_end = 1;
		/* text before the sheet goes first: no part inside a table */
		if (!p->in_read && p->out.len > p->out_off && odf_hand_text(p) < 0)
			return -1;
	}
	if (p->push)
		f->dest = D_SIDE;
	return 0;
}

static int odf_start(odf_part *p, odf_frame *f, const char *ns, const char *l)
{
	odf_table *t = &p->t;
	int k = odf_kind(ns, l);
	f->kind = (uint8_t)k;
	switch (k) {
	case K_CAPTURE:
		f->cap = 1;
		return 0;
	case K_SKIP:
		f->cap = 0;
		return 0;
	case K_BINARY:
		f->cap = 0;
		p->images++;
		return 0;
	case K_FIELD:
	case K_USERDEF:
		f->cap = 1;
		f->cont = 1;
		if (odf_sep(p, f) < 0)
			return -1;
		if (k == K_USERDEF) {
			xmlChar *nm = odf_attr(p, "name", NS_META);
			int rc = 0;
			if (nm) {
				rc = odf_put(p, f->dest, (const char *)nm,
					     strnlen((const char *)nm, 1024), 1);
				if (!rc)
					rc = odf_put(p, f->dest, ": ", 2, 0);
				xmlFree(nm);
			}
			return rc;
		}
		return 0;
	case K_P:
		f->cont = 1;
		if (p->push && f > p->st && f[-1].kind == K_CELL_ON)
			f->dest = t->cell_valued ? D_NONE : D_CELL;
		return f->cap ? odf_sep(p, f) : 0;
	case K_ANNOT:
		if (p->push)
			f->dest = D_SIDE;
		return f->cap ? odf_sep(p, f) : 0;
	case K_PAGE:
		return f->cap ? odf_sep(p, f) : 0;
	case K_S:
	case K_TAB:
	case K_LB: {
		if (!f->cap || !f->cont)
			return 0;
		if (k == K_TAB)
			return odf_put(p, f->dest, "\t", 1, 0);
		if (k == K_LB)
			return odf_put(p, f->dest, "\n", 1, 0);
		/* more spaces than this find nothing more */
		static const char sp[] = "                                "
					 "                                ";
		uint64_t c = 1;
		xmlChar *v = odf_attr(p, "c", NS_TEXT);
		if (v) {
			char *end;
			/* out of range reads as ULLONG_MAX: as many as allowed */
			unsigned long long x = strtoull((const char *)v, &end, 10);
			if (end != (char *)v && x >= 1 && v[0] != '-')
				c = x;
			xmlFree(v);
		}
		return odf_put(p, f->dest, sp, c < sizeof sp - 1 ? (size_t)c : sizeof sp - 1, 0);
	}
	case K_SHEET:
		return odf_sheet(p, f);
	case K_TABLE:
		if (p->push && f->cap && !t->active) {
			f->kind = K_TABLE_ON;
			odf_table_start(p);
			return 0;
		}
		f->in_cell = 0;
		return f->cap ? odf_sep(p, f) : 0;
	case K_ROW:
		/* rows of the outer sheet, in row groups or not, but never rows
		 * of a table inside one of its cells */
		if (p->push && t->active && !t->in_row) {
			f->kind = K_ROW_ON;
			odf_row_start(p);
			return 0;
		}
		f->in_cell = 0;
		return 0;
	case K_CELL:
		if (p->push && f > p->st && f[-1].kind == K_ROW_ON) {
			f->kind = K_CELL_ON;
			odf_cell_start(p, f);
			return 0;
		}
		f->in_cell = 1;
		return 0;
	case K_FORM:
		return f->cap ? odf_form(p, f) : 0;
	default:
		return 0;
	}
}

static int odf_finish(odf_part *p, const odf_frame *f)
{
	switch (f->kind) {
	case K_P:
	case K_FIELD:
	case K_USERDEF:
	case K_ANNOT:
	case K_PAGE:
	case K_TABLE:
		return f->cap ? odf_block_end(p, f) : 0;
	case K_CELL:
		return f->cap && !p->push ? odf_put(p, f->dest, "\t", 1, 0) : 0;
	case K_ROW:
		if (f->cap && !p->push && p->last && p->last != '\n')
			return odf_put(p, f->dest, "\n", 1, 0);
		return 0;
	case K_TABLE_ON:
		return odf_table_finish(p);
	case K_ROW_ON:
		return odf_row_finish(p);
	case K_CELL_ON:
		return odf_cell_finish(p);
	default:
		return 0;
	}
}

/* ---------------------------------------------------------------------- */
/* SAX events                                                              */

static void odf_sax_start(void *ctx, const xmlChar *local, const xmlChar *prefix,
			  const xmlChar *uri, int nns, const xmlChar **ns, int nattrs,
			  int ndefaulted, const xmlChar **attrs)
{
	odf_part *p = ctx;
	(void)prefix;
	(void)nns;
	(void)ns;
	(void)ndefaulted;
	if (p->fail)
		return;
	if (p->depth == SN_ODF_MAX_DEPTH) {
		odf_fail(p, F_DEPTH, "corrupt", "elements nested too deeply");
		return;
	}
	odf_frame *f = &p->st[p->depth];
	if (p->depth)
		*f = f[-1];
	else
		memset(f, 0, sizeof *f);
	p->depth++;
	p->attrs = attrs;
	p->nattrs = nattrs;
	odf_start(p, f, (const char *)uri, (const char *)local);
	p->attrs = NULL;
	p->nattrs = 0;
}

static void odf_sax_end(void *ctx, const xmlChar *local, const xmlChar *prefix,
			const xmlChar *uri)
{
	odf_part *p = ctx;
	(void)local;
	(void)prefix;
	(void)uri;
	if (p->fail || !p->depth)
		return;
	p->depth--;
	odf_finish(p, &p->st[p->depth]);
}

static void odf_sax_text(void *ctx, const xmlChar *s, int n)
{
	odf_part *p = ctx;
	if (p->fail || !p->depth || n <= 0)
		return;
	const odf_frame *f = &p->st[p->depth - 1];
	if (f->cap && f->cont)
		odf_put(p, f->dest, (const char *)s, (size_t)n, 1);
}

/* OpenDocument has no DTD: a DOCTYPE ends the part before anything in it
 * is declared, so no entity is ever defined, expanded or loaded. */
static void odf_sax_dtd(void *ctx, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
	odf_part *p = ctx;
	(void)name;
	(void)ext;
	(void)sys;
	odf_fail(p, F_XML, "corrupt", "a DOCTYPE, which OpenDocument does not use");
}

/* The manifest: which parts are encrypted. */
static void odf_manifest_entry(odf_part *p, const char *path);

static void odf_sax_manifest(void *ctx, const xmlChar *local, const xmlChar *prefix,
			     const xmlChar *uri, int nns, const xmlChar **ns, int nattrs,
			     int ndefaulted, const xmlChar **attrs)
{
	odf_part *p = ctx;
	(void)prefix;
	(void)nns;
	(void)ns;
	(void)ndefaulted;
	if (p->fail || !uri || strcmp((const char *)uri, NS_MANIFEST) != 0)
		return;
	if (strcmp((const char *)local, "file-entry") == 0) {
		p->attrs = attrs;
		p->nattrs = nattrs;
		xmlFree(p->entry_path);
		p->entry_path = odf_attr(p, "full-path", NS_MANIFEST);
		p->attrs = NULL;
		p->nattrs = 0;
	} else if (strcmp((const char *)local, "encryption-data") == 0 && p->entry_path) {
		odf_manifest_entry(p, (const char *)p->entry_path);
		xmlFree(p->entry_path);
		p->entry_path = NULL;
	}
}

static int odf_parser(odf_part *p, int manifest)
{
	xmlSAXHandler sax;
	memset(&sax, 0, sizeof sax);
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = manifest ? odf_sax_manifest : odf_sax_start;
	if (!manifest) {
		sax.endElementNs = odf_sax_end;
		sax.characters = odf_sax_text;
		sax.cdataBlock = odf_sax_text;
		sax.ignorableWhitespace = odf_sax_text;
	}
	sax.internalSubset = odf_sax_dtd;
	sax.serror = odf_xml_error;
	p->feed = malloc(SN_ODF_FEED);
	if (!p->feed)
		return -1;
	p->ctxt = xmlCreatePushParserCtxt(&sax, p, NULL, 0, NULL);
	if (!p->ctxt)
		return -1;
	xmlCtxtUseOptions(p->ctxt, XML_OPTIONS);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* A text part, read by the driver                                         */

static int odf_have_output(const odf_part *p)
{
	return p->out.len > p->out_off;
}

static size_t odf_drain(odf_part *p, uint8_t *buf, size_t n)
{
	size_t k = p->out.len - p->out_off;
	if (k > n)
		k = n;
	memcpy(buf, p->out.p + p->out_off, k);
	p->out_off += k;
	if (p->out_off == p->out.len) {
		sn_buf_reset(&p->out);
		p->out_off = 0;
	}
	return k;
}

/* A failure while the driver reads the part is the reason its reader
 * stopped: the driver records it on the part. */
static void odf_stop_input(odf_part *p)
{
	sn_input *in = &p->in;
	p->reported = 1;
	if (p->fail == F_INPUT) {
		in->stop_status = p->d->in->stop_status;
		p->d->in->stop_reported = 1;
	} else {
		in->stop_status = SN_FILE_INCOMPLETE;
	}
	in->stop_reason = p->fail == F_STOP ? "interrupted" : p->why ? p->why : "corrupt";
	snprintf(in->stop_detail, sizeof in->stop_detail, "%s", p->detail);
}

static ssize_t odf_part_read(void *ctx, void *buf, size_t n)
{
	odf_part *p = ctx;
	for (;;) {
		size_t got = odf_drain(p, buf, n);
		if (got) {
			p->in.produced += got;
			return (ssize_t)got;
		}
		if (p->fail) {
			if (p->fail == F_NOMEM) {
				errno = ENOMEM;
				return -1;
			}
			if (!p->reported)
				odf_stop_input(p);
			errno = EIO;
			return -1;
		}
		if (p->eof || p->pull_end || !n)
			return 0;
		p->in_read = 1;
		odf_feed(p);
		p->in_read = 0;
	}
}

/* Hand the text part: the driver reads it to its end (or to a sheet). */
static int odf_hand_text(odf_part *p)
{
	sn_doc *d = p->d;
	p->handed = 1;
	int rc = d->cb->member(d->payload, p->name, &p->in);
	if (rc) {
		p->cb_rc = rc;
		odf_fail(p, F_CB, NULL, NULL);
		return -1;
	}
	return 0;
}

/* After a part: what went wrong, unless the part's reader already said. */
static int odf_outcome(odf_part *p)
{
	sn_doc *d = p->d;
	if (p->images) {
		char det[64];
		snprintf(det, sizeof det, "%llu picture%s embedded in the XML",
			 (unsigned long long)p->images, p->images == 1 ? "" : "s");
		d->cb->record(d->payload, p->name, SN_FILE_SKIPPED, "image", det);
	}
	switch (p->fail) {
	case F_NONE:
		return 0;
	case F_STOP:
		return SN_ESTOP;
	case F_NOMEM:
		return sn_error_set(SN_ENOMEM, "out of memory");
	case F_CB:
		return p->cb_rc;
	case F_INPUT:
		return ODF_END; /* the unit's reader says why */
	case F_LIMIT:
		if (!p->reported)
			d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, p->why, p->detail);
		return ODF_END;
	default:
		if (!p->reported)
			d->cb->record(d->payload, p->name, SN_FILE_INCOMPLETE,
				      p->why ? p->why : "corrupt", p->detail);
		return 0;
	}
}

static void odf_part_free(odf_part *p)
{
	if (p->ctxt)
		xmlFreeParserCtxt(p->ctxt);
	xmlFree(p->entry_path);
	free(p->feed);
	sn_buf_free(&p->out);
	sn_buf_free(&p->side);
	sn_buf_free(&p->t.rowbuf);
	odf_table_clear(&p->t);
	free(p->t.cells);
	free(p->t.cv);
	free(p->t.lv);
	free(p);
}

static odf_part *odf_part_new(sn_doc *d, struct archive *a, const char *name, uint64_t pkg)
{
	odf_part *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->d = d;
	p->name = name;
	const char *slash = strrchr(name, '/');
	p->prefix_len = slash ? (size_t)(slash - name) + 1 : 0;
	p->a = a;
	p->pkg = pkg;
	sn_buf_init(&p->out, SN_ODF_OUT_MAX);
	sn_buf_init(&p->side, SN_ODF_SIDE_FLUSH);
	sn_buf_init(&p->t.rowbuf, SN_ODF_MAX_ROW + SN_ODF_MAX_COLS + 1);
	p->in.read = odf_part_read;
	p->in.ctx = p;
	p->in.fd = -1;
	p->in.name = name;
	p->in.is_text = 1;
	return p;
}

/*
 * Parse one XML part.  Text is handed as one part the driver pulls through
 * odf_part_read; a spreadsheet body ends that part and goes on as tables.
 * Returns 0 (go on with the next part), ODF_END (a limit ended the unit, on
 * record), SN_ESTOP, a callback's code or SN_ENOMEM.
 */
static int odf_xml_part(sn_doc *d, struct archive *a, const char *name, uint64_t pkg,
			int *zip_failed)
{
	int rc = 0;
	odf_part *p = odf_part_new(d, a, name, pkg);
	if (!p || odf_parser(p, 0) < 0) {
		rc = sn_error_set(SN_ENOMEM, "out of memory");
		goto done;
	}
	/* nothing is handed before there is text: styles come first, and a
	 * spreadsheet may have none outside its cells */
	while (!p->fail && !p->eof && !p->pull_end && !odf_have_output(p))
		odf_feed(p);
	if (odf_have_output(p) && !p->handed && p->fail != F_CB)
		odf_hand_text(p);
	while (p->pull_end && !p->fail && !p->eof)
		odf_feed(p);
	if (p->fail != F_STOP && p->fail != F_CB && p->fail != F_NOMEM) {
		/* damage ends the part, not what it held so far */
		int keep = p->fail;
		const char *why = p->why;
		char det[sizeof p->detail];
		memcpy(det, p->detail, sizeof det);
		p->fail = F_NONE;
		if (p->t.active)
			odf_table_finish(p);
		if (!p->fail)
			odf_side_flush(p);
		if (!p->fail) {
			p->fail = keep;
			p->why = why;
			memcpy(p->detail, det, sizeof det);
		}
	}
	rc = odf_outcome(p);
	*zip_failed = p->fail == F_ZIP;
done:
	if (p)
		odf_part_free(p);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Other members: nested units                                             */

typedef struct odf_nested {
	sn_input in;
	struct archive *a;
	sn_doc *d;
	uint64_t pkg;
	int limit;
	int started;
	int64_t zstart;          /* package bytes consumed before the member */
} odf_nested;

static void odf_nested_stop(odf_nested *m, const char *why, const char *detail)
{
	sn_input_stop(&m->in, SN_FILE_INCOMPLETE, why, detail);
}

static ssize_t odf_nested_read(void *ctx, void *buf, size_t n)
{
	odf_nested *m = ctx;
	if (m->in.stop_reason) {
		errno = EIO;
		return -1;
	}
	if (sn_stop_requested(m->d->b->stop)) {
		odf_nested_stop(m, "interrupted", NULL);
		errno = EINTR;
		return -1;
	}
	if (!m->started) {
		m->started = 1;
		m->zstart = archive_filter_bytes(m->a, -1);
	}
	la_ssize_t k = archive_read_data(m->a, buf, n);
	if (k < 0) {
		const char *e = archive_error_string(m->a);
		odf_nested_stop(m, sn_archive_encrypted(m->a) ? "encrypted" : "corrupt", e);
		errno = EIO;
		return -1;
	}
	if (k > 0) {
		int64_t used = archive_filter_bytes(m->a, -1) - m->zstart;
		const char *why = sn_doc_check_part(m->d, (uint64_t)k, m->in.produced + (uint64_t)k,
						    used > 0 ? (uint64_t)used : 0);
		if (why) {
			char det[96];
			snprintf(det, sizeof det, "stopped after %llu bytes",
				 (unsigned long long)m->in.produced);
			odf_nested_stop(m, why, det);
			m->limit = 1;
			errno = EFBIG;
			return -1;
		}
		m->in.produced += (uint64_t)k;
	}
	return (ssize_t)k;
}

static int odf_nested_member(sn_doc *d, struct archive *a, const char *name, uint64_t pkg,
			     int *zip_failed)
{
	odf_nested m;
	memset(&m, 0, sizeof m);
	m.a = a;
	m.d = d;
	m.pkg = pkg;
	m.in.read = odf_nested_read;
	m.in.ctx = &m;
	m.in.fd = -1;
	m.in.name = name;
	int rc = d->cb->member(d->payload, name, &m.in);
	*zip_failed = m.in.stop_reason && !m.limit;
	if (rc)
		return rc;
	return m.limit ? ODF_END : 0;
}

/* ---------------------------------------------------------------------- */
/* The package                                                             */

enum { M_SKIP, M_XML, M_IMAGE, M_NESTED };

static int odf_has_prefix(const char *s, const char *pre)
{
	return strncmp(s, pre, strlen(pre)) == 0;
}

static int odf_member_kind(const char *name)
{
	static const char *const images[] = { ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif",
					      ".tiff", ".svg", ".svm", ".wmf", ".emf", ".webp" };
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (strcmp(name, "mimetype") == 0 || strcmp(name, "META-INF/manifest.xml") == 0 ||
	    strcmp(name, "layout-cache") == 0 || odf_has_prefix(name, "Thumbnails/") ||
	    odf_has_prefix(name, "Configurations2/") || odf_has_prefix(name, "ObjectReplacements/") ||
	    strcmp(base, "settings.xml") == 0 || strcmp(base, "manifest.rdf") == 0)
		return M_SKIP;
	if (strcmp(base, "content.xml") == 0 || strcmp(base, "styles.xml") == 0 ||
	    strcmp(base, "meta.xml") == 0)
		return M_XML;
	if (odf_has_prefix(name, "Pictures/") || strstr(name, "/Pictures/"))
		return M_IMAGE;
	const char *dot = strrchr(base, '.');
	for (size_t i = 0; dot && i < sizeof images / sizeof images[0]; i++)
		if (strcasecmp(dot, images[i]) == 0)
			return M_IMAGE;
	return M_NESTED;
}

typedef struct odf_pkg {
	sn_doc *d;
	uint8_t *mem;            /* the package, when it is not a file */
	size_t mem_len;
	uint64_t size;
	int streamable;          /* no central directory: members in order */
	/* from the manifest */
	sn_buf enc;              /* names of encrypted parts, NUL-separated */
	const char **encv;
	size_t nenc;
	int enc_all, has_content;
	int has_styles;          /* a style template holds styles.xml and no content.xml */
} odf_pkg;

static struct archive *odf_open(odf_pkg *k, int streamable)
{
	struct archive *a = archive_read_new();
	int r;
	if (!a)
		return NULL;
	if (streamable)
		archive_read_support_format_zip_streamable(a);
	else
		archive_read_support_format_zip_seekable(a);
	if (k->mem)
		r = archive_read_open_memory(a, k->mem, k->mem_len);
	else if (lseek(k->d->in->fd, 0, SEEK_SET) == 0)
		r = archive_read_open_fd(a, k->d->in->fd, SN_ODF_BLOCK);
	else
		r = ARCHIVE_FATAL;
	if (r < ARCHIVE_WARN) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static const char *odf_entry_name(struct archive_entry *e)
{
	/* UTF-8 whatever the locale; the raw form for names no charset fits */
	const char *name = archive_entry_pathname_utf8(e);
	if (!name)
		name = archive_entry_pathname(e);
	return name && *name ? name : "?";
}

static int odf_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}


static void odf_manifest_entry(odf_part *p, const char *path)
{
	odf_pkg *k = p->manifest;
	size_t n = strlen(path);
	if (k->enc.len + n + 1 > SN_ODF_MAX_ENC_BYTES || k->nenc == SN_ODF_MAX_ENC) {
		k->enc_all = 1; /* too many to list: all of it counts as encrypted */
		return;
	}
	sn_buf_put(&k->enc, path, n);
	sn_buf_putc(&k->enc, '\0');
	k->nenc++;
}

/* Read META-INF/manifest.xml: which parts are encrypted. */
static int odf_manifest(odf_pkg *k, struct archive *a)
{
	int rc = 0;
	odf_part *p = odf_part_new(k->d, a, "META-INF/manifest.xml", k->size);
	if (!p || odf_parser(p, 1) < 0) {
		rc = sn_error_set(SN_ENOMEM, "out of memory");
		goto done;
	}
	p->manifest = k;
	p->push = 1; /* no text here: blocks are not cut */
	while (!p->fail && !p->eof)
		odf_feed(p);
	if (k->enc.failed) {
		rc = sn_error_set(SN_ENOMEM, "out of memory");
		goto done;
	}
	if (p->fail == F_STOP) {
		rc = SN_ESTOP;
	} else if (p->fail == F_LIMIT) {
		k->d->cb->record(k->d->payload, NULL, SN_FILE_INCOMPLETE, p->why, p->detail);
		rc = ODF_END;
	}
	/* a damaged manifest only means nothing is known to be encrypted */
	if (rc == 0 && k->nenc) {
		k->encv = malloc(k->nenc * sizeof *k->encv);
		if (!k->encv) {
			rc = sn_error_set(SN_ENOMEM, "out of memory");
			goto done;
		}
		const char *s = k->enc.p;
		for (size_t i = 0; i < k->nenc; i++) {
			k->encv[i] = s;
			s += strlen(s) + 1;
		}
		qsort(k->encv, k->nenc, sizeof *k->encv, odf_cmp);
	}
done:
	if (p)
		odf_part_free(p);
	return rc;
}

static int odf_is_encrypted(const odf_pkg *k, const char *name)
{
	if (!k->nenc)
		return 0;
	return bsearch(&name, k->encv, k->nenc, sizeof *k->encv, odf_cmp) != NULL;
}

/* First pass: the manifest (written last by most applications) before any
 * part is read, and whether there is a content.xml at all. */
static int odf_survey(odf_pkg *k)
{
	struct archive *a = odf_open(k, 0);
	struct archive_entry *e;
	int rc = 0;
	if (!a) {
		k->streamable = 1;
		a = odf_open(k, 1);
		if (!a)
			return 0; /* the second pass says what is wrong */
	}
	while (archive_read_next_header(a, &e) >= ARCHIVE_WARN) {
		const char *name = odf_entry_name(e);
		if (strcmp(name, "content.xml") == 0)
			k->has_content = 1;
		else if (strcmp(name, "styles.xml") == 0)
			k->has_styles = 1;
		else if (strcmp(name, "META-INF/manifest.xml") == 0) {
			rc = odf_manifest(k, a);
			if (rc)
				break;
		}
	}
	archive_read_free(a);
	return rc;
}

static int odf_package(sn_doc *d)
{
	odf_pkg k;
	struct archive *a = NULL;
	struct archive_entry *e;
	int rc = 0, failures = 0, r, zip_failed = 0;
	memset(&k, 0, sizeof k);
	k.d = d;
	sn_buf_init(&k.enc, SN_ODF_MAX_ENC_BYTES);
	if (d->in->fd >= 0) {
		struct stat st;
		if (fstat(d->in->fd, &st) != 0) {
			d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, "read-error",
				      strerror(errno));
			goto done;
		}
		k.size = (uint64_t)st.st_size;
		if (d->path && d->b->top_consumed < k.size)
			d->b->top_consumed = k.size;
	} else {
		rc = sn_doc_buffer(d, &k.mem, &k.mem_len);
		if (rc) {
			rc = rc == 1 ? 0 : rc;
			goto done;
		}
		k.size = k.mem_len;
	}

	rc = odf_survey(&k);
	if (rc)
		goto done;
	if (k.enc_all || (k.nenc && (!k.has_content || odf_is_encrypted(&k, "content.xml")))) {
		d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, "encrypted",
			      "password-protected document");
		goto done;
	}

	a = odf_open(&k, k.streamable);
	if (!a) {
		d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, "corrupt",
			      "not a readable zip package");
		goto done;
	}
	for (;;) {
		if (sn_stop_requested(d->b->stop)) {
			rc = SN_ESTOP;
			break;
		}
		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			/* after damage inside a part (on record) a zip may still
			 * reach the next one; when it cannot, that is the same
			 * damage -- as it is for a package read in order, which is
			 * on record below */
			if (!zip_failed && !k.streamable)
				d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, "corrupt",
					      archive_error_string(a));
			if (r == ARCHIVE_FATAL || ++failures > 16)
				break;
			continue;
		}
		failures = 0;
		d->b->entries++;
		const char *why = sn_doc_check(d, 0, k.size);
		if (why) {
			d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, why,
				      "the rest of this document was not read");
			break;
		}
		unsigned ft = archive_entry_filetype(e);
		if (ft != AE_IFREG && ft != 0)
			continue;
		const char *name = odf_entry_name(e);
		int kind = odf_member_kind(name);
		if (kind == M_SKIP)
			continue;
		if (archive_entry_is_encrypted(e) || odf_is_encrypted(&k, name)) {
			d->cb->record(d->payload, name, SN_FILE_INCOMPLETE, "encrypted",
				      "encrypted part");
			continue;
		}
		if (kind == M_IMAGE) {
			d->cb->record(d->payload, name, SN_FILE_SKIPPED, "image",
				      "picture in the document");
			continue;
		}
		zip_failed = 0;
		if (kind == M_XML)
			rc = odf_xml_part(d, a, name, k.size, &zip_failed);
		else
			rc = odf_nested_member(d, a, name, k.size, &zip_failed);
		if (rc == ODF_END) {
			rc = 0;
			break;
		}
		if (rc)
			break;
	}
	if (k.streamable && rc == 0)
		d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, "corrupt",
			      "zip central directory missing or damaged; the parts were read in "
			      "order up to the damage");
	else if (!k.has_content && !k.has_styles && rc == 0)
		d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, "corrupt",
			      "neither content.xml nor styles.xml in the package");
done:
	archive_read_free(a);
	free(k.mem);
	free(k.encv);
	sn_buf_free(&k.enc);
	return rc == ODF_END ? 0 : rc;
}

/* ---------------------------------------------------------------------- */
/* The decoder                                                             */

/* A flat (single XML file) OpenDocument: its root is office:document, or
 * one of the parts on its own (office:document-content, -styles, -meta). */
static int odf_is_flat(const uint8_t *head, size_t n)
{
	static const char root[] = "<office:document";
	size_t i = n >= 3 && memcmp(head, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
		i++;
	if (i == n || head[i] != '<')
		return 0; /* not XML: most text is turned away here, cheaply */
	const uint8_t *r = memmem(head, n, root, sizeof root - 1);
	if (!r)
		return 0;
	size_t at = (size_t)(r - head) + sizeof root - 1;
	if (at >= n)
		return 0;
	char c = (char)head[at];
	if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '-' && c != '>')
		return 0;
	/* the namespace declaration, on the root element */
	return memmem(head, n, NS_OFFICE, sizeof NS_OFFICE - 1) != NULL;
}

static int odf_accepts(const sn_type *ty, const uint8_t *head, size_t n)
{
	if (ty && ty->reason && strcmp(ty->reason, "document") == 0 &&
	    strcmp(ty->detail, "OpenDocument file") == 0)
		return 1;
	return n >= 4 && memcmp(head, "PK", 2) != 0 && odf_is_flat(head, n);
}

static int odf_decode(sn_doc *d)
{
	pthread_once(&odf_once, odf_init);
	/* this thread's libxml2 messages go nowhere: they can quote the document */
	xmlSetGenericErrorFunc(NULL, odf_generic_quiet);
	xmlSetStructuredErrorFunc(NULL, odf_structured_quiet);
	if (d->head_len >= 2 && memcmp(d->head, "PK", 2) == 0)
		return odf_package(d);
	int zip_failed = 0;
	int rc = odf_xml_part(d, NULL, "content.xml", 0, &zip_failed);
	return rc == ODF_END ? 0 : rc;
}

const sn_decoder sn_decoder_odf = { "odf", odf_accepts, odf_decode };
