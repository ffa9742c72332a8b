/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Mail through GMime 3 (see decoder.h): single RFC 5322 messages (.eml) and
 * mbox mailboxes.  Each message becomes its parts: "headers" (the decoded
 * header fields, one "Name: value" a line), "body" / "body.html" (text/plain
 * and text/html leaves, transfer encoding undone and converted to UTF-8),
 * attachments as nested units named by their file name (sniffed again, so a
 * CSV is read as a table and a zip opened as an archive), and "forwarded/..."
 * for an attached message/rfc822.  In an mbox every name is prefixed with
 * "message N/".  Encrypted parts are recorded "encrypted", images skipped
 * "image".
 *
 * Memory: a top-level file is parsed from a duplicate of its descriptor, so
 * GMime leaves the content of parts in the file and holds only the headers
 * of one message (and multipart preambles and epilogues, which it always
 * copies) -- a 5 GB mailbox streams.  Anything nested is read through a
 * GMimeStream over the unit's reader; GMime then copies each message into
 * memory, so one message may take at most --max-buffer bytes (past that it
 * is recorded "too-large-to-buffer" and the rest of the unit is left).
 * Parts are never buffered here: the driver pulls them through GMime's
 * decoding filters, and every decoded byte passes sn_doc_check, so a base64
 * bomb stops at its limit.  Each mbox message counts as an entry.
 *
 * Damage: GMime builds what it can; a message that ends inside a multipart
 * or a multipart without a boundary (read as plain text) is recorded
 * "corrupt" after its parts were handed.  Header lines that are not fields,
 * which GMime drops, are kept from its warnings and handed with the
 * message's headers.  An mbox message GMime cannot build at all is recorded
 * and the parser restarted after it, so the rest of the mailbox is read.
 * GMime reports problems through GLib logging in the "gmime" domain,
 * possibly quoting the message: a handler installed once discards that
 * domain, so nothing from a message reaches stderr.
 */
#include "source/decoder.h"

#include <errno.h>
#include <fcntl.h>
#include <gmime/gmime.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/stop.h"
#include "speurneus/error.h"

#define SN_MAIL_MAX_DEPTH 64              /* MIME levels walked; GMime allows 1024 */
#define SN_MAIL_NAME_MAX 512              /* bytes of a part name */
#define SN_MAIL_HEADERS_MAX (16u << 20)   /* bytes of one message's header text */
#define SN_MAIL_DROPPED_MAX (1u << 20)    /* bytes of dropped header lines kept */
#define SN_MAIL_REPLAY (16u << 10)        /* bytes a stream keeps to restart the parser;
					     GMime reads ahead at most 4 KiB */

/* ---------------------------------------------------------------------- */
/* Recognising a message                                                   */

/* Fields that mark a header block as mail; two of them must occur. */
static const char *const mail_fields[] = {
	"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Received",
	"Return-Path", "Delivered-To", "Content-Type",
};

