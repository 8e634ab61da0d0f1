/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * queue.h: named FIFO queues with blocking pop.
 *
 * Part of the hub: it knows waiting clients by their hub handle and
 * answers nobody. A PUSH that finds waiters stores its values and marks
 * the queue ready; the connection layer then takes (waiter, item) pairs
 * with queue_next_ready() and queue_take(), after the call, and answers
 * them. An item taken is "in flight" until the connection layer says it
 * was written whole (queue_item_sent()) or that its connection died first
 * (queue_item_undo(): back at the head, for the next waiter). So an item
 * leaves for good only once its reply is out, and nothing is lost before.
 */

#ifndef IOMUXD_QUEUE_H
#define IOMUXD_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub.h"
#include "wait.h"

struct proto_arg;
struct queues;
struct queue;

/* Data (items, names) is accounted in data, against its max_memory. */
int	queue_new(struct hub_data *data, struct queues **);
/*
 * Free everything. Stored items and names are released from the data
 * account; waiters still linked are taken off their queues. Items in
 * flight belong to whoever took them and must have been settled.
 */
void	queue_free(struct queues *);

/*
 * An item is one allocation: its link and its bytes. Each stored item
 * counts against max_memory with its header, and so does a queue (its
 * name and struct) while it holds items; see queue_cost_*().
 */
struct queue_item {
	struct queue_item	*next;
	uint32_t		 len;
	uint8_t			 data[];
};

/* What an item of len bytes, and a queue named with len bytes, count. */
/* Tell j each change made from now on (hub.h, struct hub_journal). */
void	queue_set_journal(struct queues *, const struct hub_journal *j);

size_t	queue_cost_item(size_t len);
size_t	queue_cost_name(size_t len);
/* The queue of that name, or NULL (missing, which reads as empty). */
struct queue	*queue_find(struct queues *, const void *name, size_t len);
/* Items stored in q (0 while only waiters or items in flight keep it). */
uint64_t	 queue_length(const struct queue *);
/* The head item, still owned by the queue, or NULL when empty. */
const struct queue_item	*queue_head(const struct queue *);

struct queue_stats {
	uint64_t	queues;		/* holding items */
	uint64_t	items;		/* stored */
	uint64_t	inflight;	/* taken, not yet sent */
};
void	queue_stats_get(const struct queues *, struct queue_stats *);

/*
 * Append vals[0..n) (present, size-checked by the caller) in order: all
 * of them, or nothing (-EDQUOT: max_memory, -ENOMEM, -EINVAL for n < 1).
 * Every value needs room under max_memory, also one a waiter is about to
 * take (it leaves the account when it is taken). With waiters, the
 * queue is ready (queue_next_ready()).
 */
int	queue_push(struct queues *, const void *name, size_t len,
	    const struct proto_arg *vals, int n);

/*
 * Take the head item of q for a reply: it leaves the queue's length and
 * the data account but keeps q alive, in flight, until queue_item_sent()
 * or queue_item_undo(). NULL when q is empty.
 */
struct queue_item	*queue_take(struct queue *q);
/* Its reply was written whole: the item is delivered, and freed. */
void	queue_item_sent(struct queue *q, struct queue_item *it);
/*
 * Its reply was not: the item goes back to the head of q (counted even
 * past max_memory: losing it would be worse), and q is ready if anyone
 * waits. A dying connection's items are undone newest first, so they
 * end up at the head in the order they were taken.
 */
void	queue_item_undo(struct queue *q, struct queue_item *it);

/*
 * The named queue, created empty if missing, for a POP about to wait on
 * it: 0 or -ENOMEM. A queue kept only by waiters costs no max_memory.
 * If the caller then links no waiter, it calls queue_unused().
 */
int	queue_get(struct queues *, const void *name, size_t len,
	    struct queue **out);
/* Link w (w->c set) at the tail of q's waiters; q holds no items. */
void	queue_wait(struct queue *q, struct hub_waiter *w);
/* Take w off its queue (deadline, death); nothing if it is on none. */
void	queue_cancel(struct hub_waiter *w);
/* Delete q if it holds no items, no waiters and nothing in flight. */
void	queue_unused(struct queue *q);

/*
 * The next live waiter to be given an item, taken off its queue, and
 * the queue *q whose head is for it (queue_take()); NULL when no queue
 * has both. Waiters of gone clients are dropped on the way. The caller
 * either takes the head for w, or drops w's client (a reply that cannot
 * fit), and calls again.
 */
struct hub_waiter	*queue_next_ready(struct queues *, struct queue **q);

#endif /* IOMUXD_QUEUE_H */
