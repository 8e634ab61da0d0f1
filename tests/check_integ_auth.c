/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_integ_auth.c: the TCP side of the access policy of the real
 * iomuxd (issue 7): the token file (made only with a TCP listener, mode
 * 0640, 64 lowercase hex characters and a newline, new at every start,
 * removed at a clean stop), HELLO with the right token, a wrong one or
 * none, what each gets under the default rules and under `tcp`/`any`
 * rules, auth_failures, and WHOAMI and HELLO's auth pair over TCP and
 * UNIX. check_integ_policy.c has the UNIX rules.
 *
 * Every denial must be EDENIED with the message of the spec, and the
 * connection must stay open (rdenied() PINGs on it afterwards). The
 * token file goes into the test's own directory (dstart() passes
 * --token-file DIR/token): the default, /run/iomuxd/token, is no place
 * for a test.
 *
 * The suite is skipped unless it runs as root, like check_integ_policy:
 * its UNIX clients are real uids.
 */

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "iomux.h"
#include "integ-util.h"
#include "testutil.h"

#define NOBODY		65534

/* A daemon with a TCP listener on a free port, and its token. */
struct tdaemon {
	struct tu_daemon	d;
	char			hp[32];
	int			port;
	char			tokfile[PATH_MAX];
	char			token[TOKEN_LEN + 1];
};

/*
 * Start a daemon with conf (rule lines) and --tcp on a free loopback
 * port; read its token (dtoken() checks mode and form) and check that
 * the file is the daemon's uid and gid (ours: root).
 */
