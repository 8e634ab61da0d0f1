/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_conf.c: unit tests for conf.c: defaults, every key, bad values,
 * file syntax errors with line numbers, command-line precedence, atomic
 * (re)load, what a reload applies at once, later or only downwards
 * (conf_apply()), and the number parsers' edge cases and overflow.
 */

#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check-run.h"
#include "conf.h"

static char	tmpdir[64];
static char	cpath[128];

static void
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_conf.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(cpath, sizeof(cpath), "%s/iomuxd.conf", tmpdir);
}

static void
teardown(void)
{
	unlink(cpath);
	rmdir(tmpdir);
}

static void
write_conf(const char *text, size_t len)
{
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = fopen(cpath, "w"));
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}

#define WRITE(s)	write_conf((s), strlen(s))

/* Load 'text' over defaults; returns conf_load()'s result. */
static int
load_text(struct conf *c, const char *text, const struct conf_set *locked,
    char *err, size_t errlen)
{
	WRITE(text);
	return conf_load(c, cpath, locked, err, errlen);
}

START_TEST(test_defaults)
{
	struct conf	 c;

	conf_defaults(&c);
	ck_assert_str_eq(c.socket_path, "");
	ck_assert_uint_eq(c.socket_mode, 0660);
	ck_assert_int_eq(c.ntcp, 0);
	ck_assert(!c.tcp_allow_remote);
	ck_assert_str_eq(c.backend, "");
	ck_assert_int_eq(c.backlog, 511);
	ck_assert_uint_eq(c.frame_max, 1024 * 1024);
	ck_assert_uint_eq(c.output_limit, 8 * 1024 * 1024);
	ck_assert_uint_eq(c.output_high, 1024 * 1024);
	ck_assert_uint_eq(c.output_timeout_ms, 10000);
	ck_assert_int_eq(c.max_clients, 0);
	ck_assert_uint_eq(c.frame_timeout_ms, 10000);
	ck_assert_uint_eq(c.idle_timeout_ms, 0);
	ck_assert_uint_eq(c.shutdown_timeout_ms, 5000);
	ck_assert_int_eq(c.reqs_per_wakeup, 32);
	ck_assert_int_eq(c.accepts_per_wakeup, 16);
	ck_assert_int_eq(c.verbose, 0);
	ck_assert(!c.foreground);
	ck_assert_int_eq(conf_check(&c, NULL, 0), 0);
}
END_TEST

