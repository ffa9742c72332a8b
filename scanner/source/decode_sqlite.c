/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SQLite databases (see decoder.h): every ordinary table is handed to the
 * driver as a table, row by row, with its column names and each row's rowid.
 *
 * Opening never changes anything on disk.  A top-level file is read through
 * a private VFS that does pread() on the descriptor the source stage opened
 * and checked: SQLite never opens the path again, so a symlink or FIFO
 * swapped in meanwhile is never followed or blocked on, and the VFS cannot
 * create, write or delete any file (no -journal, -wal or -shm).  The file is
 * immutable to SQLite (no locks, no journal or log lookup), so a non-empty
 * -wal beside it is only noted: what is still in the log is not read.  A
 * nested database (an archive member, an attachment) is held in memory
 * (--max-buffer) and deserialized read-only.
 *
 * Only SELECTs built here run, with quoted identifiers: defensive mode, an
 * untrusted schema, no triggers or views, virtual tables skipped (their data
 * is in shadow tables, which are read) and computed columns left out, so no
 * expression or module named in the file is evaluated.  A progress handler
 * ends long statements when the scan stops or the time limit passes.
 *
 * Cells are text: integers in decimal, integral reals as integers (a BSN
 * stored as 123456782.0 is found), text as stored.  A BLOB, and a TEXT value
 * too long for a cell, is handed after its row as a part of its own.  Damage
 * in one table is recorded under the table's name and the next table is
 * read; a value over SQLite's length limit (--max-buffer) loses its row,
 * which is recorded, and reading resumes after it.  A damaged tree can lead
 * back to rows already read, which SQLite does not notice: rows must come
 * in rowid order, and every row counts against the ratio limit.
 */
#include "source/decoder.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/stop.h"
#include "speurneus/error.h"

#define SN_SQLITE_MAGIC "SQLite format 3" /* 16 bytes with its NUL */
#define SN_SQLITE_MAGIC_LEN 16
/* a TEXT value longer than this is a text part rather than a cell, so a
 * document kept in a column does not end up as one huge row */
#define SN_SQLITE_TEXT_CELL_MAX (1u << 20)
/* VM steps between progress-handler calls: a few microseconds */
#define SN_SQLITE_PROGRESS_STEPS 10000
/* SQLite itself allows at most 32767 columns */
#define SN_SQLITE_MAX_COLS 32768
/* rows lost to the length limit in one table before the rest of it is given up */
#define SN_SQLITE_MAX_SKIPS 100
#define SN_SQLITE_VFS "speurneus-fd"

/* ---------------------------------------------------------------------- */
/* A read-only VFS over an open descriptor                                 */

typedef struct fd_file {
	sqlite3_file base;
	int fd;
} fd_file;

static int fd_close(sqlite3_file *f)
{
	(void)f; /* the descriptor belongs to the driver */
	return SQLITE_OK;
}

static int fd_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	const fd_file *p = (const fd_file *)f;
	size_t want = (size_t)n, got = 0;

	if (n < 0 || off < 0)
		return SQLITE_IOERR_READ;
	while (got < want) {
		ssize_t k = pread(p->fd, (char *)buf + got, want - got, (off_t)off + (off_t)got);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return SQLITE_IOERR_READ;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	if (got < want) {
		/* SQLite requires the rest zeroed on a short read */
		memset((char *)buf + got, 0, want - got);
		return SQLITE_IOERR_SHORT_READ;
	}
	return SQLITE_OK;
}

static int fd_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	(void)f;
	(void)buf;
	(void)n;
	(void)off;
	return SQLITE_READONLY;
}

static int fd_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	(void)f;
	(void)size;
	return SQLITE_READONLY;
}

static int fd_sync(sqlite3_file *f, int flags)
{
	(void)f;
	(void)flags;
	return SQLITE_OK;
}

static int fd_size(sqlite3_file *f, sqlite3_int64 *out)
{
	const fd_file *p = (const fd_file *)f;
	struct stat st;

	if (fstat(p->fd, &st) != 0)
		return SQLITE_IOERR_FSTAT;
	*out = (sqlite3_int64)st.st_size;
	return SQLITE_OK;
}

static int fd_lock(sqlite3_file *f, int level)
{
	(void)f;
	(void)level;
	return SQLITE_OK;
}

static int fd_reserved(sqlite3_file *f, int *out)
{
	(void)f;
	*out = 0;
	return SQLITE_OK;
}

