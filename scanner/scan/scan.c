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
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/stop.h"
#include "match/engine.h"
#include "sink/sink.h"
#include "source/container.h"
#include "source/decoder.h"
#include "source/source.h"
#include "speurneus/error.h"
#include "text/text.h"
#include "walk/walk.h"

#define SN_SNIFF_BYTES (64 * 1024)
#define SN_CHAIN_MAX 64 /* member chain ceiling; --max-nesting is checked first */

/*
 * Progress counters (sn_scan_progress).  What changes per finding or per
 * chunk lives in a slot per worker (helpers included) that only its worker
 * writes, so the hot path has no shared cache line and no lock; files and
 * settled bytes change per unit, where the sink takes its lock anyway, and
 * are shared atomics.  A worker's top-level path and descriptor sit behind
 * the slot's own lock, taken twice per top-level file by the worker and a
 * few times a second by the sampler: the lock is what lets the sampler lseek
 * the descriptor without racing its close.
 */
typedef struct prog_slot {
	_Alignas(64) _Atomic uint64_t findings; /* reported, by this slot's worker */
	_Atomic uint64_t current; /* bytes read of the unit this worker streams */
	pthread_mutex_t mu;       /* guards the fields below */
	int fd;                   /* top-level descriptor being read, or -1 */
	off_t base;               /* its offset when the scan of it began */
	uint64_t gen;             /* top-level files begun on this slot */
	int path_cut;
	char path[SN_PROGRESS_PATH_MAX];
} prog_slot;

struct sn_scan_progress {
	pthread_mutex_t mu; /* guards slots against attach/detach, and `shown` */
	prog_slot *slots;
	unsigned nslots;
	unsigned shown;           /* the slot whose path was shown last */
	uint64_t shown_gen;
	_Atomic uint64_t files, bytes, findings, input;
};

typedef struct worker {
	sn_matcher *m;
	sn_text *t;
	sn_sniffer *sn;
	uint8_t *head;  /* first block, for sniffing */
	/* Tables of document decoders are matched on a matcher of their own
	 * per nesting level: a database table's BLOB is scanned (on m) while
	 * the table's batch is still open. Made when first needed. */
	sn_matcher *tm[SN_CHAIN_MAX];
	/* Segments of a long unit (see seg_set) that this worker matches
	 * while its own matcher holds the unit's layout. Made when needed. */
	sn_matcher *jm;
	sn_fp_memo *memo; /* shared by all of the worker's matchers */
	int helper;     /* a pool helper (its matcher is only used per job) */
	sn_match_options mo;
	const sn_ruleset *rs;
	prog_slot *ps;  /* NULL without progress */
} worker;

/*
 * Members of one large archive are decompressed in order by one worker, but
 * matching them need not wait: a text member of at most SN_PAR_MEMBER_MAX
 * bytes is read into a buffer and handed to a helper thread, while the
 * worker goes on decompressing.  When every helper is busy and the queue is
 * full the worker scans the member itself, so memory stays bounded by
 * queue size x SN_PAR_MEMBER_MAX.  Limits were applied while the member was
 * read, so helpers only match.
 */
#define SN_PAR_MEMBER_MAX (4u << 20)

typedef struct member_job {
	struct member_job *next;
	char *path;
	char **chain;
	size_t depth;
	uint8_t *data;
	size_t len;
} member_job;

struct seg_job;

typedef struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	member_job *head, *tail;
	size_t n, max;
	struct seg_job *shead, *stail; /* segments of long units (seg_set) */
	size_t ns;
	int quit;
	pthread_t *th;
	worker *w;
	unsigned nth, nw, started;
	struct scan_ctx *sc;
} pool;

typedef struct scan_ctx {
	const sn_scan_options *o;
	sn_sink *sink;
	worker *w;
	unsigned nw;
	sn_inode_set *inodes;
	volatile sig_atomic_t *stop;
	pool *pl; /* NULL with one thread */
	sn_scan_progress *prog; /* NULL without progress */
	_Atomic uint64_t segments, rematched; /* see sn_scan_result */
} scan_ctx;

/* One top-level file (or stdin, or a buffer) being scanned: its path, the
 * member chain of the unit being read inside it, and its container budget. */
typedef struct unit {
	scan_ctx *sc;
	worker *w;
	const char *path;
	const char *chain[SN_CHAIN_MAX];
	size_t depth;
	unsigned levels;  /* containers open around the current unit, transparent
			     ones included: what --max-nesting bounds */
	sn_budget b;
	int stopped;
	const sn_input *cur; /* the unit being text-streamed, for progress */
	struct seg_set *seg; /* its later chunks, when matched by several threads */
} unit;

/* The top-level source read from a descriptor (a regular file, or stdin);
 * a buffer is read through an sn_mem_input. */
typedef struct top_src {
	sn_input in; /* first: the reader's ctx is the top_src itself */
	int fd;
	int eof;     /* a read returned 0: the next one would too */
	volatile sig_atomic_t *stop;
} top_src;

/* A read interrupted by SIGINT/SIGTERM (the handlers are installed without
 * SA_RESTART) gives up when the scan is stopping, so a pipe that never ends
 * cannot hold the scan.  The end of a regular file is read once: the first
 * block of a small file is all of it, and the text stage asking again costs
 * no system call.  A descriptor left non-blocking (sn_source_open; or a
 * non-blocking stdin) that says EAGAIN is made blocking and read again. */
static ssize_t read_fd(void *ctx, void *buf, size_t n)
{
	top_src *r = ctx;
	if (r->eof)
		return 0;
	for (;;) {
		ssize_t k = read(r->fd, buf, n);
		if (k < 0 && errno == EINTR && !sn_stop_requested(r->stop))
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int fl = fcntl(r->fd, F_GETFL);
			if (fl >= 0 && (fl & O_NONBLOCK) &&
			    fcntl(r->fd, F_SETFL, fl & ~O_NONBLOCK) == 0)
				continue;
			errno = EAGAIN;
		}
		if (k > 0)
			r->in.produced += (uint64_t)k;
		else if (k == 0 && r->in.fd >= 0)
			r->eof = 1;
		return k;
	}
}

/* A finding of any confidence, on worker w: reported or counted below the
 * threshold. */
static int report_finding(scan_ctx *sc, worker *w, const sn_finding *f)
{
	if (f->confidence >= sc->o->min_confidence) {
		prog_slot *ps = w->ps;
		if (ps) /* one writer: no read-modify-write needed */
			atomic_store_explicit(
				&ps->findings,
				atomic_load_explicit(&ps->findings, memory_order_relaxed) + 1,
				memory_order_relaxed);
		return sn_sink_finding(sc->sink, f) < 0 ? SN_EIO : 0;
	}
	sn_sink_note_below(sc->sink, f->category, f->confidence);
	return 0;
}

static int on_finding(const sn_finding *f, void *payload)
{
	unit *u = payload;
	return report_finding(u->sc, u->w, f);
}

