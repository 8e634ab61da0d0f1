/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * serve.h: the connection layer's side of the hub's hand-overs. Hub
 * calls never answer anyone: what they hand to a waiter (a lock) is left
 * on a list, and serve_hub() answers it after the call has returned, from
 * the request, release pass or timer that made the call. It also keeps
 * the one timer the hub's deadlines need (lock leases).
 */

#ifndef IOMUXD_SERVE_H
#define IOMUXD_SERVE_H

struct server;

/* Set up the timers (before the hub's modules are used). */
void	serve_init(struct server *);
/*
 * After any hub call that may hand something over (UNLOCK, a client's
 * release, a lease's end): answer every waiter it was handed to, and arm
 * the lease timer for the nearest deadline. Cheap when there is nothing.
 */
void	serve_hub(struct server *);
/* Stop the timers (teardown). */
void	serve_stop(struct server *);

#endif /* IOMUXD_SERVE_H */
