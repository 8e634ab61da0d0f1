/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * record.h: the on-disk format of the state files, the log and the
 * snapshot (iomuxd-state(5) is the prose version of the same facts).
 *
 * A pure library: it encodes into struct buf and decodes from memory.
 * It never reads, writes, syncs or logs; the writer, the snapshot and
 * replay decide what to do with files and with errors.
 *
 * A file is a 40-byte header followed by records. All integers are
 * big-endian, as on the wire.
 *
 *	header:
 *	  0  8  magic       "IOMUXLOG" (log) or "IOMUXSNP" (snapshot)
 *	  8  u32 version    REC_VERSION
 *	 12  u32 flags      0
 *	 16  u64 base_seq   log: the first record is base_seq + 1;
 *	                    snapshot: the last log record it covers
 *	 24  u64 created_ms wall clock, ms since the epoch
 *	 32  u32 salt       random, chosen per file; seeds the record CRCs
 *	 36  u32 crc        CRC-32C of bytes 0..35
 *
 *	record:
 *	  0  u32 hcrc       CRC-32C of salt, then bytes 4..19
 *	  4  u64 seq
 *	 12  u32 dcrc       CRC-32C of salt, then the frame body
 *	 16  frame          a REQUEST frame of the wire protocol, exactly as
 *	                    proto_enc_*() writes it: u32 body length, body
 *
 * Why two CRCs: the length must be trusted before the bytes it counts
 * are. With one CRC after the whole record, a flipped bit in a length
 * in the middle of the log could make that record "extend past the end
 * of file", which looks exactly like a torn tail, and replay would
 * truncate every good record after it. hcrc covers seq, dcrc and the
 * length and is checked as soon as 20 bytes are there.
 *
 * Why the salt (as in SQLite's WAL): a record counts only in the file it
 * was written for. Bytes of an older file that a crash leaves visible,
 * or a record that a client smuggled inside a value, do not verify
 * without the salt, which never leaves the state directory.
 *
 * Why the frame is the codec's, with its length prefix: the record's
 * length is the frame's own, so a record is the frame plus 16 bytes, it
 * is built with proto_enc_*() in place, and decoded with proto_decode()
 * in place; there is no second serialisation and no copy.
 */

#ifndef IOMUXD_RECORD_H
#define IOMUXD_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "codec.h"
#include "iomux-proto.h"

#define REC_VERSION		1

#define REC_MAGIC_SIZE		8
#define REC_MAGIC_LOG		"IOMUXLOG"
#define REC_MAGIC_SNAP		"IOMUXSNP"
#define REC_FILE_HDR_SIZE	40

/* Bytes before the frame, and before the frame body. */
#define REC_HEAD_SIZE		16
#define REC_PREFIX_SIZE		(REC_HEAD_SIZE + IOMUX_LEN_SIZE)

/*
 * The largest frame body in a record: a wire frame at the configurable
 * maximum plus room for what the record adds (an absolute expiry, for
 * one). A length above it is corruption, never allocated or skipped.
 */
#define REC_BODY_MAX		(IOMUX_FRAME_MAX_CAP + 4096u)
#define REC_SIZE_MAX		(REC_PREFIX_SIZE + REC_BODY_MAX)
/* The smallest record: a body of a header and no argument. */
#define REC_SIZE_MIN		(REC_PREFIX_SIZE + IOMUX_BODY_HDR_SIZE)

/* seq is never 0 (a log starts at base + 1 >= 1): "any seq" to rec_next. */
#define REC_SEQ_ANY		0

/*
 * Record kinds: the code of the record's frame. A record is the effect
 * of a mutation as the hub applied it, never the request as a client
 * sent it (an NX already decided, a TTL already made absolute), so that
 * replay is deterministic. Wire opcodes are reused where the effect is
 * the opcode's; kinds that no request has are 0x8xxx, which the wire
 * protocol never uses. A new kind needs a new REC_VERSION.
 *
 *	SET       key value expire_at   u64 wall-clock ms, 0: none.
 *	                                INCR is logged as the SET of its
 *	                                result with the key's expiry.
 *	DEL       key...                one or more keys
 *	EXPIRE    key at                u64 wall-clock ms
 *	PERSIST   key                   drop the key's expiry
 *	PUSH      queue value...        append to the tail, in order
 *	POP       queue                 the head item is gone (delivered)
 *	PUSHFRONT queue value           put back at the head (an undone POP)
 *	SNAPEND                         the last record of a snapshot
 */
#define REC_SET			IOMUX_OP_SET
#define REC_DEL			IOMUX_OP_DEL
#define REC_EXPIRE		IOMUX_OP_EXPIRE
#define REC_PERSIST		IOMUX_OP_PERSIST
#define REC_PUSH		IOMUX_OP_PUSH
#define REC_POP			IOMUX_OP_POP
#define REC_PUSHFRONT		0x8001
#define REC_SNAPEND		0x8002

/* Name of a record kind, "unknown" if none. */
const char	*rec_kind_name(uint16_t code);

enum rec_file {
	REC_FILE_LOG = 1,
	REC_FILE_SNAP,
};

struct rec_hdr {
	enum rec_file	 type;
	uint32_t	 version;	/* decode: as found */
	uint32_t	 flags;
	uint64_t	 base_seq;
	uint64_t	 created_ms;
	uint32_t	 salt;
};

/*
 * Write the 40-byte header of h (version REC_VERSION, flags h->flags)
 * to out. Cannot fail.
 */
void	rec_hdr_encode(uint8_t out[REC_FILE_HDR_SIZE], const struct rec_hdr *h);

/*
 * Read a file header from p[0..len). Returns REC_FILE_HDR_SIZE and fills
 * *h, or 0 if len is shorter than a header, or:
 *   -EINVAL           neither magic: not an iomuxd state file
 *   -EPROTONOSUPPORT  a version other than REC_VERSION (h->version says
 *                     which), or flags this version does not know
 *   -EBADMSG          the header's CRC does not match
 * Magic and version are checked before the CRC because a later version
 * may lay the rest out differently: bytes 0..11 mean the same forever.
 */
int	rec_hdr_decode(const uint8_t *p, size_t len, struct rec_hdr *h);

/*
 * Append one record to b: seq, and a frame exactly as proto_enc_*()
 * wrote it (u32 length, body). The frame must be a REQUEST of version
 * IOMUX_PROTO_VERSION with id 0 and a body of at most REC_BODY_MAX.
 * Returns the bytes appended, or -EINVAL (not such a frame: its length
 * prefix disagrees with frame_len, or wrong version, kind or id),
 * -EMSGSIZE, -ENOBUFS or -ENOMEM, with b unchanged. The frame's
 * arguments are not checked here: rec_next() checks them.
 */
int	rec_append(struct buf *b, uint32_t salt, uint64_t seq,
	    const uint8_t *frame, size_t frame_len);

/*
 * Build a record in place, with no copy of its frame:
 *
 *	struct rec_enc re;
 *	rec_enc_begin(&re, b, salt, seq, REC_SET);
 *	proto_enc_arg(&re.pe, key, klen);
 *	proto_enc_arg(&re.pe, val, vlen);
 *	proto_enc_u64(&re.pe, expire_at);
 *	n = rec_enc_end(&re);
 *
 * rec_enc_end() returns the bytes appended, or the first error of any
 * step (-ENOBUFS, -ENOMEM, -EMSGSIZE past REC_BODY_MAX, -E2BIG past
 * IOMUX_ARGS_MAX), with b as it was before rec_enc_begin().
 */
struct rec_enc {
	struct proto_enc pe;		/* for proto_enc_arg() and friends */
	struct buf	*b;
	size_t		 start;		/* offset of the record from b's rpos */
	uint32_t	 salt;
	uint64_t	 seq;
	int		 err;
};

void	rec_enc_begin(struct rec_enc *, struct buf *b, uint32_t salt,
	    uint64_t seq, uint16_t code);
int	rec_enc_end(struct rec_enc *);

/* The same in one call, from an argument array (as proto_decode() fills). */
int	rec_append_args(struct buf *b, uint32_t salt, uint64_t seq,
	    uint16_t code, const struct proto_arg *args, size_t argc);

/*
 * A decoded record. frame and args point into the caller's bytes and are
 * valid as long as those are. The struct is large (args has room for
 * IOMUX_ARGS_MAX arguments): allocate one per reader, not per record.
 */
struct rec {
	uint64_t		 seq;
	const uint8_t		*frame;		/* u32 length, body */
	size_t			 frame_len;
	struct proto_frame	 f;		/* f.code is the kind */
	struct proto_arg	 args[IOMUX_ARGS_MAX];
};

/*
 * Decode the record at p[0..len), which must have seq expect (or any
 * seq, with REC_SEQ_ANY). Returns the bytes it occupies (> 0) and fills
 * *out; 0 if p[0..len) is a strict prefix of a record whose header is
 * good, or of a header (need more: at the end of a file, a torn tail);
 * or, with *out undefined:
 *   -EBADMSG  hcrc or dcrc does not match (with a bad hcrc the length
 *             is unknown: nothing is said about the bytes after)
 *   -EPROTO   a good header with a length under a frame header or over
 *             REC_BODY_MAX, or a good record whose frame does not decode
 *             (proto_decode()), is not a version-1 REQUEST with id 0, or
 *             is not a record kind with its number of arguments
 *   -ERANGE   a good header whose seq is not expect
 * The header is judged as soon as its 20 bytes are in, so a bad length
 * or seq is reported without waiting for the bytes it counts.
 */
int	rec_next(const uint8_t *p, size_t len, uint32_t salt, uint64_t expect,
	    struct rec *out);

/*
 * What follows the good records of a file. A torn tail is what a crash
 * in the middle of an append leaves; truncating it loses no record that
 * could be read. Precisely, with X the end of the good records, the
 * rest p[X..len) is a torn tail if nothing in it decodes, that is:
 *   - it is shorter than a record header (20 bytes), or
 *   - it starts with a good header whose record extends past len, or
 *   - it starts with a good header, the record's dcrc is bad, and no
 *     good record (hcrc, dcrc and frame good, seq >= the expected one)
 *     starts at or after the end of that record, or
 *   - it starts with a bad header, and no good record starts anywhere
 *     after X (the length is unknown, so every offset is tried).
 * Anything else is corruption: a good record after the bad place (which
 * truncation would lose), or a record whose checksums are good but
 * whose length, seq or frame is wrong (no torn write makes those).
 */
enum rec_scan_status {
	REC_SCAN_CLEAN = 1,	/* good records up to len */
	REC_SCAN_TORN,		/* truncate at good_end: a torn tail */
	REC_SCAN_CORRUPT,	/* refuse: see bad_error and next_good */
};

struct rec_scan {
	enum rec_scan_status	 status;
	uint64_t		 records;	/* good records */
	uint64_t		 last_seq;	/* first - 1 if none */
	uint16_t		 last_code;	/* the last one's kind, or 0 */
	size_t			 good_end;	/* offset after the last good */
	int			 bad_error;	/* rec_next() at good_end */
	/* A good record after the bad place, which truncation would lose;
	 * good_end if none was found (or, for a bad seq, length or frame,
	 * looked for). */
	size_t			 next_good;
};

/*
 * Walk the records of a file, p[0..len) being the bytes after its
 * header (offsets are relative to p: add REC_FILE_HDR_SIZE for the
 * file's), the first record having seq first and each the next one.
 * Fills *res. Costs one pass, plus, after a bad place, one more over
 * what follows it. Uses about 16 KiB of stack (a struct rec).
 */
void	rec_scan(const uint8_t *p, size_t len, uint32_t salt, uint64_t first,
	    struct rec_scan *res);

#endif /* IOMUXD_RECORD_H */
