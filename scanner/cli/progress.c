/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * --progress: the status line.  A thread samples the library's counters
 * every SN_PROGRESS_TICK_MS and rewrites one line on stderr with '\r':
 *
 *   1234 files  1.2 GB  85.3 MB/s  56 findings  42% ETA 0:12  …/export/klanten.csv
 *
 * No escape sequences are written (a dumb terminal shows it as well): a
 * shorter line is padded with spaces over the longer one before it, and the
 * line is erased with spaces.  Only paths are shown, never a value.  Paths
 * come from the file system and may hold anything, so they are passed
 * through a filter that lets only printable characters reach the terminal.
 * Nothing is drawn while the process is in the background of its terminal.
 *
 * One lock orders everything written to the terminal: the status line, and
 * the report when it goes to the same terminal (cli_progress_stream).
 */
#include "cli/progress.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "speurneus/error.h"

#define SN_PROGRESS_TICK_MS 250
#define SN_PROGRESS_RATE_SAMPLES 9 /* the rate is measured over ~2 s */
#define SN_PROGRESS_LINE_MAX 4096  /* bytes of one drawn line (a wide terminal) */

struct cli_progress {
	sn_scan_progress *counters;
	uint64_t total;
	const atomic_int *stop; /* set by the signal handler */
	FILE *stream;          /* report stream over stdout, or NULL */

	pthread_mutex_t mu;    /* guards what follows, and writes to the terminal */
	pthread_cond_t cv;
	pthread_t th;
	int started, quit;
	char line[SN_PROGRESS_LINE_MAX]; /* the last line drawn */
	size_t line_len;
	size_t drawn_cols;     /* columns of the line on the terminal (0: none) */
	size_t term_cols;      /* the terminal's width when last drawn */
	int out_bol;           /* the report's last byte was a newline */
};

static int stopping(const cli_progress *pg)
{
	return pg->stop && atomic_load_explicit(pg->stop, memory_order_relaxed);
}

/* ---- formatting ------------------------------------------------------ */

static void human_bytes(char *out, size_t cap, double b, const char *suffix)
{
	if (b < 1000)
		snprintf(out, cap, "%.0f B%s", b, suffix);
	else if (b < 1e6)
		snprintf(out, cap, "%.1f kB%s", b / 1e3, suffix);
	else if (b < 1e9)
		snprintf(out, cap, "%.1f MB%s", b / 1e6, suffix);
	else if (b < 1e12)
		snprintf(out, cap, "%.2f GB%s", b / 1e9, suffix);
	else
		snprintf(out, cap, "%.2f TB%s", b / 1e12, suffix);
}

