/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * server.c: wiring of the daemon around one event loop: listeners and
 * accept, signals, the systemd watchdog, reload and graceful stop.
 *
 * Accepting is bounded per wake-up so a connection storm cannot starve
 * connected clients. A full server still accepts, answers EBUSY and
 * closes, so a refused client learns why instead of hanging in the
 * backlog. When the process runs out of fds, one reserved fd is given up
 * to accept and refuse the pending connection, and accepting pauses
 * briefly: a level-triggered listener left readable would spin the loop.
 *
 * Per-uid quotas (dbus-broker's per-user accounting): every uid with a
 * live connection has one struct server_user in srv->users, a hash table
 * by uid, with its connection count and a memory account between its
 * connections' and the server's. TCP clients have no uid and share the
 * pseudo-user "tcp"; root is exempt from both limits. A connection over
 * max_clients_per_uid is refused at accept as a full server refuses; one
 * uid past client_memory_max_per_uid loses its own biggest connections,
 * nobody else's. Both are O(1) per accept and close; an eviction walks
 * only that uid's connections.
 *
 * Signals arrive through a signalfd watched by the loop; no work happens
 * in signal context.
 *
 * A socket file we created can be removed under us (a cleaner of /tmp or
 * of the runtime directory, an rm -rf, an admin). The listener then
 * serves nobody, and nothing says so. A loop timer (and SIGHUP) lstat()s
 * the path every SERVER_SOCK_CHECK_MS and, if the file we bound is gone,
 * binds a new one there and swaps it in, logging loudly either way. Not
 * for sockets systemd passed: those files are PID 1's.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#ifdef HAVE_MALLOC_H
#include <malloc.h>
#endif
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "conn.h"
#include "kv.h"
#include "lock.h"
#include "serve.h"
#include "log.h"
#include "pubsub.h"
#include "queue.h"
#include "server.h"
#include "status.h"

#define ACCEPT_PAUSE_MS		100

int	(*server_reload_hook)(struct server *);

static struct log_ratelimit	rl_accept = { .burst = 5 };
/* One fan-out can evict hundreds: STATUS clients_evicted counts them all. */
static struct log_ratelimit	rl_evict = { .burst = 5 };

static void	accept_cb(struct ev_loop *, int, int, void *);
static void	sock_check(struct server *);

/* Tell a client we will not serve it, then close it. Not a hot path. */
static void
refuse(struct server *srv, int fd, const char *why)
{
	struct buf		b;
	struct proto_enc	e;

	buf_init(&b, 512);
	proto_enc_begin(&e, &b, IOMUX_FRAME_MAX_DEFAULT, IOMUX_KIND_REPLY,
	    IOMUX_ST_EBUSY, 0);
	proto_enc_str(&e, why);
	if (proto_enc_end(&e) > 0)
		(void)send(fd, buf_data(&b), buf_len(&b),
		    MSG_NOSIGNAL | MSG_DONTWAIT);
	buf_free(&b);
	close(fd);
	srv->stats.clients_refused++;
	if (log_ratelimit_ok(&rl_accept, ev_now(srv->loop)))
		log_warnx("refused a client: %s", why);
}

int
server_max_clients_per_uid(const struct server *srv)
{
	int	n = srv->conf.max_clients_per_uid;

	if (n != CONF_AUTO)
		return n;
	/* A quarter of what runs (size_clients() may have lowered it). */
	n = srv->max_clients / 4;
	return n > 0 ? n : 1;
}

static struct server_user *
user_find(const struct server *srv, uid_t uid)
{
	struct htab_entry	*e;

	if (srv->users.buckets == NULL)
		return NULL;
	e = htab_find(&srv->users, &uid, sizeof(uid));
	return e == NULL ? NULL : container_of(e, struct server_user, entry);
}

/* "uid 1000" or "tcp", for messages. */
static void
user_name(char *buf, size_t len, uid_t uid)
{
	if (uid == SERVER_UID_TCP)
		snprintf(buf, len, "tcp");
	else
		snprintf(buf, len, "uid %ld", (long)uid);
}

int
server_user_join(struct server *srv, struct conn *c)
{
	struct server_user	*u;
	int			 ret;

	if ((u = user_find(srv, c->uid)) == NULL) {
		/* No client, no table: it is made (and freed) on demand. */
		if (srv->users.buckets == NULL &&
		    (ret = htab_init(&srv->users, 8)) < 0)
			return ret;
		if ((u = calloc(1, sizeof(*u))) == NULL) {
			if (srv->users.count == 0)
				htab_free(&srv->users);
			return -ENOMEM;
		}
		u->uid = c->uid;
		u->mem.parent = &srv->client_mem;
		u->entry.key = (const uint8_t *)&u->uid;
		u->entry.klen = sizeof(u->uid);
		htab_insert(&srv->users, &u->entry);
	}
	u->nconns++;
	c->user = u;
	c->uprev = NULL;
	c->unext = u->conns;
	if (u->conns != NULL)
		u->conns->uprev = c;
	u->conns = c;
	buf_acct_reparent(&c->hc.mem, &u->mem);
	return 0;
}

void
server_user_leave(struct server *srv, struct conn *c)
{
	struct server_user	*u = c->user;

	if (u == NULL)
		return;
	/* A live connection's account goes with it (conn_kill did it). */
	if (c->hc.mem.parent == &u->mem)
		buf_acct_reparent(&c->hc.mem, NULL);
	if (c->uprev != NULL)
		c->uprev->unext = c->unext;
	else
		u->conns = c->unext;
	if (c->unext != NULL)
		c->unext->uprev = c->uprev;
	c->user = NULL;
	c->uprev = c->unext = NULL;
	assert(u->nconns > 0);
	if (--u->nconns > 0)
		return;
	assert(u->conns == NULL && u->mem.bytes == 0);
	htab_remove(&srv->users, &u->entry);
	free(u);
	if (srv->users.count == 0)
		htab_free(&srv->users);
}

/*
 * Is a new connection from uid over its max_clients_per_uid? Then the
 * sentence for its refusal is in why. Root is exempt.
 */
static bool
user_full(struct server *srv, uid_t uid, char *why, size_t len)
{
	struct server_user	*u;
	char			 name[32];
	int			 max = server_max_clients_per_uid(srv);

	if (uid == 0 || max == 0 || (u = user_find(srv, uid)) == NULL ||
	    u->nconns < (uint32_t)max)
		return false;
	user_name(name, sizeof(name), uid);
	snprintf(why, len, "%s: %u connections, limit %d", name, u->nconns,
	    max);
	return true;
}

/*
 * The peer credentials of a UNIX socket, read once for the quotas, the
 * rules and the logs. Over TCP, and (never seen) when the kernel has
 * none, uid and gid are -1: the quotas' TCP pseudo-user, and no uid or
 * gid rule matches it.
 */
static void
peer_cred(int fd, bool tcp, struct ucred *cred)
{
	socklen_t	len = sizeof(*cred);

	if (!tcp && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) == 0)
		return;
	cred->uid = SERVER_UID_TCP;
	cred->gid = (gid_t)-1;
	cred->pid = 0;
}

