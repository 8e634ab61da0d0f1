/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_parser.c: unit tests for cli/parser.c, iomuxctl's command table
 * and option parser, linked alone (it prints nothing and connects to
 * nothing).
 *
 * The expected table below is written out again rather than read from
 * parser.c, so that a changed row (a command's name, action or argument
 * counts: what scripts and iomuxctl(1) rely on) fails here on purpose.
 * The cases cover every command's argument shapes, the common and the
 * per-command options with and without values, options mixed with
 * positionals, "--", "-" and negative numbers, the lock command's
 * hand-over of its tail, the number parsers' bounds and rounding, and the
 * exact error sentences iomuxctl prints.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check-run.h"
#include "parser.h"

#define ANY	PARSE_ARGS_ANY
#define SECS_MAX	UINT64_C(3153600000)	/* 100 years, in seconds */

/* What iomuxctl(1) documents for each command, in help order. */
static const struct {
	const char	*name;
	enum action	 action;
	unsigned int	 min_args, max_args;
} expect[] = {
	{ "status", ACT_STATUS, 0, 0 },
	{ "ping", ACT_PING, 0, 1 },
	{ "version", ACT_VERSION, 0, 0 },
	{ "whoami", ACT_WHOAMI, 0, 0 },
	{ "get", ACT_GET, 1, 1 },
	{ "set", ACT_SET, 2, 2 },
	{ "del", ACT_DEL, 1, 1024 },
	{ "exists", ACT_EXISTS, 1, 1024 },
	{ "incr", ACT_INCR, 1, 2 },
	{ "keys", ACT_KEYS, 0, 1 },
	{ "ttl", ACT_TTL, 1, 1 },
	{ "expire", ACT_EXPIRE, 2, 2 },
	{ "persist", ACT_PERSIST, 1, 1 },
	{ "wait", ACT_WAIT, 1, 1 },
	/* Any number: iomuxctl counts push's values itself, in those terms. */
	{ "push", ACT_PUSH, 2, ANY },
	{ "pop", ACT_POP, 1, 1 },
	{ "qlen", ACT_QLEN, 1, 1 },
	{ "peek", ACT_PEEK, 1, 1 },
	{ "pub", ACT_PUB, 2, 2 },
	{ "sub", ACT_SUB, 1, 1024 },
	{ "lock", ACT_LOCK, 2, ANY },
	{ "unlock", ACT_UNLOCK, 1, 1 },
	{ "help", ACT_HELP, 0, 0 },
};
#define NEXPECT	(sizeof(expect) / sizeof(expect[0]))
#define NCASES(a)	((int)(sizeof(a) / sizeof(a[0])))

/* Words of the command line being parsed; the parser reorders them. */
#define WORDS_MAX	1100
static char		*words[WORDS_MAX + 1];
static int		 nwords;
static char		 line_copy[16384];
static struct parse_result	res;
static char		 err[256];

/* Split 'line' at spaces into words[] (no quoting: tests need none). */
static void
split(const char *line)
{
	char	*p;

	ck_assert_uint_lt(strlen(line), sizeof(line_copy));
	strcpy(line_copy, line);
	nwords = 0;
	for (p = strtok(line_copy, " "); p != NULL; p = strtok(NULL, " ")) {
		ck_assert_int_lt(nwords, WORDS_MAX);
		words[nwords++] = p;
	}
	words[nwords] = NULL;
}

/* Parse a command line; returns parser_parse()'s result. */
static int
parse(const char *line)
{
	split(line);
	err[0] = '\0';
	return parser_parse(nwords, words, &res, err, sizeof(err));
}

#define PARSE_OK(line)	do {						\
	ck_assert_msg(parse(line) == 0, "'%s': %s", (line), err);	\
} while (0)

/* The line fails with exactly this message. */
#define PARSE_ERR(line, msg)	do {					\
	ck_assert_int_eq(parse(line), -EINVAL);				\
	ck_assert_str_eq(err, (msg));					\
} while (0)

