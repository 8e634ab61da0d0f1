/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_integ_policy.c: the access policy of the real iomuxd (issue 7,
 * iomuxd.conf(5) "rule" lines), with clients that are real uids
 * (uconnect()): the default rules; every role (admin, rw, ro, none)
 * against every opcode; namespaces, %u and %%; gid and group principals
 * resolved by the daemon; first match wins; no deciding rule; what a
 * denial does not cost (it changes no data and holds nothing) and how it
 * is counted; a reload that applies to new connections only while old ones
 * keep their rules, subscriptions, locks and waits; WHOAMI; config errors.
 * The TCP token is check_integ_auth.c's.
 *
 * Every denial must be EDENIED with the message of the spec, and the
 * connection must stay open: a PING on it afterwards gets OK. Blocking
 * requests carry a timeout of 0 so that nothing waits.
 *
 * A daemon started here serves its socket with mode 0666 in a directory
 * made 0711, so that any uid reaches it. Each case reuses one daemon (or
 * two) for all its assertions; each runs once per backend.
 *
 * The whole suite is skipped unless it runs as root (it needs setuid).
 */

#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "iomux.h"
#include "integ-util.h"
#include "testutil.h"

#define NOBODY		65534	/* has a passwd entry: "uid 65534 (nobody)" */
#define U1		65533	/* the others have none: "uid 65533" */
#define U2		65532
#define U3		65531

/* ---- helpers ----------------------------------------------------------- */

/* A UNIX peer as the daemon names it: "uid N (NAME)", or "uid N". */
static const char *
who(uid_t uid)
{
	static char	 buf[64];
	struct passwd	*pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, sizeof buf, "uid %ld (%s)", (long)uid,
		    pw->pw_name);
	else
		snprintf(buf, sizeof buf, "uid %ld", (long)uid);
	return buf;
}

/* An opcode's name as a denial starts with it: "set", "psubscribe". */
static const char *
lop(uint16_t op)
{
	static char	buf[32];
	const char	*n = opname(op);
	size_t		i;

	for (i = 0; n[i] != '\0' && i < sizeof buf - 1; i++)
		buf[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] - 'A' + 'a' :
		    n[i]);
	buf[i] = '\0';
	return buf;
}

/* WHOAMI on fd must have these grants, and no more checks. */
#define GRANTS(fd, g) do {						\
	struct tu_frame	f_;						\
									\
	rwhoami(__LINE__, (fd), &f_, (g));				\
	tu_frame_free(&f_);						\
} while (0)

/*
 * WHOAMI on a UNIX connection of uid with primary gid: listener, auth,
 * uid, user (NULL: no passwd entry, no pair), gid, groups starting with
 * the primary one and holding each of the comma-separated also, a pid,
 * rules "config".
 */
static void
whoami_unix(int line, int fd, uid_t uid, gid_t gid, const char *user,
    const char *also)
{
	struct tu_frame		 f;
	const struct tu_arg	*g;
	char			 num[32], list[512], one[32];
	const char		*p, *e;
	uint64_t		 pid = 0;

	rcall(line, fd, &f, IOMUX_OP_WHOAMI, 0, NULL);
	ASSERT(f.code == IOMUX_ST_OK, "line %d: WHOAMI status 0x%04x", line,
	    f.code);
	rfield_is(line, &f, "listener", "unix");
	rfield_is(line, &f, "auth", "peer");
	snprintf(num, sizeof num, "%ld", (long)uid);
	rfield_is(line, &f, "uid", num);
	rfield_is(line, &f, "user", user);
	snprintf(num, sizeof num, "%ld", (long)gid);
	rfield_is(line, &f, "gid", num);
	rfield_is(line, &f, "rules", "config");
	ASSERT(tu_frame_field_u64(&f, "pid", &pid) == 0 && pid > 0,
	    "line %d: WHOAMI pid \"%s\"", line, tu_frame_field(&f, "pid") ?
	    rtext(tu_frame_field(&f, "pid")) : "(missing)");
	g = tu_frame_field(&f, "groups");
	ASSERT(g != NULL, "line %d: WHOAMI lacks groups", line);
	snprintf(list, sizeof list, "%s", rtext(g));
	ASSERT(strncmp(list, num, strlen(num)) == 0 &&
	    (list[strlen(num)] == '\0' || list[strlen(num)] == ','),
	    "line %d: WHOAMI groups \"%s\": the primary gid %s first", line,
	    list, num);
	for (p = also; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		snprintf(one, sizeof one, "%.*s", (int)(e - p), p);
		ASSERT(list_has(list, one), "line %d: WHOAMI groups \"%s\" "
		    "lack %s", line, list, one);
	}
	tu_frame_free(&f);
}
#define WHOAMI_UNIX(fd, uid, gid, user, also)				\
	whoami_unix(__LINE__, (fd), (uid), (gid), (user), (also))

/*
 * PSUBSCRIBE denied with the message want: the request names the pattern,
 * the names it would receive are those under the pattern less its '*'.
 */
#define PDENY(fd, want, ...)						\
	rdenied(__LINE__, (fd), (want), NULL, 0, IOMUX_OP_PSUBSCRIBE,	\
	    RNARG(__VA_ARGS__), RARGV(__VA_ARGS__))

/* The next frame on fd is a MESSAGE push of msg to channel ch. */
static void
rrecv_push(int line, int fd, const char *ch, const char *msg)
{
	struct tu_frame	f;
	int		rc;

	rc = tu_read_frame(fd, &f, 1u << 20, IO_MS);
	ASSERT(rc == 1, "line %d: want a push, got %s", line, rc == 0 ?
	    "end of stream" : strerror(-rc));
	ASSERT(f.kind == IOMUX_KIND_PUSH && f.code == IOMUX_PUSH_MESSAGE &&
	    f.nargs == 2 && tu_arg_eq(&f.args[0], ch, strlen(ch)) &&
	    tu_arg_eq(&f.args[1], msg, strlen(msg)), "line %d: want a push "
	    "of \"%s\" to %s, got kind %u code 0x%04x with %zu arguments",
	    line, msg, ch, f.kind, f.code, f.nargs);
	tu_frame_free(&f);
}

