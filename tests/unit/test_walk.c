/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unit tests for the walk stage: trees built in mkdtemp directories are
 * walked with 1, 2 and 4 workers while a callback collects every file,
 * ledger record and exclusion.  They cover exact-once delivery, root forms,
 * special files that must never be opened, symlinks with and without
 * following (loops, dangling links, a 10,000-link chain), unreadable
 * directories as an unprivileged user, raw non-UTF-8 names, ignore files and
 * excludes, stopping, parallelism on one big directory, deep trees and the
 * inode set.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "speurneus/error.h"
#include "walk/walk.h"

#define NOBODY 65534

/* ---- collecting callback ---------------------------------------------- */

enum ev_kind { EV_FILE, EV_RECORD, EV_EXCLUDED };

struct ev {
	enum ev_kind kind;
	char *path;
	sn_file_status status;
	char reason[48];
	unsigned worker;
	int is_root;
};

struct col {
	pthread_mutex_t mu;
	struct ev *ev;
	size_t n, cap;
	size_t nfiles;
	unsigned workers_mask;
	/* behaviour knobs */
	volatile sig_atomic_t *stop;
	size_t stop_after; /* set *stop after this many files (0: never) */
	size_t fail_after; /* return nonzero after this many files (0: never) */
	int read_files;	   /* open and read each file, as a scanner would */
};

static void col_init(struct col *c)
{
	memset(c, 0, sizeof *c);
	pthread_mutex_init(&c->mu, NULL);
}

static void col_free(struct col *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->ev[i].path);
	free(c->ev);
	pthread_mutex_destroy(&c->mu);
}

static void col_add(struct col *c, enum ev_kind k, const char *path, sn_file_status st,
		    const char *reason, unsigned worker, int is_root)
{
	struct ev *e;

	pthread_mutex_lock(&c->mu);
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->ev = realloc(c->ev, c->cap * sizeof *c->ev);
		if (!c->ev)
			abort();
	}
	e = &c->ev[c->n++];
	memset(e, 0, sizeof *e);
	e->kind = k;
	e->path = strdup(path);
	if (!e->path)
		abort();
	e->status = st;
	if (reason)
		snprintf(e->reason, sizeof e->reason, "%s", reason);
	e->worker = worker;
	e->is_root = is_root;
	pthread_mutex_unlock(&c->mu);
}

static int cb_file(void *payload, unsigned worker, const char *path, int is_root)
{
	struct col *c = payload;
	size_t n;

	if (c->read_files) {
		char buf[64];
		int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

		if (fd >= 0) {
			while (read(fd, buf, sizeof buf) > 0)
				;
			close(fd);
		}
	}
	col_add(c, EV_FILE, path, SN_FILE_SCANNED, NULL, worker, is_root);
	pthread_mutex_lock(&c->mu);
	n = ++c->nfiles;
	if (worker < 32)
		c->workers_mask |= 1u << worker;
	pthread_mutex_unlock(&c->mu);
	if (c->stop_after && n >= c->stop_after)
		__atomic_store_n(c->stop, 1, __ATOMIC_RELAXED);
	return c->fail_after && n >= c->fail_after;
}

static void cb_record(void *payload, const char *path, sn_file_status st, const char *reason,
		      const char *detail)
{
	(void)detail;
	col_add(payload, EV_RECORD, path, st, reason, 0, 0);
}

static void cb_excluded(void *payload, const char *path)
{
	col_add(payload, EV_EXCLUDED, path, SN_FILE_SKIPPED, NULL, 0, 0);
}

static const sn_walk_callbacks callbacks = {cb_file, cb_record, cb_excluded};

static size_t count_ev(const struct col *c, enum ev_kind k, const char *path, const char *reason)
{
	size_t i, n = 0;

	for (i = 0; i < c->n; i++) {
		if (c->ev[i].kind != k || strcmp(c->ev[i].path, path) != 0)
			continue;
		if (reason && strcmp(c->ev[i].reason, reason) != 0)
			continue;
		n++;
	}
	return n;
}

static size_t count_kind(const struct col *c, enum ev_kind k)
{
	size_t i, n = 0;

	for (i = 0; i < c->n; i++)
		n += c->ev[i].kind == k;
	return n;
}

static size_t count_reason(const struct col *c, const char *reason)
{
	size_t i, n = 0;

	for (i = 0; i < c->n; i++)
		n += c->ev[i].kind == EV_RECORD && strcmp(c->ev[i].reason, reason) == 0;
	return n;
}

static void dump(const struct col *c)
{
	size_t i;

	for (i = 0; i < c->n && i < 200; i++)
		print_message("  %c %s %s\n", "FRX"[c->ev[i].kind], c -> ev[i].path,
			      c->ev[i].reason);
}

#define EXPECT(c, kind, path, reason, times)                                                       \
	do {                                                                                       \
		size_t got_ = count_ev((c), (kind), (path), (reason));                             \
		if (got_ != (size_t)(times)) {                                                     \
			dump(c);                                                                   \
			fail_msg("%s %s: want %d events, got %zu", (path),                         \
				 (reason) ? (const char *)(reason) : "", (int)(times), got_);      \
		}                                                                                  \
	} while (0)

static const unsigned thread_counts[] = {1, 2, 4};

static sn_walk_options opts(unsigned threads)
{
	sn_walk_options o;

	memset(&o, 0, sizeof o);
	o.threads = threads;
	return o;
}

