/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * server.h: the daemon's top-level state: configuration, the loop, the
 * listeners, the list of connections, counters, and the shared scratch
 * buffers that keep the request path free of per-request allocation.
 */

#ifndef IOMUXD_SERVER_H
#define IOMUXD_SERVER_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "access.h"
#include "buf.h"
#include "conf.h"
#include "dispatch.h"
#include "ev.h"
#include "htab.h"
#include "hub.h"
#include "listen.h"
#include "log.h"
#include "systemd.h"
#include "token.h"

#define SERVER_LISTEN_MAX	(1 + CONF_TCP_MAX + SYSTEMD_LISTEN_MAX)
#define SERVER_FD_RESERVE	32	/* fds kept for listeners, logs, STATUS */
#define SERVER_CLIENTS_CAP	10000	/* default ceiling for max_clients */
#define SERVER_RBUF_SIZE	(64u << 10)
/* Client memory given back to the allocator's free lists that makes us
 * ask it to return pages to the kernel (malloc_trim). */
#define SERVER_TRIM_BYTES	(32u << 20)
#define SERVER_TRIM_DELAY_MS	100
/* Scratch kept between turns; a larger one is given back after a spike. */
#define SERVER_SCRATCH_KEEP	(256u << 10)
/* How often the socket file we made is checked, and a lost one retried. */
#define SERVER_SOCK_CHECK_MS	2000
/* A socket we cannot re-create is logged again this often while lost. */
#define SERVER_SOCK_NAG_MS	60000


struct server_stats {
	uint64_t	clients_accepted;
	uint64_t	clients_refused;	/* max_clients, fd limits */
	uint64_t	clients_timed_out;	/* frame or idle deadline */
	uint64_t	clients_dropped;	/* output limits */
	uint64_t	requests;
	/* Per opcode, [op >> 8][op & 0xff]; STATUS requests.<name>. */
	uint64_t	requests_op[DISPATCH_RANGES][DISPATCH_RANGE_OPS];
	uint64_t	requests_unknown;
	uint64_t	subscribers_dropped;	/* output limit while subscribed */
	uint64_t	publishes_sliced;	/* fan-outs over more than a turn */
	uint64_t	publish_slices;		/* the turns they took, but first */
	uint64_t	errors_proto;		/* closed for bad frames */
	uint64_t	bytes_in;
	uint64_t	bytes_out;
	uint64_t	accept_paused;		/* times fd exhaustion paused accept */
	uint64_t	clients_evicted;	/* client_memory_max reached */
	uint64_t	clients_refused_uid;	/* max_clients_per_uid */
	uint64_t	clients_evicted_uid;	/* client_memory_max_per_uid */
	uint64_t	sockets_recreated;	/* our socket file was lost */
	uint64_t	requests_denied;	/* by the access rules */
	uint64_t	auth_failures;		/* HELLO with a wrong token */
};

struct conn;
struct kv;
struct queues;
struct pubsub;
struct locks;

/* The pseudo-user of every TCP client (no peer credentials), "tcp". */
#define SERVER_UID_TCP	((uid_t)-1)

/*
 * A uid with live connections (TCP clients together are one, uid
 * SERVER_UID_TCP), for the per-uid quotas: how many it has, what they
 * hold, and which they are. In srv->users by uid; made by its first
 * connection (conn_new), freed with its last (server_conn_closed), so
 * there is at most one per uid that has a connection.
 */
struct server_user {
	struct htab_entry	 entry;		/* key: uid */
	uid_t			 uid;
	uint32_t		 nconns;	/* not yet released, as nclients */
	/*
	 * Its live connections' accounts roll up here, and this into the
	 * server's client_mem: client_memory_max_per_uid is checked on it.
	 */
	struct buf_acct		 mem;
	struct conn		*conns;		/* by conn.unext, newest first */
	/* Its denials' log lines: one user's flood hides no one else's. */
	struct log_ratelimit	 rl_denied;
};

