/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * log.c: the daemon's logging, after OpenBSD's log.c.
 *
 * Every message goes to stderr as one preformatted line handed to a
 * single write(2), so lines from one process never interleave and a
 * full or non-blocking stderr can never stall the event loop: a line
 * that cannot be written at once is dropped and counted (log_dropped()).
 *
 * Line formats:
 * - journal (stderr is the journal stream, see log_stderr_is_journal()):
 *   "<N>message", N the syslog priority; journald adds time and ident.
 * - plain: "2026-11-26T13:49:51.123Z warning: message" (UTC, ms).
 *   fatal*() lines are err(3)-shaped instead, "iomuxd: message", since
 *   they explain to whoever started the daemon why it did not start.
 * - syslog, after log_syslog(1) (a daemonized iomuxd, stderr is
 *   /dev/null): one RFC 3164 datagram per message to /dev/log, facility
 *   daemon. Not syslog(3): glibc sends on a blocking socket, which would
 *   stall the loop behind a stuck syslogd. Ours is non-blocking and a
 *   datagram that does not fit is dropped and counted like a line.
 *
 * Messages may carry client-supplied text (names, paths), so control
 * characters in the formatted message are replaced by '?': a client
 * must not be able to forge log lines with embedded newlines.
 *
 * Single-threaded by design: the state below is not locked.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	2048	/* whole line, prefix and newline included */

#define SYSLOG_PATH	"/dev/log"

static const char	*log_progname = "iomuxd";
static int		 log_verbose;
static int		 log_journal;
static int		 log_to_syslog;
static int		 log_sock = -1;	/* connected to SYSLOG_PATH */
static uint64_t		 log_ndropped;

static void	log_vline(int, const char *, int, const char *, va_list)
		    __attribute__((format(printf, 4, 0)));
static void	log_emit(int, const char *, int, const char *, va_list)
		    __attribute__((format(printf, 4, 0)));

void
log_init(const char *progname, int verbose)
{
	int	 saved_errno = errno;

	if (progname != NULL && *progname != '\0')
		log_progname = progname;
	log_verbose = verbose;
	log_journal = log_stderr_is_journal();
	errno = saved_errno;
}

/* Connect the non-blocking datagram socket to syslogd; 0 or -1. */
static int
syslog_connect(void)
{
	struct sockaddr_un	 sun;
	int			 fd;

	if (log_sock != -1)
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, SYSLOG_PATH, sizeof(SYSLOG_PATH));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	log_sock = fd;
	return 0;
}

void
log_syslog(int on)
{
	int	 saved_errno = errno;

	log_to_syslog = on;
	if (on)
		(void)syslog_connect();
	else if (log_sock != -1) {
		close(log_sock);
		log_sock = -1;
	}
	errno = saved_errno;
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return log_verbose;
}

uint64_t
log_dropped(void)
{
	return log_ndropped;
}

/* Parse a decimal u64 at s; returns the end, or NULL on junk/overflow. */
static const char *
parse_u64(const char *s, uint64_t *v)
{
	char			*end;
	unsigned long long	 n;

	if (*s < '0' || *s > '9')
		return NULL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0)
		return NULL;
	*v = n;
	return end;
}

