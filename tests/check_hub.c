/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_hub.c: the IPC hub (key-value with expiry, WAIT, queues with
 * blocking POP, pub/sub, locks) against the real iomuxd, through
 * libiomux's generic iomux_call()/iomux_send()/iomux_recv().
 *
 * Every argument is encoded here by hand (big-endian u64 timeouts and
 * TTLs in milliseconds, i64 deltas, u32 flags), so these tests check the
 * protocol of iomuxd-protocol(7) and do not lean on libiomux's typed
 * calls. Every test starts its own daemon in a private directory (with a
 * config file written there when it needs small limits) and stops it by
 * PID, asserting a clean exit. Each TCase runs once per backend in
 * $IOMUXD_BACKENDS.
 *
 * Processes forked here (queue workers, a lock holder to kill -9) end
 * with _exit(): exit() would run testutil's atexit handler, which kills
 * the daemon the parent is still testing.
 *
 * Timing bounds are generous (a loaded 2-core box): "promptly" means
 * within a second, and a deadline of D ms must not fire before D - 20.
 */

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "iomux.h"
#include "integ-util.h"
#include "testutil.h"

#define PROMPT_MS	1000	/* "at once" on a loaded machine */
#define EARLY_MS	20	/* a deadline may fire this much early */

/* ---- argument encoding ---------------------------------------------- */

#define V(p, n)	((struct iomux_value){ .data = (p), .len = (n),	\
		    .absent = 0 })
#define S(s)	V((s), strlen(s))
#define NONE	((struct iomux_value){ .data = NULL, .len = 0, .absent = 1 })
#define BE64(x)	((const uint8_t[8]){					\
		    (uint8_t)((uint64_t)(x) >> 56),			\
		    (uint8_t)((uint64_t)(x) >> 48),			\
		    (uint8_t)((uint64_t)(x) >> 40),			\
		    (uint8_t)((uint64_t)(x) >> 32),			\
		    (uint8_t)((uint64_t)(x) >> 24),			\
		    (uint8_t)((uint64_t)(x) >> 16),			\
		    (uint8_t)((uint64_t)(x) >> 8),			\
		    (uint8_t)(uint64_t)(x) })
#define BE32(x)	((const uint8_t[4]){					\
		    (uint8_t)((uint32_t)(x) >> 24),			\
		    (uint8_t)((uint32_t)(x) >> 16),			\
		    (uint8_t)((uint32_t)(x) >> 8),			\
		    (uint8_t)(uint32_t)(x) })
#define U64(x)	V(BE64(x), 8)
#define I64(x)	U64((uint64_t)(int64_t)(x))
#define U32(x)	V(BE32(x), 4)
#define FOREVER	U64(IOMUX_TIMEOUT_FOREVER)

#define ARGV(...)	((const struct iomux_value[]){ __VA_ARGS__ })
#define NARG(...)	(sizeof(ARGV(__VA_ARGS__)) /			\
			    sizeof(struct iomux_value))

/* One call; the reply's argv is valid until the next call on c. */
#define CALL(c, op, ...)						\
	hcall(__LINE__, (c), (op), NARG(__VA_ARGS__), ARGV(__VA_ARGS__))
#define CALL0(c, op)	hcall(__LINE__, (c), (op), 0, NULL)
/* One call whose reply status must be st. */
#define EXPECT(c, st, op, ...)						\
	hexpect(__LINE__, (c), (st), (op), NARG(__VA_ARGS__),		\
	    ARGV(__VA_ARGS__))
#define EXPECT0(c, st, op)	hexpect(__LINE__, (c), (st), (op), 0, NULL)
/* Queue a request without waiting (pipelining, blocking ops). */
#define SEND(c, op, ...)						\
	hsend(__LINE__, (c), (op), NARG(__VA_ARGS__), ARGV(__VA_ARGS__))
/* The next frame on c must be a reply with this status and id. */
#define RECV(c, st, id)	hrecv(__LINE__, (c), (st), (id))

/* Reply arguments. */
#define ARGC(r, n)	hargc(__LINE__, &(r), (n))
#define ARG_EQ(r, i, p, n)	harg_eq(__LINE__, &(r), (i), (p), (n))
#define ARG_STR(r, i, s)	harg_eq(__LINE__, &(r), (i), (s), strlen(s))
#define ARG_U64(r, i)	harg_u64(__LINE__, &(r), (i))
#define ARG_I64(r, i)	((int64_t)harg_u64(__LINE__, &(r), (i)))
/* The reply is OK with exactly one u64 argument equal to v. */
#define OK_U64(r, v)	hok_u64(__LINE__, &(r), (v))

#define STAT(c, name)	hstat(__LINE__, (c), (name))
#define WAIT_STAT(c, name, v)	hwait_stat(__LINE__, (c), (name), (v))
/*
 * STATUS fields must have these values, e.g. STATS(c, { "keys", 2 },
 * { "queues", 0 }); STATS_WHY adds what the values mean to the report.
 */
#define STATS_WHY(c, why, ...)						\
	hstats(__LINE__, (c), (why),					\
	    (const struct stat_want[]){ __VA_ARGS__ },			\
	    sizeof((const struct stat_want[]){ __VA_ARGS__ }) /		\
	    sizeof(struct stat_want))
#define STATS(c, ...)	STATS_WHY((c), NULL, __VA_ARGS__)

struct stat_want {
	const char	*name;
	long long	 want;
};

static const char *
opname(uint16_t op)
{
	static const struct {
		uint16_t	 op;
		const char	*name;
	} t[] = {
		{ IOMUX_OP_HELLO, "HELLO" }, { IOMUX_OP_PING, "PING" },
		{ IOMUX_OP_STATUS, "STATUS" }, { IOMUX_OP_GET, "GET" },
		{ IOMUX_OP_SET, "SET" }, { IOMUX_OP_DEL, "DEL" },
		{ IOMUX_OP_EXISTS, "EXISTS" }, { IOMUX_OP_INCR, "INCR" },
		{ IOMUX_OP_KEYS, "KEYS" }, { IOMUX_OP_TTL, "TTL" },
		{ IOMUX_OP_EXPIRE, "EXPIRE" }, { IOMUX_OP_PERSIST, "PERSIST" },
		{ IOMUX_OP_WAIT, "WAIT" }, { IOMUX_OP_PUSH, "PUSH" },
		{ IOMUX_OP_POP, "POP" }, { IOMUX_OP_QLEN, "QLEN" },
		{ IOMUX_OP_PEEK, "PEEK" }, { IOMUX_OP_SUBSCRIBE, "SUBSCRIBE" },
		{ IOMUX_OP_UNSUBSCRIBE, "UNSUBSCRIBE" },
		{ IOMUX_OP_PSUBSCRIBE, "PSUBSCRIBE" },
		{ IOMUX_OP_PUNSUBSCRIBE, "PUNSUBSCRIBE" },
		{ IOMUX_OP_PUBLISH, "PUBLISH" }, { IOMUX_OP_LOCK, "LOCK" },
		{ IOMUX_OP_TRYLOCK, "TRYLOCK" }, { IOMUX_OP_UNLOCK, "UNLOCK" },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].op == op)
			return t[i].name;
	return "?";
}

static const char *
stname(uint16_t st)
{
	const char	*n = iomux_status_name(st);

	return n != NULL ? n : "?";
}

/* The message of an error reply, for failure reports. */
static const char *
errtext(const struct iomux_reply *r)
{
	static char	buf[256];
	size_t		n;

	if (!IOMUX_ST_IS_ERROR(r->code) || r->argc < 1 || r->argv[0].absent)
		return "";
	n = r->argv[0].len < sizeof(buf) - 1 ? r->argv[0].len :
	    sizeof(buf) - 1;
	memcpy(buf, r->argv[0].data, n);
	buf[n] = '\0';
	return buf;
}

/* ---- calls and replies ---------------------------------------------- */

static struct iomux_reply
hcall(int line, struct iomux_client *c, uint16_t op, size_t argc,
    const struct iomux_value *argv)
{
	struct iomux_reply	r;
	int			rc;

	memset(&r, 0, sizeof(r));
	rc = iomux_call(c, op, argc, argv, &r);
	ASSERT(rc == 0, "line %d: %s: %s (%s)", line, opname(op),
	    strerror(-rc), iomux_errmsg(c));
	ASSERT(r.kind == IOMUX_KIND_REPLY, "line %d: %s: frame kind %u",
	    line, opname(op), r.kind);
	return r;
}

/*
 * The status must be st. An error reply carries exactly one message; the
 * negative answers (TIMEDOUT, NOTFOUND, CONFLICT) carry nothing.
 */
static void
hcheck_status(int line, const struct iomux_reply *r, uint16_t op,
    uint16_t st)
{
	ASSERT(r->code == st, "line %d: %s: status %s (0x%04x) \"%s\", "
	    "want %s (0x%04x)", line, opname(op), stname(r->code), r->code,
	    errtext(r), stname(st), st);
	if (IOMUX_ST_IS_ERROR(st))
		ASSERT(r->argc == 1 && !r->argv[0].absent &&
		    r->argv[0].len > 0, "line %d: %s: error reply %s must "
		    "carry one message (argc %zu)", line, opname(op),
		    stname(st), r->argc);
	else if (st != IOMUX_ST_OK)
		ASSERT(r->argc == 0, "line %d: %s: %s reply with %zu "
		    "arguments, want none", line, opname(op), stname(st),
		    r->argc);
}

static struct iomux_reply
hexpect(int line, struct iomux_client *c, uint16_t st, uint16_t op,
    size_t argc, const struct iomux_value *argv)
{
	struct iomux_reply	r;

	r = hcall(line, c, op, argc, argv);
	hcheck_status(line, &r, op, st);
	return r;
}

static uint32_t
hsend(int line, struct iomux_client *c, uint16_t op, size_t argc,
    const struct iomux_value *argv)
{
	uint32_t	id = 0;
	int		rc;

	rc = iomux_send(c, op, argc, argv, &id);
	ASSERT(rc == 0, "line %d: send %s: %s", line, opname(op),
	    strerror(-rc));
	rc = iomux_flush(c);
	ASSERT(rc == 0, "line %d: flush %s: %s (%s)", line, opname(op),
	    strerror(-rc), iomux_errmsg(c));
	return id;
}

static struct iomux_reply
hrecv(int line, struct iomux_client *c, uint16_t st, uint32_t id)
{
	struct iomux_reply	r;
	int			rc;

	memset(&r, 0, sizeof(r));
	rc = iomux_recv(c, &r);
	ASSERT(rc == 0, "line %d: waiting for reply id %u: %s (%s)", line,
	    id, strerror(-rc), iomux_errmsg(c));
	ASSERT(r.kind == IOMUX_KIND_REPLY, "line %d: want reply id %u, got "
	    "frame kind %u code 0x%04x", line, id, r.kind, r.code);
	ASSERT(r.id == id, "line %d: reply id %u, want %u (replies out of "
	    "order?)", line, r.id, id);
	hcheck_status(line, &r, 0, st);
	return r;
}

static void
hargc(int line, const struct iomux_reply *r, size_t n)
{
	ASSERT(r->argc == n, "line %d: reply has %zu arguments, want %zu",
	    line, r->argc, n);
}

static void
harg_eq(int line, const struct iomux_reply *r, size_t i, const void *p,
    size_t n)
{
	const struct iomux_value	*a;
	size_t				 k;

	ASSERT(i < r->argc, "line %d: reply has %zu arguments, want "
	    "argument %zu", line, r->argc, i);
	a = &r->argv[i];
	ASSERT(!a->absent, "line %d: argument %zu is absent, want %zu "
	    "bytes", line, i, n);
	ASSERT(a->len == n, "line %d: argument %zu has %zu bytes, want %zu",
	    line, i, a->len, n);
	for (k = 0; k < n; k++)
		ASSERT(((const uint8_t *)a->data)[k] ==
		    ((const uint8_t *)p)[k], "line %d: argument %zu differs "
		    "at byte %zu (0x%02x, want 0x%02x)", line, i, k,
		    ((const uint8_t *)a->data)[k], ((const uint8_t *)p)[k]);
}

static uint64_t
get64(const void *p)
{
	const uint8_t	*b = p;
	uint64_t	 v = 0;
	int		 k;

	for (k = 0; k < 8; k++)
		v = v << 8 | b[k];
	return v;
}

static uint64_t
harg_u64(int line, const struct iomux_reply *r, size_t i)
{
	ASSERT(i < r->argc, "line %d: reply has %zu arguments, want a u64 "
	    "at %zu", line, r->argc, i);
	ASSERT(!r->argv[i].absent && r->argv[i].len == 8, "line %d: "
	    "argument %zu: %zu bytes%s, want an 8-byte integer", line, i,
	    r->argv[i].len, r->argv[i].absent ? " (absent)" : "");
	return get64(r->argv[i].data);
}

static void
hok_u64(int line, const struct iomux_reply *r, uint64_t v)
{
	uint64_t	got;

	hargc(line, r, 1);
	got = harg_u64(line, r, 0);
	ASSERT(got == v, "line %d: reply %" PRIu64 ", want %" PRIu64, line,
	    got, v);
}

/* ---- round trips, STATUS and pushes --------------------------------- */

/* A round trip: the connection is alive and in step. */
static void
hping(int line, struct iomux_client *c, const char *what)
{
	struct iomux_reply	r;

	r = hexpect(line, c, IOMUX_ST_OK, IOMUX_OP_PING, 1,
	    ARGV(S(what)));
	harg_eq(line, &r, 0, what, strlen(what));
	hargc(line, &r, 1);
}
#define PING(c, what)	hping(__LINE__, (c), (what))

/* A STATUS field as a number; it must be plain decimal digits. */
static long long
hstat(int line, struct iomux_client *c, const char *name)
{
	const struct iomux_value	*v;
	struct iomux_reply		 r;
	char				 buf[32];
	size_t				 k;

	r = hexpect(line, c, IOMUX_ST_OK, IOMUX_OP_STATUS, 0, NULL);
	v = iomux_reply_field(&r, name);
	ASSERT(v != NULL && !v->absent, "line %d: STATUS lacks field %s",
	    line, name);
	ASSERT(v->len > 0 && v->len < sizeof(buf), "line %d: STATUS %s: "
	    "%zu bytes", line, name, v->len);
	memcpy(buf, v->data, v->len);
	buf[v->len] = '\0';
	for (k = 0; k < v->len; k++)
		ASSERT(buf[k] >= '0' && buf[k] <= '9', "line %d: STATUS "
		    "%s=\"%s\" is not a decimal number", line, name, buf);
	return strtoll(buf, NULL, 10);
}

