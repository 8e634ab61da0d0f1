/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_integ_status.c: STATUS of the real iomuxd: every field of the
 * connection layer present and well-formed, its request and byte counters
 * moving by exactly what was sent, and the hub's fields (keys, queues,
 * subscribers, locks, blocked clients, per-opcode counters) following what
 * clients do and returning to zero.
 *
 * Every test starts its own daemon ("$IOMUXD -f -s DIR/sock -b BACKEND")
 * in a private directory and stops it by PID at the end, asserting a clean
 * exit. Each TCase runs once per backend in $IOMUXD_BACKENDS (default
 * "epoll poll select"). The hub case sends its requests with arguments
 * encoded by hand (integ-util.h's hub calls), so it checks the protocol of
 * iomuxd-protocol(7) and does not lean on libiomux's typed calls.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "iomux.h"
#include "integ-util.h"
#include "testutil.h"

/* The fields that are decimal integers. */
static const char *const status_numeric[] = {
	"pid", "uptime", "clients", "max_clients", "clients_accepted",
	"clients_refused", "clients_timed_out", "clients_dropped", "requests",
	"requests.hello", "requests.ping", "requests.status",
	"requests.unknown", "errors_proto", "bytes_in", "bytes_out", "wakeups",
	"events", "rss", "frame_max",
};

/* ---- STATUS --------------------------------------------------------- */

START_TEST(test_status_fields)
{
	struct tu_daemon	 d;
	struct iomux_client	*c;
	struct status		 s;
	const char		*p;
	size_t			 i;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);
	status_get(c, &s);
	for (i = 0; i < sizeof status_numeric / sizeof status_numeric[0];
	    i++)
		(void)snum(&s, status_numeric[i]);
	ASSERT(strstr(sstr(&s, "version"), "0.1.0") != NULL,
	    "STATUS version \"%s\"", sstr(&s, "version"));
	ASSERT(snum(&s, "pid") == (long long)d.pid, "STATUS pid %s, want %ld",
	    sstr(&s, "pid"), (long)d.pid);
	ASSERT(strcmp(sstr(&s, "backend"), BACKEND) == 0,
	    "STATUS backend \"%s\", want \"%s\"", sstr(&s, "backend"),
	    BACKEND);
	ASSERT(strcmp(sstr(&s, "activation"), "standalone") == 0,
	    "STATUS activation \"%s\"", sstr(&s, "activation"));
	ASSERT(list_has(sstr(&s, "listeners"), d.sock),
	    "STATUS listeners \"%s\" lacks %s", sstr(&s, "listeners"),
	    d.sock);
	ASSERT(snum(&s, "clients") >= 1, "STATUS clients %s",
	    sstr(&s, "clients"));
	ASSERT(snum(&s, "max_clients") >= 1 && snum(&s, "max_clients") <=
	    10000, "STATUS max_clients %s", sstr(&s, "max_clients"));
	ASSERT(snum(&s, "clients_accepted") >= 1, "clients_accepted %s",
	    sstr(&s, "clients_accepted"));
	ASSERT(snum(&s, "clients_refused") == 0, "clients_refused %s",
	    sstr(&s, "clients_refused"));
	ASSERT(snum(&s, "clients_dropped") == 0, "clients_dropped %s",
	    sstr(&s, "clients_dropped"));
	ASSERT(snum(&s, "errors_proto") == 0, "errors_proto %s",
	    sstr(&s, "errors_proto"));
	ASSERT(snum(&s, "requests.status") >= 1, "requests.status %s",
	    sstr(&s, "requests.status"));
	ASSERT(snum(&s, "uptime") < 60, "uptime %s", sstr(&s, "uptime"));
	ASSERT(snum(&s, "rss") >= 4096 && snum(&s, "rss") < (1LL << 32),
	    "rss %s", sstr(&s, "rss"));
	ASSERT(snum(&s, "frame_max") == 1048576, "frame_max %s",
	    sstr(&s, "frame_max"));
	ASSERT(snum(&s, "wakeups") >= 1 && snum(&s, "events") >= 1,
	    "wakeups %s events %s", sstr(&s, "wakeups"), sstr(&s, "events"));
	/* events_per_wakeup: a decimal like "1.27". */
	p = sstr(&s, "events_per_wakeup");
	ASSERT(*p >= '0' && *p <= '9', "events_per_wakeup \"%s\"", p);
	ASSERT(strtod(p, NULL) > 0.0 && strspn(p, "0123456789.") ==
	    strlen(p), "events_per_wakeup \"%s\"", p);
	iomux_close(c);
	dstop(&d);
}
END_TEST

