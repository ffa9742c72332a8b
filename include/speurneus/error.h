/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Error codes and the per-thread last-error message.
 *
 * Every library function returns 0 on success or a negative SN_E* code.
 * A human-readable detail for the most recent failure on the calling thread
 * is available from sn_error_last(); it never contains scanned content.
 */
#ifndef SPEURNEUS_ERROR_H
#define SPEURNEUS_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum {
	SN_OK = 0,
	SN_ENOMEM = -1,  /* allocation failed or a buffer ceiling was reached */
	SN_EINVAL = -2,  /* invalid argument or option */
	SN_EIO = -3,     /* read or write failure (see errno-derived message) */
	SN_ERULES = -4,  /* rule file or rule set problem */
	SN_ELIMIT = -5,  /* a configured limit was reached */
	SN_ESTOP = -6,   /* the scan was interrupted (SIGINT/SIGTERM) */
	SN_ENOTFOUND = -7,
	SN_EFORMAT = -8, /* malformed input data (key file, data table, ...) */
	SN_ECALLBACK = -9 /* a user callback asked to stop */
};

/* Message for the last error on this thread; never NULL ("" if none).
 * Borrowed: valid until the next failing call on the same thread. */
const char *sn_error_last(void);

/* Set the message for the calling thread (printf-style); returns `code`. */
int sn_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Short constant name for a code, e.g. "SN_ENOMEM". */
const char *sn_error_name(int code);

#ifdef __cplusplus
}
#endif
#endif
