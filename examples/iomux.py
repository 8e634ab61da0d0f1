#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The iomuxd developers
"""iomux.py: a client for iomuxd, written from iomuxd-protocol(7) alone.

As a module:

    import iomux
    with iomux.Client() as c:             # $IOMUXD_SOCKET or the default
        c.set("greeting", b"hello\\0world", ttl=1.5)
        print(c.get("greeting"))          # None if absent
        ids = [c.send("push", "jobs", str(i)) for i in range(100)]
        replies = [c.recv() for _ in ids] # pipelined, in order
        for channel, payload, pattern in c.subscribe("news"):
            print(payload)

Over TCP, the daemon's access policy gives a client nothing until it
sends the daemon's token in HELLO:

    with iomux.Client(host="127.0.0.1:7411", token=iomux.token_load()) as c:
        print(c.whoami())                 # [("listener", "tcp"), ...]

As a command: python3 iomux.py [-s SOCKET | -H HOST:PORT [--token-file
FILE]] COMMAND ARGS (see USAGE).
Times are seconds (floats) here and milliseconds on the wire. Keys and
values are bytes; str arguments are sent as UTF-8. Only the standard
library is used.
"""

import os
import select
import socket
import struct
import sys

OPS = {"hello": 0x0001, "ping": 0x0002, "status": 0x0003, "whoami": 0x0004,
       "get": 0x0101, "set": 0x0102, "del": 0x0103, "exists": 0x0104,
       "incr": 0x0105, "keys": 0x0106, "ttl": 0x0107, "expire": 0x0108,
       "persist": 0x0109, "wait": 0x010a,
       "push": 0x0201, "pop": 0x0202, "qlen": 0x0203, "peek": 0x0204,
       "subscribe": 0x0301, "unsubscribe": 0x0302, "psubscribe": 0x0303,
       "punsubscribe": 0x0304, "publish": 0x0305,
       "lock": 0x0401, "trylock": 0x0402, "unlock": 0x0403}
STATUS = {0x0000: "OK", 0x0001: "TIMEDOUT", 0x0002: "NOTFOUND",
          0x0003: "CONFLICT", 0x0100: "EPROTO", 0x0101: "ETOOBIG",
          0x0102: "EVERSION", 0x0103: "EUNKNOWN", 0x0104: "EARGS",
          0x0105: "ELIMIT", 0x0106: "ETYPE", 0x0107: "ERANGE",
          0x0108: "ENOTOWNER", 0x0109: "EDENIED", 0x010a: "ETIMEOUT",
          0x010b: "EKIND", 0x0200: "EBUSY", 0x0201: "ENOMEM",
          0x0202: "ESHUTDOWN", 0x0203: "EINTERNAL"}
OK, TIMEDOUT, NOTFOUND, CONFLICT = 0, 1, 2, 3
REQUEST, REPLY, PUSH = 1, 2, 3          # frame kinds
MESSAGE = 0x0301                        # the push type of a delivery
ABSENT = 0xFFFFFFFF                     # argument length meaning "no value"
FOREVER = float("inf")                  # sent as IOMUX_TIMEOUT_FOREVER
SET_NX, SET_XX, SET_KEEPTTL = 0x1, 0x2, 0x4
FRAME_CAP = 64 << 20                    # no server sends a larger body
TOKEN_LEN = 64                          # lowercase hex characters
TOKEN_FILE_MAX = 256                    # bytes of a token file read at most


class Error(Exception):
    """An error reply (status 0x0100 or above): status, name, message."""

    def __init__(self, status, message):
        self.status = status
        self.name = STATUS.get(status, "0x%04x" % status)
        self.message = message
        Exception.__init__(self, "%s: %s" % (self.name, message))


class ProtocolError(Exception):
    """The server sent something this client cannot parse."""


class Reply:
    """One reply: its id, status and list of arguments (bytes or None)."""

    def __init__(self, rid, status, args):
        self.id, self.status, self.args = rid, status, args
        self.name = STATUS.get(status, "0x%04x" % status)

    def __repr__(self):
        return "Reply(id=%d, %s, %r)" % (self.id, self.name, self.args)


# Fixed-width big-endian integer arguments.
u32, u64, i64 = (struct.Struct(f).pack for f in (">I", ">Q", ">q"))