static int fd_control(sqlite3_file *f, int op, void *arg)
{
	(void)f;
	(void)op;
	(void)arg;
	return SQLITE_NOTFOUND;
}

static int fd_sector(sqlite3_file *f)
{
	(void)f;
	return 512;
}

static int fd_caps(sqlite3_file *f)
{
	(void)f;
	return SQLITE_IOCAP_IMMUTABLE;
}

/* version 1: no shared memory, so no WAL can ever be opened */
static const sqlite3_io_methods fd_methods = {
	.iVersion = 1,
	.xClose = fd_close,
	.xRead = fd_read,
	.xWrite = fd_write,
	.xTruncate = fd_truncate,
	.xSync = fd_sync,
	.xFileSize = fd_size,
	.xLock = fd_lock,
	.xUnlock = fd_lock,
	.xCheckReservedLock = fd_reserved,
	.xFileControl = fd_control,
	.xSectorSize = fd_sector,
	.xDeviceCharacteristics = fd_caps,
};

/* Only the main database opens, and only for reading: journals, logs and
 * temporary files have nowhere to go.  The descriptor comes as the URI
 * parameter sn_fd, which SQLite hands to xOpen untouched. */
static int vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
	fd_file *p = (fd_file *)f;
	sqlite3_int64 fd;

	(void)vfs;
	f->pMethods = NULL;
	if (!name || !(flags & SQLITE_OPEN_MAIN_DB) ||
	    (flags & (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_DELETEONCLOSE)))
		return SQLITE_CANTOPEN;
	fd = sqlite3_uri_int64(name, "sn_fd", -1);
	if (fd < 0 || fd > INT_MAX)
		return SQLITE_CANTOPEN;
	p->fd = (int)fd;
	f->pMethods = &fd_methods;
	if (out_flags)
		*out_flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB;
	return SQLITE_OK;
}

static int vfs_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
	(void)vfs;
	(void)name;
	(void)sync;
	return SQLITE_IOERR_DELETE;
}

/* nothing exists beside the database as far as SQLite is concerned */
static int vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	(void)name;
	(void)flags;
	*out = 0;
	return SQLITE_OK;
}

static int vfs_full_path(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	size_t len = strlen(name);

	(void)vfs;
	if (n <= 0 || len >= (size_t)n)
		return SQLITE_CANTOPEN;
	memcpy(out, name, len + 1);
	return SQLITE_OK;
}

/* extensions are never loaded */
static void *vfs_dl_open(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	(void)name;
	return NULL;
}

static void vfs_dl_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	if (n > 0)
		snprintf(out, (size_t)n, "extensions are not loaded");
}

static void (*vfs_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	(void)h;
	(void)sym;
	return NULL;
}

static void vfs_dl_close(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	(void)h;
}

/* randomness, sleep and time come from the default VFS */
static int vfs_random(sqlite3_vfs *vfs, int n, char *out)
{
	sqlite3_vfs *def = vfs->pAppData;
	return def->xRandomness(def, n, out);
}

static int vfs_sleep(sqlite3_vfs *vfs, int us)
{
	sqlite3_vfs *def = vfs->pAppData;
	return def->xSleep(def, us);
}

static int vfs_time(sqlite3_vfs *vfs, double *out)
{
	sqlite3_vfs *def = vfs->pAppData;
	return def->xCurrentTime(def, out);
}

static int vfs_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	(void)n;
	(void)out;
	return 0;
}

static sqlite3_vfs fd_vfs = {
	.iVersion = 1,
	.szOsFile = (int)sizeof(fd_file),
	.mxPathname = 512,
	.zName = SN_SQLITE_VFS,
	.xOpen = vfs_open,
	.xDelete = vfs_delete,
	.xAccess = vfs_access,
	.xFullPathname = vfs_full_path,
	.xDlOpen = vfs_dl_open,
	.xDlError = vfs_dl_error,
	.xDlSym = vfs_dl_sym,
	.xDlClose = vfs_dl_close,
	.xRandomness = vfs_random,
	.xSleep = vfs_sleep,
	.xCurrentTime = vfs_time,
	.xGetLastError = vfs_last_error,
};

static pthread_once_t vfs_once = PTHREAD_ONCE_INIT;
static int vfs_rc = SQLITE_ERROR;