static void
accept_watch(struct server *srv, int mask)
{
	int	i;

	for (i = 0; i < srv->nlisteners; i++)
		if (srv->listeners[i].fd >= 0)
			(void)ev_io_set(srv->loop, srv->listeners[i].fd, mask);
}

static void
accept_resume(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct server	*srv = arg;

	if (!srv->accept_paused || srv->stopping)
		return;
	srv->accept_paused = false;
	accept_watch(srv, EV_READ);
}

/*
 * Out of fds: use the reserve to take one pending connection off the
 * backlog and refuse it, then stop watching the listeners for a moment.
 */
static void
accept_exhausted(struct server *srv, int lfd, int err)
{
	int	fd;

	if (srv->reserve_fd >= 0) {
		close(srv->reserve_fd);
		srv->reserve_fd = -1;
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			refuse(srv, fd, "out of file descriptors");
		srv->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	if (log_ratelimit_ok(&rl_accept, ev_now(srv->loop)))
		log_warnc(err, "accept: pausing for %d ms", ACCEPT_PAUSE_MS);
	srv->stats.accept_paused++;
	srv->accept_paused = true;
	accept_watch(srv, EV_NONE);
	(void)ev_timer_start(srv->loop, &srv->accept_timer, ACCEPT_PAUSE_MS);
}

static void
accept_cb(struct ev_loop *loop, int lfd, int events, void *arg)
{
	struct server	*srv = arg;
	struct conn	*c;
	struct ucred	 cred;
	bool		 tcp = false;
	char		 why[96];
	int		 fd, i, ret, one = 1;

	for (i = 0; i < srv->nlisteners; i++)
		if (srv->listeners[i].fd == lfd)
			tcp = !(srv->listeners[i].flags & LISTEN_F_UNIX);

	for (i = 0; i < srv->conf.accepts_per_wakeup; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			switch (errno) {
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
				continue;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				accept_exhausted(srv, lfd, errno);
				return;
			case EAGAIN:
#if EAGAIN != EWOULDBLOCK
			case EWOULDBLOCK:
#endif
				return;
			default:
				if (log_ratelimit_ok(&rl_accept, ev_now(loop)))
					log_warn("accept");
				return;
			}
		}
		if (srv->nclients >= srv->max_clients) {
			refuse(srv, fd, "too many clients");
			continue;
		}
		peer_cred(fd, tcp, &cred);
		/* One uid must not take every slot from the others. */
		if (user_full(srv, cred.uid, why, sizeof(why))) {
			srv->stats.clients_refused_uid++;
			refuse(srv, fd, why);
			continue;
		}
		if (tcp)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
		if ((ret = conn_new(srv, fd, tcp ? NULL : &cred, &c)) < 0) {
			refuse(srv, fd, ret == -ERANGE || ret == -EBADF ?
			    "too many clients for this backend's fd limit" :
			    "out of memory");
			continue;
		}
		srv->stats.clients_accepted++;
	}
}