/* Before each chunk: stop when the scan is stopping, else show progress. */
static int chunk_start(unit *u)
{
	if (sn_stop_requested(u->sc->stop)) {
		u->stopped = 1;
		return SN_ESTOP;
	}
	if (u->w->ps && u->cur)
		atomic_store_explicit(&u->w->ps->current, u->cur->produced, memory_order_relaxed);
	return 0;
}

static int on_chunk(const sn_chunk *c, void *payload)
{
	unit *u = payload;
	int rc = chunk_start(u);
	return rc ? rc : sn_matcher_scan(u->w->m, c, on_finding, u);
}

/* Bytes (and a file) settled: the same numbers the sink is given.  Release
 * order, so a sampler that sees them also sees the worker's `current` reset
 * before them, and never counts a unit twice. */
static void prog_settle(scan_ctx *sc, uint64_t files, uint64_t bytes)
{
	if (!sc->prog)
		return;
	if (files)
		atomic_fetch_add_explicit(&sc->prog->files, files, memory_order_relaxed);
	if (bytes)
		atomic_fetch_add_explicit(&sc->prog->bytes, bytes, memory_order_release);
}

static void note_scanned(scan_ctx *sc, uint64_t bytes)
{
	sn_sink_note_scanned(sc->sink, bytes);
	prog_settle(sc, 1, bytes);
}

static void record(scan_ctx *sc, const sn_location *loc, sn_file_status st, const char *reason,
		   const char *detail, uint64_t bytes)
{
	sn_file_record r = { loc, st, reason, detail, bytes };
	sn_sink_file(sc->sink, &r);
	if (bytes) {
		sn_sink_note_bytes(sc->sink, bytes);
		prog_settle(sc, 0, bytes);
	}
}

/* A top-level file (or stdin) begins or ends on worker `w`. */
static void prog_file_begin(worker *w, const char *path, int fd, off_t base)
{
	prog_slot *ps = w->ps;
	if (!ps)
		return;
	size_t n = strlen(path);
	int cut = n >= sizeof ps->path;
	const char *from = cut ? path + n - (sizeof ps->path - 1) : path;
	pthread_mutex_lock(&ps->mu);
	memcpy(ps->path, from, cut ? sizeof ps->path - 1 : n);
	ps->path[cut ? sizeof ps->path - 1 : n] = '\0';
	ps->path_cut = cut;
	ps->fd = fd;
	ps->base = base;
	ps->gen++;
	pthread_mutex_unlock(&ps->mu);
}

/* `size`: how far the file was consumed (its size), or -1 to take it from
 * the descriptor's offset (stdin). */
static void prog_file_end(scan_ctx *sc, worker *w, int64_t size)
{
	prog_slot *ps = w->ps;
	if (!ps)
		return;
	pthread_mutex_lock(&ps->mu);
	if (size < 0) {
		off_t at = ps->base >= 0 ? lseek(ps->fd, 0, SEEK_CUR) : -1;
		size = at > ps->base ? (int64_t)(at - ps->base) : 0;
	}
	ps->fd = -1;
	ps->path[0] = '\0';
	pthread_mutex_unlock(&ps->mu);
	atomic_fetch_add_explicit(&sc->prog->input, (uint64_t)size, memory_order_release);
}