static void vfs_register(void)
{
	sqlite3_vfs *def;

	if (sqlite3_initialize() != SQLITE_OK)
		return;
	def = sqlite3_vfs_find(NULL);
	if (!def || !def->xCurrentTime)
		return;
	fd_vfs.pAppData = def;
	vfs_rc = sqlite3_vfs_register(&fd_vfs, 0);
}

/* ---------------------------------------------------------------------- */
/* One database                                                            */

typedef struct sq_ctx {
	sn_doc *d;
	sqlite3 *db;
	uint64_t size;   /* bytes of the database: what the budget counts as consumed */
	const char *why; /* why the progress handler ended a statement */
	int halt;        /* a limit is on record: read nothing more */
} sq_ctx;

/* Cells of a row that are handed after it as parts of their own. */
enum { CELL_PLAIN = 0, CELL_TEXT_PART, CELL_BLOB_PART };

typedef struct sq_table {
	const char *name;
	char **cols;        /* stored columns, in table order */
	size_t ncols, cap;
	const char *alias;  /* how to name the rowid; NULL: no rowid (WITHOUT ROWID) */
	sqlite3_stmt *rows; /* the rows, in rowid order from ?1 */
	sqlite3_stmt *next; /* the first rowid from ?1, to step over a row */
	const char **cells;
	size_t *lens;
	const void **part;  /* a BLOB or long TEXT, handed after the row */
	size_t *part_len;
	uint8_t *kind;
	char (*num)[32];    /* numbers as text */
} sq_table;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int on_progress(void *arg)
{
	sq_ctx *c = arg;
	const sn_budget *b = c->d->b;

	if (sn_stop_requested(b->stop)) {
		c->why = "interrupted";
		return 1;
	}
	if (b->deadline && now_s() > b->deadline) {
		c->why = "time";
		return 1;
	}
	return 0;
}

static int stopping(const sq_ctx *c)
{
	return sn_stop_requested(c->d->b->stop);
}

static void halt(sq_ctx *c, const char *reason)
{
	c->d->cb->record(c->d->payload, NULL, SN_FILE_INCOMPLETE, reason,
			 "the rest of the database was not read");
	c->halt = 1;
}

/* An SQLite failure while reading `name` (a table, or NULL for the
 * database): a ledger record, and what decode() returns if it ends here. */
static int fail(sq_ctx *c, const char *name, int src)
{
	const char *reason;

	switch (src & 0xff) {
	case SQLITE_NOMEM:
		return sn_error_set(SN_ENOMEM, "out of memory");
	case SQLITE_INTERRUPT:
		if (!c->why || strcmp(c->why, "interrupted") == 0)
			return SN_ESTOP;
		if (!c->d->b->hit)
			c->d->b->hit = c->why;
		halt(c, c->why);
		return 0;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_FORMAT:
		reason = "corrupt";
		break;
	case SQLITE_IOERR:
		reason = "read-error";
		break;
	case SQLITE_TOOBIG:
		reason = "too-large-to-buffer";
		break;
	default:
		reason = "unsupported";
		break;
	}
	/* SQLite's own message may quote the schema; the generic text never
	 * carries anything from the file */
	c->d->cb->record(c->d->payload, name, SN_FILE_INCOMPLETE, reason, sqlite3_errstr(src));
	return 0;
}

/* "<table>.<column> rowid N", "<table> rowid N" without a column, "row N"
 * for a table without rowids; malloc'd. */
static char *part_name(const sq_table *t, const char *col, int64_t row)
{
	const char *what = t->alias ? "rowid" : "row";
	int n = snprintf(NULL, 0, "%s%s%s %s %lld", t->name, col ? "." : "", col ? col : "", what,
			 (long long)row);
	char *p;

	if (n < 0)
		return NULL;
	p = malloc((size_t)n + 1);
	if (p)
		snprintf(p, (size_t)n + 1, "%s%s%s %s %lld", t->name, col ? "." : "",
			 col ? col : "", what, (long long)row);
	return p;
}

/* ---- SQL built here ----------------------------------------------------- */

enum { SQL_ROWS_ROWID, SQL_ROWS_PLAIN, SQL_NEXT_ROWID };

/* Writes at out + at when out is not NULL; returns the new length either
 * way, so one function both measures and writes. */
static size_t put(char *out, size_t at, const char *s, size_t n)
{
	if (out)
		memcpy(out + at, s, n);
	return at + n;
}

static size_t put_str(char *out, size_t at, const char *s)
{
	return put(out, at, s, strlen(s));
}

