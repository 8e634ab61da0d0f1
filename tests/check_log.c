/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_log.c: unit tests for log.c: the rate limiter, line formats
 * (plain and journal "<N>" prefixes), error suffixes from errno and
 * -errno, sanitising and truncation, the drop counter on a full
 * non-blocking stderr, and fatal*() exit status and format.
 *
 * Tests that redirect fd 2 run in Check's forked child, so they cannot
 * disturb the runner; fatal*() run in a grandchild since they exit. The
 * syslog test needs root: its grandchild mounts a private tmpfs on /dev
 * (in its own mount namespace) to own /dev/log; it is skipped otherwise.
 */

#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check-run.h"
#include "log.h"

static char	capfile[64];
static int	capfd = -1, savedfd = -1;

/* Send fd 2 into a fresh temp file. */
static void
capture_begin(void)
{
	snprintf(capfile, sizeof(capfile), "/tmp/check_log.XXXXXX");
	ck_assert_int_ge(capfd = mkstemp(capfile), 0);
	ck_assert_int_ge(savedfd = dup(STDERR_FILENO), 0);
	ck_assert_int_eq(dup2(capfd, STDERR_FILENO), STDERR_FILENO);
}

/* Restore fd 2 and return what was written to it. */
static void
capture_end(char *buf, size_t len)
{
	ssize_t	 n;

	ck_assert_int_eq(dup2(savedfd, STDERR_FILENO), STDERR_FILENO);
	close(savedfd);
	ck_assert_int_ge(n = pread(capfd, buf, len - 1, 0), 0);
	buf[n] = '\0';
	close(capfd);
	unlink(capfile);
}

