/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * listen.h: create and own listening sockets. No systemd here: sockets
 * inherited through socket activation are handed in already open
 * (systemd.c) and only adopted.
 */

#ifndef IOMUXD_LISTEN_H
#define IOMUXD_LISTEN_H

#include <stdbool.h>
#include <sys/types.h>

struct sockaddr;

#define LISTEN_F_UNIX		0x01	/* AF_UNIX (else TCP) */
#define LISTEN_F_INHERITED	0x02	/* from systemd: never unlink */
#define LISTEN_F_CREATED_PATH	0x04	/* we bound it: unlink at exit */
#define LISTEN_F_LOCKED		0x08	/* lock_fd holds "<path>.lock" */

/* The lock file of a UNIX listener is its path plus this. */
#define LISTEN_LOCK_SUFFIX	".lock"

struct listener {
	int	 fd;
	int	 flags;
	char	 name[128];	/* path, or "ADDR:PORT", for logs and STATUS */
	/* UNIX listeners we created (listen_unix() fills these): */
	int	 lock_fd;	/* flock(2)ed "<path>.lock", if F_LOCKED */
	dev_t	 dev;		/* the socket file we bound, so that */
	ino_t	 ino;		/* listen_close() never unlinks another's */
	mode_t	 mode;		/* as asked of listen_unix(), so that */
	mode_t	 dirmode;	/* listen_unix_renew() makes the same */
	int	 backlog;
	/* After LISTEN_E_RUNNING/_LOCKED: the lock holder's pid, 0 unknown. */
	pid_t	 lock_pid;
};

/* Positive results. */
#define LISTEN_E_RUNNING	1	/* a live daemon answers at the path */
#define LISTEN_E_LOCKED		2	/* the lock is held, nothing answers */
#define LISTEN_E_GONE		3	/* our socket file left its path */

/*
 * Create a UNIX stream listener at 'path' with permission 'mode', never
 * wider at any moment (umask held around bind), non-blocking, CLOEXEC.
 * The parent directory is created (0755, or 0700 under $XDG_RUNTIME_DIR
 * style paths: 'dirmode') if missing. A leftover socket that refuses
 * connections is removed and replaced; a path that is not a socket is
 * never removed (-EEXIST). Returns 0, LISTEN_E_RUNNING if something
 * accepts connections at the path, -ENAMETOOLONG if the path does not fit
 * sun_path, or -errno; *errmsg (static text) says what went wrong.
 *
 * An flock(2) on "<path>.lock" is held from before the liveness check
 * until listen_close(), so two daemons starting at once cannot both
 * decide the socket is stale; our pid is written in it. A lock held by
 * another process gives LISTEN_E_RUNNING if something answers at the
 * path, else LISTEN_E_LOCKED (its holder lost or never made its socket);
 * both set l->lock_pid to the pid in the lock file (0 if unknown).
 * *errmsg is a phrase without the path, meant to be printed as "PATH:
 * ERRMSG" (plus ": strerror" for other -errno), e.g. LISTEN_E_RUNNING
 * "already running", -EEXIST "exists and is not a socket; not removing
 * it", -ENAMETOOLONG "socket path too long (max 107 bytes)"; except for
 * LISTEN_E_LOCKED, where it completes "its socket PATH ...": "is gone",
 * "is gone (replaced by a file that is not a socket)" or "does not
 * answer". On failure nothing is left open and *l has fd -1.
 */
int	listen_unix(struct listener *, const char *path, mode_t mode,
	    mode_t dirmode, int backlog, const char **errmsg);

/*
 * Is the socket file listen_unix() bound still at its path? 0 if so (and
 * always for listeners we did not create: inherited or TCP),
 * LISTEN_E_GONE if it was removed or replaced (or a renewal failed), or
 * -errno if lstat(2) cannot tell. One lstat(2): cheap enough for a
 * periodic timer, never meant for the request path.
 */
