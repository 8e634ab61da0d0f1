/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * cmd-kv.c: the 0x01xx range: GET SET DEL EXISTS INCR KEYS TTL EXPIRE
 * PERSIST WAIT. Handlers check the shape of the arguments (counts are
 * checked by dispatch.c), call the store (kv.c) and turn its results into
 * replies. Multi-key requests (DEL, EXISTS) check every key before acting
 * on any, so a bad argument changes nothing.
 */

#include <sys/types.h>

#include <errno.h>

#include "access.h"
#include "block.h"
#include "conn.h"
#include "dispatch.h"
#include "kv.h"
#include "serve.h"
#include "server.h"

static handler_fn	op_get, op_set, op_del, op_exists, op_incr, op_keys,
			op_ttl, op_expire, op_persist, op_wait;

#define OP(name, lo, hi, fn, role, names)	\
	[IOMUX_OP_##name & 0xff] = { IOMUX_OP_##name, lo, hi, fn,	\
	    POLICY_##role, ACCESS_N_##names }

/* KEYS names its prefix: a namespace must cover all it can list. */
const struct handler cmd_kv_ops[DISPATCH_RANGE_OPS] = {
	OP(GET, 1, 1, op_get, RO, FIRST),
	OP(SET, 2, 5, op_set, RW, FIRST),
	OP(DEL, 1, IOMUX_ARGS_MAX, op_del, RW, ALL),
	OP(EXISTS, 1, IOMUX_ARGS_MAX, op_exists, RO, ALL),
	OP(INCR, 1, 2, op_incr, RW, FIRST),
	OP(KEYS, 1, 3, op_keys, RO, PREFIX),
	OP(TTL, 1, 1, op_ttl, RO, FIRST),
	OP(EXPIRE, 2, 2, op_expire, RW, FIRST),
	OP(PERSIST, 1, 1, op_persist, RW, FIRST),
	OP(WAIT, 1, 2, op_wait, RO, FIRST),
};

/* KEYS results, filled and sent within one request. */
static struct kv_key	keys_out[IOMUX_KEYS_LIMIT_MAX];

/* Check every argument from 'from' on as a key. */
static int
args_keys(struct reply *r, const struct proto_frame *f,
    const struct proto_arg *args, int from)
{
	int	i;

	for (i = from; i < f->argc; i++)
		if (arg_name(r, &args[i], "key") < 0)
			return -EINVAL;
	return 0;
}

/*
 * The optional u64 TTL at args[idx] (0 if not given), at most
 * IOMUX_TTL_MAX; -EINVAL after replying EARGS.
 */
static int
arg_ttl(struct reply *r, const struct proto_frame *f,
    const struct proto_arg *args, int idx, const char *op, uint64_t *ttl)
{
	if (arg_u64(r, f, args, idx, 0, "the ttl", ttl) < 0)
		return -EINVAL;
	if (*ttl > IOMUX_TTL_MAX) {
		reply_error(r, IOMUX_ST_EARGS, "%s: the ttl must be at most "
		    "%llu ms, not %llu", op, (unsigned long long)IOMUX_TTL_MAX,
		    (unsigned long long)*ttl);
		return -EINVAL;
	}
	return 0;
}

/* GET key -> OK [value] | NOTFOUND. The hot path: no allocation. */
static void
op_get(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	const uint8_t	*val;
	size_t		 vlen;

	if (arg_name(r, &args[0], "key") < 0)
		return;
	if (kv_get(c->srv->kv, args[0].p, args[0].len, &val, &vlen) < 0) {
		reply_begin(r, IOMUX_ST_NOTFOUND);
		return;
	}
	reply_begin(r, IOMUX_ST_OK);
	reply_arg(r, val, vlen);
}

/* SET key value [ttl_ms] [flags] [expected] -> OK | CONFLICT. */
static void
op_set(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	const struct proto_arg	*expected = NULL;
	uint64_t		 ttl;
	uint32_t		 flags;
	int			 ret;

	if (arg_name(r, &args[0], "key") < 0 ||
	    arg_value(r, &args[1], "value") < 0 ||
	    arg_ttl(r, f, args, 2, "set", &ttl) < 0 ||
	    arg_u32(r, f, args, 3, 0, "the flags", &flags) < 0)
		return;
	if (flags & ~(uint32_t)(IOMUX_SET_NX | IOMUX_SET_XX |
	    IOMUX_SET_KEEPTTL)) {
		reply_error(r, IOMUX_ST_EARGS, "set: unknown flags 0x%x",
		    (unsigned int)flags);
		return;
	}
	if ((flags & IOMUX_SET_NX) && (flags & IOMUX_SET_XX)) {
		reply_error(r, IOMUX_ST_EARGS,
		    "set: the NX and XX flags exclude each other");
		return;
	}
	if (arg_given(f, args, 4))
		expected = &args[4];
	/* NX wants no key, a compare wants one: no SET could ever pass. */
	if ((flags & IOMUX_SET_NX) && expected != NULL) {
		reply_error(r, IOMUX_ST_EARGS,
		    "set: the NX flag and an expected value exclude each other");
		return;
	}
	ret = kv_set(c->srv->kv, args[0].p, args[0].len, args[1].p,
	    args[1].len, ttl, flags, expected);
	if (ret < 0)
		reply_nomem(r, ret);
	else
		reply_begin(r, ret == KV_E_CONFLICT ? IOMUX_ST_CONFLICT :
		    IOMUX_ST_OK);
	serve_hub(c->srv);	/* WAITs for the key */
}

/* DEL key... -> OK [u64 removed]. */
static void
op_del(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	uint64_t	n = 0;
	int		i;

	if (args_keys(r, f, args, 0) < 0)
		return;
	for (i = 0; i < f->argc; i++)
		n += (uint64_t)kv_del(c->srv->kv, args[i].p, args[i].len);
	reply_begin(r, IOMUX_ST_OK);
	reply_u64(r, n);
}

/* EXISTS key... -> OK [u64 count]; a key named twice counts twice. */
static void
op_exists(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	uint64_t	n = 0;
	int		i;

	if (args_keys(r, f, args, 0) < 0)
		return;
	for (i = 0; i < f->argc; i++)
		n += kv_exists(c->srv->kv, args[i].p, args[i].len);
	reply_begin(r, IOMUX_ST_OK);
	reply_u64(r, n);
}

/* INCR key [delta i64] -> OK [i64] | ETYPE | ERANGE. */
static void
op_incr(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	uint64_t	delta;
	int64_t		v;
	int		ret;

	if (arg_name(r, &args[0], "key") < 0 ||
	    arg_u64(r, f, args, 1, 1, "the delta", &delta) < 0)
		return;
	ret = kv_incr(c->srv->kv, args[0].p, args[0].len, (int64_t)delta, &v);
	serve_hub(c->srv);	/* WAITs for a key INCR created */
	switch (ret) {
	case 0:
		reply_begin(r, IOMUX_ST_OK);
		reply_i64(r, v);
		break;
	case -EINVAL:
		reply_error(r, IOMUX_ST_ETYPE,
		    "incr: the value is not a decimal 64-bit integer");
		break;
	case -ERANGE:
		reply_error(r, IOMUX_ST_ERANGE,
		    "incr: the result would overflow a 64-bit integer");
		break;
	default:
		reply_nomem(r, ret);
		break;
	}
}

/* KEYS prefix [cursor u64] [limit u32] -> OK [u64 next, key...]. */
static void
op_keys(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	struct server	*srv = c->srv;
	uint64_t	 cursor;
	uint32_t	 limit;
	size_t		 n, i, room;

	if (arg_name(r, &args[0], "prefix") < 0 ||
	    arg_u64(r, f, args, 1, 0, "the cursor", &cursor) < 0 ||
	    arg_u32(r, f, args, 2, IOMUX_KEYS_LIMIT_DEFAULT, "the limit",
	    &limit) < 0)
		return;
	/* 0 is a malformed request; too many is a count over a limit. */
	if (limit == 0) {
		reply_error(r, IOMUX_ST_EARGS,
		    "keys: the limit must be from 1 to %d, not 0",
		    IOMUX_KEYS_LIMIT_MAX);
		return;
	}
	if (limit > IOMUX_KEYS_LIMIT_MAX) {
		reply_error(r, IOMUX_ST_ELIMIT, "keys: the limit is %lu, over "
		    "the most keys per reply (%d)", (unsigned long)limit,
		    IOMUX_KEYS_LIMIT_MAX);
		return;
	}
	/* The keys must fit one frame with the header and the cursor. */
	room = srv->conf.frame_max - IOMUX_BODY_HDR_SIZE -
	    IOMUX_ARG_HDR_SIZE - 8;
	cursor = kv_keys(srv->kv, args[0].p, args[0].len, cursor, limit, room,
	    keys_out, &n);
	reply_begin(r, IOMUX_ST_OK);
	reply_u64(r, cursor);
	for (i = 0; i < n; i++)
		reply_arg(r, keys_out[i].p, keys_out[i].len);
}

/* TTL key -> OK [i64 ms, -1 = none] | NOTFOUND. */
static void
op_ttl(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	int64_t	ms;

	if (arg_name(r, &args[0], "key") < 0)
		return;
	if (kv_ttl(c->srv->kv, args[0].p, args[0].len, &ms) < 0) {
		reply_begin(r, IOMUX_ST_NOTFOUND);
		return;
	}
	reply_begin(r, IOMUX_ST_OK);
	reply_i64(r, ms);
}

/* EXPIRE key ttl_ms (> 0) -> OK | NOTFOUND. */
static void
op_expire(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	uint64_t	ttl;
	int		ret;

	if (arg_name(r, &args[0], "key") < 0 ||
	    arg_ttl(r, f, args, 1, "expire", &ttl) < 0)
		return;
	if (ttl == 0) {
		reply_error(r, IOMUX_ST_EARGS,
		    "expire: the ttl must be given and above 0");
		return;
	}
	ret = kv_expire(c->srv->kv, args[0].p, args[0].len, ttl);
	if (ret == -ENOENT)
		reply_begin(r, IOMUX_ST_NOTFOUND);
	else if (ret < 0)
		reply_nomem(r, ret);
	else
		reply_begin(r, IOMUX_ST_OK);
}

/* PERSIST key -> OK | NOTFOUND. */
static void
op_persist(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	if (arg_name(r, &args[0], "key") < 0)
		return;
	if (kv_persist(c->srv->kv, args[0].p, args[0].len) < 0)
		reply_begin(r, IOMUX_ST_NOTFOUND);
	else
		reply_begin(r, IOMUX_ST_OK);
}

/* WAIT key [timeout_ms] -> OK [value] | TIMEDOUT; at once if it exists. */
/* block.c's cancel callback: deadline, disconnect or shutdown. */
static void
cancel(struct waiter *w)
{
	kv_wait_cancel(&w->hw);
}

static void
op_wait(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args, struct reply *r)
{
	const uint8_t	*val;
	struct kv_wait	*wk;
	struct waiter	*w;
	size_t		 vlen;
	uint64_t	 timeout;

	if (arg_name(r, &args[0], "key") < 0 ||
	    arg_u64(r, f, args, 1, IOMUX_TIMEOUT_FOREVER, "the timeout",
	    &timeout) < 0)
		return;
	if (kv_get(c->srv->kv, args[0].p, args[0].len, &val, &vlen) == 0) {
		reply_begin(r, IOMUX_ST_OK);
		reply_arg(r, val, vlen);
		return;
	}
	if (timeout == 0) {
		reply_begin(r, IOMUX_ST_TIMEDOUT);
		return;
	}
	if ((wk = kv_wait_get(c->srv->kv, args[0].p, args[0].len)) == NULL) {
		reply_nomem(r, -ENOMEM);
		return;
	}
	if ((w = block_start(r, timeout, cancel, wk)) == NULL) {
		kv_wait_put(wk);	/* replied; nobody waits after all */
		return;
	}
	kv_wait_add(wk, &w->hw);
}
