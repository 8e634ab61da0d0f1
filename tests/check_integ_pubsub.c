/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_integ_pubsub.c: publish and subscribe in the real iomuxd:
 * SUBSCRIBE, UNSUBSCRIBE and PUBLISH on exact channels (binary names and
 * messages, order, delivery counts), PSUBSCRIBE and PUNSUBSCRIBE patterns
 * with overlapping matches, and a subscriber that never reads cut off at
 * its output limit while the others get every message and the publisher
 * never waits; idle_timeout spares subscribers, silent or receiving.
 *
 * Every argument is encoded by hand (integ-util.h's hub calls), so these
 * tests check the protocol of iomuxd-protocol(7) and do not lean on
 * libiomux's typed calls. Every test starts its own daemon in a private
 * directory and stops it by PID, asserting a clean exit. Each TCase runs
 * once per backend in $IOMUXD_BACKENDS. Timing bounds are generous (a
 * loaded 2-core box): "promptly" means within a second, and a deadline of
 * D ms must not fire before D - 20.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "iomux.h"
#include "integ-util.h"
#include "testutil.h"

/* ---- pub/sub -------------------------------------------------------- */

START_TEST(test_pubsub_exact)
{
	static const uint8_t	 binch[] = { 'b', 0, 'c', 'h' };
	static const uint8_t	 binmsg[] = { 0, 'm', 0, 0xfe };
	struct tu_daemon	 d;
	struct iomux_client	*s1, *s2, *p, *adm;
	struct iomux_reply	 r;
	uint32_t		 id;
	int			 k, got_push, got_reply;

	dstart(&d, BACKEND, NULL);
	s1 = lconnect(&d);
	s2 = lconnect(&d);
	p = lconnect(&d);
	adm = lconnect(&d);

	r = EXPECT(s1, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("news"),
	    V(binch, sizeof(binch)));
	OK_U64(r, 2);
	r = EXPECT(s2, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("news"));
	OK_U64(r, 1);
	/* Subscribing twice to one channel is one subscription. */
	r = EXPECT(s1, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("news"));
	OK_U64(r, 2);
	STATS(adm, { "channels", 2 }, { "subscribers", 2 });

	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("news"), S("hello"));
	OK_U64(r, 2);
	RECV_PUSH(s1, "news", "hello", NULL);
	RECV_PUSH(s2, "news", "hello", NULL);
	/* Binary channel and message; the message may be empty. */
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH,
	    V(binch, sizeof(binch)), V(binmsg, sizeof(binmsg)));
	OK_U64(r, 1);
	hrecv_push(__LINE__, s1, binch, sizeof(binch), binmsg,
	    sizeof(binmsg), NULL);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("news"), V("", 0));
	OK_U64(r, 2);
	RECV_PUSH(s1, "news", "", NULL);
	RECV_PUSH(s2, "news", "", NULL);
	/* Nobody listens: 0; similar names do not match. */
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("nobody"), S("x"));
	OK_U64(r, 0);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("new"), S("x"));
	OK_U64(r, 0);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("news2"), S("x"));
	OK_U64(r, 0);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, V("b", 1), S("x"));
	OK_U64(r, 0);

	/* In order, many. */
	for (k = 0; k < 200; k++) {
		char	m[16];

		snprintf(m, sizeof(m), "m%d", k);
		r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("news"), S(m));
		OK_U64(r, 2);
	}
	for (k = 0; k < 200; k++) {
		char	m[16];

		snprintf(m, sizeof(m), "m%d", k);
		RECV_PUSH(s1, "news", m, NULL);
		RECV_PUSH(s2, "news", m, NULL);
	}

	/* A subscriber may still send requests; it publishes to itself. */
	id = SEND(s2, IOMUX_OP_PUBLISH, S("news"), S("self"));
	got_push = got_reply = 0;
	for (k = 0; k < 2; k++) {
		memset(&r, 0, sizeof(r));
		ASSERT(iomux_recv(s2, &r) == 0, "s2 recv: %s",
		    iomux_errmsg(s2));
		if (r.kind == IOMUX_KIND_PUSH) {
			hpush(__LINE__, &r, "news", 4, "self", 4, NULL);
			got_push++;
		} else {
			ASSERT(r.id == id, "reply id %u, want %u", r.id, id);
			hcheck_status(__LINE__, &r, IOMUX_OP_PUBLISH,
			    IOMUX_ST_OK);
			OK_U64(r, 2);
			got_reply++;
		}
	}
	ASSERT(got_push == 1 && got_reply == 1, "self-publish: %d pushes, %d "
	    "replies", got_push, got_reply);
	RECV_PUSH(s1, "news", "self", NULL);
	PING(s2, "a subscriber's PING");

	/* UNSUBSCRIBE stops delivery. */
	r = EXPECT(s1, IOMUX_ST_OK, IOMUX_OP_UNSUBSCRIBE, S("news"));
	OK_U64(r, 1);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("news"), S("after"));
	OK_U64(r, 1);
	RECV_PUSH(s2, "news", "after", NULL);
	/* s1 gets its PING reply first: no push was queued for it. */
	id = SEND(s1, IOMUX_OP_PING, S("sync"));
	r = RECV(s1, IOMUX_ST_OK, id);
	ARG_STR(r, 0, "sync");
	/* Unsubscribing from a channel one is not on: the count stays. */
	r = EXPECT(s1, IOMUX_ST_OK, IOMUX_OP_UNSUBSCRIBE, S("news"));
	OK_U64(r, 1);
	/* No arguments: all exact channels. */
	r = EXPECT0(s1, IOMUX_ST_OK, IOMUX_OP_UNSUBSCRIBE);
	OK_U64(r, 0);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, V(binch, sizeof(binch)),
	    S("x"));
	OK_U64(r, 0);
	STATS_WHY(adm, "after UNSUBSCRIBE", { "channels", 1 },
	    { "subscribers", 1 });
	/* A subscriber that closes is gone. */
	iomux_close(s2);
	WAIT_STAT(adm, "subscribers", 0);
	STATS(adm, { "channels", 0 });
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("news"), S("x"));
	OK_U64(r, 0);

	/* Shapes. */
	EXPECT0(s1, IOMUX_ST_EARGS, IOMUX_OP_SUBSCRIBE);
	EXPECT(s1, IOMUX_ST_EARGS, IOMUX_OP_SUBSCRIBE, NONE);
	EXPECT(p, IOMUX_ST_EARGS, IOMUX_OP_PUBLISH, S("news"));
	EXPECT(p, IOMUX_ST_EARGS, IOMUX_OP_PUBLISH, S("news"), NONE);
	EXPECT(p, IOMUX_ST_EARGS, IOMUX_OP_PUBLISH, NONE, S("x"));
	PING(p, "after pub/sub errors");

	iomux_close(adm);
	iomux_close(p);
	iomux_close(s1);
	dstop(&d);
}
END_TEST

