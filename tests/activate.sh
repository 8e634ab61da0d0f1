#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2025 The iomuxd developers
#
# Socket activation without systemd as PID 1: systemd-socket-activate
# binds the listeners, passes them as LISTEN_FDS (and LISTEN_FDNAMES with
# --fdname) and execs iomuxd on the first connection, as PID 1 would.
#  1. UNIX socket named "iomuxd", per backend: status says
#     "activation: systemd" and lists the socket; after SIGTERM the socket
#     file is still there (it belongs to whoever passed it).
#  2. UNIX + TCP named "iomuxd:iomuxd-tcp": reachable via -s and -H.
#  3. UNIX + TCP without names: the daemon classifies them by type; the
#     UNIX socket deleted under it is not re-created (it is PID 1's).
#  4. A passed TCP socket gets the address check of --tcp: on 127.0.0.2
#     (loopback is all of 127/8) it is served; on 0.0.0.0 the daemon
#     refuses to start, exit 2, naming the socket by its FileDescriptorName
#     (--fdname) and its address and saying what to do, and never gets
#     ready; with tcp_allow_remote = yes in the configuration it starts.
#     Nothing connects to the 0.0.0.0 socket but from loopback.
# Exit 77 when systemd-socket-activate is not available, or iomuxd is
# built without libsystemd.

# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

SSA=${SYSTEMD_SOCKET_ACTIVATE:-}
[ -n "$SSA" ] || t_skip "systemd-socket-activate not found"
# Built --without-libsystemd, iomuxd ignores LISTEN_FDS by design and
# would bind its default socket instead: nothing to test here.
if [ -f "${top_builddir:-.}/config.h" ] &&
    ! grep -q '^#define HAVE_LIBSYSTEMD 1' "${top_builddir:-.}/config.h"; then
	t_skip "iomuxd is built without libsystemd"
fi
[ -x "$IOMUXD" ] || t_fail "IOMUXD ($IOMUXD) is not an executable"
[ -x "$IOMUXCTL" ] || t_fail "IOMUXCTL ($IOMUXCTL) is not an executable"

t_tmpdir
IOMUXD_TOKEN_FILE=$T_DIR/token
export IOMUXD_TOKEN_FILE

# systemd-socket-activate hands the program only LISTEN_* and what -E
# names, so pass on what the sanitizer builds and the harness rely on.
SSA_ENV=
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS LD_LIBRARY_PATH TMPDIR; do
	eval "isset=\${$v+x}"
	[ -n "$isset" ] && SSA_ENV="$SSA_ENV -E $v"
done

# wait_path PATH: up to 5 s for PATH to appear.
wait_path()
{
	n=50
	while [ ! -e "$1" ]; do
		[ $n -gt 0 ] || return 1
		n=$((n - 1))
		sleep 0.1
	done
}

# activate LOGNAME SSA-ARGS... -- DAEMON-ARGS...: start
# systemd-socket-activate in the background; sets A_PID, A_LOG.
activate()
{
	A_LOG=$T_DIR/$1.log
	shift
	a_ssa=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		a_ssa="$a_ssa $1"
		shift
	done
	[ $# -gt 0 ] && shift
	# The TCP token goes here (iomuxctl finds it through the
	# environment), never to the default /run/iomuxd/token.
	# shellcheck disable=SC2086 # option lists without spaces
	"$SSA" $SSA_ENV $a_ssa "$IOMUXD" -f --token-file "$IOMUXD_TOKEN_FILE" \
	    "$@" >"$A_LOG" 2>&1 &
	A_PID=$!
	T_PIDS="$T_PIDS $A_PID"
}

# stop_activated: SIGTERM, expect a clean exit.
stop_activated()
{
	if ! t_stop_daemon "$A_PID"; then
		sed -e 's/^/	/' "$A_LOG" >&2
		t_fail "activated iomuxd (pid $A_PID) did not stop cleanly (status $T_RC)"
	fi
	t_ok "SIGTERM: pid $A_PID exited 0"
}

status_ok()
{
	if ! "$IOMUXCTL" -t 5 "$@" status >"$T_OUT" 2>"$T_ERR"; then
		cat "$T_ERR" >&2
		printf -- '--- daemon log:\n' >&2
		sed -e 's/^/	/' "$A_LOG" >&2
		t_fail "iomuxctl $* status failed"
	fi
	# Over TCP the token's default rule is rw, whose STATUS is the
	# summary without "activation" (iomuxd.conf(5)): that it answers at
	# all shows the token went through; the UNIX checks see the field.
	case " $* " in
	*" -H "*)
		t_expect_grep '^details: no$' "$T_OUT" \
		    "iomuxctl $*: the summary of a token client" ;;
	*)
		t_expect_grep '^activation: systemd$' "$T_OUT" \
		    "iomuxctl $*: activation: systemd" ;;
	esac
}

