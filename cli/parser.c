/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * parser.c: the iomuxctl command table and its parser.
 *
 * Two tables drive everything: 'options' describes each command option
 * once (names, argument type, bounds), and 'commands' lists the commands
 * with the options each takes and how many positional arguments. The
 * parser only fills a struct parse_result; it prints nothing, connects to
 * nothing and knows no handler, so it can be unit-tested alone and the
 * help text can never disagree with what is accepted.
 *
 * Deliberate rules: command and option names match exactly (no unique
 * prefixes: a script's meaning must not change when a command is added).
 * Options may follow positional arguments ("pop jobs --timeout 30", as
 * the examples people copy are written); a word is an option when it
 * starts with '-', except "-" alone (standard input) and "-" followed by
 * a digit (a negative number, "incr n -5"). "--" ends the options, and
 * scripts passing data that may start with '-' put it after "--". The
 * same letter may mean different things to different commands (-c is a
 * ping count and a message count): an option is looked up among those the
 * command takes.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "iomux-proto.h"
#include "parser.h"

/* A number macro as a string literal, for help texts. */
#define STR(x)		STR_(x)
#define STR_(x)		#x

#define COUNT_MAX	1000000		/* ping -c */
#define INTERVAL_MAX	3600000		/* ping -i, ms */
/* Timeouts, TTLs, leases: 100 years of ms, far from any u64 overflow in
 * the daemon's "now + ttl". */
#define SECONDS_MAX	(UINT64_C(100) * 365 * 86400 * 1000)

static const struct parse_option options[POPT_MAX] = {
	[POPT_JSON] = { POPT_JSON, 0, "json", POT_FLAG, NULL, 0, 0,
	    "machine-readable JSON output" },
	[POPT_QUIET] = { POPT_QUIET, 'q', "quiet", POT_FLAG, NULL, 0, 0,
	    "print nothing; the exit status is the answer" },
	[POPT_COUNT] = { POPT_COUNT, 'c', "count", POT_COUNT, "N", 1,
	    COUNT_MAX, "send N requests (default 1)" },
	[POPT_INTERVAL] = { POPT_INTERVAL, 'i', "interval", POT_SECONDS,
	    "SECS", 0, INTERVAL_MAX, "wait SECS between requests (default 0)" },
	[POPT_NO_NEWLINE] = { POPT_NO_NEWLINE, 'n', "no-newline", POT_FLAG,
	    NULL, 0, 0, "print the value without a trailing newline" },
	[POPT_TIMEOUT] = { POPT_TIMEOUT, 0, "timeout", POT_TIMEOUT, "SECS",
	    0, SECONDS_MAX, "give up after SECS (0: at once; 'forever')" },
	[POPT_TTL] = { POPT_TTL, 0, "ttl", POT_SECONDS, "SECS", 1,
	    SECONDS_MAX, "the key expires after SECS" },
	[POPT_NX] = { POPT_NX, 0, "nx", POT_FLAG, NULL, 0, 0,
	    "only if the key does not exist" },
	[POPT_XX] = { POPT_XX, 0, "xx", POT_FLAG, NULL, 0, 0,
	    "only if the key exists" },
	[POPT_KEEP_TTL] = { POPT_KEEP_TTL, 0, "keep-ttl", POT_FLAG, NULL, 0,
	    0, "keep the key's expiry" },
	[POPT_IF_EQUALS] = { POPT_IF_EQUALS, 0, "if-equals", POT_STRING,
	    "VALUE", 0, 0, "only if the current value is VALUE" },
	[POPT_LIMIT] = { POPT_LIMIT, 0, "limit", POT_COUNT, "N", 1,
	    IOMUX_KEYS_LIMIT_MAX, "ask for N keys per request (default "
	    STR(IOMUX_KEYS_LIMIT_DEFAULT) ")" },
	[POPT_LEASE] = { POPT_LEASE, 0, "lease", POT_SECONDS, "SECS", 1,
	    SECONDS_MAX, "the lock expires after SECS even if held" },
	[POPT_PATTERN] = { POPT_PATTERN, 'p', "pattern", POT_FLAG, NULL, 0,
	    0, "the arguments are patterns (PREFIX*)" },
	[POPT_MESSAGES] = { POPT_MESSAGES, 'c', "count", POT_COUNT, "N", 1,
	    UINT64_MAX, "exit after N messages" },
};

static const enum parse_opt no_opts[] = { POPT_MAX };
static const enum parse_opt ping_opts[] = {
	POPT_COUNT, POPT_INTERVAL, POPT_MAX
};
static const enum parse_opt value_opts[] = { POPT_NO_NEWLINE, POPT_MAX };
static const enum parse_opt set_opts[] = {
	POPT_TTL, POPT_NX, POPT_XX, POPT_KEEP_TTL, POPT_IF_EQUALS, POPT_MAX
};
static const enum parse_opt keys_opts[] = { POPT_LIMIT, POPT_MAX };
static const enum parse_opt wait_opts[] = {
	POPT_TIMEOUT, POPT_NO_NEWLINE, POPT_MAX
};
static const enum parse_opt sub_opts[] = {
	POPT_PATTERN, POPT_MESSAGES, POPT_TIMEOUT, POPT_MAX
};
static const enum parse_opt lock_opts[] = {
	POPT_TIMEOUT, POPT_LEASE, POPT_MAX
};

#define ANY	PARSE_ARGS_ANY
/*
 * Names per request: the protocol's argument limit. Push counts its
 * values itself (IOMUX_PUSH_VALUES_MAX), to say so in those terms.
 */
#define NAMES	IOMUX_ARGS_MAX

/* iomuxctl(1)'s COMMANDS section follows this table, row by row. */
static const struct command commands[] = {
	{ "status", ACT_STATUS, no_opts, 0, 0, ANY, NULL,
	    "show the daemon's state and counters" },
	{ "ping", ACT_PING, ping_opts, 0, 1, ANY, "[DATA]",
	    "check the daemon answers; DATA is echoed back" },
	{ "version", ACT_VERSION, no_opts, 0, 0, ANY, NULL,
	    "show the versions of iomuxctl and iomuxd" },
	{ "whoami", ACT_WHOAMI, no_opts, 0, 0, ANY, NULL,
	    "show who iomuxd takes this connection for, and its rules" },
	/* Key-value. */
	{ "get", ACT_GET, value_opts, 1, 1, ANY, "KEY",
	    "print the value of KEY" },
	{ "set", ACT_SET, set_opts, 2, 2, ANY, "KEY VALUE|-",
	    "set KEY to VALUE (-: from standard input)" },
	{ "del", ACT_DEL, no_opts, 1, NAMES, ANY, "KEY...",
	    "delete keys; print how many there were" },
	{ "exists", ACT_EXISTS, no_opts, 1, NAMES, ANY, "KEY...",
	    "print how many of the keys exist" },
	{ "incr", ACT_INCR, no_opts, 1, 2, ANY, "KEY [DELTA]",
	    "add DELTA (default 1) to KEY; print the result" },
	{ "keys", ACT_KEYS, keys_opts, 0, 1, ANY, "[PREFIX]",
	    "print the keys starting with PREFIX" },
	{ "ttl", ACT_TTL, no_opts, 1, 1, ANY, "KEY",
	    "print KEY's seconds to live (-1: no expiry)" },
	{ "expire", ACT_EXPIRE, no_opts, 2, 2, ANY, "KEY SECS",
	    "make KEY expire after SECS" },
	{ "persist", ACT_PERSIST, no_opts, 1, 1, ANY, "KEY",
	    "make KEY never expire" },
	{ "wait", ACT_WAIT, wait_opts, 1, 1, ANY, "KEY",
	    "wait until KEY exists, then print its value" },
	/* Queues. */
	{ "push", ACT_PUSH, no_opts, 2, ANY, ANY, "QUEUE VALUE...|-",
	    "append values to QUEUE; print its new length" },
	{ "pop", ACT_POP, wait_opts, 1, 1, ANY, "QUEUE",
	    "remove the head of QUEUE and print it" },
	{ "qlen", ACT_QLEN, no_opts, 1, 1, ANY, "QUEUE",
	    "print the length of QUEUE" },
	{ "peek", ACT_PEEK, value_opts, 1, 1, ANY, "QUEUE",
	    "print the head of QUEUE, leaving it there" },
	/* Pub/sub. */
	{ "pub", ACT_PUB, no_opts, 2, 2, ANY, "CHANNEL MESSAGE|-",
	    "publish MESSAGE; print how many received it" },
	{ "sub", ACT_SUB, sub_opts, 1, NAMES, ANY, "CHANNEL...",
	    "print the messages published on the channels" },
	/* Locks. */
	{ "lock", ACT_LOCK, lock_opts, 2, ANY, 1,
	    "NAME [--] COMMAND [ARG...]",
	    "run COMMAND while holding the lock NAME" },
	{ "unlock", ACT_UNLOCK, no_opts, 1, 1, ANY, "NAME",
	    "release a lock of this connection (see lock)" },
	{ "help", ACT_HELP, no_opts, 0, 0, ANY, NULL,
	    "show this help" },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static int
parse_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
parse_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

const struct command *
parser_lookup(const char *name)
{
	size_t	 i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int
parser_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t	 n = 0, d;

	if (*s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		d = (uint64_t)(*s - '0');
		/* n * 10 + d <= UINT64_MAX, without overflowing to ask. */
		if (n > (UINT64_MAX - d) / 10)
			return -ERANGE;
		n = n * 10 + d;
	}
	if (n < min || n > max)
		return -ERANGE;
	*out = n;
	return 0;
}

int
parser_int64(const char *s, int64_t *out)
{
	uint64_t	 n, max = INT64_MAX;
	int		 neg = 0, r;

	if (*s == '-') {
		neg = 1;
		s++;
		max = (uint64_t)INT64_MAX + 1;
	}
	if ((r = parser_count(s, 0, max, &n)) != 0)
		return r;
	if (neg)
		*out = n == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)n;
	else
		*out = (int64_t)n;
	return 0;
}

int
parser_seconds(const char *s, uint64_t max_ms, uint64_t *out)
{
	uint64_t	 sec = 0, ms = 0;
	int		 ndig = 0, nfrac = 0, up = 0;

	for (; *s >= '0' && *s <= '9'; s++, ndig++) {
		/* Anything this long is over every bound we use. */
		if (sec > UINT64_MAX / 10000)
			return -ERANGE;
		sec = sec * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, nfrac++) {
			if (nfrac < 3)
				ms = ms * 10 + (uint64_t)(*s - '0');
			else if (*s != '0')
				up = 1;
		}
		if (nfrac == 0)
			return -EINVAL;
		for (; nfrac < 3; nfrac++)
			ms *= 10;
	}
	if (*s != '\0' || ndig + nfrac == 0)
		return -EINVAL;
	ms += sec * 1000 + (uint64_t)up;
	if (ms > max_ms)
		return -ERANGE;
	*out = ms;
	return 0;
}

