/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_queue.c: unit tests of the queues (daemon/hub/queue.c), linked
 * with the hub library alone: no connection layer, no sockets. Bare
 * client handles wait, and the test plays the connection layer: it takes
 * (waiter, item) pairs off the ready queues and says whether each reply
 * was sent or its connection died. Covered: FIFO order over 100k items,
 * deletion of an emptied queue, memory accounting back to zero, the
 * all-or-nothing PUSH at max_memory (waiters or not),
 * waiters served in FIFO order with gone ones skipped, items in flight
 * keeping their queue, and undone items back at the head in order.
 * The commands over real connections are check_serve's.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check-run.h"
#include "codec.h"
#include "hub.h"
#include "hub-journal.h"
#include "queue.h"

#define FIFO_ITEMS	100000
#define NW		4

static struct hub_limits	 hlimits;
static struct hub_data		 data;
static struct queues		*qs;
static struct hub_client	 cl[NW];
static struct hub_waiter	 ww[NW];

static void
setup(void)
{
	memset(&hlimits, 0, sizeof(hlimits));
	memset(cl, 0, sizeof(cl));
	memset(ww, 0, sizeof(ww));
	data.bytes = 0;
	data.limits = &hlimits;
	ck_assert_int_eq(queue_new(&data, &qs), 0);
}

static void
teardown(void)
{
	int	i;

	queue_free(qs);
	qs = NULL;
	ck_assert_uint_eq(data.bytes, 0);
	for (i = 0; i < NW; i++)
		ck_assert_ptr_null(ww[i].q);
}

static int
push_str(const char *q, int n, ...)
{
	struct proto_arg	vals[8];
	va_list			ap;
	int			i;

	va_start(ap, n);
	for (i = 0; i < n; i++) {
		vals[i].p = va_arg(ap, const uint8_t *);
		vals[i].len = (uint32_t)strlen((const char *)vals[i].p);
		vals[i].absent = false;
	}
	va_end(ap);
	return queue_push(qs, q, strlen(q), vals, n);
}

static uint64_t
qlen(const char *name)
{
	struct queue	*q = queue_find(qs, name, strlen(name));

	return q != NULL ? queue_length(q) : 0;
}

/* Memory counted for items of these lengths, plus a queue name. */
#define IC(n)		queue_cost_item(n)
#define NC(n)		queue_cost_name(n)

/* --- the queue structure ------------------------------------------------ */

START_TEST(test_fifo_100k)
{
	struct proto_arg	 vals[100];
	struct queue_item	*it;
	struct queue		*q;
	char			 buf[100][16], want[16];
	struct queue_stats	 st;
	uint64_t		 len;
	int			 i, j, n = 0;

	for (i = 0; i < FIFO_ITEMS / 100; i++) {
		for (j = 0; j < 100; j++, n++) {
			vals[j].len = (uint32_t)snprintf(buf[j],
			    sizeof(buf[j]), "%d", n);
			vals[j].p = (const uint8_t *)buf[j];
			vals[j].absent = false;
		}
		ck_assert_int_eq(queue_push(qs, "jobs", 4, vals, 100),
		    0);
		len = queue_length(queue_find(qs, "jobs", 4));
		ck_assert_uint_eq(len, (uint64_t)n);
	}
	queue_stats_get(qs, &st);
	ck_assert_uint_eq(st.queues, 1);
	ck_assert_uint_eq(st.items, FIFO_ITEMS);
	for (n = 0; n < FIFO_ITEMS; n++) {
		q = queue_find(qs, "jobs", 4);
		ck_assert_ptr_nonnull(q);
		ck_assert_uint_eq(queue_length(q), (uint64_t)(FIFO_ITEMS - n));
		ck_assert_ptr_nonnull(it = queue_take(q));
		snprintf(want, sizeof(want), "%d", n);
		ck_assert_uint_eq(it->len, strlen(want));
		ck_assert(memcmp(it->data, want, it->len) == 0);
		queue_item_sent(q, it);
	}
	ck_assert_ptr_null(queue_find(qs, "jobs", 4));
	queue_stats_get(qs, &st);
	ck_assert_uint_eq(st.queues, 0);
	ck_assert_uint_eq(st.items, 0);
	ck_assert_uint_eq(st.inflight, 0);
	ck_assert_uint_eq(data.bytes, 0);
}
END_TEST

