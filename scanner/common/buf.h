/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A growable byte buffer with a ceiling: growing past `max` marks the buffer
 * failed instead of allocating without bound (every growable buffer in the
 * project has a maximum size).  Appends after a failure are ignored, so
 * callers check `failed` once at the end.
 */
#ifndef SN_COMMON_BUF_H
#define SN_COMMON_BUF_H

#include <stddef.h>

typedef struct sn_buf {
	char *p;
	size_t len, cap, max;
	int failed;
} sn_buf;

void sn_buf_init(sn_buf *b, size_t max);
void sn_buf_free(sn_buf *b);
void sn_buf_reset(sn_buf *b); /* len = 0, failed = 0; keeps memory */
void sn_buf_put(sn_buf *b, const char *s, size_t n);
void sn_buf_puts(sn_buf *b, const char *s);
void sn_buf_putc(sn_buf *b, char c);
void sn_buf_printf(sn_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
