/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unit tests for the source stage: safe opening (special files never block
 * or get read, symlinks, vanished and unreadable files, the O_NOATIME retry)
 * and content sniffing (every magic-byte signature, text that merely starts
 * like a signature, UTF-16 text, and libmagic only for unclassified binary).
 *
 * Tests that need another user fork a child that drops to uid/gid 65534 when
 * running as root (CI runs as root); without root they use files owned by
 * someone else or mode 000 files instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "source/source.h"
#include "speurneus/types.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define NOBODY 65534

static char dir[64];

static void path_of(char *out, size_t cap, const char *name)
{
	int k = snprintf(out, cap, "%s/%s", dir, name);
	assert_true(k > 0 && (size_t)k < cap);
}

static void make_file(const char *name, const char *content, mode_t mode)
{
	char p[128];
	path_of(p, sizeof p, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/sn-test-source-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	/* the unprivileged child must be able to reach the files */
	return chmod(dir, 0755);
}

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int teardown(void **state)
{
	(void)state;
	return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void expect_fail(const char *path, int follow, sn_file_status st, const char *reason)
{
	sn_open_result r;
	alarm(5); /* a blocking open kills the test instead of hanging it */
	sn_source_open(&r, path, follow);
	alarm(0);
	if (r.fd >= 0)
		close(r.fd);
	if (r.fd != -1 || r.status != st || !r.reason || strcmp(r.reason, reason) != 0)
		fail_msg("%s (follow %d): fd %d status %s reason %s, want %s %s", path, follow,
			 r.fd, sn_file_status_name(r.status), r.reason ? r.reason : "(null)",
			 sn_file_status_name(st), reason);
}

static void test_open_regular(void **state)
{
	char p[128];
	sn_open_result r;
	(void)state;
	make_file("plain.txt", "hello\n", 0644);
	path_of(p, sizeof p, "plain.txt");
	sn_source_open(&r, p, 0);
	assert_true(r.fd >= 0);
	assert_int_equal(r.status, SN_FILE_SCANNED);
	assert_int_equal(r.err, 0);
	assert_true(S_ISREG(r.st.st_mode));
	assert_int_equal(r.st.st_size, 6);
	/* O_NONBLOCK may stay set: reads of a regular file ignore it */
	int fl = fcntl(r.fd, F_GETFL);
	assert_true(fl & O_NOATIME); /* our own file: no retry needed */
	assert_true(fcntl(r.fd, F_GETFD) & FD_CLOEXEC);
	char b[8];
	assert_int_equal(read(r.fd, b, sizeof b), 6);
	close(r.fd);
}

static void test_open_special(void **state)
{
	char p[128];
	(void)state;
	/* FIFO: opening one for reading without O_NONBLOCK waits for a writer */
	path_of(p, sizeof p, "fifo");
	assert_int_equal(mkfifo(p, 0644), 0);
	expect_fail(p, 0, SN_FILE_SKIPPED, "special-file");
	expect_fail(p, 1, SN_FILE_SKIPPED, "special-file");

	/* a listening UNIX socket */
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	path_of(p, sizeof p, "sock");
	assert_true(strlen(p) < sizeof sa.sun_path);
	memcpy(sa.sun_path, p, strlen(p) + 1);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(s, 1), 0);
	expect_fail(p, 0, SN_FILE_SKIPPED, "special-file");
	close(s);

	/* a character device */
	struct stat st;
	if (stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode))
		expect_fail("/dev/null", 1, SN_FILE_SKIPPED, "special-file");

	/* a directory is not a file to read */
	expect_fail(dir, 1, SN_FILE_ERROR, "open-error");
}

static void test_open_symlinks(void **state)
{
	char p[128], target[128], loop_a[128], loop_b[128], tofifo[128];
	sn_open_result r;
	(void)state;
	make_file("target.txt", "data\n", 0644);
	path_of(target, sizeof target, "target.txt");
	path_of(p, sizeof p, "link");
	assert_int_equal(symlink(target, p), 0);
	expect_fail(p, 0, SN_FILE_SKIPPED, "symlink");
	sn_source_open(&r, p, 1);
	assert_true(r.fd >= 0);
	assert_int_equal(r.status, SN_FILE_SCANNED);
	assert_int_equal(r.st.st_size, 5);
	close(r.fd);

	path_of(loop_a, sizeof loop_a, "loop-a");
	path_of(loop_b, sizeof loop_b, "loop-b");
	assert_int_equal(symlink(loop_b, loop_a), 0);
	assert_int_equal(symlink(loop_a, loop_b), 0);
	expect_fail(loop_a, 0, SN_FILE_SKIPPED, "symlink");
	expect_fail(loop_a, 1, SN_FILE_SKIPPED, "symlink-loop");

	/* following a link must not lead into a FIFO either */
	char fifo[128];
	path_of(fifo, sizeof fifo, "fifo2");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	path_of(tofifo, sizeof tofifo, "to-fifo");
	assert_int_equal(symlink(fifo, tofifo), 0);
	expect_fail(tofifo, 1, SN_FILE_SKIPPED, "special-file");
}

