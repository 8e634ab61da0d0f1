/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * check_ev.c: unit tests for the event loop (daemon/ev.c) and its
 * backends.
 *
 * Every behaviour is a loop test over ev_backends[], so each case runs
 * once per compiled backend and the backends are held to one semantics.
 * Readiness comes from socketpair(2)s, which are ready or not at once (no
 * sleeping). The only timing assertions are generous upper bounds that
 * catch "blocked forever"; ordering and firing are asserted exactly.
 */

#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check-run.h"
#include "ev.h"

#define SETSIZE		1024
#define WAIT_MS		1000	/* events must cut this wait short */

static const char *
bname(int i)
{
	return ev_backends[i]->name;
}

static struct ev_loop *
loop_new(int i, int setsize)
{
	struct ev_loop	*loop = NULL;
	int		 r;

	r = ev_loop_new(bname(i), setsize, &loop);
	ck_assert_msg(r == 0, "ev_loop_new(%s): %s", bname(i), strerror(-r));
	ck_assert_ptr_nonnull(loop);
	ck_assert_str_eq(ev_loop_backend(loop), bname(i));
	return loop;
}

static void
pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
}

static void
put(int fd, const char *s)
{
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static uint64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* xorshift32; fixed seeds make every run see the same sequence. */
static uint32_t
seed_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Raise the soft fd limit to at least 'want'; 0 or -1 if impossible. */
static int
nofile_at_least(rlim_t want)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_cur >= want)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		return -1;
	rl.rlim_cur = want;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

/* Records every callback: which fd, which events, in order. */
#define REC_MAX	64
struct rec {
	int	 calls;
	int	 fd[REC_MAX];
	int	 ev[REC_MAX];
	int	 readlen;	/* bytes read per EV_READ call, 0: none */
	ssize_t	 lastread;
};

static void
rec_cb(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct rec	*r = arg;
	char		 buf[256];
	size_t		 len;

	ck_assert_int_lt(r->calls, REC_MAX);
	r->fd[r->calls] = fd;
	r->ev[r->calls] = events;
	r->calls++;
	if ((events & EV_READ) && r->readlen > 0) {
		len = (size_t)r->readlen;
		if (len > sizeof(buf))
			len = sizeof(buf);
		r->lastread = read(fd, buf, len);
	}
}

/* For fds that must never fire. */
static void
idle_cb(struct ev_loop *loop, int fd, int events, void *arg)
{
	ck_abort_msg("idle fd %d fired (events %d)", fd, events);
}

/*
 * Readiness.
 */

START_TEST(test_read_ready)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	struct rec	 rec = { .readlen = 16 };
	int		 sv[2];

	pair(sv);
	ck_assert_int_eq(ev_io_add(loop, sv[0], EV_READ, rec_cb, &rec), 0);
	ck_assert_int_eq(ev_mask(loop, sv[0]), EV_READ);

	/* Nothing to read: nothing dispatched. */
	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	ck_assert_int_eq(rec.calls, 0);

	put(sv[1], "hello");
	ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
	ck_assert_int_eq(rec.calls, 1);
	ck_assert_int_eq(rec.fd[0], sv[0]);
	ck_assert_int_eq(rec.ev[0], EV_READ);
	ck_assert_int_eq(rec.lastread, 5);

	/* All consumed: quiet again. */
	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	ck_assert_int_eq(rec.calls, 1);
	ck_assert_uint_eq(ev_loop_stats(loop)->events, 1);
	ck_assert_uint_ge(ev_loop_stats(loop)->wakeups, 3);

	ev_io_del(loop, sv[0]);
	ev_io_del(loop, sv[0]);		/* idempotent */
	ck_assert_int_eq(ev_mask(loop, sv[0]), EV_NONE);
	put(sv[1], "x");
	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	ck_assert_int_eq(rec.calls, 1);
	ev_loop_free(loop);
}
END_TEST

/* Drops write interest on the first call. */
static void
write_once_cb(struct ev_loop *loop, int fd, int events, void *arg)
{
	int	*calls = arg;

	ck_assert_int_eq(events, EV_WRITE);
	(*calls)++;
	ck_assert_int_eq(ev_io_set(loop, fd, EV_NONE), 0);
}

START_TEST(test_write_interest)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	int		 sv[2], calls = 0, k;

	pair(sv);
	ck_assert_int_eq(ev_io_set(loop, sv[0], EV_WRITE), -ENOENT);
	ck_assert_int_eq(ev_io_add(loop, sv[0], EV_WRITE, write_once_cb,
	    &calls), 0);
	ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
	ck_assert_int_eq(calls, 1);

	/* Still writable, but nobody asks: no more callbacks. */
	for (k = 0; k < 5; k++)
		ck_assert_int_eq(ev_run_once(loop, 0), 0);
	ck_assert_int_eq(calls, 1);
	ck_assert_int_eq(ev_mask(loop, sv[0]), EV_NONE);

	/* Registered but idle: asking again needs only ev_io_set(). */
	ck_assert_int_eq(ev_io_set(loop, sv[0], EV_WRITE), 0);
	ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
	ck_assert_int_eq(calls, 2);

	/* Read interest only, nothing to read: still quiet. */
	ck_assert_int_eq(ev_io_set(loop, sv[0], EV_READ), 0);
	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	ck_assert_int_eq(calls, 2);
	ck_assert_int_eq(ev_io_set(loop, sv[0], 0x10), -EINVAL);
	ck_assert_int_eq(ev_io_add(loop, sv[0], 0x10, write_once_cb, &calls),
	    -EINVAL);
	ck_assert_int_eq(ev_io_add(loop, sv[0], EV_READ, NULL, NULL),
	    -EINVAL);
	ev_loop_free(loop);
}
END_TEST

