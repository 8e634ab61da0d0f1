/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_integ_control.c: the connection and control commands of the real
 * iomuxd: HELLO (fields, version negotiation, frame_max), PING (echo of
 * none, empty, binary and absent arguments) and their argument counts and
 * shapes, through libiomux and raw frames.
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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "iomux.h"
#include "integ-util.h"
#include "testutil.h"

/* ---- HELLO ---------------------------------------------------------- */

static void
check_hello_fields_lib(const struct iomux_reply *r, const char *frame_max)
{
	static const char *const want[][2] = {
		{ "proto", "1" }, { "server", "iomuxd 0.1.0" },
		{ "args_max", "1024" },
	};
	const struct iomux_value	*v;
	size_t				 i;

	ASSERT(r->kind == IOMUX_KIND_REPLY && r->code == IOMUX_ST_OK,
	    "HELLO kind %u status 0x%04x", r->kind, r->code);
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		v = iomux_reply_field(r, want[i][0]);
		ASSERT(v != NULL && v->len == strlen(want[i][1]) &&
		    memcmp(v->data, want[i][1], v->len) == 0,
		    "HELLO %s: want \"%s\"", want[i][0], want[i][1]);
	}
	v = iomux_reply_field(r, "frame_max");
	ASSERT(v != NULL && v->len == strlen(frame_max) &&
	    memcmp(v->data, frame_max, v->len) == 0,
	    "HELLO frame_max: want \"%s\"", frame_max);
}

START_TEST(test_hello)
{
	struct tu_daemon	 d;
	struct iomux_client	*c;
	struct iomux_reply	 r;
	int			 rc;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);
	rc = iomux_hello(c, &r);
	ASSERT(rc == 0, "iomux_hello: %s (%s)", strerror(-rc),
	    iomux_errmsg(c));
	check_hello_fields_lib(&r, "1048576");
	/* The connection keeps working after HELLO. */
	rc = iomux_ping(c, "x", 1, &r);
	ASSERT(rc == 0 && r.code == IOMUX_ST_OK, "PING after HELLO");
	iomux_close(c);
	dstop(&d);
}
END_TEST

START_TEST(test_hello_raw)
{
	struct tu_daemon	 d;
	struct tu_frame		 f;
	struct tu_arg		 a[2];
	const struct tu_arg	*v;
	uint8_t			 ver[4];
	int			 fd;

	dstart(&d, BACKEND, NULL);

	/* Version 1 with a client name. */
	fd = rconnect(&d);
	tu_put32(ver, 1);
	a[0].p = ver;
	a[0].len = 4;
	a[1].p = "check_integ";
	a[1].len = 11;
	rsend_req(fd, IOMUX_OP_HELLO, 7, 2, a);
	rexpect(fd, &f, IOMUX_ST_OK, 7);
	ASSERT(f.argc % 2 == 0 && f.argc >= 8, "HELLO argc %u", f.argc);
	v = tu_frame_field(&f, "proto");
	ASSERT(v != NULL && tu_arg_eq(v, "1", 1), "HELLO proto");
	v = tu_frame_field(&f, "server");
	ASSERT(v != NULL && tu_arg_eq(v, "iomuxd 0.1.0", 12), "HELLO server");
	v = tu_frame_field(&f, "frame_max");
	ASSERT(v != NULL && tu_arg_eq(v, "1048576", 7), "HELLO frame_max");
	v = tu_frame_field(&f, "args_max");
	ASSERT(v != NULL && tu_arg_eq(v, "1024", 4), "HELLO args_max");
	tu_frame_free(&f);
	rping(fd, 8, "after hello", 11);
	close(fd);

	/* A newer client version: the server answers with its own. */
	fd = rconnect(&d);
	tu_put32(ver, 99);
	rsend_req(fd, IOMUX_OP_HELLO, 9, 1, a);
	rexpect(fd, &f, IOMUX_ST_OK, 9);
	v = tu_frame_field(&f, "proto");
	ASSERT(v != NULL && tu_arg_eq(v, "1", 1), "HELLO(99) proto");
	tu_frame_free(&f);
	close(fd);

	/* A client that speaks only version 0. */
	fd = rconnect(&d);
	tu_put32(ver, 0);
	rsend_req(fd, IOMUX_OP_HELLO, 10, 1, a);
	rexpect_err(fd, IOMUX_ST_EVERSION, 10);
	/* Unlike a frame of another version, this keeps the connection:
	 * a client may try again with another version. */
	rping(fd, 11, "after EVERSION", 14);
	close(fd);

	dstop(&d);
}
END_TEST

