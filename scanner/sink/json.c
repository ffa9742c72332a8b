/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * JSON serializer for the NDJSON stream and the JSON document (the record
 * shapes are the versioned output contract; see sink.h and the README).
 *
 * Strings are escaped per RFC 8259: '"' and '\\' are escaped, control
 * characters use the short forms (\b \f \n \r \t) or \u00XX.  DEL, the C1
 * controls U+0080..U+009F and U+2028/U+2029 are escaped as \uXXXX as well, so
 * a report printed to a terminal or pasted into JavaScript cannot carry
 * control sequences.  Valid UTF-8 passes through unchanged.
 *
 * Findings are most of the output (a dense export has one on every line), so
 * their records are written in one piece into reserved room, with the path,
 * member chain and key_id escaped once per run of findings that share them
 * (sn_sink_cache); the field-by-field writer remains for records near the
 * ceiling of their buffer.  Both give the same bytes.
 *
 * File names are bytes, not text: a byte that is not part of a valid UTF-8
 * sequence becomes U+FFFD, which would make the name ambiguous.  Whenever that
 * happens the record gets an extra member right after the lossy one: for
 * "path" a "path_b64" string, for "member" a "member_b64" array (one entry per
 * member), holding the exact bytes in standard base64 with padding.  A
 * consumer that needs the real name uses the *_b64 member when present.
 */
#include "sink/sink_format.h"

#include <inttypes.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

size_t sn_sink_utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	unsigned lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* UTF-16 surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* The two hex digits of every byte value. */
static const char hex_pairs[] = "000102030405060708090a0b0c0d0e0f"
				"101112131415161718191a1b1c1d1e1f"
				"202122232425262728292a2b2c2d2e2f"
				"303132333435363738393a3b3c3d3e3f"
				"404142434445464748494a4b4c4d4e4f"
				"505152535455565758595a5b5c5d5e5f"
				"606162636465666768696a6b6c6d6e6f"
				"707172737475767778797a7b7c7d7e7f"
				"808182838485868788898a8b8c8d8e8f"
				"909192939495969798999a9b9c9d9e9f"
				"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
				"b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
				"c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
				"d0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
				"e0e1e2e3e4e5e6e7e8e9eaebecedeeef"
				"f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* A fingerprint's hex; the bytes are copied first, so the stores into the
 * record cannot make the compiler read them again. */
static char *put_fingerprint_to(char *w, const uint8_t *fp)
{
	uint8_t v[SN_FINGERPRINT_LEN];

	memcpy(v, fp, sizeof v);
	for (size_t i = 0; i < sizeof v; i++)
		memcpy(w + 2 * i, hex_pairs + 2 * v[i], 2);
	return w + 2 * sizeof v;
}

/* Bytes a JSON string carries unchanged: printable ASCII but '"' and '\\'. */
static const unsigned char json_plain[256] = {
	/* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x10 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x20 */ 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 0x30 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 0x40 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 0x50 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	/* 0x60 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 0x70 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
	/* 0x80..0xff: UTF-8 sequences are checked one by one */
};

/* Longest output of one escaped input byte (\u00XX); every string costs at
 * most JSON_ESC_MAX * n + 2 bytes with its quotes. */
#define JSON_ESC_MAX 6

/* The escaped form of the byte or UTF-8 sequence at p[0..n), which is not
 * plain: written to out (up to JSON_ESC_MAX bytes, never more than
 * JSON_ESC_MAX per byte consumed), its length in *outlen.  Returns the number
 * of input bytes consumed. */
