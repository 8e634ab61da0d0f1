/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * lock.c: named locks held by hub clients, with FIFO waiters and leases.
 *
 * A lock exists while it is held or waited for, in a hash table by name.
 * Each client's held locks form an intrusive list from its handle, so
 * holding costs no allocation beyond the lock itself and a client that
 * holds none carries a NULL pointer. Leases are a min-heap of deadlines
 * (heap.c) keyed by the time they end, and the clock is asked for one
 * callback (lock_reap()) at the top's.
 *
 * Invariants:
 *   - a lock without a holder has no live waiter: whoever lets it go
 *     (UNLOCK, a lease's end, its holder's death) grants it at once to the
 *     first live waiter, or deletes it when none is left;
 *   - a client never waits for a lock it holds (LOCK_E_OWNED instead);
 *   - a granted waiter is on the granted list, on no lock's queue, until
 *     the connection layer takes it; if its client dies before it is
 *     answered, it still holds the lock, and lock_client_gone() passes
 *     it on like any other;
 *   - the lock (name and struct) counts against max_memory while it
 *     exists.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "htab.h"
#include "iomux-proto.h"
#include "lock.h"

#define LOCK_HTAB_INITIAL	16
#define LOCK_HEAP_INITIAL	16

struct lock {
	struct htab_entry	 e;	/* e.key = name */
	struct locks		*ls;
	struct hub_client	*holder;
	struct lock		*hnext, *hprev;	/* the holder's list */
	struct hub_waitq	 waiters;
	struct heap_node	 lease;	/* queued while a lease runs */
	uint8_t			 name[];
};

struct locks {
	struct hub_data		*data;
	struct hub_alarm	 alarm;		/* the nearest lease's end */
	struct htab		 tab;
	struct heap		 leases;
	struct hub_waitq	 granted;	/* to be answered */
	uint64_t		 held;
	uint64_t		 waiters;
	uint64_t		 leases_expired;
};

int
lock_new(struct hub_data *data, const struct hub_clock *clock,
    struct locks **out)
{
	struct locks	*ls;
	int		 ret;

	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		return -ENOMEM;
	ls->data = data;
	hub_alarm_init(&ls->alarm, clock);
	if ((ret = htab_init(&ls->tab, LOCK_HTAB_INITIAL)) < 0) {
		free(ls);
		return ret;
	}
	heap_init(&ls->leases, LOCK_HEAP_INITIAL);
	hub_waitq_init(&ls->granted);
	*out = ls;
	return 0;
}

/* htab_drain() visitor: free one lock, its waiters off its queue. */
static void
drain_lock(struct htab_entry *e, void *arg)
{
	struct locks	*ls = arg;
	struct lock	*l = container_of(e, struct lock, e);

	while (hub_waitq_pop(&l->waiters) != NULL)
		continue;
	hub_data_release(ls->data, lock_cost(l->e.klen));
	free(l);
}

void
lock_free(struct locks *ls)
{
	if (ls == NULL)
		return;
	while (hub_waitq_pop(&ls->granted) != NULL)
		continue;
	heap_free(&ls->leases);
	htab_drain(&ls->tab, drain_lock, ls);
	htab_free(&ls->tab);
	free(ls);
}

void
lock_stats_get(const struct locks *ls, struct lock_stats *st)
{
	st->held = ls->held;
	st->waiters = ls->waiters;
	st->leases_expired = ls->leases_expired;
}

size_t
lock_cost(size_t len)
{
	return sizeof(struct lock) + len;
}

struct lock *
lock_find(struct locks *ls, const void *name, size_t len)
{
	struct htab_entry	*e;

	if ((e = htab_find(&ls->tab, name, len)) == NULL)
		return NULL;
	return container_of(e, struct lock, e);
}

struct hub_client *
lock_holder(const struct lock *l)
{
	return l->holder;
}

static uint64_t
now_ms(const struct locks *ls)
{
	return hub_alarm_now(&ls->alarm);
}

/* Ask the clock for the nearest lease's end, if that changed. */
static void
arm(struct locks *ls)
{
	const struct heap_node	*n = heap_top(&ls->leases);

	hub_alarm_set(&ls->alarm, n != NULL ? n->key : HUB_NO_DEADLINE);
}

/* Delete l if nobody holds it or waits for it. */
static void
lock_unused(struct lock *l)
{
	struct locks	*ls = l->ls;

	if (l->holder != NULL || !hub_waitq_empty(&l->waiters))
		return;
	htab_remove(&ls->tab, &l->e);
	hub_data_release(ls->data, lock_cost(l->e.klen));
	free(l);
}

void
lock_wait(struct lock *l, struct hub_waiter *w)
{
	hub_waitq_push(&l->waiters, w);
	l->ls->waiters++;
}

