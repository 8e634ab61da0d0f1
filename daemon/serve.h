/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * serve.h: the connection layer's side of the hub's hand-overs. Hub
 * calls never answer anyone: what they hand to a waiter (a lock, a key's
 * value, a queue item) is left marked, and serve_hub() answers it after
 * the call has returned, from the request, release pass or timer that
 * made the call. It also gives the hub its clocks, and keeps the timers
 * they arm (key expiry, lock leases).
 */

#ifndef IOMUXD_SERVE_H
#define IOMUXD_SERVE_H

struct server;

/* Set up the timers (before the hub's modules are used). */
void	serve_init(struct server *);
/*
 * After any hub call that may hand something over (SET, INCR, PUSH,
 * UNLOCK, a client's release, a lease's end): answer every waiter it was
 * handed to. Cheap when there is nothing.
 */
void	serve_hub(struct server *);
/*
 * Finish r (begun OK) with the head item of q and hand the item over to
 * r's connection: gone for good once the whole reply is written, back at
 * the head of q if the connection dies first. The caller has checked that
 * the reply fits (conn_reply_fits) and reserved the hand-off
 * (conn_handoff_reserve); q holds an item.
 */
struct queue;
struct reply;
void	serve_item(struct reply *r, struct queue *q);
/* Stop the timers (teardown). */
void	serve_stop(struct server *);

#endif /* IOMUXD_SERVE_H */
