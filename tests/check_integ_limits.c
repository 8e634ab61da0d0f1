/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_integ_limits.c: the configured limits of the real iomuxd:
 * max_clients (EBUSY, then room again after a close), the output limit and
 * timeout for clients that do not read, key_max and value_max on every hub
 * command, subscriptions_max per connection, and max_memory (ENOMEM,
 * nothing evicted, space freed is usable again).
 *
 * Every test starts its own daemon ("$IOMUXD -f -s DIR/sock -b BACKEND")
 * in a private directory and stops it by PID at the end, asserting a clean
 * exit. Each TCase runs once per backend in $IOMUXD_BACKENDS (default
 * "epoll poll select"). Raw-socket tests build and parse frames with
 * testutil's hand-written big-endian code, not with proto/codec.c, so a
 * bug shared by the codec and the daemon cannot hide. Timing bounds are
 * generous (these are not benchmarks) so the suite passes on a loaded
 * 2-core box.
 *
 * Every argument is encoded by hand (integ-util.h's hub calls), so these
 * tests check the protocol of iomuxd-protocol(7) and do not lean on
 * libiomux's typed calls (the hub cases).
 */

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "iomux.h"
#include "integ-util.h"
#include "testutil.h"

/* ---- connection limits ---------------------------------------------- */

START_TEST(test_max_clients)
{
	struct tu_daemon	 d;
	struct iomux_client	*c[5], *n;
	struct iomux_reply	 r;
	struct tu_frame		 f;
	struct status		 s;
	int			 i, fd, rc;

	dstart(&d, BACKEND, "--max-clients", "5", NULL);
	c[0] = lconnect(&d);
	wait_clients(c[0], 1);	/* the readiness probe's close has landed */
	for (i = 0; i < 5; i++) {
		if (i > 0)
			c[i] = lconnect(&d);
		rc = iomux_ping(c[i], "in", 2, &r);
		ASSERT(rc == 0 && r.code == IOMUX_ST_OK, "client %d of 5: "
		    "ping: %s", i + 1, strerror(-rc));
	}
	fd = rconnect(&d);
	rexpect(fd, &f, IOMUX_ST_EBUSY, 0);
	ASSERT(tu_arg_eq(&f.args[0], "too many clients", 16),
	    "EBUSY message \"%.*s\"", (int)f.args[0].len,
	    (const char *)f.args[0].p);
	tu_frame_free(&f);
	rexpect_eof(fd, 2000, "6th client");
	close(fd);

	status_get(c[0], &s);
	ASSERT(snum(&s, "clients_refused") == 1, "clients_refused %s",
	    sstr(&s, "clients_refused"));
	ASSERT(snum(&s, "max_clients") == 5, "max_clients %s",
	    sstr(&s, "max_clients"));
	ASSERT(snum(&s, "clients") == 5, "clients %s", sstr(&s, "clients"));

	iomux_close(c[1]);
	c[1] = NULL;
	wait_clients(c[0], 4);
	n = lconnect(&d);
	rc = iomux_ping(n, "room again", 10, &r);
	ASSERT(rc == 0 && r.code == IOMUX_ST_OK, "client after a close: "
	    "rc %d status 0x%04x", rc, rc == 0 ? r.code : 0);
	status_get(n, &s);
	ASSERT(snum(&s, "clients_refused") == 1, "clients_refused %s",
	    sstr(&s, "clients_refused"));
	iomux_close(n);
	for (i = 0; i < 5; i++)
		iomux_close(c[i]);
	dstop(&d);
}
END_TEST

/*
 * Clients that do not read their replies. With --output-limit 64K the
 * high mark is 32K: above it the daemon stops reading the client, and
 * drops it after --output-timeout (1 s here; 10 s by default). A single
 * reply that would pass the hard limit drops the client at once.
 */
START_TEST(test_output_limit)
{
	struct tu_daemon	 d;
	struct tu_arg		 a;
	struct pollfd		 pfd;
	uint8_t			*pl, *fr;
	size_t			 fsz, off = 0;
	ssize_t			 w;
	int64_t			 t0, deadline, dt;
	int			 fd, dropped = 0, err = 0, rc;

	pl = malloc(512 * 1024);
	ASSERT(pl != NULL, "malloc");
	memset(pl, 'o', 512 * 1024);
	dstart(&d, BACKEND, "--output-limit", "64K", "--output-timeout", "1",
	    "--value-max", "32K", NULL);

	/* Hard limit: one 512 KiB reply cannot fit in 64K plus the kernel. */
	fd = rconnect(&d);
	a.p = pl;
	a.len = 512 * 1024;
	rsend_req(fd, IOMUX_OP_PING, 1, 1, &a);
	t0 = tu_now_ms();
	pfd.fd = fd;
	pfd.events = 0;		/* only POLLHUP: do not read the reply */
	rc = poll(&pfd, 1, 3000);
	dt = tu_now_ms() - t0;
	ASSERT(rc == 1 && (pfd.revents & POLLHUP), "a 512 KiB reply to a "
	    "non-reader with --output-limit 64K: not dropped within 3 s");
	ASSERT(dt < 900, "hard output limit: dropped only after %lld ms "
	    "(by the 1 s output timeout, not the limit?)", (long long)dt);
	close(fd);
	lping_fresh(&d, "after the hard output limit");

	/* Soft limit: many small pings, never read. */
	a.len = 4096;
	fsz = tu_encode_req(NULL, 0, IOMUX_OP_PING, 1, 1, &a);
	fr = malloc(fsz);
	ASSERT(fr != NULL, "malloc");
	tu_encode_req(fr, fsz, IOMUX_OP_PING, 1, 1, &a);
	fd = rconnect(&d);
	deadline = tu_now_ms() + 5000;
	while (tu_now_ms() < deadline) {
		w = send(fd, fr + off, fsz - off, MSG_NOSIGNAL);
		if (w > 0) {
			off = (off + (size_t)w) % fsz;
			continue;
		}
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno != EAGAIN) {
			err = errno;
			dropped = 1;
			break;
		}
		/* Stalled: the daemon stopped reading us. Others go on. */
		lping_fresh(&d, "while a client is stalled");
		pfd.fd = fd;
		pfd.events = POLLOUT;
		(void)poll(&pfd, 1, 50);
	}
	ASSERT(dropped, "a pipelining client that never reads was not "
	    "dropped within 5 s (--output-limit 64K --output-timeout 1)");
	ASSERT(err == EPIPE || err == ECONNRESET, "write error %s",
	    strerror(err));
	close(fd);
	lping_fresh(&d, "after a dropped client");
	ASSERT(lstatus_num(&d, "clients_dropped") >= 2, "clients_dropped "
	    "%lld, want >= 2", lstatus_num(&d, "clients_dropped"));
	dalive(&d, "after output limit");
	free(fr);
	free(pl);
	dstop(&d);
}
END_TEST