/* The positional arguments after parsing, space-separated. */
static const char *
positionals(void)
{
	static char	buf[4096];
	size_t		n = 0;
	int		i;

	buf[0] = '\0';
	for (i = 0; i < res.argc; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
		    i > 0 ? " " : "", res.argv[i]);
	/* Still NULL-terminated, for lock's execvp(3). */
	ck_assert_ptr_null(res.argv[res.argc]);
	return buf;
}

START_TEST(test_lookup)
{
	const struct command	*c;
	size_t			 i;

	for (i = 0; i < NEXPECT; i++) {
		c = parser_lookup(expect[i].name);
		ck_assert_ptr_nonnull(c);
		ck_assert_str_eq(c->name, expect[i].name);
		ck_assert_int_eq(c->action, expect[i].action);
		ck_assert_uint_eq(c->min_args, expect[i].min_args);
		ck_assert_uint_eq(c->max_args, expect[i].max_args);
		ck_assert_ptr_nonnull(c->help);
	}
	/* Exact names only: a new command must not change old scripts. */
	ck_assert_ptr_null(parser_lookup("stat"));
	ck_assert_ptr_null(parser_lookup("statuses"));
	ck_assert_ptr_null(parser_lookup("STATUS"));
	ck_assert_ptr_null(parser_lookup(""));
	ck_assert_ptr_null(parser_lookup("--json"));
}
END_TEST

START_TEST(test_no_command)
{
	char	*none[1] = { NULL };

	ck_assert_int_eq(parser_parse(0, none, &res, err, sizeof(err)),
	    -EINVAL);
	ck_assert_str_eq(err, "no command given");
	/* No buffer for the message is fine. */
	split("nope");
	ck_assert_int_eq(parser_parse(nwords, words, &res, NULL, 0), -EINVAL);
	/* A short buffer gets a cut, terminated message. */
	split("frobnicate");
	ck_assert_int_eq(parser_parse(nwords, words, &res, err, 8), -EINVAL);
	ck_assert_str_eq(err, "unknown");
}
END_TEST

/*
 * Each command with its minimum and maximum number of positionals, and
 * one off either side (50 for lock's unbounded maximum).
 */
START_TEST(test_arg_counts)
{
	const struct command	*c = parser_lookup(expect[_i].name);
	char			 line[8192], want_err[128], last[16];
	unsigned int		 counts[4], want, j, k;
	size_t			 n;

	ck_assert_ptr_nonnull(c);
	counts[0] = expect[_i].min_args;
	counts[1] = expect[_i].min_args - 1;	/* skipped below at 0 */
	counts[2] = expect[_i].max_args;	/* skipped below if ANY */
	counts[3] = expect[_i].max_args == ANY ? 50 :
	    expect[_i].max_args + 1;
	for (k = 0; k < 4; k++) {
		want = counts[k];
		if ((k == 1 && expect[_i].min_args == 0) ||
		    (k == 2 && expect[_i].max_args == ANY))
			continue;
		n = (size_t)snprintf(line, sizeof(line), "%s",
		    expect[_i].name);
		for (j = 0; j < want; j++)
			n += (size_t)snprintf(line + n, sizeof(line) - n,
			    " a%u", j);
		if (k == 1) {
			snprintf(want_err, sizeof(want_err), "%s: missing "
			    "argument (usage: %s %s)", c->name, c->name,
			    c->args != NULL ? c->args : "");
			PARSE_ERR(line, want_err);
			continue;
		}
		if (k == 3 && expect[_i].max_args != ANY) {
			snprintf(want_err, sizeof(want_err), "%s: too many "
			    "arguments", c->name);
			PARSE_ERR(line, want_err);
			continue;
		}
		PARSE_OK(line);
		ck_assert_ptr_eq(res.cmd, c);
		ck_assert_int_eq(res.argc, (int)want);
		if (want == 0)
			continue;
		snprintf(last, sizeof(last), "a%u", want - 1);
		ck_assert_str_eq(res.argv[0], "a0");
		ck_assert_str_eq(res.argv[want - 1], last);
		ck_assert_ptr_null(res.argv[want]);
	}
}
END_TEST

