#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The iomuxd developers
#
# limits.sh: the protocol's per-request limits are defined once, in
# proto/iomux-proto.h, and everything agrees with that definition. The
# numbers come from the harness (IOMUX_KEYS_LIMIT_MAX and the others,
# which configure computes from the header), never from this file:
#  1. iomuxctl and iomuxd, per backend, at both sides of each boundary:
#     "keys --limit" takes 1 to IOMUX_KEYS_LIMIT_MAX and the daemon
#     accepts that many; "push" takes up to IOMUX_PUSH_VALUES_MAX values
#     (the queue name and its values fill the IOMUX_ARGS_MAX arguments of
#     a frame) and the daemon stores them all; one more is a usage error
#     that names the limit, and nothing is sent;
#  2. the built man pages state those numbers and no placeholder is left;
#  3. the built bash completion asks for IOMUX_KEYS_LIMIT_MAX keys, and
#     (when bash is installed) completes key names from a live daemon.
#
# Exit status: 0 pass, 77 skip, 1 fail.

. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_need_binaries
t_tmpdir

for v in IOMUX_ARGS_MAX IOMUX_KEYS_LIMIT_DEFAULT IOMUX_KEYS_LIMIT_MAX \
    IOMUX_PUSH_VALUES_MAX; do
	eval "n=\${$v:-}"
	case $n in
	''|*[!0-9]*)
		t_fail "$v is '$n', not a number: run me from make check" ;;
	esac
done
KMAX=$IOMUX_KEYS_LIMIT_MAX
PMAX=$IOMUX_PUSH_VALUES_MAX
[ "$PMAX" -eq $((IOMUX_ARGS_MAX - 1)) ] ||
    t_fail "IOMUX_PUSH_VALUES_MAX $PMAX is not IOMUX_ARGS_MAX - 1"
BUILD=${top_builddir:-$(dirname "$0")/..}

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

# has FILE TEXT WHAT: FILE contains the fixed string TEXT.
has()
{
	grep -qF -- "$2" "$1" || t_fail "$3: '$2' not in $1"
	t_ok "$3"
}

# ---- 1. iomuxctl and iomuxd ------------------------------------------------
for b in $T_BACKENDS; do
	t_log "=== backend $b"
	T_SOCK=$T_DIR/$b.sock
	t_start_daemon "$b" || t_fail "$b: start"
	ctl()
	{
		"$IOMUXCTL" -s "$T_SOCK" -t 10 "$@"
	}

	# ---- KEYS: --limit 1..KMAX ------------------------------------------
	# The daemon refuses a limit over its maximum with ELIMIT (exit 4).
	printf 'k1\nk2\nk3\n' >"$T_DIR/keys.want"
	while read -r k; do
		ctl set "$k" x >/dev/null || t_fail "$b: set $k"
	done <"$T_DIR/keys.want"
	expect 0 "$b: keys --limit $KMAX" ctl keys --limit "$KMAX"
	sort "$T_OUT" >"$T_DIR/keys.got"
	cmp -s "$T_DIR/keys.got" "$T_DIR/keys.want" ||
	    t_fail "$b: keys --limit $KMAX did not list the keys"
	t_ok "$b: keys --limit $KMAX is accepted by the daemon"
	expect 2 "$b: keys --limit $((KMAX + 1))" ctl keys --limit $((KMAX + 1))
	t_expect_grep "$KMAX" "$T_ERR" \
	    "$b: --limit $((KMAX + 1)) is refused, naming $KMAX"
	expect 2 "$b: keys --limit 0" ctl keys --limit 0

	# ---- PUSH: up to PMAX values ------------------------------------------
	# shellcheck disable=SC2046 # one argument per value
	expect 0 "$b: push of $PMAX values" ctl push q $(words "$PMAX")
	t_expect_grep "^$PMAX\$" "$T_OUT" \
	    "$b: push of $PMAX values stored them all"
	# shellcheck disable=SC2046
	expect 2 "$b: push of $((PMAX + 1)) values" \
	    ctl push q $(words $((PMAX + 1)))
	t_expect_grep "at most $PMAX values" "$T_ERR" \
	    "$b: push of $((PMAX + 1)) values is refused, naming $PMAX"
	expect 0 "$b: qlen" ctl qlen q
	t_expect_grep "^$PMAX\$" "$T_OUT" "$b: the refused push sent nothing"

	t_stop_daemon || t_fail "$b: stop (status $T_RC)"
done

# ---- 2. the man pages --------------------------------------------------------
man1=$BUILD/man/iomuxctl.1
man7=$BUILD/man/iomuxd-protocol.7
has "$man1" "default $IOMUX_KEYS_LIMIT_DEFAULT, at most $KMAX" \
    "iomuxctl(1) keys: default $IOMUX_KEYS_LIMIT_DEFAULT, at most $KMAX"
has "$man1" "Append up to $PMAX values" "iomuxctl(1) push: up to $PMAX values"
has "$man7" "from 1 to $KMAX" "iomuxd-protocol(7) KEYS: 1 to $KMAX"
has "$man7" "default $IOMUX_KEYS_LIMIT_DEFAULT" \
    "iomuxd-protocol(7) KEYS: default $IOMUX_KEYS_LIMIT_DEFAULT"
has "$man7" "up to $PMAX of them" "iomuxd-protocol(7) PUSH: up to $PMAX"
has "$man7" "At most $IOMUX_ARGS_MAX arguments per frame" \
    "iomuxd-protocol(7) Limits: $IOMUX_ARGS_MAX arguments"
for f in "$BUILD"/man/*.[1-8] "$BUILD/cli/completion/iomuxctl"; do
	! grep -n '@[A-Za-z_]*@' "$f" >&2 ||
	    t_fail "$f: a placeholder was not substituted"
done
t_ok "no placeholder is left in the man pages and the completion"

# ---- 3. the bash completion ----------------------------------------------------
comp=$BUILD/cli/completion/iomuxctl
has "$comp" "keys --limit $KMAX " "the completion asks for $KMAX keys"
if command -v bash >/dev/null 2>&1; then
	T_SOCK=$T_DIR/comp.sock
	t_start_daemon "${T_BACKENDS%% *}" || t_fail "start"
	while read -r k; do
		"$IOMUXCTL" -s "$T_SOCK" -t 10 set "$k" x >/dev/null ||
		    t_fail "set $k"
	done <"$T_DIR/keys.want"
	# "iomuxctl -s SOCK get k<TAB>", with the built iomuxctl on PATH.
	# The completion waits 0.5 s for the daemon: retry on a busy host.
	i=0
	while :; do
		PATH=$(dirname "$IOMUXCTL"):$PATH bash -c '
		    . "$1" || exit 1
		    COMP_WORDS=(iomuxctl -s "$2" get k)
		    COMP_CWORD=4
		    _iomuxctl
		    printf "%s\n" "${COMPREPLY[@]}"' sh "$comp" "$T_SOCK" |
		    sort >"$T_DIR/comp.got"
		cmp -s "$T_DIR/comp.got" "$T_DIR/keys.want" && break
		i=$((i + 1))
		[ $i -lt 5 ] || {
			cat "$T_DIR/comp.got" >&2
			t_fail "completing 'get k' did not offer k1 k2 k3"
		}
		sleep 1
	done
	t_ok "the completion offers the daemon's keys"
	t_stop_daemon || t_fail "stop (status $T_RC)"
else
	t_log "bash not found: the completion is not run"
fi

t_ok "limits.sh: all backends passed"
exit 0
