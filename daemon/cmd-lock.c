/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * cmd-lock.c: the 0x04xx range: LOCK, TRYLOCK and UNLOCK. The handlers
 * check arguments and shape replies; the hub's lock.c owns the locks, and
 * serve.c answers the waiters a lock is handed to.
 */

#include <sys/types.h>

#include <errno.h>

#include "block.h"
#include "access.h"
#include "conn.h"
#include "dispatch.h"
#include "lock.h"
#include "serve.h"
#include "server.h"

static handler_fn	op_lock, op_trylock, op_unlock;

const struct handler cmd_lock_ops[DISPATCH_RANGE_OPS] = {
	[IOMUX_OP_LOCK & 0xff] = { IOMUX_OP_LOCK, 1, 3, op_lock,
	    POLICY_RW, ACCESS_N_FIRST },
	[IOMUX_OP_TRYLOCK & 0xff] = { IOMUX_OP_TRYLOCK, 1, 2, op_trylock,
	    POLICY_RW, ACCESS_N_FIRST },
	[IOMUX_OP_UNLOCK & 0xff] = { IOMUX_OP_UNLOCK, 1, 1, op_unlock,
	    POLICY_RW, ACCESS_N_FIRST },
};

/* Reply to a failed lock_acquire() that is not "held by another". */
static void
acquire_error(struct reply *r, int ret)
{
	if (ret == LOCK_E_OWNED)
		reply_begin(r, IOMUX_ST_CONFLICT);
	else
		reply_nomem(r, ret);
}

/* block.c's cancel callback: deadline, disconnect or shutdown. */
static void
cancel(struct waiter *w)
{
	lock_cancel(w->c->srv->locks, &w->hw);
}

/*
 * LOCK name [timeout] [lease]: OK once held (FIFO among waiters),
 * TIMEDOUT, or CONFLICT if this connection holds it already.
 */
static void
op_lock(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	struct locks	*ls = c->srv->locks;
	struct lock	*l;
	struct waiter	*w;
	uint64_t	 timeout, lease;
	int		 ret;

	if (arg_name(r, &args[0], "lock name") < 0 ||
	    arg_u64(r, f, args, 1, IOMUX_TIMEOUT_FOREVER, "timeout",
	    &timeout) < 0 ||
	    arg_u64(r, f, args, 2, 0, "lease", &lease) < 0)
		return;
	ret = lock_acquire(ls, args[0].p, args[0].len, &c->hc, lease);
	if (ret == 0) {
		reply_begin(r, IOMUX_ST_OK);
		return;
	}
	if (ret != LOCK_E_HELD) {
		acquire_error(r, ret);
		return;
	}
	if (timeout == 0) {
		reply_begin(r, IOMUX_ST_TIMEDOUT);
		return;
	}
	/* Held by another: it exists and stays while we link. */
	l = lock_find(ls, args[0].p, args[0].len);
	if ((w = block_start(r, timeout, cancel, l)) == NULL)
		return;	/* replied ENOMEM */
	w->hw.arg = lease;
	lock_wait(l, &w->hw);
}

/* TRYLOCK name [lease]: OK, or CONFLICT if anyone holds it. */
static void
op_trylock(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	uint64_t	lease;
	int		ret;

	if (arg_name(r, &args[0], "lock name") < 0 ||
	    arg_u64(r, f, args, 1, 0, "lease", &lease) < 0)
		return;
	ret = lock_acquire(c->srv->locks, args[0].p, args[0].len, &c->hc,
	    lease);
	if (ret == 0)
		reply_begin(r, IOMUX_ST_OK);
	else if (ret == LOCK_E_HELD)
		reply_begin(r, IOMUX_ST_CONFLICT);
	else
		acquire_error(r, ret);
}

/* UNLOCK name: OK, ENOTOWNER, or NOTFOUND if nobody holds it. */
static void
op_unlock(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	int	ret;

	if (arg_name(r, &args[0], "lock name") < 0)
		return;
	ret = lock_release(c->srv->locks, args[0].p, args[0].len, &c->hc);
	if (ret == -ENOENT)
		reply_begin(r, IOMUX_ST_NOTFOUND);
	else if (ret == -EPERM)
		reply_error(r, IOMUX_ST_ENOTOWNER,
		    "unlock: the lock is held by another connection");
	else {
		reply_begin(r, IOMUX_ST_OK);
		serve_hub(c->srv);	/* the next in line gets it */
	}
}