START_TEST(test_level_refire)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	struct rec	 rec = { .readlen = 1 };
	int		 sv[2], k;

	pair(sv);
	ck_assert_int_eq(ev_io_add(loop, sv[0], EV_READ, rec_cb, &rec), 0);
	put(sv[1], "abcd");
	/* One byte per callback: data left unread fires again. */
	for (k = 1; k <= 4; k++) {
		ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
		ck_assert_int_eq(rec.calls, k);
		ck_assert_int_eq(rec.lastread, 1);
	}
	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	ck_assert_int_eq(rec.calls, 4);
	ev_loop_free(loop);
}
END_TEST

/* READ is dispatched before WRITE, and WRITE rechecks the mask. */
START_TEST(test_read_before_write)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	struct rec	 rec = { .readlen = 16 };
	int		 sv[2];

	pair(sv);
	ck_assert_int_eq(ev_io_add(loop, sv[0], EV_READ | EV_WRITE, rec_cb,
	    &rec), 0);
	put(sv[1], "x");
	ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 2);
	ck_assert_int_eq(rec.calls, 2);
	ck_assert_int_eq(rec.ev[0], EV_READ);
	ck_assert_int_eq(rec.ev[1], EV_WRITE);
	ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
	ck_assert_int_eq(rec.ev[2], EV_WRITE);
	ev_loop_free(loop);
}
END_TEST

static void
read_drop_write_cb(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct rec	*r = arg;

	rec_cb(loop, fd, events, arg);
	if (r->calls == 1)
		ck_assert_int_eq(ev_io_set(loop, fd, EV_READ), 0);
}

START_TEST(test_read_drops_write)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	struct rec	 rec = { .readlen = 16 };
	int		 sv[2];

	pair(sv);
	ck_assert_int_eq(ev_io_add(loop, sv[0], EV_READ | EV_WRITE,
	    read_drop_write_cb, &rec), 0);
	put(sv[1], "x");
	/* Both were ready; the read callback withdrew write interest. */
	ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
	ck_assert_int_eq(rec.calls, 1);
	ck_assert_int_eq(rec.ev[0], EV_READ);
	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	ev_loop_free(loop);
}
END_TEST

START_TEST(test_peer_close)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	struct rec	 rec = { .readlen = 16 }, wrec = { 0 };
	char		 fill[4096];
	int		 sv[2], wv[2];

	pair(sv);
	ck_assert_int_eq(ev_io_add(loop, sv[0], EV_READ, rec_cb, &rec), 0);
	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	close(sv[1]);
	ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
	ck_assert_int_eq(rec.calls, 1);
	ck_assert_int_eq(rec.ev[0], EV_READ);
	ck_assert_int_eq(rec.lastread, 0);	/* EOF */
	ev_io_del(loop, sv[0]);

	/*
	 * A writer watching only EV_WRITE on a full socket is woken by the
	 * peer's close, and write() then reports it.
	 */
	pair(wv);
	memset(fill, 'x', sizeof(fill));
	while (write(wv[0], fill, sizeof(fill)) > 0)
		;
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(ev_io_add(loop, wv[0], EV_WRITE, rec_cb, &wrec), 0);
	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	ck_assert_int_eq(wrec.calls, 0);
	close(wv[1]);
	ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
	ck_assert_int_eq(wrec.calls, 1);
	ck_assert_int_eq(wrec.ev[0], EV_WRITE);
	ck_assert_int_eq(send(wv[0], "x", 1, MSG_NOSIGNAL), -1);
	ck_assert_int_eq(errno, EPIPE);
	ev_loop_free(loop);
}
END_TEST

/*
 * Pipes report a dead peer without the usual companion flag: a reader
 * gets POLLHUP without POLLIN, a writer on a full pipe POLLERR without
 * POLLOUT. Both must still reach the callback.
 */
