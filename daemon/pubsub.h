/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * pubsub.h: channels and prefix patterns, deliveries as PUSH frames.
 * The server-facing part; the handlers in cmd-pubsub.c use the rest.
 */

#ifndef IOMUXD_PUBSUB_H
#define IOMUXD_PUBSUB_H

struct conn;
struct reply;
struct server;
struct pubsub;

/* Create the (empty) state, at server start; 0 or -ENOMEM. */
int	pubsub_new(struct server *, struct pubsub **);
/* Free everything, at server exit (no waiters are left by then). */
void	pubsub_free(struct pubsub *);
/* Append this module's STATUS pairs (channels, patterns, subscribers). */
void	pubsub_status(struct server *, struct reply *);
/* A connection is closing: drop all its subscriptions. */
void	pubsub_conn_closed(struct server *, struct conn *);

#endif /* IOMUXD_PUBSUB_H */
