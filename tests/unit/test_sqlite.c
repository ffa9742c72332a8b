/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unit tests for the SQLite decoder, through fake driver callbacks that
 * write what they are handed into a transcript (one line per table, row,
 * part and ledger record), so a test states the lines it expects.
 *
 * The databases are made here with SQLite: numbers stored as INTEGER and
 * REAL, text, NULL, BLOBs, rowid gaps, a WITHOUT ROWID table, a table whose
 * name needs quoting, computed columns, a column named rowid, a value too
 * long for a cell, and an FTS5 table when the library has FTS5.  They are
 * read as top-level files (the directory and the file must be unchanged
 * afterwards), from memory as nested units, with a write-ahead log beside
 * them, truncated, with a damaged page, as garbage after the magic bytes,
 * and against each limit.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "source/decoder.h"
#include "speurneus/error.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define HEAD_MAX 4096
#define BIG_TEXT_X 1572864 /* 1.5 MiB of 'x' before an e-mail address */

static char dir[64];
static int have_fts5;

/* ---- the fake driver ---------------------------------------------------- */

/* Callbacks may run on worker threads: they note what is wrong in the
 * transcript (and in `bad`) rather than assert. */
typedef struct transcript {
	char *p;
	size_t n, cap;
	int open_table;
	int bad;
} transcript;

static void t_add(transcript *t, const char *s, size_t n)
{
	if (t->n + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		char *p;
		while (cap < t->n + n + 1)
			cap *= 2;
		p = realloc(t->p, cap);
		if (!p)
			abort();
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->n, s, n);
	t->n += n;
	t->p[t->n] = '\0';
}

static void t_str(transcript *t, const char *s)
{
	t_add(t, s, strlen(s));
}

static void t_bad(transcript *t, const char *what)
{
	t->bad = 1;
	t_str(t, "!! ");
	t_str(t, what);
	t_str(t, "\n");
}

/* printable ASCII as is, anything else as \xHH */
static void t_bytes(transcript *t, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		char esc[8];
		if (ch >= 0x20 && ch < 0x7f) {
			t_add(t, (const char *)&ch, 1);
		} else {
			snprintf(esc, sizeof esc, "\\x%02x", ch);
			t_str(t, esc);
		}
	}
}

/* A part, read to its end: its first bytes are shown, or its length. */
static int cb_member(void *payload, const char *name, sn_input *in)
{
	transcript *t = payload;
	char buf[65536], first[201], line[64];
	size_t n = 0;

	if (!name) {
		t_bad(t, "part without a name");
		name = "?";
	}
	for (;;) {
		ssize_t k = in->read(in->ctx, buf, sizeof buf);
		if (k < 0) {
			t_bad(t, "part read failed");
			break;
		}
		if (k == 0)
			break;
		if (n < sizeof first)
			memcpy(first + n, buf,
			       (size_t)k < sizeof first - n ? (size_t)k : sizeof first - n);
		n += (size_t)k;
	}
	t_str(t, "M ");
	t_str(t, name);
	snprintf(line, sizeof line, " text=%d ", in->is_text);
	t_str(t, line);
	if (n < sizeof first) {
		t_bytes(t, first, n);
	} else {
		snprintf(line, sizeof line, "len=%zu", n);
		t_str(t, line);
	}
	t_str(t, "\n");
	return 0;
}

static void cb_record(void *payload, const char *name, sn_file_status st, const char *reason,
		      const char *detail)
{
	transcript *t = payload;

	if (!reason || !*reason || st == SN_FILE_SCANNED || !detail || !*detail)
		t_bad(t, "record without status, reason or detail");
	t_str(t, "X ");
	t_str(t, name ? name : "-");
	t_str(t, " ");
	t_str(t, sn_file_status_name(st));
	t_str(t, " ");
	t_str(t, reason ? reason : "?");
	t_str(t, "\n");
}

static int cb_table_begin(void *payload, const char *name, const char *const *cols, size_t ncols)
{
	transcript *t = payload;

	if (t->open_table)
		t_bad(t, "table begun inside a table");
	t->open_table = 1;
	t_str(t, "T ");
	t_str(t, name);
	t_str(t, " cols=");
	for (size_t i = 0; i < ncols; i++) {
		if (i)
			t_str(t, ",");
		t_str(t, cols[i]);
	}
	t_str(t, "\n");
	return 0;
}

