/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_integ_kv.c: the key-value commands of the real iomuxd: GET, SET
 * (NX, XX, KEEPTTL, compare-and-set), DEL, EXISTS, INCR, KEYS with its
 * cursor, expiry through TTL, EXPIRE and PERSIST, and WAIT for a key,
 * woken by SET or INCR, timing out, and forgotten when its client goes.
 *
 * Every argument is encoded by hand (integ-util.h's hub calls), so these
 * tests check the protocol of iomuxd-protocol(7) and do not lean on
 * libiomux's typed calls. Every test starts its own daemon in a private
 * directory and stops it by PID, asserting a clean exit. Each TCase runs
 * once per backend in $IOMUXD_BACKENDS. Timing bounds are generous (a
 * loaded 2-core box): "promptly" means within a second, and a deadline of
 * D ms must not fire before D - 20.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "iomux.h"
#include "integ-util.h"
#include "testutil.h"

/* ---- key-value ------------------------------------------------------ */

START_TEST(test_kv_basic)
{
	static const uint8_t	 nulkey[] = { 'k', 0, 'e', 0, 'y' };
	static const uint8_t	 nulval[] = { 0, 1, 0, 'x', 0, 0, 0xff, 0 };
	struct tu_daemon	 d;
	struct iomux_client	*c, *c2;
	struct iomux_reply	 r;
	uint8_t			*big;
	const size_t		 bigsz = 512 * 1024;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);
	c2 = lconnect(&d);

	/* Absent key: NOTFOUND, no arguments. */
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("missing"));

	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("greeting"), S("hello"));
	ARGC(r, 0);
	r = EXPECT(c2, IOMUX_ST_OK, IOMUX_OP_GET, S("greeting"));
	ARGC(r, 1);
	ARG_STR(r, 0, "hello");

	/* Overwrite. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("greeting"), S("bye"));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("greeting"));
	ARG_STR(r, 0, "bye");

	/* Empty value: present and empty, not absent. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("empty"), V("", 0));
	r = EXPECT(c2, IOMUX_ST_OK, IOMUX_OP_GET, S("empty"));
	ARGC(r, 1);
	ASSERT(!r.argv[0].absent && r.argv[0].len == 0,
	    "GET of an empty value: absent %d len %zu", r.argv[0].absent,
	    r.argv[0].len);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_EXISTS, S("empty"));
	OK_U64(r, 1);

	/* NUL bytes in keys and values round-trip. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, V(nulkey, sizeof(nulkey)),
	    V(nulval, sizeof(nulval)));
	r = EXPECT(c2, IOMUX_ST_OK, IOMUX_OP_GET, V(nulkey, sizeof(nulkey)));
	ARGC(r, 1);
	ARG_EQ(r, 0, nulval, sizeof(nulval));
	/* "k" is a different key from "k\0e\0y". */
	EXPECT(c2, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("k"));

	/* A value at the default value_max (512 KiB) round-trips. */
	big = malloc(bigsz);
	ASSERT(big != NULL, "malloc");
	fill(big, bigsz, 7);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("big"), V(big, bigsz));
	r = EXPECT(c2, IOMUX_ST_OK, IOMUX_OP_GET, S("big"));
	ARG_EQ(r, 0, big, bigsz);

	/* Shapes: absent key or value, no arguments, NX|XX, bad widths. */
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_SET, NONE, S("v"));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_SET, S("k"), NONE);
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_SET, S("k"));
	EXPECT0(c, IOMUX_ST_EARGS, IOMUX_OP_GET);
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_GET, NONE);
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_SET, S("k"), S("v"), U32(5));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_SET, S("k"), S("v"), NONE,
	    U64(1));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_SET, S("k"), S("v"), NONE,
	    U32(IOMUX_SET_NX | IOMUX_SET_XX));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("k"));
	/* The connection is fine after all these errors. */
	PING(c, "still here");

	free(big);
	iomux_close(c2);
	iomux_close(c);
	dstop(&d);
}
END_TEST

