#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The iomuxd developers
#
# daemon.sh: iomuxd's life cycle around its socket file, per backend.
#
# A stale socket (left by SIGKILL) is replaced; a live one is refused with
# "already running" and the running daemon is untouched; a regular file at
# the path is never removed; a path over sun_path is refused before any
# file is made; the socket mode is 0660 unless --socket-mode says
# otherwise; SIGTERM removes the socket; SIGHUP applies a changed config
# file, names in one warning the keys that wait for the next start,
# survives a bad one, and after detaching still reads the file a
# relative -c named; an unknown backend is a usage error that
# names the valid ones; and a daemon short of file descriptors neither
# spins on accept nor stops serving (RELIABILITY.md (b) 1, 6, 7, 8).
#
# Exit status: 0 pass, 77 skip, 1 fail.

. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_need_binaries
t_need_python "for the connection helpers"

t_tmpdir

# A client that connects and reports whether the server closes it within
# SECS: "closed SECONDS BYTES" or "open".
cat >"$T_DIR/idle.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.settimeout(float(sys.argv[2]))
t = time.monotonic()
try:
    n = 0
    while True:
        d = s.recv(4096)
        if not d:
            break
        n += len(d)
    print("closed %.2f %d" % (time.monotonic() - t, n))
except socket.timeout:
    print("open")
except ConnectionResetError:
    print("closed %.2f %d" % (time.monotonic() - t, n))
EOF

# Open N connections, touch READY, hold them HOLD seconds, then report how
# many the server closed: "closed=C open=O".
cat >"$T_DIR/hold.py" <<'EOF'
import socket, sys, time
path, n, hold, ready = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
socks = []
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(path)
    except OSError as e:
        print("connect %d: %s" % (i, e), file=sys.stderr)
        s.close()
        continue
    socks.append(s)
open(ready, "w").close()
time.sleep(hold)
closed = 0
for s in socks:
    s.setblocking(False)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                closed += 1
                break
    except BlockingIOError:
        pass
    except ConnectionResetError:
        closed += 1
    s.close()
print("closed=%d open=%d" % (closed, len(socks) - closed))
EOF

# Start iomuxd under umask 000 and stat its socket path as fast as possible
# until it answers: print every mode seen (octal permission bits).
cat >"$T_DIR/umask.py" <<'EOF'
import os, socket, stat, subprocess, sys, time
daemon, path, backend, log = sys.argv[1:5]
os.umask(0)
p = subprocess.Popen([daemon, "-f", "-s", path, "-b", backend],
                     stderr=open(log, "w"))
print("pid %d" % p.pid, flush=True)
seen = set()
end = time.monotonic() + 5
while time.monotonic() < end:
    try:
        seen.add(stat.S_IMODE(os.lstat(path).st_mode))
    except FileNotFoundError:
        continue
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        break
    except OSError:
        pass
    finally:
        s.close()
for m in sorted(seen):
    print("mode %o" % m)
EOF

