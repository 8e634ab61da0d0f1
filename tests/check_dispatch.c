/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_dispatch.c: unit tests of daemon/dispatch.c, without sockets: the
 * opcode table that dispatch_lookup() reads, the argument counts that
 * dispatch_request() enforces before a handler runs, and the argument
 * helpers arg_u64(), arg_u32(), arg_given(), arg_name() and arg_value().
 *
 * The table is checked against the two other statements of the protocol:
 * the opcodes of proto/iomux-proto.h (as the codec names them), and
 * iomuxd-protocol(7), whose opcode list and command synopses (".Ar key Op
 * Ar ttl_ms", "No arguments.", "...") are parsed from
 * man/iomuxd-protocol.7.in. An opcode documented but missing from the
 * table, a handler nobody documented, or a minimum or maximum argument
 * count that differs from the synopsis fails here.
 *
 * Requests go through the public dispatch_request() on a struct conn that
 * has no socket: it is its server's current connection, so replies are
 * encoded into the server's scratch buffer, where the tests decode them.
 * Only handlers that reject their arguments (or need nothing of the
 * server, HELLO and PING) are run that way; what the others do is the
 * integration suites' business (check_integ_*.c).
 */

#include <sys/types.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

#include <check.h>

#include "buf.h"
#include "check-run.h"
#include "codec.h"
#include "conf.h"
#include "conn.h"
#include "dispatch.h"
#include "iomux-proto.h"
#include "server.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR	"."
#endif
#define MAN_PAGE	"man/iomuxd-protocol.7.in"

#define NOPS_MAX	64	/* room for the documented opcodes */
#define REPLY_ARGS	64	/* the most arguments a reply here carries */

/* ---- the man page --------------------------------------------------- */

/* One command as iomuxd-protocol(7) documents it. */
struct doc_op {
	uint16_t	op;
	char		name[16];
	bool		listed;		/* in the "Opcodes" list */
	bool		described;	/* has a ".It Cm NAME Pq 0x...." entry */
	int		min_args;	/* from the synopsis line */
	int		max_args;	/* IOMUX_ARGS_MAX for "..." */
	char		synopsis[128];
};

static struct doc_op	doc[NOPS_MAX];
static size_t		ndoc;

static struct doc_op *
doc_find(uint16_t op)
{
	size_t	i;

	for (i = 0; i < ndoc; i++)
		if (doc[i].op == op)
			return &doc[i];
	return NULL;
}

static struct doc_op *
doc_add(uint16_t op, const char *name)
{
	struct doc_op	*d;

	if ((d = doc_find(op)) != NULL) {
		ck_assert_msg(strcmp(d->name, name) == 0, "iomuxd-protocol(7) "
		    "names opcode 0x%04x both %s and %s", op, d->name, name);
		return d;
	}
	ck_assert_uint_lt(ndoc, NOPS_MAX);
	d = &doc[ndoc++];
	memset(d, 0, sizeof(*d));
	d->op = op;
	d->min_args = d->max_args = -1;
	ck_assert_uint_lt(strlen(name), sizeof(d->name));
	strcpy(d->name, name);
	return d;
}

/* "0x" and exactly four hex digits at p: the value, or -1. */
static long
hex4(const char *p)
{
	char	*end;
	long	 v;

	if (strncmp(p, "0x", 2) != 0)
		return -1;
	v = strtol(p + 2, &end, 16);
	return end == p + 6 ? v : -1;
}

/* An upper-case command name (ends at a space or the line's end). */
static bool
cmd_name(const char *p, char *out, size_t cap)
{
	size_t	n = 0;

	while (p[n] >= 'A' && p[n] <= 'Z')
		n++;
	if (n == 0 || n >= cap || (p[n] != '\0' && p[n] != ' '))
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/*
 * The argument counts of a synopsis line: names after .Ar are required
 * until the first Op, which makes the rest optional (mdoc nests them:
 * "Op Ar a Op Ar b" is [a [b]]); "..." repeats the last one up to the
 * frame's limit.
 */
static void
parse_synopsis(struct doc_op *d, const char *line)
{
	char	 buf[128], *tok, *save;
	bool	 opt = false, more = false;
	int	 req = 0, all = 0;

	ck_assert_uint_lt(strlen(line), sizeof(buf));
	strcpy(buf, line);
	strcpy(d->synopsis, line);
	if (strcmp(line, "No arguments.") == 0) {
		d->min_args = d->max_args = 0;
		return;
	}
	ck_assert_msg(line[0] == '.', "%s: synopsis \"%s\" is not a macro "
	    "line", d->name, line);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if (strcmp(tok, ".Ar") == 0 || strcmp(tok, "Ar") == 0)
			continue;
		if (strcmp(tok, ".Op") == 0 || strcmp(tok, "Op") == 0) {
			opt = true;
			continue;
		}
		if (strcmp(tok, "...") == 0) {
			more = true;
			continue;
		}
		ck_assert_msg(tok[0] >= 'a' && tok[0] <= 'z', "%s: synopsis "
		    "\"%s\": unexpected \"%s\"", d->name, line, tok);
		all++;
		if (!opt)
			req++;
	}
	d->min_args = req;
	d->max_args = more ? IOMUX_ARGS_MAX : all;
}

/*
 * Read the page once per test: the "Opcodes" list (".It 0x0101 Ta GET")
 * and each command's entry (".It Cm GET Pq 0x0101" and the synopsis line
 * after it).
 */
static void
doc_load(void)
{
	const char	*top;
	char		 path[4096], line[512], name[16];
	bool		 in_list = false, want_synopsis = false;
	struct doc_op	*d = NULL;
	FILE		*fp;
	size_t		 n;
	long		 op;

	ndoc = 0;
	top = getenv("top_srcdir");
	snprintf(path, sizeof(path), "%s/%s", top != NULL ? top : TOP_SRCDIR,
	    MAN_PAGE);
	fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), fp) != NULL) {
		n = strlen(line);
		ck_assert_msg(n > 0 && line[n - 1] == '\n', "%s: a line over "
		    "%zu bytes", path, sizeof(line) - 2);
		line[n - 1] = '\0';
		if (want_synopsis) {
			parse_synopsis(d, line);
			want_synopsis = false;
			continue;
		}
		if (strncmp(line, ".Ss ", 4) == 0) {
			in_list = strcmp(line, ".Ss Opcodes") == 0;
			continue;
		}
		if (in_list && strncmp(line, ".It ", 4) == 0 &&
		    (op = hex4(line + 4)) >= 0) {
			ck_assert_msg(strncmp(line + 10, " Ta ", 4) == 0 &&
			    cmd_name(line + 14, name, sizeof(name)),
			    "%s: opcode list line \"%s\"", path, line);
			doc_add((uint16_t)op, name)->listed = true;
			continue;
		}
		if (strncmp(line, ".It Cm ", 7) == 0 &&
		    cmd_name(line + 7, name, sizeof(name)) &&
		    strncmp(line + 7 + strlen(name), " Pq ", 4) == 0 &&
		    (op = hex4(line + 11 + strlen(name))) >= 0) {
			d = doc_add((uint16_t)op, name);
			ck_assert_msg(!d->described, "%s: %s described twice",
			    path, name);
			d->described = true;
			want_synopsis = true;
		}
	}
	ck_assert_msg(!ferror(fp), "read %s", path);
	fclose(fp);
	ck_assert_msg(ndoc > 0, "%s: no opcodes found (has the page's "
	    "layout changed?)", path);
}

