/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_ptree.c: unit tests of the compressed radix tree (daemon/ptree.c):
 * lookups that are exact (no prefix, no extension stands in for a key),
 * edges split on insert and folded back on remove (seen in the node
 * count), the empty key, binary keys with NUL and 0xff, a full fan-out of
 * 256 children, ptree_prefixes() visiting every stored prefix once in
 * increasing length with work linear in the string, ptree_free(), inserts
 * that run out of memory at each allocation changing nothing (where the
 * linker can wrap calloc and realloc), and a long randomised run against
 * a brute-force model. After every change the node count must stay
 * within 2 * count - 1, and a tree emptied by any route must own no node
 * at all. Operations come from fixed srandom() seeds, so a failure
 * reproduces.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check-run.h"
#include "ptree.h"

#define CALLS_MAX	1100

/* What ptree_prefixes() called back with. */
struct call {
	void	*value;
	uint8_t	 key[1024];
	size_t	 klen;
};

static struct call	calls[CALLS_MAX];
static size_t		ncalls;

static void
record(void *value, const uint8_t *key, size_t klen, void *arg)
{
	struct call	*c;

	(void)arg;
	ck_assert_uint_lt(ncalls, CALLS_MAX);
	ck_assert_uint_le(klen, sizeof(c->key));
	c = &calls[ncalls++];
	c->value = value;
	memcpy(c->key, key, klen);
	c->klen = klen;
}

/* ptree_prefixes() of s, into calls[]; also checks its bound on work. */
static uint64_t
prefixes(struct ptree *t, const void *s, size_t len)
{
	uint64_t	before = t->steps, n;

	ncalls = 0;
	n = ptree_prefixes(t, s, len, record, NULL);
	ck_assert_uint_eq(n, ncalls);
	ck_assert_uint_le(t->steps - before, 2 * (uint64_t)len + 1);
	return n;
}

/* The shape every change must leave: no more nodes than keys allow. */
static void
assert_shape(const struct ptree *t)
{
	if (t->count == 0) {
		ck_assert_ptr_null(t->root);
		ck_assert_uint_eq(t->nodes, 0);
	} else {
		ck_assert_ptr_nonnull(t->root);
		ck_assert_uint_le(t->nodes, 2 * t->count - 1);
	}
}

static int
ins(struct ptree *t, const char *k, void *v)
{
	return ptree_insert(t, k, strlen(k), v);
}

static void *
get(struct ptree *t, const char *k)
{
	return ptree_find(t, k, strlen(k));
}

static void *
del(struct ptree *t, const char *k)
{
	return ptree_remove(t, k, strlen(k));
}

/* Values only need to be distinct non-NULL pointers. */
static int	vals[1024];
#define V(i)	((void *)&vals[(i)])

/* --- basics -------------------------------------------------------------- */

START_TEST(test_empty)
{
	struct ptree	t;

	ptree_init(&t);
	assert_shape(&t);
	ck_assert_ptr_null(get(&t, ""));
	ck_assert_ptr_null(get(&t, "a"));
	ck_assert_ptr_null(del(&t, ""));
	ck_assert_uint_eq(prefixes(&t, "abc", 3), 0);
	ck_assert_uint_eq(prefixes(&t, "", 0), 0);
	ptree_free(&t, NULL, NULL);
	assert_shape(&t);
}
END_TEST