/* Poll STATUS until name == want, at most 3 s. */
static void
hwait_stat(int line, struct iomux_client *c, const char *name,
    long long want)
{
	int64_t		deadline = tu_now_ms() + 3000;
	long long	v;

	for (;;) {
		v = hstat(line, c, name);
		if (v == want)
			return;
		ASSERT(tu_now_ms() < deadline, "line %d: STATUS %s stays at "
		    "%lld, want %lld", line, name, v, want);
		tu_sleep_ms(5);
	}
}

/*
 * Each field of w must have its value. A failure reports every field,
 * with what it should be.
 */
static void
hstats(int line, struct iomux_client *c, const char *why,
    const struct stat_want *w, size_t n)
{
	long long	got[16];
	char		msg[1024];
	size_t		i, len = 0;
	int		bad = 0;

	ASSERT(n <= sizeof(got) / sizeof(got[0]), "line %d: %zu fields",
	    line, n);
	for (i = 0; i < n; i++) {
		got[i] = hstat(line, c, w[i].name);
		if (got[i] != w[i].want)
			bad = 1;
	}
	if (!bad)
		return;
	msg[0] = '\0';
	for (i = 0; i < n && len < sizeof(msg); i++)
		len += (size_t)snprintf(msg + len, sizeof(msg) - len,
		    "%s%s %lld (want %lld)", i > 0 ? ", " : "", w[i].name,
		    got[i], w[i].want);
	ASSERT(0, "line %d: %s%sSTATUS %s", line, why != NULL ? why : "",
	    why != NULL ? ": " : "", msg);
}

/* Nothing arrives on c for ms milliseconds (c has nothing buffered). */
static void
hquiet(int line, struct iomux_client *c, int ms, const char *what)
{
	struct pollfd	pfd;
	int		n;

	pfd.fd = iomux_fd(c);
	pfd.events = POLLIN;
	pfd.revents = 0;
	do
		n = poll(&pfd, 1, ms);
	while (n == -1 && errno == EINTR);
	ASSERT(n == 0, "line %d: %s: something arrived (revents 0x%x)",
	    line, what, pfd.revents);
}
#define QUIET(c, ms, what)	hquiet(__LINE__, (c), (ms), (what))

/* A push frame of type MESSAGE with these arguments (pattern may be NULL). */
static void
hpush(int line, const struct iomux_reply *r, const void *ch, size_t chlen,
    const void *msg, size_t msglen, const char *pattern)
{
	ASSERT(r->kind == IOMUX_KIND_PUSH, "line %d: want a PUSH frame, got "
	    "kind %u code 0x%04x id %u", line, r->kind, r->code, r->id);
	ASSERT(r->code == IOMUX_PUSH_MESSAGE, "line %d: push code 0x%04x",
	    line, r->code);
	ASSERT(r->id == 0, "line %d: push id %u, want 0", line, r->id);
	hargc(line, r, pattern != NULL ? 3 : 2);
	harg_eq(line, r, 0, ch, chlen);
	harg_eq(line, r, 1, msg, msglen);
	if (pattern != NULL)
		harg_eq(line, r, 2, pattern, strlen(pattern));
}

/* The next frame on c is a push with these arguments. */
static void
hrecv_push(int line, struct iomux_client *c, const void *ch, size_t chlen,
    const void *msg, size_t msglen, const char *pattern)
{
	struct iomux_reply	r;
	int			rc;

	memset(&r, 0, sizeof(r));
	rc = iomux_recv(c, &r);
	ASSERT(rc == 0, "line %d: waiting for a push: %s (%s)", line,
	    strerror(-rc), iomux_errmsg(c));
	hpush(line, &r, ch, chlen, msg, msglen, pattern);
}
#define RECV_PUSH(c, ch, msg, pat)					\
	hrecv_push(__LINE__, (c), (ch), strlen(ch), (msg), strlen(msg), (pat))

/* Milliseconds since t0. */
static long long
since(int64_t t0)
{
	return (long long)(tu_now_ms() - t0);
}

/* A fill pattern that differs per item and per byte. */
static void
fill(uint8_t *p, size_t n, unsigned seed)
{
	size_t	k;

	for (k = 0; k < n; k++)
		p[k] = (uint8_t)(seed * 131u + k * 7u + (k >> 8));
}

/* ---- key-value ------------------------------------------------------ */

START_TEST(test_kv_basic)
{
	static const uint8_t	 nulkey[] = { 'k', 0, 'e', 0, 'y' };
	static const uint8_t	 nulval[] = { 0, 1, 0, 'x', 0, 0, 0xff, 0 };
	struct tu_daemon	 d;
	struct iomux_client	*c, *c2;
	struct iomux_reply	 r;
	uint8_t			*big;
	const size_t		 bigsz = 512 * 1024;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);
	c2 = lconnect(&d);

	/* Absent key: NOTFOUND, no arguments. */
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("missing"));

	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("greeting"), S("hello"));
	ARGC(r, 0);
	r = EXPECT(c2, IOMUX_ST_OK, IOMUX_OP_GET, S("greeting"));
	ARGC(r, 1);
	ARG_STR(r, 0, "hello");

	/* Overwrite. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("greeting"), S("bye"));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("greeting"));
	ARG_STR(r, 0, "bye");

	/* Empty value: present and empty, not absent. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("empty"), V("", 0));
	r = EXPECT(c2, IOMUX_ST_OK, IOMUX_OP_GET, S("empty"));
	ARGC(r, 1);
	ASSERT(!r.argv[0].absent && r.argv[0].len == 0,
	    "GET of an empty value: absent %d len %zu", r.argv[0].absent,
	    r.argv[0].len);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_EXISTS, S("empty"));
	OK_U64(r, 1);

	/* NUL bytes in keys and values round-trip. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, V(nulkey, sizeof(nulkey)),
	    V(nulval, sizeof(nulval)));
	r = EXPECT(c2, IOMUX_ST_OK, IOMUX_OP_GET, V(nulkey, sizeof(nulkey)));
	ARGC(r, 1);
	ARG_EQ(r, 0, nulval, sizeof(nulval));
	/* "k" is a different key from "k\0e\0y". */
	EXPECT(c2, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("k"));

	/* A value at the default value_max (512 KiB) round-trips. */
	big = malloc(bigsz);
	ASSERT(big != NULL, "malloc");
	fill(big, bigsz, 7);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("big"), V(big, bigsz));
	r = EXPECT(c2, IOMUX_ST_OK, IOMUX_OP_GET, S("big"));
	ARG_EQ(r, 0, big, bigsz);

	/* Shapes: absent key or value, no arguments, NX|XX, bad widths. */
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_SET, NONE, S("v"));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_SET, S("k"), NONE);
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_SET, S("k"));
	EXPECT0(c, IOMUX_ST_EARGS, IOMUX_OP_GET);
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_GET, NONE);
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_SET, S("k"), S("v"), U32(5));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_SET, S("k"), S("v"), NONE,
	    U64(1));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_SET, S("k"), S("v"), NONE,
	    U32(IOMUX_SET_NX | IOMUX_SET_XX));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("k"));
	/* The connection is fine after all these errors. */
	PING(c, "still here");

	free(big);
	iomux_close(c2);
	iomux_close(c);
	dstop(&d);
}
END_TEST

START_TEST(test_set_flags)
{
	struct tu_daemon	 d;
	struct iomux_client	*c;
	struct iomux_reply	 r;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);

	/* NX: only if absent. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("a"), S("1"), NONE,
	    U32(IOMUX_SET_NX));
	EXPECT(c, IOMUX_ST_CONFLICT, IOMUX_OP_SET, S("a"), S("2"), NONE,
	    U32(IOMUX_SET_NX));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("a"));
	ARG_STR(r, 0, "1");

	/* XX: only if present. */
	EXPECT(c, IOMUX_ST_CONFLICT, IOMUX_OP_SET, S("b"), S("1"), NONE,
	    U32(IOMUX_SET_XX));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("b"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("a"), S("3"), NONE,
	    U32(IOMUX_SET_XX));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("a"));
	ARG_STR(r, 0, "3");

	/* Flags 0 given explicitly, ttl absent: a plain SET. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("c"), S("x"), NONE, U32(0));

	/* Compare-and-set: exact bytes, a missing key never equals. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("a"), S("4"), NONE, NONE,
	    S("3"));
	EXPECT(c, IOMUX_ST_CONFLICT, IOMUX_OP_SET, S("a"), S("5"), NONE,
	    NONE, S("3"));
	EXPECT(c, IOMUX_ST_CONFLICT, IOMUX_OP_SET, S("a"), S("5"), NONE,
	    NONE, S("4 "));
	EXPECT(c, IOMUX_ST_CONFLICT, IOMUX_OP_SET, S("a"), S("5"), NONE,
	    NONE, V("4\0", 2));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("a"));
	ARG_STR(r, 0, "4");
	EXPECT(c, IOMUX_ST_CONFLICT, IOMUX_OP_SET, S("nokey"), S("v"), NONE,
	    NONE, V("", 0));
	EXPECT(c, IOMUX_ST_CONFLICT, IOMUX_OP_SET, S("nokey"), S("v"), NONE,
	    NONE, S("v"));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("nokey"));
	/* An empty current value equals an empty expected one. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("e"), V("", 0));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("e"), S("full"), NONE, NONE,
	    V("", 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("e"));
	ARG_STR(r, 0, "full");
	/* An absent expected argument means "no compare". */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("e"), S("again"), NONE, NONE,
	    NONE);
	/* Compare combined with XX and a TTL. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("e"), S("cas"), U64(60000),
	    U32(IOMUX_SET_XX), S("again"));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("e"));
	ARG_STR(r, 0, "cas");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("e"));
	ASSERT(ARG_I64(r, 0) > 55000 && ARG_I64(r, 0) <= 60000,
	    "TTL after SET with ttl 60000 and a compare: %" PRId64,
	    ARG_I64(r, 0));

	/* SET without a TTL removes an expiry; KEEPTTL keeps it. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("t"), S("1"), U64(60000));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("t"));
	ASSERT(ARG_I64(r, 0) > 55000 && ARG_I64(r, 0) <= 60000,
	    "TTL after SET ttl 60000: %" PRId64, ARG_I64(r, 0));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("t"), S("2"), NONE,
	    U32(IOMUX_SET_KEEPTTL));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("t"));
	ASSERT(ARG_I64(r, 0) > 55000 && ARG_I64(r, 0) <= 60000,
	    "KEEPTTL lost the expiry: TTL %" PRId64, ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("t"));
	ARG_STR(r, 0, "2");
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("t"), S("3"));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("t"));
	ASSERT(ARG_I64(r, 0) == -1, "SET without ttl must remove the expiry: "
	    "TTL %" PRId64, ARG_I64(r, 0));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("t"), S("4"), U64(60000));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("t"), S("5"), U64(0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("t"));
	ASSERT(ARG_I64(r, 0) == -1, "SET with ttl 0 must mean no expiry: "
	    "TTL %" PRId64, ARG_I64(r, 0));
	/* KEEPTTL on a key without expiry, and on a new key. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("t"), S("6"), NONE,
	    U32(IOMUX_SET_KEEPTTL));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("t"));
	ASSERT(ARG_I64(r, 0) == -1, "TTL %" PRId64, ARG_I64(r, 0));
	/* NX with a TTL on a new key. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("n"), S("1"), U64(30000),
	    U32(IOMUX_SET_NX));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("n"));
	ASSERT(ARG_I64(r, 0) > 25000 && ARG_I64(r, 0) <= 30000,
	    "TTL after SET NX ttl 30000: %" PRId64, ARG_I64(r, 0));
	/* A failed NX changes nothing, not even the TTL. */
	EXPECT(c, IOMUX_ST_CONFLICT, IOMUX_OP_SET, S("n"), S("2"), NONE,
	    U32(IOMUX_SET_NX));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("n"));
	ASSERT(ARG_I64(r, 0) > 25000, "a refused SET NX touched the TTL: %"
	    PRId64, ARG_I64(r, 0));

	iomux_close(c);
	dstop(&d);
}
END_TEST