static size_t json_special(const unsigned char *p, size_t n, char *out, size_t *outlen, int *lossy)
{
	unsigned c = p[0];
	const char *esc = NULL;
	size_t len;

	switch (c) {
	case '"': esc = "\\\""; break;
	case '\\': esc = "\\\\"; break;
	case '\b': esc = "\\b"; break;
	case '\f': esc = "\\f"; break;
	case '\n': esc = "\\n"; break;
	case '\r': esc = "\\r"; break;
	case '\t': esc = "\\t"; break;
	default: break;
	}
	if (esc) {
		memcpy(out, esc, 2);
		*outlen = 2;
		return 1;
	}
	if (c < 0x80) { /* the other controls and DEL */
		memcpy(out, "\\u00", 4);
		memcpy(out + 4, hex_pairs + 2 * c, 2);
		*outlen = 6;
		return 1;
	}
	len = sn_sink_utf8_len(p, n);
	if (len == 0) {
		memcpy(out, "\xef\xbf\xbd", 3); /* U+FFFD */
		*outlen = 3;
		*lossy = 1;
		return 1;
	}
	if (len == 2 && c == 0xc2 && p[1] <= 0x9f) {
		memcpy(out, "\\u00", 4);
		memcpy(out + 4, hex_pairs + 2 * p[1], 2);
		*outlen = 6;
		return 2;
	}
	if (len == 3 && c == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
		memcpy(out, p[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
		*outlen = 6;
		return 3;
	}
	memcpy(out, p, len);
	*outlen = len;
	return len;
}

/* s[0..n) as a JSON string literal at w, which has room for
 * JSON_ESC_MAX * n + 2 bytes; returns the end of what was written. */
static char *json_escape_to(char *w, const char *s, size_t n, int *lossy)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	*w++ = '"';
	while (i < n) {
		while (i < n && json_plain[p[i]])
			*w++ = (char)p[i++];
		if (i < n) {
			size_t k;
			i += json_special(p + i, n - i, w, &k, lossy);
			w += k;
		}
	}
	*w++ = '"';
	return w;
}

/* Whether `n` string bytes, escaped at their worst, fit under b's ceiling. */
static int json_fits(const sn_buf *b, size_t n, size_t extra)
{
	size_t room = b->max > b->len ? b->max - b->len : 0;
	return !b->failed && extra <= room && n <= (room - extra) / JSON_ESC_MAX;
}

int sn_json_string(sn_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	int lossy = 0;

	if (json_fits(b, n, 2)) {
		if (sn_buf_reserve(b, JSON_ESC_MAX * n + 2) < 0)
			return 0;
		char *w = json_escape_to(b->p + b->len, s, n, &lossy);
		b->len = (size_t)(w - b->p);
		b->p[b->len] = '\0';
		return lossy;
	}
	/* Near the ceiling the worst case may not fit while the real text
	 * does: append piece by piece, so the buffer fails only if it must. */
	sn_buf_putc(b, '"');
	while (i < n) {
		char u[JSON_ESC_MAX];
		size_t k;

		if (json_plain[p[i]]) {
			i++;
			run++;
			continue;
		}
		sn_buf_put(b, (const char *)p + i - run, run);
		run = 0;
		i += json_special(p + i, n - i, u, &k, &lossy);
		sn_buf_put(b, u, k);
	}
	sn_buf_put(b, (const char *)p + i - run, run);
	sn_buf_putc(b, '"');
	return lossy;
}

void sn_base64(sn_buf *b, const unsigned char *s, size_t n)
{
	/* Whole groups of 3 bytes per chunk, so padding only ever appears at
	 * the very end. */
	enum { CHUNK = 48 };
	char out[sodium_base64_ENCODED_LEN(CHUNK, sodium_base64_VARIANT_ORIGINAL)];

	while (n > 0) {
		size_t k = n < CHUNK ? n : CHUNK;
		sodium_bin2base64(out, sizeof out, s, k, sodium_base64_VARIANT_ORIGINAL);
		sn_buf_puts(b, out);
		s += k;
		n -= k;
	}
}

static void jstr(sn_buf *b, const char *s)
{
	if (!s)
		s = "";
	sn_json_string(b, s, strlen(s));
}

static void jkey(sn_buf *b, const char *key)
{
	sn_buf_putc(b, ',');
	sn_buf_putc(b, '"');
	sn_buf_puts(b, key);
	sn_buf_puts(b, "\":");
}

/* Decimal digits without printf: every finding has three numbers, and
 * vfprintf was a visible part of a dense scan's profile. */
static char *put_u64_to(char *w, uint64_t v)
{
	char d[20];
	size_t n = 0;
	do {
		d[sizeof d - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(w, d + sizeof d - n, n);
	return w + n;
}

void sn_sink_put_u64(sn_buf *b, uint64_t v)
{
	char d[20];
	sn_buf_put(b, d, (size_t)(put_u64_to(d, v) - d));
}

static void put_i64(sn_buf *b, int64_t v)
{
	if (v < 0) {
		sn_buf_putc(b, '-');
		sn_sink_put_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		sn_sink_put_u64(b, (uint64_t)v);
	}
}

static void jb64(sn_buf *b, const char *s)
{
	sn_buf_putc(b, '"');
	sn_base64(b, (const unsigned char *)s, strlen(s));
	sn_buf_putc(b, '"');
}

void sn_sink_put_fixed(sn_buf *b, double value, unsigned decimals)
{
	static const unsigned scale[] = {1, 10, 100, 1000};
	uint64_t v;

	if (decimals > 3)
		decimals = 3;
	/* !(x > 0) also catches NaN; the upper bound keeps the cast defined. */
	if (!(value > 0))
		value = 0;
	value = value * scale[decimals] + 0.5;
	v = value < 1.8e19 ? (uint64_t)value : UINT64_MAX;
	sn_buf_printf(b, "%" PRIu64, v / scale[decimals]);
	if (decimals)
		sn_buf_printf(b, ".%0*u", (int)decimals, (unsigned)(v % scale[decimals]));
}

/* "path" (+ "path_b64") and, for members, "member" (+ "member_b64"). */
static void json_location(sn_buf *b, const sn_location *loc)
{
	const char *path = loc && loc->path ? loc->path : "";
	size_t nmember = loc && loc->member ? loc->nmember : 0;
	int lossy = 0;

	jkey(b, "path");
	if (sn_json_string(b, path, strlen(path))) {
		jkey(b, "path_b64");
		jb64(b, path);
	}
	if (nmember == 0)
		return;
	jkey(b, "member");
	sn_buf_putc(b, '[');
	for (size_t i = 0; i < nmember; i++) {
		const char *m = loc->member[i] ? loc->member[i] : "";
		if (i)
			sn_buf_putc(b, ',');
		lossy |= sn_json_string(b, m, strlen(m));
	}
	sn_buf_putc(b, ']');
	if (!lossy)
		return;
	jkey(b, "member_b64");
	sn_buf_putc(b, '[');
	for (size_t i = 0; i < nmember; i++) {
		if (i)
			sn_buf_putc(b, ',');
		jb64(b, loc->member[i] ? loc->member[i] : "");
	}
	sn_buf_putc(b, ']');
}

void sn_sink_json_header(sn_buf *b, const sn_scan_header *h)
{
	char when[32] = "";
	struct tm tm;
	double started = h->started > 0 && h->started < 253402300800.0 ? h->started : 0;
	time_t t = (time_t)started;

	if (gmtime_r(&t, &tm))
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	sn_buf_puts(b, "{\"type\":\"scan\",\"version\":1,\"tool\":\"speurneus\"");
	jkey(b, "tool_version");
	jstr(b, h->tool_version);
	jkey(b, "rules_digest");
	jstr(b, h->rules_digest);
	jkey(b, "key_id");
	jstr(b, h->key_id);
	jkey(b, "host");
	jstr(b, h->host);
	jkey(b, "roots");
	sn_buf_putc(b, '[');
	for (size_t i = 0; h->roots && i < h->nroots; i++) {
		if (i)
			sn_buf_putc(b, ',');
		jstr(b, h->roots[i]);
	}
	sn_buf_putc(b, ']');
	jkey(b, "started");
	jstr(b, when);
	jkey(b, "threads");
	sn_buf_printf(b, "%u", h->threads);
	jkey(b, "min_confidence");
	jstr(b, h->min_confidence ? h->min_confidence : "none");
	jkey(b, "reveal");
	sn_buf_puts(b, h->reveal ? "true" : "false");
	sn_buf_putc(b, '}');
}

void sn_sink_cache_init(sn_sink_cache *c, size_t max)
{
	sn_buf_init(&c->loc_key, max);
	sn_buf_init(&c->loc, max);
	sn_buf_init(&c->kid, max);
	c->nmember = 0;
	c->loc_valid = c->kid_valid = 0;
}

void sn_sink_cache_free(sn_sink_cache *c)
{
	sn_buf_free(&c->loc_key);
	sn_buf_free(&c->loc);
	sn_buf_free(&c->kid);
	c->loc_valid = c->kid_valid = 0;
}

/* Whether the key continues at *off with exactly the string s and its NUL;
 * moves *off past it when it does. */
static int key_next(const sn_buf *key, size_t *off, const char *s)
{
	size_t n = strlen(s) + 1;

	if (key->len - *off < n || memcmp(key->p + *off, s, n) != 0)
		return 0;
	*off += n;
	return 1;
}

static void key_add(sn_buf *key, const char *s)
{
	sn_buf_put(key, s, strlen(s) + 1);
}

const sn_buf *sn_sink_cache_loc(sn_sink_cache *c, const sn_location *loc,
				void (*build)(sn_buf *b, const sn_location *loc))
{
	/* The same defaults as the serializers: no path is "", no member array
	 * is no members, a NULL member is "". */
	const char *path = loc && loc->path ? loc->path : "";
	size_t nmember = loc && loc->member ? loc->nmember : 0;
	size_t off = 0, i;

	if (c->loc_valid && c->nmember == nmember && key_next(&c->loc_key, &off, path)) {
		for (i = 0; i < nmember; i++)
			if (!key_next(&c->loc_key, &off, loc->member[i] ? loc->member[i] : ""))
				break;
		if (i == nmember && off == c->loc_key.len)
			return &c->loc;
	}
	c->loc_valid = 0;
	sn_buf_reset(&c->loc_key);
	sn_buf_reset(&c->loc);
	key_add(&c->loc_key, path);
	for (i = 0; i < nmember; i++)
		key_add(&c->loc_key, loc->member[i] ? loc->member[i] : "");
	build(&c->loc, loc);
	if (c->loc_key.failed || c->loc.failed)
		return NULL;
	c->nmember = nmember;
	c->loc_valid = 1;
	return &c->loc;
}

/* ,"key_id":"..." from the cache, made with its first finding: a cache
 * serves one sink, whose key_id does not change. */
static const sn_buf *cache_key_id(sn_sink_cache *c, const char *key_id)
{
	if (c->kid_valid)
		return &c->kid;
	jkey(&c->kid, "key_id");
	jstr(&c->kid, key_id ? key_id : "");
	if (c->kid.failed)
		return NULL;
	c->kid_valid = 1;
	return &c->kid;
}

/* Field by field through the sn_buf appends; the reference for the record
 * shape, and the way when a record may come near its buffer's ceiling. */
static void json_finding_appends(sn_buf *b, const sn_finding *f, const char *key_id)
{
	sn_buf_puts(b, "{\"type\":\"finding\"");
	jkey(b, "rule");
	jstr(b, f->rule_id);
	jkey(b, "category");
	jstr(b, f->category);
	jkey(b, "confidence");
	jstr(b, sn_confidence_name(f->confidence));
	json_location(b, f->loc);
	jkey(b, "line");
	sn_sink_put_u64(b, f->line);
	jkey(b, "column");
	sn_sink_put_u64(b, f->column);
	jkey(b, "offset");
	sn_sink_put_u64(b, f->offset);
	/* The raw value appears only when the finding carries it (--reveal). */
	jkey(b, "value");
	if (f->raw)
		sn_json_string(b, f->raw, f->raw_len);
	else
		jstr(b, f->masked);
	jkey(b, "fingerprint");
	sn_buf_putc(b, '"');
	char hex[2 * SN_FINGERPRINT_LEN];
	sn_buf_put(b, hex, (size_t)(put_fingerprint_to(hex, f->fingerprint) - hex));
	sn_buf_putc(b, '"');
	jkey(b, "key_id");
	jstr(b, key_id);
	if (f->field) {
		jkey(b, "field");
		jstr(b, f->field);
	}
	if (f->row >= 0) {
		jkey(b, "row");
		put_i64(b, f->row);
	}
	if (f->raw) {
		jkey(b, "normalized");
		if (f->normalized)
			jstr(b, f->normalized);
		else
			sn_buf_puts(b, "null");
	}
	sn_buf_putc(b, '}');
}

/* Plain stores into reserved room, for the record writer below. */
#define PUT_LIT(w, lit) (memcpy((w), (lit), sizeof(lit) - 1), (w) + sizeof(lit) - 1)

static char *put_buf_to(char *w, const sn_buf *b)
{
	memcpy(w, b->p, b->len);
	return w + b->len;
}

/* Room for everything in a finding but its strings and cached fragments:
 * the literal keys (140 bytes), four numbers of at most 20 digits, the
 * fingerprint's 64 hex digits, "null" and the quotes of six strings come to
 * under 300 bytes. */
#define FINDING_FIXED 400

/*
 * A finding is written in one piece: its upper bound is reserved once and
 * the record is stored with plain writes, the location and key_id coming
 * escaped from the thread's cache.  The bytes are those of
 * json_finding_appends, which writes the record when the bound does not fit
 * under the buffer's ceiling (only a record near the ceiling can be there).
 */
void sn_sink_json_finding(sn_buf *b, sn_sink_cache *c, const sn_finding *f, const char *key_id)
{
	const sn_buf *loc = sn_sink_cache_loc(c, f->loc, json_location);
	const sn_buf *kid = cache_key_id(c, key_id);
	const char *rule = f->rule_id ? f->rule_id : "";
	const char *cat = f->category ? f->category : "";
	const char *conf = sn_confidence_name(f->confidence);
	const char *val = f->raw ? f->raw : f->masked ? f->masked : "";
	const char *norm = f->normalized ? f->normalized : "";
	size_t nrule = strlen(rule), ncat = strlen(cat), nconf = strlen(conf);
	size_t nval = f->raw ? f->raw_len : strlen(val);
	size_t nfield = f->field ? strlen(f->field) : 0;
	size_t nnorm = f->raw ? strlen(norm) : 0;
	size_t nstr = nrule + ncat + nconf + nval + nfield + nnorm;
	int lossy = 0; /* only names (path, member) get a *_b64 member */
	char *w;

	/* Every string costs at most JSON_ESC_MAX bytes per byte. */
	if (!loc || !kid || !json_fits(b, nstr, FINDING_FIXED + loc->len + kid->len) ||
	    sn_buf_reserve(b, FINDING_FIXED + loc->len + kid->len + JSON_ESC_MAX * nstr) < 0) {
		json_finding_appends(b, f, key_id);
		return;
	}
	w = b->p + b->len;
	w = PUT_LIT(w, "{\"type\":\"finding\",\"rule\":");
	w = json_escape_to(w, rule, nrule, &lossy);
	w = PUT_LIT(w, ",\"category\":");
	w = json_escape_to(w, cat, ncat, &lossy);
	w = PUT_LIT(w, ",\"confidence\":");
	w = json_escape_to(w, conf, nconf, &lossy);
	w = put_buf_to(w, loc);
	w = PUT_LIT(w, ",\"line\":");
	w = put_u64_to(w, f->line);
	w = PUT_LIT(w, ",\"column\":");
	w = put_u64_to(w, f->column);
	w = PUT_LIT(w, ",\"offset\":");
	w = put_u64_to(w, f->offset);
	/* The raw value appears only when the finding carries it (--reveal). */
	w = PUT_LIT(w, ",\"value\":");
	w = json_escape_to(w, val, nval, &lossy);
	w = PUT_LIT(w, ",\"fingerprint\":\"");
	w = put_fingerprint_to(w, f->fingerprint);
	*w++ = '"';
	w = put_buf_to(w, kid);
	if (f->field) {
		w = PUT_LIT(w, ",\"field\":");
		w = json_escape_to(w, f->field, nfield, &lossy);
	}
	if (f->row >= 0) {
		w = PUT_LIT(w, ",\"row\":");
		w = put_u64_to(w, (uint64_t)f->row);
	}
	if (f->raw) {
		w = PUT_LIT(w, ",\"normalized\":");
		if (f->normalized)
			w = json_escape_to(w, norm, nnorm, &lossy);
		else
			w = PUT_LIT(w, "null");
	}
	*w++ = '}';
	b->len = (size_t)(w - b->p);
	b->p[b->len] = '\0';
}

void sn_sink_json_file(sn_buf *b, const sn_file_record *r)
{
	sn_buf_puts(b, "{\"type\":\"file\"");
	json_location(b, r->loc);
	jkey(b, "status");
	jstr(b, sn_file_status_name(r->status));
	jkey(b, "reason");
	jstr(b, r->reason);
	if (r->detail) {
		jkey(b, "detail");
		jstr(b, r->detail);
	}
	jkey(b, "bytes");
	sn_sink_put_u64(b, r->bytes);
	sn_buf_putc(b, '}');
}

static void json_reasons(sn_buf *b, const sn_sink_totals *t, sn_file_status st)
{
	int first = 1;

	sn_buf_putc(b, '{');
	for (size_t i = 0; i < t->nreason; i++) {
		if (t->reason[i].status != st)
			continue;
		if (!first)
			sn_buf_putc(b, ',');
		first = 0;
		jstr(b, t->reason[i].name);
		sn_buf_printf(b, ":%" PRIu64, t->reason[i].count);
	}
	sn_buf_putc(b, '}');
}

static void json_by_conf(sn_buf *b, const uint64_t c[4])
{
	sn_buf_printf(b, "{\"low\":%" PRIu64 ",\"medium\":%" PRIu64 ",\"high\":%" PRIu64 "}",
		      c[SN_CONF_LOW], c[SN_CONF_MEDIUM], c[SN_CONF_HIGH]);
}

void sn_sink_json_summary(sn_buf *b, const sn_sink_totals *t)
{
	int first;
	int complete = !t->interrupted && t->by_status[SN_FILE_INCOMPLETE] == 0 &&
		       t->by_status[SN_FILE_ERROR] == 0;
	double mb_s = t->duration_s > 0 ? (double)t->bytes_scanned / t->duration_s / 1e6 : 0;

	sn_buf_printf(b,
		      "{\"type\":\"summary\",\"files_scanned\":%" PRIu64
		      ",\"bytes_scanned\":%" PRIu64 ",\"files_excluded\":%" PRIu64
		      ",\"hardlinks_skipped\":%" PRIu64 ",\"images_skipped\":%" PRIu64,
		      t->files_scanned, t->bytes_scanned, t->excluded, t->hardlinks, t->images);
	sn_buf_printf(b,
		      ",\"status\":{\"skipped\":%" PRIu64 ",\"incomplete\":%" PRIu64
		      ",\"error\":%" PRIu64 "}",
		      t->by_status[SN_FILE_SKIPPED], t->by_status[SN_FILE_INCOMPLETE],
		      t->by_status[SN_FILE_ERROR]);
	sn_buf_puts(b, ",\"reasons\":{\"skipped\":");
	json_reasons(b, t, SN_FILE_SKIPPED);
	sn_buf_puts(b, ",\"incomplete\":");
	json_reasons(b, t, SN_FILE_INCOMPLETE);
	sn_buf_puts(b, ",\"error\":");
	json_reasons(b, t, SN_FILE_ERROR);
	sn_buf_putc(b, '}');

	sn_buf_printf(b, ",\"findings\":{\"total\":%" PRIu64 ",\"by_category\":{", t->findings);
	first = 1;
	for (size_t i = 0; i < t->ncat; i++) {
		const sn_sink_category *c = &t->cat[i];
		if (!c->reported[SN_CONF_LOW] && !c->reported[SN_CONF_MEDIUM] &&
		    !c->reported[SN_CONF_HIGH])
			continue;
		if (!first)
			sn_buf_putc(b, ',');
		first = 0;
		jstr(b, c->name);
		sn_buf_putc(b, ':');
		json_by_conf(b, c->reported);
	}
	sn_buf_puts(b, "},\"by_confidence\":");
	json_by_conf(b, t->by_conf);
	sn_buf_putc(b, '}');

	sn_buf_printf(b, ",\"below_threshold\":{\"total\":%" PRIu64 ",\"by_category\":{", t->below);
	first = 1;
	for (size_t i = 0; i < t->ncat; i++) {
		if (!t->cat[i].below)
			continue;
		if (!first)
			sn_buf_putc(b, ',');
		first = 0;
		jstr(b, t->cat[i].name);
		sn_buf_printf(b, ":%" PRIu64, t->cat[i].below);
	}
	sn_buf_puts(b, "}}");

	sn_buf_puts(b, ",\"duration_s\":");
	sn_sink_put_fixed(b, t->duration_s, 3);
	sn_buf_puts(b, ",\"throughput_mb_s\":");
	sn_sink_put_fixed(b, mb_s, 1);
	sn_buf_printf(b, ",\"interrupted\":%s,\"complete\":%s}", t->interrupted ? "true" : "false",
		      complete ? "true" : "false");
}
