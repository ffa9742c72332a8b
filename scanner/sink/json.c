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

int sn_json_string(sn_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	int lossy = 0;

	sn_buf_putc(b, '"');
	while (i < n) {
		unsigned c = p[i];
		const char *esc = NULL;
		char u[7];
		size_t len;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			i++;
			run++;
			continue;
		}
		/* Flush the plain run before handling the special byte. */
		sn_buf_put(b, (const char *)p + i - run, run);
		run = 0;
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
			sn_buf_puts(b, esc);
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			memcpy(u, "\\u00", 4);
			u[4] = hex[c >> 4];
			u[5] = hex[c & 0xf];
			sn_buf_put(b, u, 6);
			i++;
			continue;
		}
		len = sn_sink_utf8_len(p + i, n - i);
		if (len == 0) {
			sn_buf_puts(b, "\xef\xbf\xbd"); /* U+FFFD */
			lossy = 1;
			i++;
		} else if (len == 2 && c == 0xc2 && p[i + 1] <= 0x9f) {
			memcpy(u, "\\u00", 4);
			u[4] = hex[p[i + 1] >> 4];
			u[5] = hex[p[i + 1] & 0xf];
			sn_buf_put(b, u, 6);
			i += 2;
		} else if (len == 3 && c == 0xe2 && p[i + 1] == 0x80 &&
			   (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
			sn_buf_puts(b, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
			i += 3;
		} else {
			sn_buf_put(b, (const char *)p + i, len);
			i += len;
		}
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
static void put_u64(sn_buf *b, uint64_t v)
{
	char d[20];
	size_t n = 0;
	do {
		d[sizeof d - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sn_buf_put(b, d + sizeof d - n, n);
}

static void put_i64(sn_buf *b, int64_t v)
{
	if (v < 0) {
		sn_buf_putc(b, '-');
		put_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(b, (uint64_t)v);
	}
}

/* Lower-case hex of a fingerprint (what sodium_bin2hex writes, inline). */
static void put_hex(sn_buf *b, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char out[2 * SN_FINGERPRINT_LEN];
	while (n) {
		size_t k = n < SN_FINGERPRINT_LEN ? n : SN_FINGERPRINT_LEN;
		for (size_t i = 0; i < k; i++) {
			out[2 * i] = hex[p[i] >> 4];
			out[2 * i + 1] = hex[p[i] & 15];
		}
		sn_buf_put(b, out, 2 * k);
		p += k;
		n -= k;
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

void sn_sink_json_finding(sn_buf *b, const sn_finding *f, const char *key_id)
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
	put_u64(b, f->line);
	jkey(b, "column");
	put_u64(b, f->column);
	jkey(b, "offset");
	put_u64(b, f->offset);
	/* The raw value appears only when the finding carries it (--reveal). */
	jkey(b, "value");
	if (f->raw)
		sn_json_string(b, f->raw, f->raw_len);
	else
		jstr(b, f->masked);
	jkey(b, "fingerprint");
	sn_buf_putc(b, '"');
	put_hex(b, f->fingerprint, SN_FINGERPRINT_LEN);
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
	put_u64(b, r->bytes);
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
