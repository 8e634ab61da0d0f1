/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * codec.c: encode and decode iomuxd frames (iomux-proto.h, codec.h).
 *
 * The decoder runs on every request the daemon receives and on bytes an
 * unauthenticated peer chose, so it is written to three rules:
 *
 *  - Bound before use. The 4-byte length is checked against the caller's
 *    frame limit before anything else happens, so the caller can refuse a
 *    huge frame without buffering it. Every argument length is compared
 *    with the bytes that remain in the body (size_t, remaining-bytes
 *    comparisons) before it is added to anything, so no untrusted value
 *    can wrap an offset.
 *  - No allocation and no copies: arguments are views into the input, and
 *    one pass over the argument headers does all the work.
 *  - One frame, one answer: the result depends only on the complete frame,
 *    never on how its bytes were split across reads. A partial frame is
 *    always PROTO_E_AGAIN unless its length prefix alone is already bad.
 *
 * The encoder appends to a struct buf. Arguments are bounded against the
 * frame limit as they are added, the header is patched at the end, and
 * any failure rolls the buffer back to its length before
 * proto_enc_begin(), so a caller never sends half a frame.
 *
 * Frame sizes travel in an int (the return value of proto_decode() and
 * proto_enc_end()), so a frame limit above INT_MAX - 4 acts as
 * INT_MAX - 4. The protocol caps frames at IOMUX_FRAME_MAX_CAP (64 MiB),
 * far below that.
 */

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "codec.h"
#include "iomux-proto.h"

#define FRAME_HDR_SIZE	(IOMUX_LEN_SIZE + IOMUX_BODY_HDR_SIZE)

/* Offsets inside the frame (counting the length prefix). */
#define OFF_LEN		0
#define OFF_VERSION	4
#define OFF_KIND	5
#define OFF_CODE	6
#define OFF_ID		8
#define OFF_ARGC	12

/* The frame limit clamped so that a whole frame's size fits an int. */
static uint32_t
effective_max(uint32_t frame_max)
{
	if (frame_max > (uint32_t)INT_MAX - IOMUX_LEN_SIZE)
		return (uint32_t)INT_MAX - IOMUX_LEN_SIZE;
	return frame_max;
}

int
proto_peek_len(const uint8_t *buf, size_t len, uint32_t frame_max,
    uint32_t *body_len)
{
	uint32_t	 n;

	if (len < IOMUX_LEN_SIZE)
		return PROTO_E_AGAIN;
	n = buf_get_u32(buf + OFF_LEN);
	if (n < IOMUX_BODY_HDR_SIZE)
		return -EBADMSG;
	if (n > effective_max(frame_max))
		return -EMSGSIZE;
	*body_len = n;
	return 1;
}

int
proto_decode(const uint8_t *buf, size_t len, uint32_t frame_max,
    struct proto_frame *f, struct proto_arg *args, size_t args_cap)
{
	const uint8_t	*p, *end;
	uint32_t	 body_len, alen;
	size_t		 left;
	uint16_t	 i;
	int		 r;

	memset(f, 0, sizeof(*f));
	if ((r = proto_peek_len(buf, len, frame_max, &body_len)) != 1)
		return r;
	f->body_len = body_len;
	/* body_len <= INT_MAX - 4 here, so the sum cannot wrap. */
	if (len - IOMUX_LEN_SIZE < body_len)
		return PROTO_E_AGAIN;

	f->version = buf[OFF_VERSION];
	f->kind = buf[OFF_KIND];
	f->code = buf_get_u16(buf + OFF_CODE);
	f->id = buf_get_u32(buf + OFF_ID);
	f->argc = buf_get_u16(buf + OFF_ARGC);

