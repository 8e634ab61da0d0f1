/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_integ.c: drive the real iomuxd through libiomux and raw sockets.
 *
 * Every test starts its own daemon ("$IOMUXD -f -s DIR/sock -b BACKEND")
 * in a private directory and stops it by PID at the end, asserting a clean
 * exit. Each TCase runs once per backend in $IOMUXD_BACKENDS (default
 * "epoll poll select"). The raw-socket tests build and parse frames with
 * testutil's hand-written big-endian code, not with proto/codec.c, so a
 * bug shared by the codec and the daemon cannot hide.
 *
 * The cases follow RELIABILITY.md (b): bad input of every shape, limits
 * (max clients, output limit, frame and idle deadlines), half-close,
 * SIGPIPE, graceful stop with pending replies, fd leaks, fairness under a
 * firehose client, and the TCP listener rules. Timing bounds are generous
 * (these are not benchmarks) so the suite passes on a loaded 2-core box.
 */

#include <sys/socket.h>
#include <sys/stat.h>
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

#define OP_UNKNOWN	0x7e7e	/* no such opcode in any range */

static const char *const status_fields[] = {
	"version", "pid", "uptime", "backend", "activation", "listeners",
	"clients", "max_clients", "clients_accepted", "clients_refused",
	"clients_timed_out", "clients_dropped", "requests", "requests.hello",
	"requests.ping", "requests.status", "requests.unknown", "errors_proto",
	"bytes_in", "bytes_out", "wakeups", "events", "events_per_wakeup",
	"rss", "frame_max",
};
#define NSTATUS	(sizeof status_fields / sizeof status_fields[0])
/* The fields that are decimal integers. */
static const char *const status_numeric[] = {
	"pid", "uptime", "clients", "max_clients", "clients_accepted",
	"clients_refused", "clients_timed_out", "clients_dropped", "requests",
	"requests.hello", "requests.ping", "requests.status",
	"requests.unknown", "errors_proto", "bytes_in", "bytes_out", "wakeups",
	"events", "rss", "frame_max",
};

struct status {
	char	val[NSTATUS][1024];
};

/* ---- daemon and connection helpers ---------------------------------- */

/* A raw PING with payload must be echoed exactly. */
static void
rping(int fd, uint32_t id, const void *p, size_t len)
{
	struct tu_frame	f;
	struct tu_arg	a = { p, (uint32_t)len };

	rsend_req(fd, IOMUX_OP_PING, id, 1, &a);
	rexpect(fd, &f, IOMUX_ST_OK, id);
	ASSERT(f.argc == 1 && tu_arg_eq(&f.args[0], p, len),
	    "PING echo differs (argc %u)", f.argc);
	tu_frame_free(&f);
}

/* A fresh libiomux client gets a PING answered: the daemon serves. */
static void
lping_fresh(const struct tu_daemon *d, const char *what)
{
	struct iomux_client	*c;
	struct iomux_reply	 r;
	int			 rc;

	c = lconnect(d);
	rc = iomux_ping(c, what, strlen(what), &r);
	ASSERT(rc == 0, "%s: ping: %s (%s)", what, strerror(-rc),
	    iomux_errmsg(c));
	ASSERT(r.code == IOMUX_ST_OK && r.argc == 1 &&
	    r.argv[0].len == strlen(what) &&
	    memcmp(r.argv[0].data, what, strlen(what)) == 0,
	    "%s: bad PING reply (status 0x%04x argc %zu)", what, r.code,
	    r.argc);
	iomux_close(c);
}

static size_t
field_index(const char *name)
{
	size_t	i;

	for (i = 0; i < NSTATUS; i++)
		if (strcmp(status_fields[i], name) == 0)
			return i;
	ck_abort_msg("no STATUS field %s in the test's list", name);
	return 0;
}

/* STATUS through libiomux; every field of the spec must be present. */
static void
status_get(struct iomux_client *c, struct status *s)
{
	const struct iomux_value	*v;
	struct iomux_reply		 r;
	size_t				 i;
	int				 rc;

	rc = iomux_status(c, &r);
	ASSERT(rc == 0, "STATUS: %s (%s)", strerror(-rc), iomux_errmsg(c));
	ASSERT(r.code == IOMUX_ST_OK, "STATUS status 0x%04x", r.code);
	ASSERT(r.argc % 2 == 0, "STATUS argc %zu is odd", r.argc);
	for (i = 0; i < NSTATUS; i++) {
		v = iomux_reply_field(&r, status_fields[i]);
		ASSERT(v != NULL && !v->absent, "STATUS lacks field %s",
		    status_fields[i]);
		ASSERT(v->len < sizeof s->val[i], "STATUS %s too long (%zu)",
		    status_fields[i], v->len);
		memcpy(s->val[i], v->data, v->len);
		s->val[i][v->len] = '\0';
	}
}

static const char *
sstr(const struct status *s, const char *name)
{
	return s->val[field_index(name)];
}

/* A STATUS number: plain decimal digits, nothing else. */
static long long
snum(const struct status *s, const char *name)
{
	const char	*v, *p;

	v = sstr(s, name);
	ASSERT(*v != '\0', "STATUS %s is empty", name);
	for (p = v; *p != '\0'; p++)
		ASSERT(*p >= '0' && *p <= '9', "STATUS %s=\"%s\" is not a "
		    "decimal number", name, v);
	return strtoll(v, NULL, 10);
}

