#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check ionswitchd's totals against the traffic sent (integration.sh)."""
import json
import os
import sys

# Verdict counters of the lwf and utcp kinds (nested under the kind's name
# in each fiber's JSON, with the delivery counters beside them).
LWF_VERDICTS = ("ok", "too_short", "bad_magic", "bad_version", "bad_length",
                "too_big", "bad_checksum", "replay", "not_lwf")
UTCP_VERDICTS = ("ok", "too_short", "bad_version", "bad_length",
                 "bad_checksum", "not_utcp")
ET = {"ipv4": 0x0800, "arp": 0x0806, "ipv6": 0x86DD, "utcp": 0x88B5,
      "lwf": 0x4C57, "vlan_ipv4": 0x0800, "qinq_lwf": 0x4C57}
RING_OF = {0x0800: 0x0500, 0x0806: 0x0500, 0x86DD: 0x0500,
           0x88B5: 0x0700, 0x4C57: 0x0600}
errors = []


def expect(cond, what):
    if not cond:
        errors.append(what)


def main(mode, totals_path, traffic_path, base):
    tot = json.load(open(totals_path))
    traffic = json.load(open(traffic_path))
    sent = traffic.get("sent", traffic)
    back = traffic.get("back", {})
    ns = tot["netswitch"]
    routes = {r["ethertype"]: r for r in tot["routes"]}
    rings = {r["channel"]: r for r in tot["rings"]}
    fibers = {f["name"]: f for f in tot["fibers"]}

    # received = delivered + dropped, per EtherType and in all
    route_rx = sum(r["rx"] for r in routes.values())
    expect(ns["rx"] == ns["runt"] + ns["unknown"] + route_rx,
           f"rx {ns['rx']} != runt {ns['runt']} + unknown {ns['unknown']} + routed {route_rx}")
    for et, r in routes.items():
        expect(r["rx"] == r["delivered"] + r["full"] + r["oversize"],
               f"0x{et:04x}: rx {r['rx']} != delivered + full + oversize {r}")
    # what went into each ring is what the NetSwitch delivered to it
    for ch, ring in rings.items():
        dl = sum(r["delivered"] for r in routes.values() if r["channel"] == ch)
        if any(r["channel"] == ch for r in routes.values()):
            expect(ring["enqueued"] == dl,
                   f"ring 0x{ch:04x}: enqueued {ring['enqueued']} != delivered {dl}")

    if mode in ("mix", "kill"):
        per_et = {}
        for k, n in sent.items():
            per_et[ET.get(k, -1)] = per_et.get(ET.get(k, -1), 0) + n
        for et, n in per_et.items():
            if et == -1:
                continue
            # Linux may have sent a few frames of its own before we counted
            extra = routes[et]["rx"] - n
            expect(0 <= extra <= base,
                   f"0x{et:04x}: received {routes[et]['rx']}, sent {n} (base {base})")
        expect(ns["unknown"] >= sent.get("unknown", 0),
               f"unknown {ns['unknown']} < sent {sent.get('unknown', 0)}")

    if mode == "mix":
        for et in (0x88B5, 0x4C57):
            expect(routes[et]["full"] == 0, f"0x{et:04x} drops at 5 kpps: {routes[et]}")
        # fibers saw exactly the frames delivered, and nothing stays queued
        for name, ch in (("membrane", 0x0500), ("utcp", 0x0700), ("lwf", 0x0600)):
            expect(fibers[name]["frames"] == rings[ch]["enqueued"],
                   f"fiber {name} saw {fibers[name]['frames']}, ring got {rings[ch]['enqueued']}")
            expect(fibers[name]["state"] in ("DONE", "RUNNING"), f"fiber {name}: {fibers[name]}")
        for ch, ring in rings.items():
            expect(ring["enqueued"] == ring["dequeued"] and ring["used"] == 0,
                   f"ring 0x{ch:04x} not drained: {ring}")
        # reflected frames came back out of the port (and the sniffer on
        # the test host kept up, or its counts would prove nothing)
        expect(back.get("sniff_drops", 0) == 0,
               f"the test host's sniffer dropped {back.get('sniff_drops')} frames")
        expect(back.get("0x88b5", 0) == sent["utcp"],
               f"UTCP reflected {back.get('0x88b5', 0)} of {sent['utcp']}")
        expect(back.get("0x4c57", 0) == sent["lwf"] + sent["qinq_lwf"],
               f"LWF reflected {back.get('0x4c57', 0)} of {sent['lwf'] + sent['qinq_lwf']}")
        expect(ns["tx"] == fibers["utcp"]["sent"] + fibers["lwf"]["sent"],
               f"tx {ns['tx']} != reflected {fibers['utcp']['sent'] + fibers['lwf']['sent']}")

    if mode == "kill":
        lwf = fibers["lwf"]
        expect(lwf["state"] == "KILLED", f"lwf fiber not killed: {lwf}")
        expect(lwf.get("fault_channel") == 0x0602 and lwf.get("fault_needs") == "w",
               f"lwf fault {lwf.get('fault_channel')} {lwf.get('fault_needs')}, not WRITE on 0x0602")
        expect(lwf["sent"] == 0, f"killed fiber sent {lwf['sent']}")
        for name, ch in (("membrane", 0x0500), ("utcp", 0x0700)):
            expect(fibers[name]["state"] != "KILLED", f"{name} killed too")
            expect(fibers[name]["frames"] == rings[ch]["enqueued"],
                   f"fiber {name} saw {fibers[name]['frames']} of {rings[ch]['enqueued']}")
        expect(back.get("0x88b5", 0) == sent["utcp"],
               f"UTCP reflected {back.get('0x88b5', 0)} of {sent['utcp']} while LWF was dead")

    if mode == "lwf":
        lwf = fibers["lwf"]
        kc = lwf["lwf"]
        want = {"ok": sent["lwf_ok"], "replay": sent["lwf_replay"],
                "bad_checksum": sent["lwf_badcrc"], "bad_magic": sent["lwf_badmagic"],
                "bad_version": sent["lwf_badversion"], "too_short": sent["lwf_short"],
                "bad_length": sent["lwf_badlen"], "too_big": sent["lwf_toobig"],
                "not_lwf": 0}
        for reason, n in want.items():
            expect(kc[reason] == n, f"lwf {reason}: counted {kc[reason]}, sent {n}")
        verdicts = sum(kc[v] for v in LWF_VERDICTS)
        expect(lwf["frames"] == verdicts,
               f"lwf frames {lwf['frames']} != sum of verdicts {verdicts}")
        expect(lwf["frames"] == rings[0x0600]["enqueued"],
               f"lwf read {lwf['frames']} of {rings[0x0600]['enqueued']}")
        expect(kc["app"] == sent["lwf_ok"] and kc["app_full"] == 0,
               f"app ring got {kc['app']} (full {kc['app_full']}), accepted {sent['lwf_ok']}")
        expect(lwf["sent"] == sent["lwf_ok"], f"reflected {lwf['sent']} of {sent['lwf_ok']}")
        expect(back.get("0x4c57", 0) == sent["lwf_ok"],
               f"{back.get('0x4c57', 0)} LWF frames came back, {sent['lwf_ok']} accepted")
        sink = json.load(open(os.environ["SINK_JSON"]))
        expect(sink["frames"] == sent["lwf_ok"] and sink["valid"] == sink["frames"],
               f"ion-lwf-sink got {sink}, accepted {sent['lwf_ok']}")
        expect(rings[0x0602]["dequeued"] == sent["lwf_ok"],
               f"app ring dequeued {rings[0x0602]['dequeued']}")

    if mode == "utcp":
        u = fibers["utcp"]
        kc = u["utcp"]
        accepted = sent["utcp_ok"] + sent["utcp_unbound"]
        want = {"ok": accepted, "bad_checksum": sent["utcp_badsum"],
                "bad_version": sent["utcp_badversion"], "too_short": sent["utcp_short"],
                "bad_length": sent["utcp_badlen"], "not_utcp": 0}
        for reason, n in want.items():
            expect(kc[reason] == n, f"utcp {reason}: counted {kc[reason]}, sent {n}")
        verdicts = sum(kc[v] for v in UTCP_VERDICTS)
        expect(u["frames"] == verdicts,
               f"utcp frames {u['frames']} != sum of verdicts {verdicts}")
        expect(u["frames"] == rings[0x0700]["enqueued"],
               f"utcp read {u['frames']} of {rings[0x0700]['enqueued']}")
        expect(kc["delivered"] == sent["utcp_ok"] and kc["unbound"] == sent["utcp_unbound"]
               and kc["app_full"] == 0, f"utcp delivery {kc}")
        expect(rings[0x0710]["enqueued"] == sent["utcp_ok"],
               f"port 7's ring got {rings[0x0710]['enqueued']} of {sent['utcp_ok']}")
        expect(u["sent"] == accepted and back.get("0x88b5", 0) == accepted,
               f"reflected {u['sent']}, came back {back.get('0x88b5', 0)}, accepted {accepted}")

    if mode == "sigterm":
        expect(ns["rx"] > 0, "no traffic reached the daemon before SIGTERM")
        for ch in (0x0500, 0x0700, 0x0600, 0x0701, 0x0601):
            r = rings[ch]
            expect(r["enqueued"] == r["dequeued"] and r["used"] == 0,
                   f"ring 0x{ch:04x} lost frames at exit: {r}")
        for name in ("utcp", "lwf"):
            expect(fibers[name]["sent"] == rings[{"utcp": 0x0701, "lwf": 0x0601}[name]]["enqueued"],
                   f"fiber {name} sent {fibers[name]['sent']}")
        expect(ns["tx"] == rings[0x0701]["dequeued"] + rings[0x0601]["dequeued"]
               + rings[0x0501]["dequeued"] and ns["tx_pending"] == 0,
               f"TX lost frames at exit: {ns}")

    for e in errors:
        print("check:", e)
    print(f"check {mode}: {'OK' if not errors else f'{len(errors)} errors'}; "
          f"rx {ns['rx']} tx {ns['tx']} unknown {ns['unknown']}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
