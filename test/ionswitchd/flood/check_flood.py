#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Counters of the flood test (flood.sh), on every hop from the sender to
the daemon's fibers.

  check_flood.py watch IFACE DAEMON_PREFIX PEER_PREFIX OUT READY
      Counts the frames Linux itself sends on IFACE (a packet socket with a
      filter that keeps outgoing frames only: the generator bypasses the
      qdisc and the packet taps, so what is left is Linux's own), snapshots
      every counter once they are still, touches READY, and on SIGUSR1
      snapshots them again once still and writes both to OUT.

  check_flood.py check TOTALS GEN WINDOW
      The checks, exact: see check() below.
"""
import ctypes
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
from totals import frame_identities  # noqa: E402

ROUTED = (0x0800, 0x0806, 0x86DD, 0x88B5, 0x4C57)
TAGS = (0x8100, 0x88A8, 0x9100)
SLOT_SIZE = 1514
PACKET_OUTGOING = 4
LWF_REASONS = ("ok", "too_short", "bad_magic", "bad_version", "bad_length",
               "too_big", "bad_checksum", "replay")
UTCP_REASONS = ("ok", "too_short", "bad_version", "bad_length", "bad_checksum")


def classify(f):
    """The NetSwitch's view of a frame (lib/netswitch classify())."""
    off = 12
    for tags in range(3):
        if len(f) < off + 2:
            return "runt"
        et = struct.unpack_from("!H", f, off)[0]
        if et not in TAGS:
            return "0x%04x" % et if et in ROUTED else "unknown"
        if tags == 2:
            return "unknown"
        off += 4
    return "unknown"


# ---- counters ---------------------------------------------------------------

class Telemetry:
    """A DPDK telemetry client (the v2 socket of a process's file prefix)."""

    def __init__(self, prefix):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.connect(f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2")
        self.max = json.loads(self.s.recv(1024))["max_output_len"]

    def __call__(self, cmd):
        self.s.send(cmd.encode())
        return json.loads(self.s.recv(self.max))[cmd.split(",")[0]]


def snapshot(iface, daemon, peer, peer_ports):
    stats = f"/sys/class/net/{iface}/statistics/"
    tap = {k: int(open(stats + k).read()) for k in ("tx_packets", "tx_dropped",
                                                    "rx_packets", "rx_dropped")}
    qd = json.loads(subprocess.run(["tc", "-s", "-j", "qdisc", "show", "dev", iface],
                                   check=True, capture_output=True, text=True).stdout)
    tap["qdisc_packets"] = sum(q["packets"] for q in qd if q.get("root"))
    ion_port = daemon("/ion/port")
    return {
        "ns": daemon("/ion/netswitch"),
        "tap": tap,
        "peer": {name: peer(f"/ethdev/stats,{pid}") for name, pid in peer_ports.items()},
        "port": daemon(f"/ethdev/stats,{ion_port['port_id']}"),
        "ion_port": ion_port,
        "routes": daemon("/ion/routes"),
    }


def moving(a, b):
    """Whether frames were still moving towards the daemon between a and b."""
    return (a["tap"]["tx_packets"] != b["tap"]["tx_packets"]
            or a["tap"]["qdisc_packets"] != b["tap"]["qdisc_packets"]
            or a["peer"] != b["peer"] or a["port"]["ipackets"] != b["port"]["ipackets"]
            or a["ns"]["rx"] != b["ns"]["rx"])


def still_snapshot(snap, timeout=30.0):
    """A snapshot once nothing moved for half a second."""
    end = time.monotonic() + timeout
    a = snap()
    while True:
        time.sleep(0.5)
        b = snap()
        if not moving(a, b):
            return b
        if time.monotonic() > end:
            b["not_still"] = True
            return b
        a = b


class LinuxSniffer:
    """Linux's own outgoing frames on iface, counted as the NetSwitch
    classifies them.  A classic BPF filter keeps PACKET_OUTGOING only, so
    the socket never sees the flood's reflections coming in."""

    def __init__(self, iface):
        # ld [pkttype]; jeq #OUTGOING, keep, drop
        prog = [(0x30, 0, 0, 0xFFFFF000 + 4), (0x15, 0, 1, PACKET_OUTGOING),
                (0x06, 0, 0, 0x40000), (0x06, 0, 0, 0)]
        self.filt = ctypes.create_string_buffer(
            b"".join(struct.pack("HBBI", *i) for i in prog))
        fprog = struct.pack("HL", len(prog), ctypes.addressof(self.filt))
        # protocol 0 until the filter is on: nothing unfiltered is queued
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        self.s.setsockopt(socket.SOL_SOCKET, 26, fprog)  # SO_ATTACH_FILTER
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.s.bind((iface, 0x0003))  # ETH_P_ALL
        self.s.setblocking(False)
        self.counts = {}

    def drain(self, wait=0.0):
        r, _, _ = select.select([self.s], [], [], wait)
        while r:
            try:
                data, addr = self.s.recvfrom(65535)
            except BlockingIOError:
                break
            if addr[2] != PACKET_OUTGOING:
                continue
            c = classify(data)
            self.counts[c] = self.counts.get(c, 0) + 1
            if c.startswith("0x") and len(data) > SLOT_SIZE:
                self.counts[c + "_oversize"] = self.counts.get(c + "_oversize", 0) + 1

    def drops(self):
        # struct tpacket_stats { tp_packets, tp_drops }
        return struct.unpack("II", self.s.getsockopt(263, 6, 8))[1]


def watch(iface, daemon_prefix, peer_prefix, out, ready):
    sniffer = LinuxSniffer(iface)
    daemon, peer = Telemetry(daemon_prefix), Telemetry(peer_prefix)
    peer_ports = {}
    for pid in peer("/ethdev/list"):
        name = peer(f"/ethdev/info,{pid}")["name"]
        peer_ports["tap" if name.startswith("net_tap") else "vhost"] = pid

    def snap():
        sniffer.drain()
        return snapshot(iface, daemon, peer, peer_ports)

    go = []
    signal.signal(signal.SIGUSR1, lambda *_: go.append(1))
    s0 = still_snapshot(snap)
    linux0 = dict(sniffer.counts)
    open(ready, "w").close()
    while not go:
        sniffer.drain(0.1)
    s1 = still_snapshot(snap)
    sniffer.drain()
    linux = {k: n - linux0.get(k, 0) for k, n in sniffer.counts.items()}
    json.dump({"s0": s0, "s1": s1, "linux": {k: n for k, n in linux.items() if n},
               "sniffer_drops": sniffer.drops()}, open(out, "w"), indent=1)


# ---- checks -----------------------------------------------------------------

errors = []


def expect(cond, what):
    if not cond:
        errors.append(what)
    return cond


def check(totals_path, gen_path, window_path):
    """Over the flood (counters before and after it, all exact):
      Linux's own frames = the TAP qdisc's packets (the sender bypasses it)
      TAP read + dropped = sent + refused by the TAP (and sent again) + Linux's
      TAP read = sent + Linux's; testpmd in from the TAP = TAP read
      testpmd out to the daemon = testpmd in (nothing lost before the port)
      daemon port rx (+ errors, which must be 0) = testpmd out = NetSwitch rx
      runt, unknown, per EtherType rx and oversize = what the sender (and
      Linux) sent, as flood_gen classified it
    Over the whole run (the totals at exit):
      port rx = NetSwitch rx = runt + unknown + sum of route rx
      route rx = delivered + full + oversize; ring enqueued = delivered
      into it; every ring drained (enqueued = dequeued, used 0)
      lwf, utcp: frames = ring dequeued = sum of verdicts; none not-LWF or
      not-UTCP; reflected = ok = tx ring enqueued; every verdict seen
      utcp ok = delivered + unbound + app_full
      membrane: rx_frames = fiber frames = ring dequeued; unhandled +
      malformed + nopbuf <= rx_frames; nopbuf 0; unhandled >= tagged
      frames sent when none was dropped full on the way
      NetSwitch tx = what the TX rings gave, nothing pending; no fiber
      KILLED
    """
    tot = json.load(open(totals_path))
    gen = json.load(open(gen_path))
    win = json.load(open(window_path))
    s0, s1, linux = win["s0"], win["s1"], win["linux"]

    def d(path):
        """A counter's change over the flood, path 'a.b.c' into s0/s1."""
        a, b = s0, s1
        for k in path.split("."):
            a, b = a[k], b[k]
        return b - a

    # --- the flood's window: every frame sent reached the daemon's port ---
    n_linux = sum(n for k, n in linux.items() if not k.endswith("_oversize"))
    expect(not s0.get("not_still") and not s1.get("not_still"),
           "counters never stood still around the flood")
    expect(gen["sent"] == gen["frames"], f"generator sent {gen['sent']} of {gen['frames']}")
    expect(win["sniffer_drops"] == 0, f"the Linux frame counter dropped {win['sniffer_drops']}")
    # Linux's own frames are the ones through the TAP's qdisc
    expect(d("tap.qdisc_packets") == n_linux,
           f"Linux sent {d('tap.qdisc_packets')} frames through the qdisc, "
           f"the sniffer saw {n_linux}: {linux}")
    # the TAP: every frame offered was read by testpmd or refused (and the
    # generator sent the refused ones again)
    read, dropped = d("tap.tx_packets"), d("tap.tx_dropped")
    expect(read + dropped == gen["sent"] + gen["tun_refused"] + n_linux,
           f"TAP: read {read} + dropped {dropped} != sent {gen['sent']} + "
           f"refused {gen['tun_refused']} + Linux's {n_linux}")
    expect(read == gen["sent"] + n_linux,
           f"TAP: testpmd read {read}, sent {gen['sent']} + Linux's {n_linux} "
           f"(dropped {dropped}, {gen['tun_refused']} refused and sent again)")
    # testpmd: what it read from the TAP it put on the daemon's virtio ring
    tap_in, vhost_out = d("peer.tap.ipackets"), d("peer.vhost.opackets")
    expect(tap_in == read, f"testpmd's TAP port received {tap_in}, the TAP gave {read}")
    expect(vhost_out == tap_in,
           f"testpmd lost {tap_in - vhost_out} frames before the daemon "
           f"(TAP in {tap_in}, vhost out {vhost_out})")
    # the daemon's port and its NetSwitch
    port_rx = d("port.ipackets")
    expect(port_rx + d("port.ierrors") == vhost_out,
           f"daemon port: rx {port_rx} + errors {d('port.ierrors')} != "
           f"testpmd's {vhost_out}")
    expect(d("port.ierrors") == 0 and d("port.imissed") == 0 and d("port.rx_nombuf") == 0,
           f"daemon port errors: {s1['port']}")
    expect(d("ns.rx") == port_rx,
           f"NetSwitch rx {d('ns.rx')} != port rx {port_rx}")
    # per EtherType, as the generator classified its frames (+ Linux's)
    expect(d("ns.runt") == gen["runt"] + linux.get("runt", 0),
           f"runt {d('ns.runt')}, sent {gen['runt']}")
    expect(d("ns.unknown") == gen["unknown"] + linux.get("unknown", 0),
           f"unknown {d('ns.unknown')}, sent {gen['unknown']}")
    for et, g in gen["routes"].items():
        rx, ov = d(f"routes.{et}.rx"), d(f"routes.{et}.oversize")
        want = g["rx"] + linux.get(et, 0)
        expect(rx == want, f"{et}: received {rx}, sent {want}")
        want = g["oversize"] + linux.get(et + "_oversize", 0)
        expect(ov == want, f"{et}: oversize {ov}, sent {want}")
        expect(g["oversize"] > 0, f"{et}: the flood sent no oversize frame")

    # --- the whole run (totals at exit): every frame counted once ---
    ns = tot["netswitch"]
    routes = tot["routes"]
    rings = {r["channel"]: r for r in tot["rings"]}
    fibers = {f["name"]: f for f in tot["fibers"]}
    frame_identities(tot, expect)
    for ch, ring in rings.items():
        into = [r for r in routes if r["channel"] == ch]
        if into:
            dl = sum(r["delivered"] for r in into)
            expect(ring["enqueued"] == dl,
                   f"ring 0x{ch:04x}: enqueued {ring['enqueued']} != delivered {dl}")
        expect(ring["enqueued"] == ring["dequeued"] and ring["used"] == 0,
               f"ring 0x{ch:04x} not drained at exit: {ring}")
    for name, f in fibers.items():
        expect(f["state"] in ("RUNNING", "DONE"), f"fiber {name} is {f['state']}")

    lwf = fibers["lwf"]
    v = lwf["lwf"]
    verdicts = sum(v[r] for r in LWF_REASONS + ("not_lwf",))
    expect(lwf["frames"] == verdicts, f"lwf read {lwf['frames']} != sum of verdicts {v}")
    expect(lwf["frames"] == rings[0x0600]["dequeued"],
           f"lwf read {lwf['frames']}, ring gave {rings[0x0600]['dequeued']}")
    expect(v["not_lwf"] == 0, f"lwf: {v['not_lwf']} frames the NetSwitch routed are not LWF")
    expect(lwf["sent"] == v["ok"] == rings[0x0601]["enqueued"],
           f"lwf reflected {lwf['sent']}, accepted {v['ok']}, "
           f"tx ring got {rings[0x0601]['enqueued']}")
    for reason in LWF_REASONS:
        expect(v[reason] > 0, f"lwf: the flood made no '{reason}' frame")

    utcp = fibers["utcp"]
    v = utcp["utcp"]
    verdicts = sum(v[r] for r in UTCP_REASONS + ("not_utcp",))
    expect(utcp["frames"] == verdicts, f"utcp read {utcp['frames']} != sum of verdicts {v}")
    expect(utcp["frames"] == rings[0x0700]["dequeued"],
           f"utcp read {utcp['frames']}, ring gave {rings[0x0700]['dequeued']}")
    expect(v["not_utcp"] == 0, f"utcp: {v['not_utcp']} frames the NetSwitch routed are not UTCP")
    expect(v["ok"] == v["delivered"] + v["unbound"] + v["app_full"],
           f"utcp ok {v['ok']} != delivered + unbound + app_full {v}")
    expect(utcp["sent"] == v["ok"] == rings[0x0701]["enqueued"],
           f"utcp reflected {utcp['sent']}, accepted {v['ok']}, "
           f"tx ring got {rings[0x0701]['enqueued']}")
    for reason in UTCP_REASONS:
        expect(v[reason] > 0, f"utcp: the flood made no '{reason}' packet")

    mf = fibers["membrane"]
    m = mf["membrane"]
    expect(m["rx_frames"] == mf["frames"] == rings[0x0500]["dequeued"],
           f"membrane read {m['rx_frames']} (fiber {mf['frames']}), "
           f"ring gave {rings[0x0500]['dequeued']}")
    # what the membrane does not hand to lwIP it counts: unhandled (tagged,
    # UDP-Lite), malformed (shorter than its header), no pbuf
    refused = m["rx_unhandled"] + m.get("rx_malformed", 0) + m["rx_nopbuf"]
    expect(refused <= m["rx_frames"], f"membrane refused {refused} of {m['rx_frames']} frames: {m}")
    expect(m["rx_nopbuf"] == 0, f"membrane: no pbuf for {m['rx_nopbuf']} frames")
    # tagged frames are unhandled (lwIP has no 802.1Q here): all those the
    # generator sent when the NetSwitch dropped none on the way
    if sum(r["full"] for r in routes if r["channel"] == 0x0500) == 0:
        expect(m["rx_unhandled"] >= gen["tagged_membrane"],
               f"membrane unhandled {m['rx_unhandled']} < tagged frames sent "
               f"{gen['tagged_membrane']}")
    expect(m["tx_frames"] == rings[0x0501]["enqueued"],
           f"membrane sent {m['tx_frames']}, ring got {rings[0x0501]['enqueued']}")
    tx_rings = sum(rings[ch]["dequeued"] for ch in (0x0501, 0x0601, 0x0701))
    expect(ns["tx"] == tx_rings and ns["tx_pending"] == 0,
           f"NetSwitch tx {ns['tx']} (pending {ns['tx_pending']}) != TX rings {tx_rings}")

    full = {f"0x{r['ethertype']:04x}": r["full"] for r in routes}
    print(f"check: seed {gen['seed']}: {gen['sent']} frames in {gen['seconds']:.1f} s "
          f"({gen['fps']:.0f}/s); NetSwitch rx {d('ns.rx')} in the flood, "
          f"runt {d('ns.runt')}, unknown {d('ns.unknown')}; "
          f"dropped full per route {full}; Linux's own {n_linux}")
    print(f"check: lwf {lwf['lwf']}")
    print(f"check: utcp {utcp['utcp']}")
    print(f"check: membrane rx {m['rx_frames']} unhandled {m['rx_unhandled']} "
          f"malformed {m.get('rx_malformed', 0)} nopbuf {m['rx_nopbuf']} "
          f"tx {m['tx_frames']} tx_full {m['tx_full']}")
    for e in errors:
        print("check:", e)
    print(f"check: {'OK' if not errors else f'{len(errors)} errors'}")
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "watch":
        watch(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "check":
        sys.exit(check(*sys.argv[2:]))
    else:
        sys.exit(__doc__)