/* ---- a connection without a socket ---------------------------------- */

static struct server	srv;
static struct conn	conn;

/*
 * key_max and value_max, in the configuration and in the hub's limits
 * alike: arg_name() and arg_value() may read either.
 */
static void
set_limits(uint32_t key_max, uint32_t value_max)
{
	srv.conf.key_max = key_max;
	srv.conf.value_max = value_max;
	srv.limits.key_max = key_max;
	srv.limits.value_max = value_max;
}

static void
setup(void)
{
	memset(&srv, 0, sizeof(srv));
	memset(&conn, 0, sizeof(conn));
	conf_defaults(&srv.conf);
	set_limits(srv.conf.key_max, srv.conf.value_max);
	srv.limits.max_memory = srv.conf.max_memory;
	buf_init(&srv.scratch, 0);
	conn.srv = &srv;
	conn.fd = -1;
	srv.current = &conn;	/* replies go to srv.scratch */
	/* uid 0 by the memset: root, admin by the default rules. */
	ck_assert_int_eq(policy_default(geteuid(), &srv.policy), 0);
	ck_assert_int_eq(ev_loop_new(NULL, 16, &srv.loop), 0);	/* its clock */
	access_conn_start(&conn);
	doc_load();
}

static void
teardown(void)
{
	access_conn_end(&conn);
	policy_unref(srv.policy);
	ev_loop_free(srv.loop);
	buf_free(&srv.scratch);
}

