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

#define SN_SCAN_OPTIONS_VERSION 2

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
} sn_scan_options;

#define SN_SCAN_OPTIONS_INIT { SN_SCAN_OPTIONS_VERSION, NULL, 0, 0, 0, 0, 0, NULL, 0, 0, \
			       SN_CONF_MEDIUM, 0, 0, NULL, NULL, NULL, SN_LIMITS_INIT }

typedef struct sn_scan_result {
	int interrupted;
	double duration_s;
	unsigned threads;
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
