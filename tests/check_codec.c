/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_codec.c: unit tests of the frame codec (proto/codec.c).
 *
 * The golden vectors below were written from the wire layout in
 * iomux-proto.h, not produced by the encoder under test: each test both
 * decodes them and checks that the encoder reproduces them byte for byte.
 * Every decode runs on an exact-size heap copy of its input so that the
 * sanitizer build catches a read one byte past the end.
 */

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check-run.h"
#include "buf.h"
#include "codec.h"
#include "iomux-proto.h"

/* HELLO request: version 1, client "iomuxctl" */
static const uint8_t g_hello_req[] = {
	0x00, 0x00, 0x00, 0x1e,		/* length 30 */
	0x01, 0x01, 0x00, 0x01,		/* v1, request, HELLO */
	0x00, 0x00, 0x00, 0x01,		/* id 1 */
	0x00, 0x02,			/* argc 2 */
	0x00, 0x00, 0x00, 0x04,		/* len 4 */
	0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x08,		/* len 8 */
	0x69, 0x6f, 0x6d, 0x75, 0x78, 0x63, 0x74, 0x6c,	/* "iomuxctl" */
};

/* PING request without argument */
static const uint8_t g_ping_req[] = {
	0x00, 0x00, 0x00, 0x0a,		/* length 10 */
	0x01, 0x01, 0x00, 0x02,		/* v1, request, PING */
	0x00, 0x00, 0x00, 0x02,		/* id 2 */
	0x00, 0x00,			/* argc 0 */
};

/* PING request with "hi" */
static const uint8_t g_ping_hi_req[] = {
	0x00, 0x00, 0x00, 0x10,		/* length 16 */
	0x01, 0x01, 0x00, 0x02,		/* v1, request, PING */
	0x00, 0x00, 0x00, 0x03,		/* id 3 */
	0x00, 0x01,			/* argc 1 */
	0x00, 0x00, 0x00, 0x02,		/* len 2 */
	0x68, 0x69,			/* "hi" */
};

/* STATUS request */
static const uint8_t g_status_req[] = {
	0x00, 0x00, 0x00, 0x0a,		/* length 10 */
	0x01, 0x01, 0x00, 0x03,		/* v1, request, STATUS */
	0x00, 0x00, 0x00, 0x04,		/* id 4 */
	0x00, 0x00,			/* argc 0 */
};

/* OK reply to HELLO: name/value pairs */
static const uint8_t g_hello_reply[] = {
	0x00, 0x00, 0x00, 0x5e,		/* length 94 */
	0x01, 0x02, 0x00, 0x00,		/* v1, reply, OK */
	0x00, 0x00, 0x00, 0x01,		/* id 1 */
	0x00, 0x08,			/* argc 8 */
	0x00, 0x00, 0x00, 0x05,		/* len 5 */
	0x70, 0x72, 0x6f, 0x74, 0x6f,	/* "proto" */
	0x00, 0x00, 0x00, 0x01,		/* len 1 */
	0x31,				/* "1" */
	0x00, 0x00, 0x00, 0x06,		/* len 6 */
	0x73, 0x65, 0x72, 0x76, 0x65, 0x72,	/* "server" */
	0x00, 0x00, 0x00, 0x0c,		/* len 12 */
	0x69, 0x6f, 0x6d, 0x75, 0x78, 0x64, 0x20, 0x30,	/* "iomuxd 0" */
	0x2e, 0x31, 0x2e, 0x30,		/* ".1.0" */
	0x00, 0x00, 0x00, 0x09,		/* len 9 */
	0x66, 0x72, 0x61, 0x6d, 0x65, 0x5f, 0x6d, 0x61,	/* "frame_ma" */
	0x78,				/* "x" */
	0x00, 0x00, 0x00, 0x07,		/* len 7 */
	0x31, 0x30, 0x34, 0x38, 0x35, 0x37, 0x36,	/* "1048576" */
	0x00, 0x00, 0x00, 0x08,		/* len 8 */
	0x61, 0x72, 0x67, 0x73, 0x5f, 0x6d, 0x61, 0x78,	/* "args_max" */
	0x00, 0x00, 0x00, 0x04,		/* len 4 */
	0x31, 0x30, 0x32, 0x34,		/* "1024" */
};

/* EUNKNOWN error reply with its message */
static const uint8_t g_error_reply[] = {
	0x00, 0x00, 0x00, 0x23,		/* length 35 */
	0x01, 0x02, 0x01, 0x03,		/* v1, reply, EUNKNOWN */
	0x00, 0x00, 0x00, 0x05,		/* id 5 */
	0x00, 0x01,			/* argc 1 */
	0x00, 0x00, 0x00, 0x15,		/* len 21 */
	0x75, 0x6e, 0x6b, 0x6e, 0x6f, 0x77, 0x6e, 0x20,	/* "unknown " */
	0x6f, 0x70, 0x63, 0x6f, 0x64, 0x65, 0x20, 0x30,	/* "opcode 0" */
	0x78, 0x37, 0x37, 0x37, 0x37,	/* "x7777" */
};

/* PUSH message: channel, payload */
static const uint8_t g_push[] = {
	0x00, 0x00, 0x00, 0x1b,		/* length 27 */
	0x01, 0x03, 0x03, 0x01,		/* v1, push, MESSAGE */
	0x00, 0x00, 0x00, 0x00,		/* id 0 */
	0x00, 0x02,			/* argc 2 */
	0x00, 0x00, 0x00, 0x04,		/* len 4 */
	0x6e, 0x65, 0x77, 0x73,		/* "news" */
	0x00, 0x00, 0x00, 0x05,		/* len 5 */
	0x68, 0x65, 0x6c, 0x6c, 0x6f,	/* "hello" */
};

/* SET request: absent argument, then empty argument */
static const uint8_t g_absent_empty[] = {
	0x00, 0x00, 0x00, 0x12,		/* length 18 */
	0x01, 0x01, 0x01, 0x02,		/* v1, request, SET */
	0x00, 0x00, 0x00, 0x07,		/* id 7 */
	0x00, 0x02,			/* argc 2 */
	0xff, 0xff, 0xff, 0xff,		/* absent */
	0x00, 0x00, 0x00, 0x00,		/* len 0 */
};

struct exp_arg {
	const char	*p;		/* NULL: absent */
	uint32_t	 len;
};

