/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_integ_quota.c: the per-uid quotas of the real iomuxd, with
 * clients that are real uids: max_clients_per_uid (one uid at its limit is
 * refused with EBUSY naming the uid and the numbers, while other uids and
 * root still connect; a close frees a slot; TCP clients share the quota
 * of the pseudo-user "tcp") and client_memory_max_per_uid (one uid's
 * stalled frames cost that uid its own biggest connections, and nobody
 * else's; the global client_memory_max still holds across uids).
 *
 * Clients "as uid N" come from uconnect() (integ-util.h), on a daemon
 * whose socket is mode 0666 in a directory made 0711 (dshare()).
 *
 * The whole suite is skipped unless it runs as root (it needs setuid).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "iomux.h"
#include "integ-util.h"
#include "testutil.h"

#define MIB		(1024LL * 1024)
#define UID_A		65534	/* nobody */
#define UID_B		65533

/* Start a daemon whose socket any uid can reach (mode 0666, dir 0711). */
static void
qstart(struct tu_daemon *d, const char *backend, const char *a1,
    const char *v1, const char *a2, const char *v2, const char *a3,
    const char *v3)
{
	dstart(d, backend, "--socket-mode", "0666", a1, v1, a2, v2, a3, v3,
	    NULL);
	dshare(d);
}

/* fd is served: a PING comes back. */
static void
served(int fd, const char *what)
{
	(void)what;
	rping(fd, 7, "q", 1);
}

/* fd gets EBUSY with exactly this message, then the close. */
static void
refused(int fd, const char *msg)
{
	struct tu_frame	f;

	rexpect(fd, &f, IOMUX_ST_EBUSY, 0);
	ASSERT(f.argc == 1 && tu_arg_eq(&f.args[0], msg, strlen(msg)),
	    "EBUSY message \"%.*s\", want \"%s\"", f.argc ?
	    (int)f.args[0].len : 0, f.argc ? (const char *)f.args[0].p : "",
	    msg);
	tu_frame_free(&f);
	rexpect_eof(fd, 2000, msg);
	close(fd);
}

/* ---- max_clients_per_uid --------------------------------------------- */

/*
 * Three connections as uid A fill its quota: the fourth is refused with
 * the uid and the numbers, while uid B and root (exempt: more than three)
 * still connect. Closing one of A's frees a slot for A, once.
 */
START_TEST(test_uid_conn_limit)
{
	struct tu_daemon	d;
	int			a[3], b[3], r[5], fd, i;

	qstart(&d, BACKEND, "--max-clients", "40", "--max-clients-per-uid",
	    "3", NULL, NULL);
	for (i = 0; i < 3; i++) {
		a[i] = uconnect(&d, UID_A, UID_A, NULL, 0);
		served(a[i], "uid A within its quota");
	}
	refused(uconnect(&d, UID_A, UID_A, NULL, 0),
	    "uid 65534: 3 connections, limit 3");
	for (i = 0; i < 3; i++) {
		b[i] = uconnect(&d, UID_B, UID_B, NULL, 0);
		served(b[i], "uid B while A is at its quota");
	}
	for (i = 0; i < 5; i++) {
		r[i] = rconnect(&d);
		served(r[i], "root is exempt");
	}
	ASSERT(dstatus_num(&d, "clients_refused_uid") == 1,
	    "clients_refused_uid %lld", dstatus_num(&d,
	    "clients_refused_uid"));
	ASSERT(dstatus_num(&d, "clients_refused") == 1, "clients_refused "
	    "%lld", dstatus_num(&d, "clients_refused"));
	ASSERT(dstatus_num(&d, "max_clients_per_uid") == 3,
	    "max_clients_per_uid %lld", dstatus_num(&d,
	    "max_clients_per_uid"));

	/* A close gives A its slot back: the close lands, then one fits. */
	close(a[1]);
	ASSERT(dwait_status(&d, "clients", 11, 3000) == 11, "A's close "
	    "did not land");
	a[1] = uconnect(&d, UID_A, UID_A, NULL, 0);
	served(a[1], "uid A after a close");
	refused(uconnect(&d, UID_A, UID_A, NULL, 0),
	    "uid 65534: 3 connections, limit 3");
	ASSERT(dstatus_num(&d, "clients_refused_uid") == 2,
	    "clients_refused_uid %lld", dstatus_num(&d,
	    "clients_refused_uid"));
	for (i = 0; i < 3; i++) {
		close(a[i]);
		close(b[i]);
	}
	for (i = 0; i < 5; i++)
		close(r[i]);
	/* Every uid's entry went with its last connection. */
	ASSERT(dwait_status(&d, "client_uids", 1, 3000) == 1, "client_uids "
	    "%lld with only the STATUS connection left",
	    dstatus_num(&d, "client_uids"));
	fd = uconnect(&d, UID_A, UID_A, NULL, 0);
	served(fd, "uid A with nothing else open");
	close(fd);
	dstop(&d);
}
END_TEST

/*
 * The default is a quarter of max_clients as it runs; 0 is no limit.
 */
START_TEST(test_uid_conn_default)
{
	struct tu_daemon	d;
	int			a[5], i;

	qstart(&d, BACKEND, "--max-clients", "8", NULL, NULL, NULL, NULL);
	ASSERT(dstatus_num(&d, "max_clients_per_uid") == 2,
	    "max_clients_per_uid %lld with max_clients 8",
	    dstatus_num(&d, "max_clients_per_uid"));
	for (i = 0; i < 2; i++) {
		a[i] = uconnect(&d, UID_A, UID_A, NULL, 0);
		served(a[i], "uid A within the default quota");
	}
	refused(uconnect(&d, UID_A, UID_A, NULL, 0),
	    "uid 65534: 2 connections, limit 2");
	for (i = 0; i < 2; i++)
		close(a[i]);
	dstop(&d);

	qstart(&d, BACKEND, "--max-clients", "8", "--max-clients-per-uid",
	    "0", NULL, NULL);
	for (i = 0; i < 5; i++) {
		a[i] = uconnect(&d, UID_A, UID_A, NULL, 0);
		served(a[i], "no per-uid limit");
	}
	ASSERT(dstatus_num(&d, "clients_refused") == 0, "clients_refused "
	    "%lld", dstatus_num(&d, "clients_refused"));
	for (i = 0; i < 5; i++)
		close(a[i]);
	dstop(&d);
}
END_TEST

/* TCP clients have no uid: together they are the pseudo-user "tcp". */
START_TEST(test_uid_conn_tcp)
{
	struct tu_daemon	d;
	char			hp[32];
	int			t[2], u[3], port, fd, i;

	port = tu_free_tcp_port();
	ASSERT(port > 0, "no free port: %s", strerror(-port));
	snprintf(hp, sizeof hp, "127.0.0.1:%d", port);
	qstart(&d, BACKEND, "--tcp", hp, "--max-clients-per-uid", "2", NULL,
	    NULL);
	for (i = 0; i < 2; i++) {
		t[i] = tu_connect_tcp(port, IO_MS);
		ASSERT(t[i] >= 0, "tcp connect: %s", strerror(-t[i]));
		served(t[i], "tcp within its quota");
	}
	fd = tu_connect_tcp(port, IO_MS);
	ASSERT(fd >= 0, "tcp connect: %s", strerror(-fd));
	refused(fd, "tcp: 2 connections, limit 2");
	for (i = 0; i < 2; i++) {
		u[i] = uconnect(&d, UID_A, UID_A, NULL, 0);
		served(u[i], "uid A while tcp is at its quota");
	}
	u[2] = rconnect(&d);
	served(u[2], "root while tcp is at its quota");
	close(t[0]);
	ASSERT(dwait_status(&d, "clients", 5, 3000) == 5, "the tcp close "
	    "did not land");
	t[0] = tu_connect_tcp(port, IO_MS);
	ASSERT(t[0] >= 0, "tcp connect: %s", strerror(-t[0]));
	served(t[0], "tcp after a close");
	for (i = 0; i < 2; i++)
		close(t[i]);
	for (i = 0; i < 3; i++)
		close(u[i]);
	dstop(&d);
}
END_TEST

/* ---- client_memory_max_per_uid --------------------------------------- */

/*
 * n connections as uid (0: root), each holding a stalled partial frame
 * of 900 KiB (rstall()).
 */
static void
ustall(const struct tu_daemon *d, uid_t uid, int *fds, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		fds[i] = uid == 0 ? rconnect(d) :
		    uconnect(d, uid, (gid_t)uid, NULL, 0);
		rstall(fds[i]);
	}
}