/* The next n frames on c are pushes; each must match one of want[]. */
struct want_push {
	const char	*ch;
	const char	*msg;
	const char	*pattern;
	int		 seen;
};

static void
hrecv_pushes(int line, struct iomux_client *c, struct want_push *w, int n)
{
	struct iomux_reply	r;
	int			k, j, rc, pat;

	for (k = 0; k < n; k++) {
		memset(&r, 0, sizeof(r));
		rc = iomux_recv(c, &r);
		ASSERT(rc == 0, "line %d: push %d of %d: %s (%s)", line,
		    k + 1, n, strerror(-rc), iomux_errmsg(c));
		ASSERT(r.kind == IOMUX_KIND_PUSH, "line %d: frame kind %u, "
		    "want a push", line, r.kind);
		pat = r.argc == 3;
		for (j = 0; j < n; j++) {
			if (w[j].seen || (w[j].pattern != NULL) != pat)
				continue;
			if (pat && (r.argv[2].len != strlen(w[j].pattern) ||
			    memcmp(r.argv[2].data, w[j].pattern,
			    r.argv[2].len) != 0))
				continue;
			break;
		}
		ASSERT(j < n, "line %d: unexpected push (argc %zu)", line,
		    r.argc);
		hpush(line, &r, w[j].ch, strlen(w[j].ch), w[j].msg,
		    strlen(w[j].msg), w[j].pattern);
		w[j].seen = 1;
	}
}

