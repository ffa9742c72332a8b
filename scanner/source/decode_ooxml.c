/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Office Open XML: docx, xlsx, pptx and their macro and template variants.
 * A package is a zip of XML parts, read with libarchive (zip only) and
 * libxml2's streaming xmlTextReader, so no part is ever held whole.
 *
 * Word and PowerPoint parts, comments, document properties, data bound to
 * content controls and pivot caches become text parts: the runs of one
 * paragraph joined without separators (Word splits "123456782" over several
 * runs at will), a newline per paragraph, a tab per table cell.  Excel
 * sheets become tables, row by row, with the sheet's own row numbers and
 * column positions; their shared strings and sheet names are read first, and
 * since Excel writes the sheets before the shared strings, the sheets that
 * came too early are read in a second pass over the package (it is a
 * seekable file or held in memory).  Images are counted as skipped; embedded
 * objects, imported chunks and other media are handed on, streamed, as
 * nested units.  Styles, themes, settings and relationships hold no text.
 *
 * Hostile packages: every inflated byte goes through sn_doc_check (the
 * package's size is what was consumed), and bytes handed out of the shared
 * strings table count too, since one small cell can name a long string.  The
 * parser never substitutes entities, loads a DTD or touches the network, and
 * a part whose prolog holds a DTD at all -- OPC forbids them -- is refused
 * before libxml2 sees it, so neither entity bombs nor external entities
 * reach the parser.  That check reads the bytes as the parser will, so the
 * XML declaration may only name encodings in which it holds (UTF-8, UTF-16,
 * ASCII-compatible 8-bit ones); libxml2's messages never reach stderr.
 */
#include "source/decoder.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>
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

#define SN_OOXML_BLOCK (64 * 1024)   /* read size for the package file */
#define SN_OOXML_DEPTH 260           /* element depth tracked for parent checks:
					libxml2 refuses more than 256 without
					XML_PARSE_HUGE */
#define SN_OOXML_MAX_COLS 16384      /* Excel's last column, XFD */
#define SN_OOXML_MAX_ROW (8u << 20)  /* inline and numeric cell bytes held for
					one row; the matcher cuts rows at 4 MiB */
#define SN_OOXML_MAX_QUEUE (16u << 20) /* attribute text queued for a text part;
					  libxml2 caps one value at 10 MB */
#define SN_OOXML_MAX_HEADER 256      /* a longer cell is data, not a column name */
#define SN_OOXML_MAX_TITLES 5 /* one-cell title rows looked past for a header */
#define SN_OOXML_MAX_SHEET_TEXT (8u << 20) /* a sheet's header row (at most
					      XFD cells of 256 bytes) and page
					      headers/footers as text */
#define SN_OOXML_MAX_NAMES 65536     /* sheets and relationships remembered */
#define SN_OOXML_PATH 1024           /* longest part name resolved from a relationship */
#define SN_OOXML_DECL 256            /* longest XML declaration accepted */
#define SN_OOXML_OPTS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

/* ---------------------------------------------------------------------- */
/* libxml2: initialised once, silent on every thread                       */

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

static void xml_quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void xml_quiet_structured(void *ctx, xmlErrorPtr e)
{
	(void)ctx;
	(void)e;
}

/* ---------------------------------------------------------------------- */
/* The prolog guard: no DTD reaches the parser                             */

enum { GX_OK = 0, GX_DTD, GX_ENCODING };
enum { G_TOP, G_LT, G_BANG, G_DASH, G_COMMENT, G_PI, G_DONE };
enum { W_UNKNOWN, W_8BIT, W_16LE, W_16BE };

/*
 * Reads a part's first bytes as libxml2 will (the same encoding detection),
 * up to the start of the root element: only white space, comments and
 * processing instructions may come before it, so "<!DOCTYPE" -- or anything
 * else starting with "<!" that is not a comment -- is refused.  After the
 * root element starts a DTD can no longer be declared, so the rest of the
 * part is not looked at.
 */
typedef struct xml_guard {
	uint8_t first[4];
	unsigned nfirst;
	int width;
	unsigned skip;          /* byte-order mark bytes still to pass */
	int have_odd;           /* UTF-16: a byte waiting for its pair */
	uint8_t odd;
	int st;
	unsigned run;           /* dashes (comment) or a '?' (PI) just seen */
	uint64_t units;         /* characters seen, the byte-order mark aside */
	uint64_t lt_at;         /* where the last '<' was */
	int in_decl;
	char decl[SN_OOXML_DECL];
	size_t ndecl;
	int verdict;
} xml_guard;

static int guard_encoding_ok(const xml_guard *g, const char *enc)
{
	static const char *const ascii[] = { "utf-8", "utf8", "us-ascii", "ascii",
					     "iso-8859-", "iso8859-", "windows-125", "cp125",
					     "latin1" };
	size_t n = strlen(enc);
	if (g->width == W_16LE || g->width == W_16BE)
		/* libxml2 would switch decoders on anything else, behind the
		 * back of this check */
		return strcasecmp(enc, "utf-16") == 0 || strcasecmp(enc, "utf16") == 0 ||
		       strcasecmp(enc, g->width == W_16LE ? "utf-16le" : "utf-16be") == 0;
	for (size_t i = 0; i < sizeof ascii / sizeof ascii[0]; i++) {
		size_t k = strlen(ascii[i]);
		int prefix = ascii[i][k - 1] == '-' || ascii[i][k - 1] == '5';
		if (prefix ? n >= k && strncasecmp(enc, ascii[i], k) == 0 :
			     strcasecmp(enc, ascii[i]) == 0)
			return 1;
	}
	return 0;
}

/* The XML declaration (decl holds what follows "<?"): its encoding, if any. */
static int guard_check_decl(xml_guard *g)
{
	char enc[48];
	const char *s, *e;
	g->decl[g->ndecl] = '\0';
	if (strncmp(g->decl, "xml", 3) != 0 || !isspace((unsigned char)g->decl[3]))
		return GX_OK; /* a processing instruction, not the declaration */
	s = strstr(g->decl, "encoding");
	if (!s)
		return GX_OK;
	s += 8;
	while (isspace((unsigned char)*s))
		s++;
	if (*s++ != '=')
		return GX_ENCODING;
	while (isspace((unsigned char)*s))
		s++;
	if (*s != '"' && *s != '\'')
		return GX_ENCODING;
	e = strchr(s + 1, *s);
	if (!e || (size_t)(e - s - 1) >= sizeof enc)
		return GX_ENCODING;
	memcpy(enc, s + 1, (size_t)(e - s - 1));
	enc[e - s - 1] = '\0';
	return guard_encoding_ok(g, enc) ? GX_OK : GX_ENCODING;
}

static int guard_char(xml_guard *g, uint32_t c)
{
	if (g->units == 0 && c == 0xFEFF)
		return GX_OK; /* UTF-16 byte-order mark */
	switch (g->st) {
	case G_TOP:
		if (c == '<') {
			g->st = G_LT;
			g->lt_at = g->units;
		} else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			g->st = G_DONE; /* not well-formed: the parser says so */
		}
		break;
	case G_LT:
		if (c == '?') {
			g->st = G_PI;
			g->run = 0;
			g->in_decl = g->lt_at == 0;
			g->ndecl = 0;
		} else if (c == '!') {
			g->st = G_BANG;
		} else {
			g->st = G_DONE; /* the root element */
		}
		break;
	case G_BANG:
	case G_DASH:
		if (c != '-')
			return GX_DTD;
		g->st = g->st == G_BANG ? G_DASH : G_COMMENT;
		g->run = 0;
		break;
	case G_COMMENT:
		if (c == '>' && g->run >= 2)
			g->st = G_TOP;
		else
			g->run = c == '-' ? g->run + 1 : 0;
		break;
	case G_PI:
		if (g->in_decl) {
			if (g->ndecl == sizeof g->decl - 1)
				return GX_ENCODING;
			g->decl[g->ndecl++] = c < 0x80 ? (char)c : '?';
		}
		if (c == '>' && g->run) {
			g->st = G_TOP;
			if (g->in_decl) {
				g->in_decl = 0;
				int v = guard_check_decl(g);
				if (v)
					return v;
			}
		} else {
			g->run = c == '?';
		}
		break;
	default:
		break;
	}
	g->units++;
	return GX_OK;
}

static void guard_detect(xml_guard *g)
{
	const uint8_t *b = g->first;
	/* libxml2's xmlDetectCharEncoding, in its order */
	if ((b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == '<') ||
	    (b[0] == '<' && b[1] == 0 && b[2] == 0 && b[3] == 0) ||
	    (b[0] == 0 && b[1] == 0 && b[2] == '<' && b[3] == 0) ||
	    (b[0] == 0 && b[1] == '<' && b[2] == 0 && b[3] == 0) ||
	    (b[0] == 0x4C && b[1] == 0x6F && b[2] == 0xA7 && b[3] == 0x94)) {
		g->verdict = GX_ENCODING; /* UCS-4, EBCDIC: not allowed in OOXML */
		return;
	}
	if (b[0] == '<' && b[1] == '?' && b[2] == 'x' && b[3] == 'm')
		g->width = W_8BIT;
	else if (b[0] == 0 && b[1] == '<' && b[2] == 0 && b[3] == '?')
		g->width = W_16BE;
	else if (b[0] == '<' && b[1] == 0 && b[2] == '?' && b[3] == 0)
		g->width = W_16LE;
	else if (b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
		g->width = W_8BIT;
		g->skip = 3;
	} else if (b[0] == 0xFE && b[1] == 0xFF)
		g->width = W_16BE;
	else if (b[0] == 0xFF && b[1] == 0xFE)
		g->width = W_16LE;
	else
		g->width = W_8BIT;
}

