/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * ev.c: the loop core shared by every readiness backend.
 *
 * It owns the fd table (one small entry per fd number, indexed directly,
 * 'setsize' entries allocated once), the list of fds a backend reported
 * ready in the current wake-up, the timer heap and the deferred queue.
 * Backends only keep the kernel (or their pollfd array, or their fd_sets)
 * in step with the masks ev.c hands them, and report readiness through
 * ev_fired(); all semantics live here so that every backend behaves alike.
 *
 * Invariants:
 * - An fd is watched iff its entry has a callback. The backend has been
 *   told about exactly the entry's mask: ev.c calls backend->mod() only on
 *   a mask transition, so an fd watched with EV_NONE costs no syscall and
 *   is absent from the backend.
 * - Each entry carries a generation number, bumped whenever the watcher
 *   goes away or is replaced (ev_io_del(), or ev_io_add() with another
 *   callback or argument). A fired event records the generation it was
 *   collected for, and is dropped if the generation moved on before its
 *   turn came. A callback earlier in the batch may have deleted the fd,
 *   closed it and had the number reused by a new connection: that new
 *   watcher must not be handed readiness that belonged to the old file.
 * - Before each callback the current mask is re-applied too, so interest
 *   dropped by an earlier callback is honoured at once. EV_READ is
 *   dispatched before EV_WRITE, as two calls, with a recheck in between.
 * - Timers sit in a binary min-heap (heap.c) ordered by deadline; each
 *   timer knows its slot, so start, stop and re-arm are
 *   O(log n). The array doubles when full and halves when three quarters
 *   empty, never below EV_HEAP_MIN, so steady-state timer use allocates
 *   nothing.
 * - A timer pass fires only what was due when the pass began: a timer
 *   re-armed for "now" from a timer callback fires in the next iteration,
 *   so a 0 ms self-re-arming timer cannot keep the loop from polling.
 * - The deferred queue is FIFO. A run takes the whole queue; entries
 *   queued while it runs wait for the next iteration (which then does not
 *   block), so a client that keeps re-queueing itself cannot starve I/O.
 *
 * Time is CLOCK_MONOTONIC in milliseconds, read once per wake-up (and
 * before computing a timeout when timers exist); callbacks see the cached
 * value through ev_now().
 *
 * The loop is single-threaded and not re-entrant: callbacks may change any
 * watcher, timer or deferred entry, but must not call ev_run_once().
 */

#include <sys/types.h>

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ev.h"

/* The backends, each defined in its own ev-<name>.c. */
#ifdef HAVE_EPOLL_CREATE1
extern const struct ev_backend	ev_backend_epoll;
#endif
extern const struct ev_backend	ev_backend_poll;
extern const struct ev_backend	ev_backend_select;

/*
 * Best first. ev-epoll.c is built under the HAVE_EPOLL automake
 * conditional, which configure derives from the same epoll_create1 check
 * that defines HAVE_EPOLL_CREATE1.
 */
const struct ev_backend *const ev_backends[] = {
#ifdef HAVE_EPOLL_CREATE1
	&ev_backend_epoll,
#endif
	&ev_backend_poll,
	&ev_backend_select,
	NULL
};

#define EV_MASK_ALL	(EV_READ | EV_WRITE)
#define EV_HEAP_MIN	64

struct ev_io {
	ev_io_cb	*cb;		/* NULL: not watched */
	void		*arg;
	uint32_t	 gen;		/* bumped on watcher change */
	int		 mask;		/* what the backend watches */
};

/* One fd reported ready in the current wake-up. */
struct ev_pending {
	int		 fd;
	int		 mask;
	uint32_t	 gen;		/* io[fd].gen when reported */
};

struct ev_loop {
	const struct ev_backend	*backend;
	void			*bdata;
	int			 setsize;
	int			 fdlimit;	/* min(setsize, max_fd) */

	struct ev_io		*io;		/* [setsize] */
	struct ev_pending	*pending;	/* [setsize] */
	int			 npending;

	struct heap		 timers;
	bool			 in_timers;	/* in the timer pass */
	uint64_t		 timer_limit;	/* it fires when <= */