/* How many times d's log has needle. */
static int
log_count(const struct tu_daemon *d, const char *needle)
{
	static char	 log[1 << 16];
	const char	*p;
	int		 n = 0;

	tu_daemon_read_log(d, log, sizeof log);
	for (p = log; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* iomuxd refuses to start with this configuration: exit code 2. */
static void
pfail(int line, const char *backend, const char *conf)
{
	struct tu_daemon	 d;
	const char		*ex[3];
	char			 path[PATH_MAX];
	int			 rc;

	rc = tu_daemon_init(&d, backend);
	ASSERT(rc == 0, "tu_daemon_init: %s", strerror(-rc));
	ASSERT((size_t)snprintf(path, sizeof path, "%s/iomuxd.conf",
	    d.dir) < sizeof path, "path too long");
	rc = tu_write_file(path, conf);
	ASSERT(rc == 0, "write %s: %s", path, strerror(-rc));
	ex[0] = "-c";
	ex[1] = path;
	ex[2] = NULL;
	rc = tu_daemon_spawn(&d, ex);
	ASSERT(rc == 0, "spawn: %s", strerror(-rc));
	rc = tu_daemon_wait_exit(&d, 5000);
	ASSERT(rc == 0, "line %d: iomuxd runs with the bad rules \"%.200s\"",
	    line, conf);
	ASSERT(tu_daemon_exit_code(&d) == 2, "line %d: exit code %d with "
	    "\"%.200s\", want 2 (a configuration error)", line,
	    tu_daemon_exit_code(&d), conf);
	tu_daemon_cleanup(&d);
}

/* Root's STATUS says n rules are in force; then stop d. */
static void
dstop_rules(struct tu_daemon *d, long long n)
{
	int	r = rconnect(d);

	ASSERT(RSTAT(r, "rules") == n, "STATUS rules %lld, want %lld",
	    RSTAT(r, "rules"), n);
	close(r);
	dstop(d);
}

/* ---- the default rules ------------------------------------------------ */

/*
 * Start iomuxd as uid (the daemon's euid is one of the default rules'
 * principals): a wrapper, run as root by the test's spawn, gives the
 * daemon's directory to uid and execs iomuxd through setpriv(1). The
 * directories above it must be searchable by uid: the test's top
 * directory is made 0711. Returns 0, or -ENOENT without setpriv.
 */
static int
dstart_as(struct tu_daemon *d, const char *backend, uid_t uid,
    const char *conf)
{
	char		 wrap[PATH_MAX], text[2 * PATH_MAX], real[PATH_MAX];
	const char	*top = getenv("TMPDIR"), *bin = tu_iomuxd();
	int		 rc;

	if (access("/usr/bin/setpriv", X_OK) != 0 || top == NULL ||
	    bin == NULL)
		return -ENOENT;
	ASSERT(strlen(bin) < sizeof real, "$IOMUXD too long");
	strcpy(real, bin);
	ASSERT(chmod(top, 0711) == 0, "chmod %s: %s", top, strerror(errno));
	snprintf(wrap, sizeof wrap, "%s/iomuxd-as-%ld", top, (long)uid);
	/* $3 is the socket path: iomuxd -f -s PATH -b ... */
	snprintf(text, sizeof text, "#!/bin/sh\n"
	    "chown %ld:%ld \"$(dirname \"$3\")\" || exit 126\n"
	    "exec /usr/bin/setpriv --reuid=%ld --regid=%ld --clear-groups "
	    "-- '%s' \"$@\"\n", (long)uid, (long)uid, (long)uid, (long)uid,
	    real);
	rc = tu_write_file(wrap, text);
	ASSERT(rc == 0 && chmod(wrap, 0755) == 0, "write %s: %s", wrap,
	    strerror(rc != 0 ? -rc : errno));
	setenv("IOMUXD", wrap, 1);
	dstart_rules(d, backend, conf, NULL);
	setenv("IOMUXD", real, 1);
	return 0;
}

/*
 * No rule at all: root and the daemon's own uid are admin (STATUS with
 * details), every other UNIX uid is rw (STATUS summary only). The daemon
 * runs as U1 so that "the daemon's euid" is not root's rule twice.
 */
START_TEST(test_defaults)
{
	struct tu_daemon	d;
	int			r, u, n, as;

	as = dstart_as(&d, BACKEND, U1, "") == 0;
	if (!as) {
		/* Without setpriv: a root daemon, U1 then is a plain uid. */
		fprintf(stderr, "check_integ_policy: no setpriv; the "
		    "daemon's-own-uid rule is not tested\n");
		dstart_rules(&d, BACKEND, "", NULL);
	}
	r = rconnect(&d);
	RREQ(r, IOMUX_ST_OK, IOMUX_OP_SET, RA("k"), RA("v"));
	RSTATUS_IS(r, 1);
	GRANTS(r, as ? "default admin *|default rw *" :
	    "default admin *|default admin *|default rw *");

	/* The daemon's own uid is admin, then rw (unix all). */
	if (as) {
		u = uconnect(&d, U1, U1, NULL, 0);
		RSTATUS_IS(u, 1);
		GRANTS(u, "default admin *|default rw *");
		close(u);
	}

	/* Anyone else: rw on data, STATUS summary only. */
	n = uconnect(&d, NOBODY, NOBODY, NULL, 0);
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_GET, RA("k"));
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_SET, RA("n/k"), RA("v"));
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_DEL, RA("n/k"), RA("k"));
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_PUSH, RA("q"), RA("a"));
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_POP, RA("q"));
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_TRYLOCK, RA("l"));
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_UNLOCK, RA("l"));
	RSTATUS_IS(n, 0);
	GRANTS(n, "default rw *");
	close(n);

	/* rules is 0 while the defaults apply; nothing was denied. */
	ASSERT(RSTAT(r, "rules") == 0, "STATUS rules %lld with no rule "
	    "line", RSTAT(r, "rules"));
	ASSERT(RSTAT(r, "requests_denied") == 0, "requests_denied %lld "
	    "with nothing denied", RSTAT(r, "requests_denied"));
	close(r);
	dstop(&d);
}
END_TEST

