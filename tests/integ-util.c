/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * integ-util.c: the daemon life cycle, connection and suite plumbing,
 * STATUS and PING checks and the hub calls shared by the suites that
 * drive a real iomuxd (see integ-util.h).
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int
integ_main_root(const char *prog, Suite *(*suite)(void))
{
	if (geteuid() != 0) {
		printf("1..0 # SKIP not root: clients must run as other "
		    "uids\n");
		return 0;
	}
	return integ_main(prog, suite);
}

/*
 * iomuxd makes its UNIX socket before its TCP listeners, and connect(2)
 * completes as soon as a socket listens, before the daemon accepts: the
 * readiness probe on the UNIX socket can succeed while a --tcp port is not
 * bound yet. Wait until every loopback --tcp in argv accepts too.
 */
static void
wait_tcp(struct tu_daemon *d, const char *const *argv)
{
	int64_t	deadline = tu_now_ms() + TU_START_TIMEOUT_MS;
	int	i, fd, port;

	for (i = 0; argv[i] != NULL && argv[i + 1] != NULL; i++) {
		if (strcmp(argv[i], "--tcp") != 0 ||
		    strncmp(argv[i + 1], "127.0.0.1:", 10) != 0)
			continue;
		port = atoi(argv[i + 1] + 10);
		while ((fd = tu_connect_tcp(port, IO_MS)) < 0) {
			dalive(d, "before its TCP listener was up");
			ASSERT(fd == -ECONNREFUSED && tu_now_ms() < deadline,
			    "iomuxd -b %s: %s not connectable: %s",
			    d->backend, argv[i + 1], strerror(-fd));
			tu_sleep_ms(10);
		}
		close(fd);
	}
}

/* conf (may be NULL) goes to DIR/iomuxd.conf; extra is NULL-terminated. */
static void
dstartv(struct tu_daemon *d, const char *backend, const char *conf,
    va_list ap)
{
	const char	*argv[TU_MAX_EXTRA_ARGS + 1];
	const char	*a;
	char		 path[PATH_MAX], token[PATH_MAX];
	FILE		*fp;
	bool		 own_token = false;
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
	    n < TU_MAX_EXTRA_ARGS - 2) {
		if (strcmp(a, "--token-file") == 0)
			own_token = true;
		argv[n++] = a;
	}
	/* A TCP listener's token goes here, never to the default path. */
	if (!own_token) {
		ASSERT((size_t)snprintf(token, sizeof token, "%s/token",
		    d->dir) < sizeof token, "path too long");
		argv[n++] = "--token-file";
		argv[n++] = token;
	}
	argv[n] = NULL;
	rc = tu_daemon_spawn(d, argv);
	ASSERT(rc == 0, "spawn iomuxd -b %s: %s", backend, strerror(-rc));
	rc = tu_daemon_wait_ready(d, TU_START_TIMEOUT_MS);
	if (rc != 0)
		tu_daemon_dump_log(d);
	ASSERT(rc == 0, "iomuxd -b %s not ready: %s (exit code %d)", backend,
	    strerror(-rc), tu_daemon_exit_code(d));
	wait_tcp(d, argv);
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

void
dtoken(const struct tu_daemon *d, char *hex)
{
	char		 path[PATH_MAX + 8], buf[TOKEN_LEN + 8];
	struct stat	 st;
	int64_t		 t0;
	ssize_t		 n;
	int		 fd, i;

	snprintf(path, sizeof path, "%s/token", d->dir);
	/*
	 * The TCP port may accept before the token is written: a client
	 * reads it once the daemon has answered, or waits for it, as here.
	 */
	t0 = tu_now_ms();
	while ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno == ENOENT &&
	    tu_now_ms() - t0 < IO_MS)
		tu_sleep_ms(10);
	ASSERT(fd >= 0, "open %s: %s", path, strerror(errno));
	ASSERT(fstat(fd, &st) == 0 && (st.st_mode & 07777) == 0640,
	    "%s: mode %04o, want 0640", path, (unsigned)(st.st_mode & 07777));
	n = read(fd, buf, sizeof buf);
	close(fd);
	ASSERT(n == TOKEN_LEN + 1 && buf[TOKEN_LEN] == '\n', "%s: %zd bytes, "
	    "want %d hex characters and a newline", path, n, TOKEN_LEN);
	for (i = 0; i < TOKEN_LEN; i++)
		ASSERT(strchr("0123456789abcdef", buf[i]) != NULL,
		    "%s: not lowercase hex", path);
	memcpy(hex, buf, TOKEN_LEN);
	hex[TOKEN_LEN] = '\0';
}

