/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * serve.c: answer what the hub handed over, and run its clocks.
 *
 * The hub decides, at once, so its state is always consistent: a lock let
 * go is granted to its first live waiter, a key written wakes its WAITs,
 * a PUSH makes a queue with waiters ready. This file answers afterwards,
 * from whoever made the hub call (a handler, a connection's release, a
 * timer): it takes the waiters off the hub's lists and builds their
 * replies. An answer that cannot be queued only marks its connection dead
 * (block_done); that connection's release later gives back what it held
 * (its lock, its items in flight), the hub hands it on, and serve_hub()
 * runs again. So the hub is never re-entered, and nothing here runs
 * inside a hub call.
 *
 * The hub's clocks read the loop's time and arm one timer per module
 * that has deadlines (key expiry, lock leases).
 */

#include <sys/types.h>

#include "block.h"
#include "conn.h"
#include "kv.h"
#include "lock.h"
#include "queue.h"
#include "serve.h"
#include "server.h"

static uint64_t
clock_now(void *arg)
{
	struct server	*srv = arg;

	return ev_now(srv->loop);
}

/*
 * A hub module asks to be reaped at 'when'. Not into the hub: only the
 * timer. Only a first start can fail (the loop's heap growing): reads
 * stay exact, and the module asks again at its next call.
 */
static int
arm(struct server *srv, struct ev_timer *t, uint64_t when)
{
	if (when == HUB_NO_DEADLINE) {
		ev_timer_stop(srv->loop, t);
		return 0;
	}
	return ev_timer_start_at(srv->loop, t, when);
}

static int
kv_arm(void *arg, uint64_t when)
{
	struct server	*srv = arg;

	return arm(srv, &srv->kv_timer, when);
}

static int
lock_arm(void *arg, uint64_t when)
{
	struct server	*srv = arg;

	return arm(srv, &srv->lease_timer, when);
}

static void
kv_cb(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct server	*srv = arg;

	kv_reap(srv->kv);
}

static void
lease_cb(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct server	*srv = arg;

	lock_reap(srv->locks);
	serve_hub(srv);
}

void
serve_init(struct server *srv)
{
	ev_timer_init(&srv->lease_timer, lease_cb, srv);
	ev_timer_init(&srv->kv_timer, kv_cb, srv);
	srv->kv_clock.now = clock_now;
	srv->kv_clock.arm = kv_arm;
	srv->kv_clock.arg = srv;
	srv->lock_clock.now = clock_now;
	srv->lock_clock.arm = lock_arm;
	srv->lock_clock.arg = srv;
}

void
serve_stop(struct server *srv)
{
	if (srv->loop != NULL) {
		ev_timer_stop(srv->loop, &srv->lease_timer);
		ev_timer_stop(srv->loop, &srv->kv_timer);
	}
}

/* Answer the waiters given a lock (or a failure to take it). */
static void
serve_locks(struct server *srv)
{
	struct hub_waiter	*hw;
	struct waiter		*w;
	struct reply		 r;

	while ((hw = lock_next_granted(srv->locks)) != NULL) {
		w = container_of(hw, struct waiter, hw);
		if (hw->result == 0) {
			block_reply(w, &r, IOMUX_ST_OK);
		} else {
			block_reply(w, &r, IOMUX_ST_ENOMEM);
			reply_str(&r, "out of memory");
		}
		(void)block_done(w, &r);
	}
}

/* Answer the WAITs a write woke, with the value as it is now. */
static void
serve_waits(struct server *srv)
{
	struct hub_waiter	*hw;
	struct waiter		*w;
	struct reply		 r;
	const uint8_t		*val;
	size_t			 vlen;

	while ((hw = kv_next_woken(srv->kv, &val, &vlen)) != NULL) {
		w = container_of(hw, struct waiter, hw);
		if (!block_alive(w))
			continue;	/* hung up: its close cancels it */
		block_reply(w, &r, IOMUX_ST_OK);
		reply_arg(&r, val, vlen);
		(void)block_done(w, &r);	/* on failure conn is dropped */
	}
}

static void
item_sent(void *obj, void *arg)
{
	queue_item_sent(arg, obj);
}

static void
item_undo(void *obj, void *arg)
{
	queue_item_undo(arg, obj);
}

static const struct conn_handoff_ops	item_ops = { item_sent, item_undo };

void
serve_item(struct reply *r, struct queue *q)
{
	struct queue_item	*it = queue_take(q);

	reply_arg(r, it->data, it->len);
	conn_handoff(r->c, &item_ops, it, q, queue_cost_item(it->len));
}

/*
 * Hand items to the POPs waiting on the queues that have both. A waiter
 * whose output cannot take its item now is disconnected, as a subscriber
 * would be, and the item goes to the next; an item no reply can carry
 * (frame_max lowered by a reload) is refused as a POP would refuse it,
 * and stays queued.
 */
static void
serve_queues(struct server *srv)
{
	struct hub_waiter	*hw;
	struct waiter		*w;
	struct queue		*q;
	struct reply		 r;
	size_t			 len;

	while ((hw = queue_next_ready(srv->queues, &q)) != NULL) {
		w = container_of(hw, struct waiter, hw);
		if (!block_alive(w))
			continue;	/* hung up: its close cancels it */
		len = queue_head(q)->len;
		if (IOMUX_BODY_HDR_SIZE + IOMUX_ARG_HDR_SIZE + len >
		    srv->conf.frame_max) {
			block_reply(w, &r, IOMUX_ST_ELIMIT);
			reply_str(&r, "pop: the item does not fit frame_max; "
			    "it stays queued");
			(void)block_done(w, &r);
			continue;
		}
		if (!conn_reply_fits(w->c, len)) {
			srv->stats.clients_dropped++;
			conn_kill(w->c, "output limit reached");
			continue;
		}
		block_reply(w, &r, IOMUX_ST_OK);
		if (conn_handoff_reserve(w->c) < 0) {
			reply_error(&r, IOMUX_ST_ENOMEM, "out of memory");
			(void)block_done(w, &r);
			continue;
		}
		serve_item(&r, q);
		/* If this fails the connection dies, and undo brings it back. */
		(void)block_done(w, &r);
	}
}

void
serve_hub(struct server *srv)
{
	serve_queues(srv);
	serve_waits(srv);
	serve_locks(srv);
}
