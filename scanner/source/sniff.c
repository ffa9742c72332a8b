/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Content type sniffing for one unit (see source.h).
 *
 * Order of the checks, cheapest and most certain first:
 *  1. a table of magic-byte signatures (with a verifier for the short or
 *     text-like ones), giving a reason and a fixed description;
 *  2. UTF-16 (BOM or NUL pattern) is text;
 *  3. content with few control characters and at most a stray NUL is text;
 *  4. only what is left goes to libmagic, loaded lazily per sniffer.
 * Text never reaches libmagic: on a tree of small text files its cost would
 * exceed that of scanning them.
 *
 * A false signature match skips a file that holds text, so every signature
 * that plain text could start with ("BM", "MZ", "OTTO", "070701" (a The Hague
 * phone number!), "BZh", "ID3") is confirmed by binary structure behind it.
 *
 * libmagic descriptions can quote document metadata (a Word file's author,
 * for instance), so only their first clause, up to the first comma, is kept
 * as the detail, and non-printable bytes are replaced.
 */
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "source/source.h"
#include "speurneus/error.h"
#include "text/text.h"

struct sn_sniffer {
	magic_t magic;
	int magic_state; /* 0 not tried, 1 loaded, -1 failed to load */
	uint64_t magic_calls;
};

/* A verifier may replace the reason and detail of its table entry. */
typedef int (*sig_check_fn)(const uint8_t *b, size_t n, const char **reason,
			    const char **detail);

typedef struct sig {
	size_t off;
	size_t len;
	const char *bytes;
	sig_check_fn check; /* NULL: the bytes alone are enough */
	const char *reason;
	const char *detail;
} sig;

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int all_in(const uint8_t *p, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (!p[i] || !strchr(set, p[i]))
			return 0;
	return 1;
}

static int check_bmp(const uint8_t *b, size_t n, const char **r, const char **d)
{
	static const uint32_t dib[] = { 12, 40, 52, 56, 64, 108, 124 };
	(void)r;
	(void)d;
	if (n < 18 || le32(b + 6) != 0)
		return 0;
	for (size_t i = 0; i < sizeof dib / sizeof dib[0]; i++)
		if (le32(b + 14) == dib[i])
			return 1;
	return 0;
}

static int check_ico(const uint8_t *b, size_t n, const char **r, const char **d)
{
	uint16_t count;
	(void)r;
	(void)d;
	if (n < 22)
		return 0;
	count = le16(b + 4);
	return count >= 1 && b[9] == 0 && le32(b + 18) >= 6u + 16u * count;
}

static int check_riff(const uint8_t *b, size_t n, const char **r, const char **d)
{
	if (n < 12)
		return 0;
	if (memcmp(b + 8, "WEBP", 4) == 0) {
		*r = "image";
		*d = "WebP image";
	} else if (memcmp(b + 8, "WAVE", 4) == 0) {
		*d = "WAVE audio";
	} else if (memcmp(b + 8, "AVI ", 4) == 0) {
		*d = "AVI video";
	} else {
		return 0;
	}
	return 1;
}

static int check_ftyp(const uint8_t *b, size_t n, const char **r, const char **d)
{
	static const char *const still[] = {
		"heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1", "avif", "avis",
	};
	if (n < 12)
		return 0;
	for (size_t i = 8; i < 12; i++)
		if (b[i] < 0x20 || b[i] > 0x7E)
			return 0;
	for (size_t i = 0; i < sizeof still / sizeof still[0]; i++) {
		if (memcmp(b + 8, still[i], 4) == 0) {
			*r = "image";
			*d = "HEIF/AVIF image";
			return 1;
		}
	}
	if (memcmp(b + 8, "crx ", 4) == 0) {
		*r = "image";
		*d = "Canon raw image";
	}
	return 1;
}

