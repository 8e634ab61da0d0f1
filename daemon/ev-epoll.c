/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * ev-epoll.c: the Linux epoll(7) backend, level-triggered.
 *
 * The kernel keeps the interest set, so a wait costs O(ready fds), not
 * O(watched fds): ten thousand idle clients cost nothing per wake-up. The
 * interest set mirrors ev.c's masks exactly (an fd watched with EV_NONE is
 * not in it), and ev.c only calls mod() on a change, so there is at most
 * one epoll_ctl() per mask transition.
 *
 * Events are fetched in batches of at most EPOLL_BATCH; level triggering
 * means anything left over is reported again by the next epoll_wait(), and
 * the kernel requeues reported fds at the tail of its ready list, so a
 * large batch cannot starve the fds behind it.
 *
 * Hang-up and error are reported as EV_READ (the reader then sees EOF or
 * the error from read()), or as EV_WRITE when only writing is watched, so
 * that a writer blocked on a dead peer learns about it from write().
 */

#include <sys/epoll.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "ev.h"

#define EPOLL_BATCH	1024

struct epoll_state {
	int			 epfd;
	int			 nevents;
	struct epoll_event	*events;	/* [nevents] */
};

static int
ep_init(struct ev_loop *loop, int setsize)
{
	struct epoll_state	*st;
	int			 r;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return -ENOMEM;
	st->nevents = setsize < EPOLL_BATCH ? setsize : EPOLL_BATCH;
	if ((st->events = calloc((size_t)st->nevents,
	    sizeof(*st->events))) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if ((st->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		r = -errno;
		goto fail;
	}
	*ev_backend_data(loop) = st;
	return 0;

fail:
	free(st->events);
	free(st);
	return r;
}

static void
ep_free(struct ev_loop *loop)
{
	struct epoll_state	*st = *ev_backend_data(loop);

	(void)close(st->epfd);
	free(st->events);
	free(st);
	*ev_backend_data(loop) = NULL;
}

static int
ep_mod(struct ev_loop *loop, int fd, int oldmask, int newmask)
{
	struct epoll_state	*st = *ev_backend_data(loop);
	struct epoll_event	 ee = { 0 };
	int			 op;

	if (oldmask == newmask)
		return 0;
	if (newmask == EV_NONE)
		op = EPOLL_CTL_DEL;
	else if (oldmask == EV_NONE)
		op = EPOLL_CTL_ADD;
	else
		op = EPOLL_CTL_MOD;
	/* RDHUP: a peer's shutdown(SHUT_WR) wakes the reader too. */
	if (newmask & EV_READ)
		ee.events |= EPOLLIN | EPOLLRDHUP;
	if (newmask & EV_WRITE)
		ee.events |= EPOLLOUT;
	ee.data.fd = fd;
	if (epoll_ctl(st->epfd, op, fd, &ee) == -1)
		return -errno;
	return 0;
}

static int
ep_wait(struct ev_loop *loop, int timeout_ms)
{
	struct epoll_state	*st = *ev_backend_data(loop);
	uint32_t		 re;
	int			 i, n, fd, mask, cur;

	n = epoll_wait(st->epfd, st->events, st->nevents, timeout_ms);
	if (n == -1)
		return -errno;
	for (i = 0; i < n; i++) {
		fd = st->events[i].data.fd;
		re = st->events[i].events;
		mask = EV_NONE;
		if (re & (EPOLLIN | EPOLLRDHUP))
			mask |= EV_READ;
		if (re & EPOLLOUT)
			mask |= EV_WRITE;
		if (re & (EPOLLHUP | EPOLLERR)) {
			cur = ev_mask(loop, fd);
			mask |= (cur & EV_READ) ? EV_READ : (cur & EV_WRITE);
		}
		if (mask != EV_NONE)
			ev_fired(loop, fd, mask);
	}
	return n;
}

const struct ev_backend ev_backend_epoll = {
	.name = "epoll",
	.init = ep_init,
	.free = ep_free,
	.mod = ep_mod,
	.wait = ep_wait,
	.max_fd = 0,
};
