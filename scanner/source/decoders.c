/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The table of document decoders (see decoder.h) and the helpers they share.
 * Adding a format is one decode_<name>.c and one line in `decoders` below;
 * the first decoder whose accepts() says yes takes the unit.
 */
#include "source/decoder.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "speurneus/error.h"

static const sn_decoder *const decoders[] = {
	&sn_decoder_pdf,
	&sn_decoder_sqlite,
	&sn_decoder_mail,
	&sn_decoder_ooxml,
	&sn_decoder_odf,
	NULL
};

const sn_decoder *sn_decoder_find(const sn_type *ty, const uint8_t *head, size_t n)
{
	for (size_t i = 0; decoders[i]; i++)
		if (decoders[i]->accepts(ty, head, n))
			return decoders[i];
	return NULL;
}

int sn_doc_buffer(const sn_doc *d, uint8_t **out, size_t *len)
{
	int too_large = 0;
	int rc = sn_input_buffer_all(d->head, d->head_len, d->in, d->b->lim->max_buffer, out, len,
				     &too_large);
	if (rc == SN_ENOMEM)
		return rc;
	if (rc < 0) {
		/* the reader said why when it stopped (a limit, damage); a
		 * plain read error is the driver's to record */
		sn_input_stop(d->in, SN_FILE_INCOMPLETE, "read-error", strerror(errno ? errno : EIO));
		return 1;
	}
	if (too_large) {
		free(*out);
		*out = NULL;
		d->cb->record(d->payload, NULL, SN_FILE_INCOMPLETE, "too-large-to-buffer",
			      "this format must be held in memory; over --max-buffer");
		return 1;
	}
	return 0;
}

static ssize_t mem_read(void *ctx, void *buf, size_t n)
{
	sn_mem_input *m = ctx;
	size_t k = m->n - m->off;
	if (k > n)
		k = n;
	memcpy(buf, m->p + m->off, k);
	m->off += k;
	m->in.produced += k;
	return (ssize_t)k;
}

void sn_mem_input_init(sn_mem_input *m, const void *p, size_t n, const char *name, int is_text)
{
	memset(m, 0, sizeof *m);
	m->p = p;
	m->n = n;
	m->in.read = mem_read;
	m->in.ctx = m;
	m->in.fd = -1;
	m->in.name = name;
	m->in.is_text = is_text;
}

int sn_doc_text(const sn_doc *d, const char *name, const void *text, size_t n)
{
	sn_mem_input m;
	sn_mem_input_init(&m, text, n, name, 1);
	return d->cb->member(d->payload, name, &m.in);
}

int sn_doc_nested(const sn_doc *d, const char *name, const void *p, size_t n)
{
	sn_mem_input m;
	sn_mem_input_init(&m, p, n, name, 0);
	return d->cb->member(d->payload, name, &m.in);
}

const char *sn_doc_check(sn_doc *d, uint64_t add, uint64_t consumed)
{
	d->produced += add;
	d->b->total_produced += add;
	return sn_budget_check(d->b, d->produced, consumed, 0);
}

const char *sn_doc_check_part(sn_doc *d, uint64_t add, uint64_t produced, uint64_t consumed)
{
	d->produced += add;
	d->b->total_produced += add;
	return sn_budget_check(d->b, produced, consumed, 0);
}
