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

#endif /* IOMUXD_INTEG_UTIL_H */