START_TEST(test_pipe_hangup)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	struct rec	 rrec = { .readlen = 16 }, wrec = { 0 };
	char		 fill[4096];
	int		 rp[2], wp[2];

	ck_assert_int_eq(pipe2(rp, O_NONBLOCK | O_CLOEXEC), 0);
	ck_assert_int_eq(ev_io_add(loop, rp[0], EV_READ, rec_cb, &rrec), 0);
	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	close(rp[1]);
	ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
	ck_assert_int_eq(rrec.calls, 1);
	ck_assert_int_eq(rrec.ev[0], EV_READ);
	ck_assert_int_eq(rrec.lastread, 0);
	ev_io_del(loop, rp[0]);

	ck_assert_int_eq(pipe2(wp, O_NONBLOCK | O_CLOEXEC), 0);
	memset(fill, 'x', sizeof(fill));
	while (write(wp[1], fill, sizeof(fill)) > 0)
		;
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(ev_io_add(loop, wp[1], EV_WRITE, rec_cb, &wrec), 0);
	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	close(wp[0]);
	ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
	ck_assert_int_eq(wrec.calls, 1);
	ck_assert_int_eq(wrec.ev[0], EV_WRITE);
	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(write(wp[1], "x", 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	ev_loop_free(loop);
}
END_TEST

/*
 * Random add/set/del/fill/drain on 40 sockets against a model: after
 * every step, exactly the watched-and-ready directions are dispatched.
 * Sockets stay writable, so EV_WRITE interest always fires. This walks
 * the poll backend's slot moves and the select backend's maxfd upkeep.
 */
#define MODEL_N	40

struct slot {
	int	 got;		/* events dispatched this iteration */
	int	 calls;
};

static void
model_cb(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct slot	*sl = arg;

	ck_assert_int_eq(sl->got & events, 0);	/* once per direction */
	sl->got |= events;
	sl->calls++;
}

START_TEST(test_io_model)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	struct slot	 sl[MODEL_N];
	int		 sv[MODEL_N][2], mask[MODEL_N], want, n, k, step;
	bool		 reg[MODEL_N] = { false };
	bool		 full[MODEL_N] = { false };
	uint32_t	 seed = 7;
	char		 buf[64];

	for (k = 0; k < MODEL_N; k++) {
		pair(sv[k]);
		mask[k] = EV_NONE;
	}
	for (step = 0; step < 3000; step++) {
		k = (int)(seed_next(&seed) % MODEL_N);
		switch (seed_next(&seed) % 5) {
		case 0:
			mask[k] = (int)(seed_next(&seed) % 4);
			ck_assert_int_eq(ev_io_add(loop, sv[k][0], mask[k],
			    model_cb, &sl[k]), 0);
			reg[k] = true;
			break;
		case 1:
			ev_io_del(loop, sv[k][0]);
			reg[k] = false;
			mask[k] = EV_NONE;
			break;
		case 2:
			if (!reg[k]) {
				ck_assert_int_eq(ev_io_set(loop, sv[k][0],
				    EV_READ), -ENOENT);
				break;
			}
			mask[k] = (int)(seed_next(&seed) % 4);
			ck_assert_int_eq(ev_io_set(loop, sv[k][0], mask[k]), 0);
			break;
		case 3:
			put(sv[k][1], "d");
			full[k] = true;
			break;
		default:
			while (read(sv[k][0], buf, sizeof(buf)) > 0)
				;
			full[k] = false;
			break;
		}
		ck_assert_int_eq(ev_mask(loop, sv[k][0]), mask[k]);
		memset(sl, 0, sizeof(sl));
		n = ev_run_once(loop, 0);
		want = 0;
		for (k = 0; k < MODEL_N; k++) {
			int	 expect = mask[k] & EV_WRITE;

			if ((mask[k] & EV_READ) && full[k])
				expect |= EV_READ;
			ck_assert_msg(sl[k].got == expect,
			    "step %d fd %d: got %d, want %d", step, sv[k][0],
			    sl[k].got, expect);
			want += sl[k].calls;
		}
		ck_assert_int_eq(n, want);
	}
	ev_loop_free(loop);
}
END_TEST

/*
 * Changes made by a callback to fds that fired in the same batch.
 */

struct batch {
	int		 fd[2];		/* the two watched fds */
	int		 calls;
	int		 first;		/* fd of the first callback */
	char		 data[16];
	struct rec	 rec;		/* for a replacing watcher */
};

static int
other_fd(const struct batch *b, int fd)
{
	return fd == b->fd[0] ? b->fd[1] : b->fd[0];
}

static void
del_other_cb(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct batch	*b = arg;
	char		 c;

	b->calls++;
	ck_assert_int_eq(read(fd, &c, 1), 1);
	if (b->calls == 1) {
		b->first = fd;
		ev_io_del(loop, other_fd(b, fd));
	}
}

START_TEST(test_del_other_in_batch)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	struct batch	 b = { 0 };
	int		 a[2], c[2];

	pair(a);
	pair(c);
	b.fd[0] = a[0];
	b.fd[1] = c[0];
	ck_assert_int_eq(ev_io_add(loop, a[0], EV_READ, del_other_cb, &b), 0);
	ck_assert_int_eq(ev_io_add(loop, c[0], EV_READ, del_other_cb, &b), 0);
	put(a[1], "a");
	put(c[1], "c");
	/* Both ready before the wait; the first callback deletes the other. */
	ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
	ck_assert_int_eq(b.calls, 1);
	/* The deleted fd is still readable, but never reported again. */
	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	ck_assert_int_eq(b.calls, 1);
	ev_loop_free(loop);
}
END_TEST

/*
 * The first callback deletes the other fd, closes it, and a new socket
 * takes the same number, with data waiting, watched with the very same
 * callback and argument. The event collected for the old file must not
 * reach the new watcher in this batch (generation check), yet the new
 * watcher works from the next iteration (so the drop was not a mask or
 * callback accident).
 */