struct golden {
	const char		*name;
	const uint8_t		*bytes;
	size_t			 len;
	uint8_t			 kind;
	uint16_t		 code;
	uint32_t		 id;
	uint16_t		 argc;
	struct exp_arg		 args[8];
};

#define G(a)	(a), sizeof(a)
#define S(s)	{ (s), sizeof(s) - 1 }

static const struct golden goldens[] = {
	{ "hello request", G(g_hello_req), IOMUX_KIND_REQUEST,
	    IOMUX_OP_HELLO, 1, 2, { { "\0\0\0\1", 4 }, S("iomuxctl") } },
	{ "ping request", G(g_ping_req), IOMUX_KIND_REQUEST,
	    IOMUX_OP_PING, 2, 0, { { NULL, 0 } } },
	{ "ping request with argument", G(g_ping_hi_req), IOMUX_KIND_REQUEST,
	    IOMUX_OP_PING, 3, 1, { S("hi") } },
	{ "status request", G(g_status_req), IOMUX_KIND_REQUEST,
	    IOMUX_OP_STATUS, 4, 0, { { NULL, 0 } } },
	{ "ok reply with pairs", G(g_hello_reply), IOMUX_KIND_REPLY,
	    IOMUX_ST_OK, 1, 8, { S("proto"), S("1"), S("server"),
	    S("iomuxd 0.1.0"), S("frame_max"), S("1048576"), S("args_max"),
	    S("1024") } },
	{ "error reply", G(g_error_reply), IOMUX_KIND_REPLY,
	    IOMUX_ST_EUNKNOWN, 5, 1, { S("unknown opcode 0x7777") } },
	{ "push", G(g_push), IOMUX_KIND_PUSH,
	    IOMUX_PUSH_MESSAGE, 0, 2, { S("news"), S("hello") } },
	{ "absent and empty", G(g_absent_empty), IOMUX_KIND_REQUEST,
	    IOMUX_OP_SET, 7, 2, { { NULL, 0 }, { "", 0 } } },
};
#define NGOLDEN		((int)(sizeof(goldens) / sizeof(goldens[0])))

#define MIB		(1u << 20)

/* Room for the largest argc the decoder accepts, and one more. */
static struct proto_arg	 args[IOMUX_ARGS_MAX + 1];

/* An exact-size heap copy, so reading past the end is caught by ASan. */
static uint8_t *
dup_bytes(const void *p, size_t n)
{
	uint8_t	*d;

	d = malloc(n != 0 ? n : 1);
	ck_assert_ptr_nonnull(d);
	if (n != 0)
		memcpy(d, p, n);
	return d;
}

static int
decode_copy(const void *p, size_t n, uint32_t frame_max,
    struct proto_frame *f, size_t args_cap)
{
	uint8_t	*d;
	int	 r;

	d = dup_bytes(p, n);
	r = proto_decode(d, n, frame_max, f, args, args_cap);
	free(d);
	return r;
}

/* Compare a decoded frame with its golden description. */
static void
check_golden_frame(const struct golden *g, int r, const struct proto_frame *f,
    const struct proto_arg *a, const uint8_t *base)
{
	uint16_t	 i;

	ck_assert_msg(r == (int)g->len, "%s: decode returned %d, want %zu",
	    g->name, r, g->len);
	ck_assert_uint_eq(f->version, IOMUX_PROTO_VERSION);
	ck_assert_uint_eq(f->kind, g->kind);
	ck_assert_uint_eq(f->code, g->code);
	ck_assert_uint_eq(f->id, g->id);
	ck_assert_uint_eq(f->argc, g->argc);
	ck_assert_uint_eq(f->body_len, g->len - IOMUX_LEN_SIZE);
	for (i = 0; i < g->argc; i++) {
		if (g->args[i].p == NULL) {
			ck_assert_msg(a[i].absent, "%s: arg %u not absent",
			    g->name, i);
			ck_assert_ptr_null(a[i].p);
			ck_assert_uint_eq(a[i].len, 0);
			continue;
		}
		ck_assert_msg(!a[i].absent, "%s: arg %u absent", g->name, i);
		ck_assert_uint_eq(a[i].len, g->args[i].len);
		ck_assert_int_eq(memcmp(a[i].p, g->args[i].p, a[i].len), 0);
		/* Views point into the input, not into a copy. */
		if (base != NULL)
			ck_assert(a[i].p >= base &&
			    a[i].p + a[i].len <= base + g->len);
	}
}

/* Encode a golden frame's fields with the encoder into b. */
static int
encode_golden(struct buf *b, const struct golden *g, uint32_t frame_max)
{
	struct proto_enc	 e;
	uint16_t		 i;

	proto_enc_begin(&e, b, frame_max, g->kind, g->code, g->id);
	for (i = 0; i < g->argc; i++) {
		if (g->args[i].p == NULL)
			proto_enc_absent(&e);
		else
			proto_enc_arg(&e, g->args[i].p, g->args[i].len);
	}
	return proto_enc_end(&e);
}

/*
 * A complete frame with the given body length: version 1 request, id
 * 0x01020304, and one argument filling the body (no argument if the body
 * is exactly the header).
 */
static uint8_t *
make_frame(uint32_t body_len, size_t *lenp)
{
	uint8_t	*p;
	size_t	 n = (size_t)IOMUX_LEN_SIZE + body_len;

	ck_assert_msg(body_len == IOMUX_BODY_HDR_SIZE ||
	    body_len >= IOMUX_BODY_HDR_SIZE + IOMUX_ARG_HDR_SIZE,
	    "no valid frame has a body of %u bytes", body_len);
	p = malloc(n);
	ck_assert_ptr_nonnull(p);
	memset(p, 'x', n);
	buf_put_u32(p, body_len);
	p[4] = IOMUX_PROTO_VERSION;
	p[5] = IOMUX_KIND_REQUEST;
	buf_put_u16(p + 6, IOMUX_OP_PING);
	buf_put_u32(p + 8, 0x01020304);
	if (body_len == IOMUX_BODY_HDR_SIZE) {
		buf_put_u16(p + 12, 0);
	} else {
		buf_put_u16(p + 12, 1);
		buf_put_u32(p + 14, body_len - IOMUX_BODY_HDR_SIZE -
		    IOMUX_ARG_HDR_SIZE);
	}
	*lenp = n;
	return p;
}

/* ---- golden vectors ---------------------------------------------------- */

