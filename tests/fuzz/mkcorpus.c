/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * mkcorpus.c: write the seed corpus of fuzz_request (its script format is
 * described there) into a directory:
 *
 *	tests/fuzz/mkcorpus tests/fuzz/corpus/request
 *
 * Each seed is one scenario: every opcode with good and bad arguments,
 * blocking requests woken, timed out and abandoned, pipelining past the
 * per-wake-up budget, frames split byte by byte, malformed and oversized
 * frames, slow and vanishing readers, half-closes both ways, a graceful
 * stop and a reload, on each backend. The files are committed, so that
 * make check replays them without this program; run it again after
 * changing the script format or adding a scenario, and commit the result.
 * The fuzzer grows its own corpus from these (keep that one out of the
 * tree).
 */

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "iomux-proto.h"

/* fuzz_request.c's script operations and configuration bits. */
enum {
	OP_SEND, OP_SEND16, OP_FRAME, OP_REPEAT, OP_RUN, OP_READ,
	OP_SHUT_WR, OP_SHUT_RD, OP_CLOSE, OP_CONNECT, OP_ADVANCE, OP_STOP,
	OP_RELOAD, OP_NOMEM
};
#define V_EPOLL		0x00	/* the first compiled backend */
#define V_POLL		0x01
#define V_SELECT	0x02
#define V_BUDGET	0x04	/* reqs_per_wakeup 2 */
#define V_MEMORY	0x08	/* max_memory 4 KiB */
#define V_CLIENTMEM	0x10	/* client_memory_max 96 KiB */
#define V_IDLE		0x20	/* idle_timeout 5 s */
#define V_BIG		0x40	/* frame_max 16 KiB, output_limit 32 KiB */
#define V_TIGHT		0x80	/* key_max 16, value_max 256, 2 subs */

#define READ_ALL	0	/* OP_READ params */
#define READ_1		1
#define RUN_1		0	/* OP_RUN params: 1, 4, 16, 64 turns */
#define RUN_16		2
#define MS_1		0	/* OP_ADVANCE params: the unit */
#define MS_100		2
#define MS_1000		3

/* fuzz_request.c's OP_FRAME opcode selector: fuzz_ops[] order. */
enum {
	HELLO, PING, STATUS, GET, SET, DEL, EXISTS, INCR, KEYS, TTL, EXPIRE,
	PERSIST, WAIT, PUSH, POP, QLEN, PEEK, SUBSCRIBE, UNSUBSCRIBE,
	PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, LOCK, TRYLOCK, UNLOCK
};

#define SCRIPT_MAX	16384

struct script {
	uint8_t	b[SCRIPT_MAX];
	size_t	n;
	uint8_t	next_id;
};

