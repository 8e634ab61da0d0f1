/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_integ_load.c: the real iomuxd under load: 10,000 pipelined
 * requests on one connection, 1,000 clients at once, clients past
 * FD_SETSIZE (refused by the select backend only), a quiet client's
 * latency beside a firehose client, and no fd leaked over 2,000 connect,
 * garbage and close cycles.
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
 * Processes forked here (the firehose client) end with _exit(): exit()
 * would run testutil's atexit handler, which kills the daemon the parent
 * is still testing.
 */

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "iomux.h"
#include "integ-util.h"
#include "testutil.h"

/* ---- pipelining and many clients ------------------------------------ */

/*
 * 10,000 pings queued on one connection, driven with the non-blocking
 * API so that neither side can deadlock on full socket buffers; replies
 * must come back in order with the ids the requests got.
 */
START_TEST(test_pipeline_10k)
{
	enum { N = 10000 };
	struct tu_daemon	 d;
	struct iomux_client	*c;
	struct iomux_reply	 r;
	struct iomux_value	 v;
	struct pollfd		 pfd;
	uint32_t		*ids;
	char			 pl[16];
	int64_t			 deadline;
	size_t			 queued = 0, got = 0;
	int			 rc, n;

	ids = calloc(N, sizeof *ids);
	ASSERT(ids != NULL, "calloc");
	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);
	memset(&v, 0, sizeof v);
	deadline = tu_now_ms() + 30000;
	while (got < N) {
		/* Keep up to 1000 requests queued in the library. */
		while (queued < N && queued - got < 1000) {
			n = snprintf(pl, sizeof pl, "%zu", queued);
			v.data = pl;
			v.len = (size_t)n;
			rc = iomux_send(c, IOMUX_OP_PING, 1, &v, &ids[queued]);
			if (rc != 0)
				break;
			queued++;
		}
		ASSERT(tu_now_ms() < deadline, "pipeline: %zu of %d replies "
		    "after 30 s", got, N);
		pfd.fd = iomux_fd(c);
		pfd.events = POLLIN | (iomux_want_write(c) ? POLLOUT : 0);
		rc = poll(&pfd, 1, 1000);
		ASSERT(rc >= 0, "poll: %s", strerror(errno));
		if (pfd.revents & POLLOUT) {
			rc = iomux_write(c);
			ASSERT(rc >= 0, "iomux_write: %s", strerror(-rc));
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			rc = iomux_read(c);
			ASSERT(rc > 0 || rc == -EAGAIN, "iomux_read: %s after "
			    "%zu replies", rc == 0 ? "end of stream" :
			    strerror(-rc), got);
		}
		while ((rc = iomux_next(c, &r)) == 1) {
			ASSERT(got < queued, "reply %zu without a request",
			    got);
			n = snprintf(pl, sizeof pl, "%zu", got);
			ASSERT(r.kind == IOMUX_KIND_REPLY && r.code ==
			    IOMUX_ST_OK, "reply %zu status 0x%04x", got,
			    r.code);
			ASSERT(r.id == ids[got], "reply %zu: id %u, want %u "
			    "(out of order)", got, r.id, ids[got]);
			ASSERT(r.argc == 1 && r.argv[0].len == (size_t)n &&
			    memcmp(r.argv[0].data, pl, (size_t)n) == 0,
			    "reply %zu: payload differs", got);
			got++;
		}
		ASSERT(rc == 0, "iomux_next: %s", strerror(-rc));
	}
	iomux_close(c);
	free(ids);
	ASSERT(lstatus_num(&d, "requests.ping") == N, "requests.ping");
	dstop(&d);
}
END_TEST

/* An array for n client fds, with RLIMIT_NOFILE raised to hold them. */
static int *
fds_alloc(int n)
{
	long	 lim;
	int	*fds;

	lim = tu_raise_nofile(n + 200);
	ASSERT(lim >= n + 100, "RLIMIT_NOFILE hard limit too low for %d "
	    "clients (%ld)", n, lim);
	fds = calloc((size_t)n, sizeof *fds);
	ASSERT(fds != NULL, "calloc");
	return fds;
}