static int walk1(struct col *c, const char *root, const sn_walk_options *o)
{
	const char *roots[] = {root};

	return sn_walk_run(roots, 1, o, &callbacks, c, c->stop);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- tree helpers ------------------------------------------------------ */

static char root_dir[128];
/* A second tree outside root_dir (symlink targets), removed by teardown even
 * when a test fails half-way. */
static char other_dir[128];

static void pathf(char *out, size_t n, const char *fmt, va_list ap)
{
	int len;
	char rel[PATH_MAX];

	vsnprintf(rel, sizeof rel, fmt, ap);
	len = snprintf(out, n, "%s/%s", root_dir, rel);
	if (len < 0 || (size_t)len >= n)
		abort();
}

static __attribute__((format(printf, 1, 2))) const char *P(const char *fmt, ...)
{
	static char buf[8][PATH_MAX];
	static unsigned slot;
	char *out = buf[slot++ % 8];
	va_list ap;

	va_start(ap, fmt);
	pathf(out, PATH_MAX, fmt, ap);
	va_end(ap);
	return out;
}

static void mkfile(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	if (content)
		assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static void mkdirp(const char *path)
{
	assert_int_equal(mkdir(path, 0755), 0);
}

/* Remove a tree with descriptors only, so paths beyond PATH_MAX and
 * unreadable directories go as well. */
static void rm_at(int dfd, const char *name)
{
	struct stat st;
	int fd;
	DIR *d;
	struct dirent *de;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlinkat(dfd, name, 0);
		return;
	}
	fchmodat(dfd, name, 0700, 0);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		d = fdopendir(fd);
		if (d) {
			while ((de = readdir(d))) {
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
					rm_at(dirfd(d), de->d_name);
			}
			closedir(d);
		} else {
			close(fd);
		}
	}
	unlinkat(dfd, name, AT_REMOVEDIR);
}

static int setup_tree(void **state)
{
	(void)state;
	snprintf(root_dir, sizeof root_dir, "/tmp/sn-walk-XXXXXX");
	if (!mkdtemp(root_dir))
		return -1;
	return 0;
}

static int teardown_tree(void **state)
{
	(void)state;
	rm_at(AT_FDCWD, root_dir);
	if (other_dir[0])
		rm_at(AT_FDCWD, other_dir);
	other_dir[0] = '\0';
	return 0;
}

static const char *make_other(const char *templ)
{
	snprintf(other_dir, sizeof other_dir, "%s", templ);
	if (!mkdtemp(other_dir)) {
		other_dir[0] = '\0';
		return NULL;
	}
	return other_dir;
}

/* ---- tests -------------------------------------------------------------- */

static void make_basic(void)
{
	mkfile(P("a.txt"), "a");
	mkdirp(P("d1"));
	mkfile(P("d1/b.txt"), "b");
	mkdirp(P("d1/d2"));
	mkfile(P("d1/d2/c.txt"), "c");
	mkdirp(P("d1/d2/d3"));
	mkfile(P("d1/d2/d3/e.txt"), "");
	mkdirp(P("empty"));
}

static void test_all_files_once(void **state)
{
	size_t t, i;

	(void)state;
	make_basic();
	for (t = 0; t < 3; t++) {
		sn_walk_options o = opts(thread_counts[t]);
		struct col c;

		col_init(&c);
		assert_int_equal(walk1(&c, root_dir, &o), 0);
		EXPECT(&c, EV_FILE, P("a.txt"), NULL, 1);
		EXPECT(&c, EV_FILE, P("d1/b.txt"), NULL, 1);
		EXPECT(&c, EV_FILE, P("d1/d2/c.txt"), NULL, 1);
		EXPECT(&c, EV_FILE, P("d1/d2/d3/e.txt"), NULL, 1);
		assert_int_equal(count_kind(&c, EV_FILE), 4);
		assert_int_equal(count_kind(&c, EV_RECORD), 0);
		assert_int_equal(count_kind(&c, EV_EXCLUDED), 0);
		for (i = 0; i < c.n; i++) {
			assert_true(c.ev[i].worker < thread_counts[t]);
			assert_int_equal(c.ev[i].is_root, 0);
		}
		col_free(&c);
	}
}

