/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_listen.c: unit tests for listen.c (RELIABILITY.md #6-#8: path
 * length, stale and live sockets, non-sockets, permissions and the umask
 * race, listen_close() ownership, the lock file's pid and a lock held
 * with no socket, a socket file lost and re-made, TCP address rules and
 * the one loopback test behind them, adoption and its address check) and
 * for systemd.c's systemd_listen_collect() with real sockets passed as
 * LISTEN_FDS.
 *
 * Every test works in its own mkdtemp(3) directory and on 127.0.0.1.
 * Tests that must own fds 3.. or change uid do so in a grandchild that
 * reports through its exit status (0 = pass, N = step N failed), so
 * Check's own fds and state are never touched.
 */

#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check-run.h"
#include "listen.h"
#include "systemd.h"

static char	dir[64];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ckl.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
teardown(void)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
path_in(char *buf, size_t len, const char *name)
{
	ck_assert_int_lt(snprintf(buf, len, "%s/%s", dir, name), (int)len);
}

static int
dir_entries(const char *d)
{
	char	 cmd[256];
	FILE	*fp;
	int	 n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", d);
	ck_assert_ptr_nonnull(fp = popen(cmd, "r"));
	ck_assert_int_eq(fscanf(fp, "%d", &n), 1);
	pclose(fp);
	return n;
}

/* A plain listening AF_UNIX socket, not made by listen.c. */
static int
raw_unix_listener(const char *path, int type, int do_listen)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(path), sizeof(sun.sun_path));
	strcpy(sun.sun_path, path);
	ck_assert_int_ge(fd = socket(AF_UNIX, type, 0), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	if (do_listen)
		ck_assert_int_eq(listen(fd, 8), 0);
	return fd;
}

/* 1 if a connect(2) to path succeeds. */
static int
can_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	ck_assert_int_ge(fd = socket(AF_UNIX, SOCK_STREAM, 0), 0);
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return r;
}

