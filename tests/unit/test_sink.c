/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sink: record shapes and field order of the output contract, JSON
 * validity (checked with a small independent validator below), raw values
 * only with reveal, lossless non-UTF-8 names, control-character escaping in
 * every format, -o temp-file-and-rename, write failures, concurrent writers,
 * --sort path and the summary counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "sink/sink.h"
#include "speurneus/error.h"
#include "speurneus/types.h"

/* ---- a small validating JSON reader (independent of the code under test) */

typedef struct jp {
	const unsigned char *p, *e;
} jp;

static size_t t_utf8_len(const unsigned char *p, const unsigned char *e)
{
	size_t n = (size_t)(e - p), len;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void jws(jp *j)
{
	while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int jlit(jp *j, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(j->e - j->p) < n || memcmp(j->p, lit, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

static int jstring(jp *j)
{
	if (j->p >= j->e || *j->p != '"')
		return -1;
	j->p++;
	while (j->p < j->e) {
		unsigned c = *j->p;
		if (c == '"') {
			j->p++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			if (++j->p >= j->e)
				return -1;
			c = *j->p++;
			if (c == 'u') {
				for (int i = 0; i < 4; i++, j->p++) {
					if (j->p >= j->e || *j->p == 0 ||
					    !strchr("0123456789abcdefABCDEF", *j->p))
						return -1;
				}
			} else if (c == 0 || !strchr("\"\\/bfnrt", (int)c)) {
				return -1;
			}
			continue;
		}
		size_t len = t_utf8_len(j->p, j->e);
		if (!len)
			return -1;
		j->p += len;
	}
	return -1;
}

static int jdigits(jp *j)
{
	const unsigned char *s = j->p;
	while (j->p < j->e && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s ? 0 : -1;
}

static int jnumber(jp *j)
{
	if (j->p < j->e && *j->p == '-')
		j->p++;
	if (j->p < j->e && *j->p == '0')
		j->p++;
	else if (jdigits(j) < 0)
		return -1;
	if (j->p < j->e && *j->p == '.') {
		j->p++;
		if (jdigits(j) < 0)
			return -1;
	}
	if (j->p < j->e && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->e && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (jdigits(j) < 0)
			return -1;
	}
	return 0;
}

static int jvalue(jp *j, int depth)
{
	if (depth > 64)
		return -1;
	jws(j);
	if (j->p >= j->e)
		return -1;
	switch (*j->p) {
	case '"': return jstring(j);
	case 't': return jlit(j, "true");
	case 'f': return jlit(j, "false");
	case 'n': return jlit(j, "null");
	case '{':
	case '[': {
		int obj = *j->p == '{';
		unsigned char close = obj ? '}' : ']';
		j->p++;
		jws(j);
		if (j->p < j->e && *j->p == close) {
			j->p++;
			return 0;
		}
		for (;;) {
			if (obj) {
				jws(j);
				if (jstring(j) < 0)
					return -1;
				jws(j);
				if (j->p >= j->e || *j->p++ != ':')
					return -1;
			}
			if (jvalue(j, depth + 1) < 0)
				return -1;
			jws(j);
			if (j->p >= j->e)
				return -1;
			if (*j->p == ',') {
				j->p++;
				continue;
			}
			if (*j->p++ == close)
				return 0;
			return -1;
		}
	}
	default: return jnumber(j);
	}
}

static int json_valid(const char *s, size_t n)
{
	jp j = {(const unsigned char *)s, (const unsigned char *)s + n};
	if (jvalue(&j, 0) < 0)
		return 0;
	jws(&j);
	return j.p == j.e;
}

typedef struct jfield {
	char key[64];
	const char *v;
	size_t n;
} jfield;

#define MAX_FIELDS 40

/* Split a JSON object into its members (key, raw value text), in order. */
static size_t jfields(const char *s, size_t n, jfield *out)
{
	jp j = {(const unsigned char *)s, (const unsigned char *)s + n};
	size_t k = 0;

	assert_true(json_valid(s, n));
	jws(&j);
	assert_int_equal(*j.p, '{');
	j.p++;
	jws(&j);
	if (*j.p == '}')
		return 0;
	for (;;) {
		jws(&j);
		const unsigned char *ks = j.p + 1;
		assert_int_equal(jstring(&j), 0);
		size_t klen = (size_t)(j.p - 1 - ks);
		assert_true(klen < sizeof out[k].key && k < MAX_FIELDS);
		memcpy(out[k].key, ks, klen);
		out[k].key[klen] = '\0';
		jws(&j);
		assert_int_equal(*j.p++, ':');
		jws(&j);
		out[k].v = (const char *)j.p;
		assert_int_equal(jvalue(&j, 0), 0);
		out[k].n = (size_t)((const char *)j.p - out[k].v);
		k++;
		jws(&j);
		if (*j.p == '}')
			return k;
		assert_int_equal(*j.p++, ',');
	}
}

static const jfield *jget(const jfield *f, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].key, key) == 0)
			return &f[i];
	return NULL;
}

static void assert_field(const jfield *f, size_t n, const char *key, const char *want)
{
	const jfield *x = jget(f, n, key);
	if (!x)
		fail_msg("member '%s' missing", key);
	if (x->n != strlen(want) || memcmp(x->v, want, x->n) != 0)
		fail_msg("member '%s' is %.*s, want %s", key, (int)x->n, x->v, want);
}

/* The keys, exactly and in this order (NULL-terminated list). */
static void assert_keys(const jfield *f, size_t n, const char *const *keys)
{
	size_t i = 0;
	for (; keys[i]; i++) {
		if (i >= n)
			fail_msg("member %zu '%s' missing", i, keys[i]);
		if (strcmp(f[i].key, keys[i]) != 0)
			fail_msg("member %zu is '%s', want '%s'", i, f[i].key, keys[i]);
	}
	assert_int_equal(i, n);
}

/* ---- capturing output ---- */

typedef struct capture {
	FILE *f;
	char *buf;
	size_t len;
} capture;

static void cap_open(capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
}

static void cap_close(capture *c)
{
	assert_int_equal(fclose(c->f), 0);
	c->f = NULL;
}

static void cap_free(capture *c)
{
	free(c->buf);
	c->buf = NULL;
}

/* Split into lines (modifies nothing; returns pointers and lengths). */
static size_t split_lines(const char *buf, size_t len, const char **line, size_t *ln, size_t max)
{
	size_t n = 0, start = 0;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		assert_true(n < max);
		line[n] = buf + start;
		ln[n] = i - start;
		n++;
		start = i + 1;
	}
	assert_int_equal(start, len); /* every record ends with a newline */
	return n;
}

static int contains(const char *buf, size_t len, const char *needle)
{
	return memmem(buf, len, needle, strlen(needle)) != NULL;
}

/* ---- building records ---- */

static const char *const roots[] = {"/srv/data", "/home"};

static sn_scan_header header(void)
{
	sn_scan_header h = {
		.tool_version = "0.1.0",
		.rules_digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		.key_id = "a1b2c3d4",
		.host = "db01",
		.roots = roots,
		.nroots = 2,
		.started = 1795922945.0, /* 2026-11-29T03:29:05Z */
		.threads = 2,
		.min_confidence = "medium",
		.reveal = 0,
	};
	return h;
}

static sn_finding finding(const sn_location *loc, const char *rule, const char *category,
			  sn_confidence c, uint64_t line, uint64_t col, uint64_t off,
			  const char *masked)
{
	sn_finding f;
	memset(&f, 0, sizeof f);
	f.rule_id = rule;
	f.category = category;
	f.confidence = c;
	f.loc = loc;
	f.line = line;
	f.column = col;
	f.offset = off;
	f.masked = masked;
	f.row = -1;
	memset(f.fingerprint, 0xab, sizeof f.fingerprint);
	return f;
}

static sn_sink *open_stream(sn_format fmt, FILE *f, int color, int sort)
{
	sn_sink_options o = {
		.format = fmt, .path = NULL, .stream = f, .color = color, .sort_path = sort};
	sn_sink *s = NULL;
	assert_int_equal(sn_sink_open(&s, &o), 0);
	assert_non_null(s);
	return s;
}

/* A sink writing into the capture c, begun with header(). */
static sn_sink *begin_captured(capture *c, sn_format fmt, int color, int sort)
{
	cap_open(c);
	sn_sink *s = open_stream(fmt, c->f, color, sort);
	sn_scan_header h = header();
	assert_int_equal(sn_sink_begin(s, &h), 0);
	return s;
}

/* The report of s ended after one second, committed, and in c. */
static void end_captured(capture *c, sn_sink *s)
{
	assert_int_equal(sn_sink_end(s, 1.0, 0), 0);
	assert_int_equal(sn_sink_close(s, 1), 0);
	cap_close(c);
}

#define FP_HEX "\"abababababababababababababababababababababababababababababababab\""

/* ---- tests ---- */

static void test_format_parse(void **state)
{
	(void)state;
	sn_format f;
	assert_int_equal(sn_format_parse(&f, "text"), 0);
	assert_int_equal(f, SN_FMT_TEXT);
	assert_int_equal(sn_format_parse(&f, "json"), 0);
	assert_int_equal(f, SN_FMT_JSON);
	assert_int_equal(sn_format_parse(&f, "ndjson"), 0);
	assert_int_equal(f, SN_FMT_NDJSON);
	assert_int_equal(sn_format_parse(&f, "sarif"), SN_EINVAL);
	assert_int_equal(sn_format_parse(&f, "JSON"), SN_EINVAL);
}

static void test_json_string(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t n;
		const char *out;
		int lossy;
	} cases[] = {
		{"plain", 5, "\"plain\"", 0},
		{"", 0, "\"\"", 0},
		{"q\"b\\s/", 6, "\"q\\\"b\\\\s/\"", 0},
		{"\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"", 0},
		{"\x01\x1b\x1f\x7f", 4, "\"\\u0001\\u001b\\u001f\\u007f\"", 0},
		{"nul\0x", 5, "\"nul\\u0000x\"", 0},
		{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
		 "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", 0},
		{"c1\xc2\x9b", 4, "\"c1\\u009b\"", 0},
		{"ls\xe2\x80\xa8", 5, "\"ls\\u2028\"", 0},
		{"bad\xff", 4, "\"bad\xef\xbf\xbd\"", 1},
		{"\xc3", 1, "\"\xef\xbf\xbd\"", 1},		    /* truncated */
		{"\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"", 1}, /* overlong '/' */
		/* a UTF-16 surrogate */
		{"\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", 1},
		{"\xf4\x90\x80\x80", 4, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"",
		 1},					    /* > U+10FFFF */
		{"\xef\xbf\xbd", 3, "\"\xef\xbf\xbd\"", 0}, /* a real U+FFFD is not lossy */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sn_buf b;
		sn_buf_init(&b, 4096);
		int lossy = sn_json_string(&b, cases[i].in, cases[i].n);
		assert_false(b.failed);
		if (lossy != cases[i].lossy || b.len != strlen(cases[i].out) ||
		    memcmp(b.p, cases[i].out, b.len) != 0)
			fail_msg("case %zu: got %s (lossy %d)", i, b.p, lossy);
		assert_true(json_valid(b.p, b.len));
		sn_buf_free(&b);

		/* A ceiling below the worst case of the escaped length (six bytes
		 * per byte) but not below the real length gives the same text;
		 * one byte less fails the buffer. */
		size_t want = strlen(cases[i].out);
		sn_buf_init(&b, want);
		lossy = sn_json_string(&b, cases[i].in, cases[i].n);
		assert_false(b.failed);
		assert_int_equal(lossy, cases[i].lossy);
		assert_int_equal(b.len, want);
		assert_memory_equal(b.p, cases[i].out, want);
		sn_buf_free(&b);
		sn_buf_init(&b, want - 1);
		sn_json_string(&b, cases[i].in, cases[i].n);
		assert_true(b.failed);
		sn_buf_free(&b);
	}
}

/* The escaper writes into reserved room when the worst case fits and
 * appends piece by piece near a ceiling: both give the same bytes, for
 * strings mixing every kind of byte at every position. */
static void test_json_string_paths_agree(void **state)
{
	(void)state;
	static const unsigned char pool[] = {
		'a',  'Z',  '0',  ' ',	'~',  '/',  '"',  '\\', '\b', '\n', '\t', 0x00, 0x01,
		0x1f, 0x7f, 0x80, 0xbf, 0xc2, 0x9b, 0xc3, 0xa9, 0xe2, 0x80, 0xa8, 0xa9, 0x82,
		0xac, 0xed, 0xa0, 0xf0, 0x9f, 0x98, 0xf4, 0x90, 0xff, 0xfe, 0xc0, 0xaf};
	unsigned seed = 12345;

	for (int iter = 0; iter < 5000; iter++) {
		unsigned char in[64];
		seed = seed * 1103515245u + 12345u;
		size_t n = (seed >> 16) % sizeof in;
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = pool[(seed >> 16) % sizeof pool];
		}
		sn_buf wide, tight;
		sn_buf_init(&wide, 4096);
		int lw = sn_json_string(&wide, (const char *)in, n);
		assert_false(wide.failed);
		assert_true(json_valid(wide.p, wide.len));
		sn_buf_init(&tight, wide.len);
		int lt = sn_json_string(&tight, (const char *)in, n);
		assert_false(tight.failed);
		assert_int_equal(lw, lt);
		assert_int_equal(wide.len, tight.len);
		assert_memory_equal(wide.p, tight.p, wide.len);
		sn_buf_free(&wide);
		sn_buf_free(&tight);
	}
}

static void test_base64(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} v[] = {
		/* RFC 4648 section 10 */
		{"", ""},
		{"f", "Zg=="},
		{"fo", "Zm8="},
		{"foo", "Zm9v"},
		{"foob", "Zm9vYg=="},
		{"fooba", "Zm9vYmE="},
		{"foobar", "Zm9vYmFy"},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		sn_buf b;
		sn_buf_init(&b, 4096);
		sn_base64(&b, (const unsigned char *)v[i].in, strlen(v[i].in));
		assert_string_equal(b.len ? b.p : "", v[i].out);
		sn_buf_free(&b);
	}
	/* Longer than one internal chunk: only the end is padded. */
	unsigned char big[100];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (unsigned char)(i * 37);
	sn_buf b;
	sn_buf_init(&b, 4096);
	sn_base64(&b, big, sizeof big);
	assert_int_equal(b.len, 136);
	assert_null(memchr(b.p, '=', 132));
	assert_memory_equal(b.p + 132, "Tw==", 4);
	assert_memory_equal(b.p, "ACVKb5S53gMoTXKXvOEGK1B1", 24);
	sn_buf_free(&b);
}

