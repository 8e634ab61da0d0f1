/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * iomuxctl.c: the command-line client of iomuxd. main() parses the global
 * options, hands the rest to the command table (parser.c), and runs the
 * handler for the command's action; handlers talk to the daemon through
 * libiomux and print through output.c.
 *
 * The exit status is the interface scripts rely on (iomuxctl(1), EXIT
 * STATUS): 0 ok, 1 a negative answer, 2 usage, 3 cannot connect or talk to
 * the daemon (including a request that timed out), 4 the daemon returned an
 * error or spoke nonsense. Every failure prints one err(3)-shaped line on
 * stderr, always prefixed "iomuxctl: " whatever argv[0] is (libtool's
 * wrapper runs an "lt-" binary).
 */

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

struct ctl {
	const char		*socket;	/* -s, or NULL */
	const char		*host;		/* -H, or NULL */
	int			 timeout_ms;	/* -1: forever */
	struct iomux_client	*c;
	struct output		 out;
	char			 peer[SOCKPATH_MAX];
};

typedef int	cmd_handler(struct ctl *, const struct parse_result *);

static cmd_handler	cmd_help, cmd_status, cmd_ping, cmd_version;

/* Indexed by enum action: each row of parser.c's table lands here. */
static cmd_handler *const handlers[ACT_MAX] = {
	[ACT_HELP] = cmd_help,
	[ACT_STATUS] = cmd_status,
	[ACT_PING] = cmd_ping,
	[ACT_VERSION] = cmd_version,
};

static const char usage_line[] =
    "usage: iomuxctl [-hqV] [-s PATH | -H HOST:PORT] [-t SECONDS] [--json] "
    "COMMAND [ARGS]\n";

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