START_TEST(test_empty_deleted)
{
	struct queue_item	*it;
	struct queue		*q;

	ck_assert_ptr_null(queue_find(qs, "q", 1));
	ck_assert_int_eq(push_str("q", 2, "a", ""), 0);
	ck_assert_uint_eq(qlen("q"), 2);
	q = queue_find(qs, "q", 1);
	ck_assert_uint_eq(queue_head(q)->len, 1);
	ck_assert(memcmp(queue_head(q)->data, "a", 1) == 0);
	ck_assert_ptr_nonnull(it = queue_take(q));
	queue_item_sent(q, it);
	q = queue_find(qs, "q", 1);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(queue_head(q)->len, 0);	/* an empty value */
	ck_assert_ptr_nonnull(it = queue_take(q));
	queue_item_sent(q, it);
	ck_assert_ptr_null(queue_find(qs, "q", 1));

	/* A queue made for a waiter that never linked goes too. */
	ck_assert_int_eq(queue_get(qs, "w", 1, &q), 0);
	ck_assert_ptr_eq(queue_find(qs, "w", 1), q);
	ck_assert_ptr_null(queue_take(q));
	queue_unused(q);
	ck_assert_ptr_null(queue_find(qs, "w", 1));
}
END_TEST

/*
 * PUSH is told with all its values, a take as POP, an undone take as
 * PUSHFRONT of the item, and a refused PUSH not at all: replaying what
 * is told leaves the queue as it is, whatever became of the replies.
 */
START_TEST(test_journal)
{
	struct queue_item	*a, *b;
	struct queue		*q;

	queue_set_journal(qs, &jrn);
	told[0] = '\0';
	ck_assert_int_eq(push_str("q", 3, "a", "b", "c"), 0);
	q = queue_find(qs, "q", 1);
	a = queue_take(q);
	b = queue_take(q);
	told_is("PUSH q a b c\nPOP q\nPOP q\n");
	queue_item_sent(q, a);
	queue_item_undo(q, b);
	told_is("PUSHFRONT q b\n");
	ck_assert_uint_eq(qlen("q"), 2);
	hlimits.max_memory = data.bytes;
	ck_assert_int_eq(push_str("q", 1, "d"), -EDQUOT);
	told_is("");
	hlimits.max_memory = 0;
	a = queue_take(q);
	b = queue_take(q);
	told_is("POP q\nPOP q\n");
	queue_item_sent(q, a);
	queue_item_sent(q, b);
	ck_assert_uint_eq(qlen("q"), 0);
}
END_TEST

START_TEST(test_memory_accounting)
{
	struct queue_item	*it;
	struct queue		*q;
	uint64_t		 m;

	ck_assert_uint_gt(IC(0), 0);	/* empty items are not free */
	ck_assert_int_eq(push_str("abc", 2, "1234", "56"), 0);
	m = NC(3) + IC(4) + IC(2);
	ck_assert_uint_eq(data.bytes, m);
	ck_assert_int_eq(push_str("abc", 2, "7", ""), 0);
	m += IC(1) + IC(0);	/* the name counts once */
	ck_assert_uint_eq(data.bytes, m);
	ck_assert_int_eq(push_str("de", 1, "xyz"), 0);
	m += NC(2) + IC(3);
	ck_assert_uint_eq(data.bytes, m);
	q = queue_find(qs, "abc", 3);
	ck_assert_ptr_nonnull(it = queue_take(q));
	queue_item_sent(q, it);
	m -= IC(4);
	ck_assert_uint_eq(data.bytes, m);
	q = queue_find(qs, "de", 2);
	ck_assert_ptr_nonnull(it = queue_take(q));
	queue_item_sent(q, it);
	m -= NC(2) + IC(3);	/* and its queue */
	ck_assert_uint_eq(data.bytes, m);
	/* The rest is released by queue_free(); teardown checks for 0. */
}
END_TEST

START_TEST(test_push_all_or_nothing)
{
	char		v[32];
	uint64_t	before, left;

	memset(v, 'x', 20);
	v[20] = '\0';
	hlimits.max_memory = NC(1) + 3 * IC(20);
	ck_assert_int_eq(push_str("q", 2, v, v), 0);
	before = data.bytes;
	left = hlimits.max_memory - before;
	ck_assert_uint_eq(left, IC(20));
	/* One more would fit, not two: neither is stored. */
	ck_assert_int_eq(push_str("q", 2, v, v), -EDQUOT);
	ck_assert_uint_eq(data.bytes, before);
	ck_assert_uint_eq(qlen("q"), 2);
	/* A new queue counts too: its name and an item do not fit. */
	ck_assert_int_eq(push_str("r", 1, v), -EDQUOT);
	ck_assert_ptr_null(queue_find(qs, "r", 1));
	ck_assert_uint_eq(data.bytes, before);
	ck_assert_int_eq(push_str("q", 1, v), 0);
	ck_assert_uint_eq(data.bytes, hlimits.max_memory);
	ck_assert_uint_eq(qlen("q"), 3);
	ck_assert_int_eq(push_str("q", 1, ""), -EDQUOT);
	ck_assert_uint_eq(data.bytes, hlimits.max_memory);
}
END_TEST

