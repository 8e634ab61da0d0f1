/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * crc32c.c: CRC-32C (Castagnoli) for the state files.
 *
 * Why our own: zlib, the one checksum library a build is sure to have,
 * implements only CRC-32 (the IEEE/Ethernet polynomial), not CRC-32C,
 * and CRC-32C is the better choice for storage (larger minimum Hamming
 * distance at record sizes, and an instruction on x86 and ARMv8). The
 * code is small enough that a dependency would cost more than it saves.
 *
 * The portable path is slicing-by-8 (Intel's "slicing-by-8", also in
 * FreeBSD and the Linux kernel): eight 256-entry tables let the loop
 * fold 8 input bytes per step with 8 independent lookups, several times
 * faster than the classic byte-at-a-time table. Table k holds the CRC of
 * a byte followed by k zero bytes. Everything is byte-order neutral: the
 * 8 bytes are read one by one, so the result is the same on any host.
 *
 * On x86-64 the SSE4.2 CRC32 instruction computes the same function; it
 * is used only if __builtin_cpu_supports() says the running CPU has it
 * (not merely the compiler), and check_record compares it with the
 * table code on random input. The tables and the choice are set up by
 * a constructor, before main(), so no caller races a lazy set-up.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crc32c.h"

#define CRC32C_POLY	0x82f63b78u	/* reflected 0x1EDC6F41 */

static uint32_t	 tab[8][256];

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_CRC32C_SSE42	1
static bool	 use_hw;

/* The instruction path: 8 bytes a step, then the rest one by one. The
 * register is pre- and post-inverted by the caller, as for the tables. */
__attribute__((target("sse4.2")))
static uint32_t
crc_sse42(uint32_t crc, const uint8_t *p, size_t n)
{
	uint64_t	 c = crc, w;
	int		 i;

	for (; n >= 8; n -= 8, p += 8) {
		w = 0;
		for (i = 7; i >= 0; i--)
			w = (w << 8) | p[i];	/* little-endian load */
		c = __builtin_ia32_crc32di(c, w);
	}
	crc = (uint32_t)c;
	for (; n > 0; n--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}
#endif

__attribute__((constructor))
static void
crc32c_init(void)
{
	uint32_t	 c;
	int		 i, j, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
		tab[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			tab[k][i] = (tab[k - 1][i] >> 8) ^
			    tab[0][tab[k - 1][i] & 0xff];
#ifdef HAVE_CRC32C_SSE42
	__builtin_cpu_init();
	use_hw = __builtin_cpu_supports("sse4.2");
#endif
}

/* Slicing-by-8 over an already inverted register. */
static uint32_t
crc_tables(uint32_t crc, const uint8_t *p, size_t n)
{
	uint32_t	 lo, hi;

	for (; n >= 8; n -= 8, p += 8) {
		lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
		    (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
		crc = tab[7][lo & 0xff] ^ tab[6][(lo >> 8) & 0xff] ^
		    tab[5][(lo >> 16) & 0xff] ^ tab[4][lo >> 24] ^
		    tab[3][hi & 0xff] ^ tab[2][(hi >> 8) & 0xff] ^
		    tab[1][(hi >> 16) & 0xff] ^ tab[0][hi >> 24];
	}
	for (; n > 0; n--)
		crc = (crc >> 8) ^ tab[0][(crc ^ *p++) & 0xff];
	return crc;
}

uint32_t
crc32c_sw(uint32_t crc, const void *p, size_t n)
{
	return ~crc_tables(~crc, p, n);
}

uint32_t
crc32c(uint32_t crc, const void *p, size_t n)
{
#ifdef HAVE_CRC32C_SSE42
	if (use_hw)
		return ~crc_sse42(~crc, p, n);
#endif
	return ~crc_tables(~crc, p, n);
}

bool
crc32c_hw(void)
{
#ifdef HAVE_CRC32C_SSE42
	return use_hw;
#else
	return false;
#endif
}
