# SPDX-License-Identifier: ISC
# Copyright (c) 2025 The iomuxd developers
#
# Shared helpers for the shell tests (tests/*.sh).  POSIX sh, so that a test
# may be written for /bin/sh or bash.  Source it with
#
#	. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
#
# Environment (set by the automake harness, AM_TESTS_ENVIRONMENT):
#	IOMUXD, IOMUXCTL	absolute paths of the built binaries
#	IOMUXD_BACKENDS		"epoll poll select" (what was compiled)
#	top_srcdir, top_builddir, MANDOC, PYTHON3, SYSTEMD_SOCKET_ACTIVATE
#	IOMUX_ARGS_MAX, IOMUX_KEYS_LIMIT_DEFAULT, IOMUX_KEYS_LIMIT_MAX,
#	IOMUX_PUSH_VALUES_MAX	the protocol limits, as configure computed
#				them from proto/iomux-proto.h
#
# Set on sourcing:
#	T_BACKENDS		$IOMUXD_BACKENDS, or "epoll poll select"
#
# Functions (names are stable; other tests depend on them):
#	t_need_binaries
#		t_skip unless IOMUXD and IOMUXCTL name executables (built).
#	t_need_python WHY
#		Set PY to $PYTHON3, or else the python3 on PATH; t_skip
#		"python3 is needed WHY" when there is neither.
#	t_tmpdir
#		Create a private directory, T_DIR (short, under ${TMPDIR:-/tmp},
#		so socket paths stay far below the 107-byte sun_path limit), and
#		install an EXIT/INT/TERM trap that stops every daemon started
#		with t_start_daemon and removes T_DIR.  Idempotent.  Define a
#		function t_cleanup_hook to run extra cleanup first.
#	t_start_daemon BACKEND [EXTRA ARGS...]
#		Run "$IOMUXD -f -s $T_SOCK -b BACKEND EXTRA..." in the
#		background, stderr to T_LOG.  T_SOCK is $T_DIR/sock unless the
#		caller set T_SOCK beforehand.  Sets T_PID and T_LOG.  Waits until
#		"$IOMUXCTL -s $T_SOCK -t 1 ping" answers, up to 5 s.  Returns 0
#		when ready; on failure prints why (and the daemon log) and
#		returns 1.
#	t_stop_daemon [PID]
#		SIGTERM to PID (default T_PID), wait up to 10 s, then SIGKILL.
#		Sets T_RC to the exit status (as reported by wait: 128+N for a
#		signal).  Prints what happened.  Returns 0 when the daemon
#		exited by itself with status 0, 1 otherwise.
#	t_pings SOCKET
#		True if "$IOMUXCTL -s SOCKET -t 1 ping" answers.
#	t_wait_ready SOCKET [SECONDS]
#		Poll "$IOMUXCTL -s SOCKET -t 1 ping" until it answers, for up
#		to SECONDS (whole seconds, default 5).  Returns 0 or 1.
#	t_wait_exit PID [SECONDS]
#		Wait until PID has exited (or is a zombie), for up to SECONDS
#		(whole seconds, default 10).  Returns 0 if it did, 1 on
#		timeout.  Does not reap it.
#	t_alive PID
#		True if PID exists and is not a zombie.
#	t_gone PID
#		The reverse of t_alive.
#	t_poll SECONDS CMD [ARGS...]
#		Run CMD every 0.1 s until it succeeds, for up to SECONDS
#		(whole seconds).  Returns 0 once it did, 1 on timeout.  CMD
#		must not call t_poll itself (the count is a global).
#	t_now_ms
#		Print the milliseconds since the epoch (GNU date).
#	t_stale_socket PATH
#		Bind a UNIX socket at PATH and close it without unlinking it:
#		a stale socket file, as a killed daemon leaves.  Needs PY
#		(t_need_python).
#	t_fail MSG...
#		Print "FAIL: MSG" to stderr and exit 1 (the trap cleans up).
#		Inside $(...) it only leaves the subshell: call it at top level.
#	t_ok MSG...
#		Print "ok: MSG".
#	t_skip MSG...
#		Print "SKIP: MSG" and exit 77.
#	t_expect_rc RC CMD [ARGS...]
#		Run CMD with stdout in T_OUT and stderr in T_ERR (files in
#		T_DIR, overwritten each call; read them afterwards).  If its
#		exit status is not RC, print the command, both statuses and
#		both outputs, and t_fail.  Otherwise t_ok.
#	t_expect_grep PATTERN FILE [MSG]
#		grep -E PATTERN in FILE; t_fail (showing FILE) when absent.
#	t_expect_nogrep PATTERN FILE [MSG]
#		The reverse: t_fail when PATTERN is present.
#	t_free_port
#		Print a TCP port on 127.0.0.1 that was free a moment ago.
#	t_log MSG...
#		Print "# MSG" (a step marker in the test log).

