/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * fuzz_request.c: libFuzzer target for the whole request path: a peer's
 * bytes through conn.c's read, decode, dispatch to the hub modules,
 * blocking and hand-off, replies and close, on a real server core.
 *
 * Each input starts a fresh server with server_init(), as main.c does,
 * from a configuration the input picks (its backend included), listening
 * on a private socket path made once per process, and ends it with
 * server_free(). Up to NSLOTS connections are handed to conn_new() over
 * socketpairs, as accept_cb() hands it an accepted socket, so that every
 * byte goes through the daemon's own conn.c. Both ends get a small send
 * buffer, so that a peer that does not read fills its socket within a few
 * KiB and the output marks and limits are reached; the limits in
 * conf_variant() are small for the same reason.
 *
 * The harness uses only the functions server.h, conn.h, conf.h and ev.h
 * declare, the connection layer's own counts in struct server (its list
 * of connections, the client count, client memory) and the wire
 * protocol: it never builds a server by hand or reads a hub module's
 * state, so that the hub's insides can move without breaking it. What
 * must be left of the hub at the end is read from a STATUS reply.
 *
 * The input is a script (the format is below, and mkcorpus.c writes it).
 * Its first byte picks the backend and a configuration; then each op byte
 * is an operation in its high nibble, a connection slot in its low two
 * bits and a small parameter in bits 2-3. Operations send raw bytes, send
 * a request frame built from a compact description (so that mutations
 * keep the framing and reach the hub), repeat the next operation, run the
 * loop, read what the daemon sent, half-close either side, close, connect
 * again, move the clock, stop the server as SIGTERM does and reload a
 * configuration as SIGHUP does.
 *
 * Time: ev.c's monotonic clock is wrapped at link time (the Makefile
 * passes --wrap=clock_gettime where the linker has it) and only moves when
 * the script says so, so deadlines, TTLs, leases and timeouts fire from
 * ev_run_once() without a real sleep, and a replay is exact. getrandom(2)
 * is wrapped too, so that hash tables lay out the same way each time.
 * So are the allocator's entry points, so that a script can make one of
 * the daemon's allocations fail (only while the daemon runs: in a loop
 * iteration, conn_new(), a stop or a reload) and reach its out-of-memory
 * paths. Without --wrap the clock is real, and the script's clock moves
 * and allocation failures do nothing.
 *
 * What the daemon sends is checked as it is read: every frame decodes and
 * fits frame_max, is a reply or a MESSAGE push (pushes only after a
 * (P)SUBSCRIBE was sent), errors carry one message, no EINTERNAL, nothing
 * follows an error that closes the connection, and replies answer the
 * requests this peer sent in order, by id (the peer decodes its own
 * stream as the daemon does; once that stream stops decoding, only a
 * closing error may come after the replies owed). At the end every peer
 * is closed and the loop must free every connection within a bounded
 * number of iterations (the clock moved along so that the hang-up probe
 * and the linger run); then a new connection's STATUS must show no other
 * client, blocked request, lock holder or waiter, subscriber, channel or
 * pattern, and no data_bytes unless a key or a queue is left to hold
 * them; once that connection is gone too, no client memory may be left.
 * LeakSanitizer does the rest. A failed check prints why and aborts.
 *
 * Built with --enable-fuzzing (clang; add --enable-sanitizers for ASan
 * and UBSan): tests/fuzz/fuzz_request, e.g.
 *	tests/fuzz/fuzz_request -close_fd_mask=2 -max_total_time=60 \
 *	    new-corpus-dir $(top_srcdir)/tests/fuzz/corpus/request
 * (the daemon logs its warnings to stderr; -close_fd_mask=2 hides them;
 * the first directory receives what the fuzzer finds: keep it out of the
 * tree). Files named crash-* in the corpus reproduce bugs it found, since
 * fixed: each is a regression test that must pass like any other seed.
 * FUZZ_REQUEST_TRACE=1 logs every operation, request and reply of a
 * run, to read a reproducer. Without --enable-fuzzing,
 * tests/fuzz/replay_request runs the same function over the committed
 * corpus in make check (replay.c).
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "codec.h"
#include "conf.h"
#include "conn.h"
#include "ev.h"
#include "log.h"
#include "server.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Script format. Byte 0: the configuration (conf_variant()). Then ops:
 *
 *	op byte = OP << 4 | param << 2 | slot
 *
 *	OP_SEND		u8 n, n bytes: send them on slot's peer
 *	OP_SEND16	u16 n (big-endian), n bytes: the same
 *	OP_FRAME	a request built and sent: u8 opsel (an index into
 *			fuzz_ops[], or 0xff then a u16 code), u8 id, u8 argc,
 *			then per argument u8 len and len bytes, or 0xff
 *			(absent), or 0xfe u16 n, u8 fill (n bytes of fill),
 *			or 0xfd (the u16 count of the enclosing OP_REPEAT:
 *			a repeated request can name a new key each time)
 *	OP_REPEAT	u8 n: run the next param + 1 ops n + 1 times (a
 *			repeat inside a repeat does nothing)
 *	OP_RUN		ev_run_once() 1, 4, 16 or 64 times (param)
 *	OP_READ		read up to all, 1, 100 or 2000 bytes (param)
 *	OP_SHUT_WR	shutdown(SHUT_WR): the daemon sees EOF
 *	OP_SHUT_RD	shutdown(SHUT_RD): the daemon's writes fail
 *	OP_CLOSE	close the peer
 *	OP_CONNECT	a new connection in slot (closing the old peer)
 *	OP_ADVANCE	u8 n: the clock moves n * 1, 10, 100 or 1000 ms
 *			(param), then one loop iteration
 *	OP_STOP		server_stop(), once
 *	OP_RELOAD	u8 variant: server_reconfigure() to it
 *	OP_NOMEM	u8 n: the daemon's allocation n + 1 from now fails
 *	others		one loop iteration
 *
 * A length or count past the end of the input is cut to what is left.
 */
