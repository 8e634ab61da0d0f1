/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * listen.c: create and own listening sockets (no systemd here).
 *
 * The UNIX listener follows the stale-socket and umask rules of
 * RELIABILITY.md #6-#8, in this order:
 *   1. the path must fit sun_path (107 bytes); nothing is created
 *      otherwise, since a truncated bind would create a different file;
 *   2. missing parent directories are created with 'dirmode';
 *   3. flock(2) "<path>.lock" (kept until listen_close()), which makes
 *      steps 4-5 atomic between two daemons starting at once, and write
 *      our pid in it, so that a daemon the lock refuses can name us;
 *   4. lstat(2): anything but a socket is never removed. A socket is
 *      probed with connect(2): an answer means a live daemon; only
 *      ECONNREFUSED proves it stale, and only then is it unlinked
 *      (connect(2) to a regular file also fails with ECONNREFUSED, hence
 *      the S_ISSOCK check first);
 *   5. bind(2) under umask(~mode), so the file never exists with wider
 *      permissions, then chmod(2) to exactly 'mode'.
 * The dev/ino of the bound file is remembered so that listen_close()
 * only ever removes the file it created, never a successor's, and so
 * that listen_unix_check() can tell when the file at the path is no
 * longer ours; listen_unix_renew() then repeats steps 2-5 (step 3 only
 * if our lock file went too) with the same mode.
 *
 * Every fd is created non-blocking and close-on-exec. errmsg strings are
 * static phrases without the path; the caller prints "PATH: ERRMSG".
 */

#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netdb.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"

#define SUN_PATH_MAX	(sizeof(((struct sockaddr_un *)0)->sun_path))
#define LOCK_TRIES	8
/* Room for any listener name plus the suffix (paths are checked shorter). */
#define LOCK_PATH_MAX	\
	(sizeof(((struct listener *)0)->name) + sizeof(LISTEN_LOCK_SUFFIX))

int
listen_check_path(const char *path)
{
	if (path == NULL || *path == '\0')
		return -EINVAL;
	if (strlen(path) >= SUN_PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int
listen_default_path(char *buf, size_t len)
{
	const char	*xdg;
	int		 n;

	/*
	 * Not RUNSTATEDIR: configure's default is ${prefix}/var/run, and
	 * the documented system path is /run whatever the prefix.
	 */
	if (geteuid() == 0)
		n = snprintf(buf, len, "/run/iomuxd/iomuxd.sock");
	else {
		xdg = getenv("XDG_RUNTIME_DIR");
		if (xdg == NULL || xdg[0] != '/')
			return -ENOENT;
		n = snprintf(buf, len, "%s/iomuxd/iomuxd.sock", xdg);
	}
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return listen_check_path(buf);
}

/* Fill sun for path (already checked by listen_check_path()). */
static socklen_t
sun_fill(struct sockaddr_un *sun, const char *path)
{
	size_t	 len = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len + 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

/*
 * mkdir -p of path's parent. Directories we create get exactly dirmode
 * (mkdir(2) is narrowed by the umask, chmod(2) is not; narrower first
 * and then exact is never too wide). 0 or -errno.
 */
static int
mkdir_parents(const char *path, mode_t dirmode)
{
	char		 dir[PATH_MAX];
	char		*p, *slash, c;
	struct stat	 st;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, strlen(path) + 1);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';

	for (p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(dir, dirmode) == 0) {
			if (chmod(dir, dirmode) == -1)
				return -errno;
		} else if (errno != EEXIST)
			return -errno;
		*p = c;
		if (c == '\0')
			break;
	}
	if (stat(dir, &st) == -1)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return 0;
}

static void
listen_flock_path(char *buf, size_t len, const char *path)
{
	snprintf(buf, len, "%s" LISTEN_LOCK_SUFFIX, path);
}

/*
 * Record our pid in the lock file we hold, so that a daemon refused by
 * the lock can name its holder. A hint only: 0 or -errno, and a failure
 * just leaves the holder unknown.
 */
static int
listen_flock_write_pid(int fd)
{
	char	 buf[24];
	int	 n;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n)
		return -errno;
	return 0;
}

/* The pid recorded in a lock file, 0 if none (or not yet written). */
static pid_t
listen_flock_read_pid(int fd)
{
	char	 buf[24], *end;
	ssize_t	 n;
	long	 v;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || *end != '\n' || v <= 0 || v > INT_MAX)
		return 0;
	return (pid_t)v;
}

