/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_integ_lock.c: the locks of the real iomuxd: LOCK, TRYLOCK and
 * UNLOCK (no re-entry, only the holder unlocks, binary names), waiters
 * served in FIFO order and timing out, every lock released when its holder
 * closes or is killed with SIGKILL, and leases that expire and start when
 * a waiter gets the lock.
 *
 * Every argument is encoded by hand (integ-util.h's hub calls), so these
 * tests check the protocol of iomuxd-protocol(7) and do not lean on
 * libiomux's typed calls. Every test starts its own daemon in a private
 * directory and stops it by PID, asserting a clean exit. Each TCase runs
 * once per backend in $IOMUXD_BACKENDS. Timing bounds are generous (a
 * loaded 2-core box): "promptly" means within a second, and a deadline of
 * D ms must not fire before D - 20.
 *
 * Processes forked here (a lock holder to kill -9) end with _exit():
 * exit() would run testutil's atexit handler, which kills the daemon the
 * parent is still testing.
 */

#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "iomux.h"
#include "integ-util.h"
#include "testutil.h"

/* ---- locks ---------------------------------------------------------- */

START_TEST(test_lock_basic)
{
	static const uint8_t	 binlock[] = { 'l', 0, 'k' };
	struct tu_daemon	 d;
	struct iomux_client	*a, *b, *adm;
	int64_t			 deadline;
	struct iomux_reply	 r;

	dstart(&d, BACKEND, NULL);
	a = lconnect(&d);
	b = lconnect(&d);
	adm = lconnect(&d);

	r = EXPECT(a, IOMUX_ST_OK, IOMUX_OP_LOCK, S("L"));
	ARGC(r, 0);
	STATS(adm, { "locks_held", 1 });
	/* No re-entry. */
	EXPECT(a, IOMUX_ST_CONFLICT, IOMUX_OP_LOCK, S("L"));
	EXPECT(a, IOMUX_ST_CONFLICT, IOMUX_OP_LOCK, S("L"), U64(100));
	EXPECT(a, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK, S("L"));
	EXPECT(b, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK, S("L"));
	/* Only the holder unlocks. */
	EXPECT(b, IOMUX_ST_ENOTOWNER, IOMUX_OP_UNLOCK, S("L"));
	EXPECT(b, IOMUX_ST_NOTFOUND, IOMUX_OP_UNLOCK, S("M"));
	r = EXPECT(a, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("L"));
	ARGC(r, 0);
	EXPECT(a, IOMUX_ST_NOTFOUND, IOMUX_OP_UNLOCK, S("L"));
	STATS(adm, { "locks_held", 0 });
	/* TRYLOCK takes a free lock. */
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_TRYLOCK, S("L"));
	EXPECT(a, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK, S("L"));
	EXPECT(a, IOMUX_ST_ENOTOWNER, IOMUX_OP_UNLOCK, S("L"));
	/* Binary names; several locks per connection. */
	EXPECT(a, IOMUX_ST_OK, IOMUX_OP_LOCK, V(binlock, sizeof(binlock)),
	    U64(1000));
	EXPECT(a, IOMUX_ST_OK, IOMUX_OP_TRYLOCK, V(binlock, 1));
	EXPECT(b, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK,
	    V(binlock, sizeof(binlock)));
	STATS(adm, { "locks_held", 3 });
	/* Locks and keys are separate name spaces. */
	EXPECT(a, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("L"));

	/* Closing releases every lock the connection holds. */
	iomux_close(b);
	deadline = tu_now_ms() + PROMPT_MS;
	for (;;) {
		r = CALL(a, IOMUX_OP_TRYLOCK, S("L"));
		if (r.code == IOMUX_ST_OK)
			break;
		hcheck_status(__LINE__, &r, IOMUX_OP_TRYLOCK,
		    IOMUX_ST_CONFLICT);
		ASSERT(tu_now_ms() < deadline, "a lock outlived its holder's "
		    "close by %d ms", PROMPT_MS);
		tu_sleep_ms(5);
	}
	iomux_close(a);
	WAIT_STAT(adm, "locks_held", 0);
	b = lconnect(&d);
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_TRYLOCK, V(binlock, sizeof(binlock)));
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_UNLOCK, V(binlock, sizeof(binlock)));

	/* Shapes. */
	EXPECT(b, IOMUX_ST_EARGS, IOMUX_OP_LOCK, S("L"), U32(5));
	EXPECT(b, IOMUX_ST_EARGS, IOMUX_OP_LOCK, NONE);
	EXPECT(b, IOMUX_ST_EARGS, IOMUX_OP_TRYLOCK, S("L"), U32(5));
	EXPECT0(b, IOMUX_ST_EARGS, IOMUX_OP_UNLOCK);
	STATS(adm, { "locks_held", 0 });

	iomux_close(adm);
	iomux_close(b);
	dstop(&d);
}
END_TEST

