/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_client.c: unit tests for the access-policy calls of libiomux
 * (issue 7): iomux_token_load() on files in a private directory, and the
 * frames iomux_hello_token() and iomux_whoami() put on the wire.
 *
 * The wire cases need no daemon: the test listens on a UNIX socket of its
 * own, connects the client to it, and writes the reply on the accepted
 * socket before the call, so that one thread is enough (the kernel holds
 * both directions). The request the call sent is then read back from the
 * accepted socket and decoded with the codec.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "buf.h"
#include "check-run.h"
#include "codec.h"
#include "iomux-proto.h"
#include "iomux.h"

#define TOKEN	"0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"
#define OTHER	"fedcba9876543210fedcba9876543210" \
		"fedcba9876543210fedcba9876543210"

static char	dir[256];	/* short: sockets live there too */

/* A private directory per test (fork mode: one process each). */
static void
setup(void)
{
	snprintf(dir, sizeof(dir), "%s/check_client.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	unsetenv("IOMUXD_TOKEN_FILE");
	unsetenv("IOMUXD_SOCKET");
}

static void
teardown(void)
{
	char	 cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* dir/name, in a static buffer (one at a time). */
static const char *
path_of(const char *name)
{
	static char	 p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

/* Write len bytes to dir/name; its path. */
static const char *
put_file(const char *name, const void *data, size_t len)
{
	const char	*p = path_of(name);
	int		 fd;

	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
	return p;
}

static const char *
put_str(const char *name, const char *s)
{
	return put_file(name, s, strlen(s));
}

/* ---- iomux_token_load --------------------------------------------------- */

/* iomux_token_load(path) reads the token want, NUL-terminated. */
static void
load_is(const char *path, const char *want)
{
	char	 buf[IOMUX_TOKEN_LEN + 1];

	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(iomux_token_load(path, buf, sizeof(buf)),
	    IOMUX_TOKEN_LEN);
	ck_assert_str_eq(buf, want);
}

START_TEST(test_good)
{
	load_is(put_str("t", TOKEN), TOKEN);
}
END_TEST

/* What the daemon writes (a newline), and what editors and echo add. */
static const char *const trailing[] = {
	"\n", "\r\n", " ", "\t\n", "\n\n\n", "  \n \t \v\f\r",
};

START_TEST(test_trailing_space)
{
	char	 text[128];

	snprintf(text, sizeof(text), "%s%s", TOKEN, trailing[_i]);
	load_is(put_str("t", text), TOKEN);
}
END_TEST

/* Not a token: the buffer is left alone. */
static const char *const bad[] = {
	"",
	"\n",
	/* Uppercase hex is not the daemon's spelling. */
	"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	/* 63 and 65 characters. */
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
	/* Not hex. */
	"0123456789abcdeg0123456789abcdef0123456789abcdef0123456789abcdef",
	"0x23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	/* Leading whitespace is not stripped, inner whitespace not either. */
	" 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
	"0123456789abcdef0123456789abcdef 123456789abcdef0123456789abcdef",
	/* Two tokens, one per line. */
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
};

START_TEST(test_bad_contents)
{
	char	 buf[IOMUX_TOKEN_LEN + 1];

	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(iomux_token_load(put_str("t", bad[_i]), buf,
	    sizeof(buf)), -EINVAL);
	ck_assert_int_eq(buf[0], 'x');
}
END_TEST

/* A NUL byte is not whitespace: the file is not a token. */
START_TEST(test_nul)
{
	char	 buf[IOMUX_TOKEN_LEN + 1], text[IOMUX_TOKEN_LEN + 2];

	memcpy(text, TOKEN, IOMUX_TOKEN_LEN);
	text[IOMUX_TOKEN_LEN] = '\0';
	text[IOMUX_TOKEN_LEN + 1] = '\n';
	ck_assert_int_eq(iomux_token_load(put_file("t", text, sizeof(text)),
	    buf, sizeof(buf)), -EINVAL);
}
END_TEST

/*
 * At most 256 bytes are read: a token followed by whitespace up to that
 * is fine, one byte more is a file too large to be a token.
 */
START_TEST(test_size)
{
	char	 buf[IOMUX_TOKEN_LEN + 1], text[512];

	memset(text, '\n', sizeof(text));
	memcpy(text, TOKEN, IOMUX_TOKEN_LEN);
	ck_assert_int_eq(iomux_token_load(put_file("t", text, 256), buf,
	    sizeof(buf)), IOMUX_TOKEN_LEN);
	ck_assert_int_eq(iomux_token_load(put_file("t", text, 257), buf,
	    sizeof(buf)), -EINVAL);
	ck_assert_int_eq(iomux_token_load(put_file("t", text, sizeof(text)),
	    buf, sizeof(buf)), -EINVAL);
}
END_TEST

START_TEST(test_short_buffer)
{
	char	 buf[IOMUX_TOKEN_LEN + 1];

	ck_assert_int_eq(iomux_token_load(put_str("t", TOKEN), buf,
	    IOMUX_TOKEN_LEN), -ERANGE);
	ck_assert_int_eq(iomux_token_load(path_of("none"), buf, 0), -ERANGE);
}
END_TEST

/* An explicit path: its own open(2) error, never a fallback. */
START_TEST(test_explicit_errors)
{
	char	 buf[IOMUX_TOKEN_LEN + 1];

	/* A good token where the default lookup would find it. */
	put_str("token", TOKEN);
	setenv("IOMUXD_SOCKET", path_of("sock"), 1);
	ck_assert_int_eq(iomux_token_load(path_of("none"), buf,
	    sizeof(buf)), -ENOENT);
	ck_assert_int_eq(iomux_token_load(path_of("token/x"), buf,
	    sizeof(buf)), -ENOTDIR);
	ck_assert_int_eq(iomux_token_load(dir, buf, sizeof(buf)), -EISDIR);
}
END_TEST

/* Users may point a symlink at the token (no O_NOFOLLOW). */
START_TEST(test_symlink)
{
	char	 target[PATH_MAX];

	snprintf(target, sizeof(target), "%s", put_str("real", TOKEN "\n"));
	ck_assert_int_eq(symlink(target, path_of("link")), 0);
	load_is(path_of("link"), TOKEN);
}
END_TEST

/* $IOMUXD_TOKEN_FILE stands for path NULL; an explicit path wins. */
START_TEST(test_env)
{
	char	 buf[IOMUX_TOKEN_LEN + 1];

	setenv("IOMUXD_TOKEN_FILE", put_str("env", TOKEN "\n"), 1);
	load_is(NULL, TOKEN);
	load_is(put_str("arg", OTHER), OTHER);

	/* Named by the variable: its errors are those of a named file. */
	setenv("IOMUXD_TOKEN_FILE", path_of("none"), 1);
	ck_assert_int_eq(mkdir(path_of("tcp"), 0750), 0);
	put_str("tcp/token", TOKEN);
	setenv("IOMUXD_SOCKET", path_of("sock"), 1);
	ck_assert_int_eq(iomux_token_load(NULL, buf, sizeof(buf)), -ENOENT);
	setenv("IOMUXD_TOKEN_FILE", put_str("env", "nope\n"), 1);
	ck_assert_int_eq(iomux_token_load(NULL, buf, sizeof(buf)), -EINVAL);

	/* Empty counts as unset: the default lookup finds dir/tcp/token. */
	setenv("IOMUXD_TOKEN_FILE", "", 1);
	load_is(NULL, TOKEN);
}
END_TEST

/*
 * The default: tcp/token beside the default socket, where iomuxd writes
 * it, whatever its contents; "token" there is not looked at.
 */
START_TEST(test_default)
{
	char	 buf[IOMUX_TOKEN_LEN + 1];

	setenv("IOMUXD_SOCKET", path_of("iomuxd.sock"), 1);
	put_str("token", TOKEN "\n");
	ck_assert_int_eq(mkdir(path_of("tcp"), 0750), 0);
	put_str("tcp/token", OTHER);
	load_is(NULL, OTHER);

	/* Found but malformed: an error, not a reason to look further. */
	put_str("tcp/token", "stale\n");
	ck_assert_int_eq(iomux_token_load(NULL, buf, sizeof(buf)), -EINVAL);
}
END_TEST

/* Nothing beside the socket and, on this machine, no system token. */
START_TEST(test_default_none)
{
	char	 buf[IOMUX_TOKEN_LEN + 1];
	int	 fd;

	setenv("IOMUXD_SOCKET", path_of("iomuxd.sock"), 1);
	if ((fd = open("/run/iomuxd/tcp/token", O_RDONLY | O_CLOEXEC)) >= 0) {
		close(fd);
		fprintf(stderr, "check_client: a token in /run/iomuxd exists; "
		    "the not-found case is not checked\n");
		return;
	}
	ck_assert_int_eq(iomux_token_load(NULL, buf, sizeof(buf)), -ENOENT);
	/* No default socket at all (not root, no XDG_RUNTIME_DIR) is the
	 * same as no file beside it; only root has /run/iomuxd here. */
}
END_TEST

/* ---- the frames of HELLO and WHOAMI ------------------------------------- */

struct wire {
	int			 lfd, sfd;	/* listener, accepted */
	struct iomux_client	*c;
	uint8_t			 in[4096];
	struct proto_frame	 f;
	struct proto_arg	 args[8];
};

static void
wire_open(struct wire *w)
{
	struct sockaddr_un	 sun;
	char			 msg[256];

	memset(w, 0, sizeof(*w));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_int_lt(snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
	    path_of("s")), (int)sizeof(sun.sun_path));
	w->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(w->lfd, 0);
	ck_assert_int_eq(bind(w->lfd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	ck_assert_int_eq(listen(w->lfd, 4), 0);
	ck_assert_msg(iomux_connect_unix(sun.sun_path, 2000, &w->c, msg,
	    sizeof(msg)) == 0, "connect: %s", msg);
	w->sfd = accept4(w->lfd, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(w->sfd, 0);
}

static void
wire_close(struct wire *w)
{
	iomux_close(w->c);
	close(w->sfd);
	close(w->lfd);
	unlink(path_of("s"));
}

/* Queue the reply to request 1 on the server side: OK and the pairs. */
static void
wire_reply(struct wire *w, const char *const *pairs)
{
	struct proto_enc	 enc;
	struct buf		 b;

	buf_init(&b, 0);
	proto_enc_begin(&enc, &b, IOMUX_FRAME_MAX_DEFAULT, IOMUX_KIND_REPLY,
	    IOMUX_ST_OK, 1);
	for (; *pairs != NULL; pairs++)
		proto_enc_str(&enc, *pairs);
	ck_assert_int_gt(proto_enc_end(&enc), 0);
	ck_assert_int_eq(write(w->sfd, buf_data(&b), buf_len(&b)),
	    (ssize_t)buf_len(&b));
	buf_free(&b);
}

/* Read and decode the one request the client sent. */
static void
wire_request(struct wire *w)
{
	ssize_t	 n;

	n = read(w->sfd, w->in, sizeof(w->in));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(proto_decode(w->in, (size_t)n,
	    IOMUX_FRAME_MAX_DEFAULT, &w->f, w->args, 8), n);
	ck_assert_int_eq(w->f.kind, IOMUX_KIND_REQUEST);
	ck_assert_uint_eq(w->f.id, 1);
}

static void
assert_arg(const struct proto_arg *a, const char *want)
{
	ck_assert(!a->absent);
	ck_assert_uint_eq(a->len, strlen(want));
	ck_assert(memcmp(a->p, want, a->len) == 0);
}

static void
assert_version(const struct proto_arg *a)
{
	uint32_t	 v;

	ck_assert_int_eq(proto_arg_u32(a, &v), 0);
	ck_assert_uint_eq(v, IOMUX_PROTO_VERSION);
}

static const char *const hello_ok[] = {
	"proto", "1", "frame_max", "8192", "auth", "token", NULL
};

/* What HELLO carries for each combination of name and token. */
static const struct {
	const char	*name, *token;
	int		 plain;		/* call iomux_hello() instead */
	unsigned int	 argc;		/* version [name [token]] */
	const char	*sent_name;	/* NULL: absent, or not sent */
} hello_cases[] = {
	{ "me", TOKEN, 0, 3, "me" },
	/* No name but a token: the name goes absent, in its place. */
	{ NULL, TOKEN, 0, 3, NULL },
	{ "iomuxctl", NULL, 0, 2, "iomuxctl" },
	/* iomux_hello(): the library's name, no token. */
	{ NULL, NULL, 1, 2, "libiomux" },
	/* Neither: the version alone, which every daemon understands. */
	{ NULL, NULL, 0, 1, NULL },
};

/*
 * The frame of each case. The reply's frame_max is adopted whichever
 * call sent it: a request over 8192 bytes is refused from then on.
 */
START_TEST(test_hello)
{
	static char		 big[9000];
	struct iomux_reply	 r;
	struct wire		 w;

	wire_open(&w);
	wire_reply(&w, hello_ok);
	if (hello_cases[_i].plain)
		ck_assert_int_eq(iomux_hello(w.c, &r), 0);
	else
		ck_assert_int_eq(iomux_hello_token(w.c, hello_cases[_i].name,
		    hello_cases[_i].token, &r), 0);
	ck_assert_uint_eq(r.code, IOMUX_ST_OK);
	wire_request(&w);
	ck_assert_uint_eq(w.f.code, IOMUX_OP_HELLO);
	ck_assert_uint_eq(w.f.argc, hello_cases[_i].argc);
	assert_version(&w.args[0]);
	if (w.f.argc > 1 && hello_cases[_i].sent_name != NULL)
		assert_arg(&w.args[1], hello_cases[_i].sent_name);
	else if (w.f.argc > 1)
		ck_assert(w.args[1].absent);
	if (w.f.argc > 2)
		assert_arg(&w.args[2], hello_cases[_i].token);
	memset(big, 'v', sizeof(big));
	ck_assert_int_eq(iomux_ping(w.c, big, sizeof(big), &r), -EMSGSIZE);
	wire_close(&w);
}
END_TEST

/* WHOAMI: IOMUX_OP_WHOAMI, no arguments; the pairs come back as sent. */
START_TEST(test_whoami)
{
	static const char *const pairs[] = {
		"listener", "unix", "auth", "peer", "rules", "default",
		"grant", "default admin *", "grant", "default rw *", NULL
	};
	const struct iomux_value	*v;
	struct iomux_reply		 r;
	struct wire			 w;

	wire_open(&w);
	wire_reply(&w, pairs);
	ck_assert_int_eq(iomux_whoami(w.c, &r), 0);
	ck_assert_uint_eq(r.code, IOMUX_ST_OK);
	ck_assert_uint_eq(r.argc, 10);
	ck_assert_ptr_nonnull(v = iomux_reply_field(&r, "grant"));
	ck_assert(v->len == 15 && memcmp(v->data, "default admin *", 15) ==
	    0);
	wire_request(&w);
	ck_assert_uint_eq(w.f.code, IOMUX_OP_WHOAMI);
	ck_assert_uint_eq(w.f.argc, 0);
	wire_close(&w);
}
END_TEST

static Suite *
client_suite(void)
{
	Suite	*s = suite_create("client");
	TCase	*tc;

	tc = tcase_create("token_load");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_good);
	tcase_add_loop_test(tc, test_trailing_space, 0,
	    (int)(sizeof(trailing) / sizeof(trailing[0])));
	tcase_add_loop_test(tc, test_bad_contents, 0,
	    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_nul);
	tcase_add_test(tc, test_size);
	tcase_add_test(tc, test_short_buffer);
	tcase_add_test(tc, test_explicit_errors);
	tcase_add_test(tc, test_symlink);
	tcase_add_test(tc, test_env);
	tcase_add_test(tc, test_default);
	tcase_add_test(tc, test_default_none);
	suite_add_tcase(s, tc);

	tc = tcase_create("hello");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_hello, 0,
	    (int)(sizeof(hello_cases) / sizeof(hello_cases[0])));
	tcase_add_test(tc, test_whoami);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(client_suite());
}
