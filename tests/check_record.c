/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_record.c: unit tests of the state file format (daemon/state/):
 * CRC-32C against published vectors and a bytewise reference, golden
 * bytes of a header and of two records (written out by hand from
 * iomuxd-state(5), the CRC words computed by an independent bitwise
 * CRC), every truncation and every single-bit flip of a record, and the
 * scanner's torn-tail rule on whole logs cut and damaged everywhere.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check-run.h"
#include "buf.h"
#include "codec.h"
#include "iomux-proto.h"
#include "crc32c.h"
#include "record.h"

#define SALT	0x01020304u

/* --- CRC-32C ------------------------------------------------------------ */

/* The definition, one bit at a time: the reference for the fast paths. */
static uint32_t
crc_ref(uint32_t crc, const uint8_t *p, size_t n)
{
	int	 k;

	crc = ~crc;
	while (n-- > 0) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return ~crc;
}

START_TEST(test_crc_vectors)
{
	uint8_t	 v[32];
	int	 i;

	ck_assert_uint_eq(crc32c(0, "123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(crc32c_sw(0, "123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(crc_ref(0, (const uint8_t *)"123456789", 9),
	    0xe3069283u);
	ck_assert_uint_eq(crc32c(0, "", 0), 0);

	/* RFC 3720, B.4 */
	memset(v, 0, sizeof(v));
	ck_assert_uint_eq(crc32c(0, v, 32), 0x8a9136aau);
	ck_assert_uint_eq(crc32c_sw(0, v, 32), 0x8a9136aau);
	memset(v, 0xff, sizeof(v));
	ck_assert_uint_eq(crc32c(0, v, 32), 0x62a8ab43u);
	ck_assert_uint_eq(crc32c_sw(0, v, 32), 0x62a8ab43u);
	for (i = 0; i < 32; i++)
		v[i] = (uint8_t)i;
	ck_assert_uint_eq(crc32c(0, v, 32), 0x46dd794eu);
	ck_assert_uint_eq(crc32c_sw(0, v, 32), 0x46dd794eu);
	for (i = 0; i < 32; i++)
		v[i] = (uint8_t)(31 - i);
	ck_assert_uint_eq(crc32c(0, v, 32), 0x113fdb5cu);
	ck_assert_uint_eq(crc32c_sw(0, v, 32), 0x113fdb5cu);

	/* Continuation: the CRC of a then b. */
	ck_assert_uint_eq(crc32c(crc32c(0, "1234", 4), "56789", 5),
	    0xe3069283u);
	ck_assert_uint_eq(crc32c_sw(crc32c_sw(0, "12345", 5), "6789", 4),
	    0xe3069283u);
}
END_TEST

/* Slicing-by-8 and (where the CPU has it) SSE4.2 against the bit-at-a-
 * time definition, at every alignment and many lengths and splits. */
START_TEST(test_crc_random)
{
	static uint8_t	 data[4096 + 16];
	uint32_t	 want, a, b;
	size_t		 i, off, n, cut;
	int		 round;

	srandom(12345);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)random();
	for (round = 0; round < 4000; round++) {
		off = (size_t)random() % 16;
		n = round < 200 ? (size_t)round : (size_t)random() % 4096;
		cut = n == 0 ? 0 : (size_t)random() % (n + 1);
		want = crc_ref(0, data + off, n);
		a = crc32c_sw(crc32c_sw(0, data + off, cut), data + off + cut,
		    n - cut);
		b = crc32c(crc32c(0, data + off, cut), data + off + cut,
		    n - cut);
		ck_assert_msg(a == want && b == want,
		    "off %zu len %zu cut %zu: ref %08x sw %08x crc32c %08x "
		    "(hw %d)", off, n, cut, want, a, b, (int)crc32c_hw());
	}
}
END_TEST

/* --- golden bytes ------------------------------------------------------ */

/* A log header: base 41, created 2026-01-01T00:00:00Z, salt 01020304. */
static const uint8_t golden_hdr[REC_FILE_HDR_SIZE] = {
	'I', 'O', 'M', 'U', 'X', 'L', 'O', 'G',		/* magic */
	0x00, 0x00, 0x00, 0x01,				/* version 1 */
	0x00, 0x00, 0x00, 0x00,				/* flags */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x29,	/* base_seq 41 */
	0x00, 0x00, 0x01, 0x9b, 0x76, 0xda, 0xa8, 0x00,	/* 1767225600000 */
	0x01, 0x02, 0x03, 0x04,				/* salt */
	0x8e, 0x4b, 0xeb, 0xf1,				/* CRC-32C of 0..35 */
};

/* Record 42: SET "k" "v" expire_at 0. */
static const uint8_t golden_rec1[] = {
	0x7a, 0xf4, 0x91, 0x66,				/* hcrc */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,	/* seq 42 */
	0xe8, 0x6a, 0xeb, 0x6c,				/* dcrc */
	0x00, 0x00, 0x00, 0x20,				/* body: 32 bytes */
	0x01, 0x01, 0x01, 0x02,				/* v1 REQUEST SET */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x03,		/* id 0, 3 args */
	0x00, 0x00, 0x00, 0x01, 'k',
	0x00, 0x00, 0x00, 0x01, 'v',
	0x00, 0x00, 0x00, 0x08,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* no expiry */
};

/* Record 43: PUSH "q" "a" "bc". */
static const uint8_t golden_rec2[] = {
	0x48, 0xe4, 0xcd, 0x3e,				/* hcrc */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2b,	/* seq 43 */
	0xdc, 0xb2, 0xf4, 0x42,				/* dcrc */
	0x00, 0x00, 0x00, 0x1a,				/* body: 26 bytes */
	0x01, 0x01, 0x02, 0x01,				/* v1 REQUEST PUSH */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x03,		/* id 0, 3 args */
	0x00, 0x00, 0x00, 0x01, 'q',
	0x00, 0x00, 0x00, 0x01, 'a',
	0x00, 0x00, 0x00, 0x02, 'b', 'c',
};

static const struct rec_hdr hdr_template = {
	.type = REC_FILE_LOG, .flags = 0, .base_seq = 41,
	.created_ms = UINT64_C(1767225600000), .salt = SALT,
};

START_TEST(test_hdr_golden)
{
	uint8_t		 out[REC_FILE_HDR_SIZE];
	struct rec_hdr	 h;

	memset(out, 0xa5, sizeof(out));
	rec_hdr_encode(out, &hdr_template);
	ck_assert_mem_eq(out, golden_hdr, sizeof(golden_hdr));

	ck_assert_int_eq(rec_hdr_decode(golden_hdr, sizeof(golden_hdr), &h),
	    REC_FILE_HDR_SIZE);
	ck_assert_int_eq(h.type, REC_FILE_LOG);
	ck_assert_uint_eq(h.version, 1);
	ck_assert_uint_eq(h.flags, 0);
	ck_assert_uint_eq(h.base_seq, 41);
	ck_assert_uint_eq(h.created_ms, UINT64_C(1767225600000));
	ck_assert_uint_eq(h.salt, SALT);

	/* The snapshot's magic, with the same fields. */
	h = hdr_template;
	h.type = REC_FILE_SNAP;
	rec_hdr_encode(out, &h);
	ck_assert_mem_eq(out, "IOMUXSNP", 8);
	ck_assert_mem_eq(out + 8, golden_hdr + 8, 28);
	ck_assert_int_eq(rec_hdr_decode(out, sizeof(out), &h),
	    REC_FILE_HDR_SIZE);
	ck_assert_int_eq(h.type, REC_FILE_SNAP);
}
END_TEST

START_TEST(test_hdr_errors)
{
	uint8_t		 p[REC_FILE_HDR_SIZE];
	struct rec_hdr	 h;
	size_t		 n, bit;
	int		 r;

	for (n = 0; n < sizeof(golden_hdr); n++)
		ck_assert_int_eq(rec_hdr_decode(golden_hdr, n, &h), 0);

	memcpy(p, golden_hdr, sizeof(p));
	p[7] = 'X';
	ck_assert_int_eq(rec_hdr_decode(p, sizeof(p), &h), -EINVAL);

	/* Unknown version, even with a matching CRC or none. */
	memcpy(p, golden_hdr, sizeof(p));
	buf_put_u32(p + 8, 2);
	ck_assert_int_eq(rec_hdr_decode(p, sizeof(p), &h), -EPROTONOSUPPORT);
	ck_assert_uint_eq(h.version, 2);
	buf_put_u32(p + 36, crc32c(0, p, 36));
	ck_assert_int_eq(rec_hdr_decode(p, sizeof(p), &h), -EPROTONOSUPPORT);
	buf_put_u32(p + 8, 0);
	buf_put_u32(p + 36, crc32c(0, p, 36));
	ck_assert_int_eq(rec_hdr_decode(p, sizeof(p), &h), -EPROTONOSUPPORT);

	/* Unknown flags, with a good CRC. */
	h = hdr_template;
	h.flags = 1;
	rec_hdr_encode(p, &h);
	ck_assert_int_eq(rec_hdr_decode(p, sizeof(p), &h), -EPROTONOSUPPORT);

	/* Bad CRC. */
	memcpy(p, golden_hdr, sizeof(p));
	p[20] ^= 0x10;
	ck_assert_int_eq(rec_hdr_decode(p, sizeof(p), &h), -EBADMSG);

	/* No single-bit flip is accepted. */
	for (bit = 0; bit < 8 * sizeof(p); bit++) {
		memcpy(p, golden_hdr, sizeof(p));
		p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		r = rec_hdr_decode(p, sizeof(p), &h);
		ck_assert_msg(r == -EINVAL || r == -EBADMSG ||
		    r == -EPROTONOSUPPORT, "bit %zu: %d", bit, r);
	}
}
END_TEST

START_TEST(test_rec_golden_encode)
{
	struct buf	 b;
	struct rec_enc	 re;
	struct proto_arg args[3];
	struct proto_enc pe;
	struct buf	 fb;
	int		 n;

	/* Record 42 built in place. */
	buf_init(&b, 0);
	buf_add(&b, "xyz", 3);		/* not at the start of the buffer */
	buf_consume(&b, 1);
	rec_enc_begin(&re, &b, SALT, 42, REC_SET);
	proto_enc_str(&re.pe, "k");
	proto_enc_str(&re.pe, "v");
	proto_enc_u64(&re.pe, 0);
	n = rec_enc_end(&re);
	ck_assert_int_eq(n, (int)sizeof(golden_rec1));
	ck_assert_uint_eq(buf_len(&b), 2 + sizeof(golden_rec1));
	ck_assert_mem_eq(buf_data(&b), "yz", 2);
	ck_assert_mem_eq(buf_data(&b) + 2, golden_rec1, sizeof(golden_rec1));

	/* Record 43 from an argument array, after it. */
	args[0] = (struct proto_arg){ .p = (const uint8_t *)"q", .len = 1 };
	args[1] = (struct proto_arg){ .p = (const uint8_t *)"a", .len = 1 };
	args[2] = (struct proto_arg){ .p = (const uint8_t *)"bc", .len = 2 };
	n = rec_append_args(&b, SALT, 43, REC_PUSH, args, 3);
	ck_assert_int_eq(n, (int)sizeof(golden_rec2));
	ck_assert_mem_eq(buf_data(&b) + 2 + sizeof(golden_rec1), golden_rec2,
	    sizeof(golden_rec2));
	buf_free(&b);

	/* Record 43 from a frame the codec wrote. */
	buf_init(&fb, 0);
	proto_enc_begin(&pe, &fb, IOMUX_FRAME_MAX_DEFAULT,
	    IOMUX_KIND_REQUEST, IOMUX_OP_PUSH, 0);
	proto_enc_str(&pe, "q");
	proto_enc_str(&pe, "a");
	proto_enc_str(&pe, "bc");
	ck_assert_int_gt(proto_enc_end(&pe), 0);
	buf_init(&b, 0);
	n = rec_append(&b, SALT, 43, buf_data(&fb), buf_len(&fb));
	ck_assert_int_eq(n, (int)sizeof(golden_rec2));
	ck_assert_mem_eq(buf_data(&b), golden_rec2, sizeof(golden_rec2));
	buf_free(&b);
	buf_free(&fb);
}
END_TEST

START_TEST(test_rec_golden_decode)
{
	static struct rec	 r;
	uint8_t			 two[sizeof(golden_rec1) + sizeof(golden_rec2)];
	uint64_t		 v;

	memcpy(two, golden_rec1, sizeof(golden_rec1));
	memcpy(two + sizeof(golden_rec1), golden_rec2, sizeof(golden_rec2));
	ck_assert_int_eq(rec_next(two, sizeof(two), SALT, 42, &r),
	    (int)sizeof(golden_rec1));
	ck_assert_uint_eq(r.seq, 42);
	ck_assert_uint_eq(r.f.code, REC_SET);
	ck_assert_uint_eq(r.f.argc, 3);
	ck_assert_ptr_eq(r.frame, two + 16);
	ck_assert_uint_eq(r.frame_len, sizeof(golden_rec1) - 16);
	ck_assert_mem_eq(r.args[0].p, "k", 1);
	ck_assert_mem_eq(r.args[1].p, "v", 1);
	ck_assert_int_eq(proto_arg_u64(&r.args[2], &v), 0);
	ck_assert_uint_eq(v, 0);

	ck_assert_int_eq(rec_next(two + sizeof(golden_rec1),
	    sizeof(golden_rec2), SALT, 43, &r), (int)sizeof(golden_rec2));
	ck_assert_uint_eq(r.f.code, REC_PUSH);
	ck_assert_uint_eq(r.args[2].len, 2);
	ck_assert_mem_eq(r.args[2].p, "bc", 2);

	/* Any seq, but not a wrong one, nor a wrong salt. */
	ck_assert_int_gt(rec_next(two, sizeof(two), SALT, REC_SEQ_ANY, &r), 0);
	ck_assert_int_eq(rec_next(two, sizeof(two), SALT, 43, &r), -ERANGE);
	ck_assert_int_eq(rec_next(two, sizeof(two), SALT + 1, 42, &r),
	    -EBADMSG);

	ck_assert_str_eq(rec_kind_name(REC_SET), "set");
	ck_assert_str_eq(rec_kind_name(REC_PUSHFRONT), "pushfront");
	ck_assert_str_eq(rec_kind_name(IOMUX_OP_GET), "unknown");
}
END_TEST

/* Every strict prefix of a record is "need more", never an error. */
START_TEST(test_rec_truncated)
{
	static struct rec	 r;
	uint8_t			*p;
	size_t			 n;

	for (n = 0; n < sizeof(golden_rec1); n++) {
		/* An exact-size heap copy: ASan sees any read past it. */
		p = malloc(n + 1);
		ck_assert_ptr_nonnull(p);
		memcpy(p, golden_rec1, n);
		ck_assert_msg(rec_next(p, n, SALT, 42, &r) == 0, "len %zu", n);
		free(p);
	}
	for (n = 0; n < sizeof(golden_rec2); n++)
		ck_assert_int_eq(rec_next(golden_rec2, n, SALT, 43, &r), 0);
}
END_TEST

/* Every single-bit flip of a record is refused, alone and followed by
 * another record, and whatever expect is. */
START_TEST(test_rec_bitflip)
{
	static struct rec	 r;
	uint8_t			 p[sizeof(golden_rec1) + sizeof(golden_rec2)];
	size_t			 bit;
	int			 a, b;

	for (bit = 0; bit < 8 * sizeof(golden_rec1); bit++) {
		memcpy(p, golden_rec1, sizeof(golden_rec1));
		memcpy(p + sizeof(golden_rec1), golden_rec2,
		    sizeof(golden_rec2));
		p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		a = rec_next(p, sizeof(golden_rec1), SALT, 42, &r);
		b = rec_next(p, sizeof(p), SALT, REC_SEQ_ANY, &r);
		ck_assert_msg(a == -EBADMSG || a == -EPROTO,
		    "bit %zu alone: %d", bit, a);
		ck_assert_msg(b == -EBADMSG || b == -EPROTO,
		    "bit %zu followed: %d", bit, b);
	}
}
END_TEST

/* A record whose checksums are good but whose content is not. */
static size_t
forge(uint8_t *out, uint64_t seq, const uint8_t *body, uint32_t body_len,
    uint32_t len_field)
{
	uint8_t	 s[4];

	buf_put_u32(s, SALT);
	buf_put_u64(out + 4, seq);
	buf_put_u32(out + 12, crc32c(crc32c(0, s, 4), body, body_len));
	buf_put_u32(out + 16, len_field);
	buf_put_u32(out, crc32c(crc32c(0, s, 4), out + 4, 16));
	memcpy(out + 20, body, body_len);
	return 20 + body_len;
}

START_TEST(test_rec_bad_content)
{
	static struct rec	 r;
	uint8_t			 p[256], body[64];
	size_t			 n;

	/* A length over the maximum, or under a frame header: refused
	 * from the 20 header bytes alone. */
	memset(body, 0, sizeof(body));
	n = forge(p, 42, body, 0, REC_BODY_MAX + 1);
	ck_assert_int_eq(rec_next(p, n, SALT, 42, &r), -EPROTO);
	n = forge(p, 42, body, 0, 0xffffffffu);
	ck_assert_int_eq(rec_next(p, n, SALT, 42, &r), -EPROTO);
	n = forge(p, 42, body, 0, IOMUX_BODY_HDR_SIZE - 1);
	ck_assert_int_eq(rec_next(p, n, SALT, 42, &r), -EPROTO);
	/* At the maximum, the header is good: need more. */
	n = forge(p, 42, body, 0, REC_BODY_MAX);
	ck_assert_int_eq(rec_next(p, n, SALT, 42, &r), 0);

	/* Seq 0, and a seq gap, from the header alone. */
	n = forge(p, 0, body, 0, 100);
	ck_assert_int_eq(rec_next(p, n, SALT, REC_SEQ_ANY, &r), -ERANGE);
	n = forge(p, 44, body, 0, 100);
	ck_assert_int_eq(rec_next(p, n, SALT, 42, &r), -ERANGE);

	/* Bodies that the codec or the record kinds refuse. */
#define BODY(...) do {							\
	static const uint8_t b_[] = { __VA_ARGS__ };			\
	n = forge(p, 42, b_, sizeof(b_), sizeof(b_));			\
	ck_assert_msg(rec_next(p, n, SALT, 42, &r) == -EPROTO,		\
	    "line %d", __LINE__);					\
} while (0)
	/* version 2 */
	BODY(0x02, 0x01, 0x01, 0x03, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 'k');
	/* a REPLY */
	BODY(0x01, 0x02, 0x01, 0x03, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 'k');
	/* id 7 */
	BODY(0x01, 0x01, 0x01, 0x03, 0, 0, 0, 7, 0, 1, 0, 0, 0, 1, 'k');
	/* GET: not a record kind */
	BODY(0x01, 0x01, 0x01, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 'k');
	/* DEL without a key */
	BODY(0x01, 0x01, 0x01, 0x03, 0, 0, 0, 0, 0, 0);
	/* DEL of an absent key */
	BODY(0x01, 0x01, 0x01, 0x03, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff);
	/* an argument overrunning the body */
	BODY(0x01, 0x01, 0x01, 0x03, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 'k');
	/* a byte left over */
	BODY(0x01, 0x01, 0x01, 0x03, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 'k', 0);
	/* EXPIRE whose time is 4 bytes */
	BODY(0x01, 0x01, 0x01, 0x08, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 'k',
	    0, 0, 0, 4, 0, 0, 0, 1);
	/* SNAPEND with an argument */
	BODY(0x01, 0x01, 0x80, 0x02, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 'k');
#undef BODY
	/* And the same shapes accepted when right. */
	{
		static const uint8_t ok[] = { 0x01, 0x01, 0x80, 0x02,
		    0, 0, 0, 0, 0, 0 };
		n = forge(p, 42, ok, sizeof(ok), sizeof(ok));
		ck_assert_int_eq(rec_next(p, n, SALT, 42, &r), (int)n);
		ck_assert_uint_eq(r.f.code, REC_SNAPEND);
	}
}
END_TEST