START_TEST(test_pubsub_pattern)
{
	static const char *const bad[] = {
		"a*b", "abc", "**", "*.x", "", "a**", "*a*", "jobs.*.x",
	};
	struct tu_daemon	 d;
	struct iomux_client	*s1, *s2, *p, *adm;
	struct iomux_reply	 r;
	uint32_t		 id;
	size_t			 i;

	dstart(&d, BACKEND, NULL);
	s1 = lconnect(&d);
	s2 = lconnect(&d);
	p = lconnect(&d);
	adm = lconnect(&d);

	r = EXPECT(s1, IOMUX_ST_OK, IOMUX_OP_PSUBSCRIBE, S("jobs.*"));
	OK_U64(r, 1);
	r = EXPECT(s2, IOMUX_ST_OK, IOMUX_OP_PSUBSCRIBE, S("*"));
	OK_U64(r, 1);
	/* Exact and pattern subscriptions count together. */
	r = EXPECT(s2, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("jobs.1"));
	OK_U64(r, 2);
	STATS(adm, { "patterns", 2 }, { "channels", 1 }, { "subscribers", 2 });

	/* jobs.1: s1 by pattern, s2 by pattern and exactly: 3. */
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("jobs.1"), S("run"));
	OK_U64(r, 3);
	RECV_PUSH(s1, "jobs.1", "run", "jobs.*");
	{
		struct want_push w[2] = {
			{ "jobs.1", "run", NULL, 0 },
			{ "jobs.1", "run", "*", 0 },
		};
		hrecv_pushes(__LINE__, s2, w, 2);
	}
	/* "jobs.*" matches "jobs." (empty rest) but not "jobs". */
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("jobs."), S("e"));
	OK_U64(r, 2);
	RECV_PUSH(s1, "jobs.", "e", "jobs.*");
	RECV_PUSH(s2, "jobs.", "e", "*");
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("jobs"), S("f"));
	OK_U64(r, 1);
	RECV_PUSH(s2, "jobs", "f", "*");
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("jobsX1"), S("g"));
	OK_U64(r, 1);
	RECV_PUSH(s2, "jobsX1", "g", "*");
	/* A '*' in a channel name is a plain byte. */
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("jobs.*"), S("h"));
	OK_U64(r, 2);
	RECV_PUSH(s1, "jobs.*", "h", "jobs.*");
	RECV_PUSH(s2, "jobs.*", "h", "*");
	/* s1 had nothing more. */
	id = SEND(s1, IOMUX_OP_PING, S("sync"));
	RECV(s1, IOMUX_ST_OK, id);

	/* Bad patterns: EARGS; the count is unchanged. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		hexpect(__LINE__, s1, IOMUX_ST_EARGS, IOMUX_OP_PSUBSCRIBE, 1,
		    ARGV(S(bad[i])));
	/* Overlapping patterns on one connection: one push each. */
	r = EXPECT(s1, IOMUX_ST_OK, IOMUX_OP_PSUBSCRIBE, S("jobs.1*"));
	OK_U64(r, 2);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("jobs.12"), S("i"));
	OK_U64(r, 3);
	{
		struct want_push w[2] = {
			{ "jobs.12", "i", "jobs.*", 0 },
			{ "jobs.12", "i", "jobs.1*", 0 },
		};
		hrecv_pushes(__LINE__, s1, w, 2);
	}
	RECV_PUSH(s2, "jobs.12", "i", "*");

	/* PUNSUBSCRIBE stops the pattern's deliveries. */
	r = EXPECT(s1, IOMUX_ST_OK, IOMUX_OP_PUNSUBSCRIBE, S("jobs.*"));
	OK_U64(r, 1);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("jobs.2"), S("j"));
	OK_U64(r, 1);
	RECV_PUSH(s2, "jobs.2", "j", "*");
	id = SEND(s1, IOMUX_OP_PING, S("sync"));
	RECV(s1, IOMUX_ST_OK, id);
	/* PUNSUBSCRIBE of a name that is not a pattern is EARGS, even one
	 * subscribed exactly, and the whole request does nothing; a
	 * pattern not subscribed is ignored. */
	EXPECT(s2, IOMUX_ST_EARGS, IOMUX_OP_PUNSUBSCRIBE, S("jobs.1"));
	EXPECT(s2, IOMUX_ST_EARGS, IOMUX_OP_PUNSUBSCRIBE, S("*"), S("jobs.1"));
	r = EXPECT(s2, IOMUX_ST_OK, IOMUX_OP_PUNSUBSCRIBE, S("zzz*"));
	OK_U64(r, 2);
	/* No arguments: all patterns; exact subscriptions stay. */
	r = EXPECT0(s2, IOMUX_ST_OK, IOMUX_OP_PUNSUBSCRIBE);
	OK_U64(r, 1);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("jobs.1"), S("k"));
	OK_U64(r, 2);
	RECV_PUSH(s2, "jobs.1", "k", NULL);
	RECV_PUSH(s1, "jobs.1", "k", "jobs.1*");
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("other"), S("l"));
	OK_U64(r, 0);
	STATS(adm, { "patterns", 1 });
	iomux_close(s1);
	WAIT_STAT(adm, "patterns", 0);
	STATS(adm, { "subscribers", 1 });

	iomux_close(adm);
	iomux_close(p);
	iomux_close(s2);
	dstop(&d);
}
END_TEST