static void test_root_forms(void **state)
{
	char root[PATH_MAX], cwd[PATH_MAX];
	sn_walk_options o = opts(2);
	struct col c;
	size_t i;

	(void)state;
	make_basic();

	/* "dir/" and "dir//" give "dir/x", never "dir//x" */
	snprintf(root, sizeof root, "%s//", root_dir);
	col_init(&c);
	assert_int_equal(walk1(&c, root, &o), 0);
	EXPECT(&c, EV_FILE, P("a.txt"), NULL, 1);
	EXPECT(&c, EV_FILE, P("d1/d2/c.txt"), NULL, 1);
	assert_int_equal(count_kind(&c, EV_FILE), 4);
	for (i = 0; i < c.n; i++)
		assert_null(strstr(c.ev[i].path, "//"));
	col_free(&c);

	/* "." gives "./x" */
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(root_dir), 0);
	col_init(&c);
	assert_int_equal(walk1(&c, ".", &o), 0);
	assert_int_equal(chdir(cwd), 0);
	EXPECT(&c, EV_FILE, "./a.txt", NULL, 1);
	EXPECT(&c, EV_FILE, "./d1/d2/d3/e.txt", NULL, 1);
	assert_int_equal(count_kind(&c, EV_FILE), 4);
	col_free(&c);

	/* a file root is passed on as given, flagged as a root */
	col_init(&c);
	assert_int_equal(walk1(&c, P("d1/b.txt"), &o), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.ev[0].kind, EV_FILE);
	assert_string_equal(c.ev[0].path, P("d1/b.txt"));
	assert_int_equal(c.ev[0].is_root, 1);
	col_free(&c);

	/* a missing root is a ledger error; the other roots are still walked */
	{
		const char *roots[] = {P("nope"), P("d1/d2"), P("a.txt/")};

		col_init(&c);
		assert_int_equal(sn_walk_run(roots, 3, &o, &callbacks, &c, NULL), 0);
		EXPECT(&c, EV_RECORD, P("nope"), "not-found", 1);
		EXPECT(&c, EV_RECORD, P("a.txt/"), "not-found", 1);
		EXPECT(&c, EV_FILE, P("d1/d2/c.txt"), NULL, 1);
		EXPECT(&c, EV_FILE, P("d1/d2/d3/e.txt"), NULL, 1);
		assert_int_equal(count_kind(&c, EV_FILE), 2);
		col_free(&c);
	}

	/* the same directory twice, and a subdirectory of a root: listed once */
	{
		const char *roots[] = {root_dir, P("d1"), root_dir};

		col_init(&c);
		assert_int_equal(sn_walk_run(roots, 3, &o, &callbacks, &c, NULL), 0);
		assert_int_equal(count_kind(&c, EV_FILE), 4);
		EXPECT(&c, EV_FILE, P("a.txt"), NULL, 1);
		assert_int_equal(count_reason(&c, "duplicate-directory"), 2);
		col_free(&c);
	}
}

