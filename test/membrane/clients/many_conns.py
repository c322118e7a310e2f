#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""N concurrent keep-alive HTTP connections to the membrane.

  many_conns.py HOST N REQUESTS FILE PATH

Opens N connections at once and waits until every one is connected (or
refused) before any sends: then each sends REQUESTS requests for PATH on
its one connection, one after the other (keep-alive), checks every
response (200, Content-Length, the bytes of FILE) and closes.  Prints
JSON: connected, answered (responses checked good), bad (wrong), reset
(connections the server reset or closed early), seconds.  60 s at most.
"""
import json
import resource
import selectors
import socket
import sys
import time

host, n, per, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[5]
want = open(sys.argv[4], "rb").read()
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, n + 64))
req = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
deadline = time.time() + 60
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

answered = bad = 0


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
        if not d:
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
                  "seconds": round(time.time() - t0, 2)}))
