/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * hub.h: what the hub (daemon/hub/: the key-value store, queues, locks,
 * pub/sub, the waiter queues and the containers they are built of) knows
 * of the rest of the daemon: a small client handle, the limits that apply,
 * the data account and a clock. Nothing else.
 *
 * The hub decides and never answers: what a call hands to a waiter (a
 * value, an item, a lock) is marked, and the connection layer (serve.c)
 * answers it after the call has returned. So a hub call never runs
 * connection code and is never re-entered.
 *
 * The hub is built as its own library (libiomuxd-hub.la) that its unit
 * tests link without the connection layer, so the linker keeps the seam
 * honest: no hub file may include conn.h, dispatch.h or server.h, or name
 * struct conn, struct reply or struct server.
 *
 * A client handle is embedded in whatever the connection layer keeps per
 * client (struct conn) and outlives nothing it points to: the connection
 * layer marks it gone when the client dies (its state here is released
 * later, from the loop, never from inside a hub call), and releases it
 * before freeing it.
 */

#ifndef IOMUXD_HUB_H
#define IOMUXD_HUB_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct lock;
struct pubsub_client;

#define HUB_CLIENT_F_GONE	0x1	/* dead: skip it, change nothing */

struct hub_client {
	/*
	 * Everything the client makes the daemon hold is charged here:
	 * connection buffers by the connection layer, subscriptions by the
	 * hub. It rolls up into the server's account of all clients.
	 */
	struct buf_acct		 mem;
	unsigned int		 flags;
	struct pubsub_client	*subs;	/* NULL: no subscription */
	struct lock		*locks;	/* held, lock.c's list; or NULL */
};

static inline bool
hub_client_gone(const struct hub_client *hc)
{
	return (hc->flags & HUB_CLIENT_F_GONE) != 0;
}

/*
 * The hub's view of time, given by whoever runs it: now() in
 * milliseconds (monotonic, as of the current loop turn), and arm(when),
 * which asks to be called back (the module's reap function) at or after
 * 'when', HUB_NO_DEADLINE cancelling; 0, or -ENOMEM if it could not (the
 * module then asks again at its next change). arm() must not call into
 * the hub.
 */
#define HUB_NO_DEADLINE	UINT64_MAX

struct hub_clock {
	uint64_t	(*now)(void *arg);
	int		(*arm)(void *arg, uint64_t when);
	void		 *arg;
};

/*
 * A module's one deadline on its clock (the store's next expiry, the
 * locks' next lease end): the clock is asked again only when it changes,
 * or after it fired, or when asking failed.
 */
struct hub_alarm {
	struct hub_clock	 clock;
	uint64_t		 armed;	/* what the clock was asked for */
};

static inline void
hub_alarm_init(struct hub_alarm *a, const struct hub_clock *clock)
{
	a->clock = *clock;
	a->armed = HUB_NO_DEADLINE;
}

static inline uint64_t
hub_alarm_now(const struct hub_alarm *a)
{
	return a->clock.now(a->clock.arg);
}

/* Be called back at 'when' (HUB_NO_DEADLINE: not at all). */
static inline void
hub_alarm_set(struct hub_alarm *a, uint64_t when)
{
	if (when == a->armed)
		return;
	a->armed = when;
	if (a->clock.arm(a->clock.arg, when) < 0)
		a->armed = HUB_NO_DEADLINE;	/* ask again next time */
}

/* It fired: nothing is armed any more. */
static inline void
hub_alarm_fired(struct hub_alarm *a)
{
	a->armed = HUB_NO_DEADLINE;
}

/*
 * What an allocation of n bytes takes from the heap, for accounting that
 * must not under-count many small blocks: glibc's chunk is the request
 * plus an 8-byte header, rounded up to 16, and at least 32.
 */
static inline size_t
hub_alloc_cost(size_t n)
{
	size_t	chunk = (n + 8 + 15) & ~(size_t)15;

	return chunk < 32 ? 32 : chunk;
}

/*
 * Limits of the hub's data, set from the configuration at start and at
 * each reload; the modules read them through the pointer they are given,
 * so a reload applies to the next request.
 */
/*
 * What the hub changes, told as it changes it, for the state log
 * (iomuxd-state(5)): kind is the record's code (IOMUX_OP_SET, _DEL,
 * _EXPIRE, _PERSIST, _PUSH, _POP, or HUB_J_PUSHFRONT), name the key or
 * queue, args the rest of the record's arguments: SET value deadline,
 * EXPIRE deadline, PUSH values, PUSHFRONT value, none for the others. A
 * deadline is 8 bytes big-endian on the hub's clock (monotonic ms, 0:
 * none; the log turns it into wall time). Told only once the change is
 * made, never for one refused. Expiry is not told: a key's deadline is
 * in its SET or EXPIRE. emit NULL: nothing is told.
 */
#define HUB_J_PUSHFRONT	0x8001	/* an item back at the head (undone POP) */

struct proto_arg;

struct hub_journal {
	void	(*emit)(void *arg, uint16_t kind, const void *name,
		    size_t nlen, const struct proto_arg *args, int n);
	void	 *arg;
};

struct hub_limits {
	uint32_t	 key_max;
	uint32_t	 value_max;
	uint64_t	 max_memory;		/* 0: no limit */
	uint32_t	 subscriptions_max;	/* per client */
};

/*
 * The hub's data (keys, values, queue items, lock names), counted
 * against limits->max_memory (STATUS data_bytes). Shared by the modules
 * that store data.
 */
struct hub_data {
	uint64_t		 bytes;
	const struct hub_limits	*limits;
};

/*
 * Account n more bytes: 0, or -ENOMEM if that would pass max_memory (0:
 * no limit), in which case nothing is accounted and the caller must not
 * store.
 */
static inline int
hub_data_reserve(struct hub_data *d, uint64_t n)
{
	uint64_t	max = d->limits->max_memory;

	/* Nothing more is always room: over the limit (a forced undo), too. */
	if (n != 0 && max != 0 && (n > max || d->bytes > max - n))
		return -ENOMEM;
	d->bytes += n;
	return 0;
}

static inline void
hub_data_release(struct hub_data *d, uint64_t n)
{
	d->bytes -= n;
}

/*
 * Account n bytes that must be kept even past max_memory (an item whose
 * reply was never sent goes back: losing it would be worse than a
 * bounded overshoot).
 */
static inline void
hub_data_force(struct hub_data *d, uint64_t n)
{
	d->bytes += n;
}

#endif /* IOMUXD_HUB_H */
