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
 *   - an item never sits in a queue while a live waiter does: PUSH hands
 *     the leading values to live waiters first, and a waiter is only
 *     linked while its queue is empty;
 *   - a queue with no items, no waiters and no items in flight does not
 *     exist (deleted at once);
 *   - max_memory counts each stored item (its bytes and its header), and
 *     the queue itself (name and struct) while it holds at least one
 *     item: a queue kept only by waiters is not data, and a full server
 *     must still let consumers wait. The headers count, as kv.c counts
 *     its entries', so that empty values cannot fill the memory unseen;
 *   - a PUSH stores all of its values or none.
 *
 * Delivery: an item leaves its queue when its reply is accepted into a
 * connection's output, but it is gone for good only once the socket has
 * taken the whole reply (conn_handoff). Until then it is "in flight" and
 * keeps its queue; if the connection dies first (a reply that cannot be
 * sent, a consumer that shut down its reading side) the item goes back to
 * the head of its queue, or to the next live waiter. So delivery is
 * at-most-once after the hand-off to the kernel, and nothing is lost
 * before it. Handing an item to a waiter answers the waiter at once; if
 * that fails, its connection is only marked dead (conn_kill), and the
 * item comes back when it is released, from the loop: nothing here is
 * re-entered.
 */

#include <sys/types.h>

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "codec.h"
#include "conn.h"
#include "dispatch.h"
#include "htab.h"
#include "log.h"
#include "queue.h"
#include "server.h"

#define QUEUE_HTAB_INITIAL	64

struct queue {
	struct htab_entry	 e;	/* e.key = name */
	struct queues		*qs;
	struct queue_item	*head, *tail;
	uint64_t		 len;
	struct hub_waitq	 waiters;	/* blocked POPs, FIFO */
	unsigned int		 inflight;	/* popped, reply not yet sent */
	uint8_t			 name[];
};

struct queues {
	struct server	*srv;
	struct htab	 tab;
	uint64_t	 nonempty;	/* queues holding items */
	uint64_t	 items;
};

int
queue_new(struct server *srv, struct queues **out)
{
	struct queues	*qs;
	int		 ret;

	if ((qs = calloc(1, sizeof(*qs))) == NULL)
		return -ENOMEM;
	qs->srv = srv;
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
		server_mem_release(qs->srv, queue_cost_item(it->len));
		free(it);
	}
	if (q->len > 0)
		server_mem_release(qs->srv, queue_cost_name(q->e.klen));
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
queue_status(struct server *srv, struct reply *r)
{
	uint64_t	nq = 0, ni = 0;

	if (srv->queues != NULL)
		queue_counts(srv->queues, &nq, &ni);
	reply_pair_u64(r, "queues", nq);
	reply_pair_u64(r, "queued_items", ni);
}

