#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The iomuxd developers
#
# limits.sh: iomuxctl and iomuxd agree on the protocol's per-request
# limits, per backend, at both sides of each boundary: "keys --limit"
# takes 1 to 1000 (IOMUX_KEYS_LIMIT_MAX) and the daemon accepts 1000;
# "push" takes up to 1023 values (IOMUX_PUSH_VALUES_MAX: the queue name
# and its values fill the 1024 arguments of a frame) and the daemon
# stores them all; one more is a usage error that names the limit, and
# nothing is sent.
#
# Exit status: 0 pass, 77 skip, 1 fail.

. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_need_binaries
t_tmpdir

# N words "v1 v2 ... vN".
words()
{
	seq -f 'v%g' 1 "$1" | tr '\n' ' '
}

# expect RC WHAT CMD...: as t_expect_rc, but named by WHAT, not by a
# command line of a thousand words.
expect()
{
	e_rc=$1
	e_what=$2
	shift 2
	"$@" >"$T_OUT" 2>"$T_ERR"
	e_got=$?
	[ "$e_got" -eq "$e_rc" ] || {
		cat "$T_OUT" "$T_ERR" >&2
		t_fail "$e_what: exit $e_got, expected $e_rc"
	}
}

for b in $T_BACKENDS; do
	t_log "=== backend $b"
	T_SOCK=$T_DIR/$b.sock
	t_start_daemon "$b" || t_fail "$b: start"
	ctl()
	{
		"$IOMUXCTL" -s "$T_SOCK" -t 10 "$@"
	}

	# ---- KEYS: --limit 1..1000 ------------------------------------------
	# The daemon refuses a limit over its maximum with ELIMIT (exit 4).
	printf 'k1\nk2\nk3\n' >"$T_DIR/keys.want"
	while read -r k; do
		ctl set "$k" x >/dev/null || t_fail "$b: set $k"
	done <"$T_DIR/keys.want"
	expect 0 "$b: keys --limit 1000" ctl keys --limit 1000
	sort "$T_OUT" >"$T_DIR/keys.got"
	cmp -s "$T_DIR/keys.got" "$T_DIR/keys.want" ||
	    t_fail "$b: keys --limit 1000 did not list the keys"
	t_ok "$b: keys --limit 1000 is accepted by the daemon"
	expect 2 "$b: keys --limit 1001" ctl keys --limit 1001
	t_expect_grep '1000' "$T_ERR" "$b: --limit 1001 is refused, naming 1000"
	expect 2 "$b: keys --limit 0" ctl keys --limit 0

	# ---- PUSH: up to 1023 values ------------------------------------------
	# shellcheck disable=SC2046 # one argument per value
	expect 0 "$b: push of 1023 values" ctl push q $(words 1023)
	t_expect_grep '^1023$' "$T_OUT" "$b: push of 1023 values stored them all"
	# shellcheck disable=SC2046
	expect 2 "$b: push of 1024 values" ctl push q $(words 1024)
	t_expect_grep 'at most 1023 values' "$T_ERR" \
	    "$b: push of 1024 values is refused, naming 1023"
	expect 0 "$b: qlen" ctl qlen q
	t_expect_grep '^1023$' "$T_OUT" "$b: the refused push sent nothing"

	t_stop_daemon || t_fail "$b: stop (status $T_RC)"
done

t_ok "limits.sh: all backends passed"
exit 0
