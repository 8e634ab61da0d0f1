#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The iomuxd developers
#
# cli.sh: iomuxctl against a real iomuxd, per backend.
#
# What a script or a person relies on: "status" prints every field as
# "name: value", the same on a pipe and a terminal; "status --json" is one
# JSON object with numbers as numbers; "ping -c N" prints N reply lines and
# a summary (JSON Lines with --json); "version" names both sides;
# $IOMUXD_SOCKET and -H HOST:PORT work; and the exit status says what
# happened (0 ok, 2 usage, 3 cannot connect, with "is not running" in
# words), also for a stale socket file, a path over sun_path and a server
# that accepts but never answers.
#
# Exit status: 0 pass, 77 skip, 1 fail.

. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_need_binaries
t_need_python "to check JSON"
CTL=$IOMUXCTL

t_tmpdir

# The STATUS fields of the spec; those that may change between two calls.
FIELDS="version pid uptime backend activation listeners clients max_clients
clients_accepted clients_refused clients_timed_out clients_dropped requests
requests.hello requests.ping requests.status requests.unknown errors_proto
bytes_in bytes_out wakeups events events_per_wakeup rss frame_max"
VOLATILE='^(uptime|clients|clients_accepted|requests[.a-z]*|bytes_in|bytes_out|wakeups|events|events_per_wakeup|rss):'
NUMERIC="pid uptime clients max_clients clients_accepted clients_refused
clients_timed_out clients_dropped requests requests.hello requests.ping
requests.status requests.unknown errors_proto bytes_in bytes_out wakeups
events rss frame_max"

# Run a command on a pseudo-terminal; its output with CRs removed.
on_pty()
{
	script -qec "$*" /dev/null </dev/null | tr -d '\r'
}

have_script=no
if command -v script >/dev/null 2>&1 &&
    [ "$(on_pty echo pty-ok 2>/dev/null)" = pty-ok ]; then
	have_script=yes
fi

# ---- without a daemon ---------------------------------------------------
t_log "exit statuses without a daemon"
t_expect_rc 2 "$CTL" -s "$T_DIR/none.sock" nosuchcommand
[ -s "$T_ERR" ] || t_fail "an unknown command must say so on stderr"
t_expect_rc 2 "$CTL" --no-such-option status
[ -s "$T_ERR" ] || t_fail "a bad option must say so on stderr"
t_expect_rc 2 "$CTL" -t notanumber -s "$T_DIR/none.sock" status

t_expect_rc 3 "$CTL" -s "$T_DIR/none.sock" status
t_expect_grep "is not running at $T_DIR/none.sock" "$T_ERR"
t_expect_rc 3 "$CTL" -s "$T_DIR/none.sock" ping
t_expect_grep 'is not running' "$T_ERR"

t_stale_socket "$T_DIR/stale.sock" || t_fail "cannot make a stale socket"
[ -S "$T_DIR/stale.sock" ] || t_fail "test bug: no stale socket"
t_expect_rc 3 "$CTL" -s "$T_DIR/stale.sock" status
t_expect_grep "is not running at $T_DIR/stale.sock" "$T_ERR"

t_expect_rc 3 "$CTL" -q -s "$T_DIR/none.sock" status
[ ! -s "$T_OUT" ] || t_fail "-q printed on stdout"

# More usage errors: no command, extra arguments, -s with -H, ping -c 0.
t_expect_rc 2 "$CTL"
t_expect_rc 2 "$CTL" -s "$T_DIR/none.sock" status extra
t_expect_rc 2 "$CTL" -s "$T_DIR/none.sock" -H 127.0.0.1:1 status
t_expect_rc 2 "$CTL" -s "$T_DIR/none.sock" ping -c 0
t_expect_rc 0 "$CTL" -V
t_expect_grep '^iomuxctl 0\.1\.0$' "$T_OUT"

