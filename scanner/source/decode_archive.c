/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Archives and compressed streams through libarchive (see container.h).
 *
 * Graded outcomes, as libarchive grades them: ARCHIVE_WARN is noted and
 * reading goes on; ARCHIVE_FAILED loses one entry (it is recorded and the
 * next one is read); ARCHIVE_FATAL ends the container (recorded as corrupt,
 * findings made before the damage stay).  Sparse tar entries are read with
 * archive_read_data_block and their holes are never materialised as zeros.
 */
#include "source/container.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/stop.h"
#include "speurneus/error.h"

#define SN_ARCHIVE_BLOCK (128 * 1024)

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sn_budget_init(sn_budget *b, const sn_limits *lim, volatile sig_atomic_t *stop)
{
	memset(b, 0, sizeof *b);
	b->lim = lim;
	b->stop = stop;
	if (lim->max_time_s)
		b->deadline = now_s() + lim->max_time_s;
}

static int over_ratio(const sn_limits *l, uint64_t produced, uint64_t consumed)
{
	if (!l->max_ratio || produced < l->ratio_min_bytes)
		return 0;
	if (consumed == 0)
		return 1;
	return produced / consumed > l->max_ratio;
}

const char *sn_budget_check(sn_budget *b, uint64_t produced, uint64_t consumed, int container)
{
	const sn_limits *l = b->lim;
	if (!b->hit) {
		if (b->deadline && now_s() > b->deadline)
			b->hit = "time";
		else if (l->max_total_size && b->total_produced > l->max_total_size)
			b->hit = "total-size";
		else if (b->top_consumed && over_ratio(l, b->total_produced, b->top_consumed))
			b->hit = "ratio";
		else if (l->max_entries && b->entries > l->max_entries)
			b->hit = "entries";
	}
	if (b->hit)
		return b->hit;
	if (!container && l->max_member_size && produced > l->max_member_size)
		return "member-size";
	if (over_ratio(l, produced, consumed))
		return "ratio";
	return NULL;
}

int sn_container_kind(const char *reason)
{
	return reason && (strcmp(reason, "archive") == 0 || strcmp(reason, "compressed") == 0);
}

void sn_container_stream_name(const char *outer, char *out, size_t n)
{
	static const char *const sfx[] = { ".gz",  ".tgz", ".bz2", ".tbz2", ".xz", ".txz",
					   ".lzma", ".zst", ".tzst", ".lz4", ".Z", ".lz" };
	const char *base = strrchr(outer, '/');
	base = base ? base + 1 : outer;
	size_t len = strlen(base);
	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
		size_t sl = strlen(sfx[i]);
		if (len > sl && strcmp(base + len - sl, sfx[i]) == 0) {
			/* .tgz and friends hold a tar */
			const char *tar = sfx[i][1] == 't' && sl > 3 ? ".tar" : "";
			snprintf(out, n, "%.*s%s", (int)(len - sl), base, tar);
			return;
		}
	}
	/* no known suffix: the stream's content, named after its container */
	snprintf(out, n, "%s.data", base);
}

/* ---------------------------------------------------------------------- */
/* Filters and formats, listed explicitly                                  */

typedef int (*support_fn)(struct archive *);

static const support_fn filters[] = {
	archive_read_support_filter_gzip,  archive_read_support_filter_bzip2,
	archive_read_support_filter_xz,    archive_read_support_filter_lzma,
	archive_read_support_filter_zstd,  archive_read_support_filter_lz4,
	archive_read_support_filter_compress, archive_read_support_filter_lzip,
};
#define NFILTERS (sizeof filters / sizeof filters[0])
static uint8_t filter_ok[NFILTERS];
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

/* A filter that libarchive would run as an external program answers
 * ARCHIVE_WARN; such filters are never enabled. */
static void probe_filters(void)
{
	for (size_t i = 0; i < NFILTERS; i++) {
		struct archive *a = archive_read_new();
		if (!a)
			continue;
		filter_ok[i] = filters[i](a) == ARCHIVE_OK;
		archive_read_free(a);
	}
}