static int is_field_char(uint8_t c)
{
	/* the characters real field names use (a subset of RFC 5322 ftext):
	 * a YAML key or a log prefix with spaces, brackets or quotes fails */
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/* Bit of the known field `p[0..n)` names, or 0.  The first letter must be a
 * capital, as every mailer writes these fields: lower-case YAML keys such
 * as "from:" and "date:" do not count. */
static unsigned known_field(const uint8_t *p, size_t n)
{
	if (!n || p[0] < 'A' || p[0] > 'Z')
		return 0;
	for (size_t i = 0; i < sizeof mail_fields / sizeof mail_fields[0]; i++)
		if (strlen(mail_fields[i]) == n &&
		    strncasecmp((const char *)p, mail_fields[i], n) == 0)
			return 1u << i;
	return 0;
}

/* Whether `p` starts with a header block: only field lines ("Name: value")
 * and their folded continuations up to the empty line (or up to the end of
 * what was sniffed), with two known fields among them.  Every line is
 * looked at: a relay may put dozens of Received and X- lines before From. */
static int header_block(const uint8_t *p, size_t n)
{
	unsigned seen = 0, lines = 0, known = 0;
	size_t i = 0;
	while (i < n) {
		const uint8_t *nl = memchr(p + i, '\n', n - i);
		if (!nl)
			break; /* the sniffed bytes end inside a line */
		size_t e = (size_t)(nl - p), len = e - i;
		if (len && p[e - 1] == '\r')
			len--;
		if (len == 0)
			return lines > 0 && known >= 2;
		if (p[i] == ' ' || p[i] == '\t') {
			if (!lines)
				return 0;
		} else {
			size_t k = i;
			while (k < i + len && is_field_char(p[k]))
				k++;
			if (k == i || k - i > 76 || k == i + len || p[k] != ':')
				return 0;
			unsigned bit = known_field(p + i, k - i);
			if (bit && !(seen & bit)) {
				seen |= bit;
				known++;
			}
		}
		lines++;
		i = e + 1;
	}
	/* a long header block, or a file of headers only */
	return lines >= 2 && known >= 2;
}

/* Length of an mbox separator line ("From sender date\n") at the start of
 * `p`, newline included, or 0. */
static size_t mbox_line(const uint8_t *p, size_t n)
{
	if (n < 6 || memcmp(p, "From ", 5) != 0 || p[5] == ' ' || p[5] == '\n')
		return 0;
	const uint8_t *nl = memchr(p, '\n', n);
	if (!nl)
		return 0;
	const uint8_t *sp = memchr(p + 5, ' ', (size_t)(nl - p) - 5);
	if (!sp)
		return 0; /* "From x" without a date */
	/* the date carries a time ("Mon Jan  1 10:00:00 2024"): prose that
	 * starts "From now on" does not */
	for (const uint8_t *c = sp + 1; c + 2 < nl; c++)
		if (c[1] == ':' && c[0] >= '0' && c[0] <= '9' && c[2] >= '0' && c[2] <= '9')
			return (size_t)(nl - p) + 1;
	return 0;
}

static int mail_accepts(const sn_type *ty, const uint8_t *head, size_t n)
{
	if (ty->kind != SN_KIND_TEXT || ty->reason)
		return 0;
	size_t off = mbox_line(head, n);
	return header_block(head + off, n - off);
}

/* ---------------------------------------------------------------------- */
/* GMime setup                                                             */

static pthread_once_t mail_once = PTHREAD_ONCE_INIT;
static GType mail_stream_type;

static void mail_log_discard(const gchar *domain, GLogLevelFlags level, const gchar *msg,
			     gpointer data)
{
	(void)domain;
	(void)level;
	(void)msg;
	(void)data;
}

/* A GMimeStream over the unit's reader (the sniffed head, then the rest),
 * for units that are not a top-level file.  It cannot seek, but it keeps
 * the last bytes it handed out, so the parser can be restarted just after
 * a damaged message (see mail_restart). */
typedef struct mail_stream {
	GMimeStream parent;
	sn_doc *d;
	size_t head_off;
	uint64_t total;  /* bytes pulled from the unit */
	uint64_t pos;    /* the next byte GMime reads: below `total` on replay */
	uint64_t mark;   /* `total` when the current message began */
	int eof, over, failed;
	uint8_t ring[SN_MAIL_REPLAY]; /* the last bytes pulled, by offset */
} mail_stream;

typedef struct mail_stream_class {
	GMimeStreamClass parent_class;
} mail_stream_class;

static ssize_t ms_read(GMimeStream *s, char *buf, size_t len)
{
	mail_stream *ms = (mail_stream *)s;
	sn_doc *d = ms->d;
	ssize_t k;
	if (ms->pos < ms->total) {
		size_t at = (size_t)(ms->pos % SN_MAIL_REPLAY);
		uint64_t left = ms->total - ms->pos;
		size_t n = SN_MAIL_REPLAY - at;
		if (n > left)
			n = (size_t)left;
		if (n > len)
			n = len;
		memcpy(buf, ms->ring + at, n);
		ms->pos += n;
		return (ssize_t)n;
	}
	if (ms->eof)
		return 0;
	if (sn_stop_requested(d->b->stop)) {
		ms->eof = 1;
		return 0;
	}
	/* GMime holds a message from a stream in memory: one message may
	 * take --max-buffer bytes */
	uint64_t used = ms->total - ms->mark, cap = d->b->lim->max_buffer;
	if (used >= cap) {
		ms->over = 1;
		ms->eof = 1;
		return 0;
	}
	if (len > cap - used)
		len = (size_t)(cap - used);
	if (ms->head_off < d->head_len) {
		k = (ssize_t)(d->head_len - ms->head_off);
		if ((size_t)k > len)
			k = (ssize_t)len;
		memcpy(buf, d->head + ms->head_off, (size_t)k);
		ms->head_off += (size_t)k;
	} else {
		k = d->in->read(d->in->ctx, buf, len);
		if (k < 0) {
			/* the reader says why (a limit, damage); the driver
			 * records it for the unit */
			ms->failed = 1;
			ms->eof = 1;
			return -1;
		}
		if (k == 0)
			ms->eof = 1;
	}
	/* keep a copy: the tail of what was read, by offset modulo the ring */
	size_t got = (size_t)k;
	for (size_t i = got > SN_MAIL_REPLAY ? got - SN_MAIL_REPLAY : 0; i < got;) {
		size_t at = (size_t)((ms->total + i) % SN_MAIL_REPLAY);
		size_t n = SN_MAIL_REPLAY - at;
		if (n > got - i)
			n = got - i;
		memcpy(ms->ring + at, buf + i, n);
		i += n;
	}
	ms->total += (uint64_t)k;
	ms->pos = ms->total;
	return k;
}

/* Read again from offset `at`; -1 when those bytes are no longer kept. */
static int ms_rewind(mail_stream *ms, uint64_t at)
{
	if (at > ms->total || ms->total - at > SN_MAIL_REPLAY)
		return -1;
	ms->pos = at;
	return 0;
}

static ssize_t ms_write(GMimeStream *s, const char *buf, size_t len)
{
	(void)s;
	(void)buf;
	(void)len;
	errno = EBADF;
	return -1;
}

static int ms_flush(GMimeStream *s)
{
	(void)s;
	return 0;
}

static gboolean ms_eos(GMimeStream *s)
{
	mail_stream *ms = (mail_stream *)s;
	return ms->eof && ms->pos == ms->total;
}

static int ms_reset(GMimeStream *s)
{
	(void)s;
	errno = ESPIPE;
	return -1;
}

static gint64 ms_seek(GMimeStream *s, gint64 off, GMimeSeekWhence whence)
{
	(void)s;
	(void)off;
	(void)whence;
	errno = ESPIPE;
	return -1;
}

static gint64 ms_tell(GMimeStream *s)
{
	/* the parser's offsets come from here; it must still copy content
	 * (g_mime_parser_set_persist_stream FALSE): there is no substream */
	return (gint64)((mail_stream *)s)->pos;
}

static gint64 ms_length(GMimeStream *s)
{
	(void)s;
	errno = ESPIPE;
	return -1;
}

static GMimeStream *ms_substream(GMimeStream *s, gint64 start, gint64 end)
{
	(void)s;
	(void)start;
	(void)end;
	return NULL;
}

static void ms_class_init(gpointer klass, gpointer data)
{
	GMimeStreamClass *c = klass;
	(void)data;
	c->read = ms_read;
	c->write = ms_write;
	c->flush = ms_flush;
	c->close = ms_flush;
	c->eos = ms_eos;
	c->reset = ms_reset;
	c->seek = ms_seek;
	c->tell = ms_tell;
	c->length = ms_length;
	c->substream = ms_substream;
}

static void mail_init(void)
{
	static const GTypeInfo info = {
		sizeof(mail_stream_class), NULL, NULL, ms_class_init, NULL, NULL,
		sizeof(mail_stream),       0,    NULL, NULL,
	};
	g_mime_init();
	g_log_set_handler("gmime", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
			  mail_log_discard, NULL);
	mail_stream_type = g_type_register_static(GMIME_TYPE_STREAM, "SnMailStream", &info, 0);
	/* GObject builds a class when its first instance is made, on whichever
	 * worker that happens; building them all here, once, keeps that out
	 * of the concurrent part (and out of ThreadSanitizer's sight, which
	 * cannot see GLib's own locks).  The classes live as long as GLib. */
	const GType classes[] = {
		GMIME_TYPE_MESSAGE,	      GMIME_TYPE_PART,
		GMIME_TYPE_TEXT_PART,	      GMIME_TYPE_MULTIPART,
		GMIME_TYPE_MULTIPART_ENCRYPTED, GMIME_TYPE_MULTIPART_SIGNED,
		GMIME_TYPE_MESSAGE_PART,      GMIME_TYPE_MESSAGE_PARTIAL,
		GMIME_TYPE_APPLICATION_PKCS7_MIME, GMIME_TYPE_PARSER,
		GMIME_TYPE_STREAM_FS,	      GMIME_TYPE_STREAM_MEM,
		GMIME_TYPE_STREAM_FILTER,     GMIME_TYPE_STREAM_NULL,
		GMIME_TYPE_FILTER_BASIC,      GMIME_TYPE_FILTER_CHARSET,
		GMIME_TYPE_DATA_WRAPPER,      GMIME_TYPE_CONTENT_TYPE,
		GMIME_TYPE_CONTENT_DISPOSITION, GMIME_TYPE_HEADER_LIST,
		GMIME_TYPE_HEADER,	      GMIME_TYPE_PARAM,
		GMIME_TYPE_PARAM_LIST,	      INTERNET_ADDRESS_TYPE_MAILBOX,
		INTERNET_ADDRESS_TYPE_GROUP,  mail_stream_type,
	};
	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
		if (G_TYPE_IS_CLASSED(classes[i]))
			g_type_class_ref(classes[i]);
}

/* ---------------------------------------------------------------------- */
/* Decoding                                                                */

enum {
	DAMAGE_TRUNCATED = 1,   /* the message ends inside a multipart */
	DAMAGE_NO_BOUNDARY = 2, /* a multipart without boundary, read as text */
};

typedef struct mail_ctx {
	sn_doc *d;
	GMimeParser *parser;  /* its offset: bytes of the unit parsed so far */
	mail_stream *ms;      /* else: the stream over the reader */
	unsigned damage;      /* DAMAGE_* while parsing the current message */
	int deep_recorded;    /* the current message went past SN_MAIL_MAX_DEPTH */
	sn_buf dropped;       /* header lines GMime dropped, for the headers part */
	const char *limit;    /* a budget limit ended decoding */
	int limit_recorded;
	int rc;               /* what decode returns */
} mail_ctx;

/* Names inside one message: `prefix` is "", "message 3/" or
 * "message 3/forwarded/". */
typedef struct scope {
	char prefix[SN_MAIL_NAME_MAX];
	unsigned plain, html, attach, fwd, enc;
} scope;

static void mail_warn(gint64 off, GMimeParserWarning code, const gchar *item, gpointer data)
{
	mail_ctx *m = data;
	(void)off;
	switch (code) {
	case GMIME_CRIT_INVALID_HEADER_NAME:
		/* GMime drops the line; it may well hold a name or a number */
		if (item) {
			sn_buf_puts(&m->dropped, item);
			sn_buf_putc(&m->dropped, '\n');
		}
		break;
	case GMIME_WARN_TRUNCATED_MESSAGE:
		m->damage |= DAMAGE_TRUNCATED;
		break;
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
		m->damage |= DAMAGE_NO_BOUNDARY;
		break;
	default:
		break;
	}
}

static uint64_t mail_consumed(const mail_ctx *m)
{
	if (m->ms)
		return m->ms->total;
	gint64 off = g_mime_parser_tell(m->parser);
	return off > 0 ? (uint64_t)off : 0;
}

/* Nonzero when decoding must end: a callback or the user asked to stop, or
 * a limit was reached -- then the rest of the unit is on record, once. */
static int halt(mail_ctx *m)
{
	sn_doc *d = m->d;
	if (m->rc)
		return 1;
	if (sn_stop_requested(d->b->stop)) {
		m->rc = SN_ESTOP;
		return 1;
	}
	const char *why = m->limit ? m->limit : d->b->hit;
	if (!why)
		return 0;
	if (!m->limit_recorded) {
		m->limit_recorded = 1;
		d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, why,
			      "the rest of this mail was not read");
	}
	return 1;
}