static size_t put_ident(char *out, size_t at, const char *s)
{
	at = put(out, at, "\"", 1);
	for (; *s; s++) {
		if (*s == '"')
			at = put(out, at, "\"", 1);
		at = put(out, at, s, 1);
	}
	return put(out, at, "\"", 1);
}

/* NOT INDEXED: the values come from the table itself, never from an index
 * that a damaged or hostile file could make disagree with it. */
static size_t compose(char *out, const sq_table *t, int kind)
{
	size_t at = put_str(out, 0, "SELECT ");

	if (kind != SQL_ROWS_PLAIN)
		at = put_str(out, at, t->alias);
	if (kind != SQL_NEXT_ROWID) {
		for (size_t i = 0; i < t->ncols; i++) {
			if (i || kind == SQL_ROWS_ROWID)
				at = put_str(out, at, ", ");
			at = put_ident(out, at, t->cols[i]);
		}
	}
	at = put_str(out, at, " FROM main.");
	at = put_ident(out, at, t->name);
	at = put_str(out, at, " NOT INDEXED");
	if (kind != SQL_ROWS_PLAIN) {
		at = put_str(out, at, " WHERE ");
		at = put_str(out, at, t->alias);
		at = put_str(out, at, " >= ?1 ORDER BY ");
		at = put_str(out, at, t->alias);
	}
	if (kind == SQL_NEXT_ROWID)
		at = put_str(out, at, " LIMIT 1");
	return at;
}

/* Returns an SQLite code. */
static int prepare(sq_ctx *c, const sq_table *t, int kind, sqlite3_stmt **out)
{
	size_t n = compose(NULL, t, kind);
	char *sql;
	int r;

	*out = NULL;
	if (n > INT_MAX - 1)
		return SQLITE_TOOBIG;
	sql = malloc(n + 1);
	if (!sql)
		return SQLITE_NOMEM;
	compose(sql, t, kind);
	sql[n] = '\0';
	r = sqlite3_prepare_v2(c->db, sql, (int)n + 1, out, NULL);
	free(sql);
	return r;
}

/* ---- one table ---------------------------------------------------------- */

static void table_free(sq_table *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		free(t->cols[i]);
	free(t->cols);
	sqlite3_finalize(t->rows);
	sqlite3_finalize(t->next);
	free(t->cells);
	free(t->lens);
	free(t->part);
	free(t->part_len);
	free(t->kind);
	free(t->num);
}

/* The stored columns (computed ones are left out: reading them would run
 * an expression from the schema) and a name for the rowid that no column
 * takes.  Returns an SQLite code. */
static int load_columns(sq_ctx *c, sq_table *t)
{
	static const char *const aliases[] = { "rowid", "_rowid_", "oid" };
	int taken[3] = { 0, 0, 0 };
	sqlite3_stmt *st = NULL;
	int r;

	r = sqlite3_prepare_v2(c->db, "SELECT name, hidden FROM pragma_table_xinfo(?1, 'main')", -1,
			       &st, NULL);
	if (r != SQLITE_OK)
		goto done;
	r = sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	if (r != SQLITE_OK)
		goto done;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		int hidden = sqlite3_column_int(st, 1);

		if (!name) {
			if (sqlite3_errcode(c->db) == SQLITE_NOMEM) {
				r = SQLITE_NOMEM;
				goto done;
			}
			name = "";
		}
		for (size_t i = 0; i < 3; i++)
			if (strcasecmp(name, aliases[i]) == 0)
				taken[i] = 1;
		/* 1: hidden column of a virtual table; 2: computed when read */
		if (hidden == 1 || hidden == 2)
			continue;
		if (t->ncols == t->cap) {
			size_t ncap = t->cap ? t->cap * 2 : 16;
			char **p;
			if (ncap > SN_SQLITE_MAX_COLS) {
				r = SQLITE_CORRUPT;
				goto done;
			}
			p = realloc(t->cols, ncap * sizeof *p);
			if (!p) {
				r = SQLITE_NOMEM;
				goto done;
			}
			t->cols = p;
			t->cap = ncap;
		}
		t->cols[t->ncols] = strdup(name);
		if (!t->cols[t->ncols]) {
			r = SQLITE_NOMEM;
			goto done;
		}
		t->ncols++;
	}
	if (r != SQLITE_DONE)
		goto done;
	r = SQLITE_OK;
	t->alias = NULL;
	for (size_t i = 0; i < 3 && !t->alias; i++)
		if (!taken[i])
			t->alias = aliases[i];