static void test_ndjson_records(void **state)
{
	(void)state;
	capture c;
	sn_sink *s = begin_captured(&c, SN_FMT_NDJSON, 0, 0);

	sn_location plain = {"crm/export.csv", NULL, 0};
	sn_finding f = finding(&plain, "nl.bsn", "bsn", SN_CONF_HIGH, 12, 5, 1234, "*******82");
	f.field = "bsn";
	f.row = 3;
	assert_int_equal(sn_sink_finding(s, &f), 0);

	const char *mem[] = {"a.zip", "b.csv"};
	sn_location nested = {"backup.tar", mem, 2};
	sn_finding g =
		finding(&nested, "nl.iban", "iban", SN_CONF_MEDIUM, 1, 1, 0, "NL**************00");
	assert_int_equal(sn_sink_finding(s, &g), 0);

	sn_location png = {"photos/a.png", NULL, 0};
	sn_file_record r = {&png, SN_FILE_SKIPPED, "image", "PNG image data", 0};
	assert_int_equal(sn_sink_file(s, &r), 0);
	sn_file_record r2 = {&nested, SN_FILE_INCOMPLETE, "too-large", NULL, 4096};
	assert_int_equal(sn_sink_file(s, &r2), 0);

	sn_sink_note_scanned(s, 1000000);
	sn_sink_note_scanned(s, 500000);
	sn_sink_note_bytes(s, 4096);
	sn_sink_note_excluded(s);
	sn_sink_note_hardlink(s);
	sn_sink_note_below(s, "bsn", SN_CONF_LOW);
	assert_int_equal(sn_sink_end(s, 2.0, 0), 0);
	assert_int_equal(sn_sink_close(s, 1), 0);
	cap_close(&c);

	const char *line[16];
	size_t ln[16];
	assert_int_equal(split_lines(c.buf, c.len, line, ln, 16), 6);
	jfield fl[MAX_FIELDS];
	size_t n;

	n = jfields(line[0], ln[0], fl);
	static const char *const hk[] = {
		"type",	 "version", "tool",    "tool_version",	 "rules_digest", "key_id", "host",
		"roots", "started", "threads", "min_confidence", "reveal",	 NULL};
	assert_keys(fl, n, hk);
	assert_field(fl, n, "type", "\"scan\"");
	assert_field(fl, n, "version", "1");
	assert_field(fl, n, "tool", "\"speurneus\"");
	assert_field(fl, n, "tool_version", "\"0.1.0\"");
	assert_field(fl, n, "key_id", "\"a1b2c3d4\"");
	assert_field(fl, n, "host", "\"db01\"");
	assert_field(fl, n, "roots", "[\"/srv/data\",\"/home\"]");
	assert_field(fl, n, "started", "\"2026-11-29T03:29:05Z\"");
	assert_field(fl, n, "threads", "2");
	assert_field(fl, n, "min_confidence", "\"medium\"");
	assert_field(fl, n, "reveal", "false");

	n = jfields(line[1], ln[1], fl);
	static const char *const fk[] = {
		"type",	  "rule",  "category",	  "confidence", "path",	 "line", "column",
		"offset", "value", "fingerprint", "key_id",	"field", "row",	 NULL};
	assert_keys(fl, n, fk);
	assert_field(fl, n, "type", "\"finding\"");
	assert_field(fl, n, "rule", "\"nl.bsn\"");
	assert_field(fl, n, "category", "\"bsn\"");
	assert_field(fl, n, "confidence", "\"high\"");
	assert_field(fl, n, "path", "\"crm/export.csv\"");
	assert_field(fl, n, "line", "12");
	assert_field(fl, n, "column", "5");
	assert_field(fl, n, "offset", "1234");
	assert_field(fl, n, "value", "\"*******82\"");
	assert_field(fl, n, "fingerprint", FP_HEX);
	assert_field(fl, n, "key_id", "\"a1b2c3d4\"");
	assert_field(fl, n, "field", "\"bsn\"");
	assert_field(fl, n, "row", "3");

	n = jfields(line[2], ln[2], fl);
	static const char *const gk[] = {"type",	"rule",	  "category", "confidence", "path",
					 "member",	"line",	  "column",   "offset",	    "value",
					 "fingerprint", "key_id", NULL};
	assert_keys(fl, n, gk);
	assert_field(fl, n, "member", "[\"a.zip\",\"b.csv\"]");
	assert_field(fl, n, "confidence", "\"medium\"");

	n = jfields(line[3], ln[3], fl);
	static const char *const rk[] = {"type",   "path",  "status", "reason",
					 "detail", "bytes", NULL};
	assert_keys(fl, n, rk);
	assert_field(fl, n, "type", "\"file\"");
	assert_field(fl, n, "path", "\"photos/a.png\"");
	assert_field(fl, n, "status", "\"skipped\"");
	assert_field(fl, n, "reason", "\"image\"");
	assert_field(fl, n, "detail", "\"PNG image data\"");
	assert_field(fl, n, "bytes", "0");

	n = jfields(line[4], ln[4], fl);
	static const char *const r2k[] = {"type",   "path",  "member", "status",
					  "reason", "bytes", NULL};
	assert_keys(fl, n, r2k);
	assert_field(fl, n, "status", "\"incomplete\"");
	assert_field(fl, n, "bytes", "4096");

	n = jfields(line[5], ln[5], fl);
	static const char *const sk[] = {"type",
					 "files_scanned",
					 "bytes_scanned",
					 "files_excluded",
					 "hardlinks_skipped",
					 "images_skipped",
					 "status",
					 "reasons",
					 "findings",
					 "below_threshold",
					 "duration_s",
					 "throughput_mb_s",
					 "interrupted",
					 "complete",
					 NULL};
	assert_keys(fl, n, sk);
	assert_field(fl, n, "files_scanned", "2");
	assert_field(fl, n, "bytes_scanned", "1504096");
	assert_field(fl, n, "files_excluded", "1");
	assert_field(fl, n, "hardlinks_skipped", "1");
	assert_field(fl, n, "images_skipped", "1");
	assert_field(fl, n, "status", "{\"skipped\":1,\"incomplete\":1,\"error\":0}");
	assert_field(fl, n, "reasons",
		     "{\"skipped\":{\"image\":1},\"incomplete\":"
		     "{\"too-large\":1},\"error\":{}}");
	assert_field(fl, n, "findings",
		     "{\"total\":2,\"by_category\":{"
		     "\"bsn\":{\"low\":0,\"medium\":0,\"high\":1},"
		     "\"iban\":{\"low\":0,\"medium\":1,\"high\":0}},"
		     "\"by_confidence\":{\"low\":0,\"medium\":1,\"high\":1}}");
	assert_field(fl, n, "below_threshold", "{\"total\":1,\"by_category\":{\"bsn\":1}}");
	assert_field(fl, n, "duration_s", "2.000");
	assert_field(fl, n, "throughput_mb_s", "0.8");
	assert_field(fl, n, "interrupted", "false");
	assert_field(fl, n, "complete", "false"); /* one incomplete record */
	cap_free(&c);
}

