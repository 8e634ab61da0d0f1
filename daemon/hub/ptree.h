/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * ptree.h: a compressed radix tree of binary-safe keys, each mapped to
 * a caller's pointer, for the question a hash table answers badly: which
 * of the stored keys are prefixes of this string? ptree_prefixes()
 * answers it in one pass over the string, shortest key first, however
 * many keys are stored and however long they are.
 *
 * The tree owns its nodes (and the copies of key bytes in them); the
 * values are the caller's. A node exists only where a key ends or where
 * two keys part, so there are at most 2 * count - 1 of them, and an empty
 * tree owns nothing. The tree knows nothing of what its values are.
 */

#ifndef IOMUXD_PTREE_H
#define IOMUXD_PTREE_H

#include <stddef.h>
#include <stdint.h>

struct ptree_node;

struct ptree {
	struct ptree_node	*root;	/* NULL when empty */
	size_t			 count;	/* keys */
	size_t			 nodes;	/* at most 2 * count - 1 */
	/*
	 * Work done by ptree_prefixes(), so that tests can bound it: nodes
	 * entered plus key bytes compared, at most 2 * len + 1 per call.
	 */
	uint64_t		 steps;
};

/* An empty tree. It allocates nothing until the first insert. */
void	ptree_init(struct ptree *);

/*
 * The most memory one key of len bytes makes a tree hold: the nodes it
 * can add (its own and a split one), each a copy of its path, with their
 * slots in their parents' child arrays. For memory accounting.
 */
size_t	ptree_key_cost(size_t len);

/*
 * Map key[0..len) to value, which must not be NULL; len may be 0 (the
 * empty key, a prefix of everything). The key bytes are copied, the value
 * is not. Returns 0, -EEXIST (the key is there: its value is kept),
 * -EINVAL (value is NULL) or -ENOMEM; on anything but 0 nothing changed.
 */
int	ptree_insert(struct ptree *, const void *key, size_t len, void *value);
/* The value of key[0..len), or NULL. */
void	*ptree_find(const struct ptree *, const void *key, size_t len);
/*
 * Take key[0..len) out: its value, or NULL if it was not there. Frees the
 * nodes that no longer lead to a key. It allocates nothing and so cannot
 * fail.
 */
void	*ptree_remove(struct ptree *, const void *key, size_t len);

/*
 * Called with a value and its key (the tree's copy: valid for the call
 * only).
 */
typedef void	ptree_visit_fn(void *value, const uint8_t *key, size_t klen,
		    void *arg);
/*
 * Call fn on every key that is a prefix of s[0..len), the empty key and
 * s itself included, in increasing length. Returns the number of calls.
 * fn must not insert or remove keys (the walk holds a node). Adds its
 * work to 'steps'.
 */
uint64_t	ptree_prefixes(struct ptree *, const void *s, size_t len,
		    ptree_visit_fn *fn, void *arg);

/*
 * Take every key out, calling fn (unless NULL) on each value, in no
 * particular order; fn may free the value but must not use the tree. The
 * tree is left empty and usable.
 */
void	ptree_free(struct ptree *, ptree_visit_fn *fn, void *arg);

#endif /* IOMUXD_PTREE_H */