START_TEST(test_rec_append_errors)
{
	struct buf	 b;
	uint8_t		 f[40];
	struct rec_enc	 re;
	int		 i;

	buf_init(&b, 0);
	memcpy(f, golden_rec1 + 16, sizeof(golden_rec1) - 16);
	/* Too short, length prefix that disagrees, wrong kind, id. */
	ck_assert_int_eq(rec_append(&b, SALT, 1, f, 13), -EINVAL);
	ck_assert_int_eq(rec_append(&b, SALT, 1, f, 20), -EINVAL);
	f[5] = IOMUX_KIND_REPLY;
	ck_assert_int_eq(rec_append(&b, SALT, 1, f, 36), -EINVAL);
	f[5] = IOMUX_KIND_REQUEST;
	f[11] = 1;
	ck_assert_int_eq(rec_append(&b, SALT, 1, f, 36), -EINVAL);
	ck_assert_uint_eq(buf_len(&b), 0);
	buf_put_u32(f, REC_BODY_MAX + 1);
	ck_assert_int_eq(rec_append(&b, SALT, 1, f,
	    (size_t)REC_BODY_MAX + 1 + 4), -EMSGSIZE);
	buf_free(&b);

	/* At the buffer's limit: an error and the buffer as it was, at
	 * every limit from the record header to the whole record. */
	for (i = 0; i < (int)sizeof(golden_rec1); i++) {
		buf_init(&b, (size_t)(3 + i));
		ck_assert_int_eq(buf_add(&b, "abc", 3), 0);
		rec_enc_begin(&re, &b, SALT, 42, REC_SET);
		proto_enc_str(&re.pe, "k");
		proto_enc_str(&re.pe, "v");
		proto_enc_u64(&re.pe, 0);
		ck_assert_int_eq(rec_enc_end(&re), -ENOBUFS);
		ck_assert_uint_eq(buf_len(&b), 3);
		ck_assert_mem_eq(buf_data(&b), "abc", 3);
		buf_free(&b);
	}
	/* Too many arguments: -E2BIG from the codec, rolled back. */
	buf_init(&b, 0);
	rec_enc_begin(&re, &b, SALT, 1, REC_DEL);
	for (i = 0; i <= IOMUX_ARGS_MAX; i++)
		proto_enc_str(&re.pe, "k");
	ck_assert_int_eq(rec_enc_end(&re), -E2BIG);
	ck_assert_uint_eq(buf_len(&b), 0);
	buf_free(&b);
}
END_TEST