/* A part as the driver reads it: decoded content pulled through GMime's
 * filters, or text held in memory. */
typedef struct part_src {
	sn_input in; /* first member: in.ctx points back here */
	mail_ctx *m;
	GMimeStream *s;   /* decoded content, or NULL */
	GMimeStream *raw; /* the encoded content under `s` */
	const char *p;
	size_t n, off;
} part_src;

static void stop_input(sn_input *in, const char *reason, const char *detail)
{
	sn_input_stop(in, SN_FILE_INCOMPLETE, reason, detail);
}

/* Fill `buf` from a filter stream.  A filter may turn input into no output
 * (base64 line breaks) without being at its end: reading goes on while the
 * encoded stream moves. */
static ssize_t pull(GMimeStream *s, GMimeStream *raw, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n && !g_mime_stream_eos(s)) {
		gint64 before = g_mime_stream_tell(raw);
		ssize_t k = g_mime_stream_read(s, buf + got, n - got);
		if (k < 0) {
			if (g_mime_stream_eos(s))
				break;
			return got ? (ssize_t)got : -1;
		}
		got += (size_t)k;
		if (k == 0 && g_mime_stream_tell(raw) == before)
			break;
	}
	return (ssize_t)got;
}

static ssize_t part_read(void *ctx, void *buf, size_t n)
{
	part_src *ps = ctx;
	mail_ctx *m = ps->m;
	ssize_t k;
	if (ps->in.stop_reason) {
		errno = EIO;
		return -1;
	}
	if (sn_stop_requested(m->d->b->stop)) {
		stop_input(&ps->in, "interrupted", NULL);
		errno = EINTR;
		return -1;
	}
	if (!ps->s) {
		size_t left = ps->n - ps->off;
		k = (ssize_t)(left < n ? left : n);
		memcpy(buf, ps->p + ps->off, (size_t)k);
		ps->off += (size_t)k;
	} else {
		int err;
		errno = 0;
		k = pull(ps->s, ps->raw, buf, n);
		err = errno ? errno : EIO;
		if (k < 0) {
			stop_input(&ps->in, "read-error", strerror(err));
			errno = err;
			return -1;
		}
	}
	if (k > 0) {
		ps->in.produced += (uint64_t)k;
		const char *why = sn_doc_check(m->d, (uint64_t)k, mail_consumed(m));
		if (why) {
			char detail[96];
			snprintf(detail, sizeof detail, "stopped after %llu bytes",
				 (unsigned long long)ps->in.produced);
			stop_input(&ps->in, why, detail);
			m->limit = why;
			errno = EFBIG;
			return -1;
		}
	}
	return k;
}

