/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The scan driver: glue between the walker's workers and the per-worker
 * pipeline (source -> text -> match -> sink).  Each worker owns its sniffer,
 * text stream and matcher, so nothing on the hot path is shared but the rule
 * set (read-only) and the sink (one lock per record).
 *
 * Every file ends in exactly one of: scanned (counted), or a ledger record
 * skipped/incomplete/error with a reason.  A file whose size or mtime changed
 * while it was read, that ended early, or whose read failed, is incomplete:
 * it is never counted as clean.
 */
#include "speurneus/scan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "match/engine.h"
#include "sink/sink.h"
#include "source/source.h"
#include "speurneus/error.h"
#include "text/text.h"
#include "walk/walk.h"

#define SN_SNIFF_BYTES (64 * 1024)

typedef struct worker {
	sn_matcher *m;
	sn_text *t;
	sn_sniffer *sn;
	uint8_t *head;  /* first block, for sniffing */
} worker;

typedef struct scan_ctx {
	const sn_scan_options *o;
	sn_sink *sink;
	worker *w;
	unsigned nw;
	sn_inode_set *inodes;
	volatile sig_atomic_t *stop;
} scan_ctx;

typedef struct unit_ctx {
	scan_ctx *sc;
	worker *w;
	int stopped;
} unit_ctx;

typedef struct fd_reader {
	int fd;
	uint64_t total;
	volatile sig_atomic_t *stop;
} fd_reader;

/* A read interrupted by SIGINT/SIGTERM (the handlers are installed without
 * SA_RESTART) gives up when the scan is stopping, so a pipe that never ends
 * cannot hold the scan. */
static ssize_t read_fd(void *ctx, void *buf, size_t n)
{
	fd_reader *r = ctx;
	for (;;) {
		ssize_t k = read(r->fd, buf, n);
		if (k < 0 && errno == EINTR && !(r->stop && *r->stop))
			continue;
		if (k > 0)
			r->total += (uint64_t)k;
		return k;
	}
}

static int on_finding(const sn_finding *f, void *payload)
{
	unit_ctx *u = payload;
	if (f->confidence >= u->sc->o->min_confidence)
		return sn_sink_finding(u->sc->sink, f) < 0 ? SN_EIO : 0;
	sn_sink_note_below(u->sc->sink, f->category, f->confidence);
	return 0;
}

static int on_chunk(const sn_chunk *c, void *payload)
{
	unit_ctx *u = payload;
	if (u->sc->stop && *u->sc->stop) {
		u->stopped = 1;
		return SN_ESTOP;
	}
	return sn_matcher_scan(u->w->m, c, on_finding, u);
}

static void record(scan_ctx *sc, const sn_location *loc, sn_file_status st, const char *reason,
		   const char *detail, uint64_t bytes)
{
	sn_file_record r = { loc, st, reason, detail, bytes };
	sn_sink_file(sc->sink, &r);
	if (bytes)
		sn_sink_note_bytes(sc->sink, bytes);
}

