/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * htab.c: the intrusive hash table behind keys, queues, channels and locks.
 *
 * The table owns only its bucket array: entries live inside their owners'
 * objects and each carries its full 64-bit hash, so a resize re-links
 * entries without rehashing keys and a lookup compares hashes before bytes.
 *
 * Hashing is SipHash-1-3 (Aumasson and Bernstein; the round count Python and
 * Rust use for hash tables) under a 128-bit key drawn once per process from
 * getrandom(2); if the kernel has no entropy to give yet we fall back to
 * time ^ pid, which still keeps the bucket layout unpredictable to a client
 * that cannot observe the daemon's start time and pid.
 *
 * Invariants:
 * - nbuckets is a power of two, >= min_buckets, and the bucket of an entry
 *   is hash & (nbuckets - 1);
 * - after an insert the load (count / nbuckets) is at most 1 unless growing
 *   failed (the table then stays more loaded, which is only slower);
 * - after a remove the load is at least 1/8 unless the table is at its
 *   minimum size. Shrinking goes to the smallest size that gives a load of
 *   at most 1/2, so one insert after a shrink cannot trigger a grow and vice
 *   versa (no resize ping-pong at a threshold).
 * Resizing is done at once (not incrementally like Redis's dict): the cost
 * is amortised O(1) per operation, and the sizes we hold are bounded by
 * max_memory.
 *
 * htab_scan() uses the reverse-binary cursor of Redis SCAN: the cursor's
 * bits are incremented from the most significant end of the bucket mask, so
 * that the buckets a cursor has already covered in a table of size N map
 * exactly onto the buckets already covered in a table of size 2N or N/2.
 * An entry present for the whole walk is therefore seen at least once even
 * if the table is resized between calls; after a shrink some entries may be
 * seen twice.
 */

#include <sys/random.h>
#include <sys/types.h>

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "htab.h"

#define HTAB_MIN	8

static uint64_t	seed_k0, seed_k1;
static bool	seeded;

static void
seed_init(void)
{
	uint64_t	k[2];
	struct timespec	ts;

	if (seeded)
		return;
	if (getrandom(k, sizeof(k), GRND_NONBLOCK) != (ssize_t)sizeof(k)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		k[0] = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		k[1] = k[0] ^ ((uint64_t)getpid() << 32 | (uint64_t)getppid());
		k[0] ^= (uint64_t)getpid();
	}
	seed_k0 = k[0];
	seed_k1 = k[1];
	seeded = true;
}

#define ROTL(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

/* Little-endian load of n (< 8) bytes. */
static inline uint64_t
load_le(const uint8_t *p, size_t n)
{
	uint64_t	v = 0;
	size_t		i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* SipHash with c compression and d finalisation rounds. */
static uint64_t
siphash(uint64_t k0, uint64_t k1, int c, int d, const uint8_t *in,
    size_t len)
{
	uint64_t	v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t	v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t	v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t	v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t	m;
	size_t		left = len;
	int		i;

	for (; left >= 8; in += 8, left -= 8) {
		m = load_le(in, 8);
		v3 ^= m;
		for (i = 0; i < c; i++)
			SIPROUND;
		v0 ^= m;
	}
	m = load_le(in, left) | (uint64_t)len << 56;
	v3 ^= m;
	for (i = 0; i < c; i++)
		SIPROUND;
	v0 ^= m;
	v2 ^= 0xff;
	for (i = 0; i < d; i++)
		SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t
htab_hash(const void *key, size_t len)
{
	seed_init();
	return siphash(seed_k0, seed_k1, 1, 3, key, len);
}

static size_t
pow2_at_least(size_t n)
{
	size_t	p = HTAB_MIN;

	while (p < n && p < ((size_t)1 << (sizeof(size_t) * 8 - 2)))
		p <<= 1;
	return p;
}

int
htab_init(struct htab *t, size_t initial)
{
	seed_init();
	t->nbuckets = pow2_at_least(initial);
	t->min_buckets = t->nbuckets;
	t->count = 0;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (t->buckets == NULL)
		return -ENOMEM;
	return 0;
}

void
htab_free(struct htab *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->nbuckets = 0;
	t->count = 0;
}

/* Re-link every entry into a new array of n buckets; false if out of memory. */
static bool
resize(struct htab *t, size_t n)
{
	struct htab_entry	**nb, *e, *next;
	size_t			  i;

	nb = calloc(n, sizeof(*nb));
	if (nb == NULL)
		return false;
	for (i = 0; i < t->nbuckets; i++) {
		for (e = t->buckets[i]; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->nbuckets = n;
	return true;
}

struct htab_entry *
htab_find(const struct htab *t, const void *key, size_t klen)
{
	struct htab_entry	*e;
	uint64_t		 h = htab_hash(key, klen);

	for (e = t->buckets[h & (t->nbuckets - 1)]; e != NULL; e = e->next) {
		if (e->hash == h && e->klen == klen &&
		    (klen == 0 || memcmp(e->key, key, klen) == 0))
			return e;
	}
	return NULL;
}

void
htab_insert(struct htab *t, struct htab_entry *e)
{
	struct htab_entry	**b;

	e->hash = htab_hash(e->key, e->klen);
	b = &t->buckets[e->hash & (t->nbuckets - 1)];
	e->next = *b;
	*b = e;
	t->count++;
	if (t->count > t->nbuckets && t->nbuckets <= SIZE_MAX / 2 /
	    sizeof(*t->buckets))
		(void)resize(t, t->nbuckets * 2);
}

void
htab_remove(struct htab *t, struct htab_entry *e)
{
	struct htab_entry	**pp;
	size_t			  n;

	pp = &t->buckets[e->hash & (t->nbuckets - 1)];
	while (*pp != e) {
		assert(*pp != NULL);
		pp = &(*pp)->next;
	}
	*pp = e->next;
	e->next = NULL;
	t->count--;
	if (t->nbuckets > t->min_buckets && t->count < t->nbuckets / 8) {
		n = t->nbuckets;
		while (n > t->min_buckets && t->count * 2 <= n / 2)
			n /= 2;
		(void)resize(t, n);
	}
}

/* Bit-reverse a 64-bit word. */
static inline uint64_t
rev64(uint64_t v)
{
	const uint64_t	m1 = 0x5555555555555555ULL;
	const uint64_t	m2 = 0x3333333333333333ULL;
	const uint64_t	m4 = 0x0f0f0f0f0f0f0f0fULL;

	v = ((v >> 1) & m1) | ((v & m1) << 1);
	v = ((v >> 2) & m2) | ((v & m2) << 2);
	v = ((v >> 4) & m4) | ((v & m4) << 4);
	return __builtin_bswap64(v);
}

uint64_t
htab_scan(const struct htab *t, uint64_t cursor, size_t buckets,
    htab_visit_fn *fn, void *arg)
{
	struct htab_entry	*e, *next;
	uint64_t		 mask = t->nbuckets - 1;

	if (buckets == 0)
		buckets = 1;
	do {
		for (e = t->buckets[cursor & mask]; e != NULL; e = next) {
			next = e->next;
			fn(e, arg);
		}
		/*
		 * Add one to the masked bits counted from the top: setting
		 * the unmasked bits makes the carry run off the end.
		 */
		cursor |= ~mask;
		cursor = rev64(cursor);
		cursor++;
		cursor = rev64(cursor);
	} while (cursor != 0 && --buckets > 0);
	return cursor;
}
