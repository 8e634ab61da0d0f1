/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_htab.c: unit tests of the intrusive hash table (daemon/htab.c):
 * lookups of binary keys, growth and shrinking that keep every entry
 * findable, the scan cursor's guarantee across resizes between calls and
 * its bound per call, and a long randomised run against a trivially
 * correct model. The hash seed is random per process, so every test is
 * written to hold for any seed; the operations themselves come from a
 * fixed srandom() seed so that a failure reproduces.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check-run.h"
#include "htab.h"

struct item {
	struct htab_entry	 he;
	uint8_t			 key[24];
	uint32_t		 klen;
	int			 in;	/* in the table */
	int			 seen;	/* visits by this scan */
};

static void
item_key(struct item *it, unsigned int i)
{
	it->klen = (uint32_t)snprintf((char *)it->key, sizeof(it->key),
	    "key:%u", i);
	it->he.key = it->key;
	it->he.klen = it->klen;
}

static struct item *
find(struct htab *t, const void *key, size_t klen)
{
	struct htab_entry	*e = htab_find(t, key, klen);

	return e == NULL ? NULL : container_of(e, struct item, he);
}

static void
check_shape(const struct htab *t)
{
	ck_assert_uint_ge(t->nbuckets, t->min_buckets);
	ck_assert_uint_eq(t->nbuckets & (t->nbuckets - 1), 0);
	ck_assert_uint_le(t->count, t->nbuckets);
	if (t->nbuckets > t->min_buckets)
		ck_assert_uint_ge(t->count * 8, t->nbuckets);
}

START_TEST(test_basic)
{
	struct htab	t;
	struct item	a, b;

	ck_assert_int_eq(htab_init(&t, 0), 0);
	ck_assert_uint_eq(t.nbuckets, 8);
	ck_assert_uint_eq(t.min_buckets, 8);
	ck_assert_ptr_null(htab_find(&t, "x", 1));

	item_key(&a, 1);
	item_key(&b, 2);
	htab_insert(&t, &a.he);
	ck_assert_uint_eq(t.count, 1);
	ck_assert_ptr_eq(find(&t, "key:1", 5), &a);
	ck_assert_ptr_null(find(&t, "key:2", 5));
	ck_assert_ptr_null(find(&t, "key:", 4));
	ck_assert_ptr_null(find(&t, "key:11", 6));
	htab_insert(&t, &b.he);
	ck_assert_ptr_eq(find(&t, "key:2", 5), &b);
	ck_assert_ptr_eq(find(&t, "key:1", 5), &a);

	htab_remove(&t, &a.he);
	ck_assert_uint_eq(t.count, 1);
	ck_assert_ptr_null(find(&t, "key:1", 5));
	ck_assert_ptr_eq(find(&t, "key:2", 5), &b);
	htab_remove(&t, &b.he);
	ck_assert_uint_eq(t.count, 0);
	ck_assert_ptr_null(find(&t, "key:2", 5));
	htab_free(&t);
	ck_assert_ptr_null(t.buckets);

	/* Initial sizes round up to a power of two. */
	ck_assert_int_eq(htab_init(&t, 100), 0);
	ck_assert_uint_eq(t.nbuckets, 128);
	ck_assert_uint_eq(t.min_buckets, 128);
	htab_free(&t);
}
END_TEST

