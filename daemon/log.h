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
void	log_setverbose(int);
int	log_getverbose(void);
uint64_t	log_dropped(void);	/* messages lost to a full stderr */

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
 * counting the suppressed ones in ->dropped.
 */
struct log_ratelimit {
	uint64_t	window_start_ms;
	uint32_t	count;
	uint32_t	burst;
	uint64_t	dropped;
};
int	log_ratelimit_ok(struct log_ratelimit *, uint64_t now_ms);

#endif /* IOMUXD_LOG_H */