static int cb_row(void *payload, int64_t row, const char *const *cells, const size_t *lens,
		  size_t ncells)
{
	transcript *t = payload;
	char num[32];

	if (!t->open_table)
		t_bad(t, "row outside a table");
	snprintf(num, sizeof num, "R %lld ", (long long)row);
	t_str(t, num);
	for (size_t i = 0; i < ncells; i++) {
		if (i)
			t_str(t, "|");
		if (cells[i])
			t_bytes(t, cells[i], lens[i]);
		else
			t_str(t, "\\N");
	}
	t_str(t, "\n");
	return 0;
}

static int cb_table_end(void *payload)
{
	transcript *t = payload;

	if (!t->open_table)
		t_bad(t, "table ended twice");
	t->open_table = 0;
	t_str(t, "E\n");
	return 0;
}

static const sn_doc_cb cbs = { cb_member, cb_record, cb_table_begin, cb_row, cb_table_end };

/* ---- running the decoder ------------------------------------------------ */

typedef struct run {
	sn_limits lim;
	double deadline;           /* replaces the budget's when nonzero */
	volatile sig_atomic_t stop;
	transcript t;
	int rc;
} run;

static void run_init(run *r)
{
	sn_limits lim = SN_LIMITS_INIT;
	memset(r, 0, sizeof *r);
	r->lim = lim;
	t_str(&r->t, ""); /* an empty transcript is "" rather than NULL */
}

static void run_free(run *r)
{
	free(r->t.p);
}

/* No cmocka assertions: also runs on other threads. */
static int decode_raw(run *r, const uint8_t *head, size_t head_len, sn_input *in,
		      const char *path)
{
	sn_type ty;
	sn_budget b;
	sn_doc d;

	memset(&ty, 0, sizeof ty);
	ty.reason = "database";
	snprintf(ty.detail, sizeof ty.detail, "SQLite database");
	if (!sn_decoder_sqlite.accepts(&ty, head, head_len))
		return -1;
	sn_budget_init(&b, &r->lim, &r->stop);
	if (r->deadline)
		b.deadline = r->deadline;
	memset(&d, 0, sizeof d);
	d.head = head;
	d.head_len = head_len;
	d.in = in;
	d.path = path;
	d.type = &ty;
	d.b = &b;
	d.cb = &cbs;
	d.payload = &r->t;
	r->rc = sn_decoder_sqlite.decode(&d);
	if (r->t.open_table)
		t_bad(&r->t, "a table was never ended");
	return 0;
}

typedef struct fd_src {
	int fd;
} fd_src;

static ssize_t fd_read_rest(void *ctx, void *buf, size_t n)
{
	fd_src *s = ctx;
	return read(s->fd, buf, n);
}

/* As the driver hands a top-level file: its head read, the descriptor open.
 * Returns 0, or -1 when the file cannot be opened or read. */
static int decode_file_raw(run *r, const char *path)
{
	uint8_t head[HEAD_MAX];
	fd_src src;
	sn_input in;
	ssize_t k;
	int rc = -1;

	src.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (src.fd < 0)
		return -1;
	k = read(src.fd, head, sizeof head);
	if (k > 0) {
		memset(&in, 0, sizeof in);
		in.read = fd_read_rest;
		in.ctx = &src;
		in.fd = src.fd;
		in.name = path;
		rc = decode_raw(r, head, (size_t)k, &in, path);
	}
	close(src.fd);
	return rc;
}

/* As a nested unit: from memory, no descriptor, no path. */
static int decode_mem_raw(run *r, const uint8_t *p, size_t n)
{
	size_t hn = n < HEAD_MAX ? n : HEAD_MAX;
	sn_mem_input m;

	sn_mem_input_init(&m, p + hn, n - hn, "member.db", 0);
	return decode_raw(r, p, hn, &m.in, NULL);
}

static void decode_file(run *r, const char *path)
{
	assert_int_equal(decode_file_raw(r, path), 0);
	if (r->t.bad)
		fail_msg("the decoder broke the interface:\n%.4000s", r->t.p);
}

static void decode_mem(run *r, const uint8_t *p, size_t n)
{
	assert_int_equal(decode_mem_raw(r, p, n), 0);
	if (r->t.bad)
		fail_msg("the decoder broke the interface:\n%.4000s", r->t.p);
}

static int has(const run *r, const char *line)
{
	return strstr(r->t.p, line) != NULL;
}

static void expect_lines(const run *r, const char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!has(r, lines[i]))
			fail_msg("missing line: %s\ntranscript:\n%.4000s", lines[i], r->t.p);
	}
}

/* ---- files -------------------------------------------------------------- */