START_TEST(test_ttl_expiry)
{
	struct tu_daemon	 d;
	struct iomux_client	*c, *adm;
	struct iomux_reply	 r;
	int64_t			 t0, ttl;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);
	adm = lconnect(&d);

	STATS_WHY(adm, "a fresh daemon holds no keys", { "keys", 0 },
	    { "keys_expiring", 0 });

	/* Missing keys. */
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_TTL, S("nokey"));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_EXPIRE, S("nokey"), U64(1000));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_PERSIST, S("nokey"));

	t0 = tu_now_ms();
	/* gone: read after expiry (lazy); quiet: never touched (timer). */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("gone"), S("v"), U64(100));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("quiet"), S("v"), U64(100));
	/* A key whose expiry is removed or replaced must survive its old
	 * timer. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("reset"), S("v"), U64(100));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("reset"), S("w"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("longer"), S("v"), U64(100));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("longer"), S("w"),
	    U64(60000));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("reborn"), S("v"), U64(100));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_DEL, S("reborn"));
	OK_U64(r, 1);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("reborn"), S("w"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("persisted"), S("v"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_EXPIRE, S("persisted"), U64(100));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("persisted"));
	ttl = ARG_I64(r, 0);
	ASSERT(ttl > 0 && ttl <= 100, "TTL after EXPIRE 100: %" PRId64, ttl);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PERSIST, S("persisted"));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("persisted"));
	ASSERT(ARG_I64(r, 0) == -1, "TTL after PERSIST: %" PRId64,
	    ARG_I64(r, 0));
	/* PERSIST of a key without expiry is fine. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PERSIST, S("persisted"));
	/* EXPIRE shortens a long TTL. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("shortened"), S("v"),
	    U64(60000));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_EXPIRE, S("shortened"), U64(100));
	/* EXPIRE needs a TTL above 0 in 8 bytes. */
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_EXPIRE, S("persisted"), U64(0));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_EXPIRE, S("persisted"), U32(100));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_EXPIRE, S("persisted"));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("persisted"));
	ASSERT(ARG_I64(r, 0) == -1, "a refused EXPIRE set a TTL: %" PRId64,
	    ARG_I64(r, 0));

	/* Before expiry: readable, TTL sensible. */
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("gone"));
	ARGC(r, 1);
	ttl = ARG_I64(r, 0);
	ASSERT(ttl > 0 && ttl <= 100, "TTL of a 100 ms key: %" PRId64, ttl);
	if (since(t0) < 80) {
		r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("gone"));
		ARG_STR(r, 0, "v");
	}
	STATS(adm, { "keys", 7 });
	STATS_WHY(adm, "expiring: gone, quiet, longer, shortened",
	    { "keys_expiring", 4 });

	/* The untouched keys leave memory on time (a timer, not a read). */
	tu_sleep_ms(300 - (int)(since(t0) < 300 ? since(t0) : 300));
	WAIT_STAT(adm, "keys", 4);
	STATS(adm, { "keys_expiring", 1 });
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("gone"));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_TTL, S("gone"));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("quiet"));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("shortened"));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_PERSIST, S("gone"));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_EXPIRE, S("gone"), U64(100));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_EXISTS, S("gone"), S("quiet"),
	    S("reset"), S("longer"), S("reborn"), S("persisted"));
	OK_U64(r, 4);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("reset"));
	ARG_STR(r, 0, "w");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("longer"));
	ARG_STR(r, 0, "w");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("longer"));
	ASSERT(ARG_I64(r, 0) > 50000 && ARG_I64(r, 0) <= 60000,
	    "TTL of a key re-set with 60000 ms: %" PRId64, ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("reborn"));
	ARG_STR(r, 0, "w");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("persisted"));
	ARG_STR(r, 0, "v");
	/* An expired key can be set again like a new one (NX succeeds). */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("gone"), S("again"), NONE,
	    U32(IOMUX_SET_NX));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("gone"));
	ASSERT(ARG_I64(r, 0) == -1, "TTL %" PRId64, ARG_I64(r, 0));
	/* XX on an expired key: it is absent. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("x"), S("v"), U64(50));
	tu_sleep_ms(150);
	EXPECT(c, IOMUX_ST_CONFLICT, IOMUX_OP_SET, S("x"), S("w"), NONE,
	    U32(IOMUX_SET_XX));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("x"));

	iomux_close(adm);
	iomux_close(c);
	dstop(&d);
}
END_TEST

START_TEST(test_incr)
{
	static const char *const bad[] = {
		"abc", "+5", " 5", "5 ", "", "1.5", "-", "0x10", "1e3",
		"9223372036854775808", "-9223372036854775809",
		"99999999999999999999",
	};
	struct tu_daemon	 d;
	struct iomux_client	*c;
	struct iomux_reply	 r;
	size_t			 i;
	int64_t			 ttl;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);

	/* A missing key counts as 0; the default delta is 1. */
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("n"));
	ARGC(r, 1);
	ASSERT(ARG_I64(r, 0) == 1, "INCR of a missing key: %" PRId64,
	    ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("n"), I64(41));
	ASSERT(ARG_I64(r, 0) == 42, "INCR by 41: %" PRId64, ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("n"));
	ARG_STR(r, 0, "42");
	/* Negative deltas, through zero. */
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("n"), I64(-50));
	ASSERT(ARG_I64(r, 0) == -8, "INCR by -50: %" PRId64, ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("n"));
	ARG_STR(r, 0, "-8");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("n"), I64(0));
	ASSERT(ARG_I64(r, 0) == -8, "INCR by 0: %" PRId64, ARG_I64(r, 0));
	/* An absent delta is the default. */
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("n"), NONE);
	ASSERT(ARG_I64(r, 0) == -7, "INCR with an absent delta: %" PRId64,
	    ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("m"), I64(-5));
	ASSERT(ARG_I64(r, 0) == -5, "INCR of a missing key by -5: %" PRId64,
	    ARG_I64(r, 0));
	/* A value written by SET. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("s"), S("-17"));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("s"), I64(20));
	ASSERT(ARG_I64(r, 0) == 3, "INCR of \"-17\" by 20: %" PRId64,
	    ARG_I64(r, 0));

	/* Not a decimal int64: ETYPE, the value unchanged. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("bad"), S(bad[i]));
		r = hexpect(__LINE__, c, IOMUX_ST_ETYPE, IOMUX_OP_INCR, 1,
		    ARGV(S("bad")));
		r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("bad"));
		ARG_STR(r, 0, bad[i]);
	}
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("bad"), V("12\0", 3));
	EXPECT(c, IOMUX_ST_ETYPE, IOMUX_OP_INCR, S("bad"));

	/* Overflow: ERANGE, never wraps, value unchanged. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("max"),
	    S("9223372036854775807"));
	EXPECT(c, IOMUX_ST_ERANGE, IOMUX_OP_INCR, S("max"));
	EXPECT(c, IOMUX_ST_ERANGE, IOMUX_OP_INCR, S("max"), I64(INT64_MAX));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("max"));
	ARG_STR(r, 0, "9223372036854775807");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("max"), I64(-1));
	ASSERT(ARG_I64(r, 0) == INT64_MAX - 1, "INT64_MAX - 1: %" PRId64,
	    ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("max"));
	ARG_STR(r, 0, "9223372036854775806");
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("min"),
	    S("-9223372036854775808"));
	EXPECT(c, IOMUX_ST_ERANGE, IOMUX_OP_INCR, S("min"), I64(-1));
	EXPECT(c, IOMUX_ST_ERANGE, IOMUX_OP_INCR, S("min"), I64(INT64_MIN));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("min"));
	ARG_STR(r, 0, "-9223372036854775808");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("min"), I64(INT64_MAX));
	ASSERT(ARG_I64(r, 0) == -1, "INT64_MIN + INT64_MAX: %" PRId64,
	    ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("z"), I64(INT64_MIN));
	ASSERT(ARG_I64(r, 0) == INT64_MIN, "0 + INT64_MIN: %" PRId64,
	    ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("z"));
	ARG_STR(r, 0, "-9223372036854775808");
	EXPECT(c, IOMUX_ST_ERANGE, IOMUX_OP_INCR, S("z"), I64(-1));

	/* The delta is exactly 8 bytes. */
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_INCR, S("n"), U32(1));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_INCR, S("n"), V("1", 1));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("n"));
	ARG_STR(r, 0, "-7");

	/* INCR keeps the TTL. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("t"), S("10"), U64(60000));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("t"), I64(5));
	ASSERT(ARG_I64(r, 0) == 15, "INCR of 10 by 5: %" PRId64,
	    ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("t"));
	ttl = ARG_I64(r, 0);
	ASSERT(ttl > 55000 && ttl <= 60000, "INCR lost the TTL: %" PRId64,
	    ttl);

	iomux_close(c);
	dstop(&d);
}
END_TEST

START_TEST(test_del_exists)
{
	struct iomux_value	 keys[IOMUX_ARGS_MAX];
	char			 names[IOMUX_ARGS_MAX][16];
	struct tu_daemon	 d;
	struct iomux_client	*c, *adm;
	struct iomux_reply	 r;
	int			 i;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);
	adm = lconnect(&d);

	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("a"), S("1"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("b"), S("2"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("c"), V("", 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_EXISTS, S("a"), S("b"), S("c"),
	    S("x"));
	OK_U64(r, 3);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_EXISTS, S("x"));
	OK_U64(r, 0);
	STATS(adm, { "keys", 3 });
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_DEL, S("a"), S("x"));
	OK_U64(r, 1);
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("a"));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_EXISTS, S("a"), S("b"), S("c"));
	OK_U64(r, 2);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_DEL, S("b"), S("c"));
	OK_U64(r, 2);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_DEL, S("b"));
	OK_U64(r, 0);
	STATS(adm, { "keys", 0 });
	EXPECT0(c, IOMUX_ST_EARGS, IOMUX_OP_DEL);
	EXPECT0(c, IOMUX_ST_EARGS, IOMUX_OP_EXISTS);
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_DEL, NONE);

	/* The most keys one frame can hold: 1024. */
	for (i = 0; i < IOMUX_ARGS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "key%04d", i);
		keys[i] = S(names[i]);
		if (i % 100 == 0)
			EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S(names[i]),
			    S("v"));
	}
	r = hexpect(__LINE__, c, IOMUX_ST_OK, IOMUX_OP_EXISTS,
	    IOMUX_ARGS_MAX, keys);
	OK_U64(r, 11);
	r = hexpect(__LINE__, c, IOMUX_ST_OK, IOMUX_OP_DEL, IOMUX_ARGS_MAX,
	    keys);
	OK_U64(r, 11);
	STATS(adm, { "keys", 0 });

	iomux_close(adm);
	iomux_close(c);
	dstop(&d);
}
END_TEST

/*
 * KEYS with a cursor, like SCAN: a key present for the whole iteration
 * is returned at least once, even while the table grows under it; a
 * reply never holds more than the limit; expired and foreign keys never
 * appear.
 */
#define NORIG	1500
#define NNEW	1500

struct scan {
	int	orig[NORIG];
	int	added[NNEW];
	int	prefix_itself;
	int	calls;
	int	max_reply;
};

static void
scan_note(int line, struct scan *sc, const void *p, size_t n)
{
	char	buf[64];
	int	k;

	ASSERT(n < sizeof(buf), "line %d: KEYS returned a %zu-byte key", line,
	    n);
	memcpy(buf, p, n);
	buf[n] = '\0';
	ASSERT(strlen(buf) == n, "line %d: KEYS returned a key with a NUL",
	    line);
	ASSERT(strncmp(buf, "k:", 2) == 0, "line %d: KEYS \"k:\" returned "
	    "\"%s\"", line, buf);
	if (strcmp(buf, "k:") == 0) {
		sc->prefix_itself++;
		return;
	}
	if (sscanf(buf, "k:new:%d", &k) == 1 && k >= 0 && k < NNEW) {
		sc->added[k]++;
		return;
	}
	ASSERT(strncmp(buf, "k:o", 3) == 0 && sscanf(buf, "k:o%d", &k) == 1 &&
	    k >= 0 && k < NORIG, "line %d: KEYS returned \"%s\", which was "
	    "never set (or expired)", line, buf);
	sc->orig[k]++;
}

/* One whole iteration; halfway (if c2), add NNEW keys through c2. */
static void
scan_all(int line, struct iomux_client *c, struct iomux_client *c2,
    struct scan *sc, uint32_t limit)
{
	struct iomux_reply	r;
	uint64_t		cursor = 0;
	size_t			i, nk;
	char			name[32];
	int			k, added = 0;

	memset(sc, 0, sizeof(*sc));
	do {
		if (limit == 0)
			r = hexpect(line, c, IOMUX_ST_OK, IOMUX_OP_KEYS, 2,
			    ARGV(S("k:"), U64(cursor)));
		else
			r = hexpect(line, c, IOMUX_ST_OK, IOMUX_OP_KEYS, 3,
			    ARGV(S("k:"), U64(cursor), U32(limit)));
		ASSERT(r.argc >= 1, "line %d: KEYS reply without a cursor",
		    line);
		cursor = harg_u64(line, &r, 0);
		nk = r.argc - 1;
		ASSERT(nk <= (limit == 0 ? 100 : limit), "line %d: KEYS "
		    "limit %u returned %zu keys", line,
		    limit == 0 ? 100 : limit, nk);
		if ((int)nk > sc->max_reply)
			sc->max_reply = (int)nk;
		for (i = 1; i < r.argc; i++) {
			ASSERT(!r.argv[i].absent, "line %d: absent key", line);
			scan_note(line, sc, r.argv[i].data, r.argv[i].len);
		}
		sc->calls++;
		ASSERT(sc->calls < 100000, "line %d: KEYS never ends (cursor "
		    "%" PRIu64 ")", line, cursor);
		if (c2 != NULL && !added && sc->calls == 30) {
			/* Grow the table mid-iteration. */
			for (k = 0; k < NNEW; k++) {
				snprintf(name, sizeof(name), "k:new:%d", k);
				hexpect(line, c2, IOMUX_ST_OK, IOMUX_OP_SET, 2,
				    ARGV(S(name), S("n")));
			}
			added = 1;
		}
	} while (cursor != 0);
	ASSERT(c2 == NULL || added, "line %d: iteration ended after %d calls "
	    "of limit %u for %d keys", line, sc->calls, limit, NORIG);
	for (k = 0; k < NORIG; k++)
		ASSERT(sc->orig[k] >= 1, "line %d: KEYS (limit %u) missed "
		    "k:o%d", line, limit, k);
	ASSERT(sc->prefix_itself >= 1, "line %d: KEYS \"k:\" missed the key "
	    "\"k:\" itself", line);
}

START_TEST(test_keys_scan)
{
	struct tu_daemon	 d;
	struct iomux_client	*c, *c2;
	struct iomux_reply	 r;
	struct scan		*sc;
	uint64_t		 cursor;
	char			 name[32];
	size_t			 i, total;
	int			 k, calls;

	sc = malloc(sizeof(*sc));
	ASSERT(sc != NULL, "malloc");
	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);
	c2 = lconnect(&d);

	/* Empty store: one call, cursor 0, no keys. */
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_KEYS, V("", 0));
	ARGC(r, 1);
	ASSERT(ARG_U64(r, 0) == 0, "KEYS on an empty store: cursor %"
	    PRIu64, ARG_U64(r, 0));

	for (k = 0; k < NORIG; k++) {
		snprintf(name, sizeof(name), "k:o%d", k);
		EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S(name), S("v"));
	}
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("k:"), S("v"));
	for (k = 0; k < 30; k++) {
		snprintf(name, sizeof(name), "other:%d", k);
		EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S(name), S("v"));
	}
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("k"), S("short"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("K:upper"), S("v"));
	/* Expired keys are never returned. */
	for (k = 0; k < 20; k++) {
		snprintf(name, sizeof(name), "k:expired%d", k);
		EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S(name), S("v"), U64(30));
	}
	tu_sleep_ms(100);

	scan_all(__LINE__, c, NULL, sc, 7);
	ASSERT(sc->max_reply >= 1, "KEYS limit 7 never returned a key");
	scan_all(__LINE__, c, NULL, sc, 0);
	scan_all(__LINE__, c, NULL, sc, 1);
	scan_all(__LINE__, c, NULL, sc, 1000);
	/* Keys added during an iteration do not hide the old ones. */
	scan_all(__LINE__, c, c2, sc, 5);

	/* Empty prefix: everything, each reply within the limit. */
	cursor = 0;
	total = 0;
	calls = 0;
	do {
		r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_KEYS, V("", 0),
		    U64(cursor), U32(1000));
		cursor = ARG_U64(r, 0);
		ASSERT(r.argc - 1 <= 1000, "KEYS limit 1000: %zu keys",
		    r.argc - 1);
		for (i = 1; i < r.argc; i++)
			ASSERT(r.argv[i].len < 8 || memcmp(r.argv[i].data,
			    "k:expir", 7) != 0, "KEYS returned an expired key");
		total += r.argc - 1;
		ASSERT(++calls < 100000, "KEYS \"\" never ends");
	} while (cursor != 0);
	ASSERT(total >= NORIG + NNEW + 1 + 30 + 2, "KEYS \"\" returned %zu "
	    "keys, want at least %d", total, NORIG + NNEW + 1 + 30 + 2);

	/* A prefix that matches nothing. */
	cursor = 0;
	calls = 0;
	do {
		r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_KEYS, S("zzz"),
		    U64(cursor), U32(50));
		cursor = ARG_U64(r, 0);
		ARGC(r, 1);
		ASSERT(++calls < 100000, "KEYS \"zzz\" never ends");
	} while (cursor != 0);

	/* Shapes: an absent prefix, a cursor or limit of the wrong width. */
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_KEYS, NONE);
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_KEYS, S("k:"), U32(0));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_KEYS, S("k:"), U64(0), U64(10));
	/* The limit is 1..1000 (iomuxd-protocol(7)). */
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_KEYS, S("k:"), U64(0), U32(0));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_KEYS, S("k:"), U64(0), U32(1001));
	PING(c, "after KEYS");

	free(sc);
	iomux_close(c2);
	iomux_close(c);
	dstop(&d);
}
END_TEST

