/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * sd.h: the daemon's only window onto systemd. sd.c implements it with
 * libsystemd; sd-none.c with no-ops for builds without it. Every function
 * is a harmless no-op when not started by systemd (no LISTEN_FDS, no
 * NOTIFY_SOCKET), so the same binary runs standalone.
 */

#ifndef IOMUXD_SD_H
#define IOMUXD_SD_H

#include <stdint.h>

#define SD_LISTEN_MAX	8

struct sd_listen {
	int	 fd;
	int	 is_unix;	/* AF_UNIX stream (else AF_INET/AF_INET6) */
	char	 name[64];	/* FileDescriptorName=, or "" */
};

/*
 * Collect sockets passed by socket activation, at most SD_LISTEN_MAX, and
 * clear LISTEN_* from the environment. Each returned fd is a listening
 * stream socket, verified by type, non-blocking and CLOEXEC; anything else
 * passed is logged and closed. Returns the count (0: not activated) or
 * -errno.
 */
int	sd_listen_collect(struct sd_listen *, int max);

void	sd_notify_ready(const char *status);
void	sd_notify_status(const char *status);
void	sd_notify_reloading(void);
void	sd_notify_stopping(void);
/* Watchdog interval in ms to ping at (half of WATCHDOG_USEC), 0 if off. */
uint64_t	sd_watchdog_interval_ms(void);
void	sd_notify_watchdog(void);
/* 1 if stderr is connected to the journal (for log prefixes). */
int	sd_stderr_is_journal(void);
/* "systemd" when built with libsystemd support, "none" otherwise. */
const char	*sd_support(void);

#endif /* IOMUXD_SD_H */