static int check_id3(const uint8_t *b, size_t n, const char **r, const char **d)
{
	(void)r;
	(void)d;
	if (n < 10 || b[3] < 2 || b[3] > 4 || b[4] == 0xFF)
		return 0;
	return (b[6] | b[7] | b[8] | b[9]) < 0x80; /* syncsafe size */
}

/* A compound file's directory names its streams in UTF-16LE; when the
 * directory lies in the first block it says what the file is. */
static int has_u16(const uint8_t *b, size_t n, const char *ascii)
{
	uint8_t w[64];
	size_t l = strlen(ascii);
	if (l * 2 > sizeof w)
		return 0;
	for (size_t i = 0; i < l; i++) {
		w[2 * i] = (uint8_t)ascii[i];
		w[2 * i + 1] = 0;
	}
	return memmem(b, n, w, 2 * l) != NULL;
}

static int check_ole2(const uint8_t *b, size_t n, const char **r, const char **d)
{
	if (has_u16(b, n, "EncryptedPackage")) {
		*r = "encrypted";
		*d = "password-protected Office document";
	} else if (has_u16(b, n, "__substg1.0_")) {
		*d = "Outlook message (.msg)";
	} else if (has_u16(b, n, "WordDocument")) {
		*d = "Word 97-2003 document (.doc)";
	} else if (has_u16(b, n, "Workbook") || has_u16(b, n, "Book")) {
		*d = "Excel 97-2003 workbook (.xls)";
	} else if (has_u16(b, n, "PowerPoint Document")) {
		*d = "PowerPoint 97-2003 presentation (.ppt)";
	}
	return 1;
}

static int check_flac(const uint8_t *b, size_t n, const char **r, const char **d)
{
	(void)r;
	(void)d;
	return n >= 5 && (b[4] & 0x7F) == 0; /* STREAMINFO comes first */
}

static int check_zip(const uint8_t *b, size_t n, const char **r, const char **d)
{
	static const char odf[] = "application/vnd.oasis.opendocument";
	static const char epub[] = "application/epub+zip";
	static const char ooxml[] = "[Content_Types].xml";

	if (n >= 30) {
		size_t nl = le16(b + 26), data = 30 + nl + le16(b + 28);
		if (nl == 8 && n >= 38 && memcmp(b + 30, "mimetype", 8) == 0) {
			if (data + sizeof odf - 1 <= n &&
			    memcmp(b + data, odf, sizeof odf - 1) == 0) {
				*r = "document";
				*d = "OpenDocument file";
				return 1;
			}
			if (data + sizeof epub - 1 <= n &&
			    memcmp(b + data, epub, sizeof epub - 1) == 0) {
				/* a zip of XHTML pages: its members are text, read
				 * as an archive's are */
				*d = "EPUB book (zip of XHTML)";
				return 1;
			}
		}
	}
	/* OOXML: Office writes its content-type list first; LibreOffice starts
	 * with the package relationships and writes the list last, past the
	 * head of any file larger than that */
	if (memmem(b, n, ooxml, sizeof ooxml - 1) ||
	    (n >= 41 && le16(b + 26) == 11 && memcmp(b + 30, "_rels/.rels", 11) == 0)) {
		*r = "document";
		*d = "Office Open XML document";
	}
	return 1;
}

static int check_bzip2(const uint8_t *b, size_t n, const char **r, const char **d)
{
	(void)r;
	(void)d;
	if (n < 10 || b[3] < '1' || b[3] > '9')
		return 0;
	return memcmp(b + 4, "\x31\x41\x59\x26\x53\x59", 6) == 0 ||
	       memcmp(b + 4, "\x17\x72\x45\x38\x50\x90", 6) == 0;
}

static int check_tar(const uint8_t *b, size_t n, const char **r, const char **d)
{
	(void)r;
	(void)d;
	if (n < 263)
		return 0;
	if (b[262] == 0)
		return 1; /* POSIX "ustar\0" */
	return n >= 265 && memcmp(b + 262, "  \0", 3) == 0; /* GNU "ustar  \0" */
}

