/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * kv.h: the key-value store.
 * The server-facing part; the handlers in cmd-kv.c use the rest.
 */

#ifndef IOMUXD_KV_H
#define IOMUXD_KV_H

struct conn;
struct reply;
struct server;
struct kv;

/* Create the (empty) state, at server start; 0 or -ENOMEM. */
int	kv_new(struct server *, struct kv **);
/* Free everything, at server exit (no waiters are left by then). */
void	kv_free(struct kv *);
/* Append this module's STATUS pairs ( values with expiry and waiters (WAIT):keys, keys_expiring). */
void	kv_status(struct server *, struct reply *);

#endif /* IOMUXD_KV_H */
