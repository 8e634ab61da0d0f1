/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_integ_frames.c: framing against the real iomuxd: unknown opcodes,
 * frames over frame_max and at its boundary, announced lengths near 4 GiB,
 * garbage, every malformed header and argument layout, frames cut short or
 * written a byte at a time. Each bad frame gets its error and a close;
 * other clients are not affected.
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

/* ---- bad input ------------------------------------------------------ */

START_TEST(test_unknown_op)
{
	struct tu_daemon	d;
	int			fd;

	dstart(&d, BACKEND, NULL);
	fd = rconnect(&d);
	rsend_req(fd, OP_UNKNOWN, 42, 0, NULL);
	rexpect_err(fd, IOMUX_ST_EUNKNOWN, 42);
	rping(fd, 43, "after unknown", 13);
	/* An opcode from a later range the server may not know yet. */
	rsend_req(fd, 0xffff, 44, 0, NULL);
	rexpect_err(fd, IOMUX_ST_EUNKNOWN, 44);
	rping(fd, 45, "again", 5);
	close(fd);
	dstop(&d);
}
END_TEST

START_TEST(test_oversize)
{
	struct tu_daemon	 d;
	struct iomux_client	*other;
	struct iomux_reply	 r;
	uint8_t			 hdr[14];
	int			 fd, rc;

	dstart(&d, BACKEND, NULL);
	other = lconnect(&d);
	rc = iomux_ping(other, "before", 6, &r);
	ASSERT(rc == 0 && r.code == IOMUX_ST_OK, "other: PING before");

	fd = rconnect(&d);
	rput_header(hdr, IOMUX_FRAME_MAX_DEFAULT + 1, IOMUX_OP_PING, 5, 1);
	rwrite(fd, hdr, sizeof hdr);
	rexpect_refused(fd, IOMUX_ST_ETOOBIG, 0, "after ETOOBIG");

	rc = iomux_ping(other, "after", 5, &r);
	ASSERT(rc == 0 && r.code == IOMUX_ST_OK && r.argc == 1 &&
	    r.argv[0].len == 5, "other client affected by an oversize "
	    "frame: %s", strerror(-rc));
	iomux_close(other);
	ASSERT(lstatus_num(&d, "errors_proto") >= 1, "errors_proto not "
	    "counted");
	dstop(&d);
}
END_TEST

/* With --frame-max 4K: a body of exactly 4096 passes, 4097 does not. */
START_TEST(test_frame_max_boundary)
{
	struct tu_daemon	 d;
	struct tu_frame		 f;
	struct tu_arg		 a;
	uint8_t			*pl;
	int			 fd;

	pl = malloc(4096);
	ASSERT(pl != NULL, "malloc");
	memset(pl, 'z', 4096);
	dstart(&d, BACKEND, "--frame-max", "4K", NULL);
	fd = rconnect(&d);
	a.p = pl;
	a.len = 4096 - 10 - 4;	/* body exactly 4096 */
	ASSERT(tu_encode_req(NULL, 0, IOMUX_OP_PING, 1, 1, &a) == 4 + 4096,
	    "frame size arithmetic");
	rsend_req(fd, IOMUX_OP_PING, 1, 1, &a);
	rexpect(fd, &f, IOMUX_ST_OK, 1);
	ASSERT(f.len == 4096 && f.argc == 1 && tu_arg_eq(&f.args[0], pl,
	    a.len), "4096-byte body: echo differs");
	tu_frame_free(&f);
	a.len++;
	rsend_req(fd, IOMUX_OP_PING, 2, 1, &a);
	rexpect_refused(fd, IOMUX_ST_ETOOBIG, 0, "after ETOOBIG at 4097");
	free(pl);
	lping_fresh(&d, "after boundary");
	dstop(&d);
}
END_TEST