static void
assert_nonblock_cloexec(int fd)
{
	ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

START_TEST(test_path_length)
{
	struct listener	 l;
	const char	*msg;
	char		 path[256];
	size_t		 dlen = strlen(dir);

	/* 107 bytes: the most sun_path holds with its NUL. */
	memset(path, 'a', sizeof(path));
	memcpy(path, dir, dlen);
	path[dlen] = '/';
	path[107] = '\0';
	ck_assert_int_eq(listen_check_path(path), 0);
	ck_assert_int_eq(listen_unix(&l, path, 0600, 0700, 16, &msg), 0);
	ck_assert(can_connect(path));
	listen_close(&l);
	ck_assert_int_eq(dir_entries(dir), 0);

	/* 108 and 200: refused, and no (truncated) file appears. */
	path[107] = 'a';
	path[108] = '\0';
	ck_assert_int_eq(listen_check_path(path), -ENAMETOOLONG);
	ck_assert_int_eq(listen_unix(&l, path, 0600, 0700, 16, &msg),
	    -ENAMETOOLONG);
	ck_assert_str_eq(msg, "socket path too long (max 107 bytes)");
	ck_assert_int_eq(l.fd, -1);
	path[108] = 'a';
	path[200] = '\0';
	ck_assert_int_eq(listen_unix(&l, path, 0600, 0700, 16, &msg),
	    -ENAMETOOLONG);
	ck_assert_int_eq(dir_entries(dir), 0);

	ck_assert_int_eq(listen_check_path(""), -EINVAL);
	ck_assert_int_eq(listen_unix(&l, "", 0600, 0700, 16, NULL), -EINVAL);
}
END_TEST

START_TEST(test_stale_replaced)
{
	struct listener	 l;
	const char	*msg;
	char		 path[128];
	int		 fd;

	path_in(path, sizeof(path), "sock");
	/* A crashed daemon: bound, closed, never unlinked. */
	fd = raw_unix_listener(path, SOCK_STREAM, 1);
	close(fd);
	ck_assert(!can_connect(path));
	ck_assert_int_eq(listen_unix(&l, path, 0600, 0700, 16, &msg), 0);
	ck_assert(l.flags & LISTEN_F_UNIX);
	ck_assert(l.flags & LISTEN_F_CREATED_PATH);
	ck_assert(!(l.flags & LISTEN_F_INHERITED));
	ck_assert_str_eq(l.name, path);
	assert_nonblock_cloexec(l.fd);
	ck_assert(can_connect(path));
	listen_close(&l);
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

START_TEST(test_live_raw)
{
	struct listener	 l;
	struct stat	 before, after;
	const char	*msg;
	char		 path[128];
	int		 fd, c;

	path_in(path, sizeof(path), "sock");
	fd = raw_unix_listener(path, SOCK_STREAM, 1);
	ck_assert_int_eq(lstat(path, &before), 0);
	ck_assert_int_eq(listen_unix(&l, path, 0600, 0700, 16, &msg),
	    LISTEN_E_RUNNING);
	ck_assert_str_eq(msg, "already running");
	ck_assert_int_eq(l.fd, -1);
	/* The live one is untouched and still serves. */
	ck_assert_int_eq(lstat(path, &after), 0);
	ck_assert_uint_eq(before.st_ino, after.st_ino);
	ck_assert(can_connect(path));
	ck_assert_int_ge(c = accept(fd, NULL, NULL), 0);
	close(c);
	close(fd);
}
END_TEST

START_TEST(test_live_locked)
{
	struct listener	 a, b;
	const char	*msg;
	char		 path[128], lock[140];

	path_in(path, sizeof(path), "sock");
	path_in(lock, sizeof(lock), "sock.lock");
	ck_assert_int_eq(listen_unix(&a, path, 0660, 0700, 16, &msg), 0);
	ck_assert(a.flags & LISTEN_F_LOCKED);
	ck_assert_int_eq(access(lock, F_OK), 0);
	/* A second daemon at the same path. */
	ck_assert_int_eq(listen_unix(&b, path, 0660, 0700, 16, &msg),
	    LISTEN_E_RUNNING);
	ck_assert_str_eq(msg, "already running");
	ck_assert(can_connect(path));
	ck_assert_int_eq(access(lock, F_OK), 0);
	/* A leftover unlocked lock file from a crash does not matter. */
	listen_close(&a);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(access(lock, F_OK), -1);
	close(open(lock, O_CREAT | O_WRONLY, 0600));
	ck_assert_int_eq(listen_unix(&b, path, 0660, 0700, 16, &msg), 0);
	listen_close(&b);
}
END_TEST

START_TEST(test_not_a_socket)
{
	struct listener	 l;
	const char	*msg;
	char		 path[128], buf[64], target[128];
	int		 fd;

	path_in(path, sizeof(path), "sock");
	ck_assert_int_ge(fd = open(path, O_CREAT | O_WRONLY, 0644), 0);
	ck_assert_int_eq(write(fd, "precious\n", 9), 9);
	close(fd);
	ck_assert_int_eq(listen_unix(&l, path, 0600, 0700, 16, &msg),
	    -EEXIST);
	ck_assert_str_eq(msg, "exists and is not a socket; not removing it");
	ck_assert_int_ge(fd = open(path, O_RDONLY), 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 9);
	ck_assert_mem_eq(buf, "precious\n", 9);
	close(fd);
	unlink(path);

	/* A directory, and a symlink to a stale socket: same answer. */
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(listen_unix(&l, path, 0600, 0700, 16, &msg),
	    -EEXIST);
	ck_assert_int_eq(rmdir(path), 0);
	path_in(target, sizeof(target), "target");
	close(raw_unix_listener(target, SOCK_STREAM, 1));
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(listen_unix(&l, path, 0600, 0700, 16, &msg),
	    -EEXIST);
	ck_assert_int_eq(access(target, F_OK), 0);
}
END_TEST

START_TEST(test_modes)
{
	static const mode_t	 modes[] = { 0600, 0660, 0666, 0700 };
	static const mode_t	 masks[] = { 0, 022, 077, 0777 };
	struct listener		 l;
	struct stat		 st;
	char			 path[128];
	size_t			 i, j;
	mode_t			 old;

	path_in(path, sizeof(path), "sock");
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		for (j = 0; j < sizeof(masks) / sizeof(masks[0]); j++) {
			old = umask(masks[j]);
			ck_assert_int_eq(listen_unix(&l, path, modes[i], 0700,
			    16, NULL), 0);
			/* The caller's umask is restored. */
			ck_assert_uint_eq(umask(old), masks[j]);
			ck_assert_int_eq(lstat(path, &st), 0);
			ck_assert(S_ISSOCK(st.st_mode));
			ck_assert_uint_eq(st.st_mode & 07777, modes[i]);
			listen_close(&l);
		}
	}
	ck_assert_int_eq(listen_unix(&l, path, 01600, 0700, 16, NULL),
	    -EINVAL);
}
END_TEST

/*
 * RELIABILITY #7: with umask 000 in force, a watcher lstat(2)ing the path
 * in a tight loop must never see the socket wider than 0600. Best effort:
 * a race can only be shown, not excluded; against a bind-then-chmod
 * implementation this fails within a few hundred rounds on 2 CPUs. The
 * watcher tells us over a pipe that it runs and when it first saw a
 * socket, so a loaded machine cannot turn the test into a vacuous pass.
 */
START_TEST(test_umask_race)
{
	struct listener	 l;
	struct stat	 st;
	struct pollfd	 pfd;
	char		 path[128], done[128], ch;
	pid_t		 pid;
	unsigned long	 n;
	int		 i, p[2], status, seen = 0, told = 0;

	path_in(path, sizeof(path), "sock");
	path_in(done, sizeof(done), "done");
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		close(p[0]);
		if (write(p[1], "r", 1) != 1)
			_exit(3);
		for (n = 0;; n++) {
			if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
				if (st.st_mode & 0177)
					_exit(1);
				if (seen++ == 0 && write(p[1], "s", 1) != 1)
					_exit(3);
			}
			if ((n & 1023) == 0 && access(done, F_OK) == 0)
				_exit(seen > 0 ? 0 : 2);
		}
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &ch, 1), 1);
	ck_assert_int_eq(ch, 'r');
	umask(0);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (i = 0; i < 400 || (!told && i < 1000); i++) {
		ck_assert_int_eq(listen_unix(&l, path, 0600, 0700, 16, NULL),
		    0);
		/* Now and then hold the socket until the watcher saw one. */
		if (!told && i % 16 == 0 && poll(&pfd, 1, 10) == 1) {
			ck_assert_int_eq(read(p[0], &ch, 1), 1);
			told = 1;
		}
		listen_close(&l);
	}
	ck_assert_int_ge(i = open(done, O_CREAT | O_WRONLY, 0600), 0);
	close(i);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	close(p[0]);
	ck_assert(WIFEXITED(status));
	ck_assert_msg(WEXITSTATUS(status) != 1, "watcher saw a wider mode");
	ck_assert_msg(WEXITSTATUS(status) == 0, "watcher never saw a socket "
	    "(status %d)", WEXITSTATUS(status));
}
END_TEST

