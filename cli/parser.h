/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * parser.h: the iomuxctl command table and its parser (after OpenBSD
 * bgpctl's parser.c). A command is one table row: its name, the action
 * main() dispatches on, the options it takes and how many positional
 * arguments. Adding a command is adding an enum action, a row here and a
 * row in iomuxctl.c's cmds[] (a libiomux call of a known shape, or a
 * handler); adding an option is an enum parse_opt and a row in the option
 * table. Command names must be typed in full: scripts must not
 * change meaning when a new command shares a prefix.
 */

#ifndef IOMUXD_PARSER_H
#define IOMUXD_PARSER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum action {
	ACT_NONE,
	ACT_HELP,
	ACT_STATUS,
	ACT_PING,
	ACT_VERSION,
	ACT_WHOAMI,
	ACT_GET,
	ACT_SET,
	ACT_DEL,
	ACT_EXISTS,
	ACT_INCR,
	ACT_KEYS,
	ACT_TTL,
	ACT_EXPIRE,
	ACT_PERSIST,
	ACT_WAIT,
	ACT_PUSH,
	ACT_POP,
	ACT_QLEN,
	ACT_PEEK,
	ACT_PUB,
	ACT_SUB,
	ACT_LOCK,
	ACT_UNLOCK,
	ACT_MAX
};

/* Command options; a parse_result has one slot per option. */
enum parse_opt {
	POPT_JSON,		/* --json (also a global option) */
	POPT_QUIET,		/* -q, --quiet (also a global option) */
	POPT_COUNT,		/* -c, --count N (ping) */
	POPT_INTERVAL,		/* -i, --interval SECS */
	POPT_NO_NEWLINE,	/* -n, --no-newline */
	POPT_TIMEOUT,		/* --timeout SECS|forever (blocking commands) */
	POPT_TTL,		/* --ttl SECS */
	POPT_NX,		/* --nx */
	POPT_XX,		/* --xx */
	POPT_KEEP_TTL,		/* --keep-ttl */
	POPT_IF_EQUALS,		/* --if-equals VALUE */
	POPT_LIMIT,		/* --limit N (keys per request) */
	POPT_LEASE,		/* --lease SECS */
	POPT_PATTERN,		/* -p, --pattern (sub) */
	POPT_MESSAGES,		/* -c, --count N (sub: messages) */
	POPT_MAX
};

enum parse_opt_type {
	POT_FLAG,		/* no argument */
	POT_COUNT,		/* decimal integer in [min, max] */
	POT_SECONDS,		/* decimal seconds, ms resolution, [min, max] ms */
	POT_TIMEOUT,		/* POT_SECONDS, or "forever" (PARSE_FOREVER) */
	POT_STRING		/* any text */
};

struct parse_option {
	enum parse_opt		 id;
	char			 short_name;	/* 0: none */
	const char		*long_name;	/* NULL: none */
	enum parse_opt_type	 type;
	const char		*argname;	/* for usage: "N", "SECS" */
	uint64_t		 min, max;	/* POT_COUNT, POT_SECONDS (ms) */
	const char		*help;
};

/* No limit on positional arguments. */
#define PARSE_ARGS_ANY	((unsigned int)-1)

/* The value of a POT_TIMEOUT option given as "forever". */
#define PARSE_FOREVER	UINT64_MAX

struct command {
	const char		*name;
	enum action		 action;
	/* Options it takes besides the common ones; POPT_MAX ends the list. */
	const enum parse_opt	*opts;
	unsigned int		 min_args;
	unsigned int		 max_args;
	/*
	 * The positional that follows this many ends the options (lock NAME
	 * COMMAND...: the command's own options are not ours);
	 * PARSE_ARGS_ANY: only "--" does.
	 */
	unsigned int		 opts_until;
	const char		*args;		/* usage of the positionals */
	const char		*help;
};

struct parse_value {
	int		 set;
	uint64_t	 num;		/* count, or milliseconds */
	const char	*str;		/* the argument as given */
};

struct parse_result {
	const struct command	*cmd;
	struct parse_value	 opt[POPT_MAX];
	int			 argc;		/* positional arguments */
	char			**argv;
};

/*
 * Parse "COMMAND [OPTIONS | ARGS]... [--] [ARGS]" (argv[0] is the
 * command). Options and positional arguments may be mixed ("pop jobs
 * --timeout 30"), as with GNU getopt: every word that starts with '-' is
 * an option, except "-" alone (standard input) and a dash followed by a
 * digit (a negative number: "incr n -5"). "--" ends the options, so data
 * that starts with '-' is safe after it; so does the command's opts_until.
 * --json and -q are accepted by every command. The positionals are moved
 * to the front of argv[1..] (in order) and res->argv points at them.
 * Returns 0 and fills *res (pointers into argv), or -EINVAL with a
 * sentence in err.
 */
int	 parser_parse(int argc, char **argv, struct parse_result *res,
	    char *err, size_t errlen);

/* The row for a command name (exact match only), or NULL. */
const struct command	*parser_lookup(const char *name);

/* Print the command list with options and help text. */
void	 parser_help(FILE *);

/*
 * Decimal seconds ("5", "0.25") to milliseconds, rounding a fraction of a
 * millisecond up so that a non-zero value never becomes 0. 0, or -EINVAL
 * for anything else (signs, exponents, hex) or -ERANGE above max_ms.
 */
int	 parser_seconds(const char *, uint64_t max_ms, uint64_t *ms);

/* Strict decimal int64: optional '-', digits; 0, -EINVAL or -ERANGE. */
int	 parser_int64(const char *, int64_t *);

/* Decimal integer in [min, max]; 0, -EINVAL or -ERANGE. */
int	 parser_count(const char *, uint64_t min, uint64_t max, uint64_t *);

#endif /* IOMUXD_PARSER_H */
