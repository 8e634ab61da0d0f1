/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_buf.c: unit tests of the byte buffer (proto/buf.c): lazy
 * allocation, the hard limit, growth, compaction, shrinking, and the
 * big-endian helpers. A long randomised run checks the buffer against a
 * trivially correct model.
 */

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check-run.h"
#include "buf.h"

START_TEST(test_init_lazy)
{
	struct buf	 b;

	memset(&b, 0xa5, sizeof(b));
	buf_init(&b, 100);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.cap, 0);
	ck_assert_uint_eq(buf_len(&b), 0);
	ck_assert_uint_eq(b.limit, 100);

	/* Nothing asked for, nothing allocated. */
	ck_assert_int_eq(buf_reserve(&b, 0), 0);
	ck_assert_int_eq(buf_add(&b, NULL, 0), 0);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.cap, 0);

	ck_assert_int_eq(buf_add(&b, "abc", 3), 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_uint_eq(buf_len(&b), 3);
	ck_assert_int_eq(memcmp(buf_data(&b), "abc", 3), 0);
	/* The first allocation is capped by the limit. */
	ck_assert_uint_eq(b.cap, 100);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.cap, 0);
	ck_assert_uint_eq(buf_len(&b), 0);
	/* Reusable after buf_free(), limit kept. */
	ck_assert_uint_eq(b.limit, 100);
	ck_assert_int_eq(buf_add(&b, "xy", 2), 0);
	ck_assert_int_eq(memcmp(buf_data(&b), "xy", 2), 0);
	buf_free(&b);
	buf_free(&b);			/* twice is harmless */
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(test_consume_rewinds)
{
	struct buf	 b;

	buf_init(&b, 0);
	ck_assert_int_eq(buf_add(&b, "hello world", 11), 0);
	buf_consume(&b, 6);
	ck_assert_uint_eq(buf_len(&b), 5);
	ck_assert_uint_eq(b.rpos, 6);
	ck_assert_int_eq(memcmp(buf_data(&b), "world", 5), 0);
	buf_consume(&b, 0);
	ck_assert_uint_eq(b.rpos, 6);
	/* Emptied: both positions go back to 0, storage is kept. */
	buf_consume(&b, 5);
	ck_assert_uint_eq(b.rpos, 0);
	ck_assert_uint_eq(b.wpos, 0);
	ck_assert_ptr_nonnull(b.data);
	buf_free(&b);
}
END_TEST

START_TEST(test_space_advance)
{
	struct buf	 b;
	uint8_t		*p;

	buf_init(&b, 0);
	ck_assert_int_eq(buf_reserve(&b, 10), 0);
	ck_assert_uint_ge(buf_avail(&b), 10);
	p = buf_space(&b);
	memcpy(p, "0123456789", 10);
	/* Nothing is readable until committed. */
	ck_assert_uint_eq(buf_len(&b), 0);
	buf_advance(&b, 4);
	ck_assert_uint_eq(buf_len(&b), 4);
	ck_assert_int_eq(memcmp(buf_data(&b), "0123", 4), 0);
	/* The reserved room stays reserved after a partial commit. */
	ck_assert_uint_ge(buf_avail(&b), 6);
	ck_assert_ptr_eq(buf_space(&b), p + 4);
	buf_advance(&b, 6);
	ck_assert_int_eq(memcmp(buf_data(&b), "0123456789", 10), 0);
	buf_free(&b);
}
END_TEST

#ifndef NDEBUG
/* Committing more than was reserved is a caller bug, caught by assert. */
START_TEST(test_advance_past_cap)
{
	struct buf	 b;

	buf_init(&b, 16);
	ck_assert_int_eq(buf_reserve(&b, 16), 0);
	buf_advance(&b, 17);
}
END_TEST

START_TEST(test_consume_past_len)
{
	struct buf	 b;

	buf_init(&b, 0);
	ck_assert_int_eq(buf_add(&b, "ab", 2), 0);
	buf_consume(&b, 3);
}
END_TEST
#endif