def ms(seconds):
    """Seconds (None: not given) as the u64 milliseconds of the wire."""
    if seconds is None:
        return None
    if seconds == FOREVER:
        return u64(0xFFFFFFFFFFFFFFFF)
    return u64(max(0, int(round(seconds * 1000))))


def default_socket():
    """The socket iomuxctl would use: $IOMUXD_SOCKET, then the default."""
    path = os.environ.get("IOMUXD_SOCKET")
    if path:
        return path
    if os.geteuid() == 0:
        return "/run/iomuxd/iomuxd.sock"
    rundir = os.environ.get("XDG_RUNTIME_DIR")
    if not rundir:
        raise OSError("XDG_RUNTIME_DIR is not set; give the socket path")
    return os.path.join(rundir, "iomuxd", "iomuxd.sock")


def token_load(path=None):
    """The token in a token file, read as libiomux's iomux_token_load()
    reads it: path, else $IOMUXD_TOKEN_FILE, else the first that can be
    opened of "tcp/token" (where iomuxd writes it by default)
    beside default_socket(), then in /run/iomuxd.
    The contents without trailing whitespace must be 64 lowercase hex
    characters. Raises FileNotFoundError when path is None and no file
    was found, the OSError of a named file, and ValueError for contents
    that are not a token."""
    path = path or os.environ.get("IOMUXD_TOKEN_FILE") or None
    if path is not None:
        candidates = [path]
    else:
        dirs = ["/run/iomuxd"]
        try:
            dirs.insert(0, os.path.dirname(default_socket()))
        except OSError:                 # no default socket: not beside it
            pass
        candidates = [os.path.join(d, n) for d in dirs
                      for n in ("tcp/token",)]
    for name in candidates:
        try:
            f = open(name, "rb")
        except OSError:
            if path is not None:
                raise
            continue
        with f:
            data = bytearray(f.read(TOKEN_FILE_MAX + 1))
        try:
            # The C locale's whitespace, as iomux_token_load() strips it.
            text = bytes(data).rstrip(b" \t\n\r\v\f")
            if len(data) > TOKEN_FILE_MAX or len(text) != TOKEN_LEN or \
                    text.strip(b"0123456789abcdef"):
                raise ValueError("%s: not a token (expected %d lowercase "
                                 "hex characters)" % (name, TOKEN_LEN))
            return text.decode()
        finally:
            data[:] = bytes(len(data))  # wipe what can be wiped
    raise FileNotFoundError("no token file (IOMUXD_TOKEN_FILE, %s)" %
                            ", ".join(candidates))


def encode(kind, code, rid, args):
    """A whole frame. args: bytes, str (sent as UTF-8) or None (absent)."""
    parts = [struct.pack(">BBHIH", 1, kind, code, rid, len(args))]
    for a in args:
        if a is None:
            parts.append(u32(ABSENT))
            continue
        if isinstance(a, str):
            a = a.encode()
        parts += [u32(len(a)), bytes(a)]
    body = b"".join(parts)
    return u32(len(body)) + body


def decode(body):
    """(kind, code, id, args) of one frame body (without its length)."""
    if len(body) < 10:
        raise ProtocolError("frame body of %d bytes" % len(body))
    version, kind, code, rid, argc = struct.unpack_from(">BBHIH", body)
    off, args = 10, []
    for _ in range(argc):
        if off + 4 > len(body):
            raise ProtocolError("argument past the end of the frame")
        (n,) = struct.unpack_from(">I", body, off)
        off += 4
        if n == ABSENT:
            args.append(None)
            continue
        if off + n > len(body):
            raise ProtocolError("argument past the end of the frame")
        args.append(body[off:off + n])
        off += n
    if version != 1 or off != len(body):
        raise ProtocolError("bad version or trailing bytes")
    return kind, code, rid, args


def num(b, signed=False):
    """The value of an 8-byte reply argument, a u64 or (signed) an i64."""
    return struct.unpack(">q" if signed else ">Q", b)[0]


def pair_list(r):
    """The name/value pairs of a reply, in order, as text; a name may
    come more than once (WHOAMI's grant)."""
    a = [x.decode() for x in r.args]
    return list(zip(a[0::2], a[1::2]))