/*
 * The live connection using the most memory, or NULL. Not one whose
 * request is running: its buffers are in use, so killing it would free
 * nothing now; the check at the end of its turn may pick it.
 */
static struct conn *
biggest_conn(struct server *srv)
{
	struct conn	*c, *best = NULL;

	for (c = srv->conns; c != NULL; c = c->next)
		if (!(c->flags & (CONN_F_DEAD | CONN_F_BUSY)) &&
		    (best == NULL || c->hc.mem.bytes > best->hc.mem.bytes))
			best = c;
	return best;
}

/* The same among u's connections. */
static struct conn *
biggest_user_conn(struct server_user *u)
{
	struct conn	*c, *best = NULL;

	for (c = u->conns; c != NULL; c = c->unext)
		if (!(c->flags & (CONN_F_DEAD | CONN_F_BUSY)) &&
		    (best == NULL || c->hc.mem.bytes > best->hc.mem.bytes))
			best = c;
	return best;
}

/* u's memory as its limit sees it now (less the busy connection's). */
static uint64_t
user_mem_used(const struct server *srv, const struct server_user *u)
{
	uint64_t	used = u->mem.bytes;
	struct conn	*b = srv->busy;

	if (b != NULL && b->user == u && !(b->flags & CONN_F_DEAD))
		used -= b->hc.mem.bytes;
	return used;
}

uint64_t
server_client_mem_used(const struct server *srv)
{
	uint64_t	used = srv->client_mem.bytes;

	if (srv->busy != NULL && !(srv->busy->flags & CONN_F_DEAD))
		used -= srv->busy->hc.mem.bytes;
	return used;
}

/*
 * Past client_memory_max, as Redis's maxmemory-clients: drop the
 * connection using the most, not whoever asked last, until under the
 * limit. A killed connection's buffers are freed at once (conn_kill), so
 * each kill gives back what it counted. Called at the end of each turn,
 * and by a request that queues output for other connections (a fan-out)
 * after each reply it queues, so that one request cannot take the sum far
 * past the limit before its turn ends. The scan is O(connections), paid
 * only when the limit is reached.
 */
void
server_client_mem_over(struct server *srv, struct server_user *u)
{
	struct conn	*c;
	uint64_t	 max = srv->conf.client_memory_max, umax;
	char		 why[200], name[32];

	/*
	 * First the uid that grew, on its own: its connections only. Each
	 * kill takes the connection's account out of u's at once.
	 */
	umax = server_client_mem_max_per_uid(srv);
	while (server_user_mem_maybe_over(srv, u) &&
	    user_mem_used(srv, u) > umax &&
	    (c = biggest_user_conn(u)) != NULL) {
		user_name(name, sizeof(name), u->uid);
		snprintf(why, sizeof(why), "%s: client_memory_max_per_uid "
		    "(%llu) reached (%llu held): dropping its connection "
		    "using the most (%llu bytes)", name,
		    (unsigned long long)umax,
		    (unsigned long long)u->mem.bytes,
		    (unsigned long long)c->hc.mem.bytes);
		srv->stats.clients_evicted++;
		srv->stats.clients_evicted_uid++;
		srv->stats.clients_dropped++;
		conn_kill(c, log_ratelimit_ok(&rl_evict, ev_now(srv->loop)) ?
		    why : NULL);
	}
	while (max != 0 && server_client_mem_used(srv) > max &&
	    (c = biggest_conn(srv)) != NULL) {
		snprintf(why, sizeof(why), "client_memory_max (%llu) reached "
		    "(%llu in all): dropping the connection using the most "
		    "(%llu bytes)", (unsigned long long)max,
		    (unsigned long long)srv->client_mem.bytes,
		    (unsigned long long)c->hc.mem.bytes);
		srv->stats.clients_evicted++;
		srv->stats.clients_dropped++;
		conn_kill(c, log_ratelimit_ok(&rl_evict, ev_now(srv->loop)) ?
		    why : NULL);
	}
	if (server_trim_due(srv))
		(void)ev_timer_start(srv->loop, &srv->trim_timer,
		    SERVER_TRIM_DELAY_MS);
}