START_TEST(test_growth_doubles)
{
	struct buf	 b;
	uint8_t		 chunk[100];
	size_t		 i, prev;

	buf_init(&b, 0);
	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)i;
	ck_assert_int_eq(buf_reserve(&b, 1), 0);
	ck_assert_uint_eq(b.cap, 256);
	prev = b.cap;
	/* Appending 100 at a time: every change of cap is a doubling. */
	for (i = 0; i < 200; i++) {
		ck_assert_int_eq(buf_add(&b, chunk, sizeof(chunk)), 0);
		if (b.cap != prev) {
			ck_assert_uint_eq(b.cap, prev * 2);
			prev = b.cap;
		}
	}
	ck_assert_uint_eq(buf_len(&b), 200 * sizeof(chunk));
	ck_assert_uint_eq(b.cap, 32768);
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(memcmp(buf_data(&b) + i * sizeof(chunk),
		    chunk, sizeof(chunk)), 0);
	/* One large request jumps straight to a big enough power of two. */
	buf_free(&b);
	ck_assert_int_eq(buf_reserve(&b, 5000), 0);
	ck_assert_uint_eq(b.cap, 8192);
	buf_free(&b);
}
END_TEST

START_TEST(test_limit)
{
	struct buf	 b;
	uint8_t		 fill[1000];
	uint8_t		*data;

	memset(fill, 'f', sizeof(fill));
	buf_init(&b, 1000);
	ck_assert_int_eq(buf_add(&b, fill, 600), 0);
	ck_assert_int_eq(buf_add(&b, fill, 400), 0);
	ck_assert_uint_eq(buf_len(&b), 1000);
	ck_assert_uint_le(b.cap, 1000);
	data = b.data;

	/* Full: nothing more, and nothing changes. */
	ck_assert_int_eq(buf_add(&b, "x", 1), -ENOBUFS);
	ck_assert_int_eq(buf_reserve(&b, 1), -ENOBUFS);
	ck_assert_uint_eq(buf_len(&b), 1000);
	ck_assert_ptr_eq(b.data, data);
	ck_assert_int_eq(memcmp(buf_data(&b), fill, 1000), 0);

	/* A request larger than the limit on its own. */
	buf_consume(&b, 1000);
	ck_assert_int_eq(buf_reserve(&b, 1001), -ENOBUFS);
	ck_assert_int_eq(buf_reserve(&b, 1000), 0);
	buf_free(&b);
}
END_TEST

/* Sizes near SIZE_MAX must fail cleanly, not wrap or reach malloc. */
START_TEST(test_overflow)
{
	struct buf	 b;

	buf_init(&b, 0);
	ck_assert_int_eq(buf_reserve(&b, SIZE_MAX), -ENOBUFS);
	ck_assert_int_eq(buf_reserve(&b, (size_t)PTRDIFF_MAX + 1), -ENOBUFS);
	ck_assert_ptr_null(b.data);
	ck_assert_int_eq(buf_add(&b, "0123456789", 10), 0);
	ck_assert_int_eq(buf_reserve(&b, SIZE_MAX - 5), -ENOBUFS);
	ck_assert_int_eq(buf_reserve(&b, SIZE_MAX), -ENOBUFS);
	ck_assert_int_eq(buf_add(&b, "x", SIZE_MAX - 9), -ENOBUFS);
	ck_assert_uint_eq(buf_len(&b), 10);
	ck_assert_int_eq(memcmp(buf_data(&b), "0123456789", 10), 0);
	buf_free(&b);

	buf_init(&b, SIZE_MAX);
	ck_assert_int_eq(buf_reserve(&b, SIZE_MAX), -ENOBUFS);
	buf_free(&b);
}
END_TEST

