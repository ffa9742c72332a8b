/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Containers: archives and compressed streams read with libarchive, nested,
 * streaming, with every limit checked in one place (sn_budget_check).
 *
 * The decoder walks the entries of one container and hands each regular
 * member to the caller as a pull reader; the caller sniffs it and either
 * scans it as text or opens it as a container again (nesting).  Nothing is
 * written to disk and member names are only names: "../../etc/passwd" inside
 * a tar never touches the file system.
 *
 * Formats and filters are listed explicitly; libarchive's external-program
 * fallbacks are never enabled (a filter that would need a program is
 * probed once and left out).
 */
#ifndef SN_SOURCE_CONTAINER_H
#define SN_SOURCE_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "speurneus/scan.h"
#include "speurneus/types.h"
#include "text/text.h"

/* Budget shared by every level of one top-level file. */
typedef struct sn_budget {
	const sn_limits *lim;
	uint64_t top_consumed;   /* bytes the top-level container read from its source */
	uint64_t total_produced; /* bytes produced by members at every level */
	uint64_t entries;
	double deadline;         /* monotonic seconds, 0 = none */
	const char *hit;         /* a limit that ends the whole top-level file */
	volatile sig_atomic_t *stop;
} sn_budget;

void sn_budget_init(sn_budget *b, const sn_limits *lim, volatile sig_atomic_t *stop);

/* The one place limits are judged: for a member that has produced
 * `produced` bytes from `consumed` bytes of its container's input.
 * `container` says the member is itself a container (the decompressed tar of
 * a .tar.gz): its own members are held to --max-member-size, not it.
 * Returns NULL or the reason of the first limit reached; a reason that ends
 * the whole top-level file is also stored in b->hit. */
const char *sn_budget_check(sn_budget *b, uint64_t produced, uint64_t consumed, int container);

/* A source of bytes for one unit, pulled by the text stage or by a nested
 * container.  When the reader stops early it says why. */
typedef struct sn_input {
	sn_read_fn read;
	void *ctx;
	int fd;                  /* top-level regular file: seekable descriptor, else -1 */
	const char *name;        /* member name or path, for naming compressed streams */
	int transparent;         /* the decompressed content of a compressed stream:
				    when it is an archive itself (a tar in a .tar.gz)
				    it adds no level to the member chain */
	/* set by the reader when it stops before the end: */
	sn_file_status stop_status;
	const char *stop_reason; /* static string or NULL */
	char stop_detail[160];
	uint64_t produced;       /* bytes handed out */
	int is_container;        /* set by the caller once it opens this unit as a container */
	int sniffed;             /* set by the caller once it knows what the unit is */
	int stop_reported;       /* a unit inside already recorded stop_reason */
	int is_text;             /* decoded text from a document decoder: scanned
				    as text without sniffing */
} sn_input;

/* What the decoder tells its caller. */
typedef struct sn_container_cb {
	/* A regular member: scan `in` (the caller reads it; what it does not
	 * read is skipped).  Return nonzero to stop the container. */
	int (*member)(void *payload, const char *name, sn_input *in);
	/* A ledger record; `name` is the member it concerns, or NULL for the
	 * container itself. */
	void (*record)(void *payload, const char *name, sn_file_status st, const char *reason,
		       const char *detail);
} sn_container_cb;

/* Whether `head` (the first bytes) should be opened as a container:
 * the sniffer's reason is "archive" or "compressed". */
int sn_container_kind(const char *sniff_reason);

/*
 * Read the container whose first `head_len` bytes are in `head` and whose
 * remaining bytes come from `in` (or, when in->fd >= 0, from the start of that
 * seekable file).  A "compressed" stream (the sniffer's reason) is opened
 * with the filters and the raw format only: its one member is the
 * decompressed data, sniffed again by the caller, so a tar inside is opened
 * as a (transparent) nested container and anything else is a unit of its
 * own -- libarchive's tar reader would take data that starts with 512 zero
 * bytes for an empty tar.  `nested` is nonzero inside another container: formats that
 * need random access (zip, 7z, iso9660) are then buffered in memory up to
 * lim->max_buffer.  Returns 0, or SN_ESTOP when the scan is stopping or the
 * callback asked to stop.
 */
int sn_container_scan(const uint8_t *head, size_t head_len, sn_input *in, int nested,
		      const char *sniff_reason, sn_budget *b, const sn_container_cb *cb,
		      void *payload);

/* Pull the whole unit into memory: `head` then the rest of `in`, at most
 * `max` bytes.  Returns 0 with *out (malloc'd) and *out_len, and *too_large
 * set when the unit goes on past `max` (then *out holds the first bytes);
 * SN_EIO when the reader failed (in->stop_reason may say why); SN_ENOMEM. */
int sn_input_buffer_all(const uint8_t *head, size_t head_len, sn_input *in, uint64_t max,
			uint8_t **out, size_t *out_len, int *too_large);

/* Mark `in` as stopped before its end (the first reason stays): the unit
 * is recorded with `st`, `reason` and `detail` by whoever scans it. */
void sn_input_stop(sn_input *in, sn_file_status st, const char *reason, const char *detail);

struct archive;
/* Whether libarchive's last error on `a` says the data is encrypted (it has
 * no error code for that, only the message). */
int sn_archive_encrypted(struct archive *a);

/* Name for the single member of a compressed stream: `outer` without its
 * compression suffix ("klanten.csv.gz" -> "klanten.csv"); written to out. */
void sn_container_stream_name(const char *outer, char *out, size_t n);

#endif
