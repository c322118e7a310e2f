#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""N concurrent keep-alive HTTP connections to the membrane.

  many_conns.py HOST N REQUESTS FILE PATH [HOLD]

Opens N connections at once and waits until every one is connected (or
refused) before any sends: then each sends REQUESTS requests for PATH on
its one connection, one after the other (keep-alive), checks every
response (200, Content-Length, the bytes of FILE) and closes.  Prints
JSON: connected, answered (responses checked good), bad (wrong), reset
(connections the server reset or closed early), seconds.  60 s at most.

With HOLD (seconds), a connection stays open after its last response,
idle, until the server closes it (its keep-alive idle timeout) or HOLD
has passed: idle_closed counts those the server closed, idle_s the
least and most seconds they were idle before it did.
"""
import json
import resource
import selectors
import socket
import sys
import time

host, n, per, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[5]
hold = float(sys.argv[6]) if len(sys.argv) > 6 else 0
want = open(sys.argv[4], "rb").read()
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, n + 64))
req = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
deadline = time.time() + 60 + hold
t0 = time.time()
sel = selectors.DefaultSelector()
conns = {}
for _ in range(n):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect((host, 80))
    except BlockingIOError:
        pass
    conns[s] = {"buf": b"", "done": 0}
    sel.register(s, selectors.EVENT_WRITE)

# every connection established (or refused) before the first request
connected = reset = 0
pending = set(conns)
while pending and time.time() < deadline:
    for key, _ in sel.select(1):
        s = key.fileobj
        pending.discard(s)
        sel.unregister(s)
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            connected += 1
        else:
            reset += 1
            s.close()
            del conns[s]

answered = bad = idle_closed = held = 0
idle_s = []


def send(s):
    try:
        s.send(req)
        return True
    except OSError:
        return False


live = set()
for s in conns:
    if send(s):
        sel.register(s, selectors.EVENT_READ)
        live.add(s)
    else:
        reset += 1
while live and time.time() < deadline:
    for key, _ in sel.select(1):
        s = key.fileobj
        c = conns[s]
        try:
            d = s.recv(65536)
        except OSError:
            d = b""
        if not d and c["done"] == per:  # idle, closed by the server
            idle_closed += 1
            held -= 1
            idle_s.append(time.time() - c["last"])
            sel.unregister(s)
            live.discard(s)
            s.close()
            continue
        if not d or c["done"] == per:
            reset += 1
            sel.unregister(s)
            live.discard(s)
            s.close()
            continue
        c["buf"] += d
        while b"\r\n\r\n" in c["buf"]:
            head, rest = c["buf"].split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            fields = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
            length = int(fields.get("content-length", "-1"))
            if len(rest) < length:
                break
            ok = lines[0].startswith("HTTP/1.1 200") and rest[:length] == want
            answered += ok
            bad += not ok
            c["buf"] = rest[length:]
            c["done"] += 1
            c["last"] = time.time()
            if c["done"] == per and ok and hold:
                held += 1
                if held == len(live):  # the last answered: HOLD from now
                    deadline = min(deadline, time.time() + hold)
                break  # stays open, idle
            if c["done"] == per or not ok:
                sel.unregister(s)
                live.discard(s)
                s.close()
                break
            if not send(s):
                reset += 1
                sel.unregister(s)
                live.discard(s)
                s.close()
                break
print(json.dumps({"connected": connected, "answered": answered, "bad": bad,
                  "reset": reset, "unfinished": len(live),
                  "idle_closed": idle_closed,
                  "idle_s": [round(min(idle_s), 1), round(max(idle_s), 1)] if idle_s else [],
                  "seconds": round(time.time() - t0, 2)}))