/* ---- every role against every opcode ---------------------------------- */

/* One request of the role test and its status when it is allowed. */
struct opcase {
	int		 line;
	uint16_t	 op;
	int		 write;	/* needs rw (else ro is enough) */
	uint16_t	 st;	/* the status when allowed */
	const char	*name;	/* the name a denial reports */
	size_t		 argc;
	struct tu_arg	 argv[2];
};
#define OPC(op, w, name, ...)						\
	{ __LINE__, (op), (w), IOMUX_ST_OK, (name), RNARG(__VA_ARGS__),	\
	    { __VA_ARGS__ } }

/*
 * The role under test on a daemon whose rule `rule` gives uid that role
 * (and nothing else matches uid): every opcode is allowed or EDENIED
 * exactly as the spec's role table says; the always-allowed ones always
 * are. Root seeds what the allowed statuses assume (key k, queue q).
 */
static void
role_run(const struct tu_daemon *d, uid_t uid, const char *role, int rule)
{
	const struct opcase	 ops[] = {
		OPC(IOMUX_OP_GET, 0, "k", RA("k")),
		OPC(IOMUX_OP_EXISTS, 0, "k", RA("k")),
		OPC(IOMUX_OP_TTL, 0, "k", RA("k")),
		OPC(IOMUX_OP_KEYS, 0, "", RA("")),
		OPC(IOMUX_OP_QLEN, 0, "q", RA("q")),
		OPC(IOMUX_OP_PEEK, 0, "q", RA("q")),
		OPC(IOMUX_OP_WAIT, 0, "k", RA("k"), RA64(0)),
		OPC(IOMUX_OP_SUBSCRIBE, 0, "sub", RA("sub")),
		OPC(IOMUX_OP_PSUBSCRIBE, 0, "p.", RA("p.*")),
		OPC(IOMUX_OP_SET, 1, "k", RA("k"), RA("w")),
		OPC(IOMUX_OP_DEL, 1, "gone", RA("gone")),
		OPC(IOMUX_OP_INCR, 1, "n", RA("n")),
		OPC(IOMUX_OP_EXPIRE, 1, "k", RA("k"), RA64(600000)),
		OPC(IOMUX_OP_PERSIST, 1, "k", RA("k")),
		OPC(IOMUX_OP_PUSH, 1, "q", RA("q"), RA("b")),
		OPC(IOMUX_OP_POP, 1, "q", RA("q"), RA64(0)),
		OPC(IOMUX_OP_PUBLISH, 1, "pub", RA("pub"), RA("m")),
		OPC(IOMUX_OP_LOCK, 1, "l", RA("l"), RA64(0)),
		OPC(IOMUX_OP_UNLOCK, 1, "l", RA("l")),
		OPC(IOMUX_OP_TRYLOCK, 1, "l", RA("l")),
		OPC(IOMUX_OP_UNLOCK, 1, "l", RA("l")),
	};
	char		 want[256], alt[256], w[64];
	size_t		 i;
	int		 r, fd, rw, ro;

	snprintf(w, sizeof w, "%s", who(uid));
	rw = strcmp(role, "rw") == 0 || strcmp(role, "admin") == 0;
	ro = rw || strcmp(role, "ro") == 0;
	r = rconnect(d);
	RREQ(r, IOMUX_ST_OK, IOMUX_OP_SET, RA("k"), RA("v"));
	RREQ(r, IOMUX_ST_OK, IOMUX_OP_PUSH, RA("q"), RA("a"));
	fd = uconnect(d, uid, uid, NULL, 0);
	for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		if (ops[i].write ? rw : ro) {
			rreq(ops[i].line, fd, ops[i].st, ops[i].op,
			    ops[i].argc, ops[i].argv);
			continue;
		}
		snprintf(want, sizeof want, "%s '%s': %s has %s by rule %d",
		    lop(ops[i].op), ops[i].name, w, role, rule);
		/* A pattern is named less its '*' (or, maybe, with it). */
		snprintf(alt, sizeof alt, "%s '%s*': %s has %s by rule %d",
		    lop(ops[i].op), ops[i].name, w, role, rule);
		rdenied(ops[i].line, fd, want, ops[i].op ==
		    IOMUX_OP_PSUBSCRIBE ? alt : NULL, 0, ops[i].op,
		    ops[i].argc, ops[i].argv);
	}
	/* The always-allowed: HELLO, PING, WHOAMI, (P)UNSUBSCRIBE. */
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_HELLO, RA32(1));
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_PING, RA("p"));
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_UNSUBSCRIBE, RA("sub"));
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_PUNSUBSCRIBE, RA("p.*"));
	RREQ0(fd, IOMUX_ST_OK, IOMUX_OP_UNSUBSCRIBE);
	RREQ0(fd, IOMUX_ST_OK, IOMUX_OP_PUNSUBSCRIBE);
	snprintf(want, sizeof want, "%d %s *", rule, role);
	GRANTS(fd, want);
	if (ro) {
		RSTATUS_IS(fd, strcmp(role, "admin") == 0);
	} else {
		snprintf(want, sizeof want, "status: %s has none by rule %d",
		    w, rule);
		RDENY0(fd, want, IOMUX_OP_STATUS);
	}
	close(fd);
	close(r);
}

