/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Internal to the text stage: the byte-to-UTF-8 decoder shared by the
 * streaming code.  It works on whatever slice of raw bytes is at hand and
 * leaves an incomplete trailing sequence (at most 3 bytes) unconsumed unless
 * told that no more input follows, so a character split across reads is
 * decoded exactly as if it had arrived in one piece.
 */
#ifndef SN_TEXT_DECODE_H
#define SN_TEXT_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "text/text.h"

/* Most UTF-8 bytes one decoding step can write (one code point). */
#define SN_DECODE_MAX_OUT 4

/*
 * Decode in[0..n) as `enc` into out[0..cap).  Decoding stops when fewer than
 * SN_DECODE_MAX_OUT bytes of output space are left, when the input is used
 * up, or (final == 0) at an incomplete sequence at the end of the input.
 * With final != 0 every input byte is consumed.  Returns the number of input
 * bytes consumed; *produced is the number of output bytes written.  The output
 * is always valid UTF-8 and never splits a character.
 */
size_t sn_text_decode(sn_encoding enc, const uint8_t *in, size_t n, int final, char *out,
		      size_t cap, size_t *produced);

#endif