static int check_cpio_newc(const uint8_t *b, size_t n, const char **r, const char **d)
{
	(void)r;
	(void)d;
	return n >= 110 && all_in(b + 6, 104, "0123456789abcdefABCDEF");
}

static int check_cpio_odc(const uint8_t *b, size_t n, const char **r, const char **d)
{
	(void)r;
	(void)d;
	return n >= 76 && all_in(b + 6, 70, "01234567");
}

static int check_mz(const uint8_t *b, size_t n, const char **r, const char **d)
{
	uint32_t pe;
	(void)r;
	if (n < 64)
		return 0;
	pe = le32(b + 0x3C);
	if (pe <= n - 4 && memcmp(b + pe, "PE\0\0", 4) == 0) {
		*d = "PE executable (Windows)";
		return 1;
	}
	/* a DOS header is binary; text starting with "MZ" is not */
	return memchr(b + 2, 0, 62) != NULL;
}

static int check_cafebabe(const uint8_t *b, size_t n, const char **r, const char **d)
{
	uint32_t v;
	(void)r;
	if (n < 8)
		return 0;
	/* Mach-O universal: architecture count; Java class: minor, major >= 45 */
	v = be32(b + 4);
	if (v >= 1 && v < 45) {
		*d = "Mach-O universal binary";
		return 1;
	}
	if ((b[6] << 8 | b[7]) >= 45) {
		*d = "Java class file";
		return 1;
	}
	return 0;
}

static int check_sfnt(const uint8_t *b, size_t n, const char **r, const char **d)
{
	uint16_t tables;
	(void)r;
	(void)d;
	if (n < 16)
		return 0;
	tables = (uint16_t)(b[4] << 8 | b[5]);
	if (tables < 1 || tables > 100)
		return 0;
	for (size_t i = 12; i < 16; i++)
		if (b[i] < 0x20 || b[i] > 0x7E)
			return 0;
	return 1;
}

static int check_woff(const uint8_t *b, size_t n, const char **r, const char **d)
{
	(void)r;
	(void)d;
	return n >= 8 && (memcmp(b + 4, "\0\1\0\0", 4) == 0 || memcmp(b + 4, "OTTO", 4) == 0 ||
			  memcmp(b + 4, "true", 4) == 0);
}

#define SIG(off, lit, check, reason, detail) \
	{ (off), sizeof(lit) - 1, (lit), (check), (reason), (detail) }