/* A planted raw value must appear only with reveal, in every format. */
static void test_canary_raw_only_with_reveal(void **state)
{
	(void)state;
	static const char canary[] = "111222333";
	static const char canary_norm[] = "NORM111222333";
	static const sn_format fmts[] = {SN_FMT_TEXT, SN_FMT_JSON, SN_FMT_NDJSON};

	for (size_t fi = 0; fi < 3; fi++) {
		for (int sort = 0; sort <= 1; sort++) {
			for (int reveal = 0; reveal <= 1; reveal++) {
				capture c;
				cap_open(&c);
				sn_sink *s = open_stream(fmts[fi], c.f, fi == 0, sort);
				sn_scan_header h = header();
				h.reveal = reveal;
				assert_int_equal(sn_sink_begin(s, &h), 0);
				sn_location loc = {"x.txt", NULL, 0};
				sn_finding f = finding(&loc, "nl.bsn", "bsn", SN_CONF_HIGH, 1, 1, 0,
						       "******333");
				if (reveal) {
					f.raw = canary;
					f.raw_len = strlen(canary);
					f.normalized = canary_norm;
				}
				assert_int_equal(sn_sink_finding(s, &f), 0);
				end_captured(&c, s);
				assert_int_equal(contains(c.buf, c.len, canary), reveal);
				assert_int_equal(contains(c.buf, c.len, canary_norm),
						 reveal && fmts[fi] != SN_FMT_TEXT);
				if (fmts[fi] == SN_FMT_TEXT) {
					assert_true(contains(c.buf, c.len, "******333"));
					assert_int_equal(
						contains(c.buf, c.len, "  raw=111222333\n"),
						reveal);
				} else {
					/* value holds the masked form, or the raw one. */
					assert_true(contains(c.buf, c.len,
							     reveal ? "\"value\":\"111222333\","
								      "\"fingerprint\""
								    : "\"value\":\"******333\","
								      "\"fingerprint\""));
					assert_int_equal(contains(c.buf, c.len, "\"normalized\":"),
							 reveal);
				}
				cap_free(&c);
			}
		}
	}
}