	/*
	 * A different version may lay out its arguments differently: report
	 * it before looking at them, with the header filled in for the reply.
	 */
	if (f->version != IOMUX_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if (f->argc > IOMUX_ARGS_MAX || f->argc > args_cap)
		return -E2BIG;

	p = buf + FRAME_HDR_SIZE;
	end = buf + IOMUX_LEN_SIZE + body_len;
	for (i = 0; i < f->argc; i++) {
		left = (size_t)(end - p);
		if (left < IOMUX_ARG_HDR_SIZE)
			return -EBADMSG;
		alen = buf_get_u32(p);
		p += IOMUX_ARG_HDR_SIZE;
		left -= IOMUX_ARG_HDR_SIZE;
		if (alen == IOMUX_ARG_ABSENT) {
			args[i].p = NULL;
			args[i].len = 0;
			args[i].absent = true;
			continue;
		}
		if (alen > left)
			return -EBADMSG;
		args[i].p = p;
		args[i].len = alen;
		args[i].absent = false;
		p += alen;
	}
	if (p != end)
		return -EBADMSG;
	return (int)(IOMUX_LEN_SIZE + body_len);
}

/* Body bytes written so far by the encoder. */
static size_t
enc_body_len(const struct proto_enc *e)
{
	return buf_len(e->b) - e->start - IOMUX_LEN_SIZE;
}

void
proto_enc_begin(struct proto_enc *e, struct buf *b, uint32_t frame_max,
    uint8_t kind, uint16_t code, uint32_t id)
{
	uint8_t	*h;
	int	 error;

	e->b = b;
	e->start = buf_len(b);
	e->frame_max = effective_max(frame_max);
	e->argc = 0;
	e->err = 0;

	if (e->frame_max < IOMUX_BODY_HDR_SIZE) {
		e->err = -EMSGSIZE;
		return;
	}
	if ((error = buf_reserve(b, FRAME_HDR_SIZE)) != 0) {
		e->err = error;
		return;
	}
	h = buf_space(b);
	buf_put_u32(h + OFF_LEN, 0);		/* patched by proto_enc_end() */
	h[OFF_VERSION] = IOMUX_PROTO_VERSION;
	h[OFF_KIND] = kind;
	buf_put_u16(h + OFF_CODE, code);
	buf_put_u32(h + OFF_ID, id);
	buf_put_u16(h + OFF_ARGC, 0);		/* patched by proto_enc_end() */
	buf_advance(b, FRAME_HDR_SIZE);
}

/*
 * Reserve room for one argument of n bytes (plus its length word) and
 * write the length word. Returns where the n bytes go, or NULL after
 * recording the error.
 */
static uint8_t *
enc_arg_start(struct proto_enc *e, size_t n, uint32_t wire_len)
{
	size_t	 room;
	uint8_t	*p;
	int	 error;

	if (e->err != 0)
		return NULL;
	if (e->argc >= IOMUX_ARGS_MAX) {
		e->err = -E2BIG;
		return NULL;
	}
	room = e->frame_max - enc_body_len(e);
	if (room < IOMUX_ARG_HDR_SIZE || n > room - IOMUX_ARG_HDR_SIZE) {
		e->err = -EMSGSIZE;
		return NULL;
	}
	if ((error = buf_reserve(e->b, IOMUX_ARG_HDR_SIZE + n)) != 0) {
		e->err = error;
		return NULL;
	}
	p = buf_space(e->b);
	buf_put_u32(p, wire_len);
	e->argc++;
	return p + IOMUX_ARG_HDR_SIZE;
}

void
proto_enc_arg(struct proto_enc *e, const void *data, size_t n)
{
	uint8_t	*p;

	/* n <= frame_max - 4 < IOMUX_ARG_ABSENT once enc_arg_start() agrees. */
	if ((p = enc_arg_start(e, n, (uint32_t)n)) == NULL)
		return;
	if (n != 0)
		memcpy(p, data, n);
	buf_advance(e->b, IOMUX_ARG_HDR_SIZE + n);
}

/* A NULL string is encoded as an absent argument. */
void
proto_enc_str(struct proto_enc *e, const char *s)
{
	if (s == NULL)
		proto_enc_absent(e);
	else
		proto_enc_arg(e, s, strlen(s));
}

void
proto_enc_absent(struct proto_enc *e)
{
	if (enc_arg_start(e, 0, IOMUX_ARG_ABSENT) == NULL)
		return;
	buf_advance(e->b, IOMUX_ARG_HDR_SIZE);
}

void
proto_enc_u32(struct proto_enc *e, uint32_t v)
{
	uint8_t	 w[4];

	buf_put_u32(w, v);
	proto_enc_arg(e, w, sizeof(w));
}

void
proto_enc_u64(struct proto_enc *e, uint64_t v)
{
	uint8_t	 w[8];

	buf_put_u64(w, v);
	proto_enc_arg(e, w, sizeof(w));
}

int
proto_enc_end(struct proto_enc *e)
{
	struct buf	*b = e->b;
	uint8_t		*h;
	size_t		 body;

	if (e->err != 0) {
		/*
		 * Roll back to the length before proto_enc_begin(). The
		 * frame is the tail of the buffer, so this only moves wpos;
		 * an emptied buffer rewinds as buf_consume() would.
		 */
		b->wpos = b->rpos + e->start;
		if (b->wpos == b->rpos)
			b->rpos = b->wpos = 0;
		return e->err;
	}
	body = enc_body_len(e);
	h = b->data + b->rpos + e->start;
	buf_put_u32(h + OFF_LEN, (uint32_t)body);
	buf_put_u16(h + OFF_ARGC, e->argc);
	return (int)(IOMUX_LEN_SIZE + body);
}

int
proto_arg_u32(const struct proto_arg *a, uint32_t *v)
{
	if (a->absent || a->len != 4)
		return -EINVAL;
	*v = buf_get_u32(a->p);
	return 0;
}

int
proto_arg_u64(const struct proto_arg *a, uint64_t *v)
{
	if (a->absent || a->len != 8)
		return -EINVAL;
	*v = buf_get_u64(a->p);
	return 0;
}

/*
 * Name tables. Sorted by number; kept in step with iomux-proto.h (the
 * tests check every number in the header has a name).
 */
struct code_name {
	uint16_t	 code;
	const char	*name;
	const char	*text;		/* statuses only */
};

static const struct code_name op_names[] = {
	{ IOMUX_OP_HELLO,	"hello",	NULL },
	{ IOMUX_OP_PING,	"ping",		NULL },
	{ IOMUX_OP_STATUS,	"status",	NULL },
	{ IOMUX_OP_WHOAMI,	"whoami",	NULL },
	{ IOMUX_OP_GET,		"get",		NULL },
	{ IOMUX_OP_SET,		"set",		NULL },
	{ IOMUX_OP_DEL,		"del",		NULL },
	{ IOMUX_OP_EXISTS,	"exists",	NULL },
	{ IOMUX_OP_INCR,	"incr",		NULL },
	{ IOMUX_OP_KEYS,	"keys",		NULL },
	{ IOMUX_OP_TTL,		"ttl",		NULL },
	{ IOMUX_OP_EXPIRE,	"expire",	NULL },
	{ IOMUX_OP_PERSIST,	"persist",	NULL },
	{ IOMUX_OP_WAIT,	"wait",		NULL },
	{ IOMUX_OP_PUSH,	"push",		NULL },
	{ IOMUX_OP_POP,		"pop",		NULL },
	{ IOMUX_OP_QLEN,	"qlen",		NULL },
	{ IOMUX_OP_PEEK,	"peek",		NULL },
	{ IOMUX_OP_SUBSCRIBE,	"subscribe",	NULL },
	{ IOMUX_OP_UNSUBSCRIBE,	"unsubscribe",	NULL },
	{ IOMUX_OP_PSUBSCRIBE,	"psubscribe",	NULL },
	{ IOMUX_OP_PUNSUBSCRIBE, "punsubscribe", NULL },
	{ IOMUX_OP_PUBLISH,	"publish",	NULL },
	{ IOMUX_OP_LOCK,	"lock",		NULL },
	{ IOMUX_OP_TRYLOCK,	"trylock",	NULL },
	{ IOMUX_OP_UNLOCK,	"unlock",	NULL },
};

static const struct code_name status_names[] = {
	{ IOMUX_ST_OK,		"OK",		"ok" },
	{ IOMUX_ST_TIMEDOUT,	"TIMEDOUT",	"timed out" },
	{ IOMUX_ST_NOTFOUND,	"NOTFOUND",	"not found" },
	{ IOMUX_ST_CONFLICT,	"CONFLICT",	"conflict" },
	{ IOMUX_ST_EPROTO,	"EPROTO",	"protocol error" },
	{ IOMUX_ST_ETOOBIG,	"ETOOBIG",	"frame too large" },
	{ IOMUX_ST_EVERSION,	"EVERSION",	"unsupported version" },
	{ IOMUX_ST_EUNKNOWN,	"EUNKNOWN",	"unknown command" },
	{ IOMUX_ST_EARGS,	"EARGS",	"bad arguments" },
	{ IOMUX_ST_ELIMIT,	"ELIMIT",	"limit exceeded" },
	{ IOMUX_ST_ETYPE,	"ETYPE",	"wrong type" },
	{ IOMUX_ST_ERANGE,	"ERANGE",	"out of range" },
	{ IOMUX_ST_ENOTOWNER,	"ENOTOWNER",	"not the owner" },
	{ IOMUX_ST_EDENIED,	"EDENIED",	"permission denied" },
	{ IOMUX_ST_ETIMEOUT,	"ETIMEOUT",	"frame not completed in time" },
	{ IOMUX_ST_EKIND,	"EKIND",	"not a request" },
	{ IOMUX_ST_EBUSY,	"EBUSY",	"too many clients" },
	{ IOMUX_ST_ENOMEM,	"ENOMEM",	"out of memory" },
	{ IOMUX_ST_ESHUTDOWN,	"ESHUTDOWN",	"server shutting down" },
	{ IOMUX_ST_EINTERNAL,	"EINTERNAL",	"internal error" },
};

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* Binary search of a table sorted by code; NULL if absent. */
static const struct code_name *
code_lookup(const struct code_name *t, size_t n, uint16_t code)
{
	size_t	 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t[mid].code == code)
			return &t[mid];
		if (t[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *
proto_op_name(uint16_t op)
{
	const struct code_name	*c;

	c = code_lookup(op_names, NITEMS(op_names), op);
	return c != NULL ? c->name : "unknown";
}

const char *
proto_status_name(uint16_t st)
{
	const struct code_name	*c;

	c = code_lookup(status_names, NITEMS(status_names), st);
	return c != NULL ? c->name : "unknown";
}

const char *
proto_status_text(uint16_t st)
{
	const struct code_name	*c;

	c = code_lookup(status_names, NITEMS(status_names), st);
	return c != NULL ? c->text : "unknown";
}

uint16_t
proto_op_by_name(const char *name)
{
	size_t	 i;

	if (name == NULL)
		return 0;
	for (i = 0; i < NITEMS(op_names); i++)
		if (strcasecmp(op_names[i].name, name) == 0)
			return op_names[i].code;
	return 0;
}