/* Hand a part to the driver; 1 when decoding must end. */
static int hand(mail_ctx *m, const char *name, part_src *ps, int is_text)
{
	ps->m = m;
	ps->in.read = part_read;
	ps->in.ctx = ps;
	ps->in.fd = -1;
	ps->in.name = name;
	ps->in.is_text = is_text;
	int rc = m->d->cb->member(m->d->payload, name, &ps->in);
	if (rc) {
		m->rc = rc;
		return 1;
	}
	return 0;
}

static int hand_text(mail_ctx *m, const char *name, const char *p, size_t n)
{
	part_src ps;
	if (halt(m))
		return 1;
	memset(&ps, 0, sizeof ps);
	ps.p = p;
	ps.n = n;
	return hand(m, name, &ps, 1);
}

/* Hand the content of a leaf: transfer encoding undone and, for text,
 * `charset` converted to UTF-8 (an unknown charset is left to the text
 * stage, which detects the common ones). */
static int hand_content(mail_ctx *m, const char *name, GMimePart *part, const char *charset,
			int is_text)
{
	part_src ps;
	GMimeStream *empty = NULL;
	if (halt(m))
		return 1;
	memset(&ps, 0, sizeof ps);
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *raw = w ? g_mime_data_wrapper_get_stream(w) : NULL;
	if (!raw)
		raw = empty = g_mime_stream_mem_new();
	GMimeStream *s = g_mime_stream_filter_new(raw);
	GMimeContentEncoding enc = w ? g_mime_data_wrapper_get_encoding(w)
				     : GMIME_CONTENT_ENCODING_DEFAULT;
	if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		GMimeFilter *f = g_mime_filter_basic_new(enc, FALSE);
		if (f) {
			g_mime_stream_filter_add((GMimeStreamFilter *)s, f);
			g_object_unref(f);
		}
	}
	if (is_text && charset && g_ascii_strcasecmp(charset, "utf-8") != 0 &&
	    g_ascii_strcasecmp(charset, "us-ascii") != 0) {
		GMimeFilter *f = g_mime_filter_charset_new(charset, "UTF-8");
		if (f) {
			g_mime_stream_filter_add((GMimeStreamFilter *)s, f);
			g_object_unref(f);
		}
	}
	g_mime_stream_reset(s);
	ps.s = s;
	ps.raw = raw;
	int stop = hand(m, name, &ps, is_text);
	g_object_unref(s);
	if (empty)
		g_object_unref(empty);
	return stop;
}