static void test_non_utf8_and_controls_json(void **state)
{
	(void)state;
	capture c;
	sn_sink *s = begin_captured(&c, SN_FMT_NDJSON, 0, 0);

	sn_location bad = {"dir/\xff\xfe.csv", NULL, 0};
	sn_finding f = finding(&bad, "nl.bsn", "bsn", SN_CONF_HIGH, 1, 1, 0, "*******82");
	assert_int_equal(sn_sink_finding(s, &f), 0);

	const char *mem[] = {"ok.zip", "caf\xe9.csv"};
	sn_location badm = {"a.tar", mem, 2};
	sn_file_record r = {&badm, SN_FILE_ERROR, "read-error", "I/O error", 7};
	assert_int_equal(sn_sink_file(s, &r), 0);

	sn_location ctl = {"evil\nname\x1b[31m\t\"q\".csv", NULL, 0};
	sn_file_record r2 = {&ctl, SN_FILE_SKIPPED, "binary", "data\r\n", 0};
	assert_int_equal(sn_sink_file(s, &r2), 0);
	assert_int_equal(sn_sink_end(s, 0.0, 1), 0);
	assert_int_equal(sn_sink_close(s, 1), 0);
	cap_close(&c);

	const char *line[8];
	size_t ln[8];
	assert_int_equal(split_lines(c.buf, c.len, line, ln, 8), 5);
	jfield fl[MAX_FIELDS];
	size_t n = jfields(line[1], ln[1], fl);
	assert_string_equal(fl[4].key, "path");
	assert_string_equal(fl[5].key, "path_b64");
	assert_field(fl, n, "path", "\"dir/\xef\xbf\xbd\xef\xbf\xbd.csv\"");
	assert_field(fl, n, "path_b64", "\"ZGlyL//+LmNzdg==\"");

	n = jfields(line[2], ln[2], fl);
	static const char *const rk[] = {"type",   "path",   "member", "member_b64", "status",
					 "reason", "detail", "bytes",  NULL};
	assert_keys(fl, n, rk);
	assert_field(fl, n, "member", "[\"ok.zip\",\"caf\xef\xbf\xbd.csv\"]");
	assert_field(fl, n, "member_b64", "[\"b2suemlw\",\"Y2Fm6S5jc3Y=\"]");
	assert_field(fl, n, "status", "\"error\"");

	n = jfields(line[3], ln[3], fl);
	assert_null(jget(fl, n, "path_b64")); /* control characters are not lossy */
	assert_field(fl, n, "path", "\"evil\\nname\\u001b[31m\\t\\\"q\\\".csv\"");
	assert_field(fl, n, "detail", "\"data\\r\\n\"");
	assert_null(memchr(c.buf, '\x1b', c.len));

	n = jfields(line[4], ln[4], fl);
	assert_field(fl, n, "interrupted", "true");
	assert_field(fl, n, "complete", "false");
	assert_field(fl, n, "duration_s", "0.000");
	assert_field(fl, n, "throughput_mb_s", "0.0");
	cap_free(&c);
}

/*
 * A thread keeps the last location it serialized.  The scanner reuses one
 * sn_location, and one path buffer, for the next file at the same address:
 * every record must still name its own path and member chain, in every
 * format.
 */
static void test_location_reuse(void **state)
{
	(void)state;
	static const struct {
		const char *path; /* NULL: loc.path = NULL */
		int no_loc;	  /* the finding has no location at all */
		int no_array;	  /* loc.member = NULL */
		size_t nm;
		const char *m0, *m1;
		const char *json; /* the location members as written */
		const char *text;
	} steps[] = {
		{"a/one.csv", 0, 1, 0, NULL, NULL, "\"path\":\"a/one.csv\"", "a/one.csv"},
		{"a/one.csv", 0, 1, 0, NULL, NULL, "\"path\":\"a/one.csv\"", "a/one.csv"},
		{"b/two.csv", 0, 1, 0, NULL, NULL, "\"path\":\"b/two.csv\"", "b/two.csv"},
		{"b/two.csv", 0, 0, 2, "x.zip", "in.csv",
		 "\"path\":\"b/two.csv\",\"member\":[\"x.zip\",\"in.csv\"]",
		 "b/two.csv//x.zip//in.csv"},
		{"b/two.csv", 0, 0, 2, "y.zip", "in.csv",
		 "\"path\":\"b/two.csv\",\"member\":[\"y.zip\",\"in.csv\"]",
		 "b/two.csv//y.zip//in.csv"},
		{"b/two.csv", 0, 0, 1, "y.zip", NULL,
		 "\"path\":\"b/two.csv\",\"member\":[\"y.zip\"]", "b/two.csv//y.zip"},
		{"b/two.csv", 0, 0, 2, "ab", "c",
		 "\"path\":\"b/two.csv\",\"member\":[\"ab\",\"c\"]", "b/two.csv//ab//c"},
		{"b/two.csv", 0, 0, 2, "a", "bc",
		 "\"path\":\"b/two.csv\",\"member\":[\"a\",\"bc\"]", "b/two.csv//a//bc"},
		{"b/two.csv", 0, 0, 2, "x\xff", "c",
		 "\"path\":\"b/two.csv\",\"member\":[\"x\xef\xbf\xbd\",\"c\"],"
		 "\"member_b64\":[\"eP8=\",\"Yw==\"]",
		 "b/two.csv//x\xff//c"},
		{"b/two.csv", 0, 1, 2, NULL, NULL, "\"path\":\"b/two.csv\"", "b/two.csv"},
		{"\xff.csv", 0, 1, 0, NULL, NULL,
		 "\"path\":\"\xef\xbf\xbd.csv\",\"path_b64\":\"/y5jc3Y=\"", "\xff.csv"},
		{"\xfe.csv", 0, 1, 0, NULL, NULL,
		 "\"path\":\"\xef\xbf\xbd.csv\",\"path_b64\":\"/i5jc3Y=\"", "\xfe.csv"},
		{NULL, 0, 1, 0, NULL, NULL, "\"path\":\"\"", ""},
		{NULL, 1, 1, 0, NULL, NULL, "\"path\":\"\"", ""},
		{"a/one.csv", 0, 1, 0, NULL, NULL, "\"path\":\"a/one.csv\"", "a/one.csv"},
	};
	static const sn_format fmts[] = {SN_FMT_NDJSON, SN_FMT_JSON, SN_FMT_TEXT};
	const size_t ns = sizeof steps / sizeof steps[0];

	for (size_t fi = 0; fi < sizeof fmts / sizeof fmts[0]; fi++) {
		char path[32], m0[16], m1[16];
		const char *members[2] = {m0, m1};
		sn_location loc;
		capture c;

		sn_sink *s = begin_captured(&c, fmts[fi], 0, 0);
		for (size_t i = 0; i < ns; i++) {
			strcpy(path, steps[i].path ? steps[i].path : "");
			strcpy(m0, steps[i].m0 ? steps[i].m0 : "");
			strcpy(m1, steps[i].m1 ? steps[i].m1 : "");
			loc.path = steps[i].path ? path : NULL;
			loc.member = steps[i].no_array ? NULL : members;
			loc.nmember = steps[i].nm;
			sn_finding f = finding(steps[i].no_loc ? NULL : &loc, "nl.bsn", "bsn",
					       SN_CONF_HIGH, i + 1, 3, 0, "*******82");
			assert_int_equal(sn_sink_finding(s, &f), 0);
		}
		end_captured(&c, s);

		const char *line[32];
		size_t ln[32];
		size_t nl = split_lines(c.buf, c.len, line, ln, 32);
		/* NDJSON: header first; the document: its opening and the
		 * header; text: the findings come first. */
		size_t first = fmts[fi] == SN_FMT_NDJSON ? 1 : fmts[fi] == SN_FMT_JSON ? 2 : 0;
		assert_true(nl >= first + ns);
		for (size_t i = 0; i < ns; i++) {
			const char *l = line[first + i];
			size_t n = ln[first + i];
			char want[256];
			if (fmts[fi] == SN_FMT_TEXT) {
				snprintf(want, sizeof want, "%s:%zu:3  bsn  high  *******82",
					 steps[i].text, i + 1);
				if (n != strlen(want) || memcmp(l, want, n) != 0)
					fail_msg("step %zu: got '%.*s'", i, (int)n, l);
				continue;
			}
			snprintf(want, sizeof want, "\"confidence\":\"high\",%s,\"line\":%zu,",
				 steps[i].json, i + 1);
			if (!contains(l, n, want))
				fail_msg("format %zu step %zu: got '%.*s'", fi, i, (int)n, l);
			if (fmts[fi] == SN_FMT_JSON) {
				assert_int_equal(l[n - 1], ',');
				n--;
			}
			assert_true(json_valid(l, n));
		}
		cap_free(&c);
	}
}

