#!/usr/bin/env python3
"""Where Redis's CPU per accept goes: the Redis inbox's accept script against
variants of itself that leave one step out, each sent the same way.

    python3 benches/redis_script_cost.py PORT [--calls N] [--batch B]
        [--in-flight K] [--text BYTES] [--rounds R]

Point it at a scratch Redis (it writes keys under `{cost-<n>}` and deletes
nothing). The accept script is read from
`crates/protocol-webhooks-inbox/src/store/redis/scripts.rs`, as the store
sends it; each variant is that text with one step taken out (a variant that
no longer finds the text it edits stops the run, so a changed script cannot
be measured by a stale variant). Each call carries B entries, three
arguments each (id, event type, a `message.created` body padded with BYTES
of text: 820 gives the 895 bytes of `inbox-load`'s), K calls are kept in
flight on one connection, and Redis's CPU (`INFO cpu`, user + system) over
the N calls is divided by the entries sent. The variants take turns R
times, so load from other work falls on each alike.

This process's own CPU is not counted: it only has to keep Redis busy.
"""

import argparse
import os
import re
import socket
import time

SCRIPTS = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..", "crates", "protocol-webhooks-inbox", "src", "store", "redis", "scripts.rs",
)
FIXED_KEYS = ["stream", "delayed", "leases", "seq", "index:pending", "index:in_flight",
              "index:done", "index:dead", "aged:done", "aged:dead"]

STORE = """    local msg = redis.call('XADD', STREAM, '*', 'id', id)
    redis.call('HSET', key, 'event_type', ARGV[a + 1], 'body', ARGV[a + 2],
      'state', 'pending', 'received_at', NOW, 'msg', msg)"""
INDEX = "if #indexed > 0 then redis.call('ZADD', INDEX.pending, unpack(indexed)) end"
SEQ = "local seq = redis.call('INCRBY', SEQ, count) - count"
KNOWN = "local any_known = redis.call('EXISTS', unpack(KEYS, 11)) > 0"


def accept_script():
    text = open(SCRIPTS, encoding="utf-8").read()
    prelude = re.search(r'macro_rules! prelude \{\s*\(\) => \{\s*r"(.*?)"\s*\};', text, re.S)
    accept = re.search(r'const ACCEPT: &str = concat!\(\s*prelude!\(\),\s*r"(.*?)"\s*\);', text, re.S)
    if not prelude or not accept:
        raise SystemExit(f"the accept script was not found in {SCRIPTS}")
    return prelude.group(1) + accept.group(1)


def edit(script, old, new):
    if old not in script:
        raise SystemExit(f"the accept script no longer holds:\n{old}")
    return script.replace(old, new)


def variants(script):
    no_body = edit(script, "'body', ARGV[a + 2],", "")
    no_stream = edit(script, "local msg = redis.call('XADD', STREAM, '*', 'id', id)", "local msg = '0-1'")
    no_writes = edit(script, STORE, "")
    no_index = edit(no_writes, INDEX, "")
    empty = edit(edit(no_index, SEQ, "local seq = 0"), KNOWN, "local any_known = false")
    return [
        ("accept, as the store sends it", script),
        ("without the body in the entry's hash", no_body),
        ("without the XADD", no_stream),
        ("without the entry's XADD and HSET", no_writes),
        ("... and without the pending index's ZADD", no_index),
        ("... and without INCRBY and EXISTS: the arguments only", empty),
    ]


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


class Connection:
    def __init__(self, port):
        self.socket = socket.create_connection(("127.0.0.1", port))
        self.buffer = b""

    def send(self, data):
        self.socket.sendall(data)

    def _fill(self, size):
        while len(self.buffer) < size:
            chunk = self.socket.recv(1 << 20)
            if not chunk:
                raise SystemExit("Redis closed the connection")
            self.buffer += chunk

    def _line(self):
        while b"\r\n" not in self.buffer:
            self._fill(len(self.buffer) + 1)
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return rest
        if kind == b"-":
            raise SystemExit(f"Redis answered an error: {rest.decode()}")
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            self._fill(size + 2)
            value, self.buffer = self.buffer[:size], self.buffer[size + 2:]
            return value
        if kind == b"*":
            return [self.reply() for _ in range(max(int(rest), 0))]
        raise SystemExit(f"unexpected reply: {line!r}")

    def command(self, *args):
        self.send(encode(args))
        return self.reply()

    def cpu_seconds(self):
        info = self.command("INFO", "cpu").decode()
        return sum(float(line.split(":")[1]) for line in info.split("\r\n")
                   if line.startswith(("used_cpu_sys:", "used_cpu_user:")))


def measure(redis, sha, prefix, args):
    body = (b'{"id":"evt_cost","type":"message.created","payload":{"id":"msg_1","text":"'
            + b"x" * args.text + b'"}}')
    fixed = [f"{{{prefix}}}:{name}" for name in FIXED_KEYS]
    entry = f"{{{prefix}}}:entry:"
    serial = [0]

    def call():
        ids = []
        for _ in range(args.batch):
            serial[0] += 1
            ids.append(f"evt_{serial[0]}")
        argv = [entry, "workers", str(int(time.time() * 1000))]
        for event_id in ids:
            argv += [event_id, "message.created", body]
        keys = fixed + [entry + event_id for event_id in ids]
        return encode(["EVALSHA", sha, str(len(keys))] + keys + argv)

    before = redis.cpu_seconds()
    sent = waiting = 0
    while sent < args.calls or waiting:
        while waiting < args.in_flight and sent < args.calls:
            redis.send(call())
            sent += 1
            waiting += 1
        stored = redis.reply()
        waiting -= 1
        if not isinstance(stored, list) or len(stored) != args.batch:
            raise SystemExit(f"unexpected reply to an accept: {stored!r}")
    return (redis.cpu_seconds() - before) * 1e6 / (args.calls * args.batch)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--in-flight", type=int, default=4)
    parser.add_argument("--text", type=int, default=820)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    redis = Connection(args.port)
    loaded = [(name, redis.command("SCRIPT", "LOAD", text).decode())
              for name, text in variants(accept_script())]
    runs = {name: [] for name, _ in loaded}
    for round_ in range(args.rounds):
        for number, (name, sha) in enumerate(loaded):
            prefix = f"cost-{os.getpid()}-{round_}-{number}"
            runs[name].append(measure(redis, sha, prefix, args))
    print(f"Redis CPU per entry, µs: {args.calls} calls of {args.batch} entries, "
          f"{args.in_flight} in flight, {args.text} bytes of text per body; "
          f"{args.rounds} rounds taking turns\n")
    print("| script | " + " | ".join(f"round {n + 1}" for n in range(args.rounds)) + " |")
    print("|---|" + "---:|" * args.rounds)
    for name, figures in runs.items():
        print(f"| {name} | " + " | ".join(f"{figure:.2f}" for figure in figures) + " |")


if __name__ == "__main__":
    main()