static void
reuse_cb(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct batch	*b = arg;
	int		 nv[2], victim;
	ssize_t		 n;

	b->calls++;
	if (b->calls > 1) {
		n = read(fd, b->data, sizeof(b->data) - 1);
		ck_assert_int_gt(n, 0);
		b->data[n] = '\0';
		return;
	}
	b->first = fd;
	victim = other_fd(b, fd);
	pair(nv);		/* before close(), so it gets other numbers */
	put(nv[1], "new");
	ev_io_del(loop, victim);
	ck_assert_int_eq(close(victim), 0);
	ck_assert_int_eq(dup2(nv[0], victim), victim);
	close(nv[0]);
	ck_assert_int_eq(ev_io_add(loop, victim, EV_READ, reuse_cb, b), 0);
	/* The first fd keeps its byte unread; stop watching it. */
	ev_io_del(loop, fd);
}

START_TEST(test_reuse_in_batch)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	struct batch	 b = { 0 };
	int		 a[2], c[2];

	pair(a);
	pair(c);
	b.fd[0] = a[0];
	b.fd[1] = c[0];
	ck_assert_int_eq(ev_io_add(loop, a[0], EV_READ, reuse_cb, &b), 0);
	ck_assert_int_eq(ev_io_add(loop, c[0], EV_READ, reuse_cb, &b), 0);
	put(a[1], "old");
	put(c[1], "old");
	ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
	ck_assert_int_eq(b.calls, 1);
	/* Next iteration: the new socket's own readiness is delivered. */
	ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
	ck_assert_int_eq(b.calls, 2);
	ck_assert_str_eq(b.data, "new");
	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	ev_loop_free(loop);
}
END_TEST

static void
replaced_cb(struct ev_loop *loop, int fd, int events, void *arg)
{
	ck_abort_msg("replaced callback called");
}

START_TEST(test_replace_callback)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	struct rec	 rec = { .readlen = 16 };
	int		 sv[2];

	pair(sv);
	ck_assert_int_eq(ev_io_add(loop, sv[0], EV_READ, replaced_cb, NULL),
	    0);
	ck_assert_int_eq(ev_io_add(loop, sv[0], EV_READ, rec_cb, &rec), 0);
	put(sv[1], "x");
	ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
	ck_assert_int_eq(rec.calls, 1);
	ev_loop_free(loop);
}
END_TEST

/*
 * An event collected for one watcher is not handed to the watcher that
 * replaced it in the same batch (no ev_io_del() in between).
 */
static void
takeover_cb(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct batch	*b = arg;
	char		 c;

	b->calls++;
	ck_assert_int_eq(read(fd, &c, 1), 1);
	if (b->calls == 1) {
		b->first = fd;
		ck_assert_int_eq(ev_io_add(loop, other_fd(b, fd), EV_READ,
		    rec_cb, &b->rec), 0);
	}
}

START_TEST(test_replace_in_batch)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	struct batch	 b = { 0 };
	int		 a[2], c[2];

	b.rec.readlen = 16;
	pair(a);
	pair(c);
	b.fd[0] = a[0];
	b.fd[1] = c[0];
	ck_assert_int_eq(ev_io_add(loop, a[0], EV_READ, takeover_cb, &b), 0);
	ck_assert_int_eq(ev_io_add(loop, c[0], EV_READ, takeover_cb, &b), 0);
	put(a[1], "a");
	put(c[1], "c");
	ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
	ck_assert_int_eq(b.calls, 1);
	ck_assert_int_eq(b.rec.calls, 0);
	ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
	ck_assert_int_eq(b.calls, 1);
	ck_assert_int_eq(b.rec.calls, 1);
	ck_assert_int_eq(b.rec.fd[0], other_fd(&b, b.first));
	ev_loop_free(loop);
}
END_TEST

/*
 * Timers.
 */

struct tlog {
	struct ev_timer	 t[1000];
	uint64_t	 when[1000];	/* deadlines in firing order */
	int		 who[1000];
	int		 n;
};

static struct tlog	*tl;

static void
log_timer_cb(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	ck_assert(!ev_timer_active(t));
	/* Never early. */
	ck_assert_uint_ge(ev_now(loop), ev_timer_when(t));
	ck_assert_int_lt(tl->n, 1000);
	tl->when[tl->n] = ev_timer_when(t);
	tl->who[tl->n] = (int)(t - tl->t);
	tl->n++;
}

START_TEST(test_timer_order)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	uint32_t	 seed = 12345;
	int		 k, iter;

	tl = calloc(1, sizeof(*tl));
	ck_assert_ptr_nonnull(tl);
	for (k = 0; k < 1000; k++) {
		ev_timer_init(&tl->t[k], log_timer_cb, NULL);
		ck_assert(!ev_timer_active(&tl->t[k]));
		ck_assert_int_eq(ev_timer_start(loop, &tl->t[k],
		    seed_next(&seed) % 60), 0);
		ck_assert(ev_timer_active(&tl->t[k]));
	}
	for (iter = 0; tl->n < 1000 && iter < 10000; iter++)
		ck_assert_int_eq(ev_run_once(loop, -1), 0);
	ck_assert_int_eq(tl->n, 1000);
	for (k = 1; k < 1000; k++)
		ck_assert_uint_le(tl->when[k - 1], tl->when[k]);
	ck_assert_uint_eq(ev_loop_stats(loop)->timers, 1000);
	ev_loop_free(loop);
	free(tl);
}
END_TEST

/*
 * Random start/re-arm/stop against a model, then one pass fires exactly
 * the model's active timers in deadline order. Deadlines are all in the
 * past, so no waiting is involved: this checks the heap itself.
 */
