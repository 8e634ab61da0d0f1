/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * systemd-none.c: the systemd.h API for builds without libsystemd.
 * Notifications are no-ops and socket activation is not supported: if
 * LISTEN_FDS is set anyway, that is logged once and LISTEN_* are cleared
 * (as systemd.c would) so the variables do not leak to children; the
 * daemon then binds its own sockets.
 */

#include <stdlib.h>

#include "log.h"
#include "systemd.h"

int
systemd_listen_collect(struct listener *out, int max, bool allow_remote,
    char *errbuf, size_t errlen)
{
	(void)out;
	(void)max;
	(void)allow_remote;
	(void)errbuf;
	(void)errlen;
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
systemd_notify_ready(const char *status)
{
	(void)status;
}

void
systemd_notify_status(const char *status)
{
	(void)status;
}

void
systemd_notify_reloading(void)
{
}

void
systemd_notify_stopping(void)
{
}

uint64_t
systemd_watchdog_interval_ms(void)
{
	return 0;
}

void
systemd_notify_watchdog(void)
{
}

const char *
systemd_support(void)
{
	return "none";
}