struct iomux_client *
lconnect_tcp(const struct tu_daemon *d, const char *hostport)
{
	struct iomux_client	*c = NULL;
	struct iomux_reply	 r;
	char			 err[256] = "", tok[TOKEN_LEN + 1];
	int			 rc;

	dtoken(d, tok);
	rc = iomux_connect_tcp(hostport, IO_MS, &c, err, sizeof err);
	ASSERT(rc == 0 && c != NULL, "iomux_connect_tcp %s: %s (%s)",
	    hostport, strerror(-rc), err);
	rc = iomux_hello_token(c, NULL, tok, &r);
	ASSERT(rc == 0 && r.code == IOMUX_ST_OK, "HELLO with the token over "
	    "%s: %s, status 0x%04x", hostport, strerror(-rc), r.code);
	return c;
}

int
rconnect_tcp(const struct tu_daemon *d, int port)
{
	struct tu_frame	 f;
	struct tu_arg	 a[3];
	uint8_t		 ver[4];
	char		 tok[TOKEN_LEN + 1];
	int		 fd;

	dtoken(d, tok);
	fd = tu_connect_tcp(port, IO_MS);
	ASSERT(fd >= 0, "connect 127.0.0.1:%d: %s", port, strerror(-fd));
	tu_put32(ver, 1);
	a[0].p = ver;
	a[0].len = 4;
	a[1].p = NULL;
	a[1].len = TU_ABSENT;
	a[2].p = tok;
	a[2].len = TOKEN_LEN;
	rsend_req(fd, IOMUX_OP_HELLO, 0x7fffffff, 3, a);
	rexpect(fd, &f, IOMUX_ST_OK, 0x7fffffff);
	tu_frame_free(&f);
	return fd;
}

/* ---- clients that are real uids --------------------------------------- */

/* A one-byte message at b with room for one fd in ctl (SCM_RIGHTS). */
union fd_ctl {
	char		buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr	align;
};

static void
fd_msg(struct msghdr *m, struct iovec *iov, char *b, union fd_ctl *ctl)
{
	memset(m, 0, sizeof(*m));
	memset(ctl, 0, sizeof(*ctl));
	iov->iov_base = b;
	iov->iov_len = 1;
	m->msg_iov = iov;
	m->msg_iovlen = 1;
	m->msg_control = ctl->buf;
	m->msg_controllen = sizeof(ctl->buf);
}

/* Send fd over the socket s (SCM_RIGHTS); 0 or -errno. */
static int
send_fd(int s, int fd)
{
	struct msghdr	 m;
	struct cmsghdr	*cm;
	struct iovec	 iov;
	union fd_ctl	 u;
	char		 b = 'f';

	fd_msg(&m, &iov, &b, &u);
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(s, &m, 0) == 1 ? 0 : -errno;
}

/* One fd from s, or -errno (-EBADMSG: none came). */
static int
recv_fd(int s)
{
	struct msghdr	 m;
	struct cmsghdr	*cm;
	struct iovec	 iov;
	union fd_ctl	 u;
	char		 b;
	int		 fd;

	fd_msg(&m, &iov, &b, &u);
	if (recvmsg(s, &m, 0) != 1)
		return -errno;
	cm = CMSG_FIRSTHDR(&m);
	if (cm == NULL || cm->cmsg_type != SCM_RIGHTS)
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

int
uconnect(const struct tu_daemon *d, uid_t uid, gid_t gid,
    const gid_t *groups, int ngroups)
{
	pid_t	pid;
	int	sv[2], fd, st;

	ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0,
	    "socketpair: %s", strerror(errno));
	pid = fork();
	ASSERT(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(sv[0]);
		if (chdir(d->dir) != 0 ||
		    setgroups((size_t)ngroups, groups) != 0 ||
		    setgid(gid) != 0 || setuid(uid) != 0)
			_exit(2);
		if ((fd = tu_connect_unix("sock", IO_MS)) < 0)
			_exit(3);
		_exit(send_fd(sv[1], fd) == 0 ? 0 : 4);
	}
	close(sv[1]);
	fd = recv_fd(sv[0]);
	close(sv[0]);
	ASSERT(waitpid(pid, &st, 0) == pid, "waitpid: %s", strerror(errno));
	ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0 && fd >= 0,
	    "connect as uid %ld gid %ld: child status 0x%x, fd %d",
	    (long)uid, (long)gid, st, fd);
	return fd;
}