/*
 * Buffers and subscriptions of a spike go back to malloc's free lists,
 * which keep the pages (many small blocks, or a heap top pinned by a live
 * one); after a large drop, hand them to the kernel. Not at once: dead
 * connections are freed at the end of the loop turn that killed them.
 */
static void
trim_cb(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct server	*srv = arg;

#ifdef HAVE_MALLOC_TRIM
	(void)malloc_trim(0);
#endif
	srv->client_mem_mark = srv->client_mem.bytes;
}

/* The hub's limits, from the configuration. */
static void
limits_set(struct server *srv)
{
	srv->limits.key_max = srv->conf.key_max;
	srv->limits.value_max = srv->conf.value_max;
	srv->limits.max_memory = srv->conf.max_memory;
	srv->limits.subscriptions_max = (uint32_t)srv->conf.subscriptions_max;
}

void
server_conn_closed(struct server *srv, struct conn *c)
{
	/* What dies with a connection: its subscriptions and its locks. */
	pubsub_client_gone(srv->pubsub, &c->hc);
	lock_client_gone(srv->locks, &c->hc);
	serve_hub(srv);
	server_user_leave(srv, c);
	srv->nclients--;
	if (srv->accept_paused) {
		/* An fd came free: no need to wait out the pause. */
		ev_timer_stop(srv->loop, &srv->accept_timer);
		accept_resume(srv->loop, &srv->accept_timer, srv);
	}
	if (srv->stopping && srv->nclients == 0)
		ev_stop(srv->loop);
}

void
server_stop(struct server *srv)
{
	struct conn	*c, *next;
	int		 i;

	if (srv->stopping)
		return;
	srv->stopping = true;
	ev_timer_stop(srv->loop, &srv->sock_timer);
	systemd_notify_stopping();
	log_info("stopping: %d client%s to finish", srv->nclients,
	    srv->nclients == 1 ? "" : "s");
	/* fd -1 may still own a lock file (a lost socket not yet renewed). */
	for (i = 0; i < srv->nlisteners; i++) {
		if (srv->listeners[i].fd >= 0)
			ev_io_del(srv->loop, srv->listeners[i].fd);
		listen_close(&srv->listeners[i]);
	}
	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		if (!(c->flags & CONN_F_DEAD))
			conn_close_gracefully(c);
	}
	if (srv->nclients == 0)
		ev_stop(srv->loop);
	else
		(void)ev_timer_start(srv->loop, &srv->shutdown_timer,
		    srv->conf.shutdown_timeout_ms);
}

static void
shutdown_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct server	*srv = arg;
	struct conn	*c, *next;

	log_warnx("stopping: %d client%s did not finish in %lu ms",
	    srv->nclients, srv->nclients == 1 ? "" : "s",
	    (unsigned long)srv->conf.shutdown_timeout_ms);
	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		conn_kill(c, NULL);
	}
	ev_stop(loop);
}

static void
watchdog_cb(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct server	*srv = arg;
	char		 line[160];

	systemd_notify_watchdog();
	status_line(srv, line, sizeof(line));
	systemd_notify_status(line);
	(void)ev_timer_start(loop, t, srv->watchdog_ms);
}

static void
signal_cb(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct server			*srv = arg;
	struct signalfd_siginfo		 si;
	char				 line[160];
	ssize_t				 n;
	int				 ret;

	while ((n = read(fd, &si, sizeof(si))) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			server_stop(srv);
			break;
		case SIGHUP:
			if (srv->stopping || server_reload_hook == NULL)
				break;
			/* An admin's first move when the socket is gone. */
			sock_check(srv);
			systemd_notify_reloading();
			if ((ret = server_reload_hook(srv)) < 0)
				log_warnc(ret, "reload failed; keeping the "
				    "running configuration");
			status_line(srv, line, sizeof(line));
			systemd_notify_ready(line);
			break;
		default:
			break;
		}
	}
}