# sun_path: 108 bytes are refused in words; 107 is a path like any other.
long=$T_DIR/$(printf '%*s' $((108 - ${#T_DIR} - 1)) '' | tr ' ' L)
t_expect_rc 2 "$CTL" -s "$long" status
t_expect_grep 'too long' "$T_ERR"
t_expect_rc 3 "$CTL" -s "${long%L}" status
t_expect_grep 'is not running' "$T_ERR"

# TCP with nothing listening.
port=$(t_free_port) || t_fail "no free port"
t_expect_rc 3 "$CTL" -H "127.0.0.1:$port" status
t_expect_grep "is not running at 127\.0\.0\.1:$port" "$T_ERR"

# A server that accepts and never answers: -t 0.2 must give up quickly.
"$PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(16)
open(sys.argv[2], "w").close()
s.settimeout(0.1)
held = []
end = time.monotonic() + 20
while time.monotonic() < end:
    try:
        held.append(s.accept()[0])
    except socket.timeout:
        pass' "$T_DIR/mute.sock" "$T_DIR/mute.ready" &
mute=$!
t_poll 5 test -e "$T_DIR/mute.ready" || t_fail "the mute server did not start"
for cmd in status ping version; do
	t0=$(t_now_ms)
	timeout 10 "$CTL" -s "$T_DIR/mute.sock" -t 0.2 $cmd \
	    >"$T_OUT" 2>"$T_ERR"
	rc=$?
	dt=$(( $(t_now_ms) - t0 ))
	case $rc in
	0|2|124)
		cat "$T_ERR" >&2
		t_fail "-t 0.2 $cmd against a mute server: exit $rc after $dt ms" ;;
	esac
	[ "$dt" -lt 2000 ] ||
	    t_fail "-t 0.2 $cmd against a mute server took $dt ms"
	[ -s "$T_ERR" ] || t_fail "-t 0.2 $cmd: no message on timeout"
	t_ok "-t 0.2 $cmd against a mute server: exit $rc after $dt ms"
done
kill "$mute" 2>/dev/null
wait "$mute" 2>/dev/null

# ---- the token and whoami, against a stand-in ---------------------------
# What iomuxctl does with them is its own business, whatever the daemon:
# a fake server that logs each request checks what is sent, and answers
# as the spec says (iomuxd.conf(5), ACCESS POLICY).
t_log "token and whoami against a stand-in daemon"
unset IOMUXD_TOKEN_FILE
cat >"$T_DIR/fake.py" <<'EOF_FAKE'
# fake.py LISTEN LOG TOKEN READY: a stand-in for the daemon side of
# issue 7, enough for iomuxctl's own behaviour. LISTEN is a UNIX socket
# path or a TCP port on 127.0.0.1. Each request is logged as a line
# "op ARG|- ..." (hex arguments, '-' for absent). HELLO with a third
# argument checks it against TOKEN; STATUS over TCP without the token is
# denied as the default rules deny it; WHOAMI answers canned pairs.
import os, socket, struct, sys

listen, log, token, ready = sys.argv[1:5]
tcp = listen.isdigit()
ABSENT = 0xFFFFFFFF

def frame(code, rid, args):
    parts = [struct.pack(">BBHIH", 1, 2, code, rid, len(args))]
    for a in args:
        a = a.encode()
        parts += [struct.pack(">I", len(a)), a]
    body = b"".join(parts)
    return struct.pack(">I", len(body)) + body

def parse(body):
    _, _, code, rid, argc = struct.unpack_from(">BBHIH", body)
    off, args = 10, []
    for _ in range(argc):
        (n,) = struct.unpack_from(">I", body, off)
        off += 4
        if n == ABSENT:
            args.append(None)
        else:
            args.append(body[off:off + n])
            off += n
    return code, rid, args

def serve(conn):
    authed, buf = False, b""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        buf += data
        while len(buf) >= 4 and len(buf) >= 4 + struct.unpack_from(">I", buf)[0]:
            n = struct.unpack_from(">I", buf)[0]
            code, rid, args = parse(buf[4:4 + n])
            buf = buf[4 + n:]
            with open(log, "a") as f:
                f.write("%d %s\n" % (code, " ".join(
                    "-" if a is None else a.hex() for a in args)))
            if code == 1:
                if len(args) > 2 and args[2] != token.encode():
                    conn.sendall(frame(0x0109, rid, ["hello: wrong token"]))
                    continue
                if len(args) > 2 and tcp:
                    authed = True
                auth = "peer" if not tcp else "token" if authed else "none"
                conn.sendall(frame(0, rid, ["server", "fake 0", "proto", "1",
                    "value_max", "4096", "auth", auth]))
            elif code == 3:
                if tcp and not authed:
                    conn.sendall(frame(0x0109, rid, ["status: tcp client "
                        "(no token) has none by the default rule 'tcp token rw'"]))
                else:
                    conn.sendall(frame(0, rid, ["version", "fake", "details", "no"]))
            elif code == 4:
                if tcp:
                    pairs = ["listener", "tcp", "auth",
                             "token" if authed else "none", "rules", "config"]
                    pairs += ["grant", "2 rw *"] if authed else []
                else:
                    pairs = ["listener", "unix", "auth", "peer", "uid", "0",
                             "user", "root", "gid", "0", "groups",
                             "0,4242424", "pid", "77", "rules", "config",
                             "grant", "3 rw deploy/ ops/", "grant", "5 ro *",
                             "grant", "default admin *"]
                conn.sendall(frame(0, rid, pairs))
            else:
                conn.sendall(frame(0x0103, rid, ["unknown opcode"]))

if tcp:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(listen)))
else:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(listen)
s.listen(16)
open(ready, "w").close()
while True:
    c, _ = s.accept()
    try:
        serve(c)
    except (ConnectionError, struct.error):
        pass
    c.close()
EOF_FAKE
TOKEN=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
TOKEN_HEX=$(printf %s "$TOKEN" | od -An -v -tx1 | tr -d ' \n')
mkdir "$T_DIR/run" || t_fail "mkdir"
printf '%s\n' "$TOKEN" >"$T_DIR/fake.token"
printf 'fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210\n' \
    >"$T_DIR/wrong"
printf 'not a token\n' >"$T_DIR/bad"
fport=$(t_free_port) || t_fail "no free port"
"$PY" "$T_DIR/fake.py" "$T_DIR/fake.sock" "$T_DIR/fake.log" "$TOKEN" \
    "$T_DIR/fake.ready" &
fake_unix=$!
"$PY" "$T_DIR/fake.py" "$fport" "$T_DIR/fake.log" "$TOKEN" \
    "$T_DIR/fake.tready" &
fake_tcp=$!
# Stopped by the EXIT trap too, should a check below fail.
T_PIDS="$T_PIDS $fake_unix $fake_tcp"
t_poll 5 test -e "$T_DIR/fake.ready" || t_fail "the stand-in did not start"
t_poll 5 test -e "$T_DIR/fake.tready" || t_fail "the TCP stand-in did not start"
FH=127.0.0.1:$fport

# The requests of the last run, "OP ARG..." in hex ('-' absent).
sent()
{
	cat "$T_DIR/fake.log"
	: >"$T_DIR/fake.log"
}
: >"$T_DIR/fake.log"

# whoami over UNIX: the pairs in order, gids with their names here.
g0=$(getent group 0 | cut -d: -f1)
t_expect_rc 0 "$CTL" -s "$T_DIR/fake.sock" whoami
cat >"$T_DIR/whoami.want" <<EOF_WANT
listener: unix
auth: peer
uid: 0
user: root
gid: 0${g0:+ ($g0)}
groups: 0${g0:+ ($g0)}, 4242424
pid: 77
rules: config
grant: 3 rw deploy/ ops/
grant: 5 ro *
grant: default admin *
EOF_WANT
cmp -s "$T_OUT" "$T_DIR/whoami.want" || {
	diff "$T_DIR/whoami.want" "$T_OUT" >&2
	t_fail "whoami text output"
}
[ "$(sent)" = "4 " ] || t_fail "whoami over UNIX sent more than WHOAMI"
t_ok "whoami prints one line per field, the grants in order"

t_expect_rc 0 "$CTL" -s "$T_DIR/fake.sock" --json whoami
"$PY" -c 'import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, "%d lines" % len(lines)
o = json.loads(lines[0])
assert o == {"listener": "unix", "auth": "peer", "uid": 0, "user": "root",
             "gid": 0, "groups": [0, 4242424], "pid": 77, "rules": "config",
             "grant": ["3 rw deploy/ ops/", "5 ro *", "default admin *"]}, o
' "$T_OUT" || { cat "$T_OUT" >&2; t_fail "whoami --json"; }
t_ok "whoami --json is one object, grant an array in order"
t_expect_rc 0 "$CTL" -q -s "$T_DIR/fake.sock" whoami
[ ! -s "$T_OUT" ] && [ ! -s "$T_ERR" ] || t_fail "-q whoami printed something"
sent >/dev/null

# Over UNIX no token is sent, even when one is named.
t_expect_rc 0 "$CTL" -s "$T_DIR/fake.sock" --token-file "$T_DIR/fake.token" version
t_expect_grep '^fake 0 \(protocol 1\)$' "$T_OUT"
[ "$(sent)" = "1 00000001 $(printf iomuxctl | od -An -v -tx1 | tr -d ' \n')" ] ||
    t_fail "version over UNIX: not HELLO version name"
t_ok "no token over UNIX"

# Over TCP the token goes in a second HELLO, before the command's request:
# the first, without it, waits for the daemon to answer (under socket
# activation this connection may start it, and it writes a new token).
# From --token-file, $IOMUXD_TOKEN_FILE or beside the default socket:
# the daemon's default tcp/token (a wrong one in token is not taken).
HELLO0="1 00000001 $(printf iomuxctl | od -An -v -tx1 | tr -d ' \n')"
mkdir "$T_DIR/run/tcp" || t_fail "mkdir"
for how in option env default; do
	case $how in
	option) set -- "$CTL" -H "$FH" --token-file "$T_DIR/fake.token" whoami ;;
	env) set -- env IOMUXD_TOKEN_FILE="$T_DIR/fake.token" "$CTL" -H "$FH" whoami ;;
	default)
		cp "$T_DIR/fake.token" "$T_DIR/run/tcp/token"
		cp "$T_DIR/wrong" "$T_DIR/run/token"
		set -- env IOMUXD_SOCKET="$T_DIR/run/iomuxd.sock" \
		    "$CTL" -H "$FH" whoami ;;
	esac
	t_expect_rc 0 "$@"
	t_expect_grep '^auth: token$' "$T_OUT" "token from $how: auth"
	sent >"$T_DIR/sent"
	[ "$(sed -n 1p "$T_DIR/sent")" = "$HELLO0" ] &&
	    [ "$(sed -n 2p "$T_DIR/sent")" = "$HELLO0 $TOKEN_HEX" ] &&
	    [ "$(sed -n 3p "$T_DIR/sent")" = "4 " ] || {
		cat "$T_DIR/sent" >&2
		t_fail "token from $how: not HELLO, HELLO with the token, WHOAMI"
	}
	t_ok "TCP: the token from $how goes in HELLO, after a first one"
