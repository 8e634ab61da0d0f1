/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * lock.c: named locks held by connections, with FIFO waiters and leases.
 *
 * A lock exists while it is held or waited for, in a hash table by name.
 * Each connection's held locks form an intrusive list from c->locks, so
 * holding costs no allocation beyond the lock itself and an idle
 * connection carries a NULL pointer. A lease is an ev_timer embedded in
 * the lock, armed only while a holder with a lease has it.
 *
 * Invariants:
 *   - a lock without a holder has no live waiter: whoever releases it
 *     (UNLOCK, lease expiry, the holder's connection closing) hands it at
 *     once to the first live waiter, or deletes it when none is left;
 *   - a connection never waits for a lock it holds (CONFLICT instead);
 *   - the lock (name and struct) counts against max_memory while it
 *     exists, as kv.c's entries count with their headers.
 *
 * Handing a lock over answers the waiter (block_reply/block_done). If
 * that reply cannot be queued, block.c only marks the waiter's connection
 * dead; its lock_conn_closed() passes the lock on again later, from the
 * connection's release pass in the loop. The lock is granted before the
 * reply is attempted, so the state is consistent whichever way that goes,
 * and nothing re-enters this module while it walks a lock's waiters.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "conn.h"
#include "dispatch.h"
#include "htab.h"
#include "lock.h"
#include "server.h"

#define LOCK_HTAB_INITIAL	16

struct lock {
	struct htab_entry	 e;	/* e.key = name */
	struct locks		*ls;
	struct conn		*holder;
	struct lock		*hnext, *hprev;	/* holder's list */
	struct waiter		*wfirst, *wlast;
	struct ev_timer		 lease;
	uint8_t			 name[];
};

struct locks {
	struct server	*srv;
	struct htab	 tab;
	uint64_t	 held;
	uint64_t	 waiters;
};

static void	lease_expired(struct ev_loop *, struct ev_timer *, void *);

int
lock_new(struct server *srv, struct locks **out)
{
	struct locks	*ls;
	int		 ret;

	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		return -ENOMEM;
	ls->srv = srv;
	if ((ret = htab_init(&ls->tab, LOCK_HTAB_INITIAL)) < 0) {
		free(ls);
		return ret;
	}
	*out = ls;
	return 0;
}

/* htab_drain() visitor: free one lock, unlinking any waiters. */
static void
drain_lock(struct htab_entry *e, void *arg)
{
	struct locks	*ls = arg;
	struct lock	*l = container_of(e, struct lock, e);
	struct waiter	*w;

	if (ls->srv->loop != NULL)
		ev_timer_stop(ls->srv->loop, &l->lease);
	while ((w = l->wfirst) != NULL) {
		l->wfirst = w->next;
		w->next = w->prev = NULL;
		w->obj = NULL;
	}
	server_mem_release(ls->srv, lock_cost(l->e.klen));
	free(l);
}

void
lock_free(struct locks *ls)
{
	if (ls == NULL)
		return;
	htab_drain(&ls->tab, drain_lock, ls);
	htab_free(&ls->tab);
	free(ls);
}

void
lock_counts(const struct locks *ls, uint64_t *held, uint64_t *waiters)
{
	*held = ls->held;
	*waiters = ls->waiters;
}

void
lock_status(struct server *srv, struct reply *r)
{
	uint64_t	held = 0, waiters = 0;

	if (srv->locks != NULL)
		lock_counts(srv->locks, &held, &waiters);
	reply_pair_u64(r, "locks_held", held);
	reply_pair_u64(r, "lock_waiters", waiters);
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

struct conn *
lock_holder(const struct lock *l)
{
	return l->holder;
}

/* Delete l if nobody holds it or waits for it. */
static void
lock_unused(struct lock *l)
{
	struct locks	*ls = l->ls;

	if (l->holder != NULL || l->wfirst != NULL)
		return;
	htab_remove(&ls->tab, &l->e);
	server_mem_release(ls->srv, lock_cost(l->e.klen));
	free(l);
}

static void
waiter_unlink(struct lock *l, struct waiter *w)
{
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		l->wfirst = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	else
		l->wlast = w->prev;
	w->next = w->prev = NULL;
	w->obj = NULL;	/* so a second cancel does nothing */
	l->ls->waiters--;
}

void
lock_wait(struct lock *l, struct waiter *w)
{
	w->obj = l;
	w->next = NULL;
	w->prev = l->wlast;
	if (l->wlast != NULL)
		l->wlast->next = w;
	else
		l->wfirst = w;
	l->wlast = w;
	l->ls->waiters++;
}

void
lock_cancel(struct waiter *w)
{
	struct lock	*l = w->obj;

	if (l == NULL)
		return;
	waiter_unlink(l, w);
	lock_unused(l);
}

/* Make c the holder of the free lock l; 0 or -ENOMEM (lease timer). */
static int
grant(struct lock *l, struct conn *c, uint64_t lease_ms)
{
	struct locks	*ls = l->ls;

	if (lease_ms != 0 && lease_ms != IOMUX_TIMEOUT_FOREVER &&
	    ev_timer_start(ls->srv->loop, &l->lease, lease_ms) < 0)
		return -ENOMEM;
	l->holder = c;
	l->hprev = NULL;
	l->hnext = c->locks;
	if (l->hnext != NULL)
		l->hnext->hprev = l;
	c->locks = l;
	ls->held++;
	return 0;
}

/* Take l from its holder; it is left without one (see hand_on()). */
static void
ungrant(struct lock *l)
{
	struct conn	*c = l->holder;

	ev_timer_stop(l->ls->srv->loop, &l->lease);
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
 * l was just released: give it to the first live waiter, or delete it.
 * Dead waiters are unlinked on the way (block.c frees them). l must not
 * be used after this returns.
 */
static void
hand_on(struct lock *l)
{
	struct waiter	*w;
	struct reply	 r;

	while ((w = l->wfirst) != NULL) {
		waiter_unlink(l, w);
		if (!block_alive(w))
			continue;
		if (grant(l, w->c, w->arg) < 0) {
			block_reply(w, &r, IOMUX_ST_ENOMEM);
			reply_str(&r, "out of memory");
			(void)block_done(w, &r);
			continue;
		}
		/*
		 * If the reply cannot be queued, block_done() marks the
		 * connection dead; its release hands the lock on again.
		 */
		block_reply(w, &r, IOMUX_ST_OK);
		(void)block_done(w, &r);
		return;
	}
	lock_unused(l);
}

static void
lease_expired(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct lock	*l = arg;

	ungrant(l);
	hand_on(l);
}

int
lock_acquire(struct locks *ls, const void *name, size_t len, struct conn *c,
    uint64_t lease_ms)
{
	struct lock	*l;
	int		 ret;

	if ((l = lock_find(ls, name, len)) != NULL) {
		if (l->holder == c)
			return LOCK_E_OWNED;
		if (l->holder != NULL)
			return LOCK_E_HELD;
	} else {
		if (server_mem_reserve(ls->srv, lock_cost(len)) < 0)
			return -EDQUOT;
		if ((l = calloc(1, sizeof(*l) + len)) == NULL) {
			server_mem_release(ls->srv, lock_cost(len));
			return -ENOMEM;
		}
		l->ls = ls;
		if (len > 0)
			memcpy(l->name, name, len);
		l->e.key = l->name;
		l->e.klen = (uint32_t)len;
		ev_timer_init(&l->lease, lease_expired, l);
		htab_insert(&ls->tab, &l->e);
	}
	if ((ret = grant(l, c, lease_ms)) < 0) {
		lock_unused(l);
		return ret;
	}
	return 0;
}

int
lock_release(struct locks *ls, const void *name, size_t len, struct conn *c)
{
	struct lock	*l;

	if ((l = lock_find(ls, name, len)) == NULL || l->holder == NULL)
		return -ENOENT;
	if (l->holder != c)
		return -EPERM;
	ungrant(l);
	hand_on(l);
	return 0;
}

void
lock_conn_closed(struct server *srv, struct conn *c)
{
	struct lock	*l;

	/* Re-read the head each time: a hand-off may close others. */
	while ((l = c->locks) != NULL) {
		ungrant(l);
		hand_on(l);
	}
}