/* --- the scanner ------------------------------------------------------- */

#define NREC	12

struct log {
	struct buf	 b;
	size_t		 off[NREC + 1];		/* record starts, then end */
};

/* Records 100..100+NREC-1 of every kind and size, the biggest last but
 * one so that cuts of the last three cross a long payload. */
static void
log_build(struct log *l)
{
	static uint8_t	 big[3000];
	struct rec_enc	 re;
	uint64_t	 seq;
	int		 i;

	memset(big, 'x', sizeof(big));
	buf_init(&l->b, 0);
	for (i = 0; i < NREC; i++) {
		seq = 100 + (uint64_t)i;
		l->off[i] = buf_len(&l->b);
		switch (i % 6) {
		case 0:
			rec_enc_begin(&re, &l->b, SALT, seq, REC_SET);
			proto_enc_str(&re.pe, "key");
			proto_enc_arg(&re.pe, big, i == NREC - 2 ?
			    sizeof(big) : (size_t)i);
			proto_enc_u64(&re.pe, (uint64_t)i * 1000);
			break;
		case 1:
			rec_enc_begin(&re, &l->b, SALT, seq, REC_PUSH);
			proto_enc_str(&re.pe, "q");
			proto_enc_str(&re.pe, "one");
			proto_enc_str(&re.pe, "two");
			break;
		case 2:
			rec_enc_begin(&re, &l->b, SALT, seq, REC_POP);
			proto_enc_str(&re.pe, "q");
			break;
		case 3:
			rec_enc_begin(&re, &l->b, SALT, seq, REC_PUSHFRONT);
			proto_enc_str(&re.pe, "q");
			proto_enc_arg(&re.pe, big, i == NREC - 2 ?
			    sizeof(big) : 5);
			break;
		case 4:
			rec_enc_begin(&re, &l->b, SALT, seq, REC_EXPIRE);
			proto_enc_str(&re.pe, "key");
			proto_enc_u64(&re.pe, UINT64_C(1767225600000));
			break;
		default:
			rec_enc_begin(&re, &l->b, SALT, seq, REC_DEL);
			proto_enc_str(&re.pe, "key");
			proto_enc_str(&re.pe, "other");
			break;
		}
		ck_assert_int_gt(rec_enc_end(&re), 0);
	}
	l->off[NREC] = buf_len(&l->b);
}