static int guard_bytes(xml_guard *g, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && g->st != G_DONE && !g->verdict; i++) {
		if (g->skip) {
			g->skip--;
			continue;
		}
		if (g->width == W_8BIT) {
			g->verdict = guard_char(g, p[i]);
			continue;
		}
		if (!g->have_odd) {
			g->have_odd = 1;
			g->odd = p[i];
			continue;
		}
		g->have_odd = 0;
		uint32_t c = g->width == W_16LE ? (uint32_t)g->odd | (uint32_t)p[i] << 8 :
						  (uint32_t)g->odd << 8 | p[i];
		g->verdict = guard_char(g, c);
	}
	return g->verdict;
}

/* Bytes on their way to the parser: GX_OK, or why they must not get there. */
static int guard_feed(xml_guard *g, const uint8_t *p, size_t n)
{
	if (g->verdict || g->st == G_DONE)
		return g->verdict;
	if (g->width == W_UNKNOWN) {
		size_t i = 0;
		while (g->nfirst < 4 && i < n)
			g->first[g->nfirst++] = p[i++];
		if (g->nfirst < 4)
			return GX_OK; /* fewer than four bytes hold no DTD */
		guard_detect(g);
		if (g->verdict || guard_bytes(g, g->first, 4))
			return g->verdict;
		p += i;
		n -= i;
	}
	return guard_bytes(g, p, n);
}

/* ---------------------------------------------------------------------- */
/* The package                                                             */

typedef struct pair {
	char *k, *v;
} pair;

typedef struct pairs {
	pair *a;
	size_t n, cap;
} pairs;

/* The shared strings, each NUL-terminated in one arena. */
typedef struct sst {
	sn_buf text;
	size_t *off;
	size_t n, cap, max;
} sst;

typedef struct pkg {
	sn_doc *d;
	struct archive *a;
	int fd;                 /* the seekable file, or -1 */
	uint8_t *mem;           /* or the package in memory */
	size_t mem_len;
	uint64_t size;          /* the package's bytes: what inflating consumes */
	const char *halt;       /* a limit ended the document (on record) */
	int recorded;           /* the package as a whole is on record */
	int zip_fatal;          /* the last member's data was cut off */
	int pass;
	uint64_t ordinal;       /* entries read in this pass */
	uint64_t *deferred;     /* ordinals of sheets read in the second pass */
	size_t ndeferred, capdeferred, next_deferred;
	int main_seen;          /* a Word, Excel or PowerPoint main part */
	/* workbook */
	int wb_read, rels_read, sst_read, rels_has_sst, map_built;
	char *sst_part;
	pairs sheets;           /* relationship id -> sheet name */
	pairs rels;             /* relationship id -> part name */
	pairs map;              /* part name -> sheet name, sorted */
	sst strings;
} pkg;

static int stopping(const pkg *p)
{
	return sn_stop_requested(p->d->b->stop);
}

static void pkg_record(pkg *p, const char *name, sn_file_status st, const char *reason,
		       const char *detail)
{
	if (!name)
		p->recorded = 1;
	p->d->cb->record(p->d->payload, name, st, reason, detail);
}

static void pkg_halt(pkg *p, const char *why)
{
	char detail[96];
	if (p->halt)
		return;
	p->halt = why;
	snprintf(detail, sizeof detail, "stopped after %llu bytes of inflated parts",
		 (unsigned long long)p->d->produced);
	pkg_record(p, NULL, SN_FILE_INCOMPLETE, why, detail);
}

static int pairs_add(pairs *l, const char *k, const char *v)
{
	if (l->n == SN_OOXML_MAX_NAMES)
		return 0; /* past any real workbook: the fallback names serve */
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		pair *a = realloc(l->a, ncap * sizeof *a);
		if (!a)
			return sn_error_set(SN_ENOMEM, "out of memory");
		l->a = a;
		l->cap = ncap;
	}
	pair *e = &l->a[l->n];
	e->k = strdup(k);
	e->v = strdup(v);
	if (!e->k || !e->v) {
		free(e->k);
		free(e->v);
		return sn_error_set(SN_ENOMEM, "out of memory");
	}
	l->n++;
	return 0;
}

static void pairs_free(pairs *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->a[i].k);
		free(l->a[i].v);
	}
	free(l->a);
	memset(l, 0, sizeof *l);
}

static int pair_cmp_k(const void *a, const void *b)
{
	return strcmp(((const pair *)a)->k, ((const pair *)b)->k);
}

static int pair_cmp_kci(const void *a, const void *b)
{
	return strcasecmp(((const pair *)a)->k, ((const pair *)b)->k);
}


/* ---------------------------------------------------------------------- */
/* A zip member's bytes, counted against the budget                        */

enum { ZE_NONE, ZE_LIMIT, ZE_STOP, ZE_ZIP, ZE_ENCRYPTED, ZE_DTD, ZE_ENCODING };

typedef struct zsrc {
	pkg *p;
	const uint8_t *blk;
	size_t left;
	int eof, err;
	int guard;              /* an XML part: its prolog is checked */
	xml_guard g;
	char detail[128];
	int started;            /* the member's first block was asked for */
	int64_t start;          /* package bytes consumed before the member */
	uint64_t produced;      /* bytes the member inflated to so far */
} zsrc;

static ssize_t zsrc_read(zsrc *z, void *buf, size_t n)
{
	pkg *p = z->p;
	while (z->left == 0) {
		const void *blk;
		size_t size;
		la_int64_t off;
		if (z->err)
			return -1;
		if (z->eof)
			return 0;
		if (stopping(p)) {
			z->err = ZE_STOP;
			return -1;
		}
		if (!z->started) {
			z->started = 1;
			z->start = archive_filter_bytes(p->a, -1);
		}
		int r = archive_read_data_block(p->a, &blk, &size, &off);
		if (r == ARCHIVE_EOF) {
			z->eof = 1;
			return 0;
		}
		if (r < ARCHIVE_WARN) {
			const char *e = archive_error_string(p->a);
			z->err = sn_archive_encrypted(p->a) ? ZE_ENCRYPTED : ZE_ZIP;
			p->zip_fatal = r == ARCHIVE_FATAL;
			snprintf(z->detail, sizeof z->detail, "%s", e ? e : "damaged zip member");
			return -1;
		}
		/* a member is judged on its own compressed bytes, as archive
		 * members are: a deflate bomb stops after --max-ratio x its
		 * compressed size (past 16 MiB), not x the whole package */
		z->produced += size;
		int64_t used = archive_filter_bytes(p->a, -1) - z->start;
		const char *why = p->halt ? p->halt
				  : sn_doc_check_part(p->d, size, z->produced,
						      used > 0 ? (uint64_t)used : 0);
		if (why) {
			pkg_halt(p, why);
			z->err = ZE_LIMIT;
			return -1;
		}
		z->blk = blk;
		z->left = size;
	}
	size_t k = n < z->left ? n : z->left;
	if (z->guard) {
		int g = guard_feed(&z->g, z->blk, k);
		if (g) {
			z->err = g == GX_DTD ? ZE_DTD : ZE_ENCODING;
			return -1;
		}
	}
	memcpy(buf, z->blk, k);
	z->blk += k;
	z->left -= k;
	return (ssize_t)k;
}

/* Why a part could not be read to its end: its ledger reason and detail;
 * NULL when a limit stopped it (the package is on record for it). */
static const char *zsrc_why(const zsrc *z, int xml_err, int xml_line, char *detail, size_t dn)
{
	detail[0] = '\0';
	switch (z->err) {
	case ZE_LIMIT:
		return NULL;
	case ZE_STOP:
		return "interrupted";
	case ZE_ZIP:
		snprintf(detail, dn, "%s", z->detail);
		return "corrupt";
	case ZE_ENCRYPTED:
		snprintf(detail, dn, "%s", z->detail);
		return "encrypted";
	case ZE_DTD:
		snprintf(detail, dn, "a DTD in an OOXML part (not allowed there): not parsed");
		return "corrupt";
	case ZE_ENCODING:
		snprintf(detail, dn, "an XML encoding OOXML does not allow");
		return "unsupported";
	default:
		if (xml_err)
			snprintf(detail, dn, "XML not well-formed (libxml2 error %d, line %d)",
				 xml_err, xml_line);
		else
			snprintf(detail, dn, "XML not well-formed");
		return "corrupt";
	}
}

/* A reader that stopped before the end says why (the driver records it,
 * named by the part), unless the package is already on record for it. */
