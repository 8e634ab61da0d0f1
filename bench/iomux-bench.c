/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * iomux-bench.c: the iomuxd load generator and A/B comparison tool.
 *
 * One single-threaded program drives iomuxd and Redis with the same client
 * machinery, so that their numbers can be compared as ratios taken in one
 * run on one (shared, noisy) machine:
 *
 *	compare	N clients, unpipelined and pipelined, PING/GET/SET,
 *		iomuxd and Redis measured in alternating (ABBA) rounds
 *	rtt	one client, unpipelined round trips: iomuxd, Redis and a
 *		bare socketpair ping-pong with a forked echo child
 *	idle	the cost of N idle connections: rtt and throughput with and
 *		without them, and the daemon's RSS per idle connection
 *
 * Requests are encoded once, before a run, into a "batch" of depth copies;
 * a connection writes its batch, counts depth replies, and writes it again
 * (redis-benchmark -P semantics). Nothing is allocated per request, and the
 * reply parsers only check framing and status, so the client spends far
 * less CPU per op than the server (the report shows both). The wire code is
 * written here again, from iomux-proto.h, rather than taken from libiomux:
 * a second, independent implementation of the framing is a cheap
 * cross-check of the daemon's.
 *
 * Every server this program starts runs in a private mkdtemp(3) directory
 * and is stopped by pid (SIGTERM, bounded wait, SIGKILL); an atexit handler
 * does the same on every error path, and the directory is removed. Every
 * wait is bounded, and a stalled server is an error, never a hang.
 *
 * Errors are fatal (err(3)): a benchmark that saw an error reply or a
 * dropped connection measured something else than it claims.
 */

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "iomux.h"
#include "iomux-proto.h"

/* Bounds on everything the command line can ask for. */
#define BENCH_CLIENTS_MAX	1024
#define BENCH_DEPTH_MAX		1024
#define BENCH_ROUNDS_MAX	100
#define BENCH_SECONDS_MAX	600.0
#define BENCH_IDLE_MAX		100000
#define BENCH_VALUE_MAX		65536
#define BENCH_CHILDREN_MAX	8

/* Latency samples kept per target (all rounds); later ones are dropped. */
#define BENCH_SAMPLES_MAX	(1u << 21)

#define NSEC			1000000000ull
#define BENCH_WARMUP_NS		(NSEC / 4)	/* before each timed window */
#define BENCH_RTT_WARMUP_NS	(NSEC / 20)
#define BENCH_STALL_NS		(5 * NSEC)	/* no reply for this long */
#define BENCH_START_NS		(10 * NSEC)	/* server becomes connectable */
#define BENCH_STOP_NS		(5 * NSEC)	/* server exits after SIGTERM */
#define BENCH_DRAIN_NS		(5 * NSEC)	/* outstanding replies at end */
#define BENCH_SETTLE_NS		(20 * NSEC)	/* daemon sees idle conns */
#define BENCH_IO_TIMEOUT_MS	5000		/* blocking connect/read */

/* A reply (or RESP line) larger than this is an error. */
#define BENCH_REPLY_MAX		(BENCH_VALUE_MAX + 4096)
#define BENCH_RESP_LINE_MAX	4096
#define BENCH_EVENTS		256

#define BENCH_KEY		"iomux-bench:key"

/* Targets of the project (see bench/README.md); printed next to results. */
#define TARGET_RATIO_P1		1.2
#define TARGET_RATIO_P16	1.5
#define TARGET_RTT_RATIO	1.15
#define TARGET_IDLE_BYTES	1024

enum wire {
	WIRE_IOMUX,
	WIRE_RESP
};

enum bop {
	BOP_PING,
	BOP_GET,
	BOP_SET,
	BOP_COUNT
};

/* Where the client and the servers it starts run; see pin_init(). */
enum pin {
	PIN_DEFAULT,	/* SAME for rtt, SPLIT otherwise */
	PIN_NONE,
	PIN_SAME,
	PIN_SPLIT
};

static const char *const bop_names[BOP_COUNT] = { "PING", "GET", "SET" };
static const uint16_t bop_codes[BOP_COUNT] = {
	IOMUX_OP_PING, IOMUX_OP_GET, IOMUX_OP_SET
};

/* One argument to encode. */
struct barg {
	const void	*p;
	size_t		 len;
};

/* A pre-encoded request: 'depth' copies, ids 1..depth (iomuxd). */
struct req {
	enum wire	 wire;
	enum bop	 op;
	unsigned	 depth;
	uint8_t		*batch;
	size_t		 len;		/* one request */
	size_t		 batchlen;	/* depth * len */
};

/* A parsed reply: views into the caller's input bytes. */
struct breply {
	bool		 ok;		/* OK status (a non-nil RESP reply) */
	uint8_t		 kind;
	uint16_t	 code;		/* iomuxd status, 0 for RESP */
	uint32_t	 id;
	uint16_t	 argc;
	const uint8_t	*args;		/* iomuxd: the argument bytes */
	size_t		 argslen;
	const uint8_t	*msg;		/* error text, if any */
	size_t		 msglen;
};

struct server {
	const char	*name;		/* "iomuxd", "redis", "socketpair" */
	enum wire	 wire;
	bool		 up;
	char		 path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	pid_t		 child;		/* started by us, else -1 */
	pid_t		 pid;		/* from SO_PEERCRED, else -1 */
	char		 backend[16];	/* iomuxd STATUS backend */
	char		 version[64];	/* iomuxd STATUS version */
	char		 log[PATH_MAX];
};

/* One load-generator connection. */
struct bconn {
	int		 fd;
	bool		 wantout;	/* EPOLLOUT registered */
	size_t		 woff;		/* bytes of the batch written */
	unsigned	 pending;	/* replies still due for the batch */
	uint32_t	 next_id;	/* iomuxd: id of the next reply */
	size_t		 inlen;
	uint8_t		*in;
};

/* Result of one timed throughput window. */
struct tput {
	uint64_t	 ops;
	double		 secs;
	double		 ops_s;
	double		 srv_us;	/* server CPU per op, < 0: unknown */
	double		 cli_us;	/* our CPU per op */
	double		 srv_busy;	/* server CPU / wall time, or < 0 */
	double		 cli_busy;	/* our CPU / wall time */
};

/* Fields of struct tput that are summarized over rounds. */
enum tfield {
	TF_OPS,
	TF_SRV_US,
	TF_CLI_US,
	TF_SRV_BUSY,
	TF_CLI_BUSY
};

/* Latency samples of one rtt target, across rounds. */
struct lat {
	uint32_t	*ns;
	size_t		 n;
	uint64_t	 srv_ticks;	/* server CPU over the timed loops */
	uint64_t	 trips;
	bool		 cpu_known;
	double		 round_med[BENCH_ROUNDS_MAX];
};

struct opts {
	const char	*iomuxd_socket;
	const char	*redis_socket;
	const char	*backend;
	unsigned	 clients;
	unsigned	 depth;
	double		 seconds;
	unsigned	 rounds;
	unsigned	 idle;
	size_t		 vsize;
	unsigned	 tests;		/* bit per enum bop */
	bool		 json;
	bool		 no_redis;
	enum pin	 pin;
	int		 verbose;
};

static struct {
	char		 tmpdir[96];	/* "<dir>/redis.sock" fits sun_path */
	pid_t		 children[BENCH_CHILDREN_MAX];
	size_t		 nchildren;
	bool		 progress;
	long		 clk_tck;
	uint8_t		*value;
	size_t		 vsize;
	bool		 client_poll;	/* load loop on poll(2), not epoll */
	int		 cpu_client;	/* pinned CPUs, -1: not pinned */
	int		 cpu_server;
} g;

static volatile sig_atomic_t interrupted;

static void	usage(int) __attribute__((__noreturn__));
static void	diec(int, int, const char *, ...)
		    __attribute__((__noreturn__, __format__(__printf__, 3, 4)));

/* --- small helpers -------------------------------------------------------- */

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

static void
sleep_ns(uint64_t ns)
{
	struct timespec	ts;

	ts.tv_sec = (time_t)(ns / NSEC);
	ts.tv_nsec = (long)(ns % NSEC);
	nanosleep(&ts, NULL);
}

/* err(3) with an explicit error number: glibc before 2.38 has no errc(3). */
static void
diec(int eval, int code, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	errno = code;
	verr(eval, fmt, ap);
}

static void
check_interrupted(void)
{
	if (interrupted)
		errx(1, "interrupted");
}

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void
progress(const char *fmt, ...) __attribute__((__format__(__printf__, 1, 2)));

