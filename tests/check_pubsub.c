/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_pubsub.c: unit tests of the pub/sub structures (daemon/hub/
 * pubsub.c), linked with the hub library alone: no connection layer, no
 * sockets. Bare client handles (struct hub_client) subscribe, and
 * pubsub_match() reports which subscriptions
 * a channel reaches. Covered: pattern syntax and matching (exact against
 * prefix, "*" alone, the empty prefix, binary names), matching work
 * linear in the channel with a pattern at every prefix length (counted
 * in match_steps, not timed), the bookkeeping (counts,
 * subscriptions_max, unsubscribing, a closed connection leaving no trace,
 * topics freed with their last subscriber), clients marked gone in the
 * middle of a walk, the fan-out in slices (the same deliveries in the
 * same order whatever the slice, subscriptions and topics that go or come
 * between slices), the memory each subscription charges its client, and
 * a randomised run against a naive model.
 * Delivery over real sockets is the integration tests' job.
 */

#include <sys/types.h>

#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check-run.h"
#include "hub.h"
#include "pubsub.h"

#define NCONNS		8
#define CALLS_MAX	256

static struct hub_limits	limits;
static struct hub_client	conns[NCONNS];
static struct pubsub		*ps;

/* What pubsub_match() called back with. */
struct call {
	struct hub_client	*c;
	bool		 pattern;
	uint8_t		 pat[64];
	size_t		 plen;
};

static struct call	calls[CALLS_MAX];
static size_t		ncalls;

static void
setup(void)
{
	memset(&limits, 0, sizeof(limits));
	limits.key_max = 1024;
	limits.subscriptions_max = 1024;
	ck_assert_int_eq(pubsub_new(&limits, &ps), 0);
	memset(conns, 0, sizeof(conns));
	ncalls = 0;
}

static void
teardown(void)
{
	int	i;

	/* Whatever is left goes: no pointer, no charge is kept. */
	pubsub_free(ps);
	ps = NULL;
	for (i = 0; i < NCONNS; i++) {
		ck_assert_ptr_null(conns[i].subs);
		ck_assert_uint_eq(conns[i].mem.bytes, 0);
	}
}

static void
put_call(struct call *k, struct hub_client *c, const uint8_t *pattern,
    size_t plen)
{
	memset(k, 0, sizeof(*k));
	k->c = c;
	if (pattern != NULL) {
		ck_assert_uint_le(plen, sizeof(k->pat));
		k->pattern = true;
		memcpy(k->pat, pattern, plen);
		k->plen = plen;
	}
}

static void
record(struct hub_client *c, const uint8_t *pattern, size_t plen,
    void *arg)
{
	ck_assert_uint_lt(ncalls, CALLS_MAX);
	put_call(&calls[ncalls++], c, pattern, plen);
}

/* Match a channel given as a C string (or with an explicit length). */
static uint64_t
match_n(const char *ch, size_t len)
{
	ncalls = 0;
	return pubsub_match(ps, ch, len, record, NULL);
}

static uint64_t
match(const char *ch)
{
	return match_n(ch, strlen(ch));
}

static int
sub(int i, const char *name)
{
	return pubsub_subscribe(ps, &conns[i], name, strlen(name), false);
}

static int
psub(int i, const char *pat)
{
	return pubsub_subscribe(ps, &conns[i], pat, strlen(pat), true);
}

static int
unsub(int i, const char *name)
{
	return pubsub_unsubscribe(ps, &conns[i], name, strlen(name), false);
}

static int
punsub(int i, const char *pat)
{
	return pubsub_unsubscribe(ps, &conns[i], pat, strlen(pat), true);
}

/* Was call k to connection i, exact (pat NULL) or through pattern pat? */
static void
assert_call(size_t k, int i, const char *pat)
{
	ck_assert_uint_lt(k, ncalls);
	ck_assert_ptr_eq(calls[k].c, &conns[i]);
	if (pat == NULL) {
		ck_assert(!calls[k].pattern);
		return;
	}
	ck_assert(calls[k].pattern);
	ck_assert_uint_eq(calls[k].plen, strlen(pat));
	ck_assert_mem_eq(calls[k].pat, pat, strlen(pat));
}

static void
assert_stats(uint64_t channels, uint64_t patterns, uint64_t subscribers)
{
	struct pubsub_stats	st;

	pubsub_stats(ps, &st);
	ck_assert_uint_eq(st.channels, channels);
	ck_assert_uint_eq(st.patterns, patterns);
	ck_assert_uint_eq(st.subscribers, subscribers);
}

/* What the server does when it drops a connection: marks, releases. */
static void
kill_conn(struct hub_client *c)
{
	c->flags |= HUB_CLIENT_F_GONE;
	pubsub_client_gone(ps, c);
}

/* --- patterns ------------------------------------------------------------ */

START_TEST(test_pattern_check)
{
	ck_assert_int_eq(pubsub_pattern_check("*", 1), 0);
	ck_assert_int_eq(pubsub_pattern_check("jobs.*", 6), 0);
	ck_assert_int_eq(pubsub_pattern_check("a\0*", 3), 0);
	ck_assert_int_eq(pubsub_pattern_check("\0*", 2), 0);

	ck_assert_int_eq(pubsub_pattern_check("", 0), -EINVAL);
	ck_assert_int_eq(pubsub_pattern_check("jobs", 4), -EINVAL);
	ck_assert_int_eq(pubsub_pattern_check("**", 2), -EINVAL);
	ck_assert_int_eq(pubsub_pattern_check("*a", 2), -EINVAL);
	ck_assert_int_eq(pubsub_pattern_check("a*b", 3), -EINVAL);
	ck_assert_int_eq(pubsub_pattern_check("a*b*", 4), -EINVAL);
	ck_assert_int_eq(pubsub_pattern_check("*a*", 3), -EINVAL);
	ck_assert_int_eq(pubsub_pattern_check("a\0", 2), -EINVAL);
	/* The length counts, not a NUL: "a*" cut short is "a". */
	ck_assert_int_eq(pubsub_pattern_check("a*", 1), -EINVAL);
}
END_TEST