/* --json and -q go with every command, anywhere among its words. */
START_TEST(test_common_options)
{
	char	line[256];

	snprintf(line, sizeof(line), "%s --json -q%s", expect[_i].name,
	    expect[_i].min_args >= 2 ? " a b" :
	    expect[_i].min_args == 1 ? " a" : "");
	PARSE_OK(line);
	ck_assert_int_eq(res.opt[POPT_JSON].set, 1);
	ck_assert_int_eq(res.opt[POPT_QUIET].set, 1);
	ck_assert_int_eq(res.argc, (int)expect[_i].min_args);
}
END_TEST

/*
 * A line that parses, and one option's slot after it: set or not, and
 * (NUM_ANY: a flag, or not checked) its value.
 */
#define NUM_ANY		UINT64_C(0xdeadbeef)
static const struct {
	const char	*line;
	enum parse_opt	 opt;
	int		 set;
	uint64_t	 num;
} option_cases[] = {
	{ "get k --quiet", POPT_QUIET, 1, NUM_ANY },
	{ "get k --quiet", POPT_JSON, 0, NUM_ANY },
	{ "ping", POPT_COUNT, 0, NUM_ANY },
	{ "ping", POPT_INTERVAL, 0, NUM_ANY },
	{ "ping -c 3", POPT_COUNT, 1, 3 },
	{ "ping -c7", POPT_COUNT, 1, 7 },
	{ "ping --count 11", POPT_COUNT, 1, 11 },
	{ "ping --count=12 data", POPT_COUNT, 1, 12 },
	/* A flag, then an option taking the rest of the word. */
	{ "ping -qc4", POPT_QUIET, 1, NUM_ANY },
	{ "ping -qc4", POPT_COUNT, 1, 4 },
	{ "ping -c 2 -c 5", POPT_COUNT, 1, 5 },	/* the last one wins */
	{ "ping -c 1000000", POPT_COUNT, 1, 1000000 },
	{ "ping -i 0.5 -c 2 hi", POPT_INTERVAL, 1, 500 },
	{ "ping -i 0", POPT_INTERVAL, 1, 0 },
	{ "ping -i 3600", POPT_INTERVAL, 1, 3600000 },
	{ "get -n k", POPT_NO_NEWLINE, 1, NUM_ANY },
	{ "peek --no-newline q", POPT_NO_NEWLINE, 1, NUM_ANY },
	{ "set --ttl 1.5 --nx --keep-ttl k v", POPT_TTL, 1, 1500 },
	{ "set --ttl 1.5 --nx --keep-ttl k v", POPT_NX, 1, NUM_ANY },
	{ "set --ttl 1.5 --nx --keep-ttl k v", POPT_XX, 0, NUM_ANY },
	{ "set --ttl 1.5 --nx --keep-ttl k v", POPT_KEEP_TTL, 1, NUM_ANY },
	{ "set --ttl 0.0001 k v", POPT_TTL, 1, 1 },	/* rounded up */
	/* Contradictions are main()'s business, not the parser's. */
	{ "set --nx --xx k v", POPT_NX, 1, NUM_ANY },
	{ "set --nx --xx k v", POPT_XX, 1, NUM_ANY },
	{ "set k v --if-equals=", POPT_IF_EQUALS, 1, NUM_ANY },
	{ "keys --limit 1 pre", POPT_LIMIT, 1, 1 },
	{ "keys --limit 1000 pre", POPT_LIMIT, 1, 1000 },
	{ "wait k --timeout 2 -n", POPT_TIMEOUT, 1, 2000 },
	{ "wait k --timeout 2 -n", POPT_NO_NEWLINE, 1, NUM_ANY },
	{ "pop q --timeout 0", POPT_TIMEOUT, 1, 0 },	/* does not wait */
	{ "pop q --timeout=.5", POPT_TIMEOUT, 1, 500 },
	{ "pop q --timeout 007", POPT_TIMEOUT, 1, 7000 },
	{ "pop q --timeout 3153600000", POPT_TIMEOUT, 1, SECS_MAX * 1000 },
	{ "pop q --timeout forever", POPT_TIMEOUT, 1, PARSE_FOREVER },
	{ "lock --lease 30 name true", POPT_LEASE, 1, 30000 },
	/* The same letter, another meaning: sub's -c counts messages. */
	{ "sub -p -c 5 news*", POPT_PATTERN, 1, NUM_ANY },
	{ "sub -p -c 5 news*", POPT_MESSAGES, 1, 5 },
	{ "sub -p -c 5 news*", POPT_COUNT, 0, NUM_ANY },
	{ "sub --count=2 --pattern --timeout 0 a* b*", POPT_MESSAGES, 1, 2 },
	{ "sub -c 18446744073709551609 ch", POPT_MESSAGES, 1,
	    UINT64_C(18446744073709551609) },
	{ "ping --count 1", POPT_MESSAGES, 0, NUM_ANY },
	/* After "--", or in lock's command, an option is data. */
	{ "get -- --json", POPT_JSON, 0, NUM_ANY },
	{ "get -q -- k", POPT_QUIET, 1, NUM_ANY },
	{ "lock name sh -c exit --json", POPT_JSON, 0, NUM_ANY },
	{ "lock --timeout 5 -q name make -j4", POPT_TIMEOUT, 1, 5000 },
	{ "lock --timeout 5 -q name make -j4", POPT_QUIET, 1, NUM_ANY },
	{ "lock name --lease 2 cmd --lease 3", POPT_LEASE, 1, 2000 },
};