/* Read the first block (up to SN_SNIFF_BYTES). Returns bytes or -1. */
static ssize_t read_head(int fd, uint8_t *buf, fd_reader *r)
{
	size_t got = 0;
	while (got < SN_SNIFF_BYTES) {
		ssize_t k = read_fd(r, buf + got, SN_SNIFF_BYTES - got);
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	(void)fd;
	return (ssize_t)got;
}

/* Scan an open descriptor as one unit. `st` is NULL for stdin. */
static void scan_fd(scan_ctx *sc, worker *w, int fd, const struct stat *st, const char *path)
{
	sn_location loc = { path, NULL, 0 };
	fd_reader rd = { fd, 0, sc->stop };
	ssize_t hn = read_head(fd, w->head, &rd);
	if (hn < 0 && sc->stop && *sc->stop) {
		record(sc, &loc, SN_FILE_INCOMPLETE, "interrupted", NULL, rd.total);
		return;
	}
	if (hn < 0) {
		record(sc, &loc, SN_FILE_ERROR, errno == EISDIR ? "open-error" : "read-error",
		       strerror(errno), rd.total);
		return;
	}
	sn_type ty;
	sn_sniff(w->sn, w->head, (size_t)hn, &ty);
	if (ty.kind == SN_KIND_SKIP) {
		record(sc, &loc, SN_FILE_SKIPPED, ty.reason, ty.detail[0] ? ty.detail : NULL, 0);
		return;
	}
	unit_ctx u = { sc, w, 0 };
	sn_matcher_begin_unit(w->m, &loc);
	uint64_t consumed = 0;
	sn_encoding enc;
	int rerr = 0;
	int rc = sn_text_stream(w->t, w->head, (size_t)hn, read_fd, &rd, on_chunk, &u, &consumed,
				&enc, &rerr);
	if (u.stopped || rc == SN_ESTOP || (sc->stop && *sc->stop)) {
		record(sc, &loc, SN_FILE_INCOMPLETE, "interrupted", NULL, rd.total);
		return;
	}
	if (rc == SN_EIO && rerr) {
		record(sc, &loc, SN_FILE_INCOMPLETE, "read-error", strerror(rerr), rd.total);
		return;
	}
	if (rc < 0) {
		record(sc, &loc, SN_FILE_ERROR, "scan-error", sn_error_last(), rd.total);
		return;
	}
	if (st) {
		struct stat after;
		if (fstat(fd, &after) == 0 &&
		    (after.st_size != st->st_size || after.st_mtim.tv_sec != st->st_mtim.tv_sec ||
		     after.st_mtim.tv_nsec != st->st_mtim.tv_nsec ||
		     (uint64_t)st->st_size != rd.total)) {
			record(sc, &loc, SN_FILE_INCOMPLETE, "changed",
			       "size or modification time changed while it was read", rd.total);
			return;
		}
	}
	if (sn_matcher_limit_hits(w->m)) {
		record(sc, &loc, SN_FILE_INCOMPLETE, "regex-limit",
		       "a pattern reached its backtracking budget", rd.total);
		return;
	}
	sn_sink_note_scanned(sc->sink, rd.total);
}

static int on_file(void *payload, unsigned wi, const char *path, int is_root)
{
	scan_ctx *sc = payload;
	worker *w = &sc->w[wi];
	sn_location loc = { path, NULL, 0 };
	sn_open_result orr;
	if (sc->stop && *sc->stop)
		return 0;
	sn_source_open(&orr, path, is_root || sc->o->follow);
	if (orr.fd < 0) {
		record(sc, &loc, orr.status, orr.reason, orr.err ? strerror(orr.err) : NULL, 0);
		return 0;
	}
	if (orr.st.st_nlink > 1) {
		int fresh = sn_inode_set_insert(sc->inodes, orr.st.st_dev, orr.st.st_ino);
		if (fresh == 0) {
			sn_sink_note_hardlink(sc->sink);
			close(orr.fd);
			return 0;
		}
	}
	if (sc->o->max_filesize && (uint64_t)orr.st.st_size > sc->o->max_filesize) {
		record(sc, &loc, SN_FILE_SKIPPED, "too-large", "larger than --max-filesize", 0);
		close(orr.fd);
		return 0;
	}
	scan_fd(sc, w, orr.fd, &orr.st, path);
	close(orr.fd);
	return 0;
}

static void on_record(void *payload, const char *path, sn_file_status st, const char *reason,
		      const char *detail)
{
	scan_ctx *sc = payload;
	sn_location loc = { path, NULL, 0 };
	record(sc, &loc, st, reason, detail, 0);
}

static void on_excluded(void *payload, const char *path)
{
	scan_ctx *sc = payload;
	(void)path;
	sn_sink_note_excluded(sc->sink);
}

unsigned sn_scan_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

static void free_workers(scan_ctx *sc)
{
	if (!sc->w)
		return;
	for (unsigned i = 0; i < sc->nw; i++) {
		sn_matcher_free(sc->w[i].m);
		sn_text_free(sc->w[i].t);
		sn_sniffer_free(sc->w[i].sn);
		free(sc->w[i].head);
	}
	free(sc->w);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sn_scan_run(const sn_scan_options *o, struct sn_sink *sink, sn_scan_result *res)
{
	scan_ctx sc;
	int rc = 0;
	double t0 = now_s();
	memset(&sc, 0, sizeof sc);
	memset(res, 0, sizeof *res);
	if (o->version != SN_SCAN_OPTIONS_VERSION || !o->rules || !o->key)
		return sn_error_set(SN_EINVAL, "invalid scan options");
	sc.o = o;
	sc.sink = sink;
	sc.stop = o->stop;
	sc.nw = o->threads ? o->threads : sn_scan_default_threads();
	res->threads = sc.nw;
	sc.w = calloc(sc.nw, sizeof *sc.w);
	if (!sc.w)
		return sn_error_set(SN_ENOMEM, "out of memory");
	rc = sn_inode_set_new(&sc.inodes);
	if (rc < 0)
		goto done;
	sn_match_options mo = SN_MATCH_OPTIONS_INIT;
	mo.key = o->key;
	mo.reveal = o->reveal;
	mo.slow_path = o->slow_path;
	sn_text_options to = SN_TEXT_OPTIONS_INIT;
	sn_matcher_overlap(o->rules, &to.before, &to.after);
	for (unsigned i = 0; i < sc.nw; i++) {
		if ((rc = sn_matcher_new(&sc.w[i].m, o->rules, &mo)) < 0 ||
		    (rc = sn_text_new(&sc.w[i].t, &to)) < 0 ||
		    (rc = sn_sniffer_new(&sc.w[i].sn)) < 0)
			goto done;
		sc.w[i].head = malloc(SN_SNIFF_BYTES);
		if (!sc.w[i].head) {
			rc = sn_error_set(SN_ENOMEM, "out of memory");
			goto done;
		}
	}

	/* Standard input first, on worker 0's pipeline, before the walk. */
	const char **roots = calloc(o->npaths ? o->npaths : 1, sizeof *roots);
	size_t nroots = 0;
	if (!roots) {
		rc = sn_error_set(SN_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < o->npaths; i++) {
		if (strcmp(o->paths[i], "-") == 0)
			scan_fd(&sc, &sc.w[0], STDIN_FILENO, NULL, "-");
		else
			roots[nroots++] = o->paths[i];
	}
	if (nroots) {
		sn_walk_options wo = { 0 };
		wo.threads = sc.nw;
		wo.follow = o->follow;
		wo.one_file_system = o->one_file_system;
		wo.respect_gitignore = o->respect_gitignore;
		wo.excludes = o->excludes;
		wo.nexcludes = o->nexcludes;
		sn_walk_callbacks cb = { on_file, on_record, on_excluded };
		rc = sn_walk_run(roots, nroots, &wo, &cb, &sc, o->stop);
	}
	free(roots);
done:
	res->interrupted = o->stop && *o->stop;
	res->duration_s = now_s() - t0;
	free_workers(&sc);
	sn_inode_set_free(sc.inodes);
	return rc;
}