START_TEST(test_parent_created)
{
	struct listener	 l;
	struct stat	 st;
	char		 path[128], sub[128];
	const char	*msg;

	umask(077);
	path_in(path, sizeof(path), "a/b/c/sock");
	ck_assert_int_eq(listen_unix(&l, path, 0660, 0750, 16, &msg), 0);
	path_in(sub, sizeof(sub), "a/b/c");
	ck_assert_int_eq(stat(sub, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0750);
	path_in(sub, sizeof(sub), "a");
	ck_assert_int_eq(stat(sub, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0750);
	ck_assert(can_connect(path));
	listen_close(&l);

	/* An existing directory keeps its mode. */
	ck_assert_int_eq(chmod(sub, 0755), 0);
	ck_assert_int_eq(listen_unix(&l, path, 0660, 0700, 16, &msg), 0);
	ck_assert_int_eq(stat(sub, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	listen_close(&l);

	/* A file where a directory should be. */
	path_in(sub, sizeof(sub), "file");
	close(open(sub, O_CREAT | O_WRONLY, 0600));
	path_in(path, sizeof(path), "file/sock");
	ck_assert_int_eq(listen_unix(&l, path, 0660, 0700, 16, &msg),
	    -ENOTDIR);
	ck_assert_str_eq(msg, "cannot create the socket's directory");

	/* A relative path in the current directory needs no mkdir. */
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_int_eq(listen_unix(&l, "rel.sock", 0600, 0700, 16, &msg),
	    0);
	ck_assert(can_connect("rel.sock"));
	listen_close(&l);
	ck_assert_int_eq(access("rel.sock", F_OK), -1);
}
END_TEST

START_TEST(test_close_ownership)
{
	struct listener	 l;
	char		 path[128], lock[140];
	int		 other;

	path_in(path, sizeof(path), "sock");
	path_in(lock, sizeof(lock), "sock.lock");
	ck_assert_int_eq(listen_unix(&l, path, 0600, 0700, 16, NULL), 0);
	/* Someone removes our socket and binds their own there. */
	ck_assert_int_eq(unlink(path), 0);
	other = raw_unix_listener(path, SOCK_STREAM, 1);
	listen_close(&l);
	ck_assert_int_eq(l.fd, -1);
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert(can_connect(path));
	ck_assert_int_eq(access(lock, F_OK), -1);
	close(other);
	unlink(path);

	/* A regular file in its place is not removed either. */
	ck_assert_int_eq(listen_unix(&l, path, 0600, 0700, 16, NULL), 0);
	ck_assert_int_eq(unlink(path), 0);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	listen_close(&l);
	ck_assert_int_eq(access(path, F_OK), 0);

	/* Closing twice, or a never-opened listener, is harmless. */
	listen_close(&l);
	memset(&l, 0, sizeof(l));
	l.fd = -1;
	listen_close(&l);
}
END_TEST

/* The pid written in a lock file, or -1. */
static long
lock_file_pid(const char *lock)
{
	char	 buf[32];
	FILE	*fp;
	long	 pid = -1;

	if ((fp = fopen(lock, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), fp) != NULL && strchr(buf, '\n') != NULL)
		pid = strtol(buf, NULL, 10);
	fclose(fp);
	return pid;
}

START_TEST(test_lock_pid)
{
	struct listener	 a, b;
	const char	*msg;
	char		 path[128], lock[140];

	path_in(path, sizeof(path), "sock");
	path_in(lock, sizeof(lock), "sock" LISTEN_LOCK_SUFFIX);
	ck_assert_int_eq(listen_unix(&a, path, 0660, 0700, 16, &msg), 0);
	ck_assert_int_eq(lock_file_pid(lock), (long)getpid());
	/* A second daemon learns who holds it. */
	ck_assert_int_eq(listen_unix(&b, path, 0660, 0700, 16, &msg),
	    LISTEN_E_RUNNING);
	ck_assert_int_eq(b.lock_pid, getpid());
	/* After fork(2) the holder rewrites it (here: a bogus pid first). */
	ck_assert_int_eq(truncate(lock, 0), 0);
	listen_owner_update(&a);
	ck_assert_int_eq(lock_file_pid(lock), (long)getpid());
	listen_close(&a);
}
END_TEST

/*
 * The lock is held, but nothing answers at the path: say so, and how the
 * path looks, instead of "already running"; touch nothing.
 */
START_TEST(test_locked_gone)
{
	struct listener	 a, b;
	const char	*msg;
	char		 path[128], lock[140], buf[32];
	FILE		*fp;
	int		 fd;

	path_in(path, sizeof(path), "sock");
	path_in(lock, sizeof(lock), "sock.lock");
	ck_assert_int_eq(listen_unix(&a, path, 0660, 0700, 16, &msg), 0);

	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(listen_unix(&b, path, 0660, 0700, 16, &msg),
	    LISTEN_E_LOCKED);
	ck_assert_str_eq(msg, "is gone");
	ck_assert_int_eq(b.lock_pid, getpid());
	ck_assert_int_eq(b.fd, -1);
	ck_assert_int_eq(access(path, F_OK), -1);

	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs("precious\n", fp);
	fclose(fp);
	ck_assert_int_eq(listen_unix(&b, path, 0660, 0700, 16, &msg),
	    LISTEN_E_LOCKED);
	ck_assert_str_eq(msg,
	    "is gone (replaced by a file that is not a socket)");
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	ck_assert_str_eq(buf, "precious\n");
	ck_assert_int_eq(unlink(path), 0);

	fd = raw_unix_listener(path, SOCK_STREAM, 1);
	close(fd);
	ck_assert_int_eq(listen_unix(&b, path, 0660, 0700, 16, &msg),
	    LISTEN_E_LOCKED);
	ck_assert_str_eq(msg, "does not answer");
	ck_assert_int_eq(access(path, F_OK), 0);

	/* An unknown holder (an empty lock file): pid 0. */
	ck_assert_int_eq(truncate(lock, 0), 0);
	ck_assert_int_eq(listen_unix(&b, path, 0660, 0700, 16, &msg),
	    LISTEN_E_LOCKED);
	ck_assert_int_eq(b.lock_pid, 0);
	listen_close(&a);
	ck_assert_int_eq(access(lock, F_OK), -1);
}
END_TEST

static mode_t
file_mode(const char *path)
{
	struct stat	 st;

	ck_assert_int_eq(lstat(path, &st), 0);
	return st.st_mode;
}

/* The socket file taken away under a listener: noticed and re-made. */
START_TEST(test_check_renew)
{
	struct listener	 a;
	struct stat	 st;
	const char	*msg;
	char		 path[128];
	FILE		*fp;
	ino_t		 ino;
	int		 old, other;

	path_in(path, sizeof(path), "sock");
	ck_assert_int_eq(listen_unix(&a, path, 0640, 0700, 16, &msg), 0);
	ck_assert_int_eq(listen_unix_check(&a), 0);

	/* Deleted: a new socket at the same path, same mode, fd reused. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(listen_unix_check(&a), LISTEN_E_GONE);
	old = a.fd;
	ck_assert_int_eq(listen_unix_renew(&a, &msg), 0);
	ck_assert_int_ge(a.fd, 0);
	ck_assert_int_le(a.fd, old);
	assert_nonblock_cloexec(a.fd);
	ck_assert(S_ISSOCK(file_mode(path)));
	ck_assert_uint_eq(file_mode(path) & 0777, 0640);
	ck_assert(can_connect(path));
	ck_assert_int_eq(listen_unix_check(&a), 0);

	/* A regular file in its place is never removed. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fclose(fp);
	ck_assert_int_eq(listen_unix_check(&a), LISTEN_E_GONE);
	ck_assert_int_eq(listen_unix_renew(&a, &msg), -EEXIST);
	ck_assert_ptr_nonnull(msg);
	ck_assert_int_eq(a.fd, -1);
	ck_assert(S_ISREG(file_mode(path)));
	/* Still not ours: checked again and again, until it is gone. */
	ck_assert_int_eq(listen_unix_check(&a), LISTEN_E_GONE);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(listen_unix_renew(&a, &msg), 0);
	ck_assert(can_connect(path));

	/* Someone else listening there now is left alone... */
	ck_assert_int_eq(unlink(path), 0);
	other = raw_unix_listener(path, SOCK_STREAM, 1);
	ck_assert_int_eq(lstat(path, &st), 0);
	ino = st.st_ino;
	ck_assert_int_eq(listen_unix_check(&a), LISTEN_E_GONE);
	ck_assert_int_eq(listen_unix_renew(&a, &msg), LISTEN_E_RUNNING);
	ck_assert_int_eq(a.fd, -1);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_uint_eq(st.st_ino, ino);
	/* ...until it dies and leaves a stale socket, which is replaced. */
	close(other);
	ck_assert_int_eq(listen_unix_renew(&a, &msg), 0);
	ck_assert(can_connect(path));
	listen_close(&a);
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

/* The whole directory removed, lock file included: both come back. */
START_TEST(test_renew_dir)
{
	struct listener	 a, b;
	const char	*msg;
	char		 sub[128], path[128], lock[140];

	path_in(sub, sizeof(sub), "sub");
	path_in(path, sizeof(path), "sub/sock");
	path_in(lock, sizeof(lock), "sub/sock.lock");
	ck_assert_int_eq(listen_unix(&a, path, 0660, 0700, 16, &msg), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(unlink(lock), 0);
	ck_assert_int_eq(rmdir(sub), 0);
	ck_assert_int_eq(listen_unix_check(&a), LISTEN_E_GONE);
	ck_assert_int_eq(listen_unix_renew(&a, &msg), 0);
	ck_assert(can_connect(path));
	ck_assert_uint_eq(file_mode(sub) & 0777, 0700);
	/* The new lock file is held and names us. */
	ck_assert_int_eq(lock_file_pid(lock), (long)getpid());
	ck_assert_int_eq(listen_unix(&b, path, 0660, 0700, 16, &msg),
	    LISTEN_E_RUNNING);
	listen_close(&a);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(access(lock, F_OK), -1);
}
END_TEST

/* Inherited sockets belong to whoever passed them: never checked. */
START_TEST(test_check_inherited)
{
	struct listener	 l;
	char		 path[128];
	int		 fd;

	path_in(path, sizeof(path), "sock");
	fd = raw_unix_listener(path, SOCK_STREAM, 1);
	ck_assert_int_eq(listen_adopt(&l, fd, NULL, false), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(listen_unix_check(&l), 0);
	listen_close(&l);
}
END_TEST

static int
tcp_port(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

START_TEST(test_tcp_loopback)
{
	struct listener		 l, l2;
	struct sockaddr_in	 sin;
	const char		*msg;
	char			 name[64], addr[64];
	int			 port, c;

	ck_assert_int_eq(listen_tcp(&l, "127.0.0.1:0", false, 16, &msg), 0);
	ck_assert_int_eq(l.flags & (LISTEN_F_UNIX | LISTEN_F_CREATED_PATH |
	    LISTEN_F_INHERITED), 0);
	assert_nonblock_cloexec(l.fd);
	ck_assert_int_gt(port = tcp_port(l.fd), 0);
	snprintf(name, sizeof(name), "127.0.0.1:%d", port);
	ck_assert_str_eq(l.name, name);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(c = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	close(c);

	/* The same port again: in use. */
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	ck_assert_int_eq(listen_tcp(&l2, addr, false, 16, &msg), -EADDRINUSE);
	ck_assert_str_eq(msg, "cannot bind");
	ck_assert_int_eq(l2.fd, -1);
	listen_close(&l);
}
END_TEST

START_TEST(test_tcp_remote)
{
	struct listener	 l;
	const char	*msg;

	ck_assert_int_eq(listen_tcp(&l, "0.0.0.0:0", false, 16, &msg), -EPERM);
	ck_assert_str_eq(msg, "refusing non-loopback address without "
	    "--tcp-allow-remote");
	ck_assert_int_eq(l.fd, -1);
	ck_assert_int_eq(listen_tcp(&l, "[::]:0", false, 16, &msg), -EPERM);
	ck_assert_int_eq(listen_tcp(&l, "192.0.2.1:80", false, 16, &msg),
	    -EPERM);
	ck_assert_int_eq(listen_tcp(&l, "0.0.0.0:0", true, 16, &msg), 0);
	ck_assert_int_gt(tcp_port(l.fd), 0);
	ck_assert_ptr_nonnull(strstr(l.name, "0.0.0.0:"));
	listen_close(&l);
}
END_TEST

START_TEST(test_tcp_ipv6)
{
	struct listener	 l;
	const char	*msg;
	char		 name[64];
	int		 r, v6only = 0;
	socklen_t	 len = sizeof(v6only);

	r = listen_tcp(&l, "[::1]:0", false, 16, &msg);
	if (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT) {
		fprintf(stderr, "# no IPv6 loopback here, skipping\n");
		return;
	}
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(getsockopt(l.fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
	    &len), 0);
	ck_assert_int_eq(v6only, 1);
	snprintf(name, sizeof(name), "[::1]:%d", tcp_port(l.fd));
	ck_assert_str_eq(l.name, name);
	listen_close(&l);
}
END_TEST

/* The one loopback test of --tcp and of adopted sockets. */
static int
loopback4(const char *addr)
{
	struct sockaddr_in	 sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	return listen_addr_is_loopback((struct sockaddr *)&sin);
}

static int
loopback6(const char *addr)
{
	struct sockaddr_in6	 sin6;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, addr, &sin6.sin6_addr), 1);
	return listen_addr_is_loopback((struct sockaddr *)&sin6);
}

START_TEST(test_addr_loopback)
{
	static const char *const	 yes4[] = {
		"127.0.0.1", "127.0.0.0", "127.0.0.2", "127.1.2.3",
		"127.255.255.255",
	};
	static const char *const	 no4[] = {
		"0.0.0.0", "126.255.255.255", "128.0.0.1", "10.0.0.1",
		"192.168.1.1", "255.255.255.255", "1.127.0.1",
	};
	static const char *const	 yes6[] = {
		"::1", "::ffff:127.0.0.1", "::ffff:127.9.8.7",
	};
	static const char *const	 no6[] = {
		"::", "::2", "fe80::1", "2001:db8::1", "::ffff:0.0.0.0",
		"::ffff:10.0.0.1", "::ffff:128.0.0.1",
		"::127.0.0.1",		/* v4-compatible, not v4-mapped */
		"::1:0", "ff02::1", "0:0:0:0:0:1:7f00:1",
	};
	struct sockaddr_un		 sun;
	size_t				 i;

	for (i = 0; i < sizeof(yes4) / sizeof(yes4[0]); i++)
		ck_assert_msg(loopback4(yes4[i]), "%s not loopback", yes4[i]);
	for (i = 0; i < sizeof(no4) / sizeof(no4[0]); i++)
		ck_assert_msg(!loopback4(no4[i]), "%s loopback", no4[i]);
	for (i = 0; i < sizeof(yes6) / sizeof(yes6[0]); i++)
		ck_assert_msg(loopback6(yes6[i]), "%s not loopback", yes6[i]);
	for (i = 0; i < sizeof(no6) / sizeof(no6[0]); i++)
		ck_assert_msg(!loopback6(no6[i]), "%s loopback", no6[i]);
	/* Not an IP address at all: not loopback. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert(!listen_addr_is_loopback((struct sockaddr *)&sun));
}
END_TEST

START_TEST(test_tcp_bad)
{
	static const char *const	 bad[] = {
		"nonsense", "127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:x",
		"127.0.0.1:65536", "127.0.0.1:123456", "127.0.0.1:-1",
		"::1:80", "[::1]", "[::1]80", "[]:80", "[::1:80",
		"localhost:80", "256.1.1.1:80", "127.0.0.1 :80", "",
		"[127.0.0.1:80",
		"1111111111111111111111111111111111111111111111111111111"
		"1111111111111:80",
	};
	struct listener			 l;
	const char			*msg;
	size_t				 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg = NULL;
		ck_assert_msg(listen_tcp(&l, bad[i], true, 16, &msg) ==
		    -EINVAL, "'%s' accepted", bad[i]);
		ck_assert_ptr_nonnull(msg);
		ck_assert_int_eq(l.fd, -1);
	}
}
END_TEST

START_TEST(test_adopt)
{
	struct listener	 l;
	char		 path[128];
	int		 fd, p[2];

	path_in(path, sizeof(path), "sock");
	fd = raw_unix_listener(path, SOCK_STREAM, 1);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_int_eq(listen_adopt(&l, fd, NULL, false), 0);
	ck_assert_int_eq(l.fd, fd);
	assert_nonblock_cloexec(fd);
	ck_assert_int_eq(l.flags, LISTEN_F_INHERITED | LISTEN_F_UNIX);
	ck_assert_str_eq(l.name, path);
	/* Inherited: closing never unlinks (PID 1 owns the file). */
	listen_close(&l);
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	unlink(path);

	fd = raw_unix_listener(path, SOCK_STREAM, 1);
	ck_assert_int_eq(listen_adopt(&l, fd, "given", false), 0);
	ck_assert_str_eq(l.name, "given");
	listen_close(&l);
	unlink(path);

	/* Not a listening stream socket: refused, fd left to the caller. */
	fd = raw_unix_listener(path, SOCK_STREAM, 0);
	ck_assert_int_eq(listen_adopt(&l, fd, NULL, false), -EINVAL);
	ck_assert_int_ge(fcntl(fd, F_GETFD), 0);
	close(fd);
	unlink(path);
	fd = raw_unix_listener(path, SOCK_DGRAM, 0);
	ck_assert_int_eq(listen_adopt(&l, fd, NULL, false), -EINVAL);
	close(fd);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(listen_adopt(&l, p[0], NULL, false), -ENOTSOCK);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_adopt_tcp)
{
	struct sockaddr_in	 sin;
	struct listener		 l;
	char			 name[64];
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(listen_adopt(&l, fd, "", false), 0);
	ck_assert_int_eq(l.flags, LISTEN_F_INHERITED);
	snprintf(name, sizeof(name), "127.0.0.1:%d", tcp_port(fd));
	ck_assert_str_eq(l.name, name);
	assert_nonblock_cloexec(fd);
	listen_close(&l);
}
END_TEST

/*
 * A blocking TCP listener on addr (numeric, port 0), or -1 if this host
 * cannot bind it (no IPv6). v6only: IPV6_V6ONLY for AF_INET6.
 */
static int
tcp_bound(const char *addr, int v6only)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 slen;
	int			 fd;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		slen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		slen = sizeof(*sin6);
	} else
		return -1;
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) == -1)
		return -1;
	if ((ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &v6only, sizeof(v6only)) == -1) ||
	    bind(fd, (struct sockaddr *)&ss, slen) == -1 ||
	    listen(fd, 4) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Passed sockets get the address rule of --tcp: loopback, or allowed. */
START_TEST(test_adopt_tcp_remote)
{
	static const char *const	 v6ok[] = { "::1", "::ffff:127.0.0.1" };
	struct listener			 l;
	char				 name[64];
	size_t				 i;
	int				 fd;

	ck_assert_int_ge(fd = tcp_bound("0.0.0.0", 0), 0);
	ck_assert_int_eq(listen_adopt(&l, fd, NULL, false), -EPERM);
	/* Refused: the fd is the caller's, as it came. */
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_int_eq(listen_adopt(&l, fd, NULL, true), 0);
	ck_assert_int_eq(l.flags, LISTEN_F_INHERITED);
	snprintf(name, sizeof(name), "0.0.0.0:%d", tcp_port(fd));
	ck_assert_str_eq(l.name, name);
	listen_close(&l);

	/* 127/8 is loopback, not only 127.0.0.1. */
	ck_assert_int_ge(fd = tcp_bound("127.0.0.2", 0), 0);
	ck_assert_int_eq(listen_adopt(&l, fd, NULL, false), 0);
	listen_close(&l);

	if ((fd = tcp_bound("::", 1)) == -1) {
		fprintf(stderr, "# no IPv6 here, skipping its cases\n");
		return;
	}
	ck_assert_int_eq(listen_adopt(&l, fd, NULL, false), -EPERM);
	ck_assert_int_eq(listen_adopt(&l, fd, NULL, true), 0);
	listen_close(&l);
	for (i = 0; i < sizeof(v6ok) / sizeof(v6ok[0]); i++) {
		if ((fd = tcp_bound(v6ok[i], 0)) == -1) {
			fprintf(stderr, "# cannot bind %s, skipping\n",
			    v6ok[i]);
			continue;
		}
		ck_assert_msg(listen_adopt(&l, fd, NULL, false) == 0,
		    "%s refused", v6ok[i]);
		listen_close(&l);
	}
}
END_TEST

/* The one display name of sockets, for logs and STATUS. */
START_TEST(test_sock_name)
{
	struct sockaddr_un	 sun;
	char			 buf[128], path[128];
	int			 fd, p[2];

	path_in(path, sizeof(path), "named.sock");
	fd = raw_unix_listener(path, SOCK_STREAM, 1);
	listen_sock_name(fd, buf, sizeof(buf));
	ck_assert_str_eq(buf, path);
	close(fd);

	/* Abstract: "@name", though the name is not NUL-terminated. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, "iomuxd-ck", 9);
	ck_assert_int_ge(fd = socket(AF_UNIX, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 10)), 0);
	listen_sock_name(fd, buf, sizeof(buf));
	ck_assert_str_eq(buf, "@iomuxd-ck");
	close(fd);

	/* Unbound, or not a socket: "". */
	ck_assert_int_ge(fd = socket(AF_UNIX, SOCK_STREAM, 0), 0);
	listen_sock_name(fd, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	close(fd);
	ck_assert_int_eq(pipe(p), 0);
	listen_sock_name(p[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	close(p[0]);
	close(p[1]);
}
END_TEST

/* Steps for the grandchildren: exit(step) on the first failure. */
#define STEP(n, cond)	do { if (!(cond)) _exit(n); } while (0)

static int
wait_child(pid_t pid)
{
	int	 status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
default_path_unprivileged(void)
{
	char	 buf[256], big[300];

	if (geteuid() == 0)
		STEP(10, setuid(65534) == 0);
	STEP(11, setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1) == 0);
	STEP(12, listen_default_path(buf, sizeof(buf)) == 0);
	STEP(13, strcmp(buf, "/run/user/1000/iomuxd/iomuxd.sock") == 0);
	STEP(14, listen_default_path(buf, 20) == -ENAMETOOLONG);
	memset(big, 'd', sizeof(big));
	big[0] = '/';
	big[100] = '\0';
	STEP(15, setenv("XDG_RUNTIME_DIR", big, 1) == 0);
	STEP(16, listen_default_path(buf, sizeof(buf)) == -ENAMETOOLONG);
	STEP(17, setenv("XDG_RUNTIME_DIR", "relative", 1) == 0);
	STEP(18, listen_default_path(buf, sizeof(buf)) == -ENOENT);
	STEP(19, unsetenv("XDG_RUNTIME_DIR") == 0);
	STEP(20, listen_default_path(buf, sizeof(buf)) == -ENOENT);
	_exit(0);
}

START_TEST(test_default_path)
{
	char	 buf[128];
	pid_t	 pid;

	if (geteuid() == 0) {
		setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
		ck_assert_int_eq(listen_default_path(buf, sizeof(buf)), 0);
		ck_assert_str_eq(buf, "/run/iomuxd/iomuxd.sock");
	}
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0)
		default_path_unprivileged();
	ck_assert_int_eq(wait_child(pid), 0);
}
END_TEST

/*
 * Put fds[0..n-1] at exactly 3..3+n-1 (SD_LISTEN_FDS_START), moving all
 * of them out of the way first: one of them may already sit at a target.
 */
static int
place_fds(const int *fds, int n)
{
	int	 hi[8], i;

	for (i = 0; i < n; i++) {
		if ((hi[i] = fcntl(fds[i], F_DUPFD, 200)) == -1)
			return -1;
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	for (i = 0; i < n; i++) {
		if (dup2(hi[i], 3 + i) != 3 + i)
			return -1;
		close(hi[i]);
	}
	return 0;
}

/* The port of a bound TCP socket, -1 on error; no ck_assert here. */
static int
tcp_port_raw(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int
is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static int
tcp_listener_fd(void)
{
	struct sockaddr_in	 sin;
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 4) == -1)
		_exit(90);
	return fd;
}

static int
unix_fd(const char *name, int type, int do_listen)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", dir, name);
	unlink(sun.sun_path);
	if ((fd = socket(AF_UNIX, type, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    (do_listen && listen(fd, 4) == -1))
		_exit(91);
	return fd;
}

/* The error systemd_listen_collect() wrote last, "" if none. */
static char	collect_err[512];

static int
collect(struct listener *out, int max, bool allow_remote)
{
	collect_err[0] = '\0';
	return systemd_listen_collect(out, max, allow_remote, collect_err,
	    sizeof(collect_err));
}

static void
set_listen_env(pid_t pid, int n, const char *names)
{
	char	 v[32];

	snprintf(v, sizeof(v), "%ld", (long)pid);
	STEP(92, setenv("LISTEN_PID", v, 1) == 0);
	snprintf(v, sizeof(v), "%d", n);
	STEP(93, setenv("LISTEN_FDS", v, 1) == 0);
	if (names != NULL)
		STEP(94, setenv("LISTEN_FDNAMES", names, 1) == 0);
	else
		unsetenv("LISTEN_FDNAMES");
}

static int
env_cleared(void)
{
	return getenv("LISTEN_PID") == NULL && getenv("LISTEN_FDS") == NULL &&
	    getenv("LISTEN_FDNAMES") == NULL;
}

/* Named fds: unix, tcp, then a pipe, a datagram and an idle socket. */
static void
collect_named(void)
{
	struct listener		 out[SYSTEMD_LISTEN_MAX];
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	char			 path[128], name[64];
	int			 p[2], fds[5];

	STEP(1, pipe(p) == 0);
	fds[0] = unix_fd("u.sock", SOCK_STREAM, 1);
	fds[1] = tcp_listener_fd();
	fds[2] = p[0];
	fds[3] = unix_fd("d.sock", SOCK_DGRAM, 0);
	fds[4] = unix_fd("i.sock", SOCK_STREAM, 0);
	STEP(2, place_fds(fds, 5) == 0);
	set_listen_env(getpid(), 5, "iomuxd:iomuxd-tcp:pipe:dgram:idle");
	STEP(7, collect(out, SYSTEMD_LISTEN_MAX, false) == 2);
	/* Adopted: inherited, and named by address as STATUS shows them. */
	snprintf(path, sizeof(path), "%s/u.sock", dir);
	STEP(8, out[0].fd == 3 &&
	    out[0].flags == (LISTEN_F_INHERITED | LISTEN_F_UNIX) &&
	    strcmp(out[0].name, path) == 0);
	/* No ck_assert here: Check's own fds may be the ones replaced. */
	memset(&sin, 0, sizeof(sin));
	STEP(15, getsockname(4, (struct sockaddr *)&sin, &slen) == 0);
	snprintf(name, sizeof(name), "127.0.0.1:%d", ntohs(sin.sin_port));
	STEP(9, out[1].fd == 4 && out[1].flags == LISTEN_F_INHERITED &&
	    strcmp(out[1].name, name) == 0);
	STEP(10, (fcntl(3, F_GETFL) & O_NONBLOCK) &&
	    (fcntl(4, F_GETFL) & O_NONBLOCK));
	STEP(11, (fcntl(3, F_GETFD) & FD_CLOEXEC) &&
	    (fcntl(4, F_GETFD) & FD_CLOEXEC));
	STEP(12, !is_open(5) && !is_open(6) && !is_open(7));
	STEP(13, env_cleared());
	/* Once only: the environment is gone. */
	STEP(14, collect(out, SYSTEMD_LISTEN_MAX, false) == 0);
	_exit(0);
}

/* No LISTEN_FDNAMES (systemd-socket-activate without --fdname). */
static void
collect_unnamed(void)
{
	struct listener	 out[SYSTEMD_LISTEN_MAX];
	int		 fds[2];

	fds[0] = tcp_listener_fd();
	fds[1] = unix_fd("u.sock", SOCK_STREAM, 1);
	STEP(2, place_fds(fds, 2) == 0);
	set_listen_env(getpid(), 2, NULL);
	STEP(3, collect(out, SYSTEMD_LISTEN_MAX, false) == 2);
	STEP(4, out[0].fd == 3 && !(out[0].flags & LISTEN_F_UNIX));
	STEP(5, out[1].fd == 4 && (out[1].flags & LISTEN_F_UNIX));
	STEP(6, env_cleared());
	_exit(0);
}

/* LISTEN_PID of another process: not for us, nothing touched. */
static void
collect_other_pid(void)
{
	struct listener	 out[SYSTEMD_LISTEN_MAX];
	int		 fd;

	fd = unix_fd("u.sock", SOCK_STREAM, 1);
	STEP(1, place_fds(&fd, 1) == 0);
	set_listen_env(getppid(), 1, "iomuxd");
	STEP(2, collect(out, SYSTEMD_LISTEN_MAX, false) == 0);
	STEP(3, is_open(3));
	STEP(4, (fcntl(3, F_GETFL) & O_NONBLOCK) == 0);
	_exit(0);
}

/* More sockets than room: the extra ones are closed, not leaked. */
static void
collect_too_many(void)
{
	struct listener	 out[1];
	int		 fds[2];

	fds[0] = unix_fd("u.sock", SOCK_STREAM, 1);
	fds[1] = tcp_listener_fd();
	STEP(2, place_fds(fds, 2) == 0);
	set_listen_env(getpid(), 2, "iomuxd:iomuxd-tcp");
	STEP(3, collect(out, 1, false) == 1);
	STEP(4, out[0].fd == 3 && (out[0].flags & LISTEN_F_UNIX));
	STEP(5, is_open(3) && !is_open(4));
	_exit(0);
}

/*
 * A TCP socket on 0.0.0.0 without tcp_allow_remote: the start fails with
 * one message naming the socket as its unit does, and no passed fd
 * (before it, itself, after it) is left open.
 */
static void
collect_remote(void)
{
	struct listener	 out[SYSTEMD_LISTEN_MAX];
	char		 want[128];
	int		 fds[3], port;

	fds[0] = unix_fd("u.sock", SOCK_STREAM, 1);
	STEP(1, (fds[1] = tcp_bound("0.0.0.0", 0)) >= 0);
	fds[2] = unix_fd("v.sock", SOCK_STREAM, 1);
	STEP(2, place_fds(fds, 3) == 0);
	set_listen_env(getpid(), 3, "iomuxd:iomuxd-tcp.socket:more");
	port = tcp_port_raw(4);	/* before the fd is closed */
	STEP(3, collect(out, SYSTEMD_LISTEN_MAX, false) == -EPERM);
	snprintf(want, sizeof(want), "socket activation: socket "
	    "\"iomuxd-tcp.socket\" (fd 4) listens on 0.0.0.0:%d, not a "
	    "loopback address: ", port);
	STEP(4, port > 0 && strncmp(collect_err, want, strlen(want)) == 0);
	STEP(5, strstr(collect_err, "set tcp_allow_remote = yes in "
	    "iomuxd.conf, or bind the socket unit to 127.0.0.1") != NULL);
	STEP(6, !is_open(3) && !is_open(4) && !is_open(5));
	STEP(7, env_cleared());
	_exit(0);
}

/* The same with tcp_allow_remote: adopted like any other. */
static void
collect_remote_allowed(void)
{
	struct listener	 out[SYSTEMD_LISTEN_MAX];
	char		 name[64];
	int		 fds[2];

	fds[0] = unix_fd("u.sock", SOCK_STREAM, 1);
	STEP(1, (fds[1] = tcp_bound("0.0.0.0", 0)) >= 0);
	STEP(2, place_fds(fds, 2) == 0);
	set_listen_env(getpid(), 2, "iomuxd:iomuxd-tcp");
	STEP(3, collect(out, SYSTEMD_LISTEN_MAX, true) == 2);
	snprintf(name, sizeof(name), "0.0.0.0:%d", tcp_port_raw(4));
	STEP(4, out[1].fd == 4 && strcmp(out[1].name, name) == 0);
	STEP(5, collect_err[0] == '\0');
	_exit(0);
}

/* Without LISTEN_FDNAMES the fd number is all there is to name. */
static void
collect_remote_unnamed(void)
{
	struct listener	 out[SYSTEMD_LISTEN_MAX];
	int		 fd;

	STEP(1, (fd = tcp_bound("0.0.0.0", 0)) >= 0);
	STEP(2, place_fds(&fd, 1) == 0);
	set_listen_env(getpid(), 1, NULL);
	STEP(3, collect(out, SYSTEMD_LISTEN_MAX, false) == -EPERM);
	STEP(4, strstr(collect_err, "socket fd 3 listens on 0.0.0.0:") !=
	    NULL);
	STEP(5, strstr(collect_err, "unknown") == NULL);
	STEP(6, !is_open(3));
	_exit(0);
}

/* Without libsystemd: 0 fds and LISTEN_* cleared all the same. */
static void
collect_none(void)
{
	struct listener	 out[SYSTEMD_LISTEN_MAX];

	set_listen_env(getpid(), 1, "iomuxd");
	STEP(1, collect(out, SYSTEMD_LISTEN_MAX, false) == 0);
	STEP(2, env_cleared());
	STEP(3, systemd_watchdog_interval_ms() == 0);
	_exit(0);
}

static void
run_forked(void (*fn)(void))
{
	pid_t	 pid;
	int	 r;

	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0)
		fn();
	r = wait_child(pid);
	ck_assert_msg(r == 0, "step %d failed", r);
}

START_TEST(test_systemd_collect)
{
	if (strcmp(systemd_support(), "systemd") != 0) {
		run_forked(collect_none);
		return;
	}
	run_forked(collect_named);
	run_forked(collect_unnamed);
	run_forked(collect_other_pid);
	run_forked(collect_too_many);
	run_forked(collect_remote);
	run_forked(collect_remote_allowed);
	run_forked(collect_remote_unnamed);
}
END_TEST

START_TEST(test_systemd_notify_standalone)
{
	/* Without NOTIFY_SOCKET / WATCHDOG_USEC all of these are no-ops. */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	systemd_notify_ready("ready");
	systemd_notify_status("status");
	systemd_notify_reloading();
	systemd_notify_stopping();
	systemd_notify_watchdog();
	ck_assert_uint_eq(systemd_watchdog_interval_ms(), 0);
	if (strcmp(systemd_support(), "systemd") == 0) {
		setenv("WATCHDOG_USEC", "3000000", 1);
		ck_assert_uint_eq(systemd_watchdog_interval_ms(), 1500);
		/* Still there for the next caller. */
		ck_assert_ptr_nonnull(getenv("WATCHDOG_USEC"));
	}
}
END_TEST

static Suite *
listen_suite(void)
{
	Suite	*s = suite_create("listen");
	TCase	*tc;

	tc = tcase_create("unix");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_path_length);
	tcase_add_test(tc, test_stale_replaced);
	tcase_add_test(tc, test_live_raw);
	tcase_add_test(tc, test_live_locked);
	tcase_add_test(tc, test_not_a_socket);
	tcase_add_test(tc, test_modes);
	tcase_add_test(tc, test_umask_race);
	tcase_add_test(tc, test_parent_created);
	tcase_add_test(tc, test_close_ownership);
	tcase_add_test(tc, test_default_path);
	tcase_add_test(tc, test_lock_pid);
	tcase_add_test(tc, test_locked_gone);
	tcase_add_test(tc, test_check_renew);
	tcase_add_test(tc, test_renew_dir);
	tcase_add_test(tc, test_check_inherited);
	suite_add_tcase(s, tc);

	tc = tcase_create("tcp");
	tcase_add_test(tc, test_tcp_loopback);
	tcase_add_test(tc, test_tcp_remote);
	tcase_add_test(tc, test_tcp_ipv6);
	tcase_add_test(tc, test_tcp_bad);
	tcase_add_test(tc, test_addr_loopback);
	suite_add_tcase(s, tc);

	tc = tcase_create("adopt");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_adopt);
	tcase_add_test(tc, test_adopt_tcp);
	tcase_add_test(tc, test_adopt_tcp_remote);
	tcase_add_test(tc, test_sock_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("systemd");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_systemd_collect);
	tcase_add_test(tc, test_systemd_notify_standalone);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(listen_suite());
}