START_TEST(test_options)
{
	const struct parse_value	*v;

	PARSE_OK(option_cases[_i].line);
	v = &res.opt[option_cases[_i].opt];
	ck_assert_int_eq(v->set, option_cases[_i].set);
	if (v->set && option_cases[_i].num != NUM_ANY)
		ck_assert_uint_eq(v->num, option_cases[_i].num);
}
END_TEST

/* An option's value is kept as given, whatever its type. */
START_TEST(test_option_strings)
{
	PARSE_OK("ping -c 3");
	ck_assert_str_eq(res.opt[POPT_COUNT].str, "3");
	PARSE_OK("set k v --if-equals old");
	ck_assert_str_eq(res.opt[POPT_IF_EQUALS].str, "old");
	PARSE_OK("set k v --if-equals=");
	ck_assert_str_eq(res.opt[POPT_IF_EQUALS].str, "");
	PARSE_OK("set k v --if-equals=a=b");
	ck_assert_str_eq(res.opt[POPT_IF_EQUALS].str, "a=b");
	PARSE_OK("pop q --timeout forever");
	ck_assert_str_eq(res.opt[POPT_TIMEOUT].str, "forever");
}
END_TEST

/* A line that fails, and the sentence iomuxctl prints for it. */
static const struct {
	const char	*line;
	const char	*err;
} error_cases[] = {
	{ "frobnicate", "unknown command 'frobnicate'" },
	{ "Get k", "unknown command 'Get'" },
	/* Options go after the command (main() takes the global ones). */
	{ "--json status", "unknown command '--json'" },
	/* Arguments. */
	{ "get", "get: missing argument (usage: get KEY)" },
	{ "set k", "set: missing argument (usage: set KEY VALUE|-)" },
	{ "expire k", "expire: missing argument (usage: expire KEY SECS)" },
	{ "push q", "push: missing argument (usage: push QUEUE VALUE...|-)" },
	{ "lock name", "lock: missing argument (usage: lock NAME [--] "
	    "COMMAND [ARG...])" },
	{ "status now", "status: too many arguments" },
	{ "help me", "help: too many arguments" },
	{ "whoami alice", "whoami: too many arguments" },
	/* The global --token-file is main()'s, not a command's. */
	{ "whoami --token-file f", "whoami: unknown option '--token-file'" },
	{ "ping a b", "ping: too many arguments" },
	{ "incr n 1 2", "incr: too many arguments" },
	/* Unknown options: no unique prefixes, no case folding. */
	{ "status --nope", "status: unknown option '--nope'" },
	{ "status --nope=3", "status: unknown option '--nope'" },
	{ "status -x", "status: unknown option '-x'" },
	{ "status -qx", "status: unknown option '-x'" },
	{ "status ---x", "status: unknown option '---x'" },
	{ "ping --coun 3", "ping: unknown option '--coun'" },
	{ "status --js", "status: unknown option '--js'" },
	{ "status --JSON", "status: unknown option '--JSON'" },
	{ "ping -C 3", "ping: unknown option '-C'" },
	{ "set k -v", "set: unknown option '-v'" },
	{ "lock name --nope cmd", "lock: unknown option '--nope'" },
	/* Another command's option is unknown here. */
	{ "get --ttl 5 k", "get: unknown option '--ttl'" },
	{ "status -c 3", "status: unknown option '-c'" },
	{ "pop q --nx", "pop: unknown option '--nx'" },
	{ "sub c -i 1", "sub: unknown option '-i'" },
	{ "set k v -p", "set: unknown option '-p'" },
	/* Flags take no value, the others need one. */
	{ "status --json=yes", "status: option '--json' takes no value" },
	{ "status --quiet=1", "status: option '--quiet' takes no value" },
	{ "ping -c", "ping: option '-c' needs a value (N)" },
	{ "ping --count", "ping: option '--count' needs a value (N)" },
	{ "pop q --timeout", "pop: option '--timeout' needs a value (SECS)" },
	{ "set k v --if-equals", "set: option '--if-equals' needs a value "
	    "(VALUE)" },
	/* A value may start with '-': it is taken, then checked. */
	{ "ping -c -1", "ping: invalid count '-1' (expected 1..1000000)" },
	{ "ping -cq", "ping: invalid count 'q' (expected 1..1000000)" },
	{ "ping --count=", "ping: invalid count '' (expected 1..1000000)" },
	/* Bounds. */
	{ "ping -c 0", "ping: invalid count '0' (expected 1..1000000)" },
	{ "ping -c 1000001", "ping: invalid count '1000001' (expected "
	    "1..1000000)" },
	{ "ping -i 3600.001", "ping: invalid interval '3600.001' (expected "
	    "seconds, at most 3600)" },
	{ "keys --limit 0", "keys: invalid limit '0' (expected 1..1000)" },
	{ "keys --limit 1001", "keys: invalid limit '1001' (expected "
	    "1..1000)" },
	/* TTLs and leases must be above 0; "forever" is for timeouts. */
	{ "set --ttl 0 k v", "set: invalid ttl '0' (expected seconds above 0, "
	    "at most 3153600000)" },
	{ "lock --lease 0 l true", "lock: invalid lease '0' (expected seconds "
	    "above 0, at most 3153600000)" },
	{ "set --ttl forever k v", "set: invalid ttl 'forever' (expected "
	    "seconds above 0, at most 3153600000)" },
	{ "lock --lease forever l true", "lock: invalid lease 'forever' "
	    "(expected seconds above 0, at most 3153600000)" },
	{ "pop q --timeout 3153600000.001", "pop: invalid timeout "
	    "'3153600000.001' (expected seconds, at most 3153600000, or "
	    "'forever')" },
	{ "wait k --timeout never", "wait: invalid timeout 'never' (expected "
	    "seconds, at most 3153600000, or 'forever')" },
	{ "sub -c 99999999999999999999 ch", "sub: invalid count "
	    "'99999999999999999999' (expected 1..18446744073709551615)" },
};

