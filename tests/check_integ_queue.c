/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_integ_queue.c: the queue commands of the real iomuxd: PUSH, POP,
 * QLEN and PEEK; a blocking POP woken by a PUSH, timing out (without
 * counting as idle or spinning the loop), cancelled by a half-close or its
 * client going without losing an item, waiters served in FIFO order, and
 * two worker processes draining 10,000 items each exactly once.
 *
 * Every argument is encoded by hand (integ-util.h's hub calls), so these
 * tests check the protocol of iomuxd-protocol(7) and do not lean on
 * libiomux's typed calls. Every test starts its own daemon in a private
 * directory and stops it by PID, asserting a clean exit. Each TCase runs
 * once per backend in $IOMUXD_BACKENDS. Timing bounds are generous (a
 * loaded 2-core box): "promptly" means within a second, and a deadline of
 * D ms must not fire before D - 20.
 *
 * Processes forked here (queue workers) end with _exit(): exit() would run
 * testutil's atexit handler, which kills the daemon the parent is still
 * testing.
 */

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "iomux.h"
#include "integ-util.h"
#include "testutil.h"

/* ---- queues --------------------------------------------------------- */

START_TEST(test_queue_basic)
{
	struct tu_daemon	 d;
	struct iomux_client	*c, *adm;
	struct iomux_reply	 r;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);
	adm = lconnect(&d);

	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, S("q"));
	OK_U64(r, 0);
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_PEEK, S("q"));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_POP, S("q"));

	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUSH, S("q"), S("one"));
	OK_U64(r, 1);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUSH, S("q"), S("two"),
	    V("t\0ree", 5), V("", 0));
	OK_U64(r, 4);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, S("q"));
	OK_U64(r, 4);
	STATS(adm, { "queues", 1 }, { "queued_items", 4 });
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PEEK, S("q"));
	ARGC(r, 1);
	ARG_STR(r, 0, "one");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, S("q"));
	OK_U64(r, 4);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_POP, S("q"));
	ARGC(r, 1);
	ARG_STR(r, 0, "one");
	/* A POP with a timeout that has an item answers at once. */
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_POP, S("q"), U64(5000));
	ARG_STR(r, 0, "two");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_POP, S("q"), FOREVER);
	ARG_EQ(r, 0, "t\0ree", 5);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PEEK, S("q"));
	ARGC(r, 1);
	ASSERT(!r.argv[0].absent && r.argv[0].len == 0, "PEEK of an empty "
	    "item: absent %d len %zu", r.argv[0].absent, r.argv[0].len);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_POP, S("q"));
	ARGC(r, 1);
	ASSERT(!r.argv[0].absent && r.argv[0].len == 0, "POP of an empty "
	    "item: absent %d len %zu", r.argv[0].absent, r.argv[0].len);
	/* Empty now: the queue is gone. */
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_POP, S("q"));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, S("q"));
	OK_U64(r, 0);
	STATS_WHY(adm, "an empty queue is deleted", { "queues", 0 },
	    { "queued_items", 0 });

	/* Queues and keys are separate name spaces. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("same"), S("key"));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUSH, S("same"), S("item"));
	OK_U64(r, 1);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("same"));
	ARG_STR(r, 0, "key");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_POP, S("same"));
	ARG_STR(r, 0, "item");

	/* Shapes. */
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_PUSH, S("q"));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_PUSH, S("q"), NONE);
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_PUSH, NONE, S("v"));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_POP, S("q"), U32(10));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, S("q"));
	OK_U64(r, 0);
	PING(c, "after queue errors");

	iomux_close(adm);
	iomux_close(c);
	dstop(&d);
}
END_TEST

