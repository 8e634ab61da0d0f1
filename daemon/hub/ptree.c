/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * ptree.c: a compressed radix tree.
 *
 * A node stands for one string, its path: the root's is the shortest,
 * and every child's path extends its parent's by at least one byte (the
 * edge). Children are kept sorted by the first byte of their edge, which
 * differs between siblings, so the next node is a binary search over at
 * most 256 away. The invariants, kept by every insert and remove:
 *
 *  - a node without a value has at least two children (otherwise it is
 *    folded into its only child, or freed), so every leaf holds a key and
 *    there are at most 2 * count - 1 nodes;
 *  - parent pointers are exact, and the root has none.
 *
 * Each node keeps its whole path, not only its edge. That costs at most
 * twice the key bytes (at most two nodes per key, a path no longer than
 * the key it leads to), and buys two things: removing never allocates,
 * because folding a node into its only child just links the child in its
 * place (the child already holds the longer edge), so ptree_remove()
 * cannot fail half-way and leave a node behind; and a key handed to a
 * visitor is just the node's path.
 *
 * Walking a string down the tree compares each of its bytes once (an
 * edge in one memcmp) and enters at most one node per byte, plus the
 * root: linear in the string, whatever is stored.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "ptree.h"

struct ptree_node {
	struct ptree_node	 *parent;
	struct ptree_node	**child;	/* nchild, by edge byte */
	void			 *value;	/* NULL: no key ends here */
	size_t			  depth;	/* of path */
	uint16_t		  nchild;	/* 0..256 */
	uint8_t			  path[];
};

void
ptree_init(struct ptree *t)
{
	memset(t, 0, sizeof(*t));
}

size_t
ptree_key_cost(size_t len)
{
	/* Each node: itself, and its child array grown by one slot. */
	return 2 * (hub_alloc_cost(sizeof(struct ptree_node) + len) +
	    hub_alloc_cost(2 * sizeof(struct ptree_node *)));
}

/* A childless node for path[0..depth), or NULL. */
static struct ptree_node *
node_new(struct ptree *t, const uint8_t *path, size_t depth)
{
	struct ptree_node	*n;

	if ((n = calloc(1, sizeof(*n) + depth)) == NULL)
		return NULL;
	if (depth > 0)
		memcpy(n->path, path, depth);
	n->depth = depth;
	t->nodes++;
	return n;
}

static void
node_free(struct ptree *t, struct ptree_node *n)
{
	free(n->child);
	free(n);
	t->nodes--;
}

/*
 * The index of n's child whose edge starts with b (*found), or where
 * such a child would go.
 */