/* May command 'c' take option 'id'? The common ones always. */
static int
takes(const struct command *c, enum parse_opt id)
{
	const enum parse_opt	*o;

	if (id == POPT_JSON || id == POPT_QUIET)
		return 1;
	for (o = c->opts; *o != POPT_MAX; o++)
		if (*o == id)
			return 1;
	return 0;
}

/*
 * The option command 'c' takes that is named -ch, or --name (len bytes)
 * when ch is 0; NULL if none.
 */
static const struct parse_option *
find_opt(const struct command *c, char ch, const char *name, size_t len)
{
	const struct parse_option	*o;
	int				 match;

	for (o = options; o < options + POPT_MAX; o++) {
		if (ch != 0)
			match = o->short_name == ch;
		else
			match = o->long_name != NULL &&
			    strlen(o->long_name) == len &&
			    strncmp(o->long_name, name, len) == 0;
		if (match && takes(c, o->id))
			return o;
	}
	return NULL;
}

/* Store an option's value; the argument is checked against its type. */
static int
set_opt(const struct command *c, const struct parse_option *o,
    const char *arg, struct parse_result *res, char *err, size_t errlen)
{
	struct parse_value	*v = &res->opt[o->id];
	int			 r = 0;

	switch (o->type) {
	case POT_FLAG:
		break;
	case POT_COUNT:
		r = parser_count(arg, o->min, o->max, &v->num);
		if (r != 0)
			return parse_err(err, errlen, "%s: invalid %s '%s' "
			    "(expected %llu..%llu)", c->name, o->long_name,
			    arg, (unsigned long long)o->min,
			    (unsigned long long)o->max);
		break;
	case POT_TIMEOUT:
	case POT_SECONDS:
		if (o->type == POT_TIMEOUT && strcmp(arg, "forever") == 0) {
			v->num = PARSE_FOREVER;
			break;
		}
		r = parser_seconds(arg, o->max, &v->num);
		if (r != 0 || v->num < o->min)
			return parse_err(err, errlen, "%s: invalid %s '%s' "
			    "(expected seconds%s, at most %llu%s)", c->name,
			    o->long_name, arg, o->min > 0 ? " above 0" : "",
			    (unsigned long long)o->max / 1000,
			    o->type == POT_TIMEOUT ? ", or 'forever'" : "");
		break;
	case POT_STRING:
		break;
	}
	v->set = 1;
	v->str = arg;
	return 0;
}