/*
 * Records far from and near the ceiling of a record (1 MiB): a value whose
 * escaped form could in the worst case pass it is still written whole, byte
 * for byte what the string escaper gives, with the record's other members as
 * usual; a record really over it, or a location that alone is over it, fails
 * the report.
 */
static void test_long_records(void **state)
{
	(void)state;
	const size_t big = 300000, huge = 1200000;
	char *field = malloc(huge + 1);
	assert_non_null(field);
	for (size_t i = 0; i < huge; i++)
		field[i] = i % 997 == 0 ? '"' : i % 1499 == 0 ? '\x01' : (char)('a' + i % 26);
	field[big] = '\0';
	static const char short_field[] = "bsn \"kolom\"\x01";

	/* Each format, a field far from and near the ceiling, without and with
	 * a revealed value (with and without its normalized form). */
	static const sn_format fmts[] = {SN_FMT_NDJSON, SN_FMT_JSON};
	for (size_t fi = 0; fi < 2; fi++) {
		for (int near = 0; near <= 1; near++) {
			const char *fv = near ? field : short_field;
			sn_buf want;
			sn_buf_init(&want, 8 * huge);
			sn_json_string(&want, fv, strlen(fv));
			assert_false(want.failed);
			for (int reveal = 0; reveal <= 2; reveal++) {
				capture c;
				sn_sink *s = begin_captured(&c, fmts[fi], 0, 0);
				sn_location loc = {"long.csv", NULL, 0};
				sn_finding f = finding(&loc, "nl.bsn", "bsn", SN_CONF_HIGH, 1, 1, 0,
						       "*******82");
				f.field = fv;
				f.row = 7;
				if (reveal) {
					f.raw = "1112 22333 and more";
					f.raw_len = 10;
					f.normalized = reveal == 1 ? "111222333" : NULL;
				}
				assert_int_equal(sn_sink_finding(s, &f), 0);
				end_captured(&c, s);

				const char *line[8];
				size_t ln[8];
				size_t nl = split_lines(c.buf, c.len, line, ln, 8);
				size_t at = fmts[fi] == SN_FMT_NDJSON ? 1 : 2;
				assert_true(nl > at);
				/* the document's ',' after the record */
				size_t n = ln[at] - (fmts[fi] == SN_FMT_JSON);
				jfield fl[MAX_FIELDS];
				size_t k = jfields(line[at], n, fl);
				static const char *const fk[] = {
					"type",	  "rule",   "category", "confidence", "path",
					"line",	  "column", "offset",	"value",      "fingerprint",
					"key_id", "field",  "row",	"normalized", NULL};
				static const char *const fk_masked[] = {
					"type",	  "rule",   "category", "confidence", "path",
					"line",	  "column", "offset",	"value",      "fingerprint",
					"key_id", "field",  "row",	NULL};
				assert_keys(fl, k, reveal ? fk : fk_masked);
				const jfield *x = jget(fl, k, "field");
				assert_int_equal(x->n, want.len);
				assert_memory_equal(x->v, want.p, want.len);
				assert_field(fl, k, "path", "\"long.csv\"");
				assert_field(fl, k, "value",
					     reveal ? "\"1112 22333\"" : "\"*******82\"");
				assert_field(fl, k, "fingerprint", FP_HEX);
				assert_field(fl, k, "row", "7");
				assert_field(fl, k, "key_id", "\"a1b2c3d4\"");
				if (reveal)
					assert_field(fl, k, "normalized",
						     reveal == 1 ? "\"111222333\"" : "null");
				cap_free(&c);
			}
			sn_buf_free(&want);
		}
	}

	/* Over the ceiling: a field, or a path (the location alone). */
	static const sn_format all[] = {SN_FMT_NDJSON, SN_FMT_JSON, SN_FMT_TEXT};
	for (size_t fi = 0; fi < 3; fi++) {
		for (int what = 0; what < 2; what++) {
			if (all[fi] == SN_FMT_TEXT && what == 0)
				continue; /* text has no field */
			capture c;
			sn_sink *s = begin_captured(&c, all[fi], 0, 0);
			field[big] = 'x';
			field[huge] = '\0';
			sn_location loc = {what ? field : "x.csv", NULL, 0};
			sn_finding f =
				finding(&loc, "nl.bsn", "bsn", SN_CONF_HIGH, 1, 1, 0, "*******82");
			f.field = what ? NULL : field;
			assert_true(sn_sink_finding(s, &f) < 0);
			sn_sink_stats st;
			sn_sink_get_stats(s, &st);
			assert_int_equal(st.write_failed, 1);
			sn_sink_close(s, 0);
			cap_close(&c);
			assert_false(contains(c.buf, c.len, "long"));
			cap_free(&c);
		}
	}
	free(field);
}