START_TEST(test_binary_keys)
{
	static const uint8_t	 k0[] = "a\0b", k1[] = "a\0c";
	static const uint8_t	 k2[] = "\0\0\0\0\0\0\0\0\0";
	struct htab		 t;
	struct item		 it[6];
	const uint8_t		*keys[6] = { k0, k1, k0, k2, k2, k2 };
	const uint32_t		 lens[6] = { 3, 3, 1, 0, 8, 9 };
	size_t			 i, j;

	ck_assert_int_eq(htab_init(&t, 8), 0);
	for (i = 0; i < 6; i++) {
		it[i].he.key = keys[i];
		it[i].he.klen = lens[i];
		htab_insert(&t, &it[i].he);
	}
	ck_assert_uint_eq(t.count, 6);
	for (i = 0; i < 6; i++)
		ck_assert_ptr_eq(find(&t, keys[i], lens[i]), &it[i]);
	/* Same bytes, other lengths: NUL bytes are part of the key. */
	ck_assert_ptr_null(find(&t, k0, 2));
	ck_assert_ptr_null(find(&t, k2, 1));
	ck_assert_ptr_null(find(&t, k2, 7));
	ck_assert_ptr_null(find(&t, "a\0d", 3));
	for (i = 0; i < 6; i++) {
		htab_remove(&t, &it[i].he);
		ck_assert_ptr_null(find(&t, keys[i], lens[i]));
		for (j = i + 1; j < 6; j++)
			ck_assert_ptr_eq(find(&t, keys[j], lens[j]), &it[j]);
	}
	htab_free(&t);
}
END_TEST

START_TEST(test_hash)
{
	uint64_t	h1 = htab_hash("abc", 3);

	/* Stable within a process, sensitive to every byte and the length. */
	ck_assert_uint_eq(h1, htab_hash("abc", 3));
	ck_assert_uint_ne(h1, htab_hash("abd", 3));
	ck_assert_uint_ne(h1, htab_hash("abc\0", 4));
	ck_assert_uint_ne(htab_hash("", 0), htab_hash("\0", 1));
}
END_TEST

START_TEST(test_grow_shrink)
{
	enum { N = 20000 };
	struct htab	 t;
	struct item	*it = calloc(N, sizeof(*it));
	size_t		 i, j, peak;

	ck_assert_ptr_nonnull(it);
	ck_assert_int_eq(htab_init(&t, 16), 0);
	for (i = 0; i < N; i++) {
		item_key(&it[i], (unsigned int)i);
		htab_insert(&t, &it[i].he);
		check_shape(&t);
		if (i % 997 == 0) {
			for (j = 0; j <= i; j++)
				ck_assert_ptr_eq(find(&t, it[j].key,
				    it[j].klen), &it[j]);
		}
	}
	ck_assert_uint_eq(t.count, N);
	ck_assert_uint_ge(t.nbuckets, N);
	peak = t.nbuckets;
	for (i = 0; i < N; i++)
		ck_assert_ptr_eq(find(&t, it[i].key, it[i].klen), &it[i]);

	/* Remove all but every 100th: the table shrinks, nothing is lost. */
	for (i = 0; i < N; i++) {
		if (i % 100 == 0)
			continue;
		htab_remove(&t, &it[i].he);
		check_shape(&t);
	}
	ck_assert_uint_eq(t.count, N / 100);
	ck_assert_uint_lt(t.nbuckets, peak);
	for (i = 0; i < N; i++)
		ck_assert_ptr_eq(find(&t, it[i].key, it[i].klen),
		    i % 100 == 0 ? &it[i] : NULL);
	for (i = 0; i < N; i += 100)
		htab_remove(&t, &it[i].he);
	ck_assert_uint_eq(t.count, 0);
	/* Never under the initial size. */
	ck_assert_uint_eq(t.nbuckets, 16);
	htab_free(&t);
	free(it);
}
END_TEST

struct scan_ctx {
	const struct htab	*t;
	size_t			 visits;
	uint64_t		 buckets[64];	/* seen this call */
	size_t			 nb;
};

static void
visit(struct htab_entry *e, void *arg)
{
	struct scan_ctx	*c = arg;
	struct item	*it = container_of(e, struct item, he);
	uint64_t	 b = e->hash & (c->t->nbuckets - 1);
	size_t		 i;

	ck_assert_int_eq(it->in, 1);
	it->seen++;
	c->visits++;
	for (i = 0; i < c->nb; i++)
		if (c->buckets[i] == b)
			return;
	ck_assert_uint_lt(c->nb, 64);
	c->buckets[c->nb++] = b;
}

