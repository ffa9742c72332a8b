/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sink core: one writer for every output format, the coverage-ledger and
 * summary counters, and the -o temporary-file-and-rename dance.
 *
 * Workers format a record into their own bounded buffer, then take the sink's
 * mutex only to count it and hand the bytes to stdio, so records never
 * interleave and formatting runs in parallel.  The first failed write (EPIPE,
 * ENOSPC, ...) is remembered; from then on every record call returns SN_EIO
 * and sn_sink_close() reports the failure, because a report with holes must
 * not be taken for a complete one.
 *
 * Memory does not grow with the number of records, with one exception:
 * --sort path holds every formatted finding and ledger record until
 * sn_sink_end() sorts and writes them (bounded by SINK_SORT_MAX bytes; past
 * that the report fails rather than coming out unsorted or short).
 */
#include "sink/sink.h"
#include "sink/sink_format.h"
#include "speurneus/error.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Ceiling of one formatted record: far above any real path and member
 * chain, low enough that a runaway record cannot exhaust memory. */
#define SINK_RECORD_MAX ((size_t)1 << 20)
/* Bytes of formatted records held for --sort path. */
#define SINK_SORT_MAX ((size_t)2 << 30)
/* Distinct categories and (status, reason) pairs counted for the summary;
 * both come from rules and code, so this is only a guard. */
#define SINK_NAMES_MAX 1024
#define SINK_OVERFLOW_NAME "other"

/* A record held for --sort path; strings and the text live in the same
 * allocation, right after the struct. */
typedef struct held {
	const char *path;
	const char **member;
	size_t nmember;
	int kind; /* 0 finding, 1 ledger record: a unit's record follows its findings */
	uint64_t offset, line, column;
	const char *rule;
	const char *text;
	size_t len;
} held;

/*
 * NDJSON findings are batched per thread: each worker appends whole records
 * to its own buffer and takes the output lock once per SINK_BATCH_BYTES,
 * not once per finding (on dense exports the lock was a third of the time).
 * Records never interleave because a batch holds only complete lines. The
 * counters travel with the batch and are merged under the same lock.
 * Batches are flushed at sn_sink_end, when every worker has finished.
 */
#define SINK_BATCH_BYTES (64 * 1024)
#define SINK_BATCH_CATS 16

/* A thread's sink state, made on its first finding: the NDJSON batch, or for
 * the other formats a record buffer kept from one finding to the next, and
 * the cache of the last location and key_id it serialized. */
typedef struct batch {
	struct batch *next;
	sn_buf buf;
	sn_buf rec;
	sn_sink_cache cache;
	struct {
		char *name; /* owned copy: findings only lend their strings */
		uint64_t n[4];
	} cat[SINK_BATCH_CATS];
	size_t ncat;
} batch;

struct sn_sink {
	sn_sink_options o;
	pthread_key_t batch_key;
	int batching;      /* NDJSON without --sort path */
	batch *batches;    /* every thread's batch, for the final flush */
	FILE *f;
	char *path; /* -o target */
	char *tmp;  /* its temporary file, until renamed or removed */
	int direct; /* -o names a device or FIFO (/dev/stdout): written in place */
	pthread_mutex_t mu;
	char *key_id;
	int began, ended, doc_open;
	uint64_t nrecords; /* records written into the JSON document */

	uint64_t files_scanned, bytes_scanned, excluded, hardlinks;
	uint64_t by_status[4];
	uint64_t findings, by_conf[4], below;
	sn_sink_category *cat;
	size_t ncat;
	sn_sink_reason *reason;
	size_t nreason;

	held **held;
	size_t nheld, capheld, held_bytes;

	int write_failed, write_errno;
};

int sn_format_parse(sn_format *out, const char *name)
{
	static const struct {
		const char *name;
		sn_format f;
	} t[] = {{"text", SN_FMT_TEXT}, {"json", SN_FMT_JSON}, {"ndjson", SN_FMT_NDJSON}};

	for (size_t i = 0; name && i < sizeof t / sizeof t[0]; i++) {
		if (strcmp(name, t[i].name) == 0) {
			*out = t[i].f;
			return 0;
		}
	}
	return sn_error_set(SN_EINVAL, "unknown output format '%s' (text, json, ndjson)",
			    name ? name : "");
}