START_TEST(test_roles)
{
	struct tu_daemon	d;

	dstart_rules(&d, BACKEND,
	    "rule = unix uid=0 admin\n"
	    "rule = unix uid=65531 admin\n"
	    "rule = unix uid=65532 rw\n"
	    "rule = unix uid=65533 ro\n"
	    "rule = unix uid=65534 none\n", NULL);
	role_run(&d, U3, "admin", 2);
	role_run(&d, U2, "rw", 3);
	role_run(&d, U1, "ro", 4);
	role_run(&d, NOBODY, "none", 5);
	dstop_rules(&d, 5);
}
END_TEST

/* ---- namespaces ------------------------------------------------------- */

/*
 * rw on deploy/, ro on every name: the first rule whose prefix the name
 * starts with decides, per name; a request with several names needs
 * every one, and the first denied one is reported.
 */
START_TEST(test_namespace)
{
	struct tu_daemon	d;
	int			n;

	dstart_rules(&d, BACKEND,
	    "rule = unix uid=65534 rw deploy/\n"
	    "rule = unix all ro\n", NULL);
	n = uconnect(&d, NOBODY, NOBODY, NULL, 0);
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_SET, RA("deploy/x"), RA("1"));
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_SET, RA("deploy/a"), RA("1"));
	RDENY(n, "set 'other': uid 65534 (nobody) has ro by rule 2",
	    IOMUX_OP_SET, RA("other"), RA("1"));
	RREQ(n, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, RA("other"));
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_GET, RA("deploy/x"));
	/* "deploy" is not under "deploy/": rule 2 decides. */
	RDENY(n, "set 'deploy': uid 65534 (nobody) has ro by rule 2",
	    IOMUX_OP_SET, RA("deploy"), RA("1"));
	/* KEYS names its prefix, PSUBSCRIBE its pattern less the '*'. */
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_KEYS, RA("deploy/"));
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_KEYS, RA(""));	/* ro: rule 2 */
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_PSUBSCRIBE, RA("deploy/*"));
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_PSUBSCRIBE, RA("*"));	/* ro */
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, RA("deploy/c"), RA("c"));
	/* Several names: all or nothing, the denied one named. */
	RDENY(n, "del 'other': uid 65534 (nobody) has ro by rule 2",
	    IOMUX_OP_DEL, RA("deploy/a"), RA("other"));
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_GET, RA("deploy/a"));
	RDENY(n, "push 'q': uid 65534 (nobody) has ro by rule 2",
	    IOMUX_OP_PUSH, RA("q"), RA("x"));
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_PUSH, RA("deploy/q"), RA("x"));
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_TRYLOCK, RA("deploy/l"));
	RDENY(n, "trylock 'l': uid 65534 (nobody) has ro by rule 2",
	    IOMUX_OP_TRYLOCK, RA("l"));
	/* STATUS: the first rule with no prefix, rule 2: ro, summary. */
	RSTATUS_IS(n, 0);
	GRANTS(n, "1 rw deploy/|2 ro *");
	close(n);
	dstop(&d);
}
END_TEST

/*
 * %u is the peer's user name (its uid without a passwd entry); %% is a
 * literal %. A rule with a prefix names it in a denial (" on 'PREFIX'").
 */
START_TEST(test_namespace_user)
{
	struct tu_daemon	d;
	int			n, u, r;

	dstart_rules(&d, BACKEND,
	    "rule = unix uid=0 admin\n"
	    "rule = unix all ro shared/ 100%%/\n"
	    "rule = unix all rw user/%u/\n"
	    "rule = unix all ro home/%u/\n", NULL);
	n = uconnect(&d, NOBODY, NOBODY, NULL, 0);
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_SET, RA("user/nobody/x"), RA("1"));
	RDENY(n, "set 'user/root/x': no rule grants uid 65534 (nobody) "
	    "access to 'user/root/x'", IOMUX_OP_SET, RA("user/root/x"),
	    RA("1"));
	RDENY(n, "set 'user/65534/x': no rule grants uid 65534 (nobody) "
	    "access to 'user/65534/x'", IOMUX_OP_SET, RA("user/65534/x"),
	    RA("1"));
	RDENY(n, "set 'shared/x': uid 65534 (nobody) has ro on 'shared/' "
	    "by rule 2", IOMUX_OP_SET, RA("shared/x"), RA("1"));
	RDENY(n, "set '100%/x': uid 65534 (nobody) has ro on '100%/' by "
	    "rule 2", IOMUX_OP_SET, RA("100%/x"), RA("1"));
	RREQ(n, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, RA("shared/x"));
	RREQ(n, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, RA("100%/x"));
	RDENY(n, "get '100%%/x': no rule grants uid 65534 (nobody) access "
	    "to '100%%/x'", IOMUX_OP_GET, RA("100%%/x"));
	/* The prefix of a denial is the one that matched, %u expanded. */
	RDENY(n, "set 'home/nobody/x': uid 65534 (nobody) has ro on "
	    "'home/nobody/' by rule 4", IOMUX_OP_SET, RA("home/nobody/x"),
	    RA("1"));
	GRANTS(n, "2 ro shared/ 100%/|3 rw user/nobody/|4 ro home/nobody/");
	WHOAMI_UNIX(n, NOBODY, NOBODY, "nobody", "65534");

	/* Without a passwd entry, %u is the uid in decimal. */
	u = uconnect(&d, U1, U1, NULL, 0);
	RREQ(u, IOMUX_ST_OK, IOMUX_OP_SET, RA("user/65533/x"), RA("1"));
	RDENY(u, "set 'user/nobody/y': no rule grants uid 65533 access to "
	    "'user/nobody/y'", IOMUX_OP_SET, RA("user/nobody/y"), RA("1"));
	GRANTS(u, "2 ro shared/ 100%/|3 rw user/65533/|4 ro home/65533/");
	WHOAMI_UNIX(u, U1, U1, NULL, "65533");

	/* Root's rule 1 comes first; it is admin everywhere. */
	r = rconnect(&d);
	RREQ(r, IOMUX_ST_OK, IOMUX_OP_GET, RA("user/nobody/x"));
	RREQ(r, IOMUX_ST_OK, IOMUX_OP_SET, RA("shared/x"), RA("1"));
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_GET, RA("shared/x"));
	close(r);
	close(u);
	close(n);
	dstop(&d);
}
END_TEST

