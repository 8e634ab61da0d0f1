/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * buf.h: a growable byte buffer with a read and a write position, in the
 * manner of imsg's ibuf. Used for connection input and output and for
 * encoding frames. No syscalls, no fds: callers read into buf_space() and
 * write from buf_data().
 *
 * Storage is allocated lazily (an empty buffer owns nothing) so that an
 * idle connection costs no buffer memory; buf_compact()/buf_shrink() give
 * memory back after a burst. Every buffer has a hard limit; growth past it
 * fails with -ENOBUFS rather than allocating.
 *
 * A buffer may charge its capacity to an account (struct buf_acct), which
 * rolls up into its parent: a connection's into the server's, so that
 * both "who uses the most" and "how much in all" are O(1) questions. The
 * buffer knows nothing of what the account is for.
 */

#ifndef IOMUX_BUF_H
#define IOMUX_BUF_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

struct buf_acct {
	uint64_t	 bytes;
	struct buf_acct	*parent;	/* charged too, or NULL */
};

/* Charge or release n bytes on a and its parents. */
static inline void
buf_acct_charge(struct buf_acct *a, uint64_t n)
{
	for (; a != NULL; a = a->parent)
		a->bytes += n;
}
static inline void
buf_acct_release(struct buf_acct *a, uint64_t n)
{
	for (; a != NULL; a = a->parent) {
		assert(a->bytes >= n);
		a->bytes -= n;
	}
}
/* Move a (with what it holds) under another parent, or none. */
static inline void
buf_acct_reparent(struct buf_acct *a, struct buf_acct *parent)
{
	buf_acct_release(a->parent, a->bytes);
	a->parent = parent;
	buf_acct_charge(parent, a->bytes);
}

struct buf {
	uint8_t		*data;		/* NULL until first use */
	size_t		 rpos;		/* first unread byte */
	size_t		 wpos;		/* one past the last written byte */
	size_t		 cap;		/* allocated bytes */
	size_t		 limit;		/* never grow cap past this (0: SIZE_MAX) */
	struct buf_acct	*acct;		/* charged with cap, or NULL */
};

/* Set up an empty buffer that may grow to 'limit' bytes (0: no limit). */
void	 buf_init(struct buf *, size_t limit);
/* Free storage; the buffer is empty and reusable afterwards. */
void	 buf_free(struct buf *);
/* Bytes waiting to be read. */
static inline size_t
buf_len(const struct buf *b)
{
	return b->wpos - b->rpos;
}
static inline const uint8_t *
buf_data(const struct buf *b)
{
	return b->data + b->rpos;
}
/* The slow half of buf_reserve(): compact or grow. */
int	 buf_grow(struct buf *, size_t n);
/* Make room for at least 'n' more bytes after wpos; 0 or -ENOBUFS/-ENOMEM.
 * Inline because every reply asks, and almost always there is room. */
static inline int
buf_reserve(struct buf *b, size_t n)
{
	if (b->cap - b->wpos >= n)
		return 0;
	return buf_grow(b, n);
}
/* Writable tail after buf_reserve(); commit with buf_advance(). */
static inline uint8_t *
buf_space(struct buf *b)
{
	return b->data + b->wpos;
}
static inline size_t
buf_avail(const struct buf *b)
{
	return b->cap - b->wpos;
}
/* wpos += n, after writing into buf_space(). */
static inline void
buf_advance(struct buf *b, size_t n)
{
	assert(n <= b->cap - b->wpos);
	b->wpos += n;
}
/* rpos += n; a buffer read to its end starts again at offset 0. */
static inline void
buf_consume(struct buf *b, size_t n)
{
	assert(n <= b->wpos - b->rpos);
	b->rpos += n;
	if (b->rpos == b->wpos)
		b->rpos = b->wpos = 0;
}
/* Append bytes; 0 or -ENOBUFS/-ENOMEM (nothing appended on failure). */
int	 buf_add(struct buf *, const void *, size_t);
/* Move unread bytes to the front. */
void	 buf_compact(struct buf *);
/* Free storage if empty and larger than 'keep' bytes (after a burst). */
void	 buf_shrink(struct buf *, size_t keep);

/* Big-endian helpers, shared by the codec and its users. */
static inline void
buf_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void
buf_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void
buf_put_u64(uint8_t *p, uint64_t v)
{
	buf_put_u32(p, (uint32_t)(v >> 32));
	buf_put_u32(p + 4, (uint32_t)v);
}
static inline uint16_t
buf_get_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t
buf_get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}
static inline uint64_t
buf_get_u64(const uint8_t *p)
{
	return ((uint64_t)buf_get_u32(p) << 32) | buf_get_u32(p + 4);
}

#endif /* IOMUX_BUF_H */