START_TEST(test_pop_woken)
{
	struct tu_daemon	 d;
	struct iomux_client	*a, *b, *adm;
	struct iomux_reply	 r;
	uint32_t		 id, idping;
	int64_t			 t0;

	dstart(&d, BACKEND, NULL);
	a = lconnect(&d);
	b = lconnect(&d);
	adm = lconnect(&d);

	id = SEND(a, IOMUX_OP_POP, S("jobs"), FOREVER);
	WAIT_STAT(adm, "blocked_clients", 1);
	QUIET(a, 100, "POP on an empty queue");
	t0 = tu_now_ms();
	/* The item goes straight to the waiter: it never sits queued. */
	r = EXPECT(b, IOMUX_ST_OK, IOMUX_OP_PUSH, S("jobs"), V("j\0b1", 4));
	OK_U64(r, 0);
	r = RECV(a, IOMUX_ST_OK, id);
	ARGC(r, 1);
	ARG_EQ(r, 0, "j\0b1", 4);
	ASSERT(since(t0) < PROMPT_MS, "POP woken %lld ms after PUSH",
	    since(t0));
	r = EXPECT(b, IOMUX_ST_OK, IOMUX_OP_QLEN, S("jobs"));
	OK_U64(r, 0);
	WAIT_STAT(adm, "blocked_clients", 0);
	STATS(adm, { "queued_items", 0 });

	/* With a finite timeout, and a PUSH of several: the rest stays. */
	id = SEND(a, IOMUX_OP_POP, S("jobs"), U64(5000));
	WAIT_STAT(adm, "blocked_clients", 1);
	r = EXPECT(b, IOMUX_ST_OK, IOMUX_OP_PUSH, S("jobs"), S("x"), S("y"),
	    S("z"));
	OK_U64(r, 2);
	r = RECV(a, IOMUX_ST_OK, id);
	ARG_STR(r, 0, "x");
	r = EXPECT(b, IOMUX_ST_OK, IOMUX_OP_POP, S("jobs"));
	ARG_STR(r, 0, "y");
	r = EXPECT(a, IOMUX_ST_OK, IOMUX_OP_POP, S("jobs"), U64(1000));
	ARG_STR(r, 0, "z");

	/* A blocked POP holds up the same connection's later requests. */
	id = SEND(a, IOMUX_OP_POP, S("jobs"), FOREVER);
	idping = SEND(a, IOMUX_OP_PING, S("behind"));
	WAIT_STAT(adm, "blocked_clients", 1);
	QUIET(a, 100, "a PING pipelined behind a blocked POP");
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_PUSH, S("jobs"), S("w"));
	r = RECV(a, IOMUX_ST_OK, id);
	ARG_STR(r, 0, "w");
	r = RECV(a, IOMUX_ST_OK, idping);
	ARG_STR(r, 0, "behind");

	/* A PUSH to another queue does not wake it. */
	id = SEND(a, IOMUX_OP_POP, S("jobs"), U64(300));
	WAIT_STAT(adm, "blocked_clients", 1);
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_PUSH, S("jobs2"), S("other"));
	RECV(a, IOMUX_ST_TIMEDOUT, id);
	r = EXPECT(b, IOMUX_ST_OK, IOMUX_OP_QLEN, S("jobs2"));
	OK_U64(r, 1);

	iomux_close(adm);
	iomux_close(b);
	iomux_close(a);
	dstop(&d);
}
END_TEST

START_TEST(test_pop_timeout)
{
	struct tu_daemon	 d;
	struct iomux_client	*a, *adm;
	struct iomux_reply	 r;
	int64_t			 t0;
	long long		 dt, wakeups;

	dstart(&d, BACKEND, NULL);
	a = lconnect(&d);
	adm = lconnect(&d);

	t0 = tu_now_ms();
	EXPECT(a, IOMUX_ST_TIMEDOUT, IOMUX_OP_POP, S("empty"), U64(200));
	dt = since(t0);
	ASSERT(dt >= 200 - EARLY_MS && dt < 200 + PROMPT_MS, "POP 200 ms "
	    "timed out after %lld ms", dt);
	/* The connection stays usable. */
	PING(a, "after POP timeout");
	r = EXPECT(a, IOMUX_ST_OK, IOMUX_OP_PUSH, S("empty"), S("v"));
	OK_U64(r, 1);
	r = EXPECT(a, IOMUX_ST_OK, IOMUX_OP_POP, S("empty"), U64(200));
	ARG_STR(r, 0, "v");
	STATS(adm, { "blocked_clients", 0 });
	/* A short and a long one. */
	t0 = tu_now_ms();
	EXPECT(a, IOMUX_ST_TIMEDOUT, IOMUX_OP_POP, S("empty"), U64(1));
	ASSERT(since(t0) < PROMPT_MS, "POP 1 ms took %lld ms", since(t0));
	PING(a, "after POP 1 ms");
	iomux_close(adm);
	iomux_close(a);
	dstop(&d);

	/*
	 * A blocked client is never timed out as idle, the loop sleeps
	 * while it waits, and the time spent blocked does not count as
	 * idle once it is answered.
	 */
	dstart(&d, BACKEND, "--idle-timeout", "0.3", NULL);
	a = lconnect(&d);
	adm = lconnect(&d);
	wakeups = STAT(adm, "wakeups");
	iomux_close(adm);	/* it would be idle */
	t0 = tu_now_ms();
	EXPECT(a, IOMUX_ST_TIMEDOUT, IOMUX_OP_POP, S("q"), U64(900));
	dt = since(t0);
	ASSERT(dt >= 900 - EARLY_MS, "POP 900 ms with --idle-timeout 0.3: "
	    "answered after %lld ms", dt);
	PING(a, "at once after a POP longer than the idle timeout");
	adm = lconnect(&d);
	wakeups = STAT(adm, "wakeups") - wakeups;
	ASSERT(wakeups < 100, "the loop woke %lld times while one client "
	    "was blocked for 900 ms (--idle-timeout 0.3): it spins",
	    wakeups);
	iomux_close(adm);
	iomux_close(a);
	dstop(&d);
}
END_TEST

