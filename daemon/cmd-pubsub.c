/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * cmd-pubsub.c: the 0x03xx range: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE,
 * PUNSUBSCRIBE and PUBLISH.
 *
 * Every argument is checked before anything changes, and a SUBSCRIBE
 * that fails half-way (subscriptions_max, memory) undoes what it added,
 * so an error reply always means "nothing changed". Subscribing twice to
 * the same name, or unsubscribing from one not subscribed, is not an
 * error. The OK replies carry the connection's subscription count after
 * the request, channels and patterns together.
 *
 * PUBLISH delivers to every matching subscription in one turn when they
 * are few (PUBLISH_SLICE), and in slices from deferred turns when they
 * are more, the request waiting meanwhile like a blocking one: one
 * request never holds the loop for longer than a slice.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "access.h"
#include "conn.h"
#include "dispatch.h"
#include "htab.h"
#include "pubsub.h"
#include "server.h"

static handler_fn	op_subscribe, op_unsubscribe, op_psubscribe,
			op_punsubscribe, op_publish;

const struct handler cmd_pubsub_ops[DISPATCH_RANGE_OPS] = {
	[IOMUX_OP_SUBSCRIBE & 0xff] =
	    { IOMUX_OP_SUBSCRIBE, 1, IOMUX_ARGS_MAX, op_subscribe,
	    POLICY_RO, ACCESS_N_ALL },
	/* Anyone may let go of what it holds. */
	[IOMUX_OP_UNSUBSCRIBE & 0xff] =
	    { IOMUX_OP_UNSUBSCRIBE, 0, IOMUX_ARGS_MAX, op_unsubscribe,
	    POLICY_NONE, ACCESS_N_NONE },
	[IOMUX_OP_PSUBSCRIBE & 0xff] =
	    { IOMUX_OP_PSUBSCRIBE, 1, IOMUX_ARGS_MAX, op_psubscribe,
	    POLICY_RO, ACCESS_N_PATTERNS },
	[IOMUX_OP_PUNSUBSCRIBE & 0xff] =
	    { IOMUX_OP_PUNSUBSCRIBE, 0, IOMUX_ARGS_MAX, op_punsubscribe,
	    POLICY_NONE, ACCESS_N_NONE },
	[IOMUX_OP_PUBLISH & 0xff] = { IOMUX_OP_PUBLISH, 2, 2, op_publish,
	    POLICY_RW, ACCESS_N_FIRST },
};

/* Check every name (and pattern shape); 0, or -EINVAL after replying. */
static int
check_names(const struct proto_frame *f, const struct proto_arg *args,
    struct reply *r, bool pattern)
{
	int	i;

	for (i = 0; i < f->argc; i++) {
		if (arg_name(r, &args[i], pattern ? "pattern" : "channel") < 0)
			return -EINVAL;
		if (pattern &&
		    pubsub_pattern_check(args[i].p, args[i].len) < 0) {
			reply_error(r, IOMUX_ST_EARGS, "%s: argument %d is not "
			    "a pattern (a prefix and one '*' at the end)",
			    proto_op_name(r->op), i + 1);
			return -EINVAL;
		}
	}
	return 0;
}

static void
subscribe(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r, bool pattern)
{
	struct pubsub	*ps = c->srv->pubsub;
	uint64_t	 added[(IOMUX_ARGS_MAX + 63) / 64] = { 0 };
	int		 i, j, ret = 0;

	if (check_names(f, args, r, pattern) < 0)
		return;
	for (i = 0; i < f->argc; i++) {
		ret = pubsub_subscribe(ps, &c->hc, args[i].p, args[i].len,
		    pattern);
		if (ret == 0)
			added[i / 64] |= UINT64_C(1) << (i % 64);
		else if (ret != PUBSUB_E_EXISTS)
			break;
	}
	if (i == f->argc) {
		reply_begin(r, IOMUX_ST_OK);
		reply_u64(r, pubsub_client_count(&c->hc));
		return;
	}

	/* All or nothing: take back what this request added. */
	for (j = 0; j < i; j++)
		if (added[j / 64] & (UINT64_C(1) << (j % 64)))
			(void)pubsub_unsubscribe(ps, &c->hc, args[j].p, args[j].len,
			    pattern);
	switch (ret) {
	case PUBSUB_E_LIMIT:
		reply_error(r, IOMUX_ST_ELIMIT, "%s: over subscriptions_max "
		    "(%d per connection)", proto_op_name(r->op),
		    c->srv->conf.subscriptions_max);
		break;
	case -ENOMEM:
		reply_error(r, IOMUX_ST_ENOMEM, "%s: out of memory",
		    proto_op_name(r->op));
		break;
	case -ENOTCONN:
		/* Nobody reads it: the connection was dropped. */
		reply_error(r, IOMUX_ST_ESHUTDOWN, "connection closed");
		break;
	default:
		reply_error(r, IOMUX_ST_EINTERNAL, "%s: unexpected error %d",
		    proto_op_name(r->op), ret);
		break;
	}
}