def pairs(r):
    """The name/value pairs of a HELLO or STATUS reply, as a dict."""
    return dict(pair_list(r))


class Client:
    """One connection. Requests may be pipelined: send() several, then
    recv() their replies in order. Frames are told apart by their kind:
    push frames that arrive before a reply are kept until messages()
    takes them, and replies that arrive while messages() waits are kept
    for recv()."""

    def __init__(self, path=None, host=None, token=None):
        """Connect to the UNIX socket path (None: default_socket()), or
        over TCP to host, "HOST:PORT" or "[V6]:PORT". With a token (see
        token_load()), send HELLO with it at once; Error (EDENIED) if the
        daemon refuses it."""
        if host is not None:
            h, _, port = host.rpartition(":")
            self.sock = socket.create_connection((h.strip("[]"), int(port)))
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.sock.connect(path or default_socket())
            except OSError:
                self.sock.close()
                raise
        self.rbuf = bytearray()
        self.pushes = []                # (channel, payload, pattern)
        self.replies = []               # Reply objects not yet recv()d
        self.next_id = 1                # 0 is the server's "no request"
        if token is not None:
            try:
                self.hello(token=token)
            except Exception:
                self.sock.close()
                raise

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, op, *args):
        """Send one request (op: a name of OPS or a number); its id."""
        rid, self.next_id = self.next_id, self.next_id % 0xFFFFFFFF + 1
        code = OPS[op] if isinstance(op, str) else op
        self.sock.sendall(encode(REQUEST, code, rid, args))
        return rid

    def _frame(self, timeout=None):
        """The next frame, or None if timeout (seconds) passed first."""
        while True:
            if len(self.rbuf) >= 4:
                (n,) = struct.unpack_from(">I", self.rbuf)
                if not 10 <= n <= FRAME_CAP:
                    raise ProtocolError("frame length %d" % n)
                if len(self.rbuf) >= 4 + n:
                    body = bytes(self.rbuf[4:4 + n])
                    del self.rbuf[:4 + n]
                    return decode(body)
            if timeout is not None:
                if not select.select([self.sock], [], [], timeout)[0]:
                    return None
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("connection closed by iomuxd")
            self.rbuf += data

    def recv(self):
        """The next reply (a Reply), in request order."""
        while not self.replies:
            self._take(self._frame())
        return self.replies.pop(0)

    def _take(self, frame):
        kind, code, rid, args = frame
        if kind == REPLY:
            self.replies.append(Reply(rid, code, args))
        elif kind == PUSH and code == MESSAGE:
            # An exact subscription's delivery has no pattern: None.
            self.pushes.append(tuple(args + [None])[:3])
        elif kind != PUSH:              # other push types: ignored
            raise ProtocolError("frame of kind %d from the server" % kind)

    def call(self, op, *args):
        """Send a request and wait for its reply; raise Error on errors.
        Not while replies to earlier send()s are still to be recv()d."""
        self.send(op, *args)
        r = self.recv()
        if r.status >= 0x0100:
            msg = r.args[0] if r.args and r.args[0] else b""
            raise Error(r.status, msg.decode("utf-8", "replace"))
        return r

    def _ask(self, op, *args):
        """call() for the typed methods below: None is an optional
        argument not given, so trailing ones are left out and others are
        sent absent."""
        args = list(args)
        while args and args[-1] is None:
            args.pop()
        return self.call(op, *args)

    def _value(self, op, *args):
        r = self._ask(op, *args)
        return r.args[0] if r.status == OK else None

    def _count(self, op, *args):
        return num(self._ask(op, *args).args[0])

    def _yes(self, op, *args):
        return self._ask(op, *args).status == OK

    # Connection and control. hello() and status() return a dict of text.
    def hello(self, name="iomux.py", token=None):
        """HELLO with our version, name (None: absent) and token (None:
        none, and a None name is then left out too). Over TCP the right
        token authenticates the connection; a wrong one raises Error
        (EDENIED) and leaves it open, unauthenticated."""
        args = [u32(1), name] if name is not None or token is not None \
            else [u32(1)]
        return pairs(self.call("hello", *args,
                               *([token] if token is not None else [])))

    def whoami(self):
        """How the daemon sees this connection: (name, value) pairs in
        order, one ("grant", "N ROLE PREFIX...") per rule that applies."""
        return pair_list(self.call("whoami"))

    def ping(self, *data):
        return self.call("ping", *data).args

    def status(self):
        return pairs(self.call("status"))

    # Key-value. Negative answers (absent, timed out, conflict) are None
    # or False; errors raise Error.
    def get(self, key):
        return self._value("get", key)

    def set(self, key, value, ttl=None, flags=None, expected=None):
        """True if stored, False on CONFLICT (NX, XX or expected)."""
        return self._yes("set", key, value, ms(ttl),
                         None if flags is None else u32(flags), expected)

    def delete(self, *keys):
        return self._count("del", *keys)

    def exists(self, *keys):
        return self._count("exists", *keys)

    def incr(self, key, delta=1):
        return num(self._ask("incr", key, i64(delta)).args[0], True)

    def keys(self, prefix=b"", limit=100):
        """Every key starting with prefix: KEYS calls until the cursor
        is 0 again, at most limit keys per call."""
        cursor = 0
        while True:
            r = self._ask("keys", prefix, u64(cursor), u32(limit))
            cursor = num(r.args[0])
            yield from r.args[1:]
            if cursor == 0:
                return

    def ttl(self, key):
        """Seconds left, -1 without expiry, None if the key is absent."""
        r = self._ask("ttl", key)
        left = num(r.args[0], True) if r.status == OK else None
        return left if left in (None, -1) else left / 1000.0

    def expire(self, key, ttl):
        return self._yes("expire", key, ms(ttl))

    def persist(self, key):
        return self._yes("persist", key)

    def wait(self, key, timeout=None):
        """The value once the key exists; None if timeout passed first."""
        return self._value("wait", key, ms(timeout))

    # Queues.
    def push(self, queue, *values):
        return self._count("push", queue, *values)

    def pop(self, queue, timeout=None):
        """The head item or None; timeout None: do not wait."""
        return self._value("pop", queue, ms(timeout))

    def qlen(self, queue):
        return self._count("qlen", queue)

    def peek(self, queue):
        return self._value("peek", queue)

    # Pub/sub. subscribe() and psubscribe() return messages(), so that
    # "for channel, payload, pattern in c.subscribe(...)" reads them.
    def subscribe(self, *channels):
        self._ask("subscribe", *channels)
        return self.messages()

    def psubscribe(self, *patterns):
        self._ask("psubscribe", *patterns)
        return self.messages()

    def unsubscribe(self, *channels):
        return self._count("unsubscribe", *channels)

    def punsubscribe(self, *patterns):
        return self._count("punsubscribe", *patterns)

    def publish(self, channel, message):
        """The number of deliveries."""
        return self._count("publish", channel, message)

    def messages(self, timeout=None):
        """Yield (channel, payload, pattern or None) as they arrive; stop
        when timeout seconds pass without one (None: never)."""
        while True:
            while self.pushes:
                yield self.pushes.pop(0)
            f = self._frame(timeout)
            if f is None:
                return
            self._take(f)

    # Locks, which last at most as long as this connection.
    def lock(self, name, timeout=None, lease=None):
        """True once held; False on TIMEDOUT, or CONFLICT (held by us)."""
        return self._yes("lock", name, ms(timeout), ms(lease))

    def trylock(self, name, lease=None):
        return self._yes("trylock", name, ms(lease))

    def unlock(self, name):
        """True if released, False if not locked; Error if another
        connection holds it (ENOTOWNER)."""
        return self._yes("unlock", name)


