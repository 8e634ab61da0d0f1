/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * ev-poll.c: the poll(2) backend, for systems without epoll and for
 * testing the loop's semantics on a second mechanism.
 *
 * It keeps a dense pollfd array of the fds with a non-empty mask plus an
 * fd -> slot map, so adding, changing and removing an fd are O(1)
 * (removal moves the last slot into the hole). Each wait is O(watched
 * fds), inherent to poll(2); the scan after it stops once all ready fds
 * are found.
 *
 * POLLHUP, POLLERR and POLLNVAL (always reported, never asked for) are
 * mapped as in the epoll backend: to EV_READ, or to EV_WRITE when only
 * writing is watched, so the callback's read() or write() reports the
 * condition.
 */

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "ev.h"

struct poll_state {
	struct pollfd	*pfds;		/* [setsize], n in use */
	int		*slot;		/* [setsize]: index or -1 */
	int		 n;
	int		 setsize;
};

static int
poll_init(struct ev_loop *loop, int setsize)
{
	struct poll_state	*st;
	int			 i;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return -ENOMEM;
	st->pfds = calloc((size_t)setsize, sizeof(*st->pfds));
	st->slot = calloc((size_t)setsize, sizeof(*st->slot));
	if (st->pfds == NULL || st->slot == NULL) {
		free(st->slot);
		free(st->pfds);
		free(st);
		return -ENOMEM;
	}
	for (i = 0; i < setsize; i++)
		st->slot[i] = -1;
	st->setsize = setsize;
	*ev_backend_data(loop) = st;
	return 0;
}

static void
poll_free(struct ev_loop *loop)
{
	struct poll_state	*st = *ev_backend_data(loop);

	free(st->slot);
	free(st->pfds);
	free(st);
	*ev_backend_data(loop) = NULL;
}

static int
poll_mod(struct ev_loop *loop, int fd, int oldmask, int newmask)
{
	struct poll_state	*st = *ev_backend_data(loop);
	int			 i, last;

	if (fd < 0 || fd >= st->setsize)
		return -ERANGE;
	i = st->slot[fd];
	if (newmask == EV_NONE) {
		if (i < 0)
			return 0;
		last = --st->n;
		if (i != last) {
			st->pfds[i] = st->pfds[last];
			st->slot[st->pfds[i].fd] = i;
		}
		st->slot[fd] = -1;
		return 0;
	}
	if (i < 0) {
		i = st->n++;
		st->slot[fd] = i;
		st->pfds[i].fd = fd;
	}
	st->pfds[i].events = 0;
	st->pfds[i].revents = 0;
	if (newmask & EV_READ)
		st->pfds[i].events |= POLLIN;
	if (newmask & EV_WRITE)
		st->pfds[i].events |= POLLOUT;
	return 0;
}

static int
poll_wait(struct ev_loop *loop, int timeout_ms)
{
	struct poll_state	*st = *ev_backend_data(loop);
	struct pollfd		*pfd;
	int			 i, r, found, mask, cur;

	r = poll(st->pfds, (nfds_t)st->n, timeout_ms);
	if (r == -1)
		return -errno;
	for (i = 0, found = 0; i < st->n && found < r; i++) {
		pfd = &st->pfds[i];
		if (pfd->revents == 0)
			continue;
		found++;
		mask = EV_NONE;
		if (pfd->revents & POLLIN)
			mask |= EV_READ;
		if (pfd->revents & POLLOUT)
			mask |= EV_WRITE;
		if (pfd->revents & (POLLHUP | POLLERR | POLLNVAL)) {
			cur = ev_mask(loop, pfd->fd);
			mask |= (cur & EV_READ) ? EV_READ : (cur & EV_WRITE);
		}
		if (mask != EV_NONE)
			ev_fired(loop, pfd->fd, mask);
	}
	return found;
}

const struct ev_backend ev_backend_poll = {
	.name = "poll",
	.init = poll_init,
	.free = poll_free,
	.mod = poll_mod,
	.wait = poll_wait,
	.max_fd = 0,
};