static const sig sigs[] = {
	/* images */
	SIG(0, "\x89PNG\r\n\x1a\n", NULL, "image", "PNG image"),
	SIG(0, "\xff\xd8\xff", NULL, "image", "JPEG image"),
	SIG(0, "GIF87a", NULL, "image", "GIF image"),
	SIG(0, "GIF89a", NULL, "image", "GIF image"),
	SIG(0, "BM", check_bmp, "image", "BMP image"),
	SIG(0, "II*\0", NULL, "image", "TIFF image"),
	SIG(0, "MM\0*", NULL, "image", "TIFF image"),
	SIG(0, "II+\0", NULL, "image", "BigTIFF image"),
	SIG(0, "MM\0+", NULL, "image", "BigTIFF image"),
	SIG(0, "\0\0\1\0", check_ico, "image", "ICO icon"),
	SIG(0, "\0\0\2\0", check_ico, "image", "CUR cursor"),
	SIG(0, "\0\0\0\x0cjP  \r\n\x87\n", NULL, "image", "JPEG 2000 image"),
	SIG(0, "8BPS\0\1", NULL, "image", "Photoshop image"),
	/* RIFF: WebP is an image, WAVE and AVI are media */
	SIG(0, "RIFF", check_riff, "media", "RIFF media"),
	/* ISO base media: HEIF/AVIF images, MP4/MOV/3GP media */
	SIG(4, "ftyp", check_ftyp, "media", "MP4/QuickTime media"),
	/* audio and video */
	SIG(0, "ID3", check_id3, "media", "MP3 audio (ID3)"),
	SIG(0, "OggS\0", NULL, "media", "Ogg media"),
	SIG(0, "fLaC", check_flac, "media", "FLAC audio"),
	SIG(0, "\x1a\x45\xdf\xa3", NULL, "media", "Matroska/WebM media"),
	/* documents */
	SIG(0, "%PDF-", NULL, "document", "PDF document"),
	SIG(0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", check_ole2, "document",
	    "OLE2 compound document (legacy Office, Outlook msg)"),
	SIG(0, "!BDN", NULL, "document", "Outlook personal folders (pst/ost)"),
	/* archives (OOXML and ODF are ZIPs: see check_zip) */
	SIG(0, "PK\3\4", check_zip, "archive", "ZIP archive"),
	SIG(0, "PK\5\6", NULL, "archive", "ZIP archive (empty)"),
	SIG(0, "PK\7\x08", NULL, "archive", "ZIP archive (spanned)"),
	SIG(0, "7z\xbc\xaf\x27\x1c", NULL, "archive", "7-Zip archive"),
	SIG(0, "Rar!\x1a\x07", NULL, "archive", "RAR archive"),
	SIG(257, "ustar", check_tar, "archive", "tar archive"),
	SIG(0, "070701", check_cpio_newc, "archive", "cpio archive"),
	SIG(0, "070702", check_cpio_newc, "archive", "cpio archive"),
	SIG(0, "070707", check_cpio_odc, "archive", "cpio archive"),
	SIG(0, "!<arch>\n", NULL, "archive", "ar archive"),
	SIG(32769, "CD001", NULL, "archive", "ISO 9660 image"),
	/* compression */
	SIG(0, "\x1f\x8b\x08", NULL, "compressed", "gzip data"),
	SIG(0, "BZh", check_bzip2, "compressed", "bzip2 data"),
	SIG(0, "\xfd" "7zXZ\0", NULL, "compressed", "xz data"),
	SIG(0, "\x28\xb5\x2f\xfd", NULL, "compressed", "zstd data"),
	SIG(0, "\x04\x22\x4d\x18", NULL, "compressed", "LZ4 data"),
	SIG(0, "\x1f\x9d", NULL, "compressed", "compress'd data (.Z)"),
	SIG(0, "LZIP\x01", NULL, "compressed", "lzip data"),
	/* databases */
	SIG(0, "SQLite format 3\0", NULL, "database", "SQLite database"),
	/* executables */
	SIG(0, "\x7f" "ELF", NULL, "executable", "ELF executable"),
	SIG(0, "MZ", check_mz, "executable", "DOS executable"),
	SIG(0, "\xfe\xed\xfa\xce", NULL, "executable", "Mach-O binary"),
	SIG(0, "\xfe\xed\xfa\xcf", NULL, "executable", "Mach-O binary"),
	SIG(0, "\xce\xfa\xed\xfe", NULL, "executable", "Mach-O binary"),
	SIG(0, "\xcf\xfa\xed\xfe", NULL, "executable", "Mach-O binary"),
	SIG(0, "\xca\xfe\xba\xbe", check_cafebabe, "executable", "Mach-O universal binary"),
	SIG(0, "\0asm", NULL, "executable", "WebAssembly module"),
	/* fonts */
	SIG(0, "OTTO", check_sfnt, "font", "OpenType font"),
	SIG(0, "\0\1\0\0", check_sfnt, "font", "TrueType font"),
	SIG(0, "true", check_sfnt, "font", "TrueType font"),
	SIG(0, "ttcf\0", NULL, "font", "TrueType font collection"),
	SIG(0, "wOFF", check_woff, "font", "WOFF font"),
	SIG(0, "wOF2", check_woff, "font", "WOFF2 font"),
};

