/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * dispatch.h: from a decoded request to its reply. A table maps opcodes
 * to handlers; handlers see decoded arguments, never raw bytes, and build
 * their reply through the reply_* helpers, which encode straight into the
 * connection's current output buffer.
 */

#ifndef IOMUXD_DISPATCH_H
#define IOMUXD_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "codec.h"

struct conn;

struct reply {
	struct proto_enc	 enc;
	struct conn		*c;
	uint32_t		 id;
	bool			 begun;
};

/*
 * Handle one request frame (kind REQUEST, version checked) and queue
 * exactly one reply. Returns 0, or -errno if the reply could not be queued
 * (the output buffer is at its limit or memory ran out): the caller drops
 * the connection.
 */
int	dispatch_request(struct conn *, const struct proto_frame *,
	    const struct proto_arg *);

/* Start an OK (or other status) reply; handlers call it once. */
void	reply_begin(struct reply *, uint16_t status);
void	reply_arg(struct reply *, const void *, size_t);
void	reply_str(struct reply *, const char *);
/* A name/value pair of a structured reply (HELLO, STATUS). */
void	reply_pair(struct reply *, const char *name, const char *value);
void	reply_pair_u64(struct reply *, const char *name, uint64_t);
/* Replace whatever was begun with an error reply carrying a message. */
void	reply_error(struct reply *, uint16_t status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif /* IOMUXD_DISPATCH_H */