/* `out` = prefix, `what`, " N" from the second on, `suffix`.  A name that
 * does not fit is cut: names are labels, never paths. */
static void name_of(char *out, size_t cap, const scope *sc, const char *what, unsigned n,
		    const char *suffix)
{
	int k = n > 1 ? snprintf(out, cap, "%s%s %u%s", sc->prefix, what, n, suffix)
		      : snprintf(out, cap, "%s%s%s", sc->prefix, what, suffix);
	if (k < 0)
		out[0] = '\0';
}

/* The message a scope belongs to as a record name ("message 3",
 * "message 3/forwarded"), or NULL for the unit itself. */
static const char *scope_name(const scope *sc, char *out, size_t cap)
{
	size_t len = strlen(sc->prefix);
	if (!len)
		return NULL;
	snprintf(out, cap, "%.*s", (int)(len - 1), sc->prefix);
	return out;
}

/* An attachment's name: its file name (control characters replaced, so a
 * name never breaks a line of output) or "attachment N". */
static void attachment_name(char *out, size_t cap, scope *sc, GMimePart *part)
{
	const char *fn = g_mime_part_get_filename(part);
	sc->attach++;
	if (!fn || !*fn) {
		name_of(out, cap, sc, "attachment ", 1, "");
		size_t len = strlen(out);
		if (snprintf(out + len, cap - len, "%u", sc->attach) < 0)
			out[len] = '\0';
		return;
	}
	size_t start = strlen(sc->prefix);
	if (snprintf(out, cap, "%s%s", sc->prefix, fn) < 0)
		out[0] = '\0';
	if (start > strlen(out))
		start = strlen(out);
	for (char *c = out + start; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '_';
	/* a name cut to fit must not end inside a UTF-8 sequence */
	const gchar *bad;
	if (!g_utf8_validate(out, -1, &bad))
		out[bad - out] = '\0';
}

/* Header fields whose values are signatures, keys or pictures in base64:
 * nothing a person wrote, and their digit runs would only be noise. */
static int skip_header(const char *name)
{
	static const char *const exact[] = {
		"DKIM-Signature", "DomainKey-Signature", "ARC-Seal", "ARC-Message-Signature",
		"X-Google-DKIM-Signature", "Autocrypt", "Autocrypt-Gossip", "X-Face", "Face",
	};
	static const char *const prefix[] = {
		"X-Microsoft-Antispam-Message-Info", "X-MS-Exchange-AntiSpam-MessageData",
	};
	for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
		if (g_ascii_strcasecmp(name, exact[i]) == 0)
			return 1;
	for (size_t i = 0; i < sizeof prefix / sizeof prefix[0]; i++)
		if (g_ascii_strncasecmp(name, prefix[i], strlen(prefix[i])) == 0)
			return 1;
	return 0;
}

static void put_line(sn_buf *b, const char *s)
{
	/* unfolded values hold no line breaks; decoded words might */
	for (; *s; s++)
		sn_buf_putc(b, *s == '\r' || *s == '\n' ? ' ' : *s);
}

static int hand_headers(mail_ctx *m, GMimeMessage *msg, scope *sc, const char *marker,
			int outer)
{
	char name[SN_MAIL_NAME_MAX];
	sn_buf b;
	sn_buf_init(&b, SN_MAIL_HEADERS_MAX);
	if (marker) {
		put_line(&b, marker);
		sn_buf_putc(&b, '\n');
	}
	GMimeHeaderList *hl = g_mime_object_get_header_list((GMimeObject *)msg);
	int n = hl ? g_mime_header_list_get_count(hl) : 0;
	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *hn = h ? g_mime_header_get_name(h) : NULL;
		if (!hn || skip_header(hn))
			continue;
		const char *v = g_mime_header_get_value(h);
		if (!v)
			v = g_mime_header_get_raw_value(h);
		put_line(&b, hn);
		sn_buf_puts(&b, ": ");
		put_line(&b, v ? v : "");
		sn_buf_putc(&b, '\n');
	}
	if (outer && m->dropped.len)
		sn_buf_put(&b, m->dropped.p, m->dropped.len);
	name_of(name, sizeof name, sc, "headers", 1, "");
	int stop = hand_text(m, name, b.p ? b.p : "", b.len);
	if (!stop && b.failed)
		m->d->cb->record(m->d->payload, name, SN_FILE_INCOMPLETE, "too-large-to-buffer",
				 "header fields past 16 MiB were not read");
	sn_buf_free(&b);
	return stop;
}