/* --- waiters -------------------------------------------------------------- */

/* Client i waits on the queue named so. */
static void
wait_on(int i, const char *name)
{
	struct queue	*q;

	ck_assert_int_eq(queue_get(qs, name, strlen(name), &q), 0);
	ww[i].c = &cl[i];
	queue_wait(q, &ww[i]);
}

/*
 * Serve one waiter as the connection layer does: the next ready waiter's
 * index (or -1), its item taken into *itp from the queue in *qp.
 */
static int
serve_one(struct queue **qp, struct queue_item **itp)
{
	struct hub_waiter	*w = queue_next_ready(qs, qp);

	if (w == NULL)
		return -1;
	ck_assert_ptr_null(w->q);
	ck_assert_ptr_nonnull(queue_head(*qp));
	*itp = queue_take(*qp);
	return (int)(w - ww);
}

static void
item_is(const struct queue_item *it, const char *v)
{
	ck_assert_uint_eq(it->len, strlen(v));
	ck_assert(memcmp(it->data, v, it->len) == 0);
}

/* A PUSH answers nobody; the waiters are taken after, oldest first. */
START_TEST(test_serve_fifo)
{
	struct queue_stats	 st;
	struct queue_item	*it[2];
	struct queue		*q;
	int			 i;

	for (i = 0; i < 3; i++)
		wait_on(i, "q");
	ck_assert_int_eq(serve_one(&q, &it[0]), -1);	/* nothing yet */
	ck_assert_int_eq(push_str("q", 2, "a", "b"), 0);
	ck_assert_int_eq(serve_one(&q, &it[0]), 0);
	item_is(it[0], "a");
	ck_assert_int_eq(serve_one(&q, &it[1]), 1);
	item_is(it[1], "b");
	ck_assert_int_eq(serve_one(&q, &it[1 - 1 + 1]), -1);
	queue_stats_get(qs, &st);
	ck_assert_uint_eq(st.items, 0);
	ck_assert_uint_eq(st.inflight, 2);
	ck_assert_uint_eq(data.bytes, 0);	/* in flight: not data */
	queue_item_sent(q, it[0]);
	queue_item_sent(q, it[1]);
	/* The third still waits, and keeps the queue. */
	ck_assert_ptr_eq(queue_find(qs, "q", 1), q);
	ck_assert_ptr_nonnull(ww[2].q);
	queue_cancel(&ww[2]);
	ck_assert_ptr_null(queue_find(qs, "q", 1));
	queue_cancel(&ww[2]);	/* twice: nothing */
}
END_TEST

START_TEST(test_serve_gone_skipped)
{
	struct queue_item	*it;
	struct queue		*q;

	wait_on(0, "q");
	wait_on(1, "q");
	cl[0].flags |= HUB_CLIENT_F_GONE;
	ck_assert_int_eq(push_str("q", 1, "x"), 0);
	ck_assert_int_eq(serve_one(&q, &it), 1);
	item_is(it, "x");
	ck_assert_ptr_null(ww[0].q);	/* dropped on the way */
	queue_cancel(&ww[0]);
	queue_item_sent(q, it);
	ck_assert_ptr_null(queue_find(qs, "q", 1));
}
END_TEST

/*
 * The connection layer may decline a waiter (its reply cannot fit: it is
 * disconnected); the head stays for the next one.
 */
START_TEST(test_serve_declined)
{
	struct hub_waiter	*w;
	struct queue_item	*it;
	struct queue		*q;

	wait_on(0, "q");
	wait_on(1, "q");
	ck_assert_int_eq(push_str("q", 1, "x"), 0);
	ck_assert_ptr_eq(w = queue_next_ready(qs, &q), &ww[0]);
	cl[0].flags |= HUB_CLIENT_F_GONE;	/* dropped, not served */
	ck_assert_int_eq(serve_one(&q, &it), 1);
	item_is(it, "x");
	queue_item_sent(q, it);
}
END_TEST

/*
 * Items taken by a connection that died come back at the head, in the
 * order they were taken (undone newest first), and a waiter gets the
 * oldest: FIFO holds across a consumer's death.
 */