/* A heap copy of p[0..n) of exactly n bytes, for ASan to watch. */
static uint8_t *
dup_n(const uint8_t *p, size_t n)
{
	uint8_t	*q = malloc(n + 1);

	ck_assert_ptr_nonnull(q);
	memcpy(q, p, n);
	return q;
}

START_TEST(test_scan_clean)
{
	struct log	 l;
	struct rec_scan	 s;

	log_build(&l);
	rec_scan(buf_data(&l.b), buf_len(&l.b), SALT, 100, &s);
	ck_assert_int_eq(s.status, REC_SCAN_CLEAN);
	ck_assert_uint_eq(s.records, NREC);
	ck_assert_uint_eq(s.last_seq, 100 + NREC - 1);
	ck_assert_uint_eq(s.good_end, buf_len(&l.b));
	ck_assert_int_eq(s.bad_error, 0);

	/* An empty log. */
	rec_scan(buf_data(&l.b), 0, SALT, 100, &s);
	ck_assert_int_eq(s.status, REC_SCAN_CLEAN);
	ck_assert_uint_eq(s.records, 0);
	ck_assert_uint_eq(s.last_seq, 99);
	ck_assert_uint_eq(s.last_code, 0);
	buf_free(&l.b);
}
END_TEST

/* Cut at every byte offset of the last three records: a torn tail after
 * the records before the cut, or clean at a boundary. */