static void
tstart(struct tdaemon *t, const char *backend, const char *conf)
{
	struct stat	st;

	memset(t, 0, sizeof *t);
	t->port = tu_free_tcp_port();
	ASSERT(t->port > 0, "no free port: %s", strerror(-t->port));
	snprintf(t->hp, sizeof t->hp, "127.0.0.1:%d", t->port);
	dstart_rules(&t->d, backend, conf, t->hp);
	ASSERT((size_t)snprintf(t->tokfile, sizeof t->tokfile, "%s/token",
	    t->d.dir) < sizeof t->tokfile, "path too long");
	dtoken(&t->d, t->token);
	ASSERT(stat(t->tokfile, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == geteuid() && st.st_gid == getegid(), "token file "
	    "%s: not a regular file of the daemon's uid and gid %ld:%ld",
	    t->tokfile, (long)geteuid(), (long)getegid());
}

/* Stop cleanly: the token file goes with the daemon. */
static void
tstop(struct tdaemon *t)
{
	struct stat	st;

	ASSERT(tu_daemon_kill(&t->d, SIGTERM) == 0 &&
	    tu_daemon_wait_exit(&t->d, TU_STOP_TIMEOUT_MS) == 0,
	    "iomuxd -b %s did not exit on SIGTERM", t->d.backend);
	ASSERT(lstat(t->tokfile, &st) == -1 && errno == ENOENT, "the token "
	    "file %s outlived a clean stop", t->tokfile);
	dstop(&t->d);
}

/* A raw TCP connection to t. */
static int
tconnect(const struct tdaemon *t)
{
	int	fd;

	fd = tu_connect_tcp(t->port, IO_MS);
	ASSERT(fd >= 0, "connect %s: %s", t->hp, strerror(-fd));
	return fd;
}

/* HELLO with token (NULL: none) is OK, with the pair auth = want. */
static void
hello_ok(int line, int fd, const char *token, const char *want)
{
	struct tu_frame	f;

	if (token != NULL)
		rcall(line, fd, &f, IOMUX_OP_HELLO, 3,
		    RARGV(RA32(1), RNONE, RA(token)));
	else
		rcall(line, fd, &f, IOMUX_OP_HELLO, 2,
		    RARGV(RA32(1), RA("check_integ_auth")));
	ASSERT(f.code == IOMUX_ST_OK, "line %d: HELLO: status 0x%04x \"%s\"",
	    line, f.code, f.nargs > 0 ? rtext(&f.args[0]) : "");
	rfield_is(line, &f, "auth", want);
	tu_frame_free(&f);
}
#define HELLO_OK(fd, token, auth)					\
	hello_ok(__LINE__, (fd), (token), (auth))

/* HELLO with this token is EDENIED "hello: wrong token"; fd stays. */
#define HELLO_WRONG(fd, token)						\
	rdenied(__LINE__, (fd), "hello: wrong token", NULL, 0,		\
	    IOMUX_OP_HELLO, 3, RARGV(RA32(1), RA("x"), RA(token)))

/* WHOAMI over TCP: listener tcp, auth, rules, grants; no peer fields. */
static void
whoami_tcp(int line, int fd, const char *auth, const char *rules,
    const char *grants)
{
	struct tu_frame	f;

	rwhoami(line, fd, &f, grants);
	rfield_is(line, &f, "listener", "tcp");
	rfield_is(line, &f, "auth", auth);
	rfield_is(line, &f, "rules", rules);
	rfield_is(line, &f, "uid", NULL);
	rfield_is(line, &f, "pid", NULL);
	tu_frame_free(&f);
}
#define WHOAMI_TCP(fd, auth, rules, grants)				\
	whoami_tcp(__LINE__, (fd), (auth), (rules), (grants))

/* ---- the token file ---------------------------------------------------- */

/*
 * The token_file key of iomuxd.conf(5) puts the token where it says (a
 * start by hand: dstart() would pass --token-file).
 */
static void
token_file_key(const char *backend)
{
	struct tu_daemon	 d;
	const char		*ex[5];
	char			 conf[PATH_MAX], tok[PATH_MAX], hp[32];
	char			 text[PATH_MAX + 32];
	struct stat		 st;
	int			 rc, port;

	rc = tu_daemon_init(&d, backend);
	ASSERT(rc == 0, "tu_daemon_init: %s", strerror(-rc));
	ASSERT((size_t)snprintf(conf, sizeof conf, "%s/iomuxd.conf", d.dir) <
	    sizeof conf && (size_t)snprintf(tok, sizeof tok, "%s/by-key",
	    d.dir) < sizeof tok, "path too long");
	snprintf(text, sizeof text, "token_file = %s\n", tok);
	rc = tu_write_file(conf, text);
	ASSERT(rc == 0, "write %s: %s", conf, strerror(-rc));
	port = tu_free_tcp_port();
	ASSERT(port > 0, "no free port: %s", strerror(-port));
	snprintf(hp, sizeof hp, "127.0.0.1:%d", port);
	ex[0] = "-c";
	ex[1] = conf;
	ex[2] = "--tcp";
	ex[3] = hp;
	ex[4] = NULL;
	rc = tu_daemon_spawn(&d, ex);
	ASSERT(rc == 0, "spawn: %s", strerror(-rc));
	rc = tu_daemon_wait_ready(&d, TU_START_TIMEOUT_MS);
	ASSERT(rc == 0, "iomuxd with token_file not ready: %s",
	    strerror(-rc));
	ASSERT(stat(tok, &st) == 0 && (st.st_mode & 07777) == 0640 &&
	    st.st_size == TOKEN_LEN + 1, "token_file = %s: no token there",
	    tok);
	dstop(&d);
}

/*
 * Made only when a TCP listener exists; new at every start; removed at a
 * clean stop (tstop() checks).
 */
START_TEST(test_token_file)
{
	struct tdaemon		t;
	struct tu_daemon	d;
	struct stat		st;
	char			first[TOKEN_LEN + 1];

	tstart(&t, BACKEND, "");
	memcpy(first, t.token, sizeof first);
	tstop(&t);
	tstart(&t, BACKEND, "");
	ASSERT(strcmp(first, t.token) != 0, "the same token at two starts");
	tstop(&t);

	/* No TCP listener, no token file. */
	dstart_rules(&d, BACKEND, "", NULL);
	ASSERT((size_t)snprintf(t.tokfile, sizeof t.tokfile, "%s/token",
	    d.dir) < sizeof t.tokfile, "path too long");
	ASSERT(lstat(t.tokfile, &st) == -1 && errno == ENOENT, "a token "
	    "file without a TCP listener");
	lping_fresh(&d, "no tcp");
	dstop(&d);
	token_file_key(BACKEND);
}
END_TEST

/* ---- the default rules over TCP ---------------------------------------- */

/*
 * No rule: a TCP client without the token gets nothing but HELLO, PING
 * and WHOAMI; a wrong token is EDENIED and counted, and changes nothing;
 * the right one makes it `tcp token`, rw by the default rule.
 */
START_TEST(test_tcp_defaults)
{
	struct tdaemon	t;
	char		wrong[TOKEN_LEN + 1], nl[TOKEN_LEN + 2];
	int		fd, r, k;

	tstart(&t, BACKEND, "");
	r = rconnect(&t.d);
	RREQ(r, IOMUX_ST_OK, IOMUX_OP_SET, RA("k"), RA("v"));

	fd = tconnect(&t);
	HELLO_OK(fd, NULL, "none");
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_HELLO, RA32(1), RNONE);
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_PING, RA("p"));
	WHOAMI_TCP(fd, "none", "default", "");
	RDENY(fd, "get 'k': no rule grants tcp client (no token) access to "
	    "'k'", IOMUX_OP_GET, RA("k"));
	RDENY(fd, "set 'k': no rule grants tcp client (no token) access to "
	    "'k'", IOMUX_OP_SET, RA("k"), RA("w"));
	RDENY0_HAS(fd, "tcp client (no token)", IOMUX_OP_STATUS);

	/* Wrong tokens: one digit off, too short, with the newline. */
	memcpy(wrong, t.token, sizeof wrong);
	wrong[17] = wrong[17] == '0' ? '1' : '0';
	HELLO_WRONG(fd, wrong);
	HELLO_WRONG(fd, "abc");
	snprintf(nl, sizeof nl, "%s\n", t.token);
	HELLO_WRONG(fd, nl);
	RDENY(fd, "get 'k': no rule grants tcp client (no token) access to "
	    "'k'", IOMUX_OP_GET, RA("k"));
	WHOAMI_TCP(fd, "none", "default", "");
	ASSERT(RSTAT(r, "auth_failures") == 3, "auth_failures %lld after 3 "
	    "wrong tokens", RSTAT(r, "auth_failures"));

	/* The right token, after wrong ones on the same connection. */
	HELLO_OK(fd, t.token, "token");
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_GET, RA("k"));
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_SET, RA("k"), RA("w"));
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_PUSH, RA("q"), RA("a"));
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_POP, RA("q"));
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_TRYLOCK, RA("l"));
	RSTATUS_IS(fd, 0);
	WHOAMI_TCP(fd, "token", "default", "default rw *");
	close(fd);

	/* A fresh connection is not authenticated by the last one. */
	fd = tconnect(&t);
	RDENY(fd, "get 'k': no rule grants tcp client (no token) access to "
	    "'k'", IOMUX_OP_GET, RA("k"));
	HELLO_OK(fd, t.token, "token");
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_GET, RA("k"));
	close(fd);

	/* Over UNIX a token grants nothing, but a wrong one is wrong. */
	HELLO_OK(r, NULL, "peer");
	HELLO_OK(r, t.token, "peer");
	HELLO_WRONG(r, wrong);
	ASSERT(RSTAT(r, "auth_failures") == 4, "auth_failures %lld after a "
	    "fourth wrong token, over UNIX", RSTAT(r, "auth_failures"));
	RSTATUS_IS(r, 1);
	k = uconnect(&t.d, NOBODY, NOBODY, NULL, 0);
	HELLO_OK(k, t.token, "peer");
	RSTATUS_IS(k, 0);
	close(k);
	ASSERT(RSTAT(r, "requests_denied") >= 5, "requests_denied %lld "
	    "after 5 denied requests over TCP",
	    RSTAT(r, "requests_denied"));
	close(r);
	tstop(&t);
}
END_TEST

