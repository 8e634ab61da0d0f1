/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * testutil.c: start, probe and stop a real iomuxd for the integration
 * tests, and talk to it over raw sockets.
 *
 * The daemon runs in the foreground as a child of the test process, in the
 * same process group, so Check's kill of a timed-out test's group takes it
 * too. Its stdout and stderr go to a log file in the test's private
 * directory. We only ever signal the PID we forked: never a name.
 *
 * Every wait has a deadline on CLOCK_MONOTONIC. Socket I/O is non-blocking
 * with poll(), so a daemon that stops answering fails a test instead of
 * hanging it. Frames are built and parsed here with explicit byte
 * arithmetic, independent of proto/codec.c.
 */

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

/* Daemons started by this process and not yet cleaned up. */
#define TU_LIVE_MAX	16
static struct tu_daemon	*tu_live[TU_LIVE_MAX];
static int		 tu_atexit_set;

int64_t
tu_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
tu_now_ms(void)
{
	return tu_now_us() / 1000;
}

void
tu_sleep_ms(int ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Milliseconds left until deadline, at least 0. */
static int
remaining(int64_t deadline)
{
	int64_t	left;

	left = deadline - tu_now_ms();
	if (left < 0)
		return 0;
	if (left > INT32_MAX)
		return INT32_MAX;
	return (int)left;
}

int
tu_tmpdir(char *buf, size_t len)
{
	const char	*base;
	int		 n;

	base = getenv("TMPDIR");
	if (base == NULL || *base == '\0')
		base = "/tmp";
	n = snprintf(buf, len, "%s/iomuxd-test.XXXXXX", base);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (mkdtemp(buf) == NULL)
		return -errno;
	return 0;
}

int
tu_write_file(const char *path, const char *text)
{
	char	 tmp[PATH_MAX];
	size_t	 len = strlen(text), off = 0;
	ssize_t	 n;
	int	 fd, err = 0;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return -errno;
	while (off < len) {
		n = write(fd, text + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n == -1 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) == -1 && err == 0)
		err = -errno;
	/* rename() so that a reader never sees half a file. */
	if (err == 0 && rename(tmp, path) == -1)
		err = -errno;
	if (err != 0)
		unlink(tmp);
	return err;
}

void
tu_rmdir(const char *dir)
{
	DIR		*dp;
	struct dirent	*de;
	char		 path[PATH_MAX];

	if (dir == NULL || *dir == '\0')
		return;
	if ((dp = opendir(dir)) != NULL) {
		while ((de = readdir(dp)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if ((size_t)snprintf(path, sizeof path, "%s/%s", dir,
			    de->d_name) >= sizeof path)
				continue;
			unlink(path);
		}
		closedir(dp);
	}
	rmdir(dir);
}

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void
tu_rmtree(const char *dir)
{
	if (dir == NULL || *dir == '\0')
		return;
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
tu_iomuxd(void)
{
	const char	*p;

	p = getenv("IOMUXD");
	if (p == NULL || *p == '\0' || access(p, X_OK) != 0)
		return NULL;
	return p;
}

int
tu_backends(const char **v, int max, char *buf, size_t len)
{
	const char	*env;
	char		*p, *save = NULL;
	int		 n = 0;

	env = getenv("IOMUXD_BACKENDS");
	if (env == NULL || *env == '\0')
		env = "epoll poll select";
	snprintf(buf, len, "%s", env);
	for (p = strtok_r(buf, " \t,", &save); p != NULL && n < max;
	    p = strtok_r(NULL, " \t,", &save))
		v[n++] = p;
	return n;
}

static void
live_add(struct tu_daemon *d)
{
	int	i;

	for (i = 0; i < TU_LIVE_MAX; i++) {
		if (tu_live[i] == NULL) {
			tu_live[i] = d;
			return;
		}
	}
}

static void
live_del(struct tu_daemon *d)
{
	int	i;

	for (i = 0; i < TU_LIVE_MAX; i++)
		if (tu_live[i] == d)
			tu_live[i] = NULL;
}

/*
 * At exit or on a test failure, a daemon still registered means the test
 * did not get to stop it: show its log, kill it by PID, and remove its
 * directory.
 */
void
tu_kill_all(void)
{
	struct tu_daemon	*d;
	int			 i;

	for (i = 0; i < TU_LIVE_MAX; i++) {
		if ((d = tu_live[i]) == NULL)
			continue;
		tu_live[i] = NULL;
		if (!d->reaped && d->pid > 0) {
			fprintf(stderr, "testutil: daemon pid %ld (%s) still "
			    "running; killing it\n", (long)d->pid,
			    d->backend);
			kill(d->pid, SIGKILL);
			waitpid(d->pid, NULL, 0);
			d->reaped = 1;
		}
		tu_daemon_dump_log(d);
		tu_rmdir(d->dir);
	}
}

int
tu_daemon_init(struct tu_daemon *d, const char *backend)
{
	int	rc;

	memset(d, 0, sizeof *d);
	d->reaped = 1;
	if (strlen(backend) >= sizeof d->backend)
		return -ENAMETOOLONG;
	strcpy(d->backend, backend);
	if ((rc = tu_tmpdir(d->dir, sizeof d->dir)) != 0)
		return rc;
	if ((size_t)snprintf(d->sock, sizeof d->sock, "%s/sock", d->dir) >=
	    sizeof d->sock ||
	    (size_t)snprintf(d->log, sizeof d->log, "%s/iomuxd.log", d->dir) >=
	    sizeof d->log) {
		tu_rmdir(d->dir);
		return -ENAMETOOLONG;
	}
	if (!tu_atexit_set) {
		atexit(tu_kill_all);
		tu_atexit_set = 1;
	}
	live_add(d);
	return 0;
}

int
tu_daemon_spawn(struct tu_daemon *d, const char *const *extra)
{
	const char	*bin;
	char		*argv[8 + TU_MAX_EXTRA_ARGS];
	int		 argc, i, fd, logfd;
	pid_t		 pid;

	if ((bin = tu_iomuxd()) == NULL)
		return -ENOENT;
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		if (i >= TU_MAX_EXTRA_ARGS)
			return -E2BIG;
	logfd = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd == -1)
		return -errno;
	fflush(NULL);
	if ((pid = fork()) == -1) {
		i = -errno;
		close(logfd);
		return i;
	}
	if (pid == 0) {
		/* Child: strdup gives argv the char * exec wants. */
		argc = 0;
		argv[argc++] = strdup(bin);
		argv[argc++] = strdup("-f");
		argv[argc++] = strdup("-s");
		argv[argc++] = strdup(d->sock);
		argv[argc++] = strdup("-b");
		argv[argc++] = strdup(d->backend);
		for (i = 0; extra != NULL && extra[i] != NULL; i++)
			argv[argc++] = strdup(extra[i]);
		argv[argc] = NULL;
		if ((fd = open("/dev/null", O_RDONLY)) != -1) {
			dup2(fd, 0);
			if (fd != 0)
				close(fd);
		}
		dup2(logfd, 1);
		dup2(logfd, 2);
		signal(SIGPIPE, SIG_DFL);
		execv(bin, argv);
		dprintf(2, "testutil: exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	close(logfd);
	d->pid = pid;
	d->reaped = 0;
	d->status = 0;
	return 0;
}

/* Reap the daemon if it has exited; 1 if it has (now or before). */
static int
try_reap(struct tu_daemon *d)
{
	pid_t	r;
	int	st;

	if (d->reaped)
		return 1;
	r = waitpid(d->pid, &st, WNOHANG);
	if (r == d->pid || (r == -1 && errno == ECHILD)) {
		d->status = r == d->pid ? st : 0;
		d->reaped = 1;
		return 1;
	}
	return 0;
}

int
tu_daemon_wait_ready(struct tu_daemon *d, int timeout_ms)
{
	int64_t	deadline;
	int	fd;

	deadline = tu_now_ms() + timeout_ms;
	for (;;) {
		if (try_reap(d))
			return -ECHILD;
		fd = tu_connect_unix(d->sock, 0);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (tu_now_ms() >= deadline)
			return -ETIMEDOUT;
		tu_sleep_ms(10);
	}
}

int
tu_daemon_startv(struct tu_daemon *d, const char *backend,
    const char *const *extra)
{
	int	rc;

	if ((rc = tu_daemon_init(d, backend)) != 0)
		return rc;
	if ((rc = tu_daemon_spawn(d, extra)) != 0)
		return rc;
	if ((rc = tu_daemon_wait_ready(d, TU_START_TIMEOUT_MS)) != 0) {
		fprintf(stderr, "testutil: iomuxd -b %s did not become "
		    "connectable: %s\n", backend, strerror(-rc));
		tu_daemon_dump_log(d);
	}
	return rc;
}

int
tu_daemon_start(struct tu_daemon *d, const char *backend, ...)
{
	const char	*extra[TU_MAX_EXTRA_ARGS + 1];
	const char	*a;
	va_list		 ap;
	int		 n = 0;

	va_start(ap, backend);
	while ((a = va_arg(ap, const char *)) != NULL) {
		if (n == TU_MAX_EXTRA_ARGS) {
			va_end(ap);
			return -E2BIG;
		}
		extra[n++] = a;
	}
	va_end(ap);
	extra[n] = NULL;
	return tu_daemon_startv(d, backend, extra);
}

int
tu_daemon_wait_exit(struct tu_daemon *d, int timeout_ms)
{
	int64_t	deadline;

	deadline = tu_now_ms() + timeout_ms;
	for (;;) {
		if (try_reap(d))
			return 0;
		if (tu_now_ms() >= deadline)
			return -ETIMEDOUT;
		tu_sleep_ms(5);
	}
}

int
tu_daemon_kill(struct tu_daemon *d, int sig)
{
	if (d->reaped || d->pid <= 0)
		return -ESRCH;
	if (kill(d->pid, sig) == -1)
		return -errno;
	return 0;
}

int
tu_daemon_stop(struct tu_daemon *d, int timeout_ms)
{
	if (try_reap(d))
		return 0;
	if (kill(d->pid, SIGTERM) == -1 && errno != ESRCH)
		return -errno;
	if (tu_daemon_wait_exit(d, timeout_ms) == 0)
		return 0;
	fprintf(stderr, "testutil: iomuxd pid %ld (%s) ignored SIGTERM for "
	    "%d ms; sending SIGKILL\n", (long)d->pid, d->backend, timeout_ms);
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &d->status, 0);
	d->reaped = 1;
	return 1;
}

int
tu_daemon_alive(struct tu_daemon *d)
{
	return !try_reap(d);
}

int
tu_daemon_exit_code(const struct tu_daemon *d)
{
	if (WIFEXITED(d->status))
		return WEXITSTATUS(d->status);
	if (WIFSIGNALED(d->status))
		return -1 - WTERMSIG(d->status);
	return -1;
}

size_t
tu_daemon_read_log(const struct tu_daemon *d, char *buf, size_t len)
{
	ssize_t	n;
	size_t	got = 0;
	int	fd;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if ((fd = open(d->log, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	while (got + 1 < len) {
		n = read(fd, buf + got, len - 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	return got;
}

void
tu_daemon_dump_log(const struct tu_daemon *d)
{
	char	 buf[16384];
	char	*line, *save = NULL;

	if (tu_daemon_read_log(d, buf, sizeof buf) == 0)
		return;
	fprintf(stderr, "--- iomuxd -b %s log (%s) ---\n", d->backend, d->log);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		fprintf(stderr, "iomuxd| %s\n", line);
	fprintf(stderr, "--- end of log ---\n");
}

void
tu_daemon_dump_log_tail(const struct tu_daemon *d, int lines)
{
	char		 buf[16384];
	char		*p, *line, *save = NULL;
	struct stat	 st;
	off_t		 off = 0;
	ssize_t		 n = 0;
	int		 fd;

	if ((fd = open(d->log, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	/* Only the end matters: a long run's log can be large. */
	if (fstat(fd, &st) == 0 && st.st_size > (off_t)sizeof buf - 1)
		off = st.st_size - (off_t)sizeof buf + 1;
	n = pread(fd, buf, sizeof buf - 1, off);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	p = buf + n;
	if (p > buf && p[-1] == '\n')
		p--;
	while (p > buf && lines > 0)
		if (*--p == '\n')
			lines--;
	if (*p == '\n')
		p++;
	fprintf(stderr, "--- iomuxd -b %s log, last lines (%s) ---\n",
	    d->backend, d->log);
	for (line = strtok_r(p, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		fprintf(stderr, "iomuxd| %s\n", line);
	fprintf(stderr, "--- end of log ---\n");
}

int
tu_daemon_log_find(const struct tu_daemon *d, const char *const *needles,
    char *line, size_t len)
{
	FILE		*fp;
	char		*l = NULL;
	size_t		 cap = 0;
	int		 i, found = 0;

	if ((fp = fopen(d->log, "re")) == NULL)
		return -errno;
	while (!found && getline(&l, &cap, fp) != -1) {
		for (i = 0; needles[i] != NULL; i++) {
			if (strstr(l, needles[i]) == NULL)
				continue;
			l[strcspn(l, "\n")] = '\0';
			if (line != NULL && len > 0)
				snprintf(line, len, "%s", l);
			found = 1;
			break;
		}
	}
	free(l);
	fclose(fp);
	return found;
}

void
tu_daemon_cleanup(struct tu_daemon *d)
{
	if (d->pid > 0 && !d->reaped)
		tu_daemon_stop(d, TU_STOP_TIMEOUT_MS);
	live_del(d);
	tu_rmdir(d->dir);
	d->dir[0] = '\0';
}

long
tu_raise_nofile(long want)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -errno;
	if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur >= want)
		return (long)rl.rlim_cur;
	if (rl.rlim_cur == RLIM_INFINITY)
		return LONG_MAX;
	if (rl.rlim_max != RLIM_INFINITY && (long)rl.rlim_max < want)
		rl.rlim_cur = rl.rlim_max;
	else
		rl.rlim_cur = (rlim_t)want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -errno;
	return (long)rl.rlim_cur;
}

/*
 * Connect a non-blocking socket. A full AF_UNIX backlog gives EAGAIN
 * (not EINPROGRESS), so retry that until the deadline; a TCP EINPROGRESS
 * is waited out with poll.
 */
static int
connect_addr(int family, const struct sockaddr *sa, socklen_t salen,
    int timeout_ms)
{
	struct pollfd	pfd;
	socklen_t	elen;
	int64_t		deadline;
	int		fd, err;

	deadline = tu_now_ms() + timeout_ms;
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	for (;;) {
		if (connect(fd, sa, salen) == 0)
			return fd;
		err = errno;
		if (err == EINTR)
			continue;
		if (err == EAGAIN && remaining(deadline) > 0) {
			tu_sleep_ms(1);
			continue;
		}
		if (err != EINPROGRESS)
			break;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, remaining(deadline)) <= 0) {
			err = ETIMEDOUT;
			break;
		}
		elen = sizeof err;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
			err = errno;
		if (err == 0)
			return fd;
		break;
	}
	close(fd);
	return -err;
}

int
tu_connect_unix(const char *path, int timeout_ms)
{
	struct sockaddr_un	sun;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	return connect_addr(AF_UNIX, (struct sockaddr *)&sun, sizeof sun,
	    timeout_ms);
}

int
tu_connect_tcp(int port, int timeout_ms)
{
	struct sockaddr_in	sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return connect_addr(AF_INET, (struct sockaddr *)&sin, sizeof sin,
	    timeout_ms);
}

int
tu_free_tcp_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len;
	int			fd, err;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -errno;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	len = sizeof sin;
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		err = errno;
		close(fd);
		return -err;
	}
	close(fd);
	return ntohs(sin.sin_port);
}

/*
 * Wait for events on fd until deadline: 1 when ready (or poll was
 * interrupted: the caller tries again), 0 when the deadline has passed.
 */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd	pfd;

	pfd.fd = fd;
	pfd.events = events;
	return remaining(deadline) > 0 &&
	    poll(&pfd, 1, remaining(deadline)) != 0;
}

int
tu_write_some(int fd, const void *buf, size_t len, int timeout_ms,
    size_t *done)
{
	const uint8_t	*p = buf;
	ssize_t		 n;
	size_t		 off = 0;
	int64_t		 deadline;
	int		 rc = 0;

	deadline = tu_now_ms() + timeout_ms;
	while (off < len) {
		n = send(fd, p + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN) {
			rc = -errno;
			break;
		}
		if (!wait_fd(fd, POLLOUT, deadline)) {
			rc = -ETIMEDOUT;
			break;
		}
	}
	if (done != NULL)
		*done = off;
	return rc;
}

int
tu_write_all(int fd, const void *buf, size_t len, int timeout_ms)
{
	return tu_write_some(fd, buf, len, timeout_ms, NULL);
}

/* tu_read_n() with an absolute deadline. */
static ssize_t
read_n(int fd, void *buf, size_t n, int64_t deadline)
{
	uint8_t		*p = buf;
	ssize_t		 r;
	size_t		 got = 0;

	while (got < n) {
		r = read(fd, p + got, n - got);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET || errno == EPIPE)
			break;
		if (errno != EAGAIN)
			return -errno;
		if (!wait_fd(fd, POLLIN, deadline))
			return -ETIMEDOUT;
	}
	return (ssize_t)got;
}

ssize_t
tu_read_n(int fd, void *buf, size_t n, int timeout_ms)
{
	return read_n(fd, buf, n, tu_now_ms() + timeout_ms);
}

ssize_t
tu_wait_eof(int fd, int timeout_ms)
{
	uint8_t		buf[65536];
	ssize_t		r, total = 0;
	int64_t		deadline;

	deadline = tu_now_ms() + timeout_ms;
	do {
		r = read_n(fd, buf, sizeof buf, deadline);
		if (r < 0)
			return r;
		total += r;
	} while ((size_t)r == sizeof buf);
	return total;
}

void
tu_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void
tu_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint16_t
tu_get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

uint32_t
tu_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

size_t
tu_encode(uint8_t *out, size_t cap, uint8_t version, uint8_t kind,
    uint16_t code, uint32_t id, size_t argc, const struct tu_arg *argv)
{
	size_t	total, i, off;

	total = 4 + 10;
	for (i = 0; i < argc; i++) {
		total += 4;
		if (argv[i].len != TU_ABSENT)
			total += argv[i].len;
	}
	if (out == NULL || total > cap)
		return total;
	tu_put32(out, (uint32_t)(total - 4));
	out[4] = version;
	out[5] = kind;
	tu_put16(out + 6, code);
	tu_put32(out + 8, id);
	tu_put16(out + 12, (uint16_t)argc);
	off = 14;
	for (i = 0; i < argc; i++) {
		tu_put32(out + off, argv[i].len);
		off += 4;
		if (argv[i].len == TU_ABSENT || argv[i].len == 0)
			continue;
		memcpy(out + off, argv[i].p, argv[i].len);
		off += argv[i].len;
	}
	return total;
}

size_t
tu_encode_req(uint8_t *out, size_t cap, uint16_t op, uint32_t id,
    size_t argc, const struct tu_arg *argv)
{
	return tu_encode(out, cap, 1, 1, op, id, argc, argv);
}

/*
 * Fill f's header and argument views from a body of len bytes at b (the
 * args point into b). 0, or -EPROTO if the body does not parse.
 */
static int
parse_body(struct tu_frame *f, const uint8_t *b, uint32_t len)
{
	size_t		off, i;
	uint32_t	alen;

	if (len < 10)
		return -EPROTO;
	f->len = len;
	f->version = b[0];
	f->kind = b[1];
	f->code = tu_get16(b + 2);
	f->id = tu_get32(b + 4);
	f->argc = tu_get16(b + 8);
	f->nargs = 0;
	off = 10;
	for (i = 0; i < f->argc; i++) {
		if (len - off < 4)
			return -EPROTO;
		alen = tu_get32(b + off);
		off += 4;
		if (alen != TU_ABSENT && alen > len - off)
			return -EPROTO;
		if (i < TU_FRAME_ARGS) {
			f->args[i].len = alen;
			f->args[i].p = alen == TU_ABSENT ? NULL : b + off;
			f->nargs = i + 1;
		}
		if (alen != TU_ABSENT)
			off += alen;
	}
	return off == len ? 0 : -EPROTO;
}

int
tu_read_frame(int fd, struct tu_frame *f, uint32_t max, int timeout_ms)
{
	uint8_t		 hdr[4];
	int64_t		 deadline;
	ssize_t		 r;

	memset(f, 0, sizeof *f);
	deadline = tu_now_ms() + timeout_ms;
	r = tu_read_n(fd, hdr, 4, timeout_ms);
	if (r < 0)
		return (int)r;
	if (r == 0)
		return 0;
	if (r < 4)
		return -EPROTO;
	f->len = tu_get32(hdr);
	if (f->len > max)
		return -EMSGSIZE;
	if (f->len < 10)
		return -EPROTO;
	if ((f->body = malloc(f->len)) == NULL)
		return -ENOMEM;
	r = tu_read_n(fd, f->body, f->len, remaining(deadline));
	if (r < 0 || (size_t)r < f->len) {
		tu_frame_free(f);
		return r < 0 ? (int)r : -EPROTO;
	}
	if (parse_body(f, f->body, f->len) != 0) {
		tu_frame_free(f);
		return -EPROTO;
	}
	return 1;
}

ssize_t
tu_frame_parse(const uint8_t *buf, size_t len, uint32_t max,
    struct tu_frame *f)
{
	uint32_t	blen;

	f->body = NULL;
	f->nargs = 0;
	if (len < 4)
		return 0;
	blen = tu_get32(buf);
	if (blen > max)
		return -EMSGSIZE;
	if (blen < 10)
		return -EPROTO;
	if (len - 4 < blen)
		return 0;
	if (parse_body(f, buf + 4, blen) != 0)
		return -EPROTO;
	return (ssize_t)blen + 4;
}

void
tu_frame_free(struct tu_frame *f)
{
	free(f->body);
	f->body = NULL;
	f->nargs = 0;
}

const struct tu_arg *
tu_frame_field(const struct tu_frame *f, const char *name)
{
	size_t	i, nlen;

	nlen = strlen(name);
	for (i = 0; i + 1 < f->nargs; i += 2)
		if (tu_arg_eq(&f->args[i], name, nlen))
			return &f->args[i + 1];
	return NULL;
}

int
tu_frame_field_u64(const struct tu_frame *f, const char *name, uint64_t *v)
{
	const struct tu_arg	*a;
	const uint8_t		*p;
	uint64_t		 n = 0;
	uint32_t		 i;

	if ((a = tu_frame_field(f, name)) == NULL || a->len == TU_ABSENT)
		return -ENOENT;
	if (a->len == 0 || a->len > 20)
		return -EINVAL;
	for (i = 0, p = a->p; i < a->len; i++) {
		if (p[i] < '0' || p[i] > '9' ||
		    n > (UINT64_MAX - (uint64_t)(p[i] - '0')) / 10)
			return -EINVAL;
		n = n * 10 + (uint64_t)(p[i] - '0');
	}
	*v = n;
	return 0;
}

int
tu_arg_eq(const struct tu_arg *a, const void *p, size_t len)
{
	if (a->len == TU_ABSENT || a->len != len)
		return 0;
	return len == 0 || memcmp(a->p, p, len) == 0;
}

/* Read a small /proc file into buf (NUL-terminated). Bytes or -errno. */
static ssize_t
read_proc(const char *path, char *buf, size_t len)
{
	ssize_t	n;
	int	fd, err;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	n = read(fd, buf, len - 1);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	return n;
}

long long
tu_proc_rss(pid_t pid)
{
	char		path[64], buf[256];
	long long	size, resident;
	ssize_t		n;

	snprintf(path, sizeof path, "/proc/%ld/statm", (long)pid);
	if ((n = read_proc(path, buf, sizeof buf)) < 0)
		return n;
	if (sscanf(buf, "%lld %lld", &size, &resident) != 2)
		return -EINVAL;
	return resident * sysconf(_SC_PAGESIZE);
}

long long
tu_proc_hwm(pid_t pid)
{
	char		 path[64], buf[4096];
	const char	*p;
	long long	 kb;
	ssize_t		 n;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((n = read_proc(path, buf, sizeof buf)) < 0)
		return n;
	if ((p = strstr(buf, "VmHWM:")) == NULL ||
	    sscanf(p + 6, "%lld", &kb) != 1)
		return -EINVAL;
	return kb * 1024;
}

int
tu_proc_fd_count(pid_t pid)
{
	char		 path[64];
	DIR		*dp;
	struct dirent	*de;
	int		 n = 0;

	snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	if ((dp = opendir(path)) == NULL)
		return -errno;
	while ((de = readdir(dp)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dp);
	return n;
}

long long
tu_proc_cpu_ticks(pid_t pid)
{
	char		 path[64], buf[1024];
	char		*p;
	unsigned long long	ut, st;
	ssize_t		 n;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((n = read_proc(path, buf, sizeof buf)) < 0)
		return n;
	/* comm may contain spaces and parens: skip past the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -EINVAL;
	/* After ")": state(3) ... utime is field 14, stime 15. */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu", &ut, &st) != 2)
		return -EINVAL;
	return (long long)(ut + st);
}

void
tu_proc_fd_dump(pid_t pid, const char *tag)
{
	char		 path[64], fpath[PATH_MAX], target[PATH_MAX];
	DIR		*dp;
	struct dirent	*de;
	ssize_t		 n;

	snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	if ((dp = opendir(path)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(fpath, sizeof fpath, "%s/%s", path, de->d_name);
		n = readlink(fpath, target, sizeof target - 1);
		if (n < 0)
			n = 0;
		target[n] = '\0';
		fprintf(stderr, "%s: pid %ld fd %s -> %s\n", tag, (long)pid,
		    de->d_name, target);
	}
	closedir(dp);
}
