/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Fuzz target: one untrusted file through every decoder, as a scan reads it
 * (type sniffing, compressed streams and archives nested to any depth, the
 * text stage and the matcher), by way of sn_scan_buffer.
 *
 * Everything that does not depend on the input is set up once per process:
 * the shipped rules, a fixed key, and an NDJSON sink writing to /dev/null, so
 * the serializer sees every finding and ledger record too.  The container
 * limits are lowered from the defaults so that no single input, however
 * hostile (a bomb, a deep nesting chain), can hold the fuzzer for long; the
 * ratio limit keeps its default, since that is what stops bombs in real use.
 *
 * The input is hostile by design, so the only failure that is not a crash is
 * a fatal error from the scan: problems with one input must end up in the
 * coverage ledger, never as an error for the whole run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/sink.h"
#include "speurneus/error.h"
#include "speurneus/key.h"
#include "speurneus/rules.h"
#include "speurneus/scan.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Seeds are a few KiB; an input past this reaches nothing a smaller one
 * cannot, and only slows the run down. */
#define FUZZ_MAX_INPUT (1024 * 1024)

static sn_key key;
static sn_ruleset *rules;
static sn_sink *sink;
static FILE *devnull;
static sn_scan_options opts = SN_SCAN_OPTIONS_INIT;

static void fail(const char *what, int rc)
{
	fprintf(stderr, "fuzz_source: %s: %s (%s)\n", what, sn_error_name(rc), sn_error_last());
	abort();
}

static void diag(const char *file, unsigned line, unsigned col, const char *msg, void *p)
{
	(void)p;
	fprintf(stderr, "%s:%u:%u: %s\n", file, line, col, msg);
}

static void finish(void)
{
	if (sink) {
		sn_sink_end(sink, 0.0, 0);
		sn_sink_close(sink, 1);
	}
	if (devnull)
		fclose(devnull);
	sn_ruleset_free(rules);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dirs[] = { SN_SOURCE_DIR "/rules" };
	static const char *const roots[] = { "fuzz" };
	sn_sink_options so = { 0 };
	sn_scan_header h = { 0 };
	int rc;

	(void)argc;
	(void)argv;
	if ((rc = sn_crypto_init()) < 0)
		fail("sn_crypto_init", rc);
	memset(key.k, 0x5a, sizeof key.k);
	sn_key_compute_id(&key);
	rc = sn_ruleset_load(&rules, dirs, 1, SN_SOURCE_DIR "/rules/data", diag, NULL);
	if (rc < 0)
		fail("loading the shipped rules", rc);
	devnull = fopen("/dev/null", "we");
	if (!devnull)
		fail("opening /dev/null", SN_EIO);
	so.format = SN_FMT_NDJSON;
	so.stream = devnull;
	if ((rc = sn_sink_open(&sink, &so)) < 0)
		fail("sn_sink_open", rc);
	h.tool_version = "fuzz";
	h.rules_digest = sn_ruleset_digest(rules);
	h.key_id = key.id;
	h.host = "fuzz";
	h.roots = roots;
	h.nroots = 1;
	h.threads = 1;
	h.min_confidence = sn_confidence_name(SN_CONF_LOW);
	if ((rc = sn_sink_begin(sink, &h)) < 0)
		fail("sn_sink_begin", rc);
	atexit(finish);

	opts.threads = 1;
	opts.key = &key;
	opts.rules = rules;
	opts.min_confidence = SN_CONF_LOW;
	opts.limits.max_member_size = 64ull << 20;
	opts.limits.max_total_size = 256ull << 20;
	opts.limits.max_buffer = 16ull << 20;
	opts.limits.max_time_s = 10;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sn_sink_stats st;
	int rc;

	if (size > FUZZ_MAX_INPUT)
		return -1;
	rc = sn_scan_buffer(&opts, sink, data, size, "fuzz.bin");
	if (rc < 0)
		fail("sn_scan_buffer returned a fatal error", rc);
	/* Writes the pending NDJSON batch, so the serializer runs on this
	 * input's records while the input is still the one being blamed. */
	sn_sink_get_stats(sink, &st);
	if (st.write_failed)
		fail("writing to /dev/null failed", SN_EIO);
	return 0;
}
