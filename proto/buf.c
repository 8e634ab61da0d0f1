/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * buf.c: the growable byte buffer of buf.h.
 *
 * Invariants: rpos <= wpos <= cap <= limit (limit 0: PTRDIFF_MAX);
 * data is NULL exactly when cap is 0. An emptied buffer rewinds to
 * rpos = wpos = 0 so that the common "read a frame, consume it" cycle never
 * moves bytes.
 *
 * Growth doubles the capacity (starting at BUF_MIN) so appending n bytes
 * costs amortised O(n). Unread bytes are moved to the front only when the
 * dead space before them is at least as large as they are, or when the
 * limit forbids growing: each byte is then moved at most once per byte
 * consumed before it, which keeps a long-lived connection buffer that is
 * read and written in small pieces linear rather than quadratic.
 *
 * No syscalls here: callers read(2) into buf_space() and write(2) from
 * buf_data().
 */

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* First allocation: enough for a few small frames. */
#define BUF_MIN		256

/*
 * The effective capacity limit: 0 means "no limit", and no object may be
 * larger than PTRDIFF_MAX anyway (asking malloc for more only fails later,
 * or aborts under a sanitizer).
 */
static size_t
buf_limit(const struct buf *b)
{
	if (b->limit == 0 || b->limit > (size_t)PTRDIFF_MAX)
		return (size_t)PTRDIFF_MAX;
	return b->limit;
}

void
buf_init(struct buf *b, size_t limit)
{
	b->data = NULL;
	b->rpos = 0;
	b->wpos = 0;
	b->cap = 0;
	b->limit = limit;
	b->acct = NULL;
}

void
buf_free(struct buf *b)
{
	buf_acct_release(b->acct, b->cap);
	free(b->data);
	b->data = NULL;
	b->rpos = 0;
	b->wpos = 0;
	b->cap = 0;
}

/*
 * Make room for n more bytes after wpos. Returns 0, -ENOBUFS if the unread
 * bytes plus n would not fit under the limit (or overflow size_t), or
 * -ENOMEM. On failure the buffer's contents and positions are unchanged
 * (except that unread bytes may have been moved to the front).
 */
int
buf_grow(struct buf *b, size_t n)
{
	size_t	 live, need, newcap, limit;
	uint8_t	*p;

	if (b->cap - b->wpos >= n)
		return 0;

	limit = buf_limit(b);
	live = b->wpos - b->rpos;
	/* Compare before adding: n comes from callers and may be huge. */
	if (n > limit || live > limit - n)
		return -ENOBUFS;
	need = live + n;

	/*
	 * Enough room once the consumed prefix is reclaimed: move the unread
	 * bytes down if that is cheap (they are no bigger than the hole) or
	 * if growing is impossible anyway.
	 */
	if (need <= b->cap && (live <= b->rpos || b->cap >= limit)) {
		buf_compact(b);
		return 0;
	}

	/* Double at least once: need may fit in cap (see above). */
	newcap = b->cap != 0 ? b->cap : BUF_MIN / 2;
	do {
		if (newcap > SIZE_MAX / 2) {
			newcap = SIZE_MAX;
			break;
		}
		newcap *= 2;
	} while (newcap < need);
	if (newcap > limit)
		newcap = limit;

	/* Compact first so realloc() has the live bytes at the front. */
	buf_compact(b);
	p = realloc(b->data, newcap);
	if (p == NULL)
		return -ENOMEM;
	/* A limit lowered since (a reload) may shrink it. */
	if (newcap >= b->cap)
		buf_acct_charge(b->acct, newcap - b->cap);
	else
		buf_acct_release(b->acct, b->cap - newcap);
	b->data = p;
	b->cap = newcap;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	int	 error;

	if (n == 0)
		return 0;
	if ((error = buf_reserve(b, n)) != 0)
		return error;
	memcpy(b->data + b->wpos, p, n);
	b->wpos += n;
	return 0;
}

void
buf_compact(struct buf *b)
{
	size_t	 live;

	if (b->rpos == 0)
		return;
	live = b->wpos - b->rpos;
	if (live != 0)
		memmove(b->data, b->data + b->rpos, live);
	b->rpos = 0;
	b->wpos = live;
}

void
buf_shrink(struct buf *b, size_t keep)
{
	if (b->wpos != b->rpos || b->cap <= keep)
		return;
	buf_free(b);
}