/* The reply reply_take() decoded; args point into frame_copy. */
static struct {
	struct proto_frame	f;
	struct proto_arg	args[REPLY_ARGS];
	char			msg[512];	/* args[0] of an error, or "" */
} rep;

static uint8_t	frame_copy[1 << 16];

/*
 * Exactly one frame must be queued: copy it to frame_copy, take it out of
 * the buffer and decode it into rep (valid until the next reply_take()).
 */
static void
reply_take(void)
{
	size_t	len = buf_len(&srv.scratch);
	int	n;

	ck_assert_msg(len > 0, "no reply queued");
	ck_assert_uint_le(len, sizeof(frame_copy));
	memcpy(frame_copy, buf_data(&srv.scratch), len);
	buf_consume(&srv.scratch, len);
	memset(&rep, 0, sizeof(rep));
	n = proto_decode(frame_copy, len, IOMUX_FRAME_MAX_CAP, &rep.f,
	    rep.args, REPLY_ARGS);
	ck_assert_msg(n > 0, "reply does not decode: %d", n);
	ck_assert_msg((size_t)n == len, "%zu bytes queued, the reply is %d: "
	    "more than one frame", len, n);
	ck_assert_uint_eq(rep.f.kind, IOMUX_KIND_REPLY);
	if (IOMUX_ST_IS_ERROR(rep.f.code)) {
		ck_assert_msg(rep.f.argc == 1 && !rep.args[0].absent,
		    "error 0x%04x with %u arguments", rep.f.code, rep.f.argc);
		ck_assert_uint_lt(rep.args[0].len, sizeof(rep.msg));
		memcpy(rep.msg, rep.args[0].p, rep.args[0].len);
		rep.msg[rep.args[0].len] = '\0';
	}
}

/* Absent arguments, as many as a request can carry and one more. */
static struct proto_arg	absent_args[IOMUX_ARGS_MAX + 1];

static void
absent_fill(void)
{
	size_t	i;

	for (i = 0; i < sizeof(absent_args) / sizeof(absent_args[0]); i++) {
		absent_args[i].p = NULL;
		absent_args[i].len = 0;
		absent_args[i].absent = true;
	}
}

/* A frame header with argc arguments. */
static struct proto_frame
frame_of(uint16_t op, uint16_t argc)
{
	struct proto_frame	f;

	memset(&f, 0, sizeof(f));
	f.version = IOMUX_PROTO_VERSION;
	f.kind = IOMUX_KIND_REQUEST;
	f.code = op;
	f.argc = argc;
	return f;
}

/* Run one request through dispatch_request() and take its reply. */
static void
request(uint16_t op, uint32_t id, uint16_t argc,
    const struct proto_arg *args)
{
	struct proto_frame	f = frame_of(op, argc);

	f.id = id;
	ck_assert_int_eq(dispatch_request(&conn, &f, args), 0);
	reply_take();
	ck_assert_msg(rep.f.id == id, "%s: reply id %u, want %u",
	    proto_op_name(op), rep.f.id, id);
}

/* The reply is dispatch's own count error for op. */
static void
expect_count_error(uint16_t op, uint16_t argc)
{
	char	not[32];

	ck_assert_msg(rep.f.code == IOMUX_ST_EARGS, "%s with %u arguments: "
	    "status 0x%04x, want EARGS", proto_op_name(op), argc, rep.f.code);
	snprintf(not, sizeof(not), ", not %u", argc);
	ck_assert_msg(strncasecmp(rep.msg, proto_op_name(op),
	    strlen(proto_op_name(op))) == 0 && strstr(rep.msg, " takes ") !=
	    NULL && strstr(rep.msg, not) != NULL, "%s with %u arguments: "
	    "\"%s\" is not the argument count error", proto_op_name(op), argc,
	    rep.msg);
}

