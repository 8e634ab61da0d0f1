/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * conn.c: one client connection, from accept to deferred close.
 *
 * A connection's turn (a readable event, or deferred backlog work) reads
 * at most once, answers at most reqs_per_wakeup requests, and writes at
 * most once, so no client can hold the loop. Input is read into the
 * server's shared buffer and replies are encoded into the server's shared
 * scratch buffer; a connection owns buffer memory only while it holds a
 * partial frame, leftover requests, or output the socket did not take.
 * An idle connection therefore costs its struct and an fd-table slot.
 *
 * Write interest is asked for only while output is pending. Reading stops
 * (XOFF) while pending output is over the high mark, and a client that
 * stays there for output_timeout, or passes the hard output limit, is
 * dropped. Protocol errors get an error reply, then the connection is
 * flushed and closed: a length-prefixed stream cannot be resynchronised.
 *
 * Closing is deferred and never re-enters: conn_kill() only marks the
 * connection DEAD, stops its watch and timer and queues its deferred
 * callback. What dies with it (its waiting request, locks, subscriptions,
 * and the waiters that releasing them answers) is released there, from
 * the loop, after the event that killed it has been handled. So no caller
 * up the stack ever sees a connection, a buffer or a waiter freed under it,
 * and killing a connection from inside another's request is safe. A
 * request's input is owned by the function that decodes it: error paths
 * (conn_fail) mark the connection and return, and the owner drops the
 * input.
 *
 * A hang-up must be seen whatever a connection's buffers hold. A
 * connection that is not read (its request waits and its backlog is full)
 * and has no output (so no failed write would tell) is probed for the
 * peer's hang-up every CONN_PROBE_MS; a hand-off that finds a waiter's
 * peer gone (block_alive) marks it the same way (conn_hangup).
 *
 * Invariants: a DEAD connection has no fd watch and no timer and is freed
 * from its deferred callback, never from the callback that killed it.
 * srv->current is the connection whose replies sit in srv->scratch; only
 * that connection's turn encodes into scratch.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block.h"
#include "codec.h"
#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "server.h"

#define CONN_LINGER_MS		2000	/* to flush a final error reply */
#define CONN_PROBE_MS		250	/* hang-up check of an unread conn */
#define CONN_READ_CHUNK		(16u << 10)

/* Decoded argument views of the request being dispatched. */
static struct proto_arg	args[IOMUX_ARGS_MAX];

static struct log_ratelimit	rl_warn = { .burst = 10 };

static void	conn_io(struct ev_loop *, int, int, void *);
static void	conn_timeout(struct ev_loop *, struct ev_timer *, void *);
static void	conn_deferred(struct ev_loop *, struct ev_defer *, void *);
static void	conn_end_turn(struct conn *);
static void	conn_eof(struct conn *);

static size_t
pending_out(const struct conn *c)
{
	size_t	n = buf_len(&c->out);

	if (c->srv->current == c)
		n += buf_len(&c->srv->scratch);
	return n;
}

/* Empty scratch; memory a spike took is given back (a few per second). */
static void
scratch_drop(struct server *srv)
{
	buf_consume(&srv->scratch, buf_len(&srv->scratch));
	buf_shrink(&srv->scratch, SERVER_SCRATCH_KEEP);
}

static size_t
high_mark(const struct server *srv)
{
	size_t	high = srv->conf.output_high;

	/* The high mark must leave room under the hard limit. */
	if (high > srv->conf.output_limit / 2)
		high = srv->conf.output_limit / 2;
	return high;
}

/*
 * May the next request run now: is there room under the output limit for
 * the largest reply it could make (one frame), or nothing pending? Else a
 * client that reads its replies, only not yet, would pass the hard limit
 * and be dropped as one that never reads (or its POP refused): it waits
 * for its output to drain instead, as at the high mark.
 */
static bool
reply_room(const struct conn *c)
{
	size_t	pending = pending_out(c);
	size_t	reply_max = (size_t)c->srv->conf.frame_max + IOMUX_LEN_SIZE;

	return pending == 0 || (c->srv->conf.output_limit >= reply_max &&
	    pending <= c->srv->conf.output_limit - reply_max);
}

/* Input holds at most one frame plus what one read can bring. */
static size_t
in_limit(const struct server *srv)
{
	return (size_t)srv->conf.frame_max + IOMUX_LEN_SIZE + SERVER_RBUF_SIZE;
}

/*
 * Read at most once into c->in, with room for at least 'want' more bytes.
 * Returns what recv(2) returned (-1 with errno set, also when there is no
 * memory for the room: ENOMEM).
 */