/*
 * A subscriber that never reads is cut off at its output limit; another
 * subscriber receives every message in order; the publisher never waits.
 */
#define SLOW_MSG	4096
#define SLOW_MAX	4000	/* 16 MiB: far past 64K plus socket buffers */

START_TEST(test_pubsub_slow_subscriber)
{
	struct tu_daemon	 d;
	struct iomux_client	*good, *bad, *p, *adm;
	struct iomux_reply	 r;
	uint8_t			 msg[SLOW_MSG];
	int64_t			 t0;
	long long		 dt, worst = 0;
	uint64_t		 n;
	int			 k, dropped_at = -1, next_bad = 0, rc;

	dstart(&d, BACKEND, "--output-limit", "64K", "--value-max", "32K",
	    NULL);
	good = lconnect(&d);
	bad = lconnect(&d);
	p = lconnect(&d);
	adm = lconnect(&d);

	r = EXPECT(good, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("firehose"));
	OK_U64(r, 1);
	r = EXPECT(bad, IOMUX_ST_OK, IOMUX_OP_PSUBSCRIBE, S("fire*"));
	OK_U64(r, 1);
	STATS_WHY(adm, "at start", { "subscribers_dropped", 0 });

	for (k = 0; k < SLOW_MAX; k++) {
		fill(msg, sizeof(msg), (unsigned)k);
		memcpy(msg, &k, sizeof(k));
		t0 = tu_now_ms();
		r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("firehose"),
		    V(msg, sizeof(msg)));
		dt = since(t0);
		if (dt > worst)
			worst = dt;
		n = ARG_U64(r, 0);
		ARGC(r, 1);
		if (dropped_at < 0) {
			ASSERT(n == 2 || n == 1, "PUBLISH %d: %" PRIu64
			    " deliveries", k, n);
			if (n == 1)
				dropped_at = k;
		} else
			ASSERT(n == 1, "PUBLISH %d after the drop: %" PRIu64
			    " deliveries", k, n);
		hrecv_push(__LINE__, good, "firehose", 8, msg, sizeof(msg),
		    NULL);
		if (dropped_at >= 0 && k >= dropped_at + 50)
			break;
	}
	ASSERT(dropped_at >= 0, "a subscriber that never reads was not cut "
	    "off after %d messages of %d bytes (--output-limit 64K)", k,
	    SLOW_MSG);
	ASSERT(worst < PROMPT_MS, "a PUBLISH took %lld ms", worst);
	ASSERT(STAT(adm, "subscribers_dropped") >= 1, "subscribers_dropped "
	    "%lld", STAT(adm, "subscribers_dropped"));
	WAIT_STAT(adm, "subscribers", 1);
	WAIT_STAT(adm, "patterns", 0);

	/* The cut-off subscriber: a prefix, in order, then end of stream. */
	for (;;) {
		memset(&r, 0, sizeof(r));
		rc = iomux_recv(bad, &r);
		if (rc != 0)
			break;
		fill(msg, sizeof(msg), (unsigned)next_bad);
		memcpy(msg, &next_bad, sizeof(next_bad));
		hpush(__LINE__, &r, "firehose", 8, msg, sizeof(msg), "fire*");
		next_bad++;
		ASSERT(next_bad <= dropped_at, "the dropped subscriber got "
		    "message %d, dropped at %d", next_bad, dropped_at);
	}
	ASSERT(rc == -ECONNRESET || rc == -EPIPE, "the dropped subscriber: "
	    "%s (%s), want end of stream", strerror(-rc), iomux_errmsg(bad));
	iomux_close(bad);
	PING(good, "the good subscriber after the drop");
	PING(p, "the publisher after the drop");
	ASSERT(tu_daemon_alive(&d), "iomuxd died");

	iomux_close(adm);
	iomux_close(p);
	iomux_close(good);
	dstop(&d);
}
END_TEST