/* Progress lines go to stderr, only when someone is watching it. */
static void
progress(const char *fmt, ...)
{
	va_list	ap;

	if (!g.progress)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of v[0..n); sorts v. 0 for n == 0. */
static double
median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof *v, cmp_double);
	if (n % 2 == 1)
		return v[n / 2];
	return (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The q-quantile (0..1) of sorted samples, in microseconds. */
static double
quantile_us(const uint32_t *ns, size_t n, double q)
{
	size_t	i;

	if (n == 0)
		return 0;
	i = (size_t)(q * (double)(n - 1) + 0.5);
	if (i >= n)
		i = n - 1;
	return ns[i] / 1000.0;
}

static int
write_full(int fd, const void *p, size_t len)
{
	const uint8_t	*b = p;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, b, len);
		if (n < 0) {
			if (errno == EINTR && !interrupted)
				continue;
			return -errno;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* --- /proc ---------------------------------------------------------------- */

/* utime + stime of pid, in clock ticks. 0 or -errno. */
static int
proc_cpu_ticks(pid_t pid, uint64_t *ticks)
{
	char			 path[64], buf[1024], *p;
	unsigned long long	 ut, st;
	ssize_t			 n;
	int			 fd, i, saved;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	n = read(fd, buf, sizeof buf - 1);
	saved = errno;
	close(fd);
	if (n <= 0)
		return n < 0 ? -saved : -EIO;
	buf[n] = '\0';
	/* comm may hold spaces and ')': fields start after the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -EIO;
	p++;
	/* Fields 3..13 precede utime (14) and stime (15). */
	for (i = 3; i <= 13; i++) {
		p = strchr(p + 1, ' ');
		if (p == NULL)
			return -EIO;
	}
	if (sscanf(p, " %llu %llu", &ut, &st) != 2)
		return -EIO;
	*ticks = ut + st;
	return 0;
}

/* VmRSS of pid, in bytes. 0 or -errno. */
static int
proc_rss(pid_t pid, uint64_t *bytes)
{
	char			 path[64], line[256];
	unsigned long long	 kb;
	FILE			*f;
	int			 rc = -ENOENT;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -errno;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1) {
			*bytes = kb * 1024;
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

static double
self_cpu_secs(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* --- CPU pinning --------------------------------------------------------- */

/*
 * Left alone, the scheduler sometimes puts a client and its server on the
 * same CPU (a ping-pong is then a direct switch) and sometimes not (a
 * cross-CPU wake-up: an IPI, and in a VM an exit): rtt samples become
 * bimodal and rounds disagree by 30%. Pinned, every round measures the
 * same thing. SPLIT (client on one CPU, servers on another) is how a
 * daemon and busy clients share a multi-core machine, and lets each side
 * use a whole core in throughput runs. SAME (everything on one CPU) makes
 * a round trip two context switches plus the code paths: on small VMs the
 * cross-CPU wake-up costs more than a lean server's whole request path,
 * so SAME is what shows the server's overhead over the bare socketpair.
 * Servers started elsewhere (--iomuxd-socket, --redis-socket) are not
 * touched: pin them with taskset(1).
 */
static void
pin_init(enum pin mode)
{
	cpu_set_t	set;
	int		i;

	g.cpu_client = g.cpu_server = -1;
	if (mode == PIN_NONE ||
	    sched_getaffinity(0, sizeof set, &set) == -1 ||
	    (mode == PIN_SPLIT && CPU_COUNT(&set) < 2))
		return;
	for (i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, &set))
			continue;
		if (g.cpu_client == -1)
			g.cpu_client = i;
		else if (g.cpu_server == -1)
			g.cpu_server = i;
	}
	if (mode == PIN_SAME)
		g.cpu_server = g.cpu_client;
	CPU_ZERO(&set);
	CPU_SET(g.cpu_client, &set);
	if (sched_setaffinity(0, sizeof set, &set) == -1) {
		warn("sched_setaffinity");
		g.cpu_client = g.cpu_server = -1;
	}
}

/* Pin pid (0: ourselves, in a child) to the server CPU; 0 or -errno. */
static int
pin_server(pid_t pid)
{
	cpu_set_t	set;

	if (g.cpu_server == -1)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(g.cpu_server, &set);
	if (sched_setaffinity(pid, sizeof set, &set) == -1)
		return -errno;
	return 0;
}

/* --- children, temp dir and cleanup --------------------------------------- */

static void
child_forget(pid_t pid)
{
	size_t	i;

	for (i = 0; i < g.nchildren; i++) {
		if (g.children[i] == pid) {
			g.children[i] = g.children[--g.nchildren];
			return;
		}
	}
}

/* Stop a child we started: SIGTERM, a bounded wait, then SIGKILL. */
static void
child_stop(pid_t pid)
{
	uint64_t	deadline;
	pid_t		r;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	deadline = now_ns() + BENCH_STOP_NS;
	for (;;) {
		r = waitpid(pid, NULL, WNOHANG);
		if (r == pid || (r == -1 && errno == ECHILD))
			break;
		if (now_ns() >= deadline) {
			warnx("pid %ld ignored SIGTERM; killing it", (long)pid);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			break;
		}
		sleep_ns(NSEC / 100);
	}
	child_forget(pid);
}

/* Remove the files a run left in the temp dir, then the dir (one level). */
static void
tmpdir_remove(void)
{
	char		 path[PATH_MAX];
	struct dirent	*de;
	DIR		*d;

	if (g.tmpdir[0] == '\0')
		return;
	if ((d = opendir(g.tmpdir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (snprintf(path, sizeof path, "%s/%s", g.tmpdir,
			    de->d_name) < (int)sizeof path)
				unlink(path);
		}
		closedir(d);
	}
	if (rmdir(g.tmpdir) == -1)
		warn("rmdir %s", g.tmpdir);
	g.tmpdir[0] = '\0';
}

static void
cleanup(void)
{
	while (g.nchildren > 0)
		child_stop(g.children[g.nchildren - 1]);
	tmpdir_remove();
}

static void
tmpdir_make(void)
{
	const char	*t;

	if (g.tmpdir[0] != '\0')
		return;
	if ((t = getenv("TMPDIR")) == NULL || *t == '\0')
		t = "/tmp";
	/* Short: socket paths must fit in sun_path. */
	if (snprintf(g.tmpdir, sizeof g.tmpdir, "%s/iomux-bench.XXXXXX", t) >=
	    (int)sizeof g.tmpdir) {
		g.tmpdir[0] = '\0';
		errx(1, "TMPDIR too long for a socket path: %s", t);
	}
	if (mkdtemp(g.tmpdir) == NULL) {
		g.tmpdir[0] = '\0';
		err(1, "mkdtemp");
	}
}

/*
 * Start argv[0] with stdout and stderr going to 'logpath' and stdin from
 * /dev/null. Returns the pid; the child is stopped by cleanup() at exit.
 */
static pid_t
spawn(const char *const argv[], const char *logpath)
{
	union {
		const char *const	*c;
		char *const		*v;
	} args;
	pid_t	pid;
	int	fd, nul;

	if (g.nchildren == BENCH_CHILDREN_MAX)
		errx(1, "too many children");
	if ((fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		err(1, "open %s", logpath);
	if ((nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		err(1, "open /dev/null");
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		/* Before exec, so that every thread of the server inherits. */
		pin_server(0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(nul, STDIN_FILENO) == -1 ||
		    dup2(fd, STDOUT_FILENO) == -1 ||
		    dup2(fd, STDERR_FILENO) == -1)
			_exit(127);
		/* execvp(3) promises not to modify argv; C cannot say so. */
		args.c = argv;
		execvp(argv[0], args.v);
		dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	close(fd);
	close(nul);
	g.children[g.nchildren++] = pid;
	return pid;
}

/* Print the end of a server's log, after it failed. */
static void
log_tail(const char *path)
{
	char	buf[2048];
	ssize_t	n;
	off_t	size;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size > (off_t)sizeof buf - 1)
		lseek(fd, size - (off_t)sizeof buf + 1, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	if ((n = read(fd, buf, sizeof buf - 1)) > 0) {
		buf[n] = '\0';
		fprintf(stderr, "--- %s ---\n%s%s", path, buf,
		    buf[n - 1] == '\n' ? "" : "\n");
	}
	close(fd);
}

/* Find a program in $PATH; true if found (and executable). */
static bool
in_path(const char *prog)
{
	const char	*p, *e;
	char		 buf[PATH_MAX];
	size_t		 len;

	if (strchr(prog, '/') != NULL)
		return access(prog, X_OK) == 0;
	if ((p = getenv("PATH")) == NULL)
		p = "/usr/local/bin:/usr/bin:/bin";
	for (; *p != '\0'; p = *e == ':' ? e + 1 : e) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		len = (size_t)(e - p);
		if (len == 0 || len + strlen(prog) + 2 > sizeof buf)
			continue;
		memcpy(buf, p, len);
		snprintf(buf + len, sizeof buf - len, "/%s", prog);
		if (access(buf, X_OK) == 0)
			return true;
	}
	return false;
}

/* --- sockets -------------------------------------------------------------- */

/*
 * Connect to a UNIX stream socket. Blocking connects are bounded by
 * SO_SNDTIMEO (Linux applies it to AF_UNIX connect when the listen backlog
 * is full), reads by SO_RCVTIMEO. Returns the fd or -errno.
 */
static int
connect_unix(const char *path, bool nonblock)
{
	struct sockaddr_un	sun;
	struct timeval		tv;
	int			fd, saved;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -errno;
	tv.tv_sec = BENCH_IO_TIMEOUT_MS / 1000;
	tv.tv_usec = (BENCH_IO_TIMEOUT_MS % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1)
		goto fail;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		goto fail;
	if (nonblock && fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	return -saved;
}

static int
connect_or_die(const struct server *s, bool nonblock)
{
	int	fd;

	if ((fd = connect_unix(s->path, nonblock)) < 0)
		diec(1, -fd, "connect %s (%s)", s->path, s->name);
	return fd;
}

static pid_t
peer_pid(int fd)
{
	struct ucred	uc;
	socklen_t	len = sizeof uc;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    uc.pid <= 0)
		return -1;
	return uc.pid;
}

/* --- encoding ------------------------------------------------------------- */

/* Encode one iomuxd request into p[0..cap). Returns its size, 0 if no room. */
static size_t
enc_iomux(uint8_t *p, size_t cap, uint16_t op, uint32_t id, size_t argc,
    const struct barg *argv)
{
	size_t	i, body = IOMUX_BODY_HDR_SIZE, off;

	for (i = 0; i < argc; i++)
		body += IOMUX_ARG_HDR_SIZE + argv[i].len;
	if (body > IOMUX_FRAME_MAX_DEFAULT || IOMUX_LEN_SIZE + body > cap)
		return 0;
	put_u32(p, (uint32_t)body);
	p[4] = IOMUX_PROTO_VERSION;
	p[5] = IOMUX_KIND_REQUEST;
	put_u16(p + 6, op);
	put_u32(p + 8, id);
	put_u16(p + 12, (uint16_t)argc);
	off = IOMUX_LEN_SIZE + IOMUX_BODY_HDR_SIZE;
	for (i = 0; i < argc; i++) {
		put_u32(p + off, (uint32_t)argv[i].len);
		off += IOMUX_ARG_HDR_SIZE;
		memcpy(p + off, argv[i].p, argv[i].len);
		off += argv[i].len;
	}
	return off;
}

/* Encode one RESP command (name, then arguments). 0 if no room. */
static size_t
enc_resp(uint8_t *p, size_t cap, const char *name, size_t argc,
    const struct barg *argv)
{
	char	hdr[32];
	size_t	i, off = 0, len;
	int	n;

	n = snprintf(hdr, sizeof hdr, "*%zu\r\n$%zu\r\n", argc + 1,
	    strlen(name));
	len = (size_t)n + strlen(name) + 2;
	if (len > cap)
		return 0;
	memcpy(p, hdr, (size_t)n);
	memcpy(p + n, name, strlen(name));
	memcpy(p + len - 2, "\r\n", 2);
	off = len;
	for (i = 0; i < argc; i++) {
		n = snprintf(hdr, sizeof hdr, "$%zu\r\n", argv[i].len);
		len = (size_t)n + argv[i].len + 2;
		if (len > cap - off)
			return 0;
		memcpy(p + off, hdr, (size_t)n);
		memcpy(p + off + n, argv[i].p, argv[i].len);
		memcpy(p + off + len - 2, "\r\n", 2);
		off += len;
	}
	return off;
}

/* Encode one request of 'op' for 'wire' with request id 'id'. */
static size_t
enc_op(uint8_t *p, size_t cap, enum wire w, enum bop op, uint32_t id)
{
	struct barg	a[2];
	size_t		argc = 0;

	if (op == BOP_GET || op == BOP_SET) {
		a[0].p = BENCH_KEY;
		a[0].len = strlen(BENCH_KEY);
		argc = 1;
	}
	if (op == BOP_SET) {
		a[1].p = g.value;
		a[1].len = g.vsize;
		argc = 2;
	}
	if (w == WIRE_IOMUX)
		return enc_iomux(p, cap, bop_codes[op], id, argc, a);
	return enc_resp(p, cap, bop_names[op], argc, a);
}

/* Build the pre-encoded batch of 'depth' requests; exits on failure. */
static void
req_build(struct req *rq, enum wire w, enum bop op, unsigned depth)
{
	size_t		cap = g.vsize + 256, i;

	rq->wire = w;
	rq->op = op;
	rq->depth = depth;
	if ((rq->batch = malloc(cap * depth)) == NULL)
		err(1, "malloc");
	rq->batchlen = 0;
	for (i = 0; i < depth; i++) {
		rq->len = enc_op(rq->batch + rq->batchlen, cap, w, op,
		    (uint32_t)i + 1);
		if (rq->len == 0)
			errx(1, "request does not fit");
		rq->batchlen += rq->len;
	}
}

static void
req_free(struct req *rq)
{
	free(rq->batch);
	rq->batch = NULL;
}

/* --- reply parsing -------------------------------------------------------- */

/*
 * Parse one iomuxd frame from p[0..len). Returns its size (> 0), 0 if
 * incomplete, or -1 if malformed. Only the header and the first argument
 * (an error's message) are looked at.
 */
static ssize_t
parse_iomux(const uint8_t *p, size_t len, struct breply *r)
{
	uint32_t	blen, alen;

	if (len < IOMUX_LEN_SIZE)
		return 0;
	blen = get_u32(p);
	if (blen < IOMUX_BODY_HDR_SIZE || blen > IOMUX_FRAME_MAX_CAP)
		return -1;
	if (len - IOMUX_LEN_SIZE < blen)
		return 0;
	p += IOMUX_LEN_SIZE;
	if (p[0] != IOMUX_PROTO_VERSION)
		return -1;
	r->kind = p[1];
	r->code = get_u16(p + 2);
	r->id = get_u32(p + 4);
	r->argc = get_u16(p + 8);
	r->args = p + IOMUX_BODY_HDR_SIZE;
	r->argslen = blen - IOMUX_BODY_HDR_SIZE;
	r->ok = r->kind == IOMUX_KIND_REPLY && r->code == IOMUX_ST_OK;
	r->msg = NULL;
	r->msglen = 0;
	if (!r->ok && r->argc > 0 && r->argslen >= IOMUX_ARG_HDR_SIZE) {
		alen = get_u32(r->args);
		if (alen != IOMUX_ARG_ABSENT &&
		    alen <= r->argslen - IOMUX_ARG_HDR_SIZE) {
			r->msg = r->args + IOMUX_ARG_HDR_SIZE;
			r->msglen = alen;
		}
	}
	return (ssize_t)(IOMUX_LEN_SIZE + blen);
}

/* Parse a decimal RESP length in p[0..len); -2 if malformed. */
static long
resp_num(const uint8_t *p, size_t len)
{
	long	v = 0;
	size_t	i = 0;
	bool	neg = false;

	if (len > 0 && p[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == len || len - i > 9)
		return -2;
	for (; i < len; i++) {
		if (!isdigit(p[i]))
			return -2;
		v = v * 10 + (p[i] - '0');
	}
	return neg ? -v : v;
}

/*
 * Parse one RESP2 reply of the shapes PING/GET/SET return: a simple
 * string, an error, an integer or a bulk string. Same results as
 * parse_iomux(); a nil bulk string is not ok.
 */
static ssize_t
parse_resp(const uint8_t *p, size_t len, struct breply *r)
{
	const uint8_t	*nl;
	size_t		 line;
	long		 n;

	memset(r, 0, sizeof *r);
	if (len == 0)
		return 0;
	if ((nl = memchr(p, '\n', len)) == NULL)
		return len > BENCH_RESP_LINE_MAX ? -1 : 0;
	line = (size_t)(nl - p) + 1;
	if (line < 3 || nl[-1] != '\r')
		return -1;
	switch (p[0]) {
	case '+':
	case ':':
		r->ok = true;
		return (ssize_t)line;
	case '-':
		r->msg = p + 1;
		r->msglen = line - 3;
		return (ssize_t)line;
	case '$':
		n = resp_num(p + 1, line - 3);
		if (n == -1)
			return (ssize_t)line;	/* nil */
		if (n < 0 || n > BENCH_REPLY_MAX)
			return -1;
		if (len < line + (size_t)n + 2)
			return 0;
		if (p[line + n] != '\r' || p[line + n + 1] != '\n')
			return -1;
		r->ok = true;
		return (ssize_t)(line + (size_t)n + 2);
	default:
		return -1;
	}
}

static ssize_t
parse_reply(enum wire w, const uint8_t *p, size_t len, struct breply *r)
{
	if (w == WIRE_IOMUX)
		return parse_iomux(p, len, r);
	return parse_resp(p, len, r);
}

/* A printable description of a non-OK reply. */
static void
reply_describe(enum wire w, const struct breply *r, char *buf, size_t len)
{
	int	mlen = (int)(r->msglen > 200 ? 200 : r->msglen);

	if (w == WIRE_RESP) {
		if (r->msg != NULL)
			snprintf(buf, len, "-%.*s", mlen, (const char *)r->msg);
		else
			snprintf(buf, len, "nil");
		return;
	}
	if (r->kind != IOMUX_KIND_REPLY) {
		snprintf(buf, len, "a frame of kind %u", r->kind);
		return;
	}
	snprintf(buf, len, "%s (0x%04x)%s%.*s", iomux_status_name(r->code),
	    r->code, r->msg != NULL ? ": " : "", mlen,
	    r->msg != NULL ? (const char *)r->msg : "");
}

/*
 * The value of 'name' in an iomuxd name/value pair reply, copied to out as
 * a string. 0, or -ENOENT.
 */
static int
reply_field(const struct breply *r, const char *name, char *out, size_t outlen)
{
	const uint8_t	*p = r->args, *nm = NULL;
	size_t		 left = r->argslen, nmlen = 0;
	uint32_t	 alen;
	unsigned	 i;

	for (i = 0; i < r->argc; i++) {
		if (left < IOMUX_ARG_HDR_SIZE)
			return -ENOENT;
		alen = get_u32(p);
		p += IOMUX_ARG_HDR_SIZE;
		left -= IOMUX_ARG_HDR_SIZE;
		if (alen == IOMUX_ARG_ABSENT)
			alen = 0;
		if (alen > left)
			return -ENOENT;
		if (i % 2 == 0) {
			nm = p;
			nmlen = alen;
		} else if (nm != NULL && nmlen == strlen(name) &&
		    memcmp(nm, name, nmlen) == 0) {
			snprintf(out, outlen, "%.*s", (int)alen,
			    (const char *)p);
			return 0;
		}
		p += alen;
		left -= alen;
	}
	return -ENOENT;
}

/* --- blocking calls (probes, STATUS, rtt) --------------------------------- */

/*
 * Read one reply from a blocking fd into buf[0..cap), which must start
 * empty. Returns its size, exits on EOF, timeout or garbage.
 */
static size_t
read_reply(int fd, enum wire w, const char *who, uint8_t *buf, size_t cap,
    struct breply *r)
{
	size_t	have = 0;
	ssize_t	n, used;

	for (;;) {
		n = read(fd, buf + have, cap - have);
		if (n == 0)
			errx(1, "%s closed the connection", who);
		if (n < 0) {
			if (errno == EINTR) {
				check_interrupted();
				continue;
			}
			if (errno == EAGAIN)
				errx(1, "%s: no reply within %d ms", who,
				    BENCH_IO_TIMEOUT_MS);
			err(1, "read from %s", who);
		}
		have += (size_t)n;
		if ((used = parse_reply(w, buf, have, r)) < 0)
			errx(1, "%s sent a malformed reply", who);
		if (used > 0) {
			if ((size_t)used != have)
				errx(1, "%s sent more than one reply", who);
			return have;
		}
		if (have == cap)
			errx(1, "%s: reply larger than %zu bytes", who, cap);
	}
}

/*
 * Send one request of 'op' on a new connection and return its reply's
 * status in *r (valid until the next call).
 */
static void
sync_call(const struct server *s, uint16_t op, size_t argc,
    const struct barg *argv, struct breply *r)
{
	static uint8_t	 buf[BENCH_REPLY_MAX], req[BENCH_VALUE_MAX + 256];
	size_t		 len;
	int		 fd, rc;

	len = enc_iomux(req, sizeof req, op, 1, argc, argv);
	if (len == 0)
		errx(1, "request does not fit");
	fd = connect_or_die(s, false);
	if ((rc = write_full(fd, req, len)) < 0)
		diec(1, -rc, "write to %s", s->name);
	read_reply(fd, s->wire, s->name, buf, sizeof buf, r);
	close(fd);
}

/* Send one pre-encoded op on a new connection; true if the reply is OK. */
static bool
probe_op(const struct server *s, enum bop op, char *why, size_t whylen)
{
	static uint8_t	 buf[BENCH_REPLY_MAX];
	uint8_t		*req;
	struct breply	 r;
	size_t		 len;
	int		 fd, rc;

	if ((req = malloc(g.vsize + 256)) == NULL)
		err(1, "malloc");
	len = enc_op(req, g.vsize + 256, s->wire, op, 1);
	fd = connect_or_die(s, false);
	if ((rc = write_full(fd, req, len)) < 0)
		diec(1, -rc, "write to %s", s->name);
	free(req);
	read_reply(fd, s->wire, s->name, buf, sizeof buf, &r);
	close(fd);
	if (!r.ok)
		reply_describe(s->wire, &r, why, whylen);
	return r.ok;
}

/* iomuxd STATUS field 'name' as a string; -ENOENT if absent or refused. */
static int
status_field(const struct server *s, const char *name, char *out,
    size_t outlen)
{
	struct breply	r;

	sync_call(s, IOMUX_OP_STATUS, 0, NULL, &r);
	if (!r.ok)
		return -ENOENT;
	return reply_field(&r, name, out, outlen);
}

/* iomuxd STATUS "clients", or -1 when the daemon does not say. */
static long
status_clients(const struct server *s)
{
	char	buf[32], *end;
	long	v;

	if (status_field(s, "clients", buf, sizeof buf) != 0)
		return -1;
	v = strtol(buf, &end, 10);
	return *end == '\0' && end != buf ? v : -1;
}

/* --- servers -------------------------------------------------------------- */

/* Learn the server's pid (and, for iomuxd, what STATUS says about it). */
static void
server_identify(struct server *s)
{
	int	fd;

	fd = connect_or_die(s, false);
	s->pid = peer_pid(fd);
	close(fd);
	if (s->wire != WIRE_IOMUX)
		return;
	if (status_field(s, "backend", s->backend, sizeof s->backend) != 0)
		snprintf(s->backend, sizeof s->backend, "?");
	if (status_field(s, "version", s->version, sizeof s->version) != 0)
		snprintf(s->version, sizeof s->version, "?");
}

/* Wait (bounded) until a started server accepts connections. */
static void
server_wait(struct server *s)
{
	uint64_t	deadline = now_ns() + BENCH_START_NS;
	int		fd, status;

	for (;;) {
		check_interrupted();
		if ((fd = connect_unix(s->path, false)) >= 0) {
			close(fd);
			return;
		}
		if (waitpid(s->child, &status, WNOHANG) == s->child) {
			child_forget(s->child);
			s->child = -1;
			log_tail(s->log);
			errx(1, "%s exited before accepting connections "
			    "(status %d)", s->name, WIFEXITED(status) ?
			    WEXITSTATUS(status) : 128 + WTERMSIG(status));
		}
		if (now_ns() >= deadline) {
			log_tail(s->log);
			errx(1, "%s not connectable at %s after %llu s",
			    s->name, s->path,
			    (unsigned long long)(BENCH_START_NS / NSEC));
		}
		sleep_ns(NSEC / 100);
	}
}

/* The iomuxd binary: $IOMUXD, else next to this program's build dir. */
static void
find_iomuxd(char *out, size_t outlen)
{
	static const char *const rel[] = {
		"../daemon/iomuxd", "../../daemon/iomuxd"
	};
	const char	*env;
	char		 exe[PATH_MAX], *slash;
	ssize_t		 n;
	size_t		 i;

	if ((env = getenv("IOMUXD")) != NULL && *env != '\0') {
		snprintf(out, outlen, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		for (i = 0; i < sizeof rel / sizeof rel[0]; i++) {
			if (snprintf(out, outlen, "%s/%s", exe, rel[i]) <
			    (int)outlen && access(out, X_OK) == 0)
				return;
		}
	}
	if (access("daemon/iomuxd", X_OK) == 0) {
		snprintf(out, outlen, "daemon/iomuxd");
		return;
	}
	errx(1, "cannot find iomuxd: set $IOMUXD or use --iomuxd-socket");
}

static void
server_init(struct server *s, const char *name, enum wire w)
{
	memset(s, 0, sizeof *s);
	s->name = name;
	s->wire = w;
	s->child = -1;
	s->pid = -1;
}

/* Measure a server already listening at 'path' (not started here). */
static void
server_attach(struct server *s, const char *path)
{
	if (strlen(path) >= sizeof s->path)
		errx(1, "socket path too long: %s", path);
	snprintf(s->path, sizeof s->path, "%s", path);
}

/* Run argv (which listens at s->path) with its output in s->log; wait. */
static void
server_start(struct server *s, const char *const argv[])
{
	s->child = spawn(argv, s->log);
	server_wait(s);
}

/* The server answers: learn who it is and measure it. */
static void
server_ready(struct server *s)
{
	s->up = true;
	server_identify(s);
}

/*
 * Connect to the iomuxd at o->iomuxd_socket, or start one in the temp dir
 * (with max_clients > 0: --max-clients).
 */
static void
iomuxd_setup(struct server *s, const struct opts *o, unsigned max_clients)
{
	const char	*argv[12];
	char		 bin[PATH_MAX], mc[16];
	int		 argc = 0;

	server_init(s, "iomuxd", WIRE_IOMUX);
	if (o->iomuxd_socket != NULL)
		server_attach(s, o->iomuxd_socket);
	else {
		find_iomuxd(bin, sizeof bin);
		tmpdir_make();
		snprintf(s->path, sizeof s->path, "%s/sock", g.tmpdir);
		snprintf(s->log, sizeof s->log, "%s/iomuxd.log", g.tmpdir);
		argv[argc++] = bin;
		argv[argc++] = "-f";
		argv[argc++] = "-s";
		argv[argc++] = s->path;
		if (o->backend != NULL) {
			argv[argc++] = "-b";
			argv[argc++] = o->backend;
		}
		if (max_clients > 0) {
			snprintf(mc, sizeof mc, "%u", max_clients);
			argv[argc++] = "--max-clients";
			argv[argc++] = mc;
		}
		argv[argc] = NULL;
		server_start(s, argv);
	}
	server_ready(s);
}

/*
 * Connect to the Redis at o->redis_socket, or start redis-server in the
 * temp dir if it is in $PATH ($REDIS_SERVER overrides the name). Leaves
 * s->up false when there is no Redis to measure.
 */
static void
redis_setup(struct server *s, const struct opts *o)
{
	const char	*bin, *argv[20];
	int		 argc = 0;

	server_init(s, "redis", WIRE_RESP);
	if (o->no_redis)
		return;
	if (o->redis_socket != NULL)
		server_attach(s, o->redis_socket);
	else {
		if ((bin = getenv("REDIS_SERVER")) == NULL || *bin == '\0')
			bin = "redis-server";
		if (!in_path(bin)) {
			warnx("%s not found: measuring iomuxd alone", bin);
			return;
		}
		tmpdir_make();
		snprintf(s->path, sizeof s->path, "%s/redis.sock", g.tmpdir);
		snprintf(s->log, sizeof s->log, "%s/redis.log", g.tmpdir);
		argv[argc++] = bin;
		argv[argc++] = "--port";
		argv[argc++] = "0";
		argv[argc++] = "--unixsocket";
		argv[argc++] = s->path;
		argv[argc++] = "--unixsocketperm";
		argv[argc++] = "700";
		argv[argc++] = "--save";
		argv[argc++] = "";
		argv[argc++] = "--appendonly";
		argv[argc++] = "no";
		argv[argc++] = "--dir";
		argv[argc++] = g.tmpdir;
		argv[argc++] = "--daemonize";
		argv[argc++] = "no";
		argv[argc] = NULL;
		server_start(s, argv);
	}
	server_ready(s);
}

static void
server_stop(struct server *s)
{
	if (s->child > 0)
		child_stop(s->child);
	s->child = -1;
	s->up = false;
}

/* --- the load generator --------------------------------------------------- */

/*
 * The load loop waits in epoll_wait(2), or with --client-loop poll in
 * poll(2). The choice is not neutral: an fd in an epoll set keeps a
 * wake-up callback on its socket, and every write by the peer runs it, so
 * an epoll client adds to the server's CPU per op (and an epoll server to
 * the client's). A poll(2) waiter is only on the socket's queue while it
 * sleeps. Both servers always face the same loop.
 */
struct load {
	const struct server	*srv;
	const struct req	*rq;
	int			 epfd;		/* -1 with poll(2) */
	struct pollfd		*pfd;		/* NULL with epoll */
	struct bconn		*c;
	unsigned		 n;
	size_t			 incap;
	uint64_t		 ops;
	uint64_t		 last_progress;
	bool			 draining;
};

static void
load_want_out(struct load *l, struct bconn *c, bool on)
{
	struct epoll_event	ev;

	if (c->wantout == on)
		return;
	c->wantout = on;
	if (l->pfd != NULL) {
		l->pfd[c - l->c].events = POLLIN | (on ? POLLOUT : 0);
		return;
	}
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLET | (on ? EPOLLOUT : 0);
	ev.data.ptr = c;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		err(1, "epoll_ctl");
}

/* Write what is left of the batch; wait for EPOLLOUT if the socket is full. */
static void
load_write(struct load *l, struct bconn *c)
{
	ssize_t	n;

	while (c->woff < l->rq->batchlen) {
		n = send(c->fd, l->rq->batch + c->woff,
		    l->rq->batchlen - c->woff, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN)
				break;
			if (errno == EINTR)
				continue;
			err(1, "write to %s", l->srv->name);
		}
		c->woff += (size_t)n;
	}
	load_want_out(l, c, c->woff < l->rq->batchlen);
}

static void
load_start_batch(struct load *l, struct bconn *c)
{
	c->woff = 0;
	c->pending = l->rq->depth;
	c->next_id = 1;
	load_write(l, c);
}

/* Count the replies in c->in; start the next batch when all have come. */
static void
load_consume(struct load *l, struct bconn *c)
{
	struct breply	r;
	char		why[256];
	size_t		off = 0;
	ssize_t		n;

	while (off < c->inlen) {
		n = parse_reply(l->rq->wire, c->in + off, c->inlen - off, &r);
		if (n == 0)
			break;
		if (n < 0)
			errx(1, "%s sent a malformed reply", l->srv->name);
		if (!r.ok) {
			reply_describe(l->rq->wire, &r, why, sizeof why);
			errx(1, "%s answered %s with %s", l->srv->name,
			    bop_names[l->rq->op], why);
		}
		if (c->pending == 0)
			errx(1, "%s sent an unrequested reply", l->srv->name);
		if (l->rq->wire == WIRE_IOMUX && r.id != c->next_id)
			errx(1, "%s: reply id %" PRIu32 ", expected %" PRIu32,
			    l->srv->name, r.id, c->next_id);
		c->next_id++;
		c->pending--;
		l->ops++;
		off += (size_t)n;
	}
	if (off == 0 && c->inlen == l->incap)
		errx(1, "%s: reply larger than %zu bytes", l->srv->name,
		    l->incap);
	if (off > 0) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
		l->last_progress = now_ns();
	}
	if (c->pending == 0 && !l->draining)
		load_start_batch(l, c);
}

/*
 * The client's own CPU is a limit on 2 cores, where it needs about as much
 * kernel time per op as the server: recv(2)/send(2) skip the VFS layer of
 * read(2)/write(2), and edge-triggered epoll skips the re-poll of every
 * fd that was ready on the previous wait. A short read means the socket
 * was drained at that moment (a later arrival raises a new edge), so no
 * recv() is spent on EAGAIN.
 */
static void
load_read(struct load *l, struct bconn *c)
{
	size_t	space;
	ssize_t	n;

	for (;;) {
		space = l->incap - c->inlen;
		n = recv(c->fd, c->in + c->inlen, space, 0);
		if (n == 0)
			errx(1, "%s closed a connection", l->srv->name);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			err(1, "read from %s", l->srv->name);
		}
		c->inlen += (size_t)n;
		load_consume(l, c);
		if ((size_t)n < space)
			return;
	}
}

/* One epoll_wait round, at most timeout_ms. */
static void
load_poll(struct load *l, int timeout_ms)
{
	struct epoll_event	 evs[BENCH_EVENTS];
	struct bconn		*c;
	unsigned		 j;
	int			 n, i;

	if (l->pfd != NULL) {
		if ((n = poll(l->pfd, l->n, timeout_ms)) < 0) {
			if (errno != EINTR)
				err(1, "poll");
			check_interrupted();
			return;
		}
		for (j = 0; j < l->n && n > 0; j++) {
			if (l->pfd[j].revents == 0)
				continue;
			n--;
			c = &l->c[j];
			if (l->pfd[j].revents & (POLLIN | POLLERR | POLLHUP))
				load_read(l, c);
			if ((l->pfd[j].revents & POLLOUT) && c->wantout)
				load_write(l, c);
		}
		return;
	}
	n = epoll_wait(l->epfd, evs, BENCH_EVENTS, timeout_ms);
	if (n < 0) {
		if (errno == EINTR) {
			check_interrupted();
			return;
		}
		err(1, "epoll_wait");
	}
	for (i = 0; i < n; i++) {
		c = evs[i].data.ptr;
		if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			load_read(l, c);
		if ((evs[i].events & EPOLLOUT) && c->wantout)
			load_write(l, c);
	}
}

static void
load_open(struct load *l, const struct server *s, const struct req *rq,
    unsigned nclients)
{
	struct epoll_event	ev;
	unsigned		i;

	memset(l, 0, sizeof *l);
	l->srv = s;
	l->rq = rq;
	l->n = nclients;
	l->incap = 16384;
	if (l->incap < 2 * (g.vsize + 256))
		l->incap = 2 * (g.vsize + 256);
	l->epfd = -1;
	if (g.client_poll) {
		if ((l->pfd = calloc(nclients, sizeof *l->pfd)) == NULL)
			err(1, "calloc");
	} else if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "epoll_create1");
	if ((l->c = calloc(nclients, sizeof *l->c)) == NULL)
		err(1, "calloc");
	for (i = 0; i < nclients; i++) {
		l->c[i].fd = connect_or_die(s, true);
		if ((l->c[i].in = malloc(l->incap)) == NULL)
			err(1, "malloc");
		if (l->pfd != NULL) {
			l->pfd[i].fd = l->c[i].fd;
			l->pfd[i].events = POLLIN;
			continue;
		}
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN | EPOLLET;
		ev.data.ptr = &l->c[i];
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->c[i].fd, &ev) == -1)
			err(1, "epoll_ctl");
	}
}

static void
load_close(struct load *l)
{
	unsigned	i;

	for (i = 0; i < l->n; i++) {
		close(l->c[i].fd);
		free(l->c[i].in);
	}
	free(l->c);
	free(l->pfd);
	if (l->epfd != -1)
		close(l->epfd);
	l->c = NULL;
	l->pfd = NULL;
}

/*
 * Drive 'nclients' connections with the batches of 'rq' for a warm-up and
 * then 'secs' timed seconds. Replies still outstanding at the end are read
 * (bounded) before the connections close, so that no server sees resets.
 */
static void
load_run(const struct server *s, const struct req *rq, unsigned nclients,
    double secs, struct tput *out)
{
	struct load	l;
	uint64_t	t, t0 = 0, start, end, tick0 = 0, tick1, ops0 = 0;
	uint64_t	deadline, next;
	double		cpu0 = 0, cpu;
	bool		timing = false, cpu_ok = false;
	unsigned	i, busy;

	load_open(&l, s, rq, nclients);
	start = now_ns();
	end = start + BENCH_WARMUP_NS + (uint64_t)(secs * NSEC);
	l.last_progress = start;
	for (i = 0; i < l.n; i++)
		load_start_batch(&l, &l.c[i]);
	for (;;) {
		t = now_ns();
		if (!timing && t >= start + BENCH_WARMUP_NS) {
			timing = true;
			t0 = t;
			ops0 = l.ops;
			cpu0 = self_cpu_secs();
			cpu_ok = s->pid > 0 && proc_cpu_ticks(s->pid,
			    &tick0) == 0;
		}
		if (timing && t >= end)
			break;
		if (t - l.last_progress > BENCH_STALL_NS)
			errx(1, "%s stalled: no reply for %llu s", s->name,
			    (unsigned long long)(BENCH_STALL_NS / NSEC));
		next = timing ? end : start + BENCH_WARMUP_NS;
		load_poll(&l, next - t > 100000000 ? 100 :
		    (int)((next - t + 999999) / 1000000));
	}
	out->ops = l.ops - ops0;
	out->secs = (double)(t - t0) / NSEC;
	out->ops_s = out->ops / out->secs;
	cpu = self_cpu_secs() - cpu0;
	out->cli_busy = cpu / out->secs;
	out->cli_us = out->ops > 0 ? cpu * 1e6 / out->ops : -1;
	out->srv_us = out->srv_busy = -1;
	if (cpu_ok && out->ops > 0 && proc_cpu_ticks(s->pid, &tick1) == 0) {
		cpu = (double)(tick1 - tick0) / g.clk_tck;
		out->srv_us = cpu * 1e6 / out->ops;
		out->srv_busy = cpu / out->secs;
	}

	/*
	 * A reply lost during the run would only lower op/s; waiting for
	 * every outstanding one turns it into an error.
	 */
	l.draining = true;
	deadline = now_ns() + BENCH_DRAIN_NS;
	for (;;) {
		for (busy = 0, i = 0; i < l.n; i++)
			busy += l.c[i].pending > 0;
		if (busy == 0)
			break;
		if (now_ns() >= deadline)
			errx(1, "%s: %u connections still wait for replies "
			    "%llu s after the run", s->name, busy,
			    (unsigned long long)(BENCH_DRAIN_NS / NSEC));
		load_poll(&l, 10);
	}
	load_close(&l);
}

/* --- rtt ------------------------------------------------------------------ */

/*
 * Unpipelined round trips on a blocking fd for 'secs' seconds, after a
 * short warm-up; appends latencies to 'lt' and its CPU ticks if known.
 */
static void
rtt_round(int fd, enum wire w, const struct req *rq, const char *who,
    pid_t spid, double secs, struct lat *lt, double *med)
{
	static uint8_t	 buf[BENCH_REPLY_MAX];
	struct breply	 r;
	uint64_t	 t0, t1, warm, deadline, tick0 = 0, tick1, d;
	size_t		 first = lt->n, trips = 0, j;
	double		*v;
	char		 why[256];
	bool		 cpu_ok = false;
	int		 rc;

	warm = now_ns() + BENCH_RTT_WARMUP_NS;
	deadline = warm + (uint64_t)(secs * NSEC);
	for (t1 = now_ns(); t1 < deadline; ) {
		if (!cpu_ok && t1 >= warm && spid > 0)
			cpu_ok = proc_cpu_ticks(spid, &tick0) == 0;
		t0 = now_ns();
		if ((rc = write_full(fd, rq->batch, rq->len)) < 0)
			diec(1, -rc, "write to %s", who);
		read_reply(fd, w, who, buf, sizeof buf, &r);
		t1 = now_ns();
		if (!r.ok) {
			reply_describe(w, &r, why, sizeof why);
			errx(1, "%s answered PING with %s", who, why);
		}
		if (t0 < warm)
			continue;
		trips++;
		if (lt->n < BENCH_SAMPLES_MAX) {
			d = t1 - t0;
			lt->ns[lt->n++] = d > UINT32_MAX ? UINT32_MAX :
			    (uint32_t)d;
		}
		check_interrupted();
	}
	if (cpu_ok && proc_cpu_ticks(spid, &tick1) == 0) {
		lt->srv_ticks += tick1 - tick0;
		lt->trips += trips;
		lt->cpu_known = true;
	}
	*med = 0;
	if (lt->n > first && (v = malloc((lt->n - first) *
	    sizeof *v)) != NULL) {
		for (j = first; j < lt->n; j++)
			v[j - first] = lt->ns[j] / 1000.0;
		*med = median(v, lt->n - first);
		free(v);
	}
}

static void
lat_init(struct lat *lt)
{
	memset(lt, 0, sizeof *lt);
	if ((lt->ns = malloc(BENCH_SAMPLES_MAX * sizeof *lt->ns)) == NULL)
		err(1, "malloc");
}

/* Sort the samples; server CPU per round trip in us, or < 0. */
static double
lat_finish(struct lat *lt)
{
	qsort(lt->ns, lt->n, sizeof *lt->ns, cmp_u32);
	if (!lt->cpu_known || lt->trips == 0)
		return -1;
	return (double)lt->srv_ticks * 1e6 / g.clk_tck / lt->trips;
}

/*
 * The baselines: a forked child that reads a request of exactly 'reqlen'
 * bytes and writes 'reply' back, with blocking read(2)/write(2), over a
 * socketpair: the syscall pattern of a client and a server minus any
 * server logic. With 'use_epoll' the child first waits in epoll_wait(2),
 * as an event-loop server does: the difference between the two is what
 * the epoll mechanism itself costs, and what is left above the second is
 * the server's own code. Returns the child's pid; *fdp is our end.
 */
static pid_t
echo_start(size_t reqlen, const uint8_t *reply, size_t replylen,
    bool use_epoll, int *fdp)
{
	struct epoll_event	ev;
	uint8_t			buf[256];
	size_t			have;
	ssize_t			n;
	pid_t			pid;
	int			sv[2], ep = -1;

	if (reqlen > sizeof buf)
		errx(1, "baseline request too large");
	if (g.nchildren == BENCH_CHILDREN_MAX)
		errx(1, "too many children");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		err(1, "socketpair");
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		pin_server(0);
		close(sv[0]);
		if (use_epoll) {
			memset(&ev, 0, sizeof ev);
			ev.events = EPOLLIN;
			if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
			    epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev) == -1)
				_exit(1);
		}
		for (;;) {
			if (ep != -1 && epoll_wait(ep, &ev, 1, -1) != 1)
				_exit(0);
			for (have = 0; have < reqlen; have += (size_t)n) {
				n = read(sv[1], buf + have, reqlen - have);
				if (n <= 0)
					_exit(0);
			}
			if (write_full(sv[1], reply, replylen) < 0)
				_exit(0);
		}
	}
	close(sv[1]);
	g.children[g.nchildren++] = pid;
	*fdp = sv[0];
	return pid;
}

