#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The iomuxd developers
#
# hub.sh: the hub's iomuxctl commands end to end against a real iomuxd,
# per backend: what a shell script relies on.
#
# Values are written exactly as stored plus one newline, which -n drops
# (binary-safe: compared with cmp); "absent" and "timed out" are exit
# status 1 and daemon errors 4; -q prints nothing; --ttl, --timeout and
# expire take seconds with fractions; set --nx/--xx/--if-equals answer
# with the exit status; keys walks every cursor; wait, pop and lock block
# and are woken by another process; sub prints payloads (JSON Lines with
# --json), stops after -c N or --timeout, and ends quietly on EPIPE; and
# "lock NAME -- CMD" passes the command's exit status through and
# forwards SIGTERM to it.
#
# Exit status: 0 pass, 77 skip, 1 fail.

. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_need_binaries
t_need_python "to check JSON"
CTL=$IOMUXCTL

t_tmpdir

# Background processes of this test (not daemons): killed by PID on exit.
BG=
t_cleanup_hook()
{
	for p in $BG; do
		kill -KILL "$p" 2>/dev/null
	done
}

ctl()
{
	"$CTL" -s "$T_SOCK" "$@"
}

# Run ctl under timeout(1) so that a hang fails instead of blocking.
tctl()
{
	timeout 15 "$CTL" -s "$T_SOCK" "$@"
}

# stdout of the last t_expect_rc must be exactly these bytes (printf FMT).
expect_out()
{
	# shellcheck disable=SC2059
	printf -- "$1" >"$T_DIR/want"
	if ! cmp -s "$T_DIR/want" "$T_OUT"; then
		printf -- '--- want (od -c):\n' >&2
		od -c "$T_DIR/want" >&2
		printf -- '--- got (od -c):\n' >&2
		od -c "$T_OUT" >&2
		t_fail "${2:-stdout differs}"
	fi
	t_ok "${2:-stdout is as expected}"
}

expect_silent()
{
	[ ! -s "$T_OUT" ] && [ ! -s "$T_ERR" ] || {
		cat "$T_OUT" "$T_ERR" >&2
		t_fail "$1: -q printed something"
	}
	t_ok "$1: silent"
}

# A STATUS field, from "name: value" lines.
stat_field()
{
	ctl status 2>/dev/null | sed -n "s/^$1: //p"
}

stat_is()
{
	[ "$(stat_field "$1")" = "$2" ]
}

# Wait until STATUS field $1 is $2, up to 5 s.
wait_stat()
{
	t_poll 5 stat_is "$1" "$2" ||
	    t_fail "$b: STATUS $1 stays at '$(stat_field "$1")', want $2"
}

# bg_run NAME CMD [ARGS...]: CMD in the background, stdout in
# $T_DIR/NAME.out and stderr in $T_DIR/NAME.err.  BGPID is its PID
# (killed on exit) and BGNAME is NAME.  CMD is a program, not a shell
# function, so that BGPID is the program itself (a signal sent to it
# reaches it).
bg_run()
{
	BGNAME=$1
	shift
	"$@" >"$T_DIR/$BGNAME.out" 2>"$T_DIR/$BGNAME.err" &
	BGPID=$!
	BG="$BG $BGPID"
}

# Wait for background PID (up to SECS), then set RC to its exit status.
wait_bg()
{
	t_wait_exit "$1" "${2:-5}" || t_fail "$b: pid $1 ($3) still running"
	wait "$1"
	RC=$?
}

# RC (from wait_bg) must be WANT, else show the last bg_run's stderr and
# fail with "$b: WHAT exited RC, want WANT".
expect_bg_rc()
{
	[ "$RC" -eq "$1" ] || {
		cat "$T_DIR/$BGNAME.err" >&2
		t_fail "$b: $2 exited $RC, want $1"
	}
}

