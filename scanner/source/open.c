/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Safe opening of one job (see source.h).
 *
 * The walker's listing is stale by the time a worker opens an entry: the name
 * may now be a FIFO, a socket, a symlink or gone.  Opening non-blocking
 * without following the last component and then checking the descriptor
 * (not the name) means a swapped-in special file is reported, never read or
 * waited on.  Every failure becomes a ledger outcome with a stable reason.
 *
 * O_NOCTTY is added to the documented flags: on a terminal device swapped in
 * for a file, it keeps the scanner from acquiring a controlling terminal
 * before fstat rejects the descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/source.h"
#include "speurneus/error.h"

static void fail(sn_open_result *out, sn_file_status status, const char *reason, int err)
{
	out->fd = -1;
	out->status = status;
	out->reason = reason;
	out->err = err;
	sn_error_set(SN_EIO, "open: %s (%s)", reason, err ? strerror(err) : "not a regular file");
}

static void open_failed(sn_open_result *out, int err, int follow)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR: /* a directory on the path was replaced or removed */
		fail(out, SN_FILE_ERROR, "vanished", err);
		break;
	case EACCES:
	case EPERM:
		fail(out, SN_FILE_ERROR, "permission-denied", err);
		break;
	case ELOOP:
		/* with O_NOFOLLOW, ELOOP means the last component is a link */
		if (follow)
			fail(out, SN_FILE_SKIPPED, "symlink-loop", err);
		else
			fail(out, SN_FILE_SKIPPED, "symlink", err);
		break;
	case ENAMETOOLONG:
		fail(out, SN_FILE_ERROR, "name-too-long", err);
		break;
	case ENXIO:  /* a socket, or a device without a driver */
	case ENODEV:
		fail(out, SN_FILE_SKIPPED, "special-file", err);
		break;
	default:
		fail(out, SN_FILE_ERROR, "open-error", err);
		break;
	}
}

void sn_source_open(sn_open_result *out, const char *path, int follow)
{
	int flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOATIME | O_NOCTTY;
	int fd;

	memset(out, 0, sizeof *out);
	out->fd = -1;
	if (!follow)
		flags |= O_NOFOLLOW;
	fd = open(path, flags);
	if (fd < 0 && errno == EPERM) {
		/* O_NOATIME is refused on files we do not own */
		flags &= ~O_NOATIME;
		fd = open(path, flags);
	}
	if (fd < 0) {
		open_failed(out, errno, follow);
		goto done;
	}
	if (fstat(fd, &out->st) < 0) {
		fail(out, SN_FILE_ERROR, "open-error", errno);
		goto done;
	}
	if (!S_ISREG(out->st.st_mode)) {
		if (S_ISDIR(out->st.st_mode))
			fail(out, SN_FILE_ERROR, "open-error", EISDIR);
		else
			fail(out, SN_FILE_SKIPPED, "special-file", 0);
		goto done;
	}
	/* O_NONBLOCK (which kept a FIFO from blocking the open) stays set:
	 * reads of a regular file ignore it, which saves two fcntl calls per
	 * file on a tree of small files; a read that still says EAGAIN (Linux
	 * before 5.15 with mandatory locks) clears it then (the scan's reader).
	 * Read-ahead advice only pays on files that take more than a few
	 * reads. */
	if (out->st.st_size >= SN_SOURCE_ADVISE_MIN)
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	out->fd = fd;
	out->status = SN_FILE_SCANNED;
	out->reason = NULL;
	out->err = 0;
	fd = -1;
done:
	if (fd >= 0) {
		close(fd);
		memset(&out->st, 0, sizeof out->st);
	}
}