/*
 * A client that half-closes while a request waits: the wait is cancelled
 * and nothing behind it is answered either (its reply would arrive out of
 * order); the connection closes and takes nothing from the queue.
 */
START_TEST(test_pop_half_close)
{
	struct tu_daemon	 d;
	struct iomux_client	*b;
	struct iomux_reply	 r;
	struct tu_arg		 a[2];
	uint8_t			 req[128], t[8];
	size_t			 n;
	ssize_t			 got;
	int			 fd;

	dstart(&d, BACKEND, NULL);
	b = lconnect(&d);
	fd = tu_connect_unix(d.sock, IO_MS);
	ASSERT(fd >= 0, "connect: %s", strerror(-fd));
	tu_put32(t, 0);
	tu_put32(t + 4, 5000);
	a[0].p = "hq";
	a[0].len = 2;
	a[1].p = t;
	a[1].len = 8;
	n = tu_encode_req(req, sizeof(req), IOMUX_OP_POP, 7, 2, a);
	n += tu_encode_req(req + n, sizeof(req) - n, IOMUX_OP_PING, 8, 0,
	    NULL);
	ASSERT(tu_write_all(fd, req, n, IO_MS) == 0, "write POP + PING");
	WAIT_STAT(b, "blocked_clients", 1);
	ASSERT(shutdown(fd, SHUT_WR) == 0, "shutdown: %s", strerror(errno));
	got = tu_wait_eof(fd, 2000);
	ASSERT(got == 0, "after a half-close during POP: %s", got < 0 ?
	    strerror((int)-got) : "a reply arrived (out of order)");
	close(fd);
	WAIT_STAT(b, "blocked_clients", 0);
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_PUSH, S("hq"), S("kept"));
	r = EXPECT(b, IOMUX_ST_OK, IOMUX_OP_POP, S("hq"));
	ARG_STR(r, 0, "kept");
	iomux_close(b);
	dstop(&d);
}
END_TEST

START_TEST(test_pop_waiter_gone)
{
	struct tu_daemon	 d;
	struct iomux_client	*a, *b, *c, *adm;
	struct iomux_reply	 r;
	char			 item[32];
	int			 round;

	dstart(&d, BACKEND, NULL);
	b = lconnect(&d);
	c = lconnect(&d);
	adm = lconnect(&d);

	/* A blocks, closes; B pushes; C gets the item. */
	a = lconnect(&d);
	SEND(a, IOMUX_OP_POP, S("q"), FOREVER);
	WAIT_STAT(adm, "blocked_clients", 1);
	iomux_close(a);
	WAIT_STAT(adm, "blocked_clients", 0);
	r = EXPECT(b, IOMUX_ST_OK, IOMUX_OP_PUSH, S("q"), S("precious"));
	OK_U64(r, 1);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_POP, S("q"));
	ARG_STR(r, 0, "precious");

	/*
	 * The same without waiting for the daemon to notice the close: the
	 * PUSH may be read in the same turn as A's end of stream. A waiter
	 * whose peer is gone must not take the item.
	 */
	for (round = 0; round < 20; round++) {
		a = lconnect(&d);
		SEND(a, IOMUX_OP_POP, S("q"), U64(60000));
		WAIT_STAT(adm, "blocked_clients", 1);
		iomux_close(a);
		snprintf(item, sizeof(item), "item %d", round);
		EXPECT(b, IOMUX_ST_OK, IOMUX_OP_PUSH, S("q"), S(item));
		r = CALL(c, IOMUX_OP_POP, S("q"), U64(2000));
		if (r.code != IOMUX_ST_OK) {
			hcheck_status(__LINE__, &r, IOMUX_OP_POP,
			    IOMUX_ST_TIMEDOUT);
			r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, S("q"));
			ASSERT(0, "round %d: the item pushed right after its "
			    "only waiter closed is lost: POP timed out after "
			    "2 s, QLEN %" PRIu64 ", queued_items %lld", round,
			    ARG_U64(r, 0), STAT(adm, "queued_items"));
		}
		ARG_STR(r, 0, item);
		WAIT_STAT(adm, "blocked_clients", 0);
	}
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, S("q"));
	OK_U64(r, 0);

	/* A blocked waiter at shutdown does not keep the daemon. */
	a = lconnect(&d);
	SEND(a, IOMUX_OP_POP, S("q"), FOREVER);
	WAIT_STAT(adm, "blocked_clients", 1);
	iomux_close(adm);
	iomux_close(c);
	iomux_close(b);
	dstop(&d);
	/* It was told (ESHUTDOWN), or at least not left hanging. */
	memset(&r, 0, sizeof(r));
	round = iomux_recv(a, &r);
	ASSERT(round == -ECONNRESET || (round == 0 && r.kind ==
	    IOMUX_KIND_REPLY && r.code == IOMUX_ST_ESHUTDOWN), "a client "
	    "blocked at shutdown: %s, status 0x%04x", strerror(-round),
	    r.code);
	iomux_close(a);
}
END_TEST