START_TEST(test_exact)
{
	struct ptree	t;

	ptree_init(&t);
	ck_assert_int_eq(ins(&t, "jobs", V(0)), 0);
	ck_assert_int_eq(ins(&t, "jobs.1", V(1)), 0);
	ck_assert_int_eq(ins(&t, "jobs", V(2)), -EEXIST);
	ck_assert_int_eq(ins(&t, "other", NULL), -EINVAL);
	ck_assert_uint_eq(t.count, 2);
	assert_shape(&t);

	ck_assert_ptr_eq(get(&t, "jobs"), V(0));	/* kept on -EEXIST */
	ck_assert_ptr_eq(get(&t, "jobs.1"), V(1));
	/* Neither a prefix nor an extension of a key is the key. */
	ck_assert_ptr_null(get(&t, "job"));
	ck_assert_ptr_null(get(&t, "jobs."));
	ck_assert_ptr_null(get(&t, "jobs.10"));
	ck_assert_ptr_null(get(&t, "jobx"));
	ck_assert_ptr_null(get(&t, ""));
	ck_assert_ptr_null(get(&t, "other"));

	ck_assert_ptr_null(del(&t, "jobs."));
	ck_assert_ptr_null(del(&t, "job"));
	ck_assert_uint_eq(t.count, 2);
	ck_assert_ptr_eq(del(&t, "jobs"), V(0));
	ck_assert_ptr_null(del(&t, "jobs"));
	ck_assert_ptr_eq(get(&t, "jobs.1"), V(1));
	ck_assert_ptr_eq(del(&t, "jobs.1"), V(1));
	assert_shape(&t);
}
END_TEST

START_TEST(test_split_fold)
{
	struct ptree	t;

	ptree_init(&t);
	ck_assert_int_eq(ins(&t, "abcdef", V(0)), 0);
	ck_assert_uint_eq(t.nodes, 1);
	/* A key ending inside an edge splits it and holds the new node. */
	ck_assert_int_eq(ins(&t, "abc", V(1)), 0);
	ck_assert_uint_eq(t.nodes, 2);
	/* One parting inside an edge adds a valueless fork and a leaf. */
	ck_assert_int_eq(ins(&t, "abxy", V(2)), 0);
	ck_assert_uint_eq(t.nodes, 4);
	/* A key ending at the fork takes it over: no new node. */
	ck_assert_int_eq(ins(&t, "ab", V(3)), 0);
	ck_assert_uint_eq(t.nodes, 4);
	/* A key beside a leaf's path, past the fork: one new leaf. */
	ck_assert_int_eq(ins(&t, "abcz", V(4)), 0);
	ck_assert_uint_eq(t.nodes, 5);
	assert_shape(&t);
	ck_assert_ptr_eq(get(&t, "abcdef"), V(0));
	ck_assert_ptr_eq(get(&t, "abc"), V(1));
	ck_assert_ptr_eq(get(&t, "abxy"), V(2));
	ck_assert_ptr_eq(get(&t, "ab"), V(3));
	ck_assert_ptr_eq(get(&t, "abcz"), V(4));
	ck_assert_ptr_null(get(&t, "abcd"));
	ck_assert_ptr_null(get(&t, "abx"));
	ck_assert_ptr_null(get(&t, "a"));

	/* The fork keeps two children: it stays, valueless. */
	ck_assert_ptr_eq(del(&t, "ab"), V(3));
	ck_assert_uint_eq(t.nodes, 5);
	/* "abc" keeps two children ("abcdef", "abcz"): it stays too. */
	ck_assert_ptr_eq(del(&t, "abc"), V(1));
	ck_assert_uint_eq(t.nodes, 5);
	/* Now "abc" leads one way and holds nothing: folded. */
	ck_assert_ptr_eq(del(&t, "abcz"), V(4));
	ck_assert_uint_eq(t.nodes, 3);
	ck_assert_ptr_eq(get(&t, "abcdef"), V(0));
	ck_assert_ptr_null(get(&t, "abc"));
	/* The leaf goes, and the fork above it with one child left. */
	ck_assert_ptr_eq(del(&t, "abxy"), V(2));
	ck_assert_uint_eq(t.nodes, 1);
	ck_assert_ptr_eq(get(&t, "abcdef"), V(0));
	ck_assert_uint_eq(prefixes(&t, "abcdefg", 7), 1);
	ck_assert_ptr_eq(del(&t, "abcdef"), V(0));
	assert_shape(&t);
}
END_TEST

