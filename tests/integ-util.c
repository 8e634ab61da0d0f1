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

/* ---- raw sockets: frames by hand (testutil.h), asserting --------------- */

void
dalive(struct tu_daemon *d, const char *when)
{
	ASSERT(tu_daemon_alive(d), "iomuxd -b %s died %s (exit code %d)",
	    d->backend, when, tu_daemon_exit_code(d));
}

int
rconnect(const struct tu_daemon *d)
{
	int	fd;

	fd = tu_connect_unix(d->sock, IO_MS);
	ASSERT(fd >= 0, "connect %s: %s", d->sock, strerror(-fd));
	return fd;
}

/* Encode a request by hand and write it all. */
void
rsend(int fd, uint8_t version, uint8_t kind, uint16_t code, uint32_t id,
    size_t argc, const struct tu_arg *argv)
{
	uint8_t	*buf;
	size_t	 n;
	int	 rc;

	n = tu_encode(NULL, 0, version, kind, code, id, argc, argv);
	buf = malloc(n);
	ASSERT(buf != NULL, "malloc %zu", n);
	tu_encode(buf, n, version, kind, code, id, argc, argv);
	rc = tu_write_all(fd, buf, n, IO_MS);
	free(buf);
	ASSERT(rc == 0, "write request (%zu bytes): %s", n, strerror(-rc));
}

void
rsend_req(int fd, uint16_t op, uint32_t id, size_t argc,
    const struct tu_arg *argv)
{
	rsend(fd, 1, IOMUX_KIND_REQUEST, op, id, argc, argv);
}

/* Read one reply frame and check version, kind, code and id. */
void
rexpect(int fd, struct tu_frame *f, uint16_t code, uint32_t id)
{
	int	rc;

	rc = tu_read_frame(fd, f, 64u << 20, IO_MS);
	ASSERT(rc == 1, "want a reply 0x%04x id %u, got %s", code, id,
	    rc == 0 ? "end of stream" : strerror(-rc));
	ASSERT(f->version == 1, "reply version %u", f->version);
	ASSERT(f->kind == IOMUX_KIND_REPLY, "reply kind %u", f->kind);
	ASSERT(f->code == code, "reply status 0x%04x, want 0x%04x", f->code,
	    code);
	ASSERT(f->id == id, "reply id %u, want %u", f->id, id);
	if (IOMUX_ST_IS_ERROR(code)) {
		ASSERT(f->argc == 1 && f->nargs == 1 &&
		    f->args[0].len != TU_ABSENT && f->args[0].len > 0,
		    "error reply 0x%04x must carry one message (argc %u)",
		    code, f->argc);
	}
}

/* Like rexpect() for an error reply; frees the frame. */
void
rexpect_err(int fd, uint16_t code, uint32_t id)
{
	struct tu_frame	f;

	rexpect(fd, &f, code, id);
	tu_frame_free(&f);
}

/* The server must close: end of stream with no more bytes, within ms. */
void
rexpect_eof(int fd, int ms, const char *what)
{
	ssize_t	n;

	n = tu_wait_eof(fd, ms);
	ASSERT(n != -ETIMEDOUT, "%s: connection not closed within %d ms",
	    what, ms);
	ASSERT(n == 0, "%s: %zd unexpected bytes before end of stream",
	    what, n);
}

/*
 * The error reply with this code and id, then the server's close (what
 * names the case); fd is closed.
 */
void
rexpect_refused(int fd, uint16_t code, uint32_t id, const char *what)
{
	rexpect_err(fd, code, id);
	rexpect_eof(fd, 2000, what);
	close(fd);
}

/* Write raw bytes, every one. */
void
rwrite(int fd, const void *buf, size_t n)
{
	int	rc;

	rc = tu_write_all(fd, buf, n, IO_MS);
	ASSERT(rc == 0, "write %zu raw bytes: %s", n, strerror(-rc));
}

/*
 * The 14 bytes of a request before its arguments, by hand: len is the
 * body length announced, true or not.
 */
void
rput_header(uint8_t *p, uint32_t len, uint16_t op, uint32_t id,
    uint16_t argc)
{
	tu_put32(p, len);
	p[4] = 1;
	p[5] = IOMUX_KIND_REQUEST;
	tu_put16(p + 6, op);
	tu_put32(p + 8, id);
	tu_put16(p + 12, argc);
}

long long
dstatus_num(const struct tu_daemon *d, const char *name)
{
	struct iomux_client		*c;
	struct iomux_reply		 r;
	const struct iomux_value	*v;
	char				 num[32];
	long long			 n;
	int				 rc;

	c = lconnect(d);
	rc = iomux_status(c, &r);
	ASSERT(rc == 0 && r.code == IOMUX_ST_OK, "STATUS: %s (%s)",
	    strerror(-rc), iomux_errmsg(c));
	v = iomux_reply_field(&r, name);
	ASSERT(v != NULL && !v->absent && v->len > 0 && v->len < sizeof num,
	    "STATUS lacks a number %s", name);
	memcpy(num, v->data, v->len);
	num[v->len] = '\0';
	n = strtoll(num, NULL, 10);
	iomux_close(c);
	return n;
}

long long
dwait_status(const struct tu_daemon *d, const char *name, long long want,
    int ms)
{
	int64_t		deadline = tu_now_ms() + ms;
	long long	n;

	while ((n = dstatus_num(d, name)) != want && tu_now_ms() < deadline)
		tu_sleep_ms(20);
	return n;
}
