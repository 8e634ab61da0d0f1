/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_integ_conn.c: a connection's life in the real iomuxd: a peer that
 * half-closes, closes with replies pending (SIGPIPE) or reads slowly;
 * SIGTERM with replies pending; the frame and idle deadlines, and
 * slowloris clients holding slots with partial headers.
 *
 * Every test starts its own daemon ("$IOMUXD -f -s DIR/sock -b BACKEND")
 * in a private directory and stops it by PID at the end, asserting a clean
 * exit. Each TCase runs once per backend in $IOMUXD_BACKENDS (default
 * "epoll poll select"). Raw-socket tests build and parse frames with
 * testutil's hand-written big-endian code, not with proto/codec.c, so a
 * bug shared by the codec and the daemon cannot hide. Timing bounds are
 * generous (these are not benchmarks) so the suite passes on a loaded
 * 2-core box.
 */

#include <sys/socket.h>
#include <sys/stat.h>

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

/* ---- peers ---------------------------------------------------------- */

START_TEST(test_shutdown_wr)
{
	struct tu_daemon	 d;
	struct tu_frame		 f;
	struct tu_arg		 a = { "half-closed", 11 };
	int			 fd;

	dstart(&d, BACKEND, NULL);
	fd = rconnect(&d);
	rsend_req(fd, IOMUX_OP_PING, 11, 1, &a);
	rsend_req(fd, IOMUX_OP_PING, 12, 1, &a);
	ASSERT(shutdown(fd, SHUT_WR) == 0, "shutdown: %s", strerror(errno));
	rexpect(fd, &f, IOMUX_ST_OK, 11);
	ASSERT(f.argc == 1 && tu_arg_eq(&f.args[0], a.p, a.len), "echo");
	tu_frame_free(&f);
	rexpect(fd, &f, IOMUX_ST_OK, 12);
	tu_frame_free(&f);
	rexpect_eof(fd, 2000, "after SHUT_WR and the replies");
	close(fd);
	lping_fresh(&d, "after half-close");
	dstop(&d);
}
END_TEST

/* Pipeline big pings and close without reading: replies hit a dead peer. */
START_TEST(test_sigpipe)
{
	struct tu_daemon	 d;
	struct tu_arg		 a;
	uint8_t			*pl, *frames;
	size_t			 fsz, done, i;
	int			 fd, round, rc;

	pl = malloc(8192);
	ASSERT(pl != NULL, "malloc");
	memset(pl, 'P', 8192);
	a.p = pl;
	a.len = 8192;
	fsz = tu_encode_req(NULL, 0, IOMUX_OP_PING, 1, 1, &a);
	frames = malloc(fsz * 64);
	ASSERT(frames != NULL, "malloc");
	for (i = 0; i < 64; i++)
		tu_encode_req(frames + i * fsz, fsz, IOMUX_OP_PING,
		    (uint32_t)i + 1, 1, &a);
	dstart(&d, BACKEND, NULL);
	for (round = 0; round < 5; round++) {
		fd = rconnect(&d);
		rc = tu_write_some(fd, frames, fsz * 64, 300, &done);
		ASSERT(rc == 0 || rc == -ETIMEDOUT, "write: %s",
		    strerror(-rc));
		ASSERT(done >= fsz, "not one request went out");
		close(fd);
	}
	tu_sleep_ms(200);
	dalive(&d, "after clients closed with replies pending (SIGPIPE?)");
	lping_fresh(&d, "after SIGPIPE rounds");
	free(frames);
	free(pl);
	dstop(&d);
}
END_TEST

/*
 * SIGTERM with replies pending: every requested reply arrives whole and
 * in order, then end of stream at a frame boundary; exit 0, socket gone.
 */