/*
 * A prefix request (KEYS, PSUBSCRIBE) lists or receives every name under
 * its prefix: a later rule covering the prefix must not decide for the
 * names an earlier rule denies. The review's case: 'none user/' before
 * 'ro', and KEYS "u" listed user/root/..., PSUBSCRIBE "u*" received what
 * root published in user/root/.
 */
START_TEST(test_prefix_requests)
{
	struct tu_daemon	d;
	int			n, r;

	dstart_rules(&d, BACKEND,
	    "rule = unix uid=0 admin\n"
	    "rule = unix all rw user/%u/\n"
	    "rule = unix all none user/\n"
	    "rule = unix all ro\n", NULL);
	r = rconnect(&d);
	RREQ(r, IOMUX_ST_OK, IOMUX_OP_SET, RA("user/root/secret"), RA("1"));
	n = uconnect(&d, NOBODY, NOBODY, NULL, 0);
	RDENY(n, "keys 'u': uid 65534 (nobody) has none on 'user/' by rule 3",
	    IOMUX_OP_KEYS, RA("u"));
	RDENY(n, "keys '': uid 65534 (nobody) has none on 'user/' by rule 3",
	    IOMUX_OP_KEYS, RA(""));
	PDENY(n, "psubscribe 'u*': uid 65534 (nobody) has none on 'user/' by "
	    "rule 3", RA("u*"));
	PDENY(n, "psubscribe '*': uid 65534 (nobody) has none on 'user/' by "
	    "rule 3", RA("*"));
	/* Its own namespace, and what lies beside user/, are its to list. */
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_KEYS, RA("user/nobody/"));
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_KEYS, RA("x"));
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_PSUBSCRIBE, RA("user/nobody/*"));
	RREQ(n, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, RA("vv"));
	/* Nothing root publishes in user/root/ reaches it. */
	RREQ(r, IOMUX_ST_OK, IOMUX_OP_PUBLISH, RA("user/root/c"), RA("m"));
	RREQ(r, IOMUX_ST_OK, IOMUX_OP_PUBLISH, RA("vv"), RA("seen"));
	rrecv_push(__LINE__, n, "vv", "seen");
	close(r);
	close(n);
	dstop(&d);
}
END_TEST

/* ---- gid and group principals ----------------------------------------- */

/* 1 if the user's groups, as getgrouplist(3) gives them, hold gid. */
static int
user_in_group(const char *user, gid_t gid)
{
	struct passwd	*pw;
	gid_t		 g[256];
	int		 n = 256, i;

	if ((pw = getpwnam(user)) == NULL ||
	    getgrouplist(user, pw->pw_gid, g, &n) < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (g[i] == gid)
			return 1;
	return 0;
}

/*
 * gid= matches the peer's primary gid (SO_PEERCRED); group= also the
 * groups getgrouplist(3) gives the uid's user, not the groups the client
 * process happens to carry.
 */
START_TEST(test_groups)
{
	const gid_t		 extra[] = { 4242 };
	struct tu_daemon	 d;
	struct group		*gr;
	int			 fd;

	dstart_rules(&d, BACKEND,
	    "rule = unix uid=0 admin\n"
	    "rule = unix gid=4242 rw\n"
	    "rule = unix group=nogroup ro\n", NULL);
	/* Primary gid 4242: rule 2, for a uid with or without a name. */
	fd = uconnect(&d, NOBODY, 4242, NULL, 0);
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_SET, RA("g"), RA("1"));
	WHOAMI_UNIX(fd, NOBODY, 4242, "nobody", "4242");
	close(fd);
	fd = uconnect(&d, U1, 4242, NULL, 0);
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_SET, RA("g"), RA("2"));
	GRANTS(fd, "2 rw *");
	close(fd);
	/* No name, no such gid: nothing decides. */
	fd = uconnect(&d, U1, U1, NULL, 0);
	RDENY(fd, "get 'g': no rule grants uid 65533 access to 'g'",
	    IOMUX_OP_GET, RA("g"));
	close(fd);
	/* A supplementary group of the process alone is not looked at. */
	fd = uconnect(&d, U1, U1, extra, 1);
	RDENY(fd, "set 'g': no rule grants uid 65533 access to 'g'",
	    IOMUX_OP_SET, RA("g"), RA("3"));
	close(fd);

	gr = getgrnam("nogroup");
	if (gr == NULL || !user_in_group("nobody", gr->gr_gid)) {
		fprintf(stderr, "check_integ_policy: getgrouplist(\"nobody\") "
		    "lacks nogroup here: group= by supplementary group not "
		    "tested\n");
	} else {
		/* Primary gid 4243, nobody's groups hold nogroup: rule 3. */
		fd = uconnect(&d, NOBODY, 4243, NULL, 0);
		RREQ(fd, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, RA("none"));
		RDENY(fd, "set 'g': uid 65534 (nobody) has ro by rule 3",
		    IOMUX_OP_SET, RA("g"), RA("4"));
		GRANTS(fd, "3 ro *");
		close(fd);
	}
	dstop(&d);
}
END_TEST

/* ---- first match, no match -------------------------------------------- */

/*
 * The first rule that matches the client and the name decides, even if a
 * later one would allow; per name, so a none on a prefix first leaves
 * the other names to the next rule. `any` with a uid matches UNIX peers.
 */
