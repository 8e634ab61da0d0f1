/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * serve.c: answer what the hub handed over, and keep its deadline timer.
 *
 * The hub decides (it grants a lock to the first live waiter, at once, so
 * its state is always consistent) and this file answers, afterwards. An
 * answer that cannot be queued only marks its connection dead
 * (block_done); that connection's release later gives the lock back to
 * the hub, which hands it on, and serve_hub() runs again. So the hub is
 * never re-entered and nothing here runs inside a hub call.
 */

#include <sys/types.h>

#include "block.h"
#include "conn.h"
#include "lock.h"
#include "serve.h"
#include "server.h"

static void
lease_cb(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct server	*srv = arg;

	srv->lease_at = LOCK_NO_DEADLINE;
	lock_expire(srv->locks, ev_now(loop));
	serve_hub(srv);
}

void
serve_init(struct server *srv)
{
	ev_timer_init(&srv->lease_timer, lease_cb, srv);
	srv->lease_at = LOCK_NO_DEADLINE;
}

void
serve_stop(struct server *srv)
{
	if (srv->loop != NULL)
		ev_timer_stop(srv->loop, &srv->lease_timer);
	srv->lease_at = LOCK_NO_DEADLINE;
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

void
serve_hub(struct server *srv)
{
	uint64_t	at;

	serve_locks(srv);
	at = lock_next_deadline(srv->locks);
	if (at == srv->lease_at)
		return;
	srv->lease_at = at;
	if (at == LOCK_NO_DEADLINE)
		ev_timer_stop(srv->loop, &srv->lease_timer);
	else if (ev_timer_start_at(srv->loop, &srv->lease_timer, at) < 0) {
		/* Try again after the next lock call; a lease ends late. */
		srv->lease_at = LOCK_NO_DEADLINE;
	}
}
