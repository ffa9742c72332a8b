/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Names of the shared enums (see speurneus/types.h). */
#include "speurneus/error.h"
#include "speurneus/types.h"

#include <string.h>

const char *sn_confidence_name(sn_confidence c)
{
	switch (c) {
	case SN_CONF_LOW: return "low";
	case SN_CONF_MEDIUM: return "medium";
	case SN_CONF_HIGH: return "high";
	default: return "none";
	}
}

int sn_confidence_parse(sn_confidence *out, const char *name)
{
	static const struct { const char *n; sn_confidence c; } t[] = {
		{ "low", SN_CONF_LOW }, { "medium", SN_CONF_MEDIUM },
		{ "high", SN_CONF_HIGH }, { "none", SN_CONF_NONE },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (strcmp(name, t[i].n) == 0) {
			*out = t[i].c;
			return 0;
		}
	}
	return SN_EINVAL;
}

const char *sn_file_status_name(sn_file_status s)
{
	switch (s) {
	case SN_FILE_SCANNED: return "scanned";
	case SN_FILE_SKIPPED: return "skipped";
	case SN_FILE_INCOMPLETE: return "incomplete";
	case SN_FILE_ERROR: return "error";
	}
	return "error";
}