START_TEST(test_golden_decode)
{
	const struct golden	*g = &goldens[_i];
	struct proto_frame	 f;
	uint8_t			*d;
	uint32_t		 body_len = 0;
	int			 r;

	d = dup_bytes(g->bytes, g->len);
	ck_assert_int_eq(proto_peek_len(d, g->len, MIB, &body_len), 1);
	ck_assert_uint_eq(body_len, g->len - IOMUX_LEN_SIZE);
	r = proto_decode(d, g->len, MIB, &f, args, IOMUX_ARGS_MAX);
	check_golden_frame(g, r, &f, args, d);
	free(d);
}
END_TEST

START_TEST(test_golden_encode)
{
	const struct golden	*g = &goldens[_i];
	struct buf		 b;
	int			 r;

	buf_init(&b, 0);
	r = encode_golden(&b, g, MIB);
	ck_assert_int_eq(r, (int)g->len);
	ck_assert_uint_eq(buf_len(&b), g->len);
	ck_assert_int_eq(memcmp(buf_data(&b), g->bytes, g->len), 0);
	buf_free(&b);
}
END_TEST

/*
 * Every prefix is "need more" (none of the goldens has a bad length), and
 * a stream buffer filled in two pieces split at any offset decodes to the
 * same frame as the whole.
 */
START_TEST(test_golden_split)
{
	const struct golden	*g = &goldens[_i];
	struct proto_frame	 f;
	struct buf		 b;
	size_t			 k;
	int			 r;

	for (k = 0; k < g->len; k++) {
		r = decode_copy(g->bytes, k, MIB, &f, IOMUX_ARGS_MAX);
		ck_assert_msg(r == PROTO_E_AGAIN, "%s: prefix %zu: %d",
		    g->name, k, r);
	}
	for (k = 0; k <= g->len; k++) {
		buf_init(&b, 0);
		ck_assert_int_eq(buf_add(&b, g->bytes, k), 0);
		r = proto_decode(buf_data(&b), buf_len(&b), MIB, &f, args,
		    IOMUX_ARGS_MAX);
		if (k < g->len)
			ck_assert_int_eq(r, PROTO_E_AGAIN);
		ck_assert_int_eq(buf_add(&b, g->bytes + k, g->len - k), 0);
		r = proto_decode(buf_data(&b), buf_len(&b), MIB, &f, args,
		    IOMUX_ARGS_MAX);
		check_golden_frame(g, r, &f, args, buf_data(&b));
		buf_free(&b);
	}
}
END_TEST

/* All goldens back to back in one buffer, then a truncated one. */
START_TEST(test_back_to_back)
{
	struct proto_frame	 f;
	struct buf		 b;
	size_t			 off;
	int			 i, r;

	buf_init(&b, 0);
	for (i = 0; i < NGOLDEN; i++)
		ck_assert_int_eq(buf_add(&b, goldens[i].bytes,
		    goldens[i].len), 0);
	/* Half of the first frame again: must be "need more" at the end. */
	ck_assert_int_eq(buf_add(&b, goldens[0].bytes, goldens[0].len / 2),
	    0);

	off = 0;
	for (i = 0; i < NGOLDEN; i++) {
		r = proto_decode(buf_data(&b) + off, buf_len(&b) - off, MIB,
		    &f, args, IOMUX_ARGS_MAX);
		check_golden_frame(&goldens[i], r, &f, args, NULL);
		off += (size_t)r;
	}
	ck_assert_uint_eq(buf_len(&b) - off, goldens[0].len / 2);
	r = proto_decode(buf_data(&b) + off, buf_len(&b) - off, MIB, &f,
	    args, IOMUX_ARGS_MAX);
	ck_assert_int_eq(r, PROTO_E_AGAIN);

	/* Consuming frame by frame, as a connection does. */
	for (i = 0; i < NGOLDEN; i++) {
		r = proto_decode(buf_data(&b), buf_len(&b), MIB, &f, args,
		    IOMUX_ARGS_MAX);
		check_golden_frame(&goldens[i], r, &f, args, NULL);
		buf_consume(&b, (size_t)r);
	}
	ck_assert_uint_eq(buf_len(&b), goldens[0].len / 2);
	buf_free(&b);
}
END_TEST

/* ---- the length prefix ------------------------------------------------- */

static const uint32_t edge_limits[] = { MIB, 64 };

/*
 * Lengths 0, 9, 10, limit-1, limit, limit+1, 2^31 and 2^32-1, first with
 * only the 4 length bytes present, then (where the length is acceptable)
 * as complete frames.
 */
START_TEST(test_len_edges)
{
	uint32_t	 limit = edge_limits[_i];
	struct {
		uint32_t	 len;
		int		 want;		/* from 4 bytes alone */
	} cases[] = {
		{ 0,			-EBADMSG },
		{ 9,			-EBADMSG },
		{ 10,			PROTO_E_AGAIN },
		{ limit - 1,		PROTO_E_AGAIN },
		{ limit,		PROTO_E_AGAIN },
		{ limit + 1,		-EMSGSIZE },
		{ 0x80000000u,		-EMSGSIZE },
		{ 0xffffffffu,		-EMSGSIZE },
	};
	struct proto_frame	 f;
	uint8_t			 pre[4], *fr;
	uint32_t		 body_len;
	size_t			 i, n;
	int			 r, pr;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_put_u32(pre, cases[i].len);
		r = decode_copy(pre, sizeof(pre), limit, &f, IOMUX_ARGS_MAX);
		ck_assert_msg(r == cases[i].want,
		    "limit %u len %u: decode %d, want %d", limit,
		    cases[i].len, r, cases[i].want);
		body_len = 0xdeadbeef;
		pr = proto_peek_len(pre, sizeof(pre), limit, &body_len);
		if (cases[i].want == PROTO_E_AGAIN) {
			ck_assert_int_eq(pr, 1);
			ck_assert_uint_eq(body_len, cases[i].len);
			/* The decoder reports the length it saw. */
			ck_assert_uint_eq(f.body_len, cases[i].len);
		} else {
			ck_assert_int_eq(pr, cases[i].want);
			ck_assert_uint_eq(body_len, 0xdeadbeef);
		}
		/* Fewer than 4 bytes never say anything. */
		ck_assert_int_eq(decode_copy(pre, 3, limit, &f, 1),
		    PROTO_E_AGAIN);
		ck_assert_int_eq(proto_peek_len(pre, 3, limit, &body_len),
		    PROTO_E_AGAIN);
	}

	/* Complete frames at 10, limit-1 and limit decode; limit+1 does not. */
	fr = make_frame(10, &n);
	ck_assert_int_eq(decode_copy(fr, n, limit, &f, 1), 14);
	ck_assert_uint_eq(f.argc, 0);
	free(fr);
	fr = make_frame(limit - 1, &n);
	ck_assert_int_eq(decode_copy(fr, n, limit, &f, 1), (int)limit + 3);
	ck_assert_uint_eq(f.argc, 1);
	ck_assert_uint_eq(args[0].len, limit - 15);
	ck_assert_uint_eq(f.id, 0x01020304);
	free(fr);
	fr = make_frame(limit, &n);
	ck_assert_int_eq(decode_copy(fr, n, limit, &f, 1), (int)limit + 4);
	ck_assert_uint_eq(args[0].len, limit - 14);
	/* One byte short of complete is still "need more". */
	ck_assert_int_eq(decode_copy(fr, n - 1, limit, &f, 1),
	    PROTO_E_AGAIN);
	free(fr);
	fr = make_frame(limit + 1, &n);
	ck_assert_int_eq(decode_copy(fr, n, limit, &f, 1), -EMSGSIZE);
	ck_assert_int_eq(decode_copy(fr, n, limit + 1, &f, 1),
	    (int)limit + 5);
	free(fr);
}
END_TEST

