/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * cmd-queue.c: the 0x02xx range: PUSH, POP, QLEN and PEEK. The handlers
 * check arguments and shape replies; the hub's queue.c owns the queues,
 * and serve.c hands items over (to a POP here, or to waiters after a
 * PUSH).
 */

#include <sys/types.h>

#include <errno.h>

#include "block.h"
#include "access.h"
#include "conn.h"
#include "dispatch.h"
#include "queue.h"
#include "serve.h"
#include "server.h"

static handler_fn	op_push, op_pop, op_qlen, op_peek;

const struct handler cmd_queue_ops[DISPATCH_RANGE_OPS] = {
	[IOMUX_OP_PUSH & 0xff] = { IOMUX_OP_PUSH, 2, 1 + IOMUX_PUSH_VALUES_MAX,
	    op_push, POLICY_RW, ACCESS_N_FIRST },
	[IOMUX_OP_POP & 0xff] = { IOMUX_OP_POP, 1, 2, op_pop,
	    POLICY_RW, ACCESS_N_FIRST },
	[IOMUX_OP_QLEN & 0xff] = { IOMUX_OP_QLEN, 1, 1, op_qlen,
	    POLICY_RO, ACCESS_N_FIRST },
	[IOMUX_OP_PEEK & 0xff] = { IOMUX_OP_PEEK, 1, 1, op_peek,
	    POLICY_RO, ACCESS_N_FIRST },
};

/*
 * PUSH queue value...: OK [u64 new length], the length once the waiters
 * have taken theirs: they are served before the reply is built (an item
 * whose taker dies before its reply is out comes back later).
 */
static void
op_push(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	struct server	*srv = c->srv;
	struct queue	*q;
	int		 i, ret;

	if (arg_name(r, &args[0], "queue name") < 0)
		return;
	for (i = 1; i < f->argc; i++)
		if (arg_value(r, &args[i], "value") < 0)
			return;
	ret = queue_push(srv->queues, args[0].p, args[0].len, &args[1],
	    f->argc - 1);
	if (ret < 0) {
		reply_nomem(r, ret);
		return;
	}
	serve_hub(srv);		/* waiters take theirs */
	q = queue_find(srv->queues, args[0].p, args[0].len);
	reply_begin(r, IOMUX_ST_OK);
	reply_u64(r, q != NULL ? queue_length(q) : 0);
}

/* block.c's cancel callback: deadline, disconnect or shutdown. */
static void
cancel(struct waiter *w)
{
	queue_cancel(&w->hw);
}

/*
 * POP queue [timeout]: OK [value] at once if there is an item; without
 * a timeout NOTFOUND, with one wait for a PUSH (FIFO among waiters).
 */
static void
op_pop(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	struct queues		*qs = c->srv->queues;
	struct queue		*q;
	const struct queue_item	*head;
	struct waiter		*w;
	uint64_t		 timeout;

	if (arg_name(r, &args[0], "queue name") < 0 ||
	    arg_u64(r, f, args, 1, 0, "timeout", &timeout) < 0)
		return;
	q = queue_find(qs, args[0].p, args[0].len);
	if (q != NULL && (head = queue_head(q)) != NULL) {
		/* An item taken is never lost to a reply that cannot go. */
		if (!conn_reply_fits(c, head->len)) {
			reply_error(r, IOMUX_ST_ELIMIT, "pop: the item of %lu "
			    "bytes does not fit the output limit or frame_max "
			    "now; it stays queued", (unsigned long)head->len);
			return;
		}
		if (conn_handoff_reserve(c) < 0) {
			reply_error(r, IOMUX_ST_ENOMEM, "out of memory");
			return;
		}
		reply_begin(r, IOMUX_ST_OK);
		serve_item(r, q);
		return;
	}
	if (!arg_given(f, args, 1)) {
		reply_begin(r, IOMUX_ST_NOTFOUND);
		return;
	}
	if (timeout == 0) {
		reply_begin(r, IOMUX_ST_TIMEDOUT);
		return;
	}
	if (queue_get(qs, args[0].p, args[0].len, &q) < 0) {
		reply_error(r, IOMUX_ST_ENOMEM, "out of memory");
		return;
	}
	if ((w = block_start(r, timeout, cancel, q)) == NULL) {
		queue_unused(q);	/* block_start() replied */
		return;
	}
	queue_wait(q, &w->hw);
}

/* QLEN queue: OK [u64], 0 for a missing queue. */
static void
op_qlen(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	struct queue	*q;

	if (arg_name(r, &args[0], "queue name") < 0)
		return;
	q = queue_find(c->srv->queues, args[0].p, args[0].len);
	reply_begin(r, IOMUX_ST_OK);
	reply_u64(r, q != NULL ? queue_length(q) : 0);
}

/* PEEK queue: OK [head value] | NOTFOUND. */
static void
op_peek(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	struct queue		*q;
	const struct queue_item	*head;

	if (arg_name(r, &args[0], "queue name") < 0)
		return;
	q = queue_find(c->srv->queues, args[0].p, args[0].len);
	if (q == NULL || (head = queue_head(q)) == NULL) {
		reply_begin(r, IOMUX_ST_NOTFOUND);
		return;
	}
	reply_begin(r, IOMUX_ST_OK);
	reply_arg(r, head->data, head->len);
}