/* --- output helpers ------------------------------------------------------- */

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* A JSON number, or null when unknown (negative). */
static void
json_num(double v, int prec)
{
	if (v < 0)
		printf("null");
	else
		printf("%.*f", prec, v);
}

static void
json_server(const char *key, const struct server *s)
{
	printf("\"%s\":{\"up\":%s", key, s->up ? "true" : "false");
	if (s->up) {
		printf(",\"socket\":");
		json_str(s->path);
		printf(",\"pid\":%ld,\"started\":%s", (long)s->pid,
		    s->child > 0 ? "true" : "false");
		if (s->wire == WIRE_IOMUX) {
			printf(",\"backend\":");
			json_str(s->backend);
			printf(",\"version\":");
			json_str(s->version);
		}
	}
	printf("}");
}

static void
human_server(const struct server *s)
{
	if (!s->up) {
		printf("  %-7s not measured\n", s->name);
		return;
	}
	printf("  %-7s pid %ld%s", s->name, (long)s->pid,
	    s->child > 0 ? " (started here)" : "");
	if (s->wire == WIRE_IOMUX)
		printf(", version %s, backend %s", s->version, s->backend);
	printf(", %s\n", s->path);
}

static void
human_pin(void)
{
	printf("  client  %s loop", g.client_poll ? "poll" : "epoll");
	if (g.cpu_client == -1)
		printf(", not pinned\n");
	else
		printf(" on CPU %d, servers started here on CPU %d (%s)\n",
		    g.cpu_client, g.cpu_server,
		    g.cpu_client == g.cpu_server ? "same" : "split");
}