static void input_fail(sn_input *in, const pkg *p, const zsrc *z, int xml_err, int xml_line)
{
	if (in->stop_reason)
		return;
	in->stop_status = SN_FILE_INCOMPLETE;
	in->stop_reason = zsrc_why(z, xml_err, xml_line, in->stop_detail, sizeof in->stop_detail);
	if (!in->stop_reason) {
		in->stop_reason = p->halt ? p->halt : "limit";
		in->stop_reported = 1;
	}
}

/* ---------------------------------------------------------------------- */
/* An XML part through xmlTextReader                                       */

typedef struct xpart {
	zsrc z;
	xmlTextReaderPtr r;
	int have_node, have_rc; /* positioned by a skip, not yet handed out */
	int xml_err, xml_line;  /* the parser's first fatal error */
	const char *stack[SN_OOXML_DEPTH]; /* local names of the open elements */
} xpart;

static int xpart_io(void *ctx, char *buf, int len)
{
	ssize_t k = zsrc_read(ctx, buf, len > 0 ? (size_t)len : 0);
	return k < 0 ? -1 : (int)k;
}

static void xpart_on_error(void *ctx, xmlErrorPtr e)
{
	xpart *x = ctx;
	if (e && e->level == XML_ERR_FATAL && !x->xml_err) {
		x->xml_err = e->code ? e->code : -1;
		x->xml_line = e->line;
	}
}

static int xpart_open(xpart *x, pkg *p)
{
	memset(x, 0, sizeof *x);
	x->z.p = p;
	x->z.guard = 1;
	x->r = xmlReaderForIO(xpart_io, NULL, &x->z, NULL, NULL, SN_OOXML_OPTS);
	if (!x->r)
		return sn_error_set(SN_ENOMEM, "out of memory");
	xmlTextReaderSetStructuredErrorHandler(x->r, xpart_on_error, x);
	return 0;
}

static void xpart_close(xpart *x)
{
	if (x->r)
		xmlFreeTextReader(x->r);
	x->r = NULL;
}

/* The next node: 1, 0 at the end of the part, -1 when it cannot be read. */
static int xpart_next(xpart *x)
{
	int r;
	if (x->have_node) {
		x->have_node = 0;
		r = x->have_rc;
	} else {
		r = xmlTextReaderRead(x->r);
	}
	if (r == 1) {
		if (stopping(x->z.p)) {
			x->z.err = ZE_STOP;
			return -1;
		}
		if (xmlTextReaderNodeType(x->r) == XML_READER_TYPE_ELEMENT) {
			int dp = xmlTextReaderDepth(x->r);
			if (dp >= 0 && dp < SN_OOXML_DEPTH)
				x->stack[dp] = (const char *)xmlTextReaderConstLocalName(x->r);
		}
		return 1;
	}
	/* a read error may end the parse quietly: the source says so */
	return r == 0 && !x->z.err && !x->xml_err ? 0 : -1;
}

/* Pass over the subtree of the current (non-empty) element. */
static void xpart_skip(xpart *x)
{
	x->have_rc = xmlTextReaderNext(x->r);
	x->have_node = 1;
}

static const char *xpart_parent(const xpart *x)
{
	int dp = xmlTextReaderDepth(x->r);
	return dp > 0 && dp <= SN_OOXML_DEPTH ? x->stack[dp - 1] : NULL;
}

static const char *xpart_name(const xpart *x)
{
	const xmlChar *n = xmlTextReaderConstLocalName(x->r);
	return n ? (const char *)n : "";
}

/* A copy of the current element's attribute with local name `ln`, or NULL. */
static char *xpart_attr(xpart *x, const char *ln)
{
	char *v = NULL;
	if (xmlTextReaderMoveToFirstAttribute(x->r) != 1)
		return NULL;
	do {
		const xmlChar *n = xmlTextReaderConstLocalName(x->r);
		if (n && strcmp((const char *)n, ln) == 0) {
			const xmlChar *val = xmlTextReaderConstValue(x->r);
			v = strdup(val ? (const char *)val : "");
			break;
		}
	} while (xmlTextReaderMoveToNextAttribute(x->r) == 1);
	xmlTextReaderMoveToElement(x->r);
	return v;
}

/* The same into `buf` (cell references, types: short), without an
 * allocation per cell; 0 when absent or longer than the buffer. */
static int xpart_attr_into(xpart *x, const char *ln, char *buf, size_t n)
{
	int found = 0;
	buf[0] = '\0';
	if (xmlTextReaderMoveToFirstAttribute(x->r) != 1)
		return 0;
	do {
		const xmlChar *name = xmlTextReaderConstLocalName(x->r);
		if (name && strcmp((const char *)name, ln) == 0) {
			const xmlChar *v = xmlTextReaderConstValue(x->r);
			size_t len = v ? strlen((const char *)v) : 0;
			if (len < n) {
				memcpy(buf, v ? (const char *)v : "", len + 1);
				found = 1;
			}
			break;
		}
	} while (xmlTextReaderMoveToNextAttribute(x->r) == 1);
	xmlTextReaderMoveToElement(x->r);
	return found;
}

/* Record a part that could not be read to its end; SN_ESTOP when the scan
 * is stopping. */
static int xpart_record(pkg *p, const xpart *x, const char *name)
{
	char detail[160];
	const char *why = zsrc_why(&x->z, x->xml_err, x->xml_line, detail, sizeof detail);
	if (x->z.err == ZE_STOP)
		return SN_ESTOP;
	if (why)
		pkg_record(p, name, SN_FILE_INCOMPLETE, why, detail[0] ? detail : NULL);
	return 0;
}

static int is_text_node(int type)
{
	return type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
	       type == XML_READER_TYPE_WHITESPACE || type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE;
}

/* ---------------------------------------------------------------------- */
/* Text parts                                                              */

enum {
	R_TEXT = 1, /* text directly inside this element is document text */
	R_RUN = 2,  /* only inside a run ("r"): w:tab elsewhere is a tab stop */
	R_SKIP = 4  /* nothing inside is text (phonetic guides) */
};

typedef struct el_rule {
	const char *name;     /* local name: prefixes vary (Strict OOXML) */
	unsigned flags;
	const char *open;     /* emitted at the start tag */
	const char *close;    /* emitted at the end tag */
	const char *attr[3];  /* attribute values emitted at the start tag */
	const char *attr_sep; /* after each of them */
} el_rule;

typedef struct text_rules {
	const el_rule *el;
	size_t n;
	int all_text;         /* every text node is text (document properties) */
	const char *text_sep; /* after each text node */
} text_rules;

static const el_rule word_el[] = {
	{ "t", R_TEXT, NULL, NULL, { NULL }, NULL },
	{ "delText", R_TEXT, NULL, NULL, { NULL }, NULL },   /* tracked deletions */
	{ "instrText", R_TEXT, NULL, NULL, { NULL }, NULL }, /* field codes */
	{ "tab", R_RUN, "\t", NULL, { NULL }, NULL },
	{ "ptab", R_RUN, "\t", NULL, { NULL }, NULL },
	{ "br", 0, "\n", NULL, { NULL }, NULL },
	{ "cr", 0, "\n", NULL, { NULL }, NULL },
	{ "noBreakHyphen", 0, "-", NULL, { NULL }, NULL },
	{ "p", 0, NULL, "\n", { NULL }, NULL },
	{ "tc", 0, NULL, "\t", { NULL }, NULL },
	{ "tr", 0, NULL, "\n", { NULL }, NULL },
	{ "comment", 0, NULL, NULL, { "author" }, "\n" },
	{ "fldSimple", 0, NULL, NULL, { "instr" }, " " },
};

/* DrawingML text: slides, notes, SmartArt, drawings; PowerPoint comments */
static const el_rule drawing_el[] = {
	{ "t", R_TEXT, NULL, NULL, { NULL }, NULL },
	{ "p", 0, NULL, "\n", { NULL }, NULL },
	{ "br", 0, "\n", NULL, { NULL }, NULL },
	{ "tc", 0, NULL, "\t", { NULL }, NULL },
	{ "tr", 0, NULL, "\n", { NULL }, NULL },
	{ "text", R_TEXT, NULL, "\n", { NULL }, NULL },
};

/* who wrote comments: word/people.xml, xl/persons, ppt/authors.xml,
 * ppt/commentAuthors.xml (user ids are often e-mail addresses) */
static const el_rule people_el[] = {
	{ "person", 0, NULL, NULL, { "author", "displayName", "userId" }, "\n" },
	{ "presenceInfo", 0, NULL, NULL, { "userId" }, "\n" },
	{ "author", 0, NULL, NULL, { "name", "userId" }, "\n" },
	{ "cmAuthor", 0, NULL, NULL, { "name" }, "\n" },
};

static const el_rule xlcomments_el[] = {
	{ "t", R_TEXT, NULL, NULL, { NULL }, NULL },
	{ "author", R_TEXT, NULL, "\n", { NULL }, NULL },
	{ "text", R_TEXT, NULL, "\n", { NULL }, NULL }, /* threaded comments */
	{ "comment", 0, NULL, "\n", { NULL }, NULL },
	{ "rPh", R_SKIP, NULL, NULL, { NULL }, NULL },
};

static const el_rule app_el[] = {
	{ "Company", R_TEXT, NULL, "\n", { NULL }, NULL },
	{ "Manager", R_TEXT, NULL, "\n", { NULL }, NULL },
};

