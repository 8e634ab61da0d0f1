/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * iomux-proto.h: the iomuxd wire protocol in one header.
 *
 * Everything a peer needs to frame, number and interpret messages lives
 * here; iomuxd-protocol(7) is the prose version of the same facts. All
 * integers on the wire are big-endian (network order). Nothing is ever a
 * memcpy of a C struct.
 *
 * Frame:
 *
 *	u32 length        bytes of the body that follows (not counting itself)
 *	body:
 *	  u8  version     IOMUX_PROTO_VERSION
 *	  u8  kind        IOMUX_KIND_REQUEST, _REPLY or _PUSH
 *	  u16 code        opcode (request), status (reply), push type (push)
 *	  u32 id          request id, echoed by the reply; 0 in a push
 *	  u16 argc        number of arguments, at most IOMUX_ARGS_MAX
 *	  argc times:
 *	    u32 len       length of the argument, or IOMUX_ARG_ABSENT
 *	    len bytes     the argument (absent: no bytes follow)
 *
 * The body must be exactly consumed by its arguments; trailing bytes are a
 * protocol error. Numbers and codes are never renumbered or reused: a new
 * meaning gets a new number.
 *
 * Changelog:
 *	1	first version: HELLO, PING, STATUS; the data opcodes of
 *		the 0x01xx-0x04xx ranges. Added later, within version 1
 *		(a server without them answers EUNKNOWN or EARGS): WHOAMI,
 *		HELLO's token argument, EDENIED from the access rules.
 *		Also within version 1: KEYS with a limit over
 *		IOMUX_KEYS_LIMIT_MAX answers ELIMIT (was EARGS); SET and
 *		EXPIRE refuse a TTL over IOMUX_TTL_MAX with EARGS (was
 *		taken); SET with NX and an expected value answers EARGS
 *		(was CONFLICT); idle_timeout spares a connection with
 *		subscriptions. No number changed.
 */

#ifndef IOMUX_PROTO_H
#define IOMUX_PROTO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IOMUX_PROTO_VERSION	1

/* Sizes on the wire. */
#define IOMUX_LEN_SIZE		4	/* the u32 length prefix */
#define IOMUX_BODY_HDR_SIZE	10	/* version..argc */
#define IOMUX_ARG_HDR_SIZE	4	/* per-argument u32 length */
#define IOMUX_ARG_ABSENT	0xffffffffu	/* "no value", not "empty" */

/* Limits. The frame limit counts the body (the length field's value). */
#define IOMUX_FRAME_MAX_DEFAULT	(1u << 20)	/* 1 MiB */
#define IOMUX_FRAME_MAX_CAP	(64u << 20)	/* configurable up to 64 MiB */
#define IOMUX_FRAME_MIN_LIMIT	(4u << 10)	/* smallest configurable limit */
#define IOMUX_ARGS_MAX		1024

/*
 * Per-request limits of the data opcodes, the same for the daemon and
 * every client. KEYS: how many keys one reply may list (the request's
 * limit argument, 1 to the maximum; absent means the default). PUSH: how
 * many values one request may carry, the queue name taking the first of
 * its IOMUX_ARGS_MAX arguments.
 */
#define IOMUX_KEYS_LIMIT_DEFAULT	100
#define IOMUX_KEYS_LIMIT_MAX	1000
#define IOMUX_PUSH_VALUES_MAX	(IOMUX_ARGS_MAX - 1)

/* Frame kinds. */
#define IOMUX_KIND_REQUEST	0x01	/* client -> server */
#define IOMUX_KIND_REPLY	0x02	/* server -> client, one per request */
#define IOMUX_KIND_PUSH		0x03	/* server -> client, unsolicited */

/*
 * Opcodes, in ranges: 0x00xx connection and control, 0x01xx key-value,
 * 0x02xx queues, 0x03xx pub/sub, 0x04xx locks.
 */
#define IOMUX_OP_HELLO		0x0001
#define IOMUX_OP_PING		0x0002
#define IOMUX_OP_STATUS		0x0003
#define IOMUX_OP_WHOAMI		0x0004

#define IOMUX_OP_GET		0x0101
#define IOMUX_OP_SET		0x0102
#define IOMUX_OP_DEL		0x0103
#define IOMUX_OP_EXISTS		0x0104
#define IOMUX_OP_INCR		0x0105
#define IOMUX_OP_KEYS		0x0106
#define IOMUX_OP_TTL		0x0107
#define IOMUX_OP_EXPIRE		0x0108
#define IOMUX_OP_PERSIST	0x0109
#define IOMUX_OP_WAIT		0x010a