void
server_reconfigure(struct server *srv, const struct conf *nc)
{
	struct conf	*c = &srv->conf;
	struct conn	*conn;
	struct conf_set	 later;
	struct policy	*pol;
	char		 names[256];
	int		 max_clients = c->max_clients, n;

	/*
	 * New rules are for new connections: each existing one keeps the
	 * rules it was accepted under, and all its state. Built on every
	 * reload, the same text too: the user and group names in it are
	 * looked up again, and may name other ids now.
	 */
	if (access_policy(nc, &pol, names, sizeof(names)) < 0)
		log_warnx("reload: %s; keeping the rules in force", names);
	else {
		policy_unref(srv->policy);
		srv->policy = pol;
	}
	conf_apply(c, nc, &later);
	/*
	 * conf_apply() only lets max_clients fall, but what runs can be
	 * under what was configured: size_clients() fitted it to the fd
	 * limit at start. A new value above what runs waits for the next
	 * start as a raise does, and is named with it.
	 */
	if (c->max_clients > srv->max_clients) {
		if (c->max_clients != max_clients)
			later.mask |= CONF_KEY_BIT(CONF_K_MAX_CLIENTS);
	} else if (c->max_clients > 0)
		srv->max_clients = c->max_clients;
	if ((n = conf_set_names(&later, names, sizeof(names))) > 0)
		log_warnx("reload: %s take%s effect at the next start", names,
		    n == 1 ? "s" : "");

	/* What was made from the live keys follows them. */
	srv->scratch.limit = c->output_limit;
	log_setverbose(c->verbose);
	/* Lowered data limits refuse new writes; nothing stored is dropped. */
	limits_set(srv);
	for (conn = srv->conns; conn != NULL; conn = conn->next)
		conn_reconfigure(conn);
	log_info("reloaded configuration");
}

/*
 * Fit max_clients to the fd limit: raise the soft limit as far as needed
 * (and allowed), keep a reserve for listeners and housekeeping, and size
 * the loop for the fds that can then exist.
 */
static int
size_clients(struct server *srv, int *setsize)
{
	struct rlimit	rl;
	rlim_t		want;
	long		limit;
	int		wanted = srv->conf.max_clients > 0 ?
			    srv->conf.max_clients : SERVER_CLIENTS_CAP;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -errno;
	want = (rlim_t)wanted + SERVER_FD_RESERVE;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	limit = rl.rlim_cur == RLIM_INFINITY ? (long)want :
	    (long)rl.rlim_cur - SERVER_FD_RESERVE;
	if (limit < 1)
		limit = 1;
	if (wanted > limit) {
		if (srv->conf.max_clients > 0)
			log_warnx("max_clients %d lowered to %ld to fit the "
			    "open file limit", wanted, limit);
		wanted = (int)limit;
	}
	srv->max_clients = wanted;
	*setsize = wanted + SERVER_FD_RESERVE + SERVER_LISTEN_MAX + 16;
	return 0;
}

/*
 * "WHAT: PHRASE: CAUSE", or "WHAT: PHRASE" where the phrase already is the
 * cause (a path too long, a live instance, a file that is not a socket).
 */
static void
errtext(char *buf, size_t len, const char *what, const char *phrase, int err)
{
	if (phrase == NULL)
		snprintf(buf, len, "%s: %s", what, strerror(-err));
	else if (err == -ENAMETOOLONG || err == -EEXIST || err == -EPERM ||
	    err == -EINVAL)
		snprintf(buf, len, "%s: %s", what, phrase);
	else
		snprintf(buf, len, "%s: %s: %s", what, phrase, strerror(-err));
}