static const el_rule custom_el[] = {
	{ "property", 0, NULL, "\n", { "name" }, ": " },
};

/* pivot caches keep a copy of their source rows, values in attributes */
static const el_rule pivot_el[] = {
	{ "cacheField", 0, NULL, NULL, { "name" }, "\n" },
	{ "s", 0, NULL, NULL, { "v" }, "\t" },
	{ "n", 0, NULL, NULL, { "v" }, "\t" },
	{ "d", 0, NULL, NULL, { "v" }, "\t" },
	{ "r", 0, NULL, "\n", { NULL }, NULL },
	{ "sharedItems", 0, NULL, "\n", { NULL }, NULL },
};

#define RULES(a) a, sizeof a / sizeof a[0]
static const text_rules word_rules = { RULES(word_el), 0, NULL };
static const text_rules drawing_rules = { RULES(drawing_el), 0, NULL };
static const text_rules people_rules = { RULES(people_el), 0, NULL };
static const text_rules xlcomments_rules = { RULES(xlcomments_el), 0, NULL };
static const text_rules core_rules = { NULL, 0, 1, "\n" };
static const text_rules app_rules = { RULES(app_el), 0, NULL };
static const text_rules custom_rules = { RULES(custom_el), 1, NULL };
static const text_rules pivot_rules = { RULES(pivot_el), 0, NULL };

static const el_rule *rule_find(const text_rules *tr, const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < tr->n; i++)
		if (strcmp(tr->el[i].name, name) == 0)
			return &tr->el[i];
	return NULL;
}

enum { XT_READING, XT_END, XT_FAILED };

/* A text part as a pull reader: each read advances the parser only as far
 * as the bytes asked for. */
typedef struct xtext {
	sn_input in; /* first member */
	xpart x;
	const text_rules *rules;
	sn_buf q;           /* separators and attribute values, in order */
	size_t qoff;
	const char *pend;   /* the current text node, straight from the reader */
	size_t plen;
	const char *post;   /* after it */
	int state;
} xtext;

static void xtext_attr(xtext *t, const char *ln, const char *sep)
{
	xmlTextReaderPtr r = t->x.r;
	if (xmlTextReaderMoveToFirstAttribute(r) != 1)
		return;
	do {
		const xmlChar *n = xmlTextReaderConstLocalName(r);
		if (n && strcmp((const char *)n, ln) == 0) {
			const xmlChar *v = xmlTextReaderConstValue(r);
			if (v && *v) {
				sn_buf_puts(&t->q, (const char *)v);
				sn_buf_puts(&t->q, sep ? sep : "");
			}
			break;
		}
	} while (xmlTextReaderMoveToNextAttribute(r) == 1);
	xmlTextReaderMoveToElement(r);
}

/* One node: 0, 1 at the end, -1 when the part cannot be read further. */
static int xtext_step(xtext *t)
{
	xpart *x = &t->x;
	const el_rule *ru;
	int r = xpart_next(x);
	if (r <= 0)
		return r == 0 ? 1 : -1;
	int type = xmlTextReaderNodeType(x->r);
	if (type == XML_READER_TYPE_ELEMENT) {
		ru = rule_find(t->rules, xpart_name(x));
		int empty = xmlTextReaderIsEmptyElement(x->r) == 1;
		if (!ru)
			return 0;
		if (ru->flags & R_SKIP) {
			if (!empty)
				xpart_skip(x);
			return 0;
		}
		if (ru->flags & R_RUN) {
			const char *parent = xpart_parent(x);
			if (!parent || strcmp(parent, "r") != 0)
				return 0;
		}
		for (size_t i = 0; i < 3 && ru->attr[i]; i++)
			xtext_attr(t, ru->attr[i], ru->attr_sep);
		if (ru->open)
			sn_buf_puts(&t->q, ru->open);
		if (empty && ru->close)
			sn_buf_puts(&t->q, ru->close);
	} else if (type == XML_READER_TYPE_END_ELEMENT) {
		ru = rule_find(t->rules, xpart_name(x));
		if (ru && ru->close && !(ru->flags & R_SKIP))
			sn_buf_puts(&t->q, ru->close);
	} else if (is_text_node(type)) {
		ru = rule_find(t->rules, xpart_parent(x));
		if (t->rules->all_text || (ru && (ru->flags & R_TEXT))) {
			const xmlChar *v = xmlTextReaderConstValue(x->r);
			if (v) {
				t->pend = (const char *)v;
				t->plen = strlen(t->pend);
				t->post = t->rules->text_sep;
			}
		}
	}
	return t->q.failed ? -1 : 0;
}

static ssize_t xtext_read(void *ctx, void *buf, size_t n)
{
	xtext *t = ctx;
	uint8_t *out = buf;
	size_t got = 0, k;
	while (got < n) {
		if (t->qoff < t->q.len) {
			k = t->q.len - t->qoff < n - got ? t->q.len - t->qoff : n - got;
			memcpy(out + got, t->q.p + t->qoff, k);
			t->qoff += k;
			got += k;
			if (t->qoff == t->q.len) {
				sn_buf_reset(&t->q);
				t->qoff = 0;
			}
			continue;
		}
		if (t->plen) {
			k = t->plen < n - got ? t->plen : n - got;
			memcpy(out + got, t->pend, k);
			t->pend += k;
			t->plen -= k;
			got += k;
			continue;
		}
		if (t->post) {
			sn_buf_puts(&t->q, t->post);
			t->post = NULL;
			continue;
		}
		if (t->state != XT_READING)
			break;
		int r = xtext_step(t);
		if (r > 0) {
			t->state = XT_END;
		} else if (r < 0) {
			t->state = XT_FAILED;
			if (t->q.failed && !t->x.z.err && !t->x.xml_err) {
				t->in.stop_status = SN_FILE_INCOMPLETE;
				t->in.stop_reason = "corrupt";
				snprintf(t->in.stop_detail, sizeof t->in.stop_detail,
					 "attribute text over %u bytes", SN_OOXML_MAX_QUEUE);
			} else {
				input_fail(&t->in, t->x.z.p, &t->x.z, t->x.xml_err, t->x.xml_line);
			}
		}
	}
	if (got == 0 && t->state == XT_FAILED) {
		errno = EIO;
		return -1;
	}
	t->in.produced += got;
	return (ssize_t)got;
}

static int text_part(pkg *p, const char *name, const text_rules *rules)
{
	xtext t;
	memset(&t, 0, sizeof t);
	int rc = xpart_open(&t.x, p);
	if (rc < 0)
		return rc;
	sn_buf_init(&t.q, SN_OOXML_MAX_QUEUE);
	t.rules = rules;
	t.in.read = xtext_read;
	t.in.ctx = &t;
	t.in.fd = -1;
	t.in.name = name;
	t.in.is_text = 1;
	rc = p->d->cb->member(p->d->payload, name, &t.in);
	if (!rc && (t.x.z.err == ZE_STOP || stopping(p)))
		rc = SN_ESTOP;
	xpart_close(&t.x);
	sn_buf_free(&t.q);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Nested units: embedded objects, media that are not images               */

typedef struct znested {
	sn_input in; /* first member */
	zsrc z;
} znested;

static ssize_t nested_read(void *ctx, void *buf, size_t n)
{
	znested *m = ctx;
	if (m->in.stop_reason) {
		errno = EIO;
		return -1;
	}
	ssize_t k = zsrc_read(&m->z, buf, n);
	if (k < 0) {
		input_fail(&m->in, m->z.p, &m->z, 0, 0);
		errno = EIO;
		return -1;
	}
	m->in.produced += (uint64_t)k;
	return k;
}

/* Streamed rather than buffered here: a decoder that needs the whole unit
 * (a zip inside) buffers it itself, up to --max-buffer. */
static int nested_part(pkg *p, const char *name)
{
	znested m;
	memset(&m, 0, sizeof m);
	m.z.p = p;
	m.in.read = nested_read;
	m.in.ctx = &m;
	m.in.fd = -1;
	m.in.name = name;
	int rc = p->d->cb->member(p->d->payload, name, &m.in);
	if (!rc && (m.z.err == ZE_STOP || stopping(p)))
		rc = SN_ESTOP;
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Workbook: shared strings, sheet names                                   */

static void sst_free(sst *s)
{
	sn_buf_free(&s->text);
	free(s->off);
}

static int sst_push(sst *s, size_t start)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		if (ncap > s->max)
			ncap = s->max;
		if (ncap <= s->n)
			return 1;
		size_t *o = realloc(s->off, ncap * sizeof *o);
		if (!o)
			return sn_error_set(SN_ENOMEM, "out of memory");
		s->off = o;
		s->cap = ncap;
	}
	s->off[s->n++] = start;
	return 0;
}

/* Shared string `i`, or NULL. */
static const char *sst_get(const sst *s, uint64_t i, size_t *len)
{
	if (i >= s->n)
		return NULL;
	size_t end = i + 1 < s->n ? s->off[i + 1] : s->text.len;
	/* each string ends with its NUL, inside the text */
	if (end <= s->off[i] || end > s->text.len)
		return NULL;
	*len = end - s->off[i] - 1;
	return s->text.p + s->off[i];
}