done
rm -f "$T_DIR/run/token" "$T_DIR/run/tcp/token"

# The option before the variable.
t_expect_rc 0 env IOMUXD_TOKEN_FILE="$T_DIR/bad" "$CTL" -H "$FH" \
    --token-file "$T_DIR/fake.token" status
t_expect_grep '^details: no$' "$T_OUT"
sent >/dev/null

# A value from standard input needs HELLO's value_max: no third HELLO.
printf v | "$CTL" -H "$FH" --token-file "$T_DIR/fake.token" set k - 2>/dev/null
[ "$(sent | cut -d' ' -f1 | tr '\n' ' ')" = "1 1 258 " ] ||
    t_fail "set - over TCP: not two HELLOs, then SET"
t_ok "two HELLOs per TCP connection, no more"

# No token found: one HELLO without it, and the daemon's denial is exit 4,
# in its own words (they name the request: no "status:" in front of them).
if [ -r /run/iomuxd/tcp/token ]; then
	t_log "a token in /run/iomuxd exists: the no-token case is not run"
else
	t_expect_rc 4 env IOMUXD_SOCKET="$T_DIR/run/iomuxd.sock" \
	    "$CTL" -H "$FH" status
	t_expect_grep "^iomuxctl: status: tcp client \(no token\) has none by the default rule 'tcp token rw' \(EDENIED\)\$" "$T_ERR"
	[ "$(sent | cut -d' ' -f1 | tr '\n' ' ')" = "1 3 " ] ||
	    t_fail "no token: not HELLO, then STATUS"
	t_ok "no token: HELLO without one; EDENIED is exit 4"
