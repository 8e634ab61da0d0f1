/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * integ-util.h: what the Check suites that drive a real iomuxd
 * (check_integ_*.c, check_hostile) share on top of testutil.h: assertions
 * that kill the test's daemons before failing, daemon start and stop that
 * assert a clean life cycle, a libiomux connection, raw frames, STATUS
 * read back as numbers, the hub calls with hand-encoded arguments, and
 * the per-backend suite and main().
 *
 * Unlike testutil.h, these helpers do not return errors: they fail the
 * running test (Check's ck_abort_msg) after tu_kill_all().
 */

#ifndef IOMUXD_INTEG_UTIL_H
#define IOMUXD_INTEG_UTIL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <check.h>

#include "iomux.h"
#include "testutil.h"

#define IO_MS		5000	/* bound for a reply that must come */

/*
 * A failed assertion ends the forked test with _exit(): first kill the
 * daemons it started and show their logs.
 */
#define ASSERT(cond, ...) do {						\
	if (!(cond)) {							\
		tu_kill_all();						\
		ck_abort_msg(__VA_ARGS__);				\
	}								\
} while (0)

/*
 * The backends to test, from $IOMUXD_BACKENDS (default "epoll poll
 * select"), set by integ_main() before the suite is built. Each test
 * added with LOOP() runs once per backend; inside it, BACKEND names the
 * one of this run.
 */
extern const char	*integ_backends[];
extern int		 integ_nbackends;

#define BACKEND		(integ_backends[_i])
#define LOOP(tc, fn)	tcase_add_loop_test((tc), (fn), 0, integ_nbackends)

/* A TCase named name with a timeout in seconds, added to s. */
TCase	*tcase(Suite *s, const char *name, int timeout);

/*
 * main() of such a suite: skip (TAP "1..0 # SKIP") without $IOMUXD,
 * read the backends, ignore SIGPIPE, put every test's directory under
 * one fresh $TMPDIR removed at the end, and run suite() forked. prog
 * names the program in messages. Returns main's exit status.
 */
int	integ_main(const char *prog, Suite *(*suite)(void));
/* integ_main() for suites whose clients are real uids: skip unless root. */
int	integ_main_root(const char *prog, Suite *(*suite)(void));

/*
 * Start iomuxd -b backend with the extra arguments (NULL-terminated) and
 * wait until it accepts, on its socket and on every 127.0.0.1 --tcp
 * listener. dstart_conf() first writes conf to DIR/iomuxd.conf and passes
 * "-c DIR/iomuxd.conf" before the extra ones.
 */
void	dstart(struct tu_daemon *d, const char *backend, ...);
void	dstart_conf(struct tu_daemon *d, const char *backend,
	    const char *conf, ...);

/* Stop with SIGTERM: must exit 0 and remove its socket. */
void	dstop(struct tu_daemon *d);

/* A libiomux client connected to d's socket. */
struct iomux_client	*lconnect(const struct tu_daemon *d);

/* The TCP token d wrote (DIR/token, mode 0640): 64 hex characters. */
#define TOKEN_LEN	64
void	dtoken(const struct tu_daemon *d, char *hex /* TOKEN_LEN + 1 */);
/* Over TCP, authenticated by HELLO with d's token: libiomux, raw. */
struct iomux_client	*lconnect_tcp(const struct tu_daemon *d,
	    const char *hostport);
int	rconnect_tcp(const struct tu_daemon *d, int port);

/*
 * Clients that are real uids. uconnect() forks a child that enters d's
 * directory, drops to uid, gid and the ngroups supplementary groups
 * (setgroups, setgid, setuid) and connects to "sock" there: the kernel
 * records the peer credentials at connect time (SO_PEERCRED), so the
 * child hands the connected socket back over SCM_RIGHTS and exits, and
 * the test drives every connection from one process. The relative path
 * means the 0700 test directories above d's need not be searchable by
 * uid, but d's own must be (dshare()) and the socket must let uid in
 * (--socket-mode 0666). Returns a raw non-blocking fd, the caller's to
 * close; whether the daemon accepted or refused it is for the caller to
 * read. Fails the test if the child cannot connect. Needs root.
 */
int	uconnect(const struct tu_daemon *d, uid_t uid, gid_t gid,
	    const gid_t *groups, int ngroups);