START_TEST(test_timer_heap_model)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	uint64_t	 model[1000], base;
	bool		 active[1000] = { false }, seen[1000] = { false };
	uint32_t	 seed = 99;
	int		 k, op, nactive = 0;

	tl = calloc(1, sizeof(*tl));
	ck_assert_ptr_nonnull(tl);
	base = ev_now(loop);
	for (k = 0; k < 1000; k++)
		ev_timer_init(&tl->t[k], log_timer_cb, NULL);
	for (op = 0; op < 20000; op++) {
		k = (int)(seed_next(&seed) % 1000);
		switch (seed_next(&seed) % 3) {
		case 0:
			ev_timer_stop(loop, &tl->t[k]);
			ev_timer_stop(loop, &tl->t[k]);
			active[k] = false;
			break;
		default:
			model[k] = seed_next(&seed) % (base + 1);
			ck_assert_int_eq(ev_timer_start_at(loop, &tl->t[k],
			    model[k]), 0);
			active[k] = true;
			break;
		}
		ck_assert(ev_timer_active(&tl->t[k]) == active[k]);
		/* Drain most of them now and then to exercise shrinking. */
		if (op % 5000 == 4999) {
			for (k = 0; k < 1000; k++) {
				if (k % 7 == 0)
					continue;
				ev_timer_stop(loop, &tl->t[k]);
				active[k] = false;
			}
		}
	}
	for (k = 0; k < 1000; k++)
		nactive += active[k];
	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	ck_assert_int_eq(tl->n, nactive);
	for (k = 0; k < tl->n; k++) {
		ck_assert(active[tl->who[k]]);
		ck_assert(!seen[tl->who[k]]);
		seen[tl->who[k]] = true;
		ck_assert_uint_eq(tl->when[k], model[tl->who[k]]);
		if (k > 0)
			ck_assert_uint_le(tl->when[k - 1], tl->when[k]);
	}
	ev_loop_free(loop);
	free(tl);
}
END_TEST

START_TEST(test_timer_stop_restart)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	int		 iter;

	tl = calloc(1, sizeof(*tl));
	ck_assert_ptr_nonnull(tl);
	for (iter = 0; iter < 4; iter++)
		ev_timer_init(&tl->t[iter], log_timer_cb, NULL);
	ck_assert_int_eq(ev_timer_start(loop, &tl->t[0], 30), 0);
	ck_assert_int_eq(ev_timer_start(loop, &tl->t[1], 10), 0);
	ck_assert_int_eq(ev_timer_start(loop, &tl->t[2], 20), 0);
	ck_assert_int_eq(ev_timer_start(loop, &tl->t[3], 15), 0);
	ev_timer_stop(loop, &tl->t[1]);
	ck_assert(!ev_timer_active(&tl->t[1]));
	ev_timer_stop(loop, &tl->t[1]);		/* idempotent */
	ev_timer_stop(loop, &tl->t[3]);		/* never fires */
	/* Re-arm an active timer later, and a stopped one earlier. */
	ck_assert_int_eq(ev_timer_start(loop, &tl->t[2], 40), 0);
	ck_assert_int_eq(ev_timer_start(loop, &tl->t[1], 5), 0);
	for (iter = 0; tl->n < 3 && iter < 1000; iter++)
		ev_run_once(loop, -1);
	ck_assert_int_eq(tl->n, 3);
	ck_assert_int_eq(tl->who[0], 1);
	ck_assert_int_eq(tl->who[1], 0);
	ck_assert_int_eq(tl->who[2], 2);
	ck_assert(!ev_timer_active(&tl->t[3]));
	ev_loop_free(loop);
	free(tl);
}
END_TEST

struct rearm {
	struct ev_timer	 t;
	int		 fired;
	uint64_t	 ms;
};

static void
rearm_cb(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct rearm	*ra = arg;

	ra->fired++;
	if (ra->fired < 5) {
		ck_assert_int_eq(ev_timer_start(loop, t, ra->ms), 0);
		ck_assert(ev_timer_active(t));
	}
}

START_TEST(test_timer_rearm_self)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	struct rearm	 ra = { .ms = 0 };
	int		 iter, before;

	/* 0 ms re-arm: at most once per iteration, never a busy pass. */
	ev_timer_init(&ra.t, rearm_cb, &ra);
	ck_assert_int_eq(ev_timer_start(loop, &ra.t, 0), 0);
	for (iter = 0; ra.fired < 5 && iter < 10000; iter++) {
		before = ra.fired;
		ck_assert_int_eq(ev_run_once(loop, -1), 0);
		ck_assert_int_le(ra.fired - before, 1);
	}
	ck_assert_int_eq(ra.fired, 5);
	ck_assert(!ev_timer_active(&ra.t));

	/* A real interval, re-armed from the callback. */
	ra.fired = 0;
	ra.ms = 5;
	ck_assert_int_eq(ev_timer_start(loop, &ra.t, 5), 0);
	for (iter = 0; ra.fired < 5 && iter < 10000; iter++)
		ck_assert_int_eq(ev_run_once(loop, -1), 0);
	ck_assert_int_eq(ra.fired, 5);
	ev_loop_free(loop);
}
END_TEST

static void
count_timer_cb(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(*(int *)arg)++;
}