fi

# A wrong token: exit 4 with the daemon's message, and where it came from.
t_expect_rc 4 "$CTL" -H "$FH" --token-file "$T_DIR/wrong" status
t_expect_grep '^iomuxctl: hello: wrong token \(EDENIED\)$' "$T_ERR"
t_expect_grep "^iomuxctl: the token was read from $T_DIR/wrong\$" "$T_ERR"
[ ! -s "$T_OUT" ] || t_fail "a wrong token printed on stdout"
[ "$(sent | cut -d' ' -f1 | tr '\n' ' ')" = "1 1 " ] ||
    t_fail "wrong token: went on after HELLO"
t_ok "a wrong token is exit 4, and nothing is sent after it"

# A named file that cannot be used: exit 3 naming it. One that is not a
# token stops us before anything is sent; one that is not there yet may
# be written by a daemon this connection starts: only after the first
# HELLO is that an error.
t_expect_rc 3 "$CTL" -H "$FH" --token-file "$T_DIR/bad" status
t_expect_grep "^iomuxctl: token file $T_DIR/bad: not a token" "$T_ERR"
[ ! -s "$T_DIR/fake.log" ] || t_fail "a request went out with a bad token file"
t_expect_rc 3 "$CTL" -H "$FH" --token-file "$T_DIR/nofile" status
t_expect_grep "^iomuxctl: token file $T_DIR/nofile: No such file or directory\$" "$T_ERR"
t_expect_rc 3 env IOMUXD_TOKEN_FILE="$T_DIR/nofile" "$CTL" -H "$FH" status
t_expect_grep "^iomuxctl: token file $T_DIR/nofile \(IOMUXD_TOKEN_FILE\): " "$T_ERR"
[ "$(sent | cut -d' ' -f1 | tr '\n' ' ')" = "1 1 " ] ||
    t_fail "a missing token file: more than the first HELLO"
# Found by default, read after the first HELLO: that HELLO only.
cp "$T_DIR/bad" "$T_DIR/run/tcp/token"
t_expect_rc 3 env IOMUXD_SOCKET="$T_DIR/run/iomuxd.sock" "$CTL" -H "$FH" status
t_expect_grep '^iomuxctl: default token file .*: not a token' "$T_ERR"
rm -f "$T_DIR/run/tcp/token"
[ "$(sent | cut -d' ' -f1 | tr '\n' ' ')" = "1 " ] ||
    t_fail "a malformed default token: more than the first HELLO"
t_expect_rc 2 "$CTL" -H "$FH" --token-file '' status
t_ok "an unusable token file is exit 3, named"

