#!/bin/bash
# SPDX-License-Identifier: ISC
# Copyright (c) 2025 The iomuxd developers
#
# End-to-end test of the shipped units under a real systemd (PID 1 in a
# systemd-nspawn container booting a minimal Debian 12).  Not part of
# "make check" (it needs root, a mirror and ~250 MB); .ci/run runs it.
#
#   tests/e2e-nspawn.sh
#
# What it checks, as shipped (the units are not modified):
#   - iomuxd.socket listens; iomuxd.service is not started before the
#     first connection; "iomuxctl status" activates it (activation: systemd);
#   - PID 1 saw READY=1 (ActiveState=active for Type=notify) and a STATUS=;
#   - the sandbox is in force (user iomuxd, no capabilities, seccomp,
#     no_new_privs), the socket is 0660 root:iomuxd;
#   - after SIGKILL of the service the socket unit keeps listening and the
#     next "iomuxctl status" is served by a new instance;
#   - "systemctl reload" keeps the same process and it still answers;
#   - iomuxd-tcp.socket: the loopback TCP listener is passed in and works
#     despite PrivateNetwork=yes and RestrictAddressFamilies=AF_UNIX;
#   - access: a user in group iomuxd reads and writes over UNIX and, with
#     the token in /run/iomuxd/tcp/token (0640 iomuxd:iomuxd), over TCP; a
#     user outside it is refused by the socket's mode and, without the
#     token, gets nothing over TCP;
#   - "systemctl stop" ends the service cleanly, the socket stays;
#   - the daemon sends watchdog pings (WatchdogSec= shortened to 1 s);
#   - the per-user units, under a user manager (a lingering user):
#     $XDG_RUNTIME_DIR/iomuxd/iomuxd.sock 0600, activation on first use.
#
# Environment:
#   IOMUXD_E2E_CACHE   where the pristine rootfs is kept between runs
#                      (default /var/cache/iomuxd-e2e; cold ~40-80 s)
#   IOMUXD_E2E_STAGE   an already installed tree (make install DESTDIR=,
#                      --prefix=/usr) to use instead of building one
#   IOMUXD_E2E_MIRROR  Debian mirror for debootstrap (default: from apt)
#   IOMUXD_E2E_KEEP=1  keep the work directory (for debugging)
# Exit: 0 pass, 1 fail, 77 skip (not root, no nspawn/debootstrap/nsenter,
# no network to the mirror).

set -u
export LC_ALL=C

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${IOMUXD_E2E_CACHE:-/var/cache/iomuxd-e2e}
ROOTFS_CACHE=$CACHE/rootfs
MARKER=.iomuxd-e2e-complete
# procps: /bin/kill for ExecReload=; libpam-systemd: user managers (the
# per-user units).  Changing the list rebuilds the cache.
INCLUDE=systemd,systemd-sysv,dbus,libsystemd0,procps,libpam-systemd
MACHINE=iomuxd-e2e-$$
T0=$(date +%s)
PASS=0
WORK=
NSPID=
LEADER=