/* "--name" or "--name=value" at argv[*i]; advances *i past a value. */
static int
long_opt(const struct command *c, int argc, char **argv, int *i,
    struct parse_result *res, char *err, size_t errlen)
{
	const struct parse_option	*o;
	const char			*name = argv[*i] + 2, *eq, *arg = NULL;
	size_t				 len;

	eq = strchr(name, '=');
	len = eq != NULL ? (size_t)(eq - name) : strlen(name);
	if ((o = find_opt(c, 0, name, len)) == NULL)
		return parse_err(err, errlen, "%s: unknown option '--%.*s'",
		    c->name, (int)len, name);
	if (o->type == POT_FLAG) {
		if (eq != NULL)
			return parse_err(err, errlen, "%s: option '--%s' "
			    "takes no value", c->name, o->long_name);
	} else if (eq != NULL)
		arg = eq + 1;
	else if (*i + 1 < argc)
		arg = argv[++*i];
	else
		return parse_err(err, errlen, "%s: option '--%s' needs a "
		    "value (%s)", c->name, o->long_name, o->argname);
	return set_opt(c, o, arg, res, err, errlen);
}

/* "-x", "-xVALUE", "-x VALUE" or bundled flags "-qx" at argv[*i]. */
static int
short_opts(const struct command *c, int argc, char **argv, int *i,
    struct parse_result *res, char *err, size_t errlen)
{
	const struct parse_option	*o;
	const char			*p, *arg;
	int				 r;