START_TEST(test_scan_cut)
{
	struct log	 l;
	struct rec_scan	 s;
	uint8_t		*p;
	size_t		 cut;
	uint64_t	 whole;

	log_build(&l);
	for (cut = l.off[NREC - 3]; cut < l.off[NREC]; cut++) {
		whole = cut >= l.off[NREC - 1] ? NREC - 1 :
		    cut >= l.off[NREC - 2] ? NREC - 2 : NREC - 3;
		p = dup_n(buf_data(&l.b), cut);
		rec_scan(p, cut, SALT, 100, &s);
		ck_assert_msg(s.records == whole, "cut %zu", cut);
		ck_assert_uint_eq(s.good_end, l.off[whole]);
		ck_assert_uint_eq(s.last_seq, 100 + whole - 1);
		if (cut == l.off[whole]) {
			ck_assert_int_eq(s.status, REC_SCAN_CLEAN);
		} else {
			ck_assert_msg(s.status == REC_SCAN_TORN, "cut %zu: %d",
			    cut, s.status);
			ck_assert_int_eq(s.bad_error, 0);
		}
		free(p);
	}
	buf_free(&l.b);
}
END_TEST

/* Record k of l, in p[0..len), has a bad checksum: the good prefix ends
 * before it, and it is corruption unless it is the last record. */