START_TEST(test_status_counts)
{
	struct tu_daemon	 d;
	struct iomux_client	*c;
	struct iomux_reply	 r;
	struct status		 s1, s2;
	int			 i, rc;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);
	status_get(c, &s1);
	rc = iomux_hello(c, &r);
	ASSERT(rc == 0 && r.code == IOMUX_ST_OK, "HELLO");
	for (i = 0; i < 3; i++) {
		rc = iomux_ping(c, "p", 1, &r);
		ASSERT(rc == 0 && r.code == IOMUX_ST_OK, "PING %d", i);
	}
	rc = iomux_call(c, OP_UNKNOWN, 0, NULL, &r);
	ASSERT(rc == 0 && r.code == IOMUX_ST_EUNKNOWN,
	    "unknown op: rc %d status 0x%04x", rc, r.code);
	status_get(c, &s2);

#define DELTA(n)	(snum(&s2, n) - snum(&s1, n))
	ASSERT(DELTA("requests.hello") == 1, "requests.hello +%lld, want +1",
	    DELTA("requests.hello"));
	ASSERT(DELTA("requests.ping") == 3, "requests.ping +%lld, want +3",
	    DELTA("requests.ping"));
	ASSERT(DELTA("requests.unknown") == 1, "requests.unknown +%lld, "
	    "want +1", DELTA("requests.unknown"));
	ASSERT(DELTA("requests.status") == 1, "requests.status +%lld, want "
	    "+1", DELTA("requests.status"));
	ASSERT(DELTA("requests") == 6, "requests +%lld, want +6 (1 hello, "
	    "3 ping, 1 unknown, 1 status)", DELTA("requests"));
	ASSERT(DELTA("bytes_in") > 0 && DELTA("bytes_out") > 0,
	    "bytes_in +%lld bytes_out +%lld", DELTA("bytes_in"),
	    DELTA("bytes_out"));
	ASSERT(DELTA("errors_proto") == 0, "errors_proto +%lld",
	    DELTA("errors_proto"));
	ASSERT(snum(&s2, "pid") == (long long)d.pid, "pid");
#undef DELTA
	iomux_close(c);
	dstop(&d);
}
END_TEST

/* ---- the hub's fields ----------------------------------------------- */

static const char *const hub_fields[] = {
	"keys", "keys_expiring", "data_bytes", "max_memory", "queues",
	"queued_items", "channels", "patterns", "subscribers",
	"subscribers_dropped", "locks_held", "lock_waiters",
	"blocked_clients",
	"requests.get", "requests.set", "requests.del", "requests.exists",
	"requests.incr", "requests.keys", "requests.ttl", "requests.expire",
	"requests.persist", "requests.wait", "requests.push", "requests.pop",
	"requests.qlen", "requests.peek", "requests.subscribe",
	"requests.unsubscribe", "requests.psubscribe",
	"requests.punsubscribe", "requests.publish", "requests.lock",
	"requests.trylock", "requests.unlock",
};

