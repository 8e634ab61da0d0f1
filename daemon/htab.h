/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * htab.h: an intrusive hash table of binary-safe keys, shared by the
 * key-value store, queues, channels and locks. Entries are embedded in
 * the owner's objects (container_of); the table owns only its bucket
 * array. Chaining, power-of-two bucket counts, growth by doubling when
 * the load passes 1 and shrinking below 1/8 (never under the initial
 * size). Hashing is keyed with a per-process random seed, so clients
 * cannot choose keys that all collide.
 *
 * htab_scan() walks buckets with a reverse-binary cursor (as Redis SCAN
 * does): every entry present for a whole iteration is visited at least
 * once, even if the table is resized between calls.
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

struct htab {
	struct htab_entry	**buckets;
	size_t			 nbuckets;	/* power of two */
	size_t			 min_buckets;
	size_t			 count;
};

/* 0 or -ENOMEM. initial is rounded up to a power of two (at least 8). */
int	htab_init(struct htab *, size_t initial);
/* Frees the bucket array only; entries belong to their owners. */
void	htab_free(struct htab *);
struct htab_entry	*htab_find(const struct htab *, const void *key,
			    size_t klen);
/*
 * Insert e (e->key and e->klen set by the caller; the key must not be in
 * the table). Always succeeds: if growing fails the table just stays
 * more loaded.
 */
void	htab_insert(struct htab *, struct htab_entry *e);
void	htab_remove(struct htab *, struct htab_entry *e);

typedef void	htab_visit_fn(struct htab_entry *, void *arg);
/*
 * Visit the entries of up to 'buckets' buckets from 'cursor' (0 to
 * start). Returns the next cursor, 0 when the walk is complete. The
 * visitor must not insert or remove entries.
 */
uint64_t	htab_scan(const struct htab *, uint64_t cursor, size_t buckets,
		    htab_visit_fn *, void *arg);

uint64_t	htab_hash(const void *key, size_t len);

#endif /* IOMUXD_HTAB_H */