USAGE = """usage: iomux.py [-s SOCKET | -H HOST:PORT [--token-file FILE]]
        COMMAND [ARGS]
  ping [DATA] | status | whoami | get KEY | set KEY VALUE [--ttl S] [--nx | --xx]
  del KEY... | incr KEY [DELTA] | keys [PREFIX] | wait KEY [--timeout S]
  push QUEUE VALUE... | pop QUEUE [--timeout S] | qlen QUEUE
  pub CHANNEL MESSAGE | sub [-p] [-c N] [--timeout S] CHANNEL...
"""
# The commands, with their least and most numbers of words after the name.
COMMANDS = {"ping": (0, 1), "status": (0, 0), "whoami": (0, 0),
            "get": (1, 1), "set": (2, 2),
            "del": (1, 1023), "incr": (1, 2), "keys": (0, 1),
            "wait": (1, 1), "push": (2, 1023), "pop": (1, 1),
            "qlen": (1, 1), "pub": (2, 2), "sub": (1, 1023)}


def run(c, cmd, args, opts, out):
    """Carry out one command on client c; the exit status."""
    timeout = float(opts["--timeout"]) if "--timeout" in opts else None
    if cmd == "sub":
        (c.psubscribe if "-p" in opts else c.subscribe)(*args)
        left = int(opts.get("-c", 0))
        for _, payload, _ in c.messages(timeout):
            out.write(payload + b"\n")
            out.flush()                 # one message, one line, at once
            left -= 1
            if left == 0:
                return 0
        return 1                        # --timeout passed
    if cmd == "set":
        flags = SET_NX if "--nx" in opts else SET_XX if "--xx" in opts \
            else None
        ttl = float(opts["--ttl"]) if "--ttl" in opts else None
        return 0 if c.set(*args, ttl=ttl, flags=flags) else 1
    if cmd in ("get", "wait", "pop"):
        v = c.get(args[0]) if cmd == "get" else \
            getattr(c, cmd)(args[0], timeout=timeout)
        if v is None:
            return 1                    # absent or timed out
        out.write(v + b"\n")
    elif cmd == "status":
        for name, value in sorted(c.status().items()):
            out.write(("%s: %s\n" % (name, value)).encode())
    elif cmd == "whoami":
        for name, value in c.whoami():
            out.write(("%s: %s\n" % (name, value)).encode())
    elif cmd == "ping":
        out.write(b"".join(c.ping(*args) or [b""]) + b"\n")
    elif cmd == "keys":
        for k in c.keys(*args):
            out.write(k + b"\n")
    elif cmd == "incr":
        out.write(b"%d\n" % c.incr(*args[:1], *map(int, args[1:])))
    else:
        fn = {"del": c.delete, "push": c.push, "qlen": c.qlen,
              "pub": c.publish}[cmd]
        out.write(b"%d\n" % fn(*args))
    return 0


