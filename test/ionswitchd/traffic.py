#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send a known mix of Ethernet frames on a Linux interface and count what
comes back, for the ionswitchd integration tests.

  traffic.py send IFACE KIND=N[,KIND=N...] [--rate PPS] [--seconds S]
  traffic.py sniff IFACE SECONDS          (prints counts per EtherType, JSON)
  traffic.py sendsniff IFACE MIX SECONDS  (both; prints {"sent":..,"back":..},
                                          sniffing until SECONDS pass without
                                          a frame back once all is sent)

KINDs: ipv4 arp ipv6 utcp lwf unknown vlan_ipv4 qinq_lwf, and LWF v2 frames
(docs/wire-formats.md) for the lwf fiber: lwf_ok (valid, a new sequence
each), lwf_replay (a copy of the first lwf_ok: list lwf_ok first),
lwf_badcrc, lwf_badmagic, lwf_badversion, lwf_short, lwf_badlen, lwf_toobig,
and UTCP packets for the utcp fiber: utcp_ok (to port 7), utcp_unbound (port
9), utcp_badsum, utcp_badversion, utcp_short, utcp_badlen
"""
import json
import os
import socket
import struct
import sys
import threading
import time
import zlib

ETH_P_ALL = 0x0003
SRC = bytes.fromhex("020000000a01")
DST = bytes.fromhex("020000000b02")

KINDS = {
    # kind: (tags, ethertype, payload length)
    "ipv4": ([], 0x0800, 46),
    "arp": ([], 0x0806, 46),
    "ipv6": ([], 0x86DD, 60),
    "utcp": ([], 0x88B5, 64),
    "lwf": ([], 0x4C57, 128),
    "unknown": ([], 0x1234, 46),
    "vlan_ipv4": ([0x8100], 0x0800, 46),
    "qinq_lwf": ([0x88A8, 0x8100], 0x4C57, 128),
}


LWF_KINDS = ("lwf_ok", "lwf_replay", "lwf_badcrc", "lwf_badmagic",
             "lwf_badversion", "lwf_short", "lwf_badlen", "lwf_toobig")


def lwf(session, seq, payload, cls=0x02, magic=b"LWF\0", version=2, plen=None):
    """An LWF v2 frame: header, payload, trailer with the CRC-32."""
    hdr = (magic + bytes(range(0xd0, 0xe8)) + bytes(range(0x50, 0x68))
           + bytes([session]) * 16 + struct.pack("!IHHBBBBQ", seq, 1,
           len(payload) if plen is None else plen, cls, version, 0, 0, 0))
    body = hdr + payload
    return body + bytes(32) + struct.pack("!I", zlib.crc32(body))


def lwf_payload(kind, i):
    p = bytes(range(64))
    if kind == "lwf_ok":
        return lwf(i % 3, i, p)
    if kind == "lwf_replay":
        return lwf(0, 0, p)
    if kind == "lwf_badcrc":
        f = bytearray(lwf(i % 3, i, p))
        f[100] ^= 1
        return bytes(f)
    if kind == "lwf_badmagic":
        return lwf(i % 3, i, p, magic=b"LWX\0")
    if kind == "lwf_badversion":
        return lwf(i % 3, i, p, version=1)
    if kind == "lwf_short":
        return lwf(i % 3, i, p)[:100]
    if kind == "lwf_badlen":
        return lwf(i % 3, i, p, plen=400)
    if kind == "lwf_toobig":
        return lwf(i % 3, i, p, cls=0x00)  # 188 bytes in a 128-byte class
    raise ValueError(kind)


UTCP_KINDS = ("utcp_ok", "utcp_unbound", "utcp_badsum", "utcp_badversion",
              "utcp_short", "utcp_badlen")


def inet_sum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def utcp(dport, payload, version=1, length=None):
    n = 10 + len(payload) if length is None else length
    hdr = struct.pack("!BBHHHH", version, 0, 4000, dport, n, 0)
    csum = 0xffff - inet_sum(hdr + payload)
    return struct.pack("!BBHHHH", version, 0, 4000, dport, n, csum) + payload


def utcp_payload(kind, i):
    p = b"payload %06d" % i
    if kind == "utcp_ok":
        return utcp(7, p)
    if kind == "utcp_unbound":
        return utcp(9, p)
    if kind == "utcp_badsum":
        f = bytearray(utcp(7, p))
        f[12] ^= 1
        return bytes(f)
    if kind == "utcp_badversion":
        return utcp(7, p, version=2)
    if kind == "utcp_short":
        return utcp(7, p)[:8]
    if kind == "utcp_badlen":
        return utcp(7, p, length=200)
    raise ValueError(kind)


def frame(kind, seq):
    if kind in UTCP_KINDS:
        f = DST + SRC + struct.pack("!H", 0x88B5) + utcp_payload(kind, seq)
        if kind == "utcp_short":
            return f  # a runt on purpose: padding would make the header whole
        return f + bytes(max(0, 60 - len(f)))  # Ethernet's minimum
    if kind in LWF_KINDS:
        return DST + SRC + struct.pack("!H", 0x4C57) + lwf_payload(kind, seq)
    tags, etype, plen = KINDS[kind]
    hdr = DST + SRC
    for i, tpid in enumerate(tags):
        hdr += struct.pack("!HH", tpid, 100 + i)
    payload = struct.pack("!I", seq) + bytes((seq + i) & 0xFF for i in range(plen - 4))
    return hdr + struct.pack("!H", etype) + payload


def parse_mix(text):
    mix = {}
    for part in text.split(","):
        k, _, n = part.partition("=")
        if k not in KINDS and k not in LWF_KINDS and k not in UTCP_KINDS:
            sys.exit(f"traffic.py: unknown kind {k!r}; known: {' '.join(KINDS)} {' '.join(LWF_KINDS)}")
        mix[k] = int(n)
    return mix


def send(iface, mix, rate=20000):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    # interleave the kinds so every ring sees traffic throughout
    left, order = dict(mix), []
    while any(left.values()):
        for k in left:
            if left[k]:
                order.append(k)
                left[k] -= 1
    gap = 1.0 / rate if rate else 0
    t0 = time.monotonic()
    for i, k in enumerate(order):
        while True:
            try:
                s.send(frame(k, i))
                break
            except BlockingIOError:
                time.sleep(0.001)
            except OSError as e:  # ENOBUFS from a full TAP queue: retry
                if e.errno != 105:
                    raise
                time.sleep(0.001)
        if gap:
            ahead = t0 + (i + 1) * gap - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    return {k: n for k, n in mix.items()}


SOL_PACKET = 263
PACKET_STATISTICS = 6
PACKET_IGNORE_OUTGOING = 23  # Linux 4.20


SOL_SOCKET_SO_RCVBUFFORCE = 33  # not in Python's socket module
SOL_PACKET = 263
PACKET_STATISTICS = 6
PACKET_IGNORE_OUTGOING = 23  # Linux 4.20


def sniff_socket(iface):
    """A socket that sees the frames coming back on @iface, with room for
    a burst of them (a slow reader must not lose them: see sniff())."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    try:  # our own frames, the other half of the load, are not wanted
        s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    except OSError:
        pass
    try:  # root: past net.core.rmem_max
        s.setsockopt(socket.SOL_SOCKET, SOL_SOCKET_SO_RCVBUFFORCE, 16 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind((iface, 0))
    s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)  # reset the drop count
    s.settimeout(0.2)
    return s