	struct ev_defer		*dq_head;	/* for the next run */
	struct ev_defer		**dq_tailp;
	struct ev_defer		*drun;		/* this run */

	uint64_t		 now;
	bool			 stop;
	bool			 running;
	struct ev_stats		 stats;
};

static uint64_t
clock_ms(void)
{
	struct timespec	ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer (POSIX). */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Backend support.
 */

void **
ev_backend_data(struct ev_loop *loop)
{
	return &loop->bdata;
}

/*
 * Called by the backend's wait() once per ready fd. Readiness for fds no
 * longer watched, or for directions no longer asked for, is dropped here
 * already; the rest is queued with the watcher's current generation.
 */
void
ev_fired(struct ev_loop *loop, int fd, int mask)
{
	struct ev_io		*e;
	struct ev_pending	*p;

	if (fd < 0 || fd >= loop->setsize)
		return;
	e = &loop->io[fd];
	mask &= e->mask;
	if (e->cb == NULL || mask == EV_NONE)
		return;
	/* Backends report each fd at most once per wait. */
	assert(loop->npending < loop->setsize);
	if (loop->npending >= loop->setsize)
		return;
	p = &loop->pending[loop->npending++];
	p->fd = fd;
	p->mask = mask;
	p->gen = e->gen;
}

int
ev_mask(struct ev_loop *loop, int fd)
{
	if (fd < 0 || fd >= loop->setsize)
		return EV_NONE;
	return loop->io[fd].mask;
}

/*
 * Loop life cycle.
 */

static const struct ev_backend *
backend_find(const char *name)
{
	size_t	 i;

	if (name == NULL)
		return ev_backends[0];
	for (i = 0; ev_backends[i] != NULL; i++)
		if (strcmp(ev_backends[i]->name, name) == 0)
			return ev_backends[i];
	return NULL;
}

int
ev_loop_new(const char *name, int setsize, struct ev_loop **out)
{
	const struct ev_backend	*be;
	struct ev_loop		*loop;
	int			 r;

	*out = NULL;
	if ((be = backend_find(name)) == NULL)
		return -ENOENT;
	if (setsize <= 0)
		return -EINVAL;

	if ((loop = calloc(1, sizeof(*loop))) == NULL)
		return -ENOMEM;
	loop->backend = be;
	loop->setsize = setsize;
	loop->fdlimit = setsize;
	if (be->max_fd > 0 && be->max_fd < setsize)
		loop->fdlimit = be->max_fd;
	loop->dq_tailp = &loop->dq_head;
	r = -ENOMEM;
	loop->io = calloc((size_t)setsize, sizeof(*loop->io));
	loop->pending = calloc((size_t)setsize, sizeof(*loop->pending));
	/* Preallocated: the first timers cannot fail to start. */
	heap_init(&loop->timers, EV_HEAP_MIN);
	if (loop->io == NULL || loop->pending == NULL ||
	    heap_reserve(&loop->timers, 1) < 0)
		goto fail;
	loop->now = clock_ms();

	if ((r = be->init(loop, setsize)) < 0)
		goto fail;
	*out = loop;
	return 0;

fail:
	heap_free(&loop->timers);
	free(loop->pending);
	free(loop->io);
	free(loop);
	return r;
}

/*
 * Timers and deferred entries still armed are marked inactive, so their
 * owners can tell (ev_timer_active()) and free them as they like. fds are
 * the caller's to close.
 */
void
ev_loop_free(struct ev_loop *loop)
{
	struct ev_defer	*d;

	if (loop == NULL)
		return;
	while ((d = loop->dq_head) != NULL) {
		loop->dq_head = d->next;
		d->next = NULL;
		d->queued = false;
	}
	loop->backend->free(loop);
	heap_free(&loop->timers);	/* marks armed timers inactive */
	free(loop->pending);
	free(loop->io);
	free(loop);
}

const char *
ev_loop_backend(const struct ev_loop *loop)
{
	return loop->backend->name;
}

const struct ev_stats *
ev_loop_stats(const struct ev_loop *loop)
{
	return &loop->stats;
}

/*
 * fd watchers.
 */

static int
fd_check(const struct ev_loop *loop, int fd)
{
	if (fd < 0)
		return -EBADF;
	if (fd >= loop->fdlimit)
		return -ERANGE;
	return 0;
}

int
ev_io_add(struct ev_loop *loop, int fd, int mask, ev_io_cb *cb, void *arg)
{
	struct ev_io	*e;
	int		 r;

	if ((r = fd_check(loop, fd)) < 0)
		return r;
	if ((mask & ~EV_MASK_ALL) != 0 || cb == NULL)
		return -EINVAL;
	e = &loop->io[fd];
	if (e->mask != mask &&
	    (r = loop->backend->mod(loop, fd, e->mask, mask)) < 0)
		return r;
	if (e->cb != cb || e->arg != arg)
		e->gen++;
	e->cb = cb;
	e->arg = arg;
	e->mask = mask;
	return 0;
}

int
ev_io_set(struct ev_loop *loop, int fd, int mask)
{
	struct ev_io	*e;
	int		 r;

	if ((r = fd_check(loop, fd)) < 0)
		return r;
	if ((mask & ~EV_MASK_ALL) != 0)
		return -EINVAL;
	e = &loop->io[fd];
	if (e->cb == NULL)
		return -ENOENT;
	if (e->mask == mask)
		return 0;
	if ((r = loop->backend->mod(loop, fd, e->mask, mask)) < 0)
		return r;
	e->mask = mask;
	return 0;
}

void
ev_io_del(struct ev_loop *loop, int fd)
{
	struct ev_io	*e;

	if (fd_check(loop, fd) < 0)
		return;
	e = &loop->io[fd];
	if (e->cb == NULL)
		return;
	/*
	 * A failure here means the caller closed the fd first (the kernel
	 * has then dropped it from an epoll set already); the entry goes
	 * away regardless.
	 */
	if (e->mask != EV_NONE)
		(void)loop->backend->mod(loop, fd, e->mask, EV_NONE);
	e->cb = NULL;
	e->arg = NULL;
	e->mask = EV_NONE;
	e->gen++;
}

/*
 * Time.
 */

uint64_t
ev_now(const struct ev_loop *loop)
{
	return loop->now;
}

uint64_t
ev_now_update(struct ev_loop *loop)
{
	loop->now = clock_ms();
	return loop->now;
}

void
ev_timer_init(struct ev_timer *t, ev_timer_cb *cb, void *arg)
{
	heap_node_init(&t->hn);
	t->cb = cb;
	t->arg = arg;
}

int
ev_timer_start_at(struct ev_loop *loop, struct ev_timer *t, uint64_t when)
{
	assert(t->cb != NULL);
	/* See the top of the file: the running pass must terminate. */
	if (loop->in_timers && when <= loop->timer_limit)
		when = loop->timer_limit + 1;

	if (ev_timer_active(t)) {
		heap_rekey(&loop->timers, &t->hn, when);
		return 0;
	}
	t->hn.key = when;
	return heap_insert(&loop->timers, &t->hn);
}

int
ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t ms)
{
	uint64_t	 when;

	when = ms > UINT64_MAX - loop->now ? UINT64_MAX : loop->now + ms;
	return ev_timer_start_at(loop, t, when);
}

