/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * codec.h: encode and decode iomuxd frames (see iomux-proto.h) to and from
 * byte buffers. The codec knows nothing of sockets, fds, time or logging:
 * the daemon, libiomux and the tests all feed it bytes.
 *
 * Decoding is incremental in the only way a length-prefixed stream needs:
 * proto_decode() is called on whatever bytes have arrived so far and says
 * "need more" (0) until a whole frame is present. It validates the length
 * prefix against the caller's frame limit as soon as the 4 length bytes are
 * in, before the caller buffers or allocates anything for the body, and
 * validates every argument length against the body before returning views.
 *
 * Decoded arguments are views into the caller's input bytes: valid until
 * those bytes are consumed. Nothing is allocated.
 */

#ifndef IOMUX_CODEC_H
#define IOMUX_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "iomux-proto.h"

struct proto_arg {
	const uint8_t	*p;	/* NULL when absent */
	uint32_t	 len;	/* 0 when absent or empty */
	bool		 absent;
};

struct proto_frame {
	uint8_t		 version;
	uint8_t		 kind;
	uint16_t	 code;
	uint32_t	 id;
	uint16_t	 argc;	/* as on the wire; all parsed into args */
	uint32_t	 body_len;
};

/* Positive results of proto_decode(). */
#define PROTO_E_AGAIN	0	/* need more bytes */

/*
 * Peek at the length prefix. Returns PROTO_E_AGAIN with fewer than 4 bytes,
 * else 1 and sets *body_len, or -EMSGSIZE if the body is over 'frame_max'
 * or -EBADMSG if shorter than the body header. Callers use this to reject
 * an oversize frame before buffering it.
 */
int	proto_peek_len(const uint8_t *buf, size_t len, uint32_t frame_max,
	    uint32_t *body_len);

/*
 * Decode one frame from buf[0..len). On success returns the number of bytes
 * the frame occupies (> 0) and fills *f and args[0..f->argc). Returns
 * PROTO_E_AGAIN (0) if the frame is not complete yet. Errors:
 *   -EMSGSIZE  body over frame_max (checked from the 4-byte prefix alone)
 *   -EBADMSG   body shorter than its header, an argument overruns the body,
 *              or bytes are left over after the last argument
 *   -E2BIG     argc over args_cap (or over IOMUX_ARGS_MAX)
 *   -EPROTONOSUPPORT  version byte is not IOMUX_PROTO_VERSION (the frame
 *              is complete; *f has its header so a reply can echo the id)
 * On an error, *f holds whatever header fields were parsed (id may be 0).
 */
int	proto_decode(const uint8_t *buf, size_t len, uint32_t frame_max,
	    struct proto_frame *f, struct proto_arg *args, size_t args_cap);

/*
 * Encoding appends one frame to a buf. proto_enc_begin() reserves the
 * header, proto_enc_arg()/_absent()/_u32()/_u64() append arguments, and
 * proto_enc_end() patches length and argc. If any step fails (-ENOBUFS at
 * the buffer's limit, -ENOMEM, -EMSGSIZE past frame_max, -E2BIG past
 * IOMUX_ARGS_MAX), the later steps are no-ops, and proto_enc_end() removes
 * the partial frame and returns the first error: the buffer is left as it
 * was before proto_enc_begin().
 */
struct proto_enc {
	struct buf	*b;
	size_t		 start;		/* offset of the frame in b (from rpos) */
	uint32_t	 frame_max;
	uint16_t	 argc;
	int		 err;
};

void	proto_enc_begin(struct proto_enc *, struct buf *, uint32_t frame_max,
	    uint8_t kind, uint16_t code, uint32_t id);
void	proto_enc_arg(struct proto_enc *, const void *, size_t);
void	proto_enc_str(struct proto_enc *, const char *);
void	proto_enc_absent(struct proto_enc *);
void	proto_enc_u32(struct proto_enc *, uint32_t);	/* 4 bytes BE */
void	proto_enc_u64(struct proto_enc *, uint64_t);	/* 8 bytes BE */
int	proto_enc_end(struct proto_enc *);	/* bytes added, or -errno */

/* Argument helpers: 0 on success, -EINVAL if the argument has another size. */
int	proto_arg_u32(const struct proto_arg *, uint32_t *);
int	proto_arg_u64(const struct proto_arg *, uint64_t *);

/* Names for logs and the CLI; "unknown" for numbers not in the header. */
const char	*proto_op_name(uint16_t op);
const char	*proto_status_name(uint16_t st);	/* e.g. "EARGS" */
const char	*proto_status_text(uint16_t st);	/* e.g. "bad arguments" */
/* Opcode by name (case-insensitive), or 0 if unknown. */
uint16_t	 proto_op_by_name(const char *);

#endif /* IOMUX_CODEC_H */
