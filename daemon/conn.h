/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * conn.h: one client connection: its socket, input and output buffers,
 * deadlines, and the state machine from accept to deferred close.
 */

#ifndef IOMUXD_CONN_H
#define IOMUXD_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "access.h"
#include "buf.h"
#include "ev.h"
#include "hub.h"

struct server;

/*
 * Something handed over in a reply that must go back where it came from
 * if the reply never reaches the socket (a popped queue item): sent() once
 * the kernel has taken every byte of the reply, undo() if the connection
 * dies first (newest first, from its release, which then serves the hub:
 * whoever waits gets what came back, in order). Both are called from the
 * loop, never from inside a request.
 */
struct conn_handoff_ops {
	void	(*sent)(void *obj, void *arg);
	void	(*undo)(void *obj, void *arg);
};

struct conn_handoff {
	const struct conn_handoff_ops	*ops;
	void				*obj, *arg;
	uint64_t			 end;	/* c->sent once it is out */
	size_t				 size;	/* charged to the conn */
};

#define CONN_F_DEAD	0x01	/* closed at the end of this iteration */
#define CONN_F_EOF	0x02	/* peer shut down its write side */
#define CONN_F_CLOSING	0x04	/* answer what is buffered, flush, close */
#define CONN_F_XOFF	0x08	/* not reading: output over the high mark */
#define CONN_F_TCP	0x10	/* came in over TCP (no peer credentials) */
#define CONN_F_BACKLOG	0x20	/* complete frames left after the budget */
#define CONN_F_HUP	0x40	/* peer seen gone by a hand-off: handle it */
#define CONN_F_RELEASED	0x80	/* waits, locks, subscriptions let go */
#define CONN_F_BUSY	0x100	/* its requests are being decoded, run */
#define CONN_F_AUTH	0x200	/* TCP: gave the right token in HELLO */

struct conn {
	struct server	*srv;
	struct conn	*prev, *next;
	uint64_t	 id;		/* never reused, unlike fds */
	/*
	 * Its handle in the hub, and the account of all it holds (rolls up
	 * into the server's client_mem while live).
	 */
	struct hub_client hc;
	int		 fd;
	int		 mask;		/* what the loop watches now */
	unsigned int	 flags;
	uid_t		 uid;		/* (uid_t)-1 over TCP */
	gid_t		 gid;		/* (gid_t)-1 over TCP */
	/* Its uid's quotas (server_user_join), and the uid's other conns. */
	struct server_user *user;
	struct conn	*uprev, *unext;
	pid_t		 pid;		/* 0 over TCP */
	struct conn_access acc;		/* the rules that apply to it */

	struct buf	 in;		/* only a partial frame or leftovers */
	size_t		 in_scan;	/* in: complete frames end here (wait) */
	struct buf	 out;		/* only what the socket did not take */
	uint64_t	 sent;		/* bytes the socket took, ever */
	struct conn_handoff *handoffs;	/* replies not sent yet, oldest first */
	uint32_t	 nhandoffs, handoffs_cap;

	uint64_t	 last_active;	/* ev_now() of the last read */
	uint64_t	 frame_start;	/* first byte of a partial frame, or 0 */
	uint64_t	 out_high_since; /* over the high mark since, or 0 */
	struct ev_timer	 timer;		/* the nearest of the deadlines */
	struct ev_defer	 defer;		/* backlog processing, close */

	/* Hub state, NULL while unused (idle connections stay small). */
	struct waiter	*blocked;	/* the request waiting, block.c */
};

/*
 * Take ownership of an accepted, non-blocking socket and start reading.
 * cred: the peer credentials of a UNIX socket, read once at accept
 * (NULL over TCP). Returns 0, or -errno (-ERANGE: the backend cannot
 * watch an fd this high); on failure the caller still owns and closes fd.
 */
struct ucred;
int	conn_new(struct server *, int fd, const struct ucred *cred,
	    struct conn **out);

/* "conn 7 uid 1000 pid 4242" or "conn 7 tcp", for log lines. */
#define CONN_NAME_MAX	64
void	conn_name(const struct conn *, char *buf, size_t len);

/* Its request was answered: run the requests that waited behind it. */
void	conn_unblocked(struct conn *);

/* Queue an error reply (st, message), then flush and close. */
void	conn_fail(struct conn *, uint16_t st, uint32_t id, const char *msg);

/* Stop reading new data; answer what is buffered, flush, then close. */
void	conn_close_gracefully(struct conn *);
/*
 * Mark dead now (why: a log line, or NULL). Everything that dies with the
 * connection (its wait, locks, subscriptions, slot) is released, and the
 * connection freed, from its deferred callback after the current batch of
 * events: safe to call from anywhere, including another connection's
 * request, and c stays valid until then. Its buffers go at once unless
 * its own turn may still be using them (a fan-out that drops connections
 * one after another must not hold all of their output until it ends).
 */
void	conn_kill(struct conn *, const char *why);
/*
 * Its peer was found gone (a hand-off polled it): handle it as the end of
 * its input from a deferred turn, as if read.
 */
void	conn_hangup(struct conn *);
/* Has the peer closed or shut down its sending side (poll, no read)? */
bool	conn_peer_gone(const struct conn *);

/* The buffer that replies to this connection must be encoded into now. */
struct buf	*conn_reply_buf(struct conn *);
/*
 * Room for one more hand-off: 0 or -ENOMEM. Call it before taking what the
 * reply hands over, so that conn_handoff() cannot fail.
 */
int	conn_handoff_reserve(struct conn *);
/*
 * The reply just encoded for c (all of it in conn_reply_buf) hands obj
 * over: ops->sent(obj, arg) once all of it is written, ops->undo(obj, arg)
 * if the connection dies first. While in flight, obj's size bytes count
 * as the connection's memory. After conn_handoff_reserve().
 */
void	conn_handoff(struct conn *, const struct conn_handoff_ops *, void *obj,
	    void *arg, size_t size);
/*
 * Would a reply carrying one argument of len bytes fit c's output now
 * (its output limit and frame_max)? Checked before an item leaves its
 * queue, so an item is never lost to a reply that cannot be queued.
 */
bool	conn_reply_fits(struct conn *, size_t len);
/* Apply changed limits and timeouts after a reload. */
void	conn_reconfigure(struct conn *);
/* Free at once; only at teardown, when the loop no longer runs. */
void	conn_destroy(struct conn *);

#endif /* IOMUXD_CONN_H */