/*
 * The count check let the request through: the handler ran and refused
 * the first absent argument itself.
 */
static void
expect_handler_ran(uint16_t op, uint16_t argc)
{
	ck_assert_msg(rep.f.code == IOMUX_ST_EARGS &&
	    strstr(rep.msg, " takes ") == NULL &&
	    strstr(rep.msg, "must not be absent") != NULL, "%s with %u "
	    "absent arguments: status 0x%04x \"%s\", want the handler's "
	    "EARGS for an absent name", proto_op_name(op), argc, rep.f.code,
	    rep.msg);
}

/* ---- the table ------------------------------------------------------ */

/*
 * The opcodes the codec names (its table is built from iomux-proto.h's
 * IOMUX_OP_* constants) are the page's, under the same names.
 */
START_TEST(test_header_matches_page)
{
	const struct doc_op	*d;
	const char		*name;
	size_t			 i, named = 0;
	uint32_t		 op;

	for (op = 0; op <= 0xffff; op++) {
		name = proto_op_name((uint16_t)op);
		d = doc_find((uint16_t)op);
		if (strcmp(name, "unknown") == 0) {
			ck_assert_msg(d == NULL, "%s (0x%04x) is documented but "
			    "not in iomux-proto.h", d != NULL ? d->name : "",
			    op);
			continue;
		}
		named++;
		ck_assert_msg(d != NULL && d->listed, "iomux-proto.h opcode "
		    "0x%04x (%s) is not in iomuxd-protocol(7)'s opcode list",
		    op, name);
		ck_assert_msg(strcasecmp(name, d->name) == 0 &&
		    proto_op_by_name(d->name) == op, "opcode 0x%04x: the page "
		    "says %s, the header %s", op, d->name, name);
	}
	for (i = 0; i < ndoc; i++) {
		ck_assert_msg(doc[i].listed, "%s (0x%04x) has an entry but is "
		    "not in the opcode list", doc[i].name, doc[i].op);
		ck_assert_msg(doc[i].described, "%s (0x%04x) is listed but "
		    "has no entry with its arguments", doc[i].name,
		    doc[i].op);
	}
	ck_assert_uint_eq(ndoc, named);
}
END_TEST

/*
 * Every one of the 65536 opcodes: a handler exactly for the documented
 * ones, each in its own slot.
 */
START_TEST(test_lookup_every_opcode)
{
	const struct handler	*h;
	const struct doc_op	*d;
	size_t			 found = 0;
	uint32_t		 op;

	for (op = 0; op <= 0xffff; op++) {
		h = dispatch_lookup((uint16_t)op);
		d = doc_find((uint16_t)op);
		if (d == NULL) {
			ck_assert_msg(h == NULL, "opcode 0x%04x has a handler "
			    "but is not in iomuxd-protocol(7)", op);
			continue;
		}
		ck_assert_msg(h != NULL, "%s (0x%04x) is documented but "
		    "dispatch_lookup() does not know it", d->name, op);
		ck_assert_msg(h->op == op, "the slot of 0x%04x holds the "
		    "handler of 0x%04x", op, h->op);
		ck_assert_ptr_nonnull(h->fn);
		ck_assert_uint_le(h->min_args, h->max_args);
		ck_assert_uint_le(h->max_args, IOMUX_ARGS_MAX);
		found++;
	}
	ck_assert_uint_eq(found, ndoc);
}
END_TEST

/*
 * The edges of the ranges: where a lookup that masked instead of
 * bounds-checking, or indexed past a range's table, would find a handler.
 */
