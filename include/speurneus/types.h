/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Plain data types shared by the library's stages and its users: confidence
 * levels, locations (a path plus the chain of members inside containers),
 * findings and coverage-ledger records.
 *
 * All pointers inside these structs are borrowed: they are valid only for the
 * duration of the callback or call that hands the struct over.
 */
#ifndef SPEURNEUS_TYPES_H
#define SPEURNEUS_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sn_confidence {
	SN_CONF_NONE = 0, /* not a finding (used for "no threshold") */
	SN_CONF_LOW = 1,
	SN_CONF_MEDIUM = 2,
	SN_CONF_HIGH = 3
} sn_confidence;

/* "low", "medium", "high" ("none" for SN_CONF_NONE). */
const char *sn_confidence_name(sn_confidence c);
/* Parse a name; returns 0 and sets *out, or SN_EINVAL. */
int sn_confidence_parse(sn_confidence *out, const char *name);

/* Where a unit of text comes from.  `path` is the walked path exactly as
 * derived from the command line (raw bytes, may be non-UTF-8).  `member` is
 * the chain of member names inside containers, outermost first (empty for a
 * plain file). */
typedef struct sn_location {
	const char *path;
	const char *const *member;
	size_t nmember;
} sn_location;

#define SN_FINGERPRINT_LEN 32 /* BLAKE2b-256 */
#define SN_KEY_ID_HEX_LEN 8

/* One finding as it leaves the match stage: already masked and fingerprinted.
 * `raw` and `normalized` are NULL unless the scan was started with reveal. */
typedef struct sn_finding {
	const char *rule_id;
	const char *category;
	sn_confidence confidence;
	const sn_location *loc;
	uint64_t line;   /* 1-based */
	uint64_t column; /* 1-based, in characters of the decoded text */
	uint64_t offset; /* 0-based byte offset in the decoded UTF-8 text */
	const char *masked;       /* NUL-terminated, fixed shape per category */
	const char *raw;          /* reveal only, else NULL */
	size_t raw_len;
	const char *normalized;   /* reveal only, else NULL */
	uint8_t fingerprint[SN_FINGERPRINT_LEN];
	const char *field; /* tabular text: header name of the column, or NULL */
	int64_t row;       /* tabular text: 1-based data row, or -1 */
} sn_finding;

typedef enum sn_file_status {
	SN_FILE_SCANNED = 0,
	SN_FILE_SKIPPED,    /* deliberately not read: special file, image, ... */
	SN_FILE_INCOMPLETE, /* may hold personal data and was not fully read */
	SN_FILE_ERROR       /* could not be read at all */
} sn_file_status;

/* "scanned", "skipped", "incomplete", "error". */
const char *sn_file_status_name(sn_file_status s);

/* A coverage-ledger record: emitted for every file or member that was not
 * fully scanned.  `reason` is a short stable token (binary, image, archive,
 * too-large, permission-denied, vanished, changed, special-file, symlink,
 * symlink-loop, other-filesystem, read-error, interrupted, ...).  `detail`
 * is optional human text (e.g. a libmagic description or strerror), never
 * scanned content. */
typedef struct sn_file_record {
	const sn_location *loc;
	sn_file_status status;
	const char *reason;
	const char *detail; /* may be NULL */
	uint64_t bytes;     /* bytes read before the record was made */
} sn_file_record;

#ifdef __cplusplus
}
#endif
#endif
