/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * integ-util.h: what the Check suites that drive a real iomuxd
 * (check_integ, check_hub) share on top of testutil.h: assertions that
 * kill the test's daemons before failing, daemon start and stop that
 * assert a clean life cycle, a libiomux connection, and the per-backend
 * suite and main().
 *
 * Unlike testutil.h, these helpers do not return errors: they fail the
 * running test (Check's ck_abort_msg) after tu_kill_all().
 */

#ifndef IOMUXD_INTEG_UTIL_H
#define IOMUXD_INTEG_UTIL_H

#include <check.h>

#include "iomux.h"
#include "testutil.h"

#define IO_MS		5000	/* bound for a reply that must come */

/*
 * A failed assertion ends the forked test with _exit(): first kill the
 * daemons it started and show their logs.
 */
#define ASSERT(cond, ...) do {						\
	if (!(cond)) {							\
		tu_kill_all();						\
		ck_abort_msg(__VA_ARGS__);				\
	}								\
} while (0)

/*
 * The backends to test, from $IOMUXD_BACKENDS (default "epoll poll
 * select"), set by integ_main() before the suite is built. Each test
 * added with LOOP() runs once per backend; inside it, BACKEND names the
 * one of this run.
 */
extern const char	*integ_backends[];
extern int		 integ_nbackends;

#define BACKEND		(integ_backends[_i])
#define LOOP(tc, fn)	tcase_add_loop_test((tc), (fn), 0, integ_nbackends)

/* A TCase named name with a timeout in seconds, added to s. */
TCase	*tcase(Suite *s, const char *name, int timeout);

/*
 * main() of such a suite: skip (TAP "1..0 # SKIP") without $IOMUXD,
 * read the backends, ignore SIGPIPE, put every test's directory under
 * one fresh $TMPDIR removed at the end, and run suite() forked. prog
 * names the program in messages. Returns main's exit status.
 */
int	integ_main(const char *prog, Suite *(*suite)(void));

/*
 * Start iomuxd -b backend with the extra arguments (NULL-terminated) and
 * wait until it accepts. dstart_conf() first writes conf to
 * DIR/iomuxd.conf and passes "-c DIR/iomuxd.conf" before the extra ones.
 */
void	dstart(struct tu_daemon *d, const char *backend, ...);
void	dstart_conf(struct tu_daemon *d, const char *backend,
	    const char *conf, ...);

/* Stop with SIGTERM: must exit 0 and remove its socket. */
void	dstop(struct tu_daemon *d);

/* A libiomux client connected to d's socket. */
struct iomux_client	*lconnect(const struct tu_daemon *d);

/*
 * Raw sockets, frames encoded and parsed by testutil.h's hand-written
 * code. All of these fail the test on error.
 */
/* The daemon is still running (when names the moment in the message). */
void	dalive(struct tu_daemon *d, const char *when);
/* A raw, non-blocking connection to d's socket. */
int	rconnect(const struct tu_daemon *d);
/* Encode one frame by hand and write it all. */
void	rsend(int fd, uint8_t version, uint8_t kind, uint16_t code,
	    uint32_t id, size_t argc, const struct tu_arg *argv);
void	rsend_req(int fd, uint16_t op, uint32_t id, size_t argc,
	    const struct tu_arg *argv);
/* Read one reply frame with this status and id (free with tu_frame_free). */
void	rexpect(int fd, struct tu_frame *f, uint16_t code, uint32_t id);
/* The same for an error reply, which must carry a message; frees it. */
void	rexpect_err(int fd, uint16_t code, uint32_t id);
/* End of stream with no more bytes within ms; what names the case. */
void	rexpect_eof(int fd, int ms, const char *what);
/* The error reply, then the close; fd is closed. */
void	rexpect_refused(int fd, uint16_t code, uint32_t id, const char *what);
/* Write every one of n raw bytes. */
void	rwrite(int fd, const void *buf, size_t n);
/* The 14 bytes of a request header by hand; len is announced as given. */
void	rput_header(uint8_t *p, uint32_t len, uint16_t op, uint32_t id,
	    uint16_t argc);
/*
 * A STATUS field of d as a number, asked over a new connection (which
 * counts in "clients": the value includes it).
 */
long long	dstatus_num(const struct tu_daemon *d, const char *name);
/*
 * Poll STATUS until field name equals want (every 20 ms, at most ms);
 * returns the last value seen.
 */
long long	dwait_status(const struct tu_daemon *d, const char *name,
		    long long want, int ms);

#endif /* IOMUXD_INTEG_UTIL_H */