START_TEST(test_pattern_rejected)
{
	ck_assert_int_eq(psub(0, "a*b*"), -EINVAL);
	ck_assert_int_eq(psub(0, "a*b"), -EINVAL);
	ck_assert_int_eq(psub(0, "abc"), -EINVAL);
	ck_assert_int_eq(pubsub_subscribe(ps, &conns[0], "", 0, true),
	    -EINVAL);
	/* Nothing was created for the refused patterns. */
	ck_assert_ptr_null(conns[0].subs);
	assert_stats(0, 0, 0);
	ck_assert_int_eq(punsub(0, "a*b*"), PUBSUB_E_ABSENT);
}
END_TEST

START_TEST(test_match_exact_vs_prefix)
{
	ck_assert_int_eq(sub(0, "jobs.1"), 0);
	ck_assert_int_eq(psub(1, "jobs.*"), 0);
	ck_assert_int_eq(psub(2, "jobs.1*"), 0);
	ck_assert_int_eq(psub(3, "job*"), 0);

	/* Exact first, then patterns from the shortest prefix up. */
	ck_assert_uint_eq(match("jobs.1"), 4);
	assert_call(0, 0, NULL);
	assert_call(1, 3, "job*");
	assert_call(2, 1, "jobs.*");
	assert_call(3, 2, "jobs.1*");

	/* The prefix itself matches ("jobs.*" matches "jobs."). */
	ck_assert_uint_eq(match("jobs."), 2);
	assert_call(0, 3, "job*");
	assert_call(1, 1, "jobs.*");

	ck_assert_uint_eq(match("jobs.10"), 3);
	assert_call(0, 3, "job*");
	assert_call(1, 1, "jobs.*");
	assert_call(2, 2, "jobs.1*");

	ck_assert_uint_eq(match("job"), 1);
	assert_call(0, 3, "job*");
	ck_assert_uint_eq(match("jo"), 0);
	ck_assert_uint_eq(match("jobs.2"), 2);
	ck_assert_uint_eq(match("xjobs.1"), 0);
	ck_assert_uint_eq(match(""), 0);
	/* An exact subscription is exact: no prefix, no suffix. */
	ck_assert_uint_eq(match("jobs.1 "), 3);
	ck_assert_uint_eq(match("jobs."), 2);
}
END_TEST

START_TEST(test_match_star_alone)
{
	ck_assert_int_eq(psub(0, "*"), 0);
	ck_assert_int_eq(sub(1, ""), 0);
	assert_stats(1, 1, 2);

	/* "*" (the empty prefix) matches everything, the empty name too. */
	ck_assert_uint_eq(match("anything"), 1);
	assert_call(0, 0, "*");
	ck_assert_uint_eq(match_n("\0\xff", 2), 1);
	assert_call(0, 0, "*");
	ck_assert_uint_eq(match(""), 2);
	assert_call(0, 1, NULL);
	assert_call(1, 0, "*");
}
END_TEST

START_TEST(test_match_binary)
{
	ck_assert_int_eq(pubsub_subscribe(ps, &conns[0], "a\0b", 3, false), 0);
	ck_assert_int_eq(pubsub_subscribe(ps, &conns[1], "a\0*", 3, true), 0);
	ck_assert_int_eq(pubsub_subscribe(ps, &conns[2], "a\0b\0*", 5, true),
	    0);
	assert_stats(1, 2, 3);

	ck_assert_uint_eq(match_n("a\0b", 3), 2);
	assert_call(0, 0, NULL);
	ck_assert_ptr_eq(calls[1].c, &conns[1]);
	ck_assert_uint_eq(calls[1].plen, 3);
	ck_assert_mem_eq(calls[1].pat, "a\0*", 3);

	ck_assert_uint_eq(match_n("a\0b\0", 4), 2);	/* both patterns */
	ck_assert_uint_eq(match_n("a\0c", 3), 1);
	ck_assert_uint_eq(match_n("a\0", 2), 1);
	ck_assert_uint_eq(match_n("a", 1), 0);		/* NUL is a byte */
	ck_assert_uint_eq(match_n("ab", 2), 0);
	ck_assert_uint_eq(match_n("a\0b\0c", 5), 2);

	/* "a" and "a\0" are two channels. */
	ck_assert_int_eq(pubsub_subscribe(ps, &conns[3], "a", 1, false), 0);
	ck_assert_int_eq(pubsub_subscribe(ps, &conns[3], "a\0", 2, false), 0);
	assert_stats(3, 2, 4);
	ck_assert_uint_eq(pubsub_client_count(&conns[3]), 2);
}
END_TEST