START_TEST(test_undo_keeps_order)
{
	struct queue_item	*a, *b, *it;
	struct queue		*q = NULL;
	uint64_t		 stored;

	ck_assert_int_eq(push_str("q", 3, "1", "2", "3"), 0);
	stored = data.bytes;
	q = queue_find(qs, "q", 1);
	ck_assert_ptr_nonnull(a = queue_take(q));
	ck_assert_ptr_nonnull(b = queue_take(q));
	ck_assert_uint_eq(qlen("q"), 1);
	wait_on(0, "q");	/* (items left: a waiter would not wait) */
	queue_cancel(&ww[0]);
	wait_on(0, "q");
	queue_item_undo(q, b);
	queue_item_undo(q, a);
	ck_assert_uint_eq(qlen("q"), 3);
	ck_assert_uint_eq(data.bytes, stored);
	ck_assert_int_eq(serve_one(&q, &it), 0);
	item_is(it, "1");
	queue_item_sent(q, it);
	ck_assert_ptr_nonnull(it = queue_take(q));
	item_is(it, "2");
	queue_item_sent(q, it);
	ck_assert_ptr_nonnull(it = queue_take(q));
	item_is(it, "3");
	queue_item_sent(q, it);
	ck_assert_ptr_null(queue_find(qs, "q", 1));
}
END_TEST

/* An item in flight keeps its queue, even an empty one. */
START_TEST(test_inflight_keeps_queue)
{
	struct queue_item	*it;
	struct queue		*q;

	ck_assert_int_eq(push_str("q", 1, "x"), 0);
	q = queue_find(qs, "q", 1);
	ck_assert_ptr_nonnull(it = queue_take(q));
	ck_assert_ptr_eq(queue_find(qs, "q", 1), q);
	ck_assert_uint_eq(qlen("q"), 0);
	queue_item_undo(q, it);		/* and it is there to come back to */
	ck_assert_uint_eq(qlen("q"), 1);
	ck_assert_ptr_nonnull(it = queue_take(q));
	queue_item_sent(q, it);
	ck_assert_ptr_null(queue_find(qs, "q", 1));
}
END_TEST

/*
 * A PUSH needs room for every value, waiters or not: it used to let the
 * values its waiters would take through unchecked, and waiters that were
 * then not served (hung up, output full) left them stored past the limit.
 * Waiting itself needs no room, and taking an item gives its room back.
 */
START_TEST(test_full_refuses_push_to_waiters)
{
	struct queue_item	*it;
	struct queue		*q;

	hlimits.max_memory = NC(1) + IC(1) + NC(1) + IC(1);
	ck_assert_int_eq(push_str("f", 1, "z"), 0);
	wait_on(0, "q");			/* a full server lets it wait */
	ck_assert_int_eq(push_str("q", 2, "x", "y"), -EDQUOT);
	ck_assert_ptr_nonnull(ww[0].q);		/* all or nothing */
	ck_assert_int_eq(push_str("q", 1, "x"), 0);
	ck_assert_uint_eq(data.bytes, hlimits.max_memory);	/* stored */
	ck_assert_int_eq(serve_one(&q, &it), 0);
	item_is(it, "x");
	ck_assert_uint_eq(data.bytes, NC(1) + IC(1));	/* taken: room */
	queue_item_sent(q, it);
	/* Full again: no PUSH passes, whoever waits. */
	ck_assert_int_eq(push_str("g", 1, "z"), 0);
	wait_on(1, "q");
	ck_assert_int_eq(push_str("q", 1, "x"), -EDQUOT);
	ck_assert_uint_le(data.bytes, hlimits.max_memory);
	queue_cancel(&ww[1]);
	q = queue_find(qs, "f", 1);
	ck_assert_ptr_nonnull(it = queue_take(q));
	queue_item_sent(q, it);
	q = queue_find(qs, "g", 1);
	ck_assert_ptr_nonnull(it = queue_take(q));
	queue_item_sent(q, it);
}
END_TEST

/* Freed with waiters still linked: none points at freed memory. */
START_TEST(test_free_with_waiters)
{
	wait_on(0, "q");
	wait_on(1, "r");
	ck_assert_int_eq(push_str("s", 1, "x"), 0);
}
END_TEST

static Suite *
queue_suite(void)
{
	Suite	*s = suite_create("queue");
	TCase	*tc;

	tc = tcase_create("structure");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fifo_100k);
	tcase_add_test(tc, test_empty_deleted);
	tcase_add_test(tc, test_memory_accounting);
	tcase_add_test(tc, test_journal);
	tcase_add_test(tc, test_push_all_or_nothing);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("waiters");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_serve_fifo);
	tcase_add_test(tc, test_serve_gone_skipped);
	tcase_add_test(tc, test_serve_declined);
	tcase_add_test(tc, test_undo_keeps_order);
	tcase_add_test(tc, test_inflight_keeps_queue);
	tcase_add_test(tc, test_full_refuses_push_to_waiters);
	tcase_add_test(tc, test_free_with_waiters);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(queue_suite());
}