static int
setup_listeners(struct server *srv, char *errbuf, size_t errlen)
{
	struct listener		*l;
	const char		*errmsg = NULL;
	char			 path[CONF_PATH_MAX];
	int			 n, i, ret;

	/* A passed TCP socket must pass the same address rule as --tcp. */
	n = systemd_listen_collect(&srv->listeners[srv->nlisteners],
	    SYSTEMD_LISTEN_MAX, srv->conf.tcp_allow_remote, errbuf, errlen);
	if (n < 0)
		return n;
	if (n > 0) {
		srv->activated = true;
		srv->nlisteners += n;
		if (srv->conf.socket_path[0] != '\0' || srv->conf.ntcp > 0)
			log_warnx("socket activation: ignoring the configured "
			    "sockets; systemd passed %d", n);
		return 0;
	}

	if (srv->conf.socket_path[0] != '\0')
		snprintf(path, sizeof(path), "%s", srv->conf.socket_path);
	else if ((ret = listen_default_path(path, sizeof(path))) < 0) {
		snprintf(errbuf, errlen, "no default socket path (%s); "
		    "use --socket", ret == -ENOENT ?
		    "XDG_RUNTIME_DIR is not set" : strerror(-ret));
		return ret;
	}
	l = &srv->listeners[srv->nlisteners];
	ret = listen_unix(l, path, srv->conf.socket_mode,
	    geteuid() == 0 ? 0755 : 0700, srv->conf.backlog, &errmsg);
	if (ret == LISTEN_E_RUNNING && l->lock_pid > 0)
		snprintf(errbuf, errlen, "already running at %s (pid %ld)",
		    path, (long)l->lock_pid);
	else if (ret == LISTEN_E_RUNNING)
		snprintf(errbuf, errlen, "already running at %s", path);
	else if (ret == LISTEN_E_LOCKED && l->lock_pid > 0)
		snprintf(errbuf, errlen, "another iomuxd (pid %ld) holds "
		    "%s" LISTEN_LOCK_SUFFIX " but its socket %s %s",
		    (long)l->lock_pid, path, path, errmsg);
	else if (ret == LISTEN_E_LOCKED)
		snprintf(errbuf, errlen, "another process holds "
		    "%s" LISTEN_LOCK_SUFFIX " but its socket %s %s", path,
		    path, errmsg);
	if (ret == LISTEN_E_RUNNING || ret == LISTEN_E_LOCKED)
		return ret;
	if (ret < 0) {
		errtext(errbuf, errlen, path, errmsg, ret);
		return ret;
	}
	srv->nlisteners++;
	for (i = 0; i < srv->conf.ntcp; i++) {
		l = &srv->listeners[srv->nlisteners];
		errmsg = NULL;
		ret = listen_tcp(l, srv->conf.tcp[i],
		    srv->conf.tcp_allow_remote, srv->conf.backlog, &errmsg);
		if (ret < 0) {
			errtext(errbuf, errlen, srv->conf.tcp[i], errmsg, ret);
			return ret;
		}
		srv->nlisteners++;
	}
	return 0;
}

/*
 * Put a new socket where ours was lost; 0 or as listen_unix_renew(). The
 * old fd is dropped unread: no client can reach it any more (connect(2)
 * goes by path), and one that got in before the loss was accepted as it
 * came, since accepting is not paused (sock_check() waits while it is).
 */
static int
sock_renew(struct server *srv, struct listener *l, const char **errmsg)
{
	int	ret;

	if (l->fd != -1)
		ev_io_del(srv->loop, l->fd);
	if ((ret = listen_unix_renew(l, errmsg)) != 0)
		return ret;
	if ((ret = ev_io_add(srv->loop, l->fd, EV_READ, accept_cb,
	    srv)) < 0) {
		/* The file is left stale; the next check replaces it. */
		close(l->fd);
		l->fd = -1;
		*errmsg = "cannot watch the new socket";
		return ret;
	}
	return 0;
}

static void
sock_check(struct server *srv)
{
	struct listener	*l;
	const char	*errmsg;
	char		 why[256];
	uint64_t	 now = ev_now(srv->loop);
	int		 i, ret;

	/* Out of fds a new socket would fail too; wait for the resume. */
	if (srv->activated || srv->stopping || srv->accept_paused)
		return;
	for (i = 0; i < srv->nlisteners; i++) {
		l = &srv->listeners[i];
		/* TCP: nothing on disk. There is one UNIX socket we made. */
		if (!(l->flags & LISTEN_F_CREATED_PATH))
			continue;
		if ((ret = listen_unix_check(l)) == 0) {
			srv->sock_failures = 0;
			continue;
		}
		errmsg = NULL;
		if (ret > 0) {
			if (srv->sock_failures == 0)
				log_warnx("socket %s was removed or replaced; "
				    "re-creating it", l->name);
			if ((ret = sock_renew(srv, l, &errmsg)) == 0) {
				log_warnx("re-created socket %s: new clients "
				    "can connect again", l->name);
				srv->stats.sockets_recreated++;
				srv->sock_failures = 0;
				continue;
			}
		} else
			errmsg = "cannot check the socket path";
		/* Said at once, then again only every SERVER_SOCK_NAG_MS. */
		if (srv->sock_failures++ != 0 &&
		    now - srv->sock_nag_ms < SERVER_SOCK_NAG_MS)
			continue;
		srv->sock_nag_ms = now;
		if (ret == LISTEN_E_RUNNING)
			log_warnx("socket %s: %s; not replacing it "
			    "(checking every %d s)", l->name, errmsg,
			    SERVER_SOCK_CHECK_MS / 1000);
		else {
			errtext(why, sizeof(why), l->name, errmsg, ret);
			log_warnx("cannot re-create socket %s; new clients "
			    "cannot connect (%u attempt%s, retrying every "
			    "%d s)", why, srv->sock_failures,
			    srv->sock_failures == 1 ? "" : "s",
			    SERVER_SOCK_CHECK_MS / 1000);
		}
	}
}

