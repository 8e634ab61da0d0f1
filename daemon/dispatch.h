/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * dispatch.h: from a decoded request to its reply. Each opcode range has
 * a table of handlers, one per module (cmd-*.c); handlers see decoded
 * arguments, never raw bytes, and build their reply through the reply_*
 * helpers, which encode straight into the connection's current output
 * buffer. A handler either completes one reply, or blocks the request
 * (block.h) and replies later.
 */

#ifndef IOMUXD_DISPATCH_H
#define IOMUXD_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

struct conn;

/* Opcodes per range: op & 0xff indexes a table of this many entries. */
#define DISPATCH_RANGE_OPS	32
#define DISPATCH_RANGES		5	/* 0x00xx .. 0x04xx */

struct reply {
	struct proto_enc	 enc;
	struct conn		*c;
	uint32_t		 id;
	uint16_t		 op;
	bool			 begun;
	bool			 blocked;	/* set by block_start() */
};

typedef void	handler_fn(struct conn *, const struct proto_frame *,
		    const struct proto_arg *, struct reply *);

/*
 * An opcode's handler, its argument counts and what the access rules
 * (access.h) ask of it: the least role that may run it (POLICY_NONE:
 * anyone) and which arguments are names its namespace must cover.
 */
struct handler {
	uint16_t	 op;
	uint16_t	 min_args;
	uint16_t	 max_args;
	handler_fn	*fn;
	uint8_t		 role;		/* enum policy_role */
	uint8_t		 names;		/* enum access_names */
};

/* The modules' tables, indexed by op & 0xff; fn NULL = unknown opcode. */
extern const struct handler	cmd_control_ops[DISPATCH_RANGE_OPS];
extern const struct handler	cmd_kv_ops[DISPATCH_RANGE_OPS];
extern const struct handler	cmd_queue_ops[DISPATCH_RANGE_OPS];
extern const struct handler	cmd_pubsub_ops[DISPATCH_RANGE_OPS];
extern const struct handler	cmd_lock_ops[DISPATCH_RANGE_OPS];

/* The handler of an opcode, or NULL. */
const struct handler	*dispatch_lookup(uint16_t op);

/*
 * Handle one request frame (kind REQUEST, version checked) and queue
 * exactly one reply, now or (blocked) later. Returns 0, or -errno if the
 * reply could not be queued (the output buffer is at its limit or memory
 * ran out): the caller drops the connection.
 */
int	dispatch_request(struct conn *, const struct proto_frame *,
	    const struct proto_arg *);

/* Start an OK (or other status) reply; handlers call it once. */
void	reply_begin(struct reply *, uint16_t status);
void	reply_arg(struct reply *, const void *, size_t);
void	reply_parg(struct reply *, const struct proto_arg *); /* as given */
void	reply_str(struct reply *, const char *);
void	reply_u64(struct reply *, uint64_t);	/* 8 bytes BE */
void	reply_i64(struct reply *, int64_t);	/* 8 bytes BE two's compl. */
/* A name/value pair of a structured reply (HELLO, STATUS). */
void	reply_pair(struct reply *, const char *name, const char *value);
void	reply_pair_u64(struct reply *, const char *name, uint64_t);
/* Replace whatever was begun with an error reply carrying a message. */
void	reply_error(struct reply *, uint16_t status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * The one error for a write the memory limits refuse: -EDQUOT from the
 * hub (max_memory reached, said with its value), anything else as malloc
 * failing. Both are IOMUX_ST_ENOMEM.
 */
void	reply_nomem(struct reply *, int err);
/* Finish a reply begun outside dispatch_request() (blocked requests,
 * pushes): 0, or -errno (-ENOBUFS: the output limit was reached). */
int	reply_end(struct reply *);

/*
 * A server-initiated PUSH frame to connection c (a subscriber): begin,
 * add arguments with reply_*, then reply_end(). The caller drops the
 * connection when reply_end() fails.
 */
void	push_begin(struct reply *, struct conn *c, uint16_t type);

/*
 * Argument helpers for handlers. An argument that is missing (index past
 * argc) or absent takes the default; otherwise it must have the exact
 * size. 0, or -EINVAL after replying EARGS with a message naming 'what'.
 */
int	arg_u64(struct reply *, const struct proto_frame *,
	    const struct proto_arg *, int idx, uint64_t dflt, const char *what,
	    uint64_t *out);
int	arg_u32(struct reply *, const struct proto_frame *,
	    const struct proto_arg *, int idx, uint32_t dflt, const char *what,
	    uint32_t *out);
/* Is argument idx given (present in the frame and not absent)? */
bool	arg_given(const struct proto_frame *, const struct proto_arg *, int idx);
/*
 * A name (key, queue, channel, lock, pattern): present, at most key_max
 * bytes. 0, or -EINVAL after replying EARGS/ELIMIT.
 */
int	arg_name(struct reply *, const struct proto_arg *, const char *what);
/* A value: present, at most value_max bytes. 0 or -EINVAL after replying. */
int	arg_value(struct reply *, const struct proto_arg *, const char *what);

#endif /* IOMUXD_DISPATCH_H */
