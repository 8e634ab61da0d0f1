/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_integ_tcp.c: the TCP listener of the real iomuxd: served over
 * loopback through libiomux and raw frames and listed in STATUS beside the
 * UNIX socket, and a non-loopback address refused at start without --tcp-
 * allow-remote.
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

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "iomux.h"
#include "integ-util.h"
#include "testutil.h"

/* ---- TCP ------------------------------------------------------------ */

START_TEST(test_tcp)
{
	struct tu_daemon	 d;
	struct iomux_client		*c = NULL;
	const struct iomux_value	*v;
	struct iomux_reply		 r;
	struct status			 s;
	char				 hp[64];
	int			 port, rc, fd;

	port = tu_free_tcp_port();
	ASSERT(port > 0, "no free port: %s", strerror(-port));
	snprintf(hp, sizeof hp, "127.0.0.1:%d", port);
	dstart(&d, BACKEND, "--tcp", hp, NULL);
	c = lconnect_tcp(&d, hp);
	rc = iomux_ping(c, "over tcp", 8, &r);
	ASSERT(rc == 0 && r.code == IOMUX_ST_OK && r.argc == 1 &&
	    r.argv[0].len == 8 && memcmp(r.argv[0].data, "over tcp", 8) == 0,
	    "PING over TCP: %s", strerror(-rc));
	/* The token gives rw, the default: the summary of STATUS only. */
	rc = iomux_status(c, &r);
	ASSERT(rc == 0 && r.code == IOMUX_ST_OK, "STATUS over TCP: %s, "
	    "status 0x%04x", strerror(-rc), r.code);
	v = iomux_reply_field(&r, "details");
	ASSERT(v != NULL && v->len == 2 && memcmp(v->data, "no", 2) == 0,
	    "STATUS over TCP with the token: want details \"no\"");
	ASSERT(iomux_reply_field(&r, "listeners") == NULL,
	    "STATUS over TCP names the listeners");
	iomux_close(c);
	c = lconnect(&d);
	status_get(c, &s);
	ASSERT(list_has(sstr(&s, "listeners"), hp) &&
	    list_has(sstr(&s, "listeners"), d.sock),
	    "STATUS listeners \"%s\": want %s and %s",
	    sstr(&s, "listeners"), d.sock, hp);
	iomux_close(c);

	fd = tu_connect_tcp(port, IO_MS);
	ASSERT(fd >= 0, "raw TCP connect: %s", strerror(-fd));
	rping(fd, 5, "raw tcp", 7);
	close(fd);
	dstop(&d);
}
END_TEST

START_TEST(test_tcp_remote_refused)
{
	const char		*ex[3];
	struct tu_daemon	 d;
	char			 hp[64], log[4096];
	int			 port, rc;

	port = tu_free_tcp_port();
	ASSERT(port > 0, "no free port");
	snprintf(hp, sizeof hp, "0.0.0.0:%d", port);
	ex[0] = "--tcp";
	ex[1] = hp;
	ex[2] = NULL;
	rc = tu_daemon_init(&d, BACKEND);
	ASSERT(rc == 0, "init: %s", strerror(-rc));
	rc = tu_daemon_spawn(&d, ex);
	ASSERT(rc == 0, "spawn: %s", strerror(-rc));
	rc = tu_daemon_wait_exit(&d, 5000);
	ASSERT(rc == 0, "iomuxd --tcp %s without --tcp-allow-remote kept "
	    "running", hp);
	ASSERT(tu_daemon_exit_code(&d) == 2, "exit code %d, want 2 (a "
	    "configuration error)", tu_daemon_exit_code(&d));
	tu_daemon_read_log(&d, log, sizeof log);
	ASSERT(strstr(log, "iomuxd:") != NULL, "no message on stderr: "
	    "\"%s\"", log);
	ASSERT(strstr(log, "allow-remote") != NULL ||
	    strstr(log, "loopback") != NULL || strstr(log, "0.0.0.0") != NULL,
	    "message does not say what is wrong: \"%s\"", log);
	tu_daemon_cleanup(&d);
}
END_TEST

/* ---- main ----------------------------------------------------------- */

static Suite *
integ_tcp_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("integ_tcp");

	tc = tcase(s, "tcp", 30);
	LOOP(tc, test_tcp);
	LOOP(tc, test_tcp_remote_refused);

	return s;
}

int
main(void)
{
	return integ_main("check_integ_tcp", integ_tcp_suite);
}