/* How many of fds[0..n) the daemon closed; closes them all. */
static int
count_closed(int *fds, int n)
{
	int	i, closed = 0;

	for (i = 0; i < n; i++) {
		closed += rclosed_by_peer(fds[i]);
		close(fds[i]);
	}
	return closed;
}

/*
 * uid A fills far more than its 8M with stalled frames: its own
 * connections are dropped, while uid B's (under its limit) and root's
 * (exempt, over 8M) all survive, and the 64M global limit is not near.
 */
START_TEST(test_uid_client_memory)
{
	struct tu_daemon	d;
	int			a[20], b[5], r[10], ca, cb, cr;
	long long		evicted;

	qstart(&d, BACKEND, "--client-memory-max", "64M",
	    "--client-memory-max-per-uid", "8M", NULL, NULL);
	ASSERT(dstatus_num(&d, "client_memory_max_per_uid") == 8 * MIB,
	    "client_memory_max_per_uid %lld",
	    dstatus_num(&d, "client_memory_max_per_uid"));
	ustall(&d, UID_B, b, 5);
	ustall(&d, 0, r, 10);
	ustall(&d, UID_A, a, 20);
	evicted = dstatus_num(&d, "clients_evicted_uid");
	ASSERT(evicted > 0, "nobody was evicted with 20 x 900 KiB held by "
	    "one uid and client_memory_max_per_uid 8M");
	ASSERT(dstatus_num(&d, "client_memory") <= 64 * MIB,
	    "client_memory %lld", dstatus_num(&d, "client_memory"));
	tu_sleep_ms(100);
	ca = count_closed(a, 20);
	cb = count_closed(b, 5);
	cr = count_closed(r, 10);
	ASSERT(cb == 0 && cr == 0, "uid B lost %d connections and root %d "
	    "for uid A's memory", cb, cr);
	/* A keeps at most 8M: 8 frames of 900 KiB with their buffers. */
	ASSERT(ca >= 11 && ca == evicted, "uid A lost %d of 20 connections, "
	    "%lld evicted", ca, evicted);
	ASSERT(dstatus_num(&d, "clients_evicted") == evicted,
	    "clients_evicted %lld, clients_evicted_uid %lld",
	    dstatus_num(&d, "clients_evicted"), evicted);
	dstop(&d);
}
END_TEST

