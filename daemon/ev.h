/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * ev.h: the event loop. One thread, level-triggered readiness on fds,
 * monotonic one-shot timers kept in a binary min-heap, and deferred work
 * that runs after the current batch of events (used for deferred close and
 * for clients that still hold buffered input after their per-wake-up
 * budget ran out).
 *
 * The readiness mechanism is a backend chosen at run time: epoll, poll or
 * select (see ev-*.c). Backends only translate masks and report fired fds;
 * the fd table, the timers, the deferred list and the "is this fd still
 * watched with this mask" recheck before each callback live in ev.c, so
 * every backend has the same semantics.
 *
 * Ownership: the loop never closes an fd. Callers ev_io_del() before they
 * close(). Timers and deferred entries are embedded in the caller's objects;
 * the loop never allocates or frees them.
 */

#ifndef IOMUXD_EV_H
#define IOMUXD_EV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heap.h"

#define EV_NONE		0x0
#define EV_READ		0x1
#define EV_WRITE	0x2

struct ev_loop;
struct ev_timer;
struct ev_defer;

/*
 * I/O callback. 'events' is what fired, masked by what is being watched
 * now. EV_READ also fires for hang-up and error, so the callback finds out
 * by reading (as with poll/select on every backend).
 */
typedef void	ev_io_cb(struct ev_loop *, int fd, int events, void *arg);
typedef void	ev_timer_cb(struct ev_loop *, struct ev_timer *, void *arg);
typedef void	ev_defer_cb(struct ev_loop *, struct ev_defer *, void *arg);

struct ev_timer {
	struct heap_node hn;		/* key: ev_now() ms at which it fires */
	ev_timer_cb	*cb;
	void		*arg;
};

struct ev_defer {
	struct ev_defer	*next;
	bool		 queued;
	ev_defer_cb	*cb;
	void		*arg;
};

struct ev_stats {
	uint64_t	wakeups;	/* returns from the backend's wait */
	uint64_t	events;		/* fd events dispatched */
	uint64_t	timers;		/* timers fired */
};

/*
 * Backend interface, one const instance per ev-<name>.c. State lives in
 * loop->bdata via ev_backend_data(). add/del are called by ev.c with the
 * old and new masks (both EV_READ|EV_WRITE bits), never with new == old.
 * wait() blocks at most timeout_ms (-1: forever), then calls
 * ev_fired(loop, fd, mask) for each ready fd and returns how many it
 * reported, or -errno (-EINTR is retried by ev.c).
 */
struct ev_backend {
	const char	*name;
	int	(*init)(struct ev_loop *, int setsize);
	void	(*free)(struct ev_loop *);
	int	(*mod)(struct ev_loop *, int fd, int oldmask, int newmask);
	int	(*wait)(struct ev_loop *, int timeout_ms);
	int	 max_fd;	/* fds >= this are refused (0: no limit) */
};

/* NULL-terminated list of the compiled backends, best first. */
extern const struct ev_backend *const ev_backends[];

/* For backends. */
void	**ev_backend_data(struct ev_loop *);
void	 ev_fired(struct ev_loop *, int fd, int mask);
int	 ev_mask(struct ev_loop *, int fd);	/* current watched mask */

/*
 * Create a loop with the named backend (NULL: the first in ev_backends)
 * able to watch fds 0..setsize-1. Returns 0 and sets *out, -ENOENT for an
 * unknown backend name, or -errno from the backend. A setsize beyond the
 * backend's max_fd is fine: such fds are refused one by one by ev_io_add().
 */
int	 ev_loop_new(const char *backend, int setsize, struct ev_loop **out);
void	 ev_loop_free(struct ev_loop *);
const char	*ev_loop_backend(const struct ev_loop *);
const struct ev_stats	*ev_loop_stats(const struct ev_loop *);

/*
 * Watch fd for 'mask' (EV_READ|EV_WRITE) with a callback. An fd already
 * watched has its callback replaced. Returns 0, -EBADF/-ERANGE for an fd
 * outside 0..setsize-1 or at or above the backend's max_fd (select's
 * FD_SETSIZE), or -errno from the backend.
 */
int	 ev_io_add(struct ev_loop *, int fd, int mask, ev_io_cb *, void *arg);
/* Change the mask of a watched fd (EV_NONE keeps it registered, idle). */
int	 ev_io_set(struct ev_loop *, int fd, int mask);
/* Stop watching; pending fired events for fd are dropped. Idempotent. */
void	 ev_io_del(struct ev_loop *, int fd);

/* Cached monotonic milliseconds, refreshed once per wake-up. */
uint64_t	 ev_now(const struct ev_loop *);
/* Refresh the cached time now (for long work inside one wake-up). */
uint64_t	 ev_now_update(struct ev_loop *);

void	 ev_timer_init(struct ev_timer *, ev_timer_cb *, void *arg);
/* (Re)arm to fire 'ms' after ev_now(); 0 or -ENOMEM. */
int	 ev_timer_start(struct ev_loop *, struct ev_timer *, uint64_t ms);
/* (Re)arm to fire at absolute ev_now() time 'when'. */
int	 ev_timer_start_at(struct ev_loop *, struct ev_timer *, uint64_t when);
void	 ev_timer_stop(struct ev_loop *, struct ev_timer *);	/* idempotent */
static inline bool
ev_timer_active(const struct ev_timer *t)
{
	return heap_node_queued(&t->hn);
}
/* When an active timer fires, in ev_now() ms. */
static inline uint64_t
ev_timer_when(const struct ev_timer *t)
{
	return t->hn.key;
}

void	 ev_defer_init(struct ev_defer *, ev_defer_cb *, void *arg);
/* Queue to run once after the current batch of events; idempotent. */
void	 ev_defer(struct ev_loop *, struct ev_defer *);
void	 ev_defer_cancel(struct ev_loop *, struct ev_defer *);

/*
 * One iteration: wait for events (no longer than the nearest timer, or
 * 'max_wait_ms' if >= 0, or forever), dispatch fired fds, fire due timers,
 * run deferred work. Waits zero if deferred work is already queued.
 * Returns the number of fd events dispatched, or -errno on a backend
 * failure (a bug or resource exhaustion; EINTR is not reported).
 */
int	 ev_run_once(struct ev_loop *, int max_wait_ms);
/* Run until ev_stop(); returns 0 or the -errno of a failed iteration. */
int	 ev_run(struct ev_loop *);
void	 ev_stop(struct ev_loop *);

#endif /* IOMUXD_EV_H */