/*
 * Take an exclusive, non-blocking flock on "<path>.lock" and write our
 * pid in it. -EWOULDBLOCK if another process holds it, with its pid (or
 * 0) in *holder. A holder that is exiting unlinks the file before closing
 * it, so we may lock a file no longer at the path: check that the locked
 * inode is the one at the path, else try again.
 */
static int
listen_flock_take(const char *path, int *fdp, pid_t *holder)
{
	char		 lpath[LOCK_PATH_MAX];
	struct stat	 a, b;
	int		 fd, i, r;

	listen_flock_path(lpath, sizeof(lpath), path);
	for (i = 0; i < LOCK_TRIES; i++) {
		fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0600);
		if (fd == -1)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
			r = -errno;
			if (r == -EWOULDBLOCK)
				*holder = listen_flock_read_pid(fd);
			close(fd);
			return r;
		}
		if (fstat(fd, &a) == 0 && stat(lpath, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			(void)listen_flock_write_pid(fd);
			*fdp = fd;
			return 0;
		}
		close(fd);
	}
	return -EAGAIN;
}

/* 1 if fd is the lock file now at "<path>.lock", else 0. */
static int
listen_flock_is_ours(const char *path, int fd)
{
	char		 lpath[LOCK_PATH_MAX];
	struct stat	 a, b;

	listen_flock_path(lpath, sizeof(lpath), path);
	return fstat(fd, &a) == 0 && lstat(lpath, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Unlink "<path>.lock" if it is still our file, then unlock by closing. */
static void
listen_flock_release(const char *path, int fd)
{
	char	 lpath[LOCK_PATH_MAX];

	listen_flock_path(lpath, sizeof(lpath), path);
	if (listen_flock_is_ours(path, fd))
		unlink(lpath);
	close(fd);
}

/*
 * Is something accepting at path? 1 yes, 0 stale (ECONNREFUSED) or gone,
 * -errno if we cannot tell (e.g. EACCES: maybe another user's daemon).
 * A non-blocking AF_UNIX connect completes or fails at once; EAGAIN
 * means a full backlog, which only a live listener has.
 */
static int
probe(const char *path)
{
	struct sockaddr_un	 sun;
	socklen_t		 len = sun_fill(&sun, path);
	int			 fd, r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, len) == 0)
		r = 1;
	else if (errno == EAGAIN || errno == EINPROGRESS)
		r = 1;
	else if (errno == ECONNREFUSED || errno == ENOENT)
		r = 0;
	else
		r = -errno;
	close(fd);
	return r;
}

/*
 * Another process holds the lock: does it answer at path? LISTEN_E_RUNNING
 * if so (or if we cannot tell), else LISTEN_E_LOCKED with what the path
 * looks like. Looks only; touches nothing.
 */
static int
locked_state(const char *path, const char **errmsg)
{
	struct stat	 st;

	if (lstat(path, &st) == -1) {
		if (errno != ENOENT && errno != ENOTDIR)
			goto running;
		*errmsg = "is gone";
		return LISTEN_E_LOCKED;
	}
	if (!S_ISSOCK(st.st_mode)) {
		*errmsg = "is gone (replaced by a file that is not a socket)";
		return LISTEN_E_LOCKED;
	}
	if (probe(path) == 0) {
		*errmsg = "does not answer";
		return LISTEN_E_LOCKED;
	}
running:
	*errmsg = "already running";
	return LISTEN_E_RUNNING;
}

/*
 * Steps 4-5 of the list on top, under the lock: clear a stale socket at
 * path and bind a listener there. 0 with the fd in *fdp and the bound
 * file in *stp, LISTEN_E_RUNNING, or -errno; *errmsg says which step
 * failed. On failure nothing is left open or bound.
 */
