/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * record.c: encode and decode the records and headers of the state files
 * (record.h, iomuxd-state(5)).
 *
 * The decoder reads files that a crash may have cut anywhere and that a
 * disk may have damaged anywhere, so, like the wire codec, it bounds
 * before it uses: a length is believed only once the header CRC that
 * covers it matches, and it is compared with REC_BODY_MAX and with the
 * bytes present (as remaining-bytes comparisons, which cannot wrap)
 * before it is added to anything. Nothing is allocated; decoded records
 * are views into the caller's bytes.
 *
 * The encoder appends to a struct buf, with the frame built in place by
 * the wire codec, and rolls the buffer back on any failure, so a writer
 * never holds half a record.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "crc32c.h"
#include "iomux-proto.h"
#include "record.h"

/* Offsets in the file header. */
#define H_MAGIC		0
#define H_VERSION	8
#define H_FLAGS		12
#define H_BASE		16
#define H_CREATED	24
#define H_SALT		32
#define H_CRC		36

/* Offsets in a record. */
#define R_HCRC		0
#define R_SEQ		4
#define R_DCRC		12
#define R_FRAME		16
#define R_BODY		REC_PREFIX_SIZE

/* In the frame body (after the length prefix), as codec.c has them. */
#define B_VERSION	0
#define B_KIND		1
#define B_ID		4

/* Flags that version 1 knows: none. */
#define REC_FLAGS_KNOWN	0u

/*
 * The record kinds with their arguments: how many, and which one (if
 * any) is a u64. No record argument is ever absent.
 */
static const struct rec_kind {
	uint16_t	 code;
	const char	*name;
	uint16_t	 min, max;
	int		 u64_at;	/* index of the u64 argument, or -1 */
} kinds[] = {
	{ REC_SET,	"set",		3, 3,			2 },
	{ REC_DEL,	"del",		1, IOMUX_ARGS_MAX,	-1 },
	{ REC_EXPIRE,	"expire",	2, 2,			1 },
	{ REC_PERSIST,	"persist",	1, 1,			-1 },
	{ REC_PUSH,	"push",		2, IOMUX_ARGS_MAX,	-1 },
	{ REC_POP,	"pop",		1, 1,			-1 },
	{ REC_PUSHFRONT, "pushfront",	2, 2,			-1 },
	{ REC_SNAPEND,	"snapend",	0, 0,			-1 },
};

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

static const struct rec_kind *
kind_find(uint16_t code)
{
	size_t	 i;

	for (i = 0; i < NITEMS(kinds); i++)
		if (kinds[i].code == code)
			return &kinds[i];
	return NULL;
}

const char *
rec_kind_name(uint16_t code)
{
	const struct rec_kind	*k = kind_find(code);

	return k != NULL ? k->name : "unknown";
}

/* CRC-32C of the 4 salt bytes (big-endian) followed by p[0..n). */
static uint32_t
salted_crc(uint32_t salt, const uint8_t *p, size_t n)
{
	uint8_t	 s[4];

	buf_put_u32(s, salt);
	return crc32c(crc32c(0, s, sizeof(s)), p, n);
}

void
rec_hdr_encode(uint8_t out[REC_FILE_HDR_SIZE], const struct rec_hdr *h)
{
	memcpy(out + H_MAGIC, h->type == REC_FILE_SNAP ? REC_MAGIC_SNAP :
	    REC_MAGIC_LOG, REC_MAGIC_SIZE);
	buf_put_u32(out + H_VERSION, REC_VERSION);
	buf_put_u32(out + H_FLAGS, h->flags);
	buf_put_u64(out + H_BASE, h->base_seq);
	buf_put_u64(out + H_CREATED, h->created_ms);
	buf_put_u32(out + H_SALT, h->salt);
	buf_put_u32(out + H_CRC, crc32c(0, out, H_CRC));
}

int
rec_hdr_decode(const uint8_t *p, size_t len, struct rec_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (len < REC_FILE_HDR_SIZE)
		return 0;
	if (memcmp(p + H_MAGIC, REC_MAGIC_LOG, REC_MAGIC_SIZE) == 0)
		h->type = REC_FILE_LOG;
	else if (memcmp(p + H_MAGIC, REC_MAGIC_SNAP, REC_MAGIC_SIZE) == 0)
		h->type = REC_FILE_SNAP;
	else
		return -EINVAL;
	h->version = buf_get_u32(p + H_VERSION);
	if (h->version != REC_VERSION)
		return -EPROTONOSUPPORT;
	if (buf_get_u32(p + H_CRC) != crc32c(0, p, H_CRC))
		return -EBADMSG;
	h->flags = buf_get_u32(p + H_FLAGS);
	h->base_seq = buf_get_u64(p + H_BASE);
	h->created_ms = buf_get_u64(p + H_CREATED);
	h->salt = buf_get_u32(p + H_SALT);
	/* After the CRC: a flipped flag bit is damage, not a new feature. */
	if ((h->flags & ~REC_FLAGS_KNOWN) != 0)
		return -EPROTONOSUPPORT;
	return REC_FILE_HDR_SIZE;
}