static void test_open_missing(void **state)
{
	char p[128], longname[512];
	sn_open_result r;
	(void)state;
	path_of(p, sizeof p, "does-not-exist");
	expect_fail(p, 0, SN_FILE_ERROR, "vanished");
	sn_source_open(&r, p, 0);
	assert_int_equal(r.err, ENOENT);

	make_file("afile", "x", 0644);
	path_of(p, sizeof p, "afile/below");
	expect_fail(p, 0, SN_FILE_ERROR, "vanished");

	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	expect_fail(longname, 0, SN_FILE_ERROR, "name-too-long");
}

/*
 * Run `fn` as uid/gid 65534 in a child (needs root).  Returns the child's
 * exit status, or -1 when not root, 77 when the privilege drop failed.
 */
static int as_nobody(int (*fn)(const char *), const char *path)
{
	if (geteuid() != 0)
		return -1;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
			_exit(77);
		_exit(fn(path));
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int child_expect_denied(const char *path)
{
	sn_open_result r;
	sn_source_open(&r, path, 0);
	if (r.fd >= 0)
		return 1;
	if (r.status != SN_FILE_ERROR || !r.reason || strcmp(r.reason, "permission-denied"))
		return 2;
	return r.err == EACCES ? 0 : 3;
}

static int child_expect_opened_without_noatime(const char *path)
{
	sn_open_result r;
	sn_source_open(&r, path, 0);
	if (r.fd < 0 || r.status != SN_FILE_SCANNED)
		return 1;
	/* O_NOATIME is refused on a file we do not own: the retry dropped it */
	int rc = (fcntl(r.fd, F_GETFL) & O_NOATIME) ? 2 : 0;
	close(r.fd);
	return rc;
}

static void test_open_permission_denied(void **state)
{
	char p[128];
	(void)state;
	make_file("secret.txt", "geheim\n", 0600);
	path_of(p, sizeof p, "secret.txt");
	int rc = as_nobody(child_expect_denied, p);
	if (rc == -1) {
		/* not root: a file of our own with no permissions at all */
		assert_int_equal(chmod(p, 0), 0);
		expect_fail(p, 0, SN_FILE_ERROR, "permission-denied");
		return;
	}
	if (rc == 77)
		skip();
	assert_int_equal(rc, 0);
}

static void test_open_noatime_retry(void **state)
{
	char p[128];
	struct stat st;
	sn_open_result r;
	(void)state;
	make_file("public.txt", "openbaar\n", 0644);
	path_of(p, sizeof p, "public.txt");
	int rc = as_nobody(child_expect_opened_without_noatime, p);
	if (rc == 77)
		skip();
	if (rc >= 0) {
		assert_int_equal(rc, 0);
		return;
	}
	/* not root: any readable file owned by someone else */
	if (stat("/etc/passwd", &st) != 0 || st.st_uid == geteuid())
		skip();
	sn_source_open(&r, "/etc/passwd", 0);
	assert_true(r.fd >= 0);
	assert_false(fcntl(r.fd, F_GETFL) & O_NOATIME);
	close(r.fd);
}

/* ------------------------------------------------------------------------ */
/* Sniffing                                                                  */

typedef struct patch {
	size_t off;
	const char *bytes;
	size_t len;
} patch;

#define P(off, lit) { (off), (lit), sizeof(lit) - 1 }

typedef struct sample {
	const char *name;
	size_t size;
	char fill;
	patch p[3];
	const char *reason;
	const char *detail; /* substring of the detail */
} sample;

static const sample samples[] = {
	{ "png", 64, 0, { P(0, "\x89PNG\r\n\x1a\n\0\0\0\rIHDR") }, "image", "PNG" },
	{ "jpeg", 64, 0, { P(0, "\xff\xd8\xff\xe0\0\x10JFIF\0") }, "image", "JPEG" },
	{ "gif87", 64, 0, { P(0, "GIF87a\x10\0\x10\0") }, "image", "GIF" },
	{ "gif89", 64, 0, { P(0, "GIF89a\x10\0\x10\0") }, "image", "GIF" },
	{ "bmp", 64, 0, { P(0, "BM\x46\0\0\0"), P(10, "\x36\0\0\0\x28\0\0\0") }, "image", "BMP" },
	{ "tiff-le", 64, 0, { P(0, "II*\0\x08\0\0\0") }, "image", "TIFF" },
	{ "tiff-be", 64, 0, { P(0, "MM\0*\0\0\0\x08") }, "image", "TIFF" },
	{ "webp", 64, 0, { P(0, "RIFF\x24\0\0\0WEBPVP8 ") }, "image", "WebP" },
	{ "ico", 64, 0, { P(0, "\0\0\1\0\1\0\x10\x10\0\0\1\0\x20\0"), P(18, "\x16\0\0\0") },
	  "image", "ICO" },
	{ "heic", 64, 0, { P(0, "\0\0\0\x18" "ftypheic\0\0\0\0mif1heic") }, "image", "HEIF" },
	{ "avif", 64, 0, { P(0, "\0\0\0\x1c" "ftypavif\0\0\0\0avifmif1") }, "image", "AVIF" },
	{ "jp2", 64, 0, { P(0, "\0\0\0\x0cjP  \r\n\x87\n") }, "image", "JPEG 2000" },
	{ "psd", 64, 0, { P(0, "8BPS\0\1\0\0") }, "image", "Photoshop" },
	{ "mp4", 64, 0, { P(0, "\0\0\0\x20" "ftypisom\0\0\2\0isomiso2") }, "media", "MP4" },
	{ "mov", 64, 0, { P(0, "\0\0\0\x14" "ftypqt  \0\0\0\0qt  ") }, "media", "QuickTime" },
	{ "wave", 64, 0, { P(0, "RIFF\x24\0\0\0WAVEfmt ") }, "media", "WAVE" },
	{ "avi", 64, 0, { P(0, "RIFF\x24\0\0\0" "AVI LIST") }, "media", "AVI" },
	{ "mp3", 64, 0, { P(0, "ID3\x03\0\0\0\0\x0f\x76") }, "media", "MP3" },
	{ "ogg", 64, 0, { P(0, "OggS\0\x02\0\0") }, "media", "Ogg" },
	{ "flac", 64, 0, { P(0, "fLaC\0\0\0\x22") }, "media", "FLAC" },
	{ "mkv", 64, 0, { P(0, "\x1a\x45\xdf\xa3\x9f\x42\x86\x81") }, "media", "Matroska" },
	{ "pdf", 64, 0, { P(0, "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n") }, "document", "PDF" },
	{ "ole2", 64, 0, { P(0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") }, "document", "OLE2" },
	{ "zip", 64, 0, { P(0, "PK\3\4\x14\0\0\0\x08\0"), P(26, "\x08\0\0\0" "data.txt") },
	  "archive", "ZIP" },
	{ "zip-empty", 22, 0, { P(0, "PK\5\6") }, "archive", "ZIP" },
	{ "docx", 128, 0, { P(0, "PK\3\4\x14\0\6\0\x08\0"),
			    P(26, "\x13\0\0\0[Content_Types].xml") },
	  "document", "Office Open XML" },
	{ "odt", 128, 0, { P(0, "PK\3\4\x0a\0\0\0\0\0"), P(26, "\x08\0\0\0mimetype"),
			   P(38, "application/vnd.oasis.opendocument.text") },
	  "document", "OpenDocument" },
	{ "epub", 128, 0, { P(0, "PK\3\4\x0a\0\0\0\0\0"), P(26, "\x08\0\0\0mimetype"),
			    P(38, "application/epub+zip") },
	  "archive", "EPUB" },
	{ "7z", 64, 0, { P(0, "7z\xbc\xaf\x27\x1c\0\x04") }, "archive", "7-Zip" },
	{ "rar", 64, 0, { P(0, "Rar!\x1a\x07\x01\0") }, "archive", "RAR" },
	{ "tar", 512, 0, { P(0, "file.txt"), P(257, "ustar\0" "00") }, "archive", "tar" },
	{ "tar-gnu", 512, 0, { P(0, "file.txt"), P(257, "ustar  \0") }, "archive", "tar" },
	{ "cpio-newc", 120, '0', { P(0, "070701") }, "archive", "cpio" },
	{ "cpio-crc", 120, 'A', { P(0, "070702") }, "archive", "cpio" },
	{ "cpio-odc", 80, '7', { P(0, "070707") }, "archive", "cpio" },
	{ "ar", 64, 0, { P(0, "!<arch>\ndebian-binary   ") }, "archive", "ar" },
	{ "iso", 32800, 0, { P(32769, "CD001\x01") }, "archive", "ISO 9660" },
	{ "gzip", 64, 0, { P(0, "\x1f\x8b\x08\0\0\0\0\0\0\x03") }, "compressed", "gzip" },
	{ "bzip2", 64, 0, { P(0, "BZh91AY&SY") }, "compressed", "bzip2" },
	{ "bzip2-empty", 64, 0, { P(0, "BZh9\x17\x72\x45\x38\x50\x90") }, "compressed", "bzip2" },
	{ "xz", 64, 0, { P(0, "\xfd" "7zXZ\0\0\x04") }, "compressed", "xz" },
	{ "zstd", 64, 0, { P(0, "\x28\xb5\x2f\xfd\x04\x58") }, "compressed", "zstd" },
	{ "lz4", 64, 0, { P(0, "\x04\x22\x4d\x18\x64\x40") }, "compressed", "LZ4" },
	{ "compress", 64, 0, { P(0, "\x1f\x9d\x90") }, "compressed", ".Z" },
	{ "sqlite", 128, 0, { P(0, "SQLite format 3\0\x10\0") }, "database", "SQLite" },
	{ "elf", 64, 0, { P(0, "\x7f" "ELF\x02\x01\x01") }, "executable", "ELF" },
	{ "pe", 256, 0, { P(0, "MZ\x90\0\3\0"), P(0x3c, "\x80\0\0\0"), P(0x80, "PE\0\0") },
	  "executable", "PE" },
	{ "dos", 64, 0, { P(0, "MZ\x90\0\3\0") }, "executable", "DOS" },
	{ "macho32", 64, 0, { P(0, "\xfe\xed\xfa\xce") }, "executable", "Mach-O" },
	{ "macho64", 64, 0, { P(0, "\xfe\xed\xfa\xcf") }, "executable", "Mach-O" },
	{ "macho32-le", 64, 0, { P(0, "\xce\xfa\xed\xfe") }, "executable", "Mach-O" },
	{ "macho64-le", 64, 0, { P(0, "\xcf\xfa\xed\xfe\x07\0\0\x01") }, "executable", "Mach-O" },
	{ "macho-fat", 64, 0, { P(0, "\xca\xfe\xba\xbe\0\0\0\x02") }, "executable", "universal" },
	{ "java", 64, 0, { P(0, "\xca\xfe\xba\xbe\0\0\0\x34") }, "executable", "Java" },
	{ "wasm", 64, 0, { P(0, "\0asm\1\0\0\0") }, "executable", "WebAssembly" },
	{ "otf", 64, 0, { P(0, "OTTO\0\x0a\0\x80\0\x03\0\x20" "CFF ") }, "font", "OpenType" },
	{ "ttf", 64, 0, { P(0, "\0\1\0\0\0\x0e\0\x80\0\x03\0\x60" "GDEF") }, "font", "TrueType" },
	{ "ttc", 64, 0, { P(0, "ttcf\0\1\0\0") }, "font", "collection" },
	{ "woff", 64, 0, { P(0, "wOFF\0\1\0\0") }, "font", "WOFF" },
	{ "woff2", 64, 0, { P(0, "wOF2OTTO") }, "font", "WOFF2" },
};

static uint8_t *build(const sample *s)
{
	uint8_t *b = malloc(s->size);
	assert_non_null(b);
	memset(b, s->fill, s->size);
	for (size_t i = 0; i < NELEM(s->p); i++) {
		if (!s->p[i].bytes)
			continue;
		assert_true(s->p[i].off + s->p[i].len <= s->size);
		memcpy(b + s->p[i].off, s->p[i].bytes, s->p[i].len);
	}
	return b;
}

static void test_sniff_signatures(void **state)
{
	sn_sniffer *s = NULL;
	(void)state;
	assert_int_equal(sn_sniffer_new(&s), 0);
	for (size_t i = 0; i < NELEM(samples); i++) {
		sn_type t;
		uint8_t *b = build(&samples[i]);
		sn_sniff(s, b, samples[i].size, &t);
		if (t.kind != SN_KIND_SKIP || !t.reason || strcmp(t.reason, samples[i].reason) ||
		    !strstr(t.detail, samples[i].detail))
			fail_msg("%s: kind %d reason %s detail '%s', want %s '%s'",
				 samples[i].name, t.kind, t.reason ? t.reason : "(null)", t.detail,
				 samples[i].reason, samples[i].detail);
		free(b);
	}
	/* the table decided all of them: libmagic was never needed */
	assert_int_equal(sn_sniffer_magic_calls(s), 0);
	sn_sniffer_free(s);
}

/* Text (including text that starts like a signature) is TEXT, without
 * consulting libmagic. */
#define T(name, lit) { (name), (lit), sizeof(lit) - 1 }

static void test_sniff_text(void **state)
{
	static const struct {
		const char *name;
		const char *b;
		size_t n;
	} v[] = {
		T("empty", ""),
		T("ascii", "BSN 111222333 staat in dit bestand\n"),
		T("utf-8", "caf\xc3\xa9, co\xc3\xb6rdinatie, \xe2\x82\xac 12,50\n"),
		T("utf-8 bom", "\xef\xbb\xbfnaam;bsn\r\nJan;111222333\r\n"),
		T("cp1252", "caf\xe9 \x80 12,50\n"),
		T("utf-16le bom", "\xff\xfe" "B\0S\0N\0"),
		T("utf-16be bom", "\xfe\xff\0B\0S\0N"),
		T("utf-16le", "B\0S\0N\0 \0" "1\0" "1\0" "1\0"),
		T("utf-16be", "\0B\0S\0N\0 \0" "1\0" "1\0" "1"),
		T("ansi colours", "\x1b[31mERROR\x1b[0m login jan@example.nl\n"),
		T("form feed", "page 1\fpage 2\vtab\tend\n"),
		T("bmw", "BMW 320d, kenteken 12-ABC-3, eigenaar J. Jansen, Den Haag\n"),
		T("mz", "MZ-Bahn: spoorlijn, geen programma. Regel twee van de tekst hier.\n"),
		T("phone list", "0707012345 Jan\n0707012346 Piet\n0707012347 Klaas\n"),
		T("otto", "OTTO de Vries, BSN 111222333, geboren 1970\n"),
		T("id3", "ID3 tags staan in mp3-bestanden\n"),
		T("bzh", "BZh is hoe bzip2 begint, dit is tekst\n"),
		T("riff", "RIFF raff en ander volk\n"),
		T("true", "true\nfalse\ntrue\n"),
		T("pk", "PKO bank, rekening NL91ABNA0417164300\n"),
	};
	sn_sniffer *s = NULL;
	(void)state;
	assert_int_equal(sn_sniffer_new(&s), 0);
	for (size_t i = 0; i < NELEM(v); i++) {
		sn_type t;
		sn_sniff(s, (const uint8_t *)v[i].b, v[i].n, &t);
		if (t.kind != SN_KIND_TEXT)
			fail_msg("%s: classified as %s (%s)", v[i].name,
				 t.reason ? t.reason : "(null)", t.detail);
	}
	assert_int_equal(sn_sniffer_magic_calls(s), 0);

	/* a log with one stray NUL in 2 KiB is still text; the same with a NUL
	 * in every 100 bytes is not */
	uint8_t blk[2048];
	sn_type t;
	for (size_t i = 0; i < sizeof blk; i++)
		blk[i] = (uint8_t)((i % 64 == 63) ? '\n' : 'a' + i % 26);
	blk[100] = 0;
	sn_sniff(s, blk, sizeof blk, &t);
	assert_int_equal(t.kind, SN_KIND_TEXT);
	for (size_t i = 0; i < sizeof blk; i += 100)
		blk[i] = 0;
	sn_sniff(s, blk, sizeof blk, &t);
	assert_int_equal(t.kind, SN_KIND_SKIP);

	/* every control byte counts wherever it sits in a word of the block
	 * (the count skips eight bytes at a time past words without one, or
	 * with newlines only): 7 of 64 bytes (over 10 %) is binary, 6 is
	 * text, at every start, among a few newlines or a newline in every
	 * word, next to bytes just above the controls and above 0x7F */
	for (int dense = 0; dense < 2; dense++) {
		for (size_t at = 0; at + 7 <= 64; at++) {
			uint8_t b[64];
			for (size_t i = 0; i < sizeof b; i++)
				b[i] = dense && i % 4 == 3 ? '\n' : "x \x7f\xc3\xa9"[i % 5];
			b[63] = '\n';
			for (size_t k = 0; k < 6; k++)
				b[at + k] = k % 2 ? 0x1F : 0x01;
			sn_sniff(s, b, sizeof b, &t);
			assert_int_equal(t.kind, SN_KIND_TEXT);
			b[at + 6] = 0x02;
			sn_sniff(s, b, sizeof b, &t);
			assert_int_equal(t.kind, SN_KIND_SKIP);
		}
	}
	sn_sniffer_free(s);
}

/* Binary data without a known signature goes to libmagic. */
static void test_sniff_libmagic(void **state)
{
	sn_sniffer *s = NULL;
	uint8_t b[4096];
	uint32_t x = 12345;
	sn_type t;
	(void)state;
	for (size_t i = 0; i < sizeof b; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (uint8_t)(x >> 16);
	}
	b[100] = 0;
	b[0] = 0x42; /* no signature starts with this */
	assert_int_equal(sn_sniffer_new(&s), 0);
	sn_sniff(s, b, sizeof b, &t);
	assert_int_equal(t.kind, SN_KIND_SKIP);
	assert_non_null(t.reason);
	assert_string_equal(t.reason, "binary");
	assert_true(t.detail[0] != '\0');
	assert_int_equal(sn_sniffer_magic_calls(s), 1);

	/* control characters without NUL: not text either */
	static const uint8_t ctl[] = "\x01\x02\x03\x04\x05\x06\x07\x08hello";
	sn_sniff(s, ctl, sizeof ctl - 1, &t);
	assert_int_equal(t.kind, SN_KIND_SKIP);
	assert_int_equal(sn_sniffer_magic_calls(s), 2);

	/* a format only libmagic knows, mapped to its reason */
	static const uint8_t cpio[] = "\xc7\x71\x00\x00\x01\x00\xa4\x81\x00\x00\x00\x00\x01\x00"
				      "\x00\x00\x00\x00\x05\x00\x00\x00\x04\x00" "abcd\0\0";
	sn_sniff(s, cpio, sizeof cpio - 1, &t);
	assert_int_equal(t.kind, SN_KIND_SKIP);
	assert_string_equal(t.reason, "archive");
	assert_int_equal(sn_sniffer_magic_calls(s), 3);

	/* only the first clause of libmagic's description is kept */
	static const uint8_t lnk[] = "L\0\0\0\x01\x14\x02\0\0\0\0\0\xc0\0\0\0\0\0\0\x46\x9b\0\x08"
				     "\0\x20\0\0\0";
	sn_sniff(s, lnk, sizeof lnk - 1, &t);
	assert_int_equal(t.kind, SN_KIND_SKIP);
	assert_string_equal(t.reason, "binary");
	assert_null(strchr(t.detail, ','));
	assert_true(strlen(t.detail) > 0);
	assert_int_equal(sn_sniffer_magic_calls(s), 4);
	sn_sniffer_free(s);
}

/* libmagic that cannot load its database still gives a skip reason. */
static void test_sniff_no_magic_db(void **state)
{
	sn_sniffer *s = NULL;
	static const uint8_t bin[] = "\x42\0\1\2\3\0\0\0\x99\x98";
	sn_type t;
	(void)state;
	assert_int_equal(setenv("MAGIC", "/nonexistent/magic.mgc", 1), 0);
	assert_int_equal(sn_sniffer_new(&s), 0);
	sn_sniff(s, bin, sizeof bin - 1, &t);
	unsetenv("MAGIC");
	assert_int_equal(t.kind, SN_KIND_SKIP);
	assert_string_equal(t.reason, "binary");
	assert_string_equal(t.detail, "unknown binary data");
	sn_sniffer_free(s);
	sn_sniffer_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_regular),
		cmocka_unit_test(test_open_special),
		cmocka_unit_test(test_open_symlinks),
		cmocka_unit_test(test_open_missing),
		cmocka_unit_test(test_open_permission_denied),
		cmocka_unit_test(test_open_noatime_retry),
		cmocka_unit_test(test_sniff_signatures),
		cmocka_unit_test(test_sniff_text),
		cmocka_unit_test(test_sniff_libmagic),
		cmocka_unit_test(test_sniff_no_magic_db),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