START_TEST(test_hello_frame_max)
{
	struct tu_daemon	 d;
	struct iomux_client	*c;
	struct iomux_reply	 r;
	struct status		 s;
	int			 rc;

	dstart(&d, BACKEND, "--frame-max", "64K", NULL);
	c = lconnect(&d);
	rc = iomux_hello(c, &r);
	ASSERT(rc == 0, "iomux_hello: %s", strerror(-rc));
	check_hello_fields_lib(&r, "65536");
	status_get(c, &s);
	ASSERT(snum(&s, "frame_max") == 65536, "STATUS frame_max %s",
	    sstr(&s, "frame_max"));
	iomux_close(c);
	dstop(&d);
}
END_TEST

/* ---- PING ----------------------------------------------------------- */

START_TEST(test_ping_lib)
{
	static const uint8_t	 bin[] = { 0, 1, 0, 0xff, 0, '\n', 0, 0 };
	struct tu_daemon	 d;
	struct iomux_client	*c;
	struct iomux_reply	 r;
	struct iomux_value	 v[2];
	int			 rc;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);

	/* No argument: no argument back. */
	rc = iomux_call(c, IOMUX_OP_PING, 0, NULL, &r);
	ASSERT(rc == 0, "PING (no arg): %s", strerror(-rc));
	ASSERT(r.code == IOMUX_ST_OK && r.argc == 0,
	    "PING (no arg): status 0x%04x argc %zu", r.code, r.argc);

	/* An empty argument: an empty (not absent) argument back. */
	memset(v, 0, sizeof v);
	v[0].data = "";
	v[0].len = 0;
	rc = iomux_call(c, IOMUX_OP_PING, 1, v, &r);
	ASSERT(rc == 0, "PING (empty): %s", strerror(-rc));
	ASSERT(r.code == IOMUX_ST_OK && r.argc == 1 && !r.argv[0].absent &&
	    r.argv[0].len == 0, "PING (empty): status 0x%04x argc %zu",
	    r.code, r.argc);

	/* Binary with NUL bytes. */
	v[0].data = bin;
	v[0].len = sizeof bin;
	rc = iomux_call(c, IOMUX_OP_PING, 1, v, &r);
	ASSERT(rc == 0, "PING (binary): %s", strerror(-rc));
	ASSERT(r.code == IOMUX_ST_OK && r.argc == 1 &&
	    r.argv[0].len == sizeof bin &&
	    memcmp(r.argv[0].data, bin, sizeof bin) == 0,
	    "PING (binary): echo differs");

	/* Two arguments: EARGS, and the connection stays usable. */
	v[1].data = "b";
	v[1].len = 1;
	rc = iomux_call(c, IOMUX_OP_PING, 2, v, &r);
	ASSERT(rc == 0, "PING (2 args): %s", strerror(-rc));
	ASSERT(r.code == IOMUX_ST_EARGS && r.argc == 1,
	    "PING (2 args): status 0x%04x argc %zu, want EARGS", r.code,
	    r.argc);
	rc = iomux_ping(c, "ok", 2, &r);
	ASSERT(rc == 0 && r.code == IOMUX_ST_OK, "PING after EARGS");

	iomux_close(c);
	dstop(&d);
}
END_TEST

START_TEST(test_ping_raw)
{
	static const uint8_t	 bin[] = { 0, 0, 'a', 0, 0xfe, 0xff, 0 };
	struct tu_daemon	 d;
	struct tu_frame		 f;
	struct tu_arg		 a[2];
	int			 fd;

	dstart(&d, BACKEND, NULL);
	fd = rconnect(&d);

	rsend_req(fd, IOMUX_OP_PING, 1, 0, NULL);
	rexpect(fd, &f, IOMUX_ST_OK, 1);
	ASSERT(f.argc == 0 && f.len == 10, "PING (no arg): argc %u len %u",
	    f.argc, f.len);
	tu_frame_free(&f);

	a[0].p = "";
	a[0].len = 0;
	rsend_req(fd, IOMUX_OP_PING, 0xfffffffeu, 1, a);
	rexpect(fd, &f, IOMUX_ST_OK, 0xfffffffeu);
	ASSERT(f.argc == 1 && f.args[0].len == 0 && f.len == 14,
	    "PING (empty): argc %u len0 %u", f.argc, f.args[0].len);
	tu_frame_free(&f);

	rping(fd, 3, bin, sizeof bin);

	a[1].p = "x";
	a[1].len = 1;
	rsend_req(fd, IOMUX_OP_PING, 4, 2, a);
	rexpect_err(fd, IOMUX_ST_EARGS, 4);
	rping(fd, 5, "still here", 10);

	close(fd);
	dstop(&d);
}
END_TEST