/* Fill in seq and both CRCs of the record at r, whose frame is in place. */
static void
head_fill(uint8_t *r, uint32_t salt, uint64_t seq, size_t body_len)
{
	buf_put_u64(r + R_SEQ, seq);
	buf_put_u32(r + R_DCRC, salted_crc(salt, r + R_BODY, body_len));
	buf_put_u32(r + R_HCRC, salted_crc(salt, r + R_SEQ, R_BODY - R_SEQ));
}

int
rec_append(struct buf *b, uint32_t salt, uint64_t seq, const uint8_t *frame,
    size_t frame_len)
{
	const uint8_t	*body = frame + IOMUX_LEN_SIZE;
	uint8_t		*r;
	int		 error;

	if (frame_len < IOMUX_LEN_SIZE + IOMUX_BODY_HDR_SIZE)
		return -EINVAL;
	if (frame_len - IOMUX_LEN_SIZE > REC_BODY_MAX)
		return -EMSGSIZE;
	if (buf_get_u32(frame) != frame_len - IOMUX_LEN_SIZE ||
	    body[B_VERSION] != IOMUX_PROTO_VERSION ||
	    body[B_KIND] != IOMUX_KIND_REQUEST || buf_get_u32(body + B_ID) != 0)
		return -EINVAL;
	if ((error = buf_reserve(b, REC_HEAD_SIZE + frame_len)) != 0)
		return error;
	r = buf_space(b);
	memcpy(r + R_FRAME, frame, frame_len);
	head_fill(r, salt, seq, frame_len - IOMUX_LEN_SIZE);
	buf_advance(b, REC_HEAD_SIZE + frame_len);
	return (int)(REC_HEAD_SIZE + frame_len);
}

/* Drop what was appended to b after its first 'start' unread bytes. */
static void
rollback(struct buf *b, size_t start)
{
	b->wpos = b->rpos + start;
	if (b->wpos == b->rpos)
		b->rpos = b->wpos = 0;
}

void
rec_enc_begin(struct rec_enc *re, struct buf *b, uint32_t salt, uint64_t seq,
    uint16_t code)
{
	re->b = b;
	re->start = buf_len(b);
	re->salt = salt;
	re->seq = seq;
	if ((re->err = buf_reserve(b, REC_HEAD_SIZE)) != 0) {
		/* A codec state on which every proto_enc_*() is a no-op. */
		memset(&re->pe, 0, sizeof(re->pe));
		re->pe.b = b;
		re->pe.start = re->start;
		re->pe.err = re->err;
		return;
	}
	memset(buf_space(b), 0, REC_HEAD_SIZE);	/* filled by rec_enc_end() */
	buf_advance(b, REC_HEAD_SIZE);
	/* The codec's offsets are from rpos too, so a compaction while it
	 * grows the buffer moves our header along with its frame. */
	proto_enc_begin(&re->pe, b, REC_BODY_MAX, IOMUX_KIND_REQUEST, code, 0);
}

int
rec_enc_end(struct rec_enc *re)
{
	struct buf	*b = re->b;
	int		 n;

	if (re->err != 0)
		return re->err;
	if ((n = proto_enc_end(&re->pe)) < 0) {
		rollback(b, re->start);
		return n;
	}
	head_fill(b->data + b->rpos + re->start, re->salt, re->seq,
	    (size_t)n - IOMUX_LEN_SIZE);
	return REC_HEAD_SIZE + n;
}

int
rec_append_args(struct buf *b, uint32_t salt, uint64_t seq, uint16_t code,
    const struct proto_arg *args, size_t argc)
{
	struct rec_enc	 re;
	size_t		 i;

	rec_enc_begin(&re, b, salt, seq, code);
	for (i = 0; i < argc; i++) {
		if (args[i].absent)
			proto_enc_absent(&re.pe);
		else
			proto_enc_arg(&re.pe, args[i].p, args[i].len);
	}
	return rec_enc_end(&re);
}

