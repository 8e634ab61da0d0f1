/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_lock.c: unit tests of the locks (daemon/hub/lock.c), linked with
 * the hub library alone: no connection layer, no sockets, no loop. Bare
 * client handles hold and wait, the test owns the clock, and what a
 * release hands over is read off the granted list as the connection layer
 * would. Covered: holding and letting go, FIFO hand-over, waiters of gone
 * clients skipped, a client's death passing on all it holds, leases
 * ending at their deadline, cancels from either list, max_memory, and a
 * randomised run against a naive model.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check-run.h"
#include "hub.h"
#include "hub-clock.h"
#include "iomux-proto.h"
#include "lock.h"

#define NCLIENTS	6

static struct hub_limits	limits;
static struct hub_data		data;
static struct hub_client	cl[NCLIENTS];
static struct hub_waiter	wt[NCLIENTS];
static struct locks		*ls;

static void
setup(void)
{
	memset(&limits, 0, sizeof(limits));
	memset(cl, 0, sizeof(cl));
	memset(wt, 0, sizeof(wt));
	data.bytes = 0;
	data.limits = &limits;
	now_v = 0;
	armed = HUB_NO_DEADLINE;
	ck_assert_int_eq(lock_new(&data, &clk, &ls), 0);
}

static void
teardown(void)
{
	int	i;

	lock_free(ls);
	ls = NULL;
	ck_assert_uint_eq(data.bytes, 0);
	for (i = 0; i < NCLIENTS; i++)
		ck_assert_ptr_null(wt[i].q);
}

/* The clock at now, then take the lock. */
static int
acquire(int i, const char *name, uint64_t now, uint64_t lease)
{
	now_v = now;
	return lock_acquire(ls, name, strlen(name), &cl[i], lease);
}

static int
release(int i, const char *name, uint64_t now)
{
	now_v = now;
	return lock_release(ls, name, strlen(name), &cl[i]);
}

static void
client_gone(int i, uint64_t now)
{
	now_v = now;
	lock_client_gone(ls, &cl[i]);
}

/* The clock moves to now; the armed deadline fires if it has come. */
static void
expire_at(uint64_t now)
{
	now_v = now;
	if (armed <= now)
		lock_reap(ls);
}

static struct hub_client *
holder(const char *name)
{
	struct lock	*l = lock_find(ls, name, strlen(name));

	return l != NULL ? lock_holder(l) : NULL;
}

/* Client i waits for name (held by another), wanting a lease. */
static void
wait_for(int i, const char *name, uint64_t lease)
{
	struct lock	*l = lock_find(ls, name, strlen(name));

	ck_assert_ptr_nonnull(l);
	wt[i].c = &cl[i];
	wt[i].arg = lease;
	lock_wait(l, &wt[i]);
}

/* The next waiter handed a lock, as an index, or -1. */
static int
granted(void)
{
	struct hub_waiter	*w = lock_next_granted(ls);

	if (w == NULL)
		return -1;
	ck_assert_ptr_null(w->q);
	return (int)(w - wt);
}

static struct lock_stats
stats(void)
{
	struct lock_stats	st;

	lock_stats_get(ls, &st);
	return st;
}

START_TEST(test_hold_and_release)
{
	ck_assert_int_eq(acquire(0, "a", 0, 0), 0);
	ck_assert_int_eq(acquire(0, "a", 0, 0), LOCK_E_OWNED);
	ck_assert_int_eq(acquire(1, "a", 0, 0), LOCK_E_HELD);
	ck_assert_ptr_eq(holder("a"), &cl[0]);
	ck_assert_uint_eq(data.bytes, lock_cost(1));
	ck_assert_int_eq(release(1, "a", 0), -EPERM);
	ck_assert_int_eq(release(1, "b", 0), -ENOENT);
	ck_assert_uint_eq(stats().held, 1);
	ck_assert_int_eq(release(0, "a", 0), 0);
	/* Nobody waited: the lock is gone, and its memory with it. */
	ck_assert_ptr_null(lock_find(ls, "a", 1));
	ck_assert_ptr_null(cl[0].locks);
	ck_assert_uint_eq(data.bytes, 0);
	ck_assert_int_eq(granted(), -1);
	ck_assert_int_eq(release(0, "a", 0), -ENOENT);
	/* The empty name is a name. */
	ck_assert_int_eq(acquire(2, "", 0, 0), 0);
	ck_assert_int_eq(acquire(3, "", 0, 0), LOCK_E_HELD);
	ck_assert_int_eq(release(2, "", 0), 0);
}
END_TEST