START_TEST(test_timer_bounds_wait)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	struct ev_timer	 t, far;
	uint64_t	 start;
	int		 sv[2], fired = 0, farfired = 0, iter;

	/* An idle fd is watched, so only the timer can end the wait. */
	pair(sv);
	ck_assert_int_eq(ev_io_add(loop, sv[0], EV_READ, idle_cb, NULL), 0);
	ev_timer_init(&t, count_timer_cb, &fired);
	ev_timer_init(&far, count_timer_cb, &farfired);
	ck_assert_int_eq(ev_timer_start(loop, &far, 3600 * 1000), 0);
	ck_assert_int_eq(ev_timer_start(loop, &t, 50), 0);
	start = mono_ms();
	for (iter = 0; fired == 0 && iter < 100; iter++)
		ck_assert_int_eq(ev_run_once(loop, -1), 0);
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(farfired, 0);
	ck_assert_uint_lt(mono_ms() - start, 5000);
	ck_assert_uint_ge(ev_now(loop), ev_timer_when(&t));

	/* max_wait_ms bounds it too. */
	start = mono_ms();
	ck_assert_int_eq(ev_run_once(loop, 20), 0);
	ck_assert_uint_lt(mono_ms() - start, 5000);
	ev_loop_free(loop);
}
END_TEST

/*
 * Deferred work.
 */

struct dlog {
	char		 order[32];
	size_t		 n;
	struct ev_defer	 d[4];
	int		 requeue;	/* times d[0] re-queues itself */
	int		 cancel;	/* index d[0] cancels, or -1 */
};

static void
dlog_add(struct dlog *l, char c)
{
	ck_assert_uint_lt(l->n, sizeof(l->order) - 1);
	l->order[l->n++] = c;
	l->order[l->n] = '\0';
}

static void
defer_cb(struct ev_loop *loop, struct ev_defer *d, void *arg)
{
	struct dlog	*l = arg;
	int		 k = (int)(d - l->d);

	ck_assert(!d->queued);
	dlog_add(l, (char)('a' + k));
	if (k == 0 && l->requeue > 0) {
		l->requeue--;
		ev_defer(loop, d);
		ev_defer(loop, d);	/* idempotent */
	}
	if (k == 0 && l->cancel >= 0)
		ev_defer_cancel(loop, &l->d[l->cancel]);
}

static void
io_defer_cb(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct dlog	*l = arg;
	char		 c;

	ck_assert_int_eq(read(fd, &c, 1), 1);
	dlog_add(l, 'I');
	ev_defer(loop, &l->d[0]);
}

START_TEST(test_defer_after_events)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	struct dlog	 l = { .requeue = 2, .cancel = -1 };
	uint64_t	 start;
	int		 sv[2], k;

	for (k = 0; k < 4; k++)
		ev_defer_init(&l.d[k], defer_cb, &l);
	pair(sv);
	ck_assert_int_eq(ev_io_add(loop, sv[0], EV_READ, io_defer_cb, &l), 0);
	put(sv[1], "x");
	ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
	/* The callback's deferral ran after it, once, though it re-queued. */
	ck_assert_str_eq(l.order, "Ia");
	ck_assert(l.d[0].queued);

	/*
	 * Queued work means no blocking: with an idle fd and no timers this
	 * would otherwise wait forever.
	 */
	start = mono_ms();
	ck_assert_int_eq(ev_run_once(loop, -1), 0);
	ck_assert_str_eq(l.order, "Iaa");
	ck_assert_int_eq(ev_run_once(loop, -1), 0);
	ck_assert_str_eq(l.order, "Iaaa");
	ck_assert(!l.d[0].queued);
	ck_assert_uint_lt(mono_ms() - start, 5000);
	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	ck_assert_str_eq(l.order, "Iaaa");
	ev_loop_free(loop);
}
END_TEST

START_TEST(test_defer_fifo_cancel)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	struct dlog	 l = { .cancel = -1 };
	int		 k;

	for (k = 0; k < 4; k++)
		ev_defer_init(&l.d[k], defer_cb, &l);

	/* FIFO; cancelling the middle, the head and the tail. */
	ev_defer(loop, &l.d[1]);
	ev_defer(loop, &l.d[2]);
	ev_defer(loop, &l.d[3]);
	ev_defer(loop, &l.d[1]);	/* already queued: stays first */
	ev_defer_cancel(loop, &l.d[2]);
	ev_defer_cancel(loop, &l.d[2]);	/* idempotent */
	ck_assert(!l.d[2].queued);
	ev_run_once(loop, 0);
	ck_assert_str_eq(l.order, "bd");

	l.n = 0;
	ev_defer(loop, &l.d[1]);
	ev_defer(loop, &l.d[2]);
	ev_defer_cancel(loop, &l.d[2]);	/* the tail ... */
	ev_defer(loop, &l.d[3]);	/* ... so this must link after b */
	ev_defer_cancel(loop, &l.d[1]);	/* the head */
	ev_defer(loop, &l.d[1]);
	ev_run_once(loop, 0);
	ck_assert_str_eq(l.order, "db");

	/* A deferred callback cancels one queued behind it in this run. */
	l.n = 0;
	l.cancel = 2;
	ev_defer(loop, &l.d[0]);
	ev_defer(loop, &l.d[2]);
	ev_defer(loop, &l.d[3]);
	ev_run_once(loop, 0);
	ck_assert_str_eq(l.order, "ad");
	ck_assert(!l.d[2].queued);
	ev_loop_free(loop);
}
END_TEST