START_TEST(test_first_match)
{
	struct tu_daemon	d;
	int			fd;

	dstart_rules(&d, BACKEND,
	    "rule = unix uid=65534 none\n"
	    "rule = unix uid=65534 rw\n"
	    "rule = unix uid=65533 rw *\n"
	    "rule = unix uid=65533 none\n"
	    "rule = any uid=65532 none secret/\n"
	    "rule = unix uid=65532 rw\n"
	    "rule = unix user=nobody admin\n", NULL);
	fd = uconnect(&d, NOBODY, NOBODY, NULL, 0);
	RDENY(fd, "set 'k': uid 65534 (nobody) has none by rule 1",
	    IOMUX_OP_SET, RA("k"), RA("1"));
	RDENY(fd, "get 'k': uid 65534 (nobody) has none by rule 1",
	    IOMUX_OP_GET, RA("k"));
	RDENY0(fd, "status: uid 65534 (nobody) has none by rule 1",
	    IOMUX_OP_STATUS);
	GRANTS(fd, "1 none *|2 rw *|7 admin *");
	close(fd);
	fd = uconnect(&d, U1, U1, NULL, 0);
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_SET, RA("k"), RA("1"));
	RSTATUS_IS(fd, 0);
	GRANTS(fd, "3 rw *|4 none *");
	close(fd);
	fd = uconnect(&d, U2, U2, NULL, 0);
	RDENY(fd, "set 'secret/k': uid 65532 has none on 'secret/' by "
	    "rule 5", IOMUX_OP_SET, RA("secret/k"), RA("1"));
	RDENY(fd, "get 'secret/k': uid 65532 has none on 'secret/' by "
	    "rule 5", IOMUX_OP_GET, RA("secret/k"));
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_SET, RA("public/k"), RA("1"));
	/* STATUS has no name: the first rule without a prefix, rule 6. */
	RSTATUS_IS(fd, 0);
	close(fd);
	dstop(&d);
}
END_TEST

/*
 * No deciding rule: denied, "no rule grants". Names in messages are cut
 * at 64 bytes, non-printable bytes shown as \xNN.
 */
START_TEST(test_no_rule)
{
	struct tu_daemon	d;
	struct tu_frame		f;
	char			longname[100], want[256];
	const char		*m;
	int			fd, r;

	dstart_rules(&d, BACKEND,
	    "rule = unix uid=0 admin\n"
	    "rule = unix uid=65534 rw deploy/ ops/\n", NULL);
	fd = uconnect(&d, NOBODY, NOBODY, NULL, 0);
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_SET, RA("deploy/a"), RA("1"));
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_SET, RA("ops/a"), RA("1"));
	RDENY(fd, "get 'other': no rule grants uid 65534 (nobody) access "
	    "to 'other'", IOMUX_OP_GET, RA("other"));
	/* A prefix lists what is under it: all of that must be allowed. */
	RDENY(fd, "keys '': no rule grants uid 65534 (nobody) access to "
	    "every name under ''", IOMUX_OP_KEYS, RA(""));
	RDENY(fd, "keys 'dep': no rule grants uid 65534 (nobody) access to "
	    "every name under 'dep'", IOMUX_OP_KEYS, RA("dep"));
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_KEYS, RA("deploy/"));
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_KEYS, RA("ops/x"));
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_PSUBSCRIBE, RA("deploy/*"),
	    RA("ops/*"));
	PDENY(fd, "psubscribe '*': no rule grants uid 65534 (nobody) "
	    "access to every name under ''", RA("*"));
	PDENY(fd, "psubscribe 'dep*': no rule grants uid 65534 (nobody) "
	    "access to every name under 'dep'", RA("deploy/*"), RA("dep*"));
	/* "deploy*" would match "deployX": not under "deploy/". */
	PDENY(fd, "psubscribe 'deploy*': no rule grants uid 65534 (nobody) "
	    "access to every name under 'deploy'", RA("deploy*"));
	/* The first denied name of several; nothing done for the others. */
	RDENY(fd, "del 'other': no rule grants uid 65534 (nobody) access to "
	    "'other'", IOMUX_OP_DEL, RA("deploy/a"), RA("other"), RA("x"));
	RDENY(fd, "exists 'x': no rule grants uid 65534 (nobody) access to "
	    "'x'", IOMUX_OP_EXISTS, RA("ops/a"), RA("x"), RA("y"));
	RDENY(fd, "subscribe 'c': no rule grants uid 65534 (nobody) access "
	    "to 'c'", IOMUX_OP_SUBSCRIBE, RA("deploy/c"), RA("c"));
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_GET, RA("deploy/a"));
	/* STATUS: no rule without a prefix matches. */
	RDENY0_HAS(fd, "no rule grants uid 65534 (nobody)",
	    IOMUX_OP_STATUS);
	/* Non-printable bytes as \xNN, names cut at 64 bytes. */
	RDENY(fd, "get 'a\\x01\\x19b': no rule grants uid 65534 (nobody) "
	    "access to 'a\\x01\\x19b'", IOMUX_OP_GET, RA("a\001\031b"));
	memset(longname, 'n', 64);
	memset(longname + 64, 'Z', 30);
	longname[94] = '\0';
	rsend_req(fd, IOMUX_OP_GET, 900, 1, &RA(longname));
	rexpect(fd, &f, IOMUX_ST_EDENIED, 900);
	m = rtext(&f.args[0]);
	snprintf(want, sizeof want, "get '%.64s", longname);
	ASSERT(strncmp(m, want, strlen(want)) == 0 && strchr(m, 'Z') ==
	    NULL, "a 94-byte name in \"%s\": want its first 64 bytes only",
	    m);
	tu_frame_free(&f);
	rping(fd, 901, "alive", 5);
	GRANTS(fd, "2 rw deploy/ ops/");
	close(fd);
	r = rconnect(&d);
	RREQ(r, IOMUX_ST_OK, IOMUX_OP_GET, RA("deploy/a"));
	close(r);
	dstop(&d);
}
END_TEST