static void human_time(char *out, size_t cap, double s)
{
	unsigned long t = s < 0 ? 0 : s > 359999 ? 359999 : (unsigned long)(s + 0.5);
	if (t < 60)
		snprintf(out, cap, "%lus", t);
	else if (t < 3600)
		snprintf(out, cap, "%lu:%02lu", t / 60, t % 60);
	else
		snprintf(out, cap, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
}

/* One character of a name as it may be shown: its bytes (or "?") and its
 * width in columns. */
typedef struct glyph {
	char b[4];
	unsigned char n, w;
} glyph;

/* Decode one strict UTF-8 sequence at s (n bytes left); its length, or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Characters of no width that change how the rest of a line looks (bidi
 * overrides and isolates, zero-width joiners and spaces, the BOM): a name
 * holding them could show as another name. */
static int invisible(uint32_t cp)
{
	return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff || cp == 0x061c ||
	       (cp >= 0xfff9 && cp <= 0xfffb);
}

/* Split `s` into glyphs (at most `max`); everything that is not printable
 * (C0 and C1 controls, DEL, invalid UTF-8, or any non-ASCII character when
 * the locale is not UTF-8) becomes '?'. */
static size_t to_glyphs(const char *s, glyph *g, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k = 0;
	int utf8 = MB_CUR_MAX > 1;
	while (i < n && k < max) {
		uint32_t cp = 0;
		size_t len = utf8_seq(p + i, n - i, &cp);
		int w = -1;
		if (len == 1)
			w = cp >= 0x20 && cp < 0x7f ? 1 : -1;
		else if (len > 1 && utf8 && !invisible(cp))
			w = wcwidth((wchar_t)cp);
		if (w < 0 || w > 2) {
			g[k].b[0] = '?';
			g[k].n = 1;
			g[k].w = 1;
			i += len ? len : 1;
		} else {
			memcpy(g[k].b, p + i, len);
			g[k].n = (unsigned char)len;
			g[k].w = (unsigned char)w;
			i += len;
		}
		k++;
	}
	return k;
}

size_t cli_progress_format(char *out, size_t cap, const cli_progress_view *v, size_t cols)
{
	char bytes[32], rate[32], eta[48] = "", stats[256];
	human_bytes(bytes, sizeof bytes, (double)v->bytes, "");
	human_bytes(rate, sizeof rate, v->rate, "/s");
	if (v->total) {
		uint64_t pct = v->input >= v->total ? 100 : v->input * 100 / v->total;
		int n = snprintf(eta, sizeof eta, "  %u%%", (unsigned)pct);
		/* an estimate only once there is something to go by: a decoder
		 * that reads with pread (PDF, SQLite) moves no file offset */
		if (v->input < v->total && v->elapsed_s >= 1.0 && v->input * 100 >= v->total) {
			char t[24];
			human_time(t, sizeof t,
				   v->elapsed_s * (double)(v->total - v->input) / (double)v->input);
			snprintf(eta + n, sizeof eta - (size_t)n, " ETA %s", t);
		}
	}
	int sn = snprintf(stats, sizeof stats, "%s%llu file%s  %s  %s  %llu finding%s%s",
			  v->stopping ? "stopping  " : "", (unsigned long long)v->files,
			  v->files == 1 ? "" : "s", bytes, rate, (unsigned long long)v->findings,
			  v->findings == 1 ? "" : "s", eta);
	size_t len = sn < 0 ? 0 : (size_t)sn;
	if (len >= sizeof stats)
		len = sizeof stats - 1;
	if (len > cols)
		len = cols; /* all ASCII: a byte is a column */
	if (len > cap - 1)
		len = cap - 1;
	memcpy(out, stats, len);
	size_t used = len;

	/* the path, in what is left; its end (the file name) matters most */
	const char *path = v->path && strcmp(v->path, "-") == 0 ? "stdin" : v->path;
	int utf8 = MB_CUR_MAX > 1;
	const char *ell = utf8 ? "\xe2\x80\xa6" : "...";
	size_t ell_w = utf8 ? 1 : 3, ell_n = strlen(ell);
	if (path && *path && used + 2 + 8 <= cols) {
		glyph g[SN_PROGRESS_PATH_MAX];
		if (v->path_cut) /* cut inside a sequence: start at the next one */
			while ((*path & 0xc0) == 0x80)
				path++;
		size_t ng = to_glyphs(path, g, sizeof g / sizeof g[0]), from = 0, w = 0;
		size_t room = cols - used - 2;
		for (size_t i = 0; i < ng; i++)
			w += g[i].w;
		int cut = v->path_cut || w > room;
		if (cut) {
			/* keep the longest tail that fits after the ellipsis */
			w = 0;
			from = ng;
			while (from > 0 && w + g[from - 1].w + ell_w <= room) {
				from--;
				w += g[from].w;
			}
		}
		if (used + 2 + (cut ? ell_n : 0) + 4 * (ng - from) < cap) {
			memcpy(out + used, "  ", 2);
			len = used + 2;
			if (cut) {
				memcpy(out + len, ell, ell_n);
				len += ell_n;
			}
			for (size_t i = from; i < ng; i++) {
				memcpy(out + len, g[i].b, g[i].n);
				len += g[i].n;
			}
			used += 2 + (cut ? ell_w : 0) + w;
		}
	}
	out[len] = '\0';
	return used;
}

/* ---- drawing ----------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static size_t term_cols(void)
{
	struct winsize ws;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	const char *c = getenv("COLUMNS");
	long n = c ? strtol(c, NULL, 10) : 0;
	return n > 0 && n < 10000 ? (size_t)n : 80;
}

/* A background job leaves the terminal to the foreground one.  A terminal
 * that is not ours (no controlling terminal) has no foreground to ask. */
static int in_foreground(void)
{
	pid_t fg = tcgetpgrp(STDERR_FILENO);
	return fg < 0 || fg == getpgrp();
}

/* Both with pg->mu held.  The line never holds more than
 * SN_PROGRESS_LINE_MAX bytes, so it never spans more columns. */
static void erase_locked(cli_progress *pg)
{
	char buf[SN_PROGRESS_LINE_MAX + 4];
	size_t n = pg->drawn_cols < SN_PROGRESS_LINE_MAX ? pg->drawn_cols : SN_PROGRESS_LINE_MAX;
	if (!n)
		return;
	/* ^C typed at the terminal is echoed after the line */
	if (stopping(pg)) {
		n += 2;
		if (pg->term_cols > 1 && n > pg->term_cols - 1)
			n = pg->term_cols - 1;
	}
	buf[0] = '\r';
	memset(buf + 1, ' ', n);
	buf[n + 1] = '\r';
	(void)write_all(STDERR_FILENO, buf, n + 2);
	pg->drawn_cols = 0;
}

/* Draw pg->line, `cols` columns wide, over the one on the terminal: a
 * shorter line is padded with spaces, and backspaces bring the cursor back
 * to its end. */
static void draw_locked(cli_progress *pg, size_t cols)
{
	char buf[3 * SN_PROGRESS_LINE_MAX];
	size_t pad = pg->drawn_cols > cols ? pg->drawn_cols - cols : 0;
	if (!pg->line_len || !pg->out_bol || !in_foreground())
		return;
	if (1 + pg->line_len + 2 * pad > sizeof buf) {
		erase_locked(pg);
		pad = 0;
	}
	buf[0] = '\r';
	memcpy(buf + 1, pg->line, pg->line_len);
	memset(buf + 1 + pg->line_len, ' ', pad);
	memset(buf + 1 + pg->line_len + pad, '\b', pad);
	if (write_all(STDERR_FILENO, buf, 1 + pg->line_len + 2 * pad) == 0)
		pg->drawn_cols = cols;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *progress_main(void *arg)
{
	cli_progress *pg = arg;
	double t0 = mono_s(), ts[SN_PROGRESS_RATE_SAMPLES];
	uint64_t bs[SN_PROGRESS_RATE_SAMPLES], shown_bytes = 0;
	size_t nsamples = 0;
	sn_scan_snapshot *snap = malloc(sizeof *snap);
	if (!snap)
		return NULL;
	pthread_mutex_lock(&pg->mu);
	for (;;) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += SN_PROGRESS_TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!pg->quit && pthread_cond_timedwait(&pg->cv, &pg->mu, &until) != ETIMEDOUT)
			;
		if (pg->quit)
			break;
		pthread_mutex_unlock(&pg->mu);

		/* outside the lock: the sampler may wait for a worker's read */
		sn_scan_progress_get(pg->counters, snap);
		double now = mono_s();
		/* a unit that ends is moved from "being read" to "settled";
		 * never let the count step back on the way */
		if (snap->bytes < shown_bytes)
			snap->bytes = shown_bytes;
		shown_bytes = snap->bytes;
		if (nsamples == SN_PROGRESS_RATE_SAMPLES) {
			memmove(ts, ts + 1, sizeof ts - sizeof ts[0]);
			memmove(bs, bs + 1, sizeof bs - sizeof bs[0]);
			nsamples--;
		}
		ts[nsamples] = now;
		bs[nsamples++] = snap->bytes;
		double dt = now - (nsamples > 1 ? ts[0] : t0);
		uint64_t db = snap->bytes - (nsamples > 1 ? bs[0] : 0);
		cli_progress_view v = { snap->files, snap->bytes, snap->findings,
					snap->input_bytes, pg->total, now - t0,
					dt > 0 ? (double)db / dt : 0, stopping(pg),
					snap->path, snap->path_cut };
		size_t cols = term_cols();
		char line[SN_PROGRESS_LINE_MAX];
		size_t used = cli_progress_format(line, sizeof line, &v, cols > 1 ? cols - 1 : 1);

		pthread_mutex_lock(&pg->mu);
		if (pg->quit)
			break;
		pg->line_len = strlen(line);
		memcpy(pg->line, line, pg->line_len);
		pg->term_cols = cols;
		draw_locked(pg, used);
	}
	pthread_mutex_unlock(&pg->mu);
	free(snap);
	return NULL;
}

