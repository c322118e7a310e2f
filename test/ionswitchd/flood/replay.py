#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send again frames that made the daemon fail under the flood (flood.sh).

  replay.py IFACE pcap FILE [FIRST [LAST]]
      the frames of a pcap, by number (flood_gen --tail-pcap and --pcap
      store a frame's number as its time in microseconds), 2 ms apart
  replay.py IFACE udplite DST_MAC DST_IP [COUNT [SRC_IP]]
  replay.py IFACE short-arp DST_MAC [ROUNDS]
      frames of the two bugs of Debian's lwIP 2.1.3 the flood found; the
      membrane now drops them before lwIP (lib/membrane/membrane.c guard()),
      and the daemon must live through them (the clients test sends 10 and
      100 rounds, and checks the membrane counted each):

udplite:   a UDP-Lite datagram (IPv4 protocol 136) whose checksum coverage
           (the UDP length field) is 0xFFFF in a 12-byte datagram: lwIP's
           inet_cksum_pseudo_partial_base() fails LWIP_ASSERT("delete me",
           chksum_len < 0x7fff), which aborts the whole daemon (any build).
short-arp: rounds of 28 ARP frames of 14..41 bytes (the ARP header cut short),
           2 ms apart:
           etharp_input() reads the 28-byte ARP header past the end of the
           frame's buffer.  The ASan build died of a SEGV in etharp_input
           within a few hundred rounds of these; the others read heap
           garbage as ARP fields.
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from traffic import inet_sum  # noqa: E402


def pcap_frames(path):
    data = open(path, "rb").read()[24:]
    while data:
        sec, usec, n, _ = struct.unpack("<IIII", data[:16])
        yield sec * 1000000 + usec, data[16:16 + n]
        data = data[16 + n:]


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    iface, what = argv[1], argv[2]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    if what == "pcap":
        first = int(argv[4]) if len(argv) > 4 else 0
        last = int(argv[5]) if len(argv) > 5 else 1 << 62
        for i, f in pcap_frames(argv[3]):
            if first <= i <= last:
                s.send(f)
                time.sleep(0.002)
        return
    eth = bytes.fromhex(argv[3].replace(":", "")) + bytes.fromhex("020000000a01")
    if what == "udplite" and 5 <= len(argv) <= 7:
        count = int(argv[5]) if len(argv) > 5 else 1
        src = argv[6] if len(argv) > 6 else "10.79.0.100"
        udp = struct.pack("!HHHH", 4000, 7, 0xFFFF, 0) + b"boom"
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 136, 0,
                         socket.inet_aton(src), socket.inet_aton(argv[4]))
        ip = ip[:10] + struct.pack("!H", 0xFFFF - inet_sum(ip)) + ip[12:]
        for _ in range(count):
            s.send(eth + b"\x08\x00" + ip + udp)
    elif what == "short-arp" and 4 <= len(argv) <= 5:
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + bytes(20)
        for _ in range(int(argv[4]) if len(argv) > 4 else 1):
            for n in range(28):
                s.send(eth + b"\x08\x06" + arp[:n])
            time.sleep(0.002)  # well below the net-rx ring's 256 slots a wake-up
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
