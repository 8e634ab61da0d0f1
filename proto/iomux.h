/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * iomux.h: libiomux, the C client library of iomuxd. See libiomux(3).
 *
 * A client is one connection. Calls on one client must not run in two
 * threads at once; distinct clients share nothing (no global state).
 * Functions return 0 (or a documented positive count) on success and
 * -errno on failure:
 *   -ENOENT, -ECONNREFUSED, -EACCES   cannot connect
 *   -ETIMEDOUT   the client's timeout passed (the connection is then in an
 *                unknown state: close it)
 *   -EPIPE, -ECONNRESET   the server closed the connection
 *   -EPROTO      the server sent a frame that cannot be parsed
 *   -EMSGSIZE    a request or reply is over the frame limit
 * iomux_errmsg() has a sentence for the last failure. A reply with a
 * non-OK status is not a failure of the call: the call returns 0 and the
 * caller reads reply->status (IOMUX_ST_* in iomux-proto.h).
 *
 * The socket is non-blocking and CLOEXEC; writes never raise SIGPIPE.
 * Callers with their own event loop use iomux_fd(), iomux_want_write()
 * and iomux_read()/iomux_write()/iomux_next() instead of the blocking
 * iomux_call().
 */

#ifndef IOMUX_H
#define IOMUX_H

#include <stddef.h>
#include <stdint.h>

#include <iomux-proto.h>