# bg_done SECS WANT WHAT: the last bg_run ends within SECS with status
# WANT.
bg_done()
{
	wait_bg "$BGPID" "$1" "$3"
	expect_bg_rc "$2" "$3"
}

# The last bg_run's stdout must be exactly these bytes (printf FMT).
expect_bg_out()
{
	cp "$T_DIR/$BGNAME.out" "$T_OUT"
	expect_out "$@"
}

# expect_timeout MIN MAX WHAT ARGS...: "tctl ARGS" must give up (exit 1)
# after at least MIN and less than MAX ms; dt is how long it took.
expect_timeout()
{
	et_min=$1
	et_max=$2
	et_what=$3
	shift 3
	t0=$(t_now_ms)
	t_expect_rc 1 tctl "$@"
	dt=$(( $(t_now_ms) - t0 ))
	[ "$dt" -ge "$et_min" ] && [ "$dt" -lt "$et_max" ] ||
	    t_fail "$b: $et_what took $dt ms"
}

# A JSON check: python code on the object(s) in T_OUT.
json_check()
{
	"$PY" -c "import json, sys, base64
$1" "$T_OUT" 2>"$T_DIR/py.err" || {
		printf -- '--- stdout:\n' >&2
		cat "$T_OUT" >&2
		cat "$T_DIR/py.err" >&2
		t_fail "$b: $2"
	}
	t_ok "$b: $2"
}

# Test data: binary bytes with NULs and no final newline, a value that
# ends in a newline, and 200 KiB of everything.
printf 'a\000b\377\000\ncd' >"$T_DIR/bin"
printf 'line\n' >"$T_DIR/nl"
"$PY" -c 'import sys
sys.stdout.buffer.write(bytes((i * 131 + (i >> 8)) & 255 for i in range(200 * 1024)))' \
    >"$T_DIR/big" || t_fail "cannot make test data"

# Usage errors need no daemon.
t_log "usage errors"
t_expect_rc 2 "$CTL" -s "$T_DIR/none.sock" lock name
t_expect_rc 2 "$CTL" -s "$T_DIR/none.sock" get
t_expect_rc 2 "$CTL" -s "$T_DIR/none.sock" set onlykey
t_expect_rc 2 "$CTL" -s "$T_DIR/none.sock" set k v --nx --xx
t_expect_rc 2 "$CTL" -s "$T_DIR/none.sock" pop q --timeout abc
t_expect_rc 2 "$CTL" -s "$T_DIR/none.sock" incr k notanumber
t_expect_rc 3 "$CTL" -s "$T_DIR/none.sock" get k

for b in $T_BACKENDS; do
	t_log "=== backend $b"
	T_SOCK=$T_DIR/$b.sock
	t_start_daemon "$b" || t_fail "$b: start"

	# ---- get/set ----------------------------------------------------
	t_log "$b: get/set"
	t_expect_rc 0 ctl set greeting hello
	t_expect_rc 0 ctl get greeting
	expect_out 'hello\n' "$b: get prints the value and one newline"
	t_expect_rc 0 ctl get -n greeting
	expect_out 'hello' "$b: get -n prints the value only"
	t_expect_rc 0 ctl get --no-newline greeting
	expect_out 'hello' "$b: get --no-newline"
	t_expect_rc 0 ctl -q get greeting
	expect_silent "$b: -q get of a present key"

	# From stdin, binary-safe.
	t_expect_rc 0 ctl set bin - <"$T_DIR/bin"
	t_expect_rc 0 ctl get -n bin
	cmp "$T_DIR/bin" "$T_OUT" || t_fail "$b: a binary value differs"
	t_ok "$b: a value with NUL bytes round-trips through stdin"
	t_expect_rc 0 ctl set big - <"$T_DIR/big"
	t_expect_rc 0 ctl get -n big
	cmp "$T_DIR/big" "$T_OUT" || t_fail "$b: a 200 KiB value differs"
	t_ok "$b: 200 KiB round-trip"
	# A trailing newline in the value is part of it.
	t_expect_rc 0 ctl set nl - <"$T_DIR/nl"
	t_expect_rc 0 ctl get -n nl
	expect_out 'line\n' "$b: a stored trailing newline is kept"
	t_expect_rc 0 ctl get nl
	expect_out 'line\n\n' "$b: get adds exactly one newline"
	# Empty is not absent.
	t_expect_rc 0 ctl set empty ''
	t_expect_rc 0 ctl get empty
	expect_out '\n' "$b: an empty value prints one newline"
	t_expect_rc 0 ctl get -n empty
	expect_out '' "$b: get -n of an empty value prints nothing"

	# Missing: exit 1, a note on stderr; -q silent.
	t_expect_rc 1 ctl get nosuchkey
	[ ! -s "$T_OUT" ] || t_fail "$b: get of a missing key printed on stdout"
	[ -s "$T_ERR" ] || t_fail "$b: get of a missing key: no note on stderr"
	t_expect_rc 1 ctl -q get nosuchkey
	expect_silent "$b: -q get of a missing key"

	# --json.
	t_expect_rc 0 ctl --json get greeting
	json_check 'o = json.load(open(sys.argv[1]))