START_TEST(test_set_flags)
{
	struct tu_daemon	 d;
	struct iomux_client	*c;
	struct iomux_reply	 r;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);

	/* NX: only if absent. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("a"), S("1"), NONE,
	    U32(IOMUX_SET_NX));
	EXPECT(c, IOMUX_ST_CONFLICT, IOMUX_OP_SET, S("a"), S("2"), NONE,
	    U32(IOMUX_SET_NX));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("a"));
	ARG_STR(r, 0, "1");

	/* XX: only if present. */
	EXPECT(c, IOMUX_ST_CONFLICT, IOMUX_OP_SET, S("b"), S("1"), NONE,
	    U32(IOMUX_SET_XX));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("b"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("a"), S("3"), NONE,
	    U32(IOMUX_SET_XX));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("a"));
	ARG_STR(r, 0, "3");

	/* Flags 0 given explicitly, ttl absent: a plain SET. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("c"), S("x"), NONE, U32(0));

	/* Compare-and-set: exact bytes, a missing key never equals. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("a"), S("4"), NONE, NONE,
	    S("3"));
	EXPECT(c, IOMUX_ST_CONFLICT, IOMUX_OP_SET, S("a"), S("5"), NONE,
	    NONE, S("3"));
	EXPECT(c, IOMUX_ST_CONFLICT, IOMUX_OP_SET, S("a"), S("5"), NONE,
	    NONE, S("4 "));
	EXPECT(c, IOMUX_ST_CONFLICT, IOMUX_OP_SET, S("a"), S("5"), NONE,
	    NONE, V("4\0", 2));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("a"));
	ARG_STR(r, 0, "4");
	EXPECT(c, IOMUX_ST_CONFLICT, IOMUX_OP_SET, S("nokey"), S("v"), NONE,
	    NONE, V("", 0));
	EXPECT(c, IOMUX_ST_CONFLICT, IOMUX_OP_SET, S("nokey"), S("v"), NONE,
	    NONE, S("v"));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("nokey"));
	/* An empty current value equals an empty expected one. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("e"), V("", 0));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("e"), S("full"), NONE, NONE,
	    V("", 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("e"));
	ARG_STR(r, 0, "full");
	/* An absent expected argument means "no compare". */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("e"), S("again"), NONE, NONE,
	    NONE);
	/* Compare combined with XX and a TTL. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("e"), S("cas"), U64(60000),
	    U32(IOMUX_SET_XX), S("again"));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("e"));
	ARG_STR(r, 0, "cas");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("e"));
	ASSERT(ARG_I64(r, 0) > 55000 && ARG_I64(r, 0) <= 60000,
	    "TTL after SET with ttl 60000 and a compare: %" PRId64,
	    ARG_I64(r, 0));

	/* SET without a TTL removes an expiry; KEEPTTL keeps it. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("t"), S("1"), U64(60000));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("t"));
	ASSERT(ARG_I64(r, 0) > 55000 && ARG_I64(r, 0) <= 60000,
	    "TTL after SET ttl 60000: %" PRId64, ARG_I64(r, 0));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("t"), S("2"), NONE,
	    U32(IOMUX_SET_KEEPTTL));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("t"));
	ASSERT(ARG_I64(r, 0) > 55000 && ARG_I64(r, 0) <= 60000,
	    "KEEPTTL lost the expiry: TTL %" PRId64, ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("t"));
	ARG_STR(r, 0, "2");
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("t"), S("3"));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("t"));
	ASSERT(ARG_I64(r, 0) == -1, "SET without ttl must remove the expiry: "
	    "TTL %" PRId64, ARG_I64(r, 0));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("t"), S("4"), U64(60000));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("t"), S("5"), U64(0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("t"));
	ASSERT(ARG_I64(r, 0) == -1, "SET with ttl 0 must mean no expiry: "
	    "TTL %" PRId64, ARG_I64(r, 0));
	/* KEEPTTL on a key without expiry, and on a new key. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("t"), S("6"), NONE,
	    U32(IOMUX_SET_KEEPTTL));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("t"));
	ASSERT(ARG_I64(r, 0) == -1, "TTL %" PRId64, ARG_I64(r, 0));
	/* NX with a TTL on a new key. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("n"), S("1"), U64(30000),
	    U32(IOMUX_SET_NX));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("n"));
	ASSERT(ARG_I64(r, 0) > 25000 && ARG_I64(r, 0) <= 30000,
	    "TTL after SET NX ttl 30000: %" PRId64, ARG_I64(r, 0));
	/* NX and a compare together can never pass: EARGS, not CONFLICT,
	 * on a present key and on an absent one, and nothing changes. */
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_SET, S("n"), S("2"), NONE,
	    U32(IOMUX_SET_NX), S("1"));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_SET, S("nx-cas"), S("2"), NONE,
	    U32(IOMUX_SET_NX), V("", 0));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("nx-cas"));
	/* NX with an absent expected argument is a plain NX. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("nx-cas"), S("1"), NONE,
	    U32(IOMUX_SET_NX), NONE);
	/* A failed NX changes nothing, not even the TTL. */
	EXPECT(c, IOMUX_ST_CONFLICT, IOMUX_OP_SET, S("n"), S("2"), NONE,
	    U32(IOMUX_SET_NX));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("n"));
	ASSERT(ARG_I64(r, 0) > 25000, "a refused SET NX touched the TTL: %"
	    PRId64, ARG_I64(r, 0));

	iomux_close(c);
	dstop(&d);
}
END_TEST