/* Announced lengths near 4 GiB: an error and a close, no allocation. */
START_TEST(test_huge_length)
{
	static const uint32_t	 lens[] = {
		0xffffffffu, 0x80000000u, 0x7fffffffu, 64u << 20,
	};
	struct tu_daemon	 d;
	uint8_t			 hdr[14];
	long long		 rss0, rss1;
	size_t			 i, k;
	int			 fd;

	dstart(&d, BACKEND, NULL);
	lping_fresh(&d, "warm up");
	rss0 = tu_proc_rss(d.pid);
	ASSERT(rss0 > 0, "rss: %s", strerror((int)-rss0));
	for (k = 0; k < 3; k++) {
		for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
			fd = rconnect(&d);
			rput_header(hdr, lens[i], IOMUX_OP_PING, 1, 0);
			rwrite(fd, hdr, sizeof hdr);
			rexpect_refused(fd, IOMUX_ST_ETOOBIG, 0, "after a huge length");
		}
	}
	lping_fresh(&d, "after huge lengths");
	rss1 = tu_proc_rss(d.pid);
	ASSERT(rss1 > 0, "rss");
	ASSERT(rss1 < rss0 + (16LL << 20), "RSS grew from %lld to %lld "
	    "bytes after announced 4 GiB frames", rss0, rss1);
	dstop(&d);
}
END_TEST

/*
 * A client that writes the whole body of an oversized frame before it
 * reads: the server reads only the length, answers ETOOBIG and closes, so
 * the client's send may fail with EPIPE or ECONNRESET, and the reply must
 * still be there to read (iomuxd-protocol(7), Errors).
 */
START_TEST(test_oversize_body_written)
{
	struct tu_daemon	 d;
	struct tu_frame		 f;
	struct pollfd		 pfd;
	uint8_t			*frame;
	size_t			 len, off = 0;
	ssize_t			 n;
	int64_t			 deadline;
	int			 fd, err = 0;

	dstart(&d, BACKEND, NULL);
	fd = rconnect(&d);
	len = 4 + IOMUX_FRAME_MAX_DEFAULT + 1;
	frame = calloc(1, len);
	ASSERT(frame != NULL, "calloc");
	rput_header(frame, IOMUX_FRAME_MAX_DEFAULT + 1, IOMUX_OP_PING, 5, 1);
	deadline = tu_now_ms() + 10000;
	while (off < len && tu_now_ms() < deadline) {
		n = send(fd, frame + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			(void)poll(&pfd, 1, 100);
			continue;
		}
		err = errno;
		break;
	}
	free(frame);
	ASSERT(off == len || err == EPIPE || err == ECONNRESET, "sending an "
	    "oversized body: %zu of %zu bytes, %s", off, len, strerror(err));
	/* Whatever the send said, the reply was sent before the close. */
	rexpect(fd, &f, IOMUX_ST_ETOOBIG, 0);
	tu_frame_free(&f);
	n = tu_wait_eof(fd, 2000);
	ASSERT(n == 0 || n == -ECONNRESET, "after ETOOBIG: %zd", n);
	close(fd);
	lping_fresh(&d, "after an oversized body");
	dstop(&d);
}
END_TEST

/*
 * The ETOOBIG message is read by people: it must not misstate the
 * announced length (it said "frame of 0 bytes" for lengths over 64 MiB).
 */
START_TEST(test_toobig_message)
{
	static const uint32_t	 lens[] = {
		IOMUX_FRAME_MAX_DEFAULT + 1, (64u << 20) + 1, 0xffffffffu,
	};
	struct tu_daemon	 d;
	struct tu_frame		 f;
	uint8_t			 hdr[4];
	char			 msg[256];
	size_t			 i, n;
	int			 fd;

	dstart(&d, BACKEND, NULL);
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		fd = rconnect(&d);
		tu_put32(hdr, lens[i]);
		rwrite(fd, hdr, sizeof hdr);
		rexpect(fd, &f, IOMUX_ST_ETOOBIG, 0);
		n = f.args[0].len < sizeof msg - 1 ? f.args[0].len :
		    sizeof msg - 1;
		memcpy(msg, f.args[0].p, n);
		msg[n] = '\0';
		tu_frame_free(&f);
		close(fd);
		ASSERT(strstr(msg, " 0 bytes") == NULL, "ETOOBIG for an "
		    "announced length of %u says \"%s\"", lens[i], msg);
	}
	dstop(&d);
}
END_TEST

/* Write up to len bytes of garbage; the server may close midway. */
static void
spew(int fd, int byte, size_t len)
{
	uint8_t	*buf;
	size_t	 done = 0;
	int	 rc;

	buf = malloc(len);
	ASSERT(buf != NULL, "malloc");
	memset(buf, byte, len);
	rc = tu_write_some(fd, buf, len, 2000, &done);
	free(buf);
	ASSERT(rc == 0 || rc == -EPIPE || rc == -ECONNRESET,
	    "garbage write: %s after %zu bytes (server neither read nor "
	    "closed)", strerror(-rc), done);
}

