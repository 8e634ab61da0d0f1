#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The iomuxd developers
#
# The Python example client, examples/iomux.py, against a real iomuxd on
# every backend: it is written from iomuxd-protocol(7) alone, so this
# checks the page as much as the client.  The daemon runs with small
# limits (a config file) so that every limit is reached quickly.  Exit 77
# when python3 is absent.

# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

[ -n "${PYTHON3:-}" ] || t_skip "python3 not found (PYTHON3 is empty)"
[ -n "${IOMUXD:-}" ] || t_fail "IOMUXD not set (run via make check)"

# Importing examples/iomux.py must not write __pycache__ into the sources.
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE

t_tmpdir
cat >"$T_DIR/iomuxd.conf" <<'EOF'
key_max = 64
value_max = 4K
max_memory = 256K
subscriptions_max = 4
EOF

cat >"$T_DIR/test_iomux.py" <<'EOF'
# test_iomux.py EXAMPLES_DIR SOCKET
import os, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
import iomux
from iomux import Client, Error, ms, u32, u64

SOCK = sys.argv[2]
CLI = [sys.executable, os.path.join(sys.argv[1], "iomux.py"), "-s", SOCK]


def eq(got, want, what):
    if got != want:
        raise AssertionError("%s: got %r, expected %r" % (what, got, want))