kill "$fake_unix" "$fake_tcp" 2>/dev/null
wait "$fake_unix" "$fake_tcp" 2>/dev/null

# The completion knows whoami and skips --token-file's value.
if command -v bash >/dev/null 2>&1; then
	comp=${top_builddir:-$(dirname "$0")/..}/cli/completion/iomuxctl
	got=$(bash -c '. "$1" || exit 1
	    COMP_WORDS=(iomuxctl -H h:1 --token-file f who)
	    COMP_CWORD=5
	    _iomuxctl
	    printf "%s\n" "${COMPREPLY[@]}"' sh "$comp")
	[ "$got" = whoami ] || t_fail "completion after --token-file: '$got'"
	t_ok "the completion offers whoami after --token-file FILE"
fi

for b in $T_BACKENDS; do
	t_log "=== backend $b"
	T_SOCK=$T_DIR/$b.sock
	port=$(t_free_port) || t_fail "no free port"
	t_start_daemon "$b" --tcp "127.0.0.1:$port" || t_fail "$b: start"
	# t_start_daemon has the token written here, and exports it as
	# IOMUXD_TOKEN_FILE: the -H commands below send it unless told not to.
	TOK=$IOMUXD_TOKEN_FILE

	# ---- status ---------------------------------------------------------
	t_expect_rc 0 "$CTL" -s "$T_SOCK" status
	cp "$T_OUT" "$T_DIR/$b.status"
	for f in $FIELDS; do
		grep -Eq "^$(printf '%s' "$f" | sed 's/\./\\./g'): " \
		    "$T_DIR/$b.status" || {
			cat "$T_DIR/$b.status" >&2
			t_fail "$b: status lacks a \"$f: \" line"
		}
	done
	t_expect_grep "^pid: $T_PID\$" "$T_DIR/$b.status" "$b: status pid"
	t_expect_grep "^backend: $b\$" "$T_DIR/$b.status" "$b: status backend"
	t_expect_grep '^activation: standalone$' "$T_DIR/$b.status"
	t_expect_grep "^listeners: (.*,)?$T_SOCK(,.*)?\$" "$T_DIR/$b.status"
	nlines=$(wc -l <"$T_DIR/$b.status")
	bad=$(grep -Evc '^[a-z_.]+: ' "$T_DIR/$b.status")
	[ "$bad" -eq 0 ] || t_fail "$b: $bad status lines are not \"name: value\""
	t_ok "$b: status has $nlines \"name: value\" lines"

	# Same content on a pipe and on a terminal.
	if [ "$have_script" = yes ]; then
		on_pty "'$CTL' -s '$T_SOCK' status" >"$T_DIR/$b.status.pty"
		grep -q "$(printf '\033')" "$T_DIR/$b.status.pty" &&
		    t_fail "$b: escape sequences in status on a tty"
		cut -d: -f1 "$T_DIR/$b.status" >"$T_DIR/$b.names.pipe"
		cut -d: -f1 "$T_DIR/$b.status.pty" >"$T_DIR/$b.names.pty"
		cmp -s "$T_DIR/$b.names.pipe" "$T_DIR/$b.names.pty" || {
			diff "$T_DIR/$b.names.pipe" "$T_DIR/$b.names.pty" >&2
			t_fail "$b: status fields differ between a pipe and a tty"
		}
		grep -Ev "$VOLATILE" "$T_DIR/$b.status" >"$T_DIR/$b.fixed.pipe"
		grep -Ev "$VOLATILE" "$T_DIR/$b.status.pty" >"$T_DIR/$b.fixed.pty"
		cmp -s "$T_DIR/$b.fixed.pipe" "$T_DIR/$b.fixed.pty" || {
			diff "$T_DIR/$b.fixed.pipe" "$T_DIR/$b.fixed.pty" >&2
			t_fail "$b: status values differ between a pipe and a tty"
		}
		t_ok "$b: status is the same on a pipe and a tty"
		on_pty "'$CTL' -s '$T_SOCK' --json status" >"$T_DIR/$b.json.pty"
		"$PY" -c 'import json, sys; json.load(sys.stdin)' \
		    <"$T_DIR/$b.json.pty" ||
		    t_fail "$b: status --json on a tty is not JSON"
		t_ok "$b: status --json on a tty is JSON"
	else
		t_log "no usable script(1): pty comparison skipped"
	fi

	# ---- status --json ----------------------------------------------------
	t_expect_rc 0 "$CTL" -s "$T_SOCK" --json status
	"$PY" -c 'import json, sys
want_backend, want_pid, numeric, fields = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
o = json.load(open(sys.argv[5]))
assert isinstance(o, dict), "not an object: %r" % (o,)
for f in fields:
    assert f in o, "no field %s" % f
for f in numeric:
    assert isinstance(o[f], int) and not isinstance(o[f], bool), \
        "%s is %r, not a JSON integer" % (f, o[f])
assert isinstance(o["events_per_wakeup"], (int, float)), \
    "events_per_wakeup %r is not a number" % (o["events_per_wakeup"],)
for f in ("version", "backend", "activation", "listeners"):
    assert isinstance(o[f], str), "%s is %r, not a string" % (f, o[f])
assert o["backend"] == want_backend, "backend %r" % o["backend"]
assert o["pid"] == want_pid, "pid %r" % o["pid"]
assert o["activation"] == "standalone", "activation %r" % o["activation"]
assert o["clients"] >= 1
' "$b" "$T_PID" "$NUMERIC" "$FIELDS" "$T_OUT" 2>"$T_DIR/py.err" || {
		cat "$T_OUT" "$T_DIR/py.err" >&2
		t_fail "$b: status --json"
	}
	[ "$(grep -c . "$T_OUT")" -ge 1 ] || t_fail "$b: empty JSON"
	t_ok "$b: status --json is one object with backend $b"

	# ---- ping -c 3 --------------------------------------------------------
	t_expect_rc 0 timeout 10 "$CTL" -s "$T_SOCK" ping -c 3
	n=$(grep -Ec "^reply from $T_SOCK: seq=[0-9]+ bytes=[0-9]+ time=[0-9]+(\.[0-9]+)? ms\$" "$T_OUT")
	[ "$n" -eq 3 ] || { cat "$T_OUT" >&2; t_fail "$b: ping -c 3 printed $n reply lines"; }
	t_expect_grep '^3 sent, 3 received, rtt min/avg/max = [0-9.]+/[0-9.]+/[0-9.]+ ms$' \
	    "$T_OUT" "$b: ping summary"
	[ "$(wc -l <"$T_OUT")" -eq 4 ] || { cat "$T_OUT" >&2; t_fail "$b: ping -c 3: extra output"; }
	t_expect_rc 0 timeout 10 "$CTL" -s "$T_SOCK" ping -c 2 hello
	n=$(grep -c '^reply from ' "$T_OUT")
	[ "$n" -eq 2 ] || { cat "$T_OUT" >&2; t_fail "$b: ping -c 2 DATA printed $n reply lines"; }
	t_expect_grep '^2 sent, 2 received' "$T_OUT" "$b: ping -c 2 DATA summary"

	t_expect_rc 0 timeout 10 "$CTL" -s "$T_SOCK" --json ping -c 2
	"$PY" -c 'import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(lines) == 3, "want 2 replies and a summary, got %d lines" % len(lines)
