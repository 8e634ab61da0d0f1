/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * sockfuzz.c: a socket-level fuzzer for the real iomuxd, run by make check.
 *
 * For each backend in $IOMUXD_BACKENDS it starts $IOMUXD on a private
 * socket (plus a loopback TCP port) with small limits, so that frame_max,
 * the output limit and the frame, idle and output timeouts are reached
 * within seconds. For SOCKFUZZ_SECONDS (default 5, or 30 when CI=true) a
 * pool of SOCKFUZZ_CLIENTS (default 32) non-blocking raw connections,
 * driven from one poll loop, sends valid requests of every opcode with
 * odd argument counts, sizes and absent arguments (names from small pools,
 * so clients collide on keys, queues, channels and locks; blocking WAIT,
 * POP and LOCK with short or no deadlines; subscribers and publishers),
 * mutated and hand-crafted bad frames, each write split at random offsets
 * with random pauses, and ends connections every way a peer can: close
 * (also mid-frame), reset, SHUT_WR, SHUT_RD, never reading, reading
 * slowly. Closed clients reconnect. A few times a second the config file
 * is rewritten (sometimes invalid) and the daemon gets SIGHUP. Meanwhile
 * a health connection sends PING every 50 ms and the reply must come
 * within SOCKFUZZ_PING_MS (default 100 ms times CK_TIMEOUT_MULTIPLIER).
 *
 * Replies are checked as they arrive: every frame must parse and fit in
 * frame_max, errors carry one message, pushes only go to subscribers, no
 * reply follows an error that closes the connection, and on a connection
 * that has sent only well-formed frames the replies answer the requests
 * in order, by id. A connection half-closed with SHUT_WR must be closed by
 * the daemon within seconds. At the end every fuzz client closes; STATUS
 * must come back to one client (the health one) and no locks, waiters,
 * blocked clients or subscribers; the daemon must hold as many fds as at
 * the start, exit 0 on SIGTERM, and its log must hold no sanitizer report
 * or failed assertion.
 *
 * Output is TAP, one test per backend (the Makefile runs every extension-
 * less test through the TAP driver, which counts any non-zero exit as an
 * error, so a missing $IOMUXD is "1..0 # SKIP" with exit 0); exit 1 if a
 * backend failed. A failure report names the seed, the backend and the
 * time, shows the last actions of the client concerned (or, when the
 * daemon died, of the clients that were active last) and of the whole
 * pool, and the tail of the daemon's log.
 *
 * Replay: every choice comes from a seeded PRNG (splitmix64 seeding
 * xorshift64*); the seed is printed at the start and in every failure
 * message. Run
 *	SOCKFUZZ_SEED=0x... IOMUXD_BACKENDS=poll make check TESTS=tests/sockfuzz
 * or tests/sockfuzz itself with IOMUXD=daemon/iomuxd. Each connection
 * draws from its own stream (seed, slot, generation) and the reloads from
 * another, so what a client sends does not depend on how the others were
 * scheduled, and SOCKFUZZ_CLIENTS=1 (or 2, 3...) replays just the first
 * slots: the way to narrow a failure down to one connection's actions.
 * The interleaving still depends on timing, so a replay makes the same
 * requests but may hit a race at another moment or not at all.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iomux-proto.h"
#include "testutil.h"

#define POOL_DEFAULT	32
#define POOL_MAX	64
#define MAX_BACKENDS	8

#define FRAME_MAX_LO	4096	/* frame_max of config A */
#define FRAME_MAX_HI	8192	/* of config B: no reply may be larger */
#define OUT_CAP		(24u << 10)	/* the bytes of one action */
#define IN_CAP		(FRAME_MAX_HI + 4 + 4096)
#define PENDING_MAX	512	/* ids of requests awaiting their reply */
#define REQ_ARGS	48
#define REQ_STORE	7000	/* one request's argument bytes */
#define MANY_ARGS	1100	/* "huge argc" frames: over IOMUX_ARGS_MAX */

#define HIST		12	/* per-client action history */
#define GHIST		256	/* pool-wide action history */
#define GSHOW		40	/* of which a report shows the last actions */
#define NOTE_LEN	120

#define PING_EVERY_US	50000
#define HUP_MIN_US	150000	/* SIGHUP every 150..450 ms */
#define HUP_SPAN_US	300000
#define SHUT_WR_EOF_MS	3000	/* the daemon closes a half-closed client */
#define DRAIN_MS	5000	/* fuzz clients gone from STATUS */
#define IO_MS		2000	/* one STATUS round trip at the end */

/* ---- PRNG: splitmix64 to seed, xorshift64* to draw ------------------ */

struct rng {
	uint64_t	s;
};