/* Each <si>: its <t>, rich-text runs included, phonetic guides (rPh) not. */
static int sst_part(pkg *p, const char *name)
{
	sst *s = &p->strings;
	xpart x;
	int rc = xpart_open(&x, p), r = 0, in_si = 0, full = 0;
	size_t start = 0;
	p->sst_read = 1;
	if (rc < 0)
		return rc;
	while ((r = xpart_next(&x)) == 1) {
		int type = xmlTextReaderNodeType(x.r);
		const char *ln = xpart_name(&x);
		if (type == XML_READER_TYPE_ELEMENT && strcmp(ln, "si") == 0) {
			in_si = xmlTextReaderIsEmptyElement(x.r) != 1;
			start = s->text.len;
			if (in_si)
				continue;
			/* <si/>: an empty string item */
		} else if (type == XML_READER_TYPE_ELEMENT && strcmp(ln, "rPh") == 0) {
			if (xmlTextReaderIsEmptyElement(x.r) != 1)
				xpart_skip(&x);
			continue;
		} else if (is_text_node(type)) {
			const char *parent = xpart_parent(&x);
			const xmlChar *v = xmlTextReaderConstValue(x.r);
			if (in_si && v && parent && strcmp(parent, "t") == 0)
				sn_buf_puts(&s->text, (const char *)v);
			continue;
		} else if (!(type == XML_READER_TYPE_END_ELEMENT && strcmp(ln, "si") == 0) || !in_si) {
			continue; /* an end without its start ends no item */
		}
		/* the end of a string item */
		in_si = 0;
		sn_buf_putc(&s->text, '\0');
		rc = s->text.failed ? 1 : sst_push(s, start);
		if (rc) {
			full = rc > 0;
			break;
		}
	}
	if (rc == 0 && r < 0)
		rc = xpart_record(p, &x, name);
	if (full) {
		rc = 0;
		if (s->text.failed)
			s->text.len = start; /* the last whole string */
		pkg_record(p, name, SN_FILE_INCOMPLETE, "too-large-to-buffer",
			   "shared strings over --max-buffer: cells using the rest are empty");
	}
	xpart_close(&x);
	return rc;
}

static int workbook_part(pkg *p, const char *name)
{
	xpart x;
	int rc = xpart_open(&x, p), r = 0;
	p->wb_read = 1;
	if (rc < 0)
		return rc;
	while (rc == 0 && (r = xpart_next(&x)) == 1) {
		if (xmlTextReaderNodeType(x.r) != XML_READER_TYPE_ELEMENT ||
		    strcmp(xpart_name(&x), "sheet") != 0)
			continue;
		char *sname = xpart_attr(&x, "name"), *id = xpart_attr(&x, "id");
		if (sname && id && *sname)
			rc = pairs_add(&p->sheets, id, sname);
		free(sname);
		free(id);
	}
	if (rc == 0 && r < 0)
		rc = xpart_record(p, &x, name);
	xpart_close(&x);
	return rc;
}

/* A relationship target, relative to xl/ or absolute, as a part name. */
static int resolve_target(const char *t, char *out, size_t n)
{
	char tmp[SN_OOXML_PATH];
	size_t len = 0;
	int k = t[0] == '/' ? snprintf(tmp, sizeof tmp, "%s", t + 1) :
			      snprintf(tmp, sizeof tmp, "xl/%s", t);
	if (k < 0 || (size_t)k >= sizeof tmp || n == 0)
		return -1;
	for (char *seg = tmp, *next; seg; seg = next) {
		next = strchr(seg, '/');
		if (next)
			*next++ = '\0';
		if (!*seg || strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
			continue;
		}
		size_t sl = strlen(seg);
		if (len + (len ? 1 : 0) + sl + 1 > n)
			return -1;
		if (len)
			out[len++] = '/';
		memcpy(out + len, seg, sl);
		len += sl;
	}
	out[len] = '\0';
	return len ? 0 : -1;
}

static int rels_part(pkg *p, const char *name)
{
	xpart x;
	int rc = xpart_open(&x, p), r = 0;
	p->rels_read = 1;
	if (rc < 0)
		return rc;
	while (rc == 0 && (r = xpart_next(&x)) == 1) {
		if (xmlTextReaderNodeType(x.r) != XML_READER_TYPE_ELEMENT ||
		    strcmp(xpart_name(&x), "Relationship") != 0)
			continue;
		char *id = xpart_attr(&x, "Id"), *target = xpart_attr(&x, "Target");
		char *type = xpart_attr(&x, "Type"), *mode = xpart_attr(&x, "TargetMode");
		char part[SN_OOXML_PATH];
		if (id && target && !(mode && strcasecmp(mode, "External") == 0) &&
		    resolve_target(target, part, sizeof part) == 0) {
			size_t tl = type ? strlen(type) : 0;
			if (tl > 14 && strcmp(type + tl - 14, "/sharedStrings") == 0 &&
			    !p->sst_part) {
				p->rels_has_sst = 1;
				p->sst_part = strdup(part);
				if (!p->sst_part)
					rc = sn_error_set(SN_ENOMEM, "out of memory");
			}
			if (rc == 0)
				rc = pairs_add(&p->rels, id, part);
		}
		free(id);
		free(target);
		free(type);
		free(mode);
	}
	if (rc == 0 && r < 0)
		rc = xpart_record(p, &x, name);
	xpart_close(&x);
	return rc;
}

static int build_map(pkg *p)
{
	p->map_built = 1;
	if (!p->rels.n || !p->sheets.n)
		return 0;
	qsort(p->rels.a, p->rels.n, sizeof *p->rels.a, pair_cmp_k);
	for (size_t i = 0; i < p->sheets.n; i++) {
		pair key = { p->sheets.a[i].k, NULL };
		pair *rel = bsearch(&key, p->rels.a, p->rels.n, sizeof *p->rels.a, pair_cmp_k);
		if (rel) {
			int rc = pairs_add(&p->map, rel->v, p->sheets.a[i].v);
			if (rc < 0)
				return rc;
		}
	}
	if (p->map.n)
		qsort(p->map.a, p->map.n, sizeof *p->map.a, pair_cmp_kci);
	return 0;
}

/* The sheet's name in the workbook, else its part's base name. */
static const char *sheet_name(pkg *p, const char *part, char *fallback, size_t n)
{
	pair key = { (char *)part, NULL };
	pair *hit = p->map.n ? bsearch(&key, p->map.a, p->map.n, sizeof *p->map.a, pair_cmp_kci) :
			       NULL;
	if (hit)
		return hit->v;
	const char *b = strrchr(part, '/');
	b = b ? b + 1 : part;
	size_t len = strlen(b);
	if (len > 4 && strcasecmp(b + len - 4, ".xml") == 0)
		len -= 4;
	snprintf(fallback, n, "%.*s", (int)len, b);
	return fallback;
}

/* ---------------------------------------------------------------------- */
/* Sheets as tables                                                        */

enum { K_NONE, K_TEXT, K_VALUE };

typedef struct cell {
	size_t off, len;        /* in the row buffer */
	const char *ext;        /* or a shared string */
	int kind;
} cell;

typedef struct sheet {
	pkg *p;
	const char *part, *tname;
	xpart x;
	sn_buf row;             /* inline and numeric values, NUL-terminated */
	sn_buf text;            /* header row and page headers/footers */
	cell *cells;
	const char **ptrs;
	size_t *lens;
	size_t cap, ncells, next_col;
	int64_t rownum, lastrow;
	int in_row, in_c, in_is, begun, open;
	/* a first row of one text cell: a title over the header, or the header
	 * of a one-column sheet; the next row tells */
	char *held;
	size_t held_len, held_col;
	int titles;
	char ctype;
	size_t vstart, col;
	int col_ok;
	uint64_t bad_refs, dropped, cut;
} sheet;

static int is_hf(const char *n)
{
	static const char *const hf[] = { "oddHeader",   "oddFooter",   "evenHeader",
					  "evenFooter",  "firstHeader", "firstFooter" };
	for (size_t i = 0; i < sizeof hf / sizeof hf[0]; i++)
		if (strcmp(n, hf[i]) == 0)
			return 1;
	return 0;
}

/*
 * Excel stores every number as a double and writes it as such: a BSN typed
 * as a number comes back as "123456782", "1.23456782E8" or "123456782.0",
 * and one with a leading zero as "12345672".  An integral number is handed
 * as plain digits; anything else as written.  Returns the length written to
 * out, or 0 for "as written".
 */