START_TEST(test_literal_star_channel)
{
	/* The channel named "a*" and the pattern "a*" are different things. */
	ck_assert_int_eq(sub(0, "a*"), 0);
	ck_assert_int_eq(psub(0, "a*"), 0);
	ck_assert_uint_eq(pubsub_client_count(&conns[0]), 2);
	assert_stats(1, 1, 1);

	ck_assert_uint_eq(match("a*"), 2);
	assert_call(0, 0, NULL);
	assert_call(1, 0, "a*");
	ck_assert_uint_eq(match("ab"), 1);
	assert_call(0, 0, "a*");

	ck_assert_int_eq(unsub(0, "a*"), 0);
	ck_assert_uint_eq(match("a*"), 1);
	assert_call(0, 0, "a*");
	assert_stats(0, 1, 1);
}
END_TEST

START_TEST(test_match_same_conn_twice)
{
	/* Each matching subscription is one delivery, even on one conn. */
	ck_assert_int_eq(sub(0, "news"), 0);
	ck_assert_int_eq(psub(0, "new*"), 0);
	ck_assert_int_eq(psub(0, "*"), 0);
	ck_assert_uint_eq(match("news"), 3);
	assert_call(0, 0, NULL);
	assert_call(1, 0, "*");
	assert_call(2, 0, "new*");
}
END_TEST

START_TEST(test_many_patterns)
{
	char	name[64];
	size_t	len;
	int	i;

	/*
	 * A pattern at every prefix length of one channel, spread over the
	 * connections, plus as many that never match it.
	 */
	strcpy(name, "abcdefghijklmnopqrstuvwxyz0123456789");
	len = strlen(name);
	for (i = 0; i <= (int)len; i++) {
		char	pat[64];

		memcpy(pat, name, (size_t)i);
		pat[i] = '*';
		ck_assert_int_eq(pubsub_subscribe(ps, &conns[i % NCONNS], pat,
		    (size_t)i + 1, true), 0);
		pat[0] = 'X';
		if (i > 0)
			ck_assert_int_eq(pubsub_subscribe(ps,
			    &conns[i % NCONNS], pat, (size_t)i + 1, true), 0);
	}
	assert_stats(0, 2 * len + 1, NCONNS);
	ck_assert_uint_eq(match(name), len + 1);
	for (i = 0; i <= (int)len; i++) {
		ck_assert_ptr_eq(calls[i].c, &conns[i % NCONNS]);
		ck_assert_uint_eq(calls[i].plen, (size_t)i + 1);
	}
	ck_assert_uint_eq(match("abc"), 4);
	ck_assert_uint_eq(match("Xbc"), 4);	/* "*", "X*", "Xb*", "Xbc*" */
}
END_TEST

/* What test_linear_match() saw: prefix lengths in call order. */
static size_t		lin_plen[2 * 1024];
static size_t		lin_calls;
static const uint8_t	*lin_channel;

static void
record_long(struct hub_client *c, const uint8_t *pattern, size_t plen, void *arg)
{
	ck_assert_ptr_nonnull(pattern);
	ck_assert_uint_lt(lin_calls, sizeof(lin_plen) / sizeof(lin_plen[0]));
	/* Every pattern met is a prefix of the channel and a '*'. */
	ck_assert_uint_ge(plen, 1);
	ck_assert_int_eq(pattern[plen - 1], '*');
	ck_assert_int_eq(memcmp(pattern, lin_channel, plen - 1), 0);
	lin_plen[lin_calls++] = plen;
}

/* The steps one pubsub_match() of ch[0..len) took. */
static uint64_t
match_steps(const uint8_t *ch, size_t len)
{
	struct pubsub_stats	st;
	uint64_t		before;

	pubsub_stats(ps, &st);
	before = st.match_steps;
	lin_calls = 0;
	lin_channel = ch;
	ck_assert_uint_eq(pubsub_match(ps, ch, len, record_long, NULL),
	    lin_calls);
	pubsub_stats(ps, &st);
	return st.match_steps - before;
}

START_TEST(test_linear_match)
{
	enum { N = 1023 };
	static uint8_t	ch[N], pat[N + 1];
	size_t		i;
	uint64_t	steps;

	/*
	 * A pattern at every prefix length 0..N-1 of one N-byte channel, the
	 * case that cost ~N^2/2 bytes of hashing per PUBLISH, and beside each
	 * a decoy that parts from the channel at its last byte. The bytes
	 * are binary (NUL included), never '*' and never '*' ^ 0x80.
	 */
	limits.subscriptions_max = 2 * N;
	for (i = 0; i < N; i++) {
		ch[i] = (uint8_t)(i * 131 + 7);
		if ((ch[i] & 0x7f) == '*')
			ch[i] ^= 0x01;
	}
	for (i = 0; i < N; i++) {
		memcpy(pat, ch, i);
		pat[i] = '*';
		ck_assert_int_eq(pubsub_subscribe(ps, &conns[i % NCONNS], pat,
		    i + 1, true), 0);
		if (i == 0)
			continue;
		pat[i - 1] ^= 0x80;
		ck_assert_int_eq(pubsub_subscribe(ps, &conns[i % NCONNS], pat,
		    i + 1, true), 0);
	}
	assert_stats(0, 2 * N - 1, NCONNS);

	/* All N patterns, shortest prefix first; none of the decoys. */
	steps = match_steps(ch, N);
	ck_assert_uint_eq(lin_calls, N);
	for (i = 0; i < N; i++)
		ck_assert_uint_eq(lin_plen[i], i + 1);
	/* Linear in the channel: at most a node and a byte per byte. */
	ck_assert_uint_le(steps, 2 * N + 1);
	ck_assert_uint_le(steps, 4 * 1024);

	/* Half the channel: half the patterns, half the work. */
	steps = match_steps(ch, N / 2);
	ck_assert_uint_eq(lin_calls, N / 2 + 1);
	ck_assert_uint_le(steps, 2 * (N / 2) + 1);

	/*
	 * A channel parting at byte 100 meets the prefixes of lengths 0..100
	 * and the decoy of length 101, and goes no further.
	 */
	memcpy(pat, ch, N);
	pat[100] ^= 0x80;
	steps = match_steps(pat, N);
	ck_assert_uint_eq(lin_calls, 102);
	ck_assert_uint_eq(lin_plen[100], 101);
	ck_assert_uint_eq(lin_plen[101], 102);
	ck_assert_uint_le(steps, 2 * 102 + 1);

	/* Unsubscribed again, they leave nothing to walk. */
	for (i = 0; i < NCONNS; i++)
		pubsub_unsubscribe_all(ps, &conns[i], true);
	assert_stats(0, 0, 0);
	ck_assert_uint_eq(match_steps(ch, N), 0);
	ck_assert_uint_eq(lin_calls, 0);
}
END_TEST