static void
damaged(const struct log *l, const uint8_t *p, size_t len, int k)
{
	struct rec_scan	 s;

	rec_scan(p, len, SALT, 100, &s);
	ck_assert_uint_eq(s.records, (uint64_t)k);
	ck_assert_uint_eq(s.good_end, l->off[k]);
	ck_assert_int_eq(s.bad_error, -EBADMSG);
	if (k == NREC - 1) {
		ck_assert_int_eq(s.status, REC_SCAN_TORN);
	} else {
		ck_assert_int_eq(s.status, REC_SCAN_CORRUPT);
		ck_assert_uint_eq(s.next_good, l->off[k + 1]);
	}
}

/* Damage: in the middle it is corruption, with the next good record
 * named; in the last record it is a torn tail. */
START_TEST(test_scan_damage)
{
	struct log	 l;
	uint8_t		*p;
	size_t		 len;
	int		 k;

	log_build(&l);
	len = buf_len(&l.b);
	for (k = 0; k < NREC; k++) {
		/* A payload byte: bad dcrc. */
		p = dup_n(buf_data(&l.b), len);
		p[l.off[k + 1] - 1] ^= 0x01;
		damaged(&l, p, len, k);

		/* A length bit, the top one or the lowest: bad hcrc, the
		 * extent unknown, the next record found by searching. */
		memcpy(p, buf_data(&l.b), len);
		p[l.off[k] + 16 + (k % 2 ? 0 : 3)] ^= (k % 2 ? 0x80 : 0x01);
		damaged(&l, p, len, k);
		free(p);
	}
	buf_free(&l.b);
}
END_TEST

/* A multi-record append torn with its pages out of order: the first
 * record's payload is damaged and the second is incomplete. Nothing
 * after the good prefix decodes: a torn tail. */
START_TEST(test_scan_torn_two)
{
	struct log	 l;
	struct rec_scan	 s;
	uint8_t		*p;
	size_t		 len;

	log_build(&l);
	len = l.off[NREC] - 5;
	p = dup_n(buf_data(&l.b), len);
	p[l.off[NREC - 2] + 30] ^= 0xff;
	rec_scan(p, len, SALT, 100, &s);
	ck_assert_int_eq(s.status, REC_SCAN_TORN);
	ck_assert_uint_eq(s.records, NREC - 2);
	ck_assert_uint_eq(s.good_end, l.off[NREC - 2]);
	free(p);

	/* Or zeros where the first header should be (a page not written). */
	p = dup_n(buf_data(&l.b), len);
	memset(p + l.off[NREC - 2], 0, 20);
	rec_scan(p, len, SALT, 100, &s);
	ck_assert_int_eq(s.status, REC_SCAN_TORN);
	ck_assert_uint_eq(s.good_end, l.off[NREC - 2]);
	free(p);
	buf_free(&l.b);
}
END_TEST