/* ---- WAIT ----------------------------------------------------------- */

START_TEST(test_wait)
{
	struct tu_daemon	 d;
	struct iomux_client	*a, *b, *c, *adm;
	struct iomux_reply	 r;
	uint32_t		 ida, idb, idping;
	int64_t			 t0;
	long long		 dt;

	dstart(&d, BACKEND, NULL);
	a = lconnect(&d);
	b = lconnect(&d);
	c = lconnect(&d);
	adm = lconnect(&d);

	/* At once when the key exists, with or without a timeout. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("ready"), S("yes"));
	t0 = tu_now_ms();
	r = EXPECT(a, IOMUX_ST_OK, IOMUX_OP_WAIT, S("ready"));
	ARGC(r, 1);
	ARG_STR(r, 0, "yes");
	r = EXPECT(a, IOMUX_ST_OK, IOMUX_OP_WAIT, S("ready"), U64(5000));
	ARG_STR(r, 0, "yes");
	r = EXPECT(a, IOMUX_ST_OK, IOMUX_OP_WAIT, S("ready"), FOREVER);
	ARG_STR(r, 0, "yes");
	ASSERT(since(t0) < PROMPT_MS, "WAIT on an existing key took %lld ms",
	    since(t0));

	/* Timeout: TIMEDOUT, no arguments, not early, connection usable. */
	t0 = tu_now_ms();
	r = EXPECT(a, IOMUX_ST_TIMEDOUT, IOMUX_OP_WAIT, S("flag"), U64(200));
	dt = since(t0);
	ASSERT(dt >= 200 - EARLY_MS && dt < 200 + PROMPT_MS, "WAIT 200 ms "
	    "timed out after %lld ms", dt);
	PING(a, "after WAIT timeout");
	STATS(adm, { "blocked_clients", 0 });

	/* A SET of another key does not wake it. */
	t0 = tu_now_ms();
	ida = SEND(a, IOMUX_OP_WAIT, S("flag"), U64(300));
	WAIT_STAT(adm, "blocked_clients", 1);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("flag2"), S("x"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("fla"), S("x"));
	RECV(a, IOMUX_ST_TIMEDOUT, ida);
	ASSERT(since(t0) >= 300 - EARLY_MS, "WAIT woke after %lld ms",
	    since(t0));

	/* Woken by a SET from another client; two waiters both get it. */
	ida = SEND(a, IOMUX_OP_WAIT, S("flag"), FOREVER);
	WAIT_STAT(adm, "blocked_clients", 1);
	idb = SEND(b, IOMUX_OP_WAIT, S("flag"), U64(10000));
	WAIT_STAT(adm, "blocked_clients", 2);
	QUIET(a, 100, "WAIT on a missing key");
	t0 = tu_now_ms();
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("flag"), V("go\0!", 4));
	r = RECV(a, IOMUX_ST_OK, ida);
	ARGC(r, 1);
	ARG_EQ(r, 0, "go\0!", 4);
	r = RECV(b, IOMUX_ST_OK, idb);
	ARGC(r, 1);
	ARG_EQ(r, 0, "go\0!", 4);
	ASSERT(since(t0) < PROMPT_MS, "WAIT woken %lld ms after SET",
	    since(t0));
	WAIT_STAT(adm, "blocked_clients", 0);
	PING(a, "after WAIT");

	/* Woken by an INCR that creates the key. */
	ida = SEND(a, IOMUX_OP_WAIT, S("counter"), U64(5000));
	WAIT_STAT(adm, "blocked_clients", 1);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("counter"), I64(5));
	r = RECV(a, IOMUX_ST_OK, ida);
	ARG_STR(r, 0, "5");

	/* Woken by a SET with a TTL and an empty value. */
	ida = SEND(a, IOMUX_OP_WAIT, S("e"), U64(5000));
	WAIT_STAT(adm, "blocked_clients", 1);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("e"), V("", 0), U64(60000));
	r = RECV(a, IOMUX_ST_OK, ida);
	ARGC(r, 1);
	ASSERT(!r.argv[0].absent && r.argv[0].len == 0, "WAIT for an empty "
	    "value: absent %d len %zu", r.argv[0].absent, r.argv[0].len);

	/* A blocked WAIT holds up the same connection's later requests. */
	ida = SEND(a, IOMUX_OP_WAIT, S("late"), FOREVER);
	idping = SEND(a, IOMUX_OP_PING, S("behind"));
	WAIT_STAT(adm, "blocked_clients", 1);
	QUIET(a, 100, "a PING pipelined behind a blocked WAIT");
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("late"), S("now"));
	r = RECV(a, IOMUX_ST_OK, ida);
	ARG_STR(r, 0, "now");
	r = RECV(a, IOMUX_ST_OK, idping);
	ARG_STR(r, 0, "behind");

	/* A waiter that goes away is forgotten. */
	idb = SEND(b, IOMUX_OP_WAIT, S("never"), FOREVER);
	WAIT_STAT(adm, "blocked_clients", 1);
	iomux_close(b);
	WAIT_STAT(adm, "blocked_clients", 0);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("never"), S("x"));
	PING(c, "after a SET with a gone waiter");

	/* Shapes. */
	EXPECT(a, IOMUX_ST_EARGS, IOMUX_OP_WAIT, S("k"), U32(5));
	EXPECT(a, IOMUX_ST_EARGS, IOMUX_OP_WAIT, NONE);

	(void)idb;
	iomux_close(adm);
	iomux_close(c);
	iomux_close(a);
	dstop(&d);
}
END_TEST

/* ---- queues --------------------------------------------------------- */

START_TEST(test_queue_basic)
{
	struct tu_daemon	 d;
	struct iomux_client	*c, *adm;
	struct iomux_reply	 r;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);
	adm = lconnect(&d);

	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, S("q"));
	OK_U64(r, 0);
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_PEEK, S("q"));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_POP, S("q"));

	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUSH, S("q"), S("one"));
	OK_U64(r, 1);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUSH, S("q"), S("two"),
	    V("t\0ree", 5), V("", 0));
	OK_U64(r, 4);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, S("q"));
	OK_U64(r, 4);
	STATS(adm, { "queues", 1 }, { "queued_items", 4 });
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PEEK, S("q"));
	ARGC(r, 1);
	ARG_STR(r, 0, "one");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, S("q"));
	OK_U64(r, 4);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_POP, S("q"));
	ARGC(r, 1);
	ARG_STR(r, 0, "one");
	/* A POP with a timeout that has an item answers at once. */
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_POP, S("q"), U64(5000));
	ARG_STR(r, 0, "two");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_POP, S("q"), FOREVER);
	ARG_EQ(r, 0, "t\0ree", 5);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PEEK, S("q"));
	ARGC(r, 1);
	ASSERT(!r.argv[0].absent && r.argv[0].len == 0, "PEEK of an empty "
	    "item: absent %d len %zu", r.argv[0].absent, r.argv[0].len);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_POP, S("q"));
	ARGC(r, 1);
	ASSERT(!r.argv[0].absent && r.argv[0].len == 0, "POP of an empty "
	    "item: absent %d len %zu", r.argv[0].absent, r.argv[0].len);
	/* Empty now: the queue is gone. */
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_POP, S("q"));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, S("q"));
	OK_U64(r, 0);
	STATS_WHY(adm, "an empty queue is deleted", { "queues", 0 },
	    { "queued_items", 0 });

	/* Queues and keys are separate name spaces. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("same"), S("key"));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUSH, S("same"), S("item"));
	OK_U64(r, 1);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("same"));
	ARG_STR(r, 0, "key");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_POP, S("same"));
	ARG_STR(r, 0, "item");

	/* Shapes. */
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_PUSH, S("q"));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_PUSH, S("q"), NONE);
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_PUSH, NONE, S("v"));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_POP, S("q"), U32(10));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, S("q"));
	OK_U64(r, 0);
	PING(c, "after queue errors");

	iomux_close(adm);
	iomux_close(c);
	dstop(&d);
}
END_TEST

START_TEST(test_pop_woken)
{
	struct tu_daemon	 d;
	struct iomux_client	*a, *b, *adm;
	struct iomux_reply	 r;
	uint32_t		 id, idping;
	int64_t			 t0;

	dstart(&d, BACKEND, NULL);
	a = lconnect(&d);
	b = lconnect(&d);
	adm = lconnect(&d);

	id = SEND(a, IOMUX_OP_POP, S("jobs"), FOREVER);
	WAIT_STAT(adm, "blocked_clients", 1);
	QUIET(a, 100, "POP on an empty queue");
	t0 = tu_now_ms();
	/* The item goes straight to the waiter: it never sits queued. */
	r = EXPECT(b, IOMUX_ST_OK, IOMUX_OP_PUSH, S("jobs"), V("j\0b1", 4));
	OK_U64(r, 0);
	r = RECV(a, IOMUX_ST_OK, id);
	ARGC(r, 1);
	ARG_EQ(r, 0, "j\0b1", 4);
	ASSERT(since(t0) < PROMPT_MS, "POP woken %lld ms after PUSH",
	    since(t0));
	r = EXPECT(b, IOMUX_ST_OK, IOMUX_OP_QLEN, S("jobs"));
	OK_U64(r, 0);
	WAIT_STAT(adm, "blocked_clients", 0);
	STATS(adm, { "queued_items", 0 });

	/* With a finite timeout, and a PUSH of several: the rest stays. */
	id = SEND(a, IOMUX_OP_POP, S("jobs"), U64(5000));
	WAIT_STAT(adm, "blocked_clients", 1);
	r = EXPECT(b, IOMUX_ST_OK, IOMUX_OP_PUSH, S("jobs"), S("x"), S("y"),
	    S("z"));
	OK_U64(r, 2);
	r = RECV(a, IOMUX_ST_OK, id);
	ARG_STR(r, 0, "x");
	r = EXPECT(b, IOMUX_ST_OK, IOMUX_OP_POP, S("jobs"));
	ARG_STR(r, 0, "y");
	r = EXPECT(a, IOMUX_ST_OK, IOMUX_OP_POP, S("jobs"), U64(1000));
	ARG_STR(r, 0, "z");

	/* A blocked POP holds up the same connection's later requests. */
	id = SEND(a, IOMUX_OP_POP, S("jobs"), FOREVER);
	idping = SEND(a, IOMUX_OP_PING, S("behind"));
	WAIT_STAT(adm, "blocked_clients", 1);
	QUIET(a, 100, "a PING pipelined behind a blocked POP");
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_PUSH, S("jobs"), S("w"));
	r = RECV(a, IOMUX_ST_OK, id);
	ARG_STR(r, 0, "w");
	r = RECV(a, IOMUX_ST_OK, idping);
	ARG_STR(r, 0, "behind");

	/* A PUSH to another queue does not wake it. */
	id = SEND(a, IOMUX_OP_POP, S("jobs"), U64(300));
	WAIT_STAT(adm, "blocked_clients", 1);
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_PUSH, S("jobs2"), S("other"));
	RECV(a, IOMUX_ST_TIMEDOUT, id);
	r = EXPECT(b, IOMUX_ST_OK, IOMUX_OP_QLEN, S("jobs2"));
	OK_U64(r, 1);

	iomux_close(adm);
	iomux_close(b);
	iomux_close(a);
	dstop(&d);
}
END_TEST

START_TEST(test_pop_timeout)
{
	struct tu_daemon	 d;
	struct iomux_client	*a, *adm;
	struct iomux_reply	 r;
	int64_t			 t0;
	long long		 dt, wakeups;

	dstart(&d, BACKEND, NULL);
	a = lconnect(&d);
	adm = lconnect(&d);

	t0 = tu_now_ms();
	EXPECT(a, IOMUX_ST_TIMEDOUT, IOMUX_OP_POP, S("empty"), U64(200));
	dt = since(t0);
	ASSERT(dt >= 200 - EARLY_MS && dt < 200 + PROMPT_MS, "POP 200 ms "
	    "timed out after %lld ms", dt);
	/* The connection stays usable. */
	PING(a, "after POP timeout");
	r = EXPECT(a, IOMUX_ST_OK, IOMUX_OP_PUSH, S("empty"), S("v"));
	OK_U64(r, 1);
	r = EXPECT(a, IOMUX_ST_OK, IOMUX_OP_POP, S("empty"), U64(200));
	ARG_STR(r, 0, "v");
	STATS(adm, { "blocked_clients", 0 });
	/* A short and a long one. */
	t0 = tu_now_ms();
	EXPECT(a, IOMUX_ST_TIMEDOUT, IOMUX_OP_POP, S("empty"), U64(1));
	ASSERT(since(t0) < PROMPT_MS, "POP 1 ms took %lld ms", since(t0));
	PING(a, "after POP 1 ms");
	iomux_close(adm);
	iomux_close(a);
	dstop(&d);

	/*
	 * A blocked client is never timed out as idle, the loop sleeps
	 * while it waits, and the time spent blocked does not count as
	 * idle once it is answered.
	 */
	dstart(&d, BACKEND, "--idle-timeout", "0.3", NULL);
	a = lconnect(&d);
	adm = lconnect(&d);
	wakeups = STAT(adm, "wakeups");
	iomux_close(adm);	/* it would be idle */
	t0 = tu_now_ms();
	EXPECT(a, IOMUX_ST_TIMEDOUT, IOMUX_OP_POP, S("q"), U64(900));
	dt = since(t0);
	ASSERT(dt >= 900 - EARLY_MS, "POP 900 ms with --idle-timeout 0.3: "
	    "answered after %lld ms", dt);
	PING(a, "at once after a POP longer than the idle timeout");
	adm = lconnect(&d);
	wakeups = STAT(adm, "wakeups") - wakeups;
	ASSERT(wakeups < 100, "the loop woke %lld times while one client "
	    "was blocked for 900 ms (--idle-timeout 0.3): it spins",
	    wakeups);
	iomux_close(adm);
	iomux_close(a);
	dstop(&d);
}
END_TEST