static void
sock_timer_cb(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct server	*srv = arg;

	sock_check(srv);
	if (!srv->stopping)
		(void)ev_timer_start(loop, t, SERVER_SOCK_CHECK_MS);
}

static int
setup_signals(struct server *srv)
{
	struct sigaction	sa;
	sigset_t		set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -errno;
	srv->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (srv->sigfd == -1)
		return -errno;
	return ev_io_add(srv->loop, srv->sigfd, EV_READ, signal_cb, srv);
}

/*
 * A signalfd wakes the epoll instances of the process that added it, not
 * of a child that inherits both (the wait queue belongs to the signal
 * handlers of the adding task), so a daemonized child needs its own.
 */
int
server_after_fork(struct server *srv)
{
	int	i;

	for (i = 0; i < srv->nlisteners; i++)
		listen_owner_update(&srv->listeners[i]);
	if (srv->sigfd >= 0) {
		ev_io_del(srv->loop, srv->sigfd);
		close(srv->sigfd);
		srv->sigfd = -1;
	}
	return setup_signals(srv);
}

/*
 * With a TCP listener (ours or systemd's), the token its clients show:
 * TCP has no peer credentials, and without it TCP would hand anyone on
 * the host what the UNIX socket's file mode keeps from them.
 */
static int
setup_token(struct server *srv, char *errbuf, size_t errlen)
{
	char	path[sizeof(srv->token.path)];
	bool	dflt = srv->conf.token_file[0] == '\0';
	int	i, ret;

	if (srv->token.set)
		return 0;
	for (i = 0; i < srv->nlisteners; i++)
		if (!(srv->listeners[i].flags & LISTEN_F_UNIX))
			break;
	if (i == srv->nlisteners && srv->conf.ntcp == 0)
		return 0;
	if (!dflt)
		snprintf(path, sizeof(path), "%s", srv->conf.token_file);
	else if ((ret = token_default_path(path, sizeof(path))) != 0) {
		snprintf(errbuf, errlen, "a TCP listener needs a token file, "
		    "and there is no default (XDG_RUNTIME_DIR is not set): "
		    "set token_file");
		return ret;
	}
	if ((ret = token_create(&srv->token, path, dflt, errbuf, errlen)) < 0)
		return ret;
	log_info("TCP token in %s", path);
	return 0;
}