/* --- bookkeeping --------------------------------------------------------- */

START_TEST(test_counts)
{
	ck_assert_ptr_null(conns[0].subs);
	ck_assert_uint_eq(pubsub_client_count(&conns[0]), 0);

	ck_assert_int_eq(sub(0, "x"), 0);
	ck_assert_ptr_nonnull(conns[0].subs);
	ck_assert_int_eq(sub(0, "y"), 0);
	ck_assert_int_eq(sub(0, "x"), PUBSUB_E_EXISTS);
	ck_assert_uint_eq(pubsub_client_count(&conns[0]), 2);
	ck_assert_int_eq(psub(0, "p*"), 0);
	ck_assert_int_eq(psub(0, "p*"), PUBSUB_E_EXISTS);
	ck_assert_uint_eq(pubsub_client_count(&conns[0]), 3);
	assert_stats(2, 1, 1);

	ck_assert_int_eq(sub(1, "x"), 0);
	ck_assert_int_eq(psub(1, "p*"), 0);
	assert_stats(2, 1, 2);

	ck_assert_int_eq(unsub(0, "x"), 0);
	ck_assert_int_eq(unsub(0, "x"), PUBSUB_E_ABSENT);
	ck_assert_int_eq(unsub(0, "never"), PUBSUB_E_ABSENT);
	ck_assert_int_eq(punsub(0, "x"), PUBSUB_E_ABSENT);
	/* A channel and a pattern never stand for each other. */
	ck_assert_int_eq(unsub(0, "p*"), PUBSUB_E_ABSENT);
	ck_assert_uint_eq(pubsub_client_count(&conns[0]), 2);
	assert_stats(2, 1, 2);		/* x still has conn 1 */

	ck_assert_int_eq(unsub(1, "x"), 0);
	assert_stats(1, 1, 2);		/* x is gone */
	ck_assert_int_eq(punsub(1, "p*"), 0);
	ck_assert_ptr_null(conns[1].subs);
	assert_stats(1, 1, 1);
	ck_assert_int_eq(punsub(0, "p*"), 0);
	ck_assert_int_eq(unsub(0, "y"), 0);
	ck_assert_ptr_null(conns[0].subs);
	assert_stats(0, 0, 0);
	ck_assert_uint_eq(match("x"), 0);
	ck_assert_uint_eq(match("pq"), 0);
}
END_TEST

START_TEST(test_limit)
{
	limits.subscriptions_max = 3;
	ck_assert_int_eq(sub(0, "a"), 0);
	ck_assert_int_eq(sub(0, "b"), 0);
	ck_assert_int_eq(psub(0, "c*"), 0);
	/* Channels and patterns count together. */
	ck_assert_int_eq(sub(0, "d"), PUBSUB_E_LIMIT);
	ck_assert_int_eq(psub(0, "d*"), PUBSUB_E_LIMIT);
	/* Nothing was left behind by the refusals. */
	assert_stats(2, 1, 1);
	ck_assert_uint_eq(match("d"), 0);
	/* At the limit, what exists still exists. */
	ck_assert_int_eq(sub(0, "a"), PUBSUB_E_EXISTS);
	/* The limit is per connection. */
	ck_assert_int_eq(sub(1, "d"), 0);
	ck_assert_int_eq(unsub(0, "a"), 0);
	ck_assert_int_eq(sub(0, "d"), 0);
	ck_assert_uint_eq(pubsub_client_count(&conns[0]), 3);

	/* A lowered limit (reload) keeps what is there, refuses more. */
	limits.subscriptions_max = 1;
	ck_assert_int_eq(sub(0, "e"), PUBSUB_E_LIMIT);
	ck_assert_uint_eq(pubsub_client_count(&conns[0]), 3);
}
END_TEST

START_TEST(test_unsubscribe_all)
{
	ck_assert_int_eq(sub(0, "a"), 0);
	ck_assert_int_eq(sub(0, "b"), 0);
	ck_assert_int_eq(psub(0, "a*"), 0);
	ck_assert_int_eq(psub(0, "*"), 0);
	ck_assert_int_eq(sub(1, "a"), 0);

	pubsub_unsubscribe_all(ps, &conns[0], false);
	ck_assert_uint_eq(pubsub_client_count(&conns[0]), 2);
	assert_stats(1, 2, 2);
	ck_assert_uint_eq(match("a"), 3);
	assert_call(0, 1, NULL);
	assert_call(1, 0, "*");
	assert_call(2, 0, "a*");

	pubsub_unsubscribe_all(ps, &conns[0], false);	/* none left */
	ck_assert_uint_eq(pubsub_client_count(&conns[0]), 2);
	pubsub_unsubscribe_all(ps, &conns[0], true);
	ck_assert_ptr_null(conns[0].subs);
	assert_stats(1, 0, 1);
	pubsub_unsubscribe_all(ps, &conns[0], true);	/* nothing at all */
	ck_assert_ptr_null(conns[0].subs);
}
END_TEST