/*
 * Two uids, each under its own limit (12M), together over the global 16M:
 * the global limit still drops connections until the sum fits.
 */
START_TEST(test_uid_client_memory_global)
{
	struct tu_daemon	d;
	int			a[10], b[10], ca, cb;
	long long		used;

	qstart(&d, BACKEND, "--client-memory-max", "16M",
	    "--client-memory-max-per-uid", "12M", NULL, NULL);
	ustall(&d, UID_A, a, 10);
	ustall(&d, UID_B, b, 10);
	used = dstatus_num(&d, "client_memory");
	ASSERT(used <= 16 * MIB, "client_memory %lld over the 16M limit",
	    used);
	ASSERT(dstatus_num(&d, "clients_evicted") > 0, "nobody was evicted "
	    "with 20 x 900 KiB held and client_memory_max 16M");
	ASSERT(dstatus_num(&d, "clients_evicted_uid") == 0,
	    "clients_evicted_uid %lld: no uid was over its 12M",
	    dstatus_num(&d, "clients_evicted_uid"));
	tu_sleep_ms(100);
	ca = count_closed(a, 10);
	cb = count_closed(b, 10);
	ASSERT(ca + cb >= 2, "%d + %d connections closed", ca, cb);
	dstop(&d);
}
END_TEST

static Suite *
integ_quota_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("integ_quota");
	tc = tcase(s, "conn_quota", 60);
	LOOP(tc, test_uid_conn_limit);
	LOOP(tc, test_uid_conn_default);
	LOOP(tc, test_uid_conn_tcp);
	tc = tcase(s, "memory_quota", 60);
	LOOP(tc, test_uid_client_memory);
	LOOP(tc, test_uid_client_memory_global);
	return s;
}

int
main(void)
{
	return integ_main_root("check_integ_quota", integ_quota_suite);
}