/*
 * A client that half-closes while a request waits: the wait is cancelled
 * and nothing behind it is answered either (its reply would arrive out of
 * order); the connection closes and takes nothing from the queue.
 */
START_TEST(test_pop_half_close)
{
	struct tu_daemon	 d;
	struct iomux_client	*b;
	struct iomux_reply	 r;
	struct tu_arg		 a[2];
	uint8_t			 req[128], t[8];
	size_t			 n;
	ssize_t			 got;
	int			 fd;

	dstart(&d, BACKEND, NULL);
	b = lconnect(&d);
	fd = tu_connect_unix(d.sock, IO_MS);
	ASSERT(fd >= 0, "connect: %s", strerror(-fd));
	tu_put32(t, 0);
	tu_put32(t + 4, 5000);
	a[0].p = "hq";
	a[0].len = 2;
	a[1].p = t;
	a[1].len = 8;
	n = tu_encode_req(req, sizeof(req), IOMUX_OP_POP, 7, 2, a);
	n += tu_encode_req(req + n, sizeof(req) - n, IOMUX_OP_PING, 8, 0,
	    NULL);
	ASSERT(tu_write_all(fd, req, n, IO_MS) == 0, "write POP + PING");
	WAIT_STAT(b, "blocked_clients", 1);
	ASSERT(shutdown(fd, SHUT_WR) == 0, "shutdown: %s", strerror(errno));
	got = tu_wait_eof(fd, 2000);
	ASSERT(got == 0, "after a half-close during POP: %s", got < 0 ?
	    strerror((int)-got) : "a reply arrived (out of order)");
	close(fd);
	WAIT_STAT(b, "blocked_clients", 0);
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_PUSH, S("hq"), S("kept"));
	r = EXPECT(b, IOMUX_ST_OK, IOMUX_OP_POP, S("hq"));
	ARG_STR(r, 0, "kept");
	iomux_close(b);
	dstop(&d);
}
END_TEST

START_TEST(test_pop_waiter_gone)
{
	struct tu_daemon	 d;
	struct iomux_client	*a, *b, *c, *adm;
	struct iomux_reply	 r;
	char			 item[32];
	int			 round;

	dstart(&d, BACKEND, NULL);
	b = lconnect(&d);
	c = lconnect(&d);
	adm = lconnect(&d);

	/* A blocks, closes; B pushes; C gets the item. */
	a = lconnect(&d);
	SEND(a, IOMUX_OP_POP, S("q"), FOREVER);
	WAIT_STAT(adm, "blocked_clients", 1);
	iomux_close(a);
	WAIT_STAT(adm, "blocked_clients", 0);
	r = EXPECT(b, IOMUX_ST_OK, IOMUX_OP_PUSH, S("q"), S("precious"));
	OK_U64(r, 1);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_POP, S("q"));
	ARG_STR(r, 0, "precious");

	/*
	 * The same without waiting for the daemon to notice the close: the
	 * PUSH may be read in the same turn as A's end of stream. A waiter
	 * whose peer is gone must not take the item.
	 */
	for (round = 0; round < 20; round++) {
		a = lconnect(&d);
		SEND(a, IOMUX_OP_POP, S("q"), U64(60000));
		WAIT_STAT(adm, "blocked_clients", 1);
		iomux_close(a);
		snprintf(item, sizeof(item), "item %d", round);
		EXPECT(b, IOMUX_ST_OK, IOMUX_OP_PUSH, S("q"), S(item));
		r = CALL(c, IOMUX_OP_POP, S("q"), U64(2000));
		if (r.code != IOMUX_ST_OK) {
			hcheck_status(__LINE__, &r, IOMUX_OP_POP,
			    IOMUX_ST_TIMEDOUT);
			r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, S("q"));
			ASSERT(0, "round %d: the item pushed right after its "
			    "only waiter closed is lost: POP timed out after "
			    "2 s, QLEN %" PRIu64 ", queued_items %lld", round,
			    ARG_U64(r, 0), STAT(adm, "queued_items"));
		}
		ARG_STR(r, 0, item);
		WAIT_STAT(adm, "blocked_clients", 0);
	}
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, S("q"));
	OK_U64(r, 0);

	/* A blocked waiter at shutdown does not keep the daemon. */
	a = lconnect(&d);
	SEND(a, IOMUX_OP_POP, S("q"), FOREVER);
	WAIT_STAT(adm, "blocked_clients", 1);
	iomux_close(adm);
	iomux_close(c);
	iomux_close(b);
	dstop(&d);
	/* It was told (ESHUTDOWN), or at least not left hanging. */
	memset(&r, 0, sizeof(r));
	round = iomux_recv(a, &r);
	ASSERT(round == -ECONNRESET || (round == 0 && r.kind ==
	    IOMUX_KIND_REPLY && r.code == IOMUX_ST_ESHUTDOWN), "a client "
	    "blocked at shutdown: %s, status 0x%04x", strerror(-round),
	    r.code);
	iomux_close(a);
}
END_TEST

START_TEST(test_pop_fifo)
{
	struct tu_daemon	 d;
	struct iomux_client	*w[4], *p, *adm;
	struct iomux_reply	 r;
	uint32_t		 id[4];
	char			 want[16];
	int			 k;

	dstart(&d, BACKEND, NULL);
	p = lconnect(&d);
	adm = lconnect(&d);
	for (k = 0; k < 4; k++)
		w[k] = lconnect(&d);

	/* Four waiters in a known order (two with deadlines). */
	for (k = 0; k < 4; k++) {
		if (k % 2 == 0)
			id[k] = SEND(w[k], IOMUX_OP_POP, S("f"), FOREVER);
		else
			id[k] = SEND(w[k], IOMUX_OP_POP, S("f"), U64(10000));
		WAIT_STAT(adm, "blocked_clients", k + 1);
	}
	/* One PUSH of three: the first three waiters, in order. */
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUSH, S("f"), S("v0"), S("v1"),
	    S("v2"));
	OK_U64(r, 0);
	for (k = 0; k < 3; k++) {
		snprintf(want, sizeof(want), "v%d", k);
		r = RECV(w[k], IOMUX_ST_OK, id[k]);
		ARG_STR(r, 0, want);
	}
	QUIET(w[3], 100, "the fourth waiter after three items");
	STATS(adm, { "blocked_clients", 1 });
	/* The first three queue again behind the fourth. */
	for (k = 0; k < 3; k++) {
		id[k] = SEND(w[k], IOMUX_OP_POP, S("f"), FOREVER);
		WAIT_STAT(adm, "blocked_clients", k + 2);
	}
	for (k = 0; k < 4; k++) {
		snprintf(want, sizeof(want), "u%d", k);
		r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUSH, S("f"), S(want));
		OK_U64(r, 0);
	}
	r = RECV(w[3], IOMUX_ST_OK, id[3]);
	ARG_STR(r, 0, "u0");
	for (k = 0; k < 3; k++) {
		snprintf(want, sizeof(want), "u%d", k + 1);
		r = RECV(w[k], IOMUX_ST_OK, id[k]);
		ARG_STR(r, 0, want);
	}
	WAIT_STAT(adm, "blocked_clients", 0);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_QLEN, S("f"));
	OK_U64(r, 0);

	for (k = 0; k < 4; k++)
		iomux_close(w[k]);
	iomux_close(adm);
	iomux_close(p);
	dstop(&d);
}
END_TEST

/*
 * Two workers in child processes drain one queue with blocking POPs while
 * the parent pushes NITEMS items in batches of varying size, then one
 * "stop" per worker. Every item must come out exactly once.
 */
#define NITEMS		10000
#define NWORKERS	2

static void __attribute__((noreturn))
worker(const char *sock, const char *out)
{
	struct iomux_client	*c = NULL;
	struct iomux_value	 a[2];
	struct iomux_reply	 r;
	uint8_t			 t[8];
	FILE			*fp;
	char			 err[256];
	int			 k;

	alarm(60);
	if (iomux_connect_unix(sock, 20000, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, "worker: connect: %s\n", err);
		_exit(2);
	}
	if ((fp = fopen(out, "w")) == NULL)
		_exit(3);
	for (k = 0; k < 8; k++)
		t[k] = 0xff;
	a[0] = S("work");
	a[1] = V(t, 8);
	for (;;) {
		if (iomux_call(c, IOMUX_OP_POP, 2, a, &r) != 0) {
			fprintf(stderr, "worker: POP: %s\n", iomux_errmsg(c));
			_exit(4);
		}
		if (r.code != IOMUX_ST_OK || r.argc != 1 ||
		    r.argv[0].absent) {
			fprintf(stderr, "worker: POP status 0x%04x argc %zu\n",
			    r.code, r.argc);
			_exit(5);
		}
		if (r.argv[0].len == 4 && memcmp(r.argv[0].data, "stop",
		    4) == 0)
			break;
		if (fwrite(r.argv[0].data, 1, r.argv[0].len, fp) !=
		    r.argv[0].len || fputc('\n', fp) == EOF)
			_exit(6);
	}
	if (fclose(fp) != 0)
		_exit(7);
	iomux_close(c);
	_exit(0);
}

START_TEST(test_two_workers)
{
	struct iomux_value	 vals[1 + 97];
	char			 items[97][16], out[NWORKERS][PATH_MAX];
	char			 line[64];
	struct tu_daemon	 d;
	struct iomux_client	*p, *adm;
	struct iomux_reply	 r;
	unsigned char		*seen;
	pid_t			 pid[NWORKERS];
	FILE			*fp;
	int			 k, n, batch, next = 0, st, idx, got[NWORKERS];

	seen = calloc(NITEMS, 1);
	ASSERT(seen != NULL, "calloc");
	dstart(&d, BACKEND, NULL);
	p = lconnect(&d);
	adm = lconnect(&d);

	for (k = 0; k < NWORKERS; k++) {
		ASSERT((size_t)snprintf(out[k], sizeof(out[k]),
		    "%s/worker%d.out", d.dir, k) < sizeof(out[k]),
		    "path too long");
		fflush(NULL);
		pid[k] = fork();
		ASSERT(pid[k] != -1, "fork: %s", strerror(errno));
		if (pid[k] == 0)
			worker(d.sock, out[k]);
	}
	/* Both are blocked before the first item. */
	WAIT_STAT(adm, "blocked_clients", NWORKERS);

	for (batch = 1; next < NITEMS; batch = batch % 97 + 1) {
		n = NITEMS - next < batch ? NITEMS - next : batch;
		vals[0] = S("work");
		for (k = 0; k < n; k++) {
			snprintf(items[k], sizeof(items[k]), "item%05d",
			    next + k);
			vals[k + 1] = S(items[k]);
		}
		r = hexpect(__LINE__, p, IOMUX_ST_OK, IOMUX_OP_PUSH,
		    (size_t)n + 1, vals);
		ARGC(r, 1);
		next += n;
	}
	for (k = 0; k < NWORKERS; k++)
		EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUSH, S("work"), S("stop"));

	for (k = 0; k < NWORKERS; k++) {
		int64_t	deadline = tu_now_ms() + 30000;
		pid_t	w;

		while ((w = waitpid(pid[k], &st, WNOHANG)) == 0 &&
		    tu_now_ms() < deadline)
			tu_sleep_ms(10);
		if (w == 0) {
			kill(pid[k], SIGKILL);
			waitpid(pid[k], &st, 0);
		}
		ASSERT(w == pid[k], "worker %d did not finish in 30 s", k);
		ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "worker %d "
		    "failed (wait status 0x%x)", k, st);
	}
	for (k = 0; k < NWORKERS; k++) {
		fp = fopen(out[k], "r");
		ASSERT(fp != NULL, "open %s", out[k]);
		got[k] = 0;
		while (fgets(line, sizeof(line), fp) != NULL) {
			ASSERT(sscanf(line, "item%d", &idx) == 1 && idx >= 0 &&
			    idx < NITEMS, "worker %d popped \"%s\"", k, line);
			ASSERT(seen[idx] == 0, "item%05d popped twice", idx);
			seen[idx] = 1;
			got[k]++;
		}
		fclose(fp);
	}
	ASSERT(got[0] + got[1] == NITEMS, "workers popped %d + %d items, "
	    "want %d", got[0], got[1], NITEMS);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_QLEN, S("work"));
	OK_U64(r, 0);
	STATS(adm, { "queued_items", 0 }, { "queues", 0 });
	WAIT_STAT(adm, "blocked_clients", 0);

	free(seen);
	iomux_close(adm);
	iomux_close(p);
	dstop(&d);
}
END_TEST

/* ---- pub/sub -------------------------------------------------------- */