void
queue_counts(const struct queues *qs, uint64_t *queues, uint64_t *items)
{
	*queues = qs->nonempty;
	*items = qs->items;
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

void
queue_unused(struct queue *q)
{
	if (q->len > 0 || !hub_waitq_empty(&q->waiters) || q->inflight > 0)
		return;
	htab_remove(&q->qs->tab, &q->e);
	free(q);
}

/* The longest-waiting POP of q, or NULL. */
static struct waiter *
first_waiter(const struct queue *q)
{
	struct hub_waiter	*hw = hub_waitq_first(&q->waiters);

	return hw != NULL ? container_of(hw, struct waiter, hw) : NULL;
}

void
queue_wait(struct queue *q, struct waiter *w)
{
	w->obj = q;
	hub_waitq_push(&q->waiters, &w->hw);
}

void
queue_cancel(struct waiter *w)
{
	struct queue	*q = w->obj;

	if (w->hw.q == NULL)
		return;	/* already handed over or dropped by a PUSH */
	hub_waitq_remove(&w->hw);
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
queue_item_free(struct queue_item *it)
{
	free(it);
}

/* Take the head item out of q and its accounting; q is kept. */
static struct queue_item *
item_detach(struct queue *q)
{
	struct queues		*qs = q->qs;
	struct queue_item	*it;

	if ((it = q->head) == NULL)
		return NULL;
	if ((q->head = it->next) == NULL)
		q->tail = NULL;
	it->next = NULL;
	qs->items--;
	server_mem_release(qs->srv, queue_cost_item(it->len));
	if (--q->len == 0) {
		qs->nonempty--;
		server_mem_release(qs->srv, queue_cost_name(q->e.klen));
	}
	return it;
}

int
queue_pop(struct queue *q, struct queue_item **out)
{
	if ((*out = item_detach(q)) == NULL)
		return -ENOENT;
	queue_unused(q);
	return 0;
}

static void	handoff_sent(void *, void *);
static void	handoff_undo(void *, void *);
static void	handoff_resume(void *);

static const struct conn_handoff_ops	handoff_ops = {
	handoff_sent, handoff_undo, handoff_resume,
};

/* Answer r with item it and hand it over to r's connection. */
static void
reply_item(struct queue *q, struct queue_item *it, struct reply *r)
{
	reply_begin(r, IOMUX_ST_OK);
	reply_arg(r, it->data, it->len);
	q->inflight++;
	conn_handoff(r->c, &handoff_ops, it, q, queue_cost_item(it->len));
}

int
queue_take(struct queue *q, struct reply *r)
{
	struct queue_item	*it;

	if ((it = item_detach(q)) == NULL)
		return -ENOENT;
	reply_item(q, it, r);
	return 0;
}

bool
queue_reply_fits(struct conn *c, size_t len)
{
	const struct buf	*b = conn_reply_buf(c);
	size_t			 body = IOMUX_BODY_HDR_SIZE +
				    IOMUX_ARG_HDR_SIZE + len;

	if (body > c->srv->conf.frame_max)
		return false;
	if (b->limit == 0)
		return true;
	return buf_len(b) <= b->limit &&
	    IOMUX_LEN_SIZE + body <= b->limit - buf_len(b);
}

/*
 * How many of vals[] live waiters will take, in order, walking the FIFO
 * as the hand-off will. Dead waiters are unlinked on the way (block.c
 * frees them when their connection's close is seen); a live one whose
 * output cannot take its value is skipped here and disconnected by the
 * hand-off. Links nothing, answers nothing.
 */
static int
count_takers(struct queue *q, const struct proto_arg *vals, int n)
{
	struct hub_waiter	*hw, *next;
	struct waiter		*w;
	int			 k = 0;

	for (hw = hub_waitq_first(&q->waiters); hw != NULL && k < n;
	    hw = next) {
		next = hub_waitq_next(hw);
		w = container_of(hw, struct waiter, hw);
		if (!block_alive(w))
			hub_waitq_remove(hw);
		else if (queue_reply_fits(w->c, vals[k].len))
			k++;
	}
	return k;
}

/*
 * Account n bytes that must be stored even past max_memory: a value
 * whose hand-off failed after the PUSH had been accepted, or an item whose
 * reply was never sent. Losing it would be worse than a bounded
 * overshoot.
 */
static void
mem_force(struct server *srv, uint64_t n)
{
	if (server_mem_reserve(srv, n) < 0)
		srv->data.bytes += n;
}

/* A live waiter whose output cannot take its value: as a subscriber. */
static void
waiter_drop(struct waiter *w)
{
	struct conn	*c = w->c;

	c->srv->stats.clients_dropped++;
	conn_kill(c, "output limit reached");	/* frees w (block_abort) */
}

/*
 * Answer the first live waiter that takes it, handing it over. Returns
 * true if it was handed over (it is no longer ours), false if the
 * waiters ran out first.
 */
static bool
hand_off(struct queue *q, struct queue_item *it)
{
	struct waiter	*w;
	struct reply	 r;

	while ((w = first_waiter(q)) != NULL) {
		hub_waitq_remove(&w->hw);
		if (!block_alive(w))
			continue;
		if (!queue_reply_fits(w->c, it->len)) {
			waiter_drop(w);
			continue;
		}
		block_reply(w, &r, IOMUX_ST_OK);
		if (conn_handoff_reserve(w->c) < 0) {
			reply_error(&r, IOMUX_ST_ENOMEM, "out of memory");
			(void)block_done(w, &r);
			continue;
		}
		reply_arg(&r, it->data, it->len);
		q->inflight++;
		conn_handoff(w->c, &handoff_ops, it, q,
		    queue_cost_item(it->len));
		/* If this fails the connection dies, and undo brings it back. */
		(void)block_done(w, &r);
		return true;
	}
	return false;
}

/* Put a detached item back at the head of q, accounted as stored. */
static void
item_prepend(struct queue *q, struct queue_item *it)
{
	struct queues	*qs = q->qs;

	mem_force(qs->srv, queue_cost_item(it->len) +
	    (q->len == 0 ? queue_cost_name(q->e.klen) : 0));
	if ((it->next = q->head) == NULL)
		q->tail = it;
	q->head = it;
	if (q->len++ == 0)
		qs->nonempty++;
	qs->items++;
}

/*
 * Items came back: an item never sits in a queue while a live waiter
 * does, so the head goes to waiters while both last. The queue is never
 * left unused here (an item handed on is in flight), so a later resume
 * of the same queue finds it.
 */
static void
handoff_resume(void *arg)
{
	struct queue		*q = arg;
	struct queue_item	*it;

	while (!hub_waitq_empty(&q->waiters) && q->head != NULL) {
		it = item_detach(q);
		if (!hand_off(q, it)) {
			item_prepend(q, it);	/* no live waiter after all */
			break;
		}
	}
}

/* Its reply is all out: the item is delivered. */
static void
handoff_sent(void *obj, void *arg)
{
	struct queue	*q = arg;

	q->inflight--;
	queue_item_free(obj);
	queue_unused(q);
}

/*
 * Its connection died before the reply was out: the item goes back to
 * the head of its queue. A dying connection's items are undone newest
 * first, so they end up at the head in the order they were popped; only
 * then (handoff_resume) do waiters get them, oldest first.
 */
static void
handoff_undo(void *obj, void *arg)
{
	struct queue	*q = arg;

	q->inflight--;
	item_prepend(q, obj);
}

int
queue_push(struct queues *qs, const void *name, size_t len,
    const struct proto_arg *vals, int n, uint64_t *newlen)
{
	struct server		*srv = qs->srv;
	struct queue		*q;
	struct queue_item	*chain = NULL, **tailp = &chain, *it, *next;
	struct waiter		*w;
	uint64_t		 need = 0, len0;
	int			 i, ntake;
	bool			 name_acct = false;

	if (n < 1)
		return -EINVAL;
	q = queue_find(qs, name, len);
	ntake = q != NULL ? count_takers(q, vals, n) : 0;
	len0 = q != NULL ? q->len : 0;

	/* All or nothing: reserve what is stored, allocate every item. */
	if (ntake < n) {
		for (i = ntake; i < n; i++)
			need += queue_cost_item(vals[i].len);
		if (len0 == 0) {
			need += queue_cost_name(len);
			name_acct = true;
		}
		if (server_mem_reserve(srv, need) < 0) {
			if (q != NULL)
				queue_unused(q);	/* dead waiters went */
			return -EDQUOT;
		}
	}
	if (q == NULL && (q = queue_create(qs, name, len)) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		if ((it = item_new(&vals[i])) == NULL)
			goto nomem;
		*tailp = it;
		tailp = &it->next;
	}

	/* The leading values go to live waiters; what they do not take... */
	for (i = 0; i < ntake && chain != NULL; i++) {
		it = chain;
		next = it->next;
		it->next = NULL;
		if (!hand_off(q, it)) {
			it->next = next;
			break;
		}
		chain = next;
	}
	/* ...is stored: the reserved part, and hand-offs that failed late. */
	for (; i < ntake; i++)
		mem_force(srv, queue_cost_item(vals[i].len));
	for (it = chain; it != NULL; it = next) {
		next = it->next;
		item_append(q, it);
	}
	if (len0 == 0 && q->len > 0 && !name_acct)
		mem_force(srv, queue_cost_name(len));
	/*
	 * Items are stored now, so no live waiter may stay: those left were
	 * found unable to take their value (count_takers) or are dead.
	 */
	if (q->len > 0) {
		while ((w = first_waiter(q)) != NULL) {
			hub_waitq_remove(&w->hw);
			if (block_alive(w))
				waiter_drop(w);
		}
	}
	if (newlen != NULL)
		*newlen = q->len;
	queue_unused(q);
	return 0;

nomem:
	for (it = chain; it != NULL; it = next) {
		next = it->next;
		free(it);
	}
	server_mem_release(srv, need);
	if (q != NULL)
		queue_unused(q);
	return -ENOMEM;
}