/* A limit too large for an int result behaves as INT_MAX - 4. */
START_TEST(test_len_huge_limit)
{
	struct proto_frame	 f;
	uint8_t			 pre[4];
	uint32_t		 body_len;

	buf_put_u32(pre, (uint32_t)INT_MAX - 4);
	ck_assert_int_eq(proto_peek_len(pre, 4, UINT32_MAX, &body_len), 1);
	ck_assert_uint_eq(body_len, (uint32_t)INT_MAX - 4);
	ck_assert_int_eq(decode_copy(pre, 4, UINT32_MAX, &f, 1),
	    PROTO_E_AGAIN);
	buf_put_u32(pre, (uint32_t)INT_MAX - 3);
	ck_assert_int_eq(proto_peek_len(pre, 4, UINT32_MAX, &body_len),
	    -EMSGSIZE);
	buf_put_u32(pre, 0x80000000u);
	ck_assert_int_eq(decode_copy(pre, 4, UINT32_MAX, &f, 1), -EMSGSIZE);
	buf_put_u32(pre, 0xffffffffu);
	ck_assert_int_eq(decode_copy(pre, 4, UINT32_MAX, &f, 1), -EMSGSIZE);
}
END_TEST

/* ---- argument structure ------------------------------------------------ */

/* A request with argc empty arguments. */
static uint8_t *
make_argc_frame(uint32_t argc, size_t *lenp)
{
	uint32_t	 body = IOMUX_BODY_HDR_SIZE + argc * IOMUX_ARG_HDR_SIZE;
	uint8_t		*p;
	size_t		 n = IOMUX_LEN_SIZE + body;

	p = calloc(1, n);
	ck_assert_ptr_nonnull(p);
	buf_put_u32(p, body);
	p[4] = IOMUX_PROTO_VERSION;
	p[5] = IOMUX_KIND_REQUEST;
	buf_put_u16(p + 6, IOMUX_OP_PING);
	buf_put_u32(p + 8, 77);
	buf_put_u16(p + 12, (uint16_t)argc);
	*lenp = n;
	return p;
}

START_TEST(test_argc_limit)
{
	struct proto_frame	 f;
	uint8_t			*fr;
	size_t			 n, i;

	fr = make_argc_frame(IOMUX_ARGS_MAX, &n);
	ck_assert_int_eq(decode_copy(fr, n, MIB, &f, IOMUX_ARGS_MAX), (int)n);
	ck_assert_uint_eq(f.argc, IOMUX_ARGS_MAX);
	for (i = 0; i < IOMUX_ARGS_MAX; i++) {
		ck_assert(!args[i].absent);
		ck_assert_uint_eq(args[i].len, 0);
	}
	/* The caller's array is the other bound. */
	ck_assert_int_eq(decode_copy(fr, n, MIB, &f, IOMUX_ARGS_MAX - 1),
	    -E2BIG);
	ck_assert_uint_eq(f.argc, IOMUX_ARGS_MAX);
	ck_assert_uint_eq(f.id, 77);
	free(fr);

	/* 1025 is refused even with room for it. */
	fr = make_argc_frame(IOMUX_ARGS_MAX + 1, &n);
	ck_assert_int_eq(decode_copy(fr, n, MIB, &f, IOMUX_ARGS_MAX + 1),
	    -E2BIG);
	ck_assert_uint_eq(f.argc, IOMUX_ARGS_MAX + 1);
	ck_assert_uint_eq(f.id, 77);
	free(fr);

	/* argc 65535 in a minimal body: E2BIG, not a walk off the end. */
	fr = make_argc_frame(0, &n);
	buf_put_u16(fr + 12, 0xffff);
	ck_assert_int_eq(decode_copy(fr, n, MIB, &f, IOMUX_ARGS_MAX + 1),
	    -E2BIG);
	free(fr);
}
END_TEST