enum fuzz_op {
	OP_SEND,
	OP_SEND16,
	OP_FRAME,
	OP_REPEAT,
	OP_RUN,
	OP_READ,
	OP_SHUT_WR,
	OP_SHUT_RD,
	OP_CLOSE,
	OP_CONNECT,
	OP_ADVANCE,
	OP_STOP,
	OP_RELOAD,
	OP_NOMEM
};

#define NSLOTS		4
#define CONNECTS_MAX	32		/* per input, initial ones included */
#define OPS_MAX		20000		/* per input, repeats included */
#define SEND_MAX	(4u << 20)	/* bytes per input */
#define SEND_TRIES	4		/* loop turns to wait for room */
#define SOCKBUF		4096		/* SO_SNDBUF of both ends */
#define SETSIZE		1024
#define FRAME_MAX_HI	16384		/* the largest frame_max of a variant */
#define PENDING_MAX	8192		/* tracked requests per peer */
#define DRAIN_TURNS	256		/* at the end, to free every conn */
#define CLOCK_START_MS	(UINT64_C(1) << 40)

/* OP_FRAME's opcode selector: every opcode, in the header's order. */
static const uint16_t	fuzz_ops[] = {
	IOMUX_OP_HELLO, IOMUX_OP_PING, IOMUX_OP_STATUS,
	IOMUX_OP_GET, IOMUX_OP_SET, IOMUX_OP_DEL, IOMUX_OP_EXISTS,
	IOMUX_OP_INCR, IOMUX_OP_KEYS, IOMUX_OP_TTL, IOMUX_OP_EXPIRE,
	IOMUX_OP_PERSIST, IOMUX_OP_WAIT,
	IOMUX_OP_PUSH, IOMUX_OP_POP, IOMUX_OP_QLEN, IOMUX_OP_PEEK,
	IOMUX_OP_SUBSCRIBE, IOMUX_OP_UNSUBSCRIBE, IOMUX_OP_PSUBSCRIBE,
	IOMUX_OP_PUNSUBSCRIBE, IOMUX_OP_PUBLISH,
	IOMUX_OP_LOCK, IOMUX_OP_TRYLOCK, IOMUX_OP_UNLOCK,
};
#define NFUZZ_OPS	(sizeof(fuzz_ops) / sizeof(fuzz_ops[0]))

/* A request this peer sent, owed one reply. */
struct owed {
	uint32_t	id;
	uint16_t	op;
	uint16_t	argc;
};

/* Our end of one connection, and what we know of its stream. */
struct peer {
	int		 fd;		/* -1: closed (or never opened) */
	bool		 rd_shut;	/* we shut down our reading side */
	bool		 eof;		/* the daemon closed its end */
	struct buf	 rx;		/* received, not a whole frame yet */
	struct buf	 tx;		/* sent, not a whole frame yet */
	bool		 lost;		/* tx stopped decoding: untracked */
	bool		 overflow;	/* too many owed: order unchecked */
	bool		 subscribing;	/* a (P)SUBSCRIBE was sent */
	uint16_t	 closed_by;	/* the error that closes it, or 0 */
	struct owed	*owed;
	size_t		 ohead, olen;	/* owed[ohead..olen) */
};