struct server {
	struct conf		 conf;
	struct ev_loop		*loop;
	/* The rules new connections get (each keeps a reference). */
	struct policy		*policy;
	struct token		 token;		/* set with a TCP listener */

	struct listener		 listeners[SERVER_LISTEN_MAX];
	int			 nlisteners;
	bool			 activated;	/* any listener from systemd */
	bool			 accept_paused;
	struct ev_timer		 accept_timer;	/* resumes accepting */
	int			 reserve_fd;	/* /dev/null, for EMFILE */
	/*
	 * Is the socket file we created still at its path? Checked by a
	 * timer, never on the request path, and never under activation.
	 * sock_failures counts the attempts to re-create it since it was
	 * lost (0: not lost); sock_nag_ms is when that was last logged.
	 */
	struct ev_timer		 sock_timer;
	uint32_t		 sock_failures;
	uint64_t		 sock_nag_ms;

	struct conn		*conns;		/* doubly linked, newest first */
	/*
	 * Every live connection's memory: its struct, buffers, waiter,
	 * hand-offs and subscriptions (each conn's own account rolls up
	 * here; a dead one's is taken out at once).
	 */
	struct buf_acct		 client_mem;
	uint64_t		 client_mem_mark;	/* peak since a trim */
	/* struct server_user by uid; empty (no buckets) with no client. */
	struct htab		 users;
	/*
	 * The connection whose requests are running (CONN_F_BUSY), or
	 * NULL. Within its request, what it holds (the request's own frame,
	 * often the largest thing in the sum) is left out of the limit's
	 * check: it is given back when the request ends, and the check at
	 * the end of its turn counts it.
	 */
	struct conn		*busy;
	struct ev_timer		 trim_timer;
	int			 nclients;
	int			 max_clients;
	uint64_t		 next_conn_id;

	/*
	 * Shared by all connections, used only within one connection's
	 * turn: input is read here first and only a leftover partial frame
	 * is copied into the connection; replies are encoded into scratch
	 * and written straight from it, and only what the socket did not
	 * take is copied into the connection's output buffer. Scratch holds
	 * one connection's output, so it has that connection's limit
	 * (output_limit), and it is freed after a turn that grew it past
	 * SERVER_SCRATCH_KEEP.
	 */
	uint8_t			*rbuf;
	struct buf		 scratch;
	struct conn		*current;	/* whose replies scratch holds */

	int			 sigfd;
	bool			 stopping;
	struct ev_timer		 shutdown_timer;
	struct ev_timer		 watchdog_timer;
	uint64_t		 watchdog_ms;

	uint64_t		 start_ms;	/* ev_now() at start */
	struct server_stats	 stats;

	/* The hub's data; each module owns its part (kv.c, queue.c, ...). */
	struct hub_limits	 limits;	/* from conf, at start and reload */
	struct kv		*kv;
	struct queues		*queues;
	struct pubsub		*pubsub;
	struct locks		*locks;
	struct hub_data		 data;	/* keys, values, items, names */
	/* The hub's clocks and the timers they arm (serve.c). */
	struct hub_clock	 kv_clock, lock_clock;
	struct ev_timer		 kv_timer, lease_timer;
};

/*
 * Account n more bytes of stored data: 0, or -ENOMEM if that would pass
 * max_memory (0: no limit), in which case nothing is accounted and the
 * caller must not store. Release with server_mem_release().
 */
static inline int
server_mem_reserve(struct server *srv, uint64_t n)
{
	return hub_data_reserve(&srv->data, n);
}

static inline void
server_mem_release(struct server *srv, uint64_t n)
{
	hub_data_release(&srv->data, n);
}

void	server_client_mem_over(struct server *, struct server_user *);
/* Client memory as the limit sees it now (less the busy connection's). */
uint64_t	server_client_mem_used(const struct server *);