#ifdef __cplusplus
extern "C" {
#endif

struct iomux_client;

/* One argument or reply field: a byte string, or absent (data NULL). */
struct iomux_value {
	const void	*data;
	size_t		 len;
	int		 absent;
};

/*
 * A reply or push frame. kind is IOMUX_KIND_REPLY or IOMUX_KIND_PUSH;
 * code is the status (reply) or push type (push). argv points into the
 * client's buffer: valid until the next call on the same client.
 */
struct iomux_reply {
	uint8_t			 kind;
	uint16_t		 code;
	uint32_t		 id;
	size_t			 argc;
	const struct iomux_value *argv;
};

/* Called by iomux_call() for push frames that arrive before its reply. */
typedef void	iomux_push_cb(struct iomux_client *, const struct iomux_reply *,
		    void *arg);

/*
 * Default socket path: $IOMUXD_SOCKET, else /run/iomuxd/iomuxd.sock for
 * root, else $XDG_RUNTIME_DIR/iomuxd/iomuxd.sock. 0, -ENAMETOOLONG, or
 * -ENOENT when no default exists (not root and no XDG_RUNTIME_DIR).
 */
int	iomux_default_socket(char *buf, size_t len);

/*
 * The token that authenticates a TCP connection (iomux_hello_token()):
 * IOMUX_TOKEN_LEN lowercase hex characters; a buffer for one holds
 * IOMUX_TOKEN_LEN + 1 bytes.
 */
#define IOMUX_TOKEN_LEN	64

/*
 * Read a token file into buf (len at least IOMUX_TOKEN_LEN + 1): its
 * contents without trailing whitespace must be exactly IOMUX_TOKEN_LEN
 * lowercase hex characters, written NUL-terminated. path NULL means
 * $IOMUXD_TOKEN_FILE if set and not empty, else the first that can be
 * opened of "tcp/token" and "token" beside iomux_default_socket()'s path,
 * /run/iomuxd/tcp/token and /run/iomuxd/token. Returns IOMUX_TOKEN_LEN or -errno: -ENOENT when path is NULL
 * and no file was found, the open(2) error for a named file, -EINVAL for
 * contents that are not a token (or over 256 bytes), -ERANGE for a short
 * buffer. No other state is kept; the stack copy is wiped.
 */
int	iomux_token_load(const char *path, char *buf, size_t len);

/*
 * Connect to a UNIX socket path, or to "HOST:PORT" / "[V6]:PORT" over TCP
 * with iomux_connect_tcp(). timeout_ms bounds the connect and is kept as
 * the default for later calls (-1: wait forever). On success *out is a new
 * client; on failure *out is NULL and errmsg (if not NULL) receives a
 * sentence such as "iomuxd is not running at /run/iomuxd/iomuxd.sock".
 */
int	iomux_connect_unix(const char *path, int timeout_ms,
	    struct iomux_client **out, char *errmsg, size_t errlen);
int	iomux_connect_tcp(const char *hostport, int timeout_ms,
	    struct iomux_client **out, char *errmsg, size_t errlen);
/* Closes the socket and frees everything; NULL is fine. */
void	iomux_close(struct iomux_client *);

int	iomux_fd(const struct iomux_client *);
void	iomux_set_timeout(struct iomux_client *, int timeout_ms);
void	iomux_set_push_cb(struct iomux_client *, iomux_push_cb *, void *arg);
/* The frame limit this client enforces (default IOMUX_FRAME_MAX_DEFAULT;
 * iomux_hello() adopts the server's). */
void	iomux_set_frame_max(struct iomux_client *, uint32_t);
const char	*iomux_errmsg(const struct iomux_client *);
/* Text for a status code, e.g. "timed out" for IOMUX_ST_TIMEDOUT. */
const char	*iomux_status_text(uint16_t status);
const char	*iomux_status_name(uint16_t status);

/*
 * Queue one request in the client's output buffer; no I/O. Returns 0 and
 * the request id in *id (if not NULL), or -EMSGSIZE/-E2BIG/-ENOMEM.
 * Requests may be pipelined: queue several, flush, then read the replies,
 * which come back in request order.
 */
int	iomux_send(struct iomux_client *, uint16_t op, size_t argc,
	    const struct iomux_value *argv, uint32_t *id);
/* Write queued output, waiting at most the client's timeout. */
int	iomux_flush(struct iomux_client *);
/* Wait (at most the timeout) for the next frame, reply or push. */
int	iomux_recv(struct iomux_client *, struct iomux_reply *);

/* Send one request and wait for its reply; pushes go to the push callback. */
int	iomux_call(struct iomux_client *, uint16_t op, size_t argc,
	    const struct iomux_value *argv, struct iomux_reply *);

/* For callers with their own event loop (non-blocking, never wait). */
int	iomux_want_write(const struct iomux_client *);	/* 1 if output queued */
int	iomux_write(struct iomux_client *);	/* 0 done, 1 more, -errno */
int	iomux_read(struct iomux_client *);	/* bytes read, -EAGAIN, -errno;
						   0 at end of stream */
int	iomux_next(struct iomux_client *, struct iomux_reply *);
						/* 1 frame, 0 need more, -errno */

/* Convenience calls. */
int	iomux_hello(struct iomux_client *, struct iomux_reply *);
int	iomux_ping(struct iomux_client *, const void *, size_t,
	    struct iomux_reply *);
int	iomux_status(struct iomux_client *, struct iomux_reply *);
/*
 * HELLO with name (NULL: absent) and token (NULL: none), adopting the
 * server's frame limit as iomux_hello() does. A wrong token is the reply
 * IOMUX_ST_EDENIED, not a failure of the call; the connection stays open
 * and unauthenticated. Over UNIX a token grants nothing.
 */
int	iomux_hello_token(struct iomux_client *, const char *name,
	    const char *token, struct iomux_reply *);
/* WHOAMI: how the daemon sees this connection (name/value pairs). */
int	iomux_whoami(struct iomux_client *, struct iomux_reply *);
/* In a reply of name/value pairs (HELLO, STATUS, WHOAMI): the value of
 * the first field 'name', or NULL. */
const struct iomux_value	*iomux_reply_field(const struct iomux_reply *,
	    const char *name);

/*
 * The hub: typed calls, one per operation (iomuxd-protocol(7) has the
 * semantics). Each is iomux_call() underneath and returns like it: 0 when
 * a reply came, whatever its status, or -errno. The answer is r->code:
 * IOMUX_ST_OK, a negative answer (IOMUX_ST_NOTFOUND, _TIMEDOUT,
 * _CONFLICT) or an error reply with its message in r->argv[0]. Only for
 * IOMUX_ST_OK are the optional out-parameters (may be NULL) filled; an OK
 * reply of the wrong shape is -EPROTO. Values point into the client's
 * buffer like r->argv: valid until the next call on the client. Names
 * (keys, queues, channels, locks) and values are byte strings of the
 * given length, NUL bytes allowed.
 *
 * Timeouts and TTLs are milliseconds. The blocking calls (iomux_wait,
 * iomux_pop with a timeout, iomux_lock) wait up to their own timeout plus
 * the client's timeout, so that a server-side "timed out" can arrive; with
 * IOMUX_TIMEOUT_FOREVER, or a client without timeout, they wait as long as
 * it takes.
 */

/* Optional arguments of iomux_set(); NULL means all zero. */
struct iomux_set_opts {
	uint64_t			 ttl_ms;	/* 0: no expiry */
	uint32_t			 flags;		/* IOMUX_SET_NX, _XX,
							   _KEEPTTL */
	const struct iomux_value	*expected;	/* compare-and-set;
							   NULL: none */
};

/* Key-value. */
int	iomux_get(struct iomux_client *, const void *key, size_t keylen,
	    struct iomux_value *value, struct iomux_reply *);
int	iomux_set(struct iomux_client *, const void *key, size_t keylen,
	    const void *value, size_t len, const struct iomux_set_opts *,
	    struct iomux_reply *);
int	iomux_del(struct iomux_client *, size_t n,
	    const struct iomux_value *keys, uint64_t *removed,
	    struct iomux_reply *);
int	iomux_exists(struct iomux_client *, size_t n,
	    const struct iomux_value *keys, uint64_t *count,
	    struct iomux_reply *);
int	iomux_incr(struct iomux_client *, const void *key, size_t keylen,
	    int64_t delta, int64_t *value, struct iomux_reply *);
/* limit 0: the server's default. Keys are r->argv[1..r->argc - 1]; a
 * *next of 0 ends the iteration. */
int	iomux_keys(struct iomux_client *, const void *prefix, size_t len,
	    uint64_t cursor, uint32_t limit, uint64_t *next,
	    struct iomux_reply *);
/* *ttl_ms is -1 for a key without expiry. */
int	iomux_ttl(struct iomux_client *, const void *key, size_t keylen,
	    int64_t *ttl_ms, struct iomux_reply *);
int	iomux_expire(struct iomux_client *, const void *key, size_t keylen,
	    uint64_t ttl_ms, struct iomux_reply *);
int	iomux_persist(struct iomux_client *, const void *key, size_t keylen,
	    struct iomux_reply *);
/* Blocks until the key exists; timeout 0 only looks. */
int	iomux_wait(struct iomux_client *, const void *key, size_t keylen,
	    uint64_t timeout_ms, struct iomux_value *value,
	    struct iomux_reply *);

/* Queues. */
int	iomux_push(struct iomux_client *, const void *queue, size_t len,
	    size_t n, const struct iomux_value *values, uint64_t *length,
	    struct iomux_reply *);
/* timeout 0: do not wait (IOMUX_ST_NOTFOUND when empty); else block. */
int	iomux_pop(struct iomux_client *, const void *queue, size_t len,
	    uint64_t timeout_ms, struct iomux_value *value,
	    struct iomux_reply *);
int	iomux_qlen(struct iomux_client *, const void *queue, size_t len,
	    uint64_t *length, struct iomux_reply *);
int	iomux_peek(struct iomux_client *, const void *queue, size_t len,
	    struct iomux_value *value, struct iomux_reply *);

/*
 * Pub/sub. After subscribing, messages arrive as push frames: kind
 * IOMUX_KIND_PUSH, code IOMUX_PUSH_MESSAGE, id 0, argv [channel, payload]
 * or, for a pattern subscription, [channel, payload, pattern]. Read them
 * with iomux_recv() (or iomux_read()/iomux_next()); while a call waits
 * for its reply they go to the push callback instead.
 */
#define IOMUX_SUB_PATTERN	0x1	/* (P)SUBSCRIBE prefix patterns "a.*" */
int	iomux_publish(struct iomux_client *, const void *channel,
	    size_t channellen, const void *msg, size_t len,
	    uint64_t *receivers, struct iomux_reply *);
int	iomux_subscribe(struct iomux_client *, unsigned int flags, size_t n,
	    const struct iomux_value *channels, uint64_t *count,
	    struct iomux_reply *);
/* n 0: every subscription of the kind (exact or pattern). */
int	iomux_unsubscribe(struct iomux_client *, unsigned int flags, size_t n,
	    const struct iomux_value *channels, uint64_t *count,
	    struct iomux_reply *);

/*
 * Locks, held by the connection: closing the client (or the process
 * dying) releases them. timeout 0 tries once; lease 0: no lease.
 */
int	iomux_lock(struct iomux_client *, const void *name, size_t len,
	    uint64_t timeout_ms, uint64_t lease_ms, struct iomux_reply *);
int	iomux_unlock(struct iomux_client *, const void *name, size_t len,
	    struct iomux_reply *);

#ifdef __cplusplus
}
#endif

#endif /* IOMUX_H */