/* Close the n fds of fds_alloc() and free the array. */
static void
fds_close(int *fds, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

START_TEST(test_many_clients)
{
	enum { N = 1000 };
	struct tu_daemon	 d;
	struct tu_frame		 f;
	struct tu_arg		 a;
	struct iomux_client	*c;
	struct status		 s;
	char			 pl[16];
	int			*fds;
	int			 i, n, rc;

	fds = fds_alloc(N);
	dstart(&d, BACKEND, "--max-clients", "1100", NULL);
	for (i = 0; i < N; i++) {
		fds[i] = tu_connect_unix(d.sock, IO_MS);
		ASSERT(fds[i] >= 0, "client %d: connect: %s", i,
		    strerror(-fds[i]));
	}
	for (i = 0; i < N; i++) {
		n = snprintf(pl, sizeof pl, "c%d", i);
		a.p = pl;
		a.len = (uint32_t)n;
		rsend_req(fds[i], IOMUX_OP_PING, (uint32_t)i + 1, 1, &a);
	}
	for (i = 0; i < N; i++) {
		n = snprintf(pl, sizeof pl, "c%d", i);
		rc = tu_read_frame(fds[i], &f, 1u << 20, 10000);
		ASSERT(rc == 1, "client %d: no reply (%s)", i,
		    rc == 0 ? "end of stream" : strerror(-rc));
		ASSERT(f.code == IOMUX_ST_OK && f.id == (uint32_t)i + 1 &&
		    f.argc == 1 && tu_arg_eq(&f.args[0], pl, (size_t)n),
		    "client %d: bad reply (status 0x%04x id %u)", i, f.code,
		    f.id);
		tu_frame_free(&f);
	}
	c = lconnect(&d);
	status_get(c, &s);
	ASSERT(snum(&s, "clients") >= N + 1, "STATUS clients %s with %d "
	    "open", sstr(&s, "clients"), N + 1);
	ASSERT(snum(&s, "clients_refused") == 0, "clients_refused %s",
	    sstr(&s, "clients_refused"));
	iomux_close(c);
	fds_close(fds, N);
	dstop(&d);
}
END_TEST

/*
 * Past FD_SETSIZE. select(2) cannot watch an fd at or above FD_SETSIZE;
 * the select backend must refuse such a client with EBUSY and a reason,
 * never touch an fd_set out of bounds, and keep serving the others. epoll
 * and poll have no such limit and serve everyone.
 */
START_TEST(test_fd_setsize)
{
	enum { N = FD_SETSIZE + 60 };
	struct tu_daemon	 d;
	struct tu_frame		 f;
	struct iomux_client	*c;
	struct status		 s;
	int			*fds;
	struct iomux_reply	 r;
	uint8_t			 req[32];
	size_t			 n;
	int			 i, rc, ok = 0, busy = 0, tries;
	bool			 is_select = strcmp(BACKEND, "select") == 0;

	fds = fds_alloc(N);
	dstart(&d, BACKEND, "--max-clients", "2000", NULL);
	for (i = 0; i < N; i++) {
		fds[i] = tu_connect_unix(d.sock, IO_MS);
		ASSERT(fds[i] >= 0, "client %d: connect: %s", i,
		    strerror(-fds[i]));
		n = tu_encode_req(req, sizeof req, IOMUX_OP_PING,
		    (uint32_t)i + 1, 0, NULL);
		rc = tu_write_all(fds[i], req, n, IO_MS);
		/* A refused client may be closed before its request is in. */
		ASSERT(rc == 0 || (is_select && (rc == -EPIPE ||
		    rc == -ECONNRESET)), "client %d: write: %s", i,
		    strerror(-rc));
	}
	for (i = 0; i < N; i++) {
		rc = tu_read_frame(fds[i], &f, 1u << 20, 10000);
		ASSERT(rc == 1, "client %d: no reply (%s)", i,
		    rc == 0 ? "end of stream" : strerror(-rc));
		if (f.code == IOMUX_ST_OK) {
			ASSERT(f.id == (uint32_t)i + 1, "client %d: reply id "
			    "%u", i, f.id);
			ok++;
		} else {
			ASSERT(f.code == IOMUX_ST_EBUSY && f.id == 0 &&
			    f.argc == 1 && tu_arg_eq(&f.args[0], "too many "
			    "clients for this backend's fd limit", 44),
			    "client %d: status 0x%04x id %u", i, f.code, f.id);
			busy++;
		}
		tu_frame_free(&f);
	}
	if (is_select) {
		ASSERT(busy > 0 && busy <= 80, "select: %d of %d refused",
		    busy, N);
		ASSERT(ok >= FD_SETSIZE - 40, "select: only %d served", ok);
	} else
		ASSERT(busy == 0 && ok == N, "%s: %d refused", BACKEND, busy);
	fds_close(fds, N);
	/*
	 * Refused clients left no trace; the daemon serves a new client once
	 * it has seen the closes (until then, on select, a new client may
	 * still get an fd past FD_SETSIZE and be refused too).
	 */
	for (tries = 0;; tries++) {
		c = lconnect(&d);
		rc = iomux_status(c, &r);
		ASSERT(rc == 0, "STATUS: %s", strerror(-rc));
		if (r.code == IOMUX_ST_OK)
			break;
		ASSERT(is_select && r.code == IOMUX_ST_EBUSY && tries < 50,
		    "no client served after the others closed (status "
		    "0x%04x, try %d)", r.code, tries);
		iomux_close(c);
		tu_sleep_ms(100);
	}
	wait_clients(c, 1);
	status_get(c, &s);
	ASSERT(snum(&s, "clients_refused") == busy + tries, "clients_refused "
	    "%s, refused %d", sstr(&s, "clients_refused"), busy + tries);
	iomux_close(c);
	dstop(&d);
}
END_TEST

/* ---- fairness ------------------------------------------------------- */

/* Child: for ms milliseconds, write pings as fast as possible, drain. */
static void
firehose(const char *path, int ms)
{
	static uint8_t		 buf[256 * 32], sink[65536];
	struct tu_arg		 a = { "firehose-payload", 16 };
	struct pollfd		 pfd;
	size_t			 fsz, off = 0, i;
	ssize_t			 w;
	int64_t			 end;
	int			 fd;

	fsz = tu_encode_req(NULL, 0, IOMUX_OP_PING, 1, 1, &a);
	for (i = 0; i < 256 && (i + 1) * fsz <= sizeof buf; i++)
		tu_encode_req(buf + i * fsz, fsz, IOMUX_OP_PING,
		    (uint32_t)i + 1, 1, &a);
	if ((fd = tu_connect_unix(path, IO_MS)) < 0)
		_exit(2);
	end = tu_now_ms() + ms;
	while (tu_now_ms() < end) {
		w = send(fd, buf + off, i * fsz - off, MSG_NOSIGNAL);
		if (w > 0)
			off = (off + (size_t)w) % (i * fsz);
		else if (w == -1 && errno != EAGAIN && errno != EINTR)
			_exit(3);
		while (recv(fd, sink, sizeof sink, 0) > 0)
			;
		pfd.fd = fd;
		pfd.events = POLLIN | POLLOUT;
		(void)poll(&pfd, 1, 10);
	}
	_exit(0);
}

START_TEST(test_fairness)
{
	struct tu_daemon	 d;
	struct iomux_client	*c;
	struct iomux_reply	 r;
	int64_t			 t0, dt, worst = 0;
	pid_t			 a, w;
	int			 i, rc, st;

	dstart(&d, BACKEND, NULL);
	fflush(NULL);
	a = fork();
	ASSERT(a != -1, "fork: %s", strerror(errno));
	if (a == 0)
		firehose(d.sock, 1500);
	tu_sleep_ms(200);
	c = lconnect(&d);
	iomux_set_timeout(c, 3000);
	for (i = 0; i < 5; i++) {
		t0 = tu_now_ms();
		rc = iomux_ping(c, "B", 1, &r);
		dt = tu_now_ms() - t0;
		ASSERT(rc == 0 && r.code == IOMUX_ST_OK, "B ping %d: %s", i,
		    strerror(-rc));
		if (dt > worst)
			worst = dt;
		tu_sleep_ms(100);
	}
	iomux_close(c);
	t0 = tu_now_ms();
	while ((w = waitpid(a, &st, WNOHANG)) == 0 &&
	    tu_now_ms() - t0 < 5000)
		tu_sleep_ms(10);
	if (w == 0) {
		kill(a, SIGKILL);
		waitpid(a, &st, 0);
	}
	ASSERT(w == a && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "firehose client failed (status 0x%x)", st);
	ASSERT(worst < 500, "B's worst round trip %lld ms while A floods "
	    "(bound 500 ms)", (long long)worst);
	dalive(&d, "after the firehose");
	dstop(&d);
}
END_TEST

/* ---- fd leaks ------------------------------------------------------- */

START_TEST(test_fd_leak)
{
	enum { CYCLES = 2000 };
	struct tu_daemon	 d;
	struct iomux_client	*c;
	struct tu_arg		 a = { "leak?", 5 };
	uint8_t			 buf[64], junk[64];
	size_t			 n;
	int64_t			 deadline;
	int			 base, now = -1, i, fd;

	memset(junk, 0xff, sizeof junk);
	dstart(&d, BACKEND, NULL);
	/* Baseline: exactly one client (c, open throughout). */
	c = lconnect(&d);
	wait_clients(c, 1);
	base = tu_proc_fd_count(d.pid);
	ASSERT(base > 0, "fd count: %s", strerror(-base));
	for (i = 0; i < CYCLES; i++) {
		fd = rconnect(&d);
		switch (i % 6) {
		case 0:		/* garbage */
			(void)tu_write_all(fd, junk, sizeof junk, 1000);
			break;
		case 1:		/* half a frame */
			n = tu_encode_req(buf, sizeof buf, IOMUX_OP_PING, 1,
			    1, &a);
			(void)tu_write_all(fd, buf, n - 3, 1000);
			break;
		case 2:		/* bad version */
			n = tu_encode(buf, sizeof buf, 9, 1, IOMUX_OP_PING,
			    1, 1, &a);
			(void)tu_write_all(fd, buf, n, 1000);
			break;
		case 3:		/* oversize */
			tu_put32(buf, 0x7fffffffu);
			(void)tu_write_all(fd, buf, 4, 1000);
			break;
		case 4:		/* a request, then gone before the reply */
			n = tu_encode_req(buf, sizeof buf, IOMUX_OP_PING, 1,
			    1, &a);
			(void)tu_write_all(fd, buf, n, 1000);
			break;
		default:	/* connect and close */
			break;
		}
		close(fd);
	}
	deadline = tu_now_ms() + 5000;
	while (tu_now_ms() < deadline) {
		now = tu_proc_fd_count(d.pid);
		if (now == base)
			break;
		tu_sleep_ms(50);
	}
	if (now != base)
		tu_proc_fd_dump(d.pid, "iomuxd fds after the cycles");
	ASSERT(now == base, "daemon fds: %d before %d connect/garbage/close "
	    "cycles, %d after", base, CYCLES, now);
	wait_clients(c, 1);
	iomux_close(c);
	lping_fresh(&d, "after the cycles");
	dstop(&d);
}
END_TEST

/* ---- main ----------------------------------------------------------- */

static Suite *
integ_load_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("integ_load");

	tc = tcase(s, "load", 60);
	LOOP(tc, test_pipeline_10k);
	LOOP(tc, test_many_clients);
	LOOP(tc, test_fd_setsize);
	LOOP(tc, test_fairness);

	tc = tcase(s, "leaks", 60);
	LOOP(tc, test_fd_leak);

	return s;
}

int
main(void)
{
	return integ_main("check_integ_load", integ_load_suite);
}
