/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The parallel walker.  Every worker takes jobs (a root, a directory or a
 * file) from one bounded LIFO queue, and a worker listing a directory pushes
 * each entry as soon as readdir() returns it, so one big directory feeds all
 * workers at once.  When the queue is full the worker scans the file or
 * descends into the directory itself rather than wait: no worker ever blocks
 * on a push, so the walk cannot deadlock, and the walk is over when the queue
 * is empty and no worker holds a job.
 *
 * Each listed directory gets a reference-counted node holding its (dev, ino),
 * its parsed ignore files and a link to its parent's node.  The chain of
 * nodes gives loop detection (a directory equal to an ancestor) and the
 * stack of ignore files that apply to an entry; a directory's node lives as
 * long as jobs for its subdirectories do.  A global inode set makes sure a
 * directory reachable by two paths is listed once.
 *
 * Directories are opened with O_NOFOLLOW unless reached through a symlink
 * that `follow` allowed, so a directory swapped for a symlink between listing
 * and opening is not followed; special files are reported, never opened.
 */
#include "walk/walk.h"
#include "walk/walk_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/stop.h"
#include "speurneus/error.h"

struct node {
	struct node *parent; /* a reference; NULL for a walk root */
	atomic_uint refs;
	dev_t dev, root_dev;
	ino_t ino;
	size_t rel_off;	     /* paths below this directory become relative here */
	size_t root_rel_off; /* the same for the walk root (--exclude) */
	sn_ignore *ig[2];    /* .speurneusignore, .gitignore; NULL when absent */
};

enum job_kind { JOB_FILE, JOB_DIR, JOB_ROOT };

struct job {
	struct node *parent; /* JOB_DIR: a reference to the listing directory */
	const char *shown;   /* JOB_ROOT: the path as given, used in reports */
	unsigned char kind;
	unsigned char via_symlink; /* JOB_DIR reached by following a symlink */
	size_t len;
	char path[];
};

struct walk {
	const sn_walk_options *o;
	const sn_walk_callbacks *cb;
	void *payload;
	volatile sig_atomic_t *stop;
	const char *const *roots;
	size_t nroots, next_root;
	sn_ignore *excludes;
	sn_inode_set *dirs;

	pthread_mutex_t mu; /* guards the queue, busy, waiting, next_root */
	pthread_cond_t cv;
	struct job **q;
	size_t n, soft, cap; /* soft: the ceiling; cap: ceiling plus reserve */
	unsigned busy, waiting;

	atomic_int halt;
	atomic_int err;
	pthread_mutex_t err_mu;
	char err_msg[256];
};

struct worker {
	struct walk *w;
	unsigned idx;
	unsigned depth; /* directories handled inline on this worker's stack */
	pthread_t th;
};

static void walk_dir(struct worker *wk, struct job *j);

static int halted(struct walk *w)
{
	if (atomic_load_explicit(&w->halt, memory_order_relaxed))
		return 1;
	/* besides a signal handler, another thread (a file callback) may set
	 * the flag */
	if (sn_stop_requested(w->stop)) {
		atomic_store(&w->halt, 1);
		return 1;
	}
	return 0;
}

/* A fatal error on a worker: remember the first one, stop the walk.  The
 * message is kept here because sn_error_last() is per thread. */
static void fatal(struct walk *w, int code)
{
	int zero = 0;

	if (atomic_compare_exchange_strong(&w->err, &zero, code)) {
		pthread_mutex_lock(&w->err_mu);
		snprintf(w->err_msg, sizeof w->err_msg, "%s", sn_error_last());
		pthread_mutex_unlock(&w->err_mu);
	}
	atomic_store(&w->halt, 1);
}

static void record(struct walk *w, const char *path, sn_file_status st, const char *reason,
		   const char *detail)
{
	if (w->cb->record)
		w->cb->record(w->payload, path, st, reason, detail);
}

static const char *errtext(int e)
{
	const char *s = strerrordesc_np(e);

	return s ? s : "unknown error";
}

static struct node *node_get(struct node *nd)
{
	if (nd)
		atomic_fetch_add_explicit(&nd->refs, 1, memory_order_relaxed);
	return nd;
}

