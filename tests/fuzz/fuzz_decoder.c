/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target: one untrusted document straight into one document decoder
 * (office XML, ODF, PDF, mail, SQLite), built once per decoder with
 * SN_FUZZ_DECODER naming it (fuzz_ooxml, fuzz_pdf, ...).  Going past the
 * sniffer means every mutation reaches the decoder, not only those that
 * keep the format's magic bytes.
 *
 * The callbacks do what the scan driver does with what a decoder hands
 * over, minus the matching: text parts and nested units are read to their
 * end (streaming decoders do their parsing while being read), table cells
 * are touched byte by byte, and ledger records are checked for a reason.
 * Limits are lowered so that no input, however hostile, holds the fuzzer
 * for long; the ratio limit keeps its default, which is what stops bombs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/decoder.h"
#include "speurneus/error.h"

#ifndef SN_FUZZ_DECODER
#error "build with -DSN_FUZZ_DECODER=sn_decoder_<name>"
#endif

extern const sn_decoder SN_FUZZ_DECODER;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT (1024 * 1024)

static volatile uint8_t sink_byte;

static int fz_member(void *payload, const char *name, sn_input *in)
{
	static uint8_t buf[64 * 1024];
	(void)payload;
	if (!name)
		abort();
	sink_byte ^= (uint8_t)name[0];
	for (;;) {
		ssize_t k = in->read(in->ctx, buf, sizeof buf);
		if (k <= 0)
			break;
		sink_byte ^= buf[k - 1];
	}
	return 0;
}

static void fz_record(void *payload, const char *name, sn_file_status st, const char *reason,
		      const char *detail)
{
	(void)payload;
	if (!reason || !*reason || st == SN_FILE_SCANNED)
		abort();
	sink_byte ^= (uint8_t)(name ? name[0] : 0) ^ (uint8_t)(detail ? detail[0] : 0);
}

static int open_tables;

static int fz_table_begin(void *payload, const char *name, const char *const *cols,
			  size_t ncols)
{
	(void)payload;
	if (open_tables++ || !name)
		abort();
	for (size_t i = 0; cols && i < ncols; i++)
		sink_byte ^= (uint8_t)(cols[i] ? cols[i][0] : 0);
	return 0;
}

static int fz_row(void *payload, int64_t row, const char *const *cells, const size_t *lens,
		  size_t ncells)
{
	(void)payload;
	(void)row;
	if (!open_tables)
		abort();
	for (size_t i = 0; i < ncells; i++)
		for (size_t j = 0; cells[i] && j < lens[i]; j++)
			sink_byte ^= (uint8_t)cells[i][j];
	return 0;
}

static int fz_table_end(void *payload)
{
	(void)payload;
	if (open_tables-- != 1)
		abort();
	return 0;
}

static const sn_doc_cb cbs = { fz_member, fz_record, fz_table_begin, fz_row, fz_table_end };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		return 0;
	sn_limits lim = SN_LIMITS_INIT;
	lim.max_member_size = 16u << 20;
	lim.max_total_size = 64u << 20;
	lim.max_buffer = 8u << 20;
	lim.max_entries = 10000;
	lim.max_time_s = 10;
	sn_budget b;
	volatile sig_atomic_t stop = 0;
	sn_budget_init(&b, &lim, &stop);
	size_t hn = size < 4096 ? size : 4096;
	sn_mem_input rest;
	sn_mem_input_init(&rest, data + hn, size - hn, "fuzz", 0);
	sn_type ty;
	memset(&ty, 0, sizeof ty);
	sn_doc d;
	memset(&d, 0, sizeof d);
	d.head = data;
	d.head_len = hn;
	d.in = &rest.in;
	d.type = &ty;
	d.b = &b;
	d.cb = &cbs;
	open_tables = 0;
	int rc = SN_FUZZ_DECODER.decode(&d);
	if (open_tables)
		abort(); /* a table begun was never ended */
	if (rc < 0 && rc != SN_ENOMEM && rc != SN_ESTOP) {
		fprintf(stderr, "fuzz: decoder failed: %s (%s)\n", sn_error_name(rc),
			sn_error_last());
		abort();
	}
	return 0;
}