START_TEST(test_every_key)
{
	struct conf	 c;
	char		 err[256];

	conf_defaults(&c);
	ck_assert_int_eq(load_text(&c,
	    "# every key\n"
	    "socket = /tmp/x/iomuxd.sock\n"
	    "socket_mode = 0600\n"
	    "tcp = 127.0.0.1:7411\n"
	    "tcp = [::1]:7412\n"
	    "tcp_allow_remote = yes\n"
	    "backend = poll\n"
	    "backlog = 128\n"
	    "frame_max = 64K\n"
	    "output_limit = 16M\n"
	    "output_high = 2M\n"
	    "output_timeout = 0\n"
	    "max_clients = 100\n"
	    "frame_timeout = 1.5\n"
	    "idle_timeout = 2m\n"
	    "shutdown_timeout = 250ms\n"
	    "reqs_per_wakeup = 8\n"
	    "accepts_per_wakeup = 4\n"
	    "verbose = 2\n", NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(c.socket_path, "/tmp/x/iomuxd.sock");
	ck_assert_uint_eq(c.socket_mode, 0600);
	ck_assert_int_eq(c.ntcp, 2);
	ck_assert_str_eq(c.tcp[0], "127.0.0.1:7411");
	ck_assert_str_eq(c.tcp[1], "[::1]:7412");
	ck_assert(c.tcp_allow_remote);
	ck_assert_str_eq(c.backend, "poll");
	ck_assert_int_eq(c.backlog, 128);
	ck_assert_uint_eq(c.frame_max, 65536);
	ck_assert_uint_eq(c.output_limit, 16 * 1024 * 1024);
	ck_assert_uint_eq(c.output_high, 2 * 1024 * 1024);
	ck_assert_uint_eq(c.output_timeout_ms, 0);
	ck_assert_int_eq(c.max_clients, 100);
	ck_assert_uint_eq(c.frame_timeout_ms, 1500);
	ck_assert_uint_eq(c.idle_timeout_ms, 120000);
	ck_assert_uint_eq(c.shutdown_timeout_ms, 250);
	ck_assert_int_eq(c.reqs_per_wakeup, 8);
	ck_assert_int_eq(c.accepts_per_wakeup, 4);
	ck_assert_int_eq(c.verbose, 2);
}
END_TEST

START_TEST(test_syntax)
{
	struct conf	 c;
	char		 err[256];

	/* Whitespace, comments, quotes, CRLF, '-' for '_'. */
	conf_defaults(&c);
	ck_assert_int_eq(load_text(&c,
	    "\n   \t\n  # indented comment\n"
	    "\tframe-max\t=\t  8K  \r\n"
	    "socket = \"/tmp/a b/#not a comment\"\n"
	    "backend=\"select\"\n"
	    "tcp_allow_remote = TRUE\n", NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.frame_max, 8192);
	ck_assert_str_eq(c.socket_path, "/tmp/a b/#not a comment");
	ck_assert_str_eq(c.backend, "select");
	ck_assert(c.tcp_allow_remote);

	/* Escapes inside quotes; an empty socket means the default. */
	ck_assert_int_eq(load_text(&c, "socket = \"/tmp/q\\\"\\\\\"\n", NULL,
	    err, sizeof(err)), 0);
	ck_assert_str_eq(c.socket_path, "/tmp/q\"\\");
	ck_assert_int_eq(load_text(&c, "socket = \"\"\n", NULL, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(c.socket_path, "");

	/* An empty file is valid: all defaults. */
	ck_assert_int_eq(load_text(&c, "", NULL, err, sizeof(err)), 0);
	/* A last line without a newline still counts. */
	ck_assert_int_eq(load_text(&c, "backlog = 7", NULL, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(c.backlog, 7);
}
END_TEST

static void
expect_error(const char *text, const char *msg_suffix)
{
	struct conf	 c, before;
	char		 err[512], want[512];

	conf_defaults(&c);
	before = c;
	err[0] = '\0';
	ck_assert_int_eq(load_text(&c, text, NULL, err, sizeof(err)),
	    -EINVAL);
	snprintf(want, sizeof(want), "%s:%s", cpath, msg_suffix);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
	    "for %s: got '%s', want '%s...'", text, err, want);
	ck_assert_mem_eq(&c, &before, sizeof(c));
}

START_TEST(test_syntax_errors)
{
	expect_error("backlog = 1\n\n# x\nbogus = 1\n",
	    "4: unknown key 'bogus'");
	expect_error("frame_max = 1M\nframe_max = 70M\n",
	    "2: bad value for 'frame_max': '70M' (must be between 4K and "
	    "64M)");
	expect_error("frame_max = lots\n",
	    "1: bad value for 'frame_max': 'lots' (not a size");
	expect_error("just a line\n", "1: expected 'key = value'");
	expect_error("= 5\n", "1: expected 'key = value'");
	expect_error("socket = \"/tmp/x\n", "1: unterminated quote");
	expect_error("socket = \"/tmp/x\" y\n",
	    "1: text after the closing quote");
	expect_error("frame_max = 1M # trailing comments are not comments\n",
	    "1: bad value for 'frame_max'");
	expect_error("backlog =\n", "1: bad value for 'backlog': '' "
	    "(not a number)");
	expect_error("tcp = a:1\ntcp = b:2\ntcp = c:3\ntcp = d:4\n"
	    "tcp = e:5\n", "5: bad value for 'tcp': 'e:5' (too many tcp "
	    "listeners (max 4))");
}
END_TEST

START_TEST(test_line_length)
{
	struct conf	 c;
	char		 line[CONF_LINE_MAX + 8], err[256];
	char		 text[2 * CONF_LINE_MAX + 64];

	/* Exactly CONF_LINE_MAX bytes plus a newline: accepted. */
	memset(line, 'x', sizeof(line));
	line[0] = '#';
	line[CONF_LINE_MAX] = '\0';
	snprintf(text, sizeof(text), "backlog = 9\n%s\n", line);
	conf_defaults(&c);
	ck_assert_int_eq(load_text(&c, text, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(c.backlog, 9);

	/* One more byte: an error, not a silent truncation. */
	line[CONF_LINE_MAX] = 'x';
	line[CONF_LINE_MAX + 1] = '\0';
	snprintf(text, sizeof(text), "backlog = 9\n%s\nbacklog = 8\n", line);
	expect_error(text, "2: line too long (max 1024 bytes)");

	/* A long value line is not cut into a valid shorter value. */
	memset(text, ' ', sizeof(text));
	memcpy(text, "backlog = 5", 11);
	memcpy(text + CONF_LINE_MAX + 4, "5\n", 3);
	expect_error(text, "1: line too long");
}
END_TEST

START_TEST(test_nul_byte)
{
	struct conf	 c;
	char		 err[256];

	conf_defaults(&c);
	write_conf("backlog = 1\0 2\n", 15);
	ck_assert_int_eq(conf_load(&c, cpath, NULL, err, sizeof(err)),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":1: NUL byte"));
}
END_TEST

START_TEST(test_missing_file)
{
	struct conf	 c, before;
	char		 err[256];

	conf_defaults(&c);
	before = c;
	ck_assert_int_eq(conf_load(&c, "/nonexistent/iomuxd.conf", NULL,
	    err, sizeof(err)), -ENOENT);
	ck_assert_mem_eq(&c, &before, sizeof(c));
	/* A directory is not a config file. */
	ck_assert_int_lt(conf_load(&c, tmpdir, NULL, err, sizeof(err)), 0);
	ck_assert_mem_eq(&c, &before, sizeof(c));
}
END_TEST

struct bad {
	const char	*key, *value;
};

START_TEST(test_bad_values)
{
	static const struct bad	 bad[] = {
		{ "socket", "/tmp/0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "01234567890123456789012345678" },
		{ "socket_mode", "0888" }, { "socket_mode", "01000" },
		{ "socket_mode", "rw" }, { "socket_mode", "" },
		{ "socket_mode", "-0660" },
		{ "tcp", "7411" }, { "tcp", "127.0.0.1" },
		{ "tcp", "127.0.0.1:" }, { "tcp", ":7411" },
		{ "tcp", "127.0.0.1:65536" }, { "tcp", "::1:7411" },
		{ "tcp", "[::1]7411" }, { "tcp", "[]:7411" },
		{ "tcp", "127.0.0.1:74 11" }, { "tcp", "127.0.0.1:-1" },
		{ "tcp_allow_remote", "maybe" }, { "tcp_allow_remote", "" },
		{ "backend", "" }, { "backend", "EPOLL" },
		{ "backend", "e poll" }, { "backend", "averyveryverylongname" },
		{ "backlog", "0" }, { "backlog", "65536" }, { "backlog", "-1" },
		{ "backlog", "+5" }, { "backlog", " 5" }, { "backlog", "5x" },
		{ "backlog", "0x10" },
		{ "backlog", "99999999999999999999999" },
		{ "frame_max", "4095" }, { "frame_max", "3K" },
		{ "frame_max", "65M" }, { "frame_max", "1G" },
		{ "frame_max", "1.5M" }, { "frame_max", "1MB" },
		{ "frame_max", "-1M" }, { "frame_max", "M" },
		{ "frame_max", "18446744073709551616" },
		{ "frame_max", "17179869184G" },
		{ "output_limit", "1K" }, { "output_limit", "5G" },
		{ "output_high", "0" }, { "output_timeout", "2x" },
		{ "output_timeout", "86400001ms" },
		{ "max_clients", "-1" }, { "max_clients", "1000001" },
		{ "frame_timeout", "0" }, { "frame_timeout", "2d" },
		{ "frame_timeout", "86401" }, { "frame_timeout", "1h" },
		{ "frame_timeout", "-1" }, { "frame_timeout", "1." },
		{ "frame_timeout", ".5" }, { "frame_timeout", "1 s" },
		{ "frame_timeout", "0.0001" },
		{ "idle_timeout", "1e3" }, { "shutdown_timeout", "abc" },
		{ "reqs_per_wakeup", "0" }, { "reqs_per_wakeup", "1025" },
		{ "accepts_per_wakeup", "0" }, { "verbose", "10" },
		{ "verbose", "yes" },
	};
	struct conf	 c, before;
	struct conf_set	 set = { 0 };
	char		 err[256], want[128];
	size_t		 i;

	conf_defaults(&c);
	before = c;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(conf_set_key(&c, bad[i].key, bad[i].value, &set,
		    err, sizeof(err)) == -EINVAL, "%s = '%s' accepted",
		    bad[i].key, bad[i].value);
		snprintf(want, sizeof(want), "bad value for '%s': ",
		    bad[i].key);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
		    "%s = '%s': message '%s'", bad[i].key, bad[i].value, err);
		ck_assert_mem_eq(&c, &before, sizeof(c));
	}
	ck_assert_uint_eq(set.mask, 0);
	ck_assert_int_eq(conf_set_key(&c, "nope", "1", &set, err,
	    sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "unknown key 'nope'");
}
END_TEST

START_TEST(test_set_key)
{
	struct conf	 c;
	struct conf_set	 set = { 0 };
	char		 err[256], path[CONF_PATH_MAX];

	conf_defaults(&c);
	ck_assert_int_eq(conf_set_key(&c, "frame_max", "2M", &set, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(c.frame_max, 2 * 1024 * 1024);
	ck_assert_uint_eq(set.mask, CONF_KEY_BIT(CONF_K_FRAME_MAX));
	ck_assert_int_eq(conf_set_key(&c, "idle-timeout", "30", &set, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(c.idle_timeout_ms, 30000);
	ck_assert(set.mask & CONF_KEY_BIT(CONF_K_IDLE_TIMEOUT));
	/* NULL set and NULL errbuf are fine. */
	ck_assert_int_eq(conf_set_key(&c, "backlog", "1", NULL, NULL, 0), 0);
	ck_assert_int_eq(conf_set_key(&c, "backlog", "x", NULL, NULL, 0),
	    -EINVAL);
	ck_assert_int_eq(c.backlog, 1);
	/* A 107-byte path fits sun_path. */
	memset(path, 'p', CONF_PATH_MAX - 1);
	path[0] = '/';
	path[CONF_PATH_MAX - 1] = '\0';
	ck_assert_int_eq(conf_set_key(&c, "socket", path, NULL, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(c.socket_path, path);
	/* Booleans. */
	ck_assert_int_eq(conf_set_key(&c, "tcp_allow_remote", "1", NULL,
	    NULL, 0), 0);
	ck_assert(c.tcp_allow_remote);
	ck_assert_int_eq(conf_set_key(&c, "tcp_allow_remote", "No", NULL,
	    NULL, 0), 0);
	ck_assert(!c.tcp_allow_remote);
	ck_assert_str_eq(conf_key_name(CONF_K_FRAME_MAX), "frame_max");
	ck_assert_ptr_null(conf_key_name(CONF_K_COUNT));
}
END_TEST

START_TEST(test_locked)
{
	struct conf	 c;
	struct conf_set	 set = { 0 };
	char		 err[256];

	conf_defaults(&c);
	c.foreground = true;
	ck_assert_int_eq(conf_set_key(&c, "frame_max", "2M", &set, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(conf_set_key(&c, "tcp", "127.0.0.1:1", &set, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(conf_set_key(&c, "verbose", "1", &set, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(load_text(&c,
	    "frame_max = 4M\n"
	    "tcp = 127.0.0.1:2\ntcp = 127.0.0.1:3\n"
	    "tcp = 127.0.0.1:4\ntcp = 127.0.0.1:5\n"
	    "backlog = 77\n", &set, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.frame_max, 2 * 1024 * 1024);
	ck_assert_int_eq(c.ntcp, 1);
	ck_assert_str_eq(c.tcp[0], "127.0.0.1:1");
	ck_assert_int_eq(c.verbose, 1);
	ck_assert_int_eq(c.backlog, 77);
	ck_assert(c.foreground);

	/* A locked key with a bad value in the file is still an error. */
	ck_assert_int_eq(load_text(&c, "frame_max = 1T\n", &set, err,
	    sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":1: bad value for 'frame_max'"));
	ck_assert_uint_eq(c.frame_max, 2 * 1024 * 1024);
}
END_TEST

START_TEST(test_atomic_reload)
{
	struct conf	 c, nc, before;
	struct conf_set	 set = { 0 }, later;
	char		 err[256];

	conf_defaults(&c);
	ck_assert_int_eq(conf_set_key(&c, "verbose", "1", &set, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(load_text(&c,
	    "socket = /tmp/one.sock\nbacklog = 10\nframe_max = 64K\n"
	    "idle_timeout = 5\n", &set, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.frame_max, 65536);
	before = c;

	/* An error on the last line: nothing of the file is applied. */
	ck_assert_int_eq(load_text(&c,
	    "frame_max = 128K\nidle_timeout = 9\nbogus = 1\n", &set, err,
	    sizeof(err)), -EINVAL);
	ck_assert_mem_eq(&c, &before, sizeof(c));
	ck_assert_int_eq(load_text(&c, "frame_max = 128K\nbacklog = x\n",
	    &set, err, sizeof(err)), -EINVAL);
	ck_assert_mem_eq(&c, &before, sizeof(c));

	/*
	 * A good reload, read into a copy and applied as the daemon does:
	 * limits apply, a removed key returns to its default, restart-only
	 * keys keep their running values and are reported, command-line
	 * keys stay.
	 */
	nc = c;
	ck_assert_int_eq(load_text(&nc,
	    "socket = /tmp/two.sock\nbackend = select\nbacklog = 10\n"
	    "frame_max = 128K\n", &set, err, sizeof(err)), 0);
	conf_apply(&c, &nc, &later);
	ck_assert_uint_eq(c.frame_max, 128 * 1024);
	ck_assert_uint_eq(c.idle_timeout_ms, 0);
	ck_assert_str_eq(c.socket_path, "/tmp/one.sock");
	ck_assert_str_eq(c.backend, "");
	ck_assert_int_eq(c.backlog, 10);
	ck_assert_int_eq(c.verbose, 1);
	ck_assert_uint_eq(later.mask, CONF_KEY_BIT(CONF_K_SOCKET) |
	    CONF_KEY_BIT(CONF_K_BACKEND));

	/* The running file again: nothing needs a restart. */
	nc = c;
	ck_assert_int_eq(load_text(&nc, "socket = /tmp/one.sock\n"
	    "backlog = 10\n", &set, err, sizeof(err)), 0);
	conf_apply(&c, &nc, &later);
	ck_assert_uint_eq(later.mask, 0);
	ck_assert_uint_eq(c.frame_max, 1024 * 1024);
}
END_TEST

/*
 * Every key away from its default, to see what a reload does with each.
 * frame_max is small enough for value_max and key_max to fit the output
 * limit (conf_check()).
 */
static const char every_key[] =
    "socket = /tmp/two.sock\n"
    "socket_mode = 0600\n"
    "tcp = 127.0.0.1:7411\n"
    "tcp_allow_remote = yes\n"
    "backend = poll\n"
    "backlog = 128\n"
    "frame_max = 64K\n"
    "output_limit = 16M\n"
    "output_high = 2M\n"
    "output_timeout = 0\n"
    "max_clients = 100\n"
    "frame_timeout = 1.5\n"
    "idle_timeout = 2m\n"
    "shutdown_timeout = 250ms\n"
    "reqs_per_wakeup = 8\n"
    "accepts_per_wakeup = 4\n"
    "verbose = 2\n"
    "key_max = 2K\n"
    "value_max = 1M\n"
    "max_memory = 1G\n"
    "subscriptions_max = 10\n"
    "client_memory_max = 64M\n"
    "max_clients_per_uid = 7\n"
    "client_memory_max_per_uid = 16M\n";

#define BIT(k)	CONF_KEY_BIT(CONF_K_ ## k)

START_TEST(test_apply_every_key)
{
	struct conf	 run, nc;
	struct conf_set	 later = { UINT64_MAX };
	char		 err[256];

	conf_defaults(&run);
	run.foreground = true;
	nc = run;
	ck_assert_int_eq(load_text(&nc, every_key, NULL, err, sizeof(err)),
	    0);
	nc.foreground = false;
	conf_apply(&run, &nc, &later);

	/* Live: the new values, at once. */
	ck_assert_uint_eq(run.frame_max, 64 * 1024);
	ck_assert_uint_eq(run.output_limit, 16 * 1024 * 1024);
	ck_assert_uint_eq(run.output_high, 2 * 1024 * 1024);
	ck_assert_uint_eq(run.output_timeout_ms, 0);
	ck_assert_uint_eq(run.frame_timeout_ms, 1500);
	ck_assert_uint_eq(run.idle_timeout_ms, 120000);
	ck_assert_uint_eq(run.shutdown_timeout_ms, 250);
	ck_assert_int_eq(run.reqs_per_wakeup, 8);
	ck_assert_int_eq(run.accepts_per_wakeup, 4);
	ck_assert_int_eq(run.verbose, 2);
	ck_assert_uint_eq(run.key_max, 2048);
	ck_assert_uint_eq(run.value_max, 1024 * 1024);
	ck_assert_uint_eq(run.max_memory, 1024 * 1024 * 1024);
	ck_assert_int_eq(run.subscriptions_max, 10);
	ck_assert_uint_eq(run.client_memory_max, 64 * 1024 * 1024);
	ck_assert_int_eq(run.max_clients_per_uid, 7);
	ck_assert_uint_eq(run.client_memory_max_per_uid, 16 * 1024 * 1024);

	/* At the next start: the running values stay, and are reported. */
	ck_assert_str_eq(run.socket_path, "");
	ck_assert_uint_eq(run.socket_mode, 0660);
	ck_assert_int_eq(run.ntcp, 0);
	ck_assert(!run.tcp_allow_remote);
	ck_assert_str_eq(run.backend, "");
	ck_assert_int_eq(run.backlog, 511);
	ck_assert_uint_eq(later.mask, BIT(SOCKET) | BIT(SOCKET_MODE) |
	    BIT(TCP) | BIT(TCP_ALLOW_REMOTE) | BIT(BACKEND) | BIT(BACKLOG));

	/* Lower-only: 100 is under the default, derived from the fd limit. */
	ck_assert_int_eq(run.max_clients, 100);

	/* Not a key at all: a reload leaves it be. */
	ck_assert(run.foreground);
	/* What conf_check() asks still holds for the mix. */
	ck_assert_int_eq(conf_check(&run, err, sizeof(err)), 0);

	/*
	 * The same file again: the live values stay, and the keys still
	 * waiting for a restart are named again.
	 */
	nc = run;
	ck_assert_int_eq(load_text(&nc, every_key, NULL, err, sizeof(err)),
	    0);
	conf_apply(&run, &nc, &later);
	ck_assert_uint_eq(later.mask, BIT(SOCKET) | BIT(SOCKET_MODE) |
	    BIT(TCP) | BIT(TCP_ALLOW_REMOTE) | BIT(BACKEND) | BIT(BACKLOG));
	ck_assert_int_eq(run.max_clients, 100);
}
END_TEST

START_TEST(test_apply_next_start)
{
	struct conf	 run, nc, before;
	struct conf_set	 later = { UINT64_MAX };
	char		 err[256];

	conf_defaults(&run);
	conf_defaults(&nc);
	ck_assert_int_eq(load_text(&run, "socket = /tmp/one.sock\n"
	    "tcp = 127.0.0.1:1\ntcp = 127.0.0.1:2\nbacklog = 10\n", NULL,
	    err, sizeof(err)), 0);
	before = run;

	/* Only live keys differ: applied, nothing to report. */
	ck_assert_int_eq(load_text(&nc, "socket = /tmp/one.sock\n"
	    "tcp = 127.0.0.1:1\ntcp = 127.0.0.1:2\nbacklog = 10\n"
	    "idle_timeout = 5\n", NULL, err, sizeof(err)), 0);
	conf_apply(&run, &nc, &later);
	ck_assert_uint_eq(later.mask, 0);
	ck_assert_uint_eq(run.idle_timeout_ms, 5000);

	/* The same listeners in another order are another configuration. */
	ck_assert_int_eq(load_text(&nc, "socket = /tmp/one.sock\n"
	    "tcp = 127.0.0.1:2\ntcp = 127.0.0.1:1\nbacklog = 10\n", NULL,
	    err, sizeof(err)), 0);
	conf_apply(&run, &nc, &later);
	ck_assert_uint_eq(later.mask, BIT(TCP));
	ck_assert_str_eq(run.tcp[0], "127.0.0.1:1");
	ck_assert_str_eq(run.tcp[1], "127.0.0.1:2");

	/* One listener fewer; the socket path and backend change too. */
	ck_assert_int_eq(load_text(&nc, "socket = /tmp/two.sock\n"
	    "tcp = 127.0.0.1:1\nbacklog = 10\nbackend = select\n", NULL,
	    err, sizeof(err)), 0);
	conf_apply(&run, &nc, &later);
	ck_assert_uint_eq(later.mask, BIT(SOCKET) | BIT(TCP) | BIT(BACKEND));
	ck_assert_str_eq(run.socket_path, "/tmp/one.sock");
	ck_assert_int_eq(run.ntcp, 2);
	ck_assert_str_eq(run.tcp[1], "127.0.0.1:2");
	ck_assert_str_eq(run.backend, "");
	ck_assert_int_eq(run.backlog, 10);
	/* idle_timeout left the file: back to its default, live. */
	ck_assert_uint_eq(run.idle_timeout_ms, 0);
	ck_assert_mem_eq(&run, &before, sizeof(run));
}
END_TEST

START_TEST(test_apply_lower_only)
{
	struct conf	 run, nc;
	struct conf_set	 later = { UINT64_MAX };

	conf_defaults(&run);
	run.max_clients = 100;
	nc = run;

	nc.max_clients = 50;
	conf_apply(&run, &nc, &later);
	ck_assert_int_eq(run.max_clients, 50);
	ck_assert_uint_eq(later.mask, 0);

	conf_apply(&run, &nc, &later);
	ck_assert_int_eq(run.max_clients, 50);
	ck_assert_uint_eq(later.mask, 0);

	/* A raise waits for the next start, and says so. */
	nc.max_clients = 80;
	conf_apply(&run, &nc, &later);
	ck_assert_int_eq(run.max_clients, 50);
	ck_assert_uint_eq(later.mask, BIT(MAX_CLIENTS));

	/* 0 (derive from the fd limit) is no limit, so above any. */
	nc.max_clients = 0;
	conf_apply(&run, &nc, &later);
	ck_assert_int_eq(run.max_clients, 50);
	ck_assert_uint_eq(later.mask, BIT(MAX_CLIENTS));

	run.max_clients = 0;
	nc.max_clients = 1000;
	conf_apply(&run, &nc, &later);
	ck_assert_int_eq(run.max_clients, 1000);
	ck_assert_uint_eq(later.mask, 0);

	run.max_clients = 0;
	nc.max_clients = 0;
	conf_apply(&run, &nc, &later);
	ck_assert_int_eq(run.max_clients, 0);
	ck_assert_uint_eq(later.mask, 0);
}
END_TEST

START_TEST(test_set_names)
{
	struct conf_set	 s = { 0 };
	char		 buf[64];

	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(conf_set_names(&s, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");

	s.mask = BIT(BACKEND) | BIT(SOCKET);
	ck_assert_int_eq(conf_set_names(&s, buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "socket, backend");

	/* The table's order, which is iomuxd.conf(5)'s, not the enum's. */
	s.mask = BIT(MAX_CLIENTS) | BIT(OUTPUT_TIMEOUT) | BIT(OUTPUT_HIGH);
	ck_assert_int_eq(conf_set_names(&s, buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, "output_high, output_timeout, max_clients");

	/* Too small a buffer: cut short, still terminated. */
	ck_assert_int_eq(conf_set_names(&s, buf, 8), 3);
	ck_assert_str_eq(buf, "output_");
	ck_assert_int_eq(conf_set_names(&s, buf, 0), 3);

	/* A bit that is no key names nothing. */
	s.mask = CONF_KEY_BIT(CONF_K_COUNT) | BIT(SOCKET);
	ck_assert_int_eq(conf_set_names(&s, buf, sizeof(buf)), 1);
	ck_assert_str_eq(buf, "socket");
}
END_TEST

#undef BIT

START_TEST(test_check)
{
	struct conf	 c;
	char		 err[256];

	conf_defaults(&c);
	ck_assert_int_eq(load_text(&c, "output_limit = 768K\n", NULL, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(c.output_limit, 768 * 1024);
	ck_assert_uint_eq(c.output_high, 768 * 1024);

	/* A value too large to be sent under the output limit. */
	conf_defaults(&c);
	ck_assert_int_eq(load_text(&c, "output_limit = 512K\n", NULL, err,
	    sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "value_max (524288)"));
	ck_assert_ptr_nonnull(strstr(err, "output_limit (524288)"));
	conf_defaults(&c);
	ck_assert_int_eq(load_text(&c, "output_limit = 512K\n"
	    "value_max = 500K\n", NULL, err, sizeof(err)), 0);
	/* frame_max bounds the value first. */
	conf_defaults(&c);
	ck_assert_int_eq(load_text(&c, "output_limit = 512K\n"
	    "frame_max = 256K\n", NULL, err, sizeof(err)), 0);

	conf_defaults(&c);
	c.backlog = 0;
	ck_assert_int_eq(conf_check(&c, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "backlog is out of range");
	conf_defaults(&c);
	c.frame_max = 100;
	ck_assert_int_eq(conf_check(&c, err, sizeof(err)), -EINVAL);
	conf_defaults(&c);
	c.ntcp = CONF_TCP_MAX + 1;
	ck_assert_int_eq(conf_check(&c, err, sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(test_parse_size)
{
	static const struct {
		const char	*s;
		int		 r;
		uint64_t	 v;
	} t[] = {
		{ "0", 0, 0 }, { "1", 0, 1 }, { "4096", 0, 4096 },
		{ "4K", 0, 4096 }, { "4k", 0, 4096 },
		{ "1M", 0, 1048576 }, { "1m", 0, 1048576 },
		{ "2G", 0, UINT64_C(2147483648) },
		{ "007", 0, 7 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "99999999999999999999999", -ERANGE, 0 },
		{ "17179869183G", 0, UINT64_C(17179869183) << 30 },
		{ "17179869184G", -ERANGE, 0 },
		{ "18014398509481984K", -ERANGE, 0 },
		{ "", -EINVAL, 0 }, { "K", -EINVAL, 0 }, { "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 }, { " 1", -EINVAL, 0 },
		{ "1 ", -EINVAL, 0 }, { "1KB", -EINVAL, 0 },
		{ "1KiB", -EINVAL, 0 }, { "1.5M", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 }, { "1T", -EINVAL, 0 },
	};
	uint64_t	 v;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = 12345;
		ck_assert_msg(conf_parse_size(t[i].s, &v) == t[i].r,
		    "'%s': %d", t[i].s, conf_parse_size(t[i].s, &v));
		if (t[i].r == 0)
			ck_assert_uint_eq(v, t[i].v);
		else
			ck_assert_uint_eq(v, 12345);
	}
}
END_TEST

START_TEST(test_parse_ms)
{
	static const struct {
		const char	*s;
		int		 r;
		uint32_t	 v;
	} t[] = {
		{ "0", 0, 0 }, { "0s", 0, 0 }, { "0ms", 0, 0 },
		{ "10", 0, 10000 }, { "10s", 0, 10000 },
		{ "1.5", 0, 1500 }, { "1.5s", 0, 1500 },
		{ "0.25", 0, 250 }, { "250ms", 0, 250 },
		{ "2m", 0, 120000 }, { "0.5m", 0, 30000 },
		{ "0.001", 0, 1 }, { "0.0005", 0, 1 },
		{ "0.0004", -ERANGE, 0 }, { "0.4ms", -ERANGE, 0 },
		{ "1.5ms", 0, 2 }, { "0.123456789", 0, 123 },
		{ "1.0000000000", -EINVAL, 0 },
		{ "4294967295ms", 0, UINT32_MAX },
		{ "4294967296ms", -ERANGE, 0 },
		{ "4294967s", 0, 4294967000u }, { "4294968", -ERANGE, 0 },
		{ "71582m", 0, 4294920000u }, { "71583m", -ERANGE, 0 },
		{ "99999999999999999999", -ERANGE, 0 },
		{ "", -EINVAL, 0 }, { "s", -EINVAL, 0 }, { ".5", -EINVAL, 0 },
		{ "1.", -EINVAL, 0 }, { "1.5.5", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 }, { "+1", -EINVAL, 0 },
		{ "1h", -EINVAL, 0 }, { "1 s", -EINVAL, 0 },
		{ "1S", -EINVAL, 0 }, { "1sec", -EINVAL, 0 },
		{ "1e3", -EINVAL, 0 }, { " 1", -EINVAL, 0 },
	};
	uint32_t	 v;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = 12345;
		ck_assert_msg(conf_parse_ms(t[i].s, &v) == t[i].r,
		    "'%s': %d", t[i].s, conf_parse_ms(t[i].s, &v));
		if (t[i].r == 0)
			ck_assert_uint_eq(v, t[i].v);
		else
			ck_assert_uint_eq(v, 12345);
	}
}
END_TEST

START_TEST(test_parse_mode)
{
	mode_t	 m = 0;

	ck_assert_int_eq(conf_parse_mode("0660", &m), 0);
	ck_assert_uint_eq(m, 0660);
	ck_assert_int_eq(conf_parse_mode("600", &m), 0);
	ck_assert_uint_eq(m, 0600);
	ck_assert_int_eq(conf_parse_mode("0", &m), 0);
	ck_assert_uint_eq(m, 0);
	ck_assert_int_eq(conf_parse_mode("0777", &m), 0);
	ck_assert_uint_eq(m, 0777);
	ck_assert_int_eq(conf_parse_mode("1000", &m), -ERANGE);
	ck_assert_int_eq(conf_parse_mode("4755", &m), -ERANGE);
	ck_assert_int_eq(conf_parse_mode("00660", &m), -EINVAL);
	ck_assert_int_eq(conf_parse_mode("0680", &m), -EINVAL);
	ck_assert_int_eq(conf_parse_mode("", &m), -EINVAL);
	ck_assert_int_eq(conf_parse_mode("-660", &m), -EINVAL);
	ck_assert_int_eq(conf_parse_mode("0x1ff", &m), -EINVAL);
	ck_assert_uint_eq(m, 0777);
}
END_TEST

/*
 * The per-uid quotas: unset they follow another limit (CONF_AUTO, which
 * conf_check() accepts though no file can write it), 0 is no limit, and
 * a reload that removes them brings the default back.
 */
START_TEST(test_per_uid_keys)
{
	struct conf	c;
	char		err[256];

	conf_defaults(&c);
	ck_assert_int_eq(c.max_clients_per_uid, CONF_AUTO);
	ck_assert_uint_eq(c.client_memory_max_per_uid, CONF_AUTO_SIZE);
	ck_assert_int_eq(conf_check(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(load_text(&c, "max_clients_per_uid = 0\n"
	    "client_memory_max_per_uid = 0\n", NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(c.max_clients_per_uid, 0);
	ck_assert_uint_eq(c.client_memory_max_per_uid, 0);
	ck_assert_int_eq(load_text(&c, "# none\n", NULL, err, sizeof(err)),
	    0);
	ck_assert_int_eq(c.max_clients_per_uid, CONF_AUTO);
	ck_assert_uint_eq(c.client_memory_max_per_uid, CONF_AUTO_SIZE);
	ck_assert_int_eq(load_text(&c, "max_clients_per_uid = -1\n", NULL,
	    err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(load_text(&c, "max_clients_per_uid = 1000001\n",
	    NULL, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(load_text(&c, "client_memory_max_per_uid = "
	    "18446744073709551615\n", NULL, err, sizeof(err)), -EINVAL);
	/* Any other negative value set directly is still out of range. */
	conf_defaults(&c);
	c.max_clients_per_uid = -2;
	ck_assert_int_eq(conf_check(&c, err, sizeof(err)), -EINVAL);
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc;

	tc = tcase_create("defaults");
	tcase_add_test(tc, test_defaults);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_every_key);
	tcase_add_test(tc, test_syntax);
	tcase_add_test(tc, test_syntax_errors);
	tcase_add_test(tc, test_line_length);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_set_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("precedence");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_locked);
	tcase_add_test(tc, test_atomic_reload);
	tcase_add_test(tc, test_check);
	suite_add_tcase(s, tc);

	tc = tcase_create("per_uid");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_per_uid_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("reload");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_apply_every_key);
	tcase_add_test(tc, test_apply_next_start);
	tcase_add_test(tc, test_apply_lower_only);
	tcase_add_test(tc, test_set_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_size);
	tcase_add_test(tc, test_parse_ms);
	tcase_add_test(tc, test_parse_mode);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(conf_suite());
}