/* ---- the report stream ------------------------------------------------- */

static ssize_t stream_write(void *cookie, const char *buf, size_t n)
{
	cli_progress *pg = cookie;
	int rc;
	pthread_mutex_lock(&pg->mu);
	size_t cols = pg->drawn_cols;
	erase_locked(pg);
	rc = write_all(STDOUT_FILENO, buf, n);
	if (n)
		pg->out_bol = buf[n - 1] == '\n';
	if (rc == 0 && cols && pg->started && !pg->quit)
		draw_locked(pg, cols); /* the last line again, below the report */
	pthread_mutex_unlock(&pg->mu);
	return rc < 0 ? -1 : (ssize_t)n;
}

/* ---- life cycle -------------------------------------------------------- */

int cli_progress_new(cli_progress **out, uint64_t total, const atomic_int *stop)
{
	*out = NULL;
	if (!isatty(STDERR_FILENO))
		return 0;
	cli_progress *pg = calloc(1, sizeof *pg);
	if (!pg)
		return sn_error_set(SN_ENOMEM, "out of memory");
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&pg->mu, NULL);
	pthread_cond_init(&pg->cv, &ca);
	pthread_condattr_destroy(&ca);
	pg->total = total;
	pg->stop = stop;
	pg->out_bol = 1;
	if (sn_scan_progress_new(&pg->counters) < 0) {
		cli_progress_free(pg);
		return SN_ENOMEM;
	}
	*out = pg;
	return 0;
}