START_TEST(test_pubsub_exact)
{
	static const uint8_t	 binch[] = { 'b', 0, 'c', 'h' };
	static const uint8_t	 binmsg[] = { 0, 'm', 0, 0xfe };
	struct tu_daemon	 d;
	struct iomux_client	*s1, *s2, *p, *adm;
	struct iomux_reply	 r;
	uint32_t		 id;
	int			 k, got_push, got_reply;

	dstart(&d, BACKEND, NULL);
	s1 = lconnect(&d);
	s2 = lconnect(&d);
	p = lconnect(&d);
	adm = lconnect(&d);

	r = EXPECT(s1, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("news"),
	    V(binch, sizeof(binch)));
	OK_U64(r, 2);
	r = EXPECT(s2, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("news"));
	OK_U64(r, 1);
	/* Subscribing twice to one channel is one subscription. */
	r = EXPECT(s1, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("news"));
	OK_U64(r, 2);
	STATS(adm, { "channels", 2 }, { "subscribers", 2 });

	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("news"), S("hello"));
	OK_U64(r, 2);
	RECV_PUSH(s1, "news", "hello", NULL);
	RECV_PUSH(s2, "news", "hello", NULL);
	/* Binary channel and message; the message may be empty. */
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH,
	    V(binch, sizeof(binch)), V(binmsg, sizeof(binmsg)));
	OK_U64(r, 1);
	hrecv_push(__LINE__, s1, binch, sizeof(binch), binmsg,
	    sizeof(binmsg), NULL);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("news"), V("", 0));
	OK_U64(r, 2);
	RECV_PUSH(s1, "news", "", NULL);
	RECV_PUSH(s2, "news", "", NULL);
	/* Nobody listens: 0; similar names do not match. */
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("nobody"), S("x"));
	OK_U64(r, 0);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("new"), S("x"));
	OK_U64(r, 0);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("news2"), S("x"));
	OK_U64(r, 0);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, V("b", 1), S("x"));
	OK_U64(r, 0);

	/* In order, many. */
	for (k = 0; k < 200; k++) {
		char	m[16];

		snprintf(m, sizeof(m), "m%d", k);
		r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("news"), S(m));
		OK_U64(r, 2);
	}
	for (k = 0; k < 200; k++) {
		char	m[16];

		snprintf(m, sizeof(m), "m%d", k);
		RECV_PUSH(s1, "news", m, NULL);
		RECV_PUSH(s2, "news", m, NULL);
	}

	/* A subscriber may still send requests; it publishes to itself. */
	id = SEND(s2, IOMUX_OP_PUBLISH, S("news"), S("self"));
	got_push = got_reply = 0;
	for (k = 0; k < 2; k++) {
		memset(&r, 0, sizeof(r));
		ASSERT(iomux_recv(s2, &r) == 0, "s2 recv: %s",
		    iomux_errmsg(s2));
		if (r.kind == IOMUX_KIND_PUSH) {
			hpush(__LINE__, &r, "news", 4, "self", 4, NULL);
			got_push++;
		} else {
			ASSERT(r.id == id, "reply id %u, want %u", r.id, id);
			hcheck_status(__LINE__, &r, IOMUX_OP_PUBLISH,
			    IOMUX_ST_OK);
			OK_U64(r, 2);
			got_reply++;
		}
	}
	ASSERT(got_push == 1 && got_reply == 1, "self-publish: %d pushes, %d "
	    "replies", got_push, got_reply);
	RECV_PUSH(s1, "news", "self", NULL);
	PING(s2, "a subscriber's PING");

	/* UNSUBSCRIBE stops delivery. */
	r = EXPECT(s1, IOMUX_ST_OK, IOMUX_OP_UNSUBSCRIBE, S("news"));
	OK_U64(r, 1);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("news"), S("after"));
	OK_U64(r, 1);
	RECV_PUSH(s2, "news", "after", NULL);
	/* s1 gets its PING reply first: no push was queued for it. */
	id = SEND(s1, IOMUX_OP_PING, S("sync"));
	r = RECV(s1, IOMUX_ST_OK, id);
	ARG_STR(r, 0, "sync");
	/* Unsubscribing from a channel one is not on: the count stays. */
	r = EXPECT(s1, IOMUX_ST_OK, IOMUX_OP_UNSUBSCRIBE, S("news"));
	OK_U64(r, 1);
	/* No arguments: all exact channels. */
	r = EXPECT0(s1, IOMUX_ST_OK, IOMUX_OP_UNSUBSCRIBE);
	OK_U64(r, 0);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, V(binch, sizeof(binch)),
	    S("x"));
	OK_U64(r, 0);
	STATS_WHY(adm, "after UNSUBSCRIBE", { "channels", 1 },
	    { "subscribers", 1 });
	/* A subscriber that closes is gone. */
	iomux_close(s2);
	WAIT_STAT(adm, "subscribers", 0);
	STATS(adm, { "channels", 0 });
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("news"), S("x"));
	OK_U64(r, 0);

	/* Shapes. */
	EXPECT0(s1, IOMUX_ST_EARGS, IOMUX_OP_SUBSCRIBE);
	EXPECT(s1, IOMUX_ST_EARGS, IOMUX_OP_SUBSCRIBE, NONE);
	EXPECT(p, IOMUX_ST_EARGS, IOMUX_OP_PUBLISH, S("news"));
	EXPECT(p, IOMUX_ST_EARGS, IOMUX_OP_PUBLISH, S("news"), NONE);
	EXPECT(p, IOMUX_ST_EARGS, IOMUX_OP_PUBLISH, NONE, S("x"));
	PING(p, "after pub/sub errors");

	iomux_close(adm);
	iomux_close(p);
	iomux_close(s1);
	dstop(&d);
}
END_TEST

/* The next n frames on c are pushes; each must match one of want[]. */
struct want_push {
	const char	*ch;
	const char	*msg;
	const char	*pattern;
	int		 seen;
};

static void
hrecv_pushes(int line, struct iomux_client *c, struct want_push *w, int n)
{
	struct iomux_reply	r;
	int			k, j, rc, pat;

	for (k = 0; k < n; k++) {
		memset(&r, 0, sizeof(r));
		rc = iomux_recv(c, &r);
		ASSERT(rc == 0, "line %d: push %d of %d: %s (%s)", line,
		    k + 1, n, strerror(-rc), iomux_errmsg(c));
		ASSERT(r.kind == IOMUX_KIND_PUSH, "line %d: frame kind %u, "
		    "want a push", line, r.kind);
		pat = r.argc == 3;
		for (j = 0; j < n; j++) {
			if (w[j].seen || (w[j].pattern != NULL) != pat)
				continue;
			if (pat && (r.argv[2].len != strlen(w[j].pattern) ||
			    memcmp(r.argv[2].data, w[j].pattern,
			    r.argv[2].len) != 0))
				continue;
			break;
		}
		ASSERT(j < n, "line %d: unexpected push (argc %zu)", line,
		    r.argc);
		hpush(line, &r, w[j].ch, strlen(w[j].ch), w[j].msg,
		    strlen(w[j].msg), w[j].pattern);
		w[j].seen = 1;
	}
}

START_TEST(test_pubsub_pattern)
{
	static const char *const bad[] = {
		"a*b", "abc", "**", "*.x", "", "a**", "*a*", "jobs.*.x",
	};
	struct tu_daemon	 d;
	struct iomux_client	*s1, *s2, *p, *adm;
	struct iomux_reply	 r;
	uint32_t		 id;
	size_t			 i;

	dstart(&d, BACKEND, NULL);
	s1 = lconnect(&d);
	s2 = lconnect(&d);
	p = lconnect(&d);
	adm = lconnect(&d);

	r = EXPECT(s1, IOMUX_ST_OK, IOMUX_OP_PSUBSCRIBE, S("jobs.*"));
	OK_U64(r, 1);
	r = EXPECT(s2, IOMUX_ST_OK, IOMUX_OP_PSUBSCRIBE, S("*"));
	OK_U64(r, 1);
	/* Exact and pattern subscriptions count together. */
	r = EXPECT(s2, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("jobs.1"));
	OK_U64(r, 2);
	STATS(adm, { "patterns", 2 }, { "channels", 1 }, { "subscribers", 2 });

	/* jobs.1: s1 by pattern, s2 by pattern and exactly: 3. */
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("jobs.1"), S("run"));
	OK_U64(r, 3);
	RECV_PUSH(s1, "jobs.1", "run", "jobs.*");
	{
		struct want_push w[2] = {
			{ "jobs.1", "run", NULL, 0 },
			{ "jobs.1", "run", "*", 0 },
		};
		hrecv_pushes(__LINE__, s2, w, 2);
	}
	/* "jobs.*" matches "jobs." (empty rest) but not "jobs". */
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("jobs."), S("e"));
	OK_U64(r, 2);
	RECV_PUSH(s1, "jobs.", "e", "jobs.*");
	RECV_PUSH(s2, "jobs.", "e", "*");
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("jobs"), S("f"));
	OK_U64(r, 1);
	RECV_PUSH(s2, "jobs", "f", "*");
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("jobsX1"), S("g"));
	OK_U64(r, 1);
	RECV_PUSH(s2, "jobsX1", "g", "*");
	/* A '*' in a channel name is a plain byte. */
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("jobs.*"), S("h"));
	OK_U64(r, 2);
	RECV_PUSH(s1, "jobs.*", "h", "jobs.*");
	RECV_PUSH(s2, "jobs.*", "h", "*");
	/* s1 had nothing more. */
	id = SEND(s1, IOMUX_OP_PING, S("sync"));
	RECV(s1, IOMUX_ST_OK, id);

	/* Bad patterns: EARGS; the count is unchanged. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		hexpect(__LINE__, s1, IOMUX_ST_EARGS, IOMUX_OP_PSUBSCRIBE, 1,
		    ARGV(S(bad[i])));
	/* Overlapping patterns on one connection: one push each. */
	r = EXPECT(s1, IOMUX_ST_OK, IOMUX_OP_PSUBSCRIBE, S("jobs.1*"));
	OK_U64(r, 2);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("jobs.12"), S("i"));
	OK_U64(r, 3);
	{
		struct want_push w[2] = {
			{ "jobs.12", "i", "jobs.*", 0 },
			{ "jobs.12", "i", "jobs.1*", 0 },
		};
		hrecv_pushes(__LINE__, s1, w, 2);
	}
	RECV_PUSH(s2, "jobs.12", "i", "*");

	/* PUNSUBSCRIBE stops the pattern's deliveries. */
	r = EXPECT(s1, IOMUX_ST_OK, IOMUX_OP_PUNSUBSCRIBE, S("jobs.*"));
	OK_U64(r, 1);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("jobs.2"), S("j"));
	OK_U64(r, 1);
	RECV_PUSH(s2, "jobs.2", "j", "*");
	id = SEND(s1, IOMUX_OP_PING, S("sync"));
	RECV(s1, IOMUX_ST_OK, id);
	/* No arguments: all patterns; exact subscriptions stay. */
	r = EXPECT0(s2, IOMUX_ST_OK, IOMUX_OP_PUNSUBSCRIBE);
	OK_U64(r, 1);
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("jobs.1"), S("k"));
	OK_U64(r, 2);
	RECV_PUSH(s2, "jobs.1", "k", NULL);
	RECV_PUSH(s1, "jobs.1", "k", "jobs.1*");
	r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("other"), S("l"));
	OK_U64(r, 0);
	STATS(adm, { "patterns", 1 });
	iomux_close(s1);
	WAIT_STAT(adm, "patterns", 0);
	STATS(adm, { "subscribers", 1 });

	iomux_close(adm);
	iomux_close(p);
	iomux_close(s2);
	dstop(&d);
}
END_TEST

/*
 * A subscriber that never reads is cut off at its output limit; another
 * subscriber receives every message in order; the publisher never waits.
 */
#define SLOW_MSG	4096
#define SLOW_MAX	4000	/* 16 MiB: far past 64K plus socket buffers */

START_TEST(test_pubsub_slow_subscriber)
{
	struct tu_daemon	 d;
	struct iomux_client	*good, *bad, *p, *adm;
	struct iomux_reply	 r;
	uint8_t			 msg[SLOW_MSG];
	int64_t			 t0;
	long long		 dt, worst = 0;
	uint64_t		 n;
	int			 k, dropped_at = -1, next_bad = 0, rc;

	dstart(&d, BACKEND, "--output-limit", "64K", "--value-max", "32K",
	    NULL);
	good = lconnect(&d);
	bad = lconnect(&d);
	p = lconnect(&d);
	adm = lconnect(&d);

	r = EXPECT(good, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("firehose"));
	OK_U64(r, 1);
	r = EXPECT(bad, IOMUX_ST_OK, IOMUX_OP_PSUBSCRIBE, S("fire*"));
	OK_U64(r, 1);
	STATS_WHY(adm, "at start", { "subscribers_dropped", 0 });

	for (k = 0; k < SLOW_MAX; k++) {
		fill(msg, sizeof(msg), (unsigned)k);
		memcpy(msg, &k, sizeof(k));
		t0 = tu_now_ms();
		r = EXPECT(p, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("firehose"),
		    V(msg, sizeof(msg)));
		dt = since(t0);
		if (dt > worst)
			worst = dt;
		n = ARG_U64(r, 0);
		ARGC(r, 1);
		if (dropped_at < 0) {
			ASSERT(n == 2 || n == 1, "PUBLISH %d: %" PRIu64
			    " deliveries", k, n);
			if (n == 1)
				dropped_at = k;
		} else
			ASSERT(n == 1, "PUBLISH %d after the drop: %" PRIu64
			    " deliveries", k, n);
		hrecv_push(__LINE__, good, "firehose", 8, msg, sizeof(msg),
		    NULL);
		if (dropped_at >= 0 && k >= dropped_at + 50)
			break;
	}
	ASSERT(dropped_at >= 0, "a subscriber that never reads was not cut "
	    "off after %d messages of %d bytes (--output-limit 64K)", k,
	    SLOW_MSG);
	ASSERT(worst < PROMPT_MS, "a PUBLISH took %lld ms", worst);
	ASSERT(STAT(adm, "subscribers_dropped") >= 1, "subscribers_dropped "
	    "%lld", STAT(adm, "subscribers_dropped"));
	WAIT_STAT(adm, "subscribers", 1);
	WAIT_STAT(adm, "patterns", 0);

	/* The cut-off subscriber: a prefix, in order, then end of stream. */
	for (;;) {
		memset(&r, 0, sizeof(r));
		rc = iomux_recv(bad, &r);
		if (rc != 0)
			break;
		fill(msg, sizeof(msg), (unsigned)next_bad);
		memcpy(msg, &next_bad, sizeof(next_bad));
		hpush(__LINE__, &r, "firehose", 8, msg, sizeof(msg), "fire*");
		next_bad++;
		ASSERT(next_bad <= dropped_at, "the dropped subscriber got "
		    "message %d, dropped at %d", next_bad, dropped_at);
	}
	ASSERT(rc == -ECONNRESET || rc == -EPIPE, "the dropped subscriber: "
	    "%s (%s), want end of stream", strerror(-rc), iomux_errmsg(bad));
	iomux_close(bad);
	PING(good, "the good subscriber after the drop");
	PING(p, "the publisher after the drop");
	ASSERT(tu_daemon_alive(&d), "iomuxd died");

	iomux_close(adm);
	iomux_close(p);
	iomux_close(good);
	dstop(&d);
}
END_TEST

/* ---- locks ---------------------------------------------------------- */