/* libmagic MIME types (prefixes) mapped to ledger reasons; NULL = text. */
static const struct {
	const char *mime;
	const char *reason;
} mime_map[] = {
	{ "text/", NULL },
	{ "application/json", NULL },
	{ "image/", "image" },
	{ "audio/", "media" },
	{ "video/", "media" },
	{ "font/", "font" },
	{ "application/font-", "font" },
	{ "application/x-font-", "font" },
	{ "application/vnd.ms-opentype", "font" },
	{ "application/vnd.ms-fontobject", "font" },
	{ "application/x-executable", "executable" },
	{ "application/x-sharedlib", "executable" },
	{ "application/x-pie-executable", "executable" },
	{ "application/x-mach-binary", "executable" },
	{ "application/x-dosexec", "executable" },
	{ "application/x-object", "executable" },
	{ "application/x-java-applet", "executable" },
	{ "application/wasm", "executable" },
	{ "application/zip", "archive" },
	{ "application/x-tar", "archive" },
	{ "application/x-7z-compressed", "archive" },
	{ "application/x-rar", "archive" },
	{ "application/vnd.rar", "archive" },
	{ "application/x-cpio", "archive" },
	{ "application/x-archive", "archive" },
	{ "application/x-iso9660-image", "archive" },
	{ "application/java-archive", "archive" },
	{ "application/vnd.debian.binary-package", "archive" },
	{ "application/x-rpm", "archive" },
	{ "application/gzip", "compressed" },
	{ "application/x-gzip", "compressed" },
	{ "application/x-xz", "compressed" },
	{ "application/x-bzip2", "compressed" },
	{ "application/zstd", "compressed" },
	{ "application/x-zstd", "compressed" },
	{ "application/x-lz4", "compressed" },
	{ "application/x-compress", "compressed" },
	{ "application/x-lzma", "compressed" },
	{ "application/x-lzip", "compressed" },
	{ "application/pdf", "document" },
	{ "application/msword", "document" },
	{ "application/vnd.ms-", "document" },
	{ "application/vnd.openxmlformats-", "document" },
	{ "application/vnd.oasis.opendocument", "document" },
	{ "application/x-ole-storage", "document" },
	{ "application/CDFV2", "document" },
	{ "application/rtf", "document" },
	{ "application/epub+zip", "document" },
	{ "application/postscript", "document" },
	{ "application/x-sqlite3", "database" },
	{ "application/vnd.sqlite3", "database" },
};

int sn_sniffer_new(sn_sniffer **out)
{
	*out = calloc(1, sizeof **out);
	if (!*out)
		return sn_error_set(SN_ENOMEM, "sniffer: out of memory");
	return 0;
}

void sn_sniffer_free(sn_sniffer *s)
{
	if (!s)
		return;
	if (s->magic)
		magic_close(s->magic);
	free(s);
}

uint64_t sn_sniffer_magic_calls(const sn_sniffer *s)
{
	return s ? s->magic_calls : 0;
}

static void set_type(sn_type *out, sn_kind kind, const char *reason, const char *detail)
{
	out->kind = kind;
	out->reason = reason;
	snprintf(out->detail, sizeof out->detail, "%s", detail ? detail : "");
}

static const sig *match_sig(const uint8_t *b, size_t n, const char **reason, const char **detail)
{
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		const sig *g = &sigs[i];
		if (g->off > n || n - g->off < g->len || memcmp(b + g->off, g->bytes, g->len) != 0)
			continue;
		*reason = g->reason;
		*detail = g->detail;
		if (!g->check || g->check(b, n, reason, detail))
			return g;
	}
	return NULL;
}

/* More than 10 % C0 controls other than the usual layout ones (tab,
 * newline, CR, form feed, vertical tab) and ESC (colour logs), or NUL bytes
 * -- except a stray few: a log or export with one NUL in it is still text
 * that holds personal data, and skipping it as binary would hide that.  At
 * most 1 NUL per 1,000 bytes, with under 5 % other controls, is text;
 * random or binary data has about 4 NULs per 1,000. */