static uint64_t
splitmix64(uint64_t *s)
{
	uint64_t	z;

	z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A stream of its own for each (stream, sub) pair of one seed. */
static void
rng_seed(struct rng *r, uint64_t seed, uint64_t stream, uint64_t sub)
{
	uint64_t	s;

	s = seed ^ splitmix64(&(uint64_t){ stream << 32 | (sub & 0xffffffff) });
	r->s = splitmix64(&s);
	if (r->s == 0)
		r->s = 1;
}

static uint64_t
rnd(struct rng *r)
{
	uint64_t	x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * UINT64_C(0x2545f4914f6cdd1d);
}

/* Uniform in [0, n); 0 when n is 0. */
static uint32_t
rn(struct rng *r, uint32_t n)
{
	return n == 0 ? 0 : (uint32_t)((rnd(r) >> 32) % n);
}

static int
chance(struct rng *r, unsigned pct)
{
	return rn(r, 100) < pct;
}

static void
fill(struct rng *r, uint8_t *p, size_t len)
{
	uint64_t	v = 0;
	size_t		i;

	for (i = 0; i < len; i++) {
		if (i % 8 == 0)
			v = rnd(r);
		p[i] = (uint8_t)(v >> (i % 8 * 8));
	}
}

/* ---- state ---------------------------------------------------------- */

enum reader {
	RD_NORMAL,	/* reads whatever arrives */
	RD_SLOW,	/* a few hundred bytes every few tens of ms */
	RD_NEVER,	/* never reads: its output backs up */
};
static const char *const reader_name[] = { "normal", "slow", "never" };

/* What to do once the bytes of the current action are all sent. */
enum after {
	AF_NONE,
	AF_CLOSE,	/* close(), typically mid-frame */
	AF_RST,		/* SO_LINGER 0 then close(): a reset on TCP */
	AF_SHUT_WR,	/* shutdown(SHUT_WR), then read until EOF */
	AF_STALL,	/* pause past frame_timeout (mid-frame) */
};

struct note {
	int64_t		t;	/* us since the backend's start */
	int		slot;	/* -1: not a client's */
	unsigned	gen;
	char		text[NOTE_LEN];
};

struct fclient {
	int		 fd;		/* -1: slot empty, reconnect at wake */
	int		 slot;
	unsigned	 gen;		/* connections made in this slot */
	int		 tcp;
	struct rng	 rng;		/* what to send and how to end */
	struct rng	 io;		/* write pieces, pauses, read sizes */
	enum reader	 reader;
	int64_t		 wake;		/* next piece, action or reconnect */
	int64_t		 read_at;	/* a slow reader's next read */
	int64_t		 eof_by;	/* half-closed: the daemon closes by */
	int		 actions;	/* left before the connection ends */
	uint8_t		*out;
	size_t		 olen, ooff;
	int		 split;		/* send out[] in random pieces */
	int		 want_out;	/* send() said EAGAIN: await POLLOUT */
	enum after	 after;
	uint8_t		*in;
	size_t		 ilen;
	uint32_t	 next_id;
	struct owed {
		uint32_t id;
		uint32_t blen;		/* the request's body length */
	}		 fifo[PENDING_MAX];	/* owed a reply, in order */
	uint64_t	 replies;	/* reply frames received */
	unsigned	 fhead, fcount;
	int		 dirty;		/* this connection sends bad frames */
	int		 tainted;	/* sent a bad frame: ids unchecked */
	int		 unchecked;	/* fifo overflowed: stop checking ids */
	int		 subscribed;	/* sent a SUBSCRIBE or PSUBSCRIBE */
	int		 shut_wr, shut_rd;
	uint16_t	 closed_by;	/* error that closes the connection */
	struct note	 hist[HIST];
	unsigned	 nhist;
};

struct stats {
	uint64_t	requests, bad, connects, tcp, busy, gone;
	uint64_t	resets, shut_wr, shut_rd, reloads, frames, pushes;
	uint64_t	pings, ping_late_checks;
	int64_t		ping_max_us;
};

struct fuzz {
	struct tu_daemon d;
	const char	*backend;
	uint64_t	 seed;
	double		 seconds;
	int		 nclients;
	int64_t		 ping_limit_us;
	int		 mult;		/* CK_TIMEOUT_MULTIPLIER */
	int		 tcp_port;
	char		 conf[PATH_MAX];
	struct rng	 grng;		/* reload timing and contents */
	int64_t		 t0, next_hup;
	struct fclient	 cl[POOL_MAX];
	/* The health connection: one PING in flight at a time. */
	int		 hfd;
	uint8_t		 hbuf[512];
	size_t		 hlen;
	uint32_t	 hid;
	int		 hout;
	int64_t		 hsent, hnext;
	struct stats	 st;
	struct note	 g[GHIST];
	unsigned	 ng;
	int		 failed;
	int		 fail_slot;
	int64_t		 fail_t;
	char		 why[512];
};

static struct fuzz	 F;
static volatile pid_t	 alarm_pid;	/* the daemon, for the alarm handler */

static const struct {
	uint16_t	 op;
	const char	*name;
	unsigned	 weight;
} ops[] = {
	{ IOMUX_OP_HELLO, "HELLO", 2 }, { IOMUX_OP_PING, "PING", 3 },
	{ IOMUX_OP_STATUS, "STATUS", 1 }, { IOMUX_OP_GET, "GET", 6 },
	{ IOMUX_OP_SET, "SET", 8 }, { IOMUX_OP_DEL, "DEL", 3 },
	{ IOMUX_OP_EXISTS, "EXISTS", 2 }, { IOMUX_OP_INCR, "INCR", 4 },
	{ IOMUX_OP_KEYS, "KEYS", 2 }, { IOMUX_OP_TTL, "TTL", 2 },
	{ IOMUX_OP_EXPIRE, "EXPIRE", 2 }, { IOMUX_OP_PERSIST, "PERSIST", 1 },
	{ IOMUX_OP_WAIT, "WAIT", 4 }, { IOMUX_OP_PUSH, "PUSH", 6 },
	{ IOMUX_OP_POP, "POP", 5 }, { IOMUX_OP_QLEN, "QLEN", 2 },
	{ IOMUX_OP_PEEK, "PEEK", 2 }, { IOMUX_OP_SUBSCRIBE, "SUBSCRIBE", 3 },
	{ IOMUX_OP_UNSUBSCRIBE, "UNSUBSCRIBE", 2 },
	{ IOMUX_OP_PSUBSCRIBE, "PSUBSCRIBE", 2 },
	{ IOMUX_OP_PUNSUBSCRIBE, "PUNSUBSCRIBE", 1 },
	{ IOMUX_OP_PUBLISH, "PUBLISH", 6 }, { IOMUX_OP_LOCK, "LOCK", 5 },
	{ IOMUX_OP_TRYLOCK, "TRYLOCK", 3 }, { IOMUX_OP_UNLOCK, "UNLOCK", 4 },
	{ 0x7e01, "unknown", 1 },
};
#define NOPS	(sizeof ops / sizeof ops[0])

/*
 * The configurations a reload switches between. A and B differ in every
 * limit a reload applies to connected clients; C is rejected as a whole.
 * max_clients, appended to each, stays (a reload cannot raise it): an
 * eighth of the pool under the pool and the health connection, so that a
 * few slots at a time meet EBUSY and reconnect.
 */
static const char *const conf_text[] = {
	"frame_max = 4K\noutput_limit = 64K\noutput_high = 16K\n"
	"output_timeout = 1s\nframe_timeout = 300ms\nidle_timeout = 2s\n"
	"shutdown_timeout = 2s\nreqs_per_wakeup = 4\naccepts_per_wakeup = 4\n"
	"key_max = 64\nvalue_max = 2K\nmax_memory = 1M\n"
	"subscriptions_max = 8\n"
	"rule = unix all admin\nrule = tcp anonymous rw\n",
	"frame_max = 8K\noutput_limit = 32K\noutput_high = 8K\n"
	"output_timeout = 500ms\nframe_timeout = 500ms\nidle_timeout = 1s\n"
	"shutdown_timeout = 2s\nreqs_per_wakeup = 32\naccepts_per_wakeup = 16\n"
	"key_max = 32\nvalue_max = 6K\nmax_memory = 512K\n"
	"subscriptions_max = 4\n"
	"# TCP clients by namespace: the rules' slow path\n"
	"rule = unix all admin\nrule = tcp anonymous rw a b c\n"
	"rule = tcp anonymous ro\n",
	"# rejected: the running configuration stays\n"
	"frame_max = 70M\n",
};

static const char *
op_name(uint16_t op)
{
	size_t	i;

	for (i = 0; i < NOPS; i++)
		if (ops[i].op == op)
			return ops[i].name;
	return "unknown";
}

static double
rel_s(const struct fuzz *fz, int64_t t)
{
	return (double)(t - fz->t0) / 1e6;
}

/* Record an action in the client's history (c may be NULL) and the pool's. */
static void __attribute__((format(printf, 3, 4)))
note(struct fuzz *fz, struct fclient *c, const char *fmt, ...)
{
	struct note	*n;
	va_list		 ap;

	n = &fz->g[fz->ng++ % GHIST];
	n->t = tu_now_us() - fz->t0;
	n->slot = c != NULL ? c->slot : -1;
	n->gen = c != NULL ? c->gen : 0;
	va_start(ap, fmt);
	vsnprintf(n->text, sizeof n->text, fmt, ap);
	va_end(ap);
	if (c != NULL)
		c->hist[c->nhist++ % HIST] = *n;
}

/* The first failure of a run ends it; the report comes at the end. */
static void __attribute__((format(printf, 3, 4)))
fail(struct fuzz *fz, struct fclient *c, const char *fmt, ...)
{
	va_list	ap;

	if (fz->failed)
		return;
	fz->failed = 1;
	fz->fail_slot = c != NULL ? c->slot : -1;
	fz->fail_t = tu_now_us();
	va_start(ap, fmt);
	vsnprintf(fz->why, sizeof fz->why, fmt, ap);
	va_end(ap);
	if (c != NULL)
		note(fz, c, "FAILED: %s", fz->why);
}

static void
put64(uint8_t *p, uint64_t v)
{
	tu_put32(p, (uint32_t)(v >> 32));
	tu_put32(p + 4, (uint32_t)v);
}

/* ---- request generation ----------------------------------------------- */

struct req {
	uint16_t	op;
	size_t		argc;
	struct tu_arg	argv[REQ_ARGS];
	uint8_t		store[REQ_STORE];
	size_t		used;
};

enum ns { NS_KEY, NS_QUEUE, NS_CHAN, NS_LOCK };

/* Room for a new argument of len bytes (cut to what is left), or NULL. */
static uint8_t *
arg_new(struct req *q, size_t len)
{
	uint8_t	*p;

	if (q->argc >= REQ_ARGS)
		return NULL;
	if (len > REQ_STORE - q->used)
		len = REQ_STORE - q->used;
	p = q->store + q->used;
	q->argv[q->argc].p = p;
	q->argv[q->argc].len = (uint32_t)len;
	q->argc++;
	q->used += len;
	return p;
}

static void
arg_bytes(struct req *q, const void *p, size_t len)
{
	uint8_t	*d;

	if ((d = arg_new(q, len)) != NULL)
		memcpy(d, p, q->argv[q->argc - 1].len);
}

static void
arg_absent(struct req *q)
{
	if (q->argc >= REQ_ARGS)
		return;
	q->argv[q->argc].p = NULL;
	q->argv[q->argc].len = TU_ABSENT;
	q->argc++;
}

static void
arg_u32(struct req *q, uint32_t v)
{
	uint8_t	*p;

	if ((p = arg_new(q, 4)) != NULL && q->argv[q->argc - 1].len == 4)
		tu_put32(p, v);
}

static void
arg_u64(struct req *q, uint64_t v)
{
	uint8_t	*p;

	if ((p = arg_new(q, 8)) != NULL && q->argv[q->argc - 1].len == 8)
		put64(p, v);
}

/*
 * A name: mostly from a pool of a few per name space, so that clients
 * meet on the same keys, queues, channels and locks; sometimes empty,
 * over key_max, or binary.
 */
static void
arg_name(struct rng *r, struct req *q, enum ns ns)
{
	static const char	 prefix[] = "kqcl";
	static const unsigned	 pool[] = { 6, 4, 5, 4 };
	char			 buf[16];
	uint8_t			*p;
	size_t			 len;
	unsigned		 k = rn(r, 100);
	int			 n;

	if (k < 86) {
		n = snprintf(buf, sizeof buf, "%c%u", prefix[ns],
		    rn(r, pool[ns]));
		arg_bytes(q, buf, (size_t)n);
	} else if (k < 90)
		arg_bytes(q, "", 0);
	else if (k < 95) {
		len = 30 + rn(r, 110);
		if ((p = arg_new(q, len)) != NULL)
			memset(p, prefix[ns], q->argv[q->argc - 1].len);
	} else {
		len = 1 + rn(r, 8);
		if ((p = arg_new(q, len)) != NULL)
			fill(r, p, q->argv[q->argc - 1].len);
	}
}

static void
arg_pattern(struct rng *r, struct req *q)
{
	static const char *const pat[] = {
		"c*", "c1*", "*", "k*", "c0", "c*x", "**", "",
	};
	const char	*p = pat[rn(r, sizeof pat / sizeof pat[0])];

	arg_bytes(q, p, strlen(p));
}

/*
 * A value: mostly small, sometimes over value_max (2K or 6K) or big
 * enough that the frame passes frame_max (4K or 8K); sometimes a number,
 * for INCR.
 */
static void
arg_value(struct rng *r, struct req *q)
{
	static const char *const num[] = {
		"0", "41", "-7", "9223372036854775807",
		"-9223372036854775808", "12x", " 1", "+1",
	};
	const char	*s;
	uint8_t		*p;
	size_t		 len;
	unsigned	 k = rn(r, 100);

	if (k < 8) {
		s = num[rn(r, sizeof num / sizeof num[0])];
		arg_bytes(q, s, strlen(s));
		return;
	}
	k = rn(r, 100);
	if (k < 35)
		len = rn(r, 9);
	else if (k < 75)
		len = 9 + rn(r, 200);
	else if (k < 93)
		len = 200 + rn(r, 1800);
	else if (k < 99)
		len = 2000 + rn(r, 1900);
	else
		len = 3900 + rn(r, 2600);
	if ((p = arg_new(q, len)) == NULL)
		return;
	len = q->argv[q->argc - 1].len;
	memset(p, 'a' + (int)rn(r, 26), len);
	fill(r, p, len < 8 ? len : 8);
}

/* A blocking call's timeout: none, short, longer, forever, or absent. */
static void
arg_timeout(struct rng *r, struct req *q)
{
	unsigned	k = rn(r, 100);

	if (k < 15)
		arg_u64(q, 0);
	else if (k < 55)
		arg_u64(q, 1 + rn(r, 150));
	else if (k < 70)
		arg_u64(q, 150 + rn(r, 600));
	else if (k < 85)
		arg_u64(q, IOMUX_TIMEOUT_FOREVER);
	else
		arg_absent(q);
}

/* What an argument list holds. */
enum list { L_KEYS, L_CHANNELS, L_PATTERNS, L_VALUES };

/*
 * n arguments of one kind. A list a command requires is now and then
 * empty (EARGS); an optional one (UNSUBSCRIBE's) is often.
 */
static void
arg_list(struct rng *r, struct req *q, enum list l, int optional,
    unsigned max)
{
	unsigned	i, n;

	if (optional)
		n = rn(r, max + 1);
	else
		n = chance(r, 5) ? 0 : 1 + rn(r, max);
	for (i = 0; i < n; i++) {
		if (l == L_KEYS)
			arg_name(r, q, NS_KEY);
		else if (l == L_CHANNELS)
			arg_name(r, q, NS_CHAN);
		else if (l == L_PATTERNS)
			arg_pattern(r, q);
		else
			arg_value(r, q);
	}
}

static uint16_t
pick_op(struct rng *r)
{
	unsigned	total = 0, k;
	size_t		i;

	for (i = 0; i < NOPS; i++)
		total += ops[i].weight;
	k = rn(r, total);
	for (i = 0; i < NOPS; i++) {
		if (k < ops[i].weight)
			return ops[i].op;
		k -= ops[i].weight;
	}
	return IOMUX_OP_PING;
}

/*
 * A well-formed request of op, with arguments as the protocol wants them
 * most of the time and of the wrong number or shape (EARGS) sometimes.
 */
static void
build(struct fclient *c, struct req *q, uint16_t op)
{
	static const uint64_t	 delta[] = {
		1, UINT64_MAX, INT64_MAX, (uint64_t)INT64_MIN, 1000,
	};
	struct rng		*r = &c->rng;
	unsigned		 i, n;
	uint8_t			*p;

	q->op = op;
	q->argc = 0;
	q->used = 0;
	switch (op) {
	case IOMUX_OP_HELLO:
		arg_u32(q, chance(r, 85) ? 1 : (uint32_t[]){ 0, 2,
		    0xffffffff }[rn(r, 3)]);
		if (chance(r, 50) && (p = arg_new(q, chance(r, 85) ?
		    1 + rn(r, 20) : 60 + rn(r, 20))) != NULL)
			memset(p, 'n', q->argv[q->argc - 1].len);
		break;
	case IOMUX_OP_PING:
		if (chance(r, 70)) {
			if (chance(r, 10))
				arg_absent(q);
			else
				arg_value(r, q);
		}
		break;
	case IOMUX_OP_STATUS:
		break;
	case IOMUX_OP_GET:
	case IOMUX_OP_TTL:
	case IOMUX_OP_PERSIST:
		arg_name(r, q, NS_KEY);
		break;
	case IOMUX_OP_SET:
		arg_name(r, q, NS_KEY);
		arg_value(r, q);
		n = rn(r, 4);
		if (n >= 1) {
			if (chance(r, 30))
				arg_absent(q);
			else
				arg_u64(q, chance(r, 50) ? 0 : 1 + rn(r, 800));
		}
		if (n >= 2) {
			if (chance(r, 30))
				arg_absent(q);
			else
				arg_u32(q, rn(r, 8));
		}
		if (n >= 3)
			arg_value(r, q);
		break;
	case IOMUX_OP_DEL:
	case IOMUX_OP_EXISTS:
		arg_list(r, q, L_KEYS, 0, 8);
		break;
	case IOMUX_OP_INCR:
		arg_name(r, q, NS_KEY);
		if (chance(r, 50))
			arg_u64(q, delta[rn(r, sizeof delta /
			    sizeof delta[0])]);
		break;
	case IOMUX_OP_KEYS:
		if (chance(r, 50))
			arg_bytes(q, chance(r, 50) ? "" : "k", chance(r, 50) ?
			    0 : 1);
		else
			arg_name(r, q, NS_KEY);
		n = rn(r, 3);
		if (n >= 1)
			arg_u64(q, chance(r, 70) ? 0 : rnd(r));
		if (n >= 2)
			arg_u32(q, chance(r, 10) ? 0 : 1 + rn(r, 1200));
		break;
	case IOMUX_OP_EXPIRE:
		arg_name(r, q, NS_KEY);
		arg_u64(q, chance(r, 10) ? 0 : 1 + rn(r, 1000));
		break;
	case IOMUX_OP_WAIT:
	case IOMUX_OP_POP:
		/* POP without a timeout does not wait. */
		arg_name(r, q, op == IOMUX_OP_WAIT ? NS_KEY : NS_QUEUE);
		if (chance(r, 70))
			arg_timeout(r, q);
		break;
	case IOMUX_OP_PUSH:
		arg_name(r, q, NS_QUEUE);
		arg_list(r, q, L_VALUES, 0, 6);
		break;
	case IOMUX_OP_QLEN:
	case IOMUX_OP_PEEK:
		arg_name(r, q, NS_QUEUE);
		break;
	case IOMUX_OP_SUBSCRIBE:
	case IOMUX_OP_UNSUBSCRIBE:
		arg_list(r, q, L_CHANNELS, op == IOMUX_OP_UNSUBSCRIBE, 4);
		break;
	case IOMUX_OP_PSUBSCRIBE:
	case IOMUX_OP_PUNSUBSCRIBE:
		arg_list(r, q, L_PATTERNS, op == IOMUX_OP_PUNSUBSCRIBE, 3);
		break;
	case IOMUX_OP_PUBLISH:
		arg_name(r, q, NS_CHAN);
		arg_value(r, q);
		break;
	case IOMUX_OP_LOCK:
		arg_name(r, q, NS_LOCK);
		n = rn(r, 3);
		if (n >= 1)
			arg_timeout(r, q);
		if (n >= 2)
			arg_u64(q, chance(r, 50) ? 0 : 20 + rn(r, 2000));
		break;
	case IOMUX_OP_TRYLOCK:
		arg_name(r, q, NS_LOCK);
		if (chance(r, 50))
			arg_u64(q, chance(r, 30) ? 0 : 20 + rn(r, 2000));
		break;
	case IOMUX_OP_UNLOCK:
		arg_name(r, q, NS_LOCK);
		break;
	default:
		q->op = (uint16_t)((1 + rn(r, 6)) << 8 | (0x40 + rn(r, 0xc0)));
		arg_list(r, q, L_VALUES, 1, 3);
		break;
	}
	if (op == IOMUX_OP_SUBSCRIBE || op == IOMUX_OP_PSUBSCRIBE)
		c->subscribed = 1;
	/* Still well-framed, but the wrong shape for the opcode. */
	if (chance(r, 12)) {
		i = rn(r, q->argc ? (uint32_t)q->argc : 1);
		switch (rn(r, 4)) {
		case 0:
			if (q->argc > 0)
				q->argc--;
			break;
		case 1:
			arg_value(r, q);
			break;
		case 2:
			if (q->argc > 0) {
				q->argv[i].p = NULL;
				q->argv[i].len = TU_ABSENT;
			}
			break;
		default:
			/* A u32 or u64 that is too short, a shorter name. */
			if (q->argc > 0 && q->argv[i].len != TU_ABSENT &&
			    q->argv[i].len > 0)
				q->argv[i].len = rn(r, q->argv[i].len);
			break;
		}
	}
}

/* The daemon owes this client a reply to request id of blen bytes. */
static void
expect(struct fclient *c, uint32_t id, size_t blen)
{
	struct owed	*o;

	if (c->tainted || c->unchecked)
		return;
	if (c->fcount == PENDING_MAX) {
		c->unchecked = 1;
		return;
	}
	o = &c->fifo[(c->fhead + c->fcount++) % PENDING_MAX];
	o->id = id;
	o->blen = (uint32_t)blen;
}

/*
 * Append q to the client's output with the next id. valid: the frame is
 * sent as is, so its reply is checked. Returns the frame's offset in
 * c->out, or -1 if it does not fit (nothing appended).
 */
static ssize_t
put_req(struct fuzz *fz, struct fclient *c, const struct req *q, int valid)
{
	size_t		n, off = c->olen;
	uint32_t	id = c->next_id++;

	n = tu_encode_req(NULL, 0, q->op, id, q->argc, q->argv);
	if (n > OUT_CAP - c->olen)
		return -1;
	tu_encode_req(c->out + off, OUT_CAP - off, q->op, id, q->argc, q->argv);
	c->olen += n;
	fz->st.requests++;
	if (valid)
		expect(c, id, n - 4);
	return (ssize_t)off;
}

/* Append count valid requests; desc gets their names and ids. */
static void
gen_valid(struct fuzz *fz, struct fclient *c, unsigned count, char *desc,
    size_t dlen)
{
	static struct req	 q;
	size_t			 dl;
	unsigned		 i;

	for (i = 0; i < count; i++) {
		build(c, &q, pick_op(&c->rng));
		if (put_req(fz, c, &q, 1) < 0)
			break;
		dl = strlen(desc);
		snprintf(desc + dl, dlen - dl, "%s%s#%u/%zu", dl ? " " : "",
		    op_name(q.op), c->next_id - 1, q.argc);
	}
}

/* A WAIT, POP or LOCK that may have to wait (a deadline or none). */
static void
gen_blocking(struct fuzz *fz, struct fclient *c, char *desc, size_t dlen)
{
	static const uint16_t	 bops[] = {
		IOMUX_OP_WAIT, IOMUX_OP_POP, IOMUX_OP_LOCK,
	};
	static struct req	 q;
	struct rng		*r = &c->rng;
	size_t			 dl;

	q.op = bops[rn(r, 3)];
	q.argc = 0;
	q.used = 0;
	arg_name(r, &q, q.op == IOMUX_OP_WAIT ? NS_KEY : q.op == IOMUX_OP_POP ?
	    NS_QUEUE : NS_LOCK);
	arg_timeout(r, &q);
	if (q.op == IOMUX_OP_LOCK && chance(r, 30))
		arg_u64(&q, 20 + rn(r, 1000));
	if (put_req(fz, c, &q, 1) < 0)
		return;
	dl = strlen(desc);
	snprintf(desc + dl, dlen - dl, "%sblocking %s#%u/%zu", dl ? " " : "",
	    op_name(q.op), c->next_id - 1, q.argc);
}

enum bad {
	BAD_FLIP, BAD_VERSION, BAD_KIND, BAD_OVERSIZE, BAD_UNDERSIZE,
	BAD_SHORTLEN, BAD_TRAILING, BAD_ARGC, BAD_ARGLEN, BAD_MANYARGS,
	BAD_TRUNC, BAD_N
};
static const char *const bad_name[] = {
	"bit flips", "wrong version", "wrong kind", "oversized length",
	"undersized length", "length short of its args", "trailing bytes",
	"argc past the body", "arg length past the body", "huge argc",
	"truncated frame",
};

/*
 * Append one bad frame: a valid request mutated, or made up. The client
 * is tainted from here on (the daemon may rightly parse the garbage in
 * ways we do not model), so its later replies are not matched by id.
 */
static void
gen_bad(struct fuzz *fz, struct fclient *c, char *desc, size_t dlen)
{
	static struct req	 q;
	static struct tu_arg	 many[MANY_ARGS];
	static const uint32_t	 big[] = {
		FRAME_MAX_LO + 1, FRAME_MAX_HI + 1, 65537, 1u << 24,
		0x7fffffff, 0xffffffff,
	};
	struct rng		*r = &c->rng;
	enum bad		 b = (enum bad)rn(r, BAD_N);
	uint8_t			*f;
	ssize_t			 off;
	size_t			 len, k, i, dl;
	uint32_t		 v;

	c->tainted = 1;
	fz->st.bad++;
	dl = strlen(desc);
	snprintf(desc + dl, dlen - dl, "%sbad: %s", dl ? " " : "",
	    bad_name[b]);
	if (b == BAD_OVERSIZE || b == BAD_UNDERSIZE) {
		/* A length prefix alone, then a little junk. */
		if (OUT_CAP - c->olen < 4 + 32)
			return;
		f = c->out + c->olen;
		v = b == BAD_OVERSIZE ? big[rn(r, sizeof big / sizeof big[0])] :
		    rn(r, 10);
		if (b == BAD_OVERSIZE && chance(r, 30))
			v = FRAME_MAX_HI + 1 + rn(r, 1u << 20);
		tu_put32(f, v);
		k = b == BAD_UNDERSIZE ? v + rn(r, 8) : chance(r, 50) ? 0 :
		    rn(r, 32);
		fill(r, f + 4, k);
		c->olen += 4 + k;
		dl = strlen(desc);
		snprintf(desc + dl, dlen - dl, " %u (+%zu)", v, k);
		return;
	}
	if (b == BAD_MANYARGS) {
		for (i = 0; i < MANY_ARGS; i++) {
			many[i].p = NULL;
			many[i].len = TU_ABSENT;
		}
		k = IOMUX_ARGS_MAX + 1 + rn(r, MANY_ARGS - IOMUX_ARGS_MAX);
		len = tu_encode_req(NULL, 0, IOMUX_OP_PING, c->next_id, k,
		    many);
		if (len > OUT_CAP - c->olen)
			return;
		tu_encode_req(c->out + c->olen, OUT_CAP - c->olen,
		    IOMUX_OP_PING, c->next_id++, k, many);
		c->olen += len;
		return;
	}
	build(c, &q, pick_op(r));
	if ((off = put_req(fz, c, &q, 0)) < 0)
		return;
	f = c->out + off;
	len = c->olen - (size_t)off;
	switch (b) {
	case BAD_FLIP:
		for (k = 1 + rn(r, 4); k > 0; k--) {
			i = rn(r, (uint32_t)len * 8);
			f[i / 8] ^= (uint8_t)(1u << (i % 8));
		}
		break;
	case BAD_VERSION:
		f[4] = (uint8_t[]){ 0, 2, 0x81, 0xff }[rn(r, 4)];
		break;
	case BAD_KIND:
		f[5] = (uint8_t[]){ 0, 2, 3, 4, 0xff }[rn(r, 5)];
		break;
	case BAD_SHORTLEN:
		/* The args now run past the end of the body. */
		k = 1 + rn(r, 8);
		v = tu_get32(f);
		tu_put32(f, v > k ? v - (uint32_t)k : 0);
		break;
	case BAD_TRAILING:
		k = 1 + rn(r, 16);
		if (k > OUT_CAP - c->olen)
			break;
		fill(r, c->out + c->olen, k);
		c->olen += k;
		tu_put32(f, tu_get32(f) + (uint32_t)k);
		break;
	case BAD_ARGC:
		tu_put16(f + 12, (uint16_t[]){ (uint16_t)(q.argc + 1), 1025,
		    0xffff }[rn(r, 3)]);
		break;
	case BAD_ARGLEN:
		if (q.argc == 0) {
			tu_put16(f + 12, 1);
			break;
		}
		tu_put32(f + 14, (uint32_t[]){ (uint32_t)len, 0x7fffffff,
		    0xfffffffe }[rn(r, 3)]);
		break;
	case BAD_TRUNC:
		/* Only a prefix; what follows completes it with garbage. */
		c->olen = (size_t)off + 1 + rn(r, (uint32_t)len - 1);
		k = rn(r, 4);
		if (k == 0)
			c->after = AF_CLOSE;
		else if (k == 1)
			c->after = AF_STALL;
		dl = strlen(desc);
		snprintf(desc + dl, dlen - dl, " (%zu of %zu bytes%s)",
		    c->olen - (size_t)off, len, k == 0 ? ", then close" :
		    k == 1 ? ", then stall" : "");
		break;
	default:
		break;
	}
}

/* ---- client life cycle -------------------------------------------------- */

static void
client_reset(struct fclient *c)
{
	c->olen = c->ooff = c->ilen = 0;
	c->fhead = c->fcount = 0;
	c->replies = 0;
	c->tainted = c->unchecked = c->subscribed = 0;
	c->shut_wr = c->shut_rd = c->want_out = c->split = 0;
	c->closed_by = 0;
	c->after = AF_NONE;
	c->eof_by = 0;
	c->next_id = 1;
}

enum how { CL_CLOSE, CL_RST, CL_GONE };

/* Close our end; the slot reconnects after a short random pause. */
static void
client_close(struct fuzz *fz, struct fclient *c, int64_t now, enum how how)
{
	struct linger	lg = { 1, 0 };

	if (c->fd < 0)
		return;
	if (how == CL_RST) {
		/* On TCP the daemon sees a reset, on AF_UNIX a close. */
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		fz->st.resets++;
	}
	close(c->fd);
	c->fd = -1;
	c->wake = now + (int64_t)rn(&c->io, 20000);
}

static void
describe_exit(const struct tu_daemon *d, char *buf, size_t len)
{
	int	code = tu_daemon_exit_code(d);

	if (code >= 0)
		snprintf(buf, len, "exited with code %d", code);
	else
		snprintf(buf, len, "killed by signal %d (%s)", -1 - code,
		    strsignal(-1 - code));
}

/*
 * If the daemon has exited (waiting up to ms for it: its sockets close
 * before it can be reaped), fail with how it ended. 1 if it has.
 */
static int
check_dead(struct fuzz *fz, int ms)
{
	char	buf[128];

	if (tu_daemon_wait_exit(&fz->d, ms) != 0)
		return 0;
	describe_exit(&fz->d, buf, sizeof buf);
	fail(fz, NULL, "iomuxd -b %s %s", fz->backend, buf);
	return 1;
}

/* The daemon closed the connection (or reset it). */
static void
client_gone(struct fuzz *fz, struct fclient *c, int64_t now, const char *how)
{
	note(fz, c, "closed by the daemon (%s, %u replies owed)", how,
	    c->fcount);
	fz->st.gone++;
	client_close(fz, c, now, CL_GONE);
}

static void
client_open(struct fuzz *fz, struct fclient *c, int64_t now)
{
	struct rng	 r;
	int		 fd, tcp;
	unsigned	 k;

	rng_seed(&r, fz->seed, 1000 + (uint64_t)c->slot, c->gen + 1);
	tcp = fz->tcp_port > 0 && chance(&r, 25);
	fd = tcp ? tu_connect_tcp(fz->tcp_port, 50) :
	    tu_connect_unix(fz->d.sock, 0);
	if (fd < 0) {
		if (fd == -EAGAIN || fd == -ETIMEDOUT) {
			/* A full listen backlog: the daemon is behind. */
			c->wake = now + 2000;
			return;
		}
		if (!check_dead(fz, 300))
			fail(fz, c, "connect (%s): %s", tcp ? "tcp" : "unix",
			    strerror(-fd));
		return;
	}
	c->fd = fd;
	c->gen++;
	c->tcp = tcp;
	c->rng = r;
	rng_seed(&c->io, fz->seed, 2000 + (uint64_t)c->slot, c->gen);
	client_reset(c);
	k = rn(&c->rng, 100);
	c->reader = k < 70 ? RD_NORMAL : k < 85 ? RD_SLOW : RD_NEVER;
	/* A bad frame ends a connection: most live long enough to matter. */
	c->dirty = chance(&c->rng, 40);
	c->actions = c->reader == RD_NEVER ? 5 + (int)rn(&c->rng, 40) :
	    1 + (int)rn(&c->rng, 80);
	c->wake = now + (chance(&c->io, 30) ? 0 : (int64_t)rn(&c->io, 10000));
	c->read_at = now;
	fz->st.connects++;
	if (tcp)
		fz->st.tcp++;
	note(fz, c, "connect %s, reader %s, %d actions%s", tcp ? "tcp" :
	    "unix", reader_name[c->reader], c->actions, c->dirty ?
	    ", bad frames" : "");
}

static void	client_sent(struct fuzz *, struct fclient *, int64_t);

/* The end of a connection, one of the ways a peer can go. */
static void
client_end(struct fuzz *fz, struct fclient *c, int64_t now, char *desc,
    size_t dlen)
{
	static struct req	 q;
	struct rng		*r = &c->rng;
	ssize_t			 off;
	unsigned		 k = rn(r, 100);

	if (c->shut_rd)
		k = rn(r, 50);	/* no second shutdown: close or reset */
	if (k < 15) {
		note(fz, c, "close");
		client_close(fz, c, now, CL_CLOSE);
	} else if (k < 40) {
		/* Part of a frame, then close or reset. */
		build(c, &q, pick_op(r));
		if ((off = put_req(fz, c, &q, 0)) < 0 ||
		    c->olen - (size_t)off < 2) {
			client_close(fz, c, now, CL_CLOSE);
			return;
		}
		c->tainted = 1;
		c->olen = (size_t)off + 1 + rn(r, (uint32_t)(c->olen -
		    (size_t)off - 1));
		c->after = k < 28 ? AF_CLOSE : AF_RST;
		snprintf(desc, dlen, "%zu bytes of %s#%u, then %s",
		    c->olen - (size_t)off, op_name(q.op), c->next_id - 1,
		    c->after == AF_CLOSE ? "close" : "reset");
	} else if (k < 50) {
		note(fz, c, "reset (SO_LINGER 0)");
		client_close(fz, c, now, CL_RST);
	} else if (k < 80) {
		/* Often right behind a request that may wait. */
		if (chance(r, 40))
			gen_blocking(fz, c, desc, dlen);
		else if (chance(r, 50))
			gen_valid(fz, c, 1 + rn(r, 3), desc, dlen);
		c->after = AF_SHUT_WR;
	} else {
		shutdown(c->fd, SHUT_RD);
		c->shut_rd = 1;
		c->actions = 1 + (int)rn(r, 10);
		fz->st.shut_rd++;
		note(fz, c, "shutdown SHUT_RD, %d more actions", c->actions);
	}
}

/* The next thing the client does, once its last action is all sent. */
static void
client_act(struct fuzz *fz, struct fclient *c, int64_t now)
{
	struct rng	*r = &c->rng;
	char		 desc[NOTE_LEN] = "";
	unsigned	 k;

	c->olen = c->ooff = 0;
	c->after = AF_NONE;
	c->want_out = 0;
	if (c->actions-- <= 0)
		k = 99;
	else
		k = rn(r, c->dirty ? 100 : 74);
	if (k < 50)
		gen_valid(fz, c, 1, desc, sizeof desc);
	else if (k < 62)
		gen_valid(fz, c, 2 + rn(r, 7), desc, sizeof desc);
	else if (k < 74) {
		/* Whatever comes next waits behind it, bad frames too. */
		gen_blocking(fz, c, desc, sizeof desc);
		if (c->dirty && chance(r, 50))
			gen_bad(fz, c, desc, sizeof desc);
		else if (chance(r, 50))
			gen_valid(fz, c, 1 + rn(r, 3), desc, sizeof desc);
	} else if (k < 94) {
		if (chance(r, 30))
			gen_valid(fz, c, 1 + rn(r, 2), desc, sizeof desc);
		gen_bad(fz, c, desc, sizeof desc);
	} else {
		client_end(fz, c, now, desc, sizeof desc);
		if (c->fd < 0)
			return;
		if (c->olen == 0) {
			/* A bare SHUT_WR, or SHUT_RD (noted already). */
			client_sent(fz, c, now);
			return;
		}
	}
	/* Short frames split more often: the daemon's partial-prefix path. */
	c->split = chance(&c->io, c->olen <= 32 ? 70 : 40);
	c->wake = now;
	note(fz, c, "send %zu bytes%s: %s", c->olen, c->split ? " split" : "",
	    desc);
}

/* Once the action's bytes are out: its epilogue, then a think pause. */
static void
client_sent(struct fuzz *fz, struct fclient *c, int64_t now)
{
	switch (c->after) {
	case AF_CLOSE:
	case AF_RST:
		client_close(fz, c, now, c->after == AF_RST ? CL_RST :
		    CL_CLOSE);
		return;
	case AF_SHUT_WR:
		shutdown(c->fd, SHUT_WR);
		c->shut_wr = 1;
		c->reader = RD_NORMAL;
		c->eof_by = now + (int64_t)SHUT_WR_EOF_MS * fz->mult * 1000;
		fz->st.shut_wr++;
		note(fz, c, "shutdown SHUT_WR, %u replies owed", c->fcount);
		break;
	case AF_STALL:
		/* Past frame_timeout (300 or 500 ms) but not always. */
		c->wake = now + 250000 + (int64_t)rn(&c->io, 600000);
		c->after = AF_NONE;
		c->olen = c->ooff = 0;
		return;
	default:
		break;
	}
	c->after = AF_NONE;
	c->olen = c->ooff = 0;
	c->wake = now + (chance(&c->io, 40) ? 0 : (int64_t)rn(&c->io, 10000));
}

static void
client_write(struct fuzz *fz, struct fclient *c, int64_t now)
{
	size_t	rem = c->olen - c->ooff, n = rem;
	ssize_t	w;

	if (c->split && rem > 1) {
		/* Mostly tiny pieces: a length prefix cut in two, say. */
		n = 1 + rn(&c->io, chance(&c->io, 50) && rem > 8 ? 8 :
		    (uint32_t)rem);
	}
	w = send(c->fd, c->out + c->ooff, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			c->want_out = 1;
			return;
		}
		if (errno == EPIPE || errno == ECONNRESET) {
			client_gone(fz, c, now, strerror(errno));
			return;
		}
		fail(fz, c, "send: %s", strerror(errno));
		return;
	}
	c->want_out = 0;
	c->ooff += (size_t)w;
	if (c->ooff == c->olen) {
		client_sent(fz, c, now);
		return;
	}
	if (c->split && !chance(&c->io, 25))
		c->wake = now + 500 + (int64_t)rn(&c->io, 15000);
}