/* ---- tcp and any rules ------------------------------------------------- */

/*
 * `tcp anonymous ro` gives ro without a token, `tcp token ro` limits
 * token holders; `any anonymous` matches TCP clients only, `any uid=0`
 * UNIX ones only; a %u rule never matches TCP.
 */
START_TEST(test_tcp_rules)
{
	struct tdaemon	t;
	int		fd, r, n;

	tstart(&t, BACKEND,
	    "rule = any uid=0 admin\n"
	    "rule = any all rw u/%u/\n"
	    "rule = any anonymous ro\n"
	    "rule = tcp token ro\n");
	r = rconnect(&t.d);
	RREQ(r, IOMUX_ST_OK, IOMUX_OP_SET, RA("k"), RA("v"));
	fd = tconnect(&t);
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_GET, RA("k"));
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_KEYS, RA(""));
	RDENY(fd, "set 'k': tcp client (no token) has ro by rule 3",
	    IOMUX_OP_SET, RA("k"), RA("w"));
	RDENY(fd, "set 'u/k': tcp client (no token) has ro by rule 3",
	    IOMUX_OP_SET, RA("u/k"), RA("w"));
	RSTATUS_IS(fd, 0);
	HELLO_OK(fd, t.token, "token");
	RDENY(fd, "set 'k': tcp client (token) has ro by rule 4",
	    IOMUX_OP_SET, RA("k"), RA("w"));
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_GET, RA("k"));
	RSTATUS_IS(fd, 0);
	close(fd);

	/* A UNIX peer: `any anonymous` and `tcp token` are not for it. */
	n = uconnect(&t.d, NOBODY, NOBODY, NULL, 0);
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_SET, RA("u/nobody/k"), RA("1"));
	RDENY(n, "get 'k': no rule grants uid 65534 (nobody) access to "
	    "'k'", IOMUX_OP_GET, RA("k"));
	HELLO_OK(n, t.token, "peer");
	RDENY(n, "get 'k': no rule grants uid 65534 (nobody) access to "
	    "'k'", IOMUX_OP_GET, RA("k"));
	close(n);
	close(r);
	tstop(&t);

	/* `tcp all`: with or without the token. */
	tstart(&t, BACKEND, "rule = tcp all ro\n");
	fd = tconnect(&t);
	RDENY(fd, "set 'k': tcp client (no token) has ro by rule 1",
	    IOMUX_OP_SET, RA("k"), RA("w"));
	HELLO_OK(fd, t.token, "token");
	RDENY(fd, "set 'k': tcp client (token) has ro by rule 1",
	    IOMUX_OP_SET, RA("k"), RA("w"));
	WHOAMI_TCP(fd, "token", "config", "1 ro *");
	close(fd);
	tstop(&t);
}
END_TEST