static void path_of(char *out, size_t cap, const char *name)
{
	int k = snprintf(out, cap, "%s/%s", dir, name);
	assert_true(k > 0 && (size_t)k < cap);
}

static uint8_t *slurp(const char *path, size_t *n)
{
	struct stat st;
	uint8_t *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	close(fd);
	*n = (size_t)st.st_size;
	return p;
}

static void spill(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every entry of the test directory with its size and modification time. */
static char *listing(void)
{
	char *names[64], line[512], *out;
	size_t n = 0, len = 0;
	DIR *dp = opendir(dir);
	struct dirent *e;

	assert_non_null(dp);
	while ((e = readdir(dp))) {
		char p[384];
		struct stat st;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		path_of(p, sizeof p, e->d_name);
		assert_int_equal(lstat(p, &st), 0);
		snprintf(line, sizeof line, "%s %lld %lld.%09ld\n", e->d_name,
			 (long long)st.st_size, (long long)st.st_mtim.tv_sec,
			 st.st_mtim.tv_nsec);
		assert_true(n < NELEM(names));
		names[n] = strdup(line);
		assert_non_null(names[n]);
		len += strlen(line);
		n++;
	}
	closedir(dp);
	qsort(names, n, sizeof names[0], cmp_str);
	out = malloc(len + 1);
	assert_non_null(out);
	len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(names[i]);
		memcpy(out + len, names[i], k);
		len += k;
		free(names[i]);
	}
	out[len] = '\0';
	return out;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err ? err : "?");
}

static const char main_sql[] =
	"PRAGMA page_size = 4096;"
	"CREATE TABLE people(id INTEGER PRIMARY KEY, bsn INTEGER, iban TEXT, email TEXT,"
	" score REAL, note TEXT, photo BLOB);"
	"CREATE INDEX people_bsn ON people(bsn);"
	"INSERT INTO people VALUES (3, 123456782, 'NL91ABNA0417164300', 'jan.jansen@example.nl',"
	" 123456782.0, NULL, CAST('bsn 111222333' AS BLOB));"
	"INSERT INTO people VALUES (7, 12345672, NULL, '', 1.5, 'tel 06-12345678', X'');"
	"INSERT INTO people VALUES (100, -4, 'x', 'y', -0.0, '1234 AB', NULL);"
	"CREATE TABLE \"we\"\"ird table\"(postcode TEXT, phone TEXT);"
	"INSERT INTO \"we\"\"ird table\" VALUES ('1234 AB', '+31 20 123 4567'), ('a', 'b'),"
	" ('c', 'd');"
	"DELETE FROM \"we\"\"ird table\" WHERE postcode = 'a';"
	"CREATE TABLE kv(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
	"INSERT INTO kv VALUES ('b', 111222333), ('a', 'x');"
	"CREATE TABLE gen(a INTEGER, b INTEGER AS (a * 2) VIRTUAL, c INTEGER AS (a + 1) STORED);"
	"INSERT INTO gen(a) VALUES (5);"
	"CREATE TABLE shadow(rowid TEXT, x);"
	"INSERT INTO shadow(_rowid_, rowid, x) VALUES (42, 'r', 'x');"
	"CREATE TABLE counter(id INTEGER PRIMARY KEY AUTOINCREMENT, v);"
	"INSERT INTO counter(v) VALUES ('06-12345678');"
	"CREATE TABLE big(t TEXT);"
	"INSERT INTO big(rowid, t) VALUES (1, replace(hex(zeroblob(786432)), '0', 'x')"
	" || ' jan.jansen@example.nl'), (2, 'small');";

/* the lines every full read of main.db holds */
static const char *const main_lines[] = {
	"T people cols=id,bsn,iban,email,score,note,photo\n"
	"R 3 3|123456782|NL91ABNA0417164300|jan.jansen@example.nl|123456782|\\N|\\N\n"
	"M people.photo rowid 3 text=0 bsn 111222333\n"
	"R 7 7|12345672|\\N||1.5|tel 06-12345678|\\N\n"
	"R 100 100|-4|x|y|0|1234 AB|\\N\n"
	"E\n",
	"T we\"ird table cols=postcode,phone\nR 1 1234 AB|+31 20 123 4567\nR 3 c|d\nE\n",
	"T kv cols=k,v\nR 1 a|x\nR 2 b|111222333\nE\n",
	"T gen cols=a,c\nR 1 5|6\nE\n",
	"T shadow cols=rowid,x\nR 42 r|x\nE\n",
	"T counter cols=id,v\nR 1 1|06-12345678\nE\n",
	"T big cols=t\nR 1 \\N\nM big.t rowid 1 text=1 len=1572886\nR 2 small\nE\n",
};

