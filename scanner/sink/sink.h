/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sink: the only place that writes output, and the keeper of the coverage
 * ledger and the summary counters.  One serializer per format; records are
 * formatted by the calling worker and written under one lock, so they never
 * interleave.  Raw values are written only when the finding carries them
 * (the scan was started with --reveal).
 *
 * Output to a file (-o) is written to a temporary file beside it, created
 * 0600, and renamed into place by sn_sink_close(commit=1).
 *
 * Thread-safety: sn_sink_finding, sn_sink_file and the sn_sink_note_*
 * functions may be called from any thread at once.
 */
#ifndef SN_SINK_SINK_H
#define SN_SINK_SINK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "speurneus/types.h"
#include "common/buf.h"

typedef enum sn_format { SN_FMT_TEXT = 0, SN_FMT_JSON, SN_FMT_NDJSON } sn_format;

/* "text", "json", "ndjson" -> format; 0 or SN_EINVAL. */
int sn_format_parse(sn_format *out, const char *name);

typedef struct sn_sink_options {
	sn_format format;
	const char *path;  /* -o FILE, or NULL for stdout */
	FILE *stream;      /* when path is NULL: where to write (stdout) */
	int color;         /* text format: 1 colour, 0 none */
	int sort_path;     /* --sort path: hold records, write sorted at the end */
} sn_sink_options;

typedef struct sn_scan_header {
	const char *tool_version;
	const char *rules_digest;
	const char *key_id;
	const char *host;
	const char *const *roots;
	size_t nroots;
	double started;    /* seconds since the epoch */
	unsigned threads;
	const char *min_confidence;
	int reveal;
} sn_scan_header;

typedef struct sn_sink sn_sink;

int sn_sink_open(sn_sink **out, const sn_sink_options *o);

/* First record ({"type":"scan",...}; text format: nothing). */
int sn_sink_begin(sn_sink *s, const sn_scan_header *h);

/* A reported finding (already at or above the threshold). */
int sn_sink_finding(sn_sink *s, const sn_finding *f);
/* Write out what the calling thread has batched: records given before this
 * call then precede any record another thread gives after it. */
int sn_sink_flush_thread(sn_sink *s);

/* A ledger record (status != SN_FILE_SCANNED). */
int sn_sink_file(sn_sink *s, const sn_file_record *r);

/* Summary counters. */
void sn_sink_note_scanned(sn_sink *s, uint64_t bytes);       /* one fully scanned file/unit */
void sn_sink_note_bytes(sn_sink *s, uint64_t bytes);         /* bytes read of a unit not fully scanned */
void sn_sink_note_excluded(sn_sink *s);                      /* --exclude / ignore file */
void sn_sink_note_hardlink(sn_sink *s);                      /* second link to a scanned inode */
void sn_sink_note_below(sn_sink *s, const char *category, sn_confidence c); /* below threshold */

typedef struct sn_sink_stats {
	uint64_t files_scanned;
	uint64_t bytes_scanned;
	uint64_t findings;                  /* reported */
	uint64_t findings_by_conf[4];       /* reported, indexed by sn_confidence */
	uint64_t skipped, incomplete, errors; /* ledger records by status */
	int write_failed;                   /* an output write failed (EPIPE, ENOSPC...) */
	int write_errno;
} sn_sink_stats;

/* Counters so far.  NDJSON findings are batched per thread and counted when
 * their batch is written, so call this once the writing threads are done
 * (it writes their pending batches first). */
void sn_sink_get_stats(sn_sink *s, sn_sink_stats *out);

/* Final record ({"type":"summary",...}); the text format writes a short
 * human summary paragraph at the end of the same stream.  `interrupted`
 * marks a partial report. */
int sn_sink_end(sn_sink *s, double duration_s, int interrupted);

/* Flush and close.  With commit and an -o path the temporary file is renamed
 * into place; without commit it is removed.  Returns 0 or SN_EIO (a write,
 * fsync or rename failed: the report is not trustworthy). */
int sn_sink_close(sn_sink *s, int commit);

/* JSON helpers, exposed for tests: append `s` (n bytes, any bytes) as a JSON
 * string literal.  Invalid UTF-8 bytes become U+FFFD; returns 1 when that
 * happened (the caller then adds a *_b64 member with the exact bytes). */
int sn_json_string(sn_buf *b, const char *s, size_t n);
void sn_base64(sn_buf *b, const unsigned char *s, size_t n);

#endif
