/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * systemd.h: the daemon's only window onto systemd. systemd.c implements
 * it with libsystemd; systemd-none.c with no-ops for builds without it.
 * Every function is a harmless no-op when not started by systemd (no
 * LISTEN_FDS, no NOTIFY_SOCKET), so the same binary runs standalone.
 *
 * The prefix is systemd_, never libsystemd's own sd_, so that a reader
 * (and the linker) can tell our wrappers from the library they wrap.
 */

#ifndef IOMUXD_SYSTEMD_H
#define IOMUXD_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYSTEMD_LISTEN_MAX	8

struct listener;

/*
 * Collect sockets passed by socket activation, at most 'max', and clear
 * LISTEN_* from the environment. Each one is adopted into out[] with
 * listen_adopt() (LISTEN_F_INHERITED; named by its address); anything
 * else passed, or past 'max', is logged and closed. Returns the count
 * (0: not activated) or -errno with a one-line message in errbuf:
 * -EPERM when a TCP socket is bound to an address that is not loopback
 * and !allow_remote (tcp_allow_remote), naming the socket by its
 * FileDescriptorName= and address. Then the daemon must not start, and
 * every passed fd has been closed; out[] holds nothing.
 */
int	systemd_listen_collect(struct listener *out, int max,
	    bool allow_remote, char *errbuf, size_t errlen);

void	systemd_notify_ready(const char *status);
void	systemd_notify_status(const char *status);
void	systemd_notify_reloading(void);
void	systemd_notify_stopping(void);
/* Watchdog interval in ms to ping at (half of WATCHDOG_USEC), 0 if off. */
uint64_t	systemd_watchdog_interval_ms(void);
void	systemd_notify_watchdog(void);
/* "systemd" when built with libsystemd support, "none" otherwise. */
const char	*systemd_support(void);

#endif /* IOMUXD_SYSTEMD_H */