START_TEST(test_lookup_edges)
{
	static const uint16_t	 unknown[] = {
		0x0000, 0x0005, 0x001f, 0x0020, 0x0021, 0x0022, 0x00ff,
		0x0100, 0x010b, 0x011f, 0x0120, 0x0121, 0x01ff,
		0x0200, 0x0205, 0x0221, 0x0300, 0x0306, 0x0321,
		0x0400, 0x0404, 0x0421,
		0x0500, 0x0501, 0x0502, 0x0601, 0x0801, 0x1001, 0x8001,
		0xff01, 0xfffe, 0xffff, 0x7e7e,
	};
	size_t			 i;
	uint16_t		 op;

	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		ck_assert_msg(doc_find(unknown[i]) == NULL, "0x%04x is "
		    "documented now: update this list", unknown[i]);
		ck_assert_msg(dispatch_lookup(unknown[i]) == NULL, "opcode "
		    "0x%04x: a handler", unknown[i]);
	}
	/*
	 * Each documented opcode's low byte in the range past the last one
	 * and one table length higher in its own: what it would alias to.
	 */
	for (i = 0; i < ndoc; i++) {
		op = doc[i].op;
		ck_assert_uint_lt(op >> 8, DISPATCH_RANGES);
		ck_assert_uint_lt(op & 0xff, DISPATCH_RANGE_OPS);
		ck_assert_msg(dispatch_lookup((DISPATCH_RANGES << 8) |
		    (op & 0xff)) == NULL, "0x%04x: a handler (aliases %s)",
		    (DISPATCH_RANGES << 8) | (op & 0xff), doc[i].name);
		ck_assert_msg(dispatch_lookup(op + DISPATCH_RANGE_OPS) == NULL,
		    "0x%04x: a handler (aliases %s)", op + DISPATCH_RANGE_OPS,
		    doc[i].name);
	}
}
END_TEST

/* Each handler's counts are its synopsis's, and the header's limits. */
START_TEST(test_counts_match_page)
{
	const struct handler	*h;
	const struct doc_op	*d;
	size_t			 i;

	for (i = 0; i < ndoc; i++) {
		d = &doc[i];
		h = dispatch_lookup(d->op);
		ck_assert_msg(h != NULL, "%s (0x%04x): no handler", d->name,
		    d->op);
		ck_assert_msg(d->min_args >= 0, "%s: no synopsis parsed",
		    d->name);
		ck_assert_msg(h->min_args == d->min_args &&
		    h->max_args == d->max_args, "%s: the table takes %u to %u "
		    "arguments, iomuxd-protocol(7) says %d to %d (\"%s\")",
		    d->name, h->min_args, h->max_args, d->min_args,
		    d->max_args, d->synopsis);
	}
	/* PUSH: a queue name and at most IOMUX_PUSH_VALUES_MAX values. */
	h = dispatch_lookup(IOMUX_OP_PUSH);
	ck_assert_uint_eq(h->max_args, 1 + IOMUX_PUSH_VALUES_MAX);
}
END_TEST

/* ---- dispatch_request() --------------------------------------------- */

START_TEST(test_request_unknown)
{
	static const uint16_t	 ops[] = {
		0x0000, 0x0005, 0x00ff, 0x0120, 0x0500, 0x7e7e, 0xffff,
	};
	char			 want[64];
	uint64_t		 n0;
	size_t			 i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		n0 = srv.stats.requests_unknown;
		request(ops[i], 100 + (uint32_t)i, 0, NULL);
		ck_assert_uint_eq(rep.f.code, IOMUX_ST_EUNKNOWN);
		/* The message of iomuxd-protocol(7)'s example. */
		snprintf(want, sizeof(want), "unknown opcode 0x%04x", ops[i]);
		ck_assert_str_eq(rep.msg, want);
		ck_assert_uint_eq(srv.stats.requests_unknown, n0 + 1);
	}
	ck_assert_uint_eq(srv.stats.requests, i);
}
END_TEST

/*
 * One argument too few and one too many get dispatch's EARGS before any
 * handler runs; the counts at the bounds reach the handler (which then
 * refuses the absent name: it was given no real arguments).
 */
START_TEST(test_request_counts)
{
	const struct handler	*h;
	size_t			 i;
	uint16_t		 op;

	absent_fill();
	for (i = 0; i < ndoc; i++) {
		op = doc[i].op;
		h = dispatch_lookup(op);
		ck_assert_ptr_nonnull(h);
		if (h->min_args > 0) {
			request(op, 1, h->min_args - 1, absent_args);
			expect_count_error(op, h->min_args - 1);
		}
		request(op, 2, h->max_args + 1, absent_args);
		expect_count_error(op, h->max_args + 1);
		if (op >> 8 == 0)
			continue;	/* control: below, with real arguments */
		if (h->min_args > 0) {
			request(op, 3, h->min_args, absent_args);
			expect_handler_ran(op, h->min_args);
		}
		request(op, 4, h->max_args, absent_args);
		expect_handler_ran(op, h->max_args);
	}
}
END_TEST