static void
json_pin(void)
{
	printf("\"client_loop\":\"%s\",", g.client_poll ? "poll" : "epoll");
	if (g.cpu_client == -1)
		printf("\"pin\":null,");
	else
		printf("\"pin\":{\"client\":%d,\"server\":%d},",
		    g.cpu_client, g.cpu_server);
}

/* "1.23" or "-" if unknown (negative); 16 static buffers, reused in turn. */
static const char *
fmt_num(double v, int prec)
{
	static char	bufs[16][32];
	static int	i;

	i = (i + 1) % 16;
	if (v < 0)
		snprintf(bufs[i], sizeof bufs[i], "-");
	else
		snprintf(bufs[i], sizeof bufs[i], "%.*f", prec, v);
	return bufs[i];
}

/* --- compare -------------------------------------------------------------- */

struct crow {
	enum bop	 op;
	unsigned	 depth;
	bool		 skip;
	char		 note[256];
	struct tput	 r[2][BENCH_ROUNDS_MAX];	/* iomuxd, redis */
	/* Summary: medians over rounds, [0] iomuxd, [1] redis. */
	double		 ops[2], srv_us[2], cli_us[2], srv_busy[2], cli_busy[2];
	double		 ratio, ratio_min, ratio_max, cpu_ratio;
};