START_TEST(test_arg_overrun)
{
	static const uint8_t	 base[] = {
		0x00, 0x00, 0x00, 0x13,		/* length 19 */
		0x01, 0x01, 0x00, 0x02,		/* v1 request PING */
		0x00, 0x00, 0x00, 0x09,		/* id 9 */
		0x00, 0x01,			/* argc 1 */
		0x00, 0x00, 0x00, 0x05,		/* len 5 */
		'h', 'e', 'l', 'l', 'o',
	};
	struct proto_frame	 f;
	uint8_t			 fr[sizeof(base)];

	memcpy(fr, base, sizeof(fr));
	ck_assert_int_eq(decode_copy(fr, sizeof(fr), MIB, &f, 4),
	    (int)sizeof(fr));
	ck_assert_uint_eq(args[0].len, 5);

	/* Argument one byte longer than the body. */
	buf_put_u32(fr + 14, 6);
	ck_assert_int_eq(decode_copy(fr, sizeof(fr), MIB, &f, 4), -EBADMSG);
	ck_assert_uint_eq(f.id, 9);
	/* Lengths that would wrap a 32-bit offset. */
	buf_put_u32(fr + 14, 0xfffffffe);
	ck_assert_int_eq(decode_copy(fr, sizeof(fr), MIB, &f, 4), -EBADMSG);
	buf_put_u32(fr + 14, 0xfffffff0);
	ck_assert_int_eq(decode_copy(fr, sizeof(fr), MIB, &f, 4), -EBADMSG);

	/* One byte left over after the last argument. */
	buf_put_u32(fr + 14, 4);
	ck_assert_int_eq(decode_copy(fr, sizeof(fr), MIB, &f, 4), -EBADMSG);
	/* Absent argument, then 5 trailing bytes. */
	buf_put_u32(fr + 14, IOMUX_ARG_ABSENT);
	ck_assert_int_eq(decode_copy(fr, sizeof(fr), MIB, &f, 4), -EBADMSG);

	/* argc 2 but the body ends inside the second length word. */
	memcpy(fr, base, sizeof(fr));
	buf_put_u16(fr + 12, 2);
	buf_put_u32(fr + 14, 2);		/* "he", then "llo" */
	ck_assert_int_eq(decode_copy(fr, sizeof(fr), MIB, &f, 4), -EBADMSG);
	/*
	 * argc 2 and the first argument overruns by one byte: the decoder
	 * must stop there, not read a second length word past the body (the
	 * sanitizer build would see that read on the exact-size copy).
	 */
	buf_put_u32(fr + 14, 6);
	ck_assert_int_eq(decode_copy(fr, sizeof(fr), MIB, &f, 4), -EBADMSG);
	/* argc 0 with 9 trailing bytes. */
	buf_put_u16(fr + 12, 0);
	ck_assert_int_eq(decode_copy(fr, sizeof(fr), MIB, &f, 4), -EBADMSG);
	/* argc 1 but the body is only the header (length 10). */
	memcpy(fr, base, sizeof(fr));
	buf_put_u32(fr, 10);
	ck_assert_int_eq(decode_copy(fr, 14, MIB, &f, 4), -EBADMSG);
}
END_TEST

START_TEST(test_bad_version)
{
	struct proto_frame	 f;
	uint8_t			 fr[sizeof(g_ping_hi_req)];
	size_t			 k;

	memcpy(fr, g_ping_hi_req, sizeof(fr));
	fr[4] = 2;
	buf_put_u32(fr + 8, 0xa1b2c3d4);
	ck_assert_int_eq(decode_copy(fr, sizeof(fr), MIB, &f, 4),
	    -EPROTONOSUPPORT);
	ck_assert_uint_eq(f.version, 2);
	ck_assert_uint_eq(f.id, 0xa1b2c3d4);
	ck_assert_uint_eq(f.kind, IOMUX_KIND_REQUEST);
	ck_assert_uint_eq(f.code, IOMUX_OP_PING);
	/* Only once the frame is complete. */
	for (k = 0; k < sizeof(fr); k++)
		ck_assert_int_eq(decode_copy(fr, k, MIB, &f, 4),
		    PROTO_E_AGAIN);
	/* Arguments laid out in some other way are not looked at. */
	buf_put_u16(fr + 12, 0xffff);
	buf_put_u32(fr + 14, 0xfffffff0);
	ck_assert_int_eq(decode_copy(fr, sizeof(fr), MIB, &f, 4),
	    -EPROTONOSUPPORT);
	ck_assert_uint_eq(f.id, 0xa1b2c3d4);
	fr[4] = 0;
	ck_assert_int_eq(decode_copy(fr, sizeof(fr), MIB, &f, 4),
	    -EPROTONOSUPPORT);
	ck_assert_uint_eq(f.version, 0);
}
END_TEST

/* The codec does not judge kinds or codes: that is the dispatcher's job. */
START_TEST(test_any_kind_code)
{
	struct proto_frame	 f;
	uint8_t			 fr[sizeof(g_status_req)];

	memcpy(fr, g_status_req, sizeof(fr));
	fr[5] = 0x7f;
	buf_put_u16(fr + 6, 0x7777);
	ck_assert_int_eq(decode_copy(fr, sizeof(fr), MIB, &f, 0),
	    (int)sizeof(fr));
	ck_assert_uint_eq(f.kind, 0x7f);
	ck_assert_uint_eq(f.code, 0x7777);
	ck_assert_uint_eq(f.argc, 0);
}
END_TEST

/* ---- encoder failures -------------------------------------------------- */

/* Pre-load b with bytes and a consumed prefix; remember what it holds. */
static void
preload(struct buf *b, uint8_t *saved, size_t *savedlen)
{
	ck_assert_int_eq(buf_add(b, "0123456789", 10), 0);
	buf_consume(b, 3);
	*savedlen = buf_len(b);
	memcpy(saved, buf_data(b), *savedlen);
}

static void
assert_unchanged(const struct buf *b, const uint8_t *saved, size_t savedlen)
{
	ck_assert_uint_eq(buf_len(b), savedlen);
	ck_assert_int_eq(memcmp(buf_data(b), saved, savedlen), 0);
}