static size_t number_text(const char *s, size_t n, char *out, size_t cap)
{
	char dig[64];
	size_t nd = 0, i = 0, nint = 0;
	long exp = 0;
	int neg = 0, any = 0;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	for (; i < n && isdigit((unsigned char)s[i]); i++, nint++, any = 1) {
		if (nd == sizeof dig)
			return 0;
		dig[nd++] = s[i];
	}
	if (i < n && s[i] == '.')
		for (i++; i < n && isdigit((unsigned char)s[i]); i++, any = 1) {
			if (nd == sizeof dig)
				return 0;
			dig[nd++] = s[i];
		}
	if (!any)
		return 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		int eneg = 0, edig = 0;
		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			eneg = s[i++] == '-';
		for (; i < n && isdigit((unsigned char)s[i]); i++, edig++) {
			if (edig == 4)
				return 0;
			exp = exp * 10 + (s[i] - '0');
		}
		if (!edig)
			return 0;
		if (eneg)
			exp = -exp;
	}
	if (i != n)
		return 0;
	long point = (long)nint + exp; /* digits before the decimal point */
	if (point > 40)
		return 0;
	for (long j = point < 0 ? 0 : point; j < (long)nd; j++)
		if (dig[j] != '0')
			return 0; /* a fraction: as written */
	size_t o = 0;
	int lead = 1;
	if (neg)
		out[o++] = '-';
	for (long j = 0; j < point; j++) {
		char c = j < (long)nd ? dig[j] : '0';
		if (lead && c == '0')
			continue;
		lead = 0;
		if (o + 1 >= cap)
			return 0;
		out[o++] = c;
	}
	if (lead) {
		o = 0; /* zero has no sign */
		out[o++] = '0';
	}
	out[o] = '\0';
	return o;
}

static int sheet_grow(sheet *s, size_t need)
{
	if (need <= s->cap)
		return 0;
	size_t ncap = s->cap ? s->cap : 16;
	while (ncap < need)
		ncap *= 2;
	if (ncap > SN_OOXML_MAX_COLS)
		ncap = SN_OOXML_MAX_COLS;
	cell *c = realloc(s->cells, ncap * sizeof *c);
	if (!c)
		return sn_error_set(SN_ENOMEM, "out of memory");
	s->cells = c;
	const char **pp = realloc(s->ptrs, ncap * sizeof *pp);
	if (!pp)
		return sn_error_set(SN_ENOMEM, "out of memory");
	s->ptrs = pp;
	size_t *l = realloc(s->lens, ncap * sizeof *l);
	if (!l)
		return sn_error_set(SN_ENOMEM, "out of memory");
	s->lens = l;
	memset(s->cells + s->cap, 0, (ncap - s->cap) * sizeof *c);
	s->cap = ncap;
	return 0;
}

/* Column index from a reference like "AB12"; 0 when there is none. */
static int cell_col(const char *ref, size_t *col)
{
	size_t c = 0;
	int any = 0;
	for (; isalpha((unsigned char)*ref); ref++, any = 1) {
		c = c * 26 + (size_t)(toupper((unsigned char)*ref) - 'A' + 1);
		if (c > SN_OOXML_MAX_COLS + 1)
			c = SN_OOXML_MAX_COLS + 1; /* saturate: out of range */
	}
	if (!any)
		return 0;
	*col = c - 1;
	return 1;
}

static void cell_begin(sheet *s)
{
	char ref[32], t[16];
	size_t col;
	int has_t = xpart_attr_into(&s->x, "t", t, sizeof t);
	s->col = xpart_attr_into(&s->x, "r", ref, sizeof ref) && cell_col(ref, &col) ? col :
										   s->next_col;
	s->col_ok = s->col < SN_OOXML_MAX_COLS;
	s->next_col = s->col + 1;
	s->ctype = 'n';
	if (has_t) {
		if (strcmp(t, "s") == 0)
			s->ctype = 's';
		else if (strcmp(t, "inlineStr") == 0)
			s->ctype = 'i';
		else if (strcmp(t, "str") == 0)
			s->ctype = 't';
		else if (strcmp(t, "b") == 0 || strcmp(t, "e") == 0)
			s->ctype = 'b';
		else if (strcmp(t, "d") == 0)
			s->ctype = 'd';
	}
	s->vstart = s->row.len;
	s->in_is = 0;
}

static int cell_end(sheet *s)
{
	const char *v = s->row.p ? s->row.p + s->vstart : "";
	size_t len = s->row.len - s->vstart;
	cell c = { s->vstart, 0, NULL, K_NONE };
	if (s->row.failed) {
		s->cut++;
		return 0;
	}
	if (!s->col_ok) {
		s->dropped++;
		s->row.len = s->vstart;
		return 0;
	}
	if (s->ctype == 's') {
		char idx[24];
		char *end;
		size_t sl = 0;
		while (len && isspace((unsigned char)*v))
			v++, len--;
		while (len && isspace((unsigned char)v[len - 1]))
			len--;
		if (len && len < sizeof idx) {
			memcpy(idx, v, len);
			idx[len] = '\0';
			errno = 0;
			unsigned long long i = strtoull(idx, &end, 10);
			c.ext = !errno && *end == '\0' && isdigit((unsigned char)idx[0]) ?
					sst_get(&s->p->strings, i, &sl) :
					NULL;
		}
		if (!c.ext && len)
			s->bad_refs++; /* no value at all is an empty cell */
		c.len = sl;
		c.kind = c.ext && sl ? K_TEXT : K_NONE;
		s->row.len = s->vstart;
	} else if (s->ctype == 'b') {
		s->row.len = s->vstart;
	} else if (len) {
		char num[48];
		size_t nl = s->ctype == 'n' ? number_text(v, len, num, sizeof num) : 0;
		if (nl) {
			s->row.len = s->vstart;
			sn_buf_put(&s->row, num, nl);
			len = nl;
		}
		sn_buf_putc(&s->row, '\0');
		if (s->row.failed) {
			s->cut++;
			return 0;
		}
		c.len = len;
		c.kind = s->ctype == 'i' || s->ctype == 't' ? K_TEXT : K_VALUE;
	}
	if (c.kind == K_NONE)
		return 0;
	int rc = sheet_grow(s, s->col + 1);
	if (rc)
		return rc;
	for (size_t i = s->ncells; i < s->col; i++)
		s->cells[i].kind = K_NONE;
	s->cells[s->col] = c;
	if (s->col + 1 > s->ncells)
		s->ncells = s->col + 1;
	return 0;
}

/* Hand the row; the first one with only text is the header. */
static int row_end(sheet *s)
{
	sn_doc *d = s->p->d;
	size_t filled = 0, texts = 0, names = 0;
	uint64_t shared = 0;
	int rc = 0;
	for (size_t i = 0; i < s->ncells; i++) {
		const cell *c = &s->cells[i];
		s->ptrs[i] = c->kind == K_NONE ? NULL : c->ext ? c->ext : s->row.p + c->off;
		s->lens[i] = c->kind == K_NONE ? 0 : c->len;
		filled += c->kind != K_NONE;
		texts += c->kind == K_TEXT;
		names += c->kind == K_TEXT && c->len <= SN_OOXML_MAX_HEADER;
		shared += c->kind != K_NONE && c->ext ? c->len : 0;
	}
	if (!filled)
		return 0;
	if (!s->begun && s->held) {
		if (filled >= 2 && s->titles < SN_OOXML_MAX_TITLES) {
			/* a title ("Klantenoverzicht 2024" in A1) names no
			 * column: it is sheet text; this row may be the header */
			sn_buf_put(&s->text, s->held, s->held_len);
			sn_buf_putc(&s->text, '\n');
			s->titles++;
		} else {
			/* the header of a one-column sheet */
			const char **cols = calloc(s->held_col + 1, sizeof *cols);
			if (!cols)
				return sn_error_set(SN_ENOMEM, "out of memory");
			cols[s->held_col] = s->held;
			sn_buf_put(&s->text, s->held, s->held_len);
			sn_buf_putc(&s->text, '\n');
			s->begun = 1;
			rc = d->cb->table_begin(d->payload, s->tname, cols, s->held_col + 1);
			s->open = rc == 0;
			free(cols);
		}
		free(s->held);
		s->held = NULL;
		if (s->begun && !s->open)
			return rc;
	}
	if (!s->begun && filled == 1 && texts == 1 && names == 1 &&
	    s->titles < SN_OOXML_MAX_TITLES) {
		for (size_t i = 0; i < s->ncells; i++) {
			if (!s->ptrs[i])
				continue;
			/* the exact bytes: a cell may hold a NUL (strndup would
			 * stop there and held_len would overrun the copy) */
			s->held = malloc(s->lens[i] + 1);
			if (!s->held)
				return sn_error_set(SN_ENOMEM, "out of memory");
			memcpy(s->held, s->ptrs[i], s->lens[i]);
			s->held[s->lens[i]] = '\0';
			s->held_len = s->lens[i];
			s->held_col = i;
		}
		return 0;
	}
	if (!s->begun) {
		s->begun = 1;
		if (texts == filled && names == filled) {
			/* header names give context but are not scanned as cells:
			 * they go to the sheet's text part, so a first row of data
			 * taken for a header is still read */
			for (size_t i = 0; i < s->ncells; i++) {
				if (s->ptrs[i])
					sn_buf_put(&s->text, s->ptrs[i], s->lens[i]);
				sn_buf_putc(&s->text, i + 1 < s->ncells ? '\t' : '\n');
			}
			rc = d->cb->table_begin(d->payload, s->tname, s->ptrs, s->ncells);
			s->open = rc == 0;
			return rc;
		}
		rc = d->cb->table_begin(d->payload, s->tname, NULL, 0);
		s->open = rc == 0;
		if (rc)
			return rc;
	}
	/* shared strings are not inflated bytes: one small cell can hand out
	 * a long string again and again */
	if (shared) {
		const char *why = s->p->halt ? s->p->halt : sn_doc_check(d, shared, s->p->size);
		if (why) {
			pkg_halt(s->p, why);
			return 1;
		}
	}
	return d->cb->row(d->payload, s->rownum, s->ptrs, s->lens, s->ncells);
}