START_TEST(test_conn_closed)
{
	char	name[32];
	int	i;

	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "ch%d", i);
		ck_assert_int_eq(sub(0, name), 0);
		if (i % 2 == 0)
			ck_assert_int_eq(sub(1, name), 0);
		snprintf(name, sizeof(name), "p%d*", i);
		ck_assert_int_eq(psub(0, name), 0);
	}
	ck_assert_int_eq(psub(1, "p1*"), 0);
	assert_stats(100, 100, 2);

	kill_conn(&conns[0]);
	ck_assert_ptr_null(conns[0].subs);
	assert_stats(50, 1, 1);
	ck_assert_uint_eq(match("ch0"), 1);
	assert_call(0, 1, NULL);
	ck_assert_uint_eq(match("ch1"), 0);
	ck_assert_uint_eq(match("p10"), 1);
	assert_call(0, 1, "p1*");

	/* Twice is harmless; a dead connection subscribes to nothing. */
	pubsub_client_gone(ps, &conns[0]);
	ck_assert_int_eq(sub(0, "ch0"), -ENOTCONN);
	ck_assert_int_eq(psub(0, "*"), -ENOTCONN);
	ck_assert_ptr_null(conns[0].subs);

	kill_conn(&conns[1]);
	assert_stats(0, 0, 0);
	/* A connection that never subscribed. */
	kill_conn(&conns[2]);
	assert_stats(0, 0, 0);
}
END_TEST

START_TEST(test_topics_freed)
{
	char	name[32];
	int	i, round;

	/* Topics come and go with their subscribers, again and again. */
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 500; i++) {
			snprintf(name, sizeof(name), "t%d", i);
			ck_assert_int_eq(sub(i % 2, name), 0);
			ck_assert_int_eq(sub(2, name), 0);
			snprintf(name, sizeof(name), "t%d*", i);
			ck_assert_int_eq(psub(3, name), 0);
		}
		assert_stats(500, 500, 4);
		for (i = 0; i < 500; i++) {
			snprintf(name, sizeof(name), "t%d", i);
			ck_assert_int_eq(unsub(i % 2, name), 0);
		}
		assert_stats(500, 500, 2);
		pubsub_unsubscribe_all(ps, &conns[2], false);
		assert_stats(0, 500, 1);
		pubsub_unsubscribe_all(ps, &conns[3], true);
		assert_stats(0, 0, 0);
		for (i = 0; i < 4; i++)
			ck_assert_ptr_null(conns[i].subs);
		ck_assert_uint_eq(match("t1"), 0);
	}
}
END_TEST

START_TEST(test_free_with_subscribers)
{
	/* pubsub_free() detaches connections that are somehow still here. */
	ck_assert_int_eq(sub(0, "a"), 0);
	ck_assert_int_eq(psub(1, "a*"), 0);
	ck_assert_int_eq(sub(1, "b"), 0);
	/* teardown() frees and checks every c->subs is NULL. */
}
END_TEST

/* --- connections killed during a walk ------------------------------------ */

/*
 * A kill during a walk only marks the connection dead, as conn_kill()
 * does; its subscriptions go at its release, after the walk.
 */
static struct hub_client	*kill_on[NCONNS];	/* on a call to c, kill these */
static int		 nkill;
static struct hub_client	*kill_trigger;

static void
record_and_kill(struct hub_client *c, const uint8_t *pattern, size_t plen,
    void *arg)
{
	int	i;

	record(c, pattern, plen, arg);
	if (c != kill_trigger)
		return;
	kill_trigger = NULL;
	for (i = 0; i < nkill; i++)
		kill_on[i]->flags |= HUB_CLIENT_F_GONE;
}

static uint64_t
match_killing(const char *ch)
{
	uint64_t	n;
	int		i;

	ncalls = 0;
	n = pubsub_match(ps, ch, strlen(ch), record_and_kill, NULL);
	for (i = 0; i < nkill; i++)
		pubsub_client_gone(ps, kill_on[i]);
	return n;
}

START_TEST(test_kill_during_walk)
{
	int	i;

	for (i = 0; i < 4; i++)
		ck_assert_int_eq(sub(i, "ch"), 0);
	ck_assert_int_eq(psub(0, "c*"), 0);
	ck_assert_int_eq(psub(1, "c*"), 0);
	ck_assert_int_eq(psub(2, "ch*"), 0);

	/*
	 * The first subscriber's delivery kills it, the next one in the
	 * list (whose pointer the walk holds) and a later one.
	 */
	kill_trigger = &conns[0];
	kill_on[0] = &conns[0];
	kill_on[1] = &conns[1];
	kill_on[2] = &conns[3];
	nkill = 3;
	ck_assert_uint_eq(match_killing("ch"), 3);
	assert_call(0, 0, NULL);
	assert_call(1, 2, NULL);
	assert_call(2, 2, "ch*");
	/* The release freed what the dead left: "c*" had only conns 0, 1. */
	assert_stats(1, 1, 1);
	ck_assert_ptr_null(conns[0].subs);
	ck_assert_ptr_null(conns[1].subs);
	ck_assert_ptr_null(conns[3].subs);
	ck_assert_uint_eq(match("ch"), 2);
}
END_TEST