START_TEST(test_ttl_expiry)
{
	struct tu_daemon	 d;
	struct iomux_client	*c, *adm;
	struct iomux_reply	 r;
	int64_t			 t0, ttl;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);
	adm = lconnect(&d);

	STATS_WHY(adm, "a fresh daemon holds no keys", { "keys", 0 },
	    { "keys_expiring", 0 });

	/* Missing keys. */
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_TTL, S("nokey"));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_EXPIRE, S("nokey"), U64(1000));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_PERSIST, S("nokey"));

	t0 = tu_now_ms();
	/* gone: read after expiry (lazy); quiet: never touched (timer). */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("gone"), S("v"), U64(100));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("quiet"), S("v"), U64(100));
	/* A key whose expiry is removed or replaced must survive its old
	 * timer. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("reset"), S("v"), U64(100));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("reset"), S("w"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("longer"), S("v"), U64(100));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("longer"), S("w"),
	    U64(60000));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("reborn"), S("v"), U64(100));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_DEL, S("reborn"));
	OK_U64(r, 1);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("reborn"), S("w"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("persisted"), S("v"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_EXPIRE, S("persisted"), U64(100));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("persisted"));
	ttl = ARG_I64(r, 0);
	ASSERT(ttl > 0 && ttl <= 100, "TTL after EXPIRE 100: %" PRId64, ttl);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PERSIST, S("persisted"));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("persisted"));
	ASSERT(ARG_I64(r, 0) == -1, "TTL after PERSIST: %" PRId64,
	    ARG_I64(r, 0));
	/* PERSIST of a key without expiry is fine. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PERSIST, S("persisted"));
	/* EXPIRE shortens a long TTL. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("shortened"), S("v"),
	    U64(60000));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_EXPIRE, S("shortened"), U64(100));
	/* EXPIRE needs a TTL above 0 in 8 bytes. */
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_EXPIRE, S("persisted"), U64(0));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_EXPIRE, S("persisted"), U32(100));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_EXPIRE, S("persisted"));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("persisted"));
	ASSERT(ARG_I64(r, 0) == -1, "a refused EXPIRE set a TTL: %" PRId64,
	    ARG_I64(r, 0));

	/* Before expiry: readable, TTL sensible. */
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("gone"));
	ARGC(r, 1);
	ttl = ARG_I64(r, 0);
	ASSERT(ttl > 0 && ttl <= 100, "TTL of a 100 ms key: %" PRId64, ttl);
	if (since(t0) < 80) {
		r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("gone"));
		ARG_STR(r, 0, "v");
	}
	STATS(adm, { "keys", 7 });
	STATS_WHY(adm, "expiring: gone, quiet, longer, shortened",
	    { "keys_expiring", 4 });

	/* The untouched keys leave memory on time (a timer, not a read). */
	tu_sleep_ms(300 - (int)(since(t0) < 300 ? since(t0) : 300));
	WAIT_STAT(adm, "keys", 4);
	STATS(adm, { "keys_expiring", 1 });
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("gone"));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_TTL, S("gone"));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("quiet"));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("shortened"));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_PERSIST, S("gone"));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_EXPIRE, S("gone"), U64(100));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_EXISTS, S("gone"), S("quiet"),
	    S("reset"), S("longer"), S("reborn"), S("persisted"));
	OK_U64(r, 4);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("reset"));
	ARG_STR(r, 0, "w");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("longer"));
	ARG_STR(r, 0, "w");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("longer"));
	ASSERT(ARG_I64(r, 0) > 50000 && ARG_I64(r, 0) <= 60000,
	    "TTL of a key re-set with 60000 ms: %" PRId64, ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("reborn"));
	ARG_STR(r, 0, "w");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("persisted"));
	ARG_STR(r, 0, "v");
	/* An expired key can be set again like a new one (NX succeeds). */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("gone"), S("again"), NONE,
	    U32(IOMUX_SET_NX));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("gone"));
	ASSERT(ARG_I64(r, 0) == -1, "TTL %" PRId64, ARG_I64(r, 0));
	/* XX on an expired key: it is absent. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("x"), S("v"), U64(50));
	tu_sleep_ms(150);
	EXPECT(c, IOMUX_ST_CONFLICT, IOMUX_OP_SET, S("x"), S("w"), NONE,
	    U32(IOMUX_SET_XX));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("x"));

	iomux_close(adm);
	iomux_close(c);
	dstop(&d);
}
END_TEST

/*
 * The longest TTL is IOMUX_TTL_MAX (2^62 ms): it is taken and TTL reports
 * it; one more, 2^63 and UINT64_MAX are EARGS for SET and EXPIRE and
 * change nothing.
 */
