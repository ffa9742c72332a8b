/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The walk stage: a parallel directory traversal in which every worker both
 * walks and scans, so a tree of 100,000 small files keeps all cores busy.
 *
 * Jobs (directories and files) go into a shared bounded LIFO queue; when it is
 * full a worker handles the job itself instead of waiting, so the walk can
 * never deadlock and memory stays bounded.  The walk ends when the queue is
 * empty and no worker holds a job.
 *
 * Applied here: regular files only (d_type / lstat; special files are ledger
 * records), symlinks not followed unless `follow` (then loop-safe: a directory
 * that is its own ancestor is reported as symlink-loop), --one-file-system,
 * --exclude globs and .speurneusignore files (gitignore syntax), and
 * .gitignore when `respect_gitignore` is set.
 */
#ifndef SN_WALK_WALK_H
#define SN_WALK_WALK_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "speurneus/types.h"

typedef struct sn_walk_options {
	unsigned threads;          /* >= 1 */
	int follow;                /* follow symlinks (loop-safe) */
	int one_file_system;       /* do not cross into other file systems */
	int respect_gitignore;     /* honour .gitignore files too */
	const char *const *excludes; /* gitignore-syntax globs from --exclude */
	size_t nexcludes;
	size_t queue_max;          /* queue ceiling (default 4096 when 0) */
} sn_walk_options;

typedef struct sn_walk_callbacks {
	/* A file to scan (a regular file or, for `follow`, a symlink to one;
	 * the callee opens it with sn_source_open and decides).  `worker` is
	 * 0..threads-1, stable for the calling thread, so per-worker state can
	 * be indexed by it.  `is_root` is 1 for a path given on the command
	 * line.  Return nonzero to stop the whole walk. */
	int (*file)(void *payload, unsigned worker, const char *path, int is_root);
	/* A path that is not scanned and belongs in the ledger
	 * (special-file, symlink, symlink-loop, broken-symlink,
	 * other-filesystem, permission-denied, vanished, read-error,
	 * not-found, name-too-long ...). Called from any worker thread. */
	void (*record)(void *payload, const char *path, sn_file_status status,
		       const char *reason, const char *detail);
	/* A path left out by --exclude or an ignore file (summary count). */
	void (*excluded)(void *payload, const char *path);
} sn_walk_callbacks;

/* Walk `roots` (files or directories).  Blocks until done.  `stop` is polled
 * between jobs; when it becomes nonzero the walk drains without starting new
 * jobs.  Returns 0, or a negative SN_E* code on a fatal error (thread
 * creation, allocation). */
int sn_walk_run(const char *const *roots, size_t nroots,
		const sn_walk_options *o, const sn_walk_callbacks *cb,
		void *payload, volatile sig_atomic_t *stop);

/* Thread-safe set of (device, inode) pairs: hard links are scanned once. */
typedef struct sn_inode_set sn_inode_set;
int sn_inode_set_new(sn_inode_set **out);
void sn_inode_set_free(sn_inode_set *s);
/* 1 if newly inserted, 0 if already present, negative on error. */
int sn_inode_set_insert(sn_inode_set *s, dev_t dev, ino_t ino);

/* gitignore-style matching, exposed for unit tests. */
typedef struct sn_ignore sn_ignore;
/* Parse gitignore text whose patterns are relative to directory `base`
 * (a path prefix as walked, "" for the root). */
int sn_ignore_parse(sn_ignore **out, const char *base, const char *text, size_t n);
void sn_ignore_free(sn_ignore *ig);
/* Match `path` (as walked) against the rules: 1 ignored, -1 explicitly
 * re-included by a negation, 0 no rule applies. */
int sn_ignore_match(const sn_ignore *ig, const char *path, int is_dir);

#endif
