/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Per-thread last-error message (see speurneus/error.h). */
#include "speurneus/error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_msg[512];

const char *sn_error_last(void)
{
	return last_msg;
}

int sn_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_msg, sizeof last_msg, fmt, ap);
	va_end(ap);
	return code;
}

const char *sn_error_name(int code)
{
	switch (code) {
	case SN_OK: return "SN_OK";
	case SN_ENOMEM: return "SN_ENOMEM";
	case SN_EINVAL: return "SN_EINVAL";
	case SN_EIO: return "SN_EIO";
	case SN_ERULES: return "SN_ERULES";
	case SN_ELIMIT: return "SN_ELIMIT";
	case SN_ESTOP: return "SN_ESTOP";
	case SN_ENOTFOUND: return "SN_ENOTFOUND";
	case SN_EFORMAT: return "SN_EFORMAT";
	case SN_ECALLBACK: return "SN_ECALLBACK";
	default: return "SN_E?";
	}
}