/* ---- hub limits ----------------------------------------------------- */

/* An ELIMIT reply whose message names the limit. */
static void
helimit(int line, struct iomux_client *c, const char *limit, uint16_t op,
    size_t argc, const struct iomux_value *argv)
{
	struct iomux_reply	r;

	r = hexpect(line, c, IOMUX_ST_ELIMIT, op, argc, argv);
	ASSERT(strstr(errtext(&r), limit) != NULL, "line %d: %s: ELIMIT "
	    "message \"%s\" does not name %s", line, opname(op), errtext(&r),
	    limit);
}
#define ELIMIT(c, lim, op, ...)						\
	helimit(__LINE__, (c), (lim), (op), NARG(__VA_ARGS__),		\
	    ARGV(__VA_ARGS__))

START_TEST(test_limits)
{
	struct tu_daemon	 d;
	struct iomux_client	*c, *s;
	struct iomux_reply	 r;
	char			 k16[17], k17[18], v1000[1000], v1001[1001];
	struct iomux_value	 K16, K17, V1000, V1001;

	memset(k16, 'k', 16);
	k16[16] = '\0';
	memset(k17, 'k', 17);
	k17[17] = '\0';
	memset(v1000, 'v', sizeof(v1000));
	memset(v1001, 'v', sizeof(v1001));
	K16 = V(k16, 16);
	K17 = V(k17, 17);
	V1000 = V(v1000, sizeof(v1000));
	V1001 = V(v1001, sizeof(v1001));

	dstart_conf(&d, BACKEND, "key_max = 16\nvalue_max = 1000\n"
	    "subscriptions_max = 3\n", NULL);
	c = lconnect(&d);
	s = lconnect(&d);

	/* At the limit: fine. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, K16, V1000);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, K16);
	ARG_EQ(r, 0, v1000, sizeof(v1000));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUSH, K16, V1000);
	OK_U64(r, 1);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUBLISH, K16, V1000);
	OK_U64(r, 0);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TRYLOCK, K16);

	/* Over: ELIMIT naming the limit, nothing stored. */
	ELIMIT(c, "key_max", IOMUX_OP_SET, K17, S("v"));
	ELIMIT(c, "value_max", IOMUX_OP_SET, S("k"), V1001);
	ELIMIT(c, "value_max", IOMUX_OP_SET, K16, V1001);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, K16);
	ARG_EQ(r, 0, v1000, sizeof(v1000));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("k"));
	ELIMIT(c, "key_max", IOMUX_OP_GET, K17);
	ELIMIT(c, "key_max", IOMUX_OP_DEL, S("a"), K17);
	ELIMIT(c, "key_max", IOMUX_OP_EXISTS, K17);
	ELIMIT(c, "key_max", IOMUX_OP_INCR, K17);
	ELIMIT(c, "key_max", IOMUX_OP_TTL, K17);
	ELIMIT(c, "key_max", IOMUX_OP_EXPIRE, K17, U64(1000));
	ELIMIT(c, "key_max", IOMUX_OP_PERSIST, K17);
	ELIMIT(c, "key_max", IOMUX_OP_WAIT, K17, U64(100));
	ELIMIT(c, "key_max", IOMUX_OP_PUSH, K17, S("v"));
	ELIMIT(c, "value_max", IOMUX_OP_PUSH, S("q"), S("ok"), V1001);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, S("q"));
	OK_U64(r, 0);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, K16);
	OK_U64(r, 1);
	ELIMIT(c, "key_max", IOMUX_OP_POP, K17);
	ELIMIT(c, "key_max", IOMUX_OP_POP, K17, U64(100));
	ELIMIT(c, "key_max", IOMUX_OP_QLEN, K17);
	ELIMIT(c, "key_max", IOMUX_OP_PEEK, K17);
	ELIMIT(c, "key_max", IOMUX_OP_PUBLISH, K17, S("m"));
	ELIMIT(c, "value_max", IOMUX_OP_PUBLISH, S("ch"), V1001);
	ELIMIT(c, "key_max", IOMUX_OP_SUBSCRIBE, K17);
	ELIMIT(c, "key_max", IOMUX_OP_PSUBSCRIBE, V("kkkkkkkkkkkkkkkk*", 17));
	ELIMIT(c, "key_max", IOMUX_OP_LOCK, K17);
	ELIMIT(c, "key_max", IOMUX_OP_LOCK, K17, U64(100));
	ELIMIT(c, "key_max", IOMUX_OP_TRYLOCK, K17);
	ELIMIT(c, "key_max", IOMUX_OP_UNLOCK, K17);
	PING(c, "after the limit errors");

	/* subscriptions_max per connection, exact and patterns together. */
	r = EXPECT(s, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("a"), S("b"));
	OK_U64(r, 2);
	r = EXPECT(s, IOMUX_ST_OK, IOMUX_OP_PSUBSCRIBE, S("p*"));
	OK_U64(r, 3);
	ELIMIT(s, "subscriptions_max", IOMUX_OP_SUBSCRIBE, S("c"));
	ELIMIT(s, "subscriptions_max", IOMUX_OP_PSUBSCRIBE, S("q*"));
	/* Re-subscribing to one already held adds nothing. */
	r = EXPECT(s, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("a"));
	OK_U64(r, 3);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("c"), S("x"));
	OK_U64(r, 0);
	r = EXPECT(s, IOMUX_ST_OK, IOMUX_OP_UNSUBSCRIBE, S("a"));
	OK_U64(r, 2);
	r = EXPECT(s, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("c"));
	OK_U64(r, 3);
	/* Another connection has its own allowance. */
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("a"), S("b"),
	    S("c"));
	OK_U64(r, 3);
	r = EXPECT0(c, IOMUX_ST_OK, IOMUX_OP_UNSUBSCRIBE);
	OK_U64(r, 0);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("c"), S("x"));
	OK_U64(r, 1);
	RECV_PUSH(s, "c", "x", NULL);

	iomux_close(s);
	iomux_close(c);
	dstop(&d);
}
END_TEST