static void make_main(void)
{
	char p[128];
	sqlite3 *db;

	path_of(p, sizeof p, "main.db");
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	exec_ok(db, main_sql);
	have_fts5 = sqlite3_exec(db, "CREATE VIRTUAL TABLE ft USING fts5(body);"
				 "INSERT INTO ft VALUES ('iban NL91ABNA0417164300');",
				 NULL, NULL, NULL) == SQLITE_OK;
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/sn-test-sqlite-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	make_main();
	return 0;
}

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int teardown(void **state)
{
	(void)state;
	return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- tests -------------------------------------------------------------- */

static void test_accepts(void **state)
{
	static const struct {
		const char *reason;
		const char *head;
		size_t n;
		int want;
	} cases[] = {
		{ "database", "SQLite format 3\0\x10\0", 18, 1 },
		{ "database", "SQLite format 3\0", 16, 1 },
		{ "database", "SQLite format 3", 15, 0 },     /* too short */
		{ "database", "SQLite format 3X", 16, 0 },    /* no NUL */
		{ "database", "SQLite format 2\0", 16, 0 },
		{ "document", "SQLite format 3\0", 16, 0 },
		{ NULL, "SQLite format 3\0", 16, 0 },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		sn_type ty;
		memset(&ty, 0, sizeof ty);
		ty.reason = cases[i].reason;
		assert_int_equal(sn_decoder_sqlite.accepts(&ty, (const uint8_t *)cases[i].head,
							   cases[i].n),
				 cases[i].want);
	}
}

static void test_top_level(void **state)
{
	char p[128], *before, *after;
	struct stat st0, st1;
	run r;

	(void)state;
	path_of(p, sizeof p, "main.db");
	assert_int_equal(chmod(dir, 0700), 0); /* writable: SQLite could create files */
	before = listing();
	assert_int_equal(stat(p, &st0), 0);
	run_init(&r);
	decode_file(&r, p);
	assert_int_equal(r.rc, 0);
	after = listing();
	assert_string_equal(before, after);
	assert_int_equal(stat(p, &st1), 0);
	assert_int_equal(st0.st_size, st1.st_size);
	assert_int_equal(st0.st_mtim.tv_sec, st1.st_mtim.tv_sec);
	assert_int_equal(st0.st_mtim.tv_nsec, st1.st_mtim.tv_nsec);

	expect_lines(&r, main_lines, NELEM(main_lines));
	assert_false(has(&r, "X "));         /* nothing left unread */
	assert_false(has(&r, "T sqlite_"));  /* SQLite's own tables */
	if (have_fts5) {
		/* the virtual table is not read, its shadow table with the text is */
		assert_false(has(&r, "T ft cols"));
		assert_true(has(&r, "T ft_content cols=id,c0\nR 1 1|iban NL91ABNA0417164300\n"));
	}
	free(before);
	free(after);
	run_free(&r);
}

static void test_nested_same_rows(void **state)
{
	char p[128];
	size_t n;
	uint8_t *img;
	run top, mem;

	(void)state;
	path_of(p, sizeof p, "main.db");
	run_init(&top);
	decode_file(&top, p);
	img = slurp(p, &n);
	run_init(&mem);
	decode_mem(&mem, img, n);
	assert_int_equal(mem.rc, 0);
	assert_string_equal(top.t.p, mem.t.p);
	expect_lines(&mem, main_lines, NELEM(main_lines));

	/* over --max-buffer: one record for the unit, nothing read */
	run_free(&mem);
	run_init(&mem);
	mem.lim.max_buffer = 8192;
	decode_mem(&mem, img, n);
	assert_int_equal(mem.rc, 0);
	assert_string_equal(mem.t.p, "X - incomplete too-large-to-buffer\n");
	free(img);
	run_free(&top);
	run_free(&mem);
}

static void test_wal(void **state)
{
	char p[128], w[140], *before, *after;
	struct stat st;
	sqlite3 *db;
	uint8_t *img;
	size_t n;
	run r;

	(void)state;
	path_of(p, sizeof p, "wal.db");
	snprintf(w, sizeof w, "%s-wal", p);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	exec_ok(db, "CREATE TABLE t(v TEXT); INSERT INTO t VALUES ('in main 111222333');"
		    "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;"
		    "INSERT INTO t VALUES ('in wal 123456782');");
	/* the writer stays open: its committed row is only in the log */
	assert_int_equal(stat(w, &st), 0);
	assert_true(st.st_size > 0);

	before = listing();
	run_init(&r);
	decode_file(&r, p);
	after = listing();
	assert_int_equal(r.rc, 0);
	assert_string_equal(before, after);
	assert_true(has(&r, "X - incomplete wal\n"));
	assert_true(has(&r, "T t cols=v\nR 1 in main 111222333\nE\n"));
	assert_false(has(&r, "in wal"));
	run_free(&r);

	/* the same main file from memory: no log to speak of */
	img = slurp(p, &n);
	assert_int_equal(img[18], 2); /* in WAL mode */
	run_init(&r);
	decode_mem(&r, img, n);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.t.p, "T t cols=v\nR 1 in main 111222333\nE\n");
	run_free(&r);
	free(img);
	free(before);
	free(after);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static size_t page_size(const uint8_t *img)
{
	unsigned v = (unsigned)img[16] << 8 | img[17];
	return v == 1 ? 65536 : v;
}

static void test_truncated(void **state)
{
	char p[128], q[128];
	uint8_t *img;
	size_t n;
	run r;

	(void)state;
	path_of(p, sizeof p, "main.db");
	path_of(q, sizeof q, "truncated.db");
	img = slurp(p, &n);
	assert_true(n > 2 * page_size(img));
	spill(q, img, 2 * page_size(img));
	run_init(&r);
	decode_file(&r, q);
	assert_int_equal(r.rc, 0);
	assert_true(has(&r, " incomplete corrupt\n"));

	run_free(&r);
	run_init(&r);
	decode_mem(&r, img, 2 * page_size(img));
	assert_int_equal(r.rc, 0);
	assert_true(has(&r, " incomplete corrupt\n"));
	run_free(&r);
	free(img);
}

static void test_corrupt_page(void **state)
{
	static const char *const still_read[] = {
		"X people incomplete corrupt\n",
		"T kv cols=k,v\nR 1 a|x\nR 2 b|111222333\nE\n",
		"T shadow cols=rowid,x\nR 42 r|x\nE\n",
	};
	char p[128], q[128];
	sqlite3 *db;
	sqlite3_stmt *st;
	uint8_t *img;
	size_t n, ps;
	int64_t root;
	run r;

	(void)state;
	path_of(p, sizeof p, "main.db");
	path_of(q, sizeof q, "damaged.db");
	assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_schema"
						" WHERE name = 'people'", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	root = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);

	img = slurp(p, &n);
	ps = page_size(img);
	assert_true(root > 1 && (size_t)root * ps <= n);
	memset(img + (size_t)(root - 1) * ps, 0xa5, ps);
	spill(q, img, n);
	run_init(&r);
	decode_file(&r, q);
	assert_int_equal(r.rc, 0);
	expect_lines(&r, still_read, NELEM(still_read));

	run_free(&r);
	run_init(&r);
	decode_mem(&r, img, n);
	assert_int_equal(r.rc, 0);
	expect_lines(&r, still_read, NELEM(still_read));
	run_free(&r);
	free(img);
}

