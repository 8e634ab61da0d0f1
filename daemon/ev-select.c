/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * ev-select.c: the select(2) backend, the portable last resort.
 *
 * Two master fd_sets hold the interest; each wait works on copies, since
 * select() overwrites its arguments. The highest watched fd is tracked so
 * that select() and the scan after it stop there. An fd_set holds only
 * fds below FD_SETSIZE and FD_SET() beyond it writes out of bounds, so
 * max_fd is FD_SETSIZE: ev_io_add() refuses larger fds with -ERANGE, and
 * mod() checks again rather than trust its caller.
 *
 * select() has no hang-up or error flags of its own: the kernel marks a
 * hung-up or failed socket readable (and writable on error), so the
 * callback finds out from read() or write() as with the other backends.
 */

#include <sys/select.h>
#include <sys/time.h>

#include <errno.h>
#include <stdlib.h>

#include "ev.h"

struct select_state {
	fd_set	 rmaster;
	fd_set	 wmaster;
	fd_set	 rwork;
	fd_set	 wwork;
	int	 maxfd;		/* highest watched fd, or -1 */
};

static int
select_init(struct ev_loop *loop, int setsize)
{
	struct select_state	*st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return -ENOMEM;
	FD_ZERO(&st->rmaster);
	FD_ZERO(&st->wmaster);
	st->maxfd = -1;
	*ev_backend_data(loop) = st;
	return 0;
}

static void
select_free(struct ev_loop *loop)
{
	free(*ev_backend_data(loop));
	*ev_backend_data(loop) = NULL;
}

static int
select_mod(struct ev_loop *loop, int fd, int oldmask, int newmask)
{
	struct select_state	*st = *ev_backend_data(loop);

	if (fd < 0 || fd >= FD_SETSIZE)
		return -ERANGE;
	if (newmask & EV_READ)
		FD_SET(fd, &st->rmaster);
	else
		FD_CLR(fd, &st->rmaster);
	if (newmask & EV_WRITE)
		FD_SET(fd, &st->wmaster);
	else
		FD_CLR(fd, &st->wmaster);

	if (newmask != EV_NONE) {
		if (fd > st->maxfd)
			st->maxfd = fd;
	} else if (fd == st->maxfd) {
		while (st->maxfd >= 0 &&
		    !FD_ISSET(st->maxfd, &st->rmaster) &&
		    !FD_ISSET(st->maxfd, &st->wmaster))
			st->maxfd--;
	}
	return 0;
}

static int
select_wait(struct ev_loop *loop, int timeout_ms)
{
	struct select_state	*st = *ev_backend_data(loop);
	struct timeval		 tv, *tvp = NULL;
	int			 fd, r, found, n, mask;

	if (timeout_ms >= 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		tvp = &tv;
	}
	st->rwork = st->rmaster;
	st->wwork = st->wmaster;
	r = select(st->maxfd + 1, &st->rwork, &st->wwork, NULL, tvp);
	if (r == -1)
		return -errno;
	/* r counts set bits, so an fd ready both ways counts twice. */
	for (fd = 0, found = 0, n = 0; fd <= st->maxfd && found < r; fd++) {
		mask = EV_NONE;
		if (FD_ISSET(fd, &st->rwork)) {
			mask |= EV_READ;
			found++;
		}
		if (FD_ISSET(fd, &st->wwork)) {
			mask |= EV_WRITE;
			found++;
		}
		if (mask != EV_NONE) {
			ev_fired(loop, fd, mask);
			n++;
		}
	}
	return n;
}

const struct ev_backend ev_backend_select = {
	.name = "select",
	.init = select_init,
	.free = select_free,
	.mod = select_mod,
	.wait = select_wait,
	.max_fd = FD_SETSIZE,
};