static void
unsubscribe(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r, bool pattern)
{
	struct pubsub	*ps = c->srv->pubsub;
	int		 i;

	if (check_names(f, args, r, pattern) < 0)
		return;
	if (f->argc == 0)
		pubsub_unsubscribe_all(ps, &c->hc, pattern);
	for (i = 0; i < f->argc; i++)
		(void)pubsub_unsubscribe(ps, &c->hc, args[i].p, args[i].len,
		    pattern);
	reply_begin(r, IOMUX_ST_OK);
	reply_u64(r, pubsub_client_count(&c->hc));
}

/* SUBSCRIBE channel... -> OK [u64 subscriptions] */
static void
op_subscribe(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	subscribe(c, f, args, r, false);
}

/* UNSUBSCRIBE [channel...] (none: every channel) -> OK [u64] */
static void
op_unsubscribe(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	unsubscribe(c, f, args, r, false);
}

/* PSUBSCRIBE pattern... -> OK [u64 subscriptions] */
static void
op_psubscribe(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	subscribe(c, f, args, r, true);
}

/* PUNSUBSCRIBE [pattern...] (none: every pattern) -> OK [u64] */
static void
op_punsubscribe(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	unsubscribe(c, f, args, r, true);
}

struct delivery {
	struct server	*srv;
	const void	*channel, *msg;
	size_t		 clen, mlen;
	uint64_t	 count;
};

static void
delivery_init(struct delivery *d, struct server *srv, const void *channel,
    size_t clen, const void *msg, size_t mlen)
{
	d->srv = srv;
	d->channel = channel;
	d->clen = clen;
	d->msg = msg;
	d->mlen = mlen;
	d->count = 0;
}

/*
 * Queue one message to a subscriber, into its output (or scratch, for the
 * publisher itself): the output limit applies as it is produced, and so
 * does client_memory_max. One that cannot take it is cut off; it is only
 * marked dead, so the walk goes on.
 */
static void
deliver(struct hub_client *hc, const uint8_t *pattern, size_t plen,
    void *arg)
{
	struct delivery	*d = arg;
	struct conn	*c = container_of(hc, struct conn, hc);
	struct reply	 r;
	int		 ret;

	/* A connection being closed takes no new frames (and no delays). */
	if (c->flags & CONN_F_CLOSING)
		return;
	push_begin(&r, c, IOMUX_PUSH_MESSAGE);
	reply_arg(&r, d->channel, d->clen);
	reply_arg(&r, d->msg, d->mlen);
	if (pattern != NULL)
		reply_arg(&r, pattern, plen);
	if ((ret = reply_end(&r)) == 0) {
		d->count++;
		/* N subscribers must not hold N x output_limit at once. */
		server_client_mem_check(d->srv, c->user);
		return;
	}
	if (ret == -ENOBUFS) {
		d->srv->stats.subscribers_dropped++;
		d->srv->stats.clients_dropped++;
		conn_kill(c, "subscriber output limit reached");
	} else
		conn_kill(c, "cannot queue a message for a subscriber");
}

/*
 * A PUBLISH is answered in one turn if it reaches at most this many
 * subscriptions; one that reaches more is delivered in slices of this
 * many per loop turn, so that other clients are served in between. Each
 * delivery is one push frame into a subscriber's output: a slice is a
 * few milliseconds at most.
 */
#define PUBLISH_SLICE	4096

/*
 * A PUBLISH too big for one turn: a waiting request (its connection's
 * later requests queue behind it, so replies stay in order) whose channel
 * and message are copied here, charged to the publisher, and delivered
 * from a deferred turn at a time.
 */
struct publish_job {
	struct waiter		*w;
	struct ev_defer		 defer;
	struct pubsub_cursor	*cur;
	struct delivery		 d;
	size_t			 size;
	uint8_t			 data[];	/* channel, then message */
};

