/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * systemd.c: systemd integration with libsystemd; the only file that
 * includes <systemd/sd-daemon.h>. systemd-none.c is the same API without
 * it.
 *
 * Socket activation: sd_listen_fds_with_names(unset_environment = 1)
 * takes the fds once and clears LISTEN_* so that no child and no later
 * call sees them again (a LISTEN_PID that is not ours yields 0 fds).
 * Order is only guaranteed within one .socket unit, so fds are told
 * apart by FileDescriptorName= and, failing that, by address family.
 * Every fd is verified to be a listening stream socket; anything else
 * is logged and closed, as dbus-broker does, so it cannot leak. The
 * inherited sockets are blocking: O_NONBLOCK is set here.
 *
 * Notifications go through sd_notify(3), a no-op without NOTIFY_SOCKET,
 * so the same binary runs standalone.
 */

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "systemd.h"

int
systemd_listen_collect(struct systemd_listen *out, int max)
{
	char		**names = NULL;
	const char	*name;
	int		 n, i, fd, fl, count = 0, is_unix;

	if (max < 0)
		return -EINVAL;
	if ((n = sd_listen_fds_with_names(1, &names)) <= 0) {
		if (names != NULL) {
			for (i = 0; names[i] != NULL; i++)
				free(names[i]);
			free(names);
		}
		return n;
	}
	for (i = 0; i < n; i++) {
		fd = SD_LISTEN_FDS_START + i;
		name = names != NULL && names[i] != NULL ? names[i] : "";

		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
			log_warnx("closing inherited fd %d (%s): not a "
			    "listening stream socket", fd, name);
			close(fd);
			continue;
		}
		if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0)
			is_unix = 1;
		else if (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1,
		    0) > 0)
			is_unix = 0;
		else {
			log_warnx("closing inherited fd %d (%s): neither "
			    "AF_UNIX nor AF_INET/AF_INET6", fd, name);
			close(fd);
			continue;
		}
		if (strcmp(name, "iomuxd") == 0 && !is_unix)
			log_warnx("inherited fd %d is named iomuxd but is a "
			    "TCP socket; using it as TCP", fd);
		else if (strcmp(name, "iomuxd-tcp") == 0 && is_unix)
			log_warnx("inherited fd %d is named iomuxd-tcp but is "
			    "an AF_UNIX socket; using it as UNIX", fd);
		if (count >= max) {
			log_warnx("closing inherited fd %d (%s): more than %d "
			    "listening sockets", fd, name, max);
			close(fd);
			continue;
		}
		/* sd_listen_fds() set FD_CLOEXEC; blocking is ours to fix. */
		if ((fl = fcntl(fd, F_GETFL)) == -1 ||
		    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
			log_warn("closing inherited fd %d (%s): O_NONBLOCK",
			    fd, name);
			close(fd);
			continue;
		}
		out[count].fd = fd;
		out[count].is_unix = is_unix;
		snprintf(out[count].name, sizeof(out[count].name), "%s", name);
		count++;
	}
	if (names != NULL) {
		for (i = 0; names[i] != NULL; i++)
			free(names[i]);
		free(names);
	}
	return count;
}

void
systemd_notify_ready(const char *status)
{
	if (status != NULL)
		sd_notifyf(0, "READY=1\nSTATUS=%s", status);
	else
		sd_notify(0, "READY=1");
}

void
systemd_notify_status(const char *status)
{
	sd_notifyf(0, "STATUS=%s", status != NULL ? status : "");
}

void
systemd_notify_reloading(void)
{
	/*
	 * No MONOTONIC_USEC=: only Type=notify-reload (systemd 253+) needs
	 * it, and the units use Type=notify for systemd 252.
	 */
	sd_notify(0, "RELOADING=1");
}

void
systemd_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

uint64_t
systemd_watchdog_interval_ms(void)
{
	uint64_t	 usec = 0, ms;

	/* unset_environment = 0: keep WATCHDOG_USEC for later calls. */
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	ms = usec / 2 / 1000;
	return ms > 0 ? ms : 1;
}

void
systemd_notify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

const char *
systemd_support(void)
{
	return "systemd";
}