START_TEST(test_split_at_root)
{
	struct ptree	t;

	ptree_init(&t);
	/* Keys with nothing in common fork at the empty path. */
	ck_assert_int_eq(ins(&t, "abc", V(0)), 0);
	ck_assert_int_eq(ins(&t, "xyz", V(1)), 0);
	ck_assert_uint_eq(t.nodes, 3);
	ck_assert_uint_eq(prefixes(&t, "xyz!", 4), 1);
	ck_assert_ptr_eq(calls[0].value, V(1));
	/* The root fork goes with the second-last key. */
	ck_assert_ptr_eq(del(&t, "abc"), V(0));
	ck_assert_uint_eq(t.nodes, 1);
	ck_assert_ptr_eq(get(&t, "xyz"), V(1));
	/* A key inside the root's edge splits it; without it, folded. */
	ck_assert_int_eq(ins(&t, "x", V(2)), 0);
	ck_assert_uint_eq(t.nodes, 2);
	ck_assert_ptr_eq(del(&t, "x"), V(2));
	ck_assert_uint_eq(t.nodes, 1);
	ck_assert_ptr_eq(del(&t, "xyz"), V(1));
	assert_shape(&t);
}
END_TEST

START_TEST(test_empty_key)
{
	struct ptree	t;

	ptree_init(&t);
	ck_assert_int_eq(ptree_insert(&t, "", 0, V(0)), 0);
	ck_assert_int_eq(ptree_insert(&t, "", 0, V(1)), -EEXIST);
	ck_assert_uint_eq(t.nodes, 1);
	ck_assert_ptr_eq(ptree_find(&t, "", 0), V(0));
	ck_assert_ptr_null(get(&t, "a"));
	/* The empty key is a prefix of everything, the empty string too. */
	ck_assert_uint_eq(prefixes(&t, "", 0), 1);
	ck_assert_uint_eq(calls[0].klen, 0);
	ck_assert_uint_eq(prefixes(&t, "\0\xff", 2), 1);

	ck_assert_int_eq(ins(&t, "ab", V(2)), 0);
	ck_assert_int_eq(ins(&t, "b", V(3)), 0);
	ck_assert_uint_eq(t.nodes, 3);
	ck_assert_uint_eq(prefixes(&t, "abc", 3), 2);
	ck_assert_ptr_eq(calls[0].value, V(0));
	ck_assert_ptr_eq(calls[1].value, V(2));

	/* Without its key the root still forks: it stays. */
	ck_assert_ptr_eq(ptree_remove(&t, "", 0), V(0));
	ck_assert_ptr_null(ptree_find(&t, "", 0));
	ck_assert_uint_eq(t.nodes, 3);
	ck_assert_uint_eq(prefixes(&t, "abc", 3), 1);
	ck_assert_ptr_eq(del(&t, "b"), V(3));
	ck_assert_uint_eq(t.nodes, 1);
	/* The empty key goes back above a compressed root. */
	ck_assert_int_eq(ptree_insert(&t, "", 0, V(0)), 0);
	ck_assert_uint_eq(t.nodes, 2);
	ck_assert_ptr_eq(del(&t, "ab"), V(2));
	ck_assert_uint_eq(t.nodes, 1);
	ck_assert_ptr_eq(ptree_remove(&t, "", 0), V(0));
	assert_shape(&t);
}
END_TEST

