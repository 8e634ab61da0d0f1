/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * iomuxctl.c: the command-line client of iomuxd. main() parses the global
 * options, hands the rest to the command table (parser.c), and runs the
 * row of cmds[] for the command's action: a handler, or one libiomux call
 * whose shape names its printer. Both talk to the daemon through libiomux
 * and print through output.c.
 *
 * The exit status is the interface scripts rely on (iomuxctl(1), EXIT
 * STATUS): 0 ok, 1 a negative answer, 2 usage, 3 cannot connect or talk to
 * the daemon (including a request that timed out), 4 the daemon returned an
 * error or spoke nonsense. Every failure prints one err(3)-shaped line on
 * stderr, always prefixed "iomuxctl: " whatever argv[0] is (libtool's
 * wrapper runs an "lt-" binary).
 *
 * Output rules of the hub commands (iomuxctl(1) states them for users):
 * a value is written exactly as stored plus one '\n' unless -n; numbers
 * are decimal lines; nothing goes to stdout when the exit status is not
 * 0; --json prints one object (JSON Lines for keys and sub), with bytes
 * that are not UTF-8 in base64 under "<field>_base64". The streaming and
 * child-running commands (sub, lock) wait in poll(2) on the connection and
 * a self-pipe fed by the signal handlers, so a signal never interrupts
 * anything but that poll.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iomux.h"
#include "output.h"
#include "parser.h"

#define EXIT_NEGATIVE	1	/* absent, timed out, busy */
#define EXIT_USAGE	2
#define EXIT_CONNECT	3	/* cannot connect or talk to iomuxd */
#define EXIT_DAEMON	4	/* iomuxd returned an error */

#define TIMEOUT_DEFAULT	5000		/* ms */
#define TIMEOUT_MAX	2147483647ULL	/* ms that fit poll(2)'s int */
#define SOCKPATH_MAX	4096
#define VALUE_MAX_DEFAULT (512u << 10)	/* if HELLO does not say */
#define STDIN_CHUNK	65536
#define NOTE_NAME_MAX	64		/* bytes of a name shown in a note */
#define TTL_MAX		(UINT64_C(100) * 365 * 86400 * 1000)	/* ms */
#define EXEC_NOTFOUND	127		/* as sh(1): command not found */
#define EXEC_FAILED	126		/* as sh(1): found, not executable */
#define CLIENT_NAME	"iomuxctl"	/* in HELLO */
#define HELLO_FIELD_MAX	128		/* bytes kept of a HELLO field */
#define OPT_TOKEN_FILE	0x100		/* --token-file: long only */

/* A field of the HELLO reply, kept past the next call on the client. */
struct hello_field {
	int	 present;
	size_t	 len;
	char	 data[HELLO_FIELD_MAX];
};

struct ctl {
	const char		*socket;	/* -s, or NULL */
	const char		*host;		/* -H, or NULL */
	const char		*token_file;	/* --token-file, or NULL */
	int			 timeout_ms;	/* -1: forever */
	const struct parse_result *res;		/* the command line */
	struct iomux_client	*c;
	struct output		 out;
	int			 stdout_done;	/* write error reported */
	char			 peer[SOCKPATH_MAX];
	/* Over TCP: the token HELLO sends, if one was found. */
	int			 have_token;
	const char		*token_from;	/* for messages */
	char			 token[IOMUX_TOKEN_LEN + 1];
	/* What the commands use of the connection's one HELLO. */
	int			 helloed;
	struct hello_field	 server, proto;
	size_t			 value_max;
};

typedef int	cmd_handler(struct ctl *, const struct parse_result *);

static cmd_handler	cmd_help, cmd_status, cmd_ping, cmd_version;
static cmd_handler	cmd_whoami;
static cmd_handler	cmd_set, cmd_incr, cmd_keys, cmd_ttl, cmd_expire;
static cmd_handler	cmd_push, cmd_pub, cmd_sub, cmd_lock;

/* The shapes of the libiomux calls that a command row can name. */
typedef int	name_fn(struct iomux_client *, const void *, size_t,
		    struct iomux_reply *);
typedef int	value_fn(struct iomux_client *, const void *, size_t,
		    struct iomux_value *, struct iomux_reply *);
typedef int	wait_fn(struct iomux_client *, const void *, size_t, uint64_t,
		    struct iomux_value *, struct iomux_reply *);
typedef int	count_fn(struct iomux_client *, const void *, size_t,
		    uint64_t *, struct iomux_reply *);
typedef int	names_fn(struct iomux_client *, size_t,
		    const struct iomux_value *, uint64_t *,
		    struct iomux_reply *);

/*
 * How a command runs: a handler of its own ('run'), or one libiomux call
 * on its positionals (call_cmd()), named by the member for its shape,
 * whose answer goes to the printer that the shape implies:
 *	name	NAME in, OK out: print_ok()
 *	value	NAME in, a value out: print_value()
 *	wait	NAME and --timeout (default 'dflt') in, a value out:
 *		print_value()
 *	count	NAME in, a number out: print_count() under 'field'
 *	names	NAME... in, a number out: print_count() under 'field'
 */
struct cmd_row {
	cmd_handler	*run;
	name_fn		*name;
	value_fn	*value;
	wait_fn		*wait;
	uint64_t	 dflt;		/* ms, or IOMUX_TIMEOUT_FOREVER */
	count_fn	*count;
	names_fn	*names;
	const char	*field;
};

/* Indexed by enum action: each row of parser.c's table lands here. */
static const struct cmd_row cmds[ACT_MAX] = {
	[ACT_HELP] = { .run = cmd_help },
	[ACT_STATUS] = { .run = cmd_status },
	[ACT_PING] = { .run = cmd_ping },
	[ACT_VERSION] = { .run = cmd_version },
	[ACT_WHOAMI] = { .run = cmd_whoami },
	[ACT_GET] = { .value = iomux_get },
	[ACT_SET] = { .run = cmd_set },
	[ACT_DEL] = { .names = iomux_del, .field = "count" },
	[ACT_EXISTS] = { .names = iomux_exists, .field = "count" },
	[ACT_INCR] = { .run = cmd_incr },
	[ACT_KEYS] = { .run = cmd_keys },
	[ACT_TTL] = { .run = cmd_ttl },
	[ACT_EXPIRE] = { .run = cmd_expire },
	[ACT_PERSIST] = { .name = iomux_persist },
	/* Blocks (forever by default); libiomux adds -t to the deadline. */
	[ACT_WAIT] = { .wait = iomux_wait, .dflt = IOMUX_TIMEOUT_FOREVER },
	[ACT_PUSH] = { .run = cmd_push },
	/* Without --timeout it does not wait (empty: exit 1). */
	[ACT_POP] = { .wait = iomux_pop, .dflt = 0 },
	[ACT_QLEN] = { .count = iomux_qlen, .field = "length" },
	[ACT_PEEK] = { .value = iomux_peek },
	[ACT_PUB] = { .run = cmd_pub },
	[ACT_SUB] = { .run = cmd_sub },
	[ACT_LOCK] = { .run = cmd_lock },
	/*
	 * Only the connection that holds a lock may release it, and each
	 * iomuxctl is a connection of its own, so this answers NOTFOUND
	 * (exit 1) or ENOTOWNER (exit 4); kept for completeness and for
	 * the protocol's sake. `lock NAME -- COMMAND` is the form that
	 * works.
	 */
	[ACT_UNLOCK] = { .name = iomux_unlock },
};