/* Reclaiming a consumed prefix instead of growing, when it is cheap. */
START_TEST(test_reserve_compacts)
{
	struct buf	 b;
	uint8_t		 fill[256];
	size_t		 i;

	for (i = 0; i < sizeof(fill); i++)
		fill[i] = (uint8_t)i;
	buf_init(&b, 0);
	ck_assert_int_eq(buf_add(&b, fill, 200), 0);
	ck_assert_uint_eq(b.cap, 256);
	buf_consume(&b, 150);
	/* 50 live bytes behind a 150-byte hole: move them, keep cap. */
	ck_assert_int_eq(buf_add(&b, fill, 100), 0);
	ck_assert_uint_eq(b.cap, 256);
	ck_assert_uint_eq(b.rpos, 0);
	ck_assert_uint_eq(buf_len(&b), 150);
	ck_assert_int_eq(memcmp(buf_data(&b), fill + 150, 50), 0);
	ck_assert_int_eq(memcmp(buf_data(&b) + 50, fill, 100), 0);
	buf_free(&b);

	/* 190 live bytes behind a 10-byte hole: grow rather than move. */
	buf_init(&b, 0);
	ck_assert_int_eq(buf_add(&b, fill, 200), 0);
	buf_consume(&b, 10);
	ck_assert_int_eq(buf_add(&b, fill, 60), 0);
	ck_assert_uint_eq(b.cap, 512);
	ck_assert_uint_eq(buf_len(&b), 250);
	ck_assert_int_eq(memcmp(buf_data(&b), fill + 10, 190), 0);
	ck_assert_int_eq(memcmp(buf_data(&b) + 190, fill, 60), 0);
	buf_free(&b);

	/* At the limit, moving is the only way, however large. */
	buf_init(&b, 256);
	ck_assert_int_eq(buf_add(&b, fill, 256), 0);
	buf_consume(&b, 10);
	ck_assert_int_eq(buf_add(&b, fill, 10), 0);
	ck_assert_uint_eq(b.cap, 256);
	ck_assert_uint_eq(buf_len(&b), 256);
	ck_assert_int_eq(memcmp(buf_data(&b), fill + 10, 246), 0);
	ck_assert_int_eq(memcmp(buf_data(&b) + 246, fill, 10), 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_compact)
{
	struct buf	 b;

	buf_init(&b, 0);
	buf_compact(&b);			/* empty, unallocated */
	ck_assert_ptr_null(b.data);
	ck_assert_int_eq(buf_add(&b, "abcdef", 6), 0);
	buf_consume(&b, 2);
	buf_compact(&b);
	ck_assert_uint_eq(b.rpos, 0);
	ck_assert_uint_eq(b.wpos, 4);
	ck_assert_int_eq(memcmp(b.data, "cdef", 4), 0);
	buf_compact(&b);			/* already compact */
	ck_assert_uint_eq(b.wpos, 4);
	ck_assert_int_eq(memcmp(b.data, "cdef", 4), 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_shrink)
{
	struct buf	 b;
	uint8_t		 fill[5000];

	memset(fill, 's', sizeof(fill));
	buf_init(&b, 0);
	ck_assert_int_eq(buf_add(&b, fill, sizeof(fill)), 0);
	ck_assert_uint_eq(b.cap, 8192);
	/* Not empty: nothing happens. */
	buf_shrink(&b, 0);
	ck_assert_uint_eq(b.cap, 8192);
	ck_assert_uint_eq(buf_len(&b), sizeof(fill));
	buf_consume(&b, sizeof(fill));
	/* Empty but within 'keep': kept for the next burst. */
	buf_shrink(&b, 8192);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_uint_eq(b.cap, 8192);
	/* Empty and larger than 'keep': given back. */
	buf_shrink(&b, 4096);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.cap, 0);
	ck_assert_uint_eq(buf_len(&b), 0);
	/* And usable again. */
	ck_assert_int_eq(buf_add(&b, "z", 1), 0);
	ck_assert_int_eq(buf_data(&b)[0], 'z');
	buf_free(&b);
}
END_TEST

/*
 * A long random mix of add/reserve/consume/compact/shrink against a flat
 * model array. Seeded, so every run sees the same sequence.
 */
#define MODEL_MAX	(64 * 1024)

static uint32_t	 rng_state;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

START_TEST(test_model)
{
	static uint8_t	 model[MODEL_MAX], tmp[MODEL_MAX];
	struct buf	 b;
	size_t		 mlen = 0, n, i;
	uint8_t		 next = 0;
	int		 step, r;

	rng_state = 0x12345678u;
	buf_init(&b, MODEL_MAX);
	for (step = 0; step < 50000; step++) {
		switch (rng() % 8) {
		case 0:
		case 1:
		case 2:
			n = rng() % (rng() % 16 == 0 ? 20000 : 300);
			for (i = 0; i < n; i++)
				tmp[i] = next++;
			r = buf_add(&b, tmp, n);
			if (mlen + n > MODEL_MAX) {
				ck_assert_int_eq(r, -ENOBUFS);
				next = (uint8_t)(next - n);
				break;
			}
			ck_assert_int_eq(r, 0);
			memcpy(model + mlen, tmp, n);
			mlen += n;
			break;
		case 3:
		case 4:
		case 5:
			n = mlen == 0 ? 0 : rng() % (mlen + 1);
			buf_consume(&b, n);
			memmove(model, model + n, mlen - n);
			mlen -= n;
			break;
		case 6:
			/* Reserve and commit only part of it. */
			n = rng() % 500;
			r = buf_reserve(&b, n);
			if (mlen + n > MODEL_MAX) {
				ck_assert_int_eq(r, -ENOBUFS);
				break;
			}
			ck_assert_int_eq(r, 0);
			ck_assert_uint_ge(buf_avail(&b), n);
			n /= 2;
			for (i = 0; i < n; i++)
				buf_space(&b)[i] = model[mlen + i] = next++;
			buf_advance(&b, n);
			mlen += n;
			break;
		default:
			if (rng() % 2)
				buf_compact(&b);
			else
				buf_shrink(&b, 1024);
			break;
		}
		ck_assert_uint_eq(buf_len(&b), mlen);
		ck_assert_uint_le(b.cap, MODEL_MAX);
		ck_assert_uint_le(b.rpos, b.wpos);
		ck_assert_uint_le(b.wpos, b.cap);
		if (mlen != 0)
			ck_assert_int_eq(memcmp(buf_data(&b), model, mlen), 0);
	}
	buf_free(&b);
}
END_TEST

START_TEST(test_endian)
{
	uint8_t	 p[8];

	buf_put_u16(p, 0x1234);
	ck_assert_uint_eq(p[0], 0x12);
	ck_assert_uint_eq(p[1], 0x34);
	ck_assert_uint_eq(buf_get_u16(p), 0x1234);
	buf_put_u32(p, 0xa1b2c3d4);
	ck_assert(memcmp(p, "\xa1\xb2\xc3\xd4", 4) == 0);
	ck_assert_uint_eq(buf_get_u32(p), 0xa1b2c3d4);
	buf_put_u64(p, 0x0102030405060708ull);
	ck_assert(memcmp(p, "\x01\x02\x03\x04\x05\x06\x07\x08", 8) == 0);
	ck_assert(buf_get_u64(p) == 0x0102030405060708ull);
	buf_put_u64(p, UINT64_MAX);
	ck_assert(buf_get_u64(p) == UINT64_MAX);
	/* High bit set: no sign extension on the way back. */
	memcpy(p, "\xff\xfe", 2);
	ck_assert_uint_eq(buf_get_u16(p), 0xfffe);
	memcpy(p, "\x80\x00\x00\x01", 4);
	ck_assert_uint_eq(buf_get_u32(p), 0x80000001u);
}
END_TEST

static Suite *
buf_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("buf");

	tc = tcase_create("basics");
	tcase_add_test(tc, test_init_lazy);
	tcase_add_test(tc, test_consume_rewinds);
	tcase_add_test(tc, test_space_advance);
#ifndef NDEBUG
	tcase_add_test_raise_signal(tc, test_advance_past_cap, SIGABRT);
	tcase_add_test_raise_signal(tc, test_consume_past_len, SIGABRT);
#endif
	tcase_add_test(tc, test_endian);
	suite_add_tcase(s, tc);

	tc = tcase_create("growth");
	tcase_add_test(tc, test_growth_doubles);
	tcase_add_test(tc, test_limit);
	tcase_add_test(tc, test_overflow);
	suite_add_tcase(s, tc);

	tc = tcase_create("compaction");
	tcase_add_test(tc, test_reserve_compacts);
	tcase_add_test(tc, test_compact);
	tcase_add_test(tc, test_shrink);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_model);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(buf_suite());
}
