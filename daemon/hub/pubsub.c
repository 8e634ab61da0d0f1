/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * pubsub.c: channels, prefix patterns and their subscribers.
 *
 * A subscription (struct sub) joins a topic and a client (struct
 * hub_client, the handle the connection layer embeds per client) and sits
 * in two lists: the topic's subscribers, walked by PUBLISH, and the
 * client's subscriptions, walked when it unsubscribes from everything or
 * goes away. A client also has a small hash table of its subscriptions
 * keyed by the topic's address, so (UN)SUBSCRIBE costs O(1) however many
 * subscriptions the client or the topic has. A client without
 * subscriptions has no state here (c->subs is NULL). This module knows
 * nothing of connections, replies or the server: delivering a message is
 * the caller's callback.
 *
 * Topics: channels in a hash table keyed by name, patterns in a radix
 * tree (ptree.c) keyed by their prefix (the pattern without its '*'). A
 * topic lives while it has subscribers. Matching a channel of length n
 * is one hash of the channel for its exact subscribers and one walk of
 * its bytes down the tree, which meets the patterns that are prefixes of
 * it in order, shortest first: O(n) work however many patterns there are
 * and however their prefix lengths spread. Probing a hash table once per
 * prefix length that some pattern has would hash up to n prefixes of up
 * to n bytes each instead: with patterns at every length, which any
 * client can subscribe, ~n^2/2 bytes for one PUBLISH, while every other
 * client waits. A pattern costs its topic, at most two tree nodes and
 * copies of its prefix in them; the tree frees them with the topic.
 *
 * Walking needs no guard: delivering a message may kill a subscriber
 * (output limit), but a kill only marks its client gone; its
 * subscriptions are dropped later (pubsub_client_gone(), from the
 * connection's release in the loop). The walk skips gone clients.
 * Nothing subscribes or unsubscribes during a walk either (that takes a
 * request of the subscriber's own, read in its own turn), so the lists
 * and the tree hold still while they are walked; a debug build asserts
 * it.
 *
 * Subscriptions are client state, bounded per client by
 * subscriptions_max and freed with it, like output buffers: they are not
 * stored data and do not count towards max_memory, but they do count as
 * the client's memory (client_memory_max), each with its record and
 * the name it keeps a topic for (as if its own copy: a topic shared by
 * many subscribers is counted for each, an upper bound).
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "hub.h"
#include "iomux-proto.h"
#include "ptree.h"
#include "pubsub.h"

#define PUBSUB_TAB_INITIAL	64	/* the channels */
#define PUBSUB_CLIENT_INITIAL	8	/* a client's table */

struct sub;

struct topic {
	struct htab_entry	 he;	/* a channel's, by name */
	struct sub		*head, *tail;	/* subscription order */
	uint32_t		 nsubs;
	uint32_t		 len;	/* of name; a pattern's ends in '*' */
	bool			 pattern;
	uint8_t			 name[];
};

struct sub {
	struct htab_entry	 ce;	/* the client's, keyed by &t */
	struct topic		*t;
	struct hub_client	*c;
	uint64_t		 seq;	/* when it was made: ps->seq */
	struct sub		*tnext, *tprev;	/* the topic's list */
	struct sub		*cnext, *cprev;	/* the client's */
};

/* c->subs: what one client is subscribed to. */
struct pubsub_client {
	struct hub_client	*c;
	struct pubsub_client	*next, *prev;	/* all subscribers */
	struct htab		 tab;
	struct sub		*head;
	uint32_t		 nchannels, npatterns;
};

/*
 * A fan-out in slices: the topics a channel matched when it began, in the
 * order pubsub_match() walks them, and the next subscription to visit.
 * Every cursor is on ps->cursors, so that dropping a subscription or
 * freeing a topic moves the cursors off it (sub_free, topic_free); and a
 * subscription made after the cursor began (seq) is not its.
 */
struct pubsub_cursor {
	struct pubsub			*ps;
	TAILQ_ENTRY(pubsub_cursor)	 link;
	uint64_t			 seq;
	size_t				 idx, ntopics;
	struct sub			*next;	/* in topics[idx]; NULL: done */
	struct topic			*topics[];	/* NULL: freed */
};

struct pubsub {
	const struct hub_limits	*limits;
	struct htab		 channels;
	struct ptree		 patterns;	/* by prefix */
	struct pubsub_client	*clients;
	uint64_t		 nclients;
	uint64_t		 seq;		/* subscriptions ever made */
	TAILQ_HEAD(, pubsub_cursor) cursors;
	bool			 walking;	/* for the assertions */
};

int
pubsub_new(const struct hub_limits *limits, struct pubsub **out)
{
	struct pubsub	*ps;

	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		return -ENOMEM;
	ps->limits = limits;
	TAILQ_INIT(&ps->cursors);
	if (htab_init(&ps->channels, PUBSUB_TAB_INITIAL) < 0) {
		free(ps);
		return -ENOMEM;
	}
	ptree_init(&ps->patterns);
	*out = ps;
	return 0;
}

int
pubsub_pattern_check(const void *p, size_t len)
{
	if (len == 0 || ((const uint8_t *)p)[len - 1] != '*')
		return -EINVAL;
	if (memchr(p, '*', len - 1) != NULL)
		return -EINVAL;
	return 0;
}

uint64_t
pubsub_push_size(size_t clen, size_t mlen)
{
	/* channel, message, and a pattern of at most the channel plus '*'. */
	return (uint64_t)IOMUX_BODY_HDR_SIZE + 3 * IOMUX_ARG_HDR_SIZE +
	    2 * (uint64_t)clen + 1 + (uint64_t)mlen;
}

/* The topic of a channel, or of a pattern by its prefix; NULL if none. */
static struct topic *
topic_find(struct pubsub *ps, const void *key, size_t klen, bool pattern)
{
	struct htab_entry	*e;

	if (pattern)
		return ptree_find(&ps->patterns, key, klen);
	if ((e = htab_find(&ps->channels, key, klen)) == NULL)
		return NULL;
	return container_of(e, struct topic, he);
}

static struct topic *
topic_new(struct pubsub *ps, const void *name, size_t len, bool pattern)
{
	struct topic	*t;

	if ((t = calloc(1, sizeof(*t) + len)) == NULL)
		return NULL;
	if (len > 0)
		memcpy(t->name, name, len);
	t->len = (uint32_t)len;
	t->pattern = pattern;
	if (!pattern) {
		t->he.key = t->name;
		t->he.klen = t->len;
		htab_insert(&ps->channels, &t->he);
	} else if (ptree_insert(&ps->patterns, t->name, len - 1, t) < 0) {
		/* Only -ENOMEM: the caller found no topic of this prefix. */
		free(t);
		return NULL;
	}
	return t;
}

static void
topic_free(struct pubsub *ps, struct topic *t)
{
	struct pubsub_cursor	*cur;
	size_t			 i;

	TAILQ_FOREACH(cur, &ps->cursors, link)
		for (i = cur->idx; i < cur->ntopics; i++)
			if (cur->topics[i] == t)
				cur->topics[i] = NULL;
	if (t->pattern)
		(void)ptree_remove(&ps->patterns, t->name, t->len - 1);
	else
		htab_remove(&ps->channels, &t->he);
	free(t);
}

/* Take s out of its topic's list and free it, and the topic if empty. */
static void
sub_free(struct pubsub *ps, struct sub *s)
{
	struct topic		*t = s->t;
	struct pubsub_cursor	*cur;

	TAILQ_FOREACH(cur, &ps->cursors, link)
		if (cur->next == s)
			cur->next = s->tnext;

	if (s->tprev != NULL)
		s->tprev->tnext = s->tnext;
	else
		t->head = s->tnext;
	if (s->tnext != NULL)
		s->tnext->tprev = s->tprev;
	else
		t->tail = s->tprev;
	free(s);
	if (t->head == NULL)
		topic_free(ps, t);
}

static void
pc_free(struct pubsub *ps, struct pubsub_client *pc)
{
	if (pc->prev != NULL)
		pc->prev->next = pc->next;
	else
		ps->clients = pc->next;
	if (pc->next != NULL)
		pc->next->prev = pc->prev;
	ps->nclients--;
	pc->c->subs = NULL;
	buf_acct_release(&pc->c->mem, sizeof(*pc));
	htab_free(&pc->tab);
	free(pc);
}

/*
 * What a subscription to t makes the daemon hold, at most: its slot in
 * the client's table, and t with its name (charged to each subscriber:
 * shared topics count more than once, never less). A pattern's topic is
 * also in the tree of patterns, whose nodes copy their whole path.
 */
static size_t
sub_cost(const struct topic *t)
{
	/* A hash slot is a pointer in a table kept at most half full. */
	size_t	n = hub_alloc_cost(sizeof(struct sub)) +
		    hub_alloc_cost(sizeof(struct topic) + t->len) +
		    4 * sizeof(void *);

	return t->pattern ? n + ptree_key_cost(t->len) : n;
}

/*
 * Drop one subscription: out of its connection (freeing the connection's
 * state with its last one) and out of its topic (freeing the topic with
 * its last subscriber).
 */
static void
sub_drop(struct pubsub *ps, struct sub *s)
{
	struct pubsub_client	*pc = s->c->subs;

	assert(!ps->walking);
	buf_acct_release(&s->c->mem, sub_cost(s->t));

	if (s->cprev != NULL)
		s->cprev->cnext = s->cnext;
	else
		pc->head = s->cnext;
	if (s->cnext != NULL)
		s->cnext->cprev = s->cprev;
	htab_remove(&pc->tab, &s->ce);
	if (s->t->pattern)
		pc->npatterns--;
	else
		pc->nchannels--;
	s->t->nsubs--;
	if (pc->nchannels + pc->npatterns == 0)
		pc_free(ps, pc);

	sub_free(ps, s);
}

/* c's subscription to t, or NULL. */
static struct sub *
sub_find(const struct pubsub_client *pc, const struct topic *t)
{
	struct htab_entry	*e;

	if (pc == NULL || t == NULL)
		return NULL;
	if ((e = htab_find(&pc->tab, &t, sizeof(t))) == NULL)
		return NULL;
	return container_of(e, struct sub, ce);
}

uint64_t
pubsub_client_count(const struct hub_client *c)
{
	const struct pubsub_client	*pc = c->subs;

	return pc != NULL ? (uint64_t)pc->nchannels + pc->npatterns : 0;
}

int
pubsub_subscribe(struct pubsub *ps, struct hub_client *c, const void *name,
    size_t len, bool pattern)
{
	struct pubsub_client	*pc = c->subs;
	struct topic		*t;
	struct sub		*s;
	size_t			 klen = len;
	uint64_t		 max = ps->limits->subscriptions_max;

	if (hub_client_gone(c))
		return -ENOTCONN;	/* nothing may hold on to it now */
	if (pattern) {
		if (pubsub_pattern_check(name, len) < 0)
			return -EINVAL;
		klen = len - 1;
	}
	t = topic_find(ps, name, klen, pattern);
	if (sub_find(pc, t) != NULL)
		return PUBSUB_E_EXISTS;
	if (pubsub_client_count(c) >= max)
		return PUBSUB_E_LIMIT;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	if (pc == NULL) {
		if ((pc = calloc(1, sizeof(*pc))) == NULL)
			goto fail;
		if (htab_init(&pc->tab, PUBSUB_CLIENT_INITIAL) < 0) {
			free(pc);
			goto fail;
		}
		buf_acct_charge(&c->mem, sizeof(*pc));
		pc->c = c;
		pc->next = ps->clients;
		if (ps->clients != NULL)
			ps->clients->prev = pc;
		ps->clients = pc;
		ps->nclients++;
		c->subs = pc;
	}
	/* Last, so that a failure leaves no empty topic behind. */
	if (t == NULL && (t = topic_new(ps, name, len, pattern)) == NULL) {
		if (pc->head == NULL)
			pc_free(ps, pc);
		goto fail;
	}

	s->t = t;
	s->c = c;
	s->seq = ++ps->seq;
	s->tprev = t->tail;
	if (t->tail != NULL)
		t->tail->tnext = s;
	else
		t->head = s;
	t->tail = s;
	t->nsubs++;

	s->cnext = pc->head;
	if (pc->head != NULL)
		pc->head->cprev = s;
	pc->head = s;
	s->ce.key = (const uint8_t *)&s->t;
	s->ce.klen = sizeof(s->t);
	htab_insert(&pc->tab, &s->ce);
	if (pattern)
		pc->npatterns++;
	else
		pc->nchannels++;
	buf_acct_charge(&c->mem, sub_cost(t));
	return 0;
fail:
	free(s);
	return -ENOMEM;
}

int
pubsub_unsubscribe(struct pubsub *ps, struct hub_client *c, const void *name,
    size_t len, bool pattern)
{
	struct sub	*s;
	size_t		 klen = len;

	if (pattern) {
		if (pubsub_pattern_check(name, len) < 0)
			return PUBSUB_E_ABSENT;	/* could not be subscribed */
		klen = len - 1;
	}
	s = sub_find(c->subs, topic_find(ps, name, klen, pattern));
	if (s == NULL)
		return PUBSUB_E_ABSENT;
	sub_drop(ps, s);
	return 0;
}

void
pubsub_unsubscribe_all(struct pubsub *ps, struct hub_client *c,
    bool pattern)
{
	struct pubsub_client	*pc = c->subs;
	struct sub		*s, *next;

	if (pc == NULL)
		return;
	/* Dropping the last one frees pc, but then next is NULL already. */
	for (s = pc->head; s != NULL; s = next) {
		next = s->cnext;
		if (s->t->pattern == pattern)
			sub_drop(ps, s);
	}
}

void
pubsub_client_gone(struct pubsub *ps, struct hub_client *c)
{
	struct pubsub_client	*pc;

	while ((pc = c->subs) != NULL)
		sub_drop(ps, pc->head);
}

/* Call fn for each live subscription in t's list. */
static uint64_t
walk(struct topic *t, const uint8_t *pattern, size_t plen,
    pubsub_match_fn *fn, void *arg)
{
	struct sub	*s, *next;
	uint64_t	 n = 0;

	for (s = t->head; s != NULL; s = next) {
		next = s->tnext;
		if (hub_client_gone(s->c))
			continue;
		fn(s->c, pattern, plen, arg);
		n++;
	}
	return n;
}

struct match {
	pubsub_match_fn	*fn;
	void		*arg;
	uint64_t	 n;
};

/* A pattern whose prefix the channel starts with: walk its subscribers. */
static void
match_pattern(void *value, const uint8_t *prefix, size_t plen, void *arg)
{
	struct topic	*t = value;
	struct match	*m = arg;

	m->n += walk(t, t->name, t->len, m->fn, m->arg);
}

uint64_t
pubsub_match(struct pubsub *ps, const void *channel, size_t len,
    pubsub_match_fn *fn, void *arg)
{
	struct topic	*t;
	struct match	 m = { fn, arg, 0 };

	assert(!ps->walking);
	ps->walking = true;
	if ((t = topic_find(ps, channel, len, false)) != NULL)
		m.n += walk(t, NULL, 0, fn, arg);
	(void)ptree_prefixes(&ps->patterns, channel, len, match_pattern, &m);
	ps->walking = false;
	return m.n;
}

struct count {
	uint64_t	n;
};

static void
count_pattern(void *value, const uint8_t *prefix, size_t plen, void *arg)
{
	((struct count *)arg)->n += ((struct topic *)value)->nsubs;
}

uint64_t
pubsub_match_count(struct pubsub *ps, const void *channel, size_t len)
{
	struct topic	*t;
	struct count	 k = { 0 };

	if ((t = topic_find(ps, channel, len, false)) != NULL)
		k.n += t->nsubs;
	(void)ptree_prefixes(&ps->patterns, channel, len, count_pattern, &k);
	return k.n;
}

static void
collect_pattern(void *value, const uint8_t *prefix, size_t plen, void *arg)
{
	struct pubsub_cursor	*cur = arg;

	cur->topics[cur->ntopics++] = value;
}

int
pubsub_cursor_new(struct pubsub *ps, const void *channel, size_t len,
    struct pubsub_cursor **out)
{
	struct pubsub_cursor	*cur;
	struct topic		*t;

	/* The exact channel, and at most one pattern per prefix length. */
	if ((cur = calloc(1, sizeof(*cur) + (len + 2) *
	    sizeof(cur->topics[0]))) == NULL)
		return -ENOMEM;
	cur->ps = ps;
	cur->seq = ps->seq;
	if ((t = topic_find(ps, channel, len, false)) != NULL)
		cur->topics[cur->ntopics++] = t;
	(void)ptree_prefixes(&ps->patterns, channel, len, collect_pattern,
	    cur);
	cur->idx = 0;
	cur->next = cur->ntopics > 0 ? cur->topics[0]->head : NULL;
	TAILQ_INSERT_TAIL(&ps->cursors, cur, link);
	*out = cur;
	return 0;
}

/* Move on to the next topic still there; false when there is none. */
static bool
cursor_advance(struct pubsub_cursor *cur)
{
	while (cur->next == NULL) {
		if (cur->idx + 1 >= cur->ntopics)
			return false;
		cur->idx++;
		if (cur->topics[cur->idx] != NULL)
			cur->next = cur->topics[cur->idx]->head;
	}
	return true;
}

bool
pubsub_cursor_next(struct pubsub_cursor *cur, size_t budget,
    pubsub_match_fn *fn, void *arg, uint64_t *n)
{
	struct pubsub	*ps = cur->ps;
	struct topic	*t;
	struct sub	*s;

	assert(!ps->walking);
	ps->walking = true;
	while (budget > 0 && cursor_advance(cur)) {
		s = cur->next;
		cur->next = s->tnext;
		budget--;	/* visited counts: the work is bounded */
		if (s->seq > cur->seq || hub_client_gone(s->c))
			continue;
		t = cur->topics[cur->idx];
		if (t->pattern)
			fn(s->c, t->name, t->len, arg);
		else
			fn(s->c, NULL, 0, arg);
		(*n)++;
	}
	ps->walking = false;
	return !cursor_advance(cur);
}

void
pubsub_cursor_free(struct pubsub_cursor *cur)
{
	if (cur == NULL)
		return;
	TAILQ_REMOVE(&cur->ps->cursors, cur, link);
	free(cur);
}

void
pubsub_stats(const struct pubsub *ps, struct pubsub_stats *st)
{
	st->channels = ps->channels.count;
	st->patterns = ps->patterns.count;
	st->subscribers = ps->nclients;
	st->match_steps = ps->patterns.steps;
}

void
pubsub_free(struct pubsub *ps)
{
	/* A fan-out in slices belongs to a request: ended with it. */
	assert(TAILQ_EMPTY(&ps->cursors));
	/* Normally no connection is left; detach any that is, all the same. */
	while (ps->clients != NULL)
		sub_drop(ps, ps->clients->head);
	htab_free(&ps->channels);
	/* Every topic went with its last subscriber: the tree is empty. */
	ptree_free(&ps->patterns, NULL, NULL);
	free(ps);
}
