/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_htab.c: unit tests of the intrusive hash table (daemon/htab.c):
 * lookups of binary keys, growth and shrinking that keep every entry
 * findable, the incremental rehash (everything findable at every step,
 * inserts and removes interleaved with it, bounded work per operation,
 * the old array given back piecemeal, completion), the scan cursor's
 * guarantee across resizes and during a rehash, model-checked, and its
 * bound per call, htab_drain(), and a long randomised run against a
 * trivially correct model. The hash seed is random per process, so every
 * test is written to hold for any seed; the operations themselves come
 * from a fixed srandom() seed so that a failure reproduces.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check-run.h"
#include "htab.h"

/*
 * Check records every assertion that passes, which dominates loops that
 * check millions of things: these only call into Check on a failure.
 */
#define EXPECT(c) do {							\
	if (!(c))							\
		ck_abort_msg("assertion '%s' failed", #c);		\
} while (0)
#define EXPECT_U(a, op, b) do {						\
	uintmax_t	 a_ = (a), b_ = (b);				\
									\
	if (!(a_ op b_))						\
		ck_abort_msg("assertion '%s %s %s' failed: %ju, %ju",	\
		    #a, #op, #b, a_, b_);				\
} while (0)
#define EXPECT_P(a, b) do {						\
	const void	*a_ = (a), *b_ = (b);				\
									\
	if (a_ != b_)							\
		ck_abort_msg("assertion '%s == %s' failed: %p, %p",	\
		    #a, #b, a_, b_);					\
} while (0)