/* Connection-closing error statuses. */
static int
closing_status(uint16_t st)
{
	return st == IOMUX_ST_EPROTO || st == IOMUX_ST_ETOOBIG ||
	    st == IOMUX_ST_ETIMEOUT || st == IOMUX_ST_EKIND ||
	    st == IOMUX_ST_EBUSY;
}

/* Check one frame from the daemon against what this client sent. */
static void
check_frame(struct fuzz *fz, struct fclient *c, const struct tu_frame *f)
{
	const struct owed	*head;
	int			 first;

	fz->st.frames++;
	if (f->version != IOMUX_PROTO_VERSION) {
		fail(fz, c, "frame of version %u from the daemon", f->version);
		return;
	}
	if (f->kind == IOMUX_KIND_PUSH) {
		fz->st.pushes++;
		if (f->code != IOMUX_PUSH_MESSAGE || f->id != 0 ||
		    f->argc < 2 || f->argc > 3)
			fail(fz, c, "push 0x%04x id %u argc %u is not a "
			    "MESSAGE", f->code, f->id, f->argc);
		else if (!c->subscribed && !c->tainted)
			fail(fz, c, "push to a connection that never "
			    "subscribed");
		return;
	}
	if (f->kind != IOMUX_KIND_REPLY) {
		fail(fz, c, "frame of kind %u from the daemon", f->kind);
		return;
	}
	if (IOMUX_ST_IS_ERROR(f->code) && (f->argc != 1 || f->nargs != 1 ||
	    f->args[0].len == TU_ABSENT || f->args[0].len == 0)) {
		fail(fz, c, "error reply 0x%04x id %u without its one message "
		    "(argc %u)", f->code, f->id, f->argc);
		return;
	}
	if (f->code == IOMUX_ST_EINTERNAL) {
		fail(fz, c, "EINTERNAL (id %u): %.*s", f->id,
		    (int)f->args[0].len, (const char *)f->args[0].p);
		return;
	}
	if (f->code == IOMUX_ST_EBUSY)
		fz->st.busy++;
	if (c->closed_by != 0) {
		fail(fz, c, "reply 0x%04x id %u after the error 0x%04x that "
		    "closes the connection", f->code, f->id, c->closed_by);
		return;
	}
	if (closing_status(f->code))
		c->closed_by = f->code;
	first = c->replies++ == 0;
	if (c->unchecked || (c->tainted && c->fcount == 0))
		return;
	/*
	 * Only well-formed frames before this point: replies answer them in
	 * order, and an error that closes the connection comes after the
	 * replies to the requests before the frame it is about.
	 */
	head = c->fcount > 0 ? &c->fifo[c->fhead] : NULL;
	if (head != NULL && f->id == head->id) {
		if (f->code == IOMUX_ST_EPROTO || f->code == IOMUX_ST_EKIND) {
			fail(fz, c, "well-formed request id %u answered "
			    "0x%04x: %.*s", f->id, f->code, (int)f->args[0].len,
			    (const char *)f->args[0].p);
			return;
		}
		c->fhead = (c->fhead + 1) % PENDING_MAX;
		c->fcount--;
		return;
	}
	if (f->id == 0) {
		/* The head request was over a frame_max a reload lowered. */
		if (f->code == IOMUX_ST_ETOOBIG && head != NULL &&
		    head->blen > FRAME_MAX_LO)
			return;
		/* The head request's pieces came too slowly. */
		if (f->code == IOMUX_ST_ETIMEOUT && head != NULL)
			return;
		/* A full server answers before anything else. */
		if (f->code == IOMUX_ST_EBUSY && first)
			return;
	}
	if (head != NULL)
		fail(fz, c, "reply 0x%04x id %u, want the reply to id %u "
		    "(%u bytes; %u owed)", f->code, f->id, head->id, head->blen,
		    c->fcount);
	else
		fail(fz, c, "reply 0x%04x id %u to no request", f->code, f->id);
}