say()	{ printf '[e2e %3ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
ok()	{ PASS=$((PASS + 1)); say "ok: $*"; }
skip()	{ say "SKIP: $*"; exit 77; }
fail()
{
	say "FAIL: $*"
	if [ -n "$LEADER" ]; then
		say "--- iomuxd journal and unit state:"
		C journalctl --no-pager -n 60 -u iomuxd.service -u iomuxd.socket \
		    -u iomuxd-tcp.socket 2>&1 | sed -e 's/^/    /'
		C systemctl --no-pager status iomuxd.socket iomuxd.service \
		    2>&1 | sed -e 's/^/    /'
	fi
	exit 1
}

# Run a command inside the container, bounded.  The environment is reset
# so that nothing from the host leaks in.
C()
{
	timeout "${CTIMEOUT:-30}" nsenter -t "$LEADER" -a \
	    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}

# shellcheck disable=SC2317 # called from the EXIT trap
cleanup()
{
	rc=$?
	trap - EXIT INT TERM
	if [ -n "$NSPID" ] && kill -0 "$NSPID" 2>/dev/null; then
		say "cleanup: stopping the container"
		[ -n "$LEADER" ] && CTIMEOUT=10 C systemctl --no-block poweroff \
		    >/dev/null 2>&1
		n=0
		while kill -0 "$NSPID" 2>/dev/null && [ "$n" -lt 150 ]; do
			sleep 0.2; n=$((n + 1))
		done
		if kill -0 "$NSPID" 2>/dev/null; then
			# nspawn turns SIGTERM into a container poweroff.
			kill -TERM "$NSPID" 2>/dev/null; sleep 3
			kill -KILL "$NSPID" 2>/dev/null
		fi
		wait "$NSPID" 2>/dev/null
	fi
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		if [ -n "${IOMUXD_E2E_KEEP:-}" ]; then
			say "kept $WORK"
		else
			rm -rf "$WORK"
		fi
	fi
	exit "$rc"
}

# --- preconditions ------------------------------------------------------
[ "$(id -u)" -eq 0 ] || skip "needs root (systemd-nspawn, debootstrap)"
for tool in systemd-nspawn nsenter timeout; do
	command -v $tool >/dev/null 2>&1 ||
	    skip "$tool not found (apt-get install systemd-container util-linux)"
done
if [ -z "${container:-}" ] && [ -e /run/host/container-manager ]; then
	skip "already inside a container; nested nspawn is not attempted"
fi

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. pristine rootfs, cached -----------------------------------------
mirror()
{
	if [ -n "${IOMUXD_E2E_MIRROR:-}" ]; then
		echo "$IOMUXD_E2E_MIRROR"; return
	fi
	# deb822 "URIs:" first, then one-line "deb URL"; skip security.
	{
		sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources \
		    2>/dev/null | tr ' ' '\n'
		sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' \
		    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
	} | grep -E '^https?://' | grep -v -- '-security' | head -n 1
}

if [ "$(cat "$ROOTFS_CACHE/$MARKER" 2>/dev/null)" = "$INCLUDE" ]; then
	say "rootfs: cached at $ROOTFS_CACHE"
else
	command -v debootstrap >/dev/null 2>&1 ||
	    skip "debootstrap not found (apt-get install debootstrap)"
	M=$(mirror)
	[ -n "$M" ] || M=http://deb.debian.org/debian
	hostport=${M#*://}; hostport=${hostport%%/*}
	host=${hostport%%:*}; port=80
	case $M in https://*) port=443 ;; esac
	case $hostport in *:*) port=${hostport##*:} ;; esac
	timeout 10 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null ||
	    skip "mirror $M not reachable ($host:$port)"
	say "rootfs: debootstrap bookworm from $M (cold, about a minute)"
	mkdir -p "$CACHE" || fail "mkdir $CACHE"
	rm -rf "$ROOTFS_CACHE.new" "$ROOTFS_CACHE"
	if ! timeout 900 debootstrap --variant=minbase \
	    --include="$INCLUDE" \
	    bookworm "$ROOTFS_CACHE.new" "$M" >"$CACHE/debootstrap.log" 2>&1; then
		tail -n 20 "$CACHE/debootstrap.log"
		rm -rf "$ROOTFS_CACHE.new"
		fail "debootstrap failed (log: $CACHE/debootstrap.log)"
	fi
	echo "$INCLUDE" >"$ROOTFS_CACHE.new/$MARKER"
	mv "$ROOTFS_CACHE.new" "$ROOTFS_CACHE" || fail "mv rootfs"
	say "rootfs: done"
fi

WORK=$(mktemp -d /var/tmp/iomuxd-e2e.XXXXXX) || fail "mktemp"
ROOT=$WORK/rootfs
cp -a "$ROOTFS_CACHE" "$ROOT" || fail "copy rootfs"
say "rootfs: working copy in $ROOT"

# --- 2. build and install into the rootfs -------------------------------
STAGE=${IOMUXD_E2E_STAGE:-}
if [ -z "$STAGE" ]; then
	[ -x "$SRCDIR/configure" ] ||
	    fail "$SRCDIR/configure missing: run autoreconf -fi first"
	STAGE=$WORK/stage
	mkdir "$WORK/build" || fail "mkdir build"
	say "build: configure --prefix=/usr, make, make install DESTDIR=stage"
	(cd "$WORK/build" &&
	    "$SRCDIR/configure" -q --prefix=/usr --sysconfdir=/etc \
	    --localstatedir=/var --runstatedir=/run \
	    --with-systemdsystemunitdir=/usr/lib/systemd/system \
	    --with-systemduserunitdir=/usr/lib/systemd/user \
	    --with-sysusersdir=/usr/lib/sysusers.d \
	    --with-bashcompdir=/usr/share/bash-completion/completions &&
	    make -s -j"$(nproc)" &&
	    make -s install DESTDIR="$STAGE") >"$WORK/build.log" 2>&1 || {
		tail -n 30 "$WORK/build.log"
		fail "build/install failed (log above)"
	}
fi
for f in usr/sbin/iomuxd usr/bin/iomuxctl usr/lib/systemd/system/iomuxd.socket \
    usr/lib/systemd/system/iomuxd.service usr/lib/systemd/system/iomuxd-tcp.socket \
    usr/lib/systemd/user/iomuxd.socket usr/lib/systemd/user/iomuxd.service \
    usr/lib/sysusers.d/iomuxd.conf; do
	[ -e "$STAGE/$f" ] || fail "staged tree lacks /$f"
done
cp -a "$STAGE/." "$ROOT/" || fail "copy staged tree into rootfs"
grep -q '^ExecStart=/usr/sbin/iomuxd' "$ROOT/usr/lib/systemd/system/iomuxd.service" ||
    fail "installed iomuxd.service does not run /usr/sbin/iomuxd"
# The user and group the units name (PID 1 resolves SocketGroup= when it
# creates the socket), and the library cache for libiomux.
systemd-sysusers --root="$ROOT" "$ROOT/usr/lib/sysusers.d/iomuxd.conf" \
    >"$WORK/sysusers.log" 2>&1 || {
	cat "$WORK/sysusers.log"; fail "systemd-sysusers --root"; }
ldconfig -r "$ROOT" || fail "ldconfig -r"
# An ordinary user with lingering, so that its user manager starts at boot
# and the per-user units can be tried.
chroot "$ROOT" useradd -m -u 4242 -s /bin/sh e2e || fail "useradd e2e"
# e2e may use the system socket (group iomuxd); outsider may not.
chroot "$ROOT" usermod -a -G iomuxd e2e || fail "usermod e2e"
chroot "$ROOT" useradd -m -u 4343 -s /bin/sh outsider ||
    fail "useradd outsider"
{ mkdir -p "$ROOT/var/lib/systemd/linger" &&
    touch "$ROOT/var/lib/systemd/linger/e2e"; } || fail "linger e2e"
ok "installed into the rootfs: /usr/sbin/iomuxd, /usr/bin/iomuxctl, units"

# --- 3. boot ------------------------------------------------------------
say "boot: systemd-nspawn --boot (machine $MACHINE)"
systemd-nspawn -D "$ROOT" --boot --register=no --keep-unit \
    --private-network --console=read-only -M "$MACHINE" \
    </dev/null >"$WORK/nspawn.log" 2>&1 &
NSPID=$!

# nspawn's first child is short-lived; PID 1 of the container is the
# child whose command is "systemd".
n=0
while [ -z "$LEADER" ]; do
	# nspawn refusing to run at all is this machine's limit, not ours.
	kill -0 "$NSPID" 2>/dev/null || {
		tail -n 20 "$WORK/nspawn.log"
		NSPID=
		skip "systemd-nspawn cannot boot a container here (log above)"; }
	for p in $(pgrep -P "$NSPID" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] && LEADER=$p
	done
	[ -n "$LEADER" ] && break
	n=$((n + 1)); [ $n -lt 150 ] || fail "no container PID 1 after 30 s"
	sleep 0.2
done

# PID 1's bus is not there at once: retry until systemctl answers.
state=
n=0
while :; do
	state=$(CTIMEOUT=90 C systemctl is-system-running --wait 2>/dev/null)
	case $state in
	running|degraded) break ;;
	esac
	n=$((n + 1)); [ $n -lt 60 ] || {
		tail -n 30 "$WORK/nspawn.log"; fail "container did not boot ($state)"; }
	sleep 0.5
done
if [ "$state" = degraded ]; then
	say "note: container is degraded (unrelated units failed):"
	C systemctl --no-pager --failed | sed -e 's/^/    /'
fi
ok "booted: $state, PID 1 is host pid $LEADER"

# --- 4. socket activation -------------------------------------------------
prop()	{ C systemctl show -P "$2" "$1"; }
wait_state()	# UNIT WANTED SECONDS
{
	n=$(( $3 * 5 ))
	while [ "$(prop "$1" ActiveState)" != "$2" ]; do
		n=$((n - 1)); [ $n -gt 0 ] || return 1
		sleep 0.2
	done
}

C systemctl start iomuxd.socket || fail "systemctl start iomuxd.socket"
[ "$(prop iomuxd.socket ActiveState)" = active ] ||
    fail "iomuxd.socket not active"
C test -S /run/iomuxd/iomuxd.sock || fail "/run/iomuxd/iomuxd.sock missing"
perm=$(C stat -c '%a %U %G' /run/iomuxd/iomuxd.sock)
[ "$perm" = "660 root iomuxd" ] ||
    fail "socket mode/owner is '$perm', want '660 root iomuxd'"
ok "iomuxd.socket listening: /run/iomuxd/iomuxd.sock $perm"

st=$(prop iomuxd.service ActiveState)
[ "$st" = inactive ] || fail "iomuxd.service is $st before any connection"
ok "iomuxd.service inactive before the first connection"

C iomuxctl -t 10 status >"$WORK/status1" 2>&1 || {
	cat "$WORK/status1"; fail "iomuxctl status (first connect)"; }
grep -q '^activation: systemd$' "$WORK/status1" || {
	cat "$WORK/status1"; fail "status does not say activation: systemd"; }
grep -q '^listeners: .*/run/iomuxd/iomuxd.sock' "$WORK/status1" || {
	cat "$WORK/status1"; fail "status does not list /run/iomuxd/iomuxd.sock"; }
ok "iomuxctl status activated iomuxd: $(grep -E '^(activation|backend|listeners):' "$WORK/status1" | tr '\n' ' ')"

wait_state iomuxd.service active 10 ||
    fail "iomuxd.service not active (READY=1 not seen?)"
text=$(prop iomuxd.service StatusText)
[ -n "$text" ] || fail "no STATUS= text from iomuxd"
PID1=$(prop iomuxd.service MainPID)
ok "PID 1 saw READY=1 and STATUS=\"$text\" (MainPID $PID1)"
wd=$(prop iomuxd.service WatchdogUSec)
[ "$wd" = 30s ] || fail "WatchdogUSec=$wd, want 30s"

# The sandbox as applied, from the service's own /proc entry.
C cat "/proc/$PID1/status" >"$WORK/proc1" || fail "read /proc/$PID1/status"
uid=$(C stat -c %U "/proc/$PID1")
grep -q '^CapEff:[[:space:]]*0*$' "$WORK/proc1" || fail "CapEff not 0"
grep -q '^NoNewPrivs:[[:space:]]*1$' "$WORK/proc1" || fail "NoNewPrivs not 1"
grep -q '^Seccomp:[[:space:]]*2$' "$WORK/proc1" || fail "no seccomp filter"
[ "$uid" = iomuxd ] || fail "iomuxd runs as '$uid', want iomuxd"
ok "sandbox: user $uid, CapEff 0, NoNewPrivs 1, Seccomp 2"

# --- 5. crash: the socket survives, the next client re-activates -------
C systemctl kill -s KILL iomuxd.service || fail "systemctl kill -s KILL"
n=0
while [ "$(prop iomuxd.service MainPID)" = "$PID1" ]; do
	n=$((n + 1)); [ $n -lt 50 ] || fail "MainPID unchanged 10 s after SIGKILL"
	sleep 0.2
done
[ "$(prop iomuxd.socket ActiveState)" = active ] ||
    fail "iomuxd.socket not active after the service was killed"
C test -S /run/iomuxd/iomuxd.sock || fail "socket file gone after SIGKILL"
ok "after SIGKILL: iomuxd.socket still active, socket file in place"
C iomuxctl -t 10 status >"$WORK/status2" 2>&1 || {
	cat "$WORK/status2"; fail "iomuxctl status after SIGKILL"; }
wait_state iomuxd.service active 10 || fail "iomuxd.service not active again"
PID2=$(prop iomuxd.service MainPID)
{ [ "$PID2" != "$PID1" ] && [ "$PID2" != 0 ]; } ||
    fail "no new iomuxd process after SIGKILL ($PID1 -> $PID2)"
ok "re-activated after SIGKILL: pid $PID1 -> $PID2, NRestarts=$(prop iomuxd.service NRestarts)"

# --- 6. reload ------------------------------------------------------------
C systemctl reload iomuxd.service || fail "systemctl reload iomuxd.service"
sleep 0.5
[ "$(prop iomuxd.service ActiveState)" = active ] || fail "not active after reload"
[ "$(prop iomuxd.service MainPID)" = "$PID2" ] ||
    fail "reload replaced the process"
C iomuxctl -t 10 status >/dev/null 2>&1 || fail "iomuxctl status after reload"
# The SIGHUP reached the daemon (through the ExecPaths= sandbox): it says so.
n=0
until C journalctl --no-pager -o cat "_PID=$PID2" 2>/dev/null | grep -qi reload; do
	n=$((n + 1)); [ $n -lt 25 ] || fail "iomuxd logged no reload after SIGHUP"
	sleep 0.2
done
ok "systemctl reload: same pid $PID2, reload logged, still answering"

# --- 7. the loopback TCP socket unit ------------------------------------
# A running service does not receive sockets started later: stop it, so
# the next activation gets both listeners.
# (stderr: the warning that the sockets can still activate it.)
C systemctl stop iomuxd.service 2>/dev/null ||
    fail "systemctl stop iomuxd.service"
C systemctl start iomuxd-tcp.socket || fail "systemctl start iomuxd-tcp.socket"
C iomuxctl -t 10 -H 127.0.0.1:7411 status >"$WORK/status3" 2>&1 || {
	cat "$WORK/status3"; fail "iomuxctl -H 127.0.0.1:7411 status"; }
# Over TCP, root's iomuxctl shows the token (/run/iomuxd/tcp/token): rw by the
# default rules, so the summary only; the details come over UNIX.
grep -q '^details: no$' "$WORK/status3" || {
	cat "$WORK/status3"; fail "TCP status is not the summary"; }
C iomuxctl -t 10 status >"$WORK/status3u" 2>&1 || fail "UNIX status with TCP on"
grep -q '^activation: systemd$' "$WORK/status3u" ||
    fail "status does not say activation: systemd"
grep -q '^listeners: .*127\.0\.0\.1:7411' "$WORK/status3u" || {
	cat "$WORK/status3u"; fail "status does not list 127.0.0.1:7411"; }
grep -q '^listeners: .*/run/iomuxd/iomuxd.sock' "$WORK/status3u" || {
	cat "$WORK/status3u"; fail "status does not list the UNIX socket too"; }
ok "TCP via iomuxd-tcp.socket: $(grep '^listeners:' "$WORK/status3u")"

# --- 7b. who may do what ------------------------------------------------
# e2e is in group iomuxd: the socket (0660 root:iomuxd) lets it in and the
# default rules give it rw; the token file (0640 iomuxd:iomuxd) is
# readable by it, so TCP gives it the same.  outsider is refused by the
# socket's mode, and over TCP it has no token: nothing but WHOAMI.
SK=/run/iomuxd/iomuxd.sock
E() { C runuser -u e2e -- "$@"; }
O() { C runuser -u outsider -- "$@"; }
perm=$(C stat -c '%a %U %G' /run/iomuxd/tcp/token) || fail "no /run/iomuxd/tcp/token"
[ "$perm" = "640 iomuxd iomuxd" ] ||
    fail "/run/iomuxd/tcp/token is '$perm', want '640 iomuxd iomuxd'"
E iomuxctl -t 10 -s $SK set e2e/k v1 || fail "set as e2e (group iomuxd)"
[ "$(E iomuxctl -t 10 -s $SK get e2e/k)" = v1 ] || fail "get as e2e"
E iomuxctl -t 10 -s $SK status >"$WORK/status5" 2>&1 ||
    fail "status as e2e"
grep -q '^details: no$' "$WORK/status5" ||
    fail "e2e (rw) sees the STATUS details"
E iomuxctl -t 10 -s $SK whoami >"$WORK/whoami5" 2>&1 ||
    fail "whoami as e2e"
grep -q '4242' "$WORK/whoami5" && grep -q 'rw' "$WORK/whoami5" || {
	cat "$WORK/whoami5"; fail "whoami as e2e lacks its uid or rw"; }
rc=0; O iomuxctl -t 10 -s $SK get e2e/k >/dev/null 2>&1 || rc=$?
[ $rc -eq 3 ] || fail "outsider: get over UNIX exit $rc, want 3 (refused)"
[ "$(E iomuxctl -t 10 -H 127.0.0.1:7411 get e2e/k)" = v1 ] ||
    fail "get over TCP as e2e (with the token)"
E iomuxctl -t 10 -H 127.0.0.1:7411 set e2e/k v2 || fail "set over TCP as e2e"
rc=0; O iomuxctl -t 10 -H 127.0.0.1:7411 get e2e/k >"$WORK/out6" 2>&1 ||
    rc=$?
[ $rc -eq 4 ] && grep -q 'no token' "$WORK/out6" || {
	cat "$WORK/out6"; fail "outsider: get over TCP exit $rc, want 4"; }
O iomuxctl -t 10 -H 127.0.0.1:7411 whoami >"$WORK/whoami6" 2>&1 ||
    fail "whoami over TCP as outsider"
grep -q 'none' "$WORK/whoami6" || {
	cat "$WORK/whoami6"; fail "outsider over TCP is not 'auth none'"; }
ok "access: group iomuxd rw over UNIX and TCP, outsider refused by the socket mode and without the token"

# --- 8. clean stop ----------------------------------------------------------
C systemctl stop iomuxd.service 2>/dev/null ||
    fail "systemctl stop iomuxd.service"
res=$(prop iomuxd.service Result)
[ "$res" = success ] || fail "iomuxd.service Result=$res after stop"
[ "$(prop iomuxd.socket ActiveState)" = active ] ||
    fail "iomuxd.socket not active after the service stopped"
C test -S /run/iomuxd/iomuxd.sock || fail "socket file removed on stop"
ok "systemctl stop: Result=success, socket unit still listening"

# --- 8b. watchdog pings -------------------------------------------------------
# WatchdogSec=30s is too long to wait for here: a drop-in shortens it to
# 1 s for this step only.  A daemon that does not ping is killed (SIGABRT)
# within about a second; this one must stay up with the same pid.
if ! { C mkdir -p /run/systemd/system/iomuxd.service.d &&
    printf '[Service]\nWatchdogSec=1s\n' |
    C tee /run/systemd/system/iomuxd.service.d/e2e-watchdog.conf >/dev/null &&
    C systemctl daemon-reload; }; then
	fail "watchdog drop-in"
fi
C iomuxctl -t 10 status >/dev/null 2>&1 || fail "iomuxctl status (watchdog step)"
wait_state iomuxd.service active 10 || fail "iomuxd.service not active (watchdog step)"
PID3=$(prop iomuxd.service MainPID)
[ "$(prop iomuxd.service WatchdogUSec)" = 1s ] || fail "drop-in not applied"
sleep 4
if [ "$(prop iomuxd.service MainPID)" != "$PID3" ] ||
    [ "$(prop iomuxd.service ActiveState)" != active ]; then
	C journalctl --no-pager -n 15 -u iomuxd.service | sed -e 's/^/    /'
	fail "iomuxd did not survive WatchdogSec=1s (no WATCHDOG=1 pings?)"
fi
C rm -rf /run/systemd/system/iomuxd.service.d
C systemctl daemon-reload || fail "daemon-reload"
C systemctl stop iomuxd.service 2>/dev/null || fail "stop after watchdog step"
ok "watchdog: pid $PID3 survived 4 s under WatchdogSec=1s"

# --- 9. the per-user units ---------------------------------------------------
U()
{
	C runuser -u e2e -- env XDG_RUNTIME_DIR=/run/user/4242 "$@"
}
n=0
while [ "$(prop user@4242.service ActiveState)" != active ]; do
	n=$((n + 1)); [ $n -lt 100 ] || fail "user@4242.service not active after 20 s"
	sleep 0.2
done
U systemctl --user start iomuxd.socket || fail "systemctl --user start iomuxd.socket"
perm=$(C stat -c '%a %U' /run/user/4242/iomuxd/iomuxd.sock) ||
    fail "no /run/user/4242/iomuxd/iomuxd.sock"
[ "$perm" = "600 e2e" ] || fail "user socket is '$perm', want '600 e2e'"
st=$(U systemctl --user show -P ActiveState iomuxd.service)
[ "$st" = inactive ] || fail "user iomuxd.service is $st before any connection"
U iomuxctl -t 10 status >"$WORK/status4" 2>&1 || {
	cat "$WORK/status4"; U journalctl --user --no-pager -n 30 2>&1
	fail "iomuxctl status as user e2e (default socket)"; }
grep -q '^activation: systemd$' "$WORK/status4" ||
    fail "user status does not say activation: systemd"
grep -q '^listeners: .*/run/user/4242/iomuxd/iomuxd.sock' "$WORK/status4" || {
	cat "$WORK/status4"; fail "user status does not list the user socket"; }
n=0
while [ "$(U systemctl --user show -P ActiveState iomuxd.service)" != active ]; do
	n=$((n + 1)); [ $n -lt 50 ] || fail "user iomuxd.service not active"
	sleep 0.2
done
U systemctl --user stop iomuxd.service iomuxd.socket ||
    fail "systemctl --user stop"
ok "per-user units: socket $perm, activated on first use, READY seen"

say "iomuxd's own log lines (for the record):"
C journalctl --no-pager -o cat _COMM=iomuxd 2>&1 | tail -n 25 | sed -e 's/^/    /'

# --- 10. poweroff ------------------------------------------------------------
C systemctl --no-block poweroff >/dev/null 2>&1
n=0
while kill -0 "$NSPID" 2>/dev/null; do
	n=$((n + 1)); [ $n -lt 150 ] || fail "container still running 30 s after poweroff"
	sleep 0.2
done
wait "$NSPID" 2>/dev/null
NSPID=
LEADER=
ok "container powered off"
say "PASS: $PASS checks in $(( $(date +%s) - T0 )) s"
exit 0
