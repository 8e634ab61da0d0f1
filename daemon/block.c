/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * block.c: requests that wait, with deadlines, without blocking the loop.
 *
 * A connection has at most one waiting request (its later requests queue
 * behind it, so replies stay in order), which keeps the bookkeeping to a
 * pointer in struct conn and one allocation per wait; the request path of
 * non-blocking commands never comes here.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>

#include "block.h"
#include "conn.h"
#include "server.h"

static uint64_t	nblocked;

static void
block_free(struct waiter *w)
{
	struct conn	*c = w->c;

	ev_timer_stop(c->srv->loop, &w->timer);
	c->blocked = NULL;
	nblocked--;
	buf_acct_release(&c->hc.mem, sizeof(*w));
	free(w);
}

static void
block_deadline(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct waiter	*w = arg;
	struct reply	 r;

	w->cancel(w);
	block_reply(w, &r, IOMUX_ST_TIMEDOUT);
	(void)block_done(w, &r);
}

struct waiter *
block_start(struct reply *r, uint64_t timeout_ms, waiter_cancel_fn *cancel,
    void *obj)
{
	struct conn	*c = r->c;
	struct waiter	*w;

	if (c->srv->stopping) {
		reply_error(r, IOMUX_ST_ESHUTDOWN, "server stopping");
		return NULL;
	}
	if (c->flags & (CONN_F_EOF | CONN_F_CLOSING)) {
		/* It sent its last request: nobody would see a late answer. */
		reply_begin(r, IOMUX_ST_TIMEDOUT);
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		reply_error(r, IOMUX_ST_ENOMEM, "out of memory");
		return NULL;
	}
	w->c = c;
	w->hw.c = &c->hc;
	w->id = r->id;
	w->op = r->op;
	w->obj = obj;
	w->cancel = cancel;
	ev_timer_init(&w->timer, block_deadline, w);
	if (timeout_ms != IOMUX_TIMEOUT_FOREVER &&
	    ev_timer_start(c->srv->loop, &w->timer, timeout_ms) < 0) {
		free(w);
		reply_error(r, IOMUX_ST_ENOMEM, "out of memory");
		return NULL;
	}
	buf_acct_charge(&c->hc.mem, sizeof(*w));
	c->blocked = w;
	nblocked++;
	r->blocked = true;
	return w;
}

/*
 * Not if its connection is closing, nor if the peer has hung up and the
 * loop has not read the end of stream yet: a hand-off may run first in the
 * same wake-up, and what is written to a closed socket is lost. Linux
 * reports a peer that closed (or shut down its sending side) as POLLRDHUP
 * at once. One poll(2) per hand-off, never on the request path.
 */
bool
block_alive(const struct waiter *w)
{
	if (w->c->flags & (CONN_F_DEAD | CONN_F_CLOSING | CONN_F_EOF |
	    CONN_F_HUP))
		return false;
	if (conn_peer_gone(w->c)) {
		conn_hangup(w->c);
		return false;
	}
	return true;
}

void
block_reply(struct waiter *w, struct reply *r, uint16_t status)
{
	r->c = w->c;
	r->id = w->id;
	r->op = w->op;
	r->begun = false;
	r->blocked = false;
	reply_begin(r, status);
}

int
block_done(struct waiter *w, struct reply *r)
{
	struct conn	*c = w->c;
	int		 ret;

	block_free(w);
	if ((ret = reply_end(r)) < 0) {
		if (ret == -ENOBUFS)
			c->srv->stats.clients_dropped++;
		conn_kill(c, ret == -ENOBUFS ? "output limit reached" :
		    "cannot queue a reply");
		return ret;
	}
	conn_unblocked(c);
	/* One SET may wake many waiters: the limit holds as they are. */
	server_client_mem_check(c->srv, c->user);
	return 0;
}

void
block_abort(struct conn *c, uint16_t st, const char *msg)
{
	struct waiter	*w = c->blocked;
	struct reply	 r;

	if (w == NULL)
		return;
	w->cancel(w);
	if (st != 0 && !(c->flags & CONN_F_DEAD)) {
		block_reply(w, &r, st);
		reply_str(&r, msg);
		(void)block_done(w, &r);
		return;
	}
	block_free(w);
}

uint64_t
block_count(void)
{
	return nblocked;
}
