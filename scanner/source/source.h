/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The source stage: opens one job safely and decides what its content is.
 *
 * Opening: O_RDONLY|O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC|O_NOATIME (O_NOATIME is
 * dropped and the open retried on EPERM), then fstat on the descriptor: only
 * regular files are read, so a FIFO, socket or device swapped in after the
 * directory listing can never block the scan.  O_NONBLOCK is cleared again
 * once the descriptor is known to be a regular file.
 *
 * Type detection: cheap magic-byte sniffing on the first block; libmagic only
 * for content that the sniffers cannot classify and that does not look like
 * text (libmagic on every file would cost more than scanning a small file).
 */
#ifndef SN_SOURCE_SOURCE_H
#define SN_SOURCE_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "speurneus/types.h"

/* Files at least this large are opened with sequential read-ahead advice. */
#define SN_SOURCE_ADVISE_MIN (1 << 20)

/* Outcome of sn_source_open. */
typedef struct sn_open_result {
	int fd;              /* >= 0 when status == SN_FILE_SCANNED */
	struct stat st;      /* fstat of fd (valid when fd >= 0) */
	sn_file_status status; /* SCANNED = opened fine; otherwise a ledger outcome */
	const char *reason;  /* when not opened: special-file, symlink,
				permission-denied, vanished, open-error, ... */
	int err;             /* errno of the failure, 0 otherwise */
} sn_open_result;

/* Open `path` for scanning.  `follow` allows the final component to be a
 * symlink (used for roots and --follow).  Never blocks on special files. */
void sn_source_open(sn_open_result *out, const char *path, int follow);

typedef enum sn_kind {
	SN_KIND_TEXT = 0,   /* scan it (encoding decided by the text stage) */
	SN_KIND_SKIP        /* not text and no decoder: skipped with `reason` */
} sn_kind;

typedef struct sn_type {
	sn_kind kind;
	const char *reason; /* binary, image, archive, compressed, document,
			       media, executable, database, font, ... (static) */
	char detail[128];   /* e.g. "PNG image" or libmagic's description */
} sn_type;

typedef struct sn_sniffer sn_sniffer; /* per worker: owns a lazy magic_t */

int sn_sniffer_new(sn_sniffer **out);
void sn_sniffer_free(sn_sniffer *s);

/* Classify a unit from its first `n` bytes (n may be 0 for an empty file,
 * which is text).  Thread-safe per sniffer object. */
void sn_sniff(sn_sniffer *s, const uint8_t *buf, size_t n, sn_type *out);

/* Number of times libmagic was consulted (for tests and statistics). */
uint64_t sn_sniffer_magic_calls(const sn_sniffer *s);

#endif