static void row_begin(sheet *s)
{
	char r[32], *end;
	long long v = 0;
	if (xpart_attr_into(&s->x, "r", r, sizeof r)) {
		errno = 0;
		v = strtoll(r, &end, 10);
		if (errno || *end || end == r || v < 1)
			v = 0;
	}
	s->rownum = v ? v : s->lastrow + 1;
	s->lastrow = s->rownum;
	for (size_t i = 0; i < s->ncells; i++)
		s->cells[i].kind = K_NONE;
	s->ncells = 0;
	s->next_col = 0;
	sn_buf_reset(&s->row);
	s->in_row = 1;
}

static int sheet_node(sheet *s)
{
	xpart *x = &s->x;
	int type = xmlTextReaderNodeType(x->r);
	if (type == XML_READER_TYPE_ELEMENT) {
		const char *ln = xpart_name(x);
		int empty = xmlTextReaderIsEmptyElement(x->r) == 1;
		if (strcmp(ln, "row") == 0) {
			row_begin(s);
			if (empty)
				s->in_row = 0;
		} else if (s->in_row && strcmp(ln, "c") == 0) {
			cell_begin(s);
			s->in_c = !empty;
		} else if (s->in_c && strcmp(ln, "is") == 0) {
			s->in_is = !empty;
		} else if (strcmp(ln, "rPh") == 0 || strcmp(ln, "f") == 0) {
			if (!empty)
				xpart_skip(x);
		}
		return 0;
	}
	if (type == XML_READER_TYPE_END_ELEMENT) {
		const char *ln = xpart_name(x);
		if (strcmp(ln, "row") == 0 && s->in_row) {
			s->in_row = 0;
			return row_end(s);
		}
		if (strcmp(ln, "c") == 0 && s->in_c) {
			s->in_c = 0;
			return cell_end(s);
		}
		if (strcmp(ln, "is") == 0)
			s->in_is = 0;
		else if (is_hf(ln))
			sn_buf_putc(&s->text, '\n');
		return 0;
	}
	if (is_text_node(type)) {
		const char *parent = xpart_parent(x);
		const xmlChar *v = xmlTextReaderConstValue(x->r);
		if (!parent || !v)
			return 0;
		if (s->in_c && (strcmp(parent, "v") == 0 || (s->in_is && strcmp(parent, "t") == 0)))
			sn_buf_puts(&s->row, (const char *)v);
		else if (is_hf(parent))
			sn_buf_puts(&s->text, (const char *)v);
	}
	return 0;
}

static int sheet_part(pkg *p, const char *name)
{
	sheet s;
	char fallback[256], detail[96];
	int rc, r = 0, failed = 0;
	memset(&s, 0, sizeof s);
	s.p = p;
	s.part = name;
	if (!p->map_built && (rc = build_map(p)) < 0)
		return rc;
	s.tname = sheet_name(p, name, fallback, sizeof fallback);
	sn_buf_init(&s.row, SN_OOXML_MAX_ROW);
	sn_buf_init(&s.text, SN_OOXML_MAX_SHEET_TEXT);
	rc = xpart_open(&s.x, p);
	while (rc == 0 && (r = xpart_next(&s.x)) == 1)
		rc = sheet_node(&s);
	if (rc == 0 && r < 0) {
		failed = 1;
		/* keep what was read: the row the damage cut short too */
		if (s.in_row && s.x.z.err != ZE_STOP && s.x.z.err != ZE_LIMIT)
			rc = row_end(&s);
	}
	if (s.held) {
		/* a sheet of one text cell: that is its text */
		sn_buf_put(&s.text, s.held, s.held_len);
		sn_buf_putc(&s.text, '\n');
		free(s.held);
		s.held = NULL;
	}
	if (rc == 0 && !s.begun && !failed) {
		/* an empty sheet is still a table that was read */
		rc = p->d->cb->table_begin(p->d->payload, s.tname, NULL, 0);
		s.open = rc == 0;
	}
	if (s.open) {
		int e = p->d->cb->table_end(p->d->payload);
		if (!rc)
			rc = e;
	}
	if (rc > 0)
		rc = 0; /* a limit: the package is on record */
	if (rc == 0 && failed)
		rc = xpart_record(p, &s.x, name);
	if (rc == 0 && s.text.len && !s.text.failed && !p->halt)
		rc = sn_doc_text(p->d, name, s.text.p, s.text.len);
	if (rc == 0 && s.text.failed)
		pkg_record(p, name, SN_FILE_INCOMPLETE, "corrupt",
			   "page headers and footers over 8 MiB: not read");
	if (rc == 0 && s.bad_refs) {
		snprintf(detail, sizeof detail, "%llu cells name a shared string that is missing",
			 (unsigned long long)s.bad_refs);
		pkg_record(p, name, SN_FILE_INCOMPLETE, "corrupt", detail);
	}
	if (rc == 0 && s.dropped) {
		snprintf(detail, sizeof detail, "%llu cells past column XFD not read",
			 (unsigned long long)s.dropped);
		pkg_record(p, name, SN_FILE_INCOMPLETE, "corrupt", detail);
	}
	if (rc == 0 && s.cut) {
		snprintf(detail, sizeof detail, "%llu cells of rows over %u MiB not read",
			 (unsigned long long)s.cut, SN_OOXML_MAX_ROW >> 20);
		pkg_record(p, name, SN_FILE_INCOMPLETE, "row-too-long", detail);
	}
	xpart_close(&s.x);
	sn_buf_free(&s.row);
	sn_buf_free(&s.text);
	free(s.cells);
	free(s.ptrs);
	free(s.lens);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Parts by name                                                           */

enum {
	PK_NONE,
	PK_MAIN,      /* a main part that holds no text (presentation.xml) */
	PK_WORD,
	PK_DRAWING,
	PK_PEOPLE,
	PK_XLCOMMENTS,
	PK_PIVOT,
	PK_CORE,
	PK_APP,
	PK_CUSTOM,
	PK_SST,
	PK_WORKBOOK,
	PK_WBRELS,
	PK_SHEET,
	PK_IMAGE,
	PK_NESTED
};

static int has_prefix(const char *s, const char *pre)
{
	return strncasecmp(s, pre, strlen(pre)) == 0;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);
	return n >= k && strcasecmp(s + n - k, suf) == 0;
}

static int is_image(const char *name)
{
	static const char *const ext[] = { ".png", ".jpg",  ".jpeg", ".jpe", ".jfif", ".gif",
					   ".bmp", ".dib",  ".tif",  ".tiff", ".emf", ".wmf",
					   ".emz", ".wmz",  ".svg",  ".ico",  ".webp", ".wdp",
					   ".pct", ".pict" };
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
		if (has_suffix(name, ext[i]))
			return 1;
	return 0;
}

static int classify(const pkg *p, const char *name)
{
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	int xml = has_suffix(name, ".xml");
	int office = has_prefix(name, "word/") || has_prefix(name, "xl/") ||
		     has_prefix(name, "ppt/");

	if (strcasecmp(name, "xl/_rels/workbook.xml.rels") == 0)
		return PK_WBRELS;
	if (strstr(name, "_rels/"))
		return PK_NONE;
	if (strcasecmp(name, "docProps/core.xml") == 0)
		return PK_CORE;
	if (strcasecmp(name, "docProps/app.xml") == 0)
		return PK_APP;
	if (strcasecmp(name, "docProps/custom.xml") == 0)
		return PK_CUSTOM;
	if (has_prefix(name, "docProps/thumbnail"))
		return PK_IMAGE;
	/* data bound to content controls, bibliography sources */
	if (has_prefix(name, "customXml/item") && !has_prefix(name, "customXml/itemProps") && xml)
		return PK_CORE;
	if (office && strstr(name, "/media/"))
		return is_image(name) ? PK_IMAGE : PK_NESTED;
	if (office && strstr(name, "/embeddings/"))
		return PK_NESTED;
	if (office && xml && strstr(name, "/diagrams/data"))
		return PK_DRAWING;
	if (has_prefix(name, "word/")) {
		if (strcasecmp(name, "word/people.xml") == 0)
			return PK_PEOPLE;
		/* imported chunks (w:altChunk) keep their own format */
		if (has_suffix(name, ".htm") || has_suffix(name, ".html") ||
		    has_suffix(name, ".mht") || has_suffix(name, ".rtf") ||
		    has_suffix(name, ".txt"))
			return PK_NESTED;
		if (xml && (has_prefix(base, "document") || has_prefix(base, "header") ||
			    has_prefix(base, "footer") || has_prefix(base, "comments") ||
			    has_prefix(base, "footnotes") || has_prefix(base, "endnotes")))
			return PK_WORD;
		return PK_NONE;
	}
	if (has_prefix(name, "xl/")) {
		if (strcasecmp(name, "xl/workbook.xml") == 0)
			return PK_WORKBOOK;
		if (strcasecmp(name, p->sst_part ? p->sst_part : "xl/sharedStrings.xml") == 0)
			return PK_SST;
		if (xml && has_prefix(name, "xl/worksheets/"))
			return PK_SHEET;
		if (xml &&
		    (has_prefix(name, "xl/threadedComments/") || has_prefix(base, "comments")))
			return PK_XLCOMMENTS;
		if (xml && has_prefix(name, "xl/persons/"))
			return PK_PEOPLE;
		if (xml && has_prefix(name, "xl/drawings/") && has_prefix(base, "drawing"))
			return PK_DRAWING;
		if (xml && has_prefix(name, "xl/pivotCache/"))
			return PK_PIVOT;
		return PK_NONE;
	}
	if (has_prefix(name, "ppt/")) {
		if (strcasecmp(name, "ppt/presentation.xml") == 0)
			return PK_MAIN;
		if (strcasecmp(name, "ppt/commentAuthors.xml") == 0 ||
		    strcasecmp(name, "ppt/authors.xml") == 0)
			return PK_PEOPLE;
		if (xml && (has_prefix(name, "ppt/slides/") ||
			    has_prefix(name, "ppt/notesSlides/") ||
			    has_prefix(name, "ppt/comments/")))
			return PK_DRAWING;
	}
	return PK_NONE;
}