/* HELLO and PING need only the configuration: run them at the bounds. */
START_TEST(test_request_control)
{
	static const uint8_t	 v1[4] = { 0, 0, 0, 1 };
	struct proto_arg	 a[4];
	char			 frame_max[32];
	bool			 seen = false;
	uint16_t		 k;

	memset(a, 0, sizeof(a));
	a[0].p = v1;
	a[0].len = 4;
	a[1].p = (const uint8_t *)"check_dispatch";
	a[1].len = 14;
	a[2].p = (const uint8_t *)"x";
	a[2].len = 1;
	a[3] = a[2];

	/* HELLO version [name [token]]: 1 and 2 arguments are answered. */
	request(IOMUX_OP_HELLO, 10, 1, a);
	ck_assert_uint_eq(rep.f.code, IOMUX_ST_OK);
	snprintf(frame_max, sizeof(frame_max), "%u", srv.conf.frame_max);
	for (k = 0; k + 1 < rep.f.argc; k += 2)
		if (rep.args[k].len == 9 &&
		    memcmp(rep.args[k].p, "frame_max", 9) == 0) {
			ck_assert_uint_eq(rep.args[k + 1].len,
			    strlen(frame_max));
			ck_assert_mem_eq(rep.args[k + 1].p, frame_max,
			    strlen(frame_max));
			seen = true;
		}
	ck_assert_msg(seen, "HELLO reply without frame_max");
	request(IOMUX_OP_HELLO, 11, 2, a);
	ck_assert_uint_eq(rep.f.code, IOMUX_ST_OK);
	request(IOMUX_OP_HELLO, 12, 0, a);
	expect_count_error(IOMUX_OP_HELLO, 0);
	/* A third is a token; this server has none, so it is wrong. */
	request(IOMUX_OP_HELLO, 13, 3, a);
	ck_assert_uint_eq(rep.f.code, IOMUX_ST_EDENIED);
	request(IOMUX_OP_HELLO, 14, 4, a);
	expect_count_error(IOMUX_OP_HELLO, 4);

	/* PING [data]: none back for none, the argument for one. */
	request(IOMUX_OP_PING, 20, 0, a);
	ck_assert_uint_eq(rep.f.code, IOMUX_ST_OK);
	ck_assert_uint_eq(rep.f.argc, 0);
	request(IOMUX_OP_PING, 21, 1, &a[1]);
	ck_assert_uint_eq(rep.f.code, IOMUX_ST_OK);
	ck_assert_uint_eq(rep.f.argc, 1);
	ck_assert_uint_eq(rep.args[0].len, 14);
	ck_assert_mem_eq(rep.args[0].p, "check_dispatch", 14);
	request(IOMUX_OP_PING, 22, 2, a);
	expect_count_error(IOMUX_OP_PING, 2);

	/* STATUS takes nothing (its reply needs a whole server). */
	request(IOMUX_OP_STATUS, 30, 1, a);
	expect_count_error(IOMUX_OP_STATUS, 1);
	ck_assert_uint_eq(srv.stats.requests, 9);
	ck_assert_uint_eq(srv.stats.requests_unknown, 0);
}
END_TEST

/* ---- argument helpers ----------------------------------------------- */

/* A reply as dispatch_request() sets it up for a request of op. */
static struct reply
reply_for(uint16_t op, uint32_t id)
{
	struct reply	r;

	memset(&r, 0, sizeof(r));
	r.c = &conn;
	r.id = id;
	r.op = op;
	return r;
}

/* The helper replied an error: finish it and check status and message. */
static void
expect_helper_error(struct reply *r, uint16_t st, const char *const *has)
{
	ck_assert_msg(r->begun, "no reply begun for a refused argument");
	ck_assert_int_eq(reply_end(r), 0);
	reply_take();
	ck_assert_uint_eq(rep.f.id, r->id);
	ck_assert_msg(rep.f.code == st, "status 0x%04x, want 0x%04x (\"%s\")",
	    rep.f.code, st, rep.msg);
	for (; *has != NULL; has++)
		ck_assert_msg(strstr(rep.msg, *has) != NULL, "message \"%s\" "
		    "lacks \"%s\"", rep.msg, *has);
}