START_TEST(test_errors)
{
	PARSE_ERR(error_cases[_i].line, error_cases[_i].err);
}
END_TEST

/* Seconds have no unit: "5s" or "100ms" is refused, not misread. */
START_TEST(test_option_units)
{
	static const char *const	bad[] = {
		"5s", "100ms", "1m", "1h", "1.5s", "5_", "1e3", "0x10", "+1",
		"-1", ".", "1.", "1..5", "1,5", "", "forever!", "Forever"
	};
	char				line[64];
	size_t				i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "pop q --timeout=%s", bad[i]);
		ck_assert_msg(parse(line) == -EINVAL, "'%s' accepted",
		    bad[i]);
		ck_assert_ptr_nonnull(strstr(err, "pop: invalid timeout"));
	}
}
END_TEST

/*
 * Options may follow positionals; "--", "-" and "-5" are positionals;
 * after "--" everything is, and lock hands its command's words over.
 */
static const struct {
	const char	*line;
	const char	*positionals;
} positional_cases[] = {
	{ "ping --count=12 data", "data" },
	{ "ping -i 0.5 -c 2 hi", "hi" },
	{ "set --ttl 1.5 --nx --keep-ttl k v", "k v" },
	{ "sub --count=2 --pattern --timeout 0 a* b*", "a* b*" },
	{ "pop jobs --timeout 30", "jobs" },
	{ "set k --ttl 5 v", "k v" },
	{ "set k -", "k -" },
	{ "incr n -5", "n -5" },
	{ "push q -1 -2 x", "q -1 -2 x" },
	{ "set k -- -v", "k -v" },
	{ "get -- --json", "--json" },
	{ "push q -- -- --", "q -- --" },
	{ "get -q -- k", "k" },
	{ "keys --", "" },
	{ "lock name sh -c exit --json", "name sh -c exit --json" },
	{ "lock --timeout 5 -q name make -j4", "name make -j4" },
	/* Options right after the name are still lock's. */
	{ "lock name --lease 2 cmd --lease 3", "name cmd --lease 3" },
	{ "lock name -- -cmd", "name -cmd" },
	{ "lock -- name cmd", "name cmd" },
};