START_TEST(test_binary)
{
	struct ptree	t;

	ptree_init(&t);
	ck_assert_int_eq(ptree_insert(&t, "a", 1, V(0)), 0);
	ck_assert_int_eq(ptree_insert(&t, "a\0", 2, V(1)), 0);
	ck_assert_int_eq(ptree_insert(&t, "a\0b", 3, V(2)), 0);
	ck_assert_int_eq(ptree_insert(&t, "a\xff", 2, V(3)), 0);
	ck_assert_int_eq(ptree_insert(&t, "\0", 1, V(4)), 0);
	ck_assert_int_eq(ptree_insert(&t, "\0\0", 2, V(5)), 0);
	assert_shape(&t);
	/* NUL is a byte like any other, and 0xff sorts last, not first. */
	ck_assert_ptr_eq(ptree_find(&t, "a", 1), V(0));
	ck_assert_ptr_eq(ptree_find(&t, "a\0", 2), V(1));
	ck_assert_ptr_eq(ptree_find(&t, "a\0b", 3), V(2));
	ck_assert_ptr_eq(ptree_find(&t, "a\xff", 2), V(3));
	ck_assert_ptr_eq(ptree_find(&t, "\0", 1), V(4));
	ck_assert_ptr_eq(ptree_find(&t, "\0\0", 2), V(5));
	ck_assert_ptr_null(ptree_find(&t, "a\0\0", 3));
	ck_assert_ptr_null(ptree_find(&t, "", 0));

	ck_assert_uint_eq(prefixes(&t, "a\0bc", 4), 3);
	ck_assert_ptr_eq(calls[0].value, V(0));
	ck_assert_ptr_eq(calls[1].value, V(1));
	ck_assert_ptr_eq(calls[2].value, V(2));
	ck_assert_mem_eq(calls[2].key, "a\0b", 3);
	ck_assert_uint_eq(prefixes(&t, "a\xff\0", 3), 2);
	ck_assert_ptr_eq(calls[1].value, V(3));
	ck_assert_uint_eq(prefixes(&t, "\0\0\0", 3), 2);
	ck_assert_uint_eq(prefixes(&t, "b", 1), 0);

	ck_assert_ptr_eq(ptree_remove(&t, "a\0", 2), V(1));
	ck_assert_ptr_eq(ptree_find(&t, "a\0b", 3), V(2));
	ck_assert_ptr_eq(ptree_remove(&t, "a", 1), V(0));
	ck_assert_ptr_eq(ptree_find(&t, "a\xff", 2), V(3));
	assert_shape(&t);
	ptree_free(&t, NULL, NULL);
	assert_shape(&t);
}
END_TEST

START_TEST(test_fanout)
{
	struct ptree	t;
	uint8_t		k[2];
	int		i, b;

	/* Every byte value under one node, inserted out of order. */
	ptree_init(&t);
	k[0] = 'x';
	for (i = 0; i < 256; i++) {
		b = (i * 37) & 0xff;	/* 37 is odd: a permutation */
		k[1] = (uint8_t)b;
		ck_assert_int_eq(ptree_insert(&t, k, 2, V(b)), 0);
	}
	ck_assert_uint_eq(t.nodes, 257);
	for (b = 0; b < 256; b++) {
		k[1] = (uint8_t)b;
		ck_assert_ptr_eq(ptree_find(&t, k, 2), V(b));
		ck_assert_uint_eq(prefixes(&t, k, 2), 1);
		ck_assert_ptr_eq(calls[0].value, V(b));
	}
	for (i = 0; i < 256; i++) {
		b = (i * 101) & 0xff;
		k[1] = (uint8_t)b;
		ck_assert_ptr_eq(ptree_remove(&t, k, 2), V(b));
		ck_assert_ptr_null(ptree_find(&t, k, 2));
		assert_shape(&t);
	}
	assert_shape(&t);
}
END_TEST

/* --- walks --------------------------------------------------------------- */

/* d = s[0..len) with its last byte changed: parts from s there. */
static const uint8_t *
decoy_of(uint8_t *d, const uint8_t *s, size_t len)
{
	memcpy(d, s, len);
	d[len - 1] ^= 0x80;
	return d;
}