/* Sheets wait for the shared strings and the sheet names. */
static int sheets_ready(const pkg *p)
{
	return p->pass == 2 ||
	       (p->wb_read && p->rels_read && (p->sst_read || !p->rels_has_sst));
}

static int defer(pkg *p, uint64_t ordinal)
{
	if (p->ndeferred == p->capdeferred) {
		size_t ncap = p->capdeferred ? p->capdeferred * 2 : 16;
		uint64_t *a = realloc(p->deferred, ncap * sizeof *a);
		if (!a)
			return sn_error_set(SN_ENOMEM, "out of memory");
		p->deferred = a;
		p->capdeferred = ncap;
	}
	p->deferred[p->ndeferred++] = ordinal;
	return 0;
}

static int do_part(pkg *p, struct archive_entry *e, const char *name, uint64_t ordinal)
{
	int kind = classify(p, name);
	if (kind == PK_NONE)
		return 0;
	/* Word, Excel or PowerPoint XML: not an xlsb, xps or vsdx */
	if (kind != PK_CORE && kind != PK_APP && kind != PK_CUSTOM && kind != PK_IMAGE &&
	    kind != PK_NESTED)
		p->main_seen = 1;
	if (kind == PK_MAIN)
		return 0;
	if (archive_entry_is_encrypted(e)) {
		pkg_record(p, name, SN_FILE_INCOMPLETE, "encrypted",
			   "encrypted zip member, no passphrase");
		return 0;
	}
	switch (kind) {
	case PK_IMAGE:
		pkg_record(p, name, SN_FILE_SKIPPED, "image", "embedded image");
		return 0;
	case PK_NESTED:
		return nested_part(p, name);
	case PK_SST:
		return p->sst_read ? 0 : sst_part(p, name);
	case PK_WORKBOOK:
		return p->wb_read ? 0 : workbook_part(p, name);
	case PK_WBRELS:
		return p->rels_read ? 0 : rels_part(p, name);
	case PK_SHEET:
		return sheets_ready(p) ? sheet_part(p, name) : defer(p, ordinal);
	case PK_WORD:
		return text_part(p, name, &word_rules);
	case PK_DRAWING:
		return text_part(p, name, &drawing_rules);
	case PK_PEOPLE:
		return text_part(p, name, &people_rules);
	case PK_XLCOMMENTS:
		return text_part(p, name, &xlcomments_rules);
	case PK_CORE:
		return text_part(p, name, &core_rules);
	case PK_APP:
		return text_part(p, name, &app_rules);
	case PK_CUSTOM:
		return text_part(p, name, &custom_rules);
	case PK_PIVOT:
		return text_part(p, name, &pivot_rules);
	default:
		return 0;
	}
}

static int pkg_open(pkg *p)
{
	int r = ARCHIVE_FATAL;
	p->a = archive_read_new();
	if (!p->a)
		return sn_error_set(SN_ENOMEM, "out of memory");
	archive_read_support_format_zip(p->a);
	if (p->fd >= 0) {
		if (lseek(p->fd, 0, SEEK_SET) == 0)
			r = archive_read_open_fd(p->a, p->fd, SN_OOXML_BLOCK);
	} else {
		r = archive_read_open_memory(p->a, p->mem, p->mem_len);
	}
	if (r < ARCHIVE_WARN) {
		const char *e = archive_error_string(p->a);
		if (p->pass == 1)
			pkg_record(p, NULL, SN_FILE_INCOMPLETE, "corrupt",
				   e ? e : "not a readable zip package");
		return 1;
	}
	return 0;
}

/* One pass over the package: every part (pass 1), or the sheets that came
 * before their workbook's shared strings (pass 2). */
static int run_pass(pkg *p)
{
	struct archive_entry *e;
	int rc = pkg_open(p), r, failures = 0;
	if (rc)
		goto done;
	p->ordinal = 0;
	p->next_deferred = 0;
	p->zip_fatal = 0;
	for (;;) {
		if (stopping(p)) {
			rc = SN_ESTOP;
			break;
		}
		if (p->halt || (p->pass == 2 && p->next_deferred == p->ndeferred))
			break;
		r = archive_read_next_header(p->a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			/* pass 2 reads what pass 1 did: the damage is on record */
			if (p->pass == 1 && !p->zip_fatal) {
				const char *m = archive_error_string(p->a);
				pkg_record(p, NULL, SN_FILE_INCOMPLETE,
					   sn_archive_encrypted(p->a) ? "encrypted" : "corrupt",
					   m ? m : "damaged zip package");
			}
			if (r == ARCHIVE_FATAL || ++failures > 16)
				break;
			continue;
		}
		failures = 0;
		p->zip_fatal = 0;
		uint64_t ordinal = p->ordinal++;
		if (p->pass == 2) {
			if (ordinal != p->deferred[p->next_deferred])
				continue;
			p->next_deferred++;
		} else {
			p->d->b->entries++;
			const char *why = sn_doc_check(p->d, 0, p->size);
			if (why) {
				pkg_halt(p, why);
				break;
			}
		}
		unsigned ft = archive_entry_filetype(e);
		if (ft != AE_IFREG && ft != 0)
			continue;
		const char *name = archive_entry_pathname_utf8(e);
		if (!name)
			name = archive_entry_pathname(e);
		if (!name || !*name)
			continue;
		rc = do_part(p, e, name, ordinal);
		if (rc)
			break;
	}
done:
	if (p->a)
		archive_read_free(p->a);
	p->a = NULL;
	return rc < 0 ? rc : 0;
}

static int ooxml_decode(sn_doc *d)
{
	pkg p;
	struct stat st;
	int rc = 0;
	memset(&p, 0, sizeof p);
	p.d = d;
	p.fd = -1;
	pthread_once(&xml_once, xml_init);
	/* per thread in libxml2: set on whichever worker decodes */
	xmlSetGenericErrorFunc(NULL, xml_quiet);
	xmlSetStructuredErrorFunc(NULL, xml_quiet_structured);
	sn_buf_init(&p.strings.text, (size_t)d->b->lim->max_buffer);
	p.strings.max = (size_t)(d->b->lim->max_buffer / sizeof(size_t));
	if (d->in->fd >= 0 && fstat(d->in->fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    lseek(d->in->fd, 0, SEEK_SET) == 0) {
		p.fd = d->in->fd;
		p.size = (uint64_t)st.st_size;
		/* the top-level file: totals over every level are judged
		 * against it, as for an archive */
		if (!d->b->top_consumed)
			d->b->top_consumed = p.size;
	} else {
		rc = sn_doc_buffer(d, &p.mem, &p.mem_len);
		if (rc) {
			rc = rc < 0 ? rc : 0;
			goto done;
		}
		p.size = p.mem_len;
	}
	p.pass = 1;
	rc = run_pass(&p);
	if (rc == 0 && p.ndeferred && !p.halt) {
		p.pass = 2;
		rc = run_pass(&p);
	}
	if (rc == 0 && !p.main_seen && !p.recorded)
		pkg_record(&p, NULL, SN_FILE_INCOMPLETE, "unsupported",
			   "an Open Packaging file without Word, Excel or PowerPoint XML parts "
			   "(xlsb, xps, vsdx, ...)");
done:
	free(p.mem);
	free(p.deferred);
	free(p.sst_part);
	pairs_free(&p.sheets);
	pairs_free(&p.rels);
	pairs_free(&p.map);
	sst_free(&p.strings);
	return rc;
}

static int ooxml_accepts(const sn_type *ty, const uint8_t *head, size_t n)
{
	(void)head;
	(void)n;
	return ty && ty->reason && strcmp(ty->reason, "document") == 0 &&
	       strcmp(ty->detail, "Office Open XML document") == 0;
}

const sn_decoder sn_decoder_ooxml = { "ooxml", ooxml_accepts, ooxml_decode };
