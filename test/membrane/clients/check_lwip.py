#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Two properties of the membrane's lwIP build (lib/membrane/lwip), seen
from the wire on the test host's interface:

  isn  the SYN-ACKs of 16 connections carry initial sequence numbers spread
       over the 32-bit space (RFC 6528; lwIP's own are a counter from 6510);
  arp  with 60 more neighbours in its ARP table (ARP requests from 60
       addresses of the subnet), the membrane still knows the test host:
       pings from it are answered without an ARP request for it (Debian's
       10-entry table forgot it, and the soak lost pings to that).
  tw   after the membrane closed a connection first (its TIME-WAIT), a
       new connection from the same client port connects at once and is
       served, as with the kernel (RFC 6191; lwIP 2.1.3 alone ACKs the SYN
       and ignores the client's RST for 2 minutes).
  timer  a SYN from a neighbour that never answers: lwIP resends its SYN-ACK
       after its 3 s RTO (6 ticks of its 500 ms TCP timer) while no other
       frame reaches the daemon, so only the membrane's timer deadline
       (the fiber kind's deadline hook) wakes the idle lcore and steps the
       membrane for it; with the hook taken out (tried by hand) no resend
       came within the check's 9 s.
  revive  a half-open connection the membrane evicted (membrane.conf
       keeps 64: 70 more SYNs from the same neighbour push the first out)
       comes back with its client's ACK: the first connection's ACK,
       carrying a GET, is answered with the file (tcp_guard.c); without
       the table, lwIP would answer it with a RST.
  ra   a Router Advertisement from a neighbour that never answers: the
       membrane (link-local IPv6 only) drops it before lwIP, which would
       take the neighbour for a router and probe it with a Neighbor
       Solicitation every second for the router's lifetime (lwIP 2.1.3
       never gives up on a router's entry: the soak's endless trickle,
       from the flood's random RAs); no solicitation for it in 5 s.

  check_lwip.py IFACE MEMBRANE_IP HOST_IP PORT
"""
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "ionswitchd"))
from traffic import inet_sum  # noqa: E402

iface, me, host, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
raw.bind((iface, 0))
raw.settimeout(0.2)
seen = {"synack": [], "synack_to": [], "arp_for_host": 0, "me_mac": b"\xff" * 6,
        "ns_targets": [], "data_to": {}, "rst_to": set()}
stop = threading.Event()


def sniff():
    while not stop.is_set():
        try:
            d = raw.recv(65536)
        except socket.timeout:
            continue
        et = struct.unpack("!H", d[12:14])[0]
        if et == 0x0806 and len(d) >= 42:
            op = struct.unpack("!H", d[20:22])[0]
            if op == 1 and d[28:32] == socket.inet_aton(me) and \
                    d[38:42] == socket.inet_aton(host):
                seen["arp_for_host"] += 1
        elif et == 0x86DD and len(d) >= 78 and d[20] == 58 and d[54] == 135:
            seen["ns_targets"].append(d[62:78])
        elif et == 0x0800 and d[23] == 6 and d[26:30] == socket.inet_aton(me):
            seen["me_mac"] = d[6:12]
            ihl = (d[14] & 15) * 4
            tcp = d[14 + ihl:]
            flags = tcp[13]
            if flags & 0x12 == 0x12:
                seq = struct.unpack("!I", tcp[4:8])[0]
                seen["synack"].append(seq)
                seen["synack_to"].append((d[30:34], struct.unpack("!H", tcp[2:4])[0],
                                          time.monotonic(), seq))
            dport = struct.unpack("!H", tcp[2:4])[0]
            if flags & 0x04:
                seen["rst_to"].add((d[30:34], dport))
            body = tcp[(tcp[12] >> 4) * 4:struct.unpack("!H", d[16:18])[0] - ihl]
            if body:
                seen["data_to"].setdefault((d[30:34], dport), b"")
                seen["data_to"][(d[30:34], dport)] += body


def csum(b):
    return 0xFFFF - inet_sum(b)


def tcp_frame(src_mac, src, sport, seq, flags, ack=0, opts=b"", data=b"", dport=None):
    """An Ethernet frame with a TCP segment from src:sport to the membrane."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport or port, seq, ack,
                      (5 + len(opts) // 4) << 4, flags, 65535, 0, 0) + opts + data
    pseudo = src + socket.inet_aton(me) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                     src, socket.inet_aton(me))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return seen["me_mac"] + src_mac + b"\x08\x00" + ip + tcp


t = threading.Thread(target=sniff)
t.start()
fails = 0
try:
    for _ in range(16):
        s = socket.create_connection((me, port), timeout=5)
        s.close()
        time.sleep(0.02)
    time.sleep(0.3)
    isn = sorted(set(seen["synack"]))
    spread = isn[-1] - isn[0] if isn else 0
    ok = len(isn) >= 16 and spread > 1 << 28
    print(f"{'ok' if ok else 'not ok'}: isn: {len(isn)} SYN-ACKs, spread "
          f"{spread:#x} (want 16 and > 0x10000000)")
    fails += not ok

    # the host is in the table (it just talked); now 60 more neighbours
    mac = bytes.fromhex(open(f"/sys/class/net/{iface}/address").read().strip().replace(":", ""))
    net = socket.inet_aton(me)[:3]
    for i in range(60):
        ip = net + bytes([100 + i])
        hw = bytes([2, 0x10, 0, 0, 0, i])
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + hw + ip + bytes(6) + socket.inet_aton(me)
        raw.send(b"\xff" * 6 + hw + b"\x08\x06" + arp)
        time.sleep(0.002)
    time.sleep(0.3)
    seen["arp_for_host"] = 0
    r = subprocess.run(["ping", "-c", "20", "-i", "0.05", "-W", "1", me],
                       capture_output=True, text=True)
    got = int(r.stdout.split(" received")[0].split()[-1]) if " received" in r.stdout else 0
    ok = got == 20 and seen["arp_for_host"] == 0
    print(f"{'ok' if ok else 'not ok'}: arp: 60 more neighbours, then ping "
          f"{got}/20 with {seen['arp_for_host']} ARP requests for {host}")
    fails += not ok

    # TIME-WAIT on the membrane's side: it closes first (Connection: close)
    def get_close(sport):
        c = socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        c.bind(("", sport))
        c.settimeout(3)
        c.connect((me, 80))
        c.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            d = c.recv(65536)
            if not d:
                break
            data += d
        c.close()
        return data.split(b"\r\n", 1)[0]
    # a port below the kernel's ephemeral range: the many-clients checks
    # before this one leave thousands of that range's ports in TIME-WAIT
    # towards port 80, and connect() from one of those fails
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    sport = random.randrange(max(1024, low - 10000), low)
    try:
        first = get_close(sport)
    except OSError as e:
        first = str(e).encode()
    time.sleep(0.5)  # our side through LAST-ACK to CLOSED; theirs in TIME-WAIT
    try:
        second = get_close(sport)
    except OSError as e:
        second = str(e).encode()
    ok = first.startswith(b"HTTP/1.1 200") and second.startswith(b"HTTP/1.1 200")
    print(f"{'ok' if ok else 'not ok'}: tw: port {sport} again after the membrane's "
          f"close: {first.decode(errors='replace')!r}, then {second.decode(errors='replace')!r}")
    fails += not ok

    # lwIP's timers while nothing else happens: a SYN from a neighbour
    # (known to the membrane by its ARP request) that never answers; the
    # test host's kernel does not see the SYN-ACKs (not its address), so
    # nothing but the membrane's timer can bring the resend
    src, hw = net + bytes([250]), bytes([2, 0x10, 0, 0, 1, 250])
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + hw + src + bytes(6) + socket.inet_aton(me)
    raw.send(b"\xff" * 6 + hw + b"\x08\x06" + arp)
    time.sleep(0.3)
    sport = random.randrange(20000, 30000)
    raw.send(tcp_frame(hw, src, sport, 1000, 0x02))
    deadline = time.monotonic() + 9
    mine = []
    while time.monotonic() < deadline and len(mine) < 2:
        time.sleep(0.05)
        mine = [x for x in seen["synack_to"] if x[0] == src and x[1] == sport]
    gap = mine[1][2] - mine[0][2] if len(mine) >= 2 else float("inf")
    if mine:  # end it: a RST in the window of the SYN-ACK
        raw.send(tcp_frame(hw, src, sport, 1001, 0x04))
    ok = len(mine) >= 2 and gap < 4.5
    print(f"{'ok' if ok else 'not ok'}: timer: {len(mine)} SYN-ACKs to a silent "
          f"neighbour, the resend after {gap:.2f} s (lwIP's RTO 3 s; want < 4.5 s)")
    fails += not ok

    # a half-open connection evicted, then its ACK: a neighbour (.252)
    # that speaks TCP by hand; its SYNs offer MSS 1460 and window scale 7
    src, hw = net + bytes([252]), bytes([2, 0x10, 0, 0, 1, 252])
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + hw + src + bytes(6) + socket.inet_aton(me)
    raw.send(b"\xff" * 6 + hw + b"\x08\x06" + arp)
    time.sleep(0.3)
    opts = b"\x02\x04\x05\xb4\x01\x03\x03\x07"
    base = random.randrange(30000, 40000)
    raw.send(tcp_frame(hw, src, base, 5000, 0x02, opts=opts, dport=80))
    deadline = time.monotonic() + 3
    first = []
    while time.monotonic() < deadline and not first:
        time.sleep(0.02)
        first = [x for x in seen["synack_to"] if x[0] == src and x[1] == base]
    for k in range(1, 71):  # the first becomes the oldest: evicted
        raw.send(tcp_frame(hw, src, base + k, 5000, 0x02, opts=opts, dport=80))
        time.sleep(0.002)
    time.sleep(0.3)
    got = b""
    req = b"GET /small.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    if first:
        iss = first[0][3]
        raw.send(tcp_frame(hw, src, base, 5001, 0x18, ack=iss + 1, data=req, dport=80))
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and b"\r\n\r\n" not in got:
            time.sleep(0.02)
            got = seen["data_to"].get((src, base), b"")
    reset = (src, base) in seen["rst_to"]
    for k in range(71):  # end them all: a RST each
        mine = [x for x in seen["synack_to"] if x[0] == src and x[1] == base + k]
        if mine:
            raw.send(tcp_frame(hw, src, base + k, 5001 + (len(req) if k == 0 else 0),
                               0x04, dport=80))
    ok = got.startswith(b"HTTP/1.1 200") and not reset
    status = got.split(b"\r\n", 1)[0].decode(errors="replace")
    print(f"{'ok' if ok else 'not ok'}: revive: the first of 71 half-open connections "
          f"(64 kept), its ACK with a GET: {status!r}{', reset' if reset else ''}")
    fails += not ok

    # a Router Advertisement (router lifetime 1800 s, no link-layer address
    # option) from a link-local neighbour that answers nothing
    hw = bytes([2, 0x10, 0, 0, 1, 251])
    rtr = socket.inet_pton(socket.AF_INET6, "fe80::10:ff:fe00:1fb")
    allnodes = socket.inet_pton(socket.AF_INET6, "ff02::1")
    ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
    pseudo = rtr + allnodes + struct.pack("!IxxxB", len(ra), 58)
    ra = ra[:2] + struct.pack("!H", csum(pseudo + ra)) + ra[4:]
    ip6 = struct.pack("!IHBB", 6 << 28, len(ra), 58, 255) + rtr + allnodes
    seen["ns_targets"] = []
    raw.send(b"\x33\x33\x00\x00\x00\x01" + hw + b"\x86\xdd" + ip6 + ra)
    time.sleep(5)
    n = seen["ns_targets"].count(rtr)
    ok = n == 0
    print(f"{'ok' if ok else 'not ok'}: ra: {n} Neighbor Solicitations in 5 s for a "
          f"router that never answers (want 0: the RA is not given to lwIP)")
    fails += not ok
finally:
    stop.set()
    t.join()
sys.exit(1 if fails else 0)