#define MEM_MAX		65536
#define MEM_VAL		1000

START_TEST(test_max_memory)
{
	struct tu_daemon	 d;
	struct iomux_client	*c, *adm;
	struct iomux_reply	 r;
	uint8_t			 val[MEM_VAL], *big;
	char			 key[16];
	long long		 base, bytes;
	int			 k, stored = -1;

	big = malloc(8 * MEM_VAL);
	ASSERT(big != NULL, "malloc");
	dstart_conf(&d, BACKEND, "max_memory = 65536\n", NULL);
	c = lconnect(&d);
	adm = lconnect(&d);

	STATS(adm, { "max_memory", MEM_MAX });
	base = STAT(adm, "data_bytes");

	/* Fill until refused. */
	for (k = 0; k < 2 * MEM_MAX / MEM_VAL; k++) {
		snprintf(key, sizeof(key), "k%03d", k);
		fill(val, sizeof(val), (unsigned)k);
		r = CALL(c, IOMUX_OP_SET, S(key), V(val, sizeof(val)));
		if (r.code == IOMUX_ST_OK)
			continue;
		hcheck_status(__LINE__, &r, IOMUX_OP_SET, IOMUX_ST_ENOMEM);
		ASSERT(strstr(errtext(&r), "out of memory") != NULL &&
		    strstr(errtext(&r), "max_memory") != NULL, "ENOMEM "
		    "message \"%s\" should say \"out of memory\" and name "
		    "max_memory", errtext(&r));
		stored = k;
		break;
	}
	ASSERT(stored >= 0, "%d values of %d bytes stored with max_memory "
	    "%d", k, MEM_VAL, MEM_MAX);
	ASSERT(stored >= MEM_MAX / MEM_VAL / 2, "only %d values of %d bytes "
	    "fit in max_memory %d", stored, MEM_VAL, MEM_MAX);
	bytes = STAT(adm, "data_bytes");
	ASSERT(bytes <= MEM_MAX && bytes - base >= (long long)stored *
	    MEM_VAL, "data_bytes %lld (base %lld) for %d values of %d bytes, "
	    "max_memory %d", bytes, base, stored, MEM_VAL, MEM_MAX);
	STATS(adm, { "keys", stored });

	/* The refused write did not happen. */
	snprintf(key, sizeof(key), "k%03d", stored);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_EXISTS, S(key));
	OK_U64(r, 0);
	/* Other writes are refused too; nothing is evicted. */
	fill(big, 8 * MEM_VAL, 99);
	EXPECT(c, IOMUX_ST_ENOMEM, IOMUX_OP_SET, S("k000"),
	    V(big, 8 * MEM_VAL));
	EXPECT(c, IOMUX_ST_ENOMEM, IOMUX_OP_PUSH, S("q"), V(big, 8 * MEM_VAL));
	EXPECT(c, IOMUX_ST_ENOMEM, IOMUX_OP_PUSH, S("q"), V(big, MEM_VAL),
	    V(big, MEM_VAL), V(big, MEM_VAL), V(big, MEM_VAL));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, S("q"));
	OK_U64(r, 0);
	EXPECT(c, IOMUX_ST_ENOMEM, IOMUX_OP_SET, S("new"), V(big, 4 * MEM_VAL));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("new"));
	/* Everything stored before is readable and intact. */
	for (k = 0; k < stored; k++) {
		snprintf(key, sizeof(key), "k%03d", k);
		fill(val, sizeof(val), (unsigned)k);
		r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S(key));
		ARGC(r, 1);
		ARG_EQ(r, 0, val, sizeof(val));
	}
	STATS_WHY(adm, "refused writes must not move it",
	    { "data_bytes", bytes });
	/* Reads, deletes and pub/sub still work. */
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("ch"), S("m"));
	OK_U64(r, 0);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_DEL, S("k000"), S("k001"),
	    S("k002"), S("k003"), S("k004"));
	OK_U64(r, 5);
	ASSERT(STAT(adm, "data_bytes") <= bytes - 5 * MEM_VAL, "data_bytes "
	    "%lld after deleting 5 values of %d bytes (was %lld)",
	    STAT(adm, "data_bytes"), MEM_VAL, bytes);
	/* Space freed is usable again. */
	fill(val, sizeof(val), 500);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("again"), V(val, sizeof(val)));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUSH, S("q"), V(val, sizeof(val)));
	OK_U64(r, 1);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_POP, S("q"));
	ARG_EQ(r, 0, val, sizeof(val));
	/* Deleting everything returns data_bytes to where it started. */
	for (k = 5; k < stored; k++) {
		snprintf(key, sizeof(key), "k%03d", k);
		r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_DEL, S(key));
		OK_U64(r, 1);
	}
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_DEL, S("again"));
	OK_U64(r, 1);
	STATS_WHY(adm, "after deleting everything", { "data_bytes", base });

	free(big);
	iomux_close(adm);
	iomux_close(c);
	dstop(&d);
}
END_TEST

/* ---- main ----------------------------------------------------------- */

static Suite *
integ_limits_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("integ_limits");

	tc = tcase(s, "conn_limits", 60);
	LOOP(tc, test_max_clients);
	LOOP(tc, test_output_limit);

	tc = tcase(s, "hub_limits", 30);
	LOOP(tc, test_limits);
	LOOP(tc, test_max_memory);

	return s;
}

int
main(void)
{
	return integ_main("check_integ_limits", integ_limits_suite);
}