void
lock_cancel(struct locks *ls, struct hub_waiter *w)
{
	struct lock	*l;

	if (w->q == NULL)
		return;
	if (w->q == &ls->granted) {
		/* It holds the lock now; its client's death passes it on. */
		hub_waitq_remove(w);
		return;
	}
	l = container_of(w->q, struct lock, waiters);
	hub_waitq_remove(w);
	ls->waiters--;
	lock_unused(l);
}

/* Make c the holder of the free lock l; 0 or -ENOMEM (the lease). */
static int
grant(struct lock *l, struct hub_client *c, uint64_t now, uint64_t lease_ms)
{
	struct locks	*ls = l->ls;

	if (lease_ms != 0 && lease_ms != IOMUX_TIMEOUT_FOREVER) {
		l->lease.key = lease_ms > UINT64_MAX - now ? UINT64_MAX - 1 :
		    now + lease_ms;
		if (heap_insert(&ls->leases, &l->lease) < 0)
			return -ENOMEM;
		arm(ls);
	}
	l->holder = c;
	l->hprev = NULL;
	l->hnext = c->locks;
	if (l->hnext != NULL)
		l->hnext->hprev = l;
	c->locks = l;
	ls->held++;
	return 0;
}

/* Take l from its holder; it is left without one (see pass_on()). */
static void
ungrant(struct lock *l)
{
	struct hub_client	*c = l->holder;

	if (heap_node_queued(&l->lease)) {
		heap_remove(&l->ls->leases, &l->lease);
		arm(l->ls);
	}
	if (l->hprev != NULL)
		l->hprev->hnext = l->hnext;
	else
		c->locks = l->hnext;
	if (l->hnext != NULL)
		l->hnext->hprev = l->hprev;
	l->hnext = l->hprev = NULL;
	l->holder = NULL;
	l->ls->held--;
}

/*
 * l was just let go: grant it to the first live waiter, or delete it.
 * Waiters of gone clients are dropped on the way (their connection
 * layer frees them). A waiter whose grant fails (no memory for its
 * lease) is answered with that failure, and the next one is tried.
 * l must not be used after this returns.
 */
static void
pass_on(struct lock *l, uint64_t now)
{
	struct locks		*ls = l->ls;
	struct hub_waiter	*w;

	while ((w = hub_waitq_pop(&l->waiters)) != NULL) {
		ls->waiters--;
		if (!hub_waiter_live(w))
			continue;
		w->result = grant(l, w->c, now, w->arg);
		hub_waitq_push(&ls->granted, w);
		if (w->result == 0)
			return;
	}
	lock_unused(l);
}

int
lock_acquire(struct locks *ls, const void *name, size_t len,
    struct hub_client *c, uint64_t lease_ms)
{
	struct lock	*l;
	int		 ret;

	if ((l = lock_find(ls, name, len)) != NULL) {
		if (l->holder == c)
			return LOCK_E_OWNED;
		if (l->holder != NULL)
			return LOCK_E_HELD;
	} else {
		if (hub_data_reserve(ls->data, lock_cost(len)) < 0)
			return -EDQUOT;
		if ((l = calloc(1, sizeof(*l) + len)) == NULL) {
			hub_data_release(ls->data, lock_cost(len));
			return -ENOMEM;
		}
		l->ls = ls;
		if (len > 0)
			memcpy(l->name, name, len);
		l->e.key = l->name;
		l->e.klen = (uint32_t)len;
		hub_waitq_init(&l->waiters);
		heap_node_init(&l->lease);
		htab_insert(&ls->tab, &l->e);
	}
	if ((ret = grant(l, c, now_ms(ls), lease_ms)) < 0) {
		lock_unused(l);
		return ret;
	}
	return 0;
}

int
lock_release(struct locks *ls, const void *name, size_t len,
    struct hub_client *c)
{
	struct lock	*l;

	if ((l = lock_find(ls, name, len)) == NULL || l->holder == NULL)
		return -ENOENT;
	if (l->holder != c)
		return -EPERM;
	ungrant(l);
	pass_on(l, now_ms(ls));
	return 0;
}

void
lock_client_gone(struct locks *ls, struct hub_client *c)
{
	struct lock	*l;

	while ((l = c->locks) != NULL) {
		ungrant(l);
		pass_on(l, now_ms(ls));
	}
}

struct hub_waiter *
lock_next_granted(struct locks *ls)
{
	return hub_waitq_pop(&ls->granted);
}

void
lock_reap(struct locks *ls)
{
	struct heap_node	*n;
	struct lock		*l;
	uint64_t		 now = now_ms(ls);

	hub_alarm_fired(&ls->alarm);
	while ((n = heap_top(&ls->leases)) != NULL && n->key <= now) {
		l = container_of(n, struct lock, lease);
		ls->leases_expired++;
		ungrant(l);
		pass_on(l, now);
	}
	arm(ls);
}