assert o["value"] == "hello", o' "--json get is {\"value\": ...}"
	t_expect_rc 0 ctl --json get bin
	json_check 'o = json.load(open(sys.argv[1]))
want = open(sys.argv[1].rsplit("/", 1)[0] + "/bin", "rb").read()
if "value_base64" in o:
    assert base64.b64decode(o["value_base64"]) == want, o
else:
    assert o["value"].encode("utf-8", "surrogateescape") == want, o
assert "value_base64" in o, "binary value not as value_base64: %r" % o' \
	    "--json get of a binary value has value_base64"

	# ---- TTL --------------------------------------------------------
	t_log "$b: ttl"
	# 1.5 s: long enough for two iomuxctl runs on a loaded sanitizer build.
	t_expect_rc 0 ctl set short v --ttl 1.5
	t_expect_rc 0 ctl ttl short
	t_expect_grep '^[01]\.[0-9]{3}$' "$T_OUT" "$b: ttl prints seconds with 3 decimals"
	ms=$(awk '{ printf "%d", $1 * 1000 }' "$T_OUT")
	[ "${ms:-0}" -gt 0 ] && [ "${ms:-0}" -le 1500 ] ||
	    t_fail "$b: ttl of a 1.5 s key: $(cat "$T_OUT")"
	sleep 1.8
	t_expect_rc 1 ctl get short
	t_expect_rc 1 ctl ttl short
	t_expect_rc 0 ctl ttl greeting
	expect_out '-1\n' "$b: ttl without expiry is -1"
	t_expect_rc 0 ctl set long v --ttl 100
	t_expect_rc 0 ctl ttl long
	t_expect_grep '^(9[0-9]\.[0-9]{3}|100\.000)$' "$T_OUT" "$b: ttl 100"
	t_expect_rc 0 ctl set long v2 --keep-ttl
	t_expect_rc 0 ctl ttl long
	t_expect_grep '^(9[0-9]\.[0-9]{3}|100\.000)$' "$T_OUT" "$b: --keep-ttl"
	t_expect_rc 0 ctl set long v3
	t_expect_rc 0 ctl ttl long
	expect_out '-1\n' "$b: set without --ttl removes the expiry"
	t_expect_rc 0 ctl expire long 1.5
	t_expect_rc 0 ctl ttl long
	t_expect_grep '^1\.[0-9]{3}$' "$T_OUT" "$b: expire 1.5"
	t_expect_rc 0 ctl persist long
	t_expect_rc 0 ctl ttl long
	expect_out '-1\n' "$b: persist"
	t_expect_rc 1 ctl expire nosuchkey 5
	t_expect_rc 1 ctl persist nosuchkey
	t_expect_rc 0 ctl expire long 0.2
	sleep 0.5
	t_expect_rc 1 ctl get long

	# ---- conditional set ------------------------------------------------
	t_log "$b: --nx --xx --if-equals"
	t_expect_rc 0 ctl set c 1 --nx
	t_expect_rc 1 ctl set c 2 --nx
	t_expect_rc 1 ctl -q set c 2 --nx
	expect_silent "$b: -q set --nx conflict"
	t_expect_rc 0 ctl get c
	expect_out '1\n' "$b: a refused --nx changed nothing"
	t_expect_rc 1 ctl set nosuchkey 1 --xx
	t_expect_rc 1 ctl get nosuchkey
	t_expect_rc 0 ctl set c 3 --xx
	t_expect_rc 1 ctl set c 4 --if-equals 1
	t_expect_rc 0 ctl set c 4 --if-equals 3
	t_expect_rc 0 ctl get c
	expect_out '4\n' "$b: --if-equals"
	t_expect_rc 1 ctl set nosuchkey 1 --if-equals ''

	# ---- incr, del, exists, keys ---------------------------------------
	t_log "$b: incr del exists keys"
	t_expect_rc 0 ctl incr n
	expect_out '1\n' "$b: incr of a missing key"
	t_expect_rc 0 ctl incr n 41
	expect_out '42\n' "$b: incr by 41"
	t_expect_rc 0 ctl incr n -50
	expect_out '-8\n' "$b: incr by a negative delta"
	t_expect_rc 0 ctl get n
	expect_out '-8\n' "$b: incr stores decimal text"
	t_expect_rc 4 ctl incr greeting
	[ -s "$T_ERR" ] || t_fail "$b: incr of a non-number: no message"
	t_expect_rc 0 ctl set max 9223372036854775807
	t_expect_rc 4 ctl incr max
	t_expect_rc 0 ctl get max
	expect_out '9223372036854775807\n' "$b: overflow leaves the value"

	t_expect_rc 0 ctl exists greeting bin nosuchkey empty
	expect_out '3\n' "$b: exists counts"
	t_expect_rc 0 ctl del greeting nosuchkey empty
	expect_out '2\n' "$b: del counts"
	t_expect_rc 0 ctl exists greeting
	expect_out '0\n' "$b: exists of a deleted key"
	t_expect_rc 0 ctl del nosuchkey
	expect_out '0\n' "$b: del of a missing key"

	i=0
	: >"$T_DIR/keys.want"
	while [ $i -lt 250 ]; do
		printf 'p:%03d\n' $i >>"$T_DIR/keys.want"
		i=$((i + 1))
	done
	while read -r k; do
		ctl -q set "$k" v || t_fail "$b: set $k"
	done <"$T_DIR/keys.want"
	t_expect_rc 0 ctl set p v
	t_expect_rc 0 ctl set q:001 v
	t_expect_rc 0 ctl keys p:
	sort -u "$T_OUT" >"$T_DIR/keys.got"
	cmp -s "$T_DIR/keys.want" "$T_DIR/keys.got" || {
		diff "$T_DIR/keys.want" "$T_DIR/keys.got" | head -20 >&2
		t_fail "$b: keys p: does not list exactly the 250 p: keys"
	}
	t_ok "$b: keys p: lists every key"
	t_expect_rc 0 ctl keys p: --limit 7
	sort -u "$T_OUT" >"$T_DIR/keys.got"
	cmp -s "$T_DIR/keys.want" "$T_DIR/keys.got" ||
	    t_fail "$b: keys p: --limit 7 does not list every key once"
	t_ok "$b: keys --limit 7 iterates every cursor"
	t_expect_rc 0 ctl keys
	n=$(sort -u "$T_OUT" | wc -l)
	[ "$n" -eq $((250 + 1 + 1 + 6)) ] || {
		sort "$T_OUT" >&2
		t_fail "$b: keys without a prefix listed $n keys"
	}
	t_ok "$b: keys lists all $n keys"

	# ---- wait ---------------------------------------------------------
	t_log "$b: wait"
	expect_timeout 280 2000 "wait --timeout 0.3" wait flag --timeout 0.3
	t_expect_rc 1 tctl -q wait flag --timeout 0.1
	expect_silent "$b: -q wait timeout"
	bg_run wait timeout 15 "$CTL" -s "$T_SOCK" wait flag --timeout 10
	wait_stat blocked_clients 1
	t_expect_rc 0 ctl set flag go
	bg_done 5 0 "woken wait"
	expect_bg_out 'go\n' "$b: wait woken by a set from another process"
	t_expect_rc 0 tctl wait flag --timeout 0.1
	expect_out 'go\n' "$b: wait on a present key answers at once"

	# ---- queues -------------------------------------------------------
	t_log "$b: queues"
	t_expect_rc 0 ctl qlen jobs
	expect_out '0\n' "$b: qlen of a missing queue"
	t_expect_rc 1 ctl peek jobs
	t_expect_rc 1 ctl pop jobs
	t_expect_rc 0 ctl push jobs one two three
	t_expect_rc 0 ctl qlen jobs
	expect_out '3\n' "$b: qlen after push of three"
	t_expect_rc 0 ctl peek jobs
	expect_out 'one\n' "$b: peek"
	t_expect_rc 0 ctl pop jobs
	expect_out 'one\n' "$b: pop takes the head"
	t_expect_rc 0 ctl push jobs - <"$T_DIR/bin"
	t_expect_rc 0 ctl pop -n jobs
	expect_out 'two' "$b: pop -n"
	t_expect_rc 0 ctl pop jobs
	expect_out 'three\n' "$b: pop keeps push order"
	t_expect_rc 0 ctl pop -n jobs
	cmp "$T_DIR/bin" "$T_OUT" || t_fail "$b: a binary queue item differs"
	t_ok "$b: a binary item from stdin round-trips"
	expect_timeout 280 1300 "pop --timeout 0.3 on an empty queue" \
	    pop jobs --timeout 0.3
	t_ok "$b: pop --timeout 0.3 gave up after $dt ms"
	bg_run pop timeout 15 "$CTL" -s "$T_SOCK" pop jobs --timeout 10
	wait_stat blocked_clients 1
	t_expect_rc 0 ctl push jobs late
	bg_done 5 0 "woken pop"
	expect_bg_out 'late\n' "$b: pop woken by a push from another process"
	t_expect_rc 0 ctl qlen jobs
	expect_out '0\n' "$b: the pushed item went to the waiter"

	# ---- pub/sub ------------------------------------------------------
	t_log "$b: pub/sub"
	t_expect_rc 0 ctl pub news nobody
	expect_out '0\n' "$b: pub with no subscriber"
	bg_run sub timeout 15 "$CTL" -s "$T_SOCK" sub -c 2 news
	wait_stat subscribers 1
	t_expect_rc 0 ctl pub news first
	expect_out '1\n' "$b: pub prints the number of receivers"
	printf 'second' | ctl pub news - >"$T_OUT" 2>"$T_ERR" ||
	    t_fail "$b: pub from stdin"
	expect_out '1\n' "$b: pub - reads the message from stdin"
	bg_done 5 0 "sub -c 2"
	expect_bg_out 'first\nsecond\n' "$b: sub -c 2 printed two payloads"
	wait_stat subscribers 0

	# --json, with a pattern.
	bg_run subj timeout 15 "$CTL" -s "$T_SOCK" --json sub -p -c 2 'jobs.*'
	wait_stat subscribers 1
	t_expect_rc 0 ctl pub jobs.1 'say "hi"'
	expect_out '1\n' "$b: pub to a pattern subscriber"
	t_expect_rc 0 ctl pub other x
	expect_out '0\n' "$b: pub to a channel nobody matches"
	t_expect_rc 0 ctl pub jobs. 'ünï'
	bg_done 5 0 "sub --json -p"
	cp "$T_DIR/subj.out" "$T_OUT"
	json_check 'lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert len(lines) == 2, lines