def sniff(s, seconds, counts, sent=None):
    """Count the frames reflected back to us, by EtherType, until SECONDS
    pass without one once @sent is set (without @sent: for SECONDS).
    counts["sniff_drops"] is what the kernel dropped because this reader
    fell behind: a slow daemon (the sanitizer builds) must not pass for
    one that lost frames."""
    start = last = time.monotonic()
    cap = start + 60 + seconds  # a daemon that never stops reflecting
    while True:
        now = time.monotonic()
        if sent is None:
            if now >= start + seconds:
                break
        elif sent.is_set() and now >= last + seconds or now >= cap:
            break
        try:
            data, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[2] == socket.PACKET_OUTGOING or data[:6] != SRC:
            continue  # only frames reflected back to us
        last = time.monotonic()
        off = 12
        while struct.unpack("!H", data[off:off + 2])[0] in (0x8100, 0x88A8):
            off += 4
        et = "0x%04x" % struct.unpack("!H", data[off:off + 2])[0]
        counts[et] = counts.get(et, 0) + 1
    _, drops = struct.unpack("II", s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    counts["sniff_drops"] = drops


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, iface = argv[1], argv[2]
    if cmd == "send":
        rate = int(os.environ.get("TRAFFIC_RATE", "20000"))
        print(json.dumps(send(iface, parse_mix(argv[3]), rate)))
    elif cmd == "sniff":
        counts = {}
        sniff(sniff_socket(iface), float(argv[3]), counts)
        print(json.dumps(counts))
    elif cmd == "sendsniff":
        counts, done = {}, threading.Event()
        t = threading.Thread(target=sniff, args=(sniff_socket(iface),
                                                 float(argv[4]), counts, done))
        t.start()
        rate = int(os.environ.get("TRAFFIC_RATE", "20000"))
        try:
            sent = send(iface, parse_mix(argv[3]), rate)
        finally:
            done.set()
        t.join()
        print(json.dumps({"sent": sent, "back": counts}))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