static void test_text_format(void **state)
{
	(void)state;
	capture c;
	sn_sink *s = begin_captured(&c, SN_FMT_TEXT, 0, 0);

	const char *mem[] = {"home/x.zip", "klanten.csv"};
	sn_location nested = {"backup.tar.gz", mem, 2};
	sn_finding f = finding(&nested, "nl.bsn", "bsn", SN_CONF_HIGH, 3, 7, 40, "*******82");
	assert_int_equal(sn_sink_finding(s, &f), 0);

	sn_location evil = {"a\nfake.csv:1:1  bsn  high  x\x1b]0;t\x07.txt", NULL, 0};
	sn_finding g = finding(&evil, "nl.phone", "phone", SN_CONF_LOW, 1, 2, 1, "06******78");
	g.raw = "0612345678";
	g.raw_len = 10;
	assert_int_equal(sn_sink_finding(s, &g), 0);

	sn_location png = {"photos/a.png", NULL, 0};
	sn_file_record r = {&png, SN_FILE_SKIPPED, "image", "PNG image", 0};
	assert_int_equal(sn_sink_file(s, &r), 0);
	sn_location big = {"dump.sql", NULL, 0};
	sn_file_record r2 = {&big, SN_FILE_INCOMPLETE, "too-large", NULL, 10};
	assert_int_equal(sn_sink_file(s, &r2), 0);
	sn_sink_note_scanned(s, 2500000);
	sn_sink_note_below(s, "postcode", SN_CONF_LOW);
	assert_int_equal(sn_sink_end(s, 1.25, 1), 0);
	assert_int_equal(sn_sink_close(s, 1), 0);
	cap_close(&c);

	const char *line[16];
	size_t ln[16];
	size_t n = split_lines(c.buf, c.len, line, ln, 16);
	static const char *const want[] = {
		"backup.tar.gz//home/x.zip//klanten.csv:3:7  bsn  high  *******82",
		"a\\x0afake.csv:1:1  bsn  high  x\\x1b]0;t\\x07.txt:1:2  phone  low  06******78"
		"  raw=0612345678",
		"photos/a.png: skipped (image: PNG image)",
		"dump.sql: incomplete (too-large)",
		"",
		"Scanned 1 files (2.5 MB) in 1.3 s: 2 findings (1 high, 0 medium, 1 low); "
		"1 skipped (1 image), 1 incomplete, 0 errors; interrupted.",
		"  bsn: 1 (1 high, 0 medium, 0 low)",
		"  phone: 1 (0 high, 0 medium, 1 low)",
		"  postcode: 0 (0 high, 0 medium, 0 low), 1 below threshold",
	};
	assert_int_equal(n, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < n; i++) {
		if (ln[i] != strlen(want[i]) || memcmp(line[i], want[i], ln[i]) != 0)
			fail_msg("line %zu: got '%.*s'", i, (int)ln[i], line[i]);
	}
	assert_null(memchr(c.buf, '\x1b', c.len));
	assert_null(memchr(c.buf, '\x07', c.len));
	cap_free(&c);

	/* Colour: category bold, confidence coloured, ledger lines dim/yellow. */
	s = begin_captured(&c, SN_FMT_TEXT, 1, 0);
	assert_int_equal(sn_sink_finding(s, &f), 0);
	assert_int_equal(sn_sink_file(s, &r), 0);
	assert_int_equal(sn_sink_file(s, &r2), 0);
	assert_int_equal(sn_sink_close(s, 1), 0);
	cap_close(&c);
	assert_true(contains(c.buf, c.len, "\x1b[1mbsn\x1b[0m  \x1b[31mhigh\x1b[0m  *******82"));
	assert_true(contains(c.buf, c.len, "\x1b[2mphotos/a.png: skipped"));
	assert_true(contains(c.buf, c.len, "\x1b[33mdump.sql: incomplete"));
	cap_free(&c);
}

static int count_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static void test_output_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/sn-test-sink.XXXXXX";
	char path[PATH_MAX];
	struct stat st;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/report.ndjson", dir);

	/* An existing report is replaced, and the new one is 0600 even with
	 * umask 0. */
	FILE *old = fopen(path, "w");
	assert_non_null(old);
	fputs("old\n", old);
	fclose(old);
	assert_int_equal(chmod(path, 0644), 0);

	mode_t um = umask(0);
	sn_sink_options o = {.format = SN_FMT_NDJSON, .path = path};
	sn_sink *s = NULL;
	assert_int_equal(sn_sink_open(&s, &o), 0);
	umask(um);
	assert_int_equal(count_entries(dir, "report.ndjson.tmp."), 1);
	sn_scan_header h = header();
	assert_int_equal(sn_sink_begin(s, &h), 0);
	assert_int_equal(sn_sink_end(s, 1.0, 0), 0);
	assert_int_equal(sn_sink_close(s, 1), 0);
	assert_int_equal(count_entries(dir, "report.ndjson.tmp."), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	FILE *in = fopen(path, "r");
	char buf[4096];
	size_t n = fread(buf, 1, sizeof buf, in);
	fclose(in);
	assert_true(n > 0 && buf[n - 1] == '\n');
	assert_true(contains(buf, n, "{\"type\":\"scan\""));
	assert_true(contains(buf, n, "{\"type\":\"summary\""));
	assert_false(contains(buf, n, "old\n"));
	assert_int_equal(unlink(path), 0);

	/* commit = 0 leaves nothing behind. */
	s = NULL;
	assert_int_equal(sn_sink_open(&s, &o), 0);
	assert_int_equal(sn_sink_begin(s, &h), 0);
	assert_int_equal(sn_sink_close(s, 0), 0);
	assert_int_equal(count_entries(dir, "report"), 0);

	/* A directory as the target, or a missing parent, fails at open. */
	o.path = dir;
	assert_int_equal(sn_sink_open(&s, &o), SN_EINVAL);
	snprintf(path, sizeof path, "%s/missing/report", dir);
	o.path = path;
	assert_int_equal(sn_sink_open(&s, &o), SN_EIO);
	assert_int_equal(rmdir(dir), 0);
}

static void test_write_failure(void **state)
{
	(void)state;
	FILE *full = fopen("/dev/full", "w");
	if (!full)
		skip();
	sn_sink *s = open_stream(SN_FMT_NDJSON, full, 0, 0);
	sn_scan_header h = header();
	sn_location loc = {"x.csv", NULL, 0};
	sn_finding f = finding(&loc, "nl.bsn", "bsn", SN_CONF_HIGH, 1, 1, 0, "*******82");
	int rc = sn_sink_begin(s, &h), failed_at = -1;

	/* Enough records to fill a thread's batch and stdio's buffer: the
	 * failure surfaces in a record call, and every later call keeps
	 * failing. */
	for (int i = 0; i < 2000; i++) {
		rc = sn_sink_finding(s, &f);
		if (rc != 0 && failed_at < 0)
			failed_at = i;
		if (failed_at >= 0)
			assert_int_equal(rc, SN_EIO);
	}
	assert_true(failed_at >= 0);
	sn_sink_stats st;
	sn_sink_get_stats(s, &st);
	assert_int_equal(st.write_failed, 1);
	assert_int_equal(st.write_errno, ENOSPC);
	assert_int_equal(st.findings, 2000); /* still counted */
	assert_int_equal(sn_sink_end(s, 1.0, 0), SN_EIO);
	assert_int_equal(sn_sink_close(s, 1), SN_EIO);
	fclose(full);

	/* A small report fails at the end (flush) instead. */
	full = fopen("/dev/full", "w");
	s = open_stream(SN_FMT_JSON, full, 0, 0);
	assert_int_equal(sn_sink_begin(s, &h), 0);
	assert_int_equal(sn_sink_end(s, 1.0, 0), SN_EIO);
	sn_sink_get_stats(s, &st);
	assert_int_equal(st.write_errno, ENOSPC);
	assert_int_equal(sn_sink_close(s, 1), SN_EIO);
	fclose(full);

	/* A reader that went away (speurneus | head): with SIGPIPE ignored, as
	 * the CLI does, the write fails with EPIPE. */
	int fds[2];
	void (*old_handler)(int) = signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	FILE *w = fdopen(fds[1], "w");
	assert_non_null(w);
	s = open_stream(SN_FMT_NDJSON, w, 0, 0);
	assert_int_equal(sn_sink_begin(s, &h), 0);
	assert_int_equal(sn_sink_end(s, 1.0, 0), SN_EIO);
	sn_sink_get_stats(s, &st);
	assert_int_equal(st.write_failed, 1);
	assert_int_equal(st.write_errno, EPIPE);
	assert_int_equal(sn_sink_finding(s, &f), SN_EIO);
	assert_int_equal(sn_sink_close(s, 1), SN_EIO);
	fclose(w);
	signal(SIGPIPE, old_handler);
}