START_TEST(test_lock_wait)
{
	struct tu_daemon	 d;
	struct iomux_client	*a, *b, *c, *e, *adm;
	uint32_t		 idb, idc, ide;
	int64_t			 t0;
	long long		 dt;

	dstart(&d, BACKEND, NULL);
	a = lconnect(&d);
	b = lconnect(&d);
	c = lconnect(&d);
	e = lconnect(&d);
	adm = lconnect(&d);

	EXPECT(a, IOMUX_ST_OK, IOMUX_OP_LOCK, S("L"));
	/* Timeout: TIMEDOUT, the connection usable, no waiter left. */
	t0 = tu_now_ms();
	EXPECT(b, IOMUX_ST_TIMEDOUT, IOMUX_OP_LOCK, S("L"), U64(200));
	dt = since(t0);
	ASSERT(dt >= 200 - EARLY_MS && dt < 200 + PROMPT_MS, "LOCK 200 ms "
	    "timed out after %lld ms", dt);
	PING(b, "after LOCK timeout");
	STATS(adm, { "lock_waiters", 0 }, { "blocked_clients", 0 });

	/* FIFO: b, then e (which leaves), then c. */
	idb = SEND(b, IOMUX_OP_LOCK, S("L"), FOREVER);
	WAIT_STAT(adm, "lock_waiters", 1);
	ide = SEND(e, IOMUX_OP_LOCK, S("L"), U64(60000));
	WAIT_STAT(adm, "lock_waiters", 2);
	idc = SEND(c, IOMUX_OP_LOCK, S("L"), U64(60000));
	WAIT_STAT(adm, "lock_waiters", 3);
	STATS(adm, { "blocked_clients", 3 }, { "locks_held", 1 });
	iomux_close(e);
	WAIT_STAT(adm, "lock_waiters", 2);
	QUIET(b, 50, "a LOCK waiter while the lock is held");
	t0 = tu_now_ms();
	EXPECT(a, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("L"));
	RECV(b, IOMUX_ST_OK, idb);
	ASSERT(since(t0) < PROMPT_MS, "the next waiter got the lock %lld ms "
	    "after UNLOCK", since(t0));
	QUIET(c, 100, "the second waiter while the first holds the lock");
	EXPECT(a, IOMUX_ST_ENOTOWNER, IOMUX_OP_UNLOCK, S("L"));
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("L"));
	RECV(c, IOMUX_ST_OK, idc);
	STATS(adm, { "lock_waiters", 0 }, { "locks_held", 1 });
	/* A waiter behind a holder that closes. */
	idb = SEND(b, IOMUX_OP_LOCK, S("L"), U64(60000));
	WAIT_STAT(adm, "lock_waiters", 1);
	t0 = tu_now_ms();
	iomux_close(c);
	RECV(b, IOMUX_ST_OK, idb);
	ASSERT(since(t0) < PROMPT_MS, "the waiter got the lock %lld ms after "
	    "the holder closed", since(t0));
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("L"));
	STATS(adm, { "locks_held", 0 });

	(void)ide;
	iomux_close(adm);
	iomux_close(b);
	iomux_close(a);
	dstop(&d);
}
END_TEST

/*
 * The holder is a child process with the lock on its own connection;
 * kill -9 it and the waiter must get the lock at once.
 */