START_TEST(test_enc_buf_limit)
{
	struct proto_enc	 e;
	struct buf		 b;
	uint8_t			 saved[16], big[100];
	size_t			 savedlen, rpos, wpos;
	int			 r;

	memset(big, 'b', sizeof(big));
	buf_init(&b, 64);
	preload(&b, saved, &savedlen);
	rpos = b.rpos;
	wpos = b.wpos;

	/* An argument past the buffer limit: the whole frame goes. */
	proto_enc_begin(&e, &b, MIB, IOMUX_KIND_REQUEST, IOMUX_OP_PING, 1);
	proto_enc_arg(&e, "ok", 2);
	proto_enc_arg(&e, big, sizeof(big));
	proto_enc_arg(&e, "x", 1);		/* a no-op now */
	proto_enc_u32(&e, 1);
	r = proto_enc_end(&e);
	ck_assert_int_eq(r, -ENOBUFS);
	assert_unchanged(&b, saved, savedlen);
	ck_assert_uint_eq(b.rpos, rpos);
	ck_assert_uint_eq(b.wpos, wpos);

	/* The same buffer still takes a frame that fits. */
	r = encode_golden(&b, &goldens[2], MIB);	/* ping "hi" */
	ck_assert_int_eq(r, (int)sizeof(g_ping_hi_req));
	ck_assert_uint_eq(buf_len(&b), savedlen + sizeof(g_ping_hi_req));
	ck_assert_int_eq(memcmp(buf_data(&b), saved, savedlen), 0);
	ck_assert_int_eq(memcmp(buf_data(&b) + savedlen, g_ping_hi_req,
	    sizeof(g_ping_hi_req)), 0);
	buf_free(&b);

	/* Failure in proto_enc_begin() itself (no room for the header). */
	buf_init(&b, 16);
	preload(&b, saved, &savedlen);
	proto_enc_begin(&e, &b, MIB, IOMUX_KIND_REQUEST, IOMUX_OP_PING, 1);
	proto_enc_arg(&e, "x", 1);
	ck_assert_int_eq(proto_enc_end(&e), -ENOBUFS);
	assert_unchanged(&b, saved, savedlen);
	buf_free(&b);

	/* Exactly at the limit fits; one byte more does not. */
	buf_init(&b, sizeof(g_ping_hi_req));
	ck_assert_int_eq(encode_golden(&b, &goldens[2], MIB),
	    (int)sizeof(g_ping_hi_req));
	buf_free(&b);
	buf_init(&b, sizeof(g_ping_hi_req) - 1);
	ck_assert_int_eq(encode_golden(&b, &goldens[2], MIB), -ENOBUFS);
	ck_assert_uint_eq(buf_len(&b), 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_enc_frame_max)
{
	struct proto_enc	 e;
	struct buf		 b;
	uint8_t			 saved[16];
	size_t			 savedlen;

	buf_init(&b, 0);
	preload(&b, saved, &savedlen);

	/* Body 10 + 4 + 6 = 20 is exactly frame_max 20. */
	proto_enc_begin(&e, &b, 20, IOMUX_KIND_REPLY, IOMUX_ST_OK, 3);
	proto_enc_arg(&e, "123456", 6);
	ck_assert_int_eq(proto_enc_end(&e), 24);
	buf_consume(&b, savedlen);
	ck_assert_uint_eq(buf_get_u32(buf_data(&b)), 20);
	buf_consume(&b, 24);
	preload(&b, saved, &savedlen);

	/* 21 is over; the first error sticks through later steps. */
	proto_enc_begin(&e, &b, 20, IOMUX_KIND_REPLY, IOMUX_ST_OK, 3);
	proto_enc_arg(&e, "1234567", 7);
	proto_enc_absent(&e);
	ck_assert_int_eq(proto_enc_end(&e), -EMSGSIZE);
	assert_unchanged(&b, saved, savedlen);

	/* An absent argument counts its 4 length bytes: 14 fits, 13 not. */
	proto_enc_begin(&e, &b, 13, IOMUX_KIND_REPLY, IOMUX_ST_OK, 3);
	proto_enc_absent(&e);
	ck_assert_int_eq(proto_enc_end(&e), -EMSGSIZE);
	assert_unchanged(&b, saved, savedlen);
	proto_enc_begin(&e, &b, 14, IOMUX_KIND_REPLY, IOMUX_ST_OK, 3);
	proto_enc_absent(&e);
	ck_assert_int_eq(proto_enc_end(&e), 18);
	ck_assert_uint_eq(buf_len(&b), savedlen + 18);
	ck_assert_int_eq(memcmp(buf_data(&b) + savedlen + 14,
	    "\xff\xff\xff\xff", 4), 0);
	buf_consume(&b, buf_len(&b));
	preload(&b, saved, &savedlen);

	/* A limit below the header size fits nothing. */
	proto_enc_begin(&e, &b, 9, IOMUX_KIND_REPLY, IOMUX_ST_OK, 3);
	ck_assert_int_eq(proto_enc_end(&e), -EMSGSIZE);
	assert_unchanged(&b, saved, savedlen);

	/* A length that cannot be represented never reaches the buffer. */
	proto_enc_begin(&e, &b, UINT32_MAX, IOMUX_KIND_REPLY, IOMUX_ST_OK, 3);
	proto_enc_arg(&e, saved, SIZE_MAX);
	ck_assert_int_eq(proto_enc_end(&e), -EMSGSIZE);
	assert_unchanged(&b, saved, savedlen);
	buf_free(&b);
}
END_TEST

START_TEST(test_enc_argc)
{
	struct proto_enc	 e;
	struct proto_frame	 f;
	struct buf		 b;
	uint8_t			 saved[16];
	size_t			 savedlen, i;
	int			 r;

	buf_init(&b, 0);
	preload(&b, saved, &savedlen);
	proto_enc_begin(&e, &b, MIB, IOMUX_KIND_REQUEST, IOMUX_OP_PING, 1);
	for (i = 0; i < IOMUX_ARGS_MAX + 1; i++)
		proto_enc_absent(&e);
	ck_assert_int_eq(proto_enc_end(&e), -E2BIG);
	assert_unchanged(&b, saved, savedlen);

	proto_enc_begin(&e, &b, MIB, IOMUX_KIND_REQUEST, IOMUX_OP_PING, 1);
	for (i = 0; i < IOMUX_ARGS_MAX; i++)
		proto_enc_absent(&e);
	r = proto_enc_end(&e);
	ck_assert_int_eq(r, IOMUX_LEN_SIZE + IOMUX_BODY_HDR_SIZE +
	    IOMUX_ARGS_MAX * IOMUX_ARG_HDR_SIZE);
	buf_consume(&b, savedlen);
	ck_assert_int_eq(proto_decode(buf_data(&b), buf_len(&b), MIB, &f,
	    args, IOMUX_ARGS_MAX), r);
	ck_assert_uint_eq(f.argc, IOMUX_ARGS_MAX);
	ck_assert(args[0].absent && args[IOMUX_ARGS_MAX - 1].absent);
	buf_free(&b);
}
END_TEST

/* ---- typed arguments --------------------------------------------------- */

START_TEST(test_enc_typed)
{
	struct proto_enc	 e;
	struct proto_frame	 f;
	struct buf		 b;
	uint32_t		 v32;
	uint64_t		 v64;
	static const uint8_t	 want[] = {
		0x00, 0x00, 0x00, 0x28,		/* length 40 */
		0x01, 0x01, 0x01, 0x05,		/* v1 request INCR */
		0x00, 0x00, 0x00, 0x0b,		/* id 11 */
		0x00, 0x04,			/* argc 4 */
		0x00, 0x00, 0x00, 0x04,		/* u32 0xdeadbeef */
		0xde, 0xad, 0xbe, 0xef,
		0x00, 0x00, 0x00, 0x08,		/* u64 0x0102030405060708 */
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0xff, 0xff, 0xff, 0xff,		/* NULL string: absent */
		0x00, 0x00, 0x00, 0x02,		/* "ab" */
		'a', 'b',
	};

	buf_init(&b, 0);
	proto_enc_begin(&e, &b, MIB, IOMUX_KIND_REQUEST, IOMUX_OP_INCR, 11);
	proto_enc_u32(&e, 0xdeadbeef);
	proto_enc_u64(&e, 0x0102030405060708ull);
	proto_enc_str(&e, NULL);
	proto_enc_str(&e, "ab");
	ck_assert_int_eq(proto_enc_end(&e), (int)sizeof(want));
	ck_assert_uint_eq(buf_len(&b), sizeof(want));
	ck_assert_int_eq(memcmp(buf_data(&b), want, sizeof(want)), 0);

	ck_assert_int_eq(proto_decode(buf_data(&b), buf_len(&b), MIB, &f,
	    args, 4), (int)sizeof(want));
	ck_assert_int_eq(proto_arg_u32(&args[0], &v32), 0);
	ck_assert_uint_eq(v32, 0xdeadbeef);
	ck_assert_int_eq(proto_arg_u64(&args[1], &v64), 0);
	ck_assert(v64 == 0x0102030405060708ull);
	/* Wrong sizes and absent arguments are refused, output untouched. */
	v32 = 7;
	v64 = 7;
	ck_assert_int_eq(proto_arg_u32(&args[1], &v32), -EINVAL);
	ck_assert_int_eq(proto_arg_u64(&args[0], &v64), -EINVAL);
	ck_assert_int_eq(proto_arg_u32(&args[2], &v32), -EINVAL);
	ck_assert_int_eq(proto_arg_u64(&args[2], &v64), -EINVAL);
	ck_assert_int_eq(proto_arg_u32(&args[3], &v32), -EINVAL);
	ck_assert_uint_eq(v32, 7);
	ck_assert(v64 == 7);
	buf_free(&b);
}
END_TEST

/* ---- random round trip ------------------------------------------------- */

/* xorshift64*: a fixed seed makes every run test the same frames. */
static uint64_t	 rng_state;

static uint32_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

#define RT_FRAMES	2000
#define RT_ARGS_MAX	40
#define RT_ARG_LEN	300

struct rt_frame {
	uint8_t		 kind;
	uint16_t	 code;
	uint32_t	 id;
	uint16_t	 argc;
	int		 absent[RT_ARGS_MAX];
	uint32_t	 len[RT_ARGS_MAX];
	uint8_t		*data[RT_ARGS_MAX];
};

START_TEST(test_round_trip)
{
	static struct rt_frame	 fr[RT_FRAMES];
	struct proto_enc	 e;
	struct proto_frame	 f;
	struct buf		 b;
	size_t			 total = 0;
	int			 i, j, k, r;

	rng_state = 0x9e3779b97f4a7c15ull;
	buf_init(&b, 0);
	for (i = 0; i < RT_FRAMES; i++) {
		fr[i].kind = (uint8_t)rng();
		fr[i].code = (uint16_t)rng();
		fr[i].id = rng();
		fr[i].argc = (uint16_t)(rng() % (RT_ARGS_MAX + 1));
		proto_enc_begin(&e, &b, MIB, fr[i].kind, fr[i].code, fr[i].id);
		for (j = 0; j < fr[i].argc; j++) {
			fr[i].absent[j] = rng() % 8 == 0;
			fr[i].data[j] = NULL;
			if (fr[i].absent[j]) {
				fr[i].len[j] = 0;
				proto_enc_absent(&e);
				continue;
			}
			/* Bias towards the small and empty. */
			fr[i].len[j] = rng() % (rng() % 4 == 0 ?
			    RT_ARG_LEN : 8);
			fr[i].data[j] = malloc(fr[i].len[j] + 1);
			ck_assert_ptr_nonnull(fr[i].data[j]);
			for (k = 0; k < (int)fr[i].len[j]; k++)
				fr[i].data[j][k] = (uint8_t)rng();
			proto_enc_arg(&e, fr[i].data[j], fr[i].len[j]);
		}
		r = proto_enc_end(&e);
		ck_assert_int_gt(r, 0);
		total += (size_t)r;
	}
	ck_assert_uint_eq(buf_len(&b), total);

	for (i = 0; i < RT_FRAMES; i++) {
		r = proto_decode(buf_data(&b), buf_len(&b), MIB, &f, args,
		    RT_ARGS_MAX);
		ck_assert_msg(r > 0, "frame %d: decode %d", i, r);
		ck_assert_uint_eq(f.version, IOMUX_PROTO_VERSION);
		ck_assert_uint_eq(f.kind, fr[i].kind);
		ck_assert_uint_eq(f.code, fr[i].code);
		ck_assert_uint_eq(f.id, fr[i].id);
		ck_assert_uint_eq(f.argc, fr[i].argc);
		ck_assert_uint_eq(f.body_len, (uint32_t)r - IOMUX_LEN_SIZE);
		for (j = 0; j < fr[i].argc; j++) {
			ck_assert_int_eq(args[j].absent, fr[i].absent[j]);
			ck_assert_uint_eq(args[j].len, fr[i].len[j]);
			if (fr[i].len[j] != 0)
				ck_assert_int_eq(memcmp(args[j].p,
				    fr[i].data[j], fr[i].len[j]), 0);
			free(fr[i].data[j]);
		}
		buf_consume(&b, (size_t)r);
	}
	ck_assert_uint_eq(buf_len(&b), 0);
	buf_free(&b);
}
END_TEST

/* ---- names ------------------------------------------------------------- */

static const struct {
	uint16_t	 op;
	const char	*name;
} ops[] = {
	{ IOMUX_OP_HELLO, "hello" }, { IOMUX_OP_PING, "ping" },
	{ IOMUX_OP_STATUS, "status" }, { IOMUX_OP_GET, "get" },
	{ IOMUX_OP_SET, "set" }, { IOMUX_OP_DEL, "del" },
	{ IOMUX_OP_EXISTS, "exists" }, { IOMUX_OP_INCR, "incr" },
	{ IOMUX_OP_KEYS, "keys" }, { IOMUX_OP_TTL, "ttl" },
	{ IOMUX_OP_EXPIRE, "expire" }, { IOMUX_OP_PERSIST, "persist" },
	{ IOMUX_OP_WAIT, "wait" }, { IOMUX_OP_PUSH, "push" },
	{ IOMUX_OP_POP, "pop" }, { IOMUX_OP_QLEN, "qlen" },
	{ IOMUX_OP_PEEK, "peek" }, { IOMUX_OP_SUBSCRIBE, "subscribe" },
	{ IOMUX_OP_UNSUBSCRIBE, "unsubscribe" },
	{ IOMUX_OP_PSUBSCRIBE, "psubscribe" },
	{ IOMUX_OP_PUNSUBSCRIBE, "punsubscribe" },
	{ IOMUX_OP_PUBLISH, "publish" }, { IOMUX_OP_LOCK, "lock" },
	{ IOMUX_OP_TRYLOCK, "trylock" }, { IOMUX_OP_UNLOCK, "unlock" },
};

START_TEST(test_op_names)
{
	size_t	 i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		ck_assert_str_eq(proto_op_name(ops[i].op), ops[i].name);
		ck_assert_uint_eq(proto_op_by_name(ops[i].name), ops[i].op);
	}
	ck_assert_uint_eq(proto_op_by_name("PING"), IOMUX_OP_PING);
	ck_assert_uint_eq(proto_op_by_name("Status"), IOMUX_OP_STATUS);
	ck_assert_uint_eq(proto_op_by_name("pin"), 0);
	ck_assert_uint_eq(proto_op_by_name("pingx"), 0);
	ck_assert_uint_eq(proto_op_by_name(""), 0);
	ck_assert_uint_eq(proto_op_by_name("unknown"), 0);
	ck_assert_str_eq(proto_op_name(0x0000), "unknown");
	ck_assert_str_eq(proto_op_name(0x0005), "unknown");
	ck_assert_str_eq(proto_op_name(0x7777), "unknown");
	ck_assert_str_eq(proto_op_name(0xffff), "unknown");
}
END_TEST

