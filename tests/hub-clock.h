/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * hub-clock.h: the clock the hub's unit tests own (check_kv, check_lock):
 * now_v is the time, which a test moves itself, and armed what the module
 * last asked to be reaped at. Included once per test program.
 */

#ifndef IOMUXD_HUB_CLOCK_H
#define IOMUXD_HUB_CLOCK_H

#include <stdint.h>

#include "hub.h"

static uint64_t	now_v;		/* the clock, ms */
static uint64_t	armed;		/* what the module asked for */

static uint64_t
clock_now(void *arg)
{
	return now_v;
}

static int
clock_arm(void *arg, uint64_t when)
{
	armed = when;
	return 0;
}

static const struct hub_clock	clk = { clock_now, clock_arm, NULL };

#endif /* IOMUXD_HUB_CLOCK_H */
