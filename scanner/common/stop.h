/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The stop flag: set by a signal handler (SIGINT, SIGTERM) and read by every
 * thread of a scan between units, chunks and archive members.  Both sides use
 * atomic accesses, so a worker reading the flag while the handler sets it is
 * not a data race; the flag stays a sig_atomic_t, which a handler may store.
 */
#ifndef SN_COMMON_STOP_H
#define SN_COMMON_STOP_H

#include <signal.h>

/* Whether the flag at `stop` is set; a NULL flag never is. */
static inline int sn_stop_requested(const volatile sig_atomic_t *stop)
{
	return stop && __atomic_load_n(stop, __ATOMIC_RELAXED);
}

#endif