#define NTHREADS 4
#define PER_THREAD 10000

typedef struct worker {
	sn_sink *s;
	int id;
	int errors;
} worker;

static void *work(void *arg)
{
	worker *w = arg;
	char path[64];
	static const char *const cats[] = {"bsn", "iban", "phone", "email"};
	snprintf(path, sizeof path, "thread-%d/data.csv", w->id);
	sn_location loc = {path, NULL, 0};
	for (int i = 0; i < PER_THREAD; i++) {
		sn_finding f = finding(&loc, "rule", cats[i % 4], (sn_confidence)(1 + i % 3),
				       (uint64_t)i + 1, 1, (uint64_t)i * 10, "*********");
		if (sn_sink_finding(w->s, &f) != 0)
			w->errors++;
		sn_sink_note_below(w->s, cats[w->id], SN_CONF_LOW);
		if (i % 1000 == 0) {
			sn_file_record r = {&loc, SN_FILE_SKIPPED, "binary", NULL, 1};
			if (sn_sink_file(w->s, &r) != 0)
				w->errors++;
		}
		sn_sink_note_scanned(w->s, 1);
	}
	return NULL;
}

static void test_concurrent_writers(void **state)
{
	(void)state;
	capture c;
	sn_sink *s = begin_captured(&c, SN_FMT_NDJSON, 0, 0);
	pthread_t t[NTHREADS];
	worker w[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (worker){s, i, 0};
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].errors, 0);
	}
	end_captured(&c, s);

	size_t findings = 0, files = 0, lines = 0, start = 0;
	for (size_t i = 0; i < c.len; i++) {
		if (c.buf[i] != '\n')
			continue;
		const char *l = c.buf + start;
		size_t n = i - start;
		assert_true(json_valid(l, n));
		if (n > 18 && memcmp(l, "{\"type\":\"finding\",", 18) == 0)
			findings++;
		else if (n > 15 && memcmp(l, "{\"type\":\"file\",", 15) == 0)
			files++;
		lines++;
		start = i + 1;
	}
	assert_int_equal(start, c.len);
	assert_int_equal(findings, NTHREADS * PER_THREAD);
	assert_int_equal(files, NTHREADS * (PER_THREAD / 1000));
	assert_int_equal(lines, 2 + findings + files);
	assert_true(contains(c.buf, c.len, "\"findings\":{\"total\":40000,"));
	assert_true(contains(c.buf, c.len,
			     "\"below_threshold\":{\"total\":40000,\"by_category\":"
			     "{\"bsn\":10000,\"email\":10000,\"iban\":10000,\"phone\":10000}}"));
	assert_true(contains(c.buf, c.len, "\"files_scanned\":40000,"));
	cap_free(&c);
}

static void test_sort_path(void **state)
{
	(void)state;
	const char *m_ab[] = {"a.zip", "b.csv"};
	const char *m_a[] = {"a.zip"};
	const char *m_hi[] = {"\xc3\xa9.csv"}; /* sorts after ASCII as bytes */
	sn_location l_z = {"z.csv", NULL, 0};
	sn_location l_a = {"a.csv", NULL, 0};
	sn_location l_tar_ab = {"t.tar", m_ab, 2};
	sn_location l_tar_a = {"t.tar", m_a, 1};
	sn_location l_tar_hi = {"t.tar", m_hi, 1};

	/* In the wanted order; fed to the sink in a scrambled one. */
	struct {
		const sn_location *loc;
		int file;
		uint64_t off, col;
		const char *rule;
	} want[] = {
		{&l_a, 0, 5, 1, "nl.bsn"},	  {&l_a, 0, 5, 1, "nl.iban"},
		{&l_a, 0, 9, 2, "nl.bsn"},	  {&l_a, 1, 0, 0, NULL},
		{&l_tar_a, 0, 1, 1, "nl.bsn"},	  {&l_tar_ab, 0, 0, 1, "nl.bsn"},
		{&l_tar_ab, 0, 100, 1, "nl.bsn"}, {&l_tar_hi, 1, 0, 0, NULL},
		{&l_z, 0, 0, 1, "nl.bsn"},
	};
	static const int order[] = {8, 3, 6, 0, 7, 2, 5, 1, 4};
	const size_t nw = sizeof want / sizeof want[0];

	capture c;
	sn_sink *s = begin_captured(&c, SN_FMT_NDJSON, 0, 1);
	for (size_t k = 0; k < nw; k++) {
		size_t i = (size_t)order[k];
		if (want[i].file) {
			sn_file_record r = {want[i].loc, SN_FILE_SKIPPED, "binary", NULL, 0};
			assert_int_equal(sn_sink_file(s, &r), 0);
		} else {
			sn_finding f = finding(want[i].loc, want[i].rule, "bsn", SN_CONF_HIGH, 1,
					       want[i].col, want[i].off, "*");
			assert_int_equal(sn_sink_finding(s, &f), 0);
		}
	}
	/* Nothing but the header is written before the end. */
	fflush(c.f);
	assert_int_equal((const char *)memchr(c.buf, '\n', c.len) - c.buf + 1, (long)c.len);
	end_captured(&c, s);

	const char *line[32];
	size_t ln[32];
	assert_int_equal(split_lines(c.buf, c.len, line, ln, 32), nw + 2);
	assert_true(contains(line[0], ln[0], "\"type\":\"scan\""));
	assert_true(contains(line[nw + 1], ln[nw + 1], "\"type\":\"summary\""));
	for (size_t i = 0; i < nw; i++) {
		jfield fl[MAX_FIELDS];
		size_t n = jfields(line[i + 1], ln[i + 1], fl);
		char want_path[64];
		snprintf(want_path, sizeof want_path, "\"%s\"", want[i].loc->path);
		assert_field(fl, n, "path", want_path);
		assert_field(fl, n, "type", want[i].file ? "\"file\"" : "\"finding\"");
		if (!want[i].file) {
			char num[32], rule[32];
			snprintf(num, sizeof num, "%llu", (unsigned long long)want[i].off);
			assert_field(fl, n, "offset", num);
			snprintf(rule, sizeof rule, "\"%s\"", want[i].rule);
			assert_field(fl, n, "rule", rule);
		}
		const jfield *m = jget(fl, n, "member");
		assert_int_equal(m != NULL, want[i].loc->nmember > 0);
		if (m) {
			const sn_location *l = want[i].loc;
			assert_true(contains(m->v, m->n, l->member[l->nmember - 1]));
		}
	}
	cap_free(&c);
}