START_TEST(test_garbage)
{
	struct tu_daemon	 d;
	struct tu_frame		 f;
	int64_t			 t0;
	int			 fd, rc;

	dstart(&d, BACKEND, NULL);

	/* 0xff...: the length prefix says 4 GiB. */
	fd = rconnect(&d);
	t0 = tu_now_ms();
	spew(fd, 0xff, 1u << 20);
	rc = tu_read_frame(fd, &f, 1u << 20, 2000);
	ASSERT(rc == 1 && f.code == IOMUX_ST_ETOOBIG, "0xff garbage: want "
	    "ETOOBIG (rc %d status 0x%04x)", rc, rc == 1 ? f.code : 0);
	tu_frame_free(&f);
	rexpect_eof(fd, 2000, "0xff garbage");
	ASSERT(tu_now_ms() - t0 < 2000, "0xff garbage: closed after %lld ms",
	    (long long)(tu_now_ms() - t0));
	close(fd);
	lping_fresh(&d, "after 0xff");

	/* 0x00...: a zero-length body is shorter than a header. */
	fd = rconnect(&d);
	t0 = tu_now_ms();
	spew(fd, 0x00, 1u << 20);
	rc = tu_read_frame(fd, &f, 1u << 20, 2000);
	ASSERT(rc == 1 && f.code == IOMUX_ST_EPROTO && f.id == 0,
	    "0x00 garbage: want EPROTO id 0 (rc %d status 0x%04x)", rc,
	    rc == 1 ? f.code : 0);
	tu_frame_free(&f);
	rexpect_eof(fd, 2000, "0x00 garbage");
	ASSERT(tu_now_ms() - t0 < 2000, "0x00 garbage: closed after %lld ms",
	    (long long)(tu_now_ms() - t0));
	close(fd);

	lping_fresh(&d, "after garbage");
	dalive(&d, "after garbage");
	dstop(&d);
}
END_TEST

/* Each malformed frame gets its error and a close; others unaffected. */
START_TEST(test_bad_frames)
{
	struct tu_daemon	 d;
	struct tu_arg		 a = { "x", 1 };
	uint8_t			 buf[64];
	size_t			 n;
	int			 fd;

	dstart(&d, BACKEND, NULL);

	/* Version 2: EVERSION with the id echoed, then close. */
	fd = rconnect(&d);
	rsend(fd, 2, IOMUX_KIND_REQUEST, IOMUX_OP_PING, 77, 1, &a);
	rexpect_refused(fd, IOMUX_ST_EVERSION, 77, "after EVERSION");

	/* Version 0 too. */
	fd = rconnect(&d);
	rsend(fd, 0, IOMUX_KIND_REQUEST, IOMUX_OP_PING, 78, 0, NULL);
	rexpect_refused(fd, IOMUX_ST_EVERSION, 78, "after EVERSION (0)");

	/* A client sending a reply: EKIND, close. */
	fd = rconnect(&d);
	rsend(fd, 1, IOMUX_KIND_REPLY, IOMUX_OP_PING, 79, 0, NULL);
	rexpect_refused(fd, IOMUX_ST_EKIND, 79, "after EKIND");

	/* A body of 5 bytes: shorter than the header. */
	fd = rconnect(&d);
	memset(buf, 0, sizeof buf);
	tu_put32(buf, 5);
	buf[4] = 1;
	buf[5] = 1;
	rwrite(fd, buf, 9);
	rexpect_refused(fd, IOMUX_ST_EPROTO, 0, "after a short body");

	/* An argument that overruns the body. */
	fd = rconnect(&d);
	n = tu_encode_req(buf, sizeof buf, IOMUX_OP_PING, 80, 1, &a);
	tu_put32(buf + 14, 100);	/* arg len 100 in a 15-byte body */
	rwrite(fd, buf, n);
	rexpect_refused(fd, IOMUX_ST_EPROTO, 80, "after an overrun");

	/* Trailing bytes after the last argument. */
	fd = rconnect(&d);
	n = tu_encode_req(buf, sizeof buf, IOMUX_OP_PING, 81, 1, &a);
	buf[n] = 'T';
	buf[n + 1] = 'T';
	tu_put32(buf, tu_get32(buf) + 2);
	rwrite(fd, buf, n + 2);
	rexpect_refused(fd, IOMUX_ST_EPROTO, 81, "after trailing bytes");

	/* argc 1025 (> IOMUX_ARGS_MAX), every argument empty. */
	{
		uint8_t	big[14 + 1025 * 4];

		memset(big, 0, sizeof big);
		rput_header(big, 10 + 1025 * 4, IOMUX_OP_PING, 82, 1025);
		fd = rconnect(&d);
		rwrite(fd, big, sizeof big);
		rexpect_refused(fd, IOMUX_ST_EPROTO, 82, "after argc 1025");
	}

	lping_fresh(&d, "after bad frames");
	ASSERT(lstatus_num(&d, "errors_proto") >= 7, "errors_proto %lld, "
	    "want >= 7", lstatus_num(&d, "errors_proto"));
	dstop(&d);
}
END_TEST