/* Make d's directory 0711, so that any uid can reach its socket. */
void	dshare(const struct tu_daemon *d);

/*
 * Raw sockets, frames encoded and parsed by testutil.h's hand-written
 * code. All of these fail the test on error.
 */
/* The daemon is still running (when names the moment in the message). */
void	dalive(struct tu_daemon *d, const char *when);
/* A raw, non-blocking connection to d's socket. */
int	rconnect(const struct tu_daemon *d);
/* Encode one frame by hand and write it all. */
void	rsend(int fd, uint8_t version, uint8_t kind, uint16_t code,
	    uint32_t id, size_t argc, const struct tu_arg *argv);
void	rsend_req(int fd, uint16_t op, uint32_t id, size_t argc,
	    const struct tu_arg *argv);
/* Read one reply frame with this status and id (free with tu_frame_free). */
void	rexpect(int fd, struct tu_frame *f, uint16_t code, uint32_t id);
/* The same for an error reply, which must carry a message; frees it. */
void	rexpect_err(int fd, uint16_t code, uint32_t id);
/* End of stream with no more bytes within ms; what names the case. */
void	rexpect_eof(int fd, int ms, const char *what);
/* The error reply, then the close; fd is closed. */
void	rexpect_refused(int fd, uint16_t code, uint32_t id, const char *what);
/* Write every one of n raw bytes. */
void	rwrite(int fd, const void *buf, size_t n);
/*
 * Hold a stalled partial frame on fd: a length of 1 MiB (the default
 * frame_max) and RSTALL_BYTES of its body, memory a client makes the
 * daemon hold without ever completing a request. A write cut short by
 * the daemon closing fd (an eviction) is not an error.
 */
#define RSTALL_BYTES	(900u << 10)
void	rstall(int fd);
/* 1 if the daemon has closed fd (end of stream or reset), else 0. */
int	rclosed_by_peer(int fd);
/* The 14 bytes of a request header by hand; len is announced as given. */
void	rput_header(uint8_t *p, uint32_t len, uint16_t op, uint32_t id,
	    uint16_t argc);
/*
 * A STATUS field of d as a number, asked over a new connection (which
 * counts in "clients": the value includes it).
 */
long long	dstatus_num(const struct tu_daemon *d, const char *name);
/*
 * Poll STATUS until field name equals want (every 20 ms, at most ms);
 * returns the last value seen.
 */
long long	dwait_status(const struct tu_daemon *d, const char *name,
		    long long want, int ms);

/* ---- the access-policy suites: raw requests as real uids ---------------- */

/*
 * For connections from uconnect() or tu_connect_tcp(), which libiomux
 * cannot adopt: requests by hand with asserted replies (check_integ_policy,
 * check_integ_auth). Arguments are struct tu_arg: RA("text"), RA32(n),
 * RA64(n); RNONE is absent. Every helper takes the caller's __LINE__.
 */
#define RA(s)		((struct tu_arg){ (s), (uint32_t)strlen(s) })
#define RA32(x)		((struct tu_arg){ BE32(x), 4 })
#define RA64(x)		((struct tu_arg){ BE64(x), 8 })
#define RNONE		((struct tu_arg){ NULL, TU_ABSENT })
#define RARGV(...)	((const struct tu_arg[]){ __VA_ARGS__ })
#define RNARG(...)	(sizeof(RARGV(__VA_ARGS__)) / sizeof(struct tu_arg))

/*
 * Start a daemon for clients of any uid: DIR/iomuxd.conf is "socket_mode
 * = 0666" then conf (rule lines and other keys); with "--tcp TCP" if tcp
 * is not NULL (the token goes to DIR/token, see dtoken()). d's directory
 * is made 0711 (dshare()).
 */
void	dstart_rules(struct tu_daemon *d, const char *backend,
	    const char *conf, const char *tcp);

/*
 * Rewrite d's iomuxd.conf as dstart_rules() writes it, with conf, and
 * send SIGHUP; if rules >= 0, wait (3 s at most) until STATUS on fd (an
 * admin's connection) says that many rules are in force.
 */
void	dreload_rules(struct tu_daemon *d, const char *conf, int fd,
	    long long rules);

/* Send one request; the next frame must be its reply (free f). */
uint16_t	rcall(int line, int fd, struct tu_frame *f, uint16_t op,
		    size_t argc, const struct tu_arg *argv);