/* ---- what a denial costs ---------------------------------------------- */

/*
 * A denied request changes nothing, holds nothing and waits for nothing:
 * no key, queue, lock, subscription or blocked client comes of it, and
 * no memory counts. STATUS requests_denied counts each one.
 */
START_TEST(test_denied_costs_nothing)
{
	struct tu_daemon	 d;
	static char		 big[200 * 1024];
	int			 fd, r, i;

	memset(big, 'b', sizeof big - 1);
	dstart_rules(&d, BACKEND,
	    "max_memory = 1M\n"
	    "rule = unix uid=0 admin\n"
	    "rule = unix uid=65534 ro\n", NULL);
	r = rconnect(&d);
	fd = uconnect(&d, NOBODY, NOBODY, NULL, 0);
	for (i = 0; i < 20; i++)
		RDENY(fd, "set 'big': uid 65534 (nobody) has ro by rule 2",
		    IOMUX_OP_SET, RA("big"), RA(big));
	RDENY(fd, "push 'q': uid 65534 (nobody) has ro by rule 2",
	    IOMUX_OP_PUSH, RA("q"), RA(big));
	RDENY(fd, "lock 'l': uid 65534 (nobody) has ro by rule 2",
	    IOMUX_OP_LOCK, RA("l"), RA64(IOMUX_TIMEOUT_FOREVER));
	RDENY(fd, "pop 'q': uid 65534 (nobody) has ro by rule 2",
	    IOMUX_OP_POP, RA("q"), RA64(IOMUX_TIMEOUT_FOREVER));
	RDENY(fd, "publish 'c': uid 65534 (nobody) has ro by rule 2",
	    IOMUX_OP_PUBLISH, RA("c"), RA(big));
	RREQ(fd, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, RA("c"));
	RREQ(fd, IOMUX_ST_NOTFOUND, IOMUX_OP_GET, RA("big"));
	ASSERT(RSTAT(r, "requests_denied") == 24, "requests_denied "
	    "%lld after 24 denials", RSTAT(r, "requests_denied"));
	ASSERT(RSTAT(r, "keys") == 0 && RSTAT(r, "queues") == 0 &&
	    RSTAT(r, "data_bytes") == 0 &&
	    RSTAT(r, "locks_held") == 0 &&
	    RSTAT(r, "blocked_clients") == 0, "a denial left state: "
	    "keys %lld queues %lld data_bytes %lld locks_held %lld "
	    "blocked_clients %lld", RSTAT(r, "keys"),
	    RSTAT(r, "queues"), RSTAT(r, "data_bytes"),
	    RSTAT(r, "locks_held"), RSTAT(r, "blocked_clients"));
	/* Memory untouched: root still stores up to max_memory. */
	RREQ(r, IOMUX_ST_OK, IOMUX_OP_SET, RA("big"), RA(big));
	RREQ(r, IOMUX_ST_OK, IOMUX_OP_TRYLOCK, RA("l"));
	close(fd);
	close(r);
	dstop(&d);
}
END_TEST

/*
 * Denials are logged, rate-limited: a burst of 300 leaves a line or a
 * few, not 300.
 */
START_TEST(test_denied_logged)
{
	struct tu_daemon	d;
	int			fd, r, i, n;

	dstart_rules(&d, BACKEND,
	    "rule = unix uid=0 admin\n"
	    "rule = unix uid=65534 none\n", NULL);
	fd = uconnect(&d, NOBODY, NOBODY, NULL, 0);
	for (i = 0; i < 300; i++)
		rsend_req(fd, IOMUX_OP_GET, (uint32_t)i + 1, 1, &RA("k"));
	for (i = 0; i < 300; i++)
		rexpect_err(fd, IOMUX_ST_EDENIED, (uint32_t)i + 1);
	rping(fd, 999, "alive", 5);
	r = rconnect(&d);
	ASSERT(RSTAT(r, "requests_denied") == 300, "requests_denied %lld "
	    "after 300 denials", RSTAT(r, "requests_denied"));
	n = log_count(&d, "denied");
	ASSERT(n >= 1 && n < 100, "%d log lines for 300 denials in a burst, "
	    "want some, rate-limited", n);
	close(r);
	close(fd);
	dstop(&d);
}
END_TEST

/* ---- reload ------------------------------------------------------------ */

/*
 * SIGHUP with new rules: a new connection of the uid gets them, one made
 * before keeps the rules it started with and all it holds: its
 * subscription, its lock, a WAIT in progress. A config with a bad rule
 * is refused as a whole and the rules in force stay.
 */