for i, o in enumerate(lines[:2]):
    assert o.get("seq") == i + 1, "reply %d: %r" % (i, o)
assert lines[2].get("sent") == 2 and lines[2].get("received") == 2, lines[2]
' "$T_OUT" || { cat "$T_OUT" >&2; t_fail "$b: --json ping is not JSON Lines"; }
	t_ok "$b: --json ping -c 2 is 3 JSON lines"

	# ---- over TCP (-H), with the daemon's token ---------------------------
	# The daemon wrote it at start: 64 lowercase hex and a newline, 0640.
	grep -Eqx '[0-9a-f]{64}' "$TOK" && [ "$(wc -c <"$TOK")" -eq 65 ] || {
		od -c "$TOK" >&2
		t_fail "$b: the token file is not 64 hex characters and a newline"
	}
	[ "$(stat -c %a "$TOK")" = 640 ] ||
	    t_fail "$b: token file mode $(stat -c %a "$TOK"), not 640"
	t_ok "$b: the daemon wrote its token"
	t_expect_rc 0 "$CTL" -H "127.0.0.1:$port" --token-file "$TOK" status
	t_expect_grep "^backend: $b\$" "$T_OUT" "$b: status over TCP"
	# The default rule 'tcp token rw': rw sees the summary only.
	t_expect_grep '^details: no$' "$T_OUT" "$b: status over TCP is a summary"
	t_expect_nogrep '^listeners: ' "$T_OUT"
	t_expect_rc 0 timeout 10 "$CTL" -H "127.0.0.1:$port" ping -c 2
	t_expect_grep '^2 sent, 2 received' "$T_OUT" "$b: ping over TCP"
	t_expect_rc 0 env IOMUXD_TOKEN_FILE="$TOK" "$CTL" -H "127.0.0.1:$port" \
	    set tcpkey v
	t_expect_rc 0 "$CTL" -H "127.0.0.1:$port" --token-file "$TOK" \
	    get tcpkey
	t_expect_grep '^v$' "$T_OUT" "$b: a token client has rw"

	# whoami over TCP: authenticated, one default grant.
	t_expect_rc 0 "$CTL" -H "127.0.0.1:$port" --token-file "$TOK" whoami
	printf 'listener: tcp\nauth: token\nrules: default\ngrant: default rw *\n' \
	    >"$T_DIR/want"
	cmp -s "$T_OUT" "$T_DIR/want" || {
		diff "$T_DIR/want" "$T_OUT" >&2
		t_fail "$b: whoami over TCP with the token"
	}
	t_ok "$b: whoami over TCP with the token"

	# Without a token nothing but the always-allowed requests.
	if [ -r /run/iomuxd/tcp/token ] || [ -r /run/iomuxd/token ]; then
		t_log "a token in /run/iomuxd exists: the no-token cases are not run"
	else
		t_expect_rc 0 env -u IOMUXD_TOKEN_FILE \
		    IOMUXD_SOCKET="$T_DIR/run/iomuxd.sock" "$CTL" -H "127.0.0.1:$port" whoami
		printf 'listener: tcp\nauth: none\nrules: default\n' >"$T_DIR/want"
		cmp -s "$T_OUT" "$T_DIR/want" || {
			diff "$T_DIR/want" "$T_OUT" >&2
			t_fail "$b: whoami over TCP without a token"
		}
		t_expect_rc 4 env -u IOMUXD_TOKEN_FILE \
		    IOMUXD_SOCKET="$T_DIR/run/iomuxd.sock" "$CTL" -H "127.0.0.1:$port" get tcpkey
		t_expect_grep "^iomuxctl: get 'tcpkey': .*tcp client \(no token\).* \(EDENIED\)\$" \
		    "$T_ERR"
		t_expect_rc 0 env -u IOMUXD_TOKEN_FILE \
		    IOMUXD_SOCKET="$T_DIR/run/iomuxd.sock" "$CTL" -H "127.0.0.1:$port" ping
		t_ok "$b: no token, no access over TCP"
	fi

	# A wrong token: the daemon's EDENIED, exit 4.
	printf '%064d\n' 0 >"$T_DIR/wrong.token"
	t_expect_rc 4 "$CTL" -H "127.0.0.1:$port" \
	    --token-file "$T_DIR/wrong.token" get tcpkey
	t_expect_grep '^iomuxctl: hello: wrong token \(EDENIED\)$' "$T_ERR"

	# ---- whoami over UNIX: root, under the default rules -------------------
	t_expect_rc 0 "$CTL" -s "$T_SOCK" whoami
	g0=$(getent group 0 | cut -d: -f1)
	{
		printf 'listener: unix\nauth: peer\nuid: 0\nuser: root\n'
		printf 'gid: 0%s\n' "${g0:+ ($g0)}"
	} >"$T_DIR/want"
	head -5 "$T_OUT" | cmp -s - "$T_DIR/want" || {
		diff "$T_DIR/want" "$T_OUT" >&2
		t_fail "$b: whoami over UNIX, the peer"
	}
	t_expect_grep "^groups: 0${g0:+ \($g0\)}(, |\$)" "$T_OUT"
	t_expect_grep '^pid: [0-9]+$' "$T_OUT"
	# uid=0 is admin, all are rw. The rule for the daemon's own euid is
	# the same rule here (root), which iomuxd.conf(5) leaves out.
	grep -E '^(rules|grant):' "$T_OUT" | uniq >"$T_DIR/got"
	printf 'rules: default\ngrant: default admin *\ngrant: default rw *\n' \
	    >"$T_DIR/want"
	cmp -s "$T_DIR/got" "$T_DIR/want" || {
		diff "$T_DIR/want" "$T_DIR/got" >&2
		t_fail "$b: whoami over UNIX, the default grants"
	}
	t_expect_rc 0 "$CTL" -s "$T_SOCK" --json whoami
	"$PY" -c 'import json, os, sys
