/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * pubsub.h: channels and prefix patterns, and the clients subscribed to
 * them. Part of the hub (hub.h): clients are struct hub_client handles,
 * and delivering a message is the caller's business (pubsub_match()).
 */

#ifndef IOMUXD_PUBSUB_H
#define IOMUXD_PUBSUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hub_client;
struct hub_limits;
struct pubsub;

/*
 * Create the (empty) state; limits (subscriptions_max) is read at each
 * subscription and must outlive the state. 0 or -ENOMEM.
 */
int	pubsub_new(const struct hub_limits *, struct pubsub **);
/* Free everything; subscriptions still held are dropped first. */
void	pubsub_free(struct pubsub *);
/*
 * A client is gone (marked HUB_CLIENT_F_GONE): drop all its
 * subscriptions. Never during pubsub_match(); calling it again does
 * nothing.
 */
void	pubsub_client_gone(struct pubsub *, struct hub_client *);

/* Positive results of pubsub_subscribe() and pubsub_unsubscribe(). */
#define PUBSUB_E_EXISTS	1	/* already subscribed: nothing changed */
#define PUBSUB_E_LIMIT	2	/* subscriptions_max reached: nothing changed */
#define PUBSUB_E_ABSENT	3	/* not subscribed: nothing changed */

/*
 * Is p[0..len) a pattern: a prefix (any bytes but '*', possibly none)
 * followed by one '*' at the end? 0 or -EINVAL.
 */
int	pubsub_pattern_check(const void *p, size_t len);

/*
 * Subscribe c to a channel, or (pattern) to a pattern as checked by
 * pubsub_pattern_check(). The name is copied. Returns 0, PUBSUB_E_EXISTS,
 * PUBSUB_E_LIMIT (c would pass subscriptions_max), -EINVAL (not a
 * pattern), -ENOTCONN (c is gone: it can subscribe to nothing any more)
 * or -ENOMEM; on anything but 0 nothing changed. c->subs is allocated on
 * the first subscription.
 */
int	pubsub_subscribe(struct pubsub *, struct hub_client *c,
	    const void *name, size_t len, bool pattern);
/*
 * Drop one subscription of c: 0 or PUBSUB_E_ABSENT. c->subs is freed with
 * the last subscription, and a channel or pattern with the last subscriber.
 */
int	pubsub_unsubscribe(struct pubsub *, struct hub_client *c,
	    const void *name, size_t len, bool pattern);
/* Drop all of c's channel subscriptions, or all of its patterns. */
void	pubsub_unsubscribe_all(struct pubsub *, struct hub_client *c,
	    bool pattern);
/* c's subscriptions, channels and patterns together. */
uint64_t	pubsub_client_count(const struct hub_client *c);

/*
 * Called once per matching subscription: exact ones with pattern NULL,
 * pattern ones with the pattern as subscribed ('*' included). The
 * callback may mark clients gone (a subscriber cut off): their later
 * subscriptions in this walk are skipped. It must not subscribe or
 * unsubscribe anyone: drop a gone client's subscriptions after the walk.
 */
typedef void	pubsub_match_fn(struct hub_client *, const uint8_t *pattern,
		    size_t plen, void *arg);
/*
 * Walk the subscriptions matching a channel: its exact subscribers first,
 * in subscription order, then the patterns from the shortest prefix up.
 * Clients marked gone are skipped. Returns the number of calls.
 */
uint64_t	pubsub_match(struct pubsub *, const void *channel, size_t len,
		    pubsub_match_fn *, void *arg);

/* Body bytes of the largest push a PUBLISH of these sizes can cause. */
uint64_t	pubsub_push_size(size_t clen, size_t mlen);

/*
 * How many subscriptions a channel matches now (live or not): what one
 * pubsub_match() would visit. O(channel length).
 */
uint64_t	pubsub_match_count(struct pubsub *, const void *channel,
		    size_t len);

/*
 * A fan-out in slices, for a channel whose subscribers are too many for
 * one loop turn. pubsub_cursor_new() takes the channel's matches as they
 * are now (0 or -ENOMEM); each pubsub_cursor_next() visits at most budget
 * more subscriptions, in pubsub_match()'s order, calling fn for the live
 * ones and counting them in *n, and returns true once all are visited.
 * Between calls subscriptions may come and go: one dropped is not
 * visited, one made after the cursor began is not either. Free it with
 * pubsub_cursor_free() (also before it is done).
 */
struct pubsub_cursor;
int	pubsub_cursor_new(struct pubsub *, const void *channel, size_t len,
	    struct pubsub_cursor **);
bool	pubsub_cursor_next(struct pubsub_cursor *, size_t budget,
	    pubsub_match_fn *, void *arg, uint64_t *n);
void	pubsub_cursor_free(struct pubsub_cursor *);

struct pubsub_stats {
	uint64_t	channels;	/* with at least one subscriber */
	uint64_t	patterns;	/* distinct, with at least one */
	uint64_t	subscribers;	/* clients with a subscription */
	/*
	 * Work of all matches against the patterns so far, in tree nodes
	 * entered plus channel bytes compared: at most 2 * n + 1 for a
	 * channel of n bytes, however many patterns there are.
	 */
	uint64_t	match_steps;
};
/* The counts behind STATUS (status.c); also for the unit tests. */
void	pubsub_stats(const struct pubsub *, struct pubsub_stats *);

#endif /* IOMUXD_PUBSUB_H */
