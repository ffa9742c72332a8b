/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Running a scan: walk the paths, read every regular file through the source
 * and text stages, match, and hand findings and ledger records to a sink.
 */
#ifndef SPEURNEUS_SCAN_H
#define SPEURNEUS_SCAN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "speurneus/key.h"
#include "speurneus/rules.h"
#include "speurneus/types.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sn_sink;

/* 3 added `progress` at the end of sn_scan_options; version 2 structs are
 * still accepted (without progress). */
#define SN_SCAN_OPTIONS_VERSION 3

/*
 * Limits for containers (archives and compressed streams), all counted on
 * bytes actually produced, never on sizes that headers claim.  A limit hit
 * is a ledger record (incomplete, with the reason in brackets), never a
 * silent skip.  The defaults let a real 50 GB backup through whole while a
 * bomb stops within seconds: the ratio limit, not a small byte budget, is
 * what stops bombs.
 */
typedef struct sn_limits {
	unsigned max_nesting;      /* containers inside containers (8) [nesting-depth] */
	uint64_t max_buffer;       /* a nested member a format must seek in, such as
				      7z or zip, is held in memory up to this (256 MiB)
				      [too-large-to-buffer] */
	uint64_t max_member_size;  /* bytes one member may produce (64 GiB) [member-size] */
	uint64_t max_total_size;   /* bytes one top-level file may produce at all
				      levels together (1 TiB) [total-size] */
	unsigned max_ratio;        /* produced : consumed, per member and per top-level
				      file (200) [ratio] */
	uint64_t ratio_min_bytes;  /* the ratio is judged once this much was produced
				      (16 MiB): small, very repetitive members pass */
	uint64_t max_entries;      /* entries in one top-level file, all levels
				      (1,000,000) [entries] */
	unsigned max_time_s;       /* seconds per top-level file (7200; 0 = none),
				      checked between decoder calls [time] */
} sn_limits;

#define SN_LIMITS_INIT { 8, 256ull << 20, 64ull << 30, 1ull << 40, 200, 16ull << 20, 1000000, \
			 7200 }

/*
 * Live counters of a running scan, for a progress display.  The caller makes
 * one with sn_scan_progress_new, sets sn_scan_options.progress, and may call
 * sn_scan_progress_get from any thread, before, during and after the run.
 * Workers update it without a shared lock: counters are relaxed atomics,
 * kept per worker where they change per finding or per chunk, and a worker's
 * current path sits behind a lock of its own that only the sampler also
 * takes.  A snapshot may lag the work by a chunk; once sn_scan_run (or
 * sn_scan_buffer) has returned, `files` and `bytes` equal the summary's
 * files_scanned and bytes_scanned and `findings` its reported findings.
 * Counts add up over runs; use one object for one run at a time.
 */
typedef struct sn_scan_progress sn_scan_progress;

#define SN_PROGRESS_PATH_MAX 512

typedef struct sn_scan_snapshot {
	uint64_t files;       /* units fully scanned (files_scanned) */
	uint64_t bytes;       /* bytes read, units still being read included */
	uint64_t findings;    /* reported findings (at or above min_confidence) */
	uint64_t input_bytes; /* bytes consumed of the top-level files and stdin, as
				 positions in them: a finished file counts whole
				 (its size), so against their total size this is
				 how far the scan is */
	unsigned active;      /* workers reading a top-level file now */
	int path_cut;         /* 1: `path` lost its beginning to fit */
	char path[SN_PROGRESS_PATH_MAX]; /* a top-level path being read ("-" for
				 stdin, "" when none): the name's bytes as given,
				 not sanitized for a terminal.  The same path is
				 kept while its file is being read. */
} sn_scan_snapshot;

/* A zeroed progress object; free with sn_scan_progress_free. */
int sn_scan_progress_new(sn_scan_progress **out);
void sn_scan_progress_free(sn_scan_progress *p);

/* Fill `out` with the counters now.  Thread-safe; cheap (one lock per
 * worker, and an lseek on the descriptor of each top-level file open). */
void sn_scan_progress_get(sn_scan_progress *p, sn_scan_snapshot *out);

typedef struct sn_scan_options {
	unsigned version;            /* SN_SCAN_OPTIONS_VERSION */
	const char *const *paths;    /* files, directories, "-" for stdin */
	size_t npaths;
	unsigned threads;            /* 0: number of online CPUs */
	int follow;
	int one_file_system;
	int respect_gitignore;
	const char *const *excludes;
	size_t nexcludes;
	uint64_t max_filesize;       /* 0: no limit */
	sn_confidence min_confidence; /* findings below are counted, not reported */
	int reveal;
	int slow_path;               /* plain PCRE2 over every chunk (testing) */
	const sn_key *key;
	const sn_ruleset *rules;
	volatile sig_atomic_t *stop; /* set by a signal handler to interrupt */
	sn_limits limits;
	/* version 3 */
	sn_scan_progress *progress;  /* NULL, or counters to update (not owned) */
} sn_scan_options;

#define SN_SCAN_OPTIONS_INIT { SN_SCAN_OPTIONS_VERSION, NULL, 0, 0, 0, 0, 0, NULL, 0, 0, \
			       SN_CONF_MEDIUM, 0, 0, NULL, NULL, NULL, SN_LIMITS_INIT, NULL }

typedef struct sn_scan_result {
	int interrupted;
	double duration_s;
	unsigned threads;
	/* How long units were split across threads: the segments their text
	 * after the first chunk was cut into, each matched by whichever
	 * thread was free ... */
	uint64_t segments;
	/* ... and of those, the ones matched again because a match ran over
	 * the border before them (the findings are the same either way). */
	uint64_t rematched;
} sn_scan_result;

/* Run the scan; records go to `sink` (see scanner/sink/sink.h; the caller
 * writes the header before and the summary after).  Returns 0, or a negative
 * SN_E* code on a fatal error (the sink's own write failures are reported by
 * its statistics). */
int sn_scan_run(const sn_scan_options *o, struct sn_sink *sink, sn_scan_result *res);

/* Scan one in-memory buffer as a unit named `name` (through every decoder,
 * as a file would be), on the calling thread.  Used by the fuzz targets and
 * by callers that already hold the bytes.  Same return as sn_scan_run. */
int sn_scan_buffer(const sn_scan_options *o, struct sn_sink *sink, const void *data, size_t n,
		   const char *name);

/* Default number of worker threads (online CPUs, at least 1). */
unsigned sn_scan_default_threads(void);

#ifdef __cplusplus
}
#endif
#endif