START_TEST(test_graceful_stop)
{
	enum { N = 300, PL = 1024 };
	struct tu_daemon	 d;
	struct iomux_client	*c;
	struct status		 s;
	struct tu_frame		 f;
	struct tu_arg		 a;
	struct stat		 st;
	uint8_t			*pl, *frames;
	size_t			 fsz, done = 0, i, complete, got = 0;
	long long		 seen = -1, prev = -2;
	int64_t			 deadline;
	int			 fd, rc;

	pl = malloc(PL);
	ASSERT(pl != NULL, "malloc");
	for (i = 0; i < PL; i++)
		pl[i] = (uint8_t)(i * 7);
	a.p = pl;
	a.len = PL;
	fsz = tu_encode_req(NULL, 0, IOMUX_OP_PING, 1, 1, &a);
	frames = malloc(fsz * N);
	ASSERT(frames != NULL, "malloc");
	for (i = 0; i < N; i++)
		tu_encode_req(frames + i * fsz, fsz, IOMUX_OP_PING,
		    (uint32_t)i + 1, 1, &a);

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);
	fd = rconnect(&d);
	rc = tu_write_some(fd, frames, fsz * N, 3000, &done);
	ASSERT(rc == 0 || rc == -ETIMEDOUT, "write: %s", strerror(-rc));
	complete = done / fsz;
	ASSERT(complete >= 1, "not one request written");
	/* Wait until the daemon has taken what it will take. */
	deadline = tu_now_ms() + 3000;
	while (tu_now_ms() < deadline) {
		status_get(c, &s);
		seen = snum(&s, "requests.ping");
		if ((size_t)seen >= complete || seen == prev)
			break;
		prev = seen;
		tu_sleep_ms(100);
	}
	ASSERT(seen >= 1, "the daemon processed no PING");

	ASSERT(tu_daemon_kill(&d, SIGTERM) == 0, "kill");
	for (;;) {
		rc = tu_read_frame(fd, &f, 1u << 20, IO_MS);
		ASSERT(rc >= 0, "after SIGTERM, reply %zu: %s (a truncated "
		    "frame?)", got, strerror(-rc));
		if (rc == 0)
			break;
		ASSERT(f.kind == IOMUX_KIND_REPLY && f.code == IOMUX_ST_OK &&
		    f.id == (uint32_t)got + 1, "reply %zu: status 0x%04x id "
		    "%u", got, f.code, f.id);
		ASSERT(f.argc == 1 && tu_arg_eq(&f.args[0], pl, PL),
		    "reply %zu: payload differs", got);
		tu_frame_free(&f);
		got++;
	}
	ASSERT(got >= (size_t)seen, "after SIGTERM only %zu replies of the "
	    "%lld requests the daemon had counted", got, seen);
	ASSERT(got <= complete, "%zu replies for %zu requests", got,
	    complete);
	close(fd);
	iomux_close(c);

	rc = tu_daemon_wait_exit(&d, TU_STOP_TIMEOUT_MS);
	ASSERT(rc == 0, "no exit within %d ms of SIGTERM",
	    TU_STOP_TIMEOUT_MS);
	ASSERT(tu_daemon_exit_code(&d) == 0, "exit code %d after SIGTERM",
	    tu_daemon_exit_code(&d));
	ASSERT(lstat(d.sock, &st) == -1 && errno == ENOENT,
	    "socket file left after SIGTERM");
	tu_daemon_cleanup(&d);
	free(frames);
	free(pl);
}
END_TEST

/*
 * Big replies to a reader with a tiny receive buffer that reads in small
 * pieces: the daemon's short writes must reassemble byte-exact.
 */
START_TEST(test_slow_reader)
{
	enum { PL = 600 * 1024, NREQ = 3 };
	struct tu_daemon	 d;
	struct tu_arg		 a;
	uint8_t			*pl, *got, hdr[18];
	size_t			 i, off;
	ssize_t			 r;
	int			 fd, rcvbuf = 4096, k;

	pl = malloc(PL);
	got = malloc(PL);
	ASSERT(pl != NULL && got != NULL, "malloc");
	for (i = 0; i < PL; i++)
		pl[i] = (uint8_t)(i * 131 + (i >> 9));
	dstart(&d, BACKEND, NULL);
	fd = rconnect(&d);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	a.p = pl;
	a.len = PL;
	for (k = 0; k < NREQ; k++)
		rsend_req(fd, IOMUX_OP_PING, (uint32_t)k + 100, 1, &a);
	for (k = 0; k < NREQ; k++) {
		r = tu_read_n(fd, hdr, sizeof hdr, IO_MS);
		ASSERT(r == (ssize_t)sizeof hdr, "reply %d header: %zd", k, r);
		ASSERT(tu_get32(hdr) == 10 + 4 + PL && hdr[5] ==
		    IOMUX_KIND_REPLY && tu_get16(hdr + 6) == IOMUX_ST_OK &&
		    tu_get32(hdr + 8) == (uint32_t)k + 100 &&
		    tu_get16(hdr + 12) == 1 && tu_get32(hdr + 14) == PL,
		    "reply %d: bad header", k);
		for (off = 0; off < PL; off += (size_t)r) {
			r = tu_read_n(fd, got + off, PL - off < 3000 ?
			    PL - off : 3000, IO_MS);
			ASSERT(r > 0, "reply %d: stream ended or stalled at "
			    "%zu of %d bytes", k, off, PL);
			if ((off / 3000) % 16 == 0)
				tu_sleep_ms(1);
		}
		ASSERT(memcmp(got, pl, PL) == 0, "reply %d: payload differs",
		    k);
	}
	close(fd);
	free(got);
	free(pl);
	dstop(&d);
}
END_TEST

/* ---- deadlines ------------------------------------------------------ */