static size_t
child_index(const struct ptree_node *n, uint8_t b, bool *found)
{
	size_t	lo = 0, hi = n->nchild, mid;
	uint8_t	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = n->child[mid]->path[n->depth];
		if (c == b) {
			*found = true;
			return mid;
		}
		if (c < b)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Where the tree points to n: the root pointer or a parent's slot. */
static struct ptree_node **
slot_of(struct ptree *t, struct ptree_node *n)
{
	struct ptree_node	*p = n->parent;
	bool			 found;

	if (p == NULL)
		return &t->root;
	return &p->child[child_index(p, n->path[p->depth], &found)];
}

/* What a descent counts: see ptree.steps. */
struct descent {
	uint64_t	steps;
	uint64_t	calls;
};

/*
 * Follow s[0..len) down from the root as far as it matches, calling fn
 * (unless NULL) on each value met on the way, and count the work in d.
 * Returns the node whose path is s, or NULL.
 */
static struct ptree_node *
descend(const struct ptree *t, const uint8_t *s, size_t len,
    ptree_visit_fn *fn, void *arg, struct descent *d)
{
	struct ptree_node	*n = t->root;
	size_t			 from = 0, i;
	bool			 found;

	while (n != NULL) {
		d->steps++;
		/* A path longer than s has no prefix of s below it either. */
		if (n->depth > len)
			return NULL;
		d->steps += n->depth - from;
		if (n->depth > from &&
		    memcmp(n->path + from, s + from, n->depth - from) != 0)
			return NULL;
		if (n->value != NULL && fn != NULL) {
			fn(n->value, n->path, n->depth, arg);
			d->calls++;
		}
		if (n->depth == len)
			return n;
		i = child_index(n, s[n->depth], &found);
		if (!found)
			return NULL;
		from = n->depth;
		n = n->child[i];
	}
	return NULL;
}

void *
ptree_find(const struct ptree *t, const void *key, size_t len)
{
	struct ptree_node	*n;
	struct descent		 d = { 0, 0 };

	n = descend(t, key, len, NULL, NULL, &d);
	return n != NULL ? n->value : NULL;
}

/* Put a new leaf for k[0..len) at index i of n's children. */
static int
add_leaf(struct ptree *t, struct ptree_node *n, size_t i, const uint8_t *k,
    size_t len, void *value)
{
	struct ptree_node	*leaf, **kids;

	if ((leaf = node_new(t, k, len)) == NULL)
		return -ENOMEM;
	kids = realloc(n->child, (n->nchild + 1) * sizeof(*kids));
	if (kids == NULL) {
		node_free(t, leaf);
		return -ENOMEM;
	}
	memmove(kids + i + 1, kids + i, (n->nchild - i) * sizeof(*kids));
	kids[i] = leaf;
	n->child = kids;
	n->nchild++;
	leaf->parent = n;
	leaf->value = value;
	return 0;
}

/*
 * k[0..len) parts from n's path at m, inside n's edge: put a node for
 * k[0..m) between n and its parent (at *slot), holding the value if k
 * ends there, else with a new leaf for k beside n.
 */
static int
split(struct ptree *t, struct ptree_node **slot, struct ptree_node *n,
    const uint8_t *k, size_t len, size_t m, void *value)
{
	struct ptree_node	*mid, *leaf = NULL;
	uint16_t		 nkids = m == len ? 1 : 2;

	if ((mid = node_new(t, k, m)) == NULL)
		return -ENOMEM;
	if ((mid->child = calloc(nkids, sizeof(*mid->child))) == NULL)
		goto fail;
	if (nkids == 2 && (leaf = node_new(t, k, len)) == NULL)
		goto fail;

	mid->parent = n->parent;
	mid->nchild = nkids;
	if (leaf == NULL) {
		mid->value = value;
		mid->child[0] = n;
	} else {
		leaf->parent = mid;
		leaf->value = value;
		/* They differ at m, so this orders them. */
		mid->child[k[m] < n->path[m] ? 0 : 1] = leaf;
		mid->child[k[m] < n->path[m] ? 1 : 0] = n;
	}
	n->parent = mid;
	*slot = mid;
	return 0;
fail:
	node_free(t, mid);
	return -ENOMEM;
}

int
ptree_insert(struct ptree *t, const void *key, size_t len, void *value)
{
	const uint8_t		*k = key;
	struct ptree_node	*n, **slot = &t->root;
	size_t			 from = 0, m, lim, i;
	bool			 found;
	int			 ret;

	if (value == NULL)
		return -EINVAL;
	while ((n = *slot) != NULL) {
		lim = n->depth < len ? n->depth : len;
		for (m = from; m < lim && n->path[m] == k[m]; m++)
			;
		if (m < n->depth) {
			ret = split(t, slot, n, k, len, m, value);
			goto out;
		}
		if (len == n->depth) {
			if (n->value != NULL)
				return -EEXIST;
			n->value = value;
			ret = 0;
			goto out;
		}
		i = child_index(n, k[n->depth], &found);
		if (!found) {
			ret = add_leaf(t, n, i, k, len, value);
			goto out;
		}
		from = n->depth;
		slot = &n->child[i];
	}
	/* The first key: a lone root. */
	if ((n = node_new(t, k, len)) == NULL)
		return -ENOMEM;
	n->value = value;
	t->root = n;
	ret = 0;
out:
	if (ret == 0)
		t->count++;
	return ret;
}

/* Take childless n out of its parent (or the tree) and free it. */
static void
unlink_leaf(struct ptree *t, struct ptree_node *n)
{
	struct ptree_node	*p = n->parent, **kids;
	bool			 found;
	size_t			 i;

	if (p == NULL) {
		t->root = NULL;
		node_free(t, n);
		return;
	}
	i = child_index(p, n->path[p->depth], &found);
	memmove(p->child + i, p->child + i + 1,
	    (p->nchild - i - 1) * sizeof(*p->child));
	if (--p->nchild == 0) {
		free(p->child);
		p->child = NULL;
	} else if ((kids = realloc(p->child,
	    p->nchild * sizeof(*kids))) != NULL)
		p->child = kids;	/* else the larger array serves */
	node_free(t, n);
}

/* n has no value and one child: let the child take its place. */
static void
fold(struct ptree *t, struct ptree_node *n)
{
	struct ptree_node	*c = n->child[0];

	*slot_of(t, n) = c;
	c->parent = n->parent;
	node_free(t, n);
}

void *
ptree_remove(struct ptree *t, const void *key, size_t len)
{
	struct ptree_node	*n, *p;
	void			*value;
	struct descent		 d = { 0, 0 };

	n = descend(t, key, len, NULL, NULL, &d);
	if (n == NULL || n->value == NULL)
		return NULL;
	value = n->value;
	n->value = NULL;
	t->count--;
	if (n->nchild == 0) {
		p = n->parent;
		unlink_leaf(t, n);
		n = p;
	}
	/*
	 * The node that lost its value, or the parent of the leaf that went,
	 * may now hold nothing and lead one way only. Its own parent keeps
	 * its number of children, so one fold is all it takes.
	 */
	if (n != NULL && n->value == NULL && n->nchild == 1)
		fold(t, n);
	return value;
}

uint64_t
ptree_prefixes(struct ptree *t, const void *s, size_t len,
    ptree_visit_fn *fn, void *arg)
{
	struct descent	d = { 0, 0 };

	(void)descend(t, s, len, fn, arg, &d);
	t->steps += d.steps;
	return d.calls;
}

void
ptree_free(struct ptree *t, ptree_visit_fn *fn, void *arg)
{
	struct ptree_node	*n = t->root, *p;

	/* Depth first, by popping children, so no stack is needed. */
	while (n != NULL) {
		if (n->nchild > 0) {
			n = n->child[--n->nchild];
			continue;
		}
		p = n->parent;
		if (n->value != NULL && fn != NULL)
			fn(n->value, n->path, n->depth, arg);
		node_free(t, n);
		n = p;
	}
	t->root = NULL;
	t->count = 0;
}
