#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2025 The iomuxd developers
#
# The built systemd units: "systemd-analyze verify" must print nothing
# (it exits 0 on many errors, e.g. an unknown Type=, so its output is the
# gate), the system service must stay hardened (security exposure <= 2.0)
# and the sysusers entry must parse.  verify needs ExecStart= to exist, so
# the units are checked as copies whose ExecStart= points at the built
# daemon.  Exit 77 without systemd-analyze.

# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

SA=$(command -v systemd-analyze 2>/dev/null) ||
    t_skip "systemd-analyze not found"
[ -n "${top_builddir:-}" ] || t_fail "top_builddir not set (run via make check)"
[ -x "$IOMUXD" ] || t_fail "IOMUXD ($IOMUXD) is not an executable"

sysunits="iomuxd.socket iomuxd-tcp.socket iomuxd.service"
userunits="iomuxd.socket iomuxd.service"

t_tmpdir
mkdir "$T_DIR/system" "$T_DIR/user" "$T_DIR/xdg" || t_fail "mkdir"
chmod 0700 "$T_DIR/xdg"

# Copy a built unit, pointing ExecStart= at the built daemon.  Everything
# else stays as installed.
copy_unit()
{
	[ -f "$1" ] || t_fail "built unit $1 missing"
	grep -q '@[a-zA-Z_]*@' "$1" &&
	    t_fail "$1: unsubstituted @variable@: $(grep '@[a-zA-Z_]*@' "$1")"
	sed -e "s|^ExecStart=[^ ]*/iomuxd|ExecStart=$IOMUXD|" \
	    -e "s|^ExecPaths=[^ ]*/iomuxd|ExecPaths=$IOMUXD|" "$1" >"$2" ||
	    t_fail "copy $1"
}

for u in $sysunits; do
	copy_unit "$top_builddir/systemd/$u" "$T_DIR/system/$u"
done
for u in $userunits; do
	copy_unit "$top_builddir/systemd/user/$u" "$T_DIR/user/$u"
done
grep -q "^ExecStart=$IOMUXD -f\$" "$T_DIR/system/iomuxd.service" ||
    t_fail "ExecStart= of iomuxd.service is not '<sbindir>/iomuxd -f'"

# --man=no: the pages are not installed yet; man-lint.sh checks them.
t_log "systemd-analyze verify (system): $sysunits"
# shellcheck disable=SC2086 # word lists
(cd "$T_DIR/system" && "$SA" verify --man=no $sysunits) \
    >"$T_DIR/verify.sys" 2>&1
rc=$?
if [ $rc -ne 0 ] || [ -s "$T_DIR/verify.sys" ]; then
	cat "$T_DIR/verify.sys" >&2
	t_fail "systemd-analyze verify (system units): exit $rc, output above"
fi
t_ok "verify system units: silent"

# A user manager needs XDG_RUNTIME_DIR for %t.
t_log "systemd-analyze --user verify: $userunits"
# shellcheck disable=SC2086 # word lists
(cd "$T_DIR/user" && XDG_RUNTIME_DIR=$T_DIR/xdg \
    "$SA" --user verify --man=no $userunits) >"$T_DIR/verify.user" 2>&1
rc=$?
if [ $rc -ne 0 ] || [ -s "$T_DIR/verify.user" ]; then
	cat "$T_DIR/verify.user" >&2
	t_fail "systemd-analyze --user verify: exit $rc, output above"
fi
t_ok "verify user units: silent"

# --threshold is on a 0..100 scale: 20 means an exposure of 2.0.
t_log "systemd-analyze security --offline=true --threshold=20 iomuxd.service"
if ! (cd "$T_DIR/system" && "$SA" security --offline=true --threshold=20 \
    ./iomuxd.service) >"$T_DIR/security" 2>&1; then
	cat "$T_DIR/security" >&2
	t_fail "iomuxd.service exposure above 2.0"
fi
t_ok "$(grep 'Overall exposure' "$T_DIR/security")"

# The user unit cannot use namespaces; still guard against regressions.
if ! (cd "$T_DIR/user" && XDG_RUNTIME_DIR=$T_DIR/xdg "$SA" --user \
    security --offline=true --threshold=70 ./iomuxd.service) \
    >"$T_DIR/security.user" 2>&1; then
	cat "$T_DIR/security.user" >&2
	t_fail "user iomuxd.service exposure above 7.0"
fi
t_ok "user unit: $(grep 'Overall exposure' "$T_DIR/security.user")"

SU=$(command -v systemd-sysusers 2>/dev/null)
if [ -n "$SU" ]; then
	# An empty --root, so the host's users don't matter and nothing is
	# written.  The path must be absolute.
	mkdir -p "$T_DIR/root/etc"
	if ! "$SU" --root="$T_DIR/root" --dry-run \
	    "$top_srcdir/systemd/iomuxd.sysusers" >"$T_DIR/sysusers" 2>&1; then
		cat "$T_DIR/sysusers" >&2
		t_fail "systemd-sysusers --dry-run iomuxd.sysusers"
	fi
	t_expect_grep "Creating user 'iomuxd'" "$T_DIR/sysusers" \
	    "sysusers creates user iomuxd"
	t_expect_grep "Creating group 'iomuxd'" "$T_DIR/sysusers" \
	    "sysusers creates group iomuxd"
else
	t_log "systemd-sysusers not found; sysusers entry not checked"
fi
exit 0
