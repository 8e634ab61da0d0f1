/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_kv.c: unit tests of the key-value store (daemon/hub/kv.c),
 * linked with the hub library alone: no connection layer, no loop, no
 * sockets. The test owns the clock (a counter it advances; "running the
 * loop" fires the store's one armed deadline), so expiry is checked to
 * the millisecond without sleeping. Covers SET's conditions, exact and
 * timely expiry (order, batching, no scans), memory accounting and the
 * max_memory refusal, INCR's grammar and overflow, the KEYS cursor's
 * completeness across resizes, and WAIT's waiters: woken by the write
 * that creates their key, in FIFO order, with the value as it is when
 * they are taken, gone clients skipped, cancels.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check-run.h"
#include "codec.h"
#include "hub.h"
#include "hub-clock.h"
#include "hub-journal.h"
#include "iomux-proto.h"
#include "kv.h"

static struct hub_limits hlimits;
static struct hub_data	 data;
static struct kv	*kv;

static void
setup(void)
{
	memset(&hlimits, 0, sizeof(hlimits));
	data.bytes = 0;
	data.limits = &hlimits;
	now_v = 1000000;
	armed = HUB_NO_DEADLINE;
	ck_assert_int_eq(kv_new(&data, &clk, &kv), 0);
}

static void
teardown(void)
{
	kv_free(kv);
	ck_assert_uint_eq(data.bytes, 0);
}

/* Time passes. */
static void
sleep_ms(long ms)
{
	now_v += (uint64_t)ms;
}

/*
 * One turn of a loop that waits at most ms: the armed deadline fires if
 * it comes within ms (the clock moves to it), else the time passes.
 */
static void
run_once(uint64_t ms)
{
	if (armed == HUB_NO_DEADLINE || armed > now_v + ms) {
		now_v += ms;
		return;
	}
	if (armed > now_v)
		now_v = armed;
	kv_reap(kv);
}

/* SET with a C-string key and value. */
static int
set(const char *k, const char *v, uint64_t ttl, uint32_t flags)
{
	return kv_set(kv, k, strlen(k), v, strlen(v), ttl, flags, NULL);
}

static int
set_if(const char *k, const char *v, const char *expected)
{
	struct proto_arg	a;

	a.p = (const uint8_t *)expected;
	a.len = (uint32_t)strlen(expected);
	a.absent = false;
	return kv_set(kv, k, strlen(k), v, strlen(v), 0, 0, &a);
}

/* The value of k as a string, or NULL; valid until the next call. */
static const char *
get(const char *k)
{
	static char	 buf[4096];
	const uint8_t	*v;
	size_t		 vlen;

	if (kv_get(kv, k, strlen(k), &v, &vlen) < 0)
		return NULL;
	ck_assert_uint_lt(vlen, sizeof(buf));
	memcpy(buf, v, vlen);
	buf[vlen] = '\0';
	return buf;
}

static struct kv_stats
stats(void)
{
	struct kv_stats	st;

	kv_stats_get(kv, &st);
	return st;
}

START_TEST(test_set_get)
{
	static const uint8_t	 bk[] = { 'a', 0, 'b' }, bv[] = { 0, 1, 0 };
	const uint8_t		*v;
	size_t			 vlen;
	char			 big[3000];

	ck_assert_ptr_null(get("k"));
	ck_assert_int_eq(set("k", "v1", 0, 0), 0);
	ck_assert_str_eq(get("k"), "v1");
	/* Overwrite: smaller, bigger (moves the entry), equal. */
	ck_assert_int_eq(set("k", "", 0, 0), 0);
	ck_assert_str_eq(get("k"), "");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(set("k", big, 0, 0), 0);
	ck_assert_str_eq(get("k"), big);
	ck_assert_int_eq(set("k", "v2", 0, 0), 0);
	ck_assert_str_eq(get("k"), "v2");
	ck_assert_uint_eq(data.bytes, kv_entry_cost(1, 2));

	/* Binary keys and values: NUL bytes are data. */
	ck_assert_int_eq(kv_set(kv, bk, 3, bv, 3, 0, 0, NULL), 0);
	ck_assert_int_eq(kv_get(kv, bk, 3, &v, &vlen), 0);
	ck_assert_uint_eq(vlen, 3);
	ck_assert_mem_eq(v, bv, 3);
	ck_assert_int_eq(kv_get(kv, bk, 1, &v, &vlen), -ENOENT);
	ck_assert_int_eq(kv_get(kv, bk, 2, &v, &vlen), -ENOENT);
	/* The empty key is a key. */
	ck_assert_int_eq(kv_set(kv, "", 0, "e", 1, 0, 0, NULL), 0);
	ck_assert_int_eq(kv_get(kv, "", 0, &v, &vlen), 0);
	ck_assert_uint_eq(vlen, 1);
	ck_assert_uint_eq(stats().keys, 3);

	ck_assert_int_eq(kv_del(kv, bk, 3), 1);
	ck_assert_int_eq(kv_del(kv, bk, 3), 0);
	ck_assert(!kv_exists(kv, bk, 3));
	ck_assert(kv_exists(kv, "k", 1));
	ck_assert_uint_eq(stats().keys, 2);
}
END_TEST

/*
 * Each change is told to the journal once made, with what replaying it
 * needs (INCR as the SET of its result, deadlines on the hub's clock);
 * a refused change, a read and an expiry are not told.
 */
START_TEST(test_journal)
{
	struct proto_arg	exp;
	const uint8_t		*v;
	size_t			 vlen;
	int64_t			 n;

	kv_set_journal(kv, &jrn);
	told[0] = '\0';
	ck_assert_int_eq(kv_set(kv, "k", 1, "v", 1, 0, 0, NULL), 0);
	ck_assert_int_eq(kv_set(kv, "t", 1, "w x", 3, 300, 0, NULL), 0);
	told_is("SET k v @0\nSET t w\\x20x @1000300\n");
	/* Refused: told nothing. */
	ck_assert_int_eq(kv_set(kv, "k", 1, "z", 1, 0, IOMUX_SET_NX, NULL),
	    KV_E_CONFLICT);
	memset(&exp, 0, sizeof(exp));
	exp.p = (const uint8_t *)"nope";
	exp.len = 4;
	ck_assert_int_eq(kv_set(kv, "k", 1, "z", 1, 0, 0, &exp),
	    KV_E_CONFLICT);
	ck_assert_int_eq(kv_incr(kv, "k", 1, 1, &n), -EINVAL);
	ck_assert_int_eq(kv_expire(kv, "none", 4, 10), -ENOENT);
	ck_assert_int_eq(kv_get(kv, "k", 1, &v, &vlen), 0);
	ck_assert_int_eq(kv_del(kv, "none", 4), 0);
	told_is("");
	/* INCR: the SET of its result, the key's expiry kept. */
	ck_assert_int_eq(kv_incr(kv, "n", 1, 5, &n), 0);
	ck_assert_int_eq(kv_expire(kv, "n", 1, 1000), 0);
	ck_assert_int_eq(kv_incr(kv, "n", 1, -7, &n), 0);
	ck_assert_int_eq(kv_persist(kv, "n", 1), 0);
	ck_assert_int_eq(kv_set(kv, "t", 1, "y", 1, 0, IOMUX_SET_KEEPTTL,
	    NULL), 0);
	ck_assert_int_eq(kv_del(kv, "k", 1), 1);
	told_is("SET n 5 @0\nEXPIRE n @1001000\nSET n -2 @1001000\n"
	    "PERSIST n\nSET t y @1000300\nDEL k\n");
	/* Expiry is not told: the deadline was, in the SET. */
	sleep_ms(400);
	kv_reap(kv);
	ck_assert_int_eq(kv_get(kv, "t", 1, &v, &vlen), -ENOENT);
	told_is("");
}
END_TEST

START_TEST(test_set_conditions)
{
	struct proto_arg	absent = { NULL, 0, true };
	int64_t			ms;

	/* NX: only if absent. XX: only if present. */
	ck_assert_int_eq(set("k", "a", 0, IOMUX_SET_XX), KV_E_CONFLICT);
	ck_assert_ptr_null(get("k"));
	ck_assert_int_eq(set("k", "a", 0, IOMUX_SET_NX), 0);
	ck_assert_int_eq(set("k", "b", 0, IOMUX_SET_NX), KV_E_CONFLICT);
	ck_assert_str_eq(get("k"), "a");
	ck_assert_int_eq(set("k", "b", 0, IOMUX_SET_XX), 0);
	ck_assert_str_eq(get("k"), "b");
	ck_assert_int_eq(set("k", "c", 0, IOMUX_SET_NX | IOMUX_SET_XX),
	    -EINVAL);
	ck_assert_int_eq(set("k", "c", 0, 0x8), -EINVAL);
	ck_assert_str_eq(get("k"), "b");

	/* expected: exact bytes; a missing key never equals. */
	ck_assert_int_eq(set_if("k", "c", "a"), KV_E_CONFLICT);
	ck_assert_int_eq(set_if("k", "c", "bb"), KV_E_CONFLICT);
	ck_assert_int_eq(set_if("k", "c", ""), KV_E_CONFLICT);
	ck_assert_int_eq(set_if("k", "c", "b"), 0);
	ck_assert_str_eq(get("k"), "c");
	ck_assert_int_eq(set_if("nokey", "x", ""), KV_E_CONFLICT);
	ck_assert_ptr_null(get("nokey"));
	ck_assert_int_eq(set("e", "", 0, 0), 0);
	ck_assert_int_eq(set_if("e", "full", ""), 0);
	/* An absent expected argument is "not given". */
	ck_assert_int_eq(kv_set(kv, "k", 1, "d", 1, 0, 0, &absent), 0);
	ck_assert_str_eq(get("k"), "d");

	/* SET without ttl clears an expiry unless KEEPTTL; ttl wins. */
	ck_assert_int_eq(set("t", "1", 60000, 0), 0);
	ck_assert_int_eq(kv_ttl(kv, "t", 1, &ms), 0);
	ck_assert_int_gt(ms, 59000);
	ck_assert_int_le(ms, 60000);
	ck_assert_int_eq(set("t", "2", 0, IOMUX_SET_KEEPTTL), 0);
	ck_assert_int_eq(kv_ttl(kv, "t", 1, &ms), 0);
	ck_assert_int_gt(ms, 59000);
	ck_assert_int_eq(set("t", "3", 5000, IOMUX_SET_KEEPTTL), 0);
	ck_assert_int_eq(kv_ttl(kv, "t", 1, &ms), 0);
	ck_assert_int_le(ms, 5000);
	ck_assert_int_eq(set("t", "4", 0, 0), 0);
	ck_assert_int_eq(kv_ttl(kv, "t", 1, &ms), 0);
	ck_assert_int_eq(ms, -1);
	ck_assert_uint_eq(stats().expiring, 0);
	/* KEEPTTL on a new key: no expiry. */
	ck_assert_int_eq(set("n", "1", 0, IOMUX_SET_KEEPTTL), 0);
	ck_assert_int_eq(kv_ttl(kv, "n", 1, &ms), 0);
	ck_assert_int_eq(ms, -1);
}
END_TEST

START_TEST(test_ttl_expire_persist)
{
	int64_t	ms;

	ck_assert_int_eq(kv_ttl(kv, "k", 1, &ms), -ENOENT);
	ck_assert_int_eq(kv_expire(kv, "k", 1, 1000), -ENOENT);
	ck_assert_int_eq(kv_persist(kv, "k", 1), -ENOENT);
	ck_assert_int_eq(set("k", "v", 0, 0), 0);
	ck_assert_int_eq(kv_persist(kv, "k", 1), 0);	/* OK without one */
	ck_assert_int_eq(kv_expire(kv, "k", 1, 0), -EINVAL);
	ck_assert_int_eq(kv_expire(kv, "k", 1, 100000), 0);
	ck_assert_int_eq(kv_ttl(kv, "k", 1, &ms), 0);
	ck_assert_int_gt(ms, 99000);
	ck_assert_uint_eq(stats().expiring, 1);
	ck_assert_int_eq(kv_expire(kv, "k", 1, 50), 0);	/* shorter */
	ck_assert_int_eq(kv_ttl(kv, "k", 1, &ms), 0);
	ck_assert_int_le(ms, 50);
	ck_assert_int_eq(kv_persist(kv, "k", 1), 0);
	ck_assert_int_eq(kv_ttl(kv, "k", 1, &ms), 0);
	ck_assert_int_eq(ms, -1);
	ck_assert_uint_eq(stats().expiring, 0);
	/* A ttl beyond the clock's range is clamped, TTL stays positive. */
	ck_assert_int_eq(kv_expire(kv, "k", 1, IOMUX_TIMEOUT_FOREVER), 0);
	ck_assert_int_eq(kv_ttl(kv, "k", 1, &ms), 0);
	ck_assert_int_gt(ms, 0);
	ck_assert_int_eq(kv_del(kv, "k", 1), 1);
	ck_assert_uint_eq(stats().expiring, 0);
}
END_TEST

/*
 * A key past its deadline is absent to every call at once, before the
 * timer has run: the loop is not run here, only the clock is read anew.
 */
START_TEST(test_expiry_exact)
{
	struct kv_key	 out[8];
	struct kv_stats	 st;
	size_t		 n;
	int64_t		 v;

	ck_assert_int_eq(set("gone", "41", 20, 0), 0);
	ck_assert_int_eq(set("stay", "1", 0, 0), 0);
	ck_assert_str_eq(get("gone"), "41");
	sleep_ms(30);

	st = stats();
	ck_assert_uint_eq(st.keys, 1);
	ck_assert_uint_eq(st.expiring, 0);
	ck_assert_uint_eq(st.stored, 2);	/* not reclaimed yet */
	ck_assert_uint_eq(kv_keys(kv, "", 0, 0, 8, SIZE_MAX, out, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_mem_eq(out[0].p, "stay", 4);
	ck_assert_ptr_null(get("gone"));
	ck_assert_uint_eq(stats().stored, 1);	/* reclaimed by the read */
	ck_assert_int_eq(set("gone", "41", 20, 0), 0);
	sleep_ms(30);
	ck_assert(!kv_exists(kv, "gone", 4));
	ck_assert_int_eq(set("gone", "41", 20, 0), 0);
	sleep_ms(30);
	ck_assert_int_eq(kv_ttl(kv, "gone", 4, &v), -ENOENT);
	ck_assert_int_eq(set("gone", "41", 20, 0), 0);
	sleep_ms(30);
	ck_assert_int_eq(kv_expire(kv, "gone", 4, 1000), -ENOENT);
	ck_assert_int_eq(set("gone", "41", 20, 0), 0);
	sleep_ms(30);
	ck_assert_int_eq(kv_del(kv, "gone", 4), 0);
	/* INCR of an expired key starts from 0 and has no expiry. */
	ck_assert_int_eq(set("gone", "41", 20, 0), 0);
	sleep_ms(30);
	ck_assert_int_eq(kv_incr(kv, "gone", 4, 1, &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(kv_ttl(kv, "gone", 4, &v), 0);
	ck_assert_int_eq(v, -1);
	/* NX succeeds over an expired key, expected never matches it. */
	ck_assert_int_eq(set("x", "old", 20, 0), 0);
	sleep_ms(30);
	ck_assert_int_eq(set_if("x", "new", "old"), KV_E_CONFLICT);
	ck_assert_int_eq(set("x", "new", 0, IOMUX_SET_NX), 0);
	ck_assert_str_eq(get("x"), "new");
	ck_assert_uint_eq(stats().expiring, 0);
}
END_TEST

/*
 * 1000 keys with random TTLs: after every loop iteration exactly the keys
 * whose deadline has come are gone (in deadline order, none early, none
 * left behind), and the timer examined only what it reclaimed plus one
 * live top per run: no scan.
 */
START_TEST(test_expiry_order)
{
	enum { N = 1000 };
	static uint64_t	 dl[N];
	struct kv_stats	 st;
	char		 k[32];
	uint64_t	 now, t0;
	size_t		 i, live, iters = 0;

	srandom(77);
	t0 = now_v;
	for (i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "key%zu", i);
		dl[i] = 1 + (uint64_t)random() % 300;
		ck_assert_int_eq(set(k, "v", dl[i], 0), 0);
		dl[i] += t0;
	}
	/* And some keys without expiry, which the timer never looks at. */
	for (i = 0; i < 100; i++) {
		snprintf(k, sizeof(k), "p%zu", i);
		ck_assert_int_eq(set(k, "v", 0, 0), 0);
	}
	do {
		run_once(50);
		now = now_v;
		kv_stats_get(kv, &st);
		for (i = 0, live = 0; i < N; i++)
			if (dl[i] > now)
				live++;
		/* Reclaimed: all due ones, and only those. */
		ck_assert_uint_eq(st.stored, live + 100);
		ck_assert_uint_eq(st.keys, live + 100);
		ck_assert_uint_eq(st.expired, N - live);
		ck_assert_uint_le(st.expire_checks, st.expired +
		    st.expire_runs);
		iters++;
		ck_assert_uint_lt(iters, 10000);
	} while (live > 0);
	/* Never early: the survivors of each round were all readable. */
	for (i = 0; i < 100; i++) {
		snprintf(k, sizeof(k), "p%zu", i);
		ck_assert_str_eq(get(k), "v");
	}
	ck_assert_uint_eq(st.expiring, 0);
	ck_assert_uint_le(st.expire_runs, N + 1);
}
END_TEST

/* Never early, checked per key while the loop runs. */
START_TEST(test_expiry_never_early)
{
	enum { N = 200 };
	static uint64_t	dl[N];
	char		k[32];
	uint64_t	now, t0;
	size_t		i, gone;

	srandom(5);
	t0 = now_v;
	for (i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "key%zu", i);
		dl[i] = 1 + (uint64_t)random() % 100;
		ck_assert_int_eq(set(k, "v", dl[i], 0), 0);
		dl[i] += t0;
	}
	do {
		run_once(50);
		now = now_v;
		for (i = 0, gone = 0; i < N; i++) {
			snprintf(k, sizeof(k), "key%zu", i);
			if (dl[i] > now)
				ck_assert_ptr_nonnull(get(k));
			else {
				ck_assert_ptr_null(get(k));
				gone++;
			}
		}
	} while (gone < N);
	ck_assert_uint_eq(stats().stored, 0);
}
END_TEST

/* A mass expiry is reclaimed KV_EXPIRE_BATCH keys per timer run. */
START_TEST(test_expiry_batch)
{
	enum { N = 3 * KV_EXPIRE_BATCH + 10 };
	struct kv_stats	st;
	char		k[32];
	size_t		i, runs = 0;

	for (i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "key%zu", i);
		ck_assert_int_eq(set(k, "v", 5, 0), 0);
	}
	sleep_ms(10);
	do {
		run_once(50);
		kv_stats_get(kv, &st);
		ck_assert_uint_eq(st.keys, 0);	/* all absent at once */
		if (st.expire_runs > runs) {
			runs = st.expire_runs;
			ck_assert_uint_le(st.expired, runs * KV_EXPIRE_BATCH);
		}
	} while (st.stored > 0);
	ck_assert_uint_eq(st.expired, N);
	ck_assert_uint_eq(runs, 4);
	ck_assert_uint_eq(data.bytes, 0);
}
END_TEST

START_TEST(test_memory)
{
	enum { N = 2000 };
	char		 k[32], v[600];
	uint64_t	 want = 0;
	int64_t		 x;
	size_t		 i, vl;

	srandom(9);
	memset(v, 'v', sizeof(v));
	for (i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "key%zu", i);
		vl = (size_t)random() % sizeof(v);
		ck_assert_int_eq(kv_set(kv, k, strlen(k), v, vl,
		    i % 3 ? 0 : 100000, 0, NULL), 0);
		want += kv_entry_cost(strlen(k), vl);
	}
	ck_assert_uint_eq(data.bytes, want);
	ck_assert_uint_eq(stats().bytes, want);
	/* Rewrites account the difference, in place or moved. */
	for (i = 0; i < N; i += 2) {
		snprintf(k, sizeof(k), "key%zu", i);
		ck_assert_int_eq(kv_get(kv, k, strlen(k),
		    &(const uint8_t *){ NULL }, &vl), 0);
		want -= kv_entry_cost(strlen(k), vl);
		vl = (size_t)random() % sizeof(v);
		ck_assert_int_eq(kv_set(kv, k, strlen(k), v, vl, 0,
		    IOMUX_SET_KEEPTTL, NULL), 0);
		want += kv_entry_cost(strlen(k), vl);
	}
	ck_assert_uint_eq(data.bytes, want);
	/* Counters. */
	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(kv_incr(kv, "ctr", 3, 123456789, &x), 0);
		ck_assert_uint_eq(data.bytes, want + kv_entry_cost(3,
		    (size_t)snprintf(k, sizeof(k), "%" PRId64, x)));
	}
	ck_assert_int_eq(kv_del(kv, "ctr", 3), 1);
	ck_assert_uint_eq(data.bytes, want);
	/* Delete everything: back to 0. */
	for (i = 0; i < N; i++) {
		snprintf(k, sizeof(k), "key%zu", i);
		ck_assert_int_eq(kv_del(kv, k, strlen(k)), 1);
	}
	ck_assert_uint_eq(data.bytes, 0);
	ck_assert_uint_eq(stats().bytes, 0);
	ck_assert_uint_eq(stats().stored, 0);
	ck_assert_uint_eq(stats().expiring, 0);
}
END_TEST