/* Parse and check every whole frame in c->in. */
static void
client_parse(struct fuzz *fz, struct fclient *c)
{
	static struct tu_frame	 f;
	ssize_t			 n = 0;
	size_t			 off = 0;

	while (!fz->failed &&
	    (n = tu_frame_parse(c->in + off, c->ilen - off, FRAME_MAX_HI,
	    &f)) > 0) {
		check_frame(fz, c, &f);
		off += (size_t)n;
	}
	if (!fz->failed && n < 0)
		fail(fz, c, n == -EMSGSIZE ? "a frame of %u bytes, over "
		    "frame_max" : "a malformed frame (length %u)",
		    tu_get32(c->in + off));
	memmove(c->in, c->in + off, c->ilen - off);
	c->ilen -= off;
}

static void
client_read(struct fuzz *fz, struct fclient *c, int64_t now, size_t max)
{
	ssize_t	n;
	size_t	room;

	for (;;) {
		room = IN_CAP - c->ilen;
		if (room > max)
			room = max;
		n = recv(c->fd, c->in + c->ilen, room, MSG_DONTWAIT);
		if (n > 0) {
			c->ilen += (size_t)n;
			client_parse(fz, c);
			if (fz->failed || (size_t)n < room || max < IN_CAP)
				return;
			continue;
		}
		if (n == 0) {
			if (c->ilen > 0)
				note(fz, c, "%zu bytes of a partial frame "
				    "before EOF", c->ilen);
			client_gone(fz, c, now, "EOF");
			return;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		client_gone(fz, c, now, strerror(errno));
		return;
	}
}

static short
client_events(const struct fclient *c, int64_t now)
{
	short	ev = 0;

	if (c->reader == RD_NORMAL || (c->reader == RD_SLOW &&
	    now >= c->read_at))
		ev |= POLLIN;
	/*
	 * A client that does not read still notices the daemon's close:
	 * POLLRDHUP on a FIN (TCP) or a close (AF_UNIX). After our own
	 * SHUT_RD, POLLRDHUP (and POLLIN) are always set: such a client
	 * learns of the close from POLLHUP (AF_UNIX) or a failing send().
	 */
	if (!c->shut_rd)
		ev |= POLLRDHUP;
	else
		ev &= ~POLLIN;
	if (c->olen > c->ooff && (c->want_out || now >= c->wake))
		ev |= POLLOUT;
	return ev;
}

static void
client_step(struct fuzz *fz, struct fclient *c, short rev, int64_t now)
{
	if (c->fd < 0) {
		if (now >= c->wake)
			client_open(fz, c, now);
		return;
	}
	if (rev & (POLLIN | POLLHUP | POLLERR | POLLRDHUP)) {
		if (c->shut_rd) {
			if (rev & (POLLHUP | POLLERR)) {
				client_gone(fz, c, now, "hangup");
				return;
			}
		} else if (c->reader == RD_NEVER && !(rev & POLLIN)) {
			client_gone(fz, c, now, "hangup");
			return;
		} else {
			client_read(fz, c, now, c->reader == RD_SLOW &&
			    !(rev & (POLLHUP | POLLRDHUP)) ?
			    1 + rn(&c->io, 512) : IN_CAP);
			if (c->reader == RD_SLOW)
				c->read_at = now + 5000 +
				    (int64_t)rn(&c->io, 60000);
		}
		if (c->fd < 0 || fz->failed)
			return;
	}
	if (c->shut_wr) {
		if (now >= c->eof_by)
			fail(fz, c, "no EOF %d ms after SHUT_WR (%u replies "
			    "owed)", SHUT_WR_EOF_MS * fz->mult, c->fcount);
		return;
	}
	if (c->olen > c->ooff) {
		if ((c->want_out && (rev & POLLOUT)) ||
		    (!c->want_out && now >= c->wake))
			client_write(fz, c, now);
	} else if (now >= c->wake)
		client_act(fz, c, now);
}

/* When the client next needs a turn without an fd event, or INT64_MAX. */
static int64_t
client_due(const struct fclient *c)
{
	int64_t	t = INT64_MAX;

	if (c->fd < 0)
		return c->wake;
	if (c->shut_wr)
		return c->eof_by;
	if (!c->want_out)
		t = c->wake;
	if (c->reader == RD_SLOW && c->read_at < t)
		t = c->read_at;
	return t;
}

/* ---- the health connection -------------------------------------------- */

static void
health_send(struct fuzz *fz)
{
	uint8_t		buf[64], payload[8];
	struct tu_arg	a = { payload, sizeof payload };
	size_t		n;
	int		rc;

	put64(payload, ++fz->hid);
	n = tu_encode_req(buf, sizeof buf, IOMUX_OP_PING, fz->hid, 1, &a);
	rc = tu_write_all(fz->hfd, buf, n, 1000);
	if (rc != 0) {
		fail(fz, NULL, "health PING write: %s", strerror(-rc));
		return;
	}
	/* Taken after the send: the daemon's time starts no later. */
	fz->hsent = tu_now_us();
	fz->hout = 1;
}

/*
 * Called first in every turn of the loop. A PING is late only if, at a
 * moment past its deadline, its reply is not in the socket: a reply we
 * find late because this process was not scheduled is not the daemon's
 * fault (it is counted, as ping_late_checks, but passes).
 */
static void
health_check(struct fuzz *fz)
{
	struct tu_frame	 f;
	int64_t		 t = tu_now_us(), lat;
	ssize_t		 n;

	if (fz->hout) {
		n = recv(fz->hfd, fz->hbuf + fz->hlen, sizeof fz->hbuf -
		    fz->hlen, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			if (!check_dead(fz, 300))
				fail(fz, NULL, "health connection: %s", n == 0 ?
				    "closed by the daemon" : strerror(errno));
			return;
		}
		if (n > 0)
			fz->hlen += (size_t)n;
		n = tu_frame_parse(fz->hbuf, fz->hlen, sizeof fz->hbuf, &f);
		if (n < 0) {
			fail(fz, NULL, "health: bad reply frame");
			return;
		}
		if (n > 0) {
			if (f.kind != IOMUX_KIND_REPLY ||
			    f.code != IOMUX_ST_OK || f.id != fz->hid ||
			    f.nargs != 1 || f.args[0].len != 8 ||
			    tu_get32((const uint8_t *)f.args[0].p + 4) !=
			    fz->hid) {
				fail(fz, NULL, "health: PING id %u answered "
				    "kind %u status 0x%04x id %u", fz->hid,
				    f.kind, f.code, f.id);
				return;
			}
			memmove(fz->hbuf, fz->hbuf + n, fz->hlen - (size_t)n);
			fz->hlen -= (size_t)n;
			fz->hout = 0;
			fz->st.pings++;
			lat = tu_now_us() - fz->hsent;
			if (t > fz->hsent + fz->ping_limit_us)
				fz->st.ping_late_checks++;
			else if (lat > fz->st.ping_max_us)
				fz->st.ping_max_us = lat;
			fz->hnext = fz->hsent + PING_EVERY_US;
		} else if (t >= fz->hsent + fz->ping_limit_us) {
			if (check_dead(fz, 300))
				return;
			fail(fz, NULL, "PING id %u not answered within %lld ms "
			    "(sent at +%.3f s, none at +%.3f s)", fz->hid,
			    (long long)fz->ping_limit_us / 1000,
			    rel_s(fz, fz->hsent), rel_s(fz, t));
			return;
		}
	}
	if (!fz->hout && t >= fz->hnext)
		health_send(fz);
}

/* Wait (bounded) for the PING in flight, so the health fd is quiet. */
static void
health_settle(struct fuzz *fz)
{
	struct pollfd	pfd = { .fd = fz->hfd, .events = POLLIN };
	int64_t		left;

	while (fz->hout && !fz->failed) {
		left = fz->hsent + fz->ping_limit_us - tu_now_us();
		poll(&pfd, 1, left > 0 ? (int)(left / 1000) + 1 : 0);
		fz->hnext = INT64_MAX;
		health_check(fz);
	}
}

/* STATUS on the health connection into *f (free it); 0 or -1 (failed). */
static int
health_status(struct fuzz *fz, struct tu_frame *f)
{
	uint8_t	buf[32];
	size_t	n;
	int	rc;

	health_settle(fz);
	if (fz->failed)
		return -1;
	if (fz->hlen != 0) {
		fail(fz, NULL, "health: %zu bytes nobody asked for", fz->hlen);
		return -1;
	}
	n = tu_encode_req(buf, sizeof buf, IOMUX_OP_STATUS, ++fz->hid, 0, NULL);
	if ((rc = tu_write_all(fz->hfd, buf, n, IO_MS)) != 0) {
		fail(fz, NULL, "STATUS write: %s", strerror(-rc));
		return -1;
	}
	rc = tu_read_frame(fz->hfd, f, 1u << 20, IO_MS * fz->mult);
	if (rc != 1) {
		fail(fz, NULL, "STATUS: %s", rc == 0 ? "end of stream" :
		    strerror(-rc));
		return -1;
	}
	if (f->kind != IOMUX_KIND_REPLY || f->code != IOMUX_ST_OK ||
	    f->id != fz->hid) {
		fail(fz, NULL, "STATUS answered kind %u status 0x%04x id %u",
		    f->kind, f->code, f->id);
		tu_frame_free(f);
		return -1;
	}
	return 0;
}

/* A STATUS field; -1 (and a failure) if missing or not a number. */
static int64_t
status_field(struct fuzz *fz, const struct tu_frame *f, const char *name)
{
	uint64_t	v;

	if (tu_frame_field_u64(f, name, &v) != 0 || v > INT64_MAX) {
		fail(fz, NULL, "STATUS field %s missing or not a number", name);
		return -1;
	}
	return (int64_t)v;
}

/* Poll STATUS until clients is 1 (the health connection), bounded. */
static int
wait_one_client(struct fuzz *fz, struct tu_frame *f)
{
	int64_t	deadline, n = -1;

	deadline = tu_now_ms() + (int64_t)DRAIN_MS * fz->mult;
	for (;;) {
		if (health_status(fz, f) != 0)
			return -1;
		if ((n = status_field(fz, f, "clients")) == 1)
			return 0;
		tu_frame_free(f);
		if (n < 0)
			return -1;
		if (tu_now_ms() >= deadline)
			break;
		tu_sleep_ms(20);
	}
	fail(fz, NULL, "STATUS still shows %lld clients %d ms after every "
	    "fuzz client closed (want 1: the health connection)",
	    (long long)n, DRAIN_MS * fz->mult);
	return -1;
}

/*
 * The daemon's open fds once the closes it has seen are done. It frees a
 * closed connection (and closes its fd) in deferred work after the turn
 * that saw the close, so a count can catch a few in flight: each STATUS
 * round trip makes its loop go round again. want >= 0: return as soon as
 * the count is want (bounded); else the least of a few counts.
 */
static int
daemon_fds(struct fuzz *fz, int want)
{
	struct tu_frame	f;
	int64_t		deadline;
	int		n, best = -1, rounds = 0;

	deadline = tu_now_ms() + 2000 * fz->mult;
	for (;;) {
		n = tu_proc_fd_count(fz->d.pid);
		if (n >= 0 && (best < 0 || n < best))
			best = n;
		if (want >= 0 ? best == want : ++rounds > 3)
			return best;
		if (tu_now_ms() >= deadline || health_status(fz, &f) != 0)
			return best;
		tu_frame_free(&f);
		tu_sleep_ms(10);
	}
}

/* ---- reloads ------------------------------------------------------------ */

static int
write_conf(struct fuzz *fz, int variant)
{
	char	text[1024];
	int	rc;

	snprintf(text, sizeof text, "%smax_clients = %d\n", conf_text[variant],
	    fz->nclients + 1 - fz->nclients / 8);
	if ((rc = tu_write_file(fz->conf, text)) != 0)
		fail(fz, NULL, "write %s: %s", fz->conf, strerror(-rc));
	return rc;
}

static void
reload_step(struct fuzz *fz, int64_t now)
{
	unsigned	k, v;
	int		rc;

	if (now < fz->next_hup)
		return;
	k = rn(&fz->grng, 100);
	v = k < 45 ? 0 : k < 90 ? 1 : 2;
	if (write_conf(fz, (int)v) != 0)
		return;
	if ((rc = tu_daemon_kill(&fz->d, SIGHUP)) != 0) {
		fail(fz, NULL, "SIGHUP: %s", strerror(-rc));
		return;
	}
	fz->st.reloads++;
	note(fz, NULL, "SIGHUP with config %c", "ABC"[v]);
	fz->next_hup = now + HUP_MIN_US + (int64_t)rn(&fz->grng, HUP_SPAN_US);
}

/* ---- one backend ---------------------------------------------------- */

/* The TCP port the daemon picked, from STATUS listeners; 0 if none. */
static int
tcp_port(const struct tu_frame *f)
{
	const struct tu_arg	*a;
	char			 buf[512];
	const char		*p;

	if ((a = tu_frame_field(f, "listeners")) == NULL ||
	    a->len == TU_ABSENT || a->len >= sizeof buf)
		return 0;
	memcpy(buf, a->p, a->len);
	buf[a->len] = '\0';
	if ((p = strstr(buf, ",127.0.0.1:")) == NULL)
		return 0;
	return atoi(p + strlen(",127.0.0.1:"));
}

/*
 * Notes of what a client did, as opposed to what it saw: after a crash
 * every client sees its connection close, and a reconnect may still
 * succeed.
 */
static int
is_action(const struct note *e)
{
	return strncmp(e->text, "closed by the daemon", 20) != 0 &&
	    strncmp(e->text, "FAILED", 6) != 0;
}

/* Actions that sent the daemon something or ended a connection. */
static int
is_io(const struct note *e)
{
	return is_action(e) && strncmp(e->text, "connect", 7) != 0;
}

/* The last show notes of a ring (only actions if actions_only). */
static void
print_hist(const struct note *n, unsigned count, unsigned cap,
    unsigned show, int actions_only)
{
	const struct note	*e;
	unsigned		 i, first = count > cap ? count - cap : 0;
	unsigned		 from = count, k = 0;

	/* Back to the show-th last note that counts. */
	while (from > first && k < show) {
		from--;
		if (!actions_only || is_action(&n[from % cap]))
			k++;
	}
	for (i = from; i < count; i++) {
		e = &n[i % cap];
		if (actions_only && !is_action(e))
			continue;
		if (e->slot >= 0)
			fprintf(stderr, "  +%8.3f c%d.%u %s\n", e->t / 1e6,
			    e->slot, e->gen, e->text);
		else
			fprintf(stderr, "  +%8.3f      %s\n", e->t / 1e6,
			    e->text);
	}
}

static void
print_client(const struct fuzz *fz, const struct fclient *c)
{
	fprintf(stderr, "sockfuzz: client c%d.%u (%s, reader %s%s%s), its "
	    "last actions:\n", c->slot, c->gen, c->tcp ? "tcp" : "unix",
	    reader_name[c->reader], c->tainted ? ", sent bad frames" : "",
	    c->fd < 0 ? ", closed" : "");
	print_hist(c->hist, c->nhist, HIST, HIST, 0);
}

static void
report(struct fuzz *fz, int dead)
{
	char	 buf[128];
	int	 shown[3], nshown = 0, i, j, s;

	fprintf(stderr, "sockfuzz: FAIL backend %s, seed 0x%016llx, at "
	    "+%.3f s: %s\n", fz->backend, (unsigned long long)fz->seed,
	    rel_s(fz, fz->fail_t), fz->why);
	fprintf(stderr, "sockfuzz: replay: SOCKFUZZ_SEED=0x%016llx "
	    "IOMUXD_BACKENDS=%s SOCKFUZZ_SECONDS=%g SOCKFUZZ_CLIENTS=%d "
	    "tests/sockfuzz\n", (unsigned long long)fz->seed, fz->backend,
	    fz->seconds, fz->nclients);
	if (dead) {
		describe_exit(&fz->d, buf, sizeof buf);
		fprintf(stderr, "sockfuzz: iomuxd -b %s %s\n", fz->backend,
		    buf);
	} else
		fprintf(stderr, "sockfuzz: iomuxd -b %s is still running\n",
		    fz->backend);
	if (fz->fail_slot >= 0 && !dead)
		print_client(fz, &fz->cl[fz->fail_slot]);
	else {
		/*
		 * A crash names no culprit (every client then sees a close):
		 * show the clients that acted last.
		 */
		for (i = (int)fz->ng - 1; i >= 0 && i >= (int)fz->ng - GHIST &&
		    nshown < 3; i--) {
			s = fz->g[i % GHIST].slot;
			if (s < 0 || !is_io(&fz->g[i % GHIST]))
				continue;
			for (j = 0; j < nshown && shown[j] != s; j++)
				;
			if (j == nshown) {
				shown[nshown++] = s;
				print_client(fz, &fz->cl[s]);
			}
		}
	}
	fprintf(stderr, "sockfuzz: the pool's last actions:\n");
	print_hist(fz->g, fz->ng, GHIST, GSHOW, 1);
	tu_daemon_dump_log_tail(&fz->d, 40);
}

/* Start the daemon and the health connection; 0 or -1 (failed). */
static int
start(struct fuzz *fz)
{
	struct tu_frame	 f;
	const char	*extra[] = {
		"-c", fz->conf, "-t", "127.0.0.1:0", NULL,
	};
	int		 rc;

	if ((rc = tu_daemon_init(&fz->d, fz->backend)) != 0) {
		fail(fz, NULL, "tu_daemon_init: %s", strerror(-rc));
		return -1;
	}
	if ((size_t)snprintf(fz->conf, sizeof fz->conf, "%s/iomuxd.conf",
	    fz->d.dir) >= sizeof fz->conf) {
		fail(fz, NULL, "%s: path too long", fz->d.dir);
		return -1;
	}
	if (write_conf(fz, 0) != 0)
		return -1;
	if ((rc = tu_daemon_spawn(&fz->d, extra)) != 0 ||
	    (rc = tu_daemon_wait_ready(&fz->d, TU_START_TIMEOUT_MS)) != 0) {
		fail(fz, NULL, "start iomuxd -b %s: %s", fz->backend,
		    strerror(-rc));
		return -1;
	}
	alarm_pid = fz->d.pid;
	if ((fz->hfd = tu_connect_unix(fz->d.sock, IO_MS)) < 0) {
		fail(fz, NULL, "health connect: %s", strerror(-fz->hfd));
		return -1;
	}
	/* tu_daemon_wait_ready's probe may not have been seen closing yet. */
	if (wait_one_client(fz, &f) != 0)
		return -1;
	fz->tcp_port = tcp_port(&f);
	tu_frame_free(&f);
	return 0;
}

static void
fuzz_loop(struct fuzz *fz, int64_t end)
{
	struct pollfd	 pfd[POOL_MAX + 1];
	int		 idx[POOL_MAX + 1];
	int64_t		 now, due, t;
	struct timespec	 ts;
	int		 i, n;

	while (!fz->failed && (now = tu_now_us()) < end) {
		if (check_dead(fz, 0))
			return;
		pfd[0].fd = fz->hfd;
		pfd[0].events = POLLIN;
		due = end;
		if (fz->hout)
			t = fz->hsent + fz->ping_limit_us;
		else
			t = fz->hnext;
		if (t < due)
			due = t;
		if (fz->next_hup < due)
			due = fz->next_hup;
		for (i = 0, n = 1; i < fz->nclients; i++) {
			struct fclient	*c = &fz->cl[i];

			if ((t = client_due(c)) < due)
				due = t;
			if (c->fd < 0)
				continue;
			pfd[n].fd = c->fd;
			pfd[n].events = client_events(c, now);
			pfd[n].revents = 0;
			idx[n++] = i;
		}
		t = due - now;
		if (t < 0)
			t = 0;
		ts.tv_sec = t / 1000000;
		ts.tv_nsec = (long)(t % 1000000) * 1000;
		if (ppoll(pfd, (nfds_t)n, &ts, NULL) < 0 && errno != EINTR) {
			fail(fz, NULL, "ppoll: %s", strerror(errno));
			return;
		}
		health_check(fz);
		now = tu_now_us();
		for (i = 1; i < n && !fz->failed; i++)
			client_step(fz, &fz->cl[idx[i]], pfd[i].revents, now);
		/* Slots without an fd (reconnects) have no pollfd. */
		for (i = 0; i < fz->nclients && !fz->failed; i++)
			if (fz->cl[i].fd < 0)
				client_step(fz, &fz->cl[i], 0, now);
		if (!fz->failed)
			reload_step(fz, now);
	}
}

/* The end of a run: nothing left behind, a clean exit. */
static void
finish(struct fuzz *fz, int base_fds)
{
	static const char *const bad[] = {
		"Sanitizer", "runtime error", "Assertion", NULL,
	};
	static const char *const zero[] = {
		"locks_held", "lock_waiters", "blocked_clients", "subscribers",
		"channels", "patterns",
	};
	struct tu_frame	 f;
	struct stat	 sb;
	char		 line[512];
	int64_t		 v;
	size_t		 i;
	int		 fds, rc;

	for (i = 0; i < (size_t)fz->nclients; i++)
		client_close(fz, &fz->cl[i], 0, CL_CLOSE);
	if (wait_one_client(fz, &f) != 0)
		return;
	for (i = 0; i < sizeof zero / sizeof zero[0] && !fz->failed; i++)
		if ((v = status_field(fz, &f, zero[i])) > 0)
			fail(fz, NULL, "STATUS %s is %lld with no fuzz client "
			    "left, want 0", zero[i], (long long)v);
	tu_frame_free(&f);
	if (fz->failed)
		return;
	fds = daemon_fds(fz, base_fds);
	if (fz->failed)
		return;
	if (base_fds >= 0 && fds >= 0 && fds != base_fds) {
		tu_proc_fd_dump(fz->d.pid, "sockfuzz");
		fail(fz, NULL, "the daemon holds %d fds, %d at the start", fds,
		    base_fds);
		return;
	}
	close(fz->hfd);
	fz->hfd = -1;
	rc = tu_daemon_stop(&fz->d, TU_STOP_TIMEOUT_MS);
	describe_exit(&fz->d, line, sizeof line);
	if (rc != 0 || tu_daemon_exit_code(&fz->d) != 0) {
		fail(fz, NULL, "after SIGTERM the daemon %s%s", rc == 1 ?
		    "did not stop in time and was " : "",
		    rc == 1 ? "killed" : line);
		return;
	}
	if (lstat(fz->d.sock, &sb) == 0) {
		fail(fz, NULL, "the daemon left its socket behind");
		return;
	}
	if (tu_daemon_log_find(&fz->d, bad, line, sizeof line) == 1)
		fail(fz, NULL, "the daemon's log has: %s", line);
}

/* Fuzz one backend; 0 pass, 1 fail. The TAP line is printed here. */
static int
run_backend(struct fuzz *fz, int tapno)
{
	const struct stats	*st = &fz->st;
	char			 exitbuf[128], first[512];
	int64_t			 end;
	int			 i, base_fds = -1, ok, dead = 0;

	fz->failed = 0;
	fz->fail_slot = -1;
	fz->hfd = -1;
	fz->hlen = 0;
	fz->hout = 0;
	fz->hid = 0;
	fz->ng = 0;
	fz->tcp_port = 0;
	memset(&fz->st, 0, sizeof fz->st);
	rng_seed(&fz->grng, fz->seed, 1, 0);
	fz->t0 = tu_now_us();
	for (i = 0; i < fz->nclients; i++) {
		fz->cl[i].fd = -1;
		fz->cl[i].gen = 0;
		fz->cl[i].nhist = 0;
		fz->cl[i].wake = fz->t0;
	}
	if (start(fz) == 0) {
		base_fds = daemon_fds(fz, -1);
		fz->t0 = tu_now_us();
		fz->hnext = fz->t0;
		fz->next_hup = fz->t0 + HUP_MIN_US;
		for (i = 0; i < fz->nclients; i++)
			fz->cl[i].wake = fz->t0 + i * 1000;
		end = fz->t0 + (int64_t)(fz->seconds * 1e6);
		fuzz_loop(fz, end);
		if (!fz->failed)
			check_dead(fz, 0);
		if (!fz->failed)
			finish(fz, base_fds);
	}
	if (fz->failed) {
		/* A crash is the usual cause of what the clients saw. */
		dead = fz->d.pid > 0 && tu_daemon_wait_exit(&fz->d, 300) == 0;
		if (dead && strncmp(fz->why, "iomuxd -b ", 10) != 0) {
			describe_exit(&fz->d, exitbuf, sizeof exitbuf);
			snprintf(first, sizeof first, "%s", fz->why);
			snprintf(fz->why, sizeof fz->why, "iomuxd -b %s %s; "
			    "first seen as: %.300s", fz->backend, exitbuf,
			    first);
		}
		report(fz, dead);
	}
	for (i = 0; i < fz->nclients; i++)
		client_close(fz, &fz->cl[i], 0, CL_CLOSE);
	if (fz->hfd >= 0)
		close(fz->hfd);
	fz->hfd = -1;
	alarm_pid = 0;
	tu_daemon_cleanup(&fz->d);
	ok = !fz->failed;
	if (ok)
		printf("ok %d - %s: %.1f s, %" PRIu64 " requests (%" PRIu64
		    " bad frames), %" PRIu64 " connections (%" PRIu64 " tcp, %"
		    PRIu64 " closed by the daemon, %" PRIu64 " EBUSY), %"
		    PRIu64 " resets, %" PRIu64 " SHUT_WR, %" PRIu64
		    " SHUT_RD, %" PRIu64 " reloads, %" PRIu64 " frames back (%"
		    PRIu64 " pushes), %" PRIu64 " pings (max %.1f ms, %"
		    PRIu64 " checked late)\n",
		    tapno, fz->backend, rel_s(fz, tu_now_us()), st->requests,
		    st->bad, st->connects, st->tcp, st->gone, st->busy,
		    st->resets, st->shut_wr, st->shut_rd, st->reloads,
		    st->frames, st->pushes, st->pings, st->ping_max_us / 1000.0,
		    st->ping_late_checks);
	else
		printf("not ok %d - %s: seed 0x%016llx, at +%.3f s: %s\n",
		    tapno, fz->backend, (unsigned long long)fz->seed,
		    rel_s(fz, fz->fail_t), fz->why);
	fflush(stdout);
	return ok ? 0 : 1;
}

/* ---- main --------------------------------------------------------------- */

static void
on_alarm(int sig)
{
	static const char	msg[] = "Bail out! sockfuzz: overall time "
	    "limit reached\n";
	ssize_t			n;

	if (alarm_pid > 0)
		kill(alarm_pid, SIGKILL);
	n = write(1, msg, sizeof msg - 1);
	(void)n;
	_exit(1);
}

static long
env_long(const char *name, long def, long min, long max)
{
	const char	*s = getenv(name);
	char		*end;
	long		 v;

	if (s == NULL || *s == '\0')
		return def;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < min || v > max) {
		fprintf(stderr, "sockfuzz: ignoring %s=%s (want %ld..%ld)\n",
		    name, s, min, max);
		return def;
	}
	return v;
}