#define IOMUX_OP_PUSH		0x0201
#define IOMUX_OP_POP		0x0202
#define IOMUX_OP_QLEN		0x0203
#define IOMUX_OP_PEEK		0x0204

#define IOMUX_OP_SUBSCRIBE	0x0301
#define IOMUX_OP_UNSUBSCRIBE	0x0302
#define IOMUX_OP_PSUBSCRIBE	0x0303
#define IOMUX_OP_PUNSUBSCRIBE	0x0304
#define IOMUX_OP_PUBLISH	0x0305

#define IOMUX_OP_LOCK		0x0401
#define IOMUX_OP_TRYLOCK	0x0402
#define IOMUX_OP_UNLOCK		0x0403

/*
 * Codes 0x8000-0xffff are never opcodes on the wire: the state files
 * (iomuxd-state(5)) use them for record kinds of their own.
 */

/* Timeouts and TTLs are u64 milliseconds; this one means "no deadline". */
#define IOMUX_TIMEOUT_FOREVER	UINT64_C(0xffffffffffffffff)

/*
 * The longest TTL of SET and EXPIRE, 2^62 ms (about 146 million years):
 * the remaining time TTL reports must fit its i64 with room to spare. A
 * longer one is EARGS.
 */
#define IOMUX_TTL_MAX		(UINT64_C(1) << 62)

/* SET flags (the optional u32 flags argument). */
#define IOMUX_SET_NX		0x1	/* only if the key is absent */
#define IOMUX_SET_XX		0x2	/* only if the key is present */
#define IOMUX_SET_KEEPTTL	0x4	/* keep an existing expiry */

/* Push types (the code of an IOMUX_KIND_PUSH frame). */
#define IOMUX_PUSH_MESSAGE	0x0301	/* args: channel, payload[, pattern] */

/*
 * Status codes of replies. 0x00xx: answers, the request was understood
 * (OK, or a negative answer a script acts on). 0x01xx: the request was
 * wrong. 0x02xx: the server could not do it. Every non-OK reply whose
 * status is 0x0100 or above carries one argument, a human-readable
 * message (UTF-8, no trailing newline).
 */
#define IOMUX_ST_OK		0x0000
#define IOMUX_ST_TIMEDOUT	0x0001	/* a blocking call's deadline passed */
#define IOMUX_ST_NOTFOUND	0x0002	/* key, queue item or lock absent */
#define IOMUX_ST_CONFLICT	0x0003	/* NX/XX/compare failed, lock busy */

#define IOMUX_ST_EPROTO		0x0100	/* unparseable frame; conn closes */
#define IOMUX_ST_ETOOBIG	0x0101	/* frame over limit; conn closes */
#define IOMUX_ST_EVERSION	0x0102	/* unsupported version; conn closes */
#define IOMUX_ST_EUNKNOWN	0x0103	/* unknown opcode; conn stays */
#define IOMUX_ST_EARGS		0x0104	/* wrong number or shape of args */
#define IOMUX_ST_ELIMIT		0x0105	/* a key, value or count too large */
#define IOMUX_ST_ETYPE		0x0106	/* e.g. INCR of a non-integer */
#define IOMUX_ST_ERANGE		0x0107	/* e.g. INCR overflow */
#define IOMUX_ST_ENOTOWNER	0x0108	/* UNLOCK by a non-holder */
#define IOMUX_ST_EDENIED	0x0109	/* the access rules do not allow it */
#define IOMUX_ST_ETIMEOUT	0x010a	/* frame not completed in time; closes */
#define IOMUX_ST_EKIND		0x010b	/* a client sent a non-request */

#define IOMUX_ST_EBUSY		0x0200	/* server full; conn closes */
#define IOMUX_ST_ENOMEM		0x0201	/* memory limit reached */
#define IOMUX_ST_ESHUTDOWN	0x0202	/* server stopping */
#define IOMUX_ST_EINTERNAL	0x0203	/* a bug: please report */

#define IOMUX_ST_IS_ERROR(st)	((st) >= 0x0100)

#ifdef __cplusplus
}
#endif

#endif /* IOMUX_PROTO_H */