START_TEST(test_positionals)
{
	PARSE_OK(positional_cases[_i].line);
	ck_assert_str_eq(positionals(), positional_cases[_i].positionals);
}
END_TEST

/* Positionals move to the front in order; values keep their strings. */
START_TEST(test_argv_order)
{
	char	*ttl;

	split("set --ttl 9 key --nx value");
	ttl = words[2];
	ck_assert_int_eq(parser_parse(nwords, words, &res, err, sizeof(err)),
	    0);
	ck_assert_ptr_eq(res.argv, words + 1);
	ck_assert_str_eq(res.argv[0], "key");
	ck_assert_str_eq(res.argv[1], "value");
	ck_assert_ptr_null(res.argv[2]);
	ck_assert_ptr_eq(res.opt[POPT_TTL].str, ttl);
	ck_assert_uint_eq(res.opt[POPT_TTL].num, 9000);
	ck_assert_int_eq(res.opt[POPT_NX].set, 1);
}
END_TEST

/* The largest name lists a request can carry, and one more. */
START_TEST(test_name_lists)
{
	static char	line[8192];
	size_t		n;
	int		i;

	n = (size_t)snprintf(line, sizeof(line), "del");
	for (i = 0; i < 1024; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " k");
	PARSE_OK(line);
	ck_assert_int_eq(res.argc, 1024);
	snprintf(line + n, sizeof(line) - n, " k");
	PARSE_ERR(line, "del: too many arguments");
	memcpy(line, "sub", 3);
	PARSE_ERR(line, "sub: too many arguments");
}
END_TEST

