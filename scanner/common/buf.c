/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Growable byte buffer with a ceiling (see buf.h). */
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sn_buf_init(sn_buf *b, size_t max)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->max = max;
	b->failed = 0;
}

void sn_buf_free(sn_buf *b)
{
	free(b->p);
	sn_buf_init(b, b->max);
}

void sn_buf_reset(sn_buf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->p)
		b->p[0] = '\0';
}

static int grow(sn_buf *b, size_t need)
{
	if (b->failed)
		return -1;
	if (need > b->max || need < b->len) {
		b->failed = 1;
		return -1;
	}
	if (need + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need + 1)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->failed = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

int sn_buf_reserve(sn_buf *b, size_t n)
{
	return grow(b, b->len + n);
}

void sn_buf_put_slow(sn_buf *b, const char *s, size_t n)
{
	if (grow(b, b->len + n) < 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void sn_buf_puts(sn_buf *b, const char *s)
{
	sn_buf_put(b, s, strlen(s));
}


void sn_buf_printf(sn_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	if ((size_t)n < sizeof small) {
		sn_buf_put(b, small, (size_t)n);
		return;
	}
	if (grow(b, b->len + (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}
