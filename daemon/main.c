/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * main.c: the command line, the configuration's sources (defaults, file,
 * flags; flags win), going to the background, and wiring the server.
 * Nothing testable lives here.
 *
 * Flags are kept as key/value text so that a reload (SIGHUP) can rebuild
 * the configuration from scratch: defaults, then the file as it is now,
 * with the command line still on top.
 *
 * Going to the background changes directory to "/". Relative paths (the
 * config file, the socket) are therefore resolved against the directory
 * iomuxd was started in, remembered before any chdir, so that a reload
 * reads the same file and a socket removed at exit is the one we made.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ev.h"
#include "log.h"
#include "server.h"

#define FLAGS_MAX	64

enum {
	OPT_TCP_REMOTE = 256,
	OPT_MAX_CLIENTS,
	OPT_FRAME_MAX,
	OPT_OUTPUT_LIMIT,
	OPT_OUTPUT_TIMEOUT,
	OPT_FRAME_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_SHUTDOWN_TIMEOUT,
	OPT_KEY_MAX,
	OPT_VALUE_MAX,
	OPT_MAX_MEMORY,
	OPT_SUBSCRIPTIONS_MAX,
	OPT_CLIENT_MEMORY_MAX,
	OPT_MAX_CLIENTS_PER_UID,
	OPT_CLIENT_MEMORY_MAX_PER_UID,
	OPT_TOKEN_FILE,
};

static const struct option longopts[] = {
	{ "foreground",		no_argument,		NULL, 'f' },
	{ "config",		required_argument,	NULL, 'c' },
	{ "check-config",	no_argument,		NULL, 'n' },
	{ "socket",		required_argument,	NULL, 's' },
	{ "socket-mode",	required_argument,	NULL, 'm' },
	{ "backend",		required_argument,	NULL, 'b' },
	{ "tcp",		required_argument,	NULL, 't' },
	{ "tcp-allow-remote",	no_argument,		NULL, OPT_TCP_REMOTE },
	{ "max-clients",	required_argument,	NULL, OPT_MAX_CLIENTS },
	{ "frame-max",		required_argument,	NULL, OPT_FRAME_MAX },
	{ "output-limit",	required_argument,	NULL, OPT_OUTPUT_LIMIT },
	{ "output-timeout",	required_argument,	NULL, OPT_OUTPUT_TIMEOUT },
	{ "frame-timeout",	required_argument,	NULL, OPT_FRAME_TIMEOUT },
	{ "idle-timeout",	required_argument,	NULL, OPT_IDLE_TIMEOUT },
	{ "shutdown-timeout",	required_argument,	NULL,
	    OPT_SHUTDOWN_TIMEOUT },
	{ "key-max",		required_argument,	NULL, OPT_KEY_MAX },
	{ "value-max",		required_argument,	NULL, OPT_VALUE_MAX },
	{ "max-memory",		required_argument,	NULL, OPT_MAX_MEMORY },
	{ "subscriptions-max",	required_argument,	NULL,
	    OPT_SUBSCRIPTIONS_MAX },
	{ "client-memory-max",	required_argument,	NULL,
	    OPT_CLIENT_MEMORY_MAX },
	{ "max-clients-per-uid", required_argument,	NULL,
	    OPT_MAX_CLIENTS_PER_UID },
	{ "client-memory-max-per-uid", required_argument, NULL,
	    OPT_CLIENT_MEMORY_MAX_PER_UID },
	{ "token-file",		required_argument,	NULL, OPT_TOKEN_FILE },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "version",		no_argument,		NULL, 'V' },
	{ "help",		no_argument,		NULL, 'h' },
	{ NULL,			0,			NULL, 0 }
};

