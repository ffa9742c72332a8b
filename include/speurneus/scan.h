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

#define SN_SCAN_OPTIONS_VERSION 1

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
} sn_scan_options;

#define SN_SCAN_OPTIONS_INIT { SN_SCAN_OPTIONS_VERSION, NULL, 0, 0, 0, 0, 0, NULL, 0, 0, \
			       SN_CONF_MEDIUM, 0, 0, NULL, NULL, NULL }

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

/* Default number of worker threads (online CPUs, at least 1). */
unsigned sn_scan_default_threads(void);

#ifdef __cplusplus
}
#endif
#endif
