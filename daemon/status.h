/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * status.h: the STATUS reply, built from the server's counters.
 */

#ifndef IOMUXD_STATUS_H
#define IOMUXD_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

struct reply;
struct server;

/*
 * Append the STATUS fields as name/value pairs to an OK reply: all of
 * them for an admin (details), else a summary that names no client,
 * listener or limit.
 */
void	status_reply(struct server *, struct reply *, bool details);
/* Resident set size of this process in bytes, or 0 if unknown. */
uint64_t	status_rss(void);
/* A one-line summary for sd_notify STATUS= and logs. */
void	status_line(struct server *, char *buf, size_t len);

#endif /* IOMUXD_STATUS_H */