int
main(void)
{
	struct fuzz	*fz = &F;
	const char	*backends[MAX_BACKENDS];
	const char	*s, *ci;
	char		 bbuf[256], *end;
	uint64_t	 t;
	long		 ping_ms;
	int		 nb, i, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (tu_iomuxd() == NULL) {
		printf("1..0 # SKIP $IOMUXD is not set or not executable\n");
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	nb = tu_backends(backends, MAX_BACKENDS, bbuf, sizeof bbuf);

	if ((s = getenv("SOCKFUZZ_SEED")) != NULL && *s != '\0') {
		errno = 0;
		fz->seed = strtoull(s, &end, 0);
		if (errno != 0 || *end != '\0') {
			fprintf(stderr, "sockfuzz: bad SOCKFUZZ_SEED %s\n", s);
			return 1;
		}
	} else {
		t = (uint64_t)tu_now_us() ^ (uint64_t)time(NULL) << 20 ^
		    (uint64_t)getpid() << 40;
		fz->seed = splitmix64(&t);
	}
	ci = getenv("CI");
	fz->seconds = ci != NULL && strcmp(ci, "true") == 0 ? 30 : 5;
	if ((s = getenv("SOCKFUZZ_SECONDS")) != NULL && *s != '\0') {
		fz->seconds = strtod(s, &end);
		if (*end != '\0' || fz->seconds <= 0 || fz->seconds > 3600) {
			fprintf(stderr, "sockfuzz: bad SOCKFUZZ_SECONDS %s\n",
			    s);
			return 1;
		}
	}
	fz->nclients = (int)env_long("SOCKFUZZ_CLIENTS", POOL_DEFAULT, 1,
	    POOL_MAX);
	fz->mult = (int)env_long("CK_TIMEOUT_MULTIPLIER", 1, 1, 100);
	ping_ms = env_long("SOCKFUZZ_PING_MS", 100L * fz->mult, 1, 60000);
	fz->ping_limit_us = ping_ms * 1000;
	for (i = 0; i < POOL_MAX; i++) {
		fz->cl[i].slot = i;
		fz->cl[i].fd = -1;
		fz->cl[i].out = malloc(OUT_CAP);
		fz->cl[i].in = malloc(IN_CAP);
		if (fz->cl[i].out == NULL || fz->cl[i].in == NULL) {
			fprintf(stderr, "sockfuzz: out of memory\n");
			return 1;
		}
	}
	/* Every wait is bounded; this bounds the whole, bugs included. */
	signal(SIGALRM, on_alarm);
	alarm((unsigned)(nb * (fz->seconds + 60 * fz->mult)));

	printf("# sockfuzz: seed 0x%016llx (replay: SOCKFUZZ_SEED=0x%016llx), "
	    "%g s per backend, %d clients, PING within %ld ms\n",
	    (unsigned long long)fz->seed, (unsigned long long)fz->seed,
	    fz->seconds, fz->nclients, ping_ms);
	printf("1..%d\n", nb);
	for (i = 0; i < nb; i++) {
		fz->backend = backends[i];
		failed |= run_backend(fz, i + 1);
	}
	for (i = 0; i < POOL_MAX; i++) {
		free(fz->cl[i].out);
		free(fz->cl[i].in);
	}
	return failed;
}
