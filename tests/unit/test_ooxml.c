/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unit tests for the Office Open XML decoder, driven through its decode()
 * with fake callbacks that do what the scan driver does with the parts: read
 * every text part and nested unit to its end (recording why a reader
 * stopped, unless the decoder already did), write tables down row by row,
 * and keep every ledger record.
 *
 * The packages are zipped here with libarchive's writer, in memory: a docx
 * (split runs, tracked deletions, field codes, comments, headers, footers,
 * document properties, an image, an embedded workbook), an xlsx whose
 * shared strings come after its sheets (as Excel writes them), a pptx, and
 * hostile ones: external entities, a billion laughs, a DTD hidden behind
 * UTF-16 or a UTF-7 declaration, truncated and garbage zips, a deflate bomb
 * and a shared-string bomb.  Most packages are decoded twice: from a
 * seekable descriptor (a memfd) and from memory, as a nested unit is.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "source/decoder.h"
#include "source/source.h"
#include "speurneus/error.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define HEAD_MAX (64 * 1024) /* what the driver sniffs before a decoder runs */
#define PART_KEEP (4u << 20) /* bytes of a part the fake driver keeps */
/* a hang, not a benchmark: sanitizers and a loaded machine are slow; how
 * little a bomb produced before it stopped is what is asserted */

/* ---------------------------------------------------------------------- */
/* Growable strings                                                        */

typedef struct sbuf {
	char *p;
	size_t n, cap;
} sbuf;

static void sb_put(sbuf *b, const void *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		assert_non_null(b->p);
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
	char tmp[4096];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	assert_true(k >= 0 && (size_t)k < sizeof tmp);
	sb_put(b, tmp, (size_t)k);
}

/* ---------------------------------------------------------------------- */
/* Zip packages, written in memory                                          */

typedef struct zfile {
	const char *name;
	const char *data; /* NUL-terminated, or `len` bytes */
	size_t len;
} zfile;

static la_ssize_t zw_write(struct archive *a, void *ctx, const void *buf, size_t n)
{
	(void)a;
	sb_put(ctx, buf, n);
	return (la_ssize_t)n;
}

static int zw_open(struct archive *a, void *ctx)
{
	(void)a;
	(void)ctx;
	return ARCHIVE_OK;
}

static int zw_close(struct archive *a, void *ctx)
{
	(void)a;
	(void)ctx;
	return ARCHIVE_OK;
}