T_DIR=${T_DIR:-}
# shellcheck disable=SC2034 # for the tests that source this file
T_BACKENDS=${IOMUXD_BACKENDS:-epoll poll select}
T_PID=
T_PIDS=
T_RC=
T_LOG=
T_OUT=
T_ERR=

t_log()
{
	printf '# %s\n' "$*"
}

t_ok()
{
	printf 'ok: %s\n' "$*"
}

t_fail()
{
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

t_skip()
{
	printf 'SKIP: %s\n' "$*"
	exit 77
}

t_need_binaries()
{
	[ -n "${IOMUXD:-}" ] && [ -x "$IOMUXD" ] || t_skip "IOMUXD is not built"
	[ -n "${IOMUXCTL:-}" ] && [ -x "$IOMUXCTL" ] ||
	    t_skip "IOMUXCTL is not built"
}

t_need_python()
{
	PY=${PYTHON3:-}
	[ -n "$PY" ] || PY=$(command -v python3 2>/dev/null) ||
	    t_skip "python3 is needed $1"
}

# Everything started by t_start_daemon, in case the test dies early.
t_cleanup()
{
	t_cleanup_rc=$?
	trap - EXIT INT TERM
	if command -v t_cleanup_hook >/dev/null 2>&1; then
		t_cleanup_hook || :
	fi
	for t_p in $T_PIDS; do
		if t_alive "$t_p"; then
			kill -TERM "$t_p" 2>/dev/null
			t_wait_exit "$t_p" 5 || kill -KILL "$t_p" 2>/dev/null
		fi
	done
	if [ -n "$T_DIR" ] && [ -d "$T_DIR" ] && [ -z "${T_KEEP:-}" ]; then
		rm -rf "$T_DIR"
	fi
	exit "$t_cleanup_rc"
}

t_tmpdir()
{
	if [ -n "$T_DIR" ] && [ -d "$T_DIR" ]; then
		return 0
	fi
	T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/iomuxd-t.XXXXXX") ||
	    t_fail "mktemp -d failed"
	T_OUT=$T_DIR/out
	T_ERR=$T_DIR/err
	trap t_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

t_alive()
{
	[ -n "$1" ] || return 1
	if [ -r "/proc/$1/stat" ]; then
		# Field 3, after the parenthesised command name, is the state.
		t_st=$(sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null) ||
		    return 1
		case $t_st in
		Z*|X*|'')
			return 1 ;;
		esac
		return 0
	fi
	kill -0 "$1" 2>/dev/null
}

t_gone()
{
	! t_alive "$1"
}

t_poll()
{
	# Tenths of a second, so the shell needs no floating point.
	t_poll_n=$(( $1 * 10 ))
	shift
	until "$@"; do
		[ "$t_poll_n" -gt 0 ] || return 1
		t_poll_n=$((t_poll_n - 1))
		sleep 0.1
	done
	return 0
}

t_wait_exit()
{
	t_poll "${2:-10}" t_gone "$1"
}

t_pings()
{
	"$IOMUXCTL" -s "$1" -t 1 ping >/dev/null 2>&1
}

t_wait_ready()
{
	t_poll "${2:-5}" t_pings "$1"
}

t_now_ms()
{
	echo $(( $(date +%s%N) / 1000000 ))
}

t_start_daemon()
{
	[ $# -ge 1 ] || t_fail "t_start_daemon: backend missing"
	t_tmpdir
	t_backend=$1
	shift
	T_SOCK=${T_SOCK:-$T_DIR/sock}
	T_LOG=$T_DIR/iomuxd.$t_backend.log
	# A TCP listener's token: here, not /run/iomuxd/token, and found by
	# iomuxctl through the environment.
	IOMUXD_TOKEN_FILE=$T_DIR/token
	export IOMUXD_TOKEN_FILE
	"$IOMUXD" -f -s "$T_SOCK" -b "$t_backend" \
	    --token-file "$IOMUXD_TOKEN_FILE" "$@" 2>"$T_LOG" &
	T_PID=$!
	T_PIDS="$T_PIDS $T_PID"
	t_n=50
	while :; do
		if ! t_alive "$T_PID"; then
			wait "$T_PID"
			T_RC=$?
			printf 'iomuxd (%s) exited with status %s before it was ready; log:\n' \
			    "$t_backend" "$T_RC" >&2
			sed -e 's/^/	/' "$T_LOG" >&2
			return 1
		fi
		if t_pings "$T_SOCK"; then
			return 0
		fi
		if [ "$t_n" -le 0 ]; then
			printf 'iomuxd (%s, pid %s) not connectable at %s after 5 s; log:\n' \
			    "$t_backend" "$T_PID" "$T_SOCK" >&2
			sed -e 's/^/	/' "$T_LOG" >&2
			return 1
		fi
		t_n=$((t_n - 1))
		sleep 0.1
	done
}

t_stop_daemon()
{
	t_p=${1:-$T_PID}
	[ -n "$t_p" ] || t_fail "t_stop_daemon: no pid"
	T_RC=
	kill -TERM "$t_p" 2>/dev/null
	if ! t_wait_exit "$t_p" 10; then
		printf 'pid %s still running 10 s after SIGTERM; sending SIGKILL\n' \
		    "$t_p" >&2
		kill -KILL "$t_p" 2>/dev/null
		t_wait_exit "$t_p" 5
		wait "$t_p" 2>/dev/null
		T_RC=$?
		return 1
	fi
	wait "$t_p" 2>/dev/null
	T_RC=$?
	if [ "$T_RC" -ne 0 ]; then
		printf 'pid %s exited with status %s after SIGTERM\n' \
		    "$t_p" "$T_RC" >&2
		return 1
	fi
	return 0
}

t_expect_rc()
{
	t_want=$1
	shift
	t_tmpdir
	"$@" >"$T_OUT" 2>"$T_ERR"
	t_got=$?
	if [ "$t_got" -ne "$t_want" ]; then
		{
			printf 'command: %s\n' "$*"
			printf 'expected exit status %s, got %s\n' "$t_want" "$t_got"
			printf -- '--- stdout:\n'
			cat "$T_OUT"
			printf -- '--- stderr:\n'
			cat "$T_ERR"
		} >&2
		t_fail "$* (exit $t_got, expected $t_want)"
	fi
	t_ok "$* (exit $t_got)"
}

t_expect_grep()
{
	if ! grep -Eq -- "$1" "$2"; then
		printf -- '--- %s:\n' "$2" >&2
		cat "$2" >&2
		t_fail "${3:-/$1/ not found in $2}"
	fi
	t_ok "${3:-/$1/ in $2}"
}

t_expect_nogrep()
{
	if grep -Eq -- "$1" "$2"; then
		printf -- '--- %s:\n' "$2" >&2
		cat "$2" >&2
		t_fail "${3:-/$1/ unexpectedly found in $2}"
	fi
	t_ok "${3:-/$1/ not in $2}"
}

t_stale_socket()
{
	"$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.close()' "$1"
}

t_free_port()
{
	t_py=${PYTHON3:-}
	[ -n "$t_py" ] || t_py=$(command -v python3 2>/dev/null)
	if [ -n "$t_py" ]; then
		"$t_py" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' && return 0
	fi
	# No python: try pseudo-random ports until one is not in the
	# kernel's table of bound TCP sockets.
	t_seed=$(( $$ + $(date +%S) * 1000 ))
	t_i=0
	while [ "$t_i" -lt 100 ]; do
		t_port=$(( 20000 + (t_seed + t_i * 7919) % 40000 ))
		t_hex=$(printf ':%04X ' "$t_port")
		if ! grep -q "$t_hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
			echo "$t_port"
			return 0
		fi
		t_i=$((t_i + 1))
	done
	return 1
}
