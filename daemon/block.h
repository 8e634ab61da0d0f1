/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * block.h: requests that wait (WAIT, POP with a timeout, LOCK) without
 * blocking the loop. A handler that cannot answer yet calls block_start()
 * instead of replying; the waiting request holds up only its own
 * connection's later requests (replies stay in order), never the loop.
 *
 * The hub module that owns what is waited on (a key, a queue, a lock)
 * keeps its waiters in FIFO order on a hub wait queue (hub/wait.h)
 * through w->hw, with w->obj the handler's, and the handler's cancel
 * callback takes it off. A waiter ends in exactly one of three ways, each
 * freeing it:
 *   - woken: the hub takes it off its queue and hands it over; serve.c
 *     answers with block_reply() + reply_* + block_done();
 *   - deadline: block.c calls cancel(), then answers TIMEDOUT;
 *   - its connection goes away (or the server stops): block.c calls
 *     cancel() and frees it; nothing was taken from the module, so
 *     nothing is lost.
 */

#ifndef IOMUXD_BLOCK_H
#define IOMUXD_BLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "dispatch.h"
#include "ev.h"
#include "wait.h"

struct conn;
struct waiter;

/* Unlink w from the module's wait list; must not free w or reply. */
typedef void	waiter_cancel_fn(struct waiter *);

struct waiter {
	struct hub_waiter	 hw;	/* on the module's queue; hw.c = &c->hc */
	struct conn		*c;
	uint32_t		 id;	/* request id the reply echoes */
	uint16_t		 op;
	struct ev_timer		 timer;	/* the deadline, unless forever */
	void			*obj;	/* what it waits on (module's) */
	waiter_cancel_fn	*cancel;
};

/*
 * From a handler: block the request being answered in r, waiting at most
 * timeout_ms (IOMUX_TIMEOUT_FOREVER: no deadline). Returns the new waiter
 * for the module to link into its list, or NULL after replying instead:
 * ENOMEM, ESHUTDOWN while the server stops, or TIMEDOUT at once when the
 * client has shut down its side (it sent its last request).
 */
struct waiter	*block_start(struct reply *r, uint64_t timeout_ms,
		    waiter_cancel_fn *cancel, void *obj);

/*
 * Can w's connection still take its reply: not closing or dead, and its
 * peer has not hung up (checked on the socket itself)? A hung-up peer is
 * marked (conn_hangup) so that its connection is closed, not left waiting
 * on a waiter the module has just dropped.
 */
bool	block_alive(const struct waiter *w);

/*
 * Answer a woken waiter (already unlinked by the module): begin the reply
 * with 'status', add arguments with reply_*, then block_done(), which
 * sends it, frees w and lets the connection's later requests run.
 * block_done() returns 0 or -errno if the reply could not be queued (the
 * connection is then dropped; a module handing over an item should check
 * block_alive() first).
 */
void	block_reply(struct waiter *w, struct reply *r, uint16_t status);
int	block_done(struct waiter *w, struct reply *r);

/*
 * Cancel and free c's waiter, if any: without a reply (st 0: the
 * connection is going away), or answered with the error status st and
 * message msg (the server stops, the connection fails).
 */
void	block_abort(struct conn *c, uint16_t st, const char *msg);

/* Blocked connections now (STATUS blocked_clients). */
uint64_t	block_count(void);

#endif /* IOMUXD_BLOCK_H */
