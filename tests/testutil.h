/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * testutil.h: helpers for the integration tests that drive a real iomuxd.
 *
 * A test makes a private directory, starts "$IOMUXD -f -s DIR/sock -b
 * BACKEND [args]" with fork+exec (stderr to DIR/iomuxd.log), waits until
 * the socket accepts, talks to it over raw sockets or libiomux, and stops
 * it by PID. Every wait is bounded. The raw frame helpers encode and
 * decode with explicit big-endian byte arithmetic and share no code with
 * proto/codec.c, so that the tests do not check the codec against itself.
 *
 * A daemon still running when the test fails (tu_kill_all) or the test
 * process exits is killed by PID, its log is copied to stderr, and its
 * directory is removed.
 *
 * Functions return 0 (or a documented count) on success and -errno on
 * failure, like the rest of the tree.
 */

#ifndef IOMUXD_TESTUTIL_H
#define IOMUXD_TESTUTIL_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define TU_START_TIMEOUT_MS	5000	/* daemon becomes connectable */
#define TU_STOP_TIMEOUT_MS	7000	/* SIGTERM to exit (> shutdown-timeout) */
#define TU_MAX_EXTRA_ARGS	32

struct tu_daemon {
	pid_t	 pid;		/* 0 once reaped */
	int	 status;	/* wait status, valid once reaped */
	int	 reaped;
	char	 dir[PATH_MAX];	/* private mkdtemp directory */
	char	 sock[PATH_MAX];	/* dir/sock */
	char	 log[PATH_MAX];	/* dir/iomuxd.log: daemon stdout+stderr */
	char	 backend[32];
};

/* Milliseconds (microseconds) on CLOCK_MONOTONIC. */
int64_t	tu_now_ms(void);
int64_t	tu_now_us(void);
/* Sleep ms milliseconds (restarts on EINTR). */
void	tu_sleep_ms(int ms);

/*
 * Make a private directory "$TMPDIR/iomuxd-test.XXXXXX" (or under /tmp)
 * into buf. 0 or -errno.
 */
int	tu_tmpdir(char *buf, size_t len);
/*
 * Replace the file at path with text, atomically (a reader, such as a
 * daemon reloading its configuration, sees the old or the new file, never
 * a part). 0 or -errno.
 */
int	tu_write_file(const char *path, const char *text);
/* Remove a directory made by tu_tmpdir() and the plain entries in it. */
void	tu_rmdir(const char *dir);

/*
 * The daemon binary: $IOMUXD, or NULL when unset or not executable (the
 * caller then skips).
 */
const char	*tu_iomuxd(void);

/*
 * The backends to test: the words of $IOMUXD_BACKENDS (blanks or commas
 * between them; default "epoll poll select"), copied into buf, at most
 * max of them stored in v as pointers into buf. Returns how many.
 */
int	tu_backends(const char **v, int max, char *buf, size_t len);

/*
 * Make d's directory and paths (no process yet). 0 or -errno.
 */
int	tu_daemon_init(struct tu_daemon *d, const char *backend);

/*
 * Fork+exec "$IOMUXD -f -s d->sock -b d->backend extra..." (extra is a
 * NULL-terminated list, may be NULL). stdin is /dev/null, stdout and
 * stderr go to d->log. Does not wait for the socket. 0 or -errno.
 */
int	tu_daemon_spawn(struct tu_daemon *d, const char *const *extra);

/*
 * Wait until d->sock accepts a connection, at most timeout_ms. Returns 0,
 * -ETIMEDOUT, or -ECHILD if the daemon exited first (d->status is then
 * set and d->reaped is 1).
 */
int	tu_daemon_wait_ready(struct tu_daemon *d, int timeout_ms);

/*
 * tu_daemon_init + tu_daemon_spawn + tu_daemon_wait_ready(5 s). On
 * failure the log is printed to stderr. Variadic extra args end in NULL.
 */
int	tu_daemon_start(struct tu_daemon *d, const char *backend, ...);
int	tu_daemon_startv(struct tu_daemon *d, const char *backend,
	    const char *const *extra);