/* Above this share of a core, the client and not the server is the limit. */
#define CLIENT_BOUND	0.9

/* The project's target ratio for a row, or 0 when it has none. */
static double
row_target(const struct crow *row)
{
	if (row->depth == 1)
		return TARGET_RATIO_P1;
	if (row->depth == 16)
		return TARGET_RATIO_P16;
	return 0;
}

static double
tput_field(const struct tput *t, enum tfield f)
{
	switch (f) {
	case TF_OPS:
		return t->ops_s;
	case TF_SRV_US:
		return t->srv_us;
	case TF_CLI_US:
		return t->cli_us;
	case TF_SRV_BUSY:
		return t->srv_busy;
	case TF_CLI_BUSY:
		return t->cli_busy;
	}
	return -1;
}

/* Median over rounds of one field, -1 if any round lacks it. */
static double
tput_median(const struct tput *t, unsigned n, enum tfield f)
{
	double		v[BENCH_ROUNDS_MAX], x;
	unsigned	i;

	for (i = 0; i < n; i++) {
		if ((x = tput_field(&t[i], f)) < 0)
			return -1;
		v[i] = x;
	}
	return median(v, n);
}

static void
crow_summarize(struct crow *row, unsigned rounds, bool redis)
{
	double		ratios[BENCH_ROUNDS_MAX];
	unsigned	i, k;

	for (k = 0; k < 2; k++) {
		row->ops[k] = row->srv_us[k] = row->cli_us[k] = -1;
		row->srv_busy[k] = row->cli_busy[k] = -1;
		if (k == 1 && !redis)
			continue;
		row->ops[k] = tput_median(row->r[k], rounds, TF_OPS);
		row->srv_us[k] = tput_median(row->r[k], rounds, TF_SRV_US);
		row->cli_us[k] = tput_median(row->r[k], rounds, TF_CLI_US);
		row->srv_busy[k] = tput_median(row->r[k], rounds,
		    TF_SRV_BUSY);
		row->cli_busy[k] = tput_median(row->r[k], rounds,
		    TF_CLI_BUSY);
	}
	row->ratio = row->ratio_min = row->ratio_max = row->cpu_ratio = -1;
	if (!redis)
		return;
	/* Pair each iomuxd round with the Redis round next to it. */
	for (i = 0; i < rounds; i++)
		ratios[i] = row->r[1][i].ops_s > 0 ?
		    row->r[0][i].ops_s / row->r[1][i].ops_s : 0;
	row->ratio = median(ratios, rounds);
	row->ratio_min = ratios[0];
	row->ratio_max = ratios[rounds - 1];
	if (row->srv_us[0] > 0 && row->srv_us[1] > 0)
		row->cpu_ratio = row->srv_us[1] / row->srv_us[0];
}

