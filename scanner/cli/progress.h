/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * --progress: one status line on stderr, redrawn a few times a second from
 * the scan's live counters (sn_scan_progress) by a thread of its own, only
 * when stderr is a terminal.  The line is erased before the summary, and
 * before each write of a report that goes to the same terminal, so report,
 * warnings and status never run into each other.
 */
#ifndef SN_CLI_PROGRESS_H
#define SN_CLI_PROGRESS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "speurneus/scan.h"

typedef struct cli_progress cli_progress;

/* *out = a progress display for a scan of `total` input bytes (0: unknown,
 * then no ETA is shown), or NULL when stderr is not a terminal: --progress
 * is then ignored, as --color auto is when stdout is not one.  `stop` is set
 * (lock-free, by the signal handler) when the scan is being stopped: the
 * line then says so.  0 or SN_ENOMEM. */
int cli_progress_new(cli_progress **out, uint64_t total, const atomic_int *stop);

/* The counters to put in sn_scan_options.progress. */
sn_scan_progress *cli_progress_counters(cli_progress *pg);

/* When stdout is a terminal: a stream to write the report to instead of
 * stdout, whose writes erase the status line first and draw it again after.
 * NULL when stdout is not a terminal (or on failure: then use stdout).
 * Owned by `pg`; close the sink before cli_progress_free. */
FILE *cli_progress_stream(cli_progress *pg);

/* Start drawing (a thread, signals blocked in it); stop and erase the line.
 * Both accept NULL. */
int cli_progress_start(cli_progress *pg);
void cli_progress_stop(cli_progress *pg);

/* Erase the line before writing a message to stderr while drawing; it is
 * drawn again at the next refresh. */
void cli_progress_clear(cli_progress *pg);

void cli_progress_free(cli_progress *pg);

/* What one status line shows. */
typedef struct cli_progress_view {
	uint64_t files, bytes, findings;
	uint64_t input, total; /* input bytes consumed of `total` (0: unknown) */
	double elapsed_s;
	double rate;           /* bytes per second, recent */
	int stopping;
	const char *path;      /* raw name bytes, or "" */
	int path_cut;          /* `path` lost its beginning */
} cli_progress_view;

/* Format `v` in at most `cols` terminal columns into `out` (NUL-terminated,
 * `cap` at least 64).  Names are shown safely: control characters, invalid
 * UTF-8 and anything the terminal could read as an escape become '?'.
 * Returns the columns used.  Exposed for tests. */
size_t cli_progress_format(char *out, size_t cap, const cli_progress_view *v, size_t cols);

#endif
