/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * htab.h: an intrusive hash table of binary-safe keys, shared by the
 * key-value store, queues, channels and locks. Entries are embedded in
 * the owner's objects (container_of); the table owns only its bucket
 * arrays. Chaining, power-of-two bucket counts, growth when the load
 * passes 1 and shrinking below 1/8 (never under the initial size).
 * Hashing is keyed with a per-process random seed, so clients cannot
 * choose keys that all collide.
 *
 * Resizing is incremental, as in Redis's dict: a resize allocates the new
 * array and from then on every htab_insert() and htab_remove() (and any
 * htab_rehash_step()) moves at most one non-empty bucket of the old array
 * into the new one, looking at no more than HTAB_REHASH_EMPTY empty ones
 * on the way. No single operation re-links the whole table. htab_find()
 * takes a const table and moves nothing: a table that only sees lookups
 * keeps both arrays (and looks at two chains) until the next change or
 * htab_rehash_step().
 *
 * htab_scan() walks buckets with a reverse-binary cursor (as Redis SCAN
 * does): every entry present for a whole iteration is visited at least
 * once, even if the table is resized, or a rehash advances, between calls.
 *
 * Owners must not walk 'buckets' themselves: while a rehash is in progress
 * part of the entries are still in the old array. Use htab_scan() to look
 * and htab_drain() to take everything out at teardown.
 */

#ifndef IOMUXD_HTAB_H
#define IOMUXD_HTAB_H

#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct htab_entry {
	struct htab_entry	*next;
	uint64_t		 hash;
	const uint8_t		*key;	/* owned by the container */
	uint32_t		 klen;
};

/* Empty old buckets one rehash step may look at per bucket it moves. */
#define HTAB_REHASH_EMPTY	10

struct htab {
	struct htab_entry	**buckets;	/* where new entries go */
	size_t			 nbuckets;	/* power of two */
	size_t			 min_buckets;
	size_t			 count;		/* in both arrays */
	/*
	 * While rehashing: the array being emptied into 'buckets', from the
	 * top down. Only old[0..rehash_idx) may still hold entries; large
	 * arrays are given back piecemeal as rehash_idx passes.
	 */
	struct htab_entry	**old;		/* NULL: no rehash */
	size_t			 nold;		/* power of two */
	size_t			 old_count;	/* entries still in old */
	size_t			 rehash_idx;
	size_t			 old_mapped;	/* bytes of old still mapped */
	/* Totals for tests and status: old buckets looked at, entries moved. */
	uint64_t		 rehash_visits;
	uint64_t		 rehash_moves;
	unsigned int		 draining;	/* in htab_drain(): no changes */
};

/* 0 or -ENOMEM. initial is rounded up to a power of two (at least 8). */
int	htab_init(struct htab *, size_t initial);
/*
 * Frees the bucket arrays only; entries belong to their owners, who must
 * have taken them out first (htab_drain()) or keep no other way to them.
 */
void	htab_free(struct htab *);
/*
 * The entry with this key, or NULL. A pure lookup: it never moves
 * buckets, so a htab_scan() visitor may call it.
 */
struct htab_entry	*htab_find(const struct htab *, const void *key,
			    size_t klen);
/*
 * Insert e (e->key and e->klen set by the caller; the key must not be in
 * the table). Always succeeds: if growing fails the table just stays
 * more loaded. Advances a rehash in progress by one bucket.
 */
void	htab_insert(struct htab *, struct htab_entry *e);
/* Unlink e, which must be in the table. Advances a rehash by one bucket. */
void	htab_remove(struct htab *, struct htab_entry *e);

/*
 * Move up to 'buckets' non-empty buckets of a rehash in progress (looking
 * at most at buckets * HTAB_REHASH_EMPTY empty ones, and giving back as
 * many pieces of the old array), for an owner that wants to finish from a
 * timer rather than only as operations come. Finishing may start the next
 * resize. A no-op when not rehashing.
 */
void	htab_rehash_step(struct htab *, size_t buckets);
/* Non-zero while a rehash is in progress (two bucket arrays in use). */
int	htab_rehashing(const struct htab *);

typedef void	htab_visit_fn(struct htab_entry *, void *arg);
/*
 * Visit the entries of up to 'buckets' cursor positions from 'cursor' (0
 * to start). Returns the next cursor, 0 when the walk is complete. While
 * a rehash is in progress one position is a bucket of the smaller array
 * and the 2 to 4 buckets it maps to in the larger one. The visitor must
 * not insert or remove entries (htab_find() is fine).
 */
uint64_t	htab_scan(const struct htab *, uint64_t cursor, size_t buckets,
		    htab_visit_fn *, void *arg);

/*
 * Take every entry out of the table, calling fn on each after it has been
 * unlinked (fn may free it). fn must not insert or remove (an assertion
 * checks; htab_find() is fine). The table is left empty and usable, back
 * at its initial size if that can be allocated. For owners' teardown, in
 * place of walking the buckets.
 */
void	htab_drain(struct htab *, htab_visit_fn *fn, void *arg);

uint64_t	htab_hash(const void *key, size_t len);

/*
 * Bit-reverse a 64-bit word: scan cursors count in reversed hash order,
 * which does not depend on the table's size.
 */
static inline uint64_t
htab_rev64(uint64_t v)
{
	const uint64_t	m1 = 0x5555555555555555ULL;
	const uint64_t	m2 = 0x3333333333333333ULL;
	const uint64_t	m4 = 0x0f0f0f0f0f0f0f0fULL;

	v = ((v >> 1) & m1) | ((v & m1) << 1);
	v = ((v >> 2) & m2) | ((v & m2) << 2);
	v = ((v >> 4) & m4) | ((v & m4) << 4);
	return __builtin_bswap64(v);
}


#endif /* IOMUXD_HTAB_H */