START_TEST(test_status_hub_fields)
{
	struct tu_daemon	 d;
	struct iomux_client	*c, *s1, *s2, *w, *adm;
	long long		 base, v;
	uint32_t		 idpop, idwait, idlock;
	size_t			 i;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);
	s1 = lconnect(&d);
	s2 = lconnect(&d);
	w = lconnect(&d);
	adm = lconnect(&d);

	/* Every field, a decimal number; a fresh daemon holds nothing. */
	for (i = 0; i < sizeof(hub_fields) / sizeof(hub_fields[0]); i++) {
		v = STAT(adm, hub_fields[i]);
		if (strcmp(hub_fields[i], "max_memory") == 0)
			ASSERT(v == 256LL << 20, "default max_memory %lld", v);
		else if (strcmp(hub_fields[i], "data_bytes") != 0)
			ASSERT(v == 0, "fresh daemon: %s = %lld",
			    hub_fields[i], v);
	}
	base = STAT(adm, "data_bytes");

	/* Key-value. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("a"), V("0123456789", 10));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("b"), S("x"), U64(60000));
	STATS(adm, { "keys", 2 }, { "keys_expiring", 1 });
	v = STAT(adm, "data_bytes");
	ASSERT(v >= base + 13, "data_bytes %lld after storing 13 bytes "
	    "(base %lld)", v, base);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PERSIST, S("b"));
	STATS_WHY(adm, "after PERSIST", { "keys_expiring", 0 });
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("a"));
	STATS(adm, { "requests.get", 1 }, { "requests.set", 2 },
	    { "requests.persist", 1 });

	/* Queues. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUSH, S("q1"), S("1"), S("2"), S("3"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUSH, S("q2"), S("1"));
	STATS(adm, { "queues", 2 }, { "queued_items", 4 });
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_POP, S("q2"));
	STATS(adm, { "queues", 1 }, { "queued_items", 3 });
	ASSERT(STAT(adm, "data_bytes") > v, "data_bytes does not count "
	    "queue items");

	/* Pub/sub. */
	EXPECT(s1, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("x"), S("y"));
	EXPECT(s2, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("x"));
	EXPECT(s2, IOMUX_ST_OK, IOMUX_OP_PSUBSCRIBE, S("z.*"), S("w*"));
	STATS(adm, { "channels", 2 }, { "patterns", 2 }, { "subscribers", 2 });
	EXPECT0(s1, IOMUX_ST_OK, IOMUX_OP_UNSUBSCRIBE);
	STATS(adm, { "channels", 1 }, { "subscribers", 1 });
	EXPECT(s2, IOMUX_ST_OK, IOMUX_OP_UNSUBSCRIBE, S("x"));
	STATS_WHY(adm, "a connection with patterns only is a subscriber",
	    { "channels", 0 }, { "subscribers", 1 });

	/* Locks and blocked clients. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_LOCK, S("L"));
	idlock = SEND(w, IOMUX_OP_LOCK, S("L"), FOREVER);
	WAIT_STAT(adm, "lock_waiters", 1);
	STATS(adm, { "locks_held", 1 }, { "blocked_clients", 1 });
	idwait = SEND(s1, IOMUX_OP_WAIT, S("nokey"), FOREVER);
	WAIT_STAT(adm, "blocked_clients", 2);
	idpop = SEND(s2, IOMUX_OP_POP, S("noq"), FOREVER);
	WAIT_STAT(adm, "blocked_clients", 3);
	STATS(adm, { "lock_waiters", 1 });
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("L"));
	RECV(w, IOMUX_ST_OK, idlock);
	STATS(adm, { "lock_waiters", 0 }, { "locks_held", 1 });
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("nokey"), S("1"));
	RECV(s1, IOMUX_ST_OK, idwait);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUSH, S("noq"), S("1"));
	RECV(s2, IOMUX_ST_OK, idpop);
	WAIT_STAT(adm, "blocked_clients", 0);
	iomux_close(w);
	WAIT_STAT(adm, "locks_held", 0);

	/* Counters: one request each, counted by name. */
	STATS(adm, { "requests.wait", 1 }, { "requests.pop", 2 },
	    { "requests.lock", 2 }, { "requests.unlock", 1 },
	    { "requests.psubscribe", 1 }, { "requests.unsubscribe", 2 });

	/* Deleting everything: back to the start. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_DEL, S("a"), S("b"), S("nokey"));
	while (CALL(c, IOMUX_OP_POP, S("q1")).code == IOMUX_ST_OK)
		;
	STATS(adm, { "keys", 0 }, { "queues", 0 }, { "queued_items", 0 });
	STATS_WHY(adm, "after deleting everything", { "data_bytes", base });
	iomux_close(s2);
	WAIT_STAT(adm, "subscribers", 0);
	STATS(adm, { "patterns", 0 });
	STATS_WHY(adm, "nobody was cut off", { "subscribers_dropped", 0 });

	iomux_close(adm);
	iomux_close(s1);
	iomux_close(c);
	dstop(&d);
}
END_TEST

/* ---- main ----------------------------------------------------------- */

static Suite *
integ_status_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("integ_status");

	tc = tcase(s, "status", 30);
	LOOP(tc, test_status_fields);
	LOOP(tc, test_status_counts);

	tc = tcase(s, "hub_status", 30);
	LOOP(tc, test_status_hub_fields);

	return s;
}

int
main(void)
{
	return integ_main("check_integ_status", integ_status_suite);
}