static int
bind_path(const char *path, mode_t mode, int backlog, int *fdp,
    struct stat *stp, const char **errmsg)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	socklen_t		 slen;
	mode_t			 old;
	int			 fd, r, saved_errno;

	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			*errmsg = "exists and is not a socket; not removing it";
			return -EEXIST;
		}
		if ((r = probe(path)) == 1) {
			*errmsg = "already running";
			return LISTEN_E_RUNNING;
		}
		if (r < 0) {
			*errmsg = "cannot tell whether the existing socket is "
			    "in use; not removing it";
			return r;
		}
		if (unlink(path) == -1 && errno != ENOENT) {
			*errmsg = "cannot remove the stale socket";
			return -errno;
		}
	} else if (errno != ENOENT) {
		*errmsg = "cannot check the socket path";
		return -errno;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		*errmsg = "cannot create the socket";
		return -errno;
	}
	/*
	 * Linux bind(2) starts from the socket inode's mode: this caps the
	 * file mode even where a default ACL would override the umask. The
	 * umask is the portable part, so a failure here is not fatal.
	 */
	(void)fchmod(fd, mode);
	slen = sun_fill(&sun, path);
	old = umask(~mode & 0777);
	r = bind(fd, (struct sockaddr *)&sun, slen);
	saved_errno = errno;
	umask(old);
	if (r == -1) {
		close(fd);
		*errmsg = "cannot bind the socket";
		return -saved_errno;
	}
	if (lstat(path, stp) == -1) {
		r = -errno;
		*errmsg = "cannot check the new socket";
		goto fail;
	}
	if (chmod(path, mode) == -1) {
		r = -errno;
		*errmsg = "cannot set the socket's mode";
		goto fail;
	}
	if (listen(fd, backlog) == -1) {
		r = -errno;
		*errmsg = "cannot listen on the socket";
		goto fail;
	}
	*fdp = fd;
	return 0;

fail:
	unlink(path);
	close(fd);
	return r;
}

int
listen_unix(struct listener *l, const char *path, mode_t mode,
    mode_t dirmode, int backlog, const char **errmsg)
{
	struct stat	 st;
	const char	*dummy;
	int		 fd = -1, lock_fd = -1, r;

	if (errmsg == NULL)
		errmsg = &dummy;
	*errmsg = NULL;
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->lock_fd = -1;

	if ((r = listen_check_path(path)) != 0) {
		*errmsg = r == -ENAMETOOLONG ?
		    "socket path too long (max 107 bytes)" :
		    "empty socket path";
		return r;
	}
	if (mode & ~(mode_t)0777) {
		*errmsg = "bad socket mode";
		return -EINVAL;
	}
	if ((r = mkdir_parents(path, dirmode)) != 0) {
		*errmsg = "cannot create the socket's directory";
		return r;
	}
	if ((r = listen_flock_take(path, &lock_fd, &l->lock_pid)) != 0) {
		if (r == -EWOULDBLOCK)
			return locked_state(path, errmsg);
		*errmsg = "cannot take the lock file";
		return r;
	}
	if ((r = bind_path(path, mode, backlog, &fd, &st, errmsg)) != 0) {
		listen_flock_release(path, lock_fd);
		return r;
	}

	l->fd = fd;
	l->flags = LISTEN_F_UNIX | LISTEN_F_CREATED_PATH | LISTEN_F_LOCKED;
	l->lock_fd = lock_fd;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	l->mode = mode;
	l->dirmode = dirmode;
	l->backlog = backlog;
	snprintf(l->name, sizeof(l->name), "%s", path);
	return 0;
}

int
listen_unix_check(const struct listener *l)
{
	struct stat	 st;

	if (!(l->flags & LISTEN_F_CREATED_PATH) ||
	    (l->flags & LISTEN_F_INHERITED))
		return 0;
	if (l->fd == -1)
		return LISTEN_E_GONE;	/* a renewal failed: try again */
	if (lstat(l->name, &st) == -1)
		return errno == ENOENT || errno == ENOTDIR ? LISTEN_E_GONE :
		    -errno;
	if (!S_ISSOCK(st.st_mode) || st.st_dev != l->dev ||
	    st.st_ino != l->ino)
		return LISTEN_E_GONE;
	return 0;
}