/*
 * Entries 0..STABLE-1 stay for the whole walk while others come and go
 * between calls, growing and shrinking the table: each stable entry must be
 * seen at least once. Repeated with several step sizes and op mixes.
 */
START_TEST(test_scan_resize)
{
	enum { STABLE = 300, EXTRA = 6000 };
	struct htab	 t;
	struct item	*it = calloc(STABLE + EXTRA, sizeof(*it));
	struct scan_ctx	 c;
	uint64_t	 cur;
	size_t		 i, step, nextra, round, calls, resizes;
	size_t		 last;

	ck_assert_ptr_nonnull(it);
	srandom(4242);
	for (round = 0; round < 40; round++) {
		ck_assert_int_eq(htab_init(&t, 8), 0);
		for (i = 0; i < STABLE + EXTRA; i++) {
			item_key(&it[i], (unsigned int)(i + round * 100000));
			it[i].in = 0;
		}
		for (i = 0; i < STABLE; i++) {
			htab_insert(&t, &it[i].he);
			it[i].in = 1;
		}
		/* Even rounds start small and grow, odd rounds shrink. */
		nextra = round % 2 ? EXTRA : 0;
		for (i = 0; i < nextra; i++) {
			htab_insert(&t, &it[STABLE + i].he);
			it[STABLE + i].in = 1;
		}
		for (i = 0; i < STABLE + EXTRA; i++)
			it[i].seen = 0;
		step = 1 + (size_t)random() % 4;
		cur = 0;
		calls = resizes = 0;
		do {
			memset(&c, 0, sizeof(c));
			c.t = &t;
			cur = htab_scan(&t, cur, step, visit, &c);
			ck_assert_uint_le(c.nb, step);
			calls++;
			last = t.nbuckets;
			/* Mutate: grow or shrink by a random amount. */
			for (i = 0; i < 1 + (size_t)random() % 200; i++) {
				if (round % 2 == 0 && nextra < EXTRA) {
					htab_insert(&t,
					    &it[STABLE + nextra].he);
					it[STABLE + nextra++].in = 1;
				} else if (round % 2 == 1 && nextra > 0) {
					htab_remove(&t,
					    &it[STABLE + --nextra].he);
					it[STABLE + nextra].in = 0;
				}
			}
			if (t.nbuckets != last)
				resizes++;
			ck_assert_uint_lt(calls, 1000000);
		} while (cur != 0);
		for (i = 0; i < STABLE; i++)
			ck_assert_msg(it[i].seen >= 1,
			    "round %zu: stable entry %zu never seen", round, i);
		ck_assert_uint_gt(resizes, 0);
		for (i = 0; i < STABLE + EXTRA; i++)
			if (it[i].in)
				htab_remove(&t, &it[i].he);
		ck_assert_uint_eq(t.count, 0);
		htab_free(&t);
	}
	free(it);
}
END_TEST

/* A walk of an unchanging table visits each bucket and entry exactly once. */
START_TEST(test_scan_bounded)
{
	enum { N = 5000 };
	struct htab	 t;
	struct item	*it = calloc(N, sizeof(*it));
	struct scan_ctx	 c;
	uint64_t	 cur;
	size_t		 i, step, calls, visits;

	ck_assert_ptr_nonnull(it);
	ck_assert_int_eq(htab_init(&t, 8), 0);
	/* An empty table: one call per bucket group, nothing visited. */
	memset(&c, 0, sizeof(c));
	c.t = &t;
	ck_assert_uint_eq(htab_scan(&t, 0, 100, visit, &c), 0);
	ck_assert_uint_eq(c.visits, 0);
	for (i = 0; i < N; i++) {
		item_key(&it[i], (unsigned int)i);
		htab_insert(&t, &it[i].he);
		it[i].in = 1;
	}
	for (step = 1; step <= 64; step *= 4) {
		for (i = 0; i < N; i++)
			it[i].seen = 0;
		cur = 0;
		calls = visits = 0;
		do {
			memset(&c, 0, sizeof(c));
			c.t = &t;
			cur = htab_scan(&t, cur, step, visit, &c);
			ck_assert_uint_le(c.nb, step);
			visits += c.visits;
			calls++;
		} while (cur != 0);
		ck_assert_uint_eq(calls, (t.nbuckets + step - 1) / step);
		ck_assert_uint_eq(visits, N);
		for (i = 0; i < N; i++)
			ck_assert_int_eq(it[i].seen, 1);
	}
	/* A step of 0 is taken as 1: progress is always made. */
	memset(&c, 0, sizeof(c));
	c.t = &t;
	cur = htab_scan(&t, 0, 0, visit, &c);
	ck_assert_uint_ne(cur, 0);
	ck_assert_uint_le(c.nb, 1);
	htab_free(&t);
	free(it);
}
END_TEST