START_TEST(test_lock_kill9)
{
	struct tu_daemon	 d;
	struct iomux_client	*w, *adm;
	struct iomux_reply	 r;
	struct pollfd		 pfd;
	uint32_t		 id;
	int64_t			 t0;
	pid_t			 pid;
	char			 ch;
	int			 pfds[2], st, n;

	dstart(&d, BACKEND, NULL);
	ASSERT(pipe(pfds) == 0, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	ASSERT(pid != -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		struct iomux_client	*h = NULL;
		struct iomux_value	 a[1];
		char			 err[256];

		close(pfds[0]);
		alarm(30);
		if (iomux_connect_unix(d.sock, IO_MS, &h, err,
		    sizeof(err)) != 0)
			_exit(2);
		a[0] = S("cron");
		if (iomux_call(h, IOMUX_OP_LOCK, 1, a, &r) != 0 ||
		    r.code != IOMUX_ST_OK)
			_exit(3);
		if (write(pfds[1], "L", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(pfds[1]);
	pfd.fd = pfds[0];
	pfd.events = POLLIN;
	n = poll(&pfd, 1, IO_MS);
	ASSERT(n == 1 && read(pfds[0], &ch, 1) == 1 && ch == 'L',
	    "the child did not take the lock");
	close(pfds[0]);

	w = lconnect(&d);
	adm = lconnect(&d);
	EXPECT(w, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK, S("cron"));
	id = SEND(w, IOMUX_OP_LOCK, S("cron"), U64(10000));
	WAIT_STAT(adm, "lock_waiters", 1);
	QUIET(w, 100, "LOCK while the child holds it");
	t0 = tu_now_ms();
	ASSERT(kill(pid, SIGKILL) == 0, "kill: %s", strerror(errno));
	ASSERT(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) &&
	    WTERMSIG(st) == SIGKILL, "the holder did not die of SIGKILL");
	r = RECV(w, IOMUX_ST_OK, id);
	ARGC(r, 0);
	ASSERT(since(t0) < PROMPT_MS, "the waiter got the lock %lld ms after "
	    "the holder was killed", since(t0));
	STATS(adm, { "locks_held", 1 }, { "lock_waiters", 0 });
	EXPECT(w, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("cron"));

	iomux_close(adm);
	iomux_close(w);
	dstop(&d);
}
END_TEST

START_TEST(test_lock_lease)
{
	struct tu_daemon	 d;
	struct iomux_client	*a, *b, *adm;
	int64_t			 t0;
	long long		 dt;

	dstart(&d, BACKEND, NULL);
	a = lconnect(&d);
	b = lconnect(&d);
	adm = lconnect(&d);

	/* A lease that expires hands the lock to the waiter. */
	t0 = tu_now_ms();
	EXPECT(a, IOMUX_ST_OK, IOMUX_OP_LOCK, S("L"), NONE, U64(300));
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_LOCK, S("L"), U64(5000));
	dt = since(t0);
	ASSERT(dt >= 300 - EARLY_MS && dt < 300 + PROMPT_MS, "the waiter "
	    "got a 300 ms lease's lock after %lld ms", dt);
	/* The old holder is not the owner any more. */
	EXPECT(a, IOMUX_ST_ENOTOWNER, IOMUX_OP_UNLOCK, S("L"));
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("L"));
	EXPECT(a, IOMUX_ST_NOTFOUND, IOMUX_OP_UNLOCK, S("L"));

	/* TRYLOCK with a lease; it ends with nobody waiting too. */
	t0 = tu_now_ms();
	EXPECT(a, IOMUX_ST_OK, IOMUX_OP_TRYLOCK, S("T"), U64(200));
	EXPECT(b, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK, S("T"));
	WAIT_STAT(adm, "locks_held", 0);
	ASSERT(since(t0) >= 200 - EARLY_MS, "a 200 ms lease ended after "
	    "%lld ms", since(t0));
	EXPECT(a, IOMUX_ST_NOTFOUND, IOMUX_OP_UNLOCK, S("T"));
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_TRYLOCK, S("T"));
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("T"));

	/* A lease of 0 or absent: no lease. */
	EXPECT(a, IOMUX_ST_OK, IOMUX_OP_LOCK, S("N"), U64(1000), U64(0));
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_TRYLOCK, S("M"), NONE);
	tu_sleep_ms(300);
	EXPECT(b, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK, S("N"));
	EXPECT(a, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK, S("M"));
	EXPECT(a, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("N"));
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("M"));
	/*
	 * A waiter's lease starts when it gets the lock, not when it asked:
	 * it waits 400 ms for a lock with a 300 ms lease.
	 */
	EXPECT(a, IOMUX_ST_OK, IOMUX_OP_LOCK, S("W"));
	{
		uint32_t	id;

		id = SEND(b, IOMUX_OP_LOCK, S("W"), U64(5000), U64(300));
		WAIT_STAT(adm, "lock_waiters", 1);
		tu_sleep_ms(400);
		EXPECT(a, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("W"));
		RECV(b, IOMUX_ST_OK, id);
		t0 = tu_now_ms();
	}
	EXPECT(a, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK, S("W"));
	WAIT_STAT(adm, "locks_held", 0);
	ASSERT(since(t0) >= 300 - EARLY_MS - 50, "a 300 ms lease taken by a "
	    "waiter ended after %lld ms", since(t0));
	EXPECT(b, IOMUX_ST_NOTFOUND, IOMUX_OP_UNLOCK, S("W"));

	iomux_close(adm);
	iomux_close(b);
	iomux_close(a);
	dstop(&d);
}
END_TEST

/* ---- main ----------------------------------------------------------- */

static Suite *
integ_lock_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("integ_lock");

	tc = tcase(s, "lock", 30);
	LOOP(tc, test_lock_basic);
	LOOP(tc, test_lock_wait);
	LOOP(tc, test_lock_kill9);
	LOOP(tc, test_lock_lease);

	return s;
}

int
main(void)
{
	return integ_main("check_integ_lock", integ_lock_suite);
}
