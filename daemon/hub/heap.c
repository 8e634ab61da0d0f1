/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * heap.c: the binary min-heap behind timers and key expiry. v[0] holds
 * the smallest key; the children of slot i are 2i+1 and 2i+2; every move
 * updates the moved node's idx.
 */

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "heap.h"

static inline void
place(struct heap *h, size_t i, struct heap_node *n)
{
	h->v[i] = n;
	n->idx = i;
}

static void
sift_up(struct heap *h, size_t i)
{
	struct heap_node	*n = h->v[i];
	size_t			 parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (h->v[parent]->key <= n->key)
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, n);
}

static void
sift_down(struct heap *h, size_t i)
{
	struct heap_node	*n = h->v[i];
	size_t			 child;

	for (;;) {
		child = 2 * i + 1;
		if (child >= h->len)
			break;
		if (child + 1 < h->len && h->v[child + 1]->key < h->v[child]->key)
			child++;
		if (n->key <= h->v[child]->key)
			break;
		place(h, i, h->v[child]);
		i = child;
	}
	place(h, i, n);
}

void
heap_init(struct heap *h, size_t min_cap)
{
	h->v = NULL;
	h->len = 0;
	h->cap = 0;
	h->min_cap = min_cap > 0 ? min_cap : 1;
}

void
heap_free(struct heap *h)
{
	size_t	i;

	for (i = 0; i < h->len; i++)
		h->v[i]->idx = HEAP_NONE;
	free(h->v);
	h->v = NULL;
	h->len = 0;
	h->cap = 0;
}

int
heap_reserve(struct heap *h, size_t extra)
{
	struct heap_node	**v;
	size_t			  cap = h->cap ? h->cap : h->min_cap;

	if (extra <= h->cap - h->len && h->v != NULL)
		return 0;
	if (extra > SIZE_MAX / sizeof(*v) - h->len)
		return -ENOMEM;
	while (cap < h->len + extra) {
		if (cap > SIZE_MAX / 2 / sizeof(*v))
			return -ENOMEM;
		cap *= 2;
	}
	if ((v = realloc(h->v, cap * sizeof(*v))) == NULL)
		return -ENOMEM;
	h->v = v;
	h->cap = cap;
	return 0;
}

void
heap_push(struct heap *h, struct heap_node *n)
{
	assert(h->len < h->cap && n->idx == HEAP_NONE);
	place(h, h->len++, n);
	sift_up(h, n->idx);
}

int
heap_insert(struct heap *h, struct heap_node *n)
{
	int	ret;

	if ((ret = heap_reserve(h, 1)) < 0)
		return ret;
	heap_push(h, n);
	return 0;
}

void
heap_remove(struct heap *h, struct heap_node *n)
{
	struct heap_node	**v, *last;
	size_t			  i = n->idx;

	assert(i < h->len && h->v[i] == n);
	n->idx = HEAP_NONE;
	last = h->v[--h->len];
	if (last != n) {
		place(h, i, last);
		sift_up(h, i);
		sift_down(h, last->idx);
	}
	/* Give back a mostly empty array; failing just keeps it. */
	if (h->cap > h->min_cap && h->len < h->cap / 4 &&
	    (v = realloc(h->v, h->cap / 2 * sizeof(*v))) != NULL) {
		h->v = v;
		h->cap /= 2;
	}
}

void
heap_replace(struct heap *h, struct heap_node *old, struct heap_node *n)
{
	assert(old->idx < h->len && h->v[old->idx] == old);
	n->key = old->key;
	place(h, old->idx, n);
	old->idx = HEAP_NONE;
}

void
heap_rekey(struct heap *h, struct heap_node *n, uint64_t key)
{
	uint64_t	old = n->key;

	assert(n->idx < h->len && h->v[n->idx] == n);
	n->key = key;
	if (key < old)
		sift_up(h, n->idx);
	else if (key > old)
		sift_down(h, n->idx);
}