/* Wrong argument counts and shapes: EARGS, and the connection stays. */
START_TEST(test_args_shape)
{
	struct tu_daemon	 d;
	struct tu_frame		 f;
	struct tu_arg		 a[4];
	uint8_t			 ver[4], name[65];
	int			 fd;

	memset(name, 'n', sizeof name);
	tu_put32(ver, 1);
	dstart(&d, BACKEND, NULL);
	fd = rconnect(&d);

	rsend_req(fd, IOMUX_OP_HELLO, 1, 0, NULL);
	rexpect_err(fd, IOMUX_ST_EARGS, 1);
	a[0].p = ver;
	a[0].len = 3;		/* the version is a u32 */
	rsend_req(fd, IOMUX_OP_HELLO, 2, 1, a);
	rexpect_err(fd, IOMUX_ST_EARGS, 2);
	a[0].len = 4;
	a[1].p = name;
	a[1].len = 65;		/* names are at most 64 bytes */
	ASSERT(rcall(__LINE__, fd, &f, IOMUX_OP_HELLO, 2, a) ==
	    IOMUX_ST_EARGS && f.argc == 1 && strcmp(rtext(&f.args[0]),
	    "hello: the client name is 65 bytes, over the 64 allowed") == 0,
	    "HELLO with a 65-byte name: 0x%04x \"%s\"", f.code,
	    f.argc == 1 ? rtext(&f.args[0]) : "");
	tu_frame_free(&f);
	/* An absent name is no name. */
	a[1].p = NULL;
	a[1].len = TU_ABSENT;
	rsend_req(fd, IOMUX_OP_HELLO, 3, 2, a);
	rexpect(fd, &f, IOMUX_ST_OK, 3);
	tu_frame_free(&f);
	a[1].p = name;
	a[1].len = 64;
	rsend_req(fd, IOMUX_OP_HELLO, 4, 2, a);
	rexpect(fd, &f, IOMUX_ST_OK, 4);
	tu_frame_free(&f);
	/* A third argument is a token: a wrong one is refused, alone. */
	a[2].p = "x";
	a[2].len = 1;
	rsend_req(fd, IOMUX_OP_HELLO, 5, 3, a);
	rexpect_err(fd, IOMUX_ST_EDENIED, 5);
	a[3] = a[2];
	rsend_req(fd, IOMUX_OP_HELLO, 5, 4, a);
	rexpect_err(fd, IOMUX_ST_EARGS, 5);
	rsend_req(fd, IOMUX_OP_STATUS, 6, 1, &a[2]);
	rexpect_err(fd, IOMUX_ST_EARGS, 6);

	/* An absent PING argument comes back absent, not empty. */
	a[0].p = NULL;
	a[0].len = TU_ABSENT;
	rsend_req(fd, IOMUX_OP_PING, 7, 1, a);
	rexpect(fd, &f, IOMUX_ST_OK, 7);
	ASSERT(f.argc == 1 && f.args[0].len == TU_ABSENT,
	    "PING (absent): argc %u len 0x%x", f.argc, f.args[0].len);
	tu_frame_free(&f);
	/* PING's exception to "left out and absent mean the same": no
	 * argument comes back as none (argc 0), not as an absent one. */
	rsend_req(fd, IOMUX_OP_PING, 7, 0, NULL);
	rexpect(fd, &f, IOMUX_ST_OK, 7);
	ASSERT(f.argc == 0, "PING (none): argc %u", f.argc);
	tu_frame_free(&f);

	rping(fd, 8, "still usable", 12);
	close(fd);
	dstop(&d);
}
END_TEST

/* ---- main ----------------------------------------------------------- */

static Suite *
integ_control_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("integ_control");

	tc = tcase(s, "hello", 30);
	LOOP(tc, test_hello);
	LOOP(tc, test_hello_raw);
	LOOP(tc, test_hello_frame_max);

	tc = tcase(s, "ping", 30);
	LOOP(tc, test_ping_lib);
	LOOP(tc, test_ping_raw);
	LOOP(tc, test_args_shape);

	return s;
}

int
main(void)
{
	return integ_main("check_integ_control", integ_control_suite);
}