# utime + stime of PID in clock ticks.
cputicks()
{
	sed -e 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# N copies of character C.
repeat()
{
	printf "%$1s" '' | tr ' ' "$2"
}

ping_ok()
{
	"$IOMUXCTL" -s "$1" -t 2 ping >/dev/null 2>&1
}

# emfile_case BACKEND start|lower: 60 clients against a daemon limited to
# 40 descriptors. CPU use over 2 s must stay low (no accept spin), at least
# the 20 clients that cannot have an fd must be closed, not left hanging,
# and the daemon serves again once they are gone.
emfile_case()
{
	e_b=$1
	T_SOCK=$T_DIR/$e_b.emfile-$2.sock
	e_log=$T_DIR/$e_b.emfile-$2.log
	if [ "$2" = start ]; then
		prlimit --nofile=40:40 "$IOMUXD" -f -s "$T_SOCK" -b "$e_b" \
		    2>"$e_log" &
	else
		"$IOMUXD" -f -s "$T_SOCK" -b "$e_b" --max-clients 100 \
		    2>"$e_log" &
	fi
	e_pid=$!
	T_PIDS="$T_PIDS $e_pid"
	t_wait_ready "$T_SOCK" 5 ||
	    { cat "$e_log" >&2; t_fail "$e_b/$2: start"; }
	if [ "$2" = lower ]; then
		prlimit --pid "$e_pid" --nofile=40:40 ||
		    t_fail "$e_b/$2: prlimit --pid"
	fi
	e_ready=$T_DIR/$e_b.$2.ready
	rm -f "$e_ready"
	timeout 30 "$PY" "$T_DIR/hold.py" "$T_SOCK" 60 3 "$e_ready" \
	    >"$T_DIR/hold.out" 2>"$T_DIR/hold.err" &
	e_holder=$!
	t_poll 10 test -e "$e_ready" || { cat "$T_DIR/hold.err" >&2;
	    t_fail "$e_b/$2: 60 connections did not open within 10 s"; }
	e_t1=$(cputicks "$e_pid")
	sleep 2
	e_t2=$(cputicks "$e_pid")
	e_hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
	e_used=$((e_t2 - e_t1))
	[ "$e_used" -lt $((e_hz / 5)) ] || {
		tail -n 20 "$e_log" >&2
		t_fail "$e_b/$2: with 60 clients and 40 fds the daemon used $e_used ticks (of $e_hz/s) in 2 s: accept spin?"
	}
	t_ok "$e_b/$2: $e_used CPU ticks in 2 s with the fd table full"
	wait "$e_holder"
	e_rc=$?
	[ "$e_rc" -eq 0 ] ||
	    { cat "$T_DIR/hold.err" >&2; t_fail "$e_b/$2: holder exit $e_rc"; }
	e_res=$(cat "$T_DIR/hold.out")
	e_closed=${e_res#closed=}
	e_closed=${e_closed%% *}
	[ "$e_closed" -ge 20 ] ||
	    t_fail "$e_b/$2: only $e_closed of 60 connections were closed by a daemon with 40 fds ($e_res); the rest hang"
	t_ok "$e_b/$2: extra clients were refused, not left hanging ($e_res)"
	t_wait_ready "$T_SOCK" 5 ||
	    t_fail "$e_b/$2: no answer after the extra clients closed"
	t_ok "$e_b/$2: serves again after the fd table drained"
	t_stop_daemon "$e_pid" ||
	    { cat "$e_log" >&2; t_fail "$e_b/$2: stop (status $T_RC)"; }
}

# ---- an unknown backend: usage error naming the valid ones ------------------
t_log "--backend nosuch"
t_expect_rc 2 timeout 10 "$IOMUXD" -f -s "$T_DIR/nosuch.sock" -b nosuch
t_expect_grep 'nosuch' "$T_ERR" "the message names the bad backend"
for b in $T_BACKENDS; do
	t_expect_grep "(^|[^a-z])$b([^a-z]|\$)" "$T_ERR" \
	    "the message lists backend $b"
done
[ ! -e "$T_DIR/nosuch.sock" ] || t_fail "--backend nosuch created a socket"

for b in $T_BACKENDS; do
	t_log "=== backend $b"

	# ---- stale socket replaced ----------------------------------------
	T_SOCK=$T_DIR/$b.stale.sock
	t_start_daemon "$b" || t_fail "$b: start"
	kill -KILL "$T_PID"
	wait "$T_PID" 2>/dev/null
	[ -S "$T_SOCK" ] || t_fail "$b: socket file gone after SIGKILL"
	t_start_daemon "$b" || t_fail "$b: restart over a stale socket"
	ping_ok "$T_SOCK" || t_fail "$b: no answer after replacing a stale socket"
	t_ok "$b: stale socket (after SIGKILL) replaced"
	t_stop_daemon || t_fail "$b: stop (status $T_RC)"
	[ ! -e "$T_SOCK" ] || t_fail "$b: SIGTERM left $T_SOCK"
	t_ok "$b: SIGTERM removed the socket file"

	# A stale socket that was never listened on (a bind+close).
	T_SOCK=$T_DIR/$b.stale2.sock
	t_stale_socket "$T_SOCK" || t_fail "$b: make a stale socket"
	t_start_daemon "$b" || t_fail "$b: start over a bound-but-dead socket"
	t_stop_daemon || t_fail "$b: stop (status $T_RC)"

	# ---- live socket refused --------------------------------------------
	T_SOCK=$T_DIR/$b.live.sock
	t_start_daemon "$b" || t_fail "$b: start"
	first=$T_PID
	t_expect_rc 1 timeout 10 "$IOMUXD" -f -s "$T_SOCK" -b "$b"
	t_expect_grep 'already running' "$T_ERR"
	t_alive "$first" || t_fail "$b: the first daemon died"
	[ -S "$T_SOCK" ] || t_fail "$b: the second daemon removed the live socket"
	ping_ok "$T_SOCK" || t_fail "$b: the first daemon stopped answering"
	t_ok "$b: the first daemon still answers"
	t_stop_daemon "$first" || t_fail "$b: stop (status $T_RC)"

	# ---- a regular file at the path is left alone ---------------------
	f=$T_DIR/$b.file.sock
	printf 'precious data\n' >"$f"
	cp "$f" "$T_DIR/$b.file.orig"
	t_expect_rc 1 timeout 10 "$IOMUXD" -f -s "$f" -b "$b"
	t_expect_grep 'not a socket' "$T_ERR"
	[ -f "$f" ] || t_fail "$b: the regular file at the socket path is gone"
	cmp -s "$f" "$T_DIR/$b.file.orig" ||
	    t_fail "$b: the regular file at the socket path was changed"
	t_ok "$b: regular file untouched"

	# ---- sun_path length: 107 bytes work, 108 and 200 are refused -----
	for len in 108 200; do
		long=$T_DIR/$(repeat $((len - ${#T_DIR} - 1)) L)
		[ ${#long} -eq "$len" ] || t_fail "test bug: path length ${#long}"
		timeout 10 "$IOMUXD" -f -s "$long" -b "$b" \
		    >"$T_OUT" 2>"$T_ERR"
		rc=$?
		if [ "$rc" -ne 1 ] && [ "$rc" -ne 2 ]; then
			cat "$T_ERR" >&2
			t_fail "$b: a $len-byte socket path: exit $rc, want 1 or 2"
		fi
		t_expect_grep 'too long' "$T_ERR" \
		    "$b: a $len-byte path is refused as too long"
		trunc=$(printf '%.107s' "$long")
		[ ! -e "$long" ] && [ ! -e "$trunc" ] ||
		    t_fail "$b: a $len-byte path left a file behind"
	done
	T_SOCK=$T_DIR/$(repeat $((107 - ${#T_DIR} - 1)) S)
	[ ${#T_SOCK} -eq 107 ] || t_fail "test bug: path length ${#T_SOCK}"
	t_start_daemon "$b" || t_fail "$b: a 107-byte socket path must work"
	t_stop_daemon || t_fail "$b: stop (status $T_RC)"
	t_ok "$b: a 107-byte socket path works"

	# ---- socket mode ----------------------------------------------------
	T_SOCK=$T_DIR/$b.mode.sock
	t_start_daemon "$b" || t_fail "$b: start"
	mode=$(stat -c %a "$T_SOCK")
	[ "$mode" = 660 ] || t_fail "$b: default socket mode $mode, want 660"
	type=$(ls -l "$T_SOCK" | cut -c1)
	[ "$type" = s ] || t_fail "$b: ls -l type '$type', want 's'"
	t_ok "$b: default mode 0660, a socket"
	t_stop_daemon || t_fail "$b: stop (status $T_RC)"
	t_start_daemon "$b" --socket-mode 0600 || t_fail "$b: start"
	mode=$(stat -c %a "$T_SOCK")
	[ "$mode" = 600 ] || t_fail "$b: --socket-mode 0600 gave $mode"
	t_ok "$b: --socket-mode 0600 honoured"
	t_stop_daemon || t_fail "$b: stop (status $T_RC)"

	# ---- no window with a wider mode, even under umask 000 --------------
	T_SOCK=$T_DIR/$b.umask.sock
	"$PY" "$T_DIR/umask.py" "$IOMUXD" "$T_SOCK" "$b" \
	    "$T_DIR/$b.umask.log" >"$T_DIR/$b.umask.out" ||
	    t_fail "$b: umask probe failed"
	pid=$(sed -n 's/^pid //p' "$T_DIR/$b.umask.out")
	[ -n "$pid" ] || t_fail "$b: umask probe started nothing"
	T_PIDS="$T_PIDS $pid"
	t_wait_ready "$T_SOCK" 5 ||
	    { cat "$T_DIR/$b.umask.log" >&2; t_fail "$b: start under umask 000"; }
	modes=$(sed -n 's/^mode //p' "$T_DIR/$b.umask.out" | tr '\n' ' ')
	for m in $modes; do
		[ $((0$m & ~0660)) -eq 0 ] ||
		    t_fail "$b: under umask 000 the socket was seen with mode $m (modes seen: $modes)"
	done
	t_ok "$b: under umask 000 the socket never had a mode wider than 0660 (seen: ${modes:-none})"
	# Not our child (the probe's), so poll for the exit; SIGINT also stops.
	kill -INT "$pid"
	t_wait_exit "$pid" 10 || t_fail "$b: SIGINT did not stop the daemon"
	[ ! -e "$T_SOCK" ] || t_fail "$b: SIGINT left $T_SOCK"
	t_ok "$b: SIGINT stops the daemon and removes the socket"

	# ---- SIGHUP reloads the config file ---------------------------------
	T_SOCK=$T_DIR/$b.hup.sock
	conf=$T_DIR/$b.conf
	printf '# test\nidle_timeout = 0\n' >"$conf"
	t_start_daemon "$b" -c "$conf" || t_fail "$b: start with -c"
	r=$("$PY" "$T_DIR/idle.py" "$T_SOCK" 1.2)
	[ "$r" = open ] || t_fail "$b: idle_timeout = 0 but an idle client was $r"
	printf '# test\nidle_timeout = 0.5\n' >"$conf"
	kill -HUP "$T_PID"
	sleep 0.3
	t_alive "$T_PID" || t_fail "$b: died on SIGHUP"
	r=$("$PY" "$T_DIR/idle.py" "$T_SOCK" 3)
	case $r in
	"closed 0."*" 0"|"closed 1."*" 0"|"closed 2."[0-4]*" 0")
		t_ok "$b: after SIGHUP an idle client was $r" ;;
	*)
		cat "$T_LOG" >&2
		t_fail "$b: after SIGHUP with idle_timeout = 0.5: $r" ;;
	esac
	# A bad file on reload: keep running with the last good settings.
	printf 'idle_timeout = banana\n' >"$conf"
	kill -HUP "$T_PID"
	sleep 0.3
	t_alive "$T_PID" || t_fail "$b: died on SIGHUP with a bad config"
	ping_ok "$T_SOCK" || t_fail "$b: no answer after a bad reload"
	r=$("$PY" "$T_DIR/idle.py" "$T_SOCK" 3)
	case $r in
	closed*) t_ok "$b: a bad reload kept the previous settings ($r)" ;;
	*) t_fail "$b: after a bad reload the idle timeout is gone: $r" ;;
	esac
	t_expect_nogrep 'next start' "$T_LOG" \
	    "$b: reloads that change only live keys log no restart warning"
	# Keys read only at start keep their running values and are named
	# in one warning; max_clients falls at once, and a raise waits.
	max_clients_is()
	{
		"$IOMUXCTL" -s "$T_SOCK" status 2>/dev/null |
		    grep -q "^max_clients: $1\$"
	}
	restart='idle_timeout = 0.5\nsocket_mode = 0600\nbacklog = 7\n'
	printf "${restart}max_clients = 3\n" >"$conf"
	kill -HUP "$T_PID"
	t_poll 5 grep -q 'reload: socket_mode, backlog take effect at the next start' "$T_LOG" ||
	    { cat "$T_LOG" >&2; t_fail "$b: a reload did not name socket_mode and backlog"; }
	t_poll 5 max_clients_is 3 || t_fail "$b: a reload did not lower max_clients to 3"
	[ "$(stat -c %a "$T_SOCK")" = 660 ] ||
	    t_fail "$b: a reload changed the socket's mode to $(stat -c %a "$T_SOCK")"
	printf "${restart}max_clients = 5\n" >"$conf"
	kill -HUP "$T_PID"
	t_poll 5 grep -q 'reload: socket_mode, backlog, max_clients take effect at the next start' "$T_LOG" ||
	    { cat "$T_LOG" >&2; t_fail "$b: a reload did not name a raised max_clients"; }
	max_clients_is 3 || t_fail "$b: a reload raised max_clients"
	t_ok "$b: a reload names the keys that wait for the next start, and lowers max_clients at once"
	t_stop_daemon || t_fail "$b: stop (status $T_RC)"

	# The fd limit can hold max_clients under the configured value at
	# start; a reload to a value between the two cannot reach it yet.
	T_SOCK=$T_DIR/$b.hupfd.sock
	printf 'max_clients = 100\n' >"$conf"
	prlimit --nofile=40:40 "$IOMUXD" -f -s "$T_SOCK" -b "$b" -c "$conf" \
	    2>"$T_DIR/$b.hupfd.log" &
	pid=$!
	T_PIDS="$T_PIDS $pid"
	t_wait_ready "$T_SOCK" 5 ||
	    { cat "$T_DIR/$b.hupfd.log" >&2; t_fail "$b: start under 40 fds"; }
	n=$("$IOMUXCTL" -s "$T_SOCK" status | sed -n 's/^max_clients: //p')
	[ -n "$n" ] && [ "$n" -lt 99 ] ||
	    t_fail "$b: under 40 fds max_clients is '$n', not under 100"
	printf 'max_clients = %d\n' $((n + 1)) >"$conf"
	kill -HUP "$pid"
	t_poll 5 grep -q 'reload: max_clients takes effect at the next start' \
	    "$T_DIR/$b.hupfd.log" ||
	    { cat "$T_DIR/$b.hupfd.log" >&2; t_fail "$b: max_clients $((n + 1)) over the $n in force was not named"; }
	max_clients_is "$n" || t_fail "$b: max_clients went over the fd limit"
	printf 'max_clients = %d\n' $((n - 1)) >"$conf"
	kill -HUP "$pid"
	t_poll 5 max_clients_is $((n - 1)) ||
	    t_fail "$b: max_clients $((n - 1)) under the $n in force was not applied"
	t_ok "$b: max_clients over the limit in force waits, under it applies at once"
	t_stop_daemon "$pid" || t_fail "$b: stop (status $T_RC)"

	# ---- without -f: detach, then still obey signals -------------------
	# The parent returns once the socket is up; the child lives on in
	# its own session and must still see SIGHUP and SIGTERM (a signalfd
	# inherited across fork would not wake the child's loop).
	T_SOCK=$T_DIR/$b.bg.sock
	env -u NOTIFY_SOCKET -u INVOCATION_ID -u LISTEN_FDS -u LISTEN_PID \
	    "$IOMUXD" -s "$T_SOCK" -b "$b" >"$T_DIR/$b.bg.out" 2>&1 ||
	    { cat "$T_DIR/$b.bg.out" >&2; t_fail "$b: start in the background"; }
	t_wait_ready "$T_SOCK" 5 || t_fail "$b: background daemon not ready"
	pid=$("$IOMUXCTL" -s "$T_SOCK" status | sed -n 's/^pid: //p')
	[ -n "$pid" ] || t_fail "$b: no pid in STATUS"
	T_PIDS="$T_PIDS $pid"
	sid=$(ps -o sid= -p "$pid" | tr -d ' ')
	[ "$sid" = "$pid" ] || t_fail "$b: the daemon leads no session of its own (sid $sid)"
	# Another daemon refused by the lock names this pid, not the parent's.
	[ "$(cat "$T_SOCK.lock")" = "$pid" ] ||
	    t_fail "$b: the lock file names '$(cat "$T_SOCK.lock")', not the detached daemon $pid"
	kill -HUP "$pid"
	sleep 0.3
	t_alive "$pid" || t_fail "$b: the background daemon died on SIGHUP"
	ping_ok "$T_SOCK" || t_fail "$b: no answer after SIGHUP in the background"
	kill -TERM "$pid"
	t_wait_exit "$pid" 10 || t_fail "$b: SIGTERM did not stop the background daemon"
	[ ! -e "$T_SOCK" ] || t_fail "$b: the background daemon left $T_SOCK"
	t_ok "$b: without -f the daemon detaches, reloads on SIGHUP, stops on SIGTERM"

	# ---- a relative -c still names the same file after detaching --------
	# Detaching changes directory to "/", so a path kept relative would
	# make SIGHUP read /rel/... (or nothing) instead of the file given.
	T_SOCK=$T_DIR/$b.rel.sock
	mkdir -p "$T_DIR/rel"
	printf 'max_memory = 1000000\n' >"$T_DIR/rel/$b.conf"
	(cd "$T_DIR" && env -u NOTIFY_SOCKET -u INVOCATION_ID -u LISTEN_FDS \
	    -u LISTEN_PID "$IOMUXD" -c "rel/$b.conf" -s "$T_SOCK" -b "$b") \
	    >"$T_DIR/$b.rel.out" 2>&1 ||
	    { cat "$T_DIR/$b.rel.out" >&2; t_fail "$b: start with -c rel/$b.conf"; }
	t_wait_ready "$T_SOCK" 5 || t_fail "$b: daemon with a relative -c not ready"
	"$IOMUXCTL" -s "$T_SOCK" status >"$T_OUT" || t_fail "$b: status"
	pid=$(sed -n 's/^pid: //p' "$T_OUT")
	[ -n "$pid" ] || t_fail "$b: no pid in STATUS"
	T_PIDS="$T_PIDS $pid"
	t_expect_grep '^max_memory: 1000000$' "$T_OUT" \
	    "$b: the relative config file applied at start"
	printf 'max_memory = 2000000\n' >"$T_DIR/rel/$b.conf"
	kill -HUP "$pid"
	max_memory_is()
	{
		"$IOMUXCTL" -s "$T_SOCK" status 2>/dev/null |
		    grep -q "^max_memory: $1\$"
	}
	t_poll 5 max_memory_is 2000000 ||
	    t_fail "$b: SIGHUP did not re-read rel/$b.conf after detaching (max_memory stayed $(sed -n 's/^max_memory: //p' "$T_OUT"))"
	t_ok "$b: SIGHUP re-read the relative config file after detaching"
	kill -TERM "$pid"
	t_wait_exit "$pid" 10 || t_fail "$b: SIGTERM did not stop the daemon"

	# A relative -s is made absolute without -f; a reload must compare
	# it the same way, not report a listener change. NOTIFY_SOCKET keeps
	# the daemon attached (as under systemd), so its log is ours to read.
	(cd "$T_DIR" && NOTIFY_SOCKET=$T_DIR/no-notify exec "$IOMUXD" \
	    -s "$b.relsock" -b "$b" 2>"$T_DIR/$b.relsock.log") &
	pid=$!
	T_PIDS="$T_PIDS $pid"
	t_wait_ready "$T_DIR/$b.relsock" 5 ||
	    { cat "$T_DIR/$b.relsock.log" >&2; t_fail "$b: start with -s $b.relsock"; }
	kill -HUP "$pid"
	t_poll 5 grep -q 'reloaded' "$T_DIR/$b.relsock.log" ||
	    t_fail "$b: no reload logged"
	t_expect_nogrep 'next start' "$T_DIR/$b.relsock.log" \
	    "$b: a reload with a relative -s reports no socket change"
	t_stop_daemon "$pid" || t_fail "$b: stop (status $T_RC)"

	# ---- out of file descriptors: no accept spin ------------------------
	# As started under a 40-fd limit (max_clients derived from it), and
	# with the limit lowered under a running daemon that believes it may
	# serve 100 clients: there accept() itself meets EMFILE.
	emfile_case "$b" start
	emfile_case "$b" lower
done

t_ok "daemon.sh: all backends passed"
exit 0