void
dshare(const struct tu_daemon *d)
{
	ASSERT(chmod(d->dir, 0711) == 0, "chmod %s: %s", d->dir,
	    strerror(errno));
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

void
rstall(int fd)
{
	static uint8_t	*buf;
	size_t		 body = RSTALL_BYTES;
	int		 rc;

	/* One buffer for every stall of the test: its content never changes. */
	if (buf == NULL) {
		ASSERT((buf = calloc(1, body + 4)) != NULL, "malloc");
		tu_put32(buf, 1u << 20);
	}
	/* An evicted client may see its write cut short: fine. */
	rc = tu_write_all(fd, buf, body + 4, IO_MS);
	ASSERT(rc == 0 || rc == -EPIPE || rc == -ECONNRESET,
	    "stall fd %d: %s", fd, strerror(-rc));
}

int
rclosed_by_peer(int fd)
{
	uint8_t	b;
	ssize_t	n = recv(fd, &b, 1, MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
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

/* ---- the access-policy suites: raw requests as real uids ---------------- */

static const char	*stname(uint16_t);

/* DIR/iomuxd.conf of dstart_rules(): socket_mode for any uid, then conf. */
static char *
rules_text(const char *conf)
{
	char	*text;
	size_t	 n;

	n = strlen(conf) + 32;
	ASSERT((text = malloc(n)) != NULL, "malloc %zu", n);
	snprintf(text, n, "socket_mode = 0666\n%s", conf);
	return text;
}

void
dstart_rules(struct tu_daemon *d, const char *backend, const char *conf,
    const char *tcp)
{
	char	*text = rules_text(conf);

	if (tcp != NULL)
		dstart_conf(d, backend, text, "--tcp", tcp, NULL);
	else
		dstart_conf(d, backend, text, NULL);
	free(text);
	dshare(d);
}

void
dreload_rules(struct tu_daemon *d, const char *conf, int fd,
    long long rules)
{
	char	 path[PATH_MAX], *text = rules_text(conf);
	int	 rc;

	ASSERT((size_t)snprintf(path, sizeof path, "%s/iomuxd.conf",
	    d->dir) < sizeof path, "path too long");
	rc = tu_write_file(path, text);
	free(text);
	ASSERT(rc == 0, "rewrite %s: %s", path, strerror(-rc));
	ASSERT(tu_daemon_kill(d, SIGHUP) == 0, "SIGHUP: %s", strerror(errno));
	if (rules >= 0)
		ASSERT(rwait_stat(__LINE__, fd, "rules", rules) == rules,
		    "the reload did not take: STATUS rules %lld, want %lld",
		    rstat_num(__LINE__, fd, "rules"), rules);
}

const char *
rtext(const struct tu_arg *a)
{
	static char	buf[1024];
	size_t		n;

	if (a->len == TU_ABSENT)
		return "(absent)";
	n = a->len < sizeof buf - 1 ? a->len : sizeof buf - 1;
	memcpy(buf, a->p, n);
	buf[n] = '\0';
	return buf;
}

uint16_t
rcall(int line, int fd, struct tu_frame *f, uint16_t op, size_t argc,
    const struct tu_arg *argv)
{
	static uint32_t	id = 1000;
	int		rc;

	rsend_req(fd, op, ++id, argc, argv);
	rc = tu_read_frame(fd, f, 64u << 20, IO_MS);
	ASSERT(rc == 1, "line %d: %s: want a reply, got %s", line,
	    opname(op), rc == 0 ? "end of stream" : strerror(-rc));
	ASSERT(f->kind == IOMUX_KIND_REPLY && f->id == id, "line %d: %s: "
	    "frame kind %u id %u code 0x%04x, want the reply id %u", line,
	    opname(op), f->kind, f->id, f->code, id);
	return f->code;
}

void
rreq(int line, int fd, uint16_t st, uint16_t op, size_t argc,
    const struct tu_arg *argv)
{
	struct tu_frame	f;
	uint16_t	got;

	got = rcall(line, fd, &f, op, argc, argv);
	ASSERT(got == st, "line %d: %s: status %s (0x%04x) \"%s\", want "
	    "%s (0x%04x)", line, opname(op), stname(got), got,
	    IOMUX_ST_IS_ERROR(got) && f.nargs > 0 ? rtext(&f.args[0]) : "",
	    stname(st), st);
	tu_frame_free(&f);
}

void
rdenied(int line, int fd, const char *want, const char *alt, int part,
    uint16_t op, size_t argc, const struct tu_arg *argv)
{
	struct tu_frame	 f;
	const char	*m;
	uint16_t	 got;
	int		 ok;

	got = rcall(line, fd, &f, op, argc, argv);
	m = f.nargs > 0 ? rtext(&f.args[0]) : "";
	ASSERT(got == IOMUX_ST_EDENIED, "line %d: %s: status %s (0x%04x) "
	    "\"%s\", want EDENIED \"%s\"", line, opname(op), stname(got),
	    got, m, want);
	ASSERT(f.argc == 1 && f.nargs == 1 && f.args[0].len != TU_ABSENT,
	    "line %d: %s: EDENIED with %u arguments, want one message",
	    line, opname(op), f.argc);
	if (part)
		ok = strstr(m, want) != NULL;
	else
		ok = strcmp(m, want) == 0 || (alt != NULL &&
		    strcmp(m, alt) == 0);
	ASSERT(ok, "line %d: %s: EDENIED \"%s\", want %s\"%s\"%s%s%s", line,
	    opname(op), m, part ? "one with " : "", want, alt != NULL ?
	    " or \"" : "", alt != NULL ? alt : "", alt != NULL ? "\"" : "");
	tu_frame_free(&f);
	/* The connection stays open and in step. */
	rreq(line, fd, IOMUX_ST_OK, IOMUX_OP_PING, 1, &RA("after denial"));
}

/* The fields of STATUS for a caller without details, in no order. */
static const char *const summary_fields[] = {
	"version", "uptime", "backend", "clients", "requests", "keys",
	"queues", "channels", "locks_held", "data_bytes", "max_memory",
	"details",
};

void
rstatus_is(int line, int fd, int details)
{
	static const char *const	 admin[] = { "requests_denied",
		"auth_failures", "rules", "client_memory", "pid" };
	const size_t			 ns = sizeof summary_fields /
					    sizeof summary_fields[0];
	struct tu_frame			 f;
	const struct tu_arg		*v;
	size_t				 i, k;

	rcall(line, fd, &f, IOMUX_OP_STATUS, 0, NULL);
	ASSERT(f.code == IOMUX_ST_OK, "line %d: STATUS: status 0x%04x \"%s\"",
	    line, f.code, f.nargs > 0 ? rtext(&f.args[0]) : "");
	v = tu_frame_field(&f, "details");
	ASSERT(v != NULL && tu_arg_eq(v, details ? "yes" : "no",
	    details ? 3 : 2), "line %d: STATUS details \"%s\", want \"%s\"",
	    line, v != NULL ? rtext(v) : "(missing)", details ? "yes" : "no");
	if (details) {
		for (i = 0; i < sizeof admin / sizeof admin[0]; i++)
			ASSERT(tu_frame_field(&f, admin[i]) != NULL,
			    "line %d: admin STATUS lacks %s", line, admin[i]);
		tu_frame_free(&f);
		return;
	}
	ASSERT(f.nargs == 2 * ns, "line %d: STATUS summary with %zu "
	    "fields, want the %zu of the spec", line, f.nargs / 2, ns);
	for (i = 0; i + 1 < f.nargs; i += 2) {
		for (k = 0; k < ns; k++)
			if (tu_arg_eq(&f.args[i], summary_fields[k],
			    strlen(summary_fields[k])))
				break;
		ASSERT(k < ns, "line %d: STATUS summary has field %s", line,
		    rtext(&f.args[i]));
	}
	tu_frame_free(&f);
}

long long
rstat_num(int line, int fd, const char *name)
{
	struct tu_frame	f;
	uint64_t	v = 0;
	int		rc;

	rcall(line, fd, &f, IOMUX_OP_STATUS, 0, NULL);
	ASSERT(f.code == IOMUX_ST_OK, "line %d: STATUS: status 0x%04x",
	    line, f.code);
	rc = tu_frame_field_u64(&f, name, &v);
	tu_frame_free(&f);
	ASSERT(rc == 0, "line %d: STATUS %s: %s", line, name, strerror(-rc));
	return (long long)v;
}

long long
rwait_stat(int line, int fd, const char *name, long long want)
{
	int64_t		deadline = tu_now_ms() + 3000;
	long long	v;

	while ((v = rstat_num(line, fd, name)) != want &&
	    tu_now_ms() < deadline)
		tu_sleep_ms(10);
	return v;
}

void
rwhoami(int line, int fd, struct tu_frame *f, const char *grants)
{
	char	got[1024];
	size_t	i, n = 0;

	rcall(line, fd, f, IOMUX_OP_WHOAMI, 0, NULL);
	ASSERT(f->code == IOMUX_ST_OK, "line %d: WHOAMI: status 0x%04x "
	    "\"%s\"", line, f->code, f->nargs > 0 ? rtext(&f->args[0]) : "");
	got[0] = '\0';
	for (i = 0; i + 1 < f->nargs; i += 2)
		if (tu_arg_eq(&f->args[i], "grant", 5) && n < sizeof got)
			n += (size_t)snprintf(got + n, sizeof got - n, "%s%s",
			    n > 0 ? "|" : "", rtext(&f->args[i + 1]));
	ASSERT(strcmp(got, grants) == 0, "line %d: WHOAMI grants \"%s\", "
	    "want \"%s\"", line, got, grants);
}

void
rfield_is(int line, const struct tu_frame *f, const char *name,
    const char *want)
{
	const struct tu_arg	*v = tu_frame_field(f, name);

	if (want == NULL) {
		ASSERT(v == NULL, "line %d: pair %s=\"%s\", want none", line,
		    name, rtext(v));
		return;
	}
	ASSERT(v != NULL && tu_arg_eq(v, want, strlen(want)), "line %d: "
	    "pair %s \"%s\", want \"%s\"", line, name, v != NULL ?
	    rtext(v) : "(missing)", want);
}

/* ---- the connection suites' STATUS and PING ------------------------- */

static const char *const status_fields[] = {
	"version", "pid", "uptime", "backend", "activation", "listeners",
	"clients", "max_clients", "clients_accepted", "clients_refused",
	"clients_timed_out", "clients_dropped", "requests", "requests.hello",
	"requests.ping", "requests.status", "requests.unknown", "errors_proto",
	"bytes_in", "bytes_out", "wakeups", "events", "events_per_wakeup",
	"rss", "frame_max",
};
_Static_assert(sizeof status_fields / sizeof status_fields[0] == NSTATUS,
    "NSTATUS is the number of status_fields");

/* A raw PING with payload must be echoed exactly. */
void
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
void
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
void
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

const char *
sstr(const struct status *s, const char *name)
{
	return s->val[field_index(name)];
}

/* A STATUS number: plain decimal digits, nothing else. */
long long
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

long long
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
void
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
int
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

/* ---- hub calls: arguments encoded by hand ---------------------------- */

const char *
opname(uint16_t op)
{
	static const struct {
		uint16_t	 op;
		const char	*name;
	} t[] = {
		{ IOMUX_OP_HELLO, "HELLO" }, { IOMUX_OP_PING, "PING" },
		{ IOMUX_OP_STATUS, "STATUS" }, { IOMUX_OP_WHOAMI, "WHOAMI" },
		{ IOMUX_OP_GET, "GET" },
		{ IOMUX_OP_SET, "SET" }, { IOMUX_OP_DEL, "DEL" },
		{ IOMUX_OP_EXISTS, "EXISTS" }, { IOMUX_OP_INCR, "INCR" },
		{ IOMUX_OP_KEYS, "KEYS" }, { IOMUX_OP_TTL, "TTL" },
		{ IOMUX_OP_EXPIRE, "EXPIRE" }, { IOMUX_OP_PERSIST, "PERSIST" },
		{ IOMUX_OP_WAIT, "WAIT" }, { IOMUX_OP_PUSH, "PUSH" },
		{ IOMUX_OP_POP, "POP" }, { IOMUX_OP_QLEN, "QLEN" },
		{ IOMUX_OP_PEEK, "PEEK" }, { IOMUX_OP_SUBSCRIBE, "SUBSCRIBE" },
		{ IOMUX_OP_UNSUBSCRIBE, "UNSUBSCRIBE" },
		{ IOMUX_OP_PSUBSCRIBE, "PSUBSCRIBE" },
		{ IOMUX_OP_PUNSUBSCRIBE, "PUNSUBSCRIBE" },
		{ IOMUX_OP_PUBLISH, "PUBLISH" }, { IOMUX_OP_LOCK, "LOCK" },
		{ IOMUX_OP_TRYLOCK, "TRYLOCK" }, { IOMUX_OP_UNLOCK, "UNLOCK" },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].op == op)
			return t[i].name;
	return "?";
}

static const char *
stname(uint16_t st)
{
	const char	*n = iomux_status_name(st);

	return n != NULL ? n : "?";
}

/* The message of an error reply, for failure reports. */
const char *
errtext(const struct iomux_reply *r)
{
	static char	buf[256];
	size_t		n;

	if (!IOMUX_ST_IS_ERROR(r->code) || r->argc < 1 || r->argv[0].absent)
		return "";
	n = r->argv[0].len < sizeof(buf) - 1 ? r->argv[0].len :
	    sizeof(buf) - 1;
	memcpy(buf, r->argv[0].data, n);
	buf[n] = '\0';
	return buf;
}

struct iomux_reply
hcall(int line, struct iomux_client *c, uint16_t op, size_t argc,
    const struct iomux_value *argv)
{
	struct iomux_reply	r;
	int			rc;

	memset(&r, 0, sizeof(r));
	rc = iomux_call(c, op, argc, argv, &r);
	ASSERT(rc == 0, "line %d: %s: %s (%s)", line, opname(op),
	    strerror(-rc), iomux_errmsg(c));
	ASSERT(r.kind == IOMUX_KIND_REPLY, "line %d: %s: frame kind %u",
	    line, opname(op), r.kind);
	return r;
}

/*
 * The status must be st. An error reply carries exactly one message; the
 * negative answers (TIMEDOUT, NOTFOUND, CONFLICT) carry nothing.
 */
void
hcheck_status(int line, const struct iomux_reply *r, uint16_t op,
    uint16_t st)
{
	ASSERT(r->code == st, "line %d: %s: status %s (0x%04x) \"%s\", "
	    "want %s (0x%04x)", line, opname(op), stname(r->code), r->code,
	    errtext(r), stname(st), st);
	if (IOMUX_ST_IS_ERROR(st))
		ASSERT(r->argc == 1 && !r->argv[0].absent &&
		    r->argv[0].len > 0, "line %d: %s: error reply %s must "
		    "carry one message (argc %zu)", line, opname(op),
		    stname(st), r->argc);
	else if (st != IOMUX_ST_OK)
		ASSERT(r->argc == 0, "line %d: %s: %s reply with %zu "
		    "arguments, want none", line, opname(op), stname(st),
		    r->argc);
}

struct iomux_reply
hexpect(int line, struct iomux_client *c, uint16_t st, uint16_t op,
    size_t argc, const struct iomux_value *argv)
{
	struct iomux_reply	r;

	r = hcall(line, c, op, argc, argv);
	hcheck_status(line, &r, op, st);
	return r;
}

uint32_t
hsend(int line, struct iomux_client *c, uint16_t op, size_t argc,
    const struct iomux_value *argv)
{
	uint32_t	id = 0;
	int		rc;

	rc = iomux_send(c, op, argc, argv, &id);
	ASSERT(rc == 0, "line %d: send %s: %s", line, opname(op),
	    strerror(-rc));
	rc = iomux_flush(c);
	ASSERT(rc == 0, "line %d: flush %s: %s (%s)", line, opname(op),
	    strerror(-rc), iomux_errmsg(c));
	return id;
}

struct iomux_reply
hrecv(int line, struct iomux_client *c, uint16_t st, uint32_t id)
{
	struct iomux_reply	r;
	int			rc;

	memset(&r, 0, sizeof(r));
	rc = iomux_recv(c, &r);
	ASSERT(rc == 0, "line %d: waiting for reply id %u: %s (%s)", line,
	    id, strerror(-rc), iomux_errmsg(c));
	ASSERT(r.kind == IOMUX_KIND_REPLY, "line %d: want reply id %u, got "
	    "frame kind %u code 0x%04x", line, id, r.kind, r.code);
	ASSERT(r.id == id, "line %d: reply id %u, want %u (replies out of "
	    "order?)", line, r.id, id);
	hcheck_status(line, &r, 0, st);
	return r;
}

void
hargc(int line, const struct iomux_reply *r, size_t n)
{
	ASSERT(r->argc == n, "line %d: reply has %zu arguments, want %zu",
	    line, r->argc, n);
}

void
harg_eq(int line, const struct iomux_reply *r, size_t i, const void *p,
    size_t n)
{
	const struct iomux_value	*a;
	size_t				 k;

	ASSERT(i < r->argc, "line %d: reply has %zu arguments, want "
	    "argument %zu", line, r->argc, i);
	a = &r->argv[i];
	ASSERT(!a->absent, "line %d: argument %zu is absent, want %zu "
	    "bytes", line, i, n);
	ASSERT(a->len == n, "line %d: argument %zu has %zu bytes, want %zu",
	    line, i, a->len, n);
	for (k = 0; k < n; k++)
		ASSERT(((const uint8_t *)a->data)[k] ==
		    ((const uint8_t *)p)[k], "line %d: argument %zu differs "
		    "at byte %zu (0x%02x, want 0x%02x)", line, i, k,
		    ((const uint8_t *)a->data)[k], ((const uint8_t *)p)[k]);
}

static uint64_t
get64(const void *p)
{
	const uint8_t	*b = p;
	uint64_t	 v = 0;
	int		 k;

	for (k = 0; k < 8; k++)
		v = v << 8 | b[k];
	return v;
}

uint64_t
harg_u64(int line, const struct iomux_reply *r, size_t i)
{
	ASSERT(i < r->argc, "line %d: reply has %zu arguments, want a u64 "
	    "at %zu", line, r->argc, i);
	ASSERT(!r->argv[i].absent && r->argv[i].len == 8, "line %d: "
	    "argument %zu: %zu bytes%s, want an 8-byte integer", line, i,
	    r->argv[i].len, r->argv[i].absent ? " (absent)" : "");
	return get64(r->argv[i].data);
}

void
hok_u64(int line, const struct iomux_reply *r, uint64_t v)
{
	uint64_t	got;

	hargc(line, r, 1);
	got = harg_u64(line, r, 0);
	ASSERT(got == v, "line %d: reply %" PRIu64 ", want %" PRIu64, line,
	    got, v);
}

/* A round trip: the connection is alive and in step. */
void
hping(int line, struct iomux_client *c, const char *what)
{
	struct iomux_reply	r;

	r = hexpect(line, c, IOMUX_ST_OK, IOMUX_OP_PING, 1,
	    ARGV(S(what)));
	harg_eq(line, &r, 0, what, strlen(what));
	hargc(line, &r, 1);
}

/* A STATUS field as a number; it must be plain decimal digits. */
long long
hstat(int line, struct iomux_client *c, const char *name)
{
	const struct iomux_value	*v;
	struct iomux_reply		 r;
	char				 buf[32];
	size_t				 k;

	r = hexpect(line, c, IOMUX_ST_OK, IOMUX_OP_STATUS, 0, NULL);
	v = iomux_reply_field(&r, name);
	ASSERT(v != NULL && !v->absent, "line %d: STATUS lacks field %s",
	    line, name);
	ASSERT(v->len > 0 && v->len < sizeof(buf), "line %d: STATUS %s: "
	    "%zu bytes", line, name, v->len);
	memcpy(buf, v->data, v->len);
	buf[v->len] = '\0';
	for (k = 0; k < v->len; k++)
		ASSERT(buf[k] >= '0' && buf[k] <= '9', "line %d: STATUS "
		    "%s=\"%s\" is not a decimal number", line, name, buf);
	return strtoll(buf, NULL, 10);
}

/* Poll STATUS until name == want, at most 3 s. */
void
hwait_stat(int line, struct iomux_client *c, const char *name,
    long long want)
{
	int64_t		deadline = tu_now_ms() + 3000;
	long long	v;

	for (;;) {
		v = hstat(line, c, name);
		if (v == want)
			return;
		ASSERT(tu_now_ms() < deadline, "line %d: STATUS %s stays at "
		    "%lld, want %lld", line, name, v, want);
		tu_sleep_ms(5);
	}
}

/*
 * Each field of w must have its value. A failure reports every field,
 * with what it should be.
 */
void
hstats(int line, struct iomux_client *c, const char *why,
    const struct stat_want *w, size_t n)
{
	long long	got[16];
	char		msg[1024];
	size_t		i, len = 0;
	int		bad = 0;

	ASSERT(n <= sizeof(got) / sizeof(got[0]), "line %d: %zu fields",
	    line, n);
	for (i = 0; i < n; i++) {
		got[i] = hstat(line, c, w[i].name);
		if (got[i] != w[i].want)
			bad = 1;
	}
	if (!bad)
		return;
	msg[0] = '\0';
	for (i = 0; i < n && len < sizeof(msg); i++)
		len += (size_t)snprintf(msg + len, sizeof(msg) - len,
		    "%s%s %lld (want %lld)", i > 0 ? ", " : "", w[i].name,
		    got[i], w[i].want);
	ASSERT(0, "line %d: %s%sSTATUS %s", line, why != NULL ? why : "",
	    why != NULL ? ": " : "", msg);
}

/* Nothing arrives on c for ms milliseconds (c has nothing buffered). */
void
hquiet(int line, struct iomux_client *c, int ms, const char *what)
{
	struct pollfd	pfd;
	int		n;

	pfd.fd = iomux_fd(c);
	pfd.events = POLLIN;
	pfd.revents = 0;
	do
		n = poll(&pfd, 1, ms);
	while (n == -1 && errno == EINTR);
	ASSERT(n == 0, "line %d: %s: something arrived (revents 0x%x)",
	    line, what, pfd.revents);
}

/* A push frame of type MESSAGE with these arguments (pattern may be NULL). */
void
hpush(int line, const struct iomux_reply *r, const void *ch, size_t chlen,
    const void *msg, size_t msglen, const char *pattern)
{
	ASSERT(r->kind == IOMUX_KIND_PUSH, "line %d: want a PUSH frame, got "
	    "kind %u code 0x%04x id %u", line, r->kind, r->code, r->id);
	ASSERT(r->code == IOMUX_PUSH_MESSAGE, "line %d: push code 0x%04x",
	    line, r->code);
	ASSERT(r->id == 0, "line %d: push id %u, want 0", line, r->id);
	hargc(line, r, pattern != NULL ? 3 : 2);
	harg_eq(line, r, 0, ch, chlen);
	harg_eq(line, r, 1, msg, msglen);
	if (pattern != NULL)
		harg_eq(line, r, 2, pattern, strlen(pattern));
}

/* The next frame on c is a push with these arguments. */
void
hrecv_push(int line, struct iomux_client *c, const void *ch, size_t chlen,
    const void *msg, size_t msglen, const char *pattern)
{
	struct iomux_reply	r;
	int			rc;

	memset(&r, 0, sizeof(r));
	rc = iomux_recv(c, &r);
	ASSERT(rc == 0, "line %d: waiting for a push: %s (%s)", line,
	    strerror(-rc), iomux_errmsg(c));
	hpush(line, &r, ch, chlen, msg, msglen, pattern);
}

/* Milliseconds since t0. */
long long
since(int64_t t0)
{
	return (long long)(tu_now_ms() - t0);
}

/* A fill pattern that differs per item and per byte. */
void
fill(uint8_t *p, size_t n, unsigned seed)
{
	size_t	k;

	for (k = 0; k < n; k++)
		p[k] = (uint8_t)(seed * 131u + k * 7u + (k >> 8));
}