/* A share of one core as a percentage, or "-". */
static const char *
fmt_pct(double v)
{
	return fmt_num(v < 0 ? -1 : v * 100, 0);
}

static void
compare_json(const struct opts *o, const struct server *srv,
    const struct crow *rows, size_t nrows)
{
	const struct crow	*row;
	size_t			 i;
	unsigned		 j, k;

	printf("{\"mode\":\"compare\",\"clients\":%u,\"rounds\":%u,"
	    "\"seconds\":%.3f,\"value_size\":%zu,", o->clients, o->rounds,
	    o->seconds, o->vsize);
	json_pin();
	json_server("iomuxd", &srv[0]);
	printf(",");
	json_server("redis", &srv[1]);
	printf(",\"rows\":[");
	for (i = 0; i < nrows; i++) {
		row = &rows[i];
		printf("%s{\"test\":\"%s\",\"pipeline\":%u", i > 0 ? "," : "",
		    bop_names[row->op], row->depth);
		if (row->skip) {
			printf(",\"skipped\":");
			json_str(row->note);
			printf("}");
			continue;
		}
		printf(",\"ratio\":");
		json_num(row->ratio, 3);
		printf(",\"ratio_min\":");
		json_num(row->ratio_min, 3);
		printf(",\"ratio_max\":");
		json_num(row->ratio_max, 3);
		printf(",\"target\":");
		json_num(row_target(row) > 0 ? row_target(row) : -1, 2);
		printf(",\"cpu_ratio\":");
		json_num(row->cpu_ratio, 3);
		for (k = 0; k < 2; k++) {
			printf(",\"%s\":{\"ops_s\":", srv[k].name);
			json_num(row->ops[k], 0);
			printf(",\"cpu_us_per_op\":");
			json_num(row->srv_us[k], 3);
			printf(",\"busy\":");
			json_num(row->srv_busy[k], 3);
			printf(",\"client_cpu_us_per_op\":");
			json_num(row->cli_us[k], 3);
			printf(",\"client_busy\":");
			json_num(row->cli_busy[k], 3);
			printf(",\"rounds_ops_s\":[");
			for (j = 0; j < o->rounds; j++) {
				printf("%s", j > 0 ? "," : "");
				json_num(srv[k].up ? row->r[k][j].ops_s : -1,
				    0);
			}
			printf("]}");
		}
		printf("}");
	}
	printf("]}\n");
}

static void
compare_print(const struct opts *o, const struct server *srv,
    const struct crow *rows, size_t nrows)
{
	const struct crow	*row;
	size_t			 i;
	unsigned		 k;
	double			 tg;
	bool			 bound = false;

	if (o->json) {
		compare_json(o, srv, rows, nrows);
		return;
	}
	printf("iomux-bench compare: %u clients, %u rounds of %.1f s "
	    "(order ABBA), value %zu bytes\n", o->clients, o->rounds,
	    o->seconds, o->vsize);
	for (k = 0; k < 2; k++)
		human_server(&srv[k]);
	human_pin();
	printf("\n%-5s %5s %12s %12s %7s %11s %8s\n", "test", "depth",
	    "iomuxd op/s", "redis op/s", "ratio", "min-max", "target");
	for (i = 0; i < nrows; i++) {
		row = &rows[i];
		if (row->skip) {
			printf("%-5s %5u  skipped: %s\n", bop_names[row->op],
			    row->depth, row->note);
			continue;
		}
		tg = row_target(row);
		printf("%-5s %5u %12s %12s %6sx %5s-%-5s %4s %-4s\n",
		    bop_names[row->op], row->depth,
		    fmt_num(row->ops[0], 0), fmt_num(row->ops[1], 0),
		    fmt_num(row->ratio, 2), fmt_num(row->ratio_min, 2),
		    fmt_num(row->ratio_max, 2), tg > 0 ? fmt_num(tg, 1) : "",
		    tg > 0 && row->ratio >= 0 ?
		    (row->ratio >= tg ? "ok" : "MISS") : "");
	}
	printf("\nserver CPU (utime+stime) per op, and share of one core "
	    "busy; client = this tool:\n");
	printf("%-5s %5s %9s %9s %9s %7s %7s %15s\n", "test", "depth",
	    "iomuxd us", "redis us", "cpu ratio", "iomuxd", "redis",
	    "client (i / r)");
	for (i = 0; i < nrows; i++) {
		row = &rows[i];
		if (row->skip)
			continue;
		for (k = 0; k < 2; k++)
			if (row->cli_busy[k] >= CLIENT_BOUND)
				bound = true;
		printf("%-5s %5u %9s %9s %8sx %6s%% %6s%% %6s%% / %3s%%\n",
		    bop_names[row->op], row->depth,
		    fmt_num(row->srv_us[0], 2), fmt_num(row->srv_us[1], 2),
		    fmt_num(row->cpu_ratio, 2), fmt_pct(row->srv_busy[0]),
		    fmt_pct(row->srv_busy[1]), fmt_pct(row->cli_busy[0]),
		    fmt_pct(row->cli_busy[1]));
	}
	printf("\nratio = median over rounds of iomuxd/redis op/s, each "
	    "round's pair run back to back;\ncpu ratio = redis/iomuxd CPU "
	    "per op (higher: iomuxd cheaper).\n");
	if (bound)
		printf("note: the client was >= %.0f%% busy in some rows: "
		    "there the client, not the\nserver, sets the pace, and "
		    "the op/s ratio understates the faster server's lead\n"
		    "(see cpu ratio).\n", CLIENT_BOUND * 100);
}

static void
cmd_compare(const struct opts *o)
{
	struct server	 srv[2];
	struct crow	*rows;
	struct req	 rq[2];
	size_t		 nrows = 0, i;
	unsigned	 depths[2], nd, d, op, round, k, which;
	enum bop	 probe;
	bool		 skip_op[BOP_COUNT];
	char		 why[256];

	iomuxd_setup(&srv[0], o, 0);
	redis_setup(&srv[1], o);
	if (!probe_op(&srv[0], BOP_PING, why, sizeof why))
		errx(1, "iomuxd answered PING with %s", why);

	memset(skip_op, 0, sizeof skip_op);
	if ((rows = calloc(BOP_COUNT * 2, sizeof *rows)) == NULL)
		err(1, "calloc");
	depths[0] = 1;
	depths[1] = o->depth;
	nd = o->depth > 1 ? 2 : 1;
	for (op = 0; op < BOP_COUNT; op++) {
		if (!(o->tests & (1u << op)))
			continue;
		/*
		 * An op iomuxd does not know (EUNKNOWN) or refuses is a
		 * skipped row, not an error. GET needs the key SET first.
		 */
		why[0] = '\0';
		probe = op == BOP_GET ? BOP_SET : (enum bop)op;
		if (!probe_op(&srv[0], probe, why, sizeof why) ||
		    (probe != op && !probe_op(&srv[0], (enum bop)op, why,
		    sizeof why)))
			skip_op[op] = true;
		if (!skip_op[op] && srv[1].up && probe != op &&
		    !probe_op(&srv[1], probe, why, sizeof why))
			errx(1, "redis answered SET with %s", why);
		for (d = 0; d < nd; d++) {
			rows[nrows].op = (enum bop)op;
			rows[nrows].depth = depths[d];
			rows[nrows].skip = skip_op[op];
			if (skip_op[op])
				snprintf(rows[nrows].note,
				    sizeof rows[nrows].note,
				    "iomuxd answered %s with %s",
				    bop_names[probe], why);
			nrows++;
		}
	}

	for (round = 0; round < o->rounds; round++) {
		for (i = 0; i < nrows; i++) {
			if (rows[i].skip)
				continue;
			for (k = 0; k < 2; k++)
				req_build(&rq[k], srv[k].wire, rows[i].op,
				    rows[i].depth);
			/* ABBA: alternate who goes first, to cancel drift. */
			for (k = 0; k < 2; k++) {
				which = (round % 2 == 0) ? k : 1 - k;
				if (!srv[which].up)
					continue;
				load_run(&srv[which], &rq[which], o->clients,
				    o->seconds, &rows[i].r[which][round]);
			}
			progress("round %u/%u %s P%u: iomuxd %.0f op/s, "
			    "redis %s op/s", round + 1, o->rounds,
			    bop_names[rows[i].op], rows[i].depth,
			    rows[i].r[0][round].ops_s, srv[1].up ?
			    fmt_num(rows[i].r[1][round].ops_s, 0) : "-");
			for (k = 0; k < 2; k++)
				req_free(&rq[k]);
		}
	}
	for (i = 0; i < nrows; i++)
		if (!rows[i].skip)
			crow_summarize(&rows[i], o->rounds, srv[1].up);
	compare_print(o, srv, rows, nrows);
	free(rows);
	server_stop(&srv[1]);
	server_stop(&srv[0]);
}

/* --- rtt ------------------------------------------------------------------ */

#define RTT_SOCKETPAIR	0
#define RTT_EPOLL	1
#define RTT_IOMUXD	2
#define RTT_REDIS	3
#define RTT_TARGETS	4