START_TEST(test_ttl_max)
{
	static const uint64_t	 over[] = { IOMUX_TTL_MAX + 1,
	    UINT64_C(1) << 63, UINT64_MAX };
	struct tu_daemon	 d;
	struct iomux_client	*c;
	struct iomux_reply	 r;
	size_t			 i;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);

	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("far"), S("v"),
	    U64(IOMUX_TTL_MAX));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("far"));
	ASSERT(ARG_I64(r, 0) > (int64_t)IOMUX_TTL_MAX - 60000 &&
	    ARG_I64(r, 0) <= (int64_t)IOMUX_TTL_MAX,
	    "TTL after SET ttl 2^62: %" PRId64, ARG_I64(r, 0));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("k"), S("v"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_EXPIRE, S("k"), U64(IOMUX_TTL_MAX));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("k"));
	ASSERT(ARG_I64(r, 0) > (int64_t)IOMUX_TTL_MAX - 60000,
	    "TTL after EXPIRE 2^62: %" PRId64, ARG_I64(r, 0));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_PERSIST, S("k"));

	for (i = 0; i < sizeof(over) / sizeof(over[0]); i++) {
		EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_SET, S("k"), S("w"),
		    U64(over[i]));
		EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_SET, S("new"), S("w"),
		    U64(over[i]), U32(IOMUX_SET_NX));
		EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_EXPIRE, S("k"),
		    U64(over[i]));
	}
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("k"));
	ARG_STR(r, 0, "v");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("k"));
	ASSERT(ARG_I64(r, 0) == -1, "a refused TTL set an expiry: %" PRId64,
	    ARG_I64(r, 0));
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("new"));

	iomux_close(c);
	dstop(&d);
}
END_TEST