/* Iterative, so releasing the last job of a deep chain does not recurse. */
static void node_put(struct node *nd)
{
	while (nd && atomic_fetch_sub_explicit(&nd->refs, 1, memory_order_acq_rel) == 1) {
		struct node *parent = nd->parent;

		sn_ignore_free(nd->ig[0]);
		sn_ignore_free(nd->ig[1]);
		free(nd);
		nd = parent;
	}
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	node_put(j->parent);
	free(j);
}

/* dir + "/" + name, without doubling the '/' after a root such as "/". */
static struct job *job_new(const char *dir, size_t dlen, const char *name, size_t nlen)
{
	size_t sep = dlen > 0 && dir[dlen - 1] != '/';
	size_t len = dlen + sep + nlen;
	struct job *j = malloc(sizeof *j + len + 1);

	if (!j) {
		sn_error_set(SN_ENOMEM, "out of memory for a walk job");
		return NULL;
	}
	memset(j, 0, sizeof *j);
	memcpy(j->path, dir, dlen);
	if (sep)
		j->path[dlen] = '/';
	memcpy(j->path + dlen + sep, name, nlen);
	j->path[len] = '\0';
	j->len = len;
	return j;
}

/* 1 queued, 0 full (the caller handles the job), -1 dropped (stopping). */
static int queue_push(struct walk *w, struct job *j, int use_reserve)
{
	int r = 0;

	pthread_mutex_lock(&w->mu);
	if (halted(w)) {
		r = -1;
	} else if (w->n < w->soft || (use_reserve && w->n < w->cap)) {
		w->q[w->n++] = j;
		r = 1;
		if (w->waiting)
			pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	if (r < 0)
		job_free(j);
	return r;
}

static void call_file(struct worker *wk, const char *path, int is_root)
{
	struct walk *w = wk->w;

	if (halted(w))
		return;
	if (w->cb->file(w->payload, wk->idx, path, is_root))
		atomic_store(&w->halt, 1);
}

static void special_file(struct walk *w, const char *path, mode_t mode)
{
	const char *what = "other";

	if (S_ISFIFO(mode))
		what = "fifo";
	else if (S_ISSOCK(mode))
		what = "socket";
	else if (S_ISCHR(mode))
		what = "character device";
	else if (S_ISBLK(mode))
		what = "block device";
	record(w, path, SN_FILE_SKIPPED, "special-file", what);
}

static void root_error(struct walk *w, const char *path, int e)
{
	struct stat st;

	switch (e) {
	case ENOENT:
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			record(w, path, SN_FILE_SKIPPED, "broken-symlink", NULL);
		else
			record(w, path, SN_FILE_ERROR, "not-found", errtext(e));
		break;
	case ENOTDIR: record(w, path, SN_FILE_ERROR, "not-found", errtext(e)); break;
	case ELOOP: record(w, path, SN_FILE_SKIPPED, "symlink-loop", NULL); break;
	case EACCES: record(w, path, SN_FILE_ERROR, "permission-denied", NULL); break;
	case ENAMETOOLONG: record(w, path, SN_FILE_ERROR, "name-too-long", NULL); break;
	default: record(w, path, SN_FILE_ERROR, "read-error", errtext(e)); break;
	}
}

static void dir_open_error(struct walk *w, const char *path, int e, int followed)
{
	struct stat st;

	switch (e) {
	case ENOENT: record(w, path, SN_FILE_ERROR, "vanished", NULL); break;
	case EACCES: record(w, path, SN_FILE_ERROR, "permission-denied", NULL); break;
	case ELOOP:
		if (followed)
			record(w, path, SN_FILE_SKIPPED, "symlink-loop", NULL);
		else
			record(w, path, SN_FILE_SKIPPED, "symlink", NULL);
		break;
	case ENOTDIR:
		/* Listed as a directory, now something else. */
		if (!followed && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			record(w, path, SN_FILE_SKIPPED, "symlink", NULL);
		else
			record(w, path, SN_FILE_ERROR, "changed", "no longer a directory");
		break;
	case ENAMETOOLONG: record(w, path, SN_FILE_ERROR, "name-too-long", NULL); break;
	default: record(w, path, SN_FILE_ERROR, "read-error", errtext(e)); break;
	}
}

/* Excludes first (like git's command-line patterns they win), then the
 * ignore files from the entry's own directory upwards, .speurneusignore
 * before .gitignore at each level; the first rule set with an opinion
 * decides.  Reports the exclusion itself. */
static int ignored(struct walk *w, const struct node *nd, const char *path, int is_dir)
{
	const struct node *p;
	int r = 0, k;

	if (w->excludes)
		r = sn_ignore_match_rel(w->excludes, path + nd->root_rel_off, is_dir);
	for (p = nd; p && r == 0; p = p->parent) {
		for (k = 0; k < 2 && r == 0; k++) {
			if (p->ig[k])
				r = sn_ignore_match_rel(p->ig[k], path + p->rel_off, is_dir);
		}
	}
	if (r != 1)
		return 0;
	if (w->cb->excluded)
		w->cb->excluded(w->payload, path);
	return 1;
}

static void run_job(struct worker *wk, struct job *j)
{
	struct walk *w = wk->w;
	struct stat st;

	switch (j->kind) {
	case JOB_FILE: call_file(wk, j->path, 0); break;
	case JOB_DIR:
		wk->depth++;
		walk_dir(wk, j);
		wk->depth--;
		break;
	case JOB_ROOT:
		/* Roots follow symlinks, like find -H. */
		if (stat(j->shown, &st) != 0)
			root_error(w, j->shown, errno);
		else if (S_ISREG(st.st_mode))
			call_file(wk, j->shown, 1);
		else if (S_ISDIR(st.st_mode))
			walk_dir(wk, j);
		else
			special_file(w, j->shown, st.st_mode);
		break;
	}
	job_free(j);
}

/* Queue the job, or handle it here when the queue is full. */
static void dispatch(struct worker *wk, struct job *j)
{
	int reserve = j->kind == JOB_DIR && wk->depth >= SN_WALK_INLINE_DEPTH;

	if (queue_push(wk->w, j, reserve) == 0)
		run_job(wk, j);
}

static void load_ignore(struct walk *w, int dfd, const char *dpath, size_t dlen, const char *name,
			sn_ignore **out)
{
	char chunk[8192];
	struct stat st;
	struct job *shown = NULL;
	sn_buf b;
	size_t len;
	int fd, too_large = 0, rc;

	sn_buf_init(&b, SN_WALK_IGNORE_FILE_MAX);
	/* Like git, do not follow a symlinked ignore file; the symlink itself
	 * is reported by the listing. */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		goto done;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto done;
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		size_t room = b.max - b.len;

		if (r < 0 && errno == EINTR)
			continue;
		/* A read error leaves what was read; the file itself is
		 * scanned like any other and its error is reported then. */
		if (r <= 0)
			break;
		if ((size_t)r > room) {
			sn_buf_put(&b, chunk, room);
			too_large = 1;
			break;
		}
		sn_buf_put(&b, chunk, (size_t)r);
		if (b.failed)
			break;
	}
	if (b.failed) {
		fatal(w, sn_error_set(SN_ENOMEM, "out of memory reading an ignore file"));
		goto done;
	}
	len = b.len;
	if (too_large) {
		shown = job_new(dpath, dlen, name, strlen(name));
		if (!shown) {
			fatal(w, SN_ENOMEM);
			goto done;
		}
		record(w, shown->path, SN_FILE_SKIPPED, "ignore-file-too-large", NULL);
		/* A line cut in half would be a different pattern. */
		while (len > 0 && b.p[len - 1] != '\n')
			len--;
	}
	rc = sn_ignore_parse(out, dpath, b.p ? b.p : "", len);
	if (rc < 0) {
		fatal(w, rc);
		goto done;
	}
	if (sn_ignore_count(*out) == 0) {
		sn_ignore_free(*out);
		*out = NULL;
	}
done:
	if (fd >= 0)
		close(fd);
	free(shown);
	sn_buf_free(&b);
}

static void walk_symlink(struct worker *wk, struct node *nd, int dfd, const char *name,
			 struct job *j)
{
	struct walk *w = wk->w;
	struct stat st;
	int e;

	if (!w->o->follow) {
		if (!ignored(w, nd, j->path, 0))
			record(w, j->path, SN_FILE_SKIPPED, "symlink", NULL);
		job_free(j);
		return;
	}
	if (fstatat(dfd, name, &st, 0) != 0) {
		e = errno;
		if (ignored(w, nd, j->path, 0)) {
			/* reported as excluded */
		} else if (e == ENOENT || e == ENOTDIR) {
			record(w, j->path, SN_FILE_SKIPPED, "broken-symlink", NULL);
		} else if (e == ELOOP) {
			record(w, j->path, SN_FILE_SKIPPED, "symlink-loop", NULL);
		} else if (e == EACCES) {
			record(w, j->path, SN_FILE_ERROR, "permission-denied", NULL);
		} else if (e == ENAMETOOLONG) {
			record(w, j->path, SN_FILE_ERROR, "name-too-long", NULL);
		} else {
			record(w, j->path, SN_FILE_ERROR, "read-error", errtext(e));
		}
		job_free(j);
		return;
	}
	if (ignored(w, nd, j->path, S_ISDIR(st.st_mode))) {
		job_free(j);
		return;
	}
	if (S_ISREG(st.st_mode)) {
		j->kind = JOB_FILE;
		dispatch(wk, j);
	} else if (S_ISDIR(st.st_mode)) {
		j->kind = JOB_DIR;
		j->via_symlink = 1;
		j->parent = node_get(nd);
		dispatch(wk, j);
	} else {
		special_file(w, j->path, st.st_mode);
		job_free(j);
	}
}

static void walk_entry(struct worker *wk, struct node *nd, int dfd, const struct job *dir,
		       const char *name, unsigned char type)
{
	struct walk *w = wk->w;
	struct job *j;
	struct stat st;

	j = job_new(dir->path, dir->len, name, strlen(name));
	if (!j) {
		fatal(w, SN_ENOMEM);
		return;
	}
	if (j->len >= PATH_MAX) {
		record(w, j->path, SN_FILE_ERROR, "name-too-long", NULL);
		goto done;
	}
	if (type == DT_UNKNOWN) {
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				record(w, j->path, SN_FILE_ERROR, "vanished", NULL);
			else
				record(w, j->path, SN_FILE_ERROR, "read-error", errtext(errno));
			goto done;
		}
		type = IFTODT(st.st_mode);
	}
	switch (type) {
	case DT_REG:
		if (ignored(w, nd, j->path, 0))
			goto done;
		j->kind = JOB_FILE;
		dispatch(wk, j);
		return;
	case DT_DIR:
		if (ignored(w, nd, j->path, 1))
			goto done;
		j->kind = JOB_DIR;
		j->parent = node_get(nd);
		dispatch(wk, j);
		return;
	case DT_LNK: walk_symlink(wk, nd, dfd, name, j); return;
	default:
		if (ignored(w, nd, j->path, 0))
			goto done;
		st.st_mode = DTTOIF(type);
		special_file(w, j->path, st.st_mode);
		break;
	}
done:
	job_free(j);
}