START_TEST(test_kill_last_subscriber_during_walk)
{
	/* The topic being walked loses its only subscriber. */
	ck_assert_int_eq(sub(0, "solo"), 0);
	ck_assert_int_eq(psub(0, "so*"), 0);
	ck_assert_int_eq(psub(1, "s*"), 0);
	kill_trigger = &conns[0];
	kill_on[0] = &conns[0];
	nkill = 1;
	ck_assert_uint_eq(match_killing("solo"), 2);
	assert_call(0, 0, NULL);
	assert_call(1, 1, "s*");
	assert_stats(0, 1, 1);
	ck_assert_uint_eq(match("solo"), 1);
}
END_TEST

START_TEST(test_kill_everyone_during_walk)
{
	char	name[32];
	int	i;

	for (i = 0; i < NCONNS; i++) {
		ck_assert_int_eq(sub(i, "all"), 0);
		ck_assert_int_eq(psub(i, "a*"), 0);
		snprintf(name, sizeof(name), "other%d", i);
		ck_assert_int_eq(sub(i, name), 0);
		kill_on[i] = &conns[i];
	}
	nkill = NCONNS;
	kill_trigger = &conns[3];	/* in the middle of the list */
	ck_assert_uint_eq(match_killing("all"), 4);
	assert_stats(0, 0, 0);
	for (i = 0; i < NCONNS; i++)
		ck_assert_ptr_null(conns[i].subs);
}
END_TEST

/* --- fan-out in slices ---------------------------------------------------- */

static struct call	ccalls[CALLS_MAX];
static size_t		nccalls;

static void
record_cursor(struct hub_client *c, const uint8_t *pattern, size_t plen,
    void *arg)
{
	ck_assert_uint_lt(nccalls, CALLS_MAX);
	put_call(&ccalls[nccalls++], c, pattern, plen);
}

/* Drive cur to its end, budget at a time; returns the calls made. */
static uint64_t
drain(struct pubsub_cursor *cur, size_t budget)
{
	uint64_t	n = 0;
	int		rounds = 0;

	while (!pubsub_cursor_next(cur, budget, record_cursor, NULL, &n))
		ck_assert_int_lt(++rounds, 10000);
	return n;
}

/* In slices of any size, the same deliveries in the same order. */
START_TEST(test_cursor_as_match)
{
	struct pubsub_cursor	*cur;
	static const size_t	 budgets[] = { 1, 2, 3, 7, 1000 };
	size_t			 b, i;
	int			 k;

	/* No match: done at once. */
	ck_assert_int_eq(pubsub_cursor_new(ps, "zzz", 3, &cur), 0);
	nccalls = 0;
	ck_assert(pubsub_cursor_next(cur, 1, record_cursor, NULL,
	    &(uint64_t){ 0 }));
	ck_assert_uint_eq(nccalls, 0);
	pubsub_cursor_free(cur);
	for (k = 0; k < NCONNS; k++) {
		if (k < 4)
			ck_assert_int_eq(sub(k, "abc"), 0);
		ck_assert_int_eq(psub(k, "a*"), 0);
		if (k >= 2 && k < 6)
			ck_assert_int_eq(psub(k, "*"), 0);
	}
	ck_assert_int_eq(psub(7, "abc*"), 0);
	conns[5].flags |= HUB_CLIENT_F_GONE;	/* skipped by both */
	ck_assert_uint_eq(pubsub_match_count(ps, "abc", 3), 4 + 8 + 4 + 1);
	ck_assert_uint_eq(match("abc"), 4 + 7 + 3 + 1);
	for (b = 0; b < sizeof(budgets) / sizeof(budgets[0]); b++) {
		nccalls = 0;
		ck_assert_int_eq(pubsub_cursor_new(ps, "abc", 3, &cur), 0);
		ck_assert_uint_eq(drain(cur, budgets[b]), ncalls);
		pubsub_cursor_free(cur);
		ck_assert_uint_eq(nccalls, ncalls);
		for (i = 0; i < ncalls; i++) {
			ck_assert_ptr_eq(ccalls[i].c, calls[i].c);
			ck_assert_int_eq(ccalls[i].pattern, calls[i].pattern);
			ck_assert_uint_eq(ccalls[i].plen, calls[i].plen);
			ck_assert(memcmp(ccalls[i].pat, calls[i].pat,
			    calls[i].plen) == 0);
		}
	}
	conns[5].flags &= ~HUB_CLIENT_F_GONE;
}
END_TEST

/*
 * Between slices subscriptions go (the next one, a whole topic, the one
 * just visited) and come: none dropped is visited, none made after the
 * start is, nothing is freed under the cursor (ASan would say).
 */