/* arg_u64() (width 8) or arg_u32() (width 4), the value widened. */
static int
arg_int(unsigned width, struct reply *r, const struct proto_frame *f,
    const struct proto_arg *a, int idx, uint64_t dflt, const char *what,
    uint64_t *out)
{
	uint32_t	v32;
	int		ret;

	if (width == 8)
		return arg_u64(r, f, a, idx, dflt, what, out);
	ret = arg_u32(r, f, a, idx, (uint32_t)dflt, what, &v32);
	if (ret == 0)
		*out = v32;
	return ret;
}

/*
 * An integer argument of this width: absent or past argc, the default and
 * no reply; exactly width bytes, read big-endian; any other length, EARGS
 * naming the command, the argument and the width.
 */
static void
check_int_arg(unsigned width, uint16_t op, const char *what)
{
	static const uint8_t	 be[17] = {
		0x81, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
	};
	static const uint8_t	 ones[8] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	struct proto_arg	 a[3];
	struct proto_frame	 f = frame_of(op, 3);
	struct reply		 r;
	const char		*has[4];
	char			 word[16];
	uint64_t		 v, want = 0;
	uint32_t		 len;
	unsigned		 k;

	memset(a, 0, sizeof(a));
	a[0].absent = true;
	a[1].p = be;
	a[1].len = width;
	a[2].p = ones;
	a[2].len = width;
	for (k = 0; k < width; k++)
		want = want << 8 | be[k];

	r = reply_for(op, 1);
	ck_assert_int_eq(arg_int(width, &r, &f, a, 0, 42, what, &v), 0);
	ck_assert_uint_eq(v, 42);
	ck_assert_int_eq(arg_int(width, &r, &f, a, 3, 7, what, &v), 0);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(arg_int(width, &r, &f, a, 1, 0, what, &v), 0);
	ck_assert_uint_eq(v, want);
	ck_assert_int_eq(arg_int(width, &r, &f, a, 2, 0, what, &v), 0);
	ck_assert_uint_eq(v, width == 8 ? UINT64_MAX : UINT32_MAX);
	ck_assert(!r.begun);
	ck_assert_uint_eq(buf_len(&srv.scratch), 0);

	snprintf(word, sizeof(word), "%u-byte", width);
	has[0] = proto_op_name(op);
	has[1] = what;
	has[2] = word;
	has[3] = NULL;
	for (len = 0; len < sizeof(be); len++) {
		if (len == width)
			continue;
		a[1].len = len;
		r = reply_for(op, 100 + len);
		ck_assert_int_eq(arg_int(width, &r, &f, a, 1, 0, what, &v),
		    -EINVAL);
		expect_helper_error(&r, IOMUX_ST_EARGS, has);
	}
}

START_TEST(test_arg_u64)
{
	check_int_arg(8, IOMUX_OP_SET, "the ttl");
}
END_TEST

START_TEST(test_arg_u32)
{
	check_int_arg(4, IOMUX_OP_KEYS, "the limit");
}
END_TEST

START_TEST(test_arg_given)
{
	struct proto_arg	a[3];
	struct proto_frame	f = frame_of(IOMUX_OP_SET, 2);

	memset(a, 0, sizeof(a));
	a[0].p = (const uint8_t *)"";
	a[0].len = 0;		/* empty is given */
	a[1].absent = true;
	a[2].p = (const uint8_t *)"x";	/* past argc: not given */
	a[2].len = 1;
	ck_assert(arg_given(&f, a, 0));
	ck_assert(!arg_given(&f, a, 1));
	ck_assert(!arg_given(&f, a, 2));
	ck_assert(!arg_given(&f, a, 1000));
}
END_TEST

/*
 * arg_name() (held to key_max) or arg_value() (value_max), under these
 * limits: every length from 0 to the limit passes without a reply (a
 * value longer than key_max too); one byte more, or more than both limits,
 * is ELIMIT naming the limit and the numbers; absent is EARGS.
 */