/* Option -> config-file key; the file and the flags share one parser. */
static const struct {
	int		 opt;
	const char	*key;
} optkeys[] = {
	{ 's', "socket" },
	{ 'm', "socket_mode" },
	{ 'b', "backend" },
	{ 't', "tcp" },
	{ OPT_TCP_REMOTE, "tcp_allow_remote" },
	{ OPT_MAX_CLIENTS, "max_clients" },
	{ OPT_FRAME_MAX, "frame_max" },
	{ OPT_OUTPUT_LIMIT, "output_limit" },
	{ OPT_OUTPUT_TIMEOUT, "output_timeout" },
	{ OPT_FRAME_TIMEOUT, "frame_timeout" },
	{ OPT_IDLE_TIMEOUT, "idle_timeout" },
	{ OPT_SHUTDOWN_TIMEOUT, "shutdown_timeout" },
	{ OPT_KEY_MAX, "key_max" },
	{ OPT_VALUE_MAX, "value_max" },
	{ OPT_MAX_MEMORY, "max_memory" },
	{ OPT_SUBSCRIPTIONS_MAX, "subscriptions_max" },
	{ OPT_CLIENT_MEMORY_MAX, "client_memory_max" },
	{ OPT_MAX_CLIENTS_PER_UID, "max_clients_per_uid" },
	{ OPT_CLIENT_MEMORY_MAX_PER_UID, "client_memory_max_per_uid" },
	{ OPT_TOKEN_FILE, "token_file" },
};

static struct {
	const char	*key;
	const char	*value;
} flags[FLAGS_MAX];
static int		 nflags;
static int		 verbose;
static bool		 foreground;
static const char	*conf_path = SYSCONFDIR "/iomuxd.conf";
static bool		 conf_explicit;
static char		 conf_abs[PATH_MAX];	/* conf_path made absolute */
static char		 start_cwd[PATH_MAX];	/* "" if getcwd(3) failed */

static void __attribute__((noreturn))
usage(int status)
{
	FILE	*f = status == 0 ? stdout : stderr;

	fprintf(f,
"usage: iomuxd [-fhnvV] [-b backend] [-c file] [-m mode] [-s path]\n"
"              [-t addr:port] [--tcp-allow-remote] [--max-clients n]\n"
"              [--frame-max size] [--output-limit size]\n"
"              [--output-timeout secs] [--frame-timeout secs]\n"
"              [--idle-timeout secs] [--shutdown-timeout secs]\n"
"              [--key-max size] [--value-max size] [--max-memory size]\n"
"              [--subscriptions-max n] [--client-memory-max size]\n"
"              [--max-clients-per-uid n]\n"
"              [--client-memory-max-per-uid size] [--token-file path]\n");
	exit(status);
}

static const char *
opt_key(int opt)
{
	size_t	i;

	for (i = 0; i < sizeof(optkeys) / sizeof(optkeys[0]); i++)
		if (optkeys[i].opt == opt)
			return optkeys[i].key;
	return NULL;
}

/*
 * Write 'path' made absolute against the start directory into out: 0,
 * -ENAMETOOLONG, or -ENOENT if the start directory is unknown (getcwd(3)
 * failed: it was removed, or is too deep).
 */