START_TEST(test_incr)
{
	static const char *const bad[] = {
		"abc", "+5", " 5", "5 ", "", "1.5", "-", "0x10", "1e3",
		"9223372036854775808", "-9223372036854775809",
		"99999999999999999999",
	};
	struct tu_daemon	 d;
	struct iomux_client	*c;
	struct iomux_reply	 r;
	size_t			 i;
	int64_t			 ttl;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);

	/* A missing key counts as 0; the default delta is 1. */
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("n"));
	ARGC(r, 1);
	ASSERT(ARG_I64(r, 0) == 1, "INCR of a missing key: %" PRId64,
	    ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("n"), I64(41));
	ASSERT(ARG_I64(r, 0) == 42, "INCR by 41: %" PRId64, ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("n"));
	ARG_STR(r, 0, "42");
	/* Negative deltas, through zero. */
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("n"), I64(-50));
	ASSERT(ARG_I64(r, 0) == -8, "INCR by -50: %" PRId64, ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("n"));
	ARG_STR(r, 0, "-8");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("n"), I64(0));
	ASSERT(ARG_I64(r, 0) == -8, "INCR by 0: %" PRId64, ARG_I64(r, 0));
	/* An absent delta is the default. */
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("n"), NONE);
	ASSERT(ARG_I64(r, 0) == -7, "INCR with an absent delta: %" PRId64,
	    ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("m"), I64(-5));
	ASSERT(ARG_I64(r, 0) == -5, "INCR of a missing key by -5: %" PRId64,
	    ARG_I64(r, 0));
	/* A value written by SET. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("s"), S("-17"));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("s"), I64(20));
	ASSERT(ARG_I64(r, 0) == 3, "INCR of \"-17\" by 20: %" PRId64,
	    ARG_I64(r, 0));

	/* Not a decimal int64: ETYPE, the value unchanged. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("bad"), S(bad[i]));
		r = hexpect(__LINE__, c, IOMUX_ST_ETYPE, IOMUX_OP_INCR, 1,
		    ARGV(S("bad")));
		r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("bad"));
		ARG_STR(r, 0, bad[i]);
	}
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("bad"), V("12\0", 3));
	EXPECT(c, IOMUX_ST_ETYPE, IOMUX_OP_INCR, S("bad"));

	/* Overflow: ERANGE, never wraps, value unchanged. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("max"),
	    S("9223372036854775807"));
	EXPECT(c, IOMUX_ST_ERANGE, IOMUX_OP_INCR, S("max"));
	EXPECT(c, IOMUX_ST_ERANGE, IOMUX_OP_INCR, S("max"), I64(INT64_MAX));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("max"));
	ARG_STR(r, 0, "9223372036854775807");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("max"), I64(-1));
	ASSERT(ARG_I64(r, 0) == INT64_MAX - 1, "INT64_MAX - 1: %" PRId64,
	    ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("max"));
	ARG_STR(r, 0, "9223372036854775806");
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("min"),
	    S("-9223372036854775808"));
	EXPECT(c, IOMUX_ST_ERANGE, IOMUX_OP_INCR, S("min"), I64(-1));
	EXPECT(c, IOMUX_ST_ERANGE, IOMUX_OP_INCR, S("min"), I64(INT64_MIN));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("min"));
	ARG_STR(r, 0, "-9223372036854775808");
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("min"), I64(INT64_MAX));
	ASSERT(ARG_I64(r, 0) == -1, "INT64_MIN + INT64_MAX: %" PRId64,
	    ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("z"), I64(INT64_MIN));
	ASSERT(ARG_I64(r, 0) == INT64_MIN, "0 + INT64_MIN: %" PRId64,
	    ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("z"));
	ARG_STR(r, 0, "-9223372036854775808");
	EXPECT(c, IOMUX_ST_ERANGE, IOMUX_OP_INCR, S("z"), I64(-1));

	/* The delta is exactly 8 bytes. */
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_INCR, S("n"), U32(1));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_INCR, S("n"), V("1", 1));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_GET, S("n"));
	ARG_STR(r, 0, "-7");

	/* INCR keeps the TTL. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("t"), S("10"), U64(60000));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("t"), I64(5));
	ASSERT(ARG_I64(r, 0) == 15, "INCR of 10 by 5: %" PRId64,
	    ARG_I64(r, 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_TTL, S("t"));
	ttl = ARG_I64(r, 0);
	ASSERT(ttl > 55000 && ttl <= 60000, "INCR lost the TTL: %" PRId64,
	    ttl);

	iomux_close(c);
	dstop(&d);
}
END_TEST

START_TEST(test_del_exists)
{
	struct iomux_value	 keys[IOMUX_ARGS_MAX];
	char			 names[IOMUX_ARGS_MAX][16];
	struct tu_daemon	 d;
	struct iomux_client	*c, *adm;
	struct iomux_reply	 r;
	int			 i;

	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);
	adm = lconnect(&d);

	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("a"), S("1"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("b"), S("2"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("c"), V("", 0));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_EXISTS, S("a"), S("b"), S("c"),
	    S("x"));
	OK_U64(r, 3);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_EXISTS, S("x"));
	OK_U64(r, 0);
	STATS(adm, { "keys", 3 });
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_DEL, S("a"), S("x"));
	OK_U64(r, 1);
	EXPECT(c, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, S("a"));
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_EXISTS, S("a"), S("b"), S("c"));
	OK_U64(r, 2);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_DEL, S("b"), S("c"));
	OK_U64(r, 2);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_DEL, S("b"));
	OK_U64(r, 0);
	STATS(adm, { "keys", 0 });
	EXPECT0(c, IOMUX_ST_EARGS, IOMUX_OP_DEL);
	EXPECT0(c, IOMUX_ST_EARGS, IOMUX_OP_EXISTS);
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_DEL, NONE);

	/* The most keys one frame can hold: 1024. */
	for (i = 0; i < IOMUX_ARGS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "key%04d", i);
		keys[i] = S(names[i]);
		if (i % 100 == 0)
			EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S(names[i]),
			    S("v"));
	}
	r = hexpect(__LINE__, c, IOMUX_ST_OK, IOMUX_OP_EXISTS,
	    IOMUX_ARGS_MAX, keys);
	OK_U64(r, 11);
	r = hexpect(__LINE__, c, IOMUX_ST_OK, IOMUX_OP_DEL, IOMUX_ARGS_MAX,
	    keys);
	OK_U64(r, 11);
	STATS(adm, { "keys", 0 });

	iomux_close(adm);
	iomux_close(c);
	dstop(&d);
}
END_TEST

/*
 * KEYS with a cursor, like SCAN: a key present for the whole iteration
 * is returned at least once, even while the table grows under it; a
 * reply never holds more than the limit; expired and foreign keys never
 * appear.
 */
#define NORIG	1500
#define NNEW	1500

struct scan {
	int	orig[NORIG];
	int	added[NNEW];
	int	prefix_itself;
	int	calls;
	int	max_reply;
};