/* Resolve the socket (-H, -s, $IOMUXD_SOCKET, default) and connect. */
static int
ctl_connect(struct ctl *ctl)
{
	char	 msg[512];
	int	 r;

	if (ctl->c != NULL)
		return 0;
	if (ctl->host != NULL) {
		snprintf(ctl->peer, sizeof(ctl->peer), "%s", ctl->host);
		r = iomux_connect_tcp(ctl->host, ctl->timeout_ms, &ctl->c,
		    msg, sizeof(msg));
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
	}
	if (r == 0)
		return 0;
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

/*
 * Judge a reply: 0 for OK, else print why and return the exit status
 * (4 for an error reply, 1 for a negative answer).
 */
static int
check_reply(const char *what, const struct iomux_reply *r)
{
	const struct iomux_value	*m;

	if (r->code == IOMUX_ST_OK)
		return 0;
	fflush(stdout);
	fprintf(stderr, "iomuxctl: %s: ", what);
	m = r->argc > 0 && !r->argv[0].absent ? &r->argv[0] : NULL;
	if (IOMUX_ST_IS_ERROR(r->code) && m != NULL) {
		output_text(stderr, m->data, m->len);
		fprintf(stderr, " (%s)\n", iomux_status_name(r->code));
	} else
		fprintf(stderr, "%s\n", iomux_status_text(r->code));
	return IOMUX_ST_IS_ERROR(r->code) ? EXIT_DAEMON : EXIT_NEGATIVE;
}

static int
cmd_help(struct ctl *ctl, const struct parse_result *res)
{
	if (!ctl->out.quiet)
		help(stdout);
	return 0;
}

static int
cmd_status(struct ctl *ctl, const struct parse_result *res)
{
	struct iomux_reply	 r;
	size_t			 i;
	int			 e;

	if ((e = ctl_connect(ctl)) != 0)
		return e;
	if ((e = iomux_status(ctl->c, &r)) != 0)
		return call_failed(ctl, e);
	if ((e = check_reply("status", &r)) != 0)
		return e;
	output_begin(&ctl->out);
	for (i = 0; i + 1 < r.argc; i += 2) {
		char	 name[128];
		size_t	 n;

		/* Names are short ASCII; a weird one is shown escaped. */
		if (r.argv[i].absent)
			continue;
		n = r.argv[i].len < sizeof(name) ? r.argv[i].len :
		    sizeof(name) - 1;
		memcpy(name, r.argv[i].data, n);
		name[n] = '\0';
		if (r.argv[i + 1].absent)
			output_field_str(&ctl->out, name, "");
		else
			output_field(&ctl->out, name, r.argv[i + 1].data,
			    r.argv[i + 1].len);
	}
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
	char	 num[64];
	double	 avg;

	if (received == 0)
		min = max = avg = 0;
	else
		avg = sum / (double)received;
	if (ctl->out.json) {
		output_begin(&ctl->out);
		snprintf(num, sizeof(num), "%llu", (unsigned long long)sent);
		output_field_num(&ctl->out, "sent", num);
		snprintf(num, sizeof(num), "%llu",
		    (unsigned long long)received);
		output_field_num(&ctl->out, "received", num);
		snprintf(num, sizeof(num), "%.3f", min);
		output_field_num(&ctl->out, "rtt_min_ms", num);
		snprintf(num, sizeof(num), "%.3f", avg);
		output_field_num(&ctl->out, "rtt_avg_ms", num);
		snprintf(num, sizeof(num), "%.3f", max);
		output_field_num(&ctl->out, "rtt_max_ms", num);
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
	char			 num[64];
	int			 e, rc = 0;

	count = res->opt[POPT_COUNT].set ? res->opt[POPT_COUNT].num : 1;
	interval = res->opt[POPT_INTERVAL].set ?
	    res->opt[POPT_INTERVAL].num : 0;
	data = res->argc > 0 ? res->argv[0] : NULL;
	if ((e = ctl_connect(ctl)) != 0)
		return e;

	for (seq = 1; seq <= count; seq++) {
		if (seq > 1 && interval > 0)
			sleep_ms(interval);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		e = iomux_ping(ctl->c, data, data != NULL ? strlen(data) : 0,
		    &r);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (e != 0) {
			ping_summary(ctl, seq, received, min, sum, max);
			return call_failed(ctl, e);
		}
		if ((rc = check_reply("ping", &r)) != 0)
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
			snprintf(num, sizeof(num), "%llu",
			    (unsigned long long)seq);
			output_field_num(&ctl->out, "seq", num);
			snprintf(num, sizeof(num), "%zu",
			    data != NULL ? strlen(data) : (size_t)0);
			output_field_num(&ctl->out, "bytes", num);
			snprintf(num, sizeof(num), "%.3f", ms);
			output_field_num(&ctl->out, "time_ms", num);
			output_end(&ctl->out);
		} else
			output_printf(&ctl->out, "reply from %s: seq=%llu "
			    "bytes=%zu time=%.3f ms\n", ctl->peer,
			    (unsigned long long)seq,
			    data != NULL ? strlen(data) : (size_t)0, ms);
		/* A stream: each line is out as soon as it is known. */
		fflush(stdout);
	}
	ping_summary(ctl, seq > count ? count : seq, received, min, sum, max);
	return rc;
}

static int
cmd_version(struct ctl *ctl, const struct parse_result *res)
{
	const struct iomux_value	*srv, *proto;
	struct iomux_reply		 r;
	int				 e;

	if (!ctl->out.json) {
		output_printf(&ctl->out, "iomuxctl %s\n", PACKAGE_VERSION);
		fflush(stdout);
	}
	if ((e = ctl_connect(ctl)) != 0)
		return e;
	if ((e = iomux_hello(ctl->c, &r)) != 0)
		return call_failed(ctl, e);
	if ((e = check_reply("version", &r)) != 0)
		return e;
	srv = iomux_reply_field(&r, "server");
	proto = iomux_reply_field(&r, "proto");
	if (ctl->out.json) {
		output_begin(&ctl->out);
		output_field_str(&ctl->out, "client",
		    "iomuxctl " PACKAGE_VERSION);
		if (srv != NULL && !srv->absent)
			output_field(&ctl->out, "server", srv->data,
			    srv->len);
		if (proto != NULL && !proto->absent)
			output_field(&ctl->out, "protocol", proto->data,
			    proto->len);
		output_end(&ctl->out);
		return 0;
	}
	if (ctl->out.quiet)
		return 0;
	if (srv != NULL && !srv->absent)
		output_text(stdout, srv->data, srv->len);
	else
		fputs("iomuxd (unknown version)", stdout);
	if (proto != NULL && !proto->absent) {
		fputs(" (protocol ", stdout);
		output_text(stdout, proto->data, proto->len);
		putc(')', stdout);
	}
	putc('\n', stdout);
	return 0;
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
		{ NULL,		0,			NULL, 0 }
	};
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
	rc = handlers[res.cmd->action](&ctl, &res);
	iomux_close(ctl.c);

	if (fflush(stdout) == EOF || ferror(stdout)) {
		ctl_warnx("write error on standard output");
		if (rc == 0)
			rc = EXIT_NEGATIVE;
	}
	return rc;
}