a, b = [json.loads(l) for l in lines]
assert a["channel"] == "jobs.1" and a["payload"] == "say \"hi\"" and a["pattern"] == "jobs.*", a
assert b["channel"] == "jobs." and b["payload"] == "\u00fcn\u00ef" and b["pattern"] == "jobs.*", b' \
	    "sub --json prints one object per line with channel, payload, pattern"
	wait_stat subscribers 0

	# EPIPE: "sub ch | head -1" ends quietly.
	rm -f "$T_DIR/epipe.rc" "$T_DIR/epipe.out" "$T_DIR/epipe.err"
	( tctl sub pipe 2>"$T_DIR/epipe.err"; echo $? >"$T_DIR/epipe.rc" ) |
	    head -1 >"$T_DIR/epipe.out" &
	hpid=$!
	BG="$BG $hpid"
	wait_stat subscribers 1
	i=0
	while [ $i -lt 50 ] && [ ! -s "$T_DIR/epipe.rc" ]; do
		ctl -q pub pipe "message $i"
		i=$((i + 1))
		sleep 0.1
	done
	t_wait_exit "$hpid" 5 || {
		printf 'published %s messages; head printed:\n' "$i" >&2
		cat "$T_DIR/epipe.out" "$T_DIR/epipe.err" >&2
		stat_field subscribers >&2
		t_fail "$b: sub | head -1 still running"
	}
	wait "$hpid"
	[ "$(cat "$T_DIR/epipe.out")" = "message 0" ] ||
	    t_fail "$b: sub | head -1 printed '$(cat "$T_DIR/epipe.out")'"
	[ "$(cat "$T_DIR/epipe.rc")" = 0 ] ||
	    t_fail "$b: sub | head -1: sub exited $(cat "$T_DIR/epipe.rc")"
	[ ! -s "$T_DIR/epipe.err" ] || {
		cat "$T_DIR/epipe.err" >&2
		t_fail "$b: sub | head -1 wrote to stderr"
	}
	t_ok "$b: sub | head -1 ends quietly with exit 0"
	wait_stat subscribers 0

	# SIGTERM ends sub with exit 0.
	bg_run subt "$CTL" -s "$T_SOCK" sub quiet
	wait_stat subscribers 1
	kill -TERM "$BGPID"
	bg_done 3 0 "sub after SIGTERM"
	t_ok "$b: sub ends with 0 on SIGTERM"
	wait_stat subscribers 0

	expect_timeout 0 2000 "sub --timeout 0.3" sub --timeout 0.3 quiet
	[ ! -s "$T_OUT" ] || t_fail "$b: sub --timeout printed a payload"

	# ---- lock ---------------------------------------------------------
	t_log "$b: lock"
	t_expect_rc 7 tctl lock job -- sh -c 'exit 7'
	t_expect_rc 0 tctl lock job -- true
	t_expect_rc 0 tctl lock job -- sh -c 'echo in; echo err >&2'
	expect_out 'in\n' "$b: lock passes the command's stdout through"
	t_expect_rc 2 ctl lock job
	wait_stat locks_held 0

	bg_run hold timeout 15 "$CTL" -s "$T_SOCK" lock job -- sleep 2
	wait_stat locks_held 1
	expect_timeout 280 1500 "lock --timeout 0.3 on a held lock" \
	    lock job --timeout 0.3 -- true
	t_expect_rc 1 tctl -q lock job --timeout 0.1 -- true
	expect_silent "$b: -q lock timeout"
	# The next one in line gets it when the holder's command ends.
	t_expect_rc 0 tctl lock job --timeout 5 -- sh -c 'echo got it'
	expect_out 'got it\n' "$b: the waiter ran its command"
	bg_done 5 0 "the holder (lock -- sleep 2)"

	# SIGTERM to "lock NAME -- CMD" reaches CMD.
	# Not under timeout(1): BGPID must be iomuxctl itself.
	rm -f "$T_DIR/child.pid"
	bg_run term "$CTL" -s "$T_SOCK" lock job -- \
	    sh -c 'echo $$ >"$1"; exec sleep 5' sh "$T_DIR/child.pid"
	wait_stat locks_held 1
	t_poll 5 test -s "$T_DIR/child.pid"
	cpid=$(cat "$T_DIR/child.pid")
	[ -n "$cpid" ] && t_alive "$cpid" || t_fail "$b: the locked command did not start"
	t0=$(t_now_ms)
	kill -TERM "$BGPID"
	wait_bg "$BGPID" 3 "lock -- sleep 5 after SIGTERM"
	dt=$(( $(t_now_ms) - t0 ))
	t_wait_exit "$cpid" 2 || t_fail "$b: SIGTERM was not forwarded: sleep $cpid still runs"
	expect_bg_rc 143 "lock after its command died of SIGTERM"
	[ "$dt" -lt 2000 ] || t_fail "$b: lock took $dt ms to end after SIGTERM"
	t_ok "$b: SIGTERM forwarded to the command (exit $RC after $dt ms)"
	wait_stat locks_held 0

	# The work queue of iomuxctl(1) EXAMPLES, as written there: two
	# workers run the same pop loop; every job is done exactly once.
	cat >"$T_DIR/worker.sh" <<'EOW'