static void test_garbage(void **state)
{
	uint8_t img[8192];
	char q[128];
	run r;

	(void)state;
	memcpy(img, "SQLite format 3", 16);
	for (size_t i = 16; i < sizeof img; i++)
		img[i] = (uint8_t)(i * 131 + 7);
	run_init(&r);
	decode_mem(&r, img, sizeof img);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.t.p, "X - incomplete corrupt\n");
	run_free(&r);

	path_of(q, sizeof q, "garbage.db");
	spill(q, img, sizeof img);
	run_init(&r);
	decode_file(&r, q);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.t.p, "X - incomplete corrupt\n");
	run_free(&r);

	/* only the magic bytes */
	run_init(&r);
	decode_mem(&r, img, 16);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.t.p, "X - incomplete corrupt\n");
	run_free(&r);
}

/* An interior page whose last child pointer leads back to its first leaf:
 * SQLite itself walks the first rows twice.  The decoder hands each row
 * once, records the table as corrupt and reads the next table. */
static void test_rowid_loop(void **state)
{
	char p[128];
	sqlite3 *db;
	sqlite3_stmt *st;
	uint8_t *img, *pg;
	size_t n;
	int64_t root;
	unsigned cell;
	run r;

	(void)state;
	path_of(p, sizeof p, "loop.db");
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	exec_ok(db, "PRAGMA page_size = 512; CREATE TABLE t(v TEXT);"
		    "CREATE TABLE after(v TEXT); INSERT INTO after VALUES ('still read');"
		    "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 60)"
		    " INSERT INTO t SELECT 'row ' || i || ' ' || hex(zeroblob(20)) FROM k;");
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_schema"
						" WHERE name = 't'", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	root = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);

	img = slurp(p, &n);
	assert_int_equal(page_size(img), 512);
	pg = img + (size_t)(root - 1) * 512;
	assert_int_equal(pg[0], 0x05); /* an interior table page */
	cell = (unsigned)pg[12] << 8 | pg[13];
	memcpy(pg + 8, pg + cell, 4); /* rightmost child := first child */
	spill(p, img, n);
	free(img);

	run_init(&r);
	decode_file(&r, p);
	assert_int_equal(r.rc, 0);
	assert_true(has(&r, "X t incomplete corrupt\nE\n"));
	assert_true(has(&r, "R 1 row 1 "));
	assert_int_equal(strstr(strstr(r.t.p, "R 1 row 1 ") + 1, "R 1 row 1 "), NULL);
	assert_true(has(&r, "T after cols=v\nR 1 still read\nE\n"));
	run_free(&r);
}