static void
cmd_rtt(const struct opts *o)
{
	static const char *const names[RTT_TARGETS] = {
		"socketpair", "epoll-echo", "iomuxd", "redis"
	};
	struct server	 srv[2];
	struct lat	 lt[RTT_TARGETS];
	struct req	 rq[RTT_TARGETS];
	double		 cpu[RTT_TARGETS], med[RTT_TARGETS], p99[RTT_TARGETS];
	double		 rr[BENCH_ROUNDS_MAX], ratio, ratio_p99, ratio_ep;
	uint8_t		 reply[IOMUX_LEN_SIZE + IOMUX_BODY_HDR_SIZE];
	int		 fd[RTT_TARGETS];
	pid_t		 spid[RTT_TARGETS];
	unsigned	 round, i, t;
	char		 why[256];

	iomuxd_setup(&srv[0], o, 0);
	redis_setup(&srv[1], o);
	if (!probe_op(&srv[0], BOP_PING, why, sizeof why))
		errx(1, "iomuxd answered PING with %s", why);

	req_build(&rq[RTT_SOCKETPAIR], WIRE_IOMUX, BOP_PING, 1);
	req_build(&rq[RTT_EPOLL], WIRE_IOMUX, BOP_PING, 1);
	req_build(&rq[RTT_IOMUXD], WIRE_IOMUX, BOP_PING, 1);
	req_build(&rq[RTT_REDIS], WIRE_RESP, BOP_PING, 1);
	/* The baselines answer with the reply iomuxd sends to PING. */
	put_u32(reply, IOMUX_BODY_HDR_SIZE);
	reply[4] = IOMUX_PROTO_VERSION;
	reply[5] = IOMUX_KIND_REPLY;
	put_u16(reply + 6, IOMUX_ST_OK);
	put_u32(reply + 8, 1);
	put_u16(reply + 12, 0);
	spid[RTT_SOCKETPAIR] = echo_start(rq[RTT_SOCKETPAIR].len, reply,
	    sizeof reply, false, &fd[RTT_SOCKETPAIR]);
	spid[RTT_EPOLL] = echo_start(rq[RTT_EPOLL].len, reply, sizeof reply,
	    true, &fd[RTT_EPOLL]);
	fd[RTT_IOMUXD] = connect_or_die(&srv[0], false);
	spid[RTT_IOMUXD] = srv[0].pid;
	fd[RTT_REDIS] = -1;
	spid[RTT_REDIS] = -1;
	if (srv[1].up) {
		fd[RTT_REDIS] = connect_or_die(&srv[1], false);
		spid[RTT_REDIS] = srv[1].pid;
	}
	for (t = 0; t < RTT_TARGETS; t++)
		lat_init(&lt[t]);

	for (round = 0; round < o->rounds; round++) {
		for (i = 0; i < RTT_TARGETS; i++) {
			/* Rotate the order so no target always goes first. */
			t = (i + round) % RTT_TARGETS;
			if (fd[t] == -1)
				continue;
			rtt_round(fd[t], rq[t].wire, &rq[t], names[t],
			    spid[t], o->seconds, &lt[t],
			    &lt[t].round_med[round]);
		}
		progress("round %u/%u: median us: socketpair %.2f, "
		    "epoll-echo %.2f, iomuxd %.2f, redis %s", round + 1,
		    o->rounds, lt[RTT_SOCKETPAIR].round_med[round],
		    lt[RTT_EPOLL].round_med[round],
		    lt[RTT_IOMUXD].round_med[round],
		    fd[RTT_REDIS] != -1 ?
		    fmt_num(lt[RTT_REDIS].round_med[round], 2) : "-");
	}
	for (t = 0; t < RTT_TARGETS; t++) {
		cpu[t] = lat_finish(&lt[t]);
		med[t] = lt[t].n > 0 ? quantile_us(lt[t].ns, lt[t].n, 0.5) :
		    -1;
		p99[t] = lt[t].n > 0 ? quantile_us(lt[t].ns, lt[t].n, 0.99) :
		    -1;
	}
	/*
	 * Headline ratios compare the medians of all samples; the spread of
	 * the per-round ratios (each round's targets run back to back)
	 * shows how much to trust them.
	 */
	ratio = med[RTT_SOCKETPAIR] > 0 ? med[RTT_IOMUXD] /
	    med[RTT_SOCKETPAIR] : -1;
	ratio_ep = med[RTT_EPOLL] > 0 ? med[RTT_IOMUXD] / med[RTT_EPOLL] : -1;
	ratio_p99 = p99[RTT_SOCKETPAIR] > 0 ?
	    p99[RTT_IOMUXD] / p99[RTT_SOCKETPAIR] : -1;
	for (round = 0; round < o->rounds; round++)
		rr[round] = lt[RTT_SOCKETPAIR].round_med[round] > 0 ?
		    lt[RTT_IOMUXD].round_med[round] /
		    lt[RTT_SOCKETPAIR].round_med[round] : 0;
	qsort(rr, o->rounds, sizeof rr[0], cmp_double);

	if (o->json) {
		printf("{\"mode\":\"rtt\",\"rounds\":%u,\"seconds\":%.3f,",
		    o->rounds, o->seconds);
		json_pin();
		json_server("iomuxd", &srv[0]);
		printf(",");
		json_server("redis", &srv[1]);
		printf(",\"targets\":{");
		for (t = 0; t < RTT_TARGETS; t++) {
			printf("%s\"%s\":{\"samples\":%zu,\"median_us\":",
			    t ? "," : "", names[t], lt[t].n);
			json_num(med[t], 3);
			printf(",\"p99_us\":");
			json_num(p99[t], 3);
			printf(",\"server_cpu_us_per_rtt\":");
			json_num(cpu[t], 3);
			printf("}");
		}
		printf("},\"ratio_iomuxd_socketpair\":");
		json_num(ratio, 3);
		printf(",\"ratio_min\":");
		json_num(rr[0], 3);
		printf(",\"ratio_max\":");
		json_num(rr[o->rounds - 1], 3);
		printf(",\"ratio_p99\":");
		json_num(ratio_p99, 3);
		printf(",\"ratio_iomuxd_epoll_echo\":");
		json_num(ratio_ep, 3);
		printf(",\"target\":%.2f}\n", TARGET_RTT_RATIO);
	} else {
		printf("iomux-bench rtt: one client, unpipelined PING, "
		    "%u rounds of %.1f s per target\n", o->rounds,
		    o->seconds);
		human_server(&srv[0]);
		human_server(&srv[1]);
		human_pin();
		printf("  baselines: echo children pid %ld (blocking read), "
		    "%ld (epoll_wait, read)\n\n", (long)spid[RTT_SOCKETPAIR],
		    (long)spid[RTT_EPOLL]);
		printf("%-11s %9s %10s %10s %12s %14s\n", "target", "samples",
		    "median us", "p99 us", "vs socketpair", "server us/rtt");
		for (t = 0; t < RTT_TARGETS; t++) {
			if (fd[t] == -1)
				continue;
			printf("%-11s %9zu %10s %10s %12sx %14s\n", names[t],
			    lt[t].n, fmt_num(med[t], 2), fmt_num(p99[t], 2),
			    fmt_num(med[RTT_SOCKETPAIR] > 0 ?
			    med[t] / med[RTT_SOCKETPAIR] : -1, 2),
			    fmt_num(cpu[t], 2));
		}
		printf("\niomuxd/socketpair: %sx median (rounds %s-%s), %sx "
		    "p99; target <= %.2fx: %s\n", fmt_num(ratio, 2),
		    fmt_num(rr[0], 2), fmt_num(rr[o->rounds - 1], 2),
		    fmt_num(ratio_p99, 2), TARGET_RTT_RATIO,
		    ratio >= 0 && ratio <= TARGET_RTT_RATIO ? "ok" : "MISS");
		printf("iomuxd/epoll-echo: %sx median: what the daemon adds "
		    "to any epoll server\n", fmt_num(ratio_ep, 2));
	}

	for (t = 0; t < RTT_TARGETS; t++) {
		if (fd[t] != -1)
			close(fd[t]);
		free(lt[t].ns);
		req_free(&rq[t]);
	}
	child_stop(spid[RTT_EPOLL]);
	child_stop(spid[RTT_SOCKETPAIR]);
	server_stop(&srv[1]);
	server_stop(&srv[0]);
}

/* --- idle ----------------------------------------------------------------- */

/* Raise RLIMIT_NOFILE's soft limit towards 'want'; returns what we got. */
static rlim_t
raise_nofile(rlim_t want)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "getrlimit");
	if (rl.rlim_cur >= want)
		return rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ?
	    want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "setrlimit");
	return rl.rlim_cur;
}

/*
 * Wait (bounded) until iomuxd's STATUS says 'clients' is at least (more)
 * or at most (!more) 'want'. STATUS counts its own connection, so the
 * caller includes it. Returns false if STATUS cannot tell.
 */
static bool
idle_settle(const struct server *s, long want, bool more)
{
	uint64_t	deadline = now_ns() + BENCH_SETTLE_NS;
	long		n;

	for (;;) {
		check_interrupted();
		if ((n = status_clients(s)) < 0)
			return false;
		if (more ? n >= want : n <= want)
			return true;
		if (now_ns() >= deadline)
			errx(1, "iomuxd reports %ld clients after %llu s, "
			    "expected %s%ld", n,
			    (unsigned long long)(BENCH_SETTLE_NS / NSEC),
			    more ? ">= " : "<= ", want);
		sleep_ns(NSEC / 50);
	}
}

