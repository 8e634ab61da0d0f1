/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * client.c: libiomux, the client side of the iomuxd protocol (iomux.h).
 *
 * A struct iomux_client owns one non-blocking, close-on-exec socket, an
 * input and an output struct buf, and the argument arrays that reply views
 * are built in. Nothing is global: two clients share no state, so distinct
 * clients may be used from distinct threads, but one client must only be
 * used by one thread at a time.
 *
 * Invariants:
 * - The input buffer's limit is frame_max + 4: a complete frame always fits
 *   once the frames before it are consumed, and a length prefix over the
 *   limit is refused by proto_peek_len() before any of its body is read.
 * - The frame returned by iomux_next()/iomux_recv()/iomux_call() stays in
 *   the input buffer ('pending' bytes) until the next call that reads, so
 *   the argv views handed out point at live bytes until then.
 * - 'outstanding' counts requests queued by iomux_send() whose reply has
 *   not been returned yet. iomux_call() refuses to run while it is not
 *   zero: the reply it would read first belongs to someone else.
 * - After end of stream or a malformed frame the client is dead: every
 *   later I/O call fails with the same error and message.
 * - Every wait is bounded by one deadline per public call (monotonic
 *   clock), not per syscall; EINTR is retried with the time that is left.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "codec.h"
#include "iomux-proto.h"
#include "iomux.h"

/* The library is built with -fvisibility=hidden; libiomux.sym lists these. */
#define EXPORT		__attribute__((visibility("default")))

#define ERRMSG_MAX	256	/* sentences in iomux_errmsg() */
#define PEER_MAX	256	/* path or HOST:PORT kept for messages */
#define READ_CHUNK	16384	/* bytes asked of one recv(2) at least */
#define BUF_KEEP	65536	/* free buffers larger than this when idle */
#define OUT_FRAMES	4	/* output buffer: this many full frames */
#define UNIX_RETRY_MS	10	/* AF_UNIX connect with a full backlog */
#define CLIENT_NAME	"libiomux"
#define TOKEN_FILE_MAX	256	/* bytes of a token file read at most */
#define TOKEN_SYSTEM	"/run/iomuxd/"	/* root's socket directory */

/*
 * Where the daemon's token may be, relative to the directory of the
 * default socket and then to TOKEN_SYSTEM: where iomuxd writes it by
 * default (iomuxd.conf(5), token_file).
 */
static const char *const token_names[] = { "tcp/token" };
#define NTOKEN_NAMES	(sizeof(token_names) / sizeof(token_names[0]))

struct iomux_client {
	int			 fd;
	int			 timeout_ms;	/* < 0: wait forever */
	uint32_t		 frame_max;
	uint32_t		 next_id;
	uint32_t		 outstanding;	/* sent, reply not yet seen */
	int			 dead;		/* -errno once unusable */
	size_t			 pending;	/* bytes of the returned frame */
	struct buf		 in;
	struct buf		 out;
	/* Reply views: grown to the largest argc seen, at most ARGS_MAX. */
	struct proto_arg	*pargs;
	struct iomux_value	*vargs;
	size_t			 args_cap;
	iomux_push_cb		*push_cb;
	void			*push_arg;
	uint64_t		 pushes_dropped;
	char			 peer[PEER_MAX];
	char			 errmsg[ERRMSG_MAX];
};

/* Monotonic now in nanoseconds. */
static int64_t
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Absolute deadline for a timeout in ms; -1 means none. */
static int64_t
deadline_of(int timeout_ms)
{
	if (timeout_ms < 0)
		return -1;
	return now_ns() + (int64_t)timeout_ms * 1000000;
}

/*
 * Milliseconds left for poll(2), rounded up so that poll never returns
 * just before the deadline and makes us spin: -1 for no deadline, 0 once
 * it has passed.
 */
static int
remaining_ms(int64_t deadline)
{
	int64_t	 left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ns();
	if (left <= 0)
		return 0;
	left = (left + 999999) / 1000000;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* Format a message into buf (may be NULL) and return err. */
static int
fmt_err(char *buf, size_t len, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int
fmt_err(char *buf, size_t len, int err, const char *fmt, ...)
{
	va_list	 ap;

	if (buf != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(buf, len, fmt, ap);
		va_end(ap);
	}
	return err;
}

#define set_err(c, err, ...) \
	fmt_err((c)->errmsg, sizeof((c)->errmsg), (err), __VA_ARGS__)

/* strerror(3) is not thread-safe; this is (GNU strerror_r). */
static const char *
errstr(int err, char *buf, size_t len)
{
	return strerror_r(err < 0 ? -err : err, buf, len);
}

/* The sentence for a failed connect to 'peer'; returns err. */
static int
connect_err(char *msg, size_t len, int err, const char *peer)
{
	char	 eb[128];

	switch (err) {
	case -ENOENT:
	case -ECONNREFUSED:
		return fmt_err(msg, len, err, "iomuxd is not running at %s",
		    peer);
	case -EACCES:
	case -EPERM:
		return fmt_err(msg, len, -EACCES,
		    "permission denied connecting to %s", peer);
	case -ETIMEDOUT:
		return fmt_err(msg, len, err, "timed out connecting to %s",
		    peer);
	default:
		return fmt_err(msg, len, err, "connect %s: %s", peer,
		    errstr(err, eb, sizeof(eb)));
	}
}

/* Mark the client unusable and keep the reason for later calls. */
static int
kill_client(struct iomux_client *c, int err)
{
	c->dead = err;
	return err;
}

/* Drop the frame handed out last; its views are invalid from here on. */
static void
consume_pending(struct iomux_client *c)
{
	if (c->pending == 0)
		return;
	buf_consume(&c->in, c->pending);
	c->pending = 0;
	buf_shrink(&c->in, BUF_KEEP);
}

static size_t
in_limit(uint32_t frame_max)
{
	return (size_t)frame_max + IOMUX_LEN_SIZE;
}

static size_t
out_limit(uint32_t frame_max)
{
	return OUT_FRAMES * ((size_t)frame_max + IOMUX_LEN_SIZE);
}

/*
 * A client on the outcome of a connect to 'peer': fd, or -errno to say in
 * errmsg. 0 and *out, or -errno with fd closed.
 */
static int
client_new(int fd, const char *peer, int timeout_ms,
    struct iomux_client **out, char *errmsg, size_t errlen)
{
	struct iomux_client	*c;

	if (fd < 0)
		return connect_err(errmsg, errlen, fd, peer);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return fmt_err(errmsg, errlen, -ENOMEM, "out of memory");
	}
	c->fd = fd;
	c->timeout_ms = timeout_ms;
	c->frame_max = IOMUX_FRAME_MAX_DEFAULT;
	c->next_id = 1;
	buf_init(&c->in, in_limit(c->frame_max));
	buf_init(&c->out, out_limit(c->frame_max));
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	*out = c;
	return 0;
}

/*
 * Wait until fd is ready for 'events' or the deadline passes. Returns 0
 * (ready, or an error condition the next syscall will report), -ETIMEDOUT,
 * or -errno of poll(2).
 */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd	 pfd;
	int		 n;

	for (;;) {
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, remaining_ms(deadline));
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
		/* Interrupted: go round with whatever time is left. */
	}
}