while job=$(iomuxctl pop jobs --timeout 1); do
	echo "$job"
done
EOW
	mkdir -p "$T_DIR/wbin"
	ln -sf "$CTL" "$T_DIR/wbin/iomuxctl"
	for w in 1 2; do
		bg_run "worker$w" env PATH="$T_DIR/wbin:$PATH" \
		    IOMUXD_SOCKET="$T_SOCK" sh "$T_DIR/worker.sh"
		eval "wpid$w=\$BGPID"
	done
	i=1
	while [ "$i" -le 40 ]; do
		ctl -q push jobs -- "job $i" || t_fail "$b: push job $i"
		i=$((i + 1))
	done
	wait_bg "$wpid1" 10 "worker 1"
	wait_bg "$wpid2" 10 "worker 2"
	sort "$T_DIR/worker1.out" "$T_DIR/worker2.out" >"$T_DIR/done"
	i=1
	while [ "$i" -le 40 ]; do
		echo "job $i"
		i=$((i + 1))
	done | sort >"$T_DIR/want"
	cmp -s "$T_DIR/want" "$T_DIR/done" || {
		diff "$T_DIR/want" "$T_DIR/done" >&2
		t_fail "$b: the two workers did not do every job exactly once"
	}
	t_ok "$b: the man page's two workers did each of 40 jobs once ($(wc -l <"$T_DIR/worker1.out") and $(wc -l <"$T_DIR/worker2.out"))"

	t_expect_rc 0 ctl --json exists bin nosuchkey
	json_check 'o = json.load(open(sys.argv[1]))
assert o == {"count": 1}, o' "--json exists is {\"count\": N}"

	# A subscriber whose daemon goes away: exit 3.
	bg_run subg timeout 15 "$CTL" -s "$T_SOCK" sub gone
	wait_stat subscribers 1
	t_stop_daemon || t_fail "$b: stop (status $T_RC)"
	bg_done 5 3 "sub after the daemon stopped"
	[ -s "$T_DIR/subg.err" ] || t_fail "$b: sub said nothing about the lost connection"
	t_ok "$b: sub exits 3 when the connection is lost"
done

t_ok "hub.sh: all backends passed"
exit 0