static void test_special_files(void **state)
{
	struct sockaddr_un sa;
	sn_walk_options o;
	int sock, have_dev;
	size_t t;

	(void)state;
	mkfile(P("plain.txt"), "x");
	assert_int_equal(mkfifo(P("fifo"), 0644), 0);
	sock = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(sock >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	assert_true(strlen(P("sock")) < sizeof sa.sun_path);
	memcpy(sa.sun_path, P("sock"), strlen(P("sock")) + 1);
	assert_int_equal(bind(sock, (struct sockaddr *)&sa, sizeof sa), 0);
	/* Device nodes need CAP_MKNOD; containers often lack it. */
	have_dev = mknod(P("null"), S_IFCHR | 0666, makedev(1, 3)) == 0;

	/* A walker that opened the FIFO would block here forever. */
	alarm(20);
	for (t = 0; t < 3; t++) {
		struct col c;

		o = opts(thread_counts[t]);
		o.follow = t == 2;
		col_init(&c);
		assert_int_equal(walk1(&c, root_dir, &o), 0);
		EXPECT(&c, EV_FILE, P("plain.txt"), NULL, 1);
		assert_int_equal(count_kind(&c, EV_FILE), 1);
		EXPECT(&c, EV_RECORD, P("fifo"), "special-file", 1);
		EXPECT(&c, EV_RECORD, P("sock"), "special-file", 1);
		if (have_dev)
			EXPECT(&c, EV_RECORD, P("null"), "special-file", 1);
		col_free(&c);
	}
	/* a FIFO given as a root is not opened either */
	{
		struct col c;

		o = opts(1);
		col_init(&c);
		assert_int_equal(walk1(&c, P("fifo"), &o), 0);
		EXPECT(&c, EV_RECORD, P("fifo"), "special-file", 1);
		assert_int_equal(count_kind(&c, EV_FILE), 0);
		col_free(&c);
	}
	alarm(0);
	close(sock);
}

static void test_symlinks(void **state)
{
	const char *other = make_other("/tmp/sn-walk-other-XXXXXX");
	char path[PATH_MAX];
	sn_walk_options o;
	struct col c;
	size_t t;

	(void)state;
	make_basic();
	assert_non_null(other);
	snprintf(path, sizeof path, "%s/outside.txt", other);
	mkfile(path, "o");
	assert_int_equal(symlink("a.txt", P("link_f")), 0);
	assert_int_equal(symlink("d1", P("link_d")), 0);
	assert_int_equal(symlink(other, P("link_out")), 0);
	assert_int_equal(symlink("does-not-exist", P("dangling")), 0);
	assert_int_equal(symlink("self", P("self")), 0);

	for (t = 0; t < 3; t++) {
		/* not following: every symlink is a ledger record */
		o = opts(thread_counts[t]);
		col_init(&c);
		assert_int_equal(walk1(&c, root_dir, &o), 0);
		assert_int_equal(count_kind(&c, EV_FILE), 4);
		EXPECT(&c, EV_RECORD, P("link_f"), "symlink", 1);
		EXPECT(&c, EV_RECORD, P("link_d"), "symlink", 1);
		EXPECT(&c, EV_RECORD, P("link_out"), "symlink", 1);
		EXPECT(&c, EV_RECORD, P("dangling"), "symlink", 1);
		EXPECT(&c, EV_RECORD, P("self"), "symlink", 1);
		assert_int_equal(count_kind(&c, EV_RECORD), 5);
		col_free(&c);

		/* following: targets are walked, d1 only once */
		o.follow = 1;
		col_init(&c);
		assert_int_equal(walk1(&c, root_dir, &o), 0);
		EXPECT(&c, EV_FILE, P("a.txt"), NULL, 1);
		EXPECT(&c, EV_FILE, P("link_f"), NULL, 1);
		EXPECT(&c, EV_FILE, P("link_out/outside.txt"), NULL, 1);
		assert_int_equal(count_ev(&c, EV_FILE, P("d1/b.txt"), NULL) +
					 count_ev(&c, EV_FILE, P("link_d/b.txt"), NULL),
				 1);
		assert_int_equal(
			count_ev(&c, EV_RECORD, P("d1"), "duplicate-directory") +
				count_ev(&c, EV_RECORD, P("link_d"), "duplicate-directory"),
			1);
		assert_int_equal(count_kind(&c, EV_FILE), 6);
		EXPECT(&c, EV_RECORD, P("dangling"), "broken-symlink", 1);
		EXPECT(&c, EV_RECORD, P("self"), "symlink-loop", 1);
		assert_int_equal(count_kind(&c, EV_RECORD), 3);
		col_free(&c);
	}

	/* a root that is a symlink is followed */
	o = opts(2);
	col_init(&c);
	assert_int_equal(walk1(&c, P("link_d"), &o), 0);
	EXPECT(&c, EV_FILE, P("link_d/b.txt"), NULL, 1);
	assert_int_equal(count_kind(&c, EV_FILE), 3);
	col_free(&c);
	col_init(&c);
	assert_int_equal(walk1(&c, P("dangling"), &o), 0);
	EXPECT(&c, EV_RECORD, P("dangling"), "broken-symlink", 1);
	col_free(&c);
}

static void test_symlink_loop(void **state)
{
	sn_walk_options o;
	struct col c;
	double t0;
	size_t t;

	(void)state;
	mkdirp(P("a"));
	mkfile(P("a/f.txt"), "f");
	assert_int_equal(symlink("..", P("a/b")), 0);
	assert_int_equal(symlink(".", P("a/here")), 0);
	for (t = 0; t < 3; t++) {
		o = opts(thread_counts[t]);
		o.follow = 1;
		col_init(&c);
		t0 = now();
		assert_int_equal(walk1(&c, root_dir, &o), 0);
		assert_true(now() - t0 < 2.0);
		EXPECT(&c, EV_FILE, P("a/f.txt"), NULL, 1);
		EXPECT(&c, EV_RECORD, P("a/b"), "symlink-loop", 1);
		EXPECT(&c, EV_RECORD, P("a/here"), "symlink-loop", 1);
		assert_int_equal(count_kind(&c, EV_FILE), 1);
		col_free(&c);

		o.follow = 0;
		col_init(&c);
		assert_int_equal(walk1(&c, root_dir, &o), 0);
		EXPECT(&c, EV_RECORD, P("a/b"), "symlink", 1);
		col_free(&c);
	}
}

/* Entries that change between listing and opening.  With one worker a
 * directory's listing finishes before any job it queued starts, so the
 * record callback for the FIFO runs while "victim" and "gone" are listed but
 * not yet opened: the callback swaps one for a symlink and removes the
 * other. */

static void cb_record_swap(void *payload, const char *path, sn_file_status st, const char *reason,
			   const char *detail)
{
	if (strcmp(path, P("fifo")) == 0) {
		if (rename(P("victim"), P("moved")) != 0 || symlink(other_dir, P("victim")) != 0 ||
		    rmdir(P("gone")) != 0)
			abort();
	}
	cb_record(payload, path, st, reason, detail);
}

static void test_swapped_directory(void **state)
{
	static const sn_walk_callbacks swap_cb = {cb_file, cb_record_swap, cb_excluded};
	const char *roots[] = {root_dir};
	char path[PATH_MAX];
	sn_walk_options o = opts(1);
	struct col c;

	(void)state;
	assert_non_null(make_other("/tmp/sn-walk-target-XXXXXX"));
	snprintf(path, sizeof path, "%s/elsewhere.txt", other_dir);
	mkfile(path, "e");
	mkdirp(P("victim"));
	mkfile(P("victim/v.txt"), "v");
	mkdirp(P("gone"));
	assert_int_equal(mkfifo(P("fifo"), 0644), 0);

	col_init(&c);
	assert_int_equal(sn_walk_run(roots, 1, &o, &swap_cb, &c, NULL), 0);
	EXPECT(&c, EV_RECORD, P("victim"), "symlink", 1);
	EXPECT(&c, EV_RECORD, P("gone"), "vanished", 1);
	assert_int_equal(count_kind(&c, EV_FILE), 0);
	col_free(&c);
}

#define CHAIN 10000

static void test_symlink_chain(void **state)
{
	char name[32], target[32];
	sn_walk_options o;
	struct col c;
	int dfd, i, follow;
	double t0;

	(void)state;
	mkdirp(P("chain"));
	mkfile(P("chain/target"), "t");
	dfd = open(P("chain"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	for (i = 0; i < CHAIN; i++) {
		snprintf(name, sizeof name, "l%d", i);
		if (i == CHAIN - 1)
			snprintf(target, sizeof target, "target");
		else
			snprintf(target, sizeof target, "l%d", i + 1);
		assert_int_equal(symlinkat(target, dfd, name), 0);
	}
	close(dfd);

	for (follow = 0; follow < 2; follow++) {
		o = opts(2);
		o.follow = follow;
		col_init(&c);
		t0 = now();
		assert_int_equal(walk1(&c, root_dir, &o), 0);
		assert_true(now() - t0 < 2.0);
		EXPECT(&c, EV_FILE, P("chain/target"), NULL, 1);
		if (!follow) {
			assert_int_equal(count_reason(&c, "symlink"), CHAIN);
			assert_int_equal(count_kind(&c, EV_FILE), 1);
		} else {
			/* Links close enough to the target resolve within the
			 * kernel's limit; every other one is a loop record. */
			size_t loops = count_reason(&c, "symlink-loop");

			assert_true(loops > CHAIN / 2);
			assert_int_equal(loops + count_kind(&c, EV_FILE), CHAIN + 1);
			EXPECT(&c, EV_FILE, P("chain/l%d", CHAIN - 1), NULL, 1);
			EXPECT(&c, EV_RECORD, P("chain/l0"), "symlink-loop", 1);
		}
		col_free(&c);
	}
}

/* Walks the tree and checks the unreadable directory is reported; returns 0
 * when everything is as expected. */
static int check_permission_denied(void)
{
	sn_walk_options o = opts(2);
	struct col c;
	int bad = 0;

	col_init(&c);
	if (walk1(&c, root_dir, &o) != 0)
		bad |= 1;
	if (count_ev(&c, EV_RECORD, P("locked"), "permission-denied") != 1)
		bad |= 2;
	if (count_ev(&c, EV_FILE, P("open/ok.txt"), NULL) != 1)
		bad |= 4;
	if (count_kind(&c, EV_FILE) != 1)
		bad |= 8;
	col_free(&c);
	/* an unreadable root */
	col_init(&c);
	if (walk1(&c, P("locked"), &o) != 0 ||
	    count_ev(&c, EV_RECORD, P("locked"), "permission-denied") != 1)
		bad |= 16;
	col_free(&c);
	return bad;
}

static void test_permission_denied(void **state)
{
	static const char *const rel[] = {"", "/locked", "/locked/hidden.txt", "/open",
					  "/open/ok.txt"};
	char path[PATH_MAX];
	pid_t pid;
	size_t i;
	int status;

	(void)state;
	mkdirp(P("locked"));
	mkfile(P("locked/hidden.txt"), "h");
	mkdirp(P("open"));
	mkfile(P("open/ok.txt"), "k");
	if (geteuid() != 0) {
		assert_int_equal(chmod(P("locked"), 0), 0);
		assert_int_equal(check_permission_denied(), 0);
		return;
	}
	/* root reads anything: drop to nobody in a child that owns the tree */
	for (i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		snprintf(path, sizeof path, "%s%s", root_dir, rel[i]);
		assert_int_equal(lchown(path, NOBODY, NOBODY), 0);
	}
	assert_int_equal(chmod(P("locked"), 0), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
			_exit(100);
		_exit(check_permission_denied());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_non_utf8_name(void **state)
{
	sn_walk_options o = opts(2);
	struct col c;

	(void)state;
	mkfile(P("caf\xe9.txt"), "x");
	mkdirp(P("d\xff\xfe"));
	mkfile(P("d\xff\xfe/new\nline\x1b.txt"), "y");
	col_init(&c);
	assert_int_equal(walk1(&c, root_dir, &o), 0);
	EXPECT(&c, EV_FILE, P("caf\xe9.txt"), NULL, 1);
	EXPECT(&c, EV_FILE, P("d\xff\xfe/new\nline\x1b.txt"), NULL, 1);
	assert_int_equal(count_kind(&c, EV_FILE), 2);
	col_free(&c);
}

static void test_speurneusignore(void **state)
{
	size_t t;

	(void)state;
	mkfile(P(".speurneusignore"),
	       "# generated files\n*.log\n!keep.log\nbuild/\n/top.txt\n**/deep/*.tmp\n"
	       "\\#literal\n");
	mkfile(P("a.log"), "");
	mkfile(P("keep.log"), "");
	mkfile(P("top.txt"), "");
	mkfile(P("#literal"), "");
	mkdirp(P("build"));
	mkfile(P("build/x.txt"), "");
	mkdirp(P("sub"));
	mkfile(P("sub/top.txt"), "");
	mkfile(P("sub/build"), ""); /* a file: "build/" only matches directories */
	mkfile(P("sub/s.txt"), "");
	mkfile(P("sub/a2.log"), "");
	mkfile(P("sub/.speurneusignore"), "s.txt\n!a2.log\n");
	mkfile(P("s.txt"), "");
	mkdirp(P("x"));
	mkdirp(P("x/deep"));
	mkfile(P("x/deep/y.tmp"), "");
	mkfile(P("x/deep/y.txt"), "");

	for (t = 0; t < 3; t++) {
		sn_walk_options o = opts(thread_counts[t]);
		struct col c;

		col_init(&c);
		assert_int_equal(walk1(&c, root_dir, &o), 0);
		EXPECT(&c, EV_FILE, P(".speurneusignore"), NULL, 1);
		EXPECT(&c, EV_FILE, P("sub/.speurneusignore"), NULL, 1);
		EXPECT(&c, EV_FILE, P("keep.log"), NULL, 1);
		EXPECT(&c, EV_FILE, P("sub/top.txt"), NULL, 1);
		EXPECT(&c, EV_FILE, P("sub/build"), NULL, 1);
		EXPECT(&c, EV_FILE, P("sub/a2.log"), NULL, 1);
		EXPECT(&c, EV_FILE, P("s.txt"), NULL, 1);
		EXPECT(&c, EV_FILE, P("x/deep/y.txt"), NULL, 1);
		assert_int_equal(count_kind(&c, EV_FILE), 8);
		EXPECT(&c, EV_EXCLUDED, P("a.log"), NULL, 1);
		EXPECT(&c, EV_EXCLUDED, P("top.txt"), NULL, 1);
		EXPECT(&c, EV_EXCLUDED, P("#literal"), NULL, 1);
		EXPECT(&c, EV_EXCLUDED, P("build"), NULL, 1);
		EXPECT(&c, EV_EXCLUDED, P("sub/s.txt"), NULL, 1);
		EXPECT(&c, EV_EXCLUDED, P("x/deep/y.tmp"), NULL, 1);
		/* the ignored directory is not descended into */
		assert_int_equal(count_kind(&c, EV_EXCLUDED), 6);
		assert_int_equal(count_kind(&c, EV_RECORD), 0);
		col_free(&c);
	}
}

static void test_gitignore(void **state)
{
	sn_walk_options o = opts(2);
	struct col c;

	(void)state;
	mkfile(P(".gitignore"), "secret.txt\nvendor/\n");
	mkfile(P("secret.txt"), "");
	mkdirp(P("vendor"));
	mkfile(P("vendor/v.txt"), "");
	mkfile(P("plain.txt"), "");

	col_init(&c);
	assert_int_equal(walk1(&c, root_dir, &o), 0);
	EXPECT(&c, EV_FILE, P("secret.txt"), NULL, 1);
	EXPECT(&c, EV_FILE, P("vendor/v.txt"), NULL, 1);
	assert_int_equal(count_kind(&c, EV_FILE), 4);
	assert_int_equal(count_kind(&c, EV_EXCLUDED), 0);
	col_free(&c);

	o.respect_gitignore = 1;
	col_init(&c);
	assert_int_equal(walk1(&c, root_dir, &o), 0);
	EXPECT(&c, EV_FILE, P(".gitignore"), NULL, 1);
	EXPECT(&c, EV_FILE, P("plain.txt"), NULL, 1);
	assert_int_equal(count_kind(&c, EV_FILE), 2);
	EXPECT(&c, EV_EXCLUDED, P("secret.txt"), NULL, 1);
	EXPECT(&c, EV_EXCLUDED, P("vendor"), NULL, 1);
	col_free(&c);

	/* .speurneusignore outranks .gitignore in the same directory */
	mkfile(P(".speurneusignore"), "!secret.txt\n");
	col_init(&c);
	assert_int_equal(walk1(&c, root_dir, &o), 0);
	EXPECT(&c, EV_FILE, P("secret.txt"), NULL, 1);
	col_free(&c);
}

static void test_excludes(void **state)
{
	static const char *const ex[] = {"*.bak", "node_modules/", "/build2", "sub/*.tmp",
					 "!keep.bak"};
	char root[PATH_MAX];
	size_t t;

	(void)state;
	mkfile(P("a.bak"), "");
	mkfile(P("keep.bak"), "");
	mkdirp(P("d"));
	mkfile(P("d/a.bak"), "");
	mkdirp(P("d/node_modules"));
	mkfile(P("d/node_modules/m.js"), "");
	mkfile(P("node_modules"), ""); /* a file, not a directory */
	mkdirp(P("build2"));
	mkfile(P("build2/f.txt"), "");
	mkdirp(P("d/build2"));
	mkfile(P("d/build2/f.txt"), "");
	mkdirp(P("sub"));
	mkfile(P("sub/x.tmp"), "");
	mkdirp(P("d/sub"));
	mkfile(P("d/sub/x.tmp"), "");
	/* excludes outrank ignore files */
	mkfile(P(".speurneusignore"), "keep.bak\n");

	snprintf(root, sizeof root, "%s/", root_dir);
	for (t = 0; t < 3; t++) {
		sn_walk_options o = opts(thread_counts[t]);
		struct col c;

		o.excludes = ex;
		o.nexcludes = sizeof ex / sizeof ex[0];
		col_init(&c);
		assert_int_equal(walk1(&c, t == 1 ? root : root_dir, &o), 0);
		EXPECT(&c, EV_FILE, P("keep.bak"), NULL, 1);
		EXPECT(&c, EV_FILE, P("node_modules"), NULL, 1);
		EXPECT(&c, EV_FILE, P("d/build2/f.txt"), NULL, 1);
		EXPECT(&c, EV_FILE, P("d/sub/x.tmp"), NULL, 1);
		EXPECT(&c, EV_FILE, P(".speurneusignore"), NULL, 1);
		assert_int_equal(count_kind(&c, EV_FILE), 5);
		EXPECT(&c, EV_EXCLUDED, P("a.bak"), NULL, 1);
		EXPECT(&c, EV_EXCLUDED, P("d/a.bak"), NULL, 1);
		EXPECT(&c, EV_EXCLUDED, P("d/node_modules"), NULL, 1);
		EXPECT(&c, EV_EXCLUDED, P("build2"), NULL, 1);
		EXPECT(&c, EV_EXCLUDED, P("sub/x.tmp"), NULL, 1);
		assert_int_equal(count_kind(&c, EV_EXCLUDED), 5);
		col_free(&c);
	}
}

static void test_ignore_file_too_large(void **state)
{
	const size_t cap = (size_t)1 << 20, big = cap + 4096;
	sn_walk_options o = opts(1);
	struct col c;
	char *text;
	size_t i;
	int fd;

	(void)state;
	text = malloc(big);
	assert_non_null(text);
	memcpy(text, "*.log\n", 6);
	for (i = 6; i < big; i++)
		text[i] = (i % 64 == 63) ? '\n' : '#';
	/* The cap cuts the line "a.txtx" after "a.txt", which must not
	 * become a rule of its own; "*.txt" lies wholly beyond the cap. */
	memcpy(text + cap - 6, "\na.txtx\n", 8);
	memcpy(text + big - 8, "\n*.txt\n", 7);
	text[big - 1] = '\n';
	fd = open(P(".speurneusignore"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, big), (ssize_t)big);
	close(fd);
	free(text);
	mkfile(P("a.log"), "");
	mkfile(P("a.txt"), "");

	col_init(&c);
	assert_int_equal(walk1(&c, root_dir, &o), 0);
	EXPECT(&c, EV_RECORD, P(".speurneusignore"), "ignore-file-too-large", 1);
	EXPECT(&c, EV_EXCLUDED, P("a.log"), NULL, 1);
	/* the rule beyond the cap is not applied */
	EXPECT(&c, EV_FILE, P("a.txt"), NULL, 1);
	col_free(&c);
}

static void make_flat(const char *dir, size_t n)
{
	char name[32];
	size_t i;
	int dfd, fd;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "f%zu", i);
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "data\n", 5), 5);
		close(fd);
	}
	close(dfd);
}

static void test_stop(void **state)
{
	volatile sig_atomic_t stop;
	size_t t;

	(void)state;
	mkdirp(P("flat"));
	make_flat(P("flat"), 2000);
	for (t = 0; t < 3; t++) {
		sn_walk_options o = opts(thread_counts[t]);
		struct col c;

		/* the stop flag, set from the file callback */
		stop = 0;
		col_init(&c);
		c.stop = &stop;
		c.stop_after = 10;
		assert_int_equal(walk1(&c, root_dir, &o), 0);
		assert_true(c.nfiles >= 10);
		assert_true(c.nfiles <= 10 + thread_counts[t]);
		col_free(&c);

		/* a callback returning nonzero */
		col_init(&c);
		c.fail_after = 5;
		assert_int_equal(walk1(&c, root_dir, &o), 0);
		assert_true(c.nfiles >= 5);
		assert_true(c.nfiles <= 5 + thread_counts[t]);
		col_free(&c);

		/* set before the walk: nothing starts */
		stop = 1;
		col_init(&c);
		c.stop = &stop;
		assert_int_equal(walk1(&c, root_dir, &o), 0);
		assert_int_equal(c.nfiles, 0);
		col_free(&c);
	}
}

#define BIG 20000

static void test_parallel_big_dir(void **state)
{
	sn_walk_options o = opts(2);
	unsigned char *seen;
	struct col c;
	size_t i, prefix;
	char *end;

	(void)state;
	mkdirp(P("big"));
	make_flat(P("big"), BIG);
	seen = calloc(BIG, 1);
	assert_non_null(seen);
	col_init(&c);
	c.read_files = 1;
	assert_int_equal(walk1(&c, root_dir, &o), 0);
	assert_int_equal(c.nfiles, BIG);
	prefix = strlen(P("big/f"));
	for (i = 0; i < c.n; i++) {
		unsigned long k;

		assert_int_equal(c.ev[i].kind, EV_FILE);
		assert_memory_equal(c.ev[i].path, P("big/f"), prefix);
		errno = 0;
		k = strtoul(c.ev[i].path + prefix, &end, 10);
		assert_true(errno == 0 && *end == '\0' && k < BIG);
		assert_int_equal(seen[k], 0);
		seen[k] = 1;
	}
	/* both workers scanned files */
	assert_int_equal(c.workers_mask, 3u);
	col_free(&c);
	free(seen);
}

/* A tiny queue forces inline handling (and its reserve) on a wide, deep tree. */
static void test_small_queue(void **state)
{
	char rel[PATH_MAX];
	size_t t, d, n = 0;

	(void)state;
	mkdirp(P("w"));
	for (d = 0; d < 8; d++) {
		char sub[32];

		snprintf(sub, sizeof sub, "w/s%zu", d);
		mkdirp(P("%s", sub));
		make_flat(P("%s", sub), 50);
	}
	rel[0] = '\0';
	for (d = 0; d < 100; d++) {
		size_t len = strlen(rel);

		snprintf(rel + len, sizeof rel - len, "%sd", d ? "/" : "");
		mkdirp(P("%s", rel));
		mkfile(P("%s/f", rel), "");
		mkdirp(P("%s/x", rel));
		mkfile(P("%s/x/g", rel), "");
	}
	n = 8 * 50 + 200;
	for (t = 0; t < 3; t++) {
		sn_walk_options o = opts(thread_counts[t]);
		struct col c;

		o.queue_max = 1;
		col_init(&c);
		assert_int_equal(walk1(&c, root_dir, &o), 0);
		assert_int_equal(c.nfiles, n);
		EXPECT(&c, EV_FILE, P("%s/x/g", rel), NULL, 1);
		EXPECT(&c, EV_FILE, P("w/s7/f49"), NULL, 1);
		assert_int_equal(count_kind(&c, EV_RECORD), 0);
		col_free(&c);
	}
}

static void test_name_too_long(void **state)
{
	char name[201];
	sn_walk_options o = opts(2);
	struct col c;
	int fd, next, i;

	(void)state;
	memset(name, 'n', 200);
	name[200] = '\0';
	fd = open(root_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	/* 25 levels of 200 bytes: beyond PATH_MAX */
	for (i = 0; i < 25; i++) {
		int f = openat(fd, "f.txt", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		assert_true(f >= 0);
		close(f);
		assert_int_equal(mkdirat(fd, name, 0755), 0);
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(next >= 0);
		close(fd);
		fd = next;
	}
	close(fd);
	col_init(&c);
	assert_int_equal(walk1(&c, root_dir, &o), 0);
	assert_int_equal(count_reason(&c, "name-too-long"), 1);
	/* every file with a usable path was delivered */
	assert_int_equal(c.nfiles, (PATH_MAX - strlen(root_dir)) / 201 + 1);
	col_free(&c);
}

static void test_one_file_system(void **state)
{
	const char *other = make_other("/dev/shm/sn-walk-XXXXXX");
	char path[PATH_MAX];
	struct stat a, b;
	sn_walk_options o = opts(2);
	struct col c;

	(void)state;
	/* Needs a second file system; /dev/shm is tmpfs on Debian. */
	if (!other || stat(other, &a) != 0 || stat(root_dir, &b) != 0 || a.st_dev == b.st_dev)
		skip();
	snprintf(path, sizeof path, "%s/far.txt", other);
	mkfile(path, "x");
	assert_int_equal(symlink(other, P("mnt")), 0);
	mkfile(P("near.txt"), "x");

	o.follow = 1;
	col_init(&c);
	assert_int_equal(walk1(&c, root_dir, &o), 0);
	EXPECT(&c, EV_FILE, P("mnt/far.txt"), NULL, 1);
	col_free(&c);

	o.one_file_system = 1;
	col_init(&c);
	assert_int_equal(walk1(&c, root_dir, &o), 0);
	EXPECT(&c, EV_FILE, P("near.txt"), NULL, 1);
	EXPECT(&c, EV_RECORD, P("mnt"), "other-filesystem", 1);
	assert_int_equal(count_kind(&c, EV_FILE), 1);
	col_free(&c);
}

static void test_invalid_args(void **state)
{
	sn_walk_options o = opts(0);
	sn_walk_callbacks none = {NULL, NULL, NULL};
	const char *roots[] = {"."};
	struct col c;

	(void)state;
	col_init(&c);
	assert_int_equal(sn_walk_run(roots, 1, &o, &callbacks, &c, NULL), SN_EINVAL);
	o.threads = 1;
	assert_int_equal(sn_walk_run(roots, 1, &o, &none, &c, NULL), SN_EINVAL);
	assert_int_equal(sn_walk_run(roots, 1, NULL, &callbacks, &c, NULL), SN_EINVAL);
	assert_int_equal(sn_walk_run(NULL, 0, &o, &callbacks, &c, NULL), 0);
	assert_int_equal(c.n, 0);
	col_free(&c);
}

struct set_arg {
	sn_inode_set *s;
	unsigned base;
	size_t inserted;
};

static void *set_worker(void *p)
{
	struct set_arg *a = p;
	unsigned i;

	/* overlapping ranges: each key must be new to exactly one thread */
	for (i = 0; i < 50000; i++) {
		if (sn_inode_set_insert(a->s, 7, (ino_t)(a->base + i)) == 1)
			a->inserted++;
	}
	return NULL;
}

static void test_inode_set(void **state)
{
	struct set_arg args[4];
	pthread_t th[4];
	sn_inode_set *s = NULL;
	size_t i, total = 0;

	(void)state;
	assert_int_equal(sn_inode_set_new(&s), 0);
	assert_int_equal(sn_inode_set_insert(s, 1, 2), 1);
	assert_int_equal(sn_inode_set_insert(s, 1, 2), 0);
	assert_int_equal(sn_inode_set_insert(s, 2, 1), 1);
	assert_int_equal(sn_inode_set_insert(s, 0, 0), 1);
	assert_int_equal(sn_inode_set_insert(s, 0, 0), 0);
	for (i = 0; i < 100000; i++)
		assert_int_equal(sn_inode_set_insert(s, 3, (ino_t)i), 1);
	for (i = 0; i < 100000; i++)
		assert_int_equal(sn_inode_set_insert(s, 3, (ino_t)i), 0);
	sn_inode_set_free(s);

	assert_int_equal(sn_inode_set_new(&s), 0);
	for (i = 0; i < 4; i++) {
		args[i].s = s;
		args[i].base = (unsigned)i * 25000;
		args[i].inserted = 0;
		assert_int_equal(pthread_create(&th[i], NULL, set_worker, &args[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += args[i].inserted;
	}
	assert_int_equal(total, 3 * 25000 + 50000);
	sn_inode_set_free(s);
	sn_inode_set_free(NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_tree, teardown_tree)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_all_files_once),
		T(test_root_forms),
		T(test_special_files),
		T(test_symlinks),
		T(test_symlink_loop),
		T(test_swapped_directory),
		T(test_symlink_chain),
		T(test_permission_denied),
		T(test_non_utf8_name),
		T(test_speurneusignore),
		T(test_gitignore),
		T(test_excludes),
		T(test_ignore_file_too_large),
		T(test_stop),
		T(test_parallel_big_dir),
		T(test_small_queue),
		T(test_name_too_long),
		T(test_one_file_system),
		cmocka_unit_test(test_invalid_args),
		cmocka_unit_test(test_inode_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