def main(argv):
    """The command line. Exit status as iomuxctl's: 0 ok, 1 absent or
    timed out, 2 usage, 3 cannot connect, 4 an error reply."""
    opts, words, it = {}, [], iter(argv)
    for a in it:
        if a in ("-s", "-H", "--token-file", "-c", "--timeout", "--ttl"):
            opts[a] = next(it, None)
        elif a in ("-p", "--nx", "--xx"):
            opts[a] = True
        else:
            words.append(a)
    if not words or words[0] not in COMMANDS or None in opts.values() or \
            not COMMANDS[words[0]][0] <= len(words) - 1 <= \
            COMMANDS[words[0]][1]:
        sys.stderr.write(USAGE)
        return 2
    # Over TCP a token, as iomuxctl finds it: a named file must hold one;
    # none found by the default lookup means none is sent.
    if "-s" in opts and "-H" in opts:
        sys.stderr.write(USAGE)
        return 2
    token = None
    if "-H" in opts:
        named = "--token-file" in opts or os.environ.get("IOMUXD_TOKEN_FILE")
        try:
            token = token_load(opts.get("--token-file"))
        except (OSError, ValueError) as e:
            if named or not isinstance(e, FileNotFoundError):
                sys.stderr.write("iomux.py: token file: %s\n" % e)
                return 3
    try:
        c = Client(opts.get("-s"), host=opts.get("-H"), token=token)
    except Error as e:
        sys.stderr.write("iomux.py: %s\n" % e)
        return 4
    except OSError as e:
        sys.stderr.write("iomux.py: cannot connect: %s\n" % e)
        return 3
    try:
        return run(c, words[0], [w.encode() for w in words[1:]], opts,
                   sys.stdout.buffer)
    except Error as e:
        sys.stderr.write("iomux.py: %s\n" % e)
        return 4
    except (OSError, ProtocolError) as e:
        sys.stderr.write("iomux.py: %s\n" % e)
        return 3
    finally:
        c.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