/* Read the first block (up to SN_SNIFF_BYTES). Returns bytes or -1. */
static ssize_t read_head(sn_input *in, uint8_t *buf)
{
	size_t got = 0;
	while (got < SN_SNIFF_BYTES) {
		ssize_t k = in->read(in->ctx, buf + got, SN_SNIFF_BYTES - got);
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static int scan_unit(unit *u, sn_input *in, const struct stat *st);
static int stream_unit(unit *u, const sn_location *loc, sn_input *in, const uint8_t *head,
		       size_t hn, int *rerr);

/* Sniffed kinds that hold text in a form no decoder here reads. */
static int may_hold_text(const char *reason)
{
	return reason && (strcmp(reason, "document") == 0 || strcmp(reason, "database") == 0 ||
			  strcmp(reason, "mail") == 0 || strcmp(reason, "encrypted") == 0);
}

static int worker_init(const sn_scan_options *o, worker *w);
static void worker_clear(worker *w);

static void drain(sn_input *in)
{
	static _Thread_local uint8_t sink_buf[64 * 1024];
	while (in->read(in->ctx, sink_buf, sizeof sink_buf) > 0)
		;
}

static int on_member(void *payload, const char *name, sn_input *in)
{
	unit *u = payload;
	u->chain[u->depth++] = name;
	int rc = scan_unit(u, in, NULL);
	u->depth--;
	return rc;
}

static void on_container_record(void *payload, const char *name, sn_file_status st,
				const char *reason, const char *detail)
{
	unit *u = payload;
	sn_location loc = { u->path, u->chain, u->depth };
	if (name) {
		u->chain[u->depth] = name;
		loc.nmember++;
	}
	record(u->sc, &loc, st, reason, detail, 0);
}

/* After a unit was read: the ledger outcome, or counted as scanned. */
static void finish_unit(unit *u, const sn_location *loc, sn_input *in, const struct stat *st,
			int container, int rc, int read_errno)
{
	scan_ctx *sc = u->sc;
	if (u->w->ps && u->cur)
		atomic_store_explicit(&u->w->ps->current, 0, memory_order_relaxed);
	u->cur = NULL;
	if (in->stop_reason && in->stop_reported)
		return; /* a member inside recorded it, with its chain */
	if (in->stop_reason) {
		record(sc, loc, in->stop_status, in->stop_reason,
		       in->stop_detail[0] ? in->stop_detail : NULL, in->produced);
		return;
	}
	if (u->stopped || rc == SN_ESTOP || sn_stop_requested(sc->stop)) {
		record(sc, loc, SN_FILE_INCOMPLETE, "interrupted", NULL, in->produced);
		return;
	}
	if (rc == SN_EIO && read_errno) {
		record(sc, loc, SN_FILE_INCOMPLETE, "read-error", strerror(read_errno), in->produced);
		return;
	}
	if (rc < 0) {
		record(sc, loc, SN_FILE_ERROR, "scan-error", sn_error_last(), in->produced);
		return;
	}
	if (st) {
		struct stat after;
		top_src *t = (top_src *)in;
		if (fstat(t->fd, &after) == 0 &&
		    (after.st_size != st->st_size || after.st_mtim.tv_sec != st->st_mtim.tv_sec ||
		     after.st_mtim.tv_nsec != st->st_mtim.tv_nsec ||
		     (!container && (uint64_t)st->st_size != in->produced))) {
			record(sc, loc, SN_FILE_INCOMPLETE, "changed",
			       "size or modification time changed while it was read", in->produced);
			return;
		}
	}
	if (container)
		return; /* its members are the units that count */
	if (sn_matcher_limit_hits(u->w->m)) {
		record(sc, loc, SN_FILE_INCOMPLETE, "regex-limit",
		       "a pattern reached its backtracking budget", in->produced);
		return;
	}
	note_scanned(sc, in->produced);
}

static void job_free(member_job *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->depth; i++)
		free(j->chain[i]);
	free(j->chain);
	free(j->path);
	free(j->data);
	free(j);
}

/* Scan a buffered member on `w` (a helper's or the caller's worker). */
static void scan_job(scan_ctx *sc, worker *w, member_job *j)
{
	unit tmp;
	memset(&tmp, 0, sizeof tmp);
	tmp.sc = sc;
	tmp.w = w;
	tmp.path = j->path;
	sn_location loc = { j->path, (const char *const *)j->chain, j->depth };
	sn_input in;
	memset(&in, 0, sizeof in);
	in.fd = -1;
	in.produced = j->len;
	sn_matcher_begin_unit(w->m, &loc);
	int rc = sn_text_stream_buffer(w->t, j->data, j->len, on_chunk, &tmp);
	finish_unit(&tmp, &loc, &in, NULL, 0, rc, 0);
}

static struct seg_job *seg_pop(pool *pl);
static void seg_run(struct seg_job *j, worker *w);

static void *pool_main(void *arg)
{
	pool *pl = arg;
	unsigned me;
	pthread_mutex_lock(&pl->mu);
	me = pl->started++;
	for (;;) {
		while (!pl->head && !pl->shead && !pl->quit)
			pthread_cond_wait(&pl->cv, &pl->mu);
		if (pl->shead) {
			/* a worker waits for these: they go first */
			struct seg_job *sj = seg_pop(pl);
			pthread_mutex_unlock(&pl->mu);
			seg_run(sj, &pl->w[me]);
			pthread_mutex_lock(&pl->mu);
			continue;
		}
		if (!pl->head)
			break;
		member_job *j = pl->head;
		pl->head = j->next;
		if (!pl->head)
			pl->tail = NULL;
		pl->n--;
		pthread_cond_broadcast(&pl->cv);
		pthread_mutex_unlock(&pl->mu);
		if (sn_stop_requested(pl->sc->stop)) {
			sn_location loc = { j->path, (const char *const *)j->chain, j->depth };
			record(pl->sc, &loc, SN_FILE_INCOMPLETE, "interrupted", NULL, 0);
		} else {
			scan_job(pl->sc, &pl->w[me], j);
		}
		job_free(j);
		pthread_mutex_lock(&pl->mu);
	}
	pthread_mutex_unlock(&pl->mu);
	return NULL;
}

/*
 * Try to hand a text member to a helper: read it whole (it must end within
 * SN_PAR_MEMBER_MAX) and queue it.  Returns 0 when the member was dealt
 * with (queued, or scanned here from the buffer), -1 when the caller must
 * stream it -- then nothing was read beyond `head`... except that a member
 * longer than the buffer was partly read: it is streamed from the buffer and
 * the rest of `in` here, also returning 0.
 */
static int handoff(unit *u, sn_input *in, const uint8_t *head, size_t hn,
		   const sn_location *loc, const struct stat *st)
{
	scan_ctx *sc = u->sc;
	pool *pl = sc->pl;
	pthread_mutex_lock(&pl->mu);
	int room = pl->n < pl->max;
	pthread_mutex_unlock(&pl->mu);
	if (!room)
		return -1;
	member_job *j = calloc(1, sizeof *j);
	uint8_t *buf = malloc(SN_PAR_MEMBER_MAX);
	if (!j || !buf) {
		free(j);
		free(buf);
		return -1;
	}
	memcpy(buf, head, hn);
	size_t len = hn;
	int ended = hn < SN_SNIFF_BYTES, failed = 0, read_err = 0;
	while (!ended && len < SN_PAR_MEMBER_MAX) {
		ssize_t k = in->read(in->ctx, buf + len, SN_PAR_MEMBER_MAX - len);
		if (k < 0) {
			failed = 1;
			read_err = errno;
			break;
		}
		if (k == 0)
			ended = 1;
		len += (size_t)k;
	}
	if (failed || !ended) {
		/* too long to queue, or stopped: scan it here, buffer first */
		int rerr = 0, rc;
		if (failed) {
			sn_matcher_begin_unit(u->w->m, loc);
			u->cur = in;
			rc = sn_text_stream_buffer(u->w->t, buf, len, on_chunk, u);
		} else {
			rc = stream_unit(u, loc, in, buf, len, &rerr);
		}
		finish_unit(u, loc, in, st, 0, failed && !in->stop_reason ? SN_EIO : rc,
			    failed ? read_err : rerr);
		free(buf);
		free(j);
		return 0;
	}
	j->data = buf;
	j->len = len;
	j->depth = loc->nmember;
	j->path = strdup(loc->path);
	j->chain = calloc(j->depth ? j->depth : 1, sizeof *j->chain);
	int oom = !j->path || !j->chain;
	for (size_t i = 0; !oom && i < j->depth; i++) {
		j->chain[i] = strdup(loc->member[i]);
		oom = !j->chain[i];
	}
	if (oom) {
		/* scan it here instead */
		j->depth = 0;
		sn_matcher_begin_unit(u->w->m, loc);
		int rc = sn_text_stream_buffer(u->w->t, buf, len, on_chunk, u);
		finish_unit(u, loc, in, st, 0, rc, 0);
		job_free(j);
		return 0;
	}
	pthread_mutex_lock(&pl->mu);
	if (pl->n < pl->max) {
		if (pl->tail)
			pl->tail->next = j;
		else
			pl->head = j;
		pl->tail = j;
		pl->n++;
		pthread_cond_signal(&pl->cv);
		j = NULL;
	}
	pthread_mutex_unlock(&pl->mu);
	if (j) {
		/* the queue filled up meanwhile: scan it here */
		scan_job(sc, u->w, j);
		job_free(j);
	}
	return 0;
}

static int pool_start(scan_ctx *sc, unsigned nth)
{
	pool *pl = calloc(1, sizeof *pl);
	if (!pl)
		return SN_ENOMEM;
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->cv, NULL);
	pl->sc = sc;
	pl->max = 2u * (nth + 1);
	pl->th = calloc(nth, sizeof *pl->th);
	pl->w = calloc(nth, sizeof *pl->w);
	if (!pl->th || !pl->w)
		goto fail;
	for (unsigned i = 0; i < nth; i++) {
		if (worker_init(sc->o, &pl->w[i]) < 0)
			goto fail;
		pl->w[i].helper = 1;
		if (sc->prog && sc->nw + i < sc->prog->nslots)
			pl->w[i].ps = &sc->prog->slots[sc->nw + i];
		pl->nw++;
	}
	for (unsigned i = 0; i < nth; i++) {
		if (pthread_create(&pl->th[i], NULL, pool_main, pl) != 0)
			break;
		pl->nth++;
	}
	if (!pl->nth)
		goto fail;
	sc->pl = pl;
	return 0;
fail:
	for (unsigned i = 0; pl->w && i < nth; i++)
		worker_clear(&pl->w[i]); /* safe on a zeroed worker */
	free(pl->w);
	free(pl->th);
	pthread_cond_destroy(&pl->cv);
	pthread_mutex_destroy(&pl->mu);
	free(pl);
	return SN_ENOMEM;
}