/* A decoded frame is a record of a known kind with its arguments. */
static bool
frame_valid(const struct proto_frame *f, const struct proto_arg *args)
{
	const struct rec_kind	*k;
	uint16_t		 i;

	if (f->kind != IOMUX_KIND_REQUEST || f->id != 0)
		return false;
	if ((k = kind_find(f->code)) == NULL)
		return false;
	if (f->argc < k->min || f->argc > k->max)
		return false;
	for (i = 0; i < f->argc; i++)
		if (args[i].absent)
			return false;
	if (k->u64_at >= 0 && args[k->u64_at].len != 8)
		return false;
	return true;
}

/* The header's CRC matches (the caller has checked there are 20 bytes). */
static bool
head_valid(const uint8_t *p, uint32_t salt)
{
	return buf_get_u32(p + R_HCRC) ==
	    salted_crc(salt, p + R_SEQ, R_BODY - R_SEQ);
}

int
rec_next(const uint8_t *p, size_t len, uint32_t salt, uint64_t expect,
    struct rec *out)
{
	uint64_t	 seq;
	uint32_t	 body_len;
	int		 n;

	if (len < REC_PREFIX_SIZE)
		return 0;
	if (!head_valid(p, salt))
		return -EBADMSG;
	seq = buf_get_u64(p + R_SEQ);
	body_len = buf_get_u32(p + R_FRAME);
	if (body_len < IOMUX_BODY_HDR_SIZE || body_len > REC_BODY_MAX)
		return -EPROTO;
	if (seq == 0 || (expect != REC_SEQ_ANY && seq != expect))
		return -ERANGE;
	if (len - REC_PREFIX_SIZE < body_len)
		return 0;
	if (buf_get_u32(p + R_DCRC) != salted_crc(salt, p + R_BODY, body_len))
		return -EBADMSG;
	n = proto_decode(p + R_FRAME, IOMUX_LEN_SIZE + (size_t)body_len,
	    REC_BODY_MAX, &out->f, out->args, IOMUX_ARGS_MAX);
	if (n != (int)(IOMUX_LEN_SIZE + body_len) ||
	    !frame_valid(&out->f, out->args))
		return -EPROTO;
	out->seq = seq;
	out->frame = p + R_FRAME;
	out->frame_len = (size_t)n;
	return REC_HEAD_SIZE + n;
}

/*
 * The offset of the first good record at or after 'from' whose seq is
 * at least expect, or 0 if there is none (0 is never such an offset:
 * callers start past a bad place). Cheap tests first, so that a long
 * run of zeros or garbage costs little more than reading it.
 */
static size_t
find_good(const uint8_t *p, size_t len, size_t from, uint32_t salt,
    uint64_t expect, struct rec *r)
{
	uint32_t	 body_len;
	size_t		 y;

	for (y = from; y <= len && len - y >= REC_SIZE_MIN; y++) {
		body_len = buf_get_u32(p + y + R_FRAME);
		if (body_len < IOMUX_BODY_HDR_SIZE ||
		    body_len > len - y - REC_PREFIX_SIZE)
			continue;
		if (buf_get_u64(p + y + R_SEQ) < expect)
			continue;
		if (rec_next(p + y, len - y, salt, REC_SEQ_ANY, r) > 0)
			return y;
	}
	return 0;
}

void
rec_scan(const uint8_t *p, size_t len, uint32_t salt, uint64_t first,
    struct rec_scan *res)
{
	struct rec	 r;
	uint64_t	 expect = first;
	size_t		 off = 0, from, y;
	int		 n;

	memset(res, 0, sizeof(*res));
	res->last_seq = first - 1;
	for (;;) {
		if (off == len) {
			res->status = REC_SCAN_CLEAN;
			break;
		}
		if ((n = rec_next(p + off, len - off, salt, expect, &r)) > 0) {
			res->records++;
			res->last_seq = expect++;
			res->last_code = r.f.code;
			off += (size_t)n;
			res->good_end = off;
			continue;
		}
		res->bad_error = n;
		if (n == 0) {
			/* The record, or its header, runs to the end. */
			res->status = REC_SCAN_TORN;
		} else if (n == -EBADMSG) {
			/*
			 * A good header gives the extent of the bad record:
			 * only what follows it can be lost. A bad one gives
			 * nothing, so every later offset is tried.
			 */
			if (head_valid(p + off, salt))
				from = off + REC_PREFIX_SIZE +
				    buf_get_u32(p + off + R_FRAME);
			else
				from = off + 1;
			y = find_good(p, len, from, salt, expect, &r);
			res->status = y != 0 ? REC_SCAN_CORRUPT : REC_SCAN_TORN;
			res->next_good = y;
		} else {
			/* Good checksums, wrong content: no crash does that. */
			res->status = REC_SCAN_CORRUPT;
		}
		break;
	}
	if (res->next_good == 0)
		res->next_good = res->good_end;
}