done:
	sqlite3_finalize(st);
	return r;
}

static int alloc_row(sq_table *t)
{
	size_t n = t->ncols;

	t->cells = calloc(n, sizeof *t->cells);
	t->lens = calloc(n, sizeof *t->lens);
	t->part = calloc(n, sizeof *t->part);
	t->part_len = calloc(n, sizeof *t->part_len);
	t->kind = calloc(n, sizeof *t->kind);
	t->num = calloc(n, sizeof *t->num);
	if (!t->cells || !t->lens || !t->part || !t->part_len || !t->kind || !t->num)
		return sn_error_set(SN_ENOMEM, "out of memory");
	return 0;
}

/* The first rowid >= from: *found is 0 when there is none.  Returns an
 * SQLite code. */
static int next_rowid(sq_ctx *c, sq_table *t, int64_t from, int64_t *out, int *found)
{
	int r;

	*found = 0;
	if (!t->next) {
		r = prepare(c, t, SQL_NEXT_ROWID, &t->next);
		if (r != SQLITE_OK)
			return r;
	}
	sqlite3_reset(t->next);
	r = sqlite3_bind_int64(t->next, 1, from);
	if (r != SQLITE_OK)
		return r;
	r = sqlite3_step(t->next);
	if (r == SQLITE_ROW) {
		*out = sqlite3_column_int64(t->next, 0);
		*found = 1;
		r = SQLITE_OK;
	} else if (r == SQLITE_DONE) {
		r = SQLITE_OK;
	}
	sqlite3_reset(t->next);
	return r;
}

/* One cell from column `col` of the current row into slot j; returns
 * the bytes it produced, or -1 when SQLite ran out of memory. */
static int64_t take_cell(sq_table *t, size_t j, int col)
{
	sqlite3_stmt *st = t->rows;
	const void *p = NULL;
	int n = 0;

	t->cells[j] = NULL;
	t->lens[j] = 0;
	t->kind[j] = CELL_PLAIN;
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_NULL:
		return 0;
	case SQLITE_INTEGER:
		n = snprintf(t->num[j], sizeof t->num[j], "%lld",
			     (long long)sqlite3_column_int64(st, col));
		t->cells[j] = t->num[j];
		t->lens[j] = (size_t)n;
		return n;
	case SQLITE_FLOAT: {
		double v = sqlite3_column_double(st, col);
		/* 123456782.0 is the number 123456782: SQLite's text would be
		 * "123456782.0", which no validator takes */
		if (v >= -9223372036854775808.0 && v < 9223372036854775808.0 &&
		    (double)(long long)v == v) {
			n = snprintf(t->num[j], sizeof t->num[j], "%lld", (long long)v);
			t->cells[j] = t->num[j];
			t->lens[j] = (size_t)n;
			return n;
		}
		p = sqlite3_column_text(st, col);
		n = sqlite3_column_bytes(st, col);
		if (!p)
			return -1;
		t->cells[j] = p;
		t->lens[j] = (size_t)n;
		return n;
	}
	case SQLITE_TEXT:
		p = sqlite3_column_text(st, col);
		n = sqlite3_column_bytes(st, col);
		if (!p)
			return -1;
		if ((size_t)n > SN_SQLITE_TEXT_CELL_MAX) {
			t->kind[j] = CELL_TEXT_PART;
			t->part[j] = p;
			t->part_len[j] = (size_t)n;
		} else {
			t->cells[j] = p;
			t->lens[j] = (size_t)n;
		}
		return n;
	default: /* BLOB */
		p = sqlite3_column_blob(st, col);
		n = sqlite3_column_bytes(st, col);
		if (n > 0 && !p)
			return -1;
		if (n > 0) {
			t->kind[j] = CELL_BLOB_PART;
			t->part[j] = p;
			t->part_len[j] = (size_t)n;
		}
		return n;
	}
}