static int looks_binary(const uint8_t *b, size_t n)
{
	size_t ctl = 0, nul = 0, i = 0;

	for (;;) {
		/* eight bytes at a time past words whose only bytes below 0x20
		 * are newlines (the usual case: a newline every few words) */
		for (; i + 8 <= n; i += 8) {
			uint64_t w;
			memcpy(&w, b + i, 8);
			uint64_t below = sn_word_below(w, 0x20);
			if (below && below != sn_word_equal(w, '\n'))
				break;
		}
		size_t stop = i + 8 <= n ? i + 8 : n;
		if (i >= stop)
			break;
		for (; i < stop; i++) {
			uint8_t c = b[i];
			nul += c == 0;
			ctl += c < 0x20 && c != 0 && c != '\t' && c != '\n' && c != '\r' &&
			       c != '\f' && c != '\v' && c != 0x1B;
		}
	}
	if (nul)
		return nul * 1000 > n || ctl * 20 > n;
	return ctl * 10 > n;
}

static int magic_ready(sn_sniffer *s)
{
	if (s->magic_state == 0) {
		s->magic = magic_open(MAGIC_NONE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
		if (s->magic && magic_load(s->magic, NULL) == 0) {
			s->magic_state = 1;
		} else {
			if (s->magic)
				magic_close(s->magic);
			s->magic = NULL;
			s->magic_state = -1;
		}
	}
	return s->magic_state > 0;
}

/* First clause of a libmagic description, printable ASCII only. */
static void clean_detail(char *dst, size_t cap, const char *src)
{
	size_t o = 0;

	for (; *src && *src != ',' && o + 1 < cap; src++) {
		unsigned char c = (unsigned char)*src;
		dst[o++] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
	}
	dst[o] = '\0';
}

static void ask_magic(sn_sniffer *s, const uint8_t *b, size_t n, sn_type *out)
{
	const int base = MAGIC_NONE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR;
	const char *mime, *desc;
	const char *reason = "binary";

	if (!magic_ready(s)) {
		set_type(out, SN_KIND_SKIP, "binary", "unknown binary data");
		return;
	}
	s->magic_calls++;
	magic_setflags(s->magic, base | MAGIC_MIME_TYPE);
	mime = magic_buffer(s->magic, b, n);
	if (!mime) {
		set_type(out, SN_KIND_SKIP, "binary", "unknown binary data");
		return;
	}
	for (size_t i = 0; i < sizeof mime_map / sizeof mime_map[0]; i++) {
		if (strncmp(mime, mime_map[i].mime, strlen(mime_map[i].mime)) == 0) {
			reason = mime_map[i].reason;
			break;
		}
	}
	magic_setflags(s->magic, base);
	desc = magic_buffer(s->magic, b, n);
	out->kind = reason ? SN_KIND_SKIP : SN_KIND_TEXT;
	out->reason = reason;
	clean_detail(out->detail, sizeof out->detail, desc ? desc : "unknown binary data");
}

void sn_sniff(sn_sniffer *s, const uint8_t *buf, size_t n, sn_type *out)
{
	const char *reason, *detail;
	sn_encoding enc;
	size_t bom;

	if (n == 0) {
		set_type(out, SN_KIND_TEXT, NULL, "empty");
		return;
	}
	if (match_sig(buf, n, &reason, &detail)) {
		set_type(out, SN_KIND_SKIP, reason, detail);
		return;
	}
	enc = sn_encoding_sniff(buf, n, &bom);
	if (enc != SN_ENC_UTF8) {
		set_type(out, SN_KIND_TEXT, NULL, enc == SN_ENC_UTF16LE ? "UTF-16LE text"
									: "UTF-16BE text");
		return;
	}
	if (!looks_binary(buf + bom, n - bom)) {
		set_type(out, SN_KIND_TEXT, NULL, "text");
		return;
	}
	ask_magic(s, buf, n, out);
}