START_TEST(test_pop_fifo)
{
	struct tu_daemon	 d;
	struct iomux_client	*w[4], *p, *adm;
	struct iomux_reply	 r;
	uint32_t		 id[4];
	char			 want[16];
	int			 k;

	dstart(&d, BACKEND, NULL);
	p = lconnect(&d);
	adm = lconnect(&d);
	for (k = 0; k < 4; k++)
		w[k] = lconnect(&d);

	/* Four waiters in a known order (two with deadlines). */
	for (k = 0; k < 4; k++) {
		if (k % 2 == 0)
			id[k] = SEND(w[k], IOMUX_OP_POP, S("f"), FOREVER);
		else
			id[k] = SEND(w[k], IOMUX_OP_POP, S("f"), U64(10000));
		WAIT_STAT(adm, "blocked_clients", k + 1);
	}
	/* One PUSH of three: the first three waiters, in order. */
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUSH, S("f"), S("v0"), S("v1"),
	    S("v2"));
	OK_U64(r, 0);
	for (k = 0; k < 3; k++) {
		snprintf(want, sizeof(want), "v%d", k);
		r = RECV(w[k], IOMUX_ST_OK, id[k]);
		ARG_STR(r, 0, want);
	}
	QUIET(w[3], 100, "the fourth waiter after three items");
	STATS(adm, { "blocked_clients", 1 });
	/* The first three queue again behind the fourth. */
	for (k = 0; k < 3; k++) {
		id[k] = SEND(w[k], IOMUX_OP_POP, S("f"), FOREVER);
		WAIT_STAT(adm, "blocked_clients", k + 2);
	}
	for (k = 0; k < 4; k++) {
		snprintf(want, sizeof(want), "u%d", k);
		r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUSH, S("f"), S(want));
		OK_U64(r, 0);
	}
	r = RECV(w[3], IOMUX_ST_OK, id[3]);
	ARG_STR(r, 0, "u0");
	for (k = 0; k < 3; k++) {
		snprintf(want, sizeof(want), "u%d", k + 1);
		r = RECV(w[k], IOMUX_ST_OK, id[k]);
		ARG_STR(r, 0, want);
	}
	WAIT_STAT(adm, "blocked_clients", 0);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_QLEN, S("f"));
	OK_U64(r, 0);

	for (k = 0; k < 4; k++)
		iomux_close(w[k]);
	iomux_close(adm);
	iomux_close(p);
	dstop(&d);
}
END_TEST

/*
 * Two workers in child processes drain one queue with blocking POPs while
 * the parent pushes NITEMS items in batches of varying size, then one
 * "stop" per worker. Every item must come out exactly once.
 */
#define NITEMS		10000
#define NWORKERS	2

static void __attribute__((noreturn))
worker(const char *sock, const char *out)
{
	struct iomux_client	*c = NULL;
	struct iomux_value	 a[2];
	struct iomux_reply	 r;
	uint8_t			 t[8];
	FILE			*fp;
	char			 err[256];
	int			 k;

	alarm(60);
	if (iomux_connect_unix(sock, 20000, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, "worker: connect: %s\n", err);
		_exit(2);
	}
	if ((fp = fopen(out, "w")) == NULL)
		_exit(3);
	for (k = 0; k < 8; k++)
		t[k] = 0xff;
	a[0] = S("work");
	a[1] = V(t, 8);
	for (;;) {
		if (iomux_call(c, IOMUX_OP_POP, 2, a, &r) != 0) {
			fprintf(stderr, "worker: POP: %s\n", iomux_errmsg(c));
			_exit(4);
		}
		if (r.code != IOMUX_ST_OK || r.argc != 1 ||
		    r.argv[0].absent) {
			fprintf(stderr, "worker: POP status 0x%04x argc %zu\n",
			    r.code, r.argc);
			_exit(5);
		}
		if (r.argv[0].len == 4 && memcmp(r.argv[0].data, "stop",
		    4) == 0)
			break;
		if (fwrite(r.argv[0].data, 1, r.argv[0].len, fp) !=
		    r.argv[0].len || fputc('\n', fp) == EOF)
			_exit(6);
	}
	if (fclose(fp) != 0)
		_exit(7);
	iomux_close(c);
	_exit(0);
}