START_TEST(test_cursor_changes_between_slices)
{
	struct pubsub_cursor	*cur;
	uint64_t		 n = 0;
	size_t			 i;

	for (i = 0; i < 6; i++)
		ck_assert_int_eq(sub((int)i, "ch"), 0);
	ck_assert_int_eq(psub(0, "c*"), 0);
	ck_assert_int_eq(psub(1, "c*"), 0);
	ck_assert_int_eq(psub(2, "*"), 0);
	ck_assert_int_eq(pubsub_cursor_new(ps, "ch", 2, &cur), 0);
	nccalls = 0;
	ck_assert(!pubsub_cursor_next(cur, 1, record_cursor, NULL, &n));
	ck_assert_ptr_eq(ccalls[0].c, &conns[0]);
	/* The next in line goes, and the one after it; then comes back. */
	ck_assert_int_eq(unsub(1, "ch"), 0);
	pubsub_client_gone(ps, &conns[2]);	/* all of 2's, "*" with it */
	ck_assert_int_eq(sub(1, "ch"), 0);	/* new: not this message's */
	ck_assert_int_eq(sub(6, "ch"), 0);
	ck_assert(!pubsub_cursor_next(cur, 1, record_cursor, NULL, &n));
	ck_assert_ptr_eq(ccalls[1].c, &conns[3]);
	/* The whole "c*" topic goes before the cursor reaches it. */
	ck_assert_int_eq(punsub(0, "c*"), 0);
	ck_assert_int_eq(punsub(1, "c*"), 0);
	n += drain(cur, 1);
	pubsub_cursor_free(cur);
	ck_assert_uint_eq(nccalls, 4);
	ck_assert_ptr_eq(ccalls[2].c, &conns[4]);
	ck_assert_ptr_eq(ccalls[3].c, &conns[5]);
	ck_assert_uint_eq(n, 4);
	for (i = 0; i < nccalls; i++)
		ck_assert(!ccalls[i].pattern);
	/* Freed half-way, then everything dropped: nothing dangles. */
	ck_assert_int_eq(pubsub_cursor_new(ps, "ch", 2, &cur), 0);
	ck_assert(!pubsub_cursor_next(cur, 1, record_cursor, NULL, &n));
	for (i = 0; i < NCONNS; i++)
		pubsub_client_gone(ps, &conns[i]);
	ck_assert(pubsub_cursor_next(cur, 1, record_cursor, NULL, &n));
	pubsub_cursor_free(cur);
}
END_TEST

/* --- against a model ----------------------------------------------------- */

struct model_sub {
	int	conn;
	bool	pattern;
	uint8_t	name[8];	/* a pattern's without its '*' */
	size_t	len;
};

#define MODEL_MAX	512

static struct model_sub	model[MODEL_MAX];
static size_t		nmodel;

static size_t
model_find(int conn, bool pattern, const uint8_t *name, size_t len)
{
	size_t	i;

	for (i = 0; i < nmodel; i++)
		if (model[i].conn == conn && model[i].pattern == pattern &&
		    model[i].len == len &&
		    memcmp(model[i].name, name, len) == 0)
			return i;
	return SIZE_MAX;
}

static size_t
model_count(int conn)
{
	size_t	i, n = 0;

	for (i = 0; i < nmodel; i++)
		n += model[i].conn == conn;
	return n;
}

static bool
model_matches(const struct model_sub *m, const uint8_t *ch, size_t len)
{
	if (!m->pattern)
		return m->len == len && memcmp(m->name, ch, len) == 0;
	return m->len <= len && memcmp(m->name, ch, m->len) == 0;
}

static void
model_check_stats(void)
{
	struct pubsub_stats	st;
	uint64_t		channels = 0, patterns = 0, subscribers = 0;
	size_t			i, j;
	int			c;

	for (i = 0; i < nmodel; i++) {
		/* Count each distinct topic once, at its first entry. */
		for (j = 0; j < i; j++)
			if (model[j].pattern == model[i].pattern &&
			    model[j].len == model[i].len &&
			    memcmp(model[j].name, model[i].name,
			    model[i].len) == 0)
				break;
		if (j == i) {
			if (model[i].pattern)
				patterns++;
			else
				channels++;
		}
	}
	for (c = 0; c < NCONNS; c++) {
		ck_assert_uint_eq(pubsub_client_count(&conns[c]),
		    model_count(c));
		if (model_count(c) > 0)
			subscribers++;
		else
			ck_assert_ptr_null(conns[c].subs);
	}
	pubsub_stats(ps, &st);
	ck_assert_uint_eq(st.channels, channels);
	ck_assert_uint_eq(st.patterns, patterns);
	ck_assert_uint_eq(st.subscribers, subscribers);
}

/* A short name over a tiny alphabet (NUL included), so names collide. */
static size_t
random_name(uint8_t *name)
{
	static const uint8_t	alpha[] = { 'a', 'b', '\0' };
	size_t			len = (size_t)(random() % 5), i;

	for (i = 0; i < len; i++)
		name[i] = alpha[random() % 3];
	return len;
}