/* Memory given back by expiry, and by kv_free() (checked in teardown). */
START_TEST(test_memory_expiry)
{
	char		k[32];
	uint64_t	want = 0;
	size_t		i;

	for (i = 0; i < 500; i++) {
		snprintf(k, sizeof(k), "key%zu", i);
		ck_assert_int_eq(set(k, "value", i % 2 ? 5 : 0, 0), 0);
		if (i % 2 == 0)
			want += kv_entry_cost(strlen(k), 5);
	}
	sleep_ms(10);
	while (stats().stored > 250)
		run_once(50);
	ck_assert_uint_eq(data.bytes, want);
}
END_TEST

START_TEST(test_max_memory)
{
	char		 k[32], v[200];
	const uint8_t	*p;
	uint64_t	 before;
	int64_t		 x;
	size_t		 vlen;
	int		 i, ret;

	memset(v, 'v', sizeof(v));
	hlimits.max_memory = 10 * kv_entry_cost(5, 100) + 50;
	for (i = 0; i < 10; i++) {
		snprintf(k, sizeof(k), "key%02d", i);
		ck_assert_int_eq(kv_set(kv, k, 5, v, 100, 0, 0, NULL), 0);
	}
	before = data.bytes;
	/* A new key would pass: refused, nothing stored. */
	ret = kv_set(kv, "key10", 5, v, 100, 0, 0, NULL);
	ck_assert_int_eq(ret, -EDQUOT);
	ck_assert_ptr_null(get("key10"));
	ck_assert_uint_eq(data.bytes, before);
	ck_assert_uint_eq(stats().keys, 10);
	/* Growing a value past the limit: refused, the old value intact. */
	ck_assert_int_eq(kv_set(kv, "key03", 5, "short", 5, 0, 0, NULL), 0);
	ck_assert_int_eq(kv_set(kv, "key03", 5, v, 100, 0, 0, NULL), 0);
	ck_assert_int_eq(kv_set(kv, "key03", 5, v, 100 + 51, 0, 0, NULL),
	    -EDQUOT);
	ck_assert_int_eq(kv_get(kv, "key03", 5, &p, &vlen), 0);
	ck_assert_uint_eq(vlen, 100);
	ck_assert_uint_eq(data.bytes, before);
	/* Growing within the room left is fine; shrinking always is. */
	ck_assert_int_eq(kv_set(kv, "key03", 5, v, 100 + 50, 0, 0, NULL), 0);
	ck_assert_uint_eq(data.bytes, hlimits.max_memory);
	ck_assert_int_eq(kv_set(kv, "key03", 5, v, 1, 0, 0, NULL), 0);
	ck_assert_uint_eq(data.bytes, before - 99);
	/* INCR creating a key past the limit: refused. */
	ck_assert_int_eq(kv_set(kv, "key03", 5, v, 100 + 50, 0, 0, NULL), 0);
	ck_assert_int_eq(kv_incr(kv, "ctr", 3, 1, &x), -EDQUOT);
	ck_assert_ptr_null(get("ctr"));
	/* Data is never evicted to make room. */
	for (i = 0; i < 10; i++) {
		snprintf(k, sizeof(k), "key%02d", i);
		ck_assert_ptr_nonnull(get(k));
	}
	/* Deleting makes room again. */
	ck_assert_int_eq(kv_del(kv, "key00", 5), 1);
	ck_assert_int_eq(kv_set(kv, "key10", 5, v, 100, 0, 0, NULL), 0);
	/* 0 = no limit. */
	hlimits.max_memory = 0;
	ck_assert_int_eq(kv_set(kv, "key11", 5, v, 100, 0, 0, NULL), 0);
}
END_TEST