/* ---- reload ------------------------------------------------------------ */

/*
 * A TCP connection takes the rules when it is accepted and again when
 * HELLO authenticates it: one that authenticates after a reload gets the
 * new rules, one that did before keeps the old.
 */
START_TEST(test_tcp_reload)
{
	struct tdaemon	t;
	char		tok[TOKEN_LEN + 1];
	int		before, later, r;

	tstart(&t, BACKEND,
	    "rule = unix uid=0 admin\n"
	    "rule = tcp token rw\n");
	r = rconnect(&t.d);
	before = tconnect(&t);
	HELLO_OK(before, t.token, "token");
	later = tconnect(&t);
	RREQ(later, IOMUX_ST_OK, IOMUX_OP_PING, RA("accepted"));

	dreload_rules(&t.d,
	    "rule = unix uid=0 admin\n"
	    "rule = tcp token ro\n"
	    "rule = any all none\n", r, 3);

	RREQ(before, IOMUX_ST_OK, IOMUX_OP_SET, RA("k"), RA("1"));
	HELLO_OK(later, t.token, "token");
	RDENY(later, "set 'k': tcp client (token) has ro by rule 2",
	    IOMUX_OP_SET, RA("k"), RA("2"));
	RREQ(later, IOMUX_ST_OK, IOMUX_OP_GET, RA("k"));
	/* The token did not change with the reload. */
	dtoken(&t.d, tok);
	ASSERT(strcmp(tok, t.token) == 0, "a reload changed the token");
	close(later);
	close(before);
	close(r);
	tstop(&t);
}
END_TEST

static Suite *
integ_auth_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("integ_auth");
	tc = tcase(s, "token_file", 30);
	LOOP(tc, test_token_file);
	tc = tcase(s, "tcp", 30);
	LOOP(tc, test_tcp_defaults);
	LOOP(tc, test_tcp_rules);
	LOOP(tc, test_tcp_reload);
	return s;
}

int
main(void)
{
	return integ_main_root("check_integ_auth", integ_auth_suite);
}