/* Let the helpers finish the queue, then stop them. */
static void pool_stop(scan_ctx *sc)
{
	pool *pl = sc->pl;
	if (!pl)
		return;
	pthread_mutex_lock(&pl->mu);
	pl->quit = 1;
	pthread_cond_broadcast(&pl->cv);
	pthread_mutex_unlock(&pl->mu);
	for (unsigned i = 0; i < pl->nth; i++)
		pthread_join(pl->th[i], NULL);
	for (unsigned i = 0; i < pl->nw; i++)
		worker_clear(&pl->w[i]);
	free(pl->w);
	free(pl->th);
	pthread_cond_destroy(&pl->cv);
	pthread_mutex_destroy(&pl->mu);
	free(pl);
	sc->pl = NULL;
}

/* ---------------------------------------------------------------------- */
/* One long unit matched by several threads                                */

/*
 * The worker reading a long text unit (a large file, a large member of an
 * archive) matches its first chunk itself: that chunk sets the unit's
 * layout (CSV header, inferred columns).  It then packs the following
 * chunks -- their bytes with the borders, offsets and line numbers the text
 * stage gave them -- into segments of about SN_SEG_TEXT bytes of new text,
 * and queues each for the helpers, or matches it itself when they are busy;
 * so both cores match one large file, and decompression overlaps matching.
 *
 * A segment is matched assuming every rule's search starts at its first
 * byte, and its findings are held.  Segments are released in order: the
 * state the segment before left (each rule's frontier, the end of the last
 * finding) is compared with the assumption, and in the rare case it differs
 * (a match that ran over the border) the segment is matched again with the
 * right state before its findings go out.  The findings, their order and
 * every count are therefore those of one thread reading the unit.  An SQL
 * dump, whose state runs from line to line, is not split.  At most
 * SN_SEG_MAX segments of a unit are unreleased at a time, so memory is
 * bounded whatever the unit's size.
 */
#ifndef SN_SEG_TEXT /* tools/bench-buffers measures other sizes */
#define SN_SEG_TEXT (1u << 20)
#endif
#define SN_SEG_MAX 6

typedef struct held { /* a finding waiting for its segment's turn */
	const char *rule_id, *category;
	sn_confidence confidence;
	uint64_t line, column, offset;
	int64_t row;
	uint8_t fingerprint[SN_FINGERPRINT_LEN];
	size_t masked, field, raw, raw_len, normalized; /* into strs; SIZE_MAX: none */
} held;

typedef struct seg_job {
	struct seg_job *next;
	struct seg_set *set;
	uint64_t seq;
	sn_buf text;      /* the chunks' bytes, back to back */
	sn_chunk *ch;     /* the chunks; .data is an offset into text until run */
	size_t nch, capch;
	size_t fresh;     /* new text: the sum of the emit ranges */
	uint64_t start;   /* absolute offset where the first chunk emits from */
	/* outcome */
	int rc;
	held *h;
	size_t nh, caph;
	sn_buf strs;
	uint64_t *front, last_end, limit_hits;
} seg_job;

typedef struct seg_set {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	scan_ctx *sc;
	const sn_matcher *origin; /* the reader's matcher: the unit's layout */
	const sn_location *loc;
	size_t nrules;
	uint64_t made, released;  /* segments handed out; released in order */
	seg_job *done;            /* matched, waiting for their turn */
	uint64_t *front, last_end; /* state after the last released segment */
	uint64_t limit_hits;
	int rc;                   /* first error or stop of a released segment */
	seg_job *cur;             /* being filled by the reader */
} seg_set;

static void seg_job_free(seg_job *j)
{
	if (!j)
		return;
	sn_buf_free(&j->text);
	sn_buf_free(&j->strs);
	free(j->ch);
	free(j->h);
	free(j->front);
	free(j);
}

static seg_job *seg_pop(pool *pl)
{
	seg_job *j = pl->shead;
	if (j) {
		pl->shead = j->next;
		if (!pl->shead)
			pl->stail = NULL;
		pl->ns--;
	}
	return j;
}

static size_t hold_str(seg_job *j, const char *p, size_t n)
{
	size_t at = j->strs.len;
	sn_buf_put(&j->strs, p, n);
	sn_buf_putc(&j->strs, '\0');
	return at;
}

static int hold_finding(const sn_finding *f, void *payload)
{
	seg_job *j = payload;
	if (j->nh == j->caph) {
		size_t cap = j->caph ? 2 * j->caph : 256;
		held *h = realloc(j->h, cap * sizeof *h);
		if (!h)
			return sn_error_set(SN_ENOMEM, "out of memory holding findings");
		j->h = h;
		j->caph = cap;
	}
	held *h = &j->h[j->nh];
	h->rule_id = f->rule_id;
	h->category = f->category;
	h->confidence = f->confidence;
	h->line = f->line;
	h->column = f->column;
	h->offset = f->offset;
	h->row = f->row;
	memcpy(h->fingerprint, f->fingerprint, sizeof h->fingerprint);
	h->masked = hold_str(j, f->masked, strlen(f->masked));
	h->field = f->field ? hold_str(j, f->field, strlen(f->field)) : SIZE_MAX;
	h->raw = f->raw ? hold_str(j, f->raw, f->raw_len) : SIZE_MAX;
	h->raw_len = f->raw_len;
	h->normalized = f->normalized ? hold_str(j, f->normalized, strlen(f->normalized))
				      : SIZE_MAX;
	if (j->strs.failed)
		return sn_error_set(SN_ENOMEM, "out of memory holding findings");
	j->nh++;
	return 0;
}

/* Match the segment's chunks on m, from the given state. */
static void seg_match(seg_job *j, sn_matcher *m, const uint64_t *front, uint64_t last_end)
{
	j->nh = 0;
	sn_buf_reset(&j->strs);
	j->rc = sn_matcher_continue_unit(m, j->set->origin, front, last_end);
	for (size_t i = 0; i < j->nch && j->rc == 0; i++) {
		sn_chunk c = j->ch[i];
		c.data = j->text.p + (uintptr_t)c.data;
		j->rc = sn_matcher_scan(m, &c, hold_finding, j);
	}
	sn_matcher_get_state(m, j->front, &j->last_end);
	j->limit_hits = sn_matcher_limit_hits(m);
}

static int released_finding(seg_set *s, worker *w, const seg_job *j, const held *h)
{
	sn_finding f;
	memset(&f, 0, sizeof f);
	f.rule_id = h->rule_id;
	f.category = h->category;
	f.confidence = h->confidence;
	f.loc = s->loc;
	f.line = h->line;
	f.column = h->column;
	f.offset = h->offset;
	f.row = h->row;
	memcpy(f.fingerprint, h->fingerprint, sizeof f.fingerprint);
	f.masked = j->strs.p + h->masked;
	f.field = h->field != SIZE_MAX ? j->strs.p + h->field : NULL;
	if (h->raw != SIZE_MAX) {
		f.raw = j->strs.p + h->raw;
		f.raw_len = h->raw_len;
	}
	f.normalized = h->normalized != SIZE_MAX ? j->strs.p + h->normalized : NULL;
	return report_finding(s->sc, w, &f);
}

/* A segment was matched (or given up): release every segment whose turn
 * has come, in order, on the calling worker `w`. */