/* Sleep until the deadline or ms, whichever is first; no signals used. */
static void
nap(int ms, int64_t deadline)
{
	int	 left;

	left = remaining_ms(deadline);
	if (left >= 0 && left < ms)
		ms = left;
	poll(NULL, 0, ms);
}

/*
 * Connect a fresh socket of this family to addr within the deadline.
 * Returns the fd or -errno. A non-blocking connect finishes in the
 * background (EINPROGRESS); poll for writability, then SO_ERROR has the
 * result. A non-blocking AF_UNIX connect fails with EAGAIN when the
 * listener's backlog is full and cannot be polled for: retry it.
 */
static int
connect_addr(int family, const struct sockaddr *sa, socklen_t salen,
    int64_t deadline)
{
	int		 fd, err, soerr;
	socklen_t	 len;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	for (;;) {
		if (connect(fd, sa, salen) == 0)
			return fd;
		err = -errno;
		if (err == -EINTR)
			continue;
		if (err == -EAGAIN && family == AF_UNIX) {
			if (remaining_ms(deadline) == 0) {
				err = -ETIMEDOUT;
				goto fail;
			}
			nap(UNIX_RETRY_MS, deadline);
			continue;
		}
		break;
	}
	if (err != -EINPROGRESS)
		goto fail;
	if ((err = wait_fd(fd, POLLOUT, deadline)) != 0)
		goto fail;
	len = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1) {
		err = -errno;
		goto fail;
	}
	if (soerr != 0) {
		err = -soerr;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

/*
 * Contract (iomux.h): connect to the UNIX socket 'path'. Returns 0 and a
 * new client in *out, or -errno with *out NULL and a sentence in errmsg.
 * -ENAMETOOLONG when the path does not fit sun_path: it is never cut.
 */
EXPORT int
iomux_connect_unix(const char *path, int timeout_ms,
    struct iomux_client **out, char *errmsg, size_t errlen)
{
	struct sockaddr_un	 sun;
	size_t			 len;
	int			 fd;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return fmt_err(errmsg, errlen, -EINVAL, "empty socket path");
	len = strlen(path);
	if (len >= sizeof(sun.sun_path))
		return fmt_err(errmsg, errlen, -ENAMETOOLONG,
		    "socket path too long (max %zu bytes): %s",
		    sizeof(sun.sun_path) - 1, path);
	if (len >= PEER_MAX)
		return fmt_err(errmsg, errlen, -ENAMETOOLONG,
		    "socket path too long: %s", path);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, len + 1);
	fd = connect_addr(AF_UNIX, (struct sockaddr *)&sun, sizeof(sun),
	    deadline_of(timeout_ms));
	return client_new(fd, path, timeout_ms, out, errmsg, errlen);
}

/*
 * Split "HOST:PORT" or "[V6]:PORT" into host and port (both copied into
 * the caller's buffers). 0 or -EINVAL.
 */