static int is_ancestor(const struct node *nd, dev_t dev, ino_t ino)
{
	for (; nd; nd = nd->parent) {
		if (nd->dev == dev && nd->ino == ino)
			return 1;
	}
	return 0;
}

/* List one directory: a JOB_DIR, or a JOB_ROOT that stat() showed to be one. */
static void walk_dir(struct worker *wk, struct job *j)
{
	struct walk *w = wk->w;
	int is_root = j->kind == JOB_ROOT;
	const char *shown = is_root ? j->shown : j->path;
	int followed = is_root || j->via_symlink;
	struct node *nd = NULL;
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	int fd, r;

	fd = open(shown,
		  O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY | (followed ? 0 : O_NOFOLLOW));
	if (fd < 0) {
		dir_open_error(w, shown, errno, followed);
		goto done;
	}
	if (fstat(fd, &st) != 0) {
		record(w, shown, SN_FILE_ERROR, "read-error", errtext(errno));
		goto done;
	}
	if (j->parent && w->o->one_file_system && st.st_dev != j->parent->root_dev) {
		record(w, shown, SN_FILE_SKIPPED, "other-filesystem", NULL);
		goto done;
	}
	if (is_ancestor(j->parent, st.st_dev, st.st_ino)) {
		record(w, shown, SN_FILE_SKIPPED,
		       j->via_symlink ? "symlink-loop" : "duplicate-directory", NULL);
		goto done;
	}
	r = sn_inode_set_insert(w->dirs, st.st_dev, st.st_ino);
	if (r < 0) {
		fatal(w, r);
		goto done;
	}
	if (r == 0) {
		record(w, shown, SN_FILE_SKIPPED, "duplicate-directory", NULL);
		goto done;
	}

	nd = calloc(1, sizeof *nd);
	if (!nd) {
		fatal(w, sn_error_set(SN_ENOMEM, "out of memory for a directory node"));
		goto done;
	}
	atomic_init(&nd->refs, 1);
	nd->parent = j->parent; /* the job's reference moves to the node */
	j->parent = NULL;
	nd->dev = st.st_dev;
	nd->ino = st.st_ino;
	nd->root_dev = nd->parent ? nd->parent->root_dev : st.st_dev;
	nd->rel_off = j->len + (j->path[j->len - 1] != '/');
	nd->root_rel_off = nd->parent ? nd->parent->root_rel_off : nd->rel_off;

	load_ignore(w, fd, j->path, j->len, ".speurneusignore", &nd->ig[0]);
	if (w->o->respect_gitignore)
		load_ignore(w, fd, j->path, j->len, ".gitignore", &nd->ig[1]);

	d = fdopendir(fd);
	if (!d) {
		record(w, shown, SN_FILE_ERROR, "read-error", errtext(errno));
		goto done;
	}
	fd = -1;
	while (!halted(w)) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				record(w, shown, SN_FILE_INCOMPLETE, "read-error", errtext(errno));
			break;
		}
		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		walk_entry(wk, nd, dirfd(d), j, de->d_name, de->d_type);
	}
