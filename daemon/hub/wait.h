/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * wait.h: the one FIFO of waiters that every hub module (a key's WAITs,
 * a queue's POPs, a lock's LOCKs) keeps, as <sys/queue.h> TAILQs.
 *
 * A waiter is embedded in whatever the connection layer keeps for a
 * waiting request; the hub sees only this part: which client waits, on
 * which queue, and one module argument. A waiter is on at most one queue
 * at a time, and hub_waitq_remove() on a waiter that is on none does
 * nothing, so a cancel that races a hand-off (both from the loop, one
 * after the other) is harmless.
 */

#ifndef IOMUXD_HUB_WAIT_H
#define IOMUXD_HUB_WAIT_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub.h"

struct hub_waitq;

struct hub_waiter {
	TAILQ_ENTRY(hub_waiter)	 link;
	struct hub_waitq	*q;	/* the queue it is on, or NULL */
	struct hub_client	*c;
	uint64_t		 arg;	/* the module's (a lock's lease) */
	int			 result; /* 0 or -errno, once handed over */
};

TAILQ_HEAD(hub_waiter_list, hub_waiter);

struct hub_waitq {
	struct hub_waiter_list	 list;
	uint64_t		 n;
};

static inline void
hub_waitq_init(struct hub_waitq *q)
{
	TAILQ_INIT(&q->list);
	q->n = 0;
}

static inline bool
hub_waitq_empty(const struct hub_waitq *q)
{
	return TAILQ_EMPTY(&q->list);
}

static inline struct hub_waiter *
hub_waitq_first(const struct hub_waitq *q)
{
	return TAILQ_FIRST(&q->list);
}

/* The waiter after w on its queue, or NULL. */
static inline struct hub_waiter *
hub_waitq_next(const struct hub_waiter *w)
{
	return TAILQ_NEXT(w, link);
}

static inline void
hub_waitq_push(struct hub_waitq *q, struct hub_waiter *w)
{
	TAILQ_INSERT_TAIL(&q->list, w, link);
	w->q = q;
	q->n++;
}

static inline void
hub_waitq_remove(struct hub_waiter *w)
{
	struct hub_waitq	*q = w->q;

	if (q == NULL)
		return;
	TAILQ_REMOVE(&q->list, w, link);
	q->n--;
	w->q = NULL;
}

/* The first waiter, taken off the queue; NULL when empty. */
static inline struct hub_waiter *
hub_waitq_pop(struct hub_waitq *q)
{
	struct hub_waiter	*w = TAILQ_FIRST(&q->list);

	if (w != NULL)
		hub_waitq_remove(w);
	return w;
}

/* Can w's client still be answered, as far as the hub knows? */
static inline bool
hub_waiter_live(const struct hub_waiter *w)
{
	return !hub_client_gone(w->c);
}

#endif /* IOMUXD_HUB_WAIT_H */