START_TEST(test_fifo_hand_over)
{
	int	i;

	ck_assert_int_eq(acquire(0, "x", 0, 0), 0);
	for (i = 1; i <= 3; i++)
		wait_for(i, "x", 0);
	ck_assert_uint_eq(stats().waiters, 3);
	ck_assert_int_eq(granted(), -1);	/* nothing yet */
	for (i = 1; i <= 3; i++) {
		ck_assert_int_eq(release(i - 1, "x", 0), 0);
		/* Held by the next in line before anyone is answered. */
		ck_assert_ptr_eq(holder("x"), &cl[i]);
		ck_assert_int_eq(granted(), i);
		ck_assert_int_eq(wt[i].result, 0);
		ck_assert_int_eq(granted(), -1);	/* one at a time */
		ck_assert_uint_eq(stats().waiters, 3 - (uint64_t)i);
	}
	ck_assert_int_eq(release(3, "x", 0), 0);
	ck_assert_ptr_null(lock_find(ls, "x", 1));
	ck_assert_uint_eq(stats().held, 0);
}
END_TEST

START_TEST(test_gone_waiter_skipped)
{
	ck_assert_int_eq(acquire(0, "x", 0, 0), 0);
	wait_for(1, "x", 0);
	wait_for(2, "x", 0);
	cl[1].flags |= HUB_CLIENT_F_GONE;
	ck_assert_int_eq(release(0, "x", 0), 0);
	ck_assert_ptr_eq(holder("x"), &cl[2]);
	ck_assert_int_eq(granted(), 2);
	/* The skipped one is off the queue: its cancel changes nothing. */
	ck_assert_ptr_null(wt[1].q);
	lock_cancel(ls, &wt[1]);
	ck_assert_ptr_eq(holder("x"), &cl[2]);
	/* Only gone waiters: the lock is deleted. */
	wait_for(3, "x", 0);
	cl[3].flags |= HUB_CLIENT_F_GONE;
	ck_assert_int_eq(release(2, "x", 0), 0);
	ck_assert_ptr_null(lock_find(ls, "x", 1));
	ck_assert_int_eq(granted(), -1);
}
END_TEST

START_TEST(test_client_gone_passes_on)
{
	ck_assert_int_eq(acquire(0, "x", 0, 0), 0);
	ck_assert_int_eq(acquire(0, "y", 0, 100), 0);
	ck_assert_int_eq(acquire(0, "z", 0, 0), 0);
	wait_for(1, "x", 0);
	wait_for(2, "y", 0);
	cl[0].flags |= HUB_CLIENT_F_GONE;
	client_gone(0, 10);
	ck_assert_ptr_null(cl[0].locks);
	ck_assert_ptr_eq(holder("x"), &cl[1]);
	ck_assert_ptr_eq(holder("y"), &cl[2]);
	ck_assert_ptr_null(lock_find(ls, "z", 1));
	/* y's lease went with its holder. */
	ck_assert_uint_eq(armed, HUB_NO_DEADLINE);
	ck_assert_int_eq(granted() + granted(), 3);
	ck_assert_int_eq(granted(), -1);
	ck_assert_uint_eq(data.bytes, 2 * lock_cost(1));
	/* Twice is harmless. */
	client_gone(0, 10);
	ck_assert_ptr_eq(holder("x"), &cl[1]);
	client_gone(1, 10);
	client_gone(2, 10);
	ck_assert_uint_eq(data.bytes, 0);
}
END_TEST