static long long
lstatus_num(const struct tu_daemon *d, const char *name)
{
	struct iomux_client	*c;
	struct status		 s;
	long long		 v;

	c = lconnect(d);
	status_get(c, &s);
	v = snum(&s, name);
	iomux_close(c);
	return v;
}

/*
 * Poll STATUS on c until "clients" is want (the daemon has seen earlier
 * closes, e.g. the readiness probe's), at most 3 s. The daemon counts a
 * close at once but closes the fd at the end of that loop turn, after
 * our reply may have gone out: one more round trip makes sure that turn
 * is over, so /proc/PID/fd is settled too.
 */
static void
wait_clients(struct iomux_client *c, long long want)
{
	struct iomux_reply	r;
	struct status		s;
	int64_t			deadline;
	long long		n;
	int			rc;

	deadline = tu_now_ms() + 3000;
	for (;;) {
		status_get(c, &s);
		n = snum(&s, "clients");
		if (n == want) {
			rc = iomux_ping(c, "sync", 4, &r);
			ASSERT(rc == 0 && r.code == IOMUX_ST_OK, "sync ping");
			return;
		}
		ASSERT(tu_now_ms() < deadline, "STATUS clients stays at %lld, "
		    "want %lld", n, want);
		tu_sleep_ms(20);
	}
}

/* 1 if the comma-separated list holds item exactly. */
static int
list_has(const char *list, const char *item)
{
	const char	*p = list, *e;
	size_t		 n = strlen(item);

	for (;;) {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) == n && memcmp(p, item, n) == 0)
			return 1;
		if (*e == '\0')
			return 0;
		p = e + 1;
	}
}

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
	struct tu_arg		 a[3];
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
	rsend_req(fd, IOMUX_OP_HELLO, 3, 2, a);
	rexpect_err(fd, IOMUX_ST_EARGS, 3);
	a[1].len = 64;
	rsend_req(fd, IOMUX_OP_HELLO, 4, 2, a);
	rexpect(fd, &f, IOMUX_ST_OK, 4);
	tu_frame_free(&f);
	a[2].p = "x";
	a[2].len = 1;
	rsend_req(fd, IOMUX_OP_HELLO, 5, 3, a);
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

	rping(fd, 8, "still usable", 12);
	close(fd);
	dstop(&d);
}
END_TEST

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

/* ---- limits --------------------------------------------------------- */

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

/* ---- TCP ------------------------------------------------------------ */

START_TEST(test_tcp)
{
	struct tu_daemon	 d;
	struct iomux_client	*c = NULL;
	struct iomux_reply	 r;
	struct status		 s;
	char			 hp[64], err[256] = "";
	int			 port, rc, fd;

	port = tu_free_tcp_port();
	ASSERT(port > 0, "no free port: %s", strerror(-port));
	snprintf(hp, sizeof hp, "127.0.0.1:%d", port);
	dstart(&d, BACKEND, "--tcp", hp, NULL);
	rc = iomux_connect_tcp(hp, IO_MS, &c, err, sizeof err);
	ASSERT(rc == 0 && c != NULL, "iomux_connect_tcp %s: %s (%s)", hp,
	    strerror(-rc), err);
	rc = iomux_ping(c, "over tcp", 8, &r);
	ASSERT(rc == 0 && r.code == IOMUX_ST_OK && r.argc == 1 &&
	    r.argv[0].len == 8 && memcmp(r.argv[0].data, "over tcp", 8) == 0,
	    "PING over TCP: %s", strerror(-rc));
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
integ_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("integ");

	tc = tcase(s, "hello", 30);
	LOOP(tc, test_hello);
	LOOP(tc, test_hello_raw);
	LOOP(tc, test_hello_frame_max);

	tc = tcase(s, "ping", 30);
	LOOP(tc, test_ping_lib);
	LOOP(tc, test_ping_raw);
	LOOP(tc, test_args_shape);

	tc = tcase(s, "status", 30);
	LOOP(tc, test_status_fields);
	LOOP(tc, test_status_counts);

	tc = tcase(s, "load", 60);
	LOOP(tc, test_pipeline_10k);
	LOOP(tc, test_many_clients);
	LOOP(tc, test_fd_setsize);
	LOOP(tc, test_fairness);

	tc = tcase(s, "bad_input", 60);
	LOOP(tc, test_unknown_op);
	LOOP(tc, test_oversize);
	LOOP(tc, test_frame_max_boundary);
	LOOP(tc, test_huge_length);
	LOOP(tc, test_toobig_message);
	LOOP(tc, test_garbage);
	LOOP(tc, test_bad_frames);
	LOOP(tc, test_half_frame);
	LOOP(tc, test_split_writes);

	tc = tcase(s, "peer", 60);
	LOOP(tc, test_shutdown_wr);
	LOOP(tc, test_sigpipe);
	LOOP(tc, test_slow_reader);
	LOOP(tc, test_graceful_stop);

	tc = tcase(s, "deadlines", 60);
	LOOP(tc, test_frame_timeout);
	LOOP(tc, test_idle_timeout);
	LOOP(tc, test_slowloris);

	tc = tcase(s, "limits", 60);
	LOOP(tc, test_max_clients);
	LOOP(tc, test_output_limit);
	LOOP(tc, test_fd_leak);

	tc = tcase(s, "tcp", 30);
	LOOP(tc, test_tcp);
	LOOP(tc, test_tcp_remote_refused);

	return s;
}

int
main(void)
{
	return integ_main("check_integ", integ_suite);
}