int	listen_unix_check(const struct listener *);

/*
 * After LISTEN_E_GONE: make a new socket at the listener's path, with the
 * mode, directory mode and backlog listen_unix() was given. The caller
 * must have stopped watching l->fd: it is closed first. Missing parent
 * directories are made again, and a lock file that is no longer ours
 * (removed with its directory) is taken anew. The rules of listen_unix()
 * hold: a file that is not a socket is never removed (-EEXIST), a live
 * listener at the path is left alone (LISTEN_E_RUNNING, also when
 * another process took the lock). Returns 0 (l->fd is the new listener),
 * positive or -errno with *errmsg as for listen_unix(). On failure l->fd
 * is -1 and l keeps its lock and path, so the caller can try again later
 * and listen_close() still cleans up.
 */
int	listen_unix_renew(struct listener *, const char **errmsg);

/*
 * Write our pid into the lock file again: after fork(2), the lock (an
 * open file description) is the child's, but the pid in it the parent's.
 */
void	listen_owner_update(struct listener *);

/*
 * Is this a loopback address: 127.0.0.0/8, ::1, or 127.0.0.0/8 mapped
 * into IPv6 (::ffff:127.x.y.z)? The any-addresses (0.0.0.0, ::) are not,
 * nor is anything that is not AF_INET or AF_INET6. The one test behind
 * tcp_allow_remote, for --tcp (listen_tcp()) and for sockets handed in
 * (listen_adopt()) alike.
 */
bool	listen_addr_is_loopback(const struct sockaddr *);

/*
 * Create a TCP listener on "ADDR:PORT" ("[v6]:PORT" for IPv6). A
 * non-loopback address is refused with -EPERM unless allow_remote.
 * Returns 0, -EINVAL for an unparseable address, or -errno.
 */
int	listen_tcp(struct listener *, const char *addrport, bool allow_remote,
	    int backlog, const char **errmsg);

/*
 * Adopt an inherited listening fd: the one check of sockets handed in
 * (by systemd.c), then set O_NONBLOCK and CLOEXEC. 0/-errno: -ENOTSOCK,
 * -EINVAL if fd is not a listening stream socket, -EAFNOSUPPORT if it is
 * neither AF_UNIX nor AF_INET/AF_INET6, -EPERM if it is bound to an
 * address that is not loopback (listen_addr_is_loopback(); 0.0.0.0 and
 * :: included) unless allow_remote: the same rule as listen_tcp(). 'name'
 * NULL or "" takes the socket's own address (its path, or ADDR:PORT),
 * which is what logs and STATUS want. On success the listener owns fd
 * (flags LISTEN_F_INHERITED, plus LISTEN_F_UNIX for AF_UNIX); on failure
 * the caller still does, and the fd is unchanged.
 */
int	listen_adopt(struct listener *, int fd, const char *name,
	    bool allow_remote);

/*
 * Close; unlink the path only if we created it (never an inherited one)
 * and it is still the socket we bound (same dev/ino), then drop the
 * lock file. Safe on a listener with fd -1; sets fd to -1.
 */
void	listen_close(struct listener *);

/*
 * The display name of a bound socket, as logs and STATUS show listeners:
 * its path ("@name" if abstract), "ADDR:PORT" or "[ADDR]:PORT"; "" if
 * getsockname(2) fails or the family is another.
 */
void	listen_sock_name(int fd, char *buf, size_t len);

/* Check a UNIX path fits sun_path (0 or -ENAMETOOLONG). */
int	listen_check_path(const char *path);

/* Default socket path for this user: /run/iomuxd/iomuxd.sock for root,
 * else $XDG_RUNTIME_DIR/iomuxd/iomuxd.sock. 0 or -ENOENT (no runtime dir)
 * or -ENAMETOOLONG. */
int	listen_default_path(char *buf, size_t len);

#endif /* IOMUXD_LISTEN_H */