static int
split_hostport(const char *hp, char *host, size_t hostlen, char *port,
    size_t portlen)
{
	const char	*colon, *h, *end;
	size_t		 hl;

	if (*hp == '[') {
		h = hp + 1;
		if ((end = strchr(h, ']')) == NULL || end[1] != ':')
			return -EINVAL;
		colon = end + 1;
	} else {
		h = hp;
		if ((colon = strrchr(hp, ':')) == NULL)
			return -EINVAL;
		end = colon;
		/* A bare IPv6 address needs brackets. */
		if (memchr(hp, ':', (size_t)(colon - hp)) != NULL)
			return -EINVAL;
	}
	hl = (size_t)(end - h);
	if (hl == 0 || hl >= hostlen || colon[1] == '\0' ||
	    strlen(colon + 1) >= portlen ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

/*
 * Contract (iomux.h): connect over TCP to "HOST:PORT" or "[V6]:PORT",
 * trying each resolved address in turn within the one timeout. Name
 * resolution itself (getaddrinfo) cannot be bounded; use numeric
 * addresses where that matters. Sets TCP_NODELAY: requests are small and
 * a reply is awaited after each.
 */
EXPORT int
iomux_connect_tcp(const char *hostport, int timeout_ms,
    struct iomux_client **out, char *errmsg, size_t errlen)
{
	struct addrinfo		 hints, *res, *ai;
	char			 host[256], port[16];
	int64_t			 deadline;
	int			 fd, err, one = 1;

	*out = NULL;
	if (hostport == NULL || strlen(hostport) >= PEER_MAX ||
	    split_hostport(hostport, host, sizeof(host), port,
	    sizeof(port)) != 0)
		return fmt_err(errmsg, errlen, -EINVAL,
		    "invalid address '%s': expected HOST:PORT or [V6]:PORT",
		    hostport != NULL ? hostport : "");

	deadline = deadline_of(timeout_ms);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((err = getaddrinfo(host, port, &hints, &res)) != 0)
		return fmt_err(errmsg, errlen, -EHOSTUNREACH,
		    "cannot resolve %s: %s", host, gai_strerror(err));

	fd = -ECONNREFUSED;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = connect_addr(ai->ai_family, ai->ai_addr, ai->ai_addrlen,
		    deadline);
		if (fd >= 0 || fd == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);

	/* Best effort: a failure only costs latency. */
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	return client_new(fd, hostport, timeout_ms, out, errmsg, errlen);
}

EXPORT void
iomux_close(struct iomux_client *c)
{
	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c->pargs);
	free(c->vargs);
	free(c);
}

EXPORT int
iomux_fd(const struct iomux_client *c)
{
	return c->fd;
}

/* Negative: wait forever; 0: never wait (fail with -ETIMEDOUT at once). */
EXPORT void
iomux_set_timeout(struct iomux_client *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

EXPORT void
iomux_set_push_cb(struct iomux_client *c, iomux_push_cb *cb, void *arg)
{
	c->push_cb = cb;
	c->push_arg = arg;
}

/*
 * Clamped to IOMUX_FRAME_MIN_LIMIT..IOMUX_FRAME_MAX_CAP. Bytes already
 * buffered stay; the new limits apply to what is read and queued next.
 */
EXPORT void
iomux_set_frame_max(struct iomux_client *c, uint32_t frame_max)
{
	if (frame_max < IOMUX_FRAME_MIN_LIMIT)
		frame_max = IOMUX_FRAME_MIN_LIMIT;
	if (frame_max > IOMUX_FRAME_MAX_CAP)
		frame_max = IOMUX_FRAME_MAX_CAP;
	c->frame_max = frame_max;
	c->in.limit = in_limit(frame_max);
	c->out.limit = out_limit(frame_max);
	/* Never below what is already held. */
	if (c->in.limit < c->in.cap)
		c->in.limit = c->in.cap;
	if (c->out.limit < c->out.cap)
		c->out.limit = c->out.cap;
}

EXPORT const char *
iomux_errmsg(const struct iomux_client *c)
{
	return c->errmsg;
}

EXPORT const char *
iomux_status_text(uint16_t status)
{
	return proto_status_text(status);
}

EXPORT const char *
iomux_status_name(uint16_t status)
{
	return proto_status_name(status);
}

/*
 * Contract (iomux.h): the default socket path. An empty $IOMUXD_SOCKET
 * counts as unset. The result is not checked for existence.
 */
EXPORT int
iomux_default_socket(char *buf, size_t len)
{
	const char	*env, *rt;
	int		 n;

	if ((env = getenv("IOMUXD_SOCKET")) != NULL && *env != '\0')
		n = snprintf(buf, len, "%s", env);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/run/iomuxd/iomuxd.sock");
	else if ((rt = getenv("XDG_RUNTIME_DIR")) != NULL && *rt == '/')
		n = snprintf(buf, len, "%s/iomuxd/iomuxd.sock", rt);
	else
		return -ENOENT;
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* isspace(3) in the C locale, whatever the program's locale is. */
static int
is_space(char ch)
{
	return ch == ' ' || (ch >= '\t' && ch <= '\r');
}

/*
 * The token in the n bytes at p (a token file's contents): trailing
 * whitespace stripped, then exactly IOMUX_TOKEN_LEN lowercase hex digits,
 * copied to buf with a NUL. IOMUX_TOKEN_LEN or -EINVAL.
 */
static int
token_parse(const char *p, size_t n, char *buf)
{
	size_t	 i;

	if (n > TOKEN_FILE_MAX)
		return -EINVAL;
	while (n > 0 && is_space(p[n - 1]))
		n--;
	if (n != IOMUX_TOKEN_LEN)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if ((p[i] < '0' || p[i] > '9') && (p[i] < 'a' || p[i] > 'f'))
			return -EINVAL;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return (int)n;
}

/*
 * Read the token from fd, which is closed. One byte past TOKEN_FILE_MAX
 * is asked for, to tell a file that is too large. The copy on the stack
 * is wiped whatever the outcome. IOMUX_TOKEN_LEN or -errno.
 */
static int
token_read(int fd, char *buf)
{
	char	 tmp[TOKEN_FILE_MAX + 1];
	size_t	 n = 0;
	ssize_t	 r;
	int	 err = 0;

	while (n < sizeof(tmp)) {
		r = read(fd, tmp + n, sizeof(tmp) - n);
		if (r == 0)
			break;
		if (r == -1) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		n += (size_t)r;
	}
	close(fd);
	if (err == 0)
		err = token_parse(tmp, n, buf);
	explicit_bzero(tmp, sizeof(tmp));
	return err;
}

/* open(2) for reading a token file; the fd or -errno. */
static int
token_open(const char *path)
{
	int	 fd;

	/* No O_NOFOLLOW: a token file may be a symlink the user made. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	return fd;
}

/*
 * token_open() of the first of token_names that opens in dir (dirlen
 * bytes at dir, 0 for the current directory); the fd or -ENOENT.
 */
static int
token_open_in(const char *dir, size_t dirlen)
{
	char	 cand[PATH_MAX];
	size_t	 i;
	int	 fd, n;

	for (i = 0; i < NTOKEN_NAMES; i++) {
		n = snprintf(cand, sizeof(cand), "%.*s%s", (int)dirlen, dir,
		    token_names[i]);
		if (n > 0 && (size_t)n < sizeof(cand) &&
		    (fd = token_open(cand)) >= 0)
			return fd;
	}
	return -ENOENT;
}

/*
 * Contract (iomux.h): the token for a TCP HELLO. With path NULL, an
 * explicit $IOMUXD_TOKEN_FILE (not empty) is read like a path given here;
 * else the candidates (token_names beside the default socket, then in
 * TOKEN_SYSTEM) are tried in turn and the first that opens is read,
 * whatever its contents: a malformed file is -EINVAL, not a reason
 * to look further. Returns IOMUX_TOKEN_LEN, or -errno: -ERANGE when len
 * cannot hold a token and its NUL, -ENOENT when no candidate opens, the
 * error of open(2) or read(2) for a named file, -EINVAL for contents that
 * are not a token or a file over TOKEN_FILE_MAX bytes.
 */
EXPORT int
iomux_token_load(const char *path, char *buf, size_t len)
{
	char		 sock[PATH_MAX];
	const char	*env, *slash;
	int		 fd;

	if (len < IOMUX_TOKEN_LEN + 1)
		return -ERANGE;
	if (path == NULL && (env = getenv("IOMUXD_TOKEN_FILE")) != NULL &&
	    *env != '\0')
		path = env;
	if (path != NULL) {
		if ((fd = token_open(path)) < 0)
			return fd;
		return token_read(fd, buf);
	}

	/* Beside the default socket (a relative one: here), then root's. */
	if (iomux_default_socket(sock, sizeof(sock)) == 0) {
		slash = strrchr(sock, '/');
		fd = token_open_in(sock, slash != NULL ?
		    (size_t)(slash + 1 - sock) : 0);
		if (fd >= 0)
			return token_read(fd, buf);
	}
	if ((fd = token_open_in(TOKEN_SYSTEM, strlen(TOKEN_SYSTEM))) >= 0)
		return token_read(fd, buf);
	return -ENOENT;
}

/*
 * Contract (iomux.h): queue one request; no I/O. Ids count up from 1 and
 * skip 0, which the server uses for frames that answer no request.
 * Returns 0, -EMSGSIZE (over frame_max), -E2BIG (argc over
 * IOMUX_ARGS_MAX), -ENOBUFS (output buffer full: flush first), -ENOMEM,
 * or the client's error once it is dead.
 */
EXPORT int
iomux_send(struct iomux_client *c, uint16_t op, size_t argc,
    const struct iomux_value *argv, uint32_t *idp)
{
	struct proto_enc	 enc;
	uint32_t		 id;
	size_t			 i;
	int			 r;

	if (c->dead != 0)
		return c->dead;
	if (argc > IOMUX_ARGS_MAX)
		return set_err(c, -E2BIG, "too many arguments (%zu > %d)",
		    argc, IOMUX_ARGS_MAX);
	id = c->next_id;
	proto_enc_begin(&enc, &c->out, c->frame_max, IOMUX_KIND_REQUEST, op,
	    id);
	for (i = 0; i < argc; i++) {
		if (argv[i].absent)
			proto_enc_absent(&enc);
		else
			proto_enc_arg(&enc, argv[i].data, argv[i].len);
	}
	if ((r = proto_enc_end(&enc)) < 0) {
		switch (r) {
		case -EMSGSIZE:
			return set_err(c, r, "request too large (limit %u "
			    "bytes)", c->frame_max);
		case -ENOBUFS:
			return set_err(c, r, "output buffer full: flush "
			    "before queueing more");
		case -E2BIG:
			return set_err(c, r, "too many arguments");
		default:
			return set_err(c, r, "out of memory");
		}
	}
	if (++c->next_id == 0)
		c->next_id = 1;
	c->outstanding++;
	if (idp != NULL)
		*idp = id;
	return 0;
}

/* Turn a socket error into the client's error (the peer went away?). */
static int
io_err(struct iomux_client *c, const char *what, int err)
{
	char	 eb[128];

	if (err == -EPIPE || err == -ECONNRESET)
		return kill_client(c, set_err(c, err,
		    "connection closed by iomuxd"));
	return kill_client(c, set_err(c, err, "%s %s: %s", what, c->peer,
	    errstr(err, eb, sizeof(eb))));
}

/* Contract (iomux.h): write queued output without waiting. 0 all written,
 * 1 some remains (wait for POLLOUT), or -errno. */
EXPORT int
iomux_write(struct iomux_client *c)
{
	ssize_t	 n;

	if (c->dead != 0)
		return c->dead;
	while (buf_len(&c->out) > 0) {
		n = send(c->fd, buf_data(&c->out), buf_len(&c->out),
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return io_err(c, "send to", -errno);
		}
		buf_consume(&c->out, (size_t)n);
	}
	buf_shrink(&c->out, BUF_KEEP);
	return 0;
}

EXPORT int
iomux_want_write(const struct iomux_client *c)
{
	return buf_len(&c->out) > 0;
}

/*
 * Contract (iomux.h): one recv(2) into the input buffer, never more than
 * the frame limit allows. Returns bytes read (> 0), 0 at end of stream,
 * -EAGAIN when nothing is there, -ENOBUFS if a complete frame fills the
 * buffer (call iomux_next() first), or -errno. Invalidates the views of
 * the frame returned last.
 */
EXPORT int
iomux_read(struct iomux_client *c)
{
	uint32_t	 body;
	size_t		 want, room;
	ssize_t		 n;
	int		 r;

	if (c->dead != 0)
		return c->dead;
	consume_pending(c);
	room = c->in.limit - buf_len(&c->in);
	if (room == 0)
		return -ENOBUFS;
	want = READ_CHUNK;
	/* Ask for the whole announced frame at once if it is larger. */
	if (proto_peek_len(buf_data(&c->in), buf_len(&c->in), c->frame_max,
	    &body) == 1 && IOMUX_LEN_SIZE + (size_t)body > buf_len(&c->in) &&
	    IOMUX_LEN_SIZE + (size_t)body - buf_len(&c->in) > want)
		want = IOMUX_LEN_SIZE + (size_t)body - buf_len(&c->in);
	if (want > room)
		want = room;
	if ((r = buf_reserve(&c->in, want)) != 0)
		return set_err(c, r, "out of memory");
	/* cap <= limit, so the free tail never exceeds 'room'. */
	for (;;) {
		n = recv(c->fd, buf_space(&c->in), buf_avail(&c->in), 0);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -EAGAIN;
		return io_err(c, "recv from", -errno);
	}
	buf_advance(&c->in, (size_t)n);
	return n > INT_MAX ? INT_MAX : (int)n;
}

/* Make the view arrays hold n arguments; 0 or -ENOMEM. */
static int
grow_args(struct iomux_client *c, size_t n)
{
	struct proto_arg	*pa;
	struct iomux_value	*va;
	size_t			 cap;

	if (n <= c->args_cap)
		return 0;
	cap = c->args_cap != 0 ? c->args_cap : 8;
	while (cap < n)
		cap *= 2;
	if (cap > IOMUX_ARGS_MAX)
		cap = IOMUX_ARGS_MAX;
	if ((pa = reallocarray(c->pargs, cap, sizeof(*pa))) == NULL)
		return -ENOMEM;
	c->pargs = pa;
	if ((va = reallocarray(c->vargs, cap, sizeof(*va))) == NULL)
		return -ENOMEM;
	c->vargs = va;
	c->args_cap = cap;
	return 0;
}

/*
 * Contract (iomux.h): decode the next buffered frame, no I/O. Returns 1
 * and fills *r, 0 if no whole frame is buffered yet, or -errno: -EMSGSIZE
 * for an announced length over frame_max (refused before it is read),
 * -EPROTO for anything malformed or not a reply/push. Errors are final.
 */
EXPORT int
iomux_next(struct iomux_client *c, struct iomux_reply *r)
{
	struct proto_frame	 f;
	const uint8_t		*p;
	uint32_t		 body;
	size_t			 len, i, argc;
	int			 n;

	if (c->dead != 0)
		return c->dead;
	consume_pending(c);
	p = buf_data(&c->in);
	len = buf_len(&c->in);
	n = proto_peek_len(p, len, c->frame_max, &body);
	if (n == -EMSGSIZE)
		return kill_client(c, set_err(c, n, "reply from iomuxd too "
		    "large (%u > %u bytes)", buf_get_u32(p), c->frame_max));
	if (n < 0)
		return kill_client(c, set_err(c, -EPROTO, "malformed frame "
		    "from iomuxd (length %u)", buf_get_u32(p)));
	if (n == PROTO_E_AGAIN || len - IOMUX_LEN_SIZE < body)
		return 0;

	/* Size the view arrays from argc before decoding into them. */
	argc = buf_get_u16(p + IOMUX_LEN_SIZE + 8);
	if (argc > IOMUX_ARGS_MAX)
		return kill_client(c, set_err(c, -EPROTO, "malformed frame "
		    "from iomuxd (%zu arguments)", argc));
	if (grow_args(c, argc) != 0)
		return set_err(c, -ENOMEM, "out of memory");

	n = proto_decode(p, len, c->frame_max, &f, c->pargs, c->args_cap);
	if (n == PROTO_E_AGAIN)		/* cannot happen: length checked */
		return 0;
	if (n == -EPROTONOSUPPORT)
		return kill_client(c, set_err(c, -EPROTO, "iomuxd speaks "
		    "protocol version %u, not %d", f.version,
		    IOMUX_PROTO_VERSION));
	if (n < 0)
		return kill_client(c, set_err(c, -EPROTO, "malformed frame "
		    "from iomuxd"));
	if (f.kind != IOMUX_KIND_REPLY && f.kind != IOMUX_KIND_PUSH)
		return kill_client(c, set_err(c, -EPROTO, "unexpected frame "
		    "kind %u from iomuxd", f.kind));

	for (i = 0; i < f.argc; i++) {
		c->vargs[i].data = c->pargs[i].p;
		c->vargs[i].len = c->pargs[i].len;
		c->vargs[i].absent = c->pargs[i].absent;
	}
	r->kind = f.kind;
	r->code = f.code;
	r->id = f.id;
	r->argc = f.argc;
	r->argv = c->vargs;
	c->pending = (size_t)n;
	/* Id 0 answers no request (a connection-level error). */
	if (f.kind == IOMUX_KIND_REPLY && f.id != 0 && c->outstanding > 0)
		c->outstanding--;
	return 1;
}

/*
 * wait_fd() on the client's socket. A timeout is "timed out <doing>
 * iomuxd" and leaves the client usable; a poll(2) failure kills it.
 */
static int
wait_client(struct iomux_client *c, short events, int64_t deadline,
    const char *doing)
{
	int	 r;

	if ((r = wait_fd(c->fd, events, deadline)) == -ETIMEDOUT)
		return set_err(c, r, "timed out %s iomuxd", doing);
	if (r != 0)
		return io_err(c, "poll", r);
	return 0;
}

/* Write everything queued before the deadline. 0 or -errno. */
static int
flush_until(struct iomux_client *c, int64_t deadline)
{
	int	 r;

	for (;;) {
		if ((r = iomux_write(c)) <= 0)
			return r;
		if ((r = wait_client(c, POLLOUT, deadline, "writing to")) != 0)
			return r;
	}
}

/*
 * Wait for the next frame before the deadline, writing queued output
 * meanwhile so a caller who forgot to flush cannot wait for a reply to a
 * request that was never sent. 0 and *r, or -errno.
 */
static int
recv_until(struct iomux_client *c, struct iomux_reply *r, int64_t deadline)
{
	short	 events;
	int	 n;

	for (;;) {
		if ((n = iomux_next(c, r)) != 0)
			return n < 0 ? n : 0;
		if (buf_len(&c->out) > 0 && (n = iomux_write(c)) < 0)
			return n;
		n = iomux_read(c);
		if (n > 0)
			continue;
		if (n == 0) {
			if (buf_len(&c->in) > 0)
				return kill_client(c, set_err(c, -ECONNRESET,
				    "connection closed by iomuxd in the "
				    "middle of a frame"));
			return kill_client(c, set_err(c, -ECONNRESET,
			    "connection closed by iomuxd"));
		}
		if (n != -EAGAIN)
			return n;
		events = POLLIN;
		if (buf_len(&c->out) > 0)
			events |= POLLOUT;
		if ((n = wait_client(c, events, deadline, "waiting for")) != 0)
			return n;
	}
}

EXPORT int
iomux_flush(struct iomux_client *c)
{
	if (c->dead != 0)
		return c->dead;
	return flush_until(c, deadline_of(c->timeout_ms));
}

EXPORT int
iomux_recv(struct iomux_client *c, struct iomux_reply *r)
{
	if (c->dead != 0)
		return c->dead;
	return recv_until(c, r, deadline_of(c->timeout_ms));
}

/*
 * Absolute deadline for a call that may block in the server for up to
 * extra_ms: the client's timeout plus extra_ms, or none (-1) when either
 * is unbounded or the sum does not fit.
 */
static int64_t
deadline_extra(int timeout_ms, uint64_t extra_ms)
{
	uint64_t	 total;

	if (timeout_ms < 0 || extra_ms == IOMUX_TIMEOUT_FOREVER)
		return -1;
	total = (uint64_t)timeout_ms + extra_ms;
	if (total < extra_ms || total > (uint64_t)INT64_MAX / 2000000)
		return -1;
	return now_ns() + (int64_t)total * 1000000;
}

/* iomux_call() with its deadline given; see the contract below. */
static int
call_until(struct iomux_client *c, uint16_t op, size_t argc,
    const struct iomux_value *argv, struct iomux_reply *r, int64_t deadline)
{
	uint32_t	 id;
	int		 err, werr;

	if (c->dead != 0)
		return c->dead;
	if (c->outstanding > 0)
		return set_err(c, -EBUSY, "iomux_call: %u pipelined "
		    "request(s) still awaiting replies", c->outstanding);
	consume_pending(c);
	if ((err = iomux_send(c, op, argc, argv, &id)) != 0)
		return err;
	werr = flush_until(c, deadline);
	if (werr != 0 && werr != -EPIPE && werr != -ECONNRESET)
		return werr;
	if (werr != 0) {
		/* The server may have said why before closing: read on. */
		c->dead = 0;
		c->outstanding = 0;
		buf_consume(&c->out, buf_len(&c->out));
	}
	for (;;) {
		if ((err = recv_until(c, r, deadline)) != 0) {
			if (werr != 0 && err != -ETIMEDOUT) {
				set_err(c, werr, "connection closed by iomuxd");
				return kill_client(c, werr);
			}
			return err;
		}
		if (r->kind == IOMUX_KIND_PUSH) {
			if (c->push_cb != NULL)
				c->push_cb(c, r, c->push_arg);
			else
				c->pushes_dropped++;
			continue;
		}
		if (r->id == 0) {
			/* No reply for our request will follow. */
			c->outstanding = 0;
			return 0;
		}
		if (r->id == id && werr == 0)
			return 0;
		return kill_client(c, set_err(c, -EPROTO, "reply id %u from "
		    "iomuxd does not match request id %u", r->id, id));
	}
}

/*
 * Contract (iomux.h): send one request and wait for its reply, all within
 * one timeout. Returns 0 with *r filled (whatever its status), or -errno.
 * Requires that no pipelined request is outstanding (-EBUSY otherwise):
 * replies come in order, so the next reply would not be this one. A reply
 * with id 0 is the server's connection-level error (EBUSY when full,
 * ETOOBIG, EPROTO, ETIMEOUT) sent just before it closes: it is returned as
 * this call's reply, even when the request itself could not be written
 * because the server had already closed. Push frames that arrive first go
 * to the push callback, or are dropped (and counted) when there is none.
 */
EXPORT int
iomux_call(struct iomux_client *c, uint16_t op, size_t argc,
    const struct iomux_value *argv, struct iomux_reply *r)
{
	if (c->dead != 0)
		return c->dead;
	return call_until(c, op, argc, argv, r, deadline_of(c->timeout_ms));
}

/* Strict decimal u32; 0 or -EINVAL. */
static int
parse_u32(const struct iomux_value *v, uint32_t *out)
{
	const char	*p;
	uint64_t	 n = 0;
	size_t		 i;

	if (v == NULL || v->absent || v->len == 0 || v->len > 10)
		return -EINVAL;
	p = v->data;
	for (i = 0; i < v->len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		n = n * 10 + (uint64_t)(p[i] - '0');
	}
	if (n > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)n;
	return 0;
}

/* An argument of len bytes at data (NULL: empty). */
static struct iomux_value
val(const void *data, size_t len)
{
	struct iomux_value	 v;

	v.data = data != NULL ? data : "";
	v.len = len;
	v.absent = 0;
	return v;
}

static struct iomux_value
absent_val(void)
{
	struct iomux_value	 v;

	v.data = NULL;
	v.len = 0;
	v.absent = 1;
	return v;
}

/*
 * Contract (iomux.h): HELLO with our protocol version and name. On an OK
 * reply the server's frame_max is adopted (clamped as by
 * iomux_set_frame_max()). Returns as iomux_call().
 */
EXPORT int
iomux_hello(struct iomux_client *c, struct iomux_reply *r)
{
	return iomux_hello_token(c, CLIENT_NAME, NULL, r);
}

/*
 * Contract (iomux.h): HELLO version [name] [token]. An absent name is
 * sent as such only when a token follows it: HELLO with the version alone
 * means the same and is understood by daemons that predate the token.
 * The output buffer is wiped after a HELLO that carried a token, so that
 * the token does not linger in freed or reused memory (best effort: a
 * copy made by a buffer that grew meanwhile is not reached).
 */
EXPORT int
iomux_hello_token(struct iomux_client *c, const char *name,
    const char *token, struct iomux_reply *r)
{
	struct iomux_value	 argv[3];
	uint8_t			 ver[4];
	uint32_t		 fm;
	size_t			 argc = 1;
	int			 err;

	buf_put_u32(ver, IOMUX_PROTO_VERSION);
	argv[0] = val(ver, sizeof(ver));
	argv[1] = name != NULL ? val(name, strlen(name)) : absent_val();
	if (name != NULL)
		argc = 2;
	if (token != NULL) {
		argv[2] = val(token, strlen(token));
		argc = 3;
	}
	err = iomux_call(c, IOMUX_OP_HELLO, argc, argv, r);
	if (token != NULL && c->out.data != NULL && buf_len(&c->out) == 0)
		explicit_bzero(c->out.data, c->out.cap);
	if (err != 0)
		return err;
	if (r->kind == IOMUX_KIND_REPLY && r->code == IOMUX_ST_OK &&
	    parse_u32(iomux_reply_field(r, "frame_max"), &fm) == 0)
		iomux_set_frame_max(c, fm);
	return 0;
}

/* Contract (iomux.h): WHOAMI; the reply is name/value pairs. */
EXPORT int
iomux_whoami(struct iomux_client *c, struct iomux_reply *r)
{
	return iomux_call(c, IOMUX_OP_WHOAMI, 0, NULL, r);
}

/* data NULL: a PING without argument; else one argument (may be empty). */
EXPORT int
iomux_ping(struct iomux_client *c, const void *data, size_t len,
    struct iomux_reply *r)
{
	struct iomux_value	 arg;

	if (data == NULL)
		return iomux_call(c, IOMUX_OP_PING, 0, NULL, r);
	arg.data = data;
	arg.len = len;
	arg.absent = 0;
	return iomux_call(c, IOMUX_OP_PING, 1, &arg, r);
}

EXPORT int
iomux_status(struct iomux_client *c, struct iomux_reply *r)
{
	return iomux_call(c, IOMUX_OP_STATUS, 0, NULL, r);
}

/* Pairs name, value: the value after the first name that matches. */
EXPORT const struct iomux_value *
iomux_reply_field(const struct iomux_reply *r, const char *name)
{
	size_t	 i, len;

	len = strlen(name);
	for (i = 0; i + 1 < r->argc; i += 2) {
		if (r->argv[i].absent || r->argv[i].len != len)
			continue;
		if (memcmp(r->argv[i].data, name, len) == 0)
			return &r->argv[i + 1];
	}
	return NULL;
}

/*
 * The typed calls of the hub (key-value, queues, pub/sub, locks). Each is
 * iomux_call() with its arguments encoded and, for an OK reply, the
 * reply's fields checked and decoded into the optional out-parameters.
 * Negative answers (NOTFOUND, TIMEDOUT, CONFLICT) and error replies are
 * left in r->code for the caller; the out-parameters are then untouched.
 * An OK reply of the wrong shape is -EPROTO, but the connection is still
 * in step (one reply per request), so the client stays usable.
 */

/* An OK reply whose shape is not the one documented for op. */
static int
bad_reply(struct iomux_client *c, uint16_t op)
{
	return set_err(c, -EPROTO, "malformed %s reply from iomuxd",
	    proto_op_name(op));
}

/* The 8-byte integer at argv[idx] of an OK reply; 0 or -EPROTO. */
static int
reply_u64(struct iomux_client *c, uint16_t op, const struct iomux_reply *r,
    size_t idx, uint64_t *out)
{
	if (r->argc <= idx || r->argv[idx].absent || r->argv[idx].len != 8)
		return bad_reply(c, op);
	if (out != NULL)
		*out = buf_get_u64(r->argv[idx].data);
	return 0;
}

/* The value (argv[0], present) of an OK reply; 0 or -EPROTO. */
static int
reply_value(struct iomux_client *c, uint16_t op,
    const struct iomux_reply *r, struct iomux_value *out)
{
	if (r->argc != 1 || r->argv[0].absent)
		return bad_reply(c, op);
	if (out != NULL)
		*out = r->argv[0];
	return 0;
}

/*
 * iomux_call() for a request that may block in iomuxd for up to extra_ms
 * (WAIT, POP, LOCK): the deadline is the client's timeout plus that.
 */
static int
call_extra(struct iomux_client *c, uint16_t op, size_t argc,
    const struct iomux_value *argv, uint64_t extra_ms, struct iomux_reply *r)
{
	if (c->dead != 0)
		return c->dead;
	return call_until(c, op, argc, argv, r,
	    deadline_extra(c->timeout_ms, extra_ms));
}

/* Call op (possibly blocking up to extra_ms), expecting an empty OK. */
static int
call_plain(struct iomux_client *c, uint16_t op, size_t argc,
    const struct iomux_value *argv, uint64_t extra_ms, struct iomux_reply *r)
{
	int	 err;

	if ((err = call_extra(c, op, argc, argv, extra_ms, r)) != 0)
		return err;
	if (r->code == IOMUX_ST_OK && r->argc != 0)
		return bad_reply(c, op);
	return 0;
}

/* Call op, expecting an OK reply of one u64 (stored in *out). */
static int
call_count(struct iomux_client *c, uint16_t op, size_t argc,
    const struct iomux_value *argv, uint64_t *out, struct iomux_reply *r)
{
	int	 err;

	if ((err = iomux_call(c, op, argc, argv, r)) != 0)
		return err;
	if (r->code != IOMUX_ST_OK)
		return 0;
	if (r->argc != 1)
		return bad_reply(c, op);
	return reply_u64(c, op, r, 0, out);
}

/* call_count() for a signed integer (two's complement on the wire). */
static int
call_i64(struct iomux_client *c, uint16_t op, size_t argc,
    const struct iomux_value *argv, int64_t *out, struct iomux_reply *r)
{
	uint64_t	 u;
	int		 err;

	if ((err = call_count(c, op, argc, argv, &u, r)) != 0)
		return err;
	if (r->code == IOMUX_ST_OK && out != NULL)
		*out = (int64_t)u;
	return 0;
}

/* Call op (possibly blocking up to extra_ms), expecting one value. */
static int
call_value(struct iomux_client *c, uint16_t op, size_t argc,
    const struct iomux_value *argv, uint64_t extra_ms,
    struct iomux_value *value, struct iomux_reply *r)
{
	int	 err;

	if ((err = call_extra(c, op, argc, argv, extra_ms, r)) != 0)
		return err;
	if (r->code != IOMUX_ST_OK)
		return 0;
	return reply_value(c, op, r, value);
}

/* GET and PEEK: a name in, its value out. */
static int
name_value(struct iomux_client *c, uint16_t op, const void *name,
    size_t namelen, struct iomux_value *value, struct iomux_reply *r)
{
	struct iomux_value	 argv[1];

	argv[0] = val(name, namelen);
	return call_value(c, op, 1, argv, 0, value, r);
}

/* PERSIST and UNLOCK: a name in, an empty OK out. */
static int
name_plain(struct iomux_client *c, uint16_t op, const void *name,
    size_t namelen, struct iomux_reply *r)
{
	struct iomux_value	 argv[1];

	argv[0] = val(name, namelen);
	return call_plain(c, op, 1, argv, 0, r);
}

/*
 * Call op with 'name' followed by the n values of 'list' (DEL, EXISTS,
 * PUSH, SUBSCRIBE...): name may be NULL for none. Expects one u64.
 */
static int
call_list(struct iomux_client *c, uint16_t op, const void *name,
    size_t namelen, size_t n, const struct iomux_value *list,
    uint64_t *out, struct iomux_reply *r)
{
	struct iomux_value	*argv;
	size_t			 argc = 0;
	int			 err;

	if (c->dead != 0)
		return c->dead;
	if (n > IOMUX_ARGS_MAX - (name != NULL ? 1 : 0))
		return set_err(c, -E2BIG, "too many arguments (%zu > %d)",
		    n + (name != NULL ? 1 : 0), IOMUX_ARGS_MAX);
	if ((argv = calloc(n + 1, sizeof(*argv))) == NULL)
		return set_err(c, -ENOMEM, "out of memory");
	if (name != NULL)
		argv[argc++] = val(name, namelen);
	if (n > 0)
		memcpy(argv + argc, list, n * sizeof(*argv));
	argc += n;
	err = call_count(c, op, argc, argv, out, r);
	free(argv);
	return err;
}

/* Contract (iomux.h): GET key. OK [value] or NOTFOUND. */
EXPORT int
iomux_get(struct iomux_client *c, const void *key, size_t keylen,
    struct iomux_value *value, struct iomux_reply *r)
{
	return name_value(c, IOMUX_OP_GET, key, keylen, value, r);
}

/*
 * Contract (iomux.h): SET key value, with the optional arguments sent
 * only as far as they are needed; an earlier one that is not used goes
 * as an absent argument. OK or CONFLICT.
 */
EXPORT int
iomux_set(struct iomux_client *c, const void *key, size_t keylen,
    const void *value, size_t len, const struct iomux_set_opts *opts,
    struct iomux_reply *r)
{
	struct iomux_value	 argv[5];
	uint8_t			 ttl[8], flags[4];
	size_t			 argc = 2;

	argv[0] = val(key, keylen);
	argv[1] = val(value, len);
	if (opts != NULL) {
		buf_put_u64(ttl, opts->ttl_ms);
		buf_put_u32(flags, opts->flags);
		argv[2] = opts->ttl_ms != 0 ? val(ttl, sizeof(ttl)) :
		    absent_val();
		argv[3] = val(flags, sizeof(flags));
		argv[4] = opts->expected != NULL ? *opts->expected :
		    absent_val();
		if (opts->expected != NULL && !opts->expected->absent)
			argc = 5;
		else if (opts->flags != 0)
			argc = 4;
		else if (opts->ttl_ms != 0)
			argc = 3;
	}
	return call_plain(c, IOMUX_OP_SET, argc, argv, 0, r);
}

/* Contract (iomux.h): DEL key... OK [u64 removed]. */
EXPORT int
iomux_del(struct iomux_client *c, size_t n, const struct iomux_value *keys,
    uint64_t *removed, struct iomux_reply *r)
{
	return call_list(c, IOMUX_OP_DEL, NULL, 0, n, keys, removed, r);
}

/* Contract (iomux.h): EXISTS key... OK [u64 count]. */
EXPORT int
iomux_exists(struct iomux_client *c, size_t n,
    const struct iomux_value *keys, uint64_t *count, struct iomux_reply *r)
{
	return call_list(c, IOMUX_OP_EXISTS, NULL, 0, n, keys, count, r);
}

/* Contract (iomux.h): INCR key delta. OK [i64], ETYPE or ERANGE. */
EXPORT int
iomux_incr(struct iomux_client *c, const void *key, size_t keylen,
    int64_t delta, int64_t *value, struct iomux_reply *r)
{
	struct iomux_value	 argv[2];
	uint8_t			 d[8];

	buf_put_u64(d, (uint64_t)delta);
	argv[0] = val(key, keylen);
	argv[1] = val(d, sizeof(d));
	return call_i64(c, IOMUX_OP_INCR, 2, argv, value, r);
}

/*
 * Contract (iomux.h): KEYS prefix cursor limit. OK [u64 next, key...]:
 * the keys are r->argv[1] to r->argv[r->argc - 1].
 */
EXPORT int
iomux_keys(struct iomux_client *c, const void *prefix, size_t prefixlen,
    uint64_t cursor, uint32_t limit, uint64_t *next, struct iomux_reply *r)
{
	struct iomux_value	 argv[3];
	uint8_t			 cur[8], lim[4];
	size_t			 i;
	int			 err;

	buf_put_u64(cur, cursor);
	buf_put_u32(lim, limit);
	argv[0] = val(prefix, prefixlen);
	argv[1] = val(cur, sizeof(cur));
	argv[2] = limit != 0 ? val(lim, sizeof(lim)) : absent_val();
	if ((err = iomux_call(c, IOMUX_OP_KEYS, 3, argv, r)) != 0)
		return err;
	if (r->code != IOMUX_ST_OK)
		return 0;
	if ((err = reply_u64(c, IOMUX_OP_KEYS, r, 0, next)) != 0)
		return err;
	for (i = 1; i < r->argc; i++)
		if (r->argv[i].absent)
			return bad_reply(c, IOMUX_OP_KEYS);
	return 0;
}

/* Contract (iomux.h): TTL key. OK [i64 ms or -1] or NOTFOUND. */
EXPORT int
iomux_ttl(struct iomux_client *c, const void *key, size_t keylen,
    int64_t *ttl_ms, struct iomux_reply *r)
{
	struct iomux_value	 argv[1];

	argv[0] = val(key, keylen);
	return call_i64(c, IOMUX_OP_TTL, 1, argv, ttl_ms, r);
}

/* Contract (iomux.h): EXPIRE key ttl_ms. OK or NOTFOUND. */
EXPORT int
iomux_expire(struct iomux_client *c, const void *key, size_t keylen,
    uint64_t ttl_ms, struct iomux_reply *r)
{
	struct iomux_value	 argv[2];
	uint8_t			 t[8];

	buf_put_u64(t, ttl_ms);
	argv[0] = val(key, keylen);
	argv[1] = val(t, sizeof(t));
	return call_plain(c, IOMUX_OP_EXPIRE, 2, argv, 0, r);
}

/* Contract (iomux.h): PERSIST key. OK or NOTFOUND. */
EXPORT int
iomux_persist(struct iomux_client *c, const void *key, size_t keylen,
    struct iomux_reply *r)
{
	return name_plain(c, IOMUX_OP_PERSIST, key, keylen, r);
}

/*
 * Contract (iomux.h): WAIT key timeout. OK [value] or TIMEDOUT. FOREVER
 * goes as an absent argument, the protocol's own spelling of it.
 */
EXPORT int
iomux_wait(struct iomux_client *c, const void *key, size_t keylen,
    uint64_t timeout_ms, struct iomux_value *value, struct iomux_reply *r)
{
	struct iomux_value	 argv[2];
	uint8_t			 t[8];

	buf_put_u64(t, timeout_ms);
	argv[0] = val(key, keylen);
	argv[1] = timeout_ms != IOMUX_TIMEOUT_FOREVER ? val(t, sizeof(t)) :
	    absent_val();
	return call_value(c, IOMUX_OP_WAIT, 2, argv, timeout_ms, value, r);
}

/* Contract (iomux.h): PUSH queue value... OK [u64 new length]. */
EXPORT int
iomux_push(struct iomux_client *c, const void *queue, size_t queuelen,
    size_t n, const struct iomux_value *values, uint64_t *length,
    struct iomux_reply *r)
{
	return call_list(c, IOMUX_OP_PUSH, queue != NULL ? queue : "",
	    queuelen, n, values, length, r);
}

/*
 * Contract (iomux.h): POP queue [timeout]. timeout_ms 0 sends no timeout
 * (NOTFOUND when empty); anything else blocks, FOREVER included.
 */
EXPORT int
iomux_pop(struct iomux_client *c, const void *queue, size_t queuelen,
    uint64_t timeout_ms, struct iomux_value *value, struct iomux_reply *r)
{
	struct iomux_value	 argv[2];
	uint8_t			 t[8];

	buf_put_u64(t, timeout_ms);
	argv[0] = val(queue, queuelen);
	argv[1] = val(t, sizeof(t));
	return call_value(c, IOMUX_OP_POP, timeout_ms != 0 ? 2 : 1, argv,
	    timeout_ms, value, r);
}

/* Contract (iomux.h): QLEN queue. OK [u64]. */
EXPORT int
iomux_qlen(struct iomux_client *c, const void *queue, size_t queuelen,
    uint64_t *length, struct iomux_reply *r)
{
	struct iomux_value	 argv[1];

	argv[0] = val(queue, queuelen);
	return call_count(c, IOMUX_OP_QLEN, 1, argv, length, r);
}

/* Contract (iomux.h): PEEK queue. OK [value] or NOTFOUND. */
EXPORT int
iomux_peek(struct iomux_client *c, const void *queue, size_t queuelen,
    struct iomux_value *value, struct iomux_reply *r)
{
	return name_value(c, IOMUX_OP_PEEK, queue, queuelen, value, r);
}

/* Contract (iomux.h): PUBLISH channel message. OK [u64 deliveries]. */
EXPORT int
iomux_publish(struct iomux_client *c, const void *channel,
    size_t channellen, const void *msg, size_t len, uint64_t *receivers,
    struct iomux_reply *r)
{
	struct iomux_value	 argv[2];

	argv[0] = val(channel, channellen);
	argv[1] = val(msg, len);
	return call_count(c, IOMUX_OP_PUBLISH, 2, argv, receivers, r);
}

/*
 * (UN)SUBSCRIBE, or its pattern form 'pop' with IOMUX_SUB_PATTERN, for
 * the public function 'fn'.
 */
static int
call_sub(struct iomux_client *c, const char *fn, uint16_t op, uint16_t pop,
    unsigned int flags, size_t n, const struct iomux_value *channels,
    uint64_t *count, struct iomux_reply *r)
{
	if (flags & ~IOMUX_SUB_PATTERN)
		return set_err(c, -EINVAL, "%s: unknown flags 0x%x", fn,
		    flags);
	return call_list(c, (flags & IOMUX_SUB_PATTERN) ? pop : op, NULL, 0,
	    n, channels, count, r);
}

/*
 * Contract (iomux.h): SUBSCRIBE (PSUBSCRIBE with IOMUX_SUB_PATTERN)
 * channel... OK [u64 subscriptions of this connection].
 */
EXPORT int
iomux_subscribe(struct iomux_client *c, unsigned int flags, size_t n,
    const struct iomux_value *channels, uint64_t *count,
    struct iomux_reply *r)
{
	return call_sub(c, "iomux_subscribe", IOMUX_OP_SUBSCRIBE,
	    IOMUX_OP_PSUBSCRIBE, flags, n, channels, count, r);
}

/* Contract (iomux.h): UNSUBSCRIBE / PUNSUBSCRIBE; n 0 drops them all. */
EXPORT int
iomux_unsubscribe(struct iomux_client *c, unsigned int flags, size_t n,
    const struct iomux_value *channels, uint64_t *count,
    struct iomux_reply *r)
{
	return call_sub(c, "iomux_unsubscribe", IOMUX_OP_UNSUBSCRIBE,
	    IOMUX_OP_PUNSUBSCRIBE, flags, n, channels, count, r);
}

/*
 * Contract (iomux.h): LOCK name timeout lease. OK, TIMEDOUT or CONFLICT.
 * FOREVER and a lease of 0 go as absent arguments.
 */
EXPORT int
iomux_lock(struct iomux_client *c, const void *name, size_t namelen,
    uint64_t timeout_ms, uint64_t lease_ms, struct iomux_reply *r)
{
	struct iomux_value	 argv[3];
	uint8_t			 t[8], l[8];

	buf_put_u64(t, timeout_ms);
	buf_put_u64(l, lease_ms);
	argv[0] = val(name, namelen);
	argv[1] = timeout_ms != IOMUX_TIMEOUT_FOREVER ? val(t, sizeof(t)) :
	    absent_val();
	argv[2] = lease_ms != 0 ? val(l, sizeof(l)) : absent_val();
	return call_plain(c, IOMUX_OP_LOCK, lease_ms != 0 ? 3 : 2, argv,
	    timeout_ms, r);
}

/* Contract (iomux.h): UNLOCK name. OK, NOTFOUND or ENOTOWNER. */
EXPORT int
iomux_unlock(struct iomux_client *c, const void *name, size_t namelen,
    struct iomux_reply *r)
{
	return name_plain(c, IOMUX_OP_UNLOCK, name, namelen, r);
}