/*
 * idle_timeout (300 ms here) never closes a subscriber: one that receives
 * nothing for a second, and one that only receives for a second, are
 * both still there, as is a pattern subscriber. A plain client is closed
 * on time, and so is a subscriber once it has unsubscribed from its last
 * channel.
 */
START_TEST(test_pubsub_idle)
{
	struct tu_daemon	 d;
	struct iomux_client	*s1, *s2, *p;
	struct iomux_reply	 r;
	int64_t			 t0;
	int			 plain, gone, k;

	dstart(&d, BACKEND, "--idle-timeout", "0.3", NULL);
	plain = rconnect(&d);
	rping(plain, 1, "then idle", 9);
	gone = rconnect(&d);
	RREQ(gone, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, RA("news"));
	RREQ(gone, IOMUX_ST_OK, IOMUX_OP_UNSUBSCRIBE, RA("news"));
	s1 = lconnect(&d);
	s2 = lconnect(&d);
	r = EXPECT(s1, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("news"));
	OK_U64(r, 1);
	r = EXPECT(s2, IOMUX_ST_OK, IOMUX_OP_PSUBSCRIBE, S("news*"));
	OK_U64(r, 1);

	/* A second of silence: the plain clients go, the subscribers stay. */
	rexpect_eof(plain, 3000, "idle plain client");
	rexpect_eof(gone, 3000, "idle client after its last unsubscribe");
	close(plain);
	close(gone);
	tu_sleep_ms(1000);
	PING(s1, "subscribed, silent for 1 s");
	PING(s2, "pattern-subscribed, silent for 1 s");

	/* A second of receiving only; the publisher stays active. */
	p = lconnect(&d);
	t0 = tu_now_ms();
	for (k = 0; since(t0) < 1000; k++) {
		r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("news"),
		    S("tick"));
		OK_U64(r, 2);
		RECV_PUSH(s1, "news", "tick", NULL);
		RECV_PUSH(s2, "news", "tick", "news*");
		tu_sleep_ms(100);
	}
	ASSERT(k >= 5, "only %d messages in a second", k);
	PING(s1, "subscribed, receiving for 1 s");
	PING(s2, "pattern-subscribed, receiving for 1 s");
	ASSERT(lstatus_num(&d, "clients_timed_out") == 2,
	    "clients_timed_out %lld, want 2 (the plain clients)",
	    lstatus_num(&d, "clients_timed_out"));

	iomux_close(p);
	iomux_close(s2);
	iomux_close(s1);
	dstop(&d);
}
END_TEST

/* ---- main ----------------------------------------------------------- */

static Suite *
integ_pubsub_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("integ_pubsub");

	tc = tcase(s, "pubsub", 30);
	LOOP(tc, test_pubsub_exact);
	LOOP(tc, test_pubsub_pattern);
	LOOP(tc, test_pubsub_slow_subscriber);
	LOOP(tc, test_pubsub_idle);

	return s;
}

int
main(void)
{
	return integ_main("check_integ_pubsub", integ_pubsub_suite);
}
