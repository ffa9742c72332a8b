/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Internals shared by the walk stage's files: its compile-time ceilings and
 * the relative-path entry point of the ignore matcher.  The walker already
 * knows where each ignore file's directory ends in a walked path and never
 * descends into an ignored directory, so it skips the base-prefix and
 * parent-directory work that the public sn_ignore_match() does.
 */
#ifndef SN_WALK_WALK_INTERNAL_H
#define SN_WALK_WALK_INTERNAL_H

#include <stddef.h>

#include "walk/walk.h"

/* Bytes read from one .speurneusignore / .gitignore; the rest is reported as
 * ignore-file-too-large and left out (real ignore files are a few KiB). */
#define SN_WALK_IGNORE_FILE_MAX ((size_t)1 << 20)

/* Queue ceiling when sn_walk_options.queue_max is 0, and the largest accepted
 * value (the queue array is allocated up front). */
#define SN_WALK_QUEUE_DEFAULT 4096
#define SN_WALK_QUEUE_LIMIT ((size_t)1 << 20)

/* A worker handling directories inline because the queue is full keeps one
 * open directory per level; past this depth a directory job may use the
 * queue's reserve (as large again as the ceiling) instead, so a deep tree
 * cannot exhaust file descriptors or stack. */
#define SN_WALK_INLINE_DEPTH 32

#define SN_WALK_THREADS_MAX 1024

/* Rules in one parsed ignore text (a 1 MiB file has far fewer). */
#define SN_IGNORE_RULES_MAX ((size_t)1 << 20)

/* Entries in one sn_inode_set (about 24 bytes each, at most half full). */
#define SN_INODE_SET_MAX ((size_t)1 << 27)

/* Match `rel`, a path relative to the ignore text's directory (no leading
 * '/'), against the rules only: the last matching rule decides.  Returns 1
 * ignored, -1 re-included by a negation, 0 no rule applies.  Thread-safe. */
int sn_ignore_match_rel(const sn_ignore *ig, const char *rel, int is_dir);

/* Number of rules parsed (0 for a text of comments and blank lines). */
size_t sn_ignore_count(const sn_ignore *ig);

#endif