static const struct {
	uint16_t	 st;
	const char	*name;
	const char	*text;
} sts[] = {
	{ IOMUX_ST_OK, "OK", "ok" },
	{ IOMUX_ST_TIMEDOUT, "TIMEDOUT", "timed out" },
	{ IOMUX_ST_NOTFOUND, "NOTFOUND", "not found" },
	{ IOMUX_ST_CONFLICT, "CONFLICT", "conflict" },
	{ IOMUX_ST_EPROTO, "EPROTO", "protocol error" },
	{ IOMUX_ST_ETOOBIG, "ETOOBIG", "frame too large" },
	{ IOMUX_ST_EVERSION, "EVERSION", "unsupported version" },
	{ IOMUX_ST_EUNKNOWN, "EUNKNOWN", "unknown command" },
	{ IOMUX_ST_EARGS, "EARGS", "bad arguments" },
	{ IOMUX_ST_ELIMIT, "ELIMIT", "limit exceeded" },
	{ IOMUX_ST_ETYPE, "ETYPE", "wrong type" },
	{ IOMUX_ST_ERANGE, "ERANGE", "out of range" },
	{ IOMUX_ST_ENOTOWNER, "ENOTOWNER", "not the owner" },
	{ IOMUX_ST_EDENIED, "EDENIED", "permission denied" },
	{ IOMUX_ST_ETIMEOUT, "ETIMEOUT", "frame not completed in time" },
	{ IOMUX_ST_EKIND, "EKIND", "not a request" },
	{ IOMUX_ST_EBUSY, "EBUSY", "too many clients" },
	{ IOMUX_ST_ENOMEM, "ENOMEM", "out of memory" },
	{ IOMUX_ST_ESHUTDOWN, "ESHUTDOWN", "server shutting down" },
	{ IOMUX_ST_EINTERNAL, "EINTERNAL", "internal error" },
};