static int
abspath(const char *path, char *out, size_t len)
{
	int	n;

	if (path[0] == '/')
		n = snprintf(out, len, "%s", path);
	else if (start_cwd[0] == '\0')
		return -ENOENT;
	else
		n = snprintf(out, len, "%s/%s", start_cwd, path);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Defaults, then the file, then the command line on top. */
static int
build_conf(struct conf *c, char *err, size_t errlen)
{
	struct conf_set	locked;
	char		num[16], abs[CONF_PATH_MAX];
	int		i, ret;

	conf_defaults(c);
	memset(&locked, 0, sizeof(locked));
	for (i = 0; i < nflags; i++)
		if ((ret = conf_set_key(c, flags[i].key, flags[i].value,
		    &locked, err, errlen)) < 0)
			return ret;
	if (verbose > 0) {
		snprintf(num, sizeof(num), "%d", verbose);
		if ((ret = conf_set_key(c, "verbose", num, &locked, err,
		    errlen)) < 0)
			return ret;
	}
	ret = conf_load(c, conf_path, &locked, err, errlen);
	if (ret == -ENOENT && !conf_explicit)
		ret = conf_check(c, err, errlen);	/* conf_load did not */
	else if (ret == -ENOENT)
		snprintf(err, errlen, "%s: no such file", conf_path);
	else if (ret < 0 && ret != -EINVAL)
		snprintf(err, errlen, "%s: %s", conf_path, strerror(-ret));
	c->foreground = foreground;
	/*
	 * In the foreground the directory never changes, and the socket
	 * keeps the name it was given (logs, STATUS).
	 */
	if (ret < 0 || foreground || c->socket_path[0] == '\0')
		return ret;
	if ((ret = abspath(c->socket_path, abs, sizeof(abs))) < 0) {
		snprintf(err, errlen, ret == -ENAMETOOLONG ?
		    "socket path too long once made absolute: %s" :
		    "relative socket path %s, but the current directory is "
		    "unknown", c->socket_path);
		return ret;
	}
	memcpy(c->socket_path, abs, sizeof(c->socket_path));
	return 0;
}

static int
reload(struct server *srv)
{
	struct conf	nc;
	char		err[256];
	int		ret;

	if ((ret = build_conf(&nc, err, sizeof(err))) < 0) {
		log_warnx("reload: %s", err);
		return ret;
	}
	server_reconfigure(srv, &nc);
	return 0;
}

static bool
backend_known(const char *name)
{
	int	i;

	for (i = 0; ev_backends[i] != NULL; i++)
		if (strcmp(ev_backends[i]->name, name) == 0)
			return true;
	return false;
}

static void
backend_list(char *buf, size_t len)
{
	size_t	off = 0;
	int	i, n;

	buf[0] = '\0';
	for (i = 0; ev_backends[i] != NULL; i++) {
		n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
		    ev_backends[i]->name);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}

/* Detach from the terminal once the sockets are bound and errors told. */
static int
daemonize(void)
{
	pid_t	pid;
	int	fd;

	if ((pid = fork()) == -1)
		return -errno;
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		return -errno;
	if (chdir("/") == -1)
		return -errno;
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return -errno;
	(void)dup2(fd, STDIN_FILENO);
	(void)dup2(fd, STDOUT_FILENO);
	(void)dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	log_syslog(1);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct server	 srv;
	struct conf	 conf;
	const char	*key;
	char		 err[512], list[64];
	bool		 check_only = false;
	int		 ch, ret;

	while ((ch = getopt_long(argc, argv, "b:c:fhm:ns:t:vV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			conf_explicit = true;
			break;
		case 'f':
			foreground = true;
			break;
		case 'h':
			usage(0);
		case 'n':
			check_only = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return 0;
		default:
			if ((key = opt_key(ch)) == NULL)
				usage(2);
			if (nflags == FLAGS_MAX) {
				fprintf(stderr, "iomuxd: too many options\n");
				return 2;
			}
			flags[nflags].key = key;
			flags[nflags].value = ch == OPT_TCP_REMOTE ? "yes" :
			    optarg;
			nflags++;
			break;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "iomuxd: unexpected argument '%s'\n",
		    argv[optind]);
		usage(2);
	}

	log_init("iomuxd", verbose);
	if (getcwd(start_cwd, sizeof(start_cwd)) == NULL)
		start_cwd[0] = '\0';
	if ((ret = abspath(conf_path, conf_abs, sizeof(conf_abs))) < 0) {
		fprintf(stderr, "iomuxd: %s: %s\n", conf_path,
		    ret == -ENOENT ? "relative path, but the current "
		    "directory is unknown" : strerror(-ret));
		return 2;
	}
	conf_path = conf_abs;
	if (build_conf(&conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "iomuxd: %s\n", err);
		return 2;
	}
	if (conf.backend[0] != '\0' && !backend_known(conf.backend)) {
		backend_list(list, sizeof(list));
		fprintf(stderr, "iomuxd: unknown backend '%s' (available: "
		    "%s)\n", conf.backend, list);
		return 2;
	}
	if (check_only) {
		printf("configuration ok\n");
		return 0;
	}
	log_setverbose(conf.verbose);

	if ((ret = server_init(&srv, &conf, err, sizeof(err))) != 0) {
		fprintf(stderr, "iomuxd: %s\n", err);
		/* A socket the configuration names wrongly is its error. */
		return ret == -EPERM || ret == -EINVAL ||
		    ret == -ENAMETOOLONG ? 2 : 1;
	}
	server_reload_hook = reload;
	if (!conf.foreground && !srv.activated &&
	    getenv("NOTIFY_SOCKET") == NULL && getenv("INVOCATION_ID") == NULL &&
	    ((ret = daemonize()) < 0 || (ret = server_after_fork(&srv)) < 0)) {
		log_warnc(ret, "daemonize");
		server_free(&srv);
		return 1;
	}
	ret = server_run(&srv);
	server_free(&srv);
	if (ret < 0) {
		log_warnc(ret, "event loop failed");
		return 1;
	}
	log_info("stopped");
	return 0;
}