done:
	if (d)
		closedir(d);
	if (fd >= 0)
		close(fd);
	node_put(nd);
}

static struct job *root_job(const char *root)
{
	size_t len = strlen(root);
	struct job *j;

	/* "dir/" lists as "dir/x", never "dir//x"; "/" stays "/". */
	while (len > 1 && root[len - 1] == '/')
		len--;
	j = job_new(root, len, "", 0);
	if (!j)
		return NULL;
	j->kind = JOB_ROOT;
	j->shown = root;
	return j;
}

static void drain_locked(struct walk *w)
{
	while (w->n > 0)
		job_free(w->q[--w->n]);
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct walk *w = wk->w;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct job *j = NULL;
		const char *root = NULL;

		if (halted(w))
			drain_locked(w);
		if (w->n > 0) {
			j = w->q[--w->n];
		} else if (!halted(w) && w->next_root < w->nroots) {
			root = w->roots[w->next_root++];
		} else if (w->busy == 0) {
			pthread_cond_broadcast(&w->cv);
			break;
		} else {
			w->waiting++;
			pthread_cond_wait(&w->cv, &w->mu);
			w->waiting--;
			continue;
		}
		w->busy++;
		pthread_mutex_unlock(&w->mu);
		if (root) {
			j = root_job(root);
			if (!j)
				fatal(w, SN_ENOMEM);
		}
		if (j)
			run_job(wk, j);
		pthread_mutex_lock(&w->mu);
		w->busy--;
		if (w->busy == 0 && w->waiting)
			pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int parse_excludes(struct walk *w)
{
	sn_buf b;
	size_t i;
	int rc = 0;

	sn_buf_init(&b, SN_WALK_IGNORE_FILE_MAX);
	for (i = 0; i < w->o->nexcludes; i++) {
		if (!w->o->excludes[i])
			continue;
		sn_buf_puts(&b, w->o->excludes[i]);
		sn_buf_putc(&b, '\n');
	}
	if (b.failed) {
		rc = sn_error_set(SN_ELIMIT, "--exclude patterns exceed %zu bytes",
				  (size_t)SN_WALK_IGNORE_FILE_MAX);
		goto done;
	}
	if (b.len == 0)
		goto done;
	rc = sn_ignore_parse(&w->excludes, "", b.p, b.len);
	if (rc == 0 && sn_ignore_count(w->excludes) == 0) {
		sn_ignore_free(w->excludes);
		w->excludes = NULL;
	}
done:
	sn_buf_free(&b);
	return rc;
}

int sn_walk_run(const char *const *roots, size_t nroots, const sn_walk_options *o,
		const sn_walk_callbacks *cb, void *payload, volatile sig_atomic_t *stop)
{
	struct walk w;
	struct worker *wk = NULL;
	unsigned started = 0, i;
	int rc = 0, have_mu = 0, have_cv = 0, have_err_mu = 0;

	if (!o || !cb || !cb->file || (!roots && nroots) || (o->nexcludes && !o->excludes))
		return sn_error_set(SN_EINVAL, "sn_walk_run: invalid argument");
	if (o->threads < 1 || o->threads > SN_WALK_THREADS_MAX)
		return sn_error_set(SN_EINVAL, "walker threads must be 1..%d", SN_WALK_THREADS_MAX);
	memset(&w, 0, sizeof w);
	w.o = o;
	w.cb = cb;
	w.payload = payload;
	w.stop = stop;
	w.roots = roots;
	w.nroots = nroots;
	atomic_init(&w.halt, 0);
	atomic_init(&w.err, 0);
	w.soft = o->queue_max ? o->queue_max : SN_WALK_QUEUE_DEFAULT;
	if (w.soft > SN_WALK_QUEUE_LIMIT)
		w.soft = SN_WALK_QUEUE_LIMIT;
	w.cap = w.soft * 2;
	w.q = calloc(w.cap, sizeof *w.q);
	if (!w.q) {
		rc = sn_error_set(SN_ENOMEM, "out of memory for the walk queue");
		goto done;
	}
	rc = parse_excludes(&w);
	if (rc < 0)
		goto done;
	rc = sn_inode_set_new(&w.dirs);
	if (rc < 0)
		goto done;
	if (pthread_mutex_init(&w.mu, NULL) != 0) {
		rc = sn_error_set(SN_ENOMEM, "cannot create a mutex");
		goto done;
	}
	have_mu = 1;
	if (pthread_mutex_init(&w.err_mu, NULL) != 0) {
		rc = sn_error_set(SN_ENOMEM, "cannot create a mutex");
		goto done;
	}
	have_err_mu = 1;
	if (pthread_cond_init(&w.cv, NULL) != 0) {
		rc = sn_error_set(SN_ENOMEM, "cannot create a condition variable");
		goto done;
	}
	have_cv = 1;
	wk = calloc(o->threads, sizeof *wk);
	if (!wk) {
		rc = sn_error_set(SN_ENOMEM, "out of memory for walker threads");
		goto done;
	}
	for (i = 0; i < o->threads; i++) {
		int e;

		wk[i].w = &w;
		wk[i].idx = i;
		e = pthread_create(&wk[i].th, NULL, worker_main, &wk[i]);
		if (e != 0) {
			rc = sn_error_set(SN_ENOMEM, "cannot start walker thread: %s", errtext(e));
			atomic_store(&w.halt, 1);
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(wk[i].th, NULL);
	if (rc == 0 && atomic_load(&w.err) != 0)
		rc = sn_error_set(atomic_load(&w.err), "%s", w.err_msg);
done:
	if (w.q)
		drain_locked(&w);
	free(wk);
	if (have_cv)
		pthread_cond_destroy(&w.cv);
	if (have_err_mu)
		pthread_mutex_destroy(&w.err_mu);
	if (have_mu)
		pthread_mutex_destroy(&w.mu);
	sn_inode_set_free(w.dirs);
	sn_ignore_free(w.excludes);
	free(w.q);
	return rc;
}
