/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * htab.c: the intrusive hash table behind keys, queues, channels and locks.
 *
 * The table owns only its bucket arrays: entries live inside their owners'
 * objects and each carries its full 64-bit hash, so a rehash re-links
 * entries without rehashing keys and a lookup compares hashes before bytes.
 *
 * Hashing is SipHash-1-3 (Aumasson and Bernstein; the round count Python and
 * Rust use for hash tables) under a 128-bit key drawn once per process from
 * getrandom(2); if the kernel has no entropy to give yet we fall back to
 * time ^ pid, which still keeps the bucket layout unpredictable to a client
 * that cannot observe the daemon's start time and pid.
 *
 * Resizing is incremental, as in Redis's dict. Re-linking a few million
 * entries at once stalls the event loop, and so every client, for tens of
 * milliseconds; instead a resize only allocates the new array ('buckets'),
 * keeps the previous one as 'old', and each insert and remove then moves
 * one non-empty bucket of 'old' across, from the top down, looking at no
 * more than HTAB_REHASH_EMPTY empty ones before giving up for this time.
 * New entries always go to 'buckets', so 'old' only empties. Lookups are
 * pure: they look at the old chain (if that bucket has not moved yet) and
 * then the new one, and take a const table, so that they can never disturb
 * a walk in progress.
 *
 * Freeing the old array is the other pause: unmapping tens of megabytes
 * takes milliseconds. So arrays of HTAB_CHUNK bytes and more are mapped
 * by us, and a rehash unmaps the old one HTAB_CHUNK at a time as
 * rehash_idx passes (that is why it runs top down); once old holds no
 * entry, each operation unmaps one more piece until none is left.
 *
 * Invariants:
 * - nbuckets and nold are powers of two, nbuckets >= min_buckets, and an
 *   entry is either in old[hash & (nold - 1)] with that index <
 *   rehash_idx, or in buckets[hash & (nbuckets - 1)];
 * - old[0..rehash_idx) is allocated (old_mapped bytes of it if mapped);
 * - old != NULL while old_count > 0 or old_mapped > 0, and no resize
 *   starts while one is in progress;
 * - a resize changes the size by 2x or 4x (never more, so that one scan
 *   step, a bucket of the smaller array and its images in the larger,
 *   stays bounded); growing starts when the load (count / nbuckets) passes
 *   1, shrinking when it falls under 1/8 and goes to the smallest size
 *   with a load of at most 1/2 (within the 4x), so one insert after a
 *   shrink cannot trigger a grow and vice versa. Each time a rehash ends
 *   both conditions are checked again, so with no rehash in progress the
 *   load is within [1/8, 1] (unless at the minimum size or out of memory).
 * - While a rehash runs, the load of the new array stays bounded: a grow
 *   from n buckets ends within about n operations (each looks at an old
 *   bucket or unmaps a piece), so at most 2.4n entries meet 2n buckets; a
 *   shrink from n to m >= max(n/4, 2 * count) ends within about count +
 *   n / HTAB_REHASH_EMPTY operations, a load of at most 1.4.
 *
 * htab_scan() uses the reverse-binary cursor of Redis SCAN: the cursor's
 * bits are incremented from the most significant end of the bucket mask, so
 * that the buckets a cursor has already covered in a table of size N map
 * exactly onto the buckets already covered in a table of size 2N or N/2.
 * During a rehash it walks, as Redis's dictScan does, one bucket of the
 * smaller array and then every bucket of the larger array that its entries
 * would map to there, so that a step covers the same hash range in both,
 * and advances the cursor over the smaller mask. An entry present for the
 * whole walk is therefore seen at least once even if the table is resized
 * or a rehash advances between calls; after a shrink, or when the smaller
 * array changes, some entries may be seen twice.
 */

#include <sys/mman.h>
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
/* One resize changes the size by at most this factor (a power of two). */
#define HTAB_RESIZE_MAX	4
/* Never ask for more buckets than this (no overflow in n * 4 * ptr). */
#define HTAB_MAX	((size_t)1 << (sizeof(size_t) * 8 - 6))
/*
 * Arrays of at least this many bytes are mapped directly rather than
 * allocated, so that a rehash can give the old one back this many bytes
 * at a time: unmapping tens of megabytes at once takes milliseconds. A
 * power of two, so a multiple of the page size and of every larger array.
 */
