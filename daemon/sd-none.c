/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * sd-none.c: the sd.h API for builds without libsystemd. Notifications
 * are no-ops and socket activation is not supported: if LISTEN_FDS is
 * set anyway, that is logged once and LISTEN_* are cleared (as sd.c
 * would) so the variables do not leak to children; the daemon then binds
 * its own sockets. Detecting the journal needs no libsystemd.
 */

#include <stdlib.h>

#include "log.h"
#include "sd.h"

int
sd_listen_collect(struct sd_listen *out, int max)
{
	(void)out;
	(void)max;
	if (getenv("LISTEN_FDS") != NULL) {
		log_warnx("socket activation requested but iomuxd was built "
		    "without libsystemd; ignoring LISTEN_FDS");
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
	}
	return 0;
}

void
sd_notify_ready(const char *status)
{
	(void)status;
}

void
sd_notify_status(const char *status)
{
	(void)status;
}

void
sd_notify_reloading(void)
{
}

void
sd_notify_stopping(void)
{
}

uint64_t
sd_watchdog_interval_ms(void)
{
	return 0;
}

void
sd_notify_watchdog(void)
{
}

int
sd_stderr_is_journal(void)
{
	return log_stderr_is_journal();
}

const char *
sd_support(void)
{
	return "none";
}