def raises(status, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except Error as e:
        eq(e.status, status, "status of %s%r" % (fn.__name__, args))
        eq(e.name, iomux.STATUS[status], "name")
        assert e.message, "an error carries a message"
        return e
    raise AssertionError("%s%r: no error, expected %s" %
                         (fn.__name__, args, iomux.STATUS[status]))


def elapsed(fn, *args, **kw):
    t = time.monotonic()
    r = fn(*args, **kw)
    return r, time.monotonic() - t


def until(cond, what):
    for _ in range(200):
        if cond():
            return
        time.sleep(0.01)
    raise AssertionError("timed out waiting for " + what)


def blocked(n, field="blocked_clients"):
    """Wait until n requests are waiting (so that the order is known)."""
    until(lambda: mon.status()[field] == str(n), "%s %d" % (field, n))


a, b, mon = Client(SOCK), Client(SOCK), Client(SOCK)

# HELLO and PING.
h = a.hello()
eq(h["proto"], "1", "hello proto")
assert h["server"].startswith("iomuxd "), h
eq((h["key_max"], h["value_max"]), ("64", "4096"), "hello limits")
eq(a.ping(b"a\0b"), [b"a\0b"], "ping binary")
eq(a.ping(None), [None], "ping absent")
eq(a.ping(b""), [b""], "ping empty")
eq(a.ping(), [], "ping nothing")

# SET/GET: binary values and keys, absent versus empty.
blob = bytes(range(256)) * 4
assert a.set(b"bin\0key", blob)
eq(a.get(b"bin\0key"), blob, "binary value")
eq(a.get(b"bin"), None, "a key is not cut at NUL")
assert a.set("empty", b"")
eq(a.get("empty"), b"", "empty value")
eq(a.get("missing"), None, "missing key")
eq(a.exists("empty", "missing", "empty"), 2, "exists counts")

# SET conditions.
assert a.set("nx", "1", flags=iomux.SET_NX)
assert not a.set("nx", "2", flags=iomux.SET_NX)
assert not a.set("xx", "1", flags=iomux.SET_XX)
eq(a.get("xx"), None, "XX on a missing key")
assert a.set("nx", "3", flags=iomux.SET_XX)
eq(a.get("nx"), b"3", "XX on an existing key")
raises(0x0104, a.set, "nx", "4", flags=iomux.SET_NX | iomux.SET_XX)
assert a.set("color", "blue")
assert not a.set("color", "green", expected="red")
assert a.set("color", "green", expected="blue")
eq(a.get("color"), b"green", "compare-and-set")
assert not a.set("nokey", "x", expected="")
eq(a.get("nokey"), None, "a missing key never equals")

# TTL, EXPIRE, PERSIST, KEEPTTL.
assert a.set("t", "v", ttl=0.2)
left = a.ttl("t")
assert 0 < left <= 0.2, left
eq(a.ttl("color"), -1, "no expiry")
eq(a.ttl("missing"), None, "TTL of a missing key")
time.sleep(0.3)
eq(a.get("t"), None, "expired")
eq(a.exists("t"), 0, "expired keys do not exist")
assert a.set("p", "v", ttl=0.2)
assert a.persist("p")
eq(a.ttl("p"), -1, "persisted")
assert a.expire("p", 0.15)
assert a.set("p", "w", flags=iomux.SET_KEEPTTL)
assert 0 < a.ttl("p") <= 0.15
time.sleep(0.25)
eq(a.get("p"), None, "KEEPTTL kept the expiry")
assert a.set("p", "v", ttl=0.1)
assert a.set("p", "v")
eq(a.ttl("p"), -1, "SET without a TTL removes the expiry")
assert not a.expire("missing", 1)
assert not a.persist("missing")

# INCR.
eq(a.incr("n"), 1, "incr of a missing key")
eq(a.incr("n", 41), 42, "incr by 41")
eq(a.get("n"), b"42", "incr stores decimal text")
eq(a.incr("n", -50), -8, "incr by -50")
assert a.set("big", str(2 ** 63 - 1))
raises(0x0107, a.incr, "big")
eq(a.get("big"), b"9223372036854775807", "overflow leaves the value")
for bad in ("abc", "+1", " 1", "1 ", "", "9223372036854775808"):
    assert a.set("txt", bad)
    raises(0x0106, a.incr, "txt")
    eq(a.get("txt"), bad.encode(), "ETYPE leaves the value")

# KEYS: every key once over all cursors, no reply over its limit.
want = set()
for i in range(150):
    k = b"kx.%d" % i
    want.add(k)
    assert a.set(k, "v")
assert a.set("ky.1", "v")
got = list(a.keys("kx.", limit=7))
eq(sorted(got), sorted(want), "KEYS returns every key exactly once")
cursor, n = 0, 0
while True:
    r = a.call("keys", "kx.", u64(cursor), u32(7))
    assert len(r.args) - 1 <= 7, "reply over the limit"
    cursor, n = iomux.num(r.args[0]), n + 1
    if cursor == 0:
        break
assert n > 1, "150 keys take more than one call of 7"
assert b"ky.1" in set(a.keys()), "empty prefix lists all"
eq(a.delete("kx.1", "kx.2", "nosuch", "kx.1"), 2, "DEL count")

# WAIT woken by a SET from a second connection, and its timeout.
eq(a.wait("color", timeout=1), b"green", "WAIT on an existing key")
rid = a.send("wait", "flag", ms(5))
blocked(1)
assert b.set("flag", "up")
r = a.recv()
eq((r.id, r.status, r.args), (rid, iomux.OK, [b"up"]), "WAIT woken")
w1, w2 = Client(SOCK), Client(SOCK)
w1.send("wait", "counter")
blocked(1)
w2.send("wait", "counter", ms(5))
blocked(2)
eq(b.incr("counter", 7), 7, "INCR creating the key")
eq((w1.recv().args, w2.recv().args), ([b"7"], [b"7"]), "both waiters woken")
blocked(0)
v, t = elapsed(a.wait, "never", timeout=0.1)
eq(v, None, "WAIT timed out")
assert 0.09 <= t < 1, t
eq(a.call("wait", "never", ms(0.01)).status, iomux.TIMEDOUT, "TIMEDOUT")

# Queues.
eq(a.push("q", "a", b"b\0", ""), 3, "PUSH length")
eq(a.qlen("q"), 3, "QLEN")
eq(a.peek("q"), b"a", "PEEK")
eq(a.pop("q"), b"a", "POP")
eq(a.pop("q", timeout=1), b"b\0", "POP with a timeout, item there")
eq(a.pop("q"), b"", "POP of an empty item")
eq(a.pop("q"), None, "POP of an empty queue")
eq(a.call("pop", "q").status, iomux.NOTFOUND, "NOTFOUND without timeout")
eq(a.qlen("q"), 0, "QLEN of a missing queue")
eq(a.peek("q"), None, "PEEK of a missing queue")
v, t = elapsed(a.pop, "q", timeout=0.1)
eq(v, None, "POP timed out")
assert 0.09 <= t < 1, t
r = a.call("pop", "q", ms(0.01))
eq((r.status, r.args), (iomux.TIMEDOUT, []), "POP TIMEDOUT reply")

# A blocking POP woken by a PUSH from another connection; the request
# pipelined behind it is answered after it.
rid = a.send("pop", "wq", ms(5))
rid2 = a.send("ping", "after")
blocked(1)
eq(b.push("wq", "x", "y"), 1, "one item went to the waiter")
r = a.recv()
eq((r.id, r.args), (rid, [b"x"]), "blocked POP woken")
r = a.recv()
eq((r.id, r.args), (rid2, [b"after"]), "pipelined request after it")
eq(a.pop("wq"), b"y", "the rest stayed queued")

# Waiters are served first come, first served; one that disconnects
# takes nothing.
w1, w2, gone = Client(SOCK), Client(SOCK), Client(SOCK)
gone.send("pop", "fq", ms(iomux.FOREVER))
blocked(1)
w1.send("pop", "fq", ms(5))
blocked(2)
w2.send("pop", "fq", ms(5))
blocked(3)
gone.close()
blocked(2)
eq(b.push("fq", "1", "2", "3"), 1, "two items to the two waiters")
eq(w1.recv().args, [b"1"], "first waiter")
eq(w2.recv().args, [b"2"], "second waiter")
eq(a.pop("fq"), b"3", "nothing lost")

# Pub/sub, exact and pattern, pushes interleaved with replies.
s = Client(SOCK)
s.subscribe("news")
eq(s.call("subscribe", "news").args, [u64(1)], "subscribing twice")
s.psubscribe("jobs.*")
eq(b.publish("jobs.7", "done"), 1, "PUBLISH to a pattern")
eq(b.publish("news", b"h\0i"), 1, "PUBLISH to a channel")
eq(b.publish("jobs", "x"), 0, "jobs.* does not match jobs")
eq(s.ping(b"p"), [b"p"], "a reply among pushes")
got = list(s.messages(timeout=0.2))
eq(got, [(b"jobs.7", b"done", b"jobs.*"), (b"news", b"h\0i", None)],
   "deliveries")
s.psubscribe("*")
eq(b.publish("jobs.1", "two"), 2, "two matching subscriptions")
eq(len(list(s.messages(timeout=0.2))), 2, "two deliveries")
raises(0x0104, s.psubscribe, "a*b")
raises(0x0104, s.psubscribe, "nostar")
eq(s.unsubscribe("news"), 2, "UNSUBSCRIBE count")
eq(s.punsubscribe(), 0, "PUNSUBSCRIBE all")
eq(b.publish("jobs.1", "none"), 0, "no subscribers left")
raises(0x0105, s.subscribe, "c1", "c2", "c3", "c4", "c5")
eq(s.punsubscribe(), 0, "ELIMIT subscribed to none")
st = a.status()
eq(st["channels"], "0", "STATUS channels")
s.close()

# Locks: FIFO, no re-entry, released when the holder closes.
assert a.lock("L")
assert not b.trylock("L")
eq(a.call("lock", "L").status, iomux.CONFLICT, "no re-entry")
raises(0x0108, b.unlock, "L")
r, t = elapsed(b.call, "lock", "L", ms(0.1))
eq(r.status, iomux.TIMEDOUT, "LOCK timed out")
rid = b.send("lock", "L", ms(5))
blocked(1, "lock_waiters")
w1.send("lock", "L")
blocked(2, "lock_waiters")
a.close()
r = b.recv()
eq((r.id, r.status), (rid, iomux.OK), "lock passed on when the holder left")
assert b.unlock("L")
eq(w1.recv().status, iomux.OK, "then to the next waiter")
assert not w2.trylock("L")
w1.close()
until(lambda: w2.trylock("L"), "the lock of a closed connection")
w2.close()
# The daemon sees w2's close in its own time: until then L is w2's.
blocked(0, "locks_held")
assert not b.unlock("L")
assert b.trylock("L", lease=0.1)
blocked(0, "locks_held")    # within 2 s, or the lease did not end it
assert not b.unlock("L"), "the lease released it"
a = Client(SOCK)

# A holder killed with SIGKILL releases its lock to the next waiter.
holder = subprocess.Popen([sys.executable, "-c", """if True:
    import sys, time
    sys.path.insert(0, sys.argv[1])
    import iomux
    c = iomux.Client(sys.argv[2])
    assert c.lock("K")
    print("held", flush=True)
    time.sleep(60)""", sys.argv[1], SOCK], stdout=subprocess.PIPE)
eq(holder.stdout.readline(), b"held\n", "the holder took the lock")
rid = b.send("lock", "K", ms(5))
blocked(1, "lock_waiters")
holder.kill()
holder.wait()
r = b.recv()
eq((r.id, r.status), (rid, iomux.OK), "lock of a killed holder")
assert b.unlock("K")

# Errors: unknown opcode, wrong arguments, limits, memory.
a.send(0x00ff)
r = a.recv()
eq(r.status, 0x0103, "EUNKNOWN")
eq(a.ping(b"still"), [b"still"], "usable after EUNKNOWN")
raises(0x0104, a.call, "get", "k", "extra")
raises(0x0104, a.call, "get", None)
raises(0x0104, a.call, "incr", "n", b"1234")
raises(0x0105, a.get, b"k" * 65)
eq(a.get(b"k" * 64), None, "a key of key_max bytes")
raises(0x0105, a.set, "k", b"v" * 4097)
raises(0x0105, a.push, "q", b"v" * 4097)
raises(0x0105, a.publish, "c", b"v" * 4097)
assert a.set("keep", "me")
i = 0
while True:
    try:
        a.set(b"fill.%d" % i, b"v" * 4096)
    except Error as e:
        eq(e.name, "ENOMEM", "over max_memory")
        break
    i += 1
    assert i < 100, "max_memory not enforced"
assert 50 < i < 64, i
eq(a.get("keep"), b"me", "nothing evicted")
eq(a.get(b"fill.0"), b"v" * 4096, "nothing evicted")
raises(0x0201, a.push, "q", b"v" * 4096)
eq(a.delete(*[b"fill.%d" % j for j in range(i)]), i, "DEL frees")
assert a.set(b"fill.0", b"v" * 4096)

# STATUS has the hub's fields.
st = a.status()
for f in ("keys", "keys_expiring", "data_bytes", "max_memory", "queues",
          "queued_items", "channels", "patterns", "subscribers",
          "subscribers_dropped", "locks_held", "lock_waiters",
          "blocked_clients", "requests.get", "requests.set",
          "requests.unlock", "requests.punsubscribe"):
    assert f in st, "STATUS lacks " + f
eq(st["max_memory"], str(256 * 1024), "STATUS max_memory")

# The command line.
def cli(*args, rc=0, stdin=None):
    p = subprocess.run(CLI + list(args), capture_output=True, input=stdin)
    eq(p.returncode, rc, "exit status of iomux.py %s (%r)" %
       (" ".join(args), p.stderr))
    return p.stdout

eq(cli("set", "clikey", "v1", "--ttl", "5"), b"", "cli set")
eq(cli("get", "clikey"), b"v1\n", "cli get")
cli("set", "clikey", "v2", "--nx", rc=1)
cli("get", "nokey", rc=1)
eq(cli("push", "cq", "one", "two"), b"2\n", "cli push")
eq(cli("pop", "cq", "--timeout", "1"), b"one\n", "cli pop")
eq(cli("pop", "cq"), b"two\n", "cli pop")
cli("pop", "cq", "--timeout", "0.1", rc=1)
eq(cli("pub", "cc", "nobody"), b"0\n", "cli pub")
sub = subprocess.Popen(CLI + ["sub", "-c", "2", "cc"], stdout=subprocess.PIPE)
blocked(1, "subscribers")
eq(a.publish("cc", "m1"), 1, "publish to the cli")
eq(a.publish("cc", "m2"), 1, "publish to the cli")
out, _ = sub.communicate(timeout=5)
eq((out, sub.returncode), (b"m1\nm2\n", 0), "cli sub -c 2")
cli("get", "k" * 65, rc=4)
cli("frobnicate", rc=2)
print("ok")
EOF

# token_load() reads a token file as libiomux does (check_client.c has
# the same cases for iomux_token_load()); no daemon needed.
cat >"$T_DIR/test_token.py" <<'EOF'
# test_token.py EXAMPLES_DIR DIR
import os, sys
sys.path.insert(0, sys.argv[1])
from iomux import token_load

D = sys.argv[2]
TOKEN = "0123456789abcdef" * 4
os.environ.pop("IOMUXD_TOKEN_FILE", None)


def put(name, data):
    path = os.path.join(D, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def fails(exc, *args):
    try:
        token_load(*args)
    except exc:
        return
    raise AssertionError("token_load%r: no %s" % (args, exc.__name__))


for tail in (b"", b"\n", b"\r\n", b" \t\v\f\n"):
    assert token_load(put("t", TOKEN.encode() + tail)) == TOKEN, tail
for bad in (b"", TOKEN.upper().encode(), TOKEN[:-1].encode(),
            TOKEN.encode() + b"0", b" " + TOKEN[1:].encode(),
            TOKEN[:-1].encode() + b"g", TOKEN.encode() + b"\0",
            TOKEN.encode() + b"\n" * 193):
    fails(ValueError, put("t", bad))
assert token_load(put("t", TOKEN.encode() + b"\n" * 192)) == TOKEN
fails(FileNotFoundError, os.path.join(D, "none"))

# $IOMUXD_TOKEN_FILE, then tcp/token beside the default socket, where
# iomuxd writes it by default ("token" there is not looked at).
os.environ["IOMUXD_SOCKET"] = os.path.join(D, "iomuxd.sock")
os.mkdir(os.path.join(D, "tcp"))
put("tcp/token", TOKEN.encode() + b"\n")
put("token", b"fedcba9876543210" * 4 + b"\n")
os.environ["IOMUXD_TOKEN_FILE"] = put("env", b"fedcba9876543210" * 4)
assert token_load() == "fedcba9876543210" * 4
os.environ["IOMUXD_TOKEN_FILE"] = os.path.join(D, "none")
fails(FileNotFoundError)
os.environ["IOMUXD_TOKEN_FILE"] = ""
assert token_load() == TOKEN
put("tcp/token", b"stale\n")
fails(ValueError)
if not os.path.exists("/run/iomuxd/tcp/token"):
    os.remove(os.path.join(D, "tcp/token"))
    fails(FileNotFoundError)
print("ok")
EOF
mkdir "$T_DIR/tok" || t_fail "mkdir"
"$PYTHON3" "$T_DIR/test_token.py" "$top_srcdir/examples" "$T_DIR/tok" ||
    t_fail "examples/iomux.py token_load()"
t_ok "examples/iomux.py token_load()"

for backend in $IOMUXD_BACKENDS; do
	T_SOCK=$T_DIR/sock.$backend
	t_start_daemon "$backend" -c "$T_DIR/iomuxd.conf" ||
	    t_fail "iomuxd did not start ($backend)"
	if ! "$PYTHON3" "$T_DIR/test_iomux.py" "$top_srcdir/examples" \
	    "$T_SOCK"; then
		sed -e 's/^/	/' "$T_LOG" >&2
		t_fail "examples/iomux.py against iomuxd ($backend)"
	fi
	t_stop_daemon || t_fail "iomuxd did not stop cleanly ($backend)"
	t_ok "examples/iomux.py ($backend)"
done
exit 0