/*
 * Stopping, errors, limits.
 */

static void
stop_timer_cb(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	int	*n = arg;

	if (++*n == 3)
		ev_stop(loop);
	else
		ck_assert_int_eq(ev_timer_start(loop, t, 1), 0);
}

static void
stop_io_cb(struct ev_loop *loop, int fd, int events, void *arg)
{
	(*(int *)arg)++;
	ev_stop(loop);
}

START_TEST(test_stop)
{
	struct ev_loop	*loop = loop_new(_i, SETSIZE);
	struct ev_timer	 t;
	int		 sv[2], n = 0, io = 0;

	ev_timer_init(&t, stop_timer_cb, &n);
	ck_assert_int_eq(ev_timer_start(loop, &t, 1), 0);
	ck_assert_int_eq(ev_run(loop), 0);
	ck_assert_int_eq(n, 3);

	/* From an I/O callback, on a loop stopped before (flag reset). */
	pair(sv);
	ck_assert_int_eq(ev_io_add(loop, sv[0], EV_WRITE, stop_io_cb, &io),
	    0);
	ck_assert_int_eq(ev_run(loop), 0);
	ck_assert_int_eq(io, 1);
	ev_loop_free(loop);
}
END_TEST

START_TEST(test_new_by_name)
{
	struct ev_loop	*loop = NULL;

	ck_assert_int_eq(ev_loop_new("kqueue", SETSIZE, &loop), -ENOENT);
	ck_assert_ptr_null(loop);
	ck_assert_int_eq(ev_loop_new("", SETSIZE, &loop), -ENOENT);
	ck_assert_int_eq(ev_loop_new(bname(_i), 0, &loop), -EINVAL);
	ck_assert_ptr_null(loop);

	ck_assert_int_eq(ev_loop_new(NULL, SETSIZE, &loop), 0);
	ck_assert_str_eq(ev_loop_backend(loop), ev_backends[0]->name);
	ev_loop_free(loop);

	loop = loop_new(_i, 1);
	ck_assert_uint_eq(ev_loop_stats(loop)->wakeups, 0);
	ck_assert_uint_eq(ev_loop_stats(loop)->events, 0);
	ck_assert_uint_eq(ev_loop_stats(loop)->timers, 0);
	ev_loop_free(loop);
}
END_TEST

static volatile sig_atomic_t	alarmed;

static void
on_alarm(int sig)
{
	alarmed = 1;
}

START_TEST(test_eintr)
{
	struct ev_loop		*loop = loop_new(_i, SETSIZE);
	struct sigaction	 sa;
	struct itimerval	 it = { .it_value = { 0, 30000 } };
	int			 sv[2];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	pair(sv);
	ck_assert_int_eq(ev_io_add(loop, sv[0], EV_READ, idle_cb, NULL), 0);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	/* Interrupted: no error, no events, back to the caller. */
	ck_assert_int_eq(ev_run_once(loop, 3000), 0);
	ck_assert_int_eq(alarmed, 1);
	ev_loop_free(loop);
}
END_TEST

/* Put a socket at fd number 'want' (raising RLIMIT_NOFILE as needed). */
static int
high_fd(int want, int *peer)
{
	int	 sv[2];

	if (nofile_at_least((rlim_t)want + 1) == -1)
		return -1;
	pair(sv);
	if (dup2(sv[0], want) != want) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[0]);
	*peer = sv[1];
	return want;
}

START_TEST(test_fd_limits)
{
	struct ev_loop	*loop = loop_new(_i, FD_SETSIZE + 16);
	struct rec	 rec = { .readlen = 16 };
	int		 fd, peer, r;

	ck_assert_int_eq(ev_io_add(loop, -1, EV_READ, rec_cb, &rec), -EBADF);
	ck_assert_int_eq(ev_io_add(loop, FD_SETSIZE + 16, EV_READ, rec_cb,
	    &rec), -ERANGE);
	ck_assert_int_eq(ev_io_set(loop, FD_SETSIZE + 16, EV_READ), -ERANGE);
	ev_io_del(loop, FD_SETSIZE + 16);	/* harmless */
	ev_io_del(loop, -1);

	if ((fd = high_fd(FD_SETSIZE + 5, &peer)) == -1) {
		fprintf(stderr, "check_ev: cannot open fd %d, skipping\n",
		    FD_SETSIZE + 5);
		ev_loop_free(loop);
		return;
	}
	put(peer, "hi");
	r = ev_io_add(loop, fd, EV_READ, rec_cb, &rec);
	if (ev_backends[_i]->max_fd != 0 &&
	    ev_backends[_i]->max_fd <= fd) {
		/* select: refused up front, nothing touched. */
		ck_assert_int_eq(r, -ERANGE);
		ck_assert_int_eq(ev_mask(loop, fd), EV_NONE);
		ck_assert_int_eq(ev_run_once(loop, 0), 0);
		ck_assert_int_eq(rec.calls, 0);
	} else {
		ck_assert_int_eq(r, 0);
		ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
		ck_assert_int_eq(rec.calls, 1);
		ck_assert_int_eq(rec.fd[0], fd);
	}
	ev_loop_free(loop);
}
END_TEST

