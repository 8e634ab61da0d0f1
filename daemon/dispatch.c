/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * dispatch.c: opcode lookup, the reply and argument helpers.
 *
 * Every request gets exactly one reply, in request order: a handler
 * builds an OK reply, replaces it with an error via reply_error(), or
 * blocks the request (block.h), whose reply then comes later but still
 * before any reply to the connection's later requests. Argument counts are
 * checked against the table before a handler runs, so handlers only check
 * the shape of each argument.
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

#include "access.h"
#include "conn.h"
#include "dispatch.h"
#include "server.h"

static const struct handler *const ranges[DISPATCH_RANGES] = {
	cmd_control_ops,
	cmd_kv_ops,
	cmd_queue_ops,
	cmd_pubsub_ops,
	cmd_lock_ops,
};

const struct handler *
dispatch_lookup(uint16_t op)
{
	const struct handler	*h;
	size_t			 range = op >> 8, lo = op & 0xff;

	if (range >= DISPATCH_RANGES || lo >= DISPATCH_RANGE_OPS)
		return NULL;
	h = &ranges[range][lo];
	return h->fn != NULL ? h : NULL;
}

/*
 * The access rules, before the handler: one comparison when a rule
 * without a namespace decides all the connection does (access.c).
 */
static inline bool
access_allowed(struct conn *c, const struct handler *h,
    const struct proto_frame *f, const struct proto_arg *args,
    struct reply *r)
{
	if (h->role == POLICY_NONE || c->acc.all_role >= (int)h->role)
		return true;
	return access_check(c, h, f, args, r);
}

int
dispatch_request(struct conn *c, const struct proto_frame *f,
    const struct proto_arg *args)
{
	struct server		*srv = c->srv;
	const struct handler	*h;
	struct reply		 r;

	r.c = c;
	r.id = f->id;
	r.op = f->code;
	r.begun = false;
	r.blocked = false;
	srv->stats.requests++;

	if ((h = dispatch_lookup(f->code)) == NULL) {
		srv->stats.requests_unknown++;
		reply_error(&r, IOMUX_ST_EUNKNOWN, "unknown opcode 0x%04x",
		    f->code);
	} else {
		srv->stats.requests_op[h->op >> 8][h->op & 0xff]++;
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
		} else if (access_allowed(c, h, f, args, &r))
			h->fn(c, f, args, &r);
	}
	if (r.blocked)
		return 0;	/* answered later, by block_done() */
	if (!r.begun)	/* a handler that forgot its reply is a bug */
		reply_error(&r, IOMUX_ST_EINTERNAL, "no reply produced");
	return reply_end(&r);
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
push_begin(struct reply *r, struct conn *c, uint16_t type)
{
	r->c = c;
	r->id = 0;
	r->op = 0;
	r->blocked = false;
	proto_enc_begin(&r->enc, conn_reply_buf(c), c->srv->conf.frame_max,
	    IOMUX_KIND_PUSH, type, 0);
	r->begun = true;
}

int
reply_end(struct reply *r)
{
	int	ret = proto_enc_end(&r->enc);

	return ret < 0 ? ret : 0;
}

void
reply_arg(struct reply *r, const void *p, size_t len)
{
	proto_enc_arg(&r->enc, p, len);
}

void
reply_parg(struct reply *r, const struct proto_arg *a)
{
	if (a->absent)
		proto_enc_absent(&r->enc);
	else
		proto_enc_arg(&r->enc, a->p, a->len);
}

void
reply_str(struct reply *r, const char *s)
{
	proto_enc_str(&r->enc, s);
}

void
reply_u64(struct reply *r, uint64_t v)
{
	proto_enc_u64(&r->enc, v);
}

void
reply_i64(struct reply *r, int64_t v)
{
	proto_enc_u64(&r->enc, (uint64_t)v);
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

void
reply_nomem(struct reply *r, int err)
{
	if (err == -EDQUOT)
		reply_error(r, IOMUX_ST_ENOMEM, "out of memory: max_memory "
		    "(%llu bytes) reached",
		    (unsigned long long)r->c->srv->limits.max_memory);
	else
		reply_error(r, IOMUX_ST_ENOMEM, "out of memory");
}

bool
arg_given(const struct proto_frame *f, const struct proto_arg *args, int idx)
{
	return idx < f->argc && !args[idx].absent;
}

int
arg_u64(struct reply *r, const struct proto_frame *f,
    const struct proto_arg *args, int idx, uint64_t dflt, const char *what,
    uint64_t *out)
{
	if (!arg_given(f, args, idx)) {
		*out = dflt;
		return 0;
	}
	if (proto_arg_u64(&args[idx], out) < 0) {
		reply_error(r, IOMUX_ST_EARGS, "%s: %s must be an 8-byte "
		    "integer", proto_op_name(r->op), what);
		return -EINVAL;
	}
	return 0;
}

int
arg_u32(struct reply *r, const struct proto_frame *f,
    const struct proto_arg *args, int idx, uint32_t dflt, const char *what,
    uint32_t *out)
{
	if (!arg_given(f, args, idx)) {
		*out = dflt;
		return 0;
	}
	if (proto_arg_u32(&args[idx], out) < 0) {
		reply_error(r, IOMUX_ST_EARGS, "%s: %s must be a 4-byte "
		    "integer", proto_op_name(r->op), what);
		return -EINVAL;
	}
	return 0;
}

/* A byte string that must be present and at most max bytes long. */
static int
arg_bytes(struct reply *r, const struct proto_arg *a, const char *what,
    uint32_t max, const char *limit)
{
	if (a->absent) {
		reply_error(r, IOMUX_ST_EARGS, "%s: the %s must not be absent",
		    proto_op_name(r->op), what);
		return -EINVAL;
	}
	if (a->len > max) {
		reply_error(r, IOMUX_ST_ELIMIT, "%s: the %s is %lu bytes, over "
		    "%s (%lu)", proto_op_name(r->op), what,
		    (unsigned long)a->len, limit, (unsigned long)max);
		return -EINVAL;
	}
	return 0;
}

int
arg_name(struct reply *r, const struct proto_arg *a, const char *what)
{
	return arg_bytes(r, a, what, r->c->srv->conf.key_max, "key_max");
}

int
arg_value(struct reply *r, const struct proto_arg *a, const char *what)
{
	return arg_bytes(r, a, what, r->c->srv->conf.value_max, "value_max");
}