sn_scan_progress *cli_progress_counters(cli_progress *pg)
{
	return pg ? pg->counters : NULL;
}

FILE *cli_progress_stream(cli_progress *pg)
{
	if (!pg || !isatty(STDOUT_FILENO))
		return NULL;
	if (!pg->stream) {
		cookie_io_functions_t io = { NULL, stream_write, NULL, NULL };
		pg->stream = fopencookie(pg, "w", io);
		/* as stdout on a terminal: each line as it is complete */
		if (pg->stream)
			setvbuf(pg->stream, NULL, _IOLBF, 0);
	}
	return pg->stream;
}

int cli_progress_start(cli_progress *pg)
{
	sigset_t block, old;
	if (!pg || pg->started)
		return 0;
	/* SIGINT and SIGTERM are for the main thread: the handlers are
	 * installed without SA_RESTART, and this thread has no use for them */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int rc = pthread_create(&pg->th, NULL, progress_main, pg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return 0; /* no status line; the scan goes on */
	pthread_mutex_lock(&pg->mu);
	pg->started = 1;
	pthread_mutex_unlock(&pg->mu);
	return 0;
}

void cli_progress_stop(cli_progress *pg)
{
	if (!pg)
		return;
	pthread_mutex_lock(&pg->mu);
	int started = pg->started;
	pg->quit = 1;
	pthread_cond_broadcast(&pg->cv);
	pthread_mutex_unlock(&pg->mu);
	if (started)
		pthread_join(pg->th, NULL);
	pthread_mutex_lock(&pg->mu);
	pg->started = 0;
	erase_locked(pg);
	pthread_mutex_unlock(&pg->mu);
}

void cli_progress_clear(cli_progress *pg)
{
	if (!pg)
		return;
	pthread_mutex_lock(&pg->mu);
	erase_locked(pg);
	pthread_mutex_unlock(&pg->mu);
}

void cli_progress_free(cli_progress *pg)
{
	if (!pg)
		return;
	cli_progress_stop(pg);
	if (pg->stream)
		fclose(pg->stream);
	sn_scan_progress_free(pg->counters);
	pthread_cond_destroy(&pg->cv);
	pthread_mutex_destroy(&pg->mu);
	free(pg);
}