static char *dup_str(const char *s)
{
	return strdup(s ? s : "");
}

int sn_sink_open(sn_sink **out, const sn_sink_options *o)
{
	sn_sink *s = NULL;
	int rc = 0, fd = -1, tmp_made = 0;
	struct stat st;

	*out = NULL;
	if (!o || o->format > SN_FMT_NDJSON)
		return sn_error_set(SN_EINVAL, "invalid sink options");
	s = calloc(1, sizeof *s);
	if (!s)
		return sn_error_set(SN_ENOMEM, "out of memory");
	s->o = *o;
	if (pthread_mutex_init(&s->mu, NULL) != 0) {
		free(s);
		return sn_error_set(SN_ENOMEM, "cannot create the output lock");
	}
	if (pthread_key_create(&s->batch_key, NULL) != 0) {
		pthread_mutex_destroy(&s->mu);
		free(s);
		return sn_error_set(SN_ENOMEM, "cannot create the sink's thread key");
	}
	s->batching = o->format == SN_FMT_NDJSON && !o->sort_path;
	if (!o->path) {
		s->f = o->stream ? o->stream : stdout;
		goto done;
	}
	if (stat(o->path, &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = sn_error_set(SN_EINVAL, "output path %s is a directory", o->path);
		goto done;
	}
	if (stat(o->path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* A device or FIFO (/dev/stdout, a named pipe): there is nothing
		 * to replace atomically, and renaming over it would destroy it. */
		fd = open(o->path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			rc = sn_error_set(SN_EIO, "cannot open %s: %s", o->path, strerror(errno));
			goto done;
		}
		s->f = fdopen(fd, "w");
		if (!s->f) {
			rc = sn_error_set(SN_EIO, "cannot open %s: %s", o->path, strerror(errno));
			goto done;
		}
		fd = -1;
		s->direct = 1;
		goto done;
	}
	/* A symlink to a report is kept: the temporary file goes beside its
	 * target and the rename replaces the target. */
	char *real = realpath(o->path, NULL);
	s->path = real ? real : strdup(o->path);
	size_t n = strlen(s->path) + sizeof ".tmp.XXXXXX";
	s->tmp = malloc(n);
	if (!s->path || !s->tmp) {
		rc = sn_error_set(SN_ENOMEM, "out of memory");
		goto done;
	}
	snprintf(s->tmp, n, "%s.tmp.XXXXXX", s->path);
	/* mkstemp creates 0600 whatever the umask; the fchmod documents and
	 * enforces it.  The report becomes visible only by the final rename. */
	fd = mkostemp(s->tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = sn_error_set(SN_EIO, "cannot create a temporary file beside %s: %s", o->path,
				  strerror(errno));
		goto done;
	}
	tmp_made = 1;
	if (fchmod(fd, 0600) < 0) {
		rc = sn_error_set(SN_EIO, "cannot set the mode of %s: %s", s->tmp, strerror(errno));
		goto done;
	}
	s->f = fdopen(fd, "w");
	if (!s->f) {
		rc = sn_error_set(SN_EIO, "cannot open %s: %s", s->tmp, strerror(errno));
		goto done;
	}
	fd = -1;
done:
	if (rc < 0) {
		if (fd >= 0)
			close(fd);
		if (s->f && (s->path || s->direct))
			fclose(s->f);
		if (tmp_made)
			unlink(s->tmp);
		free(s->tmp);
		free(s->path);
		pthread_key_delete(s->batch_key);
		pthread_mutex_destroy(&s->mu);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* Called with the mutex held. */
static int io_fail(sn_sink *s, int err)
{
	if (!s->write_failed) {
		s->write_errno = err ? err : EIO;
		/* read without the lock by batch_finding */
		__atomic_store_n(&s->write_failed, 1, __ATOMIC_RELEASE);
	}
	return sn_error_set(SN_EIO, "cannot write the report: %s", strerror(s->write_errno));
}

/* Called with the mutex held. */
static int put_raw(sn_sink *s, const char *p, size_t n)
{
	if (s->write_failed)
		return sn_error_set(SN_EIO, "cannot write the report: %s",
				    strerror(s->write_errno));
	errno = 0;
	if (n && fwrite(p, 1, n, s->f) != n)
		return io_fail(s, errno);
	return 0;
}

static int open_document(sn_sink *s)
{
	if (s->o.format != SN_FMT_JSON || s->doc_open)
		return 0;
	s->doc_open = 1;
	return put_raw(s, "{\"version\":1,\"records\":[\n", 25);
}

/* Written between the records of the JSON document. */
#define JSON_SEP ",\n"
#define JSON_SEP_LEN 2

/* Write one formatted record with the separator its format needs.  Called
 * with the mutex held. */
static int emit(sn_sink *s, const char *p, size_t n)
{
	int rc = 0;

	switch (s->o.format) {
	case SN_FMT_JSON:
		rc = open_document(s);
		if (rc == 0 && s->nrecords)
			rc = put_raw(s, ",\n", 2);
		if (rc == 0)
			rc = put_raw(s, p, n);
		s->nrecords++;
		break;
	case SN_FMT_NDJSON:
		rc = put_raw(s, p, n);
		if (rc == 0)
			rc = put_raw(s, "\n", 1);
		break;
	case SN_FMT_TEXT: rc = put_raw(s, p, n); break;
	}
	return rc;
}

/* Whether findings are formatted after their JSON_SEP: document records
 * written as they come (--sort path writes them through emit()). */
static int sep_first(const sn_sink *s)
{
	return s->o.format == SN_FMT_JSON && !s->o.sort_path;
}

/* emit() for a JSON-document record formatted after a JSON_SEP, so that
 * separator and record go out in one write.  Called with the mutex held. */
static int emit_after_sep(sn_sink *s, const char *p, size_t n)
{
	int rc = open_document(s);

	if (rc == 0)
		rc = s->nrecords ? put_raw(s, p, n)
				 : put_raw(s, p + JSON_SEP_LEN, n - JSON_SEP_LEN);
	s->nrecords++;
	return rc;
}

static int close_document(sn_sink *s)
{
	if (s->o.format != SN_FMT_JSON)
		return 0;
	int rc = open_document(s);
	if (rc == 0)
		rc = put_raw(s, "\n]}\n", 4);
	s->doc_open = 0;
	return rc;
}

static int flush_out(sn_sink *s)
{
	if (s->write_failed)
		return sn_error_set(SN_EIO, "cannot write the report: %s",
				    strerror(s->write_errno));
	errno = 0;
	if (fflush(s->f) != 0 || ferror(s->f))
		return io_fail(s, errno);
	return 0;
}

/* A formatting buffer that hit its ceiling means a record would be lost;
 * the report is marked failed rather than silently missing it. */
static int check_buf(sn_sink *s, const sn_buf *b)
{
	if (!b->failed)
		return 0;
	pthread_mutex_lock(&s->mu);
	io_fail(s, ENOMEM);
	pthread_mutex_unlock(&s->mu);
	return sn_error_set(SN_ENOMEM, "an output record exceeds %zu bytes", SINK_RECORD_MAX);
}

int sn_sink_begin(sn_sink *s, const sn_scan_header *h)
{
	sn_buf b;
	int rc = 0;

	if (!s || !h)
		return sn_error_set(SN_EINVAL, "sn_sink_begin: no sink or header");
	sn_buf_init(&b, SINK_RECORD_MAX);
	if (s->o.format != SN_FMT_TEXT)
		sn_sink_json_header(&b, h);
	rc = check_buf(s, &b);
	if (rc < 0)
		goto done;
	pthread_mutex_lock(&s->mu);
	if (s->began) {
		rc = sn_error_set(SN_EINVAL, "sn_sink_begin called twice");
	} else {
		s->began = 1;
		free(s->key_id);
		s->key_id = dup_str(h->key_id);
		if (!s->key_id)
			rc = sn_error_set(SN_ENOMEM, "out of memory");
		else if (s->o.format != SN_FMT_TEXT)
			rc = emit(s, b.p, b.len);
	}
	pthread_mutex_unlock(&s->mu);
done:
	sn_buf_free(&b);
	return rc;
}

/* Find or add a category; called with the mutex held. NULL on ENOMEM. */
static sn_sink_category *category(sn_sink *s, const char *name)
{
	sn_sink_category *v;

	if (!name)
		name = "";
	for (size_t i = 0; i < s->ncat; i++)
		if (strcmp(s->cat[i].name, name) == 0)
			return &s->cat[i];
	/* Past the guard every new name is counted in the overflow bucket. */
	if (s->ncat >= SINK_NAMES_MAX - 1 && strcmp(name, SINK_OVERFLOW_NAME) != 0)
		return category(s, SINK_OVERFLOW_NAME);
	v = realloc(s->cat, (s->ncat + 1) * sizeof *v);
	if (!v)
		return NULL;
	s->cat = v;
	memset(&v[s->ncat], 0, sizeof v[0]);
	v[s->ncat].name = strdup(name);
	if (!v[s->ncat].name)
		return NULL;
	return &v[s->ncat++];
}

static sn_sink_reason *reason(sn_sink *s, sn_file_status st, const char *name)
{
	sn_sink_reason *v;

	if (!name)
		name = "";
	for (size_t i = 0; i < s->nreason; i++)
		if (s->reason[i].status == st && strcmp(s->reason[i].name, name) == 0)
			return &s->reason[i];
	if (s->nreason >= SINK_NAMES_MAX - 3 && strcmp(name, SINK_OVERFLOW_NAME) != 0)
		return reason(s, st, SINK_OVERFLOW_NAME);
	v = realloc(s->reason, (s->nreason + 1) * sizeof *v);
	if (!v)
		return NULL;
	s->reason = v;
	v[s->nreason].status = st;
	v[s->nreason].count = 0;
	v[s->nreason].name = strdup(name);
	if (!v[s->nreason].name)
		return NULL;
	return &v[s->nreason++];
}

/* Keep a formatted record for --sort path; called with the mutex held. */
static int hold(sn_sink *s, const sn_location *loc, int kind, uint64_t offset, uint64_t line,
		uint64_t column, const char *rule, const sn_buf *b)
{
	const char *path = loc && loc->path ? loc->path : "";
	size_t nmember = loc && loc->member ? loc->nmember : 0;
	size_t size = sizeof(held) + nmember * sizeof(char *);
	size_t plen = strlen(path) + 1, rlen = strlen(rule ? rule : "") + 1;
	held *h;
	char *p;

	size += plen + rlen + b->len + 1;
	for (size_t i = 0; i < nmember; i++)
		size += strlen(loc->member[i] ? loc->member[i] : "") + 1;
	if (s->held_bytes + size > SINK_SORT_MAX) {
		io_fail(s, ENOMEM);
		return sn_error_set(SN_ELIMIT, "--sort path: more than %zu bytes of records",
				    SINK_SORT_MAX);
	}
	if (s->nheld == s->capheld) {
		size_t cap = s->capheld ? s->capheld * 2 : 1024;
		held **v = realloc(s->held, cap * sizeof *v);
		if (!v)
			goto nomem;
		s->held = v;
		s->capheld = cap;
	}
	h = malloc(size);
	if (!h)
		goto nomem;
	h->member = (const char **)(h + 1);
	p = (char *)(h->member + nmember);
	memcpy(p, path, plen);
	h->path = p;
	p += plen;
	for (size_t i = 0; i < nmember; i++) {
		const char *m = loc->member[i] ? loc->member[i] : "";
		size_t n = strlen(m) + 1;
		memcpy(p, m, n);
		h->member[i] = p;
		p += n;
	}
	h->nmember = nmember;
	memcpy(p, rule ? rule : "", rlen);
	h->rule = p;
	p += rlen;
	memcpy(p, b->p, b->len);
	p[b->len] = '\0';
	h->text = p;
	h->len = b->len;
	h->kind = kind;
	h->offset = offset;
	h->line = line;
	h->column = column;
	s->held[s->nheld++] = h;
	s->held_bytes += size;
	return 0;
nomem:
	io_fail(s, ENOMEM);
	return sn_error_set(SN_ENOMEM, "out of memory holding records for --sort path");
}

#define CMP(a, b) ((a) < (b) ? -1 : (a) > (b) ? 1 : 0)

static int held_cmp(const void *pa, const void *pb)
{
	const held *a = *(const held *const *)pa, *b = *(const held *const *)pb;
	int c;

	/* strcmp compares as unsigned char: plain byte order. */
	c = strcmp(a->path, b->path);
	for (size_t i = 0; c == 0 && i < a->nmember && i < b->nmember; i++)
		c = strcmp(a->member[i], b->member[i]);
	if (c == 0)
		c = CMP(a->nmember, b->nmember);
	if (c == 0)
		c = CMP(a->kind, b->kind);
	if (c == 0)
		c = CMP(a->offset, b->offset);
	if (c == 0)
		c = CMP(a->line, b->line);
	if (c == 0)
		c = CMP(a->column, b->column);
	if (c == 0)
		c = strcmp(a->rule, b->rule);
	if (c == 0) {
		/* qsort is not stable; the bytes make the order total. */
		c = memcmp(a->text, b->text, a->len < b->len ? a->len : b->len);
		if (c == 0)
			c = CMP(a->len, b->len);
	}
	return c;
}

/* Sort and write what --sort path held; called with the mutex held. */
static int write_held(sn_sink *s)
{
	int rc = 0;

	if (s->nheld > 1)
		qsort(s->held, s->nheld, sizeof s->held[0], held_cmp);
	for (size_t i = 0; i < s->nheld; i++) {
		if (rc == 0)
			rc = emit(s, s->held[i]->text, s->held[i]->len);
		free(s->held[i]);
	}
	free(s->held);
	s->held = NULL;
	s->nheld = s->capheld = s->held_bytes = 0;
	return rc;
}

static batch *my_batch(sn_sink *s)
{
	batch *b = pthread_getspecific(s->batch_key);
	if (b)
		return b;
	b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	sn_buf_init(&b->buf, SINK_BATCH_BYTES + SINK_RECORD_MAX);
	/* the ceiling is the record's own, after its separator */
	sn_buf_init(&b->rec, SINK_RECORD_MAX + (sep_first(s) ? JSON_SEP_LEN : 0));
	sn_sink_cache_init(&b->cache, SINK_RECORD_MAX);
	if (pthread_setspecific(s->batch_key, b) != 0) {
		free(b);
		return NULL;
	}
	pthread_mutex_lock(&s->mu);
	b->next = s->batches;
	s->batches = b;
	pthread_mutex_unlock(&s->mu);
	return b;
}

/* Write a batch and merge its counters; the caller holds s->mu. */
static int flush_batch_locked(sn_sink *s, batch *b)
{
	int rc = 0;
	for (size_t i = 0; i < b->ncat; i++) {
		uint64_t *n = b->cat[i].n;
		if (!(n[0] | n[1] | n[2] | n[3]))
			continue;
		sn_sink_category *c = category(s, b->cat[i].name);
		for (int k = 0; k < 4; k++) {
			if (c)
				c->reported[k] += n[k];
			s->by_conf[k] += n[k];
			s->findings += n[k];
			n[k] = 0;
		}
		if (!c)
			rc = io_fail(s, ENOMEM);
	}
	if (b->buf.len && rc == 0)
		rc = s->write_failed ? io_fail(s, 0) : put_raw(s, b->buf.p, b->buf.len);
	sn_buf_reset(&b->buf);
	return rc;
}

/* Count one finding directly; the caller holds s->mu. */
static void count_locked(sn_sink *s, const char *name, unsigned conf)
{
	sn_sink_category *c = category(s, name);
	if (c)
		c->reported[conf]++;
	s->by_conf[conf]++;
	s->findings++;
}

static int batch_finding(sn_sink *s, const sn_finding *f, const char *key_id)
{
	batch *b = my_batch(s);
	const char *name = f->category ? f->category : "";
	unsigned conf = (unsigned)f->confidence < 4 ? (unsigned)f->confidence : 0;
	int rc = 0;

	if (!b)
		return sn_error_set(SN_ENOMEM, "out of memory");
	if (__atomic_load_n(&s->write_failed, __ATOMIC_ACQUIRE)) {
		/* still counted, like an unbatched finding after a failure */
		pthread_mutex_lock(&s->mu);
		count_locked(s, name, conf);
		rc = io_fail(s, 0);
		pthread_mutex_unlock(&s->mu);
		return rc;
	}
	size_t mark = b->buf.len;
	sn_sink_json_finding(&b->buf, &b->cache, f, key_id);
	sn_buf_putc(&b->buf, '\n');
	if (b->buf.failed) {
		/* one record over the ceiling: drop it and count the failure */
		b->buf.failed = 0;
		b->buf.len = mark;
		pthread_mutex_lock(&s->mu);
		rc = io_fail(s, EMSGSIZE);
		pthread_mutex_unlock(&s->mu);
		return rc;
	}
	size_t i;
	for (i = 0; i < b->ncat; i++) {
		/* category names mostly differ in their first byte */
		if (b->cat[i].name[0] == name[0] && strcmp(b->cat[i].name, name) == 0)
			break;
	}
	if (i == b->ncat && i < SINK_BATCH_CATS) {
		b->cat[i].name = strdup(name);
		if (b->cat[i].name) {
			memset(b->cat[i].n, 0, sizeof b->cat[i].n);
			b->ncat++;
		}
	}
	if (i < b->ncat) {
		b->cat[i].n[conf]++;
	} else {
		/* more categories than a batch tracks: count this one directly */
		pthread_mutex_lock(&s->mu);
		count_locked(s, name, conf);
		pthread_mutex_unlock(&s->mu);
	}
	if (b->buf.len >= SINK_BATCH_BYTES) {
		pthread_mutex_lock(&s->mu);
		rc = flush_batch_locked(s, b);
		pthread_mutex_unlock(&s->mu);
	}
	return rc;
}

static void free_batches(sn_sink *s)
{
	batch *b = s->batches;
	while (b) {
		batch *next = b->next;
		for (size_t i = 0; i < b->ncat; i++)
			free(b->cat[i].name);
		sn_buf_free(&b->buf);
		sn_buf_free(&b->rec);
		sn_sink_cache_free(&b->cache);
		free(b);
		b = next;
	}
	s->batches = NULL;
}

static int flush_batches_locked(sn_sink *s)
{
	int rc = 0;
	for (batch *b = s->batches; b; b = b->next) {
		int r = flush_batch_locked(s, b);
		if (r < 0 && rc == 0)
			rc = r;
	}
	return rc;
}

int sn_sink_finding(sn_sink *s, const sn_finding *f)
{
	batch *t;
	sn_buf *b;
	int sep, rc = 0;

	if (!s || !f)
		return sn_error_set(SN_EINVAL, "sn_sink_finding: no sink or finding");
	/* key_id is set once by begin, before the workers are started, so
	 * reading it needs no lock. */
	const char *key_id = s->key_id;
	if (s->batching)
		return batch_finding(s, f, key_id);
	/* The record is formatted in the thread's own buffer, with its cache. */
	t = my_batch(s);
	if (!t) {
		/* a record that cannot be formatted is a hole in the report */
		pthread_mutex_lock(&s->mu);
		io_fail(s, ENOMEM);
		pthread_mutex_unlock(&s->mu);
		return sn_error_set(SN_ENOMEM, "out of memory");
	}
	b = &t->rec;
	sn_buf_reset(b);
	/* A document record carries its separator, which is dropped again
	 * when it turns out to be the first record. */
	sep = sep_first(s);
	if (sep)
		sn_buf_put(b, JSON_SEP, JSON_SEP_LEN);
	if (s->o.format == SN_FMT_TEXT)
		sn_sink_text_finding(b, &t->cache, f, s->o.color);
	else
		sn_sink_json_finding(b, &t->cache, f, key_id);
	rc = check_buf(s, b);
	if (rc < 0)
		return rc;

	pthread_mutex_lock(&s->mu);
	unsigned conf = (unsigned)f->confidence < 4 ? (unsigned)f->confidence : 0;
	sn_sink_category *c = category(s, f->category);
	s->findings++;
	s->by_conf[conf]++;
	if (c)
		c->reported[conf]++;
	if (!c)
		rc = io_fail(s, ENOMEM);
	else if (s->write_failed)
		rc = io_fail(s, 0);
	else if (s->o.sort_path)
		rc = hold(s, f->loc, 0, f->offset, f->line, f->column, f->rule_id, b);
	else if (sep)
		rc = emit_after_sep(s, b->p, b->len);
	else
		rc = emit(s, b->p, b->len);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int sn_sink_file(sn_sink *s, const sn_file_record *r)
{
	sn_buf b;
	int rc = 0;

	if (!s || !r)
		return sn_error_set(SN_EINVAL, "sn_sink_file: no sink or record");
	if (r->status != SN_FILE_SKIPPED && r->status != SN_FILE_INCOMPLETE &&
	    r->status != SN_FILE_ERROR)
		return sn_error_set(SN_EINVAL, "a ledger record needs status skipped, "
					       "incomplete or error");
	sn_buf_init(&b, SINK_RECORD_MAX);
	if (s->o.format == SN_FMT_TEXT)
		sn_sink_text_file(&b, r, s->o.color);
	else
		sn_sink_json_file(&b, r);
	rc = check_buf(s, &b);
	if (rc < 0)
		goto done;

	pthread_mutex_lock(&s->mu);
	/* This thread's batched findings go first: a unit's ledger record
	 * follows its findings. */
	batch *mine = s->batching ? pthread_getspecific(s->batch_key) : NULL;
	if (mine && rc == 0)
		rc = flush_batch_locked(s, mine);
	sn_sink_reason *why = reason(s, r->status, r->reason);
	s->by_status[r->status]++;
	if (why)
		why->count++;
	if (!why)
		rc = io_fail(s, ENOMEM);
	else if (s->write_failed)
		rc = io_fail(s, 0);
	else if (s->o.sort_path)
		rc = hold(s, r->loc, 1, 0, 0, 0, "", &b);
	else
		rc = emit(s, b.p, b.len);
	pthread_mutex_unlock(&s->mu);
done:
	sn_buf_free(&b);
	return rc;
}

void sn_sink_note_scanned(sn_sink *s, uint64_t bytes)
{
	pthread_mutex_lock(&s->mu);
	s->files_scanned++;
	s->bytes_scanned += bytes;
	pthread_mutex_unlock(&s->mu);
}

/* Bytes of a partly read unit count towards bytes_scanned (they were
 * matched), but the unit does not count as a scanned file. */
void sn_sink_note_bytes(sn_sink *s, uint64_t bytes)
{
	pthread_mutex_lock(&s->mu);
	s->bytes_scanned += bytes;
	pthread_mutex_unlock(&s->mu);
}

void sn_sink_note_excluded(sn_sink *s)
{
	pthread_mutex_lock(&s->mu);
	s->excluded++;
	pthread_mutex_unlock(&s->mu);
}

void sn_sink_note_hardlink(sn_sink *s)
{
	pthread_mutex_lock(&s->mu);
	s->hardlinks++;
	pthread_mutex_unlock(&s->mu);
}

void sn_sink_note_below(sn_sink *s, const char *category_name, sn_confidence c)
{
	(void)c; /* the summary counts below-threshold findings per category only */
	pthread_mutex_lock(&s->mu);
	sn_sink_category *cat = category(s, category_name);
	s->below++;
	if (cat)
		cat->below++;
	pthread_mutex_unlock(&s->mu);
}

void sn_sink_get_stats(sn_sink *s, sn_sink_stats *out)
{
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&s->mu);
	/* Called when the workers are done: their batched findings count. */
	flush_batches_locked(s);
	out->files_scanned = s->files_scanned;
	out->bytes_scanned = s->bytes_scanned;
	out->findings = s->findings;
	memcpy(out->findings_by_conf, s->by_conf, sizeof out->findings_by_conf);
	out->skipped = s->by_status[SN_FILE_SKIPPED];
	out->incomplete = s->by_status[SN_FILE_INCOMPLETE];
	out->errors = s->by_status[SN_FILE_ERROR];
	out->write_failed = s->write_failed;
	out->write_errno = s->write_errno;
	pthread_mutex_unlock(&s->mu);
}

static int cat_cmp(const void *pa, const void *pb)
{
	return strcmp(((const sn_sink_category *)pa)->name, ((const sn_sink_category *)pb)->name);
}

static int reason_cmp(const void *pa, const void *pb)
{
	const sn_sink_reason *a = pa, *b = pb;
	int c = CMP(a->status, b->status);
	return c ? c : strcmp(a->name, b->name);
}

int sn_sink_end(sn_sink *s, double duration_s, int interrupted)
{
	sn_sink_totals t;
	sn_buf b;
	int rc = 0;

	if (!s)
		return sn_error_set(SN_EINVAL, "sn_sink_end: no sink");
	sn_buf_init(&b, SINK_RECORD_MAX);
	pthread_mutex_lock(&s->mu);
	if (s->ended) {
		rc = sn_error_set(SN_EINVAL, "sn_sink_end called twice");
		goto unlock;
	}
	s->ended = 1;
	rc = flush_batches_locked(s);
	if (rc == 0)
		rc = write_held(s);
	/* Sorted name tables make the summary deterministic. */
	if (s->ncat > 1)
		qsort(s->cat, s->ncat, sizeof s->cat[0], cat_cmp);
	if (s->nreason > 1)
		qsort(s->reason, s->nreason, sizeof s->reason[0], reason_cmp);
	memset(&t, 0, sizeof t);
	t.files_scanned = s->files_scanned;
	t.bytes_scanned = s->bytes_scanned;
	t.excluded = s->excluded;
	t.hardlinks = s->hardlinks;
	memcpy(t.by_status, s->by_status, sizeof t.by_status);
	t.findings = s->findings;
	memcpy(t.by_conf, s->by_conf, sizeof t.by_conf);
	t.below = s->below;
	t.cat = s->cat;
	t.ncat = s->ncat;
	t.reason = s->reason;
	t.nreason = s->nreason;
	for (size_t i = 0; i < s->nreason; i++)
		if (s->reason[i].status == SN_FILE_SKIPPED && strcmp(s->reason[i].name, "image") == 0)
			t.images = s->reason[i].count;
	t.duration_s = duration_s;
	t.interrupted = interrupted;
	if (s->o.format == SN_FMT_TEXT)
		sn_sink_text_summary(&b, &t);
	else
		sn_sink_json_summary(&b, &t);
	if (b.failed)
		rc = io_fail(s, ENOMEM);
	if (rc == 0)
		rc = emit(s, b.p, b.len);
	if (rc == 0)
		rc = close_document(s);
	if (rc == 0)
		rc = flush_out(s);
unlock:
	pthread_mutex_unlock(&s->mu);
	sn_buf_free(&b);
	return rc;
}

static void sync_dir_of(const char *path)
{
	char *dir = strdup(path);
	if (!dir)
		return;
	char *slash = strrchr(dir, '/');
	const char *d = ".";
	if (slash == dir)
		d = "/";
	else if (slash) {
		*slash = '\0';
		d = dir;
	}
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		/* Best effort: the rename is done; this only makes it durable. */
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

int sn_sink_close(sn_sink *s, int commit)
{
	int rc = 0;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->mu);
	/* Without sn_sink_end (an aborted run) still write what was held and
	 * keep the JSON document well-formed; it has no summary, so readers
	 * cannot mistake it for a complete report. */
	rc = flush_batches_locked(s);
	if (s->nheld && rc == 0)
		rc = write_held(s);
	if (s->doc_open && rc == 0)
		rc = close_document(s);
	if (rc == 0)
		rc = flush_out(s);
	if (s->direct) {
		errno = 0;
		if (fclose(s->f) != 0 && rc == 0)
			rc = io_fail(s, errno);
	} else if (s->path) {
		if (rc == 0 && commit && fsync(fileno(s->f)) != 0)
			rc = io_fail(s, errno);
		errno = 0;
		if (fclose(s->f) != 0 && rc == 0)
			rc = io_fail(s, errno);
		if (rc == 0 && commit) {
			if (rename(s->tmp, s->path) != 0)
				rc = sn_error_set(SN_EIO, "cannot rename the report to %s: %s",
						  s->path, strerror(errno));
			else
				sync_dir_of(s->path);
		}
		if (rc < 0 || !commit)
			unlink(s->tmp);
	}
	pthread_mutex_unlock(&s->mu);

	for (size_t i = 0; i < s->ncat; i++)
		free(s->cat[i].name);
	free(s->cat);
	for (size_t i = 0; i < s->nreason; i++)
		free(s->reason[i].name);
	free(s->reason);
	for (size_t i = 0; i < s->nheld; i++)
		free(s->held[i]);
	free(s->held);
	free(s->key_id);
	free(s->tmp);
	free(s->path);
	free_batches(s);
	pthread_key_delete(s->batch_key);
	pthread_mutex_destroy(&s->mu);
	free(s);
	return rc;
}

int sn_sink_flush_thread(sn_sink *s)
{
	batch *b = pthread_getspecific(s->batch_key);
	int rc = 0;
	if (!b || !b->buf.len)
		return 0;
	pthread_mutex_lock(&s->mu);
	rc = flush_batch_locked(s, b);
	pthread_mutex_unlock(&s->mu);
	return rc;
}