START_TEST(test_lock_basic)
{
	static const uint8_t	 binlock[] = { 'l', 0, 'k' };
	struct tu_daemon	 d;
	struct iomux_client	*a, *b, *adm;
	int64_t			 deadline;
	struct iomux_reply	 r;

	dstart(&d, BACKEND, NULL);
	a = lconnect(&d);
	b = lconnect(&d);
	adm = lconnect(&d);

	r = EXPECT(a, IOMUX_ST_OK, IOMUX_OP_LOCK, S("L"));
	ARGC(r, 0);
	STATS(adm, { "locks_held", 1 });
	/* No re-entry. */
	EXPECT(a, IOMUX_ST_CONFLICT, IOMUX_OP_LOCK, S("L"));
	EXPECT(a, IOMUX_ST_CONFLICT, IOMUX_OP_LOCK, S("L"), U64(100));
	EXPECT(a, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK, S("L"));
	EXPECT(b, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK, S("L"));
	/* Only the holder unlocks. */
	EXPECT(b, IOMUX_ST_ENOTOWNER, IOMUX_OP_UNLOCK, S("L"));
	EXPECT(b, IOMUX_ST_NOTFOUND, IOMUX_OP_UNLOCK, S("M"));
	r = EXPECT(a, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("L"));
	ARGC(r, 0);
	EXPECT(a, IOMUX_ST_NOTFOUND, IOMUX_OP_UNLOCK, S("L"));
	STATS(adm, { "locks_held", 0 });
	/* TRYLOCK takes a free lock. */
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_TRYLOCK, S("L"));
	EXPECT(a, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK, S("L"));
	EXPECT(a, IOMUX_ST_ENOTOWNER, IOMUX_OP_UNLOCK, S("L"));
	/* Binary names; several locks per connection. */
	EXPECT(a, IOMUX_ST_OK, IOMUX_OP_LOCK, V(binlock, sizeof(binlock)),
	    U64(1000));
	EXPECT(a, IOMUX_ST_OK, IOMUX_OP_TRYLOCK, V(binlock, 1));
	EXPECT(b, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK,
	    V(binlock, sizeof(binlock)));
	STATS(adm, { "locks_held", 3 });
	/* Locks and keys are separate name spaces. */
	EXPECT(a, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("L"));

	/* Closing releases every lock the connection holds. */
	iomux_close(b);
	deadline = tu_now_ms() + PROMPT_MS;
	for (;;) {
		r = CALL(a, IOMUX_OP_TRYLOCK, S("L"));
		if (r.code == IOMUX_ST_OK)
			break;
		hcheck_status(__LINE__, &r, IOMUX_OP_TRYLOCK,
		    IOMUX_ST_CONFLICT);
		ASSERT(tu_now_ms() < deadline, "a lock outlived its holder's "
		    "close by %d ms", PROMPT_MS);
		tu_sleep_ms(5);
	}
	iomux_close(a);
	WAIT_STAT(adm, "locks_held", 0);
	b = lconnect(&d);
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_TRYLOCK, V(binlock, sizeof(binlock)));
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_UNLOCK, V(binlock, sizeof(binlock)));

	/* Shapes. */
	EXPECT(b, IOMUX_ST_EARGS, IOMUX_OP_LOCK, S("L"), U32(5));
	EXPECT(b, IOMUX_ST_EARGS, IOMUX_OP_LOCK, NONE);
	EXPECT(b, IOMUX_ST_EARGS, IOMUX_OP_TRYLOCK, S("L"), U32(5));
	EXPECT0(b, IOMUX_ST_EARGS, IOMUX_OP_UNLOCK);
	STATS(adm, { "locks_held", 0 });

	iomux_close(adm);
	iomux_close(b);
	dstop(&d);
}
END_TEST

START_TEST(test_lock_wait)
{
	struct tu_daemon	 d;
	struct iomux_client	*a, *b, *c, *e, *adm;
	uint32_t		 idb, idc, ide;
	int64_t			 t0;
	long long		 dt;

	dstart(&d, BACKEND, NULL);
	a = lconnect(&d);
	b = lconnect(&d);
	c = lconnect(&d);
	e = lconnect(&d);
	adm = lconnect(&d);

	EXPECT(a, IOMUX_ST_OK, IOMUX_OP_LOCK, S("L"));
	/* Timeout: TIMEDOUT, the connection usable, no waiter left. */
	t0 = tu_now_ms();
	EXPECT(b, IOMUX_ST_TIMEDOUT, IOMUX_OP_LOCK, S("L"), U64(200));
	dt = since(t0);
	ASSERT(dt >= 200 - EARLY_MS && dt < 200 + PROMPT_MS, "LOCK 200 ms "
	    "timed out after %lld ms", dt);
	PING(b, "after LOCK timeout");
	STATS(adm, { "lock_waiters", 0 }, { "blocked_clients", 0 });

	/* FIFO: b, then e (which leaves), then c. */
	idb = SEND(b, IOMUX_OP_LOCK, S("L"), FOREVER);
	WAIT_STAT(adm, "lock_waiters", 1);
	ide = SEND(e, IOMUX_OP_LOCK, S("L"), U64(60000));
	WAIT_STAT(adm, "lock_waiters", 2);
	idc = SEND(c, IOMUX_OP_LOCK, S("L"), U64(60000));
	WAIT_STAT(adm, "lock_waiters", 3);
	STATS(adm, { "blocked_clients", 3 }, { "locks_held", 1 });
	iomux_close(e);
	WAIT_STAT(adm, "lock_waiters", 2);
	QUIET(b, 50, "a LOCK waiter while the lock is held");
	t0 = tu_now_ms();
	EXPECT(a, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("L"));
	RECV(b, IOMUX_ST_OK, idb);
	ASSERT(since(t0) < PROMPT_MS, "the next waiter got the lock %lld ms "
	    "after UNLOCK", since(t0));
	QUIET(c, 100, "the second waiter while the first holds the lock");
	EXPECT(a, IOMUX_ST_ENOTOWNER, IOMUX_OP_UNLOCK, S("L"));
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("L"));
	RECV(c, IOMUX_ST_OK, idc);
	STATS(adm, { "lock_waiters", 0 }, { "locks_held", 1 });
	/* A waiter behind a holder that closes. */
	idb = SEND(b, IOMUX_OP_LOCK, S("L"), U64(60000));
	WAIT_STAT(adm, "lock_waiters", 1);
	t0 = tu_now_ms();
	iomux_close(c);
	RECV(b, IOMUX_ST_OK, idb);
	ASSERT(since(t0) < PROMPT_MS, "the waiter got the lock %lld ms after "
	    "the holder closed", since(t0));
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("L"));
	STATS(adm, { "locks_held", 0 });

	(void)ide;
	iomux_close(adm);
	iomux_close(b);
	iomux_close(a);
	dstop(&d);
}
END_TEST

/*
 * The holder is a child process with the lock on its own connection;
 * kill -9 it and the waiter must get the lock at once.
 */
START_TEST(test_lock_kill9)
{
	struct tu_daemon	 d;
	struct iomux_client	*w, *adm;
	struct iomux_reply	 r;
	struct pollfd		 pfd;
	uint32_t		 id;
	int64_t			 t0;
	pid_t			 pid;
	char			 ch;
	int			 pfds[2], st, n;

	dstart(&d, BACKEND, NULL);
	ASSERT(pipe(pfds) == 0, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	ASSERT(pid != -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		struct iomux_client	*h = NULL;
		struct iomux_value	 a[1];
		char			 err[256];

		close(pfds[0]);
		alarm(30);
		if (iomux_connect_unix(d.sock, IO_MS, &h, err,
		    sizeof(err)) != 0)
			_exit(2);
		a[0] = S("cron");
		if (iomux_call(h, IOMUX_OP_LOCK, 1, a, &r) != 0 ||
		    r.code != IOMUX_ST_OK)
			_exit(3);
		if (write(pfds[1], "L", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(pfds[1]);
	pfd.fd = pfds[0];
	pfd.events = POLLIN;
	n = poll(&pfd, 1, IO_MS);
	ASSERT(n == 1 && read(pfds[0], &ch, 1) == 1 && ch == 'L',
	    "the child did not take the lock");
	close(pfds[0]);

	w = lconnect(&d);
	adm = lconnect(&d);
	EXPECT(w, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK, S("cron"));
	id = SEND(w, IOMUX_OP_LOCK, S("cron"), U64(10000));
	WAIT_STAT(adm, "lock_waiters", 1);
	QUIET(w, 100, "LOCK while the child holds it");
	t0 = tu_now_ms();
	ASSERT(kill(pid, SIGKILL) == 0, "kill: %s", strerror(errno));
	ASSERT(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) &&
	    WTERMSIG(st) == SIGKILL, "the holder did not die of SIGKILL");
	r = RECV(w, IOMUX_ST_OK, id);
	ARGC(r, 0);
	ASSERT(since(t0) < PROMPT_MS, "the waiter got the lock %lld ms after "
	    "the holder was killed", since(t0));
	STATS(adm, { "locks_held", 1 }, { "lock_waiters", 0 });
	EXPECT(w, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("cron"));

	iomux_close(adm);
	iomux_close(w);
	dstop(&d);
}
END_TEST

START_TEST(test_lock_lease)
{
	struct tu_daemon	 d;
	struct iomux_client	*a, *b, *adm;
	int64_t			 t0;
	long long		 dt;

	dstart(&d, BACKEND, NULL);
	a = lconnect(&d);
	b = lconnect(&d);
	adm = lconnect(&d);

	/* A lease that expires hands the lock to the waiter. */
	t0 = tu_now_ms();
	EXPECT(a, IOMUX_ST_OK, IOMUX_OP_LOCK, S("L"), NONE, U64(300));
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_LOCK, S("L"), U64(5000));
	dt = since(t0);
	ASSERT(dt >= 300 - EARLY_MS && dt < 300 + PROMPT_MS, "the waiter "
	    "got a 300 ms lease's lock after %lld ms", dt);
	/* The old holder is not the owner any more. */
	EXPECT(a, IOMUX_ST_ENOTOWNER, IOMUX_OP_UNLOCK, S("L"));
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("L"));
	EXPECT(a, IOMUX_ST_NOTFOUND, IOMUX_OP_UNLOCK, S("L"));

	/* TRYLOCK with a lease; it ends with nobody waiting too. */
	t0 = tu_now_ms();
	EXPECT(a, IOMUX_ST_OK, IOMUX_OP_TRYLOCK, S("T"), U64(200));
	EXPECT(b, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK, S("T"));
	WAIT_STAT(adm, "locks_held", 0);
	ASSERT(since(t0) >= 200 - EARLY_MS, "a 200 ms lease ended after "
	    "%lld ms", since(t0));
	EXPECT(a, IOMUX_ST_NOTFOUND, IOMUX_OP_UNLOCK, S("T"));
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_TRYLOCK, S("T"));
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("T"));

	/* A lease of 0 or absent: no lease. */
	EXPECT(a, IOMUX_ST_OK, IOMUX_OP_LOCK, S("N"), U64(1000), U64(0));
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_TRYLOCK, S("M"), NONE);
	tu_sleep_ms(300);
	EXPECT(b, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK, S("N"));
	EXPECT(a, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK, S("M"));
	EXPECT(a, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("N"));
	EXPECT(b, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("M"));
	/*
	 * A waiter's lease starts when it gets the lock, not when it asked:
	 * it waits 400 ms for a lock with a 300 ms lease.
	 */
	EXPECT(a, IOMUX_ST_OK, IOMUX_OP_LOCK, S("W"));
	{
		uint32_t	id;

		id = SEND(b, IOMUX_OP_LOCK, S("W"), U64(5000), U64(300));
		WAIT_STAT(adm, "lock_waiters", 1);
		tu_sleep_ms(400);
		EXPECT(a, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("W"));
		RECV(b, IOMUX_ST_OK, id);
		t0 = tu_now_ms();
	}
	EXPECT(a, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK, S("W"));
	WAIT_STAT(adm, "locks_held", 0);
	ASSERT(since(t0) >= 300 - EARLY_MS - 50, "a 300 ms lease taken by a "
	    "waiter ended after %lld ms", since(t0));
	EXPECT(b, IOMUX_ST_NOTFOUND, IOMUX_OP_UNLOCK, S("W"));

	iomux_close(adm);
	iomux_close(b);
	iomux_close(a);
	dstop(&d);
}
END_TEST

/* ---- limits --------------------------------------------------------- */

/* An ELIMIT reply whose message names the limit. */
static void
helimit(int line, struct iomux_client *c, const char *limit, uint16_t op,
    size_t argc, const struct iomux_value *argv)
{
	struct iomux_reply	r;

	r = hexpect(line, c, IOMUX_ST_ELIMIT, op, argc, argv);
	ASSERT(strstr(errtext(&r), limit) != NULL, "line %d: %s: ELIMIT "
	    "message \"%s\" does not name %s", line, opname(op), errtext(&r),
	    limit);
}
#define ELIMIT(c, lim, op, ...)						\
	helimit(__LINE__, (c), (lim), (op), NARG(__VA_ARGS__),		\
	    ARGV(__VA_ARGS__))

START_TEST(test_limits)
{
	struct tu_daemon	 d;
	struct iomux_client	*c, *s;
	struct iomux_reply	 r;
	char			 k16[17], k17[18], v1000[1000], v1001[1001];
	struct iomux_value	 K16, K17, V1000, V1001;

	memset(k16, 'k', 16);
	k16[16] = '\0';
	memset(k17, 'k', 17);
	k17[17] = '\0';
	memset(v1000, 'v', sizeof(v1000));
	memset(v1001, 'v', sizeof(v1001));
	K16 = V(k16, 16);
	K17 = V(k17, 17);
	V1000 = V(v1000, sizeof(v1000));
	V1001 = V(v1001, sizeof(v1001));

	dstart_conf(&d, BACKEND, "key_max = 16\nvalue_max = 1000\n"
	    "subscriptions_max = 3\n", NULL);
	c = lconnect(&d);
	s = lconnect(&d);

	/* At the limit: fine. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, K16, V1000);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, K16);
	ARG_EQ(r, 0, v1000, sizeof(v1000));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUSH, K16, V1000);
	OK_U64(r, 1);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUBLISH, K16, V1000);
	OK_U64(r, 0);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TRYLOCK, K16);

	/* Over: ELIMIT naming the limit, nothing stored. */
	ELIMIT(c, "key_max", IOMUX_OP_SET, K17, S("v"));
	ELIMIT(c, "value_max", IOMUX_OP_SET, S("k"), V1001);
	ELIMIT(c, "value_max", IOMUX_OP_SET, K16, V1001);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, K16);
	ARG_EQ(r, 0, v1000, sizeof(v1000));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("k"));
	ELIMIT(c, "key_max", IOMUX_OP_GET, K17);
	ELIMIT(c, "key_max", IOMUX_OP_DEL, S("a"), K17);
	ELIMIT(c, "key_max", IOMUX_OP_EXISTS, K17);
	ELIMIT(c, "key_max", IOMUX_OP_INCR, K17);
	ELIMIT(c, "key_max", IOMUX_OP_TTL, K17);
	ELIMIT(c, "key_max", IOMUX_OP_EXPIRE, K17, U64(1000));
	ELIMIT(c, "key_max", IOMUX_OP_PERSIST, K17);
	ELIMIT(c, "key_max", IOMUX_OP_WAIT, K17, U64(100));
	ELIMIT(c, "key_max", IOMUX_OP_PUSH, K17, S("v"));
	ELIMIT(c, "value_max", IOMUX_OP_PUSH, S("q"), S("ok"), V1001);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, S("q"));
	OK_U64(r, 0);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, K16);
	OK_U64(r, 1);
	ELIMIT(c, "key_max", IOMUX_OP_POP, K17);
	ELIMIT(c, "key_max", IOMUX_OP_POP, K17, U64(100));
	ELIMIT(c, "key_max", IOMUX_OP_QLEN, K17);
	ELIMIT(c, "key_max", IOMUX_OP_PEEK, K17);
	ELIMIT(c, "key_max", IOMUX_OP_PUBLISH, K17, S("m"));
	ELIMIT(c, "value_max", IOMUX_OP_PUBLISH, S("ch"), V1001);
	ELIMIT(c, "key_max", IOMUX_OP_SUBSCRIBE, K17);
	ELIMIT(c, "key_max", IOMUX_OP_PSUBSCRIBE, V("kkkkkkkkkkkkkkkk*", 17));
	ELIMIT(c, "key_max", IOMUX_OP_LOCK, K17);
	ELIMIT(c, "key_max", IOMUX_OP_LOCK, K17, U64(100));
	ELIMIT(c, "key_max", IOMUX_OP_TRYLOCK, K17);
	ELIMIT(c, "key_max", IOMUX_OP_UNLOCK, K17);
	PING(c, "after the limit errors");

	/* subscriptions_max per connection, exact and patterns together. */
	r = EXPECT(s, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("a"), S("b"));
	OK_U64(r, 2);
	r = EXPECT(s, IOMUX_ST_OK, IOMUX_OP_PSUBSCRIBE, S("p*"));
	OK_U64(r, 3);
	ELIMIT(s, "subscriptions_max", IOMUX_OP_SUBSCRIBE, S("c"));
	ELIMIT(s, "subscriptions_max", IOMUX_OP_PSUBSCRIBE, S("q*"));
	/* Re-subscribing to one already held adds nothing. */
	r = EXPECT(s, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("a"));
	OK_U64(r, 3);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("c"), S("x"));
	OK_U64(r, 0);
	r = EXPECT(s, IOMUX_ST_OK, IOMUX_OP_UNSUBSCRIBE, S("a"));
	OK_U64(r, 2);
	r = EXPECT(s, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("c"));
	OK_U64(r, 3);
	/* Another connection has its own allowance. */
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("a"), S("b"),
	    S("c"));
	OK_U64(r, 3);
	r = EXPECT0(c, IOMUX_ST_OK, IOMUX_OP_UNSUBSCRIBE);
	OK_U64(r, 0);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("c"), S("x"));
	OK_U64(r, 1);
	RECV_PUSH(s, "c", "x", NULL);

	iomux_close(s);
	iomux_close(c);
	dstop(&d);
}
END_TEST