static const char usage_line[] =
    "usage: iomuxctl [-hqV] [-s PATH | -H HOST:PORT [--token-file FILE]]\n"
    "                [-t SECONDS] [--json] COMMAND [ARGS]\n";

static void	 ctl_warnx(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

/* warnx(3) with a fixed program name. */
static void
ctl_warnx(const char *fmt, ...)
{
	va_list	 ap;

	fflush(stdout);
	fputs("iomuxctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	putc('\n', stderr);
}

static int
usage_error(const char *msg)
{
	if (msg != NULL)
		ctl_warnx("%s", msg);
	fputs(usage_line, stderr);
	fputs("Try 'iomuxctl help' for the list of commands.\n", stderr);
	return EXIT_USAGE;
}

static void
help(FILE *fp)
{
	fputs(usage_line, fp);
	fputs("\noptions:\n"
	    "  -s, --socket PATH         UNIX socket of iomuxd\n"
	    "  -H, --host HOST:PORT      TCP address of iomuxd instead\n"
	    "      --token-file FILE     the token for -H (default:\n"
	    "                            $IOMUXD_TOKEN_FILE, or the daemon's)\n"
	    "  -t, --timeout SECONDS     per-call timeout (default 5; "
	    "0: forever)\n"
	    "  -q, --quiet               print nothing; exit status only\n"
	    "      --json                JSON output (JSON Lines for "
	    "streams)\n"
	    "  -h, --help                show this help\n"
	    "  -V, --version             show the version of iomuxctl\n\n",
	    fp);
	parser_help(fp);
	fputs("\nexit status: 0 ok, 1 negative answer, 2 usage, "
	    "3 cannot connect, 4 error from iomuxd\n", fp);
}

/* Why a token file was not usable, in words. */
static const char *
token_error(int err)
{
	if (err == -EINVAL)
		return "not a token (expected 64 lowercase hex characters)";
	return strerror(-err);
}

/*
 * Find the token for a TCP connection: --token-file, else
 * $IOMUXD_TOKEN_FILE, else libiomux's default lookup. A file named either
 * way must be a readable token (unless missing_ok: not there yet); none
 * found by default means no token. 0, or EXIT_CONNECT after saying why.
 */
static int
ctl_token(struct ctl *ctl, bool missing_ok)
{
	const char	*path = ctl->token_file, *env;
	int		 r;

	if (path == NULL && (env = getenv("IOMUXD_TOKEN_FILE")) != NULL &&
	    *env != '\0')
		path = env;
	r = iomux_token_load(path, ctl->token, sizeof(ctl->token));
	if (r >= 0) {
		ctl->have_token = 1;
		ctl->token_from = path != NULL ? path :
		    "the default token file";
		return 0;
	}
	if ((path == NULL || missing_ok) && r == -ENOENT)
		return 0;
	if (path == NULL)
		ctl_warnx("default token file (tcp/token beside the socket, "
		    "or in /run/iomuxd): %s", token_error(r));
	else
		ctl_warnx("token file %s%s: %s", path, ctl->token_file == NULL ?
		    " (IOMUXD_TOKEN_FILE)" : "", token_error(r));
	return EXIT_CONNECT;
}

static int	ctl_hello(struct ctl *);

/*
 * Over TCP: HELLO without the token, then, with the token read only now,
 * HELLO with it. The daemon writes a new token when it starts, and under
 * socket activation this very connection may be what starts it: a token
 * read before its first answer would be the last run's, or none.
 */
static int
ctl_tcp_hello(struct ctl *ctl)
{
	int	e;

	ctl->have_token = 0;
	if ((e = ctl_hello(ctl)) != 0)
		return e;
	if ((e = ctl_token(ctl, false)) != 0 || !ctl->have_token)
		return e;
	ctl->helloed = 0;
	return ctl_hello(ctl);
}

/*
 * Resolve the socket (-H, -s, $IOMUXD_SOCKET, default) and connect. Over
 * TCP the connection authenticates first (ctl_tcp_hello): the daemon's
 * rules decide on its requests as it stands then. A token file named by
 * the option or the environment that is there but unusable stops us
 * before anything is sent; one not there yet may be the daemon's to
 * write when this connection starts it.
 */
static int
ctl_connect(struct ctl *ctl)
{
	const char	*env;
	char		 msg[512];
	int		 r;

	if (ctl->c != NULL)
		return 0;
	if (ctl->host != NULL) {
		if ((ctl->token_file != NULL ||
		    ((env = getenv("IOMUXD_TOKEN_FILE")) != NULL &&
		    *env != '\0')) && (r = ctl_token(ctl, true)) != 0)
			return r;
		snprintf(ctl->peer, sizeof(ctl->peer), "%s", ctl->host);
		r = iomux_connect_tcp(ctl->host, ctl->timeout_ms, &ctl->c,
		    msg, sizeof(msg));
		if (r == 0)
			return ctl_tcp_hello(ctl);
	} else {
		if (ctl->socket != NULL)
			snprintf(ctl->peer, sizeof(ctl->peer), "%s",
			    ctl->socket);
		else if ((r = iomux_default_socket(ctl->peer,
		    sizeof(ctl->peer))) != 0) {
			if (r == -ENAMETOOLONG) {
				ctl_warnx("socket path from the environment "
				    "is too long");
				return EXIT_USAGE;
			}
			ctl_warnx("no default socket: XDG_RUNTIME_DIR is not "
			    "set; use -s PATH or IOMUXD_SOCKET");
			return EXIT_CONNECT;
		}
		r = iomux_connect_unix(ctl->peer, ctl->timeout_ms, &ctl->c,
		    msg, sizeof(msg));
		if (r == 0)
			return 0;
	}
	ctl_warnx("%s", msg);
	/* A malformed address or path is the caller's mistake. */
	if (r == -EINVAL || r == -ENAMETOOLONG)
		return EXIT_USAGE;
	return EXIT_CONNECT;
}

/* Report a failed libiomux call: transport trouble is 3, garbage is 4. */
static int
call_failed(struct ctl *ctl, int err)
{
	ctl_warnx("%s", iomux_errmsg(ctl->c));
	if (err == -EPROTO || err == -EMSGSIZE)
		return EXIT_DAEMON;
	return EXIT_CONNECT;
}

/* What a negative answer means for this command, in words. */
static const char *
negative_text(enum action act, uint16_t status)
{
	switch (status) {
	case IOMUX_ST_NOTFOUND:
		switch (act) {
		case ACT_GET:
		case ACT_TTL:
		case ACT_EXPIRE:
		case ACT_PERSIST:
			return "no such key";
		case ACT_POP:
		case ACT_PEEK:
			return "the queue is empty";
		case ACT_UNLOCK:
			return "the lock is not held";
		default:
			break;
		}
		break;
	case IOMUX_ST_CONFLICT:
		if (act == ACT_SET)
			return "not set: the condition does not hold";
		if (act == ACT_LOCK)
			return "already held by this connection";
		break;
	default:
		break;
	}
	return iomux_status_text(status);
}

/* " NAME" for a note on stderr: escaped, and cut if long (key_max is 1K). */
static void
note_name(const char *name)
{
	size_t	 len = strlen(name);

	putc(' ', stderr);
	output_text(stderr, name, len > NOTE_NAME_MAX ? NOTE_NAME_MAX : len);
	if (len > NOTE_NAME_MAX)
		fputs("...", stderr);
}

/*
 * Judge a reply: 0 for OK, else say why on stderr and return the exit
 * status: 4 for an error reply (EDENIED included), 1 for a negative
 * answer (whose note -q silences: the exit status is the answer). The
 * hub commands name their first argument (the key, queue, channel or
 * lock) in the note.
 */
static int
check_reply(struct ctl *ctl, const struct parse_result *res,
    const struct iomux_reply *r)
{
	const struct iomux_value	*m;

	if (r->code == IOMUX_ST_OK)
		return 0;
	if (!IOMUX_ST_IS_ERROR(r->code) && ctl->out.quiet)
		return EXIT_NEGATIVE;
	fflush(stdout);
	m = r->argc > 0 && !r->argv[0].absent ? &r->argv[0] : NULL;
	/*
	 * A denial names the request and the name itself ("set 'k': uid
	 * 1000 (alice) has ro by rule 3", iomuxd.conf(5)): no prefix.
	 */
	if (r->code == IOMUX_ST_EDENIED && m != NULL)
		fputs("iomuxctl: ", stderr);
	else {
		fprintf(stderr, "iomuxctl: %s", res->cmd->name);
		if (res->cmd->action >= ACT_GET && res->argc > 0)
			note_name(res->argv[0]);
		fputs(": ", stderr);
	}
	if (IOMUX_ST_IS_ERROR(r->code) && m != NULL) {
		output_message(stderr, m->data, m->len);
		fprintf(stderr, " (%s)\n", iomux_status_name(r->code));
	} else if (IOMUX_ST_IS_ERROR(r->code))
		fprintf(stderr, "%s (%s)\n", iomux_status_text(r->code),
		    iomux_status_name(r->code));
	else
		fprintf(stderr, "%s\n", negative_text(res->cmd->action,
		    r->code));
	return IOMUX_ST_IS_ERROR(r->code) ? EXIT_DAEMON : EXIT_NEGATIVE;
}

/*
 * After a libiomux call that returned e: 0 when it went through and the
 * reply is OK, else the exit status (call_failed(), check_reply()).
 */
static int
call_done(struct ctl *ctl, const struct parse_result *res, int e,
    const struct iomux_reply *r)
{
	if (e != 0)
		return call_failed(ctl, e);
	return check_reply(ctl, res, r);
}

/* Copy a HELLO field (may be NULL) to keep it past the next call. */
static void
keep_field(struct hello_field *k, const struct iomux_value *v)
{
	k->present = v != NULL && !v->absent;
	k->len = 0;
	if (!k->present)
		return;
	k->len = v->len < sizeof(k->data) ? v->len : sizeof(k->data);
	memcpy(k->data, v->data, k->len);
}

/*
 * HELLO, once per connection and only from here: with the token when
 * ctl_token() found one. What the commands use of the reply is kept,
 * since the next call invalidates it. 0, or an exit status after saying
 * why; a refused token is EDENIED, exit 4.
 */
static int
ctl_hello(struct ctl *ctl)
{
	const struct iomux_value	*v;
	struct iomux_reply		 r;
	uint64_t			 n;
	char				 num[20];
	int				 e;

	if (ctl->helloed)
		return 0;
	e = iomux_hello_token(ctl->c, CLIENT_NAME, ctl->have_token ?
	    ctl->token : NULL, &r);
	if (e != 0)
		return call_failed(ctl, e);
	if (r.code != IOMUX_ST_OK) {
		e = check_reply(ctl, ctl->res, &r);
		if (r.code == IOMUX_ST_EDENIED && ctl->have_token)
			ctl_warnx("the token was read from %s",
			    ctl->token_from);
		return e;
	}
	ctl->helloed = 1;
	keep_field(&ctl->server, iomux_reply_field(&r, "server"));
	keep_field(&ctl->proto, iomux_reply_field(&r, "proto"));
	/* Up to 19 decimal digits, as a string for parser_count(). */
	ctl->value_max = VALUE_MAX_DEFAULT;
	if ((v = iomux_reply_field(&r, "value_max")) == NULL || v->absent ||
	    v->len == 0 || v->len >= sizeof(num) ||
	    memchr(v->data, '\0', v->len) != NULL)
		return 0;
	memcpy(num, v->data, v->len);
	num[v->len] = '\0';
	if (parser_count(num, 1, SIZE_MAX - 1, &n) == 0)
		ctl->value_max = (size_t)n;
	return 0;
}

static int
cmd_help(struct ctl *ctl, const struct parse_result *res)
{
	if (!ctl->out.quiet)
		help(stdout);
	return 0;
}

/*
 * The name of a reply's name/value pair as a string (cut at len - 1;
 * names are short ASCII, and the printers escape a weird one). 0, or -1
 * for an absent name, a pair to skip.
 */
static int
pair_name(const struct iomux_value *k, char *name, size_t len)
{
	size_t	 n;

	if (k->absent)
		return -1;
	n = k->len < len ? k->len : len - 1;
	memcpy(name, k->data, n);
	name[n] = '\0';
	return 0;
}

/* One pair as a field; an absent value is an empty string. */
static void
print_pair(struct ctl *ctl, const char *name, const struct iomux_value *v)
{
	if (v->absent)
		output_field_str(&ctl->out, name, "");
	else
		output_field(&ctl->out, name, v->data, v->len);
}

static int
cmd_status(struct ctl *ctl, const struct parse_result *res)
{
	struct iomux_reply	 r;
	char			 name[128];
	size_t			 i;
	int			 e;

	if ((e = ctl_connect(ctl)) != 0)
		return e;
	if ((e = call_done(ctl, res, iomux_status(ctl->c, &r), &r)) != 0)
		return e;
	output_begin(&ctl->out);
	for (i = 0; i + 1 < r.argc; i += 2)
		if (pair_name(&r.argv[i], name, sizeof(name)) == 0)
			print_pair(ctl, name, &r.argv[i + 1]);
	output_end(&ctl->out);
	return 0;
}

static double
elapsed_ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static void
sleep_ms(uint64_t ms)
{
	struct timespec	 ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void
ping_summary(struct ctl *ctl, uint64_t sent, uint64_t received,
    double min, double sum, double max)
{
	double	 avg;

	if (received == 0)
		min = max = avg = 0;
	else
		avg = sum / (double)received;
	if (ctl->out.json) {
		output_begin(&ctl->out);
		output_field_numf(&ctl->out, "sent", "%llu",
		    (unsigned long long)sent);
		output_field_numf(&ctl->out, "received", "%llu",
		    (unsigned long long)received);
		output_field_numf(&ctl->out, "rtt_min_ms", "%.3f", min);
		output_field_numf(&ctl->out, "rtt_avg_ms", "%.3f", avg);
		output_field_numf(&ctl->out, "rtt_max_ms", "%.3f", max);
		output_end(&ctl->out);
	} else
		output_printf(&ctl->out, "%llu sent, %llu received, "
		    "rtt min/avg/max = %.3f/%.3f/%.3f ms\n",
		    (unsigned long long)sent, (unsigned long long)received,
		    min, avg, max);
	fflush(stdout);
}

/* Does the reply echo exactly what was sent? */
static int
ping_echoed(const struct iomux_reply *r, const char *data)
{
	size_t	 len;

	if (data == NULL)
		return r->argc == 0;
	len = strlen(data);
	return r->argc == 1 && !r->argv[0].absent && r->argv[0].len == len &&
	    memcmp(r->argv[0].data, data, len) == 0;
}

static int
cmd_ping(struct ctl *ctl, const struct parse_result *res)
{
	struct iomux_reply	 r;
	struct timespec		 t0, t1;
	const char		*data;
	uint64_t		 count, interval, seq, received = 0;
	double			 ms, min = 0, max = 0, sum = 0;
	size_t			 len;
	int			 e, rc = 0;

	count = res->opt[POPT_COUNT].set ? res->opt[POPT_COUNT].num : 1;
	interval = res->opt[POPT_INTERVAL].set ?
	    res->opt[POPT_INTERVAL].num : 0;
	data = res->argc > 0 ? res->argv[0] : NULL;
	len = data != NULL ? strlen(data) : 0;
	if ((e = ctl_connect(ctl)) != 0)
		return e;

	for (seq = 1; seq <= count; seq++) {
		if (seq > 1 && interval > 0)
			sleep_ms(interval);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		e = iomux_ping(ctl->c, data, len, &r);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (e != 0) {
			ping_summary(ctl, seq, received, min, sum, max);
			return call_failed(ctl, e);
		}
		if ((rc = check_reply(ctl, res, &r)) != 0)
			break;
		if (!ping_echoed(&r, data)) {
			ctl_warnx("ping: reply seq=%llu does not echo the "
			    "request", (unsigned long long)seq);
			rc = EXIT_DAEMON;
			break;
		}
		ms = elapsed_ms(&t0, &t1);
		if (received == 0 || ms < min)
			min = ms;
		if (ms > max)
			max = ms;
		sum += ms;
		received++;
		if (ctl->out.json) {
			output_begin(&ctl->out);
			output_field_numf(&ctl->out, "seq", "%llu",
			    (unsigned long long)seq);
			output_field_numf(&ctl->out, "bytes", "%zu", len);
			output_field_numf(&ctl->out, "time_ms", "%.3f", ms);
			output_end(&ctl->out);
		} else
			output_printf(&ctl->out, "reply from %s: seq=%llu "
			    "bytes=%zu time=%.3f ms\n", ctl->peer,
			    (unsigned long long)seq, len, ms);
		/* A stream: each line is out as soon as it is known. */
		fflush(stdout);
	}
	ping_summary(ctl, seq > count ? count : seq, received, min, sum, max);
	return rc;
}

static int
cmd_version(struct ctl *ctl, const struct parse_result *res)
{
	const struct hello_field	*srv = &ctl->server;
	const struct hello_field	*proto = &ctl->proto;
	int				 e;

	if (!ctl->out.json) {
		output_printf(&ctl->out, "iomuxctl %s\n", PACKAGE_VERSION);
		fflush(stdout);
	}
	if ((e = ctl_connect(ctl)) != 0 || (e = ctl_hello(ctl)) != 0)
		return e;
	if (ctl->out.json) {
		output_begin(&ctl->out);
		output_field_str(&ctl->out, "client",
		    "iomuxctl " PACKAGE_VERSION);
		if (srv->present)
			output_field(&ctl->out, "server", srv->data,
			    srv->len);
		if (proto->present)
			output_field(&ctl->out, "protocol", proto->data,
			    proto->len);
		output_end(&ctl->out);
		return 0;
	}
	if (ctl->out.quiet)
		return 0;
	if (srv->present)
		output_text(stdout, srv->data, srv->len);
	else
		fputs("iomuxd (unknown version)", stdout);
	if (proto->present) {
		fputs(" (protocol ", stdout);
		output_text(stdout, proto->data, proto->len);
		putc(')', stdout);
	}
	putc('\n', stdout);
	return 0;
}

/*
 * The next item of the comma-separated list in v, from *off on (start at
 * 0), in *item and *n; *off moves past it. 0 once there is none; an empty
 * list has no items.
 */
static int
list_next(const struct iomux_value *v, size_t *off, const char **item,
    size_t *n)
{
	const char	*comma;

	if (v->len == 0 || *off > v->len)
		return 0;
	*item = (const char *)v->data + *off;
	comma = memchr(*item, ',', v->len - *off);
	*n = comma != NULL ? (size_t)(comma - *item) : v->len - *off;
	*off += *n + 1;
	return 1;
}

/*
 * A list of gids as the daemon sends it ("1000,27"), each with the name
 * of its group on this machine where there is one: "1000 (alice), 27
 * (sudo)". Items that are not gids are kept as they are. A malloc'ed
 * string (free it), or NULL when out of memory.
 */
static char *
gid_names(const struct iomux_value *v)
{
	struct group	*gr;
	const char	*item;
	uint64_t	 gid;
	FILE		*fp;
	char		*s = NULL, num[16];
	size_t		 off = 0, n, len;

	if ((fp = open_memstream(&s, &len)) == NULL)
		return NULL;
	while (list_next(v, &off, &item, &n)) {
		if (item != v->data)
			fputs(", ", fp);
		fwrite(item, 1, n, fp);
		if (n == 0 || n >= sizeof(num))
			continue;
		memcpy(num, item, n);
		num[n] = '\0';
		if (parser_count(num, 0, (gid_t)-1, &gid) == 0 &&
		    (gr = getgrgid((gid_t)gid)) != NULL)
			fprintf(fp, " (%s)", gr->gr_name);
	}
	if (fclose(fp) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* A gid or a list of them: with group names in text, numbers in JSON. */
static void
print_gids(struct ctl *ctl, const char *name, const struct iomux_value *v)
{
	const char	*item;
	size_t		 off = 0, n;
	char		*s;

	if (ctl->out.quiet)
		return;
	if (!ctl->out.json) {
		if ((s = gid_names(v)) == NULL) {
			print_pair(ctl, name, v);
			return;
		}
		output_field_str(&ctl->out, name, s);
		free(s);
		return;
	}
	if (strcmp(name, "groups") != 0) {
		print_pair(ctl, name, v);
		return;
	}
	output_list_begin(&ctl->out, name);
	while (list_next(v, &off, &item, &n))
		output_list_item(&ctl->out, item, n,
		    output_is_number(item, n));
	output_list_end(&ctl->out);
}

/* JSON: every "grant" pair of r, in order, as one array of strings. */
static void
print_grants(struct ctl *ctl, const struct iomux_reply *r)
{
	char	 name[8];
	size_t	 i;

	output_list_begin(&ctl->out, "grant");
	for (i = 0; i + 1 < r->argc; i += 2)
		if (pair_name(&r->argv[i], name, sizeof(name)) == 0 &&
		    strcmp(name, "grant") == 0 && !r->argv[i + 1].absent)
			output_list_item(&ctl->out, r->argv[i + 1].data,
			    r->argv[i + 1].len, 0);
	output_list_end(&ctl->out);
}

/*
 * whoami: the WHOAMI pairs as status prints its own, except that group
 * ids get their names (text) and, in JSON, "groups" is an array of
 * numbers and the "grant" pairs (one per rule that applies, in rule
 * order) one array of strings, where the first of them is.
 */
static int
cmd_whoami(struct ctl *ctl, const struct parse_result *res)
{
	const struct iomux_value	*v;
	struct iomux_reply		 r;
	char				 name[128];
	size_t				 i;
	int				 e, grants = 0;

	if ((e = ctl_connect(ctl)) != 0)
		return e;
	if ((e = call_done(ctl, res, iomux_whoami(ctl->c, &r), &r)) != 0)
		return e;
	output_begin(&ctl->out);
	for (i = 0; i + 1 < r.argc; i += 2) {
		if (pair_name(&r.argv[i], name, sizeof(name)) != 0)
			continue;
		v = &r.argv[i + 1];
		if (ctl->out.json && strcmp(name, "grant") == 0) {
			if (grants++ == 0)
				print_grants(ctl, &r);
		} else if (!v->absent && (strcmp(name, "gid") == 0 ||
		    strcmp(name, "groups") == 0))
			print_gids(ctl, name, v);
		else
			print_pair(ctl, name, v);
	}
	output_end(&ctl->out);
	return 0;
}

/* ---- the hub commands ------------------------------------------------ */

/* A command-line word as a value (argv strings have no NUL inside). */
static struct iomux_value
word(const char *s)
{
	struct iomux_value	 v;

	v.data = s;
	v.len = strlen(s);
	v.absent = 0;
	return v;
}

/*
 * Read all of standard input as one value, refusing more than the
 * daemon's value_max (read one byte past it to know). Returns 0 with a
 * malloc'ed buffer in *out (free it), or an exit status.
 */
static int
read_stdin(struct ctl *ctl, const struct parse_result *res, char **out,
    size_t *outlen)
{
	char	*buf = NULL, *nb;
	size_t	 max, len = 0, cap = 0, want;
	ssize_t	 n;
	int	 e;

	/* HELLO's value_max bounds what is read. */
	if ((e = ctl_hello(ctl)) != 0)
		return e;
	max = ctl->value_max;
	for (;;) {
		if (len == cap) {
			if (cap > max)
				break;
			want = cap == 0 ? STDIN_CHUNK : cap * 2;
			if (want > max + 1)
				want = max + 1;
			if ((nb = realloc(buf, want)) == NULL) {
				free(buf);
				ctl_warnx("%s: out of memory", res->cmd->name);
				return EXIT_NEGATIVE;
			}
			buf = nb;
			cap = want;
		}
		n = read(STDIN_FILENO, buf + len, cap - len);
		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			e = errno;
			free(buf);
			ctl_warnx("%s: read standard input: %s",
			    res->cmd->name, strerror(e));
			return EXIT_NEGATIVE;
		}
		len += (size_t)n;
	}
	if (len > max) {
		free(buf);
		ctl_warnx("%s: the value on standard input is larger than "
		    "value_max (%zu bytes) (ELIMIT)", res->cmd->name, max);
		return EXIT_DAEMON;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

/* Bytes as they are (plus '\n' if newline), or {"<name>": ...}. */
static void
print_bytes(struct ctl *ctl, const char *name, const struct iomux_value *v,
    int newline)
{
	if (ctl->out.json) {
		output_begin(&ctl->out);
		output_field_bytes(&ctl->out, name, v->data, v->len);
		output_end(&ctl->out);
	} else
		(void)output_raw(&ctl->out, v->data, v->len, newline);
}

/* A value: text as is (plus '\n' unless -n), or {"value": ...}. */
static int
print_value(struct ctl *ctl, const struct parse_result *res,
    const struct iomux_value *v)
{
	print_bytes(ctl, "value", v, !res->opt[POPT_NO_NEWLINE].set);
	return 0;
}

/* A number given as text: a decimal line, or {"<name>": N}. */
static int
print_num(struct ctl *ctl, const char *name, const char *num)
{
	if (ctl->out.json) {
		output_begin(&ctl->out);
		output_field_num(&ctl->out, name, num);
		output_end(&ctl->out);
	} else
		output_printf(&ctl->out, "%s\n", num);
	return 0;
}

/* A count: a decimal line, or {"<name>": N}. */
static int
print_count(struct ctl *ctl, const char *name, uint64_t n)
{
	char	 num[32];

	snprintf(num, sizeof(num), "%" PRIu64, n);
	return print_num(ctl, name, num);
}

/* Success without a result: nothing, or {"ok": true}. */
static int
print_ok(struct ctl *ctl)
{
	if (ctl->out.json) {
		output_begin(&ctl->out);
		output_field_num(&ctl->out, "ok", "true");
		output_end(&ctl->out);
	}
	return 0;
}

/* The positionals from 'first' on as values; malloc'ed (free it). */
static int
words(const struct parse_result *res, int first, struct iomux_value **out,
    size_t *n)
{
	struct iomux_value	*v;
	int			 i;

	*n = (size_t)(res->argc - first);
	if ((v = calloc(*n + 1, sizeof(*v))) == NULL) {
		ctl_warnx("%s: out of memory", res->cmd->name);
		return EXIT_NEGATIVE;
	}
	for (i = first; i < res->argc; i++)
		v[i - first] = word(res->argv[i]);
	*out = v;
	return 0;
}

/*
 * Positional 'i' as the value to send: the word itself, or all of
 * standard input when it is "-". 0 with *data and *len (free *in after
 * use), or an exit status.
 */
static int
value_arg(struct ctl *ctl, const struct parse_result *res, int i,
    char **in, const char **data, size_t *len)
{
	int	 e;

	*in = NULL;
	*data = res->argv[i];
	*len = strlen(*data);
	if (strcmp(*data, "-") != 0)
		return 0;
	if ((e = read_stdin(ctl, res, in, len)) != 0)
		return e;
	*data = *in;
	return 0;
}

/* --timeout in ms; 'dflt' when not given (IOMUX_TIMEOUT_FOREVER...). */
static uint64_t
op_timeout(const struct parse_result *res, uint64_t dflt)
{
	if (!res->opt[POPT_TIMEOUT].set)
		return dflt;
	if (res->opt[POPT_TIMEOUT].num == PARSE_FOREVER)
		return IOMUX_TIMEOUT_FOREVER;
	return res->opt[POPT_TIMEOUT].num;
}

/*
 * A command that is one libiomux call on its positionals (a row of
 * cmds[] without a handler): connect, call, judge the reply, and print
 * what the call's shape returns.
 */
static int
call_cmd(struct ctl *ctl, const struct parse_result *res,
    const struct cmd_row *row)
{
	struct iomux_reply	 r;
	struct iomux_value	 v, *names;
	const char		*name = res->argv[0];
	uint64_t		 n;
	size_t			 nnames;
	int			 e;

	if ((e = ctl_connect(ctl)) != 0)
		return e;
	if (row->names != NULL) {
		if ((e = words(res, 0, &names, &nnames)) != 0)
			return e;
		e = row->names(ctl->c, nnames, names, &n, &r);
		free(names);
	} else if (row->value != NULL)
		e = row->value(ctl->c, name, strlen(name), &v, &r);
	else if (row->wait != NULL)
		e = row->wait(ctl->c, name, strlen(name),
		    op_timeout(res, row->dflt), &v, &r);
	else if (row->count != NULL)
		e = row->count(ctl->c, name, strlen(name), &n, &r);
	else
		e = row->name(ctl->c, name, strlen(name), &r);
	if ((e = call_done(ctl, res, e, &r)) != 0)
		return e;
	if (row->value != NULL || row->wait != NULL)
		return print_value(ctl, res, &v);
	if (row->field != NULL)
		return print_count(ctl, row->field, n);
	return print_ok(ctl);
}

static int
cmd_set(struct ctl *ctl, const struct parse_result *res)
{
	struct iomux_set_opts	 so;
	struct iomux_reply	 r;
	struct iomux_value	 expected;
	char			*in;
	const char		*value;
	size_t			 len;
	int			 e;

	if (res->opt[POPT_NX].set && res->opt[POPT_XX].set)
		return usage_error("set: --nx and --xx exclude each other");
	if (res->opt[POPT_TTL].set && res->opt[POPT_KEEP_TTL].set)
		return usage_error("set: --ttl and --keep-ttl exclude each "
		    "other");
	memset(&so, 0, sizeof(so));
	so.ttl_ms = res->opt[POPT_TTL].set ? res->opt[POPT_TTL].num : 0;
	if (res->opt[POPT_NX].set)
		so.flags |= IOMUX_SET_NX;
	if (res->opt[POPT_XX].set)
		so.flags |= IOMUX_SET_XX;
	if (res->opt[POPT_KEEP_TTL].set)
		so.flags |= IOMUX_SET_KEEPTTL;
	if (res->opt[POPT_IF_EQUALS].set) {
		expected = word(res->opt[POPT_IF_EQUALS].str);
		so.expected = &expected;
	}

	if ((e = ctl_connect(ctl)) != 0)
		return e;
	if ((e = value_arg(ctl, res, 1, &in, &value, &len)) != 0)
		return e;
	e = iomux_set(ctl->c, res->argv[0], strlen(res->argv[0]), value, len,
	    &so, &r);
	free(in);
	if ((e = call_done(ctl, res, e, &r)) != 0)
		return e;
	return print_ok(ctl);
}

static int
cmd_incr(struct ctl *ctl, const struct parse_result *res)
{
	struct iomux_reply	 r;
	int64_t			 delta = 1, value;
	char			 num[32], err[128];
	int			 e;

	if (res->argc > 1 && parser_int64(res->argv[1], &delta) != 0) {
		snprintf(err, sizeof(err), "incr: invalid delta '%.40s' "
		    "(expected a 64-bit decimal integer)", res->argv[1]);
		return usage_error(err);
	}
	if ((e = ctl_connect(ctl)) != 0)
		return e;
	e = iomux_incr(ctl->c, res->argv[0], strlen(res->argv[0]), delta,
	    &value, &r);
	if ((e = call_done(ctl, res, e, &r)) != 0)
		return e;
	snprintf(num, sizeof(num), "%" PRId64, value);
	return print_num(ctl, "value", num);
}

/*
 * keys: every cursor until the daemon says 0. A key may come twice if
 * the table is resized meanwhile (the protocol promises "at least once"),
 * and the listing is not a snapshot.
 */
static int
cmd_keys(struct ctl *ctl, const struct parse_result *res)
{
	struct iomux_reply	 r;
	const char		*prefix = res->argc > 0 ? res->argv[0] : "";
	uint64_t		 cursor = 0, next;
	uint32_t		 limit;
	size_t			 i;
	int			 e;

	limit = res->opt[POPT_LIMIT].set ?
	    (uint32_t)res->opt[POPT_LIMIT].num : 0;
	if ((e = ctl_connect(ctl)) != 0)
		return e;
	do {
		e = iomux_keys(ctl->c, prefix, strlen(prefix), cursor, limit,
		    &next, &r);
		if ((e = call_done(ctl, res, e, &r)) != 0)
			return e;
		for (i = 1; i < r.argc; i++)
			print_bytes(ctl, "key", &r.argv[i], 1);
		cursor = next;
	} while (cursor != 0);
	return 0;
}

static int
cmd_ttl(struct ctl *ctl, const struct parse_result *res)
{
	struct iomux_reply	 r;
	int64_t			 ms;
	char			 num[48];
	int			 e;

	if ((e = ctl_connect(ctl)) != 0)
		return e;
	e = iomux_ttl(ctl->c, res->argv[0], strlen(res->argv[0]), &ms, &r);
	if ((e = call_done(ctl, res, e, &r)) != 0)
		return e;
	/* Exact decimal seconds from integer ms; no floating point. */
	if (ms < 0)
		snprintf(num, sizeof(num), "-1");
	else
		snprintf(num, sizeof(num), "%" PRId64 ".%03d", ms / 1000,
		    (int)(ms % 1000));
	return print_num(ctl, "ttl", num);
}

static int
cmd_expire(struct ctl *ctl, const struct parse_result *res)
{
	struct iomux_reply	 r;
	uint64_t		 ms;
	char			 err[160];
	int			 e;

	if (parser_seconds(res->argv[1], TTL_MAX, &ms) != 0 || ms == 0) {
		snprintf(err, sizeof(err), "expire: invalid time '%.40s' "
		    "(expected seconds above 0, fractions allowed)",
		    res->argv[1]);
		return usage_error(err);
	}
	if ((e = ctl_connect(ctl)) != 0)
		return e;
	e = iomux_expire(ctl->c, res->argv[0], strlen(res->argv[0]), ms, &r);
	if ((e = call_done(ctl, res, e, &r)) != 0)
		return e;
	return print_ok(ctl);
}

static int
cmd_push(struct ctl *ctl, const struct parse_result *res)
{
	struct iomux_reply	 r;
	struct iomux_value	*vals;
	uint64_t		 length;
	char			*in = NULL, err[64];
	size_t			 n, i, len, stdin_at = SIZE_MAX;
	int			 e;

	for (i = 1; i < (size_t)res->argc; i++) {
		if (strcmp(res->argv[i], "-") != 0)
			continue;
		if (stdin_at != SIZE_MAX)
			return usage_error("push: standard input ('-') can "
			    "be read only once");
		stdin_at = i - 1;
	}
	if (res->argc - 1 > IOMUX_PUSH_VALUES_MAX) {
		snprintf(err, sizeof(err), "push: at most %d values at once",
		    IOMUX_PUSH_VALUES_MAX);
		return usage_error(err);
	}
	if ((e = ctl_connect(ctl)) != 0)
		return e;
	if ((e = words(res, 1, &vals, &n)) != 0)
		return e;
	if (stdin_at != SIZE_MAX) {
		if ((e = read_stdin(ctl, res, &in, &len)) != 0) {
			free(vals);
			return e;
		}
		vals[stdin_at].data = in;
		vals[stdin_at].len = len;
	}
	e = iomux_push(ctl->c, res->argv[0], strlen(res->argv[0]), n, vals,
	    &length, &r);
	free(vals);
	free(in);
	if ((e = call_done(ctl, res, e, &r)) != 0)
		return e;
	return print_count(ctl, "length", length);
}

static int
cmd_pub(struct ctl *ctl, const struct parse_result *res)
{
	struct iomux_reply	 r;
	uint64_t		 count;
	char			*in;
	const char		*msg;
	size_t			 len;
	int			 e;

	if ((e = ctl_connect(ctl)) != 0)
		return e;
	if ((e = value_arg(ctl, res, 1, &in, &msg, &len)) != 0)
		return e;
	e = iomux_publish(ctl->c, res->argv[0], strlen(res->argv[0]), msg,
	    len, &count, &r);
	free(in);
	if ((e = call_done(ctl, res, e, &r)) != 0)
		return e;
	return print_count(ctl, "count", count);
}

/*
 * Signals for sub and lock: the handler writes the signal number and
 * whether another process sent it (kill(2), not the terminal) to a
 * non-blocking self-pipe, which the poll(2) loops watch.
 */
static int	sig_pipe[2] = { -1, -1 };

static void
on_signal(int sig, siginfo_t *si, void *uctx)
{
	unsigned char	 msg[2];
	int		 saved = errno;

	msg[0] = (unsigned char)sig;
	msg[1] = si != NULL && (si->si_code == SI_USER ||
#ifdef SI_TKILL
	    si->si_code == SI_TKILL ||
#endif
	    si->si_code == SI_QUEUE);
	/* Two bytes are written whole or not at all (PIPE_BUF). */
	if (write(sig_pipe[1], msg, sizeof(msg)) == -1) {
		/* Full: an earlier byte will wake the loop anyway. */
	}
	errno = saved;
}

/* Catch the listed signals (0-terminated) into the self-pipe. */
static int
catch_signals(const int *sigs)
{
	struct sigaction	 sa;
	int			 i;

	if (sig_pipe[0] == -1 && pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) ==
	    -1) {
		ctl_warnx("pipe: %s", strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO;	/* no SA_RESTART: poll returns */
	sigemptyset(&sa.sa_mask);
	for (i = 0; sigs[i] != 0; i++)
		if (sigaction(sigs[i], &sa, NULL) == -1) {
			ctl_warnx("sigaction: %s", strerror(errno));
			return -1;
		}
	return 0;
}

/* Milliseconds until the monotonic deadline (ns); -1: none. */
static int
ms_until(int64_t deadline)
{
	struct timespec	 ts;
	int64_t		 left;

	if (deadline < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	left = deadline - ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
	if (left <= 0)
		return 0;
	left = (left + 999999) / 1000000;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

/*
 * Print one message of sub. 0, 1 when the reader went away (EPIPE: the
 * quiet end of `sub | head -1`), or an exit status after a write error.
 */
static int
sub_print(struct ctl *ctl, const struct iomux_reply *r)
{
	const struct iomux_value	*a = r->argv;
	int				 e = 0;

	if (ctl->out.json) {
		output_begin(&ctl->out);
		output_field_bytes(&ctl->out, "channel", a[0].data, a[0].len);
		output_field_bytes(&ctl->out, "payload", a[1].data, a[1].len);
		if (r->argc > 2 && !a[2].absent)
			output_field_bytes(&ctl->out, "pattern", a[2].data,
			    a[2].len);
		output_end(&ctl->out);
	} else
		e = output_raw(&ctl->out, a[1].data, a[1].len, 1);
	errno = 0;
	if (e == 0 && fflush(stdout) == EOF)
		e = errno != 0 ? -errno : -EIO;
	if (e == 0)
		return 0;
	ctl->stdout_done = 1;
	if (e == -EPIPE)
		return 1;
	ctl_warnx("write error on standard output: %s", strerror(-e));
	return EXIT_NEGATIVE;
}

/*
 * sub: subscribe, then print each message as it comes, flushed, until a
 * signal (0), -c N messages (0), --timeout (1), EPIPE (0) or the end of
 * the connection (3). Replies with id 0 are the daemon's last words
 * before it closes (e.g. ESHUTDOWN): said on stderr, then the end of the
 * stream gives 3.
 */
static int
cmd_sub(struct ctl *ctl, const struct parse_result *res)
{
	static const int	 sigs[] = { SIGINT, SIGTERM, 0 };
	struct iomux_reply	 r;
	struct iomux_value	*chans;
	struct pollfd		 pfd[2];
	struct timespec		 ts;
	unsigned char		 sb[64];
	uint64_t		 want, got = 0, count, tmo;
	int64_t			 deadline = -1;
	size_t			 n;
	int			 e;

	want = res->opt[POPT_MESSAGES].set ? res->opt[POPT_MESSAGES].num : 0;
	tmo = op_timeout(res, IOMUX_TIMEOUT_FOREVER);
	if ((e = ctl_connect(ctl)) != 0)
		return e;
	if ((e = words(res, 0, &chans, &n)) != 0)
		return e;
	e = iomux_subscribe(ctl->c, res->opt[POPT_PATTERN].set ?
	    IOMUX_SUB_PATTERN : 0, n, chans, &count, &r);
	free(chans);
	if ((e = call_done(ctl, res, e, &r)) != 0)
		return e;

	/* `sub | head -1`: a closed pipe is an ordinary end, not a death. */
	signal(SIGPIPE, SIG_IGN);
	if (catch_signals(sigs) != 0)
		return EXIT_NEGATIVE;
	if (tmo != IOMUX_TIMEOUT_FOREVER) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		deadline = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec +
		    (int64_t)tmo * 1000000;
	}
	for (;;) {
		/* Whatever is buffered first: it may have come with the
		 * SUBSCRIBE reply. */
		while ((e = iomux_next(ctl->c, &r)) == 1) {
			if (r.kind == IOMUX_KIND_REPLY && r.id == 0 &&
			    r.code != IOMUX_ST_OK) {
				check_reply(ctl, res, &r);
				continue;
			}
			if (r.kind != IOMUX_KIND_PUSH ||
			    r.code != IOMUX_PUSH_MESSAGE || r.argc < 2 ||
			    r.argv[0].absent || r.argv[1].absent)
				continue;
			if ((e = sub_print(ctl, &r)) != 0)
				return e == 1 ? 0 : e;
			if (++got == want)
				return 0;
		}
		if (e < 0)
			return call_failed(ctl, e);

		pfd[0].fd = iomux_fd(ctl->c);
		pfd[0].events = POLLIN;
		pfd[1].fd = sig_pipe[0];
		pfd[1].events = POLLIN;
		e = poll(pfd, 2, ms_until(deadline));
		if (e == -1 && errno != EINTR) {
			ctl_warnx("poll: %s", strerror(errno));
			return EXIT_NEGATIVE;
		}
		if (e == -1)
			continue;
		if (pfd[1].revents != 0 &&
		    read(sig_pipe[0], sb, sizeof(sb)) > 0)
			return 0;
		if (e == 0) {
			if (!ctl->out.quiet)
				ctl_warnx("sub: timed out");
			return EXIT_NEGATIVE;
		}
		if (pfd[0].revents == 0)
			continue;
		e = iomux_read(ctl->c);
		if (e == 0) {
			ctl_warnx("connection closed by iomuxd");
			return EXIT_CONNECT;
		}
		if (e < 0 && e != -EAGAIN && e != -ENOBUFS)
			return call_failed(ctl, e);
	}
}

/* The exit status sh(1) would give for a wait(2) status. */
static int
child_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return EXIT_NEGATIVE;
}

/*
 * Wait for the child, forwarding the signals other processes send us
 * (a terminal's ^C already reached it: same process group), and watching
 * the connection that holds the lock: if it drops, say so once and keep
 * waiting. Returns the child's exit status.
 */
static int
lock_wait_child(struct ctl *ctl, const struct parse_result *res, pid_t pid)
{
	struct iomux_reply	 r;
	struct pollfd		 pfd[2];
	unsigned char		 sb[64];
	ssize_t			 n, i;
	pid_t			 w;
	int			 st, e, conn = 1;

	for (;;) {
		pfd[0].fd = sig_pipe[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = conn ? iomux_fd(ctl->c) : -1;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			ctl_warnx("poll: %s", strerror(errno));
			/* Still the child's status that matters. */
			while ((w = waitpid(pid, &st, 0)) == -1 &&
			    errno == EINTR)
				;
			return w == pid ? child_status(st) : EXIT_NEGATIVE;
		}
		if (pfd[0].revents != 0) {
			while ((n = read(sig_pipe[0], sb, sizeof(sb) & ~1u)) >
			    0)
				for (i = 0; i + 1 < n; i += 2)
					if (sb[i] != SIGCHLD && sb[i + 1])
						(void)kill(pid, sb[i]);
			w = waitpid(pid, &st, WNOHANG);
			if (w == pid)
				return child_status(st);
		}
		if (conn && pfd[1].revents != 0) {
			e = iomux_read(ctl->c);
			while (e > 0 && iomux_next(ctl->c, &r) == 1)
				;	/* nothing is expected: drop it */
			if (e == 0 || (e < 0 && e != -EAGAIN &&
			    e != -ENOBUFS)) {
				conn = 0;
				fflush(stdout);
				fputs("iomuxctl: lock", stderr);
				note_name(res->argv[0]);
				fputs(": lost the connection to iomuxd; the "
				    "lock is no longer held (the command "
				    "keeps running)\n", stderr);
			}
		}
	}
}

/*
 * lock NAME -- COMMAND: take the lock on this connection, run COMMAND in
 * a child while the connection stays open here, and exit with the
 * child's status. The lock goes when iomuxctl exits and its connection
 * closes, whatever kills it; no UNLOCK is needed.
 */
static int
cmd_lock(struct ctl *ctl, const struct parse_result *res)
{
	static const int	 sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD,
	    0 };
	struct iomux_reply	 r;
	sigset_t		 all, old;
	pid_t			 pid;
	int			 e, i;

	if ((e = ctl_connect(ctl)) != 0)
		return e;
	e = iomux_lock(ctl->c, res->argv[0], strlen(res->argv[0]),
	    op_timeout(res, IOMUX_TIMEOUT_FOREVER),
	    res->opt[POPT_LEASE].set ? res->opt[POPT_LEASE].num : 0, &r);
	if ((e = call_done(ctl, res, e, &r)) != 0)
		return e;

	if (catch_signals(sigs) != 0)
		return EXIT_NEGATIVE;
	fflush(stdout);
	fflush(stderr);
	/* No handler may run in the child before its dispositions reset. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == -1) {
		e = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		ctl_warnx("fork: %s", strerror(e));
		return EXIT_NEGATIVE;
	}
	if (pid == 0) {
		for (i = 0; sigs[i] != 0; i++)
			signal(sigs[i], SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		execvp(res->argv[1], res->argv + 1);
		e = errno;
		fprintf(stderr, "iomuxctl: %s: %s\n", res->argv[1],
		    strerror(e));
		_exit(e == ENOENT ? EXEC_NOTFOUND : EXEC_FAILED);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return lock_wait_child(ctl, res, pid);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "socket",	required_argument,	NULL, 's' },
		{ "host",	required_argument,	NULL, 'H' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "token-file",	required_argument,	NULL, OPT_TOKEN_FILE },
		{ NULL,		0,			NULL, 0 }
	};
	const struct cmd_row	*row;
	struct parse_result	 res;
	struct ctl		 ctl;
	uint64_t		 ms;
	char			 err[256];
	int			 ch, json = 0, quiet = 0, rc;

	memset(&ctl, 0, sizeof(ctl));
	ctl.timeout_ms = TIMEOUT_DEFAULT;
	opterr = 0;	/* our own messages, named "iomuxctl" */
	/* '+': stop at the command; its options belong to the parser. */
	while ((ch = getopt_long(argc, argv, "+:s:H:t:qhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			ctl.socket = optarg;
			break;
		case 'H':
			ctl.host = optarg;
			break;
		case OPT_TOKEN_FILE:
			if (*optarg == '\0')
				return usage_error("--token-file needs a file "
				    "name");
			ctl.token_file = optarg;
			break;
		case 't':
			if (parser_seconds(optarg, TIMEOUT_MAX, &ms) != 0) {
				snprintf(err, sizeof(err), "invalid timeout "
				    "'%s' (expected seconds, 0 for none)",
				    optarg);
				return usage_error(err);
			}
			ctl.timeout_ms = ms == 0 ? -1 : (int)ms;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			help(stdout);
			return 0;
		case 'V':
			printf("iomuxctl %s\n", PACKAGE_VERSION);
			return 0;
		case ':':
			snprintf(err, sizeof(err), "option '%s' needs a value",
			    argv[optind - 1]);
			return usage_error(err);
		default:
			if (optopt != 0)
				snprintf(err, sizeof(err), "unknown option "
				    "'-%c'", optopt);
			else
				snprintf(err, sizeof(err), "unknown option "
				    "'%s'", argv[optind - 1]);
			return usage_error(err);
		}
	}
	if (ctl.socket != NULL && ctl.host != NULL)
		return usage_error("-s and -H cannot be used together");
	if (optind >= argc)
		return usage_error("no command given");
	if (parser_parse(argc - optind, argv + optind, &res, err,
	    sizeof(err)) != 0)
		return usage_error(err);

	json |= res.opt[POPT_JSON].set;
	quiet |= res.opt[POPT_QUIET].set;
	output_init(&ctl.out, stdout, json, quiet);
	ctl.res = &res;
	row = &cmds[res.cmd->action];
	rc = row->run != NULL ? row->run(&ctl, &res) :
	    call_cmd(&ctl, &res, row);
	iomux_close(ctl.c);
	explicit_bzero(ctl.token, sizeof(ctl.token));

	if (!ctl.stdout_done && (fflush(stdout) == EOF || ferror(stdout))) {
		ctl_warnx("write error on standard output");
		if (rc == 0)
			rc = EXIT_NEGATIVE;
	}
	return rc;
}