START_TEST(test_leases)
{
	ck_assert_uint_eq(armed, HUB_NO_DEADLINE);
	ck_assert_int_eq(acquire(0, "x", 1000, 100), 0);
	ck_assert_int_eq(acquire(0, "y", 1000, 50), 0);
	ck_assert_int_eq(acquire(0, "z", 1000, IOMUX_TIMEOUT_FOREVER), 0);
	ck_assert_uint_eq(armed, 1050);
	wait_for(1, "x", 30);
	expire_at(1049);
	ck_assert_ptr_eq(holder("y"), &cl[0]);
	expire_at(1050);
	ck_assert_ptr_null(lock_find(ls, "y", 1));
	ck_assert_uint_eq(armed, 1100);
	expire_at(1100);
	/* The waiter has x now, with its own lease from now. */
	ck_assert_ptr_eq(holder("x"), &cl[1]);
	ck_assert_int_eq(granted(), 1);
	ck_assert_uint_eq(armed, 1130);
	ck_assert_uint_eq(stats().leases_expired, 2);
	/* A release before its end takes the lease off. */
	ck_assert_int_eq(release(1, "x", 1110), 0);
	ck_assert_uint_eq(armed, HUB_NO_DEADLINE);
	expire_at(UINT64_MAX - 1);
	ck_assert_ptr_eq(holder("z"), &cl[0]);	/* no lease, no end */
	/* A lease that would pass the clock's end ends at its end. */
	ck_assert_int_eq(acquire(2, "w", UINT64_MAX - 10, 1000), 0);
	ck_assert_uint_eq(armed, UINT64_MAX - 1);
	client_gone(0, 0);
	client_gone(2, 0);
}
END_TEST

START_TEST(test_cancel)
{
	ck_assert_int_eq(acquire(0, "x", 0, 0), 0);
	wait_for(1, "x", 0);
	wait_for(2, "x", 0);
	lock_cancel(ls, &wt[1]);
	ck_assert_ptr_null(wt[1].q);
	ck_assert_uint_eq(stats().waiters, 1);
	lock_cancel(ls, &wt[1]);	/* twice: nothing */
	ck_assert_uint_eq(stats().waiters, 1);
	/* Cancelled after the grant, before the answer: it keeps the lock. */
	ck_assert_int_eq(release(0, "x", 0), 0);
	ck_assert_ptr_eq(holder("x"), &cl[2]);
	lock_cancel(ls, &wt[2]);
	ck_assert_int_eq(granted(), -1);
	ck_assert_ptr_eq(holder("x"), &cl[2]);
	/* The last waiter of a lock nobody holds deletes it. */
	ck_assert_int_eq(acquire(3, "y", 0, 0), 0);
	wait_for(4, "y", 0);
	client_gone(3, 0);	/* y goes to 4 */
	ck_assert_int_eq(granted(), 4);
	ck_assert_int_eq(release(4, "y", 0), 0);
	client_gone(2, 0);
	ck_assert_uint_eq(data.bytes, 0);
}
END_TEST

START_TEST(test_max_memory)
{
	limits.max_memory = lock_cost(1) + lock_cost(2);
	ck_assert_int_eq(acquire(0, "a", 0, 0), 0);
	ck_assert_int_eq(acquire(0, "bb", 0, 0), 0);
	ck_assert_uint_eq(data.bytes, limits.max_memory);
	ck_assert_int_eq(acquire(0, "c", 0, 0), -EDQUOT);
	ck_assert_ptr_null(lock_find(ls, "c", 1));
	/* Taking an existing lock needs no memory. */
	ck_assert_int_eq(release(0, "a", 0), 0);
	ck_assert_int_eq(acquire(1, "a", 0, 0), 0);
	ck_assert_int_eq(acquire(1, "c", 0, 0), -EDQUOT);
	client_gone(0, 0);
	client_gone(1, 0);
}
END_TEST

START_TEST(test_free_with_waiters)
{
	ck_assert_int_eq(acquire(0, "x", 0, 5), 0);
	wait_for(1, "x", 0);
	wait_for(2, "x", 0);
	ck_assert_int_eq(release(0, "x", 0), 0);	/* 1 granted */
	/* Teardown frees with 1 on the granted list and 2 waiting. */
	ck_assert_ptr_nonnull(wt[1].q);
	ck_assert_ptr_nonnull(wt[2].q);
	cl[1].locks = NULL;	/* its lock is freed under it */
}
END_TEST

/*
 * Random operations by NCLIENTS clients on 3 locks, against a model: who
 * holds each lock, and each lock's FIFO of waiting clients. Every grant
 * must go to the model's next live waiter, and the counts agree.
 */