/* The usual multipart preamble, which holds nothing worth a part. */
static int boilerplate(const char *s)
{
	static const char *const known[] = {
		"This is a multi-part message in MIME format.",
		"This is a multipart message in MIME format.",
		"This is a MIME-encapsulated message",
		"This is a MIME-formatted message.",
		"This is a message in MIME format.",
	};
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	size_t len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
		       s[len - 1] == '\n'))
		len--;
	if (!len)
		return 1;
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strlen(known[i]) == len && g_ascii_strncasecmp(s, known[i], len) == 0)
			return 1;
	return 0;
}

static int walk_part(mail_ctx *m, GMimeObject *obj, scope *sc, unsigned depth);

static int walk_message(mail_ctx *m, GMimeMessage *msg, scope *sc, unsigned depth,
			const char *marker, int outer)
{
	if (hand_headers(m, msg, sc, marker, outer))
		return 1;
	GMimeObject *body = g_mime_message_get_mime_part(msg);
	return body ? walk_part(m, body, sc, depth + 1) : 0;
}

static int walk_leaf(mail_ctx *m, GMimePart *part, scope *sc)
{
	char name[SN_MAIL_NAME_MAX];
	GMimeObject *obj = (GMimeObject *)part;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *type = ct ? g_mime_content_type_get_media_type(ct) : NULL;
	const char *sub = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
	const char *fn = g_mime_part_get_filename(part);
	if (!type)
		type = "text";
	if (!sub)
		sub = "plain";
	if (g_ascii_strcasecmp(type, "image") == 0) {
		char detail[96];
		attachment_name(name, sizeof name, sc, part);
		snprintf(detail, sizeof detail, "image/%s", sub);
		m->d->cb->record(m->d->payload, name, SN_FILE_SKIPPED, "image", detail);
		return 0;
	}
	/* Outlook's TNEF wrapper holds the rich-text body and attachments in a
	 * binary form nothing here reads; sniffed, it would pass as "binary" */
	if ((g_ascii_strcasecmp(type, "application") == 0 &&
	     (g_ascii_strcasecmp(sub, "ms-tnef") == 0 ||
	      g_ascii_strcasecmp(sub, "vnd.ms-tnef") == 0)) ||
	    (fn && g_ascii_strcasecmp(fn, "winmail.dat") == 0)) {
		attachment_name(name, sizeof name, sc, part);
		m->d->cb->record(m->d->payload, name, SN_FILE_INCOMPLETE, "unsupported",
				 "Outlook TNEF attachment (winmail.dat)");
		return 0;
	}
	int plain = g_ascii_strcasecmp(sub, "plain") == 0;
	int html = g_ascii_strcasecmp(sub, "html") == 0;
	/* a text with a file name, or one sent as an attachment, is a file:
	 * sniffed again, so a CSV keeps its columns */
	if (g_ascii_strcasecmp(type, "text") == 0 && (plain || html) &&
	    !g_mime_part_is_attachment(part) && !(fn && *fn)) {
		if (plain)
			name_of(name, sizeof name, sc, "body", ++sc->plain, "");
		else
			name_of(name, sizeof name, sc, "body", ++sc->html, ".html");
		const char *charset = g_mime_object_get_content_type_parameter(obj, "charset");
		return hand_content(m, name, part, charset, 1);
	}
	attachment_name(name, sizeof name, sc, part);
	return hand_content(m, name, part, NULL, 0);
}