o = json.load(open(sys.argv[1]))
assert o["listener"] == "unix" and o["auth"] == "peer", o
assert o["uid"] == 0 and o["gid"] == 0 and o["groups"][0] == 0, o
assert all(isinstance(g, int) for g in o["groups"]), o
assert isinstance(o["pid"], int), o
assert o["grant"] in (["default admin *", "default rw *"],
                      ["default admin *"] * 2 + ["default rw *"]), o
' "$T_OUT" || { cat "$T_OUT" >&2; t_fail "$b: whoami --json over UNIX"; }
	t_ok "$b: whoami over UNIX"

	# ---- version ----------------------------------------------------------
	t_expect_rc 0 "$CTL" -s "$T_SOCK" version
	[ "$(sed -n 1p "$T_OUT")" = "iomuxctl 0.1.0" ] ||
	    { cat "$T_OUT" >&2; t_fail "$b: version line 1"; }
	[ "$(sed -n 2p "$T_OUT")" = "iomuxd 0.1.0 (protocol 1)" ] ||
	    { cat "$T_OUT" >&2; t_fail "$b: version line 2"; }
	t_ok "$b: version names both sides"

	# ---- $IOMUXD_SOCKET -----------------------------------------------------
	t_expect_rc 0 env IOMUXD_SOCKET="$T_SOCK" "$CTL" status
	t_expect_grep "^backend: $b\$" "$T_OUT" "$b: IOMUXD_SOCKET honoured"
	t_expect_rc 3 env IOMUXD_SOCKET="$T_DIR/none.sock" "$CTL" status
	t_expect_grep 'is not running' "$T_ERR"

	# ---- -q ---------------------------------------------------------------
	t_expect_rc 0 "$CTL" -q -s "$T_SOCK" status
	[ ! -s "$T_OUT" ] && [ ! -s "$T_ERR" ] ||
	    t_fail "$b: -q status printed something"
	t_ok "$b: -q status is silent"

	# ---- usage errors with a live daemon ---------------------------------
	t_expect_rc 2 "$CTL" -s "$T_SOCK" nosuchcommand
	t_expect_rc 2 "$CTL" -s "$T_SOCK" --bogus status

	t_stop_daemon || t_fail "$b: stop (status $T_RC)"
	[ ! -e "$T_SOCK" ] || t_fail "$b: socket left after SIGTERM"
	# The same path, now gone: "is not running".
	t_expect_rc 3 "$CTL" -s "$T_SOCK" status
	t_expect_grep "is not running at $T_SOCK" "$T_ERR"
