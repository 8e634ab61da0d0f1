/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * pubsub.h: channels and prefix patterns, deliveries as PUSH frames.
 * The server-facing part; the handlers in cmd-pubsub.c use the rest.
 */

#ifndef IOMUXD_PUBSUB_H
#define IOMUXD_PUBSUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct reply;
struct server;
struct pubsub;

/* Create the (empty) state, at server start; 0 or -ENOMEM. */
int	pubsub_new(struct server *, struct pubsub **);
/* Free everything, at server exit (no waiters are left by then). */
void	pubsub_free(struct pubsub *);
/* Append this module's STATUS pairs (channels, patterns, subscribers). */
void	pubsub_status(struct server *, struct reply *);
/* A connection is closing: drop all its subscriptions. */
void	pubsub_conn_closed(struct server *, struct conn *);

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
 * PUBSUB_E_LIMIT (c would pass conf.subscriptions_max), -EINVAL (not a
 * pattern), -ENOTCONN (c is dead: it can subscribe to nothing any more)
 * or -ENOMEM; on anything but 0 nothing changed. c->subs is allocated on
 * the first subscription.
 */
int	pubsub_subscribe(struct pubsub *, struct conn *c, const void *name,
	    size_t len, bool pattern);
/*
 * Drop one subscription of c: 0 or PUBSUB_E_ABSENT. c->subs is freed with
 * the last subscription, and a channel or pattern with the last subscriber.
 */
int	pubsub_unsubscribe(struct pubsub *, struct conn *c, const void *name,
	    size_t len, bool pattern);
/* Drop all of c's channel subscriptions, or all of its patterns. */
void	pubsub_unsubscribe_all(struct pubsub *, struct conn *c, bool pattern);
/* c's subscriptions, channels and patterns together. */
uint64_t	pubsub_conn_count(const struct conn *c);

/*
 * Called once per matching subscription: exact ones with pattern NULL,
 * pattern ones with the pattern as subscribed ('*' included). The
 * callback may kill connections (and so drop subscriptions, this one's
 * included): the walk is not disturbed, and a subscription dropped before
 * its turn is skipped.
 */
typedef void	pubsub_match_fn(struct conn *, const uint8_t *pattern,
		    size_t plen, void *arg);
/*
 * Walk the subscriptions matching a channel: its exact subscribers first,
 * in subscription order, then the patterns from the shortest prefix up.
 * Connections marked dead are skipped. Returns the number of calls.
 */
uint64_t	pubsub_match(struct pubsub *, const void *channel, size_t len,
		    pubsub_match_fn *, void *arg);

/*
 * PUBLISH: queue one PUSH frame (IOMUX_PUSH_MESSAGE) per matching
 * subscription of every live connection not being closed. A subscriber
 * whose output limit the push would pass is killed (counted in
 * stats.subscribers_dropped and stats.clients_dropped); nobody else is
 * affected. The caller has checked the sizes: the push frame, pattern
 * included, must fit conf.frame_max (pubsub_push_size()). Returns the
 * number of frames queued. Call it before beginning the publisher's own
 * reply: a push to the publisher goes into the same output.
 */
uint64_t	pubsub_publish(struct pubsub *, const void *channel,
		    size_t clen, const void *msg, size_t mlen);
/* Body bytes of the largest push a PUBLISH of these sizes can cause. */
uint64_t	pubsub_push_size(size_t clen, size_t mlen);

struct pubsub_stats {
	uint64_t	channels;	/* with at least one subscriber */
	uint64_t	patterns;	/* distinct, with at least one */
	uint64_t	subscribers;	/* connections with a subscription */
	/*
	 * Work of all matches against the patterns so far, in tree nodes
	 * entered plus channel bytes compared: at most 2 * n + 1 for a
	 * channel of n bytes, however many patterns there are.
	 */
	uint64_t	match_steps;
};
/* The counts behind pubsub_status(); also for the unit tests. */
void	pubsub_stats(const struct pubsub *, struct pubsub_stats *);

#endif /* IOMUXD_PUBSUB_H */