static void
scan_note(int line, struct scan *sc, const void *p, size_t n)
{
	char	buf[64];
	int	k;

	ASSERT(n < sizeof(buf), "line %d: KEYS returned a %zu-byte key", line,
	    n);
	memcpy(buf, p, n);
	buf[n] = '\0';
	ASSERT(strlen(buf) == n, "line %d: KEYS returned a key with a NUL",
	    line);
	ASSERT(strncmp(buf, "k:", 2) == 0, "line %d: KEYS \"k:\" returned "
	    "\"%s\"", line, buf);
	if (strcmp(buf, "k:") == 0) {
		sc->prefix_itself++;
		return;
	}
	if (sscanf(buf, "k:new:%d", &k) == 1 && k >= 0 && k < NNEW) {
		sc->added[k]++;
		return;
	}
	ASSERT(strncmp(buf, "k:o", 3) == 0 && sscanf(buf, "k:o%d", &k) == 1 &&
	    k >= 0 && k < NORIG, "line %d: KEYS returned \"%s\", which was "
	    "never set (or expired)", line, buf);
	sc->orig[k]++;
}

/* One whole iteration; halfway (if c2), add NNEW keys through c2. */
static void
scan_all(int line, struct iomux_client *c, struct iomux_client *c2,
    struct scan *sc, uint32_t limit)
{
	struct iomux_reply	r;
	uint64_t		cursor = 0;
	size_t			i, nk;
	char			name[32];
	int			k, added = 0;

	memset(sc, 0, sizeof(*sc));
	do {
		if (limit == 0)
			r = hexpect(line, c, IOMUX_ST_OK, IOMUX_OP_KEYS, 2,
			    ARGV(S("k:"), U64(cursor)));
		else
			r = hexpect(line, c, IOMUX_ST_OK, IOMUX_OP_KEYS, 3,
			    ARGV(S("k:"), U64(cursor), U32(limit)));
		ASSERT(r.argc >= 1, "line %d: KEYS reply without a cursor",
		    line);
		cursor = harg_u64(line, &r, 0);
		nk = r.argc - 1;
		ASSERT(nk <= (limit == 0 ? 100 : limit), "line %d: KEYS "
		    "limit %u returned %zu keys", line,
		    limit == 0 ? 100 : limit, nk);
		if ((int)nk > sc->max_reply)
			sc->max_reply = (int)nk;
		for (i = 1; i < r.argc; i++) {
			ASSERT(!r.argv[i].absent, "line %d: absent key", line);
			scan_note(line, sc, r.argv[i].data, r.argv[i].len);
		}
		sc->calls++;
		ASSERT(sc->calls < 100000, "line %d: KEYS never ends (cursor "
		    "%" PRIu64 ")", line, cursor);
		if (c2 != NULL && !added && sc->calls == 30) {
			/* Grow the table mid-iteration. */
			for (k = 0; k < NNEW; k++) {
				snprintf(name, sizeof(name), "k:new:%d", k);
				hexpect(line, c2, IOMUX_ST_OK, IOMUX_OP_SET, 2,
				    ARGV(S(name), S("n")));
			}
			added = 1;
		}
	} while (cursor != 0);
	ASSERT(c2 == NULL || added, "line %d: iteration ended after %d calls "
	    "of limit %u for %d keys", line, sc->calls, limit, NORIG);
	for (k = 0; k < NORIG; k++)
		ASSERT(sc->orig[k] >= 1, "line %d: KEYS (limit %u) missed "
		    "k:o%d", line, limit, k);
	ASSERT(sc->prefix_itself >= 1, "line %d: KEYS \"k:\" missed the key "
	    "\"k:\" itself", line);
}