	for (p = argv[*i] + 1; *p != '\0'; p++) {
		if ((o = find_opt(c, *p, NULL, 0)) == NULL)
			return parse_err(err, errlen, "%s: unknown option "
			    "'-%c'", c->name, *p);
		if (o->type == POT_FLAG) {
			if ((r = set_opt(c, o, NULL, res, err, errlen)) != 0)
				return r;
			continue;
		}
		if (p[1] != '\0')
			arg = p + 1;
		else if (*i + 1 < argc)
			arg = argv[++*i];
		else
			return parse_err(err, errlen, "%s: option '-%c' needs "
			    "a value (%s)", c->name, *p, o->argname);
		return set_opt(c, o, arg, res, err, errlen);
	}
	return 0;
}

/* Not an option: "-" (stdin), "-5" (a negative number), or no dash. */
static int
positional(const char *w)
{
	return w[0] != '-' || w[1] == '\0' || (w[1] >= '0' && w[1] <= '9');
}

int
parser_parse(int argc, char **argv, struct parse_result *res, char *err,
    size_t errlen)
{
	const struct command	*c;
	unsigned int		 npos = 0;
	int			 i, r;

	memset(res, 0, sizeof(*res));
	if (argc < 1)
		return parse_err(err, errlen, "no command given");
	if ((c = parser_lookup(argv[0])) == NULL)
		return parse_err(err, errlen, "unknown command '%s'", argv[0]);
	res->cmd = c;

	/*
	 * Positionals are moved down to argv[1 + npos] as they come: the
	 * write index never passes the read index, and option values are
	 * kept as pointers to their strings, not to argv's slots.
	 */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (positional(argv[i])) {
			if (c->opts_until != PARSE_ARGS_ANY &&
			    npos >= c->opts_until)
				break;
			argv[1 + npos++] = argv[i];
			continue;
		}
		if (argv[i][1] == '-')
			r = long_opt(c, argc, argv, &i, res, err, errlen);
		else
			r = short_opts(c, argc, argv, &i, res, err, errlen);
		if (r != 0)
			return r;
	}
	for (; i < argc; i++)
		argv[1 + npos++] = argv[i];
	/* Still NULL-terminated: lock hands the tail to execvp(3). */
	argv[1 + npos] = NULL;

	res->argc = (int)npos;
	res->argv = argv + 1;
	if ((unsigned int)res->argc < c->min_args)
		return parse_err(err, errlen, "%s: missing argument (usage: "
		    "%s %s)", c->name, c->name, c->args != NULL ? c->args : "");
	if (c->max_args != PARSE_ARGS_ANY &&
	    (unsigned int)res->argc > c->max_args)
		return parse_err(err, errlen, "%s: too many arguments",
		    c->name);
	return 0;
}