static ssize_t
conn_read_in(struct conn *c, size_t want)
{
	ssize_t	n;
	int	ret;

	buf_compact(&c->in);
	if ((ret = buf_reserve(&c->in, want)) < 0) {
		errno = -ret;
		return -1;
	}
	n = recv(c->fd, buf_space(&c->in), buf_avail(&c->in), MSG_DONTWAIT);
	if (n > 0) {
		buf_advance(&c->in, (size_t)n);
		c->srv->stats.bytes_in += (uint64_t)n;
	}
	return n;
}

/*
 * Not read (its request waits and its backlog is full) and nothing to
 * write: nothing the loop watches would tell that its peer went away.
 */
static bool
conn_deaf(const struct conn *c)
{
	return c->blocked != NULL && !(c->mask & (EV_READ | EV_WRITE)) &&
	    !(c->flags & (CONN_F_DEAD | CONN_F_EOF | CONN_F_CLOSING));
}

bool
conn_peer_gone(const struct conn *c)
{
	struct pollfd	pfd;

	/*
	 * Linux reports a peer that closed or shut down its sending side
	 * as POLLRDHUP at once, even while unread bytes are queued.
	 */
	pfd.fd = c->fd;
	pfd.events = POLLRDHUP;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) != 1)
		return false;
	return (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/*
 * While a request waits, its connection's later input is kept but not
 * decoded. Walk the length prefixes from in_scan (frames before it are
 * complete) so that a frame left incomplete behind the wait gets its
 * deadline from when it was seen, not from when the wait ends. A length
 * over frame_max never completes: it counts as incomplete too. Amortised:
 * each byte of input is walked past once while the wait lasts. Nothing to
 * do for a connection that is not waiting, or has no input.
 */
static void
conn_scan_tail(struct conn *c)
{
	const uint8_t	*p;
	size_t		 len = buf_len(&c->in), off = c->in_scan;
	uint32_t	 body;
	int		 ret;

	if (c->blocked == NULL || len == 0)
		return;
	p = buf_data(&c->in);
	while (off < len) {
		ret = proto_peek_len(p + off, len - off, c->srv->conf.frame_max,
		    &body);
		if (ret == -EBADMSG) {
			/* Too short for a header: bad, but complete. */
			off = len;
			break;
		}
		if (ret != 1 || (size_t)body + IOMUX_LEN_SIZE > len - off)
			break;
		off += (size_t)body + IOMUX_LEN_SIZE;
	}
	c->in_scan = off;
	/*
	 * Past SERVER_RBUF_SIZE a waiting connection is not read: a frame
	 * cut there is incomplete by our doing, so no deadline runs on it.
	 */
	if (off == len || len >= SERVER_RBUF_SIZE)
		c->frame_start = 0;
	else if (c->frame_start == 0)
		c->frame_start = ev_now(c->srv->loop);
}

void
conn_name(const struct conn *c, char *buf, size_t len)
{
	if (c->flags & CONN_F_TCP)
		snprintf(buf, len, "conn %llu tcp", (unsigned long long)c->id);
	else
		snprintf(buf, len, "conn %llu uid %ld pid %ld",
		    (unsigned long long)c->id, (long)c->uid, (long)c->pid);
}

static void
conn_log(const struct conn *c, const char *what)
{
	char	name[CONN_NAME_MAX];

	if (!log_ratelimit_ok(&rl_warn, ev_now(c->srv->loop)))
		return;
	conn_name(c, name, sizeof(name));
	log_warnx("%s: %s", name, what);
}

int
conn_new(struct server *srv, int fd, const struct ucred *cred,
    struct conn **out)
{
	struct conn	*c;
	bool		 tcp = cred == NULL;
	int		 ret;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->srv = srv;
	c->fd = fd;
	c->id = ++srv->next_conn_id;
	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	if (tcp)
		c->flags |= CONN_F_TCP;
	else {
		c->uid = cred->uid;
		c->gid = cred->gid;
		c->pid = cred->pid;
	}
	/* Its account rolls up into its uid's, and that into client_mem. */
	if ((ret = server_user_join(srv, c)) < 0) {
		free(c);
		return ret;
	}
	buf_acct_charge(&c->hc.mem, sizeof(*c));
	buf_init(&c->in, in_limit(srv));
	buf_init(&c->out, srv->conf.output_limit);
	c->in.acct = c->out.acct = &c->hc.mem;
	ev_timer_init(&c->timer, conn_timeout, c);
	ev_defer_init(&c->defer, conn_deferred, c);
	if ((ret = ev_io_add(srv->loop, fd, EV_READ, conn_io, c)) < 0) {
		buf_acct_release(&c->hc.mem, sizeof(*c));
		server_user_leave(srv, c);
		free(c);
		return ret;
	}
	c->mask = EV_READ;
	access_conn_start(c);
	c->last_active = ev_now(srv->loop);
	if (srv->conf.idle_timeout_ms)
		(void)ev_timer_start(srv->loop, &c->timer,
		    srv->conf.idle_timeout_ms);

	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nclients++;
	if (log_getverbose() > 0) {
		char	name[CONN_NAME_MAX];

		conn_name(c, name, sizeof(name));
		log_debug("%s: connected", name);
	}
	*out = c;
	return 0;
}

int
conn_handoff_reserve(struct conn *c)
{
	struct conn_handoff	*p;
	uint32_t		 cap;

	if (c->nhandoffs < c->handoffs_cap)
		return 0;
	cap = c->handoffs_cap ? 2 * c->handoffs_cap : 4;
	if ((p = reallocarray(c->handoffs, cap, sizeof(*p))) == NULL)
		return -ENOMEM;
	buf_acct_charge(&c->hc.mem, (cap - c->handoffs_cap) * sizeof(*p));
	c->handoffs = p;
	c->handoffs_cap = cap;
	return 0;
}

/* Give the hand-off array back (idle connections own nothing). */
static void
handoffs_free(struct conn *c)
{
	buf_acct_release(&c->hc.mem, c->handoffs_cap * sizeof(*c->handoffs));
	free(c->handoffs);
	c->handoffs = NULL;
	c->handoffs_cap = 0;
}

void
conn_handoff(struct conn *c, const struct conn_handoff_ops *ops, void *obj,
    void *arg, size_t size)
{
	struct conn_handoff	*h;

	assert(c->nhandoffs < c->handoffs_cap);
	h = &c->handoffs[c->nhandoffs++];
	h->ops = ops;
	h->obj = obj;
	h->arg = arg;
	h->end = c->sent + pending_out(c);
	h->size = size;
	buf_acct_charge(&c->hc.mem, size);
}

/* The socket took more: hand-offs whose reply is all out are done. */
static void
handoffs_settle(struct conn *c)
{
	uint32_t	i, n = c->nhandoffs;

	for (i = 0; i < n && c->handoffs[i].end <= c->sent; i++) {
		buf_acct_release(&c->hc.mem, c->handoffs[i].size);
		c->handoffs[i].ops->sent(c->handoffs[i].obj,
		    c->handoffs[i].arg);
	}
	if (i == 0)
		return;
	memmove(c->handoffs, c->handoffs + i,
	    (n - i) * sizeof(*c->handoffs));
	c->nhandoffs = n - i;
	if (c->nhandoffs == 0)
		handoffs_free(c);
}

/* The connection died: what it was handed goes back, newest first. */
static void
handoffs_undo(struct conn *c)
{
	struct conn_handoff	*h;
	uint32_t		 i, n = c->nhandoffs;

	for (i = n; i > 0; i--) {
		h = &c->handoffs[i - 1];
		buf_acct_release(&c->hc.mem, h->size);
		h->ops->undo(h->obj, h->arg);
	}
	/*
	 * Waiters get them only when the release serves the hub, with every
	 * item back in order (server_conn_closed).
	 */
	c->nhandoffs = 0;
	handoffs_free(c);
}

/* Where c's next reply goes (conn_reply_buf(), without its side effect). */
static struct buf *
reply_target(struct conn *c)
{
	struct server	*srv = c->srv;

	if (srv->current == c && buf_len(&c->out) == 0)
		return &srv->scratch;
	return &c->out;
}

bool
conn_reply_fits(struct conn *c, size_t len)
{
	const struct buf	*b = reply_target(c);
	size_t			 body = IOMUX_BODY_HDR_SIZE +
				    IOMUX_ARG_HDR_SIZE + len;

	if (body > c->srv->conf.frame_max)
		return false;
	if (b->limit == 0)
		return true;
	return buf_len(b) <= b->limit &&
	    IOMUX_LEN_SIZE + body <= b->limit - buf_len(b);
}

struct buf *
conn_reply_buf(struct conn *c)
{
	struct server	*srv = c->srv;

	/*
	 * Output for a connection outside its own turn (or behind output
	 * it already has queued) goes to its own buffer, flushed by a
	 * deferred turn so that several replies still make one write.
	 */
	if (srv->current != c && !(c->flags & CONN_F_DEAD))
		ev_defer(srv->loop, &c->defer);
	return reply_target(c);
}

void
conn_kill(struct conn *c, const char *why)
{
	struct server	*srv = c->srv;
	bool		 in_use;

	if (c->flags & CONN_F_DEAD)
		return;
	/* Its own turn on the stack: the decoder walks c->in, a reply... */
	in_use = (c->flags & CONN_F_BUSY) || srv->current == c;
	if (why != NULL)
		conn_log(c, why);
	else if (log_getverbose() > 0)
		log_debug("conn %llu: closed", (unsigned long long)c->id);
	c->flags |= CONN_F_DEAD;
	c->hc.flags |= HUB_CLIENT_F_GONE;
	if (srv->current == c) {
		scratch_drop(srv);
		srv->current = NULL;
	}
	ev_io_del(srv->loop, c->fd);
	ev_timer_stop(srv->loop, &c->timer);
	/*
	 * Nobody will read its input or write its output: free them now,
	 * unless its own turn is on the stack (...may be half encoded into
	 * c->out). Those stay until the deferred free; they are one
	 * connection's, within its limits.
	 */
	if (!in_use) {
		buf_free(&c->in);
		c->in_scan = 0;
		buf_free(&c->out);
	}
	/* What it still holds is as good as freed: it no longer counts. */
	buf_acct_reparent(&c->hc.mem, NULL);
	/*
	 * Released and freed from the deferred callback: callers up the
	 * stack may still hold c, its buffers or its waiter. Until then a
	 * DEAD connection is skipped by every hand-off (block_alive).
	 */
	ev_defer(srv->loop, &c->defer);
}

void
conn_hangup(struct conn *c)
{
	if (c->flags & (CONN_F_DEAD | CONN_F_EOF | CONN_F_HUP))
		return;
	c->flags |= CONN_F_HUP;
	ev_defer(c->srv->loop, &c->defer);
}

/*
 * What dies with a connection, once: its waiting request (answered with
 * nothing: it takes no item and no lock), then its locks, subscriptions
 * and slot. Releasing a lock may answer other connections' waiters; that
 * only queues their replies and their deferred turns.
 */
static void
conn_release(struct conn *c)
{
	if (c->flags & CONN_F_RELEASED)
		return;
	c->flags |= CONN_F_RELEASED;
	block_abort(c, 0, NULL);
	handoffs_undo(c);
	server_conn_closed(c->srv, c);
}

static void
conn_free(struct conn *c)
{
	struct server	*srv = c->srv;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	close(c->fd);
	access_conn_end(c);
	buf_free(&c->in);
	buf_free(&c->out);
	buf_acct_release(&c->hc.mem, sizeof(*c));
	/* Every charge was released with what it charged for. */
	assert(c->hc.mem.bytes == 0);
	free(c);
	server_client_mem_check(srv, NULL);
}

/*
 * Is the connection waiting for the server rather than idle? A request
 * waiting for an answer, or subscriptions whose messages it waits for
 * (Redis exempts pub/sub clients from its timeout the same way): the
 * client has nothing to send, so idle_timeout never applies to it.
 */
static bool
conn_waiting(const struct conn *c)
{
	return c->blocked != NULL || c->hc.subs != NULL;
}

/* Arm the timer for the nearest deadline; lazily, never to a later one. */
static void
conn_arm_timer(struct conn *c)
{
	struct server	*srv = c->srv;
	uint64_t	 when = UINT64_MAX;

	if (c->flags & CONN_F_CLOSING)
		when = c->last_active + CONN_LINGER_MS;
	if (c->frame_start && srv->conf.frame_timeout_ms &&
	    c->frame_start + srv->conf.frame_timeout_ms < when)
		when = c->frame_start + srv->conf.frame_timeout_ms;
	if (c->out_high_since && srv->conf.output_timeout_ms &&
	    c->out_high_since + srv->conf.output_timeout_ms < when)
		when = c->out_high_since + srv->conf.output_timeout_ms;
	if (srv->conf.idle_timeout_ms && !conn_waiting(c) &&
	    c->last_active + srv->conf.idle_timeout_ms < when)
		when = c->last_active + srv->conf.idle_timeout_ms;
	if (conn_deaf(c) && ev_now(srv->loop) + CONN_PROBE_MS < when)
		when = ev_now(srv->loop) + CONN_PROBE_MS;
	if (when == UINT64_MAX)
		return;
	if (ev_timer_active(&c->timer) && ev_timer_when(&c->timer) <= when)
		return;	/* fires early, finds nothing due, re-arms */
	(void)ev_timer_start_at(srv->loop, &c->timer, when);
}

void
conn_fail(struct conn *c, uint16_t st, uint32_t id, const char *msg)
{
	struct server		*srv = c->srv;
	struct proto_enc	 e;

	if (c->flags & (CONN_F_DEAD | CONN_F_CLOSING))
		return;
	conn_log(c, msg);
	/*
	 * A waiting request is cancelled unanswered, as by a half-close: an
	 * answer with this error would read as a second closing error, and
	 * a client takes the close as the end of every request unanswered.
	 */
	block_abort(c, 0, NULL);
	proto_enc_begin(&e, conn_reply_buf(c), srv->conf.frame_max,
	    IOMUX_KIND_REPLY, st, id);
	proto_enc_str(&e, msg);
	if (proto_enc_end(&e) < 0) {
		conn_kill(c, NULL);
		return;
	}
	/*
	 * Nothing after a bad frame can be trusted. The input is dropped by
	 * whoever is decoding it (CLOSING reads and decodes nothing more),
	 * never here: our caller may be walking that very buffer.
	 */
	c->flags &= ~CONN_F_BACKLOG;
	c->flags |= CONN_F_CLOSING;
	c->frame_start = 0;
	c->last_active = ev_now(srv->loop);
	if (srv->current != c)
		conn_end_turn(c);
}

/*
 * Answer the complete requests in data[0..len), within the turn's budget.
 * Returns how many bytes were consumed; the caller keeps the rest.
 */
static size_t
conn_process_frames(struct conn *c, const uint8_t *data, size_t len)
{
	struct server		*srv = c->srv;
	struct proto_frame	 f;
	size_t			 off = 0, high = high_mark(srv);
	uint32_t		 body_len;
	int			 budget = srv->conf.reqs_per_wakeup;
	int			 n, ret;
	bool			 partial = false;
	char			 msg[128];

	while (off < len) {
		if (c->blocked != NULL)
			break;	/* later requests wait: replies stay in order */
		if (budget-- <= 0) {
			c->flags |= CONN_F_BACKLOG;
			break;
		}
		if (pending_out(c) >= high || !reply_room(c)) {
			/* Resumed once the client reads (see conn_update). */
			c->flags |= CONN_F_BACKLOG;
			break;
		}
		n = proto_decode(data + off, len - off, srv->conf.frame_max,
		    &f, args, IOMUX_ARGS_MAX);
		if (n == PROTO_E_AGAIN) {
			partial = true;
			break;
		}
		if (n < 0) {
			srv->stats.errors_proto++;
			switch (n) {
			case -EMSGSIZE:
				/* Said from the 4-byte prefix, so it is here. */
				body_len = buf_get_u32(data + off);
				snprintf(msg, sizeof(msg), "frame of %lu bytes "
				    "is over the limit of %lu",
				    (unsigned long)body_len,
				    (unsigned long)srv->conf.frame_max);
				conn_fail(c, IOMUX_ST_ETOOBIG, 0, msg);
				break;
			case -EPROTONOSUPPORT:
				snprintf(msg, sizeof(msg), "protocol version %u "
				    "is not supported (server speaks %d)",
				    f.version, IOMUX_PROTO_VERSION);
				conn_fail(c, IOMUX_ST_EVERSION, f.id, msg);
				break;
			case -E2BIG:
				snprintf(msg, sizeof(msg), "too many arguments "
				    "(%u, at most %d)", f.argc, IOMUX_ARGS_MAX);
				conn_fail(c, IOMUX_ST_EPROTO, f.id, msg);
				break;
			default:
				conn_fail(c, IOMUX_ST_EPROTO, f.id,
				    "malformed frame");
				break;
			}
			return len;
		}
		if (f.kind != IOMUX_KIND_REQUEST) {
			srv->stats.errors_proto++;
			snprintf(msg, sizeof(msg), "clients send requests "
			    "(kind %d), not kind %u", IOMUX_KIND_REQUEST,
			    f.kind);
			conn_fail(c, IOMUX_ST_EKIND, f.id, msg);
			return len;
		}
		off += (size_t)n;
		if ((ret = dispatch_request(c, &f, args)) < 0) {
			if (ret == -ENOBUFS) {
				srv->stats.clients_dropped++;
				conn_kill(c, "output limit reached");
			} else
				conn_kill(c, "cannot queue a reply");
			return len;
		}
		/*
		 * A request can end its own connection (a publisher cut off
		 * by its own subscription's push): nothing after it may
		 * attach state to a connection already cleaned up.
		 */
		if (c->flags & CONN_F_DEAD)
			return len;
	}
	/*
	 * A partial frame's deadline runs from its first byte. Behind a
	 * waiting request the tail is judged by conn_scan_tail() instead.
	 */
	if (partial) {
		if (off > 0 || c->frame_start == 0)
			c->frame_start = ev_now(srv->loop);
	} else if (c->blocked == NULL)
		c->frame_start = 0;
	return off;
}

/*
 * While a connection's requests run, its buffers are in use on the stack:
 * a kill from anywhere (its own request, a fan-out's eviction) leaves
 * them to the deferred free, and eviction passes it by until the turn
 * ends (conn_end_turn checks the limit again).
 */
static size_t
conn_process(struct conn *c, const uint8_t *data, size_t len)
{
	struct conn	*was = c->srv->busy;
	size_t		 used;

	c->flags |= CONN_F_BUSY;
	c->srv->busy = c;
	used = conn_process_frames(c, data, len);
	c->flags &= ~CONN_F_BUSY;
	c->srv->busy = was;
	return used;
}

/*
 * Drop all input, complete frames included (nothing will answer them).
 * With it goes what input implies: a backlog, a partial frame's deadline.
 */
static void
conn_drop_input(struct conn *c)
{
	buf_free(&c->in);
	c->in_scan = 0;
	c->flags &= ~CONN_F_BACKLOG;
	c->frame_start = 0;
}

/* Process what c->in holds (partial-frame completion or backlog). */
static void
conn_process_in(struct conn *c)
{
	size_t	used;

	used = conn_process(c, buf_data(&c->in), buf_len(&c->in));
	if (c->flags & CONN_F_DEAD)
		return;
	buf_consume(&c->in, used);
	c->in_scan = c->in_scan > used ? c->in_scan - used : 0;
	if (buf_len(&c->in) == 0)
		conn_drop_input(c);	/* idle connections own no input memory */
	else if (c->flags & (CONN_F_EOF | CONN_F_CLOSING) &&
	    !(c->flags & CONN_F_BACKLOG) && pending_out(c) < high_mark(c->srv))
		conn_drop_input(c);	/* no more will come: a partial frame */
	conn_scan_tail(c);
}

/*
 * The peer shut down its sending side, or went away: answer what we have,
 * flush, then close (conn_update). A waiting request whose client is gone
 * is cancelled, unanswered; nothing behind it may be answered before it,
 * so nothing is.
 */
static void
conn_eof(struct conn *c)
{
	c->flags |= CONN_F_EOF;
	if (c->blocked != NULL) {
		block_abort(c, 0, NULL);
		conn_drop_input(c);
		return;
	}
	if (buf_len(&c->in) > 0 && !(c->flags & CONN_F_BACKLOG))
		conn_process_in(c);
}

static void
conn_read(struct conn *c)
{
	struct server	*srv = c->srv;
	size_t		 used, want, room;
	ssize_t		 n;
	uint32_t	 body_len;

	if (buf_len(&c->in) == 0) {
		n = recv(c->fd, srv->rbuf, SERVER_RBUF_SIZE, MSG_DONTWAIT);
		if (n > 0) {
			srv->stats.bytes_in += (uint64_t)n;
			c->last_active = ev_now(srv->loop);
			used = conn_process(c, srv->rbuf, (size_t)n);
			if (c->flags & CONN_F_DEAD)
				return;
			if (used < (size_t)n &&
			    buf_add(&c->in, srv->rbuf + used, (size_t)n - used)
			    < 0) {
				conn_kill(c, "out of memory for input");
				return;
			}
			conn_scan_tail(c);
			return;
		}
	} else {
		/* Read the rest of a partial frame straight into c->in. */
		want = CONN_READ_CHUNK;
		if (proto_peek_len(buf_data(&c->in), buf_len(&c->in),
		    UINT32_MAX, &body_len) == 1 &&
		    (size_t)body_len + IOMUX_LEN_SIZE > buf_len(&c->in) +
		    want)
			want = (size_t)body_len + IOMUX_LEN_SIZE -
			    buf_len(&c->in);
		/*
		 * Never ask for room past the input limit: behind a waiting
		 * request the buffer fills with later requests (or an
		 * oversized length nobody decodes yet), and that is for
		 * back-pressure and the frame deadline to handle, not a
		 * reason to drop the client.
		 */
		room = c->in.limit > buf_len(&c->in) ?
		    c->in.limit - buf_len(&c->in) : 0;	/* a reload lowered it */
		if (want > room)
			want = room;
		if (want == 0)
			return;
		n = conn_read_in(c, want);
		if (n > 0) {
			c->last_active = ev_now(srv->loop);
			conn_process_in(c);
			return;
		}
		if (n < 0 && (errno == ENOMEM || errno == ENOBUFS)) {
			conn_kill(c, "out of memory for input");
			return;
		}
	}
	if (n == 0) {
		conn_eof(c);
		return;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return;
	conn_kill(c, errno == ECONNRESET ? NULL : "read failed");
}

/* Write pending output once; 0, or -1 if the connection died. */
static int
conn_write(struct conn *c, struct buf *b)
{
	ssize_t	n;

	if (buf_len(b) == 0)
		return 0;
	n = send(c->fd, buf_data(b), buf_len(b), MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		/* EPIPE, ECONNRESET: the peer is gone; nothing to report. */
		conn_kill(c, NULL);
		return -1;
	}
	c->srv->stats.bytes_out += (uint64_t)n;
	c->sent += (uint64_t)n;
	buf_consume(b, (size_t)n);
	if (c->nhandoffs > 0)
		handoffs_settle(c);
	if (b == &c->out && buf_len(b) == 0)
		buf_free(b);	/* idle connections own no output memory */
	return 0;
}

/* Watch exactly what the connection's state needs, nothing more. */
static void
conn_update(struct conn *c)
{
	struct server	*srv = c->srv;
	size_t		 pending = buf_len(&c->out), high = high_mark(srv);
	int		 want = EV_NONE;
	bool		 backlog, need_room;

	/*
	 * Requests waiting for room for their reply hold the connection as
	 * surely as output over the high mark: the same deadline applies
	 * (output_timeout), so a client that never reads is dropped.
	 */
	need_room = (c->flags & CONN_F_BACKLOG) && !reply_room(c);
	if ((pending >= high || need_room) && !(c->flags & CONN_F_XOFF)) {
		c->flags |= CONN_F_XOFF;
		c->out_high_since = ev_now(srv->loop);
	} else if ((c->flags & CONN_F_XOFF) && pending <= high / 2 &&
	    !need_room) {
		c->flags &= ~CONN_F_XOFF;
		c->out_high_since = 0;
		if (buf_len(&c->in) > 0)
			c->flags |= CONN_F_BACKLOG;
	}
	/* A blocked connection's backlog waits for its answer. */
	backlog = (c->flags & CONN_F_BACKLOG) && c->blocked == NULL;
	if (backlog && !(c->flags & CONN_F_XOFF))
		ev_defer(srv->loop, &c->defer);

	if (pending == 0 && buf_len(&c->in) == 0 &&
	    (c->flags & (CONN_F_EOF | CONN_F_CLOSING))) {
		conn_kill(c, NULL);	/* everything answered and sent */
		return;
	}
	/*
	 * A blocked connection is still read, so that a disconnect cancels
	 * its wait at once, but only up to one read's worth of requests
	 * queued behind the waiting one.
	 */
	if (!(c->flags & (CONN_F_XOFF | CONN_F_EOF | CONN_F_CLOSING)) &&
	    !backlog &&
	    (c->blocked == NULL || buf_len(&c->in) < SERVER_RBUF_SIZE))
		want |= EV_READ;
	if (pending > 0)
		want |= EV_WRITE;
	if (want != c->mask) {
		if (ev_io_set(srv->loop, c->fd, want) < 0) {
			conn_kill(c, "cannot change its watch");
			return;
		}
		c->mask = want;
	}
	if (c->frame_start || c->out_high_since ||
	    (c->flags & CONN_F_CLOSING) || conn_deaf(c) ||
	    (srv->conf.idle_timeout_ms && !ev_timer_active(&c->timer)))
		conn_arm_timer(c);
}

/*
 * End of a turn: one write of the replies gathered in scratch; whatever
 * the socket does not take is kept in the connection's own buffer.
 */
static void
conn_end_turn(struct conn *c)
{
	struct server	*srv = c->srv;
	struct buf	*s = &srv->scratch;

	if (c->flags & CONN_F_DEAD)
		return;
	if (srv->current == c) {
		srv->current = NULL;
		if (buf_len(s) > 0) {
			if (buf_len(&c->out) > 0) {
				/* Cannot happen: replies go behind queued output. */
				scratch_drop(srv);
				conn_kill(c, "internal: output out of order");
				return;
			}
			if (conn_write(c, s) < 0) {
				scratch_drop(srv);
				return;
			}
			if (buf_len(s) > 0 &&
			    buf_add(&c->out, buf_data(s), buf_len(s)) < 0) {
				scratch_drop(srv);
				c->srv->stats.clients_dropped++;
				conn_kill(c, "output limit reached");
				return;
			}
			scratch_drop(srv);
		}
	}
	conn_update(c);
	/* What this turn made anyone hold counts against the limit now. */
	server_client_mem_check(srv, c->user);
}

static void
conn_io(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct conn	*c = arg;
	struct server	*srv = c->srv;

	if (c->flags & CONN_F_DEAD)
		return;
	if ((events & EV_WRITE) && conn_write(c, &c->out) < 0)
		return;
	if ((events & EV_READ) && (c->mask & EV_READ)) {
		srv->current = c;
		conn_read(c);
		if (c->flags & CONN_F_DEAD)
			return;
	}
	conn_end_turn(c);
}

static void
conn_deferred(struct ev_loop *loop, struct ev_defer *d, void *arg)
{
	struct conn	*c = arg;

	if (c->flags & CONN_F_DEAD) {
		conn_release(c);
		conn_free(c);
		return;
	}
	if (c->flags & CONN_F_HUP) {
		c->flags &= ~CONN_F_HUP;
		if (!(c->flags & CONN_F_EOF))
			conn_eof(c);
	}
	if ((c->flags & CONN_F_BACKLOG) && !(c->flags & CONN_F_XOFF) &&
	    c->blocked == NULL) {
		c->flags &= ~CONN_F_BACKLOG;
		c->srv->current = c;
		conn_process_in(c);
		if (c->flags & CONN_F_DEAD)
			return;
	}
	/*
	 * Replies queued in c->out: a woken request's, pushes, and what the
	 * backlog added behind them (scratch is unused while c->out holds
	 * anything, so this and conn_end_turn() never both write).
	 */
	if (buf_len(&c->out) > 0 && conn_write(c, &c->out) < 0)
		return;
	conn_end_turn(c);
}

static void
conn_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct conn	*c = arg;
	struct server	*srv = c->srv;
	uint64_t	 now = ev_now(loop);
	char		 msg[96];

	if (c->flags & CONN_F_DEAD)
		return;
	if (conn_deaf(c) && conn_peer_gone(c)) {
		conn_eof(c);
		conn_end_turn(c);
		return;
	}
	if (c->flags & CONN_F_CLOSING) {
		if (now >= c->last_active + CONN_LINGER_MS) {
			conn_kill(c, "did not take its last reply in time");
			return;
		}
	} else if (c->frame_start && srv->conf.frame_timeout_ms &&
	    now >= c->frame_start + srv->conf.frame_timeout_ms) {
		srv->stats.clients_timed_out++;
		snprintf(msg, sizeof(msg), "frame not completed within %lu ms",
		    (unsigned long)srv->conf.frame_timeout_ms);
		conn_fail(c, IOMUX_ST_ETIMEOUT, 0, msg);
		conn_drop_input(c);	/* nothing is decoding it now */
		return;
	} else if (c->out_high_since && srv->conf.output_timeout_ms &&
	    now >= c->out_high_since + srv->conf.output_timeout_ms) {
		srv->stats.clients_dropped++;
		conn_kill(c, "not reading its replies");
		return;
	} else if (srv->conf.idle_timeout_ms && pending_out(c) == 0 &&
	    buf_len(&c->in) == 0 && !conn_waiting(c) &&
	    now >= c->last_active + srv->conf.idle_timeout_ms) {
		srv->stats.clients_timed_out++;
		conn_kill(c, log_getverbose() > 0 ? "idle timeout" : NULL);
		return;
	}
	conn_arm_timer(c);
}

void
conn_unblocked(struct conn *c)
{
	if (c->flags & CONN_F_DEAD)
		return;
	/* Its idle time starts when its wait ends. */
	c->last_active = ev_now(c->srv->loop);
	if (buf_len(&c->in) > 0)
		c->flags |= CONN_F_BACKLOG;
	/* The reply and any backlog go out from a deferred turn. */
	ev_defer(c->srv->loop, &c->defer);
}

void
conn_close_gracefully(struct conn *c)
{
	struct server	*srv = c->srv;
	ssize_t		 n;

	if (c->flags & (CONN_F_DEAD | CONN_F_CLOSING))
		return;
	/* A waiting request gets ESHUTDOWN. */
	block_abort(c, IOMUX_ST_ESHUTDOWN, "server stopping");
	if (c->flags & CONN_F_DEAD)
		return;
	/*
	 * Requests the client sent before we stopped are still answered:
	 * take what the socket holds now, without waiting for more.
	 */
	while (!(c->flags & CONN_F_EOF)) {
		if ((n = conn_read_in(c, CONN_READ_CHUNK)) <= 0) {
			if (n == 0)
				c->flags |= CONN_F_EOF;
			break;
		}
	}
	c->flags |= CONN_F_CLOSING;
	c->last_active = ev_now(srv->loop);
	if (buf_len(&c->in) > 0)
		c->flags |= CONN_F_BACKLOG;
	conn_end_turn(c);
}

void
conn_destroy(struct conn *c)
{
	struct server	*srv = c->srv;

	if (!(c->flags & CONN_F_DEAD)) {
		ev_io_del(srv->loop, c->fd);
		ev_timer_stop(srv->loop, &c->timer);
		c->flags |= CONN_F_DEAD;
		c->hc.flags |= HUB_CLIENT_F_GONE;
		buf_acct_reparent(&c->hc.mem, NULL);
	}
	conn_release(c);
	ev_defer_cancel(srv->loop, &c->defer);
	conn_free(c);
}

void
conn_reconfigure(struct conn *c)
{
	struct server	*srv = c->srv;

	c->in.limit = in_limit(srv);
	c->out.limit = srv->conf.output_limit;
	if (!(c->flags & CONN_F_DEAD))
		conn_update(c);
}
