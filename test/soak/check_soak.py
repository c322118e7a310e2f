#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The soak's verdict (scripts/soak.sh), from what its loads recorded in
WORK and the daemon's totals at exit.

  check_soak.py WORK SECONDS BASELINE_SECONDS

It passes when:
  - the daemon's RSS after the baseline (warm-up) window grows by at most
    1 MiB (the growth per hour, from a least-squares fit, is reported);
  - no counter outside the expected drops moved (ZERO below; EXPECTED are
    what the flood's random frames and the load are meant to cause);
  - every frame is counted: the identities of check_flood.py (over the
    whole run) and check_totals.py, from the totals, and the link: what the
    peer put on the daemon's virtio ring is what the daemon's port got, and
    back;
  - every download is byte-exact, every echo exact, every console command
    answered, wrk saw no error status;
  - p99 of ping through the membrane in each window stays within 2x its
    value in the first (baseline) window, or under P99_FLOOR_MS; at most
    1 % of pings lost.
"""
import glob
import json
import re
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from totals import frame_identities  # noqa: E402

# Below this a window's p99 passes whatever the baseline: scheduler noise
# on a shared two-CPU VM reaches several ms (2.9 ms then 6.6 ms in one CI
# run); a resent segment (200 ms) or a queue behind a download (36 ms) is
# well above it.
P99_FLOOR_MS = 20.0

work, seconds, base = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
errors = []
figures = []


def expect(cond, what):
    if not cond:
        errors.append(what)
    return cond


def fig(what):
    figures.append(what)


tot = json.load(open(f"{work}/totals.json"))
port, ns, routes = tot["port"], tot["netswitch"], tot["routes"]
rings = {r["channel"]: r for r in tot["rings"]}
fibers = {f["name"]: f for f in tot["fibers"]}

# --- counters that must not move, and the drops that are expected ----------
ZERO = {
    "port": ["rx_missed", "rx_errors", "tx_errors", "rx_nombuf"],
    "netswitch": ["tx_nombuf", "tx_pending"],
    "membrane": ["rx_nopbuf", "tx_oversize", "http_conns_refused",
                 "http_4xx", "http_5xx"],
    "vfs": ["refused", "not_found", "denied", "emfile", "bad_handle",
            "bad_requests", "errors", "open_files"],
    "lwf": ["not_lwf"],
    "utcp": ["not_utcp"],
}
# Expected: the flood's runts, unrouted EtherTypes, oversize frames, full
# rings (route "full"), refused LWF/UTCP frames, frames lwIP does not take
# (unhandled, malformed); the app rings nobody reads in the soak (app_full,
# utcp unbound); a wrk connection closed mid-request at the end of a burst
# (http_gone); TCP segments lwIP sends again when its tx ring is full
# (tx_full); the port taking fewer frames than offered (tx_retry); the VFS
# waiting for response slots (deferred, vfs_ring_full); UDP echoes to the
# flood's random senders that lwIP refuses to send (a broadcast or
# unroutable source, an address it cannot resolve: udp_echo_fail; the
# soak's own echo client must get every answer, below); what lwIP's
# timers try to send once the membrane has drained at exit (a
# retransmission, a FIN at the keep-alive timeout: tx_stopped; the
# membrane stops only at shutdown or when killed, so never during the run).
EXPECTED = {
    "netswitch": ["runt", "unknown", "tx_retry"],
    "membrane": ["rx_unhandled", "rx_malformed", "tx_full", "http_gone", "vfs_ring_full",
                 "udp_echo_fail", "tx_stopped"],
    "vfs": ["deferred"],
    "lwf": ["too_short", "bad_magic", "bad_version", "bad_length", "too_big",
            "bad_checksum", "replay", "app_full"],
    "utcp": ["too_short", "bad_version", "bad_length", "bad_checksum", "unbound", "app_full"],
}
sets = {"port": port, "netswitch": ns,
        "membrane": fibers["membrane"]["membrane"], "vfs": fibers["vfs"]["vfs"],
        "lwf": fibers["lwf"]["lwf"], "utcp": fibers["utcp"]["utcp"]}
for name, keys in ZERO.items():
    for k in keys:
        if expect(k in sets[name], f"{name}.{k}: no such counter (renamed?)"):
            expect(sets[name][k] == 0, f"{name}.{k} = {sets[name][k]}, must stay 0")
moved = []
for name, keys in EXPECTED.items():
    for k in keys:
        if expect(k in sets[name], f"{name}.{k}: no such counter (renamed?)") and sets[name][k]:
            moved.append(f"{name}.{k} {sets[name][k]}")
full = {f"0x{r['ethertype']:04x}": r["full"] for r in routes if r["full"]}
over = {f"0x{r['ethertype']:04x}": r["oversize"] for r in routes if r["oversize"]}
fig(f"expected drops: route full {full}, oversize {over}; {', '.join(moved)}")
for f in fibers.values():
    expect(f["state"] in ("RUNNING", "DONE"), f"fiber {f['name']} is {f['state']}")

# --- every frame counted (check_flood.py, check_totals.py) ------------------
frame_identities(tot, expect)
expect(port["tx_packets"] == ns["tx"], f"port tx {port['tx_packets']} != NetSwitch tx {ns['tx']}")
# rings a fiber or the NetSwitch reads drain at exit; the application rings
# (lwf's app, utcp's bound port 7: no reader in the soak) keep what they hold
APP_RINGS = (0x0602, 0x0710)
for ch, ring in rings.items():
    into = [r for r in routes if r["channel"] == ch]
    if into:
        dl = sum(r["delivered"] for r in into)
        expect(ring["enqueued"] == dl, f"ring 0x{ch:04x}: enqueued {ring['enqueued']} != delivered {dl}")
    expect(ring["enqueued"] - ring["dequeued"] == ring["used"], f"ring 0x{ch:04x}: {ring}")
    if ch not in APP_RINGS:
        expect(ring["used"] == 0, f"ring 0x{ch:04x} not drained at exit: {ring}")

lwf, v = fibers["lwf"], fibers["lwf"]["lwf"]
verdicts = sum(v[k] for k in ("ok", "too_short", "bad_magic", "bad_version", "bad_length",
                              "too_big", "bad_checksum", "replay", "not_lwf"))
expect(lwf["frames"] == verdicts == rings[0x0600]["dequeued"],
       f"lwf read {lwf['frames']}, verdicts {verdicts}, ring gave {rings[0x0600]['dequeued']}")
expect(lwf["sent"] == v["ok"] == rings[0x0601]["enqueued"],
       f"lwf reflected {lwf['sent']}, accepted {v['ok']}, tx ring got {rings[0x0601]['enqueued']}")
expect(v["app"] + v["app_full"] == v["ok"] and v["app"] == rings[0x0602]["enqueued"],
       f"lwf app {v['app']} + app_full {v['app_full']} != ok {v['ok']} (app ring {rings[0x0602]['enqueued']})")

utcp, u = fibers["utcp"], fibers["utcp"]["utcp"]
verdicts = sum(u[k] for k in ("ok", "too_short", "bad_version", "bad_length", "bad_checksum",
                              "not_utcp"))
expect(utcp["frames"] == verdicts == rings[0x0700]["dequeued"],
       f"utcp read {utcp['frames']}, verdicts {verdicts}, ring gave {rings[0x0700]['dequeued']}")
expect(u["ok"] == u["delivered"] + u["unbound"] + u["app_full"], f"utcp ok != delivered + unbound + app_full: {u}")
expect(utcp["sent"] == u["ok"] == rings[0x0701]["enqueued"],
       f"utcp reflected {utcp['sent']}, accepted {u['ok']}, tx ring got {rings[0x0701]['enqueued']}")
expect(u["delivered"] == rings[0x0710]["enqueued"],
       f"utcp delivered {u['delivered']}, bound ring got {rings[0x0710]['enqueued']}")

mf, m = fibers["membrane"], fibers["membrane"]["membrane"]
expect(m["rx_frames"] == mf["frames"] == rings[0x0500]["dequeued"],
       f"membrane read {m['rx_frames']} (fiber {mf['frames']}), ring gave {rings[0x0500]['dequeued']}")
expect(m["rx_unhandled"] + m["rx_malformed"] + m["rx_nopbuf"] <= m["rx_frames"], f"membrane refused more than it read: {m}")
expect(m["tx_frames"] == rings[0x0501]["enqueued"],
       f"membrane sent {m['tx_frames']}, ring got {rings[0x0501]['enqueued']}")
statuses = sum(m[k] for k in m if re.fullmatch(r"http_\dxx", k))
expect(m["http_requests"] == statuses + m["http_gone"],
       f"http requests {m['http_requests']} != statuses {statuses} + gone {m['http_gone']}")
expect(m["vfs_requests"] == rings[0x2000]["enqueued"],
       f"membrane sent {m['vfs_requests']} VFS requests, ring got {rings[0x2000]['enqueued']}")
vf = fibers["vfs"]["vfs"]
outcomes = sum(vf[k] for k in ("opens", "reads", "closes", "refused", "not_found", "denied",
                               "emfile", "bad_handle", "bad_requests", "errors"))
expect(vf["requests"] == rings[0x2000]["dequeued"] == outcomes,
       f"vfs requests {vf['requests']}, ring gave {rings[0x2000]['dequeued']}, outcomes {outcomes}")
expect(vf["opens"] == vf["closes"], f"vfs opens {vf['opens']} != closes {vf['closes']}")
tx_rings = sum(rings[ch]["dequeued"] for ch in (0x0501, 0x0601, 0x0701))
expect(ns["tx"] == tx_rings, f"NetSwitch tx {ns['tx']} != TX rings gave {tx_rings}")

# the link, once the loads stopped: the peer's side of the virtio ring
link = json.load(open(f"{work}/link.json"))
# the daemon's port read before and after the peer's (equal when the port
# was quiet): what the peer sent the daemon got by the second reading at
# the latest, and what the daemon had sent by the first the peer got
rx2 = link.get("daemon_rx_after", link["daemon_rx"])
tx2 = link.get("daemon_tx_after", link["daemon_tx"])
expect(link["daemon_rx"] <= link["peer_vhost_out"] <= rx2,
       f"the peer put {link['peer_vhost_out']} frames on the virtio ring, the daemon's port got "
       f"{link['daemon_rx']}..{rx2}")
expect(link["daemon_tx"] <= link["peer_vhost_in"] <= tx2,
       f"the daemon's port sent {link['daemon_tx']}..{tx2}, the peer got {link['peer_vhost_in']}")
fig(f"frames: daemon rx {port['rx_packets']}, tx {port['tx_packets']} (at exit); before the daemon, "
    f"testpmd dropped {link['peer_tap_in'] - link['peer_vhost_out']} of the "
    f"{link['peer_tap_in']} the TAP gave it (its virtio ring full)")

# --- the loads' own results ---------------------------------------------------
gens = [json.load(open(p)) for p in sorted(glob.glob(f"{work}/gen/*.json"))]
sent = sum(g["sent"] for g in gens)
expect(gens and all(g["sent"] == g["frames"] for g in gens), "a flood_gen run did not send all its frames")
fig(f"flood: {len(gens)} runs, {sent} frames ({sent / seconds:.0f}/s)")

dl = open(f"{work}/downloads.log").read().split()
expect(dl and all(x == "ok" for x in dl), f"downloads: {dl.count('ok')} of {len(dl)} byte-exact")
fig(f"downloads: {dl.count('ok')} of {len(dl)} byte-exact (sha256)")

e = json.load(open(f"{work}/echo.json"))
expect(e["udp_ok"] == e["udp_sent"] and e["udp_wrong"] == 0,
       f"UDP echo: {e['udp_ok']} of {e['udp_sent']} answered, {e['udp_wrong']} wrong")
expect(e["tcp_ok"] == e["tcp_rounds"] > 0, f"TCP echo: {e['tcp_ok']} of {e['tcp_rounds']}: {e['tcp_errors'][:3]}")
fig(f"echo: UDP {e['udp_ok']}/{e['udp_sent']} ({e['udp_retries']} sent again), "
    f"TCP {e['tcp_ok']}/{e['tcp_rounds']} x 64 KiB byte-exact")

con = [line.split()[1] for line in open(f"{work}/console.log") if line.strip()]
expect(con and all(x == "ok" for x in con), f"console: {con.count('ok')} of {len(con)} commands answered")
fig(f"console: {con.count('ok')} of {len(con)} commands answered")

wrk = open(f"{work}/wrk.log").read()
reqs = sum(int(x) for x in re.findall(r"(\d+) requests in", wrk))
non2xx = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", wrk))
sockerr = re.findall(r"Socket errors: (.*)", wrk)
expect(reqs > 0 and non2xx == 0, f"wrk: {reqs} requests, {non2xx} non-2xx")
fig(f"wrk: {reqs} requests ({reqs / seconds:.0f}/s over the run), non-2xx {non2xx}, socket errors {sockerr or 'none'}")

# --- RSS ------------------------------------------------------------------------
rss = [tuple(float(x) for x in line.split()) for line in open(f"{work}/rss.log") if line.strip()]
after = [s for s in rss if s[0] >= base]
if expect(len(after) >= 3, f"only {len(after)} RSS samples after the warm-up"):
    t0, r0 = after[0][0], after[0][1]
    growth = max(s[1] for s in after) - r0
    n = len(after)
    mt = sum(s[0] for s in after) / n
    mr = sum(s[1] for s in after) / n
    den = sum((s[0] - mt) ** 2 for s in after)
    slope = sum((s[0] - mt) * (s[1] - mr) for s in after) / den if den else 0.0
    expect(growth <= 1024, f"RSS grew {growth:.0f} KiB after the warm-up ({r0:.0f} KiB at {t0:.0f} s)")
    fig(f"RSS: {r0:.0f} KiB after the warm-up, max {r0 + growth:.0f} KiB, end {after[-1][1]:.0f} KiB; "
        f"fit {slope * 3600:+.0f} KiB/h; hugetlb {after[0][2]:.0f} -> {after[-1][2]:.0f} KiB")

# --- ping --------------------------------------------------------------------------
text = open(f"{work}/ping.log").read()
pings = [(float(a), int(q), float(b)) for a, q, b in
         re.findall(r"^\[(\d+\.\d+)\].*icmp_seq=(\d+) .*time=([\d.]+) ms", text, re.M)]
samples = [(ts, ms) for ts, _, ms in pings]
if expect(pings, "no ping figures"):
    # lost: a request before the last one answered that got no answer (the
    # ones still in flight when ping's deadline came are not)
    seqs = {q for _, q, _ in pings}
    tx, rx = max(seqs), len(seqs)
    expect(tx - rx <= tx / 100, f"ping: {tx - rx} of {tx} lost")
    start = samples[0][0]

    def p99(v):
        v = sorted(v)
        return v[min(len(v) - 1, int(round(0.99 * (len(v) - 1))))]

    windows = {}
    for ts, ms in samples:
        windows.setdefault(int((ts - start) // base), []).append(ms)
    b = p99(windows[0])
    # The p99 of a quiet baseline is a few of its slowest round trips; on a
    # shared two-CPU VM a scheduler time slice moves it by milliseconds
    # (1.5 ms baseline, 4.1 ms later; 2.9 then 6.6 ms; at no change of the
    # daemon), so a window counts as slower only above 2x the baseline and
    # the floor.
    limit = max(2 * b, P99_FLOOR_MS)
    worst = []
    for w in sorted(windows)[1:]:
        if len(windows[w]) < 10:
            continue  # the last, cut short
        p = p99(windows[w])
        worst.append(p)
        expect(p <= limit, f"ping p99 {p:.3f} ms in window {w} (from {w * base:.0f} s) > "
               f"{limit:.3f} ms (2 x {b:.3f} ms, at least {P99_FLOOR_MS} ms)")
    allv = [ms for _, ms in samples]
    fig(f"ping: {rx}/{tx} answered; p99 {b:.3f} ms in the first {base:.0f} s, "
        f"worst later window {max(worst) if worst else float('nan'):.3f} ms; "
        f"median {sorted(allv)[len(allv) // 2]:.3f} ms, p99 overall {p99(allv):.3f} ms")

for f in figures:
    print("soak:", f)
for e in errors:
    print("soak: not ok:", e)
print(f"soak: {'OK' if not errors else f'{len(errors)} checks failed'}")
sys.exit(1 if errors else 0)