START_TEST(test_model)
{
	struct pubsub_stats	st;
	uint8_t			name[8], pat[9];
	size_t			len, i, k, expect;
	uint64_t		steps;
	bool			pattern, seen[MODEL_MAX];
	int			op, c, ret, step;

	srandom(1234);
	limits.subscriptions_max = 12;
	nmodel = 0;
	for (step = 0; step < 20000; step++) {
		op = (int)(random() % 100);
		c = (int)(random() % NCONNS);
		pattern = random() % 2;
		len = random_name(name);
		memcpy(pat, name, len);
		pat[len] = '*';
		if (op < 45) {
			ret = pubsub_subscribe(ps, &conns[c],
			    pattern ? pat : name, len + pattern, pattern);
			if (model_find(c, pattern, name, len) != SIZE_MAX)
				ck_assert_int_eq(ret, PUBSUB_E_EXISTS);
			else if (model_count(c) >= 12)
				ck_assert_int_eq(ret, PUBSUB_E_LIMIT);
			else {
				ck_assert_int_eq(ret, 0);
				ck_assert_uint_lt(nmodel, MODEL_MAX);
				model[nmodel].conn = c;
				model[nmodel].pattern = pattern;
				memcpy(model[nmodel].name, name, len);
				model[nmodel].len = len;
				nmodel++;
			}
		} else if (op < 75) {
			ret = pubsub_unsubscribe(ps, &conns[c],
			    pattern ? pat : name, len + pattern, pattern);
			k = model_find(c, pattern, name, len);
			if (k == SIZE_MAX)
				ck_assert_int_eq(ret, PUBSUB_E_ABSENT);
			else {
				ck_assert_int_eq(ret, 0);
				model[k] = model[--nmodel];
			}
		} else if (op < 80) {
			pubsub_client_gone(ps, &conns[c]);
			for (k = 0; k < nmodel; )
				if (model[k].conn == c)
					model[k] = model[--nmodel];
				else
					k++;
		} else {
			pubsub_stats(ps, &st);
			steps = st.match_steps;
			/* Every call is one model entry, each at most once. */
			ck_assert_uint_eq(match_n((const char *)name, len),
			    ncalls);
			pubsub_stats(ps, &st);
			ck_assert_uint_le(st.match_steps - steps, 2 * len + 1);
			memset(seen, 0, sizeof(seen));
			for (i = 0; i < ncalls; i++) {
				struct call	*cl = &calls[i];

				/* An exact call's name is the channel. */
				if (cl->pattern)
					k = model_find((int)(cl->c - conns),
					    true, cl->pat, cl->plen - 1);
				else
					k = model_find((int)(cl->c - conns),
					    false, name, len);
				ck_assert_uint_ne(k, SIZE_MAX);
				ck_assert(!seen[k]);
				ck_assert(model_matches(&model[k], name, len));
				seen[k] = true;
			}
			expect = 0;
			for (k = 0; k < nmodel; k++)
				expect += model_matches(&model[k], name, len);
			ck_assert_uint_eq(ncalls, expect);
		}
		if (step % 97 == 0)
			model_check_stats();
	}
	model_check_stats();
}
END_TEST

START_TEST(test_push_size)
{
	/* Header, three argument lengths, channel, message, channel + '*'. */
	ck_assert_uint_eq(pubsub_push_size(0, 0), 10 + 12 + 1);
	ck_assert_uint_eq(pubsub_push_size(5, 100), 10 + 12 + 5 + 100 + 6);
}
END_TEST

#if defined(HAVE_MALLINFO2) && !defined(__SANITIZE_ADDRESS__)
/* Bytes the heap has handed out now (chunk overheads included). */
static size_t
heap_used(void)
{
	struct mallinfo2	mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}
#endif

/*
 * What a client is charged for its subscriptions covers what they make
 * the heap hold, patterns included: their tree nodes copy whole paths,
 * and a pair of long patterns that part at the last byte adds a split
 * node of almost their length. These were charged at about 40% of it.
 * Not wildly more either, or client_memory_max would evict the innocent.
 */
START_TEST(test_charge_covers_heap)
{
#if defined(HAVE_MALLINFO2) && !defined(__SANITIZE_ADDRESS__)
	static char	name[1002];
	size_t		before, held;
	uint64_t	charged;
	int		i, j, pattern;

	for (pattern = 0; pattern < 2; pattern++) {
		before = heap_used();
		for (i = 0; i < 512; i++)
			for (j = 0; j < 2; j++) {
				memset(name, 'a' + (i % 26), 998);
				snprintf(name, 12, "%05d.", i);
				name[5] = '.';
				name[998] = j ? 'b' : 'a';
				name[999] = '*';
				ck_assert_int_eq(pubsub_subscribe(ps, &conns[0],
				    name, pattern ? 1000 : 999,
				    pattern != 0), 0);
			}
		held = heap_used() - before;
		charged = conns[0].mem.bytes;
		ck_assert_msg(charged >= held, "%s: %zu bytes on the heap, "
		    "%llu charged", pattern ? "patterns" : "channels", held,
		    (unsigned long long)charged);
		ck_assert_msg(charged <= 3 * held, "%s: %zu bytes on the "
		    "heap, %llu charged", pattern ? "patterns" : "channels",
		    held, (unsigned long long)charged);
		pubsub_unsubscribe_all(ps, &conns[0], pattern != 0);
		ck_assert_uint_eq(conns[0].mem.bytes, 0);
	}
#endif
}
END_TEST

static Suite *
pubsub_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("pubsub");

	tc = tcase_create("patterns");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pattern_check);
	tcase_add_test(tc, test_pattern_rejected);
	tcase_add_test(tc, test_match_exact_vs_prefix);
	tcase_add_test(tc, test_match_star_alone);
	tcase_add_test(tc, test_match_binary);
	tcase_add_test(tc, test_literal_star_channel);
	tcase_add_test(tc, test_match_same_conn_twice);
	tcase_add_test(tc, test_many_patterns);
	tcase_add_test(tc, test_linear_match);
	tcase_add_test(tc, test_push_size);
	suite_add_tcase(s, tc);

	tc = tcase_create("bookkeeping");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_counts);
	tcase_add_test(tc, test_limit);
	tcase_add_test(tc, test_unsubscribe_all);
	tcase_add_test(tc, test_conn_closed);
	tcase_add_test(tc, test_topics_freed);
	tcase_add_test(tc, test_free_with_subscribers);
	tcase_add_test(tc, test_charge_covers_heap);
	suite_add_tcase(s, tc);

	tc = tcase_create("walk");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_kill_during_walk);
	tcase_add_test(tc, test_kill_last_subscriber_during_walk);
	tcase_add_test(tc, test_kill_everyone_during_walk);
	tcase_add_test(tc, test_cursor_as_match);
	tcase_add_test(tc, test_cursor_changes_between_slices);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_model);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(pubsub_suite());
}