/* A zip of `files` in this order; `options` for the zip writer or NULL. */
static int zip_build(sbuf *out, const zfile *files, size_t n, const char *options)
{
	struct archive *a = archive_write_new();
	assert_non_null(a);
	assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	if (options) {
		if (archive_write_set_options(a, options) != ARCHIVE_OK ||
		    archive_write_set_passphrase(a, "geheim") != ARCHIVE_OK) {
			archive_write_free(a);
			return -1;
		}
	}
	assert_int_equal(archive_write_open(a, out, zw_open, zw_write, zw_close), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		size_t len = files[i].len ? files[i].len : strlen(files[i].data);
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, files[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)len);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		assert_int_equal(archive_write_data(a, files[i].data, len), (la_ssize_t)len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* The fake driver                                                         */

typedef struct part {
	char *name;
	int is_text;
	sbuf data;
	uint64_t total;
} part;

typedef struct rec {
	char *name; /* NULL: the package */
	sn_file_status st;
	char *reason;
} rec;

typedef struct result {
	part parts[64];
	size_t nparts;
	rec recs[64];
	size_t nrecs;
	sbuf tables;
	size_t rows;
	int rc;
} result;

static void add_rec(result *r, const char *name, sn_file_status st, const char *reason)
{
	assert_true(r->nrecs < NELEM(r->recs));
	assert_non_null(reason);
	r->recs[r->nrecs].name = name ? strdup(name) : NULL;
	r->recs[r->nrecs].st = st;
	r->recs[r->nrecs].reason = strdup(reason);
	r->nrecs++;
}

static int cb_member(void *payload, const char *name, sn_input *in)
{
	result *r = payload;
	static _Thread_local char buf[64 * 1024];
	assert_non_null(name);
	assert_true(r->nparts < NELEM(r->parts));
	part *p = &r->parts[r->nparts++];
	p->name = strdup(name);
	p->is_text = in->is_text;
	for (;;) {
		ssize_t k = in->read(in->ctx, buf, sizeof buf);
		if (k <= 0)
			break;
		p->total += (uint64_t)k;
		if (p->data.n < PART_KEEP)
			sb_put(&p->data, buf, (size_t)k);
	}
	if (!p->data.p)
		sb_put(&p->data, "", 0);
	/* what finish_unit does with a reader that stopped early */
	if (in->stop_reason && !in->stop_reported)
		add_rec(r, name, in->stop_status, in->stop_reason);
	return 0;
}

static void cb_record(void *payload, const char *name, sn_file_status st, const char *reason,
		      const char *detail)
{
	(void)detail;
	add_rec(payload, name, st, reason);
}

static int cb_table_begin(void *payload, const char *name, const char *const *cols, size_t ncols)
{
	result *r = payload;
	sb_printf(&r->tables, "T %s\nH ", name);
	if (!cols)
		sb_puts(&r->tables, "(none)");
	for (size_t i = 0; cols && i < ncols; i++) {
		sb_puts(&r->tables, i ? "|" : "");
		sb_put(&r->tables, cols[i] ? cols[i] : "-", cols[i] ? strnlen(cols[i], 200) : 1);
	}
	sb_puts(&r->tables, "\n");
	return 0;
}

static int cb_row(void *payload, int64_t row, const char *const *cells, const size_t *lens,
		  size_t ncells)
{
	result *r = payload;
	r->rows++;
	if (r->tables.n > (1u << 20))
		return 0; /* bombs: counted, not written down */
	sb_printf(&r->tables, "R%lld: ", (long long)row);
	for (size_t i = 0; i < ncells; i++) {
		if (i)
			sb_puts(&r->tables, "|");
		if (cells[i])
			sb_put(&r->tables, cells[i], lens[i] < 200 ? lens[i] : 200);
		else
			sb_puts(&r->tables, "-");
	}
	sb_puts(&r->tables, "\n");
	return 0;
}

static int cb_table_end(void *payload)
{
	sb_puts(&((result *)payload)->tables, "E\n");
	return 0;
}

static const sn_doc_cb fake_cb = { cb_member, cb_record, cb_table_begin, cb_row, cb_table_end };

static void result_free(result *r)
{
	for (size_t i = 0; i < r->nparts; i++) {
		free(r->parts[i].name);
		free(r->parts[i].data.p);
	}
	for (size_t i = 0; i < r->nrecs; i++) {
		free(r->recs[i].name);
		free(r->recs[i].reason);
	}
	free(r->tables.p);
	memset(r, 0, sizeof *r);
}

static const part *find_part(const result *r, const char *name)
{
	for (size_t i = 0; i < r->nparts; i++)
		if (strcmp(r->parts[i].name, name) == 0)
			return &r->parts[i];
	return NULL;
}

static const char *part_text(const result *r, const char *name)
{
	const part *p = find_part(r, name);
	if (!p)
		fail_msg("no part %s", name);
	return p->data.p;
}

/* A record for `name` (NULL: the package) with `reason`, or NULL. */
static const rec *find_rec(const result *r, const char *name, const char *reason)
{
	for (size_t i = 0; i < r->nrecs; i++) {
		const rec *x = &r->recs[i];
		if ((name ? x->name && strcmp(x->name, name) == 0 : !x->name) &&
		    strcmp(x->reason, reason) == 0)
			return x;
	}
	return NULL;
}

static int any_part_contains(const result *r, const char *s)
{
	for (size_t i = 0; i < r->nparts; i++)
		if (r->parts[i].data.p && memmem(r->parts[i].data.p, r->parts[i].data.n, s,
						 strlen(s)))
			return 1;
	return r->tables.p && strstr(r->tables.p, s);
}

enum { MODE_FD, MODE_MEM };

typedef struct fd_src {
	int fd;
} fd_src;

static ssize_t fd_read(void *ctx, void *buf, size_t n)
{
	return read(((fd_src *)ctx)->fd, buf, n);
}

/* Decode `data` as the driver would: the head sniffed first, then the
 * decoder with the rest -- a seekable descriptor, or a nested unit. */
static void decode(result *r, const void *data, size_t len, int mode, const sn_limits *lim,
		   volatile sig_atomic_t *stop)
{
	static const sn_limits def = SN_LIMITS_INIT;
	static volatile sig_atomic_t no_stop;
	uint8_t *head = malloc(HEAD_MAX);
	sn_budget b;
	sn_type ty;
	sn_doc d;
	sn_mem_input m;
	fd_src fs = { -1 };
	sn_input fin;
	size_t hn = 0;

	assert_non_null(head);
	memset(r, 0, sizeof *r);
	memset(&ty, 0, sizeof ty);
	ty.kind = SN_KIND_SKIP;
	ty.reason = "document";
	snprintf(ty.detail, sizeof ty.detail, "Office Open XML document");
	sn_budget_init(&b, lim ? lim : &def, stop ? stop : &no_stop);
	memset(&d, 0, sizeof d);
	if (mode == MODE_FD) {
		fs.fd = memfd_create("ooxml-test", MFD_CLOEXEC);
		assert_true(fs.fd >= 0);
		assert_int_equal(write(fs.fd, data, len), (ssize_t)len);
		assert_int_equal(lseek(fs.fd, 0, SEEK_SET), 0);
		ssize_t k = read(fs.fd, head, HEAD_MAX);
		assert_true(k >= 0);
		hn = (size_t)k;
		memset(&fin, 0, sizeof fin);
		fin.read = fd_read;
		fin.ctx = &fs;
		fin.fd = fs.fd;
		fin.name = "test.docx";
		d.in = &fin;
		d.path = "test.docx";
	} else {
		hn = len < HEAD_MAX ? len : HEAD_MAX;
		memcpy(head, data, hn);
		sn_mem_input_init(&m, (const uint8_t *)data + hn, len - hn, "test.docx", 0);
		d.in = &m.in;
	}
	d.head = head;
	d.head_len = hn;
	d.type = &ty;
	d.b = &b;
	d.cb = &fake_cb;
	d.payload = r;
	assert_true(sn_decoder_ooxml.accepts(&ty, head, hn));
	r->rc = sn_decoder_ooxml.decode(&d);
	if (fs.fd >= 0)
		close(fs.fd);
	free(head);
}

/* ---------------------------------------------------------------------- */
/* Package contents                                                        */

#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
#define W_NS "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\""
#define A_NS "xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\""
#define P_NS "xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\""
#define S_NS "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\""
#define R_NS "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""

static const char content_types[] =
	XML_DECL "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
	"<Default Extension=\"xml\" ContentType=\"application/xml\"/></Types>";
static const char root_rels[] =
	XML_DECL "<Relationships "
	"xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	"<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	"relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>";

static const char docx_document[] =
	XML_DECL "<w:document " W_NS "><w:body>\n"
	"<w:p><w:pPr><w:tabs><w:tab w:val=\"left\" w:pos=\"720\"/></w:tabs></w:pPr>"
	"<w:r><w:t xml:space=\"preserve\">BSN </w:t></w:r><w:r><w:t>1234</w:t></w:r>"
	"<w:r><w:rPr><w:b/></w:rPr><w:t>56782</w:t></w:r></w:p>\n"
	"<w:p><w:del w:id=\"1\" w:author=\"Piet\"><w:r><w:delText>jan.jansen@example.nl</w:delText>"
	"</w:r></w:del></w:p>\n"
	"<w:p><w:r><w:t>A</w:t><w:tab/><w:t>B</w:t><w:br/><w:t>C&amp;D &#49;</w:t></w:r></w:p>\n"
	"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>1111</w:t></w:r></w:p></w:tc>"
	"<w:tc><w:p><w:r><w:t>2222</w:t></w:r></w:p></w:tc></w:tr></w:tbl>\n"
	"<w:p><w:r><w:instrText xml:space=\"preserve\"> HYPERLINK \"mailto:x@example.nl\" "
	"</w:instrText></w:r><w:r><w:t>06</w:t></w:r><w:r><w:noBreakHyphen/><w:t>12345678</w:t>"
	"</w:r></w:p>\n"
	"<w:sectPr/></w:body></w:document>";
static const char docx_document_text[] = "BSN 123456782\n"
					 "jan.jansen@example.nl\n"
					 "A\tB\nC&D 1\n"
					 "1111\n\t2222\n\t\n"
					 " HYPERLINK \"mailto:x@example.nl\" 06-12345678\n";

static const char docx_comments[] =
	XML_DECL "<w:comments " W_NS "><w:comment w:id=\"0\" w:author=\"Jan Jansen\" "
	"w:initials=\"JJ\">"
	"<w:p><w:r><w:t>IBAN NL91ABNA0417164300</w:t></w:r></w:p></w:comment></w:comments>";
static const char docx_header[] =
	XML_DECL "<w:hdr " W_NS "><w:p><w:r><w:t>06-12345678</w:t></w:r></w:p></w:hdr>";
static const char docx_footer[] =
	XML_DECL "<w:ftr " W_NS "><w:p><w:r><w:t>1234 AB</w:t></w:r></w:p></w:ftr>";
static const char docx_core[] =
	XML_DECL "<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/"
	"metadata/core-properties\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
	"<dc:creator>Jan Jansen</dc:creator><cp:lastModifiedBy>Piet</cp:lastModifiedBy>"
	"</cp:coreProperties>";
static const char docx_app[] =
	XML_DECL "<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	"extended-properties\"><Application>Microsoft Office Word</Application>"
	"<TotalTime>12</TotalTime><Company>Acme BV</Company></Properties>";
static const char docx_custom[] =
	XML_DECL "<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	"custom-properties\" xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	"docPropsVTypes\"><property fmtid=\"{D5CDD505-2E9C-101B-9397-08002B2CF9AE}\" pid=\"2\" "
	"name=\"Klant BSN\"><vt:lpwstr>111222333</vt:lpwstr></property></Properties>";
static const char docx_styles[] =
	XML_DECL "<w:styles " W_NS "><w:style w:styleId=\"a\"><w:name w:val=\"123456782\"/>"
	"</w:style></w:styles>";
static const char png_bytes[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
static const char custom_xml[] =
	XML_DECL "<klant xmlns=\"urn:example\"><naam>Jan Jansen</naam><bsn>111222333</bsn></klant>";
static const char alt_chunk[] = "<html><body><p>Postcode 1234 AB</p></body></html>";

static const char xlsx_workbook[] =
	XML_DECL "<workbook " S_NS " " R_NS "><sheets>"
	"<sheet name=\"Klanten\" sheetId=\"1\" r:id=\"rId1\"/>"
	"<sheet name=\"Blad2\" sheetId=\"2\" r:id=\"rId2\"/></sheets></workbook>";
static const char xlsx_rels[] =
	XML_DECL "<Relationships "
	"xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	"<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	"relationships/worksheet\" Target=\"worksheets/sheet2.xml\"/>"
	"<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	"relationships/worksheet\" Target=\"/xl/worksheets/sheet1.xml\"/>"
	"<Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	"relationships/sharedStrings\" Target=\"sharedStrings.xml\"/></Relationships>";
static const char xlsx_sst[] =
	XML_DECL "<sst " S_NS " count=\"4\" uniqueCount=\"4\">"
	"<si><t>naam</t></si>"
	"<si><r><t>b</t></r><r><rPr><b/></rPr><t>sn</t></r></si>"
	"<si><t>Jan</t><rPh sb=\"0\" eb=\"1\"><t>JAN-PHONETIC</t></rPh></si>"
	"<si><t>06-12345678</t></si></sst>";
static const char xlsx_sheet1[] =
	XML_DECL "<worksheet " S_NS "><sheetData>"
	"<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c></row>"
	"<row r=\"3\"><c r=\"A3\" t=\"s\"><v>2</v></c><c r=\"B3\"><v>12345672</v></c></row>"
	"<row r=\"7\"><c r=\"A7\" t=\"inlineStr\"><is><t>Piet</t></is></c>"
	"<c r=\"B7\"><v>1.23456782E8</v></c><c r=\"C7\" s=\"1\"><v>3.5</v></c></row>"
	"<row r=\"9\"><c r=\"D9\" t=\"str\"><f>CONCAT(\"1234\",\"5\")</f><v>x</v></c>"
	"<c r=\"E9\" t=\"b\"><v>1</v></c><c r=\"F9\" t=\"e\"><v>#N/A</v></c></row>"
	"<row r=\"10\"><c t=\"s\"><v>3</v></c><c><v>123456782.0</v></c></row>"
	"<row r=\"11\" spans=\"1:3\"/>"
	"<row r=\"12\"><c r=\"A12\" s=\"3\"/></row>"
	"</sheetData><headerFooter><oddHeader>&amp;CBSN 111222333</oddHeader></headerFooter>"
	"</worksheet>";
static const char xlsx_sheet2[] =
	XML_DECL "<worksheet " S_NS "><sheetData>"
	"<row r=\"2\"><c r=\"A2\"><v>111222333</v></c><c r=\"B2\" t=\"s\"><v>0</v></c></row>"
	"</sheetData></worksheet>";
static const char xlsx_comments[] =
	XML_DECL "<comments " S_NS "><authors><author>Jan Jansen</author></authors><commentList>"
	"<comment ref=\"A1\" authorId=\"0\"><text><r><t>IBAN NL91ABNA0417164300</t></r></text>"
	"</comment></commentList></comments>";
static const char xlsx_tables[] = "T Klanten\n"
				  "H naam|bsn\n"
				  "R3: Jan|12345672\n"
				  "R7: Piet|123456782|3.5\n"
				  "R9: -|-|-|x\n"
				  "R10: 06-12345678|123456782\n"
				  "E\n"
				  "T Blad2\n"
				  "H (none)\n"
				  "R2: 111222333|naam\n"
				  "E\n";

static const char pptx_slide[] =
	XML_DECL "<p:sld " P_NS " " A_NS "><p:cSld><p:spTree><p:sp><p:txBody><a:bodyPr/>"
	"<a:p><a:r><a:t>Bel 06-</a:t></a:r><a:r><a:t>12345678</a:t></a:r></a:p>"
	"<a:p><a:r><a:t>regel 2</a:t></a:r><a:br/><a:r><a:t>regel 3</a:t></a:r></a:p>"
	"</p:txBody></p:sp></p:spTree></p:cSld></p:sld>";
static const char pptx_notes[] =
	XML_DECL "<p:notes " P_NS " " A_NS "><p:cSld><p:spTree><p:sp><p:txBody>"
	"<a:p><a:r><a:t>Notitie: 1234 AB</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld>"
	"</p:notes>";
static const char pptx_authors[] =
	XML_DECL "<p:cmAuthorLst " P_NS "><p:cmAuthor id=\"0\" name=\"Jan Jansen\" initials=\"JJ\" "
	"lastIdx=\"1\" clrIdx=\"0\"/></p:cmAuthorLst>";
static const char pptx_comment[] =
	XML_DECL "<p:cmLst " P_NS "><p:cm authorId=\"0\" idx=\"1\"><p:pos x=\"10\" y=\"10\"/>"
	"<p:text>mail jan.jansen@example.nl</p:text></p:cm></p:cmLst>";
static const char pptx_layout[] =
	XML_DECL "<p:sldLayout " P_NS " " A_NS "><p:cSld><p:spTree><p:sp><p:txBody>"
	"<a:p><a:r><a:t>Klik om te bewerken</a:t></a:r></a:p></p:txBody></p:sp></p:spTree>"
	"</p:cSld></p:sldLayout>";

static const char xlsx_pivot_def[] =
	XML_DECL "<pivotCacheDefinition " S_NS "><cacheFields count=\"2\">"
	"<cacheField name=\"naam\" numFmtId=\"0\"><sharedItems><s v=\"Jan\"/><s v=\"Piet\"/>"
	"</sharedItems></cacheField><cacheField name=\"bsn\" numFmtId=\"0\">"
	"<sharedItems containsNumber=\"1\"/></cacheField></cacheFields></pivotCacheDefinition>";
static const char xlsx_pivot_records[] =
	XML_DECL "<pivotCacheRecords " S_NS "><r><x v=\"0\"/><n v=\"111222333\"/></r>"
	"</pivotCacheRecords>";

static void build_xlsx(sbuf *z, int sst_first)
{
	zfile sheets_first[] = {
		{ "[Content_Types].xml", content_types, 0 },
		{ "_rels/.rels", root_rels, 0 },
		{ "xl/workbook.xml", xlsx_workbook, 0 },
		{ "xl/_rels/workbook.xml.rels", xlsx_rels, 0 },
		{ "xl/worksheets/sheet1.xml", xlsx_sheet1, 0 },
		{ "xl/worksheets/sheet2.xml", xlsx_sheet2, 0 },
		{ "xl/styles.xml", docx_styles, 0 },
		{ "xl/sharedStrings.xml", xlsx_sst, 0 },
		{ "xl/comments1.xml", xlsx_comments, 0 },
		{ "xl/pivotCache/pivotCacheDefinition1.xml", xlsx_pivot_def, 0 },
		{ "xl/pivotCache/pivotCacheRecords1.xml", xlsx_pivot_records, 0 },
		{ "docProps/core.xml", docx_core, 0 },
	};
	zfile strings_first[] = {
		{ "[Content_Types].xml", content_types, 0 },
		{ "xl/sharedStrings.xml", xlsx_sst, 0 },
		{ "xl/_rels/workbook.xml.rels", xlsx_rels, 0 },
		{ "xl/workbook.xml", xlsx_workbook, 0 },
		{ "xl/worksheets/sheet1.xml", xlsx_sheet1, 0 },
		{ "xl/worksheets/sheet2.xml", xlsx_sheet2, 0 },
		{ "xl/comments1.xml", xlsx_comments, 0 },
		{ "xl/pivotCache/pivotCacheDefinition1.xml", xlsx_pivot_def, 0 },
		{ "xl/pivotCache/pivotCacheRecords1.xml", xlsx_pivot_records, 0 },
		{ "docProps/core.xml", docx_core, 0 },
	};
	if (sst_first)
		assert_int_equal(zip_build(z, strings_first, NELEM(strings_first), NULL), 0);
	else
		assert_int_equal(zip_build(z, sheets_first, NELEM(sheets_first), NULL), 0);
}

static void build_docx(sbuf *z, const sbuf *embedded)
{
	zfile files[] = {
		{ "[Content_Types].xml", content_types, 0 },
		{ "_rels/.rels", root_rels, 0 },
		{ "word/_rels/document.xml.rels", root_rels, 0 },
		{ "word/document.xml", docx_document, 0 },
		{ "word/styles.xml", docx_styles, 0 },
		{ "word/comments.xml", docx_comments, 0 },
		{ "word/header1.xml", docx_header, 0 },
		{ "word/footer1.xml", docx_footer, 0 },
		{ "word/media/image1.png", png_bytes, sizeof png_bytes - 1 },
		{ "word/embeddings/Microsoft_Excel_Worksheet.xlsx",
		  embedded ? embedded->p : "x", embedded ? embedded->n : 1 },
		{ "docProps/core.xml", docx_core, 0 },
		{ "docProps/app.xml", docx_app, 0 },
		{ "docProps/custom.xml", docx_custom, 0 },
		{ "docProps/thumbnail.jpeg", "\xff\xd8\xff\xe0", 4 },
		{ "customXml/item1.xml", custom_xml, 0 },
		{ "customXml/itemProps1.xml", docx_styles, 0 },
		{ "word/afchunk.htm", alt_chunk, 0 },
	};
	assert_int_equal(zip_build(z, files, NELEM(files), NULL), 0);
}

/* A docx whose document.xml is `doc`. */
static void build_doc_only(sbuf *z, const char *doc, size_t len)
{
	zfile files[] = {
		{ "[Content_Types].xml", content_types, 0 },
		{ "word/document.xml", doc, len },
	};
	assert_int_equal(zip_build(z, files, NELEM(files), NULL), 0);
}

/* ---------------------------------------------------------------------- */
/* Tests                                                                   */

static void test_accepts(void **state)
{
	(void)state;
	static const struct {
		const char *reason, *detail;
		int yes;
	} cases[] = {
		{ "document", "Office Open XML document", 1 },
		{ "document", "OpenDocument file", 0 },
		{ "archive", "ZIP archive", 0 },
		{ "document", "PDF document", 0 },
	};
	for (size_t i = 0; i < NELEM(cases); i++) {
		sn_type ty;
		memset(&ty, 0, sizeof ty);
		ty.kind = SN_KIND_SKIP;
		ty.reason = cases[i].reason;
		snprintf(ty.detail, sizeof ty.detail, "%s", cases[i].detail);
		assert_int_equal(sn_decoder_ooxml.accepts(&ty, (const uint8_t *)"PK\3\4", 4),
				 cases[i].yes);
	}
}

static void test_docx(void **state)
{
	(void)state;
	sbuf inner = { 0 }, z = { 0 };
	build_xlsx(&inner, 1);
	build_docx(&z, &inner);
	for (int mode = MODE_FD; mode <= MODE_MEM; mode++) {
		result r;
		decode(&r, z.p, z.n, mode, NULL, NULL);
		assert_int_equal(r.rc, 0);
		/* runs joined, deletions and field codes kept, cells apart */
		assert_string_equal(part_text(&r, "word/document.xml"), docx_document_text);
		assert_true(find_part(&r, "word/document.xml")->is_text);
		assert_string_equal(part_text(&r, "word/comments.xml"),
				    "Jan Jansen\nIBAN NL91ABNA0417164300\n");
		assert_string_equal(part_text(&r, "word/header1.xml"), "06-12345678\n");
		assert_string_equal(part_text(&r, "word/footer1.xml"), "1234 AB\n");
		assert_string_equal(part_text(&r, "docProps/core.xml"), "Jan Jansen\nPiet\n");
		assert_string_equal(part_text(&r, "docProps/app.xml"), "Acme BV\n");
		assert_string_equal(part_text(&r, "docProps/custom.xml"), "Klant BSN: 111222333\n");
		/* styles, relationships: not text, not on record */
		assert_null(find_part(&r, "word/styles.xml"));
		assert_null(find_part(&r, "word/_rels/document.xml.rels"));
		assert_null(find_part(&r, "[Content_Types].xml"));
		/* the image counted, the workbook handed on as it is */
		const rec *img = find_rec(&r, "word/media/image1.png", "image");
		assert_non_null(img);
		assert_int_equal(img->st, SN_FILE_SKIPPED);
		const part *emb = find_part(&r, "word/embeddings/Microsoft_Excel_Worksheet.xlsx");
		assert_non_null(emb);
		assert_false(emb->is_text);
		assert_int_equal(emb->data.n, inner.n);
		assert_memory_equal(emb->data.p, inner.p, inner.n);
		assert_non_null(find_rec(&r, "docProps/thumbnail.jpeg", "image"));
		/* data bound to content controls; an imported HTML chunk */
		assert_string_equal(part_text(&r, "customXml/item1.xml"),
				    "Jan Jansen\n111222333\n");
		assert_null(find_part(&r, "customXml/itemProps1.xml"));
		const part *chunk = find_part(&r, "word/afchunk.htm");
		assert_non_null(chunk);
		assert_false(chunk->is_text);
		assert_string_equal(chunk->data.p, alt_chunk);
		assert_int_equal(r.nrecs, 2);
		assert_null(r.tables.p);
		result_free(&r);
	}
	free(inner.p);
	free(z.p);
}

static void test_xlsx(void **state)
{
	(void)state;
	/* Excel's order (sheets before their shared strings) and the other */
	for (int sst_first = 0; sst_first <= 1; sst_first++) {
		sbuf z = { 0 };
		build_xlsx(&z, sst_first);
		for (int mode = MODE_FD; mode <= MODE_MEM; mode++) {
			result r;
			decode(&r, z.p, z.n, mode, NULL, NULL);
			assert_int_equal(r.rc, 0);
			assert_string_equal(r.tables.p, xlsx_tables);
			assert_false(any_part_contains(&r, "PHONETIC"));
			assert_false(any_part_contains(&r, "CONCAT"));
			/* header names and page headers: scanned as text */
			assert_string_equal(part_text(&r, "xl/worksheets/sheet1.xml"),
					    "naam\tbsn\n&CBSN 111222333\n");
			assert_null(find_part(&r, "xl/worksheets/sheet2.xml"));
			assert_string_equal(part_text(&r, "xl/comments1.xml"),
					    "Jan Jansen\nIBAN NL91ABNA0417164300\n\n");
			/* pivot caches hold a copy of their source rows */
			assert_string_equal(
				part_text(&r, "xl/pivotCache/pivotCacheDefinition1.xml"),
				"naam\nJan\tPiet\t\nbsn\n\n");
			assert_string_equal(part_text(&r, "xl/pivotCache/pivotCacheRecords1.xml"),
					    "111222333\t\n");
			assert_null(find_part(&r, "xl/sharedStrings.xml"));
			assert_null(find_part(&r, "xl/workbook.xml"));
			assert_int_equal(r.nrecs, 0);
			result_free(&r);
		}
		free(z.p);
	}
}

/* Numbers as Excel writes them, and as the user typed them. */
static void test_xlsx_numbers(void **state)
{
	(void)state;
	static const struct {
		const char *v, *want;
	} cases[] = {
		{ "12345672", "12345672" },         /* a BSN that lost its leading zero */
		{ "1.23456782E8", "123456782" },
		{ "1.23456782E+8", "123456782" },
		{ "123456782.0", "123456782" },
		{ "123456782.000", "123456782" },
		{ "3.5", "3.5" },
		{ "0.1", "0.1" },
		{ "1.5E-3", "1.5E-3" },
		{ "1E+20", "100000000000000000000" },
		{ "-42", "-42" },
		{ "-0", "0" },
		{ "6.12345678E8", "612345678" },
		{ "1E+300", "1E+300" },             /* absurdly long: as written */
		{ "abc", "abc" },
		{ "2024-01-02T00:00:00", "2024-01-02T00:00:00" },
	};
	sbuf sheet = { 0 }, want = { 0 }, z = { 0 };
	sb_puts(&sheet, XML_DECL "<worksheet " S_NS "><sheetData>");
	sb_puts(&want, "T sheet1\nH (none)\n");
	for (size_t i = 0; i < NELEM(cases); i++) {
		sb_printf(&sheet, "<row r=\"%zu\"><c r=\"A%zu\"><v>%s</v></c></row>", i + 1, i + 1,
			  cases[i].v);
		sb_printf(&want, "R%zu: %s\n", i + 1, cases[i].want);
	}
	sb_puts(&sheet, "</sheetData></worksheet>");
	sb_puts(&want, "E\n");
	zfile files[] = {
		{ "[Content_Types].xml", content_types, 0 },
		{ "xl/workbook.xml", XML_DECL "<workbook " S_NS "/>", 0 },
		{ "xl/worksheets/sheet1.xml", sheet.p, 0 },
	};
	assert_int_equal(zip_build(&z, files, NELEM(files), NULL), 0);
	result r;
	decode(&r, z.p, z.n, MODE_MEM, NULL, NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.tables.p, want.p);
	result_free(&r);
	free(sheet.p);
	free(want.p);
	free(z.p);
}

/* A title row above the header names no column; a one-column sheet's
 * single-cell first row is its header. */
static void test_xlsx_title_rows(void **state)
{
	(void)state;
	static const struct {
		const char *rows, *want;
	} cases[] = {
		{ "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>Overzicht 2024</t></is></c></row>"
		  "<row r=\"3\"><c r=\"A3\" t=\"inlineStr\"><is><t>naam</t></is></c>"
		  "<c r=\"B3\" t=\"inlineStr\"><is><t>bsn</t></is></c></row>"
		  "<row r=\"4\"><c r=\"A4\" t=\"inlineStr\"><is><t>Jan</t></is></c>"
		  "<c r=\"B4\"><v>111222333</v></c></row>",
		  "T sheet1\nH naam|bsn\nR4: Jan|111222333\nE\n" },
		{ "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>bsn</t></is></c></row>"
		  "<row r=\"2\"><c r=\"A2\"><v>111222333</v></c></row>",
		  "T sheet1\nH bsn\nR2: 111222333\nE\n" },
		{ "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>alleen dit</t></is></c></row>",
		  "T sheet1\nH (none)\nE\n" },
	};
	for (size_t i = 0; i < NELEM(cases); i++) {
		sbuf sheet = { 0 }, z = { 0 };
		sb_puts(&sheet, XML_DECL "<worksheet " S_NS "><sheetData>");
		sb_puts(&sheet, cases[i].rows);
		sb_puts(&sheet, "</sheetData></worksheet>");
		zfile files[] = {
			{ "[Content_Types].xml", content_types, 0 },
			{ "xl/workbook.xml", XML_DECL "<workbook " S_NS "/>", 0 },
			{ "xl/worksheets/sheet1.xml", sheet.p, 0 },
		};
		assert_int_equal(zip_build(&z, files, NELEM(files), NULL), 0);
		result r;
		decode(&r, z.p, z.n, MODE_MEM, NULL, NULL);
		assert_int_equal(r.rc, 0);
		assert_string_equal(r.tables.p, cases[i].want);
		if (i == 0) /* the title is read as the sheet's text */
			assert_non_null(strstr(part_text(&r, "xl/worksheets/sheet1.xml"),
					       "Overzicht 2024"));
		result_free(&r);
		free(sheet.p);
		free(z.p);
	}
}

static void test_pptx(void **state)
{
	(void)state;
	sbuf z = { 0 };
	zfile files[] = {
		{ "[Content_Types].xml", content_types, 0 },
		{ "ppt/presentation.xml", XML_DECL "<p:presentation " P_NS "/>", 0 },
		{ "ppt/slides/slide1.xml", pptx_slide, 0 },
		{ "ppt/slideLayouts/slideLayout1.xml", pptx_layout, 0 },
		{ "ppt/notesSlides/notesSlide1.xml", pptx_notes, 0 },
		{ "ppt/commentAuthors.xml", pptx_authors, 0 },
		{ "ppt/comments/comment1.xml", pptx_comment, 0 },
		{ "ppt/media/image1.jpeg", "\xff\xd8\xff\xe0", 4 },
		{ "ppt/media/media1.mp4", "\0\0\0\x18" "ftypmp42", 12 },
	};
	assert_int_equal(zip_build(&z, files, NELEM(files), NULL), 0);
	for (int mode = MODE_FD; mode <= MODE_MEM; mode++) {
		result r;
		decode(&r, z.p, z.n, mode, NULL, NULL);
		assert_int_equal(r.rc, 0);
		assert_string_equal(part_text(&r, "ppt/slides/slide1.xml"),
				    "Bel 06-12345678\nregel 2\nregel 3\n");
		assert_string_equal(part_text(&r, "ppt/notesSlides/notesSlide1.xml"),
				    "Notitie: 1234 AB\n");
		assert_string_equal(part_text(&r, "ppt/commentAuthors.xml"), "Jan Jansen\n");
		assert_string_equal(part_text(&r, "ppt/comments/comment1.xml"),
				    "mail jan.jansen@example.nl\n");
		assert_null(find_part(&r, "ppt/slideLayouts/slideLayout1.xml"));
		assert_null(find_part(&r, "ppt/presentation.xml"));
		assert_non_null(find_rec(&r, "ppt/media/image1.jpeg", "image"));
		/* other media: a unit of its own, sniffed by the driver */
		const part *mp4 = find_part(&r, "ppt/media/media1.mp4");
		assert_non_null(mp4);
		assert_false(mp4->is_text);
		assert_int_equal(mp4->data.n, 12);
		assert_int_equal(r.nrecs, 1);
		result_free(&r);
	}
	free(z.p);
}

/* A part that must never reach libxml2's DTD machinery. */
static const char xxe_tail[] =
	"<w:document " W_NS "><w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>";

static void utf16le(sbuf *out, const char *s)
{
	sb_put(out, "\xff\xfe", 2);
	for (; *s; s++) {
		char u[2] = { *s, 0 };
		sb_put(out, u, 2);
	}
}

static void test_hostile_parts(void **state)
{
	(void)state;
	char marker_path[64];
	static const char marker[] = "XXE-MARKER-7f3a";
	snprintf(marker_path, sizeof marker_path, "/tmp/sn-ooxml-xxe-%ld", (long)getpid());
	FILE *f = fopen(marker_path, "w");
	assert_non_null(f);
	fputs(marker, f);
	fclose(f);

	sbuf laughs = { 0 };
	sb_puts(&laughs, "<?xml version=\"1.0\"?>\n<!DOCTYPE w:document [\n<!ENTITY l0 \"lol\">\n");
	for (int i = 1; i <= 10; i++) {
		sb_printf(&laughs, "<!ENTITY l%d \"", i);
		for (int k = 0; k < 10; k++)
			sb_printf(&laughs, "&l%d;", i - 1);
		sb_puts(&laughs, "\">\n");
	}
	sb_puts(&laughs, "]>\n<w:document " W_NS "><w:body><w:p><w:r><w:t>&l10;</w:t></w:r></w:p>"
			 "</w:body></w:document>");

	sbuf cases_src[6] = { { 0 } };
	sb_printf(&cases_src[0], "<?xml version=\"1.0\"?><!DOCTYPE w:document [<!ENTITY x SYSTEM "
				 "\"file://%s\">]>%s", marker_path, xxe_tail);
	sb_printf(&cases_src[1], "<?xml version=\"1.0\"?>\n<!-- a comment -->\n<?pi x?>"
				 "<!DOCTYPE w:document [<!ENTITY x SYSTEM \"%s\">]>%s",
		  marker_path, xxe_tail);
	sb_printf(&cases_src[2], "<!DOCTYPE w:document SYSTEM \"file://%s\">%s", marker_path,
		  xxe_tail);
	{
		sbuf tmp = { 0 };
		sb_printf(&tmp, "<?xml version=\"1.0\" encoding=\"UTF-16\"?><!DOCTYPE w:document "
				"[<!ENTITY x SYSTEM \"file://%s\">]>%s", marker_path, xxe_tail);
		utf16le(&cases_src[3], tmp.p);
		free(tmp.p);
	}
	/* "<!DOCTYPE" in UTF-7 would pass a check for its ASCII bytes */
	sb_printf(&cases_src[4], "<?xml version=\"1.0\" encoding=\"UTF-7\"?>+ADwAIQ-DOCTYPE%s",
		  xxe_tail);
	sb_printf(&cases_src[5], "%s", XML_DECL "<w:document " W_NS "><w:body><w:p><w:r>"
				       "<w:t>&undefined;</w:t></w:r></w:p></w:body></w:document>");
	const struct {
		const char *what;
		const char *data;
		size_t len;
		const char *reason;
	} cases[] = {
		{ "external entity", cases_src[0].p, cases_src[0].n, "corrupt" },
		{ "DTD after a comment and a PI", cases_src[1].p, cases_src[1].n, "corrupt" },
		{ "external DTD subset", cases_src[2].p, cases_src[2].n, "corrupt" },
		{ "UTF-16 external entity", cases_src[3].p, cases_src[3].n, "corrupt" },
		{ "UTF-7 declaration", cases_src[4].p, cases_src[4].n, "unsupported" },
		{ "undefined entity", cases_src[5].p, cases_src[5].n, "corrupt" },
		{ "billion laughs", laughs.p, laughs.n, "corrupt" },
	};
	for (size_t i = 0; i < NELEM(cases); i++) {
		sbuf z = { 0 };
		build_doc_only(&z, cases[i].data, cases[i].len);
		for (int mode = MODE_FD; mode <= MODE_MEM; mode++) {
			result r;
			decode(&r, z.p, z.n, mode, NULL, NULL);
			if (r.rc != 0 || !find_rec(&r, "word/document.xml", cases[i].reason))
				fail_msg("%s: no %s record", cases[i].what, cases[i].reason);
			assert_false(any_part_contains(&r, marker));
			assert_false(any_part_contains(&r, "lollol"));
			result_free(&r);
		}
		free(z.p);
	}
	/* the same guard holds for parts that are not text parts */
	{
		sbuf z = { 0 };
		zfile files[] = {
			{ "[Content_Types].xml", content_types, 0 },
			{ "xl/workbook.xml", cases_src[0].p, cases_src[0].n },
			{ "xl/sharedStrings.xml", laughs.p, laughs.n },
			{ "xl/worksheets/sheet1.xml", cases_src[0].p, cases_src[0].n },
		};
		assert_int_equal(zip_build(&z, files, NELEM(files), NULL), 0);
		result r;
		decode(&r, z.p, z.n, MODE_MEM, NULL, NULL);
		assert_int_equal(r.rc, 0);
		assert_non_null(find_rec(&r, "xl/workbook.xml", "corrupt"));
		assert_non_null(find_rec(&r, "xl/sharedStrings.xml", "corrupt"));
		assert_non_null(find_rec(&r, "xl/worksheets/sheet1.xml", "corrupt"));
		assert_false(any_part_contains(&r, marker));
		result_free(&r);
		free(z.p);
	}
	for (size_t i = 0; i < NELEM(cases_src); i++)
		free(cases_src[i].p);
	free(laughs.p);
	unlink(marker_path);
}

/* Damage inside a part: what came before it is kept. */
static void test_malformed_part(void **state)
{
	(void)state;
	static const char doc[] = XML_DECL "<w:document " W_NS "><w:body><w:p><w:r>"
					   "<w:t>BSN 111222333</w:t></w:r></w:p><w:p><w:r><w:t>x";
	sbuf z = { 0 };
	build_doc_only(&z, doc, 0);
	result r;
	decode(&r, z.p, z.n, MODE_MEM, NULL, NULL);
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(part_text(&r, "word/document.xml"), "BSN 111222333\n"));
	assert_non_null(find_rec(&r, "word/document.xml", "corrupt"));
	result_free(&r);
	free(z.p);
}

/* A document.xml of `paras` paragraphs of pseudo-random digits (which do
 * not compress away). */
static void big_document(sbuf *doc, int paras)
{
	uint32_t x = 12345;
	sb_puts(doc, XML_DECL "<w:document " W_NS "><w:body>");
	for (int i = 0; i < paras; i++) {
		sb_puts(doc, "<w:p><w:r><w:t>");
		for (int k = 0; k < 60; k++) {
			x = x * 1103515245u + 12345u;
			char c = (char)('0' + (x >> 16) % 10);
			sb_put(doc, &c, 1);
		}
		sb_puts(doc, "</w:t></w:r></w:p>");
	}
	sb_puts(doc, "</w:body></w:document>");
}

static void test_truncated(void **state)
{
	(void)state;
	sbuf doc = { 0 }, z = { 0 };
	big_document(&doc, 4000);
	zfile files[] = {
		{ "[Content_Types].xml", content_types, 0 },
		{ "docProps/core.xml", docx_core, 0 },
		{ "word/document.xml", doc.p, doc.n },
		{ "word/footer1.xml", docx_footer, 0 },
	};
	assert_int_equal(zip_build(&z, files, NELEM(files), NULL), 0);
	static const double cut[] = { 0.5, 0.9 };
	for (size_t i = 0; i < NELEM(cut); i++) {
		size_t len = (size_t)((double)z.n * cut[i]);
		for (int mode = MODE_FD; mode <= MODE_MEM; mode++) {
			result r;
			decode(&r, z.p, len, mode, NULL, NULL);
			assert_int_equal(r.rc, 0);
			/* the damage is on record, what came before it is kept */
			assert_true(find_rec(&r, "word/document.xml", "corrupt") ||
				    find_rec(&r, NULL, "corrupt"));
			assert_string_equal(part_text(&r, "docProps/core.xml"),
					    "Jan Jansen\nPiet\n");
			const part *p = find_part(&r, "word/document.xml");
			assert_non_null(p);
			assert_true(p->data.n > 1000);
			assert_null(find_rec(&r, NULL, "unsupported"));
			result_free(&r);
		}
	}
	/* not a zip at all past its signature */
	static const char garbage[] = "PK\3\4 this is no zip file, only its first four bytes";
	for (int mode = MODE_FD; mode <= MODE_MEM; mode++) {
		result r;
		decode(&r, garbage, sizeof garbage - 1, mode, NULL, NULL);
		assert_int_equal(r.rc, 0);
		assert_int_equal(r.nparts, 0);
		assert_true(r.nrecs >= 1);
		assert_non_null(find_rec(&r, NULL, "corrupt"));
		result_free(&r);
	}
	free(doc.p);
	free(z.p);
}

static void test_deflate_bomb(void **state)
{
	(void)state;
	sbuf doc = { 0 }, z = { 0 };
	sb_puts(&doc, XML_DECL "<w:document " W_NS "><w:body>");
	while (doc.n < (32u << 20))
		sb_puts(&doc, "<w:p><w:r><w:t>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			      "</w:t></w:r></w:p>");
	sb_puts(&doc, "</w:body></w:document>");
	build_doc_only(&z, doc.p, doc.n);
	assert_true(z.n < doc.n / 100);
	static const struct {
		uint64_t member, total;
		unsigned ratio;
		uint64_t ratio_min;
		const char *reason;
	} cases[] = {
		{ 1u << 20, 0, 0, 0, "member-size" },
		{ 0, 1u << 20, 0, 0, "total-size" },
		{ 0, 0, 50, 256u << 10, "ratio" },
		{ 64ull << 30, 1ull << 40, 200, 16u << 20, "ratio" }, /* the defaults */
	};
	for (size_t i = 0; i < NELEM(cases); i++) {
		sn_limits lim = SN_LIMITS_INIT;
		lim.max_member_size = cases[i].member;
		lim.max_total_size = cases[i].total;
		lim.max_ratio = cases[i].ratio;
		lim.ratio_min_bytes = cases[i].ratio_min;
		for (int mode = MODE_FD; mode <= MODE_MEM; mode++) {
			result r;
			decode(&r, z.p, z.n, mode, &lim, NULL);
			assert_int_equal(r.rc, 0);
			if (!find_rec(&r, NULL, cases[i].reason))
				fail_msg("case %zu: no %s record", i, cases[i].reason);
			const part *p = find_part(&r, "word/document.xml");
			assert_non_null(p);
			assert_true(p->total < doc.n / 2);
			/* on record once, for the package */
			assert_int_equal(r.nrecs, 1);
			result_free(&r);
		}
	}
	free(doc.p);
	free(z.p);
}

/* One long shared string named by many small cells. */
static void test_shared_string_bomb(void **state)
{
	(void)state;
	sbuf sst = { 0 }, sheet = { 0 }, z = { 0 };
	sb_puts(&sst, XML_DECL "<sst " S_NS "><si><t>");
	for (int i = 0; i < (1 << 20) / 8; i++)
		sb_puts(&sst, "AAAAAAAA");
	sb_puts(&sst, "</t></si></sst>");
	sb_puts(&sheet, XML_DECL "<worksheet " S_NS "><sheetData>");
	for (int i = 1; i <= 5000; i++)
		sb_printf(&sheet, "<row r=\"%d\"><c t=\"s\"><v>0</v></c>"
				  "<c t=\"s\"><v>0</v></c></row>", i);
	sb_puts(&sheet, "</sheetData></worksheet>");
	zfile files[] = {
		{ "[Content_Types].xml", content_types, 0 },
		{ "xl/workbook.xml", xlsx_workbook, 0 },
		{ "xl/sharedStrings.xml", sst.p, sst.n },
		{ "xl/worksheets/sheet1.xml", sheet.p, sheet.n },
	};
	assert_int_equal(zip_build(&z, files, NELEM(files), NULL), 0);
	result r;
	decode(&r, z.p, z.n, MODE_MEM, NULL, NULL);
	assert_int_equal(r.rc, 0);
	assert_non_null(find_rec(&r, NULL, "ratio"));
	assert_true(r.rows < 100);
	result_free(&r);
	free(sst.p);
	free(sheet.p);
	free(z.p);
}

static void test_encrypted_member(void **state)
{
	(void)state;
	sbuf z = { 0 };
	zfile files[] = {
		{ "[Content_Types].xml", content_types, 0 },
		{ "word/document.xml", docx_document, 0 },
	};
	if (zip_build(&z, files, NELEM(files), "zip:encryption=zipcrypt") < 0) {
		free(z.p);
		skip();
	}
	for (int mode = MODE_FD; mode <= MODE_MEM; mode++) {
		result r;
		decode(&r, z.p, z.n, mode, NULL, NULL);
		assert_int_equal(r.rc, 0);
		assert_non_null(find_rec(&r, "word/document.xml", "encrypted"));
		assert_false(any_part_contains(&r, "123456782"));
		result_free(&r);
	}
	free(z.p);
}

static void test_unsupported_package(void **state)
{
	(void)state;
	sbuf z = { 0 };
	zfile files[] = {
		{ "[Content_Types].xml", content_types, 0 },
		{ "xl/workbook.bin", "\x83\x01\x00", 3 },
		{ "xl/worksheets/sheet1.bin", "\x81\x01\x00", 3 },
	};
	assert_int_equal(zip_build(&z, files, NELEM(files), NULL), 0);
	result r;
	decode(&r, z.p, z.n, MODE_MEM, NULL, NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.nparts, 0);
	assert_int_equal(r.nrecs, 1);
	assert_non_null(find_rec(&r, NULL, "unsupported"));
	result_free(&r);
	free(z.p);
}

static void test_stop(void **state)
{
	(void)state;
	volatile sig_atomic_t stop = 1;
	sbuf z = { 0 };
	build_docx(&z, NULL);
	result r;
	decode(&r, z.p, z.n, MODE_FD, NULL, &stop);
	assert_int_equal(r.rc, SN_ESTOP);
	result_free(&r);
	free(z.p);
}

/* LibreOffice writes the package relationships first and the content-type
 * list last: a document larger than the sniffed head is still OOXML. */
static void test_sniff_libreoffice_order(void **state)
{
	(void)state;
	sbuf doc = { 0 }, z = { 0 };
	big_document(&doc, 3000);
	zfile files[] = {
		{ "_rels/.rels", root_rels, 0 },
		{ "word/document.xml", doc.p, doc.n },
		{ "[Content_Types].xml", content_types, 0 },
	};
	assert_int_equal(zip_build(&z, files, NELEM(files), NULL), 0);
	assert_true(z.n > HEAD_MAX);
	assert_null(memmem(z.p, HEAD_MAX, "[Content_Types].xml", 19));
	sn_sniffer *s = NULL;
	assert_int_equal(sn_sniffer_new(&s), 0);
	sn_type ty;
	sn_sniff(s, (const uint8_t *)z.p, HEAD_MAX, &ty);
	assert_string_equal(ty.reason, "document");
	assert_string_equal(ty.detail, "Office Open XML document");
	/* a plain zip stays an archive */
	sbuf plain = { 0 };
	zfile pf[] = { { "notes.txt", "hallo", 0 } };
	assert_int_equal(zip_build(&plain, pf, 1, NULL), 0);
	sn_sniff(s, (const uint8_t *)plain.p, plain.n, &ty);
	assert_string_equal(ty.reason, "archive");
	sn_sniffer_free(s);
	free(plain.p);
	free(doc.p);
	free(z.p);
}

typedef struct thread_arg {
	const sbuf *z;
	int ok;
} thread_arg;

static void *thread_main(void *p)
{
	thread_arg *a = p;
	a->ok = 1;
	for (int i = 0; i < 10; i++) {
		result r;
		decode(&r, a->z->p, a->z->n, i % 2 ? MODE_MEM : MODE_FD, NULL, NULL);
		const part *d = find_part(&r, "word/document.xml");
		if (r.rc != 0 || !d || strcmp(d->data.p, docx_document_text) != 0)
			a->ok = 0;
		result_free(&r);
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	sbuf z = { 0 };
	build_docx(&z, NULL);
	pthread_t t[4];
	thread_arg a[4];
	for (int i = 0; i < 4; i++) {
		a[i].z = &z;
		assert_int_equal(pthread_create(&t[i], NULL, thread_main, &a[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_true(a[i].ok);
	}
	free(z.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_docx),
		cmocka_unit_test(test_xlsx),
		cmocka_unit_test(test_xlsx_numbers),
		cmocka_unit_test(test_xlsx_title_rows),
		cmocka_unit_test(test_pptx),
		cmocka_unit_test(test_hostile_parts),
		cmocka_unit_test(test_malformed_part),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_deflate_bomb),
		cmocka_unit_test(test_shared_string_bomb),
		cmocka_unit_test(test_encrypted_member),
		cmocka_unit_test(test_unsupported_package),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_sniff_libreoffice_order),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