struct item {
	struct htab_entry	 he;
	uint8_t			 key[24];
	uint32_t		 klen;
	int			 in;	/* in the table */
	int			 seen;	/* visits by this scan */
	int			 must;	/* in for the whole scan so far */
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

static int
pow2(size_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* The documented bounds on sizes and loads, with or without a rehash. */
static void
check_shape(const struct htab *t)
{
	EXPECT_U(t->nbuckets, >=, t->min_buckets);
	EXPECT(pow2(t->nbuckets));
	if (!htab_rehashing(t)) {
		EXPECT(t->old == NULL);
		EXPECT_U(t->old_count, ==, 0);
		EXPECT_U(t->count, <=, t->nbuckets);
		if (t->nbuckets > t->min_buckets)
			EXPECT_U(t->count * 8, >=, t->nbuckets);
		return;
	}
	EXPECT(t->old != NULL);
	EXPECT(pow2(t->nold));
	EXPECT_U(t->nold, !=, t->nbuckets);
	/* A resize is by 2x or 4x, which bounds a scan step. */
	EXPECT_U(t->nbuckets, <=, t->nold * 4);
	EXPECT_U(t->nold, <=, t->nbuckets * 4);
	EXPECT_U(t->old_count, <=, t->count);
	EXPECT_U(t->rehash_idx, <=, t->nold);
	/* The new array's load stays under 1.5 (1.4 in theory). */
	EXPECT_U((t->count - t->old_count) * 2, <=, t->nbuckets * 3);
}

/* The placement invariants, by walking both arrays: O(buckets). */
static void
check_table(const struct htab *t)
{
	struct htab_entry	*e;
	size_t			 i, n = 0, nold = 0;

	check_shape(t);
	for (i = 0; i < t->nbuckets; i++) {
		for (e = t->buckets[i]; e != NULL; e = e->next) {
			EXPECT_U(e->hash & (t->nbuckets - 1), ==, i);
			n++;
		}
	}
	if (t->old != NULL) {
		/* Only old[0..rehash_idx) is still there to read. */
		for (i = 0; i < t->rehash_idx; i++) {
			for (e = t->old[i]; e != NULL; e = e->next) {
				EXPECT_U(e->hash & (t->nold - 1), ==, i);
				nold++;
			}
		}
		EXPECT_U(nold, ==, t->old_count);
	}
	EXPECT_U(n + nold, ==, t->count);
}

/* Each item of it[0..n) is found if and only if it is in the table. */
static void
check_all(struct htab *t, struct item *it, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		EXPECT_P(find(t, it[i].key, it[i].klen),
		    it[i].in ? &it[i] : NULL);
}

static void
put(struct htab *t, struct item *it)
{
	EXPECT_U(it->in, ==, 0);
	htab_insert(t, &it->he);
	it->in = 1;
}

static void
del(struct htab *t, struct item *it)
{
	EXPECT_U(it->in, ==, 1);
	htab_remove(t, &it->he);
	it->in = 0;
}

/* Finish a rehash the way a timer would. */
static void
finish(struct htab *t)
{
	size_t	steps = 0;

	while (htab_rehashing(t)) {
		htab_rehash_step(t, 64);
		ck_assert_uint_lt(++steps, 10000000);
	}
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
	/*
	 * A rehash may still be giving a large old array back, a piece per
	 * operation (how far it got depends on where the keyed hashes put
	 * the entries): finish it, and the table ends at its initial size,
	 * never under it.
	 */
	for (i = 0; htab_rehashing(&t); i++) {
		ck_assert_uint_lt(i, 1000);
		htab_rehash_step(&t, 1);
	}
	ck_assert_uint_eq(t.nbuckets, 16);
	htab_free(&t);
	free(it);
}
END_TEST

/*
 * The rehash tests. A table of at least 32768 buckets has its arrays
 * mapped and given back in pieces, so some sizes here are chosen to go
 * past that.
 */

/* Insert fresh items until a rehash starts; the index of the next one. */
static size_t
fill_until_rehash(struct htab *t, struct item *it, size_t i, size_t n)
{
	while (!htab_rehashing(t)) {
		ck_assert_uint_lt(i, n);
		put(t, &it[i++]);
	}
	return i;
}

/*
 * A long grow: once a rehash of 1024 old buckets begins, inserts, removes
 * and timer steps are interleaved and after every one of them every item
 * is findable exactly when it is in, and the arrays are consistent.
 */
START_TEST(test_rehash_grow)
{
	enum { N = 6000 };
	struct htab	 t;
	struct item	*it = calloc(N, sizeof(*it));
	size_t		 i, next, ops = 0, live, nold;
	long		 r;

	ck_assert_ptr_nonnull(it);
	srandom(77);
	for (i = 0; i < N; i++)
		item_key(&it[i], (unsigned int)i);
	ck_assert_int_eq(htab_init(&t, 1024), 0);
	next = 0;
	while (t.count < 1024)
		put(&t, &it[next++]);
	ck_assert(!htab_rehashing(&t));
	next = fill_until_rehash(&t, it, next, N);
	ck_assert_uint_eq(t.nold, 1024);
	ck_assert_uint_eq(t.nbuckets, 2048);
	nold = t.nold;
	check_all(&t, it, N);
	while (htab_rehashing(&t)) {
		r = random() % 10;
		if (r < 5) {
			put(&t, &it[next++]);
		} else if (r < 8) {
			/* Remove a random live one: old or new array. */
			do
				i = (size_t)random() % next;
			while (!it[i].in);
			del(&t, &it[i]);
		} else {
			htab_rehash_step(&t, 1);
		}
		ops++;
		check_table(&t);
		check_all(&t, it, next);
	}
	/* Long, but each operation looked at one old bucket at least. */
	ck_assert_uint_gt(ops, 100);
	ck_assert_uint_le(ops, nold);
	for (i = 0, live = 0; i < next; i++)
		live += (size_t)it[i].in;
	ck_assert_uint_eq(t.count, live);
	check_table(&t);
	htab_free(&t);
	free(it);
}
END_TEST

/*
 * A long shrink: fill 8192 buckets, remove down to under 1/8 and, while
 * the 4x shrink runs, keep mixing removes (mostly) and inserts, checking
 * everything after every operation; then down to empty.
 */
START_TEST(test_rehash_shrink)
{
	enum { N = 8192 };
	struct htab	 t;
	struct item	*it = calloc(N, sizeof(*it));
	size_t		 i, ops = 0, rehashes = 0, live;
	int		 was = 0;

	ck_assert_ptr_nonnull(it);
	srandom(78);
	for (i = 0; i < N; i++)
		item_key(&it[i], (unsigned int)i);
	ck_assert_int_eq(htab_init(&t, 8), 0);
	for (i = 0; i < N; i++)
		put(&t, &it[i]);
	finish(&t);
	ck_assert_uint_eq(t.nbuckets, 8192);
	/* Down to the threshold: no rehash yet. */
	for (i = 0; t.count > 1024; i++)
		del(&t, &it[i]);
	ck_assert_uint_eq(t.nbuckets, 8192);
	ck_assert(!htab_rehashing(&t));
	del(&t, &it[i]);
	ck_assert(htab_rehashing(&t));
	ck_assert_uint_eq(t.nold, 8192);
	ck_assert_uint_eq(t.nbuckets, 2048);
	live = t.count;
	while (live > 0) {
		if (random() % 4 == 0) {
			do
				i = (size_t)random() % N;
			while (it[i].in);
			put(&t, &it[i]);
			live++;
		} else {
			do
				i = (size_t)random() % N;
			while (!it[i].in);
			del(&t, &it[i]);
			live--;
		}
		if (htab_rehashing(&t) && !was)
			rehashes++;
		was = htab_rehashing(&t);
		ops++;
		ck_assert_uint_eq(t.count, live);
		check_table(&t);
		if (htab_rehashing(&t) || ops % 64 == 0)
			check_all(&t, it, N);
	}
	/* More shrinks followed, down to the initial size. */
	ck_assert_uint_gt(rehashes, 1);
	ck_assert(!htab_rehashing(&t));
	ck_assert_uint_eq(t.nbuckets, 8);
	htab_free(&t);
	free(it);
}
END_TEST

/* The longest chain of the old array: what one bucket move can carry. */
static size_t
old_max_chain(const struct htab *t)
{
	struct htab_entry	*e;
	size_t			 i, n, max = 0;

	for (i = 0; i < t->rehash_idx; i++) {
		for (n = 0, e = t->old[i]; e != NULL; e = e->next)
			n++;
		if (n > max)
			max = n;
	}
	return max;
}

struct work {
	uint64_t	 visits, moves;
	size_t		 max_visits;
	size_t		 max_chain;	/* of the old array being emptied */
	struct htab_entry **old;
	size_t		 nold;
	size_t		 ops;		/* of this rehash */
	size_t		 rehashes;
	size_t		 released;	/* rehashes seen giving back early */
};

static void
work_before(const struct htab *t, struct work *w)
{
	/* Consecutive rehashes differ in nold, if not in address. */
	if (t->old != NULL && (t->old != w->old || t->nold != w->nold)) {
		w->old = t->old;
		w->nold = t->nold;
		w->max_chain = old_max_chain(t);
		w->ops = 0;
		w->rehashes++;
	}
	w->visits = t->rehash_visits;
	w->moves = t->rehash_moves;
}

/* One operation's work was bounded; a rehash ends in time. */
static void
work_after(const struct htab *t, struct work *w, size_t per)
{
	size_t	dv = (size_t)(t->rehash_visits - w->visits);
	size_t	dm = (size_t)(t->rehash_moves - w->moves);

	EXPECT_U(dv, <=, per * (1 + HTAB_REHASH_EMPTY));
	/* Old chains only shrink: a move carries at most the longest. */
	EXPECT_U(dm, <=, per * w->max_chain);
	if (dv > w->max_visits)
		w->max_visits = dv;
	if (w->old != NULL && t->old == w->old && t->nold == w->nold) {
		w->ops++;
		/* One old bucket a time at least, plus the pieces to give. */
		EXPECT_U(w->ops, <=, t->nold + t->nold / 1024 + 2);
		if (t->old_count > 0 &&
		    t->old_mapped < t->nold * sizeof(*t->old) &&
		    w->released < w->rehashes)
			w->released = w->rehashes;
	}
}

/*
 * Bounded work per operation, by the table's own counters: growing to
 * 300k entries and removing them all again, no insert or remove looks at
 * more than 1 + HTAB_REHASH_EMPTY old buckets or moves more entries than
 * one old chain holds; every rehash ends within about nold operations;
 * and large old arrays are given back before the rehash ends.
 */
START_TEST(test_rehash_bounded)
{
	enum { N = 300000 };
	struct htab	 t;
	struct item	*it = calloc(N, sizeof(*it));
	struct work	 w;
	size_t		 i, dv, grows;

	ck_assert_ptr_nonnull(it);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(htab_init(&t, 8), 0);
	for (i = 0; i < N; i++) {
		item_key(&it[i], (unsigned int)i);
		work_before(&t, &w);
		put(&t, &it[i]);
		work_after(&t, &w, 1);
		check_shape(&t);
	}
	ck_assert_uint_ge(w.rehashes, 15);
	grows = w.rehashes;
	check_table(&t);
	check_all(&t, it, N);
	for (i = 0; i < N; i++) {
		work_before(&t, &w);
		del(&t, &it[i]);
		work_after(&t, &w, 1);
		check_shape(&t);
		if (i % 50000 == 0) {
			check_table(&t);
			check_all(&t, it, N);
		}
	}
	ck_assert_uint_eq(t.count, 0);
	/* Empty, it still gives back a large array a piece at a time. */
	finish(&t);
	ck_assert_uint_eq(t.nbuckets, 8);
	ck_assert_uint_gt(w.rehashes, grows);
	/* Moving on: empty buckets were skipped, some in a row. */
	ck_assert_uint_gt(w.max_visits, 1);
	/* Old arrays of 64k buckets and up went back piecemeal. */
	ck_assert_uint_ge(w.released, 2);

	/* A timer step of k buckets is bounded by k the same way. */
	for (i = 0; i < 40000; i++)
		put(&t, &it[i]);
	finish(&t);
	for (i = 0; !htab_rehashing(&t); i++)
		put(&t, &it[40000 + i]);
	while (htab_rehashing(&t)) {
		work_before(&t, &w);
		dv = 1 + (size_t)random() % 8;
		htab_rehash_step(&t, dv);
		work_after(&t, &w, dv);
		check_shape(&t);
	}
	check_table(&t);
	check_all(&t, it, N);
	htab_free(&t);
	free(it);
}
END_TEST

struct scan_ctx {
	size_t		 visits;
	uint64_t	 mask;		/* one cursor position: a bucket of */
	uint64_t	 buckets[64];	/* those seen this call */
	size_t		 nb;
};

/* The mask of one scan position: the smaller array's during a rehash. */
static uint64_t
scan_mask(const struct htab *t)
{
	size_t	n = t->nbuckets;

	if (htab_rehashing(t) && t->nold < n)
		n = t->nold;
	return n - 1;
}

static void
scan_start(struct scan_ctx *c, const struct htab *t)
{
	memset(c, 0, sizeof(*c));
	c->mask = scan_mask(t);
}

static void
visit(struct htab_entry *e, void *arg)
{
	struct scan_ctx	*c = arg;
	struct item	*it = container_of(e, struct item, he);
	uint64_t	 b = e->hash & c->mask;
	size_t		 i;

	EXPECT_U(it->in, ==, 1);
	it->seen++;
	c->visits++;
	for (i = 0; i < c->nb; i++)
		if (c->buckets[i] == b)
			return;
	EXPECT_U(c->nb, <, 64);
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
			scan_start(&c, &t);
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

/*
 * Model-checked scans during rehashes: between calls, random inserts,
 * removes and timer steps move the rehash on, end it and start others,
 * growing in some phases and shrinking in others. Every entry in the
 * table from the start of the walk to its end is seen at least once;
 * nothing is seen that is not in the table; each call covers at most
 * 'step' positions of the smaller array.
 */
START_TEST(test_scan_rehash)
{
	enum { N = 12000 };
	struct htab	 t;
	struct item	*it = calloc(N, sizeof(*it));
	struct scan_ctx	 c;
	uint64_t	 cur;
	size_t		 i, k, nops, step, round, calls, during, sizes;
	size_t		 last, live, target, resized = 0;
	long		 r;
	int		 grow;

	ck_assert_ptr_nonnull(it);
	srandom(4243);
	for (i = 0; i < N; i++)
		item_key(&it[i], (unsigned int)i);
	ck_assert_int_eq(htab_init(&t, 8), 0);
	live = 0;
	during = 0;
	for (round = 0; round < 60; round++) {
		/* Start each walk in the middle of a rehash. */
		grow = t.nbuckets < N &&
		    (live < N / 2 || t.nbuckets == t.min_buckets);
		while (!htab_rehashing(&t)) {
			if (grow) {
				do
					i = (size_t)random() % N;
				while (it[i].in);
				put(&t, &it[i]);
				live++;
			} else {
				do
					i = (size_t)random() % N;
				while (!it[i].in);
				del(&t, &it[i]);
				live--;
			}
		}
		for (i = 0; i < N; i++) {
			it[i].seen = 0;
			it[i].must = it[i].in;
		}
		/* Walk towards a random size: many resizes on the way. */
		target = (size_t)random() % (N * 3 / 4);
		step = 1 + (size_t)random() % 8;
		cur = 0;
		calls = sizes = 0;
		last = t.nbuckets;
		do {
			if (htab_rehashing(&t))
				during++;
			scan_start(&c, &t);
			cur = htab_scan(&t, cur, step, visit, &c);
			EXPECT_U(c.nb, <=, step);
			EXPECT_U(++calls, <, 1000000);
			nops = (size_t)random() % 40;
			for (k = 0; k < nops; k++) {
				r = random() % 8;
				if (r == 0) {
					htab_rehash_step(&t,
					    1 + (size_t)random() % 4);
				} else if (live < target ? r < 6 : r < 3) {
					do
						i = (size_t)random() % N;
					while (it[i].in);
					put(&t, &it[i]);
					live++;
				} else if (live > 0) {
					do
						i = (size_t)random() % N;
					while (!it[i].in);
					del(&t, &it[i]);
					it[i].must = 0;
					live--;
				}
			}
			if (t.nbuckets != last)
				sizes++;
			last = t.nbuckets;
		} while (cur != 0);
		for (i = 0; i < N; i++)
			ck_assert_msg(!it[i].must || it[i].seen >= 1,
			    "round %zu: entry %zu in all along, never seen",
			    round, i);
		ck_assert_uint_eq(t.count, live);
		check_table(&t);
		if (sizes > 0)
			resized++;
	}
	/* Many calls found a rehash in progress; many walks saw resizes. */
	ck_assert_uint_gt(during, 2000);
	ck_assert_uint_ge(resized, 10);
	htab_free(&t);
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
	size_t		 i, step, calls, visits, rehashing;

	ck_assert_ptr_nonnull(it);
	ck_assert_int_eq(htab_init(&t, 8), 0);
	/* An empty table: one call per bucket group, nothing visited. */
	scan_start(&c, &t);
	ck_assert_uint_eq(htab_scan(&t, 0, 100, visit, &c), 0);
	ck_assert_uint_eq(c.visits, 0);
	for (i = 0; i < N; i++)
		item_key(&it[i], (unsigned int)i);
	/* Once with one array, once in the middle of a grow. */
	for (rehashing = 0; rehashing < 2; rehashing++) {
		for (i = 0; i < N; i++)
			if (!it[i].in)
				put(&t, &it[i]);
		finish(&t);
		if (rehashing) {
			for (i = 0; !htab_rehashing(&t); i++) {
				if (!it[i % N].in)
					put(&t, &it[i % N]);
				else
					del(&t, &it[i % N]);
			}
			htab_rehash_step(&t, t.old_count / 3);
			ck_assert(htab_rehashing(&t));
			ck_assert_uint_gt(t.old_count, 0);
			ck_assert_uint_lt(t.old_count, t.count);
		}
		for (step = 1; step <= 64; step *= 4) {
			for (i = 0; i < N; i++)
				it[i].seen = 0;
			cur = 0;
			calls = visits = 0;
			do {
				scan_start(&c, &t);
				cur = htab_scan(&t, cur, step, visit, &c);
				ck_assert_uint_le(c.nb, step);
				visits += c.visits;
				calls++;
			} while (cur != 0);
			ck_assert_uint_eq(calls,
			    (scan_mask(&t) + step) / step);
			ck_assert_uint_eq(visits, t.count);
			for (i = 0; i < N; i++)
				ck_assert_int_eq(it[i].seen, it[i].in);
		}
	}
	/* A step of 0 is taken as 1: progress is always made. */
	scan_start(&c, &t);
	cur = htab_scan(&t, 0, 0, visit, &c);
	ck_assert_uint_ne(cur, 0);
	ck_assert_uint_le(c.nb, 1);
	htab_free(&t);
	free(it);
}
END_TEST

static inline uint64_t
rev64(uint64_t v)
{
	uint64_t	r = 0;
	int		i;

	for (i = 0; i < 64; i++, v >>= 1)
		r = r << 1 | (v & 1);
	return r;
}

struct pos_ctx {
	uint64_t	lo, hi;		/* positions seen */
	size_t		n;
};

static void
pos_visit(struct htab_entry *e, void *arg)
{
	struct pos_ctx	*p = arg;
	struct item	*it = container_of(e, struct item, he);
	uint64_t	 pos = rev64(e->hash);

	it->seen++;
	if (p->n++ == 0 || pos < p->lo)
		p->lo = pos;
	if (p->n == 1 || pos > p->hi)
		p->hi = pos;
}

/*
 * What kv's KEYS relies on: a scan of one step from the cursor rev64(p),
 * p any position (a bit-reversed hash), returns c such that every entry
 * with a position in [p, rev64(c)) is visited (to the end if c is 0), and
 * visits only entries of the bucket of p, whose positions all lie below
 * rev64(c). Checked with one array and during rehashes both ways.
 */
START_TEST(test_scan_positions)
{
	enum { N = 3000, TRIES = 3000 };
	struct htab	 t;
	struct item	*it = calloc(N, sizeof(*it));
	struct pos_ctx	 pc;
	uint64_t	 p, end, pos, mask;
	size_t		 i, k, phase, ntries;

	ck_assert_ptr_nonnull(it);
	srandom(99);
	for (i = 0; i < N; i++)
		item_key(&it[i], (unsigned int)i);
	ck_assert_int_eq(htab_init(&t, 8), 0);
	for (phase = 0; phase < 3; phase++) {
		if (phase == 0) {
			for (i = 0; i < N; i++)
				put(&t, &it[i]);
			finish(&t);
		} else if (phase == 1) {
			/* Into a grow. */
			for (i = 0; i < N && !htab_rehashing(&t); i++)
				if (it[i].in)
					del(&t, &it[i]);
			for (i = 0; !htab_rehashing(&t); i++)
				if (!it[i].in)
					put(&t, &it[i]);
		} else {
			/* Into a shrink. */
			finish(&t);
			for (i = 0; !htab_rehashing(&t); i++)
				if (it[i].in)
					del(&t, &it[i]);
		}
		if (phase > 0) {
			ck_assert(htab_rehashing(&t));
			htab_rehash_step(&t, t.old_count / 3);
			ck_assert_uint_gt(t.old_count, 0);
			ck_assert_uint_lt(t.old_count, t.count);
		}
		mask = scan_mask(&t);
		for (ntries = 0; ntries < TRIES; ntries++) {
			/* Often exactly an entry's position, or just past. */
			k = (size_t)random() % N;
			p = (uint64_t)random() << 33 ^ (uint64_t)random();
			if (ntries % 3 == 0)
				p = rev64(it[k].he.hash);
			else if (ntries % 3 == 1)
				p = rev64(it[k].he.hash) + 1;
			for (i = 0; i < N; i++)
				it[i].seen = 0;
			memset(&pc, 0, sizeof(pc));
			end = rev64(htab_scan(&t, rev64(p), 1, pos_visit,
			    &pc));
			/* Forwards, to the end of p's bucket of the mask. */
			EXPECT(end == 0 || end > p);
			if (end != 0)
				EXPECT_U(((end - 1) ^ p) & rev64(mask), ==, 0);
			for (i = 0; i < N; i++) {
				if (!it[i].in)
					continue;
				pos = rev64(it[i].he.hash);
				if (pos >= p && (end == 0 || pos < end))
					EXPECT_U(it[i].seen, >=, 1);
			}
			if (pc.n > 0) {
				EXPECT(end == 0 || pc.hi < end);
				/* Same bucket of the smaller mask as p. */
				EXPECT_U(rev64(pc.lo) & mask, ==,
				    rev64(p) & mask);
			}
		}
	}
	htab_free(&t);
	free(it);
}
END_TEST

struct drain_ctx {
	struct htab	*t;
	size_t		 n;
};

static void
drain_free(struct htab_entry *e, void *arg)
{
	struct drain_ctx	*d = arg;
	struct item		*it = container_of(e, struct item, he);

	ck_assert_ptr_null(e->next);
	d->n++;
	/* What an owner's teardown does: free it (ASan checks the rest). */
	free(it);
}

/*
 * htab_drain() in the middle of a rehash (small arrays, then mapped
 * ones) hands every entry over once, unlinked, and leaves an empty table
 * of the initial size that works as new.
 */
START_TEST(test_drain)
{
	struct htab		 t;
	struct drain_ctx	 d;
	struct scan_ctx		 c;
	struct item		*it, a;
	size_t			 i, n, round;

	for (round = 0; round < 3; round++) {
		ck_assert_int_eq(htab_init(&t, 16), 0);
		n = round == 0 ? 0 : round == 1 ? 3000 : 70000;
		for (i = 0; i < n || (n > 0 && !htab_rehashing(&t)); i++) {
			it = calloc(1, sizeof(*it));
			ck_assert_ptr_nonnull(it);
			item_key(it, (unsigned int)i);
			put(&t, it);
		}
		n = i;
		if (n > 0) {
			ck_assert(htab_rehashing(&t));
			ck_assert_uint_gt(t.old_count, 0);
		}
		memset(&d, 0, sizeof(d));
		d.t = &t;
		htab_drain(&t, drain_free, &d);
		ck_assert_uint_eq(d.n, n);
		ck_assert_uint_eq(t.count, 0);
		ck_assert(!htab_rehashing(&t));
		ck_assert_uint_eq(t.nbuckets, 16);
		check_table(&t);
		ck_assert_ptr_null(htab_find(&t, "key:1", 5));
		scan_start(&c, &t);
		ck_assert_uint_eq(htab_scan(&t, 0, 100, visit, &c), 0);
		ck_assert_uint_eq(c.visits, 0);
		/* Usable again. */
		memset(&a, 0, sizeof(a));
		item_key(&a, 1);
		put(&t, &a);
		ck_assert_ptr_eq(find(&t, "key:1", 5), &a);
		del(&t, &a);
		htab_free(&t);
	}
}
END_TEST

/*
 * 100k random inserts, removes, lookups and timer steps against a presence
 * array, with full checks along the way and scans every 10k operations.
 */
START_TEST(test_model)
{
	enum { K = 3000, OPS = 100000 };
	struct htab	 t;
	struct item	*it = calloc(K, sizeof(*it));
	struct scan_ctx	 c;
	size_t		 i, n, op, live = 0, during = 0;
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
		/* Phases that favour inserts, then removes: resizes. */
		switch (random() % ((op / 5000) % 2 ? 5 : 7)) {
		case 0:
		case 5:
		case 6:
			if (!it[i].in) {
				put(&t, &it[i]);
				live++;
			}
			break;
		case 1:
		case 4:
			if (it[i].in) {
				del(&t, &it[i]);
				live--;
			}
			break;
		case 2:
			htab_rehash_step(&t, (size_t)random() % 3);
			break;
		default:
			ck_assert_ptr_eq(find(&t, it[i].key, it[i].klen),
			    it[i].in ? &it[i] : NULL);
			break;
		}
		if (htab_rehashing(&t))
			during++;
		ck_assert_uint_eq(t.count, live);
		check_shape(&t);
		if (op % 500 == 0)
			check_table(&t);
		if (op % 10000 == 0) {
			for (i = 0; i < K; i++)
				it[i].seen = 0;
			cur = 0;
			do {
				scan_start(&c, &t);
				cur = htab_scan(&t, cur, 7, visit, &c);
			} while (cur != 0);
			for (i = 0; i < K; i++)
				ck_assert_int_eq(it[i].seen, it[i].in);
		}
	}
	ck_assert_uint_gt(during, 1000);
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

	tc = tcase_create("rehash");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_rehash_grow);
	tcase_add_test(tc, test_rehash_shrink);
	tcase_add_test(tc, test_rehash_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("scan");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_scan_resize);
	tcase_add_test(tc, test_scan_rehash);
	tcase_add_test(tc, test_scan_bounded);
	tcase_add_test(tc, test_scan_positions);
	suite_add_tcase(s, tc);

	tc = tcase_create("drain");
	tcase_add_test(tc, test_drain);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_model);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(suite());
}