START_TEST(test_walk_order)
{
	struct ptree	t;
	uint8_t		s[300], decoy[300];
	size_t		order[301], i, j, tmp;

	/*
	 * Every prefix of one binary string, inserted shuffled, and beside
	 * each a decoy that parts from the string at its last byte.
	 */
	srandom(7);
	for (i = 0; i < sizeof(s); i++)
		s[i] = (uint8_t)random();
	for (i = 0; i <= sizeof(s); i++)
		order[i] = i;
	for (i = sizeof(s); i > 0; i--) {
		j = (size_t)random() % (i + 1);
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	ptree_init(&t);
	for (i = 0; i <= sizeof(s); i++) {
		ck_assert_int_eq(ptree_insert(&t, s, order[i], V(order[i])), 0);
		if (order[i] == 0)
			continue;
		ck_assert_int_eq(ptree_insert(&t, decoy_of(decoy, s, order[i]),
		    order[i], V(512 + order[i])), 0);
		assert_shape(&t);
	}
	ck_assert_uint_eq(t.count, 2 * sizeof(s) + 1);

	/* Shortest first, each key once, each the string's own prefix. */
	ck_assert_uint_eq(prefixes(&t, s, sizeof(s)), sizeof(s) + 1);
	for (i = 0; i <= sizeof(s); i++) {
		ck_assert_uint_eq(calls[i].klen, i);
		ck_assert_mem_eq(calls[i].key, s, i);
	}
	/* A part of the string sees only the keys that are its prefixes. */
	ck_assert_uint_eq(prefixes(&t, s, 100), 101);
	ck_assert_uint_eq(calls[100].klen, 100);
	/* A decoy sees the string's shorter prefixes, then itself. */
	ck_assert_uint_eq(prefixes(&t, decoy_of(decoy, s, 50), 50), 51);
	ck_assert_uint_eq(calls[49].klen, 49);
	ck_assert_uint_eq(calls[50].klen, 50);
	ck_assert_mem_eq(calls[50].key, decoy, 50);

	/* Taken out again, the other way round: empty at the end. */
	for (i = sizeof(s) + 1; i-- > 0; ) {
		ck_assert_ptr_nonnull(ptree_remove(&t, s, order[i]));
		if (order[i] == 0)
			continue;
		ck_assert_ptr_nonnull(ptree_remove(&t,
		    decoy_of(decoy, s, order[i]), order[i]));
		assert_shape(&t);
	}
	assert_shape(&t);
}
END_TEST

static void
count_and_mark(void *value, const uint8_t *key, size_t klen, void *arg)
{
	int	*v = value;

	(void)key;
	(void)klen;
	ck_assert_int_eq(*v, 0);	/* once each */
	*v = 1;
	(*(size_t *)arg)++;
}

START_TEST(test_free)
{
	struct ptree	t;
	char		k[16];
	size_t		n = 0;
	int		i;

	memset(vals, 0, sizeof(vals));
	ptree_init(&t);
	for (i = 0; i < 500; i++) {
		snprintf(k, sizeof(k), "%d", i);
		ck_assert_int_eq(ins(&t, k, V(i)), 0);
	}
	ck_assert_int_eq(ptree_insert(&t, "", 0, V(500)), 0);
	ptree_free(&t, count_and_mark, &n);
	ck_assert_uint_eq(n, 501);
	for (i = 0; i <= 500; i++)
		ck_assert_int_eq(vals[i], 1);
	assert_shape(&t);
	ck_assert_uint_eq(t.count, 0);
	/* Usable again. */
	ck_assert_int_eq(ins(&t, "again", V(0)), 0);
	ck_assert_ptr_eq(get(&t, "again"), V(0));
	ptree_free(&t, NULL, NULL);
	assert_shape(&t);
}
END_TEST

/* --- out of memory ------------------------------------------------------- */

#ifdef HAVE_LD_WRAP
/*
 * This program is linked with --wrap=calloc,realloc, so every calloc()
 * and realloc() of ptree.c (and of this file) lands here. While fail_in
 * is n > 0, the nth one from then fails. Armed only around tree calls:
 * Check's own allocations must not fail.
 */
void	*__real_calloc(size_t, size_t);
void	*__real_realloc(void *, size_t);
void	*__wrap_calloc(size_t, size_t);
void	*__wrap_realloc(void *, size_t);

static int	fail_in;

static bool
fail_now(void)
{
	return fail_in > 0 && --fail_in == 0;
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t size)
{
	return fail_now() ? NULL : __real_realloc(p, size);
}

/* Each insert's shape, and the allocations it takes. */
static const struct {
	const char	*key;
	int		 allocs;
} nomem_keys[] = {
	{ "abcdef",	1 },	/* the root */
	{ "abc",	2 },	/* a split holding the key, and its array */
	{ "abxy",	3 },	/* a fork, its array and a leaf */
	{ "ab",		0 },	/* the fork takes the key */
	{ "abcz",	2 },	/* a leaf, and a larger array */
	{ "",		2 },	/* a split above the root */
	{ "q",		2 },	/* a leaf under the root */
};
#define NOMEM_KEYS	(sizeof(nomem_keys) / sizeof(nomem_keys[0]))

/* The tree holds exactly keys [0, n) of nomem_keys. */
static void
assert_holds(struct ptree *t, size_t n)
{
	size_t	i;

	ck_assert_uint_eq(t->count, n);
	assert_shape(t);
	for (i = 0; i < NOMEM_KEYS; i++)
		ck_assert_ptr_eq(get(t, nomem_keys[i].key), i < n ? V(i) : NULL);
}

START_TEST(test_nomem)
{
	struct ptree	t;
	size_t		i, nodes;
	int		n, ret;

	ptree_init(&t);
	for (i = 0; i < NOMEM_KEYS; i++) {
		/* Fail the 1st allocation, then the 2nd, ... until it passes. */
		for (n = 1; ; n++) {
			nodes = t.nodes;
			fail_in = n;
			ret = ins(&t, nomem_keys[i].key, V(i));
			fail_in = 0;
			if (ret == 0)
				break;
			/* Nothing changed, nothing leaked (ASan would say). */
			ck_assert_int_eq(ret, -ENOMEM);
			ck_assert_uint_eq(t.nodes, nodes);
			assert_holds(&t, i);
		}
		ck_assert_int_eq(n - 1, nomem_keys[i].allocs);
		assert_holds(&t, i + 1);
	}

	/* Shrinking a child array may fail too: removing still works. */
	for (i = NOMEM_KEYS; i-- > 0; ) {
		fail_in = 1;
		ck_assert_ptr_eq(del(&t, nomem_keys[i].key), V(i));
		fail_in = 0;
		assert_holds(&t, i);
	}
	/* And a node whose array could not shrink still grows right. */
	ck_assert_int_eq(ins(&t, "m", V(0)), 0);
	ck_assert_int_eq(ins(&t, "n", V(1)), 0);
	ck_assert_int_eq(ins(&t, "o", V(2)), 0);
	fail_in = 1;
	ck_assert_ptr_eq(del(&t, "n"), V(1));
	fail_in = 0;
	ck_assert_int_eq(ins(&t, "p", V(3)), 0);
	ck_assert_ptr_eq(get(&t, "m"), V(0));
	ck_assert_ptr_eq(get(&t, "o"), V(2));
	ck_assert_ptr_eq(get(&t, "p"), V(3));
	ck_assert_uint_eq(prefixes(&t, "pq", 2), 1);
	ptree_free(&t, NULL, NULL);
	assert_shape(&t);
}
END_TEST
#endif /* HAVE_LD_WRAP */

/* --- against a model ----------------------------------------------------- */

#define POOL		600
#define POOL_LEN	7

/* The model: a pool of distinct keys, each in the tree or not. */
struct mkey {
	uint8_t	k[POOL_LEN];
	size_t	len;
	bool	in;
};

static struct mkey	pool[POOL];

/* A short key over a tiny alphabet (NUL and 0xff in it), so they nest. */
static size_t
random_key(uint8_t *k, size_t max)
{
	static const uint8_t	alpha[] = { 'a', 'b', '\0', 0xff };
	size_t			len = (size_t)random() % (max + 1), i;

	for (i = 0; i < len; i++)
		k[i] = alpha[random() % 4];
	return len;
}

static bool
pool_has(size_t upto, const uint8_t *k, size_t len)
{
	size_t	i;

	for (i = 0; i < upto; i++)
		if (pool[i].len == len && memcmp(pool[i].k, k, len) == 0)
			return true;
	return false;
}

static void
pool_fill(void)
{
	size_t	i;

	for (i = 0; i < POOL; i++) {
		do
			pool[i].len = random_key(pool[i].k, POOL_LEN);
		while (pool_has(i, pool[i].k, pool[i].len));
		pool[i].in = false;
	}
}

/* The pool keys in the tree that are prefixes of s, by length. */
static size_t
model_prefixes(const uint8_t *s, size_t len, struct mkey **out)
{
	size_t	i, n = 0, l;

	for (l = 0; l <= len; l++)
		for (i = 0; i < POOL; i++)
			if (pool[i].in && pool[i].len == l &&
			    memcmp(pool[i].k, s, l) == 0)
				out[n++] = &pool[i];
	return n;
}

static size_t
model_count(void)
{
	size_t	i, n = 0;

	for (i = 0; i < POOL; i++)
		n += pool[i].in;
	return n;
}

START_TEST(test_model)
{
	struct ptree	 t;
	struct mkey	*m, *want[POOL_LEN + 4];
	uint8_t		 s[POOL_LEN + 3];
	size_t		 len, n, i;
	int		 op, step, ret;
	void		*v;

	srandom(1234);
	pool_fill();
	ptree_init(&t);
	for (step = 0; step < 40000; step++) {
		op = (int)(random() % 100);
		m = &pool[random() % POOL];
		if (op < 40) {
			ret = ptree_insert(&t, m->k, m->len, m);
			ck_assert_int_eq(ret, m->in ? -EEXIST : 0);
			m->in = true;
		} else if (op < 70) {
			v = ptree_remove(&t, m->k, m->len);
			ck_assert_ptr_eq(v, m->in ? m : NULL);
			m->in = false;
		} else if (op < 80) {
			/* Any string, in the pool or not. */
			len = random_key(s, POOL_LEN + 1);
			v = ptree_find(&t, s, len);
			n = model_prefixes(s, len, want);
			if (n > 0 && want[n - 1]->len == len)
				ck_assert_ptr_eq(v, want[n - 1]);
			else
				ck_assert_ptr_null(v);
		} else {
			len = random_key(s, sizeof(s));
			n = model_prefixes(s, len, want);
			ck_assert_uint_eq(prefixes(&t, s, len), n);
			for (i = 0; i < n; i++) {
				ck_assert_ptr_eq(calls[i].value, want[i]);
				ck_assert_uint_eq(calls[i].klen, want[i]->len);
				ck_assert_mem_eq(calls[i].key, want[i]->k,
				    want[i]->len);
			}
		}
		if (op < 70) {
			ck_assert_uint_eq(t.count, model_count());
			assert_shape(&t);
		}
	}

	/* Everything out, in pool order: nothing may be left behind. */
	for (i = 0; i < POOL; i++) {
		v = ptree_remove(&t, pool[i].k, pool[i].len);
		ck_assert_ptr_eq(v, pool[i].in ? &pool[i] : NULL);
		pool[i].in = false;
	}
	assert_shape(&t);
	ck_assert_uint_eq(t.count, 0);
}
END_TEST

START_TEST(test_fill_and_empty)
{
	struct ptree	t;
	size_t		i, round, top = 0;

	/* Fill and empty again and again: the node count comes back to 0. */
	srandom(99);
	pool_fill();
	ptree_init(&t);
	for (round = 0; round < 5; round++) {
		for (i = 0; i < POOL; i++)
			ck_assert_int_eq(ptree_insert(&t, pool[i].k,
			    pool[i].len, &pool[i]), 0);
		ck_assert_uint_eq(t.count, POOL);
		assert_shape(&t);
		if (t.nodes > top)
			top = t.nodes;
		for (i = 0; i < POOL; i++) {
			/* Every other one first, then the rest. */
			size_t	j = (i * 2 + (i >= POOL / 2)) % POOL;

			ck_assert_ptr_eq(ptree_remove(&t, pool[j].k,
			    pool[j].len), &pool[j]);
		}
		assert_shape(&t);
	}
	ck_assert_uint_gt(top, POOL);	/* there were forks to fold */
}
END_TEST

static Suite *
ptree_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("ptree");

	tc = tcase_create("basics");
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_exact);
	tcase_add_test(tc, test_split_fold);
	tcase_add_test(tc, test_split_at_root);
	tcase_add_test(tc, test_empty_key);
	tcase_add_test(tc, test_binary);
	tcase_add_test(tc, test_fanout);
	suite_add_tcase(s, tc);

	tc = tcase_create("walks");
	tcase_add_test(tc, test_walk_order);
	tcase_add_test(tc, test_free);
	suite_add_tcase(s, tc);

#ifdef HAVE_LD_WRAP
	tc = tcase_create("nomem");
	tcase_add_test(tc, test_nomem);
	suite_add_tcase(s, tc);
#endif

	tc = tcase_create("model");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_model);
	tcase_add_test(tc, test_fill_and_empty);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(ptree_suite());
}