START_TEST(test_frame_timeout)
{
	struct tu_daemon	 d;
	struct tu_frame		 f;
	struct tu_arg		 a;
	struct pollfd		 pfd;
	uint8_t			 buf[128], pl[40];
	size_t			 n, off;
	int64_t			 t0, dt;
	int			 fd, rc;

	dstart(&d, BACKEND, "--frame-timeout", "0.5", NULL);

	/* Two bytes of a length prefix, then silence. */
	fd = rconnect(&d);
	buf[0] = 0;
	buf[1] = 0;
	rwrite(fd, buf, 2);
	t0 = tu_now_ms();
	rexpect_err(fd, IOMUX_ST_ETIMEOUT, 0);
	rexpect_eof(fd, 2000, "after ETIMEOUT");
	dt = tu_now_ms() - t0;
	ASSERT(dt >= 400 && dt <= 2000, "partial header closed after %lld "
	    "ms (frame-timeout 0.5 s)", (long long)dt);
	close(fd);

	/*
	 * Dribble: one byte every 100 ms. The deadline runs from the
	 * frame's first byte and is not reset by each read.
	 */
	memset(pl, 'd', sizeof pl);
	a.p = pl;
	a.len = sizeof pl;
	n = tu_encode_req(buf, sizeof buf, IOMUX_OP_PING, 3, 1, &a);
	fd = rconnect(&d);
	t0 = tu_now_ms();
	for (off = 0; off < n; off++) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) != 0)
			break;
		(void)send(fd, buf + off, 1, MSG_NOSIGNAL);
	}
	ASSERT(off < n, "the whole %zu-byte frame went out at 10 bytes/s "
	    "without a timeout", n);
	rc = tu_read_frame(fd, &f, 1u << 20, IO_MS);
	ASSERT(rc == 1 && f.code == IOMUX_ST_ETIMEOUT, "dribble: want "
	    "ETIMEOUT (rc %d status 0x%04x)", rc, rc == 1 ? f.code : 0);
	tu_frame_free(&f);
	rexpect_eof(fd, 2000, "after the dribble's ETIMEOUT");
	close(fd);
	dt = tu_now_ms() - t0;
	ASSERT(dt <= 2000, "dribbling client lasted %lld ms (frame-timeout "
	    "0.5 s)", (long long)dt);
	ASSERT(lstatus_num(&d, "clients_timed_out") >= 2, "clients_timed_out "
	    "not counted");
	lping_fresh(&d, "after timeouts");
	dstop(&d);
}
END_TEST

/*
 * Slowloris: the slots held by partial headers (and one quiet client).
 * The 6th client is refused, the 4 are timed out, and then a fresh client
 * is served.
 */
START_TEST(test_slowloris)
{
	struct tu_daemon	 d;
	struct iomux_client	*c;
	uint8_t			 b[3] = { 0, 0, 0 };
	int64_t			 t0, dt;
	int			 fd[4], extra, i;

	dstart(&d, BACKEND, "--max-clients", "5", "--frame-timeout", "0.5",
	    NULL);
	c = lconnect(&d);
	wait_clients(c, 1);
	t0 = tu_now_ms();
	for (i = 0; i < 4; i++) {
		fd[i] = rconnect(&d);
		rwrite(fd[i], b, sizeof b);
	}
	extra = rconnect(&d);
	rexpect_err(extra, IOMUX_ST_EBUSY, 0);
	close(extra);
	for (i = 0; i < 4; i++) {
		rexpect_err(fd[i], IOMUX_ST_ETIMEOUT, 0);
		rexpect_eof(fd[i], 2000, "slowloris client");
		close(fd[i]);
	}
	dt = tu_now_ms() - t0;
	ASSERT(dt <= 2500, "4 partial headers held the server for %lld ms",
	    (long long)dt);
	wait_clients(c, 1);	/* the quiet client was not timed out */
	iomux_close(c);
	lping_fresh(&d, "after slowloris");
	dstop(&d);
}
END_TEST

START_TEST(test_idle_timeout)
{
	struct tu_daemon	 d;
	struct iomux_client	*c;
	struct iomux_reply	 r;
	int64_t			 t0, dt;
	int			 fd, i, rc;

	dstart(&d, BACKEND, "--idle-timeout", "0.5", NULL);
	fd = rconnect(&d);
	rping(fd, 1, "then idle", 9);
	t0 = tu_now_ms();
	rexpect_eof(fd, 3000, "idle client");
	dt = tu_now_ms() - t0;
	ASSERT(dt >= 400 && dt <= 2500, "idle client closed after %lld ms "
	    "(idle-timeout 0.5 s)", (long long)dt);
	close(fd);

	/* A client active every 200 ms outlives the idle timeout. */
	c = lconnect(&d);
	for (i = 0; i < 6; i++) {
		rc = iomux_ping(c, "busy", 4, &r);
		ASSERT(rc == 0 && r.code == IOMUX_ST_OK, "active client ping "
		    "%d: %s", i, strerror(-rc));
		tu_sleep_ms(200);
	}
	iomux_close(c);
	dstop(&d);
}
END_TEST

/* ---- main ----------------------------------------------------------- */

static Suite *
integ_conn_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("integ_conn");

	tc = tcase(s, "peer", 60);
	LOOP(tc, test_shutdown_wr);
	LOOP(tc, test_sigpipe);
	LOOP(tc, test_slow_reader);
	LOOP(tc, test_graceful_stop);

	tc = tcase(s, "deadlines", 60);
	LOOP(tc, test_frame_timeout);
	LOOP(tc, test_idle_timeout);
	LOOP(tc, test_slowloris);

	return s;
}

int
main(void)
{
	return integ_main("check_integ_conn", integ_conn_suite);
}