START_TEST(test_reload)
{
	struct tu_daemon	d;
	struct tu_frame		f;
	int64_t			t0;
	int			a, w, b, r, n;

	dstart_rules(&d, BACKEND,
	    "rule = unix uid=0 admin\n"
	    "rule = unix uid=65534 rw\n", NULL);
	r = rconnect(&d);
	a = uconnect(&d, NOBODY, NOBODY, NULL, 0);
	RREQ(a, IOMUX_ST_OK, IOMUX_OP_SUBSCRIBE, RA("news"));
	RREQ(a, IOMUX_ST_OK, IOMUX_OP_LOCK, RA("lk"), RA64(0));
	w = uconnect(&d, NOBODY, NOBODY, NULL, 0);
	rsend_req(w, IOMUX_OP_WAIT, 77, 1, &RA("flag"));
	ASSERT(RWAIT_STAT(r, "blocked_clients", 1) == 1, "the WAIT does "
	    "not block");

	dreload_rules(&d,
	    "rule = unix uid=0 admin\n"
	    "rule = unix uid=65534 ro\n"
	    "rule = any all none\n", r, 3);

	b = uconnect(&d, NOBODY, NOBODY, NULL, 0);
	RDENY(b, "set 'k': uid 65534 (nobody) has ro by rule 2",
	    IOMUX_OP_SET, RA("k"), RA("1"));
	GRANTS(b, "2 ro *|3 none *");
	/* a keeps rw and what it holds. */
	RREQ(a, IOMUX_ST_OK, IOMUX_OP_SET, RA("k"), RA("1"));
	GRANTS(a, "2 rw *");
	RREQ(r, IOMUX_ST_CONFLICT, IOMUX_OP_TRYLOCK, RA("lk"));
	RREQ(r, IOMUX_ST_OK, IOMUX_OP_PUBLISH, RA("news"), RA("hi"));
	rrecv_push(__LINE__, a, "news", "hi");
	RREQ(r, IOMUX_ST_OK, IOMUX_OP_SET, RA("flag"), RA("up"));
	rexpect(w, &f, IOMUX_ST_OK, 77);
	ASSERT(f.argc == 1 && tu_arg_eq(&f.args[0], "up", 2), "WAIT "
	    "across the reload: wrong value");
	tu_frame_free(&f);
	RREQ(a, IOMUX_ST_OK, IOMUX_OP_UNLOCK, RA("lk"));

	/* A bad rule (an unknown user): refused whole, rules stay. */
	n = log_count(&d, "reload");
	dreload_rules(&d,
	    "rule = unix uid=0 admin\n"
	    "rule = unix user=no-such-user-iomuxd rw\n", r, -1);
	for (t0 = tu_now_ms(); log_count(&d, "reload") == n; tu_sleep_ms(10))
		ASSERT(since(t0) < 3000, "no word of the reload in the log");
	ASSERT(RSTAT(r, "rules") == 3, "a refused reload changed the "
	    "rules: %lld", RSTAT(r, "rules"));
	close(b);
	b = uconnect(&d, NOBODY, NOBODY, NULL, 0);
	RDENY(b, "set 'k': uid 65534 (nobody) has ro by rule 2",
	    IOMUX_OP_SET, RA("k"), RA("2"));
	close(b);
	close(w);
	close(a);
	close(r);
	dstop(&d);
}
END_TEST

/* ---- config errors ---------------------------------------------------- */

/*
 * Each of these rule sets is a configuration error at start (exit 2); the
 * limits themselves (128 rules, 8 prefixes of 128 bytes) are fine.
 */
START_TEST(test_conf_errors)
{
	static const char *const	bad[] = {
		"rule = tcp uid=0 rw\n",
		"rule = tcp user=root rw\n",
		"rule = unix token rw\n",
		"rule = unix anonymous ro\n",
		"rule = unix user=no-such-user-iomuxd rw\n",
		"rule = unix group=no-such-group-iomuxd rw\n",
		"rule = udp all rw\n",
		"rule = unix all write\n",
		"rule = unix uid=x rw\n",
		"rule = unix all\n",
		"rule = unix all rw a/ b/ c/ d/ e/ f/ g/ h/ i/\n",
	};
	static char		 text[24 << 10];
	struct tu_daemon	 d;
	char			 pfx[200];
	size_t			 i, n;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		pfail(__LINE__, BACKEND, bad[i]);
	/* 129 rules, one over the limit. */
	for (i = n = 0; i < 129; i++)
		n += (size_t)snprintf(text + n, sizeof text - n,
		    "rule = unix uid=%zu ro\n", i + 1000);
	pfail(__LINE__, BACKEND, text);
	/* A prefix of 129 bytes. */
	memset(pfx, 'p', 129);
	pfx[129] = '\0';
	snprintf(text, sizeof text, "rule = unix all rw %s\n", pfx);
	pfail(__LINE__, BACKEND, text);
	/* 128 rules of 8 short prefixes or one of 120 bytes: over 16 KiB. */
	pfx[120] = '\0';
	for (i = n = 0; i < 128; i++)
		n += (size_t)snprintf(text + n, sizeof text - n,
		    "rule = unix all ro %s\n", pfx);
	pfail(__LINE__, BACKEND, text);

	/* At the limits: 128 rules, 8 prefixes, a prefix of 128 bytes. */
	pfx[128] = '\0';
	n = (size_t)snprintf(text, sizeof text, "rule = unix uid=0 admin\n"
	    "rule = unix all ro a/ b/ c/ d/ e/ f/ g/ h/\n"
	    "rule = unix all rw %s\n", pfx);
	for (i = 3; i < 128; i++)
		n += (size_t)snprintf(text + n, sizeof text - n,
		    "rule = unix uid=%zu ro\n", i + 1000);
	dstart_rules(&d, BACKEND, text, NULL);
	dstop_rules(&d, 128);
}
END_TEST

static Suite *
integ_policy_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("integ_policy");
	tc = tcase(s, "defaults", 30);
	LOOP(tc, test_defaults);
	tc = tcase(s, "roles", 60);
	LOOP(tc, test_roles);
	tc = tcase(s, "namespace", 30);
	LOOP(tc, test_namespace);
	LOOP(tc, test_namespace_user);
	LOOP(tc, test_prefix_requests);
	tc = tcase(s, "principals", 30);
	LOOP(tc, test_groups);
	LOOP(tc, test_first_match);
	LOOP(tc, test_no_rule);
	tc = tcase(s, "denied", 30);
	LOOP(tc, test_denied_costs_nothing);
	LOOP(tc, test_denied_logged);
	tc = tcase(s, "reload", 30);
	LOOP(tc, test_reload);
	tc = tcase(s, "conf", 30);
	tcase_add_test(tc, test_conf_errors);
	return s;
}

int
main(void)
{
	return integ_main_root("check_integ_policy", integ_policy_suite);
}
