/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Document decoders: formats whose text is not simply their bytes -- office
 * files (OOXML, ODF), PDF, mail (eml, mbox) and SQLite databases.  Each
 * decoder is one file, scanner/source/decode_<name>.c, and one line in the
 * table of decoders.c.  The scan driver sniffs a unit, asks each decoder in
 * turn whether it takes the unit, and hands it to the first that does.
 *
 * A decoder turns its unit into parts, handed to the driver through
 * sn_doc_cb; every part is named in the member chain, as archive members are:
 *
 *   - text parts, as members whose sn_input has is_text set: the driver
 *     sends them straight to the text stage (no sniffing; encoding detected
 *     as for any file), e.g. "brief.docx//word/document.xml",
 *     "brief.pdf//page 3", "post.eml//headers";
 *   - nested units, as members without is_text: sniffed again like an
 *     archive member, so a zip attachment is opened as an archive and a CSV
 *     attachment scanned as tabular text ("post.mbox//message 2//klanten.zip//a.csv");
 *   - tables (spreadsheet sheets, database tables), row by row: the column
 *     names give context like a CSV header and every finding carries
 *     `field` (the column's name) and `row` (the row number the decoder
 *     gives: the sheet's row number, the rowid);
 *   - ledger records for what could not be read: "encrypted", "corrupt",
 *     "unsupported", "wal", and SN_FILE_SKIPPED "image" for images and
 *     image-only PDF pages (they are counted apart in the summary).
 *
 * A decoder never writes anything to disk and never loads anything named
 * inside the document (no external XML entities, DTDs, URLs or files).
 * Bytes it inflates (zip members, base64, PDF streams) count against the
 * budget: sn_doc_check says when a limit is reached.  Memory a decoder holds
 * must not grow with the document beyond what its library needs; a format
 * that needs the whole unit in memory uses sn_doc_buffer, which honours
 * --max-buffer.
 */
#ifndef SN_SOURCE_DECODER_H
#define SN_SOURCE_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include "source/container.h"
#include "source/source.h"

typedef struct sn_doc_cb {
	/* A part: scanned (read) by the driver before this returns.  Nonzero
	 * return (SN_ESTOP) means stop decoding and return it. */
	int (*member)(void *payload, const char *name, sn_input *in);
	/* A ledger record for `name` (a part), or the unit itself when NULL. */
	void (*record)(void *payload, const char *name, sn_file_status st, const char *reason,
		       const char *detail);
	/* A table: `cols` are the column names (ncols of them), or NULL when the
	 * table has no header -- then columns whose values mostly validate
	 * count as that rule's column.  Rows follow; cells are bytes (made
	 * valid UTF-8 by the driver), a NULL cell is empty.  Every begin is
	 * followed by an end. */
	int (*table_begin)(void *payload, const char *name, const char *const *cols, size_t ncols);
	int (*row)(void *payload, int64_t row, const char *const *cells, const size_t *lens,
		   size_t ncells);
	int (*table_end)(void *payload);
} sn_doc_cb;

/* One unit handed to a decoder. */
typedef struct sn_doc {
	const uint8_t *head;  /* the first bytes, already read (sniffed) */
	size_t head_len;
	sn_input *in;         /* the rest of the unit; when in->fd >= 0 it is a
				 top-level regular file that may be read again
				 from offset 0 (pread/lseek/mmap) */
	const char *path;     /* the top-level file's path when the unit is that
				 file (not nested), else NULL */
	const sn_type *type;  /* what the sniffer said */
	sn_budget *b;
	const sn_doc_cb *cb;
	void *payload;
	uint64_t produced;    /* bytes the decoder produced so far (sn_doc_check) */
} sn_doc;

typedef struct sn_decoder {
	const char *name; /* "ooxml", "odf", "pdf", "mail", "sqlite", ... */
	/* 1 when this decoder takes a unit of this type with these first bytes */
	int (*accepts)(const sn_type *ty, const uint8_t *head, size_t n);
	/* Decode it.  Returns 0 (damage is a record, not an error), SN_ESTOP
	 * when a callback asked to stop, or a negative error (SN_ENOMEM). */
	int (*decode)(sn_doc *d);
} sn_decoder;

/* The decoder that takes this unit, or NULL. */
const sn_decoder *sn_decoder_find(const sn_type *ty, const uint8_t *head, size_t n);

/* ---- helpers for decoders ---------------------------------------------- */

/* The whole unit in memory (head included), at most --max-buffer bytes.
 * Returns 0 with *out (malloc'd, caller frees) and *len; 1 when the unit is
 * larger than --max-buffer or its reader stopped (then it is already on
 * record and the decoder just returns 0); or SN_ENOMEM. */
int sn_doc_buffer(const sn_doc *d, uint8_t **out, size_t *len);

/* A reader over memory. */
typedef struct sn_mem_input {
	sn_input in; /* first member: in.ctx points back here */
	const uint8_t *p;
	size_t n, off;
} sn_mem_input;

void sn_mem_input_init(sn_mem_input *m, const void *p, size_t n, const char *name, int is_text);

/* Hand decoded text (UTF-8, or bytes in any encoding the text stage knows)
 * as the part `name`. */
int sn_doc_text(const sn_doc *d, const char *name, const void *text, size_t n);

/* Hand bytes as a nested unit `name`, sniffed again (an attachment). */
int sn_doc_nested(const sn_doc *d, const char *name, const void *p, size_t n);

/* The budget check for `add` more bytes a decoder produced (inflated,
 * decoded) when it has read `consumed` bytes of its unit (its size, when
 * the decoder holds it whole): NULL, or the limit reached ("ratio",
 * "member-size", "total-size", "time", ...).  The decoder then stops and
 * records it: d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, reason,
 * detail). */
const char *sn_doc_check(sn_doc *d, uint64_t add, uint64_t consumed);

/* The same for one part inflated from a container inside the document (a
 * zip member of an office file): `add` more bytes, the part having produced
 * `produced` bytes from `consumed` compressed bytes so far.  Judging the part
 * on its own bytes stops a deflate bomb early, as for archive members. */
const char *sn_doc_check_part(sn_doc *d, uint64_t add, uint64_t produced, uint64_t consumed);

extern const sn_decoder sn_decoder_pdf;
extern const sn_decoder sn_decoder_sqlite;
extern const sn_decoder sn_decoder_mail;
extern const sn_decoder sn_decoder_ooxml;
extern const sn_decoder sn_decoder_odf;
#endif
