/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * lock.h: named locks that die with their holder.
 * The server-facing part; the handlers in cmd-lock.c use the rest.
 */

#ifndef IOMUXD_LOCK_H
#define IOMUXD_LOCK_H

#include <stddef.h>
#include <stdint.h>

struct conn;
struct reply;
struct server;
struct locks;
struct lock;
struct waiter;

/* Create the (empty) state, at server start; 0 or -ENOMEM. */
int	lock_new(struct server *, struct locks **);
/*
 * Free everything, at server exit, after every connection is gone (and
 * lock_conn_closed() ran for each): no waiters are left, and no
 * connection is touched. Names are released from the memory account.
 */
void	lock_free(struct locks *);
/* Append this module's STATUS pairs (locks_held, lock_waiters). */
void	lock_status(struct server *, struct reply *);
/*
 * A connection is closing: release every lock it holds, handing each to
 * its next live waiter at once. Call it once the connection no longer
 * counts as alive for block_alive() (flagged dead or closing), so that
 * it is not handed a lock itself; calling it again does nothing.
 */
void	lock_conn_closed(struct server *, struct conn *);

/*
 * The rest is for cmd-lock.c and the unit tests.
 *
 * A lock exists while it is held or waited for. Its holder is a
 * connection; c->locks is the head of the list of the locks c holds
 * (intrusive: an idle connection holds nothing and allocates nothing).
 * It counts lock_cost() against max_memory while it exists.
 */

/* Positive results of lock_acquire(). */
#define LOCK_E_HELD	1	/* held by another connection */
#define LOCK_E_OWNED	2	/* already held by this connection */

/*
 * Take the named lock for c if it is free, with a lease of lease_ms (0 or
 * IOMUX_TIMEOUT_FOREVER: none) after which it is released as UNLOCK
 * would. Returns 0, LOCK_E_HELD, LOCK_E_OWNED, -EDQUOT if the name would
 * pass max_memory, or -ENOMEM.
 */
int	lock_acquire(struct locks *, const void *name, size_t len,
	    struct conn *c, uint64_t lease_ms);
/*
 * Release the named lock held by c and hand it to the next live waiter:
 * 0, -ENOENT if it is not held, -EPERM if another connection holds it.
 */
int	lock_release(struct locks *, const void *name, size_t len,
	    struct conn *c);
/* What a lock named with len bytes counts against max_memory. */
size_t	lock_cost(size_t len);
/* The lock of that name (held or waited for), or NULL. */
struct lock	*lock_find(struct locks *, const void *name, size_t len);
/* Its holder, or NULL. */
struct conn	*lock_holder(const struct lock *);
/*
 * Link w (from block_start() with lock_cancel and l; w->arg the lease
 * in ms it wants) at the tail of l's waiters. l must be held.
 */
void	lock_wait(struct lock *l, struct waiter *w);
/* Unlink w from its lock (block.h's cancel); idempotent. */
void	lock_cancel(struct waiter *);
/* Locks held and waiters linked, for STATUS and tests. */
void	lock_counts(const struct locks *, uint64_t *held,
	    uint64_t *waiters);

#endif /* IOMUXD_LOCK_H */
