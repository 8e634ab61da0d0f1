/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * kv.c: the key-value store: entries, expiry, WAIT's waiters.
 *
 * An entry is one allocation: header, key bytes, then value bytes, with a
 * little slack (vcap) so that a value rewritten at about the same size
 * (counters, status blobs) is updated in place. An entry costs
 * kv_entry_cost() against max_memory, accounted before anything changes,
 * so a refused write leaves the store exactly as it was.
 *
 * Expiry is exact and timely:
 * - exact: every lookup compares the deadline with the clock, so a key
 *   past its deadline is absent everywhere even before it is reclaimed
 *   (lookups that may change the table reclaim it on the spot);
 * - timely: the entries with a deadline sit in a binary min-heap of our
 *   own (each entry knows its slot, so EXPIRE, PERSIST and DEL are
 *   O(log n)), and the clock is asked for ONE callback (kv_reap()) at
 *   the heap's top deadline. It reclaims due entries from the top, at
 *   most KV_EXPIRE_BATCH of them, then asks again at once, so a million
 *   keys expiring together are reclaimed in slices between which the
 *   loop serves clients; memory is never scanned. Per-entry timers would
 *   have been simpler, but the loop fires every due timer in one pass (it
 *   cannot bound a mass expiry), puts them in the heap it shares with
 *   connection deadlines, and costs 32 bytes in every entry; our heap
 *   costs 16 bytes per entry with a deadline and 8 without.
 * Invariant: e->exp.key != 0 iff e->exp is queued, and when the
 * heap is not empty the clock is armed no later than the top's deadline.
 *
 * WAIT: waiters hang off a kv_wait record per waited-on key, in a table of
 * their own (a key waited on does not exist yet). A write that stores the
 * key puts its record on the ready list, and answers nobody: the caller
 * takes the waiters off with kv_next_woken() once the write has returned,
 * each with the value as it is then (Redis's ready_keys). A record is
 * freed with its last waiter, and leaves the ready list then.
 */

#include <sys/types.h>

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "heap.h"
#include "htab.h"
#include "iomux-proto.h"
#include "kv.h"

#define KV_HEAP_MIN	64
#define KV_TABLE_INIT	64

struct kv_entry {
	struct htab_entry	 he;	/* he.key = data */
	struct heap_node	 exp;	/* key: the clock's ms; 0 = never */
	uint32_t		 vlen;
	uint32_t		 vcap;
	uint8_t			 data[];	/* key, then value */
};

struct kv_wait {
	struct htab_entry	 he;
	struct kv		*kv;
	struct hub_waitq	 waiters;
	TAILQ_ENTRY(kv_wait)	 rlink;		/* on kv->ready */
	bool			 ready;
	uint8_t			 key[];
};

struct kv {
	struct hub_data		*data;
	struct hub_alarm	 alarm;		/* the heap's top deadline */
	struct htab		 keys;
	struct htab		 waits;
	TAILQ_HEAD(, kv_wait)	 ready;		/* keys written, waiters */
	struct heap		 expiry;	/* entries with a deadline */
	bool			 expiring;	/* in kv_reap() */
	struct hub_journal	 journal;	/* told each change */
	uint64_t		 data_bytes;	/* ours, of data's */
	uint64_t		 expired, expire_runs, expire_checks;
};

static inline const uint8_t *
entry_val(const struct kv_entry *e)
{
	return e->data + e->he.klen;
}

size_t
kv_entry_cost(size_t klen, size_t vlen)
{
	/* The header, its bucket slot and its heap slot, approximately. */
	return klen + vlen + sizeof(struct kv_entry) + 2 * sizeof(void *);
}

static inline uint64_t
now_ms(const struct kv *kv)
{
	return hub_alarm_now(&kv->alarm);
}

static inline bool
expired(const struct kv_entry *e, uint64_t now)
{
	return e->exp.key != 0 && e->exp.key <= now;
}

/* --- deadlines ------------------------------------------------------------ */

/* Arm the clock for the heap's top deadline (not inside kv_reap()). */
static void
arm(struct kv *kv)
{
	uint64_t	when;

	if (kv->expiring)
		return;
	when = heap_top(&kv->expiry) != NULL ? heap_top(&kv->expiry)->key :
	    HUB_NO_DEADLINE;
	hub_alarm_set(&kv->alarm, when);
}

/* Give e the deadline 'when' (0: none); heap room reserved if needed. */
static void
set_deadline(struct kv *kv, struct kv_entry *e, uint64_t when)
{
	if (when == 0) {
		if (heap_node_queued(&e->exp))
			heap_remove(&kv->expiry, &e->exp);
		e->exp.key = 0;
	} else if (!heap_node_queued(&e->exp)) {
		e->exp.key = when;
		heap_push(&kv->expiry, &e->exp);
	} else
		heap_rekey(&kv->expiry, &e->exp, when);
	arm(kv);
}

/* now + ttl, kept below INT64_MAX so that TTL fits an i64. */
static uint64_t
deadline(const struct kv *kv, uint64_t ttl_ms)
{
	uint64_t	now = now_ms(kv);

	if (ttl_ms >= (uint64_t)INT64_MAX - now)
		return (uint64_t)INT64_MAX;
	return now + ttl_ms;
}

/* --- entries -------------------------------------------------------------- */

static void
entry_free(struct kv *kv, struct kv_entry *e)
{
	size_t	cost = kv_entry_cost(e->he.klen, e->vlen);

	hub_data_release(kv->data, cost);
	kv->data_bytes -= cost;
	free(e);
}

/* Remove e from the store and free it; the caller re-arms the timer. */
static void
entry_delete(struct kv *kv, struct kv_entry *e)
{
	htab_remove(&kv->keys, &e->he);
	if (heap_node_queued(&e->exp))
		heap_remove(&kv->expiry, &e->exp);
	entry_free(kv, e);
}

/* The live entry of a key, or NULL; reclaims an expired one on the way. */
static struct kv_entry *
lookup(struct kv *kv, const void *key, size_t klen)
{
	struct htab_entry	*he = htab_find(&kv->keys, key, klen);
	struct kv_entry		*e;

	if (he == NULL)
		return NULL;
	e = container_of(he, struct kv_entry, he);
	if (expired(e, now_ms(kv))) {
		entry_delete(kv, e);
		arm(kv);
		return NULL;
	}
	return e;
}

static uint32_t
vcap_for(size_t vlen)
{
	/* A little room for values that change size a bit (counters). */
	return (uint32_t)((vlen + 8) & ~(size_t)7);
}

/*
 * Store val under key: e is the live entry (NULL for a new key) and
 * *out the entry afterwards (moved if it had to grow). The deadline is
 * left as it was (none for a new key). 0, -EDQUOT or -ENOMEM, unchanged.
 */
static int
store(struct kv *kv, struct kv_entry *e, const void *key, size_t klen,
    const void *val, size_t vlen, struct kv_entry **out)
{
	struct kv_entry	*ne;
	size_t		 cost = kv_entry_cost(klen, vlen);
	size_t		 old = e ? kv_entry_cost(klen, e->vlen) : 0;
	uint32_t	 vcap;

	if (vlen > UINT32_MAX - 8 || klen > UINT32_MAX)
		return -EDQUOT;
	if (cost > old && hub_data_reserve(kv->data, cost - old) < 0)
		return -EDQUOT;

	if (e != NULL && vlen <= e->vcap && e->vcap - vlen <= e->vcap / 2 + 8) {
		if (vlen > 0)
			memcpy(e->data + klen, val, vlen);
		e->vlen = (uint32_t)vlen;
		ne = e;
	} else {
		vcap = vcap_for(vlen);
		if ((ne = malloc(sizeof(*ne) + klen + vcap)) == NULL) {
			if (cost > old)
				hub_data_release(kv->data, cost - old);
			return -ENOMEM;
		}
		if (klen > 0)
			memcpy(ne->data, key, klen);
		if (vlen > 0)
			memcpy(ne->data + klen, val, vlen);
		ne->vlen = (uint32_t)vlen;
		ne->vcap = vcap;
		ne->he.key = ne->data;
		ne->he.klen = (uint32_t)klen;
		heap_node_init(&ne->exp);
		if (e != NULL && heap_node_queued(&e->exp))
			/* Take over the old entry's place and deadline. */
			heap_replace(&kv->expiry, &e->exp, &ne->exp);
		if (e != NULL) {
			htab_remove(&kv->keys, &e->he);
			free(e);
		}
		htab_insert(&kv->keys, &ne->he);
	}
	if (cost < old)
		hub_data_release(kv->data, old - cost);
	kv->data_bytes += cost;
	kv->data_bytes -= old;
	*out = ne;
	return 0;
}

/* --- WAIT ----------------------------------------------------------------- */

void
kv_wait_put(struct kv_wait *wk)
{
	if (!hub_waitq_empty(&wk->waiters))
		return;
	if (wk->ready)
		TAILQ_REMOVE(&wk->kv->ready, wk, rlink);
	htab_remove(&wk->kv->waits, &wk->he);
	free(wk);
}

void
kv_wait_cancel(struct hub_waiter *w)
{
	struct kv_wait	*wk;

	if (w->q == NULL)
		return;	/* woken, or cancelled already */
	wk = container_of(w->q, struct kv_wait, waiters);
	hub_waitq_remove(w);
	kv_wait_put(wk);
}

/* The key was just stored as e: its waiters are ready to be answered. */
static void
wake(struct kv *kv, const struct kv_entry *e)
{
	struct htab_entry	*he;
	struct kv_wait		*wk;

	if (kv->waits.count == 0)
		return;
	if ((he = htab_find(&kv->waits, e->data, e->he.klen)) == NULL)
		return;
	wk = container_of(he, struct kv_wait, he);
	if (!wk->ready) {
		wk->ready = true;
		TAILQ_INSERT_TAIL(&kv->ready, wk, rlink);
	}
}

struct hub_waiter *
kv_next_woken(struct kv *kv, const uint8_t **val, size_t *vlen)
{
	struct kv_wait		*wk;
	struct kv_entry		*e;
	struct hub_waiter	*w;

	while ((wk = TAILQ_FIRST(&kv->ready)) != NULL) {
		/* As it is now: a later write in the same call wins. */
		e = lookup(kv, wk->key, wk->he.klen);
		while (e != NULL &&
		    (w = hub_waitq_pop(&wk->waiters)) != NULL) {
			if (!hub_waiter_live(w))
				continue;	/* its connection cancels it */
			*val = entry_val(e);
			*vlen = e->vlen;
			kv_wait_put(wk);	/* with its last waiter */
			return w;
		}
		wk->ready = false;
		TAILQ_REMOVE(&kv->ready, wk, rlink);
		kv_wait_put(wk);
	}
	return NULL;
}

struct kv_wait *
kv_wait_get(struct kv *kv, const void *key, size_t klen)
{
	struct htab_entry	*he;
	struct kv_wait		*wk;

	if ((he = htab_find(&kv->waits, key, klen)) != NULL)
		return container_of(he, struct kv_wait, he);
	if ((wk = malloc(sizeof(*wk) + klen)) == NULL)
		return NULL;
	if (klen > 0)
		memcpy(wk->key, key, klen);
	wk->he.key = wk->key;
	wk->he.klen = (uint32_t)klen;
	wk->kv = kv;
	wk->ready = false;
	hub_waitq_init(&wk->waiters);
	htab_insert(&kv->waits, &wk->he);
	return wk;
}

void
kv_wait_add(struct kv_wait *wk, struct hub_waiter *w)
{
	hub_waitq_push(&wk->waiters, w);
}

/* --- expiry --------------------------------------------------------------- */

void
kv_reap(struct kv *kv)
{
	struct heap_node	*top;
	struct kv_entry		*e;
	uint64_t		 now = now_ms(kv);
	size_t			 n = 0;

	hub_alarm_fired(&kv->alarm);
	kv->expire_runs++;
	kv->expiring = true;
	while ((top = heap_top(&kv->expiry)) != NULL) {
		e = container_of(top, struct kv_entry, exp);
		if (e->exp.key > now)
			break;
		if (n == KV_EXPIRE_BATCH) {
			/* Let the loop serve clients; go on next pass. */
			kv->expiring = false;
			hub_alarm_set(&kv->alarm, now);
			return;
		}
		kv->expire_checks++;
		entry_delete(kv, e);
		kv->expired++;
		n++;
	}
	if (heap_top(&kv->expiry) != NULL)
		kv->expire_checks++;	/* the top that is not due */
	kv->expiring = false;
	arm(kv);
}

/* --- the store API -------------------------------------------------------- */

int
kv_new(struct hub_data *data, const struct hub_clock *clock, struct kv **out)
{
	struct kv	*kv;

	if ((kv = calloc(1, sizeof(*kv))) == NULL)
		return -ENOMEM;
	kv->data = data;
	hub_alarm_init(&kv->alarm, clock);
	TAILQ_INIT(&kv->ready);
	heap_init(&kv->expiry, KV_HEAP_MIN);
	if (htab_init(&kv->keys, KV_TABLE_INIT) < 0)
		goto fail;
	if (htab_init(&kv->waits, 8) < 0) {
		htab_free(&kv->keys);
		goto fail;
	}
	*out = kv;
	return 0;
fail:
	free(kv);
	return -ENOMEM;
}

/* htab_drain() visitors: the table has already let go of the entry. */
static void
drain_entry(struct htab_entry *he, void *arg)
{
	entry_free(arg, container_of(he, struct kv_entry, he));
}

static void
drain_wait(struct htab_entry *he, void *arg)
{
	struct kv_wait	*wk = container_of(he, struct kv_wait, he);

	(void)arg;
	/* A waiter still linked would point at freed memory. */
	while (hub_waitq_pop(&wk->waiters) != NULL)
		continue;
	free(wk);
}

void
kv_free(struct kv *kv)
{
	if (kv == NULL)
		return;
	/* The heap points into the entries: let go of it first. */
	heap_free(&kv->expiry);
	htab_drain(&kv->keys, drain_entry, kv);
	htab_drain(&kv->waits, drain_wait, NULL);
	htab_free(&kv->keys);
	htab_free(&kv->waits);
	free(kv);
}

int
kv_get(struct kv *kv, const void *key, size_t klen, const uint8_t **val,
    size_t *vlen)
{
	struct kv_entry	*e = lookup(kv, key, klen);

	if (e == NULL)
		return -ENOENT;
	*val = entry_val(e);
	*vlen = e->vlen;
	return 0;
}

void
kv_set_journal(struct kv *kv, const struct hub_journal *j)
{
	kv->journal = *j;
}

/* Tell the journal: kind, the entry's key, then what the kind has. */
static void
tell(struct kv *kv, uint16_t kind, const struct kv_entry *e, bool value,
    bool when)
{
	struct proto_arg	a[2];
	uint8_t			be[8];
	uint64_t		v;
	int			n = 0, i;

	if (kv->journal.emit == NULL)
		return;
	memset(a, 0, sizeof(a));
	if (value) {
		a[n].p = entry_val(e);
		a[n++].len = e->vlen;
	}
	if (when) {
		for (v = e->exp.key, i = 7; i >= 0; i--, v >>= 8)
			be[i] = (uint8_t)v;
		a[n].p = be;
		a[n++].len = sizeof(be);
	}
	kv->journal.emit(kv->journal.arg, kind, e->data, e->he.klen, a, n);
}

int
kv_set(struct kv *kv, const void *key, size_t klen, const void *val,
    size_t vlen, uint64_t ttl_ms, uint32_t flags,
    const struct proto_arg *expected)
{
	struct kv_entry	*e;
	uint64_t	 when;
	int		 ret;

	if ((flags & ~(uint32_t)(IOMUX_SET_NX | IOMUX_SET_XX |
	    IOMUX_SET_KEEPTTL)) != 0 ||
	    (flags & (IOMUX_SET_NX | IOMUX_SET_XX)) ==
	    (IOMUX_SET_NX | IOMUX_SET_XX))
		return -EINVAL;
	e = lookup(kv, key, klen);
	if ((flags & IOMUX_SET_NX) && e != NULL)
		return KV_E_CONFLICT;
	if ((flags & IOMUX_SET_XX) && e == NULL)
		return KV_E_CONFLICT;
	if (expected != NULL && !expected->absent &&
	    (e == NULL || e->vlen != expected->len || (e->vlen > 0 &&
	    memcmp(entry_val(e), expected->p, e->vlen) != 0)))
		return KV_E_CONFLICT;

	if (ttl_ms > 0)
		when = deadline(kv, ttl_ms);
	else if ((flags & IOMUX_SET_KEEPTTL) && e != NULL)
		when = e->exp.key;
	else
		when = 0;
	if (when != 0 && (e == NULL || e->exp.key == 0) &&
	    heap_reserve(&kv->expiry, 1) < 0)
		return -ENOMEM;
	if ((ret = store(kv, e, key, klen, val, vlen, &e)) < 0)
		return ret;
	set_deadline(kv, e, when);
	tell(kv, IOMUX_OP_SET, e, true, true);
	wake(kv, e);
	return 0;
}

int
kv_del(struct kv *kv, const void *key, size_t klen)
{
	struct kv_entry	*e = lookup(kv, key, klen);

	if (e == NULL)
		return 0;
	tell(kv, IOMUX_OP_DEL, e, false, false);
	entry_delete(kv, e);
	arm(kv);
	return 1;
}

bool
kv_exists(struct kv *kv, const void *key, size_t klen)
{
	return lookup(kv, key, klen) != NULL;
}

/* The strict decimal int64 of INCR; 0 or -EINVAL. */
static int
parse_i64(const uint8_t *p, size_t len, int64_t *out)
{
	bool	 neg = false;
	int64_t	 v = 0;
	size_t	 i = 0;
	int	 d;

	if (len > 0 && p[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == len)
		return -EINVAL;
	/* Accumulate negatively: INT64_MIN has no positive twin. */
	for (; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		d = p[i] - '0';
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_sub_overflow(v, d, &v))
			return -EINVAL;
	}
	if (!neg) {
		if (v == INT64_MIN)
			return -EINVAL;
		v = -v;
	}
	*out = v;
	return 0;
}

int
kv_incr(struct kv *kv, const void *key, size_t klen, int64_t delta,
    int64_t *out)
{
	struct kv_entry	*e = lookup(kv, key, klen);
	char		 num[24];
	int64_t		 v = 0;
	int		 len, ret;

	if (e != NULL && parse_i64(entry_val(e), e->vlen, &v) < 0)
		return -EINVAL;
	if (__builtin_add_overflow(v, delta, &v))
		return -ERANGE;
	len = snprintf(num, sizeof(num), "%" PRId64, v);
	if ((ret = store(kv, e, key, klen, num, (size_t)len, &e)) < 0)
		return ret;
	/* Told as the SET of its result: replaying it needs no arithmetic. */
	tell(kv, IOMUX_OP_SET, e, true, true);
	wake(kv, e);
	*out = v;
	return 0;
}

int
kv_ttl(struct kv *kv, const void *key, size_t klen, int64_t *ms)
{
	struct kv_entry	*e = lookup(kv, key, klen);

	if (e == NULL)
		return -ENOENT;
	*ms = e->exp.key == 0 ? -1 : (int64_t)(e->exp.key - now_ms(kv));
	return 0;
}

int
kv_expire(struct kv *kv, const void *key, size_t klen, uint64_t ttl_ms)
{
	struct kv_entry	*e = lookup(kv, key, klen);

	if (e == NULL)
		return -ENOENT;
	if (ttl_ms == 0)
		return -EINVAL;
	if (e->exp.key == 0 && heap_reserve(&kv->expiry, 1) < 0)
		return -ENOMEM;
	set_deadline(kv, e, deadline(kv, ttl_ms));
	tell(kv, IOMUX_OP_EXPIRE, e, false, true);
	return 0;
}

int
kv_persist(struct kv *kv, const void *key, size_t klen)
{
	struct kv_entry	*e = lookup(kv, key, klen);

	if (e == NULL)
		return -ENOENT;
	set_deadline(kv, e, 0);
	tell(kv, IOMUX_OP_PERSIST, e, false, false);
	return 0;
}

/* --- KEYS ----------------------------------------------------------------- */

enum keys_mode {
	KEYS_COUNT,	/* count the candidates; find the least position */
	KEYS_ALL,	/* emit every candidate */
	KEYS_EQ		/* emit the candidates at position 'least' */
};

struct keys_ctx {
	const uint8_t	*prefix;
	size_t		 plen;
	uint64_t	 now;
	uint64_t	 from;	/* candidates: reversed hash >= from */
	enum keys_mode	 mode;
	size_t		 count, bytes;	/* all the candidates */
	uint64_t	 least;		/* least position among them */
	size_t		 lcount, lbytes;	/* the candidates there */
	struct kv_key	*out;
	size_t		 n, cap;	/* emitted, at most cap */
	size_t		 outbytes, maxbytes;
};

static void
keys_visit(struct htab_entry *he, void *arg)
{
	struct keys_ctx	*k = arg;
	struct kv_entry	*e = container_of(he, struct kv_entry, he);
	uint64_t	 pos = htab_rev64(he->hash);
	size_t		 b = IOMUX_ARG_HDR_SIZE + he->klen;

	if (pos < k->from || he->klen < k->plen || expired(e, k->now) ||
	    (k->plen > 0 && memcmp(e->data, k->prefix, k->plen) != 0))
		return;
	switch (k->mode) {
	case KEYS_COUNT:
		if (k->count == 0 || pos < k->least) {
			k->least = pos;
			k->lcount = k->lbytes = 0;
		}
		if (pos == k->least) {
			k->lcount++;
			k->lbytes += b;
		}
		k->count++;
		k->bytes += b;
		return;
	case KEYS_EQ:
		if (pos != k->least)
			return;
		break;
	case KEYS_ALL:
		break;
	}
	if (k->n < k->cap && b <= k->maxbytes - k->outbytes) {
		k->out[k->n].p = e->data;
		k->out[k->n].len = he->klen;
		k->n++;
		k->outbytes += b;
	}
}

/* Would n more keys of b bytes fit in the reply? */
static inline bool
keys_fit(const struct keys_ctx *k, size_t n, size_t b)
{
	return n <= k->cap - k->n && b <= k->maxbytes - k->outbytes;
}

/* One counting pass over the bucket of 'cursor'; the next bucket's cursor. */
static uint64_t
keys_count(struct kv *kv, struct keys_ctx *k, uint64_t cursor)
{
	k->from = cursor;
	k->mode = KEYS_COUNT;
	k->count = k->bytes = 0;
	return htab_scan(&kv->keys, htab_rev64(cursor), 1, keys_visit, k);
}

static void
keys_emit(struct kv *kv, struct keys_ctx *k, uint64_t cursor,
    enum keys_mode mode)
{
	k->from = cursor;
	k->mode = mode;
	(void)htab_scan(&kv->keys, htab_rev64(cursor), 1, keys_visit, k);
}

/*
 * The walk goes bucket by bucket in the table's reverse-binary order,
 * which is the order of bit-reversed hashes at bucket granularity: the
 * bucket of position p is htab_rev64(p) & mask, and htab_scan() on it returns
 * the cursor of the next bucket, whose reversed value is the first
 * position past this bucket. A bucket whose candidates all fit is taken
 * whole; otherwise its candidates are taken in position order, one
 * position at a time, and the cursor stops right after the last taken.
 * Each bucket visited is counted against the budget once; its chain is
 * walked twice, or twice per position taken from a bucket taken in part.
 */
uint64_t
kv_keys(struct kv *kv, const void *prefix, size_t plen, uint64_t cursor,
    size_t limit, size_t max_bytes, struct kv_key *out, size_t *n)
{
	struct keys_ctx	 k;
	uint64_t	 end, slots, budget;

	memset(&k, 0, sizeof(k));
	k.prefix = prefix;
	k.plen = plen;
	k.now = now_ms(kv);
	k.out = out;
	k.cap = limit;
	k.maxbytes = max_bytes;
	budget = (uint64_t)limit * KV_KEYS_SLOTS_PER_KEY;
	*n = 0;

	for (slots = 0; slots < budget && k.n < limit; slots++) {
		/* end: the first position past this bucket (0: last one). */
		end = htab_rev64(keys_count(kv, &k, cursor));
		if (keys_fit(&k, k.count, k.bytes)) {
			if (k.count > 0)
				keys_emit(kv, &k, cursor, KEYS_ALL);
			cursor = end;
			if (cursor == 0)
				break;		/* the walk is complete */
			continue;
		}
		/* Part of this bucket, one position at a time. */
		while (k.count > 0) {
			if (!keys_fit(&k, k.lcount, k.lbytes) && k.n > 0)
				goto out;
			/*
			 * Either it fits, or keys with one same 64-bit hash
			 * outnumber the limit: take what fits, skip the rest.
			 */
			keys_emit(kv, &k, k.least, KEYS_EQ);
			cursor = k.least + 1;
			if (cursor == end)
				break;
			if (k.n == limit)
				goto out;
			(void)keys_count(kv, &k, cursor);
		}
		cursor = end;
		if (cursor == 0)
			break;
	}
out:
	*n = k.n;
	return cursor;
}

/* --- STATUS --------------------------------------------------------------- */

/*
 * Entries past their deadline not reclaimed yet: they are exactly the
 * heap's top part, so the walk prunes at the first live deadline and costs
 * O(expired), not O(keys).
 */
static uint64_t
count_due(const struct kv *kv, size_t i, uint64_t now)
{
	if (i >= kv->expiry.len || kv->expiry.v[i]->key > now)
		return 0;
	return 1 + count_due(kv, 2 * i + 1, now) +
	    count_due(kv, 2 * i + 2, now);
}

void
kv_stats_get(struct kv *kv, struct kv_stats *st)
{
	uint64_t	due = count_due(kv, 0, now_ms(kv));

	st->stored = kv->keys.count;
	st->keys = kv->keys.count - due;
	st->expiring = kv->expiry.len - due;
	st->waited_keys = kv->waits.count;
	st->bytes = kv->data_bytes;
	st->expired = kv->expired;
	st->expire_runs = kv->expire_runs;
	st->expire_checks = kv->expire_checks;
}