static void
cmd_idle(const struct opts *o)
{
	struct server	 srv;
	struct req	 ping;
	struct tput	 tp[2][BENCH_ROUNDS_MAX];
	struct lat	 lt[2];
	double		 med[2], p99[2], ops[2], rmed[2][BENCH_ROUNDS_MAX];
	double		 v[BENCH_ROUNDS_MAX], tratio = -1, per_conn = -1;
	uint64_t	 rss0 = 0, rss1 = 0;
	rlim_t		 lim;
	unsigned	 n = o->idle, round, k, i;
	long		 base;
	bool		 known = true, rss_ok = false;
	int		*idle, fd;
	char		 why[256];

	/* select(2) cannot watch fds past FD_SETSIZE. */
	if (o->iomuxd_socket == NULL && o->backend != NULL &&
	    strcmp(o->backend, "select") == 0 &&
	    n + o->clients + 64 > FD_SETSIZE) {
		n = FD_SETSIZE - o->clients - 64;
		warnx("select backend: %u idle connections (FD_SETSIZE)", n);
	}
	lim = raise_nofile(n + o->clients + 256);
	if (lim < n + o->clients + 64) {
		n = (unsigned)lim - o->clients - 64;
		warnx("RLIMIT_NOFILE is %llu: %u idle connections",
		    (unsigned long long)lim, n);
	}
	iomuxd_setup(&srv, o, n + o->clients + 16);
	if (!probe_op(&srv, BOP_PING, why, sizeof why))
		errx(1, "iomuxd answered PING with %s", why);
	if (strcmp(srv.backend, "select") == 0 &&
	    n + o->clients + 64 > FD_SETSIZE) {
		n = FD_SETSIZE - o->clients - 64;
		warnx("select backend: %u idle connections (FD_SETSIZE)", n);
	}
	if ((idle = calloc(n, sizeof *idle)) == NULL)
		err(1, "calloc");
	req_build(&ping, WIRE_IOMUX, BOP_PING, 1);
	lat_init(&lt[0]);
	lat_init(&lt[1]);

	/* k = 0: without idle connections, k = 1: with them. */
	for (round = 0; round < o->rounds; round++) {
		for (k = 0; k < 2; k++) {
			if (k == 1) {
				base = status_clients(&srv);
				if (!rss_ok && srv.pid > 0)
					rss_ok = proc_rss(srv.pid, &rss0) == 0;
				for (i = 0; i < n; i++) {
					if ((fd = connect_unix(srv.path,
					    false)) < 0)
						diec(1, -fd, "idle connection "
						    "%u of %u", i + 1, n);
					idle[i] = fd;
				}
				if (base >= 0 && !idle_settle(&srv, base + n,
				    true))
					known = false;
				if (base < 0)
					known = false;
				if (!known)
					sleep_ns(NSEC / 2);
				if (rss_ok && rss1 == 0 &&
				    proc_rss(srv.pid, &rss1) != 0)
					rss_ok = false;
			}
			fd = connect_or_die(&srv, false);
			rtt_round(fd, WIRE_IOMUX, &ping, "iomuxd", srv.pid,
			    o->seconds / 2, &lt[k], &rmed[k][round]);
			close(fd);
			load_run(&srv, &ping, o->clients, o->seconds / 2,
			    &tp[k][round]);
			if (k == 1) {
				base = status_clients(&srv);
				for (i = 0; i < n; i++)
					close(idle[i]);
				if (base >= 0)
					idle_settle(&srv, base - n, false);
				else
					sleep_ns(NSEC / 2);
			}
		}
		progress("round %u/%u: rtt median us %.2f -> %.2f, "
		    "%u clients %.0f -> %.0f op/s", round + 1, o->rounds,
		    rmed[0][round], rmed[1][round], o->clients,
		    tp[0][round].ops_s, tp[1][round].ops_s);
	}
	for (k = 0; k < 2; k++) {
		lat_finish(&lt[k]);
		med[k] = quantile_us(lt[k].ns, lt[k].n, 0.5);
		p99[k] = quantile_us(lt[k].ns, lt[k].n, 0.99);
		ops[k] = tput_median(tp[k], o->rounds, TF_OPS);
	}
	for (round = 0; round < o->rounds; round++)
		v[round] = tp[0][round].ops_s > 0 ?
		    tp[1][round].ops_s / tp[0][round].ops_s : 0;
	tratio = median(v, o->rounds);
	if (rss_ok && n > 0)
		per_conn = rss1 >= rss0 ? (double)(rss1 - rss0) / n : 0;

	if (o->json) {
		printf("{\"mode\":\"idle\",\"idle_connections\":%u,"
		    "\"clients\":%u,\"rounds\":%u,\"seconds\":%.3f,", n,
		    o->clients, o->rounds, o->seconds);
		json_pin();
		json_server("iomuxd", &srv);
		printf(",\"accept_confirmed\":%s", known ? "true" : "false");
		for (k = 0; k < 2; k++) {
			printf(",\"%s\":{\"rtt_median_us\":", k ? "with_idle" :
			    "without_idle");
			json_num(med[k], 3);
			printf(",\"rtt_p99_us\":");
			json_num(p99[k], 3);
			printf(",\"ops_s\":");
			json_num(ops[k], 0);
			printf(",\"cpu_us_per_op\":");
			json_num(tput_median(tp[k], o->rounds, TF_SRV_US), 3);
			printf("}");
		}
		printf(",\"rtt_ratio\":");
		json_num(med[0] > 0 ? med[1] / med[0] : -1, 3);
		printf(",\"ops_ratio\":");
		json_num(tratio, 3);
		printf(",\"rss_before\":");
		json_num(rss_ok ? (double)rss0 : -1, 0);
		printf(",\"rss_after\":");
		json_num(rss_ok ? (double)rss1 : -1, 0);
		printf(",\"rss_bytes_per_conn\":");
		json_num(per_conn, 1);
		printf(",\"target_bytes_per_conn\":%d}\n", TARGET_IDLE_BYTES);
	} else {
		printf("iomux-bench idle: %u idle connections, %u rounds, "
		    "%.1f s rtt + %.1f s with %u clients per phase\n", n,
		    o->rounds, o->seconds / 2, o->seconds / 2, o->clients);
		human_server(&srv);
		human_pin();
		if (!known)
			printf("  (STATUS has no clients count: could not "
			    "confirm all were accepted)\n");
		printf("\n%-22s %14s %14s %8s\n", "", "without idle",
		    "with idle", "ratio");
		printf("%-22s %14s %14s %7sx\n", "PING rtt median us",
		    fmt_num(med[0], 2), fmt_num(med[1], 2),
		    fmt_num(med[0] > 0 ? med[1] / med[0] : -1, 3));
		printf("%-22s %14s %14s %7sx\n", "PING rtt p99 us",
		    fmt_num(p99[0], 2), fmt_num(p99[1], 2),
		    fmt_num(p99[0] > 0 ? p99[1] / p99[0] : -1, 3));
		printf("%-14s%3u clients %14s %14s %7sx\n", "PING op/s,",
		    o->clients, fmt_num(ops[0], 0), fmt_num(ops[1], 0),
		    fmt_num(tratio, 3));
		printf("%-22s %14s %14s\n", "daemon us/op",
		    fmt_num(tput_median(tp[0], o->rounds, TF_SRV_US), 2),
		    fmt_num(tput_median(tp[1], o->rounds, TF_SRV_US), 2));
		if (rss_ok)
			printf("\ndaemon RSS %.1f MiB -> %.1f MiB: %.0f bytes "
			    "per idle connection; target <= %d: %s\n",
			    rss0 / 1048576.0, rss1 / 1048576.0, per_conn,
			    TARGET_IDLE_BYTES, per_conn <= TARGET_IDLE_BYTES ?
			    "ok" : "MISS");
		else
			printf("\ndaemon RSS: unknown (no /proc/<pid>)\n");
	}

	free(lt[0].ns);
	free(lt[1].ns);
	req_free(&ping);
	free(idle);
	server_stop(&srv);
}

/* --- main ----------------------------------------------------------------- */

/* Usage on stdout for -h (exit 0), else on stderr (exit 2). */
static void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: iomux-bench compare [-c clients] [-P depth] [-d secs] "
	    "[-r rounds]\n"
	    "                           [-t ping,get,set] [options]\n"
	    "       iomux-bench rtt [-d secs] [-r rounds] [options]\n"
	    "       iomux-bench idle [-n conns] [-c clients] [-d secs] "
	    "[-r rounds] [options]\n"
	    "options: [--iomuxd-socket PATH] [--redis-socket PATH] "
	    "[--no-redis]\n"
	    "         [--backend NAME] [--value-size BYTES] [--pin MODE]\n"
	    "         [--client-loop epoll|poll] [--json] [-v]\n");
	exit(status);
}

static unsigned long
num_arg(const char *name, const char *s, unsigned long lo, unsigned long hi)
{
	unsigned long	v;
	char		*end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi ||
	    s[0] == '-')
		errx(2, "%s must be %lu..%lu: %s", name, lo, hi, s);
	return v;
}

static unsigned
tests_arg(const char *s)
{
	char		 buf[64], *tok, *p;
	unsigned	 mask = 0, op;

	if (strlen(s) >= sizeof buf)
		errx(2, "bad test list: %s", s);
	snprintf(buf, sizeof buf, "%s", s);
	for (p = buf; (tok = strsep(&p, ",")) != NULL; ) {
		for (op = 0; op < BOP_COUNT; op++)
			if (strcasecmp(tok, bop_names[op]) == 0)
				break;
		if (op == BOP_COUNT)
			errx(2, "unknown test %s (ping, get, set)", tok);
		mask |= 1u << op;
	}
	return mask;
}

int
main(int argc, char *argv[])
{
	enum {
		O_ISOCK = 256, O_RSOCK, O_NOREDIS, O_BACKEND, O_VSIZE, O_JSON,
		O_PIN, O_LOOP
	};
	static const struct option longopts[] = {
		{ "iomuxd-socket", required_argument, NULL, O_ISOCK },
		{ "redis-socket", required_argument, NULL, O_RSOCK },
		{ "no-redis", no_argument, NULL, O_NOREDIS },
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "value-size", required_argument, NULL, O_VSIZE },
		{ "json", no_argument, NULL, O_JSON },
		{ "pin", required_argument, NULL, O_PIN },
		{ "client-loop", required_argument, NULL, O_LOOP },
		{ "clients", required_argument, NULL, 'c' },
		{ "pipeline", required_argument, NULL, 'P' },
		{ "seconds", required_argument, NULL, 'd' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "idle", required_argument, NULL, 'n' },
		{ "tests", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct sigaction	 sa;
	struct opts		 o;
	const char		*mode;
	char			*end;
	int			 ch;

	memset(&o, 0, sizeof o);
	o.clients = 50;
	o.depth = 16;
	o.seconds = 2;
	o.rounds = 3;
	o.idle = 10000;
	o.vsize = 3;
	o.tests = (1u << BOP_COUNT) - 1;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0))
		usage(0);
	if (argc < 2 || argv[1][0] == '-')
		usage(2);
	mode = argv[1];
	argv[1] = argv[0];
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "c:d:hn:P:r:t:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.clients = (unsigned)num_arg("clients", optarg, 1,
			    BENCH_CLIENTS_MAX);
			break;
		case 'P':
			o.depth = (unsigned)num_arg("depth", optarg, 1,
			    BENCH_DEPTH_MAX);
			break;
		case 'd':
			o.seconds = strtod(optarg, &end);
			if (end == optarg || *end != '\0' ||
			    !(o.seconds >= 0.1 &&
			    o.seconds <= BENCH_SECONDS_MAX))
				errx(2, "seconds must be 0.1..%.0f: %s",
				    BENCH_SECONDS_MAX, optarg);
			break;
		case 'r':
			o.rounds = (unsigned)num_arg("rounds", optarg, 1,
			    BENCH_ROUNDS_MAX);
			break;
		case 'n':
			o.idle = (unsigned)num_arg("idle connections", optarg,
			    1, BENCH_IDLE_MAX);
			break;
		case 't':
			o.tests = tests_arg(optarg);
			break;
		case 'v':
			o.verbose++;
			break;
		case O_ISOCK:
			o.iomuxd_socket = optarg;
			break;
		case O_RSOCK:
			o.redis_socket = optarg;
			break;
		case O_NOREDIS:
			o.no_redis = true;
			break;
		case O_BACKEND:
			o.backend = optarg;
			break;
		case O_VSIZE:
			o.vsize = num_arg("value size", optarg, 1,
			    BENCH_VALUE_MAX);
			break;
		case O_JSON:
			o.json = true;
			break;
		case O_LOOP:
			if (strcmp(optarg, "poll") == 0)
				g.client_poll = true;
			else if (strcmp(optarg, "epoll") != 0)
				errx(2, "--client-loop must be epoll or poll: %s",
				    optarg);
			break;
		case O_PIN:
			if (strcmp(optarg, "none") == 0)
				o.pin = PIN_NONE;
			else if (strcmp(optarg, "same") == 0)
				o.pin = PIN_SAME;
			else if (strcmp(optarg, "split") == 0)
				o.pin = PIN_SPLIT;
			else
				errx(2, "--pin must be split, same or none: %s",
				    optarg);
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (o.backend != NULL && o.iomuxd_socket != NULL)
		errx(2, "--backend applies only to an iomuxd started here");

	g.clk_tck = sysconf(_SC_CLK_TCK);
	if (g.clk_tck <= 0)
		g.clk_tck = 100;
	g.progress = o.verbose > 0 || isatty(STDERR_FILENO);
	if (o.pin == PIN_DEFAULT)
		o.pin = strcmp(mode, "rtt") == 0 ? PIN_SAME : PIN_SPLIT;
	pin_init(o.pin);
	g.vsize = o.vsize;
	if ((g.value = malloc(o.vsize)) == NULL)
		err(1, "malloc");
	memset(g.value, 'x', o.vsize);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (atexit(cleanup) != 0)
		errx(1, "atexit");

	if (strcmp(mode, "compare") == 0)
		cmd_compare(&o);
	else if (strcmp(mode, "rtt") == 0)
		cmd_rtt(&o);
	else if (strcmp(mode, "idle") == 0)
		cmd_idle(&o);
	else
		usage(2);
	free(g.value);
	return 0;
}