/* 100k random inserts, removes and lookups against a presence array. */
START_TEST(test_model)
{
	enum { K = 3000, OPS = 100000 };
	struct htab	 t;
	struct item	*it = calloc(K, sizeof(*it));
	struct scan_ctx	 c;
	size_t		 i, n, op, live = 0;
	uint64_t	 cur;

	ck_assert_ptr_nonnull(it);
	srandom(1234);
	ck_assert_int_eq(htab_init(&t, 8), 0);
	for (i = 0; i < K; i++) {
		/* Binary keys of varying length, some with NUL bytes. */
		it[i].klen = (uint32_t)(i % 24);
		for (n = 0; n < it[i].klen; n++)
			it[i].key[n] = (uint8_t)(random() % 4);
		it[i].he.key = it[i].key;
		it[i].he.klen = it[i].klen;
	}
	/* Make the keys distinct: (length, bytes) pairs may repeat. */
	for (i = 0; i < K; i++) {
		if (it[i].klen >= 4)
			memcpy(it[i].key, &i, 4);
	}
	for (op = 0; op < OPS; op++) {
		i = (size_t)random() % K;
		if (it[i].klen < 4)
			continue;	/* short keys collide; used above */
		switch (random() % 3) {
		case 0:
			if (!it[i].in) {
				htab_insert(&t, &it[i].he);
				it[i].in = 1;
				live++;
			}
			break;
		case 1:
			if (it[i].in) {
				htab_remove(&t, &it[i].he);
				it[i].in = 0;
				live--;
			}
			break;
		default:
			ck_assert_ptr_eq(find(&t, it[i].key, it[i].klen),
			    it[i].in ? &it[i] : NULL);
			break;
		}
		ck_assert_uint_eq(t.count, live);
		check_shape(&t);
		if (op % 10000 == 0) {
			for (i = 0; i < K; i++)
				it[i].seen = 0;
			cur = 0;
			do {
				memset(&c, 0, sizeof(c));
				c.t = &t;
				cur = htab_scan(&t, cur, 7, visit, &c);
			} while (cur != 0);
			for (i = 0; i < K; i++)
				ck_assert_int_eq(it[i].seen, it[i].in);
		}
	}
	for (i = 0; i < K; i++) {
		if (it[i].klen >= 4)
			ck_assert_ptr_eq(find(&t, it[i].key, it[i].klen),
			    it[i].in ? &it[i] : NULL);
		if (it[i].in)
			htab_remove(&t, &it[i].he);
	}
	ck_assert_uint_eq(t.count, 0);
	htab_free(&t);
	free(it);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("htab");
	TCase	*tc;

	tc = tcase_create("lookup");
	tcase_add_test(tc, test_basic);
	tcase_add_test(tc, test_binary_keys);
	tcase_add_test(tc, test_hash);
	suite_add_tcase(s, tc);

	tc = tcase_create("resize");
	tcase_add_test(tc, test_grow_shrink);
	suite_add_tcase(s, tc);

	tc = tcase_create("scan");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_scan_resize);
	tcase_add_test(tc, test_scan_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_model);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(suite());
}