/* rcall() whose status must be st; the reply is freed. */
void	rreq(int line, int fd, uint16_t st, uint16_t op, size_t argc,
	    const struct tu_arg *argv);
#define RREQ(fd, st, op, ...)						\
	rreq(__LINE__, (fd), (st), (op), RNARG(__VA_ARGS__),		\
	    RARGV(__VA_ARGS__))
#define RREQ0(fd, st, op)	rreq(__LINE__, (fd), (st), (op), 0, NULL)
/*
 * The request is EDENIED with one message, which is exactly want (or
 * alt, if not NULL), or with part set contains want; and the connection
 * stays open: a PING on it afterwards gets OK.
 */
void	rdenied(int line, int fd, const char *want, const char *alt,
	    int part, uint16_t op, size_t argc, const struct tu_arg *argv);
#define RDENY(fd, msg, op, ...)						\
	rdenied(__LINE__, (fd), (msg), NULL, 0, (op),			\
	    RNARG(__VA_ARGS__), RARGV(__VA_ARGS__))
#define RDENY0(fd, msg, op)						\
	rdenied(__LINE__, (fd), (msg), NULL, 0, (op), 0, NULL)
#define RDENY_HAS(fd, part, op, ...)					\
	rdenied(__LINE__, (fd), (part), NULL, 1, (op),			\
	    RNARG(__VA_ARGS__), RARGV(__VA_ARGS__))
#define RDENY0_HAS(fd, part, op)					\
	rdenied(__LINE__, (fd), (part), NULL, 1, (op), 0, NULL)
/* The message of a reply as a C string (a static buffer, cut at 1023). */
const char	*rtext(const struct tu_arg *a);
/*
 * STATUS on fd: OK with details "yes" and the admin fields, or (details
 * 0) exactly the summary fields with details "no".
 */
void	rstatus_is(int line, int fd, int details);
#define RSTATUS_IS(fd, details)	rstatus_is(__LINE__, (fd), (details))
/* An admin STATUS field on fd as a number. */
long long	rstat_num(int line, int fd, const char *name);
#define RSTAT(fd, name)	rstat_num(__LINE__, (fd), (name))
/* Poll rstat_num() until it is want, at most 3 s; the last value. */
long long	rwait_stat(int line, int fd, const char *name, long long want);
#define RWAIT_STAT(fd, name, v)	rwait_stat(__LINE__, (fd), (name), (v))
/*
 * WHOAMI (opcode 0x0004) on fd is OK; its reply in f (free it). Its
 * "grant" values, in order and joined with '|', must be grants ("" for
 * none).
 */
void	rwhoami(int line, int fd, struct tu_frame *f, const char *grants);
/* The value of pair name in f must be want (NULL: the pair is absent). */
void	rfield_is(int line, const struct tu_frame *f, const char *name,
	    const char *want);

/* ---- the connection suites' STATUS and PING ------------------------- */

#define OP_UNKNOWN	0x7e7e	/* no such opcode in any range */

/* A raw PING with payload must be echoed exactly. */
void	rping(int fd, uint32_t id, const void *p, size_t len);
/* A fresh libiomux client gets a PING answered: the daemon serves. */
void	lping_fresh(const struct tu_daemon *d, const char *what);

/*
 * A STATUS reply as strings, one per field of iomuxd-protocol(7)'s
 * connection-layer list (status_get() fails the test if one is missing).
 */
#define NSTATUS	25
struct status {
	char	val[NSTATUS][1024];
};

/* STATUS through libiomux; every field of the spec must be present. */
void		 status_get(struct iomux_client *c, struct status *s);
/* A field of s by name (the test fails for a name not in the list). */
const char	*sstr(const struct status *s, const char *name);
/* A STATUS number: plain decimal digits, nothing else. */
long long	 snum(const struct status *s, const char *name);
/* A STATUS number of d, asked over a new libiomux connection. */
long long	 lstatus_num(const struct tu_daemon *d, const char *name);
/*
 * Poll STATUS on c until "clients" is want (earlier closes have landed),
 * at most 3 s, then one more round trip so that the loop turn that
 * counted them is over.
 */
void		 wait_clients(struct iomux_client *c, long long want);
/* 1 if the comma-separated list holds item exactly. */
int		 list_has(const char *list, const char *item);