/*
 * Wait for the daemon to exit on its own, at most timeout_ms. 0 (d->status
 * set), or -ETIMEDOUT (still running).
 */
int	tu_daemon_wait_exit(struct tu_daemon *d, int timeout_ms);

/*
 * Send sig to the daemon (by PID, only if not yet reaped). 0 or -errno.
 */
int	tu_daemon_kill(struct tu_daemon *d, int sig);

/*
 * SIGTERM, wait at most timeout_ms, then SIGKILL (reported on stderr).
 * Returns 0 when it exited after SIGTERM (d->status holds the status),
 * 1 when SIGKILL was needed, or -errno.
 */
int	tu_daemon_stop(struct tu_daemon *d, int timeout_ms);

/* 1 if the daemon has not exited (reaps it if it has), else 0. */
int	tu_daemon_alive(struct tu_daemon *d);

/* Exit code if the daemon exited normally, else -1 - signal number. */
int	tu_daemon_exit_code(const struct tu_daemon *d);

/* Copy the daemon's log to stderr (prefixed) for failure reports. */
void	tu_daemon_dump_log(const struct tu_daemon *d);
/* Read the whole log into buf (NUL-terminated, truncated). Bytes read. */
size_t	tu_daemon_read_log(const struct tu_daemon *d, char *buf, size_t len);
/* Copy only the last lines of the log to stderr (the end of a long run). */
void	tu_daemon_dump_log_tail(const struct tu_daemon *d, int lines);
/*
 * Search the whole log for a line containing any of needles (a NULL-
 * terminated list). 1 with the first such line copied into line (may be
 * NULL), 0 if there is none, or -errno.
 */
int	tu_daemon_log_find(const struct tu_daemon *d,
	    const char *const *needles, char *line, size_t len);

/* Stop if running (bounded), remove the directory. */
void	tu_daemon_cleanup(struct tu_daemon *d);

/*
 * For a failing test, before it exits: every daemon this process started
 * and did not clean up is killed by PID, its log copied to stderr and its
 * directory removed. (Check's fork mode ends a failed test with _exit(),
 * so atexit handlers do not run; the test's failure macro calls this.)
 */
void	tu_kill_all(void);

/* Remove a directory tree (no symlinks followed). */
void	tu_rmtree(const char *dir);

/*
 * Raise the RLIMIT_NOFILE soft limit to want (capped at the hard limit).
 * Returns the resulting soft limit (>= 0) or -errno.
 */
long	tu_raise_nofile(long want);

/*
 * Sockets. All returned fds are non-blocking and CLOEXEC; the I/O helpers
 * wait with poll() and a deadline.
 *
 * tu_connect_unix: connect to a path, retrying EAGAIN (full backlog) until
 * timeout_ms. fd, or -errno (-ENAMETOOLONG for a path over sun_path).
 * tu_connect_tcp: connect to 127.0.0.1:port. fd or -errno.
 * tu_free_tcp_port: a currently unused loopback port, or -errno.
 */
int	tu_connect_unix(const char *path, int timeout_ms);
int	tu_connect_tcp(int port, int timeout_ms);
int	tu_free_tcp_port(void);

/*
 * Write all len bytes within timeout_ms: 0, -ETIMEDOUT, or the write error
 * (-EPIPE, -ECONNRESET, ...). tu_write_some() also stores in *done how
 * many bytes went out, whatever the result.
 */
int	tu_write_all(int fd, const void *buf, size_t len, int timeout_ms);
int	tu_write_some(int fd, const void *buf, size_t len, int timeout_ms,
	    size_t *done);

/*
 * Read exactly n bytes within timeout_ms. Returns n, or the smaller count
 * read before end of stream (ECONNRESET counts as end of stream: Linux
 * reports it when the peer closed with our bytes unread), or -ETIMEDOUT.
 */
ssize_t	tu_read_n(int fd, void *buf, size_t n, int timeout_ms);