static void test_json_document(void **state)
{
	(void)state;
	capture c;
	sn_sink *s = begin_captured(&c, SN_FMT_JSON, 0, 0);
	sn_location loc = {"d/\xff.csv", NULL, 0};
	for (int i = 0; i < 3; i++) {
		sn_finding f = finding(&loc, "nl.bsn", "bsn", SN_CONF_HIGH, 1, 1, (uint64_t)i,
				       "*******82");
		assert_int_equal(sn_sink_finding(s, &f), 0);
	}
	sn_file_record r = {&loc, SN_FILE_ERROR, "permission-denied", NULL, 0};
	assert_int_equal(sn_sink_file(s, &r), 0);
	end_captured(&c, s);

	assert_true(json_valid(c.buf, c.len));
	jfield fl[MAX_FIELDS];
	size_t n = jfields(c.buf, c.len, fl);
	static const char *const dk[] = {"version", "records", NULL};
	assert_keys(fl, n, dk);
	assert_field(fl, n, "version", "1");
	/* One record per line: opening, header, 3 findings, file, summary, close. */
	const char *line[16];
	size_t ln[16];
	assert_int_equal(split_lines(c.buf, c.len, line, ln, 16), 8);
	assert_true(ln[1] > 0 && contains(line[1], ln[1], "{\"type\":\"scan\""));
	assert_true(contains(line[6], ln[6], "{\"type\":\"summary\""));
	for (size_t i = 1; i <= 5; i++)
		assert_int_equal(line[i][ln[i] - 1], ',');
	assert_int_equal(ln[7], 2);
	assert_memory_equal(line[7], "]}", 2);
	assert_true(contains(c.buf, c.len, "\"complete\":false"));
	cap_free(&c);

	/* A JSON sink closed without sn_sink_end still yields one document. */
	s = begin_captured(&c, SN_FMT_JSON, 0, 1);
	sn_finding f = finding(&loc, "nl.bsn", "bsn", SN_CONF_HIGH, 1, 1, 0, "*******82");
	assert_int_equal(sn_sink_finding(s, &f), 0);
	assert_int_equal(sn_sink_close(s, 0), 0);
	cap_close(&c);
	assert_true(json_valid(c.buf, c.len));
	assert_false(contains(c.buf, c.len, "\"summary\""));
	cap_free(&c);

	/* Without a header record the first finding opens the records with
	 * no separator before it. */
	cap_open(&c);
	s = open_stream(SN_FMT_JSON, c.f, 0, 0);
	assert_int_equal(sn_sink_finding(s, &f), 0);
	assert_int_equal(sn_sink_finding(s, &f), 0);
	end_captured(&c, s);
	assert_true(json_valid(c.buf, c.len));
	assert_int_equal(split_lines(c.buf, c.len, line, ln, 16), 5);
	assert_true(ln[1] > 18 && memcmp(line[1], "{\"type\":\"finding\",", 18) == 0);
	assert_int_equal(line[1][ln[1] - 1], ',');
	assert_true(contains(line[3], ln[3], "{\"type\":\"summary\""));
	cap_free(&c);
}

static void test_summary_counts(void **state)
{
	(void)state;
	capture c;
	sn_sink *s = begin_captured(&c, SN_FMT_NDJSON, 0, 0);
	sn_location loc = {"f.txt", NULL, 0};
	static const struct {
		const char *cat;
		sn_confidence c;
		int n;
	} fnd[] = {
		{"bsn", SN_CONF_HIGH, 2},
		{"bsn", SN_CONF_MEDIUM, 1},
		{"kenteken", SN_CONF_LOW, 3}, /* a category only a user rule knows */
		{"email", SN_CONF_HIGH, 1},
	};
	for (size_t i = 0; i < sizeof fnd / sizeof fnd[0]; i++) {
		for (int k = 0; k < fnd[i].n; k++) {
			sn_finding f = finding(&loc, "r", fnd[i].cat, fnd[i].c, 1, 1, 0, "*");
			assert_int_equal(sn_sink_finding(s, &f), 0);
		}
	}
	static const struct {
		sn_file_status st;
		const char *reason;
	} recs[] = {
		{SN_FILE_SKIPPED, "binary"},	      {SN_FILE_SKIPPED, "binary"},
		{SN_FILE_SKIPPED, "binary"},	      {SN_FILE_SKIPPED, "symlink"},
		{SN_FILE_ERROR, "permission-denied"}, {SN_FILE_INCOMPLETE, "archive"},
		{SN_FILE_INCOMPLETE, "too-large"},
	};
	for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++) {
		sn_file_record r = {&loc, recs[i].st, recs[i].reason, NULL, 0};
		assert_int_equal(sn_sink_file(s, &r), 0);
	}
	sn_file_record scanned = {&loc, SN_FILE_SCANNED, "x", NULL, 0};
	assert_int_equal(sn_sink_file(s, &scanned), SN_EINVAL);
	sn_sink_note_below(s, "phone", SN_CONF_LOW);
	sn_sink_note_below(s, "phone", SN_CONF_MEDIUM);
	sn_sink_note_below(s, "bsn", SN_CONF_LOW);

	sn_sink_stats st;
	sn_sink_get_stats(s, &st);
	assert_int_equal(st.findings, 7);
	assert_int_equal(st.findings_by_conf[SN_CONF_HIGH], 3);
	assert_int_equal(st.findings_by_conf[SN_CONF_MEDIUM], 1);
	assert_int_equal(st.findings_by_conf[SN_CONF_LOW], 3);
	assert_int_equal(st.skipped, 4);
	assert_int_equal(st.incomplete, 2);
	assert_int_equal(st.errors, 1);
	assert_int_equal(st.write_failed, 0);

	assert_int_equal(sn_sink_end(s, 0.5, 0), 0);
	assert_int_equal(sn_sink_end(s, 0.5, 0), SN_EINVAL);
	assert_int_equal(sn_sink_close(s, 1), 0);
	cap_close(&c);

	const char *line[32];
	size_t ln[32];
	size_t nl = split_lines(c.buf, c.len, line, ln, 32);
	assert_int_equal(nl, 1 + 7 + 7 + 1);
	jfield fl[MAX_FIELDS];
	size_t n = jfields(line[nl - 1], ln[nl - 1], fl);
	assert_field(fl, n, "status", "{\"skipped\":4,\"incomplete\":2,\"error\":1}");
	assert_field(fl, n, "reasons",
		     "{\"skipped\":{\"binary\":3,\"symlink\":1},"
		     "\"incomplete\":{\"archive\":1,\"too-large\":1},"
		     "\"error\":{\"permission-denied\":1}}");
	assert_field(fl, n, "findings",
		     "{\"total\":7,\"by_category\":{"
		     "\"bsn\":{\"low\":0,\"medium\":1,\"high\":2},"
		     "\"email\":{\"low\":0,\"medium\":0,\"high\":1},"
		     "\"kenteken\":{\"low\":3,\"medium\":0,\"high\":0}},"
		     "\"by_confidence\":{\"low\":3,\"medium\":1,\"high\":3}}");
	assert_field(fl, n, "below_threshold",
		     "{\"total\":3,\"by_category\":{\"bsn\":1,\"phone\":2}}");
	assert_field(fl, n, "complete", "false");
	assert_field(fl, n, "duration_s", "0.500");
	cap_free(&c);

	/* Nothing incomplete and not interrupted: complete. */
	s = begin_captured(&c, SN_FMT_NDJSON, 0, 0);
	sn_file_record sk = {&loc, SN_FILE_SKIPPED, "binary", NULL, 0};
	assert_int_equal(sn_sink_file(s, &sk), 0);
	assert_int_equal(sn_sink_end(s, 0.5, 0), 0);
	assert_int_equal(sn_sink_close(s, 1), 0);
	cap_close(&c);
	assert_true(contains(c.buf, c.len, "\"interrupted\":false,\"complete\":true}\n"));
	cap_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_json_string_paths_agree),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_ndjson_records),
		cmocka_unit_test(test_canary_raw_only_with_reveal),
		cmocka_unit_test(test_non_utf8_and_controls_json),
		cmocka_unit_test(test_location_reuse),
		cmocka_unit_test(test_long_records),
		cmocka_unit_test(test_text_format),
		cmocka_unit_test(test_output_file),
		cmocka_unit_test(test_write_failure),
		cmocka_unit_test(test_concurrent_writers),
		cmocka_unit_test(test_sort_path),
		cmocka_unit_test(test_json_document),
		cmocka_unit_test(test_summary_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
