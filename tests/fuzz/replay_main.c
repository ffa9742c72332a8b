/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Corpus replay for the fuzz targets, for builds without libFuzzer: the same
 * target source is linked with this main() and run by ctest over its seed
 * corpus (and over fixtures), so every input that ever mattered keeps being
 * checked by the ordinary test suite under any compiler.
 *
 * Usage: replay_<target> PATH...  where each PATH is a file or a directory
 * (read recursively, in sorted order so runs are reproducible).  Arguments
 * starting with '-' are libFuzzer flags and are ignored, so a command line
 * written for a libFuzzer binary also works here.
 *
 * A crash or a sanitizer report ends the process and fails the test; an
 * input that cannot be read, a missing path or an empty run fails it too,
 * since a replay that checked nothing must not look like a pass.  Each input
 * is copied into an allocation of exactly its size, so reads past the end
 * are caught by AddressSanitizer as they would be under libFuzzer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Inputs larger than this are not read whole: no target looks past 1 MiB,
 * and a stray large file in a fixture directory must not hold the test. */
#define REPLAY_MAX_INPUT (4u * 1024 * 1024)
/* Directory nesting followed; fixtures are shallow, and a loop through a
 * bind mount must not recurse forever. */
#define REPLAY_MAX_DEPTH 16

typedef struct replay {
	unsigned passed;
	unsigned failed;
	double slowest_s;
	char slowest[4096];
} replay;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int read_whole(const char *path, uint8_t **out, size_t *n)
{
	int fd = -1, rc = -1;
	uint8_t *buf = NULL;
	size_t got = 0;
	struct stat st;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0)
		goto done;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > REPLAY_MAX_INPUT) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto done;
	}
	/* malloc(0) may return NULL; one byte keeps the pointer valid while
	 * the size handed to the target stays 0. */
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf)
		goto done;
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			goto done;
		got += (size_t)k;
	}
	*out = buf;
	*n = got;
	buf = NULL;
	rc = 0;
done:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

static void run_file(replay *r, const char *path)
{
	uint8_t *data = NULL;
	size_t n = 0;
	double t0, dt;

	if (read_whole(path, &data, &n) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		r->failed++;
		return;
	}
	t0 = now_s();
	LLVMFuzzerTestOneInput(data, n);
	dt = now_s() - t0;
	free(data);
	r->passed++;
	if (dt > r->slowest_s) {
		r->slowest_s = dt;
		snprintf(r->slowest, sizeof r->slowest, "%s", path);
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(replay *r, const char *path, unsigned depth);

static void run_dir(replay *r, const char *path, unsigned depth)
{
	DIR *d = NULL;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (depth > REPLAY_MAX_DEPTH) {
		fprintf(stderr, "replay: %s: nested too deeply\n", path);
		r->failed++;
		return;
	}
	d = opendir(path);
	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		r->failed++;
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **nn = realloc(names, nc * sizeof *names);
			if (!nn)
				goto oom;
			names = nn;
			cap = nc;
		}
		names[n] = strdup(e->d_name);
		if (!names[n])
			goto oom;
		n++;
	}
	qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		char child[4096];
		int len = snprintf(child, sizeof child, "%s/%s", path, names[i]);
		if (len < 0 || (size_t)len >= sizeof child) {
			fprintf(stderr, "replay: path too long under %s\n", path);
			r->failed++;
			continue;
		}
		run_path(r, child, depth + 1);
	}
	goto done;
oom:
	fprintf(stderr, "replay: %s: out of memory\n", path);
	r->failed++;
done:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
}

static void run_path(replay *r, const char *path, unsigned depth)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		r->failed++;
		return;
	}
	if (S_ISDIR(st.st_mode))
		run_dir(r, path, depth);
	else if (S_ISREG(st.st_mode))
		run_file(r, path);
	/* Symlinks and special files are not inputs: a FIFO would block. */
}

int main(int argc, char **argv)
{
	replay r = { 0 };
	unsigned npaths = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		npaths++;
		run_path(&r, argv[i], 0);
	}
	if (npaths == 0) {
		fprintf(stderr, "usage: %s FILE-OR-DIR...\n", argv[0]);
		return 2;
	}
	if (r.passed)
		printf("slowest input: %.1f ms (%s)\n", r.slowest_s * 1e3, r.slowest);
	printf("%u passed, %u failed\n", r.passed, r.failed);
	if (r.passed == 0 && r.failed == 0)
		fprintf(stderr, "replay: no inputs found\n");
	return (r.failed || r.passed == 0) ? 1 : 0;
}
