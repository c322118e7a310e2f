#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Count the ARP requests the membrane sends, for one host and for the rest,
on IFACE for SECONDS (run in the test netns; see docs/performance.md,
"The soak's losses").  Usage: arpsniff.py IFACE SECONDS MEMBRANE_IP HOST_IP"""
import socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind((sys.argv[1], 0))
s.settimeout(0.5)
end = time.time() + float(sys.argv[2])
mine = socket.inet_aton(sys.argv[3]); linux = socket.inet_aton(sys.argv[4])
who = 0; other = 0; times = []
while time.time() < end:
    try:
        d, a = s.recvfrom(2048)
    except socket.timeout:
        continue
    if a[2] == socket.PACKET_OUTGOING or len(d) < 42:
        continue
    op = struct.unpack("!H", d[20:22])[0]
    if op == 1 and d[28:32] == mine:
        if d[38:42] == linux:
            who += 1; times.append(round(time.time() % 1000, 2))
        else:
            other += 1
print(f"membrane ARP requests: for Linux {who}, for others {other}; at {times[:20]}")