/* ---- hub calls: arguments encoded by hand ---------------------------- */

/*
 * The hub suites build every argument here (big-endian u64 timeouts and
 * TTLs in milliseconds, i64 deltas, u32 flags) and send it through
 * libiomux's generic iomux_call()/iomux_send()/iomux_recv(), so that they
 * check the protocol of iomuxd-protocol(7) and do not lean on libiomux's
 * typed calls. Every helper takes the caller's __LINE__ (the macros pass
 * it) for its failure message.
 *
 * Timing bounds are generous (a loaded 2-core box): "promptly" means
 * within a second, and a deadline of D ms must not fire before D - 20.
 */
#define PROMPT_MS	1000	/* "at once" on a loaded machine */
#define EARLY_MS	20	/* a deadline may fire this much early */

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

/* An opcode's name for messages ("?" if not a hub or control opcode). */
const char	*opname(uint16_t op);
/* The message of an error reply, for failure reports. */
const char	*errtext(const struct iomux_reply *r);

/* One call; the reply (argv valid until the next call on c). */
struct iomux_reply	hcall(int line, struct iomux_client *c, uint16_t op,
			    size_t argc, const struct iomux_value *argv);
/*
 * The status must be st. An error reply carries exactly one message; the
 * negative answers (TIMEDOUT, NOTFOUND, CONFLICT) carry nothing.
 */
void	hcheck_status(int line, const struct iomux_reply *r, uint16_t op,
	    uint16_t st);
/* hcall() whose reply must have status st. */
struct iomux_reply	hexpect(int line, struct iomux_client *c, uint16_t st,
			    uint16_t op, size_t argc,
			    const struct iomux_value *argv);
/* Queue and flush one request without waiting; returns its id. */
uint32_t	hsend(int line, struct iomux_client *c, uint16_t op,
		    size_t argc, const struct iomux_value *argv);
/* The next frame on c must be a reply with this status and id. */
struct iomux_reply	hrecv(int line, struct iomux_client *c, uint16_t st,
			    uint32_t id);
/* The reply has n arguments. */
void	hargc(int line, const struct iomux_reply *r, size_t n);
/* Argument i is present and holds exactly these n bytes. */
void	harg_eq(int line, const struct iomux_reply *r, size_t i,
	    const void *p, size_t n);
/* Argument i as an 8-byte big-endian integer. */
uint64_t	harg_u64(int line, const struct iomux_reply *r, size_t i);
/* The reply has exactly one u64 argument, equal to v. */
void	hok_u64(int line, const struct iomux_reply *r, uint64_t v);

/* A round trip: the connection is alive and in step. */
void	hping(int line, struct iomux_client *c, const char *what);
#define PING(c, what)	hping(__LINE__, (c), (what))
/* A STATUS field as a number; it must be plain decimal digits. */
long long	hstat(int line, struct iomux_client *c, const char *name);
/* Poll STATUS until name == want, at most 3 s. */
void	hwait_stat(int line, struct iomux_client *c, const char *name,
	    long long want);
/* Each field of w must have its value; a failure reports every field. */
void	hstats(int line, struct iomux_client *c, const char *why,
	    const struct stat_want *w, size_t n);
/* Nothing arrives on c for ms milliseconds (c has nothing buffered). */
void	hquiet(int line, struct iomux_client *c, int ms, const char *what);
#define QUIET(c, ms, what)	hquiet(__LINE__, (c), (ms), (what))
/* r is a push of type MESSAGE with these arguments (pattern may be NULL). */
void	hpush(int line, const struct iomux_reply *r, const void *ch,
	    size_t chlen, const void *msg, size_t msglen, const char *pattern);
/* The next frame on c is such a push. */
void	hrecv_push(int line, struct iomux_client *c, const void *ch,
	    size_t chlen, const void *msg, size_t msglen, const char *pattern);
#define RECV_PUSH(c, ch, msg, pat)					\
	hrecv_push(__LINE__, (c), (ch), strlen(ch), (msg), strlen(msg), (pat))

/* Milliseconds since t0. */
long long	since(int64_t t0);
/* A fill pattern that differs per item (seed) and per byte. */
void	fill(uint8_t *p, size_t n, unsigned seed);

#endif /* IOMUXD_INTEG_UTIL_H */