int
log_stderr_is_journal(void)
{
	struct stat	 st;
	const char	*e, *p;
	uint64_t	 dev, ino;
	int		 saved_errno = errno, r = 0;

	if ((e = getenv("JOURNAL_STREAM")) == NULL)
		goto out;
	if ((p = parse_u64(e, &dev)) == NULL || *p != ':')
		goto out;
	if ((p = parse_u64(p + 1, &ino)) == NULL || *p != '\0')
		goto out;
	if (fstat(STDERR_FILENO, &st) == -1)
		goto out;
	r = (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
out:
	errno = saved_errno;
	return r;
}

/* Write one whole line with one write(2); count it if it did not fit. */
static void
log_write(const char *line, size_t len)
{
	ssize_t	 n;

	do
		n = write(STDERR_FILENO, line, len);
	while (n == -1 && errno == EINTR);
	if (n == -1 || (size_t)n != len)
		log_ndropped++;
}

/*
 * One datagram to syslogd, never waiting. A restarted syslogd leaves our
 * socket unconnected: reconnect once and retry.
 */
static void
log_send(const char *msg, size_t len)
{
	int	 i;

	for (i = 0; i < 2; i++) {
		if (syslog_connect() == -1)
			break;
		if (send(log_sock, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) ==
		    (ssize_t)len)
			return;
		if (errno != ECONNREFUSED && errno != ENOTCONN)
			break;
		close(log_sock);
		log_sock = -1;
	}
	log_ndropped++;
}

/*
 * Format "prefix message[: strerror(err)]\n" into one buffer and write
 * it. err 0 means no error suffix. Overlong messages are cut and end in
 * "..." so a line is always whole.
 */
static void
log_vline(int pri, const char *level, int err, const char *fmt, va_list ap)
{
	char		 line[LOG_LINE_MAX];
	struct timespec	 ts;
	struct tm	 tm;
	size_t		 off = 0, msg, max = sizeof(line) - 1, i;
	int		 n;

	if (log_to_syslog) {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line), "<%d>", LOG_DAEMON | pri);
		if (n < 0)
			return;
		off = (size_t)n;
		off += strftime(line + off, sizeof(line) - off,
		    "%b %e %H:%M:%S ", &tm);
		n = snprintf(line + off, sizeof(line) - off, "%s[%ld]: ",
		    log_progname, (long)getpid());
	} else if (log_journal)
		n = snprintf(line, sizeof(line), "<%d>", pri);
	else if (level == NULL)
		n = snprintf(line, sizeof(line), "%s: ", log_progname);
	else {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		off = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(line + off, sizeof(line) - off, ".%03ldZ %s: ",
		    ts.tv_nsec / 1000000, level);
	}
	if (n < 0)
		return;
	off += (size_t)n;
	if (off >= max)
		off = max - 1;
	msg = off;

	/* Room is kept for the newline: max = size - 1. */
	n = vsnprintf(line + off, max - off + 1, fmt, ap);
	if (n < 0)
		n = 0;
	off = (size_t)n > max - off ? max : off + (size_t)n;
	if (err != 0 && off < max) {
		n = snprintf(line + off, max - off + 1, ": %s", strerror(err));
		if (n > 0)
			off = (size_t)n > max - off ? max : off + (size_t)n;
	}
	if (off >= max && max - msg > 3)
		memcpy(line + max - 3, "...", 3);
	for (i = msg; i < off; i++) {
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	}
	if (log_to_syslog) {
		log_send(line, off);
		return;
	}
	line[off++] = '\n';
	log_write(line, off);
}

static void
log_emit(int pri, const char *level, int err, const char *fmt, va_list ap)
{
	int	 saved_errno = errno;

	log_vline(pri, level, err, fmt, ap);
	errno = saved_errno;
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 err = errno;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "warning", err, fmt, ap);
	va_end(ap);
}

void
log_warnc(int err, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "warning", err < 0 ? -err : err, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "warning", 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, "info", 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, "debug", 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 err = errno;

	va_start(ap, fmt);
	log_emit(LOG_ERR, NULL, err, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalc(int err, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, NULL, err < 0 ? -err : err, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, NULL, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

int
log_ratelimit_ok(struct log_ratelimit *rl, uint64_t now_ms)
{
	uint32_t	 burst = rl->burst > 0 ? rl->burst : 1;

	/*
	 * A window opens with the first message after the last one closed;
	 * a clock that went backwards also opens a new one.
	 */
	if (rl->count == 0 || now_ms < rl->window_start_ms ||
	    now_ms - rl->window_start_ms >= 1000) {
		rl->window_start_ms = now_ms;
		rl->count = 0;
	}
	if (rl->count >= burst) {
		rl->dropped++;
		return 0;
	}
	rl->count++;
	return 1;
}