/*
 * 10,000 watched, idle fds (both ends of 5,000 socketpairs) and one busy
 * pair: every iteration dispatches exactly the busy fd. select can only
 * watch the fds below FD_SETSIZE; it runs the same check on those.
 */
#define IDLE_PAIRS	5000
#define IDLE_SETSIZE	16384

static void
busy_cb(struct ev_loop *loop, int fd, int events, void *arg)
{
	int	*hits = arg;
	char	 c;

	ck_assert_int_eq(events, EV_READ);
	ck_assert_int_eq(read(fd, &c, 1), 1);
	(*hits)++;
}

START_TEST(test_many_idle)
{
	struct ev_loop	*loop;
	int		(*pairs)[2];
	int		 k, j, r, watched = 0, hits = 0;
	int		 busy = -1, busypeer = -1;
	uint64_t	 events0;

	if (nofile_at_least(2 * IDLE_PAIRS + 64) == -1) {
		fprintf(stderr, "check_ev: RLIMIT_NOFILE too low, skipping\n");
		return;
	}
	loop = loop_new(_i, IDLE_SETSIZE);
	pairs = calloc(IDLE_PAIRS, sizeof(*pairs));
	ck_assert_ptr_nonnull(pairs);
	for (k = 0; k < IDLE_PAIRS; k++) {
		pair(pairs[k]);
		for (j = 0; j < 2; j++) {
			r = ev_io_add(loop, pairs[k][j], EV_READ, idle_cb,
			    NULL);
			if (r == -ERANGE && ev_backends[_i]->max_fd != 0)
				continue;
			ck_assert_int_eq(r, 0);
			watched++;
		}
	}
	if (ev_backends[_i]->max_fd == 0)
		ck_assert_int_eq(watched, 2 * IDLE_PAIRS);
	else
		ck_assert_int_gt(watched, 100);

	/* Pick a watched fd in the middle of the range as the busy one. */
	for (k = watched / 4; busy == -1; k++) {
		if (ev_mask(loop, pairs[k][0]) == EV_READ) {
			busy = pairs[k][0];
			busypeer = pairs[k][1];
		}
	}
	ev_io_del(loop, busypeer);
	ck_assert_int_eq(ev_io_add(loop, busy, EV_READ, busy_cb, &hits), 0);

	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	events0 = ev_loop_stats(loop)->events;
	for (k = 1; k <= 200; k++) {
		put(busypeer, "x");
		ck_assert_int_eq(ev_run_once(loop, WAIT_MS), 1);
		ck_assert_int_eq(hits, k);
	}
	ck_assert_uint_eq(ev_loop_stats(loop)->events - events0, 200);
	ck_assert_int_eq(ev_run_once(loop, 0), 0);
	ev_loop_free(loop);
	for (k = 0; k < IDLE_PAIRS; k++) {
		close(pairs[k][0]);
		close(pairs[k][1]);
	}
	free(pairs);
}
END_TEST

/*
 * Suite.
 */

static void
add(Suite *s, const char *name, const TTest *fn, int nb, int timeout)
{
	TCase	*tc = tcase_create(name);

	tcase_add_loop_test(tc, fn, 0, nb);
	if (timeout > 0)
		tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
}

static Suite *
ev_suite(void)
{
	Suite	*s = suite_create("ev");
	int	 nb;

	for (nb = 0; ev_backends[nb] != NULL; nb++)
		;
	add(s, "read_ready", test_read_ready, nb, 0);
	add(s, "write_interest", test_write_interest, nb, 0);
	add(s, "level_refire", test_level_refire, nb, 0);
	add(s, "read_before_write", test_read_before_write, nb, 0);
	add(s, "read_drops_write", test_read_drops_write, nb, 0);
	add(s, "peer_close", test_peer_close, nb, 0);
	add(s, "pipe_hangup", test_pipe_hangup, nb, 0);
	add(s, "io_model", test_io_model, nb, 30);
	add(s, "del_other_in_batch", test_del_other_in_batch, nb, 0);
	add(s, "reuse_in_batch", test_reuse_in_batch, nb, 0);
	add(s, "replace_callback", test_replace_callback, nb, 0);
	add(s, "replace_in_batch", test_replace_in_batch, nb, 0);
	add(s, "timer_order", test_timer_order, nb, 20);
	add(s, "timer_heap_model", test_timer_heap_model, nb, 20);
	add(s, "timer_stop_restart", test_timer_stop_restart, nb, 0);
	add(s, "timer_rearm_self", test_timer_rearm_self, nb, 20);
	add(s, "timer_bounds_wait", test_timer_bounds_wait, nb, 10);
	add(s, "defer_after_events", test_defer_after_events, nb, 10);
	add(s, "defer_fifo_cancel", test_defer_fifo_cancel, nb, 0);
	add(s, "stop", test_stop, nb, 0);
	add(s, "new_by_name", test_new_by_name, nb, 0);
	add(s, "eintr", test_eintr, nb, 10);
	add(s, "fd_limits", test_fd_limits, nb, 0);
	add(s, "many_idle", test_many_idle, nb, 120);
	return s;
}

int
main(void)
{
	return check_run(ev_suite());
}
