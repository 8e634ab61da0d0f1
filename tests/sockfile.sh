#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The iomuxd developers
#
# sockfile.sh: the socket file taken away under a running daemon, per
# backend. A daemon checks every couple of seconds that the file it bound
# is still at its path, and otherwise makes a new one there:
#  1. deleted: it comes back, with the same mode, and is logged;
#  2. deleted while the daemon cannot run (SIGSTOP): a second daemon
#     names the holder of the lock file and the missing socket instead of
#     saying "already running";
#  3. replaced by a regular file: the file is left alone, the daemon says
#     why it cannot serve there, and re-creates the socket once the file
#     is gone;
#  4. its whole directory removed, lock file included: both come back,
#     so a second daemon is still refused.
# Each re-creation, and nothing else, counts in STATUS sockets_recreated.
# Socket activation is covered by activate.sh: a socket systemd passed is
# never re-created.
#
# Exit status: 0 pass, 77 skip, 1 fail.

. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_need_binaries
t_tmpdir

# How long a test waits for the daemon's periodic check (every 2 s).
WAIT=6

# Some log line of PID's log matches PATTERN, within WAIT seconds.
logged()
{
	t_poll "$WAIT" grep -Eq -- "$1" "$T_LOG"
}

# recreated N WHAT: STATUS sockets_recreated is N.
recreated()
{
	r_got=$("$IOMUXCTL" -s "$T_SOCK" -t 5 status |
	    sed -n 's/^sockets_recreated: //p')
	[ "$r_got" = "$1" ] ||
	    t_fail "$2: STATUS sockets_recreated is '$r_got', want $1"
	t_ok "$2: STATUS sockets_recreated is $1"
}

for b in $T_BACKENDS; do
	t_log "=== backend $b"

	# ---- 1. deleted: re-created at the same path, same mode -------------
	T_SOCK=$T_DIR/$b.sock
	t_start_daemon "$b" --socket-mode 0600 || t_fail "$b: start"
	recreated 0 "$b: at start"
	rm -f "$T_SOCK"
	t_wait_ready "$T_SOCK" "$WAIT" ||
	    { cat "$T_LOG" >&2; t_fail "$b: no answer within $WAIT s after the socket was deleted"; }
	t_ok "$b: a deleted socket is re-created and answers"
	[ -S "$T_SOCK" ] || t_fail "$b: $T_SOCK is not a socket"
	mode=$(stat -c %a "$T_SOCK")
	[ "$mode" = 600 ] || t_fail "$b: re-created with mode $mode, want 600"
	t_ok "$b: re-created with the configured mode 0600"
	t_expect_grep "warning: .*socket $T_SOCK was removed or replaced" \
	    "$T_LOG" "$b: the loss is logged as a warning"
	t_expect_grep "re-created socket $T_SOCK" "$T_LOG" \
	    "$b: the re-creation is logged"
	recreated 1 "$b: after one deletion"

	# ---- 2. a second daemon while the socket is gone --------------------
	# SIGSTOP keeps the first daemon from re-creating it meanwhile.
	kill -STOP "$T_PID"
	rm -f "$T_SOCK"
	t_expect_rc 1 timeout 10 "$IOMUXD" -f -s "$T_SOCK" -b "$b"
	t_expect_grep "another iomuxd \\(pid $T_PID\\) holds $T_SOCK\\.lock but its socket $T_SOCK is gone" \
	    "$T_ERR" "$b: the second daemon names pid $T_PID and the missing socket"
	t_expect_nogrep 'already running' "$T_ERR" \
	    "$b: the second daemon does not claim a running one answers"
	[ ! -e "$T_SOCK" ] || t_fail "$b: the refused daemon left $T_SOCK"
	kill -CONT "$T_PID"
	t_wait_ready "$T_SOCK" "$WAIT" ||
	    { cat "$T_LOG" >&2; t_fail "$b: no answer after SIGCONT"; }
	t_ok "$b: the first daemon answers again after SIGCONT"
	recreated 2 "$b: after the deletion while stopped"

	# ---- 3. replaced by a regular file ------------------------------------
	rm -f "$T_SOCK"
	printf 'not yours\n' >"$T_SOCK"
	logged "cannot re-create socket.*$T_SOCK.*not a socket" ||
	    { cat "$T_LOG" >&2; t_fail "$b: no warning that $T_SOCK is now a regular file"; }
	t_ok "$b: a regular file in the socket's place is reported"
	[ "$(cat "$T_SOCK")" = "not yours" ] ||
	    t_fail "$b: the daemon changed the regular file at $T_SOCK"
	t_alive "$T_PID" || t_fail "$b: the daemon died"
	rm -f "$T_SOCK"
	t_wait_ready "$T_SOCK" "$WAIT" ||
	    { cat "$T_LOG" >&2; t_fail "$b: not re-created after the regular file went"; }
	t_ok "$b: re-created once the regular file was removed"
	# The failed attempts meanwhile do not count.
	recreated 3 "$b: after the regular file"
	t_stop_daemon || t_fail "$b: stop (status $T_RC)"
	[ ! -e "$T_SOCK" ] && [ ! -e "$T_SOCK.lock" ] ||
	    t_fail "$b: SIGTERM left the socket or its lock file"
	t_ok "$b: SIGTERM removed the re-created socket and the lock file"

	# ---- 4. the whole directory removed -----------------------------------
	T_SOCK=$T_DIR/$b.d/sock
	t_start_daemon "$b" || t_fail "$b: start in $T_DIR/$b.d"
	rm -rf "$T_DIR/$b.d"
	t_wait_ready "$T_SOCK" "$WAIT" ||
	    { cat "$T_LOG" >&2; t_fail "$b: not re-created after its directory was removed"; }
	[ -e "$T_SOCK.lock" ] || t_fail "$b: the lock file was not re-created"
	[ "$(cat "$T_SOCK.lock")" = "$T_PID" ] ||
	    t_fail "$b: the lock file holds '$(cat "$T_SOCK.lock")', not pid $T_PID"
	t_ok "$b: socket and lock file (with the pid) re-created with their directory"
	recreated 1 "$b: after its directory was removed"
	t_expect_rc 1 timeout 10 "$IOMUXD" -f -s "$T_SOCK" -b "$b"
	t_expect_grep "already running at $T_SOCK" "$T_ERR" \
	    "$b: a second daemon is still refused"
	t_pings "$T_SOCK" || t_fail "$b: the first daemon stopped answering"
	t_stop_daemon || t_fail "$b: stop (status $T_RC)"
done

t_ok "sockfile.sh: all backends passed"
exit 0