static int walk_part(mail_ctx *m, GMimeObject *obj, scope *sc, unsigned depth)
{
	char name[SN_MAIL_NAME_MAX];
	sn_doc *d = m->d;
	if (halt(m))
		return 1;
	if (depth > SN_MAIL_MAX_DEPTH && (GMIME_IS_MULTIPART(obj) || GMIME_IS_MESSAGE_PART(obj))) {
		/* once a message: a wide tree down there would repeat it */
		if (!m->deep_recorded)
			d->cb->record(d->payload, scope_name(sc, name, sizeof name),
				      SN_FILE_INCOMPLETE, "nesting-depth",
				      "MIME parts nested deeper than 64 were not read");
		m->deep_recorded = 1;
		return 0;
	}
	if (GMIME_IS_MULTIPART_ENCRYPTED(obj)) {
		name_of(name, sizeof name, sc, "encrypted", ++sc->enc, "");
		d->cb->record(d->payload, name, SN_FILE_INCOMPLETE, "encrypted",
			      "multipart/encrypted (PGP/MIME), no key");
		return 0;
	}
	if (GMIME_IS_APPLICATION_PKCS7_MIME(obj)) {
		GMimeApplicationPkcs7Mime *p7 = (GMimeApplicationPkcs7Mime *)obj;
		GMimeSecureMimeType t = g_mime_application_pkcs7_mime_get_smime_type(p7);
		name_of(name, sizeof name, sc, "encrypted", ++sc->enc, "");
		if (t == GMIME_SECURE_MIME_TYPE_ENVELOPED_DATA)
			d->cb->record(d->payload, name, SN_FILE_INCOMPLETE, "encrypted",
				      "S/MIME enveloped data, no key");
		else
			/* the content is inside a CMS structure (opaque
			 * signature, compression) no decoder here reads */
			d->cb->record(d->payload, name, SN_FILE_INCOMPLETE, "unsupported",
				      "S/MIME content inside a CMS structure");
		return 0;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = (GMimeMultipart *)obj;
		int n = g_mime_multipart_get_count(mp);
		const char *pro = g_mime_multipart_get_prologue(mp);
		const char *epi = g_mime_multipart_get_epilogue(mp);
		/* without a (found) boundary the whole content is the prologue */
		if (pro && !boilerplate(pro)) {
			if (n == 0)
				name_of(name, sizeof name, sc, "body", ++sc->plain, "");
			else
				name_of(name, sizeof name, sc, "prologue", 1, "");
			if (hand_text(m, name, pro, strlen(pro)))
				return 1;
		}
		for (int i = 0; i < n; i++) {
			GMimeObject *child = g_mime_multipart_get_part(mp, i);
			if (child && walk_part(m, child, sc, depth + 1))
				return 1;
		}
		if (epi && !boilerplate(epi)) {
			name_of(name, sizeof name, sc, "epilogue", 1, "");
			if (hand_text(m, name, epi, strlen(epi)))
				return 1;
		}
		return 0;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message((GMimeMessagePart *)obj);
		if (!inner)
			return 0;
		scope *child = g_try_new0(scope, 1);
		if (!child) {
			m->rc = sn_error_set(SN_ENOMEM, "out of memory");
			return 1;
		}
		name_of(child->prefix, sizeof child->prefix, sc, "forwarded", ++sc->fwd, "/");
		int stop = walk_message(m, inner, child, depth, NULL, 0);
		g_free(child);
		return stop;
	}
	if (GMIME_IS_PART(obj))
		return walk_leaf(m, (GMimePart *)obj, sc);
	return 0;
}

/* Records for damage GMime reported while building the message. */
static void record_damage(mail_ctx *m, const char *msgname)
{
	sn_doc *d = m->d;
	if (m->damage & DAMAGE_TRUNCATED)
		d->cb->record(d->payload, msgname, SN_FILE_INCOMPLETE, "corrupt",
			      "the message ends inside a multipart part");
	if (m->damage & DAMAGE_NO_BOUNDARY)
		d->cb->record(d->payload, msgname, SN_FILE_INCOMPLETE, "corrupt",
			      "a multipart without boundary was read as plain text");
	if (m->dropped.failed)
		d->cb->record(d->payload, msgname, SN_FILE_INCOMPLETE, "corrupt",
			      "more than 1 MiB of malformed header lines; the rest was not read");
}

static void mail_parser_setup(mail_ctx *m, GMimeParser *parser, int mbox)
{
	g_mime_parser_set_format(parser, mbox ? GMIME_FORMAT_MBOX : GMIME_FORMAT_MESSAGE);
	/* a Content-Length header would let a message hide what follows it */
	g_mime_parser_set_respect_content_length(parser, FALSE);
	/* a stream over a reader has offsets but no substreams */
	if (m->ms)
		g_mime_parser_set_persist_stream(parser, FALSE);
}

/* GMime gives up on an mbox message whose separator line is not followed by
 * header fields, and its parser stays in that state.  A new parser started
 * where the old one stopped skips to the next separator line, so one
 * damaged message does not cost the rest of the mailbox.  Returns -1 when
 * it cannot (no progress, or the bytes are gone). */
static int mail_restart(mail_ctx *m, GMimeStream *stream, gint64 *last)
{
	gint64 at = g_mime_parser_tell(m->parser);
	if (at < 0 || at <= *last)
		return -1;
	*last = at;
	if (m->ms ? ms_rewind(m->ms, (uint64_t)at) < 0
		  : g_mime_stream_seek(stream, at, GMIME_STREAM_SEEK_SET) != at)
		return -1;
	g_mime_parser_init_with_stream(m->parser, stream);
	mail_parser_setup(m, m->parser, 1);
	return 0;
}