START_TEST(test_scan_garbage)
{
	struct log	 l;
	struct rec_scan	 s;
	uint8_t		*p;
	size_t		 len, n, i;

	log_build(&l);
	len = buf_len(&l.b);
	srandom(7);
	for (n = 1; n < 300; n += 7) {
		p = malloc(len + n);
		ck_assert_ptr_nonnull(p);
		memcpy(p, buf_data(&l.b), len);
		for (i = 0; i < n; i++)
			p[len + i] = n % 2 ? (uint8_t)random() : 0;
		rec_scan(p, len + n, SALT, 100, &s);
		ck_assert_int_eq(s.status, REC_SCAN_TORN);
		ck_assert_uint_eq(s.records, NREC);
		ck_assert_uint_eq(s.good_end, len);
		free(p);
	}
	/* A copy of the log appended to itself: its records have good
	 * checksums and old seqs, which no torn write makes: corruption. */
	p = malloc(2 * len);
	ck_assert_ptr_nonnull(p);
	memcpy(p, buf_data(&l.b), len);
	memcpy(p + len, buf_data(&l.b), len);
	rec_scan(p, 2 * len, SALT, 100, &s);
	ck_assert_int_eq(s.status, REC_SCAN_CORRUPT);
	ck_assert_int_eq(s.bad_error, -ERANGE);
	ck_assert_uint_eq(s.good_end, len);
	free(p);
	buf_free(&l.b);
}
END_TEST

/* Seq gaps and repeats in a well-checksummed log are corruption. */
START_TEST(test_scan_seq)
{
	struct buf	 b;
	struct rec_scan	 s;
	struct proto_arg a = { .p = (const uint8_t *)"q", .len = 1 };
	size_t		 one;

	buf_init(&b, 0);
	ck_assert_int_gt(rec_append_args(&b, SALT, 5, REC_POP, &a, 1), 0);
	one = buf_len(&b);
	ck_assert_int_gt(rec_append_args(&b, SALT, 7, REC_POP, &a, 1), 0);
	ck_assert_int_gt(rec_append_args(&b, SALT, 8, REC_POP, &a, 1), 0);
	rec_scan(buf_data(&b), buf_len(&b), SALT, 5, &s);
	ck_assert_int_eq(s.status, REC_SCAN_CORRUPT);
	ck_assert_int_eq(s.bad_error, -ERANGE);
	ck_assert_uint_eq(s.records, 1);
	ck_assert_uint_eq(s.last_seq, 5);
	ck_assert_uint_eq(s.good_end, one);

	/* The first record is not the one the header promised. */
	rec_scan(buf_data(&b), buf_len(&b), SALT, 4, &s);
	ck_assert_int_eq(s.status, REC_SCAN_CORRUPT);
	ck_assert_uint_eq(s.records, 0);
	ck_assert_uint_eq(s.good_end, 0);
	buf_free(&b);
}
END_TEST

/*
 * A client's value holding a record of the next seq: if the carrying
 * record's header is torn, the search for good records walks through
 * the value. Under another salt the smuggled record does not verify and
 * the tail stays torn; under the file's own salt (which a client cannot
 * know) it would look like a record that truncation loses.
 */
START_TEST(test_scan_smuggled)
{
	struct buf	 b, inner;
	struct rec_enc	 re;
	struct proto_arg a = { .p = (const uint8_t *)"q", .len = 1 };
	struct rec_scan	 s;
	uint32_t	 salts[2] = { SALT ^ 0xdeadbeef, SALT };
	size_t		 start;
	int		 i;

	for (i = 0; i < 2; i++) {
		buf_init(&inner, 0);
		ck_assert_int_gt(rec_append_args(&inner, salts[i], 2, REC_POP,
		    &a, 1), 0);
		buf_init(&b, 0);
		ck_assert_int_gt(rec_append_args(&b, SALT, 1, REC_POP, &a, 1),
		    0);
		start = buf_len(&b);
		rec_enc_begin(&re, &b, SALT, 2, REC_PUSH);
		proto_enc_str(&re.pe, "q");
		proto_enc_arg(&re.pe, buf_data(&inner), buf_len(&inner));
		ck_assert_int_gt(rec_enc_end(&re), 0);
		b.data[b.rpos + start + 2] ^= 0x40;	/* torn hcrc */
		rec_scan(buf_data(&b), buf_len(&b), SALT, 1, &s);
		ck_assert_uint_eq(s.records, 1);
		ck_assert_uint_eq(s.good_end, start);
		ck_assert_int_eq(s.status,
		    i == 0 ? REC_SCAN_TORN : REC_SCAN_CORRUPT);
		buf_free(&b);
		buf_free(&inner);
	}
}
END_TEST