#define HTAB_CHUNK	((size_t)256 * 1024)
#define CHUNK_BUCKETS	(HTAB_CHUNK / sizeof(struct htab_entry *))

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

	while (p < n && p < HTAB_MAX)
		p <<= 1;
	return p;
}

/* Is an array of n buckets mapped (rather than allocated)? */
static inline bool
mapped(size_t n)
{
	return n >= CHUNK_BUCKETS;
}

/* A zeroed array of n buckets, or NULL. */
static struct htab_entry **
array_alloc(size_t n)
{
	void	*p;

	if (!mapped(n))
		return calloc(n, sizeof(struct htab_entry *));
	p = mmap(NULL, n * sizeof(struct htab_entry *), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* Free an array of n buckets of which the first 'bytes' are still mapped. */
static void
array_free(struct htab_entry **a, size_t n, size_t bytes)
{
	if (!mapped(n))
		free(a);
	else if (a != NULL && bytes > 0)
		(void)munmap(a, bytes);
}

int
htab_init(struct htab *t, size_t initial)
{
	seed_init();
	memset(t, 0, sizeof(*t));
	t->nbuckets = pow2_at_least(initial);
	t->min_buckets = t->nbuckets;
	t->buckets = array_alloc(t->nbuckets);
	if (t->buckets == NULL)
		return -ENOMEM;
	return 0;
}

void
htab_free(struct htab *t)
{
	array_free(t->buckets, t->nbuckets,
	    t->nbuckets * sizeof(*t->buckets));
	if (t->old != NULL)
		array_free(t->old, t->nold, t->old_mapped);
	t->buckets = t->old = NULL;
	t->nbuckets = t->nold = 0;
	t->count = t->old_count = 0;
	t->rehash_idx = t->old_mapped = 0;
}

/* The size the load asks for: nbuckets if it is fine as it is. */
static size_t
target_size(const struct htab *t)
{
	size_t	n = t->nbuckets;

	if (t->count > n) {
		while (n < t->count && n < HTAB_MAX &&
		    n < t->nbuckets * HTAB_RESIZE_MAX)
			n <<= 1;
	} else if (n > t->min_buckets && t->count < n / 8) {
		while (n > t->min_buckets && t->count * 4 <= n &&
		    n > t->nbuckets / HTAB_RESIZE_MAX)
			n >>= 1;
	}
	return n;
}

/*
 * Start a rehash to the size the load asks for, unless one is in progress;
 * true if it did. Out of memory, the table stays as it is and the next
 * operation retries. Even an empty table goes through a rehash (one with
 * nothing to move), so that a large array is given back piecemeal.
 */
static bool
maybe_resize(struct htab *t)
{
	struct htab_entry	**nb;
	size_t			  n;

	if (t->old != NULL)
		return false;
	if ((n = target_size(t)) == t->nbuckets)
		return false;
	if ((nb = array_alloc(n)) == NULL)
		return false;
	t->old = t->buckets;
	t->nold = t->nbuckets;
	t->old_count = t->count;
	t->rehash_idx = t->nold;
	t->old_mapped = mapped(t->nold) ? t->nold * sizeof(*t->old) : 0;
	t->buckets = nb;
	t->nbuckets = n;
	return true;
}

/*
 * Move up to n non-empty old buckets into 'buckets', looking at no more
 * than n * HTAB_REHASH_EMPTY empty ones, then give back up to n chunks of
 * the old array that are done with. Once old holds nothing, what is left
 * is only to give back, a chunk at a time. settle() ends the rehash.
 */
static void
rehash(struct htab *t, size_t n)
{
	struct htab_entry	*e, *next, **b;
	size_t			 empty, chunks;

	if (t->old == NULL || n == 0)
		return;
	empty = n > SIZE_MAX / HTAB_REHASH_EMPTY ? SIZE_MAX :
	    n * HTAB_REHASH_EMPTY;
	chunks = n;
	while (n > 0 && t->old_count > 0) {
		/* A non-empty bucket is left before rehash_idx. */
		assert(t->rehash_idx > 0);
		t->rehash_visits++;
		/* Past rehash_idx the bucket is never read again. */
		if ((e = t->old[--t->rehash_idx]) == NULL) {
			if (--empty == 0)
				break;
			continue;
		}
		for (; e != NULL; e = next) {
			next = e->next;
			b = &t->buckets[e->hash & (t->nbuckets - 1)];
			e->next = *b;
			*b = e;
			t->old_count--;
			t->rehash_moves++;
		}
		n--;
	}
	/* [rehash_idx, nold) is never read again: give it back. */
	while (chunks-- > 0 && t->old_mapped >= HTAB_CHUNK) {
		if (t->old_count == 0 && t->rehash_idx * sizeof(*t->old) >
		    t->old_mapped - HTAB_CHUNK)
			t->rehash_idx = (t->old_mapped - HTAB_CHUNK) /
			    sizeof(*t->old);
		if (t->rehash_idx * sizeof(*t->old) >
		    t->old_mapped - HTAB_CHUNK)
			break;
		t->old_mapped -= HTAB_CHUNK;
		(void)munmap((char *)t->old + t->old_mapped, HTAB_CHUNK);
	}
}

/*
 * After an operation: end a rehash that is done with old, and start the
 * resize the load asks for. A rehash with nothing to move or give back
 * (an empty table shrinking) ends at once.
 */
static void
settle(struct htab *t)
{
	for (;;) {
		if (t->old != NULL) {
			if (t->old_count > 0 || t->old_mapped > 0)
				return;
			array_free(t->old, t->nold, 0);
			t->old = NULL;
			t->nold = 0;
			t->rehash_idx = 0;
		}
		if (!maybe_resize(t))
			return;
	}
}

void
htab_rehash_step(struct htab *t, size_t buckets)
{
	assert(t->draining == 0);
	if (t->old == NULL)
		return;
	rehash(t, buckets);
	settle(t);
}

int
htab_rehashing(const struct htab *t)
{
	return t->old != NULL;
}

/* The chain of old bucket i: empty once it has moved (or been unmapped). */
static inline struct htab_entry *
old_chain(const struct htab *t, uint64_t i)
{
	return i < t->rehash_idx ? t->old[i] : NULL;
}

/* The entry of (h, key, klen) in the chain from e, or NULL. */
static struct htab_entry *
chain_find(struct htab_entry *e, uint64_t h, const void *key, size_t klen)
{
	for (; e != NULL; e = e->next) {
		if (e->hash == h && e->klen == klen &&
		    (klen == 0 || memcmp(e->key, key, klen) == 0))
			return e;
	}
	return NULL;
}

struct htab_entry *
htab_find(const struct htab *t, const void *key, size_t klen)
{
	struct htab_entry	*e;
	uint64_t		 h = htab_hash(key, klen);

	if (t->old != NULL &&
	    (e = chain_find(old_chain(t, h & (t->nold - 1)), h, key, klen)) !=
	    NULL)
		return e;
	return chain_find(t->buckets[h & (t->nbuckets - 1)], h, key, klen);
}

void
htab_insert(struct htab *t, struct htab_entry *e)
{
	struct htab_entry	**b;

	assert(t->draining == 0);
	rehash(t, 1);
	e->hash = htab_hash(e->key, e->klen);
	b = &t->buckets[e->hash & (t->nbuckets - 1)];
	e->next = *b;
	*b = e;
	t->count++;
	settle(t);
}

void
htab_remove(struct htab *t, struct htab_entry *e)
{
	struct htab_entry	**pp = NULL;
	size_t			  i;

	assert(t->draining == 0);
	rehash(t, 1);
	if (t->old != NULL && (i = e->hash & (t->nold - 1)) < t->rehash_idx) {
		/* Not moved yet, unless it came in after the rehash began. */
		for (pp = &t->old[i]; *pp != NULL && *pp != e;
		    pp = &(*pp)->next)
			;
		if (*pp != NULL)
			t->old_count--;
		else
			pp = NULL;
	}
	if (pp == NULL) {
		pp = &t->buckets[e->hash & (t->nbuckets - 1)];
		while (*pp != e) {
			assert(*pp != NULL);
			pp = &(*pp)->next;
		}
	}
	*pp = e->next;
	e->next = NULL;
	t->count--;
	settle(t);
}

/* Call fn on each entry of one chain; fn may not change the table. */
static inline void
visit_chain(struct htab_entry *e, htab_visit_fn *fn, void *arg)
{
	struct htab_entry	*next;

	for (; e != NULL; e = next) {
		next = e->next;
		fn(e, arg);
	}
}

/* The chain of bucket i of the old array or of the current one. */
static inline struct htab_entry *
chain_at(const struct htab *t, bool old, uint64_t i)
{
	return old ? old_chain(t, i) : t->buckets[i];
}

/*
 * The cursor after v: add one to the bits of mask counted from the top.
 * Setting the bits outside the mask first makes the carry run through
 * them (clearing them) and off the end once the masked bits wrap.
 */
static inline uint64_t
rev_next(uint64_t v, uint64_t mask)
{
	v |= ~mask;
	v = htab_rev64(v);
	v++;
	return htab_rev64(v);
}

uint64_t
htab_scan(const struct htab *t, uint64_t cursor, size_t buckets,
    htab_visit_fn *fn, void *arg)
{
	uint64_t	m0, m1;
	bool		old_small;

	if (buckets == 0)
		buckets = 1;
	if (t->old == NULL) {
		m0 = t->nbuckets - 1;
		do {
			visit_chain(t->buckets[cursor & m0], fn, arg);
			cursor = rev_next(cursor, m0);
		} while (cursor != 0 && --buckets > 0);
		return cursor;
	}
	/* A resize always changes the size, so one array is the smaller. */
	old_small = t->nold < t->nbuckets;
	m0 = (old_small ? t->nold : t->nbuckets) - 1;
	m1 = (old_small ? t->nbuckets : t->nold) - 1;
	do {
		/*
		 * The small bucket, then the large ones its entries map to:
		 * those whose low bits are the small index, in the order of
		 * the bits above it, from the cursor's on (a cursor from an
		 * earlier, larger table has covered the ones before). The
		 * inner increment carries into the small bits when they wrap.
		 */
		visit_chain(chain_at(t, old_small, cursor & m0), fn, arg);
		do {
			visit_chain(chain_at(t, !old_small, cursor & m1), fn,
			    arg);
			cursor = rev_next(cursor, m1);
		} while ((cursor & (m0 ^ m1)) != 0);
	} while (cursor != 0 && --buckets > 0);
	return cursor;
}

/* Unlink the entries of buckets [0, n) of array a, handing each to fn. */
static void
drain_array(struct htab *t, struct htab_entry **a, size_t n,
    htab_visit_fn *fn, void *arg)
{
	struct htab_entry	*e, *next;
	size_t			 i;

	for (i = 0; i < n; i++) {
		e = a[i];
		a[i] = NULL;
		for (; e != NULL; e = next) {
			next = e->next;
			e->next = NULL;
			t->count--;
			fn(e, arg);
		}
	}
}

void
htab_drain(struct htab *t, htab_visit_fn *fn, void *arg)
{
	struct htab_entry	**nb;

	assert(t->draining == 0);
	t->draining++;
	if (t->old != NULL)
		drain_array(t, t->old, t->rehash_idx, fn, arg);
	drain_array(t, t->buckets, t->nbuckets, fn, arg);
	t->draining--;
	assert(t->count == 0);
	if (t->old != NULL)
		array_free(t->old, t->nold, t->old_mapped);
	t->old = NULL;
	t->nold = t->old_count = t->rehash_idx = t->old_mapped = 0;
	/* Give the memory back now; keep the emptied array if that fails. */
	if (t->nbuckets > t->min_buckets &&
	    (nb = array_alloc(t->min_buckets)) != NULL) {
		array_free(t->buckets, t->nbuckets,
		    t->nbuckets * sizeof(*t->buckets));
		t->buckets = nb;
		t->nbuckets = t->min_buckets;
	}
}
