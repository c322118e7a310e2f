#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The soak's UDP and TCP echo load (scripts/soak.sh): until DEADLINE (a
time.time() value), every second 20 UDP datagrams to IP:7, each answered
byte for byte (3 tries: a datagram may be dropped under the flood, an echo
must never lie), and every 5 seconds 64 KiB through TCP echo, byte-exact.

  echo_client.py IP DEADLINE OUT_JSON
"""
import json
import os
import socket
import sys
import time

ip, deadline, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
r = {"udp_sent": 0, "udp_ok": 0, "udp_retries": 0, "udp_wrong": 0,
     "tcp_rounds": 0, "tcp_ok": 0, "tcp_errors": []}


def udp_round(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    for i in range(n):
        msg = os.urandom(16 + i * 50)
        r["udp_sent"] += 1
        for attempt in range(3):
            if attempt:
                r["udp_retries"] += 1
            s.sendto(msg, (ip, 7))
            try:
                data, _ = s.recvfrom(4096)
            except socket.timeout:
                continue
            if data == msg:
                r["udp_ok"] += 1
            else:
                r["udp_wrong"] += 1
            break
    s.close()


def tcp_round(size):
    r["tcp_rounds"] += 1
    data = os.urandom(size)
    got = bytearray()
    try:
        with socket.create_connection((ip, 7), timeout=10) as s:
            s.settimeout(10)
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            while len(got) < size:
                b = s.recv(65536)
                if not b:
                    break
                got += b
    except OSError as e:
        r["tcp_errors"].append(str(e))
        return
    if bytes(got) == data:
        r["tcp_ok"] += 1
    else:
        r["tcp_errors"].append(f"{len(got)} of {size} bytes back, equal: {bytes(got) == data}")


t = 0
while time.time() < deadline:
    start = time.time()
    udp_round(20)
    if t % 5 == 0:
        tcp_round(65536)
    t += 1
    time.sleep(max(0.0, 1.0 - (time.time() - start)))
json.dump(r, open(out, "w"))
