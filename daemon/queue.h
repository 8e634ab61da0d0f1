/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * queue.h: named FIFO queues with blocking pop.
 * The server-facing part; the handlers in cmd-queue.c use the rest.
 */

#ifndef IOMUXD_QUEUE_H
#define IOMUXD_QUEUE_H

struct conn;
struct reply;
struct server;
struct queues;

/* Create the (empty) state, at server start; 0 or -ENOMEM. */
int	queue_new(struct server *, struct queues **);
/* Free everything, at server exit (no waiters are left by then). */
void	queue_free(struct queues *);
/* Append this module's STATUS pairs (queues, queued_items). */
void	queue_status(struct server *, struct reply *);

#endif /* IOMUXD_QUEUE_H */