START_TEST(test_status_names)
{
	size_t	 i;

	for (i = 0; i < sizeof(sts) / sizeof(sts[0]); i++) {
		ck_assert_str_eq(proto_status_name(sts[i].st), sts[i].name);
		ck_assert_str_eq(proto_status_text(sts[i].st), sts[i].text);
		/* Names of errors start with E, answers do not. */
		ck_assert_int_eq(sts[i].name[0] == 'E',
		    IOMUX_ST_IS_ERROR(sts[i].st));
	}
	ck_assert_str_eq(proto_status_name(0x0004), "unknown");
	ck_assert_str_eq(proto_status_text(0x0004), "unknown");
	ck_assert_str_eq(proto_status_name(0x010c), "unknown");
	ck_assert_str_eq(proto_status_name(0xffff), "unknown");
	ck_assert_str_eq(proto_status_text(0xffff), "unknown");
}
END_TEST

/*
 * The protocol's per-request limits, defined once in iomux-proto.h for
 * the daemon and every client; iomuxd-protocol(7) promises these values.
 */
START_TEST(test_limits)
{
	ck_assert_int_eq(IOMUX_KEYS_LIMIT_DEFAULT, 100);
	ck_assert_int_eq(IOMUX_KEYS_LIMIT_MAX, 1000);
	ck_assert_int_le(IOMUX_KEYS_LIMIT_DEFAULT, IOMUX_KEYS_LIMIT_MAX);
	/* A PUSH frame is the queue name plus its values. */
	ck_assert_int_eq(IOMUX_PUSH_VALUES_MAX, 1023);
	ck_assert_int_eq(IOMUX_PUSH_VALUES_MAX + 1, IOMUX_ARGS_MAX);
}
END_TEST

static Suite *
codec_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("codec");

	tc = tcase_create("golden");
	tcase_add_loop_test(tc, test_golden_decode, 0, NGOLDEN);
	tcase_add_loop_test(tc, test_golden_encode, 0, NGOLDEN);
	tcase_add_loop_test(tc, test_golden_split, 0, NGOLDEN);
	tcase_add_test(tc, test_back_to_back);
	suite_add_tcase(s, tc);

	tc = tcase_create("length");
	tcase_add_loop_test(tc, test_len_edges, 0,
	    (int)(sizeof(edge_limits) / sizeof(edge_limits[0])));
	tcase_add_test(tc, test_len_huge_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("structure");
	tcase_add_test(tc, test_argc_limit);
	tcase_add_test(tc, test_arg_overrun);
	tcase_add_test(tc, test_bad_version);
	tcase_add_test(tc, test_any_kind_code);
	suite_add_tcase(s, tc);

	tc = tcase_create("encoder");
	tcase_add_test(tc, test_enc_buf_limit);
	tcase_add_test(tc, test_enc_frame_max);
	tcase_add_test(tc, test_enc_argc);
	tcase_add_test(tc, test_enc_typed);
	suite_add_tcase(s, tc);

	tc = tcase_create("roundtrip");
	tcase_add_test(tc, test_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_op_names);
	tcase_add_test(tc, test_status_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(codec_suite());
}