/* The current row: its cells, then its BLOBs and long texts as parts. */
static int hand_row(sq_ctx *c, sq_table *t, int64_t row)
{
	sn_doc *d = c->d;
	int base = t->alias ? 1 : 0;
	uint64_t add = 0;
	const char *why;
	int rc;

	for (size_t j = 0; j < t->ncols; j++) {
		int64_t k = take_cell(t, j, base + (int)j);
		if (k < 0)
			return sn_error_set(SN_ENOMEM, "out of memory");
		add += (uint64_t)k;
	}
	/* the row as the driver renders it, cells and separators: a table of
	 * empty cells still counts, so a damaged tree that repeats its rows
	 * meets the ratio limit */
	add += t->ncols;
	why = sn_doc_check(d, add, c->size);
	if (why) {
		halt(c, why);
		return 0;
	}
	rc = d->cb->row(d->payload, row, t->cells, t->lens, t->ncols);
	if (rc)
		return rc;
	for (size_t j = 0; j < t->ncols; j++) {
		char *name;

		if (t->kind[j] == CELL_PLAIN)
			continue;
		name = part_name(t, t->cols[j], row);
		if (!name)
			return sn_error_set(SN_ENOMEM, "out of memory");
		if (t->kind[j] == CELL_TEXT_PART)
			rc = sn_doc_text(d, name, t->part[j], t->part_len[j]);
		else if (t->part_len[j] > d->b->lim->max_buffer)
			d->cb->record(d->payload, name, SN_FILE_INCOMPLETE, "too-large-to-buffer",
				      "a value over --max-buffer");
		else
			rc = sn_doc_nested(d, name, t->part[j], t->part_len[j]);
		free(name);
		if (rc)
			return rc;
	}
	return 0;
}

/* A value over the length limit fails the statement on its row: record
 * that row and go on after it.  Returns an SQLite code, SQLITE_OK when
 * reading can resume at *from. */
static int skip_row(sq_ctx *c, sq_table *t, int64_t *from, int *done)
{
	int64_t bad;
	int found, r;
	char *name;

	r = next_rowid(c, t, *from, &bad, &found);
	if (r != SQLITE_OK)
		return r;
	if (!found) {
		*done = 1;
		return SQLITE_OK;
	}
	name = part_name(t, NULL, bad);
	if (!name)
		return SQLITE_NOMEM;
	c->d->cb->record(c->d->payload, name, SN_FILE_INCOMPLETE, "too-large-to-buffer",
			 "a value in this row is over --max-buffer");
	free(name);
	if (bad == INT64_MAX)
		*done = 1;
	else
		*from = bad + 1;
	return SQLITE_OK;
}

/* Step through the rows, resuming after rows lost to the length limit. */
static int read_rows(sq_ctx *c, sq_table *t)
{
	int64_t from = INT64_MIN, ordinal = 0;
	unsigned skips = 0;
	int r, rc = 0, done = 0;

	if (t->alias && sqlite3_bind_int64(t->rows, 1, from) != SQLITE_OK)
		return fail(c, t->name, sqlite3_errcode(c->db));
	while (!done && !c->halt) {
		int64_t row;

		if (stopping(c))
			return SN_ESTOP;
		r = sqlite3_step(t->rows);
		if (r == SQLITE_DONE)
			break;
		if (r != SQLITE_ROW) {
			if ((r & 0xff) != SQLITE_TOOBIG || !t->alias ||
			    skips++ >= SN_SQLITE_MAX_SKIPS)
				return fail(c, t->name, r);
			sqlite3_reset(t->rows);
			r = skip_row(c, t, &from, &done);
			if (r != SQLITE_OK)
				return fail(c, t->name, r);
			if (!done && sqlite3_bind_int64(t->rows, 1, from) != SQLITE_OK)
				return fail(c, t->name, sqlite3_errcode(c->db));
			continue;
		}
		if (t->alias) {
			row = sqlite3_column_int64(t->rows, 0);
			/* rows come in rowid order; a damaged tree whose pages
			 * lead back to rows already read is not followed */
			if (row < from)
				return fail(c, t->name, SQLITE_CORRUPT);
			if (row == INT64_MAX)
				done = 1;
			else
				from = row + 1;
		} else {
			row = ++ordinal;
		}
		rc = hand_row(c, t, row);
		if (rc)
			break;
	}
	return rc;
}

/* One table, begun and ended for the driver.  Returns 0 to go on with the
 * next table (damage is on record), or what decode() returns. */
