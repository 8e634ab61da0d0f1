/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * integ-util.c: the daemon life cycle, connection and suite plumbing
 * shared by check_integ and check_hub (see integ-util.h).
 */

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check-run.h"
#include "integ-util.h"

#define MAX_BACKENDS	8

static char	 backend_buf[256];
const char	*integ_backends[MAX_BACKENDS];
int		 integ_nbackends;

TCase *
tcase(Suite *s, const char *name, int timeout)
{
	TCase	*tc;

	tc = tcase_create(name);
	tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

int
integ_main(const char *prog, Suite *(*suite)(void))
{
	char	 top[PATH_MAX];
	int	 failed, rc;

	if (tu_iomuxd() == NULL) {
		printf("1..0 # SKIP $IOMUXD is not set or not executable\n");
		return 0;
	}
	integ_nbackends = tu_backends(integ_backends, MAX_BACKENDS,
	    backend_buf, sizeof backend_buf);
	signal(SIGPIPE, SIG_IGN);
	/* Every test's directory goes under one top directory we remove. */
	if ((rc = tu_tmpdir(top, sizeof top)) != 0) {
		fprintf(stderr, "%s: mkdtemp: %s\n", prog, strerror(-rc));
		return 99;
	}
	setenv("TMPDIR", top, 1);
	failed = check_run(suite());
	tu_rmtree(top);
	return failed;
}

/* conf (may be NULL) goes to DIR/iomuxd.conf; extra is NULL-terminated. */
static void
dstartv(struct tu_daemon *d, const char *backend, const char *conf,
    va_list ap)
{
	const char	*argv[TU_MAX_EXTRA_ARGS + 1];
	const char	*a;
	char		 path[PATH_MAX];
	FILE		*fp;
	int		 n = 0, rc;

	rc = tu_daemon_init(d, backend);
	ASSERT(rc == 0, "tu_daemon_init: %s", strerror(-rc));
	if (conf != NULL) {
		ASSERT((size_t)snprintf(path, sizeof path, "%s/iomuxd.conf",
		    d->dir) < sizeof path, "path too long");
		fp = fopen(path, "w");
		ASSERT(fp != NULL, "create %s: %s", path, strerror(errno));
		fputs(conf, fp);
		ASSERT(fclose(fp) == 0, "write %s", path);
		argv[n++] = "-c";
		argv[n++] = path;
	}
	while ((a = va_arg(ap, const char *)) != NULL &&
	    n < TU_MAX_EXTRA_ARGS)
		argv[n++] = a;
	argv[n] = NULL;
	rc = tu_daemon_spawn(d, argv);
	ASSERT(rc == 0, "spawn iomuxd -b %s: %s", backend, strerror(-rc));
	rc = tu_daemon_wait_ready(d, TU_START_TIMEOUT_MS);
	if (rc != 0)
		tu_daemon_dump_log(d);
	ASSERT(rc == 0, "iomuxd -b %s not ready: %s (exit code %d)", backend,
	    strerror(-rc), tu_daemon_exit_code(d));
}

void
dstart(struct tu_daemon *d, const char *backend, ...)
{
	va_list	ap;

	va_start(ap, backend);
	dstartv(d, backend, NULL, ap);
	va_end(ap);
}

void
dstart_conf(struct tu_daemon *d, const char *backend, const char *conf,
    ...)
{
	va_list	ap;

	va_start(ap, conf);
	dstartv(d, backend, conf, ap);
	va_end(ap);
}

void
dstop(struct tu_daemon *d)
{
	struct stat	st;
	int		rc;

	rc = tu_daemon_stop(d, TU_STOP_TIMEOUT_MS);
	ASSERT(rc == 0, "iomuxd -b %s did not exit within %d ms of SIGTERM",
	    d->backend, TU_STOP_TIMEOUT_MS);
	ASSERT(tu_daemon_exit_code(d) == 0,
	    "iomuxd -b %s: exit code %d after SIGTERM, want 0", d->backend,
	    tu_daemon_exit_code(d));
	ASSERT(lstat(d->sock, &st) == -1 && errno == ENOENT,
	    "iomuxd -b %s left its socket %s behind", d->backend, d->sock);
	tu_daemon_cleanup(d);
}

struct iomux_client *
lconnect(const struct tu_daemon *d)
{
	struct iomux_client	*c = NULL;
	char			 err[256] = "";
	int			 rc;

	rc = iomux_connect_unix(d->sock, IO_MS, &c, err, sizeof err);
	ASSERT(rc == 0 && c != NULL, "iomux_connect_unix %s: %s (%s)",
	    d->sock, strerror(-rc), err);
	return c;
}