START_TEST(test_model)
{
	static const char *const names[3] = { "p", "q", "r" };
	int		 holder_of[3], queue[3][NCLIENTS], qlen[3];
	int		 waiting_on[NCLIENTS];
	int		 step, i, k, j, g, op;
	unsigned int	 seed = 12345;
	uint64_t	 nheld, nwait;

	for (k = 0; k < 3; k++) {
		holder_of[k] = -1;
		qlen[k] = 0;
	}
	for (i = 0; i < NCLIENTS; i++)
		waiting_on[i] = -1;
	for (step = 0; step < 20000; step++) {
		i = rand_r(&seed) % NCLIENTS;
		k = rand_r(&seed) % 3;
		op = rand_r(&seed) % 4;
		if (waiting_on[i] >= 0) {
			/* A waiting client can only give up. */
			if (op == 0) {
				lock_cancel(ls, &wt[i]);
				j = waiting_on[i];
				for (g = 0; queue[j][g] != i; g++)
					continue;
				memmove(&queue[j][g], &queue[j][g + 1],
				    (size_t)(qlen[j] - g - 1) *
				    sizeof(int));
				qlen[j]--;
				waiting_on[i] = -1;
				if (holder_of[j] < 0 && qlen[j] == 0)
					ck_assert_ptr_null(lock_find(ls,
					    names[j], 1));
			}
			continue;
		}
		if (op <= 1) {
			int	ret = acquire(i, names[k], 0, 0);

			if (holder_of[k] == i) {
				ck_assert_int_eq(ret, LOCK_E_OWNED);
			} else if (holder_of[k] >= 0) {
				ck_assert_int_eq(ret, LOCK_E_HELD);
				wait_for(i, names[k], 0);
				queue[k][qlen[k]++] = i;
				waiting_on[i] = k;
			} else {
				ck_assert_int_eq(ret, 0);
				holder_of[k] = i;
			}
		} else if (op == 2) {
			int	ret = release(i, names[k], 0);

			if (holder_of[k] < 0) {
				ck_assert_int_eq(ret, -ENOENT);
				continue;
			}
			if (holder_of[k] != i) {
				ck_assert_int_eq(ret, -EPERM);
				continue;
			}
			ck_assert_int_eq(ret, 0);
			holder_of[k] = -1;
			if (qlen[k] > 0) {
				g = queue[k][0];
				memmove(&queue[k][0], &queue[k][1],
				    (size_t)(qlen[k] - 1) * sizeof(int));
				qlen[k]--;
				waiting_on[g] = -1;
				holder_of[k] = g;
				ck_assert_int_eq(granted(), g);
			}
			ck_assert_int_eq(granted(), -1);
		} else {
			/* The client dies and comes back, holding nothing. */
			client_gone(i, 0);
			for (j = 0; j < 3; j++) {
				if (holder_of[j] != i)
					continue;
				holder_of[j] = -1;
				if (qlen[j] > 0) {
					g = queue[j][0];
					memmove(&queue[j][0], &queue[j][1],
					    (size_t)(qlen[j] - 1) *
					    sizeof(int));
					qlen[j]--;
					waiting_on[g] = -1;
					holder_of[j] = g;
				}
			}
			while (granted() >= 0)
				continue;
		}
		for (j = 0, nheld = 0, nwait = 0; j < 3; j++) {
			nheld += holder_of[j] >= 0;
			nwait += (uint64_t)qlen[j];
			ck_assert_ptr_eq(holder(names[j]), holder_of[j] >= 0 ?
			    &cl[holder_of[j]] : NULL);
		}
		ck_assert_uint_eq(stats().held, nheld);
		ck_assert_uint_eq(stats().waiters, nwait);
	}
	for (i = 0; i < NCLIENTS; i++)
		if (waiting_on[i] >= 0)
			lock_cancel(ls, &wt[i]);
	for (i = 0; i < NCLIENTS; i++)
		client_gone(i, 0);
	while (granted() >= 0)
		continue;
	for (i = 0; i < NCLIENTS; i++)
		client_gone(i, 0);
}
END_TEST

static Suite *
lock_suite(void)
{
	Suite	*s = suite_create("lock");
	TCase	*tc;

	tc = tcase_create("locks");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_hold_and_release);
	tcase_add_test(tc, test_fifo_hand_over);
	tcase_add_test(tc, test_gone_waiter_skipped);
	tcase_add_test(tc, test_client_gone_passes_on);
	tcase_add_test(tc, test_leases);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_max_memory);
	tcase_add_test(tc, test_free_with_waiters);
	tcase_add_test(tc, test_model);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(lock_suite());
}