static int read_table(sq_ctx *c, const char *name)
{
	sn_doc *d = c->d;
	sq_table t;
	const char *why;
	int r, rc = 0, er;

	memset(&t, 0, sizeof t);
	t.name = name;
	d->b->entries++;
	why = sn_doc_check(d, 0, c->size);
	if (why) {
		halt(c, why);
		return 0;
	}
	r = load_columns(c, &t);
	if (r != SQLITE_OK) {
		rc = fail(c, name, r);
		goto done;
	}
	if (t.ncols == 0)
		goto done;
	r = SQLITE_ERROR;
	if (t.alias)
		r = prepare(c, &t, SQL_ROWS_ROWID, &t.rows);
	if (r != SQLITE_OK && (r & 0xff) != SQLITE_ERROR) {
		rc = fail(c, name, r);
		goto done;
	}
	if (r != SQLITE_OK) {
		/* a WITHOUT ROWID table has no rowid to select: rows are
		 * numbered in key order */
		sqlite3_finalize(t.rows);
		t.rows = NULL;
		t.alias = NULL;
		r = prepare(c, &t, SQL_ROWS_PLAIN, &t.rows);
		if (r != SQLITE_OK) {
			rc = fail(c, name, r);
			goto done;
		}
	}
	rc = alloc_row(&t);
	if (rc)
		goto done;
	rc = d->cb->table_begin(d->payload, name, (const char *const *)t.cols, t.ncols);
	if (rc == 0)
		rc = read_rows(c, &t);
	/* every begin has its end, also after damage or a stop */
	er = d->cb->table_end(d->payload);
	if (rc == 0)
		rc = er;
done:
	table_free(&t);
	return rc;
}

/* Virtual tables run a module to produce rows; their stored content, if
 * any, is in shadow tables, which are ordinary tables. */
static int is_virtual(const char *sql, int64_t root)
{
	if (root <= 0)
		return 1;
	if (!sql)
		return 0;
	while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r')
		sql++;
	if (strncasecmp(sql, "CREATE", 6) != 0)
		return 0;
	sql += 6;
	while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r')
		sql++;
	return strncasecmp(sql, "VIRTUAL", 7) == 0;
}

/* The names of the ordinary tables, all read before any table is: a
 * statement left running over a damaged schema could be repositioned by
 * key while the tables are read, and visit the same entries again and
 * again.  SQLite has parsed the schema by now and refused duplicate names,
 * so the list is as long as the schema; it stops once it would reach the
 * entries limit, which read_table() then records. */
static int list_tables(sq_ctx *c, char ***out, size_t *n)
{
	uint64_t max = c->d->b->lim->max_entries;
	sqlite3_stmt *st = NULL;
	char **names = NULL;
	size_t cap = 0;
	int r;

	*n = 0;
	r = sqlite3_prepare_v2(c->db,
			       "SELECT name, sql, rootpage FROM main.sqlite_schema"
			       " WHERE type = 'table'",
			       -1, &st, NULL);
	while (r == SQLITE_OK) {
		const char *name, *sql;
		int64_t root;

		r = sqlite3_step(st);
		if (r == SQLITE_DONE) {
			r = SQLITE_OK;
			break;
		}
		if (r != SQLITE_ROW)
			break;
		r = SQLITE_OK;
		if (sqlite3_column_type(st, 0) == SQLITE_NULL)
			continue;
		name = (const char *)sqlite3_column_text(st, 0);
		sql = (const char *)sqlite3_column_text(st, 1);
		root = sqlite3_column_int64(st, 2);
		if (!name) {
			r = SQLITE_NOMEM;
			break;
		}
		/* SQLite's own tables (sequence counters, statistics) */
		if (strncasecmp(name, "sqlite_", 7) == 0 || is_virtual(sql, root))
			continue;
		if (max && *n > max)
			break;
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **p = realloc(names, ncap * sizeof *p);
			if (!p) {
				r = SQLITE_NOMEM;
				break;
			}
			names = p;
			cap = ncap;
		}
		names[*n] = strdup(name);
		if (!names[*n]) {
			r = SQLITE_NOMEM;
			break;
		}
		(*n)++;
	}
	sqlite3_finalize(st);
	*out = names;
	return r;
}