static int mail_decode(sn_doc *d)
{
	mail_ctx m;
	GMimeStream *stream = NULL;
	GMimeParser *parser = NULL;
	GMimeParserOptions *opts = NULL;
	static const char *fallback[] = { "UTF-8", "windows-1252", "iso-8859-1", NULL };
	int mbox = mbox_line(d->head, d->head_len) > 0;
	gint64 last_restart = -1;

	pthread_once(&mail_once, mail_init);
	memset(&m, 0, sizeof m);
	m.d = d;
	sn_buf_init(&m.dropped, SN_MAIL_DROPPED_MAX);
	if (d->in->fd >= 0 && lseek(d->in->fd, 0, SEEK_SET) == 0) {
		int fd = fcntl(d->in->fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0) {
			m.rc = sn_error_set(SN_EIO, "dup: %s", strerror(errno));
			goto done;
		}
		stream = g_mime_stream_fs_new(fd); /* owns fd; reads with lseek+read */
	} else {
		m.ms = g_object_new(mail_stream_type, NULL);
		m.ms->d = d;
		stream = (GMimeStream *)m.ms;
		g_mime_stream_construct(stream, 0, -1); /* unbounded */
	}
	opts = g_mime_parser_options_new();
	g_mime_parser_options_set_warning_callback(opts, mail_warn, &m);
	g_mime_parser_options_set_rfc2047_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_fallback_charsets(opts, fallback);
	parser = g_mime_parser_new_with_stream(stream);
	m.parser = parser;
	mail_parser_setup(&m, parser, mbox);

	for (unsigned n = 1;; n++) {
		char msgname[32];
		scope *sc;
		if (mbox && g_mime_parser_eos(parser))
			break;
		if (halt(&m))
			break;
		snprintf(msgname, sizeof msgname, "message %u", n);
		if (mbox) {
			/* a message counts as an archive entry does */
			d->b->entries++;
			const char *lim = sn_budget_check(d->b, 0, 0, 1);
			if (lim) {
				m.limit = lim;
				halt(&m);
				break;
			}
		}
		m.damage = 0;
		m.deep_recorded = 0;
		sn_buf_reset(&m.dropped);
		gint64 prev_marker = mbox ? g_mime_parser_get_mbox_marker_offset(parser) : -1;
		GMimeMessage *msg = g_mime_parser_construct_message(parser, opts);
		if (!msg) {
			if (m.ms && (m.ms->failed || sn_stop_requested(d->b->stop)))
				break; /* the reader stopped: the driver records why */
			if (!mbox) {
				d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, "corrupt",
					      "not a readable message");
				break;
			}
			/* no separator line was left: the mailbox has ended */
			if (g_mime_parser_get_mbox_marker_offset(parser) == prev_marker)
				break;
			d->cb->record(d->payload, msgname, SN_FILE_INCOMPLETE, "corrupt",
				      "no header fields after the separator line; not read");
			if (mail_restart(&m, stream, &last_restart) < 0) {
				d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, "corrupt",
					      "the rest of this mailbox was not read");
				break;
			}
			if (m.ms)
				m.ms->mark = m.ms->total;
			continue;
		}
		if (d->path && !m.ms)
			d->b->top_consumed = mail_consumed(&m);
		sc = g_try_new0(scope, 1);
		if (!sc) {
			g_object_unref(msg);
			m.rc = sn_error_set(SN_ENOMEM, "out of memory");
			break;
		}
		if (mbox)
			snprintf(sc->prefix, sizeof sc->prefix, "%s/", msgname);
		char *marker = mbox ? g_mime_parser_get_mbox_marker(parser) : NULL;
		/* a limit that ended this message is recorded for the unit by
		 * halt() above when more messages follow */
		walk_message(&m, msg, sc, 0, marker, 1);
		g_free(marker);
		g_free(sc);
		g_object_unref(msg);
		if (m.rc)
			break;
		record_damage(&m, mbox ? msgname : NULL);
		if (m.ms && m.ms->over) {
			d->cb->record(d->payload, mbox ? msgname : NULL, SN_FILE_INCOMPLETE,
				      "too-large-to-buffer",
				      mbox ? "a message over --max-buffer inside another file; "
					     "the rest of the mailbox was not read"
					   : "a message over --max-buffer inside another file");
			break;
		}
		if (!mbox || (m.ms && m.ms->failed))
			break;
		if (m.ms)
			m.ms->mark = m.ms->total;
	}
	if (!m.rc && sn_stop_requested(d->b->stop))
		m.rc = SN_ESTOP;
done:
	if (parser)
		g_object_unref(parser);
	if (stream)
		g_object_unref(stream);
	if (opts)
		g_mime_parser_options_free(opts);
	sn_buf_free(&m.dropped);
	return m.rc;
}

const sn_decoder sn_decoder_mail = { "mail", mail_accepts, mail_decode };