/*
 * Random damage, one to three bits within 32 bytes (CRC-32C detects any
 * three-bit error at these lengths: its Hamming distance is at least 4),
 * then a random cut: the scanner never accepts a damaged record, never
 * reads out of bounds, and its offsets stay consistent.
 */
START_TEST(test_scan_mutate)
{
	struct log	 l;
	struct rec_scan	 s;
	uint8_t		*p;
	const uint8_t	*orig;
	size_t		 len, cut, at, first, i;
	int		 round, k, flips;

	log_build(&l);
	len = buf_len(&l.b);
	orig = buf_data(&l.b);
	srandom(2026);
	for (round = 0; round < 3000; round++) {
		p = dup_n(orig, len);
		at = (size_t)random() % len;
		flips = 1 + (int)(random() % 3);
		for (k = 0; k < flips; k++) {
			i = at + (size_t)random() % 32;
			if (i >= len)
				i = len - 1;
			p[i] ^= (uint8_t)(1u << (random() % 8));
		}
		cut = round % 2 ? len :
		    at + (size_t)random() % (len - at + 1);
		for (first = 0; first < cut && p[first] == orig[first]; first++)
			;
		rec_scan(p, cut, SALT, 100, &s);
		ck_assert_uint_le(s.good_end, cut);
		ck_assert_uint_le(s.next_good, cut);
		ck_assert_uint_eq(s.last_seq, 100 + s.records - 1);
		if (first == cut) {	/* the flips cancelled or were cut */
			free(p);
			continue;
		}
		/* The record holding the first damaged byte is not good. */
		for (k = 0; k < NREC && l.off[k + 1] <= first; k++)
			;
		ck_assert_msg(s.good_end <= l.off[k] &&
		    s.records <= (uint64_t)k,
		    "round %d: damage at %zu (record %d at %zu), good to %zu",
		    round, first, k, l.off[k], s.good_end);
		ck_assert_int_ne(s.status, REC_SCAN_CLEAN);
		free(p);
	}
	buf_free(&l.b);
}
END_TEST

/* Many random records through the encoder, the scanner and rec_next. */
START_TEST(test_scan_random)
{
	static struct rec	 r;
	static uint8_t		 junk[600];
	struct buf		 b;
	struct rec_enc		 re;
	struct rec_scan		 s;
	const uint8_t		*p;
	size_t			 off, len;
	int			 i, j, n, argc[500];
	uint16_t		 code[500];
	static const uint16_t	 multi[] = { REC_DEL, REC_PUSH };

	srandom(99);
	for (i = 0; i < (int)sizeof(junk); i++)
		junk[i] = (uint8_t)random();
	buf_init(&b, 0);
	for (i = 0; i < 500; i++) {
		code[i] = multi[random() % 2];
		argc[i] = 1 + (int)(random() % 40) + (code[i] == REC_PUSH);
		rec_enc_begin(&re, &b, SALT, (uint64_t)i + 1, code[i]);
		for (j = 0; j < argc[i]; j++)
			proto_enc_arg(&re.pe, junk + random() % 300,
			    (size_t)(random() % 300));
		ck_assert_int_gt(rec_enc_end(&re), 0);
	}
	rec_scan(buf_data(&b), buf_len(&b), SALT, 1, &s);
	ck_assert_int_eq(s.status, REC_SCAN_CLEAN);
	ck_assert_uint_eq(s.records, 500);
	p = buf_data(&b);
	len = buf_len(&b);
	for (off = 0, i = 0; off < len; i++) {
		n = rec_next(p + off, len - off, SALT, (uint64_t)i + 1, &r);
		ck_assert_int_gt(n, 0);
		ck_assert_uint_eq(r.f.code, code[i]);
		ck_assert_uint_eq(r.f.argc, (unsigned)argc[i]);
		off += (size_t)n;
	}
	ck_assert_int_eq(i, 500);
	buf_free(&b);
}
END_TEST

static Suite *
record_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("record");

	tc = tcase_create("crc32c");
	tcase_add_test(tc, test_crc_vectors);
	tcase_add_test(tc, test_crc_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("header");
	tcase_add_test(tc, test_hdr_golden);
	tcase_add_test(tc, test_hdr_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("record");
	tcase_add_test(tc, test_rec_golden_encode);
	tcase_add_test(tc, test_rec_golden_decode);
	tcase_add_test(tc, test_rec_truncated);
	tcase_add_test(tc, test_rec_bitflip);
	tcase_add_test(tc, test_rec_bad_content);
	tcase_add_test(tc, test_rec_append_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("scan");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_scan_clean);
	tcase_add_test(tc, test_scan_cut);
	tcase_add_test(tc, test_scan_damage);
	tcase_add_test(tc, test_scan_torn_two);
	tcase_add_test(tc, test_scan_garbage);
	tcase_add_test(tc, test_scan_seq);
	tcase_add_test(tc, test_scan_smuggled);
	tcase_add_test(tc, test_scan_mutate);
	tcase_add_test(tc, test_scan_random);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(record_suite());
}