static void
check_bytes_arg(bool name, uint16_t op, const char *what, uint32_t key_max,
    uint32_t value_max)
{
	struct proto_arg	 a;
	struct reply		 r;
	const char		*over_has[6], *absent_has[4];
	char			 over[16], limit[16];
	uint8_t			*bytes;
	uint32_t		 max = name ? key_max : value_max, len;
	int			 ret, k;

	set_limits(key_max, value_max);
	bytes = malloc((size_t)key_max + value_max + 1);
	ck_assert_ptr_nonnull(bytes);
	memset(bytes, 'b', (size_t)key_max + value_max + 1);
	memset(&a, 0, sizeof(a));
	a.p = bytes;
	r = reply_for(op, 1);
	for (len = 0; len <= max; len++) {
		a.len = len;
		ret = name ? arg_name(&r, &a, what) : arg_value(&r, &a, what);
		ck_assert_msg(ret == 0, "%s of %u bytes refused (%s %u)", what,
		    len, name ? "key_max" : "value_max", max);
	}
	ck_assert(!r.begun);

	snprintf(limit, sizeof(limit), "%u", max);
	over_has[0] = proto_op_name(op);
	over_has[1] = what;
	over_has[2] = name ? "key_max" : "value_max";
	over_has[3] = over;
	over_has[4] = limit;
	over_has[5] = NULL;
	for (k = 0; k < 2; k++) {
		a.len = k == 0 ? max + 1 : key_max + value_max + 1;
		snprintf(over, sizeof(over), "%u", a.len);
		r = reply_for(op, 2 + (uint32_t)k);
		ret = name ? arg_name(&r, &a, what) : arg_value(&r, &a, what);
		ck_assert_int_eq(ret, -EINVAL);
		expect_helper_error(&r, IOMUX_ST_ELIMIT, over_has);
	}

	absent_has[0] = proto_op_name(op);
	absent_has[1] = what;
	absent_has[2] = "must not be absent";
	absent_has[3] = NULL;
	a.p = NULL;
	a.len = 0;
	a.absent = true;
	r = reply_for(op, 4);
	ret = name ? arg_name(&r, &a, what) : arg_value(&r, &a, what);
	ck_assert_int_eq(ret, -EINVAL);
	expect_helper_error(&r, IOMUX_ST_EARGS, absent_has);
	free(bytes);
}

/* Names and values under small limits, then under the defaults. */
START_TEST(test_arg_name_value)
{
	struct conf	def;

	check_bytes_arg(true, IOMUX_OP_LOCK, "lock name", 16, 1000);
	check_bytes_arg(false, IOMUX_OP_PUBLISH, "message", 16, 1000);
	conf_defaults(&def);
	check_bytes_arg(true, IOMUX_OP_GET, "key", def.key_max,
	    def.value_max);
	check_bytes_arg(false, IOMUX_OP_PUSH, "value", def.key_max,
	    def.value_max);
}
END_TEST

/* A helper's error replaces a reply already begun: one frame goes out. */
START_TEST(test_error_replaces_reply)
{
	static const char *const has[] = { "set", "the flags", NULL };
	struct proto_arg	 a[1];
	struct proto_frame	 f = frame_of(IOMUX_OP_SET, 1);
	struct reply		 r;
	uint32_t		 v;

	memset(a, 0, sizeof(a));
	a[0].p = (const uint8_t *)"abc";
	a[0].len = 3;
	r = reply_for(IOMUX_OP_SET, 90);
	reply_begin(&r, IOMUX_ST_OK);
	reply_str(&r, "partial");
	reply_u64(&r, 1);
	ck_assert_int_eq(arg_u32(&r, &f, a, 0, 0, "the flags", &v), -EINVAL);
	expect_helper_error(&r, IOMUX_ST_EARGS, has);
}
END_TEST

static Suite *
dispatch_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("dispatch");

	tc = tcase_create("table");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_header_matches_page);
	tcase_add_test(tc, test_lookup_every_opcode);
	tcase_add_test(tc, test_lookup_edges);
	tcase_add_test(tc, test_counts_match_page);
	suite_add_tcase(s, tc);

	tc = tcase_create("request");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_request_unknown);
	tcase_add_test(tc, test_request_counts);
	tcase_add_test(tc, test_request_control);
	suite_add_tcase(s, tc);

	tc = tcase_create("args");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_arg_u64);
	tcase_add_test(tc, test_arg_u32);
	tcase_add_test(tc, test_arg_given);
	tcase_add_test(tc, test_arg_name_value);
	tcase_add_test(tc, test_error_replaces_reply);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(dispatch_suite());
}
