/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * queue.h: named FIFO queues with blocking pop.
 * The server-facing part; the handlers in cmd-queue.c use the rest.
 */

#ifndef IOMUXD_QUEUE_H
#define IOMUXD_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct proto_arg;
struct reply;
struct server;
struct queues;
struct queue;
struct waiter;


/* Create the (empty) state, at server start; 0 or -ENOMEM. */
int	queue_new(struct server *, struct queues **);
/*
 * Free everything, at server exit (no waiters are left by then: every
 * connection is gone). Stored items and names are released from the
 * server's memory account.
 */
void	queue_free(struct queues *);
/* Append this module's STATUS pairs (queues, queued_items). */
void	queue_status(struct server *, struct reply *);

/*
 * The rest is for cmd-queue.c and the unit tests.
 *
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
size_t	queue_cost_item(size_t len);
size_t	queue_cost_name(size_t len);
/* The queue of that name, or NULL (missing, which reads as empty). */
struct queue	*queue_find(struct queues *, const void *name, size_t len);
/* Items stored in q (0 while only waiters keep it). */
uint64_t	 queue_length(const struct queue *);
/* The head item, still owned by the queue, or NULL when empty. */
const struct queue_item	*queue_head(const struct queue *);
/* Non-empty queues and the items they hold, for STATUS and tests. */
void	queue_counts(const struct queues *, uint64_t *queues,
	    uint64_t *items);

/*
 * Append vals[0..n) (present, size-checked by the caller) in order. Live
 * waiters of the queue (FIFO) are handed the leading values directly and
 * are answered at once (as queue_take() hands over); only what is left is
 * stored. A live waiter whose
 * output cannot take its value is disconnected (as a subscriber would
 * be) and the value goes to the next. Either every value is delivered or
 * stored, or nothing happens and no waiter was answered: -EDQUOT when
 * storing the rest would pass max_memory, -ENOMEM when malloc fails,
 * -EINVAL for n < 1. On success *newlen (if not NULL) is the stored
 * length after the push.
 */
int	queue_push(struct queues *, const void *name, size_t len,
	    const struct proto_arg *vals, int n, uint64_t *newlen);
/*
 * POP: answer r with the head item of q, OK [item], and hand the item
 * over to r's connection: it is gone for good once the whole reply is
 * written, and back at the head of q (or with q's next live waiter) if
 * the connection dies first. The caller has checked that the reply fits
 * (queue_reply_fits) and reserved the hand-off (conn_handoff_reserve).
 * 0, or -ENOENT when q is empty. q must not be used afterwards.
 */
int	queue_take(struct queue *q, struct reply *r);
/*
 * Detach the head item of q into *out: 0, or -ENOENT when q is empty.
 * The item is no longer accounted; the caller replies with it, then
 * frees it with queue_item_free(). A queue left empty and without
 * waiters is deleted: q must not be used after a successful pop.
 */
int	queue_pop(struct queue *q, struct queue_item **out);
void	queue_item_free(struct queue_item *);
/*
 * Would a reply carrying one argument of len bytes fit c's output now
 * (its output limit and frame_max)? Checked before an item leaves its
 * queue, so an item is never lost to a reply that cannot be queued.
 */
bool	queue_reply_fits(struct conn *c, size_t len);
/*
 * The named queue, created empty if missing, for a POP about to wait on
 * it: 0 or -ENOMEM. A queue kept only by waiters costs no max_memory.
 * If the caller then links no waiter, it calls queue_unused().
 */
int	queue_get(struct queues *, const void *name, size_t len,
	    struct queue **out);
/*
 * Link w (from block_start() with queue_cancel and q) at the tail of q's
 * waiters. q must hold no items: a POP takes the head instead.
 */
void	queue_wait(struct queue *q, struct waiter *w);
/* Delete q if it holds no items and no waiters. */
void	queue_unused(struct queue *q);
/* Unlink w from its queue (block.h's cancel); idempotent. */
void	queue_cancel(struct waiter *);

#endif /* IOMUXD_QUEUE_H */