static void seg_done(seg_job *j, worker *w, sn_matcher *m)
{
	seg_set *s = j->set;
	pthread_mutex_lock(&s->mu);
	j->next = s->done;
	s->done = j;
	for (;;) {
		seg_job **pp = &s->done;
		while (*pp && (*pp)->seq != s->released)
			pp = &(*pp)->next;
		seg_job *k = *pp;
		if (!k)
			break;
		*pp = k->next;
		if (s->rc == 0 && k->rc == 0) {
			int same = s->last_end <= k->start;
			for (size_t i = 0; same && i < s->nrules; i++)
				same = s->front[i] <= k->start;
			if (!same && !m) {
				k->rc = SN_ENOMEM;
			} else if (!same) {
				seg_match(k, m, s->front, s->last_end);
				atomic_fetch_add_explicit(&s->sc->rematched, 1,
							  memory_order_relaxed);
			}
		}
		if (s->rc == 0)
			s->rc = k->rc;
		for (size_t i = 0; s->rc == 0 && i < k->nh; i++)
			s->rc = released_finding(s, w, k, &k->h[i]);
		/* out before the next segment's, whichever thread releases it */
		if (k->nh && sn_sink_flush_thread(s->sc->sink) < 0 && s->rc == 0)
			s->rc = SN_EIO;
		memcpy(s->front, k->front, s->nrules * sizeof *s->front);
		s->last_end = k->last_end;
		s->limit_hits += k->limit_hits;
		s->released++;
		seg_job_free(k);
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static sn_matcher *job_matcher(worker *w)
{
	if (!w->jm && sn_matcher_new(&w->jm, w->rs, &w->mo) < 0)
		return NULL;
	return w->jm;
}

/* Match a segment on worker w (a helper, or the reader) and release what
 * can be released. */
static void seg_run(seg_job *j, worker *w)
{
	seg_set *s = j->set;
	/* a helper's own matcher is free; a walking worker's may hold the
	 * layout of the unit it is reading */
	sn_matcher *m = w->helper ? w->m : job_matcher(w);
	if (!m) {
		j->rc = sn_error_set(SN_ENOMEM, "out of memory creating a matcher");
		seg_done(j, w, NULL);
		return;
	}
	if (sn_stop_requested(s->sc->stop)) {
		j->rc = SN_ESTOP;
		seg_done(j, w, m);
		return;
	}
	for (size_t i = 0; i < s->nrules; i++)
		j->front[i] = j->start;
	seg_match(j, m, j->front, j->start);
	seg_done(j, w, m);
}

/* Wait (matching queued segments meanwhile) until at most `limit` segments
 * of s are unreleased. */
static void seg_wait(unit *u, seg_set *s, uint64_t limit)
{
	pool *pl = u->sc->pl;
	for (;;) {
		pthread_mutex_lock(&s->mu);
		int more = s->made - s->released > limit;
		pthread_mutex_unlock(&s->mu);
		if (!more)
			return;
		pthread_mutex_lock(&pl->mu);
		seg_job *j = seg_pop(pl);
		pthread_mutex_unlock(&pl->mu);
		if (j) {
			seg_run(j, u->w);
			continue;
		}
		/* the rest are being matched by helpers, each of which
		 * broadcasts when it is done */
		pthread_mutex_lock(&s->mu);
		while (s->made - s->released > limit)
			pthread_cond_wait(&s->cv, &s->mu);
		pthread_mutex_unlock(&s->mu);
	}
}

static void seg_submit(unit *u, seg_set *s)
{
	seg_job *j = s->cur;
	pool *pl = u->sc->pl;
	s->cur = NULL;
	seg_wait(u, s, SN_SEG_MAX - 1);
	pthread_mutex_lock(&s->mu);
	j->seq = s->made++;
	pthread_mutex_unlock(&s->mu);
	atomic_fetch_add_explicit(&u->sc->segments, 1, memory_order_relaxed);
	pthread_mutex_lock(&pl->mu);
	if (pl->ns < pl->max) {
		if (pl->stail)
			pl->stail->next = j;
		else
			pl->shead = j;
		pl->stail = j;
		pl->ns++;
		pthread_cond_signal(&pl->cv);
		j = NULL;
	}
	pthread_mutex_unlock(&pl->mu);
	if (j)
		seg_run(j, u->w); /* every helper is busy: match it here */
}

static seg_set *seg_new(unit *u)
{
	seg_set *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->nrules = sn_ruleset_count(u->w->rs);
	s->front = calloc(s->nrules ? s->nrules : 1, sizeof *s->front);
	if (!s->front) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->sc = u->sc;
	s->origin = u->w->m;
	s->loc = sn_matcher_location(u->w->m);
	/* the first chunk's findings go out before any segment's */
	sn_sink_flush_thread(u->sc->sink);
	sn_matcher_get_state(u->w->m, s->front, &s->last_end);
	return s;
}

/* Add a chunk to the segment being filled; hand it out when full. */
static int seg_add(unit *u, seg_set *s, const sn_chunk *c)
{
	seg_job *j = s->cur;
	if (!j) {
		j = calloc(1, sizeof *j);
		if (!j)
			return sn_error_set(SN_ENOMEM, "out of memory");
		j->set = s;
		j->start = c->base_offset + c->emit_from;
		/* a segment's text is about SN_SEG_TEXT plus one chunk; what
		 * its findings hold is bounded by its text */
		sn_buf_init(&j->text, (size_t)1 << 30);
		sn_buf_init(&j->strs, (size_t)1 << 30);
		j->front = calloc(s->nrules ? s->nrules : 1, sizeof *j->front);
		if (!j->front) {
			seg_job_free(j);
			return sn_error_set(SN_ENOMEM, "out of memory");
		}
		s->cur = j;
	}
	if (j->nch == j->capch) {
		size_t cap = j->capch ? 2 * j->capch : 8;
		sn_chunk *ch = realloc(j->ch, cap * sizeof *ch);
		if (!ch)
			return sn_error_set(SN_ENOMEM, "out of memory");
		j->ch = ch;
		j->capch = cap;
	}
	sn_chunk *k = &j->ch[j->nch];
	*k = *c;
	k->data = (const char *)(uintptr_t)j->text.len;
	sn_buf_put(&j->text, c->data, c->len);
	if (j->text.failed)
		return sn_error_set(SN_ENOMEM, "out of memory");
	j->nch++;
	j->fresh += c->emit_to - c->emit_from;
	if (j->fresh >= SN_SEG_TEXT || c->is_last)
		seg_submit(u, s);
	return 0;
}

/* The reader's chunk callback for a unit that may be split. */
static int on_chunk_split(const sn_chunk *c, void *payload)
{
	unit *u = payload;
	if (!u->seg &&
	    (c->is_first || !sn_matcher_can_split(u->w->m) || !(u->seg = seg_new(u))))
		return on_chunk(c, payload);
	int rc = chunk_start(u);
	if (rc == 0)
		rc = seg_add(u, u->seg, c);
	if (rc == 0) {
		pthread_mutex_lock(&u->seg->mu);
		rc = u->seg->rc;
		pthread_mutex_unlock(&u->seg->mu);
	}
	return rc;
}

/* Stream one text unit, splitting it across the helpers when it is long.
 * Returns what sn_text_stream returned, or the first error of a segment. */
static int stream_unit(unit *u, const sn_location *loc, sn_input *in, const uint8_t *head,
		       size_t hn, int *rerr)
{
	sn_encoding enc;
	sn_matcher_begin_unit(u->w->m, loc);
	u->cur = in;
	u->seg = NULL;
	int rc = sn_text_stream(u->w->t, head, hn, in->read, in->ctx,
				u->sc->pl ? on_chunk_split : on_chunk, u, NULL, &enc, rerr);
	seg_set *s = u->seg;
	if (!s)
		return rc;
	if (s->cur) {
		if (rc == 0)
			seg_submit(u, s);
		else
			seg_job_free(s->cur);
		s->cur = NULL;
	}
	seg_wait(u, s, 0);
	if (rc == 0)
		rc = s->rc;
	/* the unit's regex-limit count is its first matcher's */
	sn_matcher_add_limit_hits(u->w->m, s->limit_hits);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s->front);
	free(s);
	u->seg = NULL;
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Document decoders                                                       */

/* A document being decoded, and the table it is handing over, if any. */
typedef struct doc_ctx {
	unit *u;
	sn_matcher *tm;   /* the table's matcher, while a table is open */
	char *tname;
	sn_location tloc;
	int rc;           /* first error of the table's matching */
} doc_ctx;

static int doc_member(void *payload, const char *name, sn_input *in)
{
	doc_ctx *dc = payload;
	return on_member(dc->u, name, in);
}

static void doc_record(void *payload, const char *name, sn_file_status st, const char *reason,
		       const char *detail)
{
	doc_ctx *dc = payload;
	on_container_record(dc->u, name, st, reason, detail);
}

static int doc_table_begin(void *payload, const char *name, const char *const *cols,
			   size_t ncols)
{
	doc_ctx *dc = payload;
	unit *u = dc->u;
	worker *w = u->w;
	unsigned lv = u->levels < SN_CHAIN_MAX ? u->levels : SN_CHAIN_MAX - 1;
	if (dc->tm)
		return sn_error_set(SN_EINVAL, "a table opened inside a table");
	if (u->depth >= SN_CHAIN_MAX - 1)
		return sn_error_set(SN_EINVAL, "member chain too deep");
	if (!w->tm[lv] && sn_matcher_new(&w->tm[lv], w->rs, &w->mo) < 0)
		return SN_ENOMEM;
	dc->tname = strdup(name && *name ? name : "?");
	if (!dc->tname)
		return sn_error_set(SN_ENOMEM, "out of memory");
	u->chain[u->depth++] = dc->tname;
	dc->tloc.path = u->path;
	dc->tloc.member = u->chain;
	dc->tloc.nmember = u->depth;
	dc->tm = w->tm[lv];
	dc->rc = sn_matcher_table_begin(dc->tm, &dc->tloc, cols, ncols);
	return dc->rc < 0 ? dc->rc : 0;
}

static int doc_row(void *payload, int64_t row, const char *const *cells, const size_t *lens,
		   size_t ncells)
{
	doc_ctx *dc = payload;
	scan_ctx *sc = dc->u->sc;
	if (!dc->tm)
		return sn_error_set(SN_EINVAL, "a row outside a table");
	if (sn_stop_requested(sc->stop)) {
		dc->u->stopped = 1;
		return SN_ESTOP;
	}
	if (dc->rc < 0)
		return dc->rc;
	dc->rc = sn_matcher_table_row(dc->tm, row, cells, lens, ncells, on_finding, dc->u);
	return dc->rc;
}

static int doc_table_end(void *payload)
{
	doc_ctx *dc = payload;
	unit *u = dc->u;
	scan_ctx *sc = u->sc;
	uint64_t bytes = 0, cut = 0;
	if (!dc->tm)
		return 0;
	int rc = dc->rc;
	if (rc == 0 && !sn_stop_requested(sc->stop))
		rc = sn_matcher_table_end(dc->tm, on_finding, u, &bytes, &cut);
	else
		sn_matcher_table_end(dc->tm, NULL, NULL, &bytes, &cut);
	if (rc == SN_ESTOP || u->stopped || sn_stop_requested(sc->stop))
		record(sc, &dc->tloc, SN_FILE_INCOMPLETE, "interrupted", NULL, bytes);
	else if (rc < 0)
		record(sc, &dc->tloc, SN_FILE_ERROR, "scan-error", sn_error_last(), bytes);
	else if (sn_matcher_limit_hits(dc->tm))
		record(sc, &dc->tloc, SN_FILE_INCOMPLETE, "regex-limit",
		       "a pattern reached its backtracking budget", bytes);
	else if (cut)
		record(sc, &dc->tloc, SN_FILE_INCOMPLETE, "row-too-long",
		       "rows longer than 4 MiB were cut", bytes);
	else
		note_scanned(sc, bytes);
	u->depth--;
	free(dc->tname);
	dc->tname = NULL;
	dc->tm = NULL;
	dc->rc = 0;
	return rc == SN_ESTOP ? SN_ESTOP : 0;
}

static const sn_doc_cb doc_cbs = { doc_member, doc_record, doc_table_begin, doc_row,
				   doc_table_end };

/* Decode a document unit; its parts are the units that count. */
static int scan_doc(unit *u, const sn_decoder *dec, const sn_type *ty, sn_input *in,
		    const uint8_t *head, size_t hn, const struct stat *st)
{
	doc_ctx dc;
	memset(&dc, 0, sizeof dc);
	dc.u = u;
	sn_doc d;
	memset(&d, 0, sizeof d);
	d.head = head;
	d.head_len = hn;
	d.in = in;
	d.path = u->depth == 0 && st ? u->path : NULL;
	d.type = ty;
	d.b = &u->b;
	d.cb = &doc_cbs;
	d.payload = &dc;
	in->is_container = 1;
	u->levels++;
	int rc = dec->decode(&d);
	if (dc.tm)
		doc_table_end(&dc); /* a decoder that stopped inside a table */
	u->levels--;
	return rc;
}

/* Scan one unit (a file, stdin, or a member at any depth) read from `in`.
 * `st` is the fstat of a top-level regular file, else NULL. */
static int scan_unit(unit *u, sn_input *in, const struct stat *st)
{
	scan_ctx *sc = u->sc;
	worker *w = u->w;
	sn_location loc = { u->path, u->chain, u->depth };
	/* each nesting level keeps its own head: the level above may still
	 * hand it to libarchive */
	uint8_t *head = u->depth == 0 ? w->head : malloc(SN_SNIFF_BYTES);
	int rc = 0, rerr = 0;
	if (!head) {
		record(sc, &loc, SN_FILE_ERROR, "scan-error", "out of memory", 0);
		return 0;
	}
	ssize_t hn = read_head(in, head);
	if (hn < 0) {
		rerr = errno;
		if (!in->stop_reason && !sn_stop_requested(sc->stop))
			record(sc, &loc, SN_FILE_ERROR, rerr == EISDIR ? "open-error" : "read-error",
			       strerror(rerr), in->produced);
		else
			finish_unit(u, &loc, in, NULL, 0, SN_EIO, 0);
		goto done;
	}
	sn_type ty;
	memset(&ty, 0, sizeof ty);
	const sn_decoder *dec = NULL;
	if (!in->is_text) {
		sn_sniff(w->sn, head, (size_t)hn, &ty);
		dec = sn_decoder_find(&ty, head, (size_t)hn);
	}
	in->sniffed = 1;
	if (dec) {
		if (u->levels >= sc->o->limits.max_nesting || u->depth >= SN_CHAIN_MAX - 2) {
			char d[64];
			snprintf(d, sizeof d, "containers nested deeper than %u",
				 sc->o->limits.max_nesting);
			if (u->depth > 0)
				drain(in);
			record(sc, &loc, SN_FILE_INCOMPLETE, "nesting-depth", d, 0);
			goto done;
		}
		rc = scan_doc(u, dec, &ty, in, head, (size_t)hn, st);
		if (rc < 0 && rc != SN_ESTOP) {
			record(sc, &loc, SN_FILE_ERROR, "scan-error", sn_error_last(), in->produced);
			goto done;
		}
		finish_unit(u, &loc, in, st, 1, rc, 0);
		goto done;
	}
	if (ty.kind == SN_KIND_SKIP && sn_container_kind(ty.reason)) {
		int nested = u->depth > 0;
		/* the tar inside a .tar.gz is named by the .tar.gz alone */
		int transparent = in->transparent && u->depth > 0;
		if (transparent) {
			u->depth--;
			loc.nmember--;
		}
		/* a .tar.gz is two levels (gzip, then tar) although it is named as
		 * one; counting every level also ends a stream that decompresses to
		 * itself */
		if (u->levels >= sc->o->limits.max_nesting + (unsigned)transparent ||
		    u->depth >= SN_CHAIN_MAX - 1) {
			char d[64];
			snprintf(d, sizeof d, "containers nested deeper than %u",
				 sc->o->limits.max_nesting);
			record(sc, &loc, SN_FILE_INCOMPLETE, "nesting-depth", d, 0);
		} else {
			static const sn_container_cb cbs = { on_member, on_container_record };
			in->is_container = 1;
			u->levels++;
			rc = sn_container_scan(head, (size_t)hn, in, nested, ty.reason, &u->b, &cbs,
					       u);
			u->levels--;
			finish_unit(u, &loc, in, st, 1, rc, 0);
		}
		if (transparent)
			u->depth++;
		goto done;
	}
	if (ty.kind == SN_KIND_SKIP) {
		/* A member that is not text is still read to its end inside a
		 * container: decompressing it is needed to reach the next member
		 * anyway, and it is how a zero-filled bomb meets the ratio limit
		 * instead of passing as "binary". */
		if (u->depth > 0)
			drain(in);
		if (in->stop_reason)
			finish_unit(u, &loc, in, NULL, 0, SN_EIO, 0);
		else if (may_hold_text(ty.reason))
			/* a document no decoder reads (legacy Office, Outlook
			 * mail stores): it may well hold personal data */
			record(sc, &loc, SN_FILE_INCOMPLETE,
			       strcmp(ty.reason, "encrypted") == 0 ? "encrypted" : "unsupported",
			       ty.detail[0] ? ty.detail : ty.reason, 0);
		else
			record(sc, &loc, SN_FILE_SKIPPED, ty.reason, ty.detail[0] ? ty.detail : NULL,
			       0);
		goto done;
	}
	if (u->depth > 0 && sc->pl && handoff(u, in, head, (size_t)hn, &loc, st) == 0)
		goto done;
	rc = stream_unit(u, &loc, in, head, (size_t)hn, &rerr);
	finish_unit(u, &loc, in, st, 0, rc, rerr);
done:
	if (head != w->head)
		free(head);
	return (u->stopped || sn_stop_requested(sc->stop)) ? SN_ESTOP : 0;
}

/* Scan a whole top-level source. */
static void scan_top(scan_ctx *sc, worker *w, sn_input *in, const struct stat *st,
		     const char *path)
{
	unit *u = calloc(1, sizeof *u);
	sn_location loc = { path, NULL, 0 };
	if (!u) {
		record(sc, &loc, SN_FILE_ERROR, "scan-error", "out of memory", 0);
		return;
	}
	u->sc = sc;
	u->w = w;
	u->path = path;
	sn_budget_init(&u->b, &sc->o->limits, sc->stop);
	in->name = path;
	scan_unit(u, in, st);
	free(u);
}

static void scan_fd(scan_ctx *sc, worker *w, int fd, const struct stat *st, const char *path)
{
	top_src src;
	memset(&src, 0, sizeof src);
	src.in.read = read_fd;
	src.in.ctx = &src;
	/* a regular file can be read again from the start, which formats that
	 * seek (zip, 7z, ISO 9660) need */
	src.in.fd = st && S_ISREG(st->st_mode) ? fd : -1;
	src.fd = fd;
	src.stop = sc->stop;
	scan_top(sc, w, &src.in, st, path);
}

static int on_file(void *payload, unsigned wi, const char *path, int is_root)
{
	scan_ctx *sc = payload;
	worker *w = &sc->w[wi];
	sn_location loc = { path, NULL, 0 };
	sn_open_result orr;
	if (sn_stop_requested(sc->stop))
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
			prog_file_end(sc, w, orr.st.st_size);
			close(orr.fd);
			return 0;
		}
	}
	if (sc->o->max_filesize && (uint64_t)orr.st.st_size > sc->o->max_filesize) {
		record(sc, &loc, SN_FILE_SKIPPED, "too-large", "larger than --max-filesize", 0);
		prog_file_end(sc, w, orr.st.st_size);
		close(orr.fd);
		return 0;
	}
	prog_file_begin(w, path, orr.fd, 0);
	scan_fd(sc, w, orr.fd, &orr.st, path);
	prog_file_end(sc, w, orr.st.st_size);
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

static int worker_init(const sn_scan_options *o, worker *w)
{
	sn_match_options mo = SN_MATCH_OPTIONS_INIT;
	sn_text_options to = SN_TEXT_OPTIONS_INIT;
	int rc;
	mo.key = o->key;
	mo.reveal = o->reveal;
	mo.slow_path = o->slow_path;
	mo.memo = w->memo = sn_matcher_memo_new();
	if (!w->memo)
		return sn_error_set(SN_ENOMEM, "out of memory");
	w->mo = mo;
	w->rs = o->rules;
	sn_matcher_overlap(o->rules, &to.before, &to.after);
	if ((rc = sn_matcher_new(&w->m, o->rules, &mo)) < 0 || (rc = sn_text_new(&w->t, &to)) < 0 ||
	    (rc = sn_sniffer_new(&w->sn)) < 0)
		return rc;
	w->head = malloc(SN_SNIFF_BYTES);
	if (!w->head)
		return sn_error_set(SN_ENOMEM, "out of memory");
	return 0;
}

static void worker_clear(worker *w)
{
	sn_matcher_free(w->m);
	for (size_t i = 0; i < SN_CHAIN_MAX; i++)
		sn_matcher_free(w->tm[i]);
	sn_matcher_free(w->jm);
	sn_fp_memo_free(w->memo); /* after the matchers that share it */
	sn_text_free(w->t);
	sn_sniffer_free(w->sn);
	free(w->head);
	memset(w, 0, sizeof *w);
}

static void free_workers(scan_ctx *sc)
{
	if (!sc->w)
		return;
	for (unsigned i = 0; i < sc->nw; i++)
		worker_clear(&sc->w[i]);
	free(sc->w);
}

int sn_scan_progress_new(sn_scan_progress **out)
{
	sn_scan_progress *p = calloc(1, sizeof *p);
	*out = NULL;
	if (!p)
		return sn_error_set(SN_ENOMEM, "out of memory");
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p);
		return sn_error_set(SN_ENOMEM, "cannot create the progress lock");
	}
	*out = p;
	return 0;
}

