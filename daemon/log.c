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
 * Two line formats:
 * - journal (stderr is the journal stream, see log_stderr_is_journal()):
 *   "<N>message", N the syslog priority; journald adds time and ident.
 * - plain: "2026-11-26T13:49:51.123Z warning: message" (UTC, ms).
 *   fatal*() lines are err(3)-shaped instead, "iomuxd: message", since
 *   they explain to whoever started the daemon why it did not start.
 *
 * Messages may carry client-supplied text (names, paths), so control
 * characters in the formatted message are replaced by '?': a client
 * must not be able to forge log lines with embedded newlines.
 *
 * Single-threaded by design: the state below is not locked.
 */

#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	2048	/* whole line, prefix and newline included */

/* syslog(3) priorities, as sd-daemon(3) prefixes expect them. */
#define PRI_ERR		3
#define PRI_WARNING	4
#define PRI_INFO	6
#define PRI_DEBUG	7

static const char	*log_progname = "iomuxd";
static int		 log_verbose;
static int		 log_journal;
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

	if (log_journal)
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
	log_emit(PRI_WARNING, "warning", err, fmt, ap);
	va_end(ap);
}

void
log_warnc(int err, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(PRI_WARNING, "warning", err < 0 ? -err : err, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(PRI_WARNING, "warning", 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(PRI_INFO, "info", 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	log_emit(PRI_DEBUG, "debug", 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 err = errno;

	va_start(ap, fmt);
	log_emit(PRI_ERR, NULL, err, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalc(int err, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(PRI_ERR, NULL, err < 0 ? -err : err, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_emit(PRI_ERR, NULL, 0, fmt, ap);
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
