/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Text serializer: one line per finding or ledger record and a short summary
 * paragraph, for people reading a terminal.
 *
 * Every string that comes from the scanned tree (paths, member names, libmagic
 * details, column names) is printed as raw bytes except control characters:
 * bytes below 0x20, DEL and the C1 controls (as UTF-8 or as stray bytes) are
 * written as \xNN.  A file name holding a newline or ESC therefore cannot
 * forge an extra line or send terminal sequences.
 */
#include "sink/sink_format.h"

#include <inttypes.h>
#include <string.h>

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_YELLOW "\033[33m"

static void put_hex_byte(sn_buf *b, unsigned c)
{
	static const char hex[] = "0123456789abcdef";
	char e[4] = {'\\', 'x', hex[(c >> 4) & 0xf], hex[c & 0xf]};
	sn_buf_put(b, e, sizeof e);
}

static void text_escape(sn_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i];
		size_t len;

		if (c >= 0x20 && c < 0x7f) {
			size_t j = i + 1;
			while (j < n && p[j] >= 0x20 && p[j] < 0x7f)
				j++;
			sn_buf_put(b, s + i, j - i);
			i = j;
			continue;
		}
		if (c < 0x80) {
			put_hex_byte(b, c);
			i++;
			continue;
		}
		len = sn_sink_utf8_len(p + i, n - i);
		if (len == 2 && c == 0xc2 && p[i + 1] <= 0x9f) {
			put_hex_byte(b, c);
			put_hex_byte(b, p[i + 1]);
			i += 2;
		} else if (len) {
			sn_buf_put(b, s + i, len);
			i += len;
		} else {
			/* Not UTF-8 (e.g. a Latin-1 name): pass it on, except bytes
			 * that an 8-bit terminal reads as C1 controls. */
			if (c <= 0x9f)
				put_hex_byte(b, c);
			else
				sn_buf_putc(b, (char)c);
			i++;
		}
	}
}

static void text_str(sn_buf *b, const char *s)
{
	if (s)
		text_escape(b, s, strlen(s));
}

/* path//member//member */
static void text_location(sn_buf *b, const sn_location *loc)
{
	if (!loc)
		return;
	text_str(b, loc->path);
	for (size_t i = 0; loc->member && i < loc->nmember; i++) {
		sn_buf_puts(b, "//");
		text_str(b, loc->member[i]);
	}
}

static const char *conf_color(sn_confidence c)
{
	switch (c) {
	case SN_CONF_HIGH: return C_RED;
	case SN_CONF_MEDIUM: return C_YELLOW;
	default: return C_DIM;
	}
}

/* The location comes from the thread's cache: a run of findings in one file
 * shares it. */
void sn_sink_text_finding(sn_buf *b, sn_sink_cache *c, const sn_finding *f, int color)
{
	const sn_buf *loc = sn_sink_cache_loc(c, f->loc, text_location);

	if (!loc)
		text_location(b, f->loc);
	else if (loc->len)
		sn_buf_put(b, loc->p, loc->len);
	sn_buf_putc(b, ':');
	sn_sink_put_u64(b, f->line);
	sn_buf_putc(b, ':');
	sn_sink_put_u64(b, f->column);
	sn_buf_put(b, "  ", 2);
	if (color)
		sn_buf_puts(b, C_BOLD);
	text_str(b, f->category);
	if (color)
		sn_buf_puts(b, C_RESET);
	sn_buf_put(b, "  ", 2);
	if (color)
		sn_buf_puts(b, conf_color(f->confidence));
	sn_buf_puts(b, sn_confidence_name(f->confidence));
	if (color)
		sn_buf_puts(b, C_RESET);
	sn_buf_put(b, "  ", 2);
	text_str(b, f->masked);
	if (f->raw) {
		sn_buf_puts(b, "  raw=");
		text_escape(b, f->raw, f->raw_len);
	}
	sn_buf_putc(b, '\n');
}

void sn_sink_text_file(sn_buf *b, const sn_file_record *r, int color)
{
	if (color)
		sn_buf_puts(b, r->status == SN_FILE_SKIPPED ? C_DIM : C_YELLOW);
	text_location(b, r->loc);
	sn_buf_puts(b, ": ");
	sn_buf_puts(b, sn_file_status_name(r->status));
	sn_buf_puts(b, " (");
	text_str(b, r->reason);
	if (r->detail) {
		sn_buf_puts(b, ": ");
		text_str(b, r->detail);
	}
	sn_buf_putc(b, ')');
	if (color)
		sn_buf_puts(b, C_RESET);
	sn_buf_putc(b, '\n');
}

void sn_sink_text_summary(sn_buf *b, const sn_sink_totals *t)
{
	sn_buf_printf(b, "\nScanned %" PRIu64 " files (", t->files_scanned);
	sn_sink_put_fixed(b, (double)t->bytes_scanned / 1e6, 1);
	sn_buf_puts(b, " MB) in ");
	sn_sink_put_fixed(b, t->duration_s, 1);
	sn_buf_printf(b,
		      " s: %" PRIu64 " findings (%" PRIu64 " high, %" PRIu64 " medium, %" PRIu64
		      " low); %" PRIu64 " skipped",
		      t->findings, t->by_conf[SN_CONF_HIGH], t->by_conf[SN_CONF_MEDIUM],
		      t->by_conf[SN_CONF_LOW], t->by_status[SN_FILE_SKIPPED]);
	/* images may be scans of ID cards: how many were not read matters */
	if (t->images)
		sn_buf_printf(b, " (%" PRIu64 " image%s)", t->images, t->images == 1 ? "" : "s");
	sn_buf_printf(b, ", %" PRIu64 " incomplete, %" PRIu64 " errors%s.\n",
		      t->by_status[SN_FILE_INCOMPLETE], t->by_status[SN_FILE_ERROR],
		      t->interrupted ? "; interrupted" : "");
	for (size_t i = 0; i < t->ncat; i++) {
		const sn_sink_category *c = &t->cat[i];
		uint64_t n = c->reported[SN_CONF_LOW] + c->reported[SN_CONF_MEDIUM] +
			     c->reported[SN_CONF_HIGH];
		sn_buf_puts(b, "  ");
		text_str(b, c->name);
		sn_buf_printf(
			b, ": %" PRIu64 " (%" PRIu64 " high, %" PRIu64 " medium, %" PRIu64 " low)",
			n, c->reported[SN_CONF_HIGH], c->reported[SN_CONF_MEDIUM],
			c->reported[SN_CONF_LOW]);
		if (c->below)
			sn_buf_printf(b, ", %" PRIu64 " below threshold", c->below);
		sn_buf_putc(b, '\n');
	}
}
