/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * log.h: the daemon's small logging API, after OpenBSD's log.c.
 *
 * Messages are lowercase with no trailing period. Destination: stderr,
 * with sd-daemon "<N>" priority prefixes when stderr is the journal
 * (JOURNAL_STREAM matches stderr's dev:ino), plain otherwise. stderr is
 * non-blocking-safe: a message that cannot be written at once is dropped
 * and counted, never allowed to block the loop.
 */

#ifndef IOMUXD_LOG_H
#define IOMUXD_LOG_H

#include <stdint.h>

void	log_init(const char *progname, int verbose);
/* Send messages to syslog(3) instead of stderr (after daemonizing). */
void	log_syslog(int on);
void	log_setverbose(int);
int	log_getverbose(void);
uint64_t	log_dropped(void);	/* messages lost to a full stderr */
/*
 * 1 if stderr is the journal: JOURNAL_STREAM ("dev:ino") matches fstat(2)
 * of fd 2. log_init() evaluates it once; call log_init() again after
 * redirecting stderr (daemonizing). Needs no libsystemd.
 */
int	log_stderr_is_journal(void);

void	log_warn(const char *, ...)	/* appends ": strerror(errno)" */
	    __attribute__((format(printf, 1, 2)));
void	log_warnc(int err, const char *, ...)	/* err: errno or -errno */
	    __attribute__((format(printf, 2, 3)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Startup and invariant failures only; never for client input. */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalc(int err, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Per-source rate limit for client-triggered warnings: returns 1 if a
 * message may be logged now (at most 'burst' per second per limiter),
 * counting the suppressed ones in ->dropped. The window is fixed: it
 * starts at the first message and lasts 1000 ms. A zeroed limiter is
 * valid; burst 0 is treated as 1.
 */
struct log_ratelimit {
	uint64_t	window_start_ms;
	uint32_t	count;
	uint32_t	burst;
	uint64_t	dropped;
};
int	log_ratelimit_ok(struct log_ratelimit *, uint64_t now_ms);

#endif /* IOMUXD_LOG_H */