void sn_scan_progress_free(sn_scan_progress *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->mu);
	free(p);
}

/* Slots for `n` workers, before any of them runs. */
static int prog_attach(sn_scan_progress *p, unsigned n)
{
	prog_slot *slots = aligned_alloc(_Alignof(prog_slot), n * sizeof *slots);
	if (!slots)
		return sn_error_set(SN_ENOMEM, "out of memory");
	memset(slots, 0, n * sizeof *slots);
	for (unsigned i = 0; i < n; i++) {
		slots[i].fd = -1;
		pthread_mutex_init(&slots[i].mu, NULL);
	}
	pthread_mutex_lock(&p->mu);
	p->slots = slots;
	p->nslots = n;
	pthread_mutex_unlock(&p->mu);
	return 0;
}

/* Once every worker is done: keep what the slots counted. */
static void prog_detach(sn_scan_progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	for (unsigned i = 0; i < p->nslots; i++) {
		atomic_fetch_add_explicit(&p->findings,
					  atomic_load_explicit(&p->slots[i].findings,
							       memory_order_relaxed),
					  memory_order_relaxed);
		pthread_mutex_destroy(&p->slots[i].mu);
	}
	free(p->slots);
	p->slots = NULL;
	p->nslots = 0;
	pthread_mutex_unlock(&p->mu);
}