#define MEM_MAX		65536
#define MEM_VAL		1000

START_TEST(test_max_memory)
{
	struct tu_daemon	 d;
	struct iomux_client	*c, *adm;
	struct iomux_reply	 r;
	uint8_t			 val[MEM_VAL], *big;
	char			 key[16];
	long long		 base, bytes;
	int			 k, stored = -1;

	big = malloc(8 * MEM_VAL);
	ASSERT(big != NULL, "malloc");
	dstart_conf(&d, BACKEND, "max_memory = 65536\n", NULL);
	c = lconnect(&d);
	adm = lconnect(&d);

	STATS(adm, { "max_memory", MEM_MAX });
	base = STAT(adm, "data_bytes");

	/* Fill until refused. */
	for (k = 0; k < 2 * MEM_MAX / MEM_VAL; k++) {
		snprintf(key, sizeof(key), "k%03d", k);
		fill(val, sizeof(val), (unsigned)k);
		r = CALL(c, IOMUX_OP_SET, S(key), V(val, sizeof(val)));
		if (r.code == IOMUX_ST_OK)
			continue;
		hcheck_status(__LINE__, &r, IOMUX_OP_SET, IOMUX_ST_ENOMEM);
		ASSERT(strstr(errtext(&r), "out of memory") != NULL &&
		    strstr(errtext(&r), "max_memory") != NULL, "ENOMEM "
		    "message \"%s\" should say \"out of memory\" and name "
		    "max_memory", errtext(&r));
		stored = k;
		break;
	}
	ASSERT(stored >= 0, "%d values of %d bytes stored with max_memory "
	    "%d", k, MEM_VAL, MEM_MAX);
	ASSERT(stored >= MEM_MAX / MEM_VAL / 2, "only %d values of %d bytes "
	    "fit in max_memory %d", stored, MEM_VAL, MEM_MAX);
	bytes = STAT(adm, "data_bytes");
	ASSERT(bytes <= MEM_MAX && bytes - base >= (long long)stored *
	    MEM_VAL, "data_bytes %lld (base %lld) for %d values of %d bytes, "
	    "max_memory %d", bytes, base, stored, MEM_VAL, MEM_MAX);
	STATS(adm, { "keys", stored });

	/* The refused write did not happen. */
	snprintf(key, sizeof(key), "k%03d", stored);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_EXISTS, S(key));
	OK_U64(r, 0);
	/* Other writes are refused too; nothing is evicted. */
	fill(big, 8 * MEM_VAL, 99);
	EXPECT(c, IOMUX_ST_ENOMEM, IOMUX_OP_SET, S("k000"),
	    V(big, 8 * MEM_VAL));
	EXPECT(c, IOMUX_ST_ENOMEM, IOMUX_OP_PUSH, S("q"), V(big, 8 * MEM_VAL));
	EXPECT(c, IOMUX_ST_ENOMEM, IOMUX_OP_PUSH, S("q"), V(big, MEM_VAL),
	    V(big, MEM_VAL), V(big, MEM_VAL), V(big, MEM_VAL));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_QLEN, S("q"));
	OK_U64(r, 0);
	EXPECT(c, IOMUX_ST_ENOMEM, IOMUX_OP_SET, S("new"), V(big, 4 * MEM_VAL));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("new"));
	/* Everything stored before is readable and intact. */
	for (k = 0; k < stored; k++) {
		snprintf(key, sizeof(key), "k%03d", k);
		fill(val, sizeof(val), (unsigned)k);
		r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S(key));
		ARGC(r, 1);
		ARG_EQ(r, 0, val, sizeof(val));
	}
	STATS_WHY(adm, "refused writes must not move it",
	    { "data_bytes", bytes });
	/* Reads, deletes and pub/sub still work. */
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUBLISH, S("ch"), S("m"));
	OK_U64(r, 0);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_DEL, S("k000"), S("k001"),
	    S("k002"), S("k003"), S("k004"));
	OK_U64(r, 5);
	ASSERT(STAT(adm, "data_bytes") <= bytes - 5 * MEM_VAL, "data_bytes "
	    "%lld after deleting 5 values of %d bytes (was %lld)",
	    STAT(adm, "data_bytes"), MEM_VAL, bytes);
	/* Space freed is usable again. */
	fill(val, sizeof(val), 500);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("again"), V(val, sizeof(val)));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUSH, S("q"), V(val, sizeof(val)));
	OK_U64(r, 1);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_POP, S("q"));
	ARG_EQ(r, 0, val, sizeof(val));
	/* Deleting everything returns data_bytes to where it started. */
	for (k = 5; k < stored; k++) {
		snprintf(key, sizeof(key), "k%03d", k);
		r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_DEL, S(key));
		OK_U64(r, 1);
	}
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_DEL, S("again"));
	OK_U64(r, 1);
	STATS_WHY(adm, "after deleting everything", { "data_bytes", base });

	free(big);
	iomux_close(adm);
	iomux_close(c);
	dstop(&d);
}
END_TEST

/* ---- STATUS --------------------------------------------------------- */

static const char *const hub_fields[] = {
	"keys", "keys_expiring", "data_bytes", "max_memory", "queues",
	"queued_items", "channels", "patterns", "subscribers",
	"subscribers_dropped", "locks_held", "lock_waiters",
	"blocked_clients",
	"requests.get", "requests.set", "requests.del", "requests.exists",
	"requests.incr", "requests.keys", "requests.ttl", "requests.expire",
	"requests.persist", "requests.wait", "requests.push", "requests.pop",
	"requests.qlen", "requests.peek", "requests.subscribe",
	"requests.unsubscribe", "requests.psubscribe",
	"requests.punsubscribe", "requests.publish", "requests.lock",
	"requests.trylock", "requests.unlock",
};

START_TEST(test_status_fields)
{
	struct tu_daemon	 d;
	struct iomux_client	*c, *s1, *s2, *w, *adm;
	long long		 base, v;
	uint32_t		 idpop, idwait, idlock;
	size_t			 i;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);
	s1 = lconnect(&d);
	s2 = lconnect(&d);
	w = lconnect(&d);
	adm = lconnect(&d);

	/* Every field, a decimal number; a fresh daemon holds nothing. */
	for (i = 0; i < sizeof(hub_fields) / sizeof(hub_fields[0]); i++) {
		v = STAT(adm, hub_fields[i]);
		if (strcmp(hub_fields[i], "max_memory") == 0)
			ASSERT(v == 256LL << 20, "default max_memory %lld", v);
		else if (strcmp(hub_fields[i], "data_bytes") != 0)
			ASSERT(v == 0, "fresh daemon: %s = %lld",
			    hub_fields[i], v);
	}
	base = STAT(adm, "data_bytes");

	/* Key-value. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("a"), V("0123456789", 10));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("b"), S("x"), U64(60000));
	STATS(adm, { "keys", 2 }, { "keys_expiring", 1 });
	v = STAT(adm, "data_bytes");
	ASSERT(v >= base + 13, "data_bytes %lld after storing 13 bytes "
	    "(base %lld)", v, base);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PERSIST, S("b"));
	STATS_WHY(adm, "after PERSIST", { "keys_expiring", 0 });
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("a"));
	STATS(adm, { "requests.get", 1 }, { "requests.set", 2 },
	    { "requests.persist", 1 });

	/* Queues. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUSH, S("q1"), S("1"), S("2"), S("3"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUSH, S("q2"), S("1"));
	STATS(adm, { "queues", 2 }, { "queued_items", 4 });
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_POP, S("q2"));
	STATS(adm, { "queues", 1 }, { "queued_items", 3 });
	ASSERT(STAT(adm, "data_bytes") > v, "data_bytes does not count "
	    "queue items");

	/* Pub/sub. */
	EXPECT(s1, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("x"), S("y"));
	EXPECT(s2, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, S("x"));
	EXPECT(s2, IOMUX_ST_OK, IOMUX_OP_PSUBSCRIBE, S("z.*"), S("w*"));
	STATS(adm, { "channels", 2 }, { "patterns", 2 }, { "subscribers", 2 });
	EXPECT0(s1, IOMUX_ST_OK, IOMUX_OP_UNSUBSCRIBE);
	STATS(adm, { "channels", 1 }, { "subscribers", 1 });
	EXPECT(s2, IOMUX_ST_OK, IOMUX_OP_UNSUBSCRIBE, S("x"));
	STATS_WHY(adm, "a connection with patterns only is a subscriber",
	    { "channels", 0 }, { "subscribers", 1 });

	/* Locks and blocked clients. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_LOCK, S("L"));
	idlock = SEND(w, IOMUX_OP_LOCK, S("L"), FOREVER);
	WAIT_STAT(adm, "lock_waiters", 1);
	STATS(adm, { "locks_held", 1 }, { "blocked_clients", 1 });
	idwait = SEND(s1, IOMUX_OP_WAIT, S("nokey"), FOREVER);
	WAIT_STAT(adm, "blocked_clients", 2);
	idpop = SEND(s2, IOMUX_OP_POP, S("noq"), FOREVER);
	WAIT_STAT(adm, "blocked_clients", 3);
	STATS(adm, { "lock_waiters", 1 });
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_UNLOCK, S("L"));
	RECV(w, IOMUX_ST_OK, idlock);
	STATS(adm, { "lock_waiters", 0 }, { "locks_held", 1 });
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("nokey"), S("1"));
	RECV(s1, IOMUX_ST_OK, idwait);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PUSH, S("noq"), S("1"));
	RECV(s2, IOMUX_ST_OK, idpop);
	WAIT_STAT(adm, "blocked_clients", 0);
	iomux_close(w);
	WAIT_STAT(adm, "locks_held", 0);

	/* Counters: one request each, counted by name. */
	STATS(adm, { "requests.wait", 1 }, { "requests.pop", 2 },
	    { "requests.lock", 2 }, { "requests.unlock", 1 },
	    { "requests.psubscribe", 1 }, { "requests.unsubscribe", 2 });

	/* Deleting everything: back to the start. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_DEL, S("a"), S("b"), S("nokey"));
	while (CALL(c, IOMUX_OP_POP, S("q1")).code == IOMUX_ST_OK)
		;
	STATS(adm, { "keys", 0 }, { "queues", 0 }, { "queued_items", 0 });
	STATS_WHY(adm, "after deleting everything", { "data_bytes", base });
	iomux_close(s2);
	WAIT_STAT(adm, "subscribers", 0);
	STATS(adm, { "patterns", 0 });
	STATS_WHY(adm, "nobody was cut off", { "subscribers_dropped", 0 });

	iomux_close(adm);
	iomux_close(s1);
	iomux_close(c);
	dstop(&d);
}
END_TEST

/* ---- main ----------------------------------------------------------- */

static Suite *
hub_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("hub");

	tc = tcase(s, "kv", 30);
	LOOP(tc, test_kv_basic);
	LOOP(tc, test_set_flags);
	LOOP(tc, test_ttl_expiry);
	LOOP(tc, test_incr);
	LOOP(tc, test_del_exists);
	LOOP(tc, test_keys_scan);

	tc = tcase(s, "wait", 30);
	LOOP(tc, test_wait);

	tc = tcase(s, "queue", 60);
	LOOP(tc, test_queue_basic);
	LOOP(tc, test_pop_woken);
	LOOP(tc, test_pop_timeout);
	LOOP(tc, test_pop_waiter_gone);
	LOOP(tc, test_pop_half_close);
	LOOP(tc, test_pop_fifo);
	LOOP(tc, test_two_workers);

	tc = tcase(s, "pubsub", 30);
	LOOP(tc, test_pubsub_exact);
	LOOP(tc, test_pubsub_pattern);
	LOOP(tc, test_pubsub_slow_subscriber);

	tc = tcase(s, "lock", 30);
	LOOP(tc, test_lock_basic);
	LOOP(tc, test_lock_wait);
	LOOP(tc, test_lock_kill9);
	LOOP(tc, test_lock_lease);

	tc = tcase(s, "limits", 30);
	LOOP(tc, test_limits);
	LOOP(tc, test_max_memory);

	tc = tcase(s, "status", 30);
	LOOP(tc, test_status_fields);

	return s;
}

int
main(void)
{
	return integ_main("check_hub", hub_suite);
}