START_TEST(test_two_workers)
{
	struct iomux_value	 vals[1 + 97];
	char			 items[97][16], out[NWORKERS][PATH_MAX];
	char			 line[64];
	struct tu_daemon	 d;
	struct iomux_client	*p, *adm;
	struct iomux_reply	 r;
	unsigned char		*seen;
	pid_t			 pid[NWORKERS];
	FILE			*fp;
	int			 k, n, batch, next = 0, st, idx, got[NWORKERS];

	seen = calloc(NITEMS, 1);
	ASSERT(seen != NULL, "calloc");
	dstart(&d, BACKEND, NULL);
	p = lconnect(&d);
	adm = lconnect(&d);

	for (k = 0; k < NWORKERS; k++) {
		ASSERT((size_t)snprintf(out[k], sizeof(out[k]),
		    "%s/worker%d.out", d.dir, k) < sizeof(out[k]),
		    "path too long");
		fflush(NULL);
		pid[k] = fork();
		ASSERT(pid[k] != -1, "fork: %s", strerror(errno));
		if (pid[k] == 0)
			worker(d.sock, out[k]);
	}
	/* Both are blocked before the first item. */
	WAIT_STAT(adm, "blocked_clients", NWORKERS);

	for (batch = 1; next < NITEMS; batch = batch % 97 + 1) {
		n = NITEMS - next < batch ? NITEMS - next : batch;
		vals[0] = S("work");
		for (k = 0; k < n; k++) {
			snprintf(items[k], sizeof(items[k]), "item%05d",
			    next + k);
			vals[k + 1] = S(items[k]);
		}
		r = hexpect(__LINE__, p, IOMUX_ST_OK, IOMUX_OP_PUSH,
		    (size_t)n + 1, vals);
		ARGC(r, 1);
		next += n;
	}
	for (k = 0; k < NWORKERS; k++)
		EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUSH, S("work"), S("stop"));

	for (k = 0; k < NWORKERS; k++) {
		int64_t	deadline = tu_now_ms() + 30000;
		pid_t	w;

		while ((w = waitpid(pid[k], &st, WNOHANG)) == 0 &&
		    tu_now_ms() < deadline)
			tu_sleep_ms(10);
		if (w == 0) {
			kill(pid[k], SIGKILL);
			waitpid(pid[k], &st, 0);
		}
		ASSERT(w == pid[k], "worker %d did not finish in 30 s", k);
		ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "worker %d "
		    "failed (wait status 0x%x)", k, st);
	}
	for (k = 0; k < NWORKERS; k++) {
		fp = fopen(out[k], "r");
		ASSERT(fp != NULL, "open %s", out[k]);
		got[k] = 0;
		while (fgets(line, sizeof(line), fp) != NULL) {
			ASSERT(sscanf(line, "item%d", &idx) == 1 && idx >= 0 &&
			    idx < NITEMS, "worker %d popped \"%s\"", k, line);
			ASSERT(seen[idx] == 0, "item%05d popped twice", idx);
			seen[idx] = 1;
			got[k]++;
		}
		fclose(fp);
	}
	ASSERT(got[0] + got[1] == NITEMS, "workers popped %d + %d items, "
	    "want %d", got[0], got[1], NITEMS);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_QLEN, S("work"));
	OK_U64(r, 0);
	STATS(adm, { "queued_items", 0 }, { "queues", 0 });
	WAIT_STAT(adm, "blocked_clients", 0);

	free(seen);
	iomux_close(adm);
	iomux_close(p);
	dstop(&d);
}
END_TEST

/* ---- main ----------------------------------------------------------- */

static Suite *
integ_queue_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("integ_queue");

	tc = tcase(s, "queue", 60);
	LOOP(tc, test_queue_basic);
	LOOP(tc, test_pop_woken);
	LOOP(tc, test_pop_timeout);
	LOOP(tc, test_pop_waiter_gone);
	LOOP(tc, test_pop_half_close);
	LOOP(tc, test_pop_fifo);
	LOOP(tc, test_two_workers);

	return s;
}

int
main(void)
{
	return integ_main("check_integ_queue", integ_queue_suite);
}