/* One parser_seconds() case: input, bound, result, milliseconds. */
static const struct {
	const char	*in;
	uint64_t	 max_ms;
	int		 ret;
	uint64_t	 ms;
} seconds_cases[] = {
	{ "5", 10000, 0, 5000 },
	{ "0.25", 10000, 0, 250 },
	{ "0", 10000, 0, 0 },
	{ "0.000", 10000, 0, 0 },
	{ ".5", 10000, 0, 500 },
	/* A fraction of a millisecond rounds up, never down to 0. */
	{ "0.0001", 10000, 0, 1 },
	{ "1.2341", 10000, 0, 1235 },
	{ "1.2340000", 10000, 0, 1234 },
	/* The bound is inclusive, in milliseconds. */
	{ "10", 10000, 0, 10000 },
	{ "10.001", 10000, -ERANGE, 0 },
	{ "9.9999", 9999, -ERANGE, 0 },
	{ "99999999999999999999999", UINT64_MAX, -ERANGE, 0 },
	{ "", 10000, -EINVAL, 0 },
	{ ".", 10000, -EINVAL, 0 },
	{ "1.", 10000, -EINVAL, 0 },
	{ "-1", 10000, -EINVAL, 0 },
	{ "+1", 10000, -EINVAL, 0 },
	{ "1s", 10000, -EINVAL, 0 },
	{ " 1", 10000, -EINVAL, 0 },
	{ "1e2", 10000, -EINVAL, 0 },
};

START_TEST(test_seconds)
{
	uint64_t	ms = 42;

	ck_assert_int_eq(parser_seconds(seconds_cases[_i].in,
	    seconds_cases[_i].max_ms, &ms), seconds_cases[_i].ret);
	/* Untouched on error. */
	ck_assert_uint_eq(ms, seconds_cases[_i].ret == 0 ?
	    seconds_cases[_i].ms : 42);
}
END_TEST

static const struct {
	const char	*in;
	int		 ret;
	int64_t		 v;
} int64_cases[] = {
	{ "0", 0, 0 },
	{ "-0", 0, 0 },
	{ "-5", 0, -5 },
	{ "007", 0, 7 },
	{ "9223372036854775807", 0, INT64_MAX },
	{ "-9223372036854775808", 0, INT64_MIN },
	{ "9223372036854775808", -ERANGE, 0 },
	{ "-9223372036854775809", -ERANGE, 0 },
	{ "99999999999999999999", -ERANGE, 0 },
	{ "", -EINVAL, 0 },
	{ "-", -EINVAL, 0 },
	{ "+1", -EINVAL, 0 },
	{ "--1", -EINVAL, 0 },
	{ "1a", -EINVAL, 0 },
	{ "1.0", -EINVAL, 0 },
};

START_TEST(test_int64)
{
	int64_t	v = 42;

	ck_assert_int_eq(parser_int64(int64_cases[_i].in, &v),
	    int64_cases[_i].ret);
	ck_assert_int_eq(v, int64_cases[_i].ret == 0 ? int64_cases[_i].v :
	    42);
}
END_TEST

