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
/* In a reply of name/value pairs (HELLO, STATUS): the value of 'name',
 * or NULL. */
const struct iomux_value	*iomux_reply_field(const struct iomux_reply *,
	    const char *name);

#ifdef __cplusplus
}
#endif

#endif /* IOMUX_H */
