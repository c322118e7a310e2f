# SPDX-License-Identifier: BSD-3-Clause
"""The frame identities every totals JSON of ionswitchd satisfies
(--totals-json, GET /stats), stated once for the checkers that read one:
test/ionswitchd/flood/check_flood.py, test/membrane/clients/check_totals.py
and test/soak/check_soak.py.  Each passes its own expect(cond, what)."""


def frame_identities(tot, expect):
    """Every frame the port received is a runt, unknown, or routed; every
    routed frame is delivered into its ring, or found it full, or was
    oversize for its slots."""
    port, ns, routes = tot["port"], tot["netswitch"], tot["routes"]
    expect(port["rx_packets"] == ns["rx"],
           f"port rx {port['rx_packets']} != NetSwitch rx {ns['rx']}")
    route_rx = sum(r["rx"] for r in routes)
    expect(ns["rx"] == ns["runt"] + ns["unknown"] + route_rx,
           f"rx {ns['rx']} != runt {ns['runt']} + unknown {ns['unknown']} + routed {route_rx}")
    for r in routes:
        expect(r["rx"] == r["delivered"] + r["full"] + r["oversize"],
               f"0x{r['ethertype']:04x}: rx != delivered + full + oversize: {r}")