void
ev_timer_stop(struct ev_loop *loop, struct ev_timer *t)
{
	if (ev_timer_active(t))
		heap_remove(&loop->timers, &t->hn);
}

/* Fire every timer due at the start of the pass, earliest first. */
static void
timers_run(struct ev_loop *loop)
{
	struct heap_node	*top;
	struct ev_timer		*t;

	loop->in_timers = true;
	loop->timer_limit = loop->now;
	while ((top = heap_top(&loop->timers)) != NULL &&
	    top->key <= loop->timer_limit) {
		t = container_of(top, struct ev_timer, hn);
		heap_remove(&loop->timers, top);
		loop->stats.timers++;
		t->cb(loop, t, t->arg);
	}
	loop->in_timers = false;
}

/*
 * Deferred work.
 */

void
ev_defer_init(struct ev_defer *d, ev_defer_cb *cb, void *arg)
{
	d->next = NULL;
	d->queued = false;
	d->cb = cb;
	d->arg = arg;
}

void
ev_defer(struct ev_loop *loop, struct ev_defer *d)
{
	assert(d->cb != NULL);
	if (d->queued)
		return;
	d->next = NULL;
	d->queued = true;
	*loop->dq_tailp = d;
	loop->dq_tailp = &d->next;
}

/*
 * O(queue length): the list is singly linked (the entry is embedded in
 * the caller's object and kept small); queues are short in practice.
 */
