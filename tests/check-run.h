/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check-run.h: the one way the Check programs run their suite: every case
 * forked (a crash fails that case only), output as CK_ENV and the Makefile
 * say (TAP), exit status 1 if anything failed.
 */

#ifndef IOMUXD_CHECK_RUN_H
#define IOMUXD_CHECK_RUN_H

#include <check.h>

static inline int
check_run(Suite *s)
{
	SRunner	*sr = srunner_create(s);
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

#endif /* IOMUXD_CHECK_RUN_H */
