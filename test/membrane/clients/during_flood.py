#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Clients of the membrane while something else (a SYN flood) runs.

  during_flood.py HOST PATH FILE KEEP SECONDS CMD...

Opens KEEP keep-alive connections, starts CMD (the flood), and 0.2 s
later, for SECONDS: one request on each kept connection and one new
connection (Connection: close, 3 s to connect) a round, every response
checked against FILE.  Then waits for CMD (60 s at most).  Prints JSON:
kept_ok, kept_failed (requests on the kept connections), new_ok,
new_failed, new_resent (new connections that took a second or more to
connect: their first SYN went unanswered and was sent again), and
"flood": the JSON line CMD printed.
"""
import json
import socket
import subprocess
import sys
import time

host, path, want, keep, secs = sys.argv[1], sys.argv[2], open(sys.argv[3], "rb").read(), \
    int(sys.argv[4]), float(sys.argv[5])


def get(s, close):
    extra = "Connection: close\r\n" if close else ""
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return False
        buf += d
    head, body = buf.split(b"\r\n\r\n", 1)
    length = [int(x.split(b":")[1]) for x in head.split(b"\r\n")
              if x.lower().startswith(b"content-length:")]
    while length and len(body) < length[0]:
        d = s.recv(65536)
        if not d:
            return False
        body += d
    return head.startswith(b"HTTP/1.1 200") and body == want


kept = [socket.create_connection((host, 80), timeout=5) for _ in range(keep)]
r = {"kept_ok": 0, "kept_failed": 0, "new_ok": 0, "new_failed": 0, "new_resent": 0}
flood = subprocess.Popen(sys.argv[6:], stdout=subprocess.PIPE, text=True)
time.sleep(0.2)
end = time.monotonic() + secs
while time.monotonic() < end:
    for s in kept:
        try:
            ok = get(s, False)
        except OSError:
            ok = False
        r["kept_ok" if ok else "kept_failed"] += 1
    t0 = time.monotonic()
    try:
        s = socket.create_connection((host, 80), timeout=3)
        r["new_resent"] += time.monotonic() - t0 >= 1.0
        s.settimeout(5)
        ok = get(s, True)
        s.close()
    except OSError:
        ok = False
    r["new_ok" if ok else "new_failed"] += 1
try:
    out, _ = flood.communicate(timeout=60)
    r["flood"] = json.loads(out.strip().splitlines()[-1])
except (subprocess.TimeoutExpired, ValueError, IndexError):
    flood.kill()
    r["flood"] = None
print(json.dumps(r))