static struct server	 srv;
static struct peer	 peers[NSLOTS];
static int		 connects, ops_run;
static uint16_t		 repeat_index;	/* of the OP_REPEAT running, or 0 */
static size_t		 sent_total;
static struct proto_arg	 dec_args[IOMUX_ARGS_MAX];

static bool		 tracing;	/* $FUZZ_REQUEST_TRACE: log each step */

static void	fuzz_fail(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static void	trace(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

static void
trace(const char *fmt, ...)
{
	va_list	ap;

	if (!tracing)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

static void
fuzz_fail(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "fuzz_request: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

#define CHECK(x)	do {						\
	if (!(x))							\
		fuzz_fail("%s:%d: %s", __FILE__, __LINE__, #x);		\
} while (0)

/*
 * The clock and the entropy the daemon sees. Only ev.c's CLOCK_MONOTONIC
 * reads matter; anything else (and the sanitizers' and libFuzzer's own
 * calls outside an input) goes to the real function.
 */
static bool	vclock_on;
static uint64_t	vclock_ms;

/* Allocations until one fails (-1: none), counted while the daemon runs. */
static bool	nomem_armed;
static int	nomem_countdown = -1;

#ifdef HAVE_LD_WRAP
int	__real_clock_gettime(clockid_t, struct timespec *);
int	__wrap_clock_gettime(clockid_t, struct timespec *);
ssize_t	__wrap_getrandom(void *, size_t, unsigned int);

int
__wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
	if (id != CLOCK_MONOTONIC || !vclock_on)
		return __real_clock_gettime(id, ts);
	ts->tv_sec = (time_t)(vclock_ms / 1000);
	ts->tv_nsec = (long)(vclock_ms % 1000) * 1000000;
	return 0;
}

/* Hash keys the same every run: a replay must lay tables out alike. */
ssize_t
__wrap_getrandom(void *p, size_t len, unsigned int flags)
{
	uint8_t	*b = p;
	size_t	 i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(0x5a ^ i * 37);
	return (ssize_t)len;
}

void	*__real_malloc(size_t);
void	*__real_calloc(size_t, size_t);
void	*__real_realloc(void *, size_t);
void	*__real_reallocarray(void *, size_t, size_t);
void	*__wrap_malloc(size_t);
void	*__wrap_calloc(size_t, size_t);
void	*__wrap_realloc(void *, size_t);
void	*__wrap_reallocarray(void *, size_t, size_t);

/* Is this the allocation that fails? */
static bool
nomem_now(void)
{
	if (!nomem_armed || nomem_countdown < 0 || nomem_countdown-- > 0)
		return false;
	errno = ENOMEM;
	return true;
}

void *
__wrap_malloc(size_t n)
{
	return nomem_now() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return nomem_now() ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return nomem_now() ? NULL : __real_realloc(p, n);
}

void *
__wrap_reallocarray(void *p, size_t n, size_t size)
{
	return nomem_now() ? NULL : __real_reallocarray(p, n, size);
}
#endif

/*
 * A configuration from one byte: bits 0-1 the backend (at start only),
 * then which limits are tight. Every variant passes conf_check(); all are
 * small so that the limits are reached with small inputs.
 */
static void
conf_variant(uint8_t v, struct conf *c)
{
	const struct ev_backend *const	*b;
	size_t				 n = 0;

	conf_defaults(c);
	for (b = ev_backends; *b != NULL; b++)
		n++;
	snprintf(c->backend, sizeof(c->backend), "%s",
	    ev_backends[(v & 3) % n]->name);
	c->reqs_per_wakeup = v & 0x04 ? 2 : 16;
	c->max_memory = v & 0x08 ? 4096 : 65536;
	c->client_memory_max = v & 0x10 ? 96 * 1024 : 0;
	c->idle_timeout_ms = v & 0x20 ? 5000 : 0;
	c->frame_max = v & 0x40 ? FRAME_MAX_HI : 4096;
	c->output_limit = v & 0x40 ? 32768 : 8192;
	/* Over half the limit, which conn.c lowers to half. */
	c->output_high = v & 0x40 ? 24576 : 4096;
	if (v & 0x80) {
		c->key_max = 16;
		c->value_max = 256;
		c->subscriptions_max = 2;
	} else {
		c->key_max = 64;
		c->value_max = 1024;
		c->subscriptions_max = 8;
	}
	c->frame_timeout_ms = 1000;
	c->output_timeout_ms = 2000;
	c->shutdown_timeout_ms = 3000;
	c->max_clients = NSLOTS;
	/*
	 * Both of bits 4 and 5: access rules with namespaces, so that the
	 * requests take the rules' slow path and writes to k, r, z, m are
	 * denied (the peers are this process's uid, which "all" matches;
	 * the last rule keeps STATUS's details for the health checks).
	 */
	if ((v & 0x30) == 0x30) {
		snprintf(c->rules, sizeof(c->rules),
		    "unix all rw a b q c l\nunix all ro k r z m\n"
		    "unix all admin");
		c->nrules = 3;
	}
}

/*
 * The private directory of this process's socket path, made by
 * LLVMFuzzerInitialize() and removed at its exit (not at a forked child's:
 * replay.c runs each input in one).
 */
static char	sockdir[64];
static char	sockpath[CONF_PATH_MAX];
static pid_t	sockdir_pid;
static bool	stopped;	/* OP_STOP ran: no new connection */

static void
sockdir_remove(void)
{
	if (getpid() == sockdir_pid)
		(void)rmdir(sockdir);
}

/*
 * A configuration from a variant, on our socket path. A reload keeps the
 * backend and the path: those need a restart, which is not under test.
 */
static void
conf_for(uint8_t variant, const char *backend, struct conf *c)
{
	char	err[256];

	conf_variant(variant, c);
	if (backend != NULL)
		snprintf(c->backend, sizeof(c->backend), "%s", backend);
	snprintf(c->socket_path, sizeof(c->socket_path), "%s", sockpath);
	if (conf_check(c, err, sizeof(err)) < 0)
		fuzz_fail("variant 0x%02x: %s", variant, err);
}

/*
 * The daemon's own start-up. server_init() blocks the stop and reload
 * signals for its signalfd; give them back, so that an interrupted
 * fuzzer still stops as libFuzzer means it to (the script stops and
 * reloads by calling server_stop() and server_reconfigure()).
 */
static void
server_setup(uint8_t variant)
{
	struct conf	c;
	sigset_t	mask;
	char		err[256];
	int		ret;

	conf_for(variant, NULL, &c);
	CHECK(sigprocmask(SIG_SETMASK, NULL, &mask) == 0);
	if ((ret = server_init(&srv, &c, err, sizeof(err))) != 0)
		fuzz_fail("variant 0x%02x: server_init: %s (%d)", variant, err,
		    ret);
	CHECK(sigprocmask(SIG_SETMASK, &mask, NULL) == 0);
	stopped = false;
}

static void
turn(void)
{
	int	n;

	nomem_armed = true;
	n = ev_run_once(srv.loop, 0);
	nomem_armed = false;
	CHECK(n >= 0);
}

static void
peer_close(struct peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	buf_free(&p->rx);
	buf_free(&p->tx);
	free(p->owed);
	p->owed = NULL;
	p->ohead = p->olen = 0;
}

/* A new connection for p, as accept_cb() makes one; p->fd -1 if none. */
static void
peer_open(struct peer *p)
{
	struct ucred	 self = { getpid(), geteuid(), getegid() };
	struct conn	*c;
	int		 sv[2], size = SOCKBUF, ret;

	peer_close(p);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == 0);
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	nomem_armed = true;
	ret = conn_new(&srv, sv[0], &self, &c);
	nomem_armed = false;
	if (ret < 0) {
		close(sv[0]);
		close(sv[1]);
		return;
	}
	p->fd = sv[1];
	buf_init(&p->rx, 0);
	buf_init(&p->tx, 0);
}

/* OP_CONNECT: none once stopped (no listener is left to accept it). */
static void
peer_connect(struct peer *p)
{
	peer_close(p);
	if (connects >= CONNECTS_MAX || stopped)
		return;
	connects++;
	peer_open(p);
}

/* Remember a request we sent, to check the order of the replies. */
static void
owe(struct peer *p, const struct proto_frame *f)
{
	struct owed	*o;

	if (f->code == IOMUX_OP_SUBSCRIBE || f->code == IOMUX_OP_PSUBSCRIBE)
		p->subscribing = true;
	if (p->overflow)
		return;
	if (p->olen - p->ohead >= PENDING_MAX) {
		p->overflow = true;
		return;
	}
	if (p->owed == NULL)
		CHECK((p->owed = calloc(PENDING_MAX, sizeof(*o))) != NULL);
	if (p->olen == PENDING_MAX) {
		memmove(p->owed, p->owed + p->ohead,
		    (p->olen - p->ohead) * sizeof(*o));
		p->olen -= p->ohead;
		p->ohead = 0;
	}
	o = &p->owed[p->olen++];
	o->id = f->id;
	o->op = f->code;
	o->argc = f->argc;
}

/*
 * Decode what we have sent as the daemon will, frame by frame. Once a
 * frame does not decode (or is not a request), the daemon answers the
 * requests before it and then closes with an error: nothing after it is
 * tracked.
 */
static void
track_sent(struct peer *p, const uint8_t *data, size_t len)
{
	struct proto_frame	f;
	int			n;

	if (p->lost)
		return;
	CHECK(buf_add(&p->tx, data, len) == 0);
	while (buf_len(&p->tx) > 0) {
		n = proto_decode(buf_data(&p->tx), buf_len(&p->tx),
		    FRAME_MAX_HI, &f, dec_args, IOMUX_ARGS_MAX);
		if (n == PROTO_E_AGAIN)
			break;
		if (n < 0 || f.kind != IOMUX_KIND_REQUEST) {
			trace("  slot %d -> a bad frame (%d): the rest is "
			    "untracked", (int)(p - peers), n);
			p->lost = true;
			buf_free(&p->tx);
			return;
		}
		trace("  slot %d -> %s id %u argc %u", (int)(p - peers),
		    proto_op_name(f.code), f.id, f.argc);
		owe(p, &f);
		buf_consume(&p->tx, (size_t)n);
	}
	if (buf_len(&p->tx) == 0)
		buf_free(&p->tx);
}

/*
 * Send all of data, giving the daemon a few loop turns to make room;
 * what still does not fit is dropped (the stream goes on without it).
 */
static void
peer_send(struct peer *p, const uint8_t *data, size_t len)
{
	ssize_t	n;
	int	tries = 0;

	if (p->fd < 0 || sent_total + len > SEND_MAX)
		return;
	while (len > 0) {
		n = send(p->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			track_sent(p, data, (size_t)n);
			sent_total += (size_t)n;
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EAGAIN && tries++ < SEND_TRIES) {
			turn();
			continue;
		}
		break;	/* full, EPIPE after the daemon closed, ... */
	}
}

static bool
closing_status(uint16_t st)
{
	return st == IOMUX_ST_EPROTO || st == IOMUX_ST_ETOOBIG ||
	    st == IOMUX_ST_EVERSION || st == IOMUX_ST_ETIMEOUT ||
	    st == IOMUX_ST_EKIND;
}

/* One whole frame from the daemon to slot: check it against the stream. */
static void
check_frame(int slot, struct peer *p, const struct proto_frame *f)
{
	const struct proto_arg	*a = dec_args;
	const struct owed	*o;

	trace("  slot %d <- %s 0x%04x id %u argc %u", slot,
	    f->kind == IOMUX_KIND_PUSH ? "push" : "reply", f->code, f->id,
	    f->argc);
	if (p->closed_by != 0)
		fuzz_fail("slot %d: frame kind %u code 0x%04x id %u after "
		    "the closing error 0x%04x", slot, f->kind, f->code, f->id,
		    p->closed_by);
	if (f->kind == IOMUX_KIND_PUSH) {
		if (f->code != IOMUX_PUSH_MESSAGE || f->id != 0 ||
		    f->argc < 2 || f->argc > 3 || a[0].absent || a[1].absent)
			fuzz_fail("slot %d: push 0x%04x id %u argc %u is not a "
			    "MESSAGE", slot, f->code, f->id, f->argc);
		if (!p->subscribing && !p->lost)
			fuzz_fail("slot %d: a push without a subscription",
			    slot);
		return;
	}
	if (f->kind != IOMUX_KIND_REPLY)
		fuzz_fail("slot %d: frame of kind %u", slot, f->kind);
	if (strcmp(proto_status_name(f->code), "unknown") == 0)
		fuzz_fail("slot %d: unknown status 0x%04x", slot, f->code);
	if (IOMUX_ST_IS_ERROR(f->code) &&
	    (f->argc != 1 || a[0].absent || a[0].len == 0))
		fuzz_fail("slot %d: error 0x%04x id %u without its one "
		    "message (argc %u)", slot, f->code, f->id, f->argc);
	if (f->code == IOMUX_ST_EINTERNAL)
		fuzz_fail("slot %d: EINTERNAL id %u: %.*s", slot, f->id,
		    (int)a[0].len, (const char *)a[0].p);
	if (p->overflow)
		return;
	o = p->ohead < p->olen ? &p->owed[p->ohead] : NULL;
	/* HELLO of version 0 is answered EVERSION and the conn stays. */
	if (o != NULL && o->id == f->id &&
	    (!closing_status(f->code) || (f->code == IOMUX_ST_EVERSION &&
	    o->op == IOMUX_OP_HELLO))) {
		p->ohead++;
		if (f->code != IOMUX_ST_OK)
			return;
		if ((o->op == IOMUX_OP_HELLO || o->op == IOMUX_OP_STATUS ||
		    o->op == IOMUX_OP_WHOAMI) && f->argc % 2 != 0)
			fuzz_fail("slot %d: %s reply of %u arguments, not "
			    "pairs", slot, proto_op_name(o->op), f->argc);
		if (o->op == IOMUX_OP_PING && f->argc != o->argc)
			fuzz_fail("slot %d: PING of %u arguments echoed with "
			    "%u", slot, o->argc, f->argc);
		return;
	}
	if (closing_status(f->code)) {
		p->closed_by = f->code;
		return;
	}
	if (o == NULL)
		fuzz_fail("slot %d: reply 0x%04x id %u to no request%s", slot,
		    f->code, f->id, p->lost ? " (after a bad frame)" : "");
	fuzz_fail("slot %d: reply 0x%04x id %u, but id %u (%s) is owed "
	    "first", slot, f->code, f->id, o->id, proto_op_name(o->op));
}

/* Read up to max bytes the daemon sent to slot and check its frames. */
static void
peer_read(int slot, size_t max)
{
	struct peer		*p = &peers[slot];
	struct proto_frame	 f;
	uint8_t			 chunk[4096];
	size_t			 got = 0, want;
	ssize_t			 n;
	int			 r;

	if (p->fd < 0 || p->rd_shut || p->eof)
		return;
	while (got < max) {
		want = max - got < sizeof(chunk) ? max - got : sizeof(chunk);
		n = recv(p->fd, chunk, want, MSG_DONTWAIT);
		if (n == 0)
			p->eof = true;
		if (n <= 0)
			break;	/* EAGAIN, or ECONNRESET from the daemon */
		got += (size_t)n;
		CHECK(buf_add(&p->rx, chunk, (size_t)n) == 0);
	}
	while (buf_len(&p->rx) > 0) {
		r = proto_decode(buf_data(&p->rx), buf_len(&p->rx),
		    FRAME_MAX_HI, &f, dec_args, IOMUX_ARGS_MAX);
		if (r == PROTO_E_AGAIN)
			break;
		if (r < 0)
			fuzz_fail("slot %d: the daemon sent a frame that does "
			    "not decode (%s)", slot, strerror(-r));
		check_frame(slot, p, &f);
		buf_consume(&p->rx, (size_t)r);
	}
	/*
	 * A frame cut short by the daemon's close is no error: a client
	 * dropped for its output (limit, timeout, client_memory_max) loses
	 * what was not written yet.
	 */
	if (buf_len(&p->rx) == 0)
		buf_free(&p->rx);
}

/* The input being interpreted. */
struct script {
	const uint8_t	*p;
	size_t		 len, off;
};

static uint8_t
get8(struct script *s)
{
	return s->off < s->len ? s->p[s->off++] : 0;
}

static uint16_t
get16(struct script *s)
{
	uint16_t	hi = get8(s);

	return (uint16_t)(hi << 8 | get8(s));
}

/* n bytes of the input (cut to what is left); advances past them. */
static const uint8_t *
getn(struct script *s, size_t *n)
{
	const uint8_t	*p = s->p + s->off;

	if (*n > s->len - s->off)
		*n = s->len - s->off;
	s->off += *n;
	return p;
}

/* OP_FRAME: build the described request and send it. */
static void
op_frame(struct script *s, struct peer *p)
{
	struct proto_enc	 e;
	struct buf		 b;
	const uint8_t		*data;
	uint8_t			 sel, argc, i, len, fill, counter[2];
	uint16_t		 code;
	size_t			 n;
	uint32_t		 id;
	uint8_t			*big;

	sel = get8(s);
	code = sel < NFUZZ_OPS ? fuzz_ops[sel] :
	    sel == 0xff ? get16(s) : fuzz_ops[sel % NFUZZ_OPS];
	id = get8(s);
	argc = get8(s);
	buf_init(&b, 0);
	proto_enc_begin(&e, &b, IOMUX_FRAME_MAX_CAP, IOMUX_KIND_REQUEST, code,
	    id);
	for (i = 0; i < argc && s->off < s->len; i++) {
		len = get8(s);
		if (len == 0xff) {
			proto_enc_absent(&e);
		} else if (len == 0xfd) {
			buf_put_u16(counter, repeat_index);
			proto_enc_arg(&e, counter, sizeof(counter));
		} else if (len == 0xfe) {
			n = get16(s);
			fill = get8(s);
			CHECK((big = malloc(n + 1)) != NULL);
			memset(big, fill, n);
			proto_enc_arg(&e, big, n);
			free(big);
		} else {
			n = len;
			data = getn(s, &n);
			proto_enc_arg(&e, data, n);
		}
	}
	if (proto_enc_end(&e) > 0)
		peer_send(p, buf_data(&b), buf_len(&b));
	buf_free(&b);
}

static void
op_reload(uint8_t variant)
{
	struct conf	nc;

	conf_for(variant, srv.conf.backend, &nc);
	nomem_armed = true;
	server_reconfigure(&srv, &nc);
	nomem_armed = false;
}

/* Run one op of the script; 'nested' is set inside OP_REPEAT. */
static void
op_run(struct script *s, bool nested)
{
	static const size_t	 reads[] = { SIZE_MAX, 1, 100, 2000 };
	static const uint64_t	 units[] = { 1, 10, 100, 1000 };
	struct peer		*p;
	const uint8_t		*data;
	size_t			 n, start, end;
	uint8_t			 b, count;
	int			 slot, param, i, k;

	if (ops_run++ >= OPS_MAX) {
		s->off = s->len;
		return;
	}
	b = get8(s);
	slot = b & 3;
	param = (b >> 2) & 3;
	p = &peers[slot];
	trace("@%zu op %d slot %d param %d%s", s->off - 1, b >> 4, slot,
	    param, nested ? " (repeated)" : "");
	switch (b >> 4) {
	case OP_SEND:
	case OP_SEND16:
		n = b >> 4 == OP_SEND ? get8(s) : get16(s);
		data = getn(s, &n);
		peer_send(p, data, n);
		break;
	case OP_FRAME:
		op_frame(s, p);
		break;
	case OP_REPEAT:
		count = get8(s);
		if (nested)
			break;
		start = s->off;
		end = s->len;
		for (i = 0; i <= count && start < s->len; i++) {
			s->off = start;
			repeat_index = (uint16_t)i;
			for (k = 0; k <= param; k++)
				op_run(s, true);
			end = s->off;
		}
		repeat_index = 0;
		s->off = end;
		break;
	case OP_RUN:
		for (i = 0; i < 1 << (2 * param); i++)
			turn();
		break;
	case OP_READ:
		peer_read(slot, reads[param]);
		break;
	case OP_SHUT_WR:
	case OP_SHUT_RD:
		if (p->fd < 0)
			break;
		(void)shutdown(p->fd, b >> 4 == OP_SHUT_WR ? SHUT_WR :
		    SHUT_RD);
		if (b >> 4 == OP_SHUT_RD)
			p->rd_shut = true;
		break;
	case OP_CLOSE:
		peer_close(p);
		break;
	case OP_CONNECT:
		peer_connect(p);
		break;
	case OP_ADVANCE:
		vclock_ms += get8(s) * units[param];
		turn();
		break;
	case OP_STOP:
		stopped = true;
		nomem_armed = true;
		server_stop(&srv);
		nomem_armed = false;
		break;
	case OP_RELOAD:
		op_reload(get8(s));
		break;
	case OP_NOMEM:
		nomem_countdown = get8(s);
		break;
	default:
		turn();
		break;
	}
}

/*
 * Every peer is closed: each connection must see it and be freed. A
 * connection that is not read (its request waits, its backlog is full)
 * learns of it from the hang-up probe, and one closing with output from
 * its linger: the clock moves on so that those run too.
 */
static void
drain(void)
{
	int	i;

	for (i = 0; i < DRAIN_TURNS && srv.conns != NULL; i++) {
		if (i >= 8)
			vclock_ms += 500;
		turn();
	}
	if (srv.conns != NULL)
		fuzz_fail("conn %llu (flags 0x%x) outlived its peer by %d "
		    "turns", (unsigned long long)srv.conns->id,
		    srv.conns->flags, DRAIN_TURNS);
}

/* A STATUS field of the reply f (its arguments in dec_args). */
static uint64_t
status_u64(const struct proto_frame *f, const char *name)
{
	const struct proto_arg	*a = dec_args;
	char			 num[32];
	size_t			 len = strlen(name);
	unsigned int		 i;

	for (i = 0; i + 1 < f->argc; i += 2) {
		if (a[i].len != len || memcmp(a[i].p, name, len) != 0)
			continue;
		if (a[i + 1].len == 0 || a[i + 1].len >= sizeof(num))
			break;
		memcpy(num, a[i + 1].p, a[i + 1].len);
		num[a[i + 1].len] = '\0';
		return strtoull(num, NULL, 10);
	}
	fuzz_fail("STATUS has no number named %s", name);
}

/*
 * Nothing of any connection may be left once all are gone. The hub's
 * state is asked for as a client would: a new connection's STATUS.
 */
static void
check_empty(void)
{
	static const char *const	 none[] = {
		"blocked_clients", "locks_held", "lock_waiters",
		"subscribers", "channels", "patterns",
	};
	struct peer			*p = &peers[0];
	struct proto_enc		 e;
	struct proto_frame		 f;
	struct buf			 b;
	uint8_t				 chunk[4096];
	uint64_t			 v;
	ssize_t				 n;
	size_t				 i;
	int				 r = PROTO_E_AGAIN, k;

	peer_open(p);
	CHECK(p->fd >= 0);
	buf_init(&b, 0);
	proto_enc_begin(&e, &b, IOMUX_FRAME_MAX_DEFAULT, IOMUX_KIND_REQUEST,
	    IOMUX_OP_STATUS, 1);
	CHECK(proto_enc_end(&e) > 0);
	CHECK(send(p->fd, buf_data(&b), buf_len(&b), MSG_NOSIGNAL) ==
	    (ssize_t)buf_len(&b));
	buf_free(&b);
	for (k = 0; k < 64 && r == PROTO_E_AGAIN; k++) {
		turn();
		while ((n = recv(p->fd, chunk, sizeof(chunk), 0)) > 0)
			CHECK(buf_add(&p->rx, chunk, (size_t)n) == 0);
		if (buf_len(&p->rx) > 0)
			r = proto_decode(buf_data(&p->rx), buf_len(&p->rx),
			    IOMUX_FRAME_MAX_CAP, &f, dec_args,
			    IOMUX_ARGS_MAX);
	}
	if (r <= 0)
		fuzz_fail("no STATUS reply at the end (%d)", r);
	if (f.kind != IOMUX_KIND_REPLY || f.code != IOMUX_ST_OK || f.id != 1)
		fuzz_fail("STATUS at the end: kind %u code 0x%04x id %u",
		    f.kind, f.code, f.id);
	if ((v = status_u64(&f, "clients")) != 1)
		fuzz_fail("STATUS at the end: %llu clients, not 1",
		    (unsigned long long)v);
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		if ((v = status_u64(&f, none[i])) != 0)
			fuzz_fail("STATUS at the end: %s %llu with every "
			    "other client gone", none[i],
			    (unsigned long long)v);
	/* Stored data is keys, queues and lock names (none held now). */
	if (status_u64(&f, "keys") == 0 && status_u64(&f, "queues") == 0 &&
	    (v = status_u64(&f, "data_bytes")) != 0)
		fuzz_fail("STATUS at the end: data_bytes %llu with no key, "
		    "queue or lock", (unsigned long long)v);
	peer_close(p);
	drain();
	CHECK(srv.nclients == 0);
	CHECK(srv.client_mem.bytes == 0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*tmp = getenv("TMPDIR");

	log_init("fuzz_request", 0);
	tracing = getenv("FUZZ_REQUEST_TRACE") != NULL;
	snprintf(sockdir, sizeof(sockdir), "%s/fuzz_request.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' && strlen(tmp) < 32 ? tmp : "/tmp");
	if (mkdtemp(sockdir) == NULL)
		fuzz_fail("mkdtemp %s: %s", sockdir, strerror(errno));
	sockdir_pid = getpid();
	atexit(sockdir_remove);
	snprintf(sockpath, sizeof(sockpath), "%s/sock", sockdir);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct script	s = { data, size, 0 };
	int		i;

	if (size < 1)
		return 0;
	vclock_on = true;
	vclock_ms = CLOCK_START_MS;
	nomem_countdown = -1;
	connects = ops_run = 0;
	sent_total = 0;
	server_setup(get8(&s));
	memset(peers, 0, sizeof(peers));
	for (i = 0; i < NSLOTS; i++) {
		peers[i].fd = -1;
		peer_connect(&peers[i]);
	}
	/* After a stop, server_run() returns once the last client is gone. */
	while (s.off < s.len && !(stopped && srv.nclients == 0))
		op_run(&s, false);
	nomem_countdown = -1;	/* the end is not under test */
	for (i = 0; i < NSLOTS; i++) {
		peer_read(i, SIZE_MAX);
		peer_close(&peers[i]);
	}
	drain();
	check_empty();
	server_free(&srv);
	vclock_on = false;
	return 0;
}