/*
 * Read and discard until end of stream, at most timeout_ms. Returns the
 * number of bytes discarded (>= 0), or -ETIMEDOUT.
 */
ssize_t	tu_wait_eof(int fd, int timeout_ms);

/* Big-endian integer access. */
void		tu_put16(uint8_t *p, uint16_t v);
void		tu_put32(uint8_t *p, uint32_t v);
uint16_t	tu_get16(const uint8_t *p);
uint32_t	tu_get32(const uint8_t *p);

/* An argument for tu_encode(); absent when p is NULL and len TU_ABSENT. */
#define TU_ABSENT	0xffffffffu
struct tu_arg {
	const void	*p;
	uint32_t	 len;
};

/*
 * Encode one frame by hand: u32 length, u8 version, u8 kind, u16 code,
 * u32 id, u16 argc, then per argument u32 len (or TU_ABSENT) and bytes.
 * Returns the total size (length prefix included); writes only if it fits
 * in cap (like snprintf), so tu_encode(NULL, 0, ...) measures.
 */
size_t	tu_encode(uint8_t *out, size_t cap, uint8_t version, uint8_t kind,
	    uint16_t code, uint32_t id, size_t argc, const struct tu_arg *argv);
/* A request with version 1 and kind REQUEST. */
size_t	tu_encode_req(uint8_t *out, size_t cap, uint16_t op, uint32_t id,
	    size_t argc, const struct tu_arg *argv);

/* A frame read by tu_read_frame(). */
#define TU_FRAME_ARGS	256
struct tu_frame {
	uint32_t	 len;		/* body length */
	uint8_t		 version;
	uint8_t		 kind;
	uint16_t	 code;
	uint32_t	 id;
	uint16_t	 argc;
	uint8_t		*body;		/* malloc'd, len bytes */
	size_t		 nargs;		/* parsed, <= TU_FRAME_ARGS */
	struct tu_arg	 args[TU_FRAME_ARGS];
};

/*
 * Read one whole frame within timeout_ms, refusing bodies over max.
 * Returns 1 with *f filled (free with tu_frame_free), 0 at end of stream
 * before the first byte, -EPROTO if the stream ended inside a frame or the
 * body does not parse, -EMSGSIZE, -ETIMEDOUT or -ENOMEM.
 */
int	tu_read_frame(int fd, struct tu_frame *f, uint32_t max, int timeout_ms);
/*
 * Parse one frame from the start of len buffered bytes, for callers that
 * read a stream themselves. Returns its size with the length prefix (> 0)
 * and *f filled with views into buf (f->body stays NULL: nothing to
 * free), 0 if buf holds less than a whole frame, -EMSGSIZE for a body over
 * max, or -EPROTO if it does not parse.
 */
ssize_t	tu_frame_parse(const uint8_t *buf, size_t len, uint32_t max,
	    struct tu_frame *f);
void	tu_frame_free(struct tu_frame *f);
/* In a name/value reply, the value for name, or NULL. */
const struct tu_arg	*tu_frame_field(const struct tu_frame *f,
	    const char *name);
/*
 * In a name/value reply, the value for name as a decimal number: 0,
 * -ENOENT if absent, -EINVAL if not plain digits or over 64 bits.
 */
int	tu_frame_field_u64(const struct tu_frame *f, const char *name,
	    uint64_t *v);
/* 1 if argument i is exactly the len bytes at p. */
int	tu_arg_eq(const struct tu_arg *a, const void *p, size_t len);

/*
 * /proc: resident set size in bytes, open fd count, utime+stime in clock
 * ticks. -errno on failure.
 */
long long	tu_proc_rss(pid_t pid);
/* The peak resident set size (VmHWM) in bytes, or -errno. */
long long	tu_proc_hwm(pid_t pid);
int		tu_proc_fd_count(pid_t pid);
long long	tu_proc_cpu_ticks(pid_t pid);
/* List pid's open fds and their targets on stderr, each line tagged. */
void		tu_proc_fd_dump(pid_t pid, const char *tag);

#endif /* IOMUXD_TESTUTIL_H */
