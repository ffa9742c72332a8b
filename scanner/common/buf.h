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

#include <string.h>

void sn_buf_init(sn_buf *b, size_t max);
void sn_buf_free(sn_buf *b);
void sn_buf_reset(sn_buf *b); /* len = 0, failed = 0; keeps memory */
/* Make room for `n` more bytes now (0, or -1 and failed set). */
int sn_buf_reserve(sn_buf *b, size_t n);
void sn_buf_put_slow(sn_buf *b, const char *s, size_t n);
void sn_buf_puts(sn_buf *b, const char *s);

/* Appends are on the hot path of every record: the common case (room left,
 * not failed) is inline. */
static inline void sn_buf_put(sn_buf *b, const char *s, size_t n)
{
	if (!b->failed && b->len + n < b->cap) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
		b->p[b->len] = '\0';
		return;
	}
	sn_buf_put_slow(b, s, n);
}

static inline void sn_buf_putc(sn_buf *b, char c)
{
	if (!b->failed && b->len + 1 < b->cap) {
		b->p[b->len++] = c;
		b->p[b->len] = '\0';
		return;
	}
	sn_buf_put_slow(b, &c, 1);
}
void sn_buf_printf(sn_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