done

# ---- rules: a denial is exit 4 in the daemon's words --------------------
b=${T_BACKENDS%% *}
T_SOCK=$T_DIR/rules.sock
port=$(t_free_port) || t_fail "no free port"
cat >"$T_DIR/rules.conf" <<EOF_CONF
rule = unix all ro deploy/
rule = unix uid=0 admin
rule = tcp token rw pub/
rule = tcp token admin %u/
EOF_CONF
t_start_daemon "$b" -c "$T_DIR/rules.conf" --tcp "127.0.0.1:$port" ||
    t_fail "rules: start"
TOK=$IOMUXD_TOKEN_FILE
t_expect_rc 0 "$CTL" -s "$T_SOCK" whoami
grep -E '^(rules|grant):' "$T_OUT" >"$T_DIR/got"
printf 'rules: config\ngrant: 1 ro deploy/\ngrant: 2 admin *\n' >"$T_DIR/want"
cmp -s "$T_DIR/got" "$T_DIR/want" || {
	diff "$T_DIR/want" "$T_DIR/got" >&2
	t_fail "rules: whoami grants over UNIX"
}
t_expect_rc 4 "$CTL" -s "$T_SOCK" set deploy/x 1
t_expect_grep "^iomuxctl: set 'deploy/x': uid 0 \(root\) has ro on 'deploy/' by rule 1 \(EDENIED\)\$" \
    "$T_ERR"
[ ! -s "$T_OUT" ] || t_fail "rules: a denial printed on stdout"
t_expect_rc 0 "$CTL" -s "$T_SOCK" set other 1
t_expect_rc 1 "$CTL" -s "$T_SOCK" get deploy/x
t_ok "rules: a SET under an ro prefix is denied by its rule, exit 4"

# Over TCP a rule with %u never matches; the token one covers pub/ only.
t_expect_rc 0 "$CTL" -H "127.0.0.1:$port" --token-file "$TOK" whoami
t_expect_grep '^auth: token$' "$T_OUT"
grep '^grant:' "$T_OUT" >"$T_DIR/got"
printf 'grant: 3 rw pub/\n' >"$T_DIR/want"
cmp -s "$T_DIR/got" "$T_DIR/want" || {
	diff "$T_DIR/want" "$T_DIR/got" >&2
	t_fail "rules: whoami grants over TCP"
}
t_expect_rc 0 "$CTL" -H "127.0.0.1:$port" --token-file "$TOK" set pub/a 1
t_expect_rc 4 "$CTL" -H "127.0.0.1:$port" --token-file "$TOK" get other
t_expect_grep "^iomuxctl: get 'other': no rule grants tcp client \(token\) access to 'other' \(EDENIED\)\$" \
    "$T_ERR"
# The daemon shows a name's odd bytes as \xNN; they reach the terminal so.
t_expect_rc 4 "$CTL" -H "127.0.0.1:$port" --token-file "$TOK" \
    get "$(printf 'a\001b')"
grep -Fqx "iomuxctl: get 'a\\x01b': no rule grants tcp client (token) access to 'a\\x01b' (EDENIED)" \
    "$T_ERR" || { cat "$T_ERR" >&2; t_fail "rules: a denied odd name"; }
t_ok "rules: over TCP, only what the token rule grants"
t_stop_daemon || t_fail "rules: stop (status $T_RC)"
[ ! -e "$TOK" ] || t_fail "rules: the token file was left after a clean stop"
t_ok "rules: the token file goes with the daemon"

t_ok "cli.sh: all backends passed"
exit 0
