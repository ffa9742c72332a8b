/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Internal interface between the sink core (sink.c) and its serializers
 * (json.c for NDJSON and the JSON document, text_format.c for people).
 * A serializer only turns one record into bytes in a caller-owned sn_buf;
 * locking, ordering, separators and writing belong to the core, so adding a
 * format never touches the thread-safety or the write-error handling.
 */
#ifndef SN_SINK_FORMAT_H
#define SN_SINK_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "sink/sink.h"
#include "speurneus/types.h"

/* Per-category counters: reported findings by confidence and findings that
 * stayed below the threshold.  Categories are whatever the rules say. */
typedef struct sn_sink_category {
	char *name;
	uint64_t reported[4]; /* indexed by sn_confidence */
	uint64_t below;
} sn_sink_category;

/* Ledger records counted by (status, reason). */
typedef struct sn_sink_reason {
	sn_file_status status;
	char *name;
	uint64_t count;
} sn_sink_reason;

/* Everything the summary record shows; tables are sorted by name. */
typedef struct sn_sink_totals {
	uint64_t files_scanned, bytes_scanned, excluded, hardlinks;
	uint64_t by_status[4]; /* indexed by sn_file_status */
	uint64_t findings, by_conf[4], below;
	const sn_sink_category *cat;
	size_t ncat;
	const sn_sink_reason *reason;
	size_t nreason;
	double duration_s;
	int interrupted;
	uint64_t images; /* skipped with reason "image": photos, scans, image-only PDF pages */
} sn_sink_totals;

/*
 * A thread's memory of the last location and key_id it serialized, so that a
 * run of findings in one file does not escape the same path, member chain and
 * key_id again for every record.  Entries are keyed by the bytes they were
 * made from, never by pointers: the scanner reuses one sn_location (and one
 * path buffer) for the next file at the same address.  A cache belongs to one
 * thread, one format and one sink (so one key_id); `max` bounds each fragment
 * like a record buffer.
 */
typedef struct sn_sink_cache {
	sn_buf loc_key; /* path, then each member, each NUL-terminated */
	size_t nmember;
	int loc_valid;
	sn_buf loc;	/* the location as the format writes it */
	int kid_valid;
	sn_buf kid; /* JSON: ,"key_id":"...", made once */
} sn_sink_cache;

void sn_sink_cache_init(sn_sink_cache *c, size_t max);
void sn_sink_cache_free(sn_sink_cache *c);

/* The location as `build` writes it: from the cache when the path and member
 * bytes equal the cached entry's, else built and kept.  NULL when it is over
 * the cache's ceiling or memory ran out; the caller then writes the location
 * itself, and its record fails as it would have without the cache. */
const sn_buf *sn_sink_cache_loc(sn_sink_cache *c, const sn_location *loc,
				void (*build)(sn_buf *b, const sn_location *loc));

/* Length of the valid UTF-8 sequence at s[0..n) (1..4), or 0 when the byte
 * at s[0] does not start one (overlong forms and surrogates are invalid). */
size_t sn_sink_utf8_len(const unsigned char *s, size_t n);

/* Decimal digits of v, without printf. */
void sn_sink_put_u64(sn_buf *b, uint64_t v);

/* Decimal rendering independent of the C locale (JSON needs '.'):
 * `value` rounded to `decimals` (0..3) places; negatives and NaN give 0. */
void sn_sink_put_fixed(sn_buf *b, double value, unsigned decimals);

/* JSON records, without separator or newline. */
void sn_sink_json_header(sn_buf *b, const sn_scan_header *h);
void sn_sink_json_finding(sn_buf *b, sn_sink_cache *c, const sn_finding *f, const char *key_id);
void sn_sink_json_file(sn_buf *b, const sn_file_record *r);
void sn_sink_json_summary(sn_buf *b, const sn_sink_totals *t);

/* Text lines, each ending in a newline. */
void sn_sink_text_finding(sn_buf *b, sn_sink_cache *c, const sn_finding *f, int color);
void sn_sink_text_file(sn_buf *b, const sn_file_record *r, int color);
void sn_sink_text_summary(sn_buf *b, const sn_sink_totals *t);

#endif
