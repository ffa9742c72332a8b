/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unit tests for the OpenDocument decoder, driven through its decode() with
 * fake callbacks that read every part to the end (in small pieces, so the
 * on-demand text reader is exercised across its boundaries) and log tables,
 * rows and ledger records.
 *
 * The packages are written here with libarchive's zip writer into memory:
 * text (split spans, spaces, comments, a tracked deletion, notes, a table,
 * headers and footers, properties), spreadsheets (a header row, number cells,
 * repeated empty rows and a million-fold repeated cell), a presentation,
 * pictures, a password-protected document, truncated and damaged packages,
 * external entities, a billion-laughs part, a compression bomb, and the flat
 * single-file forms.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "source/decoder.h"
#include "speurneus/error.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define NS                                                                                   \
	" xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\""                \
	" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\""                    \
	" xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\""                  \
	" xmlns:style=\"urn:oasis:names:tc:opendocument:xmlns:style:1.0\""                  \
	" xmlns:fo=\"urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0\""         \
	" xmlns:meta=\"urn:oasis:names:tc:opendocument:xmlns:meta:1.0\""                    \
	" xmlns:draw=\"urn:oasis:names:tc:opendocument:xmlns:drawing:1.0\""                 \
	" xmlns:presentation=\"urn:oasis:names:tc:opendocument:xmlns:presentation:1.0\""    \
	" xmlns:svg=\"urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0\""           \
	" xmlns:chart=\"urn:oasis:names:tc:opendocument:xmlns:chart:1.0\""                  \
	" xmlns:config=\"urn:oasis:names:tc:opendocument:xmlns:config:1.0\""                \
	" xmlns:dc=\"http://purl.org/dc/elements/1.1/\""

#define XMLDECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define CONTENT_OPEN XMLDECL "<office:document-content" NS " office:version=\"1.3\">"
#define CONTENT_CLOSE "</office:document-content>"

/* ---------------------------------------------------------------------- */
/* Packages                                                                */

typedef struct zent {
	const char *name;
	const void *data;
	size_t len; /* 0: strlen(data) */
	int store;
} zent;

static uint8_t *make_zip(const zent *e, size_t n, size_t *out_len)
{
	size_t cap = 8192;
	for (size_t i = 0; i < n; i++)
		cap += (e[i].len ? e[i].len : strlen(e[i].data)) + 1024;
	uint8_t *buf = malloc(cap);
	size_t used = 0;
	struct archive *a = archive_write_new();
	assert_non_null(buf);
	assert_non_null(a);
	assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		size_t len = e[i].len ? e[i].len : strlen(e[i].data);
		assert_int_equal(e[i].store ? archive_write_zip_set_compression_store(a)
					    : archive_write_zip_set_compression_deflate(a),
				 ARCHIVE_OK);
		struct archive_entry *en = archive_entry_new();
		archive_entry_set_pathname(en, e[i].name);
		archive_entry_set_size(en, (la_int64_t)len);
		archive_entry_set_filetype(en, AE_IFREG);
		archive_entry_set_perm(en, 0644);
		assert_int_equal(archive_write_header(a, en), ARCHIVE_OK);
		assert_int_equal(archive_write_data(a, e[i].data, len), (la_ssize_t)len);
		archive_entry_free(en);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	*out_len = used;
	return buf;
}

/* ---------------------------------------------------------------------- */
/* Fake driver                                                             */

typedef struct part {
	char name[128];
	char *text;
	size_t len;
	int is_text;
} part;

typedef struct rec {
	char name[128]; /* "" for the unit */
	sn_file_status st;
	char reason[32];
} rec;

typedef struct got {
	char *log; /* tables and rows */
	size_t len, cap;
	part parts[32];
	size_t nparts;
	rec recs[32];
	size_t nrecs;
	int table_open;
	int reading;      /* inside the read of a part: no other callback then */
	size_t max_cells; /* widest row handed */
} got;