START_TEST(test_incr)
{
	static const char *const	bad[] = {
		"", "-", "+1", " 1", "1 ", "1.5", "abc", "0x10", "1e3", "--1",
		"9223372036854775808", "-9223372036854775809",
		"99999999999999999999999", "\xd9\xa1",
	};
	int64_t	v;
	size_t	i;

	/* A missing key counts as 0; default-like deltas. */
	ck_assert_int_eq(kv_incr(kv, "c", 1, 1, &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_str_eq(get("c"), "1");
	ck_assert_int_eq(kv_incr(kv, "c", 1, -5, &v), 0);
	ck_assert_int_eq(v, -4);
	ck_assert_str_eq(get("c"), "-4");
	ck_assert_int_eq(kv_incr(kv, "c", 1, 0, &v), 0);
	ck_assert_int_eq(v, -4);
	ck_assert_int_eq(set("c", "9", 0, 0), 0);
	ck_assert_int_eq(kv_incr(kv, "c", 1, 1, &v), 0);
	ck_assert_str_eq(get("c"), "10");

	/* The limits of int64. */
	ck_assert_int_eq(set("c", "9223372036854775806", 0, 0), 0);
	ck_assert_int_eq(kv_incr(kv, "c", 1, 1, &v), 0);
	ck_assert_int_eq(v, INT64_MAX);
	ck_assert_int_eq(kv_incr(kv, "c", 1, 1, &v), -ERANGE);
	ck_assert_str_eq(get("c"), "9223372036854775807");
	ck_assert_int_eq(kv_incr(kv, "c", 1, INT64_MIN, &v), 0);
	ck_assert_int_eq(v, -1);
	ck_assert_int_eq(set("c", "-9223372036854775808", 0, 0), 0);
	ck_assert_int_eq(kv_incr(kv, "c", 1, -1, &v), -ERANGE);
	ck_assert_str_eq(get("c"), "-9223372036854775808");
	ck_assert_int_eq(kv_incr(kv, "c", 1, INT64_MAX, &v), 0);
	ck_assert_int_eq(v, -1);
	ck_assert_int_eq(kv_incr(kv, "m", 1, INT64_MIN, &v), 0);
	ck_assert_str_eq(get("m"), "-9223372036854775808");

	/* The grammar taken literally: "-0" and leading zeros are integers. */
	ck_assert_int_eq(set("c", "-0", 0, 0), 0);
	ck_assert_int_eq(kv_incr(kv, "c", 1, 1, &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(set("c", "007", 0, 0), 0);
	ck_assert_int_eq(kv_incr(kv, "c", 1, 1, &v), 0);
	ck_assert_str_eq(get("c"), "8");
	ck_assert_int_eq(set("c", "-0000000000000000000000000000001", 0, 0),
	    0);
	ck_assert_int_eq(kv_incr(kv, "c", 1, 1, &v), 0);
	ck_assert_str_eq(get("c"), "0");

	/* Not integers: ETYPE, unchanged. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(set("c", bad[i], 0, 0), 0);
		ck_assert_msg(kv_incr(kv, "c", 1, 1, &v) == -EINVAL,
		    "\"%s\" taken as an integer", bad[i]);
		ck_assert_str_eq(get("c"), bad[i]);
	}
	ck_assert_int_eq(kv_set(kv, "c", 1, "1\0", 2, 0, 0, NULL), 0);
	ck_assert_int_eq(kv_incr(kv, "c", 1, 1, &v), -EINVAL);

	/* The expiry is kept. */
	ck_assert_int_eq(set("t", "5", 60000, 0), 0);
	ck_assert_int_eq(kv_incr(kv, "t", 1, 1, &v), 0);
	ck_assert_int_eq(kv_ttl(kv, "t", 1, &v), 0);
	ck_assert_int_gt(v, 59000);
	ck_assert_uint_eq(stats().expiring, 1);
}
END_TEST

struct walk {
	uint8_t	*seen;		/* per key index */
	size_t	 calls, keys;
};

/* Key index of "<prefix><n>", or -1. */
static long
key_index(const struct kv_key *k, const char *prefix)
{
	char	buf[64];
	size_t	plen = strlen(prefix);

	if (k->len <= plen || k->len >= sizeof(buf) ||
	    memcmp(k->p, prefix, plen) != 0)
		return -1;
	memcpy(buf, k->p, k->len);
	buf[k->len] = '\0';
	return strtol(buf + plen, NULL, 10);
}

/* Walk all keys with prefix, limit per call; mutate between calls. */
static void
walk(const char *prefix, size_t limit, size_t max_bytes, struct walk *w,
    void (*between)(size_t call))
{
	static struct kv_key	out[IOMUX_KEYS_LIMIT_MAX];
	uint64_t		cur = 0;
	size_t			n, i, bytes;

	w->calls = w->keys = 0;
	do {
		cur = kv_keys(kv, prefix, strlen(prefix), cur, limit,
		    max_bytes, out, &n);
		ck_assert_uint_le(n, limit);
		for (i = 0, bytes = 0; i < n; i++) {
			long	idx = key_index(&out[i], prefix);

			ck_assert_msg(idx >= 0, "a key without the prefix");
			w->seen[idx]++;
			bytes += IOMUX_ARG_HDR_SIZE + out[i].len;
		}
		ck_assert_uint_le(bytes, max_bytes);
		w->keys += n;
		w->calls++;
		ck_assert_uint_lt(w->calls, 10000000);
		if (between != NULL)
			between(w->calls);
	} while (cur != 0);
}

static void
add_keys(const char *prefix, size_t from, size_t to, uint64_t ttl)
{
	char	k[64];
	size_t	i;

	for (i = from; i < to; i++) {
		snprintf(k, sizeof(k), "%s%zu", prefix, i);
		ck_assert_int_eq(set(k, "v", ttl, 0), 0);
	}
}

START_TEST(test_keys_complete)
{
	enum { N = 3000 };
	static const size_t	limits[] = { 1, 2, 7, 100, 1000 };
	struct walk		w;
	size_t			i, j;

	w.seen = calloc(N, 1);
	ck_assert_ptr_nonnull(w.seen);
	add_keys("a:", 0, N, 0);
	add_keys("b:", 0, N, 0);
	add_keys("a:x", 0, 50, 10);	/* soon expired: never returned */
	sleep_ms(20);
	for (j = 0; j < sizeof(limits) / sizeof(limits[0]); j++) {
		memset(w.seen, 0, N);
		walk("a:", limits[j], SIZE_MAX, &w, NULL);
		for (i = 0; i < N; i++)
			ck_assert_msg(w.seen[i] == 1, "limit %zu: a:%zu seen "
			    "%d times", limits[j], i, w.seen[i]);
		ck_assert_uint_eq(w.keys, N);
	}
	/* All keys, with the byte budget as the binding limit. */
	free(w.seen);
	w.seen = calloc(N, 1);
	memset(w.seen, 0, N);
	walk("b:", 1000, 40, &w, NULL);
	for (i = 0; i < N; i++)
		ck_assert_uint_eq(w.seen[i], 1);
	free(w.seen);
}
END_TEST

/* Bounded work: nothing matches, so each call stops at its slot budget. */
START_TEST(test_keys_bounded)
{
	static struct kv_key	 keys100[100];
	struct kv_key		 out[4];
	struct walk		 w;
	uint8_t			 seen[1];
	uint64_t		 cur;
	size_t			 n;

	add_keys("a:", 0, 5000, 0);
	w.seen = seen;
	walk("zz", 1, SIZE_MAX, &w, NULL);
	/*
	 * 10 slots per call over a table of at least 4096 buckets: a slot is
	 * a bucket of the smaller table while a rehash is in progress (and
	 * its expansions in the larger one), so at least 4096 / 10 calls.
	 */
	ck_assert_uint_ge(w.calls, 4096 / KV_KEYS_SLOTS_PER_KEY);
	ck_assert_uint_eq(w.keys, 0);
	cur = kv_keys(kv, "zz", 2, 0, 4, SIZE_MAX, out, &n);
	ck_assert_uint_ne(cur, 0);
	ck_assert_uint_eq(n, 0);
	/* An empty store (64 buckets): done in one call of 100. */
	kv_free(kv);
	ck_assert_int_eq(kv_new(&data, &clk, &kv), 0);
	ck_assert_uint_eq(kv_keys(kv, "", 0, 0, 100, SIZE_MAX, keys100, &n), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

static size_t	churn_next;

/* Between KEYS calls: grow the table a lot, then shrink it. */
static void
churn(size_t call)
{
	char	k[64];
	size_t	i;

	if (call % 40 < 20) {
		add_keys("c:", churn_next, churn_next + 300, 0);
		churn_next += 300;
	} else {
		for (i = 0; i < 300 && churn_next > 0; i++) {
			snprintf(k, sizeof(k), "c:%zu", --churn_next);
			ck_assert_int_eq(kv_del(kv, k, strlen(k)), 1);
		}
	}
}

START_TEST(test_keys_resize)
{
	enum { N = 500 };
	static const size_t	limits[] = { 1, 5, 64 };
	struct walk		w;
	size_t			i, j;

	w.seen = calloc(N, 1);
	ck_assert_ptr_nonnull(w.seen);
	add_keys("s:", 0, N, 0);
	for (j = 0; j < sizeof(limits) / sizeof(limits[0]); j++) {
		memset(w.seen, 0, N);
		walk("s:", limits[j], SIZE_MAX, &w, churn);
		/* Exactly once: positions do not depend on the table. */
		for (i = 0; i < N; i++)
			ck_assert_msg(w.seen[i] == 1, "limit %zu: s:%zu seen "
			    "%d times", limits[j], i, w.seen[i]);
	}
	free(w.seen);
}
END_TEST

/* --- WAIT ----------------------------------------------------------------- */

static struct hub_client	wcl[4];
static struct hub_waiter	ww[4];

/* Client i waits for key k. */
static void
wait_on(int i, const char *k)
{
	struct kv_wait	*wk = kv_wait_get(kv, k, strlen(k));

	ck_assert_ptr_nonnull(wk);
	memset(&wcl[i], 0, sizeof(wcl[i]));
	memset(&ww[i], 0, sizeof(ww[i]));
	ww[i].c = &wcl[i];
	kv_wait_add(wk, &ww[i]);
}

/* The next woken waiter's index, its value in val (a C string), or -1. */
static int
woken(char *val, size_t cap)
{
	struct hub_waiter	*w;
	const uint8_t		*v;
	size_t			 vlen;

	if ((w = kv_next_woken(kv, &v, &vlen)) == NULL)
		return -1;
	ck_assert_ptr_null(w->q);
	ck_assert_uint_lt(vlen, cap);
	memcpy(val, v, vlen);
	val[vlen] = '\0';
	return (int)(w - ww);
}

/* A write wakes its key's waiters, but answers nobody: they are taken. */
START_TEST(test_wait_woken_fifo)
{
	char	v[16];
	int	i;

	for (i = 0; i < 3; i++)
		wait_on(i, "k");
	wait_on(3, "other");
	ck_assert_uint_eq(stats().waited_keys, 2);
	ck_assert_int_eq(woken(v, sizeof(v)), -1);
	ck_assert_int_eq(set("unrelated", "x", 0, 0), 0);
	ck_assert_int_eq(woken(v, sizeof(v)), -1);
	ck_assert_int_eq(set("k", "v1", 0, 0), 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(woken(v, sizeof(v)), i);
		ck_assert_str_eq(v, "v1");
	}
	ck_assert_int_eq(woken(v, sizeof(v)), -1);
	/* The record went with its last waiter; the other key's stays. */
	ck_assert_uint_eq(stats().waited_keys, 1);
	kv_wait_cancel(&ww[3]);
	ck_assert_uint_eq(stats().waited_keys, 0);
}
END_TEST

/* Taken after two writes: the value is the one stored now. */
START_TEST(test_wait_latest_value)
{
	char	v[16];

	wait_on(0, "k");
	ck_assert_int_eq(set("k", "first", 0, 0), 0);
	ck_assert_int_eq(set("k", "second", 0, 0), 0);
	ck_assert_int_eq(woken(v, sizeof(v)), 0);
	ck_assert_str_eq(v, "second");
	/* INCR creating the key wakes too. */
	wait_on(1, "n");
	ck_assert_int_eq(kv_incr(kv, "n", 1, 5, &(int64_t){ 0 }), 0);
	ck_assert_int_eq(woken(v, sizeof(v)), 1);
	ck_assert_str_eq(v, "5");
}
END_TEST

START_TEST(test_wait_gone_and_cancel)
{
	char	v[16];

	wait_on(0, "k");
	wait_on(1, "k");
	wait_on(2, "k");
	wcl[0].flags |= HUB_CLIENT_F_GONE;
	kv_wait_cancel(&ww[1]);
	ck_assert_ptr_null(ww[1].q);
	kv_wait_cancel(&ww[1]);		/* twice: nothing */
	ck_assert_int_eq(set("k", "v", 0, 0), 0);
	ck_assert_int_eq(woken(v, sizeof(v)), 2);
	ck_assert_int_eq(woken(v, sizeof(v)), -1);
	/* The gone one is off its queue: its cancel changes nothing. */
	ck_assert_ptr_null(ww[0].q);
	kv_wait_cancel(&ww[0]);
	kv_wait_cancel(&ww[2]);		/* woken: nothing */
	ck_assert_uint_eq(stats().waited_keys, 0);
	/* A record nobody came to wait on is given back. */
	ck_assert_ptr_nonnull(kv_wait_get(kv, "z", 1));
	ck_assert_uint_eq(stats().waited_keys, 1);
	kv_wait_put(kv_wait_get(kv, "z", 1));
	ck_assert_uint_eq(stats().waited_keys, 0);
}
END_TEST

/*
 * The key expired before its waiters were taken: nobody is woken, and
 * they go on waiting for the next write.
 */
START_TEST(test_wait_key_gone_first)
{
	char	v[16];

	wait_on(0, "k");
	ck_assert_int_eq(set("k", "brief", 5, 0), 0);
	sleep_ms(10);
	ck_assert_int_eq(woken(v, sizeof(v)), -1);
	ck_assert_ptr_nonnull(ww[0].q);
	ck_assert_uint_eq(stats().waited_keys, 1);
	ck_assert_int_eq(set("k", "again", 0, 0), 0);
	ck_assert_int_eq(woken(v, sizeof(v)), 0);
	ck_assert_str_eq(v, "again");
}
END_TEST

/* Freed with waiters still linked: none points at freed memory. */
START_TEST(test_wait_free_linked)
{
	wait_on(0, "k");
	wait_on(1, "k");
	ck_assert_int_eq(set("k", "v", 0, 0), 0);	/* ready, not taken */
	kv_free(kv);
	ck_assert_ptr_null(ww[0].q);
	ck_assert_ptr_null(ww[1].q);
	ck_assert_int_eq(kv_new(&data, &clk, &kv), 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("kv");
	TCase	*tc;

	tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_set_get);
	tcase_add_test(tc, test_journal);
	tcase_add_test(tc, test_set_conditions);
	tcase_add_test(tc, test_ttl_expire_persist);
	tcase_add_test(tc, test_incr);
	suite_add_tcase(s, tc);

	tc = tcase_create("expiry");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_expiry_exact);
	tcase_add_test(tc, test_expiry_order);
	tcase_add_test(tc, test_expiry_never_early);
	tcase_add_test(tc, test_expiry_batch);
	suite_add_tcase(s, tc);

	tc = tcase_create("memory");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_memory);
	tcase_add_test(tc, test_memory_expiry);
	tcase_add_test(tc, test_max_memory);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_keys_complete);
	tcase_add_test(tc, test_keys_bounded);
	tcase_add_test(tc, test_keys_resize);
	suite_add_tcase(s, tc);

	tc = tcase_create("wait");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_wait_woken_fifo);
	tcase_add_test(tc, test_wait_latest_value);
	tcase_add_test(tc, test_wait_gone_and_cancel);
	tcase_add_test(tc, test_wait_key_gone_first);
	tcase_add_test(tc, test_wait_free_linked);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(suite());
}
