#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The membrane test's totals add up: every frame and request accounted.

  check_totals.py TOTALS_JSON UDPLITE_SENT SHORT_ARP_SENT
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
from totals import frame_identities  # noqa: E402

tot = json.load(open(sys.argv[1]))
errors = []


def expect(cond, what):
    if not cond:
        errors.append(what)


ns = tot["netswitch"]
routes = tot["routes"]
rings = {r["channel"]: r for r in tot["rings"]}
fibers = {f["name"]: f for f in tot["fibers"]}
frame_identities(tot, expect)
for ch, r in rings.items():
    expect(r["enqueued"] == r["dequeued"] and r["used"] == 0, f"ring 0x{ch:04x} not drained: {r}")

mf = fibers["membrane"]
m = mf["membrane"]
expect(mf["state"] in ("DONE", "RUNNING"), f"membrane {mf['state']}")
expect(m["rx_frames"] == rings[0x0500]["enqueued"] == mf["frames"],
       f"membrane read {m['rx_frames']}, ring got {rings[0x0500]['enqueued']}")
expect(m["tx_frames"] == rings[0x0501]["enqueued"],
       f"membrane sent {m['tx_frames']}, ring got {rings[0x0501]['enqueued']}")
expect(m["http_requests"] == m["http_2xx"] + m["http_3xx"] + m["http_4xx"] + m["http_5xx"]
       + m["http_gone"],
       f"http requests {m['http_requests']} != statuses + gone {m}")
# the 100 connections beyond the slots and the backlog (clients.sh)
expect(m["http_conns_refused"] == 100 and m["rx_nopbuf"] == 0, f"membrane refused work: {m}")
expect(m["http_parked"] == 0, f"connections still waiting at exit: {m}")
# what clients.sh sent that lwIP must not see: UDP-Lite datagrams and a
# Router Advertisement (unhandled), short ARP frames (malformed)
unhandled, short_arp = int(sys.argv[2]), int(sys.argv[3])
# Each is counted where it stopped: by the membrane, or, when the net-rx
# ring was full as it arrived (a loaded machine), by the NetSwitch as its
# route's "full" (which also counts Linux's own frames of that EtherType).
full = {r["ethertype"]: r["full"] for r in routes}
ip_full = full.get(0x0800, 0) + full.get(0x86DD, 0)
expect(m["rx_unhandled"] <= unhandled <= m["rx_unhandled"] + ip_full,
       f"rx_unhandled {m['rx_unhandled']} (IPv4 and IPv6 full {ip_full}), "
       f"sent {unhandled} UDP-Lite and RA")
expect(m["rx_malformed"] <= short_arp <= m["rx_malformed"] + full.get(0x0806, 0),
       f"rx_malformed {m['rx_malformed']} (ARP full {full.get(0x0806, 0)}), "
       f"sent {short_arp} short ARP")
expect(m["vfs_requests"] == rings[0x2000]["enqueued"],
       f"membrane sent {m['vfs_requests']} VFS requests, ring got {rings[0x2000]['enqueued']}")

v = fibers["vfs"]["vfs"]
expect(v["requests"] == rings[0x2000]["dequeued"], f"vfs took {v['requests']} of {rings[0x2000]}")
verdicts = (v["opens"] + v["reads"] + v["closes"] + v["refused"] + v["not_found"] + v["denied"]
            + v["emfile"] + v["bad_handle"] + v["bad_requests"] + v["errors"])
expect(v["requests"] == verdicts, f"vfs requests {v['requests']} != sum of outcomes {verdicts}: {v}")
expect(v["refused"] > 0, "no escape attempt reached the VFS")
expect(v["open_files"] == 0, f"files left open: {v['open_files']}")
expect(v["opens"] == v["closes"], f"opens {v['opens']} != closes {v['closes']}")

# The lcores slept on their doorbells and were woken by them: an lcore that
# found work right after a sleep only its timeout ended missed a wake-up
# (at most one, for a frame that came just as the timeout did).
for lc in tot["lcores"]:
    expect(lc["late"] <= 1, f"lcore {lc['lcore']} ({lc['steps']}): {lc['late']} late wake-ups")
data = [lc for lc in tot["lcores"] if "netswitch-rx" in lc["steps"]]
expect(data and data[0]["wakeups"] > 0,
       f"the NetSwitch's lcore never slept on its doorbells: {data}")

for e in errors:
    print("check:", e)
sys.exit(1 if errors else 0)
