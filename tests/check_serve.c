/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_serve.c: the queue and lock commands (cmd-queue.c, cmd-lock.c)
 * and what serve.c answers for the hub: items handed to waiting POPs and
 * back when their connection dies, locks handed to waiting LOCKs, leases.
 * The structures themselves (daemon/hub/queue.c, lock.c) are check_queue's
 * and check_lock's, without sockets.
 *
 * The cases run against a minimal real server (configuration, event
 * loop, the hub's modules) and
 * real connections from conn_new() on socketpairs: requests go through
 * dispatch_request(), and replies are read back from the peer sockets
 * after a loop iteration has flushed them, so blocking, hand-off, the
 * deadline timers and closing connections run the daemon's own code.
 * The only timing assertions are "not before" and "within a generous
 * bound".
 */

#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "block.h"
#include "check-run.h"
#include "codec.h"
#include "conn.h"
#include "dispatch.h"
#include "kv.h"
#include "lock.h"
#include "queue.h"
#include "serve.h"
#include "server.h"

#define NCONNS		8

static struct server	srv;

struct tconn {
	struct conn	*c;
	int		 peer;
	struct buf	 in;	/* bytes read from the peer end */
	uint32_t	 next_id;
};

static struct tconn	tc[NCONNS];

/* The last reply read. */
static struct {
	uint16_t	status;
	uint32_t	id;
	uint16_t	argc;
	uint8_t		arg0[512];
	uint32_t	arg0_len;
} rep;

static void
setup(void)
{
	memset(&srv, 0, sizeof(srv));
	conf_defaults(&srv.conf);
	buf_init(&srv.scratch, 0);
	srv.data.limits = &srv.limits;
	serve_init(&srv);
	ck_assert_int_eq(ev_loop_new(NULL, 256, &srv.loop), 0);
	ck_assert_int_eq(kv_new(&srv.data, &srv.kv_clock, &srv.kv), 0);
	ck_assert_int_eq(queue_new(&srv.data, &srv.queues), 0);
	ck_assert_int_eq(lock_new(&srv.data, &srv.lock_clock, &srv.locks), 0);
	ck_assert_int_eq(policy_default(geteuid(), &srv.policy), 0);
	memset(tc, 0, sizeof(tc));
}

static void
teardown(void)
{
	int	i;

	for (i = 0; i < NCONNS; i++) {
		if (tc[i].c != NULL)
			conn_destroy(tc[i].c);	/* releases as a close does */
		if (tc[i].peer > 0)
			close(tc[i].peer);
		buf_free(&tc[i].in);
	}
	while (srv.conns != NULL)
		conn_destroy(srv.conns);
	serve_stop(&srv);
	policy_unref(srv.policy);
	lock_free(srv.locks);
	queue_free(srv.queues);
	kv_free(srv.kv);
	ck_assert_uint_eq(srv.data.bytes, 0);
	ev_loop_free(srv.loop);
	buf_free(&srv.scratch);
}

static struct tconn *
tconn(int i)
{
	struct ucred	cred = { getpid(), geteuid(), getegid() };
	int		sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(conn_new(&srv, sv[0], &cred, &tc[i].c), 0);
	tc[i].peer = sv[1];
	buf_init(&tc[i].in, 0);
	tc[i].next_id = 1;
	return &tc[i];
}

/* Close the connection as the daemon would (freed by the next turn). */
static void
tkill(struct tconn *t)
{
	conn_kill(t->c, NULL);
	t->c = NULL;
	(void)ev_run_once(srv.loop, 0);
}

/* Send one request: op, then argc (pointer, length) pairs of strings. */
static void
req(struct tconn *t, uint16_t op, int argc, ...)
{
	struct proto_frame	f;
	struct proto_arg	args[8];
	va_list			ap;
	int			i;

	ck_assert_int_le(argc, 8);
	memset(&f, 0, sizeof(f));
	f.version = IOMUX_PROTO_VERSION;
	f.kind = IOMUX_KIND_REQUEST;
	f.code = op;
	f.id = t->next_id++;
	f.argc = (uint16_t)argc;
	va_start(ap, argc);
	for (i = 0; i < argc; i++) {
		args[i].p = va_arg(ap, const uint8_t *);
		args[i].len = va_arg(ap, uint32_t);
		args[i].absent = args[i].p == NULL;
	}
	va_end(ap);
	ck_assert_int_eq(dispatch_request(t->c, &f, args), 0);
}

#define S(s)		(const uint8_t *)(s), (uint32_t)strlen(s)
#define ABSENT		(const uint8_t *)NULL, (uint32_t)0

static uint8_t *
u64be(uint8_t b[8], uint64_t v)
{
	buf_put_u64(b, v);
	return b;
}

/* Flush replies (deferred turns) and read what arrived at t's peer. */
static void
pump(struct tconn *t, int wait_ms)
{
	uint8_t	chunk[4096];
	ssize_t	n;

	(void)ev_run_once(srv.loop, wait_ms);
	while ((n = recv(t->peer, chunk, sizeof(chunk), 0)) > 0)
		ck_assert_int_eq(buf_add(&t->in, chunk, (size_t)n), 0);
}

/* Try to take one reply frame from what t has read; 1 if one was. */
static int
take(struct tconn *t)
{
	struct proto_frame	f;
	struct proto_arg	args[4];
	int			n;

	n = proto_decode(buf_data(&t->in), buf_len(&t->in), UINT32_MAX, &f,
	    args, 4);
	ck_assert_int_ge(n, 0);
	if (n == 0)
		return 0;
	ck_assert_uint_eq(f.kind, IOMUX_KIND_REPLY);
	rep.status = f.code;
	rep.id = f.id;
	rep.argc = f.argc;
	rep.arg0_len = 0;
	if (f.argc > 0 && !args[0].absent) {
		ck_assert_uint_le(args[0].len, sizeof(rep.arg0));
		memcpy(rep.arg0, args[0].p, args[0].len);
		rep.arg0_len = args[0].len;
	}
	buf_consume(&t->in, (size_t)n);
	return 1;
}

/* The next reply to t, which must come within about a second. */
static void
reply(struct tconn *t)
{
	int	i;

	for (i = 0; i < 100; i++) {
		if (take(t))
			return;
		pump(t, i == 0 ? 0 : 10);
	}
	ck_abort_msg("no reply");
}

/* No reply is waiting for t. */
static void
no_reply(struct tconn *t)
{
	pump(t, 0);
	ck_assert_int_eq(take(t), 0);
}

static void
reply_st(struct tconn *t, uint16_t st)
{
	reply(t);
	ck_assert_msg(rep.status == st, "status %s, expected %s",
	    proto_status_name(rep.status), proto_status_name(st));
}

static void
reply_value(struct tconn *t, const char *v)
{
	reply_st(t, IOMUX_ST_OK);
	ck_assert_uint_eq(rep.argc, 1);
	ck_assert_uint_eq(rep.arg0_len, strlen(v));
	ck_assert(memcmp(rep.arg0, v, rep.arg0_len) == 0);
}

static void
reply_u64_is(struct tconn *t, uint64_t v)
{
	reply_st(t, IOMUX_ST_OK);
	ck_assert_uint_eq(rep.argc, 1);
	ck_assert_uint_eq(rep.arg0_len, 8);
	ck_assert_uint_eq(buf_get_u64(rep.arg0), v);
}

static uint64_t
qlen(const char *name)
{
	struct queue	*q = queue_find(srv.queues, name, strlen(name));

	return q != NULL ? queue_length(q) : 0;
}

/* Memory counted for items of these lengths, plus a queue name. */
#define IC(n)		queue_cost_item(n)
#define NC(n)		queue_cost_name(n)

/* --- the queue structure ------------------------------------------------ */

START_TEST(test_push_limit_message)
{
	struct tconn	*a = tconn(0);
	char		 big[64], msg[80];

	memset(big, 'x', 30);
	big[30] = '\0';
	srv.limits.max_memory = NC(1) + IC(30) + IC(5);
	req(a, IOMUX_OP_PUSH, 2, S("q"), S(big));
	reply_u64_is(a, 1);
	req(a, IOMUX_OP_PUSH, 3, S("q"), S("small"), S(big));
	reply_st(a, IOMUX_ST_ENOMEM);
	snprintf(msg, sizeof(msg), "out of memory: max_memory (%zu bytes) "
	    "reached", srv.limits.max_memory);
	ck_assert_uint_eq(rep.arg0_len, strlen(msg));
	ck_assert(memcmp(rep.arg0, msg, rep.arg0_len) == 0);
	req(a, IOMUX_OP_QLEN, 1, S("q"));
	reply_u64_is(a, 1);
}
END_TEST

/* --- the queue commands --------------------------------------------------- */

START_TEST(test_cmd_basic)
{
	struct tconn	*a = tconn(0);
	uint8_t		 b[8];

	req(a, IOMUX_OP_QLEN, 1, S("q"));
	reply_u64_is(a, 0);
	req(a, IOMUX_OP_POP, 1, S("q"));
	reply_st(a, IOMUX_ST_NOTFOUND);
	ck_assert_uint_eq(rep.argc, 0);
	req(a, IOMUX_OP_PEEK, 1, S("q"));
	reply_st(a, IOMUX_ST_NOTFOUND);
	req(a, IOMUX_OP_POP, 2, S("q"), u64be(b, 0), 8);
	reply_st(a, IOMUX_ST_TIMEDOUT);
	ck_assert_ptr_null(queue_find(srv.queues, "q", 1));

	req(a, IOMUX_OP_PUSH, 4, S("q"), S("one"), S("two"), S("three"));
	reply_u64_is(a, 3);
	req(a, IOMUX_OP_PEEK, 1, S("q"));
	reply_value(a, "one");
	req(a, IOMUX_OP_POP, 1, S("q"));
	reply_value(a, "one");
	req(a, IOMUX_OP_POP, 2, S("q"), u64be(b, IOMUX_TIMEOUT_FOREVER), 8);
	reply_value(a, "two");
	req(a, IOMUX_OP_QLEN, 1, S("q"));
	reply_u64_is(a, 1);

	/* Argument shapes. */
	req(a, IOMUX_OP_PUSH, 2, ABSENT, S("v"));
	reply_st(a, IOMUX_ST_EARGS);
	req(a, IOMUX_OP_PUSH, 2, S("q"), ABSENT);
	reply_st(a, IOMUX_ST_EARGS);
	req(a, IOMUX_OP_POP, 2, S("q"), S("abc"));
	reply_st(a, IOMUX_ST_EARGS);
	req(a, IOMUX_OP_PUSH, 1, S("q"));
	reply_st(a, IOMUX_ST_EARGS);
	srv.conf.key_max = 2;
	req(a, IOMUX_OP_QLEN, 1, S("abc"));
	reply_st(a, IOMUX_ST_ELIMIT);
	srv.conf.value_max = 3;
	req(a, IOMUX_OP_PUSH, 3, S("q"), S("abc"), S("abcd"));
	reply_st(a, IOMUX_ST_ELIMIT);
	req(a, IOMUX_OP_QLEN, 1, S("q"));
	reply_u64_is(a, 1);
}
END_TEST

START_TEST(test_cmd_pop_blocks)
{
	struct tconn	*a = tconn(0), *b = tconn(1);
	uint8_t		 t[8];

	req(a, IOMUX_OP_POP, 2, S("q"), u64be(t, IOMUX_TIMEOUT_FOREVER), 8);
	no_reply(a);
	ck_assert_ptr_nonnull(a->c->blocked);
	ck_assert_uint_eq(qlen("q"), 0);	/* kept only by its waiter */
	ck_assert_uint_eq(srv.data.bytes, 0);
	req(b, IOMUX_OP_PUSH, 3, S("q"), S("v1"), S("v2"));
	reply_u64_is(b, 1);	/* v1 went to a: never stored */
	reply_value(a, "v1");
	ck_assert_uint_eq(rep.id, 1);
	ck_assert_ptr_null(a->c->blocked);
	req(a, IOMUX_OP_POP, 1, S("q"));
	reply_value(a, "v2");
	ck_assert_ptr_null(queue_find(srv.queues, "q", 1));
	ck_assert_uint_eq(srv.data.bytes, 0);
}
END_TEST

START_TEST(test_cmd_two_workers)
{
	struct tconn	*w1 = tconn(0), *w2 = tconn(1), *p = tconn(2);
	uint8_t		 t[8];

	req(w1, IOMUX_OP_POP, 2, S("q"), u64be(t, IOMUX_TIMEOUT_FOREVER), 8);
	req(w2, IOMUX_OP_POP, 2, S("q"), u64be(t, 60000), 8);
	no_reply(w1);
	no_reply(w2);
	req(p, IOMUX_OP_PUSH, 2, S("q"), S("a"));
	reply_u64_is(p, 0);
	reply_value(w1, "a");	/* FIFO: the first waiter first */
	no_reply(w2);
	req(p, IOMUX_OP_PUSH, 4, S("q"), S("b"), S("c"), S("d"));
	reply_u64_is(p, 2);
	reply_value(w2, "b");
	req(w1, IOMUX_OP_POP, 1, S("q"));
	reply_value(w1, "c");
	req(w2, IOMUX_OP_POP, 1, S("q"));
	reply_value(w2, "d");
	req(w1, IOMUX_OP_POP, 1, S("q"));
	reply_st(w1, IOMUX_ST_NOTFOUND);
}
END_TEST

START_TEST(test_cmd_push_to_waiter_at_limit)
{
	struct tconn	*a = tconn(0), *b = tconn(1);
	uint8_t		 t[8];

	srv.limits.max_memory = NC(1) + IC(9) + NC(1) + IC(5);
	req(b, IOMUX_OP_PUSH, 2, S("f"), S("123456789"));
	reply_u64_is(b, 1);
	req(a, IOMUX_OP_POP, 2, S("q"), u64be(t, IOMUX_TIMEOUT_FOREVER), 8);
	/* A value for a waiter needs room too, given back once taken. */
	req(b, IOMUX_OP_PUSH, 2, S("q"), S("hello"));
	reply_u64_is(b, 0);
	reply_value(a, "hello");
	ck_assert_uint_eq(srv.data.bytes, NC(1) + IC(9));
	/* Two do not fit: all or nothing, the waiter gets nothing either. */
	req(a, IOMUX_OP_POP, 2, S("q"), u64be(t, IOMUX_TIMEOUT_FOREVER), 8);
	req(b, IOMUX_OP_PUSH, 3, S("q"), S("hello"), S("y"));
	reply_st(b, IOMUX_ST_ENOMEM);
	no_reply(a);
	ck_assert_ptr_nonnull(a->c->blocked);
	ck_assert_uint_eq(srv.data.bytes, NC(1) + IC(9));
}
END_TEST

START_TEST(test_cmd_waiter_disconnects)
{
	struct tconn	*a = tconn(0), *b = tconn(1), *c = tconn(2);
	uint8_t		 t[8];

	req(a, IOMUX_OP_POP, 2, S("q"), u64be(t, IOMUX_TIMEOUT_FOREVER), 8);
	req(b, IOMUX_OP_POP, 2, S("q"), u64be(t, IOMUX_TIMEOUT_FOREVER), 8);
	no_reply(a);
	/* a hangs up: the daemon sees EOF, cancels the wait, closes. */
	close(a->peer);
	a->peer = -1;
	pump(c, 10);
	a->c = NULL;	/* freed by the daemon */
	ck_assert_int_eq(srv.nclients, 2);
	req(c, IOMUX_OP_PUSH, 3, S("q"), S("1"), S("2"));
	reply_u64_is(c, 1);
	reply_value(b, "1");	/* a took nothing */
	req(b, IOMUX_OP_POP, 1, S("q"));
	reply_value(b, "2");

	/*
	 * Hung up, and the PUSH is handled before the loop reads the end of
	 * stream: the closed waiter still takes nothing.
	 */
	req(c, IOMUX_OP_POP, 2, S("q"), u64be(t, IOMUX_TIMEOUT_FOREVER), 8);
	close(c->peer);
	c->peer = -1;
	req(b, IOMUX_OP_PUSH, 2, S("q"), S("3"));
	reply_u64_is(b, 1);
	ck_assert_uint_eq(qlen("q"), 1);
	ck_assert_int_eq(srv.nclients, 1);	/* c's close was seen */
	c->c = NULL;
	req(b, IOMUX_OP_POP, 1, S("q"));
	reply_value(b, "3");

	/* Killed while waiting: the queue kept only by it goes too. */
	req(b, IOMUX_OP_POP, 2, S("r"), u64be(t, IOMUX_TIMEOUT_FOREVER), 8);
	ck_assert_ptr_nonnull(queue_find(srv.queues, "r", 1));
	tkill(b);
	ck_assert_ptr_null(queue_find(srv.queues, "r", 1));
	ck_assert_uint_eq(block_count(), 0);
}
END_TEST

START_TEST(test_cmd_pop_timeout)
{
	struct tconn	*a = tconn(0), *b = tconn(1);
	uint64_t	 t0;
	uint8_t		 t[8];

	t0 = ev_now(srv.loop);	/* what the deadline counts from */
	req(a, IOMUX_OP_POP, 2, S("q"), u64be(t, 30), 8);
	no_reply(a);
	reply_st(a, IOMUX_ST_TIMEDOUT);
	ck_assert_uint_ge(ev_now_update(srv.loop) - t0, 30);
	ck_assert_uint_eq(rep.argc, 0);
	ck_assert_ptr_null(queue_find(srv.queues, "q", 1));
	/* Its later requests run again, and a PUSH now stores. */
	req(b, IOMUX_OP_PUSH, 2, S("q"), S("late"));
	reply_u64_is(b, 1);
	req(a, IOMUX_OP_POP, 1, S("q"));
	reply_value(a, "late");
}
END_TEST

/*
 * A waiter whose output cannot take its item is dropped, and the item
 * goes to the next waiter instead of being lost.
 */
START_TEST(test_cmd_waiter_output_full)
{
	struct tconn	*a = tconn(0), *b = tconn(1), *p = tconn(2);
	uint8_t		 t[8];

	req(a, IOMUX_OP_POP, 2, S("q"), u64be(t, IOMUX_TIMEOUT_FOREVER), 8);
	req(b, IOMUX_OP_POP, 2, S("q"), u64be(t, IOMUX_TIMEOUT_FOREVER), 8);
	no_reply(a);
	a->c->out.limit = 16;	/* less than any reply with a value */
	req(p, IOMUX_OP_PUSH, 2, S("q"), S("item"));
	ck_assert(a->c->flags & CONN_F_DEAD);	/* freed by the next turn */
	a->c = NULL;
	ck_assert_uint_eq(srv.stats.clients_dropped, 1);
	reply_u64_is(p, 0);
	reply_value(b, "item");
}
END_TEST

/* --- locks -------------------------------------------------------------- */

START_TEST(test_lock_fifo)
{
	struct tconn	*a = tconn(0), *b = tconn(1), *c = tconn(2);
	struct tconn	*d = tconn(3);
	struct lock_stats st;

	req(a, IOMUX_OP_LOCK, 1, S("x"));
	reply_st(a, IOMUX_ST_OK);
	req(a, IOMUX_OP_LOCK, 1, S("x"));
	reply_st(a, IOMUX_ST_CONFLICT);	/* no re-entry */
	req(b, IOMUX_OP_LOCK, 1, S("x"));
	req(c, IOMUX_OP_LOCK, 1, S("x"));
	no_reply(b);
	no_reply(c);
	lock_stats_get(srv.locks, &st);
	ck_assert_uint_eq(st.held, 1);
	ck_assert_uint_eq(st.waiters, 2);
	req(d, IOMUX_OP_TRYLOCK, 1, S("x"));
	reply_st(d, IOMUX_ST_CONFLICT);
	req(d, IOMUX_OP_UNLOCK, 1, S("x"));
	reply_st(d, IOMUX_ST_ENOTOWNER);
	ck_assert_uint_eq(rep.argc, 1);
	req(d, IOMUX_OP_UNLOCK, 1, S("nope"));
	reply_st(d, IOMUX_ST_NOTFOUND);

	req(a, IOMUX_OP_UNLOCK, 1, S("x"));
	reply_st(a, IOMUX_ST_OK);
	reply_st(b, IOMUX_ST_OK);	/* the first waiter, at once */
	no_reply(c);
	ck_assert_ptr_eq(lock_holder(lock_find(srv.locks, "x", 1)), &b->c->hc);
	req(b, IOMUX_OP_UNLOCK, 1, S("x"));
	reply_st(b, IOMUX_ST_OK);
	reply_st(c, IOMUX_ST_OK);
	req(c, IOMUX_OP_UNLOCK, 1, S("x"));
	reply_st(c, IOMUX_ST_OK);
	req(c, IOMUX_OP_UNLOCK, 1, S("x"));
	reply_st(c, IOMUX_ST_NOTFOUND);
	ck_assert_ptr_null(lock_find(srv.locks, "x", 1));
	lock_stats_get(srv.locks, &st);
	ck_assert_uint_eq(st.held, 0);
	ck_assert_uint_eq(st.waiters, 0);
	ck_assert_uint_eq(srv.data.bytes, 0);
	ck_assert_ptr_null(c->c->hc.locks);
}
END_TEST

START_TEST(test_lock_release_on_close)
{
	struct tconn	*a = tconn(0), *b = tconn(1), *c = tconn(2);
	struct tconn	*d = tconn(3);

	req(a, IOMUX_OP_LOCK, 1, S("x"));
	reply_st(a, IOMUX_ST_OK);
	req(a, IOMUX_OP_TRYLOCK, 1, S("y"));
	reply_st(a, IOMUX_ST_OK);
	req(a, IOMUX_OP_LOCK, 1, S("z"));
	reply_st(a, IOMUX_ST_OK);
	req(b, IOMUX_OP_LOCK, 1, S("x"));
	req(c, IOMUX_OP_LOCK, 1, S("y"));
	req(d, IOMUX_OP_LOCK, 1, S("x"));
	no_reply(b);
	no_reply(c);
	tkill(a);
	reply_st(b, IOMUX_ST_OK);
	reply_st(c, IOMUX_ST_OK);
	no_reply(d);
	ck_assert_ptr_eq(lock_holder(lock_find(srv.locks, "x", 1)), &b->c->hc);
	ck_assert_ptr_eq(lock_holder(lock_find(srv.locks, "y", 1)), &c->c->hc);
	ck_assert_ptr_null(lock_find(srv.locks, "z", 1));
	ck_assert_uint_eq(srv.data.bytes, 2 * lock_cost(1));

	/* lock_client_gone() is what the close ran, and it is idempotent. */
	lock_client_gone(srv.locks, &b->c->hc);
	serve_hub(&srv);
	reply_st(d, IOMUX_ST_OK);
	lock_client_gone(srv.locks, &b->c->hc);
	serve_hub(&srv);
	ck_assert_ptr_null(b->c->hc.locks);
	ck_assert_ptr_eq(lock_holder(lock_find(srv.locks, "x", 1)), &d->c->hc);
}
END_TEST

START_TEST(test_lock_dead_waiter_skipped)
{
	struct tconn	*a = tconn(0), *b = tconn(1), *c = tconn(2);

	req(a, IOMUX_OP_LOCK, 1, S("x"));
	reply_st(a, IOMUX_ST_OK);
	req(b, IOMUX_OP_LOCK, 1, S("x"));
	req(c, IOMUX_OP_LOCK, 1, S("x"));
	tkill(b);
	req(a, IOMUX_OP_UNLOCK, 1, S("x"));
	reply_st(a, IOMUX_ST_OK);
	reply_st(c, IOMUX_ST_OK);
	ck_assert_ptr_eq(lock_holder(lock_find(srv.locks, "x", 1)), &c->c->hc);
}
END_TEST

START_TEST(test_lock_timeout_and_lease)
{
	struct tconn	*a = tconn(0), *b = tconn(1);
	struct lock_stats st;
	uint64_t	 t0;
	uint8_t		 t[8], l[8];

	t0 = ev_now(srv.loop);	/* what the lease counts from */
	req(a, IOMUX_OP_LOCK, 3, S("x"), ABSENT, u64be(l, 60), 8);
	reply_st(a, IOMUX_ST_OK);
	req(b, IOMUX_OP_LOCK, 2, S("x"), u64be(t, 0), 8);
	reply_st(b, IOMUX_ST_TIMEDOUT);
	req(b, IOMUX_OP_LOCK, 2, S("x"), u64be(t, 20), 8);
	reply_st(b, IOMUX_ST_TIMEDOUT);
	lock_stats_get(srv.locks, &st);
	ck_assert_uint_eq(st.waiters, 0);
	/* The lease runs out: the lock passes to the waiter. */
	req(b, IOMUX_OP_LOCK, 1, S("x"));
	reply_st(b, IOMUX_ST_OK);
	ck_assert_uint_ge(ev_now_update(srv.loop) - t0, 60);
	ck_assert_ptr_null(a->c->hc.locks);
	req(a, IOMUX_OP_UNLOCK, 1, S("x"));
	reply_st(a, IOMUX_ST_ENOTOWNER);
	req(b, IOMUX_OP_UNLOCK, 1, S("x"));
	reply_st(b, IOMUX_ST_OK);
	req(a, IOMUX_OP_UNLOCK, 1, S("x"));
	reply_st(a, IOMUX_ST_NOTFOUND);

	/* An expired lease with nobody waiting deletes the lock. */
	req(a, IOMUX_OP_TRYLOCK, 2, S("y"), u64be(l, 10), 8);
	reply_st(a, IOMUX_ST_OK);
	pump(a, 30);
	pump(a, 30);
	ck_assert_ptr_null(lock_find(srv.locks, "y", 1));
	ck_assert_uint_eq(srv.data.bytes, 0);
}
END_TEST

START_TEST(test_lock_trylock)
{
	struct tconn	*a = tconn(0), *b = tconn(1);

	req(a, IOMUX_OP_TRYLOCK, 1, S(""));	/* an empty name is a name */
	reply_st(a, IOMUX_ST_OK);
	req(a, IOMUX_OP_TRYLOCK, 1, S(""));
	reply_st(a, IOMUX_ST_CONFLICT);
	req(b, IOMUX_OP_TRYLOCK, 1, S(""));
	reply_st(b, IOMUX_ST_CONFLICT);
	req(b, IOMUX_OP_LOCK, 1, ABSENT);
	reply_st(b, IOMUX_ST_EARGS);
	req(b, IOMUX_OP_LOCK, 2, S("x"), S("short"));
	reply_st(b, IOMUX_ST_EARGS);
	req(a, IOMUX_OP_UNLOCK, 1, S(""));
	reply_st(a, IOMUX_ST_OK);
	req(b, IOMUX_OP_TRYLOCK, 1, S(""));
	reply_st(b, IOMUX_ST_OK);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("serve");
	TCase	*tc_cmd, *tc_lock;

	tc_cmd = tcase_create("commands");
	tcase_add_checked_fixture(tc_cmd, setup, teardown);
	tcase_add_test(tc_cmd, test_push_limit_message);
	tcase_add_test(tc_cmd, test_cmd_basic);
	tcase_add_test(tc_cmd, test_cmd_pop_blocks);
	tcase_add_test(tc_cmd, test_cmd_two_workers);
	tcase_add_test(tc_cmd, test_cmd_push_to_waiter_at_limit);
	tcase_add_test(tc_cmd, test_cmd_waiter_disconnects);
	tcase_add_test(tc_cmd, test_cmd_pop_timeout);
	tcase_add_test(tc_cmd, test_cmd_waiter_output_full);
	suite_add_tcase(s, tc_cmd);

	tc_lock = tcase_create("locks");
	tcase_add_checked_fixture(tc_lock, setup, teardown);
	tcase_add_test(tc_lock, test_lock_fifo);
	tcase_add_test(tc_lock, test_lock_release_on_close);
	tcase_add_test(tc_lock, test_lock_dead_waiter_skipped);
	tcase_add_test(tc_lock, test_lock_timeout_and_lease);
	tcase_add_test(tc_lock, test_lock_trylock);
	suite_add_tcase(s, tc_lock);
	return s;
}

int
main(void)
{
	return check_run(suite());
}
