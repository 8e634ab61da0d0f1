/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * heap.h: an intrusive binary min-heap of deadlines, shared by the event
 * loop's timers and the key-value store's expiry. Nodes are embedded in
 * their owners and know their slot, so removing or re-keying one is
 * O(log n) with no search; the heap owns only its array of pointers,
 * which grows by doubling and gives memory back (with hysteresis) after
 * a burst.
 */

#ifndef IOMUXD_HEAP_H
#define IOMUXD_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEAP_NONE	SIZE_MAX	/* idx of a node in no heap */

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#endif

struct heap_node {
	uint64_t	key;	/* smallest first */
	size_t		idx;	/* slot in the heap, or HEAP_NONE */
};

struct heap {
	struct heap_node	**v;
	size_t			  len;
	size_t			  cap;
	size_t			  min_cap;	/* first size, shrink floor */
};

static inline void
heap_node_init(struct heap_node *n)
{
	n->key = 0;
	n->idx = HEAP_NONE;
}

static inline bool
heap_node_queued(const struct heap_node *n)
{
	return n->idx != HEAP_NONE;
}

static inline struct heap_node *
heap_top(const struct heap *h)
{
	return h->len > 0 ? h->v[0] : NULL;
}

/* An empty heap that allocates min_cap slots when first used. */
void	heap_init(struct heap *, size_t min_cap);
/* Free the array; every node still queued is marked HEAP_NONE. */
void	heap_free(struct heap *);
/* Room for 'extra' more nodes, so that heap_push() cannot fail; 0/-ENOMEM. */
int	heap_reserve(struct heap *, size_t extra);
/* Queue n with its key (room reserved). */
void	heap_push(struct heap *, struct heap_node *n);
/* heap_reserve(1) + heap_push(); 0 or -ENOMEM (n is then not queued). */
int	heap_insert(struct heap *, struct heap_node *n);
/* Unqueue n (queued in this heap). */
void	heap_remove(struct heap *, struct heap_node *n);
/* New node n (not queued) takes queued old's slot and key. */
void	heap_replace(struct heap *, struct heap_node *old, struct heap_node *n);
/* Give queued n a new key and restore the order. */
void	heap_rekey(struct heap *, struct heap_node *n, uint64_t key);

#endif /* IOMUXD_HEAP_H */