START_TEST(test_half_frame)
{
	struct tu_daemon	 d;
	struct tu_arg		 a;
	uint8_t			 buf[256], pl[100];
	size_t			 n;
	int			 fd, i;

	memset(pl, 'h', sizeof pl);
	dstart(&d, BACKEND, NULL);
	for (i = 0; i < 20; i++) {
		fd = rconnect(&d);
		a.p = pl;
		a.len = 100;
		n = tu_encode_req(buf, sizeof buf, IOMUX_OP_PING, 1, 1, &a);
		/* Cut anywhere: in the prefix, the header, the argument. */
		rwrite(fd, buf, (size_t)(1 + i * 5) % n);
		close(fd);
	}
	tu_sleep_ms(50);
	dalive(&d, "after half frames");
	lping_fresh(&d, "after half frames");
	dstop(&d);
}
END_TEST

/* A frame written one byte per send(), each a separate read. */
START_TEST(test_split_writes)
{
	struct tu_daemon	 d;
	struct tu_frame		 f;
	struct tu_arg		 a = { "split\0frame", 11 };
	uint8_t			 buf[64];
	size_t			 n, i;
	int			 fd, rc;

	dstart(&d, BACKEND, NULL);
	fd = rconnect(&d);
	n = tu_encode_req(buf, sizeof buf, IOMUX_OP_PING, 21, 1, &a);
	for (i = 0; i < n; i++) {
		rc = tu_write_all(fd, buf + i, 1, IO_MS);
		ASSERT(rc == 0, "write byte %zu: %s", i, strerror(-rc));
		tu_sleep_ms(2);
	}
	rexpect(fd, &f, IOMUX_ST_OK, 21);
	ASSERT(f.argc == 1 && tu_arg_eq(&f.args[0], a.p, a.len), "echo");
	tu_frame_free(&f);
	/* Two frames in one write, the second cut, then completed. */
	n = tu_encode_req(buf, sizeof buf, IOMUX_OP_PING, 22, 1, &a);
	memcpy(buf + n, buf, n);
	tu_put32(buf + n + 8, 23);
	rwrite(fd, buf, n + 5);
	rexpect(fd, &f, IOMUX_ST_OK, 22);
	tu_frame_free(&f);
	tu_sleep_ms(20);
	rwrite(fd, buf + n + 5, n - 5);
	rexpect(fd, &f, IOMUX_ST_OK, 23);
	tu_frame_free(&f);
	close(fd);
	dstop(&d);
}
END_TEST

/* ---- main ----------------------------------------------------------- */

static Suite *
integ_frames_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("integ_frames");

	tc = tcase(s, "bad_input", 60);
	LOOP(tc, test_unknown_op);
	LOOP(tc, test_oversize);
	LOOP(tc, test_oversize_body_written);
	LOOP(tc, test_frame_max_boundary);
	LOOP(tc, test_huge_length);
	LOOP(tc, test_toobig_message);
	LOOP(tc, test_garbage);
	LOOP(tc, test_bad_frames);
	LOOP(tc, test_half_frame);
	LOOP(tc, test_split_writes);

	return s;
}

int
main(void)
{
	return integ_main("check_integ_frames", integ_frames_suite);
}