START_TEST(test_keys_scan)
{
	struct tu_daemon	 d;
	struct iomux_client	*c, *c2;
	struct iomux_reply	 r;
	struct scan		*sc;
	uint64_t		 cursor;
	char			 name[32];
	size_t			 i, total;
	int			 k, calls;

	sc = malloc(sizeof(*sc));
	ASSERT(sc != NULL, "malloc");
	dstart(&d, BACKEND, NULL);
	c = lconnect(&d);
	c2 = lconnect(&d);

	/* Empty store: one call, cursor 0, no keys. */
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_KEYS, V("", 0));
	ARGC(r, 1);
	ASSERT(ARG_U64(r, 0) == 0, "KEYS on an empty store: cursor %"
	    PRIu64, ARG_U64(r, 0));

	for (k = 0; k < NORIG; k++) {
		snprintf(name, sizeof(name), "k:o%d", k);
		EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S(name), S("v"));
	}
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("k:"), S("v"));
	for (k = 0; k < 30; k++) {
		snprintf(name, sizeof(name), "other:%d", k);
		EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S(name), S("v"));
	}
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("k"), S("short"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("K:upper"), S("v"));
	/* Expired keys are never returned. */
	for (k = 0; k < 20; k++) {
		snprintf(name, sizeof(name), "k:expired%d", k);
		EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S(name), S("v"), U64(30));
	}
	tu_sleep_ms(100);

	scan_all(__LINE__, c, NULL, sc, 7);
	ASSERT(sc->max_reply >= 1, "KEYS limit 7 never returned a key");
	scan_all(__LINE__, c, NULL, sc, 0);
	scan_all(__LINE__, c, NULL, sc, 1);
	scan_all(__LINE__, c, NULL, sc, 1000);
	/* Keys added during an iteration do not hide the old ones. */
	scan_all(__LINE__, c, c2, sc, 5);

	/* Empty prefix: everything, each reply within the limit. */
	cursor = 0;
	total = 0;
	calls = 0;
	do {
		r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_KEYS, V("", 0),
		    U64(cursor), U32(1000));
		cursor = ARG_U64(r, 0);
		ASSERT(r.argc - 1 <= 1000, "KEYS limit 1000: %zu keys",
		    r.argc - 1);
		for (i = 1; i < r.argc; i++)
			ASSERT(r.argv[i].len < 8 || memcmp(r.argv[i].data,
			    "k:expir", 7) != 0, "KEYS returned an expired key");
		total += r.argc - 1;
		ASSERT(++calls < 100000, "KEYS \"\" never ends");
	} while (cursor != 0);
	ASSERT(total >= NORIG + NNEW + 1 + 30 + 2, "KEYS \"\" returned %zu "
	    "keys, want at least %d", total, NORIG + NNEW + 1 + 30 + 2);

	/* A prefix that matches nothing. */
	cursor = 0;
	calls = 0;
	do {
		r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_KEYS, S("zzz"),
		    U64(cursor), U32(50));
		cursor = ARG_U64(r, 0);
		ARGC(r, 1);
		ASSERT(++calls < 100000, "KEYS \"zzz\" never ends");
	} while (cursor != 0);

	/* Shapes: an absent prefix, a cursor or limit of the wrong width. */
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_KEYS, NONE);
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_KEYS, S("k:"), U32(0));
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_KEYS, S("k:"), U64(0), U64(10));
	/* The limit is 1..1000 (iomuxd-protocol(7)): 0 is malformed, more
	 * is a count over a limit. */
	EXPECT(c, IOMUX_ST_EARGS, IOMUX_OP_KEYS, S("k:"), U64(0), U32(0));
	EXPECT(c, IOMUX_ST_ELIMIT, IOMUX_OP_KEYS, S("k:"), U64(0), U32(1001));
	EXPECT(c, IOMUX_ST_ELIMIT, IOMUX_OP_KEYS, S("k:"), U64(0),
	    U32(UINT32_MAX));
	PING(c, "after KEYS");

	free(sc);
	iomux_close(c2);
	iomux_close(c);
	dstop(&d);
}
END_TEST

/* ---- WAIT ----------------------------------------------------------- */