static const struct {
	const char	*in;
	uint64_t	 min, max;
	int		 ret;
	uint64_t	 n;
} count_cases[] = {
	{ "1", 1, 10, 0, 1 },
	{ "10", 1, 10, 0, 10 },
	{ "0010", 1, 10, 0, 10 },
	{ "0", 1, 10, -ERANGE, 0 },
	{ "11", 1, 10, -ERANGE, 0 },
	{ "18446744073709551609", 0, UINT64_MAX, 0,
	    UINT64_C(18446744073709551609) },
	/* The last ten below UINT64_MAX, and UINT64_MAX itself, fit. */
	{ "18446744073709551610", 0, UINT64_MAX, 0,
	    UINT64_C(18446744073709551610) },
	{ "18446744073709551614", 0, UINT64_MAX, 0,
	    UINT64_C(18446744073709551614) },
	{ "18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX },
	{ "0018446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX },
	{ "18446744073709551615", 0, UINT64_MAX - 1, -ERANGE, 0 },
	{ "18446744073709551616", 0, UINT64_MAX, -ERANGE, 0 },
	{ "18446744073709551619", 0, UINT64_MAX, -ERANGE, 0 },
	{ "18446744073709551620", 0, UINT64_MAX, -ERANGE, 0 },
	{ "184467440737095516160", 0, UINT64_MAX, -ERANGE, 0 },
	{ "", 0, 10, -EINVAL, 0 },
	{ "-1", 0, 10, -EINVAL, 0 },
	{ "1 ", 0, 10, -EINVAL, 0 },
	{ "0x1", 0, 10, -EINVAL, 0 },
};

START_TEST(test_count)
{
	uint64_t	n = 42;

	ck_assert_int_eq(parser_count(count_cases[_i].in, count_cases[_i].min,
	    count_cases[_i].max, &n), count_cases[_i].ret);
	ck_assert_uint_eq(n, count_cases[_i].ret == 0 ? count_cases[_i].n :
	    42);
}
END_TEST

/* The help lists every command, with its options and their text. */
START_TEST(test_help)
{
	char		*text = NULL, pat[64];
	size_t		 len = 0, i;
	FILE		*fp;

	ck_assert_ptr_nonnull(fp = open_memstream(&text, &len));
	parser_help(fp);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_ptr_eq(strstr(text, "commands:\n"), text);
	for (i = 0; i < NEXPECT; i++) {
		snprintf(pat, sizeof(pat), "\n  %s", expect[i].name);
		ck_assert_msg(strstr(text, pat) != NULL, "no '%s' in help",
		    expect[i].name);
		ck_assert_ptr_nonnull(strstr(text,
		    parser_lookup(expect[i].name)->help));
	}
	ck_assert_ptr_nonnull(strstr(text, "  ping [-c N] [-i SECS] [DATA]"));
	ck_assert_ptr_nonnull(strstr(text, "      -c, --count N"));
	ck_assert_ptr_nonnull(strstr(text, "      --timeout SECS"));
	ck_assert_ptr_nonnull(strstr(text, "      -p, --pattern"));
	ck_assert_ptr_nonnull(strstr(text, "NAME [--] COMMAND [ARG...]"));
	/* The order is the table's, which iomuxctl(1) follows. */
	ck_assert(strstr(text, "\n  status") < strstr(text, "\n  ping"));
	ck_assert(strstr(text, "\n  unlock") < strstr(text, "\n  help"));
	free(text);
}
END_TEST

static Suite *
parser_suite(void)
{
	Suite	*s = suite_create("parser");
	TCase	*tc;

	tc = tcase_create("table");
	tcase_add_test(tc, test_lookup);
	tcase_add_test(tc, test_no_command);
	tcase_add_loop_test(tc, test_arg_counts, 0, (int)NEXPECT);
	tcase_add_test(tc, test_name_lists);
	tcase_add_test(tc, test_help);
	suite_add_tcase(s, tc);

	tc = tcase_create("options");
	tcase_add_loop_test(tc, test_common_options, 0, (int)NEXPECT);
	tcase_add_loop_test(tc, test_options, 0, NCASES(option_cases));
	tcase_add_test(tc, test_option_strings);
	tcase_add_test(tc, test_option_units);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_errors, 0, NCASES(error_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("positionals");
	tcase_add_loop_test(tc, test_positionals, 0,
	    NCASES(positional_cases));
	tcase_add_test(tc, test_argv_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("numbers");
	tcase_add_loop_test(tc, test_seconds, 0, NCASES(seconds_cases));
	tcase_add_loop_test(tc, test_int64, 0, NCASES(int64_cases));
	tcase_add_loop_test(tc, test_count, 0, NCASES(count_cases));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(parser_suite());
}
