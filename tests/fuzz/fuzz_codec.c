/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * fuzz_codec.c: libFuzzer target for the frame decoder.
 *
 * The input is treated as a byte stream from a peer, decoded frame by frame
 * as a connection would. Each frame that decodes is encoded again from its
 * parsed fields and must come out byte for byte identical (the encoding is
 * canonical), and decoding the re-encoded bytes must give the same frame.
 * Every prefix of a frame that decodes must be "need more". Any difference
 * aborts. Memory errors are the sanitizers' business.
 *
 * Built only with --enable-fuzzing (clang, -fsanitize=fuzzer); the codec
 * sources are compiled into this program so they carry the coverage
 * instrumentation.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "iomux-proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Small enough that the fuzzer reaches the limit paths. */
#define FUZZ_FRAME_MAX	(64u << 10)

static struct proto_arg	 args[IOMUX_ARGS_MAX];
static struct proto_arg	 args2[IOMUX_ARGS_MAX];

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

/* Re-encode a decoded frame and compare with the bytes it came from. */
static void
reencode(const uint8_t *frame, int n, const struct proto_frame *f)
{
	struct proto_enc	 e;
	struct proto_frame	 f2;
	struct buf		 b;
	uint16_t		 i;
	int			 r;

	buf_init(&b, (size_t)n);	/* exactly enough, or it is a bug */
	proto_enc_begin(&e, &b, FUZZ_FRAME_MAX, f->kind, f->code, f->id);
	for (i = 0; i < f->argc; i++) {
		if (args[i].absent)
			proto_enc_absent(&e);
		else
			proto_enc_arg(&e, args[i].p, args[i].len);
	}
	r = proto_enc_end(&e);
	CHECK(r == n);
	CHECK(buf_len(&b) == (size_t)n);
	CHECK(memcmp(buf_data(&b), frame, (size_t)n) == 0);

	r = proto_decode(buf_data(&b), buf_len(&b), FUZZ_FRAME_MAX, &f2,
	    args2, IOMUX_ARGS_MAX);
	CHECK(r == n);
	CHECK(f2.version == f->version && f2.kind == f->kind &&
	    f2.code == f->code && f2.id == f->id && f2.argc == f->argc &&
	    f2.body_len == f->body_len);
	for (i = 0; i < f->argc; i++) {
		CHECK(args2[i].absent == args[i].absent);
		CHECK(args2[i].len == args[i].len);
		CHECK(args[i].absent || args[i].len == 0 ||
		    memcmp(args2[i].p, args[i].p, args[i].len) == 0);
	}
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_frame	 f, fp;
	uint32_t		 body_len;
	size_t			 off = 0;
	int			 r, pr;

	while (off < size) {
		r = proto_decode(data + off, size - off, FUZZ_FRAME_MAX, &f,
		    args, IOMUX_ARGS_MAX);
		pr = proto_peek_len(data + off, size - off, FUZZ_FRAME_MAX,
		    &body_len);
		/* The decoder never contradicts the length check. */
		if (pr <= 0)
			CHECK(r == pr);
		CHECK(r >= 0 || r == -EMSGSIZE || r == -EBADMSG ||
		    r == -E2BIG || r == -EPROTONOSUPPORT);
		if (r <= 0)
			break;
		CHECK(pr == 1);
		CHECK((size_t)r == IOMUX_LEN_SIZE + (size_t)body_len);
		CHECK((size_t)r <= size - off);
		CHECK(f.version == IOMUX_PROTO_VERSION);
		CHECK(f.argc <= IOMUX_ARGS_MAX);
		/* One byte short of complete is "need more". */
		CHECK(proto_decode(data + off, (size_t)r - 1, FUZZ_FRAME_MAX,
		    &fp, args2, IOMUX_ARGS_MAX) == PROTO_E_AGAIN);
		reencode(data + off, r, &f);
		off += (size_t)r;
	}
	return 0;
}
