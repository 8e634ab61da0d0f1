/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * kv.h: the key-value store, with expiry and the waiters of WAIT.
 *
 * Part of the hub: it knows clients by their hub handle, time through a
 * struct hub_clock, and answers nobody. A write that creates a key others
 * WAIT for only marks the key ready; the connection layer takes the woken
 * waiters off with kv_next_woken() after the call, and answers them.
 */

#ifndef IOMUXD_KV_H
#define IOMUXD_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub.h"
#include "wait.h"

struct proto_arg;
struct kv;
struct kv_wait;

/*
 * Create the (empty) store: data is accounted in data (max_memory), time
 * read from clock, whose arm() is asked for the next expiry (then call
 * kv_reap()). 0 or -ENOMEM. The clock is copied.
 */
int	kv_new(struct hub_data *data, const struct hub_clock *clock,
	    struct kv **);
/* Free everything; waiters still linked are taken off their queues. */
void	kv_free(struct kv *);
/*
 * The armed deadline came: reclaim the entries due, at most
 * KV_EXPIRE_BATCH of them (arming again at once if more are due, so the
 * loop serves clients between slices).
 */
void	kv_reap(struct kv *);

/*
 * The store, for cmd-kv.c and the unit tests. Keys and values are byte
 * strings (any bytes, NUL included); the caller has checked them against
 * key_max and value_max. "Now" is the clock's, and a key whose deadline
 * is <= now does not exist for any of these calls. Unless
 * said otherwise they return 0, -ENOENT for a missing key, or -ENOMEM
 * when malloc fails (nothing changed).
 */

/* A positive result: SET's NX, XX or expected-value condition failed. */
#define KV_E_CONFLICT		1

/* KEYS: table slots visited per key (limits: IOMUX_KEYS_LIMIT_*). */
#define KV_KEYS_SLOTS_PER_KEY	10
/* Keys reclaimed per expiry timer callback before yielding to the loop. */
#define KV_EXPIRE_BATCH		1000

/* Tell j each change made from now on (hub.h, struct hub_journal). */
void	kv_set_journal(struct kv *, const struct hub_journal *j);

/* What a key costs against max_memory (STATUS data_bytes). */
size_t	kv_entry_cost(size_t klen, size_t vlen);

/*
 * GET: *val points into the store, valid until the next call that
 * changes it. Allocates nothing. 0 or -ENOENT.
 */
int	kv_get(struct kv *, const void *key, size_t klen,
	    const uint8_t **val, size_t *vlen);

/*
 * SET (IOMUX_SET_* flags). ttl_ms > 0 sets an expiry; 0 removes one
 * unless IOMUX_SET_KEEPTTL (a ttl given wins over KEEPTTL). expected,
 * when not NULL and not absent, must equal the current value. Wakes the
 * key's waiters. Returns 0, KV_E_CONFLICT, -EINVAL (NX and XX together,
 * unknown flags), -EDQUOT when max_memory would be passed, or -ENOMEM;
 * on every non-zero return the store is unchanged.
 */
int	kv_set(struct kv *, const void *key, size_t klen, const void *val,
	    size_t vlen, uint64_t ttl_ms, uint32_t flags,
	    const struct proto_arg *expected);

/* DEL one key: 1 if it existed (and is now gone), else 0. */
int	kv_del(struct kv *, const void *key, size_t klen);
bool	kv_exists(struct kv *, const void *key, size_t klen);

/*
 * INCR by delta: a missing key counts as 0 (and is created without
 * expiry, waking its waiters); an existing key keeps its expiry. The
 * value must be a strict decimal int64: an optional '-', then one or more
 * digits and nothing else (leading zeros and "-0" are accepted, as the
 * grammar reads; the stored result is canonical, "007" + 1 = "8").
 * Returns 0 and *out, -EINVAL (not an integer: ETYPE), -ERANGE (the sum
 * overflows), -EDQUOT (max_memory) or -ENOMEM; the value is unchanged on
 * error.
 */
int	kv_incr(struct kv *, const void *key, size_t klen, int64_t delta,
	    int64_t *out);

/* TTL: remaining ms (> 0), or -1 without expiry. 0 or -ENOENT. */
int	kv_ttl(struct kv *, const void *key, size_t klen, int64_t *ms);
/* EXPIRE (ttl_ms > 0) and PERSIST: 0, -ENOENT or -ENOMEM. */
int	kv_expire(struct kv *, const void *key, size_t klen,
	    uint64_t ttl_ms);
int	kv_persist(struct kv *, const void *key, size_t klen);

/*
 * KEYS: up to 'limit' live keys starting with prefix, from 'cursor' (0 to
 * start), into out[0..*n), whose pointers are valid until the store
 * changes; the keys also fit in max_bytes, counting IOMUX_ARG_HDR_SIZE +
 * length per key. At most limit * KV_KEYS_SLOTS_PER_KEY table slots are
 * visited per call (a slot is one bucket, or during an incremental rehash
 * a bucket of the smaller table and the up to 4 it maps to in the larger).
 * Returns the next cursor, 0 when the walk is done.
 *
 * The cursor is a position in the space of bit-reversed key hashes: every
 * key whose reversed hash is below the cursor has been returned, which
 * does not depend on the table's size. So a key present for the whole
 * walk is returned exactly once, whatever resizes happen between calls
 * (the only exception: keys whose 64-bit keyed hashes are equal are
 * returned together, and with a limit smaller than such a group the
 * surplus is skipped; with SipHash that is a 2^-64 event per pair).
 */
struct kv_key {
	const uint8_t	*p;
	size_t		 len;
};
uint64_t	kv_keys(struct kv *, const void *prefix, size_t plen,
		    uint64_t cursor, size_t limit, size_t max_bytes,
		    struct kv_key *out, size_t *n);

/*
 * WAIT for a key that does not exist now, FIFO behind the key's earlier
 * waiters: kv_wait_get() finds or makes the key's record (NULL: no
 * memory), kv_wait_add() links w (w->c set); kv_wait_put() frees a record
 * nobody waits on (when the wait could not start after all). A waiter
 * leaves by kv_next_woken() or kv_wait_cancel() (its deadline, its
 * client's death); cancelling a waiter on no queue does nothing.
 */
struct kv_wait	*kv_wait_get(struct kv *, const void *key, size_t klen);
void		 kv_wait_add(struct kv_wait *, struct hub_waiter *w);
void		 kv_wait_put(struct kv_wait *);
void		 kv_wait_cancel(struct hub_waiter *w);
/*
 * The next waiter a write has woken (SET or INCR stored its key), taken
 * off its queue, with the key's value (valid until the store changes); in
 * FIFO order per key, keys in the order they became ready. NULL when
 * none is left.
 */
struct hub_waiter	*kv_next_woken(struct kv *, const uint8_t **val,
			    size_t *vlen);

/* Counters for STATUS and the tests. */
struct kv_stats {
	uint64_t	keys;		/* live keys */
	uint64_t	expiring;	/* live keys with a deadline */
	uint64_t	stored;		/* in memory, expired or not */
	uint64_t	waited_keys;	/* keys with blocked WAITs */
	uint64_t	bytes;		/* our part of data_bytes */
	uint64_t	expired;	/* reclaimed by the expiry timer */
	uint64_t	expire_runs;	/* expiry timer callbacks */
	uint64_t	expire_checks;	/* entries examined by them */
};
void	kv_stats_get(struct kv *, struct kv_stats *);

#endif /* IOMUXD_KV_H */
