/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target: the rule loader on arbitrary text.  Each input becomes the
 * only rule file (fuzz.yaml) in a private directory, loaded with the shipped
 * data tables, exactly as `--rules DIR` would load it.
 *
 * Besides "no crash", the loader's documented contract is checked, aborting
 * on a violation: success gives a non-empty set and no problem reports;
 * failure gives SN_ERULES after at least one report, each with a file name
 * and a message.  A set that loads is then used the way a scan uses it:
 * every rule's facts are read, a matcher is built and run over a short text
 * with planted values, and the rules' own examples are checked (their
 * outcome is the rule author's business; only crashes matter here).
 *
 * The directory is made once per process with mkdtemp and removed at exit;
 * nothing is written anywhere else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "match/engine.h"
#include "speurneus/error.h"
#include "speurneus/key.h"
#include "speurneus/rules.h"
#include "text/text.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Rule files are small; the loader's own ceiling is 1 MiB, and inputs near
 * it only slow the run down without reaching new code. */
#define FUZZ_MAX_INPUT (256 * 1024)

/* Text the matcher runs over when an input loads: one planted value per
 * shipped category, with keywords and a column header. */
static const char sample[] =
	"naam;bsn;iban;telefoon;email;postcode\n"
	"Jan;111222333;NL91ABNA0417164300;06-12345678;jan@example.nl;2601 DC\n"
	"Klant met BSN 123456782 woont op Kerkstraat 12, 2601 DC Delft, tel 020-1234567.\n";

static char dir[64];
static char file[96];
static sn_key key;
static sn_text *text;

typedef struct diag_count {
	unsigned n;
} diag_count;

static void fail(const char *what, long a)
{
	fprintf(stderr, "fuzz_rules: contract violated: %s (%ld)\n", what, a);
	abort();
}

static void cleanup(void)
{
	if (file[0])
		unlink(file);
	if (dir[0])
		rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	sn_text_options to = SN_TEXT_OPTIONS_INIT;
	int len;

	(void)argc;
	(void)argv;
	if (!tmp || !tmp[0] || strlen(tmp) > 32)
		tmp = "/tmp";
	len = snprintf(dir, sizeof dir, "%s/speurneus-fuzz-rules.XXXXXX", tmp);
	if (len < 0 || (size_t)len >= sizeof dir || !mkdtemp(dir))
		fail("mkdtemp", errno);
	len = snprintf(file, sizeof file, "%s/fuzz.yaml", dir);
	if (len < 0 || (size_t)len >= sizeof file)
		fail("path too long", len);
	atexit(cleanup);
	if (sn_crypto_init() < 0)
		fail("sn_crypto_init", 0);
	memset(key.k, 0x5a, sizeof key.k);
	sn_key_compute_id(&key);
	if (sn_text_new(&text, &to) < 0)
		fail("sn_text_new", 0);
	return 0;
}

static void on_diag(const char *f, unsigned line, unsigned col, const char *msg, void *payload)
{
	diag_count *d = payload;
	(void)line;
	(void)col;
	if (!f || !msg || !msg[0])
		fail("problem report without a file or message", (long)d->n);
	/* Touch both strings whole, so a dangling or unterminated one is
	 * caught by AddressSanitizer here rather than in a user's terminal. */
	if (strlen(f) + strlen(msg) == 0)
		fail("empty problem report", 0);
	d->n++;
}

static int write_input(const uint8_t *data, size_t size)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < size) {
		ssize_t k = write(fd, data + off, size - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)k;
	}
	return close(fd);
}

static int ignore_finding(const sn_finding *f, void *payload)
{
	(void)payload;
	if (!f->rule_id || !f->category || !f->masked)
		fail("finding with a NULL member", 0);
	return 0;
}

static int on_chunk(const sn_chunk *c, void *payload)
{
	return sn_matcher_scan(payload, c, ignore_finding, NULL);
}

static void ignore_example(const sn_example_result *r, void *payload)
{
	(void)payload;
	if (!r->rule_id || !r->text)
		fail("example result without rule id or text", 0);
}

/* Use a loaded set the way a scan and `rules test` do. */
static void exercise(const sn_ruleset *rs)
{
	size_t n = sn_ruleset_count(rs);
	const char *digest = sn_ruleset_digest(rs);
	sn_match_options mo = SN_MATCH_OPTIONS_INIT;
	sn_matcher *m = NULL;
	sn_location loc = { "sample.csv", NULL, 0 };
	int rc;

	if (n == 0)
		fail("a set loaded with no rules", 0);
	if (!digest || strlen(digest) != 64)
		fail("digest is not 64 hex digits", digest ? (long)strlen(digest) : -1);
	for (size_t i = 0; i < n; i++) {
		sn_rule_info ri;
		if (sn_ruleset_info(rs, i, &ri) < 0)
			fail("sn_ruleset_info failed", (long)i);
		if (!ri.id || !ri.category || !ri.file || !ri.anchor)
			fail("rule info with a NULL member", (long)i);
		if (strlen(ri.id) + strlen(ri.category) + strlen(ri.file) + strlen(ri.anchor) +
			    (ri.description ? strlen(ri.description) : 0) +
			    (ri.validator ? strlen(ri.validator) : 0) ==
		    0)
			fail("rule info strings empty", (long)i);
	}
	mo.key = &key;
	mo.reveal = 1;
	rc = sn_matcher_new(&m, rs, &mo);
	if (rc < 0)
		fail("sn_matcher_new failed on a loaded set", rc);
	sn_matcher_begin_unit(m, &loc);
	rc = sn_text_stream_buffer(text, (const uint8_t *)sample, sizeof sample - 1, on_chunk, m);
	if (rc != 0)
		fail("scanning the sample failed", rc);
	sn_matcher_free(m);
	rc = sn_ruleset_test(rs, ignore_example, NULL);
	if (rc < 0)
		fail("sn_ruleset_test failed", rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dirs[] = { dir };
	sn_ruleset *rs = NULL;
	diag_count d = { 0 };
	int rc;

	if (size > FUZZ_MAX_INPUT)
		return -1;
	if (write_input(data, size) < 0)
		fail("writing the rule file", errno);
	rc = sn_ruleset_load(&rs, dirs, 1, SN_SOURCE_DIR "/rules/data", on_diag, &d);
	if (rc == 0) {
		if (!rs)
			fail("load succeeded without a set", 0);
		if (d.n)
			fail("load succeeded after reporting problems", (long)d.n);
		exercise(rs);
		sn_ruleset_free(rs);
		return 0;
	}
	if (rs)
		fail("failed load handed out a set", rc);
	if (rc != SN_ERULES)
		fail("load failed with a code other than SN_ERULES", rc);
	if (d.n == 0)
		fail("load failed without reporting a problem", rc);
	return 0;
}