static void logf_(got *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(got *g, const char *fmt, ...)
{
	char tmp[4096];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	assert_true(k >= 0 && (size_t)k < sizeof tmp);
	if (g->len + (size_t)k + 1 > g->cap) {
		g->cap = (g->len + (size_t)k + 1) * 2;
		g->log = realloc(g->log, g->cap);
		assert_non_null(g->log);
	}
	memcpy(g->log + g->len, tmp, (size_t)k + 1);
	g->len += (size_t)k;
}

static void add_rec(got *g, const char *name, sn_file_status st, const char *reason)
{
	assert_true(g->nrecs < NELEM(g->recs));
	rec *r = &g->recs[g->nrecs++];
	snprintf(r->name, sizeof r->name, "%s", name ? name : "");
	r->st = st;
	snprintf(r->reason, sizeof r->reason, "%s", reason ? reason : "?");
}

static int cb_member(void *payload, const char *name, sn_input *in)
{
	got *g = payload;
	assert_false(g->reading);
	assert_false(g->table_open); /* a part never sits inside a table */
	assert_true(g->nparts < NELEM(g->parts));
	part *p = &g->parts[g->nparts++];
	snprintf(p->name, sizeof p->name, "%s", name);
	p->is_text = in->is_text;
	size_t cap = 256;
	p->text = malloc(cap);
	assert_non_null(p->text);
	for (;;) {
		char buf[7]; /* small reads cross every boundary of the reader */
		g->reading = 1;
		ssize_t k = in->read(in->ctx, buf, sizeof buf);
		g->reading = 0;
		if (k < 0) {
			/* what the driver does with a reader that stopped */
			add_rec(g, name, in->stop_status, in->stop_reason ? in->stop_reason
								   : "read-error");
			break;
		}
		if (k == 0)
			break;
		if (p->len + (size_t)k + 1 > cap) {
			cap *= 2;
			p->text = realloc(p->text, cap);
			assert_non_null(p->text);
		}
		memcpy(p->text + p->len, buf, (size_t)k);
		p->len += (size_t)k;
		assert_true(p->len < (64u << 20));
	}
	p->text[p->len] = '\0';
	return 0;
}

static void cb_record(void *payload, const char *name, sn_file_status st, const char *reason,
		      const char *detail)
{
	(void)detail;
	assert_false(((got *)payload)->reading);
	add_rec(payload, name, st, reason);
}

static int cb_table_begin(void *payload, const char *name, const char *const *cols,
			  size_t ncols)
{
	got *g = payload;
	assert_false(g->reading);
	assert_false(g->table_open);
	g->table_open = 1;
	logf_(g, "T %s|", name);
	if (!cols)
		logf_(g, "-");
	for (size_t i = 0; cols && i < ncols; i++)
		logf_(g, "%s%s", i ? "," : "", cols[i] ? cols[i] : "-");
	logf_(g, "\n");
	return 0;
}

static int cb_row(void *payload, int64_t row, const char *const *cells, const size_t *lens,
		  size_t ncells)
{
	got *g = payload;
	assert_false(g->reading);
	assert_true(g->table_open);
	if (ncells > g->max_cells)
		g->max_cells = ncells;
	logf_(g, "R %lld|", (long long)row);
	if (ncells > 16) {
		/* wide rows: the count, the first and the last cell */
		logf_(g, "#%zu %.*s..%.*s\n", ncells, cells[0] ? (int)lens[0] : 1,
		      cells[0] ? cells[0] : "-", cells[ncells - 1] ? (int)lens[ncells - 1] : 1,
		      cells[ncells - 1] ? cells[ncells - 1] : "-");
		return 0;
	}
	for (size_t i = 0; i < ncells; i++) {
		if (cells[i])
			assert_int_equal(strlen(cells[i]), lens[i]);
		if (cells[i] && lens[i] > 200) /* long cells: the start and the length */
			logf_(g, "%s%.8s~%zu", i ? "," : "", cells[i], lens[i]);
		else if (cells[i])
			logf_(g, "%s%.*s", i ? "," : "", (int)lens[i], cells[i]);
		else
			logf_(g, "%s-", i ? "," : "");
	}
	logf_(g, "\n");
	return 0;
}

static int cb_table_end(void *payload)
{
	got *g = payload;
	assert_false(g->reading);
	assert_true(g->table_open);
	g->table_open = 0;
	logf_(g, "E\n");
	return 0;
}

static const sn_doc_cb cbs = { cb_member, cb_record, cb_table_begin, cb_row, cb_table_end };

static void got_free(got *g)
{
	for (size_t i = 0; i < g->nparts; i++)
		free(g->parts[i].text);
	free(g->log);
	memset(g, 0, sizeof *g);
}

static const sn_type TY_ODF = { SN_KIND_SKIP, "document", "OpenDocument file" };
static const sn_type TY_TEXT = { SN_KIND_TEXT, NULL, "text" };

/* Decode `buf` as the sniffer and driver would hand it: the first bytes as
 * head, the rest through a reader (and `fd` when >= 0, a top-level file). */
static int run_full(const uint8_t *buf, size_t len, const sn_type *ty, got *g,
		    const sn_limits *limp, volatile sig_atomic_t *stop, int fd)
{
	static volatile sig_atomic_t no_stop = 0;
	sn_limits lim = SN_LIMITS_INIT;
	if (limp)
		lim = *limp;
	sn_budget b;
	sn_budget_init(&b, &lim, stop ? stop : &no_stop);
	size_t hn = len < 4096 ? len : 4096;
	sn_mem_input m;
	sn_mem_input_init(&m, buf + hn, len - hn, "doc", 0);
	m.in.fd = fd;
	sn_doc d;
	memset(&d, 0, sizeof d);
	d.head = buf;
	d.head_len = hn;
	d.in = &m.in;
	d.path = fd >= 0 ? "doc" : NULL;
	d.type = ty;
	d.b = &b;
	d.cb = &cbs;
	d.payload = g;
	const sn_decoder *dec = sn_decoder_find(ty, buf, hn);
	assert_ptr_equal(dec, &sn_decoder_odf);
	int rc = dec->decode(&d);
	assert_false(g->table_open); /* every begin has its end */
	return rc;
}

static int run(const uint8_t *buf, size_t len, got *g)
{
	return run_full(buf, len, &TY_ODF, g, NULL, NULL, -1);
}

/* All text handed under `name`, joined. */
static const char *text_of(got *g, const char *name)
{
	static char joined[1 << 16];
	size_t n = 0;
	int found = 0;
	joined[0] = '\0';
	for (size_t i = 0; i < g->nparts; i++) {
		if (strcmp(g->parts[i].name, name) != 0)
			continue;
		found = 1;
		assert_true(n + g->parts[i].len < sizeof joined);
		memcpy(joined + n, g->parts[i].text, g->parts[i].len);
		n += g->parts[i].len;
		joined[n] = '\0';
	}
	return found ? joined : NULL;
}

static const rec *rec_of(const got *g, const char *name, const char *reason)
{
	for (size_t i = 0; i < g->nrecs; i++)
		if (strcmp(g->recs[i].name, name) == 0 && strcmp(g->recs[i].reason, reason) == 0)
			return &g->recs[i];
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Text documents                                                          */

static const char ODT_CONTENT[] =
	CONTENT_OPEN
	"<office:automatic-styles><style:style style:name=\"P1\" style:family=\"paragraph\"/>"
	"</office:automatic-styles>\n"
	"<office:body>\n<office:text>\n"
	"<text:tracked-changes><text:changed-region text:id=\"ct1\"><text:deletion>"
	"<office:change-info><dc:creator>Klaas Wissel</dc:creator>"
	"<dc:date>2024-03-01T10:22:33.123456789</dc:date></office:change-info>"
	"<text:p>IBAN NL91ABNA0417164300</text:p></text:deletion></text:changed-region>"
	"</text:tracked-changes>\n"
	"<text:h text:outline-level=\"1\">Dossier</text:h>\n"
	"<text:p>BSN <text:span text:style-name=\"T1\">1112</text:span>"
	"<text:span text:style-name=\"T2\">22333</text:span> bekend</text:p>\n"
	"<text:p>Jan<text:s/>Jansen<text:s text:c=\"3\"/>woont<text:tab/>hier"
	"<text:line-break/>tweede regel</text:p>\n"
	"<text:p>Tekst<office:annotation><dc:creator>Piet Puk</dc:creator>"
	"<dc:date>2024-01-01T00:00:00</dc:date><text:p>bel 06-12345678</text:p>"
	"</office:annotation> verder</text:p>\n"
	"<text:p>Voetnoot<text:note text:note-class=\"footnote\"><text:note-citation>7"
	"</text:note-citation><text:note-body><text:p>postcode 1234 AB</text:p>"
	"</text:note-body></text:note>.</text:p>\n"
	"<table:table table:name=\"T\"><table:table-column table:number-columns-repeated=\"2\"/>"
	"<table:table-row><table:table-cell office:value-type=\"float\" office:value=\"1234\">"
	"<text:p>1234</text:p></table:table-cell><table:table-cell office:value-type=\"string\">"
	"<text:p>5678</text:p></table:table-cell></table:table-row></table:table>\n"
	"<text:p>s<text:s text:c=\"99999999999999999999\"/>e</text:p>\n"
	"<text:p>na<text:change-start text:change-id=\"ct1\"/></text:p>\n"
	"</office:text>\n</office:body>\n" CONTENT_CLOSE;

static const char ODT_CONTENT_TEXT[] =
	"Klaas Wissel\nIBAN NL91ABNA0417164300\nDossier\nBSN 111222333 bekend\n"
	"Jan Jansen   woont\thier\ntweede regel\n"
	"Tekst\nPiet Puk\nbel 06-12345678\n verder\n"
	"Voetnoot\npostcode 1234 AB\n.\n"
	"1234\t5678\t\n"
	"s                                                                e\n"
	"na\n";

static const char ODT_STYLES[] =
	XMLDECL "<office:document-styles" NS " office:version=\"1.3\">"
	"<office:styles><style:style style:name=\"Standard\" style:family=\"paragraph\">"
	"<style:text-properties fo:font-size=\"12pt\"/></style:style>"
	"<text:notes-configuration text:note-class=\"footnote\"/></office:styles>"
	"<office:automatic-styles><style:page-layout style:name=\"pm1\"/>"
	"</office:automatic-styles>"
	"<office:master-styles><style:master-page style:name=\"Standard\">"
	"<style:header><text:p>Kop: jan.jansen@example.nl</text:p></style:header>"
	"<style:header-left><text:p>Links</text:p></style:header-left>"
	"<style:footer><text:p>Postbus <text:span>1234</text:span> AB</text:p></style:footer>"
	"</style:master-page></office:master-styles></office:document-styles>";

static const char ODT_META[] =
	XMLDECL "<office:document-meta" NS " office:version=\"1.3\"><office:meta>"
	"<meta:generator>LibreOffice/7.4</meta:generator><dc:title>Klantdossier</dc:title>"
	"<meta:initial-creator>Jan Jansen</meta:initial-creator>"
	"<dc:creator>Anna de Vries</dc:creator>"
	"<meta:creation-date>2024-01-01T10:00:00.123456789</meta:creation-date>"
	"<dc:date>2024-02-02T10:00:00</dc:date><meta:keyword>vertrouwelijk</meta:keyword>"
	"<meta:user-defined meta:name=\"Telefoon\">06-12345678</meta:user-defined>"
	"<meta:document-statistic meta:page-count=\"1\"/></office:meta></office:document-meta>";

static const char OBJ_CONTENT[] =
	CONTENT_OPEN "<office:body><office:chart><chart:chart><chart:title><text:p>Omzet</text:p>"
	"</chart:title><table:table table:name=\"local-table\"><table:table-rows>"
	"<table:table-row><table:table-cell office:value-type=\"string\"><text:p>rij</text:p>"
	"</table:table-cell><table:table-cell office:value-type=\"float\" office:value=\"42\">"
	"<text:p>42</text:p></table:table-cell></table:table-row></table:table-rows>"
	"</table:table></chart:chart></office:chart></office:body>" CONTENT_CLOSE;

static const char MANIFEST_PLAIN[] =
	XMLDECL "<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:"
	"manifest:1.0\" manifest:version=\"1.3\"><manifest:file-entry manifest:full-path=\"/\""
	" manifest:media-type=\"application/vnd.oasis.opendocument.text\"/>"
	"<manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/>"
	"</manifest:manifest>";

static const uint8_t PNG[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0 };

static uint8_t *make_odt(size_t *len)
{
	const zent e[] = {
		{ "mimetype", "application/vnd.oasis.opendocument.text", 0, 1 },
		{ "content.xml", ODT_CONTENT, 0, 0 },
		{ "styles.xml", ODT_STYLES, 0, 0 },
		{ "meta.xml", ODT_META, 0, 0 },
		{ "settings.xml", "<config>geen tekst</config>", 0, 0 },
		{ "Pictures/x.png", PNG, sizeof PNG, 1 },
		{ "Thumbnails/thumbnail.png", PNG, sizeof PNG, 1 },
		{ "Object 1/content.xml", OBJ_CONTENT, 0, 0 },
		{ "Basic/Standard/Module1.xml", "<script>REM jan.jansen@example.nl</script>", 0, 0 },
		{ "META-INF/manifest.xml", MANIFEST_PLAIN, 0, 0 },
	};
	return make_zip(e, NELEM(e), len);
}

static void check_odt(got *g)
{
	assert_string_equal(text_of(g, "content.xml"), ODT_CONTENT_TEXT);
	assert_string_equal(text_of(g, "styles.xml"),
			    "Kop: jan.jansen@example.nl\nLinks\nPostbus 1234 AB\n");
	assert_string_equal(text_of(g, "meta.xml"), "Klantdossier\nJan Jansen\nAnna de Vries\n"
						    "vertrouwelijk\nTelefoon: 06-12345678\n");
	assert_string_equal(text_of(g, "Object 1/content.xml"), "Omzet\nrij\t42\t\n");
	/* macros are a nested unit, sniffed again; settings and thumbnails
	 * are not handed at all */
	const char *mod = text_of(g, "Basic/Standard/Module1.xml");
	assert_non_null(mod);
	assert_non_null(strstr(mod, "jan.jansen@example.nl"));
	for (size_t i = 0; i < g->nparts; i++) {
		int nested = strcmp(g->parts[i].name, "Basic/Standard/Module1.xml") == 0;
		assert_int_equal(g->parts[i].is_text, !nested);
	}
	assert_null(text_of(g, "settings.xml"));
	assert_null(text_of(g, "Thumbnails/thumbnail.png"));
	assert_int_equal(g->nparts, 5);
	/* the one record: the picture */
	assert_int_equal(g->nrecs, 1);
	const rec *r = rec_of(g, "Pictures/x.png", "image");
	assert_non_null(r);
	assert_int_equal(r->st, SN_FILE_SKIPPED);
	assert_int_equal(g->len, 0); /* no tables */
}

static void test_odt(void **state)
{
	(void)state;
	size_t len;
	uint8_t *zip = make_odt(&len);
	got g;
	memset(&g, 0, sizeof g);
	assert_int_equal(run(zip, len, &g), 0);
	check_odt(&g);
	got_free(&g);
	free(zip);
}

/* A top-level file is read from its descriptor (seeking), not buffered. */
static void test_odt_from_fd(void **state)
{
	(void)state;
	size_t len;
	uint8_t *zip = make_odt(&len);
	char path[] = "/tmp/test_odf_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, zip, len), (ssize_t)len);
	/* the driver has read the head already: the offset is past it */
	assert_int_equal(lseek(fd, 4096, SEEK_SET), 4096);
	got g;
	memset(&g, 0, sizeof g);
	sn_limits lim = SN_LIMITS_INIT;
	lim.max_buffer = 16; /* buffering would fail: the file is seeked */
	assert_int_equal(run_full(zip, len, &TY_ODF, &g, &lim, NULL, fd), 0);
	check_odt(&g);
	got_free(&g);
	close(fd);
	free(zip);
}

/* ---------------------------------------------------------------------- */
/* Spreadsheets                                                            */

#define STR(s)                                                                               \
	"<table:table-cell office:value-type=\"string\"><text:p>" s "</text:p></table:table-cell>"
#define FLT(v, shown)                                                                        \
	"<table:table-cell office:value-type=\"float\" office:value=\"" v "\"><text:p>" shown  \
	"</text:p></table:table-cell>"
#define ROW(cells) "<table:table-row>" cells "</table:table-row>\n"

static const char ODS_CONTENT[] =
	CONTENT_OPEN "<office:body><office:spreadsheet><table:calculation-settings/>\n"
	"<table:table table:name=\"Klanten\">"
	"<table:table-column table:number-columns-repeated=\"3\"/>\n"
	ROW(STR("naam") STR("bsn"))
	ROW("<table:table-cell office:value-type=\"string\"><text:p>Jan <text:span>Jansen"
	    "</text:span></text:p></table:table-cell>" FLT("12345672", "12345672"))
	"<table:table-row table:number-rows-repeated=\"1048000\">"
	"<table:table-cell table:number-columns-repeated=\"1024\"/></table:table-row>\n"
	ROW(STR("Piet") FLT("1.23456782E8", "123456782"))
	"<table:table-row table:number-rows-repeated=\"3\">" STR("herhaald") "</table:table-row>\n"
	ROW("<table:table-cell table:number-columns-repeated=\"2\"/>"
	    "<table:table-cell office:value-type=\"string\"><office:annotation>"
	    "<dc:creator>Anne</dc:creator><dc:date>2024-01-01T00:00:00</dc:date>"
	    "<text:p>notitie 06-12345678</text:p></office:annotation><text:p>cel</text:p>"
	    "</table:table-cell>")
	ROW("<table:table-cell office:value-type=\"string\" "
	    "table:number-columns-repeated=\"1000000\"><text:p>x</text:p></table:table-cell>")
	ROW("<table:table-cell office:value-type=\"string\"><text:p>regel een</text:p>"
	    "<text:p>regel twee</text:p></table:table-cell>"
	    "<table:table-cell office:value-type=\"date\" office:date-value=\"2024-02-01\">"
	    "<text:p>01-02-2024</text:p></table:table-cell>"
	    "<table:table-cell office:value-type=\"percentage\" office:value=\"0.25\">"
	    "<text:p>25%</text:p></table:table-cell>"
	    "<table:covered-table-cell/>" STR("1234 AB"))
	"<table:table-row table:number-rows-repeated=\"1048560\">"
	"<table:table-cell table:number-columns-repeated=\"1024\"/></table:table-row>\n"
	"</table:table>\n"
	"<table:table table:name=\"Leeg\"><table:table-row table:number-rows-repeated=\"1048576\">"
	"<table:table-cell table:number-columns-repeated=\"16384\"/></table:table-row>"
	"</table:table>\n"
	"<table:table table:name=\"Getallen\">"
	ROW(FLT("1", "1")
	    "<table:table-cell office:value-type=\"currency\" office:currency=\"EUR\" "
	    "office:value=\"1234.5\"><text:p>€ 1.234,50</text:p></table:table-cell>")
	"</table:table>\n"
	"<table:table table:name=\"Alleen\">" ROW(STR("jan.jansen@example.nl")) "</table:table>\n"
	"<table:table table:name=\"Groepen\"><table:table-header-rows>" ROW(STR("telefoon"))
	"</table:table-header-rows><table:table-row-group>" ROW(STR("06-12345678"))
	"</table:table-row-group></table:table>\n"
	"</office:spreadsheet></office:body>" CONTENT_CLOSE;

static const char ODS_LOG[] =
	"T Klanten|naam,bsn\n"
	"R 2|Jan Jansen,12345672\n"
	"R 1048003|Piet,123456782\n"
	"R 1048004|herhaald\n"
	"R 1048007|-,-,cel\n"
	"R 1048008|#1024 x..x\n"
	"R 1048009|regel een\nregel twee,01-02-2024,0.25,-,1234 AB\n"
	"E\n"
	"T Getallen|-\n"
	"R 1|1,1234.5\n"
	"E\n"
	"T Alleen|-\n"
	"R 1|jan.jansen@example.nl\n"
	"E\n"
	"T Groepen|telefoon\n"
	"R 2|06-12345678\n"
	"E\n";

static void test_ods(void **state)
{
	(void)state;
	const zent e[] = {
		{ "mimetype", "application/vnd.oasis.opendocument.spreadsheet", 0, 1 },
		{ "content.xml", ODS_CONTENT, 0, 0 },
		{ "META-INF/manifest.xml", MANIFEST_PLAIN, 0, 0 },
	};
	size_t len;
	uint8_t *zip = make_zip(e, NELEM(e), &len);
	got g;
	memset(&g, 0, sizeof g);
	assert_int_equal(run(zip, len, &g), 0);
	/* repeats cost nothing: a million-fold cell is handed 1024 times at
	 * most, a million empty rows are a jump in the row number */
	assert_non_null(g.log);
	assert_string_equal(g.log, ODS_LOG);
	assert_int_equal(g.max_cells, 1024);
	/* the comment is text of the part, apart from the cells */
	assert_string_equal(text_of(&g, "content.xml"), "Anne\nnotitie 06-12345678\n");
	assert_int_equal(g.nparts, 1);
	assert_int_equal(g.nrecs, 0);
	got_free(&g);
	free(zip);
}

/* A title row above the header names no column; a one-column sheet's
 * single-cell first row is its header. */
static void test_ods_title_rows(void **state)
{
	(void)state;
#define S_CELL(t) "<table:table-cell office:value-type=\"string\"><text:p>" t \
		  "</text:p></table:table-cell>"
#define F_CELL(v) "<table:table-cell office:value-type=\"float\" office:value=\"" v "\">" \
		  "<text:p>" v "</text:p></table:table-cell>"
#define TROW(c) "<table:table-row>" c "</table:table-row>"
#define TEMPTY_ROW "<table:table-row><table:table-cell/></table:table-row>"
	static const struct {
		const char *rows, *log, *text;
	} cases[] = {
		{ TROW(S_CELL("Overzicht 2024")) TEMPTY_ROW TROW(S_CELL("naam") S_CELL("bsn"))
			  TROW(S_CELL("Jan") F_CELL("111222333")),
		  "T Blad|naam,bsn\nR 4|Jan,111222333\nE\n", "Overzicht 2024\n" },
		{ TROW(S_CELL("bsn")) TROW(F_CELL("111222333")),
		  "T Blad|bsn\nR 2|111222333\nE\n", NULL },
	};
	for (size_t i = 0; i < NELEM(cases); i++) {
		char c[4096];
		int n = snprintf(c, sizeof c,
				 CONTENT_OPEN "<office:body><office:spreadsheet>"
				 "<table:table table:name=\"Blad\">%s</table:table>"
				 "</office:spreadsheet></office:body>" CONTENT_CLOSE,
				 cases[i].rows);
		assert_true(n > 0 && (size_t)n < sizeof c);
		const zent e[] = {
			{ "mimetype", "application/vnd.oasis.opendocument.spreadsheet", 0, 1 },
			{ "content.xml", c, (size_t)n, 0 },
		};
		size_t len;
		uint8_t *zip = make_zip(e, NELEM(e), &len);
		got g;
		memset(&g, 0, sizeof g);
		assert_int_equal(run(zip, len, &g), 0);
		assert_non_null(g.log);
		assert_string_equal(g.log, cases[i].log);
		if (cases[i].text)
			assert_string_equal(text_of(&g, "content.xml"), cases[i].text);
		got_free(&g);
		free(zip);
	}
#undef S_CELL
#undef F_CELL
#undef TROW
#undef TEMPTY_ROW
}

/* office:value as the text a number cell is handed as */
static void test_ods_numbers(void **state)
{
	(void)state;
	static const struct {
		const char *value, *want;
	} v[] = {
		{ "12345672", "12345672" },     /* a BSN that lost its leading zero */
		{ "1.23456782E8", "123456782" },
		{ "123456782.0", "123456782" },
		{ "1.2345672E7", "12345672" },
		{ "612345678", "612345678" },
		{ "31201234567", "31201234567" },
		{ "100", "100" },
		{ "1E+3", "1000" },
		{ "1.5e1", "15" },
		{ "-5E0", "-5" },
		{ "0", "0" },
		{ "0.0", "0" },
		{ "0.25", "0.25" },             /* fractions as written */
		{ "-0.5", "-0.5" },
		{ "1E400", "1E400" },           /* too long to be an identifier */
		{ "abc", "abc" },
		{ "1.2.3", "1.2.3" },
	};
	char content[8192], want[4096];
	size_t n = 0, w = 0;
	n += (size_t)snprintf(content + n, sizeof content - n,
			      CONTENT_OPEN "<office:body><office:spreadsheet>"
					   "<table:table table:name=\"N\">");
	w += (size_t)snprintf(want + w, sizeof want - w, "T N|-\n");
	for (size_t i = 0; i < NELEM(v); i++) {
		n += (size_t)snprintf(content + n, sizeof content - n,
				      ROW(STR("%zu") "<table:table-cell office:value-type=\"float\" "
						     "office:value=\"%s\"><text:p>?</text:p>"
						     "</table:table-cell>"),
				      i, v[i].value);
		w += (size_t)snprintf(want + w, sizeof want - w, "R %zu|%zu,%s\n", i + 1, i,
				      v[i].want);
	}
	n += (size_t)snprintf(content + n, sizeof content - n,
			      "</table:table></office:spreadsheet></office:body>" CONTENT_CLOSE);
	snprintf(want + w, sizeof want - w, "E\n");
	assert_true(n < sizeof content - 1);
	/* the first row is no header: it holds a number */
	const zent e[] = {
		{ "mimetype", "application/vnd.oasis.opendocument.spreadsheet", 0, 1 },
		{ "content.xml", content, 0, 0 },
	};
	size_t len;
	uint8_t *zip = make_zip(e, NELEM(e), &len);
	got g;
	memset(&g, 0, sizeof g);
	assert_int_equal(run(zip, len, &g), 0);
	assert_non_null(g.log);
	assert_string_equal(g.log, want);
	got_free(&g);
	free(zip);
}

/* Comments over SN_ODF_SIDE_FLUSH (1 MiB) inside one sheet: the sheet is
 * ended around the text part and begun again with the same header; rows
 * over 4 MiB and cells past column 16384 are cut and on record. */
static void test_ods_limits(void **state)
{
	(void)state;
	size_t cap = 12u << 20, n = 0;
	char *c = malloc(cap);
	char note[1100];
	assert_non_null(c);
	memset(note, 'n', sizeof note - 1);
	note[sizeof note - 1] = '\0';
	n += (size_t)snprintf(c + n, cap - n, CONTENT_OPEN "<office:body><office:spreadsheet>"
					     "<table:table table:name=\"Notities\">" ROW(STR("bsn")));
	for (int i = 0; i < 1200; i++)
		n += (size_t)snprintf(c + n, cap - n,
				      ROW("<table:table-cell office:value-type=\"string\">"
					  "<office:annotation><text:p>%s</text:p></office:annotation>"
					  "<text:p>%d</text:p></table:table-cell>"),
				      note, 100000000 + i);
	n += (size_t)snprintf(c + n, cap - n, "</table:table><table:table table:name=\"Lang\">"
					      "<table:table-row>" FLT("1", "1") "<table:table-cell "
					      "office:value-type=\"string\"><text:p>");
	memset(c + n, 'x', 5u << 20);
	n += 5u << 20;
	n += (size_t)snprintf(c + n, cap - n,
			      "</text:p></table:table-cell>" STR("na") "</table:table-row>"
			      ROW(STR("kort")) "</table:table><table:table table:name=\"Breed\">"
			      ROW(STR("a") "<table:table-cell table:number-columns-repeated=\"20000\"/>"
				  STR("ver weg"))
			      "</table:table></office:spreadsheet></office:body>" CONTENT_CLOSE);
	assert_true(n < cap);
	const zent e[] = {
		{ "mimetype", "application/vnd.oasis.opendocument.spreadsheet", 0, 1 },
		{ "content.xml", c, n, 0 },
	};
	size_t len;
	uint8_t *zip = make_zip(e, NELEM(e), &len);
	got g;
	memset(&g, 0, sizeof g);
	assert_int_equal(run(zip, len, &g), 0);
	assert_non_null(g.log);
	/* the first flush comes after 1 MiB of comments: row 955 or so */
	const char *second = strstr(g.log + 1, "T Notities|bsn\n");
	assert_true(strncmp(g.log, "T Notities|bsn\nR 2|100000000\n", 29) == 0);
	assert_non_null(second);
	assert_non_null(strstr(g.log, "R 1201|100001199\nE\n"));
	int texts = 0;
	size_t side = 0;
	for (size_t i = 0; i < g.nparts; i++) {
		if (strcmp(g.parts[i].name, "content.xml") == 0) {
			texts++;
			side += g.parts[i].len;
		}
	}
	assert_int_equal(texts, 2);
	assert_int_equal(side, 1200 * (sizeof note - 1 + 1));
	/* the long row is cut at 4 MiB, the cell past column 16384 left out */
	assert_non_null(strstr(g.log, "T Lang|-\nR 1|1,xxxxxxxx~4194303\n"));
	assert_non_null(strstr(g.log, "R 2|kort\n"));
	assert_non_null(strstr(g.log, "T Breed|-\nR 1|a\nE\n"));
	const rec *r1 = rec_of(&g, "Lang", "row-too-long");
	const rec *r2 = rec_of(&g, "Breed", "row-too-long");
	assert_non_null(r1);
	assert_non_null(r2);
	assert_int_equal(r1->st, SN_FILE_INCOMPLETE);
	assert_int_equal(g.nrecs, 2);
	got_free(&g);
	free(zip);
	free(c);
}

/* ---------------------------------------------------------------------- */
/* Presentations                                                           */

static void test_odp(void **state)
{
	(void)state;
	static const char content[] =
		CONTENT_OPEN "<office:body><office:presentation>"
		"<draw:page draw:name=\"page1\"><draw:frame presentation:class=\"title\">"
		"<draw:text-box><text:p>Contact</text:p></draw:text-box></draw:frame>"
		"<draw:frame><draw:text-box><text:p>Bel +31 20 123 4567</text:p><text:list>"
		"<text:list-item><text:p>Item</text:p></text:list-item></text:list>"
		"</draw:text-box></draw:frame><draw:custom-shape>"
		"<svg:title>Alt jan.jansen@example.nl</svg:title><text:p>vorm</text:p>"
		"</draw:custom-shape><presentation:notes><draw:page-thumbnail/><draw:frame>"
		"<draw:text-box><text:p>notitie 1234 AB</text:p></draw:text-box></draw:frame>"
		"</presentation:notes></draw:page>"
		"<draw:page draw:name=\"page2\"><draw:frame><draw:text-box><text:p>Tweede</text:p>"
		"</draw:text-box></draw:frame><draw:frame><draw:image xlink:href=\"Pictures/y.jpg\""
		" xmlns:xlink=\"http://www.w3.org/1999/xlink\"/></draw:frame></draw:page>"
		"<presentation:settings/></office:presentation></office:body>" CONTENT_CLOSE;
	const zent e[] = {
		{ "mimetype", "application/vnd.oasis.opendocument.presentation", 0, 1 },
		{ "content.xml", content, 0, 0 },
		{ "Pictures/y.jpg", "\xff\xd8\xff\xe0", 4, 1 },
	};
	size_t len;
	uint8_t *zip = make_zip(e, NELEM(e), &len);
	got g;
	memset(&g, 0, sizeof g);
	assert_int_equal(run(zip, len, &g), 0);
	assert_string_equal(text_of(&g, "content.xml"),
			    "Contact\nBel +31 20 123 4567\nItem\nAlt jan.jansen@example.nl\nvorm\n"
			    "notitie 1234 AB\nTweede\n");
	assert_int_equal(g.nrecs, 1);
	assert_non_null(rec_of(&g, "Pictures/y.jpg", "image"));
	got_free(&g);
	free(zip);
}

/* ---------------------------------------------------------------------- */
/* Encryption and damage                                                   */

static const char MANIFEST_ENC[] =
	XMLDECL "<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:"
	"manifest:1.0\" manifest:version=\"1.3\">"
	"<manifest:file-entry manifest:full-path=\"/\" "
	"manifest:media-type=\"application/vnd.oasis.opendocument.text\"/>"
	"<manifest:file-entry manifest:full-path=\"%s\" manifest:media-type=\"text/xml\" "
	"manifest:size=\"1234\"><manifest:encryption-data manifest:checksum-type=\"SHA1/1K\" "
	"manifest:checksum=\"AAAA\"><manifest:algorithm manifest:algorithm-name="
	"\"http://www.w3.org/2001/04/xmlenc#aes256-cbc\" manifest:initialisation-vector=\"AAAA\"/>"
	"<manifest:key-derivation manifest:key-derivation-name=\"PBKDF2\" manifest:key-size=\"32\""
	" manifest:iteration-count=\"100000\" manifest:salt=\"AAAA\"/></manifest:encryption-data>"
	"</manifest:file-entry></manifest:manifest>";

static void noise(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static void test_encrypted(void **state)
{
	(void)state;
	uint8_t blob[2048];
	char manifest[2048];
	noise(blob, sizeof blob, 7);
	snprintf(manifest, sizeof manifest, MANIFEST_ENC, "content.xml");
	const zent e[] = {
		{ "mimetype", "application/vnd.oasis.opendocument.text", 0, 1 },
		{ "content.xml", blob, sizeof blob, 1 },
		{ "styles.xml", blob, sizeof blob, 1 },
		{ "META-INF/manifest.xml", manifest, 0, 0 },
	};
	size_t len;
	uint8_t *zip = make_zip(e, NELEM(e), &len);
	got g;
	memset(&g, 0, sizeof g);
	assert_int_equal(run(zip, len, &g), 0);
	assert_int_equal(g.nparts, 0);
	assert_int_equal(g.nrecs, 1);
	assert_string_equal(g.recs[0].name, "");
	assert_string_equal(g.recs[0].reason, "encrypted");
	assert_int_equal(g.recs[0].st, SN_FILE_INCOMPLETE);
	got_free(&g);
	free(zip);
}

/* A style template (LibreOffice's Default.ott) has styles.xml and no
 * content.xml: it is read, not damaged; a package with neither is. */
static void test_styles_only(void **state)
{
	(void)state;
	static const char styles[] = XMLDECL "<office:document-styles" NS ">"
		"<office:master-styles><style:master-page style:name=\"S\"><style:footer>"
		"<text:p>Burgerzaken 06-12345678</text:p></style:footer></style:master-page>"
		"</office:master-styles></office:document-styles>";
	const zent e[] = {
		{ "mimetype", "application/vnd.oasis.opendocument.text-template", 0, 1 },
		{ "styles.xml", styles, 0, 0 },
	};
	size_t len;
	uint8_t *zip = make_zip(e, NELEM(e), &len);
	got g;
	memset(&g, 0, sizeof g);
	assert_int_equal(run(zip, len, &g), 0);
	assert_int_equal(g.nrecs, 0);
	assert_int_equal(g.nparts, 1);
	assert_string_equal(g.parts[0].name, "styles.xml");
	assert_non_null(strstr(g.parts[0].text, "06-12345678"));
	got_free(&g);
	free(zip);

	const zent none[] = {
		{ "mimetype", "application/vnd.oasis.opendocument.text", 0, 1 },
		{ "meta.xml", XMLDECL "<office:document-meta" NS "/>", 0, 0 },
	};
	zip = make_zip(none, NELEM(none), &len);
	memset(&g, 0, sizeof g);
	assert_int_equal(run(zip, len, &g), 0);
	assert_int_equal(g.nrecs, 1);
	assert_string_equal(g.recs[0].reason, "corrupt");
	got_free(&g);
	free(zip);
}

/* An encrypted embedded object: that part is on record, the rest is read. */
static void test_encrypted_part(void **state)
{
	(void)state;
	uint8_t blob[512];
	char manifest[2048];
	noise(blob, sizeof blob, 9);
	snprintf(manifest, sizeof manifest, MANIFEST_ENC, "Object 1/content.xml");
	const zent e[] = {
		{ "mimetype", "application/vnd.oasis.opendocument.text", 0, 1 },
		{ "content.xml", ODT_CONTENT, 0, 0 },
		{ "Object 1/content.xml", blob, sizeof blob, 1 },
		{ "META-INF/manifest.xml", manifest, 0, 0 },
	};
	size_t len;
	uint8_t *zip = make_zip(e, NELEM(e), &len);
	got g;
	memset(&g, 0, sizeof g);
	assert_int_equal(run(zip, len, &g), 0);
	assert_string_equal(text_of(&g, "content.xml"), ODT_CONTENT_TEXT);
	assert_int_equal(g.nparts, 1);
	assert_int_equal(g.nrecs, 1);
	assert_non_null(rec_of(&g, "Object 1/content.xml", "encrypted"));
	got_free(&g);
	free(zip);
}

static void test_truncated(void **state)
{
	(void)state;
	/* a large, incompressible styles.xml after content.xml: the cut falls
	 * inside it, and the central directory is gone */
	size_t big = 256 * 1024;
	char *styles = malloc(big + 2048);
	assert_non_null(styles);
	size_t n = (size_t)snprintf(styles, 2048, XMLDECL "<office:document-styles" NS "><!--");
	uint8_t *r = (uint8_t *)styles + n;
	noise(r, big, 3);
	for (size_t i = 0; i < big; i++)
		r[i] = (uint8_t)('a' + r[i] % 26);
	memcpy(styles + n + big, "--></office:document-styles>", 29);
	const zent e[] = {
		{ "mimetype", "application/vnd.oasis.opendocument.text", 0, 1 },
		{ "content.xml", ODT_CONTENT, 0, 0 },
		{ "styles.xml", styles, 0, 1 },
		{ "meta.xml", ODT_META, 0, 0 },
	};
	size_t len;
	uint8_t *zip = make_zip(e, NELEM(e), &len);
	got g;
	memset(&g, 0, sizeof g);
	assert_int_equal(run(zip, len / 2, &g), 0);
	/* what came before the damage is read; the damage is on record: the
	 * part cut short, and the package */
	assert_string_equal(text_of(&g, "content.xml"), ODT_CONTENT_TEXT);
	assert_null(text_of(&g, "meta.xml"));
	assert_int_equal(g.nrecs, 2);
	assert_non_null(rec_of(&g, "styles.xml", "corrupt"));
	assert_non_null(rec_of(&g, "", "corrupt"));
	for (size_t i = 0; i < g.nrecs; i++)
		assert_int_equal(g.recs[i].st, SN_FILE_INCOMPLETE);
	got_free(&g);

	/* nothing of a zip left but its first bytes */
	memset(&g, 0, sizeof g);
	assert_int_equal(run(zip, 40, &g), 0);
	assert_int_equal(g.nparts, 0);
	assert_int_equal(g.nrecs, 1);
	assert_non_null(rec_of(&g, "", "corrupt"));
	got_free(&g);

	/* a package without content.xml is not a document read whole */
	const zent none[] = {
		{ "mimetype", "application/vnd.oasis.opendocument.text", 0, 1 },
		{ "meta.xml", ODT_META, 0, 0 },
	};
	uint8_t *zip2 = make_zip(none, NELEM(none), &len);
	memset(&g, 0, sizeof g);
	assert_int_equal(run(zip2, len, &g), 0);
	assert_non_null(text_of(&g, "meta.xml"));
	assert_int_equal(g.nrecs, 1);
	assert_non_null(rec_of(&g, "", "corrupt"));
	got_free(&g);
	free(zip2);
	free(zip);
	free(styles);
}

static void test_bad_xml(void **state)
{
	(void)state;
	static const char content[] =
		CONTENT_OPEN "<office:body><office:text><text:p>BSN 111222333</text:p>"
		"<text:p>kapot</text:q></office:text></office:body>" CONTENT_CLOSE;
	static const char sheet[] =
		CONTENT_OPEN "<office:body><office:spreadsheet><table:table table:name=\"A\">"
		ROW(STR("bsn")) ROW(STR("111222333")) "<table:table-row><table:table-cell>"
		"</office:body>" CONTENT_CLOSE;
	const zent e[] = {
		{ "mimetype", "application/vnd.oasis.opendocument.text", 0, 1 },
		{ "content.xml", content, 0, 0 },
		{ "Object 1/content.xml", sheet, 0, 0 },
		{ "meta.xml", ODT_META, 0, 0 },
	};
	size_t len;
	uint8_t *zip = make_zip(e, NELEM(e), &len);
	got g;
	memset(&g, 0, sizeof g);
	assert_int_equal(run(zip, len, &g), 0);
	assert_string_equal(text_of(&g, "content.xml"), "BSN 111222333\nkapot");
	const rec *r = rec_of(&g, "content.xml", "corrupt");
	assert_non_null(r);
	assert_int_equal(r->st, SN_FILE_INCOMPLETE);
	/* a sheet damaged mid-table keeps its rows and is closed */
	assert_non_null(g.log);
	assert_string_equal(g.log, "T Object 1/A|bsn\nR 2|111222333\nE\n");
	assert_non_null(rec_of(&g, "Object 1/content.xml", "corrupt"));
	/* the parts after the damaged ones are read */
	assert_non_null(text_of(&g, "meta.xml"));
	assert_int_equal(g.nrecs, 2);
	got_free(&g);
	free(zip);
}

/* ---------------------------------------------------------------------- */
/* Hostile XML                                                             */

static void test_xxe(void **state)
{
	(void)state;
	char secret[] = "/tmp/test_odf_secret_XXXXXX";
	int fd = mkstemp(secret);
	assert_true(fd >= 0);
	static const char marker[] = "GEHEIM 999999990";
	assert_int_equal(write(fd, marker, sizeof marker - 1), (ssize_t)(sizeof marker - 1));
	close(fd);
	/* external entities, general and parameter, and an XInclude */
	char dtd[4096], inc[4096];
	snprintf(dtd, sizeof dtd,
		 XMLDECL "<!DOCTYPE office:document-content [\n"
			 "<!ENTITY xxe SYSTEM \"file://%s\">\n"
			 "<!ENTITY %% pe SYSTEM \"file://%s\">\n"
			 "%%pe;\n]>\n"
			 "<office:document-content" NS "><office:body><office:text>"
			 "<text:p>voor &xxe; na</text:p>"
			 "</office:text></office:body>" CONTENT_CLOSE,
		 secret, secret);
	snprintf(inc, sizeof inc,
		 CONTENT_OPEN "<office:body><office:text>"
			      "<text:p>inc<xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" "
			      "href=\"file://%s\" parse=\"text\"/>lusief</text:p>"
			      "</office:text></office:body>" CONTENT_CLOSE,
		 secret);
	const zent e[] = {
		{ "mimetype", "application/vnd.oasis.opendocument.text", 0, 1 },
		{ "content.xml", dtd, 0, 0 },
		{ "Object 1/content.xml", inc, 0, 0 },
	};
	size_t len;
	uint8_t *zip = make_zip(e, NELEM(e), &len);
	got g;
	memset(&g, 0, sizeof g);
	assert_int_equal(run(zip, len, &g), 0);
	/* a DOCTYPE ends the part before its declarations are read */
	assert_null(text_of(&g, "content.xml"));
	const rec *r = rec_of(&g, "content.xml", "corrupt");
	assert_non_null(r);
	assert_int_equal(r->st, SN_FILE_INCOMPLETE);
	assert_string_equal(text_of(&g, "Object 1/content.xml"), "inclusief\n");
	for (size_t i = 0; i < g.nparts; i++)
		assert_null(strstr(g.parts[i].text, "GEHEIM"));
	assert_int_equal(g.nrecs, 1);
	got_free(&g);
	free(zip);
	unlink(secret);
}

static void test_billion_laughs(void **state)
{
	(void)state;
	static const char content[] =
		XMLDECL "<!DOCTYPE office:document-content [\n"
		"<!ENTITY lol \"lol\">\n"
		"<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
		"<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
		"<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
		"<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
		"<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
		"<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
		"<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
		"<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
		"<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
		"]>\n"
		"<office:document-content" NS "><office:body><office:text>"
		"<text:p>begin</text:p><text:p>&lol9;</text:p><text:p>eind</text:p>"
		"</office:text></office:body>" CONTENT_CLOSE;
	/* without a DTD an entity reference is not well-formed, and the text
	 * before it is kept */
	static const char undeclared[] =
		CONTENT_OPEN "<office:body><office:text><text:p>begin</text:p>"
		"<text:p>&lol9;</text:p><text:p>eind</text:p></office:text></office:body>"
		CONTENT_CLOSE;
	const zent e[] = {
		{ "mimetype", "application/vnd.oasis.opendocument.text", 0, 1 },
		{ "content.xml", content, 0, 0 },
		{ "Object 1/content.xml", undeclared, 0, 0 },
	};
	size_t len;
	uint8_t *zip = make_zip(e, NELEM(e), &len);
	got g;
	memset(&g, 0, sizeof g);
	assert_int_equal(run(zip, len, &g), 0);
	assert_null(text_of(&g, "content.xml"));
	assert_non_null(rec_of(&g, "content.xml", "corrupt"));
	assert_string_equal(text_of(&g, "Object 1/content.xml"), "begin\n");
	assert_non_null(rec_of(&g, "Object 1/content.xml", "corrupt"));
	assert_int_equal(g.nrecs, 2);
	got_free(&g);
	free(zip);
}

/* A content.xml that inflates far beyond the package: the ratio limit. */
static void test_bomb(void **state)
{
	(void)state;
	size_t body = 8u << 20;
	size_t cap = body + 1024;
	char *content = malloc(cap);
	assert_non_null(content);
	size_t n = (size_t)snprintf(content, cap, CONTENT_OPEN "<office:body><office:text>"
							       "<text:p>BSN 111222333</text:p>");
	for (size_t i = 0; i + 9 <= body; i += 9)
		memcpy(content + n + i, "<text:p/>", 9);
	n += body / 9 * 9;
	n += (size_t)snprintf(content + n, cap - n,
			      "</office:text></office:body>" CONTENT_CLOSE);
	const zent e[] = {
		{ "mimetype", "application/vnd.oasis.opendocument.text", 0, 1 },
		{ "content.xml", content, n, 0 },
		{ "meta.xml", ODT_META, 0, 0 },
	};
	size_t len;
	uint8_t *zip = make_zip(e, NELEM(e), &len);
	sn_limits lim = SN_LIMITS_INIT;
	lim.ratio_min_bytes = 1u << 20;
	lim.max_ratio = 20;
	got g;
	memset(&g, 0, sizeof g);
	assert_int_equal(run_full(zip, len, &TY_ODF, &g, &lim, NULL, -1), 0);
	const rec *r = NULL;
	for (size_t i = 0; i < g.nrecs; i++)
		if (strcmp(g.recs[i].reason, "ratio") == 0)
			r = &g.recs[i];
	assert_non_null(r);
	assert_int_equal(r->st, SN_FILE_INCOMPLETE);
	/* the unit ends there */
	assert_null(text_of(&g, "meta.xml"));
	got_free(&g);
	free(zip);
	free(content);
}

static void test_stop(void **state)
{
	(void)state;
	size_t len;
	uint8_t *zip = make_odt(&len);
	volatile sig_atomic_t stop = 1;
	got g;
	memset(&g, 0, sizeof g);
	assert_int_equal(run_full(zip, len, &TY_ODF, &g, NULL, &stop, -1), SN_ESTOP);
	assert_int_equal(g.nparts, 0);
	got_free(&g);
	free(zip);
}

/* ---------------------------------------------------------------------- */
/* Flat XML                                                                */

static void test_flat(void **state)
{
	(void)state;
	static const char fodt[] =
		XMLDECL "<office:document" NS " office:version=\"1.3\" "
		"office:mimetype=\"application/vnd.oasis.opendocument.text\">"
		"<office:meta><dc:creator>Jan Jansen</dc:creator><meta:generator>x</meta:generator>"
		"</office:meta><office:settings><config:config-item-set config:name=\"v\">"
		"<config:config-item config:name=\"x\" config:type=\"string\">view</config:config-item>"
		"</config:config-item-set></office:settings><office:styles/>"
		"<office:master-styles><style:master-page style:name=\"Standard\"><style:footer>"
		"<text:p>Voet 1234 AB</text:p></style:footer></style:master-page>"
		"</office:master-styles><office:body><office:text><text:p>BSN <text:span>1112"
		"</text:span>22333</text:p><text:p><draw:frame><draw:image><office:binary-data>"
		"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJ"
		"</office:binary-data></draw:image></draw:frame></text:p></office:text></office:body>"
		"</office:document>";
	got g;
	memset(&g, 0, sizeof g);
	assert_int_equal(run_full((const uint8_t *)fodt, sizeof fodt - 1, &TY_TEXT, &g, NULL,
				  NULL, -1),
			 0);
	assert_string_equal(text_of(&g, "content.xml"), "Jan Jansen\nVoet 1234 AB\nBSN 111222333\n");
	assert_int_equal(g.nrecs, 1);
	assert_int_equal(g.recs[0].st, SN_FILE_SKIPPED);
	assert_string_equal(g.recs[0].reason, "image");
	got_free(&g);

	static const char fods[] =
		XMLDECL "<office:document" NS " office:version=\"1.3\" "
		"office:mimetype=\"application/vnd.oasis.opendocument.spreadsheet\">"
		"<office:meta><dc:creator>Anna</dc:creator></office:meta>"
		"<office:body><office:spreadsheet><table:table table:name=\"Blad1\">"
		ROW(STR("naam") STR("iban"))
		ROW(STR("Jan") STR("NL91ABNA0417164300"))
		"</table:table></office:spreadsheet></office:body></office:document>";
	memset(&g, 0, sizeof g);
	assert_int_equal(run_full((const uint8_t *)fods, sizeof fods - 1, &TY_TEXT, &g, NULL,
				  NULL, -1),
			 0);
	assert_string_equal(text_of(&g, "content.xml"), "Anna\n");
	assert_non_null(g.log);
	assert_string_equal(g.log, "T Blad1|naam,iban\nR 2|Jan,NL91ABNA0417164300\nE\n");
	assert_int_equal(g.nrecs, 0);
	got_free(&g);
}

/* A flat spreadsheet whose text part (its properties) ends where the sheet
 * starts, wherever that start tag falls between the blocks read. */
static void test_flat_split(void **state)
{
	(void)state;
	static const char pre[] =
		XMLDECL "<office:document" NS " office:version=\"1.3\" "
		"office:mimetype=\"application/vnd.oasis.opendocument.spreadsheet\">"
		"<office:meta><dc:creator>Anna</dc:creator><dc:description>";
	static const char post[] =
		"</dc:description></office:meta>"
		"<office:body><office:spreadsheet><table:table table:name=\"Blad1\">"
		ROW(STR("bsn")) ROW(STR("111222333"))
		"</table:table></office:spreadsheet></office:body></office:document>";
	/* where "spreadsheet" begins, before the end of the first block
	 * (the head: 4096 bytes) */
	static const long before[] = { -14, -3, 0, 1, 3, 6, 10, 11, 12, 15, 20, 40 };
	const char *word = strstr(post, "spreadsheet");
	size_t off = strlen(pre) + (size_t)(word - post);
	for (size_t i = 0; i < NELEM(before); i++) {
		size_t pad = (size_t)(4096 - before[i] - (long)off);
		size_t n = strlen(pre) + pad + strlen(post);
		char *doc = malloc(n + 1);
		assert_non_null(doc);
		memcpy(doc, pre, strlen(pre));
		memset(doc + strlen(pre), 'x', pad);
		memcpy(doc + strlen(pre) + pad, post, strlen(post) + 1);
		assert_int_equal(strstr(doc + strlen(pre) + pad, "spreadsheet") - doc,
				 4096 - before[i]);
		got g;
		memset(&g, 0, sizeof g);
		assert_int_equal(run_full((const uint8_t *)doc, n, &TY_TEXT, &g, NULL, NULL, -1), 0);
		assert_non_null(g.log);
		assert_string_equal(g.log, "T Blad1|bsn\nR 2|111222333\nE\n");
		const char *t = text_of(&g, "content.xml");
		assert_non_null(t);
		assert_int_equal(strlen(t), 5 + pad + 1);
		assert_int_equal(g.nrecs, 0);
		got_free(&g);
		free(doc);
	}
}

static void test_accepts(void **state)
{
	(void)state;
	static const sn_type zip = { SN_KIND_SKIP, "archive", "ZIP archive" };
	static const sn_type ooxml = { SN_KIND_SKIP, "document", "Office Open XML document" };
	static const char flat[] = XMLDECL "<office:document xmlns:office="
					   "\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\">";
	static const char flat_part[] = "<office:document-content xmlns:office="
					"\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\">";
	static const char other_ns[] = "<office:document xmlns:office=\"urn:example\">";
	static const char prefix[] = "<office:documentation xmlns:office="
				     "\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\">";
	static const char plain[] = "BSN 111222333\n";
	static const struct {
		const sn_type *ty;
		const char *head;
		int want;
	} v[] = {
		{ &TY_ODF, "PK\3\4", 1 },   { &zip, "PK\3\4", 0 },     { &ooxml, "PK\3\4", 0 },
		{ &TY_TEXT, flat, 1 },      { &TY_TEXT, flat_part, 1 }, { &TY_TEXT, other_ns, 0 },
		{ &TY_TEXT, prefix, 0 },    { &TY_TEXT, plain, 0 },
	};
	for (size_t i = 0; i < NELEM(v); i++) {
		size_t n = strlen(v[i].head);
		const sn_decoder *d = sn_decoder_find(v[i].ty, (const uint8_t *)v[i].head, n);
		if (v[i].want)
			assert_ptr_equal(d, &sn_decoder_odf);
		else
			assert_ptr_not_equal(d, &sn_decoder_odf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_odt),
		cmocka_unit_test(test_odt_from_fd),
		cmocka_unit_test(test_ods),
		cmocka_unit_test(test_ods_numbers),
		cmocka_unit_test(test_ods_title_rows),
		cmocka_unit_test(test_ods_limits),
		cmocka_unit_test(test_odp),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_encrypted_part),
		cmocka_unit_test(test_styles_only),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_xml),
		cmocka_unit_test(test_xxe),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_bomb),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_flat),
		cmocka_unit_test(test_flat_split),
		cmocka_unit_test(test_accepts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