int
server_init(struct server *srv, const struct conf *conf, char *errbuf,
    size_t errlen)
{
	int	setsize = 0, ret, i;
	char	line[160];

	memset(srv, 0, sizeof(*srv));
	srv->conf = *conf;
	srv->sigfd = -1;
	srv->reserve_fd = -1;
	for (i = 0; i < SERVER_LISTEN_MAX; i++)
		srv->listeners[i].fd = -1;
	/* Replies in scratch are the current connection's output: its limit. */
	buf_init(&srv->scratch, conf->output_limit);
	ev_timer_init(&srv->accept_timer, accept_resume, srv);
	ev_timer_init(&srv->shutdown_timer, shutdown_timeout, srv);
	ev_timer_init(&srv->watchdog_timer, watchdog_cb, srv);
	ev_timer_init(&srv->trim_timer, trim_cb, srv);
	ev_timer_init(&srv->sock_timer, sock_timer_cb, srv);
	serve_init(srv);

	if ((ret = size_clients(srv, &setsize)) < 0) {
		snprintf(errbuf, errlen, "open file limit: %s", strerror(-ret));
		goto fail;
	}
	ret = ev_loop_new(conf->backend[0] ? conf->backend : NULL, setsize,
	    &srv->loop);
	if (ret < 0) {
		if (ret == -ENOENT)
			snprintf(errbuf, errlen, "unknown backend '%s'",
			    conf->backend);
		else
			snprintf(errbuf, errlen, "event loop: %s",
			    strerror(-ret));
		goto fail;
	}
	srv->start_ms = ev_now(srv->loop);
	limits_set(srv);
	if ((ret = access_policy(conf, &srv->policy, errbuf, errlen)) < 0)
		goto fail;
	srv->data.limits = &srv->limits;
	if ((ret = kv_new(&srv->data, &srv->kv_clock, &srv->kv)) < 0 ||
	    (ret = queue_new(&srv->data, &srv->queues)) < 0 ||
	    (ret = pubsub_new(&srv->limits, &srv->pubsub)) < 0 ||
	    (ret = lock_new(&srv->data, &srv->lock_clock, &srv->locks)) < 0) {
		snprintf(errbuf, errlen, "out of memory");
		goto fail;
	}
	if ((srv->rbuf = malloc(SERVER_RBUF_SIZE)) == NULL) {
		ret = -ENOMEM;
		snprintf(errbuf, errlen, "out of memory");
		goto fail;
	}
	if ((ret = setup_signals(srv)) < 0) {
		snprintf(errbuf, errlen, "signals: %s", strerror(-ret));
		goto fail;
	}
	/*
	 * Our own TCP listeners get their token before any socket listens,
	 * so that no client that reaches us finds none; one passed by
	 * systemd after it is adopted (its clients may be waiting already:
	 * they read the token once we have answered).
	 */
	if (srv->conf.ntcp > 0 &&
	    (ret = setup_token(srv, errbuf, errlen)) < 0)
		goto fail;
	if ((ret = setup_listeners(srv, errbuf, errlen)) != 0)
		goto fail;
	for (i = 0; i < srv->nlisteners; i++) {
		ret = ev_io_add(srv->loop, srv->listeners[i].fd, EV_READ,
		    accept_cb, srv);
		if (ret < 0) {
			snprintf(errbuf, errlen, "watching %s: %s",
			    srv->listeners[i].name, strerror(-ret));
			goto fail;
		}
	}
	if ((ret = setup_token(srv, errbuf, errlen)) < 0)
		goto fail;
	srv->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!srv->activated)
		(void)ev_timer_start(srv->loop, &srv->sock_timer,
		    SERVER_SOCK_CHECK_MS);

	if ((srv->watchdog_ms = systemd_watchdog_interval_ms()) > 0)
		(void)ev_timer_start(srv->loop, &srv->watchdog_timer,
		    srv->watchdog_ms);
	for (i = 0; i < srv->nlisteners; i++)
		log_info("listening on %s%s", srv->listeners[i].name,
		    srv->activated ? " (from systemd)" : "");
	log_info("%s %s ready: backend %s, max %d clients", PACKAGE_NAME,
	    PACKAGE_VERSION, ev_loop_backend(srv->loop), srv->max_clients);
	status_line(srv, line, sizeof(line));
	systemd_notify_ready(line);
	return 0;

fail:
	server_free(srv);
	return ret;
}

int
server_run(struct server *srv)
{
	return ev_run(srv->loop);
}

void
server_free(struct server *srv)
{
	int	i;

	while (srv->conns != NULL)
		conn_destroy(srv->conns);
	/* Each user went with its last connection; the table with them. */
	assert(srv->users.count == 0);
	htab_free(&srv->users);
	policy_unref(srv->policy);
	srv->policy = NULL;
	access_cache_flush();
	token_remove(&srv->token);
	for (i = 0; i < srv->nlisteners; i++) {
		if (srv->listeners[i].fd >= 0 && srv->loop != NULL)
			ev_io_del(srv->loop, srv->listeners[i].fd);
		listen_close(&srv->listeners[i]);
	}
	srv->nlisteners = 0;
	if (srv->sigfd >= 0) {
		if (srv->loop != NULL)
			ev_io_del(srv->loop, srv->sigfd);
		close(srv->sigfd);
		srv->sigfd = -1;
	}
	if (srv->reserve_fd >= 0)
		close(srv->reserve_fd);
	srv->reserve_fd = -1;
	/* No connection is left, so no waiter, holder or subscriber. */
	serve_stop(srv);
	if (srv->locks != NULL)
		lock_free(srv->locks);
	if (srv->pubsub != NULL)
		pubsub_free(srv->pubsub);
	if (srv->queues != NULL)
		queue_free(srv->queues);
	if (srv->kv != NULL)
		kv_free(srv->kv);
	srv->locks = NULL;
	srv->pubsub = NULL;
	srv->queues = NULL;
	srv->kv = NULL;
	if (srv->loop != NULL) {
		ev_timer_stop(srv->loop, &srv->accept_timer);
		ev_timer_stop(srv->loop, &srv->shutdown_timer);
		ev_timer_stop(srv->loop, &srv->watchdog_timer);
		ev_timer_stop(srv->loop, &srv->trim_timer);
		ev_timer_stop(srv->loop, &srv->sock_timer);
		ev_loop_free(srv->loop);
		srv->loop = NULL;
	}
	free(srv->rbuf);
	srv->rbuf = NULL;
	buf_free(&srv->scratch);
}