static void
put(struct script *s, const void *p, size_t n)
{
	if (s->n + n > sizeof(s->b)) {
		fprintf(stderr, "mkcorpus: script too long\n");
		exit(1);
	}
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

static void
put8(struct script *s, unsigned int v)
{
	uint8_t	b = (uint8_t)v;

	put(s, &b, 1);
}

static void
op(struct script *s, int code, int slot, int param)
{
	put8(s, (unsigned int)(code << 4 | param << 2 | slot));
}

static void
begin(struct script *s, unsigned int variant)
{
	s->n = 0;
	s->next_id = 1;
	put8(s, variant);
}

/* Arguments of frame(): each one word of a tiny language. */
#define A_END		NULL
#define A_ABSENT	"\xff"		/* an absent argument */
#define A_COUNTER	"\xfd"		/* the OP_REPEAT count, 2 bytes */
/* A string, a u32 or a u64 (big-endian), or n bytes of a fill byte. */
static char	argpool[64][16];
static int	argnext;

static const char *
a_int(uint64_t v, int width)
{
	char	*w = argpool[argnext++ % 64];

	w[0] = (char)0xfc;	/* ours: written as width, bytes */
	w[1] = (char)width;
	memcpy(w + 2, &v, sizeof(v));
	return w;
}
#define A_U32(v)	a_int((v), 4)
#define A_U64(v)	a_int((v), 8)

static const char *
a_fill(unsigned int n, int fill)
{
	char	*w = argpool[argnext++ % 64];

	w[0] = (char)0xfe;
	w[1] = (char)(n >> 8);
	w[2] = (char)n;
	w[3] = (char)fill;
	return w;
}

/*
 * OP_FRAME: a request of opcode selector sel on slot, with the next id
 * (or id 0 for sel's with an explicit code: 0xff then code). The words
 * after it are its arguments, ending with A_END.
 */
static void
vframe(struct script *s, int slot, int sel, uint16_t code, va_list ap)
{
	const char	*w;
	size_t		 argc_at, len;
	uint8_t		 be[8];
	uint64_t	 v;
	int		 argc = 0, i, width;

	op(s, OP_FRAME, slot, 0);
	put8(s, (unsigned int)sel);
	if (sel == 0xff) {
		put8(s, code >> 8);
		put8(s, code & 0xff);
	}
	put8(s, s->next_id++);
	argc_at = s->n;
	put8(s, 0);
	while ((w = va_arg(ap, const char *)) != NULL) {
		argc++;
		switch ((uint8_t)w[0]) {
		case 0xff:
			put8(s, 0xff);
			break;
		case 0xfe:
			put(s, w, 4);
			break;
		case 0xfd:
			put8(s, 0xfd);
			break;
		case 0xfc:
			width = w[1];
			memcpy(&v, w + 2, sizeof(v));
			for (i = 0; i < width; i++)
				be[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
			put8(s, (unsigned int)width);
			put(s, be, (size_t)width);
			break;
		default:
			len = strlen(w);
			put8(s, (unsigned int)len);
			put(s, w, len);
			break;
		}
	}
	s->b[argc_at] = (uint8_t)argc;
}

static void
frame(struct script *s, int slot, int sel, ...)
{
	va_list	ap;

	va_start(ap, sel);
	vframe(s, slot, sel, 0, ap);
	va_end(ap);
}

static void
frame_code(struct script *s, int slot, uint16_t code, ...)
{
	va_list	ap;

	va_start(ap, code);
	vframe(s, slot, 0xff, code, ap);
	va_end(ap);
}

/* Run the next nops (1 to 4) operations n + 1 times. */
static void
repeat(struct script *s, int slot, int nops, unsigned int n)
{
	op(s, OP_REPEAT, slot, nops - 1);
	put8(s, n);
}

static void
run(struct script *s, int param)
{
	op(s, OP_RUN, 0, param);
}

static void
readall(struct script *s, int slot)
{
	op(s, OP_READ, slot, READ_ALL);
}

/* The clock moves after a turn has read what was sent before it. */
static void
advance(struct script *s, int unit, unsigned int n)
{
	run(s, RUN_1);
	op(s, OP_ADVANCE, 0, unit);
	put8(s, n);
}

/* Raw bytes on slot, in pieces of at most 'piece' with a turn between. */
static void
raw(struct script *s, int slot, const uint8_t *p, size_t n, size_t piece)
{
	size_t	k;

	while (n > 0) {
		k = n < piece ? n : piece;
		if (k > 255) {
			op(s, OP_SEND16, slot, 0);
			put8(s, (unsigned int)(k >> 8));
			put8(s, k & 0xff);
		} else {
			op(s, OP_SEND, slot, 0);
			put8(s, (unsigned int)k);
		}
		put(s, p, k);
		p += k;
		n -= k;
		if (n > 0)
			run(s, RUN_1);
	}
}

/* An encoded frame of any kind and version, for the raw seeds. */
static size_t
encode(uint8_t *out, size_t cap, uint8_t version, uint8_t kind,
    uint16_t code, uint32_t id, int argc, const char *const *args)
{
	struct proto_enc	e;
	struct buf		b;
	size_t			n;
	int			i;

	buf_init(&b, 0);
	proto_enc_begin(&e, &b, IOMUX_FRAME_MAX_CAP, kind, code, id);
	for (i = 0; i < argc; i++)
		proto_enc_str(&e, args[i]);
	if (proto_enc_end(&e) < 0 || buf_len(&b) > cap) {
		fprintf(stderr, "mkcorpus: cannot encode\n");
		exit(1);
	}
	n = buf_len(&b);
	memcpy(out, buf_data(&b), n);
	out[IOMUX_LEN_SIZE] = version;
	buf_free(&b);
	return n;
}

static const char	*dir;
static int		 nwritten;

static void
save(const struct script *s, const char *name)
{
	char	 path[4096];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "wb")) == NULL ||
	    fwrite(s->b, 1, s->n, fp) != s->n || fclose(fp) != 0) {
		fprintf(stderr, "mkcorpus: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	nwritten++;
}

static void
seed_control(struct script *s)
{
	begin(s, V_EPOLL);
	frame(s, 0, HELLO, A_U32(1), "fuzz", A_END);
	frame(s, 0, HELLO, A_U32(0), A_END);		/* EVERSION, stays */
	frame(s, 0, HELLO, "v1", A_END);		/* not 4 bytes */
	frame(s, 0, HELLO, A_U32(1), A_ABSENT, A_END);
	frame(s, 0, HELLO, A_END);			/* EARGS */
	/* A token where the server has none: EDENIED, the conn stays. */
	frame(s, 0, HELLO, A_U32(1), A_ABSENT,
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    A_END);
	frame(s, 0, HELLO, A_U32(1), "n", "t", "x", A_END);	/* EARGS */
	frame(s, 0, PING, A_END);
	frame(s, 0, PING, "", A_END);
	frame(s, 0, PING, A_ABSENT, A_END);
	frame(s, 0, PING, "a", "b", A_END);
	frame(s, 0, STATUS, A_END);
	frame(s, 0, STATUS, "x", A_END);
	frame_code(s, 0, 0x0004, A_END);		/* WHOAMI */
	frame_code(s, 0, 0x0004, "x", A_END);		/* EARGS */
	frame_code(s, 0, 0x0005, A_END);		/* EUNKNOWN */
	frame_code(s, 0, 0x0999, "x", A_END);
	frame_code(s, 0, 0xffff, A_END);
	run(s, RUN_1);
	readall(s, 0);
	save(s, "control");
}

static void
seed_kv(struct script *s)
{
	begin(s, V_POLL);
	frame(s, 0, SET, "k", "v", A_END);
	frame(s, 0, GET, "k", A_END);
	frame(s, 0, GET, "nope", A_END);
	frame(s, 0, EXISTS, "k", "nope", "k", A_END);
	frame(s, 0, SET, "k", "w", A_ABSENT, A_U32(1), A_END);	/* NX */
	frame(s, 0, SET, "x", "w", A_ABSENT, A_U32(2), A_END);	/* XX */
	frame(s, 0, SET, "k", "w", A_ABSENT, A_U32(3), A_END);	/* EARGS */
	frame(s, 0, SET, "k", "w", A_ABSENT, A_ABSENT, "v", A_END);
	frame(s, 0, SET, "k", "z", A_ABSENT, A_ABSENT, "v", A_END);
	frame(s, 0, SET, "t", "1", A_U64(500), A_END);
	frame(s, 0, SET, "t", "2", A_ABSENT, A_U32(4), A_END);	/* KEEPTTL */
	frame(s, 0, TTL, "t", A_END);
	frame(s, 0, TTL, "k", A_END);
	frame(s, 0, EXPIRE, "k", A_U64(100), A_END);
	frame(s, 0, EXPIRE, "k", "short", A_END);
	frame(s, 0, PERSIST, "k", A_END);
	frame(s, 0, INCR, "n", A_END);
	frame(s, 0, INCR, "n", A_U64(41), A_END);
	frame(s, 0, INCR, "n", A_U64(UINT64_C(0x7fffffffffffffff)), A_END);
	frame(s, 0, INCR, "k", A_END);			/* ETYPE */
	frame(s, 0, KEYS, "", A_END);
	frame(s, 0, KEYS, "", A_U64(0), A_U32(1), A_END);
	frame(s, 0, KEYS, "k", A_ABSENT, A_U32(0), A_END);
	run(s, RUN_1);
	readall(s, 0);
	advance(s, MS_100, 6);				/* "t" expires */
	frame(s, 0, GET, "t", A_END);
	frame(s, 0, DEL, "k", "n", "t", "nope", A_END);
	frame(s, 0, DEL, A_ABSENT, A_END);
	frame(s, 0, GET, A_ABSENT, A_END);
	run(s, RUN_1);
	readall(s, 0);
	save(s, "kv");
}

/*
 * Under the variant with access rules (rw on a b q c l, ro on k r z m):
 * allowed and denied requests of each kind, prefix requests that reach
 * into the ro part, and the connection kept after each denial.
 */
static void
seed_rules(struct script *s)
{
	begin(s, V_EPOLL | 0x30);
	frame(s, 0, SET, "a", "1", A_END);
	frame(s, 0, SET, "k", "1", A_END);		/* EDENIED */
	frame(s, 0, GET, "k", A_END);
	frame(s, 0, DEL, "a", "k", A_END);		/* EDENIED */
	frame(s, 0, KEYS, "", A_END);
	frame(s, 0, PUSH, "q", "x", A_END);
	frame(s, 0, PUSH, "r", "x", A_END);		/* EDENIED */
	frame(s, 0, POP, "q", A_U64(0), A_END);
	frame(s, 0, SUBSCRIBE, "c", "z", A_END);
	frame(s, 0, PSUBSCRIBE, "*", A_END);
	frame(s, 0, PUBLISH, "c", "m", A_END);
	frame(s, 0, PUBLISH, "z", "m", A_END);		/* EDENIED */
	frame(s, 0, LOCK, "l", A_U64(0), A_END);
	frame(s, 0, TRYLOCK, "m", A_END);		/* EDENIED */
	frame(s, 0, STATUS, A_END);			/* the summary */
	frame_code(s, 0, 0x0004, A_END);		/* WHOAMI: the grants */
	frame(s, 0, PING, A_END);
	run(s, RUN_1);
	readall(s, 0);
	save(s, "rules");
}

static void
seed_kv_limits(struct script *s)
{
	begin(s, V_SELECT | V_MEMORY | V_TIGHT);
	frame(s, 0, SET, a_fill(17, 'k'), "v", A_END);	/* key over 16 */
	frame(s, 0, SET, "k", a_fill(257, 'v'), A_END);	/* value over 256 */
	frame(s, 0, SET, "a", a_fill(256, 'a'), A_END);
	frame(s, 0, SET, "b", a_fill(256, 'b'), A_END);
	repeat(s, 0, 1, 20);				/* ENOMEM soon */
	frame(s, 0, SET, A_COUNTER, a_fill(256, 'c'), A_END);
	frame(s, 0, PUSH, "q", a_fill(256, 'q'), a_fill(256, 'q'), A_END);
	frame(s, 0, LOCK, a_fill(16, 'l'), A_END);
	run(s, RUN_16);
	readall(s, 0);
	save(s, "kv-limits");
}

static void
seed_wait(struct script *s)
{
	begin(s, V_EPOLL);
	frame(s, 0, WAIT, "w", A_END);			/* forever */
	frame(s, 0, PING, "behind", A_END);		/* waits behind it */
	frame(s, 1, WAIT, "w", A_U64(300), A_END);
	frame(s, 2, WAIT, "x", A_U64(0), A_END);
	run(s, RUN_1);
	frame(s, 3, SET, "w", "woken", A_END);
	run(s, RUN_1);
	readall(s, 0);
	readall(s, 1);
	advance(s, MS_100, 5);
	readall(s, 2);
	frame(s, 1, WAIT, "late", A_U64(200), A_END);
	advance(s, MS_100, 3);				/* TIMEDOUT */
	readall(s, 1);
	frame(s, 2, WAIT, "w", A_END);			/* exists: at once */
	frame(s, 2, WAIT, "y", "notanumber", A_END);
	run(s, RUN_1);
	readall(s, 2);
	save(s, "kv-wait");
}

static void
seed_queue(struct script *s)
{
	begin(s, V_POLL);
	frame(s, 0, PUSH, "q", "a", "b", "c", A_END);
	frame(s, 0, QLEN, "q", A_END);
	frame(s, 0, PEEK, "q", A_END);
	frame(s, 0, POP, "q", A_END);
	frame(s, 0, POP, "q", A_U64(0), A_END);
	frame(s, 0, QLEN, "nope", A_END);
	frame(s, 0, PEEK, "nope", A_END);
	frame(s, 0, POP, "nope", A_END);
	frame(s, 0, PUSH, "q", A_END);			/* EARGS */
	frame(s, 0, PUSH, "q", A_ABSENT, A_END);
	frame(s, 0, PUSH, "q", "", A_END);
	frame(s, 0, POP, "q", "bad", A_END);
	run(s, RUN_1);
	readall(s, 0);
	/* Blocking pops woken by a push, in order, and one timing out. */
	frame(s, 1, POP, "b", A_U64(UINT64_MAX), A_END);
	frame(s, 2, POP, "b", A_U64(1000), A_END);
	frame(s, 3, POP, "c", A_U64(50), A_END);
	run(s, RUN_1);
	frame(s, 0, PUSH, "b", "one", "two", "three", A_END);
	run(s, RUN_1);
	advance(s, MS_100, 1);
	readall(s, 1);
	readall(s, 2);
	readall(s, 3);
	frame(s, 0, QLEN, "b", A_END);
	run(s, RUN_1);
	readall(s, 0);
	save(s, "queue");
}

/* A popped item whose reply never reaches its reader goes back. */
static void
seed_queue_handoff(struct script *s)
{
	begin(s, V_EPOLL | V_BUDGET);
	frame(s, 0, PUSH, "h", a_fill(1000, 'x'), a_fill(1000, 'y'), A_END);
	repeat(s, 1, 1, 3);
	frame(s, 1, POP, "h", A_END);
	run(s, RUN_1);
	op(s, OP_CLOSE, 1, 0);				/* unread replies */
	frame(s, 2, POP, "w", A_U64(UINT64_MAX), A_END);	/* blocks */
	run(s, RUN_1);
	op(s, OP_SHUT_WR, 2, 0);			/* cancels it */
	frame(s, 3, POP, "w", A_U64(5000), A_END);
	run(s, RUN_1);
	op(s, OP_CLOSE, 3, 0);				/* gone while waiting */
	frame(s, 0, PUSH, "w", "v", A_END);		/* stored, not lost */
	frame(s, 0, QLEN, "h", A_END);
	frame(s, 0, QLEN, "w", A_END);
	run(s, RUN_16);
	readall(s, 0);
	save(s, "queue-handoff");
}

static void
seed_pubsub(struct script *s)
{
	begin(s, V_SELECT);
	frame(s, 0, SUBSCRIBE, "ch", "other", A_END);
	frame(s, 0, PSUBSCRIBE, "c*", "*", A_END);
	frame(s, 0, PSUBSCRIBE, "no-star", A_END);	/* not a pattern */
	frame(s, 0, SUBSCRIBE, "ch", A_END);		/* again */
	frame(s, 1, SUBSCRIBE, "ch", A_END);
	run(s, RUN_1);
	frame(s, 2, PUBLISH, "ch", "hello", A_END);
	frame(s, 2, PUBLISH, "cx", "pattern", A_END);
	frame(s, 2, PUBLISH, "ch", A_END);		/* EARGS */
	run(s, RUN_1);
	readall(s, 0);
	readall(s, 1);
	readall(s, 2);
	frame(s, 0, UNSUBSCRIBE, "ch", A_END);
	frame(s, 0, UNSUBSCRIBE, "never", A_END);
	frame(s, 0, PUNSUBSCRIBE, A_END);
	frame(s, 0, UNSUBSCRIBE, A_END);
	frame(s, 1, PUBLISH, "ch", "self", A_END);	/* its own push */
	run(s, RUN_1);
	readall(s, 0);
	readall(s, 1);
	save(s, "pubsub");
}

/* Subscribers that do not read are dropped; subscriptions_max. */
static void
seed_pubsub_limits(struct script *s)
{
	begin(s, V_EPOLL | V_TIGHT);
	frame(s, 0, SUBSCRIBE, "a", "b", "c", A_END);	/* over 2 */
	frame(s, 1, SUBSCRIBE, "a", A_END);
	frame(s, 1, PSUBSCRIBE, "*", A_END);
	run(s, RUN_1);
	readall(s, 0);
	repeat(s, 2, 1, 60);
	frame(s, 2, PUBLISH, "a", a_fill(250, 'm'), A_END);
	run(s, RUN_16);
	readall(s, 2);
	/* A subscriber publishing to itself past its own limit. */
	repeat(s, 3, 1, 40);
	frame(s, 3, SUBSCRIBE, "self", A_END);
	repeat(s, 3, 1, 60);
	frame(s, 3, PUBLISH, "self", a_fill(250, 's'), A_END);
	run(s, RUN_16);
	save(s, "pubsub-limits");
}

static void
seed_lock(struct script *s)
{
	begin(s, V_POLL);
	frame(s, 0, LOCK, "l", A_END);
	frame(s, 0, LOCK, "l", A_END);			/* owned already */
	frame(s, 1, LOCK, "l", A_U64(UINT64_MAX), A_END);	/* waits */
	frame(s, 2, LOCK, "l", A_U64(200), A_U64(100), A_END);
	frame(s, 3, TRYLOCK, "l", A_END);		/* CONFLICT */
	frame(s, 3, UNLOCK, "l", A_END);		/* ENOTOWNER */
	frame(s, 3, UNLOCK, "free", A_END);		/* NOTFOUND */
	run(s, RUN_1);
	frame(s, 0, UNLOCK, "l", A_END);		/* to conn 1 */
	run(s, RUN_1);
	readall(s, 0);
	readall(s, 1);
	op(s, OP_CLOSE, 1, 0);				/* holder gone: to 2 */
	run(s, RUN_1);
	readall(s, 2);
	frame(s, 3, TRYLOCK, "lease", A_U64(100), A_END);
	frame(s, 3, LOCK, "bad", "x", A_END);
	advance(s, MS_100, 3);				/* leases end */
	frame(s, 0, TRYLOCK, "lease", A_END);
	frame(s, 0, TRYLOCK, "l", A_END);
	run(s, RUN_1);
	readall(s, 0);
	readall(s, 3);
	save(s, "lock");
}

/* More requests in one read than the budget: the backlog runs later. */
static void
seed_pipeline(struct script *s)
{
	uint8_t		 buf[8192];
	size_t		 n = 0;
	const char	*a[2] = { "key", "value" };
	int		 i;

	begin(s, V_EPOLL | V_BUDGET);
	for (i = 0; i < 40; i++)
		n += encode(buf + n, sizeof(buf) - n, IOMUX_PROTO_VERSION,
		    IOMUX_KIND_REQUEST, i % 2 ? IOMUX_OP_GET : IOMUX_OP_SET,
		    (uint32_t)i + 1, i % 2 ? 1 : 2, a);
	raw(s, 0, buf, n, n);
	run(s, RUN_16);
	readall(s, 0);
	/* The same, with the reader slow: output over the high mark. */
	repeat(s, 1, 1, 100);
	frame(s, 1, STATUS, A_END);
	run(s, RUN_16);
	op(s, OP_READ, 1, READ_1);
	run(s, RUN_16);
	readall(s, 1);
	save(s, "pipeline");
}

/* Frames split at every byte, header and body. */
static void
seed_split(struct script *s)
{
	uint8_t		 buf[256];
	const char	*a[2] = { "split-key", "split-value" };
	size_t		 n;

	begin(s, V_SELECT);
	n = encode(buf, sizeof(buf), IOMUX_PROTO_VERSION, IOMUX_KIND_REQUEST,
	    IOMUX_OP_SET, 7, 2, a);
	raw(s, 0, buf, n, 1);
	n = encode(buf, sizeof(buf), IOMUX_PROTO_VERSION, IOMUX_KIND_REQUEST,
	    IOMUX_OP_GET, 8, 1, a);
	raw(s, 0, buf, n, 3);
	run(s, RUN_1);
	readall(s, 0);
	/* Half a frame, then the rest after a while (under frame_timeout). */
	raw(s, 1, buf, 5, 5);
	advance(s, MS_100, 5);
	raw(s, 1, buf + 5, n - 5, n);
	run(s, RUN_1);
	readall(s, 1);
	save(s, "split");
}

/* A frame not completed within frame_timeout, and one behind a wait. */
static void
seed_frame_timeout(struct script *s)
{
	uint8_t		 buf[256];
	const char	*a[1] = { "slow" };
	size_t		 n;

	begin(s, V_POLL);
	n = encode(buf, sizeof(buf), IOMUX_PROTO_VERSION, IOMUX_KIND_REQUEST,
	    IOMUX_OP_GET, 1, 1, a);
	raw(s, 0, buf, n - 1, n);
	advance(s, MS_100, 11);				/* ETIMEOUT, closes */
	readall(s, 0);
	frame(s, 1, WAIT, "never", A_END);
	raw(s, 1, buf, 3, 3);
	advance(s, MS_100, 11);
	readall(s, 1);
	save(s, "frame-timeout");
}

/* Frames the daemon must refuse, each on its own connection. */
static void
seed_bad(struct script *s, int which)
{
	static const uint8_t	 tiny[] = { 0, 0, 0, 3, 1, 1, 0 };
	static const uint8_t	 huge[] = { 0x7f, 0xff, 0xff, 0xff };
	static const uint8_t	 overrun[] = {
		0, 0, 0, 16, 1, 1, 0, 2, 0, 0, 0, 1, 0, 1,
		0, 0, 0, 9, 'a', 'b'		/* arg longer than the body */
	};
	static const uint8_t	 trailing[] = {
		0, 0, 0, 12, 1, 1, 0, 2, 0, 0, 0, 1, 0, 0, 'x', 'y'
	};
	static const uint8_t	 manyargs[] = {
		0, 0, 0, 10, 1, 1, 0, 2, 0, 0, 0, 1, 0xff, 0xff
	};
	uint8_t			 buf[256];
	const char		*a[1] = { "x" };
	char			 name[32];
	size_t			 n;
	static const struct {
		const uint8_t	*p;
		size_t		 n;
	} raws[] = {
		{ tiny, sizeof(tiny) }, { huge, sizeof(huge) },
		{ overrun, sizeof(overrun) }, { trailing, sizeof(trailing) },
		{ manyargs, sizeof(manyargs) },
	};

	begin(s, (unsigned int)which % 3);
	frame(s, 0, PING, "first", A_END);	/* answered before the error */
	switch (which) {
	case 0:
	case 1:
	case 2:
	case 3:
	case 4:
		raw(s, 0, raws[which].p, raws[which].n, 64);
		break;
	case 5:
		n = encode(buf, sizeof(buf), 2, IOMUX_KIND_REQUEST,
		    IOMUX_OP_PING, 9, 1, a);
		raw(s, 0, buf, n, n);
		break;
	case 6:
		n = encode(buf, sizeof(buf), IOMUX_PROTO_VERSION,
		    IOMUX_KIND_REPLY, IOMUX_ST_OK, 9, 1, a);
		raw(s, 0, buf, n, n);
		break;
	case 7:
		/* Over frame_max (4 KiB) by a little, from a real frame. */
		frame(s, 0, SET, "k", a_fill(5000, 'z'), A_END);
		break;
	}
	frame(s, 0, PING, "after", A_END);	/* never answered */
	run(s, RUN_1);
	readall(s, 0);
	advance(s, MS_1000, 3);			/* the linger, if unread */
	snprintf(name, sizeof(name), "bad-%d", which);
	save(s, name);
}

/* Half-closes: answered then closed; a wait cancelled; writes failing. */
static void
seed_halfclose(struct script *s)
{
	begin(s, V_EPOLL);
	frame(s, 0, SET, "k", "v", A_END);
	frame(s, 0, GET, "k", A_END);
	op(s, OP_SHUT_WR, 0, 0);
	run(s, RUN_1);
	readall(s, 0);
	frame(s, 1, WAIT, "w", A_END);
	frame(s, 1, GET, "k", A_END);
	run(s, RUN_1);
	op(s, OP_SHUT_WR, 1, 0);
	run(s, RUN_1);
	readall(s, 1);
	op(s, OP_SHUT_RD, 2, 0);
	repeat(s, 2, 1, 30);
	frame(s, 2, STATUS, A_END);
	run(s, RUN_16);
	frame(s, 3, LOCK, "l", A_END);
	frame(s, 3, SUBSCRIBE, "c", A_END);
	run(s, RUN_1);
	op(s, OP_SHUT_WR, 3, 0);			/* lock, subs released */
	run(s, RUN_1);
	op(s, OP_CONNECT, 0, 0);
	frame(s, 0, TRYLOCK, "l", A_END);
	run(s, RUN_1);
	readall(s, 0);
	save(s, "halfclose");
}

/* Peers closing mid-frame, with output unread, and reconnecting. */
static void
seed_close(struct script *s)
{
	uint8_t		 buf[256];
	const char	*a[2] = { "k", "v" };
	size_t		 n;

	begin(s, V_SELECT | V_IDLE);
	n = encode(buf, sizeof(buf), IOMUX_PROTO_VERSION, IOMUX_KIND_REQUEST,
	    IOMUX_OP_SET, 1, 2, a);
	raw(s, 0, buf, n / 2, n);
	run(s, RUN_1);
	op(s, OP_CLOSE, 0, 0);
	repeat(s, 1, 1, 20);
	frame(s, 1, STATUS, A_END);
	run(s, RUN_1);
	op(s, OP_CLOSE, 1, 0);
	run(s, RUN_1);
	op(s, OP_CONNECT, 0, 0);
	op(s, OP_CONNECT, 1, 0);
	frame(s, 0, PING, A_END);
	run(s, RUN_1);
	readall(s, 0);
	advance(s, MS_1000, 6);				/* idle timeout */
	readall(s, 1);
	save(s, "close");
}

/* SIGTERM's path: waits answered ESHUTDOWN, buffered requests served. */
static void
seed_stop(struct script *s)
{
	begin(s, V_POLL);
	frame(s, 0, WAIT, "w", A_END);
	frame(s, 0, PING, "behind", A_END);
	frame(s, 1, LOCK, "l", A_END);
	frame(s, 2, LOCK, "l", A_END);			/* waits */
	frame(s, 3, SUBSCRIBE, "c", A_END);
	run(s, RUN_1);
	frame(s, 1, PING, "late", A_END);
	op(s, OP_STOP, 0, 0);
	frame(s, 3, PING, "after", A_END);
	run(s, RUN_16);
	readall(s, 0);
	readall(s, 1);
	readall(s, 2);
	readall(s, 3);
	advance(s, MS_1000, 4);				/* shutdown_timeout */
	save(s, "stop");
}

/* A reload lowering the limits under buffered output and input. */
static void
seed_reload(struct script *s)
{
	begin(s, V_EPOLL | V_BIG);
	frame(s, 0, SET, "k", a_fill(1000, 'v'), A_END);
	repeat(s, 0, 1, 30);
	frame(s, 0, GET, "k", A_END);
	run(s, RUN_1);
	frame(s, 1, SET, "big", a_fill(9000, 'b'), A_END);
	op(s, OP_RELOAD, 0, 0);
	put8(s, V_BUDGET | V_TIGHT | V_MEMORY);
	run(s, RUN_16);
	readall(s, 0);
	readall(s, 1);
	frame(s, 2, SET, "k", "over-key_max-now", A_END);
	op(s, OP_RELOAD, 0, 0);
	put8(s, V_BIG | V_IDLE);
	run(s, RUN_1);
	readall(s, 2);
	save(s, "reload");
}

/*
 * client_memory_max: requests queued behind waits fill three connections'
 * input, and the one holding the most is dropped.
 */
static void
seed_client_memory(struct script *s)
{
	int	i;

	begin(s, V_POLL | V_CLIENTMEM | V_BIG);
	for (i = 0; i < 3; i++) {
		frame(s, i, WAIT, "hold", A_END);
		repeat(s, i, 1, 5);
		frame(s, i, SET, "k", a_fill(15000, 'a' + i), A_END);
	}
	run(s, RUN_16);
	readall(s, 0);
	readall(s, 1);
	readall(s, 2);
	save(s, "client-memory");
}

/* A waiter's later requests are kept unread until it is answered. */
static void
seed_blocked_tail(struct script *s)
{
	begin(s, V_SELECT | V_BUDGET);
	frame(s, 0, POP, "t", A_END);
	repeat(s, 0, 1, 50);
	frame(s, 0, INCR, "count", A_END);
	run(s, RUN_16);
	frame(s, 1, PUSH, "t", "go", A_END);
	run(s, RUN_16);
	op(s, OP_READ, 0, READ_1);
	run(s, RUN_16);
	readall(s, 0);
	readall(s, 1);
	save(s, "blocked-tail");
}

/* The output limit, and the output timeout of a reader that stopped. */
static void
seed_slow_reader(struct script *s)
{
	begin(s, V_EPOLL);
	frame(s, 0, SET, "v", a_fill(1000, 'v'), A_END);
	repeat(s, 0, 1, 200);
	frame(s, 0, GET, "v", A_END);
	run(s, RUN_16);
	repeat(s, 1, 1, 40);
	frame(s, 1, KEYS, "", A_END);
	run(s, RUN_1);
	advance(s, MS_1000, 3);				/* output_timeout */
	readall(s, 1);
	save(s, "slow-reader");
}

/* Enough keys, queues and locks for the tables to grow and shrink. */
static void
seed_many(struct script *s)
{
	begin(s, V_POLL);
	repeat(s, 0, 2, 255);
	frame(s, 0, SET, A_COUNTER, "v", A_ABSENT, A_ABSENT, A_END);
	readall(s, 0);
	frame(s, 0, KEYS, "", A_U64(0), A_U32(10), A_END);
	frame(s, 0, KEYS, "", A_U64(UINT64_C(1) << 63), A_U32(1000), A_END);
	frame(s, 0, KEYS, "\x01", A_END);
	repeat(s, 1, 2, 100);
	frame(s, 1, PUSH, A_COUNTER, "item", A_END);
	readall(s, 1);
	repeat(s, 2, 2, 100);
	frame(s, 2, TRYLOCK, A_COUNTER, A_END);
	readall(s, 2);
	repeat(s, 3, 1, 7);
	frame(s, 3, SUBSCRIBE, A_COUNTER, A_END);
	run(s, RUN_16);
	readall(s, 0);
	readall(s, 1);
	readall(s, 2);
	readall(s, 3);
	repeat(s, 0, 2, 255);
	frame(s, 0, DEL, A_COUNTER, A_END);
	readall(s, 0);
	repeat(s, 1, 2, 100);
	frame(s, 1, POP, A_COUNTER, A_END);
	readall(s, 1);
	op(s, OP_CLOSE, 2, 0);				/* 100 locks at once */
	run(s, RUN_16);
	readall(s, 0);
	readall(s, 1);
	save(s, "many");
}

/* Each kind of request with one of its first allocations failing. */
static void
seed_nomem(struct script *s)
{
	int	i;

	begin(s, V_EPOLL);
	for (i = 0; i < 4; i++) {
		op(s, OP_NOMEM, 0, 0);
		put8(s, (unsigned int)i);
		frame(s, 0, SET, "k", a_fill(600, 'v'), A_END);
		frame(s, 0, PUSH, "q", "a", "b", A_END);
		frame(s, 0, SUBSCRIBE, "c", A_END);
		frame(s, 0, PSUBSCRIBE, "c*", A_END);
		frame(s, 1, LOCK, "l", A_U64(100), A_END);
		frame(s, 2, WAIT, "w", A_U64(100), A_END);
		frame(s, 3, POP, "p", A_U64(100), A_END);
		run(s, RUN_1);
		readall(s, 0);
		frame(s, 0, PUBLISH, "c", "m", A_END);
		frame(s, 0, UNLOCK, "l", A_END);
		frame(s, 0, SET, "w", "v", A_END);
		frame(s, 0, PUSH, "p", "v", A_END);
		advance(s, MS_100, 2);
		readall(s, 0);
		readall(s, 1);
		readall(s, 2);
		readall(s, 3);
	}
	op(s, OP_NOMEM, 0, 0);
	put8(s, 0);
	op(s, OP_CONNECT, 0, 0);			/* conn_new itself */
	frame(s, 0, PING, A_END);
	run(s, RUN_1);
	readall(s, 0);
	save(s, "nomem");
}

int
main(int argc, char **argv)
{
	static struct script	s;
	int			i;

	if (argc != 2) {
		fprintf(stderr, "usage: mkcorpus DIR\n");
		return 2;
	}
	dir = argv[1];
	seed_control(&s);
	seed_kv(&s);
	seed_rules(&s);
	seed_kv_limits(&s);
	seed_wait(&s);
	seed_queue(&s);
	seed_queue_handoff(&s);
	seed_pubsub(&s);
	seed_pubsub_limits(&s);
	seed_lock(&s);
	seed_pipeline(&s);
	seed_split(&s);
	seed_frame_timeout(&s);
	for (i = 0; i < 8; i++)
		seed_bad(&s, i);
	seed_halfclose(&s);
	seed_close(&s);
	seed_stop(&s);
	seed_reload(&s);
	seed_client_memory(&s);
	seed_blocked_tail(&s);
	seed_slow_reader(&s);
	seed_many(&s);
	seed_nomem(&s);
	printf("mkcorpus: %d seeds in %s\n", nwritten, dir);
	return 0;
}
