/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * dispatch.c: the opcode table and the reply helpers.
 *
 * Every request gets exactly one reply, in request order: a handler
 * either builds an OK reply or replaces it with an error via
 * reply_error(). Argument counts are checked against the table before a
 * handler runs, so handlers only check the shape of each argument.
 *
 * Replies are encoded into conn_reply_buf(), which is the server's
 * shared scratch buffer while the connection has nothing queued, so the
 * request path allocates nothing.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "dispatch.h"
#include "server.h"
#include "status.h"

#define HELLO_NAME_MAX	64

typedef void	handler_fn(struct conn *, const struct proto_frame *,
		    const struct proto_arg *, struct reply *);

struct handler {
	uint16_t	 op;
	enum stat_op	 stat;
	uint16_t	 min_args;
	uint16_t	 max_args;
	handler_fn	*fn;
};

static handler_fn	op_hello, op_ping, op_status;

/* Indexed by the low byte of opcodes in the 0x00xx range. */
static const struct handler control_ops[] = {
	[IOMUX_OP_HELLO & 0xff] =
	    { IOMUX_OP_HELLO, STAT_OP_HELLO, 1, 2, op_hello },
	[IOMUX_OP_PING & 0xff] =
	    { IOMUX_OP_PING, STAT_OP_PING, 0, 1, op_ping },
	[IOMUX_OP_STATUS & 0xff] =
	    { IOMUX_OP_STATUS, STAT_OP_STATUS, 0, 0, op_status },
};

static const struct handler *
lookup(uint16_t op)
{
	const struct handler	*h = NULL;
	size_t			 lo = op & 0xff;

	switch (op >> 8) {
	case 0x00:
		if (lo < sizeof(control_ops) / sizeof(control_ops[0]))
			h = &control_ops[lo];
		break;
	default:
		break;
	}
	if (h != NULL && h->fn == NULL)
		h = NULL;
	return h;
}

int
dispatch_request(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args)
{
	struct server		*srv = c->srv;
	const struct handler	*h;
	struct reply		 r;
	int			 ret;

	r.c = c;
	r.id = f->id;
	r.begun = false;
	srv->stats.requests++;

	if ((h = lookup(f->code)) == NULL) {
		srv->stats.requests_op[STAT_OP_UNKNOWN]++;
		reply_error(&r, IOMUX_ST_EUNKNOWN, "unknown opcode 0x%04x",
		    f->code);
	} else {
		srv->stats.requests_op[h->stat]++;
		if (f->argc < h->min_args || f->argc > h->max_args) {
			if (h->min_args == h->max_args)
				reply_error(&r, IOMUX_ST_EARGS,
				    "%s takes %u argument%s, not %u",
				    proto_op_name(h->op), h->min_args,
				    h->min_args == 1 ? "" : "s", f->argc);
			else
				reply_error(&r, IOMUX_ST_EARGS,
				    "%s takes %u to %u arguments, not %u",
				    proto_op_name(h->op), h->min_args,
				    h->max_args, f->argc);
		} else
			h->fn(c, f, args, &r);
	}
	if (!r.begun)	/* a handler that forgot its reply is a bug */
		reply_error(&r, IOMUX_ST_EINTERNAL, "no reply produced");
	ret = proto_enc_end(&r.enc);
	return ret < 0 ? ret : 0;
}

void
reply_begin(struct reply *r, uint16_t status)
{
	struct server	*srv = r->c->srv;

	proto_enc_begin(&r->enc, conn_reply_buf(r->c), srv->conf.frame_max,
	    IOMUX_KIND_REPLY, status, r->id);
	r->begun = true;
}

void
reply_arg(struct reply *r, const void *p, size_t len)
{
	proto_enc_arg(&r->enc, p, len);
}

void
reply_str(struct reply *r, const char *s)
{
	proto_enc_str(&r->enc, s);
}

void
reply_pair(struct reply *r, const char *name, const char *value)
{
	proto_enc_str(&r->enc, name);
	proto_enc_str(&r->enc, value);
}

void
reply_pair_u64(struct reply *r, const char *name, uint64_t v)
{
	char	num[24];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	reply_pair(r, name, num);
}

void
reply_error(struct reply *r, uint16_t status, const char *fmt, ...)
{
	char	 msg[256];
	va_list	 ap;

	if (r->begun) {
		/* Drop the partial reply: proto_enc_end() unwinds on error. */
		if (r->enc.err == 0)
			r->enc.err = -ECANCELED;
		(void)proto_enc_end(&r->enc);
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply_begin(r, status);
	reply_str(r, msg);
}

/*
 * HELLO: the client's highest protocol version and an optional name; we
 * answer with the version both speak and our limits.
 */
static void
op_hello(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	struct server	*srv = c->srv;
	uint32_t	 version;

	if (proto_arg_u32(&args[0], &version) < 0) {
		reply_error(r, IOMUX_ST_EARGS,
		    "hello: the version must be a 4-byte unsigned integer");
		return;
	}
	if (f->argc > 1 && (args[1].absent || args[1].len > HELLO_NAME_MAX)) {
		reply_error(r, IOMUX_ST_EARGS,
		    "hello: the client name must be at most %d bytes",
		    HELLO_NAME_MAX);
		return;
	}
	if (version < 1) {
		reply_error(r, IOMUX_ST_EVERSION,
		    "no common protocol version (server speaks %d)",
		    IOMUX_PROTO_VERSION);
		return;
	}
	reply_begin(r, IOMUX_ST_OK);
	reply_pair_u64(r, "proto", IOMUX_PROTO_VERSION);
	reply_pair(r, "server", PACKAGE_NAME " " PACKAGE_VERSION);
	reply_pair_u64(r, "frame_max", srv->conf.frame_max);
	reply_pair_u64(r, "args_max", IOMUX_ARGS_MAX);
}

/* PING: echo the argument, if any, byte for byte. */
static void
op_ping(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	reply_begin(r, IOMUX_ST_OK);
	if (f->argc == 1) {
		if (args[0].absent)
			proto_enc_absent(&r->enc);
		else
			reply_arg(r, args[0].p, args[0].len);
	}
}

static void
op_status(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	reply_begin(r, IOMUX_ST_OK);
	status_reply(c->srv, r);
}