void
ev_defer_cancel(struct ev_loop *loop, struct ev_defer *d)
{
	struct ev_defer	**pp;

	if (!d->queued)
		return;
	for (pp = &loop->dq_head; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			if (loop->dq_tailp == &d->next)
				loop->dq_tailp = pp;
			goto out;
		}
	}
	/* Not in the queue: it is waiting in the run in progress. */
	for (pp = &loop->drun; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			goto out;
		}
	}
	assert(!"queued ev_defer on no list");
out:
	d->next = NULL;
	d->queued = false;
}

static void
defer_run(struct ev_loop *loop)
{
	struct ev_defer	*d;

	loop->drun = loop->dq_head;
	loop->dq_head = NULL;
	loop->dq_tailp = &loop->dq_head;
	while ((d = loop->drun) != NULL) {
		loop->drun = d->next;
		d->next = NULL;
		d->queued = false;
		d->cb(loop, d, d->arg);
	}
}

/*
 * Dispatch.
 */

/* How long the backend may block: 0, the nearest timer, or forever. */
static int
wait_timeout(struct ev_loop *loop, int max_wait_ms)
{
	struct heap_node	*top;
	uint64_t	 when, d;
	int		 timeout = max_wait_ms < 0 ? -1 : max_wait_ms;

	if (loop->dq_head != NULL)
		return 0;
	if ((top = heap_top(&loop->timers)) == NULL)
		return timeout;
	when = top->key;
	/* Fresh time: callbacks since the last wake-up took some. */
	if (when <= ev_now_update(loop))
		return 0;
	d = when - loop->now;
	if (d > INT_MAX)
		d = INT_MAX;
	if (timeout < 0 || (uint64_t)timeout > d)
		timeout = (int)d;
	return timeout;
}

static int
io_dispatch(struct ev_loop *loop)
{
	struct ev_pending	*p;
	struct ev_io		*e;
	int			 i, n = 0;

	for (i = 0; i < loop->npending; i++) {
		p = &loop->pending[i];
		e = &loop->io[p->fd];
		if (e->gen == p->gen && (e->mask & p->mask & EV_READ)) {
			e->cb(loop, p->fd, EV_READ, e->arg);
			n++;
		}
		/* The read callback may have changed anything. */
		if (e->gen == p->gen && (e->mask & p->mask & EV_WRITE)) {
			e->cb(loop, p->fd, EV_WRITE, e->arg);
			n++;
		}
	}
	loop->npending = 0;
	return n;
}

int
ev_run_once(struct ev_loop *loop, int max_wait_ms)
{
	int	 r, n;

	assert(!loop->running);
	loop->running = true;
	loop->npending = 0;
	r = loop->backend->wait(loop, wait_timeout(loop, max_wait_ms));
	if (r < 0 && r != -EINTR) {
		loop->npending = 0;
		loop->running = false;
		return r;
	}
	/*
	 * EINTR: a signal arrived (its handler has poked a self-pipe or set
	 * a flag); treat it as a wake-up with no fd events, and still run
	 * due timers and deferred work.
	 */
	if (r == -EINTR)
		loop->npending = 0;
	else
		loop->stats.wakeups++;
	ev_now_update(loop);

	n = io_dispatch(loop);
	loop->stats.events += (uint64_t)n;
	timers_run(loop);
	defer_run(loop);
	loop->running = false;
	return n;
}

int
ev_run(struct ev_loop *loop)
{
	int	 r;

	loop->stop = false;
	while (!loop->stop) {
		if ((r = ev_run_once(loop, -1)) < 0)
			return r;
	}
	return 0;
}

void
ev_stop(struct ev_loop *loop)
{
	loop->stop = true;
}
