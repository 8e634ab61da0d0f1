/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * cmd-control.c: the 0x00xx range: HELLO, PING and STATUS.
 */

#include <sys/types.h>

#include "access.h"
#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "server.h"
#include "status.h"

#define HELLO_NAME_MAX	64

static struct log_ratelimit	rl_token = { .burst = 5 };

static handler_fn	op_hello, op_ping, op_status, op_whoami;

/* HELLO, PING and WHOAMI are anyone's: they are how a client finds out. */
const struct handler cmd_control_ops[DISPATCH_RANGE_OPS] = {
	[IOMUX_OP_HELLO & 0xff] = { IOMUX_OP_HELLO, 1, 3, op_hello,
	    POLICY_NONE, ACCESS_N_NONE },
	[IOMUX_OP_PING & 0xff] = { IOMUX_OP_PING, 0, 1, op_ping,
	    POLICY_NONE, ACCESS_N_NONE },
	[IOMUX_OP_STATUS & 0xff] = { IOMUX_OP_STATUS, 0, 0, op_status,
	    POLICY_RO, ACCESS_N_NONE },
	[IOMUX_OP_WHOAMI & 0xff] = { IOMUX_OP_WHOAMI, 0, 0, op_whoami,
	    POLICY_NONE, ACCESS_N_NONE },
};

/*
 * HELLO version [name [token]]: the client's highest protocol version,
 * an optional name and, over TCP, the token that stands in for the peer
 * credentials TCP lacks. We answer with the version both speak, our
 * limits and how the connection is known. A wrong token is refused on
 * its own: the connection stays, as unauthenticated as it was.
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
	if (f->argc > 1 && !args[1].absent && args[1].len > HELLO_NAME_MAX) {
		reply_error(r, IOMUX_ST_EARGS,
		    "hello: the client name is %lu bytes, over the %d allowed",
		    (unsigned long)args[1].len, HELLO_NAME_MAX);
		return;
	}
	if (version < 1) {
		reply_error(r, IOMUX_ST_EVERSION,
		    "no common protocol version (server speaks %d)",
		    IOMUX_PROTO_VERSION);
		return;
	}
	if (arg_given(f, args, 2)) {
		if (!token_check(&srv->token, args[2].p, args[2].len)) {
			srv->stats.auth_failures++;
			if (log_ratelimit_ok(&rl_token, ev_now(srv->loop))) {
				char	name[CONN_NAME_MAX];

				conn_name(c, name, sizeof(name));
				log_warnx("%s: HELLO with a wrong token", name);
			}
			reply_error(r, IOMUX_ST_EDENIED, "hello: wrong token");
			return;
		}
		/* Over UNIX the peer credentials decide; it adds nothing. */
		if ((c->flags & CONN_F_TCP) && !(c->flags & CONN_F_AUTH)) {
			c->flags |= CONN_F_AUTH;
			access_authenticated(c);
		}
	}
	reply_begin(r, IOMUX_ST_OK);
	reply_pair_u64(r, "proto", IOMUX_PROTO_VERSION);
	reply_pair(r, "server", PACKAGE_NAME " " PACKAGE_VERSION);
	reply_pair_u64(r, "frame_max", srv->conf.frame_max);
	reply_pair_u64(r, "args_max", IOMUX_ARGS_MAX);
	reply_pair_u64(r, "key_max", srv->conf.key_max);
	reply_pair_u64(r, "value_max", srv->conf.value_max);
	reply_pair(r, "auth", !(c->flags & CONN_F_TCP) ? "peer" :
	    (c->flags & CONN_F_AUTH) ? "token" : "none");
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

/* STATUS: the details (who is connected, limits, counters) are admin's. */
static void
op_status(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	reply_begin(r, IOMUX_ST_OK);
	status_reply(c->srv, r, access_is_admin(c));
}

static void
op_whoami(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	reply_begin(r, IOMUX_ST_OK);
	access_whoami(c, r);
}