int
listen_unix_renew(struct listener *l, const char **errmsg)
{
	struct stat	 st;
	const char	*dummy;
	pid_t		 holder = 0;
	int		 fd, lock_fd, r;

	if (errmsg == NULL)
		errmsg = &dummy;
	*errmsg = NULL;
	if (!(l->flags & LISTEN_F_CREATED_PATH) ||
	    (l->flags & LISTEN_F_INHERITED)) {
		*errmsg = "not a socket we created";
		return -EINVAL;
	}
	/*
	 * No client can reach the old socket any more (connect(2) goes by
	 * path), so close it first: the new one then takes its fd number
	 * or a lower one, which a select(2) loop can still watch.
	 */
	if (l->fd != -1)
		close(l->fd);
	l->fd = -1;
	l->dev = 0;
	l->ino = 0;

	if ((r = mkdir_parents(l->name, l->dirmode)) != 0) {
		*errmsg = "cannot create the socket's directory";
		return r;
	}
	/*
	 * Whoever removed the directory removed our lock file with it; a
	 * lock on an unlinked file keeps nobody out, so take a new one.
	 */
	if (!(l->flags & LISTEN_F_LOCKED) ||
	    !listen_flock_is_ours(l->name, l->lock_fd)) {
		if ((r = listen_flock_take(l->name, &lock_fd, &holder)) != 0) {
			if (r == -EWOULDBLOCK) {
				*errmsg = "another process holds the lock "
				    "file";
				return LISTEN_E_RUNNING;
			}
			*errmsg = "cannot take the lock file";
			return r;
		}
		if (l->flags & LISTEN_F_LOCKED)
			close(l->lock_fd);
		l->lock_fd = lock_fd;
		l->flags |= LISTEN_F_LOCKED;
	}
	if ((r = bind_path(l->name, l->mode, l->backlog, &fd, &st,
	    errmsg)) != 0) {
		if (r == LISTEN_E_RUNNING)
			*errmsg = "another process answers at the path";
		return r;
	}
	l->fd = fd;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	return 0;
}

void
listen_owner_update(struct listener *l)
{
	if (l->flags & LISTEN_F_LOCKED)
		(void)listen_flock_write_pid(l->lock_fd);
}

void
listen_sock_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&ss;
	socklen_t		 slen = sizeof(ss);
	char			 host[NI_MAXHOST], serv[NI_MAXSERV];
	size_t			 plen;

	buf[0] = '\0';
	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &slen) == -1)
		return;
	switch (ss.ss_family) {
	case AF_UNIX:
		if (slen <= offsetof(struct sockaddr_un, sun_path))
			return;
		plen = slen - offsetof(struct sockaddr_un, sun_path);
		if (sun->sun_path[0] == '\0')	/* abstract: "@name" */
			snprintf(buf, len, "@%.*s", (int)(plen - 1),
			    sun->sun_path + 1);
		else
			snprintf(buf, len, "%.*s", (int)plen, sun->sun_path);
		break;
	case AF_INET:
	case AF_INET6:
		if (getnameinfo((struct sockaddr *)&ss, slen, host,
		    sizeof(host), serv, sizeof(serv),
		    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
			return;
		snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%s" :
		    "%s:%s", host, serv);
		break;
	default:
		break;
	}
}

bool
listen_addr_is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
		    sin6->sin6_addr.s6_addr[12] == 127;
	default:
		return false;
	}
}

/*
 * Split "ADDR:PORT" or "[ADDR]:PORT" into host and port. IPv6 needs the
 * brackets: "::1:80" is ambiguous. 0 or -EINVAL.
 */
static int
split_addrport(const char *s, char *host, size_t hlen, char *port,
    size_t plen)
{
	const char	*hs, *he, *ps, *p;

	if (s[0] == '[') {
		hs = s + 1;
		if ((he = strchr(hs, ']')) == NULL || he[1] != ':')
			return -EINVAL;
		ps = he + 2;
	} else {
		hs = s;
		if ((he = strchr(s, ':')) == NULL || strchr(he + 1, ':'))
			return -EINVAL;
		ps = he + 1;
	}
	if (he == hs || (size_t)(he - hs) >= hlen)
		return -EINVAL;
	for (p = ps; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
	}
	if (p == ps || (size_t)(p - ps) >= plen || p - ps > 5 ||
	    strtoul(ps, NULL, 10) > 65535)
		return -EINVAL;
	memcpy(host, hs, (size_t)(he - hs));
	host[he - hs] = '\0';
	memcpy(port, ps, (size_t)(p - ps) + 1);
	return 0;
}

