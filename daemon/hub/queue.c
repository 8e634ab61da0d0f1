/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * queue.c: named FIFO queues with blocking pop.
 *
 * Queues live in a hash table by name. A queue's items are a singly
 * linked list of one allocation each (link, length, bytes), so PUSH and
 * POP are O(1) and an item costs 16 bytes over its value; nothing is ever
 * copied or resized. A queue with waiters (blocked POPs) but no items
 * exists only to hold its FIFO of waiters.
 *
 * Invariants:
 *   - a queue holding items and live waiters is on the ready list: the
 *     connection layer serves it (queue_next_ready) right after the call
 *     that made it so, so between requests no item sits in a queue while
 *     a live waiter does;
 *   - a queue with no items, no waiters and no items in flight does not
 *     exist (deleted at once);
 *   - max_memory counts each stored item (its bytes and its header), and
 *     the queue itself (name and struct) while it holds at least one
 *     item: a queue kept only by waiters is not data, and a full server
 *     must still let consumers wait. A PUSH needs room for all of its
 *     values even when waiters take them at once: they are stored first,
 *     and taking one gives its room back. The headers count, as kv.c counts
 *     its entries', so that empty values cannot fill the memory unseen;
 *   - a PUSH stores all of its values or none.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "htab.h"
#include "queue.h"

#define QUEUE_HTAB_INITIAL	64

struct queue {
	struct htab_entry	 e;	/* e.key = name */
	struct queues		*qs;
	struct queue_item	*head, *tail;
	uint64_t		 len;
	struct hub_waitq	 waiters;	/* blocked POPs, FIFO */
	uint64_t		 inflight;	/* taken, reply not yet sent */
	TAILQ_ENTRY(queue)	 rlink;		/* on qs->ready */
	bool			 ready;
	uint8_t			 name[];
};

struct queues {
	struct hub_data		*data;
	struct htab		 tab;
	TAILQ_HEAD(, queue)	 ready;		/* items and waiters both */
	uint64_t		 nonempty;	/* queues holding items */
	uint64_t		 items;
	uint64_t		 inflight;
	struct hub_journal	 journal;	/* told each change */
};

int
queue_new(struct hub_data *data, struct queues **out)
{
	struct queues	*qs;
	int		 ret;

	if ((qs = calloc(1, sizeof(*qs))) == NULL)
		return -ENOMEM;
	qs->data = data;
	TAILQ_INIT(&qs->ready);
	if ((ret = htab_init(&qs->tab, QUEUE_HTAB_INITIAL)) < 0) {
		free(qs);
		return ret;
	}
	*out = qs;
	return 0;
}

/* htab_drain() visitor: free one queue, its items and its waiters' link. */
static void
drain_queue(struct htab_entry *e, void *arg)
{
	struct queues		*qs = arg;
	struct queue		*q = container_of(e, struct queue, e);
	struct queue_item	*it, *inext;

	for (it = q->head; it != NULL; it = inext) {
		inext = it->next;
		hub_data_release(qs->data, queue_cost_item(it->len));
		free(it);
	}
	if (q->len > 0)
		hub_data_release(qs->data, queue_cost_name(q->e.klen));
	/* None should be left; make their cancel a no-op. */
	while (hub_waitq_pop(&q->waiters) != NULL)
		continue;
	free(q);
}

void
queue_free(struct queues *qs)
{
	if (qs == NULL)
		return;
	/* The table goes too, so entries are freed without htab_remove(). */
	htab_drain(&qs->tab, drain_queue, qs);
	htab_free(&qs->tab);
	free(qs);
}

void
queue_stats_get(const struct queues *qs, struct queue_stats *st)
{
	st->queues = qs->nonempty;
	st->items = qs->items;
	st->inflight = qs->inflight;
}

size_t
queue_cost_item(size_t len)
{
	return sizeof(struct queue_item) + len;
}

size_t
queue_cost_name(size_t len)
{
	return sizeof(struct queue) + len;
}

struct queue *
queue_find(struct queues *qs, const void *name, size_t len)
{
	struct htab_entry	*e;

	if ((e = htab_find(&qs->tab, name, len)) == NULL)
		return NULL;
	return container_of(e, struct queue, e);
}

uint64_t
queue_length(const struct queue *q)
{
	return q->len;
}

const struct queue_item *
queue_head(const struct queue *q)
{
	return q->head;
}

/* A new, empty, unaccounted queue in the table, or NULL (no memory). */
static struct queue *
queue_create(struct queues *qs, const void *name, size_t len)
{
	struct queue	*q;

	if ((q = calloc(1, sizeof(*q) + len)) == NULL)
		return NULL;
	hub_waitq_init(&q->waiters);
	q->qs = qs;
	if (len > 0)
		memcpy(q->name, name, len);
	q->e.key = q->name;
	q->e.klen = (uint32_t)len;
	htab_insert(&qs->tab, &q->e);
	return q;
}

int
queue_get(struct queues *qs, const void *name, size_t len,
    struct queue **out)
{
	if ((*out = queue_find(qs, name, len)) == NULL &&
	    (*out = queue_create(qs, name, len)) == NULL)
		return -ENOMEM;
	return 0;
}

static void
unready(struct queue *q)
{
	if (!q->ready)
		return;
	q->ready = false;
	TAILQ_REMOVE(&q->qs->ready, q, rlink);
}

/* Items and waiters both: the connection layer is to serve q. */
static void
mark_ready(struct queue *q)
{
	if (q->ready || q->head == NULL || hub_waitq_empty(&q->waiters))
		return;
	q->ready = true;
	TAILQ_INSERT_TAIL(&q->qs->ready, q, rlink);
}