static int read_tables(sq_ctx *c)
{
	char **names = NULL;
	size_t n = 0;
	int r, rc = 0;

	r = list_tables(c, &names, &n);
	/* damage after the first entries: the tables listed are still read */
	if (r != SQLITE_OK)
		rc = fail(c, NULL, r);
	for (size_t i = 0; i < n && rc == 0 && !c->halt; i++) {
		if (stopping(c))
			rc = SN_ESTOP;
		else
			rc = read_table(c, names[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* ---- opening ------------------------------------------------------------ */

static int open_fd(sq_ctx *c, int fd)
{
	char uri[96];

	pthread_once(&vfs_once, vfs_register);
	if (vfs_rc != SQLITE_OK)
		return vfs_rc;
	snprintf(uri, sizeof uri, "file:speurneus-db?sn_fd=%d&mode=ro&immutable=1", fd);
	return sqlite3_open_v2(uri, &c->db,
			       SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
			       SN_SQLITE_VFS);
}

static int open_mem(sq_ctx *c, uint8_t *mem, size_t len)
{
	int r = sqlite3_open_v2(":memory:", &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
				NULL);
	if (r != SQLITE_OK)
		return r;
	/* A database in WAL mode says so in bytes 18 and 19, and the memory
	 * VFS cannot open a log: read the image as the rollback-journal
	 * database it is without one.  The copy is ours to change. */
	if (len >= 20) {
		if (mem[18] == 2)
			mem[18] = 1;
		if (mem[19] == 2)
			mem[19] = 1;
	}
	/* no FREEONCLOSE: the buffer is freed after the connection closes */
	return sqlite3_deserialize(c->db, "main", mem, (sqlite3_int64)len, (sqlite3_int64)len,
				   SQLITE_DESERIALIZE_READONLY);
}

static void harden(sq_ctx *c)
{
	uint64_t max = c->d->b->lim->max_buffer;
	int len;

	sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL);
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, (int *)NULL);
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)NULL);
	/* a value is held whole in memory: no larger than --max-buffer (a
	 * text part needs at least its threshold) */
	if (max < SN_SQLITE_TEXT_CELL_MAX + 1)
		max = SN_SQLITE_TEXT_CELL_MAX + 1;
	len = max > INT_MAX ? INT_MAX : (int)max;
	sqlite3_limit(c->db, SQLITE_LIMIT_LENGTH, len);
	sqlite3_limit(c->db, SQLITE_LIMIT_ATTACHED, 0);
	sqlite3_progress_handler(c->db, SN_SQLITE_PROGRESS_STEPS, on_progress, c);
	/* Damage is found early (cell_size_check); nothing is ever written
	 * or spilled to a temporary file.  A failure here shows again, and
	 * is recorded, when the schema is read. */
	sqlite3_exec(c->db, "PRAGMA query_only = 1; PRAGMA temp_store = MEMORY;"
		     " PRAGMA cell_size_check = 1;", NULL, NULL, NULL);
}

/* A non-empty -wal beside the file holds committed changes that only a
 * writer of the -shm index could read. */
static int note_wal(const sn_doc *d)
{
	size_t n = strlen(d->path);
	struct stat st;
	char *p = malloc(n + sizeof "-wal");

	if (!p)
		return sn_error_set(SN_ENOMEM, "out of memory");
	memcpy(p, d->path, n);
	memcpy(p + n, "-wal", sizeof "-wal");
	if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, "wal",
			      "a write-ahead log beside the database was not read");
	free(p);
	return 0;
}

static int sqlite_accepts(const sn_type *ty, const uint8_t *head, size_t n)
{
	return ty && ty->reason && strcmp(ty->reason, "database") == 0 &&
	       n >= SN_SQLITE_MAGIC_LEN && memcmp(head, SN_SQLITE_MAGIC, SN_SQLITE_MAGIC_LEN) == 0;
}

static int sqlite_decode(sn_doc *d)
{
	sq_ctx c;
	uint8_t *mem = NULL;
	size_t mem_len = 0;
	int r, rc = 0;

	memset(&c, 0, sizeof c);
	c.d = d;
	if (d->in->fd >= 0) {
		struct stat st;
		if (fstat(d->in->fd, &st) != 0) {
			d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, "read-error",
				      strerror(errno));
			goto done;
		}
		c.size = (uint64_t)st.st_size;
		if (d->path) {
			rc = note_wal(d);
			if (rc)
				goto done;
		}
		r = open_fd(&c, d->in->fd);
	} else {
		r = sn_doc_buffer(d, &mem, &mem_len);
		if (r) {
			/* 1: already on record (over --max-buffer, a reader that stopped) */
			rc = r < 0 ? r : 0;
			goto done;
		}
		c.size = mem_len;
		r = open_mem(&c, mem, mem_len);
	}
	if (r != SQLITE_OK) {
		rc = fail(&c, NULL, r);
		goto done;
	}
	harden(&c);
	rc = read_tables(&c);
done:
	sqlite3_close(c.db);
	free(mem);
	return rc;
}

const sn_decoder sn_decoder_sqlite = { "sqlite", sqlite_accepts, sqlite_decode };