int
listen_tcp(struct listener *l, const char *addrport, bool allow_remote,
    int backlog, const char **errmsg)
{
	struct addrinfo	 hints, *res = NULL;
	char		 host[64], port[8];
	const char	*dummy;
	int		 fd = -1, one = 1, r;

	if (errmsg == NULL)
		errmsg = &dummy;
	*errmsg = NULL;
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->lock_fd = -1;

	if (split_addrport(addrport, host, sizeof(host), port,
	    sizeof(port)) != 0) {
		*errmsg = "expected ADDR:PORT or [IPV6]:PORT";
		return -EINVAL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		*errmsg = "not a numeric IPv4 or IPv6 address";
		if (r == EAI_MEMORY)
			return -ENOMEM;
		return -EINVAL;
	}
	if (!listen_addr_is_loopback(res->ai_addr) && !allow_remote) {
		*errmsg = "refusing non-loopback address without "
		    "--tcp-allow-remote";
		r = -EPERM;
		goto out;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		r = -errno;
		*errmsg = "cannot create the socket";
		goto out;
	}
	/* Restart without waiting out TIME_WAIT of the last run's clients. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1) {
		r = -errno;
		*errmsg = "cannot set SO_REUSEADDR";
		goto out;
	}
	/* "[::]:P" must not silently take IPv4 too. */
	if (res->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1) {
		r = -errno;
		*errmsg = "cannot set IPV6_V6ONLY";
		goto out;
	}
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1) {
		r = -errno;
		*errmsg = "cannot bind";
		goto out;
	}
	if (listen(fd, backlog) == -1) {
		r = -errno;
		*errmsg = "cannot listen";
		goto out;
	}
	/* The real port, for STATUS and logs when PORT was 0. */
	listen_sock_name(fd, l->name, sizeof(l->name));
	if (l->name[0] == '\0')
		snprintf(l->name, sizeof(l->name), "%s", addrport);
	l->fd = fd;
	fd = -1;
	r = 0;
out:
	if (fd != -1)
		close(fd);
	freeaddrinfo(res);
	return r;
}

int
listen_adopt(struct listener *l, int fd, const char *name, bool allow_remote)
{
	struct sockaddr_storage	 ss;
	socklen_t		 slen = sizeof(ss);
	int			 type, acc, fl;
	socklen_t		 olen;

	olen = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) == -1)
		return -errno;
	if (type != SOCK_STREAM)
		return -EINVAL;
	olen = sizeof(acc);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &olen) == -1)
		return -errno;
	if (!acc)
		return -EINVAL;
	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &slen) == -1)
		return -errno;
	if (ss.ss_family != AF_UNIX && ss.ss_family != AF_INET &&
	    ss.ss_family != AF_INET6)
		return -EAFNOSUPPORT;
	/*
	 * The rule of --tcp holds for a socket someone else bound: who
	 * writes a socket unit must not open iomuxd to the network by
	 * accident. Checked before touching the fd, which stays the
	 * caller's as it came.
	 */
	if (ss.ss_family != AF_UNIX && !allow_remote &&
	    !listen_addr_is_loopback((struct sockaddr *)&ss))
		return -EPERM;

	/* Inherited sockets are blocking; accept(2) must never block. */
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -errno;
	if ((fl = fcntl(fd, F_GETFD)) == -1 ||
	    fcntl(fd, F_SETFD, fl | FD_CLOEXEC) == -1)
		return -errno;

	memset(l, 0, sizeof(*l));
	l->fd = fd;
	l->lock_fd = -1;
	l->flags = LISTEN_F_INHERITED;
	if (ss.ss_family == AF_UNIX)
		l->flags |= LISTEN_F_UNIX;
	if (name != NULL && *name != '\0')
		snprintf(l->name, sizeof(l->name), "%s", name);
	else
		listen_sock_name(fd, l->name, sizeof(l->name));
	if (l->name[0] == '\0')
		snprintf(l->name, sizeof(l->name), "fd %d", fd);
	return 0;
}

void
listen_close(struct listener *l)
{
	struct stat	 st;

	/*
	 * Unlink before close, lock last: a daemon starting meanwhile finds
	 * the lock held ("already running"), never a half-removed listener.
	 */
	if ((l->flags & LISTEN_F_CREATED_PATH) &&
	    !(l->flags & LISTEN_F_INHERITED) && l->name[0] != '\0' &&
	    lstat(l->name, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == l->dev && st.st_ino == l->ino)
		unlink(l->name);
	if (l->fd != -1)
		close(l->fd);
	if (l->flags & LISTEN_F_LOCKED)
		listen_flock_release(l->name, l->lock_fd);
	l->fd = -1;
	l->lock_fd = -1;
	l->flags = 0;
}
