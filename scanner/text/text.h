/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The text stage: turns a unit's bytes into scannable UTF-8 in fixed-size
 * chunks.
 *
 *  - Encoding: UTF-8 (BOM skipped), UTF-16LE/BE with a BOM, BOM-less UTF-16
 *    recognised by its NUL pattern, and Windows-1252 (a superset of the
 *    printable Latin-1 range) for every byte that is not part of a valid UTF-8
 *    sequence.  The output is always valid UTF-8 (so the matcher can skip
 *    PCRE2's UTF check).  NBSP (U+00A0) and narrow NBSP (U+202F) become a
 *    plain space, so offsets are offsets in that normalized text.
 *  - Chunking: each chunk holds `before` bytes of already-emitted context, new
 *    text, and a tail of at least `after` bytes that the next chunk emits.
 *    A match is reported by the chunk in whose [emit_from, emit_to) range it
 *    starts, so a value across a chunk border is found exactly once, with its
 *    keyword context on both sides.  Cuts prefer a line end, and are always
 *    on a UTF-8 character boundary.
 *  - Position bookkeeping: line and character column of data[0].
 *
 * Memory: one buffer of about chunk + before + after + 3 x read size bytes
 * per stream, whatever the unit's size.
 */
#ifndef SN_TEXT_TEXT_H
#define SN_TEXT_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum sn_encoding {
	SN_ENC_UTF8 = 0, /* with per-byte Windows-1252 fallback */
	SN_ENC_UTF16LE,
	SN_ENC_UTF16BE
} sn_encoding;

const char *sn_encoding_name(sn_encoding e); /* "utf-8", "utf-16le", ... */

/* Decide the encoding from the first bytes of a unit.  *bom_len is set to the
 * number of BOM bytes to skip (0, 2 or 3). */
sn_encoding sn_encoding_sniff(const uint8_t *buf, size_t n, size_t *bom_len);

/* One chunk handed to the matcher. */
typedef struct sn_chunk {
	const char *data;      /* valid UTF-8 */
	size_t len;
	size_t emit_from;      /* report matches starting in [emit_from, emit_to) */
	size_t emit_to;
	uint64_t base_offset;  /* offset of data[0] in the unit's decoded text */
	uint64_t base_line;    /* 1-based line number of data[0] */
	uint64_t base_col;     /* 0-based character column of data[0] */
	int is_first;          /* data[0] is the start of the unit */
	int is_last;           /* data[len-1] is the end of the unit */
} sn_chunk;

/* Pulls raw bytes of the unit: returns bytes read (>0), 0 at end, or -1 with
 * errno set on a read error. */
typedef ssize_t (*sn_read_fn)(void *ctx, void *buf, size_t n);

/* Called for each chunk; a nonzero return stops the stream and is returned
 * by sn_text_stream. */
typedef int (*sn_chunk_fn)(const sn_chunk *c, void *payload);

typedef struct sn_text_options {
	size_t chunk;  /* target new-text bytes per chunk (default 256 KiB) */
	size_t before; /* context bytes kept before emit_from (default 512) */
	size_t after;  /* tail bytes after emit_to (default 1024); must be at
			  least the longest match plus the keyword window */
	size_t read_size; /* bytes per read call (default 128 KiB) */
} sn_text_options;

/* Default chunk and read sizes; tools/bench-buffers builds with other
 * values (-DSN_TEXT_CHUNK=..., -DSN_TEXT_READ=...) to measure them. */
#ifndef SN_TEXT_CHUNK
#define SN_TEXT_CHUNK (256 * 1024)
#endif
#ifndef SN_TEXT_READ
#define SN_TEXT_READ (128 * 1024)
#endif
#define SN_TEXT_OPTIONS_INIT { SN_TEXT_CHUNK, 512, 1024, SN_TEXT_READ }

typedef struct sn_text sn_text;

/* One reusable stream state per worker. */
int sn_text_new(sn_text **out, const sn_text_options *o);
void sn_text_free(sn_text *t);

/*
 * Stream one unit.  `prefix`/`prefix_len` are bytes already read by the
 * caller for type sniffing (they come first), then `read` is called until it
 * returns 0.  Returns 0 at the end of the unit, the callback's nonzero value,
 * or SN_EIO when read failed (errno kept in *read_errno).  *bytes_in is the
 * number of raw bytes consumed; *enc the encoding used.
 */
int sn_text_stream(sn_text *t, const uint8_t *prefix, size_t prefix_len,
		   sn_read_fn read, void *read_ctx, sn_chunk_fn on_chunk,
		   void *payload, uint64_t *bytes_in, sn_encoding *enc,
		   int *read_errno);

/* Convenience for tests and small inputs: whole buffer in one call. */
int sn_text_stream_buffer(sn_text *t, const uint8_t *buf, size_t n,
			  sn_chunk_fn on_chunk, void *payload);

#endif
