/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * lock.h: named locks held by hub clients, with FIFO waiters and leases.
 *
 * The module knows clients only by their hub handle and time only through
 * its struct hub_clock: it asks the clock to call lock_reap() when the
 * nearest lease ends. Nothing here answers anyone. A lock given to a waiter (on
 * UNLOCK, a lease's end, or its holder's death) is granted at once, so
 * the state is consistent, and the waiter is put on the "granted" list;
 * the connection layer takes them off it (lock_next_granted()) after the
 * hub call returns and answers them. So no hub call ever runs connection
 * code, and nothing re-enters the module.
 */

#ifndef IOMUXD_HUB_LOCK_H
#define IOMUXD_HUB_LOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub.h"
#include "wait.h"

struct locks;
struct lock;

/*
 * Data (lock names) is accounted in data, against its max_memory; time
 * read from clock, whose arm() is asked for the nearest lease's end. The
 * clock is copied.
 */
int	lock_new(struct hub_data *data, const struct hub_clock *clock,
	    struct locks **);
/* Free every lock; waiters still linked are taken off their queues. */
void	lock_free(struct locks *);

#define LOCK_E_HELD	1	/* held by another client */
#define LOCK_E_OWNED	2	/* already held by this client */

/*
 * Take the lock for c, with a lease of lease_ms from now (0 or
 * IOMUX_TIMEOUT_FOREVER: none). Returns 0, LOCK_E_HELD, LOCK_E_OWNED,
 * -EDQUOT (max_memory) or -ENOMEM.
 */
int	lock_acquire(struct locks *, const void *name, size_t len,
	    struct hub_client *c, uint64_t lease_ms);
/*
 * Let go of a lock c holds: 0, -ENOENT (nobody holds it) or -EPERM
 * (another does). The lock passes to its first live waiter.
 */
int	lock_release(struct locks *, const void *name, size_t len,
	    struct hub_client *c);
/* c is gone: every lock it holds passes on. */
void	lock_client_gone(struct locks *, struct hub_client *c);

/* The lock named so, if anyone holds or waits for it. */
struct lock		*lock_find(struct locks *, const void *name, size_t len);
struct hub_client	*lock_holder(const struct lock *);

/*
 * Wait for l, held by another (w->c set, w->arg the lease it wants).
 * The waiter leaves the queue by a grant (lock_next_granted) or by
 * lock_cancel() (its deadline, its client's death).
 */
void	lock_wait(struct lock *l, struct hub_waiter *w);
/*
 * Take w off whatever queue it is on: its lock's (deleting a lock nobody
 * holds or wants), or the granted list (it keeps the lock: its client's
 * death passes it on). Nothing if it is on none.
 */
void	lock_cancel(struct locks *, struct hub_waiter *w);

/* A waiter that was given its lock, to be answered; NULL when none. */
struct hub_waiter	*lock_next_granted(struct locks *);

/* The armed deadline came: end every lease due now; the locks pass on. */
void	lock_reap(struct locks *);

struct lock_stats {
	uint64_t	held;
	uint64_t	waiters;
	uint64_t	leases_expired;
};
void	lock_stats_get(const struct locks *, struct lock_stats *);

/* What a lock named with len bytes counts against max_memory. */
size_t	lock_cost(size_t len);

#endif /* IOMUXD_HUB_LOCK_H */
