/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * crc32c.h: CRC-32C (Castagnoli), the checksum of the state files
 * (iomuxd-state(5)). The same function as iSCSI (RFC 3720), ext4, btrfs
 * and SCTP use: reflected polynomial 0x82F63B78, initial value and final
 * XOR 0xFFFFFFFF, so crc32c(0, "123456789", 9) == 0xE3069283.
 *
 * The interface is zlib's: pass 0 to start and the previous result to
 * continue, so crc32c(crc32c(0, a, n), b, m) is the CRC of a then b.
 * No state, no allocation, safe from any thread.
 */

#ifndef IOMUXD_CRC32C_H
#define IOMUXD_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The CRC of p[0..n) continued from crc (0 to start). Uses the CPU's
 * CRC32 instruction where it has one (see crc32c_hw()), else the table. */
uint32_t	crc32c(uint32_t crc, const void *p, size_t n);
/* The same with the portable table code only (slicing-by-8). */
uint32_t	crc32c_sw(uint32_t crc, const void *p, size_t n);
/* Whether crc32c() uses an instruction (SSE4.2) rather than the table:
 * for tests, which compare the two, and for STATUS. */
bool		crc32c_hw(void);

#endif /* IOMUXD_CRC32C_H */