# start_tcp NAME FDNAMES-OPTION BACKEND: UNIX + TCP, retrying when the
# free port was taken in the meantime.  Sets PORT.
start_tcp()
{
	tries=0
	while :; do
		PORT=$(t_free_port) || t_fail "no free port"
		rm -f "$SOCK"
		# shellcheck disable=SC2086 # $2 may be empty
		activate "$1" -l "$SOCK" -l "127.0.0.1:$PORT" $2 -- -b "$3"
		if wait_path "$SOCK" && sleep 0.1 && t_alive "$A_PID"; then
			return 0
		fi
		t_stop_daemon "$A_PID" >/dev/null 2>&1
		tries=$((tries + 1))
		[ $tries -lt 5 ] || {
			cat "$A_LOG" >&2
			t_fail "systemd-socket-activate did not start ($1)"
		}
	done
}

for b in $IOMUXD_BACKENDS; do
	t_log "1. UNIX socket named iomuxd, backend $b"
	SOCK=$T_DIR/s-$b
	activate "unix-$b" -l "$SOCK" --fdname=iomuxd -- -b "$b"
	wait_path "$SOCK" || {
		cat "$A_LOG" >&2
		t_fail "systemd-socket-activate did not create $SOCK"
	}
	status_ok -s "$SOCK"
	t_expect_grep "^backend: $b\$" "$T_OUT" "backend: $b"
	t_expect_grep "^listeners: (.*,)?$SOCK(,.*)?\$" "$T_OUT" \
	    "listeners include $SOCK"
	t_expect_rc 0 "$IOMUXCTL" -s "$SOCK" -t 5 ping
	stop_activated
	[ -S "$SOCK" ] || t_fail "$SOCK was removed; an activated socket belongs to systemd"
	t_ok "$SOCK still exists after the daemon stopped"
	rm -f "$SOCK"

	t_log "2. UNIX + TCP, named iomuxd:iomuxd-tcp, backend $b"
	SOCK=$T_DIR/n-$b
	start_tcp "named-$b" --fdname=iomuxd:iomuxd-tcp "$b"
	status_ok -s "$SOCK"
	t_expect_grep "^listeners: (.*,)?$SOCK(,.*)?\$" "$T_OUT" \
	    "listeners include $SOCK"
	t_expect_grep "^listeners: (.*,)?127\.0\.0\.1:$PORT(,.*)?\$" "$T_OUT" \
	    "listeners include 127.0.0.1:$PORT"
	status_ok -H "127.0.0.1:$PORT"
	stop_activated
	[ -S "$SOCK" ] || t_fail "$SOCK was removed by the daemon"
	rm -f "$SOCK"

	t_log "3. UNIX + TCP without names (classified by type), backend $b"
	SOCK=$T_DIR/u-$b
	start_tcp "unnamed-$b" "" "$b"
	# This first TCP connection starts the daemon, which writes its token
	# only then: iomuxctl reads it once the daemon has answered, so even
	# this one is authenticated (no token from an earlier run is left).
	rm -f "$IOMUXD_TOKEN_FILE"
	status_ok -H "127.0.0.1:$PORT"
	# The listeners are in admin's STATUS: over UNIX, as root.
	status_ok -s "$SOCK"
	t_expect_grep "^listeners: (.*,)?$SOCK(,.*)?\$" "$T_OUT" \
	    "listeners include $SOCK"
	t_expect_grep "^listeners: (.*,)?127\.0\.0\.1:$PORT(,.*)?\$" "$T_OUT" \
	    "listeners include 127.0.0.1:$PORT"
	# Deleted under the daemon, a passed socket stays deleted: the file
	# is PID 1's to manage, never re-created by the daemon's check.
	rm -f "$SOCK"
	sleep 2.5
	[ ! -e "$SOCK" ] || t_fail "the daemon re-created $SOCK, a socket systemd passed"
	status_ok -H "127.0.0.1:$PORT"
	t_expect_nogrep 're-creat' "$A_LOG" \
	    "a deleted activated socket is left to systemd"
	stop_activated
