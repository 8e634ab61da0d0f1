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
 * apart by address family; FileDescriptorName= only serves to warn when
 * a name and a family disagree. Every fd goes through listen_adopt(),
 * the one check of inherited sockets (a listening AF_UNIX, AF_INET or
 * AF_INET6 stream socket, made non-blocking, as they come blocking);
 * anything else is logged and closed, as dbus-broker does, so it cannot
 * leak. The exception is a TCP socket on an address that is not loopback
 * without tcp_allow_remote: dropping it would leave a service that looks
 * healthy but is not reachable where its unit says, so the start fails
 * instead, naming the socket as the unit does (FileDescriptorName=).
 *
 * Notifications go through sd_notify(3), a no-op without NOTIFY_SOCKET,
 * so the same binary runs standalone.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "listen.h"
#include "log.h"
#include "systemd.h"

/* Why listen_adopt() refused an fd, for the log. */
static const char *
adopt_error(int err)
{
	switch (err) {
	case -ENOTSOCK:
		return "not a socket";
	case -EINVAL:
		return "not a listening stream socket";
	case -EAFNOSUPPORT:
		return "neither AF_UNIX nor AF_INET/AF_INET6";
	default:
		return strerror(-err);
	}
}

static void
free_names(char **names)
{
	int	i;

	if (names == NULL)
		return;
	for (i = 0; names[i] != NULL; i++)
		free(names[i]);
	free(names);
}

/*
 * The error for a passed TCP socket that is not on loopback. The name is
 * the socket unit's FileDescriptorName= (default: the unit's name);
 * "unknown" is what sd_listen_fds_with_names() reports without
 * LISTEN_FDNAMES, so then only the fd number is given.
 */
static void
remote_error(char *buf, size_t len, int fd, const char *name)
{
	char	 addr[128], who[192];

	listen_sock_name(fd, addr, sizeof(addr));
	if (*name != '\0' && strcmp(name, "unknown") != 0)
		snprintf(who, sizeof(who), "socket \"%s\" (fd %d)", name, fd);
	else
		snprintf(who, sizeof(who), "socket fd %d", fd);
	snprintf(buf, len, "socket activation: %s listens on %s, not a "
	    "loopback address: set tcp_allow_remote = yes in iomuxd.conf, "
	    "or bind the socket unit to 127.0.0.1", who,
	    addr[0] != '\0' ? addr : "an unknown address");
}

int
systemd_listen_collect(struct listener *out, int max, bool allow_remote,
    char *errbuf, size_t errlen)
{
	char		**names = NULL;
	const char	*name;
	int		 n, i, j, fd, r, count = 0, is_unix;

	if (max < 0) {
		snprintf(errbuf, errlen, "socket activation: %s",
		    strerror(EINVAL));
		return -EINVAL;
	}
	if ((n = sd_listen_fds_with_names(1, &names)) <= 0) {
		free_names(names);
		if (n < 0)
			snprintf(errbuf, errlen, "socket activation: %s",
			    strerror(-n));
		return n;
	}
	for (i = 0; i < n; i++) {
		fd = SD_LISTEN_FDS_START + i;
		name = names != NULL && names[i] != NULL ? names[i] : "";

		if (count >= max) {
			log_warnx("closing inherited fd %d (%s): more than %d "
			    "listening sockets", fd, name, max);
			close(fd);
			continue;
		}
		/*
		 * listen_adopt() is the one check of what was handed in
		 * (type, listening, family) and sets O_NONBLOCK, which
		 * inherited sockets lack.
		 */
		r = listen_adopt(&out[count], fd, NULL, allow_remote);
		if (r == -EPERM) {
			remote_error(errbuf, errlen, fd, name);
			/* Not starting: nothing passed stays open. */
			for (j = 0; j < count; j++)
				listen_close(&out[j]);
			for (j = i; j < n; j++)
				close(SD_LISTEN_FDS_START + j);
			free_names(names);
			return -EPERM;
		}
		if (r < 0) {
			log_warnx("closing inherited fd %d (%s): %s", fd, name,
			    adopt_error(r));
			close(fd);
			continue;
		}
		is_unix = (out[count].flags & LISTEN_F_UNIX) != 0;
		if (strcmp(name, "iomuxd") == 0 && !is_unix)
			log_warnx("inherited fd %d is named iomuxd but is a "
			    "TCP socket; using it as TCP", fd);
		else if (strcmp(name, "iomuxd-tcp") == 0 && is_unix)
			log_warnx("inherited fd %d is named iomuxd-tcp but is "
			    "an AF_UNIX socket; using it as UNIX", fd);
		count++;
	}
	free_names(names);
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