/* Point JOURNAL_STREAM at the captured file, or one inode off. */
static void
set_journal_stream(int off)
{
	struct stat	 st;
	char		 v[64];

	ck_assert_int_eq(fstat(capfd, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + (unsigned long long)off);
	ck_assert_int_eq(setenv("JOURNAL_STREAM", v, 1), 0);
}

/* "2026-11-26T13:49:51.123Z " */
static void
assert_timestamp(const char *s)
{
	static const char	 pat[] = "dddd-dd-ddTdd:dd:dd.dddZ ";
	size_t			 i;

	for (i = 0; i < sizeof(pat) - 1; i++) {
		if (pat[i] == 'd')
			ck_assert_msg(s[i] >= '0' && s[i] <= '9',
			    "bad timestamp in '%s'", s);
		else
			ck_assert_msg(s[i] == pat[i], "bad timestamp in '%s'",
			    s);
	}
}

START_TEST(test_ratelimit_burst_window)
{
	struct log_ratelimit	 rl = { .burst = 3 };

	ck_assert_int_eq(log_ratelimit_ok(&rl, 5000), 1);
	ck_assert_int_eq(log_ratelimit_ok(&rl, 5001), 1);
	ck_assert_int_eq(log_ratelimit_ok(&rl, 5500), 1);
	ck_assert_int_eq(log_ratelimit_ok(&rl, 5600), 0);
	ck_assert_int_eq(log_ratelimit_ok(&rl, 5999), 0);
	ck_assert_uint_eq(rl.dropped, 2);
	/* The window is fixed: it opened at 5000 and closes at 6000. */
	ck_assert_int_eq(log_ratelimit_ok(&rl, 6000), 1);
	ck_assert_int_eq(log_ratelimit_ok(&rl, 6001), 1);
	ck_assert_int_eq(log_ratelimit_ok(&rl, 6002), 1);
	ck_assert_int_eq(log_ratelimit_ok(&rl, 6003), 0);
	ck_assert_uint_eq(rl.dropped, 3);
	/* After a quiet spell the next window starts at the next message. */
	ck_assert_int_eq(log_ratelimit_ok(&rl, 60000), 1);
	ck_assert_uint_eq(rl.window_start_ms, 60000);
	ck_assert_uint_eq(rl.count, 1);
}
END_TEST

START_TEST(test_ratelimit_edges)
{
	struct log_ratelimit	 rl;

	/* Zeroed: a burst of 0 is treated as 1, even at time 0. */
	memset(&rl, 0, sizeof(rl));
	ck_assert_int_eq(log_ratelimit_ok(&rl, 0), 1);
	ck_assert_int_eq(log_ratelimit_ok(&rl, 999), 0);
	ck_assert_int_eq(log_ratelimit_ok(&rl, 1000), 1);
	ck_assert_uint_eq(rl.dropped, 1);

	/* A clock that goes backwards opens a new window, never stalls. */
	memset(&rl, 0, sizeof(rl));
	rl.burst = 1;
	ck_assert_int_eq(log_ratelimit_ok(&rl, 10000), 1);
	ck_assert_int_eq(log_ratelimit_ok(&rl, 10001), 0);
	ck_assert_int_eq(log_ratelimit_ok(&rl, 500), 1);
	ck_assert_int_eq(log_ratelimit_ok(&rl, 501), 0);

	/* A huge burst. */
	memset(&rl, 0, sizeof(rl));
	rl.burst = UINT32_MAX;
	ck_assert_int_eq(log_ratelimit_ok(&rl, UINT64_MAX), 1);
}
END_TEST

START_TEST(test_plain_format)
{
	char	 out[4096], *l2, *l3, *l4, *l5;

	unsetenv("JOURNAL_STREAM");
	capture_begin();
	log_init("iomuxd", 0);
	ck_assert_int_eq(log_stderr_is_journal(), 0);
	log_warnc(-ENOENT, "conn %d uid %d: open %s", 42, 1000, "x");
	log_warnc(EACCES, "positive errno");
	errno = EPIPE;
	log_warn("with errno");
	ck_assert_int_eq(errno, EPIPE);
	log_info("hello %s", "world");
	log_debug("not shown at verbose 0");
	log_setverbose(1);
	ck_assert_int_eq(log_getverbose(), 1);
	errno = EBADF;
	log_debug("shown");
	ck_assert_int_eq(errno, EBADF);
	log_warnx("no suffix");
	capture_end(out, sizeof(out));

	assert_timestamp(out);
	ck_assert_ptr_nonnull(l2 = strchr(out, '\n'));
	*l2++ = '\0';
	ck_assert_str_eq(out + 25, "warning: conn 42 uid 1000: open x: "
	    "No such file or directory");
	ck_assert_ptr_nonnull(l3 = strchr(l2, '\n'));
	*l3++ = '\0';
	assert_timestamp(l2);
	ck_assert_str_eq(l2 + 25, "warning: positive errno: "
	    "Permission denied");
	ck_assert_ptr_nonnull(l4 = strchr(l3, '\n'));
	*l4++ = '\0';
	ck_assert_str_eq(l3 + 25, "warning: with errno: Broken pipe");
	ck_assert_ptr_nonnull(l5 = strchr(l4, '\n'));
	*l5++ = '\0';
	ck_assert_str_eq(l4 + 25, "info: hello world");
	ck_assert_ptr_null(strstr(l5, "not shown"));
	ck_assert_ptr_nonnull(strstr(l5, " debug: shown\n"));
	ck_assert_ptr_nonnull(strstr(l5, " warning: no suffix\n"));
	ck_assert_ptr_null(strstr(out, "iomuxd:"));
}
END_TEST

START_TEST(test_journal_prefix)
{
	char	 out[4096];

	capture_begin();
	set_journal_stream(0);
	log_init("iomuxd", 1);
	ck_assert_int_eq(log_stderr_is_journal(), 1);
	log_warnc(-EPERM, "conn 7: denied");
	log_warnx("plain warning");
	log_info("info line");
	log_debug("debug line");
	capture_end(out, sizeof(out));
	ck_assert_str_eq(out,
	    "<4>conn 7: denied: Operation not permitted\n"
	    "<4>plain warning\n"
	    "<6>info line\n"
	    "<7>debug line\n");
}
END_TEST

START_TEST(test_journal_mismatch)
{
	char	 out[4096];

	/* Another inode: stderr is not the journal, whatever the env says. */
	capture_begin();
	set_journal_stream(1);
	log_init("iomuxd", 0);
	ck_assert_int_eq(log_stderr_is_journal(), 0);
	log_warnx("x");
	capture_end(out, sizeof(out));
	assert_timestamp(out);

	/* Malformed values. */
	setenv("JOURNAL_STREAM", "", 1);
	ck_assert_int_eq(log_stderr_is_journal(), 0);
	setenv("JOURNAL_STREAM", "12", 1);
	ck_assert_int_eq(log_stderr_is_journal(), 0);
	setenv("JOURNAL_STREAM", "12:", 1);
	ck_assert_int_eq(log_stderr_is_journal(), 0);
	setenv("JOURNAL_STREAM", "-1:-1", 1);
	ck_assert_int_eq(log_stderr_is_journal(), 0);
	setenv("JOURNAL_STREAM", "1:2:3", 1);
	ck_assert_int_eq(log_stderr_is_journal(), 0);
	setenv("JOURNAL_STREAM", "99999999999999999999999:1", 1);
	ck_assert_int_eq(log_stderr_is_journal(), 0);
}
END_TEST

START_TEST(test_sanitize_truncate)
{
	char	 out[8192], big[5000];
	size_t	 len;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	capture_begin();
	set_journal_stream(0);
	log_init("iomuxd", 0);
	log_warnx("name '%s'", "evil\n<0>forged\x1b[31m\x7f");
	log_warnx("%s", big);
	log_warnc(ENOENT, "%s", big);
	capture_end(out, sizeof(out));

	ck_assert_ptr_nonnull(strstr(out,
	    "<4>name 'evil?<0>forged?[31m?'\n<4>xxx"));
	/* Long lines end whole, cut with "...", at most 2048 bytes. */
	len = strlen(out);
	ck_assert_int_eq(out[len - 1], '\n');
	ck_assert_mem_eq(out + len - 4, "...\n", 4);
	len = (size_t)(strchr(strstr(out, "<4>xxx"), '\n') -
	    strstr(out, "<4>xxx")) + 1;
	ck_assert_uint_eq(len, 2048);
}
END_TEST

START_TEST(test_dropped)
{
	int	 p[2], saved;
	char	 chunk[4096], drain[65536];
	uint64_t before;

	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	ck_assert_int_ge(saved = dup(STDERR_FILENO), 0);
	ck_assert_int_eq(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	unsetenv("JOURNAL_STREAM");
	log_init("iomuxd", 0);

	/* Fill the pipe until it refuses more. */
	memset(chunk, 'f', sizeof(chunk));
	while (write(p[1], chunk, sizeof(chunk)) > 0)
		;
	ck_assert_int_eq(errno, EAGAIN);
	before = log_dropped();
	log_warnx("this one is lost");
	log_info("and this one");
	ck_assert_uint_eq(log_dropped(), before + 2);

	/* Room again: nothing more is lost. */
	while (read(p[0], drain, sizeof(drain)) > 0)
		;
	log_warnx("this one fits");
	ck_assert_uint_eq(log_dropped(), before + 2);
	ck_assert_int_gt(read(p[0], drain, sizeof(drain)), 0);

	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* Run fn in a child with stderr captured; return its exit status. */
static int
run_fatal(void (*fn)(void), int journal, char *out, size_t len)
{
	pid_t	 pid;
	int	 status;

	capture_begin();
	if (journal)
		set_journal_stream(0);
	else
		unsetenv("JOURNAL_STREAM");
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		log_init("iomuxd", 0);
		fn();
		_exit(99);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	capture_end(out, len);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
do_fatalx(void)
{
	fatalx("already running at %s", "/tmp/x/sock");
}

static void
do_fatalc(void)
{
	fatalc(-EACCES, "cannot open %s", "/etc/x");
}

static void
do_fatal(void)
{
	errno = ENOENT;
	fatal("cannot read config");
}

START_TEST(test_fatal)
{
	char	 out[1024];

	ck_assert_int_eq(run_fatal(do_fatalx, 0, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "iomuxd: already running at /tmp/x/sock\n");
	ck_assert_int_eq(run_fatal(do_fatalc, 0, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "iomuxd: cannot open /etc/x: "
	    "Permission denied\n");
	ck_assert_int_eq(run_fatal(do_fatal, 0, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "iomuxd: cannot read config: "
	    "No such file or directory\n");
	ck_assert_int_eq(run_fatal(do_fatalx, 1, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "<3>already running at /tmp/x/sock\n");
}
END_TEST

#define STEP(n, cond)	do { if (!(cond)) _exit(n); } while (0)

static void
syslog_child(void)
{
	struct sockaddr_un	 sun;
	char			 buf[4096], want[64];
	uint64_t		 before;
	ssize_t			 n;
	size_t			 wlen;
	int			 fd, i;

	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755") == -1)
		_exit(77);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, "/dev/log");
	STEP(1, (fd = socket(AF_UNIX, SOCK_DGRAM, 0)) >= 0);
	STEP(2, bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);

	log_init("iomuxd", 0);
	log_syslog(1);
	log_warnx("hello %s\n", "syslog");
	STEP(3, (n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0);
	buf[n] = '\0';
	/* <daemon.warning>Mmm dd hh:mm:ss iomuxd[pid]: message, no \n */
	STEP(4, strncmp(buf, "<28>", 4) == 0);
	snprintf(want, sizeof(want), " iomuxd[%ld]: hello syslog?",
	    (long)getpid());
	wlen = strlen(want);
	STEP(5, (size_t)n > wlen && strcmp(buf + n - wlen, want) == 0);
	STEP(6, buf[19] == ' ' && buf[7] == ' ');
	log_info("i");
	STEP(7, recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0 &&
	    strncmp(buf, "<30>", 4) == 0);

	/* Nobody reading: messages are dropped, the caller never waits. */
	before = log_dropped();
	for (i = 0; i < 5000; i++)
		log_info("flood %d", i);
	STEP(8, log_dropped() > before);

	/* syslogd gone: dropped and counted, then back to stderr. */
	close(fd);
	unlink("/dev/log");
	before = log_dropped();
	log_warnx("lost");
	STEP(9, log_dropped() == before + 1);
	log_syslog(0);
	_exit(0);
}

START_TEST(test_syslog)
{
	pid_t	 pid;
	int	 status;

	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0)
		syslog_child();
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		fprintf(stderr, "# cannot mount a private /dev, skipping\n");
		return;
	}
	ck_assert_msg(WEXITSTATUS(status) == 0, "step %d failed",
	    WEXITSTATUS(status));
}
END_TEST

static Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc;

	tc = tcase_create("ratelimit");
	tcase_add_test(tc, test_ratelimit_burst_window);
	tcase_add_test(tc, test_ratelimit_edges);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, test_plain_format);
	tcase_add_test(tc, test_journal_prefix);
	tcase_add_test(tc, test_journal_mismatch);
	tcase_add_test(tc, test_sanitize_truncate);
	suite_add_tcase(s, tc);

	tc = tcase_create("nonblocking");
	tcase_add_test(tc, test_dropped);
	suite_add_tcase(s, tc);

	tc = tcase_create("syslog");
	tcase_add_test(tc, test_syslog);
	suite_add_tcase(s, tc);

	tc = tcase_create("fatal");
	tcase_add_test(tc, test_fatal);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(log_suite());
}