done

# start_remote LOGNAME TCP-ADDR DAEMON-ARGS...: UNIX + TCP on TCP-ADDR:PORT,
# named iomuxd:iomuxd-tcp, then connect to the UNIX socket so that
# systemd-socket-activate execs iomuxd.  Retries while the port was taken
# in the meantime.  Sets SOCK, PORT.
start_remote()
{
	r_name=$1
	r_addr=$2
	shift 2
	tries=0
	SOCK=$T_DIR/$r_name
	while :; do
		PORT=$(t_free_port) || t_fail "no free port"
		rm -f "$SOCK"
		activate "$r_name" -l "$SOCK" -l "$r_addr:$PORT" \
		    --fdname=iomuxd:iomuxd-tcp -- "$@"
		if wait_path "$SOCK"; then
			# The first connection hands the sockets over.
			"$IOMUXCTL" -s "$SOCK" -t 2 ping >/dev/null 2>&1
			return 0
		fi
		t_stop_daemon "$A_PID" >/dev/null 2>&1
		tries=$((tries + 1))
		[ $tries -lt 5 ] || {
			cat "$A_LOG" >&2
			t_fail "systemd-socket-activate did not start ($r_name)"
		}
	done
}

t_log "4a. TCP on 127.0.0.2 (loopback is 127/8): served"
start_remote lo2 127.0.0.2
status_ok -H "127.0.0.2:$PORT"
status_ok -s "$SOCK"
t_expect_grep "^listeners: (.*,)?127\.0\.0\.2:$PORT(,.*)?\$" "$T_OUT" \
    "listeners include 127.0.0.2:$PORT"
t_expect_nogrep 'tcp_allow_remote' "$A_LOG" "no address complaint"
stop_activated
rm -f "$SOCK"

t_log "4b. TCP on 0.0.0.0 without tcp_allow_remote: refused at start"
start_remote any 0.0.0.0
t_wait_exit "$A_PID" 10 || {
	cat "$A_LOG" >&2
	t_fail "iomuxd with a passed 0.0.0.0 socket is still running"
}
wait "$A_PID" 2>/dev/null
rc=$?
[ "$rc" -eq 2 ] || {
	cat "$A_LOG" >&2
	t_fail "refused start exited $rc, expected 2"
}
t_ok "refused start exited 2"
t_expect_grep "\"iomuxd-tcp\".*0\.0\.0\.0:$PORT" "$A_LOG" \
    "the error names the socket (iomuxd-tcp) and its address"
t_expect_grep 'set tcp_allow_remote = yes in iomuxd\.conf, or bind the socket unit to 127\.0\.0\.1' \
    "$A_LOG" "the error says what to do"
t_expect_nogrep ' ready: ' "$A_LOG" "never got ready"
[ "$(grep -c 'iomuxd-tcp' "$A_LOG")" -eq 1 ] ||
    t_fail "expected one error line naming iomuxd-tcp"
t_ok "one error line"
rm -f "$SOCK"

t_log "4c. TCP on 0.0.0.0 with tcp_allow_remote = yes: starts"
printf 'tcp_allow_remote = yes\n' >"$T_DIR/remote.conf"
start_remote any-ok 0.0.0.0 -c "$T_DIR/remote.conf"
status_ok -s "$SOCK"
t_expect_grep "^listeners: (.*,)?0\.0\.0\.0:$PORT(,.*)?\$" "$T_OUT" \
    "listeners include 0.0.0.0:$PORT"
status_ok -H "127.0.0.1:$PORT"
stop_activated
rm -f "$SOCK"
exit 0
