/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * lock.h: named locks that die with their holder.
 * The server-facing part; the handlers in cmd-lock.c use the rest.
 */

#ifndef IOMUXD_LOCK_H
#define IOMUXD_LOCK_H

struct conn;
struct reply;
struct server;
struct locks;

/* Create the (empty) state, at server start; 0 or -ENOMEM. */
int	lock_new(struct server *, struct locks **);
/* Free everything, at server exit (no waiters are left by then). */
void	lock_free(struct locks *);
/* Append this module's STATUS pairs (locks_held, lock_waiters). */
void	lock_status(struct server *, struct reply *);
/* A connection is closing: release every lock it holds, handing each to
 * its next live waiter at once. */
void	lock_conn_closed(struct server *, struct conn *);

#endif /* IOMUXD_LOCK_H */