/* max_clients_per_uid as it runs: 0 for none, else at least 1. */
int	server_max_clients_per_uid(const struct server *);
/* client_memory_max_per_uid as it runs; 0 for none. */
static inline uint64_t
server_client_mem_max_per_uid(const struct server *srv)
{
	if (srv->conf.client_memory_max_per_uid != CONF_AUTO_SIZE)
		return srv->conf.client_memory_max_per_uid;
	return srv->conf.client_memory_max / 2;
}
/*
 * May u (NULL: none) be over its client_memory_max_per_uid? Cheap: its
 * whole account, the busy connection's share included, against the
 * limit; server_client_mem_over() then looks closer. Root is exempt.
 */
static inline bool
server_user_mem_maybe_over(const struct server *srv,
    const struct server_user *u)
{
	uint64_t	max;

	if (u == NULL || u->uid == 0)
		return false;
	max = server_client_mem_max_per_uid(srv);
	return max != 0 && u->mem.bytes > max;
}

/* Has client memory dropped enough since its peak to give pages back? */
static inline bool
server_trim_due(const struct server *srv)
{
	return srv->client_mem_mark - srv->client_mem.bytes >
	    SERVER_TRIM_BYTES && !ev_timer_active(&srv->trim_timer);
}
/*
 * After client memory may have changed (a turn, a free, output queued
 * for a connection): past client_memory_max_per_uid for u, the uid whose
 * connection grew (NULL: none grew), drop that uid's connections using
 * the most until it is under; past client_memory_max, drop the
 * connections using the most of all until under it; after a large drop,
 * have pages given back to the kernel shortly (once the dead connections
 * of this turn are freed). Cheap when none of these.
 */
static inline void
server_client_mem_check(struct server *srv, struct server_user *u)
{
	uint64_t	used = server_client_mem_used(srv);

	if (used > srv->client_mem_mark)
		srv->client_mem_mark = used;
	if (server_trim_due(srv) || (srv->conf.client_memory_max != 0 &&
	    used > srv->conf.client_memory_max) ||
	    server_user_mem_maybe_over(srv, u))
		server_client_mem_over(srv, u);
}

/*
 * Set up the server from a complete configuration: create the loop, adopt
 * inherited listeners (sd) or create our own, block and route signals.
 * Returns 0, or -errno with a sentence in errbuf. On failure everything
 * created so far is released. Positive: LISTEN_E_RUNNING (another daemon
 * answers at the socket path) or LISTEN_E_LOCKED (another holds its lock
 * file, but nothing answers there).
 */
int	server_init(struct server *, const struct conf *, char *errbuf,
	    size_t errlen);
/*
 * In a child after fork(2) (daemonizing): take over signal delivery, and
 * put the child's pid in the socket's lock file.
 */
int	server_after_fork(struct server *);
/* Run until stopped by a signal; 0 on a clean stop, -errno otherwise. */
int	server_run(struct server *);
/* Release everything; removes socket files we created. */
void	server_free(struct server *);

/* Begin a graceful stop (as SIGTERM does). */
void	server_stop(struct server *);
/*
 * Apply a reloaded configuration (conf_load()ed in full): the keys that
 * can change at run time at once, for connected clients too, and one
 * warning naming those that wait for the next start (conf_apply()).
 */
void	server_reconfigure(struct server *, const struct conf *);

/* Hook for main.c: called on SIGHUP; returns 0 or -errno. */
extern int	(*server_reload_hook)(struct server *);

/* Connection bookkeeping for conn.c. */
void	server_conn_closed(struct server *, struct conn *);
/*
 * Count a new connection (c->uid set; SERVER_UID_TCP over TCP) with its
 * uid, and put its account (c->hc.mem, holding nothing yet) under the
 * uid's. 0 or -ENOMEM. Undone by server_conn_closed(), or by
 * server_user_leave() if the connection is never made.
 */
int	server_user_join(struct server *, struct conn *);
void	server_user_leave(struct server *, struct conn *);

#endif /* IOMUXD_SERVER_H */