/* A value over SQLite's length limit (here 1 MiB) loses its row, on
 * record, and the rest of the table is still read. */
static void test_value_too_long(void **state)
{
	char p[128];
	run r;

	(void)state;
	path_of(p, sizeof p, "main.db");
	run_init(&r);
	r.lim.max_buffer = 1 << 20;
	decode_file(&r, p);
	assert_int_equal(r.rc, 0);
	assert_true(has(&r, "T big cols=t\nX big rowid 1 incomplete too-large-to-buffer\n"
			    "R 2 small\nE\n"));
	assert_true(has(&r, "T kv cols=k,v\nR 1 a|x\n"));
	run_free(&r);
}

static void test_limits(void **state)
{
	char p[128];
	run r;

	(void)state;
	path_of(p, sizeof p, "main.db");

	/* the time limit passed: recorded, nothing read */
	run_init(&r);
	r.deadline = 1.0;
	decode_file(&r, p);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.t.p, "X - incomplete time\n");
	run_free(&r);

	/* bytes produced count against the member size */
	run_init(&r);
	r.lim.max_member_size = 64;
	decode_file(&r, p);
	assert_int_equal(r.rc, 0);
	assert_true(has(&r, "X - incomplete member-size\n"));
	assert_false(has(&r, "R 7 "));
	run_free(&r);

	/* the scan is stopping */
	run_init(&r);
	r.stop = 1;
	decode_file(&r, p);
	assert_int_equal(r.rc, SN_ESTOP);
	assert_false(has(&r, "R "));
	run_free(&r);
}

/* Workers decode at the same time, top-level and from memory: each gets
 * what a lone decode gets. */
#define NTHREADS 4

typedef struct job {
	const char *path;
	const uint8_t *img;
	size_t n;
	run r;
	int err;
} job;

static void *worker(void *arg)
{
	job *j = arg;

	run_init(&j->r);
	j->err = j->img ? decode_mem_raw(&j->r, j->img, j->n) : decode_file_raw(&j->r, j->path);
	return NULL;
}

static void test_threads(void **state)
{
	char p[128];
	pthread_t tid[NTHREADS];
	job jobs[NTHREADS];
	uint8_t *img;
	size_t n;
	run ref;

	(void)state;
	path_of(p, sizeof p, "main.db");
	img = slurp(p, &n);
	run_init(&ref);
	decode_file(&ref, p);
	memset(jobs, 0, sizeof jobs);
	for (size_t i = 0; i < NTHREADS; i++) {
		jobs[i].path = p;
		if (i % 2) {
			jobs[i].img = img;
			jobs[i].n = n;
		}
		assert_int_equal(pthread_create(&tid[i], NULL, worker, &jobs[i]), 0);
	}
	for (size_t i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	for (size_t i = 0; i < NTHREADS; i++) {
		assert_int_equal(jobs[i].err, 0);
		assert_int_equal(jobs[i].r.rc, 0);
		assert_false(jobs[i].r.t.bad);
		assert_string_equal(jobs[i].r.t.p, ref.t.p);
		run_free(&jobs[i].r);
	}
	run_free(&ref);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_top_level),
		cmocka_unit_test(test_nested_same_rows),
		cmocka_unit_test(test_wal),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupt_page),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_rowid_loop),
		cmocka_unit_test(test_value_too_long),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