/* "-c N" or "--json" into buf; with 'both', "-c, --count N". */
static void
opt_usage(const struct parse_option *o, int both, char *buf, size_t len)
{
	const char	*sp = o->argname != NULL ? " " : "";
	const char	*an = o->argname != NULL ? o->argname : "";

	if (o->short_name != 0 && both)
		snprintf(buf, len, "-%c, --%s%s%s", o->short_name,
		    o->long_name, sp, an);
	else if (o->short_name != 0)
		snprintf(buf, len, "-%c%s%s", o->short_name, sp, an);
	else
		snprintf(buf, len, "--%s%s%s", o->long_name, sp, an);
}

void
parser_help(FILE *fp)
{
	const enum parse_opt	*id;
	size_t			 i, n;
	char			 line[256], opt[64];

	fprintf(fp, "commands:\n");
	for (i = 0; i < NCOMMANDS; i++) {
		snprintf(line, sizeof(line), "%s", commands[i].name);
		for (id = commands[i].opts; *id != POPT_MAX; id++) {
			opt_usage(&options[*id], 0, opt, sizeof(opt));
			n = strlen(line);
			snprintf(line + n, sizeof(line) - n, " [%s]", opt);
		}
		if (commands[i].args != NULL) {
			n = strlen(line);
			snprintf(line + n, sizeof(line) - n, " %s",
			    commands[i].args);
		}
		/* A long synopsis gets the help on a line of its own. */
		if (strlen(line) > 30)
			fprintf(fp, "  %s\n  %-30s %s\n", line, "",
			    commands[i].help);
		else
			fprintf(fp, "  %-30s %s\n", line, commands[i].help);
		for (id = commands[i].opts; *id != POPT_MAX; id++) {
			opt_usage(&options[*id], 1, opt, sizeof(opt));
			fprintf(fp, "      %-26s %s\n", opt,
			    options[*id].help);
		}
	}
}