static void
job_free(struct publish_job *job)
{
	struct conn	*c = job->w->c;

	ev_defer_cancel(c->srv->loop, &job->defer);
	pubsub_cursor_free(job->cur);
	buf_acct_release(&c->hc.mem, job->size);
	free(job);
}

/* block.c's cancel: the publisher went away, or the server stops. */
static void
job_cancel(struct waiter *w)
{
	job_free(w->obj);
}

static void
job_run(struct ev_loop *loop, struct ev_defer *dfr, void *arg)
{
	struct publish_job	*job = arg;
	struct waiter		*w = job->w;
	struct conn		*c = w->c;
	struct reply		 r;
	uint64_t		 n, visited = 0;

	/* The reply counts what deliver() queued, as pubsub_match()'s does. */
	if (!pubsub_cursor_next(job->cur, PUBLISH_SLICE, deliver, &job->d,
	    &visited)) {
		c->srv->stats.publish_slices++;
		ev_defer(loop, &job->defer);
		return;
	}
	n = job->d.count;
	block_reply(w, &r, IOMUX_ST_OK);
	reply_u64(&r, n);
	job_free(job);
	(void)block_done(w, &r);	/* frees w, without a cancel */
}

/*
 * Start a sliced fan-out; false (nothing done) if it cannot be, and the
 * caller delivers in one turn after all.
 */
static bool
publish_sliced(struct conn *c, const struct proto_arg *args,
    struct reply *r)
{
	struct server		*srv = c->srv;
	struct publish_job	*job;
	size_t			 size;

	/* Nobody would see a late answer: block_start() says TIMEDOUT. */
	if (c->flags & (CONN_F_EOF | CONN_F_CLOSING) || srv->stopping)
		return false;
	size = sizeof(*job) + args[0].len + args[1].len;
	if ((job = calloc(1, size)) == NULL)
		return false;
	if (pubsub_cursor_new(srv->pubsub, args[0].p, args[0].len,
	    &job->cur) < 0) {
		free(job);
		return false;
	}
	if (args[0].len > 0)
		memcpy(job->data, args[0].p, args[0].len);
	if (args[1].len > 0)
		memcpy(job->data + args[0].len, args[1].p, args[1].len);
	delivery_init(&job->d, srv, job->data, args[0].len,
	    job->data + args[0].len, args[1].len);
	job->size = size;
	if ((job->w = block_start(r, IOMUX_TIMEOUT_FOREVER, job_cancel,
	    job)) == NULL) {
		pubsub_cursor_free(job->cur);
		free(job);
		return true;	/* replied */
	}
	buf_acct_charge(&c->hc.mem, size);
	ev_defer_init(&job->defer, job_run, job);
	ev_defer(srv->loop, &job->defer);
	srv->stats.publishes_sliced++;
	return true;
}

/*
 * PUBLISH channel message -> OK [u64 deliveries]. The pushes are queued
 * before the reply is begun: a publisher subscribed to its own channel
 * gets its push in the same output, ahead of the reply.
 */
static void
op_publish(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	struct server	*srv = c->srv;
	struct delivery	 d;
	uint64_t	 n;

	if (arg_name(r, &args[0], "channel") < 0 ||
	    arg_value(r, &args[1], "message") < 0)
		return;
	/*
	 * A pattern delivery carries the pattern too, so the push can be
	 * larger than the request; refuse what could not be delivered
	 * rather than deliver it to some subscribers only. With the default
	 * limits (value_max half of frame_max) this never happens.
	 */
	if (pubsub_push_size(args[0].len, args[1].len) > srv->conf.frame_max) {
		reply_error(r, IOMUX_ST_ELIMIT, "publish: a %lu-byte message "
		    "on a %lu-byte channel does not fit a push frame "
		    "(frame_max %lu)", (unsigned long)args[1].len,
		    (unsigned long)args[0].len,
		    (unsigned long)srv->conf.frame_max);
		return;
	}
	if (pubsub_match_count(srv->pubsub, args[0].p, args[0].len) >
	    PUBLISH_SLICE && publish_sliced(c, args, r))
		return;
	delivery_init(&d, srv, args[0].p, args[0].len, args[1].p, args[1].len);
	(void)pubsub_match(srv->pubsub, d.channel, d.clen, deliver, &d);
	n = d.count;
	reply_begin(r, IOMUX_ST_OK);
	reply_u64(r, n);
}