void
queue_unused(struct queue *q)
{
	if (q->len > 0 || !hub_waitq_empty(&q->waiters) || q->inflight > 0)
		return;
	unready(q);
	htab_remove(&q->qs->tab, &q->e);
	free(q);
}

void
queue_wait(struct queue *q, struct hub_waiter *w)
{
	hub_waitq_push(&q->waiters, w);
	mark_ready(q);	/* cannot be, by the caller's contract: cheap */
}

void
queue_cancel(struct hub_waiter *w)
{
	struct queue	*q;

	if (w->q == NULL)
		return;	/* served, or dropped as gone */
	q = container_of(w->q, struct queue, waiters);
	hub_waitq_remove(w);
	queue_unused(q);
}

/* Append one detached item; accounting is the caller's. */
static void
item_append(struct queue *q, struct queue_item *it)
{
	it->next = NULL;
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	if (q->len++ == 0)
		q->qs->nonempty++;
	q->qs->items++;
}

static struct queue_item *
item_new(const struct proto_arg *v)
{
	struct queue_item	*it;

	if ((it = malloc(sizeof(*it) + v->len)) == NULL)
		return NULL;
	it->next = NULL;
	it->len = v->len;
	if (v->len > 0)
		memcpy(it->data, v->p, v->len);
	return it;
}

void
queue_set_journal(struct queues *qs, const struct hub_journal *j)
{
	qs->journal = *j;
}

/* Tell the journal: kind, q's name, then n values. */
static void
tell(struct queue *q, uint16_t kind, const struct proto_arg *vals, int n)
{
	struct hub_journal	*j = &q->qs->journal;

	if (j->emit != NULL)
		j->emit(j->arg, kind, q->name, q->e.klen, vals, n);
}

struct queue_item *
queue_take(struct queue *q)
{
	struct queues		*qs = q->qs;
	struct queue_item	*it;

	if ((it = q->head) == NULL)
		return NULL;
	if ((q->head = it->next) == NULL)
		q->tail = NULL;
	it->next = NULL;
	qs->items--;
	hub_data_release(qs->data, queue_cost_item(it->len));
	if (--q->len == 0) {
		qs->nonempty--;
		hub_data_release(qs->data, queue_cost_name(q->e.klen));
		unready(q);
	}
	q->inflight++;
	qs->inflight++;
	tell(q, IOMUX_OP_POP, NULL, 0);
	return it;
}

void
queue_item_sent(struct queue *q, struct queue_item *it)
{
	free(it);
	q->inflight--;
	q->qs->inflight--;
	queue_unused(q);
}

void
queue_item_undo(struct queue *q, struct queue_item *it)
{
	struct queues	*qs = q->qs;

	q->inflight--;
	qs->inflight--;
	hub_data_force(qs->data, queue_cost_item(it->len) +
	    (q->len == 0 ? queue_cost_name(q->e.klen) : 0));
	if ((it->next = q->head) == NULL)
		q->tail = it;
	q->head = it;
	if (q->len++ == 0)
		qs->nonempty++;
	qs->items++;
	if (qs->journal.emit != NULL) {
		struct proto_arg	v;

		memset(&v, 0, sizeof(v));
		v.p = it->data;
		v.len = it->len;
		tell(q, HUB_J_PUSHFRONT, &v, 1);
	}
	mark_ready(q);
}

int
queue_push(struct queues *qs, const void *name, size_t len,
    const struct proto_arg *vals, int n)
{
	struct queue		*q;
	struct queue_item	*chain = NULL, **tailp = &chain, *it, *next;
	uint64_t		 need = 0;
	int			 i;
	bool			 created = false;

	if (n < 1)
		return -EINVAL;
	q = queue_find(qs, name, len);

	/*
	 * All or nothing, and all of it under max_memory, waiters or not:
	 * every value is stored before a waiter takes it (queue_take gives
	 * its room back), so nothing here depends on guessing who will.
	 */
	for (i = 0; i < n; i++)
		need += queue_cost_item(vals[i].len);
	if (q == NULL || q->len == 0)
		need += queue_cost_name(len);
	if (hub_data_reserve(qs->data, need) < 0)
		return -EDQUOT;
	if (q == NULL) {
		if ((q = queue_create(qs, name, len)) == NULL)
			goto nomem;
		created = true;
	}
	for (i = 0; i < n; i++) {
		if ((it = item_new(&vals[i])) == NULL)
			goto nomem;
		*tailp = it;
		tailp = &it->next;
	}
	for (it = chain; it != NULL; it = next) {
		next = it->next;
		item_append(q, it);
	}
	tell(q, IOMUX_OP_PUSH, vals, n);
	mark_ready(q);
	return 0;

nomem:
	for (it = chain; it != NULL; it = next) {
		next = it->next;
		free(it);
	}
	hub_data_release(qs->data, need);
	if (created)
		queue_unused(q);
	return -ENOMEM;
}

struct hub_waiter *
queue_next_ready(struct queues *qs, struct queue **qp)
{
	struct queue		*q;
	struct hub_waiter	*w;

	while ((q = TAILQ_FIRST(&qs->ready)) != NULL) {
		while (q->head != NULL &&
		    (w = hub_waitq_pop(&q->waiters)) != NULL) {
			if (!hub_waiter_live(w))
				continue;	/* its connection cancels it */
			*qp = q;
			return w;
		}
		unready(q);
		queue_unused(q);
	}
	return NULL;
}