enum { MODE_STREAM, MODE_SEEKABLE };

static struct archive *new_reader(int mode, int raw)
{
	struct archive *a = archive_read_new();
	if (!a)
		return NULL;
	pthread_once(&probe_once, probe_filters);
	for (size_t i = 0; i < NFILTERS; i++) {
		if (filter_ok[i])
			filters[i](a);
	}
	if (raw) {
		archive_read_support_format_raw(a);
		return a;
	}
	archive_read_support_format_tar(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_ar(a);
	archive_read_support_format_7zip(a);
	archive_read_support_format_iso9660(a);
	archive_read_support_format_rar(a);
	archive_read_support_format_rar5(a);
	archive_read_support_format_cab(a);
	archive_read_support_format_lha(a);
	archive_read_support_format_xar(a);
	if (mode == MODE_SEEKABLE)
		archive_read_support_format_zip_seekable(a);
	else
		archive_read_support_format_zip_streamable(a);
	return a;
}

/* ---------------------------------------------------------------------- */
/* Input: the head bytes, then the rest of the unit                        */

typedef struct stream_src {
	const uint8_t *head;
	size_t head_len;
	int head_done;
	sn_input *in;
	uint8_t *buf;
} stream_src;

static la_ssize_t stream_read(struct archive *a, void *ctx, const void **out)
{
	stream_src *s = ctx;
	(void)a;
	if (!s->head_done) {
		s->head_done = 1;
		if (s->head_len) {
			*out = s->head;
			return (la_ssize_t)s->head_len;
		}
	}
	ssize_t k = s->in->read(s->in->ctx, s->buf, SN_ARCHIVE_BLOCK);
	if (k < 0) {
		archive_set_error(a, errno ? errno : EIO, "read error");
		return -1;
	}
	*out = s->buf;
	return k;
}

int sn_input_buffer_all(const uint8_t *head, size_t head_len, sn_input *in, uint64_t max,
			uint8_t **out, size_t *out_len, int *too_large)
{
	size_t cap = head_len > 65536 ? head_len * 2 : 131072, len = head_len;
	uint8_t *p = malloc(cap);
	*too_large = 0;
	if (!p)
		return SN_ENOMEM;
	memcpy(p, head, head_len);
	for (;;) {
		if (len > max) {
			*too_large = 1;
			break;
		}
		if (len == cap) {
			if (cap >= max) {
				*too_large = 1;
				break;
			}
			size_t ncap = cap * 2 > max ? (size_t)max : cap * 2;
			uint8_t *q = realloc(p, ncap);
			if (!q) {
				free(p);
				return SN_ENOMEM;
			}
			p = q;
			cap = ncap;
		}
		ssize_t k = in->read(in->ctx, p + len, cap - len);
		if (k < 0) {
			free(p);
			return SN_EIO;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	*out = p;
	*out_len = len;
	return 0;
}

static int needs_seek(const uint8_t *h, size_t n)
{
	return (n >= 4 && memcmp(h, "PK\3\4", 4) == 0) || (n >= 4 && memcmp(h, "PK\5\6", 4) == 0) ||
	       (n >= 6 && memcmp(h, "7z\xbc\xaf\x27\x1c", 6) == 0) ||
	       (n >= 32774 && memcmp(h + 32769, "CD001", 5) == 0);
}

/* ---------------------------------------------------------------------- */
/* Members                                                                 */

typedef struct member_src {
	struct archive *a;
	sn_input *outer;         /* the container's own input */
	sn_budget *b;
	int top;                 /* this container is the top-level file */
	int64_t consumed_start;
	const uint8_t *blk;
	size_t left;
	int eof, fatal;
	sn_input in;
} member_src;

void sn_input_stop(sn_input *in, sn_file_status st, const char *reason, const char *detail)
{
	if (in->stop_reason)
		return;
	in->stop_status = st;
	in->stop_reason = reason;
	snprintf(in->stop_detail, sizeof in->stop_detail, "%s", detail ? detail : "");
}

static void stop_input(sn_input *in, const char *reason, const char *detail)
{
	sn_input_stop(in, SN_FILE_INCOMPLETE, reason, detail);
}

int sn_archive_encrypted(struct archive *a)
{
	const char *e = archive_error_string(a);
	return e && (strstr(e, "ncrypt") || strstr(e, "assphrase") || strstr(e, "assword"));
}

static ssize_t member_read(void *ctx, void *buf, size_t n)
{
	member_src *m = ctx;
	if (m->in.stop_reason) {
		errno = EIO;
		return -1;
	}
	while (m->left == 0) {
		if (m->eof)
			return 0;
		if (sn_stop_requested(m->b->stop)) {
			stop_input(&m->in, "interrupted", NULL);
			errno = EINTR;
			return -1;
		}
		const void *blk;
		size_t size;
		la_int64_t off;
		int r = archive_read_data_block(m->a, &blk, &size, &off);
		if (r == ARCHIVE_EOF) {
			m->eof = 1;
			return 0;
		}
		if (r < ARCHIVE_WARN) {
			m->fatal = r == ARCHIVE_FATAL;
			if (m->outer->stop_reason) {
				/* the container's input stopped: say why, here, once */
				stop_input(&m->in, m->outer->stop_reason, m->outer->stop_detail);
				m->outer->stop_reported = 1;
			}
			else
				stop_input(&m->in,
					   sn_archive_encrypted(m->a) ? "encrypted" : "corrupt",
					   archive_error_string(m->a));
			errno = EIO;
			return -1;
		}
		m->blk = blk;
		m->left = size;
		m->in.produced += size;
		m->b->total_produced += size;
		int64_t consumed = archive_filter_bytes(m->a, -1);
		if (m->top && consumed > 0)
			m->b->top_consumed = (uint64_t)consumed;
		const char *why = sn_budget_check(m->b, m->in.produced,
						  (uint64_t)(consumed - m->consumed_start),
						  m->in.is_container ||
							  (m->in.transparent && !m->in.sniffed));
		if (why) {
			char detail[96];
			snprintf(detail, sizeof detail, "stopped after %llu bytes",
				 (unsigned long long)m->in.produced);
			stop_input(&m->in, why, detail);
			errno = EFBIG;
			return -1;
		}
	}
	size_t k = n < m->left ? n : m->left;
	memcpy(buf, m->blk, k);
	m->blk += k;
	m->left -= k;
	return (ssize_t)k;
}

int sn_container_scan(const uint8_t *head, size_t head_len, sn_input *in, int nested,
		      const char *sniff_reason, sn_budget *b, const sn_container_cb *cb,
		      void *payload)
{
	struct archive *a = NULL;
	struct archive_entry *e;
	uint8_t *mem = NULL;
	size_t mem_len = 0;
	stream_src src = { head, head_len, 0, in, NULL };
	int raw = 0, rc = 0, r, failures = 0, member_failed = 0;
	char stream_name[512];

	raw = sniff_reason && strcmp(sniff_reason, "compressed") == 0;
	if (!raw && in->fd >= 0 && lseek(in->fd, 0, SEEK_SET) == 0) {
		a = new_reader(MODE_SEEKABLE, raw);
		if (!a)
			return sn_error_set(SN_ENOMEM, "out of memory");
		r = archive_read_open_fd(a, in->fd, SN_ARCHIVE_BLOCK);
	} else if (nested && needs_seek(head, head_len)) {
		int too_large = 0;
		rc = sn_input_buffer_all(head, head_len, in, b->lim->max_buffer, &mem, &mem_len,
					 &too_large);
		if (rc == SN_ENOMEM)
			return rc;
		if (rc < 0 || in->stop_reason) {
			/* the member reader said why (a limit, damage) */
			free(mem);
			return 0;
		}
		if (too_large) {
			char d[96];
			snprintf(d, sizeof d, "a %s must be held in memory; over --max-buffer",
				 head[0] == 'P' ? "zip" : head[0] == '7' ? "7z" : "disc image");
			cb->record(payload, NULL, SN_FILE_INCOMPLETE, "too-large-to-buffer", d);
			free(mem);
			return 0;
		}
		a = new_reader(MODE_SEEKABLE, 0);
		if (!a) {
			free(mem);
			return sn_error_set(SN_ENOMEM, "out of memory");
		}
		r = archive_read_open_memory(a, mem, mem_len);
	} else {
		src.buf = malloc(SN_ARCHIVE_BLOCK);
		a = src.buf ? new_reader(MODE_STREAM, raw) : NULL;
		if (!a) {
			free(src.buf);
			return sn_error_set(SN_ENOMEM, "out of memory");
		}
		r = archive_read_open(a, &src, NULL, stream_read, NULL);
	}
	if (r < ARCHIVE_WARN) {
		if (in->stop_reason)
			goto done; /* the caller records why its input stopped */
		cb->record(payload, NULL, SN_FILE_INCOMPLETE,
			   sn_archive_encrypted(a) ? "encrypted" : "unsupported",
			   archive_error_string(a));
		goto done;
	}
	for (;;) {
		if (sn_stop_requested(b->stop)) {
			rc = SN_ESTOP;
			break;
		}
		if (b->hit)
			break;
		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			if (in->stop_reason || member_failed)
				break; /* already on record (the input's reason, the member's damage) */
			/* FAILED loses this entry; FATAL the rest of the container */
			cb->record(payload, NULL, SN_FILE_INCOMPLETE,
				   sn_archive_encrypted(a) ? "encrypted" : "corrupt",
				   archive_error_string(a));
			if (r == ARCHIVE_FATAL || ++failures > 16)
				break;
			continue;
		}
		failures = 0;
		member_failed = 0;
		b->entries++;
		const char *limit = sn_budget_check(b, 0, 0, 1);
		if (limit) {
			cb->record(payload, NULL, SN_FILE_INCOMPLETE, limit,
				   "the rest of this container was not read");
			break;
		}
		/* directories, links and devices inside an archive are only names;
		 * a type of 0 (an ar made with deterministic mode 0) is a file */
		unsigned ft = archive_entry_filetype(e);
		if (ft != AE_IFREG && ft != 0)
			continue;
		/* UTF-8 whatever the locale (the plain pathname is converted to the
		 * locale's charset and is NULL in the C locale for "café.txt");
		 * the raw form is the fallback for names no charset describes */
		const char *name = archive_entry_pathname_utf8(e);
		if (!name)
			name = archive_entry_pathname(e);
		if (raw) {
			/* no decompression filter took the data: it is damaged
			 * compressed data, not a stream to read again */
			if (archive_filter_count(a) < 2) {
				cb->record(payload, NULL, SN_FILE_INCOMPLETE, "corrupt",
					   "not a readable compressed stream");
				break;
			}
			sn_container_stream_name(in->name ? in->name : "", stream_name,
						 sizeof stream_name);
			name = stream_name;
		}
		if (!name || !*name)
			name = "?";
		if (archive_entry_is_encrypted(e)) {
			cb->record(payload, name, SN_FILE_INCOMPLETE, "encrypted",
				   "encrypted member, no passphrase");
			continue;
		}
		member_src m;
		memset(&m, 0, sizeof m);
		m.a = a;
		m.outer = in;
		m.b = b;
		m.top = !nested;
		m.consumed_start = archive_filter_bytes(a, -1);
		m.in.read = member_read;
		m.in.ctx = &m;
		m.in.fd = -1;
		m.in.name = name;
		m.in.transparent = raw;
		int cr = cb->member(payload, name, &m.in);
		if (cr != 0) {
			rc = cr == SN_ESTOP ? SN_ESTOP : 0;
			break;
		}
		/* After damage inside a member the container may still yield the
		 * next one (a zip seeks to it); if it cannot, next_header says so
		 * and the damage is already on record. */
		member_failed = m.fatal;
	}
done:
	archive_read_free(a);
	free(mem);
	free(src.buf);
	return rc;
}