START_TEST(test_wait)
{
	struct tu_daemon	 d;
	struct iomux_client	*a, *b, *c, *adm;
	struct iomux_reply	 r;
	uint32_t		 ida, idb, idping;
	int64_t			 t0;
	long long		 dt;

	dstart(&d, BACKEND, NULL);
	a = lconnect(&d);
	b = lconnect(&d);
	c = lconnect(&d);
	adm = lconnect(&d);

	/* At once when the key exists, with or without a timeout. */
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("ready"), S("yes"));
	t0 = tu_now_ms();
	r = EXPECT(a, IOMUX_ST_OK, IOMUX_OP_WAIT, S("ready"));
	ARGC(r, 1);
	ARG_STR(r, 0, "yes");
	r = EXPECT(a, IOMUX_ST_OK, IOMUX_OP_WAIT, S("ready"), U64(5000));
	ARG_STR(r, 0, "yes");
	r = EXPECT(a, IOMUX_ST_OK, IOMUX_OP_WAIT, S("ready"), FOREVER);
	ARG_STR(r, 0, "yes");
	ASSERT(since(t0) < PROMPT_MS, "WAIT on an existing key took %lld ms",
	    since(t0));

	/* Timeout: TIMEDOUT, no arguments, not early, connection usable. */
	t0 = tu_now_ms();
	r = EXPECT(a, IOMUX_ST_TIMEDOUT, IOMUX_OP_WAIT, S("flag"), U64(200));
	dt = since(t0);
	ASSERT(dt >= 200 - EARLY_MS && dt < 200 + PROMPT_MS, "WAIT 200 ms "
	    "timed out after %lld ms", dt);
	PING(a, "after WAIT timeout");
	STATS(adm, { "blocked_clients", 0 });

	/* A SET of another key does not wake it. */
	t0 = tu_now_ms();
	ida = SEND(a, IOMUX_OP_WAIT, S("flag"), U64(300));
	WAIT_STAT(adm, "blocked_clients", 1);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("flag2"), S("x"));
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("fla"), S("x"));
	RECV(a, IOMUX_ST_TIMEDOUT, ida);
	ASSERT(since(t0) >= 300 - EARLY_MS, "WAIT woke after %lld ms",
	    since(t0));

	/* Woken by a SET from another client; two waiters both get it. */
	ida = SEND(a, IOMUX_OP_WAIT, S("flag"), FOREVER);
	WAIT_STAT(adm, "blocked_clients", 1);
	idb = SEND(b, IOMUX_OP_WAIT, S("flag"), U64(10000));
	WAIT_STAT(adm, "blocked_clients", 2);
	QUIET(a, 100, "WAIT on a missing key");
	t0 = tu_now_ms();
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("flag"), V("go\0!", 4));
	r = RECV(a, IOMUX_ST_OK, ida);
	ARGC(r, 1);
	ARG_EQ(r, 0, "go\0!", 4);
	r = RECV(b, IOMUX_ST_OK, idb);
	ARGC(r, 1);
	ARG_EQ(r, 0, "go\0!", 4);
	ASSERT(since(t0) < PROMPT_MS, "WAIT woken %lld ms after SET",
	    since(t0));
	WAIT_STAT(adm, "blocked_clients", 0);
	PING(a, "after WAIT");

	/* Woken by an INCR that creates the key. */
	ida = SEND(a, IOMUX_OP_WAIT, S("counter"), U64(5000));
	WAIT_STAT(adm, "blocked_clients", 1);
	r = EXPECT(c, IOMUX_ST_OK, IOMUX_OP_INCR, S("counter"), I64(5));
	r = RECV(a, IOMUX_ST_OK, ida);
	ARG_STR(r, 0, "5");

	/* Woken by a SET with a TTL and an empty value. */
	ida = SEND(a, IOMUX_OP_WAIT, S("e"), U64(5000));
	WAIT_STAT(adm, "blocked_clients", 1);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("e"), V("", 0), U64(60000));
	r = RECV(a, IOMUX_ST_OK, ida);
	ARGC(r, 1);
	ASSERT(!r.argv[0].absent && r.argv[0].len == 0, "WAIT for an empty "
	    "value: absent %d len %zu", r.argv[0].absent, r.argv[0].len);

	/* A blocked WAIT holds up the same connection's later requests. */
	ida = SEND(a, IOMUX_OP_WAIT, S("late"), FOREVER);
	idping = SEND(a, IOMUX_OP_PING, S("behind"));
	WAIT_STAT(adm, "blocked_clients", 1);
	QUIET(a, 100, "a PING pipelined behind a blocked WAIT");
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("late"), S("now"));
	r = RECV(a, IOMUX_ST_OK, ida);
	ARG_STR(r, 0, "now");
	r = RECV(a, IOMUX_ST_OK, idping);
	ARG_STR(r, 0, "behind");

	/* A waiter that goes away is forgotten. */
	idb = SEND(b, IOMUX_OP_WAIT, S("never"), FOREVER);
	WAIT_STAT(adm, "blocked_clients", 1);
	iomux_close(b);
	WAIT_STAT(adm, "blocked_clients", 0);
	EXPECT(c, IOMUX_ST_OK, IOMUX_OP_SET, S("never"), S("x"));
	PING(c, "after a SET with a gone waiter");

	/* Shapes. */
	EXPECT(a, IOMUX_ST_EARGS, IOMUX_OP_WAIT, S("k"), U32(5));
	EXPECT(a, IOMUX_ST_EARGS, IOMUX_OP_WAIT, NONE);

	(void)idb;
	iomux_close(adm);
	iomux_close(c);
	iomux_close(a);
	dstop(&d);
}
END_TEST

/* ---- main ----------------------------------------------------------- */

static Suite *
integ_kv_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("integ_kv");

	tc = tcase(s, "kv", 30);
	LOOP(tc, test_kv_basic);
	LOOP(tc, test_set_flags);
	LOOP(tc, test_ttl_expiry);
	LOOP(tc, test_ttl_max);
	LOOP(tc, test_incr);
	LOOP(tc, test_del_exists);
	LOOP(tc, test_keys_scan);

	tc = tcase(s, "wait", 30);
	LOOP(tc, test_wait);

	return s;
}

int
main(void)
{
	return integ_main("check_integ_kv", integ_kv_suite);
}