void sn_scan_progress_get(sn_scan_progress *p, sn_scan_snapshot *out)
{
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&p->mu);
	/* settled totals first (acquire): what a worker settled after
	 * resetting its slot is then not counted twice */
	out->bytes = atomic_load_explicit(&p->bytes, memory_order_acquire);
	out->input_bytes = atomic_load_explicit(&p->input, memory_order_acquire);
	out->files = atomic_load_explicit(&p->files, memory_order_relaxed);
	out->findings = atomic_load_explicit(&p->findings, memory_order_relaxed);
	/* The path shown last stays while its file is being read; otherwise
	 * the next busy slot after it, round-robin. */
	unsigned pick = p->nslots;
	uint64_t pick_gen = 0;
	for (unsigned k = 0; k < p->nslots; k++) {
		unsigned i = (p->shown + 1 + k) % p->nslots; /* p->shown comes last */
		prog_slot *ps = &p->slots[i];
		out->findings += atomic_load_explicit(&ps->findings, memory_order_relaxed);
		out->bytes += atomic_load_explicit(&ps->current, memory_order_relaxed);
		pthread_mutex_lock(&ps->mu);
		if (ps->path[0]) {
			out->active++;
			off_t at = ps->fd >= 0 && ps->base >= 0 ? lseek(ps->fd, 0, SEEK_CUR) : -1;
			if (at > ps->base)
				out->input_bytes += (uint64_t)(at - ps->base);
			if (pick == p->nslots || (i == p->shown && ps->gen == p->shown_gen)) {
				pick = i;
				pick_gen = ps->gen;
				out->path_cut = ps->path_cut;
				memcpy(out->path, ps->path, sizeof out->path);
			}
		}
		pthread_mutex_unlock(&ps->mu);
	}
	if (pick < p->nslots) {
		p->shown = pick;
		p->shown_gen = pick_gen;
	}
	pthread_mutex_unlock(&p->mu);
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
	if (o->version < 2 || o->version > SN_SCAN_OPTIONS_VERSION || !o->rules || !o->key)
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
	for (unsigned i = 0; i < sc.nw; i++) {
		if ((rc = worker_init(o, &sc.w[i])) < 0)
			goto done;
	}
	/* a slot per worker and per helper (sc.nw - 1 of them) */
	if (o->version >= 3 && o->progress) {
		if ((rc = prog_attach(o->progress, 2 * sc.nw - 1)) < 0)
			goto done;
		sc.prog = o->progress;
		for (unsigned i = 0; i < sc.nw; i++)
			sc.w[i].ps = &sc.prog->slots[i];
	}

	/* Helpers that match members of large archives (see pool). */
	if (sc.nw > 1 && pool_start(&sc, sc.nw - 1) < 0)
		sc.pl = NULL; /* without helpers every member is scanned inline */

	/* Standard input first, on worker 0's pipeline, before the walk. */
	const char **roots = calloc(o->npaths ? o->npaths : 1, sizeof *roots);
	size_t nroots = 0;
	if (!roots) {
		rc = sn_error_set(SN_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < o->npaths; i++) {
		if (strcmp(o->paths[i], "-") == 0) {
			prog_file_begin(&sc.w[0], "-", STDIN_FILENO,
					sc.prog ? lseek(STDIN_FILENO, 0, SEEK_CUR) : -1);
			scan_fd(&sc, &sc.w[0], STDIN_FILENO, NULL, "-");
			prog_file_end(&sc, &sc.w[0], -1);
		} else
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
	pool_stop(&sc);
done:
	res->interrupted = sn_stop_requested(o->stop);
	res->duration_s = now_s() - t0;
	res->segments = atomic_load(&sc.segments);
	res->rematched = atomic_load(&sc.rematched);
	prog_detach(sc.prog);
	free_workers(&sc);
	sn_inode_set_free(sc.inodes);
	return rc;
}

int sn_scan_buffer(const sn_scan_options *o, struct sn_sink *sink, const void *data, size_t n,
		   const char *name)
{
	scan_ctx sc;
	worker w;
	int rc;
	memset(&sc, 0, sizeof sc);
	memset(&w, 0, sizeof w);
	if (o->version < 2 || o->version > SN_SCAN_OPTIONS_VERSION || !o->rules || !o->key)
		return sn_error_set(SN_EINVAL, "invalid scan options");
	sc.o = o;
	sc.sink = sink;
	sc.stop = o->stop;
	sc.w = &w;
	sc.nw = 1;
	rc = worker_init(o, &w);
	if (rc == 0 && o->version >= 3 && o->progress &&
	    (rc = prog_attach(o->progress, 1)) == 0) {
		sc.prog = o->progress;
		w.ps = &sc.prog->slots[0];
	}
	if (rc == 0) {
		sn_mem_input src;
		sn_mem_input_init(&src, data, n, NULL, 0);
		scan_top(&sc, &w, &src.in, NULL, name ? name : "<buffer>");
	}
	prog_detach(sc.prog);
	worker_clear(&w);
	return rc;
}
