/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * cmd-control.c: the 0x00xx range: HELLO, PING and STATUS.
 */

#include <sys/types.h>

#include "conn.h"
#include "dispatch.h"
#include "server.h"
#include "status.h"

#define HELLO_NAME_MAX	64

static handler_fn	op_hello, op_ping, op_status;

const struct handler cmd_control_ops[DISPATCH_RANGE_OPS] = {
	[IOMUX_OP_HELLO & 0xff] = { IOMUX_OP_HELLO, 1, 2, op_hello },
	[IOMUX_OP_PING & 0xff] = { IOMUX_OP_PING, 0, 1, op_ping },
	[IOMUX_OP_STATUS & 0xff] = { IOMUX_OP_STATUS, 0, 0, op_status },
};

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
	reply_pair_u64(r, "key_max", srv->conf.key_max);
	reply_pair_u64(r, "value_max", srv->conf.value_max);
}

/* PING: echo the argument, if any, byte for byte. */
static void
op_ping(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	reply_begin(r, IOMUX_ST_OK);
	if (f->argc == 1)
		reply_parg(r, &args[0]);
}

static void
op_status(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	reply_begin(r, IOMUX_ST_OK);
	status_reply(c->srv, r);
}
